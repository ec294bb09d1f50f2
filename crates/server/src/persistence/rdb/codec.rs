//! RDB primitives: lengths, strings (with their integer and LZF encodings)
//! and doubles, read from a byte slice and written to a byte vector.
//!
//! A whole file is read into memory and parsed from the slice: every read
//! is bounds-checked and fails with the offset it stopped at, so a corrupt
//! or truncated file yields an error naming where, never a panic and never
//! a huge allocation (a length is checked against the bytes that remain
//! before anything is allocated for it).

use crate::keyspace::list::lzf;
use std::borrow::Cow;
use std::fmt;

/// Why a file or payload could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    /// Byte offset in the file (or payload) where reading stopped.
    pub offset: usize,
    pub msg: String,
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.msg, self.offset)
    }
}

impl std::error::Error for RdbError {}

pub type Result<T> = std::result::Result<T, RdbError>;

/// Length-prefix markers (the top two bits of the first byte).
const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_ENCVAL: u8 = 3;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;

/// Special string encodings (after an `LEN_ENCVAL` marker).
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;

/// A length prefix as read: a plain length or a special string encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

/// A cursor over an RDB file or payload held in memory.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Added to positions in errors: a reader over part of a file reports
    /// offsets in the file.
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// Current offset, counted from the start of the whole input.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The bytes from `start` (an offset from [`Reader::offset`]) to here.
    pub fn since(&self, start: usize) -> &'a [u8] {
        &self.buf[start - self.base..self.pos]
    }

    /// An error at the current offset.
    pub fn err<T>(&self, msg: impl Into<String>) -> Result<T> {
        Err(RdbError {
            offset: self.offset(),
            msg: msg.into(),
        })
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return self.err(format!(
                "Unexpected EOF reading {n} bytes ({} left)",
                self.remaining()
            ));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub fn le_u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub fn le_u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub fn le_u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }

    pub fn be_u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn be_u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_be_bytes)
    }

    /// A length prefix, or the marker of a specially encoded string.
    pub fn len_or_enc(&mut self) -> Result<Len> {
        let b = self.u8()?;
        Ok(match b >> 6 {
            LEN_6BIT => Len::Plain((b & 0x3f) as u64),
            LEN_14BIT => Len::Plain((((b & 0x3f) as u64) << 8) | self.u8()? as u64),
            LEN_ENCVAL => Len::Encoded(b & 0x3f),
            _ => match b {
                LEN_32BIT => Len::Plain(self.be_u32()? as u64),
                LEN_64BIT => Len::Plain(self.be_u64()?),
                _ => return self.err(format!("Unknown length encoding {b} in rdbLoadLen()")),
            },
        })
    }

    /// A plain length.
    pub fn len(&mut self) -> Result<u64> {
        match self.len_or_enc()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => self.err("Unexpected encoded length"),
        }
    }

    /// A count of things that each take at least `min_bytes` bytes: checked
    /// against what is left, so a corrupt count cannot make the caller
    /// reserve gigabytes.
    pub fn count(&mut self, min_bytes: usize) -> Result<usize> {
        let n = self.len()?;
        if n.saturating_mul(min_bytes.max(1) as u64) > self.remaining() as u64 {
            return self.err(format!("Length {n} exceeds the remaining input"));
        }
        Ok(n as usize)
    }

    /// A string in any of its encodings: integers come back as their
    /// decimal text, LZF is decompressed.
    pub fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        match self.len_or_enc()? {
            Len::Plain(n) => {
                if n > self.remaining() as u64 {
                    return self.err(format!("String length {n} exceeds the remaining input"));
                }
                Ok(Cow::Borrowed(self.bytes(n as usize)?))
            }
            Len::Encoded(enc) => match self.encoded_int(enc)? {
                Some(v) => Ok(Cow::Owned(v.to_string().into_bytes())),
                None => self.lzf().map(Cow::Owned),
            },
        }
    }

    /// A string, with the integer encodings kept as integers (string
    /// values: an integer-encoded string loads as an int-encoded value).
    pub fn string_or_int(&mut self) -> Result<StrOrInt<'a>> {
        let at = self.pos;
        if let Len::Encoded(enc) = self.len_or_enc()? {
            if let Some(v) = self.encoded_int(enc)? {
                return Ok(StrOrInt::Int(v));
            }
        }
        self.pos = at;
        self.string().map(StrOrInt::Str)
    }

    /// The integer of an `ENC_INT*` string, None for LZF.
    fn encoded_int(&mut self, enc: u8) -> Result<Option<i64>> {
        Ok(Some(match enc {
            ENC_INT8 => self.u8()? as i8 as i64,
            ENC_INT16 => self.le_u16()? as i16 as i64,
            ENC_INT32 => self.le_u32()? as i32 as i64,
            ENC_LZF => return Ok(None),
            _ => return self.err(format!("Unknown RDB string encoding type {enc}")),
        }))
    }

    fn lzf(&mut self) -> Result<Vec<u8>> {
        let clen = self.len()?;
        let len = self.len()?;
        if clen > self.remaining() as u64 {
            return self.err("LZF payload exceeds the remaining input");
        }
        // LZF expands at most ~(256+2)/2 per input byte pair: a claimed
        // length beyond that is corrupt, and refusing it bounds the buffer.
        if len > clen.saturating_mul(130) + 64 {
            return self.err(format!(
                "LZF length {len} is impossible for {clen} input bytes"
            ));
        }
        let src = self.bytes(clen as usize)?;
        match lzf::decompress(src, len as usize) {
            Some(v) if v.len() == len as usize => Ok(v),
            _ => self.err("Invalid LZF compressed string"),
        }
    }

    /// A double in the binary form (8 bytes little endian, RDB ≥ 8).
    pub fn binary_double(&mut self) -> Result<f64> {
        self.le_u64().map(f64::from_bits)
    }

    /// A double in the old text form: a length byte then ASCII, with 253,
    /// 254 and 255 meaning NaN, +inf and -inf.
    pub fn text_double(&mut self) -> Result<f64> {
        let n = self.u8()?;
        match n {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            _ => {
                let s = self.bytes(n as usize)?;
                match std::str::from_utf8(s)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                {
                    Some(v) => Ok(v),
                    None => self.err("Invalid double value"),
                }
            }
        }
    }

    /// A unix time in milliseconds (8 bytes little endian).
    pub fn millis(&mut self) -> Result<i64> {
        self.le_u64().map(|v| v as i64)
    }
}

