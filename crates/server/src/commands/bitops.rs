//! Bit commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP,
//! BITFIELD and BITFIELD_RO.
//!
//! Bits are numbered from the most significant bit of the first byte, as in
//! Valkey's `bitops.c`. Bits past the end of a string read as zero; writes
//! past the end grow the string with zero bytes (up to proto-max-bulk-len).
//!
//! BITOP implements AND, OR, XOR and NOT: Valkey 8.0 has no DIFF, DIFF1,
//! ANDOR or ONE (those arrived in Redis 8.2), so they are a syntax error here
//! too.

use super::keys::{notify, notify_new};
use super::strings::{
    cstr, is_kw, probe_string, read_string, split, with_raw_mut, write_clock, Slot,
};
use super::{acl, err, flags::*, Command, Ctx};
use crate::config::notify::{GENERIC, STRING};
use crate::keyspace::Record;
use crate::resp::Reply;
use crate::util::num::parse_i64;

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("setbit", 4, WRITE | DENYOOM, acl::BITMAP, setbit)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("bitmap", "2.2.0", "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.", "O(1)"),
        Command::new("getbit", 3, READONLY | FAST, acl::BITMAP, getbit)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("bitmap", "2.2.0", "Returns a bit value by offset.", "O(1)"),
        Command::new("bitcount", -2, READONLY, acl::BITMAP, bitcount)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("bitmap", "2.6.0", "Counts the number of set bits (population counting) in a string.", "O(N)"),
        Command::new("bitpos", -3, READONLY, acl::BITMAP, bitpos)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("bitmap", "2.8.7", "Finds the first set (1) or clear (0) bit in a string.", "O(N)"),
        Command::new("bitop", -4, WRITE | DENYOOM, acl::BITMAP, bitop)
            .key_specs(&[KeySpec::at(2, OW | UPDATE), KeySpec::at(3, RO | ACCESS).range(-1, 1, 0)])
            .doc("bitmap", "2.6.0", "Performs bitwise operations on multiple strings, and stores the result.", "O(N)"),
        Command::new("bitfield", -2, WRITE | DENYOOM, acl::BITMAP, bitfield)
            .key_specs(&[
                KeySpec::at(1, RW | ACCESS | UPDATE | VARIABLE_FLAGS)
                    .notes("This command allows both access and modification of the key"),
            ])
            .key_refs_fn(super::introspection::bitfield_keys)
            .doc("bitmap", "3.2.0", "Performs arbitrary bitfield integer operations on strings.", "O(1) for each subcommand specified"),
        Command::new("bitfield_ro", -2, READONLY | FAST, acl::BITMAP, bitfield_ro)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("bitmap", "6.0.0", "Performs arbitrary read-only bitfield integer operations on strings.", "O(1) for each subcommand specified"),
    ]
};

const ERR_BIT_OFFSET: &[u8] = b"ERR bit offset is not an integer or out of range";
const ERR_BIT_VALUE: &[u8] = b"ERR bit is not an integer or out of range";
const ERR_BITFIELD_TYPE: &[u8] =
    b"ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

// ---------------------------------------------------------------------------
// Argument parsing
// ---------------------------------------------------------------------------

/// Valkey's `getBitOffsetFromArgument`: a bit offset, which must address a
/// byte below proto-max-bulk-len. With `hash_bits`, BITFIELD's `#N` form is
/// accepted and means N * bits. Replies the error on failure.
fn parse_bit_offset(ctx: &mut Ctx<'_>, arg: &[u8], hash_bits: Option<u32>) -> Option<u64> {
    let (digits, mul) = match (arg.split_first(), hash_bits) {
        (Some((b'#', rest)), Some(bits)) if bits > 0 => (rest, i64::from(bits)),
        _ => (arg, 1),
    };
    // Valkey multiplies without an overflow check (undefined behaviour in
    // C); an offset that overflows is rejected here instead.
    let off = parse_i64(digits).and_then(|v| v.checked_mul(mul));
    match off {
        Some(v) if v >= 0 && ((v as u64) >> 3) < ctx.srv.config.proto_max_bulk_len => {
            Some(v as u64)
        }
        _ => {
            ctx.out.error(ERR_BIT_OFFSET);
            None
        }
    }
}

