//! The hash type.
//!
//! Two encodings, as in Valkey (`OBJECT ENCODING` reports the same names):
//!
//! * `listpack`: small hashes are one [`Listpack`] buffer of alternating
//!   field, value, field, value … entries. Lookups walk it, which is cheaper
//!   than hashing for a few dozen entries and costs no per-field overhead.
//! * `hashtable`: a [`Table`] of [`Member`]s, each one allocation holding the
//!   field (the key) and the value (the tail). There is no entry node and no
//!   separate value string: a 12-byte field with an 8-byte value is a single
//!   24-byte block plus its share of the bucket array.
//!
//! A hash starts as a listpack and becomes a table once it holds more than
//! `hash-max-listpack-entries` fields or a field or value longer than
//! `hash-max-listpack-value` bytes is stored. It never converts back (Valkey
//! does not either), so the encoding a client sees only depends on the
//! history of the key, exactly as in Valkey.

use super::listpack::{LpItem, Listpack};
use super::member::Member;
use ferrokey_table::{EntryRef, Table};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// The largest listpack Valkey lets a hash grow to before converting it
/// regardless of the configured limits (`LISTPACK_MAX_SAFETY_SIZE`).
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// HRANDFIELD's "copy everything, then drop random elements" strategy is
/// used when the hash is at most this many times larger than the request
/// (Valkey's `HRANDFIELD_SUB_STRATEGY_MUL`).
const SUB_STRATEGY_MUL: usize = 3;

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

/// A hash value. The large encoding is boxed so that the common small hash
/// costs one pointer-sized word beyond its listpack buffer.
#[derive(Default)]
pub struct Hash {
    enc: Enc,
}

enum Enc {
    Listpack(Listpack),
    Table(Box<Table<Member>>),
}

impl Default for Enc {
    fn default() -> Enc {
        Enc::Listpack(Listpack::new())
    }
}

impl Clone for Hash {
    fn clone(&self) -> Hash {
        let enc = match &self.enc {
            Enc::Listpack(lp) => Enc::Listpack(lp.clone()),
            Enc::Table(t) => {
                // Valkey's hashTypeDup keeps the encoding: a copy of a big
                // hash is a big hash.
                let mut copy = Table::new();
                copy.reserve(t.len());
                for m in t.iter() {
                    copy.insert((*m).clone());
                }
                Enc::Table(Box::new(copy))
            }
        };
        Hash { enc }
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        self.for_each_item(|k, v| {
            m.entry(&k, &v);
        });
        m.finish()
    }
}

/// Which positions of the listpack hold the fields (every other entry).
fn field_positions(lp: &Listpack) -> Vec<usize> {
    let mut out = Vec::with_capacity(lp.len() / 2);
    let mut p = lp.first();
    while let Some(f) = p {
        out.push(f);
        p = lp.next(f).and_then(|v| lp.next(v));
    }
    out
}

