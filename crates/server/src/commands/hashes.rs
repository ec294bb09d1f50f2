//! The hash commands.
//!
//! Semantics follow Valkey's `t_hash.c`: the order in which arguments are
//! validated (which decides the error a client sees when several things are
//! wrong), the replies for missing keys, the moments a hash converts from
//! listpack to table, and how much each command adds to the dirty counter.

use super::strings::is_kw;
use super::typed::{self, ScanKind};
use super::{acl, err, flags::*, Command, Ctx};
use crate::config::notify;
use crate::keyspace::hash::{Hash, HashConfig};
use crate::keyspace::listpack::LpItem;
use crate::keyspace::{ObjType, Record, Typed, Value, ValueRef};
use crate::resp::{Protocol, Reply};
use crate::server::Server;
use crate::util::num::{parse_i64, parse_ull, LongDouble};
use std::time::{Duration, Instant};

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("hset", -4, WRITE | DENYOOM | FAST, acl::HASH, hset)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("hash", "2.0.0", "Creates or modifies the value of a field in a hash.", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."),
        Command::new("hsetnx", 4, WRITE | DENYOOM | FAST, acl::HASH, hsetnx)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", "O(1)"),
        Command::new("hget", 3, READONLY | FAST, acl::HASH, hget)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "2.0.0", "Returns the value of a field in a hash.", "O(1)"),
        Command::new("hmget", -3, READONLY | FAST, acl::HASH, hmget)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "2.0.0", "Returns the values of all fields in a hash.", "O(N) where N is the number of fields being requested."),
        Command::new("hmset", -4, WRITE | DENYOOM | FAST, acl::HASH, hmset)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("hash", "2.0.0", "Sets the values of multiple fields.", "O(N) where N is the number of fields being set."),
        Command::new("hgetall", 2, READONLY, acl::HASH, hgetall)
            .tips(&["nondeterministic_output_order"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "2.0.0", "Returns all fields and values in a hash.", "O(N) where N is the size of the hash."),
        Command::new("hdel", -3, WRITE | FAST, acl::HASH, hdel)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "O(N) where N is the number of fields to be removed."),
        Command::new("hlen", 2, READONLY | FAST, acl::HASH, hlen)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("hash", "2.0.0", "Returns the number of fields in a hash.", "O(1)"),
        Command::new("hstrlen", 3, READONLY | FAST, acl::HASH, hstrlen)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("hash", "3.2.0", "Returns the length of the value of a field.", "O(1)"),
        Command::new("hexists", 3, READONLY | FAST, acl::HASH, hexists)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("hash", "2.0.0", "Determines whether a field exists in a hash.", "O(1)"),
        Command::new("hkeys", 2, READONLY, acl::HASH, hkeys)
            .tips(&["nondeterministic_output_order"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "2.0.0", "Returns all fields in a hash.", "O(N) where N is the size of the hash."),
        Command::new("hvals", 2, READONLY, acl::HASH, hvals)
            .tips(&["nondeterministic_output_order"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "2.0.0", "Returns all values in a hash.", "O(N) where N is the size of the hash."),
        Command::new("hincrby", 4, WRITE | DENYOOM | FAST, acl::HASH, hincrby)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
        Command::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, acl::HASH, hincrbyfloat)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
        Command::new("hrandfield", -2, READONLY, acl::HASH, hrandfield)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "6.2.0", "Returns one or more random fields from a hash.", "O(N) where N is the number of fields returned"),
        Command::new("hscan", -3, READONLY, acl::HASH, hscan)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "2.8.0", "Iterates over fields and values of a hash.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
        // Hash field expiration (Redis 7.4): arity, flags and docs from its
        // command table.
        Command::new("hexpire", -6, WRITE | DENYOOM | FAST, acl::HASH, hexpire)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("hash", "7.4.0", "Set expiry for hash field using relative time to expire (seconds)", "O(N) where N is the number of specified fields"),
        Command::new("hpexpire", -6, WRITE | DENYOOM | FAST, acl::HASH, hpexpire)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("hash", "7.4.0", "Set expiry for hash field using relative time to expire (milliseconds)", "O(N) where N is the number of specified fields"),
        Command::new("hexpireat", -6, WRITE | DENYOOM | FAST, acl::HASH, hexpireat)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("hash", "7.4.0", "Set expiry for hash field using an absolute Unix timestamp (seconds)", "O(N) where N is the number of specified fields"),
        Command::new("hpexpireat", -6, WRITE | DENYOOM | FAST, acl::HASH, hpexpireat)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("hash", "7.4.0", "Set expiry for hash field using an absolute Unix timestamp (milliseconds)", "O(N) where N is the number of specified fields"),
        Command::new("httl", -5, READONLY | FAST, acl::HASH, httl)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "7.4.0", "Returns the TTL in seconds of a hash field.", "O(N) where N is the number of specified fields"),
        Command::new("hpttl", -5, READONLY | FAST, acl::HASH, hpttl)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "7.4.0", "Returns the TTL in milliseconds of a hash field.", "O(N) where N is the number of specified fields"),
        Command::new("hexpiretime", -5, READONLY | FAST, acl::HASH, hexpiretime)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "7.4.0", "Returns the expiration time of a hash field as a Unix timestamp, in seconds.", "O(N) where N is the number of specified fields"),
        Command::new("hpexpiretime", -5, READONLY | FAST, acl::HASH, hpexpiretime)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("hash", "7.4.0", "Returns the expiration time of a hash field as a Unix timestamp, in msec.", "O(N) where N is the number of specified fields"),
        Command::new("hpersist", -5, WRITE | FAST, acl::HASH, hpersist)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("hash", "7.4.0", "Removes the expiration time for each specified field", "O(N) where N is the number of specified fields"),
    ]
};

const ERR_NOT_INTEGER: &[u8] = b"ERR hash value is not an integer";
const ERR_NOT_FLOAT: &[u8] = b"ERR hash value is not a float";
/// Reply of SCAN-family commands on a missing key (Valkey's `shared.emptyscan`).
const EMPTY_SCAN: &[u8] = b"*2\r\n$1\r\n0\r\n*0\r\n";

/// A reply-side safety net for HRANDFIELD with a huge negative count: past
/// this many reply bytes (or the client class's hard output limit, when one
/// is set) the client is closed, as Valkey does when its output buffer
/// limit is hit in the middle of the reply.
const RANDOM_REPLY_CAP: usize = 1 << 30;

fn cfg(ctx: &Ctx<'_>) -> HashConfig {
    HashConfig::from_config(&ctx.srv.config)
}

/// A stored element as a bulk reply (listpack integers without formatting
/// them first).
fn reply_item(out: &mut Reply, item: LpItem<'_>) {
    match item {
        LpItem::Int(i) => out.bulk_i64(i),
        LpItem::Str(s) => out.bulk(s),
    }
}

/// SplitMix64 seeded from the server's generator: the typed access helpers
/// keep the server borrowed while the hash is read, so random draws come
/// from a local generator.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

// ---- writes ----------------------------------------------------------------

fn hset(ctx: &mut Ctx<'_>) {
    hset_generic(ctx, false);
}

fn hmset(ctx: &mut Ctx<'_>) {
    hset_generic(ctx, true);
}

/// HSET replies the number of new fields, HMSET (deprecated) OK.
fn hset_generic(ctx: &mut Ctx<'_>, hmset: bool) {
    if ctx.argc() % 2 == 1 {
        return ctx.wrong_arity();
    }
    let key = ctx.arg(1);
    let cfg = cfg(ctx);
    let args = ctx.args;
    let pairs = (ctx.argc() - 2) / 2;
    let mark = propagation_mark(ctx);
    let r = typed::write_or_create(ctx, key, Hash::new, |h: &mut Hash, _| {
        h.prepare_insert(pairs, (2..args.len()).map(|i| args.get(i).len()), &cfg);
        let mut created = 0;
        for i in (2..args.len()).step_by(2) {
            created += i64::from(h.set(args.get(i), args.get(i + 1), &cfg));
        }
        created
    });
    let Ok(created) = r else { return };
    if hmset {
        ctx.out.ok();
    } else {
        ctx.out.integer(created);
    }
    ctx.modified_n(key, pairs);
    ctx.notify(notify::HASH, "hset", key);
    keep_lazy_expiry_first(ctx, mark);
}

