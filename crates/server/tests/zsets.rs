//! The sorted set commands end to end, through the real server: exact reply
//! bytes in RESP2 and RESP3, every error string, the encodings (OBJECT
//! ENCODING) and their conversions, blocking pops, and the keyspace effects
//! (empty keys deleted, WRONGTYPE, the dirty counter). Expected values come
//! from Valkey's tests/unit/type/zset.tcl and from t_zset.c.

mod common;
use common::{bulk, int, Client, TestServer, V};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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

/// The texts of a flat array reply.
#[track_caller]
fn items(v: V) -> Vec<String> {
    match v {
        V::Arr(a) => a.iter().map(V::text).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[track_caller]
fn list(c: &mut Client, line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    items(c.call(&words)).join(" ")
}

#[track_caller]
fn enc(c: &mut Client, key: &str, expected: &str) {
    assert_eq!(
        c.call(&["OBJECT", "ENCODING", key]),
        bulk(expected),
        "encoding of {key}"
    );
}

/// DEL key, then one ZADD per pair of `score member ...`.
fn create_zset(c: &mut Client, key: &str, items: &str) {
    c.call(&["DEL", key]);
    let w: Vec<&str> = items.split_whitespace().collect();
    for p in w.chunks(2) {
        c.call(&["ZADD", key, p[0], p[1]]);
    }
}

fn set_encoding(c: &mut Client, encoding: &str) {
    let (entries, value) = if encoding == "listpack" {
        ("128", "64")
    } else {
        ("0", "0")
    };
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", entries]);
    c.call(&["CONFIG", "SET", "zset-max-listpack-value", value]);
}

fn arity(name: &str) -> String {
    format!("-ERR wrong number of arguments for '{name}' command\r\n")
}

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
const NAN: &str = "-ERR resulting score is not a number (NaN)\r\n";
const MINMAX: &str = "-ERR min or max is not a float\r\n";
const LEXERR: &str = "-ERR min or max not valid string range item\r\n";

// ---- ZADD and friends, in both encodings -------------------------------------

#[test]
fn zadd_options_in_both_encodings() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for encoding in ["listpack", "skiplist"] {
        set_encoding(&mut c, encoding);
        c.call(&["DEL", "ztmp"]);
        t(&mut c, "ZADD ztmp 10 x", ":1\r\n");
        enc(&mut c, "ztmp", encoding);
        t(&mut c, "ZADD ztmp 20 y 30 z", ":2\r\n");
        assert_eq!(list(&mut c, "ZRANGE ztmp 0 -1"), "x y z");
        t(&mut c, "ZADD ztmp 1 y", ":0\r\n");
        assert_eq!(list(&mut c, "ZRANGE ztmp 0 -1"), "y x z");

        t(&mut c, "ZADD myzset nan abc", NOT_FLOAT);
        t(&mut c, "ZINCRBY myzset nan abc", NOT_FLOAT);
        t(&mut c, "ZADD myzset 1 a 2", SYNTAX);
        t(&mut c, "ZADD myzset NX 1", SYNTAX);
        t(&mut c, "ZADD myzset 1", &arity("zadd"));
        t(&mut c, "ZADD myzset 10 a 20 b 30", SYNTAX);

        // XX
        c.call(&["DEL", "ztmp"]);
        t(&mut c, "ZADD ztmp xx 10 x 20 y", ":0\r\n");
        t(&mut c, "EXISTS ztmp", ":0\r\n");
        t(&mut c, "ZADD ztmp 10 x", ":1\r\n");
        t(&mut c, "ZADD ztmp xx 20 y", ":0\r\n");
        t(&mut c, "ZCARD ztmp", ":1\r\n");
        t(&mut c, "ZADD ztmp 10 x 20 y 30 z", ":2\r\n");
        t(&mut c, "ZADD ztmp xx ch 5 x 11 y 21 zz", ":2\r\n");
        t(&mut c, "ZSCORE ztmp x", "$1\r\n5\r\n");
        t(&mut c, "ZSCORE ztmp zz", "$-1\r\n");
        // GT / LT, with XX
        create_zset(&mut c, "ztmp", "10 x 20 y 30 z");
        t(&mut c, "ZADD ztmp gt ch 5 foo 11 x 21 y 29 z", ":3\r\n");
        assert_eq!(
            list(&mut c, "ZRANGE ztmp 0 -1 WITHSCORES"),
            "foo 5 x 11 y 21 z 30"
        );
        create_zset(&mut c, "ztmp", "10 x 20 y 30 z");
        t(&mut c, "ZADD ztmp lt ch 5 foo 11 x 21 y 29 z", ":2\r\n");
        assert_eq!(
            list(&mut c, "ZRANGE ztmp 0 -1 WITHSCORES"),
            "foo 5 x 10 y 20 z 29"
        );
        create_zset(&mut c, "ztmp", "10 x 20 y 30 z");
        t(&mut c, "ZADD ztmp gt xx ch 5 foo 11 x 21 y 29 z", ":2\r\n");
        t(&mut c, "ZCARD ztmp", ":3\r\n");
        t(&mut c, "ZADD ztmp lt xx ch 5 foo 11 x 21 y 29 z", ":1\r\n");
        // Incompatible options.
        t(
            &mut c,
            "ZADD ztmp xx nx 10 x",
            "-ERR XX and NX options at the same time are not compatible\r\n",
        );
        for opts in ["gt nx", "lt nx", "lt gt"] {
            t(
                &mut c,
                &format!("ZADD ztmp {opts} 10 x"),
                "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n",
            );
        }
        t(
            &mut c,
            "ZADD ztmp INCR 15 x 10 y",
            "-ERR INCR option supports a single increment-element pair\r\n",
        );
        // NX
        c.call(&["DEL", "ztmp"]);
        t(&mut c, "ZADD ztmp nx 10 x 20 y 30 z", ":3\r\n");
        t(&mut c, "ZADD ztmp nx 11 x 21 y 100 a 200 b", ":2\r\n");
        t(&mut c, "ZSCORE ztmp x", "$2\r\n10\r\n");
        // INCR with LT/GT replies nil when nothing changes.
        create_zset(&mut c, "ztmp", "28 x");
        t(&mut c, "ZADD ztmp lt incr 1 x", "$-1\r\n");
        t(&mut c, "ZADD ztmp gt incr -1 x", "$-1\r\n");
        t(&mut c, "ZADD ztmp gt incr 1 x", "$2\r\n29\r\n");
        t(&mut c, "ZADD ztmp xx incr 1 nosuch", "$-1\r\n");
        t(&mut c, "ZADD ztmp nx incr 1 x", "$-1\r\n");
        c.call(&["DEL", "ztmp"]);
        t(&mut c, "ZADD ztmp +inf x -inf y", ":2\r\n");
        for line in [
            "ZADD ztmp lt incr 1 x",
            "ZADD ztmp gt incr -1 x",
            "ZADD ztmp lt incr -1 x",
            "ZADD ztmp gt incr 1 x",
        ] {
            t(&mut c, line, "$-1\r\n");
        }
        t(&mut c, "ZSCORE ztmp x", "$3\r\ninf\r\n");
        t(&mut c, "ZSCORE ztmp y", "$4\r\n-inf\r\n");
        // INCR like ZINCRBY; CH counts updates.
        create_zset(&mut c, "ztmp", "10 x 20 y 30 z");
        t(&mut c, "ZADD ztmp INCR 15 x", "$2\r\n25\r\n");
        t(&mut c, "ZADD ztmp 11 x 21 y 30 z", ":0\r\n");
        t(&mut c, "ZADD ztmp ch 12 x 22 y 30 z", ":2\r\n");
        // NaN from an increment.
        c.call(&["DEL", "myzset"]);
        t(&mut c, "ZINCRBY myzset +inf abc", "$3\r\ninf\r\n");
        t(&mut c, "ZINCRBY myzset -inf abc", NAN);
        t(&mut c, "ZADD myzset INCR -inf abc", NAN);
        t(&mut c, "ZINCRBY myzset v abc", NOT_FLOAT);
        t(&mut c, "ZINCRBY myzset 1 abc 2", &arity("zincrby"));
        // Nothing is added when a later score is invalid.
        c.call(&["DEL", "myzset"]);
        t(&mut c, "ZADD myzset 10 a 20 b 30.badscore c", NOT_FLOAT);
        t(&mut c, "EXISTS myzset", ":0\r\n");
        // ZINCRBY.
        c.call(&["DEL", "zset"]);
        t(&mut c, "ZINCRBY zset 1 foo", "$1\r\n1\r\n");
        t(&mut c, "ZINCRBY zset 2 foo", "$1\r\n3\r\n");
        t(&mut c, "ZINCRBY zset -5 foo", "$2\r\n-2\r\n");
        t(&mut c, "ZINCRBY zset 0.5 foo", "$4\r\n-1.5\r\n");
        t(&mut c, "ZINCRBY zset 1e300 bar", "$6\r\n1e+300\r\n");
        t(&mut c, "ZINCRBY zset 0.1 baz", "$3\r\n0.1\r\n");
        t(
            &mut c,
            "ZINCRBY zset 0.2 baz",
            "$19\r\n0.30000000000000004\r\n",
        );
    }
}

#[test]
fn zrem_zcard_zscore_and_key_deletion() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for encoding in ["listpack", "skiplist"] {
        set_encoding(&mut c, encoding);
        c.call(&["DEL", "ztmp"]);
        t(&mut c, "ZADD ztmp 10 a 20 b 30 c", ":3\r\n");
        t(&mut c, "ZCARD ztmp", ":3\r\n");
        t(&mut c, "ZCARD zdoesntexist", ":0\r\n");
        t(&mut c, "ZREM ztmp x", ":0\r\n");
        t(&mut c, "ZREM ztmp a x b", ":2\r\n");
        t(&mut c, "ZREM ztmp c", ":1\r\n");
        t(&mut c, "EXISTS ztmp", ":0\r\n");
        create_zset(&mut c, "ztmp", "10 a 20 b 30 c");
        t(&mut c, "ZREM ztmp b c a x y", ":3\r\n");
        t(&mut c, "EXISTS ztmp", ":0\r\n");
        t(&mut c, "ZREM ztmp a", ":0\r\n");

        create_zset(&mut c, "zscoretest", "1 x -1.5 y 0.1 z 1e17 w -0 v");
        t(&mut c, "ZSCORE zscoretest x", "$1\r\n1\r\n");
        t(&mut c, "ZSCORE zscoretest y", "$4\r\n-1.5\r\n");
        t(&mut c, "ZSCORE zscoretest z", "$3\r\n0.1\r\n");
        t(
            &mut c,
            "ZSCORE zscoretest w",
            "$18\r\n100000000000000000\r\n",
        );
        // The listpack stores -0 as the integer 0; the skiplist keeps -0.
        let zero = if encoding == "listpack" {
            "$1\r\n0\r\n"
        } else {
            "$2\r\n-0\r\n"
        };
        t(&mut c, "ZSCORE zscoretest v", zero);
        t(&mut c, "ZSCORE zscoretest nosuch", "$-1\r\n");
        t(&mut c, "ZSCORE nosuchkey x", "$-1\r\n");
        t(
            &mut c,
            "ZMSCORE zscoretest x nosuch y",
            "*3\r\n$1\r\n1\r\n$-1\r\n$4\r\n-1.5\r\n",
        );
        t(&mut c, "ZMSCORE nosuchkey a b", "*2\r\n$-1\r\n$-1\r\n");
        t(&mut c, "ZMSCORE zscoretest", &arity("zmscore"));
    }
}

