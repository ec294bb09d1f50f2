//! Test harness: starts the real `ferrokey-server` binary on a free loopback
//! port in its own temporary directory, and stops it on drop. Also the one
//! raw RESP client the integration tests share ([`Client`], replies as [`V`]
//! or as exact bytes) and helpers to read INFO fields.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct TestServer {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    /// Whether dropping the server removes `dir` (not for `start_in`).
    owns_dir: bool,
}

/// A port free right now and never handed out before by this process.
fn free_port() -> u16 {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("no free port");
        let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Starts the server with extra `--name value` arguments.
    pub fn start_with(extra: &[&str]) -> TestServer {
        let dir = new_temp_dir();
        let mut s = TestServer::start_in(&dir, extra);
        s.owns_dir = true;
        s
    }

    /// Starts the server on an existing directory (whose RDB / AOF it
    /// loads), which is left in place when the server stops: for restarts.
    /// `--save ""` comes first, so `extra` may set save points.
    pub fn start_in(dir: &std::path::Path, extra: &[&str]) -> TestServer {
        // The port is free when picked but anything (another test's server,
        // a client's ephemeral port) may take it before the server binds:
        // a server that exits at once gets another port.
        for _ in 0..5 {
            let port = free_port();
            let child = server_command(dir, port, extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn ferrokey-server");
            let mut s = TestServer {
                child,
                port,
                dir: dir.to_path_buf(),
                owns_dir: false,
            };
            if s.wait_ready_or_exit() {
                return s;
            }
        }
        panic!("ferrokey-server did not start in {}", dir.display());
    }

    /// Waits until the server accepts connections (true) or its process
    /// has exited (false).
    fn wait_ready_or_exit(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                // Another test's server may hold the port we picked: only
                // ours answers with our child's pid.
                return self.answers_as_ours(stream);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("ferrokey-server did not start on port {}", self.port);
    }

    fn answers_as_ours(&mut self, mut stream: TcpStream) -> bool {
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        if stream.write_all(b"INFO server\r\n").is_err() {
            return false;
        }
        let mut r = BufReader::new(stream);
        let want = format!("process_id:{}", self.child.id());
        let mut line = String::new();
        while r.read_line(&mut line).is_ok_and(|n| n > 0) {
            if line.starts_with('-') {
                // NOAUTH and the like: cannot tell, take it as ours.
                return true;
            }
            if line.trim_end() == want {
                return true;
            }
            if line.starts_with("process_id:") {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return false;
            }
            line.clear();
        }
        false
    }

    /// Runs the server on `dir` expecting it to refuse to start: its exit
    /// code and everything it logged.
    pub fn start_failing(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, String) {
        let out = server_command(dir, free_port(), extra)
            .stdin(Stdio::null())
            .output()
            .expect("run ferrokey-server");
        let mut log = String::from_utf8_lossy(&out.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code(), log)
    }

    /// Kills the server with SIGKILL (no shutdown work at all) and waits
    /// for it; the directory stays.
    pub fn kill9(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.owns_dir = false;
        self.dir.clone()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A RESP2 connection through the `redis` crate.
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("connect")
    }

    /// A RESP3 connection through the `redis` crate.
    pub fn conn3(&self) -> redis::Connection {
        redis::Client::open(format!("{}?protocol=resp3", self.url()))
            .and_then(|c| c.get_connection())
            .expect("connect resp3")
    }

    /// A raw TCP connection, for exact protocol bytes.
    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        Raw(s)
    }

    /// Runs `redis-cli -p PORT args...` and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli is installed (apt-get install redis-tools)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `timeout` for the process to exit; its exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A fresh empty directory under the system's temp dir.
pub fn new_temp_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ferrokey-test-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn server_command(dir: &std::path::Path, port: u16, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrokey-server"));
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
    ])
    .arg("--dir")
    .arg(dir)
    .args(extra);
    cmd
}

/// A raw connection: send bytes, read exact replies.
pub struct Raw(pub TcpStream);

impl Raw {
    pub fn send(&mut self, bytes: &[u8]) {
        self.0.write_all(bytes).expect("write");
    }

    /// Reads until `n` bytes arrived.
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0u8; n];
        self.0.read_exact(&mut buf).expect("read");
        buf
    }

    /// Sends a command as a RESP array and reads the reply bytes until they
    /// equal `expected` in length, returning them.
    pub fn roundtrip(&mut self, args: &[&[u8]], expected_len: usize) -> Vec<u8> {
        self.send(&encode(args));
        self.read_exact(expected_len)
    }

    /// Asserts the next reply is exactly `expected`.
    pub fn expect(&mut self, expected: &[u8]) {
        let got = self.read_exact(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "reply bytes differ"
        );
    }

    /// Reads until EOF (the server closed the connection).
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        let _ = self.0.read_to_end(&mut v);
        v
    }
}

/// Encodes a command as a RESP multibulk.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

// ---- a raw RESP client that keeps every reply's exact type -----------------

