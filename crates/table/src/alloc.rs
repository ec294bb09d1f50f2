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

use crate::bucket::Bucket;
use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::mpsc::{self, Sender};
use std::sync::OnceLock;

/// Arrays of at least this many bytes are freed on the background thread.
pub const LAZY_FREE_BYTES: usize = 1 << 20;

fn array_layout(buckets: usize) -> Layout {
    Layout::array::<Bucket>(buckets).expect("bucket array size overflows")
}

/// A zeroed array of `buckets` buckets (`buckets > 0`).
pub(crate) fn alloc_array(buckets: usize) -> NonNull<Bucket> {
    debug_assert!(buckets > 0);
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
    let layout = array_layout(buckets);
    if layout.size() >= LAZY_FREE_BYTES {
        if let Some(tx) = lazy_free_sender() {
            let garbage = Garbage { p, layout };
            // If the thread is gone, the block comes back and is freed here.
            if let Err(mpsc::SendError(g)) = tx.send(garbage) {
                g.free_now();
            }
            return;
        }
    }
    // SAFETY: `p` was allocated with this layout by `alloc_array`.
    unsafe { alloc::dealloc(p.as_ptr().cast(), layout) }
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
    p: NonNull<Bucket>,
    layout: Layout,
}

// SAFETY: a Garbage is the sole owner of a plain memory block with no thread
// affinity; the global allocator may free it from any thread.
unsafe impl Send for Garbage {}

impl Garbage {
    fn free_now(self) {
        // SAFETY: constructed only in free_array from a block with this layout.
        unsafe { alloc::dealloc(self.p.as_ptr().cast(), self.layout) }
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
        for n in [1usize, 2, 1024, LAZY_FREE_BYTES / 64 + 1] {
            let p = alloc_array(n);
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