/// An optional `start end [BYTE|BIT]` range of BITCOUNT / BITPOS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Range {
    start: i64,
    end: Option<i64>,
    bit_unit: bool,
}

/// Parses the range arguments from `first` on (at most three; more is a
/// syntax error), in Valkey's order: start, then the unit, then end. An end
/// is optional (Valkey 8 accepts `BITCOUNT key start`).
fn parse_range(ctx: &mut Ctx<'_>, first: usize) -> Result<Option<Range>, ()> {
    let argc = ctx.argc();
    if argc == first {
        return Ok(None);
    }
    if argc > first + 3 {
        ctx.out.error(err::SYNTAX);
        return Err(());
    }
    let start = ctx.arg_i64(first).ok_or(())?;
    let mut bit_unit = false;
    if argc == first + 3 {
        let unit = ctx.arg(first + 2);
        if is_kw(unit, "BIT") {
            bit_unit = true;
        } else if !is_kw(unit, "BYTE") {
            ctx.out.error(err::SYNTAX);
            return Err(());
        }
    }
    let end = if argc >= first + 2 {
        Some(ctx.arg_i64(first + 1).ok_or(())?)
    } else {
        None
    };
    Ok(Some(Range {
        start,
        end,
        bit_unit,
    }))
}

/// Resolves a range against a string of `len` bytes into an inclusive
/// (start, end) in the range's unit, Valkey's way: negative indexes count
/// from the end, then both are clamped into the string. `start > end`
/// afterwards means an empty range.
fn resolve(r: Option<Range>, len: usize) -> (i64, i64) {
    let len = len as i64;
    let Some(r) = r else {
        return (0, len - 1);
    };
    let total = if r.bit_unit { len * 8 } else { len };
    let mut start = r.start;
    let mut end = r.end.unwrap_or(len - 1);
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    (start, end)
}

// ---------------------------------------------------------------------------
// Bit arithmetic on byte strings
// ---------------------------------------------------------------------------

fn popcount(s: &[u8]) -> u64 {
    let mut chunks = s.chunks_exact(8);
    let mut n: u64 = 0;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        n += u64::from(u64::from_ne_bytes(w).count_ones());
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>()
}

/// Set bits in the inclusive bit range `[from, to]` (within `s`).
fn count_bits(s: &[u8], from: u64, to: u64) -> u64 {
    let (fb, lb) = ((from >> 3) as usize, (to >> 3) as usize);
    let mut n = popcount(&s[fb..=lb]);
    // Take out the bits of the first byte before `from` and of the last
    // byte after `to`.
    let head = !(0xFFu32 >> (from & 7)) & 0xFF;
    let tail = (1u32 << (7 - (to & 7))) - 1;
    n -= u64::from((u32::from(s[fb]) & head).count_ones());
    n -= u64::from((u32::from(s[lb]) & tail).count_ones());
    n
}

/// The first bit equal to `bit` in the inclusive bit range `[from, to]`
/// (within `s`).
fn find_bit(s: &[u8], bit: bool, from: u64, to: u64) -> Option<u64> {
    let (fb, lb) = ((from >> 3) as usize, (to >> 3) as usize);
    // Looking for zeros is looking for ones in the complement.
    let flip = if bit { 0u8 } else { 0xFF };
    let head = (0xFFu32 >> (from & 7)) as u8;
    let tail = !((1u32 << (7 - (to & 7))) - 1) as u8;
    let masked = |i: usize| {
        let mut b = s[i] ^ flip;
        if i == fb {
            b &= head;
        }
        if i == lb {
            b &= tail;
        }
        b
    };
    if masked(fb) != 0 {
        return Some(fb as u64 * 8 + u64::from(masked(fb).leading_zeros()));
    }
    if lb > fb {
        if let Some(k) = s[fb + 1..lb].iter().position(|&b| b != flip) {
            let i = fb + 1 + k;
            return Some(i as u64 * 8 + u64::from((s[i] ^ flip).leading_zeros()));
        }
        if masked(lb) != 0 {
            return Some(lb as u64 * 8 + u64::from(masked(lb).leading_zeros()));
        }
    }
    None
}

