//! String commands.
//!
//! Semantics follow Valkey's `t_string.c`, including the order in which
//! arguments are validated (which decides the error a client sees when
//! several things are wrong), the keyspace hit/miss accounting (only
//! lookups made for reading count), and which writes keep a key's TTL:
//! in-place changes (APPEND, SETRANGE, INCR*, SETBIT) keep it, replacing
//! the value (SET without KEEPTTL, GETSET, MSET) drops it.
//!
//! The helpers at the top are shared with the bit commands (`bitops.rs`).

use super::keys::{notify, notify_miss, notify_new};
use super::{acl, err, flags::*, Command, Ctx};
use crate::config::notify::{GENERIC, STRING};
use crate::keyspace::thinbuf::StrBuf;
use crate::keyspace::{Db, Now, ObjType, Payload, Record, Value, ValueRef};
use crate::resp::Reply;
use crate::server::Stats;
use crate::util::num::{parse_i64, LongDouble};

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("get", 2, READONLY | FAST, acl::STRING, get)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("string", "1.0.0", "Returns the string value of a key.", "O(1)"),
        Command::new("set", -3, WRITE | DENYOOM, acl::STRING, set)
            .key_specs(&[
                KeySpec::at(1, RW | ACCESS | UPDATE | VARIABLE_FLAGS)
                    .notes("RW and ACCESS due to the optional `GET` argument"),
            ])
            .key_refs_fn(super::introspection::set_keys)
            .doc("string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)"),
        Command::new("setnx", 3, WRITE | DENYOOM | FAST, acl::STRING, setnx)
            .key_specs(&[KeySpec::at(1, OW | INSERT)])
            .doc("string", "1.0.0", "Set the string value of a key only when the key doesn't exist.", "O(1)"),
        Command::new("setex", 4, WRITE | DENYOOM, acl::STRING, setex)
            .key_specs(&[KeySpec::at(1, OW | UPDATE)])
            .doc("string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "O(1)"),
        Command::new("psetex", 4, WRITE | DENYOOM, acl::STRING, psetex)
            .key_specs(&[KeySpec::at(1, OW | UPDATE)])
            .doc("string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "O(1)"),
        Command::new("getset", 3, WRITE | DENYOOM | FAST, acl::STRING, getset)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("string", "1.0.0", "Returns the previous string value of a key after setting it to a new value.", "O(1)"),
        Command::new("getdel", 2, WRITE | FAST, acl::STRING, getdel)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE)])
            .doc("string", "6.2.0", "Returns the string value of a key after deleting the key.", "O(1)"),
        Command::new("getex", -2, WRITE | FAST, acl::STRING, getex)
            .key_specs(&[
                KeySpec::at(1, RW | ACCESS | UPDATE)
                    .notes("RW and UPDATE because it changes the TTL"),
            ])
            .doc("string", "6.2.0", "Returns the string value of a key after setting its expiration time.", "O(1)"),
        Command::new("mget", -2, READONLY | FAST, acl::STRING, mget)
            .tips(&["request_policy:multi_shard"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS).range(-1, 1, 0)])
            .doc("string", "1.0.0", "Atomically returns the string values of one or more keys.", "O(N) where N is the number of keys to retrieve."),
        Command::new("mset", -3, WRITE | DENYOOM, acl::STRING, mset)
            .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
            .key_specs(&[KeySpec::at(1, OW | UPDATE).range(-1, 2, 0)])
            .doc("string", "1.0.1", "Atomically creates or modifies the string values of one or more keys.", "O(N) where N is the number of keys to set."),
        Command::new("msetnx", -3, WRITE | DENYOOM, acl::STRING, msetnx)
            .key_specs(&[KeySpec::at(1, OW | INSERT).range(-1, 2, 0)])
            .doc("string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist.", "O(N) where N is the number of keys to set."),
        Command::new("strlen", 2, READONLY | FAST, acl::STRING, strlen)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("string", "2.2.0", "Returns the length of a string value.", "O(1)"),
        Command::new("append", 3, WRITE | DENYOOM | FAST, acl::STRING, append)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist.", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by the server will double the free space available on every reallocation."),
        Command::new("getrange", 4, READONLY, acl::STRING, getrange)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("string", "2.4.0", "Returns a substring of the string stored at a key.", GETRANGE_COMPLEXITY),
        Command::new("substr", 4, READONLY, acl::STRING, getrange)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("string", "1.0.0", "Returns a substring from a string value.", GETRANGE_COMPLEXITY),
        Command::new("setrange", 4, WRITE | DENYOOM, acl::STRING, setrange)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("string", "2.2.0", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument."),
        Command::new("lcs", -3, READONLY, acl::STRING, lcs)
            .key_specs(&[KeySpec::at(1, RO | ACCESS).range(1, 1, 0)])
            .doc("string", "7.0.0", "Finds the longest common substring.", "O(N*M) where N and M are the lengths of s1 and s2, respectively"),
        Command::new("incr", 2, WRITE | DENYOOM | FAST, acl::STRING, incr)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
        Command::new("decr", 2, WRITE | DENYOOM | FAST, acl::STRING, decr)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
        Command::new("incrby", 3, WRITE | DENYOOM | FAST, acl::STRING, incrby)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
        Command::new("decrby", 3, WRITE | DENYOOM | FAST, acl::STRING, decrby)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
        Command::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, acl::STRING, incrbyfloat)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("string", "2.6.0", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    ]
};

const GETRANGE_COMPLEXITY: &str = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

const ERR_MAX_SIZE: &[u8] = b"ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// ---------------------------------------------------------------------------
// Shared helpers (also used by bitops.rs)
// ---------------------------------------------------------------------------

/// The part of an argument Valkey's C string comparisons see: keyword
/// matching (`strcasecmp`, `opt[2] == '\0'`) stops at the first NUL byte, so
/// `"GET\0junk"` is the GET option there too.
pub(crate) fn cstr(a: &[u8]) -> &[u8] {
    match a.iter().position(|&b| b == 0) {
        Some(n) => &a[..n],
        None => a,
    }
}

/// Whether argument `a` is the keyword `kw` (ASCII case-insensitive, C
/// string semantics).
pub(crate) fn is_kw(a: &[u8], kw: &str) -> bool {
    cstr(a).eq_ignore_ascii_case(kw.as_bytes())
}

/// The pieces of a command context a lookup needs, borrowed separately:
/// the selected database, the reply buffer, the statistics, the command's
/// time and whether it may touch keys.
pub(crate) fn split<'c>(
    ctx: &'c mut Ctx<'_>,
) -> (&'c mut Db, &'c mut Reply, &'c mut Stats, Now, bool) {
    let touch = ctx.touches_keys();
    let now = ctx.srv.now;
    let srv = &mut *ctx.srv;
    (
        &mut srv.keyspace.dbs[ctx.client.db],
        &mut *ctx.out,
        &mut srv.stats,
        now,
        touch,
    )
}

/// The access clock of a value stored under a key: a replaced key keeps its
/// own (Valkey's `dbSetValue` copies the old object's LRU/LFU field, just
/// refreshed by the write lookup), a new key starts at `now.clock`.
pub(crate) fn write_clock(old: Option<u32>, now: Now) -> u32 {
    old.unwrap_or(now.clock)
}

/// What a lookup for writing found (Valkey's `lookupKeyWrite` + `checkType`):
/// lazy expiry applies, keyspace hits/misses are not counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Missing,
    WrongType,
    /// A string of this many bytes.
    Str(usize),
}

