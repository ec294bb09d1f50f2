//! Keyspace notifications of the string, bitmap and generic keyspace
//! commands, and of expiry and eviction: the exact messages, in the exact
//! order Valkey publishes them, for each `notify-keyspace-events` class.
//!
//! A subscriber listens on every keyspace and keyevent channel, plus a
//! `sync` channel: after each command the test publishes a marker on
//! `sync`, and everything the subscriber received before the marker is
//! what that command published (one thread runs commands and delivers
//! messages in order, so nothing can arrive late).

mod common;

use common::{bulk, int, ok, Client, TestServer, V};
use std::time::Duration;

/// A client that runs commands and a subscriber that sees what they
/// publish.
struct Watch {
    c: Client,
    sub: Client,
    marker: u64,
}

impl Watch {
    /// Connects and sets `notify-keyspace-events` to `flags`.
    fn new(s: &TestServer, flags: &str) -> Watch {
        let mut c = Client::new(s);
        assert_eq!(
            c.call(&["CONFIG", "SET", "notify-keyspace-events", flags]),
            ok()
        );
        let mut sub = Client::new(s);
        assert_eq!(
            sub.call(&["PSUBSCRIBE", "__key*__:*"]),
            V::Arr(vec![bulk("psubscribe"), bulk("__key*__:*"), int(1)])
        );
        assert_eq!(
            sub.call(&["SUBSCRIBE", "sync"]),
            V::Arr(vec![bulk("subscribe"), bulk("sync"), int(2)])
        );
        Watch { c, sub, marker: 0 }
    }

    fn flags(&mut self, flags: &str) {
        assert_eq!(
            self.c
                .call(&["CONFIG", "SET", "notify-keyspace-events", flags]),
            ok()
        );
    }

    /// Runs a command (space-separated words) and returns its reply.
    fn call(&mut self, line: &str) -> V {
        let words: Vec<&str> = line.split(' ').collect();
        self.c.call(&words)
    }

    /// The messages received since the last call, as
    /// `"<channel> <payload>"`, up to a fresh marker.
    fn events(&mut self) -> Vec<String> {
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
                V::Arr(items) if items.len() == 4 && items[0] == bulk("pmessage") => {
                    seen.push(format!("{} {}", items[2].text(), items[3].text()));
                }
                other => panic!("unexpected message {other:?}"),
            }
        }
    }

    /// Runs a command and returns what it published.
    fn run(&mut self, line: &str) -> Vec<String> {
        self.call(line);
        self.events()
    }
}

/// The keyspace and keyevent messages of one event, as published with
/// both `K` and `E` on.
fn ev(db: usize, event: &str, key: &str) -> Vec<String> {
    vec![
        format!("__keyspace@{db}__:{key} {event}"),
        format!("__keyevent@{db}__:{event} {key}"),
    ]
}

/// Several events in a row, with `K` and `E` on, in database 0.
fn evs(list: &[(&str, &str)]) -> Vec<String> {
    list.iter().flat_map(|(e, k)| ev(0, e, k)).collect()
}

const NONE: Vec<String> = Vec::new();

