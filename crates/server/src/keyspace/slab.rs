//! Size classes every 8 bytes for key records of 65 to 512 bytes.
//!
//! mimalloc (like jemalloc) spaces its bins about 12.5 % apart above 64
//! bytes: a 118-byte record (12-byte key, 100-byte value) lands in the
//! 128-byte bin, 10 bytes lost per key. Records are the bulk of a dataset's
//! memory, so the ones whose size falls between two mimalloc bins are
//! carved here instead, from 64 KiB pages holding slots of exactly their
//! size rounded to 8 bytes. Sizes mimalloc serves exactly (multiples of 8 up
//! to 64, and its bin sizes above) keep going to mimalloc.
//!
//! ```text
//! page (64 KiB, 64 KiB aligned)
//!   [ header | slot | slot | ... | unused tail ]
//!   header: slot size, used count, bump offset, free list, partial-list links
//! ```
//!
//! A page's free slots form an intrusive list (the first 8 bytes of a free
//! slot point to the next). Each class keeps a list of pages with room; a
//! page that empties is returned to the allocator, except one spare per
//! class so a class hovering around a page boundary does not thrash.
//!
//! Records may be dropped on the lazy-free thread, so the classes sit behind
//! one mutex (uncontended in practice: the background thread frees rarely).
//! Pages are mapped from the kernel directly: a 64 KiB block aligned to
//! 64 KiB from mimalloc costs twice its size. They are counted in
//! `used_memory` whole, free slots included.

use std::alloc::{self, Layout};
use std::ptr;
use std::sync::Mutex;

const PAGE: usize = 64 * 1024;
/// Slots start here; the header fits below it.
const FIRST_SLOT: usize = 64;
/// Largest size served here.
pub const SLAB_MAX: usize = 512;
const CLASSES: usize = SLAB_MAX / 8 + 1;

#[repr(C)]
struct Page {
    slot: u32,
    used: u32,
    /// Offset of the first never-used slot.
    bump: u32,
    /// On its class's list of pages with room.
    listed: bool,
    free: *mut u8,
    prev: *mut Page,
    next: *mut Page,
}

#[derive(Clone, Copy)]
struct Class {
    /// Pages with at least one free slot.
    partial: *mut Page,
    spare: *mut Page,
}

struct Classes([Class; CLASSES]);

// SAFETY: the raw page pointers are only touched under the mutex.
unsafe impl Send for Classes {}

static SLAB: Mutex<Classes> = Mutex::new(Classes(
    [Class {
        partial: ptr::null_mut(),
        spare: ptr::null_mut(),
    }; CLASSES],
));

