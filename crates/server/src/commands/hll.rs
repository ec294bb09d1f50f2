//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! A HyperLogLog is an ordinary string value, so it has to be the very same
//! bytes Valkey/Redis would produce: a value written by either one can be
//! SET (or loaded from an RDB) here and the other way round, and PFCOUNT
//! must give the same number for it. The layout therefore follows Valkey's
//! `hyperloglog.c` exactly:
//!
//! ```text
//! "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached card (u64 LE)
//! ```
//!
//! The cached cardinality's most significant bit set means "stale". After
//! the 16-byte header come either 16384 six-bit registers packed LSB first
//! (dense, 12288 bytes), or the sparse run-length opcodes:
//!
//! - `00xxxxxx` ZERO: 1..=64 zero registers,
//! - `01xxxxxx yyyyyyyy` XZERO: 1..=16384 zero registers,
//! - `1vvvvvxx` VAL: 1..=4 registers holding the value 1..=32.
//!
//! Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14
//! bits pick the register, the position of the first set bit in the other
//! 50 is the run length stored in it (at most 51). The estimate is Ertl's
//! improved estimator, computed in the same order so the float rounding and
//! hence the integer reply match Valkey's.
//!
//! Sparse updates (splitting a run, merging neighbouring VAL opcodes over a
//! five-opcode window, promoting to dense when a register value exceeds 32
//! or the value would outgrow `hll-sparse-max-bytes`) are done step for
//! step as Valkey does them, because the resulting bytes depend on it.

use super::strings::{cstr, split, with_raw_mut};
use super::{acl, err, flags::*, Command, Ctx};
use crate::keyspace::thinbuf::StrBuf;
use crate::keyspace::{Record, Value};

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("pfadd", -2, WRITE | DENYOOM | FAST, acl::HYPERLOGLOG, pfadd)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("hyperloglog", "2.8.9", "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.", "O(1) to add every element."),
        Command::new("pfcount", -2, READONLY | MAY_REPLICATE, acl::HYPERLOGLOG, pfcount)
            .key_specs(&[
                KeySpec::at(1, RW | ACCESS).range(-1, 1, 0)
                    .notes("RW because it may change the internal representation of the key, and propagate to replicas"),
            ])
            .doc("hyperloglog", "2.8.9", "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys."),
        Command::new("pfmerge", -2, WRITE | DENYOOM, acl::HYPERLOGLOG, pfmerge)
            .key_specs(&[
                KeySpec::at(1, RW | ACCESS | INSERT),
                KeySpec::at(2, RO | ACCESS).range(-1, 1, 0),
            ])
            .doc("hyperloglog", "2.8.9", "Merges one or more HyperLogLog values into a single key.", "O(N) to merge N HyperLogLogs, but with high constant times."),
        Command::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, acl::HYPERLOGLOG, pfdebug)
            .key_specs(&[KeySpec::at(2, RW | ACCESS)])
            .doc("hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values.", "N/A"),
        Command::new("pfselftest", 1, ADMIN, acl::HYPERLOGLOG, pfselftest)
            .doc("hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values.", "N/A"),
    ]
};

// ---------------------------------------------------------------------------
// Representation
// ---------------------------------------------------------------------------

/// Bits of the hash that select the register.
const P: u32 = 14;
/// Bits of the hash left for the run of zeroes.
const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
const REGISTER_MAX: u8 = 63;
/// "HYLL", encoding, 3 unused bytes, 8 bytes of cached cardinality.
pub const HDR_SIZE: usize = 16;
pub const DENSE_SIZE: usize = HDR_SIZE + (REGISTERS * 6).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2), the limit of the alpha bias constant.
const ALPHA_INF: f64 = 0.7213475204444817;
const HASH_SEED: u64 = 0xadc8_3b19;

const ERR_INVALID: &[u8] = b"INVALIDOBJ Corrupted HLL object detected";
const ERR_NOT_HLL: &[u8] = b"WRONGTYPE Key is not a valid HyperLogLog string value.";

/// A sparse value whose opcodes do not describe exactly 16384 registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// MurmurHash2, 64-bit version (MurmurHash64A), reading the input as
/// little-endian words whatever the host, as Valkey's endian-neutral copy
/// does. The length is mixed in as C's `int` times `m`, i.e. sign-extended.
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let len = data.len() as i32 as i64 as u64;
    let mut h = seed ^ len.wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let mut k = u64::from_le_bytes(w).wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the value it proposes for it: one
/// plus the number of zero bits above the index bits (capped at Q + 1).
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, HASH_SEED);
    let index = (hash as usize) & (REGISTERS - 1);
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Register `i` of a packed dense array. The last registers never need the
/// byte after the array (their six bits fit in the last byte), so reading
/// past it is treated as zero where C relies on the string's terminator.
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u16;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) as u8) & REGISTER_MAX
}

