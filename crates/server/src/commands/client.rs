//! CLIENT: connection introspection and control (ID, INFO, LIST, KILL,
//! SETNAME, GETNAME, SETINFO, REPLY, NO-EVICT, NO-TOUCH, PAUSE, UNPAUSE,
//! and client-side caching: TRACKING, CACHING, GETREDIR, TRACKINGINFO).

use super::{acl, err, flags::*, reply_help, Command, Ctx};
use crate::server::blocking::{release, Release};
use crate::server::client::{valid_client_attr, ClientType, ReplyMode, ServerView};
use crate::util::num::parse_i64;

const CLIENT_FLAGS: u32 = NOSCRIPT | LOADING | STALE;

const fn sub(name: &'static str, arity: i32, flags: u32, handler: super::Handler) -> Command {
    Command::new(name, arity, flags, acl::CONNECTION, handler)
}

pub static COMMANDS: &[Command] = &[Command::new("client", -2, 0, 0, super::container)
    .subcommands(SUBCOMMANDS)
    .doc(
        "connection",
        "2.4.0",
        "A container for client connection commands.",
        "Depends on subcommand.",
    )];

static SUBCOMMANDS: &[Command] = &[
    sub("client|caching", 3, CLIENT_FLAGS, caching).doc(
        "connection",
        "6.0.0",
        "Instructs the server whether to track the keys in the next request.",
        "O(1)",
    ),
    sub("client|capa", -3, CLIENT_FLAGS, capa).doc(
        "connection",
        "8.0.0",
        "A client claims its capability.",
        "O(1)",
    ),
    sub("client|getname", 2, CLIENT_FLAGS, getname).doc(
        "connection",
        "2.6.9",
        "Returns the name of the connection.",
        "O(1)",
    ),
    sub("client|getredir", 2, CLIENT_FLAGS, getredir).doc(
        "connection",
        "6.0.0",
        "Returns the client ID to which the connection's tracking notifications are redirected.",
        "O(1)",
    ),
    sub("client|help", 2, LOADING | STALE, help).doc(
        "connection",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
    sub("client|id", 2, CLIENT_FLAGS, id).doc(
        "connection",
        "5.0.0",
        "Returns the unique client ID of the connection.",
        "O(1)",
    ),
    sub("client|info", 2, CLIENT_FLAGS, info)
        .tips(&["nondeterministic_output"])
        .doc(
            "connection",
            "6.2.0",
            "Returns information about the connection.",
            "O(1)",
        ),
    sub("client|kill", -3, ADMIN | CLIENT_FLAGS, kill).doc(
        "connection",
        "2.4.0",
        "Terminates open connections.",
        "O(N) where N is the number of client connections",
    ),
    sub("client|list", -2, ADMIN | CLIENT_FLAGS, list)
        .tips(&["nondeterministic_output"])
        .doc(
            "connection",
            "2.4.0",
            "Lists open connections.",
            "O(N) where N is the number of client connections",
        ),
    sub("client|no-evict", 3, ADMIN | CLIENT_FLAGS, no_evict).doc(
        "connection",
        "7.0.0",
        "Sets the client eviction mode of the connection.",
        "O(1)",
    ),
    sub("client|no-touch", 3, CLIENT_FLAGS, no_touch).doc(
        "connection",
        "7.2.0",
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        "O(1)",
    ),
    sub("client|pause", -3, ADMIN | CLIENT_FLAGS, pause).doc(
        "connection",
        "3.0.0",
        "Suspends commands processing.",
        "O(1)",
    ),
    sub("client|reply", 3, CLIENT_FLAGS, reply).doc(
        "connection",
        "3.2.0",
        "Instructs the server whether to reply to commands.",
        "O(1)",
    ),
    sub("client|setinfo", 4, CLIENT_FLAGS, setinfo)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc(
            "connection",
            "7.2.0",
            "Sets information specific to the client or connection.",
            "O(1)",
        ),
    sub("client|setname", 3, CLIENT_FLAGS, setname)
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
        .doc("connection", "2.6.9", "Sets the connection name.", "O(1)"),
    sub("client|tracking", -3, CLIENT_FLAGS, tracking).doc(
        "connection",
        "6.0.0",
        "Controls server-assisted client-side caching for the connection.",
        "O(1). Some options may introduce additional complexity.",
    ),
    sub("client|trackinginfo", 2, CLIENT_FLAGS, trackinginfo).doc(
        "connection",
        "6.2.0",
        "Returns information about server-assisted client-side caching for the connection.",
        "O(1)",
    ),
    sub("client|unblock", -3, ADMIN | CLIENT_FLAGS, unblock).doc(
        "connection",
        "5.0.0",
        "Unblocks a client blocked by a blocking command from a different connection.",
        "O(log N) where N is the number of client connections",
    ),
    sub("client|unpause", 2, ADMIN | CLIENT_FLAGS, unpause).doc(
        "connection",
        "6.2.0",
        "Resumes processing commands from paused clients.",
        "O(N) Where N is the number of paused clients",
    ),
];

/// The container itself is never called: the dispatcher picks a subcommand.
/// Valkey's `addReplySubcommandSyntaxError`, for argument counts a
/// subcommand's own arity lets through but the command refuses.
pub fn reply_subcommand_syntax_error(ctx: &mut Ctx<'_>) {
    let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
    let sub = ctx.arg(1);
    msg.extend_from_slice(&sub[..sub.len().min(128)]);
    msg.extend_from_slice(b"'. Try ");
    msg.extend_from_slice(&ctx.arg(0).to_ascii_uppercase());
    msg.extend_from_slice(b" HELP.");
    ctx.out.error(&msg);
}

fn help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "client",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "CAPA <option> [options...]",
            "    The client claims its some capability options. Options are:",
            "    * REDIRECT",
            "      The client can handle redirection during primary and replica failover in standalone mode.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|PRIMARY|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "    * ID <client-id>",
            "      Kill connections by client id.",
            "    * MAXAGE <maxage>",
            "      Kill connections older than the specified age.",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|PRIMARY|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    );
}

