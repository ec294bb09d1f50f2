//! The compact encoding of small collections: Valkey's listpack byte format.
//!
//! Small hashes, sets, sorted sets and the chunks of lists are one contiguous
//! buffer of entries. Using Valkey's exact byte layout (not merely its idea)
//! means an RDB or DUMP payload can carry our buffers as they are, and theirs
//! can be adopted after a validation pass.
//!
//! ```text
//! header   u32 total bytes (LE), u16 entry count (LE; 65535 = count by walking)
//! entry    <encoding+data> <backlen>
//!   0xxxxxxx                     7-bit unsigned integer
//!   10xxxxxx <bytes>             string of up to 63 bytes
//!   110xxxxx yyyyyyyy            13-bit signed integer
//!   1110xxxx yyyyyyyy <bytes>    string of up to 4095 bytes
//!   11110000 <u32 len> <bytes>   longer string
//!   11110001/2/3/4 <2/3/4/8 B>   16/24/32/64-bit signed integer (LE)
//!   backlen: the size of encoding+data in 1-5 bytes, 7 bits each, read
//!            right to left; a set high bit means "one more byte leftwards"
//! end      0xff
//! ```
//!
//! Strings that are canonical decimal integers are stored as integers, in the
//! smallest encoding that holds them, so "12345" costs 3 bytes plus backlen.
//! Positions handed out are byte offsets of entries; they stay valid until
//! the next change.

use super::thinbuf::{LpHeader, ThinBuf};
use std::borrow::Cow;
use std::fmt;

/// Header bytes: total bytes and count.
pub const HEADER: usize = 6;
/// The end marker.
pub const EOF: u8 = 0xff;
/// Count value meaning "too many to count in the header".
pub const COUNT_UNKNOWN: u16 = u16::MAX;

/// One element, as stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LpItem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl fmt::Debug for LpItem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LpItem::Int(i) => write!(f, "{i}"),
            LpItem::Str(s) => write!(f, "{:?}", String::from_utf8_lossy(s)),
        }
    }
}

impl<'a> LpItem<'a> {
    /// The element as bytes (integers formatted in decimal).
    pub fn to_bytes(self) -> Cow<'a, [u8]> {
        match self {
            LpItem::Str(s) => Cow::Borrowed(s),
            LpItem::Int(i) => Cow::Owned(i.to_string().into_bytes()),
        }
    }

    pub fn to_vec(self) -> Vec<u8> {
        self.to_bytes().into_owned()
    }

    /// Whether the element equals `s` byte for byte (as its decimal text
    /// when it is an integer).
    pub fn eq_bytes(self, s: &[u8]) -> bool {
        match self {
            LpItem::Str(v) => v == s,
            LpItem::Int(i) => parse_canonical_int(s) == Some(i),
        }
    }

    /// The element as an integer, if it is one or is text of one.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            LpItem::Int(i) => Some(i),
            LpItem::Str(s) => crate::util::num::parse_i64(s),
        }
    }

    /// Length of the element as a string.
    pub fn str_len(self) -> usize {
        match self {
            LpItem::Str(s) => s.len(),
            LpItem::Int(i) => decimal_len(i),
        }
    }
}

fn decimal_len(i: i64) -> usize {
    let mut n = if i < 0 { 2 } else { 1 };
    let mut u = i.unsigned_abs();
    while u >= 10 {
        u /= 10;
        n += 1;
    }
    n
}

/// `s` as an integer if it is one in canonical form (what Valkey's
/// `lpStringToInt64` accepts): no sign but a leading '-', no leading zeros,
/// no "-0", at most 20 characters, within i64.
pub fn parse_canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || neg) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// A listpack: a [`ThinBuf`] in Valkey's listpack format, one pointer to one
/// allocation whose header gives its length. The buffer is always a
/// well-formed listpack.
pub type Listpack = ThinBuf<LpHeader>;

