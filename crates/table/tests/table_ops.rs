//! Unit tests of every public operation of `Table`.

mod common;

use common::{key, rng, scan_all, set_policy, Bytes, Kv, MaskedHash, Pol, POLICY_ASKED};
use ferrokey_table::{Entry, EntryRef, ResizePolicy, Table};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

fn filled(n: u64) -> Table<Bytes> {
    let mut t = Table::new();
    for i in 0..n {
        assert!(t.insert(Bytes::new(&key(i))).is_none());
    }
    t
}

/// Finishes any rehash so the layout is a single level.
fn settle<E: Entry, S: std::hash::BuildHasher>(t: &mut Table<E, S>) {
    assert!(!t.rehash_steps(usize::MAX));
}

#[test]
fn empty_table_answers_without_buckets() {
    let mut t: Table<Bytes> = Table::new();
    assert_eq!((t.len(), t.capacity(), t.bucket_bytes()), (0, 0, 0));
    assert!(t.is_empty() && !t.is_rehashing());
    assert!(t.get(b"x").is_none());
    assert!(t.get_mut(b"x").is_none());
    assert!(t.remove(b"x").is_none());
    assert!(!t.contains_key(b"x"));
    assert_eq!(t.iter().count(), 0);
    assert_eq!(t.scan(0, |_| panic!("empty")), 0);
    assert!(t.random_entry(&mut rng(1)).is_none());
    assert!(t.fair_random_entry(&mut rng(1)).is_none());
    let mut out = Vec::new();
    assert_eq!(t.sample(5, &mut rng(1), &mut out), 0);
    assert!(!t.rehash_steps(10));
    assert!(!t.rehash_for(Duration::from_millis(1)));
    // A vacant lookup allocates nothing.
    assert!(matches!(t.entry(b"x"), EntryRef::Vacant(_)));
    assert_eq!(t.bucket_bytes(), 0);
    t.clear();
    assert_eq!(t.bucket_bytes(), 0);
}

#[test]
fn get_and_get_mut_find_every_key() {
    let mut t = filled(1000);
    for i in 0..1000 {
        assert_eq!(t.get(&key(i)).unwrap().key(), key(i).as_slice());
        assert!(t.contains_key(&key(i)));
        assert_eq!(t.get_mut(&key(i)).unwrap().key(), key(i).as_slice());
    }
    for i in 1000..1100 {
        assert!(t.get(&key(i)).is_none());
        assert!(t.get_mut(&key(i)).is_none());
    }
    assert_eq!(t.hash_key(&key(5)), t.hash_key(&key(5)));
}

#[test]
fn ref_mut_writes_back_a_reallocated_entry() {
    let mut t: Table<Kv> = Table::new();
    for i in 0..100 {
        t.insert(Kv::new(&key(i), i));
    }
    let mut new_addrs = HashMap::new();
    for i in (0..100).step_by(3) {
        let mut r = t.get_mut(&key(i)).unwrap();
        let old = r.addr();
        // "Reallocate": a new allocation with the same key and a new value;
        // the assignment frees the old one.
        *r = Kv::new(&key(i), i + 1000);
        assert_ne!(r.addr(), old);
        new_addrs.insert(i, r.addr());
    }
    // In-place changes through RefMut are visible too.
    t.get_mut(&key(1)).unwrap().set_val(77);
    for i in 0..100 {
        let e = t.get(&key(i)).unwrap();
        match new_addrs.get(&i) {
            Some(&a) => assert_eq!((e.addr(), e.val()), (a, i + 1000)),
            None if i == 1 => assert_eq!(e.val(), 77),
            None => assert_eq!(e.val(), i),
        }
    }
    // The iterator sees the new pointers as well.
    let seen: HashSet<usize> = t.iter().map(|e| e.addr()).collect();
    assert!(new_addrs.values().all(|a| seen.contains(a)));
    // And the entry API's views write back the same way.
    match t.entry(&key(2)) {
        EntryRef::Occupied(mut o) => {
            *o.get_mut() = Kv::new(&key(2), 5);
            assert_eq!(o.get().val(), 5);
            let mut r = o.into_mut();
            *r = Kv::new(&key(2), 6);
        }
        EntryRef::Vacant(_) => panic!("present"),
    }
    assert_eq!(t.get(&key(2)).unwrap().val(), 6);
}

