//! The sorted set type. (Interface stub: the sorted sets work fills this in.)

use super::listpack::Listpack;

/// `zset-max-listpack-entries/-value`.
#[derive(Clone, Copy, Debug)]
pub struct ZSetConfig {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl ZSetConfig {
    pub fn from_config(c: &crate::config::Config) -> ZSetConfig {
        ZSetConfig {
            max_listpack_entries: c.zset_max_listpack_entries,
            max_listpack_value: c.zset_max_listpack_value,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ZSet {
    lp: Listpack,
}

impl ZSet {
    pub fn new() -> ZSet {
        ZSet::default()
    }

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

    /// Members with their scores, lowest rank first.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        let mut it = self.lp.iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            let score = std::str::from_utf8(&s.to_bytes())
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0.0);
            f(&m.to_bytes(), score);
        }
    }

    /// Removes and returns the member with the lowest score (`min`) or the
    /// highest.
    pub fn pop(&mut self, min: bool) -> Option<(Vec<u8>, f64)> {
        let mut all = Vec::new();
        self.for_each(|m, s| all.push((m.to_vec(), s)));
        let out = if min { all.first()? } else { all.last()? }.clone();
        let p = if min {
            self.lp.first()?
        } else {
            self.lp.seek(-2)?
        };
        self.lp.delete_range(p, 2);
        Some(out)
    }
}
