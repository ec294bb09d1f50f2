//! The bucket pool: where every child bucket (the bucket chained below a
//! full one) and every small bucket array (up to [`MAX_RUN_BUCKETS`]) comes
//! from.
//!
//! A child is a 64-byte, 64-byte-aligned block allocated inside an insert
//! and freed inside a delete or a rehash step, and a small array is
//! allocated inside the insert that resizes, so a general allocator's slow
//! paths land right in single operations. Measured on 10M inserts: mimalloc
//! faulting in fresh heap (a 2 MiB huge-page clear with its default
//! `allow_thp`: 4 ms in one insert, for children as for the first arrays;
//! 1.4 ms with small pages), glibc's `memalign` and `malloc_consolidate`
//! (27–74 ms). The pool serves them from memory it maps itself.
//!
//! ```text
//!  chunk of class k (64 KiB, or 32 runs when that is more; aligned to its size)
//!    [ header | run | run | ... | run | (unused tail) ]   a run: 2^k buckets
//!    header (one bucket): free list, live runs, bump, dirty and counted
//!                         marks, class, partial-list links
//! ```
//!
//! Class `k` serves runs of `2^k` buckets: children and one-bucket arrays
//! are class 0, arrays of 2..512 buckets classes 1..9. A run's chunk is its
//! address rounded down to its class's chunk size, so a free needs only the
//! run and its size. A chunk hands out never-used runs by bumping an index
//! and freed ones from its own free list (linked through their first word).
//! The header is one bucket, so a chunk loses less than one run in 32.
//!
//! *No page faults on the insert path* for children, the frequent case:
//! class 0 takes from its current chunk, else from a chunk with freed
//! buckets, else from one of the spare chunks (two, more after a burst:
//! [`SPARE_CHUNKS`], [`SPARE_MAX`]) that the
//! background thread mapped and faulted in; taking a spare asks that thread
//! for another. Only when it has fallen that far behind does an allocation
//! map a chunk itself (one `mmap`); its pages then fault in at most one per
//! child, 4 KiB each, while the background thread populates the rest. An
//! array's fresh run is populated by the background thread too; its first
//! pages fault as the table touches them (4 KiB each, small pages).
//!
//! *Zeroing.* A run above its chunk's `dirty` mark has never been written
//! (the mapping is zero); any other run is zeroed when handed out.
//!
//! *Handing memory back.* A chunk whose last run is freed becomes a spare
//! (64 KiB chunks only) if fewer than the spare target are kept, and is
//! unmapped on the background thread otherwise. A dropped or shrunk table
//! thus gives its memory back, except the chunks that still hold other
//! tables' buckets (fragmentation at chunk level, as in any allocator).
//!
//! *Shared for small tables, an arena per big level.* A server holds many
//! small tables (one per hash, set and sorted set past its compact
//! encoding, one per cluster slot), most with a handful of children: a
//! chunk per table would cost 64 KiB where its children take a few hundred
//! bytes, so they share the pool's chunks. A level of 16384 buckets and
//! more has hundreds of children or more, and its children come from its
//! own [`Arena`] of chunks lent by the pool, given back whole when the
//! level goes: measured, the shared chunks kept 1.4 bytes per entry of
//! free buckets after the doublings of a table grown to 1M–10M entries,
//! the arenas 0.33 (see `Arena`). Either way a table's
//! [`bucket_bytes`](crate::Table::bucket_bytes) stays exact (64 bytes per
//! child) and the slack is the pool's.
//!
//! *Threads.* A table is used by one thread at a time, but may be dropped
//! on another (the server's lazy-free thread), and the background thread
//! adds spares, so the pool is behind a mutex, held briefly and never
//! across a wait for the background thread. Children of small tables go
//! through a small
//! per-thread cache (`Magazine`) that takes the lock once per eight, those
//! of big levels through their arena, without it; a whole level's children
//! are freed in batches.
//!
//! *Accounting.* A chunk counts in [`crate::mapped_bytes`] for the pages it
//! may have made resident: up to its `dirty` mark, rounded up to pages, or
//! all of it once faulted in ahead — the resident memory, free runs and
//! spares included, not the untouched tail of a chunk. [`pool_stats`]
//! tells used from held.

use crate::alloc::{
    count_mapped, map_chunk, populate_chunk, set_idle, unmap_chunk, wake_pool_work,
};
use crate::bucket::{Bucket, BUCKET_BYTES};
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};
use std::alloc::{handle_alloc_error, Layout};
use std::sync::{Mutex, MutexGuard};

/// Size classes: runs of `1 << k` buckets for `k < CLASSES`.
const CLASSES: usize = 10;
/// The largest array the pool serves, in buckets (32 KiB).
pub(crate) const MAX_RUN_BUCKETS: usize = 1 << (CLASSES - 1);
/// The chunk size of the small classes, the only ones with spares: small
/// enough that an idle process holds little, big enough that the
/// background thread maps one per thousand children.
const BASE_CHUNK: usize = 64 << 10;
const PAGE: usize = 4096;
/// Buckets of a 64 KiB chunk, its header included.
const CHUNK_BUCKETS_BASE: u32 = (BASE_CHUNK / BUCKET_BYTES) as u32;
/// Bucket 0 of a chunk is its header.
const FIRST_BUCKET: u32 = 1;
/// Empty 64 KiB chunks kept faulted in for the next allocations. At the
/// fastest rate measured (a growing 10M table: ~10 % of inserts chain a
/// child, half of them reusing a freed one) two last several milliseconds.
pub(crate) const SPARE_CHUNKS: usize = 2;
/// The spare target doubles, up to this, each time an allocation had to
/// map a chunk itself (a burst: a big table's arenas borrow a chunk per
/// thousand children), and halves back after each idle second.
pub(crate) const SPARE_MAX: usize = 32;

/// The pool's spare target is above [`SPARE_CHUNKS`]: the background
/// thread should call [`trim`] when idle.
static TRIM_DUE: AtomicBool = AtomicBool::new(false);

/// Whether the background thread has a [`trim`] to do once idle.
pub(crate) fn trim_due() -> bool {
    TRIM_DUE.load(Ordering::Relaxed)
}

