//! MIGRATE: moves (or copies) keys to another server by sending it the
//! keys' DUMP payloads as RESTORE commands.
//!
//! ```text
//! MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
//!         [AUTH password | AUTH2 username password] [KEYS key [key ...]]
//! ```
//!
//! Like Valkey, the transfer is synchronous: the server is single-threaded
//! and MIGRATE holds the event loop for at most `timeout` ms per I/O step
//! (connect, each 64 KiB written, each reply line read). That is what makes
//! the move atomic from the clients' point of view: nobody sees the key on
//! both servers or on neither.
//!
//! Connections to targets are cached per "host:port" (with the database
//! last SELECTed there) so that tools migrating many keys one MIGRATE at a
//! time do not reconnect each time; the cron closes the ones idle for more
//! than 10 s, and any I/O error closes the one it happened on.

use super::flags::WRITE;
use super::{acl, err, Command, Ctx};
use crate::config::notify as ev;
use crate::resp::Args;
use crate::server::Server;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[Command::new(
        "migrate",
        -6,
        WRITE,
        acl::KEYSPACE | acl::DANGEROUS,
        migrate,
    )
        .tips(&["nondeterministic_output"])
    // The KEYS form needs the key finder: the keyword may also be a key or
    // a password, which only parsing the options tells apart.
    .key_specs(&[
        KeySpec::at(3, RW | ACCESS | DELETE),
        KeySpec::keyword("KEYS", -2, RW | ACCESS | DELETE | INCOMPLETE).range(-1, 1, 0),
    ])
    .key_refs_fn(|args| {
        let flags = RW | ACCESS | DELETE;
        with_flags(key_positions(args), flags, flags)
    })
    .doc(
        "generic",
        "2.6.0",
        "Atomically transfers a key from one instance to another.",
        "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
    )]
};

/// At most this many cached connections; a new one beyond that replaces
/// one picked at random (Valkey's `MIGRATE_SOCKET_CACHE_ITEMS`).
const CACHE_ITEMS: usize = 64;
/// Cached connections unused for longer than this are closed by the cron
/// (Valkey's `MIGRATE_SOCKET_CACHE_TTL`).
const CACHE_TTL: Duration = Duration::from_secs(10);
/// The command is written to the target in chunks of this size, each with
/// its own timeout.
const WRITE_CHUNK: usize = 64 * 1024;
/// A reply line is read into a 1024-byte C buffer in Valkey: longer lines
/// are cut at 1023 bytes.
const MAX_LINE: usize = 1023;

// ---- the connection cache ----------------------------------------------------

/// One cached connection to a target.
#[derive(Debug)]
struct Cached {
    stream: TcpStream,
    /// Bytes read past the last reply line.
    pending: Vec<u8>,
    /// The database last SELECTed successfully on it: the next MIGRATE to
    /// the same database skips the SELECT. `None` forces one.
    last_db: Option<i64>,
    last_use: Instant,
}

/// Cached connections to MIGRATE targets, by "host:port" exactly as the
/// arguments spell them (so "localhost" and "127.0.0.1" are two entries,
/// as in Valkey).
#[derive(Debug, Default)]
pub struct SocketCache {
    conns: HashMap<Vec<u8>, Cached>,
}

impl SocketCache {
    /// Number of open cached connections.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// Closes the connections unused for more than 10 s (Valkey's
    /// `migrateCloseTimedoutSockets`). Dropping the stream closes it.
    pub fn close_idle(&mut self, now: Instant) {
        if !self.conns.is_empty() {
            self.conns
                .retain(|_, c| now.saturating_duration_since(c.last_use) <= CACHE_TTL);
        }
    }
}

/// The cron's hook: closes idle MIGRATE connections.
pub fn cron(srv: &mut Server) {
    srv.migrate_sockets.close_idle(Instant::now());
}

/// Why an exchange with the target failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IoFail {
    /// The step took longer than the timeout: not retried.
    Timeout,
    /// Anything else (closed connection, reset...): worth one retry on a
    /// fresh connection, since a cached one may simply have been closed by
    /// the target in the meantime.
    Broken,
}

fn io_fail(e: &std::io::Error) -> IoFail {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => IoFail::Timeout,
        _ => IoFail::Broken,
    }
}

