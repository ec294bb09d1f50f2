//! The stream commands: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XREAD,
//! XREADGROUP, XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO, XSETID.
//!
//! Semantics follow Valkey's `t_stream.c`: the order in which arguments are
//! validated (it decides which error a client sees), the replies for missing
//! keys and groups, consumer-group bookkeeping (last delivered ID, the
//! logical read counter and lag), what counts towards the dirty counter and
//! which keyspace events fire.
//!
//! Blocking reads (XREAD / XREADGROUP with BLOCK) use the generic blocking
//! machinery: a client with nothing to read is parked on its keys and its
//! command runs again, from scratch, when one of them is signalled. Because
//! XADD to an existing stream creates no key, every XADD (and XGROUP
//! DESTROY, which must wake XREADGROUP clients so they fail with NOGROUP)
//! signals its key explicitly.
//!
//! Running the command again from scratch has one trap: `XREAD ... $` means
//! "entries after the last one *now*", and re-resolving `$` after the XADD
//! that woke the client would skip exactly that entry. Valkey rewrites the
//! blocked command's argument to the resolved ID; here the command stays
//! unconsumed in the client's query buffer and cannot be rewritten, so the
//! resolved IDs are remembered per client in `DOLLAR_IDS` when the command
//! blocks, and used instead of `$` while the same client's woken command runs
//! again (`ClientState::reblock_deadline` is Some exactly then). The entry is
//! dropped when the command completes; entries of clients that disconnected
//! while blocked are pruned whenever a new one is stored.

use super::client::reply_subcommand_syntax_error;
use super::strings::{cstr, is_kw};
use super::typed;
use super::{acl, container, err, flags::*, reply_help, Command, Ctx};
use crate::config::notify;
use crate::keyspace::listpack::LpItem;
use crate::keyspace::stream::{
    AppendError, CountUpdate, EntryRef, Group, Nack, NewId, Stream, StreamConfig, StreamId, Trim,
    TrimStrategy, INVALID_ENTRIES_READ,
};
use crate::keyspace::{ObjType, Typed};
use crate::resp::{Args, Protocol, Reply};
use crate::server::blocking::TimeoutReply;
use crate::util::num::{parse_i64, parse_ull};
use std::cell::RefCell;
use std::collections::HashMap;

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("xadd", -5, WRITE | DENYOOM | FAST, acl::STREAM, xadd)
            .tips(&["nondeterministic_output"])
            .key_specs(&[
                KeySpec::at(1, RW | UPDATE)
                    .notes("UPDATE instead of INSERT because of the optional trimming feature"),
            ])
            .doc("stream", "5.0.0", "Appends a new message to a stream. Creates the key if it doesn't exist.", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."),
        Command::new("xrange", -4, READONLY, acl::STREAM, xrange)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs.", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
        Command::new("xrevrange", -4, READONLY, acl::STREAM, xrevrange)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("stream", "5.0.0", "Returns the messages from a stream within a range of IDs in reverse order.", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1)."),
        Command::new("xlen", 2, READONLY | FAST, acl::STREAM, xlen)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("stream", "5.0.0", "Return the number of messages in a stream.", "O(1)"),
        Command::new("xdel", -3, WRITE | FAST, acl::STREAM, xdel)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("stream", "5.0.0", "Returns the number of messages after removing them from a stream.", "O(1) for each single item to delete in the stream, regardless of the stream size."),
        Command::new("xtrim", -4, WRITE, acl::STREAM, xtrim)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("stream", "5.0.0", "Deletes messages from the beginning of a stream.", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation."),
        Command::new("xread", -4, BLOCKING | READONLY, acl::STREAM, xread)
            .key_specs(&[KeySpec::keyword("STREAMS", 1, RO | ACCESS).range(-1, 1, 2)])
            .keys_fn(xread_keys)
            .doc("stream", "5.0.0", "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", ""),
        Command::new("xreadgroup", -7, BLOCKING | WRITE, acl::STREAM, xreadgroup)
            .key_specs(&[KeySpec::keyword("STREAMS", 4, RO | ACCESS).range(-1, 1, 2)])
            .keys_fn(xreadgroup_keys)
            .doc("stream", "5.0.0", "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data."),
        Command::new("xgroup", -2, 0, 0, container)
            .subcommands(XGROUP_SUBCOMMANDS)
            .doc("stream", "5.0.0", "A container for consumer groups commands.", "Depends on subcommand."),
        Command::new("xack", -4, WRITE | FAST, acl::STREAM, xack)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("stream", "5.0.0", "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", "O(1) for each message ID processed."),
        Command::new("xpending", -3, READONLY, acl::STREAM, xpending)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("stream", "5.0.0", "Returns the information and entries from a stream consumer group's pending entries list.", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer."),
        Command::new("xclaim", -6, WRITE | FAST, acl::STREAM, xclaim)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("stream", "5.0.0", "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", "O(log N) with N being the number of messages in the PEL of the consumer group."),
        Command::new("xautoclaim", -6, WRITE | FAST, acl::STREAM, xautoclaim)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("stream", "6.2.0", "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", "O(1) if COUNT is small."),
        Command::new("xinfo", -2, 0, 0, container)
            .subcommands(XINFO_SUBCOMMANDS)
            .doc("stream", "5.0.0", "A container for stream introspection commands.", "Depends on subcommand."),
        Command::new("xsetid", -3, WRITE | DENYOOM | FAST, acl::STREAM, xsetid)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("stream", "5.0.0", "An internal command for replicating stream values.", "O(1)"),
    ]
};

static XGROUP_SUBCOMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("xgroup|create", -5, WRITE | DENYOOM, acl::STREAM, xgroup)
            .key_specs(&[KeySpec::at(2, RW | INSERT)])
            .doc("stream", "5.0.0", "Creates a consumer group.", "O(1)"),
        Command::new(
            "xgroup|createconsumer",
            5,
            WRITE | DENYOOM,
            acl::STREAM,
            xgroup,
        )
        .key_specs(&[KeySpec::at(2, RW | INSERT)])
        .doc(
            "stream",
            "6.2.0",
            "Creates a consumer in a consumer group.",
            "O(1)",
        ),
        Command::new("xgroup|delconsumer", 5, WRITE, acl::STREAM, xgroup)
            .key_specs(&[KeySpec::at(2, RW | DELETE)])
            .doc(
                "stream",
                "5.0.0",
                "Deletes a consumer from a consumer group.",
                "O(1)",
            ),
        Command::new("xgroup|destroy", 4, WRITE, acl::STREAM, xgroup)
            .key_specs(&[KeySpec::at(2, RW | DELETE)])
            .doc(
                "stream",
                "5.0.0",
                "Destroys a consumer group.",
                "O(N) where N is the number of entries in the group's pending entries list (PEL).",
            ),
        Command::new("xgroup|help", 2, LOADING | STALE, acl::STREAM, xgroup).doc(
            "stream",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
        Command::new("xgroup|setid", -5, WRITE, acl::STREAM, xgroup)
            .key_specs(&[KeySpec::at(2, RW | UPDATE)])
            .doc(
                "stream",
                "5.0.0",
                "Sets the last-delivered ID of a consumer group.",
                "O(1)",
            ),
    ]
};

static XINFO_SUBCOMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("xinfo|consumers", 4, READONLY, acl::STREAM, xinfo)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(2, RO | ACCESS)])
            .doc(
                "stream",
                "5.0.0",
                "Returns a list of the consumers in a consumer group.",
                "O(1)",
            ),
        Command::new("xinfo|groups", 3, READONLY, acl::STREAM, xinfo)
            .key_specs(&[KeySpec::at(2, RO | ACCESS)])
            .doc(
                "stream",
                "5.0.0",
                "Returns a list of the consumer groups of a stream.",
                "O(1)",
            ),
        Command::new("xinfo|help", 2, LOADING | STALE, acl::STREAM, xinfo).doc(
            "stream",
            "5.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
        Command::new("xinfo|stream", -3, READONLY, acl::STREAM, xinfo)
            .key_specs(&[KeySpec::at(2, RO | ACCESS)])
            .doc(
                "stream",
                "5.0.0",
                "Returns information about a stream.",
                "O(1)",
            ),
    ]
};

// ---- errors ------------------------------------------------------------------

const ERR_INVALID_ID: &[u8] = b"ERR Invalid stream ID specified as stream command argument";
const ERR_XADD_SMALLER: &[u8] =
    b"ERR The ID specified in XADD is equal or smaller than the target stream top item";
const ERR_XADD_ZERO: &[u8] = b"ERR The ID specified in XADD must be greater than 0-0";
const ERR_XADD_EXHAUSTED: &[u8] =
    b"ERR The stream has exhausted the last possible ID, unable to add more items";
const ERR_TOO_LARGE: &[u8] = b"ERR Elements are too large to be stored";
const ERR_START_INTERVAL: &[u8] = b"ERR invalid start ID for the interval";
const ERR_END_INTERVAL: &[u8] = b"ERR invalid end ID for the interval";
const ERR_XGROUP_NOKEY: &[u8] = b"ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

/// A NOGROUP error naming client-given strings: as C's `%s`, they end at
/// the first NUL.
fn nogroup(out: &mut Reply, parts: &[&[u8]]) {
    let parts: Vec<&[u8]> = parts.iter().map(|p| cstr(p)).collect();
    out.error_parts(&parts);
}

// ---- IDs ---------------------------------------------------------------------

