//! Allocation of bucket arrays and child buckets.
//!
//! Bucket memory is always zeroed (an all-zero bucket is empty), so large
//! arrays come straight from fresh zero pages and cost nothing until touched:
//! allocating the next table during a grow is not an O(n) pause.
//!
//! Arrays of at least [`MAP_BYTES`] are mapped from the OS directly
//! (`mmap`, on Unix) instead of going through the global allocator: an
//! allocator may serve a zeroed request from memory it recycled, and then
//! zeroes it with a `memset` — measured with mimalloc, the server's
//! allocator: 8–15 ms inside the one insert that starts a resize, most of it
//! page faults on purged pages. A fresh private mapping is zero by
//! definition; its pages are faulted in one by one as the rehash (and the
//! inserts landing in the new array) first touch them, at most a few per
//! operation. The mappings ask for small pages (`MADV_NOHUGEPAGE`), so that
//! no single fault clears 2 MiB, as Valkey's docs advise for latency. Their
//! size is not seen by the global allocator: [`mapped_bytes`] reports it, for
//! a server's `used_memory`.
//!
//! Freeing is the other half of that promise. Returning a large, fully touched
//! array to the operating system takes milliseconds, so arrays above
//! [`LAZY_FREE_BYTES`] are handed to one background thread that frees them off
//! the caller's path (Valkey frees big objects lazily for the same reason).

use crate::bucket::{Bucket, BUCKET_BYTES};
use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::OnceLock;

/// Arrays of at least this many bytes are freed on the background thread.
pub const LAZY_FREE_BYTES: usize = 1 << 20;

/// Arrays of at least this many bytes are mapped from the OS (on Unix).
pub const MAP_BYTES: usize = 1 << 20;

static MAPPED: AtomicUsize = AtomicUsize::new(0);

/// Bytes of bucket arrays currently mapped from the OS by all tables of the
/// process, outside the global allocator (see the module docs). Includes
/// arrays waiting for the background free. A server that reports its memory
/// from its allocator should add this.
pub fn mapped_bytes() -> usize {
    MAPPED.load(Ordering::Relaxed)
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

    /// Faults in the pages of a mapping from [`map`] without changing its
    /// contents (`MADV_POPULATE_WRITE`), so the table's own first touches
    /// do not fault. The two halves are done side by side, in the order a
    /// doubling rehash first writes them (old bucket `i` goes to `i` and
    /// `i + n`). Best effort: stops at the first error (e.g. a kernel
    /// before 5.14).
    ///
    /// # Safety
    /// The mapping stays mapped until this returns (the background thread
    /// runs this and the array's eventual unmap in order).
    pub(super) unsafe fn populate(p: NonNull<u8>, bytes: usize) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            const CHUNK: usize = 256 << 10;
            let half = bytes / 2;
            let mut off = 0;
            while off < half {
                let len = CHUNK.min(half - off);
                for base in [off, half + off] {
                    // SAFETY: [base, base + len) is inside the live
                    // mapping (len <= half - off); populating changes no
                    // byte of it, so the owner may use it concurrently.
                    let r = unsafe {
                        libc::madvise(p.as_ptr().add(base).cast(), len, libc::MADV_POPULATE_WRITE)
                    };
                    if r != 0 {
                        return;
                    }
                }
                off += len;
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let _ = (p, bytes);
    }

    /// # Safety
    /// `p` and `bytes` come from one [`map`] call and the memory is unused.
    pub(super) unsafe fn unmap(p: NonNull<u8>, bytes: usize) {
        // SAFETY: the caller guarantees this is exactly one live mapping.
        let r = unsafe { libc::munmap(p.as_ptr().cast(), bytes) };
        debug_assert_eq!(r, 0, "munmap failed");
    }
}

fn array_layout(buckets: usize) -> Layout {
    Layout::array::<Bucket>(buckets).expect("bucket array size overflows")
}

