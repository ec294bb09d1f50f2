//! Ferrokey's configuration, behaving exactly like valkey-server's: the same
//! parameter names (and old aliases such as `slaveof`), defaults, types,
//! limits and error messages, the same `valkey.conf` syntax and command-line
//! handling, and CONFIG GET / SET / REWRITE semantics.
//!
//! * [`Config`] holds one typed, public field per parameter; hot paths read
//!   them directly (`config.maxmemory`, `config.hz`, ...).
//! * [`params::PARAMS`] describes every parameter of Valkey 8's
//!   `static_configs[]` (type, default, limits, flags, accessors); GET, SET,
//!   file loading and REWRITE are all driven by it.
//! * [`Config::from_cli`] parses `ferrokey-server [config-file] [--name value
//!   ...] [-]` like valkey-server; [`Config::load_from_str`] parses config
//!   text; [`Config::get`] / [`Config::set`] implement CONFIG GET / SET;
//!   [`Config::rewrite`] implements CONFIG REWRITE.
//!
//! The config layer has no side effects on the process: it never changes the
//! working directory, binds sockets or resizes anything. CONFIG SET returns
//! the names of the parameters whose value changed so the server can apply
//! them (Valkey's "apply" functions: rebind for `port`/`bind`, chdir for
//! `dir`, start/stop AOF for `appendonly`, ...), and the caller can keep a
//! clone to roll back if applying fails.

mod file;
pub mod params;
mod rewrite;

use std::path::PathBuf;

pub use file::CliExit;
pub use params::{
    keyspace_events_from_str, keyspace_events_to_string, lookup, memtoull, repr, Param, PARAMS,
    SHUTDOWN_FORCE, SHUTDOWN_NOSAVE, SHUTDOWN_NOW, SHUTDOWN_SAVE,
};

