//! Shape statistics of a table (Valkey's `hashtableGetStats`, behind
//! `DEBUG HTSTATS`): per bucket array, its size, fill and how long the
//! bucket chains grew. Read-only and O(buckets), for debugging only.

use crate::bucket::SLOTS;
use crate::table::{Entry, Table};
use crate::KvStore;

/// Chains of this many child buckets or more share the histogram's last
/// entry (Valkey's `HASHTABLE_STATS_VECTLEN - 1`).
pub const CHAIN_HISTOGRAM_LEN: usize = 50;

/// The statistics of one bucket array: the main one (`index` 0) or the one
/// a rehash is filling (`index` 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelStats {
    pub index: usize,
    pub top_level_buckets: usize,
    pub child_buckets: usize,
    /// Entry slots in the top-level buckets.
    pub size: usize,
    pub used: usize,
    /// Only with `full`: the longest chain of child buckets under one
    /// top-level bucket, and how many top-level buckets have each length.
    pub max_chain_len: usize,
    pub chain_lengths: Vec<usize>,
}

impl LevelStats {
    fn empty(index: usize) -> LevelStats {
        LevelStats {
            index,
            top_level_buckets: 0,
            child_buckets: 0,
            size: 0,
            used: 0,
            max_chain_len: 0,
            chain_lengths: vec![0; CHAIN_HISTOGRAM_LEN],
        }
    }

    /// Adds `other`'s counts (the tables of a [`KvStore`] shown as one).
    pub fn combine(&mut self, other: &LevelStats) {
        self.top_level_buckets += other.top_level_buckets;
        self.child_buckets += other.child_buckets;
        self.size += other.size;
        self.used += other.used;
        self.max_chain_len = self.max_chain_len.max(other.max_chain_len);
        for (a, b) in self.chain_lengths.iter_mut().zip(&other.chain_lengths) {
            *a += b;
        }
    }
}

impl<E: Entry, S> Table<E, S> {
    /// Statistics of the main bucket array and, while rehashing, of the
    /// target one. Chain lengths are walked only with `full`.
    pub fn stats(&self, full: bool) -> Vec<LevelStats> {
        let mut out = Vec::with_capacity(2);
        for (index, level) in self.levels.iter().enumerate() {
            if index == 1 && !level.is_allocated() {
                break;
            }
            let mut s = LevelStats::empty(index);
            s.used = level.used;
            s.child_buckets = level.children;
            if level.is_allocated() {
                s.top_level_buckets = level.num_buckets();
                s.size = s.top_level_buckets * SLOTS;
            }
            if full && level.is_allocated() {
                for idx in 0..level.num_buckets() {
                    let mut len = 0;
                    // SAFETY: idx is below the allocated level's bucket
                    // count; each child pointer is a live bucket of the
                    // chain (the table's chaining invariant), and `&self`
                    // keeps the table from changing meanwhile.
                    let mut b = unsafe { &*level.bucket(idx) };
                    while b.is_chained() {
                        len += 1;
                        // SAFETY: as above: a chained bucket's child is live.
                        b = unsafe { &*b.child() };
                    }
                    s.max_chain_len = s.max_chain_len.max(len);
                    s.chain_lengths[len.min(CHAIN_HISTOGRAM_LEN - 1)] += 1;
                }
            }
            out.push(s);
        }
        out
    }
}

impl<E: Entry, S: core::hash::BuildHasher + Clone> KvStore<E, S> {
    /// [`Table::stats`] of every allocated table, summed: the main arrays
    /// together, then (if any table is rehashing) the targets together.
    pub fn stats(&self, full: bool) -> Vec<LevelStats> {
        let mut out: Vec<LevelStats> = Vec::new();
        for slot in 0..self.num_slots() {
            let Some(t) = self.table(slot) else { continue };
            for s in t.stats(full) {
                match out.iter_mut().find(|o| o.index == s.index) {
                    Some(o) => o.combine(&s),
                    None => out.push(s),
                }
            }
        }
        out.sort_by_key(|s| s.index);
        out
    }
}
