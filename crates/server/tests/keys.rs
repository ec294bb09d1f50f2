//! Keyspace commands through the real server, with Valkey's replies and
//! error strings (tests/unit/keyspace.tcl, expire.tcl, scan.tcl,
//! introspection-2.tcl): DEL/EXISTS/TYPE, the expire family and its
//! options, KEYS, SCAN, RANDOMKEY, RENAME, COPY, MOVE, SWAPDB, TOUCH,
//! OBJECT, WAIT, FLUSH*, active and lazy expiry.

mod common;
use common::{
    as_int, bulk, encode, err, info_field, int, ok, unix_ms, wait_until, Client, TestServer, V,
};
use std::collections::HashSet;
use std::time::Duration;

fn strs(v: &V) -> Vec<String> {
    match v {
        V::Arr(a) => a
            .iter()
            .map(|x| match x {
                V::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}
fn sorted(v: &V) -> Vec<String> {
    let mut s = strs(v);
    s.sort();
    s
}

/// Sets `n` string keys `key:0..n` in one pipeline.
fn populate(c: &mut Client, n: usize) {
    for i in 0..n {
        c.send(&["SET", &format!("key:{i}"), &i.to_string()]);
    }
    for _ in 0..n {
        assert_eq!(c.read(), ok());
    }
}

/// Runs a full SCAN with extra options; returns every key returned, in
/// order, duplicates included.
fn full_scan(c: &mut Client, opts: &[&str]) -> Vec<String> {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(opts);
        let reply = c.call(&args);
        let V::Arr(parts) = reply else {
            panic!("scan reply {reply:?}")
        };
        let V::Bulk(next) = &parts[0] else {
            panic!("cursor is not a bulk string: {:?}", parts[0])
        };
        keys.extend(strs(&parts[1]));
        cursor = String::from_utf8(next.clone()).expect("cursor text");
        if cursor == "0" {
            return keys;
        }
    }
}

// ---- DEL, EXISTS, TYPE, KEYS, DBSIZE -----------------------------------------

#[test]
fn del_unlink_exists_type() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["MSET", "foo1", "a", "foo2", "b", "foo3", "c"]),
        ok()
    );
    assert_eq!(c.call(&["EXISTS", "foo1", "foo1", "nokey"]), int(2));
    assert_eq!(c.call(&["DEL", "foo1", "foo2", "foo4"]), int(2));
    assert_eq!(c.call(&["UNLINK", "foo3", "foo3"]), int(1));
    assert_eq!(c.call(&["EXISTS", "foo1", "foo2", "foo3"]), int(0));
    assert_eq!(
        c.call(&["DEL"]),
        err("ERR wrong number of arguments for 'del' command")
    );
    assert_eq!(c.call(&["SET", "emptykey", ""]), ok());
    assert_eq!(c.call(&["EXISTS", "emptykey"]), int(1));
    assert_eq!(c.call(&["TYPE", "emptykey"]), V::Simple("string".into()));
    assert_eq!(c.call(&["TYPE", "nokey"]), V::Simple("none".into()));
    // A key past its time is gone for DEL (it expires, it is not deleted).
    assert_eq!(c.call(&["SET", "x", "v", "PX", "1"]), ok());
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(c.call(&["DEL", "x"]), int(0));
}

/// Big values go to the lazy-free thread and INFO counts them
/// (lazyfree.tcl): UNLINK always, DEL per `lazyfree-lazy-user-del`,
/// FLUSHALL ASYNC one object per key; CONFIG RESETSTAT clears the count.
#[test]
fn lazy_free_is_counted_in_info() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    let freed = |c: &mut Client| -> i64 {
        // The background thread may still be at it: wait for it to drain.
        let field = |c: &mut Client, name: &str| -> i64 {
            let info = c.call(&["INFO", "memory"]).text();
            info_field(&info, name).unwrap().parse().unwrap()
        };
        wait_until(Duration::from_secs(5), "lazy free drained", || {
            field(c, "lazyfree_pending_objects") == 0
        });
        field(c, "lazyfreed_objects")
    };
    let big_set = |c: &mut Client, key: &str| {
        let mut args = vec!["SADD".to_string(), key.to_string()];
        args.extend((0..200).map(|i| format!("m{i}")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.call(&args), int(200));
    };
    assert_eq!(freed(&mut c), 0);
    big_set(&mut c, "s1");
    assert_eq!(c.call(&["UNLINK", "s1"]), int(1));
    assert_eq!(freed(&mut c), 1);
    // A small value is freed in place, even by UNLINK.
    assert_eq!(c.call(&["SADD", "small", "a"]), int(1));
    assert_eq!(c.call(&["UNLINK", "small"]), int(1));
    assert_eq!(freed(&mut c), 1);
    big_set(&mut c, "s2");
    assert_eq!(c.call(&["DEL", "s2"]), int(1));
    assert_eq!(freed(&mut c), 2);
    assert_eq!(
        c.call(&["CONFIG", "SET", "lazyfree-lazy-user-del", "no"]),
        ok()
    );
    big_set(&mut c, "s3");
    assert_eq!(c.call(&["DEL", "s3"]), int(1));
    assert_eq!(freed(&mut c), 2);
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(freed(&mut c), 0);
    assert_eq!(c.call(&["MSET", "a", "1", "b", "2", "c", "3"]), ok());
    assert_eq!(c.call(&["FLUSHALL", "ASYNC"]), ok());
    assert_eq!(freed(&mut c), 3);
    // Expiry, found on access and by the active cycle, per
    // `lazyfree-lazy-expire` (default yes).
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    for (lazy, counted) in [("yes", 1), ("no", 0)] {
        assert_eq!(
            c.call(&["CONFIG", "SET", "lazyfree-lazy-expire", lazy]),
            ok()
        );
        assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
        big_set(&mut c, "e1");
        assert_eq!(c.call(&["PEXPIRE", "e1", "1"]), int(1));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(c.call(&["EXISTS", "e1"]), int(0));
        assert_eq!(freed(&mut c), counted, "on access, lazy {lazy}");
        big_set(&mut c, "e2");
        assert_eq!(c.call(&["PEXPIRE", "e2", "1"]), int(1));
        assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
        wait_until(Duration::from_secs(5), "active expiry", || {
            c.call(&["DBSIZE"]) == int(0)
        });
        assert_eq!(freed(&mut c), 2 * counted, "by the cycle, lazy {lazy}");
        assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    }
}

