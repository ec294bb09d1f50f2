//! The parameter table: one [`Param`] per Valkey configuration parameter, in
//! the order of Valkey 8's `static_configs[]`, with its type, limits, default,
//! flags and accessors onto the typed [`Config`] fields.
//!
//! Everything that is generic over parameters (CONFIG GET formatting, CONFIG
//! SET / config-file parsing and validation, CONFIG REWRITE lines) works from
//! this table, so a parameter behaves identically through every path.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{
    AclPubsubDefault, AppendFsync, ClientBufferLimit, ClusterEndpointType, Config, LogFormat,
    LogLevel, LogTimestampFormat, MaxmemoryPolicy, OomScoreAdj, PropagationErrorBehavior,
    ProtectedAction, ReplDisklessLoad, SanitizeDumpPayload, SupervisedMode, SyslogFacility,
    TlsAuthClients,
};

/// Can only be set at startup (config file / command line), not by CONFIG SET.
pub const IMMUTABLE: u32 = 1 << 0;
/// The value is a secret: CONFIG SET must redact it from MONITOR/SLOWLOG.
pub const SENSITIVE: u32 = 1 << 1;
/// Included in the crash-report debug dump ([`Config::debug_info`]).
pub const DEBUG: u32 = 1 << 2;
/// Takes several arguments (`save 900 1 300 10`).
pub const MULTI_ARG: u32 = 1 << 3;
/// Not listed by CONFIG GET patterns; only an exact name finds it.
pub const HIDDEN: u32 = 1 << 4;
/// CONFIG SET only when `enable-protected-configs` allows it.
pub const PROTECTED: u32 = 1 << 5;
/// CONFIG SET refused (-LOADING) while the dataset is being loaded.
pub const DENY_LOADING: u32 = 1 << 6;
/// The stored value is a reference to external data (a file path whose
/// content may change), so setting the same value again still counts as a
/// change and re-applies.
pub const VOLATILE: u32 = 1 << 9;

/// How Valkey's C type of a numeric parameter makes it compare against its
/// bounds: unsigned types compare the parsed `long long` reinterpreted as
/// unsigned, so `-1` is "too big" rather than "too small".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumSign {
    Signed,
    Unsigned,
}

/// What a numeric parameter accepts and how it is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumUnit {
    /// Plain integer (`string2ll` rules: no spaces, no `+`, no leading zeros).
    Int,
    /// Memory value: digits with an optional `b`, `k`, `kb`, `m`, `mb`, `g`,
    /// `gb` unit (case-insensitive). Printed in bytes, rewritten in the largest
    /// exact `gb`/`mb`/`kb` unit.
    Mem,
    /// Memory value or `N%` percentage (stored as `-N`).
    MemPct,
    /// Octal number (`unixsocketperm`).
    Octal,
}

/// Whether a string parameter is a C string (cut at the first NUL byte, as
/// Valkey's `char *` configs are) or a binary-safe sds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrType {
    CStr,
    Sds,
}

/// Extra validation of a string parameter's new value.
pub type StrValidator = fn(&Config, &[u8]) -> Result<(), &'static str>;
/// Extra validation of an enum parameter's new value.
pub type EnumValidator = fn(i32) -> Result<(), &'static str>;

/// Parameters whose parsing, formatting and rewriting do not fit a generic
/// type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    Dir,
    Save,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Bind,
    Replicaof,
    LatencyTrackingInfoPercentiles,
}

/// The type of a parameter, with its default and the accessors onto its
/// [`Config`] field. Numeric values travel as `i64` (Valkey's `long long`):
/// unsigned 64-bit fields keep their bit pattern (`u64::MAX` is `-1`).
pub enum Kind {
    Bool {
        default: bool,
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
    },
    Num {
        sign: NumSign,
        unit: NumUnit,
        min: i64,
        max: i64,
        default: i64,
        get: fn(&Config) -> i64,
        set: fn(&mut Config, i64),
    },
    /// A single-choice enum, or a set of flags when the parameter is
    /// [`MULTI_ARG`] (`shutdown-on-sigint save now`).
    Enum {
        /// Names in Valkey's order (error messages list them in this order;
        /// the first name of a value is the one printed).
        names: &'static [(&'static str, i32)],
        default: i32,
        validate: Option<EnumValidator>,
        get: fn(&Config) -> i32,
        set: fn(&mut Config, i32),
    },
    Str {
        stype: StrType,
        /// An empty value is stored as "unset" (`None`), as Valkey's
        /// `EMPTY_STRING_IS_NULL` parameters do.
        empty_is_null: bool,
        default: Option<&'static str>,
        validate: Option<StrValidator>,
        get: fn(&Config) -> Option<&[u8]>,
        set: fn(&mut Config, Option<Vec<u8>>),
    },
    Special(Special),
}

/// One configuration parameter.
pub struct Param {
    /// The canonical name (what CONFIG REWRITE writes).
    pub name: &'static str,
    /// The old name also accepted everywhere (`slaveof` for `replicaof`).
    pub alias: Option<&'static str>,
    /// [`IMMUTABLE`], [`SENSITIVE`], ... bits.
    pub flags: u32,
    pub kind: Kind,
}

impl Param {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

macro_rules! bool_p {
    ($name:literal, $alias:expr, $flags:expr, $field:ident, $def:expr) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Bool {
                default: $def,
                get: |c| c.$field,
                set: |c, v| c.$field = v,
            },
        }
    };
}

macro_rules! num_p {
    ($name:literal, $alias:expr, $flags:expr, $sign:ident, $min:expr, $max:expr, $def:expr,
     $unit:ident, $field:ident: $ty:ty) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Num {
                sign: NumSign::$sign,
                unit: NumUnit::$unit,
                min: $min,
                max: $max,
                default: $def,
                // Values were bounds-checked against the parameter's limits,
                // which fit the field's type, so these casts are lossless
                // (u64 fields round-trip through their i64 bit pattern).
                get: |c| c.$field as i64,
                set: |c, v| c.$field = v as $ty,
            },
        }
    };
}

macro_rules! enum_p {
    ($name:literal, $alias:expr, $flags:expr, $ty:ident :: $def:ident, $field:ident) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Enum {
                names: $ty::NAMES,
                default: $ty::$def as i32,
                validate: None,
                get: |c| c.$field as i32,
                set: |c, v| {
                    if let Some(e) = $ty::from_i32(v) {
                        c.$field = e;
                    }
                },
            },
        }
    };
}

macro_rules! flags_p {
    ($name:literal, $alias:expr, $flags:expr, $names:expr, $def:expr, $valid:expr, $field:ident) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Enum {
                names: $names,
                default: $def,
                validate: $valid,
                get: |c| c.$field as i32,
                set: |c, v| c.$field = v as u32,
            },
        }
    };
}

macro_rules! str_p {
    ($name:literal, $alias:expr, $flags:expr, $st:ident, $def:expr, $valid:expr, $field:ident: Text) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Str {
                stype: StrType::$st,
                empty_is_null: false,
                default: $def,
                validate: $valid,
                get: |c| Some(c.$field.as_bytes()),
                set: |c, v| c.$field = bytes_to_string(v.unwrap_or_default()),
            },
        }
    };
    ($name:literal, $alias:expr, $flags:expr, $st:ident, $def:expr, $valid:expr, $field:ident: OptString) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Str {
                stype: StrType::$st,
                empty_is_null: true,
                default: $def,
                validate: $valid,
                get: |c| c.$field.as_deref().map(str::as_bytes),
                set: |c, v| c.$field = v.map(bytes_to_string),
            },
        }
    };
    ($name:literal, $alias:expr, $flags:expr, $st:ident, $def:expr, $valid:expr, $field:ident: OptBytes) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Str {
                stype: StrType::$st,
                empty_is_null: true,
                default: $def,
                validate: $valid,
                get: |c| c.$field.as_deref(),
                set: |c, v| c.$field = v,
            },
        }
    };
}

