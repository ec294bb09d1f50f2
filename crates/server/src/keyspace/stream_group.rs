//! Consumer groups of a stream: the last delivered ID, the read counter,
//! the pending entries list (PEL) and the consumers.
//!
//! Valkey keeps two radix trees of pending entries per group: the group's
//! PEL (ID -> NACK) and one per consumer (ID -> the same NACK). Here the
//! group PEL owns the NACKs, each naming its consumer, and a consumer keeps
//! only the set of IDs it owns, so there is one owner and no sharing.
//! Consumer names are reference counted: a NACK names its consumer without
//! an allocation of its own.

use super::StreamId;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// `entries_read` value meaning "unknown" (Valkey's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A delivered, not yet acknowledged entry.
#[derive(Clone, Debug)]
pub struct Nack {
    /// Unix time (ms) of the last delivery.
    pub delivery_time: i64,
    /// Times the entry was delivered.
    pub delivery_count: u64,
    consumer: Arc<[u8]>,
}

impl Nack {
    /// The consumer the entry was last delivered to.
    pub fn consumer(&self) -> &[u8] {
        &self.consumer
    }
}

/// A consumer of a group.
#[derive(Clone, Debug)]
pub struct Consumer {
    name: Arc<[u8]>,
    /// Last time (ms) the consumer tried to read or claim.
    pub seen_time: i64,
    /// Last time (ms) it read or claimed something; -1 for never.
    pub active_time: i64,
    pel: BTreeSet<StreamId>,
}

impl Consumer {
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// The IDs pending for this consumer, in order.
    pub fn pending(&self) -> &BTreeSet<StreamId> {
        &self.pel
    }
}

/// A consumer group.
#[derive(Clone, Debug)]
pub struct Group {
    /// Last delivered ID: `>` reads serve entries after it.
    pub last_id: StreamId,
    /// Logical count of entries read by the group, or
    /// [`INVALID_ENTRIES_READ`] when it cannot be known (see
    /// `Stream::estimate_distance`).
    pub entries_read: i64,
    pel: BTreeMap<StreamId, Nack>,
    /// Ordered by name bytes, as Valkey's radix tree lists them.
    consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

/// How a claim changes a NACK's delivery counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountUpdate {
    /// Set it (XCLAIM RETRYCOUNT).
    Set(u64),
    /// Add one (a claim returning the entry's content).
    Increment,
    /// Leave it (JUSTID).
    Keep,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The group's pending entries, in ID order.
    pub fn pel(&self) -> &BTreeMap<StreamId, Nack> {
        &self.pel
    }

    pub fn consumer_count(&self) -> usize {
        self.consumers.len()
    }

    /// Consumers in name order.
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> {
        self.consumers.values()
    }

    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    pub fn consumer_mut(&mut self, name: &[u8]) -> Option<&mut Consumer> {
        self.consumers.get_mut(name)
    }

