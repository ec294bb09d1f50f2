//! CRC-64 as Redis computes it: the Jones polynomial `0xad93d23594c935a9`,
//! reflected input and output, initial value 0 and no final xor. It ends
//! every RDB file and DUMP payload, so its result must match Redis's bit for
//! bit (`crc64(0, b"123456789") == 0xe9c6d914c4b8d9ca`).
//!
//! It runs over every byte of every RDB saved or loaded, so it is computed
//! with tables built at compile time ("slicing"): one step folds 8 or 16
//! input bytes with independent table lookups instead of a chain of
//! dependent ones. A step still depends on the previous one, so a single
//! stream is bound by that latency; long inputs are therefore cut into
//! three lanes computed side by side (three independent chains keep the
//! CPU's load units busy, about 3x the speed) and the three results are
//! joined with the CRC's algebra: appending `n` bytes to a message
//! multiplies its CRC by `x^(8n)` modulo the polynomial, so
//! `crc(a ++ b) = crc(a) * x^(8|b|) + crc(b)`.

/// The polynomial in reflected (LSB-first) form: the bit reversal of
/// `0xad93d23594c935a9`, which is what a reflected CRC shifts out against.
const POLY_REFLECTED: u64 = 0x95ac_9329_ac4b_c9b5;

/// Bytes folded per step of the single-stream loop.
const SLICES: usize = 16;

/// `TABLES[0][b]` is the CRC register after shifting byte `b` through an
/// all-zero register (the classic byte-at-a-time table); `TABLES[k][b]` is
/// the same byte followed by `k` zero bytes, which is what lets the main loop
/// handle byte `i` of a 16-byte block with table `15 - i`.
static TABLES: [[u64; 256]; SLICES] = build_tables();

const fn build_tables() -> [[u64; 256]; SLICES] {
    let mut t = [[0u64; 256]; SLICES];
    let mut b = 0;
    while b < 256 {
        let mut crc = b as u64;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        t[0][b] = crc;
        b += 1;
    }
    let mut k = 1;
    while k < SLICES {
        let mut b = 0;
        while b < 256 {
            // One more zero byte after the entry of table k - 1.
            let prev = t[k - 1][b];
            t[k][b] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    t
}

/// Inputs at least this long are computed in three lanes: below it the
/// cost of joining them (a few hundred cycles) outweighs the gain.
const LANES_MIN: usize = 4096;

/// `a * b mod P` in the reflected representation, where bit 63 is the
/// coefficient of `x^0`: shifting right multiplies by `x`, and a bit
/// falling off the end is reduced by the polynomial. Branch-free, as the
/// bits of `a` are unpredictable.
const fn mul_mod(a: u64, mut b: u64) -> u64 {
    let mut p = 0u64;
    let mut i = 0;
    while i < 64 {
        p ^= b & ((a >> (63 - i)) & 1).wrapping_neg();
        b = (b >> 1) ^ (POLY_REFLECTED & (b & 1).wrapping_neg());
        i += 1;
    }
    p
}

/// `X2N[k] = x^(2^k) mod P`, for exponentiation by squaring.
static X2N: [u64; 64] = build_x2n();

const fn build_x2n() -> [u64; 64] {
    let mut t = [0u64; 64];
    t[0] = 1 << 62; // x^1
    let mut k = 1;
    while k < 64 {
        t[k] = mul_mod(t[k - 1], t[k - 1]);
        k += 1;
    }
    t
}

/// `x^(8n) mod P`: what the CRC of a message is multiplied by when `n`
/// bytes are appended to it.
fn x_pow_bytes(n: u64) -> u64 {
    let mut p = 1u64 << 63; // x^0
    let mut m = n << 3;
    let mut k = 0;
    while m != 0 {
        if m & 1 != 0 {
            p = mul_mod(X2N[k], p);
        }
        m >>= 1;
        k += 1;
    }
    p
}

/// One slicing-by-8 step: the register after 8 more bytes.
#[inline(always)]
fn step8(crc: u64, chunk: &[u8]) -> u64 {
    let t = &TABLES;
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    let a = (u64::from_le_bytes(w) ^ crc).to_le_bytes();
    t[7][a[0] as usize]
        ^ t[6][a[1] as usize]
        ^ t[5][a[2] as usize]
        ^ t[4][a[3] as usize]
        ^ t[3][a[4] as usize]
        ^ t[2][a[5] as usize]
        ^ t[1][a[6] as usize]
        ^ t[0][a[7] as usize]
}

/// Extends `crc` (0 to start) over `data`: `crc64(crc64(0, a), b)` equals
/// `crc64(0, a ++ b)`, so a file can be checksummed as it streams out.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    if data.len() < LANES_MIN {
        return crc64_serial(crc, data);
    }
    // Three lanes of equal length (a multiple of 8), the rest after them.
    let lane = data.len() / 3 / 8 * 8;
    let (a, rest) = data.split_at(lane);
    let (b, rest) = rest.split_at(lane);
    let (c, tail) = rest.split_at(lane);
    // Lane a continues `crc`; lanes b and c start from 0, which is what
    // makes them joinable: crc(a ++ b) = crc(a) * x^(8|b|) + crc(b).
    let (mut x, mut y, mut z) = (crc, 0u64, 0u64);
    for ((p, q), r) in a
        .chunks_exact(8)
        .zip(b.chunks_exact(8))
        .zip(c.chunks_exact(8))
    {
        x = step8(x, p);
        y = step8(y, q);
        z = step8(z, r);
    }
    let k = x_pow_bytes(lane as u64);
    let joined = mul_mod(k, mul_mod(k, x) ^ y) ^ z;
    crc64_serial(joined, tail)
}