#[test]
fn zrange_zrevrange_and_ranks() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for encoding in ["listpack", "skiplist"] {
        set_encoding(&mut c, encoding);
        create_zset(&mut c, "ztmp", "1 a 2 b 3 c 4 d");
        for (range, want) in [
            ("0 -1", "a b c d"),
            ("0 -2", "a b c"),
            ("1 -1", "b c d"),
            ("1 -2", "b c"),
            ("-2 -1", "c d"),
            ("-2 -2", "c"),
            ("-5 2", "a b c"),
            ("0 5", "a b c d"),
            ("5 -1", ""),
            ("5 10", ""),
            ("0 -5", ""),
            ("1 0", ""),
        ] {
            assert_eq!(
                list(&mut c, &format!("ZRANGE ztmp {range}")),
                want,
                "{range}"
            );
        }
        for (range, want) in [
            ("0 -1", "d c b a"),
            ("1 -2", "c b"),
            ("-5 1", "d c"),
            ("-1 -1", "a"),
            ("5 10", ""),
        ] {
            assert_eq!(
                list(&mut c, &format!("ZREVRANGE ztmp {range}")),
                want,
                "{range}"
            );
        }
        t(
            &mut c,
            "ZRANGE ztmp 0 -1 withscores",
            "*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n",
        );
        assert_eq!(list(&mut c, "ZREVRANGE ztmp 0 1 WITHSCORES"), "d 4 c 3");
        assert_eq!(list(&mut c, "ZRANGE ztmp 1 2 REV"), "c b");
        t(&mut c, "ZRANGE nosuch 0 -1", "*0\r\n");
        t(&mut c, "ZRANGE ztmp a 1", NOT_INT);

        create_zset(&mut c, "zranktmp", "10 x 20 y 30 z");
        t(&mut c, "ZRANK zranktmp x", ":0\r\n");
        t(&mut c, "ZRANK zranktmp z", ":2\r\n");
        t(&mut c, "ZREVRANK zranktmp x", ":2\r\n");
        t(&mut c, "ZREVRANK zranktmp z", ":0\r\n");
        t(&mut c, "ZRANK zranktmp foo", "$-1\r\n");
        t(
            &mut c,
            "ZRANK zranktmp x withscore",
            "*2\r\n:0\r\n$2\r\n10\r\n",
        );
        t(
            &mut c,
            "ZREVRANK zranktmp y WITHSCORE",
            "*2\r\n:1\r\n$2\r\n20\r\n",
        );
        t(&mut c, "ZRANK zranktmp foo withscore", "*-1\r\n");
        t(&mut c, "ZRANK nosuch foo withscore", "*-1\r\n");
        t(&mut c, "ZRANK nosuch foo", "$-1\r\n");
        t(&mut c, "ZRANK zranktmp x withscores", SYNTAX);
        t(&mut c, "ZRANK zranktmp x withscore foo", &arity("zrank"));
        t(
            &mut c,
            "ZREVRANK zranktmp x withscore foo",
            &arity("zrevrank"),
        );
        c.call(&["ZREM", "zranktmp", "y"]);
        t(&mut c, "ZRANK zranktmp z", ":1\r\n");
    }
}

#[test]
fn score_ranges_limits_and_counts() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for encoding in ["listpack", "skiplist"] {
        set_encoding(&mut c, encoding);
        let dflt = "-inf a 1 b 2 c 3 d 4 e 5 f +inf g";
        create_zset(&mut c, "zset", dflt);
        for (cmd, want) in [
            ("ZRANGEBYSCORE zset -inf 2", "a b c"),
            ("ZRANGEBYSCORE zset 0 3", "b c d"),
            ("ZRANGEBYSCORE zset 3 6", "d e f"),
            ("ZRANGEBYSCORE zset 4 +inf", "e f g"),
            ("ZREVRANGEBYSCORE zset 2 -inf", "c b a"),
            ("ZREVRANGEBYSCORE zset 3 0", "d c b"),
            ("ZREVRANGEBYSCORE zset +inf 4", "g f e"),
            ("ZRANGEBYSCORE zset (-inf (2", "b"),
            ("ZRANGEBYSCORE zset (0 (3", "b c"),
            ("ZRANGEBYSCORE zset (4 (+inf", "f"),
            ("ZREVRANGEBYSCORE zset (3 (0", "c b"),
            ("ZREVRANGEBYSCORE zset (+inf (4", "f"),
            ("ZRANGEBYSCORE zset 4 2", ""),
            ("ZRANGEBYSCORE zset 2 (2", ""),
            ("ZRANGEBYSCORE zset (2 2", ""),
            ("ZRANGEBYSCORE zset 2.4 2.6", ""),
            ("ZRANGEBYSCORE zset 0 3 WITHSCORES", "b 1 c 2 d 3"),
            ("ZREVRANGEBYSCORE zset 3 0 WITHSCORES", "d 3 c 2 b 1"),
            ("ZRANGEBYSCORE zset 0 10 LIMIT 0 2", "b c"),
            ("ZRANGEBYSCORE zset 0 10 LIMIT 2 3", "d e f"),
            ("ZRANGEBYSCORE zset 0 10 LIMIT 2 10", "d e f"),
            ("ZRANGEBYSCORE zset 0 10 LIMIT 20 10", ""),
            ("ZRANGEBYSCORE zset 0 10 LIMIT 2 -1", "d e f"),
            ("ZRANGEBYSCORE zset 0 10 LIMIT 2 0", ""),
            ("ZRANGEBYSCORE zset 0 10 LIMIT -1 2", ""),
            ("ZREVRANGEBYSCORE zset 10 0 LIMIT 0 2", "f e"),
            ("ZREVRANGEBYSCORE zset 10 0 LIMIT 2 3", "d c b"),
            ("ZREVRANGEBYSCORE zset 10 0 LIMIT 20 10", ""),
            ("ZRANGEBYSCORE zset 2 5 LIMIT 2 3 WITHSCORES", "e 4 f 5"),
            ("ZREVRANGEBYSCORE zset 5 2 LIMIT 2 3 WITHSCORES", "d 3 c 2"),
            ("ZRANGE zset (1 5 BYSCORE", "c d e f"),
            ("ZRANGE zset 5 (1 BYSCORE REV LIMIT 0 2", "f e"),
            ("ZRANGE zset 5 (1 REV BYSCORE WITHSCORES", "f 5 e 4 d 3 c 2"),
        ] {
            assert_eq!(list(&mut c, cmd), want, "{cmd}");
        }
        t(&mut c, "ZCOUNT zset 0 3", ":3\r\n");
        t(&mut c, "ZCOUNT zset (0 (3", ":2\r\n");
        t(&mut c, "ZCOUNT zset -inf +inf", ":7\r\n");
        t(&mut c, "ZCOUNT zset 3 1", ":0\r\n");
        t(&mut c, "ZCOUNT nosuch 0 1", ":0\r\n");
        t(&mut c, "ZRANGEBYSCORE fooz str 1", MINMAX);
        t(&mut c, "ZRANGEBYSCORE fooz 1 str", MINMAX);
        t(&mut c, "ZRANGEBYSCORE fooz 1 NaN", MINMAX);
        t(&mut c, "ZCOUNT fooz (1x 2", MINMAX);
        t(&mut c, "ZRANGEBYSCORE zset 0 1 LIMIT a 1", NOT_INT);
        t(&mut c, "ZRANGEBYSCORE zset 0 1 LIMIT 0", SYNTAX);
        t(&mut c, "ZRANGEBYSCORE zset 0 1 WITHSCORES foo", SYNTAX);
        // strtod quirks: empty text is 0, "(" alone is an exclusive 0.
        create_zset(&mut c, "z0", "-1 a 0 b 1 c");
        assert_eq!(list(&mut c, "ZRANGEBYSCORE z0  "), "b");
        t(&mut c, "ZCOUNT z0 ( 1", ":1\r\n");

        // Long sets: offsets past the first leaves.
        c.call(&["DEL", "zset"]);
        let mut args = vec!["ZADD".to_string(), "zset".to_string()];
        for i in 0..30 {
            args.push(i.to_string());
            args.push(format!("i{i}"));
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        c.call(&a);
        for (cmd, want) in [
            ("ZRANGEBYSCORE zset 0 20 LIMIT 12 3", "i12 i13 i14"),
            ("ZRANGEBYSCORE zset 0 30 LIMIT 19 3", "i19 i20 i21"),
            ("ZRANGEBYSCORE zset 10 30 LIMIT 19 2", "i29"),
            ("ZREVRANGEBYSCORE zset 30 10 LIMIT 12 3", "i17 i16 i15"),
            ("ZREVRANGEBYSCORE zset 20 0 LIMIT 18 5", "i2 i1 i0"),
            ("ZREVRANGEBYSCORE zset 20 0 LIMIT 20 5", "i0"),
        ] {
            assert_eq!(list(&mut c, cmd), want, "{cmd}");
        }
    }
}

