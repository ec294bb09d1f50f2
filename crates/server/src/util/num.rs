//! Number parsing and formatting with Valkey's exact rules (`util.c`).
//!
//! Everything here is allocation-free: formatters append to a caller-owned
//! `Vec<u8>` and parsers take byte slices (arguments are binary-safe).
//!
//! Parsing:
//! - [`parse_i64`]: `string2ll`, the strict integer syntax used for nearly
//!   every integer argument (no sign but `-`, no spaces, no leading zeros,
//!   `-0` rejected, overflow rejected);
//! - [`parse_u64`]: the same strict syntax for the full unsigned range;
//! - [`parse_ull`]: `string2ull` (SCAN cursors, stream IDs), which falls back
//!   to the much more lenient `strtoull`;
//! - [`parse_f64`]: `string2d` (ZADD scores, most float arguments);
//! - [`parse_long_double`]: `string2ld` (INCRBYFLOAT, HINCRBYFLOAT), see the
//!   note there on `long double` vs `f64`;
//! - [`strtod`]: a faithful `strtod` prefix parser for callers that have their
//!   own validation (e.g. ZRANGEBYSCORE bounds).
//!
//! Formatting:
//! - [`write_i64`]/[`write_u64`]: `ll2string`/`ull2string`;
//! - [`format_double`]: `d2string` (scores, `addReplyDouble`), which prints
//!   integers exactly and everything else with `fpconv_dtoa` (Grisu2, see
//!   [`grisu2`]'s module comment);
//! - [`format_human_float`]: `ld2string(LD_STR_HUMAN)` for INCRBYFLOAT;
//! - [`format_fixed_point`]: `fixedpoint_d2string` (GEODIST-style `%.Nf`).

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

/// Longest text `string2ll` will even look at: Valkey's `LONG_STR_SIZE` is 21
/// and strings of that length or longer are rejected outright.
const LONG_STR_SIZE: usize = 21;

/// Parses a signed 64-bit integer with `string2ll` strictness: optional `-`,
/// then digits with no leading zero (except the string `"0"` itself). Rejects
/// `+1`, ` 1`, `01`, `-0`, `""`, `-`, and anything out of range.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= LONG_STR_SIZE {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let mag = parse_strict_digits(digits)?;
    if negative {
        // i64::MIN's magnitude is one more than i64::MAX.
        if mag > i64::MAX as u64 + 1 {
            return None;
        }
        Some((mag as i64).wrapping_neg())
    } else {
        i64::try_from(mag).ok()
    }
}

/// Digits only, first one 1-9, no overflow. Shared by the strict parsers.
#[inline]
fn parse_strict_digits(digits: &[u8]) -> Option<u64> {
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Parses an unsigned 64-bit integer with the same strictness as
/// [`parse_i64`] (digits only, no leading zeros except `"0"`), accepting the
/// whole `u64` range.
pub fn parse_u64(s: &[u8]) -> Option<u64> {
    if s == b"0" {
        return Some(0);
    }
    if s.len() > 20 {
        return None;
    }
    parse_strict_digits(s)
}

/// Valkey's `string2ull`, used for SCAN cursors and stream IDs: the strict
/// [`parse_i64`] first (negative results rejected), then C `strtoull` as a
/// fallback, which accepts leading whitespace, a `+` or `-` sign and leading
/// zeros, and which negates modulo 2^64 after a `-` (so `-0` is 0 and
/// `-18446744073709551615` is 1). Overflow is rejected. Like the C code this
/// looks only at the bytes before the first NUL.
pub fn parse_ull(s: &[u8]) -> Option<u64> {
    let s = until_nul(s);
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if let Some(&c) = s.get(i) {
        if c == b'+' || c == b'-' {
            negative = c == b'-';
            i += 1;
        }
    }
    let start = i;
    let mut v: u64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v.checked_mul(10)?.checked_add(u64::from(s[i] - b'0'))?;
        i += 1;
    }
    // No digits means no conversion; leftovers mean `*endptr != '\0'`.
    if i == start || i != s.len() {
        return None;
    }
    Some(if negative { v.wrapping_neg() } else { v })
}

#[inline]
fn until_nul(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// C-locale `isspace`.
#[inline]
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Number of decimal digits of `v` (`digits10`).
#[inline]
pub fn digits_u64(v: u64) -> usize {
    if v == 0 {
        1
    } else {
        v.ilog10() as usize + 1
    }
}

/// Length of `v` as text, minus sign included (`sdigits10`).
#[inline]
pub fn digits_i64(v: i64) -> usize {
    digits_u64(v.unsigned_abs()) + usize::from(v < 0)
}

/// Two-digit lookup table: the classic trick of emitting two digits per
/// division, which halves the number of (slow) 64-bit divisions.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes `v` in decimal into the end of `buf`, returning the start index.
#[inline]
fn fmt_u64_into(mut v: u64, buf: &mut [u8; 20]) -> usize {
    let mut pos = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        pos -= 2;
        buf[pos] = DIGIT_PAIRS[pair];
        buf[pos + 1] = DIGIT_PAIRS[pair + 1];
    }
    if v < 10 {
        pos -= 1;
        buf[pos] = b'0' + v as u8;
    } else {
        let pair = v as usize * 2;
        pos -= 2;
        buf[pos] = DIGIT_PAIRS[pair];
        buf[pos + 1] = DIGIT_PAIRS[pair + 1];
    }
    pos
}

/// Formats `v` into `buf` and returns the digits (a suffix of `buf`), for
/// callers that need the text on the stack.
#[inline]
pub fn u64_to_buf(v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let start = fmt_u64_into(v, buf);
    &buf[start..]
}

/// Appends the decimal text of `v` (`ull2string`).
#[inline]
pub fn write_u64(v: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let start = fmt_u64_into(v, &mut buf);
    out.extend_from_slice(&buf[start..]);
}

/// Appends the decimal text of `v` (`ll2string`), e.g. `-42`.
#[inline]
pub fn write_i64(v: i64, out: &mut Vec<u8>) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(v.unsigned_abs(), out);
}