macro_rules! special_p {
    ($name:literal, $alias:expr, $flags:expr, $special:ident) => {
        Param {
            name: $name,
            alias: $alias,
            flags: $flags,
            kind: Kind::Special(Special::$special),
        }
    };
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flag: force a save.
pub const SHUTDOWN_SAVE: u32 = 1;
/// ... never save.
pub const SHUTDOWN_NOSAVE: u32 = 2;
/// ... do not wait for replicas to catch up.
pub const SHUTDOWN_NOW: u32 = 4;
/// ... ignore errors that would prevent the shutdown.
pub const SHUTDOWN_FORCE: u32 = 8;

const SHUTDOWN_ON_SIG_NAMES: &[(&str, i32)] = &[
    ("default", 0),
    ("save", SHUTDOWN_SAVE as i32),
    ("nosave", SHUTDOWN_NOSAVE as i32),
    ("now", SHUTDOWN_NOW as i32),
    ("force", SHUTDOWN_FORCE as i32),
];

/// Every parameter of Valkey 8, in `static_configs[]` order.
#[allow(clippy::unnecessary_cast)]
pub static PARAMS: &[Param] = &[
    bool_p!("rdbchecksum", None, IMMUTABLE, rdbchecksum, true),
    bool_p!("daemonize", None, IMMUTABLE, daemonize, false),
    bool_p!("always-show-logo", None, IMMUTABLE, always_show_logo, false),
    bool_p!("protected-mode", None, 0, protected_mode, true),
    bool_p!("rdbcompression", None, 0, rdbcompression, true),
    bool_p!("rdb-del-sync-files", None, 0, rdb_del_sync_files, false),
    bool_p!("activerehashing", None, 0, activerehashing, true),
    bool_p!(
        "stop-writes-on-bgsave-error",
        None,
        0,
        stop_writes_on_bgsave_error,
        true
    ),
    bool_p!("set-proc-title", None, IMMUTABLE, set_proc_title, true),
    bool_p!("dynamic-hz", None, 0, dynamic_hz, true),
    bool_p!(
        "lazyfree-lazy-eviction",
        None,
        DEBUG,
        lazyfree_lazy_eviction,
        true
    ),
    bool_p!(
        "lazyfree-lazy-expire",
        None,
        DEBUG,
        lazyfree_lazy_expire,
        true
    ),
    bool_p!(
        "lazyfree-lazy-server-del",
        None,
        DEBUG,
        lazyfree_lazy_server_del,
        true
    ),
    bool_p!(
        "lazyfree-lazy-user-del",
        None,
        DEBUG,
        lazyfree_lazy_user_del,
        true
    ),
    bool_p!(
        "lazyfree-lazy-user-flush",
        None,
        DEBUG,
        lazyfree_lazy_user_flush,
        true
    ),
    bool_p!(
        "repl-disable-tcp-nodelay",
        None,
        0,
        repl_disable_tcp_nodelay,
        false
    ),
    bool_p!("repl-diskless-sync", None, DEBUG, repl_diskless_sync, true),
    bool_p!(
        "dual-channel-replication-enabled",
        None,
        DEBUG,
        dual_channel_replication_enabled,
        false
    ),
    bool_p!(
        "aof-rewrite-incremental-fsync",
        None,
        0,
        aof_rewrite_incremental_fsync,
        true
    ),
    bool_p!(
        "no-appendfsync-on-rewrite",
        None,
        0,
        no_appendfsync_on_rewrite,
        false
    ),
    bool_p!(
        "cluster-require-full-coverage",
        None,
        0,
        cluster_require_full_coverage,
        true
    ),
    bool_p!(
        "rdb-save-incremental-fsync",
        None,
        0,
        rdb_save_incremental_fsync,
        true
    ),
    bool_p!("aof-load-truncated", None, 0, aof_load_truncated, true),
    bool_p!("aof-use-rdb-preamble", None, 0, aof_use_rdb_preamble, true),
    bool_p!(
        "aof-timestamp-enabled",
        None,
        0,
        aof_timestamp_enabled,
        false
    ),
    bool_p!(
        "cluster-replica-no-failover",
        Some("cluster-slave-no-failover"),
        0,
        cluster_replica_no_failover,
        false
    ),
    bool_p!(
        "replica-lazy-flush",
        Some("slave-lazy-flush"),
        0,
        replica_lazy_flush,
        true
    ),
    bool_p!(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        0,
        replica_serve_stale_data,
        true
    ),
    bool_p!(
        "replica-read-only",
        Some("slave-read-only"),
        DEBUG,
        replica_read_only,
        true
    ),
    bool_p!(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        0,
        replica_ignore_maxmemory,
        true
    ),
    bool_p!("jemalloc-bg-thread", None, 0, jemalloc_bg_thread, true),
    bool_p!("activedefrag", None, DEBUG, activedefrag, false),
    bool_p!("syslog-enabled", None, IMMUTABLE, syslog_enabled, false),
    bool_p!("cluster-enabled", None, IMMUTABLE, cluster_enabled, false),
    bool_p!("appendonly", None, DENY_LOADING, appendonly, false),
    bool_p!(
        "cluster-allow-reads-when-down",
        None,
        0,
        cluster_allow_reads_when_down,
        false
    ),
    bool_p!(
        "cluster-allow-pubsubshard-when-down",
        None,
        0,
        cluster_allow_pubsubshard_when_down,
        true
    ),
    bool_p!("crash-log-enabled", None, 0, crash_log_enabled, true),
    bool_p!(
        "crash-memcheck-enabled",
        None,
        0,
        crash_memcheck_enabled,
        true
    ),
    bool_p!("use-exit-on-panic", None, HIDDEN, use_exit_on_panic, false),
    bool_p!("disable-thp", None, IMMUTABLE, disable_thp, true),
    bool_p!(
        "cluster-allow-replica-migration",
        None,
        0,
        cluster_allow_replica_migration,
        true
    ),
    bool_p!("replica-announced", None, 0, replica_announced, true),
    bool_p!("latency-tracking", None, 0, latency_tracking, true),
    bool_p!(
        "aof-disable-auto-gc",
        None,
        HIDDEN,
        aof_disable_auto_gc,
        false
    ),
    bool_p!(
        "replica-ignore-disk-write-errors",
        None,
        0,
        replica_ignore_disk_write_errors,
        false
    ),
    bool_p!(
        "extended-redis-compatibility",
        None,
        0,
        extended_redis_compatibility,
        false
    ),
    bool_p!(
        "enable-debug-assert",
        None,
        IMMUTABLE | HIDDEN,
        enable_debug_assert,
        false
    ),
    bool_p!(
        "cluster-slot-stats-enabled",
        None,
        0,
        cluster_slot_stats_enabled,
        false
    ),
    bool_p!(
        "hide-user-data-from-log",
        None,
        0,
        hide_user_data_from_log,
        true
    ),
    str_p!("aclfile", None, IMMUTABLE, CStr, Some(""), None, aclfile: Text),
    str_p!("unixsocket", None, IMMUTABLE, CStr, None, None, unixsocket: OptString),
    str_p!("unixsocketgroup", None, IMMUTABLE, CStr, None, None, unixsocketgroup: OptString),
    str_p!("pidfile", None, IMMUTABLE, CStr, None, None, pidfile: OptString),
    str_p!("replica-announce-ip", Some("slave-announce-ip"), 0, CStr, None, None, replica_announce_ip: OptString),
    str_p!("primaryuser", Some("masteruser"), SENSITIVE, CStr, None, None, primaryuser: OptString),
    str_p!("cluster-announce-ip", None, 0, CStr, None, None, cluster_announce_ip: OptString),
    str_p!("cluster-announce-client-ipv4", None, 0, CStr, None, Some(valid_ipv4), cluster_announce_client_ipv4: OptString),
    str_p!("cluster-announce-client-ipv6", None, 0, CStr, None, Some(valid_ipv6), cluster_announce_client_ipv6: OptString),
    str_p!("cluster-config-file", None, IMMUTABLE, CStr, Some("nodes.conf"), Some(valid_cluster_config_file), cluster_config_file: Text),
    str_p!("cluster-announce-hostname", None, 0, CStr, None, Some(valid_announced_hostname), cluster_announce_hostname: OptString),
    str_p!("cluster-announce-human-nodename", None, 0, CStr, None, Some(valid_announced_nodename), cluster_announce_human_nodename: OptString),
    str_p!("syslog-ident", None, IMMUTABLE, CStr, Some("valkey"), None, syslog_ident: Text),
    str_p!("dbfilename", None, PROTECTED, CStr, Some("dump.rdb"), Some(valid_dbfilename), dbfilename: Text),
    str_p!("appendfilename", None, IMMUTABLE, CStr, Some("appendonly.aof"), Some(valid_aof_filename), appendfilename: Text),
    str_p!("appenddirname", None, IMMUTABLE, CStr, Some("appendonlydir"), Some(valid_aof_dirname), appenddirname: Text),
    str_p!("server-cpulist", Some("server_cpulist"), IMMUTABLE, CStr, None, None, server_cpulist: OptString),
    str_p!("bio-cpulist", Some("bio_cpulist"), IMMUTABLE, CStr, None, None, bio_cpulist: OptString),
    str_p!("aof-rewrite-cpulist", Some("aof_rewrite_cpulist"), IMMUTABLE, CStr, None, None, aof_rewrite_cpulist: OptString),
    str_p!("bgsave-cpulist", Some("bgsave_cpulist"), IMMUTABLE, CStr, None, None, bgsave_cpulist: OptString),
    str_p!("ignore-warnings", None, 0, CStr, Some(""), None, ignore_warnings: Text),
    str_p!("proc-title-template", None, 0, CStr, Some("{title} {listen-addr} {server-mode}"), Some(valid_proc_title_template), proc_title_template: Text),
    str_p!("bind-source-addr", None, 0, CStr, None, None, bind_source_addr: OptString),
    str_p!("logfile", None, IMMUTABLE, CStr, Some(""), None, logfile: Text),
    str_p!("locale-collate", None, 0, CStr, Some(""), None, locale_collate: Text),
    str_p!("debug-context", None, DEBUG | HIDDEN, CStr, Some(""), None, debug_context: Text),
    str_p!("primaryauth", Some("masterauth"), SENSITIVE, Sds, None, None, primaryauth: OptBytes),
    str_p!("requirepass", None, SENSITIVE, Sds, None, None, requirepass: OptBytes),
    str_p!("availability-zone", None, 0, Sds, Some(""), None, availability_zone: Text),
    enum_p!(
        "supervised",
        None,
        IMMUTABLE,
        SupervisedMode::No,
        supervised
    ),
    enum_p!(
        "syslog-facility",
        None,
        IMMUTABLE,
        SyslogFacility::Local0,
        syslog_facility
    ),
    enum_p!(
        "repl-diskless-load",
        None,
        DEBUG | DENY_LOADING,
        ReplDisklessLoad::Disabled,
        repl_diskless_load
    ),
    enum_p!("loglevel", None, 0, LogLevel::Notice, loglevel),
    enum_p!(
        "maxmemory-policy",
        None,
        0,
        MaxmemoryPolicy::NoEviction,
        maxmemory_policy
    ),
    enum_p!("appendfsync", None, 0, AppendFsync::EverySec, appendfsync),
    enum_p!("oom-score-adj", None, 0, OomScoreAdj::No, oom_score_adj),
    enum_p!(
        "acl-pubsub-default",
        None,
        0,
        AclPubsubDefault::ResetChannels,
        acl_pubsub_default
    ),
    enum_p!(
        "sanitize-dump-payload",
        None,
        DEBUG,
        SanitizeDumpPayload::No,
        sanitize_dump_payload
    ),
    enum_p!(
        "enable-protected-configs",
        None,
        IMMUTABLE,
        ProtectedAction::No,
        enable_protected_configs
    ),
    enum_p!(
        "enable-debug-command",
        None,
        IMMUTABLE,
        ProtectedAction::No,
        enable_debug_command
    ),
    enum_p!(
        "enable-module-command",
        None,
        IMMUTABLE,
        ProtectedAction::No,
        enable_module_command
    ),
    enum_p!(
        "cluster-preferred-endpoint-type",
        None,
        0,
        ClusterEndpointType::Ip,
        cluster_preferred_endpoint_type
    ),
    enum_p!(
        "propagation-error-behavior",
        None,
        0,
        PropagationErrorBehavior::Ignore,
        propagation_error_behavior
    ),
    flags_p!(
        "shutdown-on-sigint",
        None,
        MULTI_ARG,
        SHUTDOWN_ON_SIG_NAMES,
        0,
        Some(valid_shutdown_on_sig),
        shutdown_on_sigint
    ),
    flags_p!(
        "shutdown-on-sigterm",
        None,
        MULTI_ARG,
        SHUTDOWN_ON_SIG_NAMES,
        0,
        Some(valid_shutdown_on_sig),
        shutdown_on_sigterm
    ),
    enum_p!("log-format", None, 0, LogFormat::Legacy, log_format),
    enum_p!(
        "log-timestamp-format",
        None,
        0,
        LogTimestampFormat::Legacy,
        log_timestamp_format
    ),
    num_p!("databases", None, IMMUTABLE, Signed, 1, i32::MAX as i64, 16, Int, databases: usize),
    num_p!("port", None, 0, Signed, 0, 65535, 6379, Int, port: u16),
    num_p!("io-threads", None, DEBUG | IMMUTABLE, Signed, 1, 128, 1, Int, io_threads: usize),
    num_p!("events-per-io-thread", None, 0, Signed, 0, i32::MAX as i64, 2, Int, events_per_io_thread: u32),
    num_p!("prefetch-batch-max-size", None, 0, Signed, 0, 128, 16, Int, prefetch_batch_max_size: u32),
    num_p!("auto-aof-rewrite-percentage", None, 0, Signed, 0, i32::MAX as i64, 100, Int, auto_aof_rewrite_percentage: u32),
    num_p!("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), 0, Signed, 0, i32::MAX as i64, 10, Int, cluster_replica_validity_factor: u32),
    num_p!("list-max-listpack-size", Some("list-max-ziplist-size"), 0, Signed, i32::MIN as i64, i32::MAX as i64, -2, Int, list_max_listpack_size: i32),
    num_p!("tcp-keepalive", None, 0, Signed, 0, i32::MAX as i64, 300, Int, tcp_keepalive: u32),
    num_p!("cluster-migration-barrier", None, 0, Signed, 0, i32::MAX as i64, 1, Int, cluster_migration_barrier: u32),
    num_p!("active-defrag-cycle-min", None, 0, Signed, 1, 99, 1, Int, active_defrag_cycle_min: u32),
    num_p!("active-defrag-cycle-max", None, 0, Signed, 1, 99, 25, Int, active_defrag_cycle_max: u32),
    num_p!("active-defrag-threshold-lower", None, 0, Signed, 0, 1000, 10, Int, active_defrag_threshold_lower: u32),
    num_p!("active-defrag-threshold-upper", None, 0, Signed, 0, 1000, 100, Int, active_defrag_threshold_upper: u32),
    num_p!("lfu-log-factor", None, 0, Signed, 0, i32::MAX as i64, 10, Int, lfu_log_factor: u32),
    num_p!("lfu-decay-time", None, 0, Signed, 0, i32::MAX as i64, 1, Int, lfu_decay_time: u32),
    num_p!("replica-priority", Some("slave-priority"), 0, Signed, 0, i32::MAX as i64, 100, Int, replica_priority: u32),
    num_p!("repl-diskless-sync-delay", None, 0, Signed, 0, i32::MAX as i64, 5, Int, repl_diskless_sync_delay: u32),
    num_p!("maxmemory-samples", None, 0, Signed, 1, 64, 5, Int, maxmemory_samples: u32),
    num_p!("maxmemory-eviction-tenacity", None, 0, Signed, 0, 100, 10, Int, maxmemory_eviction_tenacity: u32),
    num_p!("timeout", None, 0, Signed, 0, i32::MAX as i64, 0, Int, timeout: u32),
    num_p!("replica-announce-port", Some("slave-announce-port"), 0, Signed, 0, 65535, 0, Int, replica_announce_port: u16),
    num_p!("tcp-backlog", None, IMMUTABLE, Signed, 0, i32::MAX as i64, 511, Int, tcp_backlog: u32),
    num_p!("cluster-port", None, IMMUTABLE, Signed, 0, 65535, 0, Int, cluster_port: u16),
    num_p!("cluster-announce-bus-port", None, 0, Signed, 0, 65535, 0, Int, cluster_announce_bus_port: u16),
    num_p!("cluster-announce-port", None, 0, Signed, 0, 65535, 0, Int, cluster_announce_port: u16),
    num_p!("cluster-announce-tls-port", None, 0, Signed, 0, 65535, 0, Int, cluster_announce_tls_port: u16),
    num_p!("repl-timeout", None, 0, Signed, 1, i32::MAX as i64, 60, Int, repl_timeout: u32),
    num_p!("repl-ping-replica-period", Some("repl-ping-slave-period"), 0, Signed, 1, i32::MAX as i64, 10, Int, repl_ping_replica_period: u32),
    num_p!("list-compress-depth", None, DEBUG, Signed, 0, i32::MAX as i64, 0, Int, list_compress_depth: u32),
    num_p!("rdb-key-save-delay", None, HIDDEN, Signed, i32::MIN as i64, i32::MAX as i64, 0, Int, rdb_key_save_delay: i32),
    num_p!("key-load-delay", None, HIDDEN, Signed, i32::MIN as i64, i32::MAX as i64, 0, Int, key_load_delay: i32),
    num_p!("active-expire-effort", None, 0, Signed, 1, 10, 1, Int, active_expire_effort: u32),
    num_p!("hz", None, 0, Signed, 0, i32::MAX as i64, 10, Int, hz: u32),
    // Ferrokey's own (Valkey has no such parameter): see Config::busy_poll_usec.
    // Hidden, so CONFIG GET * lists exactly Valkey's parameters.
    num_p!("busy-poll-usec", None, HIDDEN, Signed, 0, 1_000_000, 50, Int, busy_poll_usec: u32),
    num_p!("min-replicas-to-write", Some("min-slaves-to-write"), 0, Signed, 0, i32::MAX as i64, 0, Int, min_replicas_to_write: u32),
    num_p!("min-replicas-max-lag", Some("min-slaves-max-lag"), 0, Signed, 0, i32::MAX as i64, 10, Int, min_replicas_max_lag: u32),
    num_p!("watchdog-period", None, HIDDEN, Signed, 0, i32::MAX as i64, 0, Int, watchdog_period: u32),
    num_p!("shutdown-timeout", None, 0, Signed, 0, i32::MAX as i64, 10, Int, shutdown_timeout: u32),
    num_p!("repl-diskless-sync-max-replicas", None, 0, Signed, 0, i32::MAX as i64, 0, Int, repl_diskless_sync_max_replicas: u32),
    num_p!("maxclients", None, 0, Unsigned, 1, u32::MAX as i64, 10000, Int, maxclients: u32),
    num_p!("unixsocketperm", None, IMMUTABLE, Unsigned, 0, 0o777, 0, Octal, unixsocketperm: u32),
    num_p!("socket-mark-id", None, IMMUTABLE, Unsigned, 0, u32::MAX as i64, 0, Int, socket_mark_id: u32),
    num_p!("max-new-connections-per-cycle", None, 0, Unsigned, 1, 1000, 10, Int, max_new_connections_per_cycle: u32),
    num_p!("max-new-tls-connections-per-cycle", None, 0, Unsigned, 1, 1000, 1, Int, max_new_tls_connections_per_cycle: u32),
    num_p!("active-defrag-max-scan-fields", None, 0, Unsigned, 1, i64::MAX, 1000, Int, active_defrag_max_scan_fields: u64),
    num_p!("slowlog-max-len", None, 0, Unsigned, 0, i64::MAX, 128, Int, slowlog_max_len: u64),
    num_p!("acllog-max-len", None, 0, Unsigned, 0, i64::MAX, 128, Int, acllog_max_len: u64),
    num_p!("cluster-blacklist-ttl", None, 0, Unsigned, 0, u64::MAX as i64, 60, Int, cluster_blacklist_ttl: u64),
    num_p!("busy-reply-threshold", Some("lua-time-limit"), 0, Signed, 0, i64::MAX, 5000, Int, busy_reply_threshold: u64),
    num_p!("cluster-node-timeout", None, 0, Signed, 0, i64::MAX, 15000, Int, cluster_node_timeout: u64),
    num_p!("cluster-ping-interval", None, HIDDEN, Signed, 0, i64::MAX, 0, Int, cluster_ping_interval: u64),
    num_p!("slowlog-log-slower-than", None, 0, Signed, -1, i64::MAX, 10000, Int, slowlog_log_slower_than: i64),
    num_p!("latency-monitor-threshold", None, 0, Signed, 0, i64::MAX, 0, Int, latency_monitor_threshold: u64),
    num_p!("proto-max-bulk-len", None, DEBUG, Signed, 1024 * 1024, i64::MAX, 512 * 1024 * 1024, Mem, proto_max_bulk_len: u64),
    num_p!("stream-node-max-entries", None, 0, Signed, 0, i64::MAX, 100, Int, stream_node_max_entries: u64),
    num_p!("repl-backlog-size", None, 0, Signed, 1, i64::MAX, 10 * 1024 * 1024, Mem, repl_backlog_size: u64),
    num_p!("maxmemory", None, 0, Unsigned, 0, u64::MAX as i64, 0, Mem, maxmemory: u64),
    num_p!("cluster-link-sendbuf-limit", None, 0, Unsigned, 0, u64::MAX as i64, 0, Mem, cluster_link_sendbuf_limit: u64),
    num_p!("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), 0, Unsigned, 0, i64::MAX, 512, Int, hash_max_listpack_entries: usize),
    num_p!("set-max-intset-entries", None, 0, Unsigned, 0, i64::MAX, 512, Int, set_max_intset_entries: usize),
    num_p!("set-max-listpack-entries", None, 0, Unsigned, 0, i64::MAX, 128, Int, set_max_listpack_entries: usize),
    num_p!("set-max-listpack-value", None, 0, Unsigned, 0, i64::MAX, 64, Int, set_max_listpack_value: usize),
    num_p!("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), 0, Unsigned, 0, i64::MAX, 128, Int, zset_max_listpack_entries: usize),
    num_p!("active-defrag-ignore-bytes", None, 0, Unsigned, 1, i64::MAX, 100 << 20, Mem, active_defrag_ignore_bytes: usize),
    num_p!("hash-max-listpack-value", Some("hash-max-ziplist-value"), 0, Unsigned, 0, i64::MAX, 64, Mem, hash_max_listpack_value: usize),
    num_p!("stream-node-max-bytes", None, 0, Unsigned, 0, i64::MAX, 4096, Mem, stream_node_max_bytes: usize),
    num_p!("zset-max-listpack-value", Some("zset-max-ziplist-value"), 0, Unsigned, 0, i64::MAX, 64, Mem, zset_max_listpack_value: usize),
    num_p!("hll-sparse-max-bytes", None, 0, Unsigned, 0, i64::MAX, 3000, Mem, hll_sparse_max_bytes: usize),
    num_p!("tracking-table-max-keys", None, 0, Unsigned, 0, i64::MAX, 1000000, Int, tracking_table_max_keys: usize),
    num_p!("client-query-buffer-limit", None, DEBUG, Unsigned, 1024 * 1024, i64::MAX, 1024 * 1024 * 1024, Mem, client_query_buffer_limit: usize),
    num_p!("maxmemory-clients", None, 0, Signed, -100, i64::MAX, 0, MemPct, maxmemory_clients: i64),
    num_p!("repl-backlog-ttl", None, 0, Signed, 0, i64::MAX, 60 * 60, Int, repl_backlog_ttl: u64),
    num_p!("auto-aof-rewrite-min-size", None, 0, Signed, 0, i64::MAX, 64 * 1024 * 1024, Mem, auto_aof_rewrite_min_size: u64),
    num_p!("loading-process-events-interval-bytes", None, HIDDEN, Signed, 1024, i32::MAX as i64, 1024 * 1024 * 2, Int, loading_process_events_interval_bytes: u64),
    num_p!("tls-port", None, 0, Signed, 0, 65535, 0, Int, tls_port: u16),
    num_p!("tls-session-cache-size", None, 0, Signed, 0, i32::MAX as i64, 20 * 1024, Int, tls_session_cache_size: u32),
    num_p!("tls-session-cache-timeout", None, 0, Signed, 0, i32::MAX as i64, 300, Int, tls_session_cache_timeout: u32),
    bool_p!("tls-cluster", None, 0, tls_cluster, false),
    bool_p!("tls-replication", None, 0, tls_replication, false),
    enum_p!(
        "tls-auth-clients",
        None,
        0,
        TlsAuthClients::Yes,
        tls_auth_clients
    ),
    bool_p!(
        "tls-prefer-server-ciphers",
        None,
        0,
        tls_prefer_server_ciphers,
        false
    ),
    bool_p!("tls-session-caching", None, 0, tls_session_caching, true),
    str_p!("tls-cert-file", None, VOLATILE, CStr, None, None, tls_cert_file: OptString),
    str_p!("tls-key-file", None, VOLATILE, CStr, None, None, tls_key_file: OptString),
    str_p!("tls-key-file-pass", None, SENSITIVE, CStr, None, None, tls_key_file_pass: OptString),
    str_p!("tls-client-cert-file", None, VOLATILE, CStr, None, None, tls_client_cert_file: OptString),
    str_p!("tls-client-key-file", None, VOLATILE, CStr, None, None, tls_client_key_file: OptString),
    str_p!("tls-client-key-file-pass", None, SENSITIVE, CStr, None, None, tls_client_key_file_pass: OptString),
    str_p!("tls-dh-params-file", None, VOLATILE, CStr, None, None, tls_dh_params_file: OptString),
    str_p!("tls-ca-cert-file", None, VOLATILE, CStr, None, None, tls_ca_cert_file: OptString),
    str_p!("tls-ca-cert-dir", None, VOLATILE, CStr, None, None, tls_ca_cert_dir: OptString),
    str_p!("tls-protocols", None, 0, CStr, None, None, tls_protocols: OptString),
    str_p!("tls-ciphers", None, 0, CStr, None, None, tls_ciphers: OptString),
    str_p!("tls-ciphersuites", None, 0, CStr, None, None, tls_ciphersuites: OptString),
    special_p!("dir", None, PROTECTED | DENY_LOADING, Dir),
    special_p!("save", None, MULTI_ARG, Save),
    special_p!(
        "client-output-buffer-limit",
        None,
        MULTI_ARG,
        ClientOutputBufferLimit
    ),
    special_p!("oom-score-adj-values", None, MULTI_ARG, OomScoreAdjValues),
    special_p!("notify-keyspace-events", None, 0, NotifyKeyspaceEvents),
    special_p!("bind", None, MULTI_ARG, Bind),
    special_p!(
        "replicaof",
        Some("slaveof"),
        IMMUTABLE | MULTI_ARG,
        Replicaof
    ),
    special_p!(
        "latency-tracking-info-percentiles",
        None,
        MULTI_ARG,
        LatencyTrackingInfoPercentiles
    ),
];

/// Looks a parameter up by name or alias, ASCII case-insensitively (Valkey's
/// config dictionary compares with `strcasecmp`). Returns the parameter and
/// whether `name` was its alias.
pub fn lookup(name: &[u8]) -> Option<(&'static Param, bool)> {
    PARAMS.iter().find_map(|p| {
        if p.name.as_bytes().eq_ignore_ascii_case(name) {
            Some((p, false))
        } else if p
            .alias
            .is_some_and(|a| a.as_bytes().eq_ignore_ascii_case(name))
        {
            Some((p, true))
        } else {
            None
        }
    })
}

/// Every registered name (canonical names and aliases), in the order CONFIG
/// GET patterns list them; aliases follow their parameter, as Valkey
/// registers them.
pub fn all_names() -> impl Iterator<Item = (&'static str, &'static Param)> {
    PARAMS
        .iter()
        .flat_map(|p| std::iter::once((p.name, p)).chain(p.alias.map(|a| (a, p))))
}

// ---------------------------------------------------------------------------
// Value validators (Valkey's `isValid*` functions).
// ---------------------------------------------------------------------------

fn valid_shutdown_on_sig(v: i32) -> Result<(), &'static str> {
    let v = v as u32;
    if v & SHUTDOWN_NOSAVE != 0 && v & SHUTDOWN_SAVE != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously");
    }
    Ok(())
}

fn valid_ipv4(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Ok(());
    }
    match std::str::from_utf8(v).map(str::parse::<std::net::Ipv4Addr>) {
        Ok(Ok(_)) => Ok(()),
        _ => Err("Invalid IPv4 address"),
    }
}

fn valid_ipv6(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Ok(());
    }
    match std::str::from_utf8(v).map(str::parse::<std::net::Ipv6Addr>) {
        Ok(Ok(_)) => Ok(()),
        _ => Err("Invalid IPv6 address"),
    }
}

