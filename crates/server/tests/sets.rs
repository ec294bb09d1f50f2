//! The set commands end to end, through the real server: exact reply bytes
//! in RESP2 and RESP3, every error string, the encodings (OBJECT ENCODING)
//! and their conversions, and the keyspace effects (empty keys deleted,
//! TTLs, WATCH, the dirty counter). Expected values come from Valkey's
//! tests/unit/type/set.tcl and from t_set.c.

mod common;
use common::{info_num, Client, TestServer, V};

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

/// Runs a command given as words (built by the caller).
fn call(c: &mut Client, args: &[String]) -> V {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a)
}

/// The elements of an array or set reply, as sorted strings.
#[track_caller]
fn sorted(v: V) -> Vec<String> {
    let items = match v {
        V::Arr(a) | V::Set(a) => a,
        other => panic!("not an aggregate: {other:?}"),
    };
    let mut out: Vec<String> = items.iter().map(V::text).collect();
    out.sort();
    out
}

/// The elements of an array or set reply, as strings, in order.
#[track_caller]
fn items(v: V) -> Vec<String> {
    match v {
        V::Arr(a) | V::Set(a) => a.iter().map(V::text).collect(),
        other => panic!("not an aggregate: {other:?}"),
    }
}

fn members(c: &mut Client, key: &str) -> Vec<String> {
    sorted(c.call(&["SMEMBERS", key]))
}

fn strs(words: &str) -> Vec<String> {
    let mut v: Vec<String> = words.split_whitespace().map(str::to_string).collect();
    v.sort();
    v
}

#[track_caller]
fn enc(c: &mut Client, key: &str, expected: &str) {
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", key]),
        V::Bulk(expected.as_bytes().to_vec()),
        "encoding of {key}"
    );
}

/// DEL key, then SADD of each member one at a time.
fn create_set(c: &mut Client, key: &str, entries: &[String]) {
    c.call(&["DEL", key]);
    for e in entries {
        c.call(&["SADD", key, e]);
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

fn sadd_all(c: &mut Client, key: &str, entries: impl IntoIterator<Item = String>) -> V {
    let mut args = vec!["SADD".to_string(), key.to_string()];
    args.extend(entries);
    call(c, &args)
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const POSITIVE: &str = "-ERR value is out of range, must be positive\r\n";

// ---- basics ----------------------------------------------------------------

#[test]
fn basics_in_every_encoding() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut hashtable = vec!["foo".to_string()];
    hashtable.extend((0..130).map(|i| format!("i{i:03}")));
    for (kind, init) in [
        ("listpack", vec!["foo".to_string()]),
        ("hashtable", hashtable),
    ] {
        create_set(&mut c, "myset", &init);
        enc(&mut c, "myset", kind);
        t(&mut c, "SADD myset bar", ":1\r\n");
        t(&mut c, "SADD myset bar", ":0\r\n");
        t(&mut c, "SCARD myset", &format!(":{}\r\n", init.len() + 1));
        t(&mut c, "SISMEMBER myset foo", ":1\r\n");
        t(&mut c, "SISMEMBER myset bar", ":1\r\n");
        t(&mut c, "SISMEMBER myset bla", ":0\r\n");
        t(&mut c, "SMISMEMBER myset foo", "*1\r\n:1\r\n");
        t(&mut c, "SMISMEMBER myset foo bar", "*2\r\n:1\r\n:1\r\n");
        t(&mut c, "SMISMEMBER myset foo bla", "*2\r\n:1\r\n:0\r\n");
        t(&mut c, "SMISMEMBER myset bla foo", "*2\r\n:0\r\n:1\r\n");
        let mut want = init.clone();
        want.push("bar".into());
        want.sort();
        assert_eq!(members(&mut c, "myset"), want);
    }
    create_set(&mut c, "myset", &words("17"));
    enc(&mut c, "myset", "intset");
    t(&mut c, "SADD myset 16", ":1\r\n");
    t(&mut c, "SADD myset 16", ":0\r\n");
    t(&mut c, "SCARD myset", ":2\r\n");
    t(&mut c, "SISMEMBER myset 16", ":1\r\n");
    t(&mut c, "SISMEMBER myset 18", ":0\r\n");
    t(&mut c, "SISMEMBER myset abc", ":0\r\n");
    t(&mut c, "SMISMEMBER myset 18 16", "*2\r\n:0\r\n:1\r\n");
    // An intset replies in ascending order.
    t(&mut c, "SMEMBERS myset", "*2\r\n$2\r\n16\r\n$2\r\n17\r\n");
    t(&mut c, "SADD myset -5 100000 3", ":3\r\n");
    t(
        &mut c,
        "SMEMBERS myset",
        "*5\r\n$2\r\n-5\r\n$1\r\n3\r\n$2\r\n16\r\n$2\r\n17\r\n$6\r\n100000\r\n",
    );
    // Variadic SADD.
    c.call(&["DEL", "myset"]);
    t(&mut c, "SADD myset a b c", ":3\r\n");
    t(&mut c, "SADD myset A a b c B", ":2\r\n");
    assert_eq!(members(&mut c, "myset"), strs("A a b c B"));
    // A listpack keeps insertion order.
    c.call(&["DEL", "lp"]);
    t(&mut c, "SADD lp z 1 y", ":3\r\n");
    t(
        &mut c,
        "SMEMBERS lp",
        "*3\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\ny\r\n",
    );
}

#[test]
fn missing_keys_and_arity() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "SMISMEMBER myset1 foo", "*1\r\n:0\r\n");
    t(&mut c, "SMISMEMBER myset1 foo bar", "*2\r\n:0\r\n:0\r\n");
    t(&mut c, "SMEMBERS myset1", "*0\r\n");
    t(&mut c, "SCARD myset1", ":0\r\n");
    t(&mut c, "SISMEMBER myset1 a", ":0\r\n");
    t(&mut c, "SREM myset1 a", ":0\r\n");
    t(&mut c, "SPOP myset1", "$-1\r\n");
    t(&mut c, "SPOP myset1 3", "*0\r\n");
    t(&mut c, "SRANDMEMBER myset1", "$-1\r\n");
    t(&mut c, "SRANDMEMBER myset1 100", "*0\r\n");
    t(&mut c, "SRANDMEMBER myset1 -100", "*0\r\n");
    t(&mut c, "SINTER myset1 myset2", "*0\r\n");
    t(&mut c, "SUNION myset1 myset2", "*0\r\n");
    t(&mut c, "SDIFF myset1 myset2", "*0\r\n");
    t(&mut c, "SSCAN myset1 0", "*2\r\n$1\r\n0\r\n*0\r\n");
    t(&mut c, "SMOVE myset1 myset2 a", ":0\r\n");
    for cmd in [
        "SADD k",
        "SREM k",
        "SMEMBERS",
        "SISMEMBER k",
        "SMISMEMBER k",
        "SCARD",
        "SPOP",
        "SRANDMEMBER",
        "SMOVE a b",
        "SINTER",
        "SINTERCARD 1",
        "SINTERSTORE d",
        "SUNION",
        "SUNIONSTORE d",
        "SDIFF",
        "SDIFFSTORE d",
        "SSCAN k",
    ] {
        let name = cmd.split(' ').next().unwrap_or_default().to_lowercase();
        t(
            &mut c,
            cmd,
            &format!("-ERR wrong number of arguments for '{name}' command\r\n"),
        );
    }
    t(&mut c, "SPOP k 1 2", SYNTAX);
    t(&mut c, "SRANDMEMBER k 1 2", SYNTAX);
    t(
        &mut c,
        "SINTERCARD",
        "-ERR wrong number of arguments for 'sintercard' command\r\n",
    );
}

