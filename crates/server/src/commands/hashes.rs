//! The hash commands.
//!
//! Semantics follow Valkey's `t_hash.c`: the order in which arguments are
//! validated (which decides the error a client sees when several things are
//! wrong), the replies for missing keys, the moments a hash converts from
//! listpack to table, and how much each command adds to the dirty counter.

use super::strings::is_kw;
use super::typed::{self, ScanKind};
use super::{acl, err, flags::*, Command, Ctx};
use crate::keyspace::hash::{Hash, HashConfig};
use crate::keyspace::listpack::LpItem;
use crate::keyspace::{Typed, ValueRef};
use crate::resp::{Protocol, Reply};
use crate::util::num::{parse_i64, parse_ull, LongDouble};

pub static COMMANDS: &[Command] = &[
    Command::new("hset", -4, WRITE | DENYOOM | FAST, acl::HASH, hset)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Creates or modifies the value of a field in a hash.", "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs."),
    Command::new("hsetnx", 4, WRITE | DENYOOM | FAST, acl::HASH, hsetnx)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", "O(1)"),
    Command::new("hget", 3, READONLY | FAST, acl::HASH, hget)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Returns the value of a field in a hash.", "O(1)"),
    Command::new("hmget", -3, READONLY | FAST, acl::HASH, hmget)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Returns the values of all fields in a hash.", "O(N) where N is the number of fields being requested."),
    Command::new("hmset", -4, WRITE | DENYOOM | FAST, acl::HASH, hmset)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Sets the values of multiple fields.", "O(N) where N is the number of fields being set."),
    Command::new("hgetall", 2, READONLY, acl::HASH, hgetall)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Returns all fields and values in a hash.", "O(N) where N is the size of the hash."),
    Command::new("hdel", -3, WRITE | FAST, acl::HASH, hdel)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "O(N) where N is the number of fields to be removed."),
    Command::new("hlen", 2, READONLY | FAST, acl::HASH, hlen)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Returns the number of fields in a hash.", "O(1)"),
    Command::new("hstrlen", 3, READONLY | FAST, acl::HASH, hstrlen)
        .keys(1, 1, 1)
        .doc("hash", "3.2.0", "Returns the length of the value of a field.", "O(1)"),
    Command::new("hexists", 3, READONLY | FAST, acl::HASH, hexists)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Determines whether a field exists in a hash.", "O(1)"),
    Command::new("hkeys", 2, READONLY, acl::HASH, hkeys)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Returns all fields in a hash.", "O(N) where N is the size of the hash."),
    Command::new("hvals", 2, READONLY, acl::HASH, hvals)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Returns all values in a hash.", "O(N) where N is the size of the hash."),
    Command::new("hincrby", 4, WRITE | DENYOOM | FAST, acl::HASH, hincrby)
        .keys(1, 1, 1)
        .doc("hash", "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
    Command::new("hincrbyfloat", 4, WRITE | DENYOOM | FAST, acl::HASH, hincrbyfloat)
        .keys(1, 1, 1)
        .doc("hash", "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "O(1)"),
    Command::new("hrandfield", -2, READONLY, acl::HASH, hrandfield)
        .keys(1, 1, 1)
        .doc("hash", "6.2.0", "Returns one or more random fields from a hash.", "O(N) where N is the number of fields returned"),
    Command::new("hscan", -3, READONLY, acl::HASH, hscan)
        .keys(1, 1, 1)
        .doc("hash", "2.8.0", "Iterates over fields and values of a hash.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
];

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

/// Records a change that Valkey counts as `n` towards the dirty counter.
fn modified_n(ctx: &mut Ctx<'_>, key: &[u8], n: usize) {
    ctx.modified(key);
    ctx.srv.dirty += n.saturating_sub(1) as u64;
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
    modified_n(ctx, key, pairs);
}

fn hsetnx(ctx: &mut Ctx<'_>) {
    let (key, field, value) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let cfg = cfg(ctx);
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
        deleted
    });
    let Ok(r) = r else { return };
    let deleted = r.unwrap_or(0);
    ctx.out.integer(deleted as i64);
    if deleted > 0 {
        modified_n(ctx, key, deleted);
    }
}

fn hincrby(ctx: &mut Ctx<'_>) {
    let Some(incr) = ctx.arg_i64(3) else { return };
    let (key, field) = (ctx.arg(1), ctx.arg(2));
    let cfg = cfg(ctx);
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
        h.set(field, &buf, &cfg);
        out.integer(sum);
        true
    });
    if r == Ok(true) {
        ctx.modified(key);
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
                return false;
            }
        };
        let sum = value.add(incr);
        if !sum.is_finite() {
            out.error(b"ERR increment would produce NaN or Infinity");
            return false;
        }
        let mut text = Vec::with_capacity(32);
        sum.format_human(&mut text);
        h.set(field, &text, &cfg);
        out.bulk(&text);
        true
    });
    if r == Ok(true) {
        ctx.modified(key);
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
        let mut emit = |out: &mut Reply, k: LpItem<'_>, v: LpItem<'_>| {
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
            return complete || count == 0;
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
    drop(rec);
    typed::reply_scan(ctx.out, next, &items);
}
