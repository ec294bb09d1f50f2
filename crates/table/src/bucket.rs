//! One 64-byte bucket: eight tagged pointer slots.
//!
//! A slot is a raw pointer whose unused high bits carry metadata, so the whole
//! cache line is slots and nothing else (8 per bucket instead of the 7 a
//! separate metadata word would leave room for — 12.5 % fewer bytes per entry):
//!
//! ```text
//!  63      56 55    49  48  47                                   0
//! +----------+--------+----+--------------------------------------+
//! |   tag    |   0    | C  |        address (user space, 48 bit)  |
//! +----------+--------+----+--------------------------------------+
//! ```
//!
//! * `0` (a null pointer) is an empty slot.
//! * `tag` is the top byte of the entry's hash. The bucket index uses the low
//!   bits, so the tag is independent of the bucket and filters out almost every
//!   false candidate before a key is compared.
//! * `C` marks the last slot of a full bucket as a link to a child bucket
//!   (bucket chaining). Only slot 7 ever has it.
//!
//! Pointers keep their provenance: tags are added and removed with
//! `map_addr`, never by casting through integers.

use core::ptr;

/// Slots per bucket.
pub(crate) const SLOTS: usize = 8;
/// The slot that becomes the child link when a bucket overflows.
pub(crate) const LINK_SLOT: usize = SLOTS - 1;
/// Bytes of one bucket; the table's memory accounting counts in these.
pub(crate) const BUCKET_BYTES: usize = 64;

const TAG_SHIFT: u32 = 56;
const CHILD_BIT: usize = 1 << 48;
const ADDR_MASK: usize = (1 << 48) - 1;

/// Every address we store must fit in 48 bits (true for user-space pointers on
/// x86-64 with 4-level paging and on AArch64 with 48-bit VAs). Checked on every
/// store because a violation would corrupt the table silently.
#[inline]
pub(crate) fn check_addr(p: *mut u8) {
    assert!(
        p.addr() & !ADDR_MASK == 0,
        "ferrokey-table: pointer {p:p} does not fit in 48 bits"
    );
}

#[repr(C, align(64))]
pub(crate) struct Bucket {
    slots: [*mut u8; SLOTS],
}

const _: () = assert!(core::mem::size_of::<Bucket>() == BUCKET_BYTES);
const _: () = assert!(core::mem::align_of::<Bucket>() == BUCKET_BYTES);

#[inline]
pub(crate) fn tag_of(hash: u64) -> u8 {
    (hash >> TAG_SHIFT) as u8
}

impl Bucket {
    /// A zeroed bucket is valid and empty (all slots null).
    pub(crate) const EMPTY: Bucket = Bucket {
        slots: [ptr::null_mut(); SLOTS],
    };

    #[inline]
    pub(crate) fn is_chained(&self) -> bool {
        self.slots[LINK_SLOT].addr() & CHILD_BIT != 0
    }

    #[inline]
    pub(crate) fn child(&self) -> *mut Bucket {
        if self.is_chained() {
            self.slots[LINK_SLOT].map_addr(|a| a & ADDR_MASK).cast()
        } else {
            ptr::null_mut()
        }
    }

    #[inline]
    pub(crate) fn set_child(&mut self, child: *mut Bucket) {
        debug_assert!(self.slots[LINK_SLOT].is_null());
        check_addr(child.cast());
        self.slots[LINK_SLOT] = child.cast::<u8>().map_addr(|a| a | CHILD_BIT);
    }

    #[inline]
    pub(crate) fn clear_child(&mut self) {
        debug_assert!(self.is_chained());
        self.slots[LINK_SLOT] = ptr::null_mut();
    }

    /// Slots that may hold entries: all of them, or all but the link.
    #[inline]
    pub(crate) fn entry_slots_mask(&self) -> u8 {
        if self.is_chained() {
            0x7f
        } else {
            0xff
        }
    }

    /// Bit `i` set when slot `i` holds an entry (never the link).
    #[inline]
    pub(crate) fn present_mask(&self) -> u8 {
        let mut m = 0u8;
        for (i, s) in self.slots.iter().enumerate() {
            m |= u8::from(!s.is_null()) << i;
        }
        m & self.entry_slots_mask()
    }

    #[cfg(test)]
    pub(crate) fn is_full(&self) -> bool {
        self.present_mask() == self.entry_slots_mask()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.present_mask() == 0
    }

    /// Bit `i` set when slot `i` holds an entry whose tag equals `tag`.
    #[inline]
    pub(crate) fn match_tag(&self, tag: u8) -> u8 {
        #[cfg(target_arch = "x86_64")]
        {
            sse2::match_tag(self, tag)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.match_tag_portable(tag)
        }
    }

    /// Scalar tag match, the reference the SIMD version is tested against.
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    #[inline]
    pub(crate) fn match_tag_portable(&self, tag: u8) -> u8 {
        let mut m = 0u8;
        for (i, s) in self.slots.iter().enumerate() {
            let hit = !s.is_null() && (s.addr() >> TAG_SHIFT) as u8 == tag;
            m |= u8::from(hit) << i;
        }
        m & self.entry_slots_mask()
    }