fn valid_cluster_config_file(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("cluster-config-file can't be empty");
    }
    Ok(())
}

fn valid_announced_hostname(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    // NET_HOST_STR_LEN is 256 and includes the terminating NUL.
    if v.len() >= 256 {
        return Err("Hostnames must be less than 256 characters");
    }
    if !v
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
    {
        return Err("Hostnames may only contain alphanumeric characters, hyphens or dots");
    }
    Ok(())
}

fn valid_announced_nodename(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    // Valkey's isValidAuxChar: alphanumerics are fine, then anything not in
    // its blacklist (a NUL byte is "in" the blacklist because strchr finds the
    // terminator).
    const INVALID: &[u8] = b"!#$%&()*+;<>?@[]^{|}~\0";
    if v.iter()
        .any(|&c| !c.is_ascii_alphanumeric() && INVALID.contains(&c))
    {
        return Err("Announced human node name contained invalid character");
    }
    Ok(())
}

fn is_base_name(v: &[u8]) -> bool {
    !v.contains(&b'/') && !v.contains(&b'\\')
}

fn valid_dbfilename(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("dbfilename can't be empty");
    }
    if !is_base_name(v) {
        return Err("dbfilename can't be a path, just a filename");
    }
    Ok(())
}

fn valid_aof_filename(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appendfilename can't be empty");
    }
    if !is_base_name(v) {
        return Err("appendfilename can't be a path, just a filename");
    }
    Ok(())
}