fn hsetnx(ctx: &mut Ctx<'_>) {
    let (key, field, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let cfg = cfg(ctx);
    let mark = propagation_mark(ctx);
    let r = typed::write_or_create(ctx, key, Hash::new, |h: &mut Hash, _| {
        if h.contains(field) {
            return false;
        }
        h.prepare_insert(1, [field.len(), value.len()], &cfg);
        h.set(field, value, &cfg);
        true
    });
    let Ok(set) = r else { return };
    ctx.out.integer(i64::from(set));
    if set {
        ctx.modified(key);
        ctx.notify(notify::HASH, "hset", key);
        keep_lazy_expiry_first(ctx, mark);
    }
}

fn hdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let args = ctx.args;
    let r = typed::write::<Hash, _>(ctx, key, |h, _| {
        let mut deleted = 0usize;
        for i in 2..args.len() {
            if h.remove(args.get(i)) {
                deleted += 1;
                // Valkey stops at the moment the hash becomes empty (the
                // key is deleted then); the remaining fields cannot match.
                if h.is_empty() {
                    break;
                }
            }
        }
        (deleted, h.is_empty())
    });
    let Ok(r) = r else { return };
    let (deleted, removed) = r.unwrap_or((0, false));
    ctx.out.integer(deleted as i64);
    if deleted > 0 {
        ctx.modified_n(key, deleted);
        ctx.notify(notify::HASH, "hdel", key);
        if removed {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
}

fn hincrby(ctx: &mut Ctx<'_>) {
    let Some(incr) = ctx.arg_i64(3) else { return };
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let cfg = cfg(ctx);
    let mark = propagation_mark(ctx);
    let r = typed::write_or_create(ctx, key, Hash::new, |h: &mut Hash, out| {
        let current = h.with_item(field, |v| match v {
            None => Ok(0),
            Some(LpItem::Int(i)) => Ok(i),
            Some(LpItem::Str(s)) => parse_i64(s).ok_or(ERR_NOT_INTEGER),
        });
        let value = match current {
            Ok(v) => v,
            Err(e) => {
                out.error(e);
                return false;
            }
        };
        let Some(sum) = value.checked_add(incr) else {
            out.error(err::OVERFLOW);
            return false;
        };
        let mut buf = Vec::with_capacity(20);
        crate::util::num::write_i64(sum, &mut buf);
        // The field keeps its TTL (Redis's HASH_SET_KEEP_TTL).
        h.set_keep_ttl(field, &buf, &cfg);
        out.integer(sum);
        true
    });
    if r == Ok(true) {
        ctx.modified(key);
        ctx.notify(notify::HASH, "hincrby", key);
        keep_lazy_expiry_first(ctx, mark);
    }
}

fn hincrbyfloat(ctx: &mut Ctx<'_>) {
    let Some(incr) = LongDouble::parse(ctx.arg(3)) else {
        return ctx.out.error(err::NOT_FLOAT);
    };
    if !incr.is_finite() {
        return ctx.out.error(b"ERR value is NaN or Infinity");
    }
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let cfg = cfg(ctx);
    let mark = propagation_mark(ctx);
    let r = typed::write_or_create(ctx, key, Hash::new, |h: &mut Hash, out| {
        let current = h.with_item(field, |v| match v {
            None => Ok(LongDouble::ZERO),
            Some(LpItem::Int(i)) => Ok(LongDouble::from_i64(i)),
            Some(LpItem::Str(s)) => LongDouble::parse(s).ok_or(ERR_NOT_FLOAT),
        });
        let value = match current {
            Ok(v) => v,
            Err(e) => {
                out.error(e);
                return None;
            }
        };
        let sum = value.add(incr);
        if !sum.is_finite() {
            out.error(b"ERR increment would produce NaN or Infinity");
            return None;
        }
        let mut text = Vec::with_capacity(32);
        sum.format_human(&mut text);
        // The field keeps its TTL (Redis's HASH_SET_KEEP_TTL).
        h.set_keep_ttl(field, &text, &cfg);
        out.bulk(&text);
        Some((text, h.field_expire(field)))
    });
    if let Ok(Some((text, ttl))) = r {
        ctx.modified(key);
        ctx.notify(notify::HASH, "hincrbyfloat", key);
        // Propagated as HSET with the final value, as Valkey does, so float
        // formatting cannot make a replica or a reloaded AOF differ. HSET
        // clears a TTL, so a field that has one gets it back right after.
        ctx.propagate_as(&[b"HSET", key, field, &text]);
        keep_lazy_expiry_first(ctx, mark);
        if let Some(at) = ttl {
            let at = at.to_string();
            ctx.also_propagate(&[b"HPEXPIREAT", key, at.as_bytes(), b"FIELDS", b"1", field]);
        }
    }
}

// ---- reads -----------------------------------------------------------------

fn hget(ctx: &mut Ctx<'_>) {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let r = typed::read::<Hash, _>(ctx, key, |h, out| {
        h.with_item(field, |v| match v {
            Some(item) => reply_item(out, item),
            None => out.null(),
        })
    });
    if r == Ok(None) {
        ctx.out.null();
    }
}

fn hmget(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let args = ctx.args;
    let r = typed::read::<Hash, _>(ctx, key, |h, out| {
        out.array(args.len() - 2);
        for i in 2..args.len() {
            h.with_item(args.get(i), |v| match v {
                Some(item) => reply_item(out, item),
                None => out.null(),
            });
        }
    });
    // A missing key is an empty hash: every field is missing.
    if r == Ok(None) {
        ctx.out.array(args.len() - 2);
        for _ in 2..args.len() {
            ctx.out.null();
        }
    }
}

fn hlen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if let Ok(n) = typed::read::<Hash, _>(ctx, key, |h, _| h.len()) {
        ctx.out.integer(n.unwrap_or(0) as i64);
    }
}

fn hstrlen(ctx: &mut Ctx<'_>) {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    if let Ok(n) = typed::read::<Hash, _>(ctx, key, |h, _| h.value_len(field)) {
        ctx.out.integer(n.unwrap_or(0) as i64);
    }
}

fn hexists(ctx: &mut Ctx<'_>) {
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    if let Ok(found) = typed::read::<Hash, _>(ctx, key, |h, _| h.contains(field)) {
        ctx.out.integer(i64::from(found.unwrap_or(false)));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Fields,
    Values,
    Both,
}

/// HGETALL (a map in RESP3), HKEYS and HVALS (arrays).
fn getall_generic(ctx: &mut Ctx<'_>, parts: Parts) {
    let key = ctx.arg(1);
    let r = typed::read::<Hash, _>(ctx, key, |h, out| {
        match parts {
            Parts::Both => out.map(h.len()),
            _ => out.array(h.len()),
        }
        h.for_each_item(|k, v| {
            if parts != Parts::Values {
                reply_item(out, k);
            }
            if parts != Parts::Fields {
                reply_item(out, v);
            }
        });
    });
    if r == Ok(None) {
        match parts {
            Parts::Both => ctx.out.map(0),
            _ => ctx.out.empty_array(),
        }
    }
}

fn hgetall(ctx: &mut Ctx<'_>) {
    getall_generic(ctx, Parts::Both);
}

fn hkeys(ctx: &mut Ctx<'_>) {
    getall_generic(ctx, Parts::Fields);
}

fn hvals(ctx: &mut Ctx<'_>) {
    getall_generic(ctx, Parts::Values);
}

// ---- HRANDFIELD ------------------------------------------------------------

/// `HRANDFIELD key [count [WITHVALUES]]`.
fn hrandfield(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let mut rng = SplitMix(ctx.srv.random());
    if ctx.argc() >= 3 {
        let Some(l) = ctx.arg_i64(2) else { return };
        if l == i64::MIN {
            return ctx.out.error(
                b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            );
        }
        if ctx.argc() > 4 || (ctx.argc() == 4 && !is_kw(ctx.arg(3), "withvalues")) {
            return ctx.out.error(err::SYNTAX);
        }
        let withvalues = ctx.argc() == 4;
        if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return ctx.out.error(b"ERR value is out of range");
        }
        return hrandfield_count(ctx, l, withvalues, &mut rng);
    }
    let r = typed::read::<Hash, _>(ctx, key, |h, out| {
        h.random_pairs(1, &mut || rng.next(), |k, _| {
            reply_item(out, k);
            true
        });
    });
    if r == Ok(None) {
        ctx.out.null();
    }
}

fn hrandfield_count(ctx: &mut Ctx<'_>, l: i64, withvalues: bool, rng: &mut SplitMix) {
    let key = ctx.arg(1);
    let limit = ctx.srv.config.client_output_buffer_limit[crate::config::OBUF_NORMAL]
        .hard_limit_bytes as usize;
    let cap = if limit > 0 { limit } else { RANDOM_REPLY_CAP };
    // Negative: that many draws, repeats allowed; positive: distinct fields.
    let (count, distinct) = (l.unsigned_abs() as usize, l >= 0);
    let r = typed::read::<Hash, _>(ctx, key, |h, out| {
        if count == 0 {
            out.empty_array();
            return true;
        }
        let resp3 = out.protocol() == Protocol::Resp3;
        // RESP2 flattens field/value pairs; RESP3 nests each pair.
        let header = |out: &mut Reply, n: usize| {
            out.array(if withvalues && !resp3 { n * 2 } else { n });
        };
        let emit = |out: &mut Reply, k: LpItem<'_>, v: LpItem<'_>| {
            if withvalues && resp3 {
                out.array(2);
            }
            reply_item(out, k);
            if withvalues {
                reply_item(out, v);
            }
        };
        if !distinct || count == 1 {
            header(out, count);
            let start = out.len();
            let mut complete = true;
            h.random_pairs(count, &mut || rng.next(), |k, v| {
                emit(out, k, v);
                complete = out.len() - start < cap;
                complete
            });
            return complete;
        }
        header(out, count.min(h.len()));
        h.random_distinct(count, &mut || rng.next(), |k, v| emit(out, k, v));
        true
    });
    match r {
        Ok(None) => ctx.out.empty_array(),
        // The reply was cut short: its header promised more, so the
        // connection cannot be used any more.
        Ok(Some(false)) => ctx.client.killed = true,
        _ => {}
    }
}