/// Reads `bits` (1..=64) bits at bit `offset` as an unsigned number, most
/// significant first; bits past the end of `p` read as zero.
fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for j in 0..u64::from(bits) {
        let o = offset + j;
        let byte = p.get((o >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | u64::from((byte >> (7 - (o & 7))) & 1);
    }
    v
}

/// Like [`get_unsigned`], sign-extending from the top bit read.
fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let u = get_unsigned(p, offset, bits);
    if bits < 64 && u & (1 << (bits - 1)) != 0 {
        (u | (u64::MAX << bits)) as i64
    } else {
        u as i64
    }
}

/// Writes the low `bits` bits of `value` at bit `offset` (which `p` must
/// cover).
fn set_bits(p: &mut [u8], offset: u64, bits: u32, value: u64) {
    for j in 0..u64::from(bits) {
        let bit = (value >> (u64::from(bits) - 1 - j)) & 1;
        let o = offset + j;
        let shift = 7 - (o & 7);
        let byte = &mut p[(o >> 3) as usize];
        *byte = (*byte & !(1 << shift)) | ((bit as u8) << shift);
    }
}

/// BITFIELD's OVERFLOW behaviours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// Overflow check for storing `value + incr` in an unsigned field of `bits`
/// bits (Valkey's `checkUnsignedBitfieldOverflow`, computed with the same
/// two's complement arithmetic). Returns 1 on overflow, -1 on underflow, 0 if
/// it fits, and the value to store instead (WRAP and SAT).
fn check_unsigned_overflow(value: u64, incr: i64, bits: u32, ow: Overflow) -> (i32, u64) {
    let max = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let wrapped = || {
        let sum = value.wrapping_add(incr as u64);
        if bits >= 64 {
            sum
        } else {
            sum & max
        }
    };
    if value > max || (incr > 0 && incr > max_incr) {
        let limit = match ow {
            Overflow::Wrap => wrapped(),
            Overflow::Sat => max,
            Overflow::Fail => 0,
        };
        (1, limit)
    } else if incr < 0 && incr < min_incr {
        let limit = match ow {
            Overflow::Wrap => wrapped(),
            _ => 0,
        };
        (-1, limit)
    } else {
        (0, 0)
    }
}

/// The signed counterpart (Valkey's `checkSignedBitfieldOverflow`), with its
/// exact arithmetic: e.g. SAT clamps `SET i8 -9223372036854775808` to 127,
/// because Valkey's `max - value` wraps there.
fn check_signed_overflow(value: i64, incr: i64, bits: u32, ow: Overflow) -> (i32, i64) {
    let max = if bits >= 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrapped = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        let limit = match ow {
            Overflow::Wrap => wrapped(),
            Overflow::Sat => max,
            Overflow::Fail => 0,
        };
        (1, limit)
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        let limit = match ow {
            Overflow::Wrap => wrapped(),
            Overflow::Sat => min,
            Overflow::Fail => 0,
        };
        (-1, limit)
    } else {
        (0, 0)
    }
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// Looks `key` up for a bit write (Valkey's `lookupStringForBitCommand`):
/// creates it if missing, makes it a raw string at least `min_len` bytes
/// long, then runs `f` on its bytes with the reply buffer. `f` is told
/// whether the key was created or grew. None after a WRONGTYPE reply.
///
/// A created key is announced (`new`) whatever `f` then does: Valkey adds
/// it before running the operations, and keeps it even when OVERFLOW FAIL
/// stops all of them. The operations publish nothing, so announcing it
/// once they ran is the same sequence for subscribers.
fn with_bits_for_write<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    min_len: usize,
    f: impl FnOnce(&mut [u8], bool, &mut Reply) -> R,
) -> Option<R> {
    let (db, out, _, now, touch) = split(ctx);
    let created = match probe_string(db, key, now, touch) {
        Slot::WrongType => {
            out.error(err::WRONGTYPE);
            return None;
        }
        Slot::Missing => {
            db.insert(Record::new_raw(key, Vec::new(), None, now.clock));
            true
        }
        Slot::Str(_) => false,
    };
    let r = with_raw_mut(db, key, now, touch, |v| {
        let grew = v.len() < min_len;
        if grew {
            v.resize(min_len, 0);
        }
        f(v, created || grew, out)
    });
    if created {
        notify_new(ctx, key);
    }
    r
}

