//! Values that live outside the key record: strings that grew in place and
//! the collections. Each collection type lives in its own module and offers
//! the same small interface used here and by the generic commands (COPY,
//! DEBUG DIGEST, SORT, MEMORY USAGE, lazy free): `len`, `encoding_name`,
//! `memory_usage(samples)`, `free_effort`, `for_each`, `Clone`.

use super::hash::Hash;
use super::list::List;
use super::record::ObjType;
use super::set::Set;
use super::stream::Stream;
use super::thinbuf::StrBuf;
use super::zset::ZSet;

/// A heap value: 16 bytes, mimalloc's 16-byte bin in its `Box`, the size of
/// Valkey's object header. Every payload is one pointer (the collections'
/// encodings are tagged in it, see `thinbuf`); a string's length sits in
/// bytes that would otherwise be padding.
#[derive(Clone)]
pub enum Value {
    /// A raw string kept in its own buffer so appends are amortised O(1).
    Str(StrBuf),
    List(List),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    /// Boxed: a stream's header is big and every other value would pay
    /// for it in the enum's size.
    Stream(Box<Stream>),
}

/// Valkey's default number of elements MEMORY USAGE samples.
pub const MEMORY_SAMPLES: usize = 5;

impl Value {
    /// The table holding a big hash's fields or a big set's or sorted
    /// set's members, the one a member lookup will read.
    pub fn member_table(&self) -> Option<&ferrokey_table::Table<super::member::Member>> {
        match self {
            Value::Hash(h) => h.member_table(),
            Value::Set(s) => s.member_table(),
            Value::ZSet(z) => z.member_table(),
            _ => None,
        }
    }

    pub fn obj_type(&self) -> ObjType {
        match self {
            Value::Str(_) => ObjType::String,
            Value::List(_) => ObjType::List,
            Value::Hash(_) => ObjType::Hash,
            Value::Set(_) => ObjType::Set,
            Value::ZSet(_) => ObjType::ZSet,
            Value::Stream(_) => ObjType::Stream,
        }
    }

    /// The bytes of a string value; None for collections.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "raw",
            Value::List(l) => l.encoding_name(),
            Value::Hash(h) => h.encoding_name(),
            Value::Set(s) => s.encoding_name(),
            Value::ZSet(z) => z.encoding_name(),
            Value::Stream(x) => x.encoding_name(),
        }
    }

    /// Bytes held by the allocator for this value (the Box included),
    /// estimated from `samples` elements of big collections (0: exact).
    pub fn memory_usage_sampled(&self, samples: usize) -> usize {
        let boxed = crate::alloc::alloc_size(std::mem::size_of::<Value>());
        boxed
            + match self {
                Value::Str(v) => v.memory_usage(),
                Value::List(l) => l.memory_usage(samples),
                Value::Hash(h) => h.memory_usage(samples),
                Value::Set(s) => s.memory_usage(samples),
                Value::ZSet(z) => z.memory_usage(samples),
                Value::Stream(x) => x.memory_usage(samples),
            }
    }

    /// Bytes held by the allocator for this value, with Valkey's default
    /// sampling for big collections.
    pub fn memory_usage(&self) -> usize {
        self.memory_usage_sampled(MEMORY_SAMPLES)
    }

    /// Roughly how many allocations dropping this value frees: Valkey's
    /// `lazyfreeGetFreeEffort`, which decides whether a delete is handed to
    /// the background thread.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::List(l) => l.free_effort(),
            Value::Hash(h) => h.free_effort(),
            Value::Set(s) => s.free_effort(),
            Value::ZSet(z) => z.free_effort(),
            Value::Stream(x) => x.free_effort(),
        }
    }

    /// Number of elements (string length for strings).
    pub fn len(&self) -> usize {
        match self {
            Value::Str(s) => s.len(),
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            Value::Stream(x) => x.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A collection type that can be read or written through
/// `commands::typed` (one impl per type).
pub trait Typed: Sized {
    const TYPE: ObjType;
    fn of(v: &Value) -> Option<&Self>;
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
    fn into_value(self) -> Value;
    fn from_value(v: Value) -> Option<Self>;
    fn is_empty(&self) -> bool;
}

/// One `Typed` impl per collection type: `$wrap` puts the value into its
/// variant (boxed or not), `$unwrap` takes it back out.
macro_rules! typed {
    ($t:ident, $ty:ident, $wrap:expr, $unwrap:expr) => {
        impl Typed for $t {
            const TYPE: ObjType = ObjType::$ty;
            #[inline]
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$ty(x) => Some(x),
                    _ => None,
                }
            }
            #[inline]
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$ty(x) => Some(x),
                    _ => None,
                }
            }
            #[inline]
            fn into_value(self) -> Value {
                Value::$ty($wrap(self))
            }
            #[inline]
            fn from_value(v: Value) -> Option<Self> {
                match v {
                    Value::$ty(x) => Some($unwrap(x)),
                    _ => None,
                }
            }
            #[inline]
            fn is_empty(&self) -> bool {
                $t::is_empty(self)
            }
        }
    };
}

typed!(List, List, |x| x, |x| x);
typed!(Hash, Hash, |x| x, |x| x);
typed!(Set, Set, |x| x, |x| x);
typed!(ZSet, ZSet, |x| x, |x| x);
typed!(Stream, Stream, Box::new, |x: Box<Stream>| *x);

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_is_16_bytes_like_valkeys_object_header() {
        // Every collection key and grown string pays for one Box<Value>:
        // 16 bytes is mimalloc's 16-byte bin.
        assert_eq!(std::mem::size_of::<super::Value>(), 16);
        assert_eq!(
            crate::alloc::alloc_size(std::mem::size_of::<super::Value>()),
            16
        );
    }
}
