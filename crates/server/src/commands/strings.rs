//! String commands.

use super::{acl, err, flags::*, Command, Ctx};
use crate::keyspace::{ObjType, Record, Value, ValueRef};
use crate::util::num::parse_i64;

pub static COMMANDS: &[Command] = &[
    Command::new("get", 2, READONLY | FAST, acl::STRING, get)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Returns the string value of a key.", "O(1)"),
    Command::new("set", -3, WRITE | DENYOOM, acl::STRING, set)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "O(1)"),
    Command::new("setnx", 3, WRITE | DENYOOM | FAST, acl::STRING, setnx)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Set the string value of a key only when the key doesn't exist.", "O(1)"),
    Command::new("setex", 4, WRITE | DENYOOM, acl::STRING, setex)
        .keys(1, 1, 1)
        .doc("string", "2.0.0", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "O(1)"),
    Command::new("psetex", 4, WRITE | DENYOOM, acl::STRING, psetex)
        .keys(1, 1, 1)
        .doc("string", "2.6.0", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "O(1)"),
    Command::new("getset", 3, WRITE | DENYOOM | FAST, acl::STRING, getset)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Returns the previous string value of a key after setting it to a new value.", "O(1)"),
    Command::new("getdel", 2, WRITE | FAST, acl::STRING, getdel)
        .keys(1, 1, 1)
        .doc("string", "6.2.0", "Returns the string value of a key after deleting the key.", "O(1)"),
    Command::new("mget", -2, READONLY | FAST, acl::STRING, mget)
        .keys(1, -1, 1)
        .doc("string", "1.0.0", "Atomically returns the string values of one or more keys.", "O(N) where N is the number of keys to retrieve."),
    Command::new("mset", -3, WRITE | DENYOOM, acl::STRING, mset)
        .keys(1, -1, 2)
        .doc("string", "1.0.1", "Atomically creates or modifies the string values of one or more keys.", "O(N) where N is the number of keys to set."),
    Command::new("msetnx", -3, WRITE | DENYOOM, acl::STRING, msetnx)
        .keys(1, -1, 2)
        .doc("string", "1.0.1", "Atomically modifies the string values of one or more keys only when all keys don't exist.", "O(N) where N is the number of keys to set."),
    Command::new("strlen", 2, READONLY | FAST, acl::STRING, strlen)
        .keys(1, 1, 1)
        .doc("string", "2.2.0", "Returns the length of a string value.", "O(1)"),
    Command::new("append", 3, WRITE | DENYOOM, acl::STRING, append)
        .keys(1, 1, 1)
        .doc("string", "2.0.0", "Appends a string to the value of a key. Creates the key if it doesn't exist.", "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by the server will double the free space available on every reallocation."),
    Command::new("incr", 2, WRITE | DENYOOM | FAST, acl::STRING, incr)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("decr", 2, WRITE | DENYOOM | FAST, acl::STRING, decr)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("incrby", 3, WRITE | DENYOOM | FAST, acl::STRING, incrby)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
    Command::new("decrby", 3, WRITE | DENYOOM | FAST, acl::STRING, decrby)
        .keys(1, 1, 1)
        .doc("string", "1.0.0", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "O(1)"),
];

/// The string value of a live key: Ok(None) if absent, Err(()) after
/// replying WRONGTYPE. Calls `f` with the bytes.
fn with_string<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> Result<Option<R>, ()> {
    let now = ctx.now();
    let db = ctx.db();
    let Some(rec) = db.get(key, now) else {
        ctx.srv.stats.keyspace_misses += 1;
        return Ok(None);
    };
    let mut buf = [0u8; 24];
    match rec.string_value(&mut buf) {
        Some(s) => {
            let r = f(s);
            drop(rec);
            ctx.srv.stats.keyspace_hits += 1;
            Ok(Some(r))
        }
        None => {
            drop(rec);
            ctx.srv.stats.keyspace_hits += 1;
            ctx.out.error(err::WRONGTYPE);
            Err(())
        }
    }
}

fn get(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let now = ctx.now();
    let srv = &mut *ctx.srv;
    let db = &mut srv.keyspace.dbs[ctx.client.db];
    match db.get(key, now) {
        None => {
            srv.stats.keyspace_misses += 1;
            ctx.out.null();
        }
        Some(rec) => {
            srv.stats.keyspace_hits += 1;
            let mut buf = [0u8; 24];
            match rec.string_value(&mut buf) {
                Some(s) => ctx.out.bulk(s),
                None => ctx.out.error(err::WRONGTYPE),
            }
        }
    }
}

/// Parsed SET options.
#[derive(Default)]
struct SetOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    /// Absolute expire time in ms.
    expire_at: Option<i64>,
}

