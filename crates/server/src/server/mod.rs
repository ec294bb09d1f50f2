//! The server: its state ([`Server`]), its clients, the event loop (`net`)
//! and the periodic tasks (`cron`).
//!
//! One thread owns a `Server` and runs every command to completion, as Valkey
//! does, so MULTI/EXEC is isolated for free. Nothing here is a global: a
//! future split of the keyspace by slot range across threads would give each
//! thread its own `Server`-like shard.

pub mod blocking;
pub mod client;
pub mod cron;
pub mod evict;
pub mod exec;
pub mod net;
pub mod pubsub;

pub use client::{Client, ClientState};

use crate::config::Config;
use crate::keyspace::{Access, Keyspace, Now};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
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
    /// Updated after every command: the fast hash, not SipHash.
    pub commands: HashMap<&'static str, CommandStats, ferrokey_table::DefaultHashBuilder>,
    /// Per error code ("ERR", "WRONGTYPE", ...).
    pub errors: HashMap<String, u64>,
}

#[derive(Default, Clone)]
pub struct CommandStats {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
    /// Run times in nanoseconds (`latency-tracking`), created on the first
    /// call as Valkey allocates it lazily.
    pub latency: Option<Box<LatencyHistogram>>,
}

/// A per-command latency histogram with the bucket layout of the
/// HdrHistogram Valkey uses (`LATENCY HISTOGRAM`, INFO latencystats): values
/// in nanoseconds from 1 to 1e9, two significant digits. So values below 256
/// are exact, and each following power-of-two range is split in 128 steps
/// (256..511 by 2, 512..1023 by 4...). Reproducing the layout exactly
/// matters: replies print bucket bounds and percentiles taken from it.
///
/// Counts are kept sparse (most commands hit a handful of buckets) instead
/// of the 3072-slot array the C library allocates.
#[derive(Default, Clone, Debug)]
pub struct LatencyHistogram {
    /// Count per bucket index (HdrHistogram's `counts_index`).
    counts: BTreeMap<u16, u64>,
    total: u64,
}

impl LatencyHistogram {
    /// Valkey's `LATENCY_HISTOGRAM_MAX_VALUE` (1 s); smaller values than 1
    /// ns are recorded as 1.
    pub const MAX_VALUE: i64 = 1_000_000_000;
    /// log2 of half the sub-buckets per bucket: 2 significant digits need
    /// 200 distinct values, so 256 sub-buckets.
    const HALF_MAG: u32 = 7;
    const HALF: i64 = 1 << Self::HALF_MAG;
    const SUB_BUCKETS: i64 = 2 * Self::HALF;
    /// Buckets needed to reach MAX_VALUE (256 << 22 > 1e9), plus one.
    const COUNTS_LEN: i64 = 24 * Self::HALF;

    /// Records one run of `ns` nanoseconds, clamped to the tracked range.
    pub fn record(&mut self, ns: i64) {
        let v = ns.clamp(1, Self::MAX_VALUE);
        *self.counts.entry(Self::index_for(v) as u16).or_default() += 1;
        self.total += 1;
    }

    /// Number of recorded values.
    pub fn total(&self) -> u64 {
        self.total
    }

    fn bucket_of(v: i64) -> i64 {
        let pow2ceiling = 64 - (v | (Self::SUB_BUCKETS - 1)).leading_zeros() as i64;
        pow2ceiling - (Self::HALF_MAG as i64 + 1)
    }

    fn index_for(v: i64) -> i64 {
        let b = Self::bucket_of(v);
        let sub = v >> b;
        ((b + 1) << Self::HALF_MAG) + (sub - Self::HALF)
    }

    /// The lowest value counted at bucket index `i`.
    fn value_at(i: i64) -> i64 {
        let mut b = (i >> Self::HALF_MAG) - 1;
        let mut sub = (i & (Self::HALF - 1)) + Self::HALF;
        if b < 0 {
            sub -= Self::HALF;
            b = 0;
        }
        sub << b
    }

    fn lowest_equivalent(v: i64) -> i64 {
        let b = Self::bucket_of(v);
        (v >> b) << b
    }

    fn highest_equivalent(v: i64) -> i64 {
        let b = Self::bucket_of(v);
        let sub = v >> b;
        let size = if sub >= Self::SUB_BUCKETS {
            2i64 << b
        } else {
            1i64 << b
        };
        ((sub << b) + size) - 1
    }

