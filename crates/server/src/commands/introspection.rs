//! Server introspection: COMMAND, INFO, CONFIG, TIME.

use super::keyspec::{self, BeginSearch, FindKeys, KeyRef};
use super::{acl, all, err, flags, flags::*, reply_help, Command, Ctx};
use crate::resp::{Args, Reply};

pub static COMMANDS: &[Command] = &[
    Command::new("command", -1, LOADING | STALE, acl::CONNECTION, command)
        .tips(&["nondeterministic_output_order"])
        .subcommands(COMMAND_SUBCOMMANDS)
        .doc(
            "server",
            "2.8.13",
            "Returns detailed information about all commands.",
            "O(N) where N is the total number of commands",
        ),
    Command::new("config", -2, 0, 0, super::container)
        .subcommands(CONFIG_SUBCOMMANDS)
        .doc(
            "server",
            "2.0.0",
            "A container for server configuration commands.",
            "Depends on subcommand.",
        ),
    Command::new("info", -1, LOADING | STALE, acl::DANGEROUS, info)
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ])
        .doc(
            "server",
            "1.0.0",
            "Returns information and statistics about the server.",
            "O(1)",
        ),
    Command::new("time", 1, LOADING | STALE | FAST, 0, time)
        .tips(&["nondeterministic_output"])
        .doc("server", "2.6.0", "Returns the server time.", "O(1)"),
];

static COMMAND_SUBCOMMANDS: &[Command] = &[
    Command::new(
        "command|count",
        2,
        LOADING | STALE,
        acl::CONNECTION,
        command_count,
    )
    .doc("server", "2.8.13", "Returns a count of commands.", "O(1)"),
    Command::new(
        "command|info",
        -2,
        LOADING | STALE,
        acl::CONNECTION,
        command_info,
    )
    .tips(&["nondeterministic_output_order"])
    .doc(
        "server",
        "2.8.13",
        "Returns information about one, multiple or all commands.",
        "O(N) where N is the number of commands to look up",
    ),
    Command::new(
        "command|list",
        -2,
        LOADING | STALE,
        acl::CONNECTION,
        command_list,
    )
    .tips(&["nondeterministic_output_order"])
    .doc(
        "server",
        "7.0.0",
        "Returns a list of command names.",
        "O(N) where N is the total number of commands",
    ),
    Command::new(
        "command|docs",
        -2,
        LOADING | STALE,
        acl::CONNECTION,
        command_docs,
    )
    .tips(&["nondeterministic_output_order"])
    .doc(
        "server",
        "7.0.0",
        "Returns documentary information about one, multiple or all commands.",
        "O(N) where N is the number of commands to look up",
    ),
    Command::new(
        "command|getkeys",
        -3,
        LOADING | STALE,
        acl::CONNECTION,
        command_getkeys,
    )
    .doc(
        "server",
        "2.8.13",
        "Extracts the key names from an arbitrary command.",
        "O(N) where N is the number of arguments to the command",
    ),
    Command::new(
        "command|getkeysandflags",
        -3,
        LOADING | STALE,
        acl::CONNECTION,
        command_getkeysandflags,
    )
    .doc(
        "server",
        "7.0.0",
        "Extracts the key names and access flags for an arbitrary command.",
        "O(N) where N is the number of arguments to the command",
    ),
    Command::new(
        "command|help",
        2,
        LOADING | STALE,
        acl::CONNECTION,
        command_help,
    )
    .doc(
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
];

static CONFIG_SUBCOMMANDS: &[Command] = &[
    Command::new(
        "config|get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        config_get,
    )
    .doc(
        "server",
        "2.0.0",
        "Returns the effective values of configuration parameters.",
        "O(N) when N is the number of configuration parameters provided",
    ),
    Command::new(
        "config|set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        config_set,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .doc(
        "server",
        "2.0.0",
        "Sets configuration parameters in-flight.",
        "O(N) when N is the number of configuration parameters provided",
    ),
    Command::new(
        "config|resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        config_resetstat,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .doc("server", "2.0.0", "Resets the server's statistics.", "O(1)"),
    Command::new(
        "config|rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        config_rewrite,
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
    .doc(
        "server",
        "2.8.0",
        "Persists the effective configuration to file.",
        "O(1)",
    ),
    Command::new("config|help", 2, LOADING | STALE, 0, config_help).doc(
        "server",
        "5.0.0",
        "Returns helpful text about the different subcommands.",
        "O(1)",
    ),
];

/// One COMMAND INFO entry (Valkey 7+ format, 10 fields).
fn reply_command_info(ctx: &mut Ctx<'_>, c: &Command) {
    ctx.out.array(10);
    ctx.out.bulk(c.name.as_bytes());
    ctx.out.integer(c.arity as i64);
    // Valkey hides may_replicate.
    let mut names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| c.flags & f != 0 && *f != MAY_REPLICATE)
        .map(|(_, n)| *n)
        .collect();
    if c.movable_keys {
        // Valkey lists it between no_multi and allow_busy (the last of
        // `flags::NAMES`).
        let at = names.len() - usize::from(c.has(ALLOW_BUSY));
        names.insert(at, "movablekeys");
    }
    ctx.out.set(names.len());
    for n in &names {
        ctx.out.simple(n.as_bytes());
    }
    ctx.out.integer(c.first_key as i64);
    ctx.out.integer(c.last_key as i64);
    ctx.out.integer(c.key_step as i64);
    let cats = c.acl_categories();
    let cat_names: Vec<&str> = acl::NAMES
        .iter()
        .filter(|(f, _)| cats & f != 0)
        .map(|(_, n)| *n)
        .collect();
    ctx.out.set(cat_names.len());
    for n in cat_names {
        ctx.out.simple(format!("@{n}").as_bytes());
    }
    ctx.out.set(c.tips.len());
    for t in c.tips {
        ctx.out.bulk(t.as_bytes());
    }
    reply_key_specs(ctx.out, c);
    // Valkey's quirk: no subcommands is an empty set, some an array.
    if c.subcommands.is_empty() {
        ctx.out.set(0);
    } else {
        ctx.out.array(c.subcommands.len());
    }
    for s in c.subcommands {
        reply_command_info(ctx, s);
    }
}

fn command(ctx: &mut Ctx<'_>) {
    let cmds: Vec<&Command> = all().collect();
    ctx.out.array(cmds.len());
    for c in cmds {
        reply_command_info(ctx, c);
    }
}

fn command_count(ctx: &mut Ctx<'_>) {
    ctx.out.integer(all().count() as i64);
}

fn command_info(ctx: &mut Ctx<'_>) {
    if ctx.argc() == 2 {
        return command(ctx);
    }
    ctx.out.array(ctx.argc() - 2);
    for i in 2..ctx.argc() {
        let name = ctx.arg(i);
        match find_command(name) {
            Some(c) => reply_command_info(ctx, c),
            None => ctx.out.null(),
        }
    }
}

/// The key arguments of a command call, from the command table.
pub fn command_keys(c: &Command, args: &Args<'_>) -> Vec<usize> {
    c.key_positions(args)
}

/// A command or "container|sub" subcommand by name.
fn find_command(name: &[u8]) -> Option<&'static Command> {
    let s = std::str::from_utf8(name).ok()?;
    match s.split_once('|') {
        Some((parent, sub)) => super::lookup(parent.as_bytes())?.subcommand(sub.as_bytes()),
        None => super::lookup(name),
    }
}

/// The command's key specs, as Valkey's `addReplyCommandKeySpecs` writes
/// them.
fn reply_key_specs(out: &mut Reply, c: &Command) {
    out.set(c.key_specs.len());
    for spec in c.key_specs {
        out.map(3 + usize::from(spec.notes.is_some()));
        if let Some(notes) = spec.notes {
            out.bulk(b"notes");
            out.bulk(notes.as_bytes());
        }
        out.bulk(b"flags");
        reply_key_flags(out, spec.flags);
        out.bulk(b"begin_search");
        out.map(2);
        out.bulk(b"type");
        match spec.begin_search {
            BeginSearch::Index(index) => {
                out.bulk(b"index");
                out.bulk(b"spec");
                out.map(1);
                out.bulk(b"index");
                out.integer(index.into());
            }
            BeginSearch::Keyword { keyword, startfrom } => {
                out.bulk(b"keyword");
                out.bulk(b"spec");
                out.map(2);
                out.bulk(b"keyword");
                out.bulk(keyword.as_bytes());
                out.bulk(b"startfrom");
                out.integer(startfrom.into());
            }
            BeginSearch::Unknown => {
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
            }
        }
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        let fields: [(&[u8], i32); 3] = match spec.find_keys {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                out.bulk(b"range");
                [
                    (b"lastkey", lastkey),
                    (b"keystep", keystep),
                    (b"limit", limit),
                ]
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                out.bulk(b"keynum");
                [
                    (b"keynumidx", keynumidx),
                    (b"firstkey", firstkey),
                    (b"keystep", keystep),
                ]
            }
            FindKeys::Unknown => {
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
                continue;
            }
        };
        out.bulk(b"spec");
        out.map(fields.len());
        for (name, value) in fields {
            out.bulk(name);
            out.integer(value.into());
        }
    }
}