#[test]
fn entry_api_vacant_occupied_replace_remove() {
    let mut t: Table<Kv> = Table::new();
    match t.entry(b"a") {
        EntryRef::Vacant(v) => {
            let mut r = v.insert(Kv::new(b"a", 1));
            r.set_val(2);
        }
        EntryRef::Occupied(_) => panic!("empty"),
    }
    assert_eq!(t.len(), 1);
    assert_eq!(t.get(b"a").unwrap().val(), 2);
    match t.entry(b"a") {
        EntryRef::Occupied(o) => {
            assert_eq!(o.get().val(), 2);
            let old = o.replace(Kv::new(b"a", 3));
            assert_eq!(old.val(), 2);
        }
        EntryRef::Vacant(_) => panic!("present"),
    }
    assert_eq!((t.len(), t.get(b"a").unwrap().val()), (1, 3));
    match t.entry(b"a") {
        EntryRef::Occupied(o) => assert_eq!(o.remove().val(), 3),
        EntryRef::Vacant(_) => panic!("present"),
    }
    assert!(t.is_empty());
    assert_eq!(t.bucket_bytes(), 0, "the last remove frees the buckets");
    // Vacant inserts across growth: every one lands and stays findable.
    for i in 0..2000 {
        match t.entry(&key(i)) {
            EntryRef::Vacant(v) => drop(v.insert(Kv::new(&key(i), i))),
            EntryRef::Occupied(_) => panic!("{i} not inserted yet"),
        }
    }
    for i in 0..2000 {
        assert_eq!(t.get(&key(i)).unwrap().val(), i);
    }
    // Two-phase pop of half of them.
    for i in (0..2000).step_by(2) {
        let EntryRef::Occupied(o) = t.entry(&key(i)) else {
            panic!("{i} present")
        };
        assert_eq!(o.remove().val(), i);
    }
    assert_eq!(t.len(), 1000);
    assert!((0..2000).all(|i| t.contains_key(&key(i)) == (i % 2 == 1)));
}

#[test]
fn insert_replaces_and_returns_the_old_entry() {
    let mut t: Table<Kv> = Table::new();
    assert!(t.insert(Kv::new(b"k", 1)).is_none());
    let first = t.get(b"k").unwrap().addr();
    let old = t.insert(Kv::new(b"k", 2)).unwrap();
    assert_eq!((old.val(), old.addr()), (1, first));
    assert_eq!(t.len(), 1);
    assert_eq!(t.get(b"k").unwrap().val(), 2);
}

#[test]
fn remove_everything_frees_all_buckets() {
    let mut t = filled(5000);
    assert!(t.remove(b"missing").is_none());
    for i in 0..5000 {
        let e = t.remove(&key(i)).unwrap();
        assert_eq!(e.key(), key(i).as_slice());
        assert!(t.get(&key(i)).is_none());
        assert_eq!(t.len(), 4999 - i as usize);
        if i % 500 == 0 {
            for j in (i + 1..5000).step_by(37) {
                assert!(t.contains_key(&key(j)), "{j} lost after removing {i}");
            }
        }
    }
    assert_eq!((t.bucket_bytes(), t.capacity()), (0, 0));
}

#[test]
fn iter_visits_each_entry_once() {
    let t = filled(3000);
    let it = t.iter();
    assert_eq!(it.len(), 3000);
    let keys: Vec<Vec<u8>> = it.map(|e| e.key().to_vec()).collect();
    let set: HashSet<&Vec<u8>> = keys.iter().collect();
    assert_eq!((keys.len(), set.len()), (3000, 3000));
    assert!((0..3000).all(|i| set.contains(&key(i))));
}

