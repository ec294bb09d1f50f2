//! DUMP and RESTORE end to end: byte-exact payloads of small values (as
//! Valkey 8 produces them), round trips of every type and encoding, every
//! option and error of RESTORE, and corrupt payloads, which must never
//! bring the server down.

mod common;

use common::{bulk, err, int, ok, Client, TestServer, V};
use ferrokey_server::persistence::crc64::crc64;

/// Runs a command with binary arguments and decodes the reply.
fn call(c: &mut Client, args: &[&[u8]]) -> V {
    c.send_raw(args);
    c.read()
}

fn dump(c: &mut Client, key: &str) -> Vec<u8> {
    match c.call(&["DUMP", key]) {
        V::Bulk(b) => b,
        other => panic!("DUMP {key}: {other:?}"),
    }
}

fn restore(c: &mut Client, key: &str, ttl: &str, payload: &[u8], opts: &[&str]) -> V {
    let mut args: Vec<&[u8]> = vec![b"RESTORE", key.as_bytes(), ttl.as_bytes(), payload];
    args.extend(opts.iter().map(|o| o.as_bytes()));
    call(c, &args)
}

/// A payload around `body` (type byte and value), with a correct footer.
fn payload(body: &[u8], version: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&version.to_le_bytes());
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// Everything a key holds, for comparing a restored key with its source:
/// type, encoding, contents, TTL presence.
fn snapshot(c: &mut Client, key: &str) -> Vec<V> {
    let ty = c.call(&["TYPE", key]).text();
    let contents = match ty.as_str() {
        "string" => c.call(&["GET", key]),
        "list" => c.call(&["LRANGE", key, "0", "-1"]),
        "hash" => sorted(c.call(&["HGETALL", key]), 2),
        "set" => sorted(c.call(&["SMEMBERS", key]), 1),
        "zset" => c.call(&["ZRANGE", key, "0", "-1", "WITHSCORES"]),
        "stream" => c.call(&["XINFO", "STREAM", key, "FULL"]),
        other => panic!("type {other}"),
    };
    vec![bulk(&ty), c.call(&["OBJECT", "ENCODING", key]), contents]
}

/// An array reply with its elements (or runs of `chunk` elements) sorted.
fn sorted(v: V, chunk: usize) -> V {
    let V::Arr(items) = v else {
        panic!("not an array: {v:?}")
    };
    let mut runs: Vec<Vec<V>> = items.chunks(chunk).map(|c| c.to_vec()).collect();
    runs.sort_by_key(|r| format!("{r:?}"));
    V::Arr(runs.into_iter().flatten().collect())
}

/// DUMPs `key`, RESTOREs it as `key:copy`, and checks the copy is the same.
fn roundtrip(c: &mut Client, key: &str, encoding: &str) {
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", key]),
        bulk(encoding),
        "{key} is not {encoding}"
    );
    let p = dump(c, key);
    let copy = format!("{key}:copy");
    assert_eq!(restore(c, &copy, "0", &p, &[]), ok(), "{key}");
    assert_eq!(snapshot(c, &copy), snapshot(c, key), "{key}");
    // And the copy dumps to the same bytes.
    assert_eq!(dump(c, &copy), p, "{key}");
}

