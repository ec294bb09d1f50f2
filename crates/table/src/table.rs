//! [`Table`]: the hash table.
//!
//! See the crate documentation for the layout and the invariants. This file
//! holds the core: lookup, insert, delete, resize and incremental rehashing.
//! Scanning, iteration and random sampling live in `scan.rs`, `iter.rs` and
//! `sample.rs` as further `impl` blocks.

use crate::alloc::{alloc_array, free_array, populated_bytes, MAP_BYTES};
use crate::bucket::{filter_bit, tag_of, Bucket, BUCKET_BYTES, LINK_SLOT, SLOTS};
use crate::hash::DefaultHashBuilder;
use crate::pool::{alloc_child, free_child, Arena, FreeBatch, ARENA_MIN_BUCKETS};
use core::hash::{BuildHasher, Hash, Hasher};
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};
use std::time::{Duration, Instant};

/// An entry the table can own: a pointer-sized handle to an allocation that
/// contains the entry's key.
///
/// The table stores `into_raw()` and gives the value back with `from_raw()`
/// when the entry leaves the table (remove, drop). To hand out references it
/// also rebuilds *temporary* values with `from_raw()` that it never drops.
///
/// # Safety
/// Implementors guarantee that:
/// - `from_raw(into_raw(e))` gives back `e`;
/// - a value rebuilt with `from_raw` while the table still holds the pointer,
///   and forgotten afterwards, may be used through `&Self` (and `&mut Self` when
///   the table hands out a [`RefMut`]) without undefined behaviour: the handle
///   must not assert uniqueness of its pointer the way `Box` does — use a plain
///   `NonNull` wrapper;
/// - the address fits in 48 bits (user-space pointers on x86-64 and AArch64;
///   checked by the table on every store).
pub unsafe trait Entry: Sized {
    /// What the table hashes and compares.
    type Key: ?Sized + Hash + Eq;

    fn key(&self) -> &Self::Key;

    fn into_raw(self) -> NonNull<u8>;

    /// # Safety
    /// `raw` must come from `into_raw` of a value of this type.
    unsafe fn from_raw(raw: NonNull<u8>) -> Self;

    /// Asked before the table resizes, with the bytes the new bucket array
    /// would take. Lets a server avoid resizes during a fork (copy-on-write) or
    /// when the allocation would exceed `maxmemory`.
    #[inline]
    fn resize_policy(_new_array_bytes: usize) -> ResizePolicy {
        ResizePolicy::Allow
    }
}

/// How freely a table may resize; see [`Entry::resize_policy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResizePolicy {
    /// Resize at the soft fill limits and rehash on every operation.
    Allow,
    /// Resize only past the hard fill limits and rehash only on inserts, so
    /// little memory moves (Valkey's policy while a child process runs).
    Avoid,
    /// Never resize or rehash.
    Forbid,
}

/// Bucket chains of the old array each operation moves while rehashing.
/// Moving is cheap (entries move by their hint, unread), and finishing
/// sooner frees the old array sooner: after a doubling both arrays are held
/// for 1/(8 * this) of the doubling's inserts.
const REHASH_STEP_BUCKETS: usize = 4;

/// Rehash steps an operation skips in a row at most while the background
/// thread faults the new array in (`Table::populated_ahead`).
const MAX_REHASH_WAITS: u8 = 8;

/// Grow when an insert would take the fill above this (percent of slots).
const MAX_FILL_SOFT: usize = 100;
const MAX_FILL_HARD: usize = 500;
/// Shrink when a delete takes the fill below this.
const MIN_FILL_SOFT: usize = 13;
const MIN_FILL_HARD: usize = 3;

/// One of the two bucket arrays, of `mask + 1` buckets (a power of two);
/// `Level::NONE` (null `buckets`, `mask == usize::MAX`) means no array. The
/// mask is stored rather than the exponent: lookups use it as is.
#[derive(Clone, Copy)]
pub(crate) struct Level {
    pub(crate) buckets: *mut Bucket,
    mask: usize,
    pub(crate) used: usize,
    pub(crate) children: usize,
    /// Where the children come from when the level is big (see
    /// [`Level::alloc_child`]).
    arena: Arena,
}

impl Level {
    const NONE: Level = Level {
        buckets: ptr::null_mut(),
        mask: usize::MAX,
        used: 0,
        children: 0,
        arena: Arena::NONE,
    };

    fn new(exp: i8) -> Level {
        Level {
            buckets: alloc_array(1 << exp).as_ptr(),
            mask: (1 << exp) - 1,
            used: 0,
            children: 0,
            arena: Arena::NONE,
        }
    }

    /// Whether the children come from the level's own arena rather than
    /// the shared pool (`pool::Arena` tells why).
    #[inline]
    fn has_arena(&self) -> bool {
        self.num_buckets() >= ARENA_MIN_BUCKETS
    }

    /// A zeroed child bucket for a chain of this level, counted.
    #[inline]
    fn alloc_child(&mut self) -> *mut Bucket {
        self.children += 1;
        if self.has_arena() {
            self.arena.alloc()
        } else {
            alloc_child()
        }
    }

    /// Frees a child of this level, uncounted.
    ///
    /// # Safety
    /// `b` came from this level's `alloc_child` and is not used afterwards.
    #[inline]
    unsafe fn free_child(&mut self, b: *mut Bucket) {
        self.children -= 1;
        // SAFETY: per the contract, from the matching source.
        unsafe {
            if self.has_arena() {
                self.arena.free(b);
            } else {
                free_child(b);
            }
        }
    }

