//! LZF compression, compatible with liblzf's format (what Valkey uses for
//! compressed quicklist nodes and for compressed strings in RDB files).
//!
//! The stream is a sequence of chunks, each introduced by a control byte:
//!
//! ```text
//! 000LLLLL <L+1 literal bytes>          literal run of 1..=32 bytes
//! LLLooooo oooooooo                     back reference, L in 1..=6
//! 111ooooo LLLLLLLL oooooooo            back reference, length 7 + L
//! ```
//!
//! A back reference copies `length + 2` bytes starting `offset + 1` bytes
//! behind the current output position (13-bit offset, so at most 8192 back);
//! source and destination may overlap, which is how runs are encoded.
//!
//! Only the decoder has to agree with liblzf byte for byte in meaning; the
//! encoder is our own (any valid stream decodes the same everywhere).

/// Longest literal run one control byte announces.
const MAX_LIT: usize = 32;
/// Farthest back a reference may point (the encoded offset is this minus 1).
const MAX_OFF: usize = 1 << 13;
/// Longest match one back reference can carry: 2 + 7 + 255.
const MAX_REF: usize = 2 + 7 + 255;
/// Shortest match worth a back reference.
const MIN_MATCH: usize = 3;
/// Hash table size (log2). 8 K slots cover a quicklist node (≤ 64 KiB) well
/// and keep the table small enough to clear on every call.
const HLOG: u32 = 13;

/// Where a 3-byte sequence hashes to.
#[inline]
fn hash3(a: u8, b: u8, c: u8) -> usize {
    let v = u32::from(a) | u32::from(b) << 8 | u32::from(c) << 16;
    (v.wrapping_mul(0x9E37_79B1) >> (32 - HLOG)) as usize
}

/// Output cursor that refuses to write past the caller's buffer.
struct Out<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Out<'_> {
    #[inline]
    fn put(&mut self, b: u8) -> Option<()> {
        *self.buf.get_mut(self.pos)? = b;
        self.pos += 1;
        Some(())
    }

    #[inline]
    fn put_slice(&mut self, s: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(s.len())?;
        self.buf.get_mut(self.pos..end)?.copy_from_slice(s);
        self.pos = end;
        Some(())
    }
}

/// Writes the pending literals `lits` as runs of at most 32 bytes.
fn flush_literals(out: &mut Out<'_>, lits: &[u8]) -> Option<()> {
    for run in lits.chunks(MAX_LIT) {
        out.put((run.len() - 1) as u8)?;
        out.put_slice(run)?;
    }
    Some(())
}

/// Compresses `input` into `out`. Returns the compressed length, or None if
/// it does not fit in `out` (callers pass a buffer smaller than the input to
/// ask "only if it gets smaller", as Valkey does). Empty input compresses to
/// nothing.
pub fn compress(input: &[u8], out: &mut [u8]) -> Option<usize> {
    // Input position + 1 of the last occurrence of each hashed 3-byte
    // sequence (0 = none). The table is kept per thread and never cleared:
    // every candidate is verified (before `ip`, within reach, same bytes),
    // so a stale slot left by an earlier input only costs a missed match,
    // while zeroing 32 KiB per call would dominate compressing the many
    // short strings of an RDB save.
    TABLE.with(|t| compress_with(input, out, &mut t.borrow_mut()))
}

thread_local! {
    static TABLE: std::cell::RefCell<Vec<u32>> = std::cell::RefCell::new(vec![0u32; 1 << HLOG]);
}

fn compress_with(input: &[u8], out: &mut [u8], table: &mut [u32]) -> Option<usize> {
    let mut o = Out { buf: out, pos: 0 };
    let n = input.len();
    let mut lit_start = 0;
    let mut ip = 0;
    while ip + MIN_MATCH <= n {
        let h = hash3(input[ip], input[ip + 1], input[ip + 2]);
        let cand = table[h] as usize;
        table[h] = (ip + 1) as u32;
        // Positions are stored as u32: beyond 4 GiB a slot may name a wrong
        // (even later) position, so check it before trusting it.
        if cand != 0 && cand - 1 < ip {
            let r = cand - 1;
            let dist = ip - r;
            if dist <= MAX_OFF && input[r..r + MIN_MATCH] == input[ip..ip + MIN_MATCH] {
                let max = (n - ip).min(MAX_REF);
                let mut len = MIN_MATCH;
                while len < max && input[r + len] == input[ip + len] {
                    len += 1;
                }
                flush_literals(&mut o, &input[lit_start..ip])?;
                let off = dist - 1;
                let l = len - 2;
                if l < 7 {
                    o.put(((l as u8) << 5) | (off >> 8) as u8)?;
                } else {
                    o.put((7 << 5) | (off >> 8) as u8)?;
                    o.put((l - 7) as u8)?;
                }
                o.put(off as u8)?;
                // Index the positions inside the match too, so the next
                // repetition finds them (cheap, and it helps runs a lot).
                let stop = (ip + len).min(n.saturating_sub(MIN_MATCH - 1));
                for p in ip + 1..stop {
                    let h = hash3(input[p], input[p + 1], input[p + 2]);
                    table[h] = (p + 1) as u32;
                }
                ip += len;
                lit_start = ip;
                continue;
            }
        }
        ip += 1;
    }
    flush_literals(&mut o, &input[lit_start..])?;
    Some(o.pos)
}

