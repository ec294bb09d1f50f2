//! HyperLogLog commands end to end: values written by real servers, exact
//! replies and errors, promotion, merging, notifications, and (when Debian's
//! `redis-server` is installed) byte-for-byte agreement with Redis on random
//! inputs.

mod common;
use common::TestServer;
use redis::Value;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

type Reply = Result<Value, String>;

/// Runs one command; server errors become "CODE detail" text.
fn q(con: &mut redis::Connection, args: &[&[u8]]) -> Reply {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query::<Value>(con).map_err(|e| {
        format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))
            .trim_end()
            .to_string()
    })
}

/// Like [`q`] with space-separated words.
fn qs(con: &mut redis::Connection, line: &str) -> Reply {
    let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
    q(con, &words)
}

fn int(con: &mut redis::Connection, line: &str) -> i64 {
    match qs(con, line) {
        Ok(Value::Int(n)) => n,
        other => panic!("{line}: {other:?}"),
    }
}

fn get(con: &mut redis::Connection, key: &str) -> Vec<u8> {
    match q(con, &[b"GET", key.as_bytes()]) {
        Ok(Value::BulkString(b)) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

fn set(con: &mut redis::Connection, key: &str, val: &[u8]) {
    assert_eq!(q(con, &[b"SET", key.as_bytes(), val]), Ok(Value::Okay));
}

fn status(s: &str) -> Reply {
    if s == "OK" {
        Ok(Value::Okay)
    } else {
        Ok(Value::SimpleString(s.into()))
    }
}

fn error(s: &str) -> Reply {
    Err(s.into())
}

/// PFADD key elems... in one command.
fn pfadd(con: &mut redis::Connection, key: &str, elems: &[String]) -> Reply {
    let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
    args.extend(elems.iter().map(|e| e.as_bytes()));
    q(con, &args)
}

fn elems(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
const INVALID: &str = "INVALIDOBJ Corrupted HLL object detected";

// ---- values written by real servers ----------------------------------------

/// The `hll` value of every RDB fixture: (file name, bytes).
fn fixture_values() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rdb");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("no fixtures at {}: skipped", dir.display());
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // The record is `"key": "hll", ..., "value": "<hex>"`.
        let at = text
            .find("\"key\": \"hll\"")
            .expect("fixture has an hll key");
        let rest = &text[at..];
        let v = rest.find("\"value\": \"").unwrap() + "\"value\": \"".len();
        let hex = &rest[v..v + rest[v..].find('"').unwrap()];
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        out.push((
            path.file_name().unwrap().to_string_lossy().into_owned(),
            bytes,
        ));
    }
    out.sort();
    out
}

#[test]
fn fixture_values_count_like_the_servers_that_wrote_them() {
    let s = TestServer::start();
    let mut con = s.conn();
    let fixtures = fixture_values();
    for (name, val) in &fixtures {
        // The generators ran PFADD hll e0 .. e499; Redis/Valkey count 506.
        set(&mut con, "hll", val);
        assert_eq!(int(&mut con, "PFCOUNT hll"), 506, "{name}");
        assert_eq!(qs(&mut con, "PFDEBUG ENCODING hll"), status("sparse"));
        assert_eq!(
            qs(&mut con, "OBJECT ENCODING hll"),
            Ok(Value::BulkString(b"raw".to_vec()))
        );
        // The same PFADDs here give the same bytes (the cache is stale until
        // a PFCOUNT, as in the fixture).
        let _ = qs(&mut con, "DEL fresh");
        assert_eq!(
            pfadd(&mut con, "fresh", &elems("e", 0..500)),
            Ok(Value::Int(1))
        );
        assert!(get(&mut con, "fresh") == *val, "{name}: PFADD bytes differ");
        // Adding them again changes nothing.
        assert_eq!(
            pfadd(&mut con, "hll", &elems("e", 0..500)),
            Ok(Value::Int(0))
        );
    }
}

// ---- PFADD / PFCOUNT -------------------------------------------------------

#[test]
fn pfadd_and_pfcount_basics() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(qs(&mut con, "PFADD hll"), Ok(Value::Int(1)));
    assert_eq!(int(&mut con, "EXISTS hll"), 1);
    assert_eq!(int(&mut con, "PFCOUNT hll"), 0);
    assert_eq!(qs(&mut con, "PFADD hll a b c"), Ok(Value::Int(1)));
    assert_eq!(qs(&mut con, "PFADD hll a b c"), Ok(Value::Int(0)));
    assert_eq!(q(&mut con, &[b"PFADD", b"hll", b""]), Ok(Value::Int(1)));
    let _ = qs(&mut con, "DEL hll");
    qs(&mut con, "PFADD hll 1 2 3 4 5").unwrap();
    assert_eq!(int(&mut con, "PFCOUNT hll"), 5);
    qs(&mut con, "PFADD hll 6 7 8 8 9 10").unwrap();
    assert_eq!(int(&mut con, "PFCOUNT hll"), 10);
    assert_eq!(int(&mut con, "PFCOUNT nokey"), 0);
    // PFCOUNT of a missing key creates nothing.
    assert_eq!(int(&mut con, "EXISTS nokey"), 0);
}

