//! Typed access to collection values: the one place that turns "look the key
//! up, check its type, maybe create it, delete it when it became empty" into
//! calls the collection families share.
//!
//! Every function replies `WRONGTYPE` itself and returns `Err(())` when the
//! key holds another type, so a handler writes
//! `let Ok(r) = typed::read::<Hash, _>(ctx, key, |h, out| ...) else { return };`.
//! The error carries nothing because the reply already says it all.
#![allow(clippy::result_unit_err)]

use super::{err, hashes, Ctx};
use crate::config::notify;
use crate::keyspace::{ObjType, Payload, Record, Typed, ValueRef};
use crate::resp::Reply;

/// Reads `key` as a `T` (Valkey's `lookupKeyRead` + type check: counts a
/// keyspace hit or miss). Ok(None) when the key is absent.
pub fn read<T: Typed, R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&T, &mut Reply) -> R,
) -> Result<Option<R>, ()> {
    let (now, touch, db) = (ctx.srv.now, ctx.touches_keys(), ctx.client.db);
    if T::TYPE == ObjType::Hash && hash_fields_due(ctx, key) {
        hashes::expire_fields_now(ctx, key);
    }
    let srv = &mut *ctx.srv;
    let Some(rec) = srv.keyspace.dbs[db].get_with(key, now, touch) else {
        srv.stats.keyspace_misses += 1;
        ctx.notify(notify::KEY_MISS, "keymiss", key);
        return Ok(None);
    };
    srv.stats.keyspace_hits += 1;
    match value_as::<T>(&rec) {
        Some(t) => Ok(Some(f(t, ctx.out))),
        None => {
            ctx.out.error(err::WRONGTYPE);
            Err(())
        }
    }
}

/// Checks the type of `key` without reading it (no hit/miss counted).
/// Ok(true) if it exists as a `T`, Ok(false) if absent, Err after replying
/// WRONGTYPE.
pub fn check<T: Typed>(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<bool, ()> {
    if T::TYPE == ObjType::Hash && hash_fields_due(ctx, key) {
        hashes::expire_fields_now(ctx, key);
    }
    let is_t = match ctx.lookup_write(key) {
        None => return Ok(false),
        Some(rec) => value_as::<T>(&rec).is_some(),
    };
    if is_t {
        Ok(true)
    } else {
        ctx.out.error(err::WRONGTYPE);
        Err(())
    }
}

/// Lazy expiry of hash fields: whether the hash at `key` holds fields whose
/// TTL has passed. Only called for `T = Hash` (the `T::TYPE` test before it
/// is a constant, so other types never pay for it), and a database where no
/// hash has field TTLs answers with one branch, without a lookup. Otherwise
/// a read-only peek that ignores key-level expiry: a key past its own time
/// is removed by the lookup that follows, whatever its fields.
#[inline]
fn hash_fields_due(ctx: &Ctx<'_>, key: &[u8]) -> bool {
    let db = &ctx.srv.keyspace.dbs[ctx.client.db];
    // Nothing expires while an AOF is replayed (its own HDELs do that) or
    // while clients are paused.
    !ctx.srv.now.loading
        && !ctx.srv.now.expire_paused
        && db.has_field_ttls()
        && db
            .peek(key)
            .is_some_and(|r| hashes::fields_due(&r, ctx.srv.now.ms))
}

fn value_as<T: Typed>(rec: &Record) -> Option<&T> {
    match rec.value() {
        ValueRef::Heap(v) => T::of(v),
        _ => None,
    }
}

/// Changes the `T` at `key` in place (Valkey's `lookupKeyWrite`). Ok(None)
/// when the key is absent. A value left empty is deleted with its key, as
/// Valkey never keeps empty collections. The caller reports the change
/// (`ctx.modified`) when there was one.
pub fn write<T: Typed, R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut T, &mut Reply) -> R,
) -> Result<Option<R>, ()> {
    let (now, touch, db) = (ctx.srv.now, ctx.touches_keys(), ctx.client.db);
    if T::TYPE == ObjType::Hash && hash_fields_due(ctx, key) {
        hashes::expire_fields_now(ctx, key);
    }
    let dbref = &mut ctx.srv.keyspace.dbs[db];
    let Some(mut rec) = dbref.get_with(key, now, touch) else {
        return Ok(None);
    };
    let Some(t) = rec.heap_mut().and_then(T::of_mut) else {
        drop(rec);
        ctx.out.error(err::WRONGTYPE);
        return Err(());
    };
    let r = f(t, ctx.out);
    let empty = t.is_empty();
    drop(rec);
    if empty {
        crate::lazyfree::drop_value(dbref.remove(key));
    }
    Ok(Some(r))
}

