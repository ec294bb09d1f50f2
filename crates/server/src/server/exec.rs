//! Running one command: lookup, arity, authentication, MULTI queueing, the
//! call itself and its statistics, the slow log, the latency monitor and the
//! MONITOR feed. The event loop, EXEC and scripts all come through here.

use super::client::{MultiState, ReplyMode};
use super::{ClientState, Server, SlowlogEntry, SLOWLOG_ENTRY_MAX_ARGC, SLOWLOG_ENTRY_MAX_STRING};
use crate::commands::{self, err, flags, Command, Ctx};
use crate::keyspace::Record;
use crate::resp::{Args, Reply};
use ferrokey_table::RefMut;
use std::cell::Cell;

thread_local! {
    /// EXEC is running its queued commands (Valkey's `server.in_exec`):
    /// a fork (BGREWRITEAOF, turning the AOF on) must wait for the cron.
    static IN_EXEC: Cell<bool> = const { Cell::new(false) };
}

/// Whether EXEC is running its queued commands.
pub fn in_exec() -> bool {
    IN_EXEC.with(Cell::get)
}

/// Commands that run at once inside MULTI instead of being queued.
fn runs_inside_multi(cmd: &Command) -> bool {
    matches!(cmd.name, "exec" | "discard" | "quit" | "reset")
}

/// Finds the command (or subcommand) `args` names, if it exists and the
/// argument count fits.
fn resolve(args: &Args<'_>) -> Option<&'static Command> {
    let cmd = commands::lookup(args.get(0))?;
    if !cmd.is_arity_ok(args.len()) {
        return None;
    }
    if cmd.subcommands.is_empty() {
        return Some(cmd);
    }
    let sub = cmd.subcommand(args.get(1))?;
    sub.is_arity_ok(args.len()).then_some(sub)
}

/// Commands that change data or feed replicas: held by `CLIENT PAUSE WRITE`.
/// Whether `cmd` has one of the flags in `mask`, or is an EXEC that would
/// run a queued command that has (Valkey tests `c->mstate.cmd_flags`).
fn has_or_runs(client: &ClientState, cmd: &Command, mask: u32) -> bool {
    cmd.flags & mask != 0
        || (cmd.name == "exec"
            && client
                .multi
                .as_ref()
                .is_some_and(|m| m.queue.iter().any(|(c, _)| c.flags & mask != 0)))
}

/// Whether a CLIENT PAUSE holds this request: the event loop then leaves it
/// in the query buffer and runs it when the pause ends. Mirrors where
/// Valkey's `processCommand` postpones: after the lookup, arity,
/// authentication and MULTI checks (requests failing those are answered at
/// once), before queueing into MULTI. Monitors, like replicas, are never
/// paused.
pub fn must_postpone(srv: &Server, client: &ClientState, args: &Args<'_>) -> bool {
    let Some(pause) = srv.active_pause() else {
        return false;
    };
    if client.monitor {
        return false;
    }
    let Some(cmd) = resolve(args) else {
        return false;
    };
    if !client.authenticated && !cmd.has(flags::NO_AUTH) {
        return false;
    }
    if client.multi.is_some() && cmd.has(flags::NO_MULTI) {
        return false;
    }
    if pause.all {
        return true;
    }
    has_or_runs(client, cmd, flags::WRITE | flags::MAY_REPLICATE)
}

/// Runs one request from a client, honouring CLIENT REPLY OFF / SKIP for
/// whatever it replies (errors and QUEUED included, as Valkey suppresses
/// replies at the output buffer).
pub fn execute(srv: &mut Server, client: &mut ClientState, out: &mut Reply, args: Args<'_>) {
    let reply_start = out.len();
    let tracking = !srv.tracking.clients.is_empty();
    srv.current = Some(super::Current {
        id: client.id,
        resp3: out.protocol() == crate::resp::Protocol::Resp3,
        pubsub: client.is_pubsub(),
    });
    if tracking {
        // Valkey's processCommand keeps the tracking table in bounds. Once
        // `current` is set: this client's own invalidations then come
        // before its reply (a QUEUED one too) instead of being lost, as it
        // is not among the idle clients while it runs.
        super::tracking::limit_table(srv);
        flush_pushes(srv, out);
    }
    let reply_mark = out.len();
    // The handlers run under their own guard (`call_with`); this one
    // covers the checks before them, so a bug there costs one error reply,
    // not the server.
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(srv, client, out, args)
    }));
    if checked.is_err() {
        out.truncate(reply_mark);
        super::net::log::warning("internal error while dispatching a command");
        out.error(b"ERR internal error while dispatching the command, see the server log");
    }
    srv.current = None;
    if tracking {
        // CLIENT CACHING applies to the next command (or transaction) only.
        if client.multi.is_none() && !client.last_cmd.starts_with("client|") {
            if let Some(t) = srv.tracking.clients.get_mut(&client.id) {
                t.caching = false;
            }
        }
    }
    match client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => out.truncate(reply_start),
        ReplyMode::Skip => {
            out.truncate(reply_start);
            client.reply_mode = ReplyMode::On;
        }
        // CLIENT REPLY SKIP itself: no reply, and skip the next one.
        ReplyMode::SkipNext => {
            out.truncate(reply_start);
            client.reply_mode = ReplyMode::Skip;
        }
    }
    // Push messages (invalidations) for this client follow its reply, and
    // are sent even with CLIENT REPLY OFF.
    flush_pushes(srv, out);
}