    fn count_at(&self, i: i64) -> u64 {
        u16::try_from(i)
            .ok()
            .and_then(|i| self.counts.get(&i))
            .copied()
            .unwrap_or(0)
    }

    /// The cumulative distribution `LATENCY HISTOGRAM` prints: (bucket upper
    /// bound in microseconds, calls up to it), on power-of-two bucket bounds
    /// from 1024 ns, only where the count grew. Walks the buckets the way
    /// HdrHistogram's logarithmic iterator does, including its quirk of
    /// counting the bucket that reaches a bound into that bound.
    pub fn cdf(&self) -> Vec<(i64, u64)> {
        let mut out = Vec::new();
        let (mut cur, mut cum, mut value, mut highest) = (-1i64, 0u64, 0i64, 0i64);
        let mut level: i64 = 1024;
        let mut level_lowest = Self::lowest_equivalent(level);
        let mut previous = 0;
        loop {
            let more = cum < self.total
                || (cur < Self::COUNTS_LEN && Self::value_at(cur + 1) > level_lowest);
            if !more {
                break;
            }
            loop {
                if value >= level_lowest {
                    level = level.saturating_mul(2);
                    level_lowest = Self::lowest_equivalent(level);
                    break;
                }
                cur += 1;
                if cur >= Self::COUNTS_LEN {
                    break;
                }
                cum += self.count_at(cur);
                value = Self::value_at(cur);
                highest = Self::highest_equivalent(value);
            }
            if cum > previous {
                out.push((highest / 1000, cum));
            }
            previous = cum;
        }
        out
    }