#[test]
fn dump_of_small_values_is_byte_exact() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "s", "hello"]);
    assert_eq!(dump(&mut c, "s"), payload(b"\x00\x05hello", 11));
    c.call(&["SET", "i", "12"]);
    assert_eq!(dump(&mut c, "i"), payload(b"\x00\xc0\x0c", 11));
    c.call(&["SET", "neg", "-300"]);
    assert_eq!(dump(&mut c, "neg"), payload(b"\x00\xc1\xd4\xfe", 11));
    // A 64-bit integer has no integer form in RDB: its text is written.
    c.call(&["SET", "big", "12345678901"]);
    assert_eq!(dump(&mut c, "big"), payload(b"\x00\x0b12345678901", 11));
    // Intset {1, 2, 3}: type 11, one 14-byte string.
    c.call(&["SADD", "is", "3", "1", "2"]);
    assert_eq!(
        dump(&mut c, "is"),
        payload(
            b"\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00",
            11
        )
    );
    // Listpack hash {a: 1}: type 16, the 12-byte listpack.
    c.call(&["HSET", "h", "a", "1"]);
    assert_eq!(
        dump(&mut c, "h"),
        payload(b"\x10\x0c\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff", 11)
    );
    // Listpack zset {a: 1}: type 17.
    c.call(&["ZADD", "z", "1", "a"]);
    assert_eq!(
        dump(&mut c, "z"),
        payload(b"\x11\x0c\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff", 11)
    );
    // Listpack list [x]: type 18, one packed node (container 2).
    c.call(&["RPUSH", "l", "x"]);
    assert_eq!(
        dump(&mut c, "l"),
        payload(b"\x12\x01\x02\x0a\x0a\x00\x00\x00\x01\x00\x81x\x02\xff", 11)
    );
    // Listpack set {m}: type 20.
    c.call(&["SADD", "ls", "m"]);
    assert_eq!(
        dump(&mut c, "ls"),
        payload(b"\x14\x0a\x0a\x00\x00\x00\x01\x00\x81m\x02\xff", 11)
    );
    assert_eq!(c.call(&["DUMP", "missing"]), V::Nil);
}

#[test]
fn strings_roundtrip() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "int", "123456"]);
    roundtrip(&mut c, "int", "int");
    c.call(&["SET", "emb", "short string"]);
    roundtrip(&mut c, "emb", "embstr");
    let long = "x".repeat(300);
    c.call(&["SET", "raw", &long]);
    roundtrip(&mut c, "raw", "raw");
    c.call(&["SET", "app", "a"]);
    c.call(&["APPEND", "app", "b"]);
    let p = dump(&mut c, "app");
    assert_eq!(restore(&mut c, "app2", "0", &p, &[]), ok());
    assert_eq!(c.call(&["GET", "app2"]), bulk("ab"));
    // Binary data, and a long compressible value (LZF in the payload).
    let bin: Vec<u8> = (0..=255u8).collect();
    call(&mut c, &[b"SET", b"bin", &bin]);
    roundtrip(&mut c, "bin", "raw");
    let p = dump(&mut c, "raw");
    assert!(p.len() < 100, "300 equal bytes are compressed");
    assert_eq!(p[1], 0xc3);
}

#[test]
fn lists_roundtrip() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["RPUSH", "lp", "a", "b", "1", "2"]);
    roundtrip(&mut c, "lp", "listpack");
    let mut args = vec!["RPUSH".to_string(), "ql".to_string()];
    args.extend((0..3000).map(|i| format!("element-{i}")));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a);
    roundtrip(&mut c, "ql", "quicklist");
    // Compressed interior nodes.
    assert_eq!(c.call(&["CONFIG", "SET", "list-compress-depth", "1"]), ok());
    let mut args = vec!["RPUSH".to_string(), "cl".to_string()];
    args.extend((0..3000).map(|i| format!("compressible-element-{i:06}")));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a);
    roundtrip(&mut c, "cl", "quicklist");
    // A plain node for an element bigger than a node.
    let big = "p".repeat(20000);
    c.call(&["RPUSH", "pl", "a", &big, "b"]);
    roundtrip(&mut c, "pl", "quicklist");
}

#[test]
fn hashes_sets_and_zsets_roundtrip() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["HSET", "hlp", "f1", "v1", "f2", "2"]);
    roundtrip(&mut c, "hlp", "listpack");
    let mut args = vec!["HSET".to_string(), "hht".to_string()];
    for i in 0..1000 {
        args.push(format!("field{i}"));
        args.push(format!("value{i}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a);
    roundtrip(&mut c, "hht", "hashtable");

    c.call(&["SADD", "sis", "1", "2", "-5", "100000"]);
    roundtrip(&mut c, "sis", "intset");
    c.call(&["SADD", "slp", "a", "b", "1"]);
    roundtrip(&mut c, "slp", "listpack");
    let mut args = vec!["SADD".to_string(), "sht".to_string()];
    args.extend((0..1000).map(|i| format!("member{i}")));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a);
    roundtrip(&mut c, "sht", "hashtable");

    c.call(&["ZADD", "zlp", "-inf", "lo", "1.5", "mid", "+inf", "hi"]);
    roundtrip(&mut c, "zlp", "listpack");
    let mut args = vec!["ZADD".to_string(), "zsk".to_string()];
    for i in 0..1000 {
        args.push(format!("{}", i as f64 / 7.0));
        args.push(format!("m{i}"));
    }
    args.extend(["-inf", "neg", "inf", "pos"].map(String::from));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a);
    roundtrip(&mut c, "zsk", "skiplist");
}