/// Appends the push messages queued for the running client (see
/// [`Server::push_to`]) to its output.
fn flush_pushes(srv: &mut Server, out: &mut Reply) {
    if !srv.pending_push.is_empty() {
        out.raw(&srv.pending_push);
        srv.pending_push.clear();
    }
}

fn dispatch(srv: &mut Server, client: &mut ClientState, out: &mut Reply, args: Args<'_>) {
    // Like Valkey's `c->lastcmd`: set by the lookup, whatever follows
    // (CLIENT LIST's `cmd=`); EXEC does not change it for its commands.
    let Some(mut cmd) = commands::lookup(args.get(0)) else {
        client.last_cmd = "NULL";
        flag_multi_error(client);
        commands::reply_unknown_command(out, &args);
        count_error(srv, b"ERR");
        return;
    };
    client.last_cmd = cmd.name;
    if !cmd.is_arity_ok(args.len()) {
        reject(srv, client, out, Some(cmd), &arity_error(cmd.name));
        return;
    }
    // A container sent alone (only COMMAND's arity allows it) runs
    // itself, as Valkey's lookupCommandLogic has it.
    if !cmd.subcommands.is_empty() && args.len() >= 2 {
        let Some(sub) = cmd.subcommand(args.get(1)) else {
            client.last_cmd = "NULL";
            // No command to charge: Valkey's lookup found none.
            flag_multi_error(client);
            commands::reply_unknown_subcommand(out, cmd.name, args.get(1));
            count_error(srv, b"ERR");
            return;
        };
        cmd = sub;
        client.last_cmd = cmd.name;
        if !cmd.is_arity_ok(args.len()) {
            reject(srv, client, out, Some(cmd), &arity_error(cmd.name));
            return;
        }
    }
    // DEBUG is a "protected" command: off unless enable-debug-command
    // allows it (for loopback clients only with "local").
    if cmd.name == "debug" && !srv.config.enable_debug_command.allows(client.is_local) {
        reject(
            srv,
            client,
            out,
            Some(cmd),
            b"ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
              you can run it from a local connection, otherwise you need to set this option in the \
              configuration file, and then restart the server.",
        );
        return;
    }
    // So are loading and unloading modules (`enable-module-command`).
    if matches!(cmd.name, "module|load" | "module|loadex" | "module|unload")
        && !srv.config.enable_module_command.allows(client.is_local)
    {
        reject(
            srv,
            client,
            out,
            Some(cmd),
            b"ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", \
              you can run it from a local connection, otherwise you need to set this option in the \
              configuration file, and then restart the server.",
        );
        return;
    }
    if !client.authenticated && !cmd.has(flags::NO_AUTH) {
        reject(srv, client, out, Some(cmd), err::NOAUTH);
        return;
    }
    if client.is_pubsub()
        && out.protocol() == crate::resp::Protocol::Resp2
        && !matches!(
            cmd.name,
            "ping"
                | "subscribe"
                | "ssubscribe"
                | "unsubscribe"
                | "sunsubscribe"
                | "psubscribe"
                | "punsubscribe"
                | "quit"
                | "reset"
        )
    {
        let msg = format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            cmd.name
        );
        reject(srv, client, out, Some(cmd), msg.as_bytes());
        return;
    }
    if !client.is_pubsub() && matches!(cmd.name, "unsubscribe" | "sunsubscribe" | "punsubscribe") {
        let msg = format!(
            "NOSUB '{}' command executed not in subscribed mode",
            cmd.name
        );
        reject(srv, client, out, Some(cmd), msg.as_bytes());
        return;
    }
    if client.multi.is_some() && cmd.has(flags::NO_MULTI) {
        reject(
            srv,
            client,
            out,
            Some(cmd),
            b"ERR Command not allowed inside a transaction",
        );
        return;
    }
    // A MONITOR client counts as a replica: it may not touch the keyspace.
    if client.monitor && cmd.flags & (flags::WRITE | flags::READONLY | flags::MAY_REPLICATE) != 0 {
        reject(
            srv,
            client,
            out,
            Some(cmd),
            b"ERR Replica can't interact with the keyspace",
        );
        return;
    }
    // While the last BGSAVE failed (with stop-writes-on-bgsave-error) or the
    // AOF cannot be written, writes (and PING, to tell) are refused
    // (Valkey's `writeCommandsDeniedByDiskError`).
    if cmd.name == "ping" || has_or_runs(client, cmd, flags::WRITE) {
        if let Some(msg) = crate::persistence::disk_error_reply(srv) {
            reject(srv, client, out, Some(cmd), &msg);
            return;
        }
    }
    // Valkey's processCommand evicts before any command runs or is queued,
    // then refuses on OOM what may grow memory: DENYOOM commands, and an
    // EXEC that would run one. Read-only transactions still run.
    if srv.config.maxmemory > 0 && crate::alloc::used_memory() as u64 > srv.config.maxmemory {
        let out_of_memory = !super::evict::free_memory_if_needed(srv);
        // Invalidations of keys evicted now precede this command's reply.
        flush_pushes(srv, out);
        if out_of_memory && has_or_runs(client, cmd, flags::DENYOOM) {
            reject(srv, client, out, Some(cmd), err::OOM);
            return;
        }
    }
    if let Some(multi) = &mut client.multi {
        if !runs_inside_multi(cmd) {
            multi.queue.push((cmd, args.to_owned()));
            out.simple(b"QUEUED");
            return;
        }
    }
    call(srv, client, out, cmd, args);
}