fn id(ctx: &mut Ctx<'_>) {
    ctx.out.integer(ctx.client.id as i64);
}

/// The CLIENT LIST line of the calling client.
fn own_line(ctx: &Ctx<'_>) -> String {
    let mut s = String::new();
    ctx.client
        .info_running(ctx.out)
        .write_line(&mut s, ServerView::of(ctx.srv, ctx.client.id));
    s
}

fn info(ctx: &mut Ctx<'_>) {
    let mut s = own_line(ctx);
    s.push('\n');
    ctx.out.verbatim(s.as_bytes(), b"txt");
}

/// CLIENT LIST lines, in connection order, of the clients `want` accepts
/// (by id and type); killed clients are gone already.
fn list_lines(ctx: &Ctx<'_>, want: impl Fn(u64, ClientType) -> bool) -> String {
    let mut lines: Vec<(u64, String)> = Vec::new();
    for c in ctx.srv.other_clients() {
        if c.state.killed || !want(c.state.id, c.state.client_type()) {
            continue;
        }
        let mut s = String::new();
        c.info()
            .write_line(&mut s, ServerView::of(ctx.srv, c.state.id));
        lines.push((c.state.id, s));
    }
    if want(ctx.client.id, ctx.client.client_type()) {
        lines.push((ctx.client.id, own_line(ctx)));
    }
    lines.sort_by_key(|(id, _)| *id);
    let mut out = String::new();
    for (_, l) in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

fn list(ctx: &mut Ctx<'_>) {
    let text = if ctx.argc() == 4 && ctx.arg(2).eq_ignore_ascii_case(b"type") {
        let Some(ty) = ClientType::from_name(ctx.arg(3)) else {
            let msg = format!(
                "ERR Unknown client type '{}'",
                String::from_utf8_lossy(ctx.arg(3))
            );
            ctx.out.error(msg.as_bytes());
            return;
        };
        list_lines(ctx, |_, t| t == ty)
    } else if ctx.argc() > 3 && ctx.arg(2).eq_ignore_ascii_case(b"id") {
        let mut ids = Vec::new();
        for i in 3..ctx.argc() {
            let Some(id) = parse_i64(ctx.arg(i)) else {
                ctx.out.error(b"ERR Invalid client ID");
                return;
            };
            ids.push(id);
        }
        // One line per requested id, in the order asked (Valkey looks each
        // up in turn), duplicates included.
        let all = list_lines(ctx, |_, _| true);
        let mut out = String::new();
        for id in ids {
            let prefix = format!("id={id} ");
            if let Some(l) = all.lines().find(|l| l.starts_with(&prefix)) {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    } else if ctx.argc() != 2 {
        ctx.out.error(err::SYNTAX);
        return;
    } else {
        list_lines(ctx, |_, _| true)
    };
    ctx.out.verbatim(text.as_bytes(), b"txt");
}

/// CLIENT KILL filters.
#[derive(Default)]
struct KillFilter<'a> {
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    ty: Option<ClientType>,
    id: Option<u64>,
    user: Option<&'a [u8]>,
    max_age: Option<u64>,
    skipme: bool,
}

impl KillFilter<'_> {
    fn matches(&self, s: &crate::server::ClientState) -> bool {
        self.addr.is_none_or(|a| a == s.addr.as_bytes())
            && self.laddr.is_none_or(|a| a == s.laddr.as_bytes())
            && self.ty.is_none_or(|t| t == s.client_type())
            && self.id.is_none_or(|id| id == s.id)
            && self.user.is_none_or(|u| u == &s.user[..])
            && self
                .max_age
                .is_none_or(|m| s.created.elapsed().as_secs() >= m)
    }
}

fn kill(ctx: &mut Ctx<'_>) {
    let old_form = ctx.argc() == 3;
    let mut f = KillFilter {
        skipme: true,
        ..Default::default()
    };
    if old_form {
        // CLIENT KILL <addr>: may kill the caller itself.
        f.addr = Some(ctx.arg(2));
        f.skipme = false;
    } else {
        let mut i = 2;
        while i < ctx.argc() {
            let opt = ctx.arg(i);
            if i + 1 >= ctx.argc() {
                ctx.out.error(err::SYNTAX);
                return;
            }
            let val = ctx.arg(i + 1);
            if opt.eq_ignore_ascii_case(b"id") {
                match parse_i64(val) {
                    Some(n) if n >= 1 => f.id = Some(n as u64),
                    _ => {
                        ctx.out.error(b"ERR client-id should be greater than 0");
                        return;
                    }
                }
            } else if opt.eq_ignore_ascii_case(b"maxage") {
                let Some(n) = parse_i64(val) else {
                    ctx.out
                        .error(b"ERR maxage is not an integer or out of range");
                    return;
                };
                if n <= 0 {
                    ctx.out.error(b"ERR maxage should be greater than 0");
                    return;
                }
                f.max_age = Some(n as u64);
            } else if opt.eq_ignore_ascii_case(b"type") {
                let Some(t) = ClientType::from_name(val) else {
                    let msg = format!("ERR Unknown client type '{}'", String::from_utf8_lossy(val));
                    ctx.out.error(msg.as_bytes());
                    return;
                };
                f.ty = Some(t);
            } else if opt.eq_ignore_ascii_case(b"addr") {
                f.addr = Some(val);
            } else if opt.eq_ignore_ascii_case(b"laddr") {
                f.laddr = Some(val);
            } else if opt.eq_ignore_ascii_case(b"user") {
                // The default user is the only user until ACLs exist.
                if val != b"default" {
                    let msg = format!("ERR No such user '{}'", String::from_utf8_lossy(val));
                    ctx.out.error(msg.as_bytes());
                    return;
                }
                f.user = Some(val);
            } else if opt.eq_ignore_ascii_case(b"skipme") {
                if val.eq_ignore_ascii_case(b"yes") {
                    f.skipme = true;
                } else if val.eq_ignore_ascii_case(b"no") {
                    f.skipme = false;
                } else {
                    ctx.out.error(err::SYNTAX);
                    return;
                }
            } else {
                ctx.out.error(err::SYNTAX);
                return;
            }
            i += 2;
        }
    }
    let mut killed = 0;
    for c in ctx.srv.clients.iter_mut().flatten() {
        if !c.state.killed && f.matches(&c.state) {
            c.state.killed = true;
            killed += 1;
        }
    }
    if killed > 0 {
        ctx.srv.kill_pending = true;
    }
    let kill_self = !f.skipme && f.matches(ctx.client);
    if kill_self {
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            ctx.out.error(b"ERR No such client");
        } else {
            ctx.out.ok();
        }
    } else {
        ctx.out.integer(killed);
    }
    // After the reply is queued, so it is still sent.
    if kill_self {
        ctx.client.close_after_reply = true;
    }
}

