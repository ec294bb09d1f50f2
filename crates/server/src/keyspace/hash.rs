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
//!
//! # Field expiration (Redis 7.4 `HEXPIRE` and friends)
//!
//! Per-field TTLs live in a side structure, [`FieldTtls`], that only exists
//! once a hash was given field TTL metadata: a hash that never had any pays
//! nothing, not even one byte per field, and its code paths only gain a
//! discriminant check. The side structure maps field -> unix ms (O(1)
//! lookups) and keeps the (time, field) pairs ordered, so the earliest
//! expiry is O(1) to read and each expired field O(log n) to remove.
//!
//! A small hash with that metadata reports `listpackex`, as Redis 7.4 does
//! (it keeps the name even when every TTL was removed again); a big one
//! stays `hashtable`. This type stores TTLs but never looks at the clock:
//! expired fields stay visible here until [`Hash::expire_fields`] removes
//! them, which the command layer does before any hash command reads the
//! hash (lazy expiry) and the cron does in the background (active expiry).

use super::listpack::{Listpack, LpItem};
use super::member::Member;
use super::thinbuf::{one_word, LpHeader};
use ferrokey_table::{EntryRef, Table};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
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

/// A hash value: one tagged pointer (see `thinbuf`), so the common small
/// hash costs its listpack and nothing more.
#[derive(Default)]
pub struct Hash {
    enc: Enc,
}

one_word! {
    /// The encoding, in one word (see `thinbuf`): `listpack`, `hashtable`;
    /// a small hash that has (or had) field TTLs is `ListpackEx`, Redis
    /// 7.4's `listpackex`, boxed with its TTLs; a big hash with field TTLs
    /// is `TableEx` (still reported as `hashtable`).
    struct Enc / EncOwn / EncRef / EncMut {
        thin Listpack(LpHeader),
        boxed Table(Table<Member>) = 2,
        boxed ListpackEx(LpEx) = 3,
        boxed TableEx(TableEx) = 4,
    }
}

struct LpEx {
    lp: Listpack,
    ttl: FieldTtls,
}

struct TableEx {
    t: Table<Member>,
    ttl: FieldTtls,
}

impl Default for Enc {
    fn default() -> Enc {
        Enc::new(EncOwn::Listpack(Listpack::new()))
    }
}

/// Field expire times of one hash: the side structure allocated with the
/// first TTL. `at` answers "when does this field expire" in O(1); `order`
/// gives the earliest expiry and lets expired fields be taken in time
/// order. Every field with a TTL is in both, and only fields of the hash.
#[derive(Clone, Default)]
struct FieldTtls {
    at: HashMap<Box<[u8]>, i64, foldhash::fast::RandomState>,
    order: BTreeSet<(i64, Box<[u8]>)>,
}

impl FieldTtls {
    fn len(&self) -> usize {
        self.at.len()
    }

    fn get(&self, field: &[u8]) -> Option<i64> {
        self.at.get(field).copied()
    }