impl Default for Listpack {
    fn default() -> Self {
        Listpack::new()
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The encoded form of one element, built on the stack.
struct Encoded {
    /// Encoding and data for integers and the string header otherwise.
    head: [u8; 9],
    head_len: usize,
}

#[inline]
fn encode_int(i: i64) -> Encoded {
    let mut head = [0u8; 9];
    let head_len = if (0..=127).contains(&i) {
        head[0] = i as u8;
        1
    } else if (-4096..=4095).contains(&i) {
        let u = (i as u16) & 0x1fff;
        head[0] = 0xc0 | (u >> 8) as u8;
        head[1] = u as u8;
        2
    } else if (-32768..=32767).contains(&i) {
        head[0] = 0xf1;
        head[1..3].copy_from_slice(&(i as i16).to_le_bytes());
        3
    } else if (-8_388_608..=8_388_607).contains(&i) {
        head[0] = 0xf2;
        head[1..4].copy_from_slice(&(i as i32).to_le_bytes()[..3]);
        4
    } else if i32::try_from(i).is_ok() {
        head[0] = 0xf3;
        head[1..5].copy_from_slice(&(i as i32).to_le_bytes());
        5
    } else {
        head[0] = 0xf4;
        head[1..9].copy_from_slice(&i.to_le_bytes());
        9
    };
    Encoded { head, head_len }
}

#[inline]
fn encode_str_header(len: usize) -> Encoded {
    let mut head = [0u8; 9];
    let head_len = if len < 64 {
        head[0] = 0x80 | len as u8;
        1
    } else if len < 4096 {
        head[0] = 0xe0 | (len >> 8) as u8;
        head[1] = len as u8;
        2
    } else {
        head[0] = 0xf0;
        head[1..5].copy_from_slice(&(len as u32).to_le_bytes());
        5
    };
    Encoded { head, head_len }
}

/// Bytes the backlen of an entry of `len` bytes takes.
#[inline]
fn backlen_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Writes the backlen of an entry of `len` bytes at the start of `out`.
#[inline]
fn write_backlen(out: &mut [u8], len: usize) {
    let n = backlen_size(len);
    // Most significant group first; every byte but the first carries the
    // "more to the left" bit, so it can be read right to left.
    for (i, k) in (0..n).rev().enumerate() {
        let b = ((len >> (7 * k)) & 127) as u8;
        out[i] = if k == n - 1 { b } else { b | 128 };
    }
}

/// The bytes an element is stored as, without its backlen.
enum Element<'a> {
    Int(Encoded),
    Str(Encoded, &'a [u8]),
}

impl<'a> Element<'a> {
    fn of(v: &'a [u8]) -> Element<'a> {
        match parse_canonical_int(v) {
            Some(i) => Element::Int(encode_int(i)),
            None => Element::Str(encode_str_header(v.len()), v),
        }
    }

    fn body_len(&self) -> usize {
        match self {
            Element::Int(e) => e.head_len,
            Element::Str(e, s) => e.head_len + s.len(),
        }
    }

    fn total_len(&self) -> usize {
        let b = self.body_len();
        b + backlen_size(b)
    }

    /// Writes the entry (encoding, data, backlen) into `out`, which is
    /// exactly [`Element::total_len`] bytes.
    fn write_into(&self, out: &mut [u8]) {
        let body = self.body_len();
        let (head, data): (&[u8], &[u8]) = match self {
            Element::Int(e) => (&e.head[..e.head_len], &[]),
            Element::Str(e, s) => (&e.head[..e.head_len], s),
        };
        out[..head.len()].copy_from_slice(head);
        out[head.len()..body].copy_from_slice(data);
        write_backlen(&mut out[body..], body);
    }
}

// ---- entries for listpacks that live inside other buffers -------------------
//
// Stream nodes are listpacks laid back to back in shared chunks: they are
// written with these and read through [`Lp`], the same code `Listpack` uses.

/// Bytes `v` takes as an entry (encoding, data, backlen); canonical integers
/// are stored as integers, as [`Listpack::push_back`] does.
#[inline]
pub fn entry_len(v: &[u8]) -> usize {
    if let Some(i) = parse_canonical_int(v) {
        return int_entry_len(i);
    }
    let body = v.len()
        + match v.len() {
            0..=63 => 1,
            64..=4095 => 2,
            _ => 5,
        };
    body + backlen_size(body)
}

/// Bytes the integer `i` takes as an entry (the backlen is one byte: an
/// integer's body is at most 9).
#[inline]
pub fn int_entry_len(i: i64) -> usize {
    match i {
        0..=127 => 2,
        -4096..=4095 => 3,
        -32768..=32767 => 4,
        -8_388_608..=8_388_607 => 5,
        _ if i32::try_from(i).is_ok() => 6,
        _ => 10,
    }
}

/// Appends `v` as an entry to the listpack being built at the end of `out`.
#[inline]
pub fn push_entry(out: &mut Vec<u8>, v: &[u8]) {
    if let Some(i) = parse_canonical_int(v) {
        return push_int_entry(out, i);
    }
    // Byte pushes for the few header and backlen bytes: a call to memcpy
    // per piece costs more than the bytes (stream appends live on this).
    let len = v.len();
    let body = if len < 64 {
        out.push(0x80 | len as u8);
        1 + len
    } else if len < 4096 {
        out.push(0xe0 | (len >> 8) as u8);
        out.push(len as u8);
        2 + len
    } else {
        out.push(0xf0);
        out.extend_from_slice(&(len as u32).to_le_bytes());
        5 + len
    };
    out.extend_from_slice(v);
    let n = backlen_size(body);
    for k in (0..n).rev() {
        let b = ((body >> (7 * k)) & 127) as u8;
        out.push(if k == n - 1 { b } else { b | 128 });
    }
}

/// Appends the integer `i` as an entry.
#[inline]
pub fn push_int_entry(out: &mut Vec<u8>, i: i64) {
    let e = encode_int(i);
    let mut buf = [0u8; 10];
    buf[..9].copy_from_slice(&e.head);
    // An integer's body is at most 9 bytes: a one-byte backlen.
    buf[e.head_len] = e.head_len as u8;
    out.extend_from_slice(&buf[..e.head_len + 1]);
}

/// Writes the integer `i` as an entry into `out`, which is exactly
/// [`int_entry_len`] bytes.
pub fn write_int_entry(out: &mut [u8], i: i64) {
    Element::Int(encode_int(i)).write_into(out);
}

/// Sets the header of the listpack `lp` (which ends where the slice does):
/// its total bytes, and `added` more elements in its count (a count already
/// too big to hold stays "unknown").
pub fn fix_header(lp: &mut [u8], added: usize) {
    let total = lp.len();
    let Some(h) = lp.get_mut(..HEADER) else {
        return;
    };
    h[..4].copy_from_slice(&u32::try_from(total).unwrap_or(u32::MAX).to_le_bytes());
    let c = u16::from_le_bytes([h[4], h[5]]);
    if c != COUNT_UNKNOWN {
        let n = (c as usize + added).min(COUNT_UNKNOWN as usize) as u16;
        h[4..6].copy_from_slice(&n.to_le_bytes());
    }
}

/// The total-bytes field of the listpack starting `lp`.
pub fn total_bytes(lp: &[u8]) -> Option<usize> {
    let b = lp.get(..4)?;
    Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
}

/// A listpack read where it lies: a [`Listpack`]'s own bytes or a stream
/// node inside a chunk. Positions are byte offsets of entries. Reads never
/// panic: on bytes that are not a well-formed listpack they end early (and
/// a damaged entry reads as 0).
#[derive(Clone, Copy)]
pub struct Lp<'a>(pub &'a [u8]);

impl<'a> Lp<'a> {
    pub fn byte_len(self) -> usize {
        self.0.len()
    }

    /// Position of the first element.
    #[inline]
    pub fn first(self) -> Option<usize> {
        (*self.0.get(HEADER)? != EOF).then_some(HEADER)
    }

    /// Position of the element after the one at `pos`.
    #[inline]
    pub fn next(self, pos: usize) -> Option<usize> {
        let n = pos + entry_size(self.0, pos)?;
        (*self.0.get(n)? != EOF).then_some(n)
    }

    /// Position of the element before the one at `pos` (which may also be
    /// the end marker's position).
    #[inline]
    pub fn prev(self, pos: usize) -> Option<usize> {
        if pos <= HEADER {
            return None;
        }
        let body = read_backlen(self.0, pos - 1)?;
        pos.checked_sub(body + backlen_size(body))
            .filter(|&p| p >= HEADER)
    }

    /// Position of the last element.
    pub fn last(self) -> Option<usize> {
        self.prev(self.0.len().checked_sub(1)?)
    }

    /// The element at `pos`.
    #[inline]
    pub fn get(self, pos: usize) -> LpItem<'a> {
        decode(self.0, pos).unwrap_or(LpItem::Int(0))
    }

    /// Elements from `pos` on.
    pub fn iter_from(self, pos: Option<usize>) -> Iter<'a> {
        Iter { lp: self, pos }
    }
}

