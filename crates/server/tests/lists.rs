//! The list commands end to end, through the real server: exact reply bytes
//! in RESP2 and RESP3, every error string, the encodings (OBJECT ENCODING)
//! and their conversions both ways, compression, blocking variants, and the
//! keyspace effects (empty keys deleted, dirty counter, WATCH, events).
//! Expected values come from Valkey's tests/unit/type/list*.tcl and t_list.c.

mod common;
use common::{bulk, info_num, int, ok, Client, TestServer, V};

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

fn arr(items: &[&str]) -> V {
    V::Arr(items.iter().map(|s| bulk(s)).collect())
}

/// LRANGE key 0 -1 as strings.
#[track_caller]
fn range(c: &mut Client, key: &str) -> Vec<String> {
    match c.call(&["LRANGE", key, "0", "-1"]) {
        V::Arr(a) => a.iter().map(V::text).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

#[track_caller]
fn enc(c: &mut Client, key: &str, expected: &str) {
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", key]),
        bulk(expected),
        "encoding of {key}"
    );
}

fn cfg(c: &mut Client, name: &str, value: &str) {
    assert_eq!(c.call(&["CONFIG", "SET", name, value]), ok());
}

/// Deletes `key` and RPUSHes `items` one by one.
fn create(c: &mut Client, key: &str, items: &[&str]) {
    c.call(&["DEL", key]);
    for it in items {
        c.call(&["RPUSH", key, it]);
    }
}

fn dirty(c: &mut Client) -> i64 {
    let info = c.info(&["persistence"]);
    info_num(&info, "rdb_changes_since_last_save").expect("dirty counter")
}

#[test]
fn push_llen_lrange_and_wrongtype() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "LPUSH l a b c d", ":4\r\n");
    t(&mut c, "RPUSH l 0 1 2 3", ":8\r\n");
    assert_eq!(range(&mut c, "l"), words("d c b a 0 1 2 3"));
    t(&mut c, "LLEN l", ":8\r\n");
    t(&mut c, "LLEN nokey", ":0\r\n");
    t(&mut c, "LPUSHX nokey a", ":0\r\n");
    t(&mut c, "RPUSHX nokey a b", ":0\r\n");
    t(&mut c, "EXISTS nokey", ":0\r\n");
    t(&mut c, "LPUSHX l x y", ":10\r\n");
    t(&mut c, "RPUSHX l z", ":11\r\n");
    assert_eq!(range(&mut c, "l"), words("y x d c b a 0 1 2 3 z"));
    t(&mut c, "TYPE l", "+list\r\n");
    enc(&mut c, "l", "listpack");

    c.call(&["SET", "str", "v"]);
    let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    for cmd in [
        "LPUSH str a",
        "RPUSH str a",
        "LPUSHX str a",
        "RPUSHX str a",
        "LPOP str",
        "RPOP str 2",
        "LLEN str",
        "LRANGE str 0 -1",
        "LINDEX str 0",
        "LINDEX str notanumber",
        "LSET str 0 x",
        "LINSERT str BEFORE a b",
        "LREM str 0 a",
        "LTRIM str 0 1",
        "LPOS str a",
        "RPOPLPUSH str l",
        "RPOPLPUSH l str",
        "LMOVE str l LEFT RIGHT",
        "LMPOP 2 nokey str LEFT",
        "BLPOP str 1",
        "BRPOP nokey str 1",
        "BLMOVE str l LEFT LEFT 1",
        "BLMPOP 1 1 str RIGHT",
    ] {
        t(&mut c, cmd, wt);
    }
    // The WRONGTYPE destination left the source alone.
    t(&mut c, "LLEN l", ":11\r\n");
    t(&mut c, "GET str", "$1\r\nv\r\n");

    // Arity.
    t(
        &mut c,
        "LPUSH l",
        "-ERR wrong number of arguments for 'lpush' command\r\n",
    );
    t(
        &mut c,
        "LPOP l 1 1",
        "-ERR wrong number of arguments for 'lpop' command\r\n",
    );
    t(
        &mut c,
        "RPOP l 2 2",
        "-ERR wrong number of arguments for 'rpop' command\r\n",
    );
    t(
        &mut c,
        "LLEN",
        "-ERR wrong number of arguments for 'llen' command\r\n",
    );

    // Binary-safe elements, integers and their canonical forms.
    let big = "9223372036854775807";
    c.call(&["DEL", "n"]);
    c.call(&[
        "RPUSH",
        "n",
        "12",
        "012",
        "-0",
        big,
        "-9223372036854775808",
        "1.5",
        "",
    ]);
    assert_eq!(
        range(&mut c, "n"),
        vec!["12", "012", "-0", big, "-9223372036854775808", "1.5", ""]
    );
    let bin: &[u8] = b"a\x00\r\nb";
    c.call_raw(&[b"RPUSH", b"bin", bin]);
    assert_eq!(
        c.call_raw(&[b"LINDEX", b"bin", b"0"]),
        b"$5\r\na\x00\r\nb\r\n"
    );
}