    /// The bucket exponent (`num_buckets() == 1 << exp`), -1 for no array.
    #[inline]
    pub(crate) fn exp(&self) -> i8 {
        if self.mask == usize::MAX {
            -1
        } else {
            self.mask.trailing_ones() as i8
        }
    }

    #[inline]
    pub(crate) fn num_buckets(&self) -> usize {
        self.mask.wrapping_add(1)
    }

    #[inline(always)]
    pub(crate) fn mask(&self) -> usize {
        self.mask
    }

    #[inline]
    pub(crate) fn is_allocated(&self) -> bool {
        !self.buckets.is_null()
    }

    /// # Safety
    /// The level is allocated and `idx < num_buckets()`.
    #[inline]
    pub(crate) unsafe fn bucket(&self, idx: usize) -> *mut Bucket {
        debug_assert!(idx < self.num_buckets());
        // SAFETY: in bounds by the caller's guarantee.
        unsafe { self.buckets.add(idx) }
    }
}

/// Where an entry is (or goes): a bucket of a level and a slot in it.
#[derive(Clone, Copy)]
pub(crate) struct Pos {
    pub(crate) level: usize,
    pub(crate) bucket: *mut Bucket,
    pub(crate) slot: usize,
}

/// A cache-line bucket hash table of owned entries; see the crate docs.
pub struct Table<E: Entry, S = DefaultHashBuilder> {
    pub(crate) levels: [Level; 2],
    /// Next bucket of level 0 to move while rehashing (level 1 allocated).
    pub(crate) rehash_idx: usize,
    pause_rehash: u32,
    pause_shrink: u32,
    /// While rehashing: level 1 may hold entries whose level-0 chain is
    /// not moved yet (see `insert_level`). Without them, a lookup in an
    /// unmoved chain need not read level 1 — whose pages may not be
    /// faulted in yet.
    level1_has_unmoved: bool,
    /// Rehash steps skipped in a row waiting for the background thread
    /// (see `populated_ahead`).
    rehash_waits: u8,
    hasher: S,
    _owns: PhantomData<E>,
}

// SAFETY: the table owns its entries and buckets exclusively; sending it sends
// the entries, so it is Send when they (and the hasher) are.
unsafe impl<E: Entry + Send, S: Send> Send for Table<E, S> {}
// SAFETY: shared access only reads (no interior mutability), so it is Sync when
// the entries and hasher are.
unsafe impl<E: Entry + Sync, S: Sync> Sync for Table<E, S> {}

/// A shared view of an entry in a table.
pub struct Ref<'a, E> {
    e: ManuallyDrop<E>,
    _table: PhantomData<&'a E>,
}

impl<E: Entry> Ref<'_, E> {
    /// # Safety
    /// `raw` is a non-null entry pointer held by a table borrowed for `'a`.
    #[inline]
    pub(crate) unsafe fn new(raw: *mut u8) -> Self {
        Ref {
            // SAFETY: by the Entry contract a temporary, never-dropped value
            // rebuilt from a held pointer may be used through `&E`.
            e: ManuallyDrop::new(unsafe { E::from_raw(NonNull::new_unchecked(raw)) }),
            _table: PhantomData,
        }
    }
}

impl<E> Deref for Ref<'_, E> {
    type Target = E;
    #[inline]
    fn deref(&self) -> &E {
        &self.e
    }
}

/// A mutable view of an entry. The entry may be replaced by a reallocated
/// handle (e.g. a value grown in place); the new pointer is written back to
/// the slot when the view is dropped. The key must not change.
pub struct RefMut<'a, E: Entry> {
    e: ManuallyDrop<E>,
    bucket: *mut Bucket,
    slot: usize,
    _table: PhantomData<&'a mut E>,
}

impl<E: Entry> RefMut<'_, E> {
    /// # Safety
    /// `bucket`/`slot` hold an entry of a table mutably borrowed for `'a`.
    #[inline]
    pub(crate) unsafe fn new(bucket: *mut Bucket, slot: usize) -> Self {
        // SAFETY: the caller guarantees the slot holds an entry.
        let raw = unsafe { (*bucket).entry(slot) };
        RefMut {
            // SAFETY: Entry contract, as in Ref::new; the table is borrowed
            // mutably so this is the only view.
            e: ManuallyDrop::new(unsafe { E::from_raw(NonNull::new_unchecked(raw)) }),
            bucket,
            slot,
            _table: PhantomData,
        }
    }
}

impl<E: Entry> Deref for RefMut<'_, E> {
    type Target = E;
    #[inline]
    fn deref(&self) -> &E {
        &self.e
    }
}

impl<E: Entry> DerefMut for RefMut<'_, E> {
    #[inline]
    fn deref_mut(&mut self) -> &mut E {
        &mut self.e
    }
}

impl<E: Entry> Drop for RefMut<'_, E> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: `e` is taken exactly once, here.
        let raw = unsafe { ManuallyDrop::take(&mut self.e) }.into_raw();
        // SAFETY: the table is still mutably borrowed, so the slot is unchanged.
        unsafe { (*self.bucket).replace_entry(self.slot, raw.as_ptr()) };
    }
}

/// The result of [`Table::entry`]: the key is present or not.
pub enum EntryRef<'a, E: Entry, S> {
    Occupied(Occupied<'a, E, S>),
    Vacant(Vacant<'a, E, S>),
}

/// A present key, found by [`Table::entry`].
pub struct Occupied<'a, E: Entry, S> {
    table: &'a mut Table<E, S>,
    pos: Pos,
    hash: u64,
}