#[test]
fn set_family() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "KEA");
    assert_eq!(w.run("SET foo bar"), evs(&[("set", "foo")]));
    // An expire time adds a generic `expire` after the `set`.
    assert_eq!(
        w.run("SET foo bar EX 100"),
        evs(&[("set", "foo"), ("expire", "foo")])
    );
    assert_eq!(
        w.run("SET foo bar PXAT 99999999999999"),
        evs(&[("set", "foo"), ("expire", "foo")])
    );
    assert_eq!(w.run("SET foo bar KEEPTTL"), evs(&[("set", "foo")]));
    assert_eq!(w.run("SET foo v2 GET"), evs(&[("set", "foo")]));
    // NX / XX that stop the command publish nothing.
    assert_eq!(w.run("SET foo bar NX"), NONE);
    assert_eq!(w.run("SET nokey bar XX"), NONE);
    assert_eq!(w.run("SET foo bar EX 0"), NONE, "an error");
    // A time already past deletes an existing key: `del`, nothing else.
    assert_eq!(w.run("SET foo bar PXAT 1"), evs(&[("del", "foo")]));
    assert_eq!(w.run("SET foo bar EXAT 1"), NONE, "nothing to delete");
    assert_eq!(w.run("SETNX foo x"), evs(&[("set", "foo")]));
    assert_eq!(w.run("SETNX foo x"), NONE);
    assert_eq!(
        w.run("SETEX foo 100 v"),
        evs(&[("set", "foo"), ("expire", "foo")])
    );
    assert_eq!(
        w.run("PSETEX foo 100000 v"),
        evs(&[("set", "foo"), ("expire", "foo")])
    );
    assert_eq!(w.run("GETSET foo v2"), evs(&[("set", "foo")]));
    assert_eq!(w.run("GETSET fresh v"), evs(&[("set", "fresh")]));
    assert_eq!(
        w.run("MSET a 1 b 2 a 3"),
        evs(&[("set", "a"), ("set", "b"), ("set", "a")])
    );
    assert_eq!(w.run("MSETNX a 1 c 3"), NONE);
    assert_eq!(w.run("MSETNX c 3 d 4"), evs(&[("set", "c"), ("set", "d")]));
    assert_eq!(w.run("GET foo"), NONE);
    assert_eq!(w.run("MGET foo nokey"), NONE);
    assert_eq!(w.run("STRLEN foo"), NONE);
    assert_eq!(w.run("GETRANGE foo 0 1"), NONE);
}

#[test]
fn getex_getdel() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "KEA");
    w.run("SET k v");
    assert_eq!(w.run("GETEX k"), NONE);
    assert_eq!(w.run("GETEX k PERSIST"), NONE, "no TTL to remove");
    assert_eq!(w.run("GETEX k EX 100"), evs(&[("expire", "k")]));
    assert_eq!(
        w.run("GETEX k PXAT 99999999999999"),
        evs(&[("expire", "k")])
    );
    assert_eq!(w.run("GETEX k PERSIST"), evs(&[("persist", "k")]));
    assert_eq!(w.run("GETEX k EX 0"), NONE, "an error");
    assert_eq!(w.run("GETEX nokey EX 10"), NONE);
    // An absolute time already past deletes the key.
    assert_eq!(w.run("GETEX k PXAT 1"), evs(&[("del", "k")]));
    assert_eq!(w.run("EXISTS k"), NONE);
    w.run("SET k v");
    assert_eq!(w.run("GETDEL k"), evs(&[("del", "k")]));
    assert_eq!(w.run("GETDEL k"), NONE);
    if w.c.has_command("hset") {
        w.run("HSET h f v");
        assert_eq!(w.run("GETDEL h"), NONE, "wrong type");
        assert_eq!(w.run("GETEX h EX 10"), NONE, "wrong type");
    }
}

#[test]
fn in_place_string_changes() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "KEA");
    assert_eq!(w.run("APPEND s abc"), evs(&[("append", "s")]));
    assert_eq!(w.run("APPEND s def"), evs(&[("append", "s")]));
    assert_eq!(w.c.call(&["APPEND", "e", ""]), int(0));
    assert_eq!(w.events(), evs(&[("append", "e")]), "an empty key is a key");
    assert_eq!(w.run("SETRANGE s 1 X"), evs(&[("setrange", "s")]));
    assert_eq!(w.run("SETRANGE r 2 ab"), evs(&[("setrange", "r")]));
    // Setting nothing changes nothing.
    assert_eq!(
        w.c.call(&["SETRANGE", "s", "0", ""]),
        int(6),
        "existing key"
    );
    assert_eq!(w.c.call(&["SETRANGE", "none", "0", ""]), int(0));
    assert_eq!(w.events(), NONE);
    assert_eq!(w.run("SETRANGE s -1 x"), NONE);
    for cmd in ["INCR i", "DECR i", "INCRBY i 5", "DECRBY i 2"] {
        assert_eq!(w.run(cmd), evs(&[("incrby", "i")]), "{cmd}");
    }
    assert_eq!(w.run("INCRBYFLOAT i 1.5"), evs(&[("incrbyfloat", "i")]));
    assert_eq!(w.run("INCRBYFLOAT f 2"), evs(&[("incrbyfloat", "f")]));
    // Failures publish nothing.
    assert_eq!(w.run("INCR s"), NONE);
    assert_eq!(w.run("INCRBYFLOAT s 1"), NONE);
    w.run("SET big 9223372036854775807");
    assert_eq!(w.run("INCR big"), NONE);
    assert_eq!(w.run("DECRBY i -9223372036854775808"), NONE);
    if w.c.has_command("hset") {
        w.run("HSET h f v");
        for cmd in ["APPEND h x", "SETRANGE h 0 x", "INCR h", "SETBIT h 0 1"] {
            assert_eq!(w.run(cmd), NONE, "{cmd}: wrong type");
        }
    }
}

