//! One 64-byte bucket: eight tag bytes, then eight 7-byte slots.
//!
//! ```text
//!  byte  0 .. 7     8 .. 14    15 .. 21          57 .. 63
//!       [tag0..tag7][ slot 0 ][ slot 1 ] ... [ slot 7 ]
//! ```
//!
//! The tags come first, so matching a tag reads one 8-byte word and
//! compares its bytes at once (SSE2: one load, one compare, one movemask,
//! as in hashbrown's control groups). The slots are 7 bytes because a
//! user-space address needs 48 bits: the eighth byte a pointer would take
//! is the tag, moved to the front. So the line holds 8 slots, not the 7 a
//! separate metadata word would leave (12.5 % fewer bytes per entry).
//!
//! Each slot, read with its tag as one 64-bit *word* (`Bucket::raw`, the
//! unit rehashing and compaction move around):
//!
//! ```text
//!  63      56 55    49  48  47                                   0
//! +----------+--------+----+--------------------------------------+
//! |   tag    |  hint  | C  |        address (user space, 48 bit)  |
//! +----------+--------+----+--------------------------------------+
//! ```
//!
//! * A zero tag is an empty slot (or the link, below): `tag_of` never gives
//!   0, so presence is a compare of the tag bytes with zero. An empty slot
//!   is all zeros.
//! * `hint` (entries only) carries the hash bits just above the bucket
//!   index of the entry's level, so a rehash can move it without reading the
//!   entry to hash its key: see `table.rs` (`hint_for`, `rehint`). Zero means
//!   no hint.
//! * `tag` is the top byte of the entry's hash. The bucket index uses the low
//!   bits, so the tag is independent of the bucket and filters out almost every
//!   false candidate before a key is compared.
//! * `C` marks the last slot of a full bucket as a link to a child bucket
//!   (bucket chaining). Only slot 7 ever has it.
//!
//! A link word (slot 7 with `C` set) has a zero tag byte, and carries a
//! 13-bit *chain filter* in its otherwise unused bits (the six low bits,
//! free because children are 64-byte aligned, and bits 49..55): a bit per
//! tag class (`filter_bit`) set for every entry stored anywhere below the
//! link. A lookup that misses in a bucket follows the link only if the
//! filter has its tag's bit, so most misses read one cache line even in a
//! chained bucket. The filter may have stale bits (a superset is always
//! correct); deletes recompute it when they compact the chain.
//!
//! Slots hold addresses, not pointers: an entry's pointer is stored with
//! `expose_provenance` and rebuilt with `with_exposed_provenance_mut`.

use core::ptr;

/// Slots per bucket.
pub(crate) const SLOTS: usize = 8;
/// The slot that becomes the child link when a bucket overflows.
pub(crate) const LINK_SLOT: usize = SLOTS - 1;
/// Bytes of one bucket; the table's memory accounting counts in these.
pub(crate) const BUCKET_BYTES: usize = 64;

const TAG_SHIFT: u32 = 56;
pub(crate) const HINT_SHIFT: u32 = 49;
const HINT_MASK: usize = 0x7f << HINT_SHIFT;
const CHILD_BIT: usize = 1 << 48;
const ADDR_MASK: usize = (1 << 48) - 1;
/// Address bits of a child link: children are 64-byte aligned, so the low
/// six bits of the address are free and carry part of the chain filter.
const CHILD_ADDR_MASK: usize = ADDR_MASK & !(BUCKET_BYTES - 1);
/// The chain filter's bits in a link word: the low six (alignment) and bits
/// 49..55 (above the child bit, below the tag byte, which stays zero so
/// that the link never matches a tag).
const FILTER_MASK: usize = (BUCKET_BYTES - 1) | (0x7f << 49);
const FILTER_BITS: usize = 13;

/// The filter bit of each tag: tags spread evenly over the 13 bits.
const FILTER_BIT: [usize; 256] = {
    let mut t = [0usize; 256];
    let mut tag = 0;
    while tag < 256 {
        let pos = (tag * FILTER_BITS) >> 8;
        t[tag] = if pos < 6 {
            1 << pos
        } else {
            1 << (49 + pos - 6)
        };
        tag += 1;
    }
    t
};

