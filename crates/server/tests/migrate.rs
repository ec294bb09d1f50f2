//! MIGRATE between two Ferrokey servers, and with Debian's redis-server 7.0
//! on either side.

mod common;

use common::{err, int, ok, Client, RedisServer, TestServer, V};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn simple(s: &str) -> V {
    V::Simple(s.into())
}

/// Every value type, small and large encodings, some with TTLs, in the
/// source's current database.
fn fill(c: &mut Client) {
    let big: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut cmd = |args: &[&str]| {
        let r = c.call(args);
        assert!(!matches!(r, V::Err(_)), "{args:?}: {r:?}");
    };
    cmd(&["SET", "str", "hello"]);
    cmd(&["SET", "int", "12345", "PX", "500000"]);
    cmd(&["SET", "raw", &"x".repeat(100)]);
    cmd(&["RPUSH", "list", "a", "b", "3"]);
    cmd(&["EXPIRE", "list", "1000"]);
    let mut l = vec!["RPUSH", "biglist"];
    l.extend(big.iter().map(String::as_str));
    cmd(&l);
    cmd(&["HSET", "hash", "f1", "v1", "f2", "2"]);
    let mut h = vec!["HSET", "bighash"];
    for m in &big {
        h.extend([m.as_str(), m.as_str()]);
    }
    cmd(&h);
    cmd(&["SADD", "intset", "1", "2", "3"]);
    cmd(&["SADD", "set", "a", "b"]);
    let mut s = vec!["SADD", "bigset"];
    s.extend(big.iter().map(String::as_str));
    cmd(&s);
    cmd(&["ZADD", "zset", "1", "a", "2.5", "b"]);
    let mut z = vec!["ZADD", "bigzset"];
    let scores: Vec<String> = (0..300).map(|i| i.to_string()).collect();
    for (sc, m) in scores.iter().zip(&big) {
        z.extend([sc.as_str(), m.as_str()]);
    }
    cmd(&z);
    cmd(&["XADD", "stream", "1-1", "f", "v"]);
    cmd(&["XGROUP", "CREATE", "stream", "g", "0"]);
    cmd(&["PFADD", "hll", "a", "b", "c"]);
}

const ALL: &[&str] = &[
    "str", "int", "raw", "list", "biglist", "hash", "bighash", "intset", "set", "bigset", "zset",
    "bigzset", "stream", "hll",
];

/// A type-independent picture of a key: its type, its content read back in
/// a canonical order, and whether it has a TTL.
fn snapshot(c: &mut Client, key: &str) -> (String, String, bool) {
    let ty = c.call(&["TYPE", key]).text();
    let content = match ty.as_str() {
        "string" => c.call(&["GET", key]),
        "list" => c.call(&["LRANGE", key, "0", "-1"]),
        "hash" => sorted(c.call(&["HGETALL", key])),
        "set" => sorted(c.call(&["SMEMBERS", key])),
        "zset" => c.call(&["ZRANGE", key, "0", "-1", "WITHSCORES"]),
        "stream" => V::Arr(vec![
            c.call(&["XRANGE", key, "-", "+"]),
            c.call(&["XINFO", "GROUPS", key]),
        ]),
        other => panic!("{other}"),
    };
    let ttl = match c.call(&["PTTL", key]) {
        V::Int(n) => n,
        other => panic!("{other:?}"),
    };
    (ty, format!("{content:?}"), ttl > 0)
}

fn sorted(v: V) -> V {
    match v {
        V::Arr(mut a) => {
            a.sort_by_key(|x| format!("{x:?}"));
            V::Arr(a)
        }
        other => other,
    }
}

fn migrate(c: &mut Client, port: u16, key: &str, db: &str, extra: &[&str]) -> V {
    let p = port.to_string();
    let mut args = vec!["MIGRATE", "127.0.0.1", &p, key, db, "5000"];
    args.extend_from_slice(extra);
    c.call(&args)
}

#[test]
fn every_type_moves_with_its_ttl() {
    let (src, dst) = (TestServer::start(), TestServer::start());
    let (mut a, mut b) = (Client::new(&src), Client::new(&dst));
    fill(&mut a);
    let before: Vec<_> = ALL.iter().map(|k| snapshot(&mut a, k)).collect();
    for k in ALL {
        assert_eq!(migrate(&mut a, dst.port, k, "0", &[]), ok(), "{k}");
        assert_eq!(a.call(&["EXISTS", k]), int(0), "{k}");
    }
    let after: Vec<_> = ALL.iter().map(|k| snapshot(&mut b, k)).collect();
    assert_eq!(before, after);
    assert!(after[1].2 && after[3].2 && !after[0].2);
    let pttl = match b.call(&["PTTL", "int"]) {
        V::Int(n) => n,
        other => panic!("{other:?}"),
    };
    assert!((490_000..=500_000).contains(&pttl), "{pttl}");
}

