//! KvStore: unit tests through the public API and a model test against a
//! `HashMap<(slot, key), value>`.

mod common;

use common::{cases, key, rng, Bytes, Kv};
use ferrokey_table::{Entry, KvEntry, KvStore};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

#[test]
fn cluster_store_counts_and_frees_per_slot() {
    let mut s: KvStore<Bytes> = KvStore::new(16384);
    assert_eq!(
        (s.num_slots(), s.len(), s.allocated_tables()),
        (16384, 0, 0)
    );
    let fixed = s.overhead_bytes();
    assert!(fixed >= 16384 * 17, "per-slot arrays: {fixed}");
    for i in 0..10_000u64 {
        let slot = (i * 7919 % 16384) as usize;
        assert!(s.insert(slot, Bytes::new(&key(i))).is_none());
    }
    assert_eq!(s.len(), 10_000);
    let mut per_slot = HashMap::new();
    for i in 0..10_000u64 {
        *per_slot
            .entry((i * 7919 % 16384) as usize)
            .or_insert(0usize) += 1;
    }
    assert_eq!(s.allocated_tables(), per_slot.len());
    for (&slot, &n) in &per_slot {
        assert_eq!(s.len_in_slot(slot), n);
        assert_eq!(s.slot_keys(slot).count(), n);
    }
    let tables: usize = (0..16384)
        .filter_map(|sl| s.table(sl))
        .map(|t| t.bucket_bytes())
        .sum();
    assert_eq!(
        s.bucket_bytes(),
        tables + per_slot.len() * std::mem::size_of::<ferrokey_table::Table<Bytes>>()
    );
    for i in 0..10_000u64 {
        let slot = (i * 7919 % 16384) as usize;
        assert!(s.remove(slot, &key(i)).is_some());
    }
    assert_eq!((s.len(), s.allocated_tables(), s.bucket_bytes()), (0, 0, 0));
}

#[test]
fn vacant_insert_and_occupied_remove_update_counts() {
    let mut s: KvStore<Kv> = KvStore::new(16384);
    for i in 0..100u64 {
        match s.entry(100 + i as usize, &key(i)) {
            KvEntry::Vacant(v) => {
                let mut r = v.insert(Kv::new(&key(i), i));
                r.set_val(i + 1);
            }
            KvEntry::Occupied(_) => panic!("empty"),
        }
    }
    assert_eq!((s.len(), s.allocated_tables()), (100, 100));
    assert_eq!(s.slot_of_nth(0), Some(100));
    assert_eq!(s.slot_of_nth(99), Some(199));
    for i in 0..100u64 {
        let slot = 100 + i as usize;
        assert_eq!(s.get(slot, &key(i)).unwrap().val(), i + 1);
        match s.entry(slot, &key(i)) {
            KvEntry::Occupied(mut o) => {
                assert_eq!(o.slot(), slot);
                *o.get_mut() = Kv::new(&key(i), 5);
                assert_eq!(o.get().val(), 5);
                if i % 2 == 0 {
                    assert_eq!(o.remove().val(), 5);
                } else {
                    let old = o.replace(Kv::new(&key(i), 9));
                    assert_eq!(old.val(), 5);
                }
            }
            KvEntry::Vacant(_) => panic!("present"),
        }
    }
    assert_eq!((s.len(), s.allocated_tables()), (50, 50));
    assert!(s.iter().all(|e| e.val() == 9));
    assert_eq!(s.iter().len(), 50);
}

#[test]
fn get_mut_writes_back_reallocated_entries() {
    let mut s: KvStore<Kv> = KvStore::new(4);
    s.insert(2, Kv::new(b"a", 1));
    let new_addr = {
        let mut r = s.get_mut(2, b"a").unwrap();
        *r = Kv::new(b"a", 2);
        r.addr()
    };
    let e = s.get(2, b"a").unwrap();
    assert_eq!((e.addr(), e.val()), (new_addr, 2));
    assert!(s.get_mut(1, b"a").is_none());
}

