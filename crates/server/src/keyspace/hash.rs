//! The hash type. (Interface stub: the hashes work fills this in.)

use super::listpack::Listpack;
use std::borrow::Cow;

/// `hash-max-listpack-entries` and `hash-max-listpack-value`.
#[derive(Clone, Copy, Debug)]
pub struct HashConfig {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl HashConfig {
    pub fn from_config(c: &crate::config::Config) -> HashConfig {
        HashConfig {
            max_listpack_entries: c.hash_max_listpack_entries,
            max_listpack_value: c.hash_max_listpack_value,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Hash {
    lp: Listpack,
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.lp.len() / 2
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

    /// Field/value pairs in storage order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        let mut it = self.lp.iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            f(&k.to_bytes(), &v.to_bytes());
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<Cow<'_, [u8]>> {
        let p = self.lp.find(self.lp.first()?, field, 1)?;
        Some(self.lp.get(self.lp.next(p)?).to_bytes())
    }

    /// Sets a field; true if it is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], _cfg: &HashConfig) -> bool {
        if let Some(p) = self.lp.first().and_then(|f| self.lp.find(f, field, 1)) {
            if let Some(v) = self.lp.next(p) {
                self.lp.replace(v, value);
            }
            return false;
        }
        self.lp.push_back(field);
        self.lp.push_back(value);
        true
    }
}
