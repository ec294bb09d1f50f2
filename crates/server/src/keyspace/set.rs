//! The set type. (Interface stub: the sets work fills this in.)

use super::listpack::Listpack;

/// `set-max-intset-entries`, `set-max-listpack-entries/-value`.
#[derive(Clone, Copy, Debug)]
pub struct SetConfig {
    pub max_intset_entries: usize,
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl SetConfig {
    pub fn from_config(c: &crate::config::Config) -> SetConfig {
        SetConfig {
            max_intset_entries: c.set_max_intset_entries,
            max_listpack_entries: c.set_max_listpack_entries,
            max_listpack_value: c.set_max_listpack_value,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Set {
    lp: Listpack,
}

impl Set {
    pub fn new() -> Set {
        Set::default()
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

    pub fn memory_usage(&self, _samples: usize) -> usize {
        self.lp.memory_usage()
    }

    pub fn free_effort(&self) -> usize {
        1
    }

    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for it in self.lp.iter() {
            f(&it.to_bytes());
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.lp
            .first()
            .and_then(|p| self.lp.find(p, m, 0))
            .is_some()
    }

    /// Adds a member; true if it is new.
    pub fn add(&mut self, m: &[u8], _cfg: &SetConfig) -> bool {
        if self.contains(m) {
            return false;
        }
        self.lp.push_back(m);
        true
    }
}
