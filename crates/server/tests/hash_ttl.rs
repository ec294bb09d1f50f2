//! Hash field expiration (Redis 7.4's HEXPIRE family) end to end, through
//! the real server: exact replies and errors from Redis's t_hash.c and
//! tests/unit/type/hash-field-expire.tcl, lazy and active expiry, keyspace
//! notifications, and TTLs carried by RENAME, COPY and MOVE.
//!
//! Where Redis 7.4 lets a field past its time be seen (HLEN counts it until
//! something touches it), Ferrokey does not: an expired field is never
//! observable by a hash command.

mod common;
use common::{bulk, int, ok, unix_ms, wait_until, Client, TestServer, V};
use std::time::Duration;

/// Asserts the reply of `line` (space-separated words) is exactly `expected`.
#[track_caller]
fn t(c: &mut Client, line: &str, expected: &str) {
    let got = c.cmd_raw(line);
    assert_eq!(
        String::from_utf8_lossy(&got),
        expected,
        "reply to `{line}` differs"
    );
}

/// An array of integers, as RESP2 sends it.
fn ints(v: &[i64]) -> String {
    let mut s = format!("*{}\r\n", v.len());
    for n in v {
        s.push_str(&format!(":{n}\r\n"));
    }
    s
}

fn call(c: &mut Client, line: &str) -> V {
    let words: Vec<&str> = line.split(' ').collect();
    c.call(&words)
}

