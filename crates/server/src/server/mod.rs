//! The server: its state ([`Server`]), its clients, the event loop (`net`)
//! and the periodic tasks (`cron`).
//!
//! One thread owns a `Server` and runs every command to completion, as Valkey
//! does, so MULTI/EXEC is isolated for free. Nothing here is a global: a
//! future split of the keyspace by slot range across threads would give each
//! thread its own `Server`-like shard.

pub mod client;
pub mod cron;
pub mod evict;
pub mod exec;
pub mod net;

pub use client::{Client, ClientState};

use crate::config::Config;
use crate::keyspace::{Keyspace, Now};
use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Counters reported by INFO stats / commandstats / errorstats.
#[derive(Default)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub rejected_connections: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_net_input_bytes: u64,
    pub total_net_output_bytes: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    /// Per command: (calls, microseconds, rejected_calls, failed_calls).
    pub commands: HashMap<&'static str, CommandStats>,
    /// Per error code ("ERR", "WRONGTYPE", ...).
    pub errors: HashMap<String, u64>,
}

#[derive(Default, Clone, Copy)]
pub struct CommandStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

pub struct Server {
    pub config: Config,
    pub keyspace: Keyspace,
    /// The time for the command being run (cached like Valkey's `mstime`).
    pub now: Now,
    /// Changes since the last save.
    pub dirty: u64,
    pub stats: Stats,
    pub clients: Vec<Option<Box<Client>>>,
    pub next_client_id: u64,
    /// WATCHed keys: (db, key) -> ids of the clients watching it.
    pub watchers: HashMap<(usize, Vec<u8>), Vec<u64>>,
    /// Clients whose WATCHed keys changed: their EXEC will fail.
    pub cas_dirty: HashSet<u64>,
    pub start: Instant,
    pub start_unix: u64,
    pub lastsave_unix: u64,
    pub shutdown: bool,
    rng_state: u64,
}

impl Server {
    pub fn new(config: Config) -> Server {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Server {
            keyspace: Keyspace::new(config.databases),
            config,
            now: Now::from_system(),
            dirty: 0,
            stats: Stats::default(),
            clients: Vec::new(),
            next_client_id: 1,
            watchers: HashMap::new(),
            cas_dirty: HashSet::new(),
            start: Instant::now(),
            start_unix: unix,
            lastsave_unix: unix,
            shutdown: false,
            rng_state: (unix ^ 0x9e37_79b9_7f4a_7c15) | 1,
        }
    }

    /// Invalidates the WATCHes on `key` of database `db`.
    pub fn key_modified(&mut self, db: usize, key: &[u8]) {
        if self.watchers.is_empty() {
            return;
        }
        if let Some(ids) = self.watchers.get(&(db, key.to_vec())) {
            self.cas_dirty.extend(ids.iter().copied());
        }
    }

    /// Invalidates every WATCH on database `db` (FLUSHDB, SWAPDB), or on all
    /// databases when `db` is None.
    pub fn db_modified(&mut self, db: Option<usize>) {
        for ((d, _), ids) in &self.watchers {
            if db.is_none_or(|db| db == *d) {
                self.cas_dirty.extend(ids.iter().copied());
            }
        }
    }

    /// A fast pseudo-random number (xorshift64*), for sampling.
    pub fn random(&mut self) -> u64 {
        let mut x = self.rng_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng_state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn uptime_secs(&self) -> u64 {
        self.start.elapsed().as_secs()
    }

    /// Live clients, the one running a command excluded (it is taken out of
    /// the list while it runs).
    pub fn other_clients(&self) -> impl Iterator<Item = &Client> {
        self.clients.iter().flatten().map(|c| &**c)
    }
}
