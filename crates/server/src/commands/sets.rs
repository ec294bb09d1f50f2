//! The set commands.
//!
//! Semantics follow Valkey's `t_set.c`: the order in which arguments are
//! checked (which decides the error a client sees), which lookups count as
//! keyspace hits or misses (reads do, writes do not), the dirty counter
//! (one per member added, removed or popped), the case analysis of SPOP and
//! SRANDMEMBER with a count, and the encodings the `…STORE` commands give
//! their destination (built fresh, so as small as the result allows).

use super::typed::{self, ScanKind};
use super::{acl, err, flags::*, Command, Ctx};
use crate::config::notify;
use crate::keyspace::set::{Elem, Set, SetConfig};
use crate::keyspace::{Record, Typed, ValueRef};
use crate::resp::{Args, Reply};
use crate::util::num::{parse_i64, parse_ull};
use std::collections::HashSet;

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("sadd", -3, WRITE | DENYOOM | FAST, acl::SET, sadd)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("set", "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."),
        Command::new("srem", -3, WRITE | FAST, acl::SET, srem)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("set", "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.", "O(N) where N is the number of members to be removed."),
        Command::new("smembers", 2, READONLY, acl::SET, smembers)
            .tips(&["nondeterministic_output_order"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("set", "1.0.0", "Returns all members of a set.", "O(N) where N is the set cardinality."),
        Command::new("sismember", 3, READONLY | FAST, acl::SET, sismember)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("set", "1.0.0", "Determines whether a member belongs to a set.", "O(1)"),
        Command::new("smismember", -3, READONLY | FAST, acl::SET, smismember)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("set", "6.2.0", "Determines whether multiple members belong to a set.", "O(N) where N is the number of elements being checked for membership"),
        Command::new("scard", 2, READONLY | FAST, acl::SET, scard)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("set", "1.0.0", "Returns the number of members in a set.", "O(1)"),
        Command::new("spop", -2, WRITE | FAST, acl::SET, spop)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE)])
            .doc("set", "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."),
        Command::new("srandmember", -2, READONLY, acl::SET, srandmember)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("set", "1.0.0", "Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."),
        Command::new("smove", 4, WRITE | FAST, acl::SET, smove)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE), KeySpec::at(2, RW | INSERT)])
            .doc("set", "1.0.0", "Moves a member from one set to another.", "O(1)"),
        Command::new("sinter", -2, READONLY, acl::SET, sinter)
            .tips(&["nondeterministic_output_order"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS).range(-1, 1, 0)])
            .doc("set", "1.0.0", "Returns the intersect of multiple sets.", INTER_COMPLEXITY),
        Command::new("sintercard", -3, READONLY, acl::SET, sintercard)
            .key_specs(&[KeySpec::at(1, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(sintercard_keys)
            .doc("set", "7.0.0", "Returns the number of members of the intersect of multiple sets.", INTER_COMPLEXITY),
        Command::new("sinterstore", -3, WRITE | DENYOOM, acl::SET, sinterstore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS).range(-1, 1, 0)])
            .doc("set", "1.0.0", "Stores the intersect of multiple sets in a key.", INTER_COMPLEXITY),
        Command::new("sunion", -2, READONLY, acl::SET, sunion)
            .tips(&["nondeterministic_output_order"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS).range(-1, 1, 0)])
            .doc("set", "1.0.0", "Returns the union of multiple sets.", UNION_COMPLEXITY),
        Command::new("sunionstore", -3, WRITE | DENYOOM, acl::SET, sunionstore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS).range(-1, 1, 0)])
            .doc("set", "1.0.0", "Stores the union of multiple sets in a key.", UNION_COMPLEXITY),
        Command::new("sdiff", -2, READONLY, acl::SET, sdiff)
            .tips(&["nondeterministic_output_order"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS).range(-1, 1, 0)])
            .doc("set", "1.0.0", "Returns the difference of multiple sets.", UNION_COMPLEXITY),
        Command::new("sdiffstore", -3, WRITE | DENYOOM, acl::SET, sdiffstore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS).range(-1, 1, 0)])
            .doc("set", "1.0.0", "Stores the difference of multiple sets in a key.", UNION_COMPLEXITY),
        Command::new("sscan", -3, READONLY, acl::SET, sscan)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("set", "2.8.0", "Iterates over members of a set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
    ]
};

const INTER_COMPLEXITY: &str =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
const UNION_COMPLEXITY: &str = "O(N) where N is the total number of elements in all given sets.";

/// SINTERCARD's keys: `numkeys key...` (Valkey's `sintercardGetKeys`).
fn sintercard_keys(args: &Args<'_>) -> Vec<usize> {
    super::numkeys_getkeys(args, None, 1, 2, 1)
}