fn int_array(v: V) -> Vec<i64> {
    match v {
        V::Arr(items) => items
            .into_iter()
            .map(|i| match i {
                V::Int(n) => n,
                other => panic!("not an integer: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// Both encodings: a small hash (listpackex once it has TTLs) and a big one.
const ENCODINGS: [(&str, &str); 2] = [("512", "listpackex"), ("0", "hashtable")];

fn use_encoding(c: &mut Client, entries: &str) {
    assert_eq!(
        c.call(&["CONFIG", "SET", "hash-max-listpack-entries", entries]),
        ok()
    );
}

#[test]
fn every_command_on_both_encodings() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (entries, encoding) in ENCODINGS {
        use_encoding(&mut c, entries);
        c.call(&["DEL", "h"]);
        t(&mut c, "HSET h a 1 b 2 c 3 d 4", ":4\r\n");
        t(&mut c, "HEXPIRE h 100 FIELDS 2 a zz", &ints(&[1, -2]));
        t(
            &mut c,
            "OBJECT ENCODING h",
            &format!("${}\r\n{encoding}\r\n", encoding.len()),
        );
        t(&mut c, "HPEXPIRE h 200000 FIELDS 1 b", &ints(&[1]));
        let at_s = unix_ms() / 1000 + 300;
        t(
            &mut c,
            &format!("HEXPIREAT h {at_s} FIELDS 1 c"),
            &ints(&[1]),
        );
        t(&mut c, "HPEXPIREAT h 4102444800123 FIELDS 1 d", &ints(&[1]));
        t(&mut c, "HTTL h FIELDS 3 a b zz", &ints(&[100, 200, -2]));
        let pttl = int_array(call(&mut c, "HPTTL h FIELDS 3 a b zz"));
        assert!((99_000..=100_000).contains(&pttl[0]), "{pttl:?}");
        assert!((199_000..=200_000).contains(&pttl[1]), "{pttl:?}");
        assert_eq!(pttl[2], -2);
        t(
            &mut c,
            "HPEXPIRETIME h FIELDS 2 d zz",
            &ints(&[4102444800123, -2]),
        );
        t(&mut c, "HEXPIRETIME h FIELDS 1 d", &ints(&[4102444801]));
        t(&mut c, "HEXPIRETIME h FIELDS 1 c", &ints(&[at_s]));
        t(&mut c, "HPERSIST h FIELDS 3 a a zz", &ints(&[1, -1, -2]));
        t(&mut c, "HTTL h FIELDS 1 a", &ints(&[-1]));
        t(&mut c, "HLEN h", ":4\r\n");
        t(
            &mut c,
            "OBJECT ENCODING h",
            &format!("${}\r\n{encoding}\r\n", encoding.len()),
        );
        // Missing keys: -2 for each field.
        for cmd in [
            "HEXPIRE nokey 10",
            "HPEXPIRE nokey 10",
            "HEXPIREAT nokey 10",
            "HPEXPIREAT nokey 10",
        ] {
            t(&mut c, &format!("{cmd} FIELDS 2 a b"), &ints(&[-2, -2]));
        }
        for cmd in ["HTTL", "HPTTL", "HEXPIRETIME", "HPEXPIRETIME", "HPERSIST"] {
            t(
                &mut c,
                &format!("{cmd} nokey FIELDS 2 a b"),
                &ints(&[-2, -2]),
            );
        }
        t(&mut c, "EXISTS nokey", ":0\r\n");
        // A hash without any TTL: -1 for fields that exist.
        c.call(&["DEL", "p"]);
        t(&mut c, "HSET p a 1", ":1\r\n");
        t(&mut c, "HTTL p FIELDS 2 a b", &ints(&[-1, -2]));
        t(&mut c, "HPERSIST p FIELDS 2 a b", &ints(&[-1, -2]));
    }
}

#[test]
fn resp3_replies_are_arrays_of_integers() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert!(matches!(c.call(&["HELLO", "3"]), V::Map(_)));
    c.call(&["HSET", "h", "a", "1"]);
    t(&mut c, "HEXPIRE h 100 FIELDS 2 a b", "*2\r\n:1\r\n:-2\r\n");
    t(&mut c, "HTTL h FIELDS 1 a", "*1\r\n:100\r\n");
}

#[test]
fn condition_flags() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (entries, _) in ENCODINGS {
        use_encoding(&mut c, entries);
        // From hash-field-expire.tcl, "Test 'NX' / 'XX' / 'GT' / 'LT' flag".
        c.call(&["DEL", "h"]);
        c.call(&["HSET", "h", "f1", "v", "f2", "v", "f3", "v"]);
        t(&mut c, "HPEXPIRE h 1000000 NX FIELDS 1 f1", &ints(&[1]));
        t(
            &mut c,
            "HPEXPIRE h 1000000 NX FIELDS 2 f1 f2",
            &ints(&[0, 1]),
        );
        t(
            &mut c,
            "HPEXPIRE h 1000000 XX FIELDS 2 f1 f3",
            &ints(&[1, 0]),
        );
        c.call(&["DEL", "h"]);
        c.call(&["HSET", "h", "f1", "v", "f2", "v", "f3", "v"]);
        t(&mut c, "HPEXPIRE h 1000000 NX FIELDS 1 f1", &ints(&[1]));
        t(&mut c, "HPEXPIRE h 2000000 NX FIELDS 1 f2", &ints(&[1]));
        t(
            &mut c,
            "HPEXPIRE h 1500000 GT FIELDS 3 f1 f2 f3",
            &ints(&[1, 0, 0]),
        );
        // Absolute times from here: two relative ones given in two
        // commands differ when the clock ticks a millisecond in between.
        let at = unix_ms() + 1_200_000;
        t(
            &mut c,
            &format!("HPEXPIREAT h {at} LT FIELDS 3 f1 f2 f3"),
            &ints(&[1, 1, 1]),
        );
        // Equal times fail both GT and LT.
        t(
            &mut c,
            &format!("HPEXPIREAT h {at} GT FIELDS 1 f3"),
            &ints(&[0]),
        );
        t(
            &mut c,
            &format!("HPEXPIREAT h {at} LT FIELDS 1 f3"),
            &ints(&[0]),
        );
        let at = unix_ms() + 5_000_000;
        t(
            &mut c,
            &format!("HPEXPIREAT h {at} XX FIELDS 1 f1"),
            &ints(&[1]),
        );
        t(
            &mut c,
            &format!("HPEXPIREAT h {at} LT FIELDS 1 f1"),
            &ints(&[0]),
        );
        t(
            &mut c,
            &format!("HPEXPIREAT h {at} GT FIELDS 1 f1"),
            &ints(&[0]),
        );
        t(
            &mut c,
            &format!("HPEXPIREAT h {} GT FIELDS 1 f1", at + 1),
            &ints(&[1]),
        );
        // Keywords are case-insensitive; an unknown one is not a condition.
        t(&mut c, "HEXPIRE h 10 lt FIELDS 1 f1", &ints(&[1]));
        t(
            &mut c,
            "HEXPIRE h 10 XY FIELDS 1 f1",
            "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
        );
        t(&mut c, "HEXPIRE h 10 fields 1 f1", &ints(&[1]));
    }
}

#[test]
fn errors_byte_for_byte() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["HSET", "h", "f1", "v1"]);
    c.call(&["SET", "str", "x"]);
    let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    let now_s = unix_ms() / 1000;
    let now_ms = unix_ms();
    let cases: Vec<(String, &str)> = vec![
        // Arity.
        (
            "HEXPIRE h 10 FIELDS 1".into(),
            "-ERR wrong number of arguments for 'hexpire' command\r\n",
        ),
        (
            "HPEXPIREAT h 10 FIELDS".into(),
            "-ERR wrong number of arguments for 'hpexpireat' command\r\n",
        ),
        (
            "HTTL h FIELDS 1".into(),
            "-ERR wrong number of arguments for 'httl' command\r\n",
        ),
        (
            "HPEXPIRETIME h".into(),
            "-ERR wrong number of arguments for 'hpexpiretime' command\r\n",
        ),
        (
            "HPERSIST h FIELDS 1".into(),
            "-ERR wrong number of arguments for 'hpersist' command\r\n",
        ),
        // The key's type is checked first.
        ("HEXPIRE str x FIELDS 1 a".into(), wt),
        ("HTTL str FIELDS x a".into(), wt),
        ("HPERSIST str FIELDS x a".into(), wt),
        ("HEXPIRETIME str FIELDS 1 a".into(), wt),
        // Then the time.
        (
            "HEXPIRE h x FIELDS 1 f1".into(),
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "HEXPIRE h -1 FIELDS 1 f1".into(),
            "-ERR invalid expire time, must be >= 0\r\n",
        ),
        (
            "HEXPIRE h -9223372036854775808 FIELDS 1 f1".into(),
            "-ERR invalid expire time, must be >= 0\r\n",
        ),
        (
            format!("HEXPIRE h {} FIELDS 1 f1", (1i64 << 48) / 1000),
            "-ERR invalid expire time in 'hexpire' command\r\n",
        ),
        (
            format!(
                "HEXPIREAT h {} FIELDS 1 f1",
                (1i64 << 48) / 1000 + now_s + 100
            ),
            "-ERR invalid expire time in 'hexpireat' command\r\n",
        ),
        (
            format!("HPEXPIRE h {} FIELDS 1 f1", 1i64 << 48),
            "-ERR invalid expire time in 'hpexpire' command\r\n",
        ),
        (
            format!("HPEXPIREAT h {} FIELDS 1 f1", (1i64 << 48) + now_ms + 100),
            "-ERR invalid expire time in 'hpexpireat' command\r\n",
        ),
        (
            "HPEXPIRE h 9223372036854775807 FIELDS 1 f1".into(),
            "-ERR invalid expire time in 'hpexpire' command\r\n",
        ),
        // Then FIELDS and the count.
        (
            "HEXPIRE h 10 FIELD 1 f1".into(),
            "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
        ),
        (
            "HEXPIRE h 10 NX 1 f1 f2".into(),
            "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
        ),
        (
            "HEXPIRE h 10 FIELDS 0 f1".into(),
            "-ERR Parameter `numFields` should be greater than 0\r\n",
        ),
        (
            "HEXPIRE h 10 FIELDS -1 f1".into(),
            "-ERR Parameter `numFields` should be greater than 0\r\n",
        ),
        (
            "HEXPIRE h 10 FIELDS abc f1".into(),
            "-ERR Parameter `numFields` should be greater than 0\r\n",
        ),
        (
            "HEXPIRE h 10 FIELDS 2 f1".into(),
            "-ERR The `numfields` parameter must match the number of arguments\r\n",
        ),
        (
            "HEXPIRE h 10 XX FIELDS 1 f1 f2".into(),
            "-ERR The `numfields` parameter must match the number of arguments\r\n",
        ),
        (
            "HTTL h FIELD 1 f1".into(),
            "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n",
        ),
        (
            "HPTTL h FIELDS 0 f1".into(),
            "-ERR Number of fields must be a positive integer\r\n",
        ),
        (
            "HEXPIRETIME h FIELDS x f1".into(),
            "-ERR Number of fields must be a positive integer\r\n",
        ),
        (
            "HPEXPIRETIME h FIELDS 3 f1 f2".into(),
            "-ERR The `numfields` parameter must match the number of arguments\r\n",
        ),
        (
            "HPERSIST h FIELDS 0 f1".into(),
            "-ERR Number of fields must be a positive integer\r\n",
        ),
        (
            "HPERSIST h FIELDS 2 f1 f2 f3".into(),
            "-ERR The `numfields` parameter must match the number of arguments\r\n",
        ),
        (
            "HPERSIST h FIELDS 4 f1 f2 f3".into(),
            "-ERR The `numfields` parameter must match the number of arguments\r\n",
        ),
        // Arguments are validated even when the key is missing.
        (
            "HEXPIRE nokey x FIELDS 1 a".into(),
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "HTTL nokey FIELDS 0 a".into(),
            "-ERR Number of fields must be a positive integer\r\n",
        ),
    ];
    for (line, want) in &cases {
        t(&mut c, line, want);
    }
    // None of the errors touched the hash.
    t(&mut c, "OBJECT ENCODING h", "$8\r\nlistpack\r\n");
    t(&mut c, "HTTL h FIELDS 1 f1", &ints(&[-1]));
}

