//! The stream type. (Interface stub: the streams work fills this in.)

#[derive(Clone, Debug, Default)]
pub struct Stream {
    len: usize,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// A stream is never "empty" in the sense of being deleted: Valkey keeps
    /// empty streams (XDEL/XTRIM to zero leave the key).
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    pub fn memory_usage(&self, _samples: usize) -> usize {
        0
    }

    pub fn free_effort(&self) -> usize {
        1
    }

    /// Entries in ID order: (ms, seq, field/value pairs), for DEBUG DIGEST.
    pub fn for_each(&self, _f: impl FnMut(u64, u64, &[(&[u8], &[u8])])) {}
}
