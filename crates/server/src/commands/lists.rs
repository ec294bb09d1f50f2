//! The list commands, following Valkey's `t_list.c`: the order in which
//! arguments and keys are validated (it decides which error a client sees),
//! the RESP2/RESP3 null and empty-array replies, the encoding conversions
//! (done by `keyspace::list`, at the points t_list.c calls them), dirty
//! counting per element, and the keyspace events.
//!
//! Blocking variants serve immediately when they can; otherwise they block
//! the client on their keys (`Ctx::block_for_keys`) and are run again from
//! the start when one of the keys gets a list, or reply their timeout reply
//! inside MULTI where blocking is not allowed.

use super::{acl, err, flags::*, typed, Command, Ctx};
use crate::config::notify::{GENERIC, LIST};
use crate::keyspace::list::{End, List, ListConfig};
use crate::keyspace::listpack::{parse_canonical_int, LpItem};
use crate::keyspace::ObjType;
use crate::resp::{Args, Reply};
use crate::server::blocking::TimeoutReply;
use crate::util::num::parse_i64;

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("lpush", -3, WRITE | DENYOOM | FAST, acl::LIST, lpush)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("list", "1.0.0", "Prepends one or more elements to a list. Creates the key if it doesn't exist.", PUSH_COMPLEXITY),
        Command::new("rpush", -3, WRITE | DENYOOM | FAST, acl::LIST, rpush)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("list", "1.0.0", "Appends one or more elements to a list. Creates the key if it doesn't exist.", PUSH_COMPLEXITY),
        Command::new("lpushx", -3, WRITE | DENYOOM | FAST, acl::LIST, lpushx)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("list", "2.2.0", "Prepends one or more elements to a list only when the list exists.", PUSH_COMPLEXITY),
        Command::new("rpushx", -3, WRITE | DENYOOM | FAST, acl::LIST, rpushx)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("list", "2.2.0", "Appends an element to a list only when the list exists.", PUSH_COMPLEXITY),
        Command::new("lpop", -2, WRITE | FAST, acl::LIST, lpop)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE)])
            .doc("list", "1.0.0", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned"),
        Command::new("rpop", -2, WRITE | FAST, acl::LIST, rpop)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE)])
            .doc("list", "1.0.0", "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", "O(N) where N is the number of elements returned"),
        Command::new("llen", 2, READONLY | FAST, acl::LIST, llen)
            .key_specs(&[KeySpec::at(1, RO)])
            .doc("list", "1.0.0", "Returns the length of a list.", "O(1)"),
        Command::new("lrange", 4, READONLY, acl::LIST, lrange)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("list", "1.0.0", "Returns a range of elements from a list.", "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range."),
        Command::new("lindex", 3, READONLY, acl::LIST, lindex)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("list", "1.0.0", "Returns an element from a list by its index.", "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1)."),
        Command::new("lset", 4, WRITE | DENYOOM, acl::LIST, lset)
            .key_specs(&[KeySpec::at(1, RW | UPDATE)])
            .doc("list", "1.0.0", "Sets the value of an element in a list by its index.", "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1)."),
        Command::new("linsert", 5, WRITE | DENYOOM, acl::LIST, linsert)
            .key_specs(&[KeySpec::at(1, RW | INSERT)])
            .doc("list", "2.2.0", "Inserts an element before or after another element in a list.", "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N)."),
        Command::new("lrem", 4, WRITE, acl::LIST, lrem)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("list", "1.0.0", "Removes elements from a list. Deletes the list if the last element was removed.", "O(N+M) where N is the length of the list and M is the number of elements removed."),
        Command::new("ltrim", 4, WRITE, acl::LIST, ltrim)
            .key_specs(&[KeySpec::at(1, RW | DELETE)])
            .doc("list", "1.0.0", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "O(N) where N is the number of elements to be removed by the operation."),
        Command::new("lpos", -3, READONLY, acl::LIST, lpos)
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc("list", "6.0.6", "Returns the index of matching elements in a list.", "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time."),
        Command::new("lmove", 5, WRITE | DENYOOM, acl::LIST, lmove)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE), KeySpec::at(2, RW | INSERT)])
            .doc("list", "6.2.0", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "O(1)"),
        Command::new("rpoplpush", 3, WRITE | DENYOOM, acl::LIST, rpoplpush)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE), KeySpec::at(2, RW | INSERT)])
            .doc("list", "1.2.0", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "O(1)"),
        Command::new("lmpop", -4, WRITE, acl::LIST, lmpop)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE).keynum(0, 1, 1)])
            .keys_fn(lmpop_keys)
            .doc("list", "7.0.0", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", MPOP_COMPLEXITY),
        Command::new("blpop", -3, WRITE | BLOCKING, acl::LIST, blpop)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE).range(-2, 1, 0)])
            .doc("list", "2.0.0", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys."),
        Command::new("brpop", -3, WRITE | BLOCKING, acl::LIST, brpop)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE).range(-2, 1, 0)])
            .doc("list", "2.0.0", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "O(N) where N is the number of provided keys."),
        Command::new("blmove", 6, WRITE | DENYOOM | BLOCKING, acl::LIST, blmove)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE), KeySpec::at(2, RW | INSERT)])
            .doc("list", "6.2.0", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "O(1)"),
        Command::new("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, acl::LIST, brpoplpush)
            .key_specs(&[KeySpec::at(1, RW | ACCESS | DELETE), KeySpec::at(2, RW | INSERT)])
            .doc("list", "2.2.0", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "O(1)"),
        Command::new("blmpop", -5, WRITE | BLOCKING, acl::LIST, blmpop)
            .key_specs(&[KeySpec::at(2, RW | ACCESS | DELETE).keynum(0, 1, 1)])
            .keys_fn(blmpop_keys)
            .doc("list", "7.0.0", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", MPOP_COMPLEXITY),
    ]
};

