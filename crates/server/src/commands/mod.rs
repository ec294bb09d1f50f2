//! The command table and dispatch.
//!
//! Every command is one [`Command`] entry in one of the family modules'
//! `COMMANDS` slices, and [`TABLE`] lists those slices: that is the only list
//! of commands. It drives lookup, arity errors, authentication and MULTI
//! rules, `COMMAND` / `COMMAND INFO|DOCS|COUNT|LIST|GETKEYS`, and key
//! extraction.

pub mod aof;
pub mod bitops;
pub mod client;
pub mod connection;
pub mod dump;
pub mod geo;
pub mod hashes;
pub mod hll;
pub mod introspection;
pub mod keys;
pub mod lists;
pub mod migrate;
pub mod object;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod typed;
pub mod zsets;

use crate::keyspace::{Db, Now};
use crate::resp::{Args, Reply};
use crate::server::{ClientState, Server};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Command flags, named as `COMMAND INFO` prints them.
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const ALLOW_BUSY: u32 = 1 << 15;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 16;
    pub const TOUCHES_ARBITRARY_KEYS: u32 = 1 << 17;
    pub const NO_ASYNC_LOADING: u32 = 1 << 18;

    /// In the order Valkey's COMMAND INFO lists them.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// ACL categories. Valkey derives @read, @write, @admin, @dangerous, @fast,
/// @slow, @pubsub and @blocking from the flags; the table lists the rest.
pub mod acl {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;

    pub const NAMES: &[(u32, &str)] = &[
        (KEYSPACE, "keyspace"),
        (READ, "read"),
        (WRITE, "write"),
        (SET, "set"),
        (SORTEDSET, "sortedset"),
        (LIST, "list"),
        (HASH, "hash"),
        (STRING, "string"),
        (BITMAP, "bitmap"),
        (HYPERLOGLOG, "hyperloglog"),
        (GEO, "geo"),
        (STREAM, "stream"),
        (PUBSUB, "pubsub"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (SLOW, "slow"),
        (BLOCKING, "blocking"),
        (DANGEROUS, "dangerous"),
        (CONNECTION, "connection"),
        (TRANSACTION, "transaction"),
        (SCRIPTING, "scripting"),
    ];
}

pub type Handler = fn(&mut Ctx<'_>);

/// Extracts key positions for commands whose keys are not a fixed range
/// (e.g. `numkeys` arguments). Returns argument indexes.
pub type KeysFn = fn(&Args<'_>) -> Vec<usize>;

/// One command (or subcommand) of the table.
pub struct Command {
    /// Lower case, as COMMAND reports it (subcommands: "config|get").
    pub name: &'static str,
    /// Exact argument count including the name if positive, minimum if negative.
    pub arity: i32,
    pub flags: u32,
    /// Data-type categories; the flag-derived ones are added by [`Command::acl_categories`].
    pub acl: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    pub keys_fn: Option<KeysFn>,
    pub handler: Handler,
    pub subcommands: &'static [Command],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
}

impl Command {
    /// A command with no keys; refine with the `const fn` builders.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        acl: u32,
        handler: Handler,
    ) -> Command {
        Command {
            name,
            arity,
            flags,
            acl,
            first_key: 0,
            last_key: 0,
            key_step: 0,
            keys_fn: None,
            handler,
            subcommands: &[],
            group: "generic",
            since: "1.0.0",
            summary: "",
            complexity: "",
        }
    }

    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Command {
        self.first_key = first;
        self.last_key = last;
        self.key_step = step;
        self
    }

    pub const fn keys_fn(mut self, f: KeysFn) -> Command {
        self.keys_fn = Some(f);
        self
    }

    pub const fn subcommands(mut self, subs: &'static [Command]) -> Command {
        self.subcommands = subs;
        self
    }

    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
        complexity: &'static str,
    ) -> Command {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self.complexity = complexity;
        self
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// All ACL categories, with the ones Valkey derives from flags.
    pub fn acl_categories(&self) -> u32 {
        let mut c = self.acl;
        if self.has(flags::WRITE) {
            c |= acl::WRITE;
        }
        if self.has(flags::READONLY) && c & acl::SCRIPTING == 0 {
            c |= acl::READ;
        }
        if self.has(flags::ADMIN) {
            c |= acl::ADMIN | acl::DANGEROUS;
        }
        if self.has(flags::PUBSUB) {
            c |= acl::PUBSUB;
        }
        if self.has(flags::FAST) {
            c |= acl::FAST;
        }
        if self.has(flags::BLOCKING) {
            c |= acl::BLOCKING;
        }
        if c & acl::FAST == 0 {
            c |= acl::SLOW;
        }
        c
    }

    /// The argument indexes that are keys.
    pub fn key_positions(&self, args: &Args<'_>) -> Vec<usize> {
        if let Some(f) = self.keys_fn {
            return f(args);
        }
        if self.first_key <= 0 {
            return Vec::new();
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let step = self.key_step.max(1);
        (self.first_key..=last.min(argc - 1))
            .step_by(step as usize)
            .map(|i| i as usize)
            .collect()
    }

    pub fn is_arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    /// The subcommand named by `name`, case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static Command> {
        self.subcommands.iter().find(|s| {
            let short = s.name.rsplit('|').next().unwrap_or(s.name);
            short.as_bytes().eq_ignore_ascii_case(name)
        })
    }
}

/// The command table: each family's commands.
pub static TABLE: &[&[Command]] = &[
    connection::COMMANDS,
    strings::COMMANDS,
    bitops::COMMANDS,
    keys::COMMANDS,
    dump::COMMANDS,
    migrate::COMMANDS,
    lists::COMMANDS,
    hashes::COMMANDS,
    sets::COMMANDS,
    zsets::COMMANDS,
    sort::COMMANDS,
    pubsub::COMMANDS,
    streams::COMMANDS,
    hll::COMMANDS,
    geo::COMMANDS,
    object::COMMANDS,
    introspection::COMMANDS,
    client::COMMANDS,
    server::COMMANDS,
    aof::COMMANDS,
];

/// Every top-level command.
pub fn all() -> impl Iterator<Item = &'static Command> {
    TABLE.iter().flat_map(|family| family.iter())
}

/// Name -> command. Looked up once per request, so it uses the fast
/// process-seeded hash rather than std's SipHash.
type Index = HashMap<&'static str, &'static Command, ferrokey_table::DefaultHashBuilder>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| all().map(|c| (c.name, c)).collect())
}

