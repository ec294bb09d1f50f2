//! Keyspace commands: DEL, EXISTS, TYPE, the expire family, KEYS, SCAN,
//! RANDOMKEY, RENAME, COPY, MOVE, SWAPDB, TOUCH, DBSIZE, FLUSH*, WAIT.
//!
//! Lookups follow Valkey's `lookupKey` flavours: reads count keyspace hits
//! and misses, writes do not; everything but the NOTOUCH readers (EXISTS,
//! TYPE, TTL...) refreshes the key's access clock.

use super::{acl, err, flags::*, Command, Ctx};
use crate::config::notify;
use crate::keyspace::{Db, Now, ObjType, Payload, Record, Value, ValueRef};
use crate::server::Server;
use crate::util::glob::glob_match;
use crate::util::num::{parse_i64, parse_ull};

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("del", -2, WRITE, acl::KEYSPACE, del)
            .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
            .key_specs(&[KeySpec::at(1, RM | DELETE).range(-1, 1, 0)])
            .doc("generic", "1.0.0", "Deletes one or more keys.", "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1)."),
        Command::new("unlink", -2, WRITE | FAST, acl::KEYSPACE, del)
            .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
            .key_specs(&[KeySpec::at(1, RM | DELETE).range(-1, 1, 0)])
            .doc("generic", "4.0.0", "Asynchronously deletes one or more keys.", "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of."),
        Command::new("exists", -2, READONLY | FAST, acl::KEYSPACE, exists)
            .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
            .key_specs(&[KeySpec::at(1, RO).range(-1, 1, 0)])
            .doc("generic", "1.0.0", "Determines whether one or more keys exist.", "O(N) where N is the number of keys to check."),
        Command::new("type", 2, READONLY | FAST, acl::KEYSPACE, type_)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("generic", "1.0.0", "Determines the type of value stored at a key.", "O(1)"),
        Command::new("expire", -3, WRITE | FAST, acl::KEYSPACE, expire)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("generic", "1.0.0", "Sets the expiration time of a key in seconds.", "O(1)"),
        Command::new("pexpire", -3, WRITE | FAST, acl::KEYSPACE, pexpire)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("generic", "2.6.0", "Sets the expiration time of a key in milliseconds.", "O(1)"),
        Command::new("expireat", -3, WRITE | FAST, acl::KEYSPACE, expireat)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("generic", "1.2.0", "Sets the expiration time of a key to a Unix timestamp.", "O(1)"),
        Command::new("pexpireat", -3, WRITE | FAST, acl::KEYSPACE, pexpireat)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("generic", "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp.", "O(1)"),
        Command::new("ttl", 2, READONLY | FAST, acl::KEYSPACE, ttl)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("generic", "1.0.0", "Returns the expiration time in seconds of a key.", "O(1)"),
        Command::new("pttl", 2, READONLY | FAST, acl::KEYSPACE, pttl)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("generic", "2.6.0", "Returns the expiration time in milliseconds of a key.", "O(1)"),
        Command::new("expiretime", 2, READONLY | FAST, acl::KEYSPACE, expiretime)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix timestamp.", "O(1)"),
        Command::new("pexpiretime", 2, READONLY | FAST, acl::KEYSPACE, pexpiretime)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("generic", "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp.", "O(1)"),
        Command::new("persist", 2, WRITE | FAST, acl::KEYSPACE, persist)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("generic", "2.2.0", "Removes the expiration time of a key.", "O(1)"),
        Command::new("keys", 2, READONLY, acl::KEYSPACE | acl::DANGEROUS, keys)
            .tips(&["request_policy:all_shards", "nondeterministic_output_order"])
            .doc("generic", "1.0.0", "Returns all key names that match a pattern.", "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length."),
        Command::new("scan", -2, READONLY | TOUCHES_ARBITRARY_KEYS, acl::KEYSPACE, scan)
            .tips(&["nondeterministic_output", "request_policy:special", "response_policy:special"])
            .doc("generic", "2.8.0", "Iterates over the key names in the database.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
        Command::new("randomkey", 1, READONLY | TOUCHES_ARBITRARY_KEYS, acl::KEYSPACE, randomkey)
            .tips(&["request_policy:all_shards", "response_policy:special", "nondeterministic_output"])
            .doc("generic", "1.0.0", "Returns a random key name from the database.", "O(1)"),
        Command::new("rename", 3, WRITE, acl::KEYSPACE, rename)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE), KeySpec::at(2, OW | UPDATE)])
            .doc("generic", "1.0.0", "Renames a key and overwrites the destination.", "O(1)"),
        Command::new("renamenx", 3, WRITE | FAST, acl::KEYSPACE, renamenx)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE), KeySpec::at(2, OW | INSERT)])
            .doc("generic", "1.0.0", "Renames a key only when the target key name doesn't exist.", "O(1)"),
        Command::new("copy", -3, WRITE | DENYOOM, acl::KEYSPACE, copy)
            .key_specs(&[KeySpec::at(1, RO | ACCESS), KeySpec::at(2, OW | UPDATE)])
            .doc("generic", "6.2.0", "Copies the value of a key to a new key.", "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."),
        Command::new("move", 3, WRITE | FAST, acl::KEYSPACE, move_)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("generic", "1.0.0", "Moves a key to another database.", "O(1)"),
        Command::new("swapdb", 3, WRITE | FAST, acl::KEYSPACE | acl::DANGEROUS, swapdb)
            .doc("server", "4.0.0", "Swaps two databases.", "O(N) where N is the count of clients watching or blocking on keys from both databases."),
        Command::new("touch", -2, READONLY | FAST, acl::KEYSPACE, touch)
            .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
            .key_specs(&[KeySpec::at(1, RO).range(-1, 1, 0)])
            .doc("generic", "3.2.1", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "O(N) where N is the number of keys that will be touched."),
        Command::new("dbsize", 1, READONLY | FAST, acl::KEYSPACE, dbsize)
            .tips(&["request_policy:all_shards", "response_policy:agg_sum"])
            .doc("server", "1.0.0", "Returns the number of keys in the database.", "O(1)"),
        Command::new("flushdb", -1, WRITE, acl::KEYSPACE | acl::DANGEROUS, flushdb)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc("server", "1.0.0", "Remove all keys from the current database.", "O(N) where N is the number of keys in the selected database"),
        Command::new("flushall", -1, WRITE, acl::KEYSPACE | acl::DANGEROUS, flushall)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc("server", "1.0.0", "Removes all keys from all databases.", "O(N) where N is the total number of keys in all databases"),
        Command::new("wait", 3, BLOCKING, acl::CONNECTION, wait)
            .tips(&["request_policy:all_shards", "response_policy:agg_min"])
            .doc("generic", "3.0.0", "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.", "O(1)"),
    ]
};

