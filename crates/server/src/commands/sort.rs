//! SORT and SORT_RO: sorting a list, set or sorted set, numerically or
//! lexicographically, optionally by the values of other keys (BY), fetching
//! other keys' values (GET), and storing the result as a list (STORE).
//! Semantics follow Valkey's `sortCommandGeneric`.

use super::keys::notify;
use super::{acl, err, flags::*, typed, Command, Ctx};
use crate::config::notify::{GENERIC, LIST};
use crate::keyspace::list::{End, List, ListConfig};
use crate::keyspace::{Value, ValueRef};
use crate::util::num::strtod;
use std::cmp::Ordering;

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new(
            "sort",
            -2,
            WRITE | DENYOOM,
            acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS,
            sort,
        )
        .key_specs(&[
            KeySpec::at(1, RO | ACCESS),
            KeySpec::unknown(RO | ACCESS)
                .notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
            KeySpec::unknown(OW | UPDATE)
                .notes("For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"),
        ])
        .key_refs_fn(|args| with_flags(sort_keys(args), RO | ACCESS, OW | UPDATE))
        .doc(
            "generic",
            "1.0.0",
            "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
            "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        ),
        Command::new(
            "sort_ro",
            -2,
            READONLY,
            acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS,
            sort_ro,
        )
        .key_specs(&[
            KeySpec::at(1, RO | ACCESS),
            KeySpec::unknown(RO | ACCESS)
                .notes("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
        ])
        // Its BY/GET keys come from the sorted values: the key finder names
        // just the first argument.
        .key_refs_fn(|_| with_flags(vec![1], RO | ACCESS, 0))
        .doc(
            "generic",
            "7.0.0",
            "Returns the sorted elements of a list, a set, or a sorted set.",
            "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).",
        ),
    ]
};