#[test]
fn pop_with_and_without_count_in_resp2_and_resp3() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "LPUSH lc aa hello cc dd ee ff gg", ":7\r\n");
    t(&mut c, "LPOP lc 1", "*1\r\n$2\r\ngg\r\n");
    t(&mut c, "LPOP lc 2", "*2\r\n$2\r\nff\r\n$2\r\nee\r\n");
    t(&mut c, "RPOP lc 2", "*2\r\n$2\r\naa\r\n$5\r\nhello\r\n");
    t(&mut c, "RPOP lc 1", "*1\r\n$2\r\ncc\r\n");
    t(&mut c, "LPOP lc 0", "*0\r\n");
    t(&mut c, "RPOP lc 123", "*1\r\n$2\r\ndd\r\n");
    t(&mut c, "EXISTS lc", ":0\r\n");
    t(&mut c, "RPUSH lc 1 2 3", ":3\r\n");
    t(&mut c, "LPOP lc", "$1\r\n1\r\n");
    t(&mut c, "RPOP lc", "$1\r\n3\r\n");
    t(&mut c, "RPOP lc", "$1\r\n2\r\n");
    t(&mut c, "EXISTS lc", ":0\r\n");
    let range_err = "-ERR value is out of range, must be positive\r\n";
    t(&mut c, "LPOP forbarqaz -123", range_err);
    t(&mut c, "LPOP lc notanumber", range_err);
    t(&mut c, "RPOP lc -1", range_err);

    for resp3 in [false, true] {
        if resp3 {
            c.hello3();
        }
        let (nil, nil_arr) = if resp3 {
            ("_\r\n", "_\r\n")
        } else {
            ("$-1\r\n", "*-1\r\n")
        };
        t(&mut c, "LPUSH zero zero", ":1\r\n");
        t(&mut c, "LPOP zero 0", "*0\r\n");
        t(&mut c, "RPOP zero 0", "*0\r\n");
        c.call(&["DEL", "zero"]);
        t(&mut c, "LPOP nonex", nil);
        t(&mut c, "RPOP nonex", nil);
        t(&mut c, "LPOP nonex 0", nil_arr);
        t(&mut c, "LPOP nonex 1", nil_arr);
        t(&mut c, "RPOP nonex 0", nil_arr);
        t(&mut c, "RPOP nonex 1", nil_arr);
        t(&mut c, "LINDEX nonex 0", nil);
        t(&mut c, "LPOS nonex a", nil);
        t(&mut c, "LPOS nonex a COUNT 0", "*0\r\n");
        t(&mut c, "LRANGE nonex 0 -1", "*0\r\n");
        t(&mut c, "RPOPLPUSH nonex dst", nil);
        t(&mut c, "LMPOP 1 nonex LEFT", nil_arr);
        t(&mut c, "BLPOP nonex 0.01", nil_arr);
        t(&mut c, "BLMOVE nonex dst LEFT LEFT 0.01", nil);
        t(&mut c, "BLMPOP 0.01 1 nonex LEFT", nil_arr);
        t(&mut c, "EXISTS dst", ":0\r\n");
    }
}

#[test]
fn lrange_and_lindex() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&[
        "RPUSH", "l", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    ]);
    t(&mut c, "LRANGE l 1 -2", "*8\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n");
    t(
        &mut c,
        "LRANGE l -3 -1",
        "*3\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n",
    );
    t(&mut c, "LRANGE l 4 4", "*1\r\n$1\r\n4\r\n");
    t(&mut c, "LRANGE l -100 1", "*2\r\n$1\r\n0\r\n$1\r\n1\r\n");
    t(&mut c, "LRANGE l 8 100", "*2\r\n$1\r\n8\r\n$1\r\n9\r\n");
    t(&mut c, "LRANGE l 5 4", "*0\r\n");
    t(&mut c, "LRANGE l 10 20", "*0\r\n");
    t(&mut c, "LRANGE l -1 -2", "*0\r\n");
    t(&mut c, "LRANGE l 0 -11", "*0\r\n");
    t(
        &mut c,
        "LRANGE l -9223372036854775808 9223372036854775807",
        &c_range(0..10),
    );
    let not_int = "-ERR value is not an integer or out of range\r\n";
    t(&mut c, "LRANGE l a 1", not_int);
    t(&mut c, "LRANGE l 1 b", not_int);
    t(&mut c, "LRANGE nokey a 1", not_int);
    t(&mut c, "LINDEX l 0", "$1\r\n0\r\n");
    t(&mut c, "LINDEX l -1", "$1\r\n9\r\n");
    t(&mut c, "LINDEX l -10", "$1\r\n0\r\n");
    t(&mut c, "LINDEX l 10", "$-1\r\n");
    t(&mut c, "LINDEX l -11", "$-1\r\n");
    t(&mut c, "LINDEX l -9223372036854775808", "$-1\r\n");
    t(&mut c, "LINDEX l x", not_int);
    // A missing key answers nil before the index is looked at.
    t(&mut c, "LINDEX nokey x", "$-1\r\n");
}

fn c_range(r: std::ops::Range<i64>) -> String {
    let mut s = format!("*{}\r\n", r.end - r.start);
    for i in r {
        let v = i.to_string();
        s.push_str(&format!("${}\r\n{}\r\n", v.len(), v));
    }
    s
}