fn valid_aof_dirname(_: &Config, v: &[u8]) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("appenddirname can't be empty");
    }
    if !is_base_name(v) {
        return Err("appenddirname can't be a path, just a dirname");
    }
    Ok(())
}

fn valid_proc_title_template(c: &Config, v: &[u8]) -> Result<(), &'static str> {
    // Valid when it expands (known variables, balanced braces) to something
    // non-blank with an empty title.
    match c.expand_proc_title_template(&String::from_utf8_lossy(v), "") {
        Some(s) if !s.is_empty() => Ok(()),
        _ => Err("template format is invalid or contains unknown variables"),
    }
}

// ---------------------------------------------------------------------------
// Number parsing with Valkey's exact rules.
// ---------------------------------------------------------------------------

/// The part of `s` a C function sees: up to the first NUL byte.
pub(super) fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(n) => &s[..n],
        None => s,
    }
}

/// C-locale `isspace`.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Valkey's `string2ll`: the whole slice must be a canonical decimal `i64`
/// (optional `-`, no `+`, no spaces, no leading zeros, at most 20 bytes).
pub(super) fn string2ll(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// C `strtoll(s, &end, base)` for bases up to 10: skips leading white space,
/// takes an optional sign, then digits. Returns the value (saturated on
/// overflow, like C), the index where parsing stopped (0 when there were no
/// digits, as C leaves `end == s`), and whether it overflowed (`ERANGE`).
pub(super) fn c_strtoll(s: &[u8], base: u32) -> (i64, usize, bool) {
    let s = cstr(s);
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut acc: i128 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(base) {
            Some(d) => d,
            None => break,
        };
        if !overflow {
            acc = acc * i128::from(base) + i128::from(d);
            if acc > i128::from(i64::MAX) + 1 {
                overflow = true;
            }
        }
        i += 1;
    }
    if i == start {
        return (0, 0, false);
    }
    let signed = if negative { -acc } else { acc };
    if overflow || signed > i128::from(i64::MAX) || signed < i128::from(i64::MIN) {
        let sat = if negative { i64::MIN } else { i64::MAX };
        return (sat, i, true);
    }
    (signed as i64, i, false)
}

