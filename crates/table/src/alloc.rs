//! Allocation of bucket arrays, and the background thread.
//!
//! Bucket memory is always zeroed (an all-zero bucket is empty), and none
//! of it comes from the global allocator on Unix:
//!
//! - arrays of up to 512 buckets (32 KiB) and child buckets come from the
//!   pool (`pool.rs`), in chunks it maps itself;
//! - arrays of at least [`MAP_BYTES`] are mapped from the OS directly.
//!
//! Why not the global allocator: whatever it does on its slow paths lands
//! inside the one insert that resizes or chains a bucket. Measured on 10M
//! inserts with mimalloc, the server's allocator: 4 ms inside single
//! inserts, every time it first touches fresh heap (it maps its heap with
//! transparent huge pages, so that touch clears 2 MiB), and 8–15 ms when it
//! serves a zeroed request from recycled memory and `memset`s it (page
//! faults on purged pages); with glibc, `memalign` and consolidation cost up
//! to 74 ms.
//!
//! A fresh private mapping is zero by definition and asks for small pages
//! (`MADV_NOHUGEPAGE`, as Valkey's docs advise for latency), so no single
//! fault clears more than 4 KiB. The background thread faults each new
//! mapping in (`MADV_POPULATE_WRITE`, in the order a doubling rehash writes
//! it) ahead of the table's own first touches. Mapped memory is not seen by
//! the global allocator: [`mapped_bytes`] reports it, for a server's
//! `used_memory`.
//!
//! Freeing is the other half of that promise. Returning a large, fully
//! touched array to the operating system takes milliseconds, so mappings
//! are unmapped on the background thread, off the caller's path (Valkey
//! frees big objects lazily for the same reason).
//!
//! The background thread serves the pool first (spare chunks, small
//! unmaps; see `pool.rs`), and big arrays in bounded pieces (a 128 MiB
//! array takes 0.1–0.5 s to fault in on the test machine), new arrays'
//! faulting in before old arrays' unmapping, so neither a refill nor a new
//! array waits long.

use crate::bucket::{Bucket, BUCKET_BYTES};
use crate::pool::{self, MAX_RUN_BUCKETS};
use std::alloc::{self, Layout};
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

/// Arrays from the global allocator (where nothing is mapped, i.e. not on
/// Unix) of at least this many bytes are freed on the background thread.
pub const LAZY_FREE_BYTES: usize = 1 << 20;

/// Arrays of at least this many bytes are mapped from the OS (on Unix);
/// smaller ones come from the pool.
pub const MAP_BYTES: usize = 64 << 10;

const _: () = assert!(MAX_RUN_BUCKETS * BUCKET_BYTES < MAP_BYTES);

static MAPPED: AtomicUsize = AtomicUsize::new(0);

/// The newest mapped array and how much of each of its halves the
/// background thread has faulted in (`usize::MAX`: all, or given up).
static POPULATING: AtomicUsize = AtomicUsize::new(0);
static POPULATED: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Bytes of each half of array `p` known to be faulted in: the newest
/// mapped array's progress, `usize::MAX` for any other array (done, or
/// never mapped). A doubling rehash, which writes both halves from the
/// front, may wait for this rather than fault pages itself.
pub(crate) fn populated_bytes(p: *const Bucket) -> usize {
    if POPULATING.load(Ordering::Acquire) != p.addr() {
        return usize::MAX;
    }
    POPULATED.load(Ordering::Acquire)
}

/// Bytes mapped from the OS by the tables of the process, outside the
/// global allocator (see the module docs): big bucket arrays, including
/// those waiting for the background free, and the pool's chunks (as far as
/// they have been touched; see [`pool_stats`](crate::pool_stats)). A
/// server that reports its memory from its allocator should add this.
pub fn mapped_bytes() -> usize {
    MAPPED.load(Ordering::Relaxed)
}

/// Bytes of [`mapped_bytes`] that the bucket pool holds and no table uses:
/// its spare chunks, faulted in ahead, and free runs in its chunks. Like an
/// allocator's cached free pages they are resident, but freeing data would
/// not give them back; a server's `used_memory` (what eviction works
/// against) leaves them out. Published by the pool under its lock.
static IDLE: AtomicUsize = AtomicUsize::new(0);