#[test]
fn past_times_delete_fields_and_empty_hashes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    t(&mut c, "HEXPIREAT h 1 FIELDS 3 a zz b", &ints(&[2, -2, 2]));
    t(&mut c, "HGETALL h", "*2\r\n$1\r\nc\r\n$1\r\n3\r\n");
    t(&mut c, "HPEXPIRE h 0 FIELDS 1 c", &ints(&[2]));
    t(&mut c, "EXISTS h", ":0\r\n");
}

#[test]
fn lazy_expiry_hides_fields_from_every_read() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    // Only lazy expiry: the cron pass must not get there first.
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    for (entries, encoding) in ENCODINGS {
        use_encoding(&mut c, entries);
        c.call(&["DEL", "h"]);
        c.call(&["HSET", "h", "gone", "1", "n", "10", "keep", "k"]);
        t(&mut c, "HPEXPIRE h 300 FIELDS 2 gone n", &ints(&[1, 1]));
        t(&mut c, "HLEN h", ":3\r\n");
        std::thread::sleep(Duration::from_millis(400));
        t(&mut c, "EXISTS h", ":1\r\n");
        t(&mut c, "HGET h gone", "$-1\r\n");
        t(&mut c, "HLEN h", ":1\r\n");
        t(&mut c, "HMGET h gone keep", "*2\r\n$-1\r\n$1\r\nk\r\n");
        t(&mut c, "HEXISTS h gone", ":0\r\n");
        t(&mut c, "HSTRLEN h gone", ":0\r\n");
        t(&mut c, "HKEYS h", "*1\r\n$4\r\nkeep\r\n");
        t(&mut c, "HVALS h", "*1\r\n$1\r\nk\r\n");
        t(&mut c, "HGETALL h", "*2\r\n$4\r\nkeep\r\n$1\r\nk\r\n");
        t(
            &mut c,
            "HSCAN h 0",
            "*2\r\n$1\r\n0\r\n*2\r\n$4\r\nkeep\r\n$1\r\nk\r\n",
        );
        t(&mut c, "HRANDFIELD h 10", "*1\r\n$4\r\nkeep\r\n");
        t(&mut c, "HTTL h FIELDS 2 gone keep", &ints(&[-2, -1]));
        t(
            &mut c,
            "OBJECT ENCODING h",
            &format!("${}\r\n{encoding}\r\n", encoding.len()),
        );
        // HINCRBY on an expired field starts from 0, without a TTL.
        c.call(&["HPEXPIRE", "h", "30", "FIELDS", "1", "keep"]);
        c.call(&["HSET", "h", "n", "10"]);
        c.call(&["HPEXPIRE", "h", "30", "FIELDS", "1", "n"]);
        std::thread::sleep(Duration::from_millis(80));
        t(&mut c, "HINCRBY h n 5", ":5\r\n");
        t(&mut c, "HTTL h FIELDS 2 n keep", &ints(&[-1, -2]));
        t(&mut c, "HLEN h", ":1\r\n");
        // The key goes with its last field.
        t(&mut c, "HPEXPIRE h 30 FIELDS 1 n", &ints(&[1]));
        std::thread::sleep(Duration::from_millis(80));
        t(&mut c, "EXISTS h", ":1\r\n");
        t(&mut c, "HLEN h", ":0\r\n");
        t(&mut c, "EXISTS h", ":0\r\n");
        t(&mut c, "DBSIZE", ":0\r\n");
    }
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
}