#[test]
fn scan_of_a_sparse_cluster_store() {
    let mut s: KvStore<Bytes> = KvStore::new(16384);
    let slots = [3usize, 4, 1000, 8191, 16383];
    let mut all = HashSet::new();
    for (n, &slot) in slots.iter().enumerate() {
        for i in 0..(n as u64 * 100 + 5) {
            let k = format!("{slot}:{i}").into_bytes();
            s.insert(slot, Bytes::new(&k));
            all.insert(k);
        }
    }
    let mut seen = Vec::new();
    let mut c = 0;
    let mut calls = 0;
    loop {
        let mut got = 0;
        c = s.scan(c, |e| {
            seen.push(e.key().to_vec());
            got += 1;
        });
        calls += 1;
        if c != 0 {
            let slot = (c & 16383) as usize;
            assert!(slots.contains(&slot), "cursor points at empty slot {slot}");
        }
        if c == 0 {
            break;
        }
    }
    let set: HashSet<Vec<u8>> = seen.iter().cloned().collect();
    assert_eq!(set, all);
    // Empty slots cost no calls: roughly one call per bucket of each table.
    let buckets: usize = slots
        .iter()
        .map(|&sl| s.table(sl).unwrap().capacity() / 8)
        .sum();
    assert!(
        calls <= buckets + slots.len(),
        "{calls} calls for {buckets} buckets"
    );
    // scan_slot walks one table with a plain cursor.
    let mut n = 0;
    let mut c = 0;
    loop {
        c = s.scan_slot(1000, c, |_| n += 1);
        if c == 0 {
            break;
        }
    }
    assert_eq!(n, 205);
    assert_eq!(s.scan_slot(5, 0, |_| panic!("empty slot")), 0);
}

#[test]
fn random_entries_are_weighted_by_slot_size() {
    let mut s: KvStore<Bytes> = KvStore::new(16384);
    // Slot 10 holds 90 % of the keys, slot 20000 % 16384 the rest.
    for i in 0..900 {
        s.insert(10, Bytes::new(format!("a{i}").as_bytes()));
    }
    for i in 0..100 {
        s.insert(3616, Bytes::new(format!("b{i}").as_bytes()));
    }
    let mut r = rng(3);
    let (mut a, mut distinct) = (0, HashSet::new());
    for _ in 0..20_000 {
        let e = s.fair_random_entry(&mut r).unwrap();
        if e.key()[0] == b'a' {
            a += 1;
        }
        distinct.insert(e.key().to_vec());
    }
    assert!(
        (17_000..19_000).contains(&a),
        "{a} of 20000 from the 90 % slot"
    );
    assert!(distinct.len() > 950, "{}", distinct.len());
    assert!(s.random_entry(&mut r).is_some());
    let mut out = Vec::new();
    assert_eq!(s.sample(16, &mut r, &mut out), 16);
    let uniq: HashSet<&[u8]> = out.iter().map(|e| e.key()).collect();
    assert_eq!(uniq.len(), 16);
}

#[test]
fn rehash_for_visits_only_rehashing_tables() {
    let mut s: KvStore<Bytes> = KvStore::new(16384);
    for i in 0..50_000u64 {
        s.insert((i % 8) as usize * 1000, Bytes::new(&key(i)));
    }
    // With a zero budget at most one step of one table runs per call.
    s.rehash_for(Duration::ZERO);
    while s.rehash_for(Duration::from_micros(200)) {}
    assert_eq!(s.rehashing_tables(), 0);
    assert_eq!(s.len(), 50_000);
    for i in (0..50_000u64).step_by(101) {
        assert!(s.contains_key((i % 8) as usize * 1000, &key(i)));
    }
}

#[test]
fn take_and_clear() {
    let mut s: KvStore<Bytes> = KvStore::new(16384);
    for i in 0..5000u64 {
        s.insert((i % 300) as usize, Bytes::new(&key(i)));
    }
    let old = s.take();
    assert_eq!((s.len(), s.allocated_tables(), s.bucket_bytes()), (0, 0, 0));
    assert_eq!(old.len(), 5000);
    // The taken contents can be freed on another thread.
    std::thread::spawn(move || drop(old)).join().unwrap();
    s.insert(1, Bytes::new(b"x"));
    s.reserve(2, 1000);
    assert_eq!(s.allocated_tables(), 2, "reserve allocates ahead");
    assert_eq!(s.len_in_slot(2), 0);
    assert!(s.table(2).unwrap().capacity() >= 1000);
    s.clear();
    assert_eq!((s.len(), s.allocated_tables()), (0, 0));
    let mut st: KvStore<Bytes> = KvStore::new(1);
    st.insert(0, Bytes::new(b"y"));
    assert_eq!(st.take().len(), 1);
    assert!(st.is_empty());
}

