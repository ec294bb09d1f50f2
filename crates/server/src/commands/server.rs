//! Server administration and diagnostics: LASTSAVE, SHUTDOWN, MONITOR,
//! DEBUG, MEMORY, SLOWLOG, LATENCY.

use super::client::reply_subcommand_syntax_error;
use super::{err, flags::*, reply_help, Command, Ctx};
use crate::alloc::{rss_bytes, used_memory};
use crate::keyspace::{ObjType, Record, Value, ValueRef};
use crate::persistence::{self, ShutdownSave};
use crate::server::net::log;
use crate::server::Server;
use crate::util::num::{parse_i64, strtod};

pub static COMMANDS: &[Command] = &[
    Command::new(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        super::acl::ADMIN | super::acl::DANGEROUS,
        lastsave,
    )
    .tips(&["nondeterministic_output"])
    .doc(
        "server",
        "1.0.0",
        "Returns the Unix timestamp of the last successful save to disk.",
        "O(1)",
    ),
    Command::new(
        "save",
        1,
        NO_ASYNC_LOADING | ADMIN | NOSCRIPT | NO_MULTI,
        0,
        save,
    )
    .doc(
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk.",
        "O(N) where N is the total number of keys in all databases",
    ),
    Command::new("bgsave", -1, NO_ASYNC_LOADING | ADMIN | NOSCRIPT, 0, bgsave).doc(
        "server",
        "1.0.0",
        "Asynchronously saves the database(s) to disk.",
        "O(1)",
    ),
    Command::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        0,
        shutdown,
    )
    .doc(
        "server",
        "1.0.0",
        "Synchronously saves the database(s) to disk and shuts down the server.",
        "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
    ),
    Command::new("monitor", 1, ADMIN | NOSCRIPT | LOADING | STALE, 0, monitor).doc(
        "server",
        "1.0.0",
        "Listens for all requests received by the server in real-time.",
        "",
    ),
    Command::new("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, 0, debug).doc(
        "server",
        "1.0.0",
        "A container for debugging commands.",
        "Depends on subcommand.",
    ),
    Command::new("memory", -2, 0, 0, container)
        .subcommands(MEMORY_SUBCOMMANDS)
        .doc(
            "server",
            "4.0.0",
            "A container for memory diagnostics commands.",
            "Depends on subcommand.",
        ),
    Command::new("slowlog", -2, 0, 0, container)
        .subcommands(SLOWLOG_SUBCOMMANDS)
        .doc(
            "server",
            "2.2.12",
            "A container for slow log commands.",
            "Depends on subcommand.",
        ),
    Command::new("cluster", -2, 0, 0, container)
        .subcommands(CLUSTER_SUBCOMMANDS)
        .doc(
            "cluster",
            "3.0.0",
            "A container for Cluster commands.",
            "Depends on subcommand.",
        ),
    Command::new(
        "readonly",
        1,
        FAST | LOADING | STALE,
        super::acl::CONNECTION,
        readonly,
    )
    .doc(
        "cluster",
        "3.0.0",
        "Enables read-only queries for a connection to a Valkey replica node.",
        "O(1)",
    ),
    Command::new(
        "readwrite",
        1,
        FAST | LOADING | STALE,
        super::acl::CONNECTION,
        readwrite,
    )
    .doc(
        "cluster",
        "3.0.0",
        "Enables read-write queries for a connection to a Valkey replica node.",
        "O(1)",
    ),
    Command::new("asking", 1, FAST, super::acl::CONNECTION, asking).doc(
        "cluster",
        "3.0.0",
        "Signals that a cluster client is following an -ASK redirect.",
        "O(1)",
    ),
    Command::new("module", -2, 0, 0, container)
        .subcommands(MODULE_SUBCOMMANDS)
        .doc(
            "server",
            "4.0.0",
            "A container for module commands.",
            "Depends on subcommand.",
        ),
    Command::new("latency", -2, 0, 0, container)
        .subcommands(LATENCY_SUBCOMMANDS)
        .doc(
            "server",
            "2.8.13",
            "A container for latency diagnostics commands.",
            "Depends on subcommand.",
        ),
];