#[test]
fn class_and_kind_flags() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "K$");
    // Keyspace channel only, string class only.
    assert_eq!(w.run("SET foo bar EX 100"), vec!["__keyspace@0__:foo set"]);
    assert_eq!(w.run("EXPIRE foo 50"), NONE);
    assert_eq!(w.run("DEL foo"), NONE);
    w.flags("Eg");
    // Keyevent channel only, generic class only.
    assert_eq!(
        w.run("SET foo bar EX 100"),
        vec!["__keyevent@0__:expire foo"]
    );
    assert_eq!(w.run("PERSIST foo"), vec!["__keyevent@0__:persist foo"]);
    assert_eq!(w.run("DEL foo"), vec!["__keyevent@0__:del foo"]);
    assert_eq!(w.run("INCR n"), NONE);
    w.flags("E$");
    assert_eq!(w.run("INCR n"), vec!["__keyevent@0__:incrby n"]);
    // A class without K or E publishes nothing, and so does K or E alone.
    for flags in ["g$", "K", "E", ""] {
        w.flags(flags);
        assert_eq!(w.run("SET foo bar EX 100"), NONE, "{flags}");
        assert_eq!(w.run("DEL foo"), NONE, "{flags}");
    }
    // `A` is every class but `n` and `m`.
    w.flags("KA");
    assert_eq!(w.run("SET new1 v"), vec!["__keyspace@0__:new1 set"]);
    assert_eq!(w.run("GET missing"), NONE);
}

#[test]
fn new_key_events() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "En");
    // Valkey's "new key test": only creations, not overwrites.
    w.call("SET foo bar");
    w.call("SET foo baz");
    w.call("SET bar bar");
    assert_eq!(
        w.events(),
        vec!["__keyevent@0__:new foo", "__keyevent@0__:new bar"]
    );
    // With the other classes: `new` comes first.
    w.flags("KEAn");
    let new_then = |ev: &str, key: &str| evs(&[("new", key), (ev, key)]);
    assert_eq!(w.run("SET k v"), new_then("set", "k"));
    assert_eq!(w.run("SET k v"), evs(&[("set", "k")]));
    assert_eq!(
        w.run("SET k2 v EX 100"),
        evs(&[("new", "k2"), ("set", "k2"), ("expire", "k2")])
    );
    assert_eq!(w.run("SET k3 v NX"), new_then("set", "k3"));
    assert_eq!(w.run("SETNX k4 v"), new_then("set", "k4"));
    assert_eq!(w.run("GETSET k5 v"), new_then("set", "k5"));
    assert_eq!(
        w.run("MSET m1 1 k 2 m2 3"),
        evs(&[
            ("new", "m1"),
            ("set", "m1"),
            ("set", "k"),
            ("new", "m2"),
            ("set", "m2")
        ])
    );
    // A key named twice is new once.
    assert_eq!(
        w.run("MSETNX x1 1 x1 2"),
        evs(&[("new", "x1"), ("set", "x1"), ("set", "x1")])
    );
    assert_eq!(w.run("APPEND a x"), new_then("append", "a"));
    assert_eq!(w.run("APPEND a x"), evs(&[("append", "a")]));
    assert_eq!(w.run("SETRANGE r 1 x"), new_then("setrange", "r"));
    assert_eq!(w.run("INCR i"), new_then("incrby", "i"));
    assert_eq!(w.run("INCRBY i 1"), evs(&[("incrby", "i")]));
    assert_eq!(w.run("INCRBYFLOAT f 1"), new_then("incrbyfloat", "f"));
    assert_eq!(w.run("SETBIT b 3 1"), new_then("setbit", "b"));
    assert_eq!(w.run("BITFIELD bf SET u8 0 1"), new_then("setbit", "bf"));
    // OVERFLOW FAIL stops the write, but the key was created.
    assert_eq!(
        w.run("BITFIELD bf2 OVERFLOW FAIL SET u8 0 256"),
        evs(&[("new", "bf2")])
    );
    assert_eq!(w.call("GET bf2"), bulk("\0"));
    assert_eq!(w.run("BITOP OR dest b bf"), new_then("set", "dest"));
    assert_eq!(w.run("BITOP OR dest b bf"), evs(&[("set", "dest")]));
    // RENAME, COPY and MOVE add the destination anew, even over an
    // existing key.
    assert_eq!(
        w.run("RENAME a k"),
        evs(&[("new", "k"), ("rename_from", "a"), ("rename_to", "k")])
    );
    assert_eq!(
        w.run("COPY k k2 REPLACE"),
        evs(&[("new", "k2"), ("copy_to", "k2")])
    );
    let mut moved = ev(1, "new", "k2");
    moved.extend(ev(0, "move_from", "k2"));
    moved.extend(ev(1, "move_to", "k2"));
    assert_eq!(w.run("MOVE k2 1"), moved);
    // No creation, no `new`.
    assert_eq!(w.run("SET zz v XX"), NONE);
    assert_eq!(w.run("SETRANGE zz 0 "), NONE, "setting nothing");
    assert_eq!(w.run("GETEX zz EX 5"), NONE);
    assert_eq!(w.run("BITOP AND nothing none1 none2"), NONE);
}