#[test]
fn lex_ranges() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for encoding in ["listpack", "skiplist"] {
        set_encoding(&mut c, encoding);
        let lex = "0 alpha 0 bar 0 cool 0 down 0 elephant 0 foo 0 great 0 hill 0 omega";
        create_zset(&mut c, "zset", lex);
        for (cmd, want) in [
            ("ZRANGEBYLEX zset - [cool", "alpha bar cool"),
            ("ZRANGEBYLEX zset [bar [down", "bar cool down"),
            ("ZRANGEBYLEX zset [g +", "great hill omega"),
            ("ZREVRANGEBYLEX zset [cool -", "cool bar alpha"),
            ("ZREVRANGEBYLEX zset [down [bar", "down cool bar"),
            (
                "ZREVRANGEBYLEX zset + [d",
                "omega hill great foo elephant down",
            ),
            ("ZRANGEBYLEX zset - (cool", "alpha bar"),
            ("ZRANGEBYLEX zset (bar (down", "cool"),
            ("ZRANGEBYLEX zset (great +", "hill omega"),
            ("ZREVRANGEBYLEX zset (cool -", "bar alpha"),
            ("ZREVRANGEBYLEX zset + (great", "omega hill"),
            ("ZRANGEBYLEX zset (az (b", ""),
            ("ZRANGEBYLEX zset (z +", ""),
            ("ZRANGEBYLEX zset - [aaaa", ""),
            ("ZREVRANGEBYLEX zset [elez [elex", ""),
            ("ZREVRANGEBYLEX zset (hill (omega", ""),
            ("ZRANGEBYLEX zset - [cool LIMIT 1 2", "bar cool"),
            ("ZRANGEBYLEX zset [bar [down LIMIT 0 0", ""),
            ("ZRANGEBYLEX zset [bar [down LIMIT 1 1", "cool"),
            ("ZREVRANGEBYLEX zset + [d LIMIT 2 3", "great foo elephant"),
            ("ZRANGE zset [bar [down BYLEX", "bar cool down"),
            ("ZRANGE zset [down [bar BYLEX REV LIMIT 1 5", "cool bar"),
        ] {
            assert_eq!(list(&mut c, cmd), want, "{cmd}");
        }
        for (range, n) in [
            ("- +", 9),
            ("+ -", 0),
            ("+ [c", 0),
            ("[c -", 0),
            ("[bar +", 8),
            ("[bar [foo", 5),
            ("[bar (foo", 4),
            ("(bar [foo", 4),
            ("(bar (foo", 3),
            ("- (foo", 5),
            ("(maxstring +", 1),
            ("[ele [h", 3),
        ] {
            t(
                &mut c,
                &format!("ZLEXCOUNT zset {range}"),
                &format!(":{n}\r\n"),
            );
        }
        for bad in ["foo bar", "[foo bar", "foo [bar", "+x [bar", "-x [bar"] {
            t(&mut c, &format!("ZRANGEBYLEX fooz {bad}"), LEXERR);
        }
        t(&mut c, "ZLEXCOUNT zset - a", LEXERR);
        t(
            &mut c,
            "ZRANGE zset - + BYLEX WITHSCORES",
            "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
        );
        // Integer members compare as their decimal text.
        create_zset(&mut c, "zint", "0 10 0 9 0 100 0 -1 0 a");
        assert_eq!(list(&mut c, "ZRANGE zint 0 -1"), "-1 10 100 9 a");
        assert_eq!(list(&mut c, "ZRANGEBYLEX zint [10 (9"), "10 100");
    }
}

#[test]
fn zremrange_commands() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for encoding in ["listpack", "skiplist"] {
        set_encoding(&mut c, encoding);
        for (range, n, left) in [
            ("2 4", 3, "a e"),
            ("-10 1", 1, "b c d e"),
            ("5 10", 1, "a b c d"),
            ("10 0", 0, "a b c d e"),
            ("-inf +inf", 5, ""),
            ("(1 (5", 3, "a e"),
            ("(2 4", 2, "a b e"),
        ] {
            create_zset(&mut c, "zset", "1 a 2 b 3 c 4 d 5 e");
            t(
                &mut c,
                &format!("ZREMRANGEBYSCORE zset {range}"),
                &format!(":{n}\r\n"),
            );
            assert_eq!(list(&mut c, "ZRANGE zset 0 -1"), left, "{range}");
        }
        t(&mut c, "EXISTS zset", ":1\r\n");
        create_zset(&mut c, "zset", "1 a");
        t(&mut c, "ZREMRANGEBYSCORE zset 1 1", ":1\r\n");
        t(&mut c, "EXISTS zset", ":0\r\n");
        t(&mut c, "ZREMRANGEBYSCORE fooz str 1", MINMAX);
        t(&mut c, "ZREMRANGEBYSCORE fooz 1 NaN", MINMAX);
        t(&mut c, "ZREMRANGEBYSCORE nosuch 1 2", ":0\r\n");

        for (range, n, left) in [
            ("0 1", 2, "c d e"),
            ("1 3", 3, "a e"),
            ("3 -1", 2, "a b c"),
            ("-3 -1", 3, "a b"),
            ("-10 -4", 2, "c d e"),
            ("5 10", 0, "a b c d e"),
            ("3 1", 0, "a b c d e"),
            ("0 -1", 5, ""),
        ] {
            create_zset(&mut c, "zset", "1 a 2 b 3 c 4 d 5 e");
            t(
                &mut c,
                &format!("ZREMRANGEBYRANK zset {range}"),
                &format!(":{n}\r\n"),
            );
            assert_eq!(list(&mut c, "ZRANGE zset 0 -1"), left, "{range}");
        }
        t(&mut c, "EXISTS zset", ":0\r\n");
        t(&mut c, "ZREMRANGEBYRANK zset a 1", NOT_INT);

        for (range, n, left) in [
            ("[alpha [omega", 7, "aaaa zzzz"),
            ("(alpha [omega", 6, "aaaa alpha zzzz"),
            ("(alpha (omega", 5, "aaaa alpha omega zzzz"),
            ("- [bar", 3, "cool down elephant foo omega zzzz"),
            ("[foo +", 3, "aaaa alpha bar cool down elephant"),
            ("- +", 9, ""),
        ] {
            create_zset(
                &mut c,
                "zset",
                "0 alpha 0 bar 0 cool 0 down 0 elephant 0 foo 0 omega 0 aaaa 0 zzzz",
            );
            t(
                &mut c,
                &format!("ZREMRANGEBYLEX zset {range}"),
                &format!(":{n}\r\n"),
            );
            assert_eq!(list(&mut c, "ZRANGE zset 0 -1"), left, "{range}");
        }
        t(&mut c, "EXISTS zset", ":0\r\n");
        t(&mut c, "ZREMRANGEBYLEX zset foo [bar", LEXERR);
    }
}

// ---- errors, arity, wrong types ------------------------------------------------