#[test]
fn lset_linsert_lrem_ltrim() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // LSET
    t(&mut c, "LSET nokey 0 x", "-ERR no such key\r\n");
    c.call(&["RPUSH", "l", "99", "98", "97", "96", "95"]);
    t(&mut c, "LSET l 1 foo", "+OK\r\n");
    t(&mut c, "LSET l -1 bar", "+OK\r\n");
    assert_eq!(range(&mut c, "l"), words("99 foo 97 96 bar"));
    t(&mut c, "LSET l 10 foo", "-ERR index out of range\r\n");
    t(&mut c, "LSET l -6 foo", "-ERR index out of range\r\n");
    t(
        &mut c,
        "LSET l x foo",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(&mut c, "LSET nokey x foo", "-ERR no such key\r\n");

    // LINSERT
    t(&mut c, "LINSERT l middle 97 x", "-ERR syntax error\r\n");
    t(&mut c, "LINSERT nokey before a b", ":0\r\n");
    t(&mut c, "LINSERT nokey bad a b", "-ERR syntax error\r\n");
    t(&mut c, "LINSERT l before nothere x", ":-1\r\n");
    t(&mut c, "LINSERT l BEFORE 97 x", ":6\r\n");
    t(&mut c, "LINSERT l after 97 y", ":7\r\n");
    t(&mut c, "LINSERT l AFTER bar z", ":8\r\n");
    t(&mut c, "LINSERT l before 99 a", ":9\r\n");
    assert_eq!(range(&mut c, "l"), words("a 99 foo x 97 y 96 bar z"));
    c.call(&["DEL", "d"]);
    c.call(&["RPUSH", "d", "a", "b", "c"]);
    t(&mut c, "LINSERT d after c zz", ":4\r\n");
    assert_eq!(range(&mut c, "d"), words("a b c zz"));

    // LREM
    c.call(&["DEL", "r"]);
    c.call(&[
        "RPUSH", "r", "foo", "bar", "foobar", "foobared", "zap", "bar", "test", "foo",
    ]);
    t(&mut c, "LREM r 0 bar", ":2\r\n");
    assert_eq!(
        range(&mut c, "r"),
        words("foo foobar foobared zap test foo")
    );
    t(&mut c, "LREM r -1 foo", ":1\r\n");
    assert_eq!(range(&mut c, "r"), words("foo foobar foobared zap test"));
    t(&mut c, "LREM r 1 nothere", ":0\r\n");
    c.call(&["RPUSH", "r", "foo", "foo"]);
    t(&mut c, "LREM r 2 foo", ":2\r\n");
    assert_eq!(range(&mut c, "r"), words("foobar foobared zap test foo"));
    t(
        &mut c,
        "LREM r x foo",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "LREM r -9223372036854775808 foo",
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
    );
    t(&mut c, "LREM nokey 0 a", ":0\r\n");
    c.call(&["DEL", "r"]);
    c.call(&["RPUSH", "r", "1", "1", "1"]);
    t(&mut c, "LREM r 0 1", ":3\r\n");
    t(&mut c, "EXISTS r", ":0\r\n");

    // LTRIM (Valkey's trim_list cases).
    let cases: &[(&str, &str, &str)] = &[
        ("0", "0", "1"),
        ("0", "1", "1 2"),
        ("0", "-2", "1 2 3 4"),
        ("1", "1", "2"),
        ("1", "-1", "2 3 4 5"),
        ("-2", "-1", "4 5"),
        ("-5", "-1", "1 2 3 4 5"),
        ("-10", "10", "1 2 3 4 5"),
        ("0", "5", "1 2 3 4 5"),
        ("0", "10", "1 2 3 4 5"),
    ];
    for (a, b, want) in cases {
        create(&mut c, "t", &["1", "2", "3", "4", "5"]);
        t(&mut c, &format!("LTRIM t {a} {b}"), "+OK\r\n");
        assert_eq!(range(&mut c, "t"), words(want), "LTRIM {a} {b}");
    }
    create(&mut c, "t", &["1", "2", "3"]);
    t(&mut c, "LTRIM t 5 10", "+OK\r\n");
    t(&mut c, "EXISTS t", ":0\r\n");
    create(&mut c, "t", &["1", "2", "3"]);
    t(&mut c, "LTRIM t 2 1", "+OK\r\n");
    t(&mut c, "EXISTS t", ":0\r\n");
    t(&mut c, "LTRIM nokey 0 1", "+OK\r\n");
    t(
        &mut c,
        "LTRIM nokey a 1",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "LTRIM t 0 b",
        "-ERR value is not an integer or out of range\r\n",
    );
}

#[test]
fn lpos_options_and_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for large in ["hello", &"x".repeat(8192)] {
        c.call(&["DEL", "mylist"]);
        c.call(&["RPUSH", "mylist", "a", "b", "c", large, "2", "3", "c", "c"]);
        t(&mut c, "LPOS mylist a", ":0\r\n");
        t(&mut c, "LPOS mylist c", ":2\r\n");
        t(&mut c, "LPOS mylist c RANK 1", ":2\r\n");
        t(&mut c, "LPOS mylist c RANK 2", ":6\r\n");
        t(&mut c, "LPOS mylist c RANK 4", "$-1\r\n");
        t(&mut c, "LPOS mylist c RANK -1", ":7\r\n");
        t(&mut c, "LPOS mylist c RANK -2", ":6\r\n");
        t(&mut c, "LPOS mylist 2", ":4\r\n");
        t(&mut c, "LPOS mylist c COUNT 0", "*3\r\n:2\r\n:6\r\n:7\r\n");
        t(&mut c, "LPOS mylist c COUNT 1", "*1\r\n:2\r\n");
        t(&mut c, "LPOS mylist c COUNT 2", "*2\r\n:2\r\n:6\r\n");
        t(
            &mut c,
            "LPOS mylist c COUNT 100",
            "*3\r\n:2\r\n:6\r\n:7\r\n",
        );
        t(&mut c, "LPOS mylist c COUNT 0 RANK 2", "*2\r\n:6\r\n:7\r\n");
        t(
            &mut c,
            "LPOS mylist c COUNT 2 RANK -1",
            "*2\r\n:7\r\n:6\r\n",
        );
        t(&mut c, "LPOS mylistxxx c COUNT 0 RANK 2", "*0\r\n");
        t(&mut c, "LPOS mylist x COUNT 2 RANK -1", "*0\r\n");
        t(&mut c, "LPOS mylist x RANK -1", "$-1\r\n");
        t(&mut c, "LPOS mylist a COUNT 0 MAXLEN 1", "*1\r\n:0\r\n");
        t(&mut c, "LPOS mylist c COUNT 0 MAXLEN 1", "*0\r\n");
        t(&mut c, "LPOS mylist c COUNT 0 MAXLEN 3", "*1\r\n:2\r\n");
        t(
            &mut c,
            "LPOS mylist c COUNT 0 MAXLEN 3 RANK -1",
            "*2\r\n:7\r\n:6\r\n",
        );
        t(
            &mut c,
            "LPOS mylist c COUNT 0 MAXLEN 7 RANK 2",
            "*1\r\n:6\r\n",
        );
        t(&mut c, "LPOS mylist c MAXLEN 2", "$-1\r\n");
    }
    c.call(&["DEL", "mylist"]);
    c.call(&["LPUSH", "mylist", "a"]);
    t(&mut c, "LPOS mylist b COUNT 10 RANK 5", "*0\r\n");
    t(&mut c, "LPOS mylist a COUNT 10 RANK 5", "*0\r\n");
    t(
        &mut c,
        "LPOS mylist c RANK 0",
        "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
    );
    t(
        &mut c,
        "LPOS mylist c RANK -9223372036854775808",
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
    );
    t(
        &mut c,
        "LPOS mylist c RANK x",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "LPOS mylist c COUNT -1",
        "-ERR COUNT can't be negative\r\n",
    );
    t(
        &mut c,
        "LPOS mylist c COUNT x",
        "-ERR COUNT can't be negative\r\n",
    );
    t(
        &mut c,
        "LPOS mylist c MAXLEN -1",
        "-ERR MAXLEN can't be negative\r\n",
    );
    t(
        &mut c,
        "LPOS mylist c MAXLEN x",
        "-ERR MAXLEN can't be negative\r\n",
    );
    t(&mut c, "LPOS mylist c RANK", "-ERR syntax error\r\n");
    t(&mut c, "LPOS mylist c FOO 1", "-ERR syntax error\r\n");
    // Options are checked before the key.
    t(
        &mut c,
        "LPOS nokey c COUNT -1",
        "-ERR COUNT can't be negative\r\n",
    );
    c.hello3();
    t(&mut c, "LPOS mylist x", "_\r\n");
}