#[test]
fn keymiss_events() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "Km");
    let miss = |k: &str| format!("__keyspace@0__:{k} keymiss");
    w.call("SET s abc");
    assert_eq!(w.events(), NONE, "m alone: no set");
    assert_eq!(w.run("GET nokey"), vec![miss("nokey")]);
    assert_eq!(w.run("GET s"), NONE);
    assert_eq!(w.run("MGET a s b"), vec![miss("a"), miss("b")]);
    assert_eq!(w.run("STRLEN nokey"), vec![miss("nokey")]);
    assert_eq!(w.run("GETRANGE nokey 0 1"), vec![miss("nokey")]);
    assert_eq!(w.run("SUBSTR nokey 0 1"), vec![miss("nokey")]);
    assert_eq!(w.run("GETDEL nokey"), vec![miss("nokey")]);
    assert_eq!(w.run("GETEX nokey"), vec![miss("nokey")]);
    assert_eq!(w.run("LCS x s"), vec![miss("x")]);
    assert_eq!(w.run("LCS x y"), vec![miss("x"), miss("y")]);
    // GET of SET and GETSET reads the old value.
    assert_eq!(w.run("SET n1 v GET"), vec![miss("n1")]);
    assert_eq!(w.run("GETSET n2 v"), vec![miss("n2")]);
    assert_eq!(w.run("GETBIT nokey 1"), vec![miss("nokey")]);
    assert_eq!(w.run("BITCOUNT nokey"), vec![miss("nokey")]);
    assert_eq!(w.run("BITPOS nokey 1"), vec![miss("nokey")]);
    assert_eq!(w.run("BITFIELD nokey GET u8 0"), vec![miss("nokey")]);
    assert_eq!(w.run("BITFIELD_RO nokey GET u8 0"), vec![miss("nokey")]);
    assert_eq!(w.run("BITOP OR dst s x"), vec![miss("x")]);
    assert_eq!(w.run("EXISTS s x y"), vec![miss("x"), miss("y")]);
    assert_eq!(w.run("TOUCH x"), vec![miss("x")]);
    assert_eq!(w.run("TYPE x"), vec![miss("x")]);
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(w.run(&format!("{cmd} x")), vec![miss("x")], "{cmd}");
    }
    assert_eq!(w.run("COPY x y"), vec![miss("x")]);
    assert_eq!(w.run("SORT x"), vec![miss("x")]);
    // Write lookups and OBJECT do not count as misses.
    for cmd in [
        "INCR c1",
        "APPEND c2 x",
        "SETBIT c3 1 1",
        "SET c4 v",
        "EXPIRE x 10",
        "PERSIST x",
        "DEL x",
        "OBJECT ENCODING x",
        "RENAME x y",
        "MOVE x 1",
    ] {
        assert_eq!(w.run(cmd), NONE, "{cmd}");
    }
}

