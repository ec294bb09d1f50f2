//! Property tests: random operation sequences against `HashMap` as the
//! model, and the SCAN guarantee across a grow to 100k entries and back.

mod common;

use common::{cases, key, rng, Bytes, Kv, MaskedHash};
use ferrokey_table::{DefaultHashBuilder, Entry, EntryRef, Table};
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

#[derive(Clone, Debug)]
enum Op {
    Insert(u16, u64),
    Remove(u16),
    Get(u16),
    /// get_mut and change the value in place.
    SetVal(u16, u64),
    /// get_mut and replace the entry by a new allocation.
    Realloc(u16, u64),
    /// entry(): remove when occupied, insert when vacant.
    Toggle(u16, u64),
    InsertRange(u16, u16),
    RemoveRange(u16, u16),
    ScanSteps(u8),
    RehashSteps(u8),
    Pause,
    Resume,
    PauseShrink,
    ResumeShrink,
    /// iter_mut, removing entries whose value is a multiple of the argument.
    IterMutRemove(u8),
    Retain(u8),
    Reserve(u16),
    Random(u64),
    Clear,
}

fn op(keys: u16) -> impl Strategy<Value = Op> {
    let k = 0..keys;
    prop_oneof![
        8 => (k.clone(), any::<u64>()).prop_map(|(k, v)| Op::Insert(k, v)),
        6 => k.clone().prop_map(Op::Remove),
        4 => k.clone().prop_map(Op::Get),
        2 => (k.clone(), any::<u64>()).prop_map(|(k, v)| Op::SetVal(k, v)),
        2 => (k.clone(), any::<u64>()).prop_map(|(k, v)| Op::Realloc(k, v)),
        3 => (k.clone(), any::<u64>()).prop_map(|(k, v)| Op::Toggle(k, v)),
        2 => (k.clone(), 0..keys).prop_map(|(a, n)| Op::InsertRange(a, n)),
        2 => (k.clone(), 0..keys).prop_map(|(a, n)| Op::RemoveRange(a, n)),
        4 => any::<u8>().prop_map(Op::ScanSteps),
        2 => any::<u8>().prop_map(Op::RehashSteps),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
        1 => Just(Op::PauseShrink),
        1 => Just(Op::ResumeShrink),
        1 => (1u8..5).prop_map(Op::IterMutRemove),
        1 => (1u8..5).prop_map(Op::Retain),
        1 => (0..keys).prop_map(Op::Reserve),
        2 => any::<u64>().prop_map(Op::Random),
        1 => prop::bool::weighted(0.1).prop_map(|_| Op::Clear),
    ]
}

/// A scan in progress across operations, and what it must return.
struct ScanState {
    cursor: u64,
    seen: HashSet<Vec<u8>>,
    /// Keys present since the scan started.
    stable: HashSet<Vec<u8>>,
}

fn removed(scan: &mut Option<ScanState>, k: &[u8]) {
    if let Some(s) = scan {
        s.stable.remove(k);
    }
}

struct Harness<S: BuildHasher> {
    t: Table<Kv, S>,
    m: HashMap<Vec<u8>, u64>,
    scan: Option<ScanState>,
    pauses: u32,
    shrink_pauses: u32,
    keys: u16,
}

impl<S: BuildHasher> Harness<S> {
    fn new(hasher: S, keys: u16) -> Self {
        Harness {
            t: Table::with_hasher(hasher),
            m: HashMap::new(),
            scan: None,
            pauses: 0,
            shrink_pauses: 0,
            keys,
        }
    }

