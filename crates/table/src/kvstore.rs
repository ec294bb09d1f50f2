//! [`KvStore`]: an array of [`Table`]s indexed by cluster slot.
//!
//! In cluster mode every key belongs to one of 16384 hash slots, and the
//! server must list, count and delete the keys of one slot (CLUSTER
//! GETKEYSINSLOT, COUNTKEYSINSLOT, slot migration) without walking the whole
//! keyspace. So the keyspace is one table per slot; in standalone mode it is a
//! single table and the store adds almost nothing around it.
//!
//! Most slots of a node are empty (a node serves a fraction of them), so a
//! table exists only while its slot holds entries: it is created by the first
//! insert and freed by the delete that empties it. A Fenwick tree of the
//! per-slot sizes gives, in O(log slots), the slot holding the n-th entry:
//! what a random entry weighted by slot size needs, and what lets SCAN jump
//! over empty slots.
//!
//! Semantics follow Valkey's `kvstore.c`; the composite SCAN cursor in
//! particular keeps the slot index in its low bits so a client-held cursor
//! resumes in the right slot.

use crate::fenwick::Fenwick;
use crate::hash::DefaultHashBuilder;
use crate::iter::Iter;
use crate::table::{Entry, Pos, Ref, RefMut, Table};
use core::hash::BuildHasher;
use core::ptr::NonNull;
use std::time::{Duration, Instant};

/// Largest supported number of slots: the slot index takes the low 16 bits of
/// a SCAN cursor at most, leaving 48 for the table's own cursor.
pub const MAX_SLOTS: usize = 1 << 16;

/// One optional table per slot.
type SlotTables<E, S> = Box<[Option<Box<Table<E, S>>>]>;

/// An array of hash tables indexed by slot; see the module docs.
///
/// Every method taking a `slot` panics if `slot >= num_slots()`: slots are
/// computed by the server (CRC16 of the key modulo 16384), never taken from a
/// client as is.
pub struct KvStore<E: Entry, S = DefaultHashBuilder> {
    /// `None` for a slot without entries (a table emptied by a delete is
    /// freed at once; [`KvStore::reserve`] may leave an empty one).
    tables: SlotTables<E, S>,
    /// Entries per slot.
    sizes: Fenwick,
    /// log2 of the number of slots: the cursor bits that hold the slot.
    slot_bits: u32,
    /// Tables allocated (`Some` in `tables`).
    allocated: usize,
    /// Slots whose table may be rehashing, so the cron visits only those.
    /// A table that finished rehashing through normal operations, or was
    /// freed, leaves the list lazily, when [`KvStore::rehash_for`] meets it.
    rehashing: Vec<u32>,
    /// Membership flags of `rehashing`, indexed by slot.
    in_rehashing: Box<[bool]>,
    hasher: S,
}

impl<E: Entry> KvStore<E, DefaultHashBuilder> {
    /// A store of `num_slots` slots: 1 in standalone mode, 16384 in cluster
    /// mode. Panics unless `num_slots` is a power of two up to [`MAX_SLOTS`].
    pub fn new(num_slots: usize) -> Self {
        Self::with_hasher(num_slots, DefaultHashBuilder)
    }
}

impl<E: Entry, S: BuildHasher + Clone> KvStore<E, S> {
    /// As [`KvStore::new`], with the hasher every table is built with. Its
    /// clones must hash identically (as `DefaultHashBuilder` and seeded
    /// hashers do): the store hashes a key before knowing its table.
    pub fn with_hasher(num_slots: usize, hasher: S) -> Self {
        assert!(
            num_slots.is_power_of_two() && num_slots <= MAX_SLOTS,
            "KvStore: num_slots must be a power of two up to {MAX_SLOTS}, got {num_slots}"
        );
        KvStore {
            tables: (0..num_slots).map(|_| None).collect(),
            sizes: Fenwick::new(num_slots),
            slot_bits: num_slots.trailing_zeros(),
            allocated: 0,
            rehashing: Vec::new(),
            in_rehashing: vec![false; num_slots].into_boxed_slice(),
            hasher,
        }
    }