fn arity_error(name: &str) -> Vec<u8> {
    format!("ERR wrong number of arguments for '{name}' command").into_bytes()
}

/// Valkey's `rejectCommand`: the error reply, the transaction flagged,
/// the command's `rejected_calls` and the error counters. A refused EXEC
/// discards the transaction and says why after `EXECABORT`, in or out of
/// MULTI (Valkey's `execCommandAbort`).
fn reject(
    srv: &mut Server,
    client: &mut ClientState,
    out: &mut Reply,
    cmd: Option<&'static Command>,
    msg: &[u8],
) {
    flag_multi_error(client);
    let aborted;
    let msg = if cmd.is_some_and(|c| c.name == "exec") {
        client.multi = None;
        unwatch_all(srv, client);
        // Valkey formats its generic refusals (arity) without the "ERR "
        // an ordinary error reply gets.
        let why = msg.strip_prefix(b"ERR ").unwrap_or(msg);
        aborted = [b"EXECABORT Transaction discarded because of: ", why].concat();
        &aborted[..]
    } else {
        msg
    };
    out.error(msg);
    if let Some(cmd) = cmd {
        srv.stats
            .commands
            .entry(cmd.name)
            .or_default()
            .rejected_calls += 1;
    }
    count_error(srv, error_code(msg));
}

/// Calls a command whose checks have passed, accounts for it, and
/// propagates what it changed.
pub fn call(
    srv: &mut Server,
    client: &mut ClientState,
    out: &mut Reply,
    cmd: &'static Command,
    args: Args<'_>,
) {
    call_with(srv, client, out, cmd, args, false);
}