pub(crate) fn probe_string(db: &mut Db, key: &[u8], now: Now, touch: bool) -> Slot {
    match db.get_with(key, now, touch) {
        None => Slot::Missing,
        Some(rec) => string_len(&rec).map_or(Slot::WrongType, Slot::Str),
    }
}

/// The length of a string record without formatting integers. None if the
/// record is not a string.
fn string_len(rec: &Record) -> Option<usize> {
    match rec.value() {
        ValueRef::Int(i) => Some(crate::util::num::digits_i64(i)),
        ValueRef::Str(s) => Some(s.len()),
        ValueRef::Heap(v) => v.as_str().map(<[u8]>::len),
    }
}

/// Looks `key` up for reading (Valkey's `lookupKeyRead`: counts a keyspace
/// hit or miss, announces a miss) and calls `f` with its string bytes and
/// the reply buffer. Returns Ok(None) if the key is absent, Err(()) after
/// replying WRONGTYPE.
pub(crate) fn read_string<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&[u8], &mut Reply) -> R,
) -> Result<Option<R>, ()> {
    let found = {
        let (db, out, stats, now, touch) = split(ctx);
        match db.get_with(key, now, touch) {
            None => {
                stats.keyspace_misses += 1;
                None
            }
            Some(rec) => {
                stats.keyspace_hits += 1;
                let mut buf = [0u8; 24];
                Some(match rec.string_value(&mut buf) {
                    Some(s) => Ok(f(s, out)),
                    None => {
                        out.error(err::WRONGTYPE);
                        Err(())
                    }
                })
            }
        }
    };
    match found {
        Some(r) => r.map(Some),
        None => {
            notify_miss(ctx, key);
            Ok(None)
        }
    }
}

/// Runs `f` on the bytes of the string at `key` as a growable raw string,
/// the way Valkey's `dbUnshareStringValue` prepares a value for in-place
/// changes: an int or inline value is first turned into a raw heap string
/// (so OBJECT ENCODING then says "raw"), keeping the TTL and access clock.
/// None if the key is absent or not a string (callers probe first).
pub(crate) fn with_raw_mut<R>(
    db: &mut Db,
    key: &[u8],
    now: Now,
    touch: bool,
    f: impl FnOnce(&mut StrBuf) -> R,
) -> Option<R> {
    let mut rec = db.get_with(key, now, touch)?;
    if rec.obj_type() != ObjType::String {
        return None;
    }
    if let Some(Value::Str(v)) = rec.heap_mut() {
        return Some(f(v));
    }
    let mut buf = [0u8; 24];
    let mut v = StrBuf::from_slice(rec.string_value(&mut buf)?);
    let (expire, clock) = (rec.expire(), rec.clock());
    drop(rec);
    let r = f(&mut v);
    db.insert(Record::new_raw(key, v, expire, clock));
    Some(r)
}

/// Valkey's `checkStringLength`: a string may not grow past
/// proto-max-bulk-len. Replies the error and returns false if it would.
pub(crate) fn check_string_length(ctx: &mut Ctx<'_>, size: u64, append: u64) -> bool {
    match size.checked_add(append) {
        Some(total) if total <= ctx.srv.config.proto_max_bulk_len => true,
        _ => {
            ctx.out.error(ERR_MAX_SIZE);
            false
        }
    }
}

// ---------------------------------------------------------------------------
// GET / SET family
// ---------------------------------------------------------------------------

fn get(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if let Ok(None) = read_string(ctx, key, |s, out| out.bulk(s)) {
        ctx.out.null();
    }
}

/// The expire options shared by SET and GETEX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// Options of SET (`[NX|XX] [GET] [EX|PX|EXAT|PXAT t|KEEPTTL]`) and GETEX
/// (`[EX|PX|EXAT|PXAT t|PERSIST]`), as Valkey's
/// `parseExtendedStringArgumentsOrReply` accepts them.
#[derive(Default)]
struct ExtOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// The expire option and its (not yet parsed) value.
    expire: Option<(ExpireUnit, &'a [u8])>,
}

/// Parses the options from argument `start` on. Conflicting options (NX with
/// XX, two different expire kinds, KEEPTTL or PERSIST with an expire) are a
/// syntax error, but repeating the same option is not: the last value wins.
/// The expire value itself is validated later, as Valkey does.
fn parse_ext_opts<'a>(ctx: &mut Ctx<'a>, start: usize, for_set: bool) -> Option<ExtOpts<'a>> {
    let mut o = ExtOpts::default();
    let argc = ctx.argc();
    let mut i = start;
    while i < argc {
        let a = ctx.arg(i);
        let has_next = i + 1 < argc;
        let unit = [
            ("EX", ExpireUnit::Ex),
            ("PX", ExpireUnit::Px),
            ("EXAT", ExpireUnit::ExAt),
            ("PXAT", ExpireUnit::PxAt),
        ]
        .into_iter()
        .find(|(kw, _)| is_kw(a, kw))
        .map(|(_, u)| u);
        if for_set && is_kw(a, "NX") && !o.xx {
            o.nx = true;
        } else if for_set && is_kw(a, "XX") && !o.nx {
            o.xx = true;
        } else if for_set && is_kw(a, "GET") {
            o.get = true;
        } else if for_set && is_kw(a, "KEEPTTL") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !for_set && is_kw(a, "PERSIST") && o.expire.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some(u) = unit.filter(|&u| {
            has_next && !o.keepttl && !o.persist && o.expire.is_none_or(|(prev, _)| prev == u)
        }) {
            o.expire = Some((u, ctx.arg(i + 1)));
            i += 1;
        } else {
            ctx.out.error(err::SYNTAX);
            return None;
        }
        i += 1;
    }
    Some(o)
}

/// Valkey's `getExpireMillisecondsOrReply`: the absolute expire time in ms
/// for an expire option, or an error reply naming the command.
fn expire_ms_or_reply(ctx: &mut Ctx<'_>, unit: ExpireUnit, arg: &[u8]) -> Option<i64> {
    let Some(v) = parse_i64(arg) else {
        ctx.out.error(err::NOT_INTEGER);
        return None;
    };
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    let relative = matches!(unit, ExpireUnit::Ex | ExpireUnit::Px);
    let ms = if v <= 0 || (seconds && v > i64::MAX / 1000) {
        None
    } else {
        let ms = if seconds { v * 1000 } else { v };
        // Overflowing the addition is what Valkey detects as a result <= 0.
        if relative {
            ms.checked_add(ctx.now().ms)
        } else {
            Some(ms)
        }
    };
    match ms {
        Some(ms) if ms > 0 => Some(ms),
        _ => {
            let msg = format!("ERR invalid expire time in '{}' command", ctx.cmd.name);
            ctx.out.error(msg.as_bytes());
            None
        }
    }
}

/// How SET-like commands reply when they store the value / when NX or XX
/// stops them: SET's `+OK` / null, SETNX's `:1` / `:0`.
#[derive(Clone, Copy)]
enum SetReplies {
    OkNull,
    OneZero,
}