#[test]
fn wrongtype_everywhere() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "str", "x"]);
    c.call(&["SADD", "set", "a"]);
    for cmd in [
        "SADD str a",
        "SREM str a",
        "SMEMBERS str",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SCARD str",
        "SPOP str",
        "SPOP str 2",
        "SRANDMEMBER str",
        "SRANDMEMBER str 2",
        "SMOVE str set a",
        "SMOVE set str a",
        "SINTER str",
        "SINTER nokey str",
        "SINTER set str",
        "SINTERCARD 1 str",
        "SINTERCARD 2 set str",
        "SINTERCARD 2 str noset",
        "SUNION str nokey",
        "SUNION nokey str",
        "SDIFF str nokey",
        "SDIFF set str",
        "SSCAN str 0",
        "SINTERSTORE d str",
        "SUNIONSTORE d nokey str",
        "SDIFFSTORE d str",
    ] {
        t(&mut c, cmd, WRONGTYPE);
    }
    // The failed SMOVEs changed nothing.
    assert_eq!(members(&mut c, "set"), strs("a"));
    // Argument errors come before the type check where Valkey parses first.
    t(&mut c, "SPOP str x", POSITIVE);
    t(&mut c, "SRANDMEMBER str x", NOT_INT);
    t(&mut c, "SSCAN str x", "-ERR invalid cursor\r\n");
}

// ---- encodings -------------------------------------------------------------

#[test]
fn encoding_conversions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    create_set(&mut c, "myset", &words("1 2 3"));
    enc(&mut c, "myset", "intset");
    t(&mut c, "SADD myset a", ":1\r\n");
    enc(&mut c, "myset", "listpack");
    assert_eq!(members(&mut c, "myset"), strs("1 2 3 a"));

    // A non-integer against a large intset.
    c.call(&["DEL", "myset"]);
    sadd_all(&mut c, "myset", (0..130).map(|i| i.to_string()));
    enc(&mut c, "myset", "intset");
    t(&mut c, "SADD myset a", ":1\r\n");
    enc(&mut c, "myset", "hashtable");

    // Integers beyond 64 bits are strings.
    create_set(&mut c, "myset", &words("213244124402402314402033402"));
    enc(&mut c, "myset", "listpack");
    t(
        &mut c,
        "SISMEMBER myset 213244124402402314402033402",
        ":1\r\n",
    );
    t(
        &mut c,
        "SMISMEMBER myset 213244124402402314402033402",
        "*1\r\n:1\r\n",
    );
    c.call(&["DEL", "myset"]);
    sadd_all(&mut c, "myset", (0..130).map(|i| i.to_string()));
    c.call(&["SADD", "myset", "213244124402402314402033402"]);
    enc(&mut c, "myset", "hashtable");
    t(
        &mut c,
        "SISMEMBER myset 213244124402402314402033402",
        ":1\r\n",
    );

    // Non-canonical integers are strings: no intset.
    for m in ["01", "+1", "-0", "1.0", " 1"] {
        c.call(&["DEL", "x"]);
        c.call(&["SADD", "x", m]);
        enc(&mut c, "x", "listpack");
    }
    for m in ["0", "-1", "9223372036854775807", "-9223372036854775808"] {
        c.call(&["DEL", "x"]);
        c.call(&["SADD", "x", m]);
        enc(&mut c, "x", "intset");
    }

    // A long member: hash table straight away, from intset or listpack.
    let long = "x".repeat(65);
    c.call(&["DEL", "x"]);
    c.call(&["SADD", "x", "1"]);
    c.call(&["SADD", "x", &long]);
    enc(&mut c, "x", "hashtable");
    c.call(&["DEL", "x"]);
    c.call(&["SADD", "x", "a", &"y".repeat(64)]);
    enc(&mut c, "x", "listpack");
    c.call(&["SADD", "x", &long]);
    enc(&mut c, "x", "hashtable");
    c.call(&["DEL", "x"]);
    c.call(&["SADD", "x", &long]);
    enc(&mut c, "x", "hashtable");

    // Removing never converts back.
    c.call(&["SADD", "x", "2"]);
    c.call(&["SREM", "x", &long]);
    c.call(&["SADD", "x", "1"]);
    enc(&mut c, "x", "hashtable");
}

#[test]
fn intset_and_listpack_overflow_single_and_multiple() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for mode in ["single", "multiple", "single_multiple"] {
        c.call(&["DEL", "myset"]);
        match mode {
            "single" => {
                for i in 0..512 {
                    c.call(&["SADD", "myset", &i.to_string()]);
                }
            }
            "multiple" => {
                sadd_all(&mut c, "myset", (0..512).map(|i| i.to_string()));
            }
            _ => {
                c.call(&["SADD", "myset", "1"]);
                sadd_all(&mut c, "myset", (0..512).map(|i| i.to_string()));
            }
        }
        enc(&mut c, "myset", "intset");
        t(&mut c, "SCARD myset", ":512\r\n");
        t(&mut c, "SADD myset 512", ":1\r\n");
        enc(&mut c, "myset", "hashtable");

        c.call(&["DEL", "myset"]);
        let ints = (0..127).map(|i| i.to_string());
        match mode {
            "single" => {
                c.call(&["SADD", "myset", "a"]);
                for i in ints {
                    c.call(&["SADD", "myset", &i]);
                }
            }
            "multiple" => {
                sadd_all(
                    &mut c,
                    "myset",
                    std::iter::once("a".to_string()).chain(ints),
                );
            }
            _ => {
                c.call(&["SADD", "myset", "a"]);
                sadd_all(
                    &mut c,
                    "myset",
                    std::iter::once("a".to_string()).chain(ints),
                );
            }
        }
        enc(&mut c, "myset", "listpack");
        t(&mut c, "SCARD myset", ":128\r\n");
        t(&mut c, "SADD myset b", ":1\r\n");
        enc(&mut c, "myset", "hashtable");
    }
    // SADD with more arguments than a listpack holds converts up front,
    // even when most are duplicates (Valkey sizes by argument count).
    c.call(&["DEL", "myset"]);
    c.call(&["SADD", "myset", "a"]);
    sadd_all(&mut c, "myset", std::iter::repeat_n("a".to_string(), 129));
    enc(&mut c, "myset", "hashtable");
    t(&mut c, "SCARD myset", ":1\r\n");
    c.call(&["DEL", "myset"]);
    sadd_all(&mut c, "myset", std::iter::repeat_n("1".to_string(), 513));
    enc(&mut c, "myset", "hashtable");
    c.call(&["DEL", "myset"]);
    sadd_all(&mut c, "myset", std::iter::repeat_n("1".to_string(), 512));
    enc(&mut c, "myset", "intset");
}

#[test]
fn encoding_thresholds_follow_config() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "CONFIG SET set-max-intset-entries 4", "+OK\r\n");
    t(&mut c, "CONFIG SET set-max-listpack-entries 3", "+OK\r\n");
    t(&mut c, "CONFIG SET set-max-listpack-value 5", "+OK\r\n");
    t(&mut c, "SADD i 1 2 3 4", ":4\r\n");
    enc(&mut c, "i", "intset");
    t(&mut c, "SADD i 5", ":1\r\n");
    enc(&mut c, "i", "hashtable");
    t(&mut c, "SADD l a b c", ":3\r\n");
    enc(&mut c, "l", "listpack");
    t(&mut c, "SADD l d", ":1\r\n");
    enc(&mut c, "l", "hashtable");
    t(&mut c, "SADD v abcde", ":1\r\n");
    enc(&mut c, "v", "listpack");
    t(&mut c, "SADD v abcdef", ":1\r\n");
    enc(&mut c, "v", "hashtable");
    // An intset whose integers are wider than the listpack value limit
    // goes to a hash table when a string joins.
    t(&mut c, "SADD w 123456", ":1\r\n");
    t(&mut c, "SADD w a", ":1\r\n");
    enc(&mut c, "w", "hashtable");
}