/// Valkey's `streamGenericParseIDOrReply` without the reply: `-` and `+`
/// (unless `strict`), `<ms>-<seq>`, `<ms>` (sequence `missing_seq`) and,
/// when `auto_seq`, `<ms>-*`. Returns the ID and whether the sequence was
/// given (false only for `<ms>-*`).
fn parse_id(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    auto_seq: bool,
) -> Option<(StreamId, bool)> {
    // Valkey copies the argument into a 128-byte buffer first.
    if arg.len() > 127 {
        return None;
    }
    let s = cstr(arg);
    match s {
        b"-" | b"+" if strict => return None,
        b"-" => return Some((StreamId::MIN, true)),
        b"+" => return Some((StreamId::MAX, true)),
        _ => {}
    }
    let (ms, seq) = match s.iter().position(|&b| b == b'-') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let ms = parse_ull(ms)?;
    let (seq, given) = match seq {
        Some(b"*") if auto_seq => (0, false),
        Some(q) => (parse_ull(q)?, true),
        None => (missing_seq, true),
    };
    Some((StreamId::new(ms, seq), given))
}

/// A strict ID (`-` and `+` refused), replying the error when invalid.
fn strict_id(ctx: &mut Ctx<'_>, i: usize, missing_seq: u64) -> Option<StreamId> {
    let r = parse_id(ctx.arg(i), missing_seq, true, false).map(|(id, _)| id);
    if r.is_none() {
        ctx.out.error(ERR_INVALID_ID);
    }
    r
}

/// A range bound: `(` makes it exclusive (then the rest must be a strict
/// ID). Returns the ID and whether it is exclusive, or None after replying.
fn interval_id(ctx: &mut Ctx<'_>, i: usize, missing_seq: u64) -> Option<(StreamId, bool)> {
    let a = ctx.arg(i);
    let exclusive = a.len() > 1 && a[0] == b'(';
    let r = if exclusive {
        parse_id(&a[1..], missing_seq, true, false)
    } else {
        parse_id(a, missing_seq, false, false)
    };
    match r {
        Some((id, _)) => Some((id, exclusive)),
        None => {
            ctx.out.error(ERR_INVALID_ID);
            None
        }
    }
}

/// The inclusive start of a range given by argument `i` (XRANGE, XPENDING,
/// XAUTOCLAIM), replying the error when invalid.
fn range_start(ctx: &mut Ctx<'_>, i: usize) -> Option<StreamId> {
    let (id, ex) = interval_id(ctx, i, 0)?;
    if !ex {
        return Some(id);
    }
    let next = id.next();
    if next.is_none() {
        ctx.out.error(ERR_START_INTERVAL);
    }
    next
}

fn range_end(ctx: &mut Ctx<'_>, i: usize) -> Option<StreamId> {
    let (id, ex) = interval_id(ctx, i, u64::MAX)?;
    if !ex {
        return Some(id);
    }
    let prev = id.prev();
    if prev.is_none() {
        ctx.out.error(ERR_END_INTERVAL);
    }
    prev
}

// ---- replies -------------------------------------------------------------------

fn reply_id(out: &mut Reply, id: StreamId) {
    out.bulk(&id.text());
}

fn reply_item(out: &mut Reply, item: LpItem<'_>) {
    match item {
        LpItem::Int(i) => out.bulk_i64(i),
        LpItem::Str(s) => out.bulk(s),
    }
}

/// `[id, [field, value, ...]]`.
fn reply_entry(out: &mut Reply, e: &EntryRef<'_>) {
    out.array(2);
    reply_id(out, e.id);
    let d = out.defer();
    let mut n = 0;
    for (f, v) in e.fields() {
        reply_item(out, f);
        reply_item(out, v);
        n += 2;
    }
    out.finish_array(d, n);
}

/// The entries of `[start, end]` as an array, at most `count` (0: all).
fn reply_range(
    out: &mut Reply,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) {
    let d = out.defer();
    let mut n = 0;
    for e in s.entries().range(start, end, rev) {
        reply_entry(out, &e);
        n += 1;
        if count > 0 && n == count {
            break;
        }
    }
    out.finish_array(d, n);
}

/// An integer or, for an unknown value, null.
fn reply_opt_int(out: &mut Reply, v: Option<i64>) {
    match v {
        Some(n) => out.integer(n),
        None => out.null(),
    }
}

// ---- key access ------------------------------------------------------------------

/// Like `typed::read` (a read lookup: hit/miss counted, WRONGTYPE replied)
/// but with the stream mutable: XREADGROUP, XACK, XCLAIM look their key up
/// for reading and still change its groups, as Valkey does.
fn read_mut<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut Stream, &mut Reply) -> R,
) -> Result<Option<R>, ()> {
    let (now, touch, db) = (ctx.srv.now, ctx.touches_keys(), ctx.client.db);
    let srv = &mut *ctx.srv;
    let Some(mut rec) = srv.keyspace.dbs[db].get_with(key, now, touch) else {
        srv.stats.keyspace_misses += 1;
        return Ok(None);
    };
    srv.stats.keyspace_hits += 1;
    match rec.heap_mut().and_then(Stream::of_mut) {
        Some(s) => Ok(Some(f(s, ctx.out))),
        None => {
            drop(rec);
            ctx.out.error(err::WRONGTYPE);
            Err(())
        }
    }
}

fn now_ms(ctx: &Ctx<'_>) -> i64 {
    ctx.srv.now.ms
}

/// Counts `n` changes towards the dirty counter without touching WATCH
/// (most consumer-group changes are not `signalModifiedKey` in Valkey).
fn dirty(ctx: &mut Ctx<'_>, n: u64) {
    ctx.srv.dirty += n;
}

// ---- XADD / XTRIM ------------------------------------------------------------------

/// The parsed options of XADD / XTRIM (Valkey's `streamAddTrimArgs`).
struct AddTrimArgs {
    /// XADD: the explicit ID and whether its sequence was given; None for `*`.
    id: Option<(StreamId, bool)>,
    no_mkstream: bool,
    trim: Option<Trim>,
    /// XADD: position of the ID argument.
    id_pos: usize,
    /// Position of the MAXLEN / MINID value (after `~` or `=`), for the
    /// rewrite an approximate trim propagates as.
    trim_arg: usize,
}