/// [`call`]; `nested` for the commands EXEC runs, whose propagation joins
/// EXEC's (one transaction) instead of going out on its own.
fn call_with(
    srv: &mut Server,
    client: &mut ClientState,
    out: &mut Reply,
    cmd: &'static Command,
    args: Args<'_>,
    nested: bool,
) {
    let start = crate::util::clock::Stopwatch::start();
    let reply_start = out.len();
    // Each command starts with no propagation overrides; EXEC's own are
    // kept aside while one of its commands runs.
    let outer = std::mem::take(&mut srv.propagation);
    let dirty_before = srv.dirty;
    {
        let mut ctx = Ctx {
            args,
            out: &mut *out,
            client: &mut *client,
            srv: &mut *srv,
            cmd,
        };
        // A bug in one command must not take the server (and every other
        // client's data) down: the panic is logged, the partial reply
        // replaced by an error, and the server goes on.
        let run =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (cmd.handler)(&mut ctx)));
        if run.is_err() {
            ctx.out.truncate(reply_start);
            let msg = format!(
                "ERR internal error while running '{}', see the server log",
                cmd.name
            );
            super::net::log::warning(&msg[4..]);
            ctx.out.error(msg.as_bytes());
        }
    }
    let usec = start.elapsed_us();
    // Valkey reads the clock before each top-level command; we read it once
    // per event-loop round, and again after a command long enough for the
    // difference to matter (expiries seen by the next one, or by a blocked
    // client this one woke).
    if !nested && usec >= 1000 {
        srv.refresh_now();
    }
    let prop = std::mem::replace(&mut srv.propagation, outer);
    if crate::persistence::aof::is_on() {
        let failed = out.buf().get(reply_start) == Some(&b'-');
        propagate_call(srv, client, cmd, &args, dirty_before, prop, failed, nested);
    }
    // Valkey feeds MONITOR when a command first runs, blocked or not, and
    // not when a served blocked command runs again.
    let feed_monitor = !srv.monitors.is_empty()
        && cmd.flags & (flags::ADMIN | flags::SKIP_MONITOR) == 0
        && client.reblock_deadline.is_none()
        && client.id != crate::persistence::aof::load::AOF_CLIENT_ID;
    if client.blocked.is_some() {
        // Counted once, when it is finally served or times out.
        if feed_monitor {
            feed_monitors(srv, client, cmd, &args);
        }
        srv.collect_expired();
        return;
    }
    if client.id == crate::persistence::aof::load::AOF_CLIENT_ID {
        // Replaying the AOF: no statistics, slow log or MONITOR feed, as
        // in Valkey's AOF loading context.
        srv.collect_expired();
        return;
    }
    // Counted once done, as Valkey does: CLIENT INFO does not count itself.
    client.commands += 1;
    srv.collect_expired();
    srv.stats.total_commands_processed += 1;
    srv.stats.eventloop_duration_cmd_sum += usec;
    let track_latency = srv.config.latency_tracking;
    let st = srv.stats.commands.entry(cmd.name).or_default();
    st.calls += 1;
    st.usec += usec;
    if track_latency {
        // Valkey records the microsecond duration, in nanoseconds.
        st.latency
            .get_or_insert_with(Default::default)
            .record(usec as i64 * 1000);
    }
    if out.buf().get(reply_start) == Some(&b'-') {
        st.failed_calls += 1;
        let code = error_code(&out.buf()[reply_start + 1..]).to_vec();
        count_error(srv, &code);
    }
    if cmd.has(flags::READONLY) && srv.tracking.clients.contains_key(&client.id) {
        // The keys this client read may now be in its cache.
        let keys = crate::commands::introspection::command_keys(cmd, &args);
        let names: Vec<&[u8]> = keys.iter().map(|&i| args.get(i)).collect();
        super::tracking::remember_keys(srv, client.id, &names);
    }
    if matches!(cmd.name, "flushdb" | "flushall" | "swapdb")
        && out.buf().get(reply_start) != Some(&b'-')
    {
        // Valkey's signalFlushedDb: every cached key may be stale.
        super::tracking::invalidate_all(srv);
    }
    let event = if cmd.has(flags::FAST) {
        "fast-command"
    } else {
        "command"
    };
    srv.latency_add_sample_if_needed(event, usec / 1000);
    if !cmd.has(flags::SKIP_SLOWLOG) {
        slowlog_push_if_needed(srv, client, cmd, &args, usec);
    }
    if feed_monitor {
        feed_monitors(srv, client, cmd, &args);
    }
}

/// Which arguments never leave the server (MONITOR, SLOWLOG): passwords
/// of AUTH and HELLO AUTH, and sensitive CONFIG SET values — Valkey's
/// `redactClientCommandArgument` calls.
pub fn redacted_args(cmd: &Command, args: &Args<'_>) -> Vec<bool> {
    let mut red = vec![false; args.len()];
    match cmd.name {
        "auth" => red.iter_mut().skip(1).for_each(|r| *r = true),
        "migrate" => {
            for i in crate::commands::migrate::secret_positions(args) {
                red[i] = true;
            }
        }
        "hello" => {
            let mut j = 2;
            while j < args.len() {
                let more = args.len() - 1 - j;
                let opt = args.get(j);
                if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
                    red[j + 1] = true;
                    red[j + 2] = true;
                    j += 3;
                } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
                    j += 2;
                } else {
                    break;
                }
            }
        }
        "config|set" => {
            let mut j = 2;
            while j + 1 < args.len() {
                if crate::config::Config::is_sensitive(args.get(j)) {
                    red[j + 1] = true;
                }
                j += 2;
            }
        }
        _ => {}
    }
    red
}

/// Valkey's `slowlogPushEntryIfNeeded`.
fn slowlog_push_if_needed(
    srv: &mut Server,
    client: &ClientState,
    cmd: &Command,
    args: &Args<'_>,
    usec: u64,
) {
    let threshold = srv.config.slowlog_log_slower_than;
    let max_len = srv.config.slowlog_max_len as usize;
    if threshold < 0 || max_len == 0 {
        return;
    }
    if usec >= threshold as u64 {
        let red = redacted_args(cmd, args);
        let argc = args.len();
        let kept = argc.min(SLOWLOG_ENTRY_MAX_ARGC);
        let mut logged = Vec::with_capacity(kept);
        for (j, a) in args.iter().enumerate().take(kept) {
            if kept != argc && j == kept - 1 {
                logged.push(format!("... ({} more arguments)", argc - kept + 1).into_bytes());
            } else if red[j] {
                logged.push(b"(redacted)".to_vec());
            } else if a.len() > SLOWLOG_ENTRY_MAX_STRING {
                let mut s = a[..SLOWLOG_ENTRY_MAX_STRING].to_vec();
                s.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_ENTRY_MAX_STRING).as_bytes(),
                );
                logged.push(s);
            } else {
                logged.push(a.to_vec());
            }
        }
        let id = srv.slowlog.next_id;
        srv.slowlog.next_id += 1;
        srv.slowlog.entries.push_front(SlowlogEntry {
            id,
            time: srv.now.ms / 1000,
            duration_us: usec,
            args: logged,
            peer: client.addr.clone(),
            name: client.name.clone().unwrap_or_default(),
        });
    }
    srv.slowlog.entries.truncate(max_len);
}

