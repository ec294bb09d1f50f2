//! A global allocator chosen at run time for the examples, so one binary can
//! be measured with the allocator the server really uses (mimalloc, as in
//! `crates/server/src/alloc.rs`) and with the system one (glibc):
//!
//!   FERROKEY_ALLOC=mimalloc cargo run --release -p ferrokey-table --example ...
//!
//! Default: the system allocator (or whatever `LD_PRELOAD` puts behind
//! it, e.g. jemalloc). The choice is read once, at the first allocation, with
//! `getenv` (which does not allocate), so every block is freed by the
//! allocator that made it.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

pub struct Switch;

const UNSET: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

static CHOICE: AtomicU8 = AtomicU8::new(UNSET);

#[inline]
fn choice() -> u8 {
    let c = CHOICE.load(Ordering::Relaxed);
    if c != UNSET {
        return c;
    }
    // SAFETY: getenv with a NUL-terminated name; the result is only read.
    let v = unsafe { libc::getenv(c"FERROKEY_ALLOC".as_ptr()) };
    // SAFETY: a non-null getenv result is a NUL-terminated string.
    let mi = !v.is_null() && unsafe { std::ffi::CStr::from_ptr(v) }.to_bytes() == b"mimalloc";
    let c = if mi { MIMALLOC } else { SYSTEM };
    // Racing first allocations read the same variable and agree.
    CHOICE.store(c, Ordering::Relaxed);
    c
}

/// The allocator in use, for the report.
pub fn name() -> &'static str {
    if choice() == MIMALLOC {
        "mimalloc"
    } else {
        "system (glibc unless LD_PRELOAD)"
    }
}

// SAFETY: each call forwards to one allocator, the same for the whole run.
unsafe impl GlobalAlloc for Switch {
    #[inline]
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        unsafe {
            if choice() == MIMALLOC {
                mi::mi_malloc_aligned(l.size(), l.align()).cast()
            } else {
                System.alloc(l)
            }
        }
    }
    #[inline]
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        unsafe {
            if choice() == MIMALLOC {
                mi::mi_zalloc_aligned(l.size(), l.align()).cast()
            } else {
                System.alloc_zeroed(l)
            }
        }
    }
    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: p came from the same allocator (the choice never changes).
        unsafe {
            if choice() == MIMALLOC {
                mi::mi_free(p.cast())
            } else {
                System.dealloc(p, l)
            }
        }
    }
    #[inline]
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: p came from the same allocator with layout l.
        unsafe {
            if choice() == MIMALLOC {
                mi::mi_realloc_aligned(p.cast(), new, l.align()).cast()
            } else {
                System.realloc(p, l, new)
            }
        }
    }
}
