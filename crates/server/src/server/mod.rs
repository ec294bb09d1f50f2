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
use crate::keyspace::{Access, Keyspace, Now};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Valkey's `ERRORSTATS_LIMIT`: distinct error codes tracked by INFO
/// errorstats before new ones are folded into `ERRORSTATS_OVERFLOW`.
pub const ERRORSTATS_LIMIT: usize = 128;

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
    /// Socket reads / writes that moved data (`total_reads_processed`...).
    pub total_reads_processed: u64,
    pub total_writes_processed: u64,
    pub client_query_buffer_limit_disconnections: u64,
    pub client_output_buffer_limit_disconnections: u64,
    /// Failed AUTH / HELLO AUTH attempts (`acl_access_denied_auth`).
    pub acl_access_denied_auth: u64,
    /// Event loop iterations, and microseconds spent in them (not counting
    /// the wait in poll) and in commands.
    pub eventloop_cycles: u64,
    pub eventloop_duration_sum: u64,
    pub eventloop_duration_cmd_sum: u64,
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

/// Valkey's `STATS_METRIC_SAMPLES`: instantaneous metrics average this many
/// samples, one taken every 100 ms.
const METRIC_SAMPLES: usize = 16;

/// One instantaneous metric (`instantaneous_ops_per_sec`...): a rate per
/// second sampled from a growing counter.
#[derive(Default, Clone)]
pub struct InstantMetric {
    samples: [u64; METRIC_SAMPLES],
    idx: usize,
    last_value: u64,
    last_ms: i64,
}

impl InstantMetric {
    /// Records the rate since the previous sample.
    pub fn track(&mut self, value: u64, now_ms: i64) {
        let elapsed = now_ms - self.last_ms;
        let delta = value.saturating_sub(self.last_value);
        let rate = if elapsed > 0 && self.last_ms > 0 {
            delta * 1000 / elapsed as u64
        } else {
            0
        };
        self.samples[self.idx] = rate;
        self.idx = (self.idx + 1) % METRIC_SAMPLES;
        self.last_value = value;
        self.last_ms = now_ms;
    }

    /// The average of the samples.
    pub fn get(&self) -> u64 {
        self.samples.iter().sum::<u64>() / METRIC_SAMPLES as u64
    }
}

/// The instantaneous metrics of INFO stats.
#[derive(Default, Clone)]
pub struct Metrics {
    pub ops: InstantMetric,
    pub net_input: InstantMetric,
    pub net_output: InstantMetric,
    pub el_cycles: InstantMetric,
    pub el_duration: InstantMetric,
    last_ms: i64,
}

/// SLOWLOG limits: longer commands are logged with their first 31
/// arguments and a "... (N more arguments)" marker; longer arguments are cut.
pub const SLOWLOG_ENTRY_MAX_ARGC: usize = 32;
pub const SLOWLOG_ENTRY_MAX_STRING: usize = 128;

pub struct SlowlogEntry {
    pub id: u64,
    pub time: i64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    pub peer: String,
    pub name: Vec<u8>,
}

/// The slow log: newest entry first.
#[derive(Default)]
pub struct Slowlog {
    pub entries: VecDeque<SlowlogEntry>,
    pub next_id: u64,
}

/// Valkey's `LATENCY_TS_LEN`: samples kept per latency event.
pub const LATENCY_TS_LEN: usize = 160;

/// The time series of one latency event (`LATENCY HISTORY`): one sample
/// per second at most, the worst of that second.
pub struct LatencySeries {
    /// Index of the next sample to store.
    pub idx: usize,
    /// Worst latency since the last reset.
    pub max: u64,
    /// (unix seconds, milliseconds); time 0 = empty slot.
    pub samples: [(i64, u64); LATENCY_TS_LEN],
}

impl LatencySeries {
    fn new() -> LatencySeries {
        LatencySeries {
            idx: 0,
            max: 0,
            samples: [(0, 0); LATENCY_TS_LEN],
        }
    }