#[test]
fn cache_byte_tracks_changes() {
    let s = TestServer::start();
    let mut con = s.conn();
    qs(&mut con, "PFADD hll a b c").unwrap();
    let byte15 = |con: &mut redis::Connection| get(con, "hll")[15];
    assert_eq!(byte15(&mut con), 0x80);
    assert_eq!(int(&mut con, "PFCOUNT hll"), 3);
    assert_eq!(byte15(&mut con), 0x00);
    assert_eq!(get(&mut con, "hll")[8], 3);
    qs(&mut con, "PFADD hll a b c").unwrap();
    assert_eq!(byte15(&mut con), 0x00);
    qs(&mut con, "PFADD hll 1 2 3").unwrap();
    assert_eq!(byte15(&mut con), 0x80);
}

#[test]
fn cardinality_within_two_percent() {
    let s = TestServer::start();
    let mut con = s.conn();
    for (key, n) in [("h10k", 10_000usize), ("h100k", 100_000)] {
        for start in (0..n).step_by(5_000) {
            pfadd(&mut con, key, &elems("acc:", start..start + 5_000)).unwrap();
        }
        let card = int(&mut con, &format!("PFCOUNT {key}"));
        let err = (card - n as i64).abs() as f64 / n as f64;
        assert!(err < 0.02, "{n} elements counted as {card}");
        assert_eq!(
            qs(&mut con, &format!("PFDEBUG ENCODING {key}")),
            status("dense")
        );
    }
    // The union of the two: the 10k are a subset of the 100k.
    let both = int(&mut con, "PFCOUNT h10k h100k");
    assert!((both - 100_000).abs() < 2_000, "union {both}");
    assert_eq!(both, int(&mut con, "PFCOUNT h100k"));
}

#[test]
fn pfcount_of_many_keys_is_the_union_and_changes_nothing() {
    let s = TestServer::start();
    let mut con = s.conn();
    pfadd(&mut con, "h1", &elems("foo-", 0..3000)).unwrap();
    pfadd(&mut con, "h2", &elems("bar-", 0..3000)).unwrap();
    pfadd(&mut con, "h3", &elems("foo-", 1000..4000)).unwrap();
    let before: Vec<Vec<u8>> = ["h1", "h2", "h3"]
        .iter()
        .map(|k| get(&mut con, k))
        .collect();
    let card = int(&mut con, "PFCOUNT h1 h2 h3 missing");
    assert!((card - 7000).abs() < 7000 * 5 / 100, "union {card}");
    let after: Vec<Vec<u8>> = ["h1", "h2", "h3"]
        .iter()
        .map(|k| get(&mut con, k))
        .collect();
    assert!(before == after, "multi-key PFCOUNT changed a value");
    assert_eq!(int(&mut con, "PFCOUNT missing1 missing2"), 0);
    qs(&mut con, "PFMERGE all h1 h2 h3").unwrap();
    assert_eq!(int(&mut con, "PFCOUNT all"), card);
}

// ---- promotion -------------------------------------------------------------