/// The chain-filter bit of `tag` (see [`Bucket::chain_may_hold`]).
#[inline(always)]
pub(crate) fn filter_bit(tag: u8) -> usize {
    FILTER_BIT[usize::from(tag)]
}

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
    /// `[tag0 .. tag7][slot 0: 7 bytes] .. [slot 7: 7 bytes]`.
    bytes: [u8; BUCKET_BYTES],
}

const _: () = assert!(core::mem::size_of::<Bucket>() == BUCKET_BYTES);
const _: () = assert!(core::mem::align_of::<Bucket>() == BUCKET_BYTES);

/// Bytes of one slot; slot `i` is `bytes[8 + 7 * i .. 15 + 7 * i]`.
const SLOT_BYTES: usize = 7;
/// The bits of a word kept in its slot (the rest is the tag).
const LOW_MASK: usize = (1 << TAG_SHIFT) - 1;

/// Where the 8 bytes ending with slot `i` start (the byte before the
/// slot: the last tag for slot 0, else the end of slot `i - 1`). They end
/// at byte 63 at most, for every `i < 8`.
#[inline(always)]
const fn window(i: usize) -> usize {
    SLOTS - 1 + SLOT_BYTES * (i & 7)
}

/// The tag of an entry with `hash`: its top byte, except that 0 becomes 1,
/// so a stored tag never looks like an empty slot or a link (whose tag
/// bytes are zero) and matching needs no presence check (`match_tag_nz`).
#[inline(always)]
pub(crate) fn tag_of(hash: u64) -> u8 {
    let t = (hash >> TAG_SHIFT) as u8;
    t | u8::from(t == 0)
}

impl Bucket {
    /// A zeroed bucket is valid and empty (all tags and slots zero).
    pub(crate) const EMPTY: Bucket = Bucket {
        bytes: [0; BUCKET_BYTES],
    };

    /// Slot `i`'s 56 bits: the 8 bytes ending with the slot, read as one
    /// little-endian word, shifted past the byte before it.
    #[inline(always)]
    fn low(&self, i: usize) -> usize {
        debug_assert!(i < SLOTS);
        // SAFETY: the window is inside the bucket (see `window`);
        // unaligned reads are allowed.
        let w = unsafe { ptr::read_unaligned(self.bytes.as_ptr().add(window(i)).cast::<u64>()) };
        (u64::from_le(w) >> 8) as usize
    }

    /// Writes slot `i`'s 56 bits, keeping the byte before it.
    #[inline(always)]
    fn set_low(&mut self, i: usize, v: usize) {
        debug_assert!(i < SLOTS);
        debug_assert!(v & !LOW_MASK == 0);
        // SAFETY: as in `low`; `&mut self` makes this the only access.
        unsafe {
            let p = self.bytes.as_mut_ptr().add(window(i)).cast::<u64>();
            let kept = u64::from_le(ptr::read_unaligned(p)) & 0xff;
            ptr::write_unaligned(p, (kept | (v as u64) << 8).to_le());
        }
    }

    #[inline]
    pub(crate) fn is_chained(&self) -> bool {
        self.low(LINK_SLOT) & CHILD_BIT != 0
    }

    #[inline]
    pub(crate) fn child(&self) -> *mut Bucket {
        let a = self.low(LINK_SLOT);
        if a & CHILD_BIT != 0 {
            ptr::with_exposed_provenance_mut(a & CHILD_ADDR_MASK)
        } else {
            ptr::null_mut()
        }
    }

    /// The child of a bucket whose chain may hold an entry tagged `tag`:
    /// null when the bucket is not chained or its chain filter rules the tag
    /// out. One load of the link word.
    #[inline(always)]
    pub(crate) fn child_for_tag(&self, tag: u8) -> *mut Bucket {
        let a = self.low(LINK_SLOT);
        if a & CHILD_BIT != 0 && a & filter_bit(tag) != 0 {
            ptr::with_exposed_provenance_mut(a & CHILD_ADDR_MASK)
        } else {
            ptr::null_mut()
        }
    }