#[test]
fn keys_patterns_and_dbsize() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for k in ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"] {
        assert_eq!(c.call(&["SET", k, "hello"]), ok());
    }
    assert_eq!(
        sorted(&c.call(&["KEYS", "foo*"])),
        ["foo_a", "foo_b", "foo_c"]
    );
    assert_eq!(sorted(&c.call(&["KEYS", "*"])).len(), 6);
    assert_eq!(c.call(&["DBSIZE"]), int(6));
    for k in ["{a}x", "{a}y", "{b}a"] {
        c.call(&["SET", k, "hello"]);
    }
    assert_eq!(sorted(&c.call(&["KEYS", "{a}*"])), ["{a}x", "{a}y"]);
    assert_eq!(sorted(&c.call(&["KEYS", "*{b}*"])), ["{b}a"]);
    c.call(&["FLUSHDB"]);
    c.call(&["SET", &"a".repeat(40), "1"]);
    let nested = format!("{}b", "a*".repeat(20));
    assert_eq!(c.call(&["KEYS", &nested]), V::Arr(vec![]));
    // Expired keys are not listed.
    c.call(&["SET", "gone", "1", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(strs(&c.call(&["KEYS", "*"])), ["a".repeat(40)]);
}

// ---- the expire family ----------------------------------------------------------

#[test]
fn expire_ttl_persist_basics() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "x", "foobar"]);
    assert_eq!(c.call(&["EXPIRE", "x", "5"]), int(1));
    assert_eq!(c.call(&["TTL", "x"]), int(5));
    assert_eq!(c.call(&["EXPIRE", "x", "10"]), int(1));
    assert_eq!(c.call(&["TTL", "x"]), int(10));
    let pttl = as_int(c.call(&["PTTL", "x"]));
    assert!(pttl > 9000 && pttl <= 10000, "{pttl}");
    assert_eq!(c.call(&["PERSIST", "x"]), int(1));
    assert_eq!(c.call(&["TTL", "x"]), int(-1));
    assert_eq!(c.call(&["PERSIST", "x"]), int(0));
    assert_eq!(c.call(&["PERSIST", "nokey"]), int(0));
    assert_eq!(c.call(&["GET", "x"]), bulk("foobar"));
    for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
        assert_eq!(c.call(&[cmd, "x"]), int(-1), "{cmd}");
        assert_eq!(c.call(&[cmd, "nokey"]), int(-2), "{cmd}");
    }
    // Absolute times.
    let abs = unix_ms() / 1000 + 100;
    assert_eq!(c.call(&["EXPIREAT", "x", &abs.to_string()]), int(1));
    assert_eq!(c.call(&["EXPIRETIME", "x"]), int(abs));
    assert_eq!(c.call(&["PEXPIRETIME", "x"]), int(abs * 1000));
    let ttl = as_int(c.call(&["TTL", "x"]));
    assert!((99..=100).contains(&ttl), "{ttl}");
    // EXPIRETIME rounds to the nearest second.
    let ms = abs * 1000 + 600;
    assert_eq!(c.call(&["PEXPIREAT", "x", &ms.to_string()]), int(1));
    assert_eq!(c.call(&["PEXPIRETIME", "x"]), int(ms));
    assert_eq!(c.call(&["EXPIRETIME", "x"]), int(abs + 1));
    // A time in the past deletes the key.
    let past = unix_ms() / 1000 - 100;
    assert_eq!(c.call(&["EXPIREAT", "x", &past.to_string()]), int(1));
    assert_eq!(c.call(&["EXISTS", "x"]), int(0));
    assert_eq!(c.call(&["EXPIRE", "nokey", "100"]), int(0));
    // SET removes the TTL.
    c.call(&["SET", "y", "1", "EX", "100"]);
    c.call(&["SET", "y", "2"]);
    assert_eq!(c.call(&["TTL", "y"]), int(-1));
}

