//! Owned byte buffers held by one pointer, and one-word handles on the
//! encodings of a collection.
//!
//! Every collection key and every grown string costs a `Box<Value>`. With
//! `Vec<u8>`-based payloads (pointer, length, capacity) a `Value` was 32
//! bytes; Valkey's object header is 16. Here each payload is one pointer and
//! the lengths live where they cost nothing:
//!
//! - [`ThinBuf<H>`]: a buffer whose format says how long it is. A listpack
//!   starts with its total bytes (`LpHeader`), an intset with its encoding
//!   and count (`IsHeader`). The capacity is what the allocator really
//!   handed out (`mi_usable_size`), so the buffer carries no byte of its own
//!   beyond the format. `Listpack` and `IntSet` are `ThinBuf`s of their
//!   formats with methods of their own.
//! - [`StrBuf`]: a raw string. It has no header, so its length (48 bits)
//!   and a byte saying how big its block is (so an append needs no call
//!   into the allocator) sit in the bytes of the `Value` that would
//!   otherwise be padding next to the enum tag; a zero byte beside them
//!   gives `Value` the niche for its tag. The allocation holds exactly the
//!   string (an 8 KiB value is an 8 KiB block, not the next bin up).
//! - [`one_word!`]: an owned handle on one of a collection's encodings in
//!   one word, the encoding in the pointer's three low bits (every block is
//!   8-byte aligned). Thin buffers carry the tag of their format in their
//!   own pointer at all times, so the handle can lend `&Listpack` /
//!   `&mut Listpack` directly, and whatever is stored through that
//!   reference (even a whole new listpack) keeps the handle consistent.
//!
//! This is the keyspace's only `unsafe` outside the record layout: the
//! blocks come from [`crate::alloc::malloc`] (mimalloc, counted in
//! `used_memory`), and every invariant is stated where it is relied on.

use crate::alloc;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::{self, NonNull};

/// Pointer bits free for a tag: every block is at least 8-byte aligned
/// (mimalloc built with `MI_MAX_ALIGN_SIZE=8`, and no block is under 8
/// bytes), and every boxed encoding has an alignment of 8.
const TAG_BITS: usize = 7;

/// Slack worth a `realloc` after a buffer shrank (the allocator may still
/// keep the block when the new size is not much smaller).
const SHRINK_SLACK: usize = 64;

mod sealed {
    pub trait Sealed {}
}

/// A byte format whose first bytes say how long the buffer is.
///
/// Only [`ThinBuf`] writes those first [`Header::FIXED`] bytes, and it
/// keeps the length they give within the allocation: that is what makes
/// [`ThinBuf::bytes`] sound without a stored length.
pub trait Header: sealed::Sealed {
    /// Bytes at the start that determine the length.
    const FIXED: usize;
    /// The tag this format's pointers carry (its identity in a [`one_word!`]
    /// handle).
    const TAG: usize;
    /// The length the header gives (at least `FIXED` for any input).
    fn byte_len(fixed: &[u8]) -> usize;
    /// Sets the header's length to `len` (or, when the format cannot say
    /// `len` exactly, to the largest length below it it can say).
    fn set_byte_len(fixed: &mut [u8], len: usize);
    /// Whether the header is one the format can have.
    fn valid(fixed: &[u8]) -> bool;
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Valkey's listpack: `u32` total bytes, then `u16` count (which is the
/// listpack's own business).
pub struct LpHeader;
impl sealed::Sealed for LpHeader {}
impl Header for LpHeader {
    const FIXED: usize = 4;
    const TAG: usize = 0;
    #[inline]
    fn byte_len(fixed: &[u8]) -> usize {
        (u32_at(fixed, 0) as usize).max(Self::FIXED)
    }
    #[inline]
    fn set_byte_len(fixed: &mut [u8], len: usize) {
        // Listpacks stay far below 4 GiB (their elements are bounded by the
        // *-max-listpack-* limits; list nodes by list-max-listpack-size).
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        fixed[..4].copy_from_slice(&len.to_le_bytes());
    }
    fn valid(fixed: &[u8]) -> bool {
        u32_at(fixed, 0) as usize >= Self::FIXED
    }
}

/// Valkey's intset: `u32` bytes per integer (2, 4 or 8), `u32` count.
pub struct IsHeader;
impl sealed::Sealed for IsHeader {}
impl Header for IsHeader {
    const FIXED: usize = 8;
    const TAG: usize = 1;
    #[inline]
    fn byte_len(fixed: &[u8]) -> usize {
        let width = u32_at(fixed, 0) as usize;
        if !matches!(width, 2 | 4 | 8) {
            return Self::FIXED;
        }
        Self::FIXED + width * u32_at(fixed, 4) as usize
    }
    #[inline]
    fn set_byte_len(fixed: &mut [u8], len: usize) {
        let width = u32_at(fixed, 0) as usize;
        let count = if matches!(width, 2 | 4 | 8) {
            len.saturating_sub(Self::FIXED) / width
        } else {
            0
        };
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        fixed[4..8].copy_from_slice(&count.to_le_bytes());
    }
    fn valid(fixed: &[u8]) -> bool {
        matches!(u32_at(fixed, 0), 2 | 4 | 8)
    }
}

/// A pointer that is only a handle: what it may be used for is up to the
/// type holding it, which decides `Send` / `Sync` for itself through its
/// other fields (see [`one_word!`]).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
#[doc(hidden)]
pub struct Word(NonNull<u8>);

// SAFETY: a Word is never dereferenced on its own; the owning handle's
// PhantomData of what it owns decides whether it may cross threads.
unsafe impl Send for Word {}
// SAFETY: as for Send.
unsafe impl Sync for Word {}

impl Word {
    #[inline]
    fn tag(self) -> usize {
        self.0.as_ptr() as usize & TAG_BITS
    }