/// `double2ll`: `Some(i)` if `d` is an integer that fits comfortably in an
/// `i64` (|d| <= 2^62, Valkey's conservative bound), so it can be printed or
/// stored as an integer without precision loss.
#[inline]
pub fn double_to_i64(d: f64) -> Option<i64> {
    // (double)(LLONG_MAX / 2) rounds to exactly 2^62.
    const LIMIT: f64 = 4_611_686_018_427_387_904.0;
    if !(-LIMIT..=LIMIT).contains(&d) {
        return None; // also rejects NaN
    }
    let i = d as i64;
    if i as f64 == d {
        Some(i)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Floating point parsing
// ---------------------------------------------------------------------------

/// Result of [`strtod`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrtodResult {
    /// The converted value (0.0 when nothing was converted).
    pub value: f64,
    /// Bytes consumed, leading whitespace included; 0 means no conversion
    /// (C's `endptr == nptr`).
    pub consumed: usize,
    /// C's `errno == ERANGE`: the literal was finite but its value overflowed
    /// to infinity or underflowed to zero.
    pub range_error: bool,
    /// Decimal exponent of the literal's leading nonzero digit (e.g. 2 for
    /// `123.4`, -3 for `0.00123`), estimated from the binary exponent for hex
    /// literals. 0 for zeros and special values. Lets callers emulate wider
    /// types' range checks.
    pub exp10: i64,
}

/// C `strtod` in the C locale (what Valkey's parsers are built on): skips
/// leading whitespace, then parses the longest valid prefix among: decimal
/// (`-1.5e3`, `.5`, `5.`), hexadecimal (`0x1.8p3`), `inf`/`infinity`,
/// `nan`/`nan(chars)` (all case-insensitive). Decimal and hex values are
/// correctly rounded (round-to-nearest-even), as glibc does. Stops at a NUL.
pub fn strtod(s: &[u8]) -> StrtodResult {
    let none = StrtodResult {
        value: 0.0,
        consumed: 0,
        range_error: false,
        exp10: 0,
    };
    let s = until_nul(s);
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if let Some(&c) = s.get(i) {
        if c == b'+' || c == b'-' {
            negative = c == b'-';
            i += 1;
        }
    }
    let sign = if negative { -1.0 } else { 1.0 };
    let rest = &s[i..];

    // Special values.
    if starts_with_ignore_case(rest, b"inf") {
        let n = if starts_with_ignore_case(rest, b"infinity") {
            8
        } else {
            3
        };
        return StrtodResult {
            value: sign * f64::INFINITY,
            consumed: i + n,
            ..none
        };
    }
    if starts_with_ignore_case(rest, b"nan") {
        let mut n = 3;
        // Optional "(n-char-sequence)"; consumed only if closed.
        if rest.get(3) == Some(&b'(') {
            let mut j = 4;
            while j < rest.len() && (rest[j].is_ascii_alphanumeric() || rest[j] == b'_') {
                j += 1;
            }
            if rest.get(j) == Some(&b')') {
                n = j + 1;
            }
        }
        return StrtodResult {
            value: f64::NAN,
            consumed: i + n,
            ..none
        };
    }

    // Hexadecimal: needs at least one hex digit after "0x", otherwise only
    // the "0" is a valid decimal prefix.
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' {
        if let Some((value, used, range_error, exp10)) = parse_hex_float(&rest[2..]) {
            return StrtodResult {
                value: sign * value,
                consumed: i + 2 + used,
                range_error,
                exp10,
            };
        }
    }

    // Decimal: digits [. digits] | . digits, then an optional exponent that
    // is only consumed if it has at least one digit.
    let mut j = 0;
    let mut int_digits = 0usize;
    // Where the leading nonzero digit is: its index among the integer
    // digits, or its (negative) decimal exponent in the fraction.
    let mut lead_int_pos: Option<usize> = None;
    let mut lead_frac_exp: Option<i64> = None;
    while j < rest.len() && rest[j].is_ascii_digit() {
        if lead_int_pos.is_none() && rest[j] != b'0' {
            lead_int_pos = Some(int_digits);
        }
        int_digits += 1;
        j += 1;
    }
    let mut frac_digits = 0usize;
    if j < rest.len() && rest[j] == b'.' {
        let mut k = j + 1;
        while k < rest.len() && rest[k].is_ascii_digit() {
            if lead_int_pos.is_none() && lead_frac_exp.is_none() && rest[k] != b'0' {
                lead_frac_exp = Some(-(frac_digits as i64) - 1);
            }
            frac_digits += 1;
            k += 1;
        }
        if int_digits + frac_digits > 0 {
            j = k;
        }
    }
    if int_digits + frac_digits == 0 {
        return none;
    }
    let mut exp: i64 = 0;
    if j < rest.len() && (rest[j] | 0x20) == b'e' {
        let mut k = j + 1;
        let mut exp_neg = false;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            exp_neg = rest[k] == b'-';
            k += 1;
        }
        let digits_start = k;
        while k < rest.len() && rest[k].is_ascii_digit() {
            // Saturate: anything this large is inf or 0 anyway.
            exp = (exp * 10 + i64::from(rest[k] - b'0')).min(1_000_000_000);
            k += 1;
        }
        if k > digits_start {
            if exp_neg {
                exp = -exp;
            }
            j = k;
        } else {
            exp = 0;
        }
    }
    let literal = &rest[..j];
    // The literal matched Rust's float grammar by construction, so this
    // parse cannot fail; treat a failure as "no conversion" rather than
    // panicking.
    let value = match std::str::from_utf8(literal)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
    {
        Some(v) => v,
        None => return none,
    };
    let (nonzero, exp10) = match (lead_int_pos, lead_frac_exp) {
        (Some(p), _) => (true, int_digits as i64 - 1 - p as i64 + exp),
        (None, Some(e)) => (true, e + exp),
        (None, None) => (false, 0),
    };
    StrtodResult {
        value: sign * value,
        consumed: i + j,
        range_error: value.is_infinite() || (nonzero && value == 0.0),
        exp10,
    }
}

#[inline]
fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

#[inline]
fn hex_digit(c: u8) -> Option<u64> {
    match c {
        b'0'..=b'9' => Some(u64::from(c - b'0')),
        b'a'..=b'f' => Some(u64::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(c - b'A' + 10)),
        _ => None,
    }
}