/// Sends the command to every MONITOR client, in Valkey's format:
/// `+1700000000.123456 [0 127.0.0.1:12345] "SET" "k" "v"`.
fn feed_monitors(srv: &mut Server, client: &ClientState, cmd: &Command, args: &Args<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut line = format!(
        "+{}.{:06} [{} {}] ",
        now.as_secs(),
        now.subsec_micros(),
        client.db,
        client.addr
    )
    .into_bytes();
    let red = redacted_args(cmd, args);
    for (j, a) in args.iter().enumerate() {
        if j > 0 {
            line.push(b' ');
        }
        if red[j] {
            super::cat_repr(&mut line, b"(redacted)");
        } else {
            super::cat_repr(&mut line, a);
        }
    }
    line.extend_from_slice(b"\r\n");
    let monitors = std::mem::take(&mut srv.monitors);
    for &(id, slot) in &monitors {
        if let Some(Some(m)) = srv.clients.get_mut(slot) {
            if m.state.id == id && !m.state.killed {
                m.out.raw(&line);
                srv.pending_writes.push(slot);
            }
        }
    }
    srv.monitors = monitors;
}

/// The error code of an error line (after the `-`): its first word when a
/// space comes within the first 31 bytes, else "ERR" (Valkey's
/// `afterErrorReply`).
pub fn error_code(line: &[u8]) -> &[u8] {
    let head = &line[..line.len().min(31)];
    match head.iter().position(|&b| b == b' ') {
        Some(i) if !head[..i].contains(&b'\r') => &line[..i],
        _ => b"ERR",
    }
}

fn flag_multi_error(client: &mut ClientState) {
    if let Some(m) = &mut client.multi {
        m.aborted = true;
    }
}

pub(crate) fn count_error(srv: &mut Server, code: &[u8]) {
    srv.stats.total_error_replies += 1;
    let code = String::from_utf8_lossy(code);
    if let Some(n) = srv.stats.errors.get_mut(code.as_ref()) {
        *n += 1;
    } else if srv.stats.errors.len() < super::ERRORSTATS_LIMIT {
        srv.stats.errors.insert(code.into_owned(), 1);
    } else {
        *srv.stats
            .errors
            .entry("ERRORSTATS_OVERFLOW".to_string())
            .or_default() += 1;
    }
}

/// Forgets every WATCH of a client (EXEC, DISCARD, UNWATCH, disconnect).
pub fn unwatch_all(srv: &mut Server, client: &mut ClientState) {
    for key in client.watched.drain(..) {
        if let Some(ids) = srv.watchers.get_mut(&key) {
            ids.retain(|id| *id != client.id);
            if ids.is_empty() {
                srv.watchers.remove(&key);
            }
        }
    }
    srv.cas_dirty.remove(&client.id);
    srv.sync_expired_logging();
}

// ---- propagation ------------------------------------------------------------
//
// What a command changed reaches the AOF (and, later, replicas) as commands:
// its own arguments when it changed the dataset (`srv.dirty` grew), or what
// it asked for instead (`Ctx::propagate_as`: relative expires made absolute,
// SPOP as SREM, BLPOP as LPOP...), then the extra commands it asked for
// (`Ctx::also_propagate`). Keys that expired lazily while it ran go first,
// as DEL or UNLINK (per `lazyfree-lazy-expire`). When one execution unit
// (a command, or a whole EXEC) produces more than one command they are
// wrapped in MULTI ... EXEC so a replay applies all or nothing (Valkey's
// `propagatePendingCommands`).

/// One propagated command: the database it applies to and its arguments.
pub type Op = (usize, Vec<Vec<u8>>);

/// The command that deletes `key` where expiry or eviction removed it.
fn deletion(lazy: bool, key: &[u8]) -> Vec<Vec<u8>> {
    let name: &[u8] = if lazy { b"UNLINK" } else { b"DEL" };
    vec![name.to_vec(), key.to_vec()]
}

/// The DELs of keys that expired since the last call, oldest first.
fn take_expired_ops(srv: &mut Server) -> Vec<Op> {
    let lazy = srv.config.lazyfree_lazy_expire;
    let mut ops = Vec::new();
    for (i, db) in srv.keyspace.dbs.iter_mut().enumerate() {
        if db.has_expired_to_propagate() {
            for k in db.take_expired_to_propagate() {
                ops.push((i, deletion(lazy, &k)));
            }
        }
    }
    ops
}