fn reply(ctx: &mut Ctx<'_>) {
    let mode = ctx.arg(2);
    if mode.eq_ignore_ascii_case(b"on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.out.ok();
    } else if mode.eq_ignore_ascii_case(b"off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if mode.eq_ignore_ascii_case(b"skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        ctx.out.error(err::SYNTAX);
    }
}

/// Parses ON|OFF, replying with a syntax error otherwise.
fn on_off(ctx: &mut Ctx<'_>) -> Option<bool> {
    let v = ctx.arg(2);
    if v.eq_ignore_ascii_case(b"on") {
        Some(true)
    } else if v.eq_ignore_ascii_case(b"off") {
        Some(false)
    } else {
        ctx.out.error(err::SYNTAX);
        None
    }
}

fn no_evict(ctx: &mut Ctx<'_>) {
    if let Some(on) = on_off(ctx) {
        ctx.client.no_evict = on;
        ctx.out.ok();
    }
}

fn no_touch(ctx: &mut Ctx<'_>) {
    if let Some(on) = on_off(ctx) {
        ctx.client.no_touch = on;
        ctx.out.ok();
    }
}

/// Sets the client name (empty removes it), replying with Valkey's error
/// for invalid names. Shared with HELLO SETNAME.
pub fn set_name(ctx: &mut Ctx<'_>, name: &[u8]) -> bool {
    if !valid_client_attr(name) {
        ctx.out
            .error(b"ERR Client names cannot contain spaces, newlines or special characters.");
        return false;
    }
    ctx.client.name = (!name.is_empty()).then(|| name.to_vec());
    true
}