    /// Links `child` (64-byte aligned) in the empty last slot, with the
    /// chain filter `filter` (a union of `filter_bit`s).
    #[inline]
    pub(crate) fn set_child(&mut self, child: *mut Bucket, filter: usize) {
        debug_assert!(self.raw(LINK_SLOT) == 0);
        debug_assert!(child.addr().is_multiple_of(BUCKET_BYTES));
        debug_assert!(filter & !FILTER_MASK == 0);
        check_addr(child.cast());
        self.set_low(LINK_SLOT, child.expose_provenance() | CHILD_BIT | filter);
    }

    /// Adds `tag` to the chain filter of a chained bucket.
    #[inline]
    pub(crate) fn add_to_filter(&mut self, tag: u8) {
        debug_assert!(self.is_chained());
        self.set_low(LINK_SLOT, self.low(LINK_SLOT) | filter_bit(tag));
    }

    /// Replaces the chain filter of a chained bucket.
    #[inline]
    pub(crate) fn set_filter(&mut self, filter: usize) {
        debug_assert!(self.is_chained());
        debug_assert!(filter & !FILTER_MASK == 0);
        self.set_low(LINK_SLOT, (self.low(LINK_SLOT) & !FILTER_MASK) | filter);
    }

    /// The filter bits of this bucket's own entries.
    #[inline]
    pub(crate) fn entries_filter(&self) -> usize {
        let mut f = 0;
        let mut m = self.present_mask();
        while m != 0 {
            let slot = m.trailing_zeros() as usize;
            m &= m - 1;
            f |= filter_bit(self.tag(slot));
        }
        f
    }

    #[cfg(test)]
    pub(crate) fn filter(&self) -> usize {
        debug_assert!(self.is_chained());
        self.low(LINK_SLOT) & FILTER_MASK
    }

    #[inline]
    pub(crate) fn clear_child(&mut self) {
        debug_assert!(self.is_chained());
        self.set_low(LINK_SLOT, 0);
    }

    /// Slots that may hold entries: all of them, or all but the link.
    #[cfg(test)]
    pub(crate) fn entry_slots_mask(&self) -> u8 {
        if self.is_chained() {
            0x7f
        } else {
            0xff
        }
    }

    /// Bit `i` set when slot `i` holds an entry (never the link, whose tag
    /// is zero).
    #[inline]
    pub(crate) fn present_mask(&self) -> u8 {
        #[cfg(target_arch = "x86_64")]
        let m = !sse2::match_byte(self, 0);
        #[cfg(not(target_arch = "x86_64"))]
        let m = !self.tag_bytes_equal_portable(0);
        m
    }