#[test]
fn streams_roundtrip_with_groups_and_pending_entries() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for i in 1..=250 {
        let id = format!("{}-1", 1000 + i);
        let v = i.to_string();
        if i % 10 == 0 {
            c.call(&["XADD", "st", &id, "other", &v]);
        } else {
            c.call(&["XADD", "st", &id, "n", &v, "s", "text"]);
        }
    }
    c.call(&["XDEL", "st", "1005-1", "1100-1"]);
    c.call(&["XGROUP", "CREATE", "st", "g1", "0"]);
    c.call(&["XGROUP", "CREATE", "st", "g2", "$"]);
    c.call(&["XGROUP", "CREATECONSUMER", "st", "g1", "idle"]);
    c.call(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        "st",
        ">",
    ]);
    c.call(&[
        "XREADGROUP",
        "GROUP",
        "g1",
        "bob",
        "COUNT",
        "5",
        "STREAMS",
        "st",
        ">",
    ]);
    c.call(&["XACK", "st", "g1", "1002-1"]);
    c.call(&["XCLAIM", "st", "g1", "bob", "0", "1003-1"]);
    roundtrip(&mut c, "st", "stream");
    // An empty stream keeps its last ID.
    c.call(&["XADD", "empty", "5-5", "a", "b"]);
    c.call(&["XDEL", "empty", "5-5"]);
    roundtrip(&mut c, "empty", "stream");
    let p = dump(&mut c, "empty");
    assert_eq!(restore(&mut c, "e2", "0", &p, &["REPLACE"]), ok());
    assert_eq!(c.call(&["XLEN", "e2"]), int(0));
    assert_eq!(
        c.call(&["XADD", "e2", "5-5", "a", "b"]),
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
}

#[test]
fn restore_options() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "src", "value"]);
    let p = dump(&mut c, "src");

    // BUSYKEY without REPLACE, replaced with it.
    assert_eq!(
        restore(&mut c, "src", "0", &p, &[]),
        err("BUSYKEY Target key name already exists.")
    );
    c.call(&["SET", "dst", "old"]);
    assert_eq!(restore(&mut c, "dst", "0", &p, &["REPLACE"]), ok());
    assert_eq!(c.call(&["GET", "dst"]), bulk("value"));
    assert_eq!(c.call(&["TTL", "dst"]), int(-1));

    // Relative TTL in ms.
    assert_eq!(restore(&mut c, "rel", "100000", &p, &[]), ok());
    let V::Int(pttl) = c.call(&["PTTL", "rel"]) else {
        panic!()
    };
    assert!((99_000..=100_000).contains(&pttl), "{pttl}");

    // Absolute TTL.
    let at = common::unix_ms() + 200_000;
    assert_eq!(
        restore(&mut c, "abs", &at.to_string(), &p, &["ABSTTL"]),
        ok()
    );
    assert_eq!(c.call(&["PEXPIRETIME", "abs"]), int(at));

    // A TTL already past: OK, and no key (an old one is deleted).
    assert_eq!(restore(&mut c, "gone", "1", &p, &["ABSTTL"]), ok());
    assert_eq!(c.call(&["EXISTS", "gone"]), int(0));
    c.call(&["SET", "old", "x"]);
    assert_eq!(
        restore(&mut c, "old", "1", &p, &["ABSTTL", "REPLACE"]),
        ok()
    );
    assert_eq!(c.call(&["EXISTS", "old"]), int(0));

    // IDLETIME under LRU.
    assert_eq!(
        restore(&mut c, "idle", "0", &p, &["IDLETIME", "1000"]),
        ok()
    );
    let V::Int(idle) = c.call(&["OBJECT", "IDLETIME", "idle"]) else {
        panic!()
    };
    assert!((1000..1010).contains(&idle), "{idle}");

    // FREQ under LFU.
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]),
        ok()
    );
    assert_eq!(restore(&mut c, "freq", "0", &p, &["FREQ", "100"]), ok());
    assert_eq!(c.call(&["OBJECT", "FREQ", "freq"]), int(100));

    // Options are case-insensitive, RESTORE-ASKING is the same command.
    let args: Vec<&[u8]> = vec![b"restore-asking", b"ask", b"0", &p, b"replace"];
    assert_eq!(call(&mut c, &args), ok());
    assert_eq!(c.call(&["GET", "ask"]), bulk("value"));
}