    /// The pointer without its tag (provenance kept).
    #[inline]
    fn untagged(self) -> NonNull<u8> {
        let p = self.0.as_ptr();
        let clean = p.wrapping_sub(p as usize & TAG_BITS);
        // SAFETY: blocks are 8-aligned and non-null, so clearing the three
        // low bits of a tagged block pointer leaves the (non-null) block.
        unsafe { NonNull::new_unchecked(clean) }
    }

    #[inline]
    fn with_tag(block: NonNull<u8>, tag: usize) -> Word {
        debug_assert_eq!(block.as_ptr() as usize & TAG_BITS, 0);
        // SAFETY: adding less than 8 to a non-null 8-aligned address stays
        // non-null (and in the block, which is at least 8 bytes).
        Word(unsafe { NonNull::new_unchecked(block.as_ptr().wrapping_add(tag)) })
    }
}

/// The block of an allocation that must be 8-byte aligned to carry a tag.
/// Asks for the allocator's bin size itself, so that the block's usable
/// size is at least `alloc_size(len)` for any length up to `size` (see
/// [`ThinBuf::splice`]).
fn aligned_block(size: usize) -> NonNull<u8> {
    // At least 8 bytes: mimalloc's 8-byte-aligned bins start there.
    let p = alloc::malloc(alloc::alloc_size(size.max(8)));
    assert_eq!(
        p.as_ptr() as usize & TAG_BITS,
        0,
        "the allocator returned a block not 8-byte aligned"
    );
    p
}

// ---- ThinBuf -----------------------------------------------------------------

/// An owned buffer in format `H`, held by one (tagged) pointer.
///
/// Invariants: the pointer is a live block from [`crate::alloc::malloc`]
/// plus `H::TAG`; the block's first `H::FIXED` bytes are a header with
/// `H::valid`; `H::byte_len(header) <= usable size`; bytes `0..byte_len`
/// are initialised; the block was asked for with a bin size
/// (`alloc::alloc_size(n)` for some `n >= byte_len`), so its usable size is
/// at least `alloc::alloc_size(byte_len)` (the allocator hands out at least
/// what is asked, and bins grow with the size).
#[repr(transparent)]
pub struct ThinBuf<H: Header> {
    word: Word,
    _h: PhantomData<H>,
}

impl<H: Header> ThinBuf<H> {
    #[inline]
    fn block(&self) -> NonNull<u8> {
        self.word.untagged()
    }

    #[inline]
    fn from_block(block: NonNull<u8>) -> Self {
        ThinBuf {
            word: Word::with_tag(block, H::TAG),
            _h: PhantomData,
        }
    }

    #[inline]
    fn header(&self) -> &[u8] {
        // SAFETY: every block holds at least its FIXED header bytes,
        // initialised (invariant).
        unsafe { std::slice::from_raw_parts(self.block().as_ptr(), H::FIXED) }
    }

    #[inline]
    fn header_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in header(); &mut self is the only access.
        unsafe { std::slice::from_raw_parts_mut(self.block().as_ptr(), H::FIXED) }
    }

    /// A buffer holding a copy of `b`, if `b` is as long as its header says.
    pub fn copy_of(b: &[u8]) -> Option<Self> {
        if b.len() < H::FIXED || !H::valid(&b[..H::FIXED]) || H::byte_len(&b[..H::FIXED]) != b.len()
        {
            return None;
        }
        let block = aligned_block(b.len());
        // SAFETY: the block has room for b.len() bytes and is fresh.
        unsafe { ptr::copy_nonoverlapping(b.as_ptr(), block.as_ptr(), b.len()) };
        Some(Self::from_block(block))
    }

    /// A buffer with this header, as long as it says; `fill` writes the
    /// bytes after the header (zeroed until then). None if the header is not
    /// valid for the format.
    pub fn with_header(fixed: &[u8], fill: impl FnOnce(&mut [u8])) -> Option<Self> {
        if fixed.len() != H::FIXED || !H::valid(fixed) {
            return None;
        }
        let len = H::byte_len(fixed);
        let block = aligned_block(len);
        // SAFETY: the block has room for `len` bytes, `len >= FIXED`.
        unsafe {
            ptr::copy_nonoverlapping(fixed.as_ptr(), block.as_ptr(), H::FIXED);
            ptr::write_bytes(block.as_ptr().add(H::FIXED), 0, len - H::FIXED);
        }
        let mut b = Self::from_block(block);
        fill(b.tail_mut(H::FIXED));
        Some(b)
    }