/// `strtoll(s, &end, 10)` accepted only when it consumed the whole C string
/// (Valkey's `*eptr == '\0'` checks; an empty string is 0).
pub(super) fn c_strtoll_full(s: &[u8]) -> Option<i64> {
    let s = cstr(s);
    let (v, end, _) = c_strtoll(s, 10);
    (end == s.len()).then_some(v)
}

/// Valkey's `memtoull`: `<digits><unit>` with unit `b`, `k` (1000), `kb`
/// (1024), `m`, `mb`, `g`, `gb`, case-insensitive; no sign. Like the C code an
/// empty number is 0 and overflow wraps.
pub fn memtoull(s: &[u8]) -> Option<u64> {
    let s = cstr(s);
    if s.first() == Some(&b'-') {
        return None;
    }
    let ndigits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = s[ndigits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if ndigits >= 128 {
        return None;
    }
    // strtoull saturates at ULLONG_MAX and Valkey does not check ERANGE.
    let mut val: u64 = 0;
    for &d in &s[..ndigits] {
        val = val
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX);
    }
    Some(val.wrapping_mul(mul))
}

/// Valkey's `string2d`: a whole-string `strtod` that refuses leading space,
/// NaN and out-of-range values.
pub(super) fn string2d(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let v: f64 = text.parse().ok()?;
    if v.is_nan() {
        return None;
    }
    let unsigned = text.trim_start_matches(['+', '-']);
    if v.is_infinite() && !unsigned.to_ascii_lowercase().starts_with("inf") {
        // strtod overflow (ERANGE with HUGE_VAL).
        return None;
    }
    if v == 0.0 {
        // strtod underflow (ERANGE with a zero result): a non-zero mantissa.
        let mantissa = unsigned.split(['e', 'E']).next().unwrap_or("");
        if mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)) {
            return None;
        }
    }
    Some(v)
}