/// Valkey's `shared.sameobjecterr`.
const SAME_OBJECT: &[u8] = b"ERR source and destination objects are the same";
/// `getRangeLongFromObjectOrReply`'s message for a C `int` out of range.
const INT_RANGE: &[u8] =
    b"ERR value is out of range, value must between -2147483648 and 2147483647";

// ---- shared helpers ----------------------------------------------------------

/// Counts a read lookup of `key` in INFO's keyspace_hits / keyspace_misses,
/// as Valkey's `lookupKeyRead*` does (write lookups are not counted), and
/// announces a miss.
fn count_read(ctx: &mut Ctx<'_>, key: &[u8], hit: bool) {
    if hit {
        ctx.srv.stats.keyspace_hits += 1;
    } else {
        ctx.srv.stats.keyspace_misses += 1;
        notify_miss(ctx, key);
    }
}

/// Accounts for the deletion of an expired key found by a command: Valkey's
/// `deleteExpiredKeyAndPropagate` counts it, announces it (`expired`) and
/// signals the key as modified (a WATCHer that saw it alive must fail its
/// EXEC).
fn note_expired(srv: &mut Server, db: usize, key: &[u8]) {
    srv.stats.expired_keys += 1;
    notify_db(srv, notify::EXPIRED, "expired", key, db);
    srv.key_modified(db, key);
    // The AOF learns of it as a DEL / UNLINK, like any expiry.
    if crate::persistence::aof::is_on() {
        let del: &[u8] = if srv.config.lazyfree_lazy_expire {
            b"UNLINK"
        } else {
            b"DEL"
        };
        srv.propagation
            .also
            .push((db, vec![del.to_vec(), key.to_vec()]));
    }
}

// ---- keyspace notifications ---------------------------------------------------

/// Publishes the keyspace notification `event` (of `class`, one of
/// [`crate::config::notify`]'s flags) for `key` of database `db`, when
/// `notify-keyspace-events` enables the class.
///
/// Keys that this command's lookups found expired are announced first.
/// Lazy expiry leaves their `expired` events in the databases until the
/// server collects them after the command, but Valkey emits them during
/// the lookup, before the command's own events: a SET over an expired key
/// must read `expired`, `new`, `set`, not `new`, `set`, `expired`.
pub(crate) fn notify_db(srv: &mut Server, class: u32, event: &str, key: &[u8], db: usize) {
    if srv.config.notify_keyspace_events & class == 0 {
        return;
    }
    srv.collect_expired();
    srv.notify(class, event, key, db);
}

/// [`notify_db`] for the client's selected database.
pub(crate) fn notify(ctx: &mut Ctx<'_>, class: u32, event: &str, key: &[u8]) {
    let db = ctx.client.db;
    notify_db(ctx.srv, class, event, key, db);
}

/// The `new` event (class `n`): a command created `key`, which did not
/// exist. Valkey emits it where the key is added (`dbAdd`), so before the
/// command's own event.
pub(crate) fn notify_new(ctx: &mut Ctx<'_>, key: &[u8]) {
    notify(ctx, notify::NEW, "new", key);
}

/// The `keymiss` event (class `m`): a read lookup found no `key` (Valkey's
/// `lookupKey` without `LOOKUP_WRITE` or `LOOKUP_NONOTIFY`).
pub(crate) fn notify_miss(ctx: &mut Ctx<'_>, key: &[u8]) {
    notify(ctx, notify::KEY_MISS, "keymiss", key);
}

/// Looks up a live key the way Valkey's `lookupKey` does for commands that
/// use it (writes, COPY's source): refreshing its access clock unless the
/// client is in CLIENT NO-TOUCH mode. Returns its expire time, or None if
/// the key is absent.
fn lookup_expire(db: &mut Db, key: &[u8], now: Now, touch: bool) -> Option<Option<i64>> {
    db.get_with(key, now, touch).map(|r| r.expire())
}