fn setname(ctx: &mut Ctx<'_>) {
    let name = ctx.arg(2);
    if set_name(ctx, name) {
        ctx.out.ok();
    }
}

fn getname(ctx: &mut Ctx<'_>) {
    match ctx.client.name.clone() {
        Some(n) => ctx.out.bulk(&n),
        None => ctx.out.null(),
    }
}

fn setinfo(ctx: &mut Ctx<'_>) {
    let attr = ctx.arg(2);
    let val = ctx.arg(3);
    let lib_name = attr.eq_ignore_ascii_case(b"lib-name");
    if !lib_name && !attr.eq_ignore_ascii_case(b"lib-ver") {
        let msg = format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        );
        ctx.out.error(msg.as_bytes());
        return;
    }
    if !valid_client_attr(val) {
        let msg = format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        );
        ctx.out.error(msg.as_bytes());
        return;
    }
    let v = (!val.is_empty()).then(|| val.to_vec());
    if lib_name {
        ctx.client.lib_name = v;
    } else {
        ctx.client.lib_ver = v;
    }
    ctx.out.ok();
}

fn pause(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 4 {
        return reply_subcommand_syntax_error(ctx);
    }
    let mut all = true;
    if ctx.argc() == 4 {
        let mode = ctx.arg(3);
        if mode.eq_ignore_ascii_case(b"write") {
            all = false;
        } else if !mode.eq_ignore_ascii_case(b"all") {
            ctx.out.error(b"ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    let Some(ms) = parse_i64(ctx.arg(2)) else {
        ctx.out
            .error(b"ERR timeout is not an integer or out of range");
        return;
    };
    if ms < 0 {
        ctx.out.error(b"ERR timeout is negative");
        return;
    }
    let now = ctx.srv.now.ms;
    let end = if ms > 0 {
        if ms > i64::MAX - now {
            ctx.out.error(b"ERR timeout is out of range");
            return;
        }
        now + ms
    } else {
        0
    };
    ctx.srv.pause_clients(end, all);
    ctx.out.ok();
}

fn unpause(ctx: &mut Ctx<'_>) {
    ctx.srv.unpause_clients();
    ctx.out.ok();
}

/// CLIENT GETREDIR: where this client's invalidations go, 0 for itself,
/// -1 without tracking.
fn getredir(ctx: &mut Ctx<'_>) {
    let redir = ctx
        .srv
        .tracking
        .clients
        .get(&ctx.client.id)
        .map_or(-1, |t| t.redirect as i64);
    ctx.out.integer(redir);
}

fn trackinginfo(ctx: &mut Ctx<'_>) {
    let t = ctx.srv.tracking.clients.get(&ctx.client.id);
    let mut flags: Vec<&[u8]> = vec![if t.is_some() { b"on" } else { b"off" }];
    if let Some(t) = t {
        let caching = t.caching;
        let add = [
            (t.bcast, &b"bcast"[..]),
            (t.optin, b"optin"),
            (t.optin && caching, b"caching-yes"),
            (t.optout, b"optout"),
            (t.optout && caching, b"caching-no"),
            (t.noloop, b"noloop"),
            (t.broken_redirect, b"broken_redirect"),
        ];
        flags.extend(add.iter().filter(|(on, _)| *on).map(|(_, f)| *f));
    }
    let redirect = t.map_or(-1, |t| t.redirect as i64);
    let prefixes: Vec<Vec<u8>> = t.map_or(Vec::new(), |t| t.prefixes.iter().cloned().collect());
    ctx.out.map(3);
    ctx.out.bulk(b"flags");
    ctx.out.set(flags.len());
    for f in flags {
        ctx.out.bulk(f);
    }
    ctx.out.bulk(b"redirect");
    ctx.out.integer(redirect);
    ctx.out.bulk(b"prefixes");
    ctx.out.array(prefixes.len());
    for p in prefixes {
        ctx.out.bulk(&p);
    }
}

/// CLIENT TRACKING (ON|OFF) [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN]
/// [OPTOUT] [NOLOOP]: server-assisted client-side caching.
fn tracking(ctx: &mut Ctx<'_>) {
    use crate::server::tracking::{self as tr, Options};
    let mut redirect: i64 = 0;
    let mut opts = Options::default();
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < ctx.argc() {
        let more = ctx.argc() - 1 - j;
        let opt = ctx.arg(j);
        if opt.eq_ignore_ascii_case(b"redirect") && more > 0 {
            j += 1;
            if redirect != 0 {
                ctx.out
                    .error(b"ERR A client can only redirect to a single other client");
                return;
            }
            let Some(id) = ctx.arg_i64(j) else {
                return;
            };
            // The target must exist now (it may go away later).
            if !u64::try_from(id).is_ok_and(|id| ctx.srv.has_client(id)) {
                ctx.out
                    .error(b"ERR The client ID you want redirect to does not exist");
                return;
            }
            redirect = id;
        } else if opt.eq_ignore_ascii_case(b"bcast") {
            opts.bcast = true;
        } else if opt.eq_ignore_ascii_case(b"optin") {
            opts.optin = true;
        } else if opt.eq_ignore_ascii_case(b"optout") {
            opts.optout = true;
        } else if opt.eq_ignore_ascii_case(b"noloop") {
            opts.noloop = true;
        } else if opt.eq_ignore_ascii_case(b"prefix") && more > 0 {
            j += 1;
            prefixes.push(ctx.arg(j));
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
        j += 1;
    }
    let id = ctx.client.id;
    let on = ctx.arg(2);
    if on.eq_ignore_ascii_case(b"on") {
        let current = ctx.srv.tracking.clients.get(&id);
        let error: Option<String> = if !opts.bcast && !prefixes.is_empty() {
            Some("ERR PREFIX option requires BCAST mode to be enabled".into())
        } else if current.is_some_and(|t| t.bcast != opts.bcast) {
            Some(
                "ERR You can't switch BCAST mode on/off before disabling tracking for this \
                 client, and then re-enabling it with a different mode."
                    .into(),
            )
        } else if opts.bcast && (opts.optin || opts.optout) {
            Some("ERR OPTIN and OPTOUT are not compatible with BCAST".into())
        } else if opts.optin && opts.optout {
            Some("ERR You can't specify both OPTIN mode and OPTOUT mode".into())
        } else if current.is_some_and(|t| (opts.optin && t.optout) || (opts.optout && t.optin)) {
            Some(
                "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this \
                 client, and then re-enabling it with a different mode."
                    .into(),
            )
        } else if opts.bcast {
            let empty = Default::default();
            tr::prefix_collision(current.map_or(&empty, |t| &t.prefixes), &prefixes)
        } else {
            None
        };
        if let Some(e) = error {
            ctx.out.error(e.as_bytes());
            return;
        }
        tr::enable(ctx.srv, id, redirect as u64, opts, &prefixes);
    } else if on.eq_ignore_ascii_case(b"off") {
        tr::disable(ctx.srv, id);
    } else {
        ctx.out.error(err::SYNTAX);
        return;
    }
    ctx.out.ok();
}

/// CLIENT CACHING YES|NO: whether the next command's keys are tracked, in
/// OPTIN / OPTOUT mode.
fn caching(ctx: &mut Ctx<'_>) {
    let opt = ctx.arg(2);
    let Some(t) = ctx.srv.tracking.clients.get_mut(&ctx.client.id) else {
        ctx.out.error(
            b"ERR CLIENT CACHING can be called only when the client is in tracking mode with \
              OPTIN or OPTOUT mode enabled",
        );
        return;
    };
    if opt.eq_ignore_ascii_case(b"yes") {
        if !t.optin {
            ctx.out.error(
                b"ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            );
            return;
        }
    } else if opt.eq_ignore_ascii_case(b"no") {
        if !t.optout {
            ctx.out.error(
                b"ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            );
            return;
        }
    } else {
        ctx.out.error(err::SYNTAX);
        return;
    }
    t.caching = true;
    ctx.out.ok();
}

/// CAPA REDIRECT only changes replies of replicas, which Ferrokey is not:
/// every capability is accepted and has no effect.
fn capa(ctx: &mut Ctx<'_>) {
    ctx.out.ok();
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]: releases a client blocked on keys
/// (not one held by CLIENT PAUSE, which Valkey does not unblock either).
fn unblock(ctx: &mut Ctx<'_>) {
    if ctx.argc() > 4 {
        return reply_subcommand_syntax_error(ctx);
    }
    let mut how = Release::Timeout;
    if ctx.argc() == 4 {
        let why = ctx.arg(3);
        if why.eq_ignore_ascii_case(b"error") {
            how = Release::Error;
        } else if !why.eq_ignore_ascii_case(b"timeout") {
            ctx.out
                .error(b"ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    let Some(id) = ctx.arg_i64(2) else {
        return;
    };
    let srv = &mut *ctx.srv;
    let slot = srv.client_slots.get(&(id as u64)).copied();
    let target = slot.and_then(|s| srv.clients.get_mut(s)?.take());
    let Some(mut c) = target else {
        ctx.out.integer(0);
        return;
    };
    let was_blocked = c.state.blocked.is_some();
    if was_blocked {
        release(srv, &mut c, how);
    }
    if let Some(s) = slot {
        srv.clients[s] = Some(c);
        if was_blocked {
            srv.unblocked.push(s);
        }
    }
    ctx.out.integer(i64::from(was_blocked));
}
