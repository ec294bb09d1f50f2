//! The keyspace: numbered databases of key records.
//!
//! A [`Db`] is one hash table of [`Record`]s. Expire times live in the
//! records; the database only counts keys that have one (INFO keyspace) and
//! keeps a cursor for the active expiry cycle, which scans the table itself
//! instead of a second index (no second copy of any key).
//!
//! Every read through [`Db::get`] applies lazy expiry: a key past its expire
//! time is deleted and reported absent.

pub mod access;
pub mod hash;
pub mod list;
pub mod listpack;
pub mod member;
pub mod record;
pub mod set;
pub mod slab;
pub mod stream;
pub mod thinbuf;
pub mod value;
pub mod varint;
pub mod zset;

pub use access::Access;
pub use record::{ObjType, Payload, Record, ValueRef};
pub use value::{Typed, Value};

use crate::server::blocking::DbBlocking;
use crate::util::slot::key_hash_slot;
use ferrokey_table::{KvEntry, KvStore, Ref, RefMut};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The time as seen by one command: Valkey caches it per command so a key
/// cannot expire half way through one. It also carries how lookups update
/// access clocks (LRU or LFU, from `maxmemory-policy`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Now {
    pub ms: i64,
    /// The access clock a new record gets (LRU seconds or LFU minutes and
    /// initial counter; see access.rs).
    pub clock: u32,
    pub access: Access,
    /// Set while the AOF is replayed: keys never count as expired, as in
    /// Valkey while loading (the AOF's own DELs remove them), so replayed
    /// commands see the dataset as it was when they ran.
    pub loading: bool,
    /// Set during CLIENT PAUSE: an expired key reads as absent but is not
    /// deleted (Valkey pauses expiry with writes, so the dataset and what
    /// replicas/AOF see do not change while paused).
    pub expire_paused: bool,
    /// `lazyfree-lazy-expire`: a big value that expires is freed by the
    /// lazy-free thread rather than in place.
    pub lazy_expire: bool,
}

impl Now {
    pub fn at(ms: i64, access: Access) -> Now {
        Now {
            ms,
            clock: access::initial_clock(access, ms),
            access,
            loading: false,
            expire_paused: false,
            lazy_expire: true,
        }
    }

    /// Whether a key whose expire time is `at` is expired now.
    #[inline]
    pub fn is_expired(&self, at: i64) -> bool {
        at < self.ms && !self.loading
    }

    /// Whether an expire time given to a command is already past (Valkey's
    /// `checkAlreadyExpired`): such a command deletes the key instead,
    /// except while the AOF is replayed.
    #[inline]
    pub fn already_expired(&self, at: i64) -> bool {
        at <= self.ms && !self.loading
    }

    pub fn from_system() -> Now {
        Now::from_system_with(Access::Lru)
    }

    pub fn from_system_with(access: Access) -> Now {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Now::at(ms, access)
    }
}

pub struct Db {
    /// One table per cluster slot (a single one in standalone mode).
    keys: KvStore<Record>,
    expires: usize,
    expire_cursor: u64,
    /// Keys deleted by expiry since the server last collected them.
    expired: u64,
    /// When set, the names of expired keys are kept for the server to
    /// invalidate WATCHes with (only while some client watches keys).
    pub log_expired: bool,
    expired_log: Vec<Vec<u8>>,
    /// When set (the AOF is on), the names of expired keys are also kept
    /// for the executor, which propagates their deletion as DEL / UNLINK.
    pub propagate_expired: bool,
    expired_to_propagate: Vec<Vec<u8>>,
    /// State of the cheap random numbers for LFU increments.
    rng: u64,
    /// Clients blocked on keys of this database, and keys made ready.
    pub blocking: DbBlocking,
    /// Keys whose hash has (or had) field TTLs, for the active field expiry
    /// pass and to let hash commands skip the lazy field check when there
    /// are none. A superset: names whose key went away or lost its TTLs
    /// stay until the pass meets them (no hook in every delete path).
    field_ttl_keys: BTreeSet<Box<[u8]>>,
    /// Where the active field expiry pass resumes (the last key visited).
    field_ttl_cursor: Option<Box<[u8]>>,
}

impl Default for Db {
    fn default() -> Db {
        Db::new(1)
    }
}