/// One reply, decoded without losing its RESP2 / RESP3 type, so tests can
/// tell `$-1` from `*-1` from `_`, or a bulk from a verbatim string.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Simple(String),
    Err(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// RESP2 `$-1`.
    Nil,
    /// RESP2 `*-1`.
    NilArray,
    /// RESP3 `_`.
    Null,
    /// `*`, and RESP3 `>` pushes (no test needs to tell them apart).
    Arr(Vec<V>),
    Map(Vec<(V, V)>),
    Set(Vec<V>),
    /// RESP3 `=`: the format (`txt`, `mkd`) and the text.
    Verbatim(String, String),
    /// Any other type (double, boolean, big number...): its whole line.
    Other(String),
}

impl V {
    /// The text of a bulk, verbatim, simple or error reply.
    pub fn text(&self) -> String {
        match self {
            V::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            V::Verbatim(_, t) | V::Simple(t) | V::Err(t) => t.clone(),
            other => panic!("not text: {other:?}"),
        }
    }
}

pub fn ok() -> V {
    V::Simple("OK".into())
}
pub fn err(s: &str) -> V {
    V::Err(s.to_string())
}
pub fn int(n: i64) -> V {
    V::Int(n)
}
pub fn bulk(s: &str) -> V {
    V::Bulk(s.as_bytes().to_vec())
}
pub fn as_int(v: V) -> i64 {
    match v {
        V::Int(n) => n,
        other => panic!("not an integer: {other:?}"),
    }
}

/// A plain TCP connection speaking RESP by hand, so every reply is seen as
/// the server sent it: decoded into a [`V`] (`call`, `read`) or as its exact
/// bytes (`call_raw`, `cmd_raw`, `read_raw`).
pub struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    pub fn new(s: &TestServer) -> Client {
        let w = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let r = BufReader::new(w.try_clone().expect("clone"));
        Client { r, w }
    }

    /// Sends one command without reading its reply (pipelining).
    pub fn send(&mut self, args: &[&str]) {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send_raw(&a);
    }

    /// Like [`Client::send`] for binary arguments.
    pub fn send_raw(&mut self, args: &[&[u8]]) {
        self.w.write_all(&encode(args)).expect("write");
    }

    pub fn call(&mut self, args: &[&str]) -> V {
        self.send(args);
        self.read()
    }

    /// One raw line as received, CRLF included; empty once the server
    /// closed the connection.
    pub fn line(&mut self) -> String {
        let mut line = String::new();
        self.r.read_line(&mut line).expect("read");
        line
    }

    /// The header line of the next reply, CRLF included. Panics when the
    /// connection is closed or the line is cut short, so a missing reply
    /// fails the test where it happens.
    fn header(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).expect("read");
        assert!(!line.is_empty(), "connection closed");
        assert!(line.ends_with(b"\r\n"), "truncated reply {line:?}");
        line
    }

    /// The `n` bytes of a bulk payload and its CRLF.
    fn payload(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n + 2];
        self.r.read_exact(&mut b).expect("bulk");
        assert!(b.ends_with(b"\r\n"), "bulk not ended by CRLF");
        b
    }

    /// Reads and decodes the next reply.
    pub fn read(&mut self) -> V {
        let head = self.header();
        let line = std::str::from_utf8(&head[..head.len() - 2]).expect("reply line is UTF-8");
        let (t, rest) = line.split_at(1);
        let n = || rest.parse::<i64>().expect("length");
        match t {
            "+" => V::Simple(rest.to_string()),
            "-" => V::Err(rest.to_string()),
            ":" => V::Int(n()),
            "_" => V::Null,
            "$" if n() < 0 => V::Nil,
            "$" | "=" => {
                let mut b = self.payload(n() as usize);
                b.truncate(b.len() - 2);
                if t == "=" {
                    let s = String::from_utf8_lossy(&b).into_owned();
                    V::Verbatim(s[..3].to_string(), s[4..].to_string())
                } else {
                    V::Bulk(b)
                }
            }
            "*" if n() < 0 => V::NilArray,
            "*" | ">" => V::Arr((0..n()).map(|_| self.read()).collect()),
            "~" => V::Set((0..n()).map(|_| self.read()).collect()),
            "%" => V::Map((0..n()).map(|_| (self.read(), self.read())).collect()),
            _ => V::Other(line.to_string()),
        }
    }

    /// Sends one command and returns its reply's exact bytes.
    pub fn call_raw(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send_raw(args);
        self.read_raw()
    }

    /// Runs a command given as space-separated words; its reply's bytes.
    pub fn cmd_raw(&mut self, line: &str) -> Vec<u8> {
        let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        self.call_raw(&words)
    }

    /// Exactly the next `n` bytes, whatever they are.
    pub fn read_bytes(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.r.read_exact(&mut b).expect("read");
        b
    }

    /// The exact bytes of the next whole reply, of any type, nested.
    pub fn read_raw(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_raw_into(&mut out);
        out
    }

    fn read_raw_into(&mut self, out: &mut Vec<u8>) {
        let head = self.header();
        out.extend_from_slice(&head);
        let n = || -> i64 {
            std::str::from_utf8(&head[1..head.len() - 2])
                .ok()
                .and_then(|s| s.parse().ok())
                .expect("length")
        };
        match head[0] {
            b'$' | b'=' | b'!' => {
                let n = n();
                if n >= 0 {
                    let body = self.payload(n as usize);
                    out.extend_from_slice(&body);
                }
            }
            b'*' | b'~' | b'>' => {
                for _ in 0..n().max(0) {
                    self.read_raw_into(out);
                }
            }
            b'%' | b'|' => {
                for _ in 0..2 * n().max(0) {
                    self.read_raw_into(out);
                }
            }
            _ => {}
        }
    }

    /// Switches to RESP3.
    pub fn hello3(&mut self) {
        assert!(matches!(self.call(&["HELLO", "3"]), V::Map(_)));
    }

    /// Whether the server knows a command (others may not have landed yet).
    pub fn has_command(&mut self, name: &str) -> bool {
        let r = self.call_raw(&[b"COMMAND", b"INFO", name.as_bytes()]);
        r.starts_with(b"*1\r\n*") && !r.starts_with(b"*1\r\n*-1")
    }

    /// The text of `INFO sections...`.
    pub fn info(&mut self, sections: &[&str]) -> String {
        let mut args = vec!["INFO"];
        args.extend_from_slice(sections);
        self.call(&args).text()
    }

    /// A numeric field of `INFO section`; panics when it is missing.
    pub fn info_int(&mut self, section: &str, field: &str) -> i64 {
        let V::Bulk(text) = self.call(&["INFO", section]) else {
            panic!("INFO {section} is not a bulk string")
        };
        info_num(&String::from_utf8_lossy(&text), field)
            .unwrap_or_else(|| panic!("no {field} in INFO"))
    }

    /// True if nothing arrives within `ms` (the connection stays open).
    pub fn silent_for(&mut self, ms: u64) -> bool {
        self.w
            .set_read_timeout(Some(Duration::from_millis(ms)))
            .ok();
        let mut buf = [0u8; 1];
        let silent = match self.r.read(&mut buf) {
            Err(e) => matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            Ok(_) => false,
        };
        self.w.set_read_timeout(Some(Duration::from_secs(10))).ok();
        silent
    }

    /// True once the server closed the connection.
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        match self.r.read_to_end(&mut rest) {
            Ok(_) => rest.is_empty(),
            // A reset also means closed; a timeout means still open.
            Err(e) => !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        }
    }
}

