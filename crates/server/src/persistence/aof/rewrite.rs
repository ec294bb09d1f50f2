//! Writing an AOF base file: the whole dataset, either as an RDB image
//! (`aof-use-rdb-preamble yes`, the default: smaller and much faster to
//! load) or as the commands that rebuild it (Valkey's
//! `rewriteAppendOnlyFileRio`): SET, RPUSH, SADD, ZADD, HMSET, and XADD with
//! XSETID and the consumer groups, each followed by PEXPIREAT for keys with
//! a TTL, with at most 64 elements per command.
//!
//! It runs in the rewrite child (BGREWRITEAOF) or, at start-up with no AOF
//! yet, in the server itself. The file is written under a temporary name,
//! fsynced and renamed into place, so a crash never leaves half a base.

use crate::keyspace::{Value, ValueRef};
use crate::persistence::rdb::file::write_rdb_with;
use crate::server::Server;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Valkey's `AOF_REWRITE_ITEMS_PER_CMD`.
pub const ITEMS_PER_CMD: usize = 64;
/// `aof-rewrite-incremental-fsync`: fsync every this many bytes written
/// (Valkey's `REDIS_AUTOSYNC_BYTES`), so the kernel never sits on a huge
/// amount of dirty pages that one final fsync would have to flush at once.
const AUTOSYNC_BYTES: u64 = 4 * 1024 * 1024;

/// The settings a rewrite uses, captured before the fork.
#[derive(Clone, Debug)]
pub struct Options {
    pub use_rdb_preamble: bool,
    pub timestamp: bool,
    pub incremental_fsync: bool,
}

impl Options {
    pub fn of(srv: &Server) -> Options {
        Options {
            use_rdb_preamble: srv.config.aof_use_rdb_preamble,
            timestamp: srv.config.aof_timestamp_enabled,
            incremental_fsync: srv.config.aof_rewrite_incremental_fsync,
        }
    }
}

/// A file writer that fsyncs every [`AUTOSYNC_BYTES`] when asked to.
struct AutoSync {
    file: File,
    every: Option<u64>,
    unsynced: u64,
}

