//! Hash commands end to end, through the real server, with exact reply
//! bytes. Expected values come from Valkey's tests/unit/type/hash.tcl and
//! from t_hash.c.

mod common;
use common::{Client, TestServer, V};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

#[track_caller]
fn tb(c: &mut Client, args: &[&[u8]], expected: &[u8]) {
    let got = c.call_raw(args);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected),
        "reply to {:?} differs",
        args.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
    );
}

fn encoding(c: &mut Client, key: &str) -> String {
    c.call(&["OBJECT", "ENCODING", key]).text()
}

/// The bulk strings of an array reply.
fn strings(v: V) -> Vec<String> {
    match v {
        V::Arr(items) => items.into_iter().map(|i| i.text()).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

/// Field/value pairs of a flat (RESP2) array reply.
fn pairs(v: V) -> Vec<(String, String)> {
    let s = strings(v);
    assert_eq!(s.len() % 2, 0);
    s.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect()
}

/// Fills `key` with `n` fields `f<i>` = `v<i>`.
fn fill(c: &mut Client, key: &str, n: usize) {
    c.call(&["DEL", key]);
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut args = vec!["HSET".to_string(), key.to_string()];
        for i in chunk {
            args.push(format!("f{i}"));
            args.push(format!("v{i}"));
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(matches!(c.call(&a), V::Int(_)));
    }
}

/// Pearson's chi-square statistic of how often each value came up.
fn chi_square(items: &[String]) -> f64 {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    let expected = items.len() as f64 / counts.len() as f64;
    counts
        .values()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

#[test]
fn small_and_big_hash_basics() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Small: listpack.
    t(&mut c, "HSET smallhash a 1 b 2 c 3", ":3\r\n");
    assert_eq!(encoding(&mut c, "smallhash"), "listpack");
    // Big: 1024 fields is over the default 128... (512 in Valkey 8).
    fill(&mut c, "bighash", 1024);
    assert_eq!(encoding(&mut c, "bighash"), "hashtable");
    t(&mut c, "HLEN bighash", ":1024\r\n");
    for i in [0, 511, 1023] {
        t(
            &mut c,
            &format!("HGET bighash f{i}"),
            &format!("${}\r\nv{i}\r\n", format!("v{i}").len()),
        );
    }
    // HSET in update and insert mode (hash.tcl).
    for key in ["smallhash", "bighash"] {
        t(
            &mut c,
            &format!("HSET {key} a newval"),
            if key == "smallhash" {
                ":0\r\n"
            } else {
                ":1\r\n"
            },
        );
        t(&mut c, &format!("HGET {key} a"), "$6\r\nnewval\r\n");
        t(
            &mut c,
            &format!("HSET {key} __foobar123__ newval"),
            ":1\r\n",
        );
        t(&mut c, &format!("HDEL {key} __foobar123__"), ":1\r\n");
        t(&mut c, &format!("HGET {key} __123123123__"), "$-1\r\n");
        t(&mut c, &format!("HSETNX {key} __123123123__ foo"), ":1\r\n");
        t(&mut c, &format!("HSETNX {key} __123123123__ bar"), ":0\r\n");
        t(
            &mut c,
            &format!("HGET {key} __123123123__"),
            "$3\r\nfoo\r\n",
        );
        t(&mut c, &format!("HEXISTS {key} __123123123__"), ":1\r\n");
        t(&mut c, &format!("HEXISTS {key} nokey"), ":0\r\n");
        t(&mut c, &format!("HSTRLEN {key} __123123123__"), ":3\r\n");
        t(&mut c, &format!("HSTRLEN {key} nokey"), ":0\r\n");
        t(
            &mut c,
            &format!("HMGET {key} __123123123__ __456456456__"),
            "*2\r\n$3\r\nfoo\r\n$-1\r\n",
        );
        t(&mut c, &format!("HDEL {key} nokey"), ":0\r\n");
        t(
            &mut c,
            &format!("HDEL {key} __123123123__ __123123123__"),
            ":1\r\n",
        );
    }
    // HKEYS / HVALS / HGETALL agree with each other on the big hash.
    let all = pairs(c.call(&["HGETALL", "bighash"]));
    let keys = strings(c.call(&["HKEYS", "bighash"]));
    let vals = strings(c.call(&["HVALS", "bighash"]));
    assert_eq!(all.len(), 1025);
    assert_eq!(all.iter().map(|p| p.0.clone()).collect::<Vec<_>>(), keys);
    assert_eq!(all.iter().map(|p| p.1.clone()).collect::<Vec<_>>(), vals);
    let m: BTreeMap<_, _> = all.into_iter().collect();
    assert_eq!(m["f77"], "v77");
    assert_eq!(m["a"], "newval");
    // HMSET.
    t(&mut c, "HMSET bighash f1 x f2 y", "+OK\r\n");
    t(
        &mut c,
        "HMGET bighash f1 f2 nope",
        "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$-1\r\n",
    );
}

#[test]
fn missing_keys_and_arity() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "HGET nokey f", "$-1\r\n");
    t(&mut c, "HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n");
    t(&mut c, "HGETALL nokey", "*0\r\n");
    t(&mut c, "HKEYS nokey", "*0\r\n");
    t(&mut c, "HVALS nokey", "*0\r\n");
    t(&mut c, "HLEN nokey", ":0\r\n");
    t(&mut c, "HSTRLEN nokey f", ":0\r\n");
    t(&mut c, "HEXISTS nokey f", ":0\r\n");
    t(&mut c, "HDEL nokey f", ":0\r\n");
    t(&mut c, "HRANDFIELD nokey", "$-1\r\n");
    t(&mut c, "HRANDFIELD nokey 100", "*0\r\n");
    t(&mut c, "HRANDFIELD nokey -100 WITHVALUES", "*0\r\n");
    t(&mut c, "HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n");
    t(&mut c, "EXISTS nokey", ":0\r\n");
    t(
        &mut c,
        "HSET h key1 val1 key2",
        "-ERR wrong number of arguments for 'hset' command\r\n",
    );
    t(
        &mut c,
        "HMSET h key1 val1 key2",
        "-ERR wrong number of arguments for 'hmset' command\r\n",
    );
    t(
        &mut c,
        "HSET h",
        "-ERR wrong number of arguments for 'hset' command\r\n",
    );
    t(
        &mut c,
        "HGET h",
        "-ERR wrong number of arguments for 'hget' command\r\n",
    );
    t(
        &mut c,
        "HMGET h",
        "-ERR wrong number of arguments for 'hmget' command\r\n",
    );
    t(
        &mut c,
        "HSETNX h a",
        "-ERR wrong number of arguments for 'hsetnx' command\r\n",
    );
    t(
        &mut c,
        "HDEL h",
        "-ERR wrong number of arguments for 'hdel' command\r\n",
    );
    t(
        &mut c,
        "HSCAN h",
        "-ERR wrong number of arguments for 'hscan' command\r\n",
    );
    t(
        &mut c,
        "HRANDFIELD",
        "-ERR wrong number of arguments for 'hrandfield' command\r\n",
    );
    t(&mut c, "EXISTS h", ":0\r\n");
}