/// Key flags by name, in Valkey's order.
fn reply_key_flags(out: &mut Reply, flags: u32) {
    let names = keyspec::NAMES.iter().filter(|(f, _)| flags & f != 0);
    out.set(names.clone().count());
    for (_, name) in names {
        out.simple(name.as_bytes());
    }
}

/// One COMMAND DOCS entry (Valkey's `addReplyCommandDocs`): summary,
/// since, group, complexity, doc flags, deprecation, history, arguments and
/// the subcommands' entries.
fn reply_command_docs(ctx: &mut Ctx<'_>, c: &Command) {
    let docs = super::docs::of(c.name).unwrap_or(&super::docs::Docs::NONE);
    let out = &mut *ctx.out;
    let fields = 1
        + usize::from(!c.summary.is_empty())
        + usize::from(!c.since.is_empty())
        + usize::from(!c.complexity.is_empty())
        + usize::from(docs.doc_flags != 0)
        + usize::from(docs.deprecated_since.is_some())
        + usize::from(docs.replaced_by.is_some())
        + usize::from(!docs.history.is_empty())
        + usize::from(!docs.args.is_empty())
        + usize::from(!c.subcommands.is_empty());
    out.map(fields);
    if !c.summary.is_empty() {
        out.bulk(b"summary");
        out.bulk(c.summary.as_bytes());
    }
    if !c.since.is_empty() {
        out.bulk(b"since");
        out.bulk(c.since.as_bytes());
    }
    out.bulk(b"group");
    out.bulk(c.group.as_bytes());
    if !c.complexity.is_empty() {
        out.bulk(b"complexity");
        out.bulk(c.complexity.as_bytes());
    }
    if docs.doc_flags != 0 {
        out.bulk(b"doc_flags");
        reply_flag_set(out, docs.doc_flags, super::docs::DOC_FLAG_NAMES);
    }
    if let Some(v) = docs.deprecated_since {
        out.bulk(b"deprecated_since");
        out.bulk(v.as_bytes());
    }
    if let Some(v) = docs.replaced_by {
        out.bulk(b"replaced_by");
        out.bulk(v.as_bytes());
    }
    if !docs.history.is_empty() {
        out.bulk(b"history");
        out.set(docs.history.len());
        for (version, change) in docs.history {
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(change.as_bytes());
        }
    }
    if !docs.args.is_empty() {
        out.bulk(b"arguments");
        reply_doc_args(out, docs.args);
    }
    if !c.subcommands.is_empty() {
        ctx.out.bulk(b"subcommands");
        ctx.out.map(c.subcommands.len());
        for s in c.subcommands {
            ctx.out.bulk(s.name.as_bytes());
            reply_command_docs(ctx, s);
        }
    }
}