    /// Samples oldest first.
    pub fn history(&self) -> impl Iterator<Item = (i64, u64)> + '_ {
        (0..LATENCY_TS_LEN)
            .map(move |j| self.samples[(self.idx + j) % LATENCY_TS_LEN])
            .filter(|s| s.0 != 0)
    }

    /// The latest sample.
    pub fn latest(&self) -> (i64, u64) {
        self.samples[(self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]
    }

    fn add(&mut self, now: i64, ms: u64) {
        self.max = self.max.max(ms);
        let prev = (self.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
        if self.samples[prev].0 == now {
            self.samples[prev].1 = self.samples[prev].1.max(ms);
            return;
        }
        self.samples[self.idx] = (now, ms);
        self.idx = (self.idx + 1) % LATENCY_TS_LEN;
    }
}

/// A `CLIENT PAUSE` in effect: until `end_ms` (unix ms), for every command
/// (`all`) or only for those that may write or replicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientPause {
    pub end_ms: i64,
    pub all: bool,
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
    /// `DEBUG SET-ACTIVE-EXPIRE 0` turns the cron's active expiry off.
    pub active_expire_enabled: bool,
    pub slowlog: Slowlog,
    /// LATENCY events by name.
    pub latency: BTreeMap<String, Box<LatencySeries>>,
    /// Clients in MONITOR mode: (id, slot).
    pub monitors: Vec<(u64, usize)>,
    /// Slots of clients that got output from another client's command
    /// (MONITOR feed): the event loop flushes them.
    pub pending_writes: Vec<usize>,
    /// A client was killed by CLIENT KILL: the event loop closes it.
    pub kill_pending: bool,
    /// The current CLIENT PAUSE, if any.
    pub pause: Option<ClientPause>,
    /// The pause ended or got less restrictive: postponed clients must be
    /// run again.
    pub resume_postponed: bool,
    pub metrics: Metrics,
    /// Highest `used_memory` seen.
    pub peak_memory: usize,
    /// `used_memory` once the server was initialised.
    pub startup_memory: usize,
    /// `run_id` of INFO server, and the replication IDs.
    pub run_id: String,
    pub replid: String,
    pub replid2: String,
    rng_state: u64,
}