#[test]
fn wrong_type() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "SET wrongtype somevalue", "+OK\r\n");
    let wt = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    for line in [
        "HMGET wrongtype field1 field2",
        "HRANDFIELD wrongtype",
        "HRANDFIELD wrongtype 3 WITHVALUES",
        "HGET wrongtype field1",
        "HGETALL wrongtype",
        "HDEL wrongtype field1",
        "HINCRBY wrongtype field1 2",
        "HINCRBYFLOAT wrongtype field1 2.5",
        "HSTRLEN wrongtype field1",
        "HVALS wrongtype",
        "HKEYS wrongtype",
        "HEXISTS wrongtype field1",
        "HSET wrongtype field1 val1",
        "HMSET wrongtype field1 val1 field2 val2",
        "HSETNX wrongtype field1 val1",
        "HLEN wrongtype",
        "HSCAN wrongtype 0",
        "HSCAN wrongtype 0 NOSUCHOPTION",
    ] {
        t(&mut c, line, wt);
    }
    // Argument errors found before the key is looked at win.
    t(
        &mut c,
        "HINCRBY wrongtype f x",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "HINCRBYFLOAT wrongtype f x",
        "-ERR value is not a valid float\r\n",
    );
    t(&mut c, "HSCAN wrongtype x", "-ERR invalid cursor\r\n");
    t(
        &mut c,
        "HRANDFIELD wrongtype 1 bad",
        "-ERR syntax error\r\n",
    );
    t(&mut c, "GET wrongtype", "$9\r\nsomevalue\r\n");
}

#[test]
fn hdel_deletes_the_key_when_empty() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "HMSET myhash a 1 b 2 c 3", "+OK\r\n");
    t(&mut c, "HDEL myhash x y", ":0\r\n");
    t(&mut c, "HDEL myhash a c f", ":2\r\n");
    t(&mut c, "HGETALL myhash", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n");
    t(&mut c, "HMSET myhash a 1 b 2 c 3", "+OK\r\n");
    t(&mut c, "HDEL myhash a b c d e", ":3\r\n");
    t(&mut c, "EXISTS myhash", ":0\r\n");
    // Same for a table-encoded hash.
    t(&mut c, "CONFIG SET hash-max-listpack-entries 0", "+OK\r\n");
    t(&mut c, "HSET big a 1", ":1\r\n");
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    t(&mut c, "HDEL big a", ":1\r\n");
    t(&mut c, "EXISTS big", ":0\r\n");
    t(&mut c, "TYPE big", "+none\r\n");
}