/// Parses the part of a hex float after `0x`: `h+[.h*] | .h+`, then an
/// optional `p[+-]d+`. Returns (magnitude, bytes used, range error, exp10),
/// or `None` if there is no hex digit (then only the `0` is a number).
fn parse_hex_float(s: &[u8]) -> Option<(f64, usize, bool, i64)> {
    let mut mant: u64 = 0;
    let mut bin_exp: i64 = 0;
    let mut sticky = false; // nonzero digits that did not fit in `mant`
    let mut ndigits = 0usize;
    let mut j = 0;
    let mut push = |d: u64, fractional: bool, mant: &mut u64, bin_exp: &mut i64| {
        if *mant >> 60 == 0 {
            *mant = *mant * 16 + d;
            if fractional {
                *bin_exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !fractional {
                *bin_exp += 4;
            }
        }
    };
    while let Some(d) = s.get(j).and_then(|&c| hex_digit(c)) {
        push(d, false, &mut mant, &mut bin_exp);
        ndigits += 1;
        j += 1;
    }
    if s.get(j) == Some(&b'.') {
        let mut k = j + 1;
        let mut nfrac = 0;
        while let Some(d) = s.get(k).and_then(|&c| hex_digit(c)) {
            push(d, true, &mut mant, &mut bin_exp);
            nfrac += 1;
            k += 1;
        }
        if ndigits + nfrac > 0 {
            j = k;
        }
        ndigits += nfrac;
    }
    if ndigits == 0 {
        return None;
    }
    if s.get(j).is_some_and(|&c| c | 0x20 == b'p') {
        let mut k = j + 1;
        let mut neg = false;
        if let Some(&c) = s.get(k) {
            if c == b'+' || c == b'-' {
                neg = c == b'-';
                k += 1;
            }
        }
        let start = k;
        let mut e: i64 = 0;
        while k < s.len() && s[k].is_ascii_digit() {
            e = (e * 10 + i64::from(s[k] - b'0')).min(1_000_000_000);
            k += 1;
        }
        if k > start {
            bin_exp += if neg { -e } else { e };
            j = k;
        }
    }
    if mant == 0 {
        return Some((0.0, j, false, 0));
    }
    let (value, range_error, top) = round_binary(mant, bin_exp, sticky);
    // log10(2) ~= 0.30103: a good enough decimal exponent estimate.
    let exp10 = ((top as f64) * std::f64::consts::LOG10_2).floor() as i64;
    Some((value, j, range_error, exp10))
}

/// Correctly rounds `mant * 2^exp` (plus a sticky "something nonzero below")
/// to the nearest f64, ties to even, with subnormals. Returns the value,
/// whether it overflowed/underflowed (C's ERANGE), and the exponent of the
/// leading bit.
fn round_binary(mant: u64, exp: i64, sticky: bool) -> (f64, bool, i64) {
    let lz = i64::from(mant.leading_zeros());
    let m = mant << lz; // top bit set
    let top = exp - lz + 63; // value is in [2^top, 2^(top+1))
    if top > 1023 {
        return (f64::INFINITY, true, top);
    }
    // Bits to drop from the 64-bit `m` to keep 53 (fewer for subnormals).
    let drop = if top >= -1022 { 11 } else { 11 + (-1022 - top) };
    if drop >= 65 {
        // Strictly below half of the smallest subnormal: rounds to zero.
        return (0.0, true, top);
    }
    // Work in 128 bits so dropping up to 64 bits is easy.
    let x = u128::from(m) << 64;
    let d = (drop + 64) as u32; // 75..=128
    let mut kept = x.checked_shr(d).unwrap_or(0) as u64;
    let rem = if d >= 128 { x } else { x & ((1u128 << d) - 1) };
    let half = 1u128 << (d - 1);
    if rem > half || (rem == half && (sticky || kept & 1 == 1)) {
        kept += 1;
    }
    let bits = if top >= -1022 {
        let mut biased = (top + 1023) as u64;
        if kept == 1 << 53 {
            kept >>= 1;
            biased += 1;
        }
        if biased >= 2047 {
            return (f64::INFINITY, true, top);
        }
        (biased << 52) | (kept & ((1 << 52) - 1))
    } else {
        // Subnormal (a carry into bit 52 yields the smallest normal).
        kept
    };
    let v = f64::from_bits(bits);
    (v, v == 0.0, top)
}

/// Valkey's `string2d`: the whole of `s` must be a number accepted by
/// `strtod` (no leading whitespace, no trailing bytes), not NaN, and not
/// out of range (`1e400` and `1e-400` are rejected; `inf` is accepted).
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    let r = strtod(s);
    if r.consumed != s.len() || r.range_error || r.value.is_nan() {
        return None;
    }
    Some(r.value)
}

/// Valkey's `MAX_LONG_DOUBLE_CHARS`: `string2ld` rejects inputs this long.
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Valkey's `string2ld` (INCRBYFLOAT, HINCRBYFLOAT), computed in `f64`.
///
/// Valkey uses x87 80-bit `long double` here; Ferrokey uses `f64`. Syntax and
/// rejection rules are identical (strict whole-string `strtold`, NaN
/// rejected, at most 5119 bytes). The range differs: a literal that a
/// `long double` holds but an `f64` does not (about 1.8e308 .. 1.19e4932)
/// yields `Some(±inf)`, so INCRBYFLOAT answers "increment would produce NaN
/// or Infinity" where Valkey would compute a huge finite value; literals
/// below `f64`'s range but within `long double`'s yield `Some(±0.0)`.
/// Arithmetic on ordinary values differs only past ~15-17 significant digits.
pub fn parse_long_double(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS || is_c_space(s[0]) {
        return None;
    }
    // strtold sees a NUL-terminated copy, so an embedded NUL ends the number
    // early and then fails the full-length check below.
    let r = strtod(s);
    if r.consumed != s.len() || r.value.is_nan() {
        return None;
    }
    if r.range_error {
        // long double: LDBL_MAX ~ 1.19e4932, smallest subnormal ~ 3.6e-4951.
        if r.value.is_infinite() && r.exp10 > 4932 {
            return None;
        }
        if r.value == 0.0 && r.exp10 < -4951 {
            return None;
        }
    }
    Some(r.value)
}

// ---------------------------------------------------------------------------
// Floating point formatting
// ---------------------------------------------------------------------------

/// Valkey's `MAX_D2STRING_CHARS`: [`format_double`] never writes more.
pub const MAX_D2STRING_CHARS: usize = 128;

/// Appends `v` exactly as Valkey's `d2string` prints it (the text of
/// `addReplyDouble`, sorted-set scores, ...):
/// `nan`, `inf`, `-inf`, `0`, `-0`; integers with |v| <= 2^62 in plain
/// decimal (`3`, `1000000000000000000`); anything else via `fpconv_dtoa`:
/// Grisu2 digits, plain up to 7 zeros beyond the digits (`1e+21` but
/// `12300000000`), fixed for small exponents (`0.000001`, `1.5e-7`).
pub fn format_double(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
    } else if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
    } else if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
    } else if let Some(i) = double_to_i64(v) {
        write_i64(i, out);
    } else {
        fpconv_dtoa(v, out);
    }
}