impl Listpack {
    pub fn new() -> Listpack {
        let total = ((HEADER + 1) as u32).to_le_bytes();
        // Count 0 and the end marker after the total.
        ThinBuf::with_header(&total, |t| t.copy_from_slice(&[0, 0, EOF]))
            .expect("a listpack header is valid")
    }

    /// Adopts a serialized listpack after checking every entry (lengths,
    /// encodings, backlens, count), as `sanitize-dump-payload` would: the
    /// bytes are copied once into the listpack's own block. None if it is
    /// malformed in any way.
    pub fn from_bytes(buf: &[u8]) -> Option<Listpack> {
        if buf.len() < HEADER + 1 || buf.len() > u32::MAX as usize {
            return None;
        }
        if total_bytes(buf)? != buf.len() {
            return None;
        }
        if *buf.last()? != EOF {
            return None;
        }
        let count = u16::from_le_bytes([buf[4], buf[5]]);
        let mut pos = HEADER;
        let mut n = 0usize;
        while buf[pos] != EOF {
            let body = entry_body_len(buf, pos)?;
            let bl = backlen_size(body);
            let end = pos.checked_add(body)?.checked_add(bl)?;
            if end >= buf.len() {
                return None;
            }
            if read_backlen(buf, end - 1)? != body {
                return None;
            }
            pos = end;
            n += 1;
        }
        if pos != buf.len() - 1 {
            return None;
        }
        if count != COUNT_UNKNOWN && count as usize != n {
            return None;
        }
        ThinBuf::copy_of(buf)
    }