fn dense_set(regs: &mut [u8], i: usize, val: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = (val & REGISTER_MAX) as u16;
    let mask = (REGISTER_MAX as u16) << fb;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(mask as u8)) | ((v << fb) as u8);
    }
    if fb > 2 {
        if let Some(b) = regs.get_mut(byte + 1) {
            *b = (*b & !((mask >> 8) as u8)) | ((v << fb) >> 8) as u8;
        }
    }
}

/// Raises register `i` to `count`; true if it changed.
fn dense_raise(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > dense_get(regs, i) {
        dense_set(regs, i, count);
        true
    } else {
        false
    }
}

/// Valkey's `isHLLObjectOrReply` checks on the bytes of a string value.
pub fn is_hll(v: &[u8]) -> bool {
    v.len() >= HDR_SIZE
        && &v[..4] == b"HYLL"
        && v[4] <= SPARSE
        && (v[4] != DENSE || v.len() == DENSE_SIZE)
}

/// A new, empty HLL: sparse, all registers in XZERO runs, cached
/// cardinality 0 (valid).
pub fn new_sparse() -> StrBuf {
    let mut v = Vec::with_capacity(HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.resize(HDR_SIZE, 0);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        push_xzero(&mut v, n);
        left -= n;
    }
    StrBuf::from(v)
}

fn invalidate_cache(v: &mut [u8]) {
    v[15] |= 0x80;
}

fn cached_card(v: &[u8]) -> Option<u64> {
    let mut b = [0u8; 8];
    b.copy_from_slice(&v[8..16]);
    let card = u64::from_le_bytes(b);
    (card >> 63 == 0).then_some(card)
}

// ---- sparse opcodes --------------------------------------------------------

fn is_zero(b: u8) -> bool {
    b & 0xc0 == 0
}

fn is_xzero(b: u8) -> bool {
    b & 0xc0 == 0x40
}

fn is_val(b: u8) -> bool {
    b & 0x80 != 0
}

fn val_value(b: u8) -> u8 {
    ((b >> 2) & 0x1f) + 1
}

fn val_len(b: u8) -> usize {
    (b & 3) as usize + 1
}

fn val_op(value: u8, len: usize) -> u8 {
    ((value - 1) << 2) | (len as u8 - 1) | 0x80
}

fn push_xzero(out: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    out.push((l >> 8) as u8 | 0x40);
    out.push((l & 0xff) as u8);
}

/// One decoded opcode: `(bytes it takes, registers it covers, value)`.
/// An XZERO cut off by the end of the string reads its missing second byte
/// as zero, like C reading the string's terminator.
fn sparse_op(v: &[u8], p: usize) -> (usize, usize, u8) {
    let b = v[p];
    if is_zero(b) {
        (1, (b & 0x3f) as usize + 1, 0)
    } else if is_xzero(b) {
        let lo = v.get(p + 1).copied().unwrap_or(0) as usize;
        (2, (((b & 0x3f) as usize) << 8 | lo) + 1, 0)
    } else {
        (1, val_len(b), val_value(b))
    }
}

/// Walks every opcode of a sparse value, calling `f(first, span, value)`
/// for each run. The value is corrupt unless the runs cover exactly the
/// 16384 registers; a run reaching past them stops the walk before `f`
/// sees it (Valkey's checks since the CVE-2025-32023 fix, which also Redis
/// 7.0.15 as shipped by Debian applies).
fn walk_sparse(v: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = HDR_SIZE;
    while p < v.len() {
        let (oplen, span, val) = sparse_op(v, p);
        if idx + span > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, span, val);
        idx += span;
        p += oplen;
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Converts a sparse value to dense in place, keeping the header (magic,
/// unused bytes and cached cardinality). Leaves a corrupt value alone.
pub fn sparse_to_dense(v: &mut StrBuf) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        return Ok(());
    }
    let mut dense = StrBuf::new();
    dense.resize(DENSE_SIZE, 0);
    dense[..HDR_SIZE].copy_from_slice(&v[..HDR_SIZE]);
    dense[4] = DENSE;
    walk_sparse(v, |first, span, val| {
        if val > 0 {
            for i in first..first + span {
                dense_set(&mut dense[HDR_SIZE..], i, val);
            }
        }
    })?;
    *v = dense;
    Ok(())
}

/// Promotes a sparse value to dense and sets register `index` there (it is
/// always raised: sparse registers never exceed 32 or `count`).
fn promote(v: &mut StrBuf, index: usize, count: u8) -> Result<bool, Corrupt> {
    sparse_to_dense(v)?;
    dense_raise(&mut v[HDR_SIZE..], index, count);
    Ok(true)
}