const PUSH_COMPLEXITY: &str = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
const MPOP_COMPLEXITY: &str =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";

const ERR_POSITIVE: &[u8] = b"ERR value is out of range, must be positive";
const ERR_INDEX: &[u8] = b"ERR index out of range";
const ERR_RANK_ZERO: &[u8] = b"ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const ERR_LONG_RANGE: &[u8] =
    b"ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

fn cfg(ctx: &Ctx<'_>) -> ListConfig {
    ListConfig::from_config(&ctx.srv.config)
}

/// Valkey's `signalModifiedKey` plus `server.dirty += dirty` (list
/// commands count one per element moved, and LTRIM may count zero).
fn signal(ctx: &mut Ctx<'_>, key: &[u8], dirty: u64) {
    let db = ctx.client.db;
    ctx.srv.key_modified(db, key);
    ctx.srv.dirty += dirty;
}

fn end_event(end: End, push: bool) -> &'static str {
    match (end, push) {
        (End::Head, true) => "lpush",
        (End::Tail, true) => "rpush",
        (End::Head, false) => "lpop",
        (End::Tail, false) => "rpop",
    }
}

/// One element as a bulk string.
#[inline]
fn reply_item(out: &mut Reply, it: LpItem<'_>) {
    match it {
        LpItem::Int(i) => out.bulk_i64(i),
        LpItem::Str(s) => out.bulk(s),
    }
}

/// Replies `n` elements from index `start` on (towards the head when
/// `reverse`) as an array.
fn reply_walk(l: &List, start: usize, n: usize, reverse: bool, out: &mut Reply) {
    out.array(n);
    let mut left = n;
    if left == 0 {
        return;
    }
    l.walk(start, reverse, |it| {
        reply_item(out, it);
        left -= 1;
        left > 0
    });
}

/// Valkey's `addListRangeReply` for LRANGE: indexes may be negative and
/// are clamped; an empty range is an empty array.
fn reply_range(l: &List, start: i64, end: i64, out: &mut Reply) {
    let llen = l.len() as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        out.empty_array();
        return;
    }
    if end >= llen {
        end = llen - 1;
    }
    reply_walk(l, start as usize, (end - start + 1) as usize, false, out);
}