/// Sends one execution unit's commands to the AOF, wrapped in MULTI/EXEC
/// when asked. The one place the propagated stream is produced.
pub fn propagate(srv: &Server, ops: &[Op], wrap: bool) {
    if ops.is_empty() || !crate::persistence::aof::is_on() {
        return;
    }
    use crate::persistence::aof::feed;
    if wrap {
        feed(srv, None, &[b"MULTI"]);
    }
    for (db, argv) in ops {
        feed(srv, Some(*db), argv);
    }
    if wrap {
        feed(srv, None, &[b"EXEC"]);
    }
}

/// Propagates the deletion of keys expired outside any command (the active
/// expiry cycle): each one on its own, never in a transaction.
pub fn propagate_expired(srv: &mut Server) {
    if !crate::persistence::aof::is_on() {
        return;
    }
    for op in take_expired_ops(srv) {
        propagate(srv, std::slice::from_ref(&op), false);
    }
}

/// Propagates the deletion of a key by eviction (or any server-side
/// removal outside a command): DEL, or UNLINK when `lazy`.
pub fn propagate_deletion(srv: &Server, db: usize, key: &[u8], lazy: bool) {
    if crate::persistence::aof::is_on() {
        propagate(srv, &[(db, deletion(lazy, key))], false);
    }
}

/// After a command: works out what it propagates and sends it, or hands it
/// to the enclosing EXEC when `nested`.
#[allow(clippy::too_many_arguments)]
fn propagate_call(
    srv: &mut Server,
    client: &ClientState,
    cmd: &'static Command,
    args: &Args<'_>,
    dirty_before: u64,
    prop: super::Propagation,
    failed: bool,
    nested: bool,
) {
    // FLUSHDB / FLUSHALL propagate even when there was nothing to delete
    // (Valkey's `forceCommandPropagation`); EXEC is represented by the
    // commands it ran.
    let forced = !failed && matches!(cmd.name, "flushdb" | "flushall");
    let own = cmd.name != "exec" && (srv.dirty > dirty_before || forced);
    let expired_pending = srv
        .keyspace
        .dbs
        .iter()
        .any(|d| d.has_expired_to_propagate());
    let db = client.db;
    // The common case, a write and nothing else: straight from the
    // arguments, no copies.
    if !nested && own && !prop.replaced && prop.also.is_empty() && !expired_pending {
        crate::persistence::aof::feed_args(srv, Some(db), args);
        return;
    }
    let mut ops = take_expired_ops(srv);
    if own {
        if prop.replaced {
            if !prop.rewritten.is_empty() {
                ops.push((db, prop.rewritten));
            }
        } else {
            ops.push((db, args.iter().map(|a| a.to_vec()).collect()));
        }
    }
    ops.extend(prop.also);
    if nested {
        srv.propagation.also.extend(ops);
    } else {
        // A command that may touch keys at random (SCAN, RANDOMKEY...)
        // deletes expired keys as it goes: those are not a transaction.
        let wrap = ops.len() > 1 && !cmd.has(flags::TOUCHES_ARBITRARY_KEYS);
        propagate(srv, &ops, wrap);
    }
}

/// Runs one command read from the AOF with the AOF's client (Valkey's
/// loader): inside MULTI it is queued, otherwise it runs with no checks
/// beyond the arity (a command that does not fit is skipped, as its error
/// reply would be) and no statistics.
pub fn run_loaded(
    srv: &mut Server,
    client: &mut ClientState,
    out: &mut Reply,
    cmd: &'static Command,
    args: &crate::resp::OwnedArgs,
) {
    let args = args.as_args();
    if !cmd.is_arity_ok(args.len()) {
        return;
    }
    if let Some(multi) = &mut client.multi {
        if cmd.name != "exec" {
            multi.queue.push((cmd, args.to_owned()));
            return;
        }
    }
    call(srv, client, out, cmd, args);
}

// ---- key lookups -----------------------------------------------------------

impl<'a> Ctx<'a> {
    /// Whether this command updates the access clock of the keys it reads:
    /// not for a client in `CLIENT NO-TOUCH ON` mode, except TOUCH itself
    /// (Valkey's `LOOKUP_NOTOUCH`).
    pub fn touches_keys(&self) -> bool {
        !self.client.no_touch || self.cmd.name == "touch"
    }

