//! Stateless scanning with a reverse-binary cursor.
//!
//! The cursor is a bucket index whose bits are incremented from the top
//! (reverse binary). Because an entry always lives in the chain of
//! `hash & mask`, a bucket of a small table covers exactly the buckets of a
//! larger one that share its low bits, and incrementing from the top visits
//! those before moving on. So every entry present for the whole scan is
//! returned at least once however often the table grows or shrinks between
//! calls (it may be returned more than once), and a full scan ends when the
//! cursor comes back to 0.

use crate::bucket::Bucket;
use crate::table::{Entry, Level, Ref, Table};
use core::hash::BuildHasher;

/// The cursor that follows `cursor` for a table whose bucket mask is `mask`.
#[inline]
fn next_cursor(cursor: u64, mask: u64) -> u64 {
    // Set the bits above the mask so the increment carries into the mask's
    // top bit first, then undo the reversal.
    (cursor | !mask)
        .reverse_bits()
        .wrapping_add(1)
        .reverse_bits()
}

impl<E: Entry, S: BuildHasher> Table<E, S> {
    /// Calls `f` for every entry of one cursor step and returns the next
    /// cursor; start with 0 and stop when 0 comes back.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&E)) -> u64 {
        // SAFETY: scan_raw passes occupied entry pointers of this borrowed table.
        self.scan_raw(cursor, &mut |raw| f(&*unsafe { Ref::<E>::new(raw) }))
    }

    /// [`Table::scan`] handing out the raw entry pointers.
    pub(crate) fn scan_raw(&self, cursor: u64, f: &mut dyn FnMut(*mut u8)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let emit = |l: &Level, idx: u64, f: &mut dyn FnMut(*mut u8)| {
            // SAFETY: idx is masked to the level's size; chains are valid
            // while &self lives.
            unsafe { visit_chain(l.bucket(idx as usize & l.mask()), f) }
        };
        if !self.is_rehashing() {
            let l = &self.levels[0];
            emit(l, cursor, f);
            return next_cursor(cursor, l.mask() as u64);
        }
        // Rehashing: visit the small table's bucket, then every bucket of the
        // large table that expands it.
        let (small, large) = if self.levels[0].exp() <= self.levels[1].exp() {
            (&self.levels[0], &self.levels[1])
        } else {
            (&self.levels[1], &self.levels[0])
        };
        let (small_mask, large_mask) = (small.mask() as u64, large.mask() as u64);
        emit(small, cursor, f);
        let mut cursor = cursor;
        loop {
            emit(large, cursor, f);
            cursor = next_cursor(cursor, large_mask);
            if cursor & (small_mask ^ large_mask) == 0 {
                break;
            }
        }
        cursor
    }
}

/// Calls `f` on every entry pointer of the chain starting at `b`.
///
/// # Safety
/// `b` is the head of a valid chain that outlives the call.
unsafe fn visit_chain(mut b: *mut Bucket, f: &mut dyn FnMut(*mut u8)) {
    while !b.is_null() {
        // SAFETY: b is a bucket of the chain.
        let bucket = unsafe { &*b };
        let mut m = bucket.present_mask();
        while m != 0 {
            let slot = m.trailing_zeros() as usize;
            m &= m - 1;
            f(bucket.entry(slot));
        }
        b = bucket.child();
    }
}

#[cfg(test)]
mod tests {
    use super::next_cursor;

    #[test]
    fn cursor_visits_every_bucket_once() {
        for exp in 0..8u32 {
            let mask = (1u64 << exp) - 1;
            let mut seen = vec![false; 1 << exp];
            let mut c = 0u64;
            loop {
                assert!(!seen[c as usize], "bucket {c} visited twice");
                seen[c as usize] = true;
                c = next_cursor(c, mask);
                if c == 0 {
                    break;
                }
            }
            assert!(seen.iter().all(|s| *s));
        }
    }
}