// ---- SREM ------------------------------------------------------------------

#[test]
fn srem_variants() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    create_set(&mut c, "myset", &words("foo ciao"));
    t(&mut c, "SREM myset qux", ":0\r\n");
    t(&mut c, "SREM myset ciao", ":1\r\n");
    assert_eq!(members(&mut c, "myset"), strs("foo"));
    create_set(&mut c, "myset", &words("3 4 5"));
    enc(&mut c, "myset", "intset");
    t(&mut c, "SREM myset 6", ":0\r\n");
    t(&mut c, "SREM myset x", ":0\r\n");
    t(&mut c, "SREM myset 4", ":1\r\n");
    assert_eq!(members(&mut c, "myset"), strs("3 5"));
    c.call(&["DEL", "myset"]);
    c.call(&["SADD", "myset", "a", "b", "c", "d"]);
    t(&mut c, "SREM myset k k k", ":0\r\n");
    t(&mut c, "SREM myset b d x y", ":2\r\n");
    assert_eq!(members(&mut c, "myset"), strs("a c"));
    c.call(&["DEL", "myset"]);
    c.call(&["SADD", "myset", "1", "2", "3"]);
    t(&mut c, "SREM myset 1 2 3 4 5 6 7 8", ":3\r\n");
    t(&mut c, "EXISTS myset", ":0\r\n");
    // A hash table emptied member by member is deleted too.
    c.call(&["DEL", "h"]);
    sadd_all(&mut c, "h", (0..200).map(|i| format!("m{i}")));
    let mut args = vec!["SREM".to_string(), "h".to_string()];
    args.extend((0..200).map(|i| format!("m{i}")));
    assert_eq!(call(&mut c, &args), V::Int(200));
    t(&mut c, "EXISTS h", ":0\r\n");
}

// ---- SINTER / SINTERCARD / SUNION / SDIFF and STORE -------------------------

#[test]
fn sintercard_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(
        &mut c,
        "SINTERCARD 1",
        "-ERR wrong number of arguments for 'sintercard' command\r\n",
    );
    let numkeys = "-ERR numkeys should be greater than 0\r\n";
    t(&mut c, "SINTERCARD 0 myset", numkeys);
    t(&mut c, "SINTERCARD a myset", numkeys);
    t(&mut c, "SINTERCARD -1 myset", numkeys);
    let too_many = "-ERR Number of keys can't be greater than number of args\r\n";
    t(&mut c, "SINTERCARD 2 myset", too_many);
    t(&mut c, "SINTERCARD 3 myset myset2", too_many);
    t(&mut c, "SINTERCARD 1 myset myset2", SYNTAX);
    t(&mut c, "SINTERCARD 1 myset bar_arg", SYNTAX);
    t(&mut c, "SINTERCARD 1 myset LIMIT", SYNTAX);
    t(
        &mut c,
        "SINTERCARD 1 myset LIMIT -1",
        "-ERR LIMIT can't be negative\r\n",
    );
    t(
        &mut c,
        "SINTERCARD 1 myset LIMIT a",
        "-ERR LIMIT can't be negative\r\n",
    );
    t(&mut c, "SINTERCARD 1 non-existing-key", ":0\r\n");
    t(&mut c, "SINTERCARD 1 non-existing-key limit 0", ":0\r\n");
    t(&mut c, "SINTERCARD 1 non-existing-key LIMIT 10", ":0\r\n");
    c.call(&["SADD", "a", "1", "2", "3", "x"]);
    c.call(&["SADD", "b", "2", "3", "x", "y"]);
    t(&mut c, "SINTERCARD 2 a b", ":3\r\n");
    t(&mut c, "SINTERCARD 2 a b LIMIT 2", ":2\r\n");
    t(&mut c, "SINTERCARD 2 a b limit 0 LIMIT 1", ":1\r\n");
    // COMMAND GETKEYS follows numkeys.
    assert_eq!(
        sorted(c.call(&[
            "COMMAND",
            "GETKEYS",
            "SINTERCARD",
            "2",
            "a",
            "b",
            "LIMIT",
            "1"
        ])),
        strs("a b")
    );
}

/// The sets of Valkey's "regular" / "intset" operation tests.
fn make_op_sets(c: &mut Client, large: &str) {
    for i in 1..=5 {
        c.call(&["DEL", &format!("set{i}")]);
    }
    sadd_all(c, "set1", (0..200).map(|i| i.to_string()));
    sadd_all(c, "set2", (0..200).map(|i| (i + 195).to_string()));
    sadd_all(c, "set3", words("199 195 1000 2000"));
    sadd_all(c, "set4", (5..200).map(|i| i.to_string()));
    c.call(&["SADD", "set5", "0"]);
    for i in 1..=5 {
        c.call(&["SADD", &format!("set{i}"), large]);
    }
}

#[test]
fn set_operations_regular_and_intset() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (kind, large, small_enc, big_enc) in [
        ("regular", "foo", "listpack", "hashtable"),
        ("intset", "200", "intset", "intset"),
    ] {
        make_op_sets(&mut c, large);
        for (i, e) in [
            (1, big_enc),
            (2, big_enc),
            (3, small_enc),
            (4, big_enc),
            (5, small_enc),
        ] {
            enc(&mut c, &format!("set{i}"), e);
        }
        let mut inter = words("195 196 197 198 199");
        inter.push(large.into());
        inter.sort();
        assert_eq!(sorted(c.call(&["SINTER", "set1", "set2"])), inter, "{kind}");
        t(&mut c, "SINTERCARD 2 set1 set2", ":6\r\n");
        t(&mut c, "SINTERCARD 2 set1 set2 limit 0", ":6\r\n");
        t(&mut c, "SINTERCARD 2 set1 set2 limit 3", ":3\r\n");
        t(&mut c, "SINTERCARD 2 set1 set2 limit 10", ":6\r\n");
        t(&mut c, "SINTERSTORE setres set1 set2", ":6\r\n");
        enc(&mut c, "setres", small_enc);
        assert_eq!(members(&mut c, "setres"), inter);

        let mut union: Vec<String> = members(&mut c, "set1");
        union.extend(members(&mut c, "set2"));
        union.sort();
        union.dedup();
        assert_eq!(sorted(c.call(&["SUNION", "set1", "set2"])), union);
        assert_eq!(
            c.call(&["SUNIONSTORE", "setres", "set1", "set2"]),
            V::Int(union.len() as i64)
        );
        enc(&mut c, "setres", big_enc);
        assert_eq!(members(&mut c, "setres"), union);
        assert_eq!(
            sorted(c.call(&["SUNION", "nokey1", "set1", "set2", "nokey2"])),
            union
        );

        let mut three = words("195 199");
        three.push(large.into());
        three.sort();
        assert_eq!(sorted(c.call(&["SINTER", "set1", "set2", "set3"])), three);
        t(&mut c, "SINTERCARD 3 set1 set2 set3", ":3\r\n");
        t(&mut c, "SINTERCARD 3 set1 set2 set3 limit 2", ":2\r\n");
        t(&mut c, "SINTERSTORE setres set1 set2 set3", ":3\r\n");
        assert_eq!(members(&mut c, "setres"), three);

        assert_eq!(
            sorted(c.call(&["SDIFF", "set1", "set4"])),
            strs("0 1 2 3 4")
        );
        assert_eq!(
            sorted(c.call(&["SDIFF", "set1", "set4", "set5"])),
            strs("1 2 3 4")
        );
        t(&mut c, "SDIFFSTORE setres set1 set4 set5", ":4\r\n");
        // From intsets, the result is an intset; here a small one anyway.
        enc(&mut c, "setres", "intset");
        assert_eq!(members(&mut c, "setres"), strs("1 2 3 4"));

        let all1 = members(&mut c, "set1");
        assert_eq!(sorted(c.call(&["SINTER", "set1", "set1", "set1"])), all1);
        assert_eq!(sorted(c.call(&["SUNION", "set1", "set1", "set1"])), all1);
        t(&mut c, "SDIFF set1 set1 set1", "*0\r\n");
        t(&mut c, "SDIFF set1 set4 set1", "*0\r\n");
    }
}