#[test]
fn wrong_types_and_arity() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "str", "x"]);
    for cmd in [
        "ZADD str 1 a",
        "ZINCRBY str 1 a",
        "ZREM str a",
        "ZCARD str",
        "ZCOUNT str 0 1",
        "ZLEXCOUNT str - +",
        "ZSCORE str a",
        "ZMSCORE str a",
        "ZRANK str a",
        "ZREVRANK str a",
        "ZRANGE str 0 1",
        "ZRANGEBYSCORE str 0 1",
        "ZRANGEBYLEX str - +",
        "ZREMRANGEBYRANK str 0 1",
        "ZREMRANGEBYSCORE str 0 1",
        "ZREMRANGEBYLEX str - +",
        "ZPOPMIN str",
        "ZPOPMAX str 2",
        "ZRANDMEMBER str",
        "ZRANDMEMBER str 2",
        "ZSCAN str 0",
        "ZUNION 1 str",
        "ZINTER 1 str",
        "ZDIFF 1 str",
        "ZINTERCARD 1 str",
        "ZUNIONSTORE d 1 str",
        "ZRANGESTORE d str 0 -1",
        "ZMPOP 1 str MIN",
        "BZPOPMIN str 0",
        "BZMPOP 0 1 str MIN",
    ] {
        t(&mut c, cmd, WRONGTYPE);
    }
    for (cmd, name) in [
        ("ZADD k 1", "zadd"),
        ("ZINCRBY k 1", "zincrby"),
        ("ZREM k", "zrem"),
        ("ZCARD", "zcard"),
        ("ZCOUNT k 1", "zcount"),
        ("ZSCORE k", "zscore"),
        ("ZRANGE k 0", "zrange"),
        ("ZRANGESTORE d k 0", "zrangestore"),
        ("ZREMRANGEBYRANK k 0", "zremrangebyrank"),
        ("ZPOPMIN", "zpopmin"),
        ("BZPOPMIN k", "bzpopmin"),
        ("ZMPOP 1 k", "zmpop"),
        ("BZMPOP 0 1 k", "bzmpop"),
        ("ZUNION 1", "zunion"),
        ("ZUNIONSTORE d 1", "zunionstore"),
        ("ZINTERCARD 1", "zintercard"),
        ("ZRANDMEMBER", "zrandmember"),
        ("ZSCAN k", "zscan"),
    ] {
        t(&mut c, cmd, &arity(name));
    }
    // The empty string is no score.
    t(&mut c, "ZADD myzset  abc", NOT_FLOAT);
    t(&mut c, "ZINCRBY myzset  abc", NOT_FLOAT);
}

#[test]
fn zrange_syntax_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    create_zset(&mut c, "z1", "1 a 2 b 3 c 4 d");
    t(&mut c, "ZRANGE z1 0 -1 LIMIT 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
    // Valkey only notices LIMIT by a count other than -1.
    assert_eq!(list(&mut c, "ZRANGE z1 0 -1 LIMIT 1 -1"), "a b c d");
    t(&mut c, "ZRANGE z1 0 -1 BYSCORE BYLEX", SYNTAX);
    t(&mut c, "ZRANGE z1 0 -1 REV REV", SYNTAX);
    t(&mut c, "ZRANGE z1 0 -1 WITHSCORE", SYNTAX);
    t(&mut c, "ZREVRANGE z1 0 -1 REV", SYNTAX);
    t(&mut c, "ZRANGEBYSCORE z1 0 -1 BYLEX", SYNTAX);
    t(&mut c, "ZRANGESTORE z2 z1 0 -1 WITHSCORES", SYNTAX);
    t(&mut c, "ZRANGESTORE z2 z1 0 -1 LIMIT 1 2", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
    t(&mut c, "ZRANGESTORE z2 z1 [a [c BYLEX WITHSCORES", SYNTAX);
    t(&mut c, "ZRANGE z1 0 -1 LIMIT 0 1 x", SYNTAX);
    t(&mut c, "ZRANGE z1 a b BYSCORE", MINMAX);
    t(&mut c, "ZRANGE z1 a b BYLEX", LEXERR);
}

// ---- RESP3 shapes --------------------------------------------------------------

#[test]
fn resp3_reply_shapes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.hello3();
    create_zset(&mut c, "z", "1 a 2.5 b 3 c");
    t(&mut c, "ZSCORE z b", ",2.5\r\n");
    t(&mut c, "ZSCORE z nosuch", "_\r\n");
    t(&mut c, "ZMSCORE z a nosuch", "*2\r\n,1\r\n_\r\n");
    t(&mut c, "ZINCRBY z 1 a", ",2\r\n");
    t(&mut c, "ZADD z INCR 1 a", ",3\r\n");
    t(&mut c, "ZADD z XX INCR 1 nosuch", "_\r\n");
    t(&mut c, "ZADD z INCR -1 a", ",2\r\n");
    t(
        &mut c,
        "ZRANGE z 0 -1 WITHSCORES",
        "*3\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\nc\r\n,3\r\n",
    );
    t(&mut c, "ZRANGE z 0 0", "*1\r\n$1\r\na\r\n");
    t(
        &mut c,
        "ZRANGEBYSCORE z 2.5 +inf WITHSCORES",
        "*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\nc\r\n,3\r\n",
    );
    t(&mut c, "ZRANK z b WITHSCORE", "*2\r\n:1\r\n,2.5\r\n");
    t(&mut c, "ZRANK z x WITHSCORE", "_\r\n");
    t(&mut c, "ZRANK z x", "_\r\n");
    t(
        &mut c,
        "ZUNION 2 z z WITHSCORES",
        "*3\r\n*2\r\n$1\r\na\r\n,4\r\n*2\r\n$1\r\nb\r\n,5\r\n*2\r\n$1\r\nc\r\n,6\r\n",
    );
    t(
        &mut c,
        "ZINTER 1 z",
        "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
    );
    // Pops: a single pop is flat, a counted one nested.
    t(&mut c, "ZPOPMIN z", "*2\r\n$1\r\na\r\n,2\r\n");
    t(&mut c, "ZPOPMAX z 1", "*1\r\n*2\r\n$1\r\nc\r\n,3\r\n");
    t(&mut c, "ZPOPMAX nosuch", "*0\r\n");
    t(&mut c, "ZPOPMAX z 0", "*0\r\n");
    t(&mut c, "ZMPOP 1 nosuch MIN", "_\r\n");
    t(&mut c, "BZPOPMIN nosuch 0.01", "_\r\n");
    t(
        &mut c,
        "BZPOPMIN z 0",
        "*3\r\n$1\r\nz\r\n$1\r\nb\r\n,2.5\r\n",
    );
    create_zset(&mut c, "z", "1 a 2 b 3 c");
    t(
        &mut c,
        "ZMPOP 1 z MAX COUNT 2",
        "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n",
    );
    t(
        &mut c,
        "ZSCAN z 0",
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    t(&mut c, "ZSCORE z a", ",1\r\n");
    c.call(&["ZADD", "z", "inf", "i", "-inf", "ni"]);
    t(&mut c, "ZSCORE z i", ",inf\r\n");
    t(&mut c, "ZSCORE z ni", ",-inf\r\n");
}

#[test]
fn resp2_pop_shapes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    create_zset(&mut c, "zset2", "1 a 2 b 3 c 4 d 5 e");
    t(&mut c, "ZPOPMIN nosuch", "*0\r\n");
    t(&mut c, "ZPOPMIN nosuch 1", "*0\r\n");
    t(&mut c, "ZPOPMIN zset2", "*2\r\n$1\r\na\r\n$1\r\n1\r\n");
    t(&mut c, "ZPOPMAX zset2 1", "*2\r\n$1\r\ne\r\n$1\r\n5\r\n");
    t(&mut c, "ZPOPMAX zset2 0", "*0\r\n");
    t(
        &mut c,
        "ZPOPMIN zset2 2",
        "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    t(&mut c, "ZPOPMIN zset2 10", "*2\r\n$1\r\nd\r\n$1\r\n4\r\n");
    t(&mut c, "EXISTS zset2", ":0\r\n");
    t(&mut c, "ZMPOP 1 zset2 MIN", "*-1\r\n");
    t(&mut c, "ZMPOP 2 zset zset2 MAX COUNT 1", "*-1\r\n");
    create_zset(&mut c, "zset3", "1 a");
    create_zset(&mut c, "zset4", "1 a 2 b 3 c 4 d 5 e");
    t(
        &mut c,
        "ZMPOP 1 zset3 MAX",
        "*2\r\n$5\r\nzset3\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    t(
        &mut c,
        "ZMPOP 2 zset3 zset4 MIN COUNT 2",
        "*2\r\n$5\r\nzset4\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
    );
    t(
        &mut c,
        "BZPOPMIN zset1 zset4 0.1",
        "*3\r\n$5\r\nzset4\r\n$1\r\nc\r\n$1\r\n3\r\n",
    );
    t(&mut c, "BZPOPMAX nosuch 0.01", "*-1\r\n");
    t(&mut c, "BZMPOP 0.01 1 nosuch MIN", "*-1\r\n");
    t(
        &mut c,
        "BZMPOP 0.1 2 nosuch zset4 MAX",
        "*2\r\n$5\r\nzset4\r\n*1\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n",
    );
    // Counts and their errors.
    for bad in ["-1", "a"] {
        t(
            &mut c,
            &format!("ZPOPMIN zset4 {bad}"),
            "-ERR value is out of range, must be positive\r\n",
        );
    }
    c.call(&["SET", "str", "x"]);
    t(
        &mut c,
        "ZPOPMIN str -1",
        "-ERR value is out of range, must be positive\r\n",
    );
    t(&mut c, "ZPOPMIN zset4 1 2", SYNTAX);
    for bad in ["0 myzset MIN", "a myzset MIN", "-1 myzset MAX"] {
        t(
            &mut c,
            &format!("ZMPOP {bad}"),
            "-ERR numkeys should be greater than 0\r\n",
        );
    }
    for bad in [
        "1 myzset bad_where",
        "1 myzset MIN bar_arg",
        "1 myzset MAX MIN",
        "1 myzset COUNT",
        "1 myzset MAX COUNT 1 COUNT 2",
        "2 myzset myzset2 bad_arg",
        "5 myzset MIN",
    ] {
        t(&mut c, &format!("ZMPOP {bad}"), SYNTAX);
    }
    for bad in ["MIN COUNT 0", "MAX COUNT a", "MIN COUNT -1"] {
        t(
            &mut c,
            &format!("ZMPOP 1 myzset {bad}"),
            "-ERR count should be greater than 0\r\n",
        );
    }
    t(
        &mut c,
        "BZMPOP a 1 myzset MIN",
        "-ERR timeout is not a float or out of range\r\n",
    );
    t(
        &mut c,
        "BZMPOP -1 1 myzset MIN",
        "-ERR timeout is negative\r\n",
    );
    t(
        &mut c,
        "BZMPOP 0 0 myzset MIN",
        "-ERR numkeys should be greater than 0\r\n",
    );
    t(&mut c, "BZPOPMIN myzset -1", "-ERR timeout is negative\r\n");
    // The first existing key decides; a wrong type after it is not looked at.
    create_zset(&mut c, "zz", "1 a");
    t(
        &mut c,
        "ZMPOP 2 zz str MIN",
        "*2\r\n$2\r\nzz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n",
    );
    t(&mut c, "ZMPOP 2 nosuch str MIN", WRONGTYPE);
}

// ---- encodings -----------------------------------------------------------------

#[test]
fn encoding_conversions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["DEL", "z"]);
    for i in 0..128 {
        c.call(&["ZADD", "z", &i.to_string(), &format!("m{i}")]);
    }
    enc(&mut c, "z", "listpack");
    c.call(&["ZADD", "z", "1", "m1"]);
    enc(&mut c, "z", "listpack");
    c.call(&["ZADD", "z", "200", "new"]);
    enc(&mut c, "z", "skiplist");
    // Never back, even when small again.
    c.call(&["ZREMRANGEBYRANK", "z", "0", "-3"]);
    enc(&mut c, "z", "skiplist");
    assert_eq!(list(&mut c, "ZRANGE z 0 -1 WITHSCORES"), "m127 127 new 200");
    // A long member converts.
    create_zset(&mut c, "z", "1 a");
    let long = "x".repeat(65);
    c.call(&["ZADD", "z", "2", &long]);
    enc(&mut c, "z", "skiplist");
    create_zset(&mut c, "z", "1 a");
    c.call(&["ZADD", "z", "2", &"x".repeat(64)]);
    enc(&mut c, "z", "listpack");
    // A ZADD with more pairs than the limit converts ahead (even with XX).
    create_zset(&mut c, "z", "1 a");
    let mut args = vec!["ZADD".to_string(), "z".into(), "XX".into()];
    for i in 0..129 {
        args.push(i.to_string());
        args.push("a".into());
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a);
    enc(&mut c, "z", "skiplist");
    create_zset(&mut c, "z", "1 a");
    c.call(&["ZADD", "z", "XX", "1", &long]);
    enc(&mut c, "z", "skiplist");
    t(&mut c, "ZCARD z", ":1\r\n");

    // Results built fresh are as small as they can be.
    create_zset(&mut c, "src", "1 a 2 b");
    c.call(&["ZADD", "src", "3", &long]);
    enc(&mut c, "src", "skiplist");
    t(&mut c, "ZRANGESTORE dst src 0 1", ":2\r\n");
    enc(&mut c, "dst", "listpack");
    t(&mut c, "ZUNIONSTORE dst 1 src", ":3\r\n");
    enc(&mut c, "dst", "skiplist");
    t(&mut c, "ZINTERSTORE dst 1 src WEIGHTS 2", ":3\r\n");
    enc(&mut c, "dst", "skiplist");
    t(&mut c, "ZDIFFSTORE dst 1 src", ":3\r\n");
    c.call(&["ZREM", "src", &long]);
    t(&mut c, "ZUNIONSTORE dst 1 src", ":2\r\n");
    enc(&mut c, "dst", "listpack");

    // zset-max-listpack-entries 0 / 1 for ZRANGESTORE (#10767).
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", "0"]);
    create_zset(&mut c, "z1", "1 a 2 b");
    enc(&mut c, "z1", "skiplist");
    t(&mut c, "ZRANGESTORE z2 z1 0 -1", ":2\r\n");
    enc(&mut c, "z2", "skiplist");
    t(&mut c, "ZRANGESTORE z2 z1 0 1 BYSCORE", ":1\r\n");
    enc(&mut c, "z2", "skiplist");
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", "1"]);
    create_zset(&mut c, "z1", "1 a 2 b");
    t(&mut c, "ZRANGESTORE z2 z1 0 0", ":1\r\n");
    enc(&mut c, "z2", "listpack");
    t(&mut c, "ZRANGESTORE z2 z1 0 1", ":2\r\n");
    enc(&mut c, "z2", "skiplist");
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
}