/// Appends `fpconv_dtoa(v)` (no integer fast path; `0` for zero).
pub fn fpconv_dtoa(v: f64, out: &mut Vec<u8>) {
    let neg = v.is_sign_negative();
    if neg {
        out.push(b'-');
    }
    if v == 0.0 {
        out.push(b'0');
        return;
    }
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(b"inf");
        return;
    }
    let mut digits = [0u8; 20];
    let (n, k) = grisu2::digits(v, &mut digits);
    emit_digits(&digits[..n], k, neg, out);
}

/// `fpconv`'s layout rules for digits `d` scaled by 10^k.
fn emit_digits(d: &[u8], k: i32, neg: bool, out: &mut Vec<u8>) {
    let nd = d.len() as i32;
    let exp = (k + nd - 1).abs();
    // Integers: plain if it adds fewer than ~7 zeros.
    if k >= 0 && exp < nd + 7 {
        out.extend_from_slice(d);
        out.extend(std::iter::repeat(b'0').take(k as usize));
        return;
    }
    // Decimals without exponent: few fractional digits, or close to 1.
    if k < 0 && (k > -7 || exp < 4) {
        let offset = nd + k; // digits before the point
        if offset <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat(b'0').take((-offset) as usize));
            out.extend_from_slice(d);
        } else {
            out.extend_from_slice(&d[..offset as usize]);
            out.push(b'.');
            out.extend_from_slice(&d[offset as usize..]);
        }
        return;
    }
    // Scientific: d.ddde[+-]x with no zero padding of the exponent.
    let nd = (nd as usize).min(18 - usize::from(neg));
    out.push(d[0]);
    if nd > 1 {
        out.push(b'.');
        out.extend_from_slice(&d[1..nd]);
    }
    out.push(b'e');
    out.push(if k + d.len() as i32 - 1 < 0 {
        b'-'
    } else {
        b'+'
    });
    write_u64(exp as u64, out);
}

/// Appends `v` the way INCRBYFLOAT/HINCRBYFLOAT print results (Valkey's
/// `ld2string(..., LD_STR_HUMAN)`, i.e. `%.17Lf` with trailing zeros and a
/// trailing `.` removed, and `-0` printed as `0`): never an exponent.
///
/// Valkey formats an 80-bit `long double` with 17 fractional digits, which
/// for ordinary values shows the decimal the user typed (`10.5 + 0.1` ->
/// `10.6`). With `f64` the same effect comes from the shortest round-trip
/// digits, written in fixed notation and rounded to 17 fractional digits.
/// Values beyond ~17 significant digits (e.g. 1e30 + 1) may differ in the low
/// digits from Valkey's `long double` text.
pub fn format_human_float(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if v == 0.0 {
        out.push(b'0');
        return;
    }
    let mut digits = [0u8; 20];
    let (n, k) = grisu2::digits(v, &mut digits);
    let mark = out.len();
    if v < 0.0 {
        out.push(b'-');
    }
    let int_start = out.len();
    write_fixed(&digits[..n], k, 17, out);
    // Rounding to 17 decimals can leave nothing but zeros: "-0" becomes "0".
    if out[int_start..] == *b"0" {
        out.truncate(mark);
        out.push(b'0');
    }
}

/// Writes digits `d` * 10^k in fixed notation with at most `max_frac`
/// fractional digits (rounded half-up on the decimal digits), trailing
/// fractional zeros and a bare `.` removed.
fn write_fixed(d: &[u8], k: i32, max_frac: usize, out: &mut Vec<u8>) {
    let k = i64::from(k);
    if k >= 0 {
        out.extend_from_slice(d);
        out.extend(std::iter::repeat(b'0').take(k as usize));
        return;
    }
    // Digits before the decimal point (may be <= 0 for values below 1).
    let int_len = d.len() as i64 + k;
    // First write all digits without the point: the integer part (at least
    // "0"), leading fractional zeros, then the remaining digits.
    let start = out.len();
    let mut int_count;
    if int_len > 0 {
        out.extend_from_slice(d);
        int_count = int_len as usize;
    } else {
        out.push(b'0');
        out.extend(std::iter::repeat(b'0').take((-int_len) as usize));
        out.extend_from_slice(d);
        int_count = 1;
    }
    let frac_end = start + int_count + max_frac;
    if out.len() > frac_end {
        let round_up = out[frac_end] >= b'5';
        out.truncate(frac_end);
        if round_up {
            // Propagate the carry leftwards; all nines grow a new digit.
            let mut i = out.len();
            loop {
                if i == start {
                    out.insert(start, b'1');
                    int_count += 1;
                    break;
                }
                i -= 1;
                if out[i] == b'9' {
                    out[i] = b'0';
                } else {
                    out[i] += 1;
                    break;
                }
            }
        }
    }
    // Trim trailing fractional zeros, then place the point if anything of
    // the fraction is left.
    let point = start + int_count;
    while out.len() > point && out.last() == Some(&b'0') {
        out.pop();
    }
    if out.len() > point {
        out.insert(point, b'.');
    }
}

/// Appends `v` with exactly `frac_digits` (1..=17, clamped) digits after the
/// point, like Valkey's `fixedpoint_d2string` (used for GEODIST): the value
/// is scaled by 10^frac_digits and rounded half-to-even (`llrint`), so
/// `format_fixed_point(1.5, 4)` is `1.5000` and zero is `0.0000`.
pub fn format_fixed_point(v: f64, frac_digits: usize, out: &mut Vec<u8>) {
    let n = frac_digits.clamp(1, 17);
    if v == 0.0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat(b'0').take(n));
        return;
    }
    // Exact powers of ten up to 1e17 are representable in f64.
    let scaled = (v * 10f64.powi(n as i32)).round_ties_even();
    // `as` saturates out-of-range values (C's llrint would be undefined).
    let s = scaled as i64;
    if s < 0 {
        out.push(b'-');
    }
    let mut buf = [0u8; 20];
    let start = fmt_u64_into(s.unsigned_abs(), &mut buf);
    let digits = &buf[start..];
    if digits.len() > n {
        let int_len = digits.len() - n;
        out.extend_from_slice(&digits[..int_len]);
        out.push(b'.');
        out.extend_from_slice(&digits[int_len..]);
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat(b'0').take(n - digits.len()));
        out.extend_from_slice(digits);
    }
}

/// Grisu2 digit generation, reproducing `fpconv_dtoa` (deps/fpconv in
/// Valkey) bit for bit: same cached powers of ten, same boundaries, same
/// rounding-by-weeding. Grisu2 does not always find the *shortest* digits
/// (a small fraction of doubles get one more digit than needed, and the last
/// digit may differ from a shortest-digits algorithm), so matching Valkey's
/// text requires this algorithm rather than Rust's `{}` formatting. The
/// digits always read back as the same double.
mod grisu2 {
    /// A "do-it-yourself float": `f * 2^e`.
    #[derive(Clone, Copy)]
    struct Fp {
        f: u64,
        e: i32,
    }