#[test]
fn expire_options_nx_xx_gt_lt() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let ttl = |c: &mut Client| as_int(c.call(&["TTL", "foo"]));
    // NX
    c.call(&["SET", "foo", "bar", "EX", "100"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "NX"]), int(0));
    assert!((50..=100).contains(&ttl(&mut c)));
    c.call(&["SET", "foo", "bar"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "NX"]), int(1));
    assert!((100..=200).contains(&ttl(&mut c)));
    // XX
    c.call(&["SET", "foo", "bar", "EX", "100"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "XX"]), int(1));
    assert!((100..=200).contains(&ttl(&mut c)));
    c.call(&["SET", "foo", "bar"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "XX"]), int(0));
    assert_eq!(ttl(&mut c), -1);
    // GT: no TTL counts as infinite, so GT never passes.
    c.call(&["SET", "foo", "bar", "EX", "100"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "GT"]), int(1));
    assert_eq!(c.call(&["EXPIRE", "foo", "100", "GT"]), int(0));
    assert!((100..=200).contains(&ttl(&mut c)));
    c.call(&["SET", "foo", "bar"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "GT"]), int(0));
    assert_eq!(ttl(&mut c), -1);
    // LT: always passes on a key without TTL.
    c.call(&["SET", "foo", "bar", "EX", "100"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "LT"]), int(0));
    assert_eq!(c.call(&["EXPIRE", "foo", "50", "lt"]), int(1));
    assert!((40..=50).contains(&ttl(&mut c)));
    c.call(&["SET", "foo", "bar"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "100", "LT"]), int(1));
    assert!((50..=100).contains(&ttl(&mut c)));
    // LT + XX
    c.call(&["SET", "foo", "bar", "EX", "200"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "100", "LT", "XX"]), int(1));
    c.call(&["SET", "foo", "bar"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "LT", "XX"]), int(0));
    assert_eq!(ttl(&mut c), -1);
    // GT + XX, repeated options
    c.call(&["SET", "foo", "bar", "EX", "100"]);
    assert_eq!(
        c.call(&["PEXPIRE", "foo", "500000", "XX", "GT", "GT"]),
        int(1)
    );
    // Conflicts and unknown options, checked before the time argument.
    let both = err("ERR NX and XX, GT or LT options at the same time are not compatible");
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "NX", "XX"]), both);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "NX", "GT"]), both);
    assert_eq!(c.call(&["EXPIRE", "foo", "200", "LT", "NX"]), both);
    assert_eq!(
        c.call(&["EXPIRE", "foo", "200", "LT", "GT"]),
        err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(
        c.call(&["EXPIRE", "foo", "200", "AB"]),
        err("ERR Unsupported option AB")
    );
    assert_eq!(
        c.call(&["EXPIRE", "foo", "200", "XX", "ab"]),
        err("ERR Unsupported option ab")
    );
    assert_eq!(
        c.call(&["EXPIRE", "foo", "notanumber", "ZZ"]),
        err("ERR Unsupported option ZZ")
    );
    // Negative times delete, with or without a TTL before.
    c.call(&["SET", "foo", "bar", "EX", "100"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "-10", "LT"]), int(1));
    assert_eq!(ttl(&mut c), -2);
    c.call(&["SET", "foo", "bar"]);
    assert_eq!(c.call(&["EXPIRE", "foo", "-10", "LT"]), int(1));
    assert_eq!(ttl(&mut c), -2);
    for opt in ["NX", "XX", "GT", "LT"] {
        assert_eq!(c.call(&["EXPIRE", "none", "100", opt]), int(0));
    }
}

#[test]
fn expire_overflow_and_bad_times() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "foo", "bar"]);
    let bad = |cmd: &str| err(&format!("ERR invalid expire time in '{cmd}' command"));
    for t in [
        "9223370399119966",
        "9223372036854776",
        "10000000000000000",
        "18446744073709561",
        "-9223372036854776",
        "-9999999999999999",
    ] {
        assert_eq!(c.call(&["EXPIRE", "foo", t]), bad("expire"), "{t}");
    }
    assert_eq!(
        c.call(&["EXPIREAT", "foo", "9223372036854775807"]),
        bad("expireat")
    );
    assert_eq!(
        c.call(&["PEXPIRE", "foo", "9223372036854770000"]),
        bad("pexpire")
    );
    assert_eq!(c.call(&["TTL", "foo"]), int(-1));
    let not_int = err("ERR value is not an integer or out of range");
    assert_eq!(c.call(&["EXPIRE", "foo", ""]), not_int);
    assert_eq!(c.call(&["EXPIRE", "foo", "1.5"]), not_int);
    assert_eq!(c.call(&["PEXPIRE", "foo", "99999999999999999999"]), not_int);
    assert_eq!(
        c.call(&["EXPIRE", "foo"]),
        err("ERR wrong number of arguments for 'expire' command")
    );
    assert_eq!(c.call(&["PEXPIREAT", "foo", "9223372036854770000"]), int(1));
    assert_eq!(c.call(&["PEXPIRETIME", "foo"]), int(9223372036854770000));
    assert_eq!(
        c.call(&["PEXPIREAT", "foo", "-9223372036854770000"]),
        int(1)
    );
    assert_eq!(c.call(&["TTL", "foo"]), int(-2));
}

#[test]
fn expire_does_not_resurrect_and_ttl_counts_stats() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "foo", "bar"]);
    assert_eq!(c.call(&["PEXPIRE", "foo", "20"]), int(1));
    std::thread::sleep(Duration::from_millis(40));
    assert_eq!(c.call(&["EXPIRE", "foo", "10"]), int(0));
    assert_eq!(c.call(&["EXISTS", "foo"]), int(0));
}

#[test]
fn active_expiry_removes_keys_without_access() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for i in 0..100 {
        c.send(&["PSETEX", &format!("k{i}"), "100", "v"]);
    }
    for _ in 0..100 {
        assert_eq!(c.read(), ok());
    }
    c.call(&["SET", "keep", "1"]);
    assert_eq!(c.call(&["DBSIZE"]), int(101));
    // DBSIZE reads no key, so only the cron can have removed them.
    wait_until(
        Duration::from_secs(2),
        "keys did not actively expire",
        || c.call(&["DBSIZE"]) == int(1),
    );
    assert_eq!(c.call(&["GET", "keep"]), bulk("1"));
}