/// A uniformly random index below `n` (`n > 0`).
fn below(rng: &mut dyn FnMut() -> u64, n: usize) -> usize {
    // 64 random bits reduced by multiplication: no modulo bias worth the name
    // for any n a hash can have.
    ((u128::from(rng()) * n as u128) >> 64) as usize
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.enc {
            Enc::Listpack(lp) => lp.len() / 2,
            Enc::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match &self.enc {
            Enc::Listpack(lp) => lp.is_empty(),
            Enc::Table(t) => t.is_empty(),
        }
    }

    /// Valkey's name of the encoding (`OBJECT ENCODING`).
    pub fn encoding_name(&self) -> &'static str {
        match &self.enc {
            Enc::Listpack(_) => "listpack",
            Enc::Table(_) => "hashtable",
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.enc, Enc::Listpack(_))
    }

    /// The listpack of a small hash (what RDB and DUMP serialize as is).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match &self.enc {
            Enc::Listpack(lp) => Some(lp),
            Enc::Table(_) => None,
        }
    }

    /// Adopts a field/value listpack (from RDB or RESTORE). None if it has an
    /// odd number of entries or a field twice (Valkey rejects such payloads).
    /// Converted to the table encoding at once when it exceeds the limits,
    /// as Valkey's loader does.
    pub fn from_listpack(lp: Listpack, cfg: &HashConfig) -> Option<Hash> {
        if lp.len() % 2 != 0 {
            return None;
        }
        let mut seen = HashSet::with_capacity(lp.len() / 2);
        let mut too_long = false;
        let mut it = lp.iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            too_long |= f.str_len() > cfg.max_listpack_value
                || v.str_len() > cfg.max_listpack_value;
            if !seen.insert(f.to_vec()) {
                return None;
            }
        }
        let mut h = Hash {
            enc: Enc::Listpack(lp),
        };
        if too_long || h.len() > cfg.max_listpack_entries {
            h.convert();
        }
        Some(h)
    }

    /// Bytes held in the allocator. For the table encoding, `samples > 0`
    /// estimates the fields' share from that many of them, like Valkey's
    /// `objectComputeSize` (O(samples)); 0 counts every field exactly.
    pub fn memory_usage(&self, samples: usize) -> usize {
        match &self.enc {
            Enc::Listpack(lp) => lp.memory_usage(),
            Enc::Table(t) => {
                let fixed = crate::alloc::alloc_size(std::mem::size_of::<Table<Member>>())
                    + t.bucket_bytes();
                if samples == 0 {
                    return fixed + t.iter().map(|m| m.memory_usage()).sum::<usize>();
                }
                let (mut n, mut bytes) = (0usize, 0usize);
                for m in t.iter().take(samples) {
                    n += 1;
                    bytes += m.memory_usage();
                }
                if n == 0 {
                    return fixed;
                }
                fixed + (bytes as f64 / n as f64 * t.len() as f64) as usize
            }
        }
    }

    /// Allocations a drop frees (decides whether a delete is lazy).
    pub fn free_effort(&self) -> usize {
        match &self.enc {
            Enc::Listpack(_) => 1,
            Enc::Table(t) => t.len(),
        }
    }

    /// Field/value pairs in storage order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        self.for_each_item(|k, v| f(&k.to_bytes(), &v.to_bytes()));
    }

    /// Field/value pairs in storage order, as stored: listpack entries that
    /// are integers come as [`LpItem::Int`] (no formatting needed to reply).
    pub fn for_each_item(&self, mut f: impl FnMut(LpItem<'_>, LpItem<'_>)) {
        match &self.enc {
            Enc::Listpack(lp) => {
                let mut it = lp.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    f(k, v);
                }
            }
            Enc::Table(t) => {
                for m in t.iter() {
                    f(LpItem::Str(m.key()), LpItem::Str(m.tail()));
                }
            }
        }
    }

    /// Calls `f` with the value of `field` as stored (no copy; listpack
    /// integers come as [`LpItem::Int`]), or None when it is absent. A
    /// callback because a table entry is only borrowed for the call.
    pub fn with_item<R>(&self, field: &[u8], f: impl FnOnce(Option<LpItem<'_>>) -> R) -> R {
        match &self.enc {
            Enc::Listpack(lp) => {
                let item = lp
                    .first()
                    .and_then(|p| lp.find(p, field, 1))
                    .and_then(|p| lp.next(p))
                    .map(|v| lp.get(v));
                f(item)
            }
            Enc::Table(t) => match t.get(field) {
                Some(m) => f(Some(LpItem::Str(m.tail()))),
                None => f(None),
            },
        }
    }

    /// The value of `field`, as bytes.
    pub fn get(&self, field: &[u8]) -> Option<Cow<'_, [u8]>> {
        match &self.enc {
            Enc::Listpack(lp) => {
                let p = lp.find(lp.first()?, field, 1)?;
                Some(lp.get(lp.next(p)?).to_bytes())
            }
            Enc::Table(t) => t.get(field).map(|m| Cow::Owned(m.tail().to_vec())),
        }
    }

    /// Length of the value of `field` as a string (HSTRLEN), 0 if absent.
    pub fn value_len(&self, field: &[u8]) -> usize {
        self.with_item(field, |v| v.map_or(0, LpItem::str_len))
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match &self.enc {
            Enc::Listpack(lp) => lp.first().and_then(|p| lp.find(p, field, 1)).is_some(),
            Enc::Table(t) => t.contains_key(field),
        }
    }
}