    /// HdrHistogram's `hdr_value_at_percentile`, in nanoseconds: the
    /// highest value equivalent to the bucket where the cumulative count
    /// reaches `percentile` of the total.
    pub fn value_at_percentile(&self, percentile: f64) -> i64 {
        let p = percentile.min(100.0);
        let wanted = (((p / 100.0) * self.total as f64) + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut cum = 0;
        let mut found = 0;
        for (&i, &n) in &self.counts {
            cum += n;
            if cum >= wanted {
                found = Self::value_at(i as i64);
                break;
            }
        }
        if percentile == 0.0 {
            Self::lowest_equivalent(found)
        } else {
            Self::highest_equivalent(found)
        }
    }
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

/// The client whose command is running (it is out of `Server::clients`
/// meanwhile): what messages for it need to know.
#[derive(Clone, Copy, Debug)]
pub struct Current {
    pub id: u64,
    pub resp3: bool,
    pub pubsub: bool,
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
    /// DEBUG PAUSE-CRON: the periodic work (expiry, rehashing, eviction,
    /// idle clients, BGSAVE triggers) is skipped while set.
    pub pause_cron: bool,
    pub slowlog: Slowlog,
    /// LATENCY events by name.
    pub latency: BTreeMap<String, Box<LatencySeries>>,
    /// Clients in MONITOR mode: (id, slot).
    pub monitors: Vec<(u64, usize)>,
    /// Slots of clients that got output from another client's command
    /// (MONITOR feed): the event loop flushes them.
    pub pending_writes: Vec<usize>,
    /// Slots of subscribers that got pub/sub messages. The event loop
    /// writes them once no more requests are waiting (or a few rounds on),
    /// so one write carries the messages of several publishes.
    pub pubsub_writes: Vec<usize>,
    /// A client was killed by CLIENT KILL: the event loop closes it.
    pub kill_pending: bool,
    /// The current CLIENT PAUSE, if any.
    pub pause: Option<ClientPause>,
    /// The pause ended or got less restrictive: postponed clients must be
    /// run again.
    pub resume_postponed: bool,
    /// Clients blocked on keys, and their deadlines as (ms, client id).
    pub blocked_clients: usize,
    /// Pub/sub subscriptions.
    pub pubsub: pubsub::PubSub,
    /// Slots of clients CLIENT UNBLOCK released: their pipelines run next.
    pub unblocked: Vec<usize>,
    pub block_deadlines: BTreeSet<(i64, u64)>,
    pub metrics: Metrics,
    /// Highest `used_memory` seen.
    pub peak_memory: usize,
    /// `used_memory` once the server was initialised.
    pub startup_memory: usize,
    /// `run_id` of INFO server, and the replication IDs.
    pub run_id: String,
    pub replid: String,
    pub replid2: String,
    /// The listening sockets, and the poll registry they are registered
    /// with: CONFIG SET port / bind replaces them (see `net::rebind_listeners`).
    pub listeners: Vec<mio::net::TcpListener>,
    pub registry: Option<mio::Registry>,
    /// Live clients' slots in `clients`, by id (Valkey's
    /// `lookupClientByID`).
    pub client_slots: HashMap<u64, usize>,
    /// The client running a command, if any.
    pub current: Option<Current>,
    /// Push messages for the running client: they follow its reply.
    pub pending_push: Vec<u8>,
    /// CLIENT TRACKING state.
    pub tracking: tracking::Tracking,
    /// How the running command is to be propagated (see
    /// `Ctx::propagate_as`), consumed by the executor after each command.
    pub propagation: Propagation,
    /// RDB/AOF bookkeeping (INFO persistence, save points).
    pub persist: crate::persistence::State,
    /// The background child (BGSAVE, BGREWRITEAOF), if one runs.
    pub child: Option<crate::persistence::child::Child>,
    /// MIGRATE's cached connections to its targets.
    pub migrate_sockets: crate::commands::migrate::SocketCache,
    rng_state: u64,
}

/// Propagation overrides collected while one command runs.
#[derive(Default, Debug)]
pub struct Propagation {
    /// The command propagates as `rewritten` rather than as called.
    pub replaced: bool,
    pub rewritten: Vec<Vec<u8>>,
    /// Extra commands to propagate after it: (db, argv).
    pub also: Vec<(usize, Vec<Vec<u8>>)>,
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
            pause_cron: false,
            slowlog: Slowlog::default(),
            latency: BTreeMap::new(),
            monitors: Vec::new(),
            pending_writes: Vec::new(),
            pubsub_writes: Vec::new(),
            kill_pending: false,
            pause: None,
            resume_postponed: false,
            blocked_clients: 0,
            pubsub: Default::default(),
            unblocked: Vec::new(),
            block_deadlines: BTreeSet::new(),
            metrics: Metrics::default(),
            peak_memory: 0,
            startup_memory: 0,
            run_id: random_hex40(),
            replid: random_hex40(),
            replid2: "0".repeat(40),
            listeners: Vec::new(),
            registry: None,
            client_slots: HashMap::new(),
            current: None,
            pending_push: Vec::new(),
            tracking: tracking::Tracking::default(),
            propagation: Propagation::default(),
            persist: crate::persistence::State::default(),
            child: None,
            migrate_sockets: Default::default(),
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
        self.now.expire_paused = self.pause.is_some_and(|p| p.end_ms > self.now.ms);
        self.now.lazy_expire = self.config.lazyfree_lazy_expire;
    }

    /// Moves the databases' expiry counts into the stats, and signals keys
    /// that expired as modified (Valkey does when it deletes one): WATCHes
    /// and client-side caching are invalidated.
    pub fn collect_expired(&mut self) {
        for i in 0..self.keyspace.dbs.len() {
            if !self.keyspace.dbs[i].has_expired() {
                continue;
            }
            let (n, keys) = self.keyspace.dbs[i].take_expired();
            self.stats.expired_keys += n;
            for k in keys {
                self.notify(crate::config::notify::EXPIRED, "expired", &k, i);
                // No client changed it: NOLOOP BCAST clients hear of it too.
                self.key_changed(i, &k, 0);
            }
        }
    }

    /// Valkey's `notifyKeyspaceEvent`: when `class` is enabled in
    /// `notify-keyspace-events`, publishes `event` on the key's keyspace
    /// channel and `key` on the event's keyevent channel. Messages for the
    /// running client follow its reply.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8], db: usize) {
        use crate::config::notify;
        let flags = self.config.notify_keyspace_events;
        if flags & class == 0 {
            return;
        }
        if flags & notify::KEYSPACE != 0 {
            let mut ch = format!("__keyspace@{db}__:").into_bytes();
            ch.extend_from_slice(key);
            pubsub::publish(self, false, &ch, event.as_bytes());
        }
        if flags & notify::KEYEVENT != 0 {
            let ch = format!("__keyevent@{db}__:{event}").into_bytes();
            pubsub::publish(self, false, &ch, key);
        }
    }