#[test]
#[should_panic(expected = "power of two")]
fn slot_count_must_be_a_power_of_two() {
    let _ = KvStore::<Bytes>::new(1000);
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, u16, u64),
    Remove(u8, u16),
    Get(u8, u16),
    Toggle(u8, u16, u64),
    SetVal(u8, u16, u64),
    Fill(u8, u16),
    ScanSteps(u8),
    Rehash,
    Retain(u8),
    Random(u64),
    Take,
}

const SLOTS: usize = 16;

fn op() -> impl Strategy<Value = Op> {
    let s = 0..SLOTS as u8;
    let k = 0u16..200;
    prop_oneof![
        8 => (s.clone(), k.clone(), any::<u64>()).prop_map(|(s, k, v)| Op::Insert(s, k, v)),
        5 => (s.clone(), k.clone()).prop_map(|(s, k)| Op::Remove(s, k)),
        3 => (s.clone(), k.clone()).prop_map(|(s, k)| Op::Get(s, k)),
        3 => (s.clone(), k.clone(), any::<u64>()).prop_map(|(s, k, v)| Op::Toggle(s, k, v)),
        2 => (s.clone(), k.clone(), any::<u64>()).prop_map(|(s, k, v)| Op::SetVal(s, k, v)),
        1 => (s.clone(), 0u16..300).prop_map(|(s, n)| Op::Fill(s, n)),
        4 => any::<u8>().prop_map(Op::ScanSteps),
        1 => Just(Op::Rehash),
        1 => (1u8..4).prop_map(Op::Retain),
        2 => any::<u64>().prop_map(Op::Random),
        1 => prop::bool::weighted(0.2).prop_map(|_| Op::Take),
    ]
}

/// Model keys carry their slot: `"{slot}/..."`.
fn sk(slot: u8, k: u16) -> Vec<u8> {
    format!("{slot}/key:{k}").into_bytes()
}

fn slot_of(k: &[u8]) -> usize {
    let end = k.iter().position(|&b| b == b'/').unwrap();
    std::str::from_utf8(&k[..end]).unwrap().parse().unwrap()
}

type Model = HashMap<(usize, Vec<u8>), u64>;
type KeySet = HashSet<(usize, Vec<u8>)>;

fn check(s: &KvStore<Kv>, m: &Model) {
    assert_eq!(s.len(), m.len());
    let mut per_slot = [0usize; SLOTS];
    for (slot, _) in m.keys() {
        per_slot[*slot] += 1;
    }
    for (slot, &n) in per_slot.iter().enumerate() {
        assert_eq!(s.len_in_slot(slot), n);
        assert_eq!(
            s.table(slot).is_some(),
            n > 0,
            "table of slot {slot} with {n} entries"
        );
    }
    assert_eq!(
        s.allocated_tables(),
        per_slot.iter().filter(|&&n| n > 0).count()
    );
    // Entries laid end to end by slot: slot_of_nth agrees with the counts.
    let mut nth = 0;
    for (slot, &n) in per_slot.iter().enumerate() {
        if n > 0 {
            assert_eq!(s.slot_of_nth(nth), Some(slot));
            assert_eq!(s.slot_of_nth(nth + n - 1), Some(slot));
        }
        nth += n;
    }
    assert_eq!(s.slot_of_nth(nth), None);
}