#[test]
fn sparse_promotes_to_dense() {
    let s = TestServer::start();
    let mut con = s.conn();
    qs(&mut con, "CONFIG SET hll-sparse-max-bytes 3000").unwrap();
    let mut n = 0;
    while n < 20_000 {
        pfadd(&mut con, "hll", &elems("p", n..n + 100)).unwrap();
        n += 100;
        let card = int(&mut con, "PFCOUNT hll");
        assert!(
            (card - n as i64).abs() as f64 <= card as f64 * 0.05,
            "{n}: {card}"
        );
        let enc = qs(&mut con, "PFDEBUG ENCODING hll");
        let len = int(&mut con, "STRLEN hll");
        if n < 1000 {
            assert_eq!(enc, status("sparse"), "{n}");
            assert!(len <= 3000);
        } else if n > 10_000 {
            assert_eq!(enc, status("dense"), "{n}");
            assert_eq!(len, 12304);
        }
    }

    // Lowering the limit promotes on the next growth.
    let _ = qs(&mut con, "DEL hll");
    qs(&mut con, "PFADD hll a b c d e d g h i j k").unwrap();
    assert_eq!(qs(&mut con, "PFDEBUG ENCODING hll"), status("sparse"));
    qs(&mut con, "CONFIG SET hll-sparse-max-bytes 30").unwrap();
    qs(&mut con, "PFADD hll new_element").unwrap();
    assert_eq!(qs(&mut con, "PFDEBUG ENCODING hll"), status("dense"));

    // The sparse value never outgrows the limit.
    for max in [100, 500, 3000] {
        qs(&mut con, &format!("CONFIG SET hll-sparse-max-bytes {max}")).unwrap();
        let _ = qs(&mut con, "DEL hll");
        qs(&mut con, "PFADD hll").unwrap();
        let mut i = 0;
        loop {
            let len = int(&mut con, "STRLEN hll");
            if len > max {
                break;
            }
            assert_eq!(qs(&mut con, "PFDEBUG ENCODING hll"), status("sparse"));
            pfadd(&mut con, "hll", &elems("m", i..i + 10)).unwrap();
            i += 10;
        }
        assert_eq!(int(&mut con, "STRLEN hll"), 12304);
        assert_eq!(qs(&mut con, "PFDEBUG ENCODING hll"), status("dense"));
    }
}

#[test]
fn sparse_and_dense_give_the_same_counts() {
    let s = TestServer::start();
    let mut con = s.conn();
    for n in [0usize, 1, 7, 33, 99, 250] {
        let _ = qs(&mut con, "DEL s d");
        qs(&mut con, "PFADD d").unwrap();
        assert_eq!(qs(&mut con, "PFDEBUG TODENSE d"), Ok(Value::Int(1)));
        let e = elems(&format!("sd{n}-"), 0..n);
        pfadd(&mut con, "s", &e).unwrap();
        pfadd(&mut con, "d", &e).unwrap();
        assert_eq!(qs(&mut con, "PFDEBUG ENCODING s"), status("sparse"));
        assert_eq!(qs(&mut con, "PFDEBUG ENCODING d"), status("dense"));
        assert_eq!(
            int(&mut con, "PFCOUNT s"),
            int(&mut con, "PFCOUNT d"),
            "{n}"
        );
    }
}

// ---- PFMERGE ---------------------------------------------------------------