/// Parses `[NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]` from argument
/// 3 on, replying with Valkey's errors.
fn parse_set_opts(ctx: &mut Ctx<'_>) -> Option<SetOpts> {
    let mut o = SetOpts::default();
    let mut has_expire_opt = false;
    let mut i = 3;
    while i < ctx.argc() {
        let a = ctx.arg(i);
        let next = (i + 1 < ctx.argc()).then(|| ctx.arg(i + 1));
        let upper = a.to_ascii_uppercase();
        match upper.as_slice() {
            b"NX" if !o.xx => o.nx = true,
            b"XX" if !o.nx => o.xx = true,
            b"GET" => o.get = true,
            b"KEEPTTL" if !has_expire_opt => {
                o.keepttl = true;
                has_expire_opt = true;
            }
            b"EX" | b"PX" | b"EXAT" | b"PXAT" if !has_expire_opt && next.is_some() => {
                has_expire_opt = true;
                let Some(v) = parse_i64(next.unwrap_or_default()) else {
                    ctx.out.error(err::NOT_INTEGER);
                    return None;
                };
                let now = ctx.now().ms;
                let at = match upper.as_slice() {
                    b"EX" => (v > 0)
                        .then(|| v.checked_mul(1000).and_then(|ms| ms.checked_add(now)))
                        .flatten(),
                    b"PX" => (v > 0).then(|| v.checked_add(now)).flatten(),
                    b"EXAT" => (v > 0).then(|| v.checked_mul(1000)).flatten(),
                    _ => (v > 0).then_some(v),
                };
                let Some(at) = at else {
                    ctx.out.error(err::INVALID_EXPIRE);
                    return None;
                };
                o.expire_at = Some(at);
                i += 1;
            }
            _ => {
                ctx.out.error(err::SYNTAX);
                return None;
            }
        }
        i += 1;
    }
    Some(o)
}

fn set(ctx: &mut Ctx<'_>) {
    let Some(o) = parse_set_opts(ctx) else { return };
    let (key, val) = (ctx.arg(1), ctx.arg(2));
    set_generic(ctx, key, val, o);
}

fn set_generic(ctx: &mut Ctx<'_>, key: &[u8], val: &[u8], o: SetOpts) {
    let now = ctx.now();
    let db_idx = ctx.client.db;
    let db = &mut ctx.srv.keyspace.dbs[db_idx];
    let (exists, old_expire, old_value) = match db.get(key, now) {
        None => (false, None, None),
        Some(rec) => {
            let mut buf = [0u8; 24];
            let old = if o.get {
                match rec.string_value(&mut buf) {
                    Some(s) => Some(s.to_vec()),
                    None => {
                        drop(rec);
                        ctx.out.error(err::WRONGTYPE);
                        return;
                    }
                }
            } else {
                None
            };
            (true, rec.expire(), old)
        }
    };
    if (o.nx && exists) || (o.xx && !exists) {
        if o.get {
            reply_opt_bulk(ctx, old_value.as_deref());
        } else {
            ctx.out.null();
        }
        return;
    }
    let expire = if o.keepttl { old_expire } else { o.expire_at };
    let rec = Record::new_string(key, val, expire, now.clock);
    ctx.srv.keyspace.dbs[db_idx].insert(rec);
    ctx.modified(key);
    if o.get {
        reply_opt_bulk(ctx, old_value.as_deref());
    } else {
        ctx.out.ok();
    }
}

fn reply_opt_bulk(ctx: &mut Ctx<'_>, v: Option<&[u8]>) {
    match v {
        Some(v) => ctx.out.bulk(v),
        None => ctx.out.null(),
    }
}

fn setnx(ctx: &mut Ctx<'_>) {
    let (key, val) = (ctx.arg(1), ctx.arg(2));
    let now = ctx.now();
    if ctx.db().exists(key, now) {
        ctx.out.integer(0);
        return;
    }
    ctx.db()
        .insert(Record::new_string(key, val, None, now.clock));
    ctx.modified(key);
    ctx.out.integer(1);
}

fn setex_generic(ctx: &mut Ctx<'_>, unit_ms: i64) {
    let Some(v) = ctx.arg_i64(2) else { return };
    let now = ctx.now();
    let at = (v > 0)
        .then(|| v.checked_mul(unit_ms).and_then(|ms| ms.checked_add(now.ms)))
        .flatten();
    let Some(at) = at else {
        let msg = format!("ERR invalid expire time in '{}' command", ctx.cmd.name);
        ctx.out.error(msg.as_bytes());
        return;
    };
    let (key, val) = (ctx.arg(1), ctx.arg(3));
    ctx.db()
        .insert(Record::new_string(key, val, Some(at), now.clock));
    ctx.modified(key);
    ctx.out.ok();
}

fn setex(ctx: &mut Ctx<'_>) {
    setex_generic(ctx, 1000)
}

fn psetex(ctx: &mut Ctx<'_>) {
    setex_generic(ctx, 1)
}

fn getset(ctx: &mut Ctx<'_>) {
    let (key, val) = (ctx.arg(1), ctx.arg(2));
    let o = SetOpts {
        get: true,
        ..SetOpts::default()
    };
    set_generic(ctx, key, val, o);
}