#[test]
fn encoding_conversions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "CONFIG SET hash-max-listpack-entries 4", "+OK\r\n");
    t(&mut c, "CONFIG SET hash-max-listpack-value 8", "+OK\r\n");
    t(&mut c, "HSET h a 1 b 2 c 3 d 4", ":4\r\n");
    assert_eq!(encoding(&mut c, "h"), "listpack");
    t(&mut c, "HSET h e 5", ":1\r\n");
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    // Never back, even when it shrinks.
    t(&mut c, "HDEL h a b c d", ":4\r\n");
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    // Five pairs in one command: converted up front even if all one field.
    t(&mut c, "HSET dup x 1 x 2 x 3 x 4 x 5", ":1\r\n");
    assert_eq!(encoding(&mut c, "dup"), "hashtable");
    // A long value, a long field.
    t(&mut c, "HSET v f 12345678", ":1\r\n");
    assert_eq!(encoding(&mut c, "v"), "listpack");
    t(&mut c, "HSET v g 123456789", ":1\r\n");
    assert_eq!(encoding(&mut c, "v"), "hashtable");
    t(&mut c, "HSET k 123456789 v", ":1\r\n");
    assert_eq!(encoding(&mut c, "k"), "hashtable");
    t(&mut c, "HSETNX nx 123456789 v", ":1\r\n");
    assert_eq!(encoding(&mut c, "nx"), "hashtable");
    // HINCRBY on a long field converts (hashTypeSet's check).
    t(&mut c, "HINCRBY i 123456789 1", ":1\r\n");
    assert_eq!(encoding(&mut c, "i"), "hashtable");
    t(&mut c, "HINCRBY j 12345678 1", ":1\r\n");
    assert_eq!(encoding(&mut c, "j"), "listpack");
    // The old ziplist names are aliases.
    t(&mut c, "CONFIG SET hash-max-ziplist-entries 1", "+OK\r\n");
    t(&mut c, "HSET z a 1 b 2", ":2\r\n");
    assert_eq!(encoding(&mut c, "z"), "hashtable");
    // hash.tcl: "Is a ziplist encoded Hash promoted on big payload?"
    t(
        &mut c,
        "CONFIG SET hash-max-listpack-entries 128",
        "+OK\r\n",
    );
    t(&mut c, "CONFIG SET hash-max-listpack-value 64", "+OK\r\n");
    t(&mut c, "HSET p foo bar", ":1\r\n");
    assert_eq!(encoding(&mut c, "p"), "listpack");
    let big = "a".repeat(1024);
    tb(&mut c, &[b"HSET", b"p", b"foo", big.as_bytes()], b":0\r\n");
    assert_eq!(encoding(&mut c, "p"), "hashtable");
    // Values survive the conversion, integers included.
    t(&mut c, "HSET q n -17 m 9223372036854775807 s str", ":3\r\n");
    tb(&mut c, &[b"HSET", b"q", b"big", big.as_bytes()], b":1\r\n");
    assert_eq!(encoding(&mut c, "q"), "hashtable");
    t(&mut c, "HGET q n", "$3\r\n-17\r\n");
    t(&mut c, "HGET q m", "$19\r\n9223372036854775807\r\n");
    t(&mut c, "HSTRLEN q big", ":1024\r\n");
}

#[test]
fn stress_conversion_with_random_values() {
    // hash.tcl: "Stress test the hash ziplist -> hashtable encoding
    // conversion" (fewer rounds).
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "CONFIG SET hash-max-ziplist-entries 32", "+OK\r\n");
    for round in 0..10 {
        c.call(&["DEL", "myhash"]);
        let mut model = BTreeMap::new();
        for i in 0..64 {
            let f = format!("{}", (round * 7919 + i * 104_729) % 1000 - 300);
            let v = format!("val{i}");
            c.call(&["HSET", "myhash", &f, &v]);
            model.insert(f, v);
        }
        if model.len() > 32 {
            assert_eq!(encoding(&mut c, "myhash"), "hashtable");
        }
        let got: BTreeMap<_, _> = pairs(c.call(&["HGETALL", "myhash"])).into_iter().collect();
        assert_eq!(got, model);
    }
}