#[test]
fn iter_mut_removes_every_other_entry() {
    // Once on a settled table and once in the middle of a rehash (the
    // iterator pauses rehashing, and removals must not lose entries of
    // either level).
    for mid_rehash in [false, true] {
        let mut t = Table::<Bytes>::new();
        let n = if mid_rehash { 4097 } else { 4000 };
        for i in 0..n {
            t.insert(Bytes::new(&key(i)));
        }
        if mid_rehash {
            assert!(t.is_rehashing(), "the 4097th insert starts a grow");
        } else {
            settle(&mut t);
        }
        let mut visited = HashSet::new();
        let mut removed = HashSet::new();
        {
            let mut it = t.iter_mut();
            let mut odd = false;
            loop {
                let Some(e) = it.next() else { break };
                let k = e.key().to_vec();
                drop(e);
                assert!(visited.insert(k.clone()), "visited twice");
                if odd {
                    let gone = it.remove_current().unwrap();
                    assert_eq!(gone.key(), k.as_slice());
                    assert!(it.remove_current().is_none(), "only once");
                    removed.insert(k);
                }
                odd = !odd;
            }
        }
        assert_eq!(visited.len(), n as usize);
        assert_eq!(t.len(), n as usize - removed.len());
        for i in 0..n {
            assert_eq!(t.contains_key(&key(i)), !removed.contains(&key(i)));
        }
        let left: HashSet<Vec<u8>> = t.iter().map(|e| e.key().to_vec()).collect();
        assert_eq!(left.len(), t.len());
        // The table still works after the iterator resumed rehashing.
        settle(&mut t);
        for k in &removed {
            assert!(t.insert(Bytes::new(k)).is_none());
        }
        assert_eq!(t.len(), n as usize);
    }
}

#[test]
fn iter_mut_dropped_early_leaves_a_consistent_table() {
    let mut t = filled(1000);
    {
        let mut it = t.iter_mut();
        for _ in 0..10 {
            drop(it.next());
            it.remove_current().unwrap();
        }
    }
    assert_eq!(t.len(), 990);
    assert_eq!(t.iter().count(), 990);
    // Removing the rest through the iterator shrinks the table afterwards.
    {
        let mut it = t.iter_mut();
        while it.next().is_some() {
            it.remove_current();
        }
    }
    assert_eq!((t.len(), t.bucket_bytes()), (0, 0));
}

#[test]
fn retain_keeps_what_the_predicate_keeps() {
    let mut t: Table<Kv> = Table::new();
    for i in 0..3000 {
        t.insert(Kv::new(&key(i), i));
    }
    t.retain(|e| {
        let keep = e.val() % 3 == 0;
        e.set_val(e.val() + 1);
        keep
    });
    assert_eq!(t.len(), 1000);
    for i in 0..3000 {
        match t.get(&key(i)) {
            Some(e) => assert_eq!((i % 3, e.val()), (0, i + 1)),
            None => assert_ne!(i % 3, 0),
        }
    }
    t.retain(|_| false);
    assert_eq!((t.len(), t.bucket_bytes()), (0, 0));
}

#[test]
fn clear_drops_everything_and_the_table_is_reusable() {
    let mut t = filled(10_000);
    t.clear();
    assert_eq!((t.len(), t.bucket_bytes(), t.capacity()), (0, 0, 0));
    assert!(!t.is_rehashing());
    assert!(t.get(&key(1)).is_none());
    t.insert(Bytes::new(b"again"));
    assert_eq!(t.len(), 1);
    assert_eq!(t.bucket_bytes(), 64);
}

#[test]
fn scan_returns_every_entry_settled_and_mid_rehash() {
    let mut t = filled(5000);
    settle(&mut t);
    let keys = scan_all(&t);
    let set: HashSet<&Vec<u8>> = keys.iter().collect();
    assert_eq!(keys.len(), 5000, "no duplicates without resizes");
    assert_eq!(set.len(), 5000);
    // Mid-rehash (paused so it stays that way): both levels are covered.
    let mut t = filled(4097);
    t.pause_rehashing();
    for i in 4097..4500 {
        t.insert(Bytes::new(&key(i)));
    }
    assert!(t.is_rehashing());
    let keys: HashSet<Vec<u8>> = scan_all(&t).into_iter().collect();
    assert_eq!(keys.len(), 4500);
    t.resume_rehashing();
    // Scan cursors can be any value: a bogus one just continues somewhere.
    let mut n = 0;
    let c = t.scan(u64::MAX, |_| n += 1);
    assert!(c < u64::MAX);
}