#[test]
fn lazy_expiry_deletes_on_access() {
    // hz 1: the cron rarely runs between the sleep and the access; the
    // attempt is retried until the key was found still there (DEBUG
    // SET-ACTIVE-EXPIRE 0 is used too, where it is available).
    let s = TestServer::start_with(&["--hz", "1", "--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    let mut seen_lazy = false;
    for _ in 0..10 {
        c.call(&["FLUSHALL"]);
        for k in ["key1", "key2", "key3"] {
            assert_eq!(c.call(&["PSETEX", k, "30", "a"]), ok());
        }
        std::thread::sleep(Duration::from_millis(50));
        c.send(&["DBSIZE"]);
        c.send(&["MGET", "key1", "key2", "key3"]);
        c.send(&["DBSIZE"]);
        let before = c.read();
        assert_eq!(c.read(), V::Arr(vec![V::Nil, V::Nil, V::Nil]));
        assert_eq!(c.read(), int(0));
        if before == int(3) {
            seen_lazy = true;
            break;
        }
    }
    assert!(seen_lazy, "never found expired keys still stored");
}

// ---- SCAN ---------------------------------------------------------------------

#[test]
fn scan_full_iteration_count_match_type() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    populate(&mut c, 1000);
    // A stable set: every key exactly once.
    for opts in [&[][..], &["COUNT", "5"], &["count", "100"]] {
        let keys = full_scan(&mut c, opts);
        let unique: HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), 1000, "{opts:?}");
        assert_eq!(keys.len(), 1000, "duplicates with {opts:?}");
    }
    let keys = full_scan(&mut c, &["MATCH", "key:1??"]);
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 100);
    assert!(keys.iter().all(|k| k.len() == 7 && k.starts_with("key:1")));
    assert_eq!(full_scan(&mut c, &["TYPE", "list"]).len(), 0);
    assert_eq!(full_scan(&mut c, &["TYPE", "STRING"]).len(), 1000);
    let keys = full_scan(&mut c, &["type", "string", "match", "key:*", "count", "10"]);
    assert_eq!(keys.iter().collect::<HashSet<_>>().len(), 1000);
    // MATCH * is no filter.
    assert_eq!(full_scan(&mut c, &["MATCH", "*"]).len(), 1000);
}

#[test]
fn scan_errors_and_reply_shape() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // The cursor is a bulk string, in RESP2 and RESP3.
    let mut raw = s.raw();
    raw.send(&encode(&[b"SCAN", b"0"]));
    raw.expect(b"*2\r\n$1\r\n0\r\n*0\r\n");
    let mut c3 = Client::new(&s);
    c3.hello3();
    assert_eq!(
        c3.call(&["SCAN", "0"]),
        V::Arr(vec![bulk("0"), V::Arr(vec![])])
    );
    for bad in ["abc", "-1", "1.5", "", "18446744073709551616"] {
        assert_eq!(c.call(&["SCAN", bad]), err("ERR invalid cursor"), "{bad}");
    }
    // Cursors beyond i64 are valid numbers (nothing there: empty answer).
    assert!(matches!(
        c.call(&["SCAN", "18446744073709551615"]),
        V::Arr(_)
    ));
    let syntax = err("ERR syntax error");
    assert_eq!(c.call(&["SCAN", "0", "COUNT", "0"]), syntax);
    assert_eq!(c.call(&["SCAN", "0", "COUNT", "-1"]), syntax);
    assert_eq!(c.call(&["SCAN", "0", "MATCH"]), syntax);
    assert_eq!(c.call(&["SCAN", "0", "FOO", "bar"]), syntax);
    assert_eq!(
        c.call(&["SCAN", "0", "COUNT", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["SCAN", "0", "TYPE", "string1"]),
        err("ERR unknown type name 'string1'")
    );
    assert_eq!(
        c.call(&["SCAN", "0", "NOVALUES"]),
        err("ERR NOVALUES option can only be used in HSCAN")
    );
    assert_eq!(
        c.call(&["SCAN", "0", "NOSCORES"]),
        err("ERR NOSCORES option can only be used in ZSCAN")
    );
    assert_eq!(
        c.call(&["SCAN"]),
        err("ERR wrong number of arguments for 'scan' command")
    );
}

