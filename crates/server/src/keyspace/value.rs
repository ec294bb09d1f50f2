//! Values that live outside the key record: strings that grew in place and,
//! as the collection types land, lists, sets, hashes, sorted sets, streams.

use super::record::ObjType;

pub enum Value {
    /// A raw string kept in its own buffer so appends are amortised O(1).
    Str(Vec<u8>),
}

impl Value {
    pub fn obj_type(&self) -> ObjType {
        match self {
            Value::Str(_) => ObjType::String,
        }
    }

    /// The bytes of a string value; None for collections.
    pub fn as_str(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s),
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "raw",
        }
    }

    /// Bytes held by the allocator for this value (the Box included).
    pub fn memory_usage(&self) -> usize {
        let boxed = crate::alloc::alloc_size(std::mem::size_of::<Value>());
        match self {
            Value::Str(v) => boxed + crate::alloc::alloc_size(v.capacity()),
        }
    }
}
