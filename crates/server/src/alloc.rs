//! The process allocator: mimalloc, with an exact count of the bytes it holds.
//!
//! mimalloc was chosen by measurement for its small-size bins: it has a bin for
//! every multiple of 8 bytes up to 64, so a 24-byte key record costs 24 bytes
//! (jemalloc would round it to 32). `used_memory` in INFO, `MEMORY USAGE` and
//! the `maxmemory` check all read [`used_memory`], which adds up the *usable*
//! size of every live allocation — what the allocator really gave out.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct CountingAlloc;

static USED: AtomicUsize = AtomicUsize::new(0);

/// mimalloc is built with `MI_MAX_ALIGN_SIZE=8` (see .cargo/config.toml), so
/// its plain entry points return 8-byte aligned blocks from 8-byte-step bins.
/// The aligned entry points must be avoided for these: for a fresh page they
/// over-allocate (24 bytes aligned to 8 would land in the 32-byte bin).
const PLAIN_ALIGN: usize = 8;

#[inline]
fn usable(p: *mut u8) -> usize {
    // SAFETY: p is a live block from mimalloc.
    unsafe { mi::mi_usable_size(p.cast()) }
}

#[inline]
fn count_in(p: *mut u8) -> *mut u8 {
    if !p.is_null() {
        USED.fetch_add(usable(p), Ordering::Relaxed);
    }
    p
}