// ---- ZRANGESTORE ---------------------------------------------------------------

#[test]
fn zrangestore() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    create_zset(&mut c, "z1", "1 a 2 b 3 c 4 d");
    t(&mut c, "ZRANGESTORE z2 z1 0 -1", ":4\r\n");
    assert_eq!(list(&mut c, "ZRANGE z2 0 -1 WITHSCORES"), "a 1 b 2 c 3 d 4");
    t(&mut c, "ZRANGESTORE z2 z1 1 2", ":2\r\n");
    assert_eq!(list(&mut c, "ZRANGE z2 0 -1 WITHSCORES"), "b 2 c 3");
    t(&mut c, "ZRANGESTORE z2 z1 [b [c BYLEX", ":2\r\n");
    assert_eq!(list(&mut c, "ZRANGE z2 0 -1 WITHSCORES"), "b 2 c 3");
    t(&mut c, "ZRANGESTORE z2 z1 1 2 BYSCORE", ":2\r\n");
    assert_eq!(list(&mut c, "ZRANGE z2 0 -1 WITHSCORES"), "a 1 b 2");
    t(&mut c, "ZRANGESTORE z2 z1 0 5 BYSCORE LIMIT 0 2", ":2\r\n");
    assert_eq!(list(&mut c, "ZRANGE z2 0 -1 WITHSCORES"), "a 1 b 2");
    t(
        &mut c,
        "ZRANGESTORE z2 z1 5 0 BYSCORE REV LIMIT 0 2",
        ":2\r\n",
    );
    assert_eq!(list(&mut c, "ZRANGE z2 0 -1 WITHSCORES"), "c 3 d 4");
    assert_eq!(list(&mut c, "ZRANGE z1 5 0 BYSCORE REV LIMIT 0 2"), "d c");
    t(&mut c, "ZRANGESTORE z2 z1 -1 -1 REV", ":1\r\n");
    assert_eq!(list(&mut c, "ZRANGE z2 0 -1"), "a");
    // An empty result deletes the destination; a missing source too.
    t(&mut c, "ZRANGESTORE z2 z1 5 6", ":0\r\n");
    t(&mut c, "EXISTS z2", ":0\r\n");
    c.call(&["SET", "z2", "x"]);
    t(&mut c, "ZRANGESTORE z2 missing 0 -1", ":0\r\n");
    t(&mut c, "EXISTS z2", ":0\r\n");
    t(&mut c, "ZRANGESTORE z2 z1 [f + BYLEX", ":0\r\n");
    t(&mut c, "ZRANGESTORE z2 z1 5 +inf BYSCORE", ":0\r\n");
    c.call(&["SET", "str", "x"]);
    t(&mut c, "ZRANGESTORE z2 str 0 -1", WRONGTYPE);
    // The destination replaces anything, TTL included.
    c.call(&["SET", "z3", "x", "EX", "100"]);
    t(&mut c, "ZRANGESTORE z3 z1 0 0", ":1\r\n");
    t(&mut c, "TTL z3", ":-1\r\n");
    t(&mut c, "TYPE z3", "+zset\r\n");
}

// ---- set operations ------------------------------------------------------------