#[test]
fn copy_replace_and_busykey() {
    let (src, dst) = (TestServer::start(), TestServer::start());
    let (mut a, mut b) = (Client::new(&src), Client::new(&dst));
    a.call(&["SET", "k", "new"]);
    b.call(&["SET", "k", "old"]);
    // Without REPLACE the target refuses and the key stays here.
    assert_eq!(
        migrate(&mut a, dst.port, "k", "0", &[]),
        err("ERR Target instance replied with error: BUSYKEY Target key name already exists.")
    );
    assert_eq!(a.call(&["GET", "k"]).text(), "new");
    assert_eq!(b.call(&["GET", "k"]).text(), "old");
    // COPY REPLACE: both have it.
    assert_eq!(
        migrate(&mut a, dst.port, "k", "0", &["COPY", "REPLACE"]),
        ok()
    );
    assert_eq!(a.call(&["GET", "k"]).text(), "new");
    assert_eq!(b.call(&["GET", "k"]).text(), "new");
    // COPY without REPLACE on an existing key: BUSYKEY again.
    assert_eq!(
        migrate(&mut a, dst.port, "k", "0", &["COPY"]),
        err("ERR Target instance replied with error: BUSYKEY Target key name already exists.")
    );
    a.call(&["SET", "k", "newer"]);
    assert_eq!(migrate(&mut a, dst.port, "k", "0", &["REPLACE"]), ok());
    assert_eq!(a.call(&["EXISTS", "k"]), int(0));
    assert_eq!(b.call(&["GET", "k"]).text(), "newer");
}