// ---- INFO fields, time, waiting ---------------------------------------------

/// The value of `name:value` in an INFO text, as written.
pub fn info_field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::to_string)
}

/// The value of `name:value` in an INFO text, parsed as a number.
pub fn info_num<T: FromStr>(info: &str, name: &str) -> Option<T> {
    info_field(info, name).and_then(|v| v.trim().parse().ok())
}

/// A numeric field of `INFO section`, through a `redis` crate connection;
/// panics when it is missing.
pub fn redis_info_u64(con: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg(section).query(con).unwrap();
    info_num(&info, field).unwrap_or_else(|| panic!("{field} in INFO {section}"))
}

/// `used_memory` of `INFO memory`, through a `redis` crate connection.
pub fn used_memory(con: &mut redis::Connection) -> u64 {
    redis_info_u64(con, "memory", "used_memory")
}

/// Milliseconds since the Unix epoch, as the server's clock sees them.
pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

/// Polls `done` every 20 ms until it holds; panics with `what` once
/// `timeout` passed.
pub fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until INFO reports `n` blocked clients, so a test's next write
/// really happens after the others blocked.
pub fn wait_blocked(c: &mut Client, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let info = c.call(&["INFO", "clients"]).text();
        if info.contains(&format!("blocked_clients:{n}\r\n")) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {n} blocked: {info}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Debian's real `redis-server` (7.0) on a free loopback port, for the
/// interoperability tests; killed on drop. `.ci/run` installs it; a
/// machine without it fails these tests rather than skipping them.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// Starts it on `dir` (where it reads and writes its files) with extra
    /// `--name value` arguments, and waits until it answers.
    pub fn start(dir: &std::path::Path, extra: &[&str]) -> RedisServer {
        let path = "/usr/bin/redis-server";
        assert!(
            std::path::Path::new(path).exists(),
            "redis-server is not installed (apt-get install -y redis-server)"
        );
        let port = free_port();
        let child = Command::new(path)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let r = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            // Answers PING only once a file it loads is loaded.
            if let Ok(mut c) = redis::Client::open(r.url()).and_then(|c| c.get_connection()) {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return r;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {port}");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("redis-server connection")
    }

    /// SHUTDOWN NOSAVE, then waits for the process.
    pub fn stop(mut self) {
        let _ = redis::cmd("SHUTDOWN")
            .arg("NOSAVE")
            .query::<()>(&mut self.conn());
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