#[test]
fn union_inter_diff() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for encoding in ["listpack", "skiplist"] {
        set_encoding(&mut c, encoding);
        c.call(&["DEL", "zseta", "zsetb", "zsetc", "seta", "setb"]);
        t(&mut c, "ZUNIONSTORE dst_key 2 zseta zsetb", ":0\r\n");
        t(&mut c, "EXISTS dst_key", ":0\r\n");
        t(&mut c, "ZUNION 2 zseta zsetb", "*0\r\n");
        t(&mut c, "ZINTER 2 zseta zsetb", "*0\r\n");
        t(&mut c, "ZINTERCARD 2 zseta zsetb", ":0\r\n");
        t(&mut c, "ZDIFF 2 zseta zsetb", "*0\r\n");
        c.call(&["ZADD", "zseta", "1", "a", "2", "b", "3", "c"]);
        c.call(&["ZADD", "zsetb", "1", "b", "2", "c", "3", "d"]);
        t(&mut c, "ZUNIONSTORE zsetc 2 zseta zsetb", ":4\r\n");
        assert_eq!(
            list(&mut c, "ZRANGE zsetc 0 -1 WITHSCORES"),
            "a 1 b 3 d 3 c 5"
        );
        assert_eq!(
            list(&mut c, "ZUNION 2 zseta zsetb WITHSCORES"),
            "a 1 b 3 d 3 c 5"
        );
        t(
            &mut c,
            "ZUNIONSTORE zsetc 2 zseta zsetb WEIGHTS 2 3",
            ":4\r\n",
        );
        assert_eq!(
            list(&mut c, "ZRANGE zsetc 0 -1 WITHSCORES"),
            "a 2 b 7 d 9 c 12"
        );
        assert_eq!(
            list(&mut c, "ZUNION 2 zseta zsetb WEIGHTS 2 3 WITHSCORES"),
            "a 2 b 7 d 9 c 12"
        );
        assert_eq!(
            list(&mut c, "ZUNION 2 zseta zsetb AGGREGATE MIN WITHSCORES"),
            "a 1 b 1 c 2 d 3"
        );
        assert_eq!(
            list(&mut c, "ZUNION 2 zseta zsetb aggregate max WITHSCORES"),
            "a 1 b 2 c 3 d 3"
        );
        assert_eq!(
            list(&mut c, "ZINTER 2 zseta zsetb AGGREGATE MIN WITHSCORES"),
            "b 1 c 2"
        );
        assert_eq!(
            list(&mut c, "ZINTER 2 zseta zsetb AGGREGATE MAX WITHSCORES"),
            "b 2 c 3"
        );
        t(&mut c, "ZINTERSTORE zsetc 2 zseta zsetb", ":2\r\n");
        assert_eq!(list(&mut c, "ZRANGE zsetc 0 -1 WITHSCORES"), "b 3 c 5");
        assert_eq!(list(&mut c, "ZINTER 2 zseta zsetb WITHSCORES"), "b 3 c 5");
        assert_eq!(
            list(&mut c, "ZINTER 2 zseta zsetb WEIGHTS 2 3 WITHSCORES"),
            "b 7 c 12"
        );
        t(&mut c, "ZINTERCARD 2 zseta zsetb", ":2\r\n");
        t(&mut c, "ZINTERCARD 2 zseta zsetb LIMIT 0", ":2\r\n");
        t(&mut c, "ZINTERCARD 2 zseta zsetb LIMIT 1", ":1\r\n");
        t(&mut c, "ZINTERCARD 2 zseta zsetb limit 10", ":2\r\n");
        t(&mut c, "ZDIFFSTORE zsetc 2 zseta zsetb", ":1\r\n");
        assert_eq!(list(&mut c, "ZRANGE zsetc 0 -1 WITHSCORES"), "a 1");
        assert_eq!(list(&mut c, "ZDIFF 2 zseta zsetb WITHSCORES"), "a 1");
        t(&mut c, "ZDIFF 2 zseta zseta", "*0\r\n");
        t(&mut c, "ZDIFFSTORE zsetc 2 zseta zseta", ":0\r\n");
        t(&mut c, "EXISTS zsetc", ":0\r\n");
        // Regular sets score 1 each.
        c.call(&["SADD", "seta", "a", "b", "c"]);
        t(
            &mut c,
            "ZUNIONSTORE zsetc 2 seta zsetb WEIGHTS 2 3",
            ":4\r\n",
        );
        assert_eq!(
            list(&mut c, "ZRANGE zsetc 0 -1 WITHSCORES"),
            "a 2 b 5 c 8 d 9"
        );
        t(
            &mut c,
            "ZINTERSTORE zsetc 2 seta zsetb WEIGHTS 2 3",
            ":2\r\n",
        );
        assert_eq!(list(&mut c, "ZRANGE zsetc 0 -1 WITHSCORES"), "b 5 c 8");
        t(&mut c, "ZDIFFSTORE zsetc 2 seta zsetb", ":1\r\n");
        assert_eq!(list(&mut c, "ZRANGE zsetc 0 -1 WITHSCORES"), "a 1");
        c.call(&["SADD", "setb", "1", "2", "3"]);
        assert_eq!(list(&mut c, "ZUNION 2 setb setb WITHSCORES"), "1 2 2 2 3 2");
        // Integer members.
        c.call(&["DEL", "zi1", "zi2"]);
        c.call(&["ZADD", "zi1", "1", "1", "2", "2"]);
        c.call(&["ZADD", "zi2", "1", "1", "3", "3"]);
        assert_eq!(list(&mut c, "ZUNION 2 zi1 zi2 WITHSCORES"), "1 2 2 2 3 3");
        assert_eq!(list(&mut c, "ZINTER 2 zi1 zi2 WITHSCORES"), "1 2");
        assert_eq!(list(&mut c, "ZDIFF 2 zi1 zi2 WITHSCORES"), "2 2");
        // +inf/-inf sums are 0, not NaN.
        for cmd in ["ZUNIONSTORE", "ZINTERSTORE"] {
            for (a, b, want) in [
                ("+inf", "+inf", "inf"),
                ("-inf", "+inf", "0"),
                ("+inf", "-inf", "0"),
                ("-inf", "-inf", "-inf"),
            ] {
                c.call(&["DEL", "zinf1", "zinf2"]);
                c.call(&["ZADD", "zinf1", a, "key"]);
                c.call(&["ZADD", "zinf2", b, "key"]);
                c.call(&[cmd, "zinf3", "2", "zinf1", "zinf2"]);
                t(
                    &mut c,
                    "ZSCORE zinf3 key",
                    &format!("${}\r\n{want}\r\n", want.len()),
                );
            }
            t(
                &mut c,
                &format!("{cmd} zinf3 2 zinf1 zinf2 weights nan nan"),
                "-ERR weight value is not a float\r\n",
            );
        }
        // inf * 0 weight is NaN, taken as 0.
        c.call(&["DEL", "zinf1"]);
        c.call(&["ZADD", "zinf1", "inf", "key"]);
        t(&mut c, "ZUNIONSTORE zinf3 1 zinf1 WEIGHTS 0", ":1\r\n");
        t(&mut c, "ZSCORE zinf3 key", "$1\r\n0\r\n");
    }
}

#[test]
fn set_operation_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["ZADD", "zseta", "1", "a"]);
    for (cmd, name) in [
        ("ZUNIONSTORE dst 0 zseta", "zunionstore"),
        ("ZINTERSTORE dst 0 zseta", "zinterstore"),
        ("ZDIFFSTORE dst 0 zseta", "zdiffstore"),
        ("ZUNION 0 zseta", "zunion"),
        ("ZINTER 0 zseta", "zinter"),
        ("ZDIFF 0 zseta", "zdiff"),
        ("ZINTERCARD 0 zseta", "zintercard"),
        ("ZUNION -1 zseta", "zunion"),
    ] {
        t(
            &mut c,
            cmd,
            &format!("-ERR at least 1 input key is needed for '{name}' command\r\n"),
        );
    }
    t(&mut c, "ZUNION a zseta", NOT_INT);
    t(&mut c, "ZUNION 2 zseta", SYNTAX);
    for cmd in ["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"] {
        t(&mut c, &format!("{cmd} foo 1 zseta WITHSCORES"), SYNTAX);
    }
    t(&mut c, "ZDIFF 1 zseta WEIGHTS 1", SYNTAX);
    t(&mut c, "ZDIFF 1 zseta AGGREGATE SUM", SYNTAX);
    t(&mut c, "ZUNION 1 zseta WEIGHTS", SYNTAX);
    t(&mut c, "ZUNION 2 zseta zseta WEIGHTS 1", SYNTAX);
    t(
        &mut c,
        "ZUNION 1 zseta WEIGHTS x",
        "-ERR weight value is not a float\r\n",
    );
    t(&mut c, "ZUNION 1 zseta AGGREGATE avg", SYNTAX);
    t(&mut c, "ZUNION 1 zseta AGGREGATE", SYNTAX);
    t(&mut c, "ZINTERCARD 1 zseta zseta", SYNTAX);
    t(&mut c, "ZINTERCARD 1 zseta bar_arg", SYNTAX);
    t(&mut c, "ZINTERCARD 1 zseta LIMIT", SYNTAX);
    t(&mut c, "ZINTERCARD 1 zseta WITHSCORES", SYNTAX);
    t(
        &mut c,
        "ZINTERCARD 1 myset LIMIT -1",
        "-ERR LIMIT can't be negative\r\n",
    );
    t(
        &mut c,
        "ZINTERCARD 1 myset LIMIT a",
        "-ERR LIMIT can't be negative\r\n",
    );
    // The type check comes before the options.
    c.call(&["SET", "str", "x"]);
    t(&mut c, "ZUNION 2 zseta str AGGREGATE bad", WRONGTYPE);
    t(&mut c, "ZUNIONSTORE str 1 zseta", ":1\r\n");
    t(&mut c, "TYPE str", "+zset\r\n");
}