#[test]
fn lmove_and_rpoplpush() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for large in ["hello", &"x".repeat(8192)] {
        create(&mut c, "l1", &["a", large, "c", "d"]);
        c.call(&["DEL", "l2"]);
        assert_eq!(c.call(&["RPOPLPUSH", "l1", "l2"]), bulk("d"));
        assert_eq!(c.call(&["RPOPLPUSH", "l1", "l2"]), bulk("c"));
        assert_eq!(c.call(&["RPOPLPUSH", "l1", "l2"]), bulk(large));
        assert_eq!(range(&mut c, "l1"), vec!["a"]);
        assert_eq!(range(&mut c, "l2"), vec![large, "c", "d"]);
        enc(&mut c, "l1", "listpack");

        for (from, to) in [
            ("left", "left"),
            ("left", "right"),
            ("right", "left"),
            ("right", "right"),
        ] {
            if from == "right" {
                create(&mut c, "s", &["c", "d", large, "a"]);
            } else {
                create(&mut c, "s", &["a", large, "c", "d"]);
            }
            c.call(&["DEL", "d"]);
            assert_eq!(c.call(&["LMOVE", "s", "d", from, to]), bulk("a"));
            assert_eq!(c.call(&["LMOVE", "s", "d", from, to]), bulk(large));
            assert_eq!(range(&mut c, "s"), words("c d"));
            if to == "right" {
                assert_eq!(range(&mut c, "d"), vec!["a", large]);
            } else {
                assert_eq!(range(&mut c, "d"), vec![large, "a"]);
            }
            if large.len() > 10 {
                enc(&mut c, "d", "quicklist");
            } else {
                enc(&mut c, "d", "listpack");
            }

            // Same list as source and destination.
            if from == "right" {
                create(&mut c, "m", &["a", large, "c"]);
            } else {
                create(&mut c, "m", &["c", "a", large]);
            }
            assert_eq!(c.call(&["LMOVE", "m", "m", from, to]), bulk("c"));
            if to == "right" {
                assert_eq!(range(&mut c, "m"), vec!["a", large, "c"]);
            } else {
                assert_eq!(range(&mut c, "m"), vec!["c", "a", large]);
            }
        }
    }
    // A one-element list moved onto itself stays.
    create(&mut c, "one", &["x"]);
    t(&mut c, "RPOPLPUSH one one", "$1\r\nx\r\n");
    assert_eq!(range(&mut c, "one"), vec!["x"]);
    // Last element moved away: the source is deleted.
    t(&mut c, "LMOVE one other RIGHT LEFT", "$1\r\nx\r\n");
    t(&mut c, "EXISTS one", ":0\r\n");
    t(&mut c, "LMOVE other one up down", "-ERR syntax error\r\n");
    t(&mut c, "LMOVE other one LEFT down", "-ERR syntax error\r\n");
    t(&mut c, "RPOPLPUSH nosrc nodst", "$-1\r\n");
    t(&mut c, "EXISTS nosrc nodst", ":0\r\n");
    // Integers keep their value through the move.
    create(&mut c, "ints", &["-17", "123456789012"]);
    t(&mut c, "LMOVE ints ints LEFT RIGHT", "$3\r\n-17\r\n");
    assert_eq!(range(&mut c, "ints"), words("123456789012 -17"));
}