    /// The whole buffer, header included.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        let len = H::byte_len(self.header());
        // SAFETY: byte_len is within the block and initialised (invariant).
        unsafe { std::slice::from_raw_parts(self.block().as_ptr(), len) }
    }

    /// The buffer from `from` on (`from >= H::FIXED`: the length-giving
    /// header is not handed out for writing).
    #[inline]
    pub fn tail_mut(&mut self, from: usize) -> &mut [u8] {
        assert!(from >= H::FIXED, "the length header is written by ThinBuf");
        let len = H::byte_len(self.header());
        let from = from.min(len);
        // SAFETY: from..len lies within the initialised part of the block;
        // &mut self makes this the only access.
        unsafe { std::slice::from_raw_parts_mut(self.block().as_ptr().add(from), len - from) }
    }

    /// Bytes the allocator holds for the buffer.
    #[inline]
    pub fn alloc_bytes(&self) -> usize {
        // SAFETY: a live block (invariant).
        unsafe { alloc::usable_size(self.block()) }
    }

    /// Replaces `remove` bytes at `at` by `add` bytes and sets the header's
    /// length; returns the `add` bytes to write (they hold stale or zero
    /// bytes until then). Grows to the allocator's bin for the new length
    /// (an insert that still fits it needs no `realloc`); after a shrink,
    /// gives memory back once the slack is worth it.
    pub fn splice(&mut self, at: usize, remove: usize, add: usize) -> &mut [u8] {
        let old = H::byte_len(self.header());
        assert!(
            at >= H::FIXED && at <= old && remove <= old - at,
            "splice out of the buffer"
        );
        let new = old - remove + add;
        let tail = old - at - remove;
        if add > remove {
            // Every block is asked for with a bin size at least its length
            // (aligned_block, and the reallocs below), so it holds at least
            // alloc_size(old): an insert within that needs no look at the
            // block itself (and no realloc).
            if new > alloc::alloc_size(old) {
                let want = alloc::alloc_size(new);
                // A block kept by a shrinking realloc may hold it already.
                if self.alloc_bytes() < want {
                    // SAFETY: a live block, replaced by the one realloc
                    // returns.
                    let block = unsafe { alloc::realloc(self.block(), want) };
                    self.word = Word::with_tag(block, H::TAG);
                }
            }
            let p = self.block().as_ptr();
            // SAFETY: the block holds at least `new` bytes. The tail moves
            // right (ptr::copy allows the overlap) to end at `new`; what it
            // does not cover past the old length, old..at+add, is zeroed,
            // so every byte up to `new` is initialised.
            unsafe {
                ptr::copy(p.add(at + remove), p.add(at + add), tail);
                if at + add > old {
                    ptr::write_bytes(p.add(old), 0, at + add - old);
                }
            }
        } else if add < remove {
            let p = self.block().as_ptr();
            // SAFETY: both ranges lie within the old length.
            unsafe { ptr::copy(p.add(at + remove), p.add(at + add), tail) };
        }
        H::set_byte_len(self.header_mut(), new);
        if add < remove && self.alloc_bytes() >= alloc::alloc_size(new) + SHRINK_SLACK {
            // SAFETY: a live block; the first `new` bytes are kept. Asked
            // for a bin size, like every block.
            let block = unsafe { alloc::realloc(self.block(), alloc::alloc_size(new.max(8))) };
            debug_assert_eq!(block.as_ptr() as usize & TAG_BITS, 0);
            self.word = Word::with_tag(block, H::TAG);
        }
        let len = H::byte_len(self.header());
        let end = (at + add).min(len.max(at));
        // SAFETY: at..end lies within the initialised `len` bytes.
        unsafe { std::slice::from_raw_parts_mut(self.block().as_ptr().add(at), end - at) }
    }
}

impl<H: Header> Drop for ThinBuf<H> {
    fn drop(&mut self) {
        // SAFETY: the buffer owns its live block; freed once, here.
        unsafe { alloc::free(self.block()) }
    }
}

impl<H: Header> Clone for ThinBuf<H> {
    fn clone(&self) -> Self {
        let b = self.bytes();
        let block = aligned_block(b.len());
        // SAFETY: a fresh block with room for b.len() bytes.
        unsafe { ptr::copy_nonoverlapping(b.as_ptr(), block.as_ptr(), b.len()) };
        Self::from_block(block)
    }
}

impl<H: Header> PartialEq for ThinBuf<H> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl<H: Header> Eq for ThinBuf<H> {}

// SAFETY: a ThinBuf exclusively owns plain bytes.
unsafe impl<H: Header> Send for ThinBuf<H> {}
// SAFETY: shared access only reads.
unsafe impl<H: Header> Sync for ThinBuf<H> {}

// ---- StrBuf ------------------------------------------------------------------

/// Zero, always: a byte whose other 255 values are free for the enum that
/// holds a [`StrBuf`] to encode its variants (so `Value` stays 16 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Niche {
    Zero = 0,
}

/// Largest length a [`StrBuf`] can say (48 bits, 256 TiB).
const STR_LEN_MAX: usize = (1 << 48) - 1;

/// `c` rounded down to a number of the form `(4 + m) << (e - 2)`, encoded
/// in a byte as `e << 2 | m` (0 for 0..4). mimalloc's bins all have that
/// form (four per doubling, 8-byte steps below 64), so a block's usable
/// size is usually encoded exactly.
fn cap_code(c: usize) -> u8 {
    if c < 4 {
        return 0;
    }
    let e = usize::BITS - 1 - c.leading_zeros();
    let m = (c >> (e - 2)) & 3;
    (e << 2) as u8 | m as u8
}

fn cap_of(code: u8) -> usize {
    if code == 0 {
        return 0;
    }
    (4 + (code & 3) as usize) << ((code >> 2) - 2)
}