/// Raises register `index` of a sparse value to `count` (Valkey's
/// `hllSparseSet`). Ok(true) if it changed, Ok(false) if it already held at
/// least `count`. The value may be promoted to dense. Only the opcodes up
/// to the register are checked, as in Valkey: the rest may be corrupt.
pub fn sparse_set(
    v: &mut StrBuf,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(v, index, count);
    }

    // Step 1: find the opcode covering `index`.
    let end = v.len();
    let mut p = HDR_SIZE;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut span = 0usize;
    let mut oplen = 1usize;
    while p < end {
        let (len, s, _) = sparse_op(v, p);
        oplen = len;
        span = s;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += oplen;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(Corrupt);
    }
    let b = v[p];

    // Step 2: the trivial in-place cases, then the general split.
    if is_val(b) {
        if val_value(b) >= count {
            return Ok(false);
        }
        if span == 1 {
            v[p] = val_op(count, 1);
            merge_adjacent_vals(v, prev.unwrap_or(HDR_SIZE));
            return Ok(true);
        }
    } else if is_zero(b) && span == 1 {
        v[p] = val_op(count, 1);
        merge_adjacent_vals(v, prev.unwrap_or(HDR_SIZE));
        return Ok(true);
    }

    // At most XZERO-VAL-XZERO: five bytes.
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    let last = first + span - 1;
    if is_val(b) {
        let cur = val_value(b);
        if index != first {
            seq.push(val_op(cur, index - first));
        }
        seq.push(val_op(count, 1));
        if index != last {
            seq.push(val_op(cur, last - index));
        }
    } else {
        let zeros = |seq: &mut Vec<u8>, len: usize| {
            if len > SPARSE_ZERO_MAX_LEN {
                push_xzero(seq, len);
            } else {
                seq.push((len - 1) as u8);
            }
        };
        if index != first {
            zeros(&mut seq, index - first);
        }
        seq.push(val_op(count, 1));
        if index != last {
            zeros(&mut seq, last - index);
        }
    }

    // Step 3: replace the opcode by the sequence, unless the value would
    // outgrow the sparse limit.
    let new_len = (end + seq.len()) as isize - oplen as isize;
    if seq.len() > oplen && new_len as usize > max_bytes {
        return promote(v, index, count);
    }
    let stop = (p + oplen).min(end);
    v.splice(p..stop, &seq);
    // An XZERO truncated by the end of the string counts as two bytes, as
    // in Valkey (whose resulting length is computed the same way).
    v.truncate(new_len.max(0) as usize);

    merge_adjacent_vals(v, prev.unwrap_or(HDR_SIZE));
    Ok(true)
}

/// Step 4 of a sparse update: merges neighbouring VAL opcodes with the same
/// value while their run fits one opcode, looking at up to five opcodes
/// from the one before the change. Also invalidates the cached
/// cardinality, as every successful sparse update does.
fn merge_adjacent_vals(v: &mut StrBuf, start: usize) {
    let mut p = start;
    let mut budget = 5;
    while p < v.len() && budget > 0 {
        budget -= 1;
        let b = v[p];
        if is_xzero(b) {
            p += 2;
            continue;
        }
        if is_zero(b) {
            p += 1;
            continue;
        }
        if p + 1 < v.len() && is_val(v[p + 1]) {
            let n = v[p + 1];
            let len = val_len(b) + val_len(n);
            if val_value(b) == val_value(n) && len <= SPARSE_VAL_MAX_LEN {
                v[p + 1] = val_op(val_value(b), len);
                v.remove(p);
                // Retry from the same place: the merged run may merge again.
                continue;
            }
        }
        p += 1;
    }
    invalidate_cache(v);
}

/// Adds one element (Valkey's `hllAdd`): Ok(true) if a register changed.
pub fn add(v: &mut StrBuf, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    match v[4] {
        DENSE => Ok(dense_raise(&mut v[HDR_SIZE..], index, count)),
        SPARSE => sparse_set(v, index, count, max_bytes),
        _ => Err(Corrupt),
    }
}

// ---- counting and merging --------------------------------------------------

/// How many registers hold each value.
fn histogram(v: &[u8]) -> Result<[u64; 64], Corrupt> {
    let mut h = [0u64; 64];
    if v[4] == DENSE {
        let regs = &v[HDR_SIZE..];
        for i in 0..REGISTERS {
            h[dense_get(regs, i) as usize] += 1;
        }
    } else {
        walk_sparse(v, |_, span, val| h[val as usize] += span as u64)?;
    }
    Ok(h)
}

/// Ertl's sigma function ("New cardinality estimation algorithms for
/// HyperLogLog sketches", arXiv:1702.01284), iterated to convergence.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

/// Ertl's tau function, iterated to convergence.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        // C writes pow(1 - x, 2), which compilers turn into this product.
        z -= (1.0 - x) * (1.0 - x) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// The cardinality estimate from a register histogram, with the float