/// An absent key: [`Vacant::insert`] fills the position without a second lookup.
pub struct Vacant<'a, E: Entry, S> {
    table: &'a mut Table<E, S>,
    hash: u64,
}

impl<'a, E: Entry, S: BuildHasher> Occupied<'a, E, S> {
    pub fn get(&self) -> Ref<'_, E> {
        // SAFETY: pos holds an entry of the borrowed table.
        unsafe { Ref::new((*self.pos.bucket).entry(self.pos.slot)) }
    }

    pub fn get_mut(&mut self) -> RefMut<'_, E> {
        // SAFETY: pos holds an entry of the mutably borrowed table.
        unsafe { RefMut::new(self.pos.bucket, self.pos.slot) }
    }

    pub fn into_mut(self) -> RefMut<'a, E> {
        // SAFETY: as get_mut, for the whole borrow of the table.
        unsafe { RefMut::new(self.pos.bucket, self.pos.slot) }
    }

    /// Puts `e` (same key) in place of the entry and returns the old one.
    pub fn replace(self, e: E) -> E {
        let raw = e.into_raw();
        // SAFETY: pos holds an entry; the new pointer takes its slot and tag.
        unsafe {
            let old = (*self.pos.bucket).entry(self.pos.slot);
            (*self.pos.bucket).replace_entry(self.pos.slot, raw.as_ptr());
            E::from_raw(NonNull::new_unchecked(old))
        }
    }

    /// Takes the entry out of the table (the second phase of a two-phase pop).
    pub fn remove(self) -> E {
        // SAFETY: pos holds an entry and nothing moved since it was found.
        unsafe { self.table.remove_at(self.pos, self.hash) }
    }
}

impl<'a, E: Entry, S: BuildHasher> Vacant<'a, E, S> {
    /// Inserts `e`, whose key must be the one looked up.
    pub fn insert(self, e: E) -> RefMut<'a, E> {
        let pos = self.table.insert_new(self.hash, e);
        // SAFETY: pos now holds the new entry of the mutably borrowed table.
        unsafe { RefMut::new(pos.bucket, pos.slot) }
    }
}

impl<E: Entry> Table<E, DefaultHashBuilder> {
    pub fn new() -> Self {
        Self::with_hasher(DefaultHashBuilder)
    }
}

impl<E: Entry> Default for Table<E, DefaultHashBuilder> {
    fn default() -> Self {
        Self::new()
    }
}

/// The bucket exponent for holding `capacity` entries at most ~89 % full.
fn exp_for_capacity(capacity: usize) -> i8 {
    if capacity == 0 {
        return -1;
    }
    // 9/64 buckets per entry = 8 slots at 88.9 % fill: far enough below the
    // grow limit that a fresh table does not grow again right away.
    let buckets = (capacity as u128 * 9).div_ceil(64).max(1);
    let buckets = buckets.next_power_of_two();
    assert!(buckets <= 1 << 56, "table capacity overflow");
    buckets.trailing_zeros() as i8
}

impl<E: Entry, S: BuildHasher> Table<E, S> {
    pub fn with_hasher(hasher: S) -> Self {
        // The background thread, started now rather than inside the first
        // operation that needs it (see `alloc::start_worker`).
        crate::alloc::start_worker();
        Table {
            levels: [Level::NONE; 2],
            rehash_idx: 0,
            pause_rehash: 0,
            pause_shrink: 0,
            level1_has_unmoved: false,
            rehash_waits: 0,
            hasher,
            _owns: PhantomData,
        }
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.levels[0].used + self.levels[1].used
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn is_rehashing(&self) -> bool {
        self.levels[1].is_allocated()
    }

    /// Bytes of buckets the table holds (arrays and child buckets), excluding
    /// the entries themselves and the `Table` struct.
    pub fn bucket_bytes(&self) -> usize {
        self.levels
            .iter()
            .map(|l| (l.num_buckets() + l.children) * BUCKET_BYTES)
            .sum()
    }

    /// Entry slots of the top-level arrays.
    pub fn capacity(&self) -> usize {
        self.levels.iter().map(|l| l.num_buckets() * SLOTS).sum()
    }

    // Spelled out rather than `hash_one`, which profiles showed left as an
    // out-of-line call in lookup loops; this way it inlines into them.
    #[allow(clippy::manual_hash_one)]
    #[inline(always)]
    pub fn hash_key(&self, key: &E::Key) -> u64 {
        let mut h = self.hasher.build_hasher();
        key.hash(&mut h);
        h.finish()
    }

    /// Stops incremental rehashing until the matching [`resume_rehashing`].
    ///
    /// [`resume_rehashing`]: Table::resume_rehashing
    pub fn pause_rehashing(&mut self) {
        self.pause_rehash += 1;
    }

    pub fn resume_rehashing(&mut self) {
        debug_assert!(self.pause_rehash > 0);
        self.pause_rehash = self.pause_rehash.saturating_sub(1);
    }

    /// Stops shrinking on deletes until the matching [`resume_auto_shrink`].
    ///
    /// [`resume_auto_shrink`]: Table::resume_auto_shrink
    pub fn pause_auto_shrink(&mut self) {
        self.pause_shrink += 1;
    }

    pub fn resume_auto_shrink(&mut self) {
        debug_assert!(self.pause_shrink > 0);
        self.pause_shrink = self.pause_shrink.saturating_sub(1);
        if self.pause_shrink == 0 {
            self.shrink_if_needed();
        }
    }

    // ---- lookup --------------------------------------------------------

    /// Finds the entry with `key`. Does not advance rehashing (it cannot,
    /// through `&self`); [`Table::get_mut`] and all writes do.
    #[inline(always)]
    pub fn get(&self, key: &E::Key) -> Option<Ref<'_, E>> {
        let pos = self.find(self.hash_key(key), key)?;
        // SAFETY: find returned an occupied slot of this borrowed table.
        Some(unsafe { Ref::new((*pos.bucket).entry(pos.slot)) })
    }

