//! Software prefetching for batches of lookups.
//!
//! A lookup in a table much larger than the caches costs two dependent
//! misses: the bucket line, then the entry the matching tag points to. A
//! server that has a batch of requests in hand (a pipelined read) can start
//! those misses for every request of the batch before running the first,
//! so they overlap instead of following one another:
//!
//! 1. [`Table::prefetch_bucket`] for every key of the batch;
//! 2. [`Table::prefetch_entries`] for every key — the bucket lines are then
//!    arriving, and the entries whose tags match are requested in turn;
//! 3. the lookups themselves, which now mostly hit the cache.
//!
//! Both calls are hints: they never change the table and never fault,
//! whatever the hash.

use crate::bucket::tag_of;
use crate::table::{Entry, Table};
use std::hash::BuildHasher;

impl<E: Entry, S: BuildHasher> Table<E, S> {
    /// The head bucket of the chain where `hash` lives, or null when the
    /// table has no buckets.
    #[inline]
    fn head_bucket(&self, hash: u64) -> *const crate::bucket::Bucket {
        let l0 = &self.levels[0];
        if !l0.is_allocated() {
            return std::ptr::null();
        }
        let idx = hash as usize & l0.mask();
        let l = if idx < self.rehash_idx && self.levels[1].is_allocated() {
            &self.levels[1]
        } else {
            l0
        };
        // SAFETY: the level is allocated (l0 checked above; level 1 checked
        // in the condition that picked it) and the index is masked to it.
        unsafe { l.bucket(hash as usize & l.mask()) }
    }

    /// Starts loading the bucket line where an entry of `hash` would be.
    #[inline]
    pub fn prefetch_bucket(&self, hash: u64) {
        let b = self.head_bucket(hash);
        if !b.is_null() {
            prefetch_line(b.cast());
        }
    }

    /// Starts loading the entries of the head bucket whose tags match
    /// `hash`. Reads the bucket: call it after [`Table::prefetch_bucket`]
    /// had time to bring the line in.
    #[inline]
    pub fn prefetch_entries(&self, hash: u64) {
        let b = self.head_bucket(hash);
        if b.is_null() {
            return;
        }
        // SAFETY: b is a bucket of this table, alive while &self is.
        let bucket = unsafe { &*b };
        let mut m = bucket.match_tag_nz(tag_of(hash));
        while m != 0 {
            let slot = m.trailing_zeros() as usize;
            m &= m - 1;
            prefetch_line(bucket.entry(slot));
        }
    }
}

/// Hints the CPU to bring the cache line at `p` in; never faults.
#[inline(always)]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86-64 baseline; a prefetch is only a hint
    // and does not access memory architecturally, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
