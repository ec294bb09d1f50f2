//! Memory of the table per entry (bucket bytes / entries, the entries
//! themselves excluded) at sizes from 1M to 10M in 20 geometric steps,
//! beside hashbrown's allocation for the same entries.
//!
//!   cargo run --release -p ferrokey-table --example bytes_per_entry
//!
//! "now" is the table as the inserts left it (possibly mid-rehash, with both
//! arrays allocated); "settled" is after finishing the rehash, as the server
//! cron does within a second or so. "pool slack" is what the bucket pool
//! holds beyond the table's own buckets (free buckets in its chunks, spare
//! chunks), per entry, settled: memory the process holds that no table's
//! `bucket_bytes` counts (`ferrokey_table::pool_stats`).

#[path = "../tests/common/mod.rs"]
mod common;

use common::Bytes;
use ferrokey_table::{pool_stats, DefaultHashBuilder, Entry, Table};
use hashbrown::HashTable;
use std::hash::BuildHasher;

fn main() {
    let steps = 20;
    let (lo, hi) = (1_000_000f64, 10_000_000f64);
    let sizes: Vec<usize> = (0..steps)
        .map(|i| (lo * (hi / lo).powf(i as f64 / (steps - 1) as f64)).round() as usize)
        .collect();
    let mut t: Table<Bytes> = Table::new();
    let mut hb: HashTable<Bytes> = HashTable::new();
    let h = |k: &[u8]| DefaultHashBuilder.hash_one(k);
    let mut next = 0usize;
    let (mut sum_now, mut sum_settled, mut sum_hb, mut sum_slack) = (0.0, 0.0, 0.0, 0.0);
    println!(
        "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "entries", "now B/e", "settled", "fill %", "hashbrown", "pool slack"
    );
    for &n in &sizes {
        while next < n {
            let k = format!("key:{next:010}");
            t.insert(Bytes::new(k.as_bytes()));
            let e = Bytes::new(k.as_bytes());
            hb.insert_unique(h(e.key()), e, |x| h(x.key()));
            next += 1;
        }
        let now = t.bucket_bytes() as f64 / n as f64;
        t.rehash_steps(usize::MAX);
        let settled = t.bucket_bytes() as f64 / n as f64;
        let fill = 100.0 * n as f64 / t.capacity() as f64;
        let hbe = hb.allocation_size() as f64 / n as f64;
        // The table's children: its bucket bytes beyond its array (8 bytes
        // of array per slot), in the pool (used_bytes) or, for big levels,
        // in chunks lent to their arenas (lent_bytes). The rest of what
        // the pool holds is slack.
        let pool = pool_stats();
        let children = t.bucket_bytes() - t.capacity() * 8;
        let in_use = pool.used_bytes + children.min(pool.lent_bytes);
        let slack = pool.held_bytes.saturating_sub(in_use) as f64 / n as f64;
        println!("{n:>10} {now:>10.2} {settled:>10.2} {fill:>10.1} {hbe:>10.2} {slack:>10.3}");
        sum_now += now;
        sum_settled += settled;
        sum_hb += hbe;
        sum_slack += slack;
    }
    let k = sizes.len() as f64;
    println!(
        "{:>10} {:>10.2} {:>10.2} {:>10} {:>10.2} {:>10.3}",
        "average",
        sum_now / k,
        sum_settled / k,
        "",
        sum_hb / k,
        sum_slack / k
    );
}