    /// A listpack of these elements, in order.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Listpack {
        let mut lp = Listpack::new();
        for it in items {
            lp.push_back(it);
        }
        lp
    }

    /// The serialized form (what RDB and DUMP carry).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes()
    }

    /// The listpack as a borrowed view.
    #[inline]
    pub fn view(&self) -> Lp<'_> {
        Lp(self.bytes())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        let b = self.bytes();
        let c = u16::from_le_bytes([b[4], b[5]]);
        if c != COUNT_UNKNOWN {
            return c as usize;
        }
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.view().first().is_none()
    }

    /// Bytes of the serialized listpack.
    pub fn byte_len(&self) -> usize {
        self.bytes().len()
    }

    /// Bytes held in the allocator (the whole listpack: it is one block).
    pub fn memory_usage(&self) -> usize {
        self.alloc_bytes()
    }

    /// Position of the first element.
    #[inline]
    pub fn first(&self) -> Option<usize> {
        self.view().first()
    }

    /// Position of the last element.
    #[inline]
    pub fn last(&self) -> Option<usize> {
        self.view().last()
    }

    /// Position of the element after the one at `pos`.
    #[inline]
    pub fn next(&self, pos: usize) -> Option<usize> {
        self.view().next(pos)
    }

    /// Position of the element before the one at `pos` (`pos` may also be the
    /// end marker's position, see [`Listpack::end`]).
    #[inline]
    pub fn prev(&self, pos: usize) -> Option<usize> {
        self.view().prev(pos)
    }

    /// The position one past the last element (where an append goes).
    #[inline]
    pub fn end(&self) -> usize {
        self.bytes().len() - 1
    }

    /// The element at `pos`.
    #[inline]
    pub fn get(&self, pos: usize) -> LpItem<'_> {
        self.view().get(pos)
    }

    /// Position of the element at `index`; negative indexes count from the
    /// end (-1 is the last). Walks from the nearer end.
    pub fn seek(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let idx = if index < 0 { len + index } else { index };
        if idx < 0 || idx >= len {
            return None;
        }
        let lp = self.view();
        if idx <= len / 2 {
            let mut p = lp.first()?;
            for _ in 0..idx {
                p = lp.next(p)?;
            }
            Some(p)
        } else {
            let mut p = lp.last()?;
            for _ in 0..(len - 1 - idx) {
                p = lp.prev(p)?;
            }
            Some(p)
        }
    }

    /// Elements front to back.
    pub fn iter(&self) -> Iter<'_> {
        let lp = self.view();
        Iter {
            lp,
            pos: lp.first(),
        }
    }

    /// Elements back to front.
    pub fn iter_rev(&self) -> RevIter<'_> {
        let lp = self.view();
        RevIter { lp, pos: lp.last() }
    }

    /// Finds the first element equal to `v` from `pos` on, comparing only
    /// every `skip + 1`-th element (skip 1 walks the fields of a field/value
    /// listpack).
    pub fn find(&self, pos: usize, v: &[u8], skip: usize) -> Option<usize> {
        let as_int = parse_canonical_int(v);
        let lp = self.view();
        let mut p = Some(pos);
        while let Some(cur) = p {
            let hit = match (lp.get(cur), as_int) {
                (LpItem::Int(i), Some(j)) => i == j,
                (LpItem::Str(s), None) => s == v,
                _ => false,
            };
            if hit {
                return Some(cur);
            }
            p = lp.next(cur);
            for _ in 0..skip {
                p = p.and_then(|q| lp.next(q));
            }
        }
        None
    }

    pub fn push_back(&mut self, v: &[u8]) {
        let end = self.end();
        self.insert_at(end, v);
    }

    pub fn push_front(&mut self, v: &[u8]) {
        self.insert_at(HEADER, v);
    }

    /// Appends an integer element.
    pub fn push_back_int(&mut self, i: i64) {
        let end = self.end();
        self.splice_element(end, 0, &Element::Int(encode_int(i)), 1);
    }

    /// Inserts `v` before the element at `pos` (or appends when `pos` is
    /// [`Listpack::end`]). Returns the new element's position (= `pos`).
    pub fn insert_at(&mut self, pos: usize, v: &[u8]) -> usize {
        self.splice_element(pos, 0, &Element::of(v), 1);
        pos
    }

    /// Replaces the element at `pos` with `v`; the position stays valid.
    pub fn replace(&mut self, pos: usize, v: &[u8]) {
        let old = self.entry_size_at(pos);
        self.splice_element(pos, old, &Element::of(v), 0);
    }

    /// Replaces the element at `pos` with an integer.
    pub fn replace_int(&mut self, pos: usize, i: i64) {
        let old = self.entry_size_at(pos);
        self.splice_element(pos, old, &Element::Int(encode_int(i)), 0);
    }

    /// Deletes the element at `pos`; returns the position of the element
    /// that followed it (the same offset), if any.
    pub fn delete(&mut self, pos: usize) -> Option<usize> {
        self.delete_range(pos, 1);
        (self.bytes().get(pos).is_some_and(|&b| b != EOF)).then_some(pos)
    }

    /// Deletes up to `count` elements starting at `pos`; returns how many.
    pub fn delete_range(&mut self, pos: usize, count: usize) -> usize {
        let b = self.bytes();
        let mut end = pos;
        let mut n = 0;
        while n < count && b.get(end).is_some_and(|&x| x != EOF) {
            match entry_size(b, end) {
                Some(s) => end += s,
                None => break,
            }
            n += 1;
        }
        if n > 0 {
            self.splice(pos, end - pos, 0);
            self.add_count(-(n as i64));
        }
        n
    }

    /// Keeps only elements `start..=stop` (indexes already in range).
    pub fn retain_range(&mut self, start: usize, stop: usize) {
        let len = self.len();
        if start > stop || start >= len {
            *self = Listpack::new();
            return;
        }
        if stop + 1 < len {
            if let Some(p) = self.seek(stop as i64 + 1) {
                self.delete_range(p, len - stop - 1);
            }
        }
        if start > 0 {
            self.delete_range(HEADER, start);
        }
    }

    /// Size of the entry at `pos`, backlen included.
    fn entry_size_at(&self, pos: usize) -> usize {
        entry_size(self.bytes(), pos).unwrap_or(0)
    }

    /// Replaces `remove` bytes at `pos` by `e`, adjusting the count by
    /// `count_delta`. The buffer grows to the allocator's bin for the new
    /// size: those bytes are held anyway, and the next small insert then
    /// needs no realloc.
    fn splice_element(&mut self, pos: usize, remove: usize, e: &Element<'_>, count_delta: i64) {
        e.write_into(self.splice(pos, remove, e.total_len()));
        self.add_count(count_delta);
    }

    fn add_count(&mut self, delta: i64) {
        if delta == 0 {
            return;
        }
        let b = self.bytes();
        let c = u16::from_le_bytes([b[4], b[5]]);
        let n = if c == COUNT_UNKNOWN {
            self.iter().count() as i64
        } else {
            c as i64 + delta
        };
        let stored = if n >= COUNT_UNKNOWN as i64 {
            COUNT_UNKNOWN
        } else {
            n as u16
        };
        self.tail_mut(4)[..2].copy_from_slice(&stored.to_le_bytes());
    }
}

