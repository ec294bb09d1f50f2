//! The list type. (Interface stub: the lists work fills this in.)

use super::listpack::Listpack;

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// `list-max-listpack-size` and `list-compress-depth`.
#[derive(Clone, Copy, Debug)]
pub struct ListConfig {
    pub fill: i32,
    pub compress_depth: u32,
}

impl ListConfig {
    pub fn from_config(c: &crate::config::Config) -> ListConfig {
        ListConfig {
            fill: c.list_max_listpack_size,
            compress_depth: c.list_compress_depth,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct List {
    lp: Listpack,
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        self.lp.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lp.is_empty()
    }

    pub fn encoding_name(&self) -> &'static str {
        "listpack"
    }

    /// Bytes held in the allocator; estimated from `samples` chunks when
    /// non-zero (MEMORY USAGE SAMPLES), exact when 0.
    pub fn memory_usage(&self, _samples: usize) -> usize {
        self.lp.memory_usage()
    }

    /// Valkey's lazyfree effort: how many allocations dropping this frees.
    pub fn free_effort(&self) -> usize {
        1
    }

    /// Elements head to tail.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for it in self.lp.iter() {
            f(&it.to_bytes());
        }
    }

    pub fn push(&mut self, end: End, v: &[u8], _cfg: &ListConfig) {
        match end {
            End::Head => self.lp.push_front(v),
            End::Tail => self.lp.push_back(v),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let p = match end {
            End::Head => self.lp.first()?,
            End::Tail => self.lp.last()?,
        };
        let v = self.lp.get(p).to_vec();
        self.lp.delete(p);
        Some(v)
    }
}