/// operations in Valkey's order so the rounding matches.
pub fn estimate(h: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - h[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += h[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(h[0] as f64 / m);
    // llroundl: halves away from zero, like f64::round.
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimate of a (checked) HLL value, ignoring its cache.
pub fn count(v: &[u8]) -> Result<u64, Corrupt> {
    histogram(v).map(|h| estimate(&h))
}

/// Raises each of `max`'s 16384 byte registers to the value's (Valkey's
/// `hllMerge`).
pub fn merge_into(max: &mut [u8], v: &[u8]) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        let regs = &v[HDR_SIZE..];
        for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    walk_sparse(v, |first, span, val| {
        if val > 0 {
            for m in &mut max[first..first + span] {
                *m = (*m).max(val);
            }
        }
    })
}

/// The estimate for byte registers (PFCOUNT of several keys).
fn estimate_raw(max: &[u8]) -> u64 {
    let mut h = [0u64; 64];
    for &r in max {
        h[(r & 63) as usize] += 1;
    }
    estimate(&h)
}

/// PFDEBUG DECODE's text for a sparse value.
fn decode(v: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut p = HDR_SIZE;
    while p < v.len() {
        let b = v[p];
        let (oplen, span, val) = sparse_op(v, p);
        parts.push(if is_zero(b) {
            format!("z:{span}")
        } else if is_xzero(b) {
            format!("Z:{span}")
        } else {
            format!("v:{val},{span}")
        });
        p += oplen;
    }
    parts.join(" ")
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/// What a key holds, as the HLL commands see it.
enum Found {
    Missing,
    /// A string with a valid HLL header.
    Hll,
    /// An error was replied.
    Replied,
}

/// Looks `key` up (for reading: keyspace hits/misses, or for writing) and
/// checks it holds an HLL, replying the WRONGTYPE error otherwise. `f` sees
/// the value's bytes when it is one.
fn lookup_hll(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    read: bool,
    f: impl FnOnce(&[u8]) -> Result<(), Corrupt>,
) -> Found {
    // The database, reply buffer and statistics are borrowed apart so the
    // record can stay borrowed while an error is replied.
    let (db, out, stats, now, touch) = split(ctx);
    let Some(rec) = db.get_with(key, now, touch) else {
        if read {
            stats.keyspace_misses += 1;
        }
        return Found::Missing;
    };
    if read {
        stats.keyspace_hits += 1;
    }
    let mut buf = [0u8; 24];
    let res = match rec.string_value(&mut buf) {
        None => Err(err::WRONGTYPE),
        Some(s) if !is_hll(s) => Err(ERR_NOT_HLL),
        Some(s) => f(s).map_err(|_| ERR_INVALID),
    };
    match res {
        Ok(()) => Found::Hll,
        Err(e) => {
            out.error(e);
            Found::Replied
        }
    }
}

/// Runs `f` on the HLL at `key` as a raw string that may be changed in
/// place (Valkey's `dbUnshareStringValue`: OBJECT ENCODING becomes raw).
fn with_hll_mut<R>(ctx: &mut Ctx<'_>, key: &[u8], f: impl FnOnce(&mut StrBuf) -> R) -> Option<R> {
    let (db, _, _, now, touch) = split(ctx);
    with_raw_mut(db, key, now, touch, f)
}

fn store_new(ctx: &mut Ctx<'_>, key: &[u8], v: StrBuf) {
    let clock = ctx.now().clock;
    ctx.db().insert(Record::new_raw(key, v, None, clock));
}

/// PFADD key [element ...]
fn pfadd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    // A copy of the argument view (it borrows the query buffer, not ctx).
    let args = ctx.args;
    let max_bytes = ctx.srv.config.hll_sparse_max_bytes;
    let add_all = |v: &mut StrBuf| -> Result<u64, Corrupt> {
        let mut updated = 0;
        for i in 2..args.len() {
            if add(v, args.get(i), max_bytes)? {
                updated += 1;
            }
        }
        if updated > 0 {
            invalidate_cache(v);
        }
        Ok(updated)
    };
    // The common case in one lookup: the key holds an HLL in a string
    // buffer of its own. Anything else (no key, an error to reply, a value
    // stored inside the record) takes the general path.
    let (db, _, _, now, touch) = split(ctx);
    let fast = match db.get_with(key, now, touch) {
        Some(mut rec) => match rec.heap_mut() {
            Some(Value::Str(v)) if is_hll(v) => Some(add_all(v)),
            _ => None,
        },
        None => None,
    };
    let res = match fast {
        Some(r) => r,
        None => match lookup_hll(ctx, key, false, |_| Ok(())) {
            Found::Replied => return,
            Found::Missing => {
                // Creating the key counts as an update even with no elements.
                let mut v = new_sparse();
                invalidate_cache(&mut v);
                let r = add_all(&mut v).map(|n| n + 1);
                store_new(ctx, key, v);
                r
            }
            Found::Hll => with_hll_mut(ctx, key, add_all).unwrap_or(Ok(0)),
        },
    };
    match res {
        Err(Corrupt) => ctx.out.error(ERR_INVALID),
        Ok(0) => ctx.out.integer(0),
        Ok(n) => {
            ctx.modified(key);
            ctx.srv.dirty += n - 1;
            ctx.notify(crate::config::notify::STRING, "pfadd", key);
            ctx.out.integer(1);
        }
    }
}

/// PFCOUNT key [key ...]
fn pfcount(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 2 {
        // The union's cardinality; the keys are left as they are.
        let mut max = vec![0u8; REGISTERS];
        for i in 1..ctx.argc() {
            let key = ctx.arg(i);
            if let Found::Replied = lookup_hll(ctx, key, true, |v| merge_into(&mut max, v)) {
                return;
            }
        }
        let card = estimate_raw(&max);
        ctx.out.integer(card as i64);
        return;
    }

    let key = ctx.arg(1);
    match lookup_hll(ctx, key, true, |_| Ok(())) {
        Found::Replied => {}
        Found::Missing => ctx.out.integer(0),
        Found::Hll => {
            // The cache lives in the value, so refreshing it is a change to
            // the key (WATCH, dirty counter) even for this read command.
            let res = with_hll_mut(ctx, key, |v| match cached_card(v) {
                Some(card) => Ok((card, false)),
                None => {
                    let card = count(v)?;
                    v[8..16].copy_from_slice(&card.to_le_bytes());
                    Ok((card, true))
                }
            });
            match res {
                Some(Ok((card, refreshed))) => {
                    if refreshed {
                        ctx.modified(key);
                    }
                    ctx.out.integer(card as i64);
                }
                Some(Err(Corrupt)) => ctx.out.error(ERR_INVALID),
                None => ctx.out.integer(0),
            }
        }
    }
}

/// PFMERGE destkey [sourcekey ...]: the destination is one of the inputs.
fn pfmerge(ctx: &mut Ctx<'_>) {
    let mut max = vec![0u8; REGISTERS];
    let mut use_dense = false;
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        let found = lookup_hll(ctx, key, true, |v| {
            // One dense input makes the destination dense right away.
            use_dense |= v[4] == DENSE;
            merge_into(&mut max, v)
        });
        if let Found::Replied = found {
            return;
        }
    }

    let dest = ctx.arg(1);
    let max_bytes = ctx.srv.config.hll_sparse_max_bytes;
    let write = |v: &mut StrBuf| -> Result<(), Corrupt> {
        if use_dense {
            sparse_to_dense(v)?;
        }
        // Register by register, as Valkey does: the sparse bytes depend on
        // the order of the updates.
        for (i, &m) in max.iter().enumerate() {
            if m == 0 {
                continue;
            }
            if v[4] == DENSE {
                dense_raise(&mut v[HDR_SIZE..], i, m);
            } else {
                // Cannot fail: the destination was checked as an input.
                let _ = sparse_set(v, i, m, max_bytes);
            }
        }
        invalidate_cache(v);
        Ok(())
    };
    let res = match lookup_hll(ctx, dest, false, |_| Ok(())) {
        Found::Replied => return,
        Found::Missing => {
            let mut v = new_sparse();
            let r = write(&mut v);
            store_new(ctx, dest, v);
            r
        }
        Found::Hll => with_hll_mut(ctx, dest, write).unwrap_or(Ok(())),
    };
    if res.is_err() {
        return ctx.out.error(ERR_INVALID);
    }
    ctx.modified(dest);
    // A merge is announced as a mass PFADD.
    ctx.notify(crate::config::notify::STRING, "pfadd", dest);
    ctx.out.ok();
}

/// What a PFDEBUG subcommand produced, replied once the key is released.
enum DebugOut {
    Registers(Vec<u8>),
    Decoded(String),
    Encoding(&'static [u8]),
    Converted(bool),
    NotSparse,
    Unknown,
    Corrupt,
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
fn pfdebug(ctx: &mut Ctx<'_>) {
    let sub = cstr(ctx.arg(1));
    let key = ctx.arg(2);
    match lookup_hll(ctx, key, false, |_| Ok(())) {
        Found::Replied => return,
        Found::Missing => return ctx.out.error(b"ERR The specified key does not exist"),
        Found::Hll => {}
    }
    let mut converted = false;
    // Valkey unshares the value before looking at the subcommand.
    let res = with_hll_mut(ctx, key, |v| {
        let to_dense = |v: &mut StrBuf, converted: &mut bool| {
            if v[4] == SPARSE {
                sparse_to_dense(v)?;
                *converted = true;
            }
            Ok::<(), Corrupt>(())
        };
        if sub.eq_ignore_ascii_case(b"getreg") {
            if to_dense(v, &mut converted).is_err() {
                return DebugOut::Corrupt;
            }
            let regs = &v[HDR_SIZE..];
            DebugOut::Registers((0..REGISTERS).map(|i| dense_get(regs, i)).collect())
        } else if sub.eq_ignore_ascii_case(b"decode") {
            if v[4] != SPARSE {
                return DebugOut::NotSparse;
            }
            DebugOut::Decoded(decode(v))
        } else if sub.eq_ignore_ascii_case(b"encoding") {
            DebugOut::Encoding(if v[4] == DENSE { b"dense" } else { b"sparse" })
        } else if sub.eq_ignore_ascii_case(b"todense") {
            if to_dense(v, &mut converted).is_err() {
                return DebugOut::Corrupt;
            }
            DebugOut::Converted(converted)
        } else {
            DebugOut::Unknown
        }
    });
    if converted {
        // Counted for propagation, without touching WATCHed keys (Valkey
        // does not signal this change).
        ctx.srv.dirty += 1;
    }
    match res.unwrap_or(DebugOut::Unknown) {
        DebugOut::Registers(regs) => {
            ctx.out.array(regs.len());
            for r in regs {
                ctx.out.integer(r as i64);
            }
        }
        DebugOut::Decoded(s) => ctx.out.bulk(s.as_bytes()),
        DebugOut::Encoding(e) => ctx.out.simple(e),
        DebugOut::Converted(c) => ctx.out.integer(c as i64),
        DebugOut::NotSparse => ctx.out.error(b"ERR HLL encoding is not sparse"),
        DebugOut::Corrupt => ctx.out.error(ERR_INVALID),
        DebugOut::Unknown => {
            let mut msg = b"ERR Unknown PFDEBUG subcommand '".to_vec();
            msg.extend_from_slice(sub);
            msg.push(b'\'');
            ctx.out.error(&msg);
        }
    }
}

/// A small xorshift generator for the self test's random registers and
/// elements (quality is irrelevant, only variety).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// PFSELFTEST: Valkey's two checks. First, packed register writes read
/// back exactly without disturbing neighbours; then 10 million distinct
/// elements go into a dense and a sparse HLL, which must agree with each
/// other at every power of ten, stay sparse while small, and stay within
/// six standard errors of the true count.
fn pfselftest(ctx: &mut Ctx<'_>) {
    let seed = ctx.srv.random() | 1;
    let max_bytes = ctx.srv.config.hll_sparse_max_bytes;
    match selftest(seed, max_bytes) {
        Ok(()) => ctx.out.ok(),
        Err(msg) => ctx.out.error(msg.as_bytes()),
    }
}

fn selftest(seed: u64, max_bytes: usize) -> Result<(), String> {
    const CYCLES: usize = 1000;
    let mut rng = XorShift(seed);
    let mut regs = vec![0u8; DENSE_SIZE - HDR_SIZE];
    let mut bytes = vec![0u8; REGISTERS];
    for _ in 0..CYCLES {
        for (i, b) in bytes.iter_mut().enumerate() {
            let r = (rng.next() >> 32) as u8 & REGISTER_MAX;
            *b = r;
            dense_set(&mut regs, i, r);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let got = dense_get(&regs, i);
            if got != b {
                return Err(format!(
                    "ERR TESTFAILED Register {i} should be {b} but is {got}"
                ));
            }
        }
    }

    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut sparse = new_sparse();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let base = rng.next();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ base).to_le_bytes();
        let (index, cnt) = pat_len(&ele);
        dense_raise(&mut dense[HDR_SIZE..], index, cnt);
        add(&mut sparse, &ele, max_bytes).map_err(|_| "ERR TESTFAILED sparse HLL corrupted")?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_bytes / 2 && sparse[4] != SPARSE {
            return Err("ERR TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).unwrap_or(0);
        if count(&sparse) != Ok(card) {
            return Err("ERR TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(card);
        // Collisions make a large relative error at 10 likely enough that
        // Valkey allows one off there.
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "ERR TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::strings::tests::Harness;

    fn hex(v: &[u8]) -> String {
        v.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn from_hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn build(elems: impl IntoIterator<Item = String>) -> StrBuf {
        let mut v = new_sparse();
        for e in elems {
            add(&mut v, e.as_bytes(), 3000).unwrap();
        }
        v
    }

    #[test]
    fn empty_value_is_one_xzero_opcode() {
        let v = new_sparse();
        assert_eq!(hex(&v), "48594c4c0100000000000000000000007fff");
        assert_eq!(decode(&v), "Z:16384");
        assert_eq!(count(&v), Ok(0));
    }

    #[test]
    fn one_element_values_match_redis_byte_for_byte() {
        // Redis 7.0.15: DEL t; PFADD t <e>; GET t / PFDEBUG DECODE t.
        let cases = [
            ("a", "Z:12711 v:2,1 Z:3672", "71a6844e57"),
            ("b", "Z:15780 v:1,1 Z:603", "7da380425a"),
            ("c", "Z:8436 v:1,1 Z:7947", "60f3805f0a"),
            ("", "Z:5938 v:2,1 Z:10445", "57318468cc"),
            ("foo", "Z:7348 v:5,1 Z:9035", "5cb390634a"),
            ("hello world", "Z:9399 v:4,1 Z:6984", "64b68c5b47"),
            ("12345678", "Z:10579 v:3,1 Z:5804", "69528856ab"),
            ("123456789abcdefg", "Z:8578 v:5,1 Z:7805", "6181905e7c"),
        ];
        for (e, dec, body) in cases {
            let v = build([e.to_string()]);
            assert_eq!(decode(&v), dec, "{e:?}");
            assert_eq!(hex(&v), format!("48594c4c010000000000000000000080{body}"));
        }
    }

    #[test]
    fn small_set_and_cached_count_match_redis() {
        let v = build("abcdefg".chars().map(String::from));
        assert_eq!(
            hex(&v),
            "48594c4c010000000000000000000080466d80560c80443c84388050b184498c80426d80425a"
        );
        assert_eq!(count(&v), Ok(7));
    }

    #[test]
    fn fixture_elements_e0_to_e499() {
        // The RDB fixtures' "hll" key is PFADD hll e0..e499 on a real server;
        // its PFCOUNT there is 506.
        let v = build((0..500).map(|i| format!("e{i}")));
        assert_eq!(v.len(), 1068);
        assert!(hex(&v).starts_with("48594c4c01000000000000000000008019801980008414880b80"));
        assert!(decode(&v).starts_with("z:26 v:1,1 z:26 v:1,1 z:1 v:2,1 z:21 v:3,1 z:12 v:1,1"));
        assert_eq!(count(&v), Ok(506));
    }

    #[test]
    fn counts_and_promotion_match_redis() {
        // Redis 7.0.15 with hll-sparse-max-bytes 3000, elements e0..e(n-1).
        for (n, enc, card, len) in [
            (1000, SPARSE, 1008, 1906),
            (10_000, DENSE, 9973, DENSE_SIZE),
            (100_000, DENSE, 100_853, DENSE_SIZE),
        ] {
            let v = build((0..n).map(|i| format!("e{i}")));
            assert_eq!((v[4], v.len()), (enc, len), "n={n}");
            assert_eq!(count(&v), Ok(card), "n={n}");
        }
    }

    #[test]
    fn dense_registers_pack_six_bits_lsb_first() {
        let mut regs = vec![0u8; 12];
        dense_set(&mut regs, 0, 0x3f);
        assert_eq!(regs[..2], [0x3f, 0]);
        dense_set(&mut regs, 1, 0x3f);
        assert_eq!(regs[..2], [0xff, 0x0f]);
        dense_set(&mut regs, 0, 0);
        assert_eq!(dense_get(&regs, 1), 0x3f);
        assert_eq!(dense_get(&regs, 0), 0);
        // The last register of a full array fits in the last byte.
        let mut full = vec![0u8; DENSE_SIZE - HDR_SIZE];
        dense_set(&mut full, REGISTERS - 1, 51);
        assert_eq!(dense_get(&full, REGISTERS - 1), 51);
        assert_eq!(full[full.len() - 1], 51 << 2);
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        sparse_to_dense(&mut dense).unwrap();
        assert_eq!(dense.len(), DENSE_SIZE);
        for i in 0..700 {
            let e = format!("x{i}");
            assert_eq!(
                add(&mut sparse, e.as_bytes(), 3000),
                add(&mut dense, e.as_bytes(), 3000)
            );
            if i % 50 == 0 {
                assert_eq!(count(&sparse), count(&dense));
            }
        }
        assert_eq!(sparse[4], SPARSE);
        let mut promoted = sparse.clone();
        sparse_to_dense(&mut promoted).unwrap();
        assert_eq!(promoted[HDR_SIZE..], dense[HDR_SIZE..]);
    }

    #[test]
    fn corrupt_sparse_values_are_detected() {
        let mut v = build(["a".into(), "b".into()]);
        v.extend_from_slice(b"hello");
        assert_eq!(count(&v), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut v.clone()), Err(Corrupt));
        assert_eq!(merge_into(&mut [0u8; REGISTERS], &v), Err(Corrupt));
        // Truncated: the runs cover too few registers.
        let short = StrBuf::from(from_hex("48594c4c01000000000000000000008040ff"));
        assert_eq!(count(&short), Err(Corrupt));
        let mut s = short.clone();
        assert_eq!(sparse_set(&mut s, 16383, 1, 3000), Err(Corrupt));
        assert_eq!(s, short);
        // Runs covering 16384 registers followed by one more run.
        let mut over = new_sparse();
        over.push(val_op(30, 2));
        assert_eq!(count(&over), Err(Corrupt));
        assert_eq!(merge_into(&mut [0u8; REGISTERS], &over), Err(Corrupt));
        assert_eq!(sparse_to_dense(&mut over.clone()), Err(Corrupt));
        // A register above 32 forces promotion, which checks every opcode.
        let mut s = short.clone();
        assert_eq!(sparse_set(&mut s, 0, 40, 3000), Err(Corrupt));
    }

    #[test]
    fn header_checks() {
        assert!(is_hll(&new_sparse()));
        assert!(!is_hll(b"HYLL"));
        let mut v = new_sparse();
        v[0] = b'X';
        assert!(!is_hll(&v));
        let mut v = new_sparse();
        v[4] = 2;
        assert!(!is_hll(&v));
        let mut v = new_sparse();
        v[4] = DENSE;
        assert!(!is_hll(&v));
    }

    #[test]
    fn estimator_edges() {
        let mut h = [0u64; 64];
        h[0] = REGISTERS as u64;
        assert_eq!(estimate(&h), 0);
        let mut h = [0u64; 64];
        h[1] = REGISTERS as u64;
        assert!(estimate(&h) > 10_000);
        assert_eq!(sigma(1.0), f64::INFINITY);
        assert_eq!(tau(0.0), 0.0);
    }

    #[test]
    fn commands_through_the_executor() {
        let mut h = Harness::new();
        assert_eq!(h.cmd("PFADD hll"), ":1\r\n");
        // Redis 7.0.15: creating the key marks the cache stale.
        assert_eq!(
            h.run(&[b"GET", b"hll"]),
            b"$18\r\nHYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f\xff\r\n"
        );
        assert_eq!(h.cmd("PFCOUNT hll"), ":0\r\n");
        assert_eq!(h.cmd("PFADD hll a b c"), ":1\r\n");
        assert_eq!(h.cmd("PFADD hll a b c"), ":0\r\n");
        assert_eq!(h.cmd("PFCOUNT hll"), ":3\r\n");
        assert_eq!(h.encoding("hll"), "raw");
        assert_eq!(h.cmd("PFDEBUG ENCODING hll"), "+sparse\r\n");
        assert_eq!(h.cmd("PFDEBUG TODENSE hll"), ":1\r\n");
        assert_eq!(h.cmd("PFDEBUG TODENSE hll"), ":0\r\n");
        assert_eq!(h.cmd("PFDEBUG ENCODING hll"), "+dense\r\n");
        assert_eq!(
            h.cmd("PFDEBUG DECODE hll"),
            "-ERR HLL encoding is not sparse\r\n"
        );
        assert_eq!(
            h.cmd("PFDEBUG FOO hll"),
            "-ERR Unknown PFDEBUG subcommand 'FOO'\r\n"
        );
        assert_eq!(
            h.cmd("PFDEBUG GETREG nokey"),
            "-ERR The specified key does not exist\r\n"
        );
        assert_eq!(h.cmd("PFCOUNT hll"), ":3\r\n");
        h.cmd("SET str bar");
        assert_eq!(
            h.cmd("PFADD str x"),
            "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"
        );
        h.cmd("LPUSH list x");
        assert_eq!(
            h.cmd("PFCOUNT list"),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(
            h.cmd("PFMERGE dst str"),
            "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"
        );
        assert_eq!(h.cmd("EXISTS dst"), ":0\r\n");
        assert_eq!(h.cmd("PFMERGE dst hll missing"), "+OK\r\n");
        assert_eq!(h.cmd("PFDEBUG ENCODING dst"), "+dense\r\n");
        assert_eq!(h.cmd("PFCOUNT dst"), ":3\r\n");
    }

    #[test]
    fn pfcount_caches_in_the_header() {
        let mut h = Harness::new();
        h.cmd("PFADD hll a b c");
        assert_eq!(
            h.run(&[b"GETRANGE", b"hll", b"15", b"15"]),
            b"$1\r\n\x80\r\n"
        );
        let dirty = h.srv.dirty;
        assert_eq!(h.cmd("PFCOUNT hll"), ":3\r\n");
        assert_eq!(h.srv.dirty, dirty + 1);
        assert_eq!(h.cmd("GETRANGE hll 8 8"), "$1\r\n\x03\r\n");
        assert_eq!(
            h.run(&[b"GETRANGE", b"hll", b"15", b"15"]),
            b"$1\r\n\x00\r\n"
        );
        // A valid cache is trusted without another look at the registers.
        assert_eq!(h.cmd("PFCOUNT hll"), ":3\r\n");
        assert_eq!(h.srv.dirty, dirty + 1);
        h.cmd("SETRANGE hll 8 \x07");
        assert_eq!(h.cmd("PFCOUNT hll"), ":7\r\n");
    }

    #[test]
    fn selftest_passes() {
        assert_eq!(selftest(0x1234_5678_9abc_def1, 3000), Ok(()));
    }
}