// ---- field expiration ------------------------------------------------------
//
// Redis 7.4's hash field TTLs. An expired field is never observable: before
// any hash command looks at a hash, `typed` calls [`expire_fields_now`] when
// the hash holds fields past their time (lazy expiry), and the cron removes
// them from untouched hashes ([`active_expire_fields`]). Both notify
// `hexpired` (and `del` when the key goes with its last field) and
// propagate the deletions as `HDEL key field...`.

/// The latest absolute time (ms) a field TTL may have: Redis keeps 48 bits
/// for expire times and reserves the top two (`HFE_MAX_ABS_TIME_MSEC`).
const MAX_FIELD_EXPIRE_MS: i64 = 0xFFFF_FFFF_FFFF >> 2;

const ERR_NO_FIELDS_ARG: &[u8] =
    b"ERR Mandatory argument FIELDS is missing or not at the right position";
const ERR_NUMFIELDS_MISMATCH: &[u8] =
    b"ERR The `numfields` parameter must match the number of arguments";
/// HEXPIRE family's numfields error; HTTL and HPERSIST word it differently.
const ERR_NUMFIELDS_SET: &[u8] = b"ERR Parameter `numFields` should be greater than 0";
const ERR_NUMFIELDS_GET: &[u8] = b"ERR Number of fields must be a positive integer";

/// Per-field replies (Redis's SetExRes / GetExpireTimeRes).
const NO_FIELD: i64 = -2;
const NO_TTL: i64 = -1;
const COND_NOT_MET: i64 = 0;
const UPDATED: i64 = 1;
const DELETED: i64 = 2;

/// Whether `rec` is a hash holding fields whose TTL is before `now_ms`
/// (they must go before a command may look at it).
#[inline]
pub fn fields_due(rec: &Record, now_ms: i64) -> bool {
    rec.obj_type() == ObjType::Hash
        && matches!(rec.value(), ValueRef::Heap(Value::Hash(h)) if h.has_expired_fields(now_ms))
}

