//! The element of a large hash, set or sorted set: one allocation that the
//! collection's table owns directly (there is no per-member node).
//!
//! ```text
//! varint key length, key bytes, varint tail length, tail bytes
//! ```
//!
//! The key is the set member, hash field or sorted-set member; the tail is
//! empty for sets, the value for hashes, the 8-byte score for sorted sets. A
//! 12-byte set member is 14 bytes (mimalloc's 16-byte bin); a 12-byte field
//! with an 8-byte value is 22 (the 24-byte bin).

use super::varint;
use ferrokey_table::Entry;
use std::alloc::{self, Layout};
use std::fmt;
use std::ptr::NonNull;

pub struct Member(NonNull<u8>);

// SAFETY: a Member exclusively owns its allocation; nothing ties it to a thread.
unsafe impl Send for Member {}

/// Size of a member with this key and tail.
fn member_size(key_len: usize, tail_len: usize) -> usize {
    varint::len(key_len) + key_len + varint::len(tail_len) + tail_len
}

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 1).expect("member size overflow")
}

impl Member {
    pub fn new(key: &[u8], tail: &[u8]) -> Member {
        let size = member_size(key.len(), tail.len());
        // SAFETY: size > 0 (two varints at least).
        let p = unsafe { alloc::alloc(layout(size)) };
        let Some(p) = NonNull::new(p) else {
            alloc::handle_alloc_error(layout(size))
        };
        // SAFETY: p is a fresh allocation of exactly `size` bytes.
        let buf = unsafe { std::slice::from_raw_parts_mut(p.as_ptr(), size) };
        let mut i = varint::write(buf, key.len());
        buf[i..i + key.len()].copy_from_slice(key);
        i += key.len();
        i += varint::write(&mut buf[i..], tail.len());
        buf[i..].copy_from_slice(tail);
        Member(p)
    }

    /// A sorted-set member with its score.
    pub fn with_score(key: &[u8], score: f64) -> Member {
        Member::new(key, &score.to_le_bytes())
    }

    /// Offsets and lengths: (key offset, key length, tail offset, tail length).
    #[inline]
    fn spans(&self) -> (usize, usize, usize, usize) {
        let p = self.0.as_ptr();
        // SAFETY: the allocation is [varint][key][varint][tail] as written
        // by new(); each varint is read at its own offset.
        unsafe {
            let (klen, a) = varint::read_raw(p);
            let (tlen, b) = varint::read_raw(p.add(a + klen));
            (a, klen, a + klen + b, tlen)
        }
    }

    fn size(&self) -> usize {
        let (_, _, t, tlen) = self.spans();
        t + tlen
    }

    fn split(&self) -> (&[u8], &[u8]) {
        let (k, klen, t, tlen) = self.spans();
        let p = self.0.as_ptr();
        // SAFETY: both spans lie within the allocation, which lives as long
        // as &self.
        unsafe {
            (
                std::slice::from_raw_parts(p.add(k), klen),
                std::slice::from_raw_parts(p.add(t), tlen),
            )
        }
    }

    pub fn key(&self) -> &[u8] {
        self.split().0
    }

    /// The bytes after the key: a hash value, a sorted-set score.
    pub fn tail(&self) -> &[u8] {
        self.split().1
    }

    /// The tail for in-place change (same length only).
    pub fn tail_mut(&mut self) -> &mut [u8] {
        let (_, _, t, tlen) = self.spans();
        // SAFETY: &mut self is the only access; the span lies within the
        // allocation.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_ptr().add(t), tlen) }
    }

    /// The score of a sorted-set member (0 if the tail is not a score).
    pub fn score(&self) -> f64 {
        let t = self.tail();
        t.try_into().map(f64::from_le_bytes).unwrap_or(0.0)
    }

    pub fn set_score(&mut self, s: f64) {
        let t = self.tail_mut();
        if t.len() == 8 {
            t.copy_from_slice(&s.to_le_bytes());
        }
    }

    /// Bytes held in the allocator.
    pub fn memory_usage(&self) -> usize {
        crate::alloc::alloc_size(self.size())
    }

    /// A raw pointer identifying this member (stable while it lives): what an
    /// ordered index of sorted-set members can hold instead of a copy.
    pub fn as_ptr(&self) -> NonNull<u8> {
        self.0
    }
}

impl Clone for Member {
    fn clone(&self) -> Member {
        let (k, t) = self.split();
        Member::new(k, t)
    }
}

impl fmt::Debug for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, t) = self.split();
        write!(
            f,
            "Member({:?}, {:?})",
            String::from_utf8_lossy(k),
            String::from_utf8_lossy(t)
        )
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let size = self.size();
        // SAFETY: allocated in new() with exactly this layout.
        unsafe { alloc::dealloc(self.0.as_ptr(), layout(size)) }
    }
}

// SAFETY: into_raw/from_raw round-trip the allocation pointer; Member is a
// plain NonNull wrapper; the pointer comes from the global allocator (a
// user-space address).
unsafe impl Entry for Member {
    type Key = [u8];

    #[inline]
    fn key(&self) -> &[u8] {
        Member::key(self)
    }

    #[inline]
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }

    #[inline]
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Member(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrokey_table::Table;

    #[test]
    fn sizes_are_tight() {
        assert_eq!(Member::new(&[b'a'; 12], b"").size(), 14);
        assert_eq!(Member::new(&[b'a'; 12], &[0; 8]).size(), 22);
        assert_eq!(Member::new(&[b'a'; 200], &[1; 300]).size(), 504);
    }

    #[test]
    fn key_tail_and_score() {
        let big = vec![7u8; 1000];
        let m = Member::new(b"field", &big);
        assert_eq!(m.key(), b"field");
        assert_eq!(m.tail(), &big[..]);
        let mut z = Member::with_score(b"m", 1.5);
        assert_eq!(z.score(), 1.5);
        z.set_score(-2.25);
        assert_eq!(z.score(), -2.25);
        assert_eq!(z.key(), b"m");
        let c = z.clone();
        assert_eq!((c.key(), c.score()), (&b"m"[..], -2.25));
        let e = Member::new(b"", b"");
        assert_eq!((e.key(), e.tail()), (&b""[..], &b""[..]));
    }

    #[test]
    fn lives_in_a_table() {
        let mut t: Table<Member> = Table::new();
        for i in 0..1000 {
            t.insert(Member::new(
                format!("m{i}").as_bytes(),
                &(i as u64).to_le_bytes(),
            ));
        }
        assert_eq!(t.len(), 1000);
        let got = t.get(&b"m500"[..]).map(|m| m.tail().to_vec());
        assert_eq!(got, Some(500u64.to_le_bytes().to_vec()));
        assert!(t.remove(&b"m1"[..]).is_some());
        assert!(t.get(&b"m1"[..]).is_none());
    }
}
