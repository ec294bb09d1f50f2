//! Running one command: lookup, arity, authentication, MULTI queueing, the
//! call itself and its statistics. The event loop, EXEC and scripts all come
//! through here.

use super::client::{MultiState, ReplyMode};
use super::{ClientState, Server};
use crate::commands::{self, err, flags, Command, Ctx};
use crate::resp::{Args, Reply};
use std::time::Instant;

/// Commands that run at once inside MULTI instead of being queued.
fn runs_inside_multi(cmd: &Command) -> bool {
    matches!(
        cmd.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Runs one request from a client.
pub fn execute(srv: &mut Server, client: &mut ClientState, out: &mut Reply, args: Args<'_>) {
    let Some(mut cmd) = commands::lookup(args.get(0)) else {
        flag_multi_error(client);
        commands::reply_unknown_command(out, &args);
        count_error(srv, b"ERR");
        return;
    };
    if !cmd.is_arity_ok(args.len()) {
        flag_multi_error(client);
        commands::reply_arity_error(out, cmd.name);
        count_rejected(srv, cmd, b"ERR");
        return;
    }
    if !cmd.subcommands.is_empty() {
        let Some(sub) = cmd.subcommand(args.get(1)) else {
            flag_multi_error(client);
            commands::reply_unknown_subcommand(out, cmd.name, args.get(1));
            count_rejected(srv, cmd, b"ERR");
            return;
        };
        cmd = sub;
        if !cmd.is_arity_ok(args.len()) {
            flag_multi_error(client);
            commands::reply_arity_error(out, cmd.name);
            count_rejected(srv, cmd, b"ERR");
            return;
        }
    }
    if !client.authenticated && !cmd.has(flags::NO_AUTH) {
        flag_multi_error(client);
        out.error(err::NOAUTH);
        count_rejected(srv, cmd, b"NOAUTH");
        return;
    }
    if let Some(multi) = &mut client.multi {
        if !runs_inside_multi(cmd) {
            if cmd.has(flags::NO_MULTI) {
                multi.aborted = true;
                out.error(b"ERR Command not allowed inside a transaction");
                return;
            }
            multi.queue.push((cmd, args.to_owned()));
            out.simple(b"QUEUED");
            return;
        }
    }
    if srv.config.maxmemory > 0
        && cmd.has(flags::DENYOOM)
        && crate::alloc::used_memory() as u64 > srv.config.maxmemory
        && !super::evict::free_memory_if_needed(srv)
    {
        out.error(err::OOM);
        count_rejected(srv, cmd, b"OOM");
        return;
    }
    call(srv, client, out, cmd, args);
}

/// Calls a command whose checks have passed, and accounts for it.
pub fn call(
    srv: &mut Server,
    client: &mut ClientState,
    out: &mut Reply,
    cmd: &'static Command,
    args: Args<'_>,
) {
    let start = Instant::now();
    let reply_start = out.len();
    client.last_cmd = cmd.name;
    {
        let mut ctx = Ctx {
            args,
            out: &mut *out,
            client: &mut *client,
            srv: &mut *srv,
            cmd,
        };
        (cmd.handler)(&mut ctx);
    }
    let usec = start.elapsed().as_micros() as u64;
    srv.stats.total_commands_processed += 1;
    let st = srv.stats.commands.entry(cmd.name).or_default();
    st.calls += 1;
    st.usec += usec;
    if out.buf().get(reply_start) == Some(&b'-') {
        st.failed_calls += 1;
        let code: Vec<u8> = out.buf()[reply_start + 1..]
            .iter()
            .take_while(|b| !b" \r".contains(b))
            .copied()
            .collect();
        count_error(srv, &code);
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
}

fn flag_multi_error(client: &mut ClientState) {
    if let Some(m) = &mut client.multi {
        m.aborted = true;
    }
}

fn count_rejected(srv: &mut Server, cmd: &'static Command, code: &[u8]) {
    srv.stats
        .commands
        .entry(cmd.name)
        .or_default()
        .rejected_calls += 1;
    count_error(srv, code);
}

fn count_error(srv: &mut Server, code: &[u8]) {
    srv.stats.total_error_replies += 1;
    let code = String::from_utf8_lossy(code).into_owned();
    *srv.stats.errors.entry(code).or_default() += 1;
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
    if ctx.srv.cas_dirty.contains(&ctx.client.id) {
        unwatch_all(ctx.srv, ctx.client);
        ctx.out.null_array();
        return;
    }
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.array(multi.queue.len());
    for (cmd, args) in &multi.queue {
        call(ctx.srv, ctx.client, ctx.out, cmd, args.as_args());
    }
}

pub fn watch(ctx: &mut Ctx<'_>) {
    if ctx.client.multi.is_some() {
        ctx.out.error(b"ERR WATCH inside MULTI is not allowed");
        return;
    }
    let db = ctx.client.db;
    for i in 1..ctx.argc() {
        let key = (db, ctx.arg(i).to_vec());
        if ctx.client.watched.contains(&key) {
            continue;
        }
        ctx.srv
            .watchers
            .entry(key.clone())
            .or_default()
            .push(ctx.client.id);
        ctx.client.watched.push(key);
    }
    ctx.out.ok();
}

pub fn unwatch(ctx: &mut Ctx<'_>) {
    unwatch_all(ctx.srv, ctx.client);
    ctx.out.ok();
}
