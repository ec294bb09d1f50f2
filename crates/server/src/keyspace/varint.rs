//! The length prefix of key records, collection members and sorted-set
//! leaves: LEB128 (7 bits per byte, high bit = more follows), 1 byte for
//! lengths below 128.

/// Bytes `v` takes.
#[inline]
pub fn len(mut v: usize) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Writes `v` at the start of `out` (at least `len(v)` bytes); returns the
/// bytes written.
#[inline]
pub fn write(out: &mut [u8], mut v: usize) -> usize {
    let mut i = 0;
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        out[i] = b | if v != 0 { 0x80 } else { 0 };
        i += 1;
        if v == 0 {
            return i;
        }
    }
}

/// Reads the varint at the start of `buf`: (value, bytes it took).
#[inline]
pub fn read(buf: &[u8]) -> (usize, usize) {
    let (mut v, mut shift, mut i) = (0usize, 0, 0);
    loop {
        let b = buf[i];
        i += 1;
        v |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (v, i);
        }
        shift += 7;
    }
}

/// [`read`] through a raw pointer, for allocations whose size is only
/// known after reading their length prefixes.
///
/// # Safety
/// `p` points at a complete varint written by [`write`]; only its own
/// bytes are read.
#[inline]
pub unsafe fn read_raw(p: *const u8) -> (usize, usize) {
    let (mut v, mut shift, mut i) = (0usize, 0, 0);
    loop {
        // SAFETY: every byte read belongs to the varint (the last one has
        // its high bit clear), per the caller's contract.
        let b = unsafe { *p.add(i) };
        i += 1;
        v |= ((b & 0x7f) as usize) << shift;
        if b & 0x80 == 0 {
            return (v, i);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for v in [0usize, 1, 127, 128, 300, 16_383, 16_384, 1 << 40] {
            let mut buf = [0u8; 10];
            let n = write(&mut buf, v);
            assert_eq!(n, len(v));
            assert_eq!(read(&buf), (v, n));
            // SAFETY: buf holds the varint just written.
            assert_eq!(unsafe { read_raw(buf.as_ptr()) }, (v, n));
        }
    }
}