#[test]
fn bit_commands() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "KEA");
    assert_eq!(w.run("SETBIT b 7 1"), evs(&[("setbit", "b")]));
    assert_eq!(w.run("SETBIT b 7 1"), NONE, "the bit did not change");
    assert_eq!(w.run("SETBIT b 7 0"), evs(&[("setbit", "b")]));
    // Growing the string is a change even when the bit stays 0.
    assert_eq!(w.run("SETBIT b 100 0"), evs(&[("setbit", "b")]));
    assert_eq!(w.run("SETBIT b 2 2"), NONE, "an error");
    assert_eq!(w.run("GETBIT b 7"), NONE);
    assert_eq!(w.run("BITCOUNT b"), NONE);
    assert_eq!(w.run("BITFIELD b SET u8 0 255"), evs(&[("setbit", "b")]));
    assert_eq!(w.run("BITFIELD b SET u8 0 255"), NONE, "unchanged");
    assert_eq!(
        w.run("BITFIELD b INCRBY u8 0 1 INCRBY u8 8 1"),
        evs(&[("setbit", "b")]),
        "one event for several changes"
    );
    assert_eq!(w.run("BITFIELD b GET u8 0"), NONE);
    assert_eq!(w.run("BITFIELD_RO b GET u8 0"), NONE);
    assert_eq!(w.run("BITFIELD b OVERFLOW FAIL SET u8 0 256"), NONE);
    // BITOP: `set` for a result, `del` when an empty result removes the
    // destination, nothing when there was nothing to remove.
    w.run("SET a1 abc");
    w.run("SET a2 zz");
    assert_eq!(w.run("BITOP AND d a1 a2"), evs(&[("set", "d")]));
    assert_eq!(w.run("BITOP NOT d a1"), evs(&[("set", "d")]));
    assert_eq!(w.run("BITOP XOR d nope1 nope2"), evs(&[("del", "d")]));
    assert_eq!(w.run("BITOP XOR d nope1 nope2"), NONE);
    assert_eq!(w.run("BITOP FOO d a1"), NONE);
}

#[test]
fn keyspace_commands() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "KEA");
    w.run("MSET a 1 b 2 c 3");
    assert_eq!(w.run("DEL a nokey b"), evs(&[("del", "a"), ("del", "b")]));
    assert_eq!(w.run("UNLINK c"), evs(&[("del", "c")]));
    assert_eq!(w.run("DEL c"), NONE);
    w.run("SET k v");
    for cmd in [
        "EXPIRE k 100",
        "PEXPIRE k 100000",
        "EXPIREAT k 99999999999",
        "PEXPIREAT k 99999999999999",
        "EXPIRE k 50 LT",
    ] {
        assert_eq!(w.run(cmd), evs(&[("expire", "k")]), "{cmd}");
    }
    // Conditions that fail, missing keys and errors publish nothing.
    for cmd in [
        "EXPIRE k 100 NX",
        "EXPIRE k 100 LT",
        "EXPIRE nokey 100",
        "EXPIRE k abc",
        "EXPIRE k 10 FOO",
        "PERSIST nokey",
    ] {
        assert_eq!(w.run(cmd), NONE, "{cmd}");
    }
    assert_eq!(w.run("PERSIST k"), evs(&[("persist", "k")]));
    assert_eq!(w.run("PERSIST k"), NONE);
    // A time in the past deletes the key: `del`.
    assert_eq!(w.run("EXPIRE k -1"), evs(&[("del", "k")]));
    w.run("SET k v");
    assert_eq!(w.run("PEXPIREAT k 1"), evs(&[("del", "k")]));
    assert_eq!(w.run("EXISTS k"), NONE);
    w.run("SET k v");
    assert_eq!(
        w.run("RENAME k k2"),
        evs(&[("rename_from", "k"), ("rename_to", "k2")])
    );
    assert_eq!(w.run("RENAME k2 k2"), NONE, "same key");
    assert_eq!(w.run("RENAME nokey x"), NONE);
    w.run("SET other v");
    assert_eq!(w.run("RENAMENX k2 other"), NONE);
    assert_eq!(
        w.run("RENAMENX k2 k3"),
        evs(&[("rename_from", "k2"), ("rename_to", "k3")])
    );
    // COPY announces the destination only, in its database.
    assert_eq!(w.run("COPY k3 k4"), evs(&[("copy_to", "k4")]));
    assert_eq!(w.run("COPY k3 k4"), NONE, "exists");
    assert_eq!(w.run("COPY k3 k4 REPLACE"), evs(&[("copy_to", "k4")]));
    assert_eq!(w.run("COPY k3 k4 DB 2"), ev(2, "copy_to", "k4"));
    assert_eq!(w.run("COPY nokey k5"), NONE);
    // MOVE: `move_from` in the source database, `move_to` in the target.
    let mut moved = ev(0, "move_from", "k4");
    moved.extend(ev(3, "move_to", "k4"));
    assert_eq!(w.run("MOVE k4 3"), moved);
    assert_eq!(w.run("MOVE k4 3"), NONE, "gone");
    w.run("SET k4 v");
    assert_eq!(w.run("MOVE k4 3"), NONE, "exists in the target");
    // Reads, and whole-database commands, publish nothing.
    for cmd in [
        "EXISTS k3",
        "TYPE k3",
        "TOUCH k3",
        "TTL k3",
        "KEYS *",
        "SCAN 0",
        "RANDOMKEY",
        "DBSIZE",
        "OBJECT ENCODING k3",
        "SWAPDB 0 1",
        "SWAPDB 0 1",
        "FLUSHDB",
        "FLUSHALL",
    ] {
        assert_eq!(w.run(cmd), NONE, "{cmd}");
    }
}