/// A raw string: the bytes in a block of their own (none while empty and
/// never grown), the length next to the pointer, with a byte that says how
/// far the block goes (so an append need not ask the allocator).
///
/// Invariants: `block` is None and `len` and `cap` 0, or a live block from
/// [`crate::alloc::malloc`] whose usable size is at least `cap_of(cap)` and
/// at least `len`, the first `len` bytes initialised.
pub struct StrBuf {
    _niche: Niche,
    len: [u8; 6],
    cap: u8,
    block: Option<NonNull<u8>>,
}

// SAFETY: a StrBuf exclusively owns plain bytes.
unsafe impl Send for StrBuf {}
// SAFETY: shared access only reads.
unsafe impl Sync for StrBuf {}

impl StrBuf {
    pub const fn new() -> StrBuf {
        StrBuf {
            _niche: Niche::Zero,
            len: [0; 6],
            cap: 0,
            block: None,
        }
    }

    pub fn from_slice(s: &[u8]) -> StrBuf {
        let mut b = StrBuf::with_capacity(s.len());
        b.extend_from_slice(s);
        b
    }

    /// An empty string with room for `cap` bytes (none allocated for 0).
    pub fn with_capacity(cap: usize) -> StrBuf {
        let mut b = StrBuf::new();
        if cap > 0 {
            b.grow_exact(cap);
        }
        b
    }

    #[inline]
    pub fn len(&self) -> usize {
        let mut b = [0u8; 8];
        b[..6].copy_from_slice(&self.len);
        u64::from_le_bytes(b) as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// # Safety
    /// `len` bytes of the block are initialised and within it.
    unsafe fn set_len(&mut self, len: usize) {
        assert!(len <= STR_LEN_MAX, "string longer than 2^48 bytes");
        self.len.copy_from_slice(&(len as u64).to_le_bytes()[..6]);
    }

    /// Bytes the allocator holds for the string (what it can grow to in
    /// place).
    #[inline]
    pub fn capacity(&self) -> usize {
        match self.block {
            // SAFETY: a live block (invariant).
            Some(p) => unsafe { alloc::usable_size(p) },
            None => 0,
        }
    }

    /// Bytes held in the allocator.
    pub fn memory_usage(&self) -> usize {
        self.capacity()
    }

    pub fn as_slice(&self) -> &[u8] {
        match self.block {
            // SAFETY: len bytes of the live block are initialised.
            Some(p) => unsafe { std::slice::from_raw_parts(p.as_ptr(), self.len()) },
            None => &[],
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        let len = self.len();
        match self.block {
            // SAFETY: as in as_slice; &mut self is the only access.
            Some(p) => unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), len) },
            None => &mut [],
        }
    }

    /// Moves the string to a block of at least `cap` bytes (`cap >= len`).
    fn grow_exact(&mut self, cap: usize) {
        let block = match self.block {
            // SAFETY: a live block, replaced by realloc's.
            Some(p) => unsafe { alloc::realloc(p, cap) },
            None => alloc::malloc(cap),
        };
        self.block = Some(block);
        // SAFETY: the live block just set.
        self.cap = cap_code(unsafe { alloc::usable_size(block) });
    }

    /// Room for `additional` more bytes; grows the way `Vec` does (at least
    /// doubling), so appends are amortised O(1).
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        let len = self.len();
        let need = len.checked_add(additional).expect("string length overflow");
        if need <= cap_of(self.cap) {
            return;
        }
        let cap = self.capacity();
        if need > cap {
            self.grow_exact(need.max(cap.saturating_mul(2)).max(8));
        }
    }

    pub fn extend_from_slice(&mut self, s: &[u8]) {
        if s.is_empty() {
            return;
        }
        self.reserve(s.len());
        let len = self.len();
        let Some(p) = self.block else {
            unreachable!("reserve allocated")
        };
        // SAFETY: reserve made room for len + s.len() bytes; s cannot
        // overlap a block this StrBuf owns exclusively.
        unsafe {
            ptr::copy_nonoverlapping(s.as_ptr(), p.as_ptr().add(len), s.len());
            self.set_len(len + s.len());
        }
    }

    pub fn push(&mut self, b: u8) {
        self.extend_from_slice(&[b]);
    }

    /// Grows to `new_len` with `fill` bytes, or truncates to it.
    pub fn resize(&mut self, new_len: usize, fill: u8) {
        let len = self.len();
        if new_len <= len {
            self.truncate(new_len);
            return;
        }
        self.reserve(new_len - len);
        let Some(p) = self.block else {
            unreachable!("reserve allocated")
        };
        // SAFETY: room for new_len bytes; len..new_len is written before
        // the length covers it.
        unsafe {
            ptr::write_bytes(p.as_ptr().add(len), fill, new_len - len);
            self.set_len(new_len);
        }
    }

    pub fn truncate(&mut self, new_len: usize) {
        if new_len < self.len() {
            // SAFETY: a shorter prefix of initialised bytes.
            unsafe { self.set_len(new_len) }
        }
    }

    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Replaces `range` by `with` (`Vec::splice` for byte slices).
    pub fn splice(&mut self, range: std::ops::Range<usize>, with: &[u8]) {
        let len = self.len();
        assert!(
            range.start <= range.end && range.end <= len,
            "splice out of the string"
        );
        let new_len = len - range.len() + with.len();
        if with.len() > range.len() {
            self.reserve(with.len() - range.len());
        }
        let Some(p) = self.block else {
            // Empty string, empty range, nothing to insert.
            return;
        };
        let p = p.as_ptr();
        // SAFETY: the block holds max(len, new_len) bytes; the tail moves
        // within it (ptr::copy allows overlap), then `with` fills the gap;
        // every byte below new_len is initialised before the length says so.
        unsafe {
            ptr::copy(
                p.add(range.end),
                p.add(range.start + with.len()),
                len - range.end,
            );
            ptr::copy_nonoverlapping(with.as_ptr(), p.add(range.start), with.len());
            self.set_len(new_len);
        }
    }

    /// Removes the byte at `i` (`Vec::remove`).
    pub fn remove(&mut self, i: usize) -> u8 {
        let b = self.as_slice()[i];
        self.splice(i..i + 1, &[]);
        b
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.as_slice().to_vec()
    }
}