    fn set(&mut self, field: &[u8], at: i64) {
        match self.at.get_mut(field) {
            Some(old) => {
                // The ordered set is keyed by (time, field): the old pair
                // goes, the new one comes, with one copy of the name.
                let mut k = (*old, Box::<[u8]>::from(field));
                self.order.remove(&k);
                *old = at;
                k.0 = at;
                self.order.insert(k);
            }
            None => {
                let name = Box::<[u8]>::from(field);
                self.at.insert(name.clone(), at);
                self.order.insert((at, name));
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> Option<i64> {
        let (name, at) = self.at.remove_entry(field)?;
        self.order.remove(&(at, name));
        Some(at)
    }

    fn min(&self) -> Option<i64> {
        self.order.first().map(|e| e.0)
    }

    /// Takes the earliest field if it expires before `now_ms`.
    fn pop_expired(&mut self, now_ms: i64) -> Option<Box<[u8]>> {
        if self.min()? >= now_ms {
            return None;
        }
        let (_, name) = self.order.pop_first()?;
        self.at.remove(&name);
        Some(name)
    }

    /// Bytes held in the allocator: two copies of each name, the map's
    /// slots and the tree's entries (about 2/3 full nodes).
    fn memory_usage(&self) -> usize {
        let names: usize = self
            .at
            .keys()
            .map(|k| crate::alloc::alloc_size(k.len().max(1)))
            .sum();
        let slot = std::mem::size_of::<(Box<[u8]>, i64)>() + 1;
        let entry = std::mem::size_of::<(i64, Box<[u8]>)>();
        2 * names + self.at.capacity() * slot + self.order.len() * entry * 3 / 2
    }
}

/// Read access to the field/value storage, whatever the encoding.
enum Store<'a> {
    Lp(&'a Listpack),
    Table(&'a Table<Member>),
}

/// Write access to the field/value storage, whatever the encoding.
enum StoreMut<'a> {
    Lp(&'a mut Listpack),
    Table(&'a mut Table<Member>),
}

impl Clone for Hash {
    fn clone(&self) -> Hash {
        // Valkey's hashTypeDup keeps the encoding: a copy of a big hash is
        // a big hash. Field TTLs go with the copy (COPY, RESTORE of DUMP).
        fn copy_table(t: &Table<Member>) -> Table<Member> {
            let mut copy = Table::new();
            copy.reserve(t.len());
            for m in t.iter() {
                copy.insert((*m).clone());
            }
            copy
        }
        let enc = match self.enc.get() {
            EncRef::Listpack(lp) => Enc::new(EncOwn::Listpack(lp.clone())),
            EncRef::Table(t) => Enc::new(EncOwn::Table(Box::new(copy_table(t)))),
            EncRef::ListpackEx(x) => Enc::new(EncOwn::ListpackEx(Box::new(LpEx {
                lp: x.lp.clone(),
                ttl: x.ttl.clone(),
            }))),
            EncRef::TableEx(x) => Enc::new(EncOwn::TableEx(Box::new(TableEx {
                t: copy_table(&x.t),
                ttl: x.ttl.clone(),
            }))),
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

/// A table holding the pairs of a listpack.
fn table_from(lp: &Listpack) -> Table<Member> {
    let mut t = Table::new();
    t.reserve(lp.len() / 2);
    let mut it = lp.iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        t.insert(Member::new(&k.to_bytes(), &v.to_bytes()));
    }
    t
}

impl Hash {
    pub fn new() -> Hash {
        Hash::default()
    }

    /// The field table of the `hashtable` encoding (for prefetching).
    pub fn member_table(&self) -> Option<&Table<Member>> {
        match self.store() {
            Store::Table(t) => Some(t),
            Store::Lp(_) => None,
        }
    }

    #[inline]
    fn store(&self) -> Store<'_> {
        match self.enc.get() {
            EncRef::Listpack(lp) => Store::Lp(lp),
            EncRef::Table(t) => Store::Table(t),
            EncRef::ListpackEx(x) => Store::Lp(&x.lp),
            EncRef::TableEx(x) => Store::Table(&x.t),
        }
    }

    /// The storage and, when the hash has TTL metadata, its TTLs.
    #[inline]
    fn parts_mut(&mut self) -> (StoreMut<'_>, Option<&mut FieldTtls>) {
        match self.enc.get_mut() {
            EncMut::Listpack(lp) => (StoreMut::Lp(lp), None),
            EncMut::Table(t) => (StoreMut::Table(t), None),
            EncMut::ListpackEx(x) => (StoreMut::Lp(&mut x.lp), Some(&mut x.ttl)),
            EncMut::TableEx(x) => (StoreMut::Table(&mut x.t), Some(&mut x.ttl)),
        }
    }

    #[inline]
    fn ttls(&self) -> Option<&FieldTtls> {
        match self.enc.get() {
            EncRef::Listpack(_) | EncRef::Table(_) => None,
            EncRef::ListpackEx(x) => Some(&x.ttl),
            EncRef::TableEx(x) => Some(&x.ttl),
        }
    }

    /// Number of fields (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        match self.store() {
            Store::Lp(lp) => lp.len() / 2,
            Store::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self.store() {
            Store::Lp(lp) => lp.is_empty(),
            Store::Table(t) => t.is_empty(),
        }
    }

    /// Valkey's name of the encoding (`OBJECT ENCODING`); `listpackex` for a
    /// small hash with field TTL metadata, as Redis 7.4.
    pub fn encoding_name(&self) -> &'static str {
        match self.enc.get() {
            EncRef::Listpack(_) => "listpack",
            EncRef::ListpackEx(_) => "listpackex",
            EncRef::Table(_) | EncRef::TableEx(_) => "hashtable",
        }
    }

    /// Whether the pairs are stored in one listpack (`listpack` and
    /// `listpackex` alike).
    pub fn is_listpack(&self) -> bool {
        matches!(self.store(), Store::Lp(_))
    }

    /// The field/value listpack of a small hash (what RDB and DUMP serialize
    /// as is). Also given for `listpackex`: check [`Hash::has_field_expires`]
    /// first, the TTLs are not in it.
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match self.store() {
            Store::Lp(lp) => Some(lp),
            Store::Table(_) => None,
        }
    }

    /// Adopts a field/value listpack (from RDB or RESTORE). None if it has an
    /// odd number of entries or a field twice (Valkey rejects such payloads).
    /// Converted to the table encoding at once when it exceeds the limits,
    /// as Valkey's loader does.
    pub fn from_listpack(lp: Listpack, cfg: &HashConfig) -> Option<Hash> {
        if !lp.len().is_multiple_of(2) {
            return None;
        }
        let mut seen = HashSet::with_capacity(lp.len() / 2);
        let mut too_long = false;
        let mut it = lp.iter();
        while let (Some(f), Some(v)) = (it.next(), it.next()) {
            too_long |=
                f.str_len() > cfg.max_listpack_value || v.str_len() > cfg.max_listpack_value;
            if !seen.insert(f.to_vec()) {
                return None;
            }
        }
        let mut h = Hash {
            enc: Enc::new(EncOwn::Listpack(lp)),
        };
        if too_long || h.len() > cfg.max_listpack_entries {
            h.convert();
        }
        Some(h)
    }

    /// Bytes held in the allocator. For the table encoding, `samples > 0`
    /// estimates the fields' share from that many of them, like Valkey's
    /// `objectComputeSize` (O(samples)); 0 counts every field exactly.
    /// Field TTLs are always counted exactly.
    pub fn memory_usage(&self, samples: usize) -> usize {
        use crate::alloc::alloc_size;
        use std::mem::size_of;
        let boxed = match self.enc.get() {
            EncRef::Listpack(_) => 0,
            EncRef::Table(_) => alloc_size(size_of::<Table<Member>>()),
            EncRef::ListpackEx(_) => alloc_size(size_of::<LpEx>()),
            EncRef::TableEx(_) => alloc_size(size_of::<TableEx>()),
        };
        let ttl = self.ttls().map_or(0, FieldTtls::memory_usage);
        boxed
            + ttl
            + match self.store() {
                Store::Lp(lp) => lp.memory_usage(),
                Store::Table(t) => {
                    let members = if samples == 0 {
                        t.iter().map(|m| m.memory_usage()).sum::<usize>()
                    } else {
                        let (mut n, mut bytes) = (0usize, 0usize);
                        for m in t.iter().take(samples) {
                            n += 1;
                            bytes += m.memory_usage();
                        }
                        if n == 0 {
                            0
                        } else {
                            (bytes as f64 / n as f64 * t.len() as f64) as usize
                        }
                    };
                    t.bucket_bytes() + members
                }
            }
    }

    /// Allocations a drop frees (decides whether a delete is lazy).
    pub fn free_effort(&self) -> usize {
        let ttl = self.ttls().map_or(0, |x| 2 * x.len());
        ttl + match self.store() {
            Store::Lp(_) => 1,
            Store::Table(t) => t.len(),
        }
    }

    /// Field/value pairs in storage order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        self.for_each_item(|k, v| f(&k.to_bytes(), &v.to_bytes()));
    }

    /// Field/value pairs in storage order, as stored: listpack entries that
    /// are integers come as [`LpItem::Int`] (no formatting needed to reply).
    pub fn for_each_item(&self, mut f: impl FnMut(LpItem<'_>, LpItem<'_>)) {
        match self.store() {
            Store::Lp(lp) => {
                let mut it = lp.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    f(k, v);
                }
            }
            Store::Table(t) => {
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
        match self.store() {
            Store::Lp(lp) => {
                let item = lp
                    .first()
                    .and_then(|p| lp.find(p, field, 1))
                    .and_then(|p| lp.next(p))
                    .map(|v| lp.get(v));
                f(item)
            }
            Store::Table(t) => match t.get(field) {
                Some(m) => f(Some(LpItem::Str(m.tail()))),
                None => f(None),
            },
        }
    }

    /// The value of `field`, as bytes.
    pub fn get(&self, field: &[u8]) -> Option<Cow<'_, [u8]>> {
        match self.store() {
            Store::Lp(lp) => {
                let p = lp.find(lp.first()?, field, 1)?;
                Some(lp.get(lp.next(p)?).to_bytes())
            }
            Store::Table(t) => t.get(field).map(|m| Cow::Owned(m.tail().to_vec())),
        }
    }

    /// The value of `field` unless its TTL is before `now_ms`: for readers
    /// outside the hash commands (SORT BY/GET) that must not see an expired
    /// field which was not removed yet.
    pub fn get_live(&self, field: &[u8], now_ms: i64) -> Option<Cow<'_, [u8]>> {
        if self.field_expire(field).is_some_and(|at| at < now_ms) {
            return None;
        }
        self.get(field)
    }

    /// Length of the value of `field` as a string (HSTRLEN), 0 if absent.
    pub fn value_len(&self, field: &[u8]) -> usize {
        self.with_item(field, |v| v.map_or(0, LpItem::str_len))
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        match self.store() {
            Store::Lp(lp) => lp.first().and_then(|p| lp.find(p, field, 1)).is_some(),
            Store::Table(t) => t.contains_key(field),
        }
    }

    // ---- changes -----------------------------------------------------------

    /// Moves a listpack hash into a table (no-op for a table). TTLs move
    /// along untouched: they are keyed by field name, not by position.
    fn convert(&mut self) {
        match self.enc.get_mut() {
            EncMut::Listpack(lp) => {
                let t = table_from(lp);
                self.enc = Enc::new(EncOwn::Table(Box::new(t)));
            }
            EncMut::ListpackEx(x) => {
                let t = table_from(&x.lp);
                let ttl = std::mem::take(&mut x.ttl);
                self.enc = Enc::new(EncOwn::TableEx(Box::new(TableEx { t, ttl })));
            }
            EncMut::Table(_) | EncMut::TableEx(_) => {}
        }
    }

    /// Converts to the table encoding ahead of a write of `pairs` field/value
    /// pairs whose lengths `lens` yields (fields and values alike), when they
    /// could not all stay in a listpack: Valkey's `hashTypeTryConversion`.
    /// More pairs than the entry limit convert (and size the table for them)
    /// even if some fields already exist or repeat, as in Valkey.
    pub fn prepare_insert(
        &mut self,
        pairs: usize,
        lens: impl IntoIterator<Item = usize>,
        cfg: &HashConfig,
    ) {
        let Store::Lp(lp) = self.store() else { return };
        let byte_len = lp.byte_len();
        if pairs > cfg.max_listpack_entries {
            self.convert();
            if let (StoreMut::Table(t), _) = self.parts_mut() {
                t.reserve(pairs);
            }
            return;
        }
        let mut sum = 0usize;
        for len in lens {
            if len > cfg.max_listpack_value {
                self.convert();
                return;
            }
            sum = sum.saturating_add(len);
        }
        if byte_len.saturating_add(sum) > LISTPACK_MAX_SAFETY_SIZE {
            self.convert();
        }
    }

    /// Sets a field; true if it is new. A field or value longer than the
    /// listpack value limit, or one field too many, converts the hash to a
    /// table (Valkey's `hashTypeSet`). An existing field loses its TTL, as
    /// with Redis 7.4's HSET; see [`Hash::set_keep_ttl`].
    pub fn set(&mut self, field: &[u8], value: &[u8], cfg: &HashConfig) -> bool {
        let new = self.set_keep_ttl(field, value, cfg);
        if !new {
            if let (_, Some(ttl)) = self.parts_mut() {
                ttl.remove(field);
            }
        }
        new
    }

    /// [`Hash::set`] that leaves the TTL of an existing field as it is
    /// (HINCRBY, HINCRBYFLOAT: Redis's `HASH_SET_KEEP_TTL`).
    pub fn set_keep_ttl(&mut self, field: &[u8], value: &[u8], cfg: &HashConfig) -> bool {
        if self.is_listpack()
            && (field.len() > cfg.max_listpack_value || value.len() > cfg.max_listpack_value)
        {
            self.convert();
        }
        match self.parts_mut().0 {
            StoreMut::Lp(lp) => {
                let found = lp
                    .first()
                    .and_then(|p| lp.find(p, field, 1))
                    .and_then(|p| lp.next(p));
                if let Some(v) = found {
                    lp.replace(v, value);
                    return false;
                }
                lp.push_back(field);
                lp.push_back(value);
                if lp.len() / 2 > cfg.max_listpack_entries {
                    self.convert();
                }
                true
            }
            StoreMut::Table(t) => match t.entry(field) {
                EntryRef::Occupied(mut o) => {
                    let mut m = o.get_mut();
                    if m.tail().len() == value.len() {
                        // Same size: overwrite in place, no allocation.
                        m.tail_mut().copy_from_slice(value);
                    } else {
                        // The table takes the new pointer back when the
                        // view drops; the old member is freed here.
                        *m = Member::new(field, value);
                    }
                    false
                }
                EntryRef::Vacant(v) => {
                    v.insert(Member::new(field, value));
                    true
                }
            },
        }
    }

    /// Deletes a field (and its TTL); true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        let (store, ttl) = self.parts_mut();
        let found = match store {
            StoreMut::Lp(lp) => match lp.first().and_then(|p| lp.find(p, field, 1)) {
                Some(p) => {
                    lp.delete_range(p, 2);
                    true
                }
                None => false,
            },
            StoreMut::Table(t) => t.remove(field).is_some(),
        };
        if found {
            if let Some(ttl) = ttl {
                ttl.remove(field);
            }
        }
        found
    }