    // ---- sizes ---------------------------------------------------------

    #[inline]
    pub fn num_slots(&self) -> usize {
        self.tables.len()
    }

    /// Total number of entries, O(1).
    #[inline]
    pub fn len(&self) -> usize {
        self.sizes.total() as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries in `slot`, O(1).
    #[inline]
    pub fn len_in_slot(&self, slot: usize) -> usize {
        self.tables[slot].as_ref().map_or(0, |t| t.len())
    }

    /// Number of tables currently allocated (slots with entries, plus any
    /// reserved-but-empty ones).
    #[inline]
    pub fn allocated_tables(&self) -> usize {
        self.allocated
    }

    /// The table of `slot`, for read-only use (statistics, debugging).
    #[inline]
    pub fn table(&self, slot: usize) -> Option<&Table<E, S>> {
        self.tables[slot].as_deref()
    }

    /// Bytes of all tables' buckets plus the `Table` structs themselves
    /// (the fixed arrays of the store are [`KvStore::overhead_bytes`]).
    /// O(num_slots): meant for INFO and MEMORY STATS, not per command.
    pub fn bucket_bytes(&self) -> usize {
        let buckets: usize = self.tables.iter().flatten().map(|t| t.bucket_bytes()).sum();
        buckets + self.allocated * core::mem::size_of::<Table<E, S>>()
    }

    /// Bytes of the store's own per-slot arrays (table pointers, Fenwick
    /// tree, rehashing list): fixed for a given number of slots.
    pub fn overhead_bytes(&self) -> usize {
        let n = self.num_slots();
        core::mem::size_of::<Self>()
            + n * core::mem::size_of::<Option<Box<Table<E, S>>>>()
            + (n + 1) * core::mem::size_of::<u64>()
            + n * core::mem::size_of::<bool>()
            + self.rehashing.capacity() * core::mem::size_of::<u32>()
    }

    // ---- bookkeeping -----------------------------------------------------

    fn table_or_create(&mut self, slot: usize) -> &mut Table<E, S> {
        let hasher = &self.hasher;
        let allocated = &mut self.allocated;
        self.tables[slot].get_or_insert_with(|| {
            *allocated += 1;
            Box::new(Table::with_hasher(hasher.clone()))
        })
    }

    /// Records a change of `delta` entries in `slot`, frees the table if it
    /// became empty and remembers it if it is now rehashing. Called after
    /// every operation that may have resized a table.
    fn after_change(&mut self, slot: usize, delta: i64) {
        if delta != 0 {
            self.sizes.add(slot, delta);
        }
        let Some(t) = self.tables[slot].as_deref() else {
            return;
        };
        if t.is_empty() {
            // An empty table has no use, and 16384 idle ones would cost
            // memory: free it (its buckets were already given back).
            self.tables[slot] = None;
            self.allocated -= 1;
        } else if t.is_rehashing() && !self.in_rehashing[slot] {
            self.in_rehashing[slot] = true;
            self.rehashing.push(slot as u32);
        }
    }

    // ---- lookup and update -------------------------------------------------

    /// The entry with `key` in `slot`.
    #[inline]
    pub fn get(&self, slot: usize, key: &E::Key) -> Option<Ref<'_, E>> {
        self.tables[slot].as_deref()?.get(key)
    }

    #[inline]
    pub fn contains_key(&self, slot: usize, key: &E::Key) -> bool {
        self.get(slot, key).is_some()
    }