/// Pops up to `count` elements from `end`, replying them as an array in
/// pop order. Returns how many went.
fn pop_range(l: &mut List, end: End, count: usize, out: &mut Reply) -> usize {
    let len = l.len();
    let n = count.min(len);
    match end {
        End::Head => {
            reply_walk(l, 0, n, false, out);
            l.delete_range(0, n);
        }
        End::Tail => {
            reply_walk(l, len.saturating_sub(1), n, true, out);
            l.delete_range(len - n, n);
        }
    }
    n
}

/// What the "elements removed" bookkeeping (Valkey's
/// `listElementsRemoved`) needs after a pop: the pop event, the deletion
/// event if the list went away, the modified signal and `n` dirty.
fn popped(ctx: &mut Ctx<'_>, key: &[u8], end: End, n: usize, emptied: bool) {
    ctx.notify(LIST, end_event(end, false), key);
    if emptied {
        ctx.notify(GENERIC, "del", key);
    }
    signal(ctx, key, n as u64);
}

/// `LEFT` / `RIGHT`, or None after replying a syntax error.
fn parse_end(ctx: &mut Ctx<'_>, i: usize) -> Option<End> {
    let a = ctx.arg(i);
    if a.eq_ignore_ascii_case(b"left") {
        Some(End::Head)
    } else if a.eq_ignore_ascii_case(b"right") {
        Some(End::Tail)
    } else {
        ctx.out.error(err::SYNTAX);
        None
    }
}

// ---- pushes ----------------------------------------------------------------

fn push_generic(ctx: &mut Ctx<'_>, end: End, only_existing: bool) {
    let key = ctx.arg(1);
    let cfg = cfg(ctx);
    // A copy of the argument view (it borrows the query buffer, not ctx).
    let args = ctx.args;
    let pushed = args.len() - 2;
    let push = |l: &mut List, _: &mut Reply| {
        l.push_all(end, (2..args.len()).map(|i| args.get(i)), &cfg);
        l.len()
    };
    let len = if only_existing {
        match typed::write::<List, _>(ctx, key, push) {
            Err(()) => return,
            Ok(None) => {
                ctx.out.integer(0);
                return;
            }
            Ok(Some(n)) => n,
        }
    } else {
        match typed::write_or_create(ctx, key, List::new, push) {
            Err(()) => return,
            Ok(n) => n,
        }
    };
    ctx.out.integer(len as i64);
    signal(ctx, key, pushed as u64);
    ctx.notify(LIST, end_event(end, true), key);
}

fn lpush(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Head, false);
}

fn rpush(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Tail, false);
}

fn lpushx(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Head, true);
}

fn rpushx(ctx: &mut Ctx<'_>) {
    push_generic(ctx, End::Tail, true);
}

// ---- pops --------------------------------------------------------------------

fn pop_generic(ctx: &mut Ctx<'_>, end: End) {
    if ctx.argc() > 3 {
        ctx.wrong_arity();
        return;
    }
    let count = if ctx.argc() == 3 {
        // getPositiveLongFromObjectOrReply: non-numbers get the same error.
        match parse_i64(ctx.arg(2)) {
            Some(c) if c >= 0 => Some(c as usize),
            _ => {
                ctx.out.error(ERR_POSITIVE);
                return;
            }
        }
    } else {
        None
    };
    let key = ctx.arg(1);
    let cfg = cfg(ctx);
    let r = typed::write::<List, _>(ctx, key, |l, out| {
        let n = match count {
            // The key is looked up before COUNT 0 gets its empty array.
            Some(0) => {
                out.empty_array();
                return None;
            }
            Some(c) => pop_range(l, end, c, out),
            None => {
                let v = l.pop(end)?;
                out.bulk(&v);
                1
            }
        };
        l.shrink(&cfg);
        Some((n, l.is_empty()))
    });
    match r {
        Err(()) | Ok(Some(None)) => {}
        Ok(None) => {
            if count.is_some() {
                ctx.out.null_array();
            } else {
                ctx.out.null();
            }
        }
        Ok(Some(Some((n, emptied)))) => popped(ctx, key, end, n, emptied),
    }
}