impl Db {
    /// A database of `num_slots` tables: 1 standalone, 16384 in cluster mode.
    pub fn new(num_slots: usize) -> Db {
        Db {
            keys: KvStore::new(num_slots),
            expires: 0,
            expire_cursor: 0,
            expired: 0,
            log_expired: false,
            expired_log: Vec::new(),
            propagate_expired: false,
            expired_to_propagate: Vec::new(),
            rng: 0,
            blocking: DbBlocking::default(),
            field_ttl_keys: BTreeSet::new(),
            field_ttl_cursor: None,
        }
    }

    /// The table a key lives in.
    #[inline]
    fn slot(&self, key: &[u8]) -> usize {
        if self.keys.num_slots() == 1 {
            0
        } else {
            key_hash_slot(key)
        }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// The key tables' shape (DEBUG HTSTATS), all slots summed.
    pub fn table_stats(&self, full: bool) -> Vec<ferrokey_table::LevelStats> {
        self.keys.stats(full)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Makes room for `additional` more keys at once (RDB RESIZEDB): a load
    /// then never rehashes. Standalone only: in cluster mode the keys spread
    /// over slot tables created on demand.
    pub fn reserve(&mut self, additional: usize) {
        if self.keys.num_slots() == 1 {
            self.keys.reserve(0, additional);
        }
    }

    /// Keys with an expire time.
    pub fn expires(&self) -> usize {
        self.expires
    }

    /// Looks a key up for reading or writing, with lazy expiry, and marks it
    /// as accessed.
    pub fn get(&mut self, key: &[u8], now: Now) -> Option<RefMut<'_, Record>> {
        self.get_with(key, now, true)
    }

    /// [`Db::get`], marking the key as accessed only when `touch` (false for
    /// CLIENT NO-TOUCH clients).
    ///
    /// One table lookup: the expiry check and the deletion of an expired key
    /// both go through the position found.
    pub fn get_with(&mut self, key: &[u8], now: Now, touch: bool) -> Option<RefMut<'_, Record>> {
        let rand = self.random_unit();
        let slot = self.slot(key);
        match self.keys.entry(slot, key) {
            KvEntry::Vacant(_) => None,
            KvEntry::Occupied(o) if o.get().expire().is_some_and(|at| now.is_expired(at)) => {
                if now.expire_paused {
                    return None;
                }
                let rec = o.remove();
                if !self.blocking.is_empty() {
                    self.blocking.signal(key);
                }
                self.expires -= 1;
                self.expired += 1;
                if self.log_expired {
                    self.expired_log.push(key.to_vec());
                }
                if self.propagate_expired {
                    self.expired_to_propagate.push(key.to_vec());
                }
                crate::lazyfree::drop_value_if(Some(rec), now.lazy_expire);
                None
            }
            KvEntry::Occupied(o) => {
                let mut r = o.into_mut();
                if touch {
                    Db::touch_with(&mut r, now, rand);
                }
                Some(r)
            }
        }
    }