#[test]
fn active_expiry_deletes_untouched_fields() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (entries, _) in ENCODINGS {
        use_encoding(&mut c, entries);
        for i in 0..20 {
            let k = format!("h{i}");
            c.call(&["HSET", &k, "a", "1", "b", "2"]);
            assert_eq!(
                int_array(c.call(&["HPEXPIRE", &k, "300", "FIELDS", "2", "a", "b"])),
                [1, 1]
            );
        }
        c.call(&["HSET", "stays", "a", "1", "b", "2"]);
        c.call(&["HPEXPIRE", "stays", "300", "FIELDS", "1", "a"]);
        t(&mut c, "DBSIZE", ":21\r\n");
        // Nothing reads the hashes: only the cron can delete them.
        wait_until(Duration::from_secs(3), "hashes actively expired", || {
            c.call(&["DBSIZE"]) == int(1)
        });
        t(&mut c, "HGETALL stays", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
        c.call(&["DEL", "stays"]);
    }
}

#[test]
fn active_expiry_of_one_field_is_seen_by_subscribers() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        ok()
    );
    let mut sub = Client::new(&s);
    assert_eq!(
        sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]),
        V::Arr(vec![bulk("psubscribe"), bulk("__keyevent@0__:*"), int(1)])
    );
    c.call(&["HSET", "h", "a", "1", "b", "2"]);
    c.call(&["HPEXPIRE", "h", "50", "FIELDS", "1", "a"]);
    let mut events = Vec::new();
    for _ in 0..3 {
        match sub.read() {
            V::Arr(items) => events.push(format!("{} {}", items[2].text(), items[3].text())),
            other => panic!("{other:?}"),
        }
    }
    // hset, hexpire, then hexpired without any access to the key.
    assert_eq!(
        events,
        [
            "__keyevent@0__:hset h",
            "__keyevent@0__:hexpire h",
            "__keyevent@0__:hexpired h"
        ]
    );
    t(&mut c, "HKEYS h", "*1\r\n$1\r\nb\r\n");
}