    /// Looks a key of the selected database up for a read: lazy expiry,
    /// `keyspace_hits` / `keyspace_misses`, and the record's access clock
    /// updated unless the client is in NO-TOUCH mode (Valkey's
    /// `lookupKeyRead`).
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<RefMut<'_, Record>> {
        let now = self.srv.now;
        let touch = self.touches_keys();
        let srv = &mut *self.srv;
        let db = self.client.db;
        if srv.config.notify_keyspace_events & crate::config::notify::KEY_MISS != 0
            && !srv.keyspace.dbs[db].exists(key, now)
        {
            srv.stats.keyspace_misses += 1;
            crate::commands::keys::notify_db(
                srv,
                crate::config::notify::KEY_MISS,
                "keymiss",
                key,
                db,
            );
            return None;
        }
        let found = srv.keyspace.dbs[db].get_with(key, now, touch);
        if found.is_some() {
            srv.stats.keyspace_hits += 1;
        } else {
            srv.stats.keyspace_misses += 1;
        }
        found
    }

    /// Looks a key up for a write (no hit/miss statistics), with lazy
    /// expiry and the NO-TOUCH rule of [`Ctx::lookup_read`].
    pub fn lookup_write(&mut self, key: &[u8]) -> Option<RefMut<'_, Record>> {
        let now = self.srv.now;
        let touch = self.touches_keys();
        self.srv.keyspace.dbs[self.client.db].get_with(key, now, touch)
    }
}

// ---- transactions ----------------------------------------------------------

pub fn multi(ctx: &mut Ctx<'_>) {
    if ctx.client.multi.is_some() {
        ctx.out.error(b"ERR MULTI calls can not be nested");
        return;
    }
    ctx.client.multi = Some(MultiState::default());
    ctx.out.ok();
}

pub fn discard(ctx: &mut Ctx<'_>) {
    if ctx.client.multi.take().is_none() {
        ctx.out.error(b"ERR DISCARD without MULTI");
        return;
    }
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.ok();
}