    fn run(&mut self, op: &Op) {
        let (t, m, scan) = (&mut self.t, &mut self.m, &mut self.scan);
        match *op {
            Op::Insert(k, v) => {
                let kb = key(k.into());
                let old = t.insert(Kv::new(&kb, v)).map(|e| e.val());
                assert_eq!(old, m.insert(kb, v));
            }
            Op::Remove(k) => {
                let kb = key(k.into());
                let got = t.remove(&kb).map(|e| e.val());
                assert_eq!(got, m.remove(&kb));
                removed(scan, &kb);
            }
            Op::Get(k) => {
                let kb = key(k.into());
                assert_eq!(t.get(&kb).map(|e| e.val()), m.get(&kb).copied());
            }
            Op::SetVal(k, v) => {
                let kb = key(k.into());
                match (t.get_mut(&kb), m.get_mut(&kb)) {
                    (Some(mut e), Some(mv)) => {
                        e.set_val(v);
                        *mv = v;
                    }
                    (None, None) => {}
                    _ => panic!("get_mut disagrees on {k}"),
                }
            }
            Op::Realloc(k, v) => {
                let kb = key(k.into());
                match (t.get_mut(&kb), m.get_mut(&kb)) {
                    (Some(mut e), Some(mv)) => {
                        *e = Kv::new(&kb, v);
                        *mv = v;
                    }
                    (None, None) => {}
                    _ => panic!("get_mut disagrees on {k}"),
                }
            }
            Op::Toggle(k, v) => {
                let kb = key(k.into());
                match t.entry(&kb) {
                    EntryRef::Occupied(o) => {
                        assert_eq!(o.get().val(), m[&kb]);
                        assert_eq!(o.remove().val(), m.remove(&kb).unwrap());
                        removed(scan, &kb);
                    }
                    EntryRef::Vacant(vac) => {
                        assert!(!m.contains_key(&kb));
                        assert_eq!(vac.insert(Kv::new(&kb, v)).val(), v);
                        m.insert(kb, v);
                    }
                }
            }
            Op::InsertRange(a, n) => {
                for k in a..a.saturating_add(n).min(self.keys) {
                    let kb = key(k.into());
                    let v = u64::from(k) * 7;
                    assert_eq!(t.insert(Kv::new(&kb, v)).map(|e| e.val()), m.insert(kb, v));
                }
            }
            Op::RemoveRange(a, n) => {
                for k in a..a.saturating_add(n).min(self.keys) {
                    let kb = key(k.into());
                    assert_eq!(t.remove(&kb).map(|e| e.val()), m.remove(&kb));
                    removed(scan, &kb);
                }
            }
            Op::ScanSteps(n) => {
                let s = scan.get_or_insert_with(|| ScanState {
                    cursor: 0,
                    seen: HashSet::new(),
                    stable: m.keys().cloned().collect(),
                });
                for _ in 0..=n {
                    s.cursor = t.scan(s.cursor, |e| {
                        assert_eq!(
                            m.get(e.key()),
                            Some(&e.val()),
                            "scan returned a stale entry"
                        );
                        s.seen.insert(e.key().to_vec());
                    });
                    if s.cursor == 0 {
                        let missed = s.stable.difference(&s.seen).count();
                        assert_eq!(missed, 0, "scan missed {missed} stable entries");
                        *scan = None;
                        break;
                    }
                }
            }
            Op::RehashSteps(n) => {
                let busy = t.rehash_steps(n.into());
                assert!(busy == t.is_rehashing());
                if self.pauses == 0 && n == 255 {
                    assert!(!t.rehash_steps(usize::MAX));
                }
            }
            Op::Pause => {
                t.pause_rehashing();
                self.pauses += 1;
            }
            Op::Resume => {
                if self.pauses > 0 {
                    t.resume_rehashing();
                    self.pauses -= 1;
                }
            }
            Op::PauseShrink => {
                t.pause_auto_shrink();
                self.shrink_pauses += 1;
            }
            Op::ResumeShrink => {
                if self.shrink_pauses > 0 {
                    t.resume_auto_shrink();
                    self.shrink_pauses -= 1;
                }
            }
            Op::IterMutRemove(d) => {
                let mut visited = HashSet::new();
                let mut gone = Vec::new();
                {
                    let mut it = t.iter_mut();
                    loop {
                        let Some(e) = it.next() else { break };
                        let (kb, v) = (e.key().to_vec(), e.val());
                        drop(e);
                        assert_eq!(m.get(&kb), Some(&v));
                        assert!(visited.insert(kb.clone()), "visited twice");
                        if v % u64::from(d) == 0 {
                            assert_eq!(it.remove_current().unwrap().val(), v);
                            gone.push(kb);
                        }
                    }
                }
                assert_eq!(visited.len(), m.len(), "iter_mut missed entries");
                for kb in gone {
                    m.remove(&kb);
                    removed(scan, &kb);
                }
            }
            Op::Retain(d) => {
                let mut gone = Vec::new();
                t.retain(|e| {
                    let keep = e.val() % u64::from(d) != 1;
                    if !keep {
                        gone.push(e.key().to_vec());
                    }
                    keep
                });
                for kb in gone {
                    m.remove(&kb).unwrap();
                    removed(scan, &kb);
                }
            }
            Op::Reserve(n) => {
                t.reserve(n.into());
                if !t.is_rehashing() {
                    assert!(t.capacity() >= (m.len() + usize::from(n)).min(1));
                }
            }
            Op::Random(seed) => {
                let mut r = rng(seed);
                let e = t.random_entry(&mut r);
                assert_eq!(e.is_some(), !m.is_empty());
                if let Some(e) = e {
                    assert_eq!(m.get(e.key()), Some(&e.val()));
                }
                let mut out = Vec::new();
                let n = t.sample(5, &mut r, &mut out);
                assert_eq!(n, m.len().min(5));
                let uniq: HashSet<&[u8]> = out.iter().map(|e| e.key()).collect();
                assert_eq!(uniq.len(), n);
            }
            Op::Clear => {
                t.clear();
                m.clear();
                if let Some(s) = scan {
                    s.stable.clear();
                }
            }
        }
        assert_eq!(self.t.len(), self.m.len(), "after {op:?}");
    }