    #[inline]
    pub fn contains_key(&self, key: &E::Key) -> bool {
        self.get(key).is_some()
    }

    /// Finds the entry with `key` for modification; one step of rehashing.
    #[inline]
    pub fn get_mut(&mut self, key: &E::Key) -> Option<RefMut<'_, E>> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step_on(false);
        let pos = self.find(self.hash_key(key), key)?;
        // SAFETY: find returned an occupied slot of this mutably borrowed table.
        Some(unsafe { RefMut::new(pos.bucket, pos.slot) })
    }

    /// Looks `key` up for a two-phase insert or remove.
    pub fn entry(&mut self, key: &E::Key) -> EntryRef<'_, E, S> {
        self.rehash_step_on(true);
        let hash = self.hash_key(key);
        match self.find(hash, key) {
            Some(pos) => EntryRef::Occupied(Occupied {
                table: self,
                pos,
                hash,
            }),
            None => EntryRef::Vacant(Vacant { table: self, hash }),
        }
    }

    /// The first phase of [`Table::entry`] without its borrow: one rehash
    /// step, then the hash of `key` and its position if present. For
    /// wrappers (the `KvStore`) that keep their own bookkeeping around the
    /// second phase.
    pub(crate) fn entry_pos(&mut self, key: &E::Key) -> (u64, Option<Pos>) {
        self.rehash_step_on(true);
        let hash = self.hash_key(key);
        (hash, self.find(hash, key))
    }

    /// Inserts `e`, replacing and returning an entry with the same key.
    pub fn insert(&mut self, e: E) -> Option<E> {
        // The key borrow ends before the table is changed: hash first.
        let hash = self.hash_key(e.key());
        self.rehash_step_on(true);
        match self.find(hash, e.key()) {
            Some(pos) => Some(
                Occupied {
                    table: self,
                    pos,
                    hash,
                }
                .replace(e),
            ),
            None => {
                self.insert_new(hash, e);
                None
            }
        }
    }

    /// Removes and returns the entry with `key`.
    pub fn remove(&mut self, key: &E::Key) -> Option<E> {
        if self.is_empty() {
            return None;
        }
        self.rehash_step_on(false);
        let hash = self.hash_key(key);
        let pos = self.find(hash, key)?;
        // SAFETY: find returned an occupied slot.
        Some(unsafe { self.remove_at(pos, hash) })
    }

    /// The position of `key`, if present.
    #[inline(always)]
    pub(crate) fn find(&self, hash: u64, key: &E::Key) -> Option<Pos> {
        let l0 = &self.levels[0];
        if !self.is_rehashing() {
            // Fast path, the common case: one level.
            if l0.buckets.is_null() {
                return None;
            }
            // SAFETY: level 0 is allocated, so the masked index is in range;
            // the chain's buckets live while &self does.
            return unsafe {
                let head = l0.buckets.add(hash as usize & l0.mask());
                find_in_chain::<E>(head, tag_of(hash), key)
            }
            .map(|(bucket, slot)| Pos {
                level: 0,
                bucket,
                slot,
            });
        }
        self.find_rehashing(hash, key)
    }

    /// [`Table::find`] while a rehash is in progress (both levels allocated).
    #[inline(never)]
    fn find_rehashing(&self, hash: u64, key: &E::Key) -> Option<Pos> {
        let tag = tag_of(hash);
        let l0 = &self.levels[0];
        let idx0 = hash as usize & l0.mask();
        if l0.is_allocated() && idx0 >= self.rehash_idx {
            // Not moved yet: the entry is in level 0, if anywhere (or also
            // possibly in level 1, see level1_has_unmoved).
            // SAFETY: idx0 is masked to the allocated level's size; the
            // chain's buckets live while &self does.
            if let Some((bucket, slot)) = unsafe { find_in_chain::<E>(l0.bucket(idx0), tag, key) } {
                return Some(Pos {
                    level: 0,
                    bucket,
                    slot,
                });
            }
            if !self.level1_has_unmoved {
                return None;
            }
        }
        let l1 = &self.levels[1];
        if !l1.is_allocated() {
            return None;
        }
        // SAFETY: as above, for level 1.
        let found = unsafe { find_in_chain::<E>(l1.bucket(hash as usize & l1.mask()), tag, key) };
        found.map(|(bucket, slot)| Pos {
            level: 1,
            bucket,
            slot,
        })
    }

    // ---- insert --------------------------------------------------------

    /// Stores an entry whose key is known to be absent.
    pub(crate) fn insert_new(&mut self, hash: u64, e: E) -> Pos {
        self.expand_if_needed(1);
        let level = self.insert_level(hash);
        let l = &self.levels[level];
        let (idx, hint) = (hash as usize & l.mask(), hint_for(hash, l.exp()));
        // SAFETY: expand_if_needed allocated the target level.
        let pos = unsafe { self.free_slot(level, idx, tag_of(hash)) };
        // SAFETY: free_slot returned an empty slot of that level.
        unsafe { (*pos.bucket).store_hinted(pos.slot, e.into_raw().as_ptr(), tag_of(hash), hint) };
        self.levels[level].used += 1;
        pos
    }

    /// The level a new entry with `hash` goes to while rehashing. Level 1
    /// if its level-0 chain has been moved. Otherwise, for a new array
    /// that is mapped (`alloc::MAP_BYTES` and up), level 0: the entry moves
    /// later with its chain, which costs little (by its hint, unread), and
    ///
    /// - the new array's pages are first written by the rehash, behind the
    ///   background thread that faults them in, instead of at random by
    ///   inserts racing it (each first touch is a page fault in the
    ///   insert: microseconds usually, hundreds of them now and then on a
    ///   loaded machine);
    /// - lookups of unmoved chains, every insert's included, need not read
    ///   level 1 (`level1_has_unmoved`): one cache miss fewer.
    ///
    /// Smaller tables are in cache: there the second move costs more than
    /// it saves, and the entry goes to level 1. So does any entry while the
    /// rehash does not progress (paused or forbidden).
    #[inline]
    fn insert_level(&mut self, hash: u64) -> usize {
        if !self.is_rehashing() {
            return 0;
        }
        if hash as usize & self.levels[0].mask() < self.rehash_idx {
            return 1; // moved already
        }
        if self.levels[1].num_buckets() * BUCKET_BYTES >= MAP_BYTES
            && self.pause_rehash == 0
            && self.policy_for(self.levels[1].exp()) != ResizePolicy::Forbid
        {
            return 0;
        }
        self.level1_has_unmoved = true;
        1
    }

    /// An empty slot at the end of chain `idx` for an entry tagged `tag`
    /// (added to the chain filters on the way); chains a new child bucket
    /// when the last bucket is full.
    ///
    /// # Safety
    /// `level` is allocated and `idx` in its range.
    unsafe fn free_slot(&mut self, level: usize, idx: usize, tag: u8) -> Pos {
        let l = &mut self.levels[level];
        // SAFETY: in range by the caller's guarantee.
        let mut b = unsafe { l.bucket(idx) };
        // SAFETY: b and its children are valid buckets owned by the table.
        unsafe {
            while (*b).is_chained() {
                // The entry goes below this link: keep its filter a superset.
                (*b).add_to_filter(tag);
                b = (*b).child();
            }
            let free = !(*b).present_mask();
            if free != 0 {
                return Pos {
                    level,
                    bucket: b,
                    slot: free.trailing_zeros() as usize,
                };
            }
            // Full: the last slot's entry moves to a new child, the slot
            // becomes the link, and the new entry goes next to the moved one.
            let child = l.alloc_child();
            (*child).set_raw(0, (*b).raw(LINK_SLOT));
            let filter = (*child).entries_filter() | filter_bit(tag);
            (*b).clear(LINK_SLOT);
            (*b).set_child(child, filter);
            Pos {
                level,
                bucket: child,
                slot: 1,
            }
        }
    }

    // ---- delete --------------------------------------------------------

    /// # Safety
    /// `pos` holds an entry whose key hashes to `hash`.
    pub(crate) unsafe fn remove_at(&mut self, pos: Pos, hash: u64) -> E {
        // SAFETY: the caller guarantees the slot is occupied.
        let raw = unsafe { (*pos.bucket).entry(pos.slot) };
        // SAFETY: as above.
        unsafe { (*pos.bucket).clear(pos.slot) };
        self.levels[pos.level].used -= 1;
        let idx = hash as usize & self.levels[pos.level].mask();
        // SAFETY: idx is the chain the entry was in.
        unsafe { self.compact_chain(pos.level, idx) };
        self.shrink_if_needed();
        // SAFETY: raw came from into_raw and is no longer in the table.
        unsafe { E::from_raw(NonNull::new_unchecked(raw)) }
    }

    /// Restores the chain invariant after holes were made in chain `idx` of
    /// `level`: every bucket but the last is full and the last of a chain of
    /// two or more is not empty. Holes are filled from the chain's tail.
    ///
    /// # Safety
    /// `level` is allocated and `idx` is in range.
    pub(crate) unsafe fn compact_chain(&mut self, level: usize, idx: usize) {
        let l = &mut self.levels[level];
        // SAFETY: in range by the caller's guarantee.
        let head = unsafe { l.bucket(idx) };
        // SAFETY: all pointers walked are buckets of this chain.
        unsafe {
            if !(*head).is_chained() {
                return;
            }
            loop {
                // Find the last bucket and its parent.
                let (mut parent, mut last) = (ptr::null_mut::<Bucket>(), head);
                while (*last).is_chained() {
                    parent = last;
                    last = (*last).child();
                }
                if (*last).is_empty() {
                    (*parent).clear_child();
                    l.free_child(last);
                    if parent == head && !(*head).is_chained() {
                        return;
                    }
                    continue;
                }
                // The first hole before the last bucket, if any.
                let mut b = head;
                let mut hole = None;
                while b != last {
                    let free = !(*b).present_mask() & 0x7f;
                    if free != 0 {
                        hole = Some((b, free.trailing_zeros() as usize));
                        break;
                    }
                    b = (*b).child();
                }
                let Some((hb, hs)) = hole else {
                    // Compacted. Drop the stale bits of the filter that
                    // lookups check first (deeper links keep supersets).
                    let mut f = 0;
                    let mut c = (*head).child();
                    while !c.is_null() {
                        f |= (*c).entries_filter();
                        c = (*c).child();
                    }
                    (*head).set_filter(f);
                    return;
                };
                let j = 7 - (*last).present_mask().leading_zeros() as usize;
                (*hb).set_raw(hs, (*last).raw(j));
                (*last).clear(j);
            }
        }
    }

    // ---- resize and rehash ----------------------------------------------

    fn policy_for(&self, exp: i8) -> ResizePolicy {
        let bytes = if exp < 0 {
            0
        } else {
            (1usize << exp) * BUCKET_BYTES
        };
        E::resize_policy(bytes)
    }

    /// Makes room for `extra` more entries if the fill would pass the limit.
    fn expand_if_needed(&mut self, extra: usize) {
        if self.is_rehashing() {
            return;
        }
        let needed = self.len() + extra;
        let capacity = self.levels[0].num_buckets() * SLOTS;
        if needed * 100 <= capacity * MAX_FILL_SOFT && capacity > 0 {
            return;
        }
        let exp = exp_for_capacity(needed);
        match self.policy_for(exp) {
            ResizePolicy::Allow => {}
            ResizePolicy::Avoid if needed * 100 > capacity * MAX_FILL_HARD => {}
            // A table with no buckets at all must get some to insert.
            _ if capacity == 0 => {}
            _ => return,
        }
        self.resize_to(exp);
    }

    fn shrink_if_needed(&mut self) {
        if self.pause_shrink > 0 || self.pause_rehash > 0 {
            return;
        }
        if self.is_empty() {
            // Nothing to move, even mid-rehash: give all buckets back.
            return self.clear();
        }
        if self.is_rehashing() {
            return;
        }
        let capacity = self.levels[0].num_buckets() * SLOTS;
        if capacity == 0 {
            return;
        }
        let used = self.len();
        // Above the larger limit no policy shrinks: skip asking the policy
        // (and sizing the new array) on almost every delete.
        if used * 100 >= capacity * MIN_FILL_SOFT {
            return;
        }
        let min_fill = match self.policy_for(exp_for_capacity(used)) {
            ResizePolicy::Allow => MIN_FILL_SOFT,
            ResizePolicy::Avoid => MIN_FILL_HARD,
            ResizePolicy::Forbid => return,
        };
        if used * 100 < capacity * min_fill {
            self.resize_to(exp_for_capacity(used));
        }
    }

    /// Grows or shrinks so the table holds at least `capacity` entries.
    pub fn reserve(&mut self, additional: usize) {
        self.expand_if_needed(additional);
    }

    /// Starts moving to an array of `1 << exp` buckets (none if `exp < 0`).
    fn resize_to(&mut self, exp: i8) {
        debug_assert!(!self.is_rehashing());
        if exp == self.levels[0].exp() {
            return;
        }
        let new = if exp < 0 {
            Level::NONE
        } else {
            Level::new(exp)
        };
        if self.levels[0].used == 0 {
            // Nothing to move: swap the arrays at once.
            let old = core::mem::replace(&mut self.levels[0], new);
            // SAFETY: the old level has no entries; free its chains and array.
            unsafe { free_level(old) };
        } else {
            self.levels[1] = new;
            self.rehash_idx = 0;
            self.level1_has_unmoved = false;
        }
    }

    #[inline(always)]
    fn rehash_step_on(&mut self, is_insert: bool) {
        if self.is_rehashing() {
            self.rehash_step_slow(is_insert);
        }
    }

    #[inline(never)]
    fn rehash_step_slow(&mut self, is_insert: bool) {
        if self.pause_rehash > 0 {
            return;
        }
        match self.policy_for(self.levels[1].exp()) {
            ResizePolicy::Allow => {}
            ResizePolicy::Avoid if is_insert => {}
            _ => return,
        }
        if !self.populated_ahead() && self.rehash_waits < MAX_REHASH_WAITS {
            self.rehash_waits += 1;
            return;
        }
        self.rehash_waits = 0;
        for _ in 0..REHASH_STEP_BUCKETS {
            self.rehash_bucket();
            if !self.is_rehashing() {
                break;
            }
        }
    }

    /// Whether this operation's rehash step may go on: its writes to the
    /// new array land on pages the background thread has faulted in (see
    /// `alloc::populated_bytes`; a doubling writes old chain `i` to new
    /// buckets `i` and `i + n`, and the background thread faults both
    /// halves in from the front), or level 0 is already 3 % over full.
    /// The background thread is usually far ahead (faulting in runs a few
    /// times faster than a rehash writes); when it lags, operations skip
    /// their step and their inserts go to unmoved level-0 chains
    /// (`insert_level`), rather than fault (measured: 1.2k faults in the
    /// rehash steps of one 10M run in nine without this). Bounded: the 3 %
    /// limits the extra entries to move, and at most [`MAX_REHASH_WAITS`]
    /// steps in a row are skipped, so a rehash never lasts more than
    /// that many times longer, however far behind the thread is (under
    /// valgrind it hardly runs).
    #[inline]
    fn populated_ahead(&self) -> bool {
        let (l0, l1) = (&self.levels[0], &self.levels[1]);
        if l1.exp() != l0.exp() + 1 || l0.used * 100 > l0.num_buckets() * SLOTS * 103 {
            return true;
        }
        let need = (self.rehash_idx + REHASH_STEP_BUCKETS) * BUCKET_BYTES;
        populated_bytes(l1.buckets) >= need
    }

    /// Moves up to `steps` buckets of an ongoing rehash (ignoring the resize
    /// policy but not a pause). Returns true while rehashing remains.
    pub fn rehash_steps(&mut self, steps: usize) -> bool {
        for _ in 0..steps {
            if !self.is_rehashing() || self.pause_rehash > 0 {
                break;
            }
            self.rehash_bucket();
        }
        self.is_rehashing()
    }

    /// Rehashes for about `budget` of time (the server cron's share).
    /// Returns true while rehashing remains.
    pub fn rehash_for(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while self.rehash_steps(64) {
            if start.elapsed() >= budget {
                break;
            }
        }
        self.is_rehashing()
    }

    /// Moves bucket chain `rehash_idx` of level 0 into level 1.
    fn rehash_bucket(&mut self) {
        debug_assert!(self.is_rehashing());
        let idx = self.rehash_idx;
        let (e0, e1) = (self.levels[0].exp(), self.levels[1].exp());
        let mask1 = self.levels[1].mask();
        // SAFETY: rehash_idx < num_buckets of level 0 while rehashing.
        let head = unsafe { self.levels[0].bucket(idx) };
        let mut b = head;
        let mut moved = 0;
        while !b.is_null() {
            // SAFETY: b is a bucket of this chain; entries are moved one by
            // one into level 1, which never aliases level 0.
            unsafe {
                let child = (*b).child();
                let mut m = (*b).present_mask();
                while m != 0 {
                    let slot = m.trailing_zeros() as usize;
                    m &= m - 1;
                    // Where the entry goes, from its hint if that has
                    // enough bits, else from its hash (reading the entry).
                    let (to_idx, hint) = match rehint((*b).hint(slot), idx, e0, e1) {
                        Some(moved) => {
                            #[cfg(debug_assertions)]
                            {
                                let e = Ref::<E>::new((*b).entry(slot));
                                let hash = self.hasher.hash_one(e.key());
                                debug_assert_eq!(moved.0, hash as usize & mask1);
                                debug_assert!(hint_agrees(moved.1, hash, e1));
                            }
                            moved
                        }
                        None => {
                            let e = Ref::<E>::new((*b).entry(slot));
                            let hash = self.hasher.hash_one(e.key());
                            (hash as usize & mask1, hint_for(hash, e1))
                        }
                    };
                    let to = self.free_slot(1, to_idx, (*b).tag(slot));
                    (*to.bucket).set_raw(to.slot, (*b).raw_with_hint(slot, hint));
                    moved += 1;
                }
                if b != head {
                    self.levels[0].free_child(b);
                }
                b = child;
            }
        }
        // SAFETY: head is valid; its entries and children were moved/freed.
        unsafe { *head = Bucket::EMPTY };
        self.levels[0].used -= moved;
        self.levels[1].used += moved;
        self.rehash_idx += 1;
        if self.rehash_idx >= self.levels[0].num_buckets() {
            let new = self.levels[1];
            let old = core::mem::replace(&mut self.levels[0], new);
            self.levels[1] = Level::NONE;
            self.rehash_idx = 0;
            // SAFETY: every chain of the old level was emptied above.
            unsafe { free_level(old) };
        } else {
            // The next step must hash the entries of the next chain whose
            // hints are used up, each a likely cache miss in a large table;
            // fetch them now so the memory works while the caller does
            // something else. (Hinted entries are not read: no prefetch.)
            // SAFETY: rehash_idx < num_buckets of level 0 (checked above).
            let next = unsafe { &*self.levels[0].bucket(self.rehash_idx) };
            let mut m = next.present_mask();
            while m != 0 {
                let slot = m.trailing_zeros() as usize;
                m &= m - 1;
                if rehint(next.hint(slot), self.rehash_idx, e0, e1).is_none() {
                    prefetch(next.entry(slot));
                }
            }
        }
    }

    /// Removes every entry (dropping it) and frees all buckets.
    pub fn clear(&mut self) {
        for level in &mut self.levels {
            let l = core::mem::replace(level, Level::NONE);
            // SAFETY: the level is detached from the table; its entries are
            // dropped exactly once here.
            unsafe { drop_level::<E>(l) };
        }
        self.rehash_idx = 0;
    }
}