#[test]
fn pfmerge_semantics() {
    let s = TestServer::start();
    let mut con = s.conn();
    qs(&mut con, "PFADD hll1 a b c").unwrap();
    qs(&mut con, "PFADD hll2 b c d").unwrap();
    qs(&mut con, "PFADD hll3 c d e").unwrap();
    assert_eq!(qs(&mut con, "PFMERGE hll hll1 hll2 hll3"), status("OK"));
    assert_eq!(int(&mut con, "PFCOUNT hll"), 5);
    assert_eq!(
        qs(&mut con, "OBJECT ENCODING hll"),
        Ok(Value::BulkString(b"raw".to_vec()))
    );

    // Missing sources make an empty destination.
    assert_eq!(qs(&mut con, "PFMERGE dest src"), status("OK"));
    assert_eq!(int(&mut con, "EXISTS dest"), 1);
    assert_eq!(int(&mut con, "PFCOUNT dest"), 0);
    assert_eq!(qs(&mut con, "PFMERGE dest2 src src2"), status("OK"));
    assert_eq!(int(&mut con, "PFCOUNT dest2"), 0);
    assert_eq!(qs(&mut con, "PFMERGE alone"), status("OK"));
    assert_eq!(int(&mut con, "PFCOUNT alone"), 0);
    assert_eq!(qs(&mut con, "PFDEBUG ENCODING alone"), status("sparse"));

    // The destination is one of the inputs.
    qs(&mut con, "PFADD self a b c").unwrap();
    assert_eq!(qs(&mut con, "PFMERGE self"), status("OK"));
    assert_eq!(int(&mut con, "PFCOUNT self"), 3);
    assert_eq!(qs(&mut con, "PFMERGE self hll3"), status("OK"));
    assert_eq!(int(&mut con, "PFCOUNT self"), 5);

    // A dense input makes the destination dense; sparse inputs keep it sparse.
    assert_eq!(qs(&mut con, "PFDEBUG ENCODING hll"), status("sparse"));
    qs(&mut con, "PFADD dn x").unwrap();
    qs(&mut con, "PFDEBUG TODENSE dn").unwrap();
    assert_eq!(qs(&mut con, "PFMERGE sp hll1 dn"), status("OK"));
    assert_eq!(qs(&mut con, "PFDEBUG ENCODING sp"), status("dense"));
    assert_eq!(int(&mut con, "PFCOUNT sp"), 4);

    // Type checks, on sources and destination alike.
    set(&mut con, "str", b"bar");
    qs(&mut con, "LPUSH list x").unwrap();
    assert_eq!(qs(&mut con, "PFMERGE out str"), error(NOT_HLL));
    assert_eq!(qs(&mut con, "PFMERGE str hll1"), error(NOT_HLL));
    assert_eq!(
        qs(&mut con, "PFMERGE out list"),
        error("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    assert_eq!(int(&mut con, "EXISTS out"), 0);
}

// ---- errors ----------------------------------------------------------------

#[test]
fn type_and_corruption_errors() {
    let s = TestServer::start();
    let mut con = s.conn();
    set(&mut con, "foo", b"bar");
    set(&mut con, "num", b"12345");
    qs(&mut con, "SADD set x").unwrap();
    assert_eq!(qs(&mut con, "PFADD foo 1"), error(NOT_HLL));
    assert_eq!(qs(&mut con, "PFCOUNT foo"), error(NOT_HLL));
    assert_eq!(qs(&mut con, "PFCOUNT num"), error(NOT_HLL));
    assert_eq!(qs(&mut con, "PFCOUNT hll foo"), error(NOT_HLL));
    let wrong = error("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(qs(&mut con, "PFADD set 1"), wrong);
    assert_eq!(qs(&mut con, "PFCOUNT set"), wrong);
    assert_eq!(qs(&mut con, "PFDEBUG ENCODING set"), wrong);

    // Additional bytes at the tail of a sparse value.
    qs(&mut con, "PFADD hll a b c").unwrap();
    qs(&mut con, "APPEND hll hello").unwrap();
    assert_eq!(qs(&mut con, "PFCOUNT hll"), error(INVALID));
    assert_eq!(qs(&mut con, "PFCOUNT hll hll"), error(INVALID));
    assert_eq!(qs(&mut con, "PFMERGE x hll"), error(INVALID));
    assert_eq!(qs(&mut con, "PFDEBUG GETREG hll"), error(INVALID));
    assert_eq!(qs(&mut con, "PFDEBUG TODENSE hll"), error(INVALID));
    // PFADD only looks at the opcodes up to the register it updates.
    assert_eq!(qs(&mut con, "PFADD hll a"), Ok(Value::Int(0)));

    // Broken magic, unknown encoding, dense of the wrong length.
    let _ = qs(&mut con, "DEL hll");
    qs(&mut con, "PFADD hll a b c").unwrap();
    qs(&mut con, "SETRANGE hll 0 0123").unwrap();
    assert_eq!(qs(&mut con, "PFCOUNT hll"), error(NOT_HLL));
    let _ = qs(&mut con, "DEL hll");
    qs(&mut con, "PFADD hll a b c").unwrap();
    qs(&mut con, "SETRANGE hll 4 x").unwrap();
    assert_eq!(qs(&mut con, "PFCOUNT hll"), error(NOT_HLL));
    let _ = qs(&mut con, "DEL hll");
    qs(&mut con, "PFADD hll a b c").unwrap();
    q(&mut con, &[b"SETRANGE", b"hll", b"4", b"\0"]).unwrap();
    assert_eq!(qs(&mut con, "PFCOUNT hll"), error(NOT_HLL));
    assert_eq!(qs(&mut con, "PFADD hll z"), error(NOT_HLL));

    // Random corruption never brings the server down.
    let mut rng = Rng(7);
    for round in 0..200 {
        let _ = qs(&mut con, "DEL hll");
        let n = (rng.next() % 3000) as usize;
        pfadd(&mut con, "hll", &elems(&format!("f{round}-"), 0..n)).unwrap();
        for _ in 0..5 {
            let len = int(&mut con, "STRLEN hll") as u64;
            let pos = (rng.next() % len).to_string();
            let byte = [rng.next() as u8];
            q(&mut con, &[b"SETRANGE", b"hll", pos.as_bytes(), &byte]).unwrap();
            if rng.next() & 1 == 0 {
                break;
            }
        }
        let _ = qs(&mut con, "PFCOUNT hll");
        let _ = qs(&mut con, "PFADD hll x y z");
        let _ = qs(&mut con, "PFMERGE hll2 hll");
    }
    assert_eq!(qs(&mut con, "PING"), status("PONG"));
}

// ---- PFDEBUG / PFSELFTEST --------------------------------------------------

#[test]
fn pfdebug_subcommands() {
    let s = TestServer::start();
    let mut con = s.conn();
    qs(&mut con, "PFADD hll a b c").unwrap();
    assert_eq!(
        qs(&mut con, "PFDEBUG DECODE hll"),
        Ok(Value::BulkString(
            b"Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603".to_vec()
        ))
    );
    assert_eq!(qs(&mut con, "PFDEBUG encoding hll"), status("sparse"));
    // GETREG: the registers, converting the value to dense.
    let Ok(Value::Array(regs)) = qs(&mut con, "PFDEBUG GETREG hll") else {
        panic!("GETREG is not an array")
    };
    assert_eq!(regs.len(), 16384);
    let nonzero: Vec<(usize, i64)> = regs
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v {
            Value::Int(0) => None,
            Value::Int(n) => Some((i, *n)),
            other => panic!("register {other:?}"),
        })
        .collect();
    assert_eq!(nonzero, vec![(8436, 1), (12711, 2), (15780, 1)]);
    assert_eq!(qs(&mut con, "PFDEBUG ENCODING hll"), status("dense"));
    assert_eq!(qs(&mut con, "PFDEBUG TODENSE hll"), Ok(Value::Int(0)));
    assert_eq!(
        qs(&mut con, "PFDEBUG DECODE hll"),
        error("ERR HLL encoding is not sparse")
    );
    assert_eq!(
        qs(&mut con, "PFDEBUG NOPE hll"),
        error("ERR Unknown PFDEBUG subcommand 'NOPE'")
    );
    assert_eq!(
        qs(&mut con, "PFDEBUG ENCODING missing"),
        error("ERR The specified key does not exist")
    );
    assert_eq!(
        qs(&mut con, "PFDEBUG ENCODING"),
        error("ERR wrong number of arguments for 'pfdebug' command")
    );
    qs(&mut con, "PFADD sp x").unwrap();
    assert_eq!(qs(&mut con, "PFDEBUG TODENSE sp"), Ok(Value::Int(1)));
    assert_eq!(int(&mut con, "STRLEN sp"), 12304);
    assert_eq!(int(&mut con, "PFCOUNT sp"), 1);
}

#[test]
fn pfselftest_passes() {
    let s = TestServer::start();
    let mut con = s.conn();
    assert_eq!(qs(&mut con, "PFSELFTEST"), status("OK"));
    assert_eq!(
        qs(&mut con, "PFSELFTEST x"),
        error("ERR wrong number of arguments for 'pfselftest' command")
    );
}

// ---- notifications, WATCH, dirty --------------------------------------------

#[test]
fn keyspace_events_and_watch() {
    let s = TestServer::start();
    let mut con = s.conn();
    qs(&mut con, "CONFIG SET notify-keyspace-events E$").unwrap();
    let mut sub = s.conn();
    let mut ps = sub.as_pubsub();
    ps.subscribe("__keyevent@0__:pfadd").unwrap();
    ps.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    qs(&mut con, "PFADD h1 a").unwrap();
    qs(&mut con, "PFADD h1 a").unwrap(); // no change: no event
    qs(&mut con, "PFMERGE h2 h1").unwrap();
    let m1: String = ps.get_message().unwrap().get_payload().unwrap();
    let m2: String = ps.get_message().unwrap().get_payload().unwrap();
    assert_eq!((m1.as_str(), m2.as_str()), ("h1", "h2"));
    drop(ps);

    // Refreshing the cached count is a change to the key: WATCH sees it.
    let mut w = s.conn();
    qs(&mut w, "WATCH h1").unwrap();
    assert_eq!(int(&mut con, "PFCOUNT h1"), 1);
    qs(&mut w, "MULTI").unwrap();
    qs(&mut w, "PING").unwrap();
    assert_eq!(qs(&mut w, "EXEC"), Ok(Value::Nil));
    // ... but a valid cache is only read.
    qs(&mut w, "WATCH h1").unwrap();
    assert_eq!(int(&mut con, "PFCOUNT h1"), 1);
    qs(&mut w, "MULTI").unwrap();
    qs(&mut w, "PING").unwrap();
    assert_eq!(
        qs(&mut w, "EXEC"),
        Ok(Value::Array(vec![Value::SimpleString("PONG".into())]))
    );
}

// ---- against a real Redis ----------------------------------------------------

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// A `redis-server` from the system, if there is one, on a free port.
struct RealRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RealRedis {
    fn start() -> Option<RealRedis> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("ferrokey-hll-redis-{port}"));
        std::fs::create_dir_all(&dir).ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let r = RealRedis { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", r.port)).is_ok() {
                return Some(r);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .and_then(|c| c.get_connection())
            .expect("connect to redis-server")
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends the same command to both servers and requires the same reply.
fn both(a: &mut redis::Connection, b: &mut redis::Connection, args: &[&[u8]]) {
    let _ = both_r(a, b, args);
}

/// [`both`], returning the reply.
fn both_r(a: &mut redis::Connection, b: &mut redis::Connection, args: &[&[u8]]) -> Reply {
    let ra = q(a, args);
    let rb = q(b, args);
    let shown: Vec<String> = args
        .iter()
        .take(4)
        .map(|x| String::from_utf8_lossy(x).into())
        .collect();
    assert_eq!(ra, rb, "reply differs for {shown:?}");
    ra
}

fn same_value(a: &mut redis::Connection, b: &mut redis::Connection, key: &str) {
    let va = q(a, &[b"GET", key.as_bytes()]);
    let vb = q(b, &[b"GET", key.as_bytes()]);
    assert!(va == vb, "value of {key} differs from Redis");
}

#[test]
fn byte_for_byte_with_real_redis() {
    let Some(redis) = RealRedis::start() else {
        eprintln!("redis-server not available: skipped");
        return;
    };
    let s = TestServer::start();
    let mut a = s.conn();
    let mut b = redis.conn();
    let seed = std::env::var("HLL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let mut rng = Rng(seed);

    for max in ["3000", "200", "30"] {
        both(
            &mut a,
            &mut b,
            &[b"CONFIG", b"SET", b"hll-sparse-max-bytes", max.as_bytes()],
        );
        both(&mut a, &mut b, &[b"FLUSHALL"]);
        // Random batches into a few keys, random binary elements included,
        // from tiny (sparse) to large (dense).
        for round in 0..60 {
            let key = format!("k{}", rng.next() % 4);
            let n = match rng.next() % 4 {
                0 => 0,
                1 => (rng.next() % 5) as usize,
                2 => (rng.next() % 200) as usize,
                _ => (rng.next() % 3000) as usize,
            };
            let elems: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    let len = (rng.next() % 24) as usize;
                    (0..len).map(|_| rng.next() as u8).collect()
                })
                .collect();
            let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
            args.extend(elems.iter().map(Vec::as_slice));
            both(&mut a, &mut b, &args);
            same_value(&mut a, &mut b, &key);
            if round % 3 == 0 {
                both(&mut a, &mut b, &[b"PFCOUNT", key.as_bytes()]);
                same_value(&mut a, &mut b, &key);
            }
            if round % 5 == 0 {
                both(&mut a, &mut b, &[b"PFCOUNT", b"k0", b"k1", b"k2", b"k3"]);
                let dest = format!("m{}", rng.next() % 3);
                both(
                    &mut a,
                    &mut b,
                    &[b"PFMERGE", dest.as_bytes(), b"k0", key.as_bytes()],
                );
                same_value(&mut a, &mut b, &dest);
                both(&mut a, &mut b, &[b"PFCOUNT", dest.as_bytes()]);
            }
            if round % 7 == 0 {
                both(&mut a, &mut b, &[b"PFDEBUG", b"ENCODING", key.as_bytes()]);
                both(&mut a, &mut b, &[b"PFDEBUG", b"DECODE", key.as_bytes()]);
            }
        }
        for k in ["k0", "k1", "k2", "k3"] {
            both(&mut a, &mut b, &[b"PFCOUNT", k.as_bytes()]);
            same_value(&mut a, &mut b, k);
            both(&mut a, &mut b, &[b"PFDEBUG", b"GETREG", k.as_bytes()]);
            same_value(&mut a, &mut b, k);
        }
    }

    // Corrupted values: the same verdict, and the same bytes afterwards.
    both(
        &mut a,
        &mut b,
        &[b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"3000"],
    );
    let rounds: usize = std::env::var("HLL_FUZZ_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    for round in 0..rounds {
        both(&mut a, &mut b, &[b"DEL", b"c", b"d"]);
        // Mostly sparse values, sometimes dense ones.
        let cap = if round % 10 == 0 { 3000 } else { 400 };
        let n = (rng.next() % cap).to_string();
        let mut args: Vec<Vec<u8>> = vec![b"PFADD".to_vec(), b"c".to_vec()];
        args.extend((0..n.parse::<u64>().unwrap()).map(|i| format!("c{round}-{i}").into_bytes()));
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        both(&mut a, &mut b, &argv);
        let Ok(Value::Int(len)) = both_r(&mut a, &mut b, &[b"STRLEN", b"c"]) else {
            panic!("STRLEN")
        };
        // Damage the cached count or the registers: the header checks are
        // tested elsewhere.
        let pos = (8 + rng.next() % (len as u64 - 8)).to_string();
        let byte = [rng.next() as u8];
        both(&mut a, &mut b, &[b"SETRANGE", b"c", pos.as_bytes(), &byte]);
        if rng.next() % 3 == 1 {
            let tail: Vec<u8> = (0..rng.next() % 3).map(|_| rng.next() as u8).collect();
            both(&mut a, &mut b, &[b"APPEND", b"c", &tail]);
        }
        both(&mut a, &mut b, &[b"PFCOUNT", b"c", b"nokey"]);
        if round % 4 == 0 {
            both(&mut a, &mut b, &[b"PFDEBUG", b"DECODE", b"c"]);
            both(&mut a, &mut b, &[b"PFCOUNT", b"c"]);
            both(&mut a, &mut b, &[b"PFDEBUG", b"TODENSE", b"c"]);
            same_value(&mut a, &mut b, "c");
        }
        both(&mut a, &mut b, &[b"PFADD", b"c", b"x", b"y", b"zz"]);
        same_value(&mut a, &mut b, "c");
        both(&mut a, &mut b, &[b"PFCOUNT", b"c"]);
        both(&mut a, &mut b, &[b"PFMERGE", b"d", b"c"]);
        same_value(&mut a, &mut b, "d");
    }
}
