//! The compact encoding of small all-integer sets: Valkey's intset byte
//! format.
//!
//! ```text
//! u32 encoding (LE)   bytes per integer: 2, 4 or 8
//! u32 length   (LE)   number of integers
//! integers            `length` signed integers of `encoding` bytes each,
//!                     little endian, strictly ascending
//! ```
//!
//! Keeping Valkey's exact layout (not only its idea) lets RDB and DUMP carry
//! the buffer as it is. Every integer is stored in the width of the widest
//! one; adding a value that needs more room rewrites the whole buffer in the
//! wider encoding (it never narrows again, as in Valkey). Lookups are binary
//! searches, inserts and deletes shift the tail: the set is small by
//! construction (`set-max-intset-entries`).

use super::super::thinbuf::{IsHeader, ThinBuf};
use std::fmt;

/// Header: encoding and length.
const HEADER: usize = 8;

/// An intset: a [`ThinBuf`] in Valkey's intset format (its header gives its
/// length). The buffer is always a well-formed intset.
pub type IntSet = ThinBuf<IsHeader>;

impl Default for IntSet {
    fn default() -> Self {
        IntSet::new()
    }
}

impl fmt::Debug for IntSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Bytes one integer needs: the narrowest of 2, 4, 8 that holds it.
fn width_of(v: i64) -> usize {
    if i16::try_from(v).is_ok() {
        2
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// Reads a `width`-byte little-endian signed integer from the start of `b`.
fn read_int(b: &[u8], width: usize) -> i64 {
    match width {
        2 => i16::from_le_bytes([b[0], b[1]]) as i64,
        4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
        _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    }
}

/// The `width`-byte little-endian form of `v` (which fits in it).
fn int_bytes(v: i64, width: usize) -> ([u8; 8], usize) {
    let mut out = [0u8; 8];
    match width {
        2 => out[..2].copy_from_slice(&(v as i16).to_le_bytes()),
        4 => out[..4].copy_from_slice(&(v as i32).to_le_bytes()),
        _ => out.copy_from_slice(&v.to_le_bytes()),
    }
    (out, width)
}

/// An intset header: encoding and count.
fn header(width: usize, count: usize) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    h[..4].copy_from_slice(&(width as u32).to_le_bytes());
    h[4..].copy_from_slice(&(count as u32).to_le_bytes());
    h
}

/// An intset of `width`-byte integers holding `ints` (sorted, distinct,
/// each fitting the width).
fn build(width: usize, count: usize, ints: impl Iterator<Item = i64>) -> IntSet {
    ThinBuf::with_header(&header(width, count), |body| {
        for (chunk, v) in body.chunks_exact_mut(width).zip(ints) {
            let (b, n) = int_bytes(v, width);
            chunk.copy_from_slice(&b[..n]);
        }
    })
    .expect("2, 4 and 8 are intset encodings")
}

impl IntSet {
    /// An empty intset in the narrowest encoding (2 bytes per integer).
    pub fn new() -> IntSet {
        build(2, 0, std::iter::empty())
    }

    /// An intset holding these integers (any order, duplicates ignored).
    pub fn from_ints(ints: impl IntoIterator<Item = i64>) -> IntSet {
        let mut v: Vec<i64> = ints.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let width = v
            .first()
            .map_or(2, |&lo| width_of(lo).max(width_of(v[v.len() - 1])));
        build(width, v.len(), v.into_iter())
    }

    /// Adopts a serialized intset after checking it the way Valkey's
    /// `intsetValidateIntegrity` does: a known encoding, a length that
    /// matches the buffer, at least one element, strictly ascending
    /// integers; the bytes are copied once into the intset's own block.
    /// None if it is malformed in any way.
    pub fn from_bytes(buf: &[u8]) -> Option<IntSet> {
        if buf.len() < HEADER {
            return None;
        }
        let width = u32::from_le_bytes(buf[0..4].try_into().ok()?) as usize;
        if !matches!(width, 2 | 4 | 8) {
            return None;
        }
        let len = u32::from_le_bytes(buf[4..8].try_into().ok()?) as usize;
        if len == 0 || len.checked_mul(width)?.checked_add(HEADER)? != buf.len() {
            return None;
        }
        let ints = buf[HEADER..]
            .chunks_exact(width)
            .map(|c| read_int(c, width));
        let mut prev = None;
        for cur in ints {
            if prev.is_some_and(|p| cur <= p) {
                return None;
            }
            prev = Some(cur);
        }
        ThinBuf::copy_of(buf)
    }

    /// The serialized form (what RDB and DUMP carry).
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes()
    }

    /// Bytes per integer (2, 4 or 8).
    fn width(&self) -> usize {
        let b = self.bytes();
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
    }

    pub fn len(&self) -> usize {
        let b = self.bytes();
        u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held in the allocator (the whole intset: it is one block).
    pub fn memory_usage(&self) -> usize {
        self.alloc_bytes()
    }

    /// The integer at index `i` (in ascending order); `i < len()`.
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width();
        read_int(&self.bytes()[HEADER + i * w..], w)
    }

    /// The smallest integer.
    pub fn min(&self) -> Option<i64> {
        (!self.is_empty()).then(|| self.get(0))
    }

    /// The largest integer.
    pub fn max(&self) -> Option<i64> {
        (!self.is_empty()).then(|| self.get(self.len() - 1))
    }

    /// Ok(index) if `v` is present, Err(insertion index) otherwise.
    fn search(&self, v: i64) -> Result<usize, usize> {
        let len = self.len();
        if len == 0 {
            return Err(0);
        }
        // Values beyond either end are common when adding in order: answer
        // those without the search.
        if v > self.get(len - 1) {
            return Err(len);
        }
        if v < self.get(0) {
            return Err(0);
        }
        let (mut lo, mut hi) = (0usize, len);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Equal => return Ok(mid),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        // A value wider than the encoding cannot be present.
        width_of(v) <= self.width() && self.search(v).is_ok()
    }

    /// Adds `v`; false if it was already present.
    pub fn insert(&mut self, v: i64) -> bool {
        if width_of(v) > self.width() {
            self.upgrade_and_add(v);
            return true;
        }
        let Err(at) = self.search(v) else {
            return false;
        };
        let w = self.width();
        let (b, n) = int_bytes(v, w);
        // The count follows the length (the buffer sets it); the block grows
        // to the allocator's bin, which it holds anyway.
        self.splice(HEADER + at * w, 0, w).copy_from_slice(&b[..n]);
        true
    }

    /// Rewrites the set in the encoding `v` needs and adds `v`, which lies
    /// outside the current range (it did not fit the old encoding), so it
    /// goes first when negative and last otherwise.
    fn upgrade_and_add(&mut self, v: i64) {
        let new_w = width_of(v);
        let len = self.len();
        let (front, back) = if v < 0 {
            (Some(v), None)
        } else {
            (None, Some(v))
        };
        let ints = front.into_iter().chain(self.iter()).chain(back);
        let grown = build(new_w, len + 1, ints);
        *self = grown;
    }

    /// Removes `v`; false if it was not present.
    pub fn remove(&mut self, v: i64) -> bool {
        if width_of(v) > self.width() {
            return false;
        }
        let Ok(at) = self.search(v) else {
            return false;
        };
        self.remove_at(at);
        true
    }

    /// Removes the integer at index `i` (< len) and returns it. The block
    /// follows the length down once the slack is worth a realloc, as Valkey
    /// reallocates an intset to its exact size.
    pub fn remove_at(&mut self, i: usize) -> i64 {
        let v = self.get(i);
        let w = self.width();
        self.splice(HEADER + i * w, w, 0);
        v
    }

    /// The integers in ascending order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        let w = self.width();
        self.bytes()[HEADER..]
            .chunks_exact(w)
            .map(move |c| read_int(c, w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn empty_intset_bytes() {
        let is = IntSet::new();
        assert_eq!(is.as_bytes(), &[2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(is.len(), 0);
        assert_eq!((is.min(), is.max()), (None, None));
    }

    #[test]
    fn layout_matches_valkey() {
        // intsetAdd of 5, 1, 3 in a 16-bit intset: sorted, little endian.
        let mut is = IntSet::new();
        assert!(is.insert(5));
        assert!(is.insert(1));
        assert!(is.insert(3));
        assert!(!is.insert(3));
        assert_eq!(is.as_bytes(), &[2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 3, 0, 5, 0]);
        // -2 is 0xfffe in 16 bits.
        is.insert(-2);
        assert_eq!(&is.as_bytes()[8..10], &[0xfe, 0xff]);
    }

    #[test]
    fn upgrades_to_wider_encodings() {
        let mut is = IntSet::new();
        is.insert(1);
        is.insert(70000); // needs 32 bits
        assert_eq!(&is.as_bytes()[..8], &[4, 0, 0, 0, 2, 0, 0, 0]);
        assert_eq!(&is.as_bytes()[8..], &[1, 0, 0, 0, 0x70, 0x11, 0x01, 0]);
        is.insert(-5_000_000_000); // needs 64 bits, goes first
        assert_eq!(&is.as_bytes()[..4], &[8, 0, 0, 0]);
        assert_eq!(is.as_bytes().len(), 8 + 3 * 8);
        assert_eq!(
            is.iter().collect::<Vec<_>>(),
            vec![-5_000_000_000, 1, 70000]
        );
        is.insert(i64::MAX);
        is.insert(i64::MIN);
        assert_eq!(is.min(), Some(i64::MIN));
        assert_eq!(is.max(), Some(i64::MAX));
        // Never narrows back.
        for v in [i64::MIN, i64::MAX, -5_000_000_000, 70000] {
            assert!(is.remove(v));
        }
        assert_eq!(&is.as_bytes()[..4], &[8, 0, 0, 0]);
        assert_eq!(is.iter().collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn contains_and_remove() {
        let mut is = IntSet::from_ints([10, -3, 7, 10]);
        assert_eq!(is.len(), 3);
        assert!(is.contains(7) && is.contains(-3) && !is.contains(8));
        assert!(!is.contains(1 << 40));
        assert!(!is.remove(1 << 40));
        assert!(!is.remove(8));
        assert!(is.remove(7));
        assert_eq!(is.iter().collect::<Vec<_>>(), vec![-3, 10]);
        assert_eq!(is.remove_at(0), -3);
        assert_eq!(is.as_bytes(), &[2, 0, 0, 0, 1, 0, 0, 0, 10, 0]);
    }

    #[test]
    fn from_bytes_validates() {
        let good = IntSet::from_ints([1, 2, 300000]).as_bytes().to_vec();
        assert_eq!(
            IntSet::from_bytes(&good).map(|s| s.iter().collect::<Vec<_>>()),
            Some(vec![1, 2, 300000])
        );
        // Bad encoding, wrong length, empty, unsorted, duplicates.
        let mut bad = good.clone();
        bad[0] = 3;
        assert!(IntSet::from_bytes(&bad).is_none());
        let mut bad = good.clone();
        bad[4] = 4;
        assert!(IntSet::from_bytes(&bad).is_none());
        assert!(IntSet::from_bytes(IntSet::new().as_bytes()).is_none());
        assert!(IntSet::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]).is_none());
        assert!(IntSet::from_bytes(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0]).is_none());
        assert!(IntSet::from_bytes(&[2, 0, 0]).is_none());
        // A wider encoding than needed is still valid.
        let wide = IntSet::from_bytes(&[8, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(wide.map(|s| s.get(0)), Some(9));
    }

    proptest! {
        #[test]
        fn behaves_like_btreeset(ops in proptest::collection::vec(
            (any::<bool>(), prop_oneof![
                -50i64..50,
                any::<i16>().prop_map(i64::from),
                any::<i32>().prop_map(i64::from),
                any::<i64>(),
            ]),
            0..300,
        )) {
            let mut is = IntSet::new();
            let mut model = BTreeSet::new();
            for (add, v) in ops {
                if add {
                    prop_assert_eq!(is.insert(v), model.insert(v));
                } else {
                    prop_assert_eq!(is.remove(v), model.remove(&v));
                }
                prop_assert_eq!(is.len(), model.len());
            }
            prop_assert_eq!(is.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            for v in &model {
                prop_assert!(is.contains(*v));
            }
            if !model.is_empty() {
                let again = IntSet::from_bytes(is.as_bytes());
                prop_assert_eq!(again.as_ref(), Some(&is));
            }
        }
    }
}