#[test]
fn store_destinations_get_the_smallest_encoding() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Two listpacks whose intersection is all integers: an intset.
    c.call(&["SADD", "set1", "a", "b", "c", "1", "3", "6", "x", "y", "z"]);
    c.call(&["SADD", "set2", "e", "f", "g", "1", "2", "3", "u", "v", "w"]);
    enc(&mut c, "set1", "listpack");
    enc(&mut c, "set2", "listpack");
    t(&mut c, "SINTERSTORE setres set1 set2", ":2\r\n");
    assert_eq!(members(&mut c, "setres"), strs("1 3"));
    enc(&mut c, "setres", "intset");

    // Two hash tables whose intersection is all integers: an intset.
    c.call(&["DEL", "set1", "set2"]);
    let mut expected = Vec::new();
    for i in 0..256 {
        c.call(&["SADD", "set1", &format!("set{i}")]);
        c.call(&["SADD", "set2", &format!("set{i}")]);
    }
    for i in 0..64 {
        let r = (i * 7919 % 10000).to_string();
        c.call(&["SADD", "set1", &r]);
        c.call(&["SADD", "set2", &r]);
        expected.push(r);
    }
    c.call(&["SREM", "set1", "set0"]);
    for i in 1..256 {
        c.call(&["SREM", "set1", &format!("set{i}")]);
    }
    enc(&mut c, "set1", "hashtable");
    enc(&mut c, "set2", "hashtable");
    expected.sort();
    expected.dedup();
    assert_eq!(
        c.call(&["SINTERSTORE", "setres", "set1", "set2"]),
        V::Int(expected.len() as i64)
    );
    assert_eq!(members(&mut c, "setres"), expected);
    enc(&mut c, "setres", "intset");

    // A union of two hash tables with a small result: a listpack.
    c.call(&["DEL", "h1", "h2"]);
    sadd_all(&mut c, "h1", (0..200).map(|i| format!("m{i}")));
    sadd_all(&mut c, "h2", (0..200).map(|i| format!("m{i}")));
    t(&mut c, "SDIFFSTORE r h1 h2", ":0\r\n");
    c.call(&["SREM", "h2", "m1", "m2"]);
    t(&mut c, "SDIFFSTORE r h1 h2", ":2\r\n");
    enc(&mut c, "r", "listpack");
    assert_eq!(members(&mut c, "r"), strs("m1 m2"));
    // A union of listpack and intset sources that overflows: a hash table.
    c.call(&["DEL", "l", "i"]);
    sadd_all(&mut c, "l", (0..100).map(|i| format!("s{i}")));
    sadd_all(&mut c, "i", (0..100).map(|i| i.to_string()));
    t(&mut c, "SUNIONSTORE r l i", ":200\r\n");
    enc(&mut c, "r", "hashtable");
    c.call(&["DEL", "i2"]);
    sadd_all(&mut c, "i2", (50..150).map(|i| i.to_string()));
    t(&mut c, "SUNIONSTORE r i i2", ":150\r\n");
    enc(&mut c, "r", "intset");
    // SINTER of an intset and a listpack holding the same integers.
    c.call(&["DEL", "set1", "set2"]);
    c.call(&["SADD", "set1", "a", "1", "2", "3"]);
    c.call(&["SREM", "set1", "a"]);
    c.call(&["SADD", "set2", "1", "2", "3"]);
    enc(&mut c, "set1", "listpack");
    enc(&mut c, "set2", "intset");
    assert_eq!(sorted(c.call(&["SINTER", "set1", "set2"])), strs("1 2 3"));
}

#[test]
fn store_commands_replace_delete_and_keep_dst_on_error() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for cmd in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
        c.call(&["FLUSHALL"]);
        c.call(&["SET", "key1", "x"]);
        // Errors leave a missing destination missing ...
        assert!(matches!(c.call(&[cmd, "set3", "key1", "noset"]), V::Err(_)));
        t(&mut c, "EXISTS set3", ":0\r\n");
        assert!(matches!(c.call(&[cmd, "set3", "noset", "key1"]), V::Err(_)));
        t(&mut c, "EXISTS set3", ":0\r\n");
        // ... and an existing one unchanged.
        c.call(&["SADD", "set1", "a", "b", "c", "e"]);
        c.call(&["SADD", "set2", "b", "c", "e"]);
        c.call(&["SADD", "set3", "e"]);
        let r = c.call(&[cmd, "set3", "set1", "key1", "set2"]);
        assert_eq!(
            r,
            V::Err("WRONGTYPE Operation against a key holding the wrong kind of value".into())
        );
        assert_eq!(members(&mut c, "set3"), strs("e"));
        // An empty result deletes the destination, whatever it held.
        c.call(&["SET", "setres", "xxx"]);
        t(&mut c, &format!("{cmd} setres foo111 bar222"), ":0\r\n");
        t(&mut c, "EXISTS setres", ":0\r\n");
        // The result replaces the destination and its TTL.
        c.call(&["SET", "dst", "string"]);
        c.call(&["EXPIRE", "dst", "100"]);
        let n = c.call(&[cmd, "dst", "set1", "set1"]);
        let want = if cmd == "SDIFFSTORE" { 0 } else { 4 };
        assert_eq!(n, V::Int(want));
        t(
            &mut c,
            "TTL dst",
            if want == 0 { ":-2\r\n" } else { ":-1\r\n" },
        );
    }
    // SDIFFSTORE against a missing first key / disjoint sets.
    c.call(&["FLUSHALL"]);
    c.call(&["SADD", "set1", "a", "b", "c"]);
    c.call(&["SADD", "set2", "a", "b", "c"]);
    c.call(&["SADD", "set3", "x"]);
    t(&mut c, "SDIFFSTORE set3 set1 set2", ":0\r\n");
    t(&mut c, "EXISTS set3", ":0\r\n");
    c.call(&["DEL", "set2"]);
    c.call(&["SADD", "set2", "d", "e"]);
    t(&mut c, "SDIFFSTORE set3 set1 set2", ":3\r\n");
    assert_eq!(members(&mut c, "set3"), strs("a b c"));
    t(&mut c, "SDIFFSTORE set3 nokey set1", ":0\r\n");
    t(&mut c, "EXISTS set3", ":0\r\n");
    // SDIFF with the first set bigger than the rest (both algorithms).
    c.call(&["FLUSHALL"]);
    sadd_all(&mut c, "big", (0..1000).map(|i| format!("m{i}")));
    sadd_all(&mut c, "small", (10..1000).map(|i| format!("m{i}")));
    c.call(&["SADD", "tiny", "m0", "m1"]);
    assert_eq!(
        sorted(c.call(&["SDIFF", "big", "small", "tiny"])),
        strs("m2 m3 m4 m5 m6 m7 m8 m9")
    );
    assert_eq!(
        sorted(c.call(&["SDIFF", "tiny", "big"])),
        Vec::<String>::new()
    );
    c.call(&["SADD", "tiny", "zz"]);
    assert_eq!(
        sorted(c.call(&["SDIFF", "tiny", "big", "nokey"])),
        strs("zz")
    );
}