fn lpop(ctx: &mut Ctx<'_>) {
    pop_generic(ctx, End::Head);
}

fn rpop(ctx: &mut Ctx<'_>) {
    pop_generic(ctx, End::Tail);
}

// ---- reads ---------------------------------------------------------------------

fn llen(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    if let Ok(n) = typed::read::<List, _>(ctx, key, |l, _| l.len()) {
        ctx.out.integer(n.unwrap_or(0) as i64);
    }
}

fn lrange(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.arg_i64(2) else {
        return;
    };
    let Some(end) = ctx.arg_i64(3) else {
        return;
    };
    let key = ctx.arg(1);
    if let Ok(None) = typed::read::<List, _>(ctx, key, |l, out| reply_range(l, start, end, out)) {
        ctx.out.empty_array();
    }
}

fn lindex(ctx: &mut Ctx<'_>) {
    let (key, index) = (ctx.arg(1), ctx.arg(2));
    // The key and its type are checked before the index is parsed.
    let r = typed::read::<List, _>(ctx, key, |l, out| {
        let Some(i) = parse_i64(index) else {
            out.error(err::NOT_INTEGER);
            return;
        };
        if l.with_index(i, |it| reply_item(out, it)).is_none() {
            out.null();
        }
    });
    if let Ok(None) = r {
        ctx.out.null();
    }
}