/// A string read by [`Reader::string_or_int`].
pub enum StrOrInt<'a> {
    Str(Cow<'a, [u8]>),
    Int(i64),
}

/// Writes a length prefix.
pub fn write_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(((LEN_14BIT << 6) as u64 | (n >> 8)) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Writes an integer in the smallest `ENC_INT*` form, if it has one.
pub fn write_int_encoded(out: &mut Vec<u8>, v: i64) -> bool {
    let enc = LEN_ENCVAL << 6;
    if let Ok(b) = i8::try_from(v) {
        out.extend_from_slice(&[enc | ENC_INT8, b as u8]);
    } else if let Ok(h) = i16::try_from(v) {
        out.push(enc | ENC_INT16);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push(enc | ENC_INT32);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// Writes a string as Valkey's `rdbSaveRawString` does: short canonical
/// integers as integers, strings over 20 bytes LZF-compressed when
/// `compress` and compression saves at least 4 bytes, else length + bytes.
pub fn write_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = crate::keyspace::listpack::parse_canonical_int(s) {
            if write_int_encoded(out, v) {
                return;
            }
        }
    }
    if compress && s.len() > 20 && write_lzf(out, s) {
        return;
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Writes an integer string value (`OBJ_ENCODING_INT`): the integer form
/// when it fits 32 bits, else its decimal text.
pub fn write_int_string(out: &mut Vec<u8>, v: i64) {
    if !write_int_encoded(out, v) {
        let text = v.to_string();
        write_len(out, text.len() as u64);
        out.extend_from_slice(text.as_bytes());
    }
}

fn write_lzf(out: &mut Vec<u8>, s: &[u8]) -> bool {
    // Valkey needs at least 4 bytes saved for compression to be worth it.
    if s.len() <= 4 {
        return false;
    }
    let mut buf = vec![0u8; s.len() - 4];
    let Some(n) = lzf::compress(s, &mut buf) else {
        return false;
    };
    if n == 0 {
        return false;
    }
    out.push((LEN_ENCVAL << 6) | ENC_LZF);
    write_len(out, n as u64);
    write_len(out, s.len() as u64);
    out.extend_from_slice(&buf[..n]);
    true
}

pub fn write_binary_double(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_le_bytes());
}

pub fn write_millis(out: &mut Vec<u8>, ms: i64) {
    out.extend_from_slice(&(ms as u64).to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip_len(n: u64) {
        let mut out = Vec::new();
        write_len(&mut out, n);
        let mut r = Reader::new(&out);
        assert_eq!(r.len().unwrap(), n);
        assert!(r.is_empty());
    }

    #[test]
    fn lengths() {
        for n in [
            0,
            1,
            63,
            64,
            16383,
            16384,
            u32::MAX as u64,
            u32::MAX as u64 + 1,
        ] {
            roundtrip_len(n);
        }
        let mut out = Vec::new();
        write_len(&mut out, 300);
        assert_eq!(out, [0x41, 0x2c]);
        out.clear();
        write_len(&mut out, 70000);
        assert_eq!(out, [0x80, 0, 1, 0x11, 0x70]);
    }

    #[test]
    fn strings_pick_valkeys_encodings() {
        let mut out = Vec::new();
        write_string(&mut out, b"12", true);
        assert_eq!(out, [0xc0, 12]);
        out.clear();
        write_string(&mut out, b"-300", true);
        assert_eq!(out, [0xc1, 0xd4, 0xfe]);
        out.clear();
        write_string(&mut out, b"012", true);
        assert_eq!(out, [3, b'0', b'1', b'2']);
        out.clear();
        write_string(&mut out, b"99999999999", true);
        assert_eq!(&out[..1], [11]);
        let long = vec![b'a'; 100];
        out.clear();
        write_string(&mut out, &long, true);
        assert_eq!(out[0], 0xc3);
        let mut r = Reader::new(&out);
        assert_eq!(&r.string().unwrap()[..], &long[..]);
        assert!(r.is_empty());
        out.clear();
        write_string(&mut out, &long, false);
        assert_eq!(out.len(), 102);
    }

    #[test]
    fn int_strings_read_back_as_text() {
        for v in [
            0i64,
            -1,
            127,
            -128,
            32767,
            -32768,
            1 << 31,
            i64::MIN,
            i64::MAX,
        ] {
            let mut out = Vec::new();
            write_int_string(&mut out, v);
            let mut r = Reader::new(&out);
            assert_eq!(&r.string().unwrap()[..], v.to_string().as_bytes());
        }
    }

    #[test]
    fn truncated_and_corrupt_input_errs_with_offset() {
        let mut r = Reader::new(&[0x05, b'a', b'b']);
        let e = r.string().unwrap_err();
        assert_eq!(e.offset, 1);
        let mut r = Reader::new(&[0x80, 0xff, 0xff, 0xff, 0xff]);
        assert!(r.count(1).is_err());
        // LZF claiming a giant output.
        let mut r = Reader::new(&[0xc3, 0x02, 0x80, 0x7f, 0xff, 0xff, 0xff, 0, 0]);
        assert!(r.string().is_err());
        let mut r = Reader::new(&[0xc7]);
        assert!(r.string().is_err());
    }

    #[test]
    fn doubles() {
        let mut out = Vec::new();
        write_binary_double(&mut out, 1.5);
        assert_eq!(Reader::new(&out).binary_double().unwrap(), 1.5);
        assert_eq!(Reader::new(&[254]).text_double().unwrap(), f64::INFINITY);
        assert_eq!(
            Reader::new(&[255]).text_double().unwrap(),
            f64::NEG_INFINITY
        );
        assert!(Reader::new(&[253]).text_double().unwrap().is_nan());
        assert_eq!(Reader::new(b"\x043.25").text_double().unwrap(), 3.25);
    }
}