#[test]
fn set_ops_against_random_sets_match_a_model() {
    use std::collections::BTreeSet;
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut seed = 12345u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..6 {
        let mut model: Vec<BTreeSet<String>> = Vec::new();
        for k in 0..4 {
            let key = format!("s{k}");
            c.call(&["DEL", &key]);
            let n = (next() % [5, 60, 300][round % 3]) as usize + 1;
            let mut m = BTreeSet::new();
            for _ in 0..n {
                let v = next() % 400;
                let e = if round % 2 == 0 {
                    v.to_string()
                } else {
                    format!("e{v}")
                };
                m.insert(e);
            }
            sadd_all(&mut c, &key, m.iter().cloned());
            model.push(m);
        }
        let keys = ["s0", "s1", "s2", "s3"];
        let inter: BTreeSet<String> = model[0]
            .iter()
            .filter(|e| model[1..].iter().all(|m| m.contains(*e)))
            .cloned()
            .collect();
        let union: BTreeSet<String> = model.iter().flatten().cloned().collect();
        let diff: BTreeSet<String> = model[0]
            .iter()
            .filter(|e| model[1..].iter().all(|m| !m.contains(*e)))
            .cloned()
            .collect();
        let as_vec = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>();
        let mut args: Vec<&str> = vec!["SINTER"];
        args.extend(keys);
        assert_eq!(sorted(c.call(&args)), as_vec(&inter));
        args[0] = "SUNION";
        assert_eq!(sorted(c.call(&args)), as_vec(&union));
        args[0] = "SDIFF";
        assert_eq!(sorted(c.call(&args)), as_vec(&diff));
        for (cmd, want) in [
            ("SINTERSTORE", &inter),
            ("SUNIONSTORE", &union),
            ("SDIFFSTORE", &diff),
        ] {
            let mut a: Vec<&str> = vec![cmd, "dst"];
            a.extend(keys);
            assert_eq!(c.call(&a), V::Int(want.len() as i64));
            if !want.is_empty() {
                assert_eq!(members(&mut c, "dst"), as_vec(want));
            }
        }
    }
}

// ---- SPOP ------------------------------------------------------------------

#[test]
fn spop_single_and_count() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (kind, contents) in [("listpack", "a b c"), ("intset", "1 2 3")] {
        create_set(&mut c, "myset", &words(contents));
        enc(&mut c, "myset", kind);
        let mut got: Vec<String> = (0..3).map(|_| c.call(&["SPOP", "myset"]).text()).collect();
        got.sort();
        assert_eq!(got, strs(contents));
        t(&mut c, "SCARD myset", ":0\r\n");
        t(&mut c, "EXISTS myset", ":0\r\n");

        create_set(&mut c, "myset", &words(contents));
        let mut got: Vec<String> = (0..3)
            .flat_map(|_| items(c.call(&["SPOP", "myset", "1"])))
            .collect();
        got.sort();
        assert_eq!(got, strs(contents));
        t(&mut c, "EXISTS myset", ":0\r\n");
    }
    // An integer from a mixed listpack.
    create_set(&mut c, "myset", &words("a 1 2 3 4 5 6 7"));
    enc(&mut c, "myset", "listpack");
    let a = c.call(&["SPOP", "myset"]).text();
    let b = c.call(&["SPOP", "myset"]).text();
    assert!(a.parse::<i64>().is_ok() || b.parse::<i64>().is_ok());

    let alpha = "a b c d e f g h i j k l m n o p q r s t u v w x y z";
    let ints: String = (1..=26).map(|i| format!("{i} ")).collect();
    let table = format!("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}", &alpha[2..]);
    for (kind, contents) in [
        ("listpack", alpha),
        ("intset", ints.as_str()),
        ("hashtable", table.as_str()),
    ] {
        c.call(&["CONFIG", "SET", "set-max-listpack-value", "32"]);
        create_set(&mut c, "myset", &words(contents));
        enc(&mut c, "myset", kind);
        let mut got = Vec::new();
        for n in ["11", "9", "0", "4", "1", "0", "1", "0"] {
            got.extend(items(c.call(&["SPOP", "myset", n])));
        }
        got.sort();
        assert_eq!(got, strs(contents), "{kind}");
        t(&mut c, "SCARD myset", ":0\r\n");
        c.call(&["CONFIG", "SET", "set-max-listpack-value", "64"]);
    }

    create_set(
        &mut c,
        "myset",
        &(1..=20).map(|i| i.to_string()).collect::<Vec<_>>(),
    );
    enc(&mut c, "myset", "intset");
    for (n, left) in [(1, 19), (2, 17), (3, 14), (10, 4), (10, 0), (1, 0)] {
        c.call(&["SPOP", "myset", &n.to_string()]);
        t(&mut c, "SCARD myset", &format!(":{left}\r\n"));
    }
    t(&mut c, "SPOP nonexisting_key 100", "*0\r\n");

    // Errors.
    c.call(&["SADD", "e", "a"]);
    t(&mut c, "SPOP e -1", POSITIVE);
    t(&mut c, "SPOP e x", POSITIVE);
    t(&mut c, "SPOP e 99999999999999999999", POSITIVE);
    t(&mut c, "SPOP e 0", "*0\r\n");
    t(&mut c, "SCARD e", ":1\r\n");
}

#[test]
fn spop_code_paths() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let ints: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    let mut mixed = ints.clone();
    mixed[0] = "a".into();
    for (kind, content) in [("intset", &ints), ("listpack", &mixed)] {
        let mut want = content.clone();
        want.sort();
        // Path 1: everything.
        create_set(&mut c, "myset", content);
        enc(&mut c, "myset", kind);
        assert_eq!(sorted(c.call(&["SPOP", "myset", "30"])), want);
        t(&mut c, "EXISTS myset", ":0\r\n");
        // Path 2: a few.
        create_set(&mut c, "myset", content);
        let res = items(c.call(&["SPOP", "myset", "2"]));
        assert_eq!(res.len(), 2);
        t(&mut c, "SCARD myset", ":18\r\n");
        let mut union = members(&mut c, "myset");
        union.extend(res);
        union.sort();
        assert_eq!(union, want);
        // Path 3: most.
        create_set(&mut c, "myset", content);
        let res = items(c.call(&["SPOP", "myset", "18"]));
        assert_eq!(res.len(), 18);
        t(&mut c, "SCARD myset", ":2\r\n");
        enc(&mut c, "myset", kind);
        let mut union = members(&mut c, "myset");
        union.extend(res);
        union.sort();
        assert_eq!(union, want);
    }
    // Path 3 from a hash table: the survivors become a listpack, and the
    // key keeps its TTL.
    c.call(&["DEL", "h"]);
    sadd_all(&mut c, "h", (0..300).map(|i| format!("m{i}")));
    c.call(&["EXPIRE", "h", "1000"]);
    assert_eq!(items(c.call(&["SPOP", "h", "290"])).len(), 290);
    t(&mut c, "SCARD h", ":10\r\n");
    enc(&mut c, "h", "listpack");
    t(&mut c, "TTL h", ":1000\r\n");
    // ... or an intset, when they are integers from an intset.
    c.call(&["DEL", "i"]);
    sadd_all(&mut c, "i", (0..300).map(|i| i.to_string()));
    assert_eq!(items(c.call(&["SPOP", "i", "290"])).len(), 290);
    enc(&mut c, "i", "intset");
    // A hash table of integers keeps its survivors in a listpack.
    c.call(&["DEL", "hi"]);
    sadd_all(&mut c, "hi", (0..600).map(|i| i.to_string()));
    enc(&mut c, "hi", "hashtable");
    assert_eq!(items(c.call(&["SPOP", "hi", "590"])).len(), 590);
    enc(&mut c, "hi", "listpack");
    // Path 2 on a hash table.
    c.call(&["DEL", "h"]);
    sadd_all(&mut c, "h", (0..300).map(|i| format!("m{i}")));
    let res = items(c.call(&["SPOP", "h", "100"]));
    let distinct: std::collections::HashSet<&String> = res.iter().collect();
    assert_eq!(distinct.len(), 100);
    t(&mut c, "SCARD h", ":200\r\n");
    enc(&mut c, "h", "hashtable");
}