fn cfg(ctx: &Ctx<'_>) -> SetConfig {
    SetConfig::from_config(&ctx.srv.config)
}

fn as_set(rec: &Record) -> Option<&Set> {
    match rec.value() {
        ValueRef::Heap(v) => <Set as Typed>::of(v),
        _ => None,
    }
}

fn args_from<'a>(ctx: &Ctx<'a>, from: usize) -> Vec<&'a [u8]> {
    (from..ctx.argc()).map(|i| ctx.arg(i)).collect()
}

// ---- single-key commands ---------------------------------------------------

fn sadd(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let members = args_from(ctx, 2);
    let cfg = cfg(ctx);
    let hint = members.len();
    let first = members[0];
    let r = typed::write_or_create::<Set, _>(
        ctx,
        key,
        || Set::with_hint(first, hint, &cfg),
        |s, _| {
            // Many members at once: convert up front rather than after the
            // small encoding filled up (a no-op on a set just created for
            // this hint).
            s.maybe_convert(hint, &cfg);
            members.iter().filter(|m| s.add(m, &cfg)).count()
        },
    );
    let Ok(added) = r else { return };
    ctx.modified_n(key, added);
    if added > 0 {
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.out.integer(added as i64);
}

fn srem(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let members = args_from(ctx, 2);
    let r = typed::write::<Set, _>(ctx, key, |s, _| {
        let mut deleted = 0;
        for m in &members {
            if s.remove(m) {
                deleted += 1;
                if s.is_empty() {
                    break;
                }
            }
        }
        (deleted, s.is_empty())
    });
    let (deleted, emptied) = match r {
        Err(()) => return,
        Ok(d) => d.unwrap_or((0, false)),
    };
    if deleted > 0 {
        ctx.modified_n(key, deleted);
        ctx.notify(notify::SET, "srem", key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
    }
    ctx.out.integer(deleted as i64);
}

fn sismember(ctx: &mut Ctx<'_>) {
    let m = ctx.arg(2);
    let Ok(r) = typed::read::<Set, _>(ctx, ctx.arg(1), |s, _| s.contains(m)) else {
        return;
    };
    ctx.out.integer(i64::from(r.unwrap_or(false)));
}

fn smismember(ctx: &mut Ctx<'_>) {
    let members = args_from(ctx, 2);
    let r = typed::read::<Set, _>(ctx, ctx.arg(1), |s, out| {
        out.array(members.len());
        for m in &members {
            out.integer(i64::from(s.contains(m)));
        }
    });
    match r {
        Err(()) | Ok(Some(())) => {}
        // A missing key is an empty set: all zeros.
        Ok(None) => {
            ctx.out.array(members.len());
            for _ in &members {
                ctx.out.integer(0);
            }
        }
    }
}

fn scard(ctx: &mut Ctx<'_>) {
    let Ok(r) = typed::read::<Set, _>(ctx, ctx.arg(1), |s, _| s.len()) else {
        return;
    };
    ctx.out.integer(r.unwrap_or(0) as i64);
}

fn smove(ctx: &mut Ctx<'_>) {
    let (src, dst, ele) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    // Both keys are looked up (and expired) first; a missing source wins
    // over a destination of the wrong type.
    let is_set = |ctx: &mut Ctx<'_>, k: &[u8]| {
        ctx.lookup_write(k)
            .map(|r| r.obj_type() == crate::keyspace::ObjType::Set)
    };
    let src_state = is_set(ctx, src);
    let dst_state = is_set(ctx, dst);
    match (src_state, dst_state) {
        (None, _) => return ctx.out.integer(0),
        (Some(false), _) | (_, Some(false)) => return ctx.out.error(err::WRONGTYPE),
        _ => {}
    }
    if src == dst {
        let Ok(r) = typed::write::<Set, _>(ctx, src, |s, _| s.contains(ele)) else {
            return;
        };
        return ctx.out.integer(i64::from(r.unwrap_or(false)));
    }
    let r = typed::write::<Set, _>(ctx, src, |s, _| (s.remove(ele), s.is_empty()));
    let Ok(Some((true, emptied))) = r else {
        if r.is_ok() {
            ctx.out.integer(0);
        }
        return;
    };
    ctx.notify(notify::SET, "srem", src);
    if emptied {
        ctx.notify(notify::GENERIC, "del", src);
    }
    ctx.modified(src);
    let cfg = cfg(ctx);
    let added = typed::write_or_create::<Set, _>(
        ctx,
        dst,
        || Set::with_hint(ele, 1, &cfg),
        |s, _| s.add(ele, &cfg),
    );
    if added == Ok(true) {
        ctx.modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    ctx.out.integer(1);
}

// ---- SPOP / SRANDMEMBER ----------------------------------------------------

/// SPOP with a count keeps a set built from the survivors instead of
/// popping one by one once it would pop more than this many times the
/// number that remain (Valkey's `SPOP_MOVE_STRATEGY_MUL`).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// SRANDMEMBER with a positive count copies the set and removes from the
/// copy when the set is less than this many times the count (Valkey's
/// `SRANDMEMBER_SUB_STRATEGY_MUL`).
const SRANDMEMBER_SUB_STRATEGY_MUL: usize = 3;

fn spop(ctx: &mut Ctx<'_>) {
    if ctx.argc() == 3 {
        return spop_count(ctx);
    }
    if ctx.argc() > 3 {
        return ctx.out.error(err::SYNTAX);
    }
    let key = ctx.arg(1);
    let mut rng = ctx.rng();
    let r = typed::write::<Set, _>(ctx, key, |s, out| {
        let m = s.pop_random(&mut rng);
        match &m {
            Some(m) => out.bulk(m),
            None => out.null(),
        }
        (s.is_empty(), m)
    });
    match r {
        Err(()) => {}
        Ok(None) => ctx.out.null(),
        Ok(Some((emptied, m))) => {
            ctx.notify(notify::SET, "spop", key);
            if emptied {
                ctx.notify(notify::GENERIC, "del", key);
            }
            ctx.modified(key);
            // Chance is not replayed: the member that went is.
            if let Some(m) = m {
                ctx.propagate_as(&[b"SREM", key, &m]);
            }
        }
    }
}

/// Valkey's batch size for the SREMs an SPOP with a count propagates as.
const SPOP_PROPAGATE_BATCH: usize = 1024;

fn spop_count(ctx: &mut Ctx<'_>) {
    // Valkey's `getPositiveLongFromObjectOrReply`: one message for both a
    // non-integer and a negative count.
    let count = match parse_i64(ctx.arg(2)) {
        Some(n) if n >= 0 => usize::try_from(n).unwrap_or(usize::MAX),
        _ => {
            return ctx
                .out
                .error(b"ERR value is out of range, must be positive")
        }
    };
    let key = ctx.arg(1);
    let cfg = cfg(ctx);
    let mut rng = ctx.rng();
    // The popped members, kept only when something replays them.
    let mut gone = crate::persistence::aof::is_on().then(Vec::new);
    let r = typed::write::<Set, _>(ctx, key, |s, out| {
        spop_with_count(s, count, &cfg, &mut rng, out, gone.as_mut())
    });
    match r {
        Err(()) => {}
        Ok(None) => ctx.out.set(0),
        Ok(Some((popped, whole))) => {
            if popped > 0 {
                ctx.notify(notify::SET, "spop", key);
            }
            if whole {
                // Valkey serves "pop everything" through SUNION, which
                // looks the key up for reading once more.
                ctx.srv.stats.keyspace_hits += 1;
                ctx.notify(notify::GENERIC, "del", key);
                // Propagated as the deletion of the set.
                let del: &[u8] = if ctx.srv.config.lazyfree_lazy_server_del {
                    b"UNLINK"
                } else {
                    b"DEL"
                };
                ctx.propagate_as(&[del, key]);
            } else {
                // As SREMs of the members that went, 1024 per command.
                ctx.propagate_as(&[]);
                for batch in gone.unwrap_or_default().chunks(SPOP_PROPAGATE_BATCH) {
                    let mut argv: Vec<&[u8]> = vec![b"SREM", key];
                    argv.extend(batch.iter().map(|m| m.as_slice()));
                    ctx.also_propagate(&argv);
                }
            }
            ctx.modified_n(key, popped);
        }
    }
}

/// Pops `count` members, replying them as a set. Returns how many were
/// popped and whether that was the whole set (then `s` is left empty).
fn spop_with_count(
    s: &mut Set,
    count: usize,
    cfg: &SetConfig,
    rng: &mut dyn FnMut() -> u64,
    out: &mut Reply,
    mut gone: Option<&mut Vec<Vec<u8>>>,
) -> (usize, bool) {
    // Replies a popped member, and keeps it when asked.
    let mut emit = |m: &[u8], out: &mut Reply| {
        out.bulk(m);
        if let Some(g) = gone.as_mut() {
            g.push(m.to_vec());
        }
    };
    let size = s.len();
    if count == 0 {
        out.set(0);
        return (0, false);
    }
    // Case 1: everything goes.
    if count >= size {
        out.set(size);
        for e in s.iter() {
            e.reply(out);
        }
        *s = Set::new();
        return (size, true);
    }
    out.set(count);
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // Case 2: few members go; pick them.
        if let Some(lp) = s.listpack() {
            // One pass over the listpack picks them in order.
            let chosen = Set::sample_indexes(lp.len(), count, rng);
            let keep = complement(&chosen, size);
            for m in s.listpack_split(&keep) {
                emit(&m, out);
            }
        } else {
            for _ in 0..count {
                if let Some(m) = s.pop_random(rng) {
                    emit(&m, out);
                }
            }
        }
    } else if s.is_listpack() {
        // Case 3: most members go; pick the survivors instead.
        let keep = Set::sample_indexes(size, remaining, rng);
        for m in s.listpack_split(&keep) {
            emit(&m, out);
        }
    } else {
        // Case 3 for the other encodings: the survivors move to a new set,
        // built small (an intset from an intset, a listpack from a hash
        // table, growing as they are added), which replaces the old one.
        let mut survivors = if s.is_intset() {
            Set::new()
        } else {
            Set::new_listpack()
        };
        for _ in 0..remaining {
            if let Some(m) = s.pop_random(rng) {
                survivors.add(&m, cfg);
            }
        }
        for e in s.iter() {
            emit(&e.bytes(), out);
        }
        *s = survivors;
    }
    (count, false)
}

/// The indexes below `len` that are not in `chosen` (ascending).
fn complement(chosen: &[usize], len: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(len - chosen.len());
    let mut c = chosen.iter().peekable();
    for i in 0..len {
        if c.peek() == Some(&&i) {
            c.next();
        } else {
            out.push(i);
        }
    }
    out
}

fn srandmember(ctx: &mut Ctx<'_>) {
    if ctx.argc() == 3 {
        return srandmember_count(ctx);
    }
    if ctx.argc() > 3 {
        return ctx.out.error(err::SYNTAX);
    }
    let mut rng = ctx.rng();
    let r = typed::read::<Set, _>(ctx, ctx.arg(1), |s, out| match s.random(&mut rng) {
        Some(e) => e.reply(out),
        None => out.null(),
    });
    if let Ok(None) = r {
        ctx.out.null();
    }
}

fn srandmember_count(ctx: &mut Ctx<'_>) {
    let Some(l) = ctx.arg_i64(2) else { return };
    if l == i64::MIN {
        return ctx.out.error(
            b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        );
    }
    // A negative count allows repeats.
    let (count, uniq) = (l.unsigned_abs() as usize, l >= 0);
    let mut rng = ctx.rng();
    let r = typed::read::<Set, _>(ctx, ctx.arg(1), |s, out| {
        srandmember_with_count(s, count, uniq, &mut rng, out)
    });
    if let Ok(None) = r {
        ctx.out.empty_array();
    }
}

fn srandmember_with_count(
    s: &Set,
    count: usize,
    uniq: bool,
    rng: &mut dyn FnMut() -> u64,
    out: &mut Reply,
) {
    let size = s.len();
    if count == 0 || size == 0 {
        return out.empty_array();
    }
    let pick = |rng: &mut dyn FnMut() -> u64, n: usize| (rng() % n as u64) as usize;
    // Case 1: repeats allowed (or a single member): independent draws.
    if !uniq || count == 1 {
        out.array(count);
        if s.is_listpack() && count > 1 {
            // Index the listpack once instead of seeking per draw.
            let all: Vec<Elem<'_>> = s.iter().collect();
            for _ in 0..count {
                all[pick(rng, all.len())].reply(out);
            }
        } else {
            for _ in 0..count {
                if let Some(e) = s.random(rng) {
                    e.reply(out);
                }
            }
        }
        return;
    }
    // Case 2: the whole set.
    if count >= size {
        out.array(size);
        for e in s.iter() {
            e.reply(out);
        }
        return;
    }
    // Case 2.5: a listpack is sampled in one ordered pass.
    if s.is_listpack() {
        let chosen = Set::sample_indexes(size, count, rng);
        out.array(count);
        let mut c = chosen.iter().peekable();
        for (i, e) in s.iter().enumerate() {
            if c.peek() == Some(&&i) {
                c.next();
                e.reply(out);
            }
        }
        return;
    }
    // Case 3: the count is close to the size: copy everything and drop
    // random members until `count` remain.
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        let mut all: Vec<Elem<'_>> = s.iter().collect();
        while all.len() > count {
            let i = pick(rng, all.len());
            all.swap_remove(i);
        }
        out.array(count);
        for e in &all {
            e.reply(out);
        }
        return;
    }
    // Case 4: a big set: draw until `count` distinct members came up.
    let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(count);
    let mut picked = Vec::with_capacity(count);
    while picked.len() < count {
        let Some(e) = s.random(rng) else { break };
        let b = e.to_vec();
        if seen.insert(b.clone()) {
            picked.push(b);
        }
    }
    out.array(picked.len());
    for b in &picked {
        out.bulk(b);
    }
}

