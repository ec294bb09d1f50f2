//! Key specs: COMMAND INFO's key specs, legacy (first, last, step),
//! "movablekeys", flags and tips compared with a real Redis 7.0 (Debian's
//! redis-server) and where Valkey 8 differs; COMMAND GETKEYS /
//! GETKEYSANDFLAGS and COMMAND DOCS with Valkey 8.1's exact replies.

mod common;

use common::{bulk, err, Client, RedisServer, TestServer, V};
use redis::Value;
use std::collections::BTreeMap;

// ---- COMMAND INFO against Redis 7.0 ------------------------------------------

/// Where Valkey 8 declares a key spec differently from Redis 7.0 (checked
/// against the Valkey 8.1.8 binary): the command, the spec, and its flags
/// in Redis 7.0 and in Valkey 8. The test checks that Redis still says the
/// first, then expects the second from Ferrokey.
const VALKEY_DIFFERS: &[(&str, usize, &[&str], &[&str])] = &[
    // Valkey fixed SINTERSTORE's destination: it is overwritten, not read
    // (as SUNIONSTORE's and SDIFFSTORE's already were in Redis 7.0).
    ("sinterstore", 0, &["RW", "update"], &["OW", "update"]),
];

/// Where Valkey 8's command flags differ from Redis 7.0's (checked against
/// the Valkey 8.1.8 binary, leaving out 8.1's `skip_commandlog`, which is
/// `skip_slowlog` in Valkey 8.0): the command, Redis 7.0's flags, Valkey's.
const FLAGS_DIFFER: &[(&str, &[&str], &[&str])] = &[
    // Blocking commands may run in scripts (they just do not block there).
    (
        "blmove",
        &["write", "denyoom", "noscript", "blocking"],
        &["write", "denyoom", "blocking"],
    ),
    (
        "blpop",
        &["write", "noscript", "blocking"],
        &["write", "blocking"],
    ),
    (
        "brpop",
        &["write", "noscript", "blocking"],
        &["write", "blocking"],
    ),
    (
        "brpoplpush",
        &["write", "denyoom", "noscript", "blocking"],
        &["write", "denyoom", "blocking"],
    ),
    (
        "bzpopmax",
        &["write", "noscript", "blocking", "fast"],
        &["write", "blocking", "fast"],
    ),
    (
        "bzpopmin",
        &["write", "noscript", "blocking", "fast"],
        &["write", "blocking", "fast"],
    ),
    ("wait", &["noscript"], &["blocking"]),
    ("cluster|info", &["stale"], &["loading", "stale"]),
    ("cluster|myid", &["stale"], &["loading", "stale"]),
    ("cluster|nodes", &["stale"], &["loading", "stale"]),
    ("cluster|shards", &["stale"], &["loading", "stale"]),
    ("cluster|slots", &["stale"], &["loading", "stale"]),
    ("memory|malloc-stats", &[], &["loading"]),
    ("memory|purge", &[], &["loading"]),
    (
        "multi",
        &["noscript", "loading", "stale", "fast", "allow_busy"],
        &[
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_multi",
            "allow_busy",
        ],
    ),
    (
        "watch",
        &["noscript", "loading", "stale", "fast", "allow_busy"],
        &[
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_multi",
            "allow_busy",
        ],
    ),
];

const ALL_NODES_SUCCEEDED: &[&str] = &["request_policy:all_nodes", "response_policy:all_succeeded"];

/// Where Valkey 8's command tips differ from Redis 7.0's, likewise.
const TIPS_DIFFER: &[(&str, &[&str], &[&str])] = &[
    ("client|setname", &[], ALL_NODES_SUCCEEDED),
    ("config|resetstat", &[], ALL_NODES_SUCCEEDED),
    ("config|rewrite", &[], ALL_NODES_SUCCEEDED),
    (
        "latency|reset",
        ALL_NODES_SUCCEEDED,
        &["request_policy:all_nodes", "response_policy:agg_sum"],
    ),
    (
        "msetnx",
        &["request_policy:multi_shard", "response_policy:agg_min"],
        &[],
    ),
    (
        "randomkey",
        &["request_policy:all_shards", "nondeterministic_output"],
        &[
            "request_policy:all_shards",
            "response_policy:special",
            "nondeterministic_output",
        ],
    ),
    (
        "scan",
        &["nondeterministic_output", "request_policy:special"],
        &[
            "nondeterministic_output",
            "request_policy:special",
            "response_policy:special",
        ],
    ),
];