#[test]
fn lmpop_arguments_and_replies() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(
        &mut c,
        "LMPOP 0 a LEFT",
        "-ERR numkeys should be greater than 0\r\n",
    );
    t(
        &mut c,
        "LMPOP -1 a LEFT",
        "-ERR numkeys should be greater than 0\r\n",
    );
    t(
        &mut c,
        "LMPOP x a LEFT",
        "-ERR numkeys should be greater than 0\r\n",
    );
    t(
        &mut c,
        "LMPOP 1 a",
        "-ERR wrong number of arguments for 'lmpop' command\r\n",
    );
    t(&mut c, "LMPOP 2 a LEFT", "-ERR syntax error\r\n");
    t(
        &mut c,
        "LMPOP 9223372036854775807 a LEFT",
        "-ERR syntax error\r\n",
    );
    t(&mut c, "LMPOP 1 a MIDDLE", "-ERR syntax error\r\n");
    t(
        &mut c,
        "LMPOP 1 a LEFT COUNT 0",
        "-ERR count should be greater than 0\r\n",
    );
    t(
        &mut c,
        "LMPOP 1 a LEFT COUNT x",
        "-ERR count should be greater than 0\r\n",
    );
    t(&mut c, "LMPOP 1 a LEFT COUNT", "-ERR syntax error\r\n");
    t(
        &mut c,
        "LMPOP 1 a LEFT COUNT 1 COUNT 2",
        "-ERR syntax error\r\n",
    );
    t(&mut c, "LMPOP 1 a LEFT FOO", "-ERR syntax error\r\n");
    t(&mut c, "LMPOP 2 a b LEFT", "*-1\r\n");

    c.call(&["RPUSH", "b", "1", "2", "3", "4", "5"]);
    t(
        &mut c,
        "LMPOP 2 a b LEFT",
        "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n1\r\n",
    );
    t(
        &mut c,
        "LMPOP 2 a b RIGHT COUNT 2",
        "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n5\r\n$1\r\n4\r\n",
    );
    t(
        &mut c,
        "LMPOP 2 b a left count 10",
        "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n2\r\n$1\r\n3\r\n",
    );
    t(&mut c, "EXISTS b", ":0\r\n");
    c.hello3();
    t(&mut c, "LMPOP 2 a b LEFT", "_\r\n");
    c.call(&["RPUSH", "a", "x"]);
    t(
        &mut c,
        "LMPOP 2 b a RIGHT",
        "*2\r\n$1\r\na\r\n*1\r\n$1\r\nx\r\n",
    );

    // The keys of the numkeys form.
    t(
        &mut c,
        "COMMAND GETKEYS LMPOP 2 k1 k2 LEFT",
        "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
    );
    t(
        &mut c,
        "COMMAND GETKEYS BLMPOP 0 1 k1 LEFT",
        "*1\r\n$2\r\nk1\r\n",
    );
    t(
        &mut c,
        "COMMAND GETKEYS BLPOP k1 k2 0",
        "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
    );
    t(
        &mut c,
        "COMMAND GETKEYS LMOVE k1 k2 LEFT RIGHT",
        "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
    );
}

#[test]
fn listpack_to_quicklist_conversions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let big = "x".repeat(8192);
    for (size, large) in [("3", "hello"), ("-1", big.as_str())] {
        cfg(&mut c, "list-max-listpack-size", size);
        create(&mut c, "lst", &["a", "b", "c"]);
        enc(&mut c, "lst", "listpack");
        c.call(&["RPUSH", "lst", large]);
        enc(&mut c, "lst", "quicklist");

        create(&mut c, "lst", &["a", "b", "c"]);
        c.call(&["LINSERT", "lst", "after", "b", large]);
        enc(&mut c, "lst", "quicklist");
        assert_eq!(range(&mut c, "lst"), vec!["a", "b", large, "c"]);

        create(&mut c, "lst", &["a", "b", "c"]);
        c.call(&["LSET", "lst", "0", large]);
        enc(&mut c, "lst", "quicklist");

        create(&mut c, "lsrc", &["a", "b", "c", large]);
        enc(&mut c, "lsrc", "quicklist");
        create(&mut c, "ldes", &["d", "e", "f"]);
        enc(&mut c, "ldes", "listpack");
        c.call(&["LMOVE", "lsrc", "ldes", "right", "right"]);
        enc(&mut c, "ldes", "quicklist");
    }

    // Variadic pushes convert up front.
    cfg(&mut c, "list-max-listpack-size", "4");
    c.call(&["DEL", "v"]);
    c.call(&["RPUSH", "v", "1", "2", "3", "4"]);
    enc(&mut c, "v", "listpack");
    c.call(&["DEL", "v"]);
    c.call(&["RPUSH", "v", "1", "2", "3", "4", "5"]);
    enc(&mut c, "v", "quicklist");

    // 0 is treated as 1, below -5 as -5.
    cfg(&mut c, "list-max-listpack-size", "0");
    c.call(&["DEL", "lst"]);
    c.call(&["RPUSH", "lst", "a"]);
    enc(&mut c, "lst", "listpack");
    c.call(&["RPUSH", "lst", "b"]);
    enc(&mut c, "lst", "quicklist");
    cfg(&mut c, "list-max-listpack-size", "-6");
    c.call(&["DEL", "lst"]);
    c.call(&["RPUSH", "lst", &"x".repeat(60000)]);
    enc(&mut c, "lst", "listpack");
    c.call(&["RPUSH", "lst", &"x".repeat(5536)]);
    enc(&mut c, "lst", "quicklist");

    // Default: 8 KiB. An element over it goes straight to a quicklist.
    cfg(&mut c, "list-max-listpack-size", "-2");
    c.call(&["DEL", "k"]);
    for v in [
        "127",
        "32767",
        "2147483647",
        "9223372036854775808",
        "0",
        "12",
    ] {
        c.call(&["LPUSH", "k", v]);
    }
    c.call(&["LPUSH", "k", &"x".repeat(31)]);
    enc(&mut c, "k", "listpack");
    c.call(&["LPUSH", "k", &"x".repeat(8191)]);
    c.call(&["LPUSH", "k", &"x".repeat(65535)]);
    enc(&mut c, "k", "quicklist");
    assert_eq!(c.call(&["LINDEX", "k", "5"]), bulk("9223372036854775808"));
    assert_eq!(c.call(&["LINDEX", "k", "-5"]), bulk("0"));
    t(&mut c, "LPOS k foo RANK 1", "$-1\r\n");
    t(&mut c, "LPOS k foo RANK -1", "$-1\r\n");
    assert_eq!(c.call(&["LPOP", "k"]), bulk(&"x".repeat(65535)));
    assert_eq!(c.call(&["LPOP", "k"]), bulk(&"x".repeat(8191)));
    assert_eq!(c.call(&["LPOP", "k"]), bulk(&"x".repeat(31)));
    assert_eq!(
        range(&mut c, "k"),
        words("12 0 9223372036854775808 2147483647 32767 127")
    );
}