/// Arrays of at least this many bytes are over-allocated with the
/// allocator's natural alignment and aligned by hand (see [`alloc_array`]);
/// below it, zeroing by hand costs a few microseconds at most.
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
/// Big arrays must not be zeroed by writing to them: std's allocator serves
/// a zeroed allocation aligned above 16 bytes with `posix_memalign` plus a
/// `memset` of the whole block (measured: 96 ms for the 128 MiB array of a
/// 10M-entry table, in a single insert). So they are requested with 16-byte
/// alignment, which std turns into `calloc` (and other allocators into their
/// own zeroed path), whose fresh pages are zero without being touched; the
/// 64-byte aligned array starts inside the block, and the byte before it
/// records the offset back to the block's start.
pub(crate) fn alloc_array(buckets: usize) -> NonNull<Bucket> {
    debug_assert!(buckets > 0);
    #[cfg(unix)]
    if is_mapped(buckets) {
        let bytes = array_layout(buckets).size();
        match os::map(bytes) {
            Some(p) => {
                MAPPED.fetch_add(bytes, Ordering::Relaxed);
                // Fault the pages in on the background thread, ahead of the
                // rehash. Its eventual unmap is queued behind this job.
                if let Some(tx) = background() {
                    let _ = tx.send(Job::Populate(Mapping(p, bytes)));
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

/// Frees an array from [`alloc_array`]; large ones are freed in the background.
///
/// # Safety
/// `p` must come from `alloc_array(buckets)` and not be used afterwards. The
/// buckets' entries and children must already have been moved or freed.
pub(crate) unsafe fn free_array(p: NonNull<Bucket>, buckets: usize) {
    if is_big(buckets) {
        let garbage = if is_mapped(buckets) {
            Garbage {
                p: p.cast(),
                layout: array_layout(buckets),
                mapped: true,
            }
        } else {
            // SAFETY: a big array is preceded by its pad byte inside the
            // block allocated by alloc_array with big_layout(buckets).
            unsafe {
                let p = p.as_ptr().cast::<u8>();
                let pad = usize::from(p.sub(1).read());
                Garbage {
                    p: NonNull::new_unchecked(p.sub(pad)),
                    layout: big_layout(buckets),
                    mapped: false,
                }
            }
        };
        // A mapping must be unmapped by the background thread (if there is
        // one), after any populate job for it: they are no smaller anyway.
        let lazy = garbage.mapped || garbage.layout.size() >= LAZY_FREE_BYTES;
        match background().filter(|_| lazy) {
            // If the thread is gone, the block comes back and is freed here
            // (no populate job of it can be running then).
            Some(tx) => {
                if let Err(mpsc::SendError(Job::Free(g))) = tx.send(Job::Free(garbage)) {
                    g.free_now();
                }
            }
            None => garbage.free_now(),
        }
        return;
    }
    // SAFETY: `p` was allocated with this layout by `alloc_array`.
    unsafe { alloc::dealloc(p.as_ptr().cast(), array_layout(buckets)) }
}

/// A zeroed child bucket.
pub(crate) fn alloc_child() -> *mut Bucket {
    alloc_array(1).as_ptr()
}

/// # Safety
/// `p` must come from [`alloc_child`] and not be used afterwards.
pub(crate) unsafe fn free_child(p: *mut Bucket) {
    // SAFETY: the caller guarantees `p` came from alloc_child, i.e. a one-bucket array.
    unsafe { alloc::dealloc(p.cast(), array_layout(1)) }
}

struct Garbage {
    p: NonNull<u8>,
    layout: Layout,
    /// From `os::map` (size `layout.size()`), not the allocator.
    mapped: bool,
}

// SAFETY: a Garbage is the sole owner of a plain memory block with no thread
// affinity; the global allocator may free it from any thread.
unsafe impl Send for Garbage {}

impl Garbage {
    fn free_now(self) {
        #[cfg(unix)]
        if self.mapped {
            // SAFETY: constructed only in free_array from one mapping of
            // this size, no longer used by any table.
            unsafe { os::unmap(self.p, self.layout.size()) };
            MAPPED.fetch_sub(self.layout.size(), Ordering::Relaxed);
            return;
        }
        // SAFETY: constructed only in free_array from a block with this layout.
        unsafe { alloc::dealloc(self.p.as_ptr(), self.layout) }
    }
}

/// A mapped array, for a populate job.
struct Mapping(NonNull<u8>, usize);

// SAFETY: only the address range is sent; the job changes no byte of it.
unsafe impl Send for Mapping {}

/// Work for the background thread, done in the order sent.
enum Job {
    Free(Garbage),
    #[cfg_attr(not(unix), allow(dead_code))]
    Populate(Mapping),
}

impl Job {
    fn run(self) {
        match self {
            Job::Free(g) => g.free_now(),
            #[cfg(unix)]
            // SAFETY: the mapping's unmap, if any, is a later job.
            Job::Populate(Mapping(p, bytes)) => unsafe { os::populate(p, bytes) },
            #[cfg(not(unix))]
            Job::Populate(_) => {}
        }
    }
}

/// The background thread that frees big arrays and faults in new ones.
fn background() -> Option<&'static Sender<Job>> {
    static TX: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("table-lazy-free".into())
            .spawn(move || rx.into_iter().for_each(Job::run))
            .ok()
            .map(|_| tx)
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_zeroed_and_freed() {
        let (big, lazy) = (CALLOC_BYTES / 64, LAZY_FREE_BYTES / 64);
        for n in [1usize, 2, big - 1, big, big + 1, lazy - 1, lazy, 4 * lazy] {
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
            let all_empty = unsafe { std::slice::from_raw_parts(p.as_ptr(), n) }
                .iter()
                .all(Bucket::is_empty);
            assert!(all_empty);
            // SAFETY: allocated above with the same count, not used again.
            unsafe { free_array(p, n) };
        }
    }
}