/// Hash bits a hint holds at most (the rest of the 7 bits is its length).
const HINT_BITS: u32 = 6;

/// The rehash hint of an entry with `hash` in a level of `1 << exp`
/// buckets: the `HINT_BITS` hash bits just above the bucket index, under a
/// leading 1 that marks how many bits are valid.
#[inline]
fn hint_for(hash: u64, exp: i8) -> u8 {
    debug_assert!(exp >= 0);
    let bits = (hash >> (exp as u32 & 63)) & ((1 << HINT_BITS) - 1);
    ((1 << HINT_BITS) | bits) as u8
}

/// Whether `hint`'s valid bits are those of `hash` for a level of
/// `1 << exp` buckets (debug checks and tests).
#[cfg(any(debug_assertions, test))]
fn hint_agrees(hint: u8, hash: u64, exp: i8) -> bool {
    if hint == 0 {
        return true;
    }
    let k = hint.ilog2();
    let m = (1u64 << k) - 1;
    u64::from(hint) & m == (hash >> (exp as u32 & 63)) & m
}

/// Moves a hint from a level of `1 << e0` buckets, where the entry is in
/// chain `idx`, to one of `1 << e1`: the entry's chain there and its new
/// hint, or `None` if the hint lacks the bits a grow needs (then the entry
/// must be hashed). A grow by `d` levels consumes `d` hint bits; a shrink
/// gains the index bits it drops (they are hash bits too), up to
/// `HINT_BITS`.
#[inline]
fn rehint(hint: u8, idx: usize, e0: i8, e1: i8) -> Option<(usize, u8)> {
    if hint == 0 {
        return None;
    }
    let k = hint.ilog2(); // valid bits
    let bits = u64::from(hint) & ((1 << k) - 1);
    let (e0, e1) = (e0 as u32, e1 as u32);
    let (new_idx, nk, nbits) = if e1 >= e0 {
        let d = e1 - e0;
        if d > k {
            return None;
        }
        let low = bits & ((1 << d) - 1);
        (idx | (low << e0) as usize, k - d, bits >> d)
    } else {
        let d = e0 - e1;
        let dropped = (idx >> e1) as u64; // hash bits e1 .. e0
        let nk = (k + d).min(HINT_BITS);
        let all = dropped | bits.checked_shl(d).unwrap_or(0);
        (idx & ((1 << e1) - 1), nk, all & ((1 << nk) - 1))
    };
    Some((new_idx, ((1 << nk) | nbits) as u8))
}