/// Valkey's `setGenericCommand`: SET, SETNX, SETEX, PSETEX.
fn set_generic(ctx: &mut Ctx<'_>, key: &[u8], val: &[u8], o: &ExtOpts<'_>, replies: SetReplies) {
    let expire_at = match o.expire {
        Some((unit, arg)) => match expire_ms_or_reply(ctx, unit, arg) {
            Some(ms) => Some(ms),
            None => return,
        },
        None => None,
    };
    // GET replies with the old value (counting a keyspace hit or miss)
    // before anything else happens, and a wrong type stops the command.
    if o.get {
        match read_string(ctx, key, |s, out| out.bulk(s)) {
            Ok(Some(())) => {}
            Ok(None) => ctx.out.null(),
            Err(()) => return,
        }
    }
    let now = ctx.now();
    // The old TTL and access clock if the key exists (a write lookup: not
    // counted).
    let old = ctx.lookup_write(key).map(|rec| (rec.expire(), rec.clock()));
    let found = old.is_some();
    if (o.nx && found) || (o.xx && !found) {
        if !o.get {
            match replies {
                SetReplies::OkNull => ctx.out.null(),
                SetReplies::OneZero => ctx.out.integer(0),
            }
        }
        return;
    }
    // A time already in the past (EXAT/PXAT) deletes the key instead
    // (not while the AOF is replayed: Valkey's `checkAlreadyExpired`).
    if expire_at.is_some_and(|at| now.already_expired(at)) {
        if found {
            ctx.db().remove(key);
            ctx.modified(key);
            notify(ctx, GENERIC, "del", key);
            // Propagated as the deletion it is.
            propagate_expired_delete(ctx, key);
        }
        if !o.get {
            ctx.out.ok();
        }
        return;
    }
    let expire = if o.keepttl {
        old.and_then(|(exp, _)| exp)
    } else {
        expire_at
    };
    let clock = write_clock(old.map(|(_, c)| c), now);
    ctx.db().insert(Record::new_string(key, val, expire, clock));
    if !found {
        notify_new(ctx, key);
    }
    ctx.modified(key);
    notify(ctx, STRING, "set", key);
    if expire_at.is_some() {
        notify(ctx, GENERIC, "expire", key);
    }
    match (expire_at, o.expire) {
        // A relative or second-based expire reaches the AOF as the
        // absolute millisecond time it became (Valkey's SET ... PXAT).
        (Some(at), Some((unit, _))) if unit != ExpireUnit::PxAt => {
            ctx.propagate_as(&[b"SET", key, val, b"PXAT", at.to_string().as_bytes()]);
        }
        // GET changes nothing: propagated without it.
        (None, _) if o.get => {
            let argv: Vec<&[u8]> = (0..ctx.argc())
                .filter(|&j| j < 3 || !ctx.arg(j).eq_ignore_ascii_case(b"GET"))
                .map(|j| ctx.arg(j))
                .collect();
            ctx.propagate_as(&argv);
        }
        _ => {}
    }
    if !o.get {
        match replies {
            SetReplies::OkNull => ctx.out.ok(),
            SetReplies::OneZero => ctx.out.integer(1),
        }
    }
}

fn set(ctx: &mut Ctx<'_>) {
    let Some(o) = parse_ext_opts(ctx, 3, true) else {
        return;
    };
    let (key, val) = (ctx.arg(1), ctx.arg(2));
    set_generic(ctx, key, val, &o, SetReplies::OkNull);
}

fn setnx(ctx: &mut Ctx<'_>) {
    let (key, val) = (ctx.arg(1), ctx.arg(2));
    let o = ExtOpts {
        nx: true,
        ..ExtOpts::default()
    };
    set_generic(ctx, key, val, &o, SetReplies::OneZero);
}

fn setex_generic(ctx: &mut Ctx<'_>, unit: ExpireUnit) {
    let (key, ttl, val) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let o = ExtOpts {
        expire: Some((unit, ttl)),
        ..ExtOpts::default()
    };
    set_generic(ctx, key, val, &o, SetReplies::OkNull);
}

fn setex(ctx: &mut Ctx<'_>) {
    setex_generic(ctx, ExpireUnit::Ex)
}

fn psetex(ctx: &mut Ctx<'_>) {
    setex_generic(ctx, ExpireUnit::Px)
}

/// GETSET: GET, then a plain SET (which drops the TTL).
fn getset(ctx: &mut Ctx<'_>) {
    let (key, val) = (ctx.arg(1), ctx.arg(2));
    match read_string(ctx, key, |s, out| out.bulk(s)) {
        Ok(Some(())) => {}
        Ok(None) => ctx.out.null(),
        Err(()) => return,
    }
    let old_clock = ctx.lookup_write(key).map(|r| r.clock());
    let clock = write_clock(old_clock, ctx.now());
    ctx.db().insert(Record::new_string(key, val, None, clock));
    if old_clock.is_none() {
        notify_new(ctx, key);
    }
    ctx.modified(key);
    notify(ctx, STRING, "set", key);
    ctx.propagate_as(&[b"SET", key, val]);
}

/// Propagates the deletion of a key whose new expire time was already
/// past: DEL, or UNLINK with `lazyfree-lazy-expire` (Valkey's
/// `deleteExpiredKeyFromOverwriteAndPropagate`).
fn propagate_expired_delete(ctx: &mut Ctx<'_>, key: &[u8]) {
    let del: &[u8] = if ctx.srv.config.lazyfree_lazy_expire {
        b"UNLINK"
    } else {
        b"DEL"
    };
    ctx.propagate_as(&[del, key]);
}

fn getdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    match read_string(ctx, key, |s, out| out.bulk(s)) {
        Ok(Some(())) => {
            ctx.db().remove(key);
            ctx.modified(key);
            notify(ctx, GENERIC, "del", key);
            ctx.propagate_as(&[b"DEL", key]);
        }
        Ok(None) => ctx.out.null(),
        Err(()) => {}
    }
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
fn getex(ctx: &mut Ctx<'_>) {
    let Some(o) = parse_ext_opts(ctx, 2, false) else {
        return;
    };
    let key = ctx.arg(1);
    // The key is looked up (and a missing key answered) before the expire
    // value is validated: `GETEX missing EX abc` is a plain null.
    match read_string(ctx, key, |_, _| ()) {
        Ok(Some(())) => {}
        Ok(None) => return ctx.out.null(),
        Err(()) => return,
    }
    let expire_at = match o.expire {
        Some((unit, arg)) => match expire_ms_or_reply(ctx, unit, arg) {
            Some(ms) => Some(ms),
            None => return,
        },
        None => None,
    };
    let now = ctx.now();
    {
        let (db, out, _, now, touch) = split(ctx);
        if let Some(rec) = db.get_with(key, now, touch) {
            let mut buf = [0u8; 24];
            out.bulk(rec.string_value(&mut buf).unwrap_or_default());
        }
    }
    let absolute = matches!(o.expire, Some((ExpireUnit::ExAt | ExpireUnit::PxAt, _)));
    // GETEX never propagates as itself: as the deletion, PEXPIREAT or
    // PERSIST it amounts to.
    match expire_at {
        Some(at) if absolute && now.already_expired(at) => {
            ctx.db().remove(key);
            ctx.modified(key);
            notify(ctx, GENERIC, "del", key);
            propagate_expired_delete(ctx, key);
        }
        Some(at) => {
            ctx.db().set_expire(key, Some(at));
            ctx.modified(key);
            notify(ctx, GENERIC, "expire", key);
            ctx.propagate_as(&[b"PEXPIREAT", key, at.to_string().as_bytes()]);
        }
        None if o.persist => {
            let had = ctx.lookup_write(key).is_some_and(|r| r.has_expire());
            if had {
                ctx.db().set_expire(key, None);
                ctx.modified(key);
                notify(ctx, GENERIC, "persist", key);
                ctx.propagate_as(&[b"PERSIST", key]);
            }
        }
        None => {}
    }
}