    /// The entry with `key` in `slot`, for modification (the key must not
    /// change; a reallocated handle is written back when the view drops).
    #[inline]
    pub fn get_mut(&mut self, slot: usize, key: &E::Key) -> Option<RefMut<'_, E>> {
        // A lookup never starts a resize, so no bookkeeping is needed; a
        // rehash it completes is noticed by the cron later.
        self.tables[slot].as_deref_mut()?.get_mut(key)
    }

    /// Inserts `e` into `slot`, replacing and returning an entry with the
    /// same key.
    pub fn insert(&mut self, slot: usize, e: E) -> Option<E> {
        let old = self.table_or_create(slot).insert(e);
        self.after_change(slot, if old.is_none() { 1 } else { 0 });
        old
    }

    /// Removes and returns the entry with `key` from `slot`.
    pub fn remove(&mut self, slot: usize, key: &E::Key) -> Option<E> {
        let e = self.tables[slot].as_deref_mut()?.remove(key);
        self.after_change(slot, if e.is_some() { -1 } else { 0 });
        e
    }

    /// Looks `key` up in `slot` for a two-phase insert or remove; both phases
    /// keep the counts right.
    pub fn entry(&mut self, slot: usize, key: &E::Key) -> KvEntry<'_, E, S> {
        let (hash, pos) = match self.tables[slot].as_deref_mut() {
            Some(t) => t.entry_pos(key),
            None => (self.hasher.hash_one(key), None),
        };
        match pos {
            Some(pos) => KvEntry::Occupied(KvOccupied {
                store: self,
                slot,
                pos,
                hash,
            }),
            None => KvEntry::Vacant(KvVacant {
                store: self,
                slot,
                hash,
            }),
        }
    }

    /// Makes room in `slot` for `additional` more entries (RDB loading knows
    /// the sizes ahead). May leave an empty table allocated until the slot's
    /// next insert or delete.
    pub fn reserve(&mut self, slot: usize, additional: usize) {
        if additional == 0 {
            return;
        }
        self.table_or_create(slot).reserve(additional);
        // Not after_change: an empty reserved table must survive.
        let t = self.tables[slot].as_deref().expect("just created");
        if t.is_rehashing() && !self.in_rehashing[slot] {
            self.in_rehashing[slot] = true;
            self.rehashing.push(slot as u32);
        }
    }

    /// Keeps only the entries for which `keep` returns true; `keep` gets the
    /// slot of each entry too.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &mut E) -> bool) {
        for slot in 0..self.num_slots() {
            let Some(t) = self.tables[slot].as_deref_mut() else {
                continue;
            };
            let before = t.len();
            t.retain(|e| keep(slot, e));
            let removed = before - t.len();
            self.after_change(slot, -(removed as i64));
        }
    }

    /// Drops every entry and table.
    pub fn clear(&mut self) {
        for t in self.tables.iter_mut() {
            *t = None;
        }
        self.sizes.clear();
        self.allocated = 0;
        self.rehashing.clear();
        self.in_rehashing.fill(false);
    }

    /// Takes all contents out, leaving this store empty, in O(1) for the
    /// entries: the returned store can be dropped on another thread (FLUSHALL
    /// ASYNC) while this one serves new writes. The fresh per-slot arrays
    /// come from zeroed memory.
    pub fn take(&mut self) -> Self {
        let fresh = Self::with_hasher(self.num_slots(), self.hasher.clone());
        core::mem::replace(self, fresh)
    }

    // ---- random ----------------------------------------------------------

    /// A slot chosen with probability proportional to its size (`None` when
    /// the store is empty). `rng` returns uniformly random u64s.
    pub fn random_slot(&self, rng: &mut dyn FnMut() -> u64) -> Option<usize> {
        let total = self.sizes.total();
        if total == 0 {
            return None;
        }
        if self.num_slots() == 1 {
            return Some(0);
        }
        Some(self.sizes.find(rng() % total + 1))
    }

    /// The slot holding the `n`-th entry (0-based) when slots are laid end to
    /// end in order; `None` if `n >= len()`.
    pub fn slot_of_nth(&self, n: usize) -> Option<usize> {
        (n < self.len()).then(|| self.sizes.find(n as u64 + 1))
    }

    /// A random entry, cheaply: a slot weighted by size, then
    /// [`Table::random_entry`] in it.
    pub fn random_entry(&self, rng: &mut dyn FnMut() -> u64) -> Option<Ref<'_, E>> {
        let slot = self.random_slot(rng)?;
        self.tables[slot].as_deref()?.random_entry(rng)
    }

    /// A random entry closer to uniform (RANDOMKEY): a slot weighted by size,
    /// then [`Table::fair_random_entry`] in it.
    pub fn fair_random_entry(&self, rng: &mut dyn FnMut() -> u64) -> Option<Ref<'_, E>> {
        let slot = self.random_slot(rng)?;
        self.tables[slot].as_deref()?.fair_random_entry(rng)
    }

    /// Adds up to `count` distinct random entries to `out` (eviction
    /// sampling) and returns how many it added. They come from one slot
    /// chosen by size, then from the following non-empty slots (wrapping)
    /// while that one has too few.
    pub fn sample<'a>(
        &'a self,
        count: usize,
        rng: &mut dyn FnMut() -> u64,
        out: &mut Vec<Ref<'a, E>>,
    ) -> usize {
        let Some(first) = self.random_slot(rng) else {
            return 0;
        };
        let mut added = 0;
        let mut slot = first;
        loop {
            if let Some(t) = self.tables[slot].as_deref() {
                added += t.sample(count - added, rng, out);
            }
            if added >= count {
                break;
            }
            slot = match self.next_non_empty(slot).or_else(|| self.first_non_empty()) {
                Some(s) if s != first => s,
                _ => break,
            };
        }
        added
    }

    fn first_non_empty(&self) -> Option<usize> {
        (self.sizes.total() > 0).then(|| self.sizes.find(1))
    }

    fn next_non_empty(&self, slot: usize) -> Option<usize> {
        self.sizes.next_non_zero(slot)
    }

    // ---- scan and iteration ------------------------------------------------

    /// Calls `f` for the entries of one cursor step over all slots, and
    /// returns the next cursor; start with 0 and stop when 0 comes back.
    ///
    /// The cursor's low `log2(num_slots)` bits are the slot, the rest the
    /// slot's table cursor. Slots are scanned in order; empty ones are
    /// skipped in O(log slots) through the size tree, and a call that lands
    /// on an empty slot goes on to the next non-empty one instead of
    /// returning nothing. Every entry present for the whole scan is returned
    /// at least once (see [`Table::scan`]).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&E)) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let slot_mask = (self.num_slots() - 1) as u64;
        let mut slot = (cursor & slot_mask) as usize;
        let mut table_cursor = cursor >> self.slot_bits;
        loop {
            if let Some(t) = self.tables[slot].as_deref().filter(|t| !t.is_empty()) {
                let next = t.scan(table_cursor, &mut f);
                if next != 0 {
                    return (next << self.slot_bits) | slot as u64;
                }
                // This slot is done: the cursor moves to the next one.
                return self.next_non_empty(slot).map_or(0, |s| s as u64);
            }
            // Nothing here (emptied since the cursor was returned, or a
            // cursor starting at 0): go on to the next slot with entries.
            slot = match self.next_non_empty(slot) {
                Some(s) => s,
                None => return 0,
            };
            table_cursor = 0;
        }
    }

    /// [`Table::scan`] of one slot's table, with a plain table cursor (0 when
    /// the slot is empty).
    pub fn scan_slot(&self, slot: usize, cursor: u64, f: impl FnMut(&E)) -> u64 {
        match self.tables[slot].as_deref() {
            Some(t) => t.scan(cursor, f),
            None => 0,
        }
    }

    /// All entries, slot by slot.
    pub fn iter(&self) -> KvIter<'_, E, S> {
        KvIter {
            store: self,
            slot: 0,
            current: None,
            left: self.len(),
        }
    }

    /// The entries of one slot (CLUSTER GETKEYSINSLOT).
    pub fn slot_keys(&self, slot: usize) -> impl Iterator<Item = Ref<'_, E>> + '_ {
        self.tables[slot]
            .as_deref()
            .into_iter()
            .flat_map(|t| t.iter())
    }

    // ---- rehashing -------------------------------------------------------

    /// Rehashes the tables that are rehashing, for about `budget` of time
    /// (the server cron's share). Returns true while some rehashing remains.
    pub fn rehash_for(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while let Some(&slot) = self.rehashing.last() {
            let slot = slot as usize;
            let left = budget.saturating_sub(start.elapsed());
            let busy = match self.tables[slot].as_deref_mut() {
                Some(t) => t.rehash_for(left),
                None => false,
            };
            if !busy {
                self.rehashing.pop();
                self.in_rehashing[slot] = false;
            }
            if start.elapsed() >= budget {
                break;
            }
        }
        !self.rehashing.is_empty()
    }

    /// Number of tables that are rehashing (walks the rehashing list only).
    pub fn rehashing_tables(&self) -> usize {
        self.rehashing
            .iter()
            .filter(|&&s| {
                self.tables[s as usize]
                    .as_ref()
                    .is_some_and(|t| t.is_rehashing())
            })
            .count()
    }
}