/// Called by the background thread after an idle second: halves the spare
/// target and gives back the spares beyond it.
pub(crate) fn trim() {
    let mut p = pool();
    p.spare_target = (p.spare_target / 2).max(SPARE_CHUNKS);
    TRIM_DUE.store(p.spare_target > SPARE_CHUNKS, Ordering::Relaxed);
    while p.spares > p.spare_target {
        let c = p.spare;
        // SAFETY: the head of the spare list is an empty chunk on no other
        // list; it leaves the spare list before it goes.
        unsafe {
            p.spare = (*c).next;
            p.spares -= 1;
            p.give_back(c);
        }
    }
}

/// Bytes of a chunk of `class`: 64 KiB, or 32 runs if more.
const fn chunk_bytes(class: usize) -> usize {
    let b = (32 * BUCKET_BYTES) << class;
    if b > BASE_CHUNK {
        b
    } else {
        BASE_CHUNK
    }
}

const _: () = assert!(chunk_bytes(CLASSES - 1) <= u32::MAX as usize);

#[repr(C, align(64))]
struct Chunk {
    /// Freed runs, linked through their first word.
    free: *mut Bucket,
    /// Links on its class's partial list (`next` also on the spare list).
    prev: *mut Chunk,
    next: *mut Chunk,
    /// Runs handed out and not freed.
    live: u32,
    /// The first never-handed-out bucket.
    bump: u32,
    /// Buckets from here on have never been written (they are zero).
    dirty: u32,
    /// Bytes of the chunk counted in `mapped_bytes` (page multiple).
    counted: u32,
    class: u8,
    /// On its class's partial list.
    listed: bool,
}

const _: () = assert!(core::mem::size_of::<Chunk>() == BUCKET_BYTES);

/// The class of an array of `buckets` buckets (rounded up to a power of 2).
#[inline]
fn class_of(buckets: usize) -> usize {
    debug_assert!((1..=MAX_RUN_BUCKETS).contains(&buckets));
    buckets.next_power_of_two().trailing_zeros() as usize
}

/// The chunk holding run `b` of `class`.
#[inline]
fn chunk_of(b: *mut Bucket, class: usize) -> *mut Chunk {
    b.map_addr(|a| a & !(chunk_bytes(class) - 1)).cast()
}

/// A freed run's words past the free-list link, in debug builds: not a
/// pointer anyone could follow (non-canonical on x86-64), so a use after
/// free crashes a test instead of reading an empty bucket, and a double
/// free is caught. It also leaves no stale entry pointer where valgrind's
/// leak check would see it.
#[cfg(debug_assertions)]
const POISON: usize = 0xdead_beef_dead_beef;

/// Maps a chunk of `class` and writes its header; `None` when memory is
/// refused.
fn new_chunk(class: usize) -> Option<NonNull<Chunk>> {
    let c = map_chunk(chunk_bytes(class))?.cast::<Chunk>();
    // SAFETY: a fresh, exclusively owned mapping of chunk_bytes(class),
    // aligned to them: the header (bucket 0) is in bounds and aligned.
    unsafe {
        c.write(Chunk {
            free: ptr::null_mut(),
            prev: ptr::null_mut(),
            next: ptr::null_mut(),
            live: 0,
            bump: FIRST_BUCKET,
            dirty: FIRST_BUCKET,
            counted: 0,
            class: class as u8,
            listed: false,
        })
    };
    Some(c)
}

#[derive(Clone, Copy)]
struct Class {
    /// Where allocations go first (null before the first).
    current: *mut Chunk,
    /// Chunks other than `current` with both free and live runs (doubly
    /// linked).
    partial: *mut Chunk,
}

/// Ranges the background thread faults in at most per round (more are
/// dropped: populating is only a head start).
const MAX_POPULATES: usize = 8;

pub(crate) struct Pool {
    classes: [Class; CLASSES],
    /// Empty 64 KiB chunks (linked through `next`).
    spare: *mut Chunk,
    spares: usize,
    /// Spares the background thread is preparing.
    refilling: usize,
    /// Chunks for the background thread to unmap (linked through `next`).
    unmaps: *mut Chunk,
    /// Ranges for the background thread to fault in.
    populates: [(*mut Bucket, usize); MAX_POPULATES],
    n_populates: usize,
    /// The background thread was woken and has not yet taken the work.
    requested: bool,
    /// Chunks mapped and not given back.
    chunks: usize,
    /// Bytes counted in `mapped_bytes` (the chunks' `counted`).
    held: usize,
    /// Bytes of runs handed out.
    used: usize,
    /// Small-class chunks an allocation had to map itself.
    sync_maps: usize,
    /// Chunks lent to arenas (counted in `chunks` and `held` too).
    lent: usize,
    /// Spares to keep (see [`SPARE_MAX`]).
    spare_target: usize,
    /// Refilled and populated by the background thread (the process's
    /// pool; a test's own pool maps on demand).
    background: bool,
}

// SAFETY: the chunk pointers are owned by the pool and only followed by
// whoever holds it (behind the lock for the process's pool).
unsafe impl Send for Pool {}

static POOL: Mutex<Pool> = Mutex::new(Pool::new(true));

