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
//! - [`LongDouble`]: exact software emulation of x87 `long double` for
//!   INCRBYFLOAT/HINCRBYFLOAT (`string2ld`, `+`, `ld2string` human mode);
//! - [`parse_long_double`]: `string2ld` rounded to `f64`;
//! - [`strtod`]: a faithful `strtod` prefix parser for callers that have their
//!   own validation (e.g. ZRANGEBYSCORE bounds);
//! - [`atoll`]: C's `atoll` / `strtoll(s, NULL, 10)` (numkeys key finders,
//!   the AOF manifest).
//!
//! Formatting:
//! - [`write_i64`]/[`write_u64`]: `ll2string`/`ull2string`;
//! - [`format_double`]: `d2string` (scores, `addReplyDouble`), which prints
//!   integers exactly and everything else with `fpconv_dtoa` (Grisu2, see
//!   [`grisu2`]'s module comment);
//! - [`format_human_float`]: `addReplyHumanLongDouble` of a double (GEOPOS);
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

/// C's `atoll` (glibc: `strtoll(s, NULL, 10)`): leading white space, a
/// sign, the digits up to the first other byte (none: 0), saturated to the
/// `i64` range as `strtoll` does.
pub fn atoll(s: &[u8]) -> i64 {
    let mut i = 0;
    while s
        .get(i)
        .is_some_and(|&b| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        i += 1;
    }
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    // Accumulated negatively so that i64::MIN itself fits.
    let mut v: i64 = 0;
    while let Some(d) = s.get(i).filter(|b| b.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_sub(i64::from(d - b'0'));
        i += 1;
    }
    if negative {
        v
    } else {
        v.checked_neg().unwrap_or(i64::MAX)
    }
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

/// Valkey's `string2ld` rounded to `f64`. INCRBYFLOAT/HINCRBYFLOAT should
/// use the exact [`LongDouble::parse`] instead; this is for callers that
/// only need an approximate value with the same acceptance rules.
///
/// Valkey uses x87 80-bit `long double` here. Syntax and
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
        out.resize(out.len() + k as usize, b'0');
        return;
    }
    // Decimals without exponent: few fractional digits, or close to 1.
    if k < 0 && (k > -7 || exp < 4) {
        let offset = nd + k; // digits before the point
        if offset <= 0 {
            out.extend_from_slice(b"0.");
            out.resize(out.len() + (-offset) as usize, b'0');
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

/// Appends Valkey's `addReplyHumanLongDouble`/`ld2string(LD_STR_HUMAN)`
/// text of a double (GEOPOS coordinates, ...): the double is widened
/// exactly to `long double` and printed with `%.17Lf`, trailing zeros and a
/// bare point removed, `-0` as `0`, never an exponent. For example the
/// double nearest 10.6 prints `10.59999999999999964`, exactly like Valkey.
///
/// INCRBYFLOAT/HINCRBYFLOAT must not go through `f64` at all: they parse,
/// add and print in extended precision, see [`LongDouble`].
pub fn format_human_float(v: f64, out: &mut Vec<u8>) {
    LongDouble::from_f64(v).format_human(out);
}

/// Appends `v` in fixed notation from its shortest round-trip digits,
/// rounded to at most 17 fractional digits, trailing zeros trimmed (`0.1`,
/// `10.6`, `1e20` as `100000000000000000000`). Not a Valkey format; for
/// callers that want human text of an `f64` without binary noise.
pub fn format_shortest_fixed(v: f64, out: &mut Vec<u8>) {
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
        out.resize(out.len() + k as usize, b'0');
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
        out.resize(out.len() + (-int_len) as usize, b'0');
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
/// Verified against Valkey for even digit counts; Valkey itself only ever
/// uses 4, and its C routine misplaces the point for odd counts (we print the
/// correct text there).
pub fn format_fixed_point(v: f64, frac_digits: usize, out: &mut Vec<u8>) {
    let n = frac_digits.clamp(1, 17);
    if v == 0.0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + n, b'0');
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
        out.resize(out.len() + n - digits.len(), b'0');
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

// ---------------------------------------------------------------------------
// x87 80-bit `long double` emulation (INCRBYFLOAT, HINCRBYFLOAT)
// ---------------------------------------------------------------------------

/// Valkey computes INCRBYFLOAT/HINCRBYFLOAT in x87 80-bit extended precision
/// (64-bit mantissa) and prints the result with `%.17Lf`, which shows that
/// format's rounding artifacts (`39943.541 + -393.77` gives
/// `39549.7710000000000008`). `f64` cannot reproduce those bytes, so this
/// type emulates the format exactly in software: parsing like glibc's
/// `strtold` (correctly rounded), addition like the FPU (round to nearest,
/// ties to even), and `ld2string(LD_STR_HUMAN)` formatting.
///
/// Typical use:
/// ```
/// use ferrokey_server::util::num::LongDouble;
/// let cur = LongDouble::parse(b"10.5").unwrap();
/// let sum = cur.add(LongDouble::parse(b"0.1").unwrap());
/// assert!(sum.is_finite()); // else: "increment would produce NaN or Infinity"
/// let mut text = Vec::new();
/// sum.format_human(&mut text);
/// assert_eq!(text, b"10.6");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    kind: LdKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LdKind {
    Zero,
    /// `m * 2^e`; normal numbers have the top bit of `m` set, subnormals
    /// have `e == LD_MIN_E`.
    Finite {
        m: u64,
        e: i32,
    },
    Inf,
    Nan,
}

/// Exponent of the mantissa's lowest bit for the smallest numbers
/// (extended format: 2^-16382 normal minimum, 63 fraction bits).
const LD_MIN_E: i64 = -16382 - 63;
/// Largest exponent of the leading bit.
const LD_MAX_TOP: i64 = 16383;

impl LongDouble {
    /// Positive zero.
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        kind: LdKind::Zero,
    };

    /// Valkey's `string2ld`: the whole input must be a valid `strtold`
    /// number (no leading space, no trailing bytes, fewer than 5120 bytes),
    /// not NaN, and not overflowing or underflowing to zero. `inf` is
    /// accepted (the caller's NaN/Infinity check rejects it later).
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS || is_c_space(s[0]) {
            return None;
        }
        // The grammar is strtod's; let it validate the syntax.
        let r = strtod(s);
        if r.consumed != s.len() || r.value.is_nan() {
            return None;
        }
        let (neg, body) = match s[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        if body.first().is_some_and(|c| c | 0x20 == b'i') {
            return Some(LongDouble {
                neg,
                kind: LdKind::Inf,
            });
        }
        let hex = body.len() > 2 && body[0] == b'0' && body[1] | 0x20 == b'x';
        let v = if hex {
            Self::exact_hex(neg, &body[2..])
        } else {
            Self::exact_decimal(neg, body)?
        };
        // ERANGE with HUGE_VALL or zero is a rejection.
        match v.kind {
            LdKind::Inf => None,
            LdKind::Zero if !Self::is_zero_literal(body, hex) => None,
            _ => Some(v),
        }
    }

    fn is_zero_literal(body: &[u8], hex: bool) -> bool {
        let mantissa = if hex { &body[2..] } else { body };
        let exp_mark = if hex { b'p' } else { b'e' };
        mantissa
            .iter()
            .take_while(|&&c| c | 0x20 != exp_mark)
            .all(|&c| c == b'0' || c == b'.')
    }

    /// Splits a validated literal into mantissa digits (no point) with the
    /// number of fractional digits, and the exponent after `e`/`p`.
    fn split_literal(body: &[u8], exp_mark: u8) -> (Vec<u8>, i64, i64) {
        let mut digits = Vec::with_capacity(body.len());
        let mut frac = 0i64;
        let mut in_frac = false;
        let mut i = 0;
        while i < body.len() && body[i] | 0x20 != exp_mark {
            match body[i] {
                b'.' => in_frac = true,
                c => {
                    digits.push(c);
                    frac += i64::from(in_frac);
                }
            }
            i += 1;
        }
        let mut exp = 0i64;
        if i < body.len() {
            let mut j = i + 1;
            let mut eneg = false;
            if j < body.len() && (body[j] == b'+' || body[j] == b'-') {
                eneg = body[j] == b'-';
                j += 1;
            }
            while j < body.len() {
                exp = (exp * 10 + i64::from(body[j] - b'0')).min(1_000_000_000);
                j += 1;
            }
            if eneg {
                exp = -exp;
            }
        }
        (digits, frac, exp)
    }

    fn exact_decimal(neg: bool, body: &[u8]) -> Option<LongDouble> {
        let (digits, frac, exp) = Self::split_literal(body, b'e');
        let first = digits.iter().position(|&c| c != b'0');
        let Some(first) = first else {
            return Some(LongDouble {
                neg,
                kind: LdKind::Zero,
            });
        };
        let digits = &digits[first..];
        let e10 = exp - frac;
        // Decimal exponent of the leading digit: far outside the format's
        // range there is no need for exact arithmetic.
        let lead = digits.len() as i64 - 1 + e10;
        if lead > 4933 {
            return None; // overflow: rejected like ERANGE/HUGE_VALL
        }
        if lead < -4953 {
            return None; // underflow to zero: rejected
        }
        let mut d = Big::from_decimal(digits);
        if e10 >= 0 {
            d.mul_pow10(e10 as u32);
            return Some(round_ld(neg, &d, 0, false));
        }
        // d / 10^-e10: scale so that the quotient has 66-67 bits, enough
        // for correct rounding to 64 bits with the remainder as sticky bit.
        let mut b = Big::from_u64(1);
        b.mul_pow10((-e10) as u32);
        let s = b.bits() as i64 - d.bits() as i64 + 66;
        if s >= 0 {
            d.shl(s as u64);
        } else {
            b.shl((-s) as u64);
        }
        let (q, exact) = d.div_small_quotient(&b);
        Some(round_ld(neg, &Big::from_u128(q), -s, !exact))
    }

    fn exact_hex(neg: bool, body: &[u8]) -> LongDouble {
        let (digits, frac, exp) = Self::split_literal(body, b'p');
        let mut m = Big::default();
        for &c in &digits {
            m.mul_small(16);
            m.add_small(hex_digit(c).unwrap_or(0) as u32);
        }
        if m.is_zero() {
            return LongDouble {
                neg,
                kind: LdKind::Zero,
            };
        }
        round_ld(neg, &m, exp - 4 * frac, false)
    }

    /// The exact value of an integer (every `i64` fits in 64 bits).
    pub fn from_i64(v: i64) -> LongDouble {
        if v == 0 {
            return Self::ZERO;
        }
        let m = v.unsigned_abs();
        let lz = m.leading_zeros();
        LongDouble {
            neg: v < 0,
            kind: LdKind::Finite {
                m: m << lz,
                e: -(lz as i32),
            },
        }
    }

    /// The exact value of an `f64` (every double is representable).
    pub fn from_f64(v: f64) -> LongDouble {
        let neg = v.is_sign_negative();
        if v.is_nan() {
            return LongDouble {
                neg,
                kind: LdKind::Nan,
            };
        }
        if v.is_infinite() {
            return LongDouble {
                neg,
                kind: LdKind::Inf,
            };
        }
        if v == 0.0 {
            return LongDouble {
                neg,
                kind: LdKind::Zero,
            };
        }
        let bits = v.to_bits();
        let frac = bits & ((1 << 52) - 1);
        let bexp = ((bits >> 52) & 0x7ff) as i64;
        let (m, e) = if bexp == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), bexp - 1075)
        };
        round_ld(neg, &Big::from_u64(m), e, false)
    }

    /// Rounds to the nearest `f64` (ties to even).
    pub fn to_f64(self) -> f64 {
        let sign = if self.neg { -1.0 } else { 1.0 };
        match self.kind {
            LdKind::Zero => sign * 0.0,
            LdKind::Inf => sign * f64::INFINITY,
            LdKind::Nan => f64::NAN,
            LdKind::Finite { m, e } => sign * round_binary(m, i64::from(e), false).0,
        }
    }

    /// True unless infinite or NaN.
    pub fn is_finite(self) -> bool {
        matches!(self.kind, LdKind::Zero | LdKind::Finite { .. })
    }

    /// True for NaN.
    pub fn is_nan(self) -> bool {
        self.kind == LdKind::Nan
    }

    /// True for +-infinity.
    pub fn is_infinite(self) -> bool {
        self.kind == LdKind::Inf
    }

    /// `self + other`, rounded to the nearest representable value like the
    /// x87 FPU in extended precision.
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, other: LongDouble) -> LongDouble {
        use LdKind::*;
        let nan = LongDouble {
            neg: false,
            kind: Nan,
        };
        match (self.kind, other.kind) {
            (Nan, _) | (_, Nan) => nan,
            (Inf, Inf) if self.neg != other.neg => nan,
            (Inf, _) => self,
            (_, Inf) => other,
            (Zero, Zero) => LongDouble {
                neg: self.neg && other.neg,
                kind: Zero,
            },
            (Zero, _) => other,
            (_, Zero) => self,
            (Finite { m: ma, e: ea }, Finite { m: mb, e: eb }) => {
                // Make `a` the operand with the larger exponent.
                let (a_neg, ma, ea, b_neg, mb, mut eb) = if ea >= eb {
                    (self.neg, ma, i64::from(ea), other.neg, mb, i64::from(eb))
                } else {
                    (other.neg, mb, i64::from(eb), self.neg, ma, i64::from(ea))
                };
                let mut mb = mb;
                if ea - eb > 130 {
                    // `b` is far below half an ulp of the result: any tiny
                    // nonzero value of the same sign rounds identically.
                    mb = 1;
                    eb = ea - 70;
                }
                let mut big_a = Big::from_u64(ma);
                big_a.shl((ea - eb) as u64);
                let big_b = Big::from_u64(mb);
                if a_neg == b_neg {
                    big_a.add_assign(&big_b);
                    round_ld(a_neg, &big_a, eb, false)
                } else {
                    match big_a.cmp(&big_b) {
                        std::cmp::Ordering::Equal => Self::ZERO,
                        std::cmp::Ordering::Greater => {
                            big_a.sub_assign(&big_b);
                            round_ld(a_neg, &big_a, eb, false)
                        }
                        std::cmp::Ordering::Less => {
                            let mut r = big_b;
                            r.sub_assign(&big_a);
                            round_ld(b_neg, &r, eb, false)
                        }
                    }
                }
            }
        }
    }

    /// Appends Valkey's `ld2string(LD_STR_HUMAN)` text: `%.17Lf` of the
    /// exact value (rounded half-to-even at 17 decimals), trailing zeros and
    /// a bare point removed, `-0` printed as `0`; `inf`, `-inf`, `nan`.
    pub fn format_human(self, out: &mut Vec<u8>) {
        let (m, e) = match self.kind {
            LdKind::Nan => return out.extend_from_slice(b"nan"),
            LdKind::Inf => {
                return out.extend_from_slice(if self.neg { b"-inf" } else { b"inf" });
            }
            LdKind::Zero => return out.push(b'0'),
            LdKind::Finite { m, e } => (m, i64::from(e)),
        };
        if e >= 0 {
            // An integer: print all its digits.
            if self.neg {
                out.push(b'-');
            }
            let mut big = Big::from_u64(m);
            big.shl(e as u64);
            big.write_decimal(out);
            return;
        }
        const SCALE: u128 = 100_000_000_000_000_000; // 10^17
        let fb = (-e) as u32; // fractional bits
        let mut int_part = if fb >= 64 { 0 } else { m >> fb };
        let frac = if fb >= 64 { m } else { m & ((1u64 << fb) - 1) };
        // frac * 10^17 < 2^121: exact in u128.
        let x = u128::from(frac) * SCALE;
        let (mut q, rem) = if fb >= 128 {
            (0, x)
        } else {
            (x >> fb, x & ((1u128 << fb) - 1))
        };
        if fb <= 128 {
            let half = 1u128 << (fb - 1);
            if rem > half || (rem == half && q & 1 == 1) {
                q += 1;
            }
        }
        if q == SCALE {
            q = 0;
            int_part += 1;
        }
        if self.neg && (int_part != 0 || q != 0) {
            out.push(b'-');
        }
        write_u64(int_part, out);
        if q != 0 {
            out.push(b'.');
            let mut digits = [0u8; 17];
            let mut v = q;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (v % 10) as u8;
                v /= 10;
            }
            let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
            out.extend_from_slice(&digits[..end]);
        }
    }
}

