//! Allocation of bucket arrays and child buckets.
//!
//! Bucket memory is always zeroed (an all-zero bucket is empty), so large
//! arrays come straight from fresh zero pages and cost nothing until touched:
//! allocating the next table during a grow is not an O(n) pause.
//!
//! Freeing is the other half of that promise. Returning a large, fully touched
//! array to the operating system takes milliseconds, so arrays above
//! [`LAZY_FREE_BYTES`] are handed to one background thread that frees them off
//! the caller's path (Valkey frees big objects lazily for the same reason).

use crate::bucket::{Bucket, BUCKET_BYTES};
use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::mpsc::{self, Sender};
use std::sync::OnceLock;

/// Arrays of at least this many bytes are freed on the background thread.
pub const LAZY_FREE_BYTES: usize = 1 << 20;

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
        // SAFETY: a big array is preceded by its pad byte inside the block
        // allocated by alloc_array with big_layout(buckets).
        let garbage = unsafe {
            let p = p.as_ptr().cast::<u8>();
            let pad = usize::from(p.sub(1).read());
            Garbage {
                p: NonNull::new_unchecked(p.sub(pad)),
                layout: big_layout(buckets),
            }
        };
        let lazy = garbage.layout.size() >= LAZY_FREE_BYTES;
        match lazy_free_sender().filter(|_| lazy) {
            // If the thread is gone, the block comes back and is freed here.
            Some(tx) => {
                if let Err(mpsc::SendError(g)) = tx.send(garbage) {
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
}

// SAFETY: a Garbage is the sole owner of a plain memory block with no thread
// affinity; the global allocator may free it from any thread.
unsafe impl Send for Garbage {}

impl Garbage {
    fn free_now(self) {
        // SAFETY: constructed only in free_array from a block with this layout.
        unsafe { alloc::dealloc(self.p.as_ptr(), self.layout) }
    }
}

fn lazy_free_sender() -> Option<&'static Sender<Garbage>> {
    static TX: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Garbage>();
        std::thread::Builder::new()
            .name("table-lazy-free".into())
            .spawn(move || rx.into_iter().for_each(Garbage::free_now))
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