    /// Starts loading, in parallel, what looking up each of `keys` will
    /// read: their buckets, then the records their tags point to (see
    /// `ferrokey_table::prefetch`). For a batch of pipelined commands this
    /// turns a cache miss or two per command into about two per batch.
    pub fn prefetch<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) {
        const MAX: usize = 16;
        let mut hashes = [(0usize, 0u64); MAX];
        let mut n = 0;
        let mut prev: Option<&[u8]> = None;
        for k in keys.into_iter().take(MAX) {
            // A run of commands on one key (a pipeline of LPUSHes to one
            // list) needs it once.
            if prev == Some(k) {
                continue;
            }
            prev = Some(k);
            let slot = self.slot(k);
            if let Some(t) = self.keys.table(slot) {
                let hash = t.hash_key(k);
                t.prefetch_bucket(hash);
                hashes[n] = (slot, hash);
                n += 1;
            }
        }
        for &(slot, hash) in &hashes[..n] {
            if let Some(t) = self.keys.table(slot) {
                t.prefetch_entries(hash);
            }
        }
    }

    /// After [`Db::prefetch`] of the same batch: for each `(key, member)`
    /// whose key holds a big hash, set or sorted set, starts loading the
    /// member's bucket in that value's table, then the entries its tag
    /// matches. The argument after the key is taken to be a member; for
    /// the commands where it is not (ZADD's score, SET's value) the guess
    /// costs a lookup of an already prefetched key, or a wasted prefetch.
    pub fn prefetch_members(&self, cmds: &[(&[u8], Option<&[u8]>)]) {
        const MAX: usize = 16;
        const MAX_MEMBER: usize = 128;
        fn members<'r>(
            r: &'r Ref<'_, Record>,
        ) -> Option<&'r ferrokey_table::Table<member::Member>> {
            match r.value() {
                ValueRef::Heap(v) => v.member_table(),
                _ => None,
            }
        }
        // One lookup per run of commands on the same key (a pipeline of
        // SADDs to one set is the common case).
        let mut recs: [Option<Ref<'_, Record>>; MAX] = std::array::from_fn(|_| None);
        let mut found = [(0usize, 0u64); MAX];
        let (mut nrecs, mut n) = (0, 0);
        let mut prev: Option<&[u8]> = None;
        for &(key, member) in cmds.iter().take(MAX) {
            // A long member is not worth hashing twice: the prefetch saves
            // a cache miss or two, less than hashing it costs.
            let Some(member) = member.filter(|m| m.len() <= MAX_MEMBER) else {
                continue;
            };
            if prev != Some(key) {
                prev = Some(key);
                recs[nrecs] = self.keys.table(self.slot(key)).and_then(|t| t.get(key));
                nrecs += 1;
            }
            if let Some(t) = recs[nrecs - 1].as_ref().and_then(members) {
                let hash = t.hash_key(member);
                t.prefetch_bucket(hash);
                found[n] = (nrecs - 1, hash);
                n += 1;
            }
        }
        for &(r, hash) in &found[..n] {
            if let Some(t) = recs[r].as_ref().and_then(members) {
                t.prefetch_entries(hash);
            }
        }
    }

    /// Marks a record as accessed (LRU second or LFU counter).
    pub fn touch(&mut self, rec: &mut Record, now: Now) {
        let rand = self.random_unit();
        Db::touch_with(rec, now, rand);
    }

    fn touch_with(rec: &mut Record, now: Now, rand: f64) {
        let c = access::touched_clock(rec.clock(), now.access, now.ms, rand);
        rec.set_clock(c);
    }

    /// A uniform number in [0, 1) for LFU's probabilistic increment.
    fn random_unit(&mut self) -> f64 {
        if self.rng == 0 {
            self.rng = 0x9e37_79b9_7f4a_7c15 ^ (self as *const Db as u64);
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Deletes a key whose time has passed, counting it as expired; `lazy`
    /// is `lazyfree-lazy-expire`.
    fn expire_key(&mut self, key: &[u8], lazy: bool) {
        if let Some(rec) = self.remove(key) {
            self.expired += 1;
            if self.log_expired {
                self.expired_log.push(key.to_vec());
            }
            if self.propagate_expired {
                self.expired_to_propagate.push(key.to_vec());
            }
            crate::lazyfree::drop_value_if(Some(rec), lazy);
        }
    }

    /// Names of keys deleted by expiry since the last call, kept while
    /// `propagate_expired` is set: their DELs for the AOF.
    pub fn take_expired_to_propagate(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.expired_to_propagate)
    }

    /// Whether expired keys wait to be propagated.
    #[inline]
    pub fn has_expired_to_propagate(&self) -> bool {
        !self.expired_to_propagate.is_empty()
    }

    /// Whether keys expired since the last [`Db::take_expired`].
    #[inline]
    pub fn has_expired(&self) -> bool {
        self.expired != 0
    }

    /// Keys deleted by expiry since the last call, and their names when
    /// `log_expired` is set (for WATCH).
    pub fn take_expired(&mut self) -> (u64, Vec<Vec<u8>>) {
        (
            std::mem::take(&mut self.expired),
            std::mem::take(&mut self.expired_log),
        )
    }

    /// Looks a key up without touching its access time (OBJECT, TYPE-like
    /// introspection, NO-TOUCH clients), still with lazy expiry.
    pub fn get_no_touch(&mut self, key: &[u8], now: Now) -> Option<RefMut<'_, Record>> {
        self.get_with(key, now, false)
    }

    /// Reads a key ignoring expiry (internal use: SCAN filtering, dumps).
    pub fn peek(&self, key: &[u8]) -> Option<Ref<'_, Record>> {
        self.keys.get(self.slot(key), key)
    }

    fn is_expired(&self, key: &[u8], now: Now) -> bool {
        matches!(self.peek(key).and_then(|r| r.expire()), Some(at) if now.is_expired(at))
    }

    /// Whether `key` is present but past its expire time: logically gone,
    /// not yet deleted. Reads only, so callers can tell a key that expired
    /// from one that was changed (WATCH/EXEC) and account for the deletion.
    pub fn is_stale(&self, key: &[u8], now: Now) -> bool {
        self.is_expired(key, now)
    }

    /// Deletes `key` if it is past its expire time, returning the record so
    /// the caller can count the expiry and invalidate WATCHes, as Valkey's
    /// `expireIfNeeded` does. None if the key is absent or still alive.
    pub fn remove_if_stale(&mut self, key: &[u8], now: Now) -> Option<Record> {
        if self.is_expired(key, now) && !now.expire_paused {
            self.remove(key)
        } else {
            None
        }
    }

    /// Whether a live key exists (lazy expiry applies).
    pub fn exists(&mut self, key: &[u8], now: Now) -> bool {
        self.get_no_touch(key, now).is_some()
    }

    /// Inserts a record, replacing (and returning) any record with its key.
    pub fn insert(&mut self, rec: Record) -> Option<Record> {
        let adds_expire = rec.has_expire();
        if !self.blocking.is_empty() {
            self.blocking.signal(rec.key());
        }
        if rec.obj_type() == ObjType::Hash {
            // RENAME, COPY, MOVE, RESTORE and the RDB loader all store whole
            // records here: a hash with field TTLs joins the index.
            if let ValueRef::Heap(Value::Hash(h)) = rec.value() {
                if h.has_field_expires() {
                    self.track_field_ttls(rec.key());
                }
            }
        }
        let slot = self.slot(rec.key());
        let old = self.keys.insert(slot, rec);
        let had_expire = old.as_ref().is_some_and(Record::has_expire);
        self.expires = self.expires + usize::from(adds_expire) - usize::from(had_expire);
        old
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Record> {
        let old = self.keys.remove(self.slot(key), key)?;
        if !self.blocking.is_empty() {
            // XREADGROUP waiters must learn that their stream is gone.
            self.blocking.signal(key);
        }
        if old.has_expire() {
            self.expires -= 1;
        }
        Some(old)
    }

    /// Sets or clears a live key's expire time. False if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: Option<i64>) -> bool {
        let slot = self.slot(key);
        let Some(mut r) = self.keys.get_mut(slot, key) else {
            return false;
        };
        let had = r.has_expire();
        r.set_expire(at);
        let has = r.has_expire();
        drop(r);
        self.expires = self.expires + usize::from(has) - usize::from(had);
        true
    }

    /// Adds `key` to the keys whose hash has field TTLs (after a hash got
    /// its first TTL in place, e.g. by HEXPIRE).
    pub fn track_field_ttls(&mut self, key: &[u8]) {
        if !self.field_ttl_keys.contains(key) {
            self.field_ttl_keys.insert(key.into());
        }
    }

    /// Whether some hash of this database may have field TTLs (false means
    /// certainly none: lazy field expiry can be skipped).
    #[inline]
    pub fn has_field_ttls(&self) -> bool {
        !self.field_ttl_keys.is_empty()
    }

    /// The active expiry pass for hash fields: visits the keys with field
    /// TTLs from where the last call stopped, deleting fields whose time has
    /// passed (at most `max_fields` of them), and a key whose last field
    /// went. Stops at `deadline` or after one full round. Returns, for each
    /// hash that lost fields, (key, fields deleted, whether the key was
    /// deleted); the caller notifies and propagates. Keys past their own
    /// expire time are left to the key expiry.
    pub fn active_expire_fields(
        &mut self,
        now: Now,
        deadline: Instant,
        max_fields: usize,
    ) -> Vec<(Vec<u8>, Vec<Vec<u8>>, bool)> {
        use std::ops::Bound;
        let mut out = Vec::new();
        let mut budget = max_fields;
        let mut visited = 0usize;
        while budget > 0 {
            let next = match &self.field_ttl_cursor {
                None => self.field_ttl_keys.first(),
                Some(c) => self
                    .field_ttl_keys
                    .range::<[u8], _>((Bound::Excluded(&**c), Bound::Unbounded))
                    .next(),
            };
            let Some(key) = next.cloned() else {
                // A full round is done; the next call starts over.
                self.field_ttl_cursor = None;
                break;
            };
            visited += 1;
            let slot = self.slot(&key);
            let (mut keep, mut emptied, mut gone) = (false, false, Vec::new());
            if let Some(mut r) = self.keys.get_mut(slot, &key) {
                let stale = r.expire().is_some_and(|at| at < now.ms);
                if let Some(Value::Hash(h)) = r.heap_mut() {
                    if !stale && h.has_expired_fields(now.ms) {
                        gone = h.expire_fields(now.ms, budget);
                        budget -= gone.len();
                    }
                    keep = h.has_field_expires();
                    emptied = h.is_empty();
                }
            }
            if !keep {
                self.field_ttl_keys.remove(&key);
            }
            if emptied {
                crate::lazyfree::drop_value(self.remove(&key));
            }
            if !gone.is_empty() {
                out.push((key.to_vec(), gone, emptied));
            }
            self.field_ttl_cursor = Some(key);
            if visited.is_multiple_of(16) && Instant::now() >= deadline {
                break;
            }
        }
        out
    }

    pub fn scan(&self, cursor: u64, f: impl FnMut(&Record)) -> u64 {
        self.keys.scan(cursor, f)
    }

    pub fn iter(&self) -> impl Iterator<Item = Ref<'_, Record>> {
        self.keys.iter()
    }

    /// Up to `n` records chosen at random (eviction sampling).
    pub fn sample<'a>(
        &'a self,
        n: usize,
        rng: &mut dyn FnMut() -> u64,
        out: &mut Vec<Ref<'a, Record>>,
    ) -> usize {
        self.keys.sample(n, rng, out)
    }

    pub fn random_record(&self, rng: &mut dyn FnMut() -> u64) -> Option<Ref<'_, Record>> {
        self.keys.fair_random_entry(rng)
    }

    /// Bytes of table overhead: buckets, table structs and the per-slot
    /// arrays (not the records).
    pub fn table_bytes(&self) -> usize {
        self.keys.bucket_bytes() + self.keys.overhead_bytes()
    }

    /// Marks ready every key that clients block on (after SWAPDB or a
    /// flush replaced the contents): each waiter's type check decides.
    pub fn signal_blocked_keys(&mut self) {
        let keys: Vec<Vec<u8>> = self.blocking.clients.keys().cloned().collect();
        for k in keys {
            self.blocking.signal(&k);
        }
    }

    /// Empties the database and returns the old contents, so the caller can
    /// drop them wherever it likes (a background thread for big ones).
    pub fn take(&mut self) -> Db {
        let mut fresh = Db::new(self.keys.num_slots());
        // Blocked clients wait on the database, not on its contents.
        std::mem::swap(&mut fresh.blocking, &mut self.blocking);
        fresh.propagate_expired = self.propagate_expired;
        let old = std::mem::replace(self, fresh);
        self.signal_blocked_keys();
        old
    }

    /// One step of incremental rehashing for the cron.
    pub fn rehash_for(&mut self, budget: Duration) -> bool {
        self.keys.rehash_for(budget)
    }

    /// The active expiry cycle for this database: scans buckets from where it
    /// stopped, deleting keys whose time has passed, until `deadline` or a
    /// full pass. Returns (keys checked, keys expired).
    pub fn active_expire(
        &mut self,
        now: Now,
        deadline: Instant,
        max_checks: usize,
    ) -> (usize, usize) {
        if self.expires == 0 {
            return (0, 0);
        }
        let (mut checked, mut expired) = (0, 0);
        let mut doomed: Vec<Vec<u8>> = Vec::new();
        let mut steps = 0usize;
        while checked < max_checks {
            let mut with_ttl = 0;
            self.expire_cursor = self.keys.scan(self.expire_cursor, |r| {
                if let Some(at) = r.expire() {
                    with_ttl += 1;
                    if at < now.ms {
                        doomed.push(r.key().to_vec());
                    }
                }
            });
            checked += with_ttl.max(1);
            for k in doomed.drain(..) {
                self.expire_key(&k, now.lazy_expire);
                expired += 1;
            }
            steps += 1;
            if self.expire_cursor == 0 || (steps.is_multiple_of(16) && Instant::now() >= deadline) {
                break;
            }
        }
        (checked, expired)
    }
}