// ---- SRANDMEMBER -----------------------------------------------------------

#[test]
fn srandmember_all_cases() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Valkey's test suite runs sets with this limit, which makes the long
    // first member of the "hashtable" case too long for a listpack.
    t(&mut c, "CONFIG SET set-max-listpack-value 32", "+OK\r\n");
    for (kind, contents) in [("listpack", "a b c"), ("intset", "1 2 3")] {
        create_set(&mut c, "myset", &words(contents));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            seen.insert(c.call(&["SRANDMEMBER", "myset"]).text());
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            strs(contents),
            "{kind}"
        );
    }
    t(&mut c, "SRANDMEMBER myset 0", "*0\r\n");
    t(&mut c, "SRANDMEMBER nonexisting_key 100", "*0\r\n");
    c.call(&["SADD", "one", "a"]);
    t(
        &mut c,
        "SRANDMEMBER one -9223372036854775808",
        "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
    );
    t(&mut c, "SRANDMEMBER one x", NOT_INT);
    t(
        &mut c,
        "SRANDMEMBER one -3",
        "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
    );
    t(&mut c, "SRANDMEMBER one 1", "*1\r\n$1\r\na\r\n");

    let names = "1 5 10 50 125 50000 33959417 4775547 65434162 12098459 427716 483706 \
        2726473884 72615637475 MARY PATRICIA LINDA BARBARA ELIZABETH JENNIFER MARIA SUSAN \
        MARGARET DOROTHY LISA NANCY KAREN BETTY HELEN SANDRA DONNA CAROL RUTH SHARON \
        MICHELLE LAURA SARAH KIMBERLY DEBORAH JESSICA SHIRLEY CYNTHIA ANGELA MELISSA \
        BRENDA AMY ANNA REBECCA VIRGINIA KATHLEEN";
    let ints: String = (0..50).map(|i| format!("{i} ")).collect();
    let table = format!(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}",
        names.trim_end_matches(" KATHLEEN")
    );
    for (kind, contents) in [
        ("listpack", names),
        ("intset", ints.as_str()),
        ("hashtable", table.as_str()),
    ] {
        let all = words(contents);
        create_set(&mut c, "myset", &all);
        enc(&mut c, "myset", kind);
        let want = strs(contents);
        assert_eq!(members(&mut c, "myset"), want);
        t(&mut c, "SRANDMEMBER myset 0", "*0\r\n");
        // Negative counts: exactly that many, repeats allowed.
        let res = items(c.call(&["SRANDMEMBER", "myset", "-100"]));
        assert_eq!(res.len(), 100);
        assert!(res.iter().all(|e| want.contains(e)));
        let res = items(c.call(&["SRANDMEMBER", "myset", "-1"]));
        assert_eq!(res.len(), 1);
        // Counts at or above the size: the whole set.
        for n in [all.len(), all.len() + 50] {
            let res = sorted(c.call(&["SRANDMEMBER", "myset", &n.to_string()]));
            assert_eq!(res, want);
        }
        // Smaller positive counts: distinct members.
        for n in [45, 30, 10, 1] {
            let res = items(c.call(&["SRANDMEMBER", "myset", &n.to_string()]));
            assert_eq!(res.len(), n, "{kind} {n}");
            let distinct: std::collections::BTreeSet<&String> = res.iter().collect();
            assert_eq!(distinct.len(), n);
            assert!(res.iter().all(|e| want.contains(e)));
        }
        // Every member shows up eventually.
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.extend(items(c.call(&["SRANDMEMBER", "myset", "10"])));
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), want, "{kind}");
    }
}

// ---- SMOVE -----------------------------------------------------------------

#[test]
fn smove_cases() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let setup = |c: &mut Client| {
        create_set(c, "myset1", &words("1 a b"));
        create_set(c, "myset2", &words("2 3 4"));
        enc(c, "myset1", "listpack");
        enc(c, "myset2", "intset");
    };
    setup(&mut c);
    // A non-integer moving into an intset converts it.
    t(&mut c, "SMOVE myset1 myset2 a", ":1\r\n");
    assert_eq!(members(&mut c, "myset1"), strs("1 b"));
    assert_eq!(members(&mut c, "myset2"), strs("2 3 4 a"));
    enc(&mut c, "myset2", "listpack");
    setup(&mut c);
    t(&mut c, "SMOVE myset1 myset2 1", ":1\r\n");
    assert_eq!(members(&mut c, "myset1"), strs("a b"));
    assert_eq!(members(&mut c, "myset2"), strs("1 2 3 4"));
    enc(&mut c, "myset2", "intset");
    setup(&mut c);
    t(&mut c, "SMOVE myset2 myset1 2", ":1\r\n");
    assert_eq!(members(&mut c, "myset1"), strs("1 2 a b"));
    assert_eq!(members(&mut c, "myset2"), strs("3 4"));
    setup(&mut c);
    t(&mut c, "SMOVE myset1 myset2 foo", ":0\r\n");
    t(&mut c, "SMOVE myset1 myset1 foo", ":0\r\n");
    assert_eq!(members(&mut c, "myset1"), strs("1 a b"));
    assert_eq!(members(&mut c, "myset2"), strs("2 3 4"));
    t(&mut c, "SMOVE noset myset2 foo", ":0\r\n");
    assert_eq!(members(&mut c, "myset2"), strs("2 3 4"));
    // To a missing destination: created with the element's encoding.
    setup(&mut c);
    c.call(&["DEL", "myset3"]);
    t(&mut c, "SMOVE myset1 myset3 a", ":1\r\n");
    assert_eq!(members(&mut c, "myset1"), strs("1 b"));
    assert_eq!(members(&mut c, "myset3"), strs("a"));
    enc(&mut c, "myset3", "listpack");
    setup(&mut c);
    c.call(&["DEL", "myset3"]);
    t(&mut c, "SMOVE myset2 myset3 2", ":1\r\n");
    assert_eq!(members(&mut c, "myset2"), strs("3 4"));
    assert_eq!(members(&mut c, "myset3"), strs("2"));
    enc(&mut c, "myset3", "intset");
    // Wrong types.
    setup(&mut c);
    c.call(&["SET", "x", "10"]);
    t(&mut c, "SMOVE x myset2 foo", WRONGTYPE);
    t(&mut c, "SMOVE myset2 x foo", WRONGTYPE);
    // A missing source wins over a wrong-type destination.
    t(&mut c, "SMOVE noset x foo", ":0\r\n");
    // Identical source and destination.
    c.call(&["DEL", "set"]);
    c.call(&["SADD", "set", "a", "b", "c"]);
    t(&mut c, "SMOVE set set b", ":1\r\n");
    t(&mut c, "SMOVE set set x", ":0\r\n");
    assert_eq!(members(&mut c, "set"), strs("a b c"));
    // Moving the last member deletes the source; a member already in the
    // destination only leaves the source.
    c.call(&["DEL", "src", "dst"]);
    c.call(&["SADD", "src", "a"]);
    c.call(&["SADD", "dst", "a"]);
    t(&mut c, "SMOVE src dst a", ":1\r\n");
    t(&mut c, "EXISTS src", ":0\r\n");
    assert_eq!(members(&mut c, "dst"), strs("a"));
}