/// The result of [`KvStore::entry`].
pub enum KvEntry<'a, E: Entry, S> {
    Occupied(KvOccupied<'a, E, S>),
    Vacant(KvVacant<'a, E, S>),
}

/// A present key found by [`KvStore::entry`].
pub struct KvOccupied<'a, E: Entry, S> {
    store: &'a mut KvStore<E, S>,
    slot: usize,
    pos: Pos,
    hash: u64,
}

/// An absent key: [`KvVacant::insert`] stores it without a second lookup.
pub struct KvVacant<'a, E: Entry, S> {
    store: &'a mut KvStore<E, S>,
    slot: usize,
    hash: u64,
}

impl<'a, E: Entry, S: BuildHasher + Clone> KvOccupied<'a, E, S> {
    pub fn slot(&self) -> usize {
        self.slot
    }

    pub fn get(&self) -> Ref<'_, E> {
        // SAFETY: pos holds an entry of the store's table, which is borrowed
        // mutably by self, so nothing moved since entry() found it.
        unsafe { Ref::new((*self.pos.bucket).entry(self.pos.slot)) }
    }

    pub fn get_mut(&mut self) -> RefMut<'_, E> {
        // SAFETY: as in get; the view borrows self mutably.
        unsafe { RefMut::new(self.pos.bucket, self.pos.slot) }
    }

    pub fn into_mut(self) -> RefMut<'a, E> {
        // SAFETY: as in get, for the whole borrow of the store.
        unsafe { RefMut::new(self.pos.bucket, self.pos.slot) }
    }

    /// Puts `e` (same key) in place of the entry and returns the old one.
    pub fn replace(self, e: E) -> E {
        let raw = e.into_raw();
        // SAFETY: pos holds an entry; the new pointer takes its slot and tag,
        // and the old one is owned again by the caller.
        unsafe {
            let old = (*self.pos.bucket).entry(self.pos.slot);
            (*self.pos.bucket).replace_entry(self.pos.slot, raw.as_ptr());
            E::from_raw(NonNull::new_unchecked(old))
        }
    }

    /// Takes the entry out, freeing the slot's table if it became empty.
    pub fn remove(self) -> E {
        let store = self.store;
        let t = store.tables[self.slot]
            .as_deref_mut()
            .expect("an occupied entry's slot has a table");
        // SAFETY: pos holds an entry hashing to `hash` and nothing moved
        // since it was found (the store is borrowed mutably by self).
        let e = unsafe { t.remove_at(self.pos, self.hash) };
        store.after_change(self.slot, -1);
        e
    }
}