#[test]
fn quicklist_to_listpack_conversions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    cfg(&mut c, "list-max-listpack-size", "3");
    create(&mut c, "lst", &["a", "b", "c", "d"]);
    enc(&mut c, "lst", "quicklist");
    c.call(&["RPOP", "lst", "3"]);
    enc(&mut c, "lst", "listpack");

    create(&mut c, "lst", &["a", "a", "a", "d"]);
    c.call(&["LREM", "lst", "3", "a"]);
    enc(&mut c, "lst", "listpack");

    create(&mut c, "lst", &["a", "b", "c", "d"]);
    c.call(&["LTRIM", "lst", "1", "1"]);
    enc(&mut c, "lst", "listpack");

    // Two elements are more than half of 3: it stays a quicklist.
    create(&mut c, "lst", &["a", "b", "c", "d"]);
    c.call(&["RPOP", "lst", "2"]);
    enc(&mut c, "lst", "quicklist");

    cfg(&mut c, "list-max-listpack-size", "-1");
    let big = "x".repeat(8192);
    create(&mut c, "lst", &["a", "b", "c", &big]);
    c.call(&["RPOP", "lst", "1"]);
    enc(&mut c, "lst", "listpack");

    create(&mut c, "lst", &["a", &big]);
    c.call(&["LREM", "lst", "1", &big]);
    enc(&mut c, "lst", "listpack");

    create(&mut c, "lst", &["a", "b", &big]);
    c.call(&["LTRIM", "lst", "0", "1"]);
    enc(&mut c, "lst", "listpack");

    create(&mut c, "lst", &[&big, "a", "b"]);
    c.call(&["RPOP", "lst", "2"]);
    enc(&mut c, "lst", "quicklist");
    c.call(&["LSET", "lst", "-1", "c"]);
    enc(&mut c, "lst", "listpack");
    assert_eq!(range(&mut c, "lst"), vec!["c"]);

    // BLPOP/LMOVE shrink too (RPOPLPUSH base case of list.tcl).
    create(&mut c, "l1", &["a", &big, "c", "d"]);
    for _ in 0..3 {
        c.call(&["RPOPLPUSH", "l1", "l2"]);
    }
    enc(&mut c, "l1", "listpack");
    enc(&mut c, "l2", "quicklist");
}

#[test]
fn quicklist_consistency_and_ranges() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (size, n) in [("5", 250), ("-1", 500), ("-2", 20_000)] {
        cfg(&mut c, "list-max-listpack-size", size);
        c.call(&["DEL", "ml"]);
        let mut args: Vec<String> = vec!["RPUSH".into(), "ml".into()];
        args.extend((0..n).map(|i| i.to_string()));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.call(&a), int(n));
        if n > 500 {
            enc(&mut c, "ml", "quicklist");
        }
        let step = (n / 97).max(1) as usize;
        for i in (0..n).step_by(step) {
            assert_eq!(
                c.call(&["LINDEX", "ml", &i.to_string()]),
                bulk(&i.to_string())
            );
            assert_eq!(
                c.call(&["LINDEX", "ml", &(-i - 1).to_string()]),
                bulk(&(n - 1 - i).to_string())
            );
        }
        let mid = n / 2;
        let got = c.cmd_raw(&format!("LRANGE ml {} {}", mid - 3, mid + 3));
        assert_eq!(String::from_utf8_lossy(&got), c_range(mid - 3..mid + 4));
        let got = c.cmd_raw(&format!("LRANGE ml -5 {}", n + 10));
        assert_eq!(String::from_utf8_lossy(&got), c_range(n - 5..n));
        t(
            &mut c,
            &format!("LPOS ml {}", n - 1),
            &format!(":{}\r\n", n - 1),
        );
        t(&mut c, &format!("LPOS ml {} RANK -1", 3), ":3\r\n");
    }
    // LTRIM stress in the spirit of list-2.tcl, against a model.
    cfg(&mut c, "list-max-listpack-size", "4");
    let mut model: Vec<String> = vec!["x".repeat(8192)];
    c.call(&["DEL", "tl"]);
    c.call(&["RPUSH", "tl", &model[0]]);
    let mut seed: u64 = 12345;
    let mut rnd = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    for i in 0..32 {
        let v = format!("{}", i * 7919);
        c.call(&["RPUSH", "tl", &v]);
        model.push(v);
    }
    for round in 0..150 {
        let min = rnd(32) as usize;
        let max = min + rnd(32) as usize;
        c.call(&["LTRIM", "tl", &min.to_string(), &max.to_string()]);
        model = model[min.min(model.len())..(max + 1).min(model.len())].to_vec();
        assert_eq!(range(&mut c, "tl"), model, "round {round}");
        while model.len() < 32 {
            let v = format!("{}", rnd(1 << 40));
            c.call(&["RPUSH", "tl", &v]);
            model.push(v);
        }
    }
}