#[test]
fn keys_form_nokey_and_argument_errors() {
    let (src, dst) = (TestServer::start(), TestServer::start());
    let (mut a, mut b) = (Client::new(&src), Client::new(&dst));
    a.call(&["MSET", "k1", "1", "k2", "2"]);
    assert_eq!(
        migrate(&mut a, dst.port, "", "0", &["KEYS", "k1", "missing", "k2"]),
        ok()
    );
    assert_eq!(a.call(&["EXISTS", "k1", "k2"]), int(0));
    assert_eq!(
        b.call(&["MGET", "k1", "k2"]),
        V::Arr(vec![common::bulk("1"), common::bulk("2")])
    );
    assert_eq!(
        migrate(&mut a, dst.port, "", "0", &["KEYS", "missing", "k1"]),
        simple("NOKEY")
    );
    assert_eq!(
        migrate(&mut a, dst.port, "missing", "0", &[]),
        simple("NOKEY")
    );
    assert_eq!(
        migrate(&mut a, dst.port, "k1", "0", &["KEYS", "k2"]),
        err("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")
    );
    assert_eq!(
        migrate(&mut a, dst.port, "k1", "0", &["FOO"]),
        err("ERR syntax error")
    );
    assert_eq!(
        migrate(&mut a, dst.port, "k1", "0", &["AUTH"]),
        err("ERR syntax error")
    );
    assert_eq!(
        a.call(&["MIGRATE", "127.0.0.1", "1", "k", "0", "soon"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        a.call(&[
            "COMMAND", "GETKEYS", "MIGRATE", "h", "1", "", "0", "1", "COPY", "KEYS", "x", "y"
        ]),
        V::Arr(vec![common::bulk("x"), common::bulk("y")])
    );
    // A database the target does not have.
    a.call(&["SET", "k3", "3"]);
    assert_eq!(
        migrate(&mut a, dst.port, "k3", "99", &[]),
        err("ERR Target instance replied with error: ERR DB index is out of range")
    );
    assert_eq!(a.call(&["EXISTS", "k3"]), int(1));
}

#[test]
fn auth_to_a_protected_target() {
    let src = TestServer::start();
    let dst = TestServer::start_with(&["--requirepass", "sekret"]);
    let mut a = Client::new(&src);
    a.call(&["MSET", "k1", "1", "k2", "2", "k3", "3"]);
    assert_eq!(
        migrate(&mut a, dst.port, "k1", "0", &[]),
        err("ERR Target instance replied with error: NOAUTH Authentication required.")
    );
    assert_eq!(
        migrate(&mut a, dst.port, "k1", "0", &["AUTH", "wrong"]),
        err("ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        migrate(&mut a, dst.port, "k1", "0", &["AUTH", "sekret"]),
        ok()
    );
    assert_eq!(
        migrate(&mut a, dst.port, "k2", "0", &["AUTH2", "default", "sekret"]),
        ok()
    );
    let mut b = Client::new(&dst);
    assert_eq!(b.call(&["AUTH", "sekret"]), ok());
    assert_eq!(b.call(&["DBSIZE"]), int(2));
    assert_eq!(a.call(&["DBSIZE"]), int(1));
}

#[test]
fn wrong_port_fails_fast() {
    let src = TestServer::start();
    let mut a = Client::new(&src);
    a.call(&["SET", "k", "v"]);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let start = Instant::now();
    assert_eq!(
        migrate(&mut a, port, "k", "0", &[]),
        err("IOERR error or timeout connecting to the client")
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(a.call(&["GET", "k"]).text(), "v");
    // The server is still fine.
    assert_eq!(a.call(&["PING"]), simple("PONG"));
}

#[test]
fn destination_db_follows_each_call_on_the_cached_connection() {
    let (src, dst) = (TestServer::start(), TestServer::start());
    let (mut a, mut b) = (Client::new(&src), Client::new(&dst));
    a.call(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
    assert_eq!(migrate(&mut a, dst.port, "a", "1", &[]), ok());
    assert_eq!(migrate(&mut a, dst.port, "b", "1", &[]), ok());
    assert_eq!(migrate(&mut a, dst.port, "c", "2", &[]), ok());
    assert_eq!(migrate(&mut a, dst.port, "d", "0", &[]), ok());
    for (db, key) in [("1", "a"), ("1", "b"), ("2", "c"), ("0", "d")] {
        assert_eq!(b.call(&["SELECT", db]), ok());
        assert_eq!(b.call(&["EXISTS", key]), int(1), "{key} in db {db}");
    }
    assert_eq!(b.call(&["SELECT", "1"]), ok());
    assert_eq!(b.call(&["DBSIZE"]), int(2));
    // One connection was used throughout: the target sees one client
    // besides this one.
    let list = b.call(&["CLIENT", "LIST"]).text();
    assert_eq!(list.lines().count(), 2, "{list}");
    // The source database itself matters too: keys come from the caller's.
    assert_eq!(a.call(&["SELECT", "3"]), ok());
    a.call(&["SET", "e", "5"]);
    assert_eq!(migrate(&mut a, dst.port, "e", "0", &[]), ok());
    assert_eq!(b.call(&["SELECT", "0"]), ok());
    assert_eq!(b.call(&["GET", "e"]).text(), "5");
}

// ---- with the real redis-server 7.0 ------------------------------------------

fn rcmd(c: &mut redis::Connection, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c)
}

/// Redis 7.0 writes and reads RDB version 10 only: Ferrokey's payloads
/// declare version 11 (Valkey 8 / Redis 7.2), which 7.0's RESTORE refuses
/// whatever the type. So Ferrokey -> redis-server 7.0 fails with the
/// target's error (and keeps the key), while redis-server 7.0 -> Ferrokey
/// works for every type.
#[test]
fn with_redis_server_7_0() {
    let redis = RedisServer::start(&std::env::temp_dir(), &[]);
    let fk = TestServer::start();
    let mut f = Client::new(&fk);
    let mut r = redis.conn();

    f.call(&["SET", "s", "v"]);
    assert_eq!(
        migrate(&mut f, redis.port, "s", "0", &[]),
        err("ERR Target instance replied with error: ERR DUMP payload version or checksum are wrong")
    );
    assert_eq!(f.call(&["GET", "s"]).text(), "v");

    // redis-server's own MIGRATE into Ferrokey: RDB 10 payloads (listpack
    // hashes and sorted sets, quicklist 2 lists, stream listpacks 2).
    let setup: &[&[&str]] = &[
        &["SET", "str", "hello"],
        &["SET", "int", "42", "PX", "500000"],
        &["RPUSH", "list", "a", "b", "3"],
        &["HSET", "hash", "f", "v", "n", "1"],
        &["ZADD", "zset", "1", "a", "2.5", "b"],
        &["SADD", "intset", "1", "2"],
        &["SADD", "set", "a", "b"],
        &["XADD", "stream", "1-1", "f", "v"],
        &["PFADD", "hll", "a", "b"],
    ];
    for cmd in setup {
        rcmd(&mut r, cmd).expect("redis setup");
    }
    let p = fk.port.to_string();
    let keys = [
        "str", "int", "list", "hash", "zset", "intset", "set", "stream", "hll",
    ];
    let mut args = vec!["MIGRATE", "127.0.0.1", &p, "", "0", "5000", "KEYS"];
    args.extend(keys);
    let reply = rcmd(&mut r, &args).expect("redis MIGRATE");
    assert_eq!(reply, redis::Value::Okay);
    assert_eq!(
        rcmd(&mut r, &["DBSIZE"]).expect("dbsize"),
        redis::Value::Int(0)
    );
    assert_eq!(f.call(&["GET", "str"]).text(), "hello");
    assert_eq!(f.call(&["GET", "int"]).text(), "42");
    assert!(matches!(f.call(&["PTTL", "int"]), V::Int(n) if n > 490_000));
    assert_eq!(
        f.call(&["LRANGE", "list", "0", "-1"]),
        V::Arr(vec![
            common::bulk("a"),
            common::bulk("b"),
            common::bulk("3")
        ])
    );
    assert_eq!(f.call(&["HGET", "hash", "n"]).text(), "1");
    assert_eq!(f.call(&["ZSCORE", "zset", "b"]).text(), "2.5");
    assert_eq!(f.call(&["SCARD", "intset"]), int(2));
    assert_eq!(f.call(&["SISMEMBER", "set", "b"]), int(1));
    assert_eq!(f.call(&["XLEN", "stream"]), int(1));
    assert_eq!(f.call(&["PFCOUNT", "hll"]), int(2));
}
