//! The key record: one allocation per key holding its header, its key, its
//! value when small, and its expire time only when it has one.
//!
//! ```text
//! offset 0   u32 header (little endian)
//!            bit 0      HAS_EXPIRE
//!            bit 1      TINY: an embedded string with key and value < 16 bytes
//!            TINY:      bits 2-5 key length, bits 6-9 value length
//!            otherwise: bits 2-4 type, bits 5-7 layout, bit 8 WIDE_PTR,
//!                       bit 9 unused
//!            bits 10-31 access clock (22 bits: LRU seconds or LFU minutes+counter)
//! offset 4   i64 expire time in ms              (only with HAS_EXPIRE)
//! then       TINY:      key bytes, value bytes
//!            otherwise: varint key length, key bytes, payload:
//!              Int      i64
//!              Inline   varint length, bytes  (embstr, or a raw string set whole)
//!              Heap     *mut Value            (grown strings, collections):
//!                       its low 6 bytes, or all 8 with WIDE_PTR
//! ```
//!
//! There is no reference count, no NUL terminator and no padding: a 12-byte
//! key with an 8-byte value is 24 bytes, which is mimalloc's 24-byte bin. The
//! expire time lives here and nowhere else (no second key copy in an expires
//! index), so a TTL costs 8 bytes. The price of TINY's packing is a 22-bit
//! access clock: OBJECT IDLETIME wraps after 48.5 days (Valkey: 194 days).
//!
//! A heap value's pointer takes 6 bytes: user-space addresses fit in 48
//! bits on today's x86-64 and AArch64 (the kernel hands out higher ones only
//! to a process that asks for them, which the allocator does not). A record
//! built with a higher address stores all 8 bytes and says so (WIDE_PTR).
//! The two bytes move a collection's record down a bin for two key lengths
//! in eight: with a 12-byte key, 25 -> 23 bytes, mimalloc's 32 -> 24 bin.
//!
//! All fields are read and written unaligned; records are byte blobs.

use super::slab;
use super::thinbuf::StrBuf;
use super::value::Value;
use super::varint;
use crate::util::num::parse_i64;
use ferrokey_table::{Entry, ResizePolicy};
use std::cell::Cell;
use std::ptr::{self, NonNull};

const HAS_EXPIRE: u32 = 1;
const TINY: u32 = 2;
/// The heap pointer is stored whole (8 bytes), not as its low 6.
const WIDE_PTR: u32 = 1 << 8;
const CLOCK_SHIFT: u32 = 10;
/// Largest value of the access clock field.
pub const CLOCK_MAX: u32 = (1 << 22) - 1;
/// Valkey's limit for the embstr encoding.
pub const EMBSTR_MAX: usize = 44;
/// Strings longer than this are kept in their own allocation even when set
/// whole, so huge values are never copied on record reallocation.
const INLINE_MAX: usize = 4096;

/// The value's type, as TYPE reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ObjType {
    String = 0,
    List = 1,
    Set = 2,
    ZSet = 3,
    Hash = 4,
    Stream = 5,
}

impl ObjType {
    fn from_bits(b: u32) -> ObjType {
        match b & 7 {
            0 => ObjType::String,
            1 => ObjType::List,
            2 => ObjType::Set,
            3 => ObjType::ZSet,
            4 => ObjType::Hash,
            _ => ObjType::Stream,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ObjType::String => "string",
            ObjType::List => "list",
            ObjType::Set => "set",
            ObjType::ZSet => "zset",
            ObjType::Hash => "hash",
            ObjType::Stream => "stream",
        }
    }
}

/// How the payload is stored (non-TINY records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Storage {
    Int = 0,
    Embstr = 1,
    /// A string above the embstr limit set whole: reported as "raw".
    RawInline = 2,
    Heap = 3,
}

impl Storage {
    fn from_bits(b: u32) -> Storage {
        match b & 7 {
            0 => Storage::Int,
            1 => Storage::Embstr,
            2 => Storage::RawInline,
            _ => Storage::Heap,
        }
    }
}