fn mget(ctx: &mut Ctx<'_>) {
    let n = ctx.argc() - 1;
    ctx.prefetch_keys(1, 1);
    ctx.out.array(n);
    for i in 1..=n {
        let key = ctx.arg(i);
        // Absent keys and values of other types are both nil here; the
        // WRONGTYPE error that read_string writes must not be used.
        let (db, out, stats, now, touch) = split(ctx);
        let hit = match db.get_with(key, now, touch) {
            Some(rec) => {
                stats.keyspace_hits += 1;
                let mut buf = [0u8; 24];
                match rec.string_value(&mut buf) {
                    Some(s) => out.bulk(s),
                    None => out.null(),
                }
                true
            }
            None => {
                stats.keyspace_misses += 1;
                out.null();
                false
            }
        };
        if !hit {
            notify_miss(ctx, key);
        }
    }
}

/// One key of MSET / MSETNX: stored like a plain SET (the TTL goes, the
/// access clock stays) and announced as `new` if it did not exist, then
/// `set`.
fn set_plain(ctx: &mut Ctx<'_>, key: &[u8], val: &[u8], now: Now) {
    let old_clock = ctx.lookup_write(key).map(|r| r.clock());
    ctx.db().insert(Record::new_string(
        key,
        val,
        None,
        write_clock(old_clock, now),
    ));
    if old_clock.is_none() {
        notify_new(ctx, key);
    }
    ctx.modified(key);
    notify(ctx, STRING, "set", key);
}

fn mset(ctx: &mut Ctx<'_>) {
    if ctx.argc().is_multiple_of(2) {
        return ctx.wrong_arity();
    }
    let now = ctx.now();
    ctx.prefetch_keys(1, 2);
    for i in (1..ctx.argc()).step_by(2) {
        let (key, val) = (ctx.arg(i), ctx.arg(i + 1));
        set_plain(ctx, key, val, now);
    }
    ctx.out.ok();
}

fn msetnx(ctx: &mut Ctx<'_>) {
    if ctx.argc().is_multiple_of(2) {
        return ctx.wrong_arity();
    }
    let now = ctx.now();
    ctx.prefetch_keys(1, 2);
    for i in (1..ctx.argc()).step_by(2) {
        let key = ctx.arg(i);
        if ctx.lookup_write(key).is_some() {
            ctx.out.integer(0);
            return;
        }
    }
    for i in (1..ctx.argc()).step_by(2) {
        let (key, val) = (ctx.arg(i), ctx.arg(i + 1));
        // A key may be named twice: the second write replaces the first
        // (and so is no `new` key).
        set_plain(ctx, key, val, now);
    }
    ctx.out.integer(1);
}

fn strlen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if let Ok(n) = read_string(ctx, key, |s, _| s.len()) {
        ctx.out.integer(n.unwrap_or(0) as i64);
    }
}

fn append(ctx: &mut Ctx<'_>) {
    let (key, add) = (ctx.arg(1), ctx.arg(2));
    let (now, touch) = (ctx.now(), ctx.touches_keys());
    let len = match probe_string(ctx.db(), key, now, touch) {
        Slot::WrongType => return ctx.out.error(err::WRONGTYPE),
        // A new key is stored like SET stores it (int, embstr or raw).
        Slot::Missing => {
            ctx.db()
                .insert(Record::new_string(key, add, None, now.clock));
            notify_new(ctx, key);
            add.len()
        }
        Slot::Str(old) => {
            if !check_string_length(ctx, old as u64, add.len() as u64) {
                return;
            }
            with_raw_mut(ctx.db(), key, now, touch, |v| {
                v.extend_from_slice(add);
                v.len()
            })
            .unwrap_or_default()
        }
    };
    ctx.modified(key);
    notify(ctx, STRING, "append", key);
    ctx.out.integer(len as i64);
}

// ---------------------------------------------------------------------------
// Ranges
// ---------------------------------------------------------------------------

/// The byte range GETRANGE returns for `start..=end` (negative indexes count
/// from the end) of a `len`-byte string, or None for the empty string.
fn getrange_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// GETRANGE and SUBSTR.
fn getrange(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.arg_i64(2) else { return };
    let Some(end) = ctx.arg_i64(3) else { return };
    let key = ctx.arg(1);
    let r = read_string(ctx, key, |s, out| {
        match getrange_span(start, end, s.len()) {
            Some((a, b)) => out.bulk(&s[a..=b]),
            None => out.bulk(b""),
        }
    });
    if let Ok(None) = r {
        ctx.out.bulk(b"");
    }
}

fn setrange(ctx: &mut Ctx<'_>) {
    let Some(offset) = ctx.arg_i64(2) else { return };
    if offset < 0 {
        return ctx.out.error(b"ERR offset is out of range");
    }
    let (key, value) = (ctx.arg(1), ctx.arg(3));
    let (now, touch) = (ctx.now(), ctx.touches_keys());
    let offset = offset as u64;
    match probe_string(ctx.db(), key, now, touch) {
        Slot::WrongType => ctx.out.error(err::WRONGTYPE),
        Slot::Missing => {
            // Setting nothing on a missing key creates nothing.
            if value.is_empty() {
                return ctx.out.integer(0);
            }
            if !check_string_length(ctx, offset, value.len() as u64) {
                return;
            }
            let mut v = StrBuf::with_capacity(offset as usize + value.len());
            v.resize(offset as usize, 0);
            v.extend_from_slice(value);
            let len = v.len();
            ctx.db().insert(Record::new_raw(key, v, None, now.clock));
            notify_new(ctx, key);
            ctx.modified(key);
            notify(ctx, STRING, "setrange", key);
            ctx.out.integer(len as i64);
        }
        Slot::Str(old) => {
            // Setting nothing leaves the value (and its encoding) alone.
            if value.is_empty() {
                return ctx.out.integer(old as i64);
            }
            if !check_string_length(ctx, offset, value.len() as u64) {
                return;
            }
            let off = offset as usize;
            let len = with_raw_mut(ctx.db(), key, now, touch, |v| {
                let need = off + value.len();
                if v.len() < need {
                    v.resize(need, 0);
                }
                v[off..need].copy_from_slice(value);
                v.len()
            })
            .unwrap_or_default();
            ctx.modified(key);
            notify(ctx, STRING, "setrange", key);
            ctx.out.integer(len as i64);
        }
    }
}

// ---------------------------------------------------------------------------
// LCS
// ---------------------------------------------------------------------------

/// One run of matching bytes found by LCS IDX: inclusive ranges in the first
/// and the second string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LcsMatch {
    a: (u32, u32),
    b: (u32, u32),
}

/// Result of [`lcs_compute`].
#[derive(Debug, PartialEq, Eq)]
struct LcsResult {
    len: u32,
    /// The common subsequence (when asked for).
    seq: Vec<u8>,
    /// The matched ranges, last ones first, as Valkey lists them.
    matches: Vec<LcsMatch>,
}

/// The LCS dynamic programming table: `(alen+1) * (blen+1)` lengths, where
/// cell (i, j) is the LCS length of `a[..i]` and `b[..j]`.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    /// Builds the table, or None if its memory cannot be allocated.
    fn build(a: &[u8], b: &[u8]) -> Option<LcsTable> {
        let width = b.len() + 1;
        let size = (a.len() + 1).checked_mul(width)?;
        let mut cells = Vec::new();
        cells.try_reserve_exact(size).ok()?;
        cells.resize(size, 0u32);
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        Some(LcsTable { cells, width })
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }
}