/// Walks the chain starting at `b` for an entry with `tag` and `key`.
///
/// # Safety
/// `b` is the head of a chain of a table borrowed for as long as the
/// returned pointer is used.
#[inline(always)]
unsafe fn find_in_chain<E: Entry>(
    mut b: *mut Bucket,
    tag: u8,
    key: &E::Key,
) -> Option<(*mut Bucket, usize)> {
    loop {
        // SAFETY: b is a bucket of this chain (caller's guarantee).
        let bucket = unsafe { &*b };
        let mut m = bucket.match_tag_nz(tag);
        while m != 0 {
            let slot = m.trailing_zeros() as usize;
            m &= m - 1;
            // SAFETY: match_tag only reports occupied entry slots.
            let e = unsafe { Ref::<E>::new(bucket.entry(slot)) };
            if e.key() == key {
                return Some((b, slot));
            }
        }
        b = bucket.child_for_tag(tag);
        if b.is_null() {
            return None;
        }
    }
}

/// Hints the CPU to bring the cache line at `p` in; never faults.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86-64 baseline; a prefetch is only a hint
    // and does not access memory architecturally, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Frees a level's child buckets and array; its entries must be gone.
///
/// # Safety
/// The level is detached from any table and holds no entries.
unsafe fn free_level(l: Level) {
    if !l.is_allocated() {
        return;
    }
    // A big level's children go back with its arena, unwalked. Otherwise
    // `children` is exact (invariant 5): a level that has none — always the
    // case when a rehash completes, which frees children as it goes — skips
    // the walk, which would read the whole array (milliseconds for a large
    // table, inside the single operation that completes the rehash).
    let walk = l.children > 0 && !l.has_arena();
    // SAFETY: the level is detached: nothing uses its children any more.
    unsafe { l.arena.release() };
    let mut batch = FreeBatch::new();
    for idx in 0..if walk { l.num_buckets() } else { 0 } {
        // SAFETY: idx < num_buckets; children are owned by this level.
        unsafe {
            let mut c = (*l.bucket(idx)).child();
            while !c.is_null() {
                let next = (*c).child();
                batch.push(c);
                c = next;
            }
        }
    }
    drop(batch);
    // SAFETY: allocated by alloc_array with this many buckets.
    unsafe { free_array(NonNull::new_unchecked(l.buckets), l.num_buckets()) };
}