    fn check_all(&mut self) {
        while self.pauses > 0 {
            self.t.resume_rehashing();
            self.pauses -= 1;
        }
        while self.shrink_pauses > 0 {
            self.t.resume_auto_shrink();
            self.shrink_pauses -= 1;
        }
        let got: HashMap<Vec<u8>, u64> =
            self.t.iter().map(|e| (e.key().to_vec(), e.val())).collect();
        assert_eq!(got, self.m);
        assert_eq!(self.t.iter().count(), self.m.len(), "iter duplicates");
        for k in 0..self.keys {
            let kb = key(k.into());
            assert_eq!(self.t.get(&kb).map(|e| e.val()), self.m.get(&kb).copied());
        }
        self.t.rehash_steps(usize::MAX);
        if self.m.is_empty() {
            // Deleting the last entry frees everything unless paused then.
            self.t.clear();
            assert_eq!(self.t.bucket_bytes(), 0);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(128), ..ProptestConfig::default() })]

    #[test]
    fn model_default_hasher(ops in prop::collection::vec(op(3000), 1..200)) {
        let mut h = Harness::new(DefaultHashBuilder, 3000);
        for o in &ops {
            h.run(o);
        }
        h.check_all();
    }

    /// 16 chains with varied tags: long chains, compaction on every delete.
    #[test]
    fn model_low_entropy_hasher(ops in prop::collection::vec(op(400), 1..200)) {
        let mut h = Harness::new(MaskedHash(0xff00_0000_0000_000f), 400);
        for o in &ops {
            h.run(o);
        }
        h.check_all();
    }

    /// Every hash equal: one chain, every slot matches every tag.
    #[test]
    fn model_constant_hasher(ops in prop::collection::vec(op(120), 1..120)) {
        let mut h = Harness::new(MaskedHash(0), 120);
        for o in &ops {
            h.run(o);
        }
        h.check_all();
    }
}

/// Progress of a scan through the cursor space, in [0, 1): the cursor is
/// incremented from its top bit, so its bit reversal only grows.
fn progress(cursor: u64, bits: u32) -> f64 {
    (cursor.reverse_bits() >> (64 - bits)) as f64 / (1u64 << bits) as f64
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(5), ..ProptestConfig::default() })]

    /// The SCAN guarantee: an entry present for the whole scan is returned
    /// at least once, while the table grows from a few entries to 100k and
    /// shrinks back in the middle of the scan.
    #[test]
    fn scan_survives_grow_to_100k_and_shrink(
        start in 0usize..2000,
        p1 in 0.05f64..0.4,
        p2 in 0.4f64..0.7,
        every in 50usize..2000,
        seed in any::<u64>(),
    ) {
        const N: usize = 100_000;
        let mut t: Table<Bytes> = Table::new();
        let mut r = rng(seed);
        let name = |i: usize| format!("e{i}").into_bytes();
        for i in 0..start {
            t.insert(Bytes::new(&name(i)));
        }
        let mut seen = HashSet::new();
        let mut cursor = 0u64;
        let mut step = |t: &Table<Bytes>, cursor: &mut u64| {
            *cursor = t.scan(*cursor, |e| { seen.insert(e.key().to_vec()); });
        };
        // Phase 1: part of the scan on the small table.
        if start > 0 {
            while progress(cursor, 20) < p1 {
                step(&t, &mut cursor);
                if cursor == 0 { break; }
            }
        }
        let mid_scan = cursor != 0 || start == 0;
        // Phase 2: grow to 100k, one scan step every `every` inserts while
        // the scan is below p2; the table rehashes all along.
        for i in start..N {
            t.insert(Bytes::new(&name(i)));
            if i % every == 0 && cursor != 0 && progress(cursor, 20) < p2 {
                step(&t, &mut cursor);
            }
        }
        // Phase 3: shrink back to the starting entries, removing in a
        // random order, with scan steps as before.
        let mut order: Vec<usize> = (start..N).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, (r() % (i as u64 + 1)) as usize);
        }
        for (n, i) in order.into_iter().enumerate() {
            assert!(t.remove(&name(i)).is_some());
            if n % every == 0 && cursor != 0 {
                step(&t, &mut cursor);
            }
        }
        assert_eq!(t.len(), start);
        // Phase 4: finish the scan.
        if mid_scan {
            while cursor != 0 {
                step(&t, &mut cursor);
            }
        }
        for i in 0..start {
            prop_assert!(seen.contains(&name(i)), "entry {} present throughout was not returned", i);
        }
    }
}

#[test]
fn scan_entries_survive_rehash_paused_mid_scan() {
    // A scan step while a grow is paused half way, then resumed: the
    // entries present throughout still come back.
    let mut t: Table<Bytes> = Table::new();
    for i in 0..4096 {
        t.insert(Bytes::new(&key(i)));
    }
    t.rehash_steps(usize::MAX);
    let mut seen = HashSet::new();
    let mut c = 0;
    for _ in 0..100 {
        c = t.scan(c, |e| {
            seen.insert(e.key().to_vec());
        });
    }
    t.insert(Bytes::new(&key(4096)));
    t.rehash_steps(200);
    t.pause_rehashing();
    for _ in 0..100 {
        c = t.scan(c, |e| {
            seen.insert(e.key().to_vec());
        });
    }
    t.resume_rehashing();
    while c != 0 {
        c = t.scan(c, |e| {
            seen.insert(e.key().to_vec());
        });
    }
    assert!((0..4096).all(|i| seen.contains(&key(i))));
}