    /// The entry pointer in slot `i`, tag stripped. Null when empty.
    #[inline]
    pub(crate) fn entry(&self, i: usize) -> *mut u8 {
        self.slots[i].map_addr(|a| a & ADDR_MASK)
    }

    /// The raw slot word, tag included (moved as is between buckets).
    #[inline]
    pub(crate) fn raw(&self, i: usize) -> *mut u8 {
        self.slots[i]
    }

    #[inline]
    pub(crate) fn set_raw(&mut self, i: usize, word: *mut u8) {
        self.slots[i] = word;
    }

    #[inline]
    pub(crate) fn store(&mut self, i: usize, entry: *mut u8, tag: u8) {
        check_addr(entry);
        debug_assert!(!entry.is_null());
        self.slots[i] = entry.map_addr(|a| a | (usize::from(tag) << TAG_SHIFT));
    }

    /// Replaces the pointer in an occupied slot, keeping its tag.
    #[inline]
    pub(crate) fn replace_entry(&mut self, i: usize, entry: *mut u8) {
        check_addr(entry);
        let tag = self.slots[i].addr() & !ADDR_MASK;
        self.slots[i] = entry.map_addr(|a| a | tag);
    }

    #[inline]
    pub(crate) fn clear(&mut self, i: usize) {
        self.slots[i] = ptr::null_mut();
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::Bucket;
    use core::arch::x86_64::*;

    /// Compares the tag byte of all eight slots at once: four 16-byte compares
    /// against the broadcast tag, keeping the top byte of each 8-byte slot.
    #[inline]
    pub(super) fn match_tag(b: &Bucket, tag: u8) -> u8 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so the intrinsics are
        // always available. `Bucket` is 64 bytes and 64-byte aligned, so the
        // four aligned 16-byte loads stay inside it and are aligned.
        let tags = unsafe {
            let p = b as *const Bucket as *const __m128i;
            let t = _mm_set1_epi8(tag as i8);
            let m0 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(p), t)) as u32;
            let m1 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(p.add(1)), t)) as u32;
            let m2 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(p.add(2)), t)) as u32;
            let m3 = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_load_si128(p.add(3)), t)) as u32;
            // Byte 7 and 15 of each 16-byte lane are the two slots' tag bytes.
            let pick = |m: u32| ((m >> 7) & 1) | ((m >> 14) & 2);
            (pick(m0) | pick(m1) << 2 | pick(m2) << 4 | pick(m3) << 6) as u8
        };
        // An empty slot has tag byte 0 and so "matches" tag 0: mask by presence.
        tags & b.present_mask()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_ptr(n: usize) -> *mut u8 {
        // Non-null, 48-bit, distinct; never dereferenced.
        ptr::without_provenance_mut(0x1000 + n * 64)
    }

    #[test]
    fn empty_bucket_has_no_entries() {
        let b = Bucket::EMPTY;
        assert_eq!(b.present_mask(), 0);
        assert!(b.is_empty());
        assert!(!b.is_chained());
        assert_eq!(b.match_tag(0), 0);
        assert_eq!(b.match_tag_portable(0), 0);
    }

    #[test]
    fn tag_match_simd_equals_portable_for_every_tag() {
        let mut b = Bucket::EMPTY;
        let tags = [0u8, 7, 255, 7, 128, 0, 1];
        for (i, t) in tags.iter().enumerate() {
            b.store(i, fake_ptr(i), *t);
        }
        for t in 0..=255u8 {
            assert_eq!(b.match_tag(t), b.match_tag_portable(t), "tag {t}");
        }
        assert_eq!(b.match_tag(7), 0b0000_1010);
        assert_eq!(b.match_tag(0), 0b0010_0001);
        assert_eq!(b.present_mask(), 0b0111_1111);
        assert!(!b.is_full());
        b.store(7, fake_ptr(7), 0);
        assert!(b.is_full());
        assert_eq!(b.match_tag(0), 0b1010_0001);
    }

    #[test]
    fn link_slot_is_never_an_entry() {
        let mut b = Bucket::EMPTY;
        for i in 0..LINK_SLOT {
            b.store(i, fake_ptr(i), 1);
        }
        b.set_child(fake_ptr(99).cast());
        assert!(b.is_chained());
        assert!(b.is_full());
        assert_eq!(b.present_mask(), 0x7f);
        assert_eq!(b.child().addr(), fake_ptr(99).addr());
        for t in 0..=255u8 {
            assert_eq!(b.match_tag(t) & 0x80, 0);
            assert_eq!(b.match_tag(t), b.match_tag_portable(t));
        }
        b.clear_child();
        assert!(!b.is_chained());
        assert_eq!(b.present_mask(), 0x7f);
    }

    #[test]
    fn entry_strips_tag_and_replace_keeps_it() {
        let mut b = Bucket::EMPTY;
        b.store(3, fake_ptr(5), 0xab);
        assert_eq!(b.entry(3).addr(), fake_ptr(5).addr());
        b.replace_entry(3, fake_ptr(6));
        assert_eq!(b.entry(3).addr(), fake_ptr(6).addr());
        assert_eq!(b.match_tag(0xab), 1 << 3);
        b.clear(3);
        assert!(b.is_empty());
    }
}