fn is_past(expire: Option<i64>, now: Now) -> bool {
    expire.is_some_and(|at| now.already_expired(at))
}

/// Argument `i` as a C `int`, like `getIntFromObjectOrReply`: `msg` replaces
/// both of Valkey's default errors when given (SWAPDB's "invalid first DB
/// index").
fn arg_int(ctx: &mut Ctx<'_>, i: usize, msg: Option<&[u8]>) -> Option<i64> {
    match parse_i64(ctx.arg(i)) {
        None => {
            ctx.out.error(msg.unwrap_or(err::NOT_INTEGER));
            None
        }
        Some(v) if i32::try_from(v).is_err() => {
            ctx.out.error(msg.unwrap_or(INT_RANGE));
            None
        }
        Some(v) => Some(v),
    }
}

/// A database number given by a client, checked against `databases`.
fn db_index(ctx: &mut Ctx<'_>, id: i64) -> Option<usize> {
    match usize::try_from(id) {
        Ok(id) if id < ctx.srv.keyspace.dbs.len() => Some(id),
        _ => {
            ctx.out.error(err::DB_INDEX);
            None
        }
    }
}

/// A deep copy of a heap value (COPY). Each `Value` variant gets its arm here
/// as the collection types land, like Valkey's `dupStringObject`,
/// `listTypeDup`, `setTypeDup`, `zsetDup`, `hashTypeDup` and `streamDup`; the
/// exhaustive match makes a new variant a compile error until it does.
pub fn dup_value(v: &Value) -> Value {
    v.clone()
}

/// A new record for `key` holding a copy of `rec`'s value in the same
/// encoding (int stays int, embstr embstr, raw raw), so OBJECT ENCODING of a
/// copy matches the original as in Valkey.
pub fn copy_record(rec: &Record, key: &[u8], expire: Option<i64>, clock: u32) -> Record {
    let payload = match rec.value() {
        ValueRef::Int(i) => Payload::Int(i),
        ValueRef::Str(s) => Payload::Str(s),
        ValueRef::Heap(v) => Payload::Heap(Box::new(dup_value(v))),
    };
    Record::build(key, payload, expire, clock)
}

/// `rec` under a new key (RENAME): the key lives inside the record, so this
/// builds a new one, but a heap value is moved, not copied, keeping RENAME
/// O(1) for big values. The expire time and the access clock go with it
/// (Valkey renames the same object).
fn rekey_record(rec: Record, key: &[u8]) -> Record {
    let (expire, clock) = (rec.expire(), rec.clock());
    match rec.into_heap() {
        Ok(v) => Record::build(key, Payload::Heap(v), expire, clock),
        Err(rec) => copy_record(&rec, key, expire, clock),
    }
}

// ---- DEL, EXISTS, TYPE, TOUCH -------------------------------------------------

/// DEL and UNLINK: UNLINK always frees big values in the background, DEL
/// when `lazyfree-lazy-user-del` is on (Valkey 8's default).
fn del(ctx: &mut Ctx<'_>) {
    let now = ctx.now();
    let dbi = ctx.client.db;
    let lazy = ctx.srv.config.lazyfree_lazy_user_del || ctx.arg(0).eq_ignore_ascii_case(b"unlink");
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        let Some(old) = ctx.db().remove(key) else {
            continue;
        };
        if is_past(old.expire(), now) {
            // Already logically gone: an expiry, not a deletion (Valkey
            // expires it first and does not count it).
            crate::lazyfree::drop_value_if(Some(old), ctx.srv.config.lazyfree_lazy_expire);
            note_expired(ctx.srv, dbi, key);
            continue;
        }
        crate::lazyfree::drop_value_if(Some(old), lazy);
        ctx.modified(key);
        notify(ctx, notify::GENERIC, "del", key);
        n += 1;
    }
    ctx.out.integer(n);
}

fn exists(ctx: &mut Ctx<'_>) {
    let now = ctx.now();
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        let hit = ctx.db().exists(key, now);
        count_read(ctx, key, hit);
        n += i64::from(hit);
    }
    ctx.out.integer(n);
}

fn type_(ctx: &mut Ctx<'_>) {
    let (key, now) = (ctx.arg(1), ctx.now());
    let ty = ctx.db().get_no_touch(key, now).map(|r| r.obj_type());
    count_read(ctx, key, ty.is_some());
    let name = ty.map_or("none", ObjType::name);
    ctx.out.simple(name.as_bytes());
}

/// TOUCH: like EXISTS, but refreshing each key's access time.
fn touch(ctx: &mut Ctx<'_>) {
    let now = ctx.now();
    let mut n = 0;
    for i in 1..ctx.argc() {
        let key = ctx.arg(i);
        let hit = ctx.db().get(key, now).is_some();
        count_read(ctx, key, hit);
        n += i64::from(hit);
    }
    ctx.out.integer(n);
}

// ---- the expire family ----------------------------------------------------------