/// The process's pool, locked. (A std mutex, so that a waiter sleeps
/// rather than spins if the holder is preempted; a spin lock saved about
/// 1 % on small tables, within noise.) A panic cannot leave the pool
/// inconsistent (nothing inside panics but debug assertions), so a
/// poisoned lock is taken anyway.
fn pool() -> PoolGuard {
    PoolGuard(POOL.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The locked pool. Unlocking publishes its slack (see
/// [`crate::in_use_bytes`]), so the figure is never read mid-change.
struct PoolGuard(MutexGuard<'static, Pool>);

impl core::ops::Deref for PoolGuard {
    type Target = Pool;
    fn deref(&self) -> &Pool {
        &self.0
    }
}

impl core::ops::DerefMut for PoolGuard {
    fn deref_mut(&mut self) -> &mut Pool {
        &mut self.0
    }
}

impl Drop for PoolGuard {
    fn drop(&mut self) {
        set_idle(self.0.slack());
    }
}

fn out_of_memory(class: usize) -> ! {
    handle_alloc_error(Layout::from_size_align(BUCKET_BYTES << class, BUCKET_BYTES).unwrap())
}

/// Child buckets a thread keeps at hand (see [`Magazine`]).
const MAGAZINE: usize = 16;
/// Buckets moved between a magazine and the pool under one lock.
const MAGAZINE_BATCH: usize = MAGAZINE / 2;

/// A per-thread cache of free child buckets: the pool's lock is two atomic
/// read-modify-writes, which profiles showed to be most of a child's
/// allocation (about five times mimalloc's cost for the block), so a thread
/// that allocates children takes and gives them back in batches. Only such
/// a thread caches its frees: one that only frees (the server's lazy-free
/// thread) gives them straight back, and keeps nothing that would pin a
/// chunk. The buckets in magazines count as used in [`PoolStats`].
struct Magazine {
    buf: [*mut Bucket; MAGAZINE],
    n: usize,
    /// This thread has allocated children.
    allocates: bool,
}

impl Magazine {
    /// A bucket, refilling from the pool when empty; `None` when no memory.
    fn pop(&mut self) -> Option<*mut Bucket> {
        self.allocates = true;
        if self.n == 0 {
            let mut p = pool();
            while self.n < MAGAZINE_BATCH {
                match p.alloc(0) {
                    Some((b, _)) => {
                        self.buf[self.n] = b.as_ptr();
                        self.n += 1;
                    }
                    None if self.n > 0 => break,
                    None => return None,
                }
            }
        }
        self.n -= 1;
        Some(self.buf[self.n])
    }

    /// Keeps a freed (poisoned) bucket, giving half back when full. False
    /// when this thread does not cache (it has never allocated).
    ///
    /// # Safety
    /// `b` comes from [`alloc_child`] and is not used afterwards.
    unsafe fn push(&mut self, b: *mut Bucket) -> bool {
        if !self.allocates {
            return false;
        }
        if self.n == MAGAZINE {
            // SAFETY: the magazine's buckets are freed children.
            unsafe { self.give_back(MAGAZINE_BATCH) };
        }
        self.buf[self.n] = b;
        self.n += 1;
        true
    }

    /// # Safety
    /// The magazine's buckets are freed children (none is used).
    unsafe fn give_back(&mut self, k: usize) {
        let mut p = pool();
        for _ in 0..k.min(self.n) {
            self.n -= 1;
            // SAFETY: per the contract; each leaves the magazine once.
            unsafe { p.free(self.buf[self.n], 0) };
        }
    }
}

impl Drop for Magazine {
    fn drop(&mut self) {
        // SAFETY: the thread is exiting: nothing uses the cached buckets.
        unsafe { self.give_back(MAGAZINE) };
    }
}

thread_local! {
    static MAGAZINES: core::cell::RefCell<Magazine> = const {
        core::cell::RefCell::new(Magazine {
            buf: [ptr::null_mut(); MAGAZINE],
            n: 0,
            allocates: false,
        })
    };
}

/// A zeroed child bucket. Never null: aborts like an allocation failure
/// when the OS refuses memory.
#[inline(never)]
pub(crate) fn alloc_child() -> *mut Bucket {
    let b = MAGAZINES
        .try_with(|m| m.borrow_mut().pop())
        // Thread-local storage already gone (a table used in a TLS
        // destructor): straight from the pool.
        .unwrap_or_else(|_| pool().alloc(0).map(|(b, _)| b.as_ptr()))
        .unwrap_or_else(|| out_of_memory(0));
    // SAFETY: the bucket is ours alone; it may have been used before.
    unsafe { b.write(Bucket::EMPTY) };
    b
}

/// # Safety
/// `b` comes from [`alloc_child`] and is not used afterwards.
#[inline(never)]
pub(crate) unsafe fn free_child(b: *mut Bucket) {
    // SAFETY: per the contract.
    unsafe {
        poison(b, 0);
        let cached = MAGAZINES
            .try_with(|m| m.borrow_mut().push(b))
            .unwrap_or(false);
        if !cached {
            pool().free(b, 0);
        }
    }
}

/// A zeroed array of `buckets` (at most [`MAX_RUN_BUCKETS`]).
pub(crate) fn alloc_run(buckets: usize) -> NonNull<Bucket> {
    let class = class_of(buckets);
    let (b, fresh) = pool().alloc(class).unwrap_or_else(|| out_of_memory(class));
    if !fresh {
        // SAFETY: the run is ours alone; zeroed outside the lock.
        unsafe { ptr::write_bytes(b.as_ptr(), 0, 1 << class) };
    }
    b
}

/// # Safety
/// `b` comes from `alloc_run(buckets)` and is not used afterwards.
pub(crate) unsafe fn free_run(b: *mut Bucket, buckets: usize) {
    let class = class_of(buckets);
    // SAFETY: per the contract.
    unsafe {
        poison(b, class);
        pool().free(b, class);
    }
}

/// Levels of at least this many buckets (1 MiB arrays, tables of about
/// 100k entries and more) take their children from an [`Arena`].
pub(crate) const ARENA_MIN_BUCKETS: usize = (1 << 20) / BUCKET_BYTES;

/// The child buckets of one big level: 64 KiB chunks lent by the pool
/// (faulted in ahead, like any), a free list of the level's own, and all
/// of it given back at once when the level goes (its rehash moved it
/// away, or the table is dropped).
///
/// Why, for big levels: through the shared pool, the children a doubling
/// frees (most of them: the fill halves) are spread over every chunk, and
/// the new level's few children are allocated into those same chunks, so
/// no chunk empties — measured on a table grown to 1M–10M entries: 0.1 to
/// 3.1 bytes per entry held in free buckets (1.4 on average), on top of
/// the 11–16 of the table's own; with arenas 0.09 to 0.78 (0.33), most of
/// it the spares and small-class chunks every process has. An arena's
/// chunks empty with their level. And it needs no lock: a level is only
/// used by its table's thread (or dropped by another, which gives the
/// chunks back under the lock).
///
/// The arena's state lives in the header of its first chunk: `free` (the
/// free list), `prev` (the chunk being carved), `next` (the next chunk).
#[derive(Clone, Copy)]
pub(crate) struct Arena(*mut Chunk);

impl Arena {
    pub(crate) const NONE: Arena = Arena(ptr::null_mut());

    /// A zeroed child bucket. Never null: aborts like an allocation
    /// failure when the OS refuses memory.
    #[inline]
    pub(crate) fn alloc(&mut self) -> *mut Bucket {
        let head = self.0;
        // SAFETY: a non-null head is the arena's first chunk, and its
        // `prev` the chunk being carved, both lent to this arena; a free
        // bucket's first word is its link; bump stays within the chunk.
        unsafe {
            let b = if head.is_null() {
                self.grow()
            } else if !(*head).free.is_null() {
                let b = (*head).free;
                (*head).free = b.cast::<*mut Bucket>().read();
                b
            } else {
                let cur = (*head).prev;
                if (*cur).bump < CHUNK_BUCKETS_BASE {
                    let b = cur.cast::<Bucket>().add((*cur).bump as usize);
                    (*cur).bump += 1;
                    b
                } else {
                    self.grow()
                }
            };
            b.write(Bucket::EMPTY);
            b
        }
    }

    /// Borrows one more chunk and carves its first bucket.
    #[cold]
    fn grow(&mut self) -> *mut Bucket {
        let c = pool().lend().unwrap_or_else(|| out_of_memory(0)).as_ptr();
        // SAFETY: c is lent to this arena alone; the head, if any, is its
        // first chunk.
        unsafe {
            (*c).bump = FIRST_BUCKET + 1;
            (*c).class = ARENA_CLASS;
            if self.0.is_null() {
                (*c).free = ptr::null_mut();
                (*c).next = ptr::null_mut();
                self.0 = c;
            } else {
                (*c).next = (*self.0).next;
                (*self.0).next = c;
            }
            (*self.0).prev = c;
            c.cast::<Bucket>().add(FIRST_BUCKET as usize)
        }
    }

    /// # Safety
    /// `b` came from this arena's `alloc` and is not used afterwards.
    #[inline]
    pub(crate) unsafe fn free(&mut self, b: *mut Bucket) {
        // SAFETY: per the contract the arena has a head; b's first word
        // becomes its link.
        unsafe {
            poison(b, 0);
            debug_assert_eq!((*chunk_of(b, 0)).class, ARENA_CLASS);
            b.cast::<*mut Bucket>().write((*self.0).free);
            (*self.0).free = b;
        }
    }

    /// Gives every chunk back to the pool.
    ///
    /// # Safety
    /// Nothing uses the arena's buckets any more (its level is gone).
    pub(crate) unsafe fn release(self) {
        if self.0.is_null() {
            return;
        }
        let mut p = pool();
        let mut c = self.0;
        while !c.is_null() {
            // SAFETY: each chunk of the arena's list, lent to it, unused.
            unsafe {
                let next = (*c).next;
                p.take_back(c);
                c = next;
            }
        }
    }
}

/// The class mark of a chunk lent to an arena (debug checks).
const ARENA_CLASS: u8 = u8::MAX;

/// Frees children in batches, one lock per batch: for freeing a whole
/// level's children (dropping a big table frees hundreds of thousands).
pub(crate) struct FreeBatch {
    buf: [*mut Bucket; 64],
    n: usize,
}

impl FreeBatch {
    pub(crate) fn new() -> Self {
        FreeBatch {
            buf: [ptr::null_mut(); 64],
            n: 0,
        }
    }

    /// Frees `b` now or with the batch (at the latest when it is dropped).
    ///
    /// # Safety
    /// `b` comes from [`alloc_child`] and is not used afterwards.
    pub(crate) unsafe fn push(&mut self, b: *mut Bucket) {
        // SAFETY: per the contract.
        unsafe { poison(b, 0) };
        self.buf[self.n] = b;
        self.n += 1;
        if self.n == self.buf.len() {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.n == 0 {
            return;
        }
        let mut p = pool();
        for &b in &self.buf[..self.n] {
            // SAFETY: pushed under push's contract, freed once.
            unsafe { p.free(b, 0) };
        }
        self.n = 0;
    }
}

impl Drop for FreeBatch {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Debug builds: poisons a run about to be freed (see [`POISON`]) and
/// checks it was not freed already. Nothing in release builds: a reused
/// run is zeroed when handed out again.
///
/// # Safety
/// `b` is a live run of `class`, not used afterwards.
#[inline]
unsafe fn poison(b: *mut Bucket, class: usize) {
    #[cfg(debug_assertions)]
    {
        let w = b.cast::<usize>();
        // SAFETY: b is a live run of (8 << class) words.
        unsafe {
            debug_assert_ne!(w.add(1).read(), POISON, "bucket run freed twice");
            for i in 1..8 << class {
                w.add(i).write(POISON);
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = (b, class);
}

/// The background thread's share of the pool's work, asked for with
/// `wake_pool_work`: faults in the ranges asked for, unmaps the chunks
/// given back, and maps and faults in spare chunks up to [`SPARE_CHUNKS`]
/// (before the pool, and so any table, can see them).
pub(crate) fn background_work() {
    let (populates, n, mut unmaps, want) = {
        let mut p = pool();
        p.requested = false;
        let want = p.spare_target.saturating_sub(p.spares + p.refilling);
        p.refilling += want;
        let n = core::mem::take(&mut p.n_populates);
        let unmaps = core::mem::replace(&mut p.unmaps, ptr::null_mut());
        (p.populates, n, unmaps, want)
    };
    // Ranges first: one may lie in a chunk given back since it was asked.
    for &(b, bytes) in &populates[..n] {
        // SAFETY: the range lies in a chunk that is unmapped only below.
        unsafe { populate_chunk(NonNull::new_unchecked(b).cast(), bytes) };
    }
    while let Some(c) = NonNull::new(unmaps) {
        // SAFETY: a chunk given back (on no list, nothing refers to it);
        // its header is read before it goes.
        unsafe {
            let c = c.as_ptr();
            unmaps = (*c).next;
            let (bytes, counted) = (chunk_bytes(usize::from((*c).class)), (*c).counted);
            unmap_chunk(NonNull::new_unchecked(c).cast(), bytes, counted as usize);
        }
    }
    for _ in 0..want {
        let chunk = new_chunk(0);
        if let Some(c) = chunk {
            // Touch every page. The chunk is not shared yet, so plain
            // writes do (no kernel support needed); they write zeros over
            // zeros, so the chunk stays clean.
            for page in (PAGE..BASE_CHUNK).step_by(PAGE) {
                // SAFETY: in bounds of the exclusively owned chunk.
                unsafe { c.as_ptr().cast::<u8>().add(page).write_volatile(0) };
            }
        }
        let mut p = pool();
        p.refilling -= 1;
        let Some(c) = chunk else { continue };
        p.chunks += 1;
        // SAFETY: a fresh chunk, on no list, all of it resident now.
        unsafe {
            p.count(c.as_ptr(), BASE_CHUNK);
            if p.spares < p.spare_target {
                p.push_spare(c.as_ptr());
            } else {
                p.give_back(c.as_ptr());
            }
        }
    }
}

/// What the bucket pool holds and uses (the whole process's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Bytes of the pool's chunks counted in [`crate::mapped_bytes`]: the
    /// pages they may have made resident, free runs and spares included.
    pub held_bytes: usize,
    /// Bytes of runs handed out to tables (children and small arrays),
    /// part of their [`bucket_bytes`](crate::Table::bucket_bytes), and
    /// of the child buckets threads keep at hand (at most 16 per thread
    /// that allocates children).
    pub used_bytes: usize,
    /// Bytes of chunks lent to the arenas of big levels (see
    /// `ARENA_MIN_BUCKETS`), children and free buckets: part of
    /// `held_bytes`, not of `used_bytes`.
    pub lent_bytes: usize,
    /// Empty chunks kept faulted in for the next child allocations.
    pub spare_chunks: usize,
    /// 64 KiB chunks an allocation had to map itself because no spare was
    /// ready (since the start of the process): how often the background
    /// thread fell behind.
    pub sync_maps: usize,
}

impl Pool {
    /// Bytes it holds (counted in [`crate::mapped_bytes`]) that no table
    /// uses: spare chunks and free runs of shared chunks. Arenas' chunks
    /// count as used whole (their free buckets are few; see `Arena`).
    fn slack(&self) -> usize {
        self.held.saturating_sub(self.used + self.lent * BASE_CHUNK)
    }
}

/// The bucket pool's figures (see [`PoolStats`]).
pub fn pool_stats() -> PoolStats {
    pool().stats()
}

impl Pool {
    pub(crate) const fn new(background: bool) -> Self {
        Pool {
            classes: [Class {
                current: ptr::null_mut(),
                partial: ptr::null_mut(),
            }; CLASSES],
            spare: ptr::null_mut(),
            spares: 0,
            refilling: 0,
            unmaps: ptr::null_mut(),
            populates: [(ptr::null_mut(), 0); MAX_POPULATES],
            n_populates: 0,
            requested: false,
            chunks: 0,
            held: 0,
            used: 0,
            sync_maps: 0,
            lent: 0,
            spare_target: SPARE_CHUNKS,
            background,
        }
    }

    fn stats(&self) -> PoolStats {
        PoolStats {
            held_bytes: self.held,
            used_bytes: self.used,
            lent_bytes: self.lent * BASE_CHUNK,
            spare_chunks: self.spares,
            sync_maps: self.sync_maps,
        }
    }

    /// A run of `class` and whether it is known to be zero; `None` when no
    /// chunk can be mapped.
    fn alloc(&mut self, class: usize) -> Option<(NonNull<Bucket>, bool)> {
        loop {
            let c = self.classes[class].current;
            if !c.is_null() {
                // SAFETY: current is a live chunk of this class.
                if let Some(run) = unsafe { self.take(c) } {
                    return Some(run);
                }
                // Full: on no list until one of its runs is freed.
            }
            self.classes[class].current = self.next_chunk(class)?.as_ptr();
        }
    }

    /// A run of chunk `c`, from its free list or never used; `None` if
    /// full.
    ///
    /// # Safety
    /// `c` is a live chunk of this pool.
    unsafe fn take(&mut self, c: *mut Chunk) -> Option<(NonNull<Bucket>, bool)> {
        // SAFETY: per the contract; a free run's first word is its link,
        // and bump stays within the chunk.
        unsafe {
            let class = usize::from((*c).class);
            let run = 1u32 << class;
            let (b, fresh) = if !(*c).free.is_null() {
                let b = (*c).free;
                (*c).free = b.cast::<*mut Bucket>().read();
                (b, false)
            } else if ((*c).bump + run) as usize * BUCKET_BYTES <= chunk_bytes(class) {
                let start = (*c).bump;
                let b = c.cast::<Bucket>().add(start as usize);
                (*c).bump += run;
                let fresh = start >= (*c).dirty;
                if (*c).bump > (*c).dirty {
                    (*c).dirty = (*c).bump;
                    let touched = ((*c).dirty as usize * BUCKET_BYTES).next_multiple_of(PAGE);
                    self.count(c, touched);
                    if fresh && self.background && run as usize * BUCKET_BYTES >= PAGE {
                        // Fault the rest of a fresh array in ahead of the
                        // table (best effort; it is racing the table).
                        self.populate_later(b, run as usize * BUCKET_BYTES);
                    }
                }
                (b, fresh)
            } else {
                return None;
            };
            (*c).live += 1;
            self.used += run as usize * BUCKET_BYTES;
            Some((NonNull::new_unchecked(b), fresh))
        }
    }

    /// Raises chunk `c`'s share of `mapped_bytes` to `bytes` if below.
    ///
    /// # Safety
    /// `c` is a live chunk of this pool.
    unsafe fn count(&mut self, c: *mut Chunk, bytes: usize) {
        // SAFETY: per the contract.
        let counted = unsafe { &mut (*c).counted };
        if bytes > *counted as usize {
            let delta = bytes - *counted as usize;
            *counted = bytes as u32;
            self.held += delta;
            count_mapped(delta as isize);
        }
    }

    /// The chunk to allocate from once the current one of `class` is full.
    fn next_chunk(&mut self, class: usize) -> Option<NonNull<Chunk>> {
        if let Some(c) = NonNull::new(self.classes[class].partial) {
            // SAFETY: the head of the partial list is a live, listed chunk.
            unsafe { self.unlink(c.as_ptr()) };
            return Some(c);
        }
        if chunk_bytes(class) == BASE_CHUNK {
            let c = self.small_chunk()?;
            // SAFETY: an empty chunk on no list, now of this class.
            unsafe { (*c.as_ptr()).class = class as u8 };
            return Some(c);
        }
        let c = new_chunk(class)?;
        self.chunks += 1;
        Some(c)
    }

    /// An empty 64 KiB chunk: a spare (faulted in), or a new mapping.
    fn small_chunk(&mut self) -> Option<NonNull<Chunk>> {
        if let Some(c) = NonNull::new(self.spare) {
            // SAFETY: the head of the spare list is a live empty chunk.
            self.spare = unsafe { (*c.as_ptr()).next };
            self.spares -= 1;
            self.refill_spares();
            return Some(c);
        }
        let c = new_chunk(0)?;
        self.chunks += 1;
        self.sync_maps += 1;
        if self.background {
            // Demand outran the spares: keep more ready for a while.
            self.spare_target = (2 * self.spare_target).min(SPARE_MAX);
            TRIM_DUE.store(true, Ordering::Relaxed);
            // Its pages fault in on first touch meanwhile, at most one per
            // allocation.
            self.populate_later(c.as_ptr().cast(), BASE_CHUNK);
            // SAFETY: a live chunk of this pool, resident soon.
            unsafe { self.count(c.as_ptr(), BASE_CHUNK) };
            self.refill_spares();
        }
        Some(c)
    }

    /// Lends an empty 64 KiB chunk to an arena.
    fn lend(&mut self) -> Option<NonNull<Chunk>> {
        let c = self.small_chunk()?;
        self.lent += 1;
        Some(c)
    }

    /// Takes back a chunk lent to an arena, all its buckets free.
    ///
    /// # Safety
    /// `c` came from `lend` and nothing uses it any more.
    unsafe fn take_back(&mut self, c: *mut Chunk) {
        self.lent -= 1;
        // SAFETY: per the contract; the arena used only the header fields
        // reset here (and the buckets, any of which may be dirty now).
        unsafe {
            (*c).free = ptr::null_mut();
            (*c).live = 0;
            (*c).bump = FIRST_BUCKET;
            (*c).dirty = CHUNK_BUCKETS_BASE;
            (*c).class = 0;
            (*c).listed = false;
            self.retire(c);
        }
    }

    /// Asks the background thread for spares up to the target.
    fn refill_spares(&mut self) {
        if self.background && self.spares + self.refilling < self.spare_target {
            self.wake();
        }
    }

    /// Asks the background thread to fault `[b, b + bytes)` in; best
    /// effort.
    fn populate_later(&mut self, b: *mut Bucket, bytes: usize) {
        if self.background && self.n_populates < MAX_POPULATES && self.wake() {
            self.populates[self.n_populates] = (b, bytes);
            self.n_populates += 1;
        }
    }

    /// Makes sure the background thread will run `background_work`; false
    /// if there is no such thread.
    fn wake(&mut self) -> bool {
        if !self.requested {
            self.requested = wake_pool_work();
        }
        self.requested
    }

    /// # Safety
    /// `b` came from this pool's `alloc(class)`, is not used afterwards.
    unsafe fn free(&mut self, b: *mut Bucket, class: usize) {
        let c = chunk_of(b, class);
        // SAFETY: b lies in a live chunk of this class (chunks are aligned
        // to their size, so masking finds the header), and is not the
        // header; its first word becomes the free-list link.
        unsafe {
            debug_assert!(b != c.cast() && (*c).live > 0);
            debug_assert_eq!(usize::from((*c).class), class);
            b.cast::<*mut Bucket>().write((*c).free);
            (*c).free = b;
            (*c).live -= 1;
            self.used -= BUCKET_BYTES << class;
            if c == self.classes[class].current {
                return;
            }
            if (*c).live == 0 {
                if (*c).listed {
                    self.unlink(c);
                }
                self.retire(c);
            } else if !(*c).listed {
                self.push_partial(c);
            }
        }
    }

    /// Keeps an emptied chunk as a spare, or gives it back.
    ///
    /// # Safety
    /// `c` is a live chunk of this pool with no live run, on no list, and
    /// not current.
    unsafe fn retire(&mut self, c: *mut Chunk) {
        // SAFETY: per the contract.
        unsafe {
            let small = chunk_bytes(usize::from((*c).class)) == BASE_CHUNK;
            if small && self.spares < self.spare_target {
                // All its runs are free: start over from the first, in
                // address order (the dirty mark stays).
                (*c).free = ptr::null_mut();
                (*c).bump = FIRST_BUCKET;
                self.push_spare(c);
            } else {
                self.give_back(c);
            }
        }
    }

    /// Unmaps chunk `c`, on the background thread if there is one (it
    /// stays in `mapped_bytes` until then).
    ///
    /// # Safety
    /// `c` is a live chunk of this pool with no live run, on no list, and
    /// not current; nothing refers to it afterwards.
    unsafe fn give_back(&mut self, c: *mut Chunk) {
        // SAFETY: per the contract.
        unsafe {
            let (bytes, counted) = (chunk_bytes(usize::from((*c).class)), (*c).counted as usize);
            self.chunks -= 1;
            self.held -= counted;
            if self.background && self.wake() {
                (*c).next = self.unmaps;
                self.unmaps = c;
            } else {
                unmap_chunk(NonNull::new_unchecked(c).cast(), bytes, counted);
            }
        }
    }

    /// # Safety
    /// `c` is an empty 64 KiB chunk of this pool, on no list.
    unsafe fn push_spare(&mut self, c: *mut Chunk) {
        // SAFETY: per the contract.
        unsafe { (*c).next = self.spare };
        self.spare = c;
        self.spares += 1;
    }

    /// # Safety
    /// `c` is a live chunk of this pool, on no list.
    unsafe fn push_partial(&mut self, c: *mut Chunk) {
        // SAFETY: c and the list's head are live chunks of its class.
        unsafe {
            let list = &mut self.classes[usize::from((*c).class)].partial;
            (*c).prev = ptr::null_mut();
            (*c).next = *list;
            if !list.is_null() {
                (**list).prev = c;
            }
            (*c).listed = true;
            *list = c;
        }
    }

    /// # Safety
    /// `c` is on its class's partial list.
    unsafe fn unlink(&mut self, c: *mut Chunk) {
        // SAFETY: c and its neighbours are live chunks of the list.
        unsafe {
            let (prev, next) = ((*c).prev, (*c).next);
            if prev.is_null() {
                self.classes[usize::from((*c).class)].partial = next;
            } else {
                (*prev).next = next;
            }
            if !next.is_null() {
                (*next).prev = prev;
            }
            (*c).listed = false;
        }
    }

    /// Gives every chunk back (a test's pool, once all is freed).
    #[cfg(test)]
    fn release_all(&mut self) {
        assert_eq!(self.used, 0, "runs still in use");
        // SAFETY: no run is live, so every chunk is unused; each is on
        // exactly one of these.
        unsafe {
            for k in 0..CLASSES {
                assert!(self.classes[k].partial.is_null());
                let c = core::mem::replace(&mut self.classes[k].current, ptr::null_mut());
                if !c.is_null() {
                    self.give_back(c);
                }
            }
            while !self.spare.is_null() {
                let c = self.spare;
                self.spare = (*c).next;
                self.give_back(c);
            }
        }
        self.spares = 0;
        assert_eq!((self.chunks, self.held), (0, 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PER_CHUNK: usize = (BASE_CHUNK / BUCKET_BYTES) - FIRST_BUCKET as usize;

    fn alloc(p: &mut Pool, class: usize) -> *mut Bucket {
        let (b, fresh) = p.alloc(class).expect("chunk mapped");
        // SAFETY: handed out by p, 1 << class buckets.
        let run = unsafe { core::slice::from_raw_parts_mut(b.as_ptr(), 1 << class) };
        if fresh {
            assert!(run.iter().all(Bucket::is_empty), "a fresh run is not zero");
        }
        run.iter_mut().for_each(|b| *b = Bucket::EMPTY);
        // Dirty it, as a table would.
        run[0].set_raw(0, 0x40);
        b.as_ptr()
    }

    /// # Safety
    /// `b` came from `alloc(p, class)` and is not used afterwards.
    unsafe fn free(p: &mut Pool, b: *mut Bucket, class: usize) {
        // SAFETY: per the contract.
        unsafe {
            poison(b, class);
            p.free(b, class);
        }
    }

    #[test]
    fn chunk_geometry() {
        assert_eq!(chunk_bytes(0), 64 << 10);
        assert_eq!(chunk_bytes(5), 64 << 10);
        assert_eq!(chunk_bytes(6), 128 << 10);
        assert_eq!(chunk_bytes(9), 1 << 20);
        for k in 0..CLASSES {
            let runs = (chunk_bytes(k) / BUCKET_BYTES - 1) >> k;
            assert!(runs >= 31, "class {k}: {runs} runs");
        }
        assert_eq!(
            (class_of(1), class_of(2), class_of(3), class_of(512)),
            (0, 1, 2, 9)
        );
    }

    #[test]
    fn buckets_are_distinct_aligned_and_never_headers() {
        let mut p = Pool::new(false);
        let n = 3 * PER_CHUNK + 5;
        let mut bs: Vec<*mut Bucket> = (0..n).map(|_| alloc(&mut p, 0)).collect();
        assert_eq!(p.stats().used_bytes, n * 64);
        assert_eq!(p.chunks, 4);
        // Three full chunks and the first page of the fourth are touched.
        assert_eq!(p.stats().held_bytes, 3 * BASE_CHUNK + PAGE);
        for &b in &bs {
            assert_eq!(b.addr() % 64, 0);
            assert_ne!(b.addr() % BASE_CHUNK, 0, "a header was handed out");
        }
        let mut sorted: Vec<usize> = bs.iter().map(|b| b.addr()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), n);
        // Freed in a scattered order: every chunk empties, two stay as
        // spares besides the current one, the rest is given back.
        bs.sort_by_key(|b| (b.addr() / 64).wrapping_mul(0x9e37_79b9) % 1009);
        for b in bs {
            // SAFETY: allocated above, freed once.
            unsafe { free(&mut p, b, 0) };
        }
        assert_eq!(p.used, 0);
        assert_eq!(p.spares, SPARE_CHUNKS);
        assert_eq!(p.chunks, 1 + SPARE_CHUNKS);
        assert!(p.classes[0].partial.is_null());
        p.release_all();
    }

    #[test]
    fn freed_buckets_are_reused_before_new_chunks() {
        let mut p = Pool::new(false);
        let first: Vec<*mut Bucket> = (0..PER_CHUNK).map(|_| alloc(&mut p, 0)).collect();
        let second = alloc(&mut p, 0);
        assert_eq!(p.chunks, 2);
        // A hole in the full first chunk: it goes on the partial list.
        let hole = first[100];
        // SAFETY: allocated above, freed once.
        unsafe { free(&mut p, hole, 0) };
        assert_eq!(p.classes[0].partial, chunk_of(hole, 0));
        // The current (second) chunk fills first, then the hole is used.
        let rest: Vec<*mut Bucket> = (0..PER_CHUNK - 1).map(|_| alloc(&mut p, 0)).collect();
        assert!(rest.iter().all(|&b| chunk_of(b, 0) == chunk_of(second, 0)));
        assert_eq!(alloc(&mut p, 0), hole);
        assert!(p.classes[0].partial.is_null());
        assert_eq!(p.chunks, 2);
        // SAFETY: each allocated above and freed once (hole was reallocated).
        unsafe {
            for b in first.into_iter().chain(rest).chain([second]) {
                free(&mut p, b, 0);
            }
        }
        assert_eq!(p.used, 0);
        p.release_all();
    }

    #[test]
    fn an_emptied_chunk_becomes_a_spare_for_any_small_class() {
        let mut p = Pool::new(false);
        let a: Vec<*mut Bucket> = (0..PER_CHUNK).map(|_| alloc(&mut p, 0)).collect();
        let b = alloc(&mut p, 0); // a second chunk is current now
        for &x in &a {
            // SAFETY: allocated above, freed once.
            unsafe { free(&mut p, x, 0) };
        }
        assert_eq!(p.spares, 1);
        assert!(p.classes[0].partial.is_null());
        // Class 3 takes the spare, from its first bucket again: a dirty
        // run, handed out zeroed by the caller (alloc checks fresh ones).
        let (r, fresh) = p.alloc(3).unwrap();
        // SAFETY: a run of 8 buckets handed out above.
        unsafe { ptr::write_bytes(r.as_ptr(), 0, 8) };
        assert_eq!(chunk_of(r.as_ptr(), 3), chunk_of(a[0], 0));
        assert_eq!(r.as_ptr().addr(), chunk_of(a[0], 0).addr() + 64);
        assert!(!fresh);
        assert_eq!((p.spares, p.chunks), (0, 2));
        // SAFETY: allocated above, freed once each.
        unsafe {
            free(&mut p, r.as_ptr(), 3);
            free(&mut p, b, 0);
        }
        p.release_all();
    }

    #[test]
    fn array_runs_of_every_class() {
        let mut p = Pool::new(false);
        let mut runs = Vec::new();
        for k in 0..CLASSES {
            // More than a chunk's worth of the class.
            let n = (chunk_bytes(k) / BUCKET_BYTES - 1) / (1 << k) + 2;
            for _ in 0..n {
                let b = alloc(&mut p, k);
                assert_eq!(b.addr() % 64, 0);
                assert_ne!(chunk_of(b, k).cast(), b, "class {k}: a header");
                runs.push((b, k));
            }
        }
        // Two chunks per class; the held bytes are the pages touched.
        assert_eq!(p.chunks, 2 * CLASSES);
        let want: usize = runs.iter().map(|&(_, k)| 64 << k).sum();
        assert_eq!(p.used, want);
        let mapped: usize = (0..CLASSES).map(|k| 2 * chunk_bytes(k)).sum();
        assert!(p.held >= p.used && p.held <= mapped);
        // No two runs overlap.
        let mut spans: Vec<(usize, usize)> = runs
            .iter()
            .map(|&(b, k)| (b.addr(), b.addr() + (64 << k)))
            .collect();
        spans.sort_unstable();
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
        // Freed, and reused zeroed: every class gets its runs back.
        for &(b, k) in &runs {
            // SAFETY: allocated above, freed once.
            unsafe { free(&mut p, b, k) };
        }
        let again: Vec<(*mut Bucket, usize)> =
            (0..CLASSES).map(|k| (alloc(&mut p, k), k)).collect();
        for (b, k) in again {
            // SAFETY: allocated above, freed once.
            unsafe { free(&mut p, b, k) };
        }
        p.release_all();
    }

    #[test]
    fn a_thread_reuses_its_freed_children_first_zeroed() {
        std::thread::spawn(|| {
            let a = alloc_child();
            // SAFETY: a live bucket from the pool; dirtied, then freed once.
            unsafe {
                (*a).set_raw(5, 0x40);
                free_child(a);
            }
            let b = alloc_child();
            assert_eq!(a, b, "the magazine hands back the last freed");
            // SAFETY: a live bucket from the pool.
            unsafe {
                assert!((*b).is_empty());
                free_child(b);
            }
            // More than a magazine's worth, freed in another order.
            let many: Vec<*mut Bucket> = (0..3 * MAGAZINE).map(|_| alloc_child()).collect();
            for &x in many.iter().rev() {
                // SAFETY: allocated above, freed once.
                unsafe { free_child(x) };
            }
            // (The magazine goes back to the pool as the thread exits.)
        })
        .join()
        .unwrap();
    }

    #[test]
    fn an_arena_reuses_its_frees_and_gives_its_chunks_back() {
        let mut a = Arena::NONE;
        let n = 2 * PER_CHUNK + 10;
        let bs: Vec<*mut Bucket> = (0..n).map(|_| a.alloc()).collect();
        // (Other tests use the pool at the same time: lower bounds only.)
        assert!(pool_stats().lent_bytes >= 3 * BASE_CHUNK);
        let mut sorted: Vec<usize> = bs.iter().map(|b| b.addr()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), n);
        for &b in &bs {
            assert_eq!(b.addr() % 64, 0);
            assert_ne!(b.addr() % BASE_CHUNK, 0, "a header was handed out");
            // SAFETY: a live bucket of the arena.
            unsafe {
                assert!((*b).is_empty());
                (*b).set_raw(4, 0x40);
            }
        }
        // SAFETY: allocated above, freed once.
        unsafe {
            a.free(bs[7]);
            a.free(bs[1000]);
        }
        assert_eq!(a.alloc(), bs[1000], "the last freed comes back first");
        let again = a.alloc();
        assert_eq!(again, bs[7]);
        // SAFETY: a live bucket of the arena, reused: zeroed.
        assert!(unsafe { (*again).is_empty() });
        // SAFETY: the buckets are not used any more.
        unsafe { a.release() };
    }

    /// Buckets sent to another thread to be freed there.
    struct Sent(Vec<*mut Bucket>);
    // SAFETY: the buckets are owned by the test and only freed by the receiver.
    unsafe impl Send for Sent {}

    #[test]
    fn process_pool_serves_zeroed_buckets_and_takes_frees_from_any_thread() {
        let bs: Vec<*mut Bucket> = (0..5000)
            .map(|_| {
                let b = alloc_child();
                // SAFETY: a live bucket from the pool.
                unsafe {
                    assert!((*b).is_empty());
                    (*b).set_raw(2, 0x80);
                }
                b
            })
            .collect();
        let s = pool_stats();
        // Other tests use the pool at the same time: lower bounds only.
        assert!(s.used_bytes >= 5000 * 64);
        assert!(s.held_bytes >= s.used_bytes);
        if cfg!(unix) {
            assert!(crate::mapped_bytes() >= 5000 * 64);
        }
        // The thread runs by now and keeps spares ready (soon).
        assert!(crate::alloc::worker_started());
        let sent = Sent(bs);
        std::thread::spawn(move || {
            let sent = sent;
            let mut batch = FreeBatch::new();
            for (i, b) in sent.0.into_iter().enumerate() {
                // SAFETY: allocated above, freed once, here.
                unsafe {
                    if i % 2 == 0 {
                        batch.push(b);
                    } else {
                        free_child(b);
                    }
                }
            }
        })
        .join()
        .unwrap();
        for _ in 0..1000 {
            if pool_stats().spare_chunks > 0 {
                // A trim keeps the spares within the target.
                trim();
                let spares = pool_stats().spare_chunks;
                assert!(spares <= SPARE_MAX, "{spares} spares");
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("no spare chunk after 5 s");
    }
}
