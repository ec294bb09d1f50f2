//! The sorted set commands.
//!
//! Semantics follow Valkey's `t_zset.c`: the order in which arguments are
//! validated (which decides the error a client sees when several things are
//! wrong), which lookups count as keyspace hits or misses (reads do, writes
//! do not), the dirty counter (one per member added, updated, removed or
//! popped; one per …STORE), the moments a sorted set converts from listpack
//! to skiplist, and the reply shapes: scores are doubles (RESP3 `,`), and
//! WITHSCORES pairs are flat in RESP2 and `[member, score]` arrays in RESP3.

use super::strings::is_kw;
use super::typed::{self, ScanKind};
use super::{acl, err, flags::*, Command, Ctx};
use crate::config::notify;
use crate::keyspace::set::Set;
use crate::keyspace::zset::{
    cmp_pair, format_g17, AddFlags, AddOutcome, LexRange, ScanScore, ScoreRange, ZSet, ZSetConfig,
};
use crate::keyspace::{ObjType, Record, Typed, ValueRef};
use crate::resp::{Args, Protocol, Reply};
use crate::server::blocking::TimeoutReply;
use crate::util::num::{parse_f64, parse_i64, parse_ull};
use std::collections::{HashMap, HashSet};

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("zadd", -4, WRITE | DENYOOM | FAST, acl::SORTEDSET, zadd)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("sorted-set", "1.2.0", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
        Command::new("zincrby", 4, WRITE | DENYOOM | FAST, acl::SORTEDSET, zincrby)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | UPDATE)])
            .doc("sorted-set", "1.2.0", "Increments the score of a member in a sorted set.", "O(log(N)) where N is the number of elements in the sorted set."),
        Command::new("zrem", -3, WRITE | FAST, acl::SORTEDSET, zrem)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("sorted-set", "1.2.0", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed."),
        Command::new("zcard", 2, READONLY | FAST, acl::SORTEDSET, zcard)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("sorted-set", "1.2.0", "Returns the number of members in a sorted set.", "O(1)"),
        Command::new("zcount", 4, READONLY | FAST, acl::SORTEDSET, zcount)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.0.0", "Returns the count of members in a sorted set that have scores within a range.", "O(log(N)) with N being the number of elements in the sorted set."),
        Command::new("zlexcount", 4, READONLY | FAST, acl::SORTEDSET, zlexcount)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.8.9", "Returns the number of members in a sorted set within a lexicographical range.", "O(log(N)) with N being the number of elements in the sorted set."),
        Command::new("zscore", 3, READONLY | FAST, acl::SORTEDSET, zscore)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "1.2.0", "Returns the score of a member in a sorted set.", "O(1)"),
        Command::new("zmscore", -3, READONLY | FAST, acl::SORTEDSET, zmscore)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "6.2.0", "Returns the score of one or more members in a sorted set.", "O(N) where N is the number of members being requested."),
        Command::new("zrank", -3, READONLY | FAST, acl::SORTEDSET, zrank)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.0.0", "Returns the index of a member in a sorted set ordered by ascending scores.", "O(log(N))"),
        Command::new("zrevrank", -3, READONLY | FAST, acl::SORTEDSET, zrevrank)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.0.0", "Returns the index of a member in a sorted set ordered by descending scores.", "O(log(N))"),
        Command::new("zrange", -4, READONLY, acl::SORTEDSET, zrange)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "1.2.0", "Returns members in a sorted set within a range of indexes.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
        Command::new("zrangestore", -5, WRITE | DENYOOM, acl::SORTEDSET, zrangestore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS)])
            .doc("sorted-set", "6.2.0", "Stores a range of members from sorted set in a key.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key."),
        Command::new("zrevrange", -4, READONLY, acl::SORTEDSET, zrevrange)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "1.2.0", "Returns members in a sorted set within a range of indexes in reverse order.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned."),
        Command::new("zrangebyscore", -4, READONLY, acl::SORTEDSET, zrangebyscore)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "1.0.5", "Returns members in a sorted set within a range of scores.", RANGE_LIMIT_COMPLEXITY),
        Command::new("zrevrangebyscore", -4, READONLY, acl::SORTEDSET, zrevrangebyscore)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.2.0", "Returns members in a sorted set within a range of scores in reverse order.", RANGE_LIMIT_COMPLEXITY),
        Command::new("zrangebylex", -4, READONLY, acl::SORTEDSET, zrangebylex)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.8.9", "Returns members in a sorted set within a lexicographical range.", RANGE_LIMIT_COMPLEXITY),
        Command::new("zrevrangebylex", -4, READONLY, acl::SORTEDSET, zrevrangebylex)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.8.9", "Returns members in a sorted set within a lexicographical range in reverse order.", RANGE_LIMIT_COMPLEXITY),
        Command::new("zremrangebyrank", 4, WRITE, acl::SORTEDSET, zremrangebyrank)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("sorted-set", "2.0.0", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", REMRANGE_COMPLEXITY),
        Command::new("zremrangebyscore", 4, WRITE, acl::SORTEDSET, zremrangebyscore)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("sorted-set", "1.2.0", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", REMRANGE_COMPLEXITY),
        Command::new("zremrangebylex", 4, WRITE, acl::SORTEDSET, zremrangebylex)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("sorted-set", "2.8.9", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", REMRANGE_COMPLEXITY),
        Command::new("zpopmin", -2, WRITE | FAST, acl::SORTEDSET, zpopmin)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE)])
            .doc("sorted-set", "5.0.0", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
        Command::new("zpopmax", -2, WRITE | FAST, acl::SORTEDSET, zpopmax)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE)])
            .doc("sorted-set", "5.0.0", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped."),
        Command::new("bzpopmin", -3, WRITE | FAST | BLOCKING, acl::SORTEDSET, bzpopmin)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE).range(-2, 1, 0)])
            .doc("sorted-set", "5.0.0", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "O(log(N)) with N being the number of elements in the sorted set."),
        Command::new("bzpopmax", -3, WRITE | FAST | BLOCKING, acl::SORTEDSET, bzpopmax)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE).range(-2, 1, 0)])
            .doc("sorted-set", "5.0.0", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", "O(log(N)) with N being the number of elements in the sorted set."),
        Command::new("zmpop", -4, WRITE, acl::SORTEDSET, zmpop)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE).keynum(0, 1, 1)])
            .keys_fn(keys_after_numkeys_1)
            .doc("sorted-set", "7.0.0", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", MPOP_COMPLEXITY),
        Command::new("bzmpop", -5, WRITE | BLOCKING, acl::SORTEDSET, bzmpop)
            .key_specs(&[KeySpec::at(2, RW | ACCESS | DELETE).keynum(0, 1, 1)])
            .keys_fn(keys_after_numkeys_2)
            .doc("sorted-set", "7.0.0", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", MPOP_COMPLEXITY),
        Command::new("zrandmember", -2, READONLY, acl::SORTEDSET, zrandmember)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "6.2.0", "Returns one or more random members from a sorted set.", "O(N) where N is the number of members returned"),
        Command::new("zunion", -3, READONLY, acl::SORTEDSET, zunion)
            .key_specs(&[KeySpec::at(1, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(keys_after_numkeys_1)
            .doc("sorted-set", "6.2.0", "Returns the union of multiple sorted sets.", UNION_COMPLEXITY),
        Command::new("zinter", -3, READONLY, acl::SORTEDSET, zinter)
            .key_specs(&[KeySpec::at(1, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(keys_after_numkeys_1)
            .doc("sorted-set", "6.2.0", "Returns the intersect of multiple sorted sets.", INTER_COMPLEXITY),
        Command::new("zintercard", -3, READONLY, acl::SORTEDSET, zintercard)
            .key_specs(&[KeySpec::at(1, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(keys_after_numkeys_1)
            .doc("sorted-set", "7.0.0", "Returns the number of members of the intersect of multiple sorted sets.", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets."),
        Command::new("zdiff", -3, READONLY, acl::SORTEDSET, zdiff)
            .key_specs(&[KeySpec::at(1, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(keys_after_numkeys_1)
            .doc("sorted-set", "6.2.0", "Returns the difference between multiple sorted sets.", DIFF_COMPLEXITY),
        Command::new("zunionstore", -4, WRITE | DENYOOM, acl::SORTEDSET, zunionstore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(keys_store)
            .doc("sorted-set", "2.0.0", "Stores the union of multiple sorted sets in a key.", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set."),
        Command::new("zinterstore", -4, WRITE | DENYOOM, acl::SORTEDSET, zinterstore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(keys_store)
            .doc("sorted-set", "2.0.0", "Stores the intersect of multiple sorted sets in a key.", INTER_COMPLEXITY),
        Command::new("zdiffstore", -4, WRITE | DENYOOM, acl::SORTEDSET, zdiffstore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE), KeySpec::at(2, RO | ACCESS).keynum(0, 1, 1)])
            .keys_fn(keys_store)
            .doc("sorted-set", "6.2.0", "Stores the difference of multiple sorted sets in a key.", DIFF_COMPLEXITY),
        Command::new("zscan", -3, READONLY, acl::SORTEDSET, zscan)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("sorted-set", "2.8.0", "Iterates over members and scores of a sorted set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection."),
    ]
};

const RANGE_LIMIT_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).";
const REMRANGE_COMPLEXITY: &str = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.";
const MPOP_COMPLEXITY: &str = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.";
const UNION_COMPLEXITY: &str = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.";
const INTER_COMPLEXITY: &str = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.";
const DIFF_COMPLEXITY: &str = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.";

const ERR_NAN: &[u8] = b"ERR resulting score is not a number (NaN)";
const ERR_SCORE_RANGE: &[u8] = b"ERR min or max is not a float";
const ERR_LEX_RANGE: &[u8] = b"ERR min or max not valid string range item";
const EMPTY_SCAN: &[u8] = b"*2\r\n$1\r\n0\r\n*0\r\n";

// ---- key extraction --------------------------------------------------------

/// ZUNION/ZINTER/ZINTERCARD/ZDIFF/ZMPOP: `numkeys key...` (Valkey's
/// `zunionInterDiffGetKeys` and `zmpopGetKeys`).
fn keys_after_numkeys_1(args: &Args<'_>) -> Vec<usize> {
    super::numkeys_getkeys(args, None, 1, 2, 1)
}

/// BZMPOP: `timeout numkeys key...`.
fn keys_after_numkeys_2(args: &Args<'_>) -> Vec<usize> {
    super::numkeys_getkeys(args, None, 2, 3, 1)
}

/// Z*STORE: `numkeys key...`, then the destination, only with valid keys
/// (Valkey's `zunionInterDiffStoreGetKeys`).
fn keys_store(args: &Args<'_>) -> Vec<usize> {
    super::numkeys_getkeys(args, Some(1), 2, 3, 1)
}

// ---- helpers ---------------------------------------------------------------

fn cfg(ctx: &Ctx<'_>) -> ZSetConfig {
    ZSetConfig::from_config(&ctx.srv.config)
}

fn resp3(ctx: &Ctx<'_>) -> bool {
    ctx.out.protocol() == Protocol::Resp3
}

fn args_from<'a>(ctx: &Ctx<'a>, from: usize) -> Vec<&'a [u8]> {
    (from..ctx.argc()).map(|i| ctx.arg(i)).collect()
}

fn zset_of(rec: &Record) -> Option<&ZSet> {
    match rec.value() {
        ValueRef::Heap(v) => <ZSet as Typed>::of(v),
        _ => None,
    }
}

fn set_of(rec: &Record) -> Option<&Set> {
    match rec.value() {
        ValueRef::Heap(v) => <Set as Typed>::of(v),
        _ => None,
    }
}

/// Writes one member of a range reply: RESP3 WITHSCORES pairs are nested
/// arrays, RESP2 ones flat.
#[inline]
fn emit(out: &mut Reply, resp3: bool, withscores: bool, m: &[u8], s: f64) {
    if withscores && resp3 {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

/// The header of a reply of `n` members.
#[inline]
fn emit_header(out: &mut Reply, resp3: bool, withscores: bool, n: usize) {
    out.array(if withscores && !resp3 { n * 2 } else { n });
}

// ---- ZADD / ZINCRBY --------------------------------------------------------

fn zadd(ctx: &mut Ctx<'_>) {
    zadd_generic(ctx, false);
}

fn zincrby(ctx: &mut Ctx<'_>) {
    zadd_generic(ctx, true);
}

/// ZADD and ZINCRBY (`zaddGenericCommand`).
fn zadd_generic(ctx: &mut Ctx<'_>, incr: bool) {
    let key = ctx.arg(1);
    let mut flags = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut ch = false;
    let mut idx = 2;
    while idx < ctx.argc() {
        let opt = ctx.arg(idx);
        if is_kw(opt, "nx") {
            flags.nx = true;
        } else if is_kw(opt, "xx") {
            flags.xx = true;
        } else if is_kw(opt, "ch") {
            ch = true;
        } else if is_kw(opt, "incr") {
            flags.incr = true;
        } else if is_kw(opt, "gt") {
            flags.gt = true;
        } else if is_kw(opt, "lt") {
            flags.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = ctx.argc() - idx;
    if elements % 2 == 1 || elements == 0 {
        return ctx.out.error(err::SYNTAX);
    }
    let elements = elements / 2;
    if flags.nx && flags.xx {
        return ctx
            .out
            .error(b"ERR XX and NX options at the same time are not compatible");
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return ctx
            .out
            .error(b"ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && elements > 1 {
        return ctx
            .out
            .error(b"ERR INCR option supports a single increment-element pair");
    }
    // All scores are parsed before anything changes: the command applies
    // fully or not at all.
    let mut pairs: Vec<(f64, &[u8])> = Vec::with_capacity(elements);
    let mut maxlen = 0;
    for j in 0..elements {
        let Some(score) = parse_f64(ctx.arg(idx + 2 * j)) else {
            return ctx.out.error(err::NOT_FLOAT);
        };
        let member = ctx.arg(idx + 2 * j + 1);
        maxlen = maxlen.max(member.len());
        pairs.push((score, member));
    }
    let cfg = cfg(ctx);
    let res = typed::write_or_create::<ZSet, _>(
        ctx,
        key,
        || ZSet::with_hints(elements, maxlen, &cfg),
        |z, out| {
            z.maybe_convert(elements, maxlen, &cfg);
            let (mut added, mut updated, mut processed) = (0usize, 0usize, 0usize);
            let mut score = 0.0;
            for (s, m) in &pairs {
                match z.add(*s, m, flags, &cfg) {
                    AddOutcome::Nan => {
                        out.error(ERR_NAN);
                        return added + updated;
                    }
                    AddOutcome::Nop => {}
                    AddOutcome::Added(v) => {
                        added += 1;
                        processed += 1;
                        score = v;
                    }
                    AddOutcome::Updated(v) => {
                        updated += 1;
                        processed += 1;
                        score = v;
                    }
                    AddOutcome::Same(v) => {
                        processed += 1;
                        score = v;
                    }
                }
            }
            if flags.incr {
                if processed > 0 {
                    out.double(score);
                } else {
                    out.null();
                }
            } else {
                out.integer((if ch { added + updated } else { added }) as i64);
            }
            added + updated
        },
    );
    if let Ok(changed) = res {
        if changed > 0 {
            ctx.modified_n(key, changed);
            ctx.notify(notify::ZSET, if flags.incr { "zincr" } else { "zadd" }, key);
        }
    }
}

// ---- ZREM / ZREMRANGEBY* ---------------------------------------------------

fn zrem(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let members = args_from(ctx, 2);
    let res = typed::write::<ZSet, _>(ctx, key, |z, _| {
        let mut n = 0;
        for m in &members {
            if z.remove(m) {
                n += 1;
            }
            if z.is_empty() {
                break;
            }
        }
        (n, z.is_empty())
    });
    match res {
        Err(()) => {}
        Ok(None) => ctx.out.integer(0),
        Ok(Some((n, gone))) => {
            if n > 0 {
                ctx.notify(notify::ZSET, "zrem", key);
                if gone {
                    ctx.notify(notify::GENERIC, "del", key);
                }
                ctx.modified_n(key, n);
            }
            ctx.out.integer(n as i64);
        }
    }
}

/// A parsed range of one of the three kinds.
enum Span {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// Parses `min max` of the given kind, replying the error if invalid.
fn parse_span(ctx: &mut Ctx<'_>, kind: Kind, min: usize, max: usize) -> Option<Span> {
    match kind {
        Kind::Rank => {
            let a = ctx.arg_i64(min)?;
            let b = ctx.arg_i64(max)?;
            Some(Span::Rank(a, b))
        }
        Kind::Score => match ScoreRange::parse(ctx.arg(min), ctx.arg(max)) {
            Some(r) => Some(Span::Score(r)),
            None => {
                ctx.out.error(ERR_SCORE_RANGE);
                None
            }
        },
        Kind::Lex => match LexRange::parse(ctx.arg(min), ctx.arg(max)) {
            Some(r) => Some(Span::Lex(r)),
            None => {
                ctx.out.error(ERR_LEX_RANGE);
                None
            }
        },
    }
}

/// Start and end of a rank range after Valkey's index sanitizing, or None
/// when it is empty.
fn sanitize_ranks(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    if end >= len {
        end = len - 1;
    }
    Some((start as usize, end as usize))
}

fn zremrangebyrank(ctx: &mut Ctx<'_>) {
    zremrange(ctx, Kind::Rank, "zremrangebyrank");
}

fn zremrangebyscore(ctx: &mut Ctx<'_>) {
    zremrange(ctx, Kind::Score, "zremrangebyscore");
}

fn zremrangebylex(ctx: &mut Ctx<'_>) {
    zremrange(ctx, Kind::Lex, "zremrangebylex");
}

/// `zremrangeGenericCommand`.
fn zremrange(ctx: &mut Ctx<'_>, kind: Kind, event: &str) {
    let key = ctx.arg(1);
    let Some(span) = parse_span(ctx, kind, 2, 3) else {
        return;
    };
    let res = typed::write::<ZSet, _>(ctx, key, |z, _| {
        let (a, b) = match &span {
            Span::Rank(s, e) => match sanitize_ranks(*s, *e, z.len()) {
                Some((s, e)) => (s, e + 1),
                None => (0, 0),
            },
            Span::Score(r) => z.score_span(r),
            Span::Lex(r) => z.lex_span(r),
        };
        (z.remove_rank_range(a, b), z.is_empty())
    });
    match res {
        Err(()) => {}
        Ok(None) => ctx.out.integer(0),
        Ok(Some((n, gone))) => {
            if n > 0 {
                ctx.notify(notify::ZSET, event, key);
                if gone {
                    ctx.notify(notify::GENERIC, "del", key);
                }
                ctx.modified_n(key, n);
            }
            ctx.out.integer(n as i64);
        }
    }
}

// ---- simple reads ----------------------------------------------------------

fn zcard(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    match typed::read::<ZSet, _>(ctx, key, |z, _| z.len()) {
        Err(()) => {}
        Ok(n) => ctx.out.integer(n.unwrap_or(0) as i64),
    }
}

fn zcount(ctx: &mut Ctx<'_>) {
    zcount_generic(ctx, Kind::Score);
}

fn zlexcount(ctx: &mut Ctx<'_>) {
    zcount_generic(ctx, Kind::Lex);
}

fn zcount_generic(ctx: &mut Ctx<'_>, kind: Kind) {
    let key = ctx.arg(1);
    let Some(span) = parse_span(ctx, kind, 2, 3) else {
        return;
    };
    let res = typed::read::<ZSet, _>(ctx, key, |z, _| {
        let (a, b) = match &span {
            Span::Score(r) => z.score_span(r),
            Span::Lex(r) => z.lex_span(r),
            Span::Rank(..) => (0, 0),
        };
        b - a
    });
    if let Ok(n) = res {
        ctx.out.integer(n.unwrap_or(0) as i64);
    }
}

fn zscore(ctx: &mut Ctx<'_>) {
    let (key, member) = (ctx.arg(1), ctx.arg(2));
    match typed::read::<ZSet, _>(ctx, key, |z, _| z.score(member)) {
        Err(()) => {}
        Ok(Some(Some(s))) => ctx.out.double(s),
        Ok(_) => ctx.out.null(),
    }
}

fn zmscore(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let members = args_from(ctx, 2);
    let res = typed::read::<ZSet, _>(ctx, key, |z, out| {
        out.array(members.len());
        for m in &members {
            match z.score(m) {
                Some(s) => out.double(s),
                None => out.null(),
            }
        }
    });
    if let Ok(None) = res {
        // A missing key is an empty sorted set.
        ctx.out.array(members.len());
        for _ in &members {
            ctx.out.null();
        }
    }
}

fn zrank(ctx: &mut Ctx<'_>) {
    zrank_generic(ctx, false);
}

fn zrevrank(ctx: &mut Ctx<'_>) {
    zrank_generic(ctx, true);
}

fn zrank_generic(ctx: &mut Ctx<'_>, reverse: bool) {
    if ctx.argc() > 4 {
        return ctx.wrong_arity();
    }
    let withscore = ctx.argc() > 3;
    if withscore && !is_kw(ctx.arg(3), "withscore") {
        return ctx.out.error(err::SYNTAX);
    }
    let (key, member) = (ctx.arg(1), ctx.arg(2));
    let res = typed::read::<ZSet, _>(ctx, key, |z, _| z.rank(member, reverse));
    match res {
        Err(()) => {}
        Ok(Some(Some((rank, score)))) => {
            if withscore {
                ctx.out.array(2);
            }
            ctx.out.integer(rank as i64);
            if withscore {
                ctx.out.double(score);
            }
        }
        Ok(_) => {
            if withscore {
                ctx.out.null_array();
            } else {
                ctx.out.null();
            }
        }
    }
}

// ---- ZRANGE and friends ----------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Auto,
    Forward,
    Reverse,
}

fn zrange(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, None, Dir::Auto);
}

fn zrangestore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    zrange_generic(ctx, 2, Some(dst), None, Dir::Auto);
}

fn zrevrange(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Some(Kind::Rank), Dir::Reverse);
}

fn zrangebyscore(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Some(Kind::Score), Dir::Forward);
}

fn zrevrangebyscore(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Some(Kind::Score), Dir::Reverse);
}

fn zrangebylex(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Some(Kind::Lex), Dir::Forward);
}

fn zrevrangebylex(ctx: &mut Ctx<'_>) {
    zrange_generic(ctx, 1, None, Some(Kind::Lex), Dir::Reverse);
}

/// The ranks a range query visits: from `from`, `count` of them, towards
/// rank 0 when `reverse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    from: usize,
    count: usize,
    reverse: bool,
}

const EMPTY_WINDOW: Window = Window {
    from: 0,
    count: 0,
    reverse: false,
};

/// Resolves a range against a sorted set: rank ranges are sanitized like
/// `genericZrangebyrankCommand`; score and lex ranges give the span of
/// matching ranks, then LIMIT's offset and count apply from the start (the
/// end when reversed).
fn window(z: &ZSet, span: &Span, reverse: bool, offset: i64, limit: i64) -> Window {
    let len = z.len();
    let (a, b) = match span {
        Span::Rank(s, e) => {
            return match sanitize_ranks(*s, *e, len) {
                None => EMPTY_WINDOW,
                Some((s, e)) => Window {
                    from: if reverse { len - 1 - s } else { s },
                    count: e - s + 1,
                    reverse,
                },
            };
        }
        Span::Score(r) => z.score_span(r),
        Span::Lex(r) => z.lex_span(r),
    };
    // An offset at or past the end, or negative, selects nothing.
    if offset < 0 || (offset > 0 && offset as u64 >= len as u64) {
        return EMPTY_WINDOW;
    }
    let offset = offset as usize;
    let avail = (b - a).saturating_sub(offset);
    let count = if limit < 0 {
        avail
    } else {
        avail.min(limit as usize)
    };
    if count == 0 {
        return EMPTY_WINDOW;
    }
    Window {
        from: if reverse { b - 1 - offset } else { a + offset },
        count,
        reverse,
    }
}

/// Walks a window, calling `f` with each member and score.
fn walk_window(z: &ZSet, w: Window, mut f: impl FnMut(&[u8], f64)) {
    let mut left = w.count;
    if left == 0 {
        return;
    }
    z.walk(w.from, w.reverse, |m, s| {
        f(m, s);
        left -= 1;
        left > 0
    });
}

/// ZRANGE, ZRANGESTORE and the older range commands
/// (`zrangeGenericCommand`): `<src> <min> <max> [BYSCORE|BYLEX] [REV]
/// [WITHSCORES] [LIMIT offset count]` from argument `start`.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    start: usize,
    dst: Option<&[u8]>,
    kind: Option<Kind>,
    mut dir: Dir,
) {
    let key = ctx.arg(start);
    let mut kind = kind;
    let (mut minidx, mut maxidx) = (start + 1, start + 2);
    let mut withscores = false;
    let (mut offset, mut limit) = (0i64, -1i64);
    let mut j = start + 3;
    while j < ctx.argc() {
        let left = ctx.argc() - j - 1;
        let opt = ctx.arg(j);
        if dst.is_none() && is_kw(opt, "withscores") {
            withscores = true;
        } else if is_kw(opt, "limit") && left >= 2 {
            let Some(o) = ctx.arg_i64(j + 1) else { return };
            let Some(l) = ctx.arg_i64(j + 2) else { return };
            (offset, limit) = (o, l);
            j += 2;
        } else if dir == Dir::Auto && is_kw(opt, "rev") {
            dir = Dir::Reverse;
        } else if kind.is_none() && is_kw(opt, "bylex") {
            kind = Some(Kind::Lex);
        } else if kind.is_none() && is_kw(opt, "byscore") {
            kind = Some(Kind::Score);
        } else {
            return ctx.out.error(err::SYNTAX);
        }
        j += 1;
    }
    let kind = kind.unwrap_or(Kind::Rank);
    let reverse = dir == Dir::Reverse;
    // Valkey tells "LIMIT given" by the count not being -1.
    if limit != -1 && kind == Kind::Rank {
        return ctx.out.error(
            b"ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && kind == Kind::Lex {
        return ctx
            .out
            .error(b"ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    }
    if reverse && kind != Kind::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    let Some(span) = parse_span(ctx, kind, minidx, maxidx) else {
        return;
    };
    let resp3 = resp3(ctx);
    match dst {
        None => {
            let res = typed::read::<ZSet, _>(ctx, key, |z, out| {
                let w = window(z, &span, reverse, offset, limit);
                emit_header(out, resp3, withscores, w.count);
                walk_window(z, w, |m, s| emit(out, resp3, withscores, m, s));
            });
            if let Ok(None) = res {
                ctx.out.array(0);
            }
        }
        Some(dst) => {
            let cfg = cfg(ctx);
            let res = typed::read::<ZSet, _>(ctx, key, |z, _| {
                let w = window(z, &span, reverse, offset, limit);
                // zsetTypeCreate with the length when known (rank ranges).
                let hint = if kind == Kind::Rank { w.count } else { 0 };
                let mut out = ZSet::with_hints(hint, 0, &cfg);
                walk_window(z, w, |m, s| {
                    out.add(s, m, AddFlags::default(), &cfg);
                });
                out
            });
            match res {
                Err(()) => {}
                Ok(z) => store_result(ctx, dst, z.unwrap_or_default(), "zrangestore"),
            }
        }
    }
}

/// Stores the result of a …STORE command (replacing the destination, TTL
/// included; an empty result deletes it), notifies `event` (or "del"), and
/// replies the size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], z: ZSet, event: &str) {
    let n = z.len();
    let replaced = typed::store(ctx, dst, z);
    if n > 0 {
        ctx.modified(dst);
        ctx.notify(notify::ZSET, event, dst);
    } else if replaced {
        ctx.modified(dst);
        ctx.notify(notify::GENERIC, "del", dst);
    }
    ctx.out.integer(n as i64);
}

// ---- pops ------------------------------------------------------------------

fn zpopmin(ctx: &mut Ctx<'_>) {
    zpop_minmax(ctx, true);
}

fn zpopmax(ctx: &mut Ctx<'_>) {
    zpop_minmax(ctx, false);
}

/// `ZPOPMIN|ZPOPMAX key [count]`.
fn zpop_minmax(ctx: &mut Ctx<'_>, min: bool) {
    if ctx.argc() > 3 {
        return ctx.out.error(err::SYNTAX);
    }
    let mut count = -1;
    if ctx.argc() == 3 {
        match parse_i64(ctx.arg(2)) {
            Some(c) if c >= 0 => count = c,
            _ => {
                return ctx
                    .out
                    .error(b"ERR value is out of range, must be positive")
            }
        }
    }
    // RESP3 nests the pairs when a count was given.
    let nested = resp3(ctx) && count != -1;
    let key = ctx.arg(1);
    zpop_generic(ctx, &[key], min, false, count, nested, false);
}

/// `genericZpopCommand`: pops from the first existing key of `keys`.
/// `count` -1 is the single-pop form. `emitkey` puts the key name in the
/// reply (BZPOP*, ZMPOP); `nested` makes each pair an array (and, with
/// `emitkey`, the ZMPOP shape); `nil_when_empty` replies a null array
/// instead of an empty one when no key exists.
fn zpop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    min: bool,
    emitkey: bool,
    count: i64,
    nested: bool,
    nil_when_empty: bool,
) {
    let mut found = None;
    for k in keys {
        match typed::check::<ZSet>(ctx, k) {
            Err(()) => return,
            Ok(true) => {
                found = Some(*k);
                break;
            }
            Ok(false) => {}
        }
    }
    let Some(key) = found else {
        if nil_when_empty {
            ctx.out.null_array();
        } else {
            ctx.out.array(0);
        }
        return;
    };
    if count == 0 {
        return ctx.out.array(0);
    }
    let count = if count == -1 { 1 } else { count as u64 };
    let res = typed::write::<ZSet, _>(ctx, key, |z, out| {
        let n = (z.len() as u64).min(count) as usize;
        match (nested, emitkey) {
            (false, false) => out.array(n * 2),
            (true, false) => out.array(n),
            (false, true) => {
                out.array(n * 2 + 1);
                out.bulk(key);
            }
            (true, true) => {
                out.array(2);
                out.bulk(key);
                out.array(n);
            }
        }
        let mut popped = 0;
        for _ in 0..n {
            let Some((m, s)) = z.pop(min) else { break };
            if nested {
                out.array(2);
            }
            out.bulk(&m);
            out.double(s);
            popped += 1;
        }
        (popped, z.is_empty())
    });
    if let Ok(Some((n, gone))) = res {
        if n > 0 {
            ctx.notify(notify::ZSET, if min { "zpopmin" } else { "zpopmax" }, key);
            if gone {
                ctx.notify(notify::GENERIC, "del", key);
            }
            ctx.modified_n(key, n);
            // The blocking and multi-key forms propagate as the plain pop
            // they amounted to, with the count actually popped.
            let pop: &[u8] = if min { b"ZPOPMIN" } else { b"ZPOPMAX" };
            match ctx.cmd.name {
                "zmpop" | "bzmpop" => ctx.propagate_as(&[pop, key, n.to_string().as_bytes()]),
                "bzpopmin" | "bzpopmax" => ctx.propagate_as(&[pop, key]),
                _ => {}
            }
        }
    }
}

fn bzpopmin(ctx: &mut Ctx<'_>) {
    bzpop(ctx, true);
}

fn bzpopmax(ctx: &mut Ctx<'_>) {
    bzpop(ctx, false);
}

/// `BZPOPMIN|BZPOPMAX key [key ...] timeout`.
fn bzpop(ctx: &mut Ctx<'_>, min: bool) {
    let last = ctx.argc() - 1;
    let keys: Vec<&[u8]> = (1..last).map(|i| ctx.arg(i)).collect();
    blocking_zpop(ctx, &keys, min, last, -1, false, false);
}

/// `blockingGenericZpopCommand`: serves from the first non-empty key, or
/// blocks on all of them.
fn blocking_zpop(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    min: bool,
    timeout_idx: usize,
    count: i64,
    nested: bool,
    nil_when_empty: bool,
) {
    let Some(deadline) = ctx.block_timeout(timeout_idx) else {
        return;
    };
    for k in keys {
        match typed::check::<ZSet>(ctx, k) {
            Err(()) => return,
            Ok(false) => {}
            Ok(true) => {
                return zpop_generic(ctx, &[k], min, true, count, nested, nil_when_empty);
            }
        }
    }
    if !ctx.may_block() {
        return ctx.out.null_array();
    }
    ctx.block_for_keys(keys, ObjType::ZSet, deadline, TimeoutReply::NullArray);
}

fn zmpop(ctx: &mut Ctx<'_>) {
    zmpop_generic(ctx, 1, false);
}

fn bzmpop(ctx: &mut Ctx<'_>) {
    zmpop_generic(ctx, 2, true);
}

/// `ZMPOP numkeys key... MIN|MAX [COUNT n]` and BZMPOP with a timeout first.
fn zmpop_generic(ctx: &mut Ctx<'_>, numkeys_idx: usize, block: bool) {
    let numkeys = match parse_i64(ctx.arg(numkeys_idx)) {
        Some(n) if n >= 1 => n as u64,
        _ => return ctx.out.error(b"ERR numkeys should be greater than 0"),
    };
    let where_idx = numkeys.saturating_add(numkeys_idx as u64 + 1);
    if where_idx >= ctx.argc() as u64 {
        return ctx.out.error(err::SYNTAX);
    }
    let where_idx = where_idx as usize;
    let min = if is_kw(ctx.arg(where_idx), "min") {
        true
    } else if is_kw(ctx.arg(where_idx), "max") {
        false
    } else {
        return ctx.out.error(err::SYNTAX);
    };
    let mut count = -1i64;
    let mut j = where_idx + 1;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        if count == -1 && is_kw(ctx.arg(j), "count") && more > 0 {
            j += 1;
            match parse_i64(ctx.arg(j)) {
                Some(c) if c >= 1 => count = c,
                _ => return ctx.out.error(b"ERR count should be greater than 0"),
            }
        } else {
            return ctx.out.error(err::SYNTAX);
        }
        j += 1;
    }
    if count == -1 {
        count = 1;
    }
    let keys: Vec<&[u8]> = (numkeys_idx + 1..where_idx).map(|i| ctx.arg(i)).collect();
    if block {
        blocking_zpop(ctx, &keys, min, 1, count, true, true);
    } else {
        zpop_generic(ctx, &keys, min, true, count, true, true);
    }
}

// ---- ZRANDMEMBER -----------------------------------------------------------

/// Valkey's `ZRANDMEMBER_SUB_STRATEGY_MUL`.
const SUB_STRATEGY_MUL: u64 = 3;

fn zrandmember(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if ctx.argc() >= 3 {
        let Some(l) = ctx.arg_i64(2) else { return };
        if l == i64::MIN {
            return ctx.out.error(
                b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
            );
        }
        if ctx.argc() > 4 || (ctx.argc() == 4 && !is_kw(ctx.arg(3), "withscores")) {
            return ctx.out.error(err::SYNTAX);
        }
        let withscores = ctx.argc() == 4;
        if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
            return ctx.out.error(b"ERR value is out of range");
        }
        return zrandmember_count(ctx, l, withscores);
    }
    let mut rng = ctx.rng();
    match typed::read::<ZSet, _>(ctx, key, |z, _| z.random_pair(&mut rng)) {
        Err(()) => {}
        Ok(Some(Some((m, _)))) => ctx.out.bulk(&m),
        Ok(_) => ctx.out.null(),
    }
}

/// `zrandmemberWithCountCommand`, with its four cases.
fn zrandmember_count(ctx: &mut Ctx<'_>, l: i64, withscores: bool) {
    let key = ctx.arg(1);
    let resp3 = resp3(ctx);
    let mut rng = ctx.rng();
    let res = typed::read::<ZSet, _>(ctx, key, |z, out| {
        let size = z.len() as u64;
        let (count, uniq) = (l.unsigned_abs(), l >= 0);
        if count == 0 {
            return out.array(0);
        }
        // Case 1: repeats allowed (or a single member): independent picks.
        if !uniq || count == 1 {
            out.array(if withscores && !resp3 {
                count.saturating_mul(2) as usize
            } else {
                count as usize
            });
            if z.is_listpack() {
                let all = z.pairs();
                for _ in 0..count {
                    let (m, s) = &all[(rng() % size) as usize];
                    emit(out, resp3, withscores, m, *s);
                }
            } else {
                for _ in 0..count {
                    if let Some((m, s)) = z.random_pair(&mut rng) {
                        emit(out, resp3, withscores, &m, s);
                    }
                }
            }
            return;
        }
        let n = count.min(size) as usize;
        emit_header(out, resp3, withscores, n);
        // Case 2: everything.
        if count >= size {
            z.for_each(|m, s| emit(out, resp3, withscores, m, s));
            return;
        }
        // Case 2.5: a listpack is small; pick members in order, each with
        // the probability of still being needed (selection sampling).
        if z.is_listpack() {
            let mut need = count;
            let mut left = size;
            z.for_each(|m, s| {
                if need > 0 && rng() % left < need {
                    emit(out, resp3, withscores, m, s);
                    need -= 1;
                }
                left -= 1;
            });
            return;
        }
        // Case 3: most of the set: copy it, then drop random members.
        if count * SUB_STRATEGY_MUL > size {
            let mut all = z.pairs();
            while all.len() as u64 > count {
                let i = (rng() % all.len() as u64) as usize;
                all.swap_remove(i);
            }
            for (m, s) in &all {
                emit(out, resp3, withscores, m, *s);
            }
            return;
        }
        // Case 4: few of many: random picks until enough distinct ones.
        let mut seen: HashSet<Vec<u8>> = HashSet::with_capacity(n);
        while (seen.len() as u64) < count {
            let Some((m, s)) = z.random_pair(&mut rng) else {
                break;
            };
            if seen.contains(&m) {
                continue;
            }
            emit(out, resp3, withscores, &m, s);
            seen.insert(m);
        }
    });
    if let Ok(None) = res {
        ctx.out.array(0);
    }
}

// ---- ZSCAN -----------------------------------------------------------------

/// `ZSCAN key cursor [MATCH pattern] [COUNT count] [NOSCORES]`.
fn zscan(ctx: &mut Ctx<'_>) {
    // The cursor is checked before the key, the options only once the key
    // exists and is a sorted set (zscanCommand + scanGenericCommand).
    if parse_ull(ctx.arg(2)).is_none() {
        return ctx.out.error(b"ERR invalid cursor");
    }
    let key = ctx.arg(1);
    match typed::read::<ZSet, _>(ctx, key, |_, _| ()) {
        Err(()) => return,
        Ok(None) => return ctx.out.raw(EMPTY_SCAN),
        Ok(Some(())) => {}
    }
    let Some(opts) = typed::scan_options(ctx, ScanKind::ZSet) else {
        return;
    };
    let db = &ctx.srv.keyspace.dbs[ctx.client.db];
    let Some(rec) = db.peek(key) else {
        return ctx.out.raw(EMPTY_SCAN);
    };
    let Some(z) = zset_of(&rec) else {
        return ctx.out.error(err::WRONGTYPE);
    };
    let mut items: Vec<Vec<u8>> = Vec::new();
    let next = z.scan(opts.cursor, opts.count, |m, s| {
        if !opts.matches(m) {
            return;
        }
        items.push(m.to_vec());
        if !opts.noscores {
            items.push(match s {
                ScanScore::Text(t) => t.to_vec(),
                ScanScore::Double(d) => {
                    let mut v = Vec::with_capacity(24);
                    format_g17(d, &mut v);
                    v
                }
            });
        }
    });
    typed::reply_scan(ctx.out, next, &items);
}

// ---- ZUNION / ZINTER / ZDIFF -----------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// `zunionInterAggregate`: SUM turns inf + -inf (NaN) into 0.
#[inline]
fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// One input of a set operation: a sorted set, a plain set (every member
/// scoring 1), or nothing (a missing key, an empty input).
#[derive(Clone, Copy)]
enum Src<'a> {
    None,
    Z(&'a ZSet),
    S(&'a Set),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::None => 0,
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        match self {
            Src::None => {}
            Src::Z(z) => z.for_each(f),
            Src::S(s) => s.for_each(|m| f(m, 1.0)),
        }
    }

    fn find(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::None => None,
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }
}

fn zunion(ctx: &mut Ctx<'_>) {
    zset_op(ctx, None, 1, SetOp::Union, false);
}

fn zinter(ctx: &mut Ctx<'_>) {
    zset_op(ctx, None, 1, SetOp::Inter, false);
}

fn zintercard(ctx: &mut Ctx<'_>) {
    zset_op(ctx, None, 1, SetOp::Inter, true);
}

fn zdiff(ctx: &mut Ctx<'_>) {
    zset_op(ctx, None, 1, SetOp::Diff, false);
}

fn zunionstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    zset_op(ctx, Some(dst), 2, SetOp::Union, false);
}

fn zinterstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    zset_op(ctx, Some(dst), 2, SetOp::Inter, false);
}

fn zdiffstore(ctx: &mut Ctx<'_>) {
    let dst = ctx.arg(1);
    zset_op(ctx, Some(dst), 2, SetOp::Diff, false);
}

/// `zunionInterDiffGenericCommand`: ZUNION, ZINTER, ZDIFF, their STORE
/// forms and ZINTERCARD (`card_only`).
fn zset_op(ctx: &mut Ctx<'_>, dst: Option<&[u8]>, numkeys_idx: usize, op: SetOp, card_only: bool) {
    let Some(setnum) = ctx.arg_i64(numkeys_idx) else {
        return;
    };
    if setnum < 1 {
        let msg = format!(
            "ERR at least 1 input key is needed for '{}' command",
            ctx.cmd.name
        );
        return ctx.out.error(msg.as_bytes());
    }
    if setnum as u64 > (ctx.argc() - (numkeys_idx + 1)) as u64 {
        return ctx.out.error(err::SYNTAX);
    }
    let setnum = setnum as usize;
    let keys: Vec<&[u8]> = (0..setnum).map(|i| ctx.arg(numkeys_idx + 1 + i)).collect();
    // Read lookups (hits, misses, lazy expiry) and the type check come
    // before the options are parsed.
    for k in &keys {
        let wrong = match ctx.lookup_read(k) {
            None => false,
            Some(rec) => !matches!(rec.obj_type(), ObjType::ZSet | ObjType::Set),
        };
        if wrong {
            return ctx.out.error(err::WRONGTYPE);
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0usize;
    let mut j = numkeys_idx + 1 + setnum;
    while j < ctx.argc() {
        let remaining = ctx.argc() - j;
        let opt = ctx.arg(j);
        if op != SetOp::Diff && !card_only && remaining > setnum && is_kw(opt, "weights") {
            j += 1;
            for w in weights.iter_mut() {
                match parse_f64(ctx.arg(j)) {
                    Some(v) => *w = v,
                    None => return ctx.out.error(b"ERR weight value is not a float"),
                }
                j += 1;
            }
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && is_kw(opt, "aggregate") {
            let a = ctx.arg(j + 1);
            agg = if is_kw(a, "sum") {
                Aggregate::Sum
            } else if is_kw(a, "min") {
                Aggregate::Min
            } else if is_kw(a, "max") {
                Aggregate::Max
            } else {
                return ctx.out.error(err::SYNTAX);
            };
            j += 2;
        } else if remaining >= 1 && dst.is_none() && !card_only && is_kw(opt, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && is_kw(opt, "limit") {
            match parse_i64(ctx.arg(j + 1)) {
                Some(l) if l >= 0 => limit = l as usize,
                _ => return ctx.out.error(b"ERR LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return ctx.out.error(err::SYNTAX);
        }
    }

    let cfg = cfg(ctx);
    let resp3 = resp3(ctx);
    // The result, computed with the inputs borrowed.
    let result: Result<Vec<(Vec<u8>, f64)>, usize> = {
        let db = &ctx.srv.keyspace.dbs[ctx.client.db];
        let recs: Vec<_> = keys.iter().map(|k| db.peek(k)).collect();
        let mut srcs: Vec<(Src<'_>, f64)> = recs
            .iter()
            .zip(&weights)
            .map(|(r, &w)| {
                let src = match r.as_deref() {
                    None => Src::None,
                    Some(rec) => match (zset_of(rec), set_of(rec)) {
                        (Some(z), _) => Src::Z(z),
                        (_, Some(s)) => Src::S(s),
                        _ => Src::None,
                    },
                };
                (src, w)
            })
            .collect();
        if op != SetOp::Diff {
            // Smallest first (a stable sort; Valkey's qsort is not, which
            // only matters to SUM's rounding).
            srcs.sort_by_key(|(s, _)| s.len());
        }
        match op {
            SetOp::Inter => inter(&srcs, agg, card_only, limit),
            SetOp::Union => Ok(union(&srcs, agg)),
            SetOp::Diff => Ok(diff(&srcs)),
        }
    };
    let mut pairs = match result {
        Err(card) => return ctx.out.integer(card as i64),
        Ok(p) => p,
    };
    pairs.sort_by(|a, b| cmp_pair(a.1, &a.0, b.1, &b.0));
    match dst {
        Some(dst) => {
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            let z = build_result(&pairs, &cfg);
            store_result(ctx, dst, z, event);
        }
        None => {
            emit_header(ctx.out, resp3, withscores, pairs.len());
            for (m, s) in &pairs {
                emit(ctx.out, resp3, withscores, m, *s);
            }
        }
    }
}

/// A result built in the skiplist encoding and then converted if it fits
/// (`zsetConvertToListpackIfNeeded`): built directly in the final encoding.
fn build_result(pairs: &[(Vec<u8>, f64)], cfg: &ZSetConfig) -> ZSet {
    let maxlen = pairs.iter().map(|p| p.0.len()).max().unwrap_or(0);
    let total: usize = pairs.iter().map(|p| p.0.len()).sum();
    let mut z = ZSet::new_skiplist(pairs.len());
    for (m, s) in pairs {
        z.add(*s, m, AddFlags::default(), cfg);
    }
    z.convert_to_listpack_if_fits(maxlen, total, cfg);
    z
}

/// Intersection: walks the smallest input, looking members up in the
/// others. Err(count) for ZINTERCARD.
fn inter(
    srcs: &[(Src<'_>, f64)],
    agg: Aggregate,
    card_only: bool,
    limit: usize,
) -> Result<Vec<(Vec<u8>, f64)>, usize> {
    let mut out = Vec::new();
    let mut card = 0usize;
    let Some(&(first, w0)) = srcs.first() else {
        return if card_only { Err(0) } else { Ok(out) };
    };
    let mut done = false;
    first.for_each(|m, s| {
        if done {
            return;
        }
        let mut score = w0 * s;
        if score.is_nan() {
            score = 0.0;
        }
        for &(src, w) in &srcs[1..] {
            match src.find(m) {
                Some(v) => aggregate(&mut score, v * w, agg),
                None => return,
            }
        }
        if card_only {
            card += 1;
            if limit > 0 && card >= limit {
                done = true;
            }
        } else {
            out.push((m.to_vec(), score));
        }
    });
    if card_only {
        Err(card)
    } else {
        Ok(out)
    }
}

/// Union: aggregates every input's weighted scores per member.
fn union(srcs: &[(Src<'_>, f64)], agg: Aggregate) -> Vec<(Vec<u8>, f64)> {
    let cap = srcs.last().map_or(0, |(s, _)| s.len());
    let mut acc: HashMap<Vec<u8>, f64> = HashMap::with_capacity(cap);
    for &(src, w) in srcs {
        src.for_each(|m, s| {
            let mut score = w * s;
            if score.is_nan() {
                score = 0.0;
            }
            match acc.get_mut(m) {
                Some(t) => aggregate(t, score, agg),
                None => {
                    acc.insert(m.to_vec(), score);
                }
            }
        });
    }
    acc.into_iter().collect()
}

/// Difference: members of the first input in none of the others, with
/// their first-input scores (weights do not apply).
fn diff(srcs: &[(Src<'_>, f64)]) -> Vec<(Vec<u8>, f64)> {
    let mut out = Vec::new();
    let Some(&(first, _)) = srcs.first() else {
        return out;
    };
    first.for_each(|m, s| {
        if srcs[1..].iter().all(|(src, _)| src.find(m).is_none()) {
            out.push((m.to_vec(), s));
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(pairs: &[(&str, f64)]) -> ZSet {
        let c = ZSetConfig {
            max_listpack_entries: 128,
            max_listpack_value: 64,
        };
        let mut z = ZSet::new();
        for (m, s) in pairs {
            z.add(*s, m.as_bytes(), AddFlags::default(), &c);
        }
        z
    }

    #[test]
    fn rank_sanitizing_matches_valkey() {
        assert_eq!(sanitize_ranks(0, -1, 3), Some((0, 2)));
        assert_eq!(sanitize_ranks(-10, 1, 3), Some((0, 1)));
        assert_eq!(sanitize_ranks(2, 1, 3), None);
        assert_eq!(sanitize_ranks(3, 5, 3), None);
        assert_eq!(sanitize_ranks(1, 100, 3), Some((1, 2)));
        assert_eq!(sanitize_ranks(0, -4, 3), None);
        assert_eq!(sanitize_ranks(0, 0, 0), None);
    }

    #[test]
    fn windows_apply_limit_and_direction() {
        let s = z(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0), ("e", 5.0)]);
        let r = Span::Score(ScoreRange::parse(b"2", b"4").unwrap_or(ScoreRange {
            min: 0.0,
            max: 0.0,
            minex: false,
            maxex: false,
        }));
        let w = |rev, off, lim| window(&s, &r, rev, off, lim);
        assert_eq!(
            w(false, 0, -1),
            Window {
                from: 1,
                count: 3,
                reverse: false
            }
        );
        assert_eq!(
            w(true, 0, -1),
            Window {
                from: 3,
                count: 3,
                reverse: true
            }
        );
        assert_eq!(
            w(false, 1, 1),
            Window {
                from: 2,
                count: 1,
                reverse: false
            }
        );
        assert_eq!(
            w(true, 2, 5),
            Window {
                from: 1,
                count: 1,
                reverse: true
            }
        );
        assert_eq!(w(false, 3, 5).count, 0);
        assert_eq!(w(false, -1, 5).count, 0);
        assert_eq!(w(false, 5, 5).count, 0);
        assert_eq!(w(false, 0, 0).count, 0);
        let rank = Span::Rank(1, -2);
        assert_eq!(
            window(&s, &rank, true, 0, -1),
            Window {
                from: 3,
                count: 3,
                reverse: true
            }
        );
    }

    #[test]
    fn set_operations() {
        let a = z(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
        let b = z(&[("b", 10.0), ("c", f64::NEG_INFINITY), ("d", 1.0)]);
        let srcs = [(Src::Z(&a), 1.0), (Src::Z(&b), 2.0)];
        let mut u = union(&srcs, Aggregate::Sum);
        u.sort_by(|x, y| cmp_pair(x.1, &x.0, y.1, &y.0));
        assert_eq!(
            u,
            vec![
                (b"c".to_vec(), f64::NEG_INFINITY),
                (b"a".to_vec(), 1.0),
                (b"d".to_vec(), 2.0),
                (b"b".to_vec(), 22.0)
            ]
        );
        let i = inter(&srcs, Aggregate::Max, false, 0).unwrap_or_default();
        assert_eq!(i, vec![(b"b".to_vec(), 20.0), (b"c".to_vec(), 3.0)]);
        assert_eq!(inter(&srcs, Aggregate::Sum, true, 1), Err(1));
        assert_eq!(diff(&srcs), vec![(b"a".to_vec(), 1.0)]);
        let mut t = 1.0;
        aggregate(&mut t, f64::NAN, Aggregate::Min);
        assert_eq!(t, 1.0);
        let mut t = f64::INFINITY;
        aggregate(&mut t, f64::NEG_INFINITY, Aggregate::Sum);
        assert_eq!(t, 0.0);
    }

    #[test]
    fn key_positions() {
        let keys = |f: fn(&Args<'_>) -> Vec<usize>, words: &[&str]| {
            let parts: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            f(&crate::resp::OwnedArgs::from_slices(&parts).as_args())
        };
        let w = ["zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"];
        // Valkey lists the destination after the sources.
        assert_eq!(keys(keys_store, &w), [3, 4, 1]);
        // A count past the arguments finds nothing, not even the
        // destination; atoi reads "01" and " 2x" as numbers.
        assert!(keys(keys_store, &["zunionstore", "d", "3", "a", "b"]).is_empty());
        assert!(keys(keys_store, &["zunionstore", "d", "x", "a"]).is_empty());
        assert_eq!(keys(keys_store, &["zinterstore", "d", "01", "a"]), [3, 1]);
        assert_eq!(
            keys(keys_after_numkeys_1, &["zunion", " 2x", "a", "b"]),
            [2, 3]
        );
        assert_eq!(
            keys(keys_after_numkeys_2, &["bzmpop", "0", "2", "a", "b", "min"]),
            [3, 4]
        );
        assert!(keys(keys_after_numkeys_2, &["bzmpop", "0", "9", "a", "min"]).is_empty());
        assert!(keys(keys_after_numkeys_1, &["zmpop", "x", "a"]).is_empty());
        assert!(keys(keys_after_numkeys_1, &["zmpop", "-1", "a"]).is_empty());
    }
}

/// What blocking and multi-key sorted-set pops reach the AOF as.
#[cfg(test)]
mod propagation_tests {
    use crate::commands::strings::tests::Harness;

    #[test]
    fn pops_propagate_as_zpop() {
        let mut h = Harness::new();
        h.cmd("ZADD z 1 a 2 b 3 c 4 d");
        assert_eq!(h.propagated("BZPOPMIN nokey z 0"), ["ZPOPMIN z"]);
        assert_eq!(h.propagated("BZPOPMAX z 0"), ["ZPOPMAX z"]);
        assert_eq!(h.propagated("ZMPOP 1 z MAX COUNT 5"), ["ZPOPMAX z 2"]);
        h.cmd("ZADD z 1 a");
        assert_eq!(h.propagated("BZMPOP 0 1 z MIN"), ["ZPOPMIN z 1"]);
        h.cmd("ZADD z 1 a");
        assert_eq!(h.propagated("ZPOPMIN z 3"), ["ZPOPMIN z 3"]);
        assert_eq!(h.propagated("ZMPOP 1 z MIN"), Vec::<String>::new());
    }
}