fn full_check(s: &KvStore<Kv>, m: &Model) {
    check(s, m);
    let mut got = Model::new();
    for slot in 0..SLOTS {
        for e in s.slot_keys(slot) {
            assert!(got.insert((slot, e.key().to_vec()), e.val()).is_none());
        }
    }
    assert_eq!(&got, m);
    assert_eq!(s.iter().count(), m.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(128), ..ProptestConfig::default() })]

    #[test]
    fn model(ops in prop::collection::vec(op(), 1..150)) {
        let mut s: KvStore<Kv> = KvStore::new(SLOTS);
        let mut m = Model::new();
        // A scan in progress: its cursor, what it returned, and the entries
        // present since it started.
        let mut scan: Option<(u64, KeySet, KeySet)> = None;
        for o in &ops {
            match *o {
                Op::Insert(sl, k, v) => {
                    let (sl, kb) = (sl as usize, sk(sl, k));
                    let old = s.insert(sl, Kv::new(&kb, v)).map(|e| e.val());
                    prop_assert_eq!(old, m.insert((sl, kb), v));
                }
                Op::Remove(sl, k) => {
                    let (sl, kb) = (sl as usize, sk(sl, k));
                    let got = s.remove(sl, &kb).map(|e| e.val());
                    if let Some((_, _, stable)) = &mut scan {
                        stable.remove(&(sl, kb.clone()));
                    }
                    prop_assert_eq!(got, m.remove(&(sl, kb)));
                }
                Op::Get(sl, k) => {
                    let (sl, kb) = (sl as usize, sk(sl, k));
                    prop_assert_eq!(s.get(sl, &kb).map(|e| e.val()), m.get(&(sl, kb)).copied());
                }
                Op::Toggle(sl, k, v) => {
                    let (sl, kb) = (sl as usize, sk(sl, k));
                    match s.entry(sl, &kb) {
                        KvEntry::Occupied(o) => {
                            prop_assert_eq!(Some(o.remove().val()), m.remove(&(sl, kb.clone())));
                            if let Some((_, _, stable)) = &mut scan {
                                stable.remove(&(sl, kb));
                            }
                        }
                        KvEntry::Vacant(vac) => {
                            vac.insert(Kv::new(&kb, v));
                            prop_assert!(m.insert((sl, kb), v).is_none());
                        }
                    }
                }
                Op::SetVal(sl, k, v) => {
                    let (sl, kb) = (sl as usize, sk(sl, k));
                    if let Some(mut e) = s.get_mut(sl, &kb) {
                        *e = Kv::new(&kb, v);
                        *m.get_mut(&(sl, kb)).unwrap() = v;
                    } else {
                        prop_assert!(!m.contains_key(&(sl, kb)));
                    }
                }
                Op::Fill(sl, n) => {
                    for k in 0..n {
                        let kb = format!("{sl}/fill:{k}").into_bytes();
                        s.insert(sl as usize, Kv::new(&kb, 1));
                        m.insert((sl as usize, kb), 1);
                    }
                }
                Op::ScanSteps(n) => {
                    let st = scan.get_or_insert_with(|| (0, HashSet::new(), m.keys().cloned().collect()));
                    for _ in 0..=n / 8 {
                        let before = st.0;
                        let mut slots = HashSet::new();
                        st.0 = s.scan(st.0, |e| {
                            let slot = slot_of(e.key());
                            assert_eq!(m.get(&(slot, e.key().to_vec())), Some(&e.val()));
                            slots.insert(slot);
                            st.1.insert((slot, e.key().to_vec()));
                        });
                        // One call scans within one slot, at or after the
                        // cursor's.
                        prop_assert!(slots.len() <= 1 || slots.iter().all(|&x| x >= (before as usize & (SLOTS - 1))));
                        if st.0 == 0 {
                            let missed = st.2.difference(&st.1).count();
                            prop_assert_eq!(missed, 0, "scan missed stable entries");
                            scan = None;
                            break;
                        }
                    }
                }
                Op::Rehash => {
                    while s.rehash_for(Duration::from_millis(5)) {}
                    prop_assert_eq!(s.rehashing_tables(), 0);
                }
                Op::Retain(d) => {
                    s.retain(|_, e| e.val() % u64::from(d) != 0);
                    m.retain(|_, v| *v % u64::from(d) != 0);
                    if let Some((_, _, stable)) = &mut scan {
                        stable.retain(|k| m.contains_key(k));
                    }
                }
                Op::Random(seed) => {
                    let mut r = rng(seed);
                    let e = s.random_entry(&mut r);
                    prop_assert_eq!(e.is_some(), !m.is_empty());
                    let e = s.fair_random_entry(&mut r);
                    prop_assert_eq!(e.is_some(), !m.is_empty());
                    let mut out = Vec::new();
                    let n = s.sample(10, &mut r, &mut out);
                    prop_assert_eq!(n, m.len().min(10));
                    let slot = s.random_slot(&mut r);
                    if let Some(slot) = slot {
                        prop_assert!(s.len_in_slot(slot) > 0);
                    }
                }
                Op::Take => {
                    let old = s.take();
                    prop_assert_eq!(old.len(), m.len());
                    drop(old);
                    m.clear();
                    if let Some((_, _, stable)) = &mut scan {
                        stable.clear();
                    }
                }
            }
            check(&s, &m);
        }
        full_check(&s, &m);
    }
}
