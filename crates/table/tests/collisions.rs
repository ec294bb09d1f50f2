//! Keys that share a bucket: long chains, compaction and scans over chains,
//! through a custom `BuildHasher` passed to `Table::with_hasher`.

mod common;

use common::{key, rng, scan_all, Bytes, MaskedHash};
use ferrokey_table::{Entry, Table};
use std::collections::HashSet;

/// Child buckets of a settled table: bytes beyond the top-level array.
fn children<S: std::hash::BuildHasher>(t: &Table<Bytes, S>) -> usize {
    assert!(!t.is_rehashing());
    t.bucket_bytes() / 64 - t.capacity() / 8
}

#[test]
fn one_chain_grows_compacts_and_empties() {
    let mut t: Table<Bytes, MaskedHash> = Table::with_hasher(MaskedHash(0));
    let n = 400u64;
    for i in 0..n {
        assert!(t.insert(Bytes::new(&key(i))).is_none());
    }
    t.rehash_steps(usize::MAX);
    // All in bucket 0: ceil((n - 8) / 7) children past the head.
    assert_eq!(children(&t), (n as usize - 8).div_ceil(7));
    for i in 0..n {
        assert!(t.contains_key(&key(i)));
    }
    assert!(!t.contains_key(b"absent"));
    // Remove in a scrambled order; every delete refills its hole from the
    // chain's tail, so the chain stays as short as its length allows: every
    // bucket but the last full (7 entries plus the link).
    let mut order: Vec<u64> = (0..n).collect();
    let mut r = rng(5);
    for i in (1..order.len()).rev() {
        order.swap(i, (r() % (i as u64 + 1)) as usize);
    }
    for (done, &i) in order.iter().enumerate() {
        assert!(t.remove(&key(i)).is_some());
        let left = n as usize - done - 1;
        assert_eq!(t.len(), left);
        t.rehash_steps(usize::MAX);
        if left > 0 {
            assert!(
                children(&t) <= (left - 1) / 7,
                "{left} entries, {} children",
                children(&t)
            );
        }
        if done % 50 == 0 {
            for &j in &order[done + 1..] {
                assert!(t.contains_key(&key(j)), "{j} lost");
            }
        }
    }
    assert_eq!(t.bucket_bytes(), 0);
}

#[test]
fn scan_over_a_chain_returns_each_entry_once() {
    let mut t: Table<Bytes, MaskedHash> = Table::with_hasher(MaskedHash(0));
    for i in 0..200 {
        t.insert(Bytes::new(&key(i)));
    }
    t.rehash_steps(usize::MAX);
    let keys = scan_all(&t);
    let set: HashSet<&Vec<u8>> = keys.iter().collect();
    assert_eq!((keys.len(), set.len()), (200, 200));
    // The first step holds the whole chain (bucket 0).
    let mut first = 0;
    t.scan(0, |_| first += 1);
    assert_eq!(first, 200);
}

#[test]
fn iter_mut_removal_in_a_chain_compacts_afterwards() {
    let mut t: Table<Bytes, MaskedHash> = Table::with_hasher(MaskedHash(0));
    for i in 0..300 {
        t.insert(Bytes::new(&key(i)));
    }
    t.rehash_steps(usize::MAX);
    let mut removed = HashSet::new();
    let mut visited = 0;
    {
        let mut it = t.iter_mut();
        let mut n = 0;
        loop {
            let Some(e) = it.next() else { break };
            let k = e.key().to_vec();
            drop(e);
            visited += 1;
            if n % 2 == 0 {
                it.remove_current().unwrap();
                removed.insert(k);
            }
            n += 1;
        }
    }
    assert_eq!((visited, t.len()), (300, 150));
    assert!((0..300).all(|i| t.contains_key(&key(i)) != removed.contains(&key(i))));
    t.rehash_steps(usize::MAX);
    assert!(children(&t) <= 149 / 7);
}

#[test]
fn four_chains_with_varied_tags() {
    // Hashes keep the tag byte and two bucket bits: four chains whose
    // entries differ by tag, so the tag filter still rejects most slots.
    let mut t: Table<Bytes, MaskedHash> = Table::with_hasher(MaskedHash(0xff00_0000_0000_0003));
    for i in 0..2000 {
        t.insert(Bytes::new(&key(i)));
    }
    for i in 0..2000 {
        assert_eq!(t.get(&key(i)).unwrap().key(), key(i).as_slice());
    }
    for i in 2000..2500 {
        assert!(t.get(&key(i)).is_none());
    }
    let set: HashSet<Vec<u8>> = scan_all(&t).into_iter().collect();
    assert_eq!(set.len(), 2000);
    t.retain(|e| e.key().last() != Some(&b'7'));
    assert_eq!(t.len(), 1800);
    t.rehash_steps(usize::MAX);
    // Four chains of ~450: at most ceil(n/7) buckets each.
    assert!(children(&t) <= 4 * (450 / 7 + 2), "{}", children(&t));
    let mut out = Vec::new();
    assert_eq!(t.sample(50, &mut rng(1), &mut out), 50);
    let uniq: HashSet<&[u8]> = out.iter().map(|e| e.key()).collect();
    assert_eq!(uniq.len(), 50);
}

#[test]
fn growth_and_shrink_move_whole_chains() {
    // Chains are rebuilt bucket by bucket by the rehash; a scan started
    // before a grow and finished after still returns every entry.
    let mut t: Table<Bytes, MaskedHash> = Table::with_hasher(MaskedHash(0xff00_0000_0000_0007));
    for i in 0..100 {
        t.insert(Bytes::new(&key(i)));
    }
    let mut seen = HashSet::new();
    let mut c = t.scan(0, |e| {
        seen.insert(e.key().to_vec());
    });
    for i in 100..1000 {
        t.insert(Bytes::new(&key(i)));
        if i % 100 == 0 && c != 0 {
            c = t.scan(c, |e| {
                seen.insert(e.key().to_vec());
            });
        }
    }
    for i in 100..1000 {
        t.remove(&key(i));
    }
    while c != 0 {
        c = t.scan(c, |e| {
            seen.insert(e.key().to_vec());
        });
    }
    assert!((0..100).all(|i| seen.contains(&key(i))));
}
