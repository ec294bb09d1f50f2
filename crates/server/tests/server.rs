//! The server side through the real binary: INFO (sections, fields,
//! commandstats, errorstats, keyspace, RESP3 verbatim), SLOWLOG, LATENCY
//! (events, per-command histograms, graphs), MONITOR, DEBUG, MEMORY,
//! LASTSAVE, SHUTDOWN, COMMAND (INFO, DOCS, LIST, GETKEYS[ANDFLAGS]), AUTH /
//! requirepass / HELLO, protected mode, the `maxclients` error, CONFIG SET
//! port rollback, CLUSTER / MODULE without cluster mode or modules.

mod common;
use common::{bulk, encode, err, info_field as field, int, ok, wait_until, Client, TestServer, V};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

// ---- INFO ----------------------------------------------------------------------

#[test]
fn info_default_sections_and_server_fields() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let text = c.info(&[]);
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headers,
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace"
        ]
    );
    assert!(text.starts_with("# Server\r\nredis_version:7.2.4\r\nserver_name:ferrokey\r\n"));
    assert!(text.ends_with("# Keyspace\r\n"));
    assert!(text.contains("\r\n\r\n# Clients\r\n"));
    assert_eq!(field(&text, "server_mode").as_deref(), Some("standalone"));
    assert_eq!(field(&text, "tcp_port"), Some(s.port.to_string()));
    assert_eq!(field(&text, "process_id"), Some(s_pid(&text)));
    assert_eq!(field(&text, "run_id").unwrap().len(), 40);
    assert!(field(&text, "ferrokey_version").is_some());
    assert!(text.contains("listener0:name=tcp,bind=127.0.0.1,port="));
    assert_eq!(field(&text, "connected_clients").as_deref(), Some("1"));
    assert_eq!(field(&text, "blocked_clients").as_deref(), Some("0"));
    let used: u64 = field(&text, "used_memory").unwrap().parse().unwrap();
    assert!(used > 0);
    assert_eq!(field(&text, "mem_allocator").as_deref(), Some("mimalloc"));
    assert!(field(&text, "used_memory_human")
        .unwrap()
        .ends_with(['B', 'K', 'M']));
    assert_eq!(field(&text, "loading").as_deref(), Some("0"));
    assert_eq!(field(&text, "rdb_bgsave_in_progress").as_deref(), Some("0"));
    assert_eq!(
        field(&text, "rdb_last_bgsave_status").as_deref(),
        Some("ok")
    );
    assert_eq!(field(&text, "aof_enabled").as_deref(), Some("0"));
    assert_eq!(field(&text, "role").as_deref(), Some("master"));
    assert_eq!(field(&text, "master_replid").unwrap().len(), 40);
    assert_eq!(field(&text, "cluster_enabled").as_deref(), Some("0"));
    assert!(field(&text, "used_cpu_user").unwrap().contains('.'));
    assert!(field(&text, "instantaneous_ops_per_sec")
        .unwrap()
        .parse::<u64>()
        .is_ok());
    assert!(!text.contains("# Commandstats"));
}

fn s_pid(text: &str) -> String {
    field(text, "process_id").unwrap()
}

#[test]
fn info_section_arguments() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let text = c.info(&["server", "CLIENTS"]);
    let headers: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(headers, ["# Server", "# Clients"]);
    let text = c.info(&["keyspace"]);
    assert_eq!(text, "# Keyspace\r\n");
    let text = c.info(&["nosuchsection"]);
    assert_eq!(text, "");
    for all in ["all", "everything"] {
        let text = c.info(&[all]);
        assert!(text.contains("# Commandstats\r\n"));
        assert!(text.contains("# Latencystats\r\n"));
    }
    let text = c.info(&["default", "commandstats"]);
    assert!(text.contains("# Server\r\n") && text.contains("# Commandstats\r\n"));
}

#[test]
fn info_commandstats_errorstats_keyspace() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["SET", "k", "notanumber"]), ok());
    c.call(&["GET", "k"]);
    c.call(&["GET", "k"]);
    assert_eq!(
        c.call(&["INCR", "k"]),
        err("ERR value is not an integer or out of range")
    );
    assert!(matches!(c.call(&["GET"]), V::Err(_)));
    assert!(matches!(c.call(&["NOSUCHCOMMAND"]), V::Err(_)));
    c.call(&["SET", "t", "v", "EX", "100"]);
    let text = c.info(&["commandstats", "errorstats", "keyspace", "stats"]);
    let set = field(&text, "cmdstat_set").unwrap();
    assert!(
        set.starts_with("calls=2,usec=") && set.ends_with(",rejected_calls=0,failed_calls=0"),
        "{set}"
    );
    assert!(set.contains(",usec_per_call="));
    let get = field(&text, "cmdstat_get").unwrap();
    assert!(get.starts_with("calls=2,") && get.ends_with(",rejected_calls=1,failed_calls=0"));
    let incr = field(&text, "cmdstat_incr").unwrap();
    assert!(incr.ends_with(",rejected_calls=0,failed_calls=1"));
    // Unknown command, arity error, INCR failure.
    assert_eq!(field(&text, "errorstat_ERR").as_deref(), Some("count=3"));
    assert_eq!(field(&text, "total_error_replies").as_deref(), Some("3"));
    assert_eq!(
        field(&text, "db0").as_deref(),
        Some("keys=2,expires=1,avg_ttl=0")
    );
    // Subcommands under their full name; CONFIG RESETSTAT clears.
    c.call(&["CLIENT", "ID"]);
    let text = c.info(&["commandstats"]);
    assert!(field(&text, "cmdstat_client|id")
        .unwrap()
        .starts_with("calls=1,"));
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    // The RESETSTAT call itself is counted after the reset, as in Valkey.
    let text = c.info(&["commandstats", "errorstats"]);
    assert!(text.starts_with("# Commandstats\r\ncmdstat_config|resetstat:calls=1,"));
    assert!(text.ends_with(",rejected_calls=0,failed_calls=0\r\n\r\n# Errorstats\r\n"));
}