/// A client that runs commands and a subscriber that sees what they
/// publish (as in tests/notifications.rs): each command is followed by a
/// marker on `sync`, and what arrived before it is what the command
/// published.
struct Watch {
    c: Client,
    sub: Client,
    marker: u64,
}

impl Watch {
    fn new(s: &TestServer) -> Watch {
        let mut c = Client::new(s);
        assert_eq!(
            c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
            ok()
        );
        let mut sub = Client::new(s);
        assert_eq!(
            sub.call(&["PSUBSCRIBE", "__keyspace@0__:*"]),
            V::Arr(vec![bulk("psubscribe"), bulk("__keyspace@0__:*"), int(1)])
        );
        assert_eq!(
            sub.call(&["SUBSCRIBE", "sync"]),
            V::Arr(vec![bulk("subscribe"), bulk("sync"), int(2)])
        );
        Watch { c, sub, marker: 0 }
    }

    /// Runs a command and returns the events it published, as
    /// `"<key> <event>"`.
    fn run(&mut self, line: &str) -> Vec<String> {
        call(&mut self.c, line);
        self.marker += 1;
        let marker = self.marker.to_string();
        assert_eq!(self.c.call(&["PUBLISH", "sync", &marker]), int(1));
        let mut seen = Vec::new();
        loop {
            match self.sub.read() {
                V::Arr(items) if items.len() == 3 && items[1] == bulk("sync") => {
                    assert_eq!(items[2], bulk(&marker));
                    return seen;
                }
                V::Arr(items) if items.len() == 4 => {
                    let key = items[2]
                        .text()
                        .trim_start_matches("__keyspace@0__:")
                        .to_string();
                    seen.push(format!("{key} {}", items[3].text()));
                }
                other => panic!("unexpected message {other:?}"),
            }
        }
    }
}

