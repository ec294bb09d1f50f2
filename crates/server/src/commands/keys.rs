//! Keyspace commands: DEL, EXISTS, TYPE, expiry, KEYS, DBSIZE, FLUSH*.

use super::{acl, err, flags::*, Command, Ctx};
use crate::util::glob::glob_match;

pub static COMMANDS: &[Command] = &[
    Command::new("del", -2, WRITE, acl::KEYSPACE, del)
        .keys(1, -1, 1)
        .doc("generic", "1.0.0", "Deletes one or more keys.", "O(N) where N is the number of keys that will be removed."),
    Command::new("unlink", -2, WRITE | FAST, acl::KEYSPACE, del)
        .keys(1, -1, 1)
        .doc("generic", "4.0.0", "Asynchronously deletes one or more keys.", "O(1) for each key removed regardless of its size."),
    Command::new("exists", -2, READONLY | FAST, acl::KEYSPACE, exists)
        .keys(1, -1, 1)
        .doc("generic", "1.0.0", "Determines whether one or more keys exist.", "O(N) where N is the number of keys to check."),
    Command::new("type", 2, READONLY | FAST, acl::KEYSPACE, type_)
        .keys(1, 1, 1)
        .doc("generic", "1.0.0", "Determines the type of value stored at a key.", "O(1)"),
    Command::new("expire", -3, WRITE | FAST, acl::KEYSPACE, expire)
        .keys(1, 1, 1)
        .doc("generic", "1.0.0", "Sets the expiration time of a key in seconds.", "O(1)"),
    Command::new("pexpire", -3, WRITE | FAST, acl::KEYSPACE, pexpire)
        .keys(1, 1, 1)
        .doc("generic", "2.6.0", "Sets the expiration time of a key in milliseconds.", "O(1)"),
    Command::new("expireat", -3, WRITE | FAST, acl::KEYSPACE, expireat)
        .keys(1, 1, 1)
        .doc("generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp.", "O(1)"),
    Command::new("pexpireat", -3, WRITE | FAST, acl::KEYSPACE, pexpireat)
        .keys(1, 1, 1)
        .doc("generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp.", "O(1)"),
    Command::new("ttl", 2, READONLY | FAST, acl::KEYSPACE, ttl)
        .keys(1, 1, 1)
        .doc("generic", "1.0.0", "Returns the expiration time in seconds of a key.", "O(1)"),
    Command::new("pttl", 2, READONLY | FAST, acl::KEYSPACE, pttl)
        .keys(1, 1, 1)
        .doc("generic", "2.6.0", "Returns the expiration time in milliseconds of a key.", "O(1)"),
    Command::new("expiretime", 2, READONLY | FAST, acl::KEYSPACE, expiretime)
        .keys(1, 1, 1)
        .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp.", "O(1)"),
    Command::new("pexpiretime", 2, READONLY | FAST, acl::KEYSPACE, pexpiretime)
        .keys(1, 1, 1)
        .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp.", "O(1)"),
    Command::new("persist", 2, WRITE | FAST, acl::KEYSPACE, persist)
        .keys(1, 1, 1)
        .doc("generic", "2.2.0", "Removes the expiration time of a key.", "O(1)"),
    Command::new("keys", 2, READONLY, acl::KEYSPACE | acl::DANGEROUS, keys)
        .doc("generic", "1.0.0", "Returns all key names that match a pattern.", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length."),
    Command::new("dbsize", 1, READONLY | FAST, acl::KEYSPACE, dbsize)
        .doc("server", "1.0.0", "Returns the number of keys in the database.", "O(1)"),
    Command::new("flushdb", -1, WRITE, acl::KEYSPACE | acl::DANGEROUS, flushdb)
        .doc("server", "1.0.0", "Removes all keys from the current database.", "O(N) where N is the number of keys in the selected database"),
    Command::new("flushall", -1, WRITE, acl::KEYSPACE | acl::DANGEROUS, flushall)
        .doc("server", "1.0.0", "Removes all keys from all databases.", "O(N) where N is the total number of keys in all databases"),
];

fn del(ctx: &mut Ctx<'_>) {
    let now = ctx.now();
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        let db = ctx.db();
        if db.exists(key, now) {
            let old = db.remove(key);
            crate::lazyfree::drop_value(old);
            ctx.modified(key);
            n += 1;
        }
    }
    ctx.out.integer(n);
}

fn exists(ctx: &mut Ctx<'_>) {
    let now = ctx.now();
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        if ctx.db().exists(key, now) {
            n += 1;
        }
    }
    ctx.out.integer(n);
}

fn type_(ctx: &mut Ctx<'_>) {
    let (key, now) = (ctx.arg(1), ctx.now());
    let name = ctx
        .db()
        .get_no_touch(key, now)
        .map(|r| r.obj_type().name())
        .unwrap_or("none");
    ctx.out.simple(name.as_bytes());
}