    /// Expired key names are only worth keeping while someone WATCHes or
    /// tracks keys.
    pub fn sync_expired_logging(&mut self) {
        let on = !self.watchers.is_empty()
            || self.tracking.active()
            || self.config.notify_keyspace_events & crate::config::notify::EXPIRED != 0;
        for db in &mut self.keyspace.dbs {
            db.log_expired = on;
        }
    }

    /// Signals a change to `key` of database `db` by the running client
    /// (Valkey's `signalModifiedKey`): its WATCHes fail and the clients
    /// tracking it are told.
    pub fn key_modified(&mut self, db: usize, key: &[u8]) {
        let by = self.current.map_or(0, |c| c.id);
        self.key_changed(db, key, by);
    }

    fn key_changed(&mut self, db: usize, key: &[u8], by: u64) {
        if !self.watchers.is_empty() {
            if let Some(ids) = self.watchers.get(&(db, key.to_vec())) {
                self.cas_dirty.extend(ids.iter().copied());
            }
        }
        if self.tracking.active() {
            tracking::invalidate_key(self, key, true, by);
        }
    }

    /// Whether a client with this id is connected (running or not).
    pub fn has_client(&self, id: u64) -> bool {
        self.client_slots.contains_key(&id) || self.current.is_some_and(|c| c.id == id)
    }

    /// The connected client `id`, unless it is the running one.
    fn idle_client_mut(&mut self, id: u64) -> Option<(usize, &mut Client)> {
        let slot = *self.client_slots.get(&id)?;
        let c = self.clients.get_mut(slot)?.as_deref_mut()?;
        (c.state.id == id).then_some((slot, c))
    }

    /// Whether client `id` speaks RESP3 (None if it is gone).
    pub fn client_resp3(&mut self, id: u64) -> Option<bool> {
        if let Some(c) = self.current.filter(|c| c.id == id) {
            return Some(c.resp3);
        }
        let (_, c) = self.idle_client_mut(id)?;
        Some(c.out.protocol() == crate::resp::Protocol::Resp3)
    }

    /// Whether client `id` is subscribed to something.
    pub fn client_pubsub(&mut self, id: u64) -> bool {
        if let Some(c) = self.current.filter(|c| c.id == id) {
            return c.pubsub;
        }
        self.idle_client_mut(id)
            .is_some_and(|(_, c)| c.state.is_pubsub())
    }

    /// Queues a push message for client `id`: after the reply of the
    /// running client, or at once in another client's output buffer.
    pub fn push_to(&mut self, id: u64, msg: &[u8]) {
        if self.current.is_some_and(|c| c.id == id) {
            self.pending_push.extend_from_slice(msg);
            return;
        }
        let Some((slot, c)) = self.idle_client_mut(id) else {
            return;
        };
        if c.state.killed {
            return;
        }
        c.out.raw(msg);
        self.pending_writes.push(slot);
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
    fn latency_histogram_buckets_like_hdr_histogram() {
        let mut h = LatencyHistogram::default();
        h.record(1000);
        // 1000 ns is counted at the first bound, 1024 ns (1031 ns wide).
        assert_eq!(h.cdf(), [(1, 1)]);
        let mut h = LatencyHistogram::default();
        h.record(35_000);
        // Counted at the bound after it, as HdrHistogram's iterator does.
        assert_eq!(h.cdf(), [(66, 1)]);
        assert_eq!(h.value_at_percentile(50.0), 35_071);
        assert_eq!(h.value_at_percentile(0.0), 35_072 - 256);
        h.record(1000);
        h.record(1000);
        assert_eq!(h.cdf(), [(1, 2), (66, 3)]);
        assert_eq!(h.total(), 3);
        // 1000 ns shares a 4 ns wide bucket: its upper end is reported.
        assert_eq!(h.value_at_percentile(50.0), 1003);
        assert_eq!(h.value_at_percentile(99.9), 35_071);
        // Below 1 ns and above 1 s are clamped; past the last bound the
        // last bucket's upper end is reported.
        let mut h = LatencyHistogram::default();
        h.record(0);
        h.record(5_000_000_000);
        assert_eq!(h.cdf(), [(1, 1), (1_073_741, 2)]);
        assert_eq!(LatencyHistogram::default().cdf(), []);
    }

    #[test]
    fn random_ids_are_40_hex() {
        let a = random_hex40();
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_hex40());
    }
}