/// The strings of a flag or tip list, whatever their encoding.
fn strings(v: &Value) -> Vec<String> {
    let (Value::Array(items) | Value::Set(items)) = v else {
        panic!("not a list: {v:?}")
    };
    items
        .iter()
        .map(|i| match i {
            Value::SimpleString(s) => s.clone(),
            Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

/// Every command and subcommand of `COMMAND INFO` by name: (flags, first,
/// last, step, key specs).
fn command_table(con: &mut redis::Connection) -> BTreeMap<String, Vec<Value>> {
    let Value::Array(all) = redis::cmd("COMMAND").arg("INFO").query(con).unwrap() else {
        panic!("COMMAND INFO is an array")
    };
    let mut out = BTreeMap::new();
    fn add(out: &mut BTreeMap<String, Vec<Value>>, entry: Value) {
        let Value::Array(fields) = entry else {
            panic!("entry {entry:?}")
        };
        assert_eq!(fields.len(), 10, "{fields:?}");
        let name = match &fields[0] {
            Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
            Value::SimpleString(s) => s.clone(),
            other => panic!("name {other:?}"),
        };
        let subs = match &fields[9] {
            Value::Array(v) | Value::Set(v) => v.clone(),
            other => panic!("subcommands {other:?}"),
        };
        out.insert(name, fields[2..9].to_vec());
        for s in subs {
            add(out, s);
        }
    }
    for e in all {
        add(&mut out, e);
    }
    out
}

fn is_movable(flags: &Value) -> bool {
    let (Value::Array(v) | Value::Set(v)) = flags else {
        panic!("flags {flags:?}")
    };
    v.iter()
        .any(|f| matches!(f, Value::SimpleString(s) if s == "movablekeys"))
}

fn simple_strings(v: &Value) -> Option<Vec<&str>> {
    let (Value::Array(items) | Value::Set(items)) = v else {
        return None;
    };
    items
        .iter()
        .map(|i| match i {
            Value::SimpleString(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

/// Replaces, in the `index`-th key spec, the flag list `from` by `to`
/// (whatever the protocol's map and set encoding); false if not found.
fn replace_flags(specs: &mut Value, index: usize, from: &[&str], to: &[&str]) -> bool {
    let (Value::Array(list) | Value::Set(list)) = specs else {
        return false;
    };
    let Some(spec) = list.get_mut(index) else {
        return false;
    };
    let values: Vec<&mut Value> = match spec {
        Value::Map(pairs) => pairs.iter_mut().map(|(_, v)| v).collect(),
        Value::Array(kv) => kv.iter_mut().skip(1).step_by(2).collect(),
        _ => return false,
    };
    for v in values {
        if simple_strings(v).as_deref() == Some(from) {
            let new: Vec<Value> = to
                .iter()
                .map(|s| Value::SimpleString(s.to_string()))
                .collect();
            *v = match v {
                Value::Set(_) => Value::Set(new),
                _ => Value::Array(new),
            };
            return true;
        }
    }
    false
}

fn compare_with_redis(protocol: &str) {
    let dir = common::new_temp_dir();
    let redis = RedisServer::start(&dir, &[]);
    let s = TestServer::start();
    let open = |url: String| {
        redis::Client::open(format!("{url}?protocol={protocol}"))
            .and_then(|c| c.get_connection())
            .unwrap()
    };
    let mut theirs = command_table(&mut open(redis.url()));
    let ours = command_table(&mut open(s.url()));
    for (name, index, redis_flags, valkey_flags) in VALKEY_DIFFERS {
        let entry = theirs.get_mut(*name).unwrap();
        assert!(
            replace_flags(&mut entry[6], *index, redis_flags, valkey_flags),
            "{name}: Redis 7.0 no longer says {redis_flags:?}: {:?}",
            entry[6]
        );
    }
    // Flags and tips: Redis 7.0's, but where Valkey differs.
    let fix =
        |theirs: &mut BTreeMap<String, Vec<Value>>, at, table: &[(&str, &[&str], &[&str])]| {
            for (name, redis_has, valkey_has) in table {
                let entry = theirs.get_mut(*name).unwrap();
                assert_eq!(strings(&entry[at]), *redis_has, "{name}: Redis 7.0 changed");
                entry[at] = Value::Array(
                    valkey_has
                        .iter()
                        .map(|s| Value::SimpleString(s.to_string()))
                        .collect(),
                );
            }
        };
    fix(&mut theirs, 0, FLAGS_DIFFER);
    fix(&mut theirs, 5, TIPS_DIFFER);
    let mut compared = 0;
    for (name, mine) in &ours {
        let Some(want) = theirs.get(name) else {
            continue;
        };
        compared += 1;
        assert_eq!(strings(&mine[0]), strings(&want[0]), "{name}: flags");
        assert_eq!(strings(&mine[5]), strings(&want[5]), "{name}: tips");
        // Encodings: flags are status replies, tips bulk strings, both
        // sets in RESP3.
        if protocol == "resp3" {
            assert!(matches!(mine[0], Value::Set(_)), "{name}: {:?}", mine[0]);
            assert!(matches!(mine[5], Value::Set(_)), "{name}: {:?}", mine[5]);
        }
        if let Value::Array(t) | Value::Set(t) = &mine[5] {
            assert!(
                t.iter().all(|t| matches!(t, Value::BulkString(_))),
                "{name}: {t:?}"
            );
        }
        assert_eq!(mine[1..4], want[1..4], "{name}: first, last, step");
        assert_eq!(
            is_movable(&mine[0]),
            is_movable(&want[0]),
            "{name}: movablekeys"
        );
        assert_eq!(mine[6], want[6], "{name}: key specs");
    }
    // Every command both servers have (Redis 7.0 lacks the hash field TTL
    // commands and a few newer subcommands).
    assert!(compared >= 320, "only {compared} commands compared");
    redis.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn command_info_key_specs_match_redis_7_0() {
    compare_with_redis("resp2");
}

#[test]
fn command_info_key_specs_match_redis_7_0_resp3() {
    compare_with_redis("resp3");
}

/// Key specs that find keys by keyword and by count, unknown ones and notes,
/// as Valkey 8.1 writes them (RESP3 byte for byte).
#[test]
fn key_spec_reply_bytes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let V::Arr(info) = c.call(&["COMMAND", "INFO", "xread", "sort_ro", "zunionstore"]) else {
        panic!()
    };
    let specs: Vec<&V> = info
        .iter()
        .map(|e| match e {
            V::Arr(fields) => &fields[8],
            other => panic!("{other:?}"),
        })
        .collect();
    let simple = |s: &str| V::Simple(s.into());
    let flags = |f: &[&str]| V::Arr(f.iter().map(|s| simple(s)).collect());
    let kv =
        |pairs: Vec<(&str, V)>| V::Arr(pairs.into_iter().flat_map(|(k, v)| [bulk(k), v]).collect());
    let int = V::Int;
    assert_eq!(
        *specs[0],
        V::Arr(vec![kv(vec![
            ("flags", flags(&["RO", "access"])),
            (
                "begin_search",
                kv(vec![
                    ("type", bulk("keyword")),
                    (
                        "spec",
                        kv(vec![("keyword", bulk("STREAMS")), ("startfrom", int(1))])
                    )
                ])
            ),
            (
                "find_keys",
                kv(vec![
                    ("type", bulk("range")),
                    (
                        "spec",
                        kv(vec![
                            ("lastkey", int(-1)),
                            ("keystep", int(1)),
                            ("limit", int(2))
                        ])
                    )
                ])
            ),
        ])])
    );
    let index = |i| {
        kv(vec![
            ("type", bulk("index")),
            ("spec", kv(vec![("index", int(i))])),
        ])
    };
    let unknown = || kv(vec![("type", bulk("unknown")), ("spec", kv(vec![]))]);
    let single = || {
        kv(vec![
            ("type", bulk("range")),
            (
                "spec",
                kv(vec![
                    ("lastkey", int(0)),
                    ("keystep", int(1)),
                    ("limit", int(0)),
                ]),
            ),
        ])
    };
    assert_eq!(
        *specs[1],
        V::Arr(vec![
            kv(vec![
                ("flags", flags(&["RO", "access"])),
                ("begin_search", index(1)),
                ("find_keys", single()),
            ]),
            kv(vec![
                ("notes", bulk("For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort")),
                ("flags", flags(&["RO", "access"])),
                ("begin_search", unknown()),
                ("find_keys", unknown()),
            ]),
        ])
    );
    assert_eq!(
        *specs[2],
        V::Arr(vec![
            kv(vec![
                ("flags", flags(&["OW", "update"])),
                ("begin_search", index(1)),
                ("find_keys", single()),
            ]),
            kv(vec![
                ("flags", flags(&["RO", "access"])),
                ("begin_search", index(2)),
                (
                    "find_keys",
                    kv(vec![
                        ("type", bulk("keynum")),
                        (
                            "spec",
                            kv(vec![
                                ("keynumidx", int(0)),
                                ("firstkey", int(1)),
                                ("keystep", int(1))
                            ])
                        ),
                    ])
                ),
            ]),
        ])
    );
    // Legacy range and flags: SORT_RO is "movablekeys" with (1, 1, 1),
    // ZUNIONSTORE too; XREAD has no range at all.
    let V::Arr(sort_ro) = &info[1] else { panic!() };
    assert_eq!(
        sort_ro[2],
        V::Arr(vec![simple("readonly"), simple("movablekeys")])
    );
    assert_eq!(sort_ro[3..6], [int(1), int(1), int(1)]);
    let V::Arr(xread) = &info[0] else { panic!() };
    assert_eq!(xread[3..6], [int(0), int(0), int(0)]);
    // RESP3: specs and flags are sets, specs' fields maps; tips and an
    // empty subcommand list are sets too, as Valkey writes them.
    c.hello3();
    let reply = c.cmd_raw("COMMAND INFO get");
    let want: &[u8] = b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n\
        ~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n\
        ~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n\
        $12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n\
        $9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n\
        $7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(want)
    );
    // An unknown name is a null.
    assert_eq!(c.cmd_raw("COMMAND INFO nosuch"), b"*1\r\n_\r\n");
    let mut d = Client::new(&s);
    assert_eq!(d.cmd_raw("COMMAND INFO nosuch"), b"*1\r\n$-1\r\n");
}

// ---- GETKEYS / GETKEYSANDFLAGS -------------------------------------------------

/// A key and its flags, as GETKEYSANDFLAGS lists them.
type Key<'a> = (&'a str, &'a [&'a str]);

const OW_UPDATE: &[&str] = &["OW", "update"];
const RW_UPDATE: &[&str] = &["RW", "update"];
const RO_ACCESS: &[&str] = &["RO", "access"];
const RW_ACCESS_UPDATE: &[&str] = &["RW", "access", "update"];
const RW_ACCESS_DELETE: &[&str] = &["RW", "access", "delete"];
const RW_INSERT: &[&str] = &["RW", "insert"];
const RO: &[&str] = &["RO"];

/// Calls, and their keys as Valkey 8.1.8 reports them.
const CASES: &[(&[&str], &[Key])] = &[
    (&["SET", "k", "v"], &[("k", OW_UPDATE)]),
    // GET anywhere after the value makes SET read the key.
    (
        &["SET", "k", "v", "EX", "10", "get"],
        &[("k", RW_ACCESS_UPDATE)],
    ),
    (
        &["MSET", "a", "1", "b", "2"],
        &[("a", OW_UPDATE), ("b", OW_UPDATE)],
    ),
    // Keys every other argument up to the end, even a missing value.
    (
        &["MSET", "a", "1", "b"],
        &[("a", OW_UPDATE), ("b", OW_UPDATE)],
    ),
    (
        &["LMOVE", "a", "b", "LEFT", "RIGHT"],
        &[("a", RW_ACCESS_DELETE), ("b", RW_INSERT)],
    ),
    (
        &["BLPOP", "a", "b", "0"],
        &[("a", RW_ACCESS_DELETE), ("b", RW_ACCESS_DELETE)],
    ),
    // The destination first: the specs' order, not the key finder's.
    (
        &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
        &[("d", OW_UPDATE), ("a", RO_ACCESS), ("b", RO_ACCESS)],
    ),
    (&["ZINTERCARD", "1", "a", "LIMIT", "0"], &[("a", RO_ACCESS)]),
    (
        &["SINTERCARD", "2", "a", "b"],
        &[("a", RO_ACCESS), ("b", RO_ACCESS)],
    ),
    (
        &["BLMPOP", "0", "2", "a", "b", "LEFT"],
        &[("a", RW_ACCESS_DELETE), ("b", RW_ACCESS_DELETE)],
    ),
    (
        &["BZMPOP", "0", "1", "a", "MAX"],
        &[("a", RW_ACCESS_DELETE)],
    ),
    // SORT's specs are incomplete: its key finder answers, with flags.
    (
        &["SORT", "k", "BY", "w_*", "STORE", "dst"],
        &[("k", RO_ACCESS), ("dst", OW_UPDATE)],
    ),
    (
        &[
            "SORT", "k", "LIMIT", "0", "1", "STORE", "d1", "GET", "#", "STORE", "d2",
        ],
        &[("k", RO_ACCESS), ("d2", OW_UPDATE)],
    ),
    (&["SORT", "k", "STORE"], &[("k", RO_ACCESS)]),
    (
        &["SORT_RO", "k", "BY", "x", "GET", "y"],
        &[("k", RO_ACCESS)],
    ),
    (
        &["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"],
        &[("a", RO_ACCESS), ("b", RO_ACCESS)],
    ),
    // Half the arguments after STREAMS, rounded down.
    (&["XREAD", "STREAMS", "a", "b", "0"], &[("a", RO_ACCESS)]),
    (
        &["XREAD", "BLOCK", "0", "STREAMS", "streams", "0"],
        &[("streams", RO_ACCESS)],
    ),
    (
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "COUNT",
            "1",
            "NOACK",
            "STREAMS",
            "s1",
            "s2",
            "0",
            "0",
        ],
        &[("s1", RO_ACCESS), ("s2", RO_ACCESS)],
    ),
    (
        &["MIGRATE", "h", "1", "k", "0", "10"],
        &[("k", RW_ACCESS_DELETE)],
    ),
    (
        &["MIGRATE", "h", "1", "", "0", "10", "KEYS", "a", "b"],
        &[("a", RW_ACCESS_DELETE), ("b", RW_ACCESS_DELETE)],
    ),
    // KEYS as AUTH's password is skipped.
    (
        &[
            "MIGRATE", "h", "1", "", "0", "10", "COPY", "AUTH", "keys", "KEYS", "a",
        ],
        &[("a", RW_ACCESS_DELETE)],
    ),
    (
        &["GEORADIUS", "k", "0", "0", "1", "km", "STORE", "d"],
        &[("k", RO_ACCESS), ("d", OW_UPDATE)],
    ),
    (
        &["GEORADIUS", "k", "0", "0", "1", "km", "STOREDIST", "d"],
        &[("k", RO_ACCESS), ("d", OW_UPDATE)],
    ),
    (
        &["GEORADIUS", "k", "0", "0", "1", "km", "STORE"],
        &[("k", RO_ACCESS)],
    ),
    (
        &["GEORADIUSBYMEMBER", "k", "m", "1", "km", "STORE", "d"],
        &[("k", RO_ACCESS), ("d", OW_UPDATE)],
    ),
    (
        &[
            "GEOSEARCHSTORE",
            "d",
            "s",
            "FROMMEMBER",
            "m",
            "BYRADIUS",
            "1",
            "km",
        ],
        &[("d", OW_UPDATE), ("s", RO_ACCESS)],
    ),
    (
        &["BITOP", "AND", "d", "a", "b"],
        &[("d", OW_UPDATE), ("a", RO_ACCESS), ("b", RO_ACCESS)],
    ),
    (&["BITFIELD", "k", "GET", "u8", "0"], &[("k", RO_ACCESS)]),
    (
        &["BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"],
        &[("k", RW_ACCESS_UPDATE)],
    ),
    (&["BITFIELD", "k"], &[("k", RO_ACCESS)]),
    (&["LCS", "a", "b"], &[("a", RO_ACCESS), ("b", RO_ACCESS)]),
    (&["OBJECT", "ENCODING", "k"], &[("k", RO)]),
    (&["MEMORY", "USAGE", "k", "SAMPLES", "5"], &[("k", RO)]),
    (
        &["DEL", "a", "b"],
        &[("a", &["RM", "delete"]), ("b", &["RM", "delete"])],
    ),
    (
        &["RENAME", "a", "b"],
        &[("a", RW_ACCESS_DELETE), ("b", OW_UPDATE)],
    ),
    (&["PFCOUNT", "a"], &[("a", &["RW", "access"])]),
    (
        &["PFMERGE", "d", "a"],
        &[("d", &["RW", "access", "insert"]), ("a", RO_ACCESS)],
    ),
    (&["XGROUP", "CREATE", "s", "g", "$"], &[("s", RW_INSERT)]),
    (&["XINFO", "STREAM", "s"], &[("s", RO_ACCESS)]),
    (&["WATCH", "a"], &[("a", RO)]),
    // Not in Valkey 8.1: Valkey 9.0's specs.
    (
        &["HEXPIRE", "k", "10", "FIELDS", "1", "f"],
        &[("k", RW_UPDATE)],
    ),
    (&["HTTL", "k", "FIELDS", "1", "f"], &[("k", RO_ACCESS)]),
];

/// Calls GETKEYS and GETKEYSANDFLAGS rejects, with Valkey's errors.
const ERRORS: &[(&[&str], &str)] = &[
    (&["nosuch", "a"], "ERR Invalid command specified"),
    (&["OBJECT", "nosuch", "k"], "ERR Invalid command specified"),
    (&["PING"], "ERR The command has no key arguments"),
    // A container without its subcommand.
    (&["OBJECT"], "ERR The command has no key arguments"),
    (
        &["CONFIG", "GET", "x"],
        "ERR The command has no key arguments",
    ),
    // Shard channels are not keys.
    (
        &["SPUBLISH", "ch", "m"],
        "ERR The command has no key arguments",
    ),
    (
        &["GET"],
        "ERR Invalid number of arguments specified for command",
    ),
    (
        &["GET", "a", "b"],
        "ERR Invalid number of arguments specified for command",
    ),
    (
        &["OBJECT", "ENCODING"],
        "ERR Invalid number of arguments specified for command",
    ),
    (
        &["XREAD", "STREAMS", "a"],
        "ERR Invalid number of arguments specified for command",
    ),
    (
        &["LMPOP", "0", "a", "LEFT"],
        "ERR Invalid arguments specified for command",
    ),
    // A key before KEYS: MIGRATE itself will refuse it.
    (
        &["MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"],
        "ERR Invalid arguments specified for command",
    ),
    (
        &["PFMERGE", "d"],
        "ERR Invalid arguments specified for command",
    ),
];

fn getkeys(c: &mut Client, sub: &str, call: &[&str]) -> V {
    let mut args = vec!["COMMAND", sub];
    args.extend_from_slice(call);
    c.call(&args)
}

#[test]
fn getkeys_and_flags_like_valkey() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (call, keys) in CASES {
        let names = V::Arr(keys.iter().map(|(k, _)| bulk(k)).collect());
        assert_eq!(getkeys(&mut c, "GETKEYS", call), names, "{call:?}");
        let flagged = V::Arr(
            keys.iter()
                .map(|(k, f)| {
                    V::Arr(vec![
                        bulk(k),
                        V::Arr(f.iter().map(|f| V::Simple(f.to_string())).collect()),
                    ])
                })
                .collect(),
        );
        assert_eq!(
            getkeys(&mut c, "GETKEYSANDFLAGS", call),
            flagged,
            "{call:?}"
        );
    }
    for (call, msg) in ERRORS {
        assert_eq!(getkeys(&mut c, "GETKEYS", call), err(msg), "{call:?}");
        assert_eq!(
            getkeys(&mut c, "GETKEYSANDFLAGS", call),
            err(msg),
            "{call:?}"
        );
    }
    assert_eq!(
        c.call(&["COMMAND", "GETKEYSANDFLAGS"]),
        err("ERR wrong number of arguments for 'command|getkeysandflags' command")
    );
    // RESP3: the flags are a set.
    c.hello3();
    assert_eq!(
        c.cmd_raw("COMMAND GETKEYSANDFLAGS LMOVE a b LEFT LEFT"),
        b"*2\r\n*2\r\n$1\r\na\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$1\r\nb\r\n~2\r\n+RW\r\n+insert\r\n"
    );
}

/// The commands' own key finders, reached when the key specs cannot be
/// followed (a count their strict parsing refuses) or are incomplete, with
/// Valkey 8.1.8's replies: its `genericGetKeys` reads the count with
/// `atoi`, finds nothing (not even the destination) for a count below 1 or
/// past the arguments, and lists the destination last; `sortGetKeys` does
/// not skip STORE's argument; `georadiusGetKeys` takes the last STORE or
/// STOREDIST from argument 5 on.
#[test]
fn getkeys_numkeys_fallback_like_valkey() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for call in [
        &["ZUNIONSTORE", "d", "0", "a"][..],
        &["ZUNIONSTORE", "d", "x", "a"],
        &["ZUNIONSTORE", "d", "3", "a", "b"],
        &["ZUNION", "99999999999999999999", "a"],
        &["ZUNION", "", "a"],
        &["LMPOP", "-1", "a", "LEFT"],
        &["BZMPOP", "0", "x", "a", "MIN"],
    ] {
        assert_eq!(
            getkeys(&mut c, "GETKEYS", call),
            err("ERR Invalid arguments specified for command"),
            "{call:?}"
        );
    }
    assert_eq!(
        getkeys(&mut c, "GETKEYSANDFLAGS", &["ZUNION", "01", "a"]),
        V::Arr(vec![V::Arr(vec![bulk("a"), V::Arr(vec![])])])
    );
    let names = |k: &[&str]| V::Arr(k.iter().map(|k| bulk(k)).collect());
    for (call, keys) in [
        (&["ZUNIONSTORE", "d", "01", "a"][..], &["a", "d"][..]),
        (&["ZDIFFSTORE", "d", "+2", "a", "b"], &["a", "b", "d"]),
        (&["ZUNION", " +1", "a"], &["a"]),
        (&["ZUNION", "4294967297", "a"], &["a"]),
        (&["ZUNION", "-4294967295", "a"], &["a"]),
        (&["ZINTERCARD", "1x", "a", "b"], &["a"]),
        (&["ZMPOP", "01", "a", "MIN"], &["a"]),
        (&["BZMPOP", "0", " 1", "a", "MIN"], &["a"]),
        (&["LMPOP", "1x", "a", "b"], &["a"]),
        (&["BLMPOP", "0", "2junk", "a", "b", "LEFT"], &["a", "b"]),
        (&["SINTERCARD", "02", "a", "b"], &["a", "b"]),
        (&["SORT", "k", "STORE", "store", "d"], &["k", "d"]),
        (
            &["SORT", "k", "STORE", "limit", "1", "2", "x"],
            &["k", "limit"],
        ),
        (&["SORT", "k", "GET", "store", "x"], &["k"]),
    ] {
        assert_eq!(getkeys(&mut c, "GETKEYS", call), names(keys), "{call:?}");
    }
    // The STORE destination of a SORT is overwritten.
    assert_eq!(
        getkeys(
            &mut c,
            "GETKEYSANDFLAGS",
            &["SORT", "k", "STORE", "store", "d"]
        ),
        V::Arr(vec![
            V::Arr(vec![
                bulk("k"),
                V::Arr(vec![V::Simple("RO".into()), V::Simple("access".into())])
            ]),
            V::Arr(vec![
                bulk("d"),
                V::Arr(vec![V::Simple("OW".into()), V::Simple("update".into())])
            ]),
        ])
    );
}

#[test]
fn getkeysandflags_in_command_help_and_list() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let V::Arr(help) = c.call(&["COMMAND", "HELP"]) else {
        panic!()
    };
    let lines: Vec<String> = help.iter().map(V::text).collect();
    let at = lines
        .iter()
        .position(|l| l == "GETKEYSANDFLAGS <full-command>")
        .expect("GETKEYSANDFLAGS in COMMAND HELP");
    assert_eq!(lines[at - 2], "GETKEYS <full-command>");
    assert_eq!(
        lines[at + 1],
        "    Return the keys and the access flags from a full command."
    );
    assert_eq!(lines[at + 2], "HELP");
    let V::Arr(info) = c.call(&["COMMAND", "INFO", "command|getkeysandflags"]) else {
        panic!()
    };
    let V::Arr(entry) = &info[0] else { panic!() };
    assert_eq!(entry[0], bulk("command|getkeysandflags"));
    assert_eq!(entry[1], V::Int(-3));
    let V::Arr(names) = c.call(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "command|getkeys*"])
    else {
        panic!()
    };
    assert!(
        names.contains(&bulk("command|getkeysandflags")),
        "{names:?}"
    );
}

