//! The reply writer: appends RESP2/RESP3 encoded replies to a client's
//! output buffer, producing exactly the bytes Valkey's `addReply*` family
//! produces (networking.c).
//!
//! All writers append; nothing allocates except buffer growth. Replies whose
//! element count is only known at the end use [`Reply::defer`] and a
//! `finish_*` call, which inserts the header in place (like Valkey's
//! `addReplyDeferredLen`/`setDeferred*Len`).

use crate::util::num::{
    digits_i64, format_double, format_human_float, u64_to_buf, write_i64, write_u64,
};

/// The protocol version a client selected with HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2 (the default).
    #[default]
    Resp2,
    /// RESP3.
    Resp3,
}

/// A placeholder for an aggregate header written later. Obtained from
/// [`Reply::defer`]; consumed by `finish_array`/`finish_map`/`finish_set`/
/// `finish_push`. Deferred headers must be finished in LIFO order (inner
/// before outer), which nesting gives naturally.
#[derive(Debug)]
#[must_use = "a deferred header must be finished"]
pub struct Deferred {
    pos: usize,
}

/// An output buffer plus the client's protocol.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    buf: Vec<u8>,
    /// Bytes before this offset were already sent (see [`Reply::consume`]).
    start: usize,
    proto: Protocol,
}

const CRLF: &[u8] = b"\r\n";

impl Reply {
    /// An empty RESP2 or RESP3 writer.
    pub fn new(proto: Protocol) -> Self {
        Reply {
            buf: Vec::new(),
            start: 0,
            proto,
        }
    }

    /// An empty writer with room for `cap` bytes.
    pub fn with_capacity(proto: Protocol, cap: usize) -> Self {
        Reply {
            buf: Vec::with_capacity(cap),
            start: 0,
            proto,
        }
    }

    /// The protocol in use.
    #[inline]
    pub fn protocol(&self) -> Protocol {
        self.proto
    }

    /// Switches protocol (HELLO); affects later replies only.
    #[inline]
    pub fn set_protocol(&mut self, proto: Protocol) {
        self.proto = proto;
    }

    #[inline]
    fn resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    /// Bytes written and not yet consumed.
    #[inline]
    pub fn buf(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Number of bytes written and not yet consumed.
    #[inline]
    pub fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// True if nothing is waiting to be sent.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops everything, keeping the allocation.
    #[inline]
    pub fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Keeps only the first `len` pending bytes (as counted by
    /// [`Reply::len`]): `let mark = r.len(); ...; r.truncate(mark)` discards
    /// a reply, e.g. for CLIENT REPLY OFF/SKIP. No-op if `len >= self.len()`.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(self.start.saturating_add(len));
    }

    /// Marks the first `n` pending bytes as sent (after a partial socket
    /// write). Cheap: the space is reclaimed lazily, when everything was
    /// sent or when the sent prefix is at least half the buffer. Must not be
    /// called while a [`Deferred`] header is pending.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    /// Takes all pending bytes, leaving the writer empty.
    pub fn take(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.buf);
        if self.start > 0 {
            out.drain(..self.start);
        }
        self.start = 0;
        out
    }

    /// Capacity of the underlying buffer (for memory accounting).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Frees excess capacity when the buffer is empty (after a big reply).
    pub fn shrink_if_idle(&mut self, keep: usize) {
        if self.is_empty() && self.buf.capacity() > keep {
            self.buf = Vec::with_capacity(keep);
            self.start = 0;
        }
    }

    /// Appends already-encoded protocol bytes verbatim.
    #[inline]
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    #[inline]
    fn header(&mut self, prefix: u8, n: usize) {
        self.buf.push(prefix);
        write_u64(n as u64, &mut self.buf);
        self.buf.extend_from_slice(CRLF);
    }