    /// Creates consumer `name` (seen now, never active). False if it
    /// already exists.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        let name: Arc<[u8]> = Arc::from(name);
        self.consumers.insert(
            name.clone(),
            Consumer {
                name,
                seen_time: now,
                active_time: -1,
                pel: BTreeSet::new(),
            },
        );
        true
    }

    /// Adds consumer `name` with the times an RDB value recorded (no
    /// pending entries yet: see [`Group::restore_pending`]). False if it
    /// already exists.
    pub fn restore_consumer(&mut self, name: &[u8], seen_time: i64, active_time: i64) -> bool {
        if !self.create_consumer(name, seen_time) {
            return false;
        }
        if let Some(c) = self.consumers.get_mut(name) {
            c.active_time = active_time;
        }
        true
    }

    /// Adds the pending entry `id` of an RDB value, owned by `consumer`.
    /// False (nothing changed) if `consumer` does not exist or `id` is
    /// already pending.
    pub fn restore_pending(
        &mut self,
        id: StreamId,
        delivery_time: i64,
        delivery_count: u64,
        consumer: &[u8],
    ) -> bool {
        if self.pel.contains_key(&id) {
            return false;
        }
        let Some(name) = self
            .consumers
            .get_key_value(consumer)
            .map(|(k, _)| k.clone())
        else {
            return false;
        };
        self.pel.insert(
            id,
            Nack {
                delivery_time,
                delivery_count,
                consumer: name.clone(),
            },
        );
        if let Some(c) = self.consumers.get_mut(&name) {
            c.pel.insert(id);
        }
        true
    }

    /// Deletes consumer `name` with its pending entries (they leave the
    /// group PEL too). The number of entries it had pending, or None if it
    /// does not exist.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Acknowledges `id`: removes it from the PEL. False if not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Records the delivery of `id` to `consumer` by a `>` read: a new
    /// NACK, or an existing one (the group's last ID was moved back by
    /// XGROUP SETID) handed over with its counter restarted at one.
    /// `consumer` must exist.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now: i64) {
        let Some(name) = self
            .consumers
            .get_key_value(consumer)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        if let Some(old) = self.pel.insert(
            id,
            Nack {
                delivery_time: now,
                delivery_count: 1,
                consumer: name.clone(),
            },
        ) {
            if let Some(prev) = self.consumers.get_mut(&old.consumer) {
                prev.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(&name) {
            c.pel.insert(id);
            c.active_time = now;
        }
    }

    /// Counts one more delivery of a pending entry served again from a
    /// consumer's history.
    pub fn redeliver(&mut self, id: StreamId, now: i64) {
        if let Some(n) = self.pel.get_mut(&id) {
            n.delivery_time = now;
            n.delivery_count += 1;
        }
    }

    /// Hands the pending entry `id` to `consumer` (which must exist),
    /// creating the NACK if `create` (XCLAIM FORCE). Returns false when
    /// the entry is not pending (and not created), or when `min_idle` > 0
    /// and it was delivered less than `min_idle` ms before `now` (a NACK
    /// just created by FORCE ignores `min_idle`).
    #[allow(clippy::too_many_arguments)]
    pub fn claim(
        &mut self,
        id: StreamId,
        consumer: &[u8],
        now: i64,
        min_idle: i64,
        delivery_time: i64,
        count: CountUpdate,
        create: bool,
    ) -> bool {
        let Some(name) = self
            .consumers
            .get_key_value(consumer)
            .map(|(k, _)| k.clone())
        else {
            return false;
        };
        let fresh = !self.pel.contains_key(&id);
        if fresh && !create {
            return false;
        }
        if !fresh && min_idle > 0 {
            if let Some(n) = self.pel.get(&id) {
                if now - n.delivery_time < min_idle {
                    return false;
                }
            }
        }
        let nack = self.pel.entry(id).or_insert_with(|| Nack {
            delivery_time: now,
            // A NACK made by FORCE starts at one delivery (Valkey's
            // `streamCreateNACK`), then gets the counter update below.
            delivery_count: 1,
            consumer: name.clone(),
        });
        let previous = if fresh {
            None
        } else {
            Some(std::mem::replace(&mut nack.consumer, name.clone()))
        };
        nack.delivery_time = delivery_time;
        match count {
            CountUpdate::Set(n) => nack.delivery_count = n,
            CountUpdate::Increment => nack.delivery_count += 1,
            CountUpdate::Keep => {}
        }
        if let Some(prev) = previous {
            if prev != name {
                if let Some(p) = self.consumers.get_mut(&prev) {
                    p.pel.remove(&id);
                }
            }
        }
        if let Some(c) = self.consumers.get_mut(&name) {
            c.pel.insert(id);
            c.active_time = now;
        }
        true
    }

    /// Drops a pending entry whose stream entry no longer exists. Returns
    /// whether it was pending.
    pub fn forget(&mut self, id: StreamId) -> bool {
        self.ack(id)
    }

    /// Bytes this group holds in the allocator, estimated from the sizes of
    /// its maps (a B-tree leaf is a little over half full on average).
    pub fn memory_usage(&self) -> usize {
        use std::mem::size_of;
        let mut n = size_of::<Group>();
        n += btree_bytes(self.pel.len(), size_of::<StreamId>() + size_of::<Nack>());
        n += btree_bytes(
            self.consumers.len(),
            size_of::<Arc<[u8]>>() + size_of::<Consumer>(),
        );
        for c in self.consumers.values() {
            // The name: Arc's two counters and the bytes.
            n += crate::alloc::alloc_size(16 + c.name.len());
            n += btree_bytes(c.pel.len(), size_of::<StreamId>());
        }
        n
    }

    /// Allocations a drop frees, roughly.
    pub fn free_effort(&self) -> usize {
        1 + self.pel.len() / 6 + self.consumers.len()
    }
}