impl Cached {
    /// Connects to `host:port`, trying each address the name resolves to
    /// within one overall `timeout`.
    fn connect(host: &[u8], port: &[u8], timeout: Duration) -> Option<Cached> {
        let host = std::str::from_utf8(host).ok()?;
        let port = u16::try_from(atoi(port)).ok()?;
        let deadline = Instant::now().checked_add(timeout)?;
        let addrs = (host, port).to_socket_addrs().ok()?;
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Ok(stream) = TcpStream::connect_timeout(&addr, left) {
                // Small RESTOREs should not wait for Nagle.
                let _ = stream.set_nodelay(true);
                return Some(Cached {
                    stream,
                    pending: Vec::new(),
                    last_db: None,
                    last_use: Instant::now(),
                });
            }
        }
        None
    }

    /// Writes `data` in 64 KiB chunks, each within `timeout`.
    fn write_all(&mut self, data: &[u8], timeout: Duration) -> Result<(), IoFail> {
        for chunk in data.chunks(WRITE_CHUNK) {
            let deadline = Instant::now() + timeout;
            let mut off = 0;
            while off < chunk.len() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(IoFail::Timeout);
                }
                self.stream
                    .set_write_timeout(Some(left))
                    .map_err(|_| IoFail::Broken)?;
                match self.stream.write(&chunk[off..]) {
                    Ok(0) => return Err(IoFail::Broken),
                    Ok(n) => off += n,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(io_fail(&e)),
                }
            }
        }
        Ok(())
    }

    /// Reads one reply line within `timeout`, without its CR LF. Like
    /// Valkey's `syncReadLine`: a line is cut at 1023 bytes, and a bare
    /// "\n" counts as a failure (nothing was read).
    fn read_line(&mut self, timeout: Duration) -> Result<Vec<u8>, IoFail> {
        let deadline = Instant::now() + timeout;
        loop {
            let window = &self.pending[..self.pending.len().min(MAX_LINE)];
            if let Some(nl) = window.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=nl).collect();
                line.pop();
                if line.is_empty() {
                    return Err(IoFail::Broken);
                }
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.pending.len() >= MAX_LINE {
                return Ok(self.pending.drain(..MAX_LINE).collect());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(IoFail::Timeout);
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|_| IoFail::Broken)?;
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(IoFail::Broken),
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(io_fail(&e)),
            }
        }
    }
}

/// C's `atoi`, as Valkey reads the port: optional blanks and sign, then
/// digits up to the first non-digit; 0 when there are none. Saturates
/// instead of overflowing, so absurd ports stay out of range.
fn atoi(s: &[u8]) -> i64 {
    let s = s.trim_ascii_start();
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, &d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

/// The cache key of a target.
fn cache_name(host: &[u8], port: &[u8]) -> Vec<u8> {
    let mut name = Vec::with_capacity(host.len() + port.len() + 1);
    name.extend_from_slice(host);
    name.push(b':');
    name.extend_from_slice(port);
    name
}

/// Takes the cached connection to a target out of the cache, or opens a
/// new one (Valkey's `migrateGetSocket`). The caller puts it back when it
/// is still usable; an error simply drops it, which closes it (Valkey's
/// `migrateCloseSocket`).
fn take_socket(
    srv: &mut Server,
    name: &[u8],
    host: &[u8],
    port: &[u8],
    timeout: Duration,
) -> Option<Cached> {
    if let Some(mut c) = srv.migrate_sockets.conns.remove(name) {
        c.last_use = Instant::now();
        return Some(c);
    }
    if srv.migrate_sockets.conns.len() >= CACHE_ITEMS {
        // Full: make room by closing one picked at random.
        let n = srv.migrate_sockets.conns.len();
        let victim = (srv.random() % n as u64) as usize;
        if let Some(k) = srv.migrate_sockets.conns.keys().nth(victim).cloned() {
            srv.migrate_sockets.conns.remove(&k);
        }
    }
    Cached::connect(host, port, timeout)
}

// ---- arguments ---------------------------------------------------------------

/// The parsed options of one MIGRATE.
#[derive(Debug, PartialEq, Eq)]
struct Options<'a> {
    copy: bool,
    replace: bool,
    username: Option<&'a [u8]>,
    password: Option<&'a [u8]>,
    /// Argument index of the first key, and how many keys there are.
    first_key: usize,
    num_keys: usize,
}