#[test]
fn hincrby() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "HINCRBY htest foo 2", ":2\r\n");
    t(&mut c, "HSET incrhash field 5", ":1\r\n");
    t(
        &mut c,
        "HINCRBY incrhash field v",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "HINCRBYFLOAT incrhash field v",
        "-ERR value is not a valid float\r\n",
    );
    fill(&mut c, "bighash", 600);
    for key in ["incrhash", "bighash"] {
        t(&mut c, &format!("HINCRBY {key} tmp 2"), ":2\r\n");
        t(&mut c, &format!("HGET {key} tmp"), "$1\r\n2\r\n");
        t(&mut c, &format!("HINCRBY {key} tmp 3"), ":5\r\n");
        t(&mut c, &format!("HSET {key} tmp 100"), ":0\r\n");
        t(&mut c, &format!("HINCRBY {key} tmp 2"), ":102\r\n");
        t(&mut c, &format!("HSET {key} tmp 17179869184"), ":0\r\n");
        t(&mut c, &format!("HINCRBY {key} tmp 1"), ":17179869185\r\n");
        t(&mut c, &format!("HSET {key} tmp 17179869184"), ":0\r\n");
        t(
            &mut c,
            &format!("HINCRBY {key} tmp 17179869184"),
            ":34359738368\r\n",
        );
        for bad in [" 11", "11 ", "1.5", "abc", ""] {
            tb(
                &mut c,
                &[b"HSET", key.as_bytes(), b"str", bad.as_bytes()],
                if bad == " 11" { b":1\r\n" } else { b":0\r\n" },
            );
            tb(
                &mut c,
                &[b"HINCRBY", key.as_bytes(), b"str", b"1"],
                b"-ERR hash value is not an integer\r\n",
            );
        }
        t(&mut c, &format!("HDEL {key} str"), ":1\r\n");
    }
    assert_eq!(encoding(&mut c, "incrhash"), "listpack");
    t(&mut c, "HSET hash n -9223372036854775484", ":1\r\n");
    t(&mut c, "HINCRBY hash n -1", ":-9223372036854775485\r\n");
    t(
        &mut c,
        "HINCRBY hash n -10000",
        "-ERR increment or decrement would overflow\r\n",
    );
    t(&mut c, "HSET hash p 9223372036854775807", ":1\r\n");
    t(
        &mut c,
        "HINCRBY hash p 1",
        "-ERR increment or decrement would overflow\r\n",
    );
    t(&mut c, "HGET hash p", "$19\r\n9223372036854775807\r\n");
    t(
        &mut c,
        "HINCRBY hash q 9223372036854775808",
        "-ERR value is not an integer or out of range\r\n",
    );
}

#[test]
fn hincrbyfloat() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "HINCRBYFLOAT htest foo 2.5", "$3\r\n2.5\r\n");
    fill(&mut c, "bighash", 600);
    t(&mut c, "HSET smallhash x y", ":1\r\n");
    for key in ["smallhash", "bighash"] {
        t(
            &mut c,
            &format!("HINCRBYFLOAT {key} tmp 2.5"),
            "$3\r\n2.5\r\n",
        );
        t(&mut c, &format!("HGET {key} tmp"), "$3\r\n2.5\r\n");
        t(
            &mut c,
            &format!("HINCRBYFLOAT {key} tmp 3.5"),
            "$1\r\n6\r\n",
        );
        t(&mut c, &format!("HINCRBY {key} tmp 1"), ":7\r\n");
        t(&mut c, &format!("HSET {key} tmp 100"), ":0\r\n");
        t(
            &mut c,
            &format!("HINCRBYFLOAT {key} tmp 2.5"),
            "$5\r\n102.5\r\n",
        );
        t(&mut c, &format!("HSET {key} tmp 17179869184"), ":0\r\n");
        t(
            &mut c,
            &format!("HINCRBYFLOAT {key} tmp 1"),
            "$11\r\n17179869185\r\n",
        );
        t(&mut c, &format!("HSET {key} tmp 17179869184"), ":0\r\n");
        t(
            &mut c,
            &format!("HINCRBYFLOAT {key} tmp 17179869184"),
            "$11\r\n34359738368\r\n",
        );
        for bad in [&b" 11"[..], b"11 ", b"1\x002", b"abc"] {
            c.call_raw(&[b"HSET", key.as_bytes(), b"str", bad]);
            tb(
                &mut c,
                &[b"HINCRBYFLOAT", key.as_bytes(), b"str", b"1"],
                b"-ERR hash value is not a float\r\n",
            );
        }
    }
    // issue #2846: long double arithmetic and human formatting.
    t(&mut c, "DEL myhash", ":0\r\n");
    t(&mut c, "HINCRBYFLOAT myhash float 1.23", "$4\r\n1.23\r\n");
    t(&mut c, "HINCRBYFLOAT myhash float 0.77", "$1\r\n2\r\n");
    t(&mut c, "HINCRBYFLOAT myhash float -0.1", "$3\r\n1.9\r\n");
    t(&mut c, "HINCRBYFLOAT myhash e 5.0e3", "$4\r\n5000\r\n");
    t(
        &mut c,
        "HINCRBYFLOAT hfoo field +inf",
        "-ERR value is NaN or Infinity\r\n",
    );
    t(
        &mut c,
        "HINCRBYFLOAT hfoo field nan",
        "-ERR value is not a valid float\r\n",
    );
    t(&mut c, "EXISTS hfoo", ":0\r\n");
    t(&mut c, "HSET inf f 1e4932", ":1\r\n");
    t(
        &mut c,
        "HINCRBYFLOAT inf f 1.0e4932",
        "-ERR increment would produce NaN or Infinity\r\n",
    );
    // Encoding limits (hash.tcl).
    t(&mut c, "CONFIG SET hash-max-listpack-value 8", "+OK\r\n");
    t(&mut c, "HSET s tmp 0", ":1\r\n");
    t(&mut c, "HSET b tmp 0", ":1\r\n");
    t(&mut c, "HINCRBYFLOAT s tmp 0.000005", "$8\r\n0.000005\r\n");
    t(
        &mut c,
        "HINCRBYFLOAT b tmp 0.0000005",
        "$9\r\n0.0000005\r\n",
    );
    assert_eq!(encoding(&mut c, "s"), "listpack");
    assert_eq!(encoding(&mut c, "b"), "hashtable");
    t(&mut c, "HINCRBYFLOAT s2 abcdefgh 1", "$1\r\n1\r\n");
    t(&mut c, "HINCRBYFLOAT b2 abcdefghi 1", "$1\r\n1\r\n");
    assert_eq!(encoding(&mut c, "s2"), "listpack");
    assert_eq!(encoding(&mut c, "b2"), "hashtable");
}