/// COMMAND alone is COMMAND INFO of everything.
#[test]
fn bare_command_lists_everything() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let all = c.call(&["COMMAND", "INFO"]);
    assert_eq!(c.call(&["COMMAND"]), all);
}

// ---- COMMAND DOCS --------------------------------------------------------------

/// COMMAND DOCS byte for byte as Valkey 8.1.8 writes it: arguments with
/// their display text, key spec, token, since and flags; history; doc flags
/// and deprecation; RESP2 (maps flattened, sets as arrays) and RESP3.
#[test]
fn command_docs_like_valkey() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let setex: &[u8] = b"*2\r\n$5\r\nsetex\r\n*16\r\n$7\r\nsummary\r\n$88\r\n\
    Sets the string value and expiration time of a key. Creates the key if it doesn't exist.\r\n\
    $5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n\
    $4\r\nO(1)\r\n$9\r\ndoc_flags\r\n*1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n\
    $6\r\n2.6.12\r\n$11\r\nreplaced_by\r\n$28\r\n`SET` with the `EX` argument\r\n$9\r\n\
    arguments\r\n*3\r\n*8\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n\
    $12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n*6\r\n$4\r\n\
    name\r\n$7\r\nseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$12\r\ndisplay_text\r\n\
    $7\r\nseconds\r\n*6\r\n$4\r\nname\r\n$5\r\nvalue\r\n$4\r\ntype\r\n$6\r\nstring\r\n\
    $12\r\ndisplay_text\r\n$5\r\nvalue\r\n";
    assert_eq!(
        String::from_utf8_lossy(&c.cmd_raw("COMMAND DOCS setex")),
        String::from_utf8_lossy(setex)
    );
    c.hello3();
    let getex: &[u8] = b"%1\r\n$5\r\ngetex\r\n%5\r\n$7\r\nsummary\r\n$68\r\n\
    Returns the string value of a key after setting its expiration time.\r\n$5\r\n\
    since\r\n$5\r\n6.2.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n\
    O(1)\r\n$9\r\narguments\r\n*2\r\n%4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n\
    $3\r\nkey\r\n$12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n\
    %4\r\n$4\r\nname\r\n$10\r\nexpiration\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\n\
    flags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*5\r\n%4\r\n$4\r\nname\r\n$7\r\n\
    seconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$12\r\ndisplay_text\r\n$7\r\nseconds\r\n\
    $5\r\ntoken\r\n$2\r\nEX\r\n%4\r\n$4\r\nname\r\n$12\r\nmilliseconds\r\n$4\r\ntype\r\n\
    $7\r\ninteger\r\n$12\r\ndisplay_text\r\n$12\r\nmilliseconds\r\n$5\r\ntoken\r\n$2\r\n\
    PX\r\n%4\r\n$4\r\nname\r\n$17\r\nunix-time-seconds\r\n$4\r\ntype\r\n$9\r\n\
    unix-time\r\n$12\r\ndisplay_text\r\n$17\r\nunix-time-seconds\r\n$5\r\ntoken\r\n\
    $4\r\nEXAT\r\n%4\r\n$4\r\nname\r\n$22\r\nunix-time-milliseconds\r\n$4\r\ntype\r\n\
    $9\r\nunix-time\r\n$12\r\ndisplay_text\r\n$22\r\nunix-time-milliseconds\r\n$5\r\n\
    token\r\n$4\r\nPXAT\r\n%4\r\n$4\r\nname\r\n$7\r\npersist\r\n$4\r\ntype\r\n$10\r\n\
    pure-token\r\n$12\r\ndisplay_text\r\n$7\r\npersist\r\n$5\r\ntoken\r\n$7\r\n\
    PERSIST\r\n";
    assert_eq!(
        String::from_utf8_lossy(&c.cmd_raw("COMMAND DOCS getex")),
        String::from_utf8_lossy(getex)
    );
    let auth: &[u8] =
        b"%1\r\n$4\r\nauth\r\n%6\r\n$7\r\nsummary\r\n$29\r\nAuthenticates the connection.\r\n\
    $5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\n\
    complexity\r\n$60\r\n\
    O(N) where N is the number of passwords defined for the user\r\n$7\r\nhistory\r\n\
    ~1\r\n*2\r\n$5\r\n6.0.0\r\n$40\r\nAdded ACL style (username and password).\r\n$9\r\n\
    arguments\r\n*2\r\n%5\r\n$4\r\nname\r\n$8\r\nusername\r\n$4\r\ntype\r\n$6\r\n\
    string\r\n$12\r\ndisplay_text\r\n$8\r\nusername\r\n$5\r\nsince\r\n$5\r\n6.0.0\r\n\
    $5\r\nflags\r\n~1\r\n+optional\r\n%3\r\n$4\r\nname\r\n$8\r\npassword\r\n$4\r\n\
    type\r\n$6\r\nstring\r\n$12\r\ndisplay_text\r\n$8\r\npassword\r\n";
    assert_eq!(
        String::from_utf8_lossy(&c.cmd_raw("COMMAND DOCS auth")),
        String::from_utf8_lossy(auth)
    );
    // Valkey 8.0's SET: no IFEQ (8.1), which Ferrokey does not have.
    let raw = c.cmd_raw("COMMAND DOCS set");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("\r\nKEEPTTL\r\n"), "{text}");
    assert!(!text.contains("IFEQ") && !text.contains("8.1.0"), "{text}");
    // Unknown names are left out; subcommands by full name.
    let mut d = Client::new(&s);
    let V::Arr(docs) = d.call(&["COMMAND", "DOCS", "nosuch", "client|kill"]) else {
        panic!()
    };
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0], bulk("client|kill"));
    let V::Arr(fields) = &docs[1] else { panic!() };
    let names: Vec<String> = fields.iter().step_by(2).map(V::text).collect();
    assert_eq!(
        names,
        [
            "summary",
            "since",
            "group",
            "complexity",
            "history",
            "arguments"
        ]
    );
}