/// Like [`write`], but a missing key is created from `new()` first; it is
/// stored only if `f` leaves it non-empty.
pub fn write_or_create<T: Typed, R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    new: impl FnOnce() -> T,
    f: impl FnOnce(&mut T, &mut Reply) -> R,
) -> Result<R, ()> {
    let mut f = Some(f);
    let r = write::<T, R>(ctx, key, |t, out| (f.take().expect("called once"))(t, out))?;
    if let Some(r) = r {
        return Ok(r);
    }
    let mut t = new();
    let r = (f.take().expect("called once"))(&mut t, ctx.out);
    if !t.is_empty() {
        store(ctx, key, t);
    }
    Ok(r)
}

/// Stores `t` under `key` in the selected database, replacing whatever was
/// there (its TTL included, as Valkey's `setKey`). Empty values delete the
/// key instead. Returns whether a key was replaced or deleted.
pub fn store<T: Typed>(ctx: &mut Ctx<'_>, key: &[u8], t: T) -> bool {
    let clock = ctx.srv.now.clock;
    let db = &mut ctx.srv.keyspace.dbs[ctx.client.db];
    let empty = t.is_empty();
    let old = if empty {
        db.remove(key)
    } else {
        let rec = Record::build(key, Payload::Heap(Box::new(t.into_value())), None, clock);
        db.insert(rec)
    };
    let replaced = old.is_some();
    crate::lazyfree::drop_value(old);
    if !replaced && !empty {
        ctx.notify(notify::NEW, "new", key);
    }
    replaced
}

/// Takes the value out of `key` as an owned `T` (deleting the key), for
/// commands that move whole values. Ok(None) when absent.
pub fn take<T: Typed>(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<Option<T>, ()> {
    if !check::<T>(ctx, key)? {
        return Ok(None);
    }
    let db = &mut ctx.srv.keyspace.dbs[ctx.client.db];
    let Some(rec) = db.remove(key) else {
        return Ok(None);
    };
    Ok(rec.into_heap().ok().and_then(|b| T::from_value(*b)))
}

/// Which collection SCAN variant parses its options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanKind {
    Hash,
    Set,
    ZSet,
}

/// The parsed arguments of HSCAN / SSCAN / ZSCAN.
pub struct ScanOpts<'a> {
    pub cursor: u64,
    /// Entries to visit per call (COUNT, default 10).
    pub count: usize,
    /// None when absent or "*" (matches everything).
    pub pattern: Option<&'a [u8]>,
    /// HSCAN NOVALUES: fields only.
    pub novalues: bool,
    /// ZSCAN NOSCORES: members only.
    pub noscores: bool,
}

impl ScanOpts<'_> {
    /// Whether `member` passes MATCH.
    pub fn matches(&self, member: &[u8]) -> bool {
        self.pattern
            .is_none_or(|p| crate::util::glob::glob_match(p, member, false))
    }
}

/// Parses `<cmd> key cursor [MATCH p] [COUNT n] [NOVALUES|NOSCORES]` as
/// Valkey's `scanGenericCommand` does, replying the error and returning
/// None when they are invalid.
pub fn scan_options<'a>(ctx: &mut Ctx<'a>, kind: ScanKind) -> Option<ScanOpts<'a>> {
    let Some(cursor) = crate::util::num::parse_ull(ctx.arg(2)) else {
        ctx.out.error(b"ERR invalid cursor");
        return None;
    };
    let mut o = ScanOpts {
        cursor,
        count: 10,
        pattern: None,
        novalues: false,
        noscores: false,
    };
    let mut i = 3;
    while i < ctx.argc() {
        let opt = ctx.arg(i);
        let more = ctx.argc() - i - 1;
        if opt.eq_ignore_ascii_case(b"COUNT") && more >= 1 {
            let c = ctx.arg_i64(i + 1)?;
            if c < 1 {
                ctx.out.error(err::SYNTAX);
                return None;
            }
            o.count = c as usize;
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"MATCH") && more >= 1 {
            let p = ctx.arg(i + 1);
            o.pattern = (p != b"*").then_some(p);
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"NOVALUES") {
            if kind != ScanKind::Hash {
                ctx.out
                    .error(b"ERR NOVALUES option can only be used in HSCAN");
                return None;
            }
            o.novalues = true;
            i += 1;
        } else if opt.eq_ignore_ascii_case(b"NOSCORES") {
            if kind != ScanKind::ZSet {
                ctx.out
                    .error(b"ERR NOSCORES option can only be used in ZSCAN");
                return None;
            }
            o.noscores = true;
            i += 1;
        } else {
            ctx.out.error(err::SYNTAX);
            return None;
        }
    }
    Some(o)
}

/// Writes a SCAN-style reply: the next cursor, then the flat elements.
pub fn reply_scan(out: &mut Reply, cursor: u64, items: &[Vec<u8>]) {
    out.array(2);
    out.bulk(cursor.to_string().as_bytes());
    out.array(items.len());
    for it in items {
        out.bulk(it);
    }
}