/// Size of encoding+data of the entry at `pos`; None if it runs past the
/// buffer or uses an unknown encoding.
#[inline]
fn entry_body_len(buf: &[u8], pos: usize) -> Option<usize> {
    let b = *buf.get(pos)?;
    let len = if b & 0x80 == 0 {
        1
    } else if b & 0xc0 == 0x80 {
        1 + (b & 0x3f) as usize
    } else if b & 0xe0 == 0xc0 {
        2
    } else if b & 0xf0 == 0xe0 {
        let lo = *buf.get(pos + 1)?;
        2 + (((b & 0x0f) as usize) << 8 | lo as usize)
    } else {
        match b {
            0xf0 => {
                let l = buf.get(pos + 1..pos + 5)?;
                5usize.checked_add(u32::from_le_bytes(l.try_into().ok()?) as usize)?
            }
            0xf1 => 3,
            0xf2 => 4,
            0xf3 => 5,
            0xf4 => 9,
            _ => return None,
        }
    };
    (pos.checked_add(len)? <= buf.len()).then_some(len)
}

/// Size of the entry at `pos`, backlen included; None if it runs past the
/// buffer or uses an unknown encoding.
#[inline]
pub fn entry_size(buf: &[u8], pos: usize) -> Option<usize> {
    let body = entry_body_len(buf, pos)?;
    Some(body + backlen_size(body))
}