#[test]
fn hstrlen_corner_cases() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    fill(&mut c, "bighash", 600);
    for v in [
        "-9223372036854775808",
        "9223372036854775807",
        "9223372036854775808",
        "",
        "0",
        "-1",
        "x",
        "007",
    ] {
        for key in ["smallhash", "bighash"] {
            c.call(&["HMSET", key, "field", v]);
            t(
                &mut c,
                &format!("HSTRLEN {key} field"),
                &format!(":{}\r\n", v.len()),
            );
            tb(
                &mut c,
                &[b"HGET", key.as_bytes(), b"field"],
                format!("${}\r\n{v}\r\n", v.len()).as_bytes(),
            );
        }
    }
    assert_eq!(encoding(&mut c, "smallhash"), "listpack");
}

#[test]
fn binary_fields_and_values() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let f = b"f\x00\r\n\xff";
    let v = b"\x00\x01\x02";
    tb(&mut c, &[b"HSET", b"bin", f, v], b":1\r\n");
    tb(&mut c, &[b"HGET", b"bin", f], b"$3\r\n\x00\x01\x02\r\n");
    tb(
        &mut c,
        &[b"HGETALL", b"bin"],
        b"*2\r\n$5\r\nf\x00\r\n\xff\r\n$3\r\n\x00\x01\x02\r\n",
    );
    // Large key regression (hash.tcl).
    let k1 = "k".repeat(336);
    let k2 = "k".repeat(337);
    t(&mut c, &format!("HSET hash {k1} a"), ":1\r\n");
    t(&mut c, &format!("HSET hash {k2} b"), ":1\r\n");
    t(&mut c, &format!("HGET hash {k2}"), "$1\r\nb\r\n");
}

#[test]
fn resp3_replies() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.hello3();
    t(&mut c, "HSET h a 1 b 2", ":2\r\n");
    t(
        &mut c,
        "HGETALL h",
        "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
    );
    t(&mut c, "HGETALL nokey", "%0\r\n");
    t(&mut c, "HKEYS h", "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
    t(&mut c, "HVALS h", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    t(&mut c, "HGET h x", "_\r\n");
    t(&mut c, "HMGET h x a", "*2\r\n_\r\n$1\r\n1\r\n");
    t(&mut c, "HRANDFIELD nokey", "_\r\n");
    t(&mut c, "HRANDFIELD nokey 2", "*0\r\n");
    t(&mut c, "HINCRBYFLOAT h c 1.5", "$3\r\n1.5\r\n");
    t(
        &mut c,
        "HSCAN h 0 NOVALUES",
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
    );
    // HRANDFIELD with values: an array of [field, value] pairs.
    fill(&mut c, "myhash", 10);
    fill(&mut c, "bighash", 1000);
    for key in ["myhash", "bighash"] {
        for count in ["3", "-3", "20"] {
            let V::Arr(res) = c.call(&["HRANDFIELD", key, count, "WITHVALUES"]) else {
                panic!("not an array")
            };
            let expect = match (key, count) {
                ("myhash", "20") => 10,
                (_, "20") => 20,
                _ => 3,
            };
            assert_eq!(res.len(), expect);
            for p in res {
                let V::Arr(p) = p else {
                    panic!("pair is not an array")
                };
                assert_eq!(p.len(), 2);
                assert_eq!(p[0].text()[1..], p[1].text()[1..]);
            }
            let V::Arr(res) = c.call(&["HRANDFIELD", key, count]) else {
                panic!("not an array")
            };
            assert!(res.iter().all(|v| matches!(v, V::Bulk(_))));
        }
    }
    // In RESP2 the same is flat.
    let mut c2 = Client::new(&s);
    let res = strings(c2.call(&["HRANDFIELD", "myhash", "3", "WITHVALUES"]));
    assert_eq!(res.len(), 6);
}

#[test]
fn hrandfield_errors_and_edges() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "HMSET myhash a 1", "+OK\r\n");
    let range = "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n";
    t(
        &mut c,
        "HRANDFIELD myhash -9223372036854770000 WITHVALUES",
        "-ERR value is out of range\r\n",
    );
    t(
        &mut c,
        "HRANDFIELD myhash 9223372036854770000 WITHVALUES",
        "-ERR value is out of range\r\n",
    );
    t(
        &mut c,
        "HRANDFIELD myhash -9223372036854775808 WITHVALUES",
        range,
    );
    t(&mut c, "HRANDFIELD myhash -9223372036854775808", range);
    t(
        &mut c,
        "HRANDFIELD myhash 9223372036854775808",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "HRANDFIELD myhash 1.5",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "HRANDFIELD myhash 1 WITHVALUES extra",
        "-ERR syntax error\r\n",
    );
    t(
        &mut c,
        "HRANDFIELD myhash 1 NOVALUES",
        "-ERR syntax error\r\n",
    );
    t(&mut c, "HRANDFIELD myhash 0", "*0\r\n");
    t(&mut c, "HRANDFIELD myhash 0 WITHVALUES", "*0\r\n");
    t(
        &mut c,
        "HRANDFIELD myhash 1 withvalues",
        "*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    t(&mut c, "HRANDFIELD myhash", "$1\r\na\r\n");
    t(
        &mut c,
        "HRANDFIELD myhash -2",
        "*2\r\n$1\r\na\r\n$1\r\na\r\n",
    );
    t(
        &mut c,
        "HRANDFIELD myhash 9223372036854775807",
        "*1\r\n$1\r\na\r\n",
    );
    // Integer fields and values of a listpack come back as text.
    t(&mut c, "HSET ints 12 -34", ":1\r\n");
    t(
        &mut c,
        "HRANDFIELD ints -1 WITHVALUES",
        "*2\r\n$2\r\n12\r\n$3\r\n-34\r\n",
    );
}