// ---- SSCAN -----------------------------------------------------------------

#[test]
fn sscan_all_encodings_and_options() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Compact encodings: everything at once, cursor 0, COUNT ignored.
    c.call(&["SADD", "i", "3", "1", "2"]);
    t(
        &mut c,
        "SSCAN i 0 COUNT 1",
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
    );
    c.call(&["SADD", "l", "foo", "bar", "1"]);
    t(
        &mut c,
        "SSCAN l 0 MATCH f*",
        "*2\r\n$1\r\n0\r\n*1\r\n$3\r\nfoo\r\n",
    );
    t(
        &mut c,
        "SSCAN i 0 MATCH 1*",
        "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n1\r\n",
    );
    // A hash table is walked with a cursor until it comes back to 0.
    sadd_all(&mut c, "h", (0..1000).map(|i| format!("m{i}")));
    enc(&mut c, "h", "hashtable");
    let mut cursor = "0".to_string();
    let mut seen = std::collections::BTreeSet::new();
    let mut calls = 0;
    loop {
        let r = c.call(&["SSCAN", "h", &cursor, "COUNT", "20"]);
        let V::Arr(parts) = r else { panic!("{r:?}") };
        cursor = parts[0].text();
        seen.extend(items(parts[1].clone()));
        calls += 1;
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    assert!(calls > 10, "COUNT 20 over 1000 members took {calls} calls");
    // MATCH filters a full walk.
    let mut cursor = "0".to_string();
    let mut matched = Vec::new();
    loop {
        let r = c.call(&["SSCAN", "h", &cursor, "MATCH", "m9?", "COUNT", "100"]);
        let V::Arr(parts) = r else { panic!("{r:?}") };
        cursor = parts[0].text();
        matched.extend(items(parts[1].clone()));
        if cursor == "0" {
            break;
        }
    }
    matched.sort();
    let mut want: Vec<String> = (90..100).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(matched, want);
    // Errors.
    t(&mut c, "SSCAN h x", "-ERR invalid cursor\r\n");
    t(&mut c, "SSCAN h -1", "-ERR invalid cursor\r\n");
    t(&mut c, "SSCAN h 0 COUNT 0", SYNTAX);
    t(&mut c, "SSCAN h 0 COUNT x", NOT_INT);
    t(&mut c, "SSCAN h 0 MATCH", SYNTAX);
    t(&mut c, "SSCAN h 0 foo bar", SYNTAX);
    t(
        &mut c,
        "SSCAN h 0 NOVALUES",
        "-ERR NOVALUES option can only be used in HSCAN\r\n",
    );
    t(
        &mut c,
        "SSCAN h 0 NOSCORES",
        "-ERR NOSCORES option can only be used in ZSCAN\r\n",
    );
    // Options are checked only once the set was found, as in Valkey.
    t(&mut c, "SSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n");
    c.call(&["SET", "str", "x"]);
    t(&mut c, "SSCAN str 0 COUNT 0", WRONGTYPE);
}

// ---- RESP3 -----------------------------------------------------------------