/// Reads the backlen whose last byte is at `at`.
#[inline]
fn read_backlen(buf: &[u8], at: usize) -> Option<usize> {
    let mut v = 0usize;
    let mut shift = 0;
    let mut i = at;
    loop {
        let b = *buf.get(i)?;
        v |= ((b & 127) as usize) << shift;
        if b & 128 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
        i = i.checked_sub(1)?;
    }
}

/// Decodes the entry at `pos`; None if it runs past the buffer.
#[inline]
fn decode(buf: &[u8], pos: usize) -> Option<LpItem<'_>> {
    let b = *buf.get(pos)?;
    let int = |n: usize| -> Option<i64> {
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(buf.get(pos + 1..pos + 1 + n)?);
        // Sign-extend from n bytes.
        let shift = 64 - 8 * n as u32;
        Some((i64::from_le_bytes(v) << shift) >> shift)
    };
    Some(if b & 0x80 == 0 {
        LpItem::Int(b as i64)
    } else if b & 0xc0 == 0x80 {
        LpItem::Str(buf.get(pos + 1..pos + 1 + (b & 0x3f) as usize)?)
    } else if b & 0xe0 == 0xc0 {
        let u = ((b & 0x1f) as i64) << 8 | *buf.get(pos + 1)? as i64;
        LpItem::Int((u << 51) >> 51)
    } else if b & 0xf0 == 0xe0 {
        let l = ((b & 0x0f) as usize) << 8 | *buf.get(pos + 1)? as usize;
        LpItem::Str(buf.get(pos + 2..pos + 2 + l)?)
    } else {
        match b {
            0xf0 => {
                let l = u32::from_le_bytes(buf.get(pos + 1..pos + 5)?.try_into().ok()?) as usize;
                LpItem::Str(buf.get(pos + 5..pos + 5 + l)?)
            }
            0xf1 => LpItem::Int(int(2)?),
            0xf2 => LpItem::Int(int(3)?),
            0xf3 => LpItem::Int(int(4)?),
            0xf4 => LpItem::Int(int(8)?),
            _ => return None,
        }
    })
}