fn lpos(ctx: &mut Ctx<'_>) {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut j = 3;
    while j < ctx.argc() {
        let opt = ctx.arg(j);
        let more = j + 1 < ctx.argc();
        if opt.eq_ignore_ascii_case(b"RANK") && more {
            j += 1;
            let Some(r) = ctx.arg_i64(j) else {
                return;
            };
            if r == i64::MIN {
                ctx.out.error(ERR_LONG_RANGE);
                return;
            }
            if r == 0 {
                ctx.out.error(ERR_RANK_ZERO);
                return;
            }
            rank = r;
        } else if opt.eq_ignore_ascii_case(b"COUNT") && more {
            j += 1;
            match parse_i64(ctx.arg(j)) {
                Some(c) if c >= 0 => count = Some(c as usize),
                _ => {
                    ctx.out.error(b"ERR COUNT can't be negative");
                    return;
                }
            }
        } else if opt.eq_ignore_ascii_case(b"MAXLEN") && more {
            j += 1;
            match parse_i64(ctx.arg(j)) {
                Some(m) if m >= 0 => maxlen = m as usize,
                _ => {
                    ctx.out.error(b"ERR MAXLEN can't be negative");
                    return;
                }
            }
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    let reverse = rank < 0;
    let rank = rank.unsigned_abs();
    let (key, ele) = (ctx.arg(1), ctx.arg(2));
    let ele_int = parse_canonical_int(ele);
    let r = typed::read::<List, _>(ctx, key, |l, out| {
        let llen = l.len();
        let (mut index, mut matches) = (0usize, 0u64);
        let mut found: Vec<usize> = Vec::new();
        let start = if reverse { llen.saturating_sub(1) } else { 0 };
        l.walk(start, reverse, |it| {
            if maxlen != 0 && index >= maxlen {
                return false;
            }
            let hit = match it {
                LpItem::Int(i) => ele_int == Some(i),
                LpItem::Str(s) => s == ele,
            };
            if hit {
                matches += 1;
                if matches >= rank {
                    found.push(if reverse { llen - index - 1 } else { index });
                    match count {
                        None => return false,
                        Some(c) if c != 0 && found.len() >= c => return false,
                        _ => {}
                    }
                }
            }
            index += 1;
            true
        });
        match count {
            Some(_) => {
                out.array(found.len());
                for i in found {
                    out.integer(i as i64);
                }
            }
            None => match found.first() {
                Some(&i) => out.integer(i as i64),
                None => out.null(),
            },
        }
    });
    if let Ok(None) = r {
        if count.is_some() {
            ctx.out.empty_array();
        } else {
            ctx.out.null();
        }
    }
}

// ---- in-place changes -------------------------------------------------------------

fn lset(ctx: &mut Ctx<'_>) {
    let (key, index, v) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let cfg = cfg(ctx);
    let r = typed::write::<List, _>(ctx, key, |l, out| {
        let Some(i) = parse_i64(index) else {
            out.error(err::NOT_INTEGER);
            return false;
        };
        if l.set(i, v, &cfg) {
            out.ok();
            true
        } else {
            out.error(ERR_INDEX);
            false
        }
    });
    match r {
        Ok(None) => ctx.out.error(err::NO_SUCH_KEY),
        Ok(Some(true)) => {
            signal(ctx, key, 1);
            ctx.notify(LIST, "lset", key);
        }
        _ => {}
    }
}

fn linsert(ctx: &mut Ctx<'_>) {
    let w = ctx.arg(2);
    let after = if w.eq_ignore_ascii_case(b"after") {
        true
    } else if w.eq_ignore_ascii_case(b"before") {
        false
    } else {
        ctx.out.error(err::SYNTAX);
        return;
    };
    let (key, pivot, v) = (ctx.arg(1), ctx.arg(3), ctx.arg(4));
    let cfg = cfg(ctx);
    let r = typed::write::<List, _>(ctx, key, |l, _| {
        l.insert(pivot, v, after, &cfg).then(|| l.len())
    });
    match r {
        Err(()) => {}
        Ok(None) => ctx.out.integer(0),
        Ok(Some(None)) => ctx.out.integer(-1),
        Ok(Some(Some(len))) => {
            signal(ctx, key, 1);
            ctx.notify(LIST, "linsert", key);
            ctx.out.integer(len as i64);
        }
    }
}

fn lrem(ctx: &mut Ctx<'_>) {
    let Some(count) = ctx.arg_i64(2) else {
        return;
    };
    if count == i64::MIN {
        ctx.out.error(ERR_LONG_RANGE);
        return;
    }
    let (key, v) = (ctx.arg(1), ctx.arg(3));
    let cfg = cfg(ctx);
    let r = typed::write::<List, _>(ctx, key, |l, _| {
        let n = l.remove(v, count);
        if n > 0 {
            l.shrink(&cfg);
        }
        (n, l.is_empty())
    });
    let (n, emptied) = match r {
        Err(()) => return,
        Ok(None) => (0, false),
        Ok(Some(x)) => x,
    };
    if n > 0 {
        ctx.notify(LIST, "lrem", key);
        if emptied {
            ctx.notify(GENERIC, "del", key);
        }
        signal(ctx, key, n as u64);
    }
    ctx.out.integer(n as i64);
}

fn ltrim(ctx: &mut Ctx<'_>) {
    let Some(start) = ctx.arg_i64(2) else {
        return;
    };
    let Some(end) = ctx.arg_i64(3) else {
        return;
    };
    let key = ctx.arg(1);
    let cfg = cfg(ctx);
    let r = typed::write::<List, _>(ctx, key, |l, _| {
        let llen = l.len() as i64;
        let mut start = if start < 0 { llen + start } else { start };
        let mut end = if end < 0 { llen + end } else { end };
        if start < 0 {
            start = 0;
        }
        let (ltrim, rtrim) = if start > end || start >= llen {
            (llen, 0)
        } else {
            if end >= llen {
                end = llen - 1;
            }
            (start, llen - end - 1)
        };
        l.trim(ltrim as usize, rtrim as usize);
        l.shrink(&cfg);
        ((ltrim + rtrim) as u64, l.is_empty())
    });
    match r {
        Err(()) => {}
        Ok(None) => ctx.out.ok(),
        Ok(Some((removed, emptied))) => {
            ctx.notify(LIST, "ltrim", key);
            if emptied {
                ctx.notify(GENERIC, "del", key);
            }
            signal(ctx, key, removed);
            ctx.out.ok();
        }
    }
}

// ---- moves ---------------------------------------------------------------------------

/// LMOVE's work once both keys are known to be lists or absent: pops from
/// `src`, pushes to `dst` (created if needed), replies the element.
fn lmove_generic(ctx: &mut Ctx<'_>, from: End, to: End) {
    let (src, dst) = (ctx.arg(1), ctx.arg(2));
    match typed::check::<List>(ctx, src) {
        Err(()) => return,
        Ok(false) => {
            ctx.out.null();
            return;
        }
        Ok(true) => {}
    }
    if typed::check::<List>(ctx, dst).is_err() {
        return;
    }
    let cfg = cfg(ctx);
    let moved = if src == dst {
        // One list: the push happens before the shrink check, as Valkey
        // pushes to the destination before its "elements removed" step.
        typed::write::<List, _>(ctx, src, |l, _| {
            let v = l.pop(from)?;
            l.push_popped(to, &v, &cfg);
            l.shrink(&cfg);
            Some((v, false))
        })
    } else {
        typed::write::<List, _>(ctx, src, |l, _| {
            let v = l.pop(from)?;
            l.shrink(&cfg);
            Some((v, l.is_empty()))
        })
    };
    let Ok(Some(Some((v, emptied)))) = moved else {
        ctx.out.null();
        return;
    };
    if src != dst {
        let pushed =
            typed::write_or_create(ctx, dst, List::new, |l, _| l.push_popped(to, &v, &cfg));
        if pushed.is_err() {
            return;
        }
    }
    signal(ctx, dst, 0);
    ctx.notify(LIST, end_event(to, true), dst);
    ctx.out.bulk(&v);
    popped(ctx, src, from, 1, emptied);
    // A served blocking move propagates as its non-blocking form.
    match ctx.cmd.name {
        "blmove" => {
            let argv = [b"LMOVE".as_slice(), src, dst, ctx.arg(3), ctx.arg(4)];
            ctx.propagate_as(&argv);
        }
        "brpoplpush" => ctx.propagate_as(&[b"RPOPLPUSH", src, dst]),
        _ => {}
    }
}

fn lmove(ctx: &mut Ctx<'_>) {
    let Some(from) = parse_end(ctx, 3) else {
        return;
    };
    let Some(to) = parse_end(ctx, 4) else {
        return;
    };
    lmove_generic(ctx, from, to);
}

fn rpoplpush(ctx: &mut Ctx<'_>) {
    lmove_generic(ctx, End::Tail, End::Head);
}

/// BLMOVE / BRPOPLPUSH once the arguments are parsed.
fn blmove_generic(ctx: &mut Ctx<'_>, from: End, to: End, deadline: i64) {
    let src = ctx.arg(1);
    match typed::check::<List>(ctx, src) {
        Err(()) => {}
        Ok(true) => lmove_generic(ctx, from, to),
        Ok(false) if !ctx.may_block() => ctx.out.null(),
        Ok(false) => ctx.block_for_keys(&[src], ObjType::List, deadline, TimeoutReply::Null),
    }
}

fn blmove(ctx: &mut Ctx<'_>) {
    let Some(from) = parse_end(ctx, 3) else {
        return;
    };
    let Some(to) = parse_end(ctx, 4) else {
        return;
    };
    let Some(deadline) = ctx.block_timeout(5) else {
        return;
    };
    blmove_generic(ctx, from, to, deadline);
}

fn brpoplpush(ctx: &mut Ctx<'_>) {
    let Some(deadline) = ctx.block_timeout(3) else {
        return;
    };
    blmove_generic(ctx, End::Tail, End::Head, deadline);
}

// ---- multi-key pops ---------------------------------------------------------------------

/// Pops from the first of `keys` holding a list: one element as
/// `[key, element]` when `count` is None (BLPOP/BRPOP), else up to `count`
/// as `[key, [elements]]` (LMPOP family). Ok(false) when all were absent;
/// Err after WRONGTYPE.
fn serve_pop(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    end: End,
    count: Option<usize>,
) -> Result<bool, ()> {
    let cfg = cfg(ctx);
    for &key in keys {
        let r = typed::write::<List, _>(ctx, key, |l, out| {
            if l.is_empty() {
                return None;
            }
            out.array(2);
            out.bulk(key);
            let n = match count {
                Some(c) => pop_range(l, end, c, out),
                None => {
                    let v = l.pop(end)?;
                    out.bulk(&v);
                    1
                }
            };
            l.shrink(&cfg);
            Some((n, l.is_empty()))
        })?;
        if let Some(Some((n, emptied))) = r {
            popped(ctx, key, end, n, emptied);
            // Propagated as the plain pop it was (Valkey: BLPOP as LPOP,
            // [B]LMPOP as LPOP/RPOP with the count actually popped).
            let pop: &[u8] = match end {
                End::Head => b"LPOP",
                End::Tail => b"RPOP",
            };
            match count {
                Some(_) => ctx.propagate_as(&[pop, key, n.to_string().as_bytes()]),
                None => ctx.propagate_as(&[pop, key]),
            }
            return Ok(true);
        }
    }
    Ok(false)
}

/// BLPOP/BRPOP/BLMPOP after argument parsing: serve, or block, or (inside
/// MULTI) reply the timeout's null array.
fn blocking_pop(ctx: &mut Ctx<'_>, keys: &[&[u8]], end: End, count: Option<usize>, deadline: i64) {
    match serve_pop(ctx, keys, end, count) {
        Err(()) | Ok(true) => {}
        Ok(false) if !ctx.may_block() => ctx.out.null_array(),
        Ok(false) => ctx.block_for_keys(keys, ObjType::List, deadline, TimeoutReply::NullArray),
    }
}

fn bpop(ctx: &mut Ctx<'_>, end: End) {
    let Some(deadline) = ctx.block_timeout(ctx.argc() - 1) else {
        return;
    };
    let keys: Vec<&[u8]> = (1..ctx.argc() - 1).map(|i| ctx.arg(i)).collect();
    blocking_pop(ctx, &keys, end, None, deadline);
}

fn blpop(ctx: &mut Ctx<'_>) {
    bpop(ctx, End::Head);
}

fn brpop(ctx: &mut Ctx<'_>) {
    bpop(ctx, End::Tail);
}

/// LMPOP/BLMPOP's arguments after `numkeys`.
struct Mpop<'a> {
    keys: Vec<&'a [u8]>,
    end: End,
    count: usize,
}

/// Parses `numkeys key... LEFT|RIGHT [COUNT n]` with numkeys at `idx`,
/// replying the error (Valkey's order: numkeys, direction, options).
fn parse_mpop<'a>(ctx: &mut Ctx<'a>, idx: usize) -> Option<Mpop<'a>> {
    let numkeys = match parse_i64(ctx.arg(idx)) {
        Some(n) if n >= 1 => n as usize,
        _ => {
            ctx.out.error(b"ERR numkeys should be greater than 0");
            return None;
        }
    };
    let where_idx = match idx.checked_add(numkeys).and_then(|w| w.checked_add(1)) {
        Some(w) if w < ctx.argc() => w,
        _ => {
            ctx.out.error(err::SYNTAX);
            return None;
        }
    };
    let end = parse_end(ctx, where_idx)?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < ctx.argc() {
        if count.is_none() && ctx.arg(j).eq_ignore_ascii_case(b"COUNT") && j + 1 < ctx.argc() {
            match parse_i64(ctx.arg(j + 1)) {
                Some(c) if c >= 1 => count = Some(c as usize),
                _ => {
                    ctx.out.error(b"ERR count should be greater than 0");
                    return None;
                }
            }
            j += 2;
        } else {
            ctx.out.error(err::SYNTAX);
            return None;
        }
    }
    Some(Mpop {
        keys: (idx + 1..where_idx).map(|i| ctx.arg(i)).collect(),
        end,
        count: count.unwrap_or(1),
    })
}

