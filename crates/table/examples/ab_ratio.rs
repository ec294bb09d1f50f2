//! Interleaved A/B timing of our Table against `hashbrown::HashTable`
//! (same `Bytes` entries, same hasher): each round times one batch of each
//! table back to back, so load from other processes hits both alike, and
//! the per-op figure reported is the median over rounds.
//!
//!   cargo run --release -p ferrokey-table --example ab_ratio [N ...]
//!   FERROKEY_ALLOC=mimalloc cargo run --release -p ferrokey-table --example ab_ratio [N ...]
//!
//! (the second with the server's allocator; see `support/alloc_switch.rs`)
//!
//! Default sizes: 1000, 1000000, 10000000. Inserts build the table from
//! empty (entries pre-allocated, untimed); deletes remove every key in a
//! random order (removed entries kept, so their free is untimed); lookups
//! run batches of 100k random hits / misses on a settled table.

#[path = "support/alloc_switch.rs"]
mod alloc_switch;
#[path = "../tests/common/mod.rs"]
mod common;

#[global_allocator]
static ALLOC: alloc_switch::Switch = alloc_switch::Switch;

use common::Bytes;
use ferrokey_table::{DefaultHashBuilder, Entry, Table};
use hashbrown::hash_table::Entry as HbEntry;
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::hint::black_box;
use std::time::Instant;

fn key(i: u64, miss: bool) -> [u8; 14] {
    let mut k = *b"key:0000000000";
    if miss {
        k[..4].copy_from_slice(b"mis:");
    }
    let mut x = i;
    for b in k[4..].iter_mut().rev() {
        *b = b'0' + (x % 10) as u8;
        x /= 10;
    }
    k
}

fn h(k: &[u8]) -> u64 {
    DefaultHashBuilder.hash_one(k)
}

trait Subject {
    fn new() -> Self;
    fn insert(&mut self, e: Bytes);
    fn hit(&self, k: &[u8]) -> bool;
    fn remove(&mut self, k: &[u8]) -> Option<Bytes>;
    fn settle(&mut self) {}
}

impl Subject for Table<Bytes> {
    fn new() -> Self {
        Table::new()
    }
    #[inline]
    fn insert(&mut self, e: Bytes) {
        black_box(Table::insert(self, e));
    }
    #[inline]
    fn hit(&self, k: &[u8]) -> bool {
        self.get(k).is_some()
    }
    #[inline]
    fn remove(&mut self, k: &[u8]) -> Option<Bytes> {
        Table::remove(self, k)
    }
    fn settle(&mut self) {
        self.rehash_steps(usize::MAX);
    }
}

struct Hb(HashTable<Bytes>);

impl Subject for Hb {
    fn new() -> Self {
        Hb(HashTable::new())
    }
    #[inline]
    fn insert(&mut self, e: Bytes) {
        match self
            .0
            .entry(h(e.key()), |x| x.key() == e.key(), |x| h(x.key()))
        {
            HbEntry::Occupied(mut o) => drop(black_box(std::mem::replace(o.get_mut(), e))),
            HbEntry::Vacant(v) => drop(v.insert(e)),
        }
    }
    #[inline]
    fn hit(&self, k: &[u8]) -> bool {
        self.0.find(h(k), |x| x.key() == k).is_some()
    }
    #[inline]
    fn remove(&mut self, k: &[u8]) -> Option<Bytes> {
        self.0
            .find_entry(h(k), |x| x.key() == k)
            .ok()
            .map(|o| o.remove().0)
    }
}

struct Data {
    keys: Vec<[u8; 14]>,
    order: Vec<u32>,
}

fn entries(d: &Data) -> Vec<Bytes> {
    d.keys.iter().map(|k| Bytes::new(k)).collect()
}

/// ns per op of inserting all keys into an empty table.
fn time_insert<T: Subject>(d: &Data) -> (f64, T) {
    let es = entries(d);
    let start = Instant::now();
    let mut t = T::new();
    for e in es {
        t.insert(e);
    }
    (start.elapsed().as_nanos() as f64 / d.keys.len() as f64, t)
}

fn time_delete<T: Subject>(d: &Data, mut t: T) -> f64 {
    let mut out = Vec::with_capacity(d.keys.len());
    let start = Instant::now();
    for &i in &d.order {
        out.push(t.remove(black_box(&d.keys[i as usize][..])));
    }
    let ns = start.elapsed().as_nanos() as f64 / d.keys.len() as f64;
    assert!(out.iter().all(Option::is_some));
    ns
}

fn time_lookups<T: Subject>(
    t: &T,
    probes: &[[u8; 14]],
    from: usize,
    batch: usize,
    expect: bool,
) -> f64 {
    let start = Instant::now();
    let mut found = 0usize;
    for j in 0..batch {
        found += usize::from(t.hit(black_box(&probes[(from + j) % probes.len()][..])));
    }
    let ns = start.elapsed().as_nanos() as f64 / batch as f64;
    assert_eq!(found, if expect { batch } else { 0 });
    ns
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let sizes: Vec<usize> = {
        let a: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.replace('_', "").parse().ok())
            .collect();
        if a.is_empty() {
            vec![1_000, 1_000_000, 10_000_000]
        } else {
            a
        }
    };
    println!("allocator: {}", alloc_switch::name());
    println!(
        "{:>10} {:>12} {:>10} {:>10} {:>7}",
        "entries", "op", "ferrokey", "hashbrown", "ratio"
    );
    for n in sizes {
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut r = common::rng(n as u64);
        for i in (1..n).rev() {
            order.swap(i, (r() % (i as u64 + 1)) as usize);
        }
        let d = Data {
            keys: (0..n as u64).map(|i| key(i, false)).collect(),
            order,
        };
        // Build/delete rounds: more for small tables.
        let rounds = if n <= 10_000 {
            301
        } else if n <= 1_000_000 {
            7
        } else {
            3
        };
        let (mut ins, mut del) = ((vec![], vec![]), (vec![], vec![]));
        for _ in 0..rounds {
            let (a, ta) = time_insert::<Table<Bytes>>(&d);
            ins.0.push(a);
            del.0.push(time_delete(&d, ta));
            let (b, tb) = time_insert::<Hb>(&d);
            ins.1.push(b);
            del.1.push(time_delete(&d, tb));
        }
        let mut ours = time_insert::<Table<Bytes>>(&d).1;
        ours.settle();
        let theirs = time_insert::<Hb>(&d).1;
        let hits: Vec<[u8; 14]> = d.order.iter().map(|&i| d.keys[i as usize]).collect();
        let misses: Vec<[u8; 14]> = d.order.iter().map(|&i| key(i.into(), true)).collect();
        let batch = 100_000;
        let lrounds = 31;
        let (mut hit, mut miss) = ((vec![], vec![]), (vec![], vec![]));
        for k in 0..lrounds {
            let from = (k * batch) % n;
            hit.0.push(time_lookups(&ours, &hits, from, batch, true));
            hit.1.push(time_lookups(&theirs, &hits, from, batch, true));
            miss.0
                .push(time_lookups(&ours, &misses, from, batch, false));
            miss.1
                .push(time_lookups(&theirs, &misses, from, batch, false));
        }
        for (op, (a, b)) in [
            ("insert", ins),
            ("lookup hit", hit),
            ("lookup miss", miss),
            ("delete", del),
        ] {
            let (a, b) = (median(a), median(b));
            println!("{n:>10} {op:>12} {a:>10.1} {b:>10.1} {:>7.2}", a / b);
        }
    }
}