/// The part of [`mapped_bytes`] that holds tables' buckets: mapped arrays
/// and the pool's runs in use (arenas' chunks whole), not its spare chunks
/// or free runs. What a server should add to its allocator's figure for
/// `used_memory`; [`mapped_bytes`] is the resident figure.
pub fn in_use_bytes() -> usize {
    mapped_bytes().saturating_sub(IDLE.load(Ordering::Relaxed))
}

pub(crate) fn set_idle(bytes: usize) {
    IDLE.store(bytes, Ordering::Relaxed);
}

/// Adds `delta` to [`mapped_bytes`] (the pool's accounting).
pub(crate) fn count_mapped(delta: isize) {
    if cfg!(unix) {
        if delta >= 0 {
            MAPPED.fetch_add(delta.unsigned_abs(), Ordering::Relaxed);
        } else {
            MAPPED.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
        }
    }
}

fn is_mapped(buckets: usize) -> bool {
    cfg!(unix) && buckets >= MAP_BYTES / BUCKET_BYTES
}

#[cfg(unix)]
mod os {
    use core::ptr::NonNull;

    /// A fresh private anonymous mapping of `bytes`, zero and untouched.
    pub(super) fn map(bytes: usize) -> Option<NonNull<u8>> {
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choosing touches no existing memory.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        // Small pages: a first touch then zeroes 4 KiB, not 2 MiB. Only a
        // hint; failure (e.g. no THP support) changes nothing.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: advising a range we just mapped.
        unsafe {
            libc::madvise(p, bytes, libc::MADV_NOHUGEPAGE);
        }
        NonNull::new(p.cast())
    }

    /// A fresh mapping of `bytes` (a power of two, at least a page) aligned
    /// to `bytes`: twice the size is mapped and the misaligned head and the
    /// tail are unmapped again.
    pub(super) fn map_aligned(bytes: usize) -> Option<NonNull<u8>> {
        debug_assert!(bytes.is_power_of_two());
        let raw = map(2 * bytes)?;
        let start = raw.as_ptr().addr();
        let head = start.next_multiple_of(bytes) - start;
        let tail = bytes - head;
        // SAFETY: both trimmed ranges lie inside the mapping just made, are
        // page aligned (bytes is a multiple of the page size, so is head),
        // and nothing uses them; the aligned middle stays mapped.
        unsafe {
            if head > 0 {
                libc::munmap(raw.as_ptr().cast(), head);
            }
            if tail > 0 {
                libc::munmap(raw.as_ptr().add(head + bytes).cast(), tail);
            }
            Some(NonNull::new_unchecked(raw.as_ptr().add(head)))
        }
    }

    /// Faults in `[p, p + len)` without changing its contents
    /// (`MADV_POPULATE_WRITE`), so the owner's first touches do not fault.
    /// False on error (e.g. a kernel before 5.14): the caller gives up.
    ///
    /// # Safety
    /// The range is mapped (or was: populating an unmapped range fails
    /// harmlessly). Populating changes no byte, so the owner may use the
    /// memory meanwhile.
    pub(super) unsafe fn populate(p: *mut u8, len: usize) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        // SAFETY: per the contract.
        return unsafe { libc::madvise(p.cast(), len, libc::MADV_POPULATE_WRITE) == 0 };
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = (p, len);
            false
        }
    }

    /// # Safety
    /// `[p, p + bytes)` is part of one mapping from [`map`] and unused.
    pub(super) unsafe fn unmap(p: NonNull<u8>, bytes: usize) {
        // SAFETY: per the contract.
        let r = unsafe { libc::munmap(p.as_ptr().cast(), bytes) };
        debug_assert_eq!(r, 0, "munmap failed");
    }
}

fn array_layout(buckets: usize) -> Layout {
    Layout::array::<Bucket>(buckets).expect("bucket array size overflows")
}

/// Where there is no mapping, arrays of at least this many bytes are
/// over-allocated with the allocator's natural alignment and aligned by
/// hand (see [`alloc_array`]).
const CALLOC_BYTES: usize = 64 << 10;