fn getdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let Ok(v) = with_string(ctx, key, |s| s.to_vec()) else {
        return;
    };
    match v {
        Some(v) => {
            ctx.db().remove(key);
            ctx.modified(key);
            ctx.out.bulk(&v);
        }
        None => ctx.out.null(),
    }
}

fn mget(ctx: &mut Ctx<'_>) {
    let n = ctx.argc() - 1;
    ctx.out.array(n);
    let now = ctx.now();
    for i in 1..=n {
        let key = ctx.arg(i);
        let db = &mut ctx.srv.keyspace.dbs[ctx.client.db];
        let mut buf = [0u8; 24];
        match db.get(key, now) {
            Some(rec) => match rec.string_value(&mut buf) {
                Some(s) => ctx.out.bulk(s),
                None => ctx.out.null(),
            },
            None => ctx.out.null(),
        }
    }
}

fn mset(ctx: &mut Ctx<'_>) {
    if ctx.argc() % 2 == 0 {
        return ctx.wrong_arity();
    }
    let now = ctx.now();
    for i in (1..ctx.argc()).step_by(2) {
        let (key, val) = (ctx.arg(i), ctx.arg(i + 1));
        ctx.db()
            .insert(Record::new_string(key, val, None, now.clock));
        ctx.modified(key);
    }
    ctx.out.ok();
}

fn msetnx(ctx: &mut Ctx<'_>) {
    if ctx.argc() % 2 == 0 {
        return ctx.wrong_arity();
    }
    let now = ctx.now();
    for i in (1..ctx.argc()).step_by(2) {
        let key = ctx.arg(i);
        if ctx.db().exists(key, now) {
            ctx.out.integer(0);
            return;
        }
    }
    for i in (1..ctx.argc()).step_by(2) {
        let (key, val) = (ctx.arg(i), ctx.arg(i + 1));
        ctx.db()
            .insert(Record::new_string(key, val, None, now.clock));
        ctx.modified(key);
    }
    ctx.out.integer(1);
}

fn strlen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if let Ok(n) = with_string(ctx, key, |s| s.len()) {
        ctx.out.integer(n.unwrap_or(0) as i64);
    }
}

fn append(ctx: &mut Ctx<'_>) {
    let (key, add) = (ctx.arg(1), ctx.arg(2));
    let now = ctx.now();
    let db = &mut ctx.srv.keyspace.dbs[ctx.client.db];
    // Grown in place when the value already has its own buffer; otherwise
    // the value becomes a raw string in one (Int and inline values).
    let rebuilt = match db.get(key, now) {
        None => Ok((add.to_vec(), None, now.clock)),
        Some(mut rec) => {
            if rec.obj_type() != ObjType::String {
                drop(rec);
                ctx.out.error(err::WRONGTYPE);
                return;
            }
            if let Some(Value::Str(v)) = rec.heap_mut() {
                v.extend_from_slice(add);
                Err(v.len())
            } else {
                let mut buf = [0u8; 24];
                let mut v = rec.string_value(&mut buf).unwrap_or_default().to_vec();
                v.extend_from_slice(add);
                Ok((v, rec.expire(), rec.clock()))
            }
        }
    };
    let len = match rebuilt {
        Ok((v, exp, clock)) => {
            let len = v.len();
            db.insert(Record::new_raw(key, v, exp, clock));
            len
        }
        Err(grown_len) => grown_len,
    };
    ctx.modified(key);
    ctx.out.integer(len as i64);
}

/// The integer value of a string key for INCR and friends: Ok(None) if
/// absent, Err(reply) if it is not an integer string.
fn integer_value(rec: &Record) -> Result<i64, &'static [u8]> {
    if rec.obj_type() != ObjType::String {
        return Err(err::WRONGTYPE);
    }
    let v = match rec.value() {
        ValueRef::Int(i) => Some(i),
        ValueRef::Str(s) => parse_i64(s),
        ValueRef::Heap(Value::Str(s)) => parse_i64(s),
    };
    v.ok_or(err::NOT_INTEGER)
}

fn incr_by(ctx: &mut Ctx<'_>, delta: i64) {
    let key = ctx.arg(1);
    let now = ctx.now();
    let db = &mut ctx.srv.keyspace.dbs[ctx.client.db];
    let current = db
        .get(key, now)
        .map(|rec| (integer_value(&rec), rec.expire()));
    let (old, exp) = match current {
        None => (0, None),
        Some((Ok(v), exp)) => (v, exp),
        Some((Err(e), _)) => {
            ctx.out.error(e);
            return;
        }
    };
    let Some(new) = old.checked_add(delta) else {
        ctx.out.error(err::OVERFLOW);
        return;
    };
    db.insert(Record::build(
        key,
        crate::keyspace::Payload::Int(new),
        exp,
        now.clock,
    ));
    ctx.modified(key);
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