    // ---- field TTLs --------------------------------------------------------

    /// Gives the hash its TTL side structure (empty) if it has none, so a
    /// small hash reports `listpackex` from now on: Redis 7.4 converts a
    /// listpack as soon as an HEXPIRE-family command reaches it, whether or
    /// not a TTL gets set.
    pub fn enable_field_expires(&mut self) {
        match self.enc.get_mut() {
            EncMut::Listpack(lp) => {
                let lp = std::mem::take(lp);
                self.enc = Enc::new(EncOwn::ListpackEx(Box::new(LpEx {
                    lp,
                    ttl: FieldTtls::default(),
                })));
            }
            EncMut::Table(t) => {
                let t = std::mem::replace(t, Table::new());
                self.enc = Enc::new(EncOwn::TableEx(Box::new(TableEx {
                    t,
                    ttl: FieldTtls::default(),
                })));
            }
            EncMut::ListpackEx(_) | EncMut::TableEx(_) => {}
        }
    }

    /// Sets (`Some`, unix time in ms) or removes (`None`) the expire time of
    /// `field`. False if there is no such field. Does not look at the clock:
    /// a time in the past is stored as is (the RDB loader and the commands
    /// decide what to do with those).
    pub fn set_field_expire(&mut self, field: &[u8], at: Option<i64>) -> bool {
        if !self.contains(field) {
            return false;
        }
        match at {
            Some(at) => {
                self.enable_field_expires();
                if let (_, Some(ttl)) = self.parts_mut() {
                    ttl.set(field, at);
                }
            }
            None => {
                if let (_, Some(ttl)) = self.parts_mut() {
                    ttl.remove(field);
                }
            }
        }
        true
    }

