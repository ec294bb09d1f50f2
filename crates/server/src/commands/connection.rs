//! Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET, and
//! the transaction commands (their logic lives with the executor).

use super::{acl, err, flags::*, Command, Ctx};
use crate::resp::Protocol;
use crate::server::exec;

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("ping", -1, FAST, acl::CONNECTION, ping)
            .tips(&["request_policy:all_shards", "response_policy:all_succeeded"])
            .doc(
                "connection",
                "1.0.0",
                "Returns the server's liveliness response.",
                "O(1)",
            ),
        Command::new("echo", 2, LOADING | STALE | FAST, acl::CONNECTION, echo).doc(
            "connection",
            "1.0.0",
            "Returns the given string.",
            "O(1)",
        ),
        Command::new(
            "quit",
            -1,
            ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
            acl::CONNECTION,
            quit,
        )
        .doc("connection", "1.0.0", "Closes the connection.", "O(1)"),
        Command::new("select", 2, LOADING | STALE | FAST, acl::CONNECTION, select).doc(
            "connection",
            "1.0.0",
            "Changes the selected database.",
            "O(1)",
        ),
        Command::new(
            "auth",
            -2,
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
            acl::CONNECTION,
            auth,
        )
        .doc(
            "connection",
            "1.0.0",
            "Authenticates the connection.",
            "O(N) where N is the number of passwords defined for the user",
        ),
        Command::new(
            "hello",
            -1,
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
            acl::CONNECTION,
            hello,
        )
        .doc("connection", "6.0.0", "Handshakes with the server.", "O(1)"),
        Command::new(
            "reset",
            1,
            NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
            acl::CONNECTION,
            reset,
        )
        .doc("connection", "6.2.0", "Resets the connection.", "O(1)"),
        Command::new(
            "multi",
            1,
            NOSCRIPT | LOADING | STALE | FAST | NO_MULTI | ALLOW_BUSY,
            acl::TRANSACTION,
            exec::multi,
        )
        .doc("transactions", "1.2.0", "Starts a transaction.", "O(1)"),
        Command::new(
            "exec",
            1,
            NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
            acl::TRANSACTION,
            exec::exec,
        )
        .doc(
            "transactions",
            "1.2.0",
            "Executes all commands in a transaction.",
            "Depends on commands in the transaction",
        ),
        Command::new(
            "discard",
            1,
            NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
            acl::TRANSACTION,
            exec::discard,
        )
        .doc(
            "transactions",
            "2.0.0",
            "Discards a transaction.",
            "O(N), when N is the number of queued commands",
        ),
        Command::new(
            "watch",
            -2,
            NOSCRIPT | LOADING | STALE | FAST | NO_MULTI | ALLOW_BUSY,
            acl::TRANSACTION,
            exec::watch,
        )
        .key_specs(&[KeySpec::at(1, RO).range(-1, 1, 0)])
        .doc(
            "transactions",
            "2.2.0",
            "Monitors changes to keys to determine the execution of a transaction.",
            "O(1) for every key.",
        ),
        Command::new(
            "unwatch",
            1,
            NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
            acl::TRANSACTION,
            exec::unwatch,
        )
        .doc(
            "transactions",
            "2.2.0",
            "Forgets about watched keys of a transaction.",
            "O(1)",
        ),
    ]
};

fn ping(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 2 {
        return ctx.wrong_arity();
    }
    // A RESP2 subscriber can only receive arrays.
    if ctx.client.is_pubsub() && ctx.out.protocol() == Protocol::Resp2 {
        ctx.out.array(2);
        ctx.out.bulk(b"pong");
        let msg = if ctx.argc() == 2 { ctx.arg(1) } else { b"" };
        ctx.out.bulk(msg);
    } else if ctx.argc() == 2 {
        let msg = ctx.arg(1);
        ctx.out.bulk(msg);
    } else {
        ctx.out.simple(b"PONG");
    }
}

fn echo(ctx: &mut Ctx<'_>) {
    let msg = ctx.arg(1);
    ctx.out.bulk(msg);
}

fn quit(ctx: &mut Ctx<'_>) {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
}

fn select(ctx: &mut Ctx<'_>) {
    let Some(n) = crate::util::num::parse_i64(ctx.arg(1)) else {
        ctx.out.error(err::NOT_INTEGER);
        return;
    };
    if n < 0 || n as usize >= ctx.srv.keyspace.dbs.len() {
        ctx.out.error(err::DB_INDEX);
        return;
    }
    ctx.client.db = n as usize;
    ctx.out.ok();
}