fn is_big(buckets: usize) -> bool {
    buckets >= CALLOC_BYTES / BUCKET_BYTES
}

/// The real allocation behind a big array: one bucket more than needed, at
/// the 16-byte alignment `calloc` guarantees.
fn big_layout(buckets: usize) -> Layout {
    let bytes = buckets
        .checked_add(1)
        .and_then(|b| b.checked_mul(BUCKET_BYTES))
        .expect("bucket array size overflows");
    Layout::from_size_align(bytes, 16).expect("bucket array size overflows")
}

/// A zeroed array of `buckets` buckets (`buckets > 0`).
///
/// Without mappings (not Unix), big arrays come from the global allocator
/// and must not be zeroed by writing to them: std's allocator serves a
/// zeroed allocation aligned above 16 bytes with `posix_memalign` plus a
/// `memset` of the whole block (measured: 96 ms for the 128 MiB array of a
/// 10M-entry table, in a single insert). So they are requested with 16-byte
/// alignment, which std turns into `calloc`, whose fresh pages are zero
/// without being touched; the 64-byte aligned array starts inside the
/// block, and the byte before it records the offset back to the block's
/// start.
pub(crate) fn alloc_array(buckets: usize) -> NonNull<Bucket> {
    debug_assert!(buckets > 0);
    if buckets <= MAX_RUN_BUCKETS {
        return pool::alloc_run(buckets);
    }
    #[cfg(unix)]
    if is_mapped(buckets) {
        let bytes = array_layout(buckets).size();
        match os::map(bytes) {
            Some(p) => {
                MAPPED.fetch_add(bytes, Ordering::Relaxed);
                // Fault the pages in on the background thread, ahead of the
                // rehash. Its eventual unmap is queued behind this job.
                POPULATED.store(0, Ordering::Release);
                POPULATING.store(p.as_ptr().addr(), Ordering::Release);
                let job = Job::Populate(Populate {
                    p,
                    bytes,
                    done: 0,
                    halves: true,
                });
                if submit(job).is_err() {
                    POPULATED.store(usize::MAX, Ordering::Release);
                }
                // A mapping is page aligned, so cache-line aligned.
                return p.cast();
            }
            None => alloc::handle_alloc_error(array_layout(buckets)),
        }
    }
    if is_big(buckets) {
        let layout = big_layout(buckets);
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc::alloc_zeroed(layout) };
        if raw.is_null() {
            alloc::handle_alloc_error(layout);
        }
        // raw is 16-aligned, so the pad to the next 64-byte boundary past it
        // is 16, 32, 48 or 64: at least one byte for the offset, and the
        // array fits in the remaining `buckets * 64` bytes.
        let pad = BUCKET_BYTES - (raw.addr() % BUCKET_BYTES);
        // SAFETY: raw + pad and raw + pad - 1 are inside the block (pad <=
        // 64, the block has 64 spare bytes); the array behind raw + pad is
        // all zero, i.e. empty buckets.
        unsafe {
            let p = raw.add(pad);
            p.sub(1).write(pad as u8);
            return NonNull::new_unchecked(p.cast());
        }
    }
    let layout = array_layout(buckets);
    // SAFETY: the layout has a non-zero size (buckets > 0, Bucket is 64 bytes).
    let p = unsafe { alloc::alloc_zeroed(layout) };
    NonNull::new(p.cast()).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

