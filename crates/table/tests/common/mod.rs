//! Entry types, hashers and helpers shared by the table crate's tests.
#![allow(dead_code)]

use ferrokey_table::{Entry, ResizePolicy, Table};
use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::ptr::NonNull;

/// A heap-allocated byte string behind a thin pointer: `[len: u32][bytes]`.
/// The shape of a real keyspace entry (key bytes inline in one allocation).
pub struct Bytes(NonNull<u8>);

impl Bytes {
    pub fn new(b: &[u8]) -> Self {
        let mut v = Vec::with_capacity(4 + b.len());
        v.extend_from_slice(&(b.len() as u32).to_le_bytes());
        v.extend_from_slice(b);
        let bx = v.into_boxed_slice();
        Bytes(NonNull::new(Box::into_raw(bx) as *mut u8).unwrap())
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: self.0 points to a live `[len][bytes]` allocation.
        unsafe {
            let len = u32::from_le_bytes(*(self.0.as_ptr() as *const [u8; 4])) as usize;
            std::slice::from_raw_parts(self.0.as_ptr().add(4), len)
        }
    }

    /// Address of the allocation, to check which one a table holds.
    pub fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        let len = self.as_slice().len();
        // SAFETY: allocated in `new` as a boxed slice of 4 + len bytes.
        unsafe {
            drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.0.as_ptr(),
                4 + len,
            )));
        }
    }
}

// SAFETY: Bytes owns its allocation exclusively.
unsafe impl Send for Bytes {}

// SAFETY: a plain NonNull wrapper; heap pointers fit in 48 bits.
unsafe impl Entry for Bytes {
    type Key = [u8];
    fn key(&self) -> &[u8] {
        self.as_slice()
    }
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Bytes(raw)
    }
}

/// A key with a value, for the model tests: the value tells replaced entries
/// apart from the originals.
pub struct Kv(NonNull<(Box<[u8]>, u64)>);

impl Kv {
    pub fn new(key: &[u8], val: u64) -> Self {
        Kv(NonNull::from(Box::leak(Box::new((key.into(), val)))))
    }
    pub fn val(&self) -> u64 {
        // SAFETY: the box is alive while self is.
        unsafe { self.0.as_ref().1 }
    }
    pub fn set_val(&mut self, v: u64) {
        // SAFETY: as above; &mut self is the only view.
        unsafe { self.0.as_mut().1 = v }
    }
    pub fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

impl Drop for Kv {
    fn drop(&mut self) {
        // SAFETY: from Box::leak in `new`, owned by self.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

// SAFETY: Kv owns its box exclusively.
unsafe impl Send for Kv {}

// SAFETY: a plain NonNull wrapper around a Box allocation.
unsafe impl Entry for Kv {
    type Key = [u8];
    fn key(&self) -> &[u8] {
        // SAFETY: the box is alive while self is.
        unsafe { &self.0.as_ref().0 }
    }
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0.cast();
        std::mem::forget(self);
        p
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Kv(raw.cast())
    }
}

thread_local! {
    /// What [`Pol::resize_policy`] answers, set per test thread.
    pub static POLICY: Cell<ResizePolicy> = const { Cell::new(ResizePolicy::Allow) };
    /// How often the table asked, and the last array size it asked about.
    pub static POLICY_ASKED: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

pub fn set_policy(p: ResizePolicy) {
    POLICY.with(|c| c.set(p));
}

/// A [`Bytes`] whose resize policy is driven by [`POLICY`].
pub struct Pol(pub Bytes);

impl Pol {
    pub fn new(b: &[u8]) -> Self {
        Pol(Bytes::new(b))
    }
}

// SAFETY: delegates to Bytes.
unsafe impl Entry for Pol {
    type Key = [u8];
    fn key(&self) -> &[u8] {
        self.0.as_slice()
    }
    fn into_raw(self) -> NonNull<u8> {
        self.0.into_raw()
    }
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        // SAFETY: raw came from Pol::into_raw, i.e. Bytes::into_raw.
        Pol(unsafe { Bytes::from_raw(raw) })
    }
    fn resize_policy(new_array_bytes: usize) -> ResizePolicy {
        POLICY_ASKED.with(|c| {
            let (n, _) = c.get();
            c.set((n + 1, new_array_bytes));
        });
        POLICY.with(|c| c.get())
    }
}

/// A hasher whose `finish` keeps only the bits in `mask` of an FNV-1a hash of
/// what was written: mask 0 puts every key in bucket 0 with tag 0; a mask
/// such as `0xff00_0000_0000_0003` gives four chains with varied tags.
#[derive(Clone, Copy)]
pub struct MaskedHash(pub u64);

pub struct MaskedHasher {
    h: u64,
    mask: u64,
}

impl Hasher for MaskedHasher {
    fn finish(&self) -> u64 {
        // Spread the FNV state so the top byte varies too.
        let mut x = self.h;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x & self.mask
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.h ^= u64::from(*b);
            self.h = self.h.wrapping_mul(0x100_0000_01b3);
        }
    }
}

impl BuildHasher for MaskedHash {
    type Hasher = MaskedHasher;
    fn build_hasher(&self) -> MaskedHasher {
        MaskedHasher {
            h: 0xcbf2_9ce4_8422_2325,
            mask: self.0,
        }
    }
}

/// xorshift64: deterministic randomness for the tests.
pub fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

pub fn key(i: u64) -> Vec<u8> {
    format!("key:{i}").into_bytes()
}

/// Keys returned by a full scan, in order, duplicates included.
pub fn scan_all<E: Entry<Key = [u8]>, S: BuildHasher>(t: &Table<E, S>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut c = 0;
    loop {
        c = t.scan(c, |e| out.push(e.key().to_vec()));
        if c == 0 {
            return out;
        }
    }
}

/// Proptest case count: `PROPTEST_CASES` if set, else `default` (sized so the
/// whole suite stays within about a minute in debug builds on two cores).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