/// Valkey's `streamParseAddOrTrimArgsOrReply`. None after replying.
fn parse_add_trim(ctx: &mut Ctx<'_>, xadd: bool) -> Option<AddTrimArgs> {
    let argc = ctx.argc();
    let mut a = AddTrimArgs {
        id: None,
        no_mkstream: false,
        trim: None,
        id_pos: argc,
        trim_arg: 0,
    };
    // The AOF's replay obeys what it reads (Valkey's `mustObeyClient`):
    // approximate trims were rewritten as exact ones, and LIMIT no longer
    // applies.
    let obey = ctx.client.id == crate::persistence::aof::load::AOF_CLIENT_ID;
    let mut strategy: Option<TrimStrategy> = None;
    let mut approx = false;
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = ctx.arg(i);
        if xadd && cstr(opt) == b"*" {
            // The common case of an auto ID.
            break;
        } else if is_kw(opt, "maxlen") && more > 0 {
            if strategy.is_some() {
                ctx.out.error(b"ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return None;
            }
            approx = false;
            let next = cstr(ctx.arg(i + 1));
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let max = ctx.arg_i64(i + 1)?;
            if max < 0 {
                ctx.out.error(b"ERR The MAXLEN argument must be >= 0.");
                return None;
            }
            i += 1;
            a.trim_arg = i;
            strategy = Some(TrimStrategy::MaxLen(max as u64));
        } else if is_kw(opt, "minid") && more > 0 {
            if strategy.is_some() {
                ctx.out.error(b"ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                return None;
            }
            approx = false;
            let next = cstr(ctx.arg(i + 1));
            if more >= 2 && next == b"~" {
                approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let min = strict_id(ctx, i + 1, 0)?;
            i += 1;
            a.trim_arg = i;
            strategy = Some(TrimStrategy::MinId(min));
        } else if is_kw(opt, "limit") && more > 0 {
            limit = ctx.arg_i64(i + 1)?;
            if limit < 0 {
                ctx.out.error(b"ERR The LIMIT argument must be >= 0.");
                return None;
            }
            limit_given = true;
            i += 1;
        } else if xadd && is_kw(opt, "nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            // Not an option: the ID.
            let Some(id) = parse_id(opt, 0, true, true) else {
                ctx.out.error(ERR_INVALID_ID);
                return None;
            };
            a.id = Some(id);
            break;
        } else {
            ctx.out.error(err::SYNTAX);
            return None;
        }
        i += 1;
    }
    a.id_pos = i;
    if limit != 0 && strategy.is_none() {
        ctx.out.error(
            b"ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        );
        return None;
    }
    if !xadd && strategy.is_none() {
        ctx.out
            .error(b"ERR syntax error, XTRIM must be called with a trimming strategy");
        return None;
    }
    let limit = if obey {
        0
    } else if limit_given {
        if !approx {
            ctx.out
                .error(b"ERR syntax error, LIMIT cannot be used without the special ~ option");
            return None;
        }
        limit as u64
    } else if approx {
        // Bounded work for `~` trimming: at most about 100 nodes.
        let l = ctx.srv.config.stream_node_max_entries.saturating_mul(100);
        if l == 0 {
            10_000
        } else {
            l.min(1_000_000)
        }
    } else {
        0
    };
    a.trim = strategy.map(|strategy| Trim {
        strategy,
        approx,
        limit,
    });
    Some(a)
}

fn xadd(ctx: &mut Ctx<'_>) {
    let Some(a) = parse_add_trim(ctx, true) else {
        return;
    };
    let field_pos = a.id_pos + 1;
    let argc = ctx.argc();
    if field_pos > argc || argc - field_pos < 2 || (argc - field_pos) % 2 == 1 {
        ctx.wrong_arity();
        return;
    }
    if let Some((id, true)) = a.id {
        if id.is_zero() {
            ctx.out.error(ERR_XADD_ZERO);
            return;
        }
    }
    let new_id = match a.id {
        None => NewId::Auto,
        Some((id, true)) => NewId::Exact(id),
        Some((id, false)) => NewId::AutoSeq(id.ms),
    };
    let fv: Vec<&[u8]> = (field_pos..argc).map(|i| ctx.arg(i)).collect();
    let cfg = StreamConfig::from_config(&ctx.srv.config);
    let now = now_ms(ctx).max(0) as u64;
    let trim = a.trim;
    let add = |s: &mut Stream, _: &mut Reply| -> Result<(StreamId, u64), &'static [u8]> {
        if s.entries().last_id() == StreamId::MAX {
            return Err(ERR_XADD_EXHAUSTED);
        }
        let id = match s.entries_mut().append(&fv, new_id, cfg, now) {
            Ok(id) => id,
            Err(AppendError::NotGreater) => return Err(ERR_XADD_SMALLER),
            Err(AppendError::TooLarge) => return Err(ERR_TOO_LARGE),
        };
        let trimmed = trim.map_or(0, |t| s.entries_mut().trim(&t));
        Ok((id, trimmed))
    };
    let key = ctx.arg(1);
    let r = if a.no_mkstream {
        match typed::write::<Stream, _>(ctx, key, add) {
            Err(()) => return,
            Ok(None) => {
                ctx.out.null();
                return;
            }
            Ok(Some(r)) => r,
        }
    } else {
        match typed::write_or_create::<Stream, _>(ctx, key, Stream::new, add) {
            Err(()) => return,
            Ok(r) => r,
        }
    };
    let (id, trimmed) = match r {
        Ok(x) => x,
        Err(msg) => {
            ctx.out.error(msg);
            return;
        }
    };
    reply_id(ctx.out, id);
    ctx.notify(notify::STREAM, "xadd", key);
    if trimmed > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
    }
    ctx.modified(key);
    // Propagated with the ID it got (not `*`), and an approximate trim as
    // the exact one it amounted to, so a replay builds the same stream.
    // Only built when something takes it (the executor drops it otherwise).
    let id_given = matches!(a.id, Some((_, true)));
    let approx = trim.is_some_and(|t| t.approx);
    if (!id_given || approx) && crate::persistence::aof::is_on() {
        let exact = if approx {
            exact_trim_value(ctx, key, &trim)
        } else {
            None
        };
        let text = id.text();
        let mut argv: Vec<&[u8]> = (0..ctx.argc()).map(|i| ctx.arg(i)).collect();
        set_exact_trim(&mut argv, a.trim_arg, exact.as_deref());
        if !id_given {
            argv[a.id_pos] = &text;
        }
        ctx.propagate_as(&argv);
    }
    // New data for readers blocked on an existing stream.
    ctx.signal_key_ready(key);
}

fn xtrim(ctx: &mut Ctx<'_>) {
    let Some(a) = parse_add_trim(ctx, false) else {
        return;
    };
    let Some(t) = a.trim else {
        return;
    };
    let key = ctx.arg(1);
    let deleted = match typed::write::<Stream, _>(ctx, key, |s, _| s.entries_mut().trim(&t)) {
        Err(()) => return,
        Ok(None) => 0,
        Ok(Some(n)) => n,
    };
    if deleted > 0 {
        ctx.notify(notify::STREAM, "xtrim", key);
        ctx.modified(key);
        dirty(ctx, deleted - 1);
        if t.approx && crate::persistence::aof::is_on() {
            let exact = exact_trim_value(ctx, key, &Some(t));
            let mut argv: Vec<&[u8]> = (0..ctx.argc()).map(|i| ctx.arg(i)).collect();
            set_exact_trim(&mut argv, a.trim_arg, exact.as_deref());
            ctx.propagate_as(&argv);
        }
    }
    ctx.out.integer(deleted as i64);
}

/// What an approximate `MAXLEN|MINID ~ n` amounted to, for the exact
/// `= n` it propagates as: the stream's length now, or its first ID now
/// (Valkey's `streamRewriteApproxSpecifier` / `streamRewriteTrimArgument`).
fn exact_trim_value(ctx: &Ctx<'_>, key: &[u8], trim: &Option<Trim>) -> Option<Vec<u8>> {
    let t = trim.as_ref()?;
    let db = ctx.client.db;
    ctx.srv.keyspace.dbs[db]
        .peek(key)
        .and_then(|rec| match rec.value() {
            crate::keyspace::ValueRef::Heap(crate::keyspace::Value::Stream(s)) => {
                Some(match t.strategy {
                    TrimStrategy::MaxLen(_) => s.len().to_string(),
                    TrimStrategy::MinId(_) => s
                        .entries()
                        .range(StreamId::MIN, StreamId::MAX, false)
                        .next()
                        .map_or(StreamId::MAX, |e| e.id)
                        .to_string(),
                })
            }
            _ => None,
        })
        .map(String::into_bytes)
}

/// Puts `= exact` in place of the trim's `~ n` (`trim_arg` is n's position).
fn set_exact_trim<'a>(argv: &mut [&'a [u8]], trim_arg: usize, exact: Option<&'a [u8]>) {
    if let Some(v) = exact {
        if trim_arg > 0 && trim_arg < argv.len() {
            argv[trim_arg - 1] = b"=";
            argv[trim_arg] = v;
        }
    }
}

// ---- XRANGE / XREVRANGE / XLEN / XDEL ----------------------------------------------

fn xrange(ctx: &mut Ctx<'_>) {
    xrange_generic(ctx, false);
}

fn xrevrange(ctx: &mut Ctx<'_>) {
    xrange_generic(ctx, true);
}

fn xrange_generic(ctx: &mut Ctx<'_>, rev: bool) {
    let (start_arg, end_arg) = if rev { (3, 2) } else { (2, 3) };
    let Some(start) = range_start(ctx, start_arg) else {
        return;
    };
    let Some(end) = range_end(ctx, end_arg) else {
        return;
    };
    let mut count: i64 = -1;
    let mut j = 4;
    while j < ctx.argc() {
        let more = ctx.argc() - j - 1;
        if is_kw(ctx.arg(j), "COUNT") && more >= 1 {
            let Some(c) = ctx.arg_i64(j + 1) else {
                return;
            };
            count = c.max(0);
            j += 2;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
    }
    let key = ctx.arg(1);
    let r = typed::read::<Stream, _>(ctx, key, |s, out| {
        if count == 0 {
            out.null_array();
        } else {
            reply_range(out, s, start, end, count.max(0) as usize, rev);
        }
    });
    if let Ok(None) = r {
        ctx.out.empty_array();
    }
}

fn xlen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    match typed::read::<Stream, _>(ctx, key, |s, _| s.len()) {
        Err(()) => {}
        Ok(n) => ctx.out.integer(n.unwrap_or(0) as i64),
    }
}

fn xdel(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    // Valkey looks the key up before it validates the IDs.
    match typed::check::<Stream>(ctx, key) {
        Err(()) => return,
        Ok(false) => {
            ctx.out.integer(0);
            return;
        }
        Ok(true) => {}
    }
    let mut ids = Vec::with_capacity(ctx.argc() - 2);
    for j in 2..ctx.argc() {
        let Some(id) = strict_id(ctx, j, 0) else {
            return;
        };
        ids.push(id);
    }
    let deleted = match typed::write::<Stream, _>(ctx, key, |s, _| s.entries_mut().delete(&ids)) {
        Ok(Some(n)) => n,
        _ => return,
    };
    if deleted > 0 {
        ctx.modified(key);
        ctx.notify(notify::STREAM, "xdel", key);
        dirty(ctx, deleted as u64 - 1);
    }
    ctx.out.integer(deleted as i64);
}

// ---- XREAD / XREADGROUP ------------------------------------------------------------

thread_local! {
    /// Client id -> the IDs an XREAD that blocked resolved for its streams
    /// (see the module docs: `$` must keep meaning "after the last entry
    /// when the command first ran").
    static DOLLAR_IDS: RefCell<HashMap<u64, Vec<StreamId>>> = RefCell::new(HashMap::new());
}

/// Keys of XREAD / XREADGROUP: the first half of the arguments after the
/// first STREAMS keyword searched from `from`.
fn stream_keys(args: &Args<'_>, from: usize) -> Vec<usize> {
    let Some(pos) = (from..args.len()).find(|&i| args.get(i).eq_ignore_ascii_case(b"STREAMS"))
    else {
        return Vec::new();
    };
    let n = (args.len() - pos - 1) / 2;
    (pos + 1..pos + 1 + n).collect()
}

fn xread_keys(args: &Args<'_>) -> Vec<usize> {
    stream_keys(args, 1)
}

fn xreadgroup_keys(args: &Args<'_>) -> Vec<usize> {
    stream_keys(args, 4)
}

fn xread(ctx: &mut Ctx<'_>) {
    xread_generic(ctx, false);
}

fn xreadgroup(ctx: &mut Ctx<'_>) {
    xread_generic(ctx, true);
}

/// The timeout of BLOCK, in milliseconds (Valkey's `getTimeoutFromObjectOrReply`
/// with `UNIT_MILLISECONDS`): the absolute deadline, 0 for none.
fn block_ms(ctx: &mut Ctx<'_>, i: usize) -> Option<i64> {
    let Some(ms) = parse_i64(ctx.arg(i)) else {
        ctx.out
            .error(b"ERR timeout is not an integer or out of range");
        return None;
    };
    if ms < 0 {
        ctx.out.error(b"ERR timeout is negative");
        return None;
    }
    if ms == 0 {
        return Some(0);
    }
    let now = now_ms(ctx);
    if ms > i64::MAX - now {
        ctx.out.error(b"ERR timeout is out of range");
        return None;
    }
    Some(now + ms)
}

/// What the ID lookup phase learned of one stream key.
#[derive(Clone, Copy)]
struct KeyInfo {
    last_id: StreamId,
    has_group: bool,
}