/// hash.tcl: "HRANDFIELD with <count> - $type", both encodings.
#[test]
fn hrandfield_distribution() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "CONFIG SET hash-max-ziplist-value 10", "+OK\r\n");
    let long = "x".repeat(80);
    for (typ, last) in [("hashtable", long.as_str()), ("listpack", "10")] {
        c.call(&["DEL", "myhash"]);
        c.call(&[
            "HSET", "myhash", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "6", "f", "7", "g",
            "8", "h", "9", "i", last, "j",
        ]);
        assert_eq!(encoding(&mut c, "myhash"), typ);
        let dict: BTreeMap<_, _> = pairs(c.call(&["HGETALL", "myhash"])).into_iter().collect();
        let keys: BTreeSet<_> = dict.keys().cloned().collect();

        // PATH 1: negative counts repeat.
        assert_eq!(strings(c.call(&["HRANDFIELD", "myhash", "-20"])).len(), 20);
        assert_eq!(
            strings(c.call(&["HRANDFIELD", "myhash", "-1001"])).len(),
            1001
        );
        assert_eq!(
            strings(c.call(&["HRANDFIELD", "myhash", "-20", "WITHVALUES"])).len(),
            40
        );
        let wv = pairs(c.call(&["HRANDFIELD", "myhash", "-1001", "WITHVALUES"]));
        assert_eq!(wv.len(), 1001);
        assert!(wv.iter().all(|(k, v)| dict[k] == *v));
        let res = strings(c.call(&["HRANDFIELD", "myhash", "-1000"]));
        assert!(chi_square(&res) < 40.0, "{typ}: not uniform");
        assert!(res.iter().all(|k| dict.contains_key(k)));
        let seen: BTreeSet<_> = res.into_iter().collect();
        assert_eq!(seen, keys);

        // PATH 2: count >= size gives the whole hash.
        for size in ["10", "20"] {
            let mut res = strings(c.call(&["HRANDFIELD", "myhash", size]));
            res.sort();
            assert_eq!(res, keys.iter().cloned().collect::<Vec<_>>());
            let res: BTreeMap<_, _> = pairs(c.call(&["HRANDFIELD", "myhash", size, "WITHVALUES"]))
                .into_iter()
                .collect();
            assert_eq!(res, dict);
        }

        // PATH 3 and 4: distinct subsets, every field eventually, uniform.
        for size in [8usize, 2] {
            let mut all = Vec::new();
            for i in 0..(1000 / size) {
                let res = if i % 2 == 0 {
                    let p =
                        pairs(c.call(&["HRANDFIELD", "myhash", &size.to_string(), "WITHVALUES"]));
                    assert!(p.iter().all(|(k, v)| dict[k] == *v));
                    p.into_iter().map(|p| p.0).collect::<Vec<_>>()
                } else {
                    strings(c.call(&["HRANDFIELD", "myhash", &size.to_string()]))
                };
                assert_eq!(res.len(), size);
                let distinct: BTreeSet<_> = res.iter().collect();
                assert_eq!(distinct.len(), size, "{typ}: repeated field");
                all.extend(res);
            }
            let seen: BTreeSet<_> = all.iter().cloned().collect();
            assert_eq!(seen, keys);
            assert!(chi_square(&all) < 40.0, "{typ} size {size}: not uniform");
        }
    }
}