#[test]
fn notifications() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut w = Watch::new(&s);
    let none: Vec<String> = Vec::new();
    assert_eq!(w.run("HSET h a 1 b 2 c 3"), ["h hset"]);
    assert_eq!(w.run("HEXPIRE h 100 FIELDS 2 a zz"), ["h hexpire"]);
    // Nothing changed: nothing published.
    assert_eq!(w.run("HEXPIRE h 100 NX FIELDS 1 a"), none);
    assert_eq!(w.run("HEXPIRE h 100 FIELDS 1 zz"), none);
    assert_eq!(w.run("HTTL h FIELDS 1 a"), none);
    assert_eq!(w.run("HPERSIST h FIELDS 1 b"), none);
    assert_eq!(w.run("HPERSIST h FIELDS 1 a"), ["h hpersist"]);
    // A time in the past deletes: hdel (even if other fields got a TTL).
    assert_eq!(w.run("HPEXPIREAT h 1 FIELDS 1 a"), ["h hdel"]);
    assert_eq!(w.run("HEXPIRE h 100 FIELDS 1 b"), ["h hexpire"]);
    assert_eq!(w.run("HEXPIREAT h 1 FIELDS 2 b c"), ["h hdel", "h del"]);
    // Lazy expiry: hexpired, then del with the last field, before the
    // command's own event.
    w.run("HSET h a 1 b 2");
    w.run("HPEXPIRE h 20 FIELDS 1 a");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(w.run("HSET h a 5"), ["h hexpired", "h hset"]);
    assert_eq!(w.run("DEBUG SET-ACTIVE-EXPIRE 0"), none);
    w.run("HPEXPIRE h 20 FIELDS 2 a b");
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(w.run("HGET h a"), ["h hexpired", "h del"]);
    assert_eq!(w.run("DEBUG SET-ACTIVE-EXPIRE 1"), none);
    // HINCRBY keeps a TTL, HSET drops it.
    w.run("HSET h a 1");
    w.run("HEXPIRE h 100 FIELDS 1 a");
    assert_eq!(w.run("HINCRBY h a 1"), ["h hincrby"]);
    assert_eq!(int_array(call(&mut w.c, "HTTL h FIELDS 1 a")), [100]);
    assert_eq!(w.run("HSET h a 1"), ["h hset"]);
    assert_eq!(int_array(call(&mut w.c, "HTTL h FIELDS 1 a")), [-1]);
}

#[test]
fn rename_copy_and_move_keep_field_ttls() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (entries, encoding) in ENCODINGS {
        use_encoding(&mut c, entries);
        c.call(&["FLUSHALL"]);
        c.call(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
        t(&mut c, "HPEXPIREAT h 4102444800123 FIELDS 1 a", &ints(&[1]));
        t(&mut c, "HPEXPIRE h 100 FIELDS 1 b", &ints(&[1]));
        t(&mut c, "RENAME h r", "+OK\r\n");
        t(
            &mut c,
            "HPEXPIRETIME r FIELDS 2 a c",
            &ints(&[4102444800123, -1]),
        );
        t(&mut c, "COPY r c", ":1\r\n");
        t(
            &mut c,
            "HPEXPIRETIME c FIELDS 2 a c",
            &ints(&[4102444800123, -1]),
        );
        t(
            &mut c,
            "OBJECT ENCODING c",
            &format!("${}\r\n{encoding}\r\n", encoding.len()),
        );
        // The copy is independent.
        t(&mut c, "HPERSIST c FIELDS 1 a", &ints(&[1]));
        t(&mut c, "HPEXPIRETIME r FIELDS 1 a", &ints(&[4102444800123]));
        t(&mut c, "MOVE c 1", ":1\r\n");
        t(&mut c, "SELECT 1", "+OK\r\n");
        t(&mut c, "HTTL c FIELDS 1 a", &ints(&[-1]));
        t(&mut c, "SELECT 0", "+OK\r\n");
        // The short TTLs expire under the new names, in both databases,
        // without anything reading them.
        wait_until(
            Duration::from_secs(2),
            "renamed hash's field expired",
            || matches!(c.call(&["HLEN", "r"]), V::Int(2)),
        );
        t(&mut c, "SELECT 1", "+OK\r\n");
        t(&mut c, "HKEYS c", "*2\r\n$1\r\na\r\n$1\r\nc\r\n");
        t(&mut c, "SELECT 0", "+OK\r\n");
    }
}

#[test]
fn moved_and_copied_hashes_expire_actively() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["HSET", "h", "a", "1"]);
    c.call(&["HPEXPIRE", "h", "300", "FIELDS", "1", "a"]);
    t(&mut c, "COPY h h2", ":1\r\n");
    t(&mut c, "COPY h other DB 1", ":1\r\n");
    t(&mut c, "RENAME h h3", "+OK\r\n");
    t(&mut c, "DBSIZE", ":2\r\n");
    wait_until(Duration::from_secs(3), "all copies expired", || {
        c.call(&["DBSIZE"]) == int(0)
    });
    t(&mut c, "SELECT 1", "+OK\r\n");
    wait_until(Duration::from_secs(3), "copy in db 1 expired", || {
        c.call(&["DBSIZE"]) == int(0)
    });
}

