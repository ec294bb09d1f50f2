//! Pub/sub: who is subscribed to what, and delivering messages.
//!
//! Three namespaces, as in Valkey: channels (SUBSCRIBE/PUBLISH), patterns
//! (PSUBSCRIBE, matched with the glob rules of KEYS) and shard channels
//! (SSUBSCRIBE/SPUBLISH, a namespace of their own outside cluster mode).
//! Subscribers are kept in subscription order per channel, so messages
//! reach them in a stable order. A message for another client goes straight
//! into its output buffer (bounded by `client-output-buffer-limit pubsub`,
//! checked when the buffer is flushed); one for the client whose command is
//! running goes into that command's reply buffer, ahead of its reply, as in
//! Valkey.

use super::Server;
use crate::resp::{Protocol, Reply};
use std::collections::HashMap;

/// The three subscription namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    /// The reply kinds: (subscribe, unsubscribe, message).
    pub fn words(self) -> (&'static [u8], &'static [u8], &'static [u8]) {
        match self {
            Kind::Channel => (b"subscribe", b"unsubscribe", b"message"),
            Kind::Pattern => (b"psubscribe", b"punsubscribe", b"pmessage"),
            Kind::Shard => (b"ssubscribe", b"sunsubscribe", b"smessage"),
        }
    }
}

/// Subscriptions, server side: name -> subscriber ids in subscription order.
#[derive(Default)]
pub struct PubSub {
    pub channels: HashMap<Vec<u8>, Vec<u64>>,
    pub patterns: HashMap<Vec<u8>, Vec<u64>>,
    pub shard_channels: HashMap<Vec<u8>, Vec<u64>>,
    /// Per client: its subscriptions of each kind, in subscription order.
    pub by_client: HashMap<u64, ClientSubs>,
}

#[derive(Default, Clone, Debug)]
pub struct ClientSubs {
    pub channels: Vec<Vec<u8>>,
    pub patterns: Vec<Vec<u8>>,
    pub shard_channels: Vec<Vec<u8>>,
}

impl ClientSubs {
    pub fn of(&self, kind: Kind) -> &Vec<Vec<u8>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard_channels,
        }
    }

    fn of_mut(&mut self, kind: Kind) -> &mut Vec<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    pub fn total(&self) -> usize {
        self.channels.len() + self.patterns.len() + self.shard_channels.len()
    }
}

impl PubSub {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Vec<u64>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    pub fn map_ref(&self, kind: Kind) -> &HashMap<Vec<u8>, Vec<u64>> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard_channels,
        }
    }

    /// Subscribes; false if the client already was.
    pub fn subscribe(&mut self, id: u64, kind: Kind, name: &[u8]) -> bool {
        let subs = self.by_client.entry(id).or_default().of_mut(kind);
        if subs.iter().any(|n| n == name) {
            return false;
        }
        subs.push(name.to_vec());
        self.map(kind).entry(name.to_vec()).or_default().push(id);
        true
    }

    /// Unsubscribes; false if the client was not subscribed.
    pub fn unsubscribe(&mut self, id: u64, kind: Kind, name: &[u8]) -> bool {
        let Some(cs) = self.by_client.get_mut(&id) else {
            return false;
        };
        let subs = cs.of_mut(kind);
        let Some(i) = subs.iter().position(|n| n == name) else {
            return false;
        };
        subs.remove(i);
        if cs.total() == 0 {
            self.by_client.remove(&id);
        }
        let map = self.map(kind);
        if let Some(ids) = map.get_mut(name) {
            ids.retain(|&c| c != id);
            if ids.is_empty() {
                map.remove(name);
            }
        }
        true
    }

    /// A client's subscriptions of one kind (for UNSUBSCRIBE with no
    /// arguments, RESET, disconnects).
    pub fn names_of(&self, id: u64, kind: Kind) -> Vec<Vec<u8>> {
        self.by_client
            .get(&id)
            .map(|c| c.of(kind).clone())
            .unwrap_or_default()
    }

    /// Subscription count of a client (the number in (un)subscribe replies).
    pub fn count_of(&self, id: u64) -> (usize, usize, usize) {
        self.by_client.get(&id).map_or((0, 0, 0), |c| {
            (c.channels.len(), c.patterns.len(), c.shard_channels.len())
        })
    }

    /// Forgets every subscription of a client that went away.
    pub fn forget(&mut self, id: u64) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for name in self.names_of(id, kind) {
                self.unsubscribe(id, kind, &name);
            }
        }
    }
}

/// Writes a (un)subscribe confirmation or message header as Valkey does:
/// an array in RESP2, a push in RESP3.
pub fn write_header(out: &mut Reply, n: usize) {
    if out.protocol() == Protocol::Resp3 {
        out.push(n);
    } else {
        out.array(n);
    }
}

/// `message`/`smessage` (channel, payload) or `pmessage` (pattern,
/// channel, payload) in `out`'s protocol.
fn write_message(out: &mut Reply, kind: Kind, pattern: Option<&[u8]>, channel: &[u8], msg: &[u8]) {
    let (_, _, word) = kind.words();
    match pattern {
        Some(p) => {
            write_header(out, 4);
            out.bulk(word);
            out.bulk(p);
        }
        None => {
            write_header(out, 3);
            out.bulk(word);
        }
    }
    out.bulk(channel);
    out.bulk(msg);
}

/// Delivers `msg` on `channel` (channels and matching patterns, or shard
/// channels) and returns the number of receivers. A message to the
/// running client goes after its reply.
pub fn publish(srv: &mut Server, shard: bool, channel: &[u8], msg: &[u8]) -> usize {
    let mut deliveries: Vec<(u64, Option<Vec<u8>>)> = Vec::new();
    let kind = if shard { Kind::Shard } else { Kind::Channel };
    if let Some(ids) = srv.pubsub.map_ref(kind).get(channel) {
        deliveries.extend(ids.iter().map(|&id| (id, None)));
    }
    if !shard && !srv.pubsub.patterns.is_empty() {
        for (p, ids) in &srv.pubsub.patterns {
            if crate::util::glob::glob_match(p, channel, false) {
                deliveries.extend(ids.iter().map(|&id| (id, Some(p.clone()))));
            }
        }
    }
    for (id, pattern) in &deliveries {
        let k = if pattern.is_some() {
            Kind::Pattern
        } else {
            kind
        };
        if let Some(me) = srv.current.filter(|c| c.id == *id) {
            // The running client (out of its slot): after its reply.
            let mut r = Reply::new(if me.resp3 {
                Protocol::Resp3
            } else {
                Protocol::Resp2
            });
            write_message(&mut r, k, pattern.as_deref(), channel, msg);
            srv.pending_push.extend_from_slice(r.buf());
            continue;
        }
        let Some(&slot) = srv.client_slots.get(id) else {
            continue;
        };
        let Some(Some(c)) = srv.clients.get_mut(slot) else {
            continue;
        };
        if c.state.killed {
            continue;
        }
        write_message(&mut c.out, k, pattern.as_deref(), channel, msg);
        srv.pubsub_writes.push(slot);
    }
    deliveries.len()
}