fn xread_generic(ctx: &mut Ctx<'_>, group_mode: bool) {
    let argc = ctx.argc();
    let mut deadline: Option<i64> = None;
    let mut count: usize = 0;
    let mut streams_arg = 0;
    let mut n = 0;
    let mut group: Option<(&[u8], &[u8])> = None;
    let mut noack = false;
    let mut i = 1;
    while i < argc {
        let more = argc - i - 1;
        let o = ctx.arg(i);
        if is_kw(o, "BLOCK") && more > 0 {
            i += 1;
            deadline = Some(match block_ms(ctx, i) {
                Some(d) => d,
                None => return,
            });
        } else if is_kw(o, "COUNT") && more > 0 {
            i += 1;
            let Some(c) = ctx.arg_i64(i) else {
                return;
            };
            count = c.max(0) as usize;
        } else if is_kw(o, "STREAMS") && more > 0 {
            streams_arg = i + 1;
            let rest = argc - streams_arg;
            if !rest.is_multiple_of(2) {
                let (name, sym) = if group_mode {
                    ("xreadgroup", '>')
                } else {
                    ("xread", '$')
                };
                let msg = format!(
                    "ERR Unbalanced '{name}' list of streams: for each stream key an ID or '{sym}' must be specified."
                );
                ctx.out.error(msg.as_bytes());
                return;
            }
            n = rest / 2;
            break;
        } else if is_kw(o, "GROUP") && more >= 2 {
            if !group_mode {
                ctx.out.error(b"ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            group = Some((ctx.arg(i + 1), ctx.arg(i + 2)));
            i += 2;
        } else if is_kw(o, "NOACK") {
            if !group_mode {
                ctx.out.error(b"ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            noack = true;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
        i += 1;
    }
    if streams_arg == 0 {
        ctx.out.error(err::SYNTAX);
        return;
    }
    if group_mode && group.is_none() {
        ctx.out.error(b"ERR Missing GROUP option for XREADGROUP");
        return;
    }

    // A woken command running again reuses what `$` meant when it blocked.
    let rerun = ctx.client.reblock_deadline.is_some();
    let client_id = ctx.client.id;
    let remembered: Option<Vec<StreamId>> = if rerun {
        DOLLAR_IDS.with(|m| m.borrow().get(&client_id).cloned())
    } else {
        None
    };

    // Resolve the IDs (and check types and groups) in argument order.
    let mut ids = Vec::with_capacity(n);
    for k in 0..n {
        let key = ctx.arg(streams_arg + k);
        let idarg = ctx.arg(streams_arg + n + k);
        let gname = group.map(|g| g.0);
        let info = match typed::read::<Stream, _>(ctx, key, |s, _| KeyInfo {
            last_id: s.entries().last_id(),
            has_group: gname.is_some_and(|g| s.group(g).is_some()),
        }) {
            Err(()) => return,
            Ok(i) => i,
        };
        if let Some((g, _)) = group {
            if !info.is_some_and(|i| i.has_group) {
                nogroup(
                    ctx.out,
                    &[
                        b"NOGROUP No such key '",
                        key,
                        b"' or consumer group '",
                        g,
                        b"' in XREADGROUP with GROUP option",
                    ],
                );
                return;
            }
        }
        let id = match cstr(idarg) {
            b"$" => {
                if group_mode {
                    ctx.out.error(b"ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                    return;
                }
                match remembered.as_ref().and_then(|r| r.get(k)) {
                    Some(&id) => id,
                    None => info.map_or(StreamId::MIN, |i| i.last_id),
                }
            }
            b"+" => {
                if group_mode {
                    ctx.out.error(b"ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.");
                    return;
                }
                match info {
                    Some(i) => match i.last_id.prev() {
                        Some(id) => id,
                        None => {
                            ctx.out.error(b"ERR the stream last element ID is 0-0");
                            return;
                        }
                    },
                    None => StreamId::MIN,
                }
            }
            b">" => {
                if !group_mode {
                    ctx.out.error(b"ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
                    return;
                }
                // The maximal ID marks `>`: new entries for the group.
                StreamId::MAX
            }
            _ => match parse_id(idarg, 0, true, false) {
                Some((id, _)) => id,
                None => {
                    ctx.out.error(ERR_INVALID_ID);
                    return;
                }
            },
        };
        ids.push(id);
    }

    // Serve what can be served now.
    let resp3 = ctx.out.protocol() == Protocol::Resp3;
    let now = now_ms(ctx);
    let top = ctx.out.defer();
    let mut served = 0;
    // XREADGROUP never propagates as itself: as the XCLAIMs of what it
    // delivered and the group's new last ID (Valkey's
    // `streamPropagateXCLAIM` / `streamPropagateGroupID`).
    let propagating = group.is_some() && crate::persistence::aof::is_on();
    if group.is_some() {
        ctx.propagate_as(&[]);
    }
    for (k, &gt) in ids.iter().enumerate() {
        let key = ctx.arg(streams_arg + k);
        let r = read_mut(ctx, key, |s, out| {
            let o = serve_one(s, out, key, gt, group, noack, count, now, resp3);
            let props = match group {
                Some((g, c)) if propagating => delivery_props(s, key, g, c, &o, noack),
                _ => Vec::new(),
            };
            (o, props)
        });
        let Ok(Some((outcome, props))) = r else {
            continue;
        };
        for argv in &props {
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            ctx.also_propagate(&refs);
        }
        if outcome.created_consumer {
            dirty(ctx, 1);
            ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
        }
        if outcome.served {
            served += 1;
            if group.is_some() {
                dirty(ctx, 1);
            }
        }
    }
    if served > 0 {
        if resp3 {
            ctx.out.finish_map(top, served);
        } else {
            ctx.out.finish_array(top, served);
        }
        forget_dollar(client_id);
        return;
    }

    if let Some(deadline) = deadline {
        if !ctx.may_block() {
            ctx.out.null_array();
            forget_dollar(client_id);
            return;
        }
        if group_mode {
            forget_dollar(client_id);
        } else {
            let slots = &ctx.srv.client_slots;
            DOLLAR_IDS.with(|m| {
                let mut m = m.borrow_mut();
                m.retain(|id, _| slots.contains_key(id));
                m.insert(client_id, ids.clone());
            });
        }
        let keys: Vec<&[u8]> = (0..n).map(|k| ctx.arg(streams_arg + k)).collect();
        if group_mode {
            ctx.block_for_keys_or_nokey(&keys, ObjType::Stream, deadline, TimeoutReply::NullArray);
        } else {
            ctx.block_for_keys(&keys, ObjType::Stream, deadline, TimeoutReply::NullArray);
        }
        return;
    }
    ctx.out.null_array();
    forget_dollar(client_id);
}

fn forget_dollar(client: u64) {
    DOLLAR_IDS.with(|m| {
        let mut m = m.borrow_mut();
        if !m.is_empty() {
            m.remove(&client);
        }
    });
}

struct Served {
    served: bool,
    created_consumer: bool,
    /// New entries delivered to a group (not history).
    delivered: Vec<StreamId>,
}

/// The XCLAIM an XREADGROUP / XCLAIM / XAUTOCLAIM propagates for one
/// pending entry: idempotent (FORCE, JUSTID), carrying the entry's owner,
/// delivery time and count, and the group's last ID.
fn xclaim_argv(key: &[u8], group: &[u8], g: &Group, id: &[u8], nack: &Nack) -> Vec<Vec<u8>> {
    vec![
        b"XCLAIM".to_vec(),
        key.to_vec(),
        group.to_vec(),
        nack.consumer().to_vec(),
        b"0".to_vec(),
        id.to_vec(),
        b"TIME".to_vec(),
        nack.delivery_time.to_string().into_bytes(),
        b"RETRYCOUNT".to_vec(),
        nack.delivery_count.to_string().into_bytes(),
        b"FORCE".to_vec(),
        b"JUSTID".to_vec(),
        b"LASTID".to_vec(),
        g.last_id.to_string().into_bytes(),
    ]
}

/// `XGROUP SETID key group last-id ENTRIESREAD n`: a group's position.
fn setid_argv(key: &[u8], group: &[u8], g: &Group) -> Vec<Vec<u8>> {
    vec![
        b"XGROUP".to_vec(),
        b"SETID".to_vec(),
        key.to_vec(),
        group.to_vec(),
        g.last_id.to_string().into_bytes(),
        b"ENTRIESREAD".to_vec(),
        g.entries_read.to_string().into_bytes(),
    ]
}

/// What one stream's XREADGROUP delivery propagates as: the consumer's
/// creation (NOACK only: otherwise XCLAIM creates it), an XCLAIM per new
/// pending entry, then XGROUP SETID when the group moved on.
fn delivery_props(
    s: &Stream,
    key: &[u8],
    gname: &[u8],
    cname: &[u8],
    o: &Served,
    noack: bool,
) -> Vec<Vec<Vec<u8>>> {
    let mut props = Vec::new();
    let Some(g) = s.group(gname) else {
        return props;
    };
    if noack && o.created_consumer {
        props.push(vec![
            b"XGROUP".to_vec(),
            b"CREATECONSUMER".to_vec(),
            key.to_vec(),
            gname.to_vec(),
            cname.to_vec(),
        ]);
    }
    if o.delivered.is_empty() {
        return props;
    }
    if !noack {
        for id in &o.delivered {
            if let Some(nack) = g.pel().get(id) {
                // LASTID: the group's last ID when this entry was
                // delivered, which was the entry itself.
                let mut argv = xclaim_argv(key, gname, g, id.to_string().as_bytes(), nack);
                if let Some(last) = argv.last_mut() {
                    *last = id.to_string().into_bytes();
                }
                props.push(argv);
            }
        }
    }
    props.push(setid_argv(key, gname, g));
    props
}

/// Serves one stream of an XREAD / XREADGROUP if it has something for the
/// caller (the serving part of Valkey's `xreadCommand`), writing
/// `[key, entries]` (RESP3: the map pair) when it does.
#[allow(clippy::too_many_arguments)]
fn serve_one(
    s: &mut Stream,
    out: &mut Reply,
    key: &[u8],
    mut gt: StreamId,
    group: Option<(&[u8], &[u8])>,
    noack: bool,
    count: usize,
    now: i64,
    resp3: bool,
) -> Served {
    let mut serve = false;
    let mut history = false;
    let mut created_consumer = false;
    if let Some((gname, cname)) = group {
        let Some(last) = s.group(gname).map(|g| g.last_id) else {
            return Served {
                served: false,
                created_consumer: false,
                delivered: Vec::new(),
            };
        };
        if gt != StreamId::MAX {
            // An explicit ID reads the consumer's own history, at once.
            serve = true;
            history = true;
        } else if s.entries().last_valid_id().is_some_and(|m| m > last) {
            // New entries for the group: served after its last ID.
            serve = true;
            gt = last;
        }
        if let Some(g) = s.groups_mut().get_mut(gname) {
            if g.consumer(cname).is_none() {
                g.create_consumer(cname, now);
                created_consumer = true;
            }
            if let Some(c) = g.consumer_mut(cname) {
                c.seen_time = now;
            }
        }
    } else if !s.entries().is_empty() {
        serve = s.entries().last_valid_id().is_some_and(|m| m > gt);
    }
    if !serve {
        return Served {
            served: false,
            created_consumer,
            delivered: Vec::new(),
        };
    }
    let mut delivered = Vec::new();
    // The range starts after `gt` (wrapping to 0-0 after the last ID, as
    // Valkey's `streamIncrID` leaves it).
    let start = gt.next().unwrap_or(StreamId::MIN);
    if !resp3 {
        out.array(2);
    }
    out.bulk(key);
    let d = out.defer();
    let n = match group {
        Some((gname, cname)) if history => {
            s.read_group_history(gname, cname, start, count, now, |id, e| match e {
                Some(e) => reply_entry(out, e),
                None => {
                    // Pending but deleted meanwhile: the ID and a null.
                    out.array(2);
                    reply_id(out, id);
                    out.null_array();
                }
            })
        }
        Some((gname, cname)) => s.read_group_new(gname, cname, count, noack, now, |e| {
            reply_entry(out, e);
            delivered.push(e.id);
        }),
        None => {
            let mut n = 0;
            for e in s.entries().range(start, StreamId::MAX, false) {
                reply_entry(out, &e);
                n += 1;
                if count > 0 && n == count {
                    break;
                }
            }
            n
        }
    };
    out.finish_array(d, n);
    Served {
        served: true,
        created_consumer,
        delivered,
    }
}

// ---- XGROUP ----------------------------------------------------------------------

fn xgroup(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let sub = ctx.arg(1);
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut exists = false;
    let mut has_group = false;
    let mut last_id = StreamId::MIN;
    if argc >= 4 {
        let create = is_kw(sub, "CREATE");
        let setid = is_kw(sub, "SETID");
        let mut i = 5;
        while i < argc {
            if create && is_kw(ctx.arg(i), "MKSTREAM") {
                mkstream = true;
                i += 1;
            } else if (create || setid) && is_kw(ctx.arg(i), "ENTRIESREAD") && i + 1 < argc {
                let Some(v) = ctx.arg_i64(i + 1) else {
                    return;
                };
                if v < 0 && v != INVALID_ENTRIES_READ {
                    ctx.out
                        .error(b"ERR value for ENTRIESREAD must be positive or -1");
                    return;
                }
                entries_read = v;
                i += 2;
            } else {
                reply_subcommand_syntax_error(ctx);
                return;
            }
        }
        let key = ctx.arg(2);
        let gname = ctx.arg(3);
        match typed::write::<Stream, _>(ctx, key, |s, _| {
            (s.entries().last_id(), s.group(gname).is_some())
        }) {
            Err(()) => return,
            Ok(None) => {}
            Ok(Some((l, g))) => {
                exists = true;
                last_id = l;
                has_group = g;
            }
        }
        if !mkstream {
            if !exists {
                ctx.out.error(ERR_XGROUP_NOKEY);
                return;
            }
            if !has_group && (setid || is_kw(sub, "CREATECONSUMER") || is_kw(sub, "DELCONSUMER")) {
                nogroup(
                    ctx.out,
                    &[
                        b"NOGROUP No such consumer group '",
                        gname,
                        b"' for key name '",
                        key,
                        b"'",
                    ],
                );
                return;
            }
        }
    }

    if argc == 2 && is_kw(sub, "HELP") {
        reply_help(
            ctx.out,
            "xgroup",
            &[
                "CREATE <key> <groupname> <id|$> [option]",
                "    Create a new consumer group. Options are:",
                "    * MKSTREAM",
                "      Create the empty stream if it does not exist.",
                "    * ENTRIESREAD entries_read",
                "      Set the group's entries_read counter (internal use).",
                "CREATECONSUMER <key> <groupname> <consumer>",
                "    Create a new consumer in the specified group.",
                "DELCONSUMER <key> <groupname> <consumer>",
                "    Remove the specified consumer.",
                "DESTROY <key> <groupname>",
                "    Remove the specified group.",
                "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
                "    Set the current group ID and entries_read counter.",
            ],
        );
        return;
    }
    if argc < 4 {
        reply_subcommand_syntax_error(ctx);
        return;
    }
    let key = ctx.arg(2);
    let gname = ctx.arg(3);
    if is_kw(sub, "CREATE") && (5..=8).contains(&argc) {
        let id = if cstr(ctx.arg(4)) == b"$" {
            last_id
        } else {
            let Some(id) = strict_id(ctx, 4, 0) else {
                return;
            };
            id
        };
        if !exists {
            // MKSTREAM, now that the command can no longer fail.
            typed::store(ctx, key, Stream::new());
            let db = ctx.client.db;
            ctx.srv.key_modified(db, key);
        }
        let created = matches!(
            typed::write::<Stream, _>(ctx, key, |s, _| s.create_group(gname, id, entries_read)),
            Ok(Some(true))
        );
        if created {
            ctx.out.ok();
            dirty(ctx, 1);
            ctx.notify(notify::STREAM, "xgroup-create", key);
        } else {
            ctx.out
                .error(b"BUSYGROUP Consumer Group name already exists");
        }
    } else if is_kw(sub, "SETID") && (argc == 5 || argc == 7) {
        let id = if cstr(ctx.arg(4)) == b"$" {
            last_id
        } else {
            match parse_id(ctx.arg(4), 0, false, false) {
                Some((id, _)) => id,
                None => {
                    ctx.out.error(ERR_INVALID_ID);
                    return;
                }
            }
        };
        let _ = typed::write::<Stream, _>(ctx, key, |s, _| {
            if let Some(g) = s.groups_mut().get_mut(gname) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
        });
        ctx.out.ok();
        dirty(ctx, 1);
        ctx.notify(notify::STREAM, "xgroup-setid", key);
    } else if is_kw(sub, "DESTROY") && argc == 4 {
        let destroyed = matches!(
            typed::write::<Stream, _>(ctx, key, |s, _| s.destroy_group(gname)),
            Ok(Some(true))
        );
        if destroyed {
            ctx.out.integer(1);
            dirty(ctx, 1);
            ctx.notify(notify::STREAM, "xgroup-destroy", key);
            // Blocked XREADGROUP clients of the group fail with NOGROUP.
            ctx.signal_key_ready(key);
        } else {
            ctx.out.integer(0);
        }
    } else if is_kw(sub, "CREATECONSUMER") && argc == 5 {
        let cname = ctx.arg(4);
        let now = now_ms(ctx);
        let created = matches!(
            typed::write::<Stream, _>(ctx, key, |s, _| {
                s.groups_mut()
                    .get_mut(gname)
                    .is_some_and(|g| g.create_consumer(cname, now))
            }),
            Ok(Some(true))
        );
        if created {
            dirty(ctx, 1);
            ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
        }
        ctx.out.integer(i64::from(created));
    } else if is_kw(sub, "DELCONSUMER") && argc == 5 {
        let cname = ctx.arg(4);
        let pending = match typed::write::<Stream, _>(ctx, key, |s, _| {
            s.groups_mut()
                .get_mut(gname)
                .and_then(|g| g.delete_consumer(cname))
        }) {
            Ok(Some(p)) => p,
            _ => None,
        };
        if pending.is_some() {
            dirty(ctx, 1);
            ctx.notify(notify::STREAM, "xgroup-delconsumer", key);
        }
        ctx.out.integer(pending.unwrap_or(0) as i64);
    } else {
        reply_subcommand_syntax_error(ctx);
    }
}

// ---- XSETID ------------------------------------------------------------------------

fn xsetid(ctx: &mut Ctx<'_>) {
    let Some(id) = strict_id(ctx, 2, 0) else {
        return;
    };
    let mut entries_added: i64 = -1;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < ctx.argc() {
        let more = ctx.argc() - 1 - i;
        let opt = ctx.arg(i);
        if is_kw(opt, "ENTRIESADDED") && more > 0 {
            let Some(v) = ctx.arg_i64(i + 1) else {
                return;
            };
            if v < 0 {
                ctx.out.error(b"ERR entries_added must be positive");
                return;
            }
            entries_added = v;
            i += 2;
        } else if is_kw(opt, "MAXDELETEDID") && more > 0 {
            let Some(m) = strict_id(ctx, i + 1, 0) else {
                return;
            };
            if id < m {
                ctx.out.error(b"ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            max_xdel = m;
            i += 2;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
    }
    let key = ctx.arg(1);
    let r = typed::write::<Stream, _>(ctx, key, |s, _| -> Result<(), &'static [u8]> {
        let e = s.entries_mut();
        if id < e.max_deleted_id() {
            return Err(
                b"ERR The ID specified in XSETID is smaller than current max_deleted_entry_id",
            );
        }
        if !e.is_empty() {
            if e.last_valid_id().is_some_and(|m| id < m) {
                return Err(
                    b"ERR The ID specified in XSETID is smaller than the target stream top item",
                );
            }
            if entries_added != -1 && e.len() > entries_added as u64 {
                return Err(b"ERR The entries_added specified in XSETID is smaller than the target stream length");
            }
        }
        e.set_meta(
            id,
            (entries_added != -1).then_some(entries_added as u64),
            (!max_xdel.is_zero()).then_some(max_xdel),
        );
        Ok(())
    });
    match r {
        Err(()) => {}
        Ok(None) => ctx.out.error(err::NO_SUCH_KEY),
        Ok(Some(Err(msg))) => ctx.out.error(msg),
        Ok(Some(Ok(()))) => {
            ctx.out.ok();
            dirty(ctx, 1);
            ctx.notify(notify::STREAM, "xsetid", key);
        }
    }
}

// ---- XACK --------------------------------------------------------------------------

fn xack(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let gname = ctx.arg(2);
    // No key or no group: nothing to acknowledge, whatever the IDs.
    let found = match typed::read::<Stream, _>(ctx, key, |s, _| s.group(gname).is_some()) {
        Err(()) => return,
        Ok(f) => f == Some(true),
    };
    if !found {
        ctx.out.integer(0);
        return;
    }
    let mut ids = Vec::with_capacity(ctx.argc() - 3);
    for j in 3..ctx.argc() {
        let Some(id) = strict_id(ctx, j, 0) else {
            return;
        };
        ids.push(id);
    }
    let acked = match typed::write::<Stream, _>(ctx, key, |s, _| {
        let Some(g) = s.groups_mut().get_mut(gname) else {
            return 0;
        };
        ids.iter().filter(|&&id| g.ack(id)).count()
    }) {
        Ok(Some(n)) => n,
        _ => 0,
    };
    dirty(ctx, acked as u64);
    ctx.out.integer(acked as i64);
}

// ---- XPENDING ------------------------------------------------------------------------

fn xpending(ctx: &mut Ctx<'_>) {
    let argc = ctx.argc();
    let justinfo = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        ctx.out.error(err::SYNTAX);
        return;
    }
    let mut start = StreamId::MIN;
    let mut end = StreamId::MAX;
    let mut count: i64 = 0;
    let mut min_idle: i64 = 0;
    let mut consumer: Option<&[u8]> = None;
    if argc >= 6 {
        let mut idx = 3;
        if is_kw(ctx.arg(3), "IDLE") {
            let Some(v) = ctx.arg_i64(4) else {
                return;
            };
            min_idle = v;
            if argc < 8 {
                ctx.out.error(err::SYNTAX);
                return;
            }
            idx += 2;
        }
        let Some(c) = ctx.arg_i64(idx + 2) else {
            return;
        };
        count = c.max(0);
        let Some(s) = range_start(ctx, idx) else {
            return;
        };
        let Some(e) = range_end(ctx, idx + 1) else {
            return;
        };
        start = s;
        end = e;
        if idx + 3 < argc {
            consumer = Some(ctx.arg(idx + 3));
        }
    }
    let key = ctx.arg(1);
    let gname = ctx.arg(2);
    let now = now_ms(ctx);
    let r = typed::read::<Stream, _>(ctx, key, |s, out| {
        let Some(g) = s.group(gname) else {
            return false;
        };
        if justinfo {
            pending_summary(out, g);
        } else {
            pending_range(out, g, start, end, count, min_idle, consumer, now);
        }
        true
    });
    match r {
        Err(()) | Ok(Some(true)) => {}
        Ok(_) => nogroup(
            ctx.out,
            &[
                b"NOGROUP No such key '",
                key,
                b"' or consumer group '",
                gname,
                b"'",
            ],
        ),
    }
}

fn pending_summary(out: &mut Reply, g: &Group) {
    out.array(4);
    out.integer(g.pel().len() as i64);
    let (Some((first, _)), Some((last, _))) = (g.pel().first_key_value(), g.pel().last_key_value())
    else {
        out.null();
        out.null();
        out.null_array();
        return;
    };
    reply_id(out, *first);
    reply_id(out, *last);
    let d = out.defer();
    let mut n = 0;
    for c in g.consumers() {
        if c.pending().is_empty() {
            continue;
        }
        out.array(2);
        out.bulk(c.name());
        out.bulk_i64(c.pending().len() as i64);
        n += 1;
    }
    out.finish_array(d, n);
}

#[allow(clippy::too_many_arguments)]
fn pending_range(
    out: &mut Reply,
    g: &Group,
    start: StreamId,
    end: StreamId,
    mut count: i64,
    min_idle: i64,
    consumer: Option<&[u8]>,
    now: i64,
) {
    let ids: Box<dyn Iterator<Item = StreamId>> = match consumer {
        Some(name) => match g.consumer(name) {
            // An unknown consumer has nothing pending.
            None => {
                out.array(0);
                return;
            }
            Some(c) if start <= end => Box::new(c.pending().range(start..=end).copied()),
            Some(_) => Box::new(std::iter::empty()),
        },
        None if start <= end => Box::new(g.pel().range(start..=end).map(|(k, _)| *k)),
        None => Box::new(std::iter::empty()),
    };
    let d = out.defer();
    let mut n = 0;
    for id in ids {
        if count == 0 {
            break;
        }
        let Some(nack) = g.pel().get(&id) else {
            continue;
        };
        let idle = now - nack.delivery_time;
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        n += 1;
        count -= 1;
        out.array(4);
        reply_id(out, id);
        out.bulk(nack.consumer());
        out.integer(idle.max(0));
        out.integer(nack.delivery_count as i64);
    }
    out.finish_array(d, n);
}

// ---- XCLAIM / XAUTOCLAIM ---------------------------------------------------------------

/// What XCLAIM parsed after its IDs.
struct ClaimArgs {
    ids: Vec<StreamId>,
    min_idle: i64,
    delivery_time: i64,
    retry: Option<u64>,
    force: bool,
    justid: bool,
    last_id: StreamId,
}

/// XCLAIM's arguments, or the error to reply (after the key and group
/// checks, which come first).
fn parse_claim(ctx: &Ctx<'_>, now: i64) -> Result<ClaimArgs, Vec<u8>> {
    let Some(min_idle) = parse_i64(ctx.arg(4)) else {
        return Err(b"ERR Invalid min-idle-time argument for XCLAIM".to_vec());
    };
    let mut a = ClaimArgs {
        ids: Vec::new(),
        min_idle: min_idle.max(0),
        delivery_time: -1,
        retry: None,
        force: false,
        justid: false,
        last_id: StreamId::MIN,
    };
    let argc = ctx.argc();
    let mut j = 5;
    while j < argc {
        match parse_id(ctx.arg(j), 0, true, false) {
            Some((id, _)) => a.ids.push(id),
            None => break,
        }
        j += 1;
    }
    // Whatever does not parse as an ID starts the options.
    while j < argc {
        let more = argc - 1 - j;
        let opt = ctx.arg(j);
        if is_kw(opt, "FORCE") {
            a.force = true;
        } else if is_kw(opt, "JUSTID") {
            a.justid = true;
        } else if is_kw(opt, "IDLE") && more > 0 {
            j += 1;
            let Some(v) = parse_i64(ctx.arg(j)) else {
                return Err(b"ERR Invalid IDLE option argument for XCLAIM".to_vec());
            };
            a.delivery_time = now.wrapping_sub(v);
        } else if is_kw(opt, "TIME") && more > 0 {
            j += 1;
            let Some(v) = parse_i64(ctx.arg(j)) else {
                return Err(b"ERR Invalid TIME option argument for XCLAIM".to_vec());
            };
            a.delivery_time = v;
        } else if is_kw(opt, "RETRYCOUNT") && more > 0 {
            j += 1;
            let Some(v) = parse_i64(ctx.arg(j)) else {
                return Err(b"ERR Invalid RETRYCOUNT option argument for XCLAIM".to_vec());
            };
            // A negative count means "not given", as in Valkey.
            a.retry = u64::try_from(v).ok();
        } else if is_kw(opt, "LASTID") && more > 0 {
            j += 1;
            match parse_id(ctx.arg(j), 0, true, false) {
                Some((id, _)) => a.last_id = id,
                None => return Err(ERR_INVALID_ID.to_vec()),
            }
        } else {
            let mut m = b"ERR Unrecognized XCLAIM option '".to_vec();
            m.extend_from_slice(cstr(opt));
            m.push(b'\'');
            return Err(m);
        }
        j += 1;
    }
    // A bogus delivery time (negative or in the future) becomes now.
    if a.delivery_time < 0 || a.delivery_time > now {
        a.delivery_time = now;
    }
    Ok(a)
}

/// The end of XCLAIM and XAUTOCLAIM: what they propagate (XCLAIMs and
/// XGROUP SETID), the consumer they may have created, dirty, or NOGROUP.
fn finish_claim(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    gname: &[u8],
    props: &[Vec<Vec<u8>>],
    r: Result<Option<Option<(bool, u64)>>, ()>,
) {
    for argv in props {
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        ctx.also_propagate(&refs);
    }
    match r {
        Err(()) => {}
        Ok(Some(Some((created, changes)))) => {
            if created {
                dirty(ctx, 1);
                ctx.notify(notify::STREAM, "xgroup-createconsumer", key);
            }
            dirty(ctx, changes);
        }
        Ok(_) => nogroup(
            ctx.out,
            &[
                b"NOGROUP No such key '",
                key,
                b"' or consumer group '",
                gname,
                b"'",
            ],
        ),
    }
}

fn xclaim(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let gname = ctx.arg(2);
    let cname = ctx.arg(3);
    let now = now_ms(ctx);
    let parsed = parse_claim(ctx, now);
    // Propagated as one XCLAIM per entry it changed (idempotent, with the
    // entry's delivery data), or XGROUP SETID when only LASTID moved.
    let propagating = crate::persistence::aof::is_on();
    ctx.propagate_as(&[]);
    let id_args: Vec<&[u8]> = (5..ctx.argc()).map(|j| ctx.arg(j)).collect();
    let mut props: Vec<Vec<Vec<u8>>> = Vec::new();
    let r = read_mut(ctx, key, |s, out| -> Option<(bool, u64)> {
        s.group(gname)?;
        let a = match &parsed {
            Ok(a) => a,
            Err(msg) => {
                out.error(msg);
                return Some((false, 0));
            }
        };
        let mut changes = 0u64;
        let (entries, groups) = s.parts_mut();
        let g = groups.get_mut(gname)?;
        let mut last_id_moved = false;
        if a.last_id > g.last_id {
            g.last_id = a.last_id;
            last_id_moved = true;
        }
        let created = g.create_consumer(cname, now);
        if let Some(c) = g.consumer_mut(cname) {
            c.seen_time = now;
        }
        let d = out.defer();
        let mut n = 0;
        for (k, &id) in a.ids.iter().enumerate() {
            let id_arg = id_args.get(k).copied().unwrap_or_default();
            let Some(e) = entries.get(id) else {
                // Gone from the stream: drop it from the PEL too.
                if propagating {
                    if let Some(nack) = g.pel().get(&id) {
                        props.push(xclaim_argv(key, gname, g, id_arg, nack));
                    }
                }
                if g.forget(id) {
                    changes += 1;
                    last_id_moved = false;
                }
                continue;
            };
            let update = match a.retry {
                Some(r) => CountUpdate::Set(r),
                None if a.justid => CountUpdate::Keep,
                None => CountUpdate::Increment,
            };
            if !g.claim(id, cname, now, a.min_idle, a.delivery_time, update, a.force) {
                continue;
            }
            if a.justid {
                reply_id(out, id);
            } else {
                reply_entry(out, &e);
            }
            if propagating {
                if let Some(nack) = g.pel().get(&id) {
                    props.push(xclaim_argv(key, gname, g, id_arg, nack));
                }
            }
            n += 1;
            changes += 1;
            last_id_moved = false;
        }
        if last_id_moved {
            changes += 1;
            if propagating {
                props.push(setid_argv(key, gname, g));
            }
        }
        out.finish_array(d, n);
        Some((created, changes))
    });
    finish_claim(ctx, key, gname, &props, r);
}

fn xautoclaim(ctx: &mut Ctx<'_>) {
    let Some(min_idle) = parse_i64(ctx.arg(4)) else {
        ctx.out
            .error(b"ERR Invalid min-idle-time argument for XAUTOCLAIM");
        return;
    };
    let min_idle = min_idle.max(0);
    let Some(start) = range_start(ctx, 5) else {
        return;
    };
    // COUNT is bounded so that the attempts (10 per entry) cannot overflow.
    let max_count = i64::MAX / 16;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        let opt = ctx.arg(j);
        if is_kw(opt, "COUNT") && more > 0 {
            match parse_i64(ctx.arg(j + 1)) {
                Some(c) if (1..=max_count).contains(&c) => count = c,
                _ => {
                    ctx.out.error(b"ERR COUNT must be > 0");
                    return;
                }
            }
            j += 1;
        } else if is_kw(opt, "JUSTID") {
            justid = true;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    let key = ctx.arg(1);
    let gname = ctx.arg(2);
    let cname = ctx.arg(3);
    let now = now_ms(ctx);
    // Propagated as the XCLAIMs of the entries it claimed or dropped.
    let propagating = crate::persistence::aof::is_on();
    ctx.propagate_as(&[]);
    let mut props: Vec<Vec<Vec<u8>>> = Vec::new();
    let r = read_mut(ctx, key, |s, out| -> Option<(bool, u64)> {
        let (entries, groups) = s.parts_mut();
        let g = groups.get_mut(gname)?;
        let created = g.create_consumer(cname, now);
        if let Some(c) = g.consumer_mut(cname) {
            c.seen_time = now;
        }
        let mut changes = 0u64;
        let mut attempts = count.saturating_mul(10);
        let mut left = count;
        let mut deleted = Vec::new();
        let mut claimed = Reply::new(out.protocol());
        let mut n = 0;
        // Where the scan of the PEL goes on; None once past the last ID.
        let mut cur = Some(start);
        while attempts > 0 && left > 0 {
            attempts -= 1;
            let Some(from) = cur else {
                break;
            };
            let Some(id) = g.pel().range(from..).next().map(|(k, _)| *k) else {
                cur = None;
                break;
            };
            cur = id.next();
            let Some(e) = entries.get(id) else {
                if propagating {
                    if let Some(nack) = g.pel().get(&id) {
                        props.push(xclaim_argv(key, gname, g, id.to_string().as_bytes(), nack));
                    }
                }
                g.forget(id);
                changes += 1;
                deleted.push(id);
                left -= 1;
                continue;
            };
            let update = if justid {
                CountUpdate::Keep
            } else {
                CountUpdate::Increment
            };
            if !g.claim(id, cname, now, min_idle, now, update, false) {
                continue;
            }
            if justid {
                reply_id(&mut claimed, id);
            } else {
                reply_entry(&mut claimed, &e);
            }
            if propagating {
                if let Some(nack) = g.pel().get(&id) {
                    props.push(xclaim_argv(key, gname, g, id.to_string().as_bytes(), nack));
                }
            }
            n += 1;
            left -= 1;
            changes += 1;
        }
        // The next pending ID is the cursor of the next call (0-0: done).
        let cursor = cur
            .and_then(|from| g.pel().range(from..).next().map(|(k, _)| *k))
            .unwrap_or(StreamId::MIN);
        out.array(3);
        reply_id(out, cursor);
        out.array(n);
        out.raw(claimed.buf());
        out.array(deleted.len());
        for id in deleted {
            reply_id(out, id);
        }
        Some((created, changes))
    });
    finish_claim(ctx, key, gname, &props, r);
}

// ---- XINFO -------------------------------------------------------------------------

fn xinfo(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1);
    if is_kw(sub, "HELP") {
        reply_help(
            ctx.out,
            "xinfo",
            &[
                "CONSUMERS <key> <groupname>",
                "    Show consumers of <groupname>.",
                "GROUPS <key>",
                "    Show the stream consumer groups.",
                "STREAM <key> [FULL [COUNT <count>]",
                "    Show information about the stream.",
            ],
        );
        return;
    }
    let key = ctx.arg(2);
    let argc = ctx.argc();
    let now = now_ms(ctx);
    // Read the arguments now: the reply closure cannot borrow the context.
    let third = (argc > 3).then(|| ctx.arg(3));
    let opts: Vec<&[u8]> = (3..argc).map(|i| ctx.arg(i)).collect();
    enum Outcome {
        Done,
        NoGroup,
        Syntax,
        NotInteger,
    }
    let r = typed::read::<Stream, _>(ctx, key, |s, out| {
        if is_kw(sub, "CONSUMERS") && argc == 4 {
            let Some(g) = third.and_then(|gname| s.group(gname)) else {
                return Outcome::NoGroup;
            };
            out.array(g.consumer_count());
            for c in g.consumers() {
                let inactive = if c.active_time != -1 {
                    now - c.active_time
                } else {
                    -1
                };
                out.map(4);
                out.bulk(b"name");
                out.bulk(c.name());
                out.bulk(b"pending");
                out.integer(c.pending().len() as i64);
                out.bulk(b"idle");
                out.integer((now - c.seen_time).max(0));
                out.bulk(b"inactive");
                out.integer(inactive);
            }
            Outcome::Done
        } else if is_kw(sub, "GROUPS") && argc == 3 {
            out.array(s.groups().len());
            for (name, g) in s.groups() {
                out.map(6);
                out.bulk(b"name");
                out.bulk(name);
                out.bulk(b"consumers");
                out.integer(g.consumer_count() as i64);
                out.bulk(b"pending");
                out.integer(g.pel().len() as i64);
                out.bulk(b"last-delivered-id");
                reply_id(out, g.last_id);
                out.bulk(b"entries-read");
                reply_opt_int(
                    out,
                    (g.entries_read != INVALID_ENTRIES_READ).then_some(g.entries_read),
                );
                out.bulk(b"lag");
                reply_opt_int(out, s.entries().lag(g));
            }
            Outcome::Done
        } else if is_kw(sub, "STREAM") {
            stream_info(s, out, &opts)
        } else {
            Outcome::Syntax
        }
    });
    fn stream_info(s: &Stream, out: &mut Reply, opts: &[&[u8]]) -> Outcome {
        let mut full = false;
        let mut count: i64 = 10;
        if !opts.is_empty() {
            if (opts.len() != 1 && opts.len() != 3) || !is_kw(opts[0], "full") {
                return Outcome::Syntax;
            }
            full = true;
            if opts.len() == 3 {
                if !is_kw(opts[1], "count") {
                    return Outcome::Syntax;
                }
                let Some(c) = parse_i64(opts[2]) else {
                    return Outcome::NotInteger;
                };
                count = if c < 0 { 10 } else { c };
            }
        }
        let e = s.entries();
        out.map(if full { 9 } else { 10 });
        out.bulk(b"length");
        out.integer(e.len() as i64);
        out.bulk(b"radix-tree-keys");
        out.integer(e.node_count() as i64);
        out.bulk(b"radix-tree-nodes");
        out.integer(e.radix_tree_nodes() as i64);
        out.bulk(b"last-generated-id");
        reply_id(out, e.last_id());
        out.bulk(b"max-deleted-entry-id");
        reply_id(out, e.max_deleted_id());
        out.bulk(b"entries-added");
        out.integer(e.entries_added() as i64);
        out.bulk(b"recorded-first-entry-id");
        reply_id(out, e.first_id());
        if !full {
            out.bulk(b"groups");
            out.integer(s.groups().len() as i64);
            out.bulk(b"first-entry");
            match e.range(StreamId::MIN, StreamId::MAX, false).next() {
                Some(x) => reply_entry(out, &x),
                None => out.null(),
            }
            out.bulk(b"last-entry");
            match e.range(StreamId::MIN, StreamId::MAX, true).next() {
                Some(x) => reply_entry(out, &x),
                None => out.null(),
            }
            return Outcome::Done;
        }
        let count = count as usize;
        out.bulk(b"entries");
        reply_range(out, s, StreamId::MIN, StreamId::MAX, count, false);
        out.bulk(b"groups");
        out.array(s.groups().len());
        let limit = |n: usize| if count == 0 { n } else { n.min(count) };
        for (name, g) in s.groups() {
            out.map(7);
            out.bulk(b"name");
            out.bulk(name);
            out.bulk(b"last-delivered-id");
            reply_id(out, g.last_id);
            out.bulk(b"entries-read");
            reply_opt_int(
                out,
                (g.entries_read != INVALID_ENTRIES_READ).then_some(g.entries_read),
            );
            out.bulk(b"lag");
            reply_opt_int(out, e.lag(g));
            out.bulk(b"pel-count");
            out.integer(g.pel().len() as i64);
            out.bulk(b"pending");
            out.array(limit(g.pel().len()));
            for (id, nack) in g.pel().iter().take(limit(g.pel().len())) {
                out.array(4);
                reply_id(out, *id);
                out.bulk(nack.consumer());
                out.integer(nack.delivery_time);
                out.integer(nack.delivery_count as i64);
            }
            out.bulk(b"consumers");
            out.array(g.consumer_count());
            for c in g.consumers() {
                out.map(5);
                out.bulk(b"name");
                out.bulk(c.name());
                out.bulk(b"seen-time");
                out.integer(c.seen_time);
                out.bulk(b"active-time");
                out.integer(c.active_time);
                out.bulk(b"pel-count");
                out.integer(c.pending().len() as i64);
                out.bulk(b"pending");
                let pend = c.pending();
                out.array(limit(pend.len()));
                for id in pend.iter().take(limit(pend.len())) {
                    let Some(nack) = g.pel().get(id) else {
                        // Cannot happen: the group PEL holds every ID.
                        out.null_array();
                        continue;
                    };
                    out.array(3);
                    reply_id(out, *id);
                    out.integer(nack.delivery_time);
                    out.integer(nack.delivery_count as i64);
                }
            }
        }
        Outcome::Done
    }
    match r {
        Err(()) | Ok(Some(Outcome::Done)) => {}
        Ok(None) => ctx.out.error(err::NO_SUCH_KEY),
        Ok(Some(Outcome::NoGroup)) => nogroup(
            ctx.out,
            &[
                b"NOGROUP No such consumer group '",
                third.unwrap_or(b""),
                b"' for key name '",
                key,
                b"'",
            ],
        ),
        Ok(Some(Outcome::Syntax)) => reply_subcommand_syntax_error(ctx),
        Ok(Some(Outcome::NotInteger)) => ctx.out.error(err::NOT_INTEGER),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_parsing_like_valkey() {
        let p = |s: &str| parse_id(s.as_bytes(), 0, false, false).map(|x| x.0);
        assert_eq!(p("-"), Some(StreamId::MIN));
        assert_eq!(p("+"), Some(StreamId::MAX));
        assert_eq!(p("5"), Some(StreamId::new(5, 0)));
        assert_eq!(p("5-3"), Some(StreamId::new(5, 3)));
        assert_eq!(
            p("18446744073709551615-18446744073709551615"),
            Some(StreamId::MAX)
        );
        assert_eq!(p("18446744073709551616"), None);
        assert_eq!(p("5-"), None);
        assert_eq!(p("-5"), None);
        assert_eq!(p("a-1"), None);
        assert_eq!(p("5-*"), None);
        assert_eq!(p(""), None);
        assert_eq!(
            parse_id(b"5", u64::MAX, false, false),
            Some((StreamId::new(5, u64::MAX), true))
        );
        assert_eq!(parse_id(b"-", 0, true, false), None);
        assert_eq!(
            parse_id(b"7-*", 0, true, true),
            Some((StreamId::new(7, 0), false))
        );
        assert_eq!(parse_id(&[b'1'; 128], 0, false, false), None);
    }

    #[test]
    fn xread_keys_follow_streams() {
        let a = crate::resp::OwnedArgs::from_slices(&[
            b"XREAD", b"COUNT", b"2", b"STREAMS", b"a", b"b", b"0", b"0",
        ]);
        assert_eq!(xread_keys(&a.as_args()), vec![4, 5]);
        let g = crate::resp::OwnedArgs::from_slices(&[
            b"XREADGROUP",
            b"GROUP",
            b"streams",
            b"c",
            b"STREAMS",
            b"k",
            b">",
        ]);
        assert_eq!(xreadgroup_keys(&g.as_args()), vec![5]);
    }
}

/// What stream commands reach the AOF as.
#[cfg(test)]
mod propagation_tests {
    use crate::commands::strings::tests::Harness;

    #[test]
    fn xadd_propagates_its_id_and_exact_trims() {
        let mut h = Harness::new();
        assert_eq!(h.propagated("XADD s 5-1 a 1"), ["XADD s 5-1 a 1"]);
        assert_eq!(h.propagated("XADD s 5-* a 2"), ["XADD s 5-2 a 2"]);
        let got = h.propagated("XADD s * a 3");
        let id = got[0].split(' ').nth(2).unwrap().to_string();
        assert!(id.ends_with("-0") && id != "5-2", "{id}");
        assert_eq!(got, [format!("XADD s {id} a 3")]);
        // Approximate trimming propagates as the exact result.
        assert_eq!(
            h.propagated("XADD s MAXLEN ~ 1 LIMIT 100 9999999999999-1 a 4"),
            ["XADD s MAXLEN = 4 LIMIT 100 9999999999999-1 a 4"]
        );
        assert_eq!(h.propagated("XTRIM s MAXLEN 2"), ["XTRIM s MAXLEN 2"]);
        assert_eq!(h.propagated("XTRIM s MINID ~ 0"), Vec::<String>::new());
        // The one node holds both entries: `~ 1` removes nothing, `~ 0`
        // the whole node.
        assert_eq!(h.propagated("XTRIM s MAXLEN ~ 1"), Vec::<String>::new());
        assert_eq!(h.propagated("XTRIM s MAXLEN ~ 0"), ["XTRIM s MAXLEN = 0"]);
    }

    #[test]
    fn xreadgroup_propagates_claims_and_the_group_position() {
        let mut h = Harness::new();
        h.cmd("XADD s 1-1 f v");
        h.cmd("XADD s 2-1 f v");
        h.cmd("XGROUP CREATE s g 0");
        let got = h.propagated("XREADGROUP GROUP g alice COUNT 5 STREAMS s >");
        let t = h.srv.now.ms;
        assert_eq!(
            got,
            [
                "MULTI".to_string(),
                format!("XCLAIM s g alice 0 1-1 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 1-1"),
                format!("XCLAIM s g alice 0 2-1 TIME {t} RETRYCOUNT 1 FORCE JUSTID LASTID 2-1"),
                "XGROUP SETID s g 2-1 ENTRIESREAD 2".to_string(),
                "EXEC".to_string(),
            ]
        );
        // Nothing new: nothing to propagate.
        assert_eq!(
            h.propagated("XREADGROUP GROUP g alice STREAMS s >"),
            Vec::<String>::new()
        );
        // NOACK: the consumer's creation and the group's position.
        h.cmd("XADD s 3-1 f v");
        assert_eq!(
            h.propagated("XREADGROUP GROUP g bob NOACK STREAMS s >"),
            [
                "MULTI",
                "XGROUP CREATECONSUMER s g bob",
                "XGROUP SETID s g 3-1 ENTRIESREAD 3",
                "EXEC"
            ]
        );
    }

    #[test]
    fn claims_propagate_as_idempotent_xclaims() {
        let mut h = Harness::new();
        h.cmd("XADD s 1-1 f v");
        h.cmd("XADD s 2-1 f v");
        h.cmd("XGROUP CREATE s g 0");
        h.cmd("XREADGROUP GROUP g alice STREAMS s >");
        let got = h.propagated("XCLAIM s g bob 0 1-1 RETRYCOUNT 7");
        let t = h.srv.now.ms;
        assert_eq!(
            got,
            [format!(
                "XCLAIM s g bob 0 1-1 TIME {t} RETRYCOUNT 7 FORCE JUSTID LASTID 2-1"
            )]
        );
        h.cmd("XDEL s 2-1");
        let got = h.propagated("XAUTOCLAIM s g carol 0 0 JUSTID");
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(
            got[1].starts_with("XCLAIM s g carol 0 1-1 TIME "),
            "{got:?}"
        );
        // The deleted entry: claimed away under its old owner.
        assert!(
            got[2].starts_with("XCLAIM s g alice 0 2-1 TIME "),
            "{got:?}"
        );
        // LASTID alone: XGROUP SETID.
        assert_eq!(
            h.propagated("XCLAIM s g bob 0 9-9 LASTID 5-0"),
            ["XGROUP SETID s g 5-0 ENTRIESREAD 2"]
        );
    }
}