// SAFETY: blocks come from mimalloc with at least the requested alignment
// (plain calls only where mimalloc's minimum alignment covers it) and are
// given back to mimalloc; the counter only observes them.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc accepts any size; alignment handled as above.
        count_in(unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        })
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in alloc.
        count_in(unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        })
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, _layout: Layout) {
        USED.fetch_sub(usable(p), Ordering::Relaxed);
        // SAFETY: p is a live mimalloc block owned by the caller.
        unsafe { mi::mi_free(p.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = usable(p);
        // SAFETY: p is a live mimalloc block; the alignment is kept.
        let q: *mut u8 = unsafe {
            if layout.align() <= PLAIN_ALIGN {
                mi::mi_realloc(p.cast(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(p.cast(), new_size, layout.align()).cast()
            }
        };
        if !q.is_null() {
            USED.fetch_sub(old, Ordering::Relaxed);
            USED.fetch_add(usable(q), Ordering::Relaxed);
        }
        q
    }
}

/// A block of at least `size` bytes (8-byte aligned: see `PLAIN_ALIGN`),
/// counted like every other. For owners that keep no `Layout` (the one-word
/// buffers of `keyspace::thinbuf`): free it with [`free`], size it with
/// [`usable_size`]. Aborts on exhaustion, like the global allocator.
pub fn malloc(size: usize) -> std::ptr::NonNull<u8> {
    // SAFETY: mimalloc accepts any size.
    let p = count_in(unsafe { mi::mi_malloc(size.max(1)).cast() });
    match std::ptr::NonNull::new(p) {
        Some(p) => p,
        None => std::alloc::handle_alloc_error(
            Layout::from_size_align(size.max(1), 1).unwrap_or(Layout::new::<u8>()),
        ),
    }
}

/// Moves the block `p` (from [`malloc`]) to one of at least `size` bytes,
/// contents kept up to the smaller size.
///
/// # Safety
/// `p` is a live block from [`malloc`] or [`realloc`]; it is dangling after.
pub unsafe fn realloc(p: std::ptr::NonNull<u8>, size: usize) -> std::ptr::NonNull<u8> {
    let old = usable(p.as_ptr());
    // SAFETY: the caller hands over a live mimalloc block.
    let q: *mut u8 = unsafe { mi::mi_realloc(p.as_ptr().cast(), size.max(1)).cast() };
    match std::ptr::NonNull::new(q) {
        Some(q) => {
            USED.fetch_sub(old, Ordering::Relaxed);
            USED.fetch_add(usable(q.as_ptr()), Ordering::Relaxed);
            q
        }
        None => std::alloc::handle_alloc_error(
            Layout::from_size_align(size.max(1), 1).unwrap_or(Layout::new::<u8>()),
        ),
    }
}

/// Frees a block from [`malloc`] / [`realloc`].
///
/// # Safety
/// `p` is a live block from them, not used again.
pub unsafe fn free(p: std::ptr::NonNull<u8>) {
    USED.fetch_sub(usable(p.as_ptr()), Ordering::Relaxed);
    // SAFETY: a live mimalloc block owned by the caller.
    unsafe { mi::mi_free(p.as_ptr().cast()) }
}

/// What the block `p` really holds (at least what was asked for).
///
/// # Safety
/// `p` is a live block from the allocator.
pub unsafe fn usable_size(p: std::ptr::NonNull<u8>) -> usize {
    usable(p.as_ptr())
}

/// Accounts for memory mapped outside the allocator (the record slab's
/// pages), so `used_memory` stays the whole truth.
pub fn count_external(delta: isize) {
    if delta >= 0 {
        USED.fetch_add(delta as usize, Ordering::Relaxed);
    } else {
        USED.fetch_sub(delta.unsigned_abs(), Ordering::Relaxed);
    }
}

/// Hands memory the allocator keeps cached back to the OS: after a big
/// transient buffer is freed (a whole RDB file read for loading), mimalloc
/// would otherwise keep its pages resident until later allocations reuse
/// them, and RSS would overstate the dataset by the file's size.
pub fn release_free_memory() {
    // SAFETY: mi_collect only walks the allocator's own free lists; it has
    // no preconditions on the caller.
    unsafe { mi::mi_collect(true) }
}

/// `disable-thp yes` (Valkey's default): no transparent huge pages for this
/// process. Valkey turns them off when the kernel has them `always` on,
/// because after a fork (BGSAVE, BGREWRITEAOF) the first write to a huge page
/// copies 2 MiB instead of 4 KiB: latency and memory go up while the child
/// runs. mimalloc asks for huge pages itself (`madvise`), so for this process
/// the kernel's `madvise` mode has the same effect as `always`, and it is
/// turned off in both. (It also made RSS move in 2 MiB steps: a stream of
/// 1M entries measured 31.7 MB of anonymous memory with them, 29.6 without,
/// for 28.8 MB allocated.)
///
/// Returns Valkey's warning when the kernel has them `always` on and they
/// could not be turned off.
pub fn disable_thp() -> Result<(), &'static str> {
    let Ok(mode) = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled") else {
        return Ok(());
    };
    if mode.contains("[never]") {
        return Ok(());
    }
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and only
    // sets a flag of this process.
    let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if r != 0 && mode.contains("[always]") {
        return Err(THP_WARNING);
    }
    Ok(())
}

const THP_WARNING: &str = "WARNING You have Transparent Huge Pages (THP) support enabled in your \
    kernel. This will create latency and memory usage issues with Valkey. To fix this issue run \
    the command 'echo madvise > /sys/kernel/mm/transparent_hugepage/enabled' as root, and add it \
    to your /etc/rc.local in order to retain the setting after a reboot. Valkey must be \
    restarted after THP is disabled (set to 'madvise' or 'never').";

/// Bytes currently allocated: usable sizes of all live blocks, plus the
/// bucket memory the table crate maps from the OS itself (big arrays, and
/// the pool's chunks that hold buckets; not its spare chunks, which are
/// cached free memory like the allocator's own and which freeing data would
/// not give back — counting them would make eviction chase them).
pub fn used_memory() -> usize {
    USED.load(Ordering::Relaxed) + ferrokey_table::in_use_bytes()
}

/// What one allocation of `size` bytes really occupies.
pub fn alloc_size(size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    // SAFETY: pure size-class computation, no memory is touched.
    unsafe { mi::mi_good_size(size) }
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
    fn a_24_byte_block_really_takes_24_bytes() {
        let layout = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: plain allocation and free through the global allocator.
        unsafe {
            let p = std::alloc::alloc(layout);
            assert_eq!(usable(p), 24);
            assert_eq!(p as usize % 8, 0);
            std::alloc::dealloc(p, layout);
        }
    }

    #[test]
    fn size_classes_have_8_byte_steps_for_small_records() {
        assert_eq!(alloc_size(24), 24);
        assert_eq!(alloc_size(40), 40);
        assert_eq!(alloc_size(8), 8);
        assert_eq!(alloc_size(25), 32);
    }
}