/// Server-assisted client-side caching (CLIENT TRACKING), as Valkey's
/// `tracking.c` does it.
///
/// In the default mode the server remembers, per key, the clients that read
/// it (the tracking table), and when the key changes it sends those clients
/// an `invalidate` push (RESP3) or a `__redis__:invalidate` message to the
/// client they redirect to. Keys are global, not per database, as in Valkey.
/// In BCAST mode a client subscribes to key prefixes instead: changed keys
/// matching a prefix are collected and sent once per event loop cycle.
///
/// Messages for the client whose command is running wait in
/// [`Server::pending_push`] so they follow its reply.
pub mod tracking {
    use super::Server;
    use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

    /// One client's CLIENT TRACKING settings.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct ClientTracking {
        /// Client id notifications go to (0: this client).
        pub redirect: u64,
        pub bcast: bool,
        pub optin: bool,
        pub optout: bool,
        pub noloop: bool,
        /// CLIENT CACHING YES|NO was given for the next command.
        pub caching: bool,
        /// The redirect client went away (flag `R`).
        pub broken_redirect: bool,
        /// BCAST prefixes, sorted.
        pub prefixes: BTreeSet<Vec<u8>>,
    }

    /// The options of one CLIENT TRACKING ON.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct Options {
        pub bcast: bool,
        pub optin: bool,
        pub optout: bool,
        pub noloop: bool,
    }

    /// A BCAST prefix: the keys changed in this cycle (with the id of the
    /// client that changed each last, 0 for none) and its subscribers.
    #[derive(Default, Debug)]
    struct Prefix {
        keys: BTreeMap<Vec<u8>, u64>,
        clients: BTreeSet<u64>,
    }

    #[derive(Default, Debug)]
    pub struct Tracking {
        /// Clients with tracking on, by id.
        pub clients: HashMap<u64, ClientTracking>,
        /// Key -> ids of the clients that may have it cached.
        table: HashMap<Vec<u8>, HashSet<u64>>,
        /// Sum of the id sets' sizes (`tracking_total_items`).
        items: u64,
        prefixes: BTreeMap<Vec<u8>, Prefix>,
        /// Consecutive table-limit passes that could not get under the
        /// limit: each one tries harder.
        limit_passes: u32,
    }

    impl Tracking {
        pub fn total_keys(&self) -> usize {
            self.table.len()
        }
        pub fn total_items(&self) -> u64 {
            self.items
        }
        pub fn total_prefixes(&self) -> usize {
            self.prefixes.len()
        }
        /// Whether key changes can concern anyone.
        pub fn active(&self) -> bool {
            !self.table.is_empty() || !self.prefixes.is_empty()
        }
    }

    /// Valkey's `checkPrefixCollisionsOrReply`: BCAST prefixes of one
    /// client must not be prefixes of each other. The error text, if any.
    pub fn prefix_collision(existing: &BTreeSet<Vec<u8>>, new: &[&[u8]]) -> Option<String> {
        let overlap = |a: &[u8], b: &[u8]| {
            let n = a.len().min(b.len());
            a[..n] == b[..n]
        };
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        for (i, p) in new.iter().enumerate() {
            if let Some(old) = existing.iter().find(|old| overlap(old, p)) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single \
                     client must not overlap.",
                    text(p),
                    text(old)
                ));
            }
            if let Some(other) = new[i + 1..].iter().find(|q| overlap(p, q)) {
                return Some(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a \
                     single client must not overlap.",
                    text(p),
                    text(other)
                ));
            }
        }
        None
    }

    /// CLIENT TRACKING ON for client `id` (Valkey's `enableTracking`): the
    /// options replace the previous ones, BCAST prefixes add up.
    pub fn enable(srv: &mut Server, id: u64, redirect: u64, opts: Options, prefixes: &[&[u8]]) {
        let t = srv.tracking.clients.entry(id).or_default();
        t.redirect = redirect;
        t.broken_redirect = false;
        t.bcast = opts.bcast;
        t.optin = opts.optin;
        t.optout = opts.optout;
        t.noloop = opts.noloop;
        if opts.bcast {
            let wanted: Vec<Vec<u8>> = if prefixes.is_empty() {
                vec![Vec::new()]
            } else {
                prefixes.iter().map(|p| p.to_vec()).collect()
            };
            for p in wanted {
                t.prefixes.insert(p.clone());
                srv.tracking
                    .prefixes
                    .entry(p)
                    .or_default()
                    .clients
                    .insert(id);
            }
        }
        srv.sync_expired_logging();
    }

    /// CLIENT TRACKING OFF, RESET, disconnection.
    pub fn disable(srv: &mut Server, id: u64) {
        let Some(t) = srv.tracking.clients.remove(&id) else {
            return;
        };
        for p in t.prefixes {
            if let Some(state) = srv.tracking.prefixes.get_mut(&p) {
                state.clients.remove(&id);
                if state.clients.is_empty() {
                    srv.tracking.prefixes.remove(&p);
                }
            }
        }
        srv.sync_expired_logging();
    }

    /// After a read-only command of a tracking client: remember that it
    /// may cache these keys, unless OPTIN / OPTOUT and CACHING say no
    /// (Valkey's `trackingRememberKeys`).
    pub fn remember_keys(srv: &mut Server, id: u64, keys: &[&[u8]]) {
        let Some(t) = srv.tracking.clients.get(&id) else {
            return;
        };
        if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
            return;
        }
        let was_active = srv.tracking.active();
        for k in keys {
            if srv.tracking.table.entry(k.to_vec()).or_default().insert(id) {
                srv.tracking.items += 1;
            }
        }
        if !was_active {
            srv.sync_expired_logging();
        }
    }

    /// An `*1\r\n$<len>\r\n<key>\r\n` array: the payload of one key's
    /// invalidation.
    fn one_key_array(key: &[u8]) -> Vec<u8> {
        let mut v = format!("*1\r\n${}\r\n", key.len()).into_bytes();
        v.extend_from_slice(key);
        v.extend_from_slice(b"\r\n");
        v
    }

    /// Valkey's `trackingInvalidateKey`: `key` changed (by client
    /// `modifier`, 0 for the server itself): queue it for the BCAST
    /// prefixes it matches (when `bcast`), and send an invalidation to every
    /// client that may cache it, which forgets it.
    pub fn invalidate_key(srv: &mut Server, key: &[u8], bcast: bool, modifier: u64) {
        if bcast {
            for (prefix, state) in srv.tracking.prefixes.iter_mut() {
                if key.starts_with(prefix) {
                    state.keys.insert(key.to_vec(), modifier);
                }
            }
        }
        let Some(ids) = srv.tracking.table.remove(key) else {
            return;
        };
        srv.tracking.items -= ids.len() as u64;
        let mut ids: Vec<u64> = ids.into_iter().collect();
        ids.sort_unstable();
        let running = srv.current.as_ref().map_or(0, |c| c.id);
        let payload = one_key_array(key);
        for id in ids {
            let Some(t) = srv.tracking.clients.get(&id) else {
                continue;
            };
            // Keys read before switching to BCAST are not reported.
            if t.bcast || (t.noloop && id == running) {
                continue;
            }
            send(srv, id, &payload);
        }
    }

    /// FLUSHDB / FLUSHALL / SWAPDB: every tracking client gets a null
    /// invalidation ("everything"), and the table is emptied (Valkey's
    /// `trackingInvalidateKeysOnFlush`).
    pub fn invalidate_all(srv: &mut Server) {
        let mut ids: Vec<u64> = srv.tracking.clients.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            // The null is in the tracking client's protocol, wherever it
            // is redirected.
            let null: &[u8] = if srv.client_resp3(id) == Some(true) {
                b"_\r\n"
            } else {
                b"$-1\r\n"
            };
            send(srv, id, null);
        }
        srv.tracking.table.clear();
        srv.tracking.items = 0;
        srv.sync_expired_logging();
    }

    /// Sends one invalidation (`payload`: the RESP value after the
    /// header) for tracking client `id` to where it goes (Valkey's
    /// `sendTrackingMessage`): a RESP3 push to the client or its redirect
    /// target, or a `__redis__:invalidate` Pub/Sub message to a RESP2
    /// redirect target that is subscribed; RESP2 without redirection gets
    /// nothing. A vanished redirect target marks the redirection broken and
    /// tells a RESP3 client so.
    fn send(srv: &mut Server, id: u64, payload: &[u8]) {
        let Some(redirect) = srv.tracking.clients.get(&id).map(|t| t.redirect) else {
            return;
        };
        let (dest, redirected) = if redirect == 0 {
            (id, false)
        } else if srv.has_client(redirect) {
            (redirect, true)
        } else {
            if let Some(t) = srv.tracking.clients.get_mut(&id) {
                t.broken_redirect = true;
            }
            if srv.client_resp3(id) == Some(true) {
                let msg = format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{redirect}\r\n");
                srv.push_to(id, msg.as_bytes());
            }
            return;
        };
        let Some(resp3) = srv.client_resp3(dest) else {
            return;
        };
        let mut msg = if resp3 {
            b">2\r\n$10\r\ninvalidate\r\n".to_vec()
        } else if redirected && srv.client_pubsub(dest) {
            b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n".to_vec()
        } else {
            return;
        };
        msg.extend_from_slice(payload);
        srv.push_to(dest, &msg);
    }

    /// Sends the BCAST invalidations collected since the last cycle
    /// (Valkey's `trackingBroadcastInvalidationMessages`): per prefix, one
    /// array of keys to each subscriber, without the keys a NOLOOP
    /// subscriber changed itself.
    pub fn broadcast(srv: &mut Server) {
        if srv.tracking.prefixes.is_empty() {
            return;
        }
        let mut work: Vec<(u64, Vec<u8>)> = Vec::new();
        for state in srv.tracking.prefixes.values_mut() {
            if state.keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut state.keys);
            for &id in &state.clients {
                let noloop = srv.tracking.clients.get(&id).is_some_and(|t| t.noloop);
                let chosen: Vec<&Vec<u8>> = keys
                    .iter()
                    .filter(|(_, &by)| !noloop || by != id)
                    .map(|(k, _)| k)
                    .collect();
                if chosen.is_empty() {
                    continue;
                }
                let mut proto = format!("*{}\r\n", chosen.len()).into_bytes();
                for k in chosen {
                    proto.extend_from_slice(format!("${}\r\n", k.len()).as_bytes());
                    proto.extend_from_slice(k);
                    proto.extend_from_slice(b"\r\n");
                }
                work.push((id, proto));
            }
        }
        for (id, proto) in work {
            send(srv, id, &proto);
        }
    }

    /// Keeps the tracking table within `tracking-table-max-keys` by
    /// invalidating keys as if they changed (Valkey's
    /// `trackingLimitUsedSlots`), with more effort each time the limit is
    /// still exceeded.
    pub fn limit_table(srv: &mut Server) {
        let max = srv.config.tracking_table_max_keys;
        if max == 0 || srv.tracking.table.len() <= max {
            srv.tracking.limit_passes = 0;
            return;
        }
        let effort = 100 * (srv.tracking.limit_passes as usize + 1);
        for _ in 0..effort {
            let Some(key) = srv.tracking.table.keys().next().cloned() else {
                break;
            };
            invalidate_key(srv, &key, false, 0);
            if srv.tracking.table.len() <= max {
                srv.tracking.limit_passes = 0;
                return;
            }
        }
        srv.tracking.limit_passes += 1;
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn prefix_collisions_like_valkey() {
            let none = BTreeSet::new();
            assert_eq!(prefix_collision(&none, &[b"a", b"b"]), None);
            assert_eq!(
                prefix_collision(&none, &[b"FOOBAR", b"FOO"]).unwrap(),
                "ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. Prefixes for \
                 a single client must not overlap."
            );
            let existing: BTreeSet<Vec<u8>> = [b"FOO".to_vec()].into();
            assert_eq!(
                prefix_collision(&existing, &[b"FO"]).unwrap(),
                "ERR Prefix 'FO' overlaps with an existing prefix 'FOO'. Prefixes for a single \
                 client must not overlap."
            );
        }

        #[test]
        fn one_key_payload() {
            assert_eq!(one_key_array(b"key"), b"*1\r\n$3\r\nkey\r\n");
        }
    }
}