/// CLUSTER's subcommands, as Valkey declares them. Cluster mode (the bus,
/// slot ownership, redirections) is not implemented: with
/// `cluster-enabled no` every one answers as Valkey does, and with
/// `cluster-enabled yes` only KEYSLOT works.
static CLUSTER_SUBCOMMANDS: &[Command] = &[
    Command::new("cluster|addslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Assigns new hash slots to a node.", "O(N) where N is the total number of hash slot arguments"),
    Command::new("cluster|addslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "7.0.0", "Assigns new hash slot ranges to a node.", "O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    Command::new("cluster|bumpepoch", 2, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Advances the cluster config epoch.", "O(1)"),
    Command::new("cluster|count-failure-reports", 3, ADMIN | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Returns the number of active failure reports active for a node.", "O(N) where N is the number of failure reports"),
    Command::new("cluster|countkeysinslot", 3, STALE, 0, cluster)
        .doc("cluster", "3.0.0", "Returns the number of keys in a hash slot.", "O(1)"),
    Command::new("cluster|delslots", -3, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Sets hash slots as unbound for a node.", "O(N) where N is the total number of hash slot arguments"),
    Command::new("cluster|delslotsrange", -4, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "7.0.0", "Sets hash slot ranges as unbound for a node.", "O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    Command::new("cluster|failover", -2, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Forces a replica to perform a manual failover of its primary.", "O(1)"),
    Command::new("cluster|flushslots", 2, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Deletes all slots information from a node.", "O(1)"),
    Command::new("cluster|forget", 3, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Removes a node from the nodes table.", "O(1)"),
    Command::new("cluster|getkeysinslot", 4, STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Returns the key names in a hash slot.", "O(N) where N is the number of requested keys"),
    Command::new("cluster|help", 2, LOADING | STALE, 0, cluster)
        .doc("cluster", "5.0.0", "Returns helpful text about the different subcommands.", "O(1)"),
    Command::new("cluster|info", 2, LOADING | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Returns information about the state of a node.", "O(1)"),
    Command::new("cluster|keyslot", 3, STALE, 0, cluster_keyslot)
        .doc("cluster", "3.0.0", "Returns the hash slot for a key.", "O(N) where N is the number of bytes in the key"),
    Command::new("cluster|links", 2, STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "7.0.0", "Returns a list of all TCP links to and from peer nodes.", "O(N) where N is the total number of Cluster nodes"),
    Command::new("cluster|meet", -4, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Forces a node to handshake with another node.", "O(1)"),
    Command::new("cluster|myid", 2, LOADING | STALE, 0, cluster)
        .doc("cluster", "3.0.0", "Returns the ID of a node.", "O(1)"),
    Command::new("cluster|myshardid", 2, LOADING | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "7.2.0", "Returns the shard ID of a node.", "O(1)"),
    Command::new("cluster|nodes", 2, LOADING | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Returns the cluster configuration for a node.", "O(N) where N is the total number of Cluster nodes"),
    Command::new("cluster|replicas", 3, ADMIN | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "5.0.0", "Lists the replica nodes of a primary node.", "O(N) where N is the number of replicas."),
    Command::new("cluster|replicate", 3, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Configure a node as replica of a primary node.", "O(1)"),
    Command::new("cluster|reset", -2, ADMIN | STALE | NOSCRIPT, 0, cluster)
        .doc("cluster", "3.0.0", "Resets a node.", "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect."),
    Command::new("cluster|saveconfig", 2, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Forces a node to save the cluster configuration to disk.", "O(1)"),
    Command::new("cluster|set-config-epoch", 3, ADMIN | STALE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Sets the configuration epoch for a new node.", "O(1)"),
    Command::new("cluster|setslot", -4, ADMIN | STALE | MAY_REPLICATE | NO_ASYNC_LOADING, 0, cluster)
        .doc("cluster", "3.0.0", "Binds a hash slot to a node.", "O(1)"),
    Command::new("cluster|shards", 2, LOADING | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "7.0.0", "Returns the mapping of cluster slots to shards.", "O(N) where N is the total number of cluster nodes"),
    Command::new("cluster|slaves", 3, ADMIN | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Lists the replica nodes of a primary node.", "O(N) where N is the number of replicas."),
    Command::new("cluster|slot-stats", -4, STALE | LOADING, 0, cluster)
        .tips(&["nondeterministic_output", "request_policy:all_shards"])
        .doc("cluster", "8.0.0", "Return an array of slot usage statistics for slots assigned to the current node.", "O(N) where N is the total number of slots based on arguments. O(N*log(N)) with ORDERBY subcommand."),
    Command::new("cluster|slots", 2, LOADING | STALE, 0, cluster)
        .tips(&["nondeterministic_output"])
        .doc("cluster", "3.0.0", "Returns the mapping of cluster slots to nodes.", "O(N) where N is the total number of Cluster nodes"),
];

/// MODULE's subcommands. Extensions (Valkey's C module API) cannot be
/// loaded: the list is always empty and loading always fails, as when
/// Valkey fails to load one. LOAD, LOADEX and UNLOAD are protected by
/// `enable-module-command`, checked by the executor.
static MODULE_SUBCOMMANDS: &[Command] = &[
    Command::new("module|help", 2, LOADING | STALE, 0, module_help).doc(
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
    Command::new("module|list", 2, ADMIN | NOSCRIPT, 0, module_list)
        .tips(&["nondeterministic_output_order"])
        .doc(
            "server",
            "4.0.0",
            "Returns all loaded modules.",
            "O(N) where N is the number of loaded modules.",
        ),
    Command::new(
        "module|load",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        0,
        module_load,
    )
    .doc("server", "4.0.0", "Loads a module.", "O(1)"),
    Command::new(
        "module|loadex",
        -3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        0,
        module_load,
    )
    .doc(
        "server",
        "7.0.0",
        "Loads a module using extended parameters.",
        "O(1)",
    ),
    Command::new(
        "module|unload",
        3,
        ADMIN | NOSCRIPT | NO_ASYNC_LOADING,
        0,
        module_unload,
    )
    .doc("server", "4.0.0", "Unloads a module.", "O(1)"),
];

static MEMORY_SUBCOMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("memory|doctor", 2, 0, 0, memory_doctor)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc(
                "server",
                "4.0.0",
                "Outputs a memory problems report.",
                "O(1)",
            ),
        Command::new("memory|help", 2, LOADING | STALE, 0, memory_help).doc(
            "server",
            "4.0.0",
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
        Command::new("memory|malloc-stats", 2, LOADING, 0, memory_malloc_stats)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc(
                "server",
                "4.0.0",
                "Returns the allocator statistics.",
                "Depends on how much memory is allocated, could be slow",
            ),
        Command::new("memory|purge", 2, LOADING, 0, memory_purge)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "server",
                "4.0.0",
                "Asks the allocator to release memory.",
                "Depends on how much memory is allocated, could be slow",
            ),
        Command::new("memory|stats", 2, 0, 0, memory_stats)
            .tips(&[
                "nondeterministic_output",
                "request_policy:all_shards",
                "response_policy:special",
            ])
            .doc(
                "server",
                "4.0.0",
                "Returns details about memory usage.",
                "O(1)",
            ),
        Command::new("memory|usage", -3, READONLY, 0, memory_usage)
            .key_specs(&[KeySpec::at(2, RO)])
            .doc(
                "server",
                "4.0.0",
                "Estimates the memory usage of a key.",
                "O(N) where N is the number of samples.",
            ),
    ]
};

static SLOWLOG_SUBCOMMANDS: &[Command] = &[
    Command::new("slowlog|get", -2, ADMIN | LOADING | STALE, 0, slowlog_get)
        .tips(&["request_policy:all_nodes", "nondeterministic_output"])
        .doc(
            "server",
            "2.2.12",
            "Returns the slow log's entries.",
            "O(N) where N is the number of entries returned",
        ),
    Command::new("slowlog|help", 2, LOADING | STALE, 0, slowlog_help).doc(
        "server",
        "6.2.0",
        "Show helpful text about the different subcommands",
        "O(1)",
    ),
    Command::new("slowlog|len", 2, ADMIN | LOADING | STALE, 0, slowlog_len)
        .tips(&[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ])
        .doc(
            "server",
            "2.2.12",
            "Returns the number of entries in the slow log.",
            "O(1)",
        ),
    Command::new(
        "slowlog|reset",
        2,
        ADMIN | LOADING | STALE,
        0,
        slowlog_reset,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .doc(
        "server",
        "2.2.12",
        "Clears all entries from the slow log.",
        "O(N) where N is the number of entries in the slowlog",
    ),
];

const LATENCY_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static LATENCY_SUBCOMMANDS: &[Command] = &[
    Command::new("latency|doctor", 2, LATENCY_FLAGS, 0, latency_doctor)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ])
        .doc(
            "server",
            "2.8.13",
            "Returns a human-readable latency analysis report.",
            "O(1)",
        ),
    Command::new("latency|graph", 3, LATENCY_FLAGS, 0, latency_graph)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ])
        .doc(
            "server",
            "2.8.13",
            "Returns a latency graph for an event.",
            "O(1)",
        ),
    Command::new("latency|help", 2, LOADING | STALE, 0, latency_help).doc(
        "server",
        "2.8.13",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
    Command::new("latency|histogram", -2, LATENCY_FLAGS, 0, latency_histogram)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ])
        .doc(
            "server",
            "7.0.0",
            "Returns the cumulative distribution of latencies of a subset or all commands.",
            "O(N) where N is the number of commands with latency information being retrieved.",
        ),
    Command::new("latency|history", 3, LATENCY_FLAGS, 0, latency_history)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ])
        .doc(
            "server",
            "2.8.13",
            "Returns timestamp-latency samples for an event.",
            "O(1)",
        ),
    Command::new("latency|latest", 2, LATENCY_FLAGS, 0, latency_latest)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_nodes",
            "response_policy:special",
        ])
        .doc(
            "server",
            "2.8.13",
            "Returns the latest latency samples for all events.",
            "O(1)",
        ),
    Command::new("latency|reset", -2, LATENCY_FLAGS, 0, latency_reset)
        .tips(&["request_policy:all_nodes", "response_policy:agg_sum"])
        .doc(
            "server",
            "2.8.13",
            "Resets the latency data for one or more events.",
            "O(1)",
        ),
];

/// Containers are never called: the dispatcher picks a subcommand.
fn container(ctx: &mut Ctx<'_>) {
    ctx.out.error(err::SYNTAX);
}

/// C `atoi`: optional spaces and sign, then digits; anything else stops
/// (DEBUG's numeric switches parse this way).
fn atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        n = n.wrapping_mul(10).wrapping_add((b - b'0') as i64);
    }
    if neg {
        -n
    } else {
        n
    }
}

// ---- LASTSAVE, SHUTDOWN, MONITOR ------------------------------------------

fn lastsave(ctx: &mut Ctx<'_>) {
    ctx.out.integer(ctx.srv.lastsave_unix as i64);
}

fn shutdown(ctx: &mut Ctx<'_>) {
    let (mut nosave, mut save, mut now, mut force, mut abort) = (false, false, false, false, false);
    for i in 1..ctx.argc() {
        let a = ctx.arg(i);
        if a.eq_ignore_ascii_case(b"nosave") {
            nosave = true;
        } else if a.eq_ignore_ascii_case(b"save") {
            save = true;
        } else if a.eq_ignore_ascii_case(b"now") {
            now = true;
        } else if a.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if a.eq_ignore_ascii_case(b"abort") {
            abort = true;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        ctx.out.error(err::SYNTAX);
        return;
    }
    if abort {
        // Shutdowns are immediate (no replicas to wait for): never pending.
        ctx.out.error(b"ERR No shutdown in progress.");
        return;
    }
    let _ = now;
    log::warning("User requested shutdown...");
    let mode = if nosave {
        ShutdownSave::NoSave
    } else if save {
        ShutdownSave::Save
    } else {
        ShutdownSave::Default
    };
    if !persistence::prepare_for_shutdown(ctx.srv, mode, force) {
        ctx.out.error(b"ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    // Like Valkey on success, the caller gets no reply: the connection
    // closes with the server.
    ctx.srv.shutdown = true;
}

// ---- SAVE, BGSAVE -----------------------------------------------------------

fn save(ctx: &mut Ctx<'_>) {
    if persistence::bgsave_in_progress(ctx.srv) {
        ctx.out.error(b"ERR Background save already in progress");
        return;
    }
    ctx.srv.persist.rdb_saves += 1;
    match persistence::save_sync(ctx.srv) {
        Ok(()) => ctx.out.ok(),
        Err(_) => ctx.out.error(b"ERR"),
    }
}

fn bgsave(ctx: &mut Ctx<'_>) {
    let mut schedule = false;
    if ctx.argc() > 1 {
        let a = ctx.arg(1);
        if ctx.argc() == 2 && a.eq_ignore_ascii_case(b"schedule") {
            schedule = true;
        } else if ctx.argc() == 2 && a.eq_ignore_ascii_case(b"cancel") {
            bgsave_cancel(ctx);
            return;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
    }
    // Inside EXEC a fork would snapshot half a transaction: Valkey
    // schedules it for after.
    let in_exec = ctx.client.deny_blocking;
    if persistence::bgsave_in_progress(ctx.srv) {
        ctx.out.error(b"ERR Background save already in progress");
    } else if ctx.srv.child.is_some() || in_exec {
        if schedule || in_exec {
            ctx.srv.persist.bgsave_scheduled = true;
            log::notice(if schedule {
                "Background saving scheduled due to user request"
            } else {
                "Background saving scheduled to run after transaction execution"
            });
            ctx.out.simple(b"Background saving scheduled");
        } else {
            ctx.out.error(
                b"ERR Another child process is active (AOF?): can't BGSAVE right now. \
                  Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
            );
        }
    } else if persistence::bgsave(ctx.srv).is_ok() {
        ctx.out.simple(b"Background saving started");
    } else {
        ctx.out.error(b"ERR");
    }
}

fn bgsave_cancel(ctx: &mut Ctx<'_>) {
    if persistence::bgsave_in_progress(ctx.srv) {
        log::notice("Background saving will be aborted due to user request");
        persistence::cancel_bgsave(ctx.srv);
        ctx.out.simple(b"Background saving cancelled");
    } else if ctx.srv.persist.bgsave_scheduled {
        log::notice("Scheduled background saving will be cancelled due to user request");
        ctx.srv.persist.bgsave_scheduled = false;
        ctx.out.simple(b"Scheduled background saving cancelled");
    } else {
        ctx.out
            .error(b"ERR Background saving is currently not in progress or scheduled");
    }
}

fn monitor(ctx: &mut Ctx<'_>) {
    if ctx.client.deny_blocking {
        ctx.out
            .error(b"MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    // Already monitoring: Valkey ignores the command, without a reply.
    if ctx.client.monitor {
        return;
    }
    ctx.client.monitor = true;
    ctx.srv.monitors.push((ctx.client.id, ctx.client.slot));
    ctx.out.ok();
}

// ---- DEBUG -----------------------------------------------------------------

const DEBUG_HELP: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a RESP protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate error replies.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid> [full]",
    "    Return hash table statistics of the specified database.",
    "HTSTATS-KEY <key> [full]",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "OBJECT <key> [fast]",
    "    Show low level info about `key` and associated value.",
    "    Some fields of the default behavior may be time consuming to fetch,",
    "    and `fast` can be passed to avoid fetching them.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "CLOSE-CLUSTER-LINK-ON-PACKET-DROP <0|1>",
    "    This is valid only when DROP-CLUSTER-PACKET-FILTER is set to a valid packet type.",
    "    When set to 1, the cluster link is closed after dropping a packet based on the filter.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "PAUSE-AFTER-FORK <0|1>",
    "    Stop the server's main process after fork.",
    "DELAY-RDB-CLIENT-FREE-SECOND <seconds>",
    "    Grace period in seconds for replica main channel to establish psync.",
    "DICT-RESIZING <0|1>",
    "    Enable or disable the main dict and expire dict resizing.",
];

fn debug(ctx: &mut Ctx<'_>) {
    let sub = ctx.arg(1).to_ascii_lowercase();
    let argc = ctx.argc();
    match (&sub[..], argc) {
        (b"help", 2) => reply_help(ctx.out, "debug", DEBUG_HELP),
        (b"sleep", 3) => {
            let secs = strtod(ctx.arg(2)).value;
            let us = (secs * 1_000_000.0) as i64;
            if us > 0 {
                std::thread::sleep(std::time::Duration::from_micros(us as u64));
            }
            ctx.out.ok();
        }
        (b"set-active-expire", 3) => {
            ctx.srv.active_expire_enabled = atoi(ctx.arg(2)) != 0;
            ctx.out.ok();
        }
        (b"pause-cron", 3) => {
            ctx.srv.pause_cron = atoi(ctx.arg(2)) != 0;
            ctx.out.ok();
        }
        (b"htstats", 3..) => debug_htstats(ctx),
        (b"htstats-key", 3..) => debug_htstats_key(ctx),
        (b"object", 3 | 4) => debug_object(ctx),
        (b"digest", 2) => {
            let d = dataset_digest(ctx.srv);
            ctx.out.simple(hex(&d).as_bytes());
        }
        (b"digest-value", _) => {
            ctx.out.array(argc - 2);
            for i in 2..argc {
                let key = ctx.arg(i);
                let mut d = [0u8; 20];
                // Logically expired keys too: no lazy expiry here.
                if let Some(rec) = ctx.srv.keyspace.dbs[ctx.client.db].peek(key) {
                    xor_object_digest(&mut d, &rec);
                }
                ctx.out.simple(hex(&d).as_bytes());
            }
        }
        (b"protocol", 3) => debug_protocol(ctx),
        (b"change-repl-id", 2) => {
            log::notice("Changing replication IDs after receiving DEBUG change-repl-id");
            ctx.srv.replid = crate::server::random_hex40();
            ctx.srv.replid2 = "0".repeat(40);
            ctx.out.ok();
        }
        (b"log", 3) => {
            log::warning(&format!(
                "DEBUG LOG: {}",
                String::from_utf8_lossy(ctx.arg(2))
            ));
            ctx.out.ok();
        }
        (b"error", 3) => {
            // The argument is the whole error line, code included.
            let msg = ctx.arg(2);
            ctx.out.error(msg);
        }
        (b"populate", 3..=5) => debug_populate(ctx),
        (b"reload", _) => debug_reload(ctx),
        (b"loadaof", 2) => match persistence::aof::load::debug_loadaof(ctx.srv) {
            Ok(()) => ctx.out.ok(),
            Err(e) => {
                // Valkey exits here: the dataset is gone and what the AOF
                // holds could not be loaded.
                log::warning(&format!("DEBUG LOADAOF failed: {e}; exiting"));
                std::process::exit(1);
            }
        },
        (b"quicklist-packed-threshold", 3) => {
            let ok = crate::config::params::memtoull(ctx.arg(2))
                .is_some_and(|sz| crate::keyspace::list::set_packed_threshold(sz as usize));
            if ok {
                ctx.out.ok();
            } else {
                ctx.out.error(
                    b"ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                );
            }
        }
        (b"set-skip-checksum-validation", 3) => {
            ctx.srv.persist.skip_checksum_validation = atoi(ctx.arg(2)) != 0;
            ctx.out.ok();
        }
        _ => reply_subcommand_syntax_error(ctx),
    }
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load back.
fn debug_reload(ctx: &mut Ctx<'_>) {
    let (mut save, mut flush, mut merge) = (true, true, false);
    for i in 2..ctx.argc() {
        let a = ctx.arg(i);
        if a.eq_ignore_ascii_case(b"nosave") {
            save = false;
        } else if a.eq_ignore_ascii_case(b"noflush") {
            flush = false;
        } else if a.eq_ignore_ascii_case(b"merge") {
            merge = true;
        } else {
            ctx.out
                .error(b"ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    // MERGE lets loaded keys replace existing ones (only matters with
    // NOFLUSH); our loader refuses duplicate keys, so say so up front
    // rather than fail half way.
    if merge && !flush {
        ctx.out
            .error(b"ERR DEBUG RELOAD MERGE NOFLUSH is not supported");
        return;
    }
    match persistence::debug_reload(ctx.srv, save, flush) {
        Ok(()) => ctx.out.ok(),
        Err(e) => ctx.out.error(format!("ERR {e}").as_bytes()),
    }
}

/// DEBUG HTSTATS <dbid> [full]: the shape of a database's key tables.
/// Expiry times live in the key records here, so the "[Expires HT]"
/// section Valkey prints for its second table stays empty.
fn debug_htstats(ctx: &mut Ctx<'_>) {
    let Some(id) = ctx.arg_i64(2) else { return };
    if id < 0 || id as usize >= ctx.srv.keyspace.dbs.len() {
        ctx.out.error(b"ERR Out of range database");
        return;
    }
    let full = ctx.argc() >= 4 && ctx.arg(3).eq_ignore_ascii_case(b"full");
    let mut text = String::from("[Dictionary HT]\n");
    for level in ctx.srv.keyspace.dbs[id as usize].table_stats(full) {
        text.push_str(&format_table_stats(&level, full));
    }
    text.push_str("[Expires HT]\n");
    ctx.out.verbatim(text.as_bytes(), b"txt");
}

/// DEBUG HTSTATS-KEY <key> [full]: the same for the table of a set, hash
/// or sorted set in its hashtable encoding.
fn debug_htstats_key(ctx: &mut Ctx<'_>) {
    use crate::keyspace::record::ValueRef;
    let full = ctx.argc() >= 4 && ctx.arg(3).eq_ignore_ascii_case(b"full");
    let Some(rec) = ctx.srv.keyspace.dbs[ctx.client.db].peek(ctx.arg(2)) else {
        ctx.out.error(err::NO_SUCH_KEY);
        return;
    };
    let table = match rec.value() {
        ValueRef::Heap(v) => v.member_table(),
        _ => None,
    };
    let Some(table) = table else {
        ctx.out.error(
            b"ERR The value stored at the specified key is not represented using an hash table",
        );
        return;
    };
    let text: String = table
        .stats(full)
        .iter()
        .map(|level| format_table_stats(level, full))
        .collect();
    ctx.out.verbatim(text.as_bytes(), b"txt");
}

/// One bucket array's statistics in Valkey's words (`hashtableGetStatsMsg`).
fn format_table_stats(s: &ferrokey_table::LevelStats, full: bool) -> String {
    use std::fmt::Write;
    let role = if s.index == 0 {
        "main hash table"
    } else {
        "rehashing target"
    };
    let mut out = format!("Hash table {} stats ({role}):\n", s.index);
    if s.used == 0 {
        out.push_str("No stats available for empty hash tables\n");
        return out;
    }
    let _ = write!(
        out,
        " table size: {}\n number of entries: {}\n",
        s.size, s.used
    );
    if full {
        let buckets = s.top_level_buckets.max(1) as f64;
        let _ = write!(
            out,
            " top-level buckets: {}\n child buckets: {}\n max chain length: {}\n \
             avg chain length: {:.2}\n chain length distribution:\n",
            s.top_level_buckets,
            s.child_buckets,
            s.max_chain_len,
            s.child_buckets as f64 / buckets
        );
        // The last entry (the overflow of longer chains) is not printed,
        // as in Valkey.
        for (len, &n) in s.chain_lengths.iter().enumerate() {
            if n > 0 && len + 1 < s.chain_lengths.len() {
                let _ = writeln!(out, "   {len}: {n} ({:.2}%)", n as f64 / buckets * 100.0);
            }
        }
    }
    out
}

fn debug_object(ctx: &mut Ctx<'_>) {
    use crate::keyspace::access;
    let fast = ctx.argc() == 4 && ctx.arg(3).eq_ignore_ascii_case(b"fast");
    let now_ms = ctx.srv.now.ms;
    let decay = ctx.srv.config.lfu_decay_time;
    let Some(rec) = ctx.srv.keyspace.dbs[ctx.client.db].peek(ctx.arg(2)) else {
        ctx.out.error(err::NO_SUCH_KEY);
        return;
    };
    let clock = rec.clock();
    // Either the LRU or the LFU reading is meaningful, depending on
    // maxmemory-policy; Valkey prints both.
    let idle = access::idle_seconds(access::lru_clock(now_ms), clock);
    let freq = access::lfu_decayed_counter(clock, access::lfu_minutes(now_ms), decay);
    let mut s = format!(
        "Value at:{:p} refcount:1 encoding:{}",
        rec.addr(),
        rec.encoding_name()
    );
    if !fast {
        let compress = ctx.srv.config.rdbcompression;
        s.push_str(&format!(
            " serializedlength:{}",
            serialized_length(&rec, compress)
        ));
    }
    s.push_str(&format!(
        " lru:{clock} lru_seconds_idle:{idle} lfu_freq:{freq} lfu_access_time_minutes:{}",
        clock >> access::LFU_COUNTER_BITS
    ));
    if let crate::keyspace::record::ValueRef::Heap(Value::List(l)) = rec.value() {
        if let Some(q) = l.quicklist_stats() {
            s.push_str(&format!(
                " ql_nodes:{} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{}",
                q.nodes,
                q.count as f64 / q.nodes as f64,
                q.fill,
                q.compressed as u8
            ));
            if !fast {
                s.push_str(&format!(" ql_uncompressed_size:{}", q.uncompressed_size));
            }
        }
    }
    ctx.out.simple(s.as_bytes());
}

/// Bytes the value takes in an RDB file, as Valkey's `rdbSavedObjectLen`
/// counts them: the object without its type byte, strings compressed as
/// `rdbcompression` says.
fn serialized_length(rec: &Record, compress: bool) -> usize {
    use crate::persistence::rdb::object::{write_object, SaveOpts};
    let mut out = Vec::new();
    write_object(&mut out, &rec.value(), &SaveOpts { compress });
    out.len()
}

fn debug_protocol(ctx: &mut Ctx<'_>) {
    let name = ctx.arg(2).to_ascii_lowercase();
    let out = &mut *ctx.out;
    match &name[..] {
        b"string" => out.bulk(b"Hello World"),
        b"integer" => out.integer(12345),
        // Valkey's test value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => out.double(3.141),
        b"bignum" => out.big_number(b"1234567999999999999999999999999999999"),
        b"null" => out.null(),
        b"array" => {
            out.array(3);
            (0..3).for_each(|j| out.integer(j));
        }
        b"set" => {
            out.set(3);
            (0..3).for_each(|j| out.integer(j));
        }
        b"map" => {
            out.map(3);
            for j in 0..3 {
                out.integer(j);
                out.boolean(j == 1);
            }
        }
        b"attrib" => {
            if out.protocol() == crate::resp::Protocol::Resp3 {
                out.attribute(1);
                out.bulk(b"key-popularity");
                out.array(2);
                out.bulk(b"key:123");
                out.integer(90);
            }
            out.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if out.protocol() != crate::resp::Protocol::Resp3 {
                out.error(b"ERR RESP2 is not supported by this command");
                return;
            }
            out.push(2);
            out.bulk(b"server-cpu-usage");
            out.integer(42);
            out.bulk(b"Some real reply following the push reply");
        }
        b"true" => out.boolean(true),
        b"false" => out.boolean(false),
        b"verbatim" => out.verbatim(b"This is a verbatim\nstring", b"txt"),
        _ => out.error(
            b"ERR Wrong protocol type name. Please use one of the following: \
              string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

/// DEBUG POPULATE <count> [prefix] [size]: string keys `prefix:N` with
/// values `value:N` (padded with zeros, or cut, to `size`), skipping keys
/// that exist.
fn debug_populate(ctx: &mut Ctx<'_>) {
    let count = match parse_i64(ctx.arg(2)) {
        Some(n) if n >= 0 => n,
        Some(_) => {
            ctx.out
                .error(b"ERR value is out of range, must be positive");
            return;
        }
        None => {
            ctx.out.error(err::NOT_INTEGER);
            return;
        }
    };
    let size = if ctx.argc() == 5 {
        match parse_i64(ctx.arg(4)) {
            Some(n) if n >= 0 => n as usize,
            Some(_) => {
                ctx.out
                    .error(b"ERR value is out of range, must be positive");
                return;
            }
            None => {
                ctx.out.error(err::NOT_INTEGER);
                return;
            }
        }
    } else {
        0
    };
    let prefix = if ctx.argc() >= 4 {
        ctx.arg(3).to_vec()
    } else {
        b"key".to_vec()
    };
    let now = ctx.srv.now;
    let dbi = ctx.client.db;
    for j in 0..count {
        let mut key = prefix.clone();
        key.extend_from_slice(format!(":{j}").as_bytes());
        if ctx.srv.keyspace.dbs[dbi].exists(&key, now) {
            continue;
        }
        let mut val = format!("value:{j}").into_bytes();
        if size > 0 {
            val.resize(size, 0);
        }
        ctx.srv.keyspace.dbs[dbi].insert(Record::new_string(&key, &val, None, now.clock));
        ctx.srv.key_modified(dbi, &key);
        ctx.srv.dirty += 1;
    }
    ctx.out.ok();
}

// ---- DEBUG DIGEST ------------------------------------------------------------

fn hex(d: &[u8; 20]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// `digest ^= SHA1(data)`: order-independent accumulation.
fn xor_digest(digest: &mut [u8; 20], data: &[u8]) {
    let h = sha1(data);
    for (d, h) in digest.iter_mut().zip(h) {
        *d ^= h;
    }
}

/// `digest = SHA1(digest ^ SHA1(data))`: order-dependent accumulation.
fn mix_digest(digest: &mut [u8; 20], data: &[u8]) {
    xor_digest(digest, data);
    *digest = sha1(&digest[..]);
}

/// Valkey's object type numbers (OBJ_STRING..OBJ_STREAM) as digested.
fn obj_type_code(t: ObjType) -> u32 {
    match t {
        ObjType::String => 0,
        ObjType::List => 1,
        ObjType::Set => 2,
        ObjType::ZSet => 3,
        ObjType::Hash => 4,
        ObjType::Stream => 6,
    }
}

/// Valkey's `xorObjectDigest`: the type, the value, and a marker when the
/// key has a TTL.
fn xor_object_digest(digest: &mut [u8; 20], rec: &Record) {
    mix_digest(digest, &obj_type_code(rec.obj_type()).to_be_bytes());
    match rec.value() {
        ValueRef::Int(i) => mix_digest(digest, i.to_string().as_bytes()),
        ValueRef::Str(s) => mix_digest(digest, s),
        ValueRef::Heap(v) => digest_value(digest, v),
    }
    if rec.has_expire() {
        xor_digest(digest, b"!!expire!!");
    }
}

/// A heap value's part of `xorObjectDigest`: lists mixed in order, sets
/// xored per member, hashes and sorted sets xored per element digest.
fn digest_value(digest: &mut [u8; 20], v: &Value) {
    let element = |parts: &[&[u8]]| {
        let mut d = [0u8; 20];
        for p in parts {
            mix_digest(&mut d, p);
        }
        d
    };
    match v {
        Value::Str(s) => mix_digest(digest, s),
        Value::List(l) => l.for_each(|e| mix_digest(digest, e)),
        Value::Set(s) => s.for_each(|m| xor_digest(digest, m)),
        Value::Hash(h) => h.for_each(|f, v| xor_digest(digest, &element(&[f, v]))),
        Value::ZSet(z) => z.for_each(|m, score| {
            let mut buf = Vec::new();
            crate::util::num::fpconv_dtoa(score, &mut buf);
            xor_digest(digest, &element(&[m, &buf]));
        }),
        Value::Stream(x) => x.for_each(|ms, seq, fields| {
            mix_digest(digest, format!("{ms}.{seq}").as_bytes());
            for (f, v) in fields {
                mix_digest(digest, f);
                mix_digest(digest, v);
            }
        }),
    }
}

/// DEBUG DIGEST: zero for an empty dataset, otherwise every database id
/// mixed in and every key/value digest xored in.
pub fn dataset_digest(srv: &Server) -> [u8; 20] {
    let mut fin = [0u8; 20];
    for (j, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix_digest(&mut fin, &(j as u32).to_be_bytes());
        for rec in db.iter() {
            let mut d = [0u8; 20];
            mix_digest(&mut d, rec.key());
            xor_object_digest(&mut d, &rec);
            xor_digest(&mut fin, &d);
        }
    }
    fin
}

/// SHA-1 (FIPS 180-4), for DEBUG DIGEST.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, v) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(v);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

// ---- MEMORY ------------------------------------------------------------------

/// Bytes a key costs beyond its record: its slot in the table.
const KEY_SLOT_BYTES: usize = std::mem::size_of::<usize>();

/// Valkey's `serverMemOverhead`, as far as Ferrokey has the parts.
pub struct MemoryOverhead {
    pub used: usize,
    pub peak: usize,
    pub startup: usize,
    pub rss: usize,
    pub clients_normal: usize,
    /// (db index, table bytes) of non-empty databases.
    pub dbs: Vec<(usize, usize)>,
    pub total: usize,
    pub dataset: usize,
    pub keys: usize,
    pub bytes_per_key: usize,
    pub dataset_perc: f64,
    pub peak_perc: f64,
}

impl MemoryOverhead {
    /// `running` is the memory of the client running the command (it is not
    /// in the client list meanwhile).
    pub fn compute(srv: &Server, running: usize) -> MemoryOverhead {
        let used = used_memory();
        let peak = srv.peak_memory.max(used);
        let startup = srv.startup_memory;
        let clients_normal: usize = srv
            .other_clients()
            .map(|c| c.info().total_memory())
            .sum::<usize>()
            + running;
        let dbs: Vec<(usize, usize)> = srv
            .keyspace
            .dbs
            .iter()
            .enumerate()
            .filter(|(_, db)| !db.is_empty())
            .map(|(i, db)| (i, db.table_bytes()))
            .collect();
        let total = startup + clients_normal + dbs.iter().map(|d| d.1).sum::<usize>();
        let dataset = used.saturating_sub(total);
        let keys = srv.keyspace.total_keys();
        let net = used.saturating_sub(startup);
        MemoryOverhead {
            used,
            peak,
            startup,
            rss: rss_bytes(),
            clients_normal,
            dbs,
            total,
            dataset,
            keys,
            bytes_per_key: net.checked_div(keys).unwrap_or(0),
            dataset_perc: if net > 0 {
                dataset as f64 * 100.0 / net as f64
            } else {
                0.0
            },
            peak_perc: if peak > 0 {
                used as f64 * 100.0 / peak as f64
            } else {
                0.0
            },
        }
    }

    /// RSS over used memory (Valkey's `mem_fragmentation_ratio`).
    pub fn frag_ratio(&self) -> f64 {
        if self.used > 0 {
            self.rss as f64 / self.used as f64
        } else {
            0.0
        }
    }

    pub fn frag_bytes(&self) -> i64 {
        self.rss as i64 - self.used as i64
    }
}

fn memory_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "memory",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    );
}

fn memory_usage(ctx: &mut Ctx<'_>) {
    let mut j = 3;
    let mut samples = crate::keyspace::value::MEMORY_SAMPLES;
    while j < ctx.argc() {
        if ctx.arg(j).eq_ignore_ascii_case(b"samples") && j + 1 < ctx.argc() {
            let Some(n) = ctx.arg_i64(j + 1) else {
                return;
            };
            if n < 0 {
                ctx.out.error(err::SYNTAX);
                return;
            }
            // 0 means every element, as in Valkey.
            samples = n as usize;
            j += 2;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
    }
    match ctx.srv.keyspace.dbs[ctx.client.db].peek(ctx.arg(2)) {
        Some(rec) => {
            let n = rec.memory_usage_sampled(samples) + KEY_SLOT_BYTES;
            ctx.out.integer(n as i64);
        }
        None => ctx.out.null(),
    }
}

fn memory_stats(ctx: &mut Ctx<'_>) {
    let running = ctx.client.info_running(ctx.out).total_memory();
    let m = MemoryOverhead::compute(ctx.srv, running);
    let out = &mut *ctx.out;
    out.map(31 + m.dbs.len());
    let int = |out: &mut crate::resp::Reply, k: &[u8], v: i64| {
        out.bulk(k);
        out.integer(v);
    };
    int(out, b"peak.allocated", m.peak as i64);
    int(out, b"total.allocated", m.used as i64);
    int(out, b"startup.allocated", m.startup as i64);
    int(out, b"replication.backlog", 0);
    int(out, b"clients.slaves", 0);
    int(out, b"clients.normal", m.clients_normal as i64);
    int(out, b"cluster.links", 0);
    int(out, b"aof.buffer", 0);
    int(out, b"lua.caches", 0);
    int(out, b"functions.caches", 0);
    for &(i, bytes) in &m.dbs {
        out.bulk(format!("db.{i}").as_bytes());
        out.map(2);
        int(out, b"overhead.hashtable.main", bytes as i64);
        // TTLs live in the key records: there is no expires table.
        int(out, b"overhead.hashtable.expires", 0);
    }
    int(out, b"overhead.db.hashtable.lut", 0);
    int(out, b"overhead.db.hashtable.rehashing", 0);
    int(out, b"overhead.total", m.total as i64);
    int(out, b"db.dict.rehashing.count", 0);
    int(out, b"keys.count", m.keys as i64);
    int(out, b"keys.bytes-per-key", m.bytes_per_key as i64);
    int(out, b"dataset.bytes", m.dataset as i64);
    out.bulk(b"dataset.percentage");
    out.double(m.dataset_perc);
    out.bulk(b"peak.percentage");
    out.double(m.peak_perc);
    int(out, b"allocator.allocated", m.used as i64);
    int(out, b"allocator.active", m.used as i64);
    int(out, b"allocator.resident", m.rss as i64);
    int(out, b"allocator.muzzy", 0);
    out.bulk(b"allocator-fragmentation.ratio");
    out.double(1.0);
    int(out, b"allocator-fragmentation.bytes", 0);
    out.bulk(b"allocator-rss.ratio");
    out.double(m.frag_ratio());
    int(out, b"allocator-rss.bytes", m.frag_bytes());
    out.bulk(b"rss-overhead.ratio");
    out.double(1.0);
    int(out, b"rss-overhead.bytes", 0);
    out.bulk(b"fragmentation");
    out.double(m.frag_ratio());
    int(out, b"fragmentation.bytes", m.frag_bytes());
}

fn memory_doctor(ctx: &mut Ctx<'_>) {
    let running = ctx.client.info_running(ctx.out).total_memory();
    let m = MemoryOverhead::compute(ctx.srv, running);
    let text: &[u8] = if m.used < 5 * 1024 * 1024 {
        b"Hi Sam, this instance is empty or is using very little memory, my issues detector can't \
          be used in these conditions. Please, leave for your mission on Earth and fill it with \
          some data. The new Sam and I will be back to our programming as soon as I finished \
          rebooting.\n"
    } else if m.peak as f64 / m.used as f64 > 1.5 {
        b"Sam, I detected a few issues in this Valkey instance memory implants:\n\n \
          * Peak memory: In the past this instance used more than 150% the memory that is \
          currently using. The allocator is normally not able to release memory after a peak, so \
          you can expect to see a big fragmentation ratio, however this is actually harmless and \
          is only due to the memory peak, and if the Valkey instance Resident Set Size (RSS) is \
          currently bigger than expected, the memory will be used as soon as you fill the Valkey \
          instance with more data. If the memory peak was only occasional and you want to try to \
          reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is \
          to shutdown and restart the instance.\n\n\
          I'm here to keep you safe, Sam. I want to help you.\n"
    } else {
        b"Hi Sam, I can't find any memory issue in your instance. I can only account for what \
          occurs on this base.\n"
    };
    ctx.out.verbatim(text, b"txt");
}

fn memory_malloc_stats(ctx: &mut Ctx<'_>) {
    ctx.out
        .bulk(b"Stats not supported for the current allocator");
}

fn memory_purge(ctx: &mut Ctx<'_>) {
    ctx.out.ok();
}

// ---- SLOWLOG -----------------------------------------------------------------

fn slowlog_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "slowlog",
        &[
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of:",
            "    id, timestamp, time in microseconds, arguments array, client IP and port,",
            "    client name",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        ],
    );
}

fn slowlog_get(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 3 {
        return reply_subcommand_syntax_error(ctx);
    }
    let len = ctx.srv.slowlog.entries.len();
    let mut count = 10usize;
    if ctx.argc() == 3 {
        match parse_i64(ctx.arg(2)) {
            Some(-1) => count = len,
            Some(n) if n >= 0 => count = n as usize,
            _ => {
                ctx.out
                    .error(b"ERR count should be greater than or equal to -1");
                return;
            }
        }
    }
    let count = count.min(len);
    ctx.out.array(count);
    for e in ctx.srv.slowlog.entries.iter().take(count) {
        ctx.out.array(6);
        ctx.out.integer(e.id as i64);
        ctx.out.integer(e.time);
        ctx.out.integer(e.duration_us as i64);
        ctx.out.array(e.args.len());
        for a in &e.args {
            ctx.out.bulk(a);
        }
        ctx.out.bulk(e.peer.as_bytes());
        ctx.out.bulk(&e.name);
    }
}

fn slowlog_len(ctx: &mut Ctx<'_>) {
    ctx.out.integer(ctx.srv.slowlog.entries.len() as i64);
}

fn slowlog_reset(ctx: &mut Ctx<'_>) {
    ctx.srv.slowlog.entries.clear();
    ctx.out.ok();
}

// ---- MODULE ------------------------------------------------------------------

fn module_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "module",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    );
}

fn module_list(ctx: &mut Ctx<'_>) {
    ctx.out.array(0);
}

fn module_load(ctx: &mut Ctx<'_>) {
    log::warning(&format!(
        "Module {} failed to load: loading modules is not supported",
        String::from_utf8_lossy(ctx.arg(2))
    ));
    ctx.out
        .error(b"ERR Error loading the extension. Please check the server logs.");
}

fn module_unload(ctx: &mut Ctx<'_>) {
    log::warning(&format!(
        "Error unloading module {}: no such module with that name",
        String::from_utf8_lossy(ctx.arg(2))
    ));
    ctx.out
        .error(b"ERR Error unloading module: no such module with that name");
}

// ---- CLUSTER -----------------------------------------------------------------

const CLUSTER_DISABLED: &[u8] = b"ERR This instance has cluster support disabled";

fn cluster(ctx: &mut Ctx<'_>) {
    ctx.out.error(CLUSTER_DISABLED);
}

/// CLUSTER KEYSLOT <key>: the hash slot of a key.
fn cluster_keyslot(ctx: &mut Ctx<'_>) {
    if !ctx.srv.config.cluster_enabled {
        ctx.out.error(CLUSTER_DISABLED);
        return;
    }
    let slot = crate::util::slot::key_hash_slot(ctx.arg(2));
    ctx.out.integer(slot as i64);
}

/// READONLY: lets a cluster client read from a replica (flag `r`).
fn readonly(ctx: &mut Ctx<'_>) {
    ctx.client.readonly = true;
    ctx.out.ok();
}

fn readwrite(ctx: &mut Ctx<'_>) {
    ctx.client.readonly = false;
    ctx.out.ok();
}

/// ASKING only means something in cluster mode.
fn asking(ctx: &mut Ctx<'_>) {
    ctx.out.error(CLUSTER_DISABLED);
}

// ---- LATENCY -----------------------------------------------------------------

fn latency_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "latency",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    );
}

/// Width of LATENCY GRAPH.
const LATENCY_GRAPH_COLS: usize = 80;

/// LATENCY GRAPH <event>: the event's samples as an ASCII sparkline, with
/// how long ago each happened under it.
fn latency_graph(ctx: &mut Ctx<'_>) {
    let event = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    let Some(ts) = ctx.srv.latency.get(&event) else {
        let msg = format!("ERR No samples available for event '{event}'");
        ctx.out.error(msg.as_bytes());
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let samples: Vec<(f64, String)> = ts
        .history()
        .map(|(time, ms)| {
            let ago = now - time;
            let label = match ago {
                _ if ago < 60 => format!("{ago}s"),
                _ if ago < 3600 => format!("{}m", ago / 60),
                _ if ago < 86400 => format!("{}h", ago / 3600),
                _ => format!("{}d", ago / 86400),
            };
            (ms as f64, label)
        })
        .collect();
    let high = samples.iter().map(|s| s.0 as u64).max().unwrap_or(0);
    let low = samples.iter().map(|s| s.0 as u64).min().unwrap_or(0);
    let mut graph = format!(
        "{event} - high {high} ms, low {low} ms (all time high {} ms)\n",
        ts.max
    );
    graph.push_str(&"-".repeat(LATENCY_GRAPH_COLS));
    graph.push('\n');
    for (i, chunk) in samples.chunks(LATENCY_GRAPH_COLS).enumerate() {
        if i > 0 {
            graph.push('\n');
        }
        sparkline_rows(&mut graph, chunk, &samples, 4);
    }
    ctx.out.verbatim(graph.as_bytes(), b"txt");
}

/// Draws `chunk` of a sample sequence as Valkey's filled sparkline of
/// `rows` rows (`_o#` steps, `|` below them), scaled to the whole
/// sequence's range, then a blank line and the labels written vertically.
fn sparkline_rows(out: &mut String, chunk: &[(f64, String)], all: &[(f64, String)], rows: usize) {
    const FILL: &[u8] = b"_o#";
    let min = all.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let max = all.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (FILL.len() * rows) as i64;
    let step_of = |v: f64| {
        // Valkey truncates twice: (int)(relval * steps) / relmax.
        let step = (((v - min) * steps as f64) as i64 as f64 / relmax) as i64;
        step.clamp(0, steps - 1)
    };
    let has_labels = all.iter().any(|s| !s.1.is_empty());
    let mut row = 0;
    loop {
        let mut line = vec![b' '; chunk.len()];
        let mut more = false;
        for (j, (v, label)) in chunk.iter().enumerate() {
            if row < rows {
                more = true;
                let idx = step_of(*v) - ((rows - row - 1) * FILL.len()) as i64;
                if (0..FILL.len() as i64).contains(&idx) {
                    line[j] = FILL[idx as usize];
                } else if idx >= FILL.len() as i64 {
                    line[j] = b'|';
                }
            } else {
                // One blank line between the graph and the labels.
                if has_labels && row == rows {
                    more = true;
                    break;
                }
                let at = row - rows - 1;
                if let Some(&c) = label.as_bytes().get(at) {
                    more = true;
                    line[j] = c;
                }
            }
        }
        if !more {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&line));
        out.push('\n');
        row += 1;
    }
}

fn latency_latest(ctx: &mut Ctx<'_>) {
    ctx.out.array(ctx.srv.latency.len());
    for (event, ts) in &ctx.srv.latency {
        let (time, ms) = ts.latest();
        ctx.out.array(4);
        ctx.out.bulk(event.as_bytes());
        ctx.out.integer(time);
        ctx.out.integer(ms as i64);
        ctx.out.integer(ts.max as i64);
    }
}

fn latency_history(ctx: &mut Ctx<'_>) {
    let event = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    let Some(ts) = ctx.srv.latency.get(&event) else {
        ctx.out.array(0);
        return;
    };
    let samples: Vec<(i64, u64)> = ts.history().collect();
    ctx.out.array(samples.len());
    for (time, ms) in samples {
        ctx.out.array(2);
        ctx.out.integer(time);
        ctx.out.integer(ms as i64);
    }
}

fn latency_reset(ctx: &mut Ctx<'_>) {
    let resets = if ctx.argc() == 2 {
        let n = ctx.srv.latency.len();
        ctx.srv.latency.clear();
        n
    } else {
        let mut n = 0;
        for i in 2..ctx.argc() {
            let name = ctx.arg(i);
            let found: Vec<String> = ctx
                .srv
                .latency
                .keys()
                .filter(|k| k.as_bytes().eq_ignore_ascii_case(name))
                .cloned()
                .collect();
            for k in found {
                ctx.srv.latency.remove(&k);
                n += 1;
            }
        }
        n
    };
    ctx.out.integer(resets as i64);
}

/// LATENCY HISTOGRAM [command ...]: the latency distribution of every
/// command (and subcommand) that has one, or of the named ones (a container
/// name stands for its subcommands too; unknown names are skipped).
fn latency_histogram(ctx: &mut Ctx<'_>) {
    let mut chosen: Vec<&'static Command> = Vec::new();
    if ctx.argc() == 2 {
        for c in super::all() {
            chosen.push(c);
            chosen.extend(c.subcommands.iter());
        }
    } else {
        for i in 2..ctx.argc() {
            if let Some(c) = super::lookup_fullname(ctx.arg(i)) {
                chosen.push(c);
                chosen.extend(c.subcommands.iter());
            }
        }
    }
    let stats = &ctx.srv.stats.commands;
    let with_data: Vec<(&str, &crate::server::LatencyHistogram)> = chosen
        .iter()
        .filter_map(|c| Some((c.name, stats.get(c.name)?.latency.as_deref()?)))
        .collect();
    ctx.out.map(with_data.len());
    for (name, h) in with_data {
        ctx.out.bulk(name.as_bytes());
        ctx.out.map(2);
        ctx.out.bulk(b"calls");
        ctx.out.integer(h.total() as i64);
        ctx.out.bulk(b"histogram_usec");
        let cdf = h.cdf();
        ctx.out.map(cdf.len());
        for (usec, count) in cdf {
            ctx.out.integer(usec);
            ctx.out.integer(count as i64);
        }
    }
}

fn latency_doctor(ctx: &mut Ctx<'_>) {
    let srv = &*ctx.srv;
    let mut report = String::new();
    if srv.latency.is_empty() && srv.config.latency_monitor_threshold == 0 {
        report.push_str(
            "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Valkey \
             instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in \
             order to enable it.\n",
        );
    } else if srv.latency.is_empty() {
        report.push_str(
            "No latency spike was observed during the lifetime of this Valkey instance, not in \
             the slightest bit.\n",
        );
    } else {
        report.push_str("Latency spikes are observed in this Valkey instance.\n\n");
        let now = srv.now.ms / 1000;
        for (i, (event, ts)) in srv.latency.iter().enumerate() {
            let samples: Vec<(i64, u64)> = ts.history().collect();
            let n = samples.len().max(1) as u64;
            let avg = samples.iter().map(|s| s.1).sum::<u64>() / n;
            let mad = samples.iter().map(|s| s.1.abs_diff(avg)).sum::<u64>() / n;
            let oldest = samples.iter().map(|s| s.0).min().unwrap_or(now);
            let period = (now - oldest).max(1);
            report.push_str(&format!(
                "{}. {}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). \
                 Worst all time event {}ms.\n",
                i + 1,
                event,
                samples.len(),
                avg,
                mad,
                period as f64 / n as f64,
                ts.max
            ));
        }
        report.push_str(
            "\nThere are latency events logged that are not easy to fix. Please get some help \
             from Valkey community, providing this report in your help request.\n",
        );
    }
    ctx.out.verbatim(report.as_bytes(), b"txt");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_known_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"1"), 1);
        assert_eq!(atoi(b"0"), 0);
        assert_eq!(atoi(b" 12abc"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"yes"), 0);
    }

    #[test]
    fn string_digest_is_order_independent_and_ttl_sensitive() {
        let a = Record::new_string(b"k", b"v", None, 0);
        let b = Record::new_string(b"k", b"v", Some(1000), 0);
        let mut da = [0u8; 20];
        xor_object_digest(&mut da, &a);
        let mut db = [0u8; 20];
        xor_object_digest(&mut db, &b);
        assert_ne!(da, db);
        // An integer-encoded value digests as its decimal text.
        let i = Record::new_string(b"k", b"123", None, 0);
        let s = Record::new_raw(b"k", b"123".to_vec(), None, 0);
        let (mut di, mut ds) = ([0u8; 20], [0u8; 20]);
        xor_object_digest(&mut di, &i);
        xor_object_digest(&mut ds, &s);
        assert_eq!(di, ds);
    }

    #[test]
    fn serialized_length_is_the_rdb_object_size() {
        let r = Record::new_string(b"k", b"hello", None, 0);
        assert_eq!(serialized_length(&r, true), 6);
        let r = Record::new_string(b"k", b"1000", None, 0);
        assert_eq!(serialized_length(&r, true), 3);
        // Over 20 bytes and compressible: LZF unless rdbcompression is off.
        let long = vec![b'a'; 200];
        let r = Record::new_raw(b"k", long, None, 0);
        assert!(serialized_length(&r, true) < 50);
        assert_eq!(serialized_length(&r, false), 202);
    }
}