/// The version printed in "*** FATAL CONFIG FILE ERROR (Version ...) ***"
/// (Valkey prints its own version there).
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Keyspace-notification classes (`notify-keyspace-events` flags), with
/// Valkey's bit values.
pub mod notify {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key misses (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// Module-only "key loaded" events (no letter).
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module key type events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new key events (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// Defines a configuration enum with Valkey's names. Each variant lists its
/// names (the first is the one printed); `NAMES` keeps Valkey's table order,
/// which its "must be one of the following" error message shows.
macro_rules! config_enum {
    ($(#[$meta:meta])* pub enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $value:literal => [$($label:literal),+]),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value),+
        }

        impl $name {
            /// Valkey's names and values, in Valkey's order.
            pub const NAMES: &'static [(&'static str, i32)] = &[$($(($label, $value)),+),+];

            /// The variant with this value.
            pub fn from_i32(v: i32) -> Option<Self> {
                match v {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The name CONFIG GET prints.
            pub fn name(self) -> &'static str {
                Self::NAMES
                    .iter()
                    .find(|&&(_, v)| v == self as i32)
                    .map_or("unknown", |&(n, _)| n)
            }
        }
    };
}

config_enum! {
    /// `maxmemory-policy`.
    pub enum MaxmemoryPolicy {
        VolatileLru = 0 => ["volatile-lru"],
        VolatileLfu = 1 => ["volatile-lfu"],
        VolatileRandom = 2 => ["volatile-random"],
        VolatileTtl = 3 => ["volatile-ttl"],
        AllkeysLru = 4 => ["allkeys-lru"],
        AllkeysLfu = 5 => ["allkeys-lfu"],
        AllkeysRandom = 6 => ["allkeys-random"],
        NoEviction = 7 => ["noeviction"],
    }
}

impl MaxmemoryPolicy {
    /// Evicts by approximated LRU.
    pub fn is_lru(self) -> bool {
        matches!(self, Self::VolatileLru | Self::AllkeysLru)
    }
    /// Evicts by LFU (objects then keep an LFU counter instead of an LRU clock).
    pub fn is_lfu(self) -> bool {
        matches!(self, Self::VolatileLfu | Self::AllkeysLfu)
    }
    /// Evicts among all keys, not only keys with a TTL.
    pub fn is_allkeys(self) -> bool {
        matches!(
            self,
            Self::AllkeysLru | Self::AllkeysLfu | Self::AllkeysRandom
        )
    }
}

config_enum! {
    /// `syslog-facility`.
    pub enum SyslogFacility {
        User = 0 => ["user"],
        Local0 = 1 => ["local0"],
        Local1 = 2 => ["local1"],
        Local2 = 3 => ["local2"],
        Local3 = 4 => ["local3"],
        Local4 = 5 => ["local4"],
        Local5 = 6 => ["local5"],
        Local6 = 7 => ["local6"],
        Local7 = 8 => ["local7"],
    }
}

config_enum! {
    /// `loglevel`, ordered from most to least verbose.
    pub enum LogLevel {
        Debug = 0 => ["debug"],
        Verbose = 1 => ["verbose"],
        Notice = 2 => ["notice"],
        Warning = 3 => ["warning"],
        Nothing = 4 => ["nothing"],
    }
}

config_enum! {
    /// `supervised`.
    pub enum SupervisedMode {
        Upstart = 3 => ["upstart"],
        Systemd = 2 => ["systemd"],
        Auto = 1 => ["auto"],
        No = 0 => ["no"],
    }
}

config_enum! {
    /// `appendfsync`.
    pub enum AppendFsync {
        EverySec = 2 => ["everysec"],
        Always = 1 => ["always"],
        No = 0 => ["no"],
    }
}

config_enum! {
    /// `repl-diskless-load`.
    pub enum ReplDisklessLoad {
        Disabled = 0 => ["disabled"],
        OnEmptyDb = 1 => ["on-empty-db"],
        Swapdb = 2 => ["swapdb"],
        FlushBeforeLoad = 3 => ["flush-before-load"],
    }
}

config_enum! {
    /// `tls-auth-clients`.
    pub enum TlsAuthClients {
        No = 0 => ["no"],
        Yes = 1 => ["yes"],
        Optional = 2 => ["optional"],
    }
}

config_enum! {
    /// `oom-score-adj` (`relative` is an alias of `yes`).
    pub enum OomScoreAdj {
        No = 0 => ["no"],
        Relative = 1 => ["yes", "relative"],
        Absolute = 2 => ["absolute"],
    }
}

config_enum! {
    /// `acl-pubsub-default`.
    pub enum AclPubsubDefault {
        AllChannels = 1 => ["allchannels"],
        ResetChannels = 0 => ["resetchannels"],
    }
}

config_enum! {
    /// `sanitize-dump-payload`.
    pub enum SanitizeDumpPayload {
        No = 0 => ["no"],
        Yes = 1 => ["yes"],
        Clients = 2 => ["clients"],
    }
}

config_enum! {
    /// `enable-protected-configs`, `enable-debug-command`,
    /// `enable-module-command`.
    pub enum ProtectedAction {
        No = 0 => ["no"],
        Yes = 1 => ["yes"],
        Local = 2 => ["local"],
    }
}

impl ProtectedAction {
    /// Valkey's `allowProtectedAction`: allowed for this client?
    pub fn allows(self, local_client: bool) -> bool {
        self == Self::Yes || (self == Self::Local && local_client)
    }
}

config_enum! {
    /// `cluster-preferred-endpoint-type`.
    pub enum ClusterEndpointType {
        Ip = 0 => ["ip"],
        Hostname = 1 => ["hostname"],
        UnknownEndpoint = 2 => ["unknown-endpoint"],
    }
}

config_enum! {
    /// `propagation-error-behavior`.
    pub enum PropagationErrorBehavior {
        Ignore = 0 => ["ignore"],
        Panic = 1 => ["panic"],
        PanicOnReplicas = 2 => ["panic-on-replicas"],
    }
}

config_enum! {
    /// `log-format`.
    pub enum LogFormat {
        Legacy = 0 => ["legacy"],
        Logfmt = 1 => ["logfmt"],
    }
}

config_enum! {
    /// `log-timestamp-format`.
    pub enum LogTimestampFormat {
        Legacy = 0 => ["legacy"],
        Iso8601 = 1 => ["iso8601"],
        Milliseconds = 2 => ["milliseconds"],
    }
}

/// One class of `client-output-buffer-limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientBufferLimit {
    /// Disconnect as soon as the output buffer exceeds this; 0 = no limit.
    pub hard_limit_bytes: u64,
    /// Disconnect when the buffer stays above this ...
    pub soft_limit_bytes: u64,
    /// ... for this many seconds.
    pub soft_limit_seconds: u64,
}

/// Index of the normal-clients class in [`Config::client_output_buffer_limit`].
pub const OBUF_NORMAL: usize = 0;
/// Index of the replica class.
pub const OBUF_REPLICA: usize = 1;
/// Index of the pub/sub class.
pub const OBUF_PUBSUB: usize = 2;

/// Valkey's `clientBufferLimitsDefaults`.
pub const DEFAULT_CLIENT_OUTPUT_BUFFER_LIMITS: [ClientBufferLimit; 3] = [
    ClientBufferLimit {
        hard_limit_bytes: 0,
        soft_limit_bytes: 0,
        soft_limit_seconds: 0,
    },
    ClientBufferLimit {
        hard_limit_bytes: 256 * 1024 * 1024,
        soft_limit_bytes: 64 * 1024 * 1024,
        soft_limit_seconds: 60,
    },
    ClientBufferLimit {
        hard_limit_bytes: 32 * 1024 * 1024,
        soft_limit_bytes: 8 * 1024 * 1024,
        soft_limit_seconds: 60,
    },
];

/// Default `save` points: after 3600 s if 1 change, 300 s if 100, 60 s if 10000.
pub const DEFAULT_SAVE: [(u64, u64); 3] = [(3600, 1), (300, 100), (60, 10000)];
/// Default `bind` addresses: all IPv4 interfaces and, if available, all IPv6.
pub const DEFAULT_BIND: [&str; 2] = ["*", "-::*"];
/// Default `oom-score-adj-values` (primary, replica, background child).
pub const DEFAULT_OOM_SCORE_ADJ_VALUES: [i32; 3] = [0, 200, 800];
/// Default `latency-tracking-info-percentiles`.
pub const DEFAULT_LATENCY_PERCENTILES: [f64; 3] = [50.0, 99.0, 99.9];

/// The whole server configuration: one public field per parameter, named
/// after the parameter (`-` becomes `_`), holding Valkey's default until a
/// config file, the command line or CONFIG SET changes it.
///
/// Parameters that Ferrokey stores, validates and round-trips through CONFIG
/// GET / SET / REWRITE (so existing `valkey.conf` files load) but does not act
/// on yet: the TLS parameters (`tls-*`), cluster parameters (`cluster-*`
/// other than `cluster-enabled`), replication (`replicaof`, `primaryauth`,
/// `primaryuser`, `repl-*`, `replica-*`, `min-replicas-*`,
/// `dual-channel-replication-enabled`), active defragmentation
/// (`activedefrag`, `active-defrag-*`), `jemalloc-bg-thread`, syslog
/// (`syslog-*`), `supervised`, `set-proc-title`, `proc-title-template`,
/// the CPU affinity lists (`*-cpulist`), `oom-score-adj*`,
/// `socket-mark-id`, `bind-source-addr`, `locale-collate`, `ignore-warnings`,
/// `crash-log-enabled`, `crash-memcheck-enabled`, `use-exit-on-panic`,
/// `enable-debug-assert`, `watchdog-period`, `availability-zone`,
/// `log-format`, `log-timestamp-format`, `hide-user-data-from-log`,
/// `extended-redis-compatibility`, `propagation-error-behavior`,
/// `sanitize-dump-payload`, `enable-module-command`, `events-per-io-thread`,
/// `prefetch-batch-max-size`, `max-new-tls-connections-per-cycle`,
/// `tracking-table-max-keys`, `latency-tracking*`, `acllog-max-len`,
/// `rdb-key-save-delay`, `key-load-delay`, `debug-context`,
/// `loading-process-events-interval-bytes`, `aof-timestamp-enabled`,
/// `aof-disable-auto-gc`, `unixsocketgroup`. Whether the rest is acted on is
/// up to the subsystems that read the fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `rdbchecksum`: CRC64 checksum at the end of RDB files.
    pub rdbchecksum: bool,
    /// `daemonize`: fork into the background at startup.
    pub daemonize: bool,
    /// `always-show-logo`.
    pub always_show_logo: bool,
    /// `protected-mode`: refuse non-loopback clients when no password and no bind are set.
    pub protected_mode: bool,
    /// `rdbcompression`: LZF-compress strings in RDB files.
    pub rdbcompression: bool,
    /// `rdb-del-sync-files`.
    pub rdb_del_sync_files: bool,
    /// `activerehashing`: incremental rehashing in the server cron.
    pub activerehashing: bool,
    /// `stop-writes-on-bgsave-error`: refuse writes after a failed background save.
    pub stop_writes_on_bgsave_error: bool,
    /// `set-proc-title`.
    pub set_proc_title: bool,
    /// `dynamic-hz`: scale `hz` with the number of clients.
    pub dynamic_hz: bool,
    /// `lazyfree-lazy-eviction`: free evicted values in the background.
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-expire`: free expired values in the background.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del`: free values deleted implicitly (e.g. overwritten by SET/RENAME) in the background.
    pub lazyfree_lazy_server_del: bool,
    /// `lazyfree-lazy-user-del`: DEL behaves like UNLINK.
    pub lazyfree_lazy_user_del: bool,
    /// `lazyfree-lazy-user-flush`: FLUSHALL/FLUSHDB default to ASYNC.
    pub lazyfree_lazy_user_flush: bool,
    /// `repl-disable-tcp-nodelay`.
    pub repl_disable_tcp_nodelay: bool,
    /// `repl-diskless-sync`.
    pub repl_diskless_sync: bool,
    /// `dual-channel-replication-enabled`.
    pub dual_channel_replication_enabled: bool,
    /// `aof-rewrite-incremental-fsync`.
    pub aof_rewrite_incremental_fsync: bool,
    /// `no-appendfsync-on-rewrite`.
    pub no_appendfsync_on_rewrite: bool,
    /// `cluster-require-full-coverage`.
    pub cluster_require_full_coverage: bool,
    /// `rdb-save-incremental-fsync`.
    pub rdb_save_incremental_fsync: bool,
    /// `aof-load-truncated`.
    pub aof_load_truncated: bool,
    /// `aof-use-rdb-preamble`.
    pub aof_use_rdb_preamble: bool,
    /// `aof-timestamp-enabled`.
    pub aof_timestamp_enabled: bool,
    /// `cluster-replica-no-failover`.
    pub cluster_replica_no_failover: bool,
    /// `replica-lazy-flush`.
    pub replica_lazy_flush: bool,
    /// `replica-serve-stale-data`.
    pub replica_serve_stale_data: bool,
    /// `replica-read-only`.
    pub replica_read_only: bool,
    /// `replica-ignore-maxmemory`.
    pub replica_ignore_maxmemory: bool,
    /// `jemalloc-bg-thread`.
    pub jemalloc_bg_thread: bool,
    /// `activedefrag`.
    pub activedefrag: bool,
    /// `syslog-enabled`.
    pub syslog_enabled: bool,
    /// `cluster-enabled`: cluster mode.
    pub cluster_enabled: bool,
    /// `appendonly`: AOF persistence enabled.
    pub appendonly: bool,
    /// `cluster-allow-reads-when-down`.
    pub cluster_allow_reads_when_down: bool,
    /// `cluster-allow-pubsubshard-when-down`.
    pub cluster_allow_pubsubshard_when_down: bool,
    /// `crash-log-enabled`.
    pub crash_log_enabled: bool,
    /// `crash-memcheck-enabled`.
    pub crash_memcheck_enabled: bool,
    /// `use-exit-on-panic`.
    pub use_exit_on_panic: bool,
    /// `disable-thp`.
    pub disable_thp: bool,
    /// `cluster-allow-replica-migration`.
    pub cluster_allow_replica_migration: bool,
    /// `replica-announced`.
    pub replica_announced: bool,
    /// `latency-tracking`.
    pub latency_tracking: bool,
    /// `aof-disable-auto-gc`.
    pub aof_disable_auto_gc: bool,
    /// `replica-ignore-disk-write-errors`.
    pub replica_ignore_disk_write_errors: bool,
    /// `extended-redis-compatibility`.
    pub extended_redis_compatibility: bool,
    /// `enable-debug-assert`.
    pub enable_debug_assert: bool,
    /// `cluster-slot-stats-enabled`.
    pub cluster_slot_stats_enabled: bool,
    /// `hide-user-data-from-log`.
    pub hide_user_data_from_log: bool,
    /// `aclfile`.
    pub aclfile: String,
    /// `unixsocket`: path of the Unix socket to listen on; `None` = none.
    pub unixsocket: Option<String>,
    /// `unixsocketgroup`.
    pub unixsocketgroup: Option<String>,
    /// `pidfile`: path of the pid file; `None` = none (a daemonized server then uses /var/run/valkey.pid).
    pub pidfile: Option<String>,
    /// `replica-announce-ip`.
    pub replica_announce_ip: Option<String>,
    /// `primaryuser`.
    pub primaryuser: Option<String>,
    /// `cluster-announce-ip`.
    pub cluster_announce_ip: Option<String>,
    /// `cluster-announce-client-ipv4`.
    pub cluster_announce_client_ipv4: Option<String>,
    /// `cluster-announce-client-ipv6`.
    pub cluster_announce_client_ipv6: Option<String>,
    /// `cluster-config-file`.
    pub cluster_config_file: String,
    /// `cluster-announce-hostname`.
    pub cluster_announce_hostname: Option<String>,
    /// `cluster-announce-human-nodename`.
    pub cluster_announce_human_nodename: Option<String>,
    /// `syslog-ident`.
    pub syslog_ident: String,
    /// `dbfilename`: RDB file name (a base name inside `dir`).
    pub dbfilename: String,
    /// `appendfilename`: base name of the AOF files.
    pub appendfilename: String,
    /// `appenddirname`: directory (inside `dir`) holding the AOF files.
    pub appenddirname: String,
    /// `server-cpulist`.
    pub server_cpulist: Option<String>,
    /// `bio-cpulist`.
    pub bio_cpulist: Option<String>,
    /// `aof-rewrite-cpulist`.
    pub aof_rewrite_cpulist: Option<String>,
    /// `bgsave-cpulist`.
    pub bgsave_cpulist: Option<String>,
    /// `ignore-warnings`.
    pub ignore_warnings: String,
    /// `proc-title-template`.
    pub proc_title_template: String,
    /// `bind-source-addr`.
    pub bind_source_addr: Option<String>,
    /// `logfile`: log file; empty = standard output.
    pub logfile: String,
    /// `locale-collate`.
    pub locale_collate: String,
    /// `debug-context`.
    pub debug_context: String,
    /// `primaryauth`: password used to authenticate to the primary.
    pub primaryauth: Option<Vec<u8>>,
    /// `requirepass`: password of the `default` user; `None` = no password.
    pub requirepass: Option<Vec<u8>>,
    /// `availability-zone`.
    pub availability_zone: String,
    /// `supervised`.
    pub supervised: SupervisedMode,
    /// `syslog-facility`.
    pub syslog_facility: SyslogFacility,
    /// `repl-diskless-load`.
    pub repl_diskless_load: ReplDisklessLoad,
    /// `loglevel`: log verbosity.
    pub loglevel: LogLevel,
    /// `maxmemory-policy`: eviction policy when `maxmemory` is reached.
    pub maxmemory_policy: MaxmemoryPolicy,
    /// `appendfsync`: AOF fsync policy.
    pub appendfsync: AppendFsync,
    /// `oom-score-adj`.
    pub oom_score_adj: OomScoreAdj,
    /// `acl-pubsub-default`.
    pub acl_pubsub_default: AclPubsubDefault,
    /// `sanitize-dump-payload`.
    pub sanitize_dump_payload: SanitizeDumpPayload,
    /// `enable-protected-configs`: who may CONFIG SET protected parameters (`dir`, `dbfilename`).
    pub enable_protected_configs: ProtectedAction,
    /// `enable-debug-command`: who may run DEBUG.
    pub enable_debug_command: ProtectedAction,
    /// `enable-module-command`: who may run MODULE.
    pub enable_module_command: ProtectedAction,
    /// `cluster-preferred-endpoint-type`.
    pub cluster_preferred_endpoint_type: ClusterEndpointType,
    /// `propagation-error-behavior`.
    pub propagation_error_behavior: PropagationErrorBehavior,
    /// `shutdown-on-sigint`: `SHUTDOWN_*` flags applied on SIGINT.
    pub shutdown_on_sigint: u32,
    /// `shutdown-on-sigterm`: `SHUTDOWN_*` flags applied on SIGTERM.
    pub shutdown_on_sigterm: u32,
    /// `log-format`.
    pub log_format: LogFormat,
    /// `log-timestamp-format`.
    pub log_timestamp_format: LogTimestampFormat,
    /// `databases`: number of logical databases.
    pub databases: usize,
    /// `port`: TCP port; 0 = do not listen on TCP.
    pub port: u16,
    /// `io-threads`: number of I/O threads (including the main thread).
    pub io_threads: usize,
    /// `events-per-io-thread`.
    pub events_per_io_thread: u32,
    /// `prefetch-batch-max-size`.
    pub prefetch_batch_max_size: u32,
    /// `auto-aof-rewrite-percentage`: AOF growth (percent) that triggers a rewrite; 0 = off.
    pub auto_aof_rewrite_percentage: u32,
    /// `cluster-replica-validity-factor`.
    pub cluster_replica_validity_factor: u32,
    /// `list-max-listpack-size`: positive: max entries per quicklist node; -1..-5: max node size 4kb..64kb.
    pub list_max_listpack_size: i32,
    /// `tcp-keepalive`: TCP keepalive period in seconds; 0 = off.
    pub tcp_keepalive: u32,
    /// `cluster-migration-barrier`.
    pub cluster_migration_barrier: u32,
    /// `active-defrag-cycle-min`.
    pub active_defrag_cycle_min: u32,
    /// `active-defrag-cycle-max`.
    pub active_defrag_cycle_max: u32,
    /// `active-defrag-threshold-lower`.
    pub active_defrag_threshold_lower: u32,
    /// `active-defrag-threshold-upper`.
    pub active_defrag_threshold_upper: u32,
    /// `lfu-log-factor`: LFU counter logarithm factor.
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`: LFU counter decay period in minutes.
    pub lfu_decay_time: u32,
    /// `replica-priority`.
    pub replica_priority: u32,
    /// `repl-diskless-sync-delay`.
    pub repl_diskless_sync_delay: u32,
    /// `maxmemory-samples`: keys sampled per eviction round.
    pub maxmemory_samples: u32,
    /// `maxmemory-eviction-tenacity`.
    pub maxmemory_eviction_tenacity: u32,
    /// `timeout`: close clients idle for this many seconds; 0 = never.
    pub timeout: u32,
    /// `replica-announce-port`.
    pub replica_announce_port: u16,
    /// `tcp-backlog`: listen(2) backlog.
    pub tcp_backlog: u32,
    /// `cluster-port`.
    pub cluster_port: u16,
    /// `cluster-announce-bus-port`.
    pub cluster_announce_bus_port: u16,
    /// `cluster-announce-port`.
    pub cluster_announce_port: u16,
    /// `cluster-announce-tls-port`.
    pub cluster_announce_tls_port: u16,
    /// `repl-timeout`.
    pub repl_timeout: u32,
    /// `repl-ping-replica-period`.
    pub repl_ping_replica_period: u32,
    /// `list-compress-depth`: quicklist nodes left uncompressed at each end; 0 = no compression.
    pub list_compress_depth: u32,
    /// `rdb-key-save-delay`.
    pub rdb_key_save_delay: i32,
    /// `key-load-delay`.
    pub key_load_delay: i32,
    /// `active-expire-effort`: active expiry effort, 1..10.
    pub active_expire_effort: u32,
    /// `hz`: server cron frequency (clamped to 1..500).
    pub hz: u32,
    /// `busy-poll-usec` (Ferrokey's own): after a round that served
    /// events, how long the event loop polls without sleeping before it
    /// blocks. On a VM a sleeping core takes tens of microseconds to wake
    /// for the next request, which is most of a request/response round
    /// trip; polling briefly keeps it awake while requests keep coming.
    /// An idle server does not spin (0 turns it off).
    pub busy_poll_usec: u32,
    /// `min-replicas-to-write`.
    pub min_replicas_to_write: u32,
    /// `min-replicas-max-lag`.
    pub min_replicas_max_lag: u32,
    /// `watchdog-period`.
    pub watchdog_period: u32,
    /// `shutdown-timeout`.
    pub shutdown_timeout: u32,
    /// `repl-diskless-sync-max-replicas`.
    pub repl_diskless_sync_max_replicas: u32,
    /// `maxclients`: maximum number of connected clients.
    pub maxclients: u32,
    /// `unixsocketperm`: permissions of the Unix socket (octal); 0 = default.
    pub unixsocketperm: u32,
    /// `socket-mark-id`.
    pub socket_mark_id: u32,
    /// `max-new-connections-per-cycle`.
    pub max_new_connections_per_cycle: u32,
    /// `max-new-tls-connections-per-cycle`.
    pub max_new_tls_connections_per_cycle: u32,
    /// `active-defrag-max-scan-fields`.
    pub active_defrag_max_scan_fields: u64,
    /// `slowlog-max-len`: SLOWLOG length.
    pub slowlog_max_len: u64,
    /// `acllog-max-len`: ACL LOG length.
    pub acllog_max_len: u64,
    /// `cluster-blacklist-ttl`.
    pub cluster_blacklist_ttl: u64,
    /// `busy-reply-threshold`: milliseconds after which a busy script/function makes other clients get -BUSY.
    pub busy_reply_threshold: u64,
    /// `cluster-node-timeout`.
    pub cluster_node_timeout: u64,
    /// `cluster-ping-interval`.
    pub cluster_ping_interval: u64,
    /// `slowlog-log-slower-than`: SLOWLOG threshold in microseconds; negative = off, 0 = log everything.
    pub slowlog_log_slower_than: i64,
    /// `latency-monitor-threshold`: LATENCY monitor threshold in milliseconds; 0 = off.
    pub latency_monitor_threshold: u64,
    /// `proto-max-bulk-len`: maximum bulk string length in a request.
    pub proto_max_bulk_len: u64,
    /// `stream-node-max-entries`: maximum entries of a stream radix-tree node.
    pub stream_node_max_entries: u64,
    /// `repl-backlog-size`: replication backlog size.
    pub repl_backlog_size: u64,
    /// `maxmemory`: memory limit in bytes; 0 = none.
    pub maxmemory: u64,
    /// `cluster-link-sendbuf-limit`.
    pub cluster_link_sendbuf_limit: u64,
    /// `hash-max-listpack-entries`: hashes with more fields leave the listpack encoding.
    pub hash_max_listpack_entries: usize,
    /// `set-max-intset-entries`: integer sets with more members leave the intset encoding.
    pub set_max_intset_entries: usize,
    /// `set-max-listpack-entries`: sets with more members leave the listpack encoding.
    pub set_max_listpack_entries: usize,
    /// `set-max-listpack-value`: sets with a longer member leave the listpack encoding.
    pub set_max_listpack_value: usize,
    /// `zset-max-listpack-entries`: sorted sets with more members leave the listpack encoding.
    pub zset_max_listpack_entries: usize,
    /// `active-defrag-ignore-bytes`.
    pub active_defrag_ignore_bytes: usize,
    /// `hash-max-listpack-value`: hashes with a longer field or value leave the listpack encoding.
    pub hash_max_listpack_value: usize,
    /// `stream-node-max-bytes`: maximum bytes of a stream radix-tree node.
    pub stream_node_max_bytes: usize,
    /// `zset-max-listpack-value`: sorted sets with a longer member leave the listpack encoding.
    pub zset_max_listpack_value: usize,
    /// `hll-sparse-max-bytes`: HyperLogLog sparse representation limit.
    pub hll_sparse_max_bytes: usize,
    /// `tracking-table-max-keys`: client-side caching tracking table limit; 0 = no limit.
    pub tracking_table_max_keys: usize,
    /// `client-query-buffer-limit`: maximum size of a client query buffer.
    pub client_query_buffer_limit: usize,
    /// `maxmemory-clients`: client eviction limit: bytes, or `-N` for N% of `maxmemory`; 0 = off.
    pub maxmemory_clients: i64,
    /// `repl-backlog-ttl`.
    pub repl_backlog_ttl: u64,
    /// `auto-aof-rewrite-min-size`: minimum AOF size for an automatic rewrite.
    pub auto_aof_rewrite_min_size: u64,
    /// `loading-process-events-interval-bytes`.
    pub loading_process_events_interval_bytes: u64,
    /// `tls-port`.
    pub tls_port: u16,
    /// `tls-session-cache-size`.
    pub tls_session_cache_size: u32,
    /// `tls-session-cache-timeout`.
    pub tls_session_cache_timeout: u32,
    /// `tls-cluster`.
    pub tls_cluster: bool,
    /// `tls-replication`.
    pub tls_replication: bool,
    /// `tls-auth-clients`.
    pub tls_auth_clients: TlsAuthClients,
    /// `tls-prefer-server-ciphers`.
    pub tls_prefer_server_ciphers: bool,
    /// `tls-session-caching`.
    pub tls_session_caching: bool,
    /// `tls-cert-file`.
    pub tls_cert_file: Option<String>,
    /// `tls-key-file`.
    pub tls_key_file: Option<String>,
    /// `tls-key-file-pass`.
    pub tls_key_file_pass: Option<String>,
    /// `tls-client-cert-file`.
    pub tls_client_cert_file: Option<String>,
    /// `tls-client-key-file`.
    pub tls_client_key_file: Option<String>,
    /// `tls-client-key-file-pass`.
    pub tls_client_key_file_pass: Option<String>,
    /// `tls-dh-params-file`.
    pub tls_dh_params_file: Option<String>,
    /// `tls-ca-cert-file`.
    pub tls_ca_cert_file: Option<String>,
    /// `tls-ca-cert-dir`.
    pub tls_ca_cert_dir: Option<String>,
    /// `tls-protocols`.
    pub tls_protocols: Option<String>,
    /// `tls-ciphers`.
    pub tls_ciphers: Option<String>,
    /// `tls-ciphersuites`.
    pub tls_ciphersuites: Option<String>,
    /// `dir`: the working directory (absolute, symlinks resolved). Relative
    /// paths in the configuration resolve against it; the server should
    /// `chdir` to it at startup and when CONFIG SET changes it.
    pub dir: PathBuf,
    /// `save`: RDB save points as `(seconds, changes)`; empty = no automatic
    /// saves.
    pub save: Vec<(u64, u64)>,
    /// `client-output-buffer-limit`, indexed by [`OBUF_NORMAL`],
    /// [`OBUF_REPLICA`], [`OBUF_PUBSUB`].
    pub client_output_buffer_limit: [ClientBufferLimit; 3],
    /// `oom-score-adj-values`: primary, replica, background child.
    pub oom_score_adj_values: [i32; 3],
    /// `notify-keyspace-events` as [`notify`] flags (CONFIG GET prints the
    /// canonical letters, see [`Config::notify_keyspace_events_string`]).
    pub notify_keyspace_events: u32,
    /// `bind`: addresses to listen on (`*` = all IPv4, `::*` = all IPv6, a
    /// leading `-` = optional); empty = TCP on no address.
    pub bind: Vec<String>,
    /// `replicaof` (`slaveof`): the primary's host and port; `None` = this
    /// server is a primary.
    pub replicaof: Option<(String, u16)>,
    /// `latency-tracking-info-percentiles`.
    pub latency_tracking_info_percentiles: Vec<f64>,

    /// The absolute path of the config file given on the command line, if
    /// any (CONFIG REWRITE writes it).
    pub config_file: Option<PathBuf>,
    /// `rename-command <name> <new-name>` directives, in order, for the
    /// command table to apply (an empty new name removes the command).
    pub rename_commands: Vec<(Vec<u8>, Vec<u8>)>,
    /// `user <name> <rules...>` directives (arguments after `user`), for the
    /// ACL subsystem to apply.
    pub user_directives: Vec<Vec<Vec<u8>>>,
    /// Warnings Valkey logs while loading (e.g. `databases` forced to 1 in
    /// cluster mode), for the server to log.
    pub load_warnings: Vec<String>,
    /// Whether a `save` line was already seen while loading config text (the
    /// first one replaces the defaults, later ones add save points).
    save_loaded: bool,
}

impl Default for Config {
    /// Valkey's defaults. `dir` is the process's current directory.
    fn default() -> Self {
        Config {
            rdbchecksum: true,
            daemonize: false,
            always_show_logo: false,
            protected_mode: true,
            rdbcompression: true,
            rdb_del_sync_files: false,
            activerehashing: true,
            stop_writes_on_bgsave_error: true,
            set_proc_title: true,
            dynamic_hz: true,
            lazyfree_lazy_eviction: true,
            lazyfree_lazy_expire: true,
            lazyfree_lazy_server_del: true,
            lazyfree_lazy_user_del: true,
            lazyfree_lazy_user_flush: true,
            repl_disable_tcp_nodelay: false,
            repl_diskless_sync: true,
            dual_channel_replication_enabled: false,
            aof_rewrite_incremental_fsync: true,
            no_appendfsync_on_rewrite: false,
            cluster_require_full_coverage: true,
            rdb_save_incremental_fsync: true,
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            aof_timestamp_enabled: false,
            cluster_replica_no_failover: false,
            replica_lazy_flush: true,
            replica_serve_stale_data: true,
            replica_read_only: true,
            replica_ignore_maxmemory: true,
            jemalloc_bg_thread: true,
            activedefrag: false,
            syslog_enabled: false,
            cluster_enabled: false,
            appendonly: false,
            cluster_allow_reads_when_down: false,
            cluster_allow_pubsubshard_when_down: true,
            crash_log_enabled: true,
            crash_memcheck_enabled: true,
            use_exit_on_panic: false,
            disable_thp: true,
            cluster_allow_replica_migration: true,
            replica_announced: true,
            latency_tracking: true,
            aof_disable_auto_gc: false,
            replica_ignore_disk_write_errors: false,
            extended_redis_compatibility: false,
            enable_debug_assert: false,
            cluster_slot_stats_enabled: false,
            hide_user_data_from_log: true,
            aclfile: String::new(),
            unixsocket: None,
            unixsocketgroup: None,
            pidfile: None,
            replica_announce_ip: None,
            primaryuser: None,
            cluster_announce_ip: None,
            cluster_announce_client_ipv4: None,
            cluster_announce_client_ipv6: None,
            cluster_config_file: "nodes.conf".to_string(),
            cluster_announce_hostname: None,
            cluster_announce_human_nodename: None,
            syslog_ident: "valkey".to_string(),
            dbfilename: "dump.rdb".to_string(),
            appendfilename: "appendonly.aof".to_string(),
            appenddirname: "appendonlydir".to_string(),
            server_cpulist: None,
            bio_cpulist: None,
            aof_rewrite_cpulist: None,
            bgsave_cpulist: None,
            ignore_warnings: String::new(),
            proc_title_template: "{title} {listen-addr} {server-mode}".to_string(),
            bind_source_addr: None,
            logfile: String::new(),
            locale_collate: String::new(),
            debug_context: String::new(),
            primaryauth: None,
            requirepass: None,
            availability_zone: String::new(),
            supervised: SupervisedMode::No,
            syslog_facility: SyslogFacility::Local0,
            repl_diskless_load: ReplDisklessLoad::Disabled,
            loglevel: LogLevel::Notice,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            appendfsync: AppendFsync::EverySec,
            oom_score_adj: OomScoreAdj::No,
            acl_pubsub_default: AclPubsubDefault::ResetChannels,
            sanitize_dump_payload: SanitizeDumpPayload::No,
            enable_protected_configs: ProtectedAction::No,
            enable_debug_command: ProtectedAction::No,
            enable_module_command: ProtectedAction::No,
            cluster_preferred_endpoint_type: ClusterEndpointType::Ip,
            propagation_error_behavior: PropagationErrorBehavior::Ignore,
            shutdown_on_sigint: 0,
            shutdown_on_sigterm: 0,
            log_format: LogFormat::Legacy,
            log_timestamp_format: LogTimestampFormat::Legacy,
            databases: 16,
            port: 6379,
            io_threads: 1,
            events_per_io_thread: 2,
            prefetch_batch_max_size: 16,
            auto_aof_rewrite_percentage: 100,
            cluster_replica_validity_factor: 10,
            list_max_listpack_size: -2,
            tcp_keepalive: 300,
            cluster_migration_barrier: 1,
            active_defrag_cycle_min: 1,
            active_defrag_cycle_max: 25,
            active_defrag_threshold_lower: 10,
            active_defrag_threshold_upper: 100,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            replica_priority: 100,
            repl_diskless_sync_delay: 5,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            timeout: 0,
            replica_announce_port: 0,
            tcp_backlog: 511,
            cluster_port: 0,
            cluster_announce_bus_port: 0,
            cluster_announce_port: 0,
            cluster_announce_tls_port: 0,
            repl_timeout: 60,
            repl_ping_replica_period: 10,
            list_compress_depth: 0,
            rdb_key_save_delay: 0,
            key_load_delay: 0,
            active_expire_effort: 1,
            hz: 10,
            busy_poll_usec: 50,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            watchdog_period: 0,
            shutdown_timeout: 10,
            repl_diskless_sync_max_replicas: 0,
            maxclients: 10000,
            unixsocketperm: 0,
            socket_mark_id: 0,
            max_new_connections_per_cycle: 10,
            max_new_tls_connections_per_cycle: 1,
            active_defrag_max_scan_fields: 1000,
            slowlog_max_len: 128,
            acllog_max_len: 128,
            cluster_blacklist_ttl: 60,
            busy_reply_threshold: 5000,
            cluster_node_timeout: 15000,
            cluster_ping_interval: 0,
            slowlog_log_slower_than: 10000,
            latency_monitor_threshold: 0,
            proto_max_bulk_len: 512 * 1024 * 1024,
            stream_node_max_entries: 100,
            repl_backlog_size: 10 * 1024 * 1024,
            maxmemory: 0,
            cluster_link_sendbuf_limit: 0,
            hash_max_listpack_entries: 512,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            active_defrag_ignore_bytes: 100 << 20,
            hash_max_listpack_value: 64,
            stream_node_max_bytes: 4096,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            tracking_table_max_keys: 1000000,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            maxmemory_clients: 0,
            repl_backlog_ttl: 60 * 60,
            auto_aof_rewrite_min_size: 64 * 1024 * 1024,
            loading_process_events_interval_bytes: 1024 * 1024 * 2,
            tls_port: 0,
            tls_session_cache_size: 20 * 1024,
            tls_session_cache_timeout: 300,
            tls_cluster: false,
            tls_replication: false,
            tls_auth_clients: TlsAuthClients::Yes,
            tls_prefer_server_ciphers: false,
            tls_session_caching: true,
            tls_cert_file: None,
            tls_key_file: None,
            tls_key_file_pass: None,
            tls_client_cert_file: None,
            tls_client_key_file: None,
            tls_client_key_file_pass: None,
            tls_dh_params_file: None,
            tls_ca_cert_file: None,
            tls_ca_cert_dir: None,
            tls_protocols: None,
            tls_ciphers: None,
            tls_ciphersuites: None,
            dir: std::env::current_dir().unwrap_or_default(),
            save: DEFAULT_SAVE.to_vec(),
            client_output_buffer_limit: DEFAULT_CLIENT_OUTPUT_BUFFER_LIMITS,
            oom_score_adj_values: DEFAULT_OOM_SCORE_ADJ_VALUES,
            notify_keyspace_events: 0,
            bind: DEFAULT_BIND.iter().map(|s| s.to_string()).collect(),
            replicaof: None,
            latency_tracking_info_percentiles: DEFAULT_LATENCY_PERCENTILES.to_vec(),
            config_file: None,
            rename_commands: Vec::new(),
            user_directives: Vec::new(),
            load_warnings: Vec::new(),
            save_loaded: false,
        }
    }
}

/// Who runs CONFIG SET, for the checks that depend on the client or the
/// server state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetContext {
    /// The client is local (loopback or Unix socket): with
    /// `enable-protected-configs local` it may set protected parameters.
    pub local_client: bool,
    /// The server is loading its dataset: parameters that cannot change
    /// meanwhile (`dir`, `appendonly`, `repl-diskless-load`) get -LOADING.
    pub loading: bool,
}

/// Splits a CONFIG SET value of a multi-argument parameter the way Valkey
/// does (`sdssplitlen` on single spaces: `"a  b"` has an empty middle
/// argument, and `""` has no arguments at all).
fn split_spaces(value: &[u8]) -> Vec<&[u8]> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(|&b| b == b' ').collect()
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Config {
    /// CONFIG GET: the name/value pairs of every parameter matching any of
    /// `patterns`, without duplicates (names compare case-insensitively).
    ///
    /// A pattern without glob characters (`*`, `?`, `[`) is an exact,
    /// case-insensitive name and is returned spelled as given; it also finds
    /// hidden parameters. Glob patterns match (case-insensitively) every
    /// canonical name and alias except hidden parameters.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
        for &pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'[' | b'*' | b'?')) {
                if seen.contains(&pattern.to_ascii_lowercase()) {
                    continue;
                }
                if let Some((p, _)) = lookup(pattern) {
                    seen.insert(pattern.to_ascii_lowercase());
                    out.push((lossy(pattern), p.format(self)));
                }
                continue;
            }
            for (name, p) in params::all_names() {
                if p.has(params::HIDDEN) || seen.contains(name.as_bytes()) {
                    continue;
                }
                if crate::util::glob::glob_match(pattern, name.as_bytes(), true) {
                    seen.insert(name.as_bytes().to_vec());
                    out.push((name.to_string(), p.format(self)));
                }
            }
        }
        out
    }

    /// The value of one parameter (name or alias, any case), formatted as
    /// CONFIG GET prints it.
    pub fn get_value(&self, name: &str) -> Option<String> {
        lookup(name.as_bytes()).map(|(p, _)| p.format(self))
    }

    /// CONFIG SET from a remote client while the server is not loading; see
    /// [`Config::set_with`].
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<&'static str>, String> {
        self.set_with(pairs, SetContext::default())
    }

    /// CONFIG SET of several `(name, value)` pairs, all or nothing.
    ///
    /// On success returns the canonical names of the parameters whose value
    /// changed (in order, without duplicates) so the server can apply them;
    /// on failure nothing changed and the error is Valkey's reply text
    /// without the leading `-` (e.g. `ERR CONFIG SET failed (possibly related
    /// to argument 'maxmemory') - argument must be a memory value`).
    /// Checking the even number of arguments is left to the command.
    pub fn set_with(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        ctx: SetContext,
    ) -> Result<Vec<&'static str>, String> {
        // Pass 1, like Valkey: resolve every name and check flags; the first
        // problem found decides the error.
        let mut resolved: Vec<(&'static Param, bool, &[u8])> = Vec::with_capacity(pairs.len());
        let mut invalid = false;
        let mut unknown: Option<&[u8]> = None;
        let mut deny_loading = false;
        let mut error: Option<(&[u8], &'static str)> = None;
        for &(name, value) in pairs {
            let Some((p, alias)) = lookup(name) else {
                if !invalid {
                    unknown = Some(name);
                    invalid = true;
                }
                continue;
            };
            if invalid {
                continue;
            }
            if p.has(params::IMMUTABLE)
                || (p.has(params::PROTECTED)
                    && !self.enable_protected_configs.allows(ctx.local_client))
            {
                let msg = if p.has(params::IMMUTABLE) {
                    "can't set immutable config"
                } else {
                    "can't set protected config"
                };
                error = Some((name, msg));
                invalid = true;
                continue;
            }
            if ctx.loading && p.has(params::DENY_LOADING) {
                deny_loading = true;
                invalid = true;
                continue;
            }
            // The alias is a separate entry in Valkey's dictionary, so
            // `hash-max-listpack-entries` and `hash-max-ziplist-entries` in
            // one command are not duplicates (the last one wins).
            if resolved
                .iter()
                .any(|&(q, q_alias, _)| std::ptr::eq(q, p) && q_alias == alias)
            {
                error = Some((name, "duplicate parameter"));
                invalid = true;
            }
            resolved.push((p, alias, value));
        }
        if deny_loading {
            return Err("LOADING Valkey is loading the dataset in memory".to_string());
        }
        if let Some(name) = unknown {
            return Err(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                lossy(name)
            ));
        }
        if let Some((name, msg)) = error {
            return Err(format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - {msg}",
                lossy(name)
            ));
        }

        // Pass 2: set everything on a copy, so a failure leaves `self` as it
        // was (Valkey restores the previous values instead).
        let mut next = self.clone();
        let mut changed: Vec<&'static str> = Vec::new();
        for &(p, alias, value) in &resolved {
            let args = if p.has(params::MULTI_ARG) {
                split_spaces(value)
            } else {
                vec![value]
            };
            match p.set(&mut next, &args, false) {
                Ok(true) => {
                    if !changed.contains(&p.name) {
                        changed.push(p.name);
                    }
                }
                Ok(false) => {}
                Err(msg) => {
                    // Valkey names the dictionary entry that failed: the alias
                    // when the alias was used, else the canonical name.
                    let name = if alias {
                        p.alias.unwrap_or(p.name)
                    } else {
                        p.name
                    };
                    return Err(format!(
                        "ERR CONFIG SET failed (possibly related to argument '{name}') - {msg}"
                    ));
                }
            }
        }
        // The one "apply" step that is pure configuration: hz is a hint that
        // is accepted out of range but clamped.
        next.clamp_hz();
        *self = next;
        Ok(changed)
    }

    /// Whether `name` is a sensitive parameter (its CONFIG SET value must be
    /// redacted from MONITOR, SLOWLOG and the command log).
    pub fn is_sensitive(name: &[u8]) -> bool {
        lookup(name).is_some_and(|(p, _)| p.has(params::SENSITIVE))
    }

    /// `notify-keyspace-events` spelled as CONFIG GET prints it.
    pub fn notify_keyspace_events_string(&self) -> String {
        keyspace_events_to_string(self.notify_keyspace_events)
    }

    /// Expands a `proc-title-template` (`{title}`, `{listen-addr}`,
    /// `{server-mode}`, `{config-file}`, `{port}`, `{tls-port}`,
    /// `{unixsocket}`; `{{` is a literal `{`) and trims spaces, or `None` if
    /// the template is malformed or names an unknown variable.
    pub fn expand_proc_title_template(&self, template: &str, title: &str) -> Option<String> {
        let mut out = String::new();
        let mut rest = template;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                out.push_str(rest);
                break;
            };
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if after.is_empty() {
                return None;
            }
            if let Some(tail) = after.strip_prefix('{') {
                out.push('{');
                rest = tail;
                continue;
            }
            let close = after.find('}')?;
            out.push_str(&self.proc_title_variable(&after[..close], title)?);
            rest = &after[close + 1..];
        }
        Some(out.trim_matches(' ').to_string())
    }

    fn proc_title_variable(&self, name: &str, title: &str) -> Option<String> {
        Some(match name {
            "title" => title.to_string(),
            "listen-addr" => {
                if self.port != 0 || self.tls_port != 0 {
                    let addr = self.bind.first().map_or("*", String::as_str);
                    let port = if self.port != 0 {
                        self.port
                    } else {
                        self.tls_port
                    };
                    format!("{addr}:{port}")
                } else {
                    // printf("%s", NULL) in glibc prints "(null)".
                    format!(
                        "unixsocket:{}",
                        self.unixsocket.as_deref().unwrap_or("(null)")
                    )
                }
            }
            "server-mode" => {
                if self.cluster_enabled {
                    "[cluster]".to_string()
                } else {
                    String::new()
                }
            }
            "config-file" => self
                .config_file
                .as_ref()
                .map_or_else(|| "-".to_string(), |p| p.to_string_lossy().into_owned()),
            "port" => self.port.to_string(),
            "tls-port" => self.tls_port.to_string(),
            "unixsocket" => self.unixsocket.clone().unwrap_or_default(),
            _ => return None,
        })
    }

    /// Valkey accepts any non-negative `hz` but runs with 1..=500.
    fn clamp_hz(&mut self) {
        self.hz = self.hz.clamp(1, 500);
    }
}