#[test]
fn resp3_reply_shapes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.hello3();
    c.call(&["SADD", "i", "1", "2"]);
    c.call(&["SADD", "j", "2", "3"]);
    t(&mut c, "SMEMBERS i", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    t(&mut c, "SMEMBERS nokey", "~0\r\n");
    t(&mut c, "SINTER i j", "~1\r\n$1\r\n2\r\n");
    t(&mut c, "SINTER i nokey", "~0\r\n");
    t(
        &mut c,
        "SUNION i j",
        "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
    );
    t(&mut c, "SDIFF i j", "~1\r\n$1\r\n1\r\n");
    t(&mut c, "SUNION nokey", "~0\r\n");
    t(&mut c, "SMISMEMBER i 1 5", "*2\r\n:1\r\n:0\r\n");
    t(&mut c, "SISMEMBER i 1", ":1\r\n");
    t(&mut c, "SPOP nokey", "_\r\n");
    t(&mut c, "SPOP nokey 2", "~0\r\n");
    t(&mut c, "SPOP i 0", "~0\r\n");
    t(&mut c, "SRANDMEMBER nokey", "_\r\n");
    t(&mut c, "SRANDMEMBER nokey 2", "*0\r\n");
    t(&mut c, "SRANDMEMBER i 5", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    t(
        &mut c,
        "SSCAN i 0",
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n",
    );
    let r = c.call(&["SPOP", "j", "1"]);
    assert!(matches!(&r, V::Set(v) if v.len() == 1), "{r:?}");
    t(&mut c, "SPOP i 5", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n");
    t(&mut c, "EXISTS i", ":0\r\n");
    // RESP2 for comparison.
    let mut c2 = Client::new(&s);
    c2.call(&["SADD", "k", "7"]);
    t(&mut c2, "SMEMBERS k", "*1\r\n$1\r\n7\r\n");
    t(&mut c2, "SPOP k 3", "*1\r\n$1\r\n7\r\n");
}

// ---- keyspace effects ------------------------------------------------------

#[test]
fn dirty_watch_ttl_and_stats() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let dirty = |c: &mut Client| -> i64 {
        info_num(&c.info(&["persistence"]), "rdb_changes_since_last_save").unwrap_or(-1)
    };
    let d0 = dirty(&mut c);
    t(&mut c, "SADD s a b c", ":3\r\n");
    assert_eq!(dirty(&mut c), d0 + 3);
    t(&mut c, "SADD s a b", ":0\r\n");
    assert_eq!(dirty(&mut c), d0 + 3);
    t(&mut c, "SREM s a x", ":1\r\n");
    assert_eq!(dirty(&mut c), d0 + 4);
    t(&mut c, "SREM s x", ":0\r\n");
    assert_eq!(dirty(&mut c), d0 + 4);
    c.call(&["SPOP", "s", "5"]);
    assert_eq!(dirty(&mut c), d0 + 6);

    // WATCH sees real changes only.
    c.call(&["SADD", "w", "a"]);
    let mut other = Client::new(&s);
    for (cmd, changes) in [
        (vec!["SADD", "w", "a"], false),
        (vec!["SREM", "w", "zz"], false),
        (vec!["SMOVE", "w", "w2", "zz"], false),
        (vec!["SINTERSTORE", "w", "nokey"], true),
    ] {
        c.call(&["SADD", "w", "a"]);
        assert_eq!(c.call(&["WATCH", "w"]), V::Simple("OK".into()));
        other.call(&cmd);
        c.call(&["MULTI"]);
        c.call(&["PING"]);
        let r = c.call(&["EXEC"]);
        assert_eq!(r == V::NilArray, changes, "{cmd:?}: {r:?}");
    }
    c.call(&["SADD", "w", "a"]);
    c.call(&["WATCH", "w"]);
    other.call(&["SADD", "w", "new"]);
    c.call(&["MULTI"]);
    c.call(&["PING"]);
    assert_eq!(c.call(&["EXEC"]), V::NilArray);

    // SADD / SREM keep the TTL.
    c.call(&["DEL", "t"]);
    c.call(&["SADD", "t", "a", "b"]);
    c.call(&["EXPIRE", "t", "100"]);
    c.call(&["SADD", "t", "c"]);
    c.call(&["SREM", "t", "a"]);
    t(&mut c, "TTL t", ":100\r\n");
    // An expired set is a missing one.
    c.call(&["DEL", "gone"]);
    c.call(&["SADD", "gone", "a"]);
    c.call(&["PEXPIRE", "gone", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    t(&mut c, "SCARD gone", ":0\r\n");
    t(&mut c, "SINTER gone", "*0\r\n");
    t(&mut c, "SMOVE gone x a", ":0\r\n");

    // Reads count hits and misses per key.
    let stats = |c: &mut Client| {
        let info = c.info(&["stats"]);
        (
            info_num::<i64>(&info, "keyspace_hits").unwrap_or(-1),
            info_num::<i64>(&info, "keyspace_misses").unwrap_or(-1),
        )
    };
    c.call(&["SADD", "hit", "a"]);
    let (h0, m0) = stats(&mut c);
    c.call(&["SUNION", "hit", "miss1", "hit", "miss2"]);
    let (h1, m1) = stats(&mut c);
    assert_eq!((h1 - h0, m1 - m0), (2, 2));
    c.call(&["SADD", "hit", "b"]);
    let (h2, m2) = stats(&mut c);
    assert_eq!((h2 - h1, m2 - m1), (0, 0));
}

#[test]
fn command_table_entries() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let info = c.call(&[
        "COMMAND",
        "INFO",
        "sadd",
        "sintercard",
        "smove",
        "sinterstore",
    ]);
    let V::Arr(entries) = info else {
        panic!("{info:?}")
    };
    let head = |e: &V| match e {
        V::Arr(f) => (
            f[0].text(),
            f[1].clone(),
            f[3].clone(),
            f[4].clone(),
            f[5].clone(),
        ),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        head(&entries[0]),
        ("sadd".into(), V::Int(-3), V::Int(1), V::Int(1), V::Int(1))
    );
    assert_eq!(
        head(&entries[1]),
        (
            "sintercard".into(),
            V::Int(-3),
            V::Int(0),
            V::Int(0),
            V::Int(0)
        )
    );
    assert_eq!(
        head(&entries[2]),
        ("smove".into(), V::Int(4), V::Int(1), V::Int(2), V::Int(1))
    );
    assert_eq!(
        head(&entries[3]),
        (
            "sinterstore".into(),
            V::Int(-3),
            V::Int(1),
            V::Int(-1),
            V::Int(1)
        )
    );
}

#[test]
fn keyspace_notifications() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut sub = Client::new(&s);
    t(&mut c, "CONFIG SET notify-keyspace-events EA", "+OK\r\n");
    assert!(matches!(
        sub.call(&["PSUBSCRIBE", "__keyevent@0__:*"]),
        V::Arr(_)
    ));
    for line in [
        "SADD s a b",
        "SADD s a",
        "SREM s zz",
        "SREM s a",
        "SREM s b",
        "SADD s 1 2 3",
        "SPOP s",
        "SPOP s 0",
        "SPOP s 5",
        "SADD a x",
        "SMOVE a b x",
        "SMOVE nokey b x",
        "SINTERSTORE d b",
        "SUNIONSTORE d nokey",
        "SUNIONSTORE d nokey",
        "SDIFFSTORE d b",
        "SADD s2 1 2 3 4 5 6 7 8 9 10",
        "SPOP s2 9",
    ] {
        c.cmd_raw(line);
    }
    let expected = [
        ("sadd", "s"),
        ("srem", "s"),
        ("srem", "s"),
        ("del", "s"),
        ("sadd", "s"),
        ("spop", "s"),
        ("spop", "s"),
        ("del", "s"),
        ("sadd", "a"),
        ("srem", "a"),
        ("del", "a"),
        ("sadd", "b"),
        ("sinterstore", "d"),
        ("del", "d"),
        ("sdiffstore", "d"),
        ("sadd", "s2"),
        ("spop", "s2"),
    ];
    for (event, key) in expected {
        let msg = sub.read();
        let V::Arr(parts) = msg else {
            panic!("{msg:?}")
        };
        assert_eq!(
            (parts[2].text(), parts[3].text()),
            (format!("__keyevent@0__:{event}"), key.to_string())
        );
    }
    assert!(sub.silent_for(100));
}

/// A pipeline is prefetched as a batch before it runs: its keys, then the
/// members its commands name in big sets, hashes and sorted sets. That is
/// a hint only: the replies are those of the commands run one by one,
/// also when a command in the batch deletes the collection the next ones
/// name, or the argument after the key is not a member (ZADD's score).
#[test]
fn pipelined_commands_on_big_collections_reply_as_run_one_by_one() {
    let s = TestServer::start();
    let mut con = s.conn();
    let mut p = redis::pipe();
    // Past every default listpack limit (hashes: 512 entries).
    for i in 0..600 {
        p.cmd("SADD").arg("s").arg(format!("m{i}")).ignore();
        p.cmd("HSET").arg("h").arg(format!("f{i}")).arg(i).ignore();
        p.cmd("ZADD").arg("z").arg(i).arg(format!("m{i}")).ignore();
    }
    let () = p.query(&mut con).unwrap();
    let mut p = redis::pipe();
    p.cmd("SISMEMBER").arg("s").arg("m5");
    p.cmd("SADD").arg("s").arg("new");
    p.cmd("SISMEMBER").arg("s").arg("new");
    p.cmd("HGET").arg("h").arg("f7");
    p.cmd("ZSCORE").arg("z").arg("m9");
    p.cmd("ZADD").arg("z").arg("1.5").arg("m9");
    p.cmd("ZSCORE").arg("z").arg("m9");
    p.cmd("DEL").arg("s");
    p.cmd("SISMEMBER").arg("s").arg("m5");
    p.cmd("SADD").arg("s").arg("m5");
    p.cmd("SET").arg("str").arg("v");
    p.cmd("HGET").arg("nokey").arg("f");
    p.cmd("SCARD").arg("s");
    p.cmd("OBJECT").arg("ENCODING").arg("s");
    p.cmd("OBJECT").arg("ENCODING").arg("h");
    p.cmd("OBJECT").arg("ENCODING").arg("z");
    let got: Vec<Option<String>> = p.query(&mut con).unwrap();
    let want = [
        Some("1"),
        Some("1"),
        Some("1"),
        Some("7"),
        Some("9"),
        Some("0"),
        Some("1.5"),
        Some("1"),
        Some("0"),
        Some("1"),
        Some("OK"),
        None,
        Some("1"),
        Some("listpack"),
        Some("hashtable"),
        Some("skiplist"),
    ];
    let want: Vec<Option<String>> = want.iter().map(|w| w.map(str::to_owned)).collect();
    assert_eq!(got, want);
}