    const HIDDEN_BIT: u64 = 1 << 52;
    const FRAC_MASK: u64 = HIDDEN_BIT - 1;
    /// Exponent bias plus mantissa width: value = frac * 2^(exp - 1075).
    const EXP_BIAS: i32 = 1023 + 52;

    /// The cached powers: 10^k for k = -348, -340, ..., 340, each rounded to
    /// the nearest 64-bit mantissa `f` with `10^k ~= f * 2^e`. These are pure
    /// mathematical constants (checked by a unit test with exact integer
    /// arithmetic).
    pub(super) const POWERS: [(u64, i32); 87] = [
        (0xfa8fd5a0081c0288, -1220),
        (0xbaaee17fa23ebf76, -1193),
        (0x8b16fb203055ac76, -1166),
        (0xcf42894a5dce35ea, -1140),
        (0x9a6bb0aa55653b2d, -1113),
        (0xe61acf033d1a45df, -1087),
        (0xab70fe17c79ac6ca, -1060),
        (0xff77b1fcbebcdc4f, -1034),
        (0xbe5691ef416bd60c, -1007),
        (0x8dd01fad907ffc3c, -980),
        (0xd3515c2831559a83, -954),
        (0x9d71ac8fada6c9b5, -927),
        (0xea9c227723ee8bcb, -901),
        (0xaecc49914078536d, -874),
        (0x823c12795db6ce57, -847),
        (0xc21094364dfb5637, -821),
        (0x9096ea6f3848984f, -794),
        (0xd77485cb25823ac7, -768),
        (0xa086cfcd97bf97f4, -741),
        (0xef340a98172aace5, -715),
        (0xb23867fb2a35b28e, -688),
        (0x84c8d4dfd2c63f3b, -661),
        (0xc5dd44271ad3cdba, -635),
        (0x936b9fcebb25c996, -608),
        (0xdbac6c247d62a584, -582),
        (0xa3ab66580d5fdaf6, -555),
        (0xf3e2f893dec3f126, -529),
        (0xb5b5ada8aaff80b8, -502),
        (0x87625f056c7c4a8b, -475),
        (0xc9bcff6034c13053, -449),
        (0x964e858c91ba2655, -422),
        (0xdff9772470297ebd, -396),
        (0xa6dfbd9fb8e5b88f, -369),
        (0xf8a95fcf88747d94, -343),
        (0xb94470938fa89bcf, -316),
        (0x8a08f0f8bf0f156b, -289),
        (0xcdb02555653131b6, -263),
        (0x993fe2c6d07b7fac, -236),
        (0xe45c10c42a2b3b06, -210),
        (0xaa242499697392d3, -183),
        (0xfd87b5f28300ca0e, -157),
        (0xbce5086492111aeb, -130),
        (0x8cbccc096f5088cc, -103),
        (0xd1b71758e219652c, -77),
        (0x9c40000000000000, -50),
        (0xe8d4a51000000000, -24),
        (0xad78ebc5ac620000, 3),
        (0x813f3978f8940984, 30),
        (0xc097ce7bc90715b3, 56),
        (0x8f7e32ce7bea5c70, 83),
        (0xd5d238a4abe98068, 109),
        (0x9f4f2726179a2245, 136),
        (0xed63a231d4c4fb27, 162),
        (0xb0de65388cc8ada8, 189),
        (0x83c7088e1aab65db, 216),
        (0xc45d1df942711d9a, 242),
        (0x924d692ca61be758, 269),
        (0xda01ee641a708dea, 295),
        (0xa26da3999aef774a, 322),
        (0xf209787bb47d6b85, 348),
        (0xb454e4a179dd1877, 375),
        (0x865b86925b9bc5c2, 402),
        (0xc83553c5c8965d3d, 428),
        (0x952ab45cfa97a0b3, 455),
        (0xde469fbd99a05fe3, 481),
        (0xa59bc234db398c25, 508),
        (0xf6c69a72a3989f5c, 534),
        (0xb7dcbf5354e9bece, 561),
        (0x88fcf317f22241e2, 588),
        (0xcc20ce9bd35c78a5, 614),
        (0x98165af37b2153df, 641),
        (0xe2a0b5dc971f303a, 667),
        (0xa8d9d1535ce3b396, 694),
        (0xfb9b7cd9a4a7443c, 720),
        (0xbb764c4ca7a44410, 747),
        (0x8bab8eefb6409c1a, 774),
        (0xd01fef10a657842c, 800),
        (0x9b10a4e5e9913129, 827),
        (0xe7109bfba19c0c9d, 853),
        (0xac2820d9623bf429, 880),
        (0x80444b5e7aa7cf85, 907),
        (0xbf21e44003acdd2d, 933),
        (0x8e679c2f5e44ff8f, 960),
        (0xd433179d9c8cb841, 986),
        (0x9e19db92b4e31ba9, 1013),
        (0xeb96bf6ebadf77d9, 1039),
        (0xaf87023b9bf0ee6b, 1066),
    ];
    pub(super) const FIRST_POWER: i32 = -348;
    pub(super) const POWER_STEP: i32 = 8;
    /// The product's binary exponent must land in this window so that the
    /// integral part of the scaled value fits in 32 bits.
    const EXP_MIN: i32 = -60;
    const EXP_MAX: i32 = -32;

    const TENS: [u64; 20] = [
        10_000_000_000_000_000_000,
        1_000_000_000_000_000_000,
        100_000_000_000_000_000,
        10_000_000_000_000_000,
        1_000_000_000_000_000,
        100_000_000_000_000,
        10_000_000_000_000,
        1_000_000_000_000,
        100_000_000_000,
        10_000_000_000,
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];

    fn build_fp(d: f64) -> Fp {
        let bits = d.to_bits();
        let frac = bits & FRAC_MASK;
        let exp = ((bits >> 52) & 0x7ff) as i32;
        if exp != 0 {
            Fp {
                f: frac + HIDDEN_BIT,
                e: exp - EXP_BIAS,
            }
        } else {
            // Subnormal: no hidden bit, minimum exponent.
            Fp {
                f: frac,
                e: 1 - EXP_BIAS,
            }
        }
    }

    fn normalize(fp: &mut Fp) {
        // Bring the top bit to bit 52, then to bit 63.
        while fp.f & HIDDEN_BIT == 0 {
            fp.f <<= 1;
            fp.e -= 1;
        }
        fp.f <<= 11;
        fp.e -= 11;
    }