#[test]
fn compression_of_packed_and_plain_nodes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    cfg(&mut c, "list-compress-depth", "2");
    cfg(&mut c, "list-max-listpack-size", "1");
    for size in [500usize, 8193] {
        let r = |ch: char| ch.to_string().repeat(size);
        c.call(&["FLUSHDB"]);
        for ch in ['a', 'b', 'c', 'd'] {
            c.call(&["LPUSH", "list1", &r(ch)]);
        }
        for ch in ['e', 'f', 'g', 'j'] {
            c.call(&["LINSERT", "list1", "after", &r('d'), &r(ch)]);
        }
        for ch in ['d', 'j', 'g', 'f', 'e', 'c', 'b', 'a'] {
            assert_eq!(c.call(&["LPOP", "list1"]), bulk(&r(ch)));
        }

        c.call(&["FLUSHDB"]);
        c.call(&["LPUSH", "list2", &r('a')]);
        c.call(&["LINSERT", "list2", "after", &r('a'), &r('b')]);
        c.call(&["RPUSH", "list2", &r('c')]);
        assert_eq!(c.call(&["LINDEX", "list2", "1"]), bulk(&r('b')));
        c.call(&["LTRIM", "list2", "1", "-1"]);
        t(&mut c, "LLEN list2", ":2\r\n");

        c.call(&["FLUSHDB"]);
        c.call(&["LPUSH", "list3", &r('a')]);
        c.call(&["LSET", "list3", "0", &r('b')]);
        assert_eq!(c.call(&["LINDEX", "list3", "0"]), bulk(&r('b')));
        c.call(&["LPUSH", "list3", &r('c')]);
        c.call(&["LSET", "list3", "0", &r('d')]);
        assert_eq!(c.call(&["LINDEX", "list3", "0"]), bulk(&r('d')));
    }

    // A long compressed list: every access path through compressed nodes,
    // and far less memory than uncompressed.
    cfg(&mut c, "list-compress-depth", "1");
    cfg(&mut c, "list-max-listpack-size", "-2");
    c.call(&["FLUSHDB"]);
    let n = 20_000;
    let mut args: Vec<String> = vec!["RPUSH".into(), "z".into()];
    args.extend((0..n).map(|i| format!("compressible-element-{:06}", i % 1000)));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.call(&a), int(n));
    let compressed = as_i64(c.call(&["MEMORY", "USAGE", "z", "SAMPLES", "0"]));
    cfg(&mut c, "list-compress-depth", "0");
    let a2: Vec<&str> = std::iter::once("RPUSH")
        .chain(std::iter::once("plainz"))
        .chain(args[2..].iter().map(String::as_str))
        .collect();
    c.call(&a2);
    let raw = as_i64(c.call(&["MEMORY", "USAGE", "plainz", "SAMPLES", "0"]));
    assert!(compressed * 2 < raw, "compressed {compressed} vs raw {raw}");
    assert_eq!(
        c.call(&["LINDEX", "z", "10001"]),
        bulk("compressible-element-000001")
    );
    assert_eq!(range(&mut c, "z"), range(&mut c, "plainz"));
    t(
        &mut c,
        "LPOS z compressible-element-000999 RANK 10",
        ":9999\r\n",
    );
    assert_eq!(c.call(&["LSET", "z", "12345", "changed"]), ok());
    assert_eq!(
        c.call(&["LINSERT", "z", "before", "changed", "new"]),
        int(n + 1)
    );
    assert_eq!(
        c.call(&["LREM", "z", "0", "compressible-element-000500"]),
        int(20)
    );
    c.call(&["LTRIM", "z", "100", "-100"]);
    assert_eq!(c.call(&["LLEN", "z"]), int(n + 1 - 20 - 199));
    // 12 of the removed elements were before them, 100 trimmed.
    assert_eq!(c.call(&["LINDEX", "z", "12233"]), bulk("new"));
    assert_eq!(c.call(&["LINDEX", "z", "12234"]), bulk("changed"));
}

fn as_i64(v: V) -> i64 {
    match v {
        V::Int(n) => n,
        other => panic!("not an integer: {other:?}"),
    }
}

#[test]
fn dirty_counter_watch_and_events() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let d0 = dirty(&mut c);
    c.call(&["RPUSH", "l", "a", "b", "c", "d"]);
    assert_eq!(dirty(&mut c) - d0, 4);
    c.call(&["LPOP", "l", "2"]);
    assert_eq!(dirty(&mut c) - d0, 6);
    c.call(&["LREM", "l", "0", "nothere"]);
    c.call(&["LINSERT", "l", "before", "nothere", "x"]);
    c.call(&["LPUSHX", "nokey", "x"]);
    c.call(&["LPOP", "l", "0"]);
    assert_eq!(dirty(&mut c) - d0, 6);
    c.call(&["LMOVE", "l", "l2", "LEFT", "LEFT"]);
    assert_eq!(dirty(&mut c) - d0, 7);

    // WATCH sees list changes.
    let mut w = Client::new(&s);
    assert_eq!(c.call(&["WATCH", "l"]), ok());
    assert_eq!(w.call(&["RPUSH", "l", "z"]), int(2));
    c.call(&["MULTI"]);
    c.call(&["LLEN", "l"]);
    assert_eq!(c.call(&["EXEC"]), V::NilArray);

    // Keyspace events.
    cfg(&mut c, "notify-keyspace-events", "KEA");
    let mut sub = Client::new(&s);
    sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    c.call(&["DEL", "e"]);
    c.call(&["RPUSH", "e", "a", "b"]);
    c.call(&["LPOP", "e"]);
    c.call(&["RPOP", "e"]);
    let mut got = Vec::new();
    for _ in 0..4 {
        match sub.read() {
            V::Arr(m) => got.push(format!("{} {}", m[2].text(), m[3].text())),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        got,
        vec![
            "__keyevent@0__:rpush e",
            "__keyevent@0__:lpop e",
            "__keyevent@0__:rpop e",
            "__keyevent@0__:del e",
        ]
    );
}