impl Drop for StrBuf {
    fn drop(&mut self) {
        if let Some(p) = self.block {
            // SAFETY: owned live block, freed once.
            unsafe { alloc::free(p) }
        }
    }
}

impl Default for StrBuf {
    fn default() -> Self {
        StrBuf::new()
    }
}

impl Clone for StrBuf {
    fn clone(&self) -> Self {
        StrBuf::from_slice(self.as_slice())
    }
}

impl Deref for StrBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for StrBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for StrBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for StrBuf {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for StrBuf {}

impl PartialEq<[u8]> for StrBuf {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl fmt::Debug for StrBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<&[u8]> for StrBuf {
    fn from(s: &[u8]) -> StrBuf {
        StrBuf::from_slice(s)
    }
}

impl From<Vec<u8>> for StrBuf {
    fn from(v: Vec<u8>) -> StrBuf {
        StrBuf::from_slice(&v)
    }
}

// ---- one-word handles --------------------------------------------------------

#[doc(hidden)]
pub fn thin_into_word<H: Header>(b: ThinBuf<H>) -> Word {
    let b = ManuallyDrop::new(b);
    b.word
}

/// # Safety
/// `w` came from [`thin_into_word`] for the same `H` and is owned by the
/// caller (it may not be used again).
#[doc(hidden)]
pub unsafe fn thin_from_word<H: Header>(w: Word) -> ThinBuf<H> {
    ThinBuf {
        word: w,
        _h: PhantomData,
    }
}

/// # Safety
/// `w` holds a `ThinBuf<H>` (it came from [`thin_into_word`], possibly
/// changed since through this function's `&mut`), for as long as the
/// borrow lasts.
#[doc(hidden)]
pub unsafe fn thin_ref<H: Header>(w: &Word) -> &ThinBuf<H> {
    // SAFETY: ThinBuf<H> is repr(transparent) over Word; the caller
    // guarantees the word is one.
    unsafe { &*(w as *const Word).cast::<ThinBuf<H>>() }
}

/// # Safety
/// As for [`thin_ref`].
#[doc(hidden)]
pub unsafe fn thin_mut<H: Header>(w: &mut Word) -> &mut ThinBuf<H> {
    // SAFETY: as in thin_ref. Any ThinBuf<H> stored through the reference
    // carries H::TAG, so the word stays a ThinBuf<H>.
    unsafe { &mut *(w as *mut Word).cast::<ThinBuf<H>>() }
}

#[doc(hidden)]
pub fn box_into_word<T>(b: Box<T>, tag: usize) -> Word {
    assert!(std::mem::align_of::<T>() > TAG_BITS && tag <= TAG_BITS);
    // Box::into_raw is never null.
    let Some(p) = NonNull::new(Box::into_raw(b).cast::<u8>()) else {
        unreachable!("Box::into_raw is non-null")
    };
    Word::with_tag(p, tag)
}

/// # Safety
/// `w` came from [`box_into_word::<T>`]; the caller owns it (it may not be
/// used again).
#[doc(hidden)]
pub unsafe fn box_from_word<T>(w: Word) -> Box<T> {
    // SAFETY: the untagged pointer is the Box's.
    unsafe { Box::from_raw(w.untagged().as_ptr().cast::<T>()) }
}

/// # Safety
/// `w` came from [`box_into_word::<T>`] and outlives the borrow.
#[doc(hidden)]
pub unsafe fn box_ref<T>(w: &Word) -> &T {
    // SAFETY: the untagged pointer is a live Box<T> owned through `w`.
    unsafe { &*w.untagged().as_ptr().cast::<T>() }
}

/// # Safety
/// As for [`box_ref`].
#[doc(hidden)]
pub unsafe fn box_mut<T>(w: &mut Word) -> &mut T {
    // SAFETY: as in box_ref; &mut w makes this the only access.
    unsafe { &mut *w.untagged().as_ptr().cast::<T>() }
}

#[doc(hidden)]
#[inline]
pub fn word_tag(w: &Word) -> usize {
    w.tag()
}

/// Checks at compile time that a handle's tags are distinct and fit.
#[doc(hidden)]
pub const fn check_tags(tags: &[usize]) {
    let mut i = 0;
    while i < tags.len() {
        assert!(tags[i] <= TAG_BITS, "a tag must fit in three bits");
        let mut j = i + 1;
        while j < tags.len() {
            assert!(tags[i] != tags[j], "two encodings share a tag");
            j += 1;
        }
        i += 1;
    }
}

/// Declares an owned one-word handle on one of several encodings: thin
/// buffers (`thin Name(Header)`, a `ThinBuf<Header>`, lent as itself) and
/// boxed values (`boxed Name(Type) = tag`, a `Box<Type>`, lent as `&Type`),
/// with the owned, shared and exclusive views as enums.
///
/// ```ignore
/// one_word! {
///     struct Enc / EncOwn / EncRef / EncMut {
///         thin Listpack(LpHeader),
///         boxed Table(Table<Member>) = 2,
///     }
/// }
/// ```
macro_rules! one_word {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident / $own:ident / $ref_:ident / $mut_:ident {
            $( thin $tv:ident ( $th:ty ), )*
            $( boxed $bv:ident ( $bt:ty ) = $btag:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[repr(transparent)]
        $vis struct $name {
            word: $crate::keyspace::thinbuf::Word,
            _own: ::std::marker::PhantomData<$own>,
        }

        #[allow(dead_code)]
        $vis enum $own {
            $( $tv($crate::keyspace::thinbuf::ThinBuf<$th>), )*
            $( $bv(Box<$bt>), )*
        }

        #[allow(dead_code)]
        $vis enum $ref_<'a> {
            $( $tv(&'a $crate::keyspace::thinbuf::ThinBuf<$th>), )*
            $( $bv(&'a $bt), )*
        }

        #[allow(dead_code)]
        $vis enum $mut_<'a> {
            $( $tv(&'a mut $crate::keyspace::thinbuf::ThinBuf<$th>), )*
            $( $bv(&'a mut $bt), )*
        }

        const _: () = $crate::keyspace::thinbuf::check_tags(&[
            $( <$th as $crate::keyspace::thinbuf::Header>::TAG, )*
            $( $btag, )*
        ]);

        #[allow(dead_code)]
        impl $name {
            #[inline]
            $vis fn new(own: $own) -> $name {
                let word = match own {
                    $( $own::$tv(b) => $crate::keyspace::thinbuf::thin_into_word(b), )*
                    $( $own::$bv(b) => $crate::keyspace::thinbuf::box_into_word(b, $btag), )*
                };
                $name { word, _own: ::std::marker::PhantomData }
            }

            #[inline]
            $vis fn get(&self) -> $ref_<'_> {
                let tag = $crate::keyspace::thinbuf::word_tag(&self.word);
                $(
                    if tag == <$th as $crate::keyspace::thinbuf::Header>::TAG {
                        // SAFETY: the tag says the word is this ThinBuf.
                        return $ref_::$tv(unsafe {
                            $crate::keyspace::thinbuf::thin_ref::<$th>(&self.word)
                        });
                    }
                )*
                $(
                    if tag == $btag {
                        // SAFETY: the tag says the word is this Box.
                        return $ref_::$bv(unsafe {
                            $crate::keyspace::thinbuf::box_ref::<$bt>(&self.word)
                        });
                    }
                )*
                unreachable!("one_word: a tag of no encoding")
            }

            #[inline]
            $vis fn get_mut(&mut self) -> $mut_<'_> {
                let tag = $crate::keyspace::thinbuf::word_tag(&self.word);
                $(
                    if tag == <$th as $crate::keyspace::thinbuf::Header>::TAG {
                        // SAFETY: the tag says the word is this ThinBuf.
                        return $mut_::$tv(unsafe {
                            $crate::keyspace::thinbuf::thin_mut::<$th>(&mut self.word)
                        });
                    }
                )*
                $(
                    if tag == $btag {
                        // SAFETY: the tag says the word is this Box.
                        return $mut_::$bv(unsafe {
                            $crate::keyspace::thinbuf::box_mut::<$bt>(&mut self.word)
                        });
                    }
                )*
                unreachable!("one_word: a tag of no encoding")
            }

            /// The encoding, owned.
            $vis fn into_inner(self) -> $own {
                let me = ::std::mem::ManuallyDrop::new(self);
                let word = me.word;
                let tag = $crate::keyspace::thinbuf::word_tag(&word);
                $(
                    if tag == <$th as $crate::keyspace::thinbuf::Header>::TAG {
                        // SAFETY: the tag says the word is this ThinBuf;
                        // `me` is never dropped, so it is taken once.
                        return $own::$tv(unsafe {
                            $crate::keyspace::thinbuf::thin_from_word::<$th>(word)
                        });
                    }
                )*
                $(
                    if tag == $btag {
                        // SAFETY: as above, for this Box.
                        return $own::$bv(unsafe {
                            $crate::keyspace::thinbuf::box_from_word::<$bt>(word)
                        });
                    }
                )*
                unreachable!("one_word: a tag of no encoding")
            }

            /// Puts `own` in place of the current encoding, which it returns.
            $vis fn replace(&mut self, own: $own) -> $own {
                ::std::mem::replace(self, $name::new(own)).into_inner()
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                // Moves the encoding out to drop it: the handle itself is
                // left as it is and never used again.
                let word = self.word;
                let tag = $crate::keyspace::thinbuf::word_tag(&word);
                $(
                    if tag == <$th as $crate::keyspace::thinbuf::Header>::TAG {
                        // SAFETY: the tag says the word is this ThinBuf,
                        // owned by the handle being dropped.
                        drop(unsafe { $crate::keyspace::thinbuf::thin_from_word::<$th>(word) });
                        return;
                    }
                )*
                $(
                    if tag == $btag {
                        // SAFETY: as above, for this Box.
                        drop(unsafe { $crate::keyspace::thinbuf::box_from_word::<$bt>(word) });
                        return;
                    }
                )*
            }
        }
    };
}
pub(crate) use one_word;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_header_buffers_grow_to_their_bin_and_shrink_back() {
        let mut b = ThinBuf::<LpHeader>::with_header(&7u32.to_le_bytes(), |t| {
            t.copy_from_slice(&[0, 0, 0xff])
        })
        .unwrap();
        assert_eq!(b.bytes(), &[7, 0, 0, 0, 0, 0, 0xff]);
        assert_eq!(b.alloc_bytes(), 8);
        // Insert 100 bytes before the end marker, ten at a time.
        for i in 0..10u8 {
            let at = b.bytes().len() - 1;
            b.splice(at, 0, 10).fill(i);
            let len = b.bytes().len();
            assert_eq!(len, 17 + 10 * i as usize);
            assert_eq!(
                u32::from_le_bytes(b.bytes()[..4].try_into().unwrap()) as usize,
                len
            );
            assert!(b.alloc_bytes() >= len);
            assert_eq!(b.alloc_bytes(), crate::alloc::alloc_size(len));
            assert_eq!(*b.bytes().last().unwrap(), 0xff);
        }
        assert_eq!(&b.bytes()[6..16], &[0; 10]);
        assert_eq!(&b.bytes()[96..106], &[9; 10]);
        // Remove 90 of them: the block follows.
        b.splice(7, 90, 0);
        assert_eq!(b.bytes().len(), 17);
        assert_eq!(&b.bytes()[7..16], &[9; 9]);
        assert!(b.alloc_bytes() < 64, "{}", b.alloc_bytes());
        let c = b.clone();
        assert!(c == b);
        b.tail_mut(4)[0] = 1;
        assert!(c != b);
        // Replace in place, same size.
        b.splice(8, 2, 2).copy_from_slice(b"ab");
        assert_eq!(&b.bytes()[8..10], b"ab");
    }

    #[test]
    fn copies_check_the_length_their_header_gives() {
        assert!(ThinBuf::<LpHeader>::copy_of(&[7, 0, 0, 0, 0, 0, 0xff]).is_some());
        assert!(ThinBuf::<LpHeader>::copy_of(&[8, 0, 0, 0, 0, 0, 0xff]).is_none());
        assert!(ThinBuf::<LpHeader>::copy_of(&[7, 0, 0]).is_none());
        assert!(ThinBuf::<LpHeader>::copy_of(&[3, 0, 0, 0]).is_none());
        let is = [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 5, 0];
        let b = ThinBuf::<IsHeader>::copy_of(&is).unwrap();
        assert_eq!(b.bytes(), &is);
        assert!(ThinBuf::<IsHeader>::copy_of(&is[..11]).is_none());
        assert!(ThinBuf::<IsHeader>::copy_of(&[3, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(ThinBuf::<IsHeader>::with_header(&[5, 0, 0, 0, 0, 0, 0, 0], |_| {}).is_none());
    }

    #[test]
    fn intset_header_counts_whole_integers() {
        let mut b = ThinBuf::<IsHeader>::with_header(&[4, 0, 0, 0, 1, 0, 0, 0], |t| {
            t.copy_from_slice(&7i32.to_le_bytes())
        })
        .unwrap();
        assert_eq!(b.bytes().len(), 12);
        b.splice(8, 0, 4).copy_from_slice(&3i32.to_le_bytes());
        assert_eq!(b.bytes(), &[4, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 7, 0, 0, 0]);
        b.splice(8, 4, 0);
        assert_eq!(b.bytes(), &[4, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0]);
        // A splice of a part of an integer leaves the count whole (and
        // the bytes beyond it unreachable).
        b.splice(8, 0, 2);
        assert_eq!(b.bytes().len(), 12);
        // The pointer carries the intset tag; the bytes do not see it.
        assert_eq!(word_tag(&b.word), IsHeader::TAG);
    }

    #[test]
    #[should_panic(expected = "length header")]
    fn the_length_header_is_not_handed_out() {
        let mut b = ThinBuf::<LpHeader>::copy_of(&[7, 0, 0, 0, 0, 0, 0xff]).unwrap();
        b.tail_mut(2);
    }

    #[test]
    fn big_buffers_reallocate_and_keep_their_bytes() {
        let mut b = ThinBuf::<LpHeader>::copy_of(&[7, 0, 0, 0, 0, 0, 0xff]).unwrap();
        for i in 0..2000usize {
            let at = 6 + (i * 7919) % (b.bytes().len() - 6);
            b.splice(at, 0, 3).copy_from_slice(&[i as u8; 3]);
        }
        assert_eq!(b.bytes().len(), 6007);
        assert!(b.alloc_bytes() >= 6007);
        while b.bytes().len() > 7 {
            let n = (b.bytes().len() - 7).min(500);
            b.splice(6, n, 0);
        }
        assert_eq!(b.bytes(), &[7, 0, 0, 0, 0, 0, 0xff]);
        assert!(b.alloc_bytes() <= 64);
    }

    #[test]
    fn strings_grow_like_vec_and_report_their_block() {
        let mut s = StrBuf::new();
        assert_eq!((s.len(), s.capacity(), s.memory_usage()), (0, 0, 0));
        assert_eq!(&*s, b"");
        let mut model = Vec::new();
        let mut reallocs = 0;
        let mut last_cap = 0;
        for i in 0..5000u32 {
            let piece = i.to_string();
            s.extend_from_slice(piece.as_bytes());
            model.extend_from_slice(piece.as_bytes());
            if s.capacity() != last_cap {
                reallocs += 1;
                last_cap = s.capacity();
            }
        }
        assert_eq!(&*s, &model[..]);
        assert!(reallocs < 20, "{reallocs} reallocations");
        s.resize(20_000, b'x');
        model.resize(20_000, b'x');
        s.truncate(100);
        model.truncate(100);
        s.splice(10..20, b"abc");
        model.splice(10..20, b"abc".iter().copied());
        s.splice(0..0, b"0123456789012345678901234567890");
        model.splice(0..0, b"0123456789012345678901234567890".iter().copied());
        s[5] = b'!';
        model[5] = b'!';
        s.push(b'z');
        model.push(b'z');
        assert_eq!(&*s, &model[..]);
        assert_eq!(s.len(), model.len());
        assert_eq!(s.clone(), s);
        assert_eq!(s.to_vec(), model);
        s.clear();
        assert!(s.is_empty());
        let mut e = StrBuf::new();
        e.splice(0..0, b"");
        e.resize(0, 0);
        assert!(e.is_empty());
    }

    #[test]
    fn capacity_codes_round_down_and_are_exact_for_bins() {
        for c in 0..5000usize {
            let d = cap_of(cap_code(c));
            assert!(d <= c, "{c}");
            assert!(c < 8 || d * 5 / 4 > c, "{c} -> {d}");
        }
        for bin in [
            8usize,
            16,
            24,
            40,
            56,
            64,
            80,
            112,
            320,
            1280,
            5120,
            1 << 20,
        ] {
            assert_eq!(cap_of(cap_code(bin)), bin);
            assert_eq!(crate::alloc::alloc_size(bin), bin);
        }
        assert_eq!(cap_of(cap_code(usize::MAX)), 7 << 61);
    }

    #[test]
    fn a_string_set_whole_takes_its_own_bin() {
        for n in [1usize, 44, 45, 4097, 8192, 16_384, 100_000] {
            let s = StrBuf::from_slice(&vec![b'a'; n]);
            assert_eq!(s.memory_usage(), crate::alloc::alloc_size(n), "{n}");
        }
    }

    #[test]
    fn a_strbuf_leaves_a_niche_for_its_enum() {
        #[allow(dead_code)]
        enum E {
            S(StrBuf),
            A(Box<u64>),
            B(ThinBuf<LpHeader>),
            C(Box<u64>),
        }
        assert_eq!(std::mem::size_of::<StrBuf>(), 16);
        assert_eq!(std::mem::size_of::<E>(), 16);
        assert_eq!(std::mem::size_of::<ThinBuf<LpHeader>>(), 8);
    }

    struct Big {
        v: Vec<u64>,
    }

    one_word! {
        struct Enc / EncOwn / EncRef / EncMut {
            thin Lp(LpHeader),
            thin Is(IsHeader),
            boxed Big(Big) = 2,
            boxed Num(u64) = 5,
        }
    }

    fn lp() -> ThinBuf<LpHeader> {
        ThinBuf::copy_of(&[7, 0, 0, 0, 0, 0, 0xff]).unwrap()
    }

    #[test]
    fn one_word_handles_lend_and_return_each_encoding() {
        assert_eq!(std::mem::size_of::<Enc>(), 8);
        let mut e = Enc::new(EncOwn::Lp(lp()));
        match e.get_mut() {
            EncMut::Lp(b) => {
                let at = b.bytes().len() - 1;
                b.splice(at, 0, 300).fill(1);
            }
            _ => panic!("not the listpack"),
        }
        // Storing a whole new buffer through the reference keeps the
        // handle's tag (the buffer's own).
        if let EncMut::Lp(b) = e.get_mut() {
            *b = lp();
        }
        assert!(matches!(e.get(), EncRef::Lp(b) if b.bytes().len() == 7));
        let is = ThinBuf::<IsHeader>::copy_of(&[2, 0, 0, 0, 1, 0, 0, 0, 9, 0]).unwrap();
        let old = e.replace(EncOwn::Is(is));
        assert!(matches!(old, EncOwn::Lp(_)));
        assert!(matches!(e.get(), EncRef::Is(b) if b.bytes()[8] == 9));
        e = Enc::new(EncOwn::Big(Box::new(Big { v: vec![1, 2, 3] })));
        if let EncMut::Big(b) = e.get_mut() {
            b.v.push(4);
        }
        assert!(matches!(e.get(), EncRef::Big(b) if b.v == [1, 2, 3, 4]));
        let n = Enc::new(EncOwn::Num(Box::new(77)));
        assert!(matches!(n.get(), EncRef::Num(&77)));
        match n.into_inner() {
            EncOwn::Num(b) => assert_eq!(*b, 77),
            _ => panic!("not the number"),
        }
        let moved = std::thread::spawn(move || matches!(e.get(), EncRef::Big(_)))
            .join()
            .unwrap();
        assert!(moved);
    }
}
