//! Incremental, zero-copy request parser with Valkey's exact protocol rules
//! (`processMultibulkBuffer` and `processInlineBuffer` in networking.c).
//!
//! Usage: each client owns a [`RequestParser`] and an [`ArgList`]. The caller
//! passes the unconsumed part of its query buffer, starting at the first byte
//! of the current command. While a command is incomplete the caller may only
//! *append* to that buffer (moving the command start, e.g. compacting the
//! buffer, is fine as long as the bytes from the command start onwards are
//! unchanged), and calls `parse` again after each read: the parser resumes
//! where it stopped, so a command arriving one byte per read costs O(n) in
//! total, not O(n²).
//!
//! Multibulk arguments are stored as offsets into the caller's buffer (no
//! copy); inline commands are unescaped into a scratch buffer inside the
//! [`ArgList`]. Both buffers are reused, so a warmed-up client parses
//! without allocating.
//!
//! Quirks kept on purpose because clients can observe them:
//! - line searches stop at a NUL byte (Valkey uses `strchr`), so a header or
//!   inline line containing NUL never completes and eventually fails the
//!   64 KB limit;
//! - the byte after a header's `\r` and the two bytes after a bulk's payload
//!   are skipped without checking that they are `\n`/`\r\n`;
//! - a multibulk count <= 0 (`*0`, `*-1`) is an empty command that is
//!   skipped.

use crate::util::num::parse_i64;
use crate::util::split::split_args_into;

/// Valkey's `PROTO_INLINE_MAX_SIZE`.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Valkey's default `proto-max-bulk-len`.
pub const DEFAULT_MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Largest multibulk count Valkey accepts (`INT_MAX`).
pub const DEFAULT_MAX_MULTIBULK_LEN: usize = i32::MAX as usize;
/// Largest multibulk count accepted before authentication.
pub const UNAUTH_MAX_MULTIBULK_LEN: i64 = 10;
/// Largest bulk length accepted before authentication.
pub const UNAUTH_MAX_BULK_LEN: i64 = 16384;

/// Limits applied while parsing, mirroring Valkey's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// `proto-max-bulk-len` (default 512 MB). Use `usize::MAX` for a primary
    /// replication link, which Valkey exempts from this check.
    pub max_bulk_len: usize,
    /// Longest inline command, multibulk count line or bulk length line
    /// while waiting for its terminator (Valkey: 64 KB, not configurable).
    pub max_inline_len: usize,
    /// Largest multibulk count (Valkey: `INT_MAX`).
    pub max_multibulk_len: usize,
    /// False while the client still has to AUTH: then counts above 10 and
    /// bulks above 16384 bytes are refused.
    pub authenticated: bool,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk_len: DEFAULT_MAX_BULK_LEN,
            max_inline_len: PROTO_INLINE_MAX_SIZE,
            max_multibulk_len: DEFAULT_MAX_MULTIBULK_LEN,
            authenticated: true,
        }
    }
}

/// Outcome of [`RequestParser::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A whole command was parsed; its arguments are in the [`ArgList`] and
    /// the first `consumed` bytes of the buffer belong to it. Zero arguments
    /// means an empty command (`*0\r\n`, a blank inline line): skip it.
    Complete { consumed: usize },
    /// More bytes are needed. `needed` is the total buffer length that will
    /// complete the bulk currently being read, when known, so the caller can
    /// reserve a big argument's space once.
    Incomplete { needed: Option<usize> },
}

/// A protocol violation. The client gets [`ProtocolError::message`] as an
/// `-ERR` reply and the connection is closed after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// Inline command longer than the limit without a newline.
    TooBigInlineRequest,
    /// Multibulk count line longer than the limit without a `\r`.
    TooBigMbulkCount,
    /// Multibulk count not an integer or above the limit.
    InvalidMultibulkLength,
    /// Multibulk count above 10 before authentication.
    UnauthenticatedMultibulkLength,
    /// Bulk length above 16384 before authentication.
    UnauthenticatedBulkLength,
    /// Bulk length line longer than the limit without a `\r`.
    TooBigBulkCount,
    /// A bulk header did not start with `$`; holds the byte found instead.
    ExpectedDollar(u8),
    /// Bulk length not an integer, negative, or above `proto-max-bulk-len`.
    InvalidBulkLength,
    /// Inline command with unbalanced quotes.
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The exact error text Valkey replies with (without the `ERR ` code),
    /// e.g. `Protocol error: invalid bulk length`. For
    /// [`ProtocolError::ExpectedDollar`] with a non-ASCII byte this `String`
    /// cannot be byte-exact; use [`ProtocolError::message_bytes`] for the wire.
    pub fn message(&self) -> String {
        String::from_utf8_lossy(&self.message_bytes()).into_owned()
    }

    /// The exact error text as bytes (the offending byte is copied raw, as
    /// C's `%c` does).
    pub fn message_bytes(&self) -> Vec<u8> {
        let fixed: &[u8] = match self {
            ProtocolError::TooBigInlineRequest => b"Protocol error: too big inline request",
            ProtocolError::TooBigMbulkCount => b"Protocol error: too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => b"Protocol error: invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => {
                b"Protocol error: unauthenticated multibulk length"
            }
            ProtocolError::UnauthenticatedBulkLength => {
                b"Protocol error: unauthenticated bulk length"
            }
            ProtocolError::TooBigBulkCount => b"Protocol error: too big bulk count string",
            ProtocolError::InvalidBulkLength => b"Protocol error: invalid bulk length",
            ProtocolError::UnbalancedQuotes => b"Protocol error: unbalanced quotes in request",
            ProtocolError::ExpectedDollar(c) => {
                let mut m = b"Protocol error: expected '$', got '".to_vec();
                m.push(*c);
                m.push(b'\'');
                return m;
            }
        };
        fixed.to_vec()
    }

    /// The full reply line, `-ERR Protocol error: ...\r\n`, with any CR/LF in
    /// the message turned into spaces as Valkey's `addReplyErrorFormat` does.
    pub fn reply_bytes(&self) -> Vec<u8> {
        let mut out = b"-ERR ".to_vec();
        out.extend(self.message_bytes().into_iter().map(|b| {
            if b == b'\r' || b == b'\n' {
                b' '
            } else {
                b
            }
        }));
        out.extend_from_slice(b"\r\n");
        out
    }

    /// The short reason Valkey writes to its log (`setProtocolError`).
    pub fn log_reason(&self) -> &'static str {
        match self {
            ProtocolError::TooBigInlineRequest => "too big inline request",
            ProtocolError::TooBigMbulkCount => "too big mbulk count string",
            ProtocolError::InvalidMultibulkLength => "invalid mbulk count",
            ProtocolError::UnauthenticatedMultibulkLength => "unauth mbulk count",
            ProtocolError::UnauthenticatedBulkLength => "unauth bulk length",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::ExpectedDollar(_) => "expected $ but got something else",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in inline request",
        }
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ProtocolError {}