/// Frees an array from [`alloc_array`]; mapped and big ones are freed in
/// the background.
///
/// # Safety
/// `p` must come from `alloc_array(buckets)` and not be used afterwards. The
/// buckets' entries and children must already have been moved or freed.
pub(crate) unsafe fn free_array(p: NonNull<Bucket>, buckets: usize) {
    if buckets <= MAX_RUN_BUCKETS {
        // SAFETY: alloc_array took it from the pool with this count.
        return unsafe { pool::free_run(p.as_ptr(), buckets) };
    }
    if is_big(buckets) {
        let garbage = if is_mapped(buckets) {
            let bytes = array_layout(buckets).size();
            Garbage {
                p: p.cast(),
                bytes,
                from: From::Mapping { counted: bytes },
            }
        } else {
            // SAFETY: a big array is preceded by its pad byte inside the
            // block allocated by alloc_array with big_layout(buckets).
            unsafe {
                let p = p.as_ptr().cast::<u8>();
                let pad = usize::from(p.sub(1).read());
                let layout = big_layout(buckets);
                Garbage {
                    p: NonNull::new_unchecked(p.sub(pad)),
                    bytes: layout.size(),
                    from: From::Allocator(layout),
                }
            }
        };
        // A mapping is unmapped by the background thread (if there is one),
        // after its populate job.
        let lazy = matches!(garbage.from, From::Mapping { .. }) || garbage.bytes >= LAZY_FREE_BYTES;
        if lazy {
            if let Err(Job::Free(g)) = submit(Job::Free(garbage)) {
                // No thread, so no populate job of it is running.
                g.free_now();
            }
        } else {
            garbage.free_now();
        }
        return;
    }
    // SAFETY: `p` was allocated with this layout by `alloc_array`.
    unsafe { alloc::dealloc(p.as_ptr().cast(), array_layout(buckets)) }
}

/// Maps a zeroed block of `bytes` (a power of two, at least a page) aligned
/// to its size, for the pool: from the OS on Unix (not counted here: the
/// pool counts what it touches), else from the global allocator. `None`
/// when the memory is refused.
pub(crate) fn map_chunk(bytes: usize) -> Option<NonNull<u8>> {
    #[cfg(unix)]
    return os::map_aligned(bytes);
    #[cfg(not(unix))]
    {
        let layout = Layout::from_size_align(bytes, bytes).ok()?;
        // SAFETY: the layout has a non-zero size.
        NonNull::new(unsafe { alloc::alloc_zeroed(layout) })
    }
}

/// Gives back a block from [`map_chunk`] of which the pool counted
/// `counted` bytes in [`mapped_bytes`], now.
///
/// # Safety
/// `p` comes from `map_chunk(bytes)` and nothing uses it any more.
pub(crate) unsafe fn unmap_chunk(p: NonNull<u8>, bytes: usize, counted: usize) {
    let from = if cfg!(unix) {
        From::Mapping { counted }
    } else {
        From::Allocator(Layout::from_size_align(bytes, bytes).expect("chunk layout"))
    };
    Garbage { p, bytes, from }.free_now();
}

/// Faults in `[p, p + bytes)` without changing its contents; best effort
/// (a no-op where the kernel cannot).
///
/// # Safety
/// The range is part of a block from [`map_chunk`] that stays mapped until
/// this returns.
pub(crate) unsafe fn populate_chunk(p: NonNull<u8>, bytes: usize) {
    #[cfg(unix)]
    // SAFETY: per the contract.
    unsafe {
        os::populate(p.as_ptr(), bytes);
    }
    #[cfg(not(unix))]
    let _ = (p, bytes);
}

/// Asks the background thread to run `pool::background_work` soon. False
/// when there is no background thread (the pool then does without).
/// Allocates nothing, so it adds no allocator slow path to the operation
/// that asks.
pub(crate) fn wake_pool_work() -> bool {
    if !start_worker() {
        return false;
    }
    let mut q = queues();
    if !q.pool_work {
        q.pool_work = true;
        drop(q);
        WAKE.notify_one();
    }
    true
}

/// Starts the background thread if it is not running; false if it cannot
/// be started. Tables call this when they are created, so that neither the
/// thread's start nor its allocations (tens of microseconds, more if the
/// global allocator faults in fresh memory for them) land in the first
/// operation that needs it.
pub(crate) fn start_worker() -> bool {
    *WORKER_STARTED.get_or_init(|| {
        // Room for the jobs of many resizes at once, so that queueing one
        // does not allocate.
        let mut q = queues();
        q.populates.reserve(32);
        q.frees.reserve(32);
        drop(q);
        std::thread::Builder::new()
            .name("table-bg".into())
            .spawn(work)
            .is_ok()
    })
}

/// Whether the background thread runs.
#[cfg(test)]
pub(crate) fn worker_started() -> bool {
    WORKER_STARTED.get() == Some(&true)
}