/// Walks the table back from the end the way Valkey does (on a tie it
/// moves in the second string), which decides which of several equally long
/// subsequences and ranges are reported. Runs shorter than `min_match_len`
/// are left out of `matches`.
fn lcs_compute(a: &[u8], b: &[u8], t: &LcsTable, want_seq: bool, min_match_len: u64) -> LcsResult {
    let total = t.at(a.len(), b.len());
    let mut res = LcsResult {
        len: total,
        seq: Vec::new(),
        matches: Vec::new(),
    };
    if !want_seq {
        return res;
    }
    res.seq = vec![0u8; total as usize];
    let mut idx = total as usize;
    // The run being tracked, as (a_start, a_end, b_start, b_end).
    let mut run: Option<(usize, usize, usize, usize)> = None;
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            res.seq[idx - 1] = a[i - 1];
            match &mut run {
                None => run = Some((i - 1, i - 1, j - 1, j - 1)),
                // Contiguous with the run: extend it backwards.
                Some((a_start, _, b_start, _)) if *a_start == i && *b_start == j => {
                    *a_start -= 1;
                    *b_start -= 1;
                }
                Some(_) => emit = true,
            }
            // A run touching the start of either string is complete.
            if let Some((a_start, _, b_start, _)) = run {
                if a_start == 0 || b_start == 0 {
                    emit = true;
                }
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t.at(i - 1, j) > t.at(i, j - 1) {
                i -= 1;
            } else {
                j -= 1;
            }
            if run.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some((a_start, a_end, b_start, b_end)) = run.take() {
                let match_len = (a_end - a_start + 1) as u64;
                if min_match_len == 0 || match_len >= min_match_len {
                    res.matches.push(LcsMatch {
                        a: (a_start as u32, a_end as u32),
                        b: (b_start as u32, b_end as u32),
                    });
                }
            }
        }
    }
    res
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx<'_>) {
    // Both keys are looked up (and counted) before anything is checked.
    let mut values: [Option<Vec<u8>>; 2] = [None, None];
    let mut wrong_type = false;
    for (n, value) in values.iter_mut().enumerate() {
        let key = ctx.arg(1 + n);
        let (db, _, stats, now, touch) = split(ctx);
        let hit = match db.get_with(key, now, touch) {
            None => {
                stats.keyspace_misses += 1;
                false
            }
            Some(rec) => {
                stats.keyspace_hits += 1;
                let mut buf = [0u8; 24];
                match rec.string_value(&mut buf) {
                    Some(s) => *value = Some(s.to_vec()),
                    None => wrong_type = true,
                }
                true
            }
        };
        if !hit {
            notify_miss(ctx, key);
        }
    }
    if wrong_type {
        return ctx
            .out
            .error(b"ERR The specified keys must contain string values");
    }
    let [a, b] = values.map(Option::unwrap_or_default);
    let (mut get_len, mut get_idx, mut with_match_len) = (false, false, false);
    let mut min_match_len: i64 = 0;
    let mut j = 3;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        let more = j + 1 < ctx.argc();
        if is_kw(opt, "IDX") {
            get_idx = true;
        } else if is_kw(opt, "LEN") {
            get_len = true;
        } else if is_kw(opt, "WITHMATCHLEN") {
            with_match_len = true;
        } else if is_kw(opt, "MINMATCHLEN") && more {
            let Some(v) = ctx.arg_i64(j + 1) else { return };
            min_match_len = v.max(0);
            j += 1;
        } else {
            return ctx.out.error(err::SYNTAX);
        }
        j += 1;
    }
    if get_len && get_idx {
        return ctx
            .out
            .error(b"ERR If you want both the length and indexes, please just use IDX.");
    }
    if a.len() as u64 >= u64::from(u32::MAX) - 1 || b.len() as u64 >= u64::from(u32::MAX) - 1 {
        return ctx.out.error(b"ERR String too long for LCS");
    }
    // The table is transient memory the client makes the server allocate:
    // Valkey caps it at proto-max-bulk-len.
    let cells = (a.len() as u128 + 1) * (b.len() as u128 + 1);
    if cells * 4 > u128::from(ctx.srv.config.proto_max_bulk_len) {
        return ctx.out.error(
            b"ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        );
    }
    let Some(table) = LcsTable::build(&a, &b) else {
        return ctx
            .out
            .error(b"ERR Insufficient memory, failed allocating transient memory for LCS");
    };
    let res = lcs_compute(&a, &b, &table, get_idx || !get_len, min_match_len as u64);
    let out = &mut *ctx.out;
    if get_idx {
        out.map(2);
        out.bulk(b"matches");
        out.array(res.matches.len());
        for m in &res.matches {
            out.array(2 + usize::from(with_match_len));
            out.array(2);
            out.integer(i64::from(m.a.0));
            out.integer(i64::from(m.a.1));
            out.array(2);
            out.integer(i64::from(m.b.0));
            out.integer(i64::from(m.b.1));
            if with_match_len {
                out.integer(i64::from(m.a.1 - m.a.0 + 1));
            }
        }
        out.bulk(b"len");
        out.integer(i64::from(res.len));
    } else if get_len {
        out.integer(i64::from(res.len));
    } else {
        out.bulk(&res.seq);
    }
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

/// The integer value of a string record for INCR and friends.
fn integer_value(rec: &Record) -> Result<i64, &'static [u8]> {
    let v = match rec.value() {
        ValueRef::Int(i) => Some(i),
        ValueRef::Str(s) => parse_i64(s),
        ValueRef::Heap(v) => match v.as_str() {
            Some(s) => parse_i64(s),
            None => return Err(err::WRONGTYPE),
        },
    };
    v.ok_or(err::NOT_INTEGER)
}

fn incr_by(ctx: &mut Ctx<'_>, delta: i64) {
    let key = ctx.arg(1);
    let now = ctx.now();
    // An integer-encoded value is updated where it is (one lookup).
    let mut updated = false;
    let current = ctx.lookup_write(key).map(|mut rec| {
        let v = integer_value(&rec);
        if let Some(new) = v.ok().and_then(|old| old.checked_add(delta)) {
            updated = rec.set_int(new);
        }
        (v, rec.expire(), rec.clock())
    });
    let created = current.is_none();
    let (old, exp, clock) = match current {
        None => (0, None, now.clock),
        Some((Ok(v), exp, clock)) => (v, exp, clock),
        Some((Err(e), ..)) => return ctx.out.error(e),
    };
    let Some(new) = old.checked_add(delta) else {
        return ctx.out.error(err::OVERFLOW);
    };
    if !updated {
        // The result is always int-encoded, even if the old value was a
        // raw string (`SET k 1; APPEND k 2; INCR k`), and keeps the TTL.
        ctx.db()
            .insert(Record::build(key, Payload::Int(new), exp, clock));
    }
    if created {
        notify_new(ctx, key);
    }
    ctx.modified(key);
    notify(ctx, STRING, "incrby", key);
    ctx.out.integer(new);
}

fn incr(ctx: &mut Ctx<'_>) {
    incr_by(ctx, 1)
}

fn decr(ctx: &mut Ctx<'_>) {
    incr_by(ctx, -1)
}

fn incrby(ctx: &mut Ctx<'_>) {
    if let Some(d) = ctx.arg_i64(2) {
        incr_by(ctx, d)
    }
}

fn decrby(ctx: &mut Ctx<'_>) {
    let Some(d) = ctx.arg_i64(2) else { return };
    match d.checked_neg() {
        Some(d) => incr_by(ctx, d),
        None => ctx.out.error(b"ERR decrement would overflow"),
    }
}