/// Estimated bytes of a B-tree holding `len` elements of `elem` bytes:
/// nodes of 11 slots, about 55% full.
pub(crate) fn btree_bytes(len: usize, elem: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len * elem * 11).div_ceil(6) + 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64) -> StreamId {
        StreamId { ms, seq: 0 }
    }

    #[test]
    fn deliver_ack_and_reassign() {
        let mut g = Group::new(StreamId::default(), 0);
        assert!(g.create_consumer(b"alice", 10));
        assert!(!g.create_consumer(b"alice", 11));
        assert!(g.create_consumer(b"bob", 10));
        g.deliver(id(1), b"alice", 20);
        g.deliver(id(2), b"alice", 20);
        assert_eq!(g.pel().len(), 2);
        assert_eq!(g.consumer(b"alice").unwrap().pending().len(), 2);
        assert_eq!(g.consumer(b"alice").unwrap().active_time, 20);
        // Delivered again to another consumer (after SETID): moved, count 1.
        g.redeliver(id(1), 25);
        assert_eq!(g.pel()[&id(1)].delivery_count, 2);
        g.deliver(id(1), b"bob", 30);
        assert_eq!(g.pel()[&id(1)].consumer(), b"bob");
        assert_eq!(g.pel()[&id(1)].delivery_count, 1);
        assert_eq!(g.consumer(b"alice").unwrap().pending().len(), 1);
        assert!(g.ack(id(2)));
        assert!(!g.ack(id(2)));
        assert_eq!(g.consumer(b"alice").unwrap().pending().len(), 0);
        assert_eq!(g.delete_consumer(b"bob"), Some(1));
        assert_eq!(g.delete_consumer(b"bob"), None);
        assert!(g.pel().is_empty());
    }

    #[test]
    fn claim_respects_min_idle_and_force() {
        let mut g = Group::new(StreamId::default(), 0);
        g.create_consumer(b"a", 0);
        g.create_consumer(b"b", 0);
        g.deliver(id(1), b"a", 100);
        assert!(!g.claim(id(1), b"b", 150, 100, 150, CountUpdate::Increment, false));
        assert!(g.claim(id(1), b"b", 250, 100, 250, CountUpdate::Increment, false));
        assert_eq!(g.pel()[&id(1)].delivery_count, 2);
        assert_eq!(g.pel()[&id(1)].consumer(), b"b");
        assert!(g.consumer(b"a").unwrap().pending().is_empty());
        assert!(!g.claim(id(2), b"b", 250, 0, 250, CountUpdate::Keep, false));
        assert!(g.claim(id(2), b"b", 250, 1000, 7, CountUpdate::Set(5), true));
        assert_eq!(g.pel()[&id(2)].delivery_count, 5);
        assert_eq!(g.pel()[&id(2)].delivery_time, 7);
        assert_eq!(g.consumer(b"b").unwrap().pending().len(), 2);
    }
}