/// Where a [`Garbage`] block came from.
enum From {
    /// A mapping (or part of one), of which `counted` bytes are counted in
    /// [`MAPPED`].
    #[cfg_attr(not(unix), allow(dead_code))]
    Mapping {
        counted: usize,
    },
    Allocator(Layout),
}

/// A block to give back.
struct Garbage {
    p: NonNull<u8>,
    bytes: usize,
    from: From,
}

// SAFETY: a Garbage is the sole owner of a plain memory block with no thread
// affinity; the global allocator may free it from any thread.
unsafe impl Send for Garbage {}

/// Unmapping is done in pieces of this size, so the pool's jobs do not
/// wait behind the unmap of a whole big array.
const UNMAP_PIECE: usize = 8 << 20;

impl Garbage {
    /// Gives back a piece of the block; true while some remains.
    fn step(&mut self) -> bool {
        match self.from {
            #[cfg(unix)]
            From::Mapping { counted } => {
                let n = self.bytes.min(UNMAP_PIECE);
                // SAFETY: constructed from one mapping of this size (or its
                // rest), no longer used by anyone.
                unsafe { os::unmap(self.p, n) };
                self.bytes -= n;
                if self.bytes == 0 {
                    MAPPED.fetch_sub(counted, Ordering::Relaxed);
                    return false;
                }
                // SAFETY: n < bytes, so still inside the mapping.
                self.p = unsafe { NonNull::new_unchecked(self.p.as_ptr().add(n)) };
                true
            }
            #[cfg(not(unix))]
            From::Mapping { .. } => unreachable!("no mappings without unix"),
            From::Allocator(layout) => {
                // SAFETY: constructed from a block with this layout.
                unsafe { alloc::dealloc(self.p.as_ptr(), layout) };
                false
            }
        }
    }

    fn free_now(mut self) {
        while self.step() {}
    }
}

/// A range to fault in.
struct Populate {
    p: NonNull<u8>,
    bytes: usize,
    /// Bytes done (of each half, with `halves`).
    done: usize,
    /// The two halves side by side, in the order a doubling rehash first
    /// writes them (old bucket `i` goes to `i` and `i + n`).
    halves: bool,
}

// SAFETY: only the address range is sent; populating changes no byte of it.
unsafe impl Send for Populate {}

impl Populate {
    /// Faults in up to 1 MiB; true while some remains.
    #[cfg(unix)]
    fn step(&mut self) -> bool {
        const PIECE: usize = 256 << 10;
        let (parts, len) = if self.halves {
            (2, self.bytes / 2)
        } else {
            (1, self.bytes)
        };
        for _ in 0..4 / parts {
            if self.done >= len {
                return false;
            }
            let n = PIECE.min(len - self.done);
            for part in 0..parts {
                // SAFETY: inside the range sent (done + n <= len); its unmap
                // is queued behind this job.
                let ok = unsafe { os::populate(self.p.as_ptr().add(part * len + self.done), n) };
                if !ok {
                    self.publish(usize::MAX);
                    return false;
                }
            }
            self.done += n;
            self.publish(if self.done < len {
                self.done
            } else {
                usize::MAX
            });
        }
        self.done < len
    }

    /// Publishes the progress of an array's populate (see
    /// [`populated_bytes`]), if it is still the newest.
    #[cfg_attr(not(unix), allow(dead_code))]
    fn publish(&self, done: usize) {
        if self.halves && POPULATING.load(Ordering::Acquire) == self.p.as_ptr().addr() {
            POPULATED.store(done, Ordering::Release);
        }
    }

    #[cfg(not(unix))]
    fn step(&mut self) -> bool {
        false
    }
}

/// Work for the background thread about big arrays, done a bounded piece
/// at a time.
enum Job {
    Free(Garbage),
    Populate(Populate),
}

struct Queues {
    /// The pool has work (`pool::background_work`): done first.
    pool_work: bool,
    /// Arrays to fault in, oldest first: before any free, so that a new
    /// array is ready soon even while old ones are being unmapped. (An
    /// array's own free is queued after its populate, so it still comes
    /// after it.)
    populates: VecDeque<Populate>,
    frees: VecDeque<Garbage>,
}