/// The key to sort, and the STORE destination if any (Valkey's
/// `sortGetKeys`, quirks included): LIMIT, GET and BY skip their
/// arguments, STORE does not, so in `STORE store d` the second STORE names
/// `d`; the last STORE with an argument wins; keywords compare as C strings.
fn sort_keys(args: &crate::resp::Args<'_>) -> Vec<usize> {
    use super::strings::is_kw;
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = args.get(i);
        if is_kw(a, "limit") {
            i += 2;
        } else if is_kw(a, "get") || is_kw(a, "by") {
            i += 1;
        } else if is_kw(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    let mut keys = vec![1];
    keys.extend(store);
    keys
}

fn sort(ctx: &mut Ctx<'_>) {
    sort_generic(ctx, false);
}

fn sort_ro(ctx: &mut Ctx<'_>) {
    sort_generic(ctx, true);
}

struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    /// BY with no `*`: nothing to sort by.
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

fn parse_options<'a>(ctx: &mut Ctx<'a>, readonly: bool) -> Option<Options<'a>> {
    let mut o = Options {
        desc: false,
        alpha: false,
        limit: None,
        store: None,
        by: None,
        dontsort: false,
        gets: Vec::new(),
    };
    let mut j = 2;
    while j < ctx.argc() {
        let a = ctx.arg(j);
        let left = ctx.argc() - j - 1;
        if a.eq_ignore_ascii_case(b"asc") {
            o.desc = false;
        } else if a.eq_ignore_ascii_case(b"desc") {
            o.desc = true;
        } else if a.eq_ignore_ascii_case(b"alpha") {
            o.alpha = true;
        } else if a.eq_ignore_ascii_case(b"limit") && left >= 2 {
            let start = ctx.arg_i64(j + 1)?;
            let count = ctx.arg_i64(j + 2)?;
            o.limit = Some((start, count));
            j += 2;
        } else if !readonly && a.eq_ignore_ascii_case(b"store") && left >= 1 {
            o.store = Some(ctx.arg(j + 1));
            j += 1;
        } else if a.eq_ignore_ascii_case(b"by") && left >= 1 {
            let p = ctx.arg(j + 1);
            o.dontsort = !p.contains(&b'*');
            if !o.dontsort && ctx.srv.config.cluster_enabled {
                ctx.out.error(b"ERR BY option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots.");
                return None;
            }
            o.by = Some(p);
            j += 1;
        } else if a.eq_ignore_ascii_case(b"get") && left >= 1 {
            let p = ctx.arg(j + 1);
            if ctx.srv.config.cluster_enabled && p != b"#" {
                ctx.out.error(b"ERR GET option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots.");
                return None;
            }
            o.gets.push(p);
            j += 1;
        } else {
            ctx.out.error(err::SYNTAX);
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// Valkey's `lookupKeyByPattern`: `#` is the element itself; otherwise the
/// first `*` is replaced by the element and the key's string value (or,
/// with `->field` after the `*`, the hash field) is read. None when the
/// pattern has no `*`, the key is missing, or holds another type.
fn lookup_by_pattern(ctx: &mut Ctx<'_>, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let field = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&f| f + 2 < after.len())
        .map(|f| (star + 1 + f, &after[f + 2..]));
    let key_end = field.map_or(pattern.len(), |(f, _)| f);
    let mut key = Vec::with_capacity(key_end + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&pattern[star + 1..key_end]);
    let now_ms = ctx.now().ms;
    let rec = ctx.lookup_read(&key)?;
    match field {
        // An expired field not yet removed must stay invisible.
        Some((_, f)) => match rec.value() {
            ValueRef::Heap(Value::Hash(h)) => h.get_live(f, now_ms).map(|v| v.into_owned()),
            _ => None,
        },
        None => {
            let mut buf = [0u8; 24];
            rec.string_value(&mut buf).map(<[u8]>::to_vec)
        }
    }
}

/// The elements to sort, in the value's own order, or Err after WRONGTYPE.
fn load_elements(ctx: &mut Ctx<'_>, key: &[u8]) -> Result<(Vec<Vec<u8>>, bool), ()> {
    let Some(rec) = ctx.lookup_read(key) else {
        return Ok((Vec::new(), false));
    };
    let mut v = Vec::new();
    let is_set = match rec.value() {
        ValueRef::Heap(Value::List(l)) => {
            v.reserve(l.len());
            l.for_each(|e| v.push(e.to_vec()));
            false
        }
        ValueRef::Heap(Value::Set(s)) => {
            v.reserve(s.len());
            s.for_each(|e| v.push(e.to_vec()));
            true
        }
        ValueRef::Heap(Value::ZSet(z)) => {
            v.reserve(z.len());
            z.for_each(|e, _| v.push(e.to_vec()));
            false
        }
        _ => {
            drop(rec);
            ctx.out.error(err::WRONGTYPE);
            return Err(());
        }
    };
    Ok((v, is_set))
}

/// How an element compares: its number, its BY value, or itself.
enum SortKey {
    Num(f64),
    Alpha(Option<Vec<u8>>),
    Own,
}

fn sort_generic(ctx: &mut Ctx<'_>, readonly: bool) {
    let Some(mut o) = parse_options(ctx, readonly) else {
        return;
    };
    let key = ctx.arg(1);
    let Ok((mut elems, is_set)) = load_elements(ctx, key) else {
        return;
    };
    // A set has no order of its own: when the result is stored, sort it so
    // it is deterministic.
    if o.dontsort && is_set && o.store.is_some() {
        o.dontsort = false;
        o.alpha = true;
        o.by = None;
    }
    let len = elems.len() as i64;
    let (limit_start, limit_count) = o.limit.unwrap_or((0, -1));
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    if o.dontsort && o.desc && !is_set {
        // Lists and sorted sets keep their order, read from the far end.
        elems.reverse();
    }
    if !o.dontsort {
        let mut keyed: Vec<(SortKey, Vec<u8>)> = Vec::with_capacity(elems.len());
        let mut conversion_error = false;
        for e in elems {
            let by = match o.by {
                Some(p) => match lookup_by_pattern(ctx, p, &e) {
                    Some(v) => Some(v),
                    None => {
                        let k = if o.alpha {
                            SortKey::Alpha(None)
                        } else {
                            SortKey::Num(0.0)
                        };
                        keyed.push((k, e));
                        continue;
                    }
                },
                None => None,
            };
            let k = if o.alpha {
                if o.by.is_some() {
                    SortKey::Alpha(by)
                } else {
                    SortKey::Own
                }
            } else {
                let src = by.as_deref().unwrap_or(&e);
                let r = strtod(src);
                if r.consumed != src.len() || r.range_error || r.value.is_nan() {
                    conversion_error = true;
                }
                SortKey::Num(r.value)
            };
            keyed.push((k, e));
        }
        if conversion_error {
            ctx.out
                .error(b"ERR One or more scores can't be converted into double");
            return;
        }
        let desc = o.desc;
        keyed.sort_by(|(ka, a), (kb, b)| {
            let c = match (ka, kb) {
                (SortKey::Num(x), SortKey::Num(y)) => x
                    .partial_cmp(y)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.cmp(b)),
                (SortKey::Alpha(x), SortKey::Alpha(y)) => match (x, y) {
                    (Some(x), Some(y)) => x.cmp(y),
                    (None, None) => Ordering::Equal,
                    (None, _) => Ordering::Less,
                    (_, None) => Ordering::Greater,
                },
                _ => a.cmp(b),
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
        elems = keyed.into_iter().map(|(_, e)| e).collect();
    }
    let range: &[Vec<u8>] = if end >= start && start >= 0 {
        &elems[start as usize..=end as usize]
    } else {
        &[]
    };
    let range = range.to_vec();
    match o.store {
        None => {
            let per = o.gets.len().max(1);
            ctx.out.array(range.len() * per);
            for e in &range {
                if o.gets.is_empty() {
                    ctx.out.bulk(e);
                }
                for p in o.gets.clone() {
                    match lookup_by_pattern(ctx, p, e) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dest) => {
            let cfg = ListConfig::from_config(&ctx.srv.config);
            let mut list = List::new();
            for e in &range {
                if o.gets.is_empty() {
                    list.push(End::Tail, e, &cfg);
                }
                for p in o.gets.clone() {
                    let v = lookup_by_pattern(ctx, p, e).unwrap_or_default();
                    list.push(End::Tail, &v, &cfg);
                }
            }
            let n = list.len();
            // Storing a result looks the destination up first (Valkey's
            // `setKey`), so an expired one is expired, not replaced: the
            // key is then `new` (which `typed::store` announces). The
            // expiry is announced first, as Valkey does at the lookup. An
            // empty result deletes the destination as it is, without a
            // lookup.
            if n > 0 && ctx.lookup_write(dest).is_none() {
                ctx.srv.collect_expired();
            }
            let existed = typed::store(ctx, dest, list);
            if n > 0 {
                ctx.modified(dest);
                notify(ctx, LIST, "sortstore", dest);
                ctx.srv.dirty += (n - 1) as u64;
            } else if existed {
                ctx.modified(dest);
                notify(ctx, GENERIC, "del", dest);
            }
            ctx.out.integer(n as i64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(words: &[&str]) -> Vec<usize> {
        let parts: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        sort_keys(&crate::resp::OwnedArgs::from_slices(&parts).as_args())
    }

    /// Valkey's `sortGetKeys`, byte for byte.
    #[test]
    fn sort_key_finder() {
        assert_eq!(keys(&["sort", "k"]), [1]);
        assert_eq!(keys(&["sort", "k", "BY", "w_*", "STORE", "d"]), [1, 5]);
        // STORE's argument is not skipped: it may itself be STORE.
        assert_eq!(keys(&["sort", "k", "STORE", "store", "d"]), [1, 4]);
        // ...or LIMIT, which then skips two arguments.
        assert_eq!(
            keys(&["sort", "k", "STORE", "limit", "1", "2", "x"]),
            [1, 3]
        );
        // GET, BY and LIMIT arguments are never keywords.
        assert_eq!(keys(&["sort", "k", "GET", "store", "x"]), [1]);
        assert_eq!(keys(&["sort", "k", "LIMIT", "store", "store", "x"]), [1]);
        // The last STORE with an argument wins; a final STORE has none.
        let w = ["sort", "k", "STORE", "a", "GET", "#", "STORE", "b", "STORE"];
        assert_eq!(keys(&w), [1, 7]);
        // Keywords compare as C strings.
        assert_eq!(keys(&["sort", "k", "store\0junk", "d"]), [1, 3]);
    }
}
