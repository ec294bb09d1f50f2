//! The process allocator: mimalloc, with an exact count of the bytes it holds.
//!
//! mimalloc was chosen by measurement for its small-size bins: it has a bin for
//! every multiple of 8 bytes up to 64, so a 24-byte key record costs 24 bytes
//! (jemalloc would round it to 32). `used_memory` in INFO, `MEMORY USAGE` and
//! the `maxmemory` check all read [`used_memory`], which adds up the *usable*
//! size of every live allocation — what the allocator really gave out.

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct CountingAlloc;

static USED: AtomicUsize = AtomicUsize::new(0);

#[inline]
fn usable(p: *mut u8) -> usize {
    // SAFETY: p is a live block from mimalloc.
    unsafe { libmimalloc_sys::mi_usable_size(p.cast()) }
}

// SAFETY: every call is forwarded to MiMalloc unchanged; the counter only
// observes the blocks it returns and frees.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { MiMalloc.alloc(layout) };
        if !p.is_null() {
            USED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            USED.fetch_add(usable(p), Ordering::Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        USED.fetch_sub(usable(p), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { MiMalloc.dealloc(p, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = usable(p);
        // SAFETY: forwarded with the caller's guarantees.
        let q = unsafe { MiMalloc.realloc(p, layout, new_size) };
        if !q.is_null() {
            let new = usable(q);
            if new >= old {
                USED.fetch_add(new - old, Ordering::Relaxed);
            } else {
                USED.fetch_sub(old - new, Ordering::Relaxed);
            }
        }
        q
    }
}

/// Bytes currently allocated (usable sizes of all live blocks).
pub fn used_memory() -> usize {
    USED.load(Ordering::Relaxed)
}

/// What one allocation of `size` bytes really occupies.
pub fn alloc_size(size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    // SAFETY: pure size-class computation, no memory is touched.
    unsafe { libmimalloc_sys::mi_good_size(size) }
}

/// Resident set size of the process, from /proc (0 where unavailable).
pub fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map(|pages| pages * page_size())
        .unwrap_or(0)
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as usize
    } else {
        4096
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_have_8_byte_steps_for_small_records() {
        assert_eq!(alloc_size(24), 24);
        assert_eq!(alloc_size(40), 40);
        assert_eq!(alloc_size(25), 32);
    }
}