static QUEUES: Mutex<Queues> = Mutex::new(Queues {
    pool_work: false,
    populates: VecDeque::new(),
    frees: VecDeque::new(),
});
static WAKE: Condvar = Condvar::new();
static WORKER_STARTED: OnceLock<bool> = OnceLock::new();

fn queues() -> MutexGuard<'static, Queues> {
    // Nothing panics while holding it: take it even if poisoned.
    QUEUES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Hands a big array's `job` to the background thread; gives it back if
/// there is no thread (then the caller does it).
fn submit(job: Job) -> Result<(), Job> {
    if !start_worker() {
        return Err(job);
    }
    let mut q = queues();
    match job {
        Job::Free(g) => q.frees.push_back(g),
        Job::Populate(p) => q.populates.push_back(p),
    }
    drop(q);
    WAKE.notify_one();
    Ok(())
}

/// The background thread: the pool's work first, then a piece of the
/// oldest populate, else of the oldest free; when idle for a second after
/// a burst, it trims the pool's spares (`pool::trim`).
fn work() {
    let mut q = queues();
    loop {
        if q.pool_work {
            q.pool_work = false;
            drop(q);
            pool::background_work();
            q = queues();
        } else if let Some(mut job) = q.populates.pop_front() {
            drop(q);
            let more = job.step();
            q = queues();
            if more {
                q.populates.push_front(job);
            }
        } else if let Some(mut job) = q.frees.pop_front() {
            drop(q);
            let more = job.step();
            q = queues();
            if more {
                q.frees.push_front(job);
            }
        } else if pool::trim_due() {
            let (guard, timeout) = WAKE
                .wait_timeout(q, std::time::Duration::from_secs(1))
                .unwrap_or_else(|e| e.into_inner());
            q = guard;
            if timeout.timed_out() && !q.pool_work && q.populates.is_empty() && q.frees.is_empty() {
                drop(q);
                pool::trim();
                q = queues();
            }
        } else {
            q = WAKE.wait(q).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_zeroed_and_freed() {
        let (map, lazy) = (MAP_BYTES / 64, LAZY_FREE_BYTES / 64);
        for n in [1usize, 2, 8, MAX_RUN_BUCKETS, map, 2 * map, lazy, 4 * lazy] {
            let p = alloc_array(n);
            if is_mapped(n) {
                // Other tests may map and unmap concurrently: a lower bound.
                assert!(mapped_bytes() >= n * 64);
            }
            assert_eq!(
                p.as_ptr().addr() % 64,
                0,
                "{n} buckets: not cache-line aligned"
            );
            // SAFETY: p points to n zeroed, initialised buckets.
            let buckets = unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), n) };
            assert!(buckets.iter().all(Bucket::is_empty));
            // Dirty it: a reused block must come back zeroed.
            for b in buckets.iter_mut() {
                b.set_raw(3, 0x40);
            }
            // SAFETY: allocated above with the same count, not used again.
            unsafe { free_array(p, n) };
        }
    }

    #[test]
    fn jobs_run_piece_by_piece_in_order() {
        // 16 MiB faulted in 1 MiB steps (both halves side by side), then
        // unmapped in two pieces, the count dropped at the end.
        let bytes = 16 << 20;
        let p = map_chunk(bytes).expect("mapped");
        let mut job = Populate {
            p,
            bytes,
            done: 0,
            halves: true,
        };
        let mut steps = 1;
        while job.step() {
            steps += 1;
        }
        // (Kernels before 5.14 refuse the first piece: nothing to check.)
        if cfg!(target_os = "linux") && job.done > 0 {
            assert_eq!((steps, job.done), (16, bytes / 2));
        }
        let from = if cfg!(unix) {
            count_mapped(4096);
            From::Mapping { counted: 4096 }
        } else {
            From::Allocator(Layout::from_size_align(bytes, bytes).unwrap())
        };
        let mut g = Garbage { p, bytes, from };
        let mut pieces = 1;
        while g.step() {
            pieces += 1;
        }
        if cfg!(unix) {
            assert_eq!(pieces, bytes / UNMAP_PIECE);
        }
    }
}