pub fn exec(ctx: &mut Ctx<'_>) {
    let Some(multi) = ctx.client.multi.take() else {
        ctx.out.error(b"ERR EXEC without MULTI");
        return;
    };
    if multi.aborted {
        unwatch_all(ctx.srv, ctx.client);
        ctx.out
            .error(b"EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    // A WATCHed key that expired since (even if not yet deleted) counts as
    // changed, as in Valkey's `isWatchedKeyExpired`.
    let now = ctx.srv.now;
    let expired = ctx
        .client
        .watched
        .iter()
        .any(|(db, key)| ctx.srv.keyspace.dbs[*db].is_stale(key, now));
    if expired || ctx.srv.cas_dirty.contains(&ctx.client.id) {
        unwatch_all(ctx.srv, ctx.client);
        ctx.out.null_array();
        return;
    }
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.array(multi.queue.len());
    let was_denying = std::mem::replace(&mut ctx.client.deny_blocking, true);
    let was_in_exec = IN_EXEC.with(|e| e.replace(true));
    for (cmd, args) in &multi.queue {
        call_with(ctx.srv, ctx.client, ctx.out, cmd, args.as_args(), true);
    }
    IN_EXEC.with(|e| e.set(was_in_exec));
    ctx.client.deny_blocking = was_denying;
}

pub fn watch(ctx: &mut Ctx<'_>) {
    if ctx.client.multi.is_some() {
        ctx.out.error(b"ERR WATCH inside MULTI is not allowed");
        return;
    }
    let db = ctx.client.db;
    let now = ctx.srv.now;
    for i in 1..ctx.argc() {
        let key = (db, ctx.arg(i).to_vec());
        if ctx.client.watched.contains(&key) {
            continue;
        }
        // A key already past its time is logically absent: delete it now
        // (invalidating watchers that saw it alive), so that its later
        // deletion is no change for this watcher — Valkey's `expired` flag.
        if let Some(old) = ctx.srv.keyspace.dbs[db].remove_if_stale(&key.1, now) {
            crate::lazyfree::drop_value(Some(old));
            ctx.srv.stats.expired_keys += 1;
            ctx.srv.key_modified(db, &key.1);
            let del: &[u8] = if ctx.srv.config.lazyfree_lazy_expire {
                b"UNLINK"
            } else {
                b"DEL"
            };
            ctx.also_propagate(&[del, &key.1]);
        }
        ctx.srv
            .watchers
            .entry(key.clone())
            .or_default()
            .push(ctx.client.id);
        ctx.client.watched.push(key);
    }
    ctx.srv.sync_expired_logging();
    ctx.out.ok();
}

pub fn unwatch(ctx: &mut Ctx<'_>) {
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::strings::tests::Harness;
    use crate::persistence::aof;
    use crate::resp::OwnedArgs;

    fn captured(h: &mut Harness, lines: &[&str]) -> Vec<String> {
        aof::capture(&mut h.srv);
        for l in lines {
            h.cmd(l);
        }
        aof::take_captured()
            .into_iter()
            .map(|c| c.join(" "))
            .collect()
    }

    #[test]
    fn writes_propagate_reads_do_not() {
        let mut h = Harness::new();
        let got = captured(
            &mut h,
            &[
                "SET a 1",
                "GET a",
                "INCR a",
                "SETNX a 5",
                "SELECT 3",
                "SET b 2",
                "DEL nokey",
            ],
        );
        assert_eq!(
            got,
            ["SELECT 0", "SET a 1", "INCR a", "SELECT 3", "SET b 2"]
        );
    }

    #[test]
    fn transactions_are_wrapped_when_they_write_more_than_once() {
        let mut h = Harness::new();
        let got = captured(
            &mut h,
            &[
                "MULTI", "SET a 1", "GET a", "SET b 2", "EXEC", // two writes
                "MULTI", "GET a", "SET c 3", "EXEC", // one write
                "MULTI", "GET a", "EXEC", // none
            ],
        );
        assert_eq!(
            got,
            ["MULTI", "SELECT 0", "SET a 1", "SET b 2", "EXEC", "SET c 3"]
        );
    }

    #[test]
    fn lazily_expired_keys_are_deleted_first() {
        let mut h = Harness::new();
        h.cmd("SET k v PX 1");
        std::thread::sleep(std::time::Duration::from_millis(5));
        // A read that expires the key: only the UNLINK (lazyfree-lazy-expire
        // is on by default); a write over it: UNLINK then the write, as one
        // transaction.
        h.cmd("SET k2 v PX 1");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let got = captured(&mut h, &["GET k", "SET k2 new"]);
        assert_eq!(
            got,
            [
                "SELECT 0",
                "UNLINK k",
                "MULTI",
                "UNLINK k2",
                "SET k2 new",
                "EXEC"
            ]
        );
        h.srv.config.lazyfree_lazy_expire = false;
        h.cmd("SET k3 v PX 1");
        std::thread::sleep(std::time::Duration::from_millis(5));
        let got = captured(&mut h, &["EXISTS k3"]);
        assert_eq!(got, ["SELECT 0", "DEL k3"]);
    }

    #[test]
    fn flushes_propagate_even_when_empty() {
        let mut h = Harness::new();
        let got = captured(&mut h, &["FLUSHDB", "FLUSHALL ASYNC", "FLUSHALL BAD"]);
        assert_eq!(got, ["SELECT 0", "FLUSHDB", "FLUSHALL ASYNC"]);
    }

    #[test]
    fn nothing_is_built_while_the_aof_is_off() {
        let mut h = Harness::new();
        h.cmd("SET a 1");
        assert!(aof::take_captured().is_empty());
        assert!(!h.srv.keyspace.dbs[0].propagate_expired);
    }

    #[test]
    fn commands_read_from_the_aof_run_without_statistics() {
        let mut h = Harness::new();
        let mut c = ClientState::new(
            aof::load::AOF_CLIENT_ID,
            String::new(),
            String::new(),
            -1,
            true,
        );
        let mut out = Reply::new(crate::resp::Protocol::Resp2);
        let set = OwnedArgs::from_slices(&[b"SET", b"k", b"v"]);
        let multi = OwnedArgs::from_slices(&[b"MULTI"]);
        let incr = OwnedArgs::from_slices(&[b"INCR", b"n"]);
        let exec = OwnedArgs::from_slices(&[b"EXEC"]);
        let bad = OwnedArgs::from_slices(&[b"GET"]);
        for a in [&set, &multi, &incr, &bad, &exec] {
            let cmd = commands::lookup(a.as_args().get(0)).unwrap();
            run_loaded(&mut h.srv, &mut c, &mut out, cmd, a);
        }
        assert_eq!(h.cmd("MGET k n"), "*2\r\n$1\r\nv\r\n$1\r\n1\r\n");
        assert_eq!(h.srv.stats.total_commands_processed, 1);
    }

    #[test]
    fn error_codes_like_valkey() {
        assert_eq!(error_code(b"ERR syntax error\r\n"), b"ERR");
        assert_eq!(error_code(b"WRONGTYPE Operation\r\n"), b"WRONGTYPE");
        assert_eq!(error_code(b"NOPROTO x\r\n"), b"NOPROTO");
        // No space within the first 32 bytes of "-...": ERR.
        assert_eq!(error_code(b"Hello\r\n"), b"ERR");
        assert_eq!(error_code(&[b'A'; 40]), b"ERR");
    }

    #[test]
    fn passwords_are_redacted() {
        let auth = OwnedArgs::from_slices(&[b"AUTH", b"user", b"pw"]);
        let cmd = commands::lookup(b"auth").unwrap();
        assert_eq!(redacted_args(cmd, &auth.as_args()), [false, true, true]);
        let hello =
            OwnedArgs::from_slices(&[b"HELLO", b"3", b"SETNAME", b"n", b"AUTH", b"u", b"p"]);
        let cmd = commands::lookup(b"hello").unwrap();
        assert_eq!(
            redacted_args(cmd, &hello.as_args()),
            [false, false, false, false, false, true, true]
        );
        let get = OwnedArgs::from_slices(&[b"GET", b"k"]);
        let cmd = commands::lookup(b"get").unwrap();
        assert_eq!(redacted_args(cmd, &get.as_args()), [false, false]);
    }
}