    /// The midpoints between `fp` and its neighbours, normalized to a
    /// common exponent (the upper one's).
    fn boundaries(fp: Fp) -> (Fp, Fp) {
        let mut upper = Fp {
            f: (fp.f << 1) + 1,
            e: fp.e - 1,
        };
        while upper.f & (HIDDEN_BIT << 1) == 0 {
            upper.f <<= 1;
            upper.e -= 1;
        }
        upper.f <<= 10;
        upper.e -= 10;
        // At a power of two the lower neighbour is twice as close.
        let l_shift = if fp.f == HIDDEN_BIT { 2 } else { 1 };
        let mut lower = Fp {
            f: (fp.f << l_shift) - 1,
            e: fp.e - l_shift,
        };
        lower.f <<= lower.e - upper.e;
        lower.e = upper.e;
        (lower, upper)
    }

    /// 64x64 -> upper 64 bits, rounded (half up).
    fn multiply(a: Fp, b: Fp) -> Fp {
        let p = u128::from(a.f) * u128::from(b.f) + (1u128 << 63);
        Fp {
            f: (p >> 64) as u64,
            e: a.e + b.e + 64,
        }
    }

    /// Picks the cached power that brings exponent `exp` into the window,
    /// starting from the same estimate as fpconv (when two powers both fit,
    /// the estimate decides, so it must be computed identically).
    fn cached_pow10(exp: i32) -> (Fp, i32) {
        const ONE_LOG_TEN: f64 = 0.301_029_995_663_981_14;
        let approx = (f64::from(-(exp + POWERS.len() as i32)) * ONE_LOG_TEN) as i32;
        let mut idx = (approx - FIRST_POWER) / POWER_STEP;
        let last = POWERS.len() as i32 - 1;
        loop {
            let i = idx.clamp(0, last);
            let (f, e) = POWERS[i as usize];
            let current = exp + e + 64;
            if current < EXP_MIN && i < last {
                idx = i + 1;
                continue;
            }
            if current > EXP_MAX && i > 0 {
                idx = i - 1;
                continue;
            }
            return (Fp { f, e }, FIRST_POWER + i * POWER_STEP);
        }
    }

    /// Nudges the last digit down while that brings it closer to the exact
    /// value and stays inside the rounding interval. Arithmetic wraps like
    /// the C original's unsigned math.
    fn round_digit(digits: &mut [u8], n: usize, delta: u64, mut rem: u64, kappa: u64, frac: u64) {
        if n == 0 {
            return;
        }
        while rem < frac
            && delta.wrapping_sub(rem) >= kappa
            && (rem.wrapping_add(kappa) < frac
                || frac.wrapping_sub(rem) > rem.wrapping_add(kappa).wrapping_sub(frac))
        {
            digits[n - 1] -= 1;
            rem = rem.wrapping_add(kappa);
        }
    }

    fn generate_digits(w: Fp, upper: Fp, lower: Fp, digits: &mut [u8; 20], k: &mut i32) -> usize {
        let wfrac = upper.f.wrapping_sub(w.f);
        let mut delta = upper.f.wrapping_sub(lower.f);
        let shift = (-upper.e) as u32;
        let one = 1u64 << shift;
        let mut part1 = upper.f >> shift;
        let mut part2 = upper.f & (one - 1);
        let mut idx = 0usize;
        let mut kappa = 10i32;

        // Integral digits: divide by 10^9 .. 10^0.
        for &div in &TENS[10..] {
            let digit = part1 / div;
            if digit != 0 || idx != 0 {
                if idx < digits.len() {
                    digits[idx] = b'0' + digit as u8;
                }
                idx += 1;
            }
            part1 -= digit * div;
            kappa -= 1;
            let tmp = (part1 << shift).wrapping_add(part2);
            if tmp <= delta {
                *k += kappa;
                let idx = idx.min(digits.len());
                round_digit(digits, idx, delta, tmp, div << shift, wfrac);
                return idx;
            }
        }

        // Fractional digits.
        let mut unit = 18usize; // TENS[18] == 10
        loop {
            part2 = part2.wrapping_mul(10);
            delta = delta.wrapping_mul(10);
            kappa -= 1;
            let digit = part2 >> shift;
            if digit != 0 || idx != 0 {
                if idx < digits.len() {
                    digits[idx] = b'0' + digit as u8;
                }
                idx += 1;
            }
            part2 &= one - 1;
            if part2 < delta || idx >= digits.len() {
                *k += kappa;
                let idx = idx.min(digits.len());
                round_digit(
                    digits,
                    idx,
                    delta,
                    part2,
                    one,
                    wfrac.wrapping_mul(TENS[unit]),
                );
                return idx;
            }
            unit = unit.saturating_sub(1);
        }
    }