#[test]
fn encodings() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["HSET", "h", "a", "1"]);
    t(&mut c, "OBJECT ENCODING h", "$8\r\nlistpack\r\n");
    // Any reach of the HEXPIRE family converts, even without a TTL set.
    t(&mut c, "HEXPIRE h 100 XX FIELDS 1 a", &ints(&[0]));
    t(&mut c, "OBJECT ENCODING h", "$10\r\nlistpackex\r\n");
    // HTTL and HPERSIST do not.
    c.call(&["HSET", "p", "a", "1"]);
    t(&mut c, "HTTL p FIELDS 1 a", &ints(&[-1]));
    t(&mut c, "HPERSIST p FIELDS 1 a", &ints(&[-1]));
    t(&mut c, "OBJECT ENCODING p", "$8\r\nlistpack\r\n");
    // Once listpackex, always (until it grows into a table).
    t(&mut c, "HEXPIRE h 100 FIELDS 1 a", &ints(&[1]));
    t(&mut c, "HPERSIST h FIELDS 1 a", &ints(&[1]));
    t(&mut c, "OBJECT ENCODING h", "$10\r\nlistpackex\r\n");
    use_encoding(&mut c, "2");
    c.call(&["HSET", "h", "b", "2"]);
    t(&mut c, "OBJECT ENCODING h", "$10\r\nlistpackex\r\n");
    t(&mut c, "HEXPIRE h 100 FIELDS 1 b", &ints(&[1]));
    c.call(&["HSET", "h", "c", "3"]);
    t(&mut c, "OBJECT ENCODING h", "$9\r\nhashtable\r\n");
    t(&mut c, "HTTL h FIELDS 3 a b c", &ints(&[-1, 100, -1]));
    // A long value converts too, TTLs kept.
    use_encoding(&mut c, "128");
    c.call(&["HSET", "v", "a", "1"]);
    c.call(&["HEXPIRE", "v", "100", "FIELDS", "1", "a"]);
    let long = "x".repeat(100);
    c.call(&["HSET", "v", "b", &long]);
    t(&mut c, "OBJECT ENCODING v", "$9\r\nhashtable\r\n");
    t(&mut c, "HTTL v FIELDS 2 a b", &ints(&[100, -1]));
}

#[test]
fn watch_sees_a_lazily_expired_field() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    let mut other = Client::new(&s);
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    c.call(&["HSET", "h", "a", "1", "b", "2"]);
    c.call(&["HPEXPIRE", "h", "30", "FIELDS", "1", "a"]);
    assert_eq!(c.call(&["WATCH", "h"]), ok());
    std::thread::sleep(Duration::from_millis(80));
    // Another client's read deletes the field: the hash changed.
    assert_eq!(other.call(&["HGET", "h", "b"]), bulk("2"));
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["HLEN", "h"]), V::Simple("QUEUED".into()));
    assert_eq!(c.call(&["EXEC"]), V::NilArray);
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
}

#[test]
fn command_info_and_docs() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (name, arity, flag) in [
        ("hexpire", -6, "write"),
        ("hpexpire", -6, "write"),
        ("hexpireat", -6, "write"),
        ("hpexpireat", -6, "write"),
        ("httl", -5, "readonly"),
        ("hpttl", -5, "readonly"),
        ("hexpiretime", -5, "readonly"),
        ("hpexpiretime", -5, "readonly"),
        ("hpersist", -5, "write"),
    ] {
        let V::Arr(info) = c.call(&["COMMAND", "INFO", name]) else {
            panic!("COMMAND INFO {name}")
        };
        let V::Arr(entry) = &info[0] else {
            panic!("no entry for {name}: {info:?}")
        };
        assert_eq!(entry[0], bulk(name));
        assert_eq!(entry[1], int(arity), "{name}");
        let (V::Set(flags) | V::Arr(flags)) = &entry[2] else {
            panic!("{name} flags")
        };
        assert!(flags.contains(&V::Simple(flag.into())), "{name}: {flags:?}");
        assert!(
            flags.contains(&V::Simple("fast".into())),
            "{name}: {flags:?}"
        );
        assert_eq!(
            (&entry[3], &entry[4], &entry[5]),
            (&int(1), &int(1), &int(1))
        );
    }
}

/// The commands of every incremental AOF file under `dir`, in order.
fn aof_commands(dir: &std::path::Path) -> Vec<Vec<String>> {
    let aof_dir = dir.join("appendonlydir");
    let mut files: Vec<_> = std::fs::read_dir(&aof_dir)
        .expect("appendonlydir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).expect("read aof");
        let mut lines = bytes
            .split(|&b| b == b'\n')
            .map(|l| String::from_utf8_lossy(l.strip_suffix(b"\r").unwrap_or(l)).into_owned());
        while let Some(head) = lines.next() {
            let Some(n) = head.strip_prefix('*') else {
                continue;
            };
            let n: usize = n.parse().expect("array length");
            let mut cmd = Vec::with_capacity(n);
            for _ in 0..n {
                lines.next(); // $len
                cmd.push(lines.next().expect("argument"));
            }
            out.push(cmd);
        }
    }
    out
}