/// Scratch directories for the tests of this module tree.
#[cfg(test)]
mod test_support {
    use std::path::{Path, PathBuf};

    /// A fresh directory under the system temp dir, removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(tag: &str) -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let name = format!(
                "ferrokey-config-{tag}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            let base = std::fs::canonicalize(std::env::temp_dir()).expect("temp dir");
            let dir = base.join(name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }

        /// Writes `content` to `name` inside the directory; returns its path.
        pub fn write(&self, name: &str, content: &str) -> PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, content).expect("write temp file");
            p
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::params::{Kind, HIDDEN};
    use super::*;

    fn get1(c: &Config, name: &str) -> String {
        c.get_value(name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
    }

    fn set(c: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<&'static str>, String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        c.set(&pairs)
    }

    fn set_err(c: &mut Config, name: &str, value: &str) -> String {
        set(c, &[(name, value)]).expect_err("CONFIG SET should fail")
    }

    fn failed(name: &str, msg: &str) -> String {
        format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {msg}")
    }

    #[test]
    fn defaults_agree_with_the_table() {
        let c = Config::default();
        for p in PARAMS {
            match &p.kind {
                Kind::Bool { default, get, .. } => assert_eq!(get(&c), *default, "{}", p.name),
                Kind::Num { default, get, .. } => assert_eq!(get(&c), *default, "{}", p.name),
                Kind::Enum { default, get, .. } => assert_eq!(get(&c), *default, "{}", p.name),
                Kind::Str { default, get, .. } => {
                    assert_eq!(get(&c), default.map(str::as_bytes), "{}", p.name)
                }
                Kind::Special(_) => {}
            }
        }
    }

    #[test]
    fn valkey_default_values() {
        let c = Config::default();
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, vec!["*".to_string(), "-::*".to_string()]);
        assert!(c.protected_mode);
        assert_eq!(c.databases, 16);
        assert_eq!(c.save, vec![(3600, 1), (300, 100), (60, 10000)]);
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::NoEviction);
        assert_eq!(c.appendfsync, AppendFsync::EverySec);
        assert_eq!(c.loglevel, LogLevel::Notice);
        assert_eq!(c.requirepass, None);
        assert_eq!(c.dir, std::env::current_dir().unwrap());
        let expect = [
            ("save", "3600 1 300 100 60 10000"),
            ("bind", "* -::*"),
            ("port", "6379"),
            ("protected-mode", "yes"),
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("maxmemory-clients", "0"),
            ("appendfsync", "everysec"),
            ("appendonly", "no"),
            ("hz", "10"),
            ("dbfilename", "dump.rdb"),
            ("appendfilename", "appendonly.aof"),
            ("appenddirname", "appendonlydir"),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            ("hash-max-listpack-value", "64"),
            ("list-max-listpack-size", "-2"),
            ("slowlog-log-slower-than", "10000"),
            ("unixsocketperm", "0"),
            ("unixsocket", ""),
            ("requirepass", ""),
            ("replicaof", ""),
            ("notify-keyspace-events", ""),
            ("oom-score-adj", "no"),
            ("oom-score-adj-values", "0 200 800"),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("shutdown-on-sigint", "default"),
            ("acl-pubsub-default", "resetchannels"),
            ("proc-title-template", "{title} {listen-addr} {server-mode}"),
            ("syslog-ident", "valkey"),
            ("tls-auth-clients", "yes"),
            (
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            ),
        ];
        for (name, value) in expect {
            assert_eq!(get1(&c, name), value, "{name}");
        }
        assert_eq!(
            get1(&c, "dir"),
            std::env::current_dir().unwrap().to_string_lossy()
        );
    }

    #[test]
    fn get_with_patterns_and_aliases() {
        let c = Config::default();
        let mut got = c.get(&[b"maxmemory*"]);
        got.sort();
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "maxmemory",
                "maxmemory-clients",
                "maxmemory-eviction-tenacity",
                "maxmemory-policy",
                "maxmemory-samples"
            ]
        );
        // Exact names keep the caller's spelling.
        assert_eq!(c.get(&[b"MAXMEMORY"]), [("MAXMEMORY".into(), "0".into())]);
        assert_eq!(c.get(&[b"slaveof"]), [("slaveof".into(), "".into())]);
        // Patterns match aliases too.
        let mut got = c.get(&[b"hash-max-*-entries"]);
        got.sort();
        assert_eq!(
            got,
            [
                ("hash-max-listpack-entries".into(), "512".into()),
                ("hash-max-ziplist-entries".into(), "512".into())
            ]
        );
        // Several patterns, no duplicates.
        let got = c.get(&[b"port", b"PORT", b"p*rt", b"?z"]);
        assert_eq!(
            got,
            [("port".into(), "6379".into()), ("hz".into(), "10".into())]
        );
        // Pattern matching is case-insensitive.
        assert_eq!(c.get(&[b"DATABASE?"]), [("databases".into(), "16".into())]);
        assert!(c.get(&[b"nosuch"]).is_empty());
        assert!(c.get(&[]).is_empty());
    }

    #[test]
    fn get_star_lists_everything_but_hidden() {
        let c = Config::default();
        let all = c.get(&[b"*"]);
        assert_eq!(all.len(), 199 + 25 - 9);
        assert!(all.iter().any(|(n, _)| n == "slaveof"));
        assert!(!all.iter().any(|(n, _)| n == "key-load-delay"));
        // Hidden parameters answer an exact name.
        assert_eq!(
            c.get(&[b"key-load-delay"]),
            [("key-load-delay".into(), "0".into())]
        );
        for p in PARAMS.iter().filter(|p| p.has(HIDDEN)) {
            assert!(!all.iter().any(|(n, _)| n == p.name));
        }
    }

    #[test]
    fn set_memory_values() {
        let mut c = Config::default();
        assert_eq!(set(&mut c, &[("maxmemory", "1gb")]), Ok(vec!["maxmemory"]));
        assert_eq!(c.maxmemory, 1 << 30);
        assert_eq!(get1(&c, "maxmemory"), "1073741824");
        for (v, bytes) in [
            ("1k", 1000),
            ("1KB", 1024),
            ("2m", 2_000_000),
            ("2Mb", 2 << 20),
            ("3G", 3_000_000_000),
            ("100", 100),
        ] {
            set(&mut c, &[("maxmemory", v)]).unwrap();
            assert_eq!(c.maxmemory, bytes, "{v}");
        }
        assert_eq!(
            set_err(&mut c, "maxmemory", "1tb"),
            failed("maxmemory", "argument must be a memory value")
        );
        assert_eq!(
            set_err(&mut c, "maxmemory", "-1"),
            failed("maxmemory", "argument must be a memory value")
        );
        // Same value again: accepted, nothing changed.
        assert_eq!(set(&mut c, &[("maxmemory", "100")]), Ok(vec![]));
        // Memory values below the minimum.
        assert_eq!(
            set_err(&mut c, "proto-max-bulk-len", "1000"),
            failed(
                "proto-max-bulk-len",
                "argument must be between 1048576 and 9223372036854775807 inclusive"
            )
        );
        set(&mut c, &[("proto-max-bulk-len", "1gb")]).unwrap();
        assert_eq!(c.proto_max_bulk_len, 1 << 30);
    }

    #[test]
    fn set_percent_values() {
        let mut c = Config::default();
        set(&mut c, &[("maxmemory-clients", "10%")]).unwrap();
        assert_eq!(c.maxmemory_clients, -10);
        assert_eq!(get1(&c, "maxmemory-clients"), "10%");
        set(&mut c, &[("maxmemory-clients", "1mb")]).unwrap();
        assert_eq!(get1(&c, "maxmemory-clients"), "1048576");
        assert_eq!(
            set_err(&mut c, "maxmemory-clients", "101%"),
            failed(
                "maxmemory-clients",
                "percentage argument must be less or equal to 100"
            )
        );
        assert_eq!(
            set_err(&mut c, "maxmemory-clients", "-1"),
            failed(
                "maxmemory-clients",
                "argument must be a memory or percent value"
            )
        );
        assert_eq!(
            set_err(&mut c, "maxmemory-clients", "%"),
            failed(
                "maxmemory-clients",
                "argument must be a memory or percent value"
            )
        );
    }

    #[test]
    fn set_integers_and_bounds() {
        let mut c = Config::default();
        set(&mut c, &[("maxmemory-samples", "10")]).unwrap();
        assert_eq!(c.maxmemory_samples, 10);
        for bad in ["1.5", " 5", "+5", "05", "", "ten"] {
            assert_eq!(
                set_err(&mut c, "maxmemory-samples", bad),
                failed(
                    "maxmemory-samples",
                    "argument couldn't be parsed into an integer"
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            set_err(&mut c, "maxmemory-samples", "0"),
            failed(
                "maxmemory-samples",
                "argument must be between 1 and 64 inclusive"
            )
        );
        assert_eq!(
            set_err(&mut c, "port", "65536"),
            failed("port", "argument must be between 0 and 65535 inclusive")
        );
        assert_eq!(
            set_err(&mut c, "timeout", "2147483648"),
            failed(
                "timeout",
                "argument must be between 0 and 2147483647 inclusive"
            )
        );
        // Unsigned C types see -1 as a huge number.
        assert_eq!(
            set_err(&mut c, "hash-max-listpack-entries", "-1"),
            failed(
                "hash-max-listpack-entries",
                "argument must be between 0 and 9223372036854775807 inclusive"
            )
        );
        assert_eq!(
            set_err(&mut c, "maxclients", "0"),
            failed(
                "maxclients",
                "argument must be between 1 and 4294967295 inclusive"
            )
        );
        set(&mut c, &[("slowlog-log-slower-than", "-1")]).unwrap();
        assert_eq!(c.slowlog_log_slower_than, -1);
        set(&mut c, &[("list-max-listpack-size", "-5")]).unwrap();
        assert_eq!(get1(&c, "list-max-ziplist-size"), "-5");
        // hz is clamped, not refused.
        set(&mut c, &[("hz", "1000")]).unwrap();
        assert_eq!(get1(&c, "hz"), "500");
        set(&mut c, &[("hz", "0")]).unwrap();
        assert_eq!(c.hz, 1);
        set(&mut c, &[("port", "7000")]).unwrap();
        assert_eq!(c.port, 7000);
    }

    #[test]
    fn set_bools() {
        let mut c = Config::default();
        assert_eq!(
            set(&mut c, &[("appendonly", "YES")]),
            Ok(vec!["appendonly"])
        );
        assert!(c.appendonly);
        assert_eq!(get1(&c, "appendonly"), "yes");
        assert_eq!(
            set_err(&mut c, "appendonly", "1"),
            failed("appendonly", "argument must be 'yes' or 'no'")
        );
        set(&mut c, &[("slave-read-only", "no")]).unwrap();
        assert!(!c.replica_read_only);
    }

    #[test]
    fn set_enums_and_flags() {
        let mut c = Config::default();
        set(&mut c, &[("maxmemory-policy", "ALLKEYS-LRU")]).unwrap();
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
        assert_eq!(get1(&c, "maxmemory-policy"), "allkeys-lru");
        assert_eq!(
            set_err(&mut c, "maxmemory-policy", "lru"),
            failed(
                "maxmemory-policy",
                "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
                 volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
                 noeviction"
            )
        );
        // A single-valued enum does not take several words.
        assert!(set(&mut c, &[("loglevel", "debug verbose")]).is_err());
        set(&mut c, &[("oom-score-adj", "relative")]).unwrap();
        assert_eq!(c.oom_score_adj, OomScoreAdj::Relative);
        assert_eq!(get1(&c, "oom-score-adj"), "yes");
        set(&mut c, &[("shutdown-on-sigint", "now save")]).unwrap();
        assert_eq!(c.shutdown_on_sigint, SHUTDOWN_SAVE | SHUTDOWN_NOW);
        assert_eq!(get1(&c, "shutdown-on-sigint"), "save now");
        assert_eq!(
            set_err(&mut c, "shutdown-on-sigterm", "save nosave"),
            failed(
                "shutdown-on-sigterm",
                "shutdown options SAVE and NOSAVE can't be used simultaneously"
            )
        );
        assert_eq!(
            set_err(&mut c, "shutdown-on-sigterm", ""),
            failed(
                "shutdown-on-sigterm",
                "argument(s) must be one of the following: default, save, nosave, now, force"
            )
        );
    }

    #[test]
    fn set_strings() {
        let mut c = Config::default();
        set(&mut c, &[("requirepass", "s3cret")]).unwrap();
        assert_eq!(c.requirepass.as_deref(), Some(&b"s3cret"[..]));
        set(&mut c, &[("requirepass", "")]).unwrap();
        assert_eq!(c.requirepass, None);
        set(&mut c, &[("masterauth", "pw")]).unwrap();
        assert_eq!(c.primaryauth.as_deref(), Some(&b"pw"[..]));
        set(&mut c, &[("cluster-announce-client-ipv4", "10.0.0.1")]).unwrap();
        assert_eq!(
            set_err(&mut c, "cluster-announce-client-ipv4", "10.0.0"),
            failed("cluster-announce-client-ipv4", "Invalid IPv4 address")
        );
        assert_eq!(
            set_err(&mut c, "cluster-announce-client-ipv6", "::g"),
            failed("cluster-announce-client-ipv6", "Invalid IPv6 address")
        );
        set(&mut c, &[("cluster-announce-client-ipv4", "")]).unwrap();
        assert_eq!(c.cluster_announce_client_ipv4, None);
        assert_eq!(
            set_err(&mut c, "proc-title-template", "{nope}"),
            failed(
                "proc-title-template",
                "template format is invalid or contains unknown variables"
            )
        );
    }

    #[test]
    fn protected_and_immutable() {
        let mut c = Config::default();
        assert_eq!(
            set_err(&mut c, "daemonize", "yes"),
            failed("daemonize", "can't set immutable config")
        );
        assert_eq!(
            set_err(&mut c, "SLAVEOF", "no one"),
            failed("SLAVEOF", "can't set immutable config")
        );
        assert_eq!(
            set_err(&mut c, "dbfilename", "x.rdb"),
            failed("dbfilename", "can't set protected config")
        );
        c.enable_protected_configs = ProtectedAction::Local;
        assert_eq!(
            set_err(&mut c, "dbfilename", "x.rdb"),
            failed("dbfilename", "can't set protected config")
        );
        let local = SetContext {
            local_client: true,
            loading: false,
        };
        c.set_with(&[(b"dbfilename", b"x.rdb")], local).unwrap();
        assert_eq!(c.dbfilename, "x.rdb");
        assert_eq!(
            c.set_with(&[(b"dbfilename", b"a/b.rdb")], local),
            Err(failed(
                "dbfilename",
                "dbfilename can't be a path, just a filename"
            ))
        );
        assert_eq!(
            c.set_with(&[(b"dbfilename", b"")], local),
            Err(failed("dbfilename", "dbfilename can't be empty"))
        );
        let loading = SetContext {
            local_client: false,
            loading: true,
        };
        assert_eq!(
            c.set_with(&[(b"appendonly", b"yes")], loading),
            Err("LOADING Valkey is loading the dataset in memory".to_string())
        );
        assert!(c.set_with(&[(b"maxmemory", b"1")], loading).is_ok());
        assert!(Config::is_sensitive(b"requirepass"));
        assert!(Config::is_sensitive(b"MASTERAUTH"));
        assert!(Config::is_sensitive(b"tls-key-file-pass"));
        assert!(!Config::is_sensitive(b"port"));
        assert!(!Config::is_sensitive(b"nosuch"));
    }

    #[test]
    fn set_dir() {
        let mut c = Config {
            enable_protected_configs: ProtectedAction::Yes,
            ..Config::default()
        };
        let tmp = std::fs::canonicalize(std::env::temp_dir()).unwrap();
        set(&mut c, &[("dir", tmp.to_str().unwrap())]).unwrap();
        assert_eq!(c.dir, tmp);
        assert_eq!(get1(&c, "dir"), tmp.to_string_lossy());
        assert_eq!(
            set_err(&mut c, "dir", ""),
            failed("dir", "dir can't be empty")
        );
        assert_eq!(
            set_err(&mut c, "dir", "/nonexistent/ferrokey/dir"),
            failed("dir", "No such file or directory")
        );
        // The process's working directory is left alone.
        assert_eq!(Config::default().dir, std::env::current_dir().unwrap());
    }

    #[test]
    fn set_special_parameters() {
        let mut c = Config::default();
        set(&mut c, &[("save", "")]).unwrap();
        assert!(c.save.is_empty());
        assert_eq!(get1(&c, "save"), "");
        set(&mut c, &[("save", "100 10 20 5")]).unwrap();
        assert_eq!(c.save, vec![(100, 10), (20, 5)]);
        for bad in ["100", "0 1", "10 -1", "10 x", "10  5"] {
            assert_eq!(
                set_err(&mut c, "save", bad),
                failed("save", "Invalid save parameters"),
                "{bad:?}"
            );
        }

        set(
            &mut c,
            &[(
                "client-output-buffer-limit",
                "normal 1mb 2mb 30 replica 1 1 1",
            )],
        )
        .unwrap();
        assert_eq!(
            get1(&c, "client-output-buffer-limit"),
            "normal 1048576 2097152 30 slave 1 1 1 pubsub 33554432 8388608 60"
        );
        assert_eq!(
            c.client_output_buffer_limit[OBUF_NORMAL].soft_limit_seconds,
            30
        );
        let cobl = "client-output-buffer-limit";
        assert_eq!(
            set_err(&mut c, cobl, "master 1 1 1"),
            failed(
                cobl,
                "Invalid client class specified in buffer limit configuration."
            )
        );
        assert_eq!(
            set_err(&mut c, cobl, "normal 1"),
            failed(
                cobl,
                "Wrong number of arguments in buffer limit configuration."
            )
        );
        assert_eq!(
            set_err(&mut c, cobl, "pubsub x 1 1"),
            failed(
                cobl,
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
            )
        );

        set(&mut c, &[("notify-keyspace-events", "KEA")]).unwrap();
        assert_eq!(get1(&c, "notify-keyspace-events"), "AKE");
        assert_eq!(
            c.notify_keyspace_events,
            notify::ALL | notify::KEYSPACE | notify::KEYEVENT
        );
        assert_eq!(
            set_err(&mut c, "notify-keyspace-events", "KQ"),
            failed(
                "notify-keyspace-events",
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
            )
        );

        set(&mut c, &[("bind", "127.0.0.1 ::1")]).unwrap();
        assert_eq!(c.bind, vec!["127.0.0.1".to_string(), "::1".to_string()]);
        set(&mut c, &[("bind", "")]).unwrap();
        assert!(c.bind.is_empty());
        let many = vec!["1.2.3.4"; 17].join(" ");
        assert_eq!(
            set_err(&mut c, "bind", &many),
            failed("bind", "Too many bind addresses specified.")
        );

        assert_eq!(
            set_err(&mut c, "oom-score-adj-values", "1 2"),
            failed("oom-score-adj-values", "wrong number of arguments")
        );
        assert_eq!(
            set_err(&mut c, "oom-score-adj-values", "0 2001 3"),
            failed(
                "oom-score-adj-values",
                "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
            )
        );
        assert_eq!(
            set(&mut c, &[("oom-score-adj-values", "0 200 800")]),
            Ok(vec![])
        );
        set(&mut c, &[("oom-score-adj-values", "-10 100 1000")]).unwrap();
        assert_eq!(c.oom_score_adj_values, [-10, 100, 1000]);

        set(
            &mut c,
            &[("latency-tracking-info-percentiles", "50 99.99 0")],
        )
        .unwrap();
        assert_eq!(get1(&c, "latency-tracking-info-percentiles"), "50 99.99 0");
        let ltip = "latency-tracking-info-percentiles";
        assert_eq!(
            set_err(&mut c, ltip, "101"),
            failed(
                ltip,
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
            )
        );
        assert_eq!(
            set_err(&mut c, ltip, "abc"),
            failed(ltip, "Invalid latency-tracking-info-percentiles parameters")
        );
        set(&mut c, &[(ltip, "")]).unwrap();
        assert_eq!(get1(&c, ltip), "");
    }

    #[test]
    fn multi_set_is_all_or_nothing() {
        let mut c = Config::default();
        assert_eq!(
            set(
                &mut c,
                &[("maxmemory", "1mb"), ("maxmemory-samples", "100")]
            ),
            Err(failed(
                "maxmemory-samples",
                "argument must be between 1 and 64 inclusive"
            ))
        );
        assert_eq!(c.maxmemory, 0);
        assert_eq!(
            set(
                &mut c,
                &[("maxmemory", "1mb"), ("timeout", "5"), ("maxmemory", "2mb")]
            ),
            Err(failed("maxmemory", "duplicate parameter"))
        );
        assert_eq!(
            set(&mut c, &[("maxmemory", "1mb"), ("foo", "1"), ("bar", "2")]),
            Err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'".to_string())
        );
        // The first problem wins.
        assert_eq!(
            set(&mut c, &[("daemonize", "no"), ("foo", "1")]),
            Err(failed("daemonize", "can't set immutable config"))
        );
        assert_eq!(c, Config::default());
        assert_eq!(
            set(
                &mut c,
                &[("maxmemory", "1mb"), ("timeout", "5"), ("hz", "10")]
            ),
            Ok(vec!["maxmemory", "timeout"])
        );
        assert_eq!((c.maxmemory, c.timeout), (1 << 20, 5));
        // An alias and its parameter are different entries: the last wins.
        set(
            &mut c,
            &[
                ("hash-max-listpack-entries", "1"),
                ("hash-max-ziplist-entries", "2"),
            ],
        )
        .unwrap();
        assert_eq!(c.hash_max_listpack_entries, 2);
    }

    #[test]
    fn set_errors_name_the_entry() {
        let mut c = Config::default();
        // The canonical (lower-case) name, or the alias when it was used.
        assert_eq!(
            set_err(&mut c, "MAXMEMORY", "x"),
            failed("maxmemory", "argument must be a memory value")
        );
        assert_eq!(
            set_err(&mut c, "hash-max-ziplist-entries", "x"),
            failed(
                "hash-max-ziplist-entries",
                "argument couldn't be parsed into an integer"
            )
        );
        assert_eq!(
            set_err(&mut c, "Foo", "1"),
            "ERR Unknown option or number of arguments for CONFIG SET - 'Foo'"
        );
    }
}