// ---- multi-key commands ----------------------------------------------------

/// Looks every key up for reading as Valkey's loop over `lookupKeyRead`
/// does (hits, misses, lazy expiry), replying WRONGTYPE at the first key of
/// another type.
fn lookup_all(ctx: &mut Ctx<'_>, keys: &[&[u8]]) -> Result<(), ()> {
    for k in keys {
        typed::read::<Set, _>(ctx, k, |_, _| ())?;
    }
    Ok(())
}

/// What a set operation leaves to do once the sources are released.
enum Outcome {
    Replied,
    Store(Set),
}

/// Stores the result of a `…STORE` command (replacing the destination,
/// TTL included; an empty result deletes it), notifies `event` (or "del"),
/// and replies the size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], set: Set, event: &str) {
    let n = set.len();
    let replaced = typed::store(ctx, dst, set);
    if n > 0 {
        ctx.modified(dst);
        ctx.notify(notify::SET, event, dst);
    } else if replaced {
        ctx.modified(dst);
        ctx.notify(notify::GENERIC, "del", dst);
    }
    ctx.out.integer(n as i64);
}

fn smembers(ctx: &mut Ctx<'_>) {
    let keys = [ctx.arg(1)];
    sinter_generic(ctx, &keys, None, false, 0);
}

fn sinter(ctx: &mut Ctx<'_>) {
    let keys = args_from(ctx, 1);
    sinter_generic(ctx, &keys, None, false, 0);
}