    /// `+OK`.
    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string: `+<s>`. CR/LF in `s` become spaces so the reply
    /// stays well-formed.
    #[inline]
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.push_line_safe(s);
        self.buf.extend_from_slice(CRLF);
    }

    /// An error reply: `-<msg>`, where `msg` starts with the error code
    /// (`b"ERR syntax error"`, `b"WRONGTYPE Operation ..."`). CR/LF in `msg`
    /// become spaces, as Valkey's `addReplyErrorFormat` does.
    #[inline]
    pub fn error(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        self.push_line_safe(msg);
        self.buf.extend_from_slice(CRLF);
    }

    /// An error built from pieces, avoiding a temporary `String`:
    /// `r.error_parts(&[b"ERR unknown command '", name, b"'"])`.
    pub fn error_parts(&mut self, parts: &[&[u8]]) {
        self.buf.push(b'-');
        for p in parts {
            self.push_line_safe(p);
        }
        self.buf.extend_from_slice(CRLF);
    }

    #[inline]
    fn push_line_safe(&mut self, s: &[u8]) {
        if s.iter().any(|&b| b == b'\r' || b == b'\n') {
            self.buf.extend(
                s.iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
        } else {
            self.buf.extend_from_slice(s);
        }
    }

    /// An integer: `:<n>`.
    #[inline]
    pub fn integer(&mut self, n: i64) {
        self.buf.push(b':');
        write_i64(n, &mut self.buf);
        self.buf.extend_from_slice(CRLF);
    }

    /// A bulk string: `$<len>\r\n<data>`.
    #[inline]
    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len());
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(CRLF);
    }

    /// A bulk string holding the decimal text of `n`.
    #[inline]
    pub fn bulk_i64(&mut self, n: i64) {
        self.header(b'$', digits_i64(n));
        write_i64(n, &mut self.buf);
        self.buf.extend_from_slice(CRLF);
    }

    /// Null: RESP2 `$-1`, RESP3 `_`.
    #[inline]
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// Null array: RESP2 `*-1`, RESP3 `_`.
    #[inline]
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    /// Array header: `*<n>`.
    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n);
    }

    /// Empty array `*0` (both protocols).
    #[inline]
    pub fn empty_array(&mut self) {
        self.buf.extend_from_slice(b"*0\r\n");
    }

    /// Map header for `n` key/value pairs: RESP3 `%<n>`, RESP2 `*<2n>`.
    #[inline]
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n);
        } else {
            self.header(b'*', n * 2);
        }
    }

    /// Set header: RESP3 `~<n>`, RESP2 `*<n>`.
    #[inline]
    pub fn set(&mut self, n: usize) {
        let prefix = if self.resp3() { b'~' } else { b'*' };
        self.header(prefix, n);
    }

    /// Push header (pub/sub messages): RESP3 `><n>`, RESP2 `*<n>`.
    #[inline]
    pub fn push(&mut self, n: usize) {
        let prefix = if self.resp3() { b'>' } else { b'*' };
        self.header(prefix, n);
    }

    /// Attribute header `|<n>` (RESP3 only; ignored in RESP2 since the
    /// attribute's pairs must then be skipped by the caller).
    #[inline]
    pub fn attribute(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'|', n);
        }
    }

    /// A double (`addReplyDouble`): RESP3 `,<text>`, RESP2 a bulk string;
    /// the text is Valkey's `d2string` (`inf`, `-inf`, `nan`, `3`, `0.1`,
    /// `1e+21`, ...).
    #[inline]
    pub fn double(&mut self, v: f64) {
        if self.resp3() {
            self.buf.push(b',');
            format_double(v, &mut self.buf);
            self.buf.extend_from_slice(CRLF);
        } else {
            self.bulk_formatted(|out| format_double(v, out));
        }
    }

    /// A "human" long double (`addReplyHumanLongDouble`, e.g. GEOPOS
    /// coordinates): RESP3 `,<text>`, RESP2 a bulk string, with the text of
    /// [`format_human_float`] (`%.17Lf` of the widened double, trimmed).
    #[inline]
    pub fn human_double(&mut self, v: f64) {
        if self.resp3() {
            self.buf.push(b',');
            format_human_float(v, &mut self.buf);
            self.buf.extend_from_slice(CRLF);
        } else {
            self.bulk_formatted(|out| format_human_float(v, out));
        }
    }

    /// Writes a bulk whose payload is produced by `f` (at most 4 KB), without
    /// a temporary buffer: the payload is written first, then shifted right
    /// by the header length.
    fn bulk_formatted(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let at = self.buf.len();
        f(&mut self.buf);
        let len = self.buf.len() - at;
        self.insert_header(at, b'$', len);
        self.buf.extend_from_slice(CRLF);
    }

    /// Inserts `<prefix><n>\r\n` at offset `at`, shifting what follows.
    fn insert_header(&mut self, at: usize, prefix: u8, n: usize) {
        let mut digits = [0u8; 20];
        let digits = u64_to_buf(n as u64, &mut digits);
        let mut head = [0u8; 23];
        head[0] = prefix;
        head[1..1 + digits.len()].copy_from_slice(digits);
        let hl = digits.len() + 3;
        head[hl - 2] = b'\r';
        head[hl - 1] = b'\n';
        let at = at.min(self.buf.len());
        self.buf.splice(at..at, head[..hl].iter().copied());
    }

    /// A boolean: RESP3 `#t`/`#f`, RESP2 `:1`/`:0`.
    #[inline]
    pub fn boolean(&mut self, b: bool) {
        let bytes: &[u8] = match (self.resp3(), b) {
            (true, true) => b"#t\r\n",
            (true, false) => b"#f\r\n",
            (false, true) => b":1\r\n",
            (false, false) => b":0\r\n",
        };
        self.buf.extend_from_slice(bytes);
    }

    /// A verbatim string: RESP3 `=<len+4>\r\n<ext>:<text>` where `ext` is
    /// padded or cut to 3 bytes (`b"txt"`, `b"mkd"`); RESP2 a plain bulk
    /// string of `text`.
    #[inline]
    pub fn verbatim(&mut self, text: &[u8], ext: &[u8]) {
        if self.resp3() {
            self.header(b'=', text.len() + 4);
            for i in 0..3 {
                // Valkey stops at the C string's end and pads with spaces.
                let c = ext.get(i).copied().filter(|&c| c != 0).unwrap_or(b' ');
                self.buf.push(c);
            }
            self.buf.push(b':');
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(CRLF);
        } else {
            self.bulk(text);
        }
    }

    /// A big number: RESP3 `(<digits>`, RESP2 a bulk string.
    #[inline]
    pub fn big_number(&mut self, digits: &[u8]) {
        if self.resp3() {
            self.buf.push(b'(');
            self.buf.extend_from_slice(digits);
            self.buf.extend_from_slice(CRLF);
        } else {
            self.bulk(digits);
        }
    }

    /// Starts an aggregate whose length is not known yet.
    #[inline]
    pub fn defer(&mut self) -> Deferred {
        Deferred {
            pos: self.buf.len(),
        }
    }

    fn finish(&mut self, d: Deferred, prefix: u8, n: usize) {
        self.insert_header(d.pos, prefix, n);
    }

    /// Completes a deferred array of `n` elements.
    pub fn finish_array(&mut self, d: Deferred, n: usize) {
        self.finish(d, b'*', n);
    }

    /// Completes a deferred map of `n` pairs (RESP2: array of 2n).
    pub fn finish_map(&mut self, d: Deferred, n: usize) {
        if self.resp3() {
            self.finish(d, b'%', n);
        } else {
            self.finish(d, b'*', n * 2);
        }
    }

    /// Completes a deferred set of `n` elements (RESP2: array).
    pub fn finish_set(&mut self, d: Deferred, n: usize) {
        let prefix = if self.resp3() { b'~' } else { b'*' };
        self.finish(d, prefix, n);
    }

    /// Completes a deferred push of `n` elements (RESP2: array).
    pub fn finish_push(&mut self, d: Deferred, n: usize) {
        let prefix = if self.resp3() { b'>' } else { b'*' };
        self.finish(d, prefix, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut Reply)) -> (Vec<u8>, Vec<u8>) {
        let mut r2 = Reply::new(Protocol::Resp2);
        let mut r3 = Reply::new(Protocol::Resp3);
        f(&mut r2);
        f(&mut r3);
        (r2.buf().to_vec(), r3.buf().to_vec())
    }

    fn check(f: impl Fn(&mut Reply), resp2: &[u8], resp3: &[u8]) {
        let (a, b) = both(f);
        assert_eq!(a, resp2, "RESP2: {:?}", String::from_utf8_lossy(&a));
        assert_eq!(b, resp3, "RESP3: {:?}", String::from_utf8_lossy(&b));
    }

    #[test]
    fn simple_types() {
        check(|r| r.ok(), b"+OK\r\n", b"+OK\r\n");
        check(|r| r.simple(b"PONG"), b"+PONG\r\n", b"+PONG\r\n");
        check(|r| r.simple(b"a\r\nb"), b"+a  b\r\n", b"+a  b\r\n");
        check(
            |r| r.error(b"ERR syntax error"),
            b"-ERR syntax error\r\n",
            b"-ERR syntax error\r\n",
        );
        check(
            |r| r.error(b"ERR bad\r\nx\n"),
            b"-ERR bad  x \r\n",
            b"-ERR bad  x \r\n",
        );
        check(
            |r| r.error_parts(&[b"ERR unknown command '", b"fo\no", b"'"]),
            b"-ERR unknown command 'fo o'\r\n",
            b"-ERR unknown command 'fo o'\r\n",
        );
        check(|r| r.integer(0), b":0\r\n", b":0\r\n");
        check(|r| r.integer(-42), b":-42\r\n", b":-42\r\n");
        check(
            |r| r.integer(i64::MIN),
            b":-9223372036854775808\r\n",
            b":-9223372036854775808\r\n",
        );
        check(|r| r.bulk(b"hello"), b"$5\r\nhello\r\n", b"$5\r\nhello\r\n");
        check(|r| r.bulk(b""), b"$0\r\n\r\n", b"$0\r\n\r\n");
        check(
            |r| r.bulk(b"a\r\n\0"),
            b"$4\r\na\r\n\0\r\n",
            b"$4\r\na\r\n\0\r\n",
        );
        check(
            |r| r.bulk_i64(-1234),
            b"$5\r\n-1234\r\n",
            b"$5\r\n-1234\r\n",
        );
        check(|r| r.bulk_i64(0), b"$1\r\n0\r\n", b"$1\r\n0\r\n");
        check(
            |r| r.bulk_i64(i64::MIN),
            b"$20\r\n-9223372036854775808\r\n",
            b"$20\r\n-9223372036854775808\r\n",
        );
        check(|r| r.null(), b"$-1\r\n", b"_\r\n");
        check(|r| r.null_array(), b"*-1\r\n", b"_\r\n");
        check(|r| r.boolean(true), b":1\r\n", b"#t\r\n");
        check(|r| r.boolean(false), b":0\r\n", b"#f\r\n");
        check(
            |r| r.big_number(b"12345678901234567890"),
            b"$20\r\n12345678901234567890\r\n",
            b"(12345678901234567890\r\n",
        );
    }

    #[test]
    fn aggregates() {
        check(|r| r.array(3), b"*3\r\n", b"*3\r\n");
        check(|r| r.empty_array(), b"*0\r\n", b"*0\r\n");
        check(|r| r.map(2), b"*4\r\n", b"%2\r\n");
        check(|r| r.set(5), b"*5\r\n", b"~5\r\n");
        check(|r| r.push(3), b"*3\r\n", b">3\r\n");
        check(|r| r.attribute(1), b"", b"|1\r\n");
        check(
            |r| {
                r.map(1);
                r.bulk(b"k");
                r.integer(1);
            },
            b"*2\r\n$1\r\nk\r\n:1\r\n",
            b"%1\r\n$1\r\nk\r\n:1\r\n",
        );
    }

    #[test]
    fn doubles() {
        check(|r| r.double(3.0), b"$1\r\n3\r\n", b",3\r\n");
        check(|r| r.double(0.1), b"$3\r\n0.1\r\n", b",0.1\r\n");
        check(|r| r.double(-0.0), b"$2\r\n-0\r\n", b",-0\r\n");
        check(|r| r.double(f64::INFINITY), b"$3\r\ninf\r\n", b",inf\r\n");
        check(
            |r| r.double(f64::NEG_INFINITY),
            b"$4\r\n-inf\r\n",
            b",-inf\r\n",
        );
        check(|r| r.double(f64::NAN), b"$3\r\nnan\r\n", b",nan\r\n");
        check(|r| r.double(1e21), b"$5\r\n1e+21\r\n", b",1e+21\r\n");
        check(
            |r| r.double(1.0 / 3.0),
            b"$18\r\n0.3333333333333333\r\n",
            b",0.3333333333333333\r\n",
        );
        check(
            |r| r.human_double(13.361389338970184),
            b"$20\r\n13.36138933897018433\r\n",
            b",13.36138933897018433\r\n",
        );
        check(|r| r.human_double(-0.0), b"$1\r\n0\r\n", b",0\r\n");
        // The bulk header is inserted after other pending output correctly.
        check(
            |r| {
                r.ok();
                r.double(1.5);
            },
            b"+OK\r\n$3\r\n1.5\r\n",
            b"+OK\r\n,1.5\r\n",
        );
    }

    #[test]
    fn verbatim() {
        check(
            |r| r.verbatim(b"hello", b"txt"),
            b"$5\r\nhello\r\n",
            b"=9\r\ntxt:hello\r\n",
        );
        check(
            |r| r.verbatim(b"x", b"md"),
            b"$1\r\nx\r\n",
            b"=5\r\nmd :x\r\n",
        );
        check(
            |r| r.verbatim(b"", b"markdown"),
            b"$0\r\n\r\n",
            b"=4\r\nmar:\r\n",
        );
    }

    #[test]
    fn deferred_lengths() {
        check(
            |r| {
                r.ok();
                let d = r.defer();
                r.bulk(b"a");
                r.bulk(b"b");
                r.finish_array(d, 2);
            },
            b"+OK\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
            b"+OK\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n",
        );
        check(
            |r| {
                let d = r.defer();
                r.bulk(b"k");
                r.integer(1);
                r.finish_map(d, 1);
            },
            b"*2\r\n$1\r\nk\r\n:1\r\n",
            b"%1\r\n$1\r\nk\r\n:1\r\n",
        );
        check(
            |r| {
                let d = r.defer();
                r.finish_set(d, 0);
            },
            b"*0\r\n",
            b"~0\r\n",
        );
        check(
            |r| {
                let d = r.defer();
                r.bulk(b"message");
                r.finish_push(d, 1);
            },
            b"*1\r\n$7\r\nmessage\r\n",
            b">1\r\n$7\r\nmessage\r\n",
        );
        // Nested: inner finished before outer.
        check(
            |r| {
                let outer = r.defer();
                for i in 0..12 {
                    let inner = r.defer();
                    r.integer(i);
                    r.finish_array(inner, 1);
                }
                r.finish_array(outer, 12);
            },
            &{
                let mut v = b"*12\r\n".to_vec();
                for i in 0..12 {
                    v.extend_from_slice(format!("*1\r\n:{i}\r\n").as_bytes());
                }
                v
            },
            &{
                let mut v = b"*12\r\n".to_vec();
                for i in 0..12 {
                    v.extend_from_slice(format!("*1\r\n:{i}\r\n").as_bytes());
                }
                v
            },
        );
    }

    #[test]
    fn buffer_management() {
        let mut r = Reply::new(Protocol::Resp2);
        assert!(r.is_empty());
        assert_eq!(r.protocol(), Protocol::Resp2);
        r.bulk(b"hello");
        r.ok();
        assert_eq!(r.len(), 16);
        r.consume(4);
        assert_eq!(r.buf(), b"hello\r\n+OK\r\n");
        r.consume(2);
        assert_eq!(r.buf(), b"llo\r\n+OK\r\n");
        r.integer(7);
        assert_eq!(r.buf(), b"llo\r\n+OK\r\n:7\r\n");
        assert_eq!(r.take(), b"llo\r\n+OK\r\n:7\r\n");
        assert!(r.is_empty());
        r.ok();
        r.consume(100);
        assert!(r.is_empty());
        r.raw(b"+QUEUED\r\n");
        assert_eq!(r.buf(), b"+QUEUED\r\n");
        let mark = r.len();
        r.bulk(b"discarded");
        r.truncate(mark);
        assert_eq!(r.buf(), b"+QUEUED\r\n");
        r.consume(1);
        let mark = r.len();
        r.ok();
        r.truncate(mark);
        assert_eq!(r.buf(), b"QUEUED\r\n");
        r.truncate(100);
        assert_eq!(r.buf(), b"QUEUED\r\n");
        r.clear();
        assert_eq!(r.len(), 0);
        r.set_protocol(Protocol::Resp3);
        r.null();
        assert_eq!(r.buf(), b"_\r\n");
        r.clear();
        r.shrink_if_idle(0);
        assert_eq!(r.capacity(), 0);
    }
}
