//! Random entries in expected O(1): scan from a random cursor and sample what
//! the visited buckets hold (Valkey's approach). Buckets are visited whole, so
//! a single draw is weighted towards entries in sparse buckets; the "fair"
//! variant draws from a larger sample to even that out.

use crate::table::{Entry, Ref, Table};
use core::hash::BuildHasher;

/// Sample size of [`Table::random_entry`]: about one bucket.
const WEAK_SAMPLE: usize = 8;
/// Sample size of [`Table::fair_random_entry`]: about ten buckets.
const FAIR_SAMPLE: usize = 80;

impl<E: Entry, S: BuildHasher> Table<E, S> {
    /// Fills `out` with up to `count` distinct entries chosen at random, and
    /// returns how many it added. `rng` returns uniformly random u64s.
    pub fn sample<'a>(
        &'a self,
        count: usize,
        rng: &mut dyn FnMut() -> u64,
        out: &mut Vec<Ref<'a, E>>,
    ) -> usize {
        let start = out.len();
        if count == 0 || self.is_empty() {
            return 0;
        }
        // Start at a random bucket of the smallest level: while rehashing, a
        // scan step covers one small bucket and every large bucket expanding
        // it, so a cursor not aligned to the small level would visit the rest
        // of a group now and the whole group again when the cursor wraps,
        // returning entries twice. From an aligned start, one cycle of the
        // cursor (until it comes back) visits every entry exactly once.
        let small_mask = self
            .levels
            .iter()
            .filter(|l| l.is_allocated())
            .map(|l| l.mask() as u64)
            .min()
            .unwrap_or(0);
        let first = rng() & small_mask;
        let mut cursor = first;
        let mut seen = 0usize;
        loop {
            cursor = self.scan_raw(cursor, &mut |raw| {
                seen += 1;
                if out.len() - start < count {
                    // SAFETY: scan_raw passes occupied entries of this table.
                    out.push(unsafe { Ref::new(raw) });
                } else {
                    // Reservoir sampling keeps the choice uniform over `seen`.
                    let j = (rng() % seen as u64) as usize;
                    if j < count {
                        // SAFETY: as above.
                        out[start + j] = unsafe { Ref::new(raw) };
                    }
                }
            });
            if seen >= count || seen >= self.len() || cursor == first {
                break;
            }
        }
        out.len() - start
    }

    fn pick_one(&self, sample_size: usize, rng: &mut dyn FnMut() -> u64) -> Option<Ref<'_, E>> {
        let mut out = Vec::with_capacity(sample_size);
        let n = self.sample(sample_size, rng, &mut out);
        if n == 0 {
            return None;
        }
        let i = (rng() % n as u64) as usize;
        Some(out.swap_remove(i))
    }

    /// A random entry, cheaply: uniform within a bucket-sized sample.
    pub fn random_entry(&self, rng: &mut dyn FnMut() -> u64) -> Option<Ref<'_, E>> {
        self.pick_one(WEAK_SAMPLE, rng)
    }

    /// A random entry drawn from a larger sample, closer to uniform
    /// (RANDOMKEY, SRANDMEMBER, SPOP).
    pub fn fair_random_entry(&self, rng: &mut dyn FnMut() -> u64) -> Option<Ref<'_, E>> {
        self.pick_one(FAIR_SAMPLE, rng)
    }
}