    /// Bit `i` set when slot `i` is not all zeros (entries and the link).
    #[cfg(test)]
    pub(crate) fn non_null_portable(&self) -> u8 {
        let mut m = 0u8;
        for i in 0..SLOTS {
            m |= u8::from(self.raw(i) != 0) << i;
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

    /// [`Bucket::match_tag`] for a tag from [`tag_of`] (never 0): only
    /// entries have a non-zero tag byte, so the byte compare is the answer.
    #[inline(always)]
    pub(crate) fn match_tag_nz(&self, tag: u8) -> u8 {
        debug_assert!(tag != 0);
        #[cfg(target_arch = "x86_64")]
        let m = sse2::match_byte(self, tag);
        #[cfg(not(target_arch = "x86_64"))]
        let m = self.tag_bytes_equal_portable(tag);
        m
    }

    /// Bit `i` set when slot `i` holds an entry whose tag equals `tag`
    /// (none for 0, the tag of empty slots and the link).
    #[cfg_attr(not(test), allow(dead_code))]
    #[inline]
    pub(crate) fn match_tag(&self, tag: u8) -> u8 {
        if tag == 0 {
            0
        } else {
            self.match_tag_nz(tag)
        }
    }

    /// Bit `i` set when tag byte `i` equals `tag`, whatever the slot holds.
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    #[inline]
    fn tag_bytes_equal_portable(&self, tag: u8) -> u8 {
        let mut m = 0u8;
        for i in 0..SLOTS {
            m |= u8::from(self.bytes[i] == tag) << i;
        }
        m
    }

    /// Scalar tag match, the reference the SIMD version is tested against.
    #[cfg(test)]
    pub(crate) fn match_tag_portable(&self, tag: u8) -> u8 {
        let mut m = 0u8;
        for i in 0..SLOTS {
            let hit = self.low(i) & ADDR_MASK != 0 && self.tag(i) == tag;
            m |= u8::from(hit) << i;
        }
        m & self.entry_slots_mask()
    }

    /// The entry pointer in slot `i`, tag stripped. Null when empty.
    #[inline]
    pub(crate) fn entry(&self, i: usize) -> *mut u8 {
        ptr::with_exposed_provenance_mut(self.low(i) & ADDR_MASK)
    }

    /// The tag of the entry in slot `i`.
    #[inline]
    pub(crate) fn tag(&self, i: usize) -> u8 {
        self.bytes[i & 7]
    }

    /// The rehash hint of the entry in slot `i`.
    #[inline]
    pub(crate) fn hint(&self, i: usize) -> u8 {
        ((self.low(i) & HINT_MASK) >> HINT_SHIFT) as u8
    }

    /// Slot `i`'s word with its hint replaced, for storing elsewhere.
    #[inline]
    pub(crate) fn raw_with_hint(&self, i: usize, hint: u8) -> usize {
        debug_assert!(hint < 0x80);
        (self.raw(i) & !HINT_MASK) | usize::from(hint) << HINT_SHIFT
    }

    /// Slot `i` as one word, tag included (moved as is between buckets).
    #[inline]
    pub(crate) fn raw(&self, i: usize) -> usize {
        usize::from(self.tag(i)) << TAG_SHIFT | self.low(i)
    }

    #[inline]
    pub(crate) fn set_raw(&mut self, i: usize, word: usize) {
        self.bytes[i & 7] = (word >> TAG_SHIFT) as u8;
        self.set_low(i, word & LOW_MASK);
    }

    #[cfg(test)]
    pub(crate) fn store(&mut self, i: usize, entry: *mut u8, tag: u8) {
        self.store_hinted(i, entry, tag, 0);
    }

    /// Stores an entry with its tag (never 0) and rehash hint (7 bits).
    #[inline]
    pub(crate) fn store_hinted(&mut self, i: usize, entry: *mut u8, tag: u8, hint: u8) {
        check_addr(entry);
        debug_assert!(!entry.is_null());
        debug_assert!(tag != 0);
        debug_assert!(hint < 0x80);
        let word = usize::from(tag) << TAG_SHIFT
            | usize::from(hint) << HINT_SHIFT
            | entry.expose_provenance();
        self.set_raw(i, word);
    }

    /// Replaces the pointer in an occupied slot, keeping its tag and hint.
    #[inline]
    pub(crate) fn replace_entry(&mut self, i: usize, entry: *mut u8) {
        check_addr(entry);
        let kept = self.low(i) & !ADDR_MASK;
        self.set_low(i, kept | entry.expose_provenance());
    }

    #[inline]
    pub(crate) fn clear(&mut self, i: usize) {
        self.set_raw(i, 0);
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::Bucket;
    use core::arch::x86_64::*;

    /// Bit `i` set when tag byte `i` equals `byte`: one 8-byte load, one
    /// byte compare against the broadcast value, one movemask.
    #[inline(always)]
    pub(super) fn match_byte(b: &Bucket, byte: u8) -> u8 {
        // SAFETY: SSE2 is part of the x86-64 baseline, so the intrinsics are
        // always available; the 8-byte load reads the bucket's tag bytes.
        unsafe {
            let tags = _mm_loadl_epi64(b.bytes.as_ptr().cast::<__m128i>());
            let eq = _mm_cmpeq_epi8(tags, _mm_set1_epi8(byte as i8));
            _mm_movemask_epi8(eq) as u8
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
        // Slots 0 and 5 stay empty (tag 0).
        let tags = [0u8, 7, 255, 7, 128, 0, 1];
        for (i, t) in tags.iter().enumerate() {
            if *t != 0 {
                b.store(i, fake_ptr(i), *t);
            }
        }
        for t in 0..=255u8 {
            assert_eq!(b.match_tag(t), b.match_tag_portable(t), "tag {t}");
            if t != 0 {
                assert_eq!(b.match_tag_nz(t), b.match_tag(t), "tag {t}");
            }
        }
        assert_eq!(tag_of(0x00ff_ffff_ffff_ffff), 1);
        assert_eq!(tag_of(0x0100_0000_0000_0000), 1);
        assert_eq!(tag_of(0xab00_0000_0000_0000), 0xab);
        assert_eq!(b.present_mask(), b.non_null_portable());
        assert_eq!(b.match_tag(7), 0b0000_1010);
        assert_eq!(b.match_tag(0), 0);
        assert_eq!(b.present_mask(), 0b0101_1110);
        assert!(!b.is_full());
        for i in [0, 5, 7] {
            b.store(i, fake_ptr(i), 9);
        }
        assert!(b.is_full());
        assert_eq!(b.match_tag(9), 0b1010_0001);
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
                    // Tags drawn from a few values, so matches are common
                    // (never 0: that is an empty slot).
                    let tag = [1u8, 2, 0x80, 0xff][(next() % 4) as usize];
                    b.store(i, fake_ptr(i + 1), tag);
                }
            }
            if next() % 3 == 0 {
                b.clear(LINK_SLOT);
                b.set_child(fake_ptr(500).cast(), filter_bit(next() as u8));
            }
            let mut scalar_present = 0u8;
            for i in 0..SLOTS {
                scalar_present |= u8::from(b.raw(i) != 0) << i;
            }
            assert_eq!(b.non_null_portable(), scalar_present);
            assert_eq!(b.present_mask(), scalar_present & b.entry_slots_mask());
            for t in [0u8, 1, 2, 0x80, 0xff] {
                assert_eq!(b.match_tag(t), b.match_tag_portable(t), "tag {t}");
                if t != 0 {
                    assert_eq!(b.match_tag_nz(t), b.match_tag(t), "tag {t}");
                }
            }
        }
    }

    #[test]
    fn link_slot_is_never_an_entry() {
        let mut b = Bucket::EMPTY;
        for i in 0..LINK_SLOT {
            b.store(i, fake_ptr(i), 1);
        }
        // Tags 0 and 100 fall on different filter bits.
        assert_ne!(filter_bit(0), filter_bit(100));
        b.set_child(fake_ptr(99).cast(), filter_bit(100) | filter_bit(200));
        assert!(b.is_chained());
        assert_eq!(b.filter(), filter_bit(100) | filter_bit(200));
        assert_eq!(b.child_for_tag(100).addr(), fake_ptr(99).addr());
        assert!(b.child_for_tag(0).is_null());
        b.add_to_filter(0);
        assert_eq!(b.child_for_tag(0).addr(), fake_ptr(99).addr());
        b.set_filter(0);
        assert!(b.child_for_tag(100).is_null());
        b.set_filter(filter_bit(100) | filter_bit(200));
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
    fn filter_bits_cover_all_positions_evenly() {
        let mut count = [0usize; 64];
        for t in 0..=255u8 {
            let f = filter_bit(t);
            assert_eq!(f.count_ones(), 1);
            assert_eq!(f & !FILTER_MASK, 0);
            count[f.trailing_zeros() as usize] += 1;
        }
        let used: Vec<usize> = count.iter().copied().filter(|&c| c > 0).collect();
        assert_eq!(used.len(), FILTER_BITS);
        assert!(used.iter().all(|&c| (19..=20).contains(&c)), "{used:?}");
    }

    #[test]
    fn hint_is_kept_apart_from_tag_and_address() {
        let mut b = Bucket::EMPTY;
        b.store_hinted(2, fake_ptr(9), 0xcd, 0x5a);
        assert_eq!(b.entry(2).addr(), fake_ptr(9).addr());
        assert_eq!(b.tag(2), 0xcd);
        assert_eq!(b.hint(2), 0x5a);
        assert_eq!(b.match_tag(0xcd), 1 << 2);
        let w = b.raw_with_hint(2, 0x7f);
        b.set_raw(3, w);
        assert_eq!((b.tag(3), b.hint(3)), (0xcd, 0x7f));
        assert_eq!(b.entry(3).addr(), fake_ptr(9).addr());
        b.replace_entry(2, fake_ptr(10));
        assert_eq!((b.tag(2), b.hint(2)), (0xcd, 0x5a));
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