/// Valkey's `yesnotoi`.
pub(super) fn yes_no(s: &[u8]) -> Option<bool> {
    let s = cstr(s);
    if s.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

/// Converts bytes to a `String`; invalid UTF-8 is replaced (Ferrokey keeps
/// string parameters as `String`).
pub(super) fn bytes_to_string(v: Vec<u8>) -> String {
    match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The message of an OS error as C's `strerror` prints it (Rust appends
/// " (os error N)", which Valkey's replies do not have).
pub(super) fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

// ---------------------------------------------------------------------------
// Formatting.
// ---------------------------------------------------------------------------

/// Valkey's `configEnumGetName`: the name of `value`, or for flag sets the
/// space-separated names of its bits in table order; "unknown" otherwise.
pub(super) fn enum_name(names: &[(&str, i32)], value: i32, bitflags: bool) -> String {
    let mut out = String::new();
    let mut unmatched = value;
    for &(name, v) in names {
        if v == value {
            return name.to_string();
        }
        if bitflags && v != 0 && v == (unmatched & v) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
            unmatched &= !v;
        }
    }
    if out.is_empty() || unmatched != 0 {
        return "unknown".to_string();
    }
    out
}

/// Valkey's `sdscatrepr`: a double-quoted string safe for `split_args`.
pub fn repr(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &c in s {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

/// `%f` followed by Valkey's `trimDoubleString` (drop trailing zeros and a
/// trailing dot).
pub(super) fn format_percentile(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Valkey's `keyspaceEventsStringToFlags`.
pub fn keyspace_events_from_str(s: &[u8]) -> Option<u32> {
    use super::notify::*;
    let mut flags = 0;
    for &c in cstr(s) {
        flags |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(flags)
}

/// Valkey's `keyspaceEventsFlagsToString`: the canonical spelling (`A`
/// replaces the full class set; `K`, `E`, `m` come last).
pub fn keyspace_events_to_string(flags: u32) -> String {
    use super::notify::*;
    let mut s = String::new();
    if flags & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                s.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// Output-buffer class names as CONFIG GET prints them (`getClientTypeName`).
const OBUF_CLASS_NAMES: [&str; 3] = ["normal", "slave", "pubsub"];

impl Param {
    /// The value as CONFIG GET prints it.
    pub fn format(&self, c: &Config) -> String {
        match &self.kind {
            Kind::Bool { get, .. } => if get(c) { "yes" } else { "no" }.to_string(),
            Kind::Num { unit, get, .. } => {
                let v = get(c);
                match unit {
                    NumUnit::MemPct if v < 0 => format!("{}%", v.unsigned_abs()),
                    NumUnit::Mem | NumUnit::MemPct => (v as u64).to_string(),
                    NumUnit::Octal => format!("{:o}", v as u64),
                    NumUnit::Int => v.to_string(),
                }
            }
            Kind::Enum { names, get, .. } => enum_name(names, get(c), self.has(MULTI_ARG)),
            Kind::Str { get, .. } => get(c)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default(),
            Kind::Special(s) => format_special(*s, c),
        }
    }

    /// Sets the parameter from its arguments (already split for
    /// [`MULTI_ARG`] parameters, exactly one otherwise). `reading_file` is
    /// true while a config file is being loaded (`save` lines then
    /// accumulate). Returns whether the stored value changed (Valkey's
    /// "1" vs "2"), or the error text for "CONFIG SET failed ... - <text>".
    pub(super) fn set(
        &self,
        c: &mut Config,
        args: &[&[u8]],
        reading_file: bool,
    ) -> Result<bool, Cow<'static, str>> {
        let volatile = self.has(VOLATILE);
        let first = args.first().copied().unwrap_or_default();
        match &self.kind {
            Kind::Bool { get, set, .. } => {
                let v = yes_no(first).ok_or("argument must be 'yes' or 'no'")?;
                if get(c) != v {
                    set(c, v);
                    return Ok(true);
                }
                Ok(volatile)
            }
            Kind::Num {
                sign,
                unit,
                min,
                max,
                get,
                set,
                ..
            } => {
                let v = parse_numeric(*unit, first)?;
                check_bounds(*sign, *unit, *min, *max, v)?;
                if get(c) != v {
                    set(c, v);
                    return Ok(true);
                }
                Ok(volatile)
            }
            Kind::Enum {
                names,
                validate,
                get,
                set,
                ..
            } => {
                let v = parse_enum(names, args, self.has(MULTI_ARG))
                    .ok_or_else(|| enum_error(names))?;
                if let Some(validate) = validate {
                    validate(v)?;
                }
                if get(c) != v {
                    set(c, v);
                    return Ok(true);
                }
                Ok(volatile)
            }
            Kind::Str {
                stype,
                empty_is_null,
                validate,
                get,
                set,
                ..
            } => {
                let v = match stype {
                    StrType::CStr => cstr(first),
                    StrType::Sds => first,
                };
                if let Some(validate) = validate {
                    validate(c, v)?;
                }
                let new = if *empty_is_null && v.is_empty() {
                    None
                } else {
                    Some(v)
                };
                if get(c) != new {
                    set(c, new.map(<[u8]>::to_vec));
                    return Ok(true);
                }
                Ok(volatile)
            }
            Kind::Special(s) => set_special(*s, c, args, reading_file),
        }
    }
}

fn parse_numeric(unit: NumUnit, s: &[u8]) -> Result<i64, &'static str> {
    if matches!(unit, NumUnit::Mem | NumUnit::MemPct) {
        if let Some(v) = memtoull(s) {
            return Ok(v as i64);
        }
    }
    if unit == NumUnit::MemPct && s.len() > 1 && s.last() == Some(&b'%') {
        if let Some(v) = string2ll(&s[..s.len() - 1]) {
            if v >= 0 {
                // Percentages are stored negated.
                return Ok(-v);
            }
        }
    }
    if unit == NumUnit::Octal {
        let s = cstr(s);
        let (v, end, overflow) = c_strtoll(s, 8);
        if !overflow && end == s.len() {
            return Ok(v);
        }
    }
    if unit == NumUnit::Int {
        if let Some(v) = string2ll(s) {
            return Ok(v);
        }
    }
    Err(match unit {
        NumUnit::MemPct => "argument must be a memory or percent value",
        NumUnit::Mem => "argument must be a memory value",
        NumUnit::Octal => "argument couldn't be parsed as an octal number",
        NumUnit::Int => "argument couldn't be parsed into an integer",
    })
}

fn check_bounds(sign: NumSign, unit: NumUnit, min: i64, max: i64, v: i64) -> Result<(), String> {
    match sign {
        NumSign::Unsigned => {
            let (u, lo, hi) = (v as u64, min as u64, max as u64);
            if u > hi || u < lo {
                return Err(if unit == NumUnit::Octal {
                    format!("argument must be between {lo:o} and {hi:o} inclusive")
                } else {
                    format!("argument must be between {lo} and {hi} inclusive")
                });
            }
        }
        NumSign::Signed => {
            if unit == NumUnit::MemPct && v < 0 {
                if v < min {
                    return Err(format!(
                        "percentage argument must be less or equal to {}",
                        min.unsigned_abs()
                    ));
                }
            } else if v > max || v < min {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
        }
    }
    Ok(())
}

/// Valkey's `configEnumGetValue`.
fn parse_enum(names: &[(&str, i32)], args: &[&[u8]], bitflags: bool) -> Option<i32> {
    if args.is_empty() || (!bitflags && args.len() != 1) {
        return None;
    }
    let mut value = 0;
    for arg in args {
        let arg = cstr(arg);
        let mut matched = false;
        for &(name, v) in names {
            if name.as_bytes().eq_ignore_ascii_case(arg) {
                value |= v;
                matched = true;
            }
        }
        if !matched {
            return None;
        }
    }
    Some(value)
}

fn enum_error(names: &[(&str, i32)]) -> String {
    let list: Vec<&str> = names.iter().map(|&(n, _)| n).collect();
    let mut msg = format!(
        "argument(s) must be one of the following: {}",
        list.join(", ")
    );
    // Valkey builds this message in a 256-byte buffer.
    msg.truncate(255);
    msg
}

fn format_special(s: Special, c: &Config) -> String {
    match s {
        Special::Dir => c.dir.to_string_lossy().into_owned(),
        Special::Save => c
            .save
            .iter()
            .map(|(secs, changes)| format!("{secs} {changes}"))
            .collect::<Vec<_>>()
            .join(" "),
        Special::ClientOutputBufferLimit => c
            .client_output_buffer_limit
            .iter()
            .zip(OBUF_CLASS_NAMES)
            .map(|(l, name)| {
                format!(
                    "{name} {} {} {}",
                    l.hard_limit_bytes, l.soft_limit_bytes, l.soft_limit_seconds
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        Special::OomScoreAdjValues => c
            .oom_score_adj_values
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(" "),
        Special::NotifyKeyspaceEvents => keyspace_events_to_string(c.notify_keyspace_events),
        Special::Bind => c.bind.join(" "),
        Special::Replicaof => match &c.replicaof {
            Some((host, port)) => format!("{host} {port}"),
            None => String::new(),
        },
        Special::LatencyTrackingInfoPercentiles => c
            .latency_tracking_info_percentiles
            .iter()
            .map(|&p| format_percentile(p))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn set_special(
    s: Special,
    c: &mut Config,
    args: &[&[u8]],
    reading_file: bool,
) -> Result<bool, Cow<'static, str>> {
    match s {
        Special::Dir => {
            if args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
            let arg = cstr(args[0]);
            if arg.is_empty() {
                return Err("dir can't be empty".into());
            }
            // Valkey chdir()s here. Ferrokey does not touch the process's
            // working directory from the config layer: relative paths resolve
            // against the current `dir` (what the cwd would be), and the
            // server chdir()s to `Config::dir` when it applies the change.
            let path = Path::new(OsStr::from_bytes(arg));
            let full = if path.is_absolute() {
                path.to_path_buf()
            } else {
                c.dir.join(path)
            };
            match std::fs::canonicalize(&full) {
                Ok(p) if p.is_dir() => {
                    c.dir = p;
                    Ok(true)
                }
                Ok(_) => Err("Not a directory".into()),
                Err(e) => Err(strerror(&e).into()),
            }
        }
        Special::Save => {
            let mut args = args;
            // A single empty argument means "no save points".
            if args.len() == 1 && args[0].is_empty() {
                c.save.clear();
                args = &[];
            }
            if !args.len().is_multiple_of(2) {
                return Err("Invalid save parameters".into());
            }
            let mut points = Vec::with_capacity(args.len() / 2);
            for pair in args.chunks(2) {
                let secs = c_strtoll_full(pair[0]).filter(|&v| v >= 1);
                let changes = c_strtoll_full(pair[1]).filter(|&v| v >= 0);
                match (secs, changes) {
                    // `changes` is a C int in Valkey.
                    (Some(s), Some(ch)) => points.push((s as u64, u64::from(ch as i32 as u32))),
                    _ => return Err("Invalid save parameters".into()),
                }
            }
            // While loading a file, the first `save` line replaces the
            // built-in defaults and later lines add to it; CONFIG SET replaces.
            if !reading_file {
                c.save.clear();
            } else if !c.save_loaded {
                c.save_loaded = true;
                c.save.clear();
            }
            c.save.extend(points);
            Ok(true)
        }
        Special::ClientOutputBufferLimit => {
            if !args.len().is_multiple_of(4) {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut new = c.client_output_buffer_limit;
            for chunk in args.chunks(4) {
                let class = cstr(chunk[0]).to_ascii_lowercase();
                let class = match class.as_slice() {
                    b"normal" => 0,
                    b"slave" | b"replica" => 1,
                    b"pubsub" => 2,
                    _ => {
                        return Err(
                            "Invalid client class specified in buffer limit configuration.".into(),
                        )
                    }
                };
                let hard = memtoull(chunk[1]);
                let soft = memtoull(chunk[2]);
                // Valkey stores soft_seconds in a C int.
                let secs = c_strtoll_full(chunk[3]).map(|v| v as i32);
                match (hard, soft, secs) {
                    (Some(hard), Some(soft), Some(secs)) if secs >= 0 => {
                        new[class] = ClientBufferLimit {
                            hard_limit_bytes: hard,
                            soft_limit_bytes: soft,
                            soft_limit_seconds: secs as u64,
                        };
                    }
                    _ => {
                        return Err(
                            "Error in hard, soft or soft_seconds setting in buffer limit \
                                    configuration."
                                .into(),
                        )
                    }
                }
            }
            c.client_output_buffer_limit = new;
            Ok(true)
        }
        Special::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut values = [0i32; 3];
            for (slot, arg) in values.iter_mut().zip(args) {
                match c_strtoll_full(arg) {
                    Some(v) if (-2000..=2000).contains(&v) => *slot = v as i32,
                    _ => {
                        return Err("Invalid oom-score-adj-values, elements must be between \
                                    -2000 and 2000."
                            .into())
                    }
                }
            }
            let changed = c.oom_score_adj_values != values;
            c.oom_score_adj_values = values;
            Ok(changed)
        }
        Special::NotifyKeyspaceEvents => {
            if args.len() != 1 {
                return Err("wrong number of arguments".into());
            }
            let flags = keyspace_events_from_str(args[0])
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            c.notify_keyspace_events = flags;
            Ok(true)
        }
        Special::Bind => {
            if args.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            let args = if args.len() == 1 && args[0].is_empty() {
                &[][..]
            } else {
                args
            };
            c.bind = args
                .iter()
                .map(|a| bytes_to_string(cstr(a).to_vec()))
                .collect();
            Ok(true)
        }
        Special::Replicaof => {
            if args.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            c.replicaof = None;
            if cstr(args[0]).eq_ignore_ascii_case(b"no")
                && cstr(args[1]).eq_ignore_ascii_case(b"one")
            {
                return Ok(true);
            }
            match c_strtoll_full(args[1]) {
                Some(port) if (0..=65535).contains(&port) => {
                    c.replicaof = Some((bytes_to_string(cstr(args[0]).to_vec()), port as u16));
                    Ok(true)
                }
                _ => Err("Invalid primary port".into()),
            }
        }
        Special::LatencyTrackingInfoPercentiles => {
            c.latency_tracking_info_percentiles.clear();
            let args = if args.len() == 1 && args[0].is_empty() {
                &[][..]
            } else {
                args
            };
            let mut out = Vec::with_capacity(args.len());
            for arg in args {
                let p =
                    string2d(arg).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(
                        "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                            .into(),
                    );
                }
                out.push(p);
            }
            c.latency_tracking_info_percentiles = out;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shape_matches_valkey() {
        // Valkey 8's static_configs[] without the LOG_REQ_RES-only entries,
        // plus Ferrokey's one hidden parameter of its own, busy-poll-usec.
        assert_eq!(PARAMS.len(), 199 + 1);
        assert_eq!(PARAMS.iter().filter(|p| p.alias.is_some()).count(), 25);
        assert_eq!(PARAMS.iter().filter(|p| p.has(HIDDEN)).count(), 9 + 1);
        let mut names: Vec<&str> = all_names().map(|(n, _)| n).collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "duplicate parameter name");
        assert!(names
            .iter()
            .all(|n| n.bytes().all(|b| !b.is_ascii_uppercase())));
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_aliases() {
        let (p, alias) = lookup(b"MaxMemory").unwrap();
        assert_eq!((p.name, alias), ("maxmemory", false));
        let (p, alias) = lookup(b"SLAVEOF").unwrap();
        assert_eq!((p.name, alias), ("replicaof", true));
        let (p, _) = lookup(b"hash-max-ziplist-entries").unwrap();
        assert_eq!(p.name, "hash-max-listpack-entries");
        assert!(lookup(b"nosuch").is_none());
        assert!(lookup(b"").is_none());
    }

    #[test]
    fn memtoull_units() {
        assert_eq!(memtoull(b"0"), Some(0));
        assert_eq!(memtoull(b"100"), Some(100));
        assert_eq!(memtoull(b"100b"), Some(100));
        assert_eq!(memtoull(b"1k"), Some(1000));
        assert_eq!(memtoull(b"1kb"), Some(1024));
        assert_eq!(memtoull(b"1KB"), Some(1024));
        assert_eq!(memtoull(b"2m"), Some(2_000_000));
        assert_eq!(memtoull(b"2Mb"), Some(2 * 1024 * 1024));
        assert_eq!(memtoull(b"3g"), Some(3_000_000_000));
        assert_eq!(memtoull(b"3gB"), Some(3 << 30));
        // Like the C code, an empty number is zero.
        assert_eq!(memtoull(b""), Some(0));
        assert_eq!(memtoull(b"mb"), Some(0));
        assert_eq!(memtoull(b"-1"), None);
        assert_eq!(memtoull(b"1t"), None);
        assert_eq!(memtoull(b"1 kb"), None);
        assert_eq!(memtoull(b"1.5mb"), None);
        assert_eq!(memtoull(b"18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn string2ll_is_strict() {
        assert_eq!(string2ll(b"0"), Some(0));
        assert_eq!(string2ll(b"-1"), Some(-1));
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b"01",
            b"-0",
            b" 1",
            b"1 ",
            b"1.0",
            b"9223372036854775808",
        ] {
            assert_eq!(string2ll(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn c_strtoll_semantics() {
        assert_eq!(c_strtoll(b"  +12x", 10), (12, 5, false));
        assert_eq!(c_strtoll(b"-7", 10), (-7, 2, false));
        assert_eq!(c_strtoll(b"x", 10), (0, 0, false));
        assert_eq!(c_strtoll(b"", 10), (0, 0, false));
        assert_eq!(c_strtoll(b"778", 8), (0o77, 2, false));
        assert!(c_strtoll(b"99999999999999999999", 10).2);
        assert_eq!(c_strtoll_full(b""), Some(0));
        assert_eq!(c_strtoll_full(b"5 "), None);
    }

    #[test]
    fn string2d_rules() {
        assert_eq!(string2d(b"99.9"), Some(99.9));
        assert_eq!(string2d(b"1e2"), Some(100.0));
        assert_eq!(string2d(b"0"), Some(0.0));
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b"1e999"), None);
        assert_eq!(string2d(b"1e-999"), None);
        assert_eq!(string2d(b"abc"), None);
        assert_eq!(string2d(b""), None);
    }

    #[test]
    fn repr_escapes_like_sdscatrepr() {
        assert_eq!(repr(b"abc"), "\"abc\"");
        assert_eq!(repr(b""), "\"\"");
        assert_eq!(
            repr(b"a\"b\\c\n\r\t\x07\x08\x01\xff"),
            "\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\xff\""
        );
        // What repr writes, split_args reads back.
        let original = b"we\"ird \\ \x00\xfe\n".to_vec();
        let parsed = crate::util::split::split_args(repr(&original).as_bytes()).unwrap();
        assert_eq!(parsed, vec![original]);
    }

    #[test]
    fn enum_names_and_flags() {
        let names = SHUTDOWN_ON_SIG_NAMES;
        assert_eq!(enum_name(names, 0, true), "default");
        assert_eq!(enum_name(names, 1, true), "save");
        assert_eq!(enum_name(names, 2 | 4 | 8, true), "nosave now force");
        assert_eq!(enum_name(names, 16, true), "unknown");
        assert_eq!(parse_enum(names, &[b"SAVE", b"now"], true), Some(5));
        assert_eq!(parse_enum(names, &[], true), None);
        assert_eq!(
            parse_enum(MaxmemoryPolicy::NAMES, &[b"a", b"b"], false),
            None
        );
        assert_eq!(
            enum_error(MaxmemoryPolicy::NAMES),
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
             volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
        );
    }

    #[test]
    fn keyspace_event_flags_round_trip() {
        let all = keyspace_events_from_str(b"KEA").unwrap();
        assert_eq!(keyspace_events_to_string(all), "AKE");
        let some = keyspace_events_from_str(b"Ex$lm").unwrap();
        assert_eq!(keyspace_events_to_string(some), "$lxEm");
        assert_eq!(keyspace_events_from_str(b""), Some(0));
        assert_eq!(keyspace_events_from_str(b"Kq"), None);
        // 'n' and 'm' are not part of 'A'.
        assert_eq!(
            keyspace_events_to_string(keyspace_events_from_str(b"Anm").unwrap()),
            "Am"
        );
        assert_eq!(
            keyspace_events_to_string(keyspace_events_from_str(b"gn").unwrap()),
            "gn"
        );
    }

    #[test]
    fn percentile_formatting() {
        assert_eq!(format_percentile(50.0), "50");
        assert_eq!(format_percentile(99.9), "99.9");
        assert_eq!(format_percentile(99.99), "99.99");
        assert_eq!(format_percentile(0.0), "0");
        assert_eq!(format_percentile(12.3456789), "12.345679");
    }

    #[test]
    fn proc_title_template_validation() {
        let c = Config::default();
        assert!(valid_proc_title_template(&c, b"{title} {listen-addr} {server-mode}").is_ok());
        assert!(valid_proc_title_template(&c, b"{{ {port}").is_ok());
        assert!(valid_proc_title_template(&c, b"{server-mode}").is_err());
        assert!(valid_proc_title_template(&c, b"{nosuch}").is_err());
        assert!(valid_proc_title_template(&c, b"{title").is_err());
        assert!(valid_proc_title_template(&c, b"x{").is_err());
        assert_eq!(
            c.expand_proc_title_template("{title} {listen-addr} {server-mode}", "srv"),
            Some("srv *:6379".to_string())
        );
    }

    #[test]
    fn hostname_and_nodename_validation() {
        let c = Config::default();
        assert!(valid_announced_hostname(&c, b"host-1.example.com").is_ok());
        assert_eq!(
            valid_announced_hostname(&c, b"bad_host"),
            Err("Hostnames may only contain alphanumeric characters, hyphens or dots")
        );
        assert_eq!(
            valid_announced_hostname(&c, &[b'a'; 256]),
            Err("Hostnames must be less than 256 characters")
        );
        assert!(valid_announced_nodename(&c, b"node 1-a_b").is_ok());
        assert!(valid_announced_nodename(&c, b"node#1").is_err());
    }
}