#[test]
fn random_draws_cover_the_table() {
    let n = 500u64;
    let t = filled(n);
    let mut r = rng(99);
    let draws = 100_000;
    let mut hits: HashMap<Vec<u8>, usize> = HashMap::new();
    for _ in 0..draws {
        let e = t.fair_random_entry(&mut r).unwrap();
        *hits.entry(e.key().to_vec()).or_default() += 1;
    }
    // Expected 200 hits each: every entry drawn, none wildly over- or
    // under-represented.
    assert_eq!(hits.len(), n as usize);
    let (min, max) = (hits.values().min().unwrap(), hits.values().max().unwrap());
    assert!(*min >= 50 && *max <= 600, "min {min} max {max}");
    let mut weak: HashSet<Vec<u8>> = HashSet::new();
    for _ in 0..draws {
        weak.insert(t.random_entry(&mut r).unwrap().key().to_vec());
    }
    assert!(weak.len() as u64 >= n * 9 / 10, "{}", weak.len());
    // sample: distinct entries, as many as asked for or as exist.
    for count in [1usize, 7, 64, 499, 500, 800] {
        let mut out = Vec::new();
        let got = t.sample(count, &mut r, &mut out);
        assert_eq!(got, count.min(n as usize));
        let set: HashSet<Vec<u8>> = out.iter().map(|e| e.key().to_vec()).collect();
        assert_eq!(set.len(), got, "sample({count}) has duplicates");
    }
    // sample appends after what is already in `out`.
    let mut out = vec![t.get(&key(0)).unwrap()];
    assert_eq!(t.sample(3, &mut r, &mut out), 3);
    assert_eq!(out.len(), 4);
}

#[test]
fn pause_rehashing_stops_progress_until_resumed() {
    let mut t = filled(4096);
    settle(&mut t);
    t.pause_rehashing();
    t.pause_rehashing(); // pauses nest
    t.insert(Bytes::new(&key(4096))); // starts the grow
    assert!(t.is_rehashing());
    for i in 4097..6000 {
        t.insert(Bytes::new(&key(i)));
        t.get_mut(&key(i));
    }
    assert!(t.rehash_steps(1_000_000), "paused: no progress");
    assert!(t.rehash_for(Duration::from_millis(2)));
    t.resume_rehashing();
    assert!(t.rehash_steps(1_000_000), "still paused once");
    t.resume_rehashing();
    assert!(!t.rehash_steps(1_000_000));
    assert!((0..6000).all(|i| t.contains_key(&key(i))));
}

/// Mid-rehash, inserts go to level 0 while their chain is not moved (and
/// lookups of unmoved chains read level 0 only), but to level 1 while the
/// rehash is paused; every key stays findable through pauses, resumes and
/// partial progress.
#[test]
fn inserts_mid_rehash_are_found_paused_or_not() {
    // 8192 buckets, full: the next insert starts a grow of 8192 chains.
    let base = 65536;
    let mut t = filled(base);
    settle(&mut t);
    t.insert(Bytes::new(&key(base))); // starts the grow
    assert!(t.is_rehashing());
    t.rehash_steps(100); // part of the way
    let mut next = base + 1;
    let check = |t: &Table<Bytes>, upto: u64| {
        for i in 0..upto {
            assert!(t.contains_key(&key(i)), "key {i} lost");
        }
        assert!(!t.contains_key(&key(upto)));
    };
    for round in 0..6 {
        let paused = round % 2 == 1;
        if paused {
            t.pause_rehashing();
        }
        for _ in 0..300 {
            t.insert(Bytes::new(&key(next)));
            next += 1;
        }
        assert!(t.is_rehashing(), "round {round}");
        check(&t, next);
        if paused {
            t.resume_rehashing();
        }
        t.rehash_steps(50);
        check(&t, next);
    }
    // Removing keys inserted while paused (some in level 1 for unmoved
    // chains) and finishing the rehash.
    for i in (base..next).step_by(3) {
        assert!(t.remove(&key(i)).is_some(), "key {i}");
    }
    while t.rehash_steps(64) {}
    for i in 0..next {
        assert_eq!(
            t.contains_key(&key(i)),
            i < base || (i - base) % 3 != 0,
            "key {i}"
        );
    }
}