/// Rounds `mag * 2^e2` (plus a sticky "a little more" bit, only allowed
/// when `mag` carries at least two bits beyond the target precision) to
/// extended precision.
fn round_ld(neg: bool, mag: &Big, e2: i64, sticky: bool) -> LongDouble {
    if mag.is_zero() {
        return LongDouble {
            neg,
            kind: LdKind::Zero,
        };
    }
    let inf = LongDouble {
        neg,
        kind: LdKind::Inf,
    };
    let top = mag.bits() as i64 - 1 + e2;
    if top > LD_MAX_TOP {
        return inf;
    }
    let mut lsb = if top - 63 >= LD_MIN_E {
        top - 63
    } else {
        LD_MIN_E
    };
    let shift = lsb - e2;
    let mut m;
    if shift <= 0 {
        // Fits exactly: mag has at most 64 - |shift| bits here.
        m = (mag.low_u128(0) as u64) << (-shift) as u32;
    } else {
        let s = shift as u64;
        m = mag.low_u128(s) as u64;
        let half = mag.bit(s - 1);
        let rest = sticky || mag.any_below(s - 1);
        if half && (rest || m & 1 == 1) {
            m = match m.checked_add(1) {
                Some(v) => v,
                None => {
                    lsb += 1;
                    1 << 63
                }
            };
        }
    }
    if m == 0 {
        return LongDouble {
            neg,
            kind: LdKind::Zero,
        };
    }
    if lsb + 63 > LD_MAX_TOP && m >> 63 == 1 {
        return inf;
    }
    LongDouble {
        neg,
        kind: LdKind::Finite { m, e: lsb as i32 },
    }
}

