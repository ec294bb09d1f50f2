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
    ctx.modified_n(key, pairs);
    ctx.notify(notify::HASH, "hset", key);
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
        ctx.notify(notify::HASH, "hset", key);
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
        ctx.notify(notify::HASH, "hincrby", key);
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
        ctx.notify(notify::HASH, "hincrbyfloat", key);
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
    use crate::resp::Protocol;

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