/// SETBIT key offset 0|1
fn setbit(ctx: &mut Ctx<'_>) {
    let (key, offset_arg) = (ctx.arg(1), ctx.arg(2));
    let Some(offset) = parse_bit_offset(ctx, offset_arg, None) else {
        return;
    };
    let on = match parse_i64(ctx.arg(3)) {
        Some(v) if v & !1 == 0 => v == 1,
        _ => return ctx.out.error(ERR_BIT_VALUE),
    };
    let byte = (offset >> 3) as usize;
    let shift = 7 - (offset & 7);
    let r = with_bits_for_write(ctx, key, byte + 1, |v, dirty, _| {
        let old = (v[byte] >> shift) & 1 == 1;
        if on {
            v[byte] |= 1 << shift;
        } else {
            v[byte] &= !(1 << shift);
        }
        (old, dirty || old != on)
    });
    let Some((old, changed)) = r else { return };
    // Valkey counts a change only if the string was created, grew or the
    // bit flipped.
    if changed {
        ctx.modified(key);
        notify(ctx, STRING, "setbit", key);
    }
    ctx.out.integer(i64::from(old));
}

/// GETBIT key offset
fn getbit(ctx: &mut Ctx<'_>) {
    let (key, offset_arg) = (ctx.arg(1), ctx.arg(2));
    let Some(offset) = parse_bit_offset(ctx, offset_arg, None) else {
        return;
    };
    let r = read_string(ctx, key, |s, _| get_unsigned(s, offset, 1) as i64);
    if let Ok(v) = r {
        ctx.out.integer(v.unwrap_or(0));
    }
}

/// BITCOUNT key [start [end [BYTE|BIT]]]
fn bitcount(ctx: &mut Ctx<'_>) {
    let Ok(range) = parse_range(ctx, 2) else {
        return;
    };
    let key = ctx.arg(1);
    let r = read_string(ctx, key, |s, _| {
        // Both indexes negative and already crossed: nothing to count.
        if let Some(Range {
            start,
            end: Some(end),
            ..
        }) = range
        {
            if start < 0 && end < 0 && start > end {
                return 0;
            }
        }
        let (start, end) = resolve(range, s.len());
        if start > end {
            return 0;
        }
        if range.is_some_and(|r| r.bit_unit) {
            count_bits(s, start as u64, end as u64)
        } else {
            popcount(&s[start as usize..=end as usize])
        }
    });
    if let Ok(n) = r {
        ctx.out.integer(n.unwrap_or(0) as i64);
    }
}