/// All databases (SELECT index 0..databases).
pub struct Keyspace {
    pub dbs: Vec<Db>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::default()).collect(),
        }
    }

    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now(ms: i64) -> Now {
        Now::at(ms, Access::Lru)
    }

    #[test]
    fn lazy_expiry_deletes_on_access_and_counts_ttls() {
        let mut db = Db::default();
        db.insert(Record::new_string(b"a", b"1", Some(100), 0));
        db.insert(Record::new_string(b"b", b"2", None, 0));
        assert_eq!((db.len(), db.expires()), (2, 1));
        // Valkey: a key expires when the time is past its expire time.
        assert!(db.get(b"a", now(100)).is_some());
        db.log_expired = true;
        assert!(db.get(b"a", now(101)).is_none());
        assert_eq!((db.len(), db.expires()), (1, 0));
        assert_eq!(db.take_expired(), (1, vec![b"a".to_vec()]));
        assert_eq!(db.take_expired(), (0, vec![]));
        assert!(db.set_expire(b"b", Some(5)));
        assert_eq!(db.expires(), 1);
        assert!(db.set_expire(b"b", None));
        assert_eq!(db.expires(), 0);
        assert!(!db.set_expire(b"zz", Some(1)));
        // Replacing a key with a TTL by one without.
        db.insert(Record::new_string(b"c", b"x", Some(50), 0));
        db.insert(Record::new_string(b"c", b"y", None, 0));
        assert_eq!(db.expires(), 0);
    }

    #[test]
    fn stale_keys_are_seen_and_removed_only_when_expired() {
        let mut db = Db::default();
        db.insert(Record::new_string(b"a", b"1", Some(100), 0));
        db.insert(Record::new_string(b"b", b"2", None, 0));
        assert!(!db.is_stale(b"a", now(100)));
        assert!(db.is_stale(b"a", now(101)));
        assert!(!db.is_stale(b"b", now(i64::MAX)));
        assert!(!db.is_stale(b"zz", now(100)));
        assert!(db.remove_if_stale(b"a", now(100)).is_none());
        assert!(db.remove_if_stale(b"b", now(1000)).is_none());
        let gone = db.remove_if_stale(b"a", now(101)).map(|r| r.key().to_vec());
        assert_eq!(gone.as_deref(), Some(&b"a"[..]));
        assert_eq!((db.len(), db.expires()), (1, 0));
    }

    fn hash_record(key: &[u8], ttls: &[(&[u8], Option<i64>)]) -> Record {
        let cfg = hash::HashConfig {
            max_listpack_entries: 128,
            max_listpack_value: 64,
        };
        let mut h = hash::Hash::new();
        for (f, at) in ttls {
            h.set(f, b"v", &cfg);
            h.set_field_expire(f, *at);
        }
        Record::build(key, Payload::Heap(Box::new(Value::Hash(h))), None, 0)
    }

    #[test]
    fn active_field_expiry_follows_inserted_hashes() {
        let mut db = Db::default();
        assert!(!db.has_field_ttls());
        db.insert(hash_record(b"plain", &[(b"a", None)]));
        assert!(!db.has_field_ttls(), "no TTL, no index entry");
        db.insert(hash_record(
            b"h",
            &[(b"a", Some(10)), (b"b", Some(50)), (b"c", None)],
        ));
        db.insert(hash_record(b"g", &[(b"a", Some(10))]));
        db.insert(hash_record(b"later", &[(b"a", Some(1000))]));
        assert!(db.has_field_ttls());
        let far = Instant::now() + Duration::from_secs(5);
        let mut out = db.active_expire_fields(now(11), far, 100);
        out.sort();
        assert_eq!(
            out,
            vec![
                (b"g".to_vec(), vec![b"a".to_vec()], true),
                (b"h".to_vec(), vec![b"a".to_vec()], false),
            ]
        );
        assert!(db.peek(b"g").is_none());
        assert_eq!(db.len(), 3);
        // The field quota is respected across hashes and calls.
        let out = db.active_expire_fields(now(2000), far, 1);
        assert_eq!(out.iter().map(|e| e.1.len()).sum::<usize>(), 1);
        let mut rounds = 0;
        while db.active_expire_fields(now(2000), far, 1).len() == 1 {
            rounds += 1;
        }
        assert_eq!(rounds, 1);
        // "later" lost its only field; "h" keeps "c" without TTL and
        // leaves the index.
        assert!(db.peek(b"later").is_none());
        assert_eq!(db.len(), 2);
        db.active_expire_fields(now(2000), far, 100);
        assert!(!db.has_field_ttls());
    }

    #[test]
    fn active_expiry_removes_expired_keys_without_access() {
        let mut db = Db::default();
        for i in 0..10_000 {
            let k = format!("k{i}");
            let exp = if i % 2 == 0 { Some(10) } else { None };
            db.insert(Record::new_string(k.as_bytes(), b"v", exp, 0));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut total = 0;
        loop {
            let (_, n) = db.active_expire(now(11), deadline, 1_000_000);
            total += n;
            if db.expires() == 0 {
                break;
            }
        }
        assert_eq!(total, 5000);
        assert_eq!(db.len(), 5000);
        assert_eq!(db.take_expired().0, 5000);
    }
}