/// The commands after the last SELECT, without it: what this test wrote.
fn aof_tail(dir: &std::path::Path, from: usize) -> Vec<String> {
    aof_commands(dir)[from..]
        .iter()
        .filter(|c| !c[0].eq_ignore_ascii_case("select"))
        .map(|c| c.join(" "))
        .collect()
}

#[test]
fn aof_gets_absolute_times_hdels_and_lazy_deletions_first() {
    let dir = common::new_temp_dir();
    let args = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--enable-debug-command",
        "yes",
    ];
    let s = TestServer::start_in(&dir, &args);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    let start = aof_commands(&dir).len();
    c.call(&["HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4"]);
    let before = unix_ms();
    t(&mut c, "HEXPIRE h 1000 NX FIELDS 2 a zz", &ints(&[1, -2]));
    let after = unix_ms();
    t(&mut c, "HEXPIRE h 1000 NX FIELDS 1 a", &ints(&[0]));
    t(&mut c, "HPEXPIREAT h 1 FIELDS 1 b", &ints(&[2]));
    t(&mut c, "HINCRBYFLOAT h a 1.5", "$3\r\n2.5\r\n");
    t(&mut c, "HPERSIST h FIELDS 1 zz", &ints(&[-2]));
    // Lazy expiry inside a write: HDEL, then the write, in one MULTI.
    t(&mut c, "HPEXPIRE h 20 FIELDS 2 c d", &ints(&[1, 1]));
    std::thread::sleep(Duration::from_millis(60));
    t(&mut c, "HSET h c 9", ":1\r\n");
    let tail = aof_tail(&dir, start);
    assert_eq!(tail[0], "HSET h a 1 b 2 c 3 d 4");
    let rewritten: Vec<&str> = tail[1].split(' ').collect();
    assert_eq!(rewritten[..2], ["HPEXPIREAT", "h"]);
    let at: i64 = rewritten[2].parse().expect("absolute ms");
    assert!(
        (before + 1_000_000..=after + 1_000_000).contains(&at),
        "{at}"
    );
    assert_eq!(rewritten[3..], ["NX", "FIELDS", "1", "a"]);
    assert_eq!(tail[2], "HDEL h b");
    // HINCRBYFLOAT as HSET, then the TTL that HSET would drop: one unit.
    assert_eq!(tail[3..5], ["MULTI", "HSET h a 2.5"]);
    assert_eq!(tail[5], format!("HPEXPIREAT h {at} FIELDS 1 a"));
    assert_eq!(tail[6], "EXEC");
    assert!(tail[7].starts_with("HPEXPIREAT h ") && tail[7].ends_with(" FIELDS 2 c d"));
    assert_eq!(tail[8..], ["MULTI", "HDEL h c d", "HSET h c 9", "EXEC"]);
    // A read propagates the deletion alone; so does the cron.
    t(&mut c, "HPEXPIRE h 20 FIELDS 1 c", &ints(&[1]));
    std::thread::sleep(Duration::from_millis(60));
    t(&mut c, "HGET h c", "$-1\r\n");
    t(&mut c, "HPEXPIRE h 20 FIELDS 1 a", &ints(&[1]));
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
    wait_until(Duration::from_secs(3), "field a actively expired", || {
        aof_tail(&dir, start).last().map(String::as_str) == Some("HDEL h a")
    });
    let tail = aof_tail(&dir, start);
    let n = tail.len();
    assert!(tail[n - 4].starts_with("HPEXPIREAT h "));
    assert_eq!(tail[n - 3], "HDEL h c");
    assert!(tail[n - 2].starts_with("HPEXPIREAT h "));
    // What is left survives a restart, TTLs included.
    c.call(&["HSET", "h", "x", "1", "y", "2"]);
    c.call(&["HPEXPIREAT", "h", "4102444800123", "FIELDS", "1", "x"]);
    drop(c);
    let dir = s.kill9();
    let s = TestServer::start_in(&dir, &args);
    let mut c = Client::new(&s);
    t(
        &mut c,
        "HPEXPIRETIME h FIELDS 4 x y a c",
        &ints(&[4102444800123, -1, -2, -2]),
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