/// A borrowed view of a record's value.
pub enum ValueRef<'a> {
    Int(i64),
    /// A string stored in the record.
    Str(&'a [u8]),
    Heap(&'a Value),
}

/// An owning pointer to a key record.
pub struct Record(NonNull<u8>);

// SAFETY: a Record exclusively owns its allocation (and heap value); nothing
// in it is tied to a thread.
unsafe impl Send for Record {}

thread_local! {
    /// The keyspace's resize policy for this thread's tables: `Avoid` while a
    /// snapshot child runs, so copy-on-write pages stay shared.
    pub static RESIZE_POLICY: Cell<ResizePolicy> = const { Cell::new(ResizePolicy::Allow) };
    /// `maxmemory` as this thread's server last saw it (0: no limit): a
    /// table may not grow its bucket array past it unless it is badly
    /// overfull (Valkey's `resizeAllowed`).
    pub static MAXMEMORY: Cell<u64> = const { Cell::new(0) };
}

/// The resize policy for a keyspace table about to allocate `bytes`.
fn keyspace_resize_policy(bytes: usize) -> ResizePolicy {
    let policy = RESIZE_POLICY.with(Cell::get);
    let limit = MAXMEMORY.with(Cell::get);
    if policy == ResizePolicy::Allow
        && limit > 0
        && (crate::alloc::used_memory() + bytes) as u64 > limit
    {
        return ResizePolicy::Avoid;
    }
    policy
}

// SAFETY: into_raw/from_raw round-trip the allocation pointer; Record is a
// plain NonNull wrapper with no uniqueness assertion; the pointer comes from
// the global allocator (a user-space address).
unsafe impl Entry for Record {
    type Key = [u8];

    #[inline]
    fn key(&self) -> &[u8] {
        Record::key(self)
    }

    #[inline]
    fn into_raw(self) -> NonNull<u8> {
        let p = self.0;
        std::mem::forget(self);
        p
    }

    #[inline]
    unsafe fn from_raw(raw: NonNull<u8>) -> Self {
        Record(raw)
    }

    #[inline]
    fn resize_policy(new_array_bytes: usize) -> ResizePolicy {
        keyspace_resize_policy(new_array_bytes)
    }
}

/// # Safety
/// `p` has room for `varint::len(v)` bytes.
unsafe fn write_varint(p: *mut u8, v: usize) -> usize {
    // SAFETY: the caller reserved varint::len(v) bytes at p.
    varint::write(
        unsafe { std::slice::from_raw_parts_mut(p, varint::len(v)) },
        v,
    )
}

/// The payload a record is built with.
pub enum Payload<'a> {
    Int(i64),
    /// A string; Embstr or RawInline by length (or Heap beyond INLINE_MAX).
    Str(&'a [u8]),
    Heap(Box<Value>),
}

impl Record {
    /// A string record, encoded the way Valkey's `tryObjectEncoding` would:
    /// canonical integers of up to 20 characters as Int, short strings as
    /// embstr, longer ones as raw.
    pub fn new_string(key: &[u8], val: &[u8], expire: Option<i64>, clock: u32) -> Record {
        if val.len() <= 20 {
            if let Some(i) = parse_i64(val) {
                return Record::build(key, Payload::Int(i), expire, clock);
            }
        }
        Record::build(key, Payload::Str(val), expire, clock)
    }

    /// A string record that keeps exactly these bytes as a raw string (no
    /// integer encoding): what APPEND, SETRANGE, SETBIT produce in Valkey.
    pub fn new_raw(key: &[u8], val: impl Into<StrBuf>, expire: Option<i64>, clock: u32) -> Record {
        Record::build(
            key,
            Payload::Heap(Box::new(Value::Str(val.into()))),
            expire,
            clock,
        )
    }

    pub fn build(key: &[u8], payload: Payload<'_>, expire: Option<i64>, clock: u32) -> Record {
        let payload = match payload {
            Payload::Str(v) if v.len() > INLINE_MAX => {
                Payload::Heap(Box::new(Value::Str(StrBuf::from_slice(v))))
            }
            p => p,
        };
        let exp_bytes = if expire.is_some() { 8 } else { 0 };
        let mut header =
            (clock.min(CLOCK_MAX) << CLOCK_SHIFT) | if expire.is_some() { HAS_EXPIRE } else { 0 };
        let tiny = matches!(payload, Payload::Str(v) if v.len() < 16 && v.len() <= EMBSTR_MAX)
            && key.len() < 16;
        let size = if tiny {
            let Payload::Str(v) = &payload else {
                unreachable!()
            };
            header |= TINY | (key.len() as u32) << 2 | (v.len() as u32) << 6;
            4 + exp_bytes + key.len() + v.len()
        } else {
            let (len, kind, ty) = match &payload {
                Payload::Int(_) => (8, Storage::Int, ObjType::String),
                Payload::Str(v) => {
                    let kind = if v.len() <= EMBSTR_MAX {
                        Storage::Embstr
                    } else {
                        Storage::RawInline
                    };
                    (varint::len(v.len()) + v.len(), kind, ObjType::String)
                }
                Payload::Heap(v) => (heap_ptr_len(v), Storage::Heap, v.obj_type()),
            };
            header |= (ty as u32) << 2 | (kind as u32) << 5;
            if kind == Storage::Heap && len == 8 {
                header |= WIDE_PTR;
            }
            4 + exp_bytes + varint::len(key.len()) + key.len() + len
        };
        // Never null (slab::alloc aborts on exhaustion like the global
        // allocator); size > 0 (at least the header).
        let Some(base) = NonNull::new(slab::alloc(size)) else {
            unreachable!("slab::alloc never returns null")
        };
        let p = base.as_ptr();
        // SAFETY: every write below stays within the `size` bytes computed
        // above for exactly this layout.
        unsafe {
            ptr::write_unaligned(p.cast::<u32>(), header.to_le());
            let mut off = 4;
            if let Some(at) = expire {
                ptr::write_unaligned(p.add(off).cast::<i64>(), at.to_le());
                off += 8;
            }
            if !tiny {
                off += write_varint(p.add(off), key.len());
            }
            ptr::copy_nonoverlapping(key.as_ptr(), p.add(off), key.len());
            off += key.len();
            match payload {
                Payload::Int(i) => ptr::write_unaligned(p.add(off).cast::<i64>(), i.to_le()),
                Payload::Str(v) => {
                    if !tiny {
                        off += write_varint(p.add(off), v.len());
                    }
                    ptr::copy_nonoverlapping(v.as_ptr(), p.add(off), v.len());
                }
                Payload::Heap(v) => {
                    let n = heap_ptr_len(&v);
                    let addr = Box::into_raw(v).expose_provenance() as u64;
                    ptr::copy_nonoverlapping(addr.to_le_bytes().as_ptr(), p.add(off), n);
                }
            }
        }
        Record(base)
    }

    #[inline]
    fn header(&self) -> u32 {
        // SAFETY: every record starts with its 4-byte header.
        u32::from_le(unsafe { ptr::read_unaligned(self.0.as_ptr().cast::<u32>()) })
    }

    #[inline]
    fn set_header(&mut self, h: u32) {
        // SAFETY: as in header().
        unsafe { ptr::write_unaligned(self.0.as_ptr().cast::<u32>(), h.to_le()) }
    }

    #[inline]
    fn is_tiny(&self) -> bool {
        self.header() & TINY != 0
    }

    #[inline]
    fn layout_kind(&self) -> Storage {
        if self.is_tiny() {
            Storage::Embstr
        } else {
            Storage::from_bits(self.header() >> 5)
        }
    }

    #[inline]
    pub fn obj_type(&self) -> ObjType {
        if self.is_tiny() {
            ObjType::String
        } else {
            ObjType::from_bits(self.header() >> 2)
        }
    }

    /// Offset of the key length (or key, when TINY).
    #[inline]
    fn key_field(&self) -> usize {
        4 + if self.header() & HAS_EXPIRE != 0 {
            8
        } else {
            0
        }
    }

    /// (offset of key bytes, key length)
    #[inline]
    fn key_span(&self) -> (usize, usize) {
        let h = self.header();
        let off = self.key_field();
        if h & TINY != 0 {
            (off, ((h >> 2) & 15) as usize)
        } else {
            // SAFETY: a non-tiny record has a varint key length here.
            let (len, n) = unsafe { varint::read_raw(self.0.as_ptr().add(off)) };
            (off + n, len)
        }
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        let (off, len) = self.key_span();
        // SAFETY: the key bytes lie within the record, which outlives &self.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(off), len) }
    }

    /// Offset right after the key: the payload.
    #[inline]
    fn payload_off(&self) -> usize {
        let (off, len) = self.key_span();
        off + len
    }

    /// (offset of inline string bytes, length)
    fn inline_str_span(&self) -> (usize, usize) {
        let off = self.payload_off();
        if self.is_tiny() {
            (off, ((self.header() >> 6) & 15) as usize)
        } else {
            // SAFETY: Embstr/RawInline payloads start with a varint length.
            let (len, n) = unsafe { varint::read_raw(self.0.as_ptr().add(off)) };
            (off + n, len)
        }
    }

    fn heap_ptr(&self) -> *mut Value {
        debug_assert_eq!(self.layout_kind(), Storage::Heap);
        let mut addr = [0u8; 8];
        // SAFETY: a Heap payload is the low `stored_ptr_len` bytes of a
        // Value pointer, whose other bytes are zero (see `heap_ptr_len`).
        unsafe {
            ptr::copy_nonoverlapping(
                self.0.as_ptr().add(self.payload_off()),
                addr.as_mut_ptr(),
                self.stored_ptr_len(),
            )
        };
        // The provenance was exposed when the pointer was stored (`build`).
        ptr::with_exposed_provenance_mut(u64::from_le_bytes(addr) as usize)
    }

    /// Bytes of the stored heap pointer (see WIDE_PTR).
    #[inline]
    fn stored_ptr_len(&self) -> usize {
        if self.header() & WIDE_PTR != 0 {
            8
        } else {
            6
        }
    }

    /// Where the record lives (DEBUG OBJECT's `Value at:`).
    pub fn addr(&self) -> *const u8 {
        self.0.as_ptr()
    }

    pub fn value(&self) -> ValueRef<'_> {
        match self.layout_kind() {
            // SAFETY: an Int payload is 8 bytes.
            Storage::Int => ValueRef::Int(i64::from_le(unsafe {
                ptr::read_unaligned(self.0.as_ptr().add(self.payload_off()).cast::<i64>())
            })),
            Storage::Embstr | Storage::RawInline => {
                let (off, len) = self.inline_str_span();
                // SAFETY: the string bytes lie within the record.
                ValueRef::Str(unsafe { std::slice::from_raw_parts(self.0.as_ptr().add(off), len) })
            }
            // SAFETY: the heap value is owned by the record and outlives &self.
            Storage::Heap => ValueRef::Heap(unsafe { &*self.heap_ptr() }),
        }
    }

    /// Overwrites an integer value in place (INCR and friends: no new
    /// record, no second lookup). False, and nothing changed, when the
    /// value is not stored as an integer.
    pub fn set_int(&mut self, v: i64) -> bool {
        if self.layout_kind() != Storage::Int {
            return false;
        }
        // SAFETY: an Int payload is 8 bytes inside the record, and &mut
        // self makes this the only access.
        unsafe {
            ptr::write_unaligned(
                self.0.as_ptr().add(self.payload_off()).cast::<i64>(),
                v.to_le(),
            )
        };
        true
    }

    /// The heap value for in-place changes (collections, grown strings).
    pub fn heap_mut(&mut self) -> Option<&mut Value> {
        if self.layout_kind() == Storage::Heap {
            // SAFETY: owned by the record; &mut self makes this the only access.
            Some(unsafe { &mut *self.heap_ptr() })
        } else {
            None
        }
    }

    /// The string value, with integers formatted into `buf`. None if the
    /// value is not a string.
    pub fn string_value<'a>(&'a self, buf: &'a mut [u8; 24]) -> Option<&'a [u8]> {
        match self.value() {
            ValueRef::Int(i) => {
                let mut w = std::io::Cursor::new(&mut buf[..]);
                use std::io::Write;
                let _ = write!(w, "{i}");
                let n = w.position() as usize;
                Some(&buf[..n])
            }
            ValueRef::Str(s) => Some(s),
            ValueRef::Heap(v) => v.as_str(),
        }
    }

    /// OBJECT ENCODING's answer.
    pub fn encoding_name(&self) -> &'static str {
        match self.layout_kind() {
            Storage::Int => "int",
            Storage::Embstr => "embstr",
            Storage::RawInline => "raw",
            // SAFETY: owned heap value.
            Storage::Heap => unsafe { &*self.heap_ptr() }.encoding_name(),
        }
    }

    pub fn expire(&self) -> Option<i64> {
        if self.header() & HAS_EXPIRE == 0 {
            return None;
        }
        // SAFETY: HAS_EXPIRE records have the i64 at offset 4.
        Some(i64::from_le(unsafe {
            ptr::read_unaligned(self.0.as_ptr().add(4).cast::<i64>())
        }))
    }

    #[inline]
    pub fn has_expire(&self) -> bool {
        self.header() & HAS_EXPIRE != 0
    }

    /// Sets or clears the expire time. Changing whether there is one moves
    /// the record to a new allocation (the table slot is updated by the
    /// caller's `RefMut`).
    pub fn set_expire(&mut self, at: Option<i64>) {
        match (self.has_expire(), at) {
            (true, Some(at)) => {
                // SAFETY: the field exists; write in place.
                unsafe { ptr::write_unaligned(self.0.as_ptr().add(4).cast::<i64>(), at.to_le()) }
            }
            (false, None) => {}
            (had, _) => {
                let old_size = self.alloc_size();
                let new_size = if had { old_size - 8 } else { old_size + 8 };
                let Some(q) = NonNull::new(slab::alloc(new_size)) else {
                    unreachable!("slab::alloc never returns null")
                };
                let p = self.0.as_ptr();
                // SAFETY: copy the header, then the body after the (old) expire
                // field to after the (new) one; both sizes were computed from
                // the same body length.
                unsafe {
                    let body_from = if had { 12 } else { 4 };
                    let body_to = if had { 4 } else { 12 };
                    let body_len = old_size - body_from;
                    ptr::copy_nonoverlapping(p, q.as_ptr(), 4);
                    ptr::copy_nonoverlapping(p.add(body_from), q.as_ptr().add(body_to), body_len);
                    slab::dealloc(p, old_size);
                }
                self.0 = q;
                let h = self.header();
                match at {
                    Some(at) => {
                        self.set_header(h | HAS_EXPIRE);
                        // SAFETY: the new layout has the expire field.
                        unsafe { ptr::write_unaligned(q.as_ptr().add(4).cast::<i64>(), at.to_le()) }
                    }
                    None => self.set_header(h & !HAS_EXPIRE),
                }
            }
        }
    }

    #[inline]
    pub fn clock(&self) -> u32 {
        self.header() >> CLOCK_SHIFT
    }

    #[inline]
    pub fn set_clock(&mut self, clock: u32) {
        let h = self.header() & ((1 << CLOCK_SHIFT) - 1);
        self.set_header(h | (clock.min(CLOCK_MAX) << CLOCK_SHIFT));
    }

    /// Bytes of the record allocation as requested.
    fn alloc_size(&self) -> usize {
        match self.layout_kind() {
            Storage::Int => self.payload_off() + 8,
            Storage::Heap => self.payload_off() + self.stored_ptr_len(),
            Storage::Embstr | Storage::RawInline => {
                let (off, len) = self.inline_str_span();
                off + len
            }
        }
    }

    /// Bytes this key costs in the allocator: the record plus its heap value.
    pub fn memory_usage(&self) -> usize {
        self.memory_usage_sampled(super::value::MEMORY_SAMPLES)
    }

    /// [`Record::memory_usage`], estimating big collections from `samples`
    /// elements (0: all of them).
    pub fn memory_usage_sampled(&self, samples: usize) -> usize {
        let own = slab::alloc_size(self.alloc_size());
        match self.value() {
            ValueRef::Heap(v) => own + v.memory_usage_sampled(samples),
            _ => own,
        }
    }

    /// Valkey's lazyfree effort of dropping this key (see
    /// [`Value::free_effort`]).
    pub fn free_effort(&self) -> usize {
        match self.value() {
            ValueRef::Heap(v) => v.free_effort(),
            _ => 1,
        }
    }

    /// The heap value, the record itself freed (RENAME moves a big value
    /// into a record under the new key; commands that move whole values
    /// take it); the record back when its value is not on the heap.
    pub fn into_heap(self) -> Result<Box<Value>, Record> {
        if self.layout_kind() != Storage::Heap {
            return Err(self);
        }
        let me = std::mem::ManuallyDrop::new(self);
        let v = me.heap_ptr();
        // SAFETY: the record owns its heap value, which is handed out here
        // exactly once (the record is not dropped); the record's block was
        // allocated in build()/set_expire() with this exact size.
        unsafe {
            slab::dealloc(me.0.as_ptr(), me.alloc_size());
            Ok(Box::from_raw(v))
        }
    }
}

