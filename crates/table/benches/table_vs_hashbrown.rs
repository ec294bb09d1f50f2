//! Table vs `hashbrown::HashTable` holding the same pointer entries (the
//! tests' `Bytes` allocations) with the same hasher (`DefaultHashBuilder`).
//!
//!   cargo bench -p ferrokey-table --bench table_vs_hashbrown
//!   FERROKEY_BENCH_10M=1 cargo bench -p ferrokey-table --bench table_vs_hashbrown
//!
//! Sizes: 1k and 1M entries, plus 10M when FERROKEY_BENCH_10M is set (it
//! needs ~1 GB and a few minutes). Insert and delete report the time to
//! insert / delete all N entries (per op = time / N; criterion prints the
//! rate as elements/s); lookups report batches of 1000.

#[path = "../tests/common/mod.rs"]
mod common;

use common::Bytes;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ferrokey_table::{DefaultHashBuilder, Entry, Table};
use hashbrown::hash_table::Entry as HbEntry;
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

const KEY_LEN: usize = 14;
const BATCH: usize = 1000;

/// Fixed-width keys, so hits and misses cost the same to hash and compare.
fn key(i: u64) -> [u8; KEY_LEN] {
    let mut k = *b"key:0000000000";
    let mut x = i;
    for b in k[4..].iter_mut().rev() {
        *b = b'0' + (x % 10) as u8;
        x /= 10;
    }
    k
}

fn miss_key(i: u64) -> [u8; KEY_LEN] {
    let mut k = key(i);
    k[..4].copy_from_slice(b"mis:");
    k
}

/// The operations both tables are measured on.
trait Subject: Sized {
    const NAME: &'static str;
    fn new() -> Self;
    fn insert(&mut self, e: Bytes);
    fn hit(&self, k: &[u8]) -> bool;
    fn remove(&mut self, k: &[u8]) -> Option<Bytes>;
    /// Finishes background work (our incremental rehash; the server cron
    /// does it within a second), so lookups meet the steady state.
    fn settle(&mut self) {}
}

impl Subject for Table<Bytes> {
    const NAME: &'static str = "ferrokey";
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

/// hashbrown's raw table with the same entries and hasher, used the way a
/// keyspace uses it: insert replaces an existing key.
struct Hb(HashTable<Bytes>);

#[inline]
fn hb_hash(k: &[u8]) -> u64 {
    DefaultHashBuilder.hash_one(k)
}

impl Subject for Hb {
    const NAME: &'static str = "hashbrown";
    fn new() -> Self {
        Hb(HashTable::new())
    }
    #[inline]
    fn insert(&mut self, e: Bytes) {
        let h = hb_hash(e.key());
        match self
            .0
            .entry(h, |x| x.key() == e.key(), |x| hb_hash(x.key()))
        {
            HbEntry::Occupied(mut o) => {
                black_box(std::mem::replace(o.get_mut(), e));
            }
            HbEntry::Vacant(v) => {
                v.insert(e);
            }
        }
    }
    #[inline]
    fn hit(&self, k: &[u8]) -> bool {
        self.0.find(hb_hash(k), |x| x.key() == k).is_some()
    }
    #[inline]
    fn remove(&mut self, k: &[u8]) -> Option<Bytes> {
        match self.0.find_entry(hb_hash(k), |x| x.key() == k) {
            Ok(o) => Some(o.remove().0),
            Err(_) => None,
        }
    }
}

/// Keys and a random visiting order for a size.
struct Data {
    keys: Vec<[u8; KEY_LEN]>,
    order: Vec<u32>,
}

impl Data {
    fn new(n: usize) -> Self {
        let keys: Vec<_> = (0..n as u64).map(key).collect();
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut r = common::rng(n as u64);
        for i in (1..n).rev() {
            order.swap(i, (r() % (i as u64 + 1)) as usize);
        }
        Data { keys, order }
    }

    fn entries(&self) -> Vec<Bytes> {
        self.keys.iter().map(|k| Bytes::new(k)).collect()
    }

    fn build<T: Subject>(&self) -> T {
        let mut t = T::new();
        for e in self.entries() {
            t.insert(e);
        }
        t
    }
}

fn bench_insert<T: Subject>(c: &mut Criterion, d: &Data, group: &str) {
    let n = d.keys.len();
    let mut g = c.benchmark_group(group);
    configure(&mut g, n);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new(T::NAME, n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let entries = d.entries();
                let start = Instant::now();
                let mut t = T::new();
                for e in entries {
                    t.insert(e);
                }
                total += start.elapsed();
                drop(black_box(t));
            }
            total
        })
    });
    g.finish();
}

fn bench_lookup<T: Subject>(c: &mut Criterion, d: &Data, t: &T, hit: bool) {
    let n = d.keys.len();
    let group = if hit { "lookup_hit" } else { "lookup_miss" };
    let mut g = c.benchmark_group(group);
    configure(&mut g, n);
    g.throughput(Throughput::Elements(BATCH as u64));
    let probes: Vec<[u8; KEY_LEN]> = if hit {
        d.order.iter().map(|&i| d.keys[i as usize]).collect()
    } else {
        d.order.iter().map(|&i| miss_key(i.into())).collect()
    };
    let mut pos = 0usize;
    g.bench_function(BenchmarkId::new(T::NAME, n), |b| {
        b.iter(|| {
            let mut found = 0usize;
            for _ in 0..BATCH {
                found += usize::from(t.hit(black_box(&probes[pos][..])));
                pos += 1;
                if pos == probes.len() {
                    pos = 0;
                }
            }
            assert_eq!(found, if hit { BATCH } else { 0 });
            found
        })
    });
    g.finish();
}

fn bench_delete<T: Subject>(c: &mut Criterion, d: &Data) {
    let n = d.keys.len();
    let mut g = c.benchmark_group("delete");
    configure(&mut g, n);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new(T::NAME, n), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut t: T = d.build();
                // Removed entries are kept, so freeing them is not timed.
                let mut out = Vec::with_capacity(n);
                let start = Instant::now();
                for &i in &d.order {
                    out.push(t.remove(black_box(&d.keys[i as usize][..])));
                }
                total += start.elapsed();
                assert!(out.iter().all(Option::is_some));
                drop(t);
            }
            total
        })
    });
    g.finish();
}

fn configure(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>, n: usize) {
    if n >= 1_000_000 {
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(if n >= 10_000_000 { 20 } else { 5 }));
    } else {
        g.warm_up_time(Duration::from_secs(1));
        g.measurement_time(Duration::from_secs(3));
    }
}

fn sizes() -> Vec<usize> {
    let mut s = vec![1_000, 1_000_000];
    if std::env::var_os("FERROKEY_BENCH_10M").is_some() {
        s.push(10_000_000);
    }
    s
}

fn all(c: &mut Criterion) {
    for n in sizes() {
        let d = Data::new(n);
        bench_insert::<Table<Bytes>>(c, &d, "insert");
        bench_insert::<Hb>(c, &d, "insert");
        {
            let mut t: Table<Bytes> = d.build();
            t.settle();
            bench_lookup(c, &d, &t, true);
            bench_lookup(c, &d, &t, false);
        }
        {
            let t: Hb = d.build();
            bench_lookup(c, &d, &t, true);
            bench_lookup(c, &d, &t, false);
        }
        bench_delete::<Table<Bytes>>(c, &d);
        bench_delete::<Hb>(c, &d);
    }
}

criterion_group!(benches, all);
criterion_main!(benches);