fn sinterstore(ctx: &mut Ctx<'_>) {
    let keys = args_from(ctx, 2);
    sinter_generic(ctx, &keys, Some(ctx.arg(1)), false, 0);
}

fn sintercard(ctx: &mut Ctx<'_>) {
    const NUMKEYS: &[u8] = b"ERR numkeys should be greater than 0";
    let numkeys = match parse_i64(ctx.arg(1)) {
        Some(n) if n >= 1 => n as usize,
        _ => return ctx.out.error(NUMKEYS),
    };
    if numkeys > ctx.argc() - 2 {
        return ctx
            .out
            .error(b"ERR Number of keys can't be greater than number of args");
    }
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        if ctx.arg(j).eq_ignore_ascii_case(b"LIMIT") && more > 0 {
            j += 1;
            match parse_i64(ctx.arg(j)) {
                Some(l) if l >= 0 => limit = l as usize,
                _ => return ctx.out.error(b"ERR LIMIT can't be negative"),
            }
        } else {
            return ctx.out.error(err::SYNTAX);
        }
        j += 1;
    }
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|i| ctx.arg(i)).collect();
    sinter_generic(ctx, &keys, None, true, limit);
}

/// SINTER, SMEMBERS, SINTERSTORE and SINTERCARD (`card_only`, stopping at
/// `limit` when not 0).
fn sinter_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    dst: Option<&[u8]>,
    card_only: bool,
    limit: usize,
) {
    if lookup_all(ctx, keys).is_err() {
        return;
    }
    let cfg = cfg(ctx);
    let outcome = {
        let db = &ctx.srv.keyspace.dbs[ctx.client.db];
        let out = &mut *ctx.out;
        let recs: Vec<_> = keys.iter().map(|k| db.peek(k)).collect();
        let found: Vec<Option<&Set>> = recs
            .iter()
            .map(|r| r.as_ref().and_then(|r| as_set(r)))
            .collect();
        if found.iter().any(Option::is_none) {
            // A missing key is an empty set: so is the intersection.
            if dst.is_some() {
                Outcome::Store(Set::new())
            } else {
                if card_only {
                    out.integer(0);
                } else {
                    out.set(0);
                }
                Outcome::Replied
            }
        } else {
            let mut sets: Vec<&Set> = found.into_iter().flatten().collect();
            // Walk the smallest set, probe the others.
            sets.sort_by_key(|s| s.len());
            let first = sets[0];
            // The same key given twice is the same set: no need to probe it.
            let in_all = |e: &Elem<'_>| {
                sets[1..]
                    .iter()
                    .all(|o| std::ptr::eq(*o, first) || o.contains_elem(e))
            };
            if dst.is_some() {
                // The destination starts as small as the first set allows
                // and goes back to an intset if only integers ended up in it.
                let mut d = if first.is_intset() {
                    Set::new()
                } else {
                    Set::new_listpack()
                };
                let mut only_ints = true;
                for e in first.iter() {
                    if in_all(&e) {
                        only_ints = only_ints && e.as_int().is_some();
                        d.add_elem(&e, &cfg);
                    }
                }
                if only_ints {
                    d.maybe_convert_to_intset(&cfg);
                }
                Outcome::Store(d)
            } else if card_only {
                let mut n = 0usize;
                for e in first.iter() {
                    if in_all(&e) {
                        n += 1;
                        if limit != 0 && n >= limit {
                            break;
                        }
                    }
                }
                out.integer(n as i64);
                Outcome::Replied
            } else {
                let d = out.defer();
                let mut n = 0;
                for e in first.iter() {
                    if in_all(&e) {
                        e.reply(out);
                        n += 1;
                    }
                }
                out.finish_set(d, n);
                Outcome::Replied
            }
        }
    };
    if let (Outcome::Store(set), Some(dst)) = (outcome, dst) {
        store_result(ctx, dst, set, "sinterstore");
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

fn sunion(ctx: &mut Ctx<'_>) {
    let keys = args_from(ctx, 1);
    sunion_diff_generic(ctx, &keys, None, SetOp::Union);
}

fn sunionstore(ctx: &mut Ctx<'_>) {
    let keys = args_from(ctx, 2);
    sunion_diff_generic(ctx, &keys, Some(ctx.arg(1)), SetOp::Union);
}

fn sdiff(ctx: &mut Ctx<'_>) {
    let keys = args_from(ctx, 1);
    sunion_diff_generic(ctx, &keys, None, SetOp::Diff);
}

fn sdiffstore(ctx: &mut Ctx<'_>) {
    let keys = args_from(ctx, 2);
    sunion_diff_generic(ctx, &keys, Some(ctx.arg(1)), SetOp::Diff);
}

/// SUNION, SDIFF and their `…STORE` forms.
fn sunion_diff_generic(ctx: &mut Ctx<'_>, keys: &[&[u8]], dst: Option<&[u8]>, op: SetOp) {
    if lookup_all(ctx, keys).is_err() {
        return;
    }
    let cfg = cfg(ctx);
    let result = {
        let db = &ctx.srv.keyspace.dbs[ctx.client.db];
        let recs: Vec<_> = keys.iter().map(|k| db.peek(k)).collect();
        let mut sets: Vec<Option<&Set>> = recs
            .iter()
            .map(|r| r.as_ref().and_then(|r| as_set(r)))
            .collect();
        let same_as_first = |s: Option<&Set>, first: Option<&Set>| match (s, first) {
            (Some(a), Some(b)) => std::ptr::eq(a, b),
            _ => false,
        };
        let sameset = sets.iter().skip(1).any(|s| same_as_first(*s, sets[0]));
        // The result starts as an intset when it will be stored (so it ends
        // in the smallest encoding its members allow) or when every source
        // is one; a reply-only result of other sets is a hash table, where
        // lookups are cheapest.
        let all_intsets = sets.iter().flatten().all(|s| s.is_intset());
        let mut d = if dst.is_some() || all_intsets {
            Set::new()
        } else {
            Set::new_hashtable(0)
        };
        // Valkey picks between two DIFF algorithms by estimated work:
        // probing every other set for each member of the first, or adding
        // the first and removing all the others.
        let mut diff_algo_one = true;
        if op == SetOp::Diff && !sameset {
            if let Some(first) = sets[0] {
                let present = sets.iter().flatten().count();
                let algo_one = first.len() * present / 2;
                let algo_two: usize = sets.iter().flatten().map(|s| s.len()).sum();
                diff_algo_one = algo_one <= algo_two;
                if diff_algo_one && sets.len() > 1 {
                    // Biggest first: likelier to find a member early.
                    sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, |s| s.len())));
                }
            }
        }
        match op {
            SetOp::Union => {
                for s in sets.iter().flatten() {
                    for e in s.iter() {
                        d.add_elem(&e, &cfg);
                    }
                }
            }
            SetOp::Diff if sameset => {}
            SetOp::Diff => {
                if let Some(first) = sets[0] {
                    if diff_algo_one {
                        for e in first.iter() {
                            let excluded = sets[1..]
                                .iter()
                                .flatten()
                                .any(|o| std::ptr::eq(*o, first) || o.contains_elem(&e));
                            if !excluded {
                                d.add_elem(&e, &cfg);
                            }
                        }
                    } else {
                        for (j, s) in sets.iter().enumerate() {
                            let Some(s) = s else { continue };
                            for e in s.iter() {
                                if j == 0 {
                                    d.add_elem(&e, &cfg);
                                } else {
                                    d.remove_elem(&e);
                                }
                            }
                            if d.is_empty() {
                                break;
                            }
                        }
                    }
                }
            }
        }
        if dst.is_none() {
            let out = &mut *ctx.out;
            out.set(d.len());
            for e in d.iter() {
                e.reply(out);
            }
            None
        } else {
            Some(d)
        }
    };
    if let (Some(set), Some(dst)) = (result, dst) {
        let event = match op {
            SetOp::Union => "sunionstore",
            SetOp::Diff => "sdiffstore",
        };
        store_result(ctx, dst, set, event);
    }
}