// ---- ZRANDMEMBER ----------------------------------------------------------------

#[test]
fn zrandmember() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "ZRANDMEMBER nosuch", "$-1\r\n");
    t(&mut c, "ZRANDMEMBER nosuch 100", "*0\r\n");
    t(&mut c, "ZRANDMEMBER nosuch -100 WITHSCORES", "*0\r\n");
    c.call(&["ZADD", "myzset", "0", "a"]);
    t(&mut c, "ZRANDMEMBER myzset 0", "*0\r\n");
    t(
        &mut c,
        "ZRANDMEMBER myzset -9223372036854770000 withscores",
        "-ERR value is out of range\r\n",
    );
    t(&mut c, "ZRANDMEMBER myzset -9223372036854775808 withscores", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
    t(&mut c, "ZRANDMEMBER myzset -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n");
    t(&mut c, "ZRANDMEMBER myzset a", NOT_INT);
    t(&mut c, "ZRANDMEMBER myzset 1 withscore", SYNTAX);
    t(&mut c, "ZRANDMEMBER myzset 1 withscores x", SYNTAX);
    t(&mut c, "ZRANDMEMBER myzset", "$1\r\na\r\n");
    t(
        &mut c,
        "ZRANDMEMBER myzset -3",
        "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
    );
    t(
        &mut c,
        "ZRANDMEMBER myzset -2 WITHSCORES",
        "*4\r\n$1\r\na\r\n$1\r\n0\r\n$1\r\na\r\n$1\r\n0\r\n",
    );

    // Every case of the count, in both encodings.
    for (kind, n) in [("listpack", 40usize), ("skiplist", 300usize)] {
        c.call(&["DEL", "z"]);
        let mut args = vec!["ZADD".to_string(), "z".into()];
        for i in 0..n {
            args.push(i.to_string());
            args.push(format!("m{i}"));
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        c.call(&a);
        enc(&mut c, "z", kind);
        for count in [1usize, 5, n / 2, n - 1, n, n + 10] {
            let got = items(c.call(&["ZRANDMEMBER", "z", &count.to_string(), "WITHSCORES"]));
            assert_eq!(got.len(), 2 * count.min(n), "{kind} {count}");
            let mut seen = std::collections::HashSet::new();
            for p in got.chunks(2) {
                let i: usize = p[0][1..].parse().unwrap_or(usize::MAX);
                assert_eq!(p[1], i.to_string(), "score of {}", p[0]);
                assert!(
                    seen.insert(p[0].clone()),
                    "{kind} {count}: repeated {}",
                    p[0]
                );
            }
        }
        let got = items(c.call(&["ZRANDMEMBER", "z", "-1000"]));
        assert_eq!(got.len(), 1000);
        let distinct: std::collections::HashSet<_> = got.iter().collect();
        assert!(distinct.len() > n / 4, "{kind}: too few distinct members");
    }
}

// ---- ZSCAN ----------------------------------------------------------------------

#[test]
fn zscan() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    t(&mut c, "ZSCAN nosuch 0", "*2\r\n$1\r\n0\r\n*0\r\n");
    t(&mut c, "ZSCAN nosuch x", "-ERR invalid cursor\r\n");
    create_zset(&mut c, "z", "1 a 2.5 b 0.1 c");
    t(
        &mut c,
        "ZSCAN z 0",
        "*2\r\n$1\r\n0\r\n*6\r\n$1\r\nc\r\n$3\r\n0.1\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
    );
    t(
        &mut c,
        "ZSCAN z 0 NOSCORES",
        "*2\r\n$1\r\n0\r\n*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n",
    );
    t(
        &mut c,
        "ZSCAN z 0 MATCH b*",
        "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$3\r\n2.5\r\n",
    );
    t(&mut c, "ZSCAN z 0 COUNT 0", SYNTAX);
    t(
        &mut c,
        "ZSCAN z 0 NOVALUES",
        "-ERR NOVALUES option can only be used in HSCAN\r\n",
    );
    // The skiplist encoding: a real cursor, doubles printed %.17g.
    c.call(&["DEL", "big"]);
    let mut args = vec!["ZADD".to_string(), "big".into()];
    for i in 0..500 {
        args.push(format!("{i}.1"));
        args.push(format!("m{i}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    c.call(&a);
    enc(&mut c, "big", "skiplist");
    let mut cursor = "0".to_string();
    let mut seen = BTreeMap::new();
    let mut rounds = 0;
    loop {
        let V::Arr(r) = c.call(&["ZSCAN", "big", &cursor, "COUNT", "20"]) else {
            panic!("not an array")
        };
        cursor = r[0].text();
        for p in items(r[1].clone()).chunks(2) {
            seen.insert(p[0].clone(), p[1].clone());
        }
        rounds += 1;
        if cursor == "0" {
            break;
        }
    }
    assert!(rounds > 5, "a real cursor walk");
    assert_eq!(seen.len(), 500);
    assert_eq!(seen["m0"], "0.10000000000000001");
    assert_eq!(seen["m2"], "2.1000000000000001");
    let V::Arr(r) = c.call(&[
        "ZSCAN", "big", "0", "NOSCORES", "MATCH", "m1??", "COUNT", "1000",
    ]) else {
        panic!()
    };
    assert_eq!(items(r[1].clone()).len(), 100);
}

// ---- blocking pops --------------------------------------------------------------

#[test]
fn blocking_pops() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    let mut w = Client::new(&s);
    // Woken by a ZADD, with the key name.
    a.send(&["BZPOPMIN", "zset", "5"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["ZADD", "zset", "1", "a"]);
    assert_eq!(
        a.read_raw(),
        b"*3\r\n$4\r\nzset\r\n$1\r\na\r\n$1\r\n1\r\n".to_vec()
    );
    t(&mut w, "EXISTS zset", ":0\r\n");
    // FIFO among several clients; a variadic ZADD serves both.
    a.send(&["BZPOPMAX", "z1", "z2", "0"]);
    common::wait_blocked(&mut w, 1);
    b.send(&["BZPOPMAX", "z2", "0"]);
    common::wait_blocked(&mut w, 2);
    w.call(&["ZADD", "z2", "1", "x", "2", "y"]);
    assert_eq!(items(a.read()), ["z2", "y", "2"]);
    assert_eq!(items(b.read()), ["z2", "x", "1"]);
    // BZMPOP with COUNT.
    a.send(&["BZMPOP", "5", "2", "zset", "zset2", "MAX", "COUNT", "2"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["ZADD", "zset2", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(
        a.read_raw(),
        b"*2\r\n$5\r\nzset2\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
            .to_vec()
    );
    // Timeouts reply a null array.
    let start = Instant::now();
    t(&mut a, "BZPOPMIN nosuch 0.05", "*-1\r\n");
    assert!(start.elapsed() >= Duration::from_millis(40));
    t(&mut a, "BZMPOP 0.01 1 nosuch MIN", "*-1\r\n");
    // A key of another type does not serve, and is an error up front.
    w.call(&["SET", "str", "x"]);
    t(&mut a, "BZPOPMIN nosuch str 0", WRONGTYPE);
    // ZADD + DEL in a transaction does not wake the client.
    a.send(&["BZPOPMIN", "zq", "0"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["MULTI"]);
    w.call(&["ZADD", "zq", "1", "a"]);
    w.call(&["DEL", "zq"]);
    w.call(&["EXEC"]);
    w.call(&["ZADD", "zq", "2", "b"]);
    assert_eq!(items(a.read()), ["zq", "b", "2"]);
    // Inside MULTI nothing blocks.
    w.call(&["MULTI"]);
    w.call(&["BZPOPMIN", "nosuch", "0"]);
    w.call(&["BZMPOP", "0", "1", "nosuch", "MIN"]);
    assert_eq!(w.call(&["EXEC"]), V::Arr(vec![V::NilArray, V::NilArray]));
}

// ---- keyspace effects -----------------------------------------------------------

#[test]
fn dirty_counter_and_watch() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut other = Client::new(&s);
    let dirty = |c: &mut Client| c.info_int("persistence", "rdb_changes_since_last_save");
    let d0 = dirty(&mut c);
    c.call(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(dirty(&mut c), d0 + 3);
    c.call(&["ZADD", "z", "1", "a"]);
    assert_eq!(dirty(&mut c), d0 + 3, "no change, no dirt");
    c.call(&["ZREM", "z", "a", "b", "x"]);
    assert_eq!(dirty(&mut c), d0 + 5);
    c.call(&["ZPOPMIN", "z", "10"]);
    assert_eq!(dirty(&mut c), d0 + 6);
    // WATCH sees a ZADD; an unchanged ZADD does not count.
    c.call(&["ZADD", "w", "1", "a"]);
    c.call(&["WATCH", "w"]);
    other.call(&["ZADD", "w", "1", "a"]);
    c.call(&["MULTI"]);
    c.call(&["PING"]);
    assert_eq!(c.call(&["EXEC"]), V::Arr(vec![V::Simple("PONG".into())]));
    c.call(&["WATCH", "w"]);
    other.call(&["ZINCRBY", "w", "1", "a"]);
    c.call(&["MULTI"]);
    c.call(&["PING"]);
    assert_eq!(c.call(&["EXEC"]), V::NilArray);
    assert_eq!(c.call(&["ZCARD", "w"]), int(1));
}

/// Random operations against a model, on a sorted set big enough for the
/// skiplist encoding, checking ranges of every kind.
#[test]
fn skiplist_matches_a_model() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut model: BTreeMap<String, i64> = BTreeMap::new();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    c.call(&["DEL", "fz"]);
    for round in 0..40 {
        // A batch of ZADDs and ZREMs, pipelined.
        for _ in 0..100 {
            let m = format!("m{}", rnd(2000));
            if rnd(4) == 0 {
                c.send(&["ZREM", "fz", &m]);
                model.remove(&m);
            } else {
                let sc = rnd(100) as i64 - 50;
                c.send(&["ZADD", "fz", &sc.to_string(), &m]);
                model.insert(m, sc);
            }
        }
        for _ in 0..100 {
            c.read();
        }
        let mut sorted: Vec<(i64, String)> = model.iter().map(|(m, s)| (*s, m.clone())).collect();
        sorted.sort();
        assert_eq!(c.call(&["ZCARD", "fz"]), int(sorted.len() as i64));
        let lo = rnd(100) as i64 - 50;
        let hi = lo + rnd(30) as i64;
        let want: Vec<String> = sorted
            .iter()
            .filter(|(s, _)| *s >= lo && *s <= hi)
            .map(|(_, m)| m.clone())
            .collect();
        let got = items(c.call(&["ZRANGEBYSCORE", "fz", &lo.to_string(), &hi.to_string()]));
        assert_eq!(got, want, "round {round}");
        assert_eq!(
            c.call(&["ZCOUNT", "fz", &format!("({lo}"), &hi.to_string()]),
            int(sorted.iter().filter(|(s, _)| *s > lo && *s <= hi).count() as i64)
        );
        let mut rev = want.clone();
        rev.reverse();
        let got = items(c.call(&[
            "ZREVRANGEBYSCORE",
            "fz",
            &hi.to_string(),
            &lo.to_string(),
            "LIMIT",
            "1",
            "5",
        ]));
        assert_eq!(got, rev.iter().skip(1).take(5).cloned().collect::<Vec<_>>());
        let start = rnd(sorted.len() as u64 + 5) as usize;
        let got = items(c.call(&["ZRANGE", "fz", &start.to_string(), &(start + 7).to_string()]));
        let want: Vec<String> = sorted
            .iter()
            .skip(start)
            .take(8)
            .map(|(_, m)| m.clone())
            .collect();
        assert_eq!(got, want);
        if let Some((sc, m)) = sorted.get(start) {
            assert_eq!(
                c.call(&["ZRANK", "fz", m, "WITHSCORE"]),
                V::Arr(vec![int(start as i64), bulk(&sc.to_string())])
            );
            assert_eq!(
                c.call(&["ZREVRANK", "fz", m]),
                int((sorted.len() - 1 - start) as i64)
            );
        }
    }
    enc(&mut c, "fz", "skiplist");
    // Lex ranges over equal scores.
    c.call(&["DEL", "lz"]);
    let mut names: Vec<String> = (0..400).map(|i| format!("{:x}", i * 7919 % 4001)).collect();
    for n in &names {
        c.send(&["ZADD", "lz", "0", n]);
    }
    for _ in &names {
        c.read();
    }
    names.sort();
    names.dedup();
    let want: Vec<String> = names
        .iter()
        .filter(|n| n.as_str() >= "3" && n.as_str() < "9")
        .cloned()
        .collect();
    assert_eq!(items(c.call(&["ZRANGEBYLEX", "lz", "[3", "(9"])), want);
    assert_eq!(
        c.call(&["ZLEXCOUNT", "lz", "[3", "(9"]),
        int(want.len() as i64)
    );
    assert_eq!(
        c.call(&["ZREMRANGEBYLEX", "lz", "[3", "(9"]),
        int(want.len() as i64)
    );
    assert_eq!(
        c.call(&["ZCARD", "lz"]),
        int((names.len() - want.len()) as i64)
    );
}

/// Regression cases from Valkey's zset.tcl.
#[test]
fn valkey_regressions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // DBL_MAX in a listpack, as text.
    let dblmax = format!("{}.00000000000000000", "179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368");
    c.call(&["ZADD", "zz", &dblmax, "dblmax"]);
    enc(&mut c, "zz", "listpack");
    t(
        &mut c,
        "ZSCORE zz dblmax",
        "$23\r\n1.7976931348623157e+308\r\n",
    );
    // Sets of every encoding mixed with sorted sets.
    c.call(&["SADD", "set1", "a"]);
    c.call(&["SADD", "set2", "10"]);
    t(&mut c, "ZINTERSTORE set3 2 set1 set2", ":0\r\n");
    c.call(&["ZADD", "z", "-inf", "neginf"]);
    t(&mut c, "ZUNIONSTORE out 1 z weights 0", ":1\r\n");
    assert_eq!(list(&mut c, "ZRANGE out 0 -1 withscores"), "neginf 0");
    c.call(&["SADD", "one", "100", "101", "102", "103"]);
    c.call(&["SADD", "two", "100", "200", "201", "202"]);
    c.call(&[
        "ZADD", "three", "1", "500", "1", "501", "1", "502", "1", "503", "1", "100",
    ]);
    t(
        &mut c,
        "ZINTERSTORE to_here 3 one two three WEIGHTS 0 0 1",
        ":1\r\n",
    );
    assert_eq!(list(&mut c, "ZRANGE to_here 0 -1"), "100");
    for (set_type, ints, lp) in [
        ("intset", "512", "128"),
        ("listpack", "0", "128"),
        ("hashtable", "0", "0"),
    ] {
        c.call(&["CONFIG", "SET", "set-max-intset-entries", ints]);
        c.call(&["CONFIG", "SET", "set-max-listpack-entries", lp]);
        c.call(&["DEL", "set_small", "set_big"]);
        c.call(&["SADD", "set_small", "1", "2", "3"]);
        c.call(&["SADD", "set_big", "1", "2", "3", "4", "5"]);
        enc(&mut c, "set_small", set_type);
        for encoding in ["listpack", "skiplist"] {
            set_encoding(&mut c, encoding);
            c.call(&["DEL", "zset_small", "zset_big"]);
            c.call(&["ZADD", "zset_small", "1", "1", "2", "2", "3", "3"]);
            c.call(&[
                "ZADD", "zset_big", "1", "1", "2", "2", "3", "3", "4", "4", "5", "5",
            ]);
            for (set_key, zset_key, diff) in [
                ("set_small", "zset_big", ""),
                ("set_big", "zset_small", "4 5"),
            ] {
                let mut u = items(c.call(&["ZUNION", "2", set_key, zset_key]));
                u.sort();
                assert_eq!(u.join(" "), "1 2 3 4 5");
                assert_eq!(
                    c.call(&["ZUNIONSTORE", "zset_dest", "2", set_key, zset_key]),
                    int(5)
                );
                assert_eq!(
                    c.call(&["ZINTERSTORE", "zset_dest", "2", set_key, zset_key]),
                    int(3)
                );
                assert_eq!(c.call(&["ZINTERCARD", "2", set_key, zset_key]), int(3));
                let mut d = items(c.call(&["ZDIFF", "2", set_key, zset_key]));
                d.sort();
                assert_eq!(d.join(" "), diff, "{set_type} {encoding}");
            }
        }
    }
    c.call(&["CONFIG", "SET", "set-max-intset-entries", "512"]);
    c.call(&["CONFIG", "SET", "set-max-listpack-entries", "128"]);
    set_encoding(&mut c, "listpack");
    // The listpack limit with single and variadic ZADDs.
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", "64"]);
    for variant in ["single", "multiple", "single_multiple"] {
        c.call(&["DEL", "myzset"]);
        let nums: Vec<String> = (0..128).map(|i| i.to_string()).collect();
        match variant {
            "single" => {
                for n in nums.iter().take(64) {
                    c.call(&["ZADD", "myzset", n, n]);
                }
            }
            _ => {
                if variant == "single_multiple" {
                    c.call(&["ZADD", "myzset", "1", "1"]);
                }
                let mut args = vec!["ZADD", "myzset"];
                args.extend(nums.iter().map(String::as_str));
                c.call(&args);
            }
        }
        enc(&mut c, "myzset", "listpack");
        t(&mut c, "ZCARD myzset", ":64\r\n");
        t(&mut c, "ZADD myzset 1 b", ":1\r\n");
        enc(&mut c, "myzset", "skiplist");
    }
    c.call(&["CONFIG", "SET", "zset-max-listpack-entries", "128"]);
}