#[test]
fn pause_auto_shrink_defers_the_shrink() {
    let mut t = filled(10_000);
    settle(&mut t);
    let cap = t.capacity();
    t.pause_auto_shrink();
    for i in 0..9_900 {
        t.remove(&key(i));
    }
    assert_eq!(t.capacity(), cap, "no shrink while paused");
    t.resume_auto_shrink();
    settle(&mut t);
    assert!(t.capacity() < cap / 16, "shrunk to {}", t.capacity());
    assert!((9_900..10_000).all(|i| t.contains_key(&key(i))));
}

#[test]
fn shrink_happens_on_deletes() {
    let mut t = filled(10_000);
    let full = {
        settle(&mut t);
        t.capacity()
    };
    for i in 0..9_990 {
        t.remove(&key(i));
    }
    settle(&mut t);
    assert!(t.capacity() <= full / 64, "{} vs {full}", t.capacity());
    // Fill stays at or above the minimum after the shrink.
    assert!(t.len() * 100 >= t.capacity() * 13 / 2);
}

#[test]
fn reserve_allocates_ahead() {
    let mut t: Table<Bytes> = Table::new();
    t.reserve(1000);
    let cap = t.capacity();
    assert!(cap >= 1000, "{cap}");
    assert!(!t.is_rehashing());
    for i in 0..1000 {
        t.insert(Bytes::new(&key(i)));
    }
    assert_eq!(t.capacity(), cap, "no growth after reserve");
    // Reserving on a populated table starts one grow to the final size.
    t.reserve(100_000);
    settle(&mut t);
    let cap = t.capacity();
    assert!(cap >= 101_000);
    for i in 1000..101_000 {
        t.insert(Bytes::new(&key(i)));
    }
    assert_eq!(t.capacity(), cap);
}

#[test]
fn rehash_steps_and_rehash_for_finish_a_grow() {
    let mut t = filled(8192);
    settle(&mut t);
    t.insert(Bytes::new(&key(8192)));
    assert!(t.is_rehashing());
    let bytes_mid = t.bucket_bytes();
    assert!(t.rehash_steps(0), "zero steps leave it rehashing");
    assert!(t.rehash_steps(3));
    assert!(!t.rehash_for(Duration::from_secs(10)));
    assert!(!t.is_rehashing());
    assert!(t.bucket_bytes() < bytes_mid, "the old array is freed");
    assert!((0..=8192).all(|i| t.contains_key(&key(i))));
}

#[test]
fn bucket_bytes_is_exact() {
    let mut t: Table<Bytes> = Table::new();
    assert_eq!(t.bucket_bytes(), 0);
    t.insert(Bytes::new(b"a"));
    assert_eq!((t.bucket_bytes(), t.capacity()), (64, 8));
    // Default hasher: bytes = 8 per top-level slot plus whole child buckets.
    for i in 0..50_000 {
        t.insert(Bytes::new(&key(i)));
        if i % 997 == 0 {
            let b = t.bucket_bytes();
            assert!(b >= t.capacity() * 8 && (b - t.capacity() * 8).is_multiple_of(64));
        }
    }
    // One chain (every hash 0): 1 bucket holds 8, each more bucket 7 more.
    let mut c: Table<Bytes, MaskedHash> = Table::with_hasher(MaskedHash(0));
    for n in 1..=300u64 {
        c.insert(Bytes::new(&key(n)));
        settle(&mut c);
        let chain = if n <= 8 {
            1
        } else {
            1 + (n as usize - 8).div_ceil(7)
        };
        let buckets = c.capacity() / 8;
        assert_eq!(c.bucket_bytes(), 64 * (buckets + chain - 1), "n = {n}");
    }
    c.clear();
    assert_eq!(c.bucket_bytes(), 0);
}