#[test]
fn info_is_verbatim_in_resp3() {
    let s = TestServer::start();
    let mut raw = s.raw();
    raw.send(&encode(&[b"HELLO", b"3"]));
    let mut buf = [0u8; 1];
    // Skip the HELLO map: up to "modules" and its empty array.
    let mut seen = Vec::new();
    while !seen.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
        raw.0.read_exact(&mut buf).unwrap();
        seen.push(buf[0]);
    }
    raw.send(&encode(&[b"INFO", b"keyspace"]));
    raw.expect(b"=16\r\ntxt:# Keyspace\r\n\r\n");
}

#[test]
fn instantaneous_ops_per_sec_is_sampled() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1200) {
        c.call(&["PING"]);
    }
    let text = c.info(&["stats"]);
    let ops: u64 = field(&text, "instantaneous_ops_per_sec")
        .unwrap()
        .parse()
        .unwrap();
    assert!(ops > 0, "ops/sec {ops}");
    let total: u64 = field(&text, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 10);
}

// ---- SLOWLOG, LATENCY ------------------------------------------------------

#[test]
fn slowlog_records_every_command_with_slower_than_zero() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]),
        ok()
    );
    assert_eq!(c.call(&["SLOWLOG", "RESET"]), ok());
    c.call(&["CLIENT", "SETNAME", "slowpoke"]);
    c.call(&["SET", "foo", "bar"]);
    let long = "x".repeat(200);
    c.call(&["SET", "big", &long]);
    // SLOWLOG RESET, SETNAME, two SETs.
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), V::Int(4));
    let V::Arr(entries) = c.call(&["SLOWLOG", "GET", "2"]) else {
        panic!("not an array")
    };
    assert_eq!(entries.len(), 2);
    // Newest first: SLOWLOG LEN itself, then the long SET.
    let V::Arr(e) = &entries[1] else { panic!() };
    assert_eq!(e.len(), 6);
    assert!(matches!(e[0], V::Int(_)));
    assert!(matches!(e[2], V::Int(_)));
    let expected_arg = format!("{}... (72 more bytes)", "x".repeat(128));
    assert_eq!(
        e[3],
        V::Arr(vec![
            V::Bulk(b"SET".to_vec()),
            V::Bulk(b"big".to_vec()),
            V::Bulk(expected_arg.into_bytes())
        ])
    );
    assert!(e[4].text().starts_with("127.0.0.1:"));
    assert_eq!(e[5].text(), "slowpoke");
    // Many arguments: 31 kept and a marker.
    let mut args = vec!["DEL"];
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    args.extend(keys.iter().map(String::as_str));
    c.call(&args);
    let V::Arr(entries) = c.call(&["SLOWLOG", "GET", "1"]) else {
        panic!()
    };
    let V::Arr(e) = &entries[0] else { panic!() };
    let V::Arr(logged) = &e[3] else { panic!() };
    assert_eq!(logged.len(), 32);
    assert_eq!(logged[31].text(), "... (10 more arguments)");
    assert_eq!(
        c.call(&["SLOWLOG", "GET", "-2"]),
        err("ERR count should be greater than or equal to -1")
    );
    assert!(matches!(c.call(&["SLOWLOG", "GET", "-1"]), V::Arr(v) if v.len() >= 5));
    // Passwords never reach the slow log.
    c.call(&["AUTH", "nopass"]);
    let V::Arr(entries) = c.call(&["SLOWLOG", "GET", "1"]) else {
        panic!()
    };
    let V::Arr(e) = &entries[0] else { panic!() };
    assert_eq!(
        e[3],
        V::Arr(vec![
            V::Bulk(b"AUTH".to_vec()),
            V::Bulk(b"(redacted)".to_vec())
        ])
    );
    // Max length trims the oldest; -1 disables.
    c.call(&["CONFIG", "SET", "slowlog-max-len", "3"]);
    for _ in 0..5 {
        c.call(&["PING"]);
    }
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), V::Int(3));
    c.call(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    c.call(&["SLOWLOG", "RESET"]);
    c.call(&["PING"]);
    assert_eq!(c.call(&["SLOWLOG", "LEN"]), V::Int(0));
    let V::Arr(help) = c.call(&["SLOWLOG", "HELP"]) else {
        panic!()
    };
    assert_eq!(
        help[0],
        V::Simple("SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
}

#[test]
fn latency_monitor_records_slow_commands() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    let doctor = c.call(&["LATENCY", "DOCTOR"]).text();
    assert!(doctor.starts_with("I'm sorry, Dave, I can't do that."));
    assert_eq!(c.call(&["LATENCY", "LATEST"]), V::Arr(vec![]));
    c.call(&["CONFIG", "SET", "latency-monitor-threshold", "20"]);
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0.05"]), ok());
    let V::Arr(latest) = c.call(&["LATENCY", "LATEST"]) else {
        panic!()
    };
    assert_eq!(latest.len(), 1);
    let V::Arr(ev) = &latest[0] else { panic!() };
    assert_eq!(ev[0], V::Bulk(b"command".to_vec()));
    assert!(matches!(ev[2], V::Int(ms) if ms >= 50));
    let V::Arr(hist) = c.call(&["LATENCY", "HISTORY", "command"]) else {
        panic!()
    };
    assert_eq!(hist.len(), 1);
    assert_eq!(c.call(&["LATENCY", "HISTORY", "nothing"]), V::Arr(vec![]));
    let doctor = c.call(&["LATENCY", "DOCTOR"]).text();
    assert!(doctor.contains("1. command: 1 latency spikes"));
    assert_eq!(c.call(&["LATENCY", "RESET", "nothing"]), V::Int(0));
    assert_eq!(c.call(&["LATENCY", "RESET"]), V::Int(1));
    assert_eq!(c.call(&["LATENCY", "LATEST"]), V::Arr(vec![]));
}

// ---- MONITOR -----------------------------------------------------------------

#[test]
fn monitor_feeds_executed_commands() {
    let s = TestServer::start();
    let mut m = Client::new(&s);
    assert_eq!(m.call(&["MONITOR"]), ok());
    let mut c = Client::new(&s);
    c.call(&["SET", "k", "v\"x\n"]);
    c.call(&["SELECT", "2"]);
    c.call(&["GET", "k"]);
    c.call(&["CONFIG", "GET", "port"]); // admin: not shown
    c.call(&["AUTH", "secret"]);
    c.call(&["MULTI"]);
    c.call(&["PING"]);
    c.call(&["EXEC"]);
    let lines: Vec<String> = (0..7).map(|_| m.line()).collect();
    let addr = match Client::new(&s).call(&["CLIENT", "LIST"]) {
        V::Bulk(b) => String::from_utf8(b).unwrap(),
        _ => panic!(),
    };
    let caddr = addr
        .lines()
        .find(|l| l.contains("cmd=exec"))
        .and_then(|l| l.split(' ').find_map(|f| f.strip_prefix("addr=")))
        .unwrap()
        .to_string();
    let strip = |l: &str| {
        // "+1700000000.123456 [db addr] args\r\n"
        let (ts, rest) = l.split_once(' ').unwrap();
        let (secs, us) = ts[1..].split_once('.').unwrap();
        assert!(secs.parse::<u64>().is_ok() && us.len() == 6, "{l}");
        assert!(l.starts_with('+') && l.ends_with("\r\n"));
        rest.trim_end().to_string()
    };
    let got: Vec<String> = lines.iter().map(|l| strip(l)).collect();
    assert_eq!(
        got,
        [
            format!("[0 {caddr}] \"SET\" \"k\" \"v\\\"x\\n\""),
            // The database after the command, as Valkey shows it.
            format!("[2 {caddr}] \"SELECT\" \"2\""),
            format!("[2 {caddr}] \"GET\" \"k\""),
            format!("[2 {caddr}] \"AUTH\" \"(redacted)\""),
            format!("[2 {caddr}] \"MULTI\""),
            format!("[2 {caddr}] \"PING\""),
            format!("[2 {caddr}] \"EXEC\""),
        ]
    );
    // A monitor may not touch the keyspace; RESET leaves monitor mode.
    assert_eq!(
        m.call(&["GET", "k"]),
        err("ERR Replica can't interact with the keyspace")
    );
    assert_eq!(m.call(&["RESET"]), V::Simple("RESET".into()));
    c.call(&["PING"]);
    assert_eq!(m.call(&["PING"]), V::Simple("PONG".into()));
}

/// A blocking command is shown when it blocks, not again when it is served
/// (introspection.tcl "MONITOR log blocked command only once").
#[test]
fn monitor_shows_a_blocked_command_once() {
    let s = TestServer::start();
    let mut m = Client::new(&s);
    assert_eq!(m.call(&["MONITOR"]), ok());
    let mut b = Client::new(&s);
    let mut c = Client::new(&s);
    b.send(&["BLPOP", "mylist", "0"]);
    wait_until(Duration::from_secs(5), "blocked", || {
        field(&c.call(&["INFO", "clients"]).text(), "blocked_clients").as_deref() == Some("1")
    });
    c.call(&["LPUSH", "mylist", "1"]);
    assert_eq!(b.read(), V::Arr(vec![bulk("mylist"), bulk("1")]));
    c.call(&["LPUSH", "mylist", "2"]);
    let mut shown = Vec::new();
    while shown.len() < 3 {
        let l = m.line();
        if !l.contains("\"INFO\"") {
            shown.push(l.split_once("] ").unwrap().1.trim_end().to_string());
        }
    }
    assert_eq!(
        shown,
        [
            "\"BLPOP\" \"mylist\" \"0\"",
            "\"LPUSH\" \"mylist\" \"1\"",
            "\"LPUSH\" \"mylist\" \"2\"",
        ]
    );
}

// ---- DEBUG, MEMORY, LASTSAVE, COMMAND DOCS --------------------------------

#[test]
fn debug_is_protected_by_default() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["DEBUG", "SLEEP", "0"]),
        err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
    );
    let s = TestServer::start_with(&["--enable-debug-command", "local"]);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0"]), ok());
}