    /// Digits of a finite, nonzero `|d|` and the decimal exponent `k` such
    /// that |d| ~= digits * 10^k. Returns (number of digits, k).
    pub(super) fn digits(d: f64, out: &mut [u8; 20]) -> (usize, i32) {
        let w0 = build_fp(d);
        let (lower, upper) = boundaries(w0);
        let mut w = w0;
        normalize(&mut w);
        let (cp, k) = cached_pow10(upper.e);
        let w = multiply(w, cp);
        let mut upper = multiply(upper, cp);
        let mut lower = multiply(lower, cp);
        // Shrink the interval by one unit each side: the products are
        // inexact, and this keeps the result provably inside.
        lower.f = lower.f.wrapping_add(1);
        upper.f = upper.f.wrapping_sub(1);
        let mut kk = -k;
        let n = generate_digits(w, upper, lower, out, &mut kk);
        (n, kk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parse_i64_strictness() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"123"), Some(123));
        assert_eq!(parse_i64(b"-123"), Some(-123));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"+1",
            b" 1",
            b"1 ",
            b"01",
            b"00",
            b"1a",
            b"9223372036854775808",
            b"-9223372036854775809",
            b"18446744073709551616",
            b"123456789012345678901",
            b"1.0",
            b"1\0",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn parse_u64_variants() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"01"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        // string2ull: strict first, then strtoull's leniency.
        assert_eq!(parse_ull(b"42"), Some(42));
        assert_eq!(parse_ull(b"-1"), None);
        assert_eq!(parse_ull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_ull(b"18446744073709551616"), None);
        assert_eq!(parse_ull(b" 7"), Some(7));
        assert_eq!(parse_ull(b"+7"), Some(7));
        assert_eq!(parse_ull(b"007"), Some(7));
        assert_eq!(parse_ull(b"-0"), Some(0));
        assert_eq!(parse_ull(b"-18446744073709551615"), Some(1));
        assert_eq!(parse_ull(b"5\0junk"), Some(5));
        assert_eq!(parse_ull(b"7 "), None);
        assert_eq!(parse_ull(b""), None);
        assert_eq!(parse_ull(b" "), None);
        assert_eq!(parse_ull(b"+"), None);
    }

    #[test]
    fn integer_formatting() {
        for v in [
            0i64,
            1,
            -1,
            9,
            10,
            99,
            100,
            12345,
            -987654321,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(fmt(|o| write_i64(v, o)), v.to_string());
            assert_eq!(digits_i64(v), v.to_string().len());
        }
        for v in [0u64, 7, 10, 100, 999, u64::MAX] {
            assert_eq!(fmt(|o| write_u64(v, o)), v.to_string());
            assert_eq!(digits_u64(v), v.to_string().len());
            let mut b = [0u8; 20];
            assert_eq!(u64_to_buf(v, &mut b), v.to_string().as_bytes());
        }
        // Appends, never overwrites.
        let mut o = b"x".to_vec();
        write_i64(-5, &mut o);
        assert_eq!(o, b"x-5");
    }

    #[test]
    fn double_to_i64_bounds() {
        assert_eq!(double_to_i64(3.0), Some(3));
        assert_eq!(double_to_i64(-3.0), Some(-3));
        assert_eq!(double_to_i64(3.5), None);
        assert_eq!(double_to_i64(4611686018427387904.0), Some(1 << 62));
        assert_eq!(double_to_i64(4611686018427388928.0), None);
        assert_eq!(double_to_i64(f64::NAN), None);
        assert_eq!(double_to_i64(f64::INFINITY), None);
    }

    #[test]
    fn format_double_matches_valkey() {
        // Expected texts produced by Valkey's own d2string/fpconv_dtoa.
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (0.2, "0.2"),
            (0.3333333333333333, "0.3333333333333333"),
            (0.6666666666666666, "0.6666666666666666"),
            (1e21, "1e+21"),
            (1e22, "1e+22"),
            // Grisu2 is not always shortest: this is what Valkey prints.
            (1e23, "99999999999999990000000"),
            (1.5e-7, "1.5e-7"),
            (1e-7, "1e-7"),
            (1e-6, "0.000001"),
            (123456.7, "123456.7"),
            (1e15, "1000000000000000"),
            (1e18, "1000000000000000000"),
            (1e19, "1e+19"),
            (5e18, "5e+18"),
            (4.611686018427388e18, "4611686018427387904"),
            (9.2e18, "9.2e+18"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (5e-310, "5e-310"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (3.14159, "3.14159"),
            (-2.5, "-2.5"),
            (1e100, "1e+100"),
            (1e308, "1e+308"),
            (1.2345678901234568e-300, "1.2345678901234568e-300"),
            (0.000123, "0.000123"),
            (12345678.9, "12345678.9"),
            (10000000.0, "10000000"),
            (3.0, "3"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e-5, "0.00001"),
            (1.25e-5, "1.25e-5"),
            (1.23e-18, "1.23e-18"),
            (0.0025, "0.0025"),
            (0.30000000000000004, "0.30000000000000004"),
            (-1e21, "-1e+21"),
            (-1.5e-7, "-1.5e-7"),
            (12300000000.5, "12300000000.5"),
            (1.2e-10, "1.2e-10"),
            (1.2345678901234568e20, "123456789012345680000"),
            (1.2345e25, "1.2345e+25"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(v, want) in cases {
            assert_eq!(fmt(|o| format_double(v, o)), want, "{v:e}");
        }
        assert!(fmt(|o| format_double(-1e300, o)).len() <= MAX_D2STRING_CHARS);
    }

    #[test]
    fn format_double_round_trips() {
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if !v.is_finite() {
                continue;
            }
            let s = fmt(|o| format_double(v, o));
            assert_eq!(s.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{s}");
            assert_eq!(parse_f64(s.as_bytes()).unwrap().to_bits(), v.to_bits());
        }
    }

    #[test]
    fn cached_powers_are_exact() {
        // Check each (f, e) against 10^k with exact big-integer arithmetic:
        // |f * 2^e - 10^k| must be at most half a unit of f.
        fn mul_small(a: &mut Vec<u32>, m: u32) {
            let mut carry = 0u64;
            for d in a.iter_mut() {
                let t = u64::from(*d) * u64::from(m) + carry;
                *d = t as u32;
                carry = t >> 32;
            }
            if carry > 0 {
                a.push(carry as u32);
            }
        }
        fn shl(a: &[u32], bits: usize) -> Vec<u32> {
            let mut out = vec![0u32; bits / 32];
            let s = bits % 32;
            let mut carry = 0u32;
            for &d in a {
                out.push(if s == 0 { d } else { (d << s) | carry });
                carry = if s == 0 { 0 } else { d >> (32 - s) };
            }
            out.push(carry);
            out
        }
        fn cmp(a: &[u32], b: &[u32]) -> std::cmp::Ordering {
            let trim = |x: &[u32]| x.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1);
            let (la, lb) = (trim(a), trim(b));
            la.cmp(&lb)
                .then_with(|| a[..la].iter().rev().cmp(b[..lb].iter().rev()))
        }
        fn big(v: u128) -> Vec<u32> {
            (0..4).map(|i| (v >> (32 * i)) as u32).collect()
        }
        fn pow10(n: usize) -> Vec<u32> {
            let mut a = vec![1u32];
            for _ in 0..n {
                mul_small(&mut a, 10);
            }
            a
        }
        for (i, &(f, e)) in grisu2::POWERS.iter().enumerate() {
            let k = grisu2::FIRST_POWER + i as i32 * grisu2::POWER_STEP;
            let f2 = u128::from(f) * 2;
            // Compare 2*f*2^e with 2*10^k +- 2^e, scaled to integers.
            let (lhs_lo, lhs_hi, target);
            if e >= 0 {
                // (2f -+ 1) * 2^e must bracket 2 * 10^k.
                let e = e as usize;
                let mut t = pow10(k as usize);
                mul_small(&mut t, 2);
                target = t;
                lhs_lo = shl(&big(f2 - 1), e);
                lhs_hi = shl(&big(f2 + 1), e);
            } else if k >= 0 {
                // (2f -+ 1) must bracket 2 * 10^k * 2^-e.
                let mut t = pow10(k as usize);
                mul_small(&mut t, 2);
                target = shl(&t, (-e) as usize);
                lhs_lo = big(f2 - 1);
                lhs_hi = big(f2 + 1);
            } else {
                // 10^k = 1/10^-k and e < 0: (2f -+ 1) * 10^-k must bracket
                // 2^(1-e).
                let scale = |m: u128| {
                    let mut a = big(m);
                    for _ in 0..(-k) {
                        mul_small(&mut a, 10);
                    }
                    a
                };
                lhs_lo = scale(f2 - 1);
                lhs_hi = scale(f2 + 1);
                target = shl(&[1], (1 - e) as usize);
            }
            assert_ne!(cmp(&lhs_lo, &target), std::cmp::Ordering::Greater, "k={k}");
            assert_ne!(cmp(&lhs_hi, &target), std::cmp::Ordering::Less, "k={k}");
            assert!(f >> 63 == 1, "normalized");
        }
    }

    #[test]
    fn human_float() {
        let cases: &[(f64, &str)] = &[
            (10.5 + 0.1, "10.6"),
            (10.5, "10.5"),
            (3.0, "3"),
            (-0.0, "0"),
            (0.0, "0"),
            (-1.5, "-1.5"),
            (5200.0, "5200"),
            (1e20, "100000000000000000000"),
            (1.2345e-10, "0.00000000012345"),
            (1.23456789e-12, "0.00000000000123457"),
            (1e-18, "0"),
            (-1e-18, "0"),
            (5e-18, "0.00000000000000001"),
            (0.99999999999999999, "1"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (1.0 / 3.0, "0.3333333333333333"),
        ];
        for &(v, want) in cases {
            assert_eq!(fmt(|o| format_human_float(v, o)), want, "{v:e}");
        }
    }

    #[test]
    fn fixed_point() {
        let cases: &[(f64, usize, &str)] = &[
            (0.0, 4, "0.0000"),
            (-0.0, 4, "0.0000"),
            (1.5, 4, "1.5000"),
            (-1.5, 4, "-1.5000"),
            (166274.1516, 4, "166274.1516"),
            (0.00004, 4, "0.0000"),
            (0.00006, 4, "0.0001"),
            (2.5, 0, "2.5"),
            (-0.0004, 4, "-0.0004"),
            (123.456, 2, "123.46"),
            (0.5, 1, "0.5"),
        ];
        for &(v, n, want) in cases {
            assert_eq!(fmt(|o| format_fixed_point(v, n, o)), want, "{v} {n}");
        }
    }

    #[test]
    fn parse_f64_like_string2d() {
        let ok: &[(&[u8], f64)] = &[
            (b"1", 1.0),
            (b"-1.5", -1.5),
            (b"+2", 2.0),
            (b".5", 0.5),
            (b"5.", 5.0),
            (b"1e3", 1000.0),
            (b"1E-3", 0.001),
            (b"inf", f64::INFINITY),
            (b"-Infinity", f64::NEG_INFINITY),
            (b"+INF", f64::INFINITY),
            (b"0x10", 16.0),
            (b"0x1p-2", 0.25),
            (b"0X1.8P1", 3.0),
            (b"0x.8", 0.5),
            (b"4.9e-324", 5e-324),
            (b"0e-400", 0.0),
            (b"1.7976931348623157e308", f64::MAX),
        ];
        for &(s, want) in ok {
            assert_eq!(parse_f64(s), Some(want), "{:?}", String::from_utf8_lossy(s));
        }
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"\t1",
            b"abc",
            b"1e",
            b"1e+",
            b".",
            b"-",
            b"nan",
            b"NaN",
            b"nan(123)",
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"2e-324",
            b"1.7976931348623159e308",
            b"0x",
            b"0xg",
            b"infin",
            b"1\0",
            b"1,5",
        ] {
            assert_eq!(parse_f64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            parse_f64(b"-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
    }

    #[test]
    fn strtod_prefixes() {
        let r = strtod(b"  12.5abc");
        assert_eq!((r.value, r.consumed, r.range_error), (12.5, 6, false));
        let r = strtod(b"0x");
        assert_eq!((r.value, r.consumed), (0.0, 1));
        let r = strtod(b"1e+x");
        assert_eq!((r.value, r.consumed), (1.0, 1));
        let r = strtod(b"infinityx");
        assert_eq!((r.value, r.consumed), (f64::INFINITY, 8));
        let r = strtod(b"nan(x_1)z");
        assert!(r.value.is_nan());
        assert_eq!(r.consumed, 8);
        let r = strtod(b"nan(");
        assert_eq!(r.consumed, 3);
        let r = strtod(b"x");
        assert_eq!(r.consumed, 0);
        let r = strtod(b"1e999");
        assert!(r.range_error && r.value.is_infinite());
        assert_eq!(r.exp10, 999);
        let r = strtod(b"0.00012e-1");
        assert_eq!(r.exp10, -5);
        // Hex rounding: ties to even, and subnormals.
        assert_eq!(strtod(b"0x1.00000000000008p0").value, 1.0);
        assert_eq!(
            strtod(b"0x1.00000000000018p0").value,
            1.0 + 2.0 * f64::EPSILON
        );
        assert_eq!(strtod(b"0x1.000000000000081p0").value, 1.0 + f64::EPSILON);
        assert_eq!(strtod(b"0x1p-1074").value, 5e-324);
        assert_eq!(strtod(b"0x1p-1075").value, 0.0);
        assert!(strtod(b"0x1p-1075").range_error);
        assert_eq!(strtod(b"0x1.8p-1075").value, 5e-324);
        assert_eq!(strtod(b"0x1.fffffffffffffp1023").value, f64::MAX);
        assert!(strtod(b"0x1.fffffffffffff8p1023").value.is_infinite());
        assert_eq!(
            strtod(b"0x123456789abcdef0123p0").value,
            5.373003642731685e21
        );
    }

    #[test]
    fn parse_long_double_like_string2ld() {
        assert_eq!(parse_long_double(b"10.5"), Some(10.5));
        assert_eq!(parse_long_double(b"inf"), Some(f64::INFINITY));
        assert_eq!(parse_long_double(b"-inf"), Some(f64::NEG_INFINITY));
        // Within long double's range but not f64's.
        assert_eq!(parse_long_double(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_long_double(b"-1e400"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_long_double(b"1e-400"), Some(0.0));
        // Beyond long double's range too.
        assert_eq!(parse_long_double(b"1e5000"), None);
        assert_eq!(parse_long_double(b"1e-5000"), None);
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"abc", b"1\0"] {
            assert_eq!(parse_long_double(bad), None);
        }
        let mut long = vec![b'0'; MAX_LONG_DOUBLE_CHARS - 2];
        long.push(b'7');
        assert_eq!(parse_long_double(&long), Some(7.0));
        long.insert(0, b'0');
        assert_eq!(parse_long_double(&long), None);
    }
}