impl<'a, E: Entry, S: BuildHasher + Clone> KvVacant<'a, E, S> {
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// Inserts `e`, whose key must be the one looked up.
    pub fn insert(self, e: E) -> RefMut<'a, E> {
        let store = self.store;
        let t = store.table_or_create(self.slot);
        debug_assert_eq!(
            t.hash_key(e.key()),
            self.hash,
            "vacant insert of another key"
        );
        let pos = t.insert_new(self.hash, e);
        store.after_change(self.slot, 1);
        // SAFETY: pos holds the new entry of the table, and after_change did
        // not move it (the table is not empty, so it is not freed, and the
        // bookkeeping never touches buckets). The view borrows the store for
        // 'a.
        unsafe { RefMut::new(pos.bucket, pos.slot) }
    }
}

/// Iterator over all entries of a [`KvStore`], slot by slot.
pub struct KvIter<'a, E: Entry, S> {
    store: &'a KvStore<E, S>,
    /// Next slot to open.
    slot: usize,
    current: Option<Iter<'a, E, S>>,
    left: usize,
}

impl<'a, E: Entry, S: BuildHasher + Clone> Iterator for KvIter<'a, E, S> {
    type Item = Ref<'a, E>;

    fn next(&mut self) -> Option<Ref<'a, E>> {
        loop {
            if let Some(e) = self.current.as_mut().and_then(|it| it.next()) {
                self.left -= 1;
                return Some(e);
            }
            if self.left == 0 {
                return None;
            }
            // Jump to the next slot with entries through the size tree.
            let slot = if self.slot == 0 {
                self.store.first_non_empty()?
            } else {
                self.store.next_non_empty(self.slot - 1)?
            };
            self.slot = slot + 1;
            self.current = self.store.tables[slot].as_deref().map(|t| t.iter());
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<E: Entry, S: BuildHasher + Clone> ExactSizeIterator for KvIter<'_, E, S> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A minimal owned key for the unit tests: a boxed u64.
    struct K(NonNull<u64>);

    impl K {
        fn new(k: u64) -> Self {
            K(NonNull::from(Box::leak(Box::new(k))))
        }
        fn v(&self) -> u64 {
            *self.key()
        }
    }

    impl Drop for K {
        fn drop(&mut self) {
            // SAFETY: the pointer came from Box::leak and is owned by self.
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        }
    }

    // SAFETY: K owns its box exclusively, like Box<u64>.
    unsafe impl Send for K {}

    // SAFETY: a plain NonNull wrapper around a Box allocation.
    unsafe impl Entry for K {
        type Key = u64;
        fn key(&self) -> &u64 {
            // SAFETY: the box is alive while self is.
            unsafe { self.0.as_ref() }
        }
        fn into_raw(self) -> NonNull<u8> {
            let p = self.0.cast();
            core::mem::forget(self);
            p
        }
        unsafe fn from_raw(raw: NonNull<u8>) -> Self {
            K(raw.cast())
        }
    }

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    fn full_scan(s: &KvStore<K>) -> Vec<u64> {
        let mut out = Vec::new();
        let mut c = 0;
        loop {
            c = s.scan(c, |e| out.push(e.v()));
            if c == 0 {
                return out;
            }
        }
    }

    #[test]
    fn tables_come_and_go_with_their_entries() {
        let mut s: KvStore<K> = KvStore::new(16);
        assert_eq!(s.allocated_tables(), 0);
        assert_eq!(s.bucket_bytes(), 0);
        assert!(s.insert(3, K::new(1)).is_none());
        assert!(s.insert(3, K::new(2)).is_none());
        assert!(s.insert(9, K::new(3)).is_none());
        assert_eq!(s.allocated_tables(), 2);
        assert_eq!(
            (
                s.len(),
                s.len_in_slot(3),
                s.len_in_slot(9),
                s.len_in_slot(0)
            ),
            (3, 2, 1, 0)
        );
        // Replacing does not count twice.
        assert_eq!(s.insert(3, K::new(2)).map(|e| e.v()), Some(2));
        assert_eq!(s.len(), 3);
        assert!(s.get(3, &1).is_some());
        assert!(s.get(9, &1).is_none(), "keys are per slot");
        assert!(s.remove(9, &1).is_none());
        assert_eq!(s.remove(9, &3).map(|e| e.v()), Some(3));
        assert_eq!(s.allocated_tables(), 1);
        assert!(s.table(9).is_none());
        let expect = s.table(3).unwrap().bucket_bytes() + core::mem::size_of::<Table<K>>();
        assert_eq!(s.bucket_bytes(), expect);
        s.clear();
        assert_eq!((s.len(), s.allocated_tables(), s.bucket_bytes()), (0, 0, 0));
    }

    #[test]
    fn entry_api_keeps_counts() {
        let mut s: KvStore<K> = KvStore::new(4);
        match s.entry(2, &7) {
            KvEntry::Vacant(v) => {
                assert_eq!(v.slot(), 2);
                assert_eq!(v.insert(K::new(7)).v(), 7);
            }
            KvEntry::Occupied(_) => panic!("empty store"),
        }
        assert_eq!((s.len(), s.len_in_slot(2), s.allocated_tables()), (1, 1, 1));
        match s.entry(2, &7) {
            KvEntry::Occupied(o) => {
                assert_eq!(o.get().v(), 7);
                let old = o.replace(K::new(7));
                assert_eq!(old.v(), 7);
            }
            KvEntry::Vacant(_) => panic!("present"),
        }
        assert_eq!(s.len(), 1);
        match s.entry(2, &7) {
            KvEntry::Occupied(o) => assert_eq!(o.remove().v(), 7),
            KvEntry::Vacant(_) => panic!("present"),
        }
        assert_eq!((s.len(), s.allocated_tables()), (0, 0));
        // A vacant lookup that is not followed by an insert allocates nothing.
        assert!(matches!(s.entry(1, &5), KvEntry::Vacant(_)));
        assert_eq!(s.allocated_tables(), 0);
    }

    #[test]
    fn scan_covers_all_slots_in_order_and_ends_at_zero() {
        let mut s: KvStore<K> = KvStore::new(16384);
        assert_eq!(s.scan(0, |_| panic!("empty")), 0);
        let slots = [0usize, 1, 77, 5000, 16383];
        let mut expect = Vec::new();
        for (i, &slot) in slots.iter().enumerate() {
            for k in 0..(i as u64 * 30 + 1) {
                let key = slot as u64 * 1000 + k;
                s.insert(slot, K::new(key));
                expect.push(key);
            }
        }
        let got = full_scan(&s);
        let mut uniq: Vec<u64> = got
            .iter()
            .copied()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        uniq.sort_unstable();
        expect.sort_unstable();
        assert_eq!(uniq, expect);
        // Slot order: keys encode their slot.
        assert!(got.windows(2).all(|w| w[0] / 1000 <= w[1] / 1000));
        // A cursor pointing at a slot emptied meanwhile moves on.
        s.remove(0, &0);
        let mut seen = Vec::new();
        let c = s.scan(0, |e| seen.push(e.v()));
        assert!(seen.iter().all(|k| k / 1000 == 1));
        assert!(c == 77 || c & 16383 == 1, "cursor {c}");
    }

    #[test]
    fn standalone_scan_cursor_is_the_table_cursor() {
        let mut s: KvStore<K> = KvStore::new(1);
        let mut t: Table<K> = Table::new();
        for k in 0..500 {
            s.insert(0, K::new(k));
            t.insert(K::new(k));
        }
        let (mut c1, mut c2) = (0, 0);
        loop {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            c1 = s.scan(c1, |e| a.push(e.v()));
            c2 = t.scan(c2, |e| b.push(e.v()));
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!((c1, &a), (c2, &b));
            if c1 == 0 {
                break;
            }
        }
    }

    #[test]
    fn random_slot_is_weighted_by_size() {
        let mut s: KvStore<K> = KvStore::new(8);
        let mut r = rng(42);
        assert!(s.random_slot(&mut r).is_none());
        assert!(s.random_entry(&mut r).is_none());
        for k in 0..900 {
            s.insert(1, K::new(k));
        }
        for k in 1000..1100 {
            s.insert(6, K::new(k));
        }
        let mut hits = [0usize; 8];
        for _ in 0..10_000 {
            hits[s.random_slot(&mut r).unwrap()] += 1;
        }
        assert_eq!(hits[1] + hits[6], 10_000);
        assert!((8500..9500).contains(&hits[1]), "{hits:?}");
        assert_eq!(s.slot_of_nth(0), Some(1));
        assert_eq!(s.slot_of_nth(899), Some(1));
        assert_eq!(s.slot_of_nth(900), Some(6));
        assert_eq!(s.slot_of_nth(1000), None);
        let e = s.fair_random_entry(&mut r).unwrap().v();
        assert!(e < 900 || (1000..1100).contains(&e));
    }

    #[test]
    fn sample_spills_into_following_slots() {
        let mut s: KvStore<K> = KvStore::new(4);
        for k in 0..3 {
            s.insert(0, K::new(k));
            s.insert(3, K::new(10 + k));
        }
        let mut out = Vec::new();
        let n = s.sample(6, &mut rng(7), &mut out);
        assert_eq!(n, 6);
        let mut got: Vec<u64> = out.iter().map(|e| e.v()).collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2, 10, 11, 12]);
        out.clear();
        assert_eq!(s.sample(100, &mut rng(8), &mut out), 6);
    }

    #[test]
    fn iteration_and_slot_keys() {
        let mut s: KvStore<K> = KvStore::new(64);
        for k in 0..640u64 {
            s.insert((k % 7) as usize * 9, K::new(k));
        }
        let it = s.iter();
        assert_eq!(it.len(), 640);
        let mut all: Vec<u64> = it.map(|e| e.v()).collect();
        all.sort_unstable();
        assert_eq!(all, (0..640).collect::<Vec<_>>());
        let mut in9: Vec<u64> = s.slot_keys(9).map(|e| e.v()).collect();
        in9.sort_unstable();
        assert_eq!(in9, (0..640).filter(|k| k % 7 == 1).collect::<Vec<_>>());
        assert_eq!(s.slot_keys(10).count(), 0);
        s.retain(|slot, e| slot != 9 && e.v() % 2 == 0);
        assert_eq!(s.len(), s.iter().count());
        assert!(s.table(9).is_none());
        assert!(s.iter().all(|e| e.v() % 2 == 0 && e.v() % 7 != 1));
    }

    #[test]
    fn rehash_for_finishes_every_rehashing_table() {
        let mut s: KvStore<K> = KvStore::new(16);
        for k in 0..20_000u64 {
            s.insert((k % 16) as usize, K::new(k));
        }
        // Each table grew many times; some are mid-rehash now, and the cron
        // finishes them all.
        while s.rehash_for(Duration::from_millis(1)) {}
        assert_eq!(s.rehashing_tables(), 0);
        for slot in 0..16 {
            assert!(!s.table(slot).unwrap().is_rehashing());
        }
        assert_eq!(s.len(), 20_000);
    }

    #[test]
    fn take_leaves_an_empty_store() {
        let mut s: KvStore<K> = KvStore::new(16384);
        for k in 0..1000u64 {
            s.insert((k * 31 % 16384) as usize, K::new(k));
        }
        let old = s.take();
        assert_eq!(
            (s.len(), s.allocated_tables(), s.num_slots()),
            (0, 0, 16384)
        );
        assert_eq!(old.len(), 1000);
        std::thread::spawn(move || drop(old)).join().unwrap();
        s.insert(5, K::new(1));
        assert_eq!(s.len(), 1);
    }
}