impl Write for AutoSync {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        if let Some(every) = self.every {
            self.unsynced += n as u64;
            if self.unsynced >= every {
                self.file.sync_data()?;
                self.unsynced = 0;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Writes a base file of `srv`'s dataset at `path` (Valkey's
/// `rewriteAppendOnlyFile`): through `temp-rewriteaof-<pid>.aof` in `dir`,
/// fsynced, then renamed.
pub fn rewrite_to(srv: &Server, path: &Path, opts: &Options, pid: u32) -> io::Result<()> {
    let tmp = srv.config.dir.join(format!("temp-rewriteaof-{pid}.aof"));
    let result = (|| {
        let file = File::create(&tmp)?;
        let sink = AutoSync {
            file,
            every: opts.incremental_fsync.then_some(AUTOSYNC_BYTES),
            unsynced: 0,
        };
        let mut w = BufWriter::with_capacity(1 << 20, sink);
        if opts.use_rdb_preamble {
            write_rdb_with(&mut w, srv, true)?;
        } else {
            write_commands(&mut w, srv, opts.timestamp)?;
        }
        let sink = w.into_inner().map_err(|e| e.into_error())?;
        sink.file.sync_all()?;
        drop(sink);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Appends one command to `out`.
fn cmd(out: &mut Vec<u8>, argv: &[&[u8]]) {
    super::encode_command(out, argv);
}

/// Writes `RPUSH`/`SADD`-style commands: `name key` plus up to 64 items per
/// command, each item one or more arguments (`per_item`).
struct Batcher<'a> {
    name: &'static [u8],
    key: &'a [u8],
    left: usize,
    in_cmd: usize,
    per_item: usize,
}

impl<'a> Batcher<'a> {
    fn new(name: &'static [u8], key: &'a [u8], items: usize, per_item: usize) -> Batcher<'a> {
        Batcher {
            name,
            key,
            left: items,
            in_cmd: 0,
            per_item,
        }
    }

    /// Starts a new command when the previous one is full, then appends one
    /// item's arguments.
    fn item(&mut self, out: &mut Vec<u8>, args: &[&[u8]]) {
        if self.in_cmd == 0 {
            let n = self.left.min(ITEMS_PER_CMD);
            out.extend_from_slice(format!("*{}\r\n", 2 + n * self.per_item).as_bytes());
            bulk(out, self.name);
            bulk(out, self.key);
        }
        for a in args {
            bulk(out, a);
        }
        self.in_cmd += 1;
        self.left = self.left.saturating_sub(1);
        if self.in_cmd == ITEMS_PER_CMD {
            self.in_cmd = 0;
        }
    }
}

fn bulk(out: &mut Vec<u8>, a: &[u8]) {
    out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
    out.extend_from_slice(a);
    out.extend_from_slice(b"\r\n");
}

fn double_text(v: f64) -> Vec<u8> {
    let mut s = Vec::new();
    crate::util::num::fpconv_dtoa(v, &mut s);
    s
}

/// The commands that rebuild `key` = `value` (without its TTL).
pub fn value_commands(out: &mut Vec<u8>, key: &[u8], value: &ValueRef<'_>) {
    match value {
        ValueRef::Int(i) => cmd(out, &[b"SET", key, i.to_string().as_bytes()]),
        ValueRef::Str(s) => cmd(out, &[b"SET", key, s]),
        ValueRef::Heap(v) => heap_commands(out, key, v),
    }
}

fn heap_commands(out: &mut Vec<u8>, key: &[u8], v: &Value) {
    match v {
        Value::Str(s) => cmd(out, &[b"SET", key, s]),
        Value::List(l) => {
            let mut b = Batcher::new(b"RPUSH", key, l.len(), 1);
            l.for_each(|e| b.item(out, &[e]));
        }
        Value::Set(s) => {
            let mut b = Batcher::new(b"SADD", key, s.len(), 1);
            s.for_each(|m| b.item(out, &[m]));
        }
        Value::ZSet(z) => {
            let mut b = Batcher::new(b"ZADD", key, z.len(), 2);
            z.for_each(|m, score| b.item(out, &[&double_text(score), m]));
        }
        Value::Hash(h) => {
            let mut b = Batcher::new(b"HMSET", key, h.len(), 2);
            h.for_each(|f, v| b.item(out, &[f, v]));
        }
        Value::Stream(s) => stream_commands(out, key, s),
    }
}

/// A stream: its entries (XADD), its ID bookkeeping (XSETID), its groups
/// (XGROUP CREATE), their pending entries (XCLAIM ... FORCE JUSTID) and the
/// consumers with nothing pending (XGROUP CREATECONSUMER), as Valkey's
/// `rewriteStreamObject`.
fn stream_commands(out: &mut Vec<u8>, key: &[u8], s: &crate::keyspace::stream::Stream) {
    if !s.entries().is_empty() {
        s.for_each(|ms, seq, pairs| {
            let id = format!("{ms}-{seq}");
            let mut argv: Vec<&[u8]> = Vec::with_capacity(3 + pairs.len() * 2);
            argv.extend_from_slice(&[b"XADD", key, id.as_bytes()]);
            for (f, v) in pairs {
                argv.push(f);
                argv.push(v);
            }
            cmd(out, &argv);
        });
    } else {
        // An empty stream exists: XADD with MAXLEN 0 creates it empty.
        cmd(out, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    let e = s.entries();
    let last = e.last_id().to_string();
    let added = e.entries_added().to_string();
    let maxdel = e.max_deleted_id().to_string();
    cmd(
        out,
        &[
            b"XSETID",
            key,
            last.as_bytes(),
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            maxdel.as_bytes(),
        ],
    );
    for (name, g) in s.groups() {
        let last = g.last_id.to_string();
        let read = g.entries_read.to_string();
        cmd(
            out,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                last.as_bytes(),
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        for c in g.consumers() {
            if c.pending().is_empty() {
                cmd(out, &[b"XGROUP", b"CREATECONSUMER", key, name, c.name()]);
                continue;
            }
            for id in c.pending() {
                let Some(nack) = g.pel().get(id) else {
                    continue;
                };
                let id = id.to_string();
                let time = nack.delivery_time.to_string();
                let count = nack.delivery_count.to_string();
                cmd(
                    out,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        c.name(),
                        b"0",
                        id.as_bytes(),
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        count.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

/// The whole dataset as commands: the `#TS:` annotation (when enabled),
/// function libraries, then per non-empty database a SELECT and its keys.
pub fn write_commands(w: &mut impl Write, srv: &Server, timestamp: bool) -> io::Result<()> {
    let mut out = Vec::with_capacity(64 * 1024);
    if timestamp {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        out.extend_from_slice(format!("#TS:{unix}\r\n").as_bytes());
    }
    for code in &srv.persist.functions {
        cmd(&mut out, &[b"FUNCTION", b"LOAD", code]);
    }
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        cmd(&mut out, &[b"SELECT", i.to_string().as_bytes()]);
        for rec in db.iter() {
            value_commands(&mut out, rec.key(), &rec.value());
            if let Some(at) = rec.expire() {
                cmd(
                    &mut out,
                    &[b"PEXPIREAT", rec.key(), at.to_string().as_bytes()],
                );
            }
            if out.len() >= 64 * 1024 {
                w.write_all(&out)?;
                out.clear();
            }
        }
    }
    w.write_all(&out)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persistence::aof::load::parse_commands;

    fn words(bytes: &[u8]) -> Vec<String> {
        parse_commands(bytes)
            .into_iter()
            .map(|c| {
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn big_collections_are_split_in_commands_of_64_items() {
        let mut h = crate::commands::strings::tests::Harness::new();
        let mut args: Vec<Vec<u8>> = vec![b"RPUSH".to_vec(), b"l".to_vec()];
        args.extend((0..130).map(|i| i.to_string().into_bytes()));
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        h.run(&refs);
        let mut out = Vec::new();
        write_commands(&mut out, &h.srv, false).unwrap();
        let cmds = parse_commands(&out);
        assert_eq!(cmds.len(), 4);
        assert_eq!(cmds[0], [b"SELECT".to_vec(), b"0".to_vec()]);
        assert_eq!(cmds[1].len(), 2 + 64);
        assert_eq!(cmds[2].len(), 2 + 64);
        assert_eq!(cmds[3].len(), 2 + 2);
        assert_eq!(cmds[3][3], b"129");
    }

    #[test]
    fn every_type_with_its_ttl() {
        let mut h = crate::commands::strings::tests::Harness::new();
        h.cmd("SET s hello");
        h.cmd("SET n 42");
        h.cmd("PEXPIREAT n 99999999999999");
        h.cmd("SADD set a");
        h.cmd("ZADD z 1.5 m");
        h.cmd("HSET h f v");
        h.cmd("XADD x 1-1 f v");
        h.cmd("XGROUP CREATE x g 0");
        h.cmd("XGROUP CREATECONSUMER x g idle");
        h.cmd("SELECT 2");
        h.cmd("RPUSH l a b");
        let mut out = Vec::new();
        write_commands(&mut out, &h.srv, false).unwrap();
        let mut got = words(&out);
        // Key order within a database is the table's: compare as a set of
        // per-key groups.
        assert_eq!(got[0], "SELECT 0");
        let sel2 = got.iter().position(|c| c == "SELECT 2").unwrap();
        assert_eq!(&got[sel2 + 1..], ["RPUSH l a b"]);
        got.truncate(sel2);
        got.sort();
        let mut want = vec![
            "SELECT 0",
            "SET s hello",
            "SET n 42",
            "PEXPIREAT n 99999999999999",
            "SADD set a",
            "ZADD z 1.5 m",
            "HMSET h f v",
            "XADD x 1-1 f v",
            "XSETID x 1-1 ENTRIESADDED 1 MAXDELETEDID 0-0",
            "XGROUP CREATE x g 0-0 ENTRIESREAD -1",
            "XGROUP CREATECONSUMER x g idle",
        ];
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn empty_stream_uses_the_maxlen_0_trick_and_pending_entries_are_claimed() {
        let mut h = crate::commands::strings::tests::Harness::new();
        h.cmd("XADD x 5-1 f v");
        h.cmd("XGROUP CREATE x g 0");
        h.cmd("XREADGROUP GROUP g alice STREAMS x >");
        h.cmd("XADD e MAXLEN 0 1-1 a b");
        let mut out = Vec::new();
        write_commands(&mut out, &h.srv, false).unwrap();
        let got = words(&out);
        assert!(
            got.contains(&"XADD e MAXLEN 0 0-1 x y".to_string()),
            "{got:?}"
        );
        assert!(got.contains(&"XSETID e 1-1 ENTRIESADDED 1 MAXDELETEDID 0-0".to_string()));
        let claim = got.iter().find(|c| c.starts_with("XCLAIM")).unwrap();
        assert!(claim.starts_with("XCLAIM x g alice 0 5-1 TIME "), "{claim}");
        assert!(claim.ends_with(" RETRYCOUNT 1 JUSTID FORCE"), "{claim}");
    }
}