#[test]
fn hrandfield_big_hash_paths() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    fill(&mut c, "big", 3000);
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    for count in [2999usize, 1500, 900, 10, 1] {
        let res = pairs(c.call(&["HRANDFIELD", "big", &count.to_string(), "WITHVALUES"]));
        assert_eq!(res.len(), count);
        let distinct: BTreeSet<_> = res.iter().map(|p| p.0.clone()).collect();
        assert_eq!(distinct.len(), count);
        assert!(res.iter().all(|(k, v)| k[1..] == v[1..]));
    }
    // Single draws reach many different fields.
    let mut seen = BTreeSet::new();
    for _ in 0..300 {
        seen.insert(c.call(&["HRANDFIELD", "big"]).text());
    }
    assert!(seen.len() > 250, "{}", seen.len());
    let res = strings(c.call(&["HRANDFIELD", "big", "-5000"]));
    assert_eq!(res.len(), 5000);
    let distinct: BTreeSet<_> = res.iter().collect();
    assert!(distinct.len() > 2000, "{}", distinct.len());
}

#[test]
fn hscan_listpack_and_table() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Listpack: all at once, cursor 0, MATCH filters, COUNT ignored.
    t(&mut c, "HSET small a 1 b 2 c 3 10 x", ":4\r\n");
    t(
        &mut c,
        "HSCAN small 0 COUNT 1",
        "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$2\r\n10\r\n$1\r\nx\r\n",
    );
    t(
        &mut c,
        "HSCAN small 0 MATCH 1*",
        "*2\r\n$1\r\n0\r\n*2\r\n$2\r\n10\r\n$1\r\nx\r\n",
    );
    t(
        &mut c,
        "HSCAN small 0 MATCH * NOVALUES",
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$2\r\n10\r\n",
    );
    t(
        &mut c,
        "HSCAN small 12345 MATCH [ab]",
        "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n",
    );
    // Errors.
    t(&mut c, "HSCAN small -1", "-ERR invalid cursor\r\n");
    t(&mut c, "HSCAN small abc", "-ERR invalid cursor\r\n");
    t(&mut c, "HSCAN small 0 COUNT 0", "-ERR syntax error\r\n");
    t(&mut c, "HSCAN small 0 COUNT", "-ERR syntax error\r\n");
    t(&mut c, "HSCAN small 0 MATCH", "-ERR syntax error\r\n");
    t(
        &mut c,
        "HSCAN small 0 COUNT x",
        "-ERR value is not an integer or out of range\r\n",
    );
    t(
        &mut c,
        "HSCAN small 0 NOSCORES",
        "-ERR NOSCORES option can only be used in ZSCAN\r\n",
    );
    t(&mut c, "HSCAN small 0 BAD", "-ERR syntax error\r\n");
    t(&mut c, "HSCAN nokey 0 BAD", "*2\r\n$1\r\n0\r\n*0\r\n");

    // Table: a full iteration returns every field, each with its value.
    fill(&mut c, "big", 2000);
    for (count, novalues) in [(10, false), (100, true), (1, false)] {
        let mut cursor = "0".to_string();
        let mut seen = BTreeMap::new();
        let mut calls = 0;
        loop {
            let mut args = vec!["HSCAN", "big", cursor.as_str()];
            let cs = count.to_string();
            args.extend(["COUNT", cs.as_str()]);
            if novalues {
                args.push("NOVALUES");
            }
            let V::Arr(mut r) = c.call(&args) else {
                panic!()
            };
            let items = strings(r.pop().unwrap());
            cursor = r.pop().unwrap().text();
            calls += 1;
            if novalues {
                for f in items {
                    seen.insert(f, String::new());
                }
            } else {
                assert!(items.len() <= 2 * (count * 12 + 16));
                for p in items.chunks(2) {
                    assert_eq!(p[0][1..], p[1][1..]);
                    seen.insert(p[0].clone(), p[1].clone());
                }
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 2000);
        assert!(calls > 1);
    }
    // MATCH on a table filters after visiting.
    let mut cursor = "0".to_string();
    let mut found = BTreeSet::new();
    loop {
        let V::Arr(mut r) = c.call(&["HSCAN", "big", &cursor, "MATCH", "f1*", "COUNT", "50"])
        else {
            panic!()
        };
        let items = strings(r.pop().unwrap());
        cursor = r.pop().unwrap().text();
        for p in items.chunks(2) {
            found.insert(p[0].clone());
        }
        if cursor == "0" {
            break;
        }
    }
    // f1, f10-f19, f100-f199, f1000-f1999.
    assert_eq!(found.len(), 1 + 10 + 100 + 1000);
}