/// Lazy field expiry of the hash at `key` in the client's database: deletes
/// every field past its time, and the key if none is left; notifies
/// `hexpired` (then `del`), invalidates WATCH and propagates
/// `HDEL key field...`. Called by `typed` before a hash command reads or
/// changes the hash.
pub fn expire_fields_now(ctx: &mut Ctx<'_>, key: &[u8]) {
    let (now, db) = (ctx.srv.now, ctx.client.db);
    let d = &mut ctx.srv.keyspace.dbs[db];
    let (gone, emptied) = {
        let Some(mut rec) = d.get_with(key, now, false) else {
            return;
        };
        let Some(Value::Hash(h)) = rec.heap_mut() else {
            return;
        };
        let gone = h.expire_fields(now.ms, usize::MAX);
        (gone, h.is_empty())
    };
    if gone.is_empty() {
        return;
    }
    if emptied {
        crate::lazyfree::drop_value(d.remove(key));
    }
    let mut argv: Vec<&[u8]> = Vec::with_capacity(gone.len() + 2);
    argv.push(b"HDEL");
    argv.push(key);
    argv.extend(gone.iter().map(Vec::as_slice));
    ctx.also_propagate(&argv);
    ctx.notify(notify::HASH, "hexpired", key);
    if emptied {
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.srv.key_modified(db, key);
}

/// Fields one active pass may delete per database (Redis bounds its HFE
/// cycle by a quota of fields too).
const ACTIVE_FIELDS_PER_DB: usize = 1000;

/// The active expiry of hash fields, for the cron: removes fields past their
/// time from hashes nobody touches, within `budget`, notifying `hexpired`
/// (and `del` for a key that lost its last field), invalidating WATCH and
/// propagating each hash's deletions as one `HDEL key field...` in its
/// database (outside any transaction, like expired keys; an HDEL of the
/// last field deletes the key on replay too, so no DEL follows).
///
/// Returns `(db, key, fields)` for every hash that lost fields.
pub fn active_expire_fields(
    srv: &mut Server,
    budget: Duration,
) -> Vec<(usize, Vec<u8>, Vec<Vec<u8>>)> {
    let deadline = Instant::now() + budget;
    let now = srv.now;
    let mut out = Vec::new();
    for db in 0..srv.keyspace.dbs.len() {
        if !srv.keyspace.dbs[db].has_field_ttls() {
            continue;
        }
        if Instant::now() >= deadline {
            break;
        }
        let expired =
            srv.keyspace.dbs[db].active_expire_fields(now, deadline, ACTIVE_FIELDS_PER_DB);
        for (key, fields, deleted) in expired {
            srv.notify(notify::HASH, "hexpired", &key, db);
            if deleted {
                srv.notify(notify::GENERIC, "del", &key, db);
            }
            srv.key_modified(db, &key);
            let mut argv = Vec::with_capacity(fields.len() + 2);
            argv.push(b"HDEL".to_vec());
            argv.push(key.clone());
            argv.extend(fields.iter().cloned());
            crate::server::exec::propagate(srv, &[(db, argv)], false);
            out.push((db, key, fields));
        }
    }
    out
}

/// Where this command's extra propagations stand before it may lazily
/// expire fields (see [`keep_lazy_expiry_first`]).
fn propagation_mark(ctx: &Ctx<'_>) -> usize {
    ctx.srv.propagation.also.len()
}

/// Lazily expired fields must reach the AOF before the write that found them
/// gone (HSET of a field that just expired must not be undone by the HDEL
/// that follows it on replay). Extra propagations come after the command,
/// so when the lazy expiry of this command added some, the command itself
/// (as called, or as rewritten) moves behind them.
fn keep_lazy_expiry_first(ctx: &mut Ctx<'_>, mark: usize) {
    let db = ctx.client.db;
    let args = ctx.args;
    let p = &mut ctx.srv.propagation;
    if p.also.len() <= mark {
        return;
    }
    let argv: Vec<Vec<u8>> = if p.replaced {
        std::mem::take(&mut p.rewritten)
    } else {
        args.iter().map(<[u8]>::to_vec).collect()
    };
    p.replaced = true;
    p.rewritten.clear();
    if !argv.is_empty() {
        p.also.push((db, argv));
    }
}

/// Parses `FIELDS numfields field...` with FIELDS at argument `at`, replying
/// Redis's error (`count_err` for a bad count) and returning None when it is
/// malformed. Some(index of the first field).
fn parse_fields(ctx: &mut Ctx<'_>, at: usize, count_err: &[u8]) -> Option<usize> {
    if !is_kw(ctx.arg(at), "fields") {
        ctx.out.error(ERR_NO_FIELDS_ARG);
        return None;
    }
    let n = match parse_i64(ctx.arg(at + 1)) {
        Some(n) if n >= 1 => n,
        _ => {
            ctx.out.error(count_err);
            return None;
        }
    };
    if n as u64 != (ctx.argc() - at - 2) as u64 {
        ctx.out.error(ERR_NUMFIELDS_MISMATCH);
        return None;
    }
    Some(at + 2)
}

/// The reply for fields of a missing key: "no such field" for each.
fn reply_all(out: &mut Reply, n: usize, code: i64) {
    out.array(n);
    for _ in 0..n {
        out.integer(code);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireCond {
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

fn hexpire(ctx: &mut Ctx<'_>) {
    hexpire_generic(ctx, true, 1000);
}

fn hpexpire(ctx: &mut Ctx<'_>) {
    hexpire_generic(ctx, true, 1);
}

fn hexpireat(ctx: &mut Ctx<'_>) {
    hexpire_generic(ctx, false, 1000);
}

fn hpexpireat(ctx: &mut Ctx<'_>) {
    hexpire_generic(ctx, false, 1);
}

/// `H[P]EXPIRE[AT] key time [NX|XX|GT|LT] FIELDS numfields field...`:
/// `relative` adds the command's time, `unit` is 1000 for seconds.
/// Validation order as Redis's hexpireGenericCommand: type, time, condition,
/// FIELDS; a missing key then replies -2 for each field.
fn hexpire_generic(ctx: &mut Ctx<'_>, relative: bool, unit: i64) {
    let key = ctx.arg(1);
    let Ok(exists) = typed::check::<Hash>(ctx, key) else {
        return;
    };
    let Some(mut at) = ctx.arg_i64(2) else { return };
    if at < 0 {
        return ctx.out.error(b"ERR invalid expire time, must be >= 0");
    }
    let now = ctx.srv.now.ms;
    let base = if relative { now } else { 0 };
    if unit != 1 {
        if at > MAX_FIELD_EXPIRE_MS / unit {
            return invalid_expire_time(ctx);
        }
        at *= unit;
    }
    if at > MAX_FIELD_EXPIRE_MS - base {
        return invalid_expire_time(ctx);
    }
    at += base;
    let cond_arg = ctx.arg(3);
    let cond = [
        ("nx", ExpireCond::Nx),
        ("xx", ExpireCond::Xx),
        ("gt", ExpireCond::Gt),
        ("lt", ExpireCond::Lt),
    ]
    .iter()
    .find(|(kw, _)| is_kw(cond_arg, kw))
    .map_or(ExpireCond::Always, |&(_, c)| c);
    let fields_at = if cond == ExpireCond::Always { 3 } else { 4 };
    let Some(first) = parse_fields(ctx, fields_at, ERR_NUMFIELDS_SET) else {
        return;
    };
    let nfields = ctx.argc() - first;
    if !exists {
        return reply_all(ctx.out, nfields, NO_FIELD);
    }
    let args = ctx.args;
    let r = typed::write::<Hash, _>(ctx, key, |h, out| {
        // A small hash becomes listpackex as soon as this family reaches
        // it, whatever the outcome per field (as in Redis).
        h.enable_field_expires();
        let (mut updated, mut deleted) = (Vec::new(), Vec::new());
        out.array(nfields);
        for i in first..args.len() {
            let field = args.get(i);
            let code = expire_one(h, field, at, now, cond);
            match code {
                UPDATED => updated.push(field),
                DELETED => deleted.push(field),
                _ => {}
            }
            out.integer(code);
        }
        (updated, deleted, h.is_empty())
    });
    let Ok(r) = r else { return };
    let Some((updated, deleted, emptied)) = r else {
        // Gone between the check and the write (cannot happen within one
        // command, but never reply nothing).
        return reply_all(ctx.out, nfields, NO_FIELD);
    };
    let changed = updated.len() + deleted.len();
    if changed > 0 {
        ctx.modified_n(key, changed);
        if !deleted.is_empty() && emptied {
            ctx.notify(notify::HASH, "hdel", key);
            ctx.notify(notify::GENERIC, "del", key);
        } else {
            let event = if deleted.is_empty() {
                "hexpire"
            } else {
                "hdel"
            };
            ctx.notify(notify::HASH, event, key);
        }
    }
    if !updated.is_empty() {
        let db = ctx.client.db;
        ctx.srv.keyspace.dbs[db].track_field_ttls(key);
    }
    // Fields that got a TTL in the past were deleted: HDEL for them, and
    // the command itself only for the fields it updated, as HPEXPIREAT with
    // the absolute time (condition kept, as Redis does).
    if !deleted.is_empty() {
        let mut argv: Vec<&[u8]> = vec![b"HDEL", key];
        argv.extend(deleted.iter().copied());
        ctx.also_propagate(&argv);
    }
    if updated.is_empty() {
        ctx.propagate_as(&[]);
        return;
    }
    let at_text = at.to_string();
    let n_text = updated.len().to_string();
    let mut argv: Vec<&[u8]> = vec![b"HPEXPIREAT", key, at_text.as_bytes()];
    if cond != ExpireCond::Always {
        argv.push(cond_arg);
    }
    argv.push(b"FIELDS");
    argv.push(n_text.as_bytes());
    argv.extend(updated.iter().copied());
    ctx.propagate_as(&argv);
}

/// Redis's overflow error, naming the command as called.
fn invalid_expire_time(ctx: &mut Ctx<'_>) {
    let msg = format!("ERR invalid expire time in '{}' command", ctx.cmd.name);
    ctx.out.error(msg.as_bytes());
}

/// Sets one field's TTL under `cond`; the per-field reply code. A time not
/// after `now` deletes the field (Redis's checkAlreadyExpired).
fn expire_one(h: &mut Hash, field: &[u8], at: i64, now: i64, cond: ExpireCond) -> i64 {
    if !h.contains(field) {
        return NO_FIELD;
    }
    let met = match (h.field_expire(field), cond) {
        (_, ExpireCond::Always) => true,
        // A field without TTL counts as "never expires": XX and GT fail,
        // NX and LT pass.
        (None, c) => matches!(c, ExpireCond::Nx | ExpireCond::Lt),
        (Some(_), ExpireCond::Nx) => false,
        (Some(_), ExpireCond::Xx) => true,
        (Some(prev), ExpireCond::Gt) => at > prev,
        (Some(prev), ExpireCond::Lt) => at < prev,
    };
    if !met {
        return COND_NOT_MET;
    }
    if at <= now {
        h.remove(field);
        return DELETED;
    }
    h.set_field_expire(field, Some(at));
    UPDATED
}

fn httl(ctx: &mut Ctx<'_>) {
    httl_generic(ctx, true, 1000);
}

fn hpttl(ctx: &mut Ctx<'_>) {
    httl_generic(ctx, true, 1);
}

fn hexpiretime(ctx: &mut Ctx<'_>) {
    httl_generic(ctx, false, 1000);
}

fn hpexpiretime(ctx: &mut Ctx<'_>) {
    httl_generic(ctx, false, 1);
}

/// `H[P]TTL` / `H[P]EXPIRETIME key FIELDS numfields field...`: -2 no such
/// field, -1 no TTL, else the time left (`relative`) or the absolute time.
/// Seconds are rounded up, as Redis does.
fn httl_generic(ctx: &mut Ctx<'_>, relative: bool, unit: i64) {
    let key = ctx.arg(1);
    if typed::check::<Hash>(ctx, key).is_err() {
        return;
    }
    let Some(first) = parse_fields(ctx, 2, ERR_NUMFIELDS_GET) else {
        return;
    };
    let nfields = ctx.argc() - first;
    let now = ctx.srv.now.ms;
    let base = if relative { now } else { 0 };
    let args = ctx.args;
    let r = typed::read::<Hash, _>(ctx, key, |h, out| {
        out.array(nfields);
        for i in first..args.len() {
            let field = args.get(i);
            let code = if !h.contains(field) {
                NO_FIELD
            } else {
                match h.field_expire(field) {
                    None => NO_TTL,
                    Some(at) if at < now => NO_FIELD,
                    Some(at) if unit == 1 => at - base,
                    Some(at) => (at + (unit - 1) - base) / unit,
                }
            };
            out.integer(code);
        }
    });
    if r == Ok(None) {
        reply_all(ctx.out, nfields, NO_FIELD);
    }
}

/// `HPERSIST key FIELDS numfields field...`: 1 TTL removed, -1 none, -2 no
/// such field.
fn hpersist(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let Ok(exists) = typed::check::<Hash>(ctx, key) else {
        return;
    };
    let Some(first) = parse_fields(ctx, 2, ERR_NUMFIELDS_GET) else {
        return;
    };
    let nfields = ctx.argc() - first;
    if !exists {
        return reply_all(ctx.out, nfields, NO_FIELD);
    }
    let now = ctx.srv.now.ms;
    let args = ctx.args;
    let r = typed::write::<Hash, _>(ctx, key, |h, out| {
        let mut changed = false;
        out.array(nfields);
        for i in first..args.len() {
            let field = args.get(i);
            let code = if !h.contains(field) {
                NO_FIELD
            } else {
                match h.field_expire(field) {
                    None => NO_TTL,
                    Some(at) if at < now => NO_FIELD,
                    Some(_) => {
                        h.set_field_expire(field, None);
                        changed = true;
                        UPDATED
                    }
                }
            };
            out.integer(code);
        }
        changed
    });
    match r {
        Ok(Some(true)) => {
            ctx.notify(notify::HASH, "hpersist", key);
            ctx.modified(key);
        }
        Ok(None) => reply_all(ctx.out, nfields, NO_FIELD),
        _ => {}
    }
}

// ---- HSCAN -----------------------------------------------------------------

/// `HSCAN key cursor [MATCH pattern] [COUNT count] [NOVALUES]`.
fn hscan(ctx: &mut Ctx<'_>) {
    // The cursor is checked before the key, the options only once the key
    // exists and is a hash (Valkey's hscanCommand + scanGenericCommand).
    if parse_ull(ctx.arg(2)).is_none() {
        return ctx.out.error(b"ERR invalid cursor");
    }
    let key = ctx.arg(1);
    match typed::read::<Hash, _>(ctx, key, |_, _| ()) {
        Err(()) => return,
        Ok(None) => return ctx.out.raw(EMPTY_SCAN),
        Ok(Some(())) => {}
    }
    let Some(opts) = typed::scan_options(ctx, ScanKind::Hash) else {
        return;
    };
    let db = &ctx.srv.keyspace.dbs[ctx.client.db];
    let Some(rec) = db.peek(key) else {
        return ctx.out.raw(EMPTY_SCAN);
    };
    let ValueRef::Heap(v) = rec.value() else {
        return ctx.out.error(err::WRONGTYPE);
    };
    let Some(h) = Hash::of(v) else {
        return ctx.out.error(err::WRONGTYPE);
    };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let next = h.scan(opts.cursor, opts.count, |k, v| {
        let field = k.to_bytes();
        if !opts.matches(&field) {
            return;
        }
        items.push(field.into_owned());
        if !opts.novalues {
            items.push(v.to_vec());
        }
    });
    typed::reply_scan(ctx.out, next, &items);
}

#[cfg(test)]
mod tests {
    use crate::commands::strings::tests::Harness;
    use crate::keyspace::hash::Hash;
    use crate::keyspace::Typed;
    use crate::resp::Protocol;
    use std::time::Duration;

    fn t(h: &mut Harness, line: &str, expected: &str) {
        assert_eq!(h.cmd(line), expected, "reply to `{line}`");
    }

    #[test]
    fn set_get_and_missing() {
        let mut h = Harness::new();
        t(&mut h, "HSET h a 1 b 2 a 3", ":2\r\n");
        t(&mut h, "HGET h a", "$1\r\n3\r\n");
        t(&mut h, "HGET h zz", "$-1\r\n");
        t(&mut h, "HGET nokey a", "$-1\r\n");
        t(
            &mut h,
            "HSET h a",
            "-ERR wrong number of arguments for 'hset' command\r\n",
        );
        t(
            &mut h,
            "HMSET h a 1 b",
            "-ERR wrong number of arguments for 'hmset' command\r\n",
        );
        t(&mut h, "HMSET h c 4", "+OK\r\n");
        t(&mut h, "HLEN h", ":3\r\n");
        t(&mut h, "HLEN nokey", ":0\r\n");
        t(
            &mut h,
            "HMGET h a zz c",
            "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n4\r\n",
        );
        t(&mut h, "HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n");
        t(
            &mut h,
            "HGETALL h",
            "*6\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n4\r\n",
        );
        t(&mut h, "HKEYS h", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        t(&mut h, "HVALS h", "*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n4\r\n");
        t(&mut h, "HGETALL nokey", "*0\r\n");
        t(&mut h, "HKEYS nokey", "*0\r\n");
        t(&mut h, "HSTRLEN h a", ":1\r\n");
        t(&mut h, "HSTRLEN h zz", ":0\r\n");
        t(&mut h, "HEXISTS h a", ":1\r\n");
        t(&mut h, "HEXISTS h zz", ":0\r\n");
        t(&mut h, "HEXISTS nokey a", ":0\r\n");
        assert_eq!(h.encoding("h"), "listpack");
    }

    #[test]
    fn resp3_shapes() {
        let mut h = Harness::new();
        h.proto = Protocol::Resp3;
        t(&mut h, "HSET h a 1", ":1\r\n");
        t(&mut h, "HGETALL h", "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
        t(&mut h, "HGETALL nokey", "%0\r\n");
        t(&mut h, "HGET h zz", "_\r\n");
        t(&mut h, "HMGET h zz a", "*2\r\n_\r\n$1\r\n1\r\n");
        t(
            &mut h,
            "HRANDFIELD h 1 WITHVALUES",
            "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        );
        t(
            &mut h,
            "HRANDFIELD h -2 WITHVALUES",
            "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        );
        t(&mut h, "HRANDFIELD h 5", "*1\r\n$1\r\na\r\n");
        t(&mut h, "HRANDFIELD nokey", "_\r\n");
    }

    #[test]
    fn wrongtype_everywhere() {
        let mut h = Harness::new();
        h.cmd("SET s x");
        let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        for line in [
            "HSET s a 1",
            "HMSET s a 1",
            "HSETNX s a 1",
            "HGET s a",
            "HMGET s a",
            "HGETALL s",
            "HKEYS s",
            "HVALS s",
            "HDEL s a",
            "HLEN s",
            "HSTRLEN s a",
            "HEXISTS s a",
            "HINCRBY s a 1",
            "HINCRBYFLOAT s a 1",
            "HRANDFIELD s",
            "HRANDFIELD s 2",
            "HSCAN s 0",
            "HSCAN s 0 BADOPT",
        ] {
            t(&mut h, line, wt);
        }
    }

    #[test]
    fn delete_and_empty_key() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2 c 3");
        t(&mut h, "HDEL h x y", ":0\r\n");
        t(&mut h, "HDEL h a c f", ":2\r\n");
        t(&mut h, "HDEL h b b x", ":1\r\n");
        t(&mut h, "EXISTS h", ":0\r\n");
        t(&mut h, "HDEL h a", ":0\r\n");
    }

    #[test]
    fn setnx() {
        let mut h = Harness::new();
        t(&mut h, "HSETNX h a 1", ":1\r\n");
        t(&mut h, "HSETNX h a 2", ":0\r\n");
        t(&mut h, "HGET h a", "$1\r\n1\r\n");
        h.srv.config.hash_max_listpack_value = 3;
        t(&mut h, "HSETNX h b 1234", ":1\r\n");
        assert_eq!(h.encoding("h"), "hashtable");
    }

    #[test]
    fn incrby() {
        let mut h = Harness::new();
        t(&mut h, "HINCRBY h f 2", ":2\r\n");
        t(&mut h, "HINCRBY h f -5", ":-3\r\n");
        t(
            &mut h,
            "HINCRBY h f x",
            "-ERR value is not an integer or out of range\r\n",
        );
        t(
            &mut h,
            "HINCRBY nokey f x",
            "-ERR value is not an integer or out of range\r\n",
        );
        t(&mut h, "EXISTS nokey", ":0\r\n");
        h.cmd("HSET h s abc n -9223372036854775484");
        t(
            &mut h,
            "HINCRBY h s 1",
            "-ERR hash value is not an integer\r\n",
        );
        t(&mut h, "HINCRBY h n -1", ":-9223372036854775485\r\n");
        t(
            &mut h,
            "HINCRBY h n -10000",
            "-ERR increment or decrement would overflow\r\n",
        );
        h.cmd("HSET h m 9223372036854775807");
        t(
            &mut h,
            "HINCRBY h m 1",
            "-ERR increment or decrement would overflow\r\n",
        );
        t(&mut h, "HINCRBY h m 0", ":9223372036854775807\r\n");
        t(&mut h, "HINCRBY h m -1", ":9223372036854775806\r\n");
        h.run(&[b"HSET", b"h", b"sp", b" 11"]);
        t(
            &mut h,
            "HINCRBY h sp 1",
            "-ERR hash value is not an integer\r\n",
        );
        h.run(&[b"HSET", b"h", b"sp", b"11 "]);
        t(
            &mut h,
            "HINCRBY h sp 1",
            "-ERR hash value is not an integer\r\n",
        );
    }

    #[test]
    fn incrbyfloat() {
        let mut h = Harness::new();
        t(&mut h, "HINCRBYFLOAT h f 1.23", "$4\r\n1.23\r\n");
        t(&mut h, "HINCRBYFLOAT h f 0.77", "$1\r\n2\r\n");
        t(&mut h, "HINCRBYFLOAT h f -0.1", "$3\r\n1.9\r\n");
        t(
            &mut h,
            "HINCRBYFLOAT h f v",
            "-ERR value is not a valid float\r\n",
        );
        t(
            &mut h,
            "HINCRBYFLOAT h f +inf",
            "-ERR value is NaN or Infinity\r\n",
        );
        t(
            &mut h,
            "HINCRBYFLOAT hfoo f +inf",
            "-ERR value is NaN or Infinity\r\n",
        );
        t(&mut h, "EXISTS hfoo", ":0\r\n");
        h.cmd("HSET h s abc big 1.7e308 i 17179869184");
        t(
            &mut h,
            "HINCRBYFLOAT h s 1",
            "-ERR hash value is not a float\r\n",
        );
        t(&mut h, "HINCRBYFLOAT h i 1", "$11\r\n17179869185\r\n");
        h.run(&[b"HSET", b"h", b"nul", b"1\x002"]);
        t(
            &mut h,
            "HINCRBYFLOAT h nul 1",
            "-ERR hash value is not a float\r\n",
        );
    }

    #[test]
    fn incrbyfloat_encoding_limits() {
        // From hash.tcl: "HINCRBYFLOAT over hash-max-listpack-value encoded
        // with a listpack".
        let mut h = Harness::new();
        h.srv.config.hash_max_listpack_value = 8;
        h.cmd("HSET small tmp 0");
        h.cmd("HSET big tmp 0");
        t(
            &mut h,
            "HINCRBYFLOAT small tmp 0.000005",
            "$8\r\n0.000005\r\n",
        );
        t(
            &mut h,
            "HINCRBYFLOAT big tmp 0.0000005",
            "$9\r\n0.0000005\r\n",
        );
        assert_eq!(h.encoding("small"), "listpack");
        assert_eq!(h.encoding("big"), "hashtable");
        h.cmd("DEL small big");
        h.cmd("HINCRBYFLOAT small abcdefgh 1");
        h.cmd("HINCRBYFLOAT big abcdefghi 1");
        assert_eq!(h.encoding("small"), "listpack");
        assert_eq!(h.encoding("big"), "hashtable");
    }

    #[test]
    fn conversion_by_count_of_arguments() {
        let mut h = Harness::new();
        h.srv.config.hash_max_listpack_entries = 2;
        // Three pairs of one field: converted up front, like Valkey.
        t(&mut h, "HSET h a 1 a 2 a 3", ":1\r\n");
        assert_eq!(h.encoding("h"), "hashtable");
        h.cmd("HSET g a 1 b 2");
        assert_eq!(h.encoding("g"), "listpack");
        h.cmd("HSET g c 3");
        assert_eq!(h.encoding("g"), "hashtable");
        h.cmd("HDEL g a b");
        assert_eq!(h.encoding("g"), "hashtable");
    }

    #[test]
    fn hrandfield_errors() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1");
        t(
            &mut h,
            "HRANDFIELD h x",
            "-ERR value is not an integer or out of range\r\n",
        );
        t(&mut h, "HRANDFIELD h -9223372036854775808",
          "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
        t(
            &mut h,
            "HRANDFIELD h -9223372036854770000 WITHVALUES",
            "-ERR value is out of range\r\n",
        );
        t(&mut h, "HRANDFIELD h -9223372036854775808 WITHVALUES",
          "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
        t(&mut h, "HRANDFIELD h 1 WITHVALUE", "-ERR syntax error\r\n");
        t(
            &mut h,
            "HRANDFIELD h 1 WITHVALUES x",
            "-ERR syntax error\r\n",
        );
        t(&mut h, "HRANDFIELD nokey 1 bad", "-ERR syntax error\r\n");
        t(&mut h, "HRANDFIELD h 0", "*0\r\n");
        t(&mut h, "HRANDFIELD nokey 100", "*0\r\n");
        t(&mut h, "HRANDFIELD nokey", "$-1\r\n");
        t(&mut h, "HRANDFIELD h", "$1\r\na\r\n");
        t(
            &mut h,
            "HRANDFIELD h -3",
            "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
        );
        t(
            &mut h,
            "HRANDFIELD h 3 withvalues",
            "*2\r\n$1\r\na\r\n$1\r\n1\r\n",
        );
    }

    #[test]
    fn hscan_listpack_and_errors() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2 c 3");
        t(&mut h, "HSCAN h 0", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n");
        t(
            &mut h,
            "HSCAN h 0 MATCH b NOVALUES",
            "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n",
        );
        t(
            &mut h,
            "HSCAN h 0 match [ab] count 1",
            "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
        );
        t(&mut h, "HSCAN h x", "-ERR invalid cursor\r\n");
        t(&mut h, "HSCAN nokey x", "-ERR invalid cursor\r\n");
        t(&mut h, "HSCAN nokey 0 BADOPT", "*2\r\n$1\r\n0\r\n*0\r\n");
        t(&mut h, "HSCAN h 0 BADOPT", "-ERR syntax error\r\n");
        t(&mut h, "HSCAN h 0 COUNT 0", "-ERR syntax error\r\n");
        t(
            &mut h,
            "HSCAN h 0 NOSCORES",
            "-ERR NOSCORES option can only be used in ZSCAN\r\n",
        );
        t(
            &mut h,
            "HSCAN h 0 COUNT x",
            "-ERR value is not an integer or out of range\r\n",
        );
    }

    // ---- field expiration ---------------------------------------------------

    /// Puts the TTL of `field` of hash `key` (db 0) at `at` directly, to get
    /// a field that is past its time but not removed yet.
    fn force_ttl(h: &mut Harness, key: &str, field: &str, at: i64) {
        let now = h.srv.now;
        let db = &mut h.srv.keyspace.dbs[0];
        {
            let mut r = db.get_no_touch(key.as_bytes(), now).expect("key");
            let hash = r.heap_mut().and_then(Hash::of_mut).expect("hash");
            assert!(hash.set_field_expire(field.as_bytes(), Some(at)));
        }
        db.track_field_ttls(key.as_bytes());
    }

    /// Runs the handler of `line` directly (not through the executor, which
    /// consumes what it asks to propagate) and returns its reply and its
    /// propagation requests: the rewrite (None: as called) and the extras.
    fn run_direct(h: &mut Harness, line: &str) -> (String, Option<Vec<String>>, Vec<Vec<String>>) {
        h.srv.now = crate::keyspace::Now::from_system();
        h.srv.propagation = Default::default();
        let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let owned = crate::resp::OwnedArgs::from_slices(&words);
        let args = owned.as_args();
        let cmd = crate::commands::lookup(args.get(0)).expect("command");
        let mut out = crate::resp::Reply::new(Protocol::Resp2);
        let mut ctx = crate::commands::Ctx {
            args,
            out: &mut out,
            client: &mut h.client,
            srv: &mut h.srv,
            cmd,
        };
        (cmd.handler)(&mut ctx);
        let p = std::mem::take(&mut h.srv.propagation);
        let s = |v: &Vec<Vec<u8>>| {
            v.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        };
        (
            String::from_utf8_lossy(out.buf()).into_owned(),
            p.replaced.then(|| s(&p.rewritten)),
            p.also.iter().map(|(_, a)| s(a)).collect(),
        )
    }

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn hexpire_errors_in_redis_order() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1");
        h.cmd("SET s x");
        let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        let cases = [
            (
                "HEXPIRE h 10 FIELDS 1",
                "-ERR wrong number of arguments for 'hexpire' command\r\n",
            ),
            (
                "HTTL h FIELDS 1",
                "-ERR wrong number of arguments for 'httl' command\r\n",
            ),
            (
                "HPERSIST h FIELDS",
                "-ERR wrong number of arguments for 'hpersist' command\r\n",
            ),
            ("HEXPIRE s abc FIELDS 1 a", wt),
            ("HTTL s FIELDS 0 a", wt),
            ("HPERSIST s FIELDS 0 a", wt),
            (
                "HEXPIRE h abc FIELDS 1 a",
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                "HEXPIRE nokey abc FIELDS 1 a",
                "-ERR value is not an integer or out of range\r\n",
            ),
            (
                "HEXPIRE h -1 FIELDS 1 a",
                "-ERR invalid expire time, must be >= 0\r\n",
            ),
            (
                "HEXPIRE h 70368744178 FIELDS 1 a",
                "-ERR invalid expire time in 'hexpire' command\r\n",
            ),
            (
                "HEXPIREAT h 70368744178 FIELDS 1 a",
                "-ERR invalid expire time in 'hexpireat' command\r\n",
            ),
            (
                "HPEXPIREAT h 70368744177664 FIELDS 1 a",
                "-ERR invalid expire time in 'hpexpireat' command\r\n",
            ),
            (
                "HPEXPIRE h 70368744177663 FIELDS 1 a",
                "-ERR invalid expire time in 'hpexpire' command\r\n",
            ),
            (
                "HEXPIRE h 10 FIELDX 1 a",
                "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
            ),
            (
                "HEXPIRE h 10 NX NX FIELDS 1 a",
                "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
            ),
            (
                "HEXPIRE h 10 FIELDS 0 a",
                "-ERR Parameter `numFields` should be greater than 0\r\n",
            ),
            (
                "HEXPIRE h 10 GT FIELDS x a",
                "-ERR Parameter `numFields` should be greater than 0\r\n",
            ),
            (
                "HEXPIRE h 10 FIELDS 2 a",
                "-ERR The `numfields` parameter must match the number of arguments\r\n",
            ),
            (
                "HEXPIRE h 10 FIELDS 1 a b",
                "-ERR The `numfields` parameter must match the number of arguments\r\n",
            ),
            (
                "HEXPIRE h 10 NX FIELDS 1",
                "-ERR The `numfields` parameter must match the number of arguments\r\n",
            ),
            (
                "HTTL h FIELD 1 a",
                "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
            ),
            (
                "HTTL h FIELDS -1 a",
                "-ERR Number of fields must be a positive integer\r\n",
            ),
            (
                "HPTTL h FIELDS 2 a",
                "-ERR The `numfields` parameter must match the number of arguments\r\n",
            ),
            (
                "HPERSIST h FIELDS 0 a",
                "-ERR Number of fields must be a positive integer\r\n",
            ),
            (
                "HPERSIST h FIELDS 3 a b",
                "-ERR The `numfields` parameter must match the number of arguments\r\n",
            ),
        ];
        for (line, want) in cases {
            t(&mut h, line, want);
        }
        // Nothing above changed the hash.
        assert_eq!(h.encoding("h"), "listpack");
        // The largest times are accepted.
        t(
            &mut h,
            "HPEXPIREAT h 70368744177663 FIELDS 1 a",
            "*1\r\n:1\r\n",
        );
        t(&mut h, "HEXPIREAT h 70368744177 FIELDS 1 a", "*1\r\n:1\r\n");
        t(&mut h, "HEXPIRETIME h FIELDS 1 a", "*1\r\n:70368744177\r\n");
    }

    #[test]
    fn missing_keys_and_fields() {
        let mut h = Harness::new();
        t(
            &mut h,
            "HEXPIRE nokey 10 FIELDS 2 a b",
            "*2\r\n:-2\r\n:-2\r\n",
        );
        t(&mut h, "HTTL nokey FIELDS 1 a", "*1\r\n:-2\r\n");
        t(&mut h, "HPEXPIRETIME nokey FIELDS 1 a", "*1\r\n:-2\r\n");
        t(&mut h, "HPERSIST nokey FIELDS 1 a", "*1\r\n:-2\r\n");
        t(&mut h, "EXISTS nokey", ":0\r\n");
        h.cmd("HSET h a 1");
        t(&mut h, "HTTL h FIELDS 2 a zz", "*2\r\n:-1\r\n:-2\r\n");
        t(&mut h, "HPERSIST h FIELDS 2 a zz", "*2\r\n:-1\r\n:-2\r\n");
        assert_eq!(h.encoding("h"), "listpack");
        // The HEXPIRE family converts a listpack even when no field matched.
        t(&mut h, "HEXPIRE h 10 FIELDS 1 zz", "*1\r\n:-2\r\n");
        assert_eq!(h.encoding("h"), "listpackex");
    }

    #[test]
    fn conditions() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2");
        // No TTL: XX and GT fail, NX and LT pass.
        t(&mut h, "HEXPIRE h 100 XX FIELDS 1 a", "*1\r\n:0\r\n");
        t(&mut h, "HEXPIRE h 100 GT FIELDS 1 a", "*1\r\n:0\r\n");
        t(&mut h, "HEXPIRE h 100 nx FIELDS 1 a", "*1\r\n:1\r\n");
        t(&mut h, "HEXPIRE h 100 LT FIELDS 1 b", "*1\r\n:1\r\n");
        // With a TTL of 100 s.
        t(&mut h, "HEXPIRE h 200 NX FIELDS 1 a", "*1\r\n:0\r\n");
        t(&mut h, "HEXPIRE h 200 XX FIELDS 1 a", "*1\r\n:1\r\n");
        t(&mut h, "HEXPIRE h 150 GT FIELDS 1 a", "*1\r\n:0\r\n");
        t(&mut h, "HEXPIRE h 300 GT FIELDS 1 a", "*1\r\n:1\r\n");
        t(&mut h, "HEXPIRE h 400 LT FIELDS 1 a", "*1\r\n:0\r\n");
        t(&mut h, "HEXPIRE h 50 LT FIELDS 1 a", "*1\r\n:1\r\n");
        t(&mut h, "HTTL h FIELDS 1 a", "*1\r\n:50\r\n");
        // Several fields, one reply each, in order.
        t(
            &mut h,
            "HEXPIRE h 60 GT FIELDS 4 a b zz a",
            "*4\r\n:1\r\n:0\r\n:-2\r\n:0\r\n",
        );
        t(&mut h, "HTTL h FIELDS 2 b a", "*2\r\n:100\r\n:60\r\n");
    }

    #[test]
    fn ttl_queries_round_seconds_up() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2");
        t(
            &mut h,
            "HPEXPIREAT h 4102444800123 FIELDS 1 a",
            "*1\r\n:1\r\n",
        );
        t(
            &mut h,
            "HPEXPIRETIME h FIELDS 2 a b",
            "*2\r\n:4102444800123\r\n:-1\r\n",
        );
        t(&mut h, "HEXPIRETIME h FIELDS 1 a", "*1\r\n:4102444801\r\n");
        let r = h.cmd("HPTTL h FIELDS 1 a");
        let ms: i64 = r.trim_start_matches("*1\r\n:").trim_end().parse().unwrap();
        assert_eq!(ms, 4102444800123 - h.srv.now.ms);
        let r = h.cmd("HTTL h FIELDS 1 a");
        let secs: i64 = r.trim_start_matches("*1\r\n:").trim_end().parse().unwrap();
        assert_eq!(secs, (4102444800123 - h.srv.now.ms + 999) / 1000);
        t(&mut h, "HPEXPIRE h 1500 FIELDS 1 b", "*1\r\n:1\r\n");
        t(&mut h, "HTTL h FIELDS 1 b", "*1\r\n:2\r\n");
    }

    #[test]
    fn past_times_delete_fields_and_the_key() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2 c 3");
        assert_eq!(
            run_direct(&mut h, "HPEXPIREAT h 1 FIELDS 2 a zz"),
            (
                "*2\r\n:2\r\n:-2\r\n".into(),
                Some(vec![]),
                vec![words(&["HDEL", "h", "a"])]
            )
        );
        t(&mut h, "HLEN h", ":2\r\n");
        // A relative 0 is "now": deleted too.
        t(&mut h, "HPEXPIRE h 0 FIELDS 1 b", "*1\r\n:2\r\n");
        // Conditions still apply first.
        t(&mut h, "HEXPIREAT h 1 XX FIELDS 1 c", "*1\r\n:0\r\n");
        t(&mut h, "HEXPIREAT h 1 FIELDS 1 c", "*1\r\n:2\r\n");
        t(&mut h, "EXISTS h", ":0\r\n");
    }

    #[test]
    fn propagation_as_absolute_hpexpireat() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2 c 3");
        let (reply, cmd, also) = run_direct(&mut h, "HEXPIRE h 100 NX FIELDS 3 a zz b");
        assert_eq!(reply, "*3\r\n:1\r\n:-2\r\n:1\r\n");
        let at = (h.srv.now.ms + 100_000).to_string();
        assert_eq!(
            cmd,
            Some(words(&[
                "HPEXPIREAT",
                "h",
                &at,
                "NX",
                "FIELDS",
                "2",
                "a",
                "b"
            ]))
        );
        assert!(also.is_empty());
        // Nothing updated: nothing propagated.
        assert_eq!(
            run_direct(&mut h, "HEXPIRE h 100 NX FIELDS 1 a"),
            ("*1\r\n:0\r\n".into(), Some(vec![]), vec![])
        );
        // Some fields set, some deleted by a past time... with one command
        // time that cannot be; HPEXPIREAT keeps its own time as given.
        let (_, cmd, _) = run_direct(&mut h, "HPEXPIREAT h 4102444800123 FIELDS 1 c");
        assert_eq!(
            cmd,
            Some(words(&[
                "HPEXPIREAT",
                "h",
                "4102444800123",
                "FIELDS",
                "1",
                "c"
            ]))
        );
        // HINCRBYFLOAT goes out as HSET, the field's TTL right after it.
        let (reply, cmd, also) = run_direct(&mut h, "HINCRBYFLOAT h a 1.5");
        assert_eq!(reply, "$3\r\n2.5\r\n");
        assert_eq!(cmd, Some(words(&["HSET", "h", "a", "2.5"])));
        assert_eq!(also.len(), 1);
        assert_eq!(also[0][..2], words(&["HPEXPIREAT", "h"]));
        assert_eq!(also[0][3..], words(&["FIELDS", "1", "a"]));
        h.cmd("HSET h n 1");
        assert_eq!(
            run_direct(&mut h, "HINCRBYFLOAT h n 1"),
            (
                "$1\r\n2\r\n".into(),
                Some(words(&["HSET", "h", "n", "2"])),
                vec![]
            )
        );
        // HPERSIST and plain writes propagate as called.
        assert_eq!(
            run_direct(&mut h, "HPERSIST h FIELDS 1 c"),
            ("*1\r\n:1\r\n".into(), None, vec![])
        );
    }

    #[test]
    fn hpersist_and_writes_that_drop_or_keep_ttls() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2 c 3");
        t(
            &mut h,
            "HEXPIRE h 100 FIELDS 3 a b c",
            "*3\r\n:1\r\n:1\r\n:1\r\n",
        );
        let d0 = h.srv.dirty;
        t(
            &mut h,
            "HPERSIST h FIELDS 3 a zz a",
            "*3\r\n:1\r\n:-2\r\n:-1\r\n",
        );
        assert_eq!(h.srv.dirty - d0, 1);
        t(&mut h, "HTTL h FIELDS 1 a", "*1\r\n:-1\r\n");
        // HSET replaces the field and its TTL; HINCRBY(FLOAT) keep it.
        t(&mut h, "HSET h b 20", ":0\r\n");
        t(&mut h, "HTTL h FIELDS 1 b", "*1\r\n:-1\r\n");
        t(&mut h, "HINCRBY h c 5", ":8\r\n");
        t(&mut h, "HTTL h FIELDS 1 c", "*1\r\n:100\r\n");
        t(&mut h, "HINCRBYFLOAT h c 0.5", "$3\r\n8.5\r\n");
        t(&mut h, "HTTL h FIELDS 1 c", "*1\r\n:100\r\n");
        t(&mut h, "HSETNX h c 1", ":0\r\n");
        t(&mut h, "HTTL h FIELDS 1 c", "*1\r\n:100\r\n");
        // HDEL takes the TTL with the field.
        t(&mut h, "HDEL h c", ":1\r\n");
        t(&mut h, "HSET h c 1", ":1\r\n");
        t(&mut h, "HTTL h FIELDS 1 c", "*1\r\n:-1\r\n");
        assert_eq!(h.encoding("h"), "listpackex");
    }

    #[test]
    fn dirty_counts_of_ttl_commands() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2 c 3");
        let d0 = h.srv.dirty;
        h.cmd("HEXPIRE h 100 FIELDS 3 a b zz");
        assert_eq!(h.srv.dirty - d0, 2);
        let d1 = h.srv.dirty;
        h.cmd("HEXPIRE h 100 NX FIELDS 2 a b");
        h.cmd("HTTL h FIELDS 1 a");
        h.cmd("HPERSIST h FIELDS 1 c");
        assert_eq!(h.srv.dirty, d1);
        h.cmd("HPEXPIREAT h 1 FIELDS 2 a c");
        assert_eq!(h.srv.dirty - d1, 2);
    }

    #[test]
    fn expired_fields_are_invisible_to_every_command() {
        let mut h = Harness::new();
        let setup = |h: &mut Harness| {
            h.cmd("DEL h");
            h.cmd("HSET h a 1 b 2 n 10");
            h.cmd("HEXPIRE h 100 FIELDS 1 b");
            force_ttl(h, "h", "a", 1);
            force_ttl(h, "h", "n", 1);
        };
        let cases = [
            ("HGET h a", "$-1\r\n"),
            ("HMGET h a b", "*2\r\n$-1\r\n$1\r\n2\r\n"),
            ("HLEN h", ":1\r\n"),
            ("HEXISTS h a", ":0\r\n"),
            ("HSTRLEN h a", ":0\r\n"),
            ("HKEYS h", "*1\r\n$1\r\nb\r\n"),
            ("HVALS h", "*1\r\n$1\r\n2\r\n"),
            ("HGETALL h", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("HSCAN h 0", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
            ("HRANDFIELD h 5", "*1\r\n$1\r\nb\r\n"),
            ("HRANDFIELD h -3", "*3\r\n$1\r\nb\r\n$1\r\nb\r\n$1\r\nb\r\n"),
            ("HTTL h FIELDS 2 a b", "*2\r\n:-2\r\n:100\r\n"),
            ("HPERSIST h FIELDS 1 a", "*1\r\n:-2\r\n"),
            ("HEXPIRE h 10 FIELDS 1 a", "*1\r\n:-2\r\n"),
            ("HINCRBY h n 1", ":1\r\n"),
            ("HSETNX h a 5", ":1\r\n"),
            ("HDEL h a", ":0\r\n"),
        ];
        for (line, want) in cases {
            setup(&mut h);
            t(&mut h, line, want);
        }
        // The lazy deletion goes to the AOF before a write that re-creates
        // the field: the write moves behind it.
        setup(&mut h);
        assert_eq!(
            run_direct(&mut h, "HSET h a 9"),
            (
                ":1\r\n".into(),
                Some(vec![]),
                vec![
                    words(&["HDEL", "h", "a", "n"]),
                    words(&["HSET", "h", "a", "9"])
                ]
            )
        );
        setup(&mut h);
        let (_, cmd, also) = run_direct(&mut h, "HINCRBYFLOAT h a 1");
        assert_eq!(cmd, Some(vec![]));
        assert_eq!(
            also,
            vec![
                words(&["HDEL", "h", "a", "n"]),
                words(&["HSET", "h", "a", "1"])
            ]
        );
        // A read propagates the deletion only.
        setup(&mut h);
        assert_eq!(
            run_direct(&mut h, "HGET h b"),
            (
                "$1\r\n2\r\n".into(),
                None,
                vec![words(&["HDEL", "h", "a", "n"])]
            )
        );
    }

    #[test]
    fn the_key_goes_with_its_last_field() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2");
        h.cmd("HEXPIRE h 100 FIELDS 2 a b");
        force_ttl(&mut h, "h", "a", 1);
        force_ttl(&mut h, "h", "b", 1);
        t(&mut h, "HLEN h", ":0\r\n");
        t(&mut h, "EXISTS h", ":0\r\n");
        // HINCRBY on a hash whose fields all expired starts a new one.
        h.cmd("HSET h a 1");
        h.cmd("HEXPIRE h 100 FIELDS 1 a");
        force_ttl(&mut h, "h", "a", 1);
        t(&mut h, "HINCRBY h a 5", ":5\r\n");
        t(&mut h, "HTTL h FIELDS 1 a", "*1\r\n:-1\r\n");
        // A type check also expires: TYPE-agnostic commands see the hash
        // until then, hash commands never do.
        h.cmd("HEXPIRE h 100 FIELDS 1 a");
        force_ttl(&mut h, "h", "a", 1);
        t(&mut h, "HGETALL h", "*0\r\n");
        t(&mut h, "TYPE h", "+none\r\n");
    }

    #[test]
    fn active_expiry_removes_untouched_fields() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2");
        h.cmd("HSET g a 1");
        h.cmd("HEXPIRE h 100 FIELDS 2 a b");
        h.cmd("HEXPIRE g 100 FIELDS 1 a");
        force_ttl(&mut h, "h", "a", 1);
        force_ttl(&mut h, "g", "a", 1);
        h.srv.now = crate::keyspace::Now::from_system();
        let mut out = super::active_expire_fields(&mut h.srv, Duration::from_secs(1));
        out.sort();
        assert_eq!(
            out,
            vec![
                (0, b"g".to_vec(), vec![b"a".to_vec()]),
                (0, b"h".to_vec(), vec![b"a".to_vec()]),
            ]
        );
        assert_eq!(h.srv.keyspace.dbs[0].len(), 1);
        t(&mut h, "HGETALL h", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
        assert!(super::active_expire_fields(&mut h.srv, Duration::from_secs(1)).is_empty());
    }

    #[test]
    fn rename_copy_and_move_keep_field_ttls() {
        let mut h = Harness::new();
        h.cmd("HSET h a 1 b 2");
        h.cmd("HPEXPIREAT h 4102444800123 FIELDS 1 a");
        t(&mut h, "COPY h c", ":1\r\n");
        t(&mut h, "RENAME h r", "+OK\r\n");
        t(
            &mut h,
            "HPEXPIRETIME r FIELDS 2 a b",
            "*2\r\n:4102444800123\r\n:-1\r\n",
        );
        t(
            &mut h,
            "HPEXPIRETIME c FIELDS 2 a b",
            "*2\r\n:4102444800123\r\n:-1\r\n",
        );
        assert_eq!(h.encoding("c"), "listpackex");
        t(&mut h, "MOVE c 1", ":1\r\n");
        assert!(h.srv.keyspace.dbs[1].has_field_ttls());
        // The renamed copy is actively expired under its new name.
        force_ttl(&mut h, "r", "a", 1);
        h.srv.now = crate::keyspace::Now::from_system();
        let out = super::active_expire_fields(&mut h.srv, Duration::from_secs(1));
        assert_eq!(out, vec![(0, b"r".to_vec(), vec![b"a".to_vec()])]);
    }

    #[test]
    fn big_hashes_keep_the_hashtable_name() {
        let mut h = Harness::new();
        h.srv.config.hash_max_listpack_entries = 2;
        h.cmd("HSET h a 1 b 2");
        h.cmd("HEXPIRE h 100 FIELDS 1 a");
        assert_eq!(h.encoding("h"), "listpackex");
        h.cmd("HSET h c 3");
        assert_eq!(h.encoding("h"), "hashtable");
        t(
            &mut h,
            "HTTL h FIELDS 3 a b c",
            "*3\r\n:100\r\n:-1\r\n:-1\r\n",
        );
        force_ttl(&mut h, "h", "b", 1);
        t(&mut h, "HKEYS h", "*2\r\n$1\r\na\r\n$1\r\nc\r\n");
    }

    #[test]
    fn dirty_counts_like_valkey() {
        let mut h = Harness::new();
        let d0 = h.srv.dirty;
        h.cmd("HSET h a 1 b 2 a 3");
        assert_eq!(h.srv.dirty - d0, 3);
        let d1 = h.srv.dirty;
        h.cmd("HSETNX h a 1");
        h.cmd("HDEL h zz");
        h.cmd("HINCRBY h b x");
        h.cmd("HINCRBY h nonint-key-field 1x");
        assert_eq!(h.srv.dirty, d1);
        h.cmd("HDEL h a b");
        assert_eq!(h.srv.dirty - d1, 2);
    }
}