/// EXPIRE and friends: `unit_ms` 1000 or 1, `absolute` for the *AT forms.
/// Options are checked before the time, as in Valkey.
fn expire_generic(ctx: &mut Ctx<'_>, unit_ms: i64, absolute: bool) {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for i in 3..ctx.argc() {
        let a = ctx.arg(i);
        if a.eq_ignore_ascii_case(b"NX") {
            nx = true;
        } else if a.eq_ignore_ascii_case(b"XX") {
            xx = true;
        } else if a.eq_ignore_ascii_case(b"GT") {
            gt = true;
        } else if a.eq_ignore_ascii_case(b"LT") {
            lt = true;
        } else {
            let mut msg = b"ERR Unsupported option ".to_vec();
            msg.extend_from_slice(a);
            ctx.out.error(&msg);
            return;
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
    let Some(v) = ctx.arg_i64(2) else { return };
    let now = ctx.now();
    // Negative times are allowed (they delete the key); only overflow of the
    // unit conversion or of adding the base time is an error.
    let base = if absolute { 0 } else { now.ms };
    let Some(at) = v.checked_mul(unit_ms).and_then(|ms| ms.checked_add(base)) else {
        let msg = format!("ERR invalid expire time in '{}' command", ctx.cmd.name);
        ctx.out.error(msg.as_bytes());
        return;
    };
    let key = ctx.arg(1);
    let touch = !ctx.client.no_touch;
    let db = ctx.db();
    let Some(cur) = lookup_expire(db, key, now, touch) else {
        ctx.out.integer(0);
        return;
    };
    // A key without TTL counts as an infinite TTL: GT never passes, LT
    // always does.
    let ok = (!nx || cur.is_none())
        && (!xx || cur.is_some())
        && (!gt || cur.is_some_and(|c| at > c))
        && (!lt || cur.is_none_or(|c| at < c));
    if !ok {
        ctx.out.integer(0);
        return;
    }
    // A time in the past deletes the key at once (Valkey propagates and
    // announces it as a DEL).
    let past = now.already_expired(at);
    let event = if past {
        let old = db.remove(key);
        crate::lazyfree::drop_value(old);
        "del"
    } else {
        db.set_expire(key, Some(at));
        "expire"
    };
    ctx.modified(key);
    notify(ctx, notify::GENERIC, event, key);
    ctx.out.integer(1);
    if past {
        // Propagated as the deletion (DEL, or UNLINK with
        // lazyfree-lazy-expire).
        let del: &[u8] = if ctx.srv.config.lazyfree_lazy_expire {
            b"UNLINK"
        } else {
            b"DEL"
        };
        ctx.propagate_as(&[del, key]);
    } else if ctx.cmd.name != "pexpireat" {
        // Relative or second-based times reach the AOF as the absolute
        // millisecond time they became, options kept (Valkey rewrites
        // argv[0] and argv[2]).
        let mut argv: Vec<&[u8]> = (0..ctx.argc()).map(|i| ctx.arg(i)).collect();
        let when = at.to_string();
        argv[0] = b"PEXPIREAT";
        argv[2] = when.as_bytes();
        ctx.propagate_as(&argv);
    }
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

/// TTL family: -2 no key, -1 no expire, else the remaining (or absolute)
/// time, clamped at 0 and rounded to the nearest second for the second
/// forms (`(ms + 500) / 1000`, wrapping like Valkey's C arithmetic near
/// `i64::MAX`).
fn ttl_generic(ctx: &mut Ctx<'_>, absolute: bool, in_ms: bool) {
    let (key, now) = (ctx.arg(1), ctx.now());
    let found = ctx.db().get_no_touch(key, now).map(|r| r.expire());
    count_read(ctx, key, found.is_some());
    let r = match found {
        None => -2,
        Some(None) => -1,
        Some(Some(at)) => {
            let t = if absolute { at } else { at - now.ms }.max(0);
            if in_ms {
                t
            } else {
                t.wrapping_add(500) / 1000
            }
        }
    };
    ctx.out.integer(r);
}

fn ttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, false, false)
}
fn pttl(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, false, true)
}
fn expiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, true, false)
}
fn pexpiretime(ctx: &mut Ctx<'_>) {
    ttl_generic(ctx, true, true)
}

fn persist(ctx: &mut Ctx<'_>) {
    let (key, now) = (ctx.arg(1), ctx.now());
    let touch = !ctx.client.no_touch;
    let db = ctx.db();
    let had = lookup_expire(db, key, now, touch).is_some_and(|e| e.is_some());
    if had {
        db.set_expire(key, None);
        ctx.modified(key);
        notify(ctx, notify::GENERIC, "persist", key);
    }
    ctx.out.integer(i64::from(had));
}

// ---- KEYS, SCAN, RANDOMKEY, DBSIZE ---------------------------------------------

/// KEYS: expired keys are skipped but not deleted (Valkey only checks them).
fn keys(ctx: &mut Ctx<'_>) {
    let pattern = ctx.arg(1);
    let now = ctx.now();
    let all = pattern == b"*";
    let found: Vec<Vec<u8>> = ctx
        .db()
        .iter()
        .filter(|r| !is_past(r.expire(), now))
        .filter(|r| all || glob_match(pattern, r.key(), false))
        .map(|r| r.key().to_vec())
        .collect();
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
}