/// Drops every entry of a detached level, then frees it.
///
/// # Safety
/// The level is detached from any table; its entries are owned.
unsafe fn drop_level<E: Entry>(l: Level) {
    if !l.is_allocated() || l.used == 0 {
        // SAFETY: no entries to drop.
        return unsafe { free_level(l) };
    }
    for idx in 0..l.num_buckets() {
        // SAFETY: walking this level's own chains.
        unsafe {
            let mut b = l.bucket(idx);
            while !b.is_null() {
                let mut m = (*b).present_mask();
                while m != 0 {
                    let slot = m.trailing_zeros() as usize;
                    m &= m - 1;
                    drop(E::from_raw(NonNull::new_unchecked((*b).entry(slot))));
                    (*b).clear(slot);
                }
                b = (*b).child();
            }
        }
    }
    // SAFETY: all entries were dropped.
    unsafe { free_level(l) };
}

impl<E: Entry, S> Drop for Table<E, S> {
    fn drop(&mut self) {
        for level in &mut self.levels {
            let l = core::mem::replace(level, Level::NONE);
            // SAFETY: the table is going away; each level is dropped once.
            unsafe { drop_level::<E>(l) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hint followed through random grows and shrinks always gives the
    /// chain the hash gives, and is only ever exhausted by grows.
    #[test]
    fn rehint_tracks_the_hash_through_resizes() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut hinted, mut rehashed) = (0, 0);
        for _ in 0..20_000 {
            let hash = next();
            let mut exp = (next() % 30) as i8;
            let mut hint = hint_for(hash, exp);
            for _ in 0..12 {
                let idx = hash as usize & ((1usize << exp) - 1);
                let e1 = (i64::from(exp) + (next() % 7) as i64 - 3).clamp(0, 40) as i8;
                match rehint(hint, idx, exp, e1) {
                    Some((to, h)) => {
                        assert_eq!(to, hash as usize & ((1usize << e1) - 1));
                        assert!(hint_agrees(h, hash, e1));
                        hint = h;
                        hinted += 1;
                    }
                    None => {
                        assert!(e1 > exp, "a shrink never needs the hash");
                        hint = hint_for(hash, e1);
                        rehashed += 1;
                    }
                }
                exp = e1;
            }
        }
        assert!(hinted > rehashed, "{hinted} {rehashed}");
    }
}