#[test]
fn restore_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "src", "value"]);
    let p = dump(&mut c, "src");
    let e = |c: &mut Client, ttl: &str, payload: &[u8], opts: &[&str]| {
        restore(c, "k", ttl, payload, opts)
    };
    assert_eq!(
        e(&mut c, "-1", &p, &[]),
        err("ERR Invalid TTL value, must be >= 0")
    );
    assert_eq!(
        e(&mut c, "abc", &p, &[]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        e(&mut c, "0", &p, &["IDLETIME", "-1"]),
        err("ERR Invalid IDLETIME value, must be >= 0")
    );
    assert_eq!(
        e(&mut c, "0", &p, &["IDLETIME", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        e(&mut c, "0", &p, &["FREQ", "256"]),
        err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    assert_eq!(
        e(&mut c, "0", &p, &["FREQ", "-1"]),
        err("ERR Invalid FREQ value, must be >= 0 and <= 255")
    );
    // IDLETIME and FREQ exclude each other; unknown options; a missing
    // option value.
    assert_eq!(
        e(&mut c, "0", &p, &["IDLETIME", "1", "FREQ", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        e(&mut c, "0", &p, &["FREQ", "1", "IDLETIME", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(e(&mut c, "0", &p, &["BOGUS"]), err("ERR syntax error"));
    assert_eq!(e(&mut c, "0", &p, &["IDLETIME"]), err("ERR syntax error"));
    assert_eq!(
        c.call(&["RESTORE", "k", "0"]),
        err("ERR wrong number of arguments for 'restore' command")
    );
    // The option errors come before BUSYKEY, which comes before the TTL
    // and payload checks.
    assert_eq!(
        restore(&mut c, "src", "-1", b"junk", &[]),
        err("BUSYKEY Target key name already exists.")
    );
    assert_eq!(
        restore(&mut c, "src", "0", &p, &["BOGUS"]),
        err("ERR syntax error")
    );

    let version_err = err("ERR DUMP payload version or checksum are wrong");
    let bad_data = err("ERR Bad data format");
    // A flipped byte.
    let mut flipped = p.clone();
    flipped[2] ^= 0x20;
    assert_eq!(e(&mut c, "0", &flipped, &[]), version_err);
    // Too short for a footer; a newer RDB version.
    assert_eq!(e(&mut c, "0", b"short", &[]), version_err);
    assert_eq!(e(&mut c, "0", &payload(b"\x00\x01a", 13), &[]), version_err);
    // A valid checksum over garbage.
    assert_eq!(e(&mut c, "0", &payload(b"\xf0garbage", 11), &[]), bad_data);
    assert_eq!(
        e(&mut c, "0", &payload(b"\x00\x7fshort", 11), &[]),
        bad_data
    );
    assert_eq!(e(&mut c, "0", &payload(b"", 11), &[]), bad_data);
    // Module values cannot be restored.
    assert_eq!(e(&mut c, "0", &payload(b"\x07\x01\x00", 11), &[]), bad_data);
    // A truncated listpack (hash), its length fixed to match.
    c.call(&["HSET", "h", "field", "value", "f2", "v2"]);
    let h = dump(&mut c, "h");
    let body = &h[..h.len() - 10];
    let mut cut = body[..body.len() - 3].to_vec();
    cut[1] -= 3;
    assert_eq!(e(&mut c, "0", &payload(&cut, 11), &[]), bad_data);
    // A listpack whose header lies about its size.
    let mut lie = body.to_vec();
    lie[2] ^= 1;
    assert_eq!(e(&mut c, "0", &payload(&lie, 11), &[]), bad_data);
    // An empty collection.
    assert_eq!(e(&mut c, "0", &payload(b"\x02\x00", 11), &[]), bad_data);
    // Duplicate members.
    assert_eq!(
        e(&mut c, "0", &payload(b"\x02\x02\x01a\x01a", 11), &[]),
        bad_data
    );
    // None of it created the key, and the server is fine.
    assert_eq!(c.call(&["EXISTS", "k"]), int(0));
    // Version 12 (Redis 7.4) is accepted.
    assert_eq!(e(&mut c, "0", &payload(b"\x00\x01a", 12), &[]), ok());
    assert_eq!(c.call(&["GET", "k"]), bulk("a"));
    assert_eq!(c.call(&["PING"]), V::Simple("PONG".into()));
}

#[test]
fn random_corruption_never_crashes_the_server() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["HSET", "h", "a", "1", "b", "2"]);
    c.call(&["RPUSH", "l", "x", "y", "z"]);
    c.call(&["SADD", "s", "1", "2", "3"]);
    c.call(&["ZADD", "z", "1", "a", "2", "b"]);
    c.call(&["XADD", "x", "1-1", "f", "v"]);
    c.call(&["XGROUP", "CREATE", "x", "g", "0"]);
    c.call(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "x", ">"]);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for key in ["h", "l", "s", "z", "x"] {
        let p = dump(&mut c, key);
        let body = &p[..p.len() - 10];
        for _ in 0..200 {
            let mut b = body.to_vec();
            for _ in 0..1 + rnd() % 3 {
                let i = (rnd() as usize) % b.len();
                b[i] = rnd() as u8;
            }
            if rnd() % 4 == 0 {
                b.truncate((rnd() as usize) % b.len());
            }
            let r = restore(&mut c, "fuzz", "0", &payload(&b, 11), &["REPLACE"]);
            assert!(r == ok() || r == err("ERR Bad data format"), "{r:?}");
        }
    }
    assert_eq!(c.call(&["PING"]), V::Simple("PONG".into()));
}

#[test]
fn restore_notifications_and_watch() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "src", "v"]);
    let p = dump(&mut c, "src");
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEAn"]),
        ok()
    );
    let mut sub = Client::new(&s);
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    assert_eq!(restore(&mut c, "k", "0", &p, &[]), ok());
    let chan = |sub: &mut Client| -> String {
        match sub.read() {
            V::Arr(m) => m[2].text(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(chan(&mut sub), "__keyevent@0__:new");
    assert_eq!(chan(&mut sub), "__keyevent@0__:restore");
    // Replacing with an expired TTL announces a deletion.
    assert_eq!(restore(&mut c, "k", "1", &p, &["ABSTTL", "REPLACE"]), ok());
    assert_eq!(chan(&mut sub), "__keyevent@0__:del");

    // A WATCHed key restored by another client fails the transaction.
    let mut w = Client::new(&s);
    w.call(&["WATCH", "wk"]);
    assert_eq!(restore(&mut c, "wk", "0", &p, &[]), ok());
    w.call(&["MULTI"]);
    w.call(&["PING"]);
    assert_eq!(w.call(&["EXEC"]), V::NilArray);
}

#[test]
fn restore_wakes_blocked_clients() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["RPUSH", "src", "item"]);
    let p = dump(&mut c, "src");
    let mut blocked = Client::new(&s);
    blocked.send(&["BLPOP", "dst", "5"]);
    common::wait_blocked(&mut c, 1);
    assert_eq!(restore(&mut c, "dst", "0", &p, &[]), ok());
    assert_eq!(blocked.read(), V::Arr(vec![bulk("dst"), bulk("item")]));
}