/// A few milliseconds past a key's expire time, whether active expiry
/// already deleted it or not: both announce `expired` first.
fn wait_expiry() {
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn expired_events_come_first() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "KEA");
    // Valkey's "expired events (background expire)": active expiry
    // announces it without any command touching the key.
    assert_eq!(
        w.run("PSETEX foo 100 1"),
        evs(&[("set", "foo"), ("expire", "foo")])
    );
    for want in ev(0, "expired", "foo") {
        let V::Arr(items) = w.sub.read() else {
            panic!("not a message")
        };
        assert_eq!(format!("{} {}", items[2].text(), items[3].text()), want);
    }
    // A command that finds the key expired announces that before its own
    // events.
    w.run("SET k v PX 5");
    wait_expiry();
    assert_eq!(w.run("SET k v2"), evs(&[("expired", "k"), ("set", "k")]));
    w.run("SET k v PX 5");
    wait_expiry();
    assert_eq!(w.run("DEL k"), evs(&[("expired", "k")]));
    w.run("SET k 1 PX 5");
    wait_expiry();
    assert_eq!(w.run("GET k"), evs(&[("expired", "k")]));
    w.run("SET k 1 PX 5");
    wait_expiry();
    w.flags("KEAn");
    assert_eq!(
        w.run("INCR k"),
        evs(&[("expired", "k"), ("new", "k"), ("incrby", "k")])
    );
    // `x` alone: only expiries.
    w.flags("Ex");
    w.run("SET k 1 PX 5");
    wait_expiry();
    assert_eq!(
        w.run("APPEND k x"),
        vec!["__keyevent@0__:expired k".to_string()]
    );
    // Expired events off: nothing about them.
    w.flags("KE$");
    w.run("SET j 1 PX 5");
    wait_expiry();
    assert_eq!(w.run("SET j 2"), evs(&[("set", "j")]));
}