#[test]
fn watch_multi_and_dirty() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut other = Client::new(&s);
    t(&mut c, "HSET h a 1", ":1\r\n");
    // A no-op write does not invalidate WATCH.
    t(&mut c, "WATCH h", "+OK\r\n");
    t(&mut other, "HSETNX h a 2", ":0\r\n");
    t(&mut other, "HDEL h zz", ":0\r\n");
    t(&mut c, "MULTI", "+OK\r\n");
    t(&mut c, "HGET h a", "+QUEUED\r\n");
    t(&mut c, "EXEC", "*1\r\n$1\r\n1\r\n");
    // A real one does.
    t(&mut c, "WATCH h", "+OK\r\n");
    t(&mut other, "HINCRBY h a 1", ":2\r\n");
    t(&mut c, "MULTI", "+OK\r\n");
    t(&mut c, "HGET h a", "+QUEUED\r\n");
    t(&mut c, "EXEC", "*-1\r\n");
    // Inside MULTI.
    t(&mut c, "MULTI", "+OK\r\n");
    t(&mut c, "HSET m f v", "+QUEUED\r\n");
    t(&mut c, "HINCRBYFLOAT m n 1.5", "+QUEUED\r\n");
    t(&mut c, "HGETALL m", "+QUEUED\r\n");
    t(
        &mut c,
        "EXEC",
        "*3\r\n:1\r\n$3\r\n1.5\r\n*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nn\r\n$3\r\n1.5\r\n",
    );
}

#[test]
fn copy_memory_usage_and_type() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "HSET h a 1 b 2", ":2\r\n");
    t(&mut c, "TYPE h", "+hash\r\n");
    let V::Int(small) = c.call(&["MEMORY", "USAGE", "h"]) else {
        panic!()
    };
    assert!(small > 0);
    fill(&mut c, "big", 1000);
    let V::Int(big) = c.call(&["MEMORY", "USAGE", "big"]) else {
        panic!()
    };
    let V::Int(exact) = c.call(&["MEMORY", "USAGE", "big", "SAMPLES", "0"]) else {
        panic!()
    };
    assert!(big > 20_000 && exact > 20_000, "{big} {exact}");
    if c.has_command("copy") {
        t(&mut c, "COPY big big2", ":1\r\n");
        assert_eq!(encoding(&mut c, "big2"), "hashtable");
        t(&mut c, "HLEN big2", ":1000\r\n");
        t(&mut c, "HSET big2 f1 changed", ":0\r\n");
        t(&mut c, "HGET big f1", "$2\r\nv1\r\n");
    }
    t(&mut c, "HSET h a 1", ":0\r\n");
    t(&mut c, "EXPIRE h 100", ":1\r\n");
    t(&mut c, "HSET h c 3", ":1\r\n");
    let V::Int(ttl) = c.call(&["TTL", "h"]) else {
        panic!()
    };
    assert!(ttl > 90, "a field write keeps the TTL");
}

#[test]
fn redis_crate_roundtrip() {
    let s = TestServer::start();
    let mut con = s.conn();
    let n: i64 = redis::cmd("HSET")
        .arg("rc")
        .arg(&[("a", "1"), ("b", "2")])
        .query(&mut con)
        .unwrap();
    assert_eq!(n, 2);
    let m: HashMap<String, String> = redis::cmd("HGETALL").arg("rc").query(&mut con).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m["b"], "2");
    let mut con3 = s.conn3();
    let m: HashMap<String, i64> = redis::cmd("HGETALL").arg("rc").query(&mut con3).unwrap();
    assert_eq!(m["a"], 1);
    let v: Option<String> = redis::cmd("HGET")
        .arg("rc")
        .arg("zz")
        .query(&mut con3)
        .unwrap();
    assert_eq!(v, None);
}

/// hash.tcl "Hash fuzzing", against a model, through both encodings.
#[test]
fn fuzzing_against_a_model() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut seed = 0x1234_5678_u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for size in [10usize, 512] {
        for _ in 0..3 {
            c.call(&["DEL", "hash"]);
            let mut model = BTreeMap::new();
            for _ in 0..size {
                let r = rnd();
                let field = if r % 2 == 0 {
                    format!("{}", (r >> 8) % 1024) // may be an integer
                } else {
                    format!("f{:x}", (r >> 8) % 4096)
                };
                match r % 7 {
                    0 | 1 => {
                        c.call(&["HDEL", "hash", &field]);
                        model.remove(&field);
                    }
                    _ => {
                        let value = format!("{}", (rnd() % 100_000) as i64 - 50_000);
                        c.call(&["HSET", "hash", &field, &value]);
                        model.insert(field, value);
                    }
                }
            }
            t(&mut c, "HLEN hash", &format!(":{}\r\n", model.len()));
            for (k, v) in &model {
                assert_eq!(c.call(&["HGET", "hash", k]).text(), *v);
            }
            let got: BTreeMap<_, _> = pairs(c.call(&["HGETALL", "hash"])).into_iter().collect();
            assert_eq!(got, model);
        }
    }
}

#[test]
fn hrandfield_huge_negative_count_hits_the_output_limit() {
    // Valkey stops filling the reply once the client's output buffer limit
    // closed it; a count this large must not run (or allocate) forever.
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1mb 0 0"
        ]),
        common::ok()
    );
    t(&mut c, "HSET h a 1", ":1\r\n");
    c.send(&["HRANDFIELD", "h", "-9223372036854775807"]);
    assert!(c.closed(), "the client is disconnected");
    let mut other = Client::new(&s);
    t(&mut other, "HLEN h", ":1\r\n");
}