/// Finds a top-level command by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index().get(std::str::from_utf8(lower).ok()?).copied()
}

/// Finds a command by its full name, "get" or "config|get" (Valkey's
/// `lookupCommandBySds`): case-insensitive, at most one `|`.
pub fn lookup_fullname(name: &[u8]) -> Option<&'static Command> {
    match name.iter().position(|&b| b == b'|') {
        Some(i) => {
            let (parent, sub) = (&name[..i], &name[i + 1..]);
            if sub.contains(&b'|') {
                return None;
            }
            lookup(parent)?.subcommand(sub)
        }
        None => lookup(name),
    }
}

/// Standard error replies, byte for byte Valkey's.
pub mod err {
    pub const WRONGTYPE: &[u8] =
        b"WRONGTYPE Operation against a key holding the wrong kind of value";
    pub const SYNTAX: &[u8] = b"ERR syntax error";
    pub const NOT_INTEGER: &[u8] = b"ERR value is not an integer or out of range";
    pub const NOT_FLOAT: &[u8] = b"ERR value is not a valid float";
    pub const OVERFLOW: &[u8] = b"ERR increment or decrement would overflow";
    pub const NOAUTH: &[u8] = b"NOAUTH Authentication required.";
    pub const OOM: &[u8] = b"OOM command not allowed when used memory > 'maxmemory'.";
    pub const NO_SUCH_KEY: &[u8] = b"ERR no such key";
    pub const DB_INDEX: &[u8] = b"ERR DB index is out of range";
    pub const INVALID_EXPIRE: &[u8] = b"ERR invalid expire time in 'set' command";
}

/// What a handler works with: its arguments, its reply buffer, its client's
/// state and the server (keyspace, config, stats).
pub struct Ctx<'a> {
    pub args: Args<'a>,
    pub out: &'a mut Reply,
    pub client: &'a mut ClientState,
    pub srv: &'a mut Server,
    pub cmd: &'static Command,
}