/// The value of a string record for INCRBYFLOAT (Valkey's
/// `getLongDoubleFromObject`), in x87 extended precision like Valkey.
/// Ok(None) for a non-string, Err(()) if it is not a number.
fn long_double_value(rec: &Record) -> Result<Option<LongDouble>, ()> {
    match rec.value() {
        ValueRef::Int(i) => Ok(Some(LongDouble::from_i64(i))),
        ValueRef::Str(s) => LongDouble::parse(s).map(Some).ok_or(()),
        ValueRef::Heap(v) => match v.as_str() {
            Some(s) => LongDouble::parse(s).map(Some).ok_or(()),
            None => Ok(None),
        },
    }
}

fn incrbyfloat(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let now = ctx.now();
    let current = ctx
        .lookup_write(key)
        .map(|rec| (long_double_value(&rec), rec.expire(), rec.clock()));
    // The stored value is checked before the increment argument.
    let created = current.is_none();
    let (value, exp, clock) = match current {
        None => (LongDouble::ZERO, None, now.clock),
        Some((Ok(Some(v)), exp, clock)) => (v, exp, clock),
        Some((Ok(None), ..)) => return ctx.out.error(err::WRONGTYPE),
        Some((Err(()), ..)) => return ctx.out.error(err::NOT_FLOAT),
    };
    let Some(incr) = LongDouble::parse(ctx.arg(2)) else {
        return ctx.out.error(err::NOT_FLOAT);
    };
    let sum = value.add(incr);
    if !sum.is_finite() {
        return ctx
            .out
            .error(b"ERR increment would produce NaN or Infinity");
    }
    let mut text = Vec::with_capacity(32);
    sum.format_human(&mut text);
    // Stored as a string (embstr/raw), not int-encoded, keeping the TTL.
    ctx.db()
        .insert(Record::build(key, Payload::Str(&text), exp, clock));
    if created {
        notify_new(ctx, key);
    }
    ctx.modified(key);
    notify(ctx, STRING, "incrbyfloat", key);
    ctx.out.bulk(&text);
    // The result, not the increment: float arithmetic replayed elsewhere
    // may round differently (Valkey's SET ... KEEPTTL).
    ctx.propagate_as(&[b"SET", key, &text, b"KEEPTTL"]);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::Config;
    use crate::resp::{OwnedArgs, Protocol};
    use crate::server::{ClientState, Server};

    /// A server and a client to run commands against in-process.
    pub(crate) struct Harness {
        pub srv: Server,
        pub client: ClientState,
        pub proto: Protocol,
    }

    impl Harness {
        pub fn new() -> Harness {
            Harness {
                srv: Server::new(Config::default()),
                client: ClientState::new(1, "127.0.0.1:1".into(), "127.0.0.1:2".into(), -1, true),
                proto: Protocol::Resp2,
            }
        }

        /// Runs one command and returns its exact reply bytes.
        pub fn run(&mut self, args: &[&[u8]]) -> Vec<u8> {
            self.srv.now = Now::from_system();
            let owned = OwnedArgs::from_slices(args);
            let mut out = Reply::new(self.proto);
            crate::server::exec::execute(
                &mut self.srv,
                &mut self.client,
                &mut out,
                owned.as_args(),
            );
            out.buf().to_vec()
        }

        /// Runs a command given as space-separated words.
        pub fn cmd(&mut self, line: &str) -> String {
            let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            String::from_utf8_lossy(&self.run(&words)).into_owned()
        }

        /// Runs a command and returns what it propagated (to the AOF), one
        /// argv per command, SELECTs left out.
        pub fn propagated_argv(&mut self, line: &str) -> Vec<Vec<String>> {
            crate::persistence::aof::capture(&mut self.srv);
            self.cmd(line);
            crate::persistence::aof::take_captured()
                .into_iter()
                .filter(|c| c[0] != "SELECT")
                .collect()
        }

        /// [`Harness::propagated_argv`], each command as one line.
        pub fn propagated(&mut self, line: &str) -> Vec<String> {
            self.propagated_argv(line)
                .into_iter()
                .map(|c| c.join(" "))
                .collect()
        }

        pub fn hits_misses(&self) -> (u64, u64) {
            (self.srv.stats.keyspace_hits, self.srv.stats.keyspace_misses)
        }

        pub fn encoding(&mut self, key: &str) -> &'static str {
            let now = self.srv.now;
            self.srv.keyspace.dbs[0]
                .get(key.as_bytes(), now)
                .map_or("none", |r| r.encoding_name())
        }

        pub fn expire(&mut self, key: &str) -> Option<i64> {
            let now = self.srv.now;
            self.srv.keyspace.dbs[0]
                .get(key.as_bytes(), now)
                .and_then(|r| r.expire())
        }
    }

    #[test]
    fn set_option_conflicts_and_repeats() {
        let mut h = Harness::new();
        assert_eq!(h.cmd("SET k v NX XX"), "-ERR syntax error\r\n");
        assert_eq!(h.cmd("SET k v EX 10 PX 10"), "-ERR syntax error\r\n");
        assert_eq!(h.cmd("SET k v KEEPTTL EX 10"), "-ERR syntax error\r\n");
        assert_eq!(h.cmd("SET k v EX 10 KEEPTTL"), "-ERR syntax error\r\n");
        assert_eq!(h.cmd("SET k v PERSIST"), "-ERR syntax error\r\n");
        assert_eq!(h.cmd("SET k v EX"), "-ERR syntax error\r\n");
        // Syntax is checked before the expire value.
        assert_eq!(h.cmd("SET k v EX abc foo"), "-ERR syntax error\r\n");
        // The same option twice is fine; the last value wins.
        assert_eq!(h.cmd("SET k v EX 10 EX 100"), "+OK\r\n");
        let ttl = h.expire("k").unwrap() - h.srv.now.ms;
        assert!((99_000..=100_000).contains(&ttl), "{ttl}");
        assert_eq!(h.cmd("SET k v nx nx get get"), "$1\r\nv\r\n");
        assert_eq!(h.cmd("SET k v KEEPTTL KEEPTTL XX"), "+OK\r\n");
        assert!(h.expire("k").is_some());
        assert_eq!(h.cmd("SET k v"), "+OK\r\n");
        assert_eq!(h.expire("k"), None);
        // C-string keyword matching.
        assert_eq!(
            h.run(&[b"SET", b"k", b"w", b"GET\0zz"]),
            b"$1\r\nv\r\n".to_vec()
        );
    }

    #[test]
    fn set_expire_values() {
        let mut h = Harness::new();
        assert_eq!(
            h.cmd("SET k v EX abc"),
            "-ERR value is not an integer or out of range\r\n"
        );
        for bad in [
            "EX 0",
            "PX -1",
            "EX 9223372036854775807",
            "EXAT 9223372036854776",
            "PX 9223372036854775807",
        ] {
            assert_eq!(
                h.cmd(&format!("SET k v {bad}")),
                "-ERR invalid expire time in 'set' command\r\n",
                "{bad}"
            );
        }
        assert_eq!(
            h.cmd("SETEX k 0 v"),
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        assert_eq!(
            h.cmd("PSETEX k -5 v"),
            "-ERR invalid expire time in 'psetex' command\r\n"
        );
        assert_eq!(
            h.cmd("GETEX k EX 0"),
            "$-1\r\n",
            "missing key answers before the value is checked"
        );
        h.cmd("SET k v");
        assert_eq!(
            h.cmd("GETEX k EX 0"),
            "-ERR invalid expire time in 'getex' command\r\n"
        );
        // A time in the past deletes the key and still replies OK.
        assert_eq!(h.cmd("SET k v2 PXAT 1"), "+OK\r\n");
        assert_eq!(h.cmd("EXISTS k"), ":0\r\n");
        assert_eq!(h.cmd("SET k v2 EXAT 1 GET"), "$-1\r\n");
        h.cmd("SET k v3");
        assert_eq!(h.cmd("SET k v2 EXAT 1 GET"), "$2\r\nv3\r\n");
        assert_eq!(h.cmd("EXISTS k"), ":0\r\n");
    }

    #[test]
    fn keyspace_hits_and_misses_like_valkey() {
        let mut h = Harness::new();
        h.cmd("SET a 1");
        assert_eq!(h.hits_misses(), (0, 0), "SET does not count");
        h.cmd("GET a");
        h.cmd("GET b");
        assert_eq!(h.hits_misses(), (1, 1));
        h.cmd("MGET a b a");
        assert_eq!(h.hits_misses(), (3, 2));
        h.cmd("INCR a");
        h.cmd("APPEND a x");
        h.cmd("SETRANGE a 0 x");
        h.cmd("INCRBYFLOAT c 1");
        assert_eq!(h.hits_misses(), (3, 2), "write lookups do not count");
        h.cmd("SET a v GET");
        h.cmd("GETSET zz v");
        h.cmd("GETEX a");
        h.cmd("GETRANGE a 0 1");
        h.cmd("STRLEN nope");
        h.cmd("LCS a nope");
        assert_eq!(h.hits_misses(), (7, 5));
    }

    #[test]
    fn dirty_counter() {
        let mut h = Harness::new();
        let d0 = h.srv.dirty;
        h.cmd("SET a 1");
        h.cmd("MSET b 1 c 2");
        assert_eq!(h.srv.dirty, d0 + 3);
        h.cmd("SETRANGE a 0 ");
        h.cmd("GETEX a");
        h.cmd("GETEX a PERSIST");
        h.cmd("SET a 1 NX");
        assert_eq!(h.srv.dirty, d0 + 3, "no-ops");
        h.cmd("GETEX a EX 100");
        h.cmd("GETEX a PERSIST");
        assert_eq!(h.srv.dirty, d0 + 5);
    }

    #[test]
    fn encodings_after_writes() {
        let mut h = Harness::new();
        h.cmd("SET k 1234");
        assert_eq!(h.encoding("k"), "int");
        h.cmd("SETRANGE k 0 ");
        assert_eq!(h.encoding("k"), "int", "setting nothing keeps the encoding");
        h.cmd("SETRANGE k 0 2");
        assert_eq!(h.encoding("k"), "raw");
        h.cmd("INCR k");
        assert_eq!(h.encoding("k"), "int");
        h.cmd("APPEND k 5");
        assert_eq!(h.encoding("k"), "raw");
        h.cmd("APPEND new 12");
        assert_eq!(h.encoding("new"), "int");
        h.cmd("APPEND new2 abc");
        assert_eq!(h.encoding("new2"), "embstr");
        h.cmd("INCRBYFLOAT f 3");
        assert_eq!(h.encoding("f"), "embstr");
        h.cmd("SETRANGE r 2 ab");
        assert_eq!(h.encoding("r"), "raw");
    }

    #[test]
    fn ttl_rules() {
        let mut h = Harness::new();
        for (setup, keeps) in [
            ("SETRANGE k 1 zz", true),
            ("APPEND k zz", true),
            ("INCRBYFLOAT k 1", true),
            ("GETEX k", true),
            ("SET k 5 KEEPTTL", true),
            ("SET k 5", false),
            ("GETSET k 5", false),
            ("MSET k 5", false),
            ("GETEX k PERSIST", false),
        ] {
            h.cmd("SET k 10 EX 100");
            let before = h.expire("k");
            assert!(before.is_some());
            h.cmd(setup);
            assert_eq!(h.expire("k").is_some(), keeps, "{setup}");
            if keeps {
                assert_eq!(h.expire("k"), before, "{setup}");
            }
        }
        h.cmd("SET n 10 EX 100");
        h.cmd("INCR n");
        assert!(h.expire("n").is_some());
    }

    #[test]
    fn getrange_spans() {
        let s = |a, b, len| getrange_span(a, b, len);
        assert_eq!(s(0, -1, 11), Some((0, 10)));
        assert_eq!(s(-4, -1, 11), Some((7, 10)));
        assert_eq!(s(5, 3, 11), None);
        assert_eq!(s(5, 5000, 11), Some((5, 10)));
        assert_eq!(s(-5000, 10000, 11), Some((0, 10)));
        assert_eq!(s(-1, -3, 5), None);
        assert_eq!(s(0, 0, 0), None);
        assert_eq!(s(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(s(0, 4294967297, 3), Some((0, 2)));
    }

    #[test]
    fn lcs_matches_valkey_example() {
        let (a, b) = (b"ohmytext".as_slice(), b"mynewtext".as_slice());
        let t = LcsTable::build(a, b).unwrap();
        let r = lcs_compute(a, b, &t, true, 0);
        assert_eq!(r.seq, b"mytext");
        assert_eq!(r.len, 6);
        assert_eq!(
            r.matches,
            vec![
                LcsMatch {
                    a: (4, 7),
                    b: (5, 8)
                },
                LcsMatch {
                    a: (2, 3),
                    b: (0, 1)
                }
            ]
        );
        let r = lcs_compute(a, b, &t, true, 4);
        assert_eq!(
            r.matches,
            vec![LcsMatch {
                a: (4, 7),
                b: (5, 8)
            }]
        );
    }

    #[test]
    fn lcs_replies_resp2_and_resp3() {
        let mut h = Harness::new();
        h.cmd("MSET key1 ohmytext key2 mynewtext");
        assert_eq!(h.cmd("LCS key1 key2"), "$6\r\nmytext\r\n");
        assert_eq!(h.cmd("LCS key1 key2 LEN"), ":6\r\n");
        let idx = "*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n";
        assert_eq!(
            h.cmd("LCS key1 key2 IDX"),
            format!("*4\r\n$7\r\nmatches\r\n{idx}")
        );
        h.proto = Protocol::Resp3;
        assert_eq!(
            h.cmd("LCS key1 key2 IDX"),
            format!("%2\r\n$7\r\nmatches\r\n{idx}")
        );
        assert_eq!(
            h.cmd("LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN"),
            "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            h.cmd("LCS key1 key2 LEN IDX"),
            "-ERR If you want both the length and indexes, please just use IDX.\r\n"
        );
        assert_eq!(h.cmd("LCS key1 key2 FOO"), "-ERR syntax error\r\n");
        assert_eq!(h.cmd("LCS key1 key2 MINMATCHLEN"), "-ERR syntax error\r\n");
        assert_eq!(
            h.cmd("LCS key1 key2 MINMATCHLEN x"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(h.cmd("LCS nokey1 nokey2"), "$0\r\n\r\n");
        assert_eq!(h.cmd("LCS key1 nokey2 LEN"), ":0\r\n");
        h.cmd("CONFIG SET proto-max-bulk-len 1048576");
        let big = "x".repeat(600);
        h.cmd(&format!("MSET b1 {big} b2 {big}"));
        assert_eq!(
            h.cmd("LCS b1 b2 LEN"),
            "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
        );
    }

    #[test]
    fn incrbyfloat_formatting_and_errors() {
        let mut h = Harness::new();
        assert_eq!(h.cmd("INCRBYFLOAT f 10.5"), "$4\r\n10.5\r\n");
        assert_eq!(h.cmd("INCRBYFLOAT f 0.1"), "$4\r\n10.6\r\n");
        assert_eq!(h.cmd("INCRBYFLOAT f -10.6"), "$1\r\n0\r\n");
        assert_eq!(h.cmd("INCRBYFLOAT f 5.0e3"), "$4\r\n5000\r\n");
        // 64-bit mantissa: the sum rounds to a multiple of 16 (ties to even).
        assert_eq!(
            h.cmd("INCRBYFLOAT f 2e20"),
            "$21\r\n200000000000000004992\r\n"
        );
        h.cmd("SET e 39943.541");
        assert_eq!(
            h.cmd("INCRBYFLOAT e -393.77"),
            "$22\r\n39549.7710000000000008\r\n"
        );
        h.cmd("SET g 17179869184");
        assert_eq!(h.cmd("INCRBYFLOAT g 1.5"), "$13\r\n17179869185.5\r\n");
        assert_eq!(
            h.cmd("INCRBYFLOAT g +inf"),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        assert_eq!(
            h.cmd("INCRBYFLOAT g abc"),
            "-ERR value is not a valid float\r\n"
        );
        h.run(&[b"SET", b"s", b"11 "]);
        assert_eq!(
            h.cmd("INCRBYFLOAT s 1"),
            "-ERR value is not a valid float\r\n"
        );
        h.run(&[b"SET", b"z", b"1\x002"]);
        assert_eq!(
            h.cmd("INCRBYFLOAT z 1"),
            "-ERR value is not a valid float\r\n"
        );
    }

    #[test]
    fn setrange_limits() {
        let mut h = Harness::new();
        assert_eq!(
            h.cmd("SETRANGE k 536870908 world"),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(h.cmd("SETRANGE k 536870908 "), ":0\r\n");
        assert_eq!(
            h.cmd("SETRANGE k 9223372036854775807 A"),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(h.cmd("SETRANGE k -1 A"), "-ERR offset is out of range\r\n");
        h.cmd("SET k hello");
        assert_eq!(
            h.cmd("SETRANGE k 536870908 world"),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(h.cmd("APPEND k x"), ":6\r\n");
        h.cmd("CONFIG SET proto-max-bulk-len 1048576");
        h.cmd("SETRANGE k 1048570 abc");
        assert_eq!(
            h.cmd("APPEND k abcd"),
            "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        assert_eq!(h.cmd("APPEND k abc"), ":1048576\r\n");
    }

    #[test]
    fn no_touch_clients_leave_the_access_clock_alone() {
        let mut h = Harness::new();
        // Replacing a value keeps the key's clock too (Valkey's dbSetValue).
        for cmd in [
            "SET k w",
            "MSET k w n 2",
            "GETSET k w",
            "INCR n",
            "BITOP NOT k k",
            "GET k",
            "GETRANGE k 0 1",
            "APPEND k x",
            "SETBIT k 1 1",
            "BITCOUNT k",
            "INCRBYFLOAT n 1",
        ] {
            h.cmd("SET k v");
            h.cmd("SET n 1");
            let now = h.srv.now;
            for key in [&b"k"[..], b"n"] {
                if let Some(mut r) = h.srv.keyspace.dbs[0].get(key, now) {
                    r.set_clock(5);
                }
            }
            h.client.no_touch = true;
            h.cmd(cmd);
            h.client.no_touch = false;
            let clock = |h: &Harness, k: &[u8]| h.srv.keyspace.dbs[0].peek(k).map(|r| r.clock());
            assert_eq!(clock(&h, b"k"), Some(5), "{cmd}");
            assert_eq!(clock(&h, b"n"), Some(5), "{cmd}");
            h.cmd(cmd);
            assert_ne!(clock(&h, b"k").zip(clock(&h, b"n")), Some((5, 5)), "{cmd}");
        }
    }

    #[test]
    fn resp3_nulls() {
        let mut h = Harness::new();
        h.proto = Protocol::Resp3;
        assert_eq!(h.cmd("GET nope"), "_\r\n");
        assert_eq!(h.cmd("SET k v XX"), "_\r\n");
        assert_eq!(h.cmd("GETDEL nope"), "_\r\n");
        assert_eq!(h.cmd("GETEX nope"), "_\r\n");
        assert_eq!(h.cmd("MGET nope"), "*1\r\n_\r\n");
        assert_eq!(h.cmd("GETRANGE nope 0 -1"), "$0\r\n\r\n");
    }
}

/// What string commands reach the AOF as.
#[cfg(test)]
mod propagation_tests {
    use super::tests::Harness;

    #[test]
    fn relative_expires_become_absolute() {
        let mut h = Harness::new();
        let got = h.propagated("SET k v EX 100");
        assert_eq!(got, [format!("SET k v PXAT {}", h.srv.now.ms + 100_000)]);
        let got = h.propagated("SET k v PX 100 GET");
        assert_eq!(got, [format!("SET k v PXAT {}", h.srv.now.ms + 100)]);
        let got = h.propagated("SETEX k 5 v");
        assert_eq!(got, [format!("SET k v PXAT {}", h.srv.now.ms + 5000)]);
        let got = h.propagated("PSETEX k 5 v");
        assert_eq!(got, [format!("SET k v PXAT {}", h.srv.now.ms + 5)]);
        let got = h.propagated("SET k v EXAT 99999999999");
        assert_eq!(got, ["SET k v PXAT 99999999999000"]);
        // PXAT is already absolute: as called, GET included.
        assert_eq!(
            h.propagated("SET k v PXAT 99999999999999 GET"),
            ["SET k v PXAT 99999999999999 GET"]
        );
    }

    #[test]
    fn get_is_dropped_and_past_times_delete() {
        let mut h = Harness::new();
        assert_eq!(h.propagated("SET k v GET"), ["SET k v"]);
        assert_eq!(h.propagated("SET k v2 get NX GET"), Vec::<String>::new());
        assert_eq!(h.propagated("SET k v3 XX GET get"), ["SET k v3 XX"]);
        // A time already past: the key is deleted, propagated as such
        // (UNLINK with lazyfree-lazy-expire, the default).
        assert_eq!(h.propagated("SET k v PXAT 1"), ["UNLINK k"]);
        assert_eq!(h.propagated("SET k v PXAT 1"), Vec::<String>::new());
        h.srv.config.lazyfree_lazy_expire = false;
        h.cmd("SET k v");
        assert_eq!(h.propagated("SET k v EXAT 1"), ["DEL k"]);
    }

    #[test]
    fn getex_getdel_getset_incrbyfloat() {
        let mut h = Harness::new();
        h.cmd("SET k 1.5");
        let got = h.propagated("GETEX k EX 10");
        assert_eq!(got, [format!("PEXPIREAT k {}", h.srv.now.ms + 10_000)]);
        assert_eq!(h.propagated("GETEX k PERSIST"), ["PERSIST k"]);
        assert_eq!(h.propagated("GETEX k PERSIST"), Vec::<String>::new());
        assert_eq!(h.propagated("GETEX k"), Vec::<String>::new());
        assert_eq!(h.propagated("INCRBYFLOAT k 1"), ["SET k 2.5 KEEPTTL"]);
        assert_eq!(h.propagated("GETSET k 7"), ["SET k 7"]);
        assert_eq!(h.propagated("GETEX k PXAT 1"), ["UNLINK k"]);
        h.cmd("SET k 1");
        assert_eq!(h.propagated("GETDEL k"), ["DEL k"]);
        assert_eq!(h.propagated("GETDEL k"), Vec::<String>::new());
    }
}