/// EXPIRE and friends: `unit_ms` 1000 or 1, `absolute` for the *AT forms.
fn expire_generic(ctx: &mut Ctx<'_>, unit_ms: i64, absolute: bool) {
    let Some(v) = ctx.arg_i64(2) else { return };
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for i in 3..ctx.argc() {
        let a = ctx.arg(i).to_ascii_uppercase();
        match a.as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            _ => {
                let msg = format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(ctx.arg(i))
                );
                ctx.out.error(msg.as_bytes());
                return;
            }
        }
    }
    if nx && (xx || gt || lt) {
        ctx.out
            .error(b"ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if gt && lt {
        ctx.out
            .error(b"ERR GT and LT options at the same time are not compatible");
        return;
    }
    let now = ctx.now();
    let at = v.checked_mul(unit_ms).and_then(|ms| {
        if absolute {
            Some(ms)
        } else {
            ms.checked_add(now.ms)
        }
    });
    let Some(at) = at else {
        let msg = format!("ERR invalid expire time in '{}' command", ctx.cmd.name);
        ctx.out.error(msg.as_bytes());
        return;
    };
    let key = ctx.arg(1);
    let db = ctx.db();
    let Some(cur) = db.get_no_touch(key, now).map(|r| r.expire()) else {
        ctx.out.integer(0);
        return;
    };
    // A key without TTL counts as an infinite TTL for GT/LT.
    let ok = (!nx || cur.is_none())
        && (!xx || cur.is_some())
        && (!gt || cur.is_some_and(|c| at > c))
        && (!lt || cur.is_none_or(|c| at < c));
    if !ok {
        ctx.out.integer(0);
        return;
    }
    if at <= now.ms {
        let old = db.remove(key);
        crate::lazyfree::drop_value(old);
    } else {
        db.set_expire(key, Some(at));
    }
    ctx.modified(key);
    ctx.out.integer(1);
}

fn expire(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 1000, false)
}
fn pexpire(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 1, false)
}
fn expireat(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 1000, true)
}
fn pexpireat(ctx: &mut Ctx<'_>) {
    expire_generic(ctx, 1, true)
}

/// TTL family: -2 no key, -1 no expire, else a value computed from the
/// absolute expire time in ms.
fn ttl_generic(ctx: &mut Ctx<'_>, f: fn(i64, i64) -> i64) {
    let (key, now) = (ctx.arg(1), ctx.now());
    let r = match ctx.db().get_no_touch(key, now) {
        None => -2,
        Some(rec) => match rec.expire() {
            None => -1,
            Some(at) => f(at, now.ms),
        },
    };
    ctx.out.integer(r);
}

fn ttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, |at, now| ((at - now).max(0) + 500) / 1000)
}
fn pttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, |at, now| (at - now).max(0))
}
fn expiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, |at, _| at / 1000)
}
fn pexpiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, |at, _| at)
}

fn persist(ctx: &mut Ctx<'_>) {
    let (key, now) = (ctx.arg(1), ctx.now());
    let db = ctx.db();
    let had = db.get_no_touch(key, now).is_some_and(|r| r.has_expire());
    if had {
        db.set_expire(key, None);
        ctx.modified(key);
    }
    ctx.out.integer(i64::from(had));
}

fn keys(ctx: &mut Ctx<'_>) {
    let pattern = ctx.arg(1);
    let now = ctx.now();
    let all = pattern == b"*";
    let found: Vec<Vec<u8>> = ctx
        .db()
        .iter()
        .filter(|r| r.expire().is_none_or(|at| at > now.ms))
        .filter(|r| all || glob_match(pattern, r.key(), false))
        .map(|r| r.key().to_vec())
        .collect();
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
}

fn dbsize(ctx: &mut Ctx<'_>) {
    let n = ctx.db().len();
    ctx.out.integer(n as i64);
}

/// Parses the optional ASYNC|SYNC argument of FLUSHDB/FLUSHALL.
fn flush_is_async(ctx: &mut Ctx<'_>) -> Option<bool> {
    match ctx.argc() {
        1 => Some(ctx.srv.config.lazyfree_lazy_user_flush),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"ASYNC") => Some(true),
        2 if ctx.arg(1).eq_ignore_ascii_case(b"SYNC") => Some(false),
        _ => {
            ctx.out.error(err::SYNTAX);
            None
        }
    }
}

fn flushdb(ctx: &mut Ctx<'_>) {
    let Some(lazy) = flush_is_async(ctx) else {
        return;
    };
    let old = ctx.db().take();
    crate::lazyfree::drop_db(old, lazy);
    ctx.srv.db_modified(Some(ctx.client.db));
    ctx.srv.dirty += 1;
    ctx.out.ok();
}

fn flushall(ctx: &mut Ctx<'_>) {
    let Some(lazy) = flush_is_async(ctx) else {
        return;
    };
    for i in 0..ctx.srv.keyspace.dbs.len() {
        let old = ctx.srv.keyspace.dbs[i].take();
        crate::lazyfree::drop_db(old, lazy);
    }
    ctx.srv.db_modified(None);
    ctx.srv.dirty += 1;
    ctx.out.ok();
}