#[test]
fn expired_keys_found_by_keyspace_commands() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut w = Watch::new(&s, "Ex");
    // Keep active expiry out of the way: these keys must be found expired
    // by the commands themselves.
    assert_eq!(w.call("DEBUG SET-ACTIVE-EXPIRE 0"), ok());
    w.call("SET a 1 PX 5");
    w.call("SET b 1 PX 5");
    w.call("SET c 1");
    wait_expiry();
    assert_eq!(
        w.run("DEL a c b"),
        vec!["__keyevent@0__:expired a", "__keyevent@0__:expired b"]
    );
    w.call("SET a 1 PX 5");
    wait_expiry();
    assert_eq!(w.run("SCAN 0"), vec!["__keyevent@0__:expired a"]);
    w.call("SET a 1 PX 5");
    wait_expiry();
    assert_eq!(w.run("EXISTS a"), vec!["__keyevent@0__:expired a"]);
    w.call("SET a 1 PX 5");
    w.call("SET c 1");
    wait_expiry();
    // RENAME and COPY look the destination up, expiring it.
    assert_eq!(w.run("RENAME c a"), vec!["__keyevent@0__:expired a"]);
    w.call("SET b 1 PX 5");
    wait_expiry();
    assert_eq!(w.run("COPY a b REPLACE"), vec!["__keyevent@0__:expired b"]);
    // RANDOMKEY deletes the expired keys it draws.
    w.call("DEL a");
    w.call("SET b 1 PX 5");
    wait_expiry();
    assert_eq!(w.run("RANDOMKEY"), vec!["__keyevent@0__:expired b"]);
    // Found expired by the command's own lookup (no active expiry to beat
    // it to it): `expired` still comes before the command's events.
    w.flags("Exn$");
    w.call("SET a 1 PX 5");
    w.events();
    wait_expiry();
    assert_eq!(
        w.run("SET a 2"),
        vec![
            "__keyevent@0__:expired a",
            "__keyevent@0__:new a",
            "__keyevent@0__:set a"
        ]
    );
    assert_eq!(w.call("DEBUG SET-ACTIVE-EXPIRE 1"), ok());
}

#[test]
fn evicted_events() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "Ee");
    assert_eq!(w.call("CONFIG SET maxmemory-policy allkeys-lru"), ok());
    w.call("SET foo bar");
    assert_eq!(w.events(), NONE);
    // Valkey's "evicted events": the cron evicts down to the limit.
    assert_eq!(w.call("CONFIG SET maxmemory 1"), ok());
    let V::Arr(items) = w.sub.read() else {
        panic!("not a message")
    };
    assert_eq!(
        items,
        vec![
            bulk("pmessage"),
            bulk("__key*__:*"),
            bulk("__keyevent@0__:evicted"),
            bulk("foo")
        ]
    );
    assert_eq!(w.call("CONFIG SET maxmemory 0"), ok());
    assert_eq!(w.events(), NONE);
    // Without `e`, evictions are silent.
    w.flags("KEg$");
    w.call("SET foo bar");
    w.events();
    assert_eq!(w.call("CONFIG SET maxmemory 1"), ok());
    common::wait_until(Duration::from_secs(5), "eviction", || {
        w.c.call(&["DBSIZE"]) == int(0)
    });
    assert_eq!(w.call("CONFIG SET maxmemory 0"), ok());
    assert_eq!(w.events(), NONE);
}

#[test]
fn sort_store() {
    let s = TestServer::start();
    let mut w = Watch::new(&s, "KEA");
    if !w.c.has_command("sadd") {
        return;
    }
    w.run("SADD src c a b");
    assert_eq!(
        w.run("SORT src ALPHA STORE dst"),
        evs(&[("sortstore", "dst")])
    );
    assert_eq!(w.run("SORT src ALPHA"), NONE);
    // An empty result deletes the destination: `del`.
    assert_eq!(w.run("SORT nosrc STORE dst"), evs(&[("del", "dst")]));
    assert_eq!(w.run("SORT nosrc STORE dst"), NONE);
    // `sortstore` is a list event; `new` comes first.
    w.flags("KEln");
    assert_eq!(
        w.run("SORT src ALPHA STORE dst2"),
        evs(&[("new", "dst2"), ("sortstore", "dst2")])
    );
    w.flags("KEg");
    assert_eq!(w.run("SORT src ALPHA STORE dst2"), NONE);
    // A destination found expired is announced first, then created anew.
    w.flags("KEAn");
    w.run("SET dst3 v PX 5");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        w.run("SORT src ALPHA STORE dst3"),
        evs(&[("expired", "dst3"), ("new", "dst3"), ("sortstore", "dst3")])
    );
}