/// The flags in `flags` by name, as a set of status replies.
fn reply_flag_set(out: &mut Reply, flags: u8, names: &[(u8, &str)]) {
    let set = names.iter().filter(|(f, _)| flags & f != 0);
    out.set(set.clone().count());
    for (_, name) in set {
        out.simple(name.as_bytes());
    }
}

/// An argument list of COMMAND DOCS (Valkey's `addReplyCommandArgList`).
fn reply_doc_args(out: &mut Reply, args: &[super::docs::Arg]) {
    out.array(args.len());
    for a in args {
        let group = a.kind.is_group();
        // name and type, then a display text or the sub-arguments.
        let fields = 3
            + usize::from(a.key_spec.is_some())
            + usize::from(a.token.is_some())
            + usize::from(a.summary.is_some())
            + usize::from(a.since.is_some())
            + usize::from(a.deprecated_since.is_some())
            + usize::from(a.flags != 0);
        out.map(fields);
        out.bulk(b"name");
        out.bulk(a.name.as_bytes());
        out.bulk(b"type");
        out.bulk(a.kind.name().as_bytes());
        if !group {
            out.bulk(b"display_text");
            out.bulk(a.display.unwrap_or(a.name).as_bytes());
        }
        if let Some(i) = a.key_spec {
            out.bulk(b"key_spec_index");
            out.integer(i64::from(i));
        }
        for (field, value) in [
            (&b"token"[..], a.token),
            (b"summary", a.summary),
            (b"since", a.since),
            (b"deprecated_since", a.deprecated_since),
        ] {
            if let Some(v) = value {
                out.bulk(field);
                out.bulk(v.as_bytes());
            }
        }
        if a.flags != 0 {
            out.bulk(b"flags");
            reply_flag_set(out, a.flags, super::docs::ARG_FLAG_NAMES);
        }
        if group {
            out.bulk(b"arguments");
            reply_doc_args(out, a.args);
        }
    }
}

fn command_docs(ctx: &mut Ctx<'_>) {
    let cmds: Vec<&'static Command> = if ctx.argc() == 2 {
        all().collect()
    } else {
        (2..ctx.argc())
            .filter_map(|i| find_command(ctx.arg(i)))
            .collect()
    };
    ctx.out.map(cmds.len());
    for c in cmds {
        ctx.out.bulk(c.name.as_bytes());
        reply_command_docs(ctx, c);
    }
}

/// COMMAND LIST [FILTERBY (MODULE <name>|ACLCAT <cat>|PATTERN <pattern>)]:
/// every command and subcommand by full name.
fn command_list(ctx: &mut Ctx<'_>) {
    enum Filter<'a> {
        None,
        Module,
        AclCat(u32),
        Pattern(&'a [u8]),
    }
    let mut filter = Filter::None;
    let mut i = 2;
    while i < ctx.argc() {
        let more = ctx.argc() - 1 - i;
        if ctx.arg(i).eq_ignore_ascii_case(b"filterby") && more == 2 {
            let ty = ctx.arg(i + 1);
            let arg = ctx.arg(i + 2);
            filter = if ty.eq_ignore_ascii_case(b"module") {
                // No modules: no command belongs to one.
                Filter::Module
            } else if ty.eq_ignore_ascii_case(b"aclcat") {
                Filter::AclCat(
                    acl::NAMES
                        .iter()
                        .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(arg))
                        .map_or(0, |(f, _)| *f),
                )
            } else if ty.eq_ignore_ascii_case(b"pattern") {
                Filter::Pattern(arg)
            } else {
                ctx.out.error(err::SYNTAX);
                return;
            };
            i += 3;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
    }
    let keep = |c: &Command| match filter {
        Filter::None => true,
        Filter::Module => false,
        Filter::AclCat(cat) => cat != 0 && c.acl_categories() & cat != 0,
        Filter::Pattern(p) => crate::util::glob::glob_match(p, c.name.as_bytes(), true),
    };
    let mut names: Vec<&str> = Vec::new();
    for c in all() {
        if keep(c) {
            names.push(c.name);
        }
        names.extend(c.subcommands.iter().filter(|s| keep(s)).map(|s| s.name));
    }
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
}

fn command_getkeys(ctx: &mut Ctx<'_>) {
    getkeys(ctx, false);
}