#[test]
fn debug_subcommands() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["DEBUG", "SLEEP", "0"]), ok());
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert_eq!(c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), ok());
    assert_eq!(c.call(&["DEBUG", "DIGEST"]), V::Simple("0".repeat(40)));
    c.call(&["SET", "a", "1"]);
    let d1 = c.call(&["DEBUG", "DIGEST"]).text();
    assert_ne!(d1, "0".repeat(40));
    c.call(&["SET", "b", "2"]);
    let d2 = c.call(&["DEBUG", "DIGEST"]).text();
    assert_ne!(d1, d2);
    c.call(&["DEL", "b"]);
    assert_eq!(c.call(&["DEBUG", "DIGEST"]).text(), d1);
    let V::Arr(v) = c.call(&["DEBUG", "DIGEST-VALUE", "a", "missing"]) else {
        panic!()
    };
    assert_eq!(v[1], V::Simple("0".repeat(40)));
    assert_eq!(v[0].text().len(), 40);
    let obj = c.call(&["DEBUG", "OBJECT", "a"]).text();
    assert!(
        obj.starts_with("Value at:")
            && obj.contains(" refcount:1 encoding:int serializedlength:2 lru:")
    );
    assert!(obj.contains(" lru_seconds_idle:"));
    // A quicklist shows its shape (these figures are Valkey 8.1's for the
    // same pushes); serializedlength is its RDB size.
    c.call(&["CONFIG", "SET", "list-max-listpack-size", "-1"]);
    c.call(&["CONFIG", "SET", "list-compress-depth", "12"]);
    let items: Vec<String> = (0..6000).map(|i| (i % 10).to_string()).collect();
    let mut push = vec!["LPUSH", "ql"];
    push.extend(items.iter().map(String::as_str));
    assert_eq!(c.call(&push), int(6000));
    let obj = c.call(&["DEBUG", "OBJECT", "ql"]).text();
    assert!(
        obj.contains(" encoding:quicklist serializedlength:"),
        "{obj}"
    );
    assert!(
        obj.contains(" ql_nodes:3 ql_avg_node:2000.00 ql_listpack_max:-1 ql_compressed:1 ql_uncompressed_size:12021"),
        "{obj}"
    );
    let fast = c.call(&["DEBUG", "OBJECT", "ql", "fast"]).text();
    assert!(
        fast.ends_with(" ql_compressed:1") && !fast.contains("serializedlength"),
        "{fast}"
    );
    c.call(&["SADD", "set", "a"]);
    let obj = c.call(&["DEBUG", "OBJECT", "set"]).text();
    assert!(
        obj.contains(" encoding:listpack serializedlength:"),
        "{obj}"
    );
    assert!(!obj.contains(" serializedlength:0 "), "{obj}");
    assert_eq!(c.call(&["DEL", "ql", "set"]), int(2));
    assert_eq!(
        c.call(&["DEBUG", "OBJECT", "nokey"]),
        err("ERR no such key")
    );
    assert_eq!(
        c.call(&["DEBUG", "JMAP"]),
        err("ERR unknown subcommand or wrong number of arguments for 'JMAP'. Try DEBUG HELP.")
    );
    assert_eq!(
        c.call(&["DEBUG", "ERROR", "CUSTOM oops"]),
        err("CUSTOM oops")
    );
    assert_eq!(c.call(&["DEBUG", "POPULATE", "10"]), ok());
    assert_eq!(c.call(&["DBSIZE"]), V::Int(11));
    assert_eq!(c.call(&["GET", "key:3"]), V::Bulk(b"value:3".to_vec()));
    assert_eq!(c.call(&["DEBUG", "CHANGE-REPL-ID"]), ok());
    let V::Arr(help) = c.call(&["DEBUG", "HELP"]) else {
        panic!()
    };
    assert_eq!(
        help[0],
        V::Simple("DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
}

#[test]
fn debug_protocol_resp2_and_resp3_bytes() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut raw = s.raw();
    let cases2: &[(&[u8], &[u8])] = &[
        (b"string", b"$11\r\nHello World\r\n"),
        (b"integer", b":12345\r\n"),
        (b"double", b"$5\r\n3.141\r\n"),
        (
            b"bignum",
            b"$37\r\n1234567999999999999999999999999999999\r\n",
        ),
        (b"null", b"$-1\r\n"),
        (b"array", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
        (b"set", b"*3\r\n:0\r\n:1\r\n:2\r\n"),
        (b"map", b"*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n"),
        (
            b"attrib",
            b"$39\r\nSome real reply following the attribute\r\n",
        ),
        (b"push", b"-ERR RESP2 is not supported by this command\r\n"),
        (b"true", b":1\r\n"),
        (b"false", b":0\r\n"),
        (b"verbatim", b"$25\r\nThis is a verbatim\nstring\r\n"),
    ];
    for (ty, expected) in cases2 {
        raw.send(&encode(&[b"DEBUG", b"PROTOCOL", ty]));
        raw.expect(expected);
    }
    raw.send(&encode(&[b"DEBUG", b"PROTOCOL", b"nope"]));
    raw.expect(b"-ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false\r\n");
    let mut c = Client::new(&s);
    c.hello3();
    let cases3: &[(&[u8], &[u8])] = &[
        (b"double", b",3.141\r\n"),
        (b"bignum", b"(1234567999999999999999999999999999999\r\n"),
        (b"null", b"_\r\n"),
        (b"set", b"~3\r\n:0\r\n:1\r\n:2\r\n"),
        (b"map", b"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"),
        (b"attrib", b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"),
        (b"push", b">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n"),
        (b"true", b"#t\r\n"),
        (b"verbatim", b"=29\r\ntxt:This is a verbatim\nstring\r\n"),
    ];
    for (ty, expected) in cases3 {
        c.send_raw(&[b"DEBUG", b"PROTOCOL", ty]);
        let got = c.read_bytes(expected.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected)
        );
    }
}

#[test]
fn memory_usage_and_stats() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "twelve-bytes", "8bytes!!"]);
    let V::Int(n) = c.call(&["MEMORY", "USAGE", "twelve-bytes"]) else {
        panic!()
    };
    assert!(n > 0 && n <= 32, "MEMORY USAGE {n}");
    assert!(matches!(
        c.call(&["MEMORY", "USAGE", "twelve-bytes", "SAMPLES", "0"]),
        V::Int(_)
    ));
    assert_eq!(c.call(&["MEMORY", "USAGE", "missing"]), V::Nil);
    assert_eq!(
        c.call(&["MEMORY", "USAGE", "twelve-bytes", "SAMPLES"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["MEMORY", "USAGE", "twelve-bytes", "SAMPLES", "-1"]),
        err("ERR syntax error")
    );
    let big = "v".repeat(10_000);
    c.call(&["SET", "big", &big]);
    let V::Int(n) = c.call(&["MEMORY", "USAGE", "big"]) else {
        panic!()
    };
    assert!((10_000..12_000).contains(&n), "{n}");
    let V::Arr(stats) = c.call(&["MEMORY", "STATS"]) else {
        panic!()
    };
    // 31 fields plus db.0, as key/value pairs.
    assert_eq!(stats.len(), 64);
    assert_eq!(stats[0], V::Bulk(b"peak.allocated".to_vec()));
    assert!(stats.contains(&V::Bulk(b"db.0".to_vec())));
    assert!(stats.contains(&V::Bulk(b"keys.count".to_vec())));
    let doctor = c.call(&["MEMORY", "DOCTOR"]).text();
    assert!(doctor.starts_with("Hi Sam"));
    assert_eq!(
        c.call(&["MEMORY", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try MEMORY HELP.")
    );
}

#[test]
fn lastsave_and_command_docs() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let V::Int(t) = c.call(&["LASTSAVE"]) else {
        panic!()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - 60..=now).contains(&t));
    let V::Arr(docs) = c.call(&["COMMAND", "DOCS", "get", "nosuch", "client"]) else {
        panic!()
    };
    assert_eq!(docs.len(), 4);
    assert_eq!(docs[0], V::Bulk(b"get".to_vec()));
    let V::Arr(get) = &docs[1] else { panic!() };
    assert_eq!(get[0], V::Bulk(b"summary".to_vec()));
    assert!(get.contains(&V::Bulk(b"group".to_vec())));
    assert!(get.contains(&V::Bulk(b"string".to_vec())));
    let V::Arr(client) = &docs[3] else { panic!() };
    assert!(client.contains(&V::Bulk(b"subcommands".to_vec())));
    let V::Arr(list) = c.call(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*"]) else {
        panic!()
    };
    assert!(list.contains(&V::Bulk(b"client|list".to_vec())));
    assert!(!list.contains(&V::Bulk(b"get".to_vec())));
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "MEMORY", "USAGE", "k"]),
        V::Arr(vec![V::Bulk(b"k".to_vec())])
    );
}