/// One stream, 16 bytes a step.
fn crc64_serial(mut crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut chunks = data.chunks_exact(SLICES);
    for c in &mut chunks {
        let mut b = [0u8; SLICES];
        b.copy_from_slice(c);
        // The register is xored into the first 8 bytes; the last 8 enter
        // through their own tables unchanged.
        let mut lo = [0u8; 8];
        lo.copy_from_slice(&b[..8]);
        let a = (u64::from_le_bytes(lo) ^ crc).to_le_bytes();
        crc = t[15][a[0] as usize]
            ^ t[14][a[1] as usize]
            ^ t[13][a[2] as usize]
            ^ t[12][a[3] as usize]
            ^ t[11][a[4] as usize]
            ^ t[10][a[5] as usize]
            ^ t[9][a[6] as usize]
            ^ t[8][a[7] as usize]
            ^ t[7][b[8] as usize]
            ^ t[6][b[9] as usize]
            ^ t[5][b[10] as usize]
            ^ t[4][b[11] as usize]
            ^ t[3][b[12] as usize]
            ^ t[2][b[13] as usize]
            ^ t[1][b[14] as usize]
            ^ t[0][b[15] as usize];
    }
    for &b in chunks.remainder() {
        crc = t[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition, one bit at a time: what the tables must agree with.
    fn crc64_bitwise(mut crc: u64, data: &[u8]) -> u64 {
        for &b in data {
            crc ^= b as u64;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY_REFLECTED
                } else {
                    crc >> 1
                };
            }
        }
        crc
    }

    #[test]
    fn redis_check_value() {
        // Redis's crc64.c self test.
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64_bitwise(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
        assert_eq!(crc64(0, b""), 0);
    }

    #[test]
    fn redis_long_check_value() {
        // Also from Redis's crc64 self test, which sums `sizeof(li)` bytes:
        // the text and its NUL terminator.
        let text = b"This is a test of the emergency broadcast system.";
        assert_eq!(crc64(0, text), crc64_bitwise(0, text));
        let li = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.\0";
        assert_eq!(crc64(0, li), 0xc779_4709_e696_83b3);
    }

    #[test]
    fn dump_payload_of_a_string() {
        // DUMP of "hello" in Valkey 8: type 0, "\x05hello", RDB version 11.
        let body = b"\x00\x05hello\x0b\x00";
        assert_eq!(crc64(0, body), crc64_bitwise(0, body));
    }

    #[test]
    fn lanes_agree_with_one_stream() {
        // Lengths around the lane threshold and the 8-byte rounding, and
        // a non-zero starting CRC.
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for len in [4095, 4096, 4097, 4103, 12_345, 20_000] {
            let d = &data[..len];
            assert_eq!(crc64(0, d), crc64_serial(0, d), "{len}");
            assert_eq!(crc64(0x1234, d), crc64_serial(0x1234, d), "{len}");
        }
        assert_eq!(crc64(0, &data), crc64_bitwise(0, &data));
    }

    #[test]
    fn appending_bytes_multiplies_by_a_power_of_x() {
        let a = b"some prefix";
        let b = b"and the rest of the message";
        let joined = mul_mod(x_pow_bytes(b.len() as u64), crc64(0, a)) ^ crc64(0, b);
        let mut ab = a.to_vec();
        ab.extend_from_slice(b);
        assert_eq!(joined, crc64(0, &ab));
        assert_eq!(x_pow_bytes(0), 1 << 63);
    }

    proptest! {
        #[test]
        fn long_inputs_match_the_definition(data in proptest::collection::vec(any::<u8>(), 4000..9000), start in any::<u64>()) {
            prop_assert_eq!(crc64(start, &data), crc64_bitwise(start, &data));
        }

        #[test]
        fn tables_match_the_definition(data in proptest::collection::vec(any::<u8>(), 0..300), split in 0usize..300) {
            let whole = crc64(0, &data);
            prop_assert_eq!(whole, crc64_bitwise(0, &data));
            let s = split.min(data.len());
            prop_assert_eq!(crc64(crc64(0, &data[..s]), &data[s..]), whole);
        }
    }
}