fn command_getkeysandflags(ctx: &mut Ctx<'_>) {
    getkeys(ctx, true);
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS <command> <arg>... (Valkey's
/// `getKeysSubcommandImpl`): the keys, each with its flags if asked.
fn getkeys(ctx: &mut Ctx<'_>, with_flags: bool) {
    let call = ctx.args.skip(2);
    // A container's subcommand is looked up only when one is given.
    let mut found = super::lookup(call.get(0));
    if let Some(c) = found.filter(|c| !c.subcommands.is_empty() && call.len() >= 2) {
        found = c.subcommand(call.get(1));
    }
    let Some(c) = found else {
        ctx.out.error(b"ERR Invalid command specified");
        return;
    };
    if !c.has_keys() {
        ctx.out.error(b"ERR The command has no key arguments");
        return;
    }
    if !c.is_arity_ok(call.len()) {
        ctx.out
            .error(b"ERR Invalid number of arguments specified for command");
        return;
    }
    let keys = c.keys_with_flags(&call);
    if keys.is_empty() {
        if c.has(NO_MANDATORY_KEYS) {
            ctx.out.array(0);
        } else {
            ctx.out
                .error(b"ERR Invalid arguments specified for command");
        }
        return;
    }
    ctx.out.array(keys.len());
    for k in keys {
        if with_flags {
            ctx.out.array(2);
            ctx.out.bulk(call.get(k.pos));
            reply_key_flags(ctx.out, k.flags);
        } else {
            ctx.out.bulk(call.get(k.pos));
        }
    }
}

/// SET's key finder (Valkey's `setGetKeys`): with a GET option anywhere
/// after the value the key is read too.
pub fn set_keys(args: &Args<'_>) -> Vec<KeyRef> {
    let get = (3..args.len()).any(|i| super::strings::is_kw(args.get(i), "get"));
    let flags = if get {
        keyspec::RW | keyspec::ACCESS | keyspec::UPDATE
    } else {
        keyspec::OW | keyspec::UPDATE
    };
    vec![KeyRef { pos: 1, flags }]
}

/// BITFIELD's key finder (Valkey's `bitfieldGetKeys`): read only while
/// every operation is a complete GET (or OVERFLOW); the first SET, INCRBY or
/// malformed operation makes it a write.
pub fn bitfield_keys(args: &Args<'_>) -> Vec<KeyRef> {
    let mut readonly = true;
    let mut i = 2;
    while i < args.len() {
        let rest = args.len() - i - 1;
        let a = args.get(i);
        let is = |kw| super::strings::is_kw(a, kw);
        if is("get") && rest >= 2 {
            i += 2;
        } else if (is("set") || is("incrby")) && rest >= 3 {
            readonly = false;
            break;
        } else if is("overflow") && rest >= 1 {
            i += 1;
        } else {
            readonly = false;
            break;
        }
        i += 1;
    }
    let flags = if readonly {
        keyspec::RO | keyspec::ACCESS
    } else {
        keyspec::RW | keyspec::ACCESS | keyspec::UPDATE
    };
    vec![KeyRef { pos: 1, flags }]
}

fn command_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "command",
        &[
            "(no subcommand)",
            "    Return details about all commands.",
            "COUNT",
            "    Return the total number of commands in this server.",
            "LIST",
            "    Return a list of all commands in this server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full command.",
        ],
    );
}

fn config_get(ctx: &mut Ctx<'_>) {
    let patterns: Vec<&[u8]> = (2..ctx.argc()).map(|i| ctx.arg(i)).collect();
    let pairs = ctx.srv.config.get(&patterns);
    ctx.out.map(pairs.len());
    for (k, v) in pairs {
        ctx.out.bulk(k.as_bytes());
        ctx.out.bulk(v.as_bytes());
    }
}

fn config_set(ctx: &mut Ctx<'_>) {
    if !ctx.argc().is_multiple_of(2) {
        return ctx.wrong_arity();
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..ctx.argc())
        .step_by(2)
        .map(|i| (ctx.arg(i), ctx.arg(i + 1)))
        .collect();
    let before = ctx.srv.config.clone();
    match ctx.srv.config.set(&pairs) {
        Ok(changed) => {
            if let Err(e) = apply_config_changes(ctx.srv, &changed) {
                // All or nothing, as Valkey: the other values go back too.
                ctx.srv.config = before;
                let _ = apply_config_changes(ctx.srv, &changed);
                ctx.out.error(e.as_bytes());
                return;
            }
            ctx.srv.sync_expired_logging();
            ctx.out.ok()
        }
        Err(e) => ctx.out.error(e.as_bytes()),
    }
}

/// The side effects of changed parameters that can fail (Valkey's "apply"
/// functions): new listening sockets for `port` / `bind`. The error is the
/// CONFIG SET reply naming the first parameter whose apply failed.
fn apply_config_changes(srv: &mut crate::server::Server, changed: &[&str]) -> Result<(), String> {
    // appendonly: start (a rewrite makes the first base) or stop the AOF.
    if changed.contains(&"appendonly") {
        let in_exec = crate::server::exec::in_exec();
        crate::persistence::aof::apply_appendonly(srv, in_exec).map_err(|msg| {
            format!("ERR CONFIG SET failed (possibly related to argument 'appendonly') - {msg}")
        })?;
    }
    let Some(&name) = changed.iter().find(|n| matches!(**n, "port" | "bind")) else {
        return Ok(());
    };
    if crate::server::net::rebind_listeners(srv).is_ok() {
        return Ok(());
    }
    let msg = if name == "port" {
        "Unable to listen on this port. Check server logs."
    } else {
        "Failed to bind to specified addresses."
    };
    Err(format!(
        "ERR CONFIG SET failed (possibly related to argument '{name}') - {msg}"
    ))
}

fn config_resetstat(ctx: &mut Ctx<'_>) {
    ctx.srv.stats = Default::default();
    crate::lazyfree::reset_stats();
    ctx.out.ok();
}

fn config_rewrite(ctx: &mut Ctx<'_>) {
    match ctx.srv.config.rewrite() {
        Ok(()) => ctx.out.ok(),
        Err(e) => ctx.out.error(e.as_bytes()),
    }
}

fn config_help(ctx: &mut Ctx<'_>) {
    reply_help(
        ctx.out,
        "config",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
            "REWRITE",
            "    Rewrite the configuration file.",
        ],
    );
}

fn time(ctx: &mut Ctx<'_>) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    ctx.out.array(2);
    ctx.out.bulk_i64(now.as_secs() as i64);
    ctx.out.bulk_i64(now.subsec_micros() as i64);
}

/// INFO's sections in output order, with the names that select them.
const INFO_SECTIONS: &[(&str, &[&str])] = &[
    ("Server", &["server"]),
    ("Clients", &["clients"]),
    ("Memory", &["memory"]),
    ("Persistence", &["persistence"]),
    ("Stats", &["stats"]),
    ("Replication", &["replication"]),
    ("CPU", &["cpu"]),
    ("Modules", &["module_list", "modules"]),
    ("Commandstats", &["commandstats"]),
    ("Errorstats", &["errorstats"]),
    ("Latencystats", &["latencystats"]),
    ("Cluster", &["cluster"]),
    ("Keyspace", &["keyspace"]),
];

/// What `INFO` and `INFO default` show.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "module_list",
    "errorstats",
    "cluster",
    "keyspace",
];