/// The arguments of the command being parsed, reusable across commands.
#[derive(Debug, Default, Clone)]
pub struct ArgList {
    /// `(start, end)` of each argument, in the query buffer (multibulk) or
    /// in `scratch` (inline).
    ranges: Vec<(usize, usize)>,
    /// Unescaped inline arguments.
    scratch: Vec<u8>,
    /// Whether the ranges point into `scratch`.
    inline: bool,
}

impl ArgList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of arguments parsed so far.
    #[inline]
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True if there are no arguments (an empty command).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Forgets all arguments, keeping the allocations.
    #[inline]
    pub fn clear(&mut self) {
        self.ranges.clear();
        self.scratch.clear();
        self.inline = false;
    }

    /// Gives back the memory of a command with many arguments once it has
    /// run: a client that sent one SADD of 100k members would otherwise
    /// hold 1.6 MB of ranges for as long as it stays connected (Valkey
    /// frees a client's argv after each command). Only between commands:
    /// the arguments are gone.
    pub fn trim(&mut self) {
        const KEEP_ARGS: usize = 1024;
        const KEEP_SCRATCH: usize = 64 * 1024;
        if self.ranges.capacity() > KEEP_ARGS || self.scratch.capacity() > KEEP_SCRATCH {
            *self = Self::default();
        }
    }

    /// A view of the arguments. `buf` must be the buffer given to the
    /// `parse` call that returned `Complete` (same start).
    #[inline]
    pub fn args<'a>(&'a self, buf: &'a [u8]) -> Args<'a> {
        Args {
            base: if self.inline { &self.scratch } else { buf },
            ranges: &self.ranges,
        }
    }
}

/// A borrowed view of a command's arguments, as seen by command handlers.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    base: &'a [u8],
    ranges: &'a [(usize, usize)],
}

impl<'a> Args<'a> {
    /// Number of arguments, the command name included.
    #[inline]
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True if there are no arguments.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Argument `i`. Panics if `i >= len()`: handlers check the arity
    /// first, so an out-of-range index is a bug, not bad input.
    #[inline]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.ranges[i];
        &self.base[s..e]
    }

    /// Argument `i`, or `None` past the end.
    #[inline]
    pub fn try_get(&self, i: usize) -> Option<&'a [u8]> {
        self.ranges.get(i).map(|&(s, e)| &self.base[s..e])
    }

    /// The arguments from `start` on (e.g. `args.skip(1)` drops the command
    /// name). Empty if `start >= len()`.
    #[inline]
    pub fn skip(&self, start: usize) -> Args<'a> {
        Args {
            base: self.base,
            ranges: self.ranges.get(start..).unwrap_or(&[]),
        }
    }

    /// Iterates over the arguments.
    #[inline]
    pub fn iter(&self) -> ArgsIter<'a> {
        ArgsIter {
            base: self.base,
            ranges: self.ranges.iter(),
        }
    }

    /// Copies the arguments into an [`OwnedArgs`] (one allocation for the
    /// bytes, one for the ranges), e.g. to queue a command inside MULTI.
    #[allow(clippy::should_implement_trait)]
    pub fn to_owned(&self) -> OwnedArgs {
        let total: usize = self.ranges.iter().map(|&(s, e)| e - s).sum();
        let mut owned = OwnedArgs {
            data: Vec::with_capacity(total),
            ranges: Vec::with_capacity(self.ranges.len()),
        };
        for arg in self.iter() {
            owned.push(arg);
        }
        owned
    }

    /// Total bytes of all arguments (Valkey's `argv_len_sum`).
    pub fn total_len(&self) -> usize {
        self.ranges.iter().map(|&(s, e)| e - s).sum()
    }
}