/// Parses the options after the timeout, replying Valkey's error (returned
/// as `Err`) for a bad one. Later AUTH / AUTH2 override earlier ones, and
/// KEYS takes every remaining argument.
fn parse_options<'a>(args: &Args<'a>) -> Result<Options<'a>, &'static [u8]> {
    let mut o = Options {
        copy: false,
        replace: false,
        username: None,
        password: None,
        first_key: 3,
        num_keys: 1,
    };
    let argc = args.len();
    let mut j = 6;
    while j < argc {
        let more = argc - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"copy") {
            o.copy = true;
        } else if opt.eq_ignore_ascii_case(b"replace") {
            o.replace = true;
        } else if opt.eq_ignore_ascii_case(b"auth") {
            if more < 1 {
                return Err(err::SYNTAX);
            }
            // As in Valkey, a later AUTH keeps an earlier AUTH2's user.
            o.password = Some(args.get(j + 1));
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"auth2") {
            if more < 2 {
                return Err(err::SYNTAX);
            }
            o.username = Some(args.get(j + 1));
            o.password = Some(args.get(j + 2));
            j += 2;
        } else if opt.eq_ignore_ascii_case(b"keys") {
            if !args.get(3).is_empty() {
                return Err(b"ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
            }
            o.first_key = j + 1;
            o.num_keys = argc - j - 1;
            break;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// The key arguments (Valkey's `migrateGetKeys`): the `key` argument, or
/// everything after KEYS when the key argument is empty (none when it is
/// not: MIGRATE itself then replies with the error). AUTH and AUTH2 values
/// are skipped so that a password spelled "keys" is not taken for the
/// option.
pub fn key_positions(args: &Args<'_>) -> Vec<usize> {
    let argc = args.len();
    let (mut first, mut num) = (3, 1);
    let mut i = 6;
    while i < argc {
        let a = args.get(i);
        if a.eq_ignore_ascii_case(b"keys") {
            if args.get(3).is_empty() {
                first = i + 1;
                num = argc - first;
            } else {
                num = 0;
            }
            break;
        }
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        }
        i += 1;
    }
    if argc <= 3 {
        return Vec::new();
    }
    (first..first + num).filter(|&p| p < argc).collect()
}

/// Which arguments are secrets (the AUTH / AUTH2 values) and must be
/// redacted from MONITOR and SLOWLOG, as Valkey's
/// `redactClientCommandArgument` calls in `migrateCommand` do. Stops where
/// the option parser stops (KEYS, or a bad option).
pub fn secret_positions(args: &Args<'_>) -> Vec<usize> {
    let argc = args.len();
    let mut out = Vec::new();
    let mut j = 6;
    while j < argc {
        let more = argc - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"copy") || opt.eq_ignore_ascii_case(b"replace") {
            // Flags without a value: nothing to hide.
        } else if opt.eq_ignore_ascii_case(b"auth") && more >= 1 {
            out.push(j + 1);
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"auth2") && more >= 2 {
            out.extend([j + 1, j + 2]);
            j += 2;
        } else {
            break;
        }
        j += 1;
    }
    out
}

// ---- the command -------------------------------------------------------------

/// Appends one command in RESP (a multi-bulk of bulk strings).
fn push_command(buf: &mut Vec<u8>, argv: &[&[u8]]) {
    buf.push(b'*');
    buf.extend_from_slice(argv.len().to_string().as_bytes());
    buf.extend_from_slice(b"\r\n");
    for a in argv {
        buf.push(b'$');
        buf.extend_from_slice(a.len().to_string().as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

/// The pipeline sent to the target: AUTH if asked for, SELECT if the
/// connection is not known to be on `db`, then one RESTORE per key still
/// alive with its remaining TTL (0 for none, at least 1 ms otherwise) and
/// REPLACE if asked for. Returns it with the keys it restores, in order.
fn build_pipeline<'k>(
    ctx: &mut Ctx<'_>,
    o: &Options<'_>,
    keys: &[&'k [u8]],
    select: Option<&[u8]>,
) -> (Vec<u8>, Vec<&'k [u8]>) {
    let mut buf = Vec::new();
    if let Some(pass) = o.password {
        match o.username {
            Some(user) => push_command(&mut buf, &[b"AUTH", user, pass]),
            None => push_command(&mut buf, &[b"AUTH", pass]),
        }
    }
    if let Some(db) = select {
        push_command(&mut buf, &[b"SELECT", db]);
    }
    // In cluster mode the target may be importing the slot: RESTORE-ASKING
    // is accepted there without an ASKING first.
    let restore: &[u8] = if ctx.srv.config.cluster_enabled {
        b"RESTORE-ASKING"
    } else {
        b"RESTORE"
    };
    let compress = ctx.srv.config.rdbcompression;
    let now = ctx.now().ms;
    let mut sent = Vec::with_capacity(keys.len());
    for &key in keys {
        let Some(rec) = ctx.db().peek(key) else {
            continue;
        };
        let ttl = match rec.expire() {
            None => 0,
            // Expired since it was looked up (serializing big values takes
            // time in Valkey; here the command's clock is fixed, so this
            // only guards the arithmetic).
            Some(at) if at < now => continue,
            Some(at) => (at - now).max(1),
        };
        let payload = super::dump::create_payload(&rec.value(), compress);
        let ttl = ttl.to_string();
        let mut argv: Vec<&[u8]> = vec![restore, key, ttl.as_bytes(), &payload];
        if o.replace {
            argv.push(b"REPLACE");
        }
        push_command(&mut buf, &argv);
        sent.push(key);
    }
    (buf, sent)
}

/// How one attempt ended.
enum Attempt {
    /// Replied (+OK or the target's error): done.
    Done,
    /// A socket error before anything was applied on the target: the
    /// connection is closed; retry once unless it timed out.
    SocketError { fail: IoFail, writing: bool },
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password | AUTH2 username password] [KEYS key [key ...]]
fn migrate(ctx: &mut Ctx<'_>) {
    let args = ctx.args;
    let o = match parse_options(&args) {
        Ok(o) => o,
        Err(e) => {
            ctx.out.error(e);
            return;
        }
    };
    // The timeout is checked before the database, as in Valkey.
    let Some(timeout) = ctx.arg_i64(5) else {
        return;
    };
    let Some(db) = ctx.arg_i64(4) else { return };
    // A non-positive timeout means one second; a huge one is capped where
    // it cannot overflow the clock (about 24 days, Valkey's `int` wait).
    let timeout = if timeout <= 0 {
        1000
    } else {
        timeout.min(i32::MAX as i64)
    };
    let timeout = Duration::from_millis(timeout as u64);

    // The keys that exist. None at all is not an error but "+NOKEY": the
    // usual cause is a key that expired meanwhile.
    let mut keys: Vec<&[u8]> = Vec::with_capacity(o.num_keys);
    for i in o.first_key..o.first_key + o.num_keys {
        let key = args.get(i);
        if ctx.lookup_read(key).is_some() {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        ctx.out.simple(b"NOKEY");
        return;
    }

    let (host, port) = (args.get(1), args.get(2));
    let name = cache_name(host, port);
    let db_arg = db.to_string();
    let mut may_retry = true;
    loop {
        let Some(conn) = take_socket(ctx.srv, &name, host, port, timeout) else {
            ctx.out
                .error(b"IOERR error or timeout connecting to the client");
            return;
        };
        match attempt(ctx, &o, conn, &name, &mut keys, db, &db_arg, timeout) {
            Attempt::Done => return,
            Attempt::SocketError { fail, writing } => {
                if may_retry && fail != IoFail::Timeout {
                    may_retry = false;
                    continue;
                }
                let msg: &[u8] = if writing {
                    b"IOERR error or timeout writing to target instance"
                } else {
                    b"IOERR error or timeout reading to target instance"
                };
                ctx.out.error(msg);
                return;
            }
        }
    }
}

/// One try on one connection: send the pipeline, read the replies, delete
/// what the target acknowledged (unless COPY) and reply. `keys` is
/// narrowed to the keys actually sent, for a retry.
#[allow(clippy::too_many_arguments)]
fn attempt(
    ctx: &mut Ctx<'_>,
    o: &Options<'_>,
    mut conn: Cached,
    name: &[u8],
    keys: &mut Vec<&[u8]>,
    db: i64,
    db_arg: &str,
    timeout: Duration,
) -> Attempt {
    let select = conn.last_db != Some(db);
    let (pipeline, sent) = build_pipeline(ctx, o, keys, select.then_some(db_arg.as_bytes()));
    *keys = sent;

    if let Err(fail) = conn.write_all(&pipeline, timeout) {
        return Attempt::SocketError {
            fail,
            writing: true,
        };
    }
    // Replies to AUTH and SELECT come first; failing to read them means
    // nothing was applied, so the whole attempt may be retried.
    let auth_reply = match o.password {
        Some(_) => match conn.read_line(timeout) {
            Ok(l) => Some(l),
            Err(fail) => {
                return Attempt::SocketError {
                    fail,
                    writing: false,
                }
            }
        },
        None => None,
    };
    let select_reply = if select {
        match conn.read_line(timeout) {
            Ok(l) => Some(l),
            Err(fail) => {
                return Attempt::SocketError {
                    fail,
                    writing: false,
                }
            }
        }
    } else {
        None
    };
    let is_err = |l: &Option<Vec<u8>>| l.as_ref().is_some_and(|l| l.first() == Some(&b'-'));
    // A failed AUTH or SELECT fails every RESTORE after it: the error
    // reported is the first one of the pipeline.
    let early_error = if is_err(&auth_reply) {
        auth_reply
    } else if is_err(&select_reply) {
        select_reply
    } else {
        None
    };

    let mut target_error = false;
    let mut socket_error = None;
    let mut deleted: Vec<&[u8]> = Vec::new();
    let mut read = 0;
    for &key in keys.iter() {
        let line = match conn.read_line(timeout) {
            Ok(l) => l,
            Err(fail) => {
                socket_error = Some(fail);
                break;
            }
        };
        read += 1;
        let failed = early_error.as_ref().or(if line.first() == Some(&b'-') {
            Some(&line)
        } else {
            None
        });
        if let Some(e) = failed {
            if !target_error {
                target_error = true;
                conn.last_db = None;
                let mut msg = b"ERR Target instance replied with error: ".to_vec();
                msg.extend_from_slice(&e[1..]);
                ctx.out.error(&msg);
            }
        } else if !o.copy {
            // The target has it: the key leaves this server.
            let old = ctx.db().remove(key);
            crate::lazyfree::drop_value(old);
            ctx.modified(key);
            ctx.notify(ev::GENERIC, "del", key);
            deleted.push(key);
        }
    }

    if let Some(fail) = socket_error {
        if !target_error && read == 0 && fail != IoFail::Timeout {
            // Nothing was acknowledged: a fresh connection may do better.
            return Attempt::SocketError {
                fail,
                writing: false,
            };
        }
    }
    // Replicas and the AOF see the keys that moved as one DEL (nothing when
    // none did: then nothing changed here either).
    if !deleted.is_empty() {
        let mut argv: Vec<&[u8]> = Vec::with_capacity(deleted.len() + 1);
        argv.push(b"DEL");
        argv.extend_from_slice(&deleted);
        ctx.propagate_as(&argv);
    }
    if socket_error.is_some() {
        // The connection is dropped (closed) here. Without an error from
        // the target already sent, the client learns of the broken read;
        // it is not retried since some keys may have moved.
        if !target_error {
            ctx.out
                .error(b"IOERR error or timeout reading to target instance");
        }
        return Attempt::Done;
    }
    if !target_error {
        conn.last_db = Some(db);
        ctx.out.ok();
    }
    ctx.srv.migrate_sockets.conns.insert(name.to_vec(), conn);
    Attempt::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::strings::tests::Harness;
    use crate::resp::OwnedArgs;
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    type Argv = Vec<Vec<u8>>;

    /// One complete RESP multi-bulk command at the start of `b`, and the
    /// bytes it takes.
    fn parse_command(b: &[u8]) -> Option<(Argv, usize)> {
        fn line(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
            let end = b[at..].windows(2).position(|w| w == b"\r\n")? + at;
            Some((&b[at..end], end + 2))
        }
        let (head, mut at) = line(b, 0)?;
        let n: usize = std::str::from_utf8(&head[1..]).ok()?.parse().ok()?;
        let mut argv = Vec::new();
        for _ in 0..n {
            let (len, next) = line(b, at)?;
            let len: usize = std::str::from_utf8(&len[1..]).ok()?.parse().ok()?;
            if b.len() < next + len + 2 {
                return None;
            }
            argv.push(b[next..next + len].to_vec());
            at = next + len + 2;
        }
        Some((argv, at))
    }

    /// A scripted target: for each connection it accepts, a list of steps
    /// (read this many commands, then write these bytes); the connection
    /// is closed after its last step. Returns the commands each connection
    /// received.
    fn fake_target(script: Vec<Vec<(usize, &'static [u8])>>) -> (u16, JoinHandle<Vec<Vec<Argv>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let mut all = Vec::new();
            for steps in script {
                let (mut s, _) = l.accept().unwrap();
                let mut got = Vec::new();
                let mut buf = Vec::new();
                for (n, reply) in steps {
                    let want = got.len() + n;
                    while got.len() < want {
                        if let Some((argv, used)) = parse_command(&buf) {
                            buf.drain(..used);
                            got.push(argv);
                            continue;
                        }
                        let mut chunk = [0u8; 65536];
                        let k = s.read(&mut chunk).unwrap();
                        assert!(k > 0, "MIGRATE closed early");
                        buf.extend_from_slice(&chunk[..k]);
                    }
                    s.write_all(reply).unwrap();
                }
                all.push(got);
            }
            all
        });
        (port, h)
    }

    fn s(v: &[u8]) -> String {
        String::from_utf8_lossy(v).into_owned()
    }

    fn names(cmds: &[Argv]) -> Vec<String> {
        cmds.iter().map(|c| s(&c[0])).collect()
    }

    fn args(words: &[&str]) -> OwnedArgs {
        let v: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        OwnedArgs::from_slices(&v)
    }

    #[test]
    fn options() {
        let a = args(&[
            "MIGRATE", "h", "1", "k", "0", "10", "copy", "REPLACE", "auth2", "u", "p",
        ]);
        let o = parse_options(&a.as_args()).unwrap();
        assert!(o.copy && o.replace);
        assert_eq!((o.username, o.password), (Some(&b"u"[..]), Some(&b"p"[..])));
        assert_eq!((o.first_key, o.num_keys), (3, 1));
        let a = args(&[
            "MIGRATE", "h", "1", "", "0", "10", "AUTH", "p", "KEYS", "a", "b",
        ]);
        let o = parse_options(&a.as_args()).unwrap();
        assert_eq!((o.first_key, o.num_keys, o.username), (9, 2, None));
        let bad: &[&[&str]] = &[
            &["MIGRATE", "h", "1", "k", "0", "10", "nope"],
            &["MIGRATE", "h", "1", "k", "0", "10", "AUTH"],
            &["MIGRATE", "h", "1", "k", "0", "10", "AUTH2", "u"],
        ];
        for b in bad {
            assert_eq!(parse_options(&args(b).as_args()), Err(err::SYNTAX));
        }
        let a = args(&["MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"]);
        assert_eq!(
            parse_options(&a.as_args()).unwrap_err(),
            b"ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
        );
    }

    #[test]
    fn keys_and_secrets() {
        let a = args(&["MIGRATE", "h", "1", "k", "0", "10"]);
        assert_eq!(key_positions(&a.as_args()), [3]);
        let a = args(&[
            "MIGRATE", "h", "1", "", "0", "10", "AUTH", "keys", "COPY", "KEYS", "a", "b",
        ]);
        assert_eq!(key_positions(&a.as_args()), [10, 11]);
        assert_eq!(secret_positions(&a.as_args()), [7]);
        let a = args(&[
            "MIGRATE", "h", "1", "k", "0", "10", "AUTH2", "u", "p", "KEYS", "a",
        ]);
        assert!(key_positions(&a.as_args()).is_empty());
        assert_eq!(secret_positions(&a.as_args()), [7, 8]);
        // Through the table, as COMMAND GETKEYS sees it.
        let cmd = crate::commands::lookup(b"migrate").unwrap();
        let a = args(&["MIGRATE", "h", "1", "", "0", "10", "KEYS", "x", "y", "z"]);
        assert_eq!(cmd.key_positions(&a.as_args()), [7, 8, 9]);
        assert_eq!(
            (cmd.first_key, cmd.last_key, cmd.key_step, cmd.arity),
            (3, 3, 1, -6)
        );
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"6379"), 6379);
        assert_eq!(atoi(b" 12ab"), 12);
        assert_eq!(atoi(b"-5"), -5);
        assert_eq!(atoi(b"x"), 0);
        assert_eq!(atoi(b"99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn moves_a_key_and_reuses_the_connection() {
        let (port, t) = fake_target(vec![vec![
            (2, b"+OK\r\n+OK\r\n"),
            (1, b"+OK\r\n"),
            (2, b"+OK\r\n+OK\r\n"),
        ]]);
        let p = port.to_string();
        let mut h = Harness::new();
        h.cmd("SET k hello");
        h.cmd("SET t v PX 100000");
        let dump = h.run(&[b"DUMP", b"k"]);
        let prop = h.propagated(&format!("MIGRATE 127.0.0.1 {p} k 3 1000"));
        assert_eq!(prop, ["DEL k"]);
        assert_eq!(h.cmd("EXISTS k"), ":0\r\n");
        // Same database: no SELECT on the cached connection; COPY keeps
        // the key and propagates nothing.
        assert!(h
            .propagated(&format!("MIGRATE 127.0.0.1 {p} t 3 1000 COPY"))
            .is_empty());
        assert_eq!(h.cmd("EXISTS t"), ":1\r\n");
        assert_eq!(h.srv.migrate_sockets.len(), 1);
        // Another database: SELECT again.
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {p} t 5 1000 REPLACE")),
            "+OK\r\n"
        );
        let got = t.join().unwrap().remove(0);
        assert_eq!(
            names(&got),
            ["SELECT", "RESTORE", "RESTORE", "SELECT", "RESTORE"]
        );
        assert_eq!(got[0], [b"SELECT".to_vec(), b"3".to_vec()]);
        // key, TTL 0, the DUMP payload, no REPLACE.
        assert_eq!(got[1].len(), 4);
        assert_eq!((s(&got[1][1]), s(&got[1][2])), ("k".into(), "0".into()));
        assert_eq!(
            &dump[dump.len() - got[1][3].len() - 2..dump.len() - 2],
            &got[1][3][..]
        );
        let ttl: i64 = s(&got[2][2]).parse().unwrap();
        assert!((99_000..=100_000).contains(&ttl), "{ttl}");
        assert_eq!(got[3][1], b"5");
        assert_eq!(s(&got[4][4]), "REPLACE");
    }

    #[test]
    fn exact_pipeline_bytes_with_auth2() {
        let mut buf = Vec::new();
        push_command(&mut buf, &[b"AUTH", b"u", b"pw"]);
        assert_eq!(buf, b"*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$2\r\npw\r\n");
    }

    #[test]
    fn target_errors_keep_the_keys() {
        let (port, t) = fake_target(vec![vec![
            (3, b"+OK\r\n+OK\r\n-BUSYKEY Target key name already exists.\r\n"),
            (3, b"-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n-NOAUTH Authentication required.\r\n"),
        ]]);
        let p = port.to_string();
        let mut h = Harness::new();
        h.cmd("SET a 1");
        h.cmd("SET b 2");
        // The first key moved, the second did not: the error is reported
        // and only the moved key is deleted (and propagated).
        crate::persistence::aof::capture(&mut h.srv);
        let reply = h.run(&[
            b"MIGRATE",
            b"127.0.0.1",
            p.as_bytes(),
            b"",
            b"0",
            b"1000",
            b"KEYS",
            b"a",
            b"nokey",
            b"b",
        ]);
        assert_eq!(
            s(&reply),
            "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
        );
        let prop: Vec<Vec<String>> = crate::persistence::aof::take_captured()
            .into_iter()
            .filter(|c| c[0] != "SELECT")
            .collect();
        assert_eq!(prop, [["DEL", "a"]]);
        assert_eq!(h.cmd("EXISTS a b"), ":1\r\n");
        h.cmd("SET a 1");
        // After an error the database is no longer trusted: SELECT again.
        // A failed AUTH fails every key, reported with AUTH's error.
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {p} a 0 1000 AUTH pw")),
            "-ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(h.cmd("EXISTS a"), ":1\r\n");
        let got = t.join().unwrap().remove(0);
        assert_eq!(
            names(&got),
            ["SELECT", "RESTORE", "RESTORE", "AUTH", "SELECT", "RESTORE"]
        );
        assert_eq!(s(&got[2][1]), "b");
    }

    #[test]
    fn busykey_reply_bytes() {
        let (port, t) = fake_target(vec![vec![(
            2,
            b"+OK\r\n-BUSYKEY Target key name already exists.\r\n",
        )]]);
        let mut h = Harness::new();
        h.cmd("SET a 1");
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {port} a 0 1000")),
            "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
        );
        t.join().unwrap();
    }

    #[test]
    fn nokey_and_argument_errors() {
        let mut h = Harness::new();
        assert_eq!(h.cmd("MIGRATE 127.0.0.1 1 missing 0 1000"), "+NOKEY\r\n");
        assert_eq!(
            h.cmd("MIGRATE 127.0.0.1 1 k 0 x"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.cmd("MIGRATE 127.0.0.1 1 k y 1000"),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            h.cmd("MIGRATE 127.0.0.1 1 k 0 1000 bad"),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            h.cmd("MIGRATE 127.0.0.1 1 k 0 1000 KEYS a"),
            "-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string\r\n"
        );
        assert_eq!(
            h.cmd("MIGRATE 127.0.0.1 1"),
            "-ERR wrong number of arguments for 'migrate' command\r\n"
        );
    }

    #[test]
    fn io_errors() {
        let mut h = Harness::new();
        h.cmd("SET k v");
        // Nobody listens on a port just released.
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {port} k 0 1000")),
            "-IOERR error or timeout connecting to the client\r\n"
        );
        assert_eq!(
            h.cmd("MIGRATE no.such.host.invalid 6379 k 0 100"),
            "-IOERR error or timeout connecting to the client\r\n"
        );
        // A target that accepts (the kernel's backlog) but never replies.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let start = Instant::now();
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {port} k 0 100")),
            "-IOERR error or timeout reading to target instance\r\n"
        );
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(h.cmd("EXISTS k"), ":1\r\n");
        assert!(h.srv.migrate_sockets.is_empty());
    }

    #[test]
    fn a_closed_cached_connection_is_replaced() {
        // The first connection is closed by the target after one MIGRATE:
        // the next one fails on it, reconnects once and SELECTs again.
        let (port, t) = fake_target(vec![
            vec![(2, b"+OK\r\n+OK\r\n")],
            vec![(2, b"+OK\r\n+OK\r\n")],
        ]);
        let mut h = Harness::new();
        h.cmd("SET a 1");
        h.cmd("SET b 2");
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {port} a 0 1000")),
            "+OK\r\n"
        );
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {port} b 0 1000")),
            "+OK\r\n"
        );
        let got = t.join().unwrap();
        assert_eq!(names(&got[1]), ["SELECT", "RESTORE"]);
        assert_eq!(h.cmd("EXISTS a b"), ":0\r\n");
    }

    #[test]
    fn idle_connections_close() {
        let (port, t) = fake_target(vec![vec![(2, b"+OK\r\n+OK\r\n")]]);
        let mut h = Harness::new();
        h.cmd("SET a 1");
        assert_eq!(
            h.cmd(&format!("MIGRATE 127.0.0.1 {port} a 0 1000")),
            "+OK\r\n"
        );
        t.join().unwrap();
        let now = Instant::now();
        h.srv.migrate_sockets.close_idle(now);
        assert_eq!(h.srv.migrate_sockets.len(), 1);
        h.srv
            .migrate_sockets
            .close_idle(now + Duration::from_secs(11));
        assert!(h.srv.migrate_sockets.is_empty());
    }
}