    /// The expire time of `field` (unix ms), None if it has none or does
    /// not exist.
    pub fn field_expire(&self, field: &[u8]) -> Option<i64> {
        self.ttls()?.get(field)
    }

    /// Whether some field has an expire time.
    pub fn has_field_expires(&self) -> bool {
        self.ttls().is_some_and(|x| x.len() > 0)
    }

    /// Number of fields with an expire time.
    pub fn field_expires(&self) -> usize {
        self.ttls().map_or(0, FieldTtls::len)
    }

    /// Calls `f` with each field that has an expire time, and that time,
    /// earliest first.
    pub fn for_each_field_expire(&self, mut f: impl FnMut(&[u8], i64)) {
        if let Some(ttl) = self.ttls() {
            for (at, name) in &ttl.order {
                f(name, *at);
            }
        }
    }

    /// The earliest field expire time.
    pub fn min_field_expire(&self) -> Option<i64> {
        self.ttls()?.min()
    }

    /// Whether some field's expire time is before `now_ms` (the field is
    /// logically gone). One branch for hashes without TTLs.
    #[inline]
    pub fn has_expired_fields(&self, now_ms: i64) -> bool {
        self.min_field_expire().is_some_and(|at| at < now_ms)
    }

    /// Removes up to `max` fields whose expire time is before `now_ms`,
    /// earliest first, and returns their names.
    pub fn expire_fields(&mut self, now_ms: i64, max: usize) -> Vec<Vec<u8>> {
        let mut gone = Vec::new();
        while gone.len() < max {
            let (store, ttl) = self.parts_mut();
            let Some(name) = ttl.and_then(|t| t.pop_expired(now_ms)) else {
                break;
            };
            match store {
                StoreMut::Lp(lp) => {
                    if let Some(p) = lp.first().and_then(|p| lp.find(p, &name, 1)) {
                        lp.delete_range(p, 2);
                    }
                }
                StoreMut::Table(t) => {
                    t.remove(&name);
                }
            }
            gone.push(name.into_vec());
        }
        gone
    }

    // ---- random fields (HRANDFIELD) ----------------------------------------

    /// Calls `f` for `count` fields drawn independently and uniformly (they
    /// may repeat), until it returns false. `rng` gives uniform u64s.
    pub fn random_pairs(
        &self,
        count: usize,
        rng: &mut dyn FnMut() -> u64,
        mut f: impl FnMut(LpItem<'_>, LpItem<'_>) -> bool,
    ) {
        if self.is_empty() {
            return;
        }
        match self.store() {
            Store::Lp(lp) => {
                // Index the pairs once so each draw is O(1).
                let fields = field_positions(lp);
                for _ in 0..count {
                    let p = fields[below(rng, fields.len())];
                    let Some(v) = lp.next(p) else { return };
                    if !f(lp.get(p), lp.get(v)) {
                        return;
                    }
                }
            }
            Store::Table(t) => {
                for _ in 0..count {
                    let Some(m) = t.fair_random_entry(rng) else {
                        return;
                    };
                    if !f(LpItem::Str(m.key()), LpItem::Str(m.tail())) {
                        return;
                    }
                }
            }
        }
    }