/// The type a SCAN TYPE argument names, case-insensitively.
fn type_by_name(name: &[u8]) -> Option<ObjType> {
    [
        ObjType::String,
        ObjType::List,
        ObjType::Set,
        ObjType::ZSet,
        ObjType::Hash,
        ObjType::Stream,
    ]
    .into_iter()
    .find(|t| t.name().as_bytes().eq_ignore_ascii_case(name))
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].
///
/// COUNT bounds the entries visited, not the keys returned: like Valkey,
/// steps continue until `count` entries were seen (before filtering), the
/// cursor returns to 0, or `10 * count` steps found nothing (a sparse
/// table). Filters run on the visited keys; then expired ones among the
/// survivors are deleted and left out.
fn scan(ctx: &mut Ctx<'_>) {
    let Some(mut cursor) = parse_ull(ctx.arg(1)) else {
        ctx.out.error(b"ERR invalid cursor");
        return;
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut want: Option<ObjType> = None;
    let mut i = 2;
    while i < ctx.argc() {
        let opt = ctx.arg(i);
        let more = ctx.argc() - i - 1;
        if opt.eq_ignore_ascii_case(b"COUNT") && more >= 1 {
            let Some(c) = ctx.arg_i64(i + 1) else { return };
            if c < 1 {
                ctx.out.error(err::SYNTAX);
                return;
            }
            count = c;
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"MATCH") && more >= 1 {
            let p = ctx.arg(i + 1);
            // "*" matches everything: same as no pattern.
            pattern = (p != b"*").then_some(p);
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"TYPE") && more >= 1 {
            let name = ctx.arg(i + 1);
            let Some(t) = type_by_name(name) else {
                let mut msg = b"ERR unknown type name '".to_vec();
                msg.extend_from_slice(name);
                msg.push(b'\'');
                ctx.out.error(&msg);
                return;
            };
            want = Some(t);
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"NOVALUES") {
            ctx.out
                .error(b"ERR NOVALUES option can only be used in HSCAN");
            return;
        } else if opt.eq_ignore_ascii_case(b"NOSCORES") {
            ctx.out
                .error(b"ERR NOSCORES option can only be used in ZSCAN");
            return;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
    }
    let now = ctx.now();
    let db = ctx.db();
    // Matching keys, and whether each was already past its expire time
    // when visited (so live keys cost no second lookup).
    let mut found: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut sampled: i64 = 0;
    let mut steps_left = count.saturating_mul(10);
    loop {
        cursor = db.scan(cursor, |r| {
            sampled += 1;
            if want.is_some_and(|t| r.obj_type() != t) {
                return;
            }
            if pattern.is_some_and(|p| !glob_match(p, r.key(), false)) {
                return;
            }
            found.push((r.key().to_vec(), is_past(r.expire(), now)));
        });
        if cursor == 0 || steps_left == 0 || sampled >= count {
            break;
        }
        steps_left -= 1;
    }
    let dbi = ctx.client.db;
    let mut live = Vec::with_capacity(found.len());
    for (k, stale) in found {
        if !stale {
            live.push(k);
        } else if let Some(old) = ctx.db().remove(&k) {
            crate::lazyfree::drop_value(Some(old));
            note_expired(ctx.srv, dbi, &k);
        }
    }
    ctx.out.array(2);
    ctx.out.bulk(cursor.to_string().as_bytes());
    ctx.out.array(live.len());
    for k in &live {
        ctx.out.bulk(k);
    }
}

/// RANDOMKEY: a fair random key; expired picks are deleted and another one
/// drawn, so the loop ends (each round removes a key) with a live key or an
/// empty database.
fn randomkey(ctx: &mut Ctx<'_>) {
    let now = ctx.now();
    let dbi = ctx.client.db;
    let mut s = ctx.srv.random() | 1;
    let mut rng = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    loop {
        let db = ctx.db();
        let Some((key, expire)) = db
            .random_record(&mut rng)
            .map(|r| (r.key().to_vec(), r.expire()))
        else {
            ctx.out.null();
            return;
        };
        if is_past(expire, now) {
            let old = db.remove(&key);
            crate::lazyfree::drop_value(old);
            note_expired(ctx.srv, dbi, &key);
            continue;
        }
        ctx.out.bulk(&key);
        return;
    }
}

/// DBSIZE counts keys not yet deleted, expired or not, like Valkey.
fn dbsize(ctx: &mut Ctx<'_>) {
    let n = ctx.db().len();
    ctx.out.integer(n as i64);
}

// ---- RENAME, COPY, MOVE ----------------------------------------------------------

fn rename_generic(ctx: &mut Ctx<'_>, nx: bool) {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    let now = ctx.now();
    let touch = !ctx.client.no_touch;
    let db = ctx.db();
    if lookup_expire(db, src, now, touch).is_none() {
        ctx.out.error(err::NO_SUCH_KEY);
        return;
    }
    // Same name: nothing to do, but a missing key was still an error.
    if src == dst {
        if nx {
            ctx.out.integer(0);
        } else {
            ctx.out.ok();
        }
        return;
    }
    // The destination is looked up (expiring it if its time has passed)
    // whether or not NX needs the answer, as in Valkey.
    if db.exists(dst, now) && nx {
        ctx.out.integer(0);
        return;
    }
    let Some(rec) = db.remove(src) else {
        ctx.out.error(err::NO_SUCH_KEY);
        return;
    };
    // The TTL moves with the value; the destination's own TTL is dropped
    // with the destination.
    let old = db.insert(rekey_record(rec, dst));
    crate::lazyfree::drop_value(old);
    // Valkey deletes an existing destination, then adds the key anew: the
    // destination is always a `new` key.
    notify_new(ctx, dst);
    ctx.modified(src);
    ctx.modified(dst);
    notify(ctx, notify::GENERIC, "rename_from", src);
    notify(ctx, notify::GENERIC, "rename_to", dst);
    if nx {
        ctx.out.integer(1);
    } else {
        ctx.out.ok();
    }
}

fn rename(ctx: &mut Ctx<'_>) {
    rename_generic(ctx, false)
}
fn renamenx(ctx: &mut Ctx<'_>) {
    rename_generic(ctx, true)
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut Ctx<'_>) {
    let src_db = ctx.client.db;
    let mut dst_db = src_db;
    let mut replace = false;
    let mut j = 3;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        if opt.eq_ignore_ascii_case(b"REPLACE") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"DB") && j + 1 < ctx.argc() {
            let Some(id) = arg_int(ctx, j + 1, None) else {
                return;
            };
            let Some(id) = db_index(ctx, id) else { return };
            dst_db = id;
            j += 1;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    let (key, newkey) = (ctx.arg(1), ctx.arg(2));
    if src_db == dst_db && key == newkey {
        ctx.out.error(SAME_OBJECT);
        return;
    }
    let now = ctx.now();
    let src = &mut ctx.srv.keyspace.dbs[src_db];
    let copy = |r: &Record| copy_record(r, newkey, r.expire(), now.clock);
    let copied = if ctx.client.no_touch {
        src.get_no_touch(key, now).map(|r| copy(&r))
    } else {
        src.get(key, now).map(|r| copy(&r))
    };
    count_read(ctx, key, copied.is_some());
    let Some(copied) = copied else {
        ctx.out.integer(0);
        return;
    };
    // The destination is looked up (and expired if its time has passed)
    // even with REPLACE, as in Valkey.
    let dst = &mut ctx.srv.keyspace.dbs[dst_db];
    if dst.exists(newkey, now) && !replace {
        ctx.out.integer(0);
        return;
    }
    let old = dst.insert(copied);
    crate::lazyfree::drop_value(old);
    // A replaced destination is deleted, then added anew: always `new`.
    notify_db(ctx.srv, notify::NEW, "new", newkey, dst_db);
    ctx.srv.key_modified(dst_db, newkey);
    notify_db(ctx.srv, notify::GENERIC, "copy_to", newkey, dst_db);
    ctx.srv.dirty += 1;
    ctx.out.integer(1);
}

/// MOVE key db: the record itself changes database (same key, same TTL).
fn move_(ctx: &mut Ctx<'_>) {
    let Some(id) = arg_int(ctx, 2, None) else {
        return;
    };
    let Some(dst_db) = db_index(ctx, id) else {
        return;
    };
    let src_db = ctx.client.db;
    if src_db == dst_db {
        ctx.out.error(SAME_OBJECT);
        return;
    }
    let (key, now) = (ctx.arg(1), ctx.now());
    let touch = !ctx.client.no_touch;
    if lookup_expire(&mut ctx.srv.keyspace.dbs[src_db], key, now, touch).is_none()
        || ctx.srv.keyspace.dbs[dst_db].exists(key, now)
    {
        ctx.out.integer(0);
        return;
    }
    let Some(rec) = ctx.srv.keyspace.dbs[src_db].remove(key) else {
        ctx.out.integer(0);
        return;
    };
    ctx.srv.keyspace.dbs[dst_db].insert(rec);
    notify_db(ctx.srv, notify::NEW, "new", key, dst_db);
    ctx.srv.key_modified(src_db, key);
    ctx.srv.key_modified(dst_db, key);
    notify_db(ctx.srv, notify::GENERIC, "move_from", key, src_db);
    notify_db(ctx.srv, notify::GENERIC, "move_to", key, dst_db);
    ctx.srv.dirty += 1;
    ctx.out.integer(1);
}

// ---- SWAPDB, FLUSHDB, FLUSHALL -----------------------------------------------

/// Valkey's `touchAllWatchedKeysInDb`: before database `emptied` loses its
/// contents (FLUSH) or trades them with `replaced_with` (SWAPDB), invalidate
/// the WATCHes on its keys that exist on either side. A WATCH on a key that
/// exists in neither sees no change and survives.
///
/// A key present but already expired counts as present: Valkey dirties a
/// watcher that saw it alive. One that WATCHed it already expired should be
/// spared (Valkey's per-watch "expired" flag); that takes WATCH deleting a
/// key it finds expired, which leaves it absent here.
fn touch_watched_keys(srv: &mut Server, emptied: usize, replaced_with: Option<usize>) {
    if srv.watchers.is_empty() {
        return;
    }
    let dbs = &srv.keyspace.dbs;
    let present = |d: usize, k: &[u8]| dbs.get(d).is_some_and(|db| db.peek(k).is_some());
    let touched: Vec<Vec<u8>> = srv
        .watchers
        .keys()
        .filter(|(d, k)| {
            *d == emptied && (present(emptied, k) || replaced_with.is_some_and(|r| present(r, k)))
        })
        .map(|(_, k)| k.clone())
        .collect();
    for k in touched {
        srv.key_modified(emptied, &k);
    }
}

/// Deletes the expired copies of WATCHed keys in database `db` (SWAPDB):
/// an expired key swapped in for a missing one is no change to its
/// watchers, so it must not count as present.
fn purge_stale_watched(srv: &mut Server, db: usize, other: usize) {
    let now = srv.now;
    let stale: Vec<Vec<u8>> = srv
        .watchers
        .keys()
        .filter(|(d, _)| *d == db || *d == other)
        .filter(|(_, k)| srv.keyspace.dbs[db].is_stale(k, now))
        .map(|(_, k)| k.clone())
        .collect();
    for k in stale {
        let old = srv.keyspace.dbs[db].remove(&k);
        crate::lazyfree::drop_value(old);
        note_expired(srv, db, &k);
    }
}

fn swapdb(ctx: &mut Ctx<'_>) {
    let Some(id1) = arg_int(ctx, 1, Some(b"ERR invalid first DB index")) else {
        return;
    };
    let Some(id2) = arg_int(ctx, 2, Some(b"ERR invalid second DB index")) else {
        return;
    };
    let n = ctx.srv.keyspace.dbs.len() as i64;
    if !(0..n).contains(&id1) || !(0..n).contains(&id2) {
        ctx.out.error(err::DB_INDEX);
        return;
    }
    let (a, b) = (id1 as usize, id2 as usize);
    if a != b {
        let srv = &mut *ctx.srv;
        if !srv.watchers.is_empty() {
            purge_stale_watched(srv, a, b);
            purge_stale_watched(srv, b, a);
            touch_watched_keys(srv, a, Some(b));
            touch_watched_keys(srv, b, Some(a));
        }
        // Clients keep their db numbers, and WATCHes stay with the numbers
        // (they live in the server, not in the databases): only the
        // contents trade places.
        srv.keyspace.dbs.swap(a, b);
        // Blocked clients too: they wait on a number. Keys now present on
        // either side may serve them (Valkey's scanDatabaseForReadyKeys).
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = srv.keyspace.dbs.split_at_mut(hi);
        std::mem::swap(&mut left[lo].blocking, &mut right[0].blocking);
        for d in [a, b] {
            srv.keyspace.dbs[d].signal_blocked_keys();
        }
    }
    ctx.srv.dirty += 1;
    ctx.out.ok();
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

/// Empties database `i`, invalidating the WATCHes its keys affect, and
/// counts the removed keys as changes (Valkey: `dirty += emptyData(...)`).
fn flush_one(srv: &mut Server, i: usize, lazy: bool) {
    touch_watched_keys(srv, i, None);
    let old = srv.keyspace.dbs[i].take();
    srv.dirty += old.len() as u64;
    crate::lazyfree::drop_db(old, lazy);
}

fn flushdb(ctx: &mut Ctx<'_>) {
    let Some(lazy) = flush_is_async(ctx) else {
        return;
    };
    flush_one(ctx.srv, ctx.client.db, lazy);
    ctx.out.ok();
}

fn flushall(ctx: &mut Ctx<'_>) {
    let Some(lazy) = flush_is_async(ctx) else {
        return;
    };
    for i in 0..ctx.srv.keyspace.dbs.len() {
        flush_one(ctx.srv, i, lazy);
    }
    crate::persistence::after_flushall(ctx.srv);
    ctx.out.ok();
}

// ---- WAIT ----------------------------------------------------------------------

/// WAIT numreplicas timeout: the number of replicas that acknowledged this
/// client's writes. There are no replicas, so the answer is 0. Valkey would
/// first block until the timeout when `numreplicas > 0` (forever for 0);
/// with no replica able to connect meanwhile the answer is the same 0, so we
/// give it at once rather than stall the client (as Valkey itself does
/// inside MULTI).
fn wait(ctx: &mut Ctx<'_>) {
    if ctx.arg_i64(1).is_none() {
        return;
    }
    let Some(timeout) = parse_i64(ctx.arg(2)) else {
        ctx.out
            .error(b"ERR timeout is not an integer or out of range");
        return;
    };
    if timeout < 0 {
        ctx.out.error(b"ERR timeout is negative");
        return;
    }
    if timeout > 0 && timeout > i64::MAX - ctx.now().ms {
        ctx.out.error(b"ERR timeout is out of range");
        return;
    }
    ctx.out.integer(0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::strings::tests::Harness;
    use crate::keyspace::Db;

    #[test]
    fn notifying_announces_pending_expiries_first() {
        let mut h = Harness::new();
        assert_eq!(h.cmd("CONFIG SET notify-keyspace-events KEA"), "+OK\r\n");
        // A key whose time passed long ago, deleted by a lookup: its
        // `expired` event waits in the database.
        h.srv.keyspace.dbs[0].insert(Record::new_string(b"a", b"1", Some(1), 0));
        let now = h.srv.now;
        assert!(h.srv.keyspace.dbs[0].get(b"a", now).is_none());
        let before = h.srv.stats.expired_keys;
        // A class that is off publishes nothing, and collects nothing.
        notify_db(&mut h.srv, notify::NEW, "new", b"x", 0);
        assert!(h.srv.keyspace.dbs[0].has_expired());
        assert_eq!(h.srv.stats.expired_keys, before);
        // One that is on first collects (and announces) the expiry.
        notify_db(&mut h.srv, notify::STRING, "set", b"x", 0);
        assert!(!h.srv.keyspace.dbs[0].has_expired());
        assert_eq!(h.srv.stats.expired_keys, before + 1);
    }

    #[test]
    fn copy_record_keeps_encoding_value_and_ttl() {
        let cases: Vec<(Record, &str)> = vec![
            (Record::new_string(b"k", b"12345", None, 1), "int"),
            (Record::new_string(b"k", b"short", Some(99), 1), "embstr"),
            (Record::new_string(b"k", &[b'x'; 100], None, 1), "raw"),
            (Record::new_string(b"k", &[b'y'; 5000], Some(7), 1), "raw"),
            (Record::new_raw(b"k", b"12".to_vec(), None, 1), "raw"),
        ];
        for (rec, enc) in cases {
            let c = copy_record(&rec, b"a-much-longer-key-name", rec.expire(), 3);
            assert_eq!(c.key(), b"a-much-longer-key-name");
            assert_eq!(c.encoding_name(), enc);
            assert_eq!(c.expire(), rec.expire());
            assert_eq!(c.clock(), 3);
            let (mut b1, mut b2) = ([0u8; 24], [0u8; 24]);
            assert_eq!(c.string_value(&mut b1), rec.string_value(&mut b2));
        }
    }

    #[test]
    fn copies_are_independent() {
        let mut rec = Record::new_raw(b"k", b"abc".to_vec(), None, 0);
        let c = copy_record(&rec, b"k2", None, 0);
        if let Some(Value::Str(s)) = rec.heap_mut() {
            s.extend_from_slice(b"def");
        }
        let mut buf = [0u8; 24];
        assert_eq!(c.string_value(&mut buf), Some(&b"abc"[..]));
    }

    #[test]
    fn rekey_moves_value_and_ttl() {
        let big = vec![b'z'; 10_000];
        for rec in [
            Record::new_string(b"old", &big, Some(1234), 4),
            Record::new_string(b"old", b"-7", None, 4),
            Record::new_raw(b"old", b"ab".to_vec(), Some(5), 4),
        ] {
            let (enc, exp) = (rec.encoding_name(), rec.expire());
            let mut want = [0u8; 24];
            let val = rec.string_value(&mut want).map(<[u8]>::to_vec);
            let r = rekey_record(rec, b"new");
            assert_eq!(r.key(), b"new");
            assert_eq!(r.clock(), 4);
            assert_eq!((r.encoding_name(), r.expire()), (enc, exp));
            let mut buf = [0u8; 24];
            assert_eq!(r.string_value(&mut buf).map(<[u8]>::to_vec), val);
        }
    }

    #[test]
    fn scan_type_names_are_case_insensitive() {
        assert_eq!(type_by_name(b"STRING"), Some(ObjType::String));
        assert_eq!(type_by_name(b"zset"), Some(ObjType::ZSet));
        assert_eq!(type_by_name(b"Stream"), Some(ObjType::Stream));
        assert_eq!(type_by_name(b"string1"), None);
        assert_eq!(type_by_name(b"none"), None);
    }

    #[test]
    fn db_scan_with_record_filter_sees_every_key_once_when_stable() {
        let mut db = Db::default();
        for i in 0..1000 {
            db.insert(Record::new_string(
                format!("k{i}").as_bytes(),
                b"v",
                None,
                0,
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = db.scan(cursor, |r| {
                assert!(seen.insert(r.key().to_vec()), "duplicate");
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
    }
}

/// What EXPIRE and friends reach the AOF as.
#[cfg(test)]
mod propagation_tests {
    use crate::commands::strings::tests::Harness;

    #[test]
    fn expires_become_pexpireat_and_past_times_delete() {
        let mut h = Harness::new();
        h.cmd("SET k v");
        let got = h.propagated("EXPIRE k 100");
        assert_eq!(got, [format!("PEXPIREAT k {}", h.srv.now.ms + 100_000)]);
        let got = h.propagated("PEXPIRE k 100 GT");
        assert_eq!(got, Vec::<String>::new());
        let got = h.propagated("PEXPIRE k 200000 GT");
        assert_eq!(got, [format!("PEXPIREAT k {} GT", h.srv.now.ms + 200_000)]);
        assert_eq!(
            h.propagated("EXPIREAT k 99999999999"),
            ["PEXPIREAT k 99999999999000"]
        );
        assert_eq!(
            h.propagated("PEXPIREAT k 99999999999999"),
            ["PEXPIREAT k 99999999999999"]
        );
        assert_eq!(h.propagated("PERSIST k"), ["PERSIST k"]);
        assert_eq!(h.propagated("EXPIRE k -1"), ["UNLINK k"]);
        assert_eq!(h.propagated("EXPIRE k 10"), Vec::<String>::new());
        h.cmd("SET k v");
        h.srv.config.lazyfree_lazy_expire = false;
        assert_eq!(h.propagated("PEXPIREAT k 1"), ["DEL k"]);
    }

    #[test]
    fn deleting_an_expired_key_is_its_expiry() {
        let mut h = Harness::new();
        h.cmd("SET k v PX 1");
        h.cmd("SET live v");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let got = h.propagated("DEL k live");
        assert_eq!(got, ["MULTI", "DEL k live", "UNLINK k", "EXEC"]);
    }

    #[test]
    fn a_write_over_an_expired_key_follows_its_deletion() {
        let mut h = Harness::new();
        h.cmd("SET k v PX 1");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let got = h.propagated("SET k v2 NX");
        assert_eq!(got, ["MULTI", "UNLINK k", "SET k v2 NX", "EXEC"]);
        h.cmd("RPUSH l a");
        h.cmd("PEXPIRE l 1");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let got = h.propagated("LPUSH l b");
        assert_eq!(got, ["MULTI", "UNLINK l", "LPUSH l b", "EXEC"]);
    }
}