/// Maps a PAGE-aligned page: twice the size, then the misaligned head and
/// the tail are unmapped. Aborts when the kernel refuses, like an
/// allocation failure.
fn map_page() -> *mut Page {
    // SAFETY: an anonymous private mapping with no address hint.
    let raw = unsafe {
        libc::mmap(
            ptr::null_mut(),
            2 * PAGE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        alloc::handle_alloc_error(Layout::from_size_align(PAGE, PAGE).expect("page layout"));
    }
    let start = raw as usize;
    let aligned = (start + PAGE - 1) & !(PAGE - 1);
    // SAFETY: both ranges lie in the mapping just made and are unused.
    unsafe {
        if aligned > start {
            libc::munmap(raw, aligned - start);
        }
        let tail = start + 2 * PAGE - (aligned + PAGE);
        if tail > 0 {
            libc::munmap((aligned + PAGE) as *mut libc::c_void, tail);
        }
    }
    crate::alloc::count_external(PAGE as isize);
    aligned as *mut Page
}

/// # Safety
/// `page` came from map_page and holds no live record.
unsafe fn unmap_page(page: *mut Page) {
    // SAFETY: per the contract.
    unsafe { libc::munmap(page.cast(), PAGE) };
    crate::alloc::count_external(-(PAGE as isize));
}

/// Whether a record of `size` bytes is allocated here: when mimalloc would
/// round it up by 8 bytes or more.
#[inline]
pub fn serves(size: usize) -> bool {
    size > 64 && size <= SLAB_MAX && crate::alloc::alloc_size(size) >= round8(size) + 8
}

#[inline]
fn round8(size: usize) -> usize {
    (size + 7) & !7
}

/// Bytes a record of `size` bytes really takes (slot size here, mimalloc's
/// bin otherwise).
pub fn alloc_size(size: usize) -> usize {
    if serves(size) {
        round8(size)
    } else {
        crate::alloc::alloc_size(size)
    }
}

/// Allocates `size` bytes, 8-byte aligned. Never null.
pub fn alloc(size: usize) -> *mut u8 {
    if !serves(size) {
        let layout = Layout::from_size_align(size, 8).expect("record size");
        // SAFETY: size > 0 for every record.
        let p = unsafe { alloc::alloc(layout) };
        if p.is_null() {
            alloc::handle_alloc_error(layout);
        }
        return p;
    }
    let slot = round8(size);
    let mut classes = SLAB.lock().unwrap_or_else(|e| e.into_inner());
    let class = &mut classes.0[slot / 8];
    // SAFETY: every page pointer reachable from a class is a live page
    // allocated by new_page with this class's slot size; the mutex makes
    // this the only access.
    unsafe {
        if class.partial.is_null() {
            let page = if class.spare.is_null() {
                new_page(slot)
            } else {
                std::mem::replace(&mut class.spare, ptr::null_mut())
            };
            push(class, page);
        }
        let page = class.partial;
        let p = if !(*page).free.is_null() {
            let p = (*page).free;
            (*page).free = ptr::read(p.cast::<*mut u8>());
            p
        } else {
            let p = page.cast::<u8>().add((*page).bump as usize);
            (*page).bump += slot as u32;
            p
        };
        (*page).used += 1;
        if (*page).free.is_null() && (*page).bump as usize + slot > PAGE {
            unlink(class, page);
        }
        p
    }
}

/// Frees a block from [`alloc`] of the same `size`.
///
/// # Safety
/// `p` came from `alloc(size)` and is not used afterwards.
pub unsafe fn dealloc(p: *mut u8, size: usize) {
    if !serves(size) {
        let layout = Layout::from_size_align(size, 8).expect("record size");
        // SAFETY: allocated by alloc() through the global allocator.
        unsafe { alloc::dealloc(p, layout) };
        return;
    }
    let slot = round8(size);
    let mut classes = SLAB.lock().unwrap_or_else(|e| e.into_inner());
    let class = &mut classes.0[slot / 8];
    let page = (p as usize & !(PAGE - 1)) as *mut Page;
    // SAFETY: p lies in a live page of this class (pages are PAGE-aligned,
    // so masking finds the header); the mutex makes this the only access.
    unsafe {
        debug_assert_eq!((*page).slot as usize, slot);
        ptr::write(p.cast::<*mut u8>(), (*page).free);
        (*page).free = p;
        (*page).used -= 1;
        if !(*page).listed {
            push(class, page);
        }
        if (*page).used == 0 {
            unlink(class, page);
            if class.spare.is_null() {
                reset(page, slot);
                class.spare = page;
            } else {
                unmap_page(page);
            }
        }
    }
}

/// # Safety
/// Returns a fresh page; the caller lists it.
unsafe fn new_page(slot: usize) -> *mut Page {
    let page = map_page();
    // SAFETY: the page is ours and large enough for the header.
    unsafe { reset(page, slot) };
    page
}

/// # Safety
/// `page` is a page no record lives in.
unsafe fn reset(page: *mut Page, slot: usize) {
    // SAFETY: per the contract; the header lies at the page start.
    unsafe {
        ptr::write(
            page,
            Page {
                slot: slot as u32,
                used: 0,
                bump: FIRST_SLOT as u32,
                listed: false,
                free: ptr::null_mut(),
                prev: ptr::null_mut(),
                next: ptr::null_mut(),
            },
        );
    }
}

/// # Safety
/// `page` is live and not listed.
unsafe fn push(class: &mut Class, page: *mut Page) {
    // SAFETY: live pages, exclusive access under the mutex.
    unsafe {
        (*page).prev = ptr::null_mut();
        (*page).next = class.partial;
        if !class.partial.is_null() {
            (*class.partial).prev = page;
        }
        (*page).listed = true;
    }
    class.partial = page;
}

/// # Safety
/// `page` is live and listed in `class`.
unsafe fn unlink(class: &mut Class, page: *mut Page) {
    // SAFETY: live pages, exclusive access under the mutex.
    unsafe {
        let (prev, next) = ((*page).prev, (*page).next);
        if prev.is_null() {
            class.partial = next;
        } else {
            (*prev).next = next;
        }
        if !next.is_null() {
            (*next).prev = prev;
        }
        (*page).listed = false;
        (*page).prev = ptr::null_mut();
        (*page).next = ptr::null_mut();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_waste() {
        assert!(!serves(24));
        assert!(!serves(64));
        assert!(serves(118));
        assert_eq!(alloc_size(118), 120);
        // Exactly a mimalloc bin: stays there.
        assert!(!serves(128));
        assert!(!serves(600));
    }

    #[test]
    fn many_blocks_of_each_class_round_trip() {
        for size in [65usize, 72, 118, 200, 333, 512] {
            let mut blocks = Vec::new();
            // Enough to fill several pages.
            for i in 0..(3 * PAGE / size) {
                let p = alloc(size);
                assert_eq!(p as usize % 8, 0);
                // SAFETY: p has `size` bytes.
                unsafe { ptr::write_bytes(p, (i % 251) as u8, size) };
                blocks.push((p, (i % 251) as u8));
            }
            // Free every other one, reallocate, check nothing was overwritten.
            let mut kept = Vec::new();
            for (j, (p, v)) in blocks.into_iter().enumerate() {
                if j % 2 == 0 {
                    // SAFETY: from alloc(size).
                    unsafe { dealloc(p, size) };
                } else {
                    kept.push((p, v));
                }
            }
            let again: Vec<_> = (0..kept.len()).map(|_| alloc(size)).collect();
            for &p in &again {
                // SAFETY: p has `size` bytes.
                unsafe { ptr::write_bytes(p, 0xEE, size) };
            }
            for &(p, v) in &kept {
                // SAFETY: p is still live.
                let s = unsafe { std::slice::from_raw_parts(p, size) };
                assert!(s.iter().all(|&b| b == v), "size {size} corrupted");
            }
            for (p, _) in kept {
                // SAFETY: from alloc(size).
                unsafe { dealloc(p, size) };
            }
            for p in again {
                // SAFETY: from alloc(size).
                unsafe { dealloc(p, size) };
            }
        }
    }

    #[test]
    fn freed_from_another_thread() {
        let blocks: Vec<usize> = (0..1000).map(|_| alloc(150) as usize).collect();
        std::thread::spawn(move || {
            for p in blocks {
                // SAFETY: from alloc(150), moved here.
                unsafe { dealloc(p as *mut u8, 150) };
            }
        })
        .join()
        .unwrap();
        let p = alloc(150);
        // SAFETY: from alloc(150).
        unsafe { dealloc(p, 150) };
    }
}