    /// Calls `f` for `count` distinct fields chosen uniformly at random
    /// (every field when `count >= len`). Small hashes give them in storage
    /// order, as Valkey's `lpRandomPairsUnique`; big ones in random order.
    pub fn random_distinct(
        &self,
        count: usize,
        rng: &mut dyn FnMut() -> u64,
        mut f: impl FnMut(LpItem<'_>, LpItem<'_>),
    ) {
        let size = self.len();
        if count >= size {
            self.for_each_item(f);
            return;
        }
        match self.store() {
            Store::Lp(lp) => {
                // Selection sampling: keep each pair with probability
                // needed / remaining, which picks every subset of `count`
                // pairs with the same probability, in one ordered pass.
                let mut needed = count;
                let mut remaining = size;
                let mut it = lp.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    if needed == 0 {
                        break;
                    }
                    if below(rng, remaining) < needed {
                        f(k, v);
                        needed -= 1;
                    }
                    remaining -= 1;
                }
            }
            Store::Table(t) => {
                if count * SUB_STRATEGY_MUL > size {
                    // Close to the whole hash: a partial Fisher-Yates
                    // shuffle of all entries picks `count` without retries.
                    let mut all: Vec<_> = t.iter().collect();
                    for i in 0..count {
                        let j = i + below(rng, all.len() - i);
                        all.swap(i, j);
                        let m = &all[i];
                        f(LpItem::Str(m.key()), LpItem::Str(m.tail()));
                    }
                } else {
                    // Much smaller than the hash: draw until `count` distinct
                    // entries came up (few repeats expected).
                    let mut seen = HashSet::with_capacity(count);
                    while seen.len() < count {
                        let Some(m) = t.fair_random_entry(rng) else {
                            return;
                        };
                        if seen.insert(m.as_ptr()) {
                            f(LpItem::Str(m.key()), LpItem::Str(m.tail()));
                        }
                    }
                }
            }
        }
    }

    // ---- HSCAN -------------------------------------------------------------

    /// One HSCAN step from `cursor`: calls `f` for the pairs visited and
    /// returns the next cursor (0 when done). A listpack is returned whole
    /// with cursor 0. A table is walked bucket by bucket with the table's
    /// reverse-binary cursor until about `count` entries were visited, at
    /// most `10 * count` further steps (Valkey's `scanGenericCommand`).
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        mut f: impl FnMut(LpItem<'_>, LpItem<'_>),
    ) -> u64 {
        match self.store() {
            Store::Lp(_) => {
                self.for_each_item(f);
                0
            }
            Store::Table(t) => {
                let mut cursor = cursor;
                let mut visited = 0usize;
                let mut budget = count.saturating_mul(10);
                loop {
                    cursor = t.scan(cursor, |m| {
                        visited += 1;
                        f(LpItem::Str(m.key()), LpItem::Str(m.tail()));
                    });
                    if cursor == 0 || budget == 0 {
                        return cursor;
                    }
                    budget -= 1;
                    if visited >= count {
                        return cursor;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn cfg(entries: usize, value: usize) -> HashConfig {
        HashConfig {
            max_listpack_entries: entries,
            max_listpack_value: value,
        }
    }

    fn contents(h: &Hash) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut m = BTreeMap::new();
        h.for_each(|k, v| {
            assert!(m.insert(k.to_vec(), v.to_vec()).is_none(), "field twice");
        });
        m
    }

    /// A deterministic generator for the random-field tests.
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
    }

    #[test]
    fn small_struct() {
        // The listpack and the boxed encodings share one tagged pointer.
        assert_eq!(std::mem::size_of::<Hash>(), 8);
    }

    #[test]
    fn listpack_layout_matches_valkey() {
        let c = cfg(128, 64);
        let mut h = Hash::new();
        assert!(h.set(b"a", b"1", &c));
        assert!(h.set(b"bb", b"hello", &c));
        assert!(!h.set(b"a", b"-200", &c));
        assert_eq!(h.encoding_name(), "listpack");
        // header(6) | "a" 0x81 'a' 02 | 13-bit int -200 (c7 38 02) |
        // "bb" 82 'b' 'b' 03 | "hello" 85 .. 06 | ff
        let lp = h.as_listpack().unwrap().as_bytes().to_vec();
        assert_eq!(&lp[4..6], &[4, 0]);
        assert_eq!(
            &lp[6..],
            &[
                0x81, b'a', 2, 0xdf, 0x38, 2, 0x82, b'b', b'b', 3, 0x85, b'h', b'e', b'l', b'l',
                b'o', 6, 0xff
            ]
        );
        assert_eq!(h.get(b"a").as_deref(), Some(&b"-200"[..]));
        assert_eq!(h.value_len(b"a"), 4);
        assert_eq!(h.value_len(b"zz"), 0);
        h.with_item(b"a", |v| assert_eq!(v, Some(LpItem::Int(-200))));
    }

    #[test]
    fn converts_on_entry_count_and_never_back() {
        let c = cfg(4, 64);
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &c);
        }
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f4", b"v", &c);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 5);
        for i in 0..5 {
            assert!(h.remove(format!("f{i}").as_bytes()));
        }
        assert!(h.is_empty());
        h.set(b"x", b"y", &c);
        assert_eq!(h.encoding_name(), "hashtable");
    }

    #[test]
    fn converts_on_long_field_or_value() {
        let c = cfg(128, 8);
        let mut h = Hash::new();
        h.set(b"12345678", b"12345678", &c);
        assert_eq!(h.encoding_name(), "listpack");
        h.set(b"f", b"123456789", &c);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.get(b"12345678").as_deref(), Some(&b"12345678"[..]));
        let mut h = Hash::new();
        h.set(b"123456789", b"v", &c);
        assert_eq!(h.encoding_name(), "hashtable");
    }

    #[test]
    fn prepare_insert_follows_try_conversion() {
        let c = cfg(2, 8);
        // Three pairs announced: converts even if they are one field.
        let mut h = Hash::new();
        h.prepare_insert(3, [1, 1, 1, 1, 1, 1], &c);
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = Hash::new();
        h.prepare_insert(2, [1, 1, 1, 9], &c);
        assert_eq!(h.encoding_name(), "hashtable");
        let mut h = Hash::new();
        h.prepare_insert(2, [8, 8, 8, 8], &c);
        assert_eq!(h.encoding_name(), "listpack");
    }

    #[test]
    fn table_updates_in_place_and_by_reallocation() {
        let c = cfg(0, 64);
        let mut h = Hash::new();
        assert!(h.set(b"f", b"abc", &c));
        assert_eq!(h.encoding_name(), "hashtable");
        assert!(!h.set(b"f", b"xyz", &c));
        assert_eq!(h.get(b"f").as_deref(), Some(&b"xyz"[..]));
        assert!(!h.set(b"f", b"a much longer value", &c));
        assert_eq!(h.get(b"f").as_deref(), Some(&b"a much longer value"[..]));
        assert!(!h.set(b"f", b"", &c));
        assert_eq!(h.get(b"f").as_deref(), Some(&b""[..]));
        assert_eq!(h.len(), 1);
        assert!(h.contains(b"f") && !h.contains(b"g"));
        assert_eq!(h.free_effort(), 1);
    }

    #[test]
    fn from_listpack_validates() {
        let c = cfg(128, 64);
        let odd = Listpack::from_items([&b"a"[..], b"1", b"b"]);
        assert!(Hash::from_listpack(odd, &c).is_none());
        let dup = Listpack::from_items([&b"a"[..], b"1", b"a", b"2"]);
        assert!(Hash::from_listpack(dup, &c).is_none());
        let ok = Listpack::from_items([&b"a"[..], b"1", b"b", b"2"]);
        let h = Hash::from_listpack(ok.clone(), &c).unwrap();
        assert_eq!(h.encoding_name(), "listpack");
        assert_eq!(h.get(b"b").as_deref(), Some(&b"2"[..]));
        let h = Hash::from_listpack(ok, &cfg(1, 64)).unwrap();
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn memory_usage_sampled_and_exact() {
        let c = cfg(0, 64);
        let mut h = Hash::new();
        for i in 0..1000 {
            h.set(format!("field:{i:06}").as_bytes(), b"12345678", &c);
        }
        let exact = h.memory_usage(0);
        let est = h.memory_usage(5);
        // All members have the same size, so the estimate is exact.
        assert_eq!(exact, est);
        // 1000 members of 24 bytes, buckets and the boxed table.
        assert!((24_000..64_000).contains(&exact), "{exact}");
        let small = Hash::new().memory_usage(5);
        assert!(small > 0 && small <= 16);
        assert_eq!(h.free_effort(), 1000);
    }

    #[test]
    fn random_pairs_repeat_and_cover() {
        for entries in [128, 0] {
            let c = cfg(entries, 64);
            let mut h = Hash::new();
            for i in 0..10 {
                h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &c);
            }
            let mut r = rng(7);
            let mut seen = BTreeMap::new();
            let mut n = 0;
            h.random_pairs(2000, &mut r, |k, v| {
                let (k, v) = (k.to_vec(), v.to_vec());
                assert_eq!(v[1..], k[1..], "value belongs to its field");
                *seen.entry(k).or_insert(0) += 1;
                n += 1;
                true
            });
            assert_eq!(n, 2000);
            assert_eq!(seen.len(), 10);
            // Roughly uniform: each field expected 200 times.
            assert!(seen.values().all(|&c| (120..=280).contains(&c)), "{seen:?}");
            // Stops when asked.
            let mut calls = 0;
            h.random_pairs(100, &mut r, |_, _| {
                calls += 1;
                calls < 3
            });
            assert_eq!(calls, 3);
        }
    }

    #[test]
    fn random_distinct_all_paths() {
        for entries in [128, 0] {
            let c = cfg(entries, 64);
            let mut h = Hash::new();
            for i in 0..30 {
                h.set(format!("f{i}").as_bytes(), format!("v{i}").as_bytes(), &c);
            }
            let mut r = rng(11);
            // count >= size (all), close to size (shuffle), much smaller
            // (repeated draws).
            for count in [40usize, 30, 25, 12, 3, 1] {
                let mut union = BTreeSet::new();
                // The table's hash is seeded per process: with one field per
                // draw, 200 draws missed some field in ~3.5 % of runs;
                // 1000 make that ~1e-13.
                for _ in 0..1000 {
                    let mut got = Vec::new();
                    h.random_distinct(count, &mut r, |k, v| {
                        assert_eq!(v.to_vec()[1..], k.to_vec()[1..]);
                        got.push(k.to_vec());
                    });
                    let set: BTreeSet<_> = got.iter().cloned().collect();
                    assert_eq!(got.len(), count.min(30));
                    assert_eq!(set.len(), got.len(), "distinct");
                    union.extend(set);
                }
                assert_eq!(union.len(), 30, "every field comes up (count {count})");
            }
        }
    }

    #[test]
    fn scan_covers_everything() {
        let c = cfg(0, 64);
        let mut h = Hash::new();
        for i in 0..5000 {
            h.set(format!("f{i}").as_bytes(), b"v", &c);
        }
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            let mut n = 0;
            cursor = h.scan(cursor, 10, |k, _| {
                seen.insert(k.to_vec());
                n += 1;
            });
            calls += 1;
            assert!(n < 60, "a step visits about COUNT entries");
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 5000);
        assert!(calls > 100);
        // A listpack comes back whole, cursor 0.
        let mut small = Hash::new();
        small.set(b"a", b"1", &cfg(128, 64));
        let mut n = 0;
        assert_eq!(small.scan(0, 1, |_, _| n += 1), 0);
        assert_eq!(n, 1);
    }

    #[test]
    fn value_stays_16_bytes_with_ttl_encodings() {
        // The TTL encodings are boxed: neither Hash nor Value grows.
        assert_eq!(std::mem::size_of::<Hash>(), 8);
        assert_eq!(std::mem::size_of::<crate::keyspace::Value>(), 16);
    }

    #[test]
    fn field_ttls_on_a_listpack() {
        let c = cfg(128, 64);
        let mut h = Hash::new();
        h.set(b"a", b"1", &c);
        h.set(b"b", b"2", &c);
        h.set(b"c", b"3", &c);
        assert!(!h.has_field_expires());
        assert!(!h.set_field_expire(b"zz", Some(10)));
        assert_eq!(h.encoding_name(), "listpack", "no field, no conversion");
        assert!(h.set_field_expire(b"b", Some(500)));
        assert!(h.set_field_expire(b"a", Some(700)));
        assert_eq!(h.encoding_name(), "listpackex");
        assert!(h.is_listpack());
        assert_eq!(h.as_listpack().map(Listpack::len), Some(6));
        assert_eq!(h.field_expire(b"b"), Some(500));
        assert_eq!(h.field_expire(b"c"), None);
        assert_eq!(h.field_expire(b"zz"), None);
        assert_eq!(h.min_field_expire(), Some(500));
        assert_eq!(h.field_expires(), 2);
        let mut seen = Vec::new();
        h.for_each_field_expire(|f, at| seen.push((f.to_vec(), at)));
        assert_eq!(seen, vec![(b"b".to_vec(), 500), (b"a".to_vec(), 700)]);
        // Moving a TTL keeps one entry per field.
        assert!(h.set_field_expire(b"b", Some(900)));
        assert_eq!(h.min_field_expire(), Some(700));
        assert_eq!(h.field_expires(), 2);
        // HINCRBY keeps the TTL, HSET drops it, HDEL takes it along.
        assert!(!h.set_keep_ttl(b"a", b"5", &c));
        assert_eq!(h.field_expire(b"a"), Some(700));
        assert!(!h.set(b"a", b"6", &c));
        assert_eq!(h.field_expire(b"a"), None);
        assert!(h.remove(b"b"));
        assert!(!h.has_field_expires());
        assert_eq!(h.min_field_expire(), None);
        // It had TTL metadata: still listpackex, as Redis reports.
        assert_eq!(h.encoding_name(), "listpackex");
        assert!(h.set_field_expire(b"c", Some(1)));
        assert!(h.set_field_expire(b"c", None));
        assert!(!h.has_field_expires());
        assert_eq!(h.get(b"c").as_deref(), Some(&b"3"[..]));
    }

    #[test]
    fn enable_field_expires_only_changes_the_name() {
        let c = cfg(128, 64);
        let mut h = Hash::new();
        h.set(b"a", b"1", &c);
        h.enable_field_expires();
        assert_eq!(h.encoding_name(), "listpackex");
        assert!(!h.has_field_expires());
        assert_eq!(contents(&h).len(), 1);
        let mut t = Hash::new();
        t.set(b"a", b"1", &cfg(0, 64));
        t.enable_field_expires();
        assert_eq!(t.encoding_name(), "hashtable");
        assert_eq!(t.get(b"a").as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn ttls_survive_conversion_and_clone() {
        let c = cfg(4, 8);
        let mut h = Hash::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", &c);
        }
        h.set_field_expire(b"f1", Some(100));
        h.set_field_expire(b"f3", Some(50));
        assert_eq!(h.encoding_name(), "listpackex");
        h.set(b"f4", b"v", &c);
        assert_eq!(h.encoding_name(), "hashtable");
        assert_eq!(h.field_expire(b"f1"), Some(100));
        assert_eq!(h.field_expire(b"f3"), Some(50));
        let copy = h.clone();
        assert_eq!(copy.field_expire(b"f1"), Some(100));
        assert_eq!(copy.encoding_name(), "hashtable");
        // A long value converts too.
        let mut g = Hash::new();
        g.set(b"a", b"1", &c);
        g.set_field_expire(b"a", Some(7));
        g.set_keep_ttl(b"a", b"123456789", &c);
        assert_eq!(g.encoding_name(), "hashtable");
        assert_eq!(g.field_expire(b"a"), Some(7));
        let copy = g.clone();
        assert_eq!(copy.field_expire(b"a"), Some(7));
        assert!(copy.memory_usage(0) > Hash::new().memory_usage(0));
        assert_eq!(copy.free_effort(), 3);
    }

    #[test]
    fn expire_fields_in_time_order_with_a_limit() {
        for entries in [128, 0] {
            let c = cfg(entries, 64);
            let mut h = Hash::new();
            for i in 0..10 {
                h.set(format!("f{i}").as_bytes(), b"v", &c);
                h.set_field_expire(format!("f{i}").as_bytes(), Some(100 - i));
            }
            h.set(b"keep", b"v", &c);
            assert!(!h.has_expired_fields(91));
            assert!(h.has_expired_fields(92));
            // A field expires once the clock is past its time.
            assert_eq!(h.expire_fields(91, 100), Vec::<Vec<u8>>::new());
            assert_eq!(h.expire_fields(94, 2), vec![b"f9".to_vec(), b"f8".to_vec()]);
            assert_eq!(h.expire_fields(94, 100), vec![b"f7".to_vec()]);
            assert_eq!(h.len(), 8);
            assert!(h.get(b"f7").is_none() && h.get(b"f6").is_some());
            assert_eq!(h.get_live(b"f6", 95), None);
            assert_eq!(h.get_live(b"f6", 94).as_deref(), Some(&b"v"[..]));
            assert_eq!(h.expire_fields(i64::MAX, usize::MAX).len(), 7);
            assert_eq!(h.len(), 1);
            assert!(!h.has_field_expires());
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Set(u8, Vec<u8>),
        Remove(u8),
        Prepare(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..24, prop::collection::vec(prop::sample::select(b"-0123x".to_vec()), 0..10))
                .prop_map(|(f, v)| Op::Set(f, v)),
            3 => (0u8..24).prop_map(Op::Remove),
            1 => (0usize..12, 0usize..12).prop_map(|(p, l)| Op::Prepare(p, l)),
        ]
    }

    fn field(f: u8) -> Vec<u8> {
        // Some fields are integers (stored as ints in the listpack).
        if f.is_multiple_of(3) {
            format!("{}", f as i64 * 1000 - 5000).into_bytes()
        } else {
            format!("field{f}").into_bytes()
        }
    }

    #[derive(Debug, Clone)]
    enum TtlOp {
        Set(u8, Vec<u8>),
        SetKeep(u8, Vec<u8>),
        Remove(u8),
        Expire(u8, Option<i64>),
        Purge(i64, usize),
    }

    fn ttl_op() -> impl Strategy<Value = TtlOp> {
        let val = || prop::collection::vec(prop::sample::select(b"-0123x".to_vec()), 0..10);
        prop_oneof![
            4 => (0u8..16, val()).prop_map(|(f, v)| TtlOp::Set(f, v)),
            2 => (0u8..16, val()).prop_map(|(f, v)| TtlOp::SetKeep(f, v)),
            2 => (0u8..16).prop_map(TtlOp::Remove),
            5 => (0u8..16, prop::option::weighted(0.8, 0i64..100))
                .prop_map(|(f, t)| TtlOp::Expire(f, t)),
            1 => (0i64..110, 0usize..5).prop_map(|(n, m)| TtlOp::Purge(n, m)),
        ]
    }

    type Model = BTreeMap<Vec<u8>, (Vec<u8>, Option<i64>)>;

    proptest! {
        #[test]
        fn field_ttls_behave_like_a_model(ops in prop::collection::vec(ttl_op(), 0..200)) {
            let c = cfg(6, 7);
            let mut h = Hash::new();
            let mut model = Model::new();
            for o in ops {
                match o {
                    TtlOp::Set(f, v) => {
                        let f = field(f);
                        let new = h.set(&f, &v, &c);
                        prop_assert_eq!(new, model.insert(f, (v, None)).is_none());
                    }
                    TtlOp::SetKeep(f, v) => {
                        let f = field(f);
                        let new = h.set_keep_ttl(&f, &v, &c);
                        let ttl = model.get(&f).and_then(|e| e.1);
                        prop_assert_eq!(new, model.insert(f, (v, ttl)).is_none());
                    }
                    TtlOp::Remove(f) => {
                        let f = field(f);
                        prop_assert_eq!(h.remove(&f), model.remove(&f).is_some());
                    }
                    TtlOp::Expire(f, t) => {
                        let f = field(f);
                        let found = h.set_field_expire(&f, t);
                        match model.get_mut(&f) {
                            Some(e) => {
                                prop_assert!(found);
                                e.1 = t;
                            }
                            None => prop_assert!(!found),
                        }
                    }
                    TtlOp::Purge(now, max) => {
                        let mut due: Vec<(i64, Vec<u8>)> = model
                            .iter()
                            .filter_map(|(k, e)| e.1.filter(|&t| t < now).map(|t| (t, k.clone())))
                            .collect();
                        due.sort();
                        due.truncate(max);
                        let gone = h.expire_fields(now, max);
                        let want: Vec<Vec<u8>> = due.iter().map(|d| d.1.clone()).collect();
                        prop_assert_eq!(&gone, &want);
                        for k in gone {
                            model.remove(&k);
                        }
                    }
                }
                prop_assert_eq!(h.len(), model.len());
                let min = model.values().filter_map(|e| e.1).min();
                prop_assert_eq!(h.min_field_expire(), min);
                prop_assert_eq!(h.has_field_expires(), min.is_some());
                prop_assert_eq!(
                    h.field_expires(),
                    model.values().filter(|e| e.1.is_some()).count()
                );
            }
            let plain: BTreeMap<Vec<u8>, Vec<u8>> =
                model.iter().map(|(k, e)| (k.clone(), e.0.clone())).collect();
            prop_assert_eq!(&contents(&h), &plain);
            for f in 0..16u8 {
                let f = field(f);
                prop_assert_eq!(h.field_expire(&f), model.get(&f).and_then(|e| e.1));
            }
            let mut listed = BTreeMap::new();
            let mut last = i64::MIN;
            h.for_each_field_expire(|f, at| {
                assert!(at >= last, "earliest first");
                last = at;
                listed.insert(f.to_vec(), at);
            });
            let want: BTreeMap<Vec<u8>, i64> = model
                .iter()
                .filter_map(|(k, e)| e.1.map(|t| (k.clone(), t)))
                .collect();
            prop_assert_eq!(&listed, &want);
            let copy = h.clone();
            prop_assert_eq!(copy.encoding_name(), h.encoding_name());
            for (k, e) in &model {
                prop_assert_eq!(copy.field_expire(k), e.1);
            }
        }
    }

    proptest! {
        #[test]
        fn behaves_like_a_map(ops in prop::collection::vec(op(), 0..200)) {
            let c = cfg(8, 7);
            let mut h = Hash::new();
            let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
            let mut was_table = false;
            for o in ops {
                match o {
                    Op::Set(f, v) => {
                        let f = field(f);
                        let new = h.set(&f, &v, &c);
                        prop_assert_eq!(new, model.insert(f, v).is_none());
                    }
                    Op::Remove(f) => {
                        let f = field(f);
                        prop_assert_eq!(h.remove(&f), model.remove(&f).is_some());
                    }
                    Op::Prepare(p, l) => h.prepare_insert(p, [l], &c),
                }
                // Never back to listpack; a listpack always within limits.
                if was_table {
                    prop_assert_eq!(h.encoding_name(), "hashtable");
                }
                was_table = !h.is_listpack();
                if h.is_listpack() {
                    prop_assert!(h.len() <= 8);
                    for (k, v) in &model {
                        prop_assert!(k.len() <= 7 && v.len() <= 7);
                    }
                }
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.is_empty(), model.is_empty());
            }
            prop_assert_eq!(&contents(&h), &model);
            for f in 0..24u8 {
                let f = field(f);
                prop_assert_eq!(h.get(&f).map(|v| v.into_owned()), model.get(&f).cloned());
                prop_assert_eq!(h.contains(&f), model.contains_key(&f));
                prop_assert_eq!(h.value_len(&f), model.get(&f).map_or(0, Vec::len));
            }
            let copy = h.clone();
            prop_assert_eq!(copy.encoding_name(), h.encoding_name());
            prop_assert_eq!(contents(&copy), model);
        }
    }
}