fn lmpop(ctx: &mut Ctx<'_>) {
    let Some(m) = parse_mpop(ctx, 1) else {
        return;
    };
    if let Ok(false) = serve_pop(ctx, &m.keys, m.end, Some(m.count)) {
        ctx.out.null_array();
    }
}

fn blmpop(ctx: &mut Ctx<'_>) {
    let Some(m) = parse_mpop(ctx, 2) else {
        return;
    };
    // The timeout is checked after the other arguments, as in Valkey.
    let Some(deadline) = ctx.block_timeout(1) else {
        return;
    };
    blocking_pop(ctx, &m.keys, m.end, Some(m.count), deadline);
}

/// LMPOP's keys: `numkeys key...` (Valkey's `lmpopGetKeys`).
fn lmpop_keys(args: &Args<'_>) -> Vec<usize> {
    super::numkeys_getkeys(args, None, 1, 2, 1)
}

/// BLMPOP's keys: `timeout numkeys key...`.
fn blmpop_keys(args: &Args<'_>) -> Vec<usize> {
    super::numkeys_getkeys(args, None, 2, 3, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_entries_match_valkey() {
        let get = |n: &str| COMMANDS.iter().find(|c| c.name == n).unwrap();
        assert_eq!(COMMANDS.len(), 22);
        assert_eq!(get("lpush").arity, -3);
        assert_eq!(get("lpop").arity, -2);
        assert_eq!(get("lmpop").arity, -4);
        assert_eq!(get("blmpop").arity, -5);
        assert_eq!(get("blmove").arity, 6);
        assert!(get("blpop").has(BLOCKING) && !get("blpop").has(DENYOOM));
        assert!(get("blmove").has(DENYOOM));
        assert!(get("llen").has(FAST) && get("llen").has(READONLY));
        assert!(!get("lrange").has(FAST));
        assert_eq!((get("blpop").first_key, get("blpop").last_key), (1, -2));
    }

    #[test]
    fn numkeys_key_positions() {
        let a = crate::resp::OwnedArgs::from_slices(&[b"lmpop", b"2", b"a", b"b", b"left"]);
        assert_eq!(lmpop_keys(&a.as_args()), vec![2, 3]);
        let a = crate::resp::OwnedArgs::from_slices(&[b"lmpop", b"3", b"a", b"b"]);
        assert!(lmpop_keys(&a.as_args()).is_empty());
        let a = crate::resp::OwnedArgs::from_slices(&[b"lmpop", b"x", b"a", b"left"]);
        assert!(lmpop_keys(&a.as_args()).is_empty());
        let a = crate::resp::OwnedArgs::from_slices(&[b"blmpop", b"0", b"1", b"a", b"left"]);
        assert_eq!(blmpop_keys(&a.as_args()), vec![3]);
        // Counted with atoi, as Valkey does.
        let a = crate::resp::OwnedArgs::from_slices(&[b"lmpop", b"+2junk", b"a", b"b", b"left"]);
        assert_eq!(lmpop_keys(&a.as_args()), vec![2, 3]);
        let a = crate::resp::OwnedArgs::from_slices(&[b"blmpop", b"0", b"0", b"a", b"left"]);
        assert!(blmpop_keys(&a.as_args()).is_empty());
    }
}

/// What served blocking and multi-key pops reach the AOF as.
#[cfg(test)]
mod propagation_tests {
    use crate::commands::strings::tests::Harness;

    #[test]
    fn pops_propagate_as_plain_pops() {
        let mut h = Harness::new();
        h.cmd("RPUSH l a b c d e");
        assert_eq!(h.propagated("BLPOP nokey l 0"), ["LPOP l"]);
        assert_eq!(h.propagated("BRPOP l 0"), ["RPOP l"]);
        assert_eq!(h.propagated("LMPOP 2 nokey l RIGHT COUNT 10"), ["RPOP l 3"]);
        h.cmd("RPUSH l a b c");
        assert_eq!(h.propagated("BLMPOP 0 1 l LEFT"), ["LPOP l 1"]);
        assert_eq!(
            h.propagated("BLMOVE l m RIGHT LEFT 0"),
            ["LMOVE l m RIGHT LEFT"]
        );
        assert_eq!(h.propagated("BRPOPLPUSH l m 0"), ["RPOPLPUSH l m"]);
        assert_eq!(h.propagated("LMOVE m l LEFT LEFT"), ["LMOVE m l LEFT LEFT"]);
        assert_eq!(h.propagated("LPOP l"), ["LPOP l"]);
        assert_eq!(h.propagated("LMPOP 1 l LEFT"), Vec::<String>::new());
    }
}