#[test]
fn forbid_policy_never_resizes() {
    set_policy(ResizePolicy::Forbid);
    let mut t: Table<Pol> = Table::new();
    // An empty table still gets its first bucket.
    t.insert(Pol::new(&key(0)));
    assert_eq!(t.capacity(), 8);
    for i in 1..500 {
        t.insert(Pol::new(&key(i)));
    }
    assert_eq!(t.capacity(), 8, "no grow under Forbid");
    assert!((0..500).all(|i| t.contains_key(&key(i))));
    set_policy(ResizePolicy::Allow);
    t.insert(Pol::new(&key(500)));
    assert!(t.capacity() > 8);
    settle(&mut t);
    set_policy(ResizePolicy::Forbid);
    let cap = t.capacity();
    for i in 0..495 {
        t.remove(&key(i));
    }
    assert_eq!(t.capacity(), cap, "no shrink under Forbid");
    assert!((495..=500).all(|i| t.contains_key(&key(i))));
    set_policy(ResizePolicy::Allow);
}

#[test]
fn avoid_policy_grows_only_past_the_hard_limit() {
    set_policy(ResizePolicy::Avoid);
    let mut t: Table<Pol> = Table::new();
    for i in 0..40 {
        t.insert(Pol::new(&key(i)));
    }
    assert_eq!(t.capacity(), 8, "500 % fill allowed under Avoid");
    POLICY_ASKED.with(|c| c.set((0, 0)));
    t.insert(Pol::new(&key(40)));
    assert!(t.is_rehashing());
    let (asked, bytes) = POLICY_ASKED.with(|c| c.get());
    assert!(asked >= 1);
    assert_eq!(bytes, 8 * 64, "asked with the new array's size");
    // Under Avoid only inserts move buckets.
    for i in 0..41 {
        assert!(t.get_mut(&key(i)).is_some());
    }
    assert!(t.is_rehashing(), "lookups do not rehash under Avoid");
    t.insert(Pol::new(&key(41)));
    assert!(!t.is_rehashing(), "an insert moved the only old bucket");
    // Shrinks wait for 3 % fill: with 64 slots, 2 entries (3.1 %) keep the
    // array (Allow would have shrunk below 13 %, at 8), 1 entry shrinks it.
    let cap = t.capacity();
    assert_eq!(cap, 64);
    for i in 0..40 {
        t.remove(&key(i));
    }
    assert_eq!((t.len(), t.capacity()), (2, cap));
    assert!(!t.is_rehashing());
    t.remove(&key(40));
    assert_eq!(t.len(), 1);
    assert!(t.is_rehashing(), "the shrink started");
    assert!(!t.rehash_steps(10));
    assert_eq!(t.capacity(), 8);
    set_policy(ResizePolicy::Allow);
}

#[test]
fn stats_describe_both_arrays_and_their_chains() {
    let mut t = filled(4096);
    settle(&mut t);
    let s = t.stats(true);
    assert_eq!(s.len(), 1, "not rehashing: the main array only");
    let main = &s[0];
    assert_eq!((main.index, main.used), (0, 4096));
    assert_eq!(main.size, main.top_level_buckets * 8);
    // Every top-level bucket is in the histogram once, and every child
    // bucket is one link of some chain.
    assert_eq!(
        main.chain_lengths.iter().sum::<usize>(),
        main.top_level_buckets
    );
    let links: usize = main
        .chain_lengths
        .iter()
        .enumerate()
        .map(|(len, n)| len * n)
        .sum();
    assert_eq!(links, main.child_buckets);
    assert_eq!(
        main.chain_lengths[main.max_chain_len + 1..]
            .iter()
            .sum::<usize>(),
        0
    );
    // Without `full`, no chain walk.
    assert_eq!(t.stats(false)[0].chain_lengths.iter().sum::<usize>(), 0);

    // Mid-rehash: both arrays, their entries adding up to the table's.
    t.pause_rehashing();
    for i in 4096..6000 {
        t.insert(Bytes::new(&key(i)));
    }
    assert!(t.is_rehashing());
    let s = t.stats(true);
    assert_eq!(s.iter().map(|l| l.index).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(s[0].used + s[1].used, 6000);
    assert_eq!(s[1].top_level_buckets, 2 * s[0].top_level_buckets);
    for l in &s {
        assert_eq!(l.chain_lengths.iter().sum::<usize>(), l.top_level_buckets);
    }
    t.resume_rehashing();
}