/// Decompresses `input`, which must expand to exactly `out_len` bytes.
/// Any malformed stream (reference before the start, truncated chunk,
/// wrong total length) gives None.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    // A 3-byte reference expands to at most 264 bytes, the best ratio the
    // format has: a claimed length beyond that is corrupt, and refusing it
    // early avoids allocating whatever a corrupt header asks for.
    if out_len > input.len().saturating_mul(MAX_REF / 3 + 1) {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(ip..ip.checked_add(run)?)?;
            if out.len() + run > out_len {
                return None;
            }
            out.extend_from_slice(lit);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let off = ((ctrl & 0x1f) << 8 | *input.get(ip)? as usize) + 1;
            ip += 1;
            let len = len + 2;
            if off > out.len() || out.len() + len > out_len {
                return None;
            }
            let from = out.len() - off;
            if off >= len {
                out.extend_from_within(from..from + len);
            } else {
                // Overlapping copy: each byte may be one just written.
                for k in 0..len {
                    let b = out[from + k];
                    out.push(b);
                }
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(data: &[u8]) -> Option<usize> {
        let mut out = vec![0u8; data.len() + data.len() / 16 + 64];
        let n = compress(data, &mut out).expect("fits in a generous buffer");
        assert_eq!(decompress(&out[..n], data.len()).as_deref(), Some(data));
        Some(n)
    }

    #[test]
    fn decodes_liblzf_streams() {
        // "aaaaaaaaaa" as liblzf encodes it: literal 'a', then a back
        // reference of length 9 at distance 1 (ctrl 7<<5, extra 0, off 0)
        // would be 10 bytes; liblzf emits: 00 61 e0 00 00 -> 1 + 9.
        assert_eq!(
            decompress(&[0x00, b'a', 0xe0, 0x00, 0x00], 10).unwrap(),
            b"aaaaaaaaaa"
        );
        // Short reference form: literal "abc", then "abc" again (len 3 ->
        // L=1, offset 2).
        assert_eq!(
            decompress(&[0x02, b'a', b'b', b'c', 0x20, 0x02], 6).unwrap(),
            b"abcabc"
        );
    }

    #[test]
    fn compresses_repetitive_data() {
        let data = b"hello hello hello hello hello hello hello hello hello".repeat(20);
        let n = roundtrip(&data).unwrap();
        assert!(n < data.len() / 5, "{n}");
        let zeros = vec![0u8; 100_000];
        let n = roundtrip(&zeros).unwrap();
        // 264 bytes per 3-byte reference at best.
        assert!(n <= 100_000 / 264 * 3 + 8, "{n}");
        roundtrip(b"").unwrap();
        roundtrip(b"a").unwrap();
        roundtrip(b"ab").unwrap();
        roundtrip(b"abcabc").unwrap();
    }

    #[test]
    fn refuses_small_output_buffers() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 7919 % 251) as u8).collect();
        let mut out = vec![0u8; data.len() - 8];
        assert_eq!(compress(&data, &mut out), None);
        let mut tiny = [0u8; 0];
        assert_eq!(compress(b"x", &mut tiny), None);
        assert_eq!(compress(b"", &mut tiny), Some(0));
    }

    #[test]
    fn corrupt_streams_give_none() {
        // Reference before the start of the output.
        assert_eq!(decompress(&[0x20, 0x00], 3), None);
        // Truncated literal run.
        assert_eq!(decompress(&[0x05, b'a'], 6), None);
        // Truncated reference.
        assert_eq!(decompress(&[0x00, b'a', 0xe0], 10), None);
        assert_eq!(decompress(&[0x00, b'a', 0xe0, 0x00], 10), None);
        // Wrong expected length, both ways.
        assert_eq!(decompress(&[0x00, b'a', 0xe0, 0x00, 0x00], 9), None);
        assert_eq!(decompress(&[0x00, b'a', 0xe0, 0x00, 0x00], 11), None);
        // Absurd claimed length.
        assert_eq!(decompress(&[0x00, b'a'], usize::MAX), None);
        assert_eq!(decompress(&[], 0), Some(Vec::new()));
    }

    proptest! {
        #[test]
        fn roundtrips_anything(data in proptest::collection::vec(0u8..4, 0..3000)) {
            roundtrip(&data);
        }

        #[test]
        fn roundtrips_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            roundtrip(&data);
        }

        #[test]
        fn never_panics_on_garbage(data in proptest::collection::vec(any::<u8>(), 0..200), len in 0usize..5000) {
            let _ = decompress(&data, len);
        }
    }
}
