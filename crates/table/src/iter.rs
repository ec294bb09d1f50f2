//! Iteration: a plain iterator over `&self`, and a safe mutable cursor that
//! may remove the entry it stands on.
//!
//! The safe cursor pauses incremental rehashing while it lives (entries must
//! not move between levels under it), and deleting only clears slots: the
//! chain is compacted when the cursor leaves it, since compacting earlier
//! would move not-yet-visited entries from the tail into visited holes.

use crate::bucket::Bucket;
use crate::table::{Entry, Ref, RefMut, Table};
use core::hash::BuildHasher;
use core::marker::PhantomData;
use core::ptr;

/// Position of a walk over all chains of both levels.
#[derive(Clone, Copy)]
struct Walk {
    level: usize,
    idx: usize,
    bucket: *mut Bucket,
    /// Slots of `bucket` not yet visited.
    pending: u8,
}

impl Walk {
    const START: Walk = Walk {
        level: 0,
        idx: 0,
        bucket: ptr::null_mut(),
        pending: 0,
    };

    /// Advances to the next occupied slot, or reports that a chain has just
    /// been visited completely.
    ///
    /// # Safety
    /// The table's chains are valid and not modified other than by clearing
    /// visited slots and compacting chains after their `ChainEnd`.
    unsafe fn next<E: Entry, S: BuildHasher>(&mut self, t: &Table<E, S>) -> Option<Step> {
        loop {
            if self.pending != 0 {
                let slot = self.pending.trailing_zeros() as usize;
                self.pending &= self.pending - 1;
                return Some(Step::Entry(self.bucket, slot));
            }
            if !self.bucket.is_null() {
                // SAFETY: bucket is a valid bucket of the current chain.
                let child = unsafe { (*self.bucket).child() };
                if !child.is_null() {
                    self.bucket = child;
                    // SAFETY: child is a valid bucket.
                    self.pending = unsafe { (*child).present_mask() };
                    continue;
                }
                let done = Step::ChainEnd(self.level, self.idx);
                self.idx += 1;
                self.bucket = ptr::null_mut();
                return Some(done);
            }
            let l = &t.levels[self.level];
            if self.idx >= l.num_buckets() {
                if self.level == 1 {
                    return None;
                }
                self.level = 1;
                self.idx = 0;
                continue;
            }
            // SAFETY: idx < num_buckets.
            self.bucket = unsafe { l.bucket(self.idx) };
            // SAFETY: a valid chain head.
            self.pending = unsafe { (*self.bucket).present_mask() };
        }
    }
}

enum Step {
    Entry(*mut Bucket, usize),
    ChainEnd(usize, usize),
}

/// Iterator over shared views of all entries, in no particular order.
pub struct Iter<'a, E: Entry, S> {
    table: &'a Table<E, S>,
    walk: Walk,
    left: usize,
    _e: PhantomData<&'a E>,
}

impl<'a, E: Entry, S: BuildHasher> Iterator for Iter<'a, E, S> {
    type Item = Ref<'a, E>;

    fn next(&mut self) -> Option<Ref<'a, E>> {
        loop {
            // SAFETY: the table is borrowed shared, so nothing changes under us.
            if let Step::Entry(b, slot) = unsafe { self.walk.next(self.table) }? {
                self.left -= 1;
                // SAFETY: walk returns occupied slots of the borrowed table.
                return Some(unsafe { Ref::new((*b).entry(slot)) });
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<E: Entry, S: BuildHasher> ExactSizeIterator for Iter<'_, E, S> {}

/// A cursor over all entries that may remove the current one; see the module
/// docs. Obtained from [`Table::iter_mut`].
pub struct IterMut<'a, E: Entry, S: BuildHasher> {
    table: &'a mut Table<E, S>,
    walk: Walk,
    current: Option<(*mut Bucket, usize)>,
    /// The current chain has holes to compact when we leave it.
    dirty: bool,
}

impl<E: Entry, S: BuildHasher> IterMut<'_, E, S> {
    /// Moves to the next entry and returns a mutable view of it.
    #[allow(clippy::should_implement_trait)] // a lending cursor, not an Iterator
    pub fn next(&mut self) -> Option<RefMut<'_, E>> {
        self.current = None;
        loop {
            // SAFETY: the walk only sees slots cleared by remove_current and
            // chains compacted after their end; rehashing is paused.
            match unsafe { self.walk.next(self.table) }? {
                Step::Entry(b, slot) => {
                    self.current = Some((b, slot));
                    // SAFETY: an occupied slot of the mutably borrowed table.
                    return Some(unsafe { RefMut::new(b, slot) });
                }
                Step::ChainEnd(level, idx) => {
                    if core::mem::take(&mut self.dirty) {
                        // SAFETY: (level, idx) is the chain just finished.
                        unsafe { self.table.compact_chain(level, idx) };
                    }
                }
            }
        }
    }

    /// Removes the entry returned by the last `next` and gives it back.
    pub fn remove_current(&mut self) -> Option<E> {
        let (b, slot) = self.current.take()?;
        let level = self.walk.level;
        // SAFETY: current is an occupied slot; clearing it keeps the chain
        // walkable, and compaction is deferred to the chain's end.
        unsafe {
            let raw = (*b).entry(slot);
            (*b).clear(slot);
            self.table.levels[level].used -= 1;
            self.dirty = true;
            Some(E::from_raw(core::ptr::NonNull::new_unchecked(raw)))
        }
    }
}

impl<E: Entry, S: BuildHasher> Drop for IterMut<'_, E, S> {
    fn drop(&mut self) {
        if self.dirty && !self.walk.bucket.is_null() {
            // SAFETY: the walk stands in chain (level, idx).
            unsafe { self.table.compact_chain(self.walk.level, self.walk.idx) };
        }
        self.table.resume_rehashing();
        self.table.resume_auto_shrink();
    }
}

impl<E: Entry, S: BuildHasher> Table<E, S> {
    pub fn iter(&self) -> Iter<'_, E, S> {
        Iter {
            table: self,
            walk: Walk::START,
            left: self.len(),
            _e: PhantomData,
        }
    }

    /// The safe iterator: visits every entry once and may remove it.
    pub fn iter_mut(&mut self) -> IterMut<'_, E, S> {
        self.pause_rehashing();
        self.pause_auto_shrink();
        IterMut {
            table: self,
            walk: Walk::START,
            current: None,
            dirty: false,
        }
    }

    /// Keeps only the entries for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut E) -> bool) {
        let mut it = self.iter_mut();
        loop {
            let Some(mut e) = it.next() else { break };
            if !keep(&mut e) {
                drop(e);
                it.remove_current();
            }
        }
    }
}