impl<'a> Ctx<'a> {
    #[inline]
    pub fn arg(&self, i: usize) -> &'a [u8] {
        self.args.get(i)
    }

    #[inline]
    pub fn argc(&self) -> usize {
        self.args.len()
    }

    #[inline]
    pub fn now(&self) -> Now {
        self.srv.now
    }

    /// The client's selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.srv.keyspace.dbs[self.client.db]
    }

    /// Parses argument `i` as an integer, replying with Valkey's error if it
    /// is not one.
    pub fn arg_i64(&mut self, i: usize) -> Option<i64> {
        let v = crate::util::num::parse_i64(self.arg(i));
        if v.is_none() {
            self.out.error(err::NOT_INTEGER);
        }
        v
    }

    pub fn arg_f64(&mut self, i: usize) -> Option<f64> {
        let v = crate::util::num::parse_f64(self.arg(i));
        if v.is_none() {
            self.out.error(err::NOT_FLOAT);
        }
        v
    }

    /// Records a change to `key` in the selected database: invalidates
    /// WATCHes and counts towards the dirty counter (save points).
    pub fn modified(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.srv.key_modified(db, key);
        self.srv.dirty += 1;
    }

    /// Reports a change to `key` that touched `n` elements: WATCH
    /// invalidation once, `n` towards the dirty counter (Valkey's
    /// `server.dirty += n`). Nothing when `n` is 0.
    pub fn modified_n(&mut self, key: &[u8], n: usize) {
        if n == 0 {
            return;
        }
        self.modified(key);
        self.srv.dirty += n as u64 - 1;
    }

    /// A generator of random numbers for one command (xorshift64*), seeded
    /// from the server's: closures that hold a value cannot borrow the
    /// server again.
    pub fn rng(&mut self) -> impl FnMut() -> u64 {
        let mut x = self.srv.random() | 1;
        move || {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    /// Publishes a keyspace notification for `key` of the selected
    /// database (see [`Server::notify`]); `class` is one of
    /// `crate::config::notify`'s flags.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        let db = self.client.db;
        keys::notify_db(self.srv, class, event, key, db);
    }

    /// Marks `key` of the selected database ready for clients blocked on
    /// it, for writes that add to an existing value without creating the
    /// key (XADD to a stream that XREAD BLOCK waits on). Creating a key
    /// signals by itself.
    pub fn signal_key_ready(&mut self, key: &[u8]) {
        let db = self.client.db;
        let d = &mut self.srv.keyspace.dbs[db];
        if !d.blocking.is_empty() {
            d.blocking.signal(key);
        }
    }

    /// Makes this command reach the AOF (and replicas) as `argv` instead of
    /// as it was called (Valkey's `rewriteClientCommandVector`): for
    /// commands whose effect depends on the clock or on chance (relative
    /// expires become absolute, SPOP becomes SREM, ...). Calling it again
    /// replaces the earlier rewrite; an empty `argv` propagates nothing.
    pub fn propagate_as(&mut self, argv: &[&[u8]]) {
        let p = &mut self.srv.propagation;
        p.replaced = true;
        p.rewritten = argv.iter().map(|a| a.to_vec()).collect();
    }

    /// Propagates `argv` (in the client's database) in addition to, and
    /// after, the command itself (Valkey's `alsoPropagate`), e.g. the
    /// XCLAIMs of an XREADGROUP, which itself is not propagated
    /// (`propagate_as(&[])`).
    pub fn also_propagate(&mut self, argv: &[&[u8]]) {
        let db = self.client.db;
        self.srv
            .propagation
            .also
            .push((db, argv.iter().map(|a| a.to_vec()).collect()));
    }

    /// The arity error for this command.
    pub fn wrong_arity(&mut self) {
        reply_arity_error(self.out, self.cmd.name);
    }
}

pub fn reply_arity_error(out: &mut Reply, name: &str) {
    let msg = format!("ERR wrong number of arguments for '{name}' command");
    out.error(msg.as_bytes());
}

/// Valkey's reply to an unknown command: the name and the first arguments.
pub fn reply_unknown_command(out: &mut Reply, args: &Args<'_>) {
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(&sanitize(args.get(0), 128));
    msg.extend_from_slice(b"', with args beginning with: ");
    for i in 1..args.len() {
        if msg.len() >= 128 {
            break;
        }
        msg.push(b'\'');
        msg.extend_from_slice(&sanitize(args.get(i), 128 - msg.len().min(128)));
        msg.extend_from_slice(b"' ");
    }
    out.error(&msg);
}

/// Valkey's reply to an unknown subcommand.
pub fn reply_unknown_subcommand(out: &mut Reply, cmd: &str, sub: &[u8]) {
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(&sanitize(sub, 128));
    msg.extend_from_slice(format!("'. Try {} HELP.", cmd.to_ascii_uppercase()).as_bytes());
    out.error(&msg);
}

/// Client-provided text in an error: bounded, with unprintable bytes replaced.
fn sanitize(s: &[u8], max: usize) -> Vec<u8> {
    s.iter()
        .take(max)
        .map(|&b| if (b' '..=b'~').contains(&b) { b } else { b' ' })
        .collect()
}

/// The handler of a container command (CLIENT, CONFIG, PUBSUB...): never
/// reached with a known subcommand, which dispatch resolves first.
pub fn container(ctx: &mut Ctx<'_>) {
    ctx.out.error(err::SYNTAX);
}

/// Writes a HELP subcommand reply: the header line, then `lines`.
pub fn reply_help(out: &mut Reply, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(
        format!(
            "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            cmd.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    for l in lines {
        out.simple(l.as_bytes());
    }
    out.simple(b"HELP");
    out.simple(b"    Print this help.");
}