// ---- SHUTDOWN ---------------------------------------------------------------

#[test]
fn shutdown_ends_the_process() {
    let mut s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["SHUTDOWN", "NOSAVE", "SAVE"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(
        c.call(&["SHUTDOWN"]),
        err("ERR Command not allowed inside a transaction")
    );
    c.call(&["DISCARD"]);
    assert!(s.is_alive());
    c.send(&["SHUTDOWN", "NOSAVE"]);
    // No reply: the connection closes with the server.
    assert_eq!(c.line(), "");
    s.wait_exit(Duration::from_secs(5));
    assert!(!s.is_alive());
}

// ---- AUTH, HELLO, protected mode, maxclients ---------------------------------

#[test]
fn requirepass_noauth_flow() {
    let s = TestServer::start_with(&["--requirepass", "s3cret"]);
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["GET", "k"]),
        err("NOAUTH Authentication required.")
    );
    assert_eq!(c.call(&["PING"]), err("NOAUTH Authentication required."));
    assert_eq!(
        c.call(&["AUTH", "wrong"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        c.call(&["HELLO", "3"]),
        err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
    );
    assert_eq!(c.call(&["AUTH", "s3cret"]), ok());
    assert_eq!(c.call(&["PING"]), V::Simple("PONG".into()));
    let mut d = Client::new(&s);
    assert_eq!(
        d.call(&["HELLO", "3", "AUTH", "default", "nope"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        d.call(&["HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "bad name"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        d.call(&["GET", "k"]),
        err("NOAUTH Authentication required.")
    );
    let V::Map(hello) = d.call(&[
        "HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "myconn",
    ]) else {
        panic!()
    };
    assert_eq!(hello[2], (V::Bulk(b"proto".to_vec()), V::Int(3)));
    assert_eq!(d.call(&["CLIENT", "GETNAME"]), V::Bulk(b"myconn".to_vec()));
    let text = d.info(&["stats"]);
    assert_eq!(field(&text, "acl_access_denied_auth").as_deref(), Some("2"));
    // RESET drops the authentication.
    assert_eq!(d.call(&["RESET"]), V::Simple("RESET".into()));
    assert_eq!(
        d.call(&["GET", "k"]),
        err("NOAUTH Authentication required.")
    );
}

/// A non-loopback address of this machine, if it has one.
fn external_ip() -> Option<std::net::IpAddr> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    sock.connect("10.255.255.255:9").ok()?;
    let ip = sock.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn protected_mode_denies_remote_clients() {
    let Some(ip) = external_ip() else {
        eprintln!("no non-loopback address: skipped");
        return;
    };
    let s = TestServer::start_with(&["--bind", "0.0.0.0"]);
    let Ok(mut sock) = TcpStream::connect((ip, s.port)) else {
        eprintln!("cannot reach {ip}: skipped");
        return;
    };
    sock.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut got = Vec::new();
    let _ = sock.read_to_end(&mut got);
    let got = String::from_utf8_lossy(&got);
    assert!(
        got.starts_with("-DENIED Running in protected mode because protected mode is enabled"),
        "{got}"
    );
    let mut c = Client::new(&s);
    let text = c.info(&["stats"]);
    assert_eq!(field(&text, "rejected_connections").as_deref(), Some("1"));
    // With protection off the same peer is served.
    assert_eq!(c.call(&["CONFIG", "SET", "protected-mode", "no"]), ok());
    let mut sock = TcpStream::connect((ip, s.port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).ok();
    sock.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    sock.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
}

#[test]
fn maxclients_error() {
    let s = TestServer::start_with(&["--maxclients", "2"]);
    // Let the server see the harness's readiness probe go away.
    std::thread::sleep(Duration::from_millis(300));
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    assert_eq!(a.call(&["PING"]), V::Simple("PONG".into()));
    assert_eq!(b.call(&["PING"]), V::Simple("PONG".into()));
    let mut c = Client::new(&s);
    assert_eq!(c.read(), err("ERR max number of clients reached"));
    let text = a.info(&["stats"]);
    assert_eq!(field(&text, "rejected_connections").as_deref(), Some("1"));
}

#[test]
fn sigterm_and_sigint_shut_down_cleanly() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut s = TestServer::start();
        let mut con = s.conn();
        let () = redis::cmd("SET").arg("k").arg("v").query(&mut con).unwrap();
        // SAFETY: signalling our own child process.
        assert_eq!(unsafe { libc::kill(s.pid() as i32, sig) }, 0);
        assert_eq!(
            s.wait_exit(std::time::Duration::from_secs(5)),
            Some(0),
            "signal {sig}"
        );
    }
}

// ---- COMMAND: key specs, docs, tips ------------------------------------------

#[test]
fn latency_histograms_per_command() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
    c.call(&["SET", "a", "b"]);
    c.call(&["SET", "c", "d"]);
    c.call(&["CLIENT", "ID"]);
    let V::Arr(all) = c.call(&["LATENCY", "HISTOGRAM"]) else {
        panic!()
    };
    let names: Vec<V> = all.iter().step_by(2).cloned().collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for n in ["set", "config|resetstat", "client|id"] {
        assert!(names.contains(&V::Bulk(n.as_bytes().to_vec())), "{n}");
    }
    // A container stands for its subcommands; unknown names are skipped.
    let V::Arr(h) = c.call(&["LATENCY", "HISTOGRAM", "nosuch", "client", "set"]) else {
        panic!()
    };
    assert_eq!(h.len(), 4);
    assert_eq!(h[0], V::Bulk(b"client|id".to_vec()));
    let V::Arr(set) = &h[3] else { panic!() };
    assert_eq!(set[0], V::Bulk(b"calls".to_vec()));
    assert_eq!(set[1], V::Int(2));
    assert_eq!(set[2], V::Bulk(b"histogram_usec".to_vec()));
    // Cumulative counts on power-of-two microsecond bounds.
    let V::Arr(buckets) = &set[3] else { panic!() };
    assert!(!buckets.is_empty() && buckets.len() % 2 == 0);
    assert_eq!(buckets.last(), Some(&V::Int(2)));
    // A 30 ms command lands in the bucket up to 33.8 ms (or a later
    // power-of-two bucket on a loaded machine).
    c.call(&["DEBUG", "SLEEP", "0.03"]);
    let V::Arr(d) = c.call(&["LATENCY", "HISTOGRAM", "debug"]) else {
        panic!()
    };
    let V::Arr(fields) = &d[1] else { panic!() };
    let V::Arr(b) = &fields[3] else { panic!() };
    assert!(
        matches!(b[0], V::Int(33_816) | V::Int(67_633) | V::Int(135_266)),
        "{b:?}"
    );
    // INFO latencystats: p50, p99, p99.9 by default.
    let info = c.info(&["latencystats"]);
    let line = field(&info, "latency_percentiles_usec_set").unwrap();
    let parts: Vec<&str> = line.split(',').collect();
    assert_eq!(parts.len(), 3);
    assert!(parts[0].starts_with("p50="));
    assert!(parts[1].starts_with("p99="));
    assert!(parts[2].starts_with("p99.9="));
    assert!(parts[0][4..].contains('.') && parts[0].len() - parts[0].find('.').unwrap() == 4);
    // latency-tracking off: no new data.
    c.call(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.call(&["CONFIG", "RESETSTAT"]);
    c.call(&["GET", "a"]);
    assert_eq!(c.call(&["LATENCY", "HISTOGRAM"]), V::Arr(vec![]));
}

#[test]
fn debug_htstats_shows_the_tables_like_valkey() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["DEBUG", "HTSTATS", "0"]).text(),
        "[Dictionary HT]\n[Expires HT]\n"
    );
    c.call(&["SET", "a", "1"]);
    let full = c.call(&["DEBUG", "HTSTATS", "0", "FULL"]).text();
    assert_eq!(
        full,
        "[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 8\n \
         number of entries: 1\n top-level buckets: 1\n child buckets: 0\n max chain length: 0\n \
         avg chain length: 0.00\n chain length distribution:\n   0: 1 (100.00%)\n[Expires HT]\n"
    );
    assert_eq!(
        c.call(&["DEBUG", "HTSTATS", "16"]),
        err("ERR Out of range database")
    );
    assert_eq!(
        c.call(&["DEBUG", "HTSTATS", "x"]),
        err("ERR value is not an integer or out of range")
    );
    // A set in its hashtable encoding; not a listpack, not a string.
    let members: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let mut sadd = vec!["SADD", "s"];
    sadd.extend(members.iter().map(String::as_str));
    assert_eq!(c.call(&sadd), int(200));
    let stats = c.call(&["DEBUG", "HTSTATS-KEY", "s"]).text();
    assert!(
        stats.starts_with("Hash table 0 stats (main hash table):\n table size: ")
            && stats.ends_with(" number of entries: 200\n"),
        "{stats}"
    );
    let stats = c.call(&["DEBUG", "HTSTATS-KEY", "s", "full"]).text();
    assert!(stats.contains(" top-level buckets: 32\n"), "{stats}");
    c.call(&["SADD", "small", "x"]);
    let not_table =
        err("ERR The value stored at the specified key is not represented using an hash table");
    assert_eq!(c.call(&["DEBUG", "HTSTATS-KEY", "small"]), not_table);
    assert_eq!(c.call(&["DEBUG", "HTSTATS-KEY", "a"]), not_table);
    assert_eq!(
        c.call(&["DEBUG", "HTSTATS-KEY", "nokey"]),
        err("ERR no such key")
    );
}

#[test]
fn debug_pause_cron_stops_the_periodic_work() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes", "--hz", "100"]);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["DEBUG", "PAUSE-CRON", "1"]), ok());
    assert_eq!(c.call(&["SET", "k", "v", "PX", "20"]), ok());
    std::thread::sleep(Duration::from_millis(300));
    // Nobody read the key and the cron is off: it is still there.
    assert_eq!(c.call(&["DBSIZE"]), int(1));
    assert!(c
        .call(&["INFO", "stats"])
        .text()
        .contains("expired_keys:0\r\n"));
    assert_eq!(c.call(&["DEBUG", "PAUSE-CRON", "0"]), ok());
    wait_until(Duration::from_secs(5), "active expiry", || {
        c.call(&["DBSIZE"]) == int(0)
    });
}

