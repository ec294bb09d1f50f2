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
        #[cfg(target_arch = "x86_64")]
        let m = sse2::non_null(self);
        #[cfg(not(target_arch = "x86_64"))]
        let m = self.non_null_portable();
        m & self.entry_slots_mask()
    }

    /// Bit `i` set when slot `i` is not null (entries and the link).
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    #[inline]
    pub(crate) fn non_null_portable(&self) -> u8 {
        let mut m = 0u8;
        for (i, s) in self.slots.iter().enumerate() {
            m |= u8::from(!s.is_null()) << i;
        }
        m
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
        let m = sse2::match_tag(self, tag);
        #[cfg(not(target_arch = "x86_64"))]
        let m = self.tag_bytes_equal_portable(tag);
        // Empty slots and the link have a zero top byte, so only tag 0 can
        // "match" them: the presence check is needed for 1 lookup in 256.
        if tag == 0 {
            m & self.present_mask()
        } else {
            m
        }
    }

    /// Bit `i` set when the top byte of slot `i` equals `tag`, whatever the
    /// slot holds.
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    #[inline]
    fn tag_bytes_equal_portable(&self, tag: u8) -> u8 {
        let mut m = 0u8;
        for (i, s) in self.slots.iter().enumerate() {
            m |= u8::from((s.addr() >> TAG_SHIFT) as u8 == tag) << i;
        }
        m
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

    /// Compares the tag byte of all eight slots at once: each 8-byte slot is
    /// shifted right by 56 so its tag is alone in the low byte, the four
    /// vectors are narrowed (32 -> 16 -> 8 bits, the values fit, so the
    /// saturating packs are exact) to eight tag bytes, and one compare
    /// against the broadcast tag gives the mask. Presence is not checked
    /// here (see `Bucket::match_tag`).
    #[inline]
    pub(super) fn match_tag(b: &Bucket, tag: u8) -> u8 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so the intrinsics are
        // always available. `Bucket` is 64 bytes and 64-byte aligned, so the
        // four aligned 16-byte loads stay inside it and are aligned.
        unsafe {
            let p = b as *const Bucket as *const __m128i;
            let t0 = _mm_srli_epi64::<56>(_mm_load_si128(p));
            let t1 = _mm_srli_epi64::<56>(_mm_load_si128(p.add(1)));
            let t2 = _mm_srli_epi64::<56>(_mm_load_si128(p.add(2)));
            let t3 = _mm_srli_epi64::<56>(_mm_load_si128(p.add(3)));
            // As i32 lanes: [tag0, 0, tag1, 0] and so on; each pack keeps
            // the low halves, ending with bytes [tag0 .. tag7] (twice).
            let a = _mm_packs_epi32(t0, t1);
            let c = _mm_packs_epi32(t2, t3);
            let tags16 = _mm_packs_epi32(a, c);
            let tags8 = _mm_packus_epi16(tags16, tags16);
            let eq = _mm_cmpeq_epi8(tags8, _mm_set1_epi8(tag as i8));
            _mm_movemask_epi8(eq) as u8
        }
    }

    /// Bit `i` set when slot `i` is not null: a 64-bit lane is zero when both
    /// of its 32-bit halves are.
    #[inline]
    pub(super) fn non_null(b: &Bucket) -> u8 {
        // SAFETY: as in match_tag: SSE2 baseline, aligned in-bounds loads.
        unsafe {
            let p = b as *const Bucket as *const __m128i;
            let zero = _mm_setzero_si128();
            let lanes_zero = |v: __m128i| -> u32 {
                let z = _mm_cmpeq_epi32(v, zero);
                // Swap the halves of each lane and AND: all ones iff the
                // whole 64-bit lane is zero.
                let both = _mm_and_si128(z, _mm_shuffle_epi32::<0b10_11_00_01>(z));
                _mm_movemask_pd(_mm_castsi128_pd(both)) as u32
            };
            let z = lanes_zero(_mm_load_si128(p))
                | lanes_zero(_mm_load_si128(p.add(1))) << 2
                | lanes_zero(_mm_load_si128(p.add(2))) << 4
                | lanes_zero(_mm_load_si128(p.add(3))) << 6;
            !(z as u8)
        }
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
        assert_eq!(b.present_mask(), b.non_null_portable());
        assert_eq!(b.match_tag(7), 0b0000_1010);
        assert_eq!(b.match_tag(0), 0b0010_0001);
        assert_eq!(b.present_mask(), 0b0111_1111);
        assert!(!b.is_full());
        b.store(7, fake_ptr(7), 0);
        assert!(b.is_full());
        assert_eq!(b.match_tag(0), 0b1010_0001);
    }

    #[test]
    fn simd_masks_equal_portable_on_random_buckets() {
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let mut b = Bucket::EMPTY;
            let fill = next() as u8;
            for i in 0..SLOTS {
                if fill & (1 << i) != 0 {
                    // Tags drawn from a few values, 0 included, so matches
                    // and empty-slot lookalikes are common.
                    let tag = [0u8, 1, 0x80, 0xff][(next() % 4) as usize];
                    b.store(i, fake_ptr(i + 1), tag);
                }
            }
            if next() % 3 == 0 {
                b.clear(LINK_SLOT);
                b.set_child(fake_ptr(500).cast());
            }
            let mut scalar_present = 0u8;
            for i in 0..SLOTS {
                scalar_present |= u8::from(!b.raw(i).is_null()) << i;
            }
            assert_eq!(b.non_null_portable(), scalar_present);
            assert_eq!(b.present_mask(), scalar_present & b.entry_slots_mask());
            for t in [0u8, 1, 2, 0x80, 0xff] {
                assert_eq!(b.match_tag(t), b.match_tag_portable(t), "tag {t}");
            }
        }
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