pub struct Iter<'a> {
    lp: Lp<'a>,
    pos: Option<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpItem<'a>;
    #[inline]
    fn next(&mut self) -> Option<LpItem<'a>> {
        let p = self.pos?;
        self.pos = self.lp.next(p);
        Some(self.lp.get(p))
    }
}

pub struct RevIter<'a> {
    lp: Lp<'a>,
    pos: Option<usize>,
}

impl<'a> Iterator for RevIter<'a> {
    type Item = LpItem<'a>;
    fn next(&mut self) -> Option<LpItem<'a>> {
        let p = self.pos?;
        self.pos = self.lp.prev(p);
        Some(self.lp.get(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(LpItem::to_vec).collect()
    }

    #[test]
    fn empty_listpack_is_seven_bytes() {
        let lp = Listpack::new();
        assert_eq!(lp.as_bytes(), &[7, 0, 0, 0, 0, 0, 0xff]);
        assert_eq!(lp.len(), 0);
        assert!(lp.first().is_none() && lp.last().is_none());
    }

    #[test]
    fn encodings_match_valkey_bytes() {
        // Each case: element, its encoding+data+backlen bytes.
        let cases: &[(&[u8], &[u8])] = &[
            (b"0", &[0x00, 0x01]),
            (b"127", &[0x7f, 0x01]),
            (b"128", &[0xc0, 0x80, 0x02]),
            (b"-1", &[0xdf, 0xff, 0x02]),
            (b"-4096", &[0xd0, 0x00, 0x02]),
            (b"4096", &[0xf1, 0x00, 0x10, 0x03]),
            (b"-32768", &[0xf1, 0x00, 0x80, 0x03]),
            (b"8388607", &[0xf2, 0xff, 0xff, 0x7f, 0x04]),
            (b"2147483647", &[0xf3, 0xff, 0xff, 0xff, 0x7f, 0x05]),
            (
                b"-9223372036854775808",
                &[0xf4, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x09],
            ),
            (b"abc", &[0x83, b'a', b'b', b'c', 0x04]),
            (b"01", &[0x82, b'0', b'1', 0x03]),
            (b"-0", &[0x82, b'-', b'0', 0x03]),
        ];
        for (v, bytes) in cases {
            let lp = Listpack::from_items([*v]);
            assert_eq!(&lp.as_bytes()[HEADER..lp.byte_len() - 1], *bytes, "{v:?}");
            assert_eq!(items(&lp), vec![v.to_vec()]);
            assert!(Listpack::from_bytes(lp.as_bytes()).is_some());
        }
    }

    #[test]
    fn long_strings_and_multibyte_backlens() {
        for n in [63usize, 64, 127, 128, 4095, 4096, 16_383, 20_000] {
            let v = vec![b'x'; n];
            let mut lp = Listpack::from_items([&b"a"[..], &v, b"z"]);
            assert_eq!(items(&lp), vec![b"a".to_vec(), v.clone(), b"z".to_vec()]);
            let back: Vec<_> = lp.iter_rev().map(LpItem::to_vec).collect();
            assert_eq!(back, vec![b"z".to_vec(), v.clone(), b"a".to_vec()]);
            assert!(Listpack::from_bytes(lp.as_bytes()).is_some());
            let p = lp.seek(1).unwrap();
            lp.delete(p);
            assert_eq!(items(&lp), vec![b"a".to_vec(), b"z".to_vec()]);
        }
    }

    #[test]
    fn edit_operations_keep_the_format() {
        let mut lp = Listpack::new();
        lp.push_back(b"b");
        lp.push_front(b"a");
        lp.push_back(b"100000");
        lp.push_back_int(-5);
        assert_eq!(lp.len(), 4);
        let p = lp.seek(-1).unwrap();
        assert_eq!(lp.get(p), LpItem::Int(-5));
        let p = lp.seek(2).unwrap();
        lp.replace(p, b"hello world");
        let p = lp.seek(1).unwrap();
        lp.insert_at(p, b"mid");
        assert_eq!(
            items(&lp),
            ["a", "mid", "b", "hello world", "-5"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect::<Vec<_>>()
        );
        let f = lp.find(lp.first().unwrap(), b"-5", 0).unwrap();
        assert_eq!(lp.get(f), LpItem::Int(-5));
        assert!(lp.find(lp.first().unwrap(), b"mid", 1).is_none());
        assert!(lp.find(lp.first().unwrap(), b"mid", 0).is_some());
        lp.retain_range(1, 2);
        assert_eq!(items(&lp), vec![b"mid".to_vec(), b"b".to_vec()]);
        assert!(Listpack::from_bytes(lp.as_bytes()).is_some());
        assert_eq!(lp.as_bytes().len(), lp.byte_len());
    }

    #[test]
    fn corrupt_buffers_are_rejected() {
        let good = Listpack::from_items([&b"abc"[..], b"12"])
            .as_bytes()
            .to_vec();
        for cut in 0..good.len() {
            assert!(Listpack::from_bytes(&good[..cut]).is_none());
        }
        let mut bad = good.clone();
        bad[HEADER] = 0x8f; // string length past the end
        assert!(Listpack::from_bytes(&bad).is_none());
        let mut bad = good.clone();
        bad[4] = 3; // wrong count
        assert!(Listpack::from_bytes(&bad).is_none());
        let mut bad = good;
        bad[HEADER + 4] = 9; // wrong backlen
        assert!(Listpack::from_bytes(&bad).is_none());
    }

    #[test]
    fn canonical_integers() {
        assert_eq!(parse_canonical_int(b"0"), Some(0));
        assert_eq!(parse_canonical_int(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_canonical_int(b"9223372036854775808"), None);
        for s in [&b""[..], b"-", b"+1", b" 1", b"1 ", b"00", b"-0", b"1.0"] {
            assert_eq!(parse_canonical_int(s), None, "{s:?}");
        }
        assert!(LpItem::Int(-12).eq_bytes(b"-12"));
        assert!(!LpItem::Int(12).eq_bytes(b"012"));
        assert_eq!(LpItem::Int(-120).str_len(), 4);
    }
}