#[test]
fn scan_skips_and_deletes_expired_keys() {
    let s = TestServer::start_with(&["--hz", "1", "--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    populate(&mut c, 1000);
    for i in 0..20 {
        c.call(&["SET", &format!("gone:{i}"), "x", "PX", "1"]);
    }
    std::thread::sleep(Duration::from_millis(10));
    let keys = full_scan(&mut c, &["COUNT", "10"]);
    assert_eq!(keys.len(), 1000);
    assert!(keys.iter().all(|k| k.starts_with("key:")));
    assert_eq!(c.call(&["DBSIZE"]), int(1000));
}

#[test]
fn scan_under_writes_returns_keys_present_throughout() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    populate(&mut c, 100);
    for i in 0..200 {
        c.call(&["SET", &format!("removable:{i}"), "x"]);
    }
    let mut cursor = "0".to_string();
    let mut seen = HashSet::new();
    let mut round = 0;
    loop {
        let V::Arr(parts) = c.call(&["SCAN", &cursor]) else {
            panic!()
        };
        seen.extend(strs(&parts[1]));
        let V::Bulk(next) = &parts[0] else { panic!() };
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
        // Grow the table (forcing resizes) and shrink it while scanning.
        for j in 0..20 {
            c.call(&["SET", &format!("added:{round}:{j}"), "foo"]);
        }
        for j in 0..10 {
            c.call(&["DEL", &format!("removable:{}", round * 10 + j)]);
        }
        round += 1;
    }
    for i in 0..100 {
        assert!(seen.contains(&format!("key:{i}")), "key:{i} missed");
    }
}

// ---- RANDOMKEY ----------------------------------------------------------------

#[test]
fn randomkey_fair_nil_and_expired() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["RANDOMKEY"]), V::Nil);
    let mut c3 = Client::new(&s);
    c3.hello3();
    assert_eq!(c3.call(&["RANDOMKEY"]), V::Null);
    c.call(&["SET", "x", "10"]);
    c.call(&["DEL", "x"]);
    assert_eq!(c.call(&["RANDOMKEY"]), V::Nil);
    c.call(&["SET", "foo", "x"]);
    c.call(&["SET", "bar", "y"]);
    let mut seen = HashSet::new();
    for _ in 0..100 {
        match c.call(&["RANDOMKEY"]) {
            V::Bulk(k) => {
                seen.insert(k);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen.len(), 2);
    // Expired keys are never returned (and get deleted on the way).
    c.call(&["FLUSHDB"]);
    for i in 0..50 {
        c.call(&["SET", &format!("exp{i}"), "v", "PX", "1"]);
    }
    c.call(&["SET", "live", "v"]);
    std::thread::sleep(Duration::from_millis(5));
    for _ in 0..20 {
        assert_eq!(c.call(&["RANDOMKEY"]), bulk("live"));
    }
}

// ---- RENAME / RENAMENX ----------------------------------------------------------

#[test]
fn rename_and_renamenx() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "mykey", "hello"]);
    assert_eq!(c.call(&["RENAME", "mykey", "mykey1"]), ok());
    assert_eq!(c.call(&["RENAME", "mykey1", "mykey2"]), ok());
    assert_eq!(c.call(&["GET", "mykey2"]), bulk("hello"));
    assert_eq!(c.call(&["EXISTS", "mykey", "mykey1"]), int(0));
    // Over an existing key.
    c.call(&["SET", "mykey", "a"]);
    c.call(&["SET", "mykey2", "b"]);
    assert_eq!(c.call(&["RENAME", "mykey2", "mykey"]), ok());
    assert_eq!(c.call(&["GET", "mykey"]), bulk("b"));
    assert_eq!(c.call(&["EXISTS", "mykey2"]), int(0));
    // RENAMENX
    c.call(&["DEL", "mykey", "mykey2"]);
    c.call(&["SET", "mykey", "foobar"]);
    assert_eq!(c.call(&["RENAMENX", "mykey", "mykey2"]), int(1));
    assert_eq!(c.call(&["GET", "mykey2"]), bulk("foobar"));
    c.call(&["SET", "mykey", "foo"]);
    assert_eq!(c.call(&["RENAMENX", "mykey", "mykey2"]), int(0));
    assert_eq!(c.call(&["GET", "mykey"]), bulk("foo"));
    assert_eq!(c.call(&["GET", "mykey2"]), bulk("foobar"));
    // Missing source; same names.
    let nokey = err("ERR no such key");
    assert_eq!(c.call(&["RENAME", "nokey", "foobar"]), nokey);
    assert_eq!(c.call(&["RENAMENX", "nokey", "foobar"]), nokey);
    assert_eq!(c.call(&["RENAME", "mykey", "mykey"]), ok());
    assert_eq!(c.call(&["RENAMENX", "mykey", "mykey"]), int(0));
    assert_eq!(c.call(&["RENAME", "nokey", "nokey"]), nokey);
    assert_eq!(
        c.call(&["RENAME", "a"]),
        err("ERR wrong number of arguments for 'rename' command")
    );
}

#[test]
fn rename_moves_ttl_and_keeps_encoding() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "mykey", "foo"]);
    c.call(&["EXPIRE", "mykey", "100"]);
    assert_eq!(c.call(&["RENAME", "mykey", "mykey2"]), ok());
    let ttl = as_int(c.call(&["TTL", "mykey2"]));
    assert!(ttl > 95 && ttl <= 100, "{ttl}");
    // The destination's TTL is not inherited.
    c.call(&["SET", "a", "foo"]);
    c.call(&["SET", "b", "bar", "EX", "100"]);
    assert_eq!(c.call(&["RENAME", "a", "b"]), ok());
    assert_eq!(c.call(&["TTL", "b"]), int(-1));
    // Encodings survive, and big values are moved intact.
    c.call(&["SET", "n", "12345"]);
    c.call(&["RENAME", "n", "n2"]);
    assert_eq!(c.call(&["OBJECT", "ENCODING", "n2"]), bulk("int"));
    c.call(&["SET", "r", "x"]);
    c.call(&["APPEND", "r", "y"]);
    c.call(&["RENAME", "r", "r2"]);
    assert_eq!(c.call(&["OBJECT", "ENCODING", "r2"]), bulk("raw"));
    assert_eq!(c.call(&["GET", "r2"]), bulk("xy"));
    let big = "v".repeat(100_000);
    c.call(&["SET", "big", &big, "PX", "100000"]);
    assert_eq!(c.call(&["RENAMENX", "big", "big2"]), int(1));
    assert_eq!(c.call(&["GET", "big2"]), bulk(&big));
    assert!(as_int(c.call(&["PTTL", "big2"])) > 90_000);
    // An expired source is missing.
    c.call(&["SET", "old", "v", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(c.call(&["RENAME", "old", "new"]), err("ERR no such key"));
}

// ---- COPY -------------------------------------------------------------------------

#[test]
fn copy_strings_between_keys_and_dbs() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "mykey", "foobar"]);
    assert_eq!(c.call(&["COPY", "mykey", "mynewkey"]), int(1));
    assert_eq!(c.call(&["GET", "mynewkey"]), bulk("foobar"));
    assert_eq!(c.call(&["DBSIZE"]), int(2));
    assert_eq!(c.call(&["COPY", "mykey", "mynewkey", "DB", "10"]), int(1));
    c.call(&["SELECT", "10"]);
    assert_eq!(c.call(&["GET", "mynewkey"]), bulk("foobar"));
    assert_eq!(c.call(&["DBSIZE"]), int(1));
    c.call(&["SELECT", "0"]);
    // No REPLACE: the destination stays.
    c.call(&["SET", "mykey2", "hello"]);
    assert_eq!(c.call(&["COPY", "mykey2", "mynewkey", "DB", "10"]), int(0));
    assert_eq!(
        c.call(&["COPY", "mykey2", "mynewkey", "db", "10", "replace"]),
        int(1)
    );
    c.call(&["SELECT", "10"]);
    assert_eq!(c.call(&["GET", "mynewkey"]), bulk("hello"));
    // Copies are independent.
    c.call(&["SET", "mynewkey", "hoge"]);
    c.call(&["SELECT", "0"]);
    assert_eq!(c.call(&["GET", "mykey2"]), bulk("hello"));
    c.call(&["APPEND", "mykey2", "!"]);
    c.call(&["COPY", "mykey2", "appended"]);
    c.call(&["APPEND", "mykey2", "?"]);
    assert_eq!(c.call(&["GET", "appended"]), bulk("hello!"));
    assert_eq!(c.call(&["OBJECT", "ENCODING", "appended"]), bulk("raw"));
    c.call(&["SET", "num", "42"]);
    c.call(&["COPY", "num", "num2"]);
    assert_eq!(c.call(&["OBJECT", "ENCODING", "num2"]), bulk("int"));
    // TTLs are copied, absence of TTL too.
    c.call(&["SET", "t", "foobar", "EX", "100"]);
    assert_eq!(c.call(&["COPY", "t", "t2", "REPLACE"]), int(1));
    let ttl = as_int(c.call(&["TTL", "t2"]));
    assert!(ttl > 0 && ttl <= 100);
    c.call(&["SET", "t", "foobar"]);
    assert_eq!(c.call(&["COPY", "t", "t2", "REPLACE"]), int(1));
    assert_eq!(c.call(&["TTL", "t2"]), int(-1));
    assert_eq!(c.call(&["GET", "t2"]), bulk("foobar"));
    // Missing source.
    assert_eq!(c.call(&["COPY", "nokey", "t2", "REPLACE"]), int(0));
    assert_eq!(c.call(&["GET", "t2"]), bulk("foobar"));
}