/// 40 random hex characters (run ids, replication ids), from the kernel's
/// random source or, failing that, the clock and the process id.
pub fn random_hex40() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 20];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    if !ok {
        let mut x = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ ((std::process::id() as u64) << 32)
            | 1;
        for b in &mut bytes {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Server {
    pub fn new(config: Config) -> Server {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut srv = Server {
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
            active_expire_enabled: true,
            slowlog: Slowlog::default(),
            latency: BTreeMap::new(),
            monitors: Vec::new(),
            pending_writes: Vec::new(),
            kill_pending: false,
            pause: None,
            resume_postponed: false,
            metrics: Metrics::default(),
            peak_memory: 0,
            startup_memory: 0,
            run_id: random_hex40(),
            replid: random_hex40(),
            replid2: "0".repeat(40),
            rng_state: (unix ^ 0x9e37_79b9_7f4a_7c15) | 1,
        };
        srv.refresh_now();
        srv.startup_memory = crate::alloc::used_memory();
        srv.peak_memory = srv.startup_memory;
        srv
    }

    /// How lookups update access clocks under the current
    /// `maxmemory-policy`: LFU counters for the LFU policies, LRU seconds
    /// otherwise.
    pub fn access_mode(&self) -> Access {
        if self.config.maxmemory_policy.is_lfu() {
            Access::Lfu {
                log_factor: self.config.lfu_log_factor,
                decay_time: self.config.lfu_decay_time,
            }
        } else {
            Access::Lru
        }
    }

    /// Refreshes the cached time commands see (`Server::now`).
    pub fn refresh_now(&mut self) {
        crate::keyspace::record::MAXMEMORY.with(|m| m.set(self.config.maxmemory));
        self.now = Now::from_system_with(self.access_mode());
    }

    /// Moves the databases' expiry counts into the stats, and invalidates
    /// WATCHes on keys that expired (Valkey signals an expired key as
    /// modified when it deletes it).
    pub fn collect_expired(&mut self) {
        for i in 0..self.keyspace.dbs.len() {
            let (n, keys) = self.keyspace.dbs[i].take_expired();
            if n == 0 {
                continue;
            }
            self.stats.expired_keys += n;
            for k in keys {
                self.key_modified(i, &k);
            }
        }
    }

    /// Expired key names are only worth keeping while someone WATCHes.
    pub fn sync_expired_logging(&mut self) {
        let on = !self.watchers.is_empty();
        for db in &mut self.keyspace.dbs {
            db.log_expired = on;
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

    /// Number of connected clients, the one running a command included,
    /// killed ones (about to be closed) excluded.
    pub fn connected_clients(&self) -> usize {
        self.other_clients().filter(|c| !c.state.killed).count() + 1
    }

    /// Records a latency sample for `event` if the latency monitor is on and
    /// `ms` reaches its threshold (Valkey's `latencyAddSampleIfNeeded`).
    pub fn latency_add_sample_if_needed(&mut self, event: &str, ms: u64) {
        let threshold = self.config.latency_monitor_threshold;
        if threshold == 0 || ms < threshold {
            return;
        }
        let now = (self.now.ms / 1000).max(1);
        self.latency
            .entry(event.to_string())
            .or_insert_with(|| Box::new(LatencySeries::new()))
            .add(now, ms);
    }

    /// CLIENT PAUSE: keeps the later end time and the more restrictive mode
    /// (a WRITE pause does not weaken a running ALL pause).
    pub fn pause_clients(&mut self, end_ms: i64, all: bool) {
        let now = self.now.ms;
        let current = self.pause.filter(|p| p.end_ms > now);
        let all = all || current.is_some_and(|p| p.all);
        let end_ms = end_ms.max(current.map_or(0, |p| p.end_ms));
        self.pause = Some(ClientPause { end_ms, all });
        self.update_pause(now);
    }

    /// CLIENT UNPAUSE.
    pub fn unpause_clients(&mut self) {
        if self.pause.take().is_some() {
            self.resume_postponed = true;
        }
    }

    /// Ends an expired pause (Valkey's `updatePausedActions`); postponed
    /// clients are run again when the pause ends or weakens.
    pub fn update_pause(&mut self, now_ms: i64) {
        if let Some(p) = self.pause {
            if p.end_ms <= now_ms {
                self.pause = None;
                self.resume_postponed = true;
            }
        }
    }

    /// The pause in effect now, if any.
    pub fn active_pause(&self) -> Option<ClientPause> {
        self.pause.filter(|p| p.end_ms > self.now.ms)
    }

    /// Samples the instantaneous metrics (every 100 ms from the event loop)
    /// and the memory peak.
    pub fn track_metrics(&mut self) {
        let now = self.now.ms;
        let used = crate::alloc::used_memory();
        self.peak_memory = self.peak_memory.max(used);
        if now - self.metrics.last_ms < 100 {
            return;
        }
        self.metrics.last_ms = now;
        let st = &self.stats;
        let m = &mut self.metrics;
        m.ops.track(st.total_commands_processed, now);
        m.net_input.track(st.total_net_input_bytes, now);
        m.net_output.track(st.total_net_output_bytes, now);
        m.el_cycles.track(st.eventloop_cycles, now);
        m.el_duration.track(st.eventloop_duration_sum, now);
    }
}

/// Appends `s` quoted and escaped like Valkey's `sdscatrepr` (MONITOR lines,
/// log lines): `"a\"b\n\x01"`.
pub fn cat_repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        let mut v = Vec::new();
        cat_repr(&mut v, b"a\"b\\c\n\r\t\x07\x08\x01\xff z");
        assert_eq!(v, b"\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\xff z\"");
    }

    #[test]
    fn instant_metric_averages_rates() {
        let mut m = InstantMetric::default();
        m.track(0, 1000);
        for i in 1..=16 {
            m.track(i * 100, 1000 + i as i64 * 100);
        }
        // 100 per 100 ms = 1000 per second in every sample.
        assert_eq!(m.get(), 1000);
    }

    #[test]
    fn latency_series_keeps_worst_per_second() {
        let mut s = LatencySeries::new();
        s.add(10, 5);
        s.add(10, 3);
        s.add(10, 9);
        s.add(11, 1);
        assert_eq!(s.history().collect::<Vec<_>>(), [(10, 9), (11, 1)]);
        assert_eq!(s.latest(), (11, 1));
        assert_eq!(s.max, 9);
    }

    #[test]
    fn random_ids_are_40_hex() {
        let a = random_hex40();
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex40());
    }
}