#[test]
fn blocking_pops_serve_wake_and_time_out() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    let mut w = Client::new(&s);

    // Served at once when there is data.
    create(&mut w, "blist", &["a", "b", "hello", "c", "d"]);
    assert_eq!(a.call(&["BLPOP", "blist", "1"]), arr(&["blist", "a"]));
    assert_eq!(a.call(&["BRPOP", "blist", "1"]), arr(&["blist", "d"]));
    assert_eq!(
        a.call(&["BLMPOP", "1", "1", "blist", "LEFT", "COUNT", "2"]),
        V::Arr(vec![bulk("blist"), arr(&["b", "hello"])])
    );
    assert_eq!(
        a.call(&["BLMPOP", "1", "2", "nokey", "blist", "RIGHT"]),
        V::Arr(vec![bulk("blist"), arr(&["c"])])
    );
    assert_eq!(w.call(&["EXISTS", "blist"]), int(0));

    // Woken by a push from another client.
    a.send(&["BLPOP", "q1", "q2", "0"]);
    common::wait_blocked(&mut w, 1);
    assert_eq!(w.call(&["RPUSH", "q2", "x", "y"]), int(2));
    assert_eq!(a.read(), arr(&["q2", "x"]));
    assert_eq!(range(&mut w, "q2"), vec!["y"]);

    // BLMPOP with COUNT takes what is there.
    b.send(&["BLMPOP", "0", "1", "q3", "RIGHT", "COUNT", "5"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["RPUSH", "q3", "1", "2", "3"]);
    assert_eq!(b.read(), V::Arr(vec![bulk("q3"), arr(&["3", "2", "1"])]));

    // First come, first served.
    a.send(&["BRPOP", "f", "0"]);
    common::wait_blocked(&mut w, 1);
    b.send(&["BRPOP", "f", "0"]);
    common::wait_blocked(&mut w, 2);
    w.call(&["LPUSH", "f", "one"]);
    assert_eq!(a.read(), arr(&["f", "one"]));
    w.call(&["LPUSH", "f", "two"]);
    assert_eq!(b.read(), arr(&["f", "two"]));
    common::wait_blocked(&mut w, 0);

    // BLMOVE / BRPOPLPUSH woken.
    a.send(&["BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["RPUSH", "src", "m1", "m2"]);
    assert_eq!(a.read(), bulk("m2"));
    assert_eq!(range(&mut w, "dst"), vec!["m2"]);
    a.send(&["BRPOPLPUSH", "src2", "dst", "0"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["RPUSH", "src2", "z"]);
    assert_eq!(a.read(), bulk("z"));
    assert_eq!(range(&mut w, "dst"), vec!["z", "m2"]);

    // Timeouts: RESP2 and RESP3 shapes.
    t(&mut a, "BLPOP empty 0.05", "*-1\r\n");
    t(&mut a, "BRPOP empty 0.05", "*-1\r\n");
    t(&mut a, "BLMPOP 0.05 1 empty LEFT", "*-1\r\n");
    t(&mut a, "BLMOVE empty d LEFT LEFT 0.05", "$-1\r\n");
    t(&mut a, "BRPOPLPUSH empty d 0.05", "$-1\r\n");
    a.hello3();
    t(&mut a, "BLPOP empty 0.05", "_\r\n");
    t(&mut a, "BRPOPLPUSH empty d 0.05", "_\r\n");

    // Inside MULTI nothing blocks.
    assert_eq!(b.call(&["MULTI"]), ok());
    for cmd in [
        &["BLPOP", "empty", "0"][..],
        &["BRPOP", "empty", "0"],
        &["BLMPOP", "0", "1", "empty", "LEFT"],
        &["BLMOVE", "empty", "d", "LEFT", "LEFT", "0"],
        &["BRPOPLPUSH", "empty", "d", "0"],
    ] {
        assert_eq!(b.call(cmd), V::Simple("QUEUED".into()));
    }
    assert_eq!(
        b.call(&["EXEC"]),
        V::Arr(vec![V::NilArray, V::NilArray, V::NilArray, V::Nil, V::Nil])
    );
}

#[test]
fn blocking_argument_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "BLPOP k -1", "-ERR timeout is negative\r\n");
    t(
        &mut c,
        "BLPOP k abc",
        "-ERR timeout is not a float or out of range\r\n",
    );
    t(
        &mut c,
        "BRPOP k 1 x",
        "-ERR timeout is not a float or out of range\r\n",
    );
    t(
        &mut c,
        "BLMOVE a b LEFT LEFT -1",
        "-ERR timeout is negative\r\n",
    );
    t(&mut c, "BLMOVE a b UP LEFT x", "-ERR syntax error\r\n");
    t(
        &mut c,
        "BRPOPLPUSH a b x",
        "-ERR timeout is not a float or out of range\r\n",
    );
    // BLMPOP validates numkeys, direction and COUNT before the timeout.
    t(
        &mut c,
        "BLMPOP x 0 a LEFT",
        "-ERR numkeys should be greater than 0\r\n",
    );
    t(&mut c, "BLMPOP x 1 a UP", "-ERR syntax error\r\n");
    t(
        &mut c,
        "BLMPOP x 1 a LEFT COUNT 0",
        "-ERR count should be greater than 0\r\n",
    );
    t(
        &mut c,
        "BLMPOP x 1 a LEFT",
        "-ERR timeout is not a float or out of range\r\n",
    );
    t(&mut c, "BLMPOP -1 1 a LEFT", "-ERR timeout is negative\r\n");
    t(
        &mut c,
        "BLMPOP 0 1",
        "-ERR wrong number of arguments for 'blmpop' command\r\n",
    );
    t(
        &mut c,
        "BLPOP k",
        "-ERR wrong number of arguments for 'blpop' command\r\n",
    );
}

#[test]
fn big_list_memory_and_large_values() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Large values go to plain nodes and come back intact.
    let huge = "y".repeat(1 << 20);
    c.call(&["RPUSH", "h", "a", &huge, "b"]);
    enc(&mut c, "h", "quicklist");
    assert_eq!(c.call(&["LINDEX", "h", "1"]), bulk(&huge));
    assert_eq!(c.call(&["LSET", "h", "1", "small"]), ok());
    assert_eq!(range(&mut c, "h"), words("a small b"));
    assert_eq!(c.call(&["LSET", "h", "0", &huge]), ok());
    assert_eq!(c.call(&["LPOP", "h"]), bulk(&huge));
    c.call(&["DEL", "h"]);

    let before = c.info_int("memory", "used_memory");
    let n = 200_000;
    let mut sent = 0;
    while sent < n {
        let mut args: Vec<String> = vec!["RPUSH".into(), "big".into()];
        args.extend((sent..sent + 1000).map(|i| format!("el:{i:09}")));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        c.call(&a);
        sent += 1000;
    }
    let after = c.info_int("memory", "used_memory");
    let per = (after - before) as f64 / n as f64;
    // 12-byte elements: 14 bytes of listpack entry each, plus node overhead.
    assert!(per < 15.0, "{per} bytes per element");
    let usage = as_i64(c.call(&["MEMORY", "USAGE", "big"]));
    assert!((usage as f64 / n as f64) < 15.0);
    assert_eq!(c.call(&["LINDEX", "big", "123456"]), bulk("el:000123456"));
}