/// A minimal unsigned big integer (little-endian 32-bit limbs, no trailing
/// zero limbs), just enough for exact decimal <-> extended conversions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn from_u128(v: u128) -> Big {
        let mut b = Big((0..4).map(|i| (v >> (32 * i)) as u32).collect());
        b.trim();
        b
    }

    fn from_decimal(digits: &[u8]) -> Big {
        let mut b = Big::default();
        // Nine digits at a time.
        for chunk in digits.chunks(9) {
            let mut v = 0u32;
            for &c in chunk {
                v = v * 10 + u32::from(c - b'0');
            }
            b.mul_small(10u32.pow(chunk.len() as u32));
            b.add_small(v);
        }
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let t = u64::from(*limb) * u64::from(m) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            if carry == 0 {
                break;
            }
            let t = u64::from(*limb) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut n: u32) {
        while n >= 9 {
            self.mul_small(1_000_000_000);
            n -= 9;
        }
        if n > 0 {
            self.mul_small(10u32.pow(n));
        }
    }

    fn shl(&mut self, n: u64) {
        if self.is_zero() {
            return;
        }
        let words = (n / 32) as usize;
        let bits = (n % 32) as u32;
        if bits != 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = *limb;
                *limb = (v << bits) | carry;
                carry = v >> (32 - bits);
            }
            if carry != 0 {
                self.0.push(carry);
            }
        }
        if words > 0 {
            let old = self.0.len();
            self.0.resize(old + words, 0);
            self.0.rotate_right(words);
        }
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for limb in self.0.iter_mut().rev() {
            let v = *limb;
            *limb = (v >> 1) | carry;
            carry = v << 31;
        }
        self.trim();
    }

    fn cmp(&self, o: &Big) -> std::cmp::Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }

    fn add_assign(&mut self, o: &Big) {
        if self.0.len() < o.0.len() {
            self.0.resize(o.0.len(), 0);
        }
        let mut carry = 0u64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let t = u64::from(*limb) + u64::from(o.0.get(i).copied().unwrap_or(0)) + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    /// `self -= o`, requires `self >= o`.
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for (i, limb) in self.0.iter_mut().enumerate() {
            let t = i64::from(*limb) - i64::from(o.0.get(i).copied().unwrap_or(0)) - borrow;
            *limb = t.rem_euclid(1 << 32) as u32;
            borrow = i64::from(t < 0);
        }
        self.trim();
    }

    fn bit(&self, i: u64) -> bool {
        self.0
            .get((i / 32) as usize)
            .is_some_and(|&l| (l >> (i % 32)) & 1 == 1)
    }

    /// Any bit below position `i` set?
    fn any_below(&self, i: u64) -> bool {
        let words = (i / 32) as usize;
        if self.0.iter().take(words).any(|&l| l != 0) {
            return true;
        }
        let bits = i % 32;
        bits > 0
            && self
                .0
                .get(words)
                .is_some_and(|&l| l & ((1u32 << bits) - 1) != 0)
    }

    /// Bits `[lo, lo + 128)` as a number.
    fn low_u128(&self, lo: u64) -> u128 {
        let mut v = 0u128;
        for k in 0..128u64 {
            if self.bit(lo + k) {
                v |= 1 << k;
            }
        }
        v
    }

    /// `self / b` for a quotient known to be below 2^68, by shift and
    /// subtract; returns (quotient, remainder is zero).
    fn div_small_quotient(&self, b: &Big) -> (u128, bool) {
        let mut r = self.clone();
        let mut t = b.clone();
        t.shl(67);
        let mut q = 0u128;
        for i in (0..=67).rev() {
            if r.cmp(&t) != std::cmp::Ordering::Less {
                r.sub_assign(&t);
                q |= 1 << i;
            }
            t.shr1();
        }
        (q, r.is_zero())
    }

    /// Divides in place by `d`, returning the remainder.
    fn div_rem_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        self.trim();
        rem as u32
    }

    fn write_decimal(&self, out: &mut Vec<u8>) {
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_rem_small(1_000_000_000));
        }
        match chunks.split_last() {
            None => out.push(b'0'),
            Some((&first, rest)) => {
                write_u64(u64::from(first), out);
                for &c in rest.iter().rev() {
                    let mut buf = [0u8; 20];
                    let s = u64_to_buf(u64::from(c), &mut buf);
                    out.resize(out.len() + 9 - s.len(), b'0');
                    out.extend_from_slice(s);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoll_is_strtoll() {
        assert_eq!(atoll(b"  -42xyz"), -42);
        assert_eq!(atoll(b"+7"), 7);
        assert_eq!(atoll(b"abc"), 0);
        assert_eq!(atoll(b"-9223372036854775808"), i64::MIN);
        assert_eq!(atoll(b"99999999999999999999"), i64::MAX);
        assert_eq!(atoll(b"-99999999999999999999"), i64::MIN);
    }

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
            (6.02214, "6.02214"),
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
        // Valkey's text for doubles widened to long double (GEOPOS style).
        let cases: &[(f64, &str)] = &[
            (10.5 + 0.1, "10.59999999999999964"),
            (10.5, "10.5"),
            (3.0, "3"),
            (-0.0, "0"),
            (0.0, "0"),
            (-1.5, "-1.5"),
            (0.1, "0.10000000000000001"),
            (13.361389338970184, "13.36138933897018433"),
            (38.115_556_395_496_3, "38.11555639549629859"),
            (1e20, "100000000000000000000"),
            (1e-18, "0"),
            (-1e-18, "0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(v, want) in cases {
            assert_eq!(fmt(|o| format_human_float(v, o)), want, "{v:e}");
        }
        let cases: &[(f64, &str)] = &[
            (10.5 + 0.1, "10.6"),
            (-0.0, "0"),
            (1.2345e-10, "0.00000000012345"),
            (1.23456789e-12, "0.00000000000123457"),
            (1e-18, "0"),
            (-1e-18, "0"),
            (5e-18, "0.00000000000000001"),
            (0.99999999999999999, "1"),
            (1e20, "100000000000000000000"),
            (f64::NAN, "nan"),
        ];
        for &(v, want) in cases {
            assert_eq!(fmt(|o| format_shortest_fixed(v, o)), want, "{v:e}");
        }
    }

    fn ld(s: &str) -> LongDouble {
        LongDouble::parse(s.as_bytes()).unwrap()
    }

    fn ld_text(v: LongDouble) -> String {
        let mut o = Vec::new();
        v.format_human(&mut o);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn long_double_incrbyfloat() {
        // (a, b, Valkey's text of a + b), from Valkey's own code.
        let cases: &[(&str, &str, &str)] = &[
            ("10.5", "0.1", "10.6"),
            ("10.50", "0.25", "10.75"),
            ("5.0e3", "2.0e2", "5200"),
            ("39943.541", "-393.77", "39549.7710000000000008"),
            ("-13599.908", "341.10", "-13258.80800000000000072"),
            ("1", "-1.1", "-0.1"),
            ("0.3333333333333333", "-0.3333333333333333", "0"),
            ("1", "0.000003814697265625", "1.00000381469726562"),
            ("1e400", "1", "1"),
            ("0x1p-3", "0", "0.125"),
            ("-0", "-0", "0"),
            ("1e-20", "-1e-20", "0"),
            ("-1e-20", "0", "0"),
        ];
        for &(a, b, want) in cases {
            let got = if a == "1e400" {
                // 1e400 + 1 as a long double: 1 followed by 400 zeros.
                let v = ld(a).add(ld(b));
                assert!(v.is_finite());
                let t = ld_text(v);
                assert_eq!(t.len(), 401);
                assert!(t.starts_with("1000000000000000000"));
                continue;
            } else {
                ld_text(ld(a).add(ld(b)))
            };
            assert_eq!(got, want, "{a} + {b}");
        }
        // NaN / infinity results are detected by the caller.
        assert!(!ld("inf").add(ld("1")).is_finite());
        assert!(ld("inf").add(ld("-inf")).is_nan());
        assert!(ld("-inf").is_infinite());
        assert!(ld("1.18e4932").add(ld("1.18e4932")).is_infinite());
        // Parsing rules are string2ld's.
        for bad in [
            "", " 1", "1 ", "nan", "1e5000", "1e-5000", "abc", "0x", "1\0",
        ] {
            assert_eq!(LongDouble::parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(LongDouble::parse(b"1\0x"), None);
        assert!(LongDouble::parse(b"1e-4940").is_some()); // subnormal
        assert!(LongDouble::parse(b"0e-9999").is_some());
        // Integers and doubles convert exactly.
        assert_eq!(
            ld_text(LongDouble::from_i64(i64::MIN)),
            "-9223372036854775808"
        );
        assert_eq!(ld_text(LongDouble::from_i64(7).add(ld("0.5"))), "7.5");
        assert_eq!(LongDouble::from_f64(0.1).to_f64(), 0.1);
        assert_eq!(ld("0.1").to_f64(), 0.1);
        assert_eq!(ld("1e400").to_f64(), f64::INFINITY);
        assert_eq!(ld_text(LongDouble::ZERO), "0");
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