// ---- SSCAN -----------------------------------------------------------------

fn sscan(ctx: &mut Ctx<'_>) {
    if parse_ull(ctx.arg(2)).is_none() {
        return ctx.out.error(b"ERR invalid cursor");
    }
    // Valkey checks the options only once it found the set: parse them now
    // into a scratch reply and replay any error after the lookup.
    let mut scratch = Reply::new(ctx.out.protocol());
    std::mem::swap(&mut *ctx.out, &mut scratch);
    let opts = typed::scan_options(ctx, ScanKind::Set);
    std::mem::swap(&mut *ctx.out, &mut scratch);
    let r = typed::read::<Set, _>(ctx, ctx.arg(1), |s, out| {
        let Some(o) = &opts else {
            return out.raw(scratch.buf());
        };
        let mut items = Vec::new();
        let mut cursor = o.cursor;
        if s.is_hashtable() {
            // Visit bucket chains until COUNT members were seen, giving up
            // after ten times COUNT steps over a sparse table.
            let mut sampled = 0usize;
            let mut steps_left = o.count.saturating_mul(10);
            loop {
                cursor = s.scan(cursor, |m| {
                    sampled += 1;
                    if o.matches(m) {
                        items.push(m.to_vec());
                    }
                });
                if cursor == 0 || steps_left == 0 || sampled >= o.count {
                    break;
                }
                steps_left -= 1;
            }
        } else {
            cursor = s.scan(cursor, |m| {
                if o.matches(m) {
                    items.push(m.to_vec());
                }
            });
        }
        typed::reply_scan(out, cursor, &items);
    });
    if let Ok(None) = r {
        typed::reply_scan(ctx.out, 0, &[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    fn set_of(members: &[&str]) -> Set {
        let cfg = SetConfig::default();
        let mut s = Set::with_hint(members[0].as_bytes(), members.len(), &cfg);
        for m in members {
            s.add(m.as_bytes(), &cfg);
        }
        s
    }

    /// Parses a flat RESP2 array of bulks.
    fn bulks(buf: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(buf).into_owned();
        let mut lines = text.split("\r\n");
        let head = lines.next().unwrap_or_default();
        assert!(head.starts_with('*') || head.starts_with('~'), "{head}");
        let mut out = Vec::new();
        while let Some(l) = lines.next() {
            if l.starts_with('$') {
                out.push(lines.next().unwrap_or_default().to_string());
            }
        }
        out
    }

    #[test]
    fn keys_of_sintercard() {
        let parts: Vec<&[u8]> = vec![b"SINTERCARD", b"2", b"a", b"b", b"LIMIT", b"1"];
        let owned = crate::resp::OwnedArgs::from_slices(&parts);
        assert_eq!(sintercard_keys(&owned.as_args()), vec![2, 3]);
        // More keys than arguments: none at all.
        let parts: Vec<&[u8]> = vec![b"SINTERCARD", b"9", b"a"];
        let owned = crate::resp::OwnedArgs::from_slices(&parts);
        assert!(sintercard_keys(&owned.as_args()).is_empty());
        let parts: Vec<&[u8]> = vec![b"SINTERCARD", b"02", b"a", b"b"];
        let owned = crate::resp::OwnedArgs::from_slices(&parts);
        assert_eq!(sintercard_keys(&owned.as_args()), vec![2, 3]);
        let parts: Vec<&[u8]> = vec![b"SINTERCARD", b"0", b"a"];
        let owned = crate::resp::OwnedArgs::from_slices(&parts);
        assert!(sintercard_keys(&owned.as_args()).is_empty());
    }

    #[test]
    fn spop_cases_keep_the_rest() {
        let cfg = SetConfig::default();
        let mut r = rng(11);
        let listpack: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        let ints: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        let table: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        for members in [&listpack, &ints, &table] {
            let refs: Vec<&str> = members.iter().map(String::as_str).collect();
            for count in [0usize, 1, 2, 3, 17, 18, 19, 20, 250, 299, 300, 1000] {
                let mut s = set_of(&refs);
                let enc = s.encoding_name();
                let mut out = Reply::new(crate::resp::Protocol::Resp2);
                let (n, whole) = spop_with_count(&mut s, count, &cfg, &mut r, &mut out, None);
                let popped = bulks(out.buf());
                assert_eq!(n, count.min(members.len()));
                assert_eq!(popped.len(), n, "{enc} {count}");
                assert_eq!(whole, count >= members.len());
                let mut all: Vec<String> = popped.clone();
                s.for_each(|m| all.push(String::from_utf8_lossy(m).into_owned()));
                all.sort();
                let mut want = members.clone();
                want.sort();
                assert_eq!(all, want, "{enc} {count}");
            }
        }
    }

    #[test]
    fn spop_survivors_start_small() {
        let cfg = SetConfig::default();
        let mut r = rng(5);
        // A hash table of 300 integers losing 290: the 10 survivors are
        // rebuilt as a listpack (Valkey's case 3 from a hash table).
        let members: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = members.iter().map(String::as_str).collect();
        let mut s = set_of(&refs);
        assert_eq!(s.encoding_name(), "hashtable");
        let mut out = Reply::new(crate::resp::Protocol::Resp2);
        spop_with_count(&mut s, 290, &cfg, &mut r, &mut out, None);
        assert_eq!((s.encoding_name(), s.len()), ("listpack", 10));
    }

    #[test]
    fn srandmember_cases() {
        let mut r = rng(9);
        let listpack: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
        let ints: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let table: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
        for members in [&listpack, &ints, &table] {
            let refs: Vec<&str> = members.iter().map(String::as_str).collect();
            let s = set_of(&refs);
            for (count, uniq) in [
                (1usize, true),
                (5, true),
                (20, true),
                (39, true),
                (40, true),
                (500, true),
                (5, false),
                (500, false),
            ] {
                let mut out = Reply::new(crate::resp::Protocol::Resp2);
                srandmember_with_count(&s, count, uniq, &mut r, &mut out);
                let got = bulks(out.buf());
                let want_len = if uniq {
                    count.min(members.len())
                } else {
                    count
                };
                assert_eq!(got.len(), want_len, "{} {count} {uniq}", s.encoding_name());
                assert!(got.iter().all(|m| members.contains(m)));
                if uniq {
                    let distinct: HashSet<&String> = got.iter().collect();
                    assert_eq!(distinct.len(), got.len());
                }
            }
        }
    }

    #[test]
    fn complement_of_indexes() {
        assert_eq!(complement(&[1, 3], 5), vec![0, 2, 4]);
        assert_eq!(complement(&[], 2), vec![0, 1]);
        assert_eq!(complement(&[0, 1], 2), Vec::<usize>::new());
    }
}

/// What SPOP reaches the AOF as.
#[cfg(test)]
mod propagation_tests {
    use crate::commands::strings::tests::Harness;

    #[test]
    fn spop_propagates_the_members_that_went() {
        let mut h = Harness::new();
        h.cmd("SADD s a b c d e f");
        let got = h.propagated_argv("SPOP s");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0][..2], ["SREM", "s"]);
        assert_eq!(got[0].len(), 3);
        let got = h.propagated_argv("SPOP s 3");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0][..2], ["SREM", "s"]);
        assert_eq!(got[0].len(), 5);
        let left = h.cmd("SCARD s");
        assert_eq!(left, ":2\r\n");
        // Everything: the set's deletion (lazyfree-lazy-server-del: UNLINK).
        assert_eq!(h.propagated_argv("SPOP s 5"), [vec!["UNLINK", "s"]]);
        assert!(h.propagated_argv("SPOP s").is_empty());
        // Big pops are split in SREMs of 1024 members.
        let mut args: Vec<Vec<u8>> = vec![b"SADD".to_vec(), b"big".to_vec()];
        args.extend((0..3000).map(|i| format!("m{i}").into_bytes()));
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        h.run(&refs);
        let got = h.propagated_argv("SPOP big 2500");
        // Three commands from one SPOP: one transaction, as in Valkey.
        assert_eq!(got.first().map(|c| c[0].as_str()), Some("MULTI"));
        assert_eq!(got.last().map(|c| c[0].as_str()), Some("EXEC"));
        let sizes: Vec<usize> = got[1..got.len() - 1].iter().map(|c| c.len() - 2).collect();
        assert_eq!(sizes, [1024, 1024, 452]);
    }
}