/// BITPOS key 0|1 [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx<'_>) {
    let Some(bit) = ctx.arg_i64(2) else { return };
    if bit != 0 && bit != 1 {
        return ctx.out.error(b"ERR The bit argument must be 1 or 0.");
    }
    let bit = bit == 1;
    let Ok(range) = parse_range(ctx, 3) else {
        return;
    };
    let key = ctx.arg(1);
    let r = read_string(ctx, key, |s, _| {
        let (start, end) = resolve(range, s.len());
        if start > end {
            return -1;
        }
        let bit_unit = range.is_some_and(|r| r.bit_unit);
        let (from, to) = if bit_unit {
            (start as u64, end as u64)
        } else {
            (start as u64 * 8, end as u64 * 8 + 7)
        };
        match find_bit(s, bit, from, to) {
            Some(p) => p as i64,
            // No clear bit in the range: without an explicit end the string
            // counts as padded with zeros, so the answer is the bit just
            // past the range.
            None if !bit && range.is_none_or(|r| r.end.is_none()) => (to + 1) as i64,
            None => -1,
        }
    });
    match r {
        Ok(Some(pos)) => ctx.out.integer(pos),
        Ok(None) => ctx.out.integer(if bit { -1 } else { 0 }),
        Err(()) => {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// Folds `src` into the result `res` of the previous sources (all of which
/// are implicitly zero-padded to the longest).
fn bitop_fold(op: BitOp, res: &mut Vec<u8>, src: &[u8]) {
    let common = res.len().min(src.len());
    match op {
        BitOp::And => {
            for (r, s) in res[..common].iter_mut().zip(src) {
                *r &= s;
            }
            // Past the shorter of the two, one side is zero.
            res[common..].fill(0);
            res.resize(src.len().max(res.len()), 0);
        }
        BitOp::Or | BitOp::Xor => {
            for (r, s) in res[..common].iter_mut().zip(src) {
                if op == BitOp::Or {
                    *r |= s;
                } else {
                    *r ^= s;
                }
            }
            if src.len() > common {
                res.extend_from_slice(&src[common..]);
            }
        }
        BitOp::Not => {}
    }
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]
fn bitop(ctx: &mut Ctx<'_>) {
    let name = cstr(ctx.arg(1));
    let op = if name.eq_ignore_ascii_case(b"and") {
        BitOp::And
    } else if name.eq_ignore_ascii_case(b"or") {
        BitOp::Or
    } else if name.eq_ignore_ascii_case(b"xor") {
        BitOp::Xor
    } else if name.eq_ignore_ascii_case(b"not") {
        BitOp::Not
    } else {
        return ctx.out.error(err::SYNTAX);
    };
    if op == BitOp::Not && ctx.argc() != 4 {
        return ctx
            .out
            .error(b"ERR BITOP NOT must be called with a single source key.");
    }
    let dest = ctx.arg(2);
    let mut res: Vec<u8> = Vec::new();
    for j in 3..ctx.argc() {
        let key = ctx.arg(j);
        // Missing sources are empty strings (read lookups: counted).
        let r = read_string(ctx, key, |s, _| {
            if j == 3 {
                res = if op == BitOp::Not {
                    s.iter().map(|b| !b).collect()
                } else {
                    s.to_vec()
                };
            } else {
                bitop_fold(op, &mut res, s);
            }
        });
        match r {
            Ok(Some(())) => {}
            Ok(None) => bitop_fold(op, &mut res, b""),
            Err(()) => return,
        }
    }
    let len = res.len();
    if len > 0 {
        // Stored like SET stores a value (the old TTL goes, the access clock
        // stays), as a raw string, and announced as SET does.
        let old_clock = ctx.lookup_write(dest).map(|r| r.clock());
        let clock = write_clock(old_clock, ctx.now());
        ctx.db().insert(Record::new_raw(dest, res, None, clock));
        if old_clock.is_none() {
            notify_new(ctx, dest);
        }
        ctx.modified(dest);
        notify(ctx, STRING, "set", dest);
    } else if ctx.db().remove(dest).is_some() {
        ctx.modified(dest);
        notify(ctx, GENERIC, "del", dest);
    }
    ctx.out.integer(len as i64);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldOp {
    Get,
    Set,
    IncrBy,
}

/// One parsed BITFIELD operation.
#[derive(Clone, Copy, Debug)]
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    /// SET value or INCRBY increment.
    value: i64,
    overflow: Overflow,
}

/// A BITFIELD type: `i1`..`i64` or `u1`..`u63` (case-sensitive prefix).
fn parse_field_type(a: &[u8]) -> Option<(bool, u32)> {
    let (signed, rest) = match a.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return None,
    };
    let bits = parse_i64(cstr(rest))?;
    let max = if signed { 64 } else { 63 };
    (1..=max).contains(&bits).then_some((signed, bits as u32))
}

/// Runs one SET or INCRBY on `v`, replying its result (or null when
/// OVERFLOW FAIL stops it). Returns None if it was stopped, else whether
/// the field's value changed.
fn run_write(v: &mut [u8], f: &Field, out: &mut Reply) -> Option<bool> {
    let (old, new, reply, overflow) = if f.signed {
        let old = get_signed(v, f.offset, f.bits);
        let (new, reply, ovf) = if f.op == FieldOp::IncrBy {
            let (ovf, limit) = check_signed_overflow(old, f.value, f.bits, f.overflow);
            let new = if ovf != 0 {
                limit
            } else {
                old.wrapping_add(f.value)
            };
            (new, new, ovf)
        } else {
            let (ovf, limit) = check_signed_overflow(f.value, 0, f.bits, f.overflow);
            (if ovf != 0 { limit } else { f.value }, old, ovf)
        };
        (old as u64, new as u64, reply, ovf)
    } else {
        let old = get_unsigned(v, f.offset, f.bits);
        let (new, reply, ovf) = if f.op == FieldOp::IncrBy {
            let (ovf, limit) = check_unsigned_overflow(old, f.value, f.bits, f.overflow);
            let new = if ovf != 0 {
                limit
            } else {
                old.wrapping_add(f.value as u64)
            };
            (new, new as i64, ovf)
        } else {
            let (ovf, limit) = check_unsigned_overflow(f.value as u64, 0, f.bits, f.overflow);
            (
                if ovf != 0 { limit } else { f.value as u64 },
                old as i64,
                ovf,
            )
        };
        (old, new, reply, ovf)
    };
    if overflow != 0 && f.overflow == Overflow::Fail {
        out.null();
        return None;
    }
    out.integer(reply);
    set_bits(v, f.offset, f.bits, new);
    // Compare the stored field bits only (a signed `new` may carry sign
    // extension above them).
    let mask = if f.bits >= 64 {
        u64::MAX
    } else {
        (1u64 << f.bits) - 1
    };
    Some(old & mask != new & mask)
}

fn run_get(v: &[u8], f: &Field, out: &mut Reply) {
    if f.signed {
        out.integer(get_signed(v, f.offset, f.bits));
    } else {
        out.integer(get_unsigned(v, f.offset, f.bits) as i64);
    }
}

/// BITFIELD and BITFIELD_RO: every operation is parsed (and validated)
/// before any runs.
fn bitfield_generic(ctx: &mut Ctx<'_>, read_only_cmd: bool) {
    let mut fields: Vec<Field> = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest_write_bit: Option<u64> = None;
    let argc = ctx.argc();
    let mut j = 2;
    while j < argc {
        let remaining = argc - j - 1;
        let sub = ctx.arg(j);
        let op = if is_kw(sub, "GET") && remaining >= 2 {
            FieldOp::Get
        } else if is_kw(sub, "SET") && remaining >= 3 {
            FieldOp::Set
        } else if is_kw(sub, "INCRBY") && remaining >= 3 {
            FieldOp::IncrBy
        } else if is_kw(sub, "OVERFLOW") && remaining >= 1 {
            let kind = ctx.arg(j + 1);
            overflow = if is_kw(kind, "WRAP") {
                Overflow::Wrap
            } else if is_kw(kind, "SAT") {
                Overflow::Sat
            } else if is_kw(kind, "FAIL") {
                Overflow::Fail
            } else {
                return ctx.out.error(b"ERR Invalid OVERFLOW type specified");
            };
            j += 2;
            continue;
        } else {
            return ctx.out.error(err::SYNTAX);
        };
        let Some((signed, bits)) = parse_field_type(ctx.arg(j + 1)) else {
            return ctx.out.error(ERR_BITFIELD_TYPE);
        };
        let offset_arg = ctx.arg(j + 2);
        let Some(offset) = parse_bit_offset(ctx, offset_arg, Some(bits)) else {
            return;
        };
        let mut value = 0;
        if op != FieldOp::Get {
            let last = offset + u64::from(bits) - 1;
            highest_write_bit = Some(highest_write_bit.map_or(last, |h| h.max(last)));
            let Some(v) = ctx.arg_i64(j + 3) else { return };
            value = v;
        }
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            value,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }

    let key = ctx.arg(1);
    let Some(highest) = highest_write_bit else {
        // Only GETs: a read lookup, and a missing key reads as zeros.
        let n = fields.len();
        let r = read_string(ctx, key, |s, out| {
            out.array(n);
            for f in &fields {
                run_get(s, f, out);
            }
        });
        if let Ok(None) = r {
            ctx.out.array(n);
            for f in &fields {
                run_get(b"", f, ctx.out);
            }
        }
        return;
    };
    if read_only_cmd {
        return ctx
            .out
            .error(b"ERR BITFIELD_RO only supports the GET subcommand");
    }
    // The key is created (and padded) before the operations run, even if
    // OVERFLOW FAIL then stops all of them, as in Valkey.
    let min_len = (highest >> 3) as usize + 1;
    let changes = with_bits_for_write(ctx, key, min_len, |v, dirty, out| {
        out.array(fields.len());
        let mut changes = 0u64;
        for f in &fields {
            if f.op == FieldOp::Get {
                run_get(v, f, out);
            } else if run_write(v, f, out).is_some_and(|changed| changed || dirty) {
                // A write stopped by OVERFLOW FAIL changes nothing, even on
                // a key just created or grown (Valkey counts only writes
                // that happened).
                changes += 1;
            }
        }
        changes
    });
    if let Some(changes) = changes.filter(|&c| c > 0) {
        ctx.modified(key);
        notify(ctx, STRING, "setbit", key);
        ctx.srv.dirty += changes - 1;
    }
}

fn bitfield(ctx: &mut Ctx<'_>) {
    bitfield_generic(ctx, false)
}

fn bitfield_ro(ctx: &mut Ctx<'_>) {
    bitfield_generic(ctx, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::strings::tests::Harness;
    use crate::resp::Protocol;

    #[test]
    fn bit_helpers() {
        let s = [0b1010_0000u8, 0xFF, 0x01];
        assert_eq!(get_unsigned(&s, 0, 3), 0b101);
        assert_eq!(get_signed(&s, 0, 3), -3);
        assert_eq!(get_unsigned(&s, 20, 8), 0x01 << 4);
        assert_eq!(get_unsigned(&s, 100, 64), 0);
        let mut v = vec![0u8; 2];
        set_bits(&mut v, 7, 5, 23);
        assert_eq!(v, [0b0000_0001, 0b0111_0000]);
        assert_eq!(count_bits(&s, 0, 23), 2 + 8 + 1);
        assert_eq!(count_bits(&s, 1, 1), 0);
        assert_eq!(count_bits(&s, 2, 9), 1 + 2);
        assert_eq!(find_bit(&s, true, 1, 23), Some(2));
        assert_eq!(find_bit(&s, false, 8, 15), None);
        assert_eq!(find_bit(&s, false, 8, 16), Some(16));
        assert_eq!(find_bit(&[0, 0, 0, 0, 0x10], true, 0, 39), Some(35));
        assert_eq!(popcount(&[0xFF; 19]), 152);
    }

    #[test]
    fn overflow_checks() {
        use Overflow::*;
        assert_eq!(check_unsigned_overflow(100, 257, 8, Wrap), (1, 101));
        assert_eq!(check_unsigned_overflow(100, 257, 8, Sat), (1, 255));
        assert_eq!(check_unsigned_overflow(100, -255, 8, Sat), (-1, 0));
        assert_eq!(check_unsigned_overflow(u64::MAX, 0, 8, Wrap), (1, 255));
        assert_eq!(check_signed_overflow(100, 257, 8, Wrap), (1, 101));
        assert_eq!(check_signed_overflow(100, 257, 8, Sat), (1, 127));
        assert_eq!(check_signed_overflow(100, -255, 8, Sat), (-1, -128));
        assert_eq!(check_signed_overflow(255, 0, 8, Wrap), (1, -1));
        assert_eq!(check_signed_overflow(i64::MAX, 1, 64, Wrap), (1, i64::MIN));
        assert_eq!(check_signed_overflow(i64::MIN, -1, 64, Sat), (-1, i64::MIN));
        assert_eq!(check_signed_overflow(5, 5, 64, Fail), (0, 0));
        // Valkey's wrapping `max - value` quirk.
        assert_eq!(check_signed_overflow(i64::MIN, 0, 8, Sat), (1, 127));
    }

    #[test]
    fn setbit_getbit_and_dirty() {
        let mut h = Harness::new();
        let d0 = h.srv.dirty;
        assert_eq!(h.cmd("SETBIT k 0 0"), ":0\r\n");
        assert_eq!(h.srv.dirty, d0 + 1, "created");
        assert_eq!(h.cmd("SETBIT k 0 0"), ":0\r\n");
        assert_eq!(h.srv.dirty, d0 + 1, "unchanged");
        assert_eq!(h.cmd("SETBIT k 0 1"), ":0\r\n");
        assert_eq!(h.cmd("SETBIT k 0 1"), ":1\r\n");
        assert_eq!(h.srv.dirty, d0 + 2);
        assert_eq!(h.cmd("SETBIT k 90 0"), ":0\r\n");
        assert_eq!(h.srv.dirty, d0 + 3, "grew");
        assert_eq!(h.cmd("STRLEN k"), ":12\r\n");
        assert_eq!(h.cmd("GETBIT k 0"), ":1\r\n");
        assert_eq!(h.cmd("GETBIT k 10000"), ":0\r\n");
        assert_eq!(
            h.cmd("SETBIT k 4294967296 1"),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.cmd("GETBIT k -1"),
            "-ERR bit offset is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.cmd("SETBIT k 0 2"),
            "-ERR bit is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.cmd("SETBIT k 0 -1"),
            "-ERR bit is not an integer or out of range\r\n"
        );
        h.cmd("SET i 1");
        assert_eq!(h.encoding("i"), "int");
        assert_eq!(h.cmd("GETBIT i 2"), ":1\r\n");
        assert_eq!(h.cmd("SETBIT i 6 1"), ":0\r\n");
        assert_eq!(h.cmd("GET i"), "$1\r\n3\r\n");
        assert_eq!(h.encoding("i"), "raw");
    }

    #[test]
    fn bitfield_dirty_and_creation() {
        let mut h = Harness::new();
        let d0 = h.srv.dirty;
        h.cmd("BITFIELD f SET i5 0 0");
        assert_eq!(h.srv.dirty, d0 + 1);
        h.cmd("BITFIELD f SET i5 0 0");
        assert_eq!(h.srv.dirty, d0 + 1);
        h.cmd("BITFIELD f SET i5 0 1 SET i5 0 1 INCRBY i5 0 1");
        assert_eq!(h.srv.dirty, d0 + 3);
        // FAIL stops the op, but the key was still created. A stopped
        // write is no change, even to a created or grown key (Valkey counts
        // only the writes that happened).
        assert_eq!(
            h.cmd("BITFIELD g OVERFLOW FAIL SET u8 0 256"),
            "*1\r\n$-1\r\n"
        );
        assert_eq!(h.srv.dirty, d0 + 3);
        assert_eq!(h.cmd("GET g"), "$1\r\n\0\r\n");
        assert_eq!(
            h.cmd("BITFIELD g OVERFLOW FAIL SET u8 8 256"),
            "*1\r\n$-1\r\n"
        );
        assert_eq!(h.cmd("STRLEN g"), ":2\r\n");
        assert_eq!(h.srv.dirty, d0 + 3);
        h.cmd("BITFIELD g OVERFLOW FAIL SET u8 16 256 SET u8 24 0");
        assert_eq!(h.srv.dirty, d0 + 4, "the second write grew the key");
        h.proto = Protocol::Resp3;
        assert_eq!(
            h.cmd("BITFIELD g OVERFLOW FAIL SET u8 0 256 GET u8 0"),
            "*2\r\n_\r\n:0\r\n"
        );
    }

    #[test]
    fn bitop_fold_semantics() {
        let mut r = vec![0x01, 0x02, 0xff, 0xff];
        bitop_fold(BitOp::And, &mut r, &[0x01, 0x02, 0xff]);
        assert_eq!(r, [0x01, 0x02, 0xff, 0x00]);
        let mut r = vec![];
        bitop_fold(BitOp::And, &mut r, &[0x01, 0x02]);
        assert_eq!(r, [0, 0]);
        let mut r = vec![0x0f];
        bitop_fold(BitOp::Xor, &mut r, &[0xff, 0x01]);
        assert_eq!(r, [0xf0, 0x01]);
    }

    #[test]
    fn stats_of_bit_commands() {
        let mut h = Harness::new();
        h.cmd("SETBIT a 1 1");
        h.cmd("BITFIELD a SET u8 0 1");
        assert_eq!(h.hits_misses(), (0, 0));
        h.cmd("GETBIT a 1");
        h.cmd("BITCOUNT nope");
        h.cmd("BITPOS a 1");
        h.cmd("BITFIELD a GET u8 0");
        h.cmd("BITFIELD_RO nope GET u8 0");
        h.cmd("BITOP OR d a nope");
        assert_eq!(h.hits_misses(), (4, 3));
    }
}