#[test]
fn latency_graph_draws_the_event() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["LATENCY", "GRAPH", "command"]),
        err("ERR No samples available for event 'command'")
    );
    c.call(&["CONFIG", "SET", "latency-monitor-threshold", "1"]);
    c.call(&["DEBUG", "SLEEP", "0.02"]);
    let graph = c.call(&["LATENCY", "GRAPH", "command"]).text();
    let lines: Vec<&str> = graph.split('\n').collect();
    assert!(lines[0].starts_with("command - high "), "{graph}");
    assert_eq!(lines[1], "-".repeat(80));
    // One sample: the bottom of the scale (no range to scale to), a blank
    // line, then the age label written downwards: "0s", or "1s" when a
    // wall-clock second ended between the sample and the graph.
    assert_eq!(&lines[2..5], [" ", " ", " "], "{graph}");
    assert_eq!(&lines[5..7], ["_", " "], "{graph}");
    assert!(lines[7] == "0" || lines[7] == "1", "{graph}");
    assert_eq!(&lines[8..], ["s", ""], "{graph}");
}

// ---- CONFIG SET apply failures, CLUSTER, MODULE ---------------------------------

#[test]
fn config_set_port_rolls_back_when_it_cannot_listen() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let before = c.call(&["CONFIG", "GET", "maxmemory"]);
    assert_eq!(
        c.call(&["CONFIG", "SET", "maxmemory", "10000001", "port", &port]),
        err("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.")
    );
    assert_eq!(c.call(&["CONFIG", "GET", "maxmemory"]), before);
    assert_eq!(
        c.call(&["CONFIG", "GET", "port"]),
        V::Arr(vec![
            V::Bulk(b"port".to_vec()),
            V::Bulk(s.port.to_string().into_bytes())
        ])
    );
    // Still listening on the old port.
    let mut d = Client::new(&s);
    assert_eq!(d.call(&["PING"]), V::Simple("PONG".into()));
    // A free port works, and the old one is closed.
    drop(busy);
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let new_port = free.local_addr().unwrap().port();
    drop(free);
    assert_eq!(
        c.call(&["CONFIG", "SET", "port", &new_port.to_string()]),
        ok()
    );
    let mut e = TcpStream::connect(("127.0.0.1", new_port)).unwrap();
    e.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    e.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    assert!(TcpStream::connect(("127.0.0.1", s.port)).is_err());
}