/// Checks a username/password pair against `requirepass` (the default user
/// is the only user until ACLs exist).
fn check_password(ctx: &Ctx<'_>, user: &[u8], pass: &[u8]) -> bool {
    user == b"default"
        && match &ctx.srv.config.requirepass {
            Some(p) => p.as_slice() == pass,
            None => true,
        }
}

fn auth(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 3 {
        ctx.out.error(err::SYNTAX);
        return;
    }
    let (user, pass) = if ctx.argc() == 2 {
        if ctx.srv.config.requirepass.is_none() {
            ctx.out.error(b"ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        (&b"default"[..], ctx.arg(1))
    } else {
        (ctx.arg(1), ctx.arg(2))
    };
    if check_password(ctx, user, pass) {
        ctx.client.authenticated = true;
        ctx.out.ok();
    } else {
        ctx.srv.stats.acl_access_denied_auth += 1;
        ctx.out
            .error(b"WRONGPASS invalid username-password pair or user is disabled.");
    }
}

fn hello(ctx: &mut Ctx<'_>) {
    let mut i = 1;
    let mut proto = None;
    if ctx.argc() >= 2 {
        let Some(v) = crate::util::num::parse_i64(ctx.arg(1)) else {
            ctx.out
                .error(b"ERR Protocol version is not an integer or out of range");
            return;
        };
        if !(2..=3).contains(&v) {
            ctx.out.error(b"NOPROTO unsupported protocol version");
            return;
        }
        proto = Some(v);
        i = 2;
    }
    // Options are all checked before authenticating, as Valkey does.
    let mut name = None;
    let mut creds = None;
    while i < ctx.argc() {
        let opt = ctx.arg(i);
        let more = ctx.argc() - i - 1;
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            creds = Some((ctx.arg(i + 1), ctx.arg(i + 2)));
            i += 3;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            let n = ctx.arg(i + 1);
            if !crate::server::client::valid_client_attr(n) {
                ctx.out.error(
                    b"ERR Client names cannot contain spaces, newlines or special characters.",
                );
                return;
            }
            name = Some(n.to_vec());
            i += 2;
        } else {
            let msg = format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            );
            ctx.out.error(msg.as_bytes());
            return;
        }
    }
    if let Some((u, p)) = creds {
        if !check_password(ctx, u, p) {
            ctx.srv.stats.acl_access_denied_auth += 1;
            ctx.out
                .error(b"WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        ctx.out.error(b"NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(n) = name {
        ctx.client.name = if n.is_empty() { None } else { Some(n) };
    }
    if let Some(p) = proto {
        ctx.out.set_protocol(if p == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        });
    }
    let resp = if ctx.out.protocol() == Protocol::Resp3 {
        3
    } else {
        2
    };
    ctx.out.map(7);
    ctx.out.bulk(b"server");
    ctx.out.bulk(b"redis");
    ctx.out.bulk(b"version");
    ctx.out.bulk(crate::REDIS_VERSION.as_bytes());
    ctx.out.bulk(b"proto");
    ctx.out.integer(resp);
    ctx.out.bulk(b"id");
    ctx.out.integer(ctx.client.id as i64);
    ctx.out.bulk(b"mode");
    ctx.out.bulk(b"standalone");
    ctx.out.bulk(b"role");
    ctx.out.bulk(b"master");
    ctx.out.bulk(b"modules");
    ctx.out.array(0);
}

fn reset(ctx: &mut Ctx<'_>) {
    if ctx.client.monitor {
        ctx.client.monitor = false;
        let id = ctx.client.id;
        ctx.srv.monitors.retain(|&(m, _)| m != id);
    }
    ctx.client.multi = None;
    exec::unwatch_all(ctx.srv, ctx.client);
    ctx.srv.pubsub.forget(ctx.client.id);
    ctx.client.sub_channels = 0;
    ctx.client.sub_patterns = 0;
    ctx.client.sub_shard_channels = 0;
    crate::server::tracking::disable(ctx.srv, ctx.client.id);
    ctx.client.readonly = false;
    ctx.client.db = 0;
    ctx.client.name = None;
    ctx.client.reply_mode = crate::server::client::ReplyMode::On;
    ctx.client.no_evict = false;
    ctx.client.no_touch = false;
    ctx.client.authenticated = ctx.srv.config.requirepass.is_none();
    ctx.out.set_protocol(Protocol::Resp2);
    ctx.out.simple(b"RESET");
}