/// Which sections an INFO call asks for: (names, all). `all` and
/// `everything` select every section (there are no module sections);
/// `debug` is only shown when named.
pub fn info_sections(args: &[&[u8]]) -> (Vec<String>, bool) {
    if args.is_empty() {
        return (
            DEFAULT_SECTIONS.iter().map(|s| s.to_string()).collect(),
            false,
        );
    }
    let mut names = Vec::new();
    let mut all = false;
    for a in args {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        match a.as_str() {
            "default" => names.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            "all" | "everything" => all = true,
            _ => names.push(a),
        }
    }
    (names, all)
}

fn info(ctx: &mut Ctx<'_>) {
    let args: Vec<&[u8]> = (1..ctx.argc()).map(|i| ctx.arg(i)).collect();
    let (names, all) = info_sections(&args);
    let text = gen_info(ctx, &names, all);
    ctx.out.verbatim(text.as_bytes(), b"txt");
}

/// The INFO text for the chosen sections, in Valkey's format.
pub fn gen_info(ctx: &Ctx<'_>, names: &[String], all: bool) -> String {
    let wanted = |keys: &[&str]| all || keys.iter().any(|k| names.iter().any(|n| n == k));
    let mut out = String::new();
    for (title, keys) in INFO_SECTIONS {
        if !wanted(keys) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        out.push_str("# ");
        out.push_str(title);
        out.push_str("\r\n");
        let body = match *title {
            "Server" => info_server(ctx),
            "Clients" => info_clients(ctx),
            "Memory" => info_memory(ctx),
            "Persistence" => info_persistence(ctx),
            "Stats" => info_stats(ctx),
            "Replication" => info_replication(ctx),
            "CPU" => info_cpu(),
            "Commandstats" => info_commandstats(ctx),
            "Errorstats" => info_errorstats(ctx),
            "Latencystats" => info_latencystats(ctx),
            "Cluster" => format!(
                "cluster_enabled:{}\r\n",
                u8::from(ctx.srv.config.cluster_enabled)
            ),
            "Keyspace" => info_keyspace(ctx),
            // No modules; per-command latency histograms are not kept.
            _ => String::new(),
        };
        out.push_str(&body);
    }
    if names.iter().any(|n| n == "debug") {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        out.push_str(
            "# Debug\r\neventloop_duration_aof_sum:0\r\neventloop_duration_cron_sum:0\r\n\
             eventloop_duration_max:0\r\neventloop_cmd_per_cycle_max:0\r\n",
        );
    }
    out
}

/// Appends `name:value\r\n` lines.
macro_rules! fields {
    ($out:expr, $($name:literal => $val:expr),* $(,)?) => {{
        use std::fmt::Write as _;
        $( let _ = write!($out, concat!($name, ":{}\r\n"), $val); )*
    }};
}