/// Bytes a record stores of the pointer to heap value `v`: 6 when the
/// address fits in 48 bits (always, in practice), else 8.
fn heap_ptr_len(v: &Value) -> usize {
    if (v as *const Value).addr() >> 48 == 0 {
        6
    } else {
        8
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if self.layout_kind() == Storage::Heap {
            // SAFETY: the record owns its heap value; dropped once here.
            drop(unsafe { Box::from_raw(self.heap_ptr()) });
        }
        // SAFETY: allocated in build()/set_expire() with this exact size.
        unsafe { slab::dealloc(self.0.as_ptr(), self.alloc_size()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_string_is_24_bytes_for_12_byte_key_and_8_byte_value() {
        let r = Record::new_string(b"key:00000001", b"abcdefgh", None, 5);
        assert_eq!(r.alloc_size(), 24);
        assert_eq!(r.memory_usage(), 24);
        assert_eq!(r.key(), b"key:00000001");
        assert!(matches!(r.value(), ValueRef::Str(b"abcdefgh")));
        assert_eq!(r.encoding_name(), "embstr");
        assert_eq!(r.obj_type(), ObjType::String);
        assert_eq!(r.clock(), 5);
        assert_eq!(r.expire(), None);
    }

    #[test]
    fn integers_are_int_encoded_like_valkey() {
        let r = Record::new_string(b"k", b"12345", None, 0);
        assert_eq!(r.encoding_name(), "int");
        assert!(matches!(r.value(), ValueRef::Int(12345)));
        let mut buf = [0u8; 24];
        assert_eq!(r.string_value(&mut buf).unwrap(), b"12345");
        // Not canonical: stays a string.
        for v in [&b"012"[..], b"+1", b" 1", b"1.0", b"123456789012345678901"] {
            let r = Record::new_string(b"k", v, None, 0);
            assert_ne!(r.encoding_name(), "int", "{:?}", v);
            assert_eq!(r.string_value(&mut buf).unwrap(), v);
        }
    }

    #[test]
    fn encodings_by_length() {
        let r = Record::new_string(b"some-longer-key-name", &[b'x'; 44], None, 0);
        assert_eq!(r.encoding_name(), "embstr");
        let r = Record::new_string(b"k", &[b'x'; 45], None, 0);
        assert_eq!(r.encoding_name(), "raw");
        let big = vec![b'y'; INLINE_MAX + 1];
        let r = Record::new_string(b"k", &big, Some(7), 0);
        assert_eq!(r.encoding_name(), "raw");
        let mut buf = [0u8; 24];
        assert_eq!(r.string_value(&mut buf).unwrap(), &big[..]);
        assert_eq!(r.expire(), Some(7));
        let r = Record::new_raw(b"k", b"1".to_vec(), None, 0);
        assert_eq!(r.encoding_name(), "raw");
    }

    #[test]
    fn expire_can_be_added_changed_and_removed() {
        for val in [&b"v"[..], b"123", &[b'z'; 100]] {
            let mut r = Record::new_string(b"key", val, None, 9);
            let before = r.alloc_size();
            r.set_expire(Some(1_700_000_000_000));
            assert_eq!(r.expire(), Some(1_700_000_000_000));
            assert_eq!(r.alloc_size(), before + 8);
            assert_eq!(r.key(), b"key");
            r.set_expire(Some(-5));
            assert_eq!(r.expire(), Some(-5));
            r.set_expire(None);
            assert_eq!(r.expire(), None);
            assert_eq!(r.key(), b"key");
            let mut buf = [0u8; 24];
            assert_eq!(r.string_value(&mut buf).unwrap(), val);
            assert_eq!(r.clock(), 9);
        }
    }

    #[test]
    fn long_keys_use_varint_lengths() {
        let key = vec![b'k'; 300];
        let r = Record::new_string(&key, b"v", Some(1), CLOCK_MAX + 5);
        assert_eq!(r.key(), &key[..]);
        assert_eq!(r.clock(), CLOCK_MAX);
        let mut buf = [0u8; 24];
        assert_eq!(r.string_value(&mut buf).unwrap(), b"v");
    }

    #[test]
    fn a_heap_value_pointer_takes_six_bytes() {
        let v = Box::new(Value::Hash(crate::keyspace::hash::Hash::new()));
        let addr = (&*v as *const Value).addr();
        let mut r = Record::build(b"hash:0000001", Payload::Heap(v), None, 7);
        // 4 header + 1 key length + 12 key + 6 pointer: mimalloc's 24-byte
        // bin, where an 8-byte pointer would take the 32-byte one.
        assert_eq!(r.alloc_size(), 23);
        assert_eq!(slab::alloc_size(r.alloc_size()), 24);
        assert_eq!(r.obj_type(), ObjType::Hash);
        assert!(matches!(r.value(), ValueRef::Heap(Value::Hash(_))));
        // Moving to a record with an expire keeps the pointer.
        r.set_expire(Some(99));
        assert_eq!(r.alloc_size(), 31);
        assert_eq!(r.heap_ptr().addr(), addr);
        assert_eq!(r.key(), b"hash:0000001");
        r.set_expire(None);
        let back = r.into_heap().ok().unwrap();
        assert_eq!((&*back as *const Value).addr(), addr);
        // A record with no heap value comes back whole.
        let s = Record::new_string(b"k", b"v", None, 0);
        assert_eq!(s.into_heap().err().unwrap().key(), b"k");
    }

    #[test]
    fn clock_updates_keep_everything_else() {
        let mut r = Record::new_string(b"abc", b"def", Some(3), 1);
        r.set_clock(CLOCK_MAX);
        assert_eq!(r.clock(), CLOCK_MAX);
        assert_eq!(r.key(), b"abc");
        assert_eq!(r.expire(), Some(3));
    }
}
