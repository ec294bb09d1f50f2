//! Server introspection: COMMAND, INFO, CONFIG, TIME.

use super::{acl, all, err, flags, flags::*, reply_help, Command, Ctx};
use crate::alloc::{rss_bytes, used_memory};

pub static COMMANDS: &[Command] = &[
    Command::new("command", -1, LOADING | STALE, acl::CONNECTION, command)
        .subcommands(COMMAND_SUBCOMMANDS)
        .doc(
            "server",
            "2.8.13",
            "Returns detailed information about all commands.",
            "O(N) where N is the total number of commands",
        ),
    Command::new("config", -2, 0, 0, help_only)
        .subcommands(CONFIG_SUBCOMMANDS)
        .doc(
            "server",
            "2.0.0",
            "A container for server configuration commands.",
            "Depends on subcommand.",
        ),
    Command::new("info", -1, LOADING | STALE, acl::DANGEROUS, info).doc(
        "server",
        "1.0.0",
        "Returns information and statistics about the server.",
        "O(1)",
    ),
    Command::new("time", 1, LOADING | STALE | FAST, 0, time).doc(
        "server",
        "2.6.0",
        "Returns the server time.",
        "O(1)",
    ),
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
    .doc(
        "server",
        "7.0.0",
        "Returns a list of command names.",
        "O(N) where N is the total number of commands",
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
    .doc("server", "2.0.0", "Resets the server's statistics.", "O(1)"),
    Command::new(
        "config|rewrite",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        config_rewrite,
    )
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

/// Container commands answer only through their subcommands.
fn help_only(ctx: &mut Ctx<'_>) {
    ctx.out.error(err::SYNTAX);
}

/// One COMMAND INFO entry (Valkey 7+ format, 10 fields).
fn reply_command_info(ctx: &mut Ctx<'_>, c: &Command) {
    ctx.out.array(10);
    ctx.out.bulk(c.name.as_bytes());
    ctx.out.integer(c.arity as i64);
    let names: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(f, _)| c.flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    let movable = c.keys_fn.is_some();
    ctx.out.set(names.len() + usize::from(movable));
    for n in &names {
        ctx.out.simple(n.as_bytes());
    }
    if movable {
        ctx.out.simple(b"movablekeys");
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
    ctx.out.array(0); // tips
    ctx.out.array(0); // key specs
    ctx.out.array(c.subcommands.len());
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
            None => ctx.out.null_array(),
        }
    }
}

/// A command or "container|sub" subcommand by name.
fn find_command(name: &[u8]) -> Option<&'static Command> {
    let s = std::str::from_utf8(name).ok()?;
    match s.split_once('|') {
        Some((parent, sub)) => super::lookup(parent.as_bytes())?.subcommand(sub.as_bytes()),
        None => super::lookup(name),
    }
}

fn command_list(ctx: &mut Ctx<'_>) {
    if ctx.argc() != 2 {
        ctx.out.error(err::SYNTAX);
        return;
    }
    let names: Vec<&str> = all().map(|c| c.name).collect();
    ctx.out.array(names.len());
    for n in names {
        ctx.out.bulk(n.as_bytes());
    }
}

fn command_getkeys(ctx: &mut Ctx<'_>) {
    let sub = ctx.args.skip(2);
    let Some(c) = super::lookup(sub.get(0)) else {
        ctx.out.error(b"ERR Invalid command specified");
        return;
    };
    if !c.is_arity_ok(sub.len()) {
        ctx.out
            .error(b"ERR Invalid number of arguments specified for command");
        return;
    }
    let keys = c.key_positions(&sub);
    if keys.is_empty() {
        ctx.out.error(b"ERR The command has no key arguments");
        return;
    }
    ctx.out.array(keys.len());
    for k in keys {
        ctx.out.bulk(sub.get(k));
    }
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
            "GETKEYS <full-command>",
            "    Return the keys from a full command.",
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
    if ctx.argc() % 2 != 0 {
        return ctx.wrong_arity();
    }
    let pairs: Vec<(&[u8], &[u8])> = (2..ctx.argc())
        .step_by(2)
        .map(|i| (ctx.arg(i), ctx.arg(i + 1)))
        .collect();
    match ctx.srv.config.set(&pairs) {
        Ok(_) => ctx.out.ok(),
        Err(e) => ctx.out.error(e.as_bytes()),
    }
}

fn config_resetstat(ctx: &mut Ctx<'_>) {
    ctx.srv.stats = Default::default();
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

fn info(ctx: &mut Ctx<'_>) {
    let wanted: Vec<String> = (1..ctx.argc())
        .map(|i| String::from_utf8_lossy(ctx.arg(i)).to_ascii_lowercase())
        .collect();
    let all_sections = wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "all" || w == "everything" || w == "default");
    let want = |s: &str| all_sections || wanted.iter().any(|w| w == s);
    let srv = &*ctx.srv;
    let mut out = String::new();
    let mut section = |name: &str, body: String| {
        if want(&name.to_ascii_lowercase()) {
            if !out.is_empty() {
                out.push_str("\r\n");
            }
            out.push_str(&format!("# {name}\r\n{body}"));
        }
    };
    let clients = srv.other_clients().count() + 1;
    section(
        "Server",
        format!(
            "redis_version:{}\r\nserver_name:ferrokey\r\nferrokey_version:{}\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmultiplexing_api:epoll\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nexecutable:{}\r\nconfig_file:{}\r\n",
            crate::REDIS_VERSION,
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::process::id(),
            srv.config.port,
            srv.uptime_secs(),
            srv.uptime_secs() / 86400,
            srv.config.hz,
            std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
            srv.config.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        ),
    );
    section(
        "Clients",
        format!(
            "connected_clients:{clients}\r\nblocked_clients:0\r\nmaxclients:{}\r\n",
            srv.config.maxclients
        ),
    );
    let used = used_memory();
    section(
        "Memory",
        format!(
            "used_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\nmaxmemory:{}\r\nmaxmemory_policy:{}\r\nmem_allocator:mimalloc\r\n",
            human_bytes(used),
            rss_bytes(),
            srv.config.maxmemory,
            srv.config.maxmemory_policy.name(),
        ),
    );
    section(
        "Persistence",
        format!(
            "loading:0\r\nrdb_changes_since_last_save:{}\r\nrdb_last_save_time:{}\r\n",
            srv.dirty, srv.lastsave_unix
        ),
    );
    let st = &srv.stats;
    section(
        "Stats",
        format!(
            "total_connections_received:{}\r\ntotal_commands_processed:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\nexpired_keys:{}\r\nevicted_keys:{}\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\ntotal_error_replies:{}\r\n",
            st.total_connections_received,
            st.total_commands_processed,
            st.total_net_input_bytes,
            st.total_net_output_bytes,
            st.rejected_connections,
            st.expired_keys,
            st.evicted_keys,
            st.keyspace_hits,
            st.keyspace_misses,
            st.total_error_replies,
        ),
    );
    section(
        "Replication",
        "role:master\r\nconnected_slaves:0\r\n".to_string(),
    );
    let mut ks = String::new();
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if !db.is_empty() {
            ks.push_str(&format!(
                "db{i}:keys={},expires={},avg_ttl=0\r\n",
                db.len(),
                db.expires()
            ));
        }
    }
    section("Keyspace", ks);
    ctx.out.verbatim(out.as_bytes(), b"txt");
}

fn human_bytes(n: usize) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{n}B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}