impl<'a> IntoIterator for Args<'a> {
    type Item = &'a [u8];
    type IntoIter = ArgsIter<'a>;
    fn into_iter(self) -> ArgsIter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &Args<'a> {
    type Item = &'a [u8];
    type IntoIter = ArgsIter<'a>;
    fn into_iter(self) -> ArgsIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Args`].
#[derive(Debug, Clone)]
pub struct ArgsIter<'a> {
    base: &'a [u8],
    ranges: std::slice::Iter<'a, (usize, usize)>,
}

impl<'a> Iterator for ArgsIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        self.ranges.next().map(|&(s, e)| &self.base[s..e])
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ranges.size_hint()
    }
}

impl DoubleEndedIterator for ArgsIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.ranges.next_back().map(|&(s, e)| &self.base[s..e])
    }
}

impl ExactSizeIterator for ArgsIter<'_> {}

/// Arguments that own their bytes (MULTI queues, AOF loading, scripts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedArgs {
    data: Vec<u8>,
    ranges: Vec<(usize, usize)>,
}

impl OwnedArgs {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds from slices, e.g. `OwnedArgs::from_slices(&[b"SET", b"k", b"v"])`.
    pub fn from_slices(parts: &[&[u8]]) -> Self {
        let mut owned = OwnedArgs {
            data: Vec::with_capacity(parts.iter().map(|p| p.len()).sum()),
            ranges: Vec::with_capacity(parts.len()),
        };
        for p in parts {
            owned.push(p);
        }
        owned
    }

    /// Appends one argument.
    pub fn push(&mut self, arg: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(arg);
        self.ranges.push((start, self.data.len()));
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True if there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Borrowed view.
    #[inline]
    pub fn as_args(&self) -> Args<'_> {
        Args {
            base: &self.data,
            ranges: &self.ranges,
        }
    }

    /// Heap bytes held (for memory accounting of queued commands).
    pub fn heap_size(&self) -> usize {
        self.data.capacity() + self.ranges.capacity() * std::mem::size_of::<(usize, usize)>()
    }
}

/// What [`peek_keys`] finds of one command: its key and the argument after
/// it, if any.
pub type Peeked<'a> = (&'a [u8], Option<&'a [u8]>);

/// The second argument (the key, for most commands) of each complete
/// multibulk command at the start of `buf`, with the third if there is one
/// (a member, for many commands on a collection), up to `out.len()` of
/// them; returns how many were found. A quick look ahead for prefetching,
/// not a parser: it stops at the first thing it does not expect (an inline
/// command, a malformed or incomplete one) and the real parser decides
/// what that is.
pub fn peek_keys<'a>(buf: &'a [u8], out: &mut [Peeked<'a>]) -> usize {
    /// `<digits>\r\n` at `pos` after the type byte `kind`: (number, next pos).
    fn header(buf: &[u8], pos: usize, kind: u8) -> Option<(usize, usize)> {
        if *buf.get(pos)? != kind {
            return None;
        }
        let mut n = 0usize;
        let mut i = pos + 1;
        // Request lengths are short: more than 18 digits is not one.
        while i < buf.len() && i - pos <= 19 {
            match buf[i] {
                d @ b'0'..=b'9' => n = n * 10 + usize::from(d - b'0'),
                b'\r' if i > pos + 1 => {
                    return (buf.get(i + 1) == Some(&b'\n')).then_some((n, i + 2));
                }
                _ => return None,
            }
            i += 1;
        }
        None
    }
    let mut found = 0;
    let mut pos = 0;
    while found < out.len() {
        let Some((argc, mut p)) = header(buf, pos, b'*') else {
            break;
        };
        let mut key: &[u8] = &[];
        let mut next = None;
        let mut complete = true;
        for arg in 0..argc {
            let Some((len, start)) = header(buf, p, b'$') else {
                complete = false;
                break;
            };
            let end = start.saturating_add(len);
            if end.saturating_add(2) > buf.len() {
                complete = false;
                break;
            }
            match arg {
                1 => key = &buf[start..end],
                2 => next = Some(&buf[start..end]),
                _ => {}
            }
            p = end + 2;
        }
        if !complete {
            break;
        }
        if argc >= 2 {
            out[found] = (key, next);
            found += 1;
        }
        pos = p;
    }
    found
}

/// Where the parser is inside the current command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Between commands: the next byte starts a new one.
    #[default]
    Idle,
    /// Waiting for the `\n` of an inline command.
    Inline,
    /// Waiting for the `\r\n` of the `*<count>` line.
    MultibulkCount,
    /// Reading bulks; `remaining` still to read.
    Bulks {
        remaining: usize,
        /// Length of the bulk whose header was read, if any.
        bulk_len: Option<usize>,
    },
}

/// The per-client incremental parser.
#[derive(Debug, Clone, Default)]
pub struct RequestParser {
    state: State,
    /// Offset (from the command start) of the next unparsed byte.
    pos: usize,
    /// Offset where the search for the current line terminator resumes:
    /// bytes before it are known not to contain it.
    scan: usize,
}

/// Result of looking for a line terminator.
enum Find {
    /// Found at this offset.
    At(usize),
    /// A NUL byte at this offset hides everything after it (C `strchr`).
    Nul(usize),
    /// Not in the buffer yet.
    Missing,
}

/// Finds `target` in `buf[from..]`, stopping at NUL like `strchr`.
#[inline]
fn find_byte(buf: &[u8], from: usize, target: u8) -> Find {
    match buf
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == target || b == 0))
    {
        Some(i) if buf[from + i] == target => Find::At(from + i),
        Some(i) => Find::Nul(from + i),
        None => Find::Missing,
    }
}

impl RequestParser {
    /// A parser between commands.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets any partially parsed command (e.g. after the caller dropped
    /// the query buffer).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// True while a command has been started but not completed.
    pub fn in_progress(&self) -> bool {
        self.state != State::Idle
    }

    /// Parses (or continues parsing) the command at the start of `buf`.
    /// After `Complete` or an error the parser is ready for a new command.
    pub fn parse(
        &mut self,
        buf: &[u8],
        limits: &ParseLimits,
        args: &mut ArgList,
    ) -> Result<Parsed, ProtocolError> {
        if self.state == State::Idle {
            let Some(&first) = buf.first() else {
                return Ok(Parsed::Incomplete { needed: None });
            };
            args.clear();
            self.pos = 0;
            self.scan = 0;
            self.state = if first == b'*' {
                State::MultibulkCount
            } else {
                State::Inline
            };
        }
        let result = match self.state {
            State::Inline => self.parse_inline(buf, limits, args),
            _ => self.parse_multibulk(buf, limits, args),
        };
        if !matches!(result, Ok(Parsed::Incomplete { .. })) {
            self.state = State::Idle;
        }
        result
    }

    fn parse_inline(
        &mut self,
        buf: &[u8],
        limits: &ParseLimits,
        args: &mut ArgList,
    ) -> Result<Parsed, ProtocolError> {
        let newline = match find_byte(buf, self.scan, b'\n') {
            Find::At(i) => i,
            found => {
                self.scan = match found {
                    Find::Nul(i) => i,
                    _ => buf.len(),
                };
                if buf.len() > limits.max_inline_len {
                    return Err(ProtocolError::TooBigInlineRequest);
                }
                return Ok(Parsed::Incomplete { needed: None });
            }
        };
        // "\r\n" and a bare "\n" both end the line.
        let end = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        args.inline = true;
        let ranges = &mut args.ranges;
        if split_args_into(&buf[..end], &mut args.scratch, |s, e| ranges.push((s, e))).is_none() {
            args.clear();
            return Err(ProtocolError::UnbalancedQuotes);
        }
        Ok(Parsed::Complete {
            consumed: newline + 1,
        })
    }

    /// Finds the `\r` ending the header line starting at `self.pos`,
    /// returning its offset once the byte after it has arrived too.
    /// `Err(None)` means wait; `Err(Some(e))` is the too-long error.
    #[inline]
    fn header_line(
        &mut self,
        buf: &[u8],
        limits: &ParseLimits,
        too_big: ProtocolError,
    ) -> Result<usize, Option<ProtocolError>> {
        let from = self.scan.max(self.pos);
        match find_byte(buf, from, b'\r') {
            Find::At(cr) => {
                self.scan = cr;
                // Valkey only requires one more byte; it does not check '\n'.
                if cr + 2 > buf.len() {
                    Err(None)
                } else {
                    Ok(cr)
                }
            }
            found => {
                self.scan = match found {
                    Find::Nul(i) => i,
                    _ => buf.len(),
                };
                if buf.len() - self.pos > limits.max_inline_len {
                    Err(Some(too_big))
                } else {
                    Err(None)
                }
            }
        }
    }

    fn parse_multibulk(
        &mut self,
        buf: &[u8],
        limits: &ParseLimits,
        args: &mut ArgList,
    ) -> Result<Parsed, ProtocolError> {
        const WAIT: Parsed = Parsed::Incomplete { needed: None };
        if self.state == State::MultibulkCount {
            let cr = match self.header_line(buf, limits, ProtocolError::TooBigMbulkCount) {
                Ok(cr) => cr,
                Err(None) => return Ok(WAIT),
                Err(Some(e)) => return Err(e),
            };
            let count = match parse_i64(&buf[self.pos + 1..cr]) {
                Some(n) if n <= 0 || (n as u64) <= limits.max_multibulk_len as u64 => n,
                _ => return Err(ProtocolError::InvalidMultibulkLength),
            };
            if count > UNAUTH_MAX_MULTIBULK_LEN && !limits.authenticated {
                return Err(ProtocolError::UnauthenticatedMultibulkLength);
            }
            self.pos = cr + 2;
            if count <= 0 {
                // An empty command: the caller skips it.
                return Ok(Parsed::Complete { consumed: self.pos });
            }
            // Reserve for the arguments, but don't let a client make us
            // allocate for a huge count it never sends (Valkey caps at 1024).
            args.ranges.reserve((count as usize).min(1024));
            self.state = State::Bulks {
                remaining: count as usize,
                bulk_len: None,
            };
        }

        while let State::Bulks {
            remaining,
            bulk_len,
        } = self.state
        {
            let len = match bulk_len {
                Some(len) => len,
                None => {
                    let cr = match self.header_line(buf, limits, ProtocolError::TooBigBulkCount) {
                        Ok(cr) => cr,
                        Err(None) => return Ok(WAIT),
                        Err(Some(e)) => return Err(e),
                    };
                    if buf[self.pos] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(buf[self.pos]));
                    }
                    let len = match parse_i64(&buf[self.pos + 1..cr]) {
                        Some(n) if n >= 0 && (n as u64) <= limits.max_bulk_len as u64 => n,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if len > UNAUTH_MAX_BULK_LEN && !limits.authenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    self.pos = cr + 2;
                    // `len` <= max_bulk_len, which fits in usize.
                    let len = len as usize;
                    self.state = State::Bulks {
                        remaining,
                        bulk_len: Some(len),
                    };
                    len
                }
            };
            // Payload plus the two terminator bytes (not checked, as in
            // Valkey).
            let end = self.pos.saturating_add(len).saturating_add(2);
            if buf.len() < end {
                return Ok(Parsed::Incomplete { needed: Some(end) });
            }
            args.ranges.push((self.pos, self.pos + len));
            self.pos = end;
            self.scan = end;
            self.state = if remaining > 1 {
                State::Bulks {
                    remaining: remaining - 1,
                    bulk_len: None,
                }
            } else {
                State::Idle
            };
        }
        Ok(Parsed::Complete { consumed: self.pos })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> ParseLimits {
        ParseLimits::default()
    }

    #[test]
    fn peek_keys_finds_the_second_argument_of_complete_commands() {
        let buf = b"*3\r\n$3\r\nSET\r\n$2\r\nk1\r\n$1\r\nv\r\n*1\r\n$4\r\nPING\r\n\
                    *2\r\n$3\r\nGET\r\n$0\r\n\r\n*2\r\n$3\r\nGET\r\n$2\r\nk3";
        let mut out: [Peeked; 4] = [(&[], None); 4];
        // PING has no key; the last GET is incomplete.
        assert_eq!(peek_keys(buf, &mut out), 2);
        assert_eq!(out[0], (&b"k1"[..], Some(&b"v"[..])));
        assert_eq!(out[1], (&b""[..], None));
        // Room for one only.
        assert_eq!(peek_keys(buf, &mut out[..1]), 1);
        // Stops at what it does not know, without reading past the buffer.
        for bad in [
            &b"GET k\r\n"[..],
            b"*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n",
            b"*2\r\n$3\r\nGET\r\n$-1\r\n",
            b"*x\r\n",
            b"*2\r$3\r\n",
            b"*2\r\n$3\r\nGET\r\n$3\r\nab",
            b"*18446744073709551615\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"",
        ] {
            assert_eq!(
                peek_keys(bad, &mut out),
                0,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        // A huge declared length does not overflow the position arithmetic.
        let huge = b"*2\r\n$1\r\na\r\n$999999999999999999\r\nb\r\n";
        assert_eq!(peek_keys(huge, &mut out), 0);
    }

    /// Parses one command from `buf` in a single call.
    fn parse_one(
        buf: &[u8],
        limits: &ParseLimits,
    ) -> Result<(Parsed, Vec<Vec<u8>>), ProtocolError> {
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        let r = p.parse(buf, limits, &mut a)?;
        let v = a.args(buf).iter().map(|x| x.to_vec()).collect();
        Ok((r, v))
    }

    fn err(buf: &[u8], limits: &ParseLimits) -> String {
        match parse_one(buf, limits) {
            Err(e) => e.message(),
            Ok(r) => panic!("expected an error, got {:?}", r),
        }
    }

    fn v(items: &[&[u8]]) -> Vec<Vec<u8>> {
        items.iter().map(|s| s.to_vec()).collect()
    }

    #[test]
    fn multibulk_basic() {
        let buf = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\nextra";
        let (r, args) = parse_one(buf, &lim()).unwrap();
        assert_eq!(
            r,
            Parsed::Complete {
                consumed: buf.len() - 5
            }
        );
        assert_eq!(args, v(&[b"SET", b"key", b"value"]));
    }

    #[test]
    fn multibulk_binary_and_empty_args() {
        let buf = b"*3\r\n$0\r\n\r\n$4\r\na\r\nb\r\n$1\r\n\0\r\n";
        let (r, args) = parse_one(buf, &lim()).unwrap();
        assert_eq!(
            r,
            Parsed::Complete {
                consumed: buf.len()
            }
        );
        assert_eq!(args, v(&[b"", b"a\r\nb", b"\0"]));
    }

    #[test]
    fn empty_multibulk_is_skipped() {
        for buf in [&b"*0\r\n"[..], b"*-1\r\n", b"*-100\r\n"] {
            let (r, args) = parse_one(buf, &lim()).unwrap();
            assert_eq!(
                r,
                Parsed::Complete {
                    consumed: buf.len()
                }
            );
            assert!(args.is_empty());
        }
    }

    #[test]
    fn inline_basic() {
        let (r, args) = parse_one(b"SET key value\r\nPING\r\n", &lim()).unwrap();
        assert_eq!(r, Parsed::Complete { consumed: 15 });
        assert_eq!(args, v(&[b"SET", b"key", b"value"]));
        // A bare "\n" also ends the line.
        let (r, args) = parse_one(b"PING\nX", &lim()).unwrap();
        assert_eq!(r, Parsed::Complete { consumed: 5 });
        assert_eq!(args, v(&[b"PING"]));
        // Blank lines are empty commands.
        let (r, args) = parse_one(b"\r\n", &lim()).unwrap();
        assert_eq!(r, Parsed::Complete { consumed: 2 });
        assert!(args.is_empty());
        let (r, args) = parse_one(b"   \n", &lim()).unwrap();
        assert_eq!(r, Parsed::Complete { consumed: 4 });
        assert!(args.is_empty());
    }

    #[test]
    fn inline_quoting() {
        let (_, args) = parse_one(b"set \"a b\" 'c d' \"\\x41\\n\" 'it\\'s'\r\n", &lim()).unwrap();
        assert_eq!(args, v(&[b"set", b"a b", b"c d", b"A\n", b"it's"]));
        assert_eq!(
            err(b"set \"abc\r\n", &lim()),
            "Protocol error: unbalanced quotes in request"
        );
        assert_eq!(
            err(b"set \"a\"b\r\n", &lim()),
            "Protocol error: unbalanced quotes in request"
        );
    }

    #[test]
    fn inline_args_survive_scratch_reuse() {
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        let buf = b"GET \"x y\"\r\nGET z\r\n";
        let Parsed::Complete { consumed } = p.parse(buf, &lim(), &mut a).unwrap() else {
            panic!()
        };
        assert_eq!(a.args(buf).get(1), b"x y");
        let rest = &buf[consumed..];
        assert_eq!(
            p.parse(rest, &lim(), &mut a).unwrap(),
            Parsed::Complete {
                consumed: rest.len()
            }
        );
        assert_eq!(
            a.args(rest).iter().collect::<Vec<_>>(),
            vec![&b"GET"[..], b"z"]
        );
        // Multibulk after inline points into the buffer again.
        let mb = b"*1\r\n$4\r\nPING\r\n";
        p.parse(mb, &lim(), &mut a).unwrap();
        assert_eq!(a.args(mb).get(0), b"PING");
    }

    #[test]
    fn error_texts_are_exact() {
        let l = lim();
        assert_eq!(
            err(b"*abc\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*01\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*2147483648\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(b"*1\r\n$abc\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$-1\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\n$536870913\r\n", &l),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(b"*1\r\nfoo\r\n", &l),
            "Protocol error: expected '$', got 'f'"
        );
        assert_eq!(
            err(b"*1\r\n:1\r\n", &l),
            "Protocol error: expected '$', got ':'"
        );
        let unauth = ParseLimits {
            authenticated: false,
            ..lim()
        };
        assert_eq!(
            err(b"*11\r\n", &unauth),
            "Protocol error: unauthenticated multibulk length"
        );
        assert_eq!(
            err(b"*1\r\n$16385\r\n", &unauth),
            "Protocol error: unauthenticated bulk length"
        );
        // At the limits it is fine.
        assert!(matches!(
            parse_one(b"*10\r\n", &unauth),
            Ok((Parsed::Incomplete { .. }, _))
        ));
        assert_eq!(
            parse_one(b"*1\r\n$16384\r\n", &unauth).unwrap().0,
            Parsed::Incomplete {
                needed: Some(12 + 16384 + 2)
            }
        );
        // The largest multibulk count is INT_MAX (and we don't allocate it).
        assert!(matches!(
            parse_one(b"*2147483647\r\n", &l),
            Ok((Parsed::Incomplete { needed: None }, _))
        ));
        // proto-max-bulk-len itself is accepted.
        assert_eq!(
            parse_one(b"*1\r\n$536870912\r\n", &l).unwrap().0,
            Parsed::Incomplete {
                needed: Some(16 + 536870912 + 2)
            }
        );
    }

    #[test]
    fn too_big_lines() {
        let l = lim();
        let mut inline = vec![b'a'; 64 * 1024];
        assert!(matches!(
            parse_one(&inline, &l),
            Ok((Parsed::Incomplete { .. }, _))
        ));
        inline.push(b'a');
        assert_eq!(err(&inline, &l), "Protocol error: too big inline request");

        let mut mb = b"*".to_vec();
        mb.resize(64 * 1024, b'1');
        assert!(matches!(
            parse_one(&mb, &l),
            Ok((Parsed::Incomplete { .. }, _))
        ));
        mb.push(b'1');
        assert_eq!(err(&mb, &l), "Protocol error: too big mbulk count string");

        let mut bulk = b"*1\r\n$".to_vec();
        bulk.resize(4 + 64 * 1024, b'1');
        assert!(matches!(
            parse_one(&bulk, &l),
            Ok((Parsed::Incomplete { .. }, _))
        ));
        bulk.push(b'1');
        assert_eq!(err(&bulk, &l), "Protocol error: too big bulk count string");

        // A long count line that does end in "\r\n" is just invalid.
        let mut mb = b"*".to_vec();
        mb.resize(70 * 1024, b'1');
        mb.extend_from_slice(b"\r\n");
        assert_eq!(err(&mb, &l), "Protocol error: invalid multibulk length");
    }

    #[test]
    fn nul_hides_line_end_like_strchr() {
        let l = lim();
        // The '\r' after a NUL is never seen: waits, then hits the limit.
        assert!(matches!(
            parse_one(b"*1\0\r\n", &l),
            Ok((Parsed::Incomplete { .. }, _))
        ));
        assert!(matches!(
            parse_one(b"PING\0\r\n", &l),
            Ok((Parsed::Incomplete { .. }, _))
        ));
        let mut big = b"PING\0\n".to_vec();
        big.resize(64 * 1024 + 1, b'\n');
        assert_eq!(err(&big, &l), "Protocol error: too big inline request");
    }

    #[test]
    fn terminators_are_not_checked() {
        // Valkey skips the byte after '\r' and the two bytes after a payload.
        let buf = b"*1\rX$4\rYPINGab";
        let (r, args) = parse_one(buf, &lim()).unwrap();
        assert_eq!(
            r,
            Parsed::Complete {
                consumed: buf.len()
            }
        );
        assert_eq!(args, v(&[b"PING"]));
    }

    #[test]
    fn expected_dollar_with_cr_is_sanitized_on_the_wire() {
        let e = parse_one(b"*1\r\n\r\n", &lim()).unwrap_err();
        assert_eq!(e, ProtocolError::ExpectedDollar(b'\r'));
        assert_eq!(
            e.reply_bytes(),
            b"-ERR Protocol error: expected '$', got ' '\r\n"
        );
        let e = parse_one(b"*1\r\n\xff\r\n", &lim()).unwrap_err();
        assert_eq!(
            e.message_bytes(),
            b"Protocol error: expected '$', got '\xff'"
        );
        assert_eq!(
            ProtocolError::InvalidBulkLength.reply_bytes(),
            b"-ERR Protocol error: invalid bulk length\r\n"
        );
    }

    /// Feeds `stream` to a parser in chunks, the way a connection would,
    /// collecting every non-empty command.
    fn feed(stream: &[u8], chunk: usize) -> Vec<Vec<Vec<u8>>> {
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        let mut qbuf: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        for piece in stream.chunks(chunk.max(1)) {
            qbuf.extend_from_slice(piece);
            while let Parsed::Complete { consumed } = p.parse(&qbuf, &lim(), &mut a).unwrap() {
                if !a.is_empty() {
                    out.push(a.args(&qbuf).iter().map(|x| x.to_vec()).collect());
                }
                qbuf.drain(..consumed);
                if qbuf.is_empty() {
                    break;
                }
            }
        }
        assert!(qbuf.is_empty(), "leftover bytes");
        out
    }

    #[test]
    fn split_at_every_byte_boundary() {
        let stream = b"*3\r\n$3\r\nSET\r\n$4\r\nk\r\ny\r\n$0\r\n\r\nPING \"a b\"\r\n*0\r\n\r\n*1\r\n$4\r\nPING\r\n";
        let want = vec![
            v(&[b"SET", b"k\r\ny", b""]),
            v(&[b"PING", b"a b"]),
            v(&[b"PING"]),
        ];
        for chunk in 1..=stream.len() {
            assert_eq!(feed(stream, chunk), want, "chunk size {chunk}");
        }
        // Also split into exactly two parts at every position.
        for cut in 0..=stream.len() {
            let mut p = RequestParser::new();
            let mut a = ArgList::new();
            let first = &stream[..cut];
            let r = p.parse(first, &lim(), &mut a).unwrap();
            if let Parsed::Complete { consumed } = r {
                assert_eq!(consumed, 29);
                assert!(cut >= 29);
            } else {
                let r = p.parse(stream, &lim(), &mut a).unwrap();
                assert_eq!(r, Parsed::Complete { consumed: 29 });
            }
            assert_eq!(
                a.args(stream).iter().collect::<Vec<_>>(),
                vec![&b"SET"[..], b"k\r\ny", b""]
            );
        }
    }

    #[test]
    fn byte_at_a_time_is_linear() {
        // A 1 MB bulk delivered one byte per call must not rescan the
        // buffer each time; this finishes instantly if resumption works.
        let mut stream = b"*2\r\n$3\r\nSET\r\n$1048576\r\n".to_vec();
        stream.resize(stream.len() + 1_048_576, b'x');
        stream.extend_from_slice(b"\r\n");
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        let mut needed_seen = Vec::new();
        for end in 1..=stream.len() {
            match p.parse(&stream[..end], &lim(), &mut a).unwrap() {
                Parsed::Complete { consumed } => {
                    assert_eq!(end, stream.len());
                    assert_eq!(consumed, stream.len());
                }
                Parsed::Incomplete { needed } => {
                    if let Some(n) = needed {
                        if needed_seen.last() != Some(&n) {
                            needed_seen.push(n);
                        }
                    }
                }
            }
        }
        // The exact total is announced once per bulk, as soon as its header
        // is known: 13 bytes for "SET", everything for the 1 MB value.
        assert_eq!(needed_seen, vec![13, stream.len()]);
        assert_eq!(a.args(&stream).get(1).len(), 1_048_576);
    }

    #[test]
    fn long_inline_byte_at_a_time() {
        let mut line = vec![b'a'; 60_000];
        line.extend_from_slice(b"\r\n");
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        for end in 1..line.len() {
            assert!(matches!(
                p.parse(&line[..end], &lim(), &mut a).unwrap(),
                Parsed::Incomplete { .. }
            ));
        }
        assert_eq!(
            p.parse(&line, &lim(), &mut a).unwrap(),
            Parsed::Complete {
                consumed: line.len()
            }
        );
        assert_eq!(a.args(&line).get(0).len(), 60_000);
    }

    #[test]
    fn pipeline_of_ten_thousand() {
        let mut stream = Vec::new();
        for i in 0..10_000 {
            let key = format!("key:{i}");
            stream.extend_from_slice(
                format!("*2\r\n$3\r\nGET\r\n${}\r\n{}\r\n", key.len(), key).as_bytes(),
            );
            if i % 1000 == 0 {
                stream.extend_from_slice(b"PING\r\n");
            }
        }
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        let mut pos = 0;
        let mut n = 0;
        let mut pings = 0;
        while pos < stream.len() {
            let buf = &stream[pos..];
            let Parsed::Complete { consumed } = p.parse(buf, &lim(), &mut a).unwrap() else {
                panic!("incomplete at {pos}");
            };
            let args = a.args(buf);
            if args.get(0) == b"PING" {
                pings += 1;
            } else {
                assert_eq!(args.get(1), format!("key:{n}").as_bytes());
                n += 1;
            }
            pos += consumed;
        }
        assert_eq!((n, pings), (10_000, 10));
    }

    #[test]
    fn huge_declared_lengths_do_not_allocate() {
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        let buf = b"*2147483647\r\n$536870912\r\nabc";
        assert_eq!(
            p.parse(buf, &lim(), &mut a).unwrap(),
            Parsed::Incomplete {
                needed: Some(25 + 536870912 + 2)
            }
        );
        // Capacity is bounded by the 1024 cap, not the declared count.
        assert!(a.ranges.capacity() <= 2048);
        // A custom cap on the count is an invalid length.
        let l = ParseLimits {
            max_multibulk_len: 100,
            ..lim()
        };
        assert_eq!(
            err(b"*101\r\n", &l),
            "Protocol error: invalid multibulk length"
        );
        let l = ParseLimits {
            max_bulk_len: 10,
            ..lim()
        };
        assert_eq!(
            err(b"*1\r\n$11\r\n", &l),
            "Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn parser_reset_and_in_progress() {
        let mut p = RequestParser::new();
        let mut a = ArgList::new();
        assert!(!p.in_progress());
        assert_eq!(
            p.parse(b"", &lim(), &mut a).unwrap(),
            Parsed::Incomplete { needed: None }
        );
        assert!(!p.in_progress());
        p.parse(b"*2\r\n$3\r\nGET\r\n", &lim(), &mut a).unwrap();
        assert!(p.in_progress());
        p.reset();
        assert!(!p.in_progress());
        let buf = b"*1\r\n$4\r\nPING\r\n";
        assert_eq!(
            p.parse(buf, &lim(), &mut a).unwrap(),
            Parsed::Complete {
                consumed: buf.len()
            }
        );
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn args_views() {
        let o = OwnedArgs::from_slices(&[b"SET", b"k", b"", b"v"]);
        let args = o.as_args();
        assert_eq!(args.len(), 4);
        assert!(!args.is_empty());
        assert_eq!(args.get(0), b"SET");
        assert_eq!(args.get(2), b"");
        assert_eq!(args.try_get(4), None);
        assert_eq!(
            args.skip(2).iter().collect::<Vec<_>>(),
            vec![&b""[..], b"v"]
        );
        assert!(args.skip(9).is_empty());
        assert_eq!(args.total_len(), 5);
        assert_eq!(args.to_owned(), o);
        assert_eq!(args.iter().next_back(), Some(&b"v"[..]));
        assert_eq!(args.iter().len(), 4);
        let mut n = 0;
        for arg in args {
            n += arg.len();
        }
        assert_eq!(n, 5);
        assert!(OwnedArgs::new().is_empty());
    }

    #[test]
    fn random_streams_match_one_shot_parse() {
        // Deterministic fuzz: random valid commands, random chunking, must
        // give the same commands; random garbage must never panic.
        let mut x: u64 = 0x2545F4914F6CDD1D;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..200 {
            let mut stream = Vec::new();
            let mut want = Vec::new();
            for _ in 0..(rnd() % 8 + 1) {
                let argc = (rnd() % 4 + 1) as usize;
                let args: Vec<Vec<u8>> = (0..argc)
                    .map(|_| (0..rnd() % 20).map(|_| (rnd() % 256) as u8).collect())
                    .collect();
                stream.extend_from_slice(format!("*{argc}\r\n").as_bytes());
                for a in &args {
                    stream.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                    stream.extend_from_slice(a);
                    stream.extend_from_slice(b"\r\n");
                }
                want.push(args);
            }
            let chunk = (rnd() % 16 + 1) as usize;
            assert_eq!(feed(&stream, chunk), want);
        }
        for _ in 0..2000 {
            let alphabet = b"*$\r\n0123-\"' a\0";
            let junk: Vec<u8> = (0..rnd() % 40)
                .map(|_| alphabet[(rnd() % alphabet.len() as u64) as usize])
                .collect();
            let mut p = RequestParser::new();
            let mut a = ArgList::new();
            let mut pos = 0;
            while pos < junk.len() {
                match p.parse(&junk[pos..], &lim(), &mut a) {
                    Ok(Parsed::Complete { consumed }) => {
                        assert!(consumed > 0);
                        let _ = a.args(&junk[pos..]).iter().count();
                        pos += consumed;
                    }
                    _ => break,
                }
            }
        }
    }
}