/// INFO replaces `#`, `:` and line breaks in free text with `_`.
fn info_safe(s: &str) -> String {
    s.chars()
        .map(|c| if "#:\r\n".contains(c) { '_' } else { c })
        .collect()
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn info_server(ctx: &Ctx<'_>) -> String {
    let srv = &*ctx.srv;
    let cfg = &srv.config;
    let mut s = String::new();
    let uptime = srv.uptime_secs();
    let os = format!(
        "{} {} {}",
        match read_trimmed("/proc/sys/kernel/ostype") {
            t if t.is_empty() => std::env::consts::OS.to_string(),
            t => t,
        },
        read_trimmed("/proc/sys/kernel/osrelease"),
        std::env::consts::ARCH
    );
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    fields!(s,
        "redis_version" => crate::REDIS_VERSION,
        "server_name" => "ferrokey",
        "ferrokey_version" => env!("CARGO_PKG_VERSION"),
        "redis_git_sha1" => "00000000",
        "redis_git_dirty" => 0,
        "redis_build_id" => "0",
    );
    let mode_key = if cfg.extended_redis_compatibility {
        "redis_mode"
    } else {
        "server_mode"
    };
    s.push_str(&format!(
        "{mode_key}:{}\r\n",
        if cfg.cluster_enabled {
            "cluster"
        } else {
            "standalone"
        }
    ));
    fields!(s,
        "os" => os,
        "arch_bits" => usize::BITS,
        "monotonic_clock" => "POSIX clock_gettime",
        "multiplexing_api" => "epoll",
        "gcc_version" => "0.0.0",
        "process_id" => std::process::id(),
        "process_supervised" => "no",
        "run_id" => srv.run_id,
        "tcp_port" => cfg.port,
        "server_time_usec" => now_us,
        "uptime_in_seconds" => uptime,
        "uptime_in_days" => uptime / 86400,
        "hz" => cfg.hz,
        "configured_hz" => cfg.hz,
        "lru_clock" => srv.now.clock,
        "executable" => std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
        "config_file" => cfg.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        "io_threads_active" => 0,
        "availability_zone" => cfg.availability_zone,
    );
    s.push_str("listener0:name=tcp");
    for b in &cfg.bind {
        s.push_str(",bind=");
        s.push_str(b);
    }
    s.push_str(&format!(",port={}\r\n", cfg.port));
    s
}

/// Per-client numbers for INFO clients, the running client included.
struct ClientTotals {
    connected: usize,
    blocked: usize,
    pubsub: usize,
    watching: usize,
    max_in: usize,
    max_out: usize,
}

fn client_totals(ctx: &Ctx<'_>) -> ClientTotals {
    let me = ctx.client.info_running(ctx.out);
    let mut t = ClientTotals {
        connected: 0,
        blocked: 0,
        pubsub: 0,
        watching: 0,
        max_in: 0,
        max_out: 0,
    };
    let others = ctx
        .srv
        .other_clients()
        .filter(|c| !c.state.killed)
        .map(|c| c.info());
    for i in std::iter::once(me).chain(others) {
        t.connected += 1;
        t.blocked += usize::from(i.state.postponed || i.state.blocked.is_some());
        t.pubsub += usize::from(i.state.is_pubsub());
        t.watching += usize::from(!i.state.watched.is_empty());
        t.max_in = t.max_in.max(i.qbuf + i.qbuf_free);
        t.max_out = t.max_out.max(i.pending_out);
    }
    t
}

fn info_clients(ctx: &Ctx<'_>) -> String {
    let t = client_totals(ctx);
    let mut s = String::new();
    fields!(s,
        "connected_clients" => t.connected,
        "cluster_connections" => 0,
        "maxclients" => ctx.srv.config.maxclients,
        "client_recent_max_input_buffer" => t.max_in,
        "client_recent_max_output_buffer" => t.max_out,
        "blocked_clients" => t.blocked,
        "tracking_clients" => ctx.srv.tracking.clients.len(),
        "pubsub_clients" => t.pubsub,
        "watching_clients" => t.watching,
        "clients_in_timeout_table" => ctx.srv.block_deadlines.len(),
        "total_watched_keys" => ctx.srv.watchers.len(),
        "total_blocking_keys" => ctx.srv.keyspace.dbs.iter().map(|d| d.blocking.clients.len()).sum::<usize>(),
        "total_blocking_keys_on_nokey" => crate::server::blocking::keys_on_nokey(ctx.srv),
    );
    s
}

/// Valkey's `bytesToHuman`: `1023B`, `1.00K`, `12.50M`...
pub fn human_bytes(n: u64) -> String {
    let d = n as f64;
    match n {
        0..=1023 => format!("{n}B"),
        _ if n < 1 << 20 => format!("{:.2}K", d / (1u64 << 10) as f64),
        _ if n < 1 << 30 => format!("{:.2}M", d / (1u64 << 20) as f64),
        _ if n < 1 << 40 => format!("{:.2}G", d / (1u64 << 30) as f64),
        _ if n < 1 << 50 => format!("{:.2}T", d / (1u64 << 40) as f64),
        _ if n < 1 << 60 => format!("{:.2}P", d / (1u64 << 50) as f64),
        _ => format!("{n}B"),
    }
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn info_memory(ctx: &Ctx<'_>) -> String {
    let running = ctx.client.info_running(ctx.out).total_memory();
    let m = super::server::MemoryOverhead::compute(ctx.srv, running);
    let cfg = &ctx.srv.config;
    let sysmem = total_system_memory();
    let frag = m.frag_ratio();
    let mut s = String::new();
    fields!(s,
        "used_memory" => m.used,
        "used_memory_human" => human_bytes(m.used as u64),
        "used_memory_rss" => m.rss,
        "used_memory_rss_human" => human_bytes(m.rss as u64),
        "used_memory_peak" => m.peak,
        "used_memory_peak_human" => human_bytes(m.peak as u64),
        "used_memory_peak_perc" => format!("{:.2}%", m.peak_perc),
        "used_memory_overhead" => m.total,
        "used_memory_startup" => m.startup,
        "used_memory_dataset" => m.dataset,
        "used_memory_dataset_perc" => format!("{:.2}%", m.dataset_perc),
        "allocator_allocated" => m.used,
        "allocator_active" => m.used,
        "allocator_resident" => m.rss,
        "allocator_muzzy" => 0,
        "total_system_memory" => sysmem,
        "total_system_memory_human" => human_bytes(sysmem),
        "used_memory_lua" => 0,
        "used_memory_vm_eval" => 0,
        "used_memory_lua_human" => "0B",
        "used_memory_scripts_eval" => 0,
        "number_of_cached_scripts" => 0,
        "number_of_functions" => 0,
        "number_of_libraries" => 0,
        "used_memory_vm_functions" => 0,
        "used_memory_vm_total" => 0,
        "used_memory_vm_total_human" => "0B",
        "used_memory_functions" => 0,
        "used_memory_scripts" => 0,
        "used_memory_scripts_human" => "0B",
        "maxmemory" => cfg.maxmemory,
        "maxmemory_human" => human_bytes(cfg.maxmemory),
        "maxmemory_policy" => cfg.maxmemory_policy.name(),
        "allocator_frag_ratio" => "1.00",
        "allocator_frag_bytes" => 0,
        "allocator_rss_ratio" => format!("{frag:.2}"),
        "allocator_rss_bytes" => m.frag_bytes(),
        "rss_overhead_ratio" => "1.00",
        "rss_overhead_bytes" => 0,
        "mem_fragmentation_ratio" => format!("{frag:.2}"),
        "mem_fragmentation_bytes" => m.frag_bytes(),
        "mem_not_counted_for_evict" => 0,
        "mem_replication_backlog" => 0,
        "mem_total_replication_buffers" => 0,
        "mem_clients_slaves" => 0,
        "mem_clients_normal" => m.clients_normal,
        "mem_cluster_links" => 0,
        "mem_aof_buffer" => crate::persistence::aof::buffer_memory(),
        "mem_allocator" => "mimalloc",
        "mem_overhead_db_hashtable_rehashing" => 0,
        "active_defrag_running" => 0,
        "lazyfree_pending_objects" => crate::lazyfree::pending_objects(),
        "lazyfreed_objects" => crate::lazyfree::freed_objects(),
    );
    s
}

/// INFO persistence: Valkey's fields in Valkey's order.
fn info_persistence(ctx: &Ctx<'_>) -> String {
    let srv = &*ctx.srv;
    let aof = crate::persistence::aof::info(srv);
    let mut s = String::new();
    fields!(s,
        "loading" => 0,
        "async_loading" => 0,
        "current_cow_peak" => 0,
        "current_cow_size" => 0,
        "current_cow_size_age" => 0,
        "current_fork_perc" => "0.00",
        "current_save_keys_processed" => 0,
        "current_save_keys_total" => 0,
        "rdb_changes_since_last_save" => srv.dirty,
        "rdb_bgsave_in_progress" => crate::persistence::bgsave_in_progress(srv) as u8,
        "rdb_last_save_time" => srv.lastsave_unix,
        "rdb_last_bgsave_status" => if srv.persist.last_bgsave_ok { "ok" } else { "err" },
        "rdb_last_bgsave_time_sec" => srv.persist.last_bgsave_secs,
        "rdb_current_bgsave_time_sec" => crate::persistence::current_bgsave_secs(srv),
        "rdb_saves" => srv.persist.rdb_saves,
        "rdb_last_cow_size" => srv.persist.rdb_last_cow_size,
        "rdb_last_load_keys_expired" => srv.persist.last_load_keys_expired,
        "rdb_last_load_keys_loaded" => srv.persist.last_load_keys_loaded,
        "aof_enabled" => aof.enabled as u8,
        "aof_rewrite_in_progress" => aof.rewrite_in_progress as u8,
        "aof_rewrite_scheduled" => aof.rewrite_scheduled as u8,
        "aof_last_rewrite_time_sec" => aof.last_rewrite_time_sec,
        "aof_current_rewrite_time_sec" => aof.current_rewrite_time_sec,
        "aof_last_bgrewrite_status" => if aof.last_bgrewrite_ok { "ok" } else { "err" },
        "aof_rewrites" => aof.rewrites,
        "aof_rewrites_consecutive_failures" => aof.rewrites_consecutive_failures,
        "aof_last_write_status" => if aof.last_write_ok { "ok" } else { "err" },
        "aof_last_cow_size" => srv.persist.aof_last_cow_size,
        "module_fork_in_progress" => 0,
        "module_fork_last_cow_size" => 0,
    );
    // With `appendonly yes` (the setting, as Valkey tests it), the AOF's
    // sizes and buffers follow.
    if srv.config.appendonly {
        fields!(s,
            "aof_current_size" => aof.current_size,
            "aof_base_size" => aof.base_size,
            "aof_pending_rewrite" => aof.rewrite_scheduled as u8,
            "aof_buffer_length" => aof.buffer_length,
            "aof_pending_bio_fsync" => aof.pending_bio_fsync,
            "aof_delayed_fsync" => aof.delayed_fsync,
        );
    }
    s
}

fn info_stats(ctx: &Ctx<'_>) -> String {
    let srv = &*ctx.srv;
    let st = &srv.stats;
    let m = &srv.metrics;
    let kbps = |v: u64| format!("{:.2}", v as f32 / 1024.0);
    let mut s = String::new();
    fields!(s,
        "total_connections_received" => st.total_connections_received,
        "total_commands_processed" => st.total_commands_processed,
        "instantaneous_ops_per_sec" => m.ops.get(),
        "total_net_input_bytes" => st.total_net_input_bytes,
        "total_net_output_bytes" => st.total_net_output_bytes,
        "total_net_repl_input_bytes" => 0,
        "total_net_repl_output_bytes" => 0,
        "instantaneous_input_kbps" => kbps(m.net_input.get()),
        "instantaneous_output_kbps" => kbps(m.net_output.get()),
        "instantaneous_input_repl_kbps" => "0.00",
        "instantaneous_output_repl_kbps" => "0.00",
        "rejected_connections" => st.rejected_connections,
        "sync_full" => 0,
        "sync_partial_ok" => 0,
        "sync_partial_err" => 0,
        "expired_keys" => st.expired_keys,
        "expired_stale_perc" => "0.00",
        "expired_time_cap_reached_count" => 0,
        "expire_cycle_cpu_milliseconds" => 0,
        "evicted_keys" => st.evicted_keys,
        "evicted_clients" => 0,
        "evicted_scripts" => 0,
        "total_eviction_exceeded_time" => 0,
        "current_eviction_exceeded_time" => 0,
        "keyspace_hits" => st.keyspace_hits,
        "keyspace_misses" => st.keyspace_misses,
        "pubsub_channels" => ctx.srv.pubsub.channels.len(),
        "pubsub_patterns" => ctx.srv.pubsub.patterns.len(),
        "pubsubshard_channels" => ctx.srv.pubsub.shard_channels.len(),
        "latest_fork_usec" => ctx.srv.persist.latest_fork_usec,
        "total_forks" => ctx.srv.persist.total_forks,
        "migrate_cached_sockets" => ctx.srv.migrate_sockets.len(),
        "slave_expires_tracked_keys" => 0,
        "active_defrag_hits" => 0,
        "active_defrag_misses" => 0,
        "active_defrag_key_hits" => 0,
        "active_defrag_key_misses" => 0,
        "total_active_defrag_time" => 0,
        "current_active_defrag_time" => 0,
        "tracking_total_keys" => srv.tracking.total_keys(),
        "tracking_total_items" => srv.tracking.total_items(),
        "tracking_total_prefixes" => srv.tracking.total_prefixes(),
        "unexpected_error_replies" => st.unexpected_error_replies,
        "total_error_replies" => st.total_error_replies,
        "dump_payload_sanitizations" => 0,
        "total_reads_processed" => st.total_reads_processed,
        "total_writes_processed" => st.total_writes_processed,
        "io_threaded_reads_processed" => 0,
        "io_threaded_writes_processed" => 0,
        "io_threaded_freed_objects" => 0,
        "io_threaded_poll_processed" => 0,
        "io_threaded_total_prefetch_batches" => 0,
        "io_threaded_total_prefetch_entries" => 0,
        "client_query_buffer_limit_disconnections" => st.client_query_buffer_limit_disconnections,
        "client_output_buffer_limit_disconnections" => st.client_output_buffer_limit_disconnections,
        "reply_buffer_shrinks" => 0,
        "reply_buffer_expands" => 0,
        "eventloop_cycles" => st.eventloop_cycles,
        "eventloop_duration_sum" => st.eventloop_duration_sum,
        "eventloop_duration_cmd_sum" => st.eventloop_duration_cmd_sum,
        "instantaneous_eventloop_cycles_per_sec" => m.el_cycles.get(),
        "instantaneous_eventloop_duration_usec" => {
            let cycles = m.el_cycles.get();
            m.el_duration.get().checked_div(cycles).unwrap_or(0)
        },
        "acl_access_denied_auth" => st.acl_access_denied_auth,
        "acl_access_denied_cmd" => 0,
        "acl_access_denied_key" => 0,
        "acl_access_denied_channel" => 0,
    );
    s
}

fn info_replication(ctx: &Ctx<'_>) -> String {
    let srv = &*ctx.srv;
    let mut s = String::new();
    fields!(s,
        "role" => "master",
        "connected_slaves" => 0,
        "replicas_waiting_psync" => 0,
        "master_failover_state" => "no-failover",
        "master_replid" => srv.replid,
        "master_replid2" => srv.replid2,
        "master_repl_offset" => 0,
        "second_repl_offset" => -1,
        "repl_backlog_active" => 0,
        "repl_backlog_size" => srv.config.repl_backlog_size,
        "repl_backlog_first_byte_offset" => 0,
        "repl_backlog_histlen" => 0,
    );
    s
}

/// CPU seconds from a `/proc/.../stat` line: (user, system, children
/// user, children system), in clock ticks of 10 ms.
fn proc_cpu_ticks(path: &str) -> [u64; 4] {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // Fields 14-17 (utime, stime, cutime, cstime); `after` starts at 3.
    let get = |i: usize| f.get(i - 3).copied().unwrap_or(0);
    [get(14), get(15), get(16), get(17)]
}

fn info_cpu() -> String {
    let secs = |ticks: u64| format!("{}.{:06}", ticks / 100, (ticks % 100) * 10_000);
    let p = proc_cpu_ticks("/proc/self/stat");
    let main = proc_cpu_ticks(&format!("/proc/self/task/{}/stat", std::process::id()));
    let mut s = String::new();
    fields!(s,
        "used_cpu_sys" => secs(p[1]),
        "used_cpu_user" => secs(p[0]),
        "used_cpu_sys_children" => secs(p[3]),
        "used_cpu_user_children" => secs(p[2]),
        "used_cpu_sys_main_thread" => secs(main[1]),
        "used_cpu_user_main_thread" => secs(main[0]),
    );
    s
}

fn info_commandstats(ctx: &Ctx<'_>) -> String {
    let mut cmds: Vec<(&&str, &crate::server::CommandStats)> = ctx
        .srv
        .stats
        .commands
        .iter()
        .filter(|(_, c)| c.calls > 0 || c.failed_calls > 0 || c.rejected_calls > 0)
        .collect();
    cmds.sort_by_key(|(name, _)| **name);
    let mut s = String::new();
    for (name, c) in cmds {
        // Valkey divides in single precision.
        let per_call = if c.calls == 0 {
            0.0
        } else {
            c.usec as f32 / c.calls as f32
        };
        s.push_str(&format!(
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            info_safe(name),
            c.calls,
            c.usec,
            per_call,
            c.rejected_calls,
            c.failed_calls
        ));
    }
    s
}

fn info_errorstats(ctx: &Ctx<'_>) -> String {
    let mut errs: Vec<(&String, &u64)> = ctx.srv.stats.errors.iter().collect();
    errs.sort();
    let mut s = String::new();
    for (code, n) in errs {
        s.push_str(&format!("errorstat_{}:count={n}\r\n", info_safe(code)));
    }
    s
}

fn info_keyspace(ctx: &Ctx<'_>) -> String {
    let mut s = String::new();
    for (i, db) in ctx.srv.keyspace.dbs.iter().enumerate() {
        if !db.is_empty() || db.expires() > 0 {
            s.push_str(&format!(
                "db{i}:keys={},expires={},avg_ttl=0\r\n",
                db.len(),
                db.expires()
            ));
        }
    }
    s
}

fn info_latencystats(ctx: &Ctx<'_>) -> String {
    let mut s = String::new();
    // Kept histograms are not shown while tracking is off.
    if !ctx.srv.config.latency_tracking {
        return s;
    }
    let percentiles = &ctx.srv.config.latency_tracking_info_percentiles;
    for c in all().flat_map(|c| std::iter::once(c).chain(c.subcommands.iter())) {
        let Some(h) = ctx
            .srv
            .stats
            .commands
            .get(c.name)
            .and_then(|st| st.latency.as_deref())
        else {
            continue;
        };
        s.push_str("latency_percentiles_usec_");
        s.push_str(&info_safe(c.name));
        s.push(':');
        for (j, &p) in percentiles.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            let v = h.value_at_percentile(p) as f64 / 1000.0;
            s.push_str(&format!("p{}={v:.3}", trim_percentile(p)));
        }
        s.push_str("\r\n");
    }
    s
}

/// A percentile as Valkey names it: `%f` with trailing zeros (and a
/// trailing dot) removed, so 50 -> "50", 99.9 -> "99.9".
fn trim_percentile(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_like_valkey() {
        assert_eq!(human_bytes(0), "0B");
        assert_eq!(human_bytes(1023), "1023B");
        assert_eq!(human_bytes(1024), "1.00K");
        assert_eq!(human_bytes(1536), "1.50K");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.00M");
        assert_eq!(human_bytes(5 << 30), "5.00G");
        assert_eq!(human_bytes(2 << 40), "2.00T");
        assert_eq!(human_bytes(2 << 50), "2.00P");
    }

    #[test]
    fn section_selection() {
        let (n, all) = info_sections(&[]);
        assert!(!all);
        assert!(n.contains(&"keyspace".to_string()));
        assert!(!n.contains(&"commandstats".to_string()));
        let (n, all) = info_sections(&[b"CommandStats", b"CPU"]);
        assert!(!all);
        assert_eq!(n, ["commandstats", "cpu"]);
        let (_, all) = info_sections(&[b"everything"]);
        assert!(all);
        let (n, _) = info_sections(&[b"default", b"commandstats"]);
        assert!(n.contains(&"server".to_string()) && n.contains(&"commandstats".to_string()));
    }

    #[test]
    fn info_safe_replaces_separators() {
        assert_eq!(info_safe("a:b#c\r\nd"), "a_b_c__d");
    }
}