#[test]
fn copy_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "mykey", "foobar"]);
    assert_eq!(
        c.call(&["COPY", "mykey", "mynewkey", "DB", "notanumber"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["COPY", "mykey", "mynewkey", "DB", "99999999999"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    assert_eq!(
        c.call(&["COPY", "mykey", "mynewkey", "DB", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.call(&["COPY", "mykey", "mynewkey", "DB", "-1"]),
        err("ERR DB index is out of range")
    );
    let same = err("ERR source and destination objects are the same");
    assert_eq!(c.call(&["COPY", "mykey", "mykey"]), same);
    assert_eq!(c.call(&["COPY", "mykey", "mykey", "DB", "0"]), same);
    assert_eq!(c.call(&["COPY", "mykey", "mykey", "DB", "1"]), int(1));
    let syntax = err("ERR syntax error");
    assert_eq!(c.call(&["COPY", "mykey", "x", "FOO"]), syntax);
    assert_eq!(c.call(&["COPY", "mykey", "x", "DB"]), syntax);
    assert_eq!(c.call(&["COPY", "mykey", "x", "REPLACE", "DB"]), syntax);
    assert_eq!(
        c.call(&["COPY", "mykey"]),
        err("ERR wrong number of arguments for 'copy' command")
    );
}

// ---- MOVE, SWAPDB ---------------------------------------------------------------

#[test]
fn move_between_databases() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "mykey", "foobar"]);
    assert_eq!(c.call(&["MOVE", "mykey", "10"]), int(1));
    assert_eq!(c.call(&["EXISTS", "mykey"]), int(0));
    assert_eq!(c.call(&["DBSIZE"]), int(0));
    c.call(&["SELECT", "10"]);
    assert_eq!(c.call(&["GET", "mykey"]), bulk("foobar"));
    c.call(&["SELECT", "0"]);
    c.call(&["SET", "mykey", "hello"]);
    assert_eq!(c.call(&["MOVE", "mykey", "10"]), int(0));
    assert_eq!(c.call(&["MOVE", "nokey", "10"]), int(0));
    assert_eq!(
        c.call(&["MOVE", "mykey", "notanumber"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["MOVE", "mykey", "4294967296"]),
        err("ERR value is out of range, value must between -2147483648 and 2147483647")
    );
    assert_eq!(
        c.call(&["MOVE", "mykey", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.call(&["MOVE", "mykey", "0"]),
        err("ERR source and destination objects are the same")
    );
    // TTL moves; no TTL is created.
    c.call(&["SELECT", "10"]);
    c.call(&["FLUSHDB"]);
    c.call(&["SELECT", "0"]);
    c.call(&["SET", "mykey", "foo", "EX", "100"]);
    assert_eq!(c.call(&["MOVE", "mykey", "10"]), int(1));
    assert_eq!(c.call(&["TTL", "mykey"]), int(-2));
    c.call(&["SELECT", "10"]);
    let ttl = as_int(c.call(&["TTL", "mykey"]));
    assert!(ttl > 0 && ttl <= 100);
    assert_eq!(c.call(&["GET", "mykey"]), bulk("foo"));
    c.call(&["FLUSHDB"]);
    c.call(&["SELECT", "0"]);
    c.call(&["SET", "mykey", "foo"]);
    assert_eq!(c.call(&["MOVE", "mykey", "10"]), int(1));
    c.call(&["SELECT", "10"]);
    assert_eq!(c.call(&["TTL", "mykey"]), int(-1));
}

#[test]
fn swapdb_swaps_contents_and_checks_indexes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "swapkey", "v1"]);
    c.call(&["SELECT", "1"]);
    assert_eq!(c.call(&["DBSIZE"]), int(0));
    assert_eq!(c.call(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(c.call(&["DBSIZE"]), int(1));
    assert_eq!(c.call(&["GET", "swapkey"]), bulk("v1"));
    c.call(&["SELECT", "0"]);
    assert_eq!(c.call(&["DBSIZE"]), int(0));
    // Another client sees the swap too (clients keep their db number).
    let mut other = Client::new(&s);
    other.call(&["SELECT", "1"]);
    assert_eq!(other.call(&["GET", "swapkey"]), bulk("v1"));
    assert_eq!(c.call(&["SWAPDB", "1", "2"]), ok());
    assert_eq!(other.call(&["GET", "swapkey"]), V::Nil);
    assert_eq!(
        c.call(&["SWAPDB", "44", "55"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.call(&["SWAPDB", "0", "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.call(&["SWAPDB", "44", "a"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(
        c.call(&["SWAPDB", "a", "55"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        c.call(&["SWAPDB", "a", "b"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        c.call(&["SWAPDB", "99999999999", "0"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(c.call(&["SWAPDB", "0", "0"]), ok());
    // TTLs travel with the database.
    c.call(&["SET", "t", "v", "EX", "100"]);
    c.call(&["SWAPDB", "0", "3"]);
    c.call(&["SELECT", "3"]);
    assert!(as_int(c.call(&["TTL", "t"])) > 90);
}

// ---- TOUCH, OBJECT -----------------------------------------------------------------

#[test]
fn touch_and_idletime() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut nt = Client::new(&s);
    assert_eq!(nt.call(&["CLIENT", "NO-TOUCH", "ON"]), ok());
    for k in ["a", "b", "c", "d", "e", "f"] {
        c.call(&["SET", k, "1"]);
    }
    assert_eq!(c.call(&["TOUCH", "a", "b", "nokey", "a"]), int(3));
    assert!(as_int(c.call(&["OBJECT", "IDLETIME", "a"])) <= 1);
    std::thread::sleep(Duration::from_millis(2100));
    // Idle times are whole seconds of a clock read once per event loop
    // round: a key just touched reads 0 (1 across a second boundary), a
    // key left alone since the sleep at least 2.
    // Introspection does not touch.
    c.call(&["TYPE", "a"]);
    c.call(&["EXISTS", "a"]);
    c.call(&["TTL", "a"]);
    c.call(&["OBJECT", "ENCODING", "a"]);
    let idle = as_int(c.call(&["OBJECT", "IDLETIME", "a"]));
    assert!((2..=3).contains(&idle), "{idle}");
    assert_eq!(c.call(&["TOUCH", "a"]), int(1));
    assert!(as_int(c.call(&["OBJECT", "IDLETIME", "a"])) <= 1);
    // A read touches, a write lookup too.
    c.call(&["GET", "b"]);
    assert!(as_int(c.call(&["OBJECT", "IDLETIME", "b"])) <= 1);
    c.call(&["EXPIRE", "c", "100"]);
    assert!(as_int(c.call(&["OBJECT", "IDLETIME", "c"])) <= 1);
    assert_eq!(c.call(&["OBJECT", "IDLETIME", "nokey"]), V::Nil);
    // A CLIENT NO-TOUCH client leaves access times alone, except with TOUCH.
    nt.call(&["GET", "d"]);
    nt.call(&["EXPIRE", "d", "100"]);
    nt.call(&["PERSIST", "d"]);
    nt.call(&["COPY", "d", "d2"]);
    nt.call(&["RENAME", "e", "e2"]);
    nt.call(&["MOVE", "f", "1"]);
    let idle = as_int(c.call(&["OBJECT", "IDLETIME", "d"]));
    assert!(idle >= 2, "{idle}");
    assert!(as_int(c.call(&["OBJECT", "IDLETIME", "e2"])) >= 2);
    c.call(&["SELECT", "1"]);
    assert!(as_int(c.call(&["OBJECT", "IDLETIME", "f"])) >= 2);
    c.call(&["SELECT", "0"]);
    assert_eq!(nt.call(&["TOUCH", "d"]), int(1));
    assert!(as_int(c.call(&["OBJECT", "IDLETIME", "d"])) <= 1);
}

#[test]
fn object_encoding_refcount_freq_help() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "i", "12345"]);
    c.call(&["SET", "e", "hello"]);
    c.call(&["SET", "r", &"x".repeat(45)]);
    assert_eq!(c.call(&["OBJECT", "ENCODING", "i"]), bulk("int"));
    assert_eq!(c.call(&["object", "encoding", "e"]), bulk("embstr"));
    assert_eq!(c.call(&["OBJECT", "ENCODING", "r"]), bulk("raw"));
    assert_eq!(c.call(&["OBJECT", "ENCODING", "nokey"]), V::Nil);
    let mut c3 = Client::new(&s);
    c3.hello3();
    assert_eq!(c3.call(&["OBJECT", "ENCODING", "nokey"]), V::Null);
    assert_eq!(c3.call(&["OBJECT", "REFCOUNT", "nokey"]), V::Null);
    // Small integers are shared objects in Valkey.
    c.call(&["SET", "one", "1"]);
    c.call(&["SET", "big", "10000"]);
    c.call(&["SET", "neg", "-1"]);
    assert_eq!(c.call(&["OBJECT", "REFCOUNT", "one"]), int(2147483647));
    assert_eq!(c.call(&["OBJECT", "REFCOUNT", "big"]), int(1));
    assert_eq!(c.call(&["OBJECT", "REFCOUNT", "neg"]), int(1));
    assert_eq!(c.call(&["OBJECT", "REFCOUNT", "e"]), int(1));
    // ...except under an LRU/LFU maxmemory policy.
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", "1073741824"]), ok());
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]),
        ok()
    );
    assert_eq!(c.call(&["OBJECT", "REFCOUNT", "one"]), int(2147483647));
    c.call(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]);
    assert_eq!(c.call(&["OBJECT", "REFCOUNT", "one"]), int(1));
    // FREQ needs an LFU policy, IDLETIME needs it not.
    assert_eq!(
        c.call(&["OBJECT", "FREQ", "e"]),
        err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    assert_eq!(c.call(&["OBJECT", "FREQ", "nokey"]), V::Nil);
    c.call(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    assert!(matches!(c.call(&["OBJECT", "FREQ", "e"]), V::Int(0..=255)));
    assert_eq!(
        c.call(&["OBJECT", "IDLETIME", "e"]),
        err("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
    );
    c.call(&["CONFIG", "SET", "maxmemory", "0"]);
    c.call(&["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    // Subcommand dispatch.
    assert_eq!(
        c.call(&["OBJECT", "foo", "e"]),
        err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
    );
    assert_eq!(
        c.call(&["OBJECT", "ENCODING"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", "a", "b"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert_eq!(
        c.call(&["OBJECT"]),
        err("ERR wrong number of arguments for 'object' command")
    );
    let V::Arr(help) = c.call(&["OBJECT", "HELP"]) else {
        panic!("help")
    };
    assert_eq!(help.len(), 15);
    assert_eq!(
        help[0],
        V::Simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
    assert_eq!(help[1], V::Simple("ENCODING <key>".into()));
    assert_eq!(help[13], V::Simple("HELP".into()));
    assert_eq!(help[14], V::Simple("    Print this help.".into()));
}

// ---- WAIT, FLUSH*, stats ----------------------------------------------------------

#[test]
fn wait_without_replicas() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "a", "1"]);
    assert_eq!(c.call(&["WAIT", "0", "0"]), int(0));
    assert_eq!(c.call(&["WAIT", "1", "100"]), int(0));
    assert_eq!(c.call(&["WAIT", "-5", "10"]), int(0));
    assert_eq!(
        c.call(&["WAIT", "abc", "0"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["WAIT", "0", "abc"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["WAIT", "0", "1.5"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(c.call(&["WAIT", "0", "-1"]), err("ERR timeout is negative"));
    assert_eq!(
        c.call(&["WAIT", "0", "9223372036854775807"]),
        err("ERR timeout is out of range")
    );
    assert_eq!(
        c.call(&["WAIT", "0"]),
        err("ERR wrong number of arguments for 'wait' command")
    );
}

#[test]
fn flushdb_and_flushall() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for db in ["0", "1", "2"] {
        c.call(&["SELECT", db]);
        populate(&mut c, 10);
    }
    assert_eq!(c.call(&["FLUSHDB", "ASYNC"]), ok());
    assert_eq!(c.call(&["DBSIZE"]), int(0));
    c.call(&["SELECT", "1"]);
    assert_eq!(c.call(&["DBSIZE"]), int(10));
    assert_eq!(c.call(&["FLUSHDB", "sync"]), ok());
    assert_eq!(c.call(&["DBSIZE"]), int(0));
    c.call(&["SELECT", "0"]);
    assert_eq!(c.call(&["DBSIZE"]), int(10));
    assert_eq!(c.call(&["FLUSHDB", "foo"]), err("ERR syntax error"));
    assert_eq!(
        c.call(&["FLUSHALL", "SYNC", "ASYNC"]),
        err("ERR syntax error")
    );
    assert_eq!(c.call(&["FLUSHALL"]), ok());
    assert_eq!(c.call(&["DBSIZE"]), int(0));
    assert_eq!(c.call(&["FLUSHALL", "ASYNC"]), ok());
}

#[test]
fn read_lookups_count_hits_and_misses() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "a", "1"]);
    let (h0, m0) = (
        c.info_int("stats", "keyspace_hits"),
        c.info_int("stats", "keyspace_misses"),
    );
    c.call(&["EXISTS", "a", "nokey"]);
    c.call(&["TYPE", "a"]);
    c.call(&["TTL", "nokey"]);
    c.call(&["TOUCH", "a"]);
    c.call(&["OBJECT", "ENCODING", "a"]);
    // Write lookups are not counted.
    c.call(&["EXPIRE", "a", "100"]);
    c.call(&["RENAME", "a", "b"]);
    assert_eq!(c.info_int("stats", "keyspace_hits") - h0, 4);
    assert_eq!(c.info_int("stats", "keyspace_misses") - m0, 2);
}

#[test]
fn command_table_key_positions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (args, keys) in [
        (
            &["COMMAND", "GETKEYS", "RENAME", "a", "b"][..],
            &["a", "b"][..],
        ),
        (
            &["COMMAND", "GETKEYS", "COPY", "a", "b", "DB", "1"],
            &["a", "b"],
        ),
        (&["COMMAND", "GETKEYS", "MOVE", "a", "1"], &["a"]),
        (
            &["COMMAND", "GETKEYS", "TOUCH", "a", "b", "c"],
            &["a", "b", "c"],
        ),
        (&["COMMAND", "GETKEYS", "OBJECT", "ENCODING", "k"], &["k"]),
    ] {
        assert_eq!(strs(&c.call(args)), keys, "{args:?}");
    }
}

/// During CLIENT PAUSE an expired key reads as absent but stays until the
/// pause ends (no expiry reaches the dataset, the AOF or replicas).
#[test]
fn expiry_is_deferred_while_clients_are_paused() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let expired = |c: &mut Client| info_field(&c.info(&["stats"]), "expired_keys");
    assert_eq!(c.call(&["SET", "k", "v", "PX", "20"]), ok());
    assert_eq!(c.call(&["CLIENT", "PAUSE", "5000", "WRITE"]), ok());
    std::thread::sleep(Duration::from_millis(60));
    assert_eq!(c.call(&["GET", "k"]), V::Nil);
    assert_eq!(c.call(&["EXISTS", "k"]), int(0));
    assert_eq!(expired(&mut c).as_deref(), Some("0"));
    assert_eq!(c.call(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(c.call(&["GET", "k"]), V::Nil);
    assert_eq!(expired(&mut c).as_deref(), Some("1"));
}