#[test]
fn cluster_module_readonly_without_cluster_mode() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let disabled = err("ERR This instance has cluster support disabled");
    assert_eq!(c.call(&["CLUSTER", "HELP"]), disabled);
    assert_eq!(c.call(&["CLUSTER", "KEYSLOT", "foo"]), disabled);
    assert_eq!(c.call(&["ASKING"]), disabled);
    assert_eq!(
        c.call(&["CLUSTER", "NOPE"]),
        err("ERR unknown subcommand 'NOPE'. Try CLUSTER HELP.")
    );
    assert_eq!(c.call(&["READONLY"]), ok());
    assert!(c.call(&["CLIENT", "INFO"]).text().contains(" flags=r "));
    assert_eq!(c.call(&["READWRITE"]), ok());
    assert_eq!(c.call(&["MODULE", "LIST"]), V::Arr(vec![]));
    assert_eq!(
        c.call(&["MODULE", "LOAD", "/nonexistent.so"]),
        err("ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
    );
    let V::Arr(help) = c.call(&["MODULE", "HELP"]) else {
        panic!()
    };
    assert_eq!(
        help[0],
        V::Simple("MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
    let t = TestServer::start_with(&["--enable-module-command", "yes"]);
    let mut d = Client::new(&t);
    assert_eq!(
        d.call(&["MODULE", "LOAD", "/nonexistent.so"]),
        err("ERR Error loading the extension. Please check the server logs.")
    );
    assert_eq!(
        d.call(&["MODULE", "UNLOAD", "x"]),
        err("ERR Error unloading module: no such module with that name")
    );
}

/// `THP_enabled` from /proc/PID/status (Linux 5.0+), if the kernel shows it.
fn thp_enabled(pid: u32) -> Option<bool> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("THP_enabled:"))?;
    Some(line.split_whitespace().nth(1)? == "1")
}

/// `disable-thp yes` (the default) turns transparent huge pages off for the
/// server, `no` leaves them as the kernel has them.
#[test]
fn disable_thp_turns_huge_pages_off_for_the_process() {
    let mode =
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").unwrap_or_default();
    let on = TestServer::start();
    let off = TestServer::start_with(&["--disable-thp", "no"]);
    assert_eq!(
        on.cli(&["CONFIG", "GET", "disable-thp"]).trim_end(),
        "disable-thp\nyes"
    );
    assert_eq!(
        off.cli(&["CONFIG", "GET", "disable-thp"]).trim_end(),
        "disable-thp\nno"
    );
    // The process flag is only set where the kernel could give huge pages.
    let kernel_has_thp = mode.contains("[always]") || mode.contains("[madvise]");
    let (Some(default), Some(kept)) = (thp_enabled(on.pid()), thp_enabled(off.pid())) else {
        return; // no THP_enabled field (kernel before 5.0): nothing to observe
    };
    assert!(kept, "disable-thp no leaves the process flag alone");
    assert_eq!(default, !kernel_has_thp, "disable-thp yes turns THP off");
}
