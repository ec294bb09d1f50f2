//! CLIENT and connection handling through the real binary: ID, SETNAME /
//! GETNAME, LIST / INFO format and filters, KILL (old and new forms),
//! REPLY OFF / SKIP, SETINFO, NO-EVICT / NO-TOUCH flags, PAUSE WRITE / ALL
//! holding commands, unknown subcommands, idle `timeout`, the query and
//! output buffer limits, and client-side caching (TRACKING, CACHING,
//! GETREDIR, TRACKINGINFO).

mod common;
use common::{as_int, bulk, encode, err, info_field as field, ok, Client, TestServer, V};
use std::io::Write;
use std::time::{Duration, Instant};

/// `key=value` of a CLIENT LIST line.
fn kv(line: &str, key: &str) -> String {
    line.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        .to_string()
}

fn client_id(c: &mut Client) -> i64 {
    as_int(c.call(&["CLIENT", "ID"]))
}

// ---- ID, names, SETINFO ---------------------------------------------------

#[test]
fn id_setname_getname_and_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut d = Client::new(&s);
    let (a, b) = (client_id(&mut c), client_id(&mut d));
    assert!(a > 0 && b > a);
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), V::Nil);
    assert_eq!(c.call(&["CLIENT", "SETNAME", "conn-1"]), ok());
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), V::Bulk(b"conn-1".to_vec()));
    for bad in ["with space", "new\nline", "tab\t", "é"] {
        assert_eq!(
            c.call(&["CLIENT", "SETNAME", bad]),
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
    }
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), V::Bulk(b"conn-1".to_vec()));
    assert_eq!(c.call(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), V::Nil);
    assert_eq!(
        c.call(&["CLIENT", "SETNAME"]),
        err("ERR wrong number of arguments for 'client|setname' command")
    );
    assert_eq!(
        c.call(&["CLIENT"]),
        err("ERR wrong number of arguments for 'client' command")
    );
    // RESP3: GETNAME of no name is a null.
    c.call(&["HELLO", "3"]);
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), V::Null);
}

#[test]
fn setinfo_validation_and_list_fields() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["CLIENT", "SETINFO", "LIB-NAME", "redis-py"]), ok());
    assert_eq!(c.call(&["CLIENT", "SETINFO", "lib-ver", "5.0.1"]), ok());
    assert_eq!(
        c.call(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        err("ERR lib-name cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        c.call(&["CLIENT", "SETINFO", "badopt", "x"]),
        err("ERR Unrecognized option 'badopt'")
    );
    let info = c.call(&["CLIENT", "INFO"]).text();
    assert!(info.ends_with('\n') && info.lines().count() == 1);
    assert_eq!(kv(&info, "lib-name"), "redis-py");
    assert_eq!(kv(&info, "lib-ver"), "5.0.1");
    assert_eq!(kv(&info, "cmd"), "client|info");
    assert_eq!(kv(&info, "flags"), "N");
    assert_eq!(kv(&info, "db"), "0");
    assert_eq!(kv(&info, "multi"), "-1");
    assert_eq!(kv(&info, "resp"), "2");
    assert_eq!(kv(&info, "user"), "default");
    // Valkey 8 reads into a shared buffer: with nothing left after the
    // running command, the client has no query buffer of its own.
    assert_eq!(kv(&info, "qbuf"), "0");
    assert_eq!(kv(&info, "qbuf-free"), "0");
    assert_eq!(kv(&info, "argv-mem"), "10");
    let keys: Vec<&str> = info
        .trim_end()
        .split(' ')
        .map(|f| f.split('=').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "watch",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver",
            "tot-net-in",
            "tot-net-out",
            "tot-cmds"
        ]
    );
    // Empty value clears.
    assert_eq!(c.call(&["CLIENT", "SETINFO", "lib-ver", ""]), ok());
    let info = c.call(&["CLIENT", "INFO"]).text();
    assert_eq!(kv(&info, "lib-ver"), "");
}

#[test]
fn list_shows_every_client_with_filters() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    b.call(&["CLIENT", "SETNAME", "bee"]);
    b.call(&["SELECT", "3"]);
    b.call(&["MULTI"]);
    b.call(&["SET", "k", "v"]);
    let (ida, idb) = (client_id(&mut a), {
        // b is in MULTI: ask a for b's id through the list instead.
        let list = a.call(&["CLIENT", "LIST"]).text();
        let line = list.lines().find(|l| l.contains("name=bee")).unwrap();
        kv(line, "id").parse::<i64>().unwrap()
    });
    let list = a.call(&["CLIENT", "LIST"]).text();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(list.ends_with('\n'));
    assert_eq!(kv(lines[0], "id"), ida.to_string());
    assert_eq!(kv(lines[0], "cmd"), "client|list");
    let lb = lines[1];
    assert_eq!(kv(lb, "name"), "bee");
    assert_eq!(kv(lb, "db"), "3");
    assert_eq!(kv(lb, "flags"), "x");
    assert_eq!(kv(lb, "multi"), "1");
    assert_eq!(kv(lb, "cmd"), "set");
    assert!(kv(lb, "multi-mem").parse::<u64>().unwrap() >= 5);
    let one = a
        .call(&["CLIENT", "LIST", "ID", &idb.to_string(), "999999"])
        .text();
    assert_eq!(one.lines().count(), 1);
    assert!(one.starts_with(&format!("id={idb} ")));
    assert_eq!(
        a.call(&["CLIENT", "LIST", "ID", "x"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(
        a.call(&["CLIENT", "LIST", "TYPE", "normal"])
            .text()
            .lines()
            .count(),
        2
    );
    assert_eq!(a.call(&["CLIENT", "LIST", "TYPE", "pubsub"]).text(), "");
    assert_eq!(a.call(&["CLIENT", "LIST", "TYPE", "replica"]).text(), "");
    assert_eq!(
        a.call(&["CLIENT", "LIST", "TYPE", "bogus"]),
        err("ERR Unknown client type 'bogus'")
    );
    assert_eq!(
        a.call(&["CLIENT", "LIST", "extra"]),
        err("ERR syntax error")
    );
    // Flags for NO-EVICT / NO-TOUCH.
    assert_eq!(a.call(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(a.call(&["CLIENT", "NO-TOUCH", "ON"]), ok());
    assert_eq!(
        a.call(&["CLIENT", "NO-TOUCH", "maybe"]),
        err("ERR syntax error")
    );
    let info = a.call(&["CLIENT", "INFO"]).text();
    assert_eq!(kv(&info, "flags"), "eT");
    assert_eq!(a.call(&["CLIENT", "NO-EVICT", "off"]), ok());
    assert_eq!(a.call(&["CLIENT", "NO-TOUCH", "off"]), ok());
    // RESP3: verbatim.
    a.call(&["HELLO", "3"]);
    assert!(matches!(a.call(&["CLIENT", "INFO"]), V::Verbatim(ext, _) if ext == "txt"));
}

// ---- KILL --------------------------------------------------------------------

#[test]
fn kill_by_id_addr_and_filters() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    let idb = client_id(&mut b);
    assert_eq!(
        a.call(&["CLIENT", "KILL", "ID", &idb.to_string()]),
        V::Int(1)
    );
    assert!(b.closed());
    assert_eq!(a.call(&["CLIENT", "LIST"]).text().lines().count(), 1);
    // Old form by address.
    let mut c = Client::new(&s);
    let addr = kv(&c.call(&["CLIENT", "INFO"]).text(), "addr");
    assert_eq!(a.call(&["CLIENT", "KILL", &addr]), ok());
    assert!(c.closed());
    assert_eq!(
        a.call(&["CLIENT", "KILL", "127.0.0.1:1"]),
        err("ERR No such client")
    );
    // SKIPME yes (default) spares the caller.
    let ida = client_id(&mut a);
    assert_eq!(
        a.call(&["CLIENT", "KILL", "ID", &ida.to_string()]),
        V::Int(0)
    );
    assert_eq!(
        a.call(&["CLIENT", "KILL", "ID", "0"]),
        err("ERR client-id should be greater than 0")
    );
    assert_eq!(
        a.call(&["CLIENT", "KILL", "TYPE", "bogus"]),
        err("ERR Unknown client type 'bogus'")
    );
    assert_eq!(
        a.call(&["CLIENT", "KILL", "USER", "nobody"]),
        err("ERR No such user 'nobody'")
    );
    assert_eq!(
        a.call(&["CLIENT", "KILL", "MAXAGE", "0"]),
        err("ERR maxage should be greater than 0")
    );
    assert_eq!(
        a.call(&["CLIENT", "KILL", "SKIPME", "maybe"]),
        err("ERR syntax error")
    );
    assert_eq!(
        a.call(&["CLIENT", "KILL", "ID", "1", "ADDR"]),
        err("ERR syntax error")
    );
    // By local address, sparing no one: the caller gets its reply, then
    // the connection closes.
    let mut d = Client::new(&s);
    let laddr = kv(&a.call(&["CLIENT", "INFO"]).text(), "laddr");
    assert_eq!(
        a.call(&["CLIENT", "KILL", "LADDR", &laddr, "SKIPME", "no"]),
        V::Int(2)
    );
    assert!(a.closed());
    assert!(d.closed());
}

// ---- REPLY -------------------------------------------------------------------

#[test]
fn reply_off_and_skip() {
    let s = TestServer::start();
    let mut raw = s.raw();
    raw.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    raw.send(&encode(&[b"SET", b"a", b"1"]));
    raw.send(&encode(&[b"GET", b"a"]));
    raw.expect(b"$1\r\n1\r\n");
    raw.send(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    raw.send(&encode(&[b"SET", b"b", b"2"]));
    raw.send(&encode(&[b"GET", b"nokey", b"extra"]));
    raw.send(&encode(&[b"CLIENT", b"REPLY", b"SKIP"]));
    raw.send(&encode(&[b"CLIENT", b"REPLY", b"ON"]));
    raw.send(&encode(&[b"GET", b"b"]));
    raw.expect(b"+OK\r\n$1\r\n2\r\n");
    raw.send(&encode(&[b"CLIENT", b"REPLY", b"MAYBE"]));
    raw.expect(b"-ERR syntax error\r\n");
}

// ---- PAUSE -------------------------------------------------------------------

#[test]
fn pause_write_holds_writes_not_reads() {
    let s = TestServer::start();
    let mut admin = Client::new(&s);
    let mut writer = Client::new(&s);
    let mut reader = Client::new(&s);
    admin.call(&["SET", "k", "before"]);
    assert_eq!(admin.call(&["CLIENT", "PAUSE", "100000", "WRITE"]), ok());
    writer.send(&["SET", "k", "after"]);
    assert!(writer.silent_for(200), "write ran during a WRITE pause");
    assert_eq!(reader.call(&["GET", "k"]), V::Bulk(b"before".to_vec()));
    assert_eq!(reader.call(&["PING"]), V::Simple("PONG".into()));
    let info = admin.call(&["INFO", "clients"]).text();
    assert_eq!(field(&info, "blocked_clients").as_deref(), Some("1"));
    let list = admin.call(&["CLIENT", "LIST"]).text();
    assert!(list.lines().any(|l| kv(l, "flags") == "b"));
    // MULTI with a write is held at EXEC; read-only MULTI runs.
    reader.call(&["MULTI"]);
    reader.call(&["GET", "k"]);
    assert_eq!(
        reader.call(&["EXEC"]),
        V::Arr(vec![V::Bulk(b"before".to_vec())])
    );
    assert_eq!(admin.call(&["CLIENT", "UNPAUSE"]), ok());
    assert_eq!(writer.read(), ok());
    assert_eq!(reader.call(&["GET", "k"]), V::Bulk(b"after".to_vec()));
}

#[test]
fn pause_all_and_timeout() {
    let s = TestServer::start();
    let mut admin = Client::new(&s);
    let mut other = Client::new(&s);
    let start = Instant::now();
    assert_eq!(admin.call(&["CLIENT", "PAUSE", "300", "ALL"]), ok());
    // A WRITE pause does not weaken the running ALL pause.
    admin.send(&["CLIENT", "PAUSE", "10", "WRITE"]);
    assert_eq!(other.call(&["PING"]), V::Simple("PONG".into()));
    assert!(start.elapsed() >= Duration::from_millis(280));
    assert_eq!(admin.read(), ok());
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "100", "SOME"]),
        err("ERR CLIENT PAUSE mode must be WRITE or ALL")
    );
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "abc"]),
        err("ERR timeout is not an integer or out of range")
    );
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        admin.call(&["CLIENT", "PAUSE", "1", "ALL", "x"]),
        err("ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")
    );
}

// ---- unknown subcommands, HELP -------------------------------------------------

#[test]
fn unknown_subcommands_and_help() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["CLIENT", "TRACKINGS", "on"]),
        err("ERR unknown subcommand 'TRACKINGS'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.call(&["CLIENT", "nope"]),
        err("ERR unknown subcommand 'nope'. Try CLIENT HELP.")
    );
    let V::Arr(help) = c.call(&["CLIENT", "HELP"]) else {
        panic!()
    };
    assert_eq!(
        help[0],
        V::Simple("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
    assert_eq!(help.last(), Some(&V::Simple("    Print this help.".into())));
    assert_eq!(c.call(&["CLIENT", "GETREDIR"]), V::Int(-1));
    assert_eq!(c.call(&["CLIENT", "UNBLOCK", "1"]), V::Int(0));
    assert_eq!(
        c.call(&["CLIENT", "UNBLOCK", "1", "SOON"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    assert_eq!(
        c.call(&["CLIENT", "TRACKINGINFO"]),
        V::Arr(vec![
            V::Bulk(b"flags".to_vec()),
            V::Arr(vec![V::Bulk(b"off".to_vec())]),
            V::Bulk(b"redirect".to_vec()),
            V::Int(-1),
            V::Bulk(b"prefixes".to_vec()),
            V::Arr(vec![]),
        ])
    );
    let info = c.call(&["INFO", "errorstats"]).text();
    assert_eq!(field(&info, "errorstat_ERR").as_deref(), Some("count=3"));
}

// ---- timeout, buffer limits ----------------------------------------------------

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = TestServer::start_with(&["--timeout", "1"]);
    let mut idle = Client::new(&s);
    let mut monitor = Client::new(&s);
    assert_eq!(monitor.call(&["MONITOR"]), ok());
    assert_eq!(idle.call(&["PING"]), V::Simple("PONG".into()));
    let start = Instant::now();
    assert!(idle.closed());
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // Monitors are exempt: still open after seeing the PING.
    assert!(monitor.read().text().ends_with("\"PING\""));
    assert_eq!(monitor.call(&["PING"]), V::Simple("PONG".into()));
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let s = TestServer::start_with(&["--client-query-buffer-limit", "1mb"]);
    let mut raw = s.raw();
    raw.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..20 {
        if raw.0.write_all(&chunk).is_err() {
            break;
        }
    }
    assert!(raw.read_to_end().is_empty());
    let mut c = Client::new(&s);
    let info = c.call(&["INFO", "stats"]).text();
    assert_eq!(
        field(&info, "client_query_buffer_limit_disconnections").as_deref(),
        Some("1")
    );
}

#[test]
fn output_buffer_limit_closes_the_client() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 100kb 0 0"
        ]),
        ok()
    );
    let big = "x".repeat(300 * 1024);
    assert_eq!(c.call(&["SET", "big", &big]), ok());
    let mut victim = Client::new(&s);
    victim.send(&["GET", "big"]);
    assert!(victim.closed());
    let info = c.call(&["INFO", "stats"]).text();
    assert_eq!(
        field(&info, "client_output_buffer_limit_disconnections").as_deref(),
        Some("1")
    );
    // Small replies are unaffected.
    assert_eq!(c.call(&["PING"]), V::Simple("PONG".into()));
}

// ---- per-client statistics --------------------------------------------------

#[test]
fn tot_cmds_counts_finished_commands_and_qbuf_shows_pending_input() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // The first command does not count itself (Valkey counts after the run).
    let info = c.call(&["CLIENT", "INFO"]).text();
    assert_eq!(kv(info.trim_end(), "tot-cmds"), "0");
    assert_eq!(kv(&info, "tot-net-in"), "26");
    let info = c.call(&["CLIENT", "INFO"]).text();
    assert_eq!(kv(info.trim_end(), "tot-cmds"), "1");
    assert_eq!(kv(&info, "tot-net-in"), "52");
    // Input pipelined after the running command: the client owns the whole
    // buffer (both commands, 40 bytes).
    let mut two = encode(&[b"CLIENT", b"INFO"]);
    two.extend_from_slice(&encode(&[b"PING"]));
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.write_all(&two).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"+PONG\r\n") {
        let n = std::io::Read::read(&mut sock, &mut buf).unwrap();
        assert!(n > 0, "closed");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert_eq!(kv(&text, "qbuf"), "40");
}

// ---- client-side caching --------------------------------------------------------

/// One RESP3 invalidation push for `key`.
fn invalidation(key: &str) -> Vec<u8> {
    format!(
        ">2\r\n$10\r\ninvalidate\r\n*1\r\n${}\r\n{key}\r\n",
        key.len()
    )
    .into_bytes()
}

#[test]
fn tracking_sends_invalidations_after_the_reply() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    a.hello3();
    assert_eq!(a.call(&["CLIENT", "TRACKING", "ON"]), ok());
    assert_eq!(a.call(&["GET", "k"]), V::Null);
    assert_eq!(b.call(&["SET", "k", "v"]), ok());
    assert_eq!(a.read_raw(), invalidation("k"));
    // Once sent, the key is forgotten until read again.
    assert_eq!(b.call(&["SET", "k", "w"]), ok());
    assert!(a.silent_for(200));
    // A change by the client itself: the reply first, then the push.
    assert_eq!(a.call(&["GET", "k"]), V::Bulk(b"w".to_vec()));
    assert_eq!(a.call_raw(&[b"SET", b"k", b"x"]), b"+OK\r\n");
    assert_eq!(a.read_raw(), invalidation("k"));
    // In a transaction, after the whole EXEC reply.
    a.call(&["GET", "k"]);
    a.call(&["MULTI"]);
    a.call(&["SET", "k", "1"]);
    assert_eq!(a.call_raw(&[b"EXEC"]), b"*1\r\n+OK\r\n");
    assert_eq!(a.read_raw(), invalidation("k"));
    // FLUSHALL invalidates everything with a null.
    a.call(&["GET", "k"]);
    assert_eq!(b.call(&["FLUSHALL"]), ok());
    assert_eq!(a.read_raw(), b">2\r\n$10\r\ninvalidate\r\n_\r\n");
    let info = b.info(&["stats"]);
    assert_eq!(field(&info, "tracking_total_keys").as_deref(), Some("0"));
    let info = b.info(&["clients"]);
    assert_eq!(field(&info, "tracking_clients").as_deref(), Some("1"));
}

#[test]
fn over_the_tracking_table_limit_the_next_command_invalidates_first() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    assert_eq!(
        b.call(&["CONFIG", "SET", "tracking-table-max-keys", "2"]),
        ok()
    );
    a.hello3();
    assert_eq!(a.call(&["CLIENT", "TRACKING", "ON"]), ok());
    assert_eq!(
        a.call(&["MGET", "1{tag}", "2{tag}"]),
        V::Arr(vec![V::Null, V::Null])
    );
    assert_eq!(a.call(&["MULTI"]), ok());
    assert_eq!(
        b.call(&["CONFIG", "SET", "tracking-table-max-keys", "1"]),
        ok()
    );
    // Valkey's #11715: the command only gets queued, yet the table is
    // trimmed before it, and the push comes before the QUEUED.
    let raw = a.call_raw(&[b"PING"]);
    let push = String::from_utf8_lossy(&raw).into_owned();
    assert!(
        push.starts_with(">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\n") && push.ends_with("{tag}\r\n"),
        "{push}"
    );
    assert_eq!(a.read(), V::Simple("QUEUED".into()));
    assert_eq!(a.call(&["EXEC"]), V::Arr(vec![V::Simple("PONG".into())]));
}

#[test]
fn tracking_noloop_optin_optout() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    a.hello3();
    assert_eq!(a.call(&["CLIENT", "TRACKING", "ON", "NOLOOP"]), ok());
    a.call(&["GET", "k"]);
    assert_eq!(a.call_raw(&[b"SET", b"k", b"1"]), b"+OK\r\n");
    assert!(a.silent_for(200));
    // OPTIN: only the command after CLIENT CACHING YES is tracked.
    assert_eq!(a.call(&["CLIENT", "TRACKING", "OFF"]), ok());
    assert_eq!(a.call(&["CLIENT", "TRACKING", "ON", "OPTIN"]), ok());
    a.call(&["GET", "k1"]);
    assert_eq!(a.call(&["CLIENT", "CACHING", "YES"]), ok());
    a.call(&["GET", "k2"]);
    assert_eq!(b.call(&["MSET", "k1", "1", "k2", "2"]), ok());
    assert_eq!(a.read_raw(), invalidation("k2"));
    assert!(a.silent_for(200));
    assert_eq!(
        a.call(&["CLIENT", "CACHING", "NO"]),
        err("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
    );
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "ON", "OPTOUT"]),
        err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
    );
    // OPTOUT: everything but the command after CLIENT CACHING NO.
    a.call(&["CLIENT", "TRACKING", "OFF"]);
    assert_eq!(a.call(&["CLIENT", "TRACKING", "ON", "OPTOUT"]), ok());
    assert_eq!(a.call(&["CLIENT", "CACHING", "NO"]), ok());
    a.call(&["GET", "k1"]);
    a.call(&["GET", "k2"]);
    assert_eq!(b.call(&["MSET", "k1", "1", "k2", "2"]), ok());
    assert_eq!(a.read_raw(), invalidation("k2"));
    assert!(a.silent_for(200));
}

#[test]
fn tracking_bcast_prefixes() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    a.hello3();
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b"]),
        ok()
    );
    assert_eq!(
        b.call(&["MSET", "a1", "1", "b1", "2", "c1", "3", "a2", "4"]),
        ok()
    );
    // One array per prefix, keys sorted.
    let mut got = vec![a.read_raw(), a.read_raw()];
    got.sort();
    assert_eq!(
        got,
        [
            b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nb1\r\n".to_vec(),
            b">2\r\n$10\r\ninvalidate\r\n*2\r\n$2\r\na1\r\n$2\r\na2\r\n".to_vec(),
        ]
    );
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab"]),
        err("ERR Prefix 'ab' overlaps with an existing prefix 'a'. Prefixes for a single client must not overlap.")
    );
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "ON"]),
        err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
    );
    let V::Map(info) = a.call(&["CLIENT", "TRACKINGINFO"]) else {
        panic!()
    };
    assert_eq!(
        info,
        vec![
            (bulk("flags"), V::Set(vec![bulk("on"), bulk("bcast")])),
            (bulk("redirect"), V::Int(0)),
            (bulk("prefixes"), V::Arr(vec![bulk("a"), bulk("b")])),
        ]
    );
    let list = a.call(&["CLIENT", "INFO"]).text();
    assert_eq!(kv(&list, "flags"), "tB");
    assert_eq!(kv(&list, "redir"), "0");
    let info = b.info(&["stats"]);
    assert_eq!(
        field(&info, "tracking_total_prefixes").as_deref(),
        Some("2")
    );
}

#[test]
fn tracking_redirection_and_broken_redirect() {
    let s = TestServer::start();
    let mut r = Client::new(&s);
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    r.hello3();
    let rid = client_id(&mut r);
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "ON", "REDIRECT", &rid.to_string()]),
        ok()
    );
    assert_eq!(a.call(&["CLIENT", "GETREDIR"]), V::Int(rid));
    a.call(&["GET", "k"]);
    assert_eq!(b.call(&["SET", "k", "1"]), ok());
    assert_eq!(r.read_raw(), invalidation("k"));
    // The target goes away: a RESP3 tracker is told, and flagged R.
    a.hello3();
    a.call(&["GET", "k"]);
    drop(r);
    common::wait_until(Duration::from_secs(5), "redirect client gone", || {
        !b.call(&["CLIENT", "LIST"])
            .text()
            .contains(&format!("id={rid} "))
    });
    assert_eq!(b.call(&["SET", "k", "2"]), ok());
    assert_eq!(
        a.read_raw(),
        format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{rid}\r\n").into_bytes()
    );
    let line = a.call(&["CLIENT", "INFO"]).text();
    assert_eq!(kv(&line, "flags"), "tR");
    assert_eq!(kv(&line, "redir"), rid.to_string());
    assert_eq!(
        a.call(&["CLIENT", "TRACKING", "ON", "REDIRECT", "999999"]),
        err("ERR The client ID you want redirect to does not exist")
    );
    // RESET turns tracking off.
    assert_eq!(a.call(&["RESET"]), V::Simple("RESET".into()));
    assert_eq!(a.call(&["CLIENT", "GETREDIR"]), V::Int(-1));
    assert_eq!(kv(&a.call(&["CLIENT", "INFO"]).text(), "flags"), "N");
}

#[test]
fn client_caching_and_tracking_unhappy_paths() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["CLIENT", "CACHING"]),
        err("ERR wrong number of arguments for 'client|caching' command")
    );
    let not_tracking = err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
    assert_eq!(c.call(&["CLIENT", "CACHING", "maybe"]), not_tracking);
    assert_eq!(c.call(&["CLIENT", "CACHING", "yes"]), not_tracking);
    assert_eq!(
        c.call(&["CLIENT", "TRACKING", "wrongInput"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["CLIENT", "TRACKING", "on", "wrongInput"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["CLIENT", "TRACKING", "on", "PREFIX", "x"]),
        err("ERR PREFIX option requires BCAST mode to be enabled")
    );
    assert_eq!(
        c.call(&["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"]),
        err("ERR OPTIN and OPTOUT are not compatible with BCAST")
    );
    assert_eq!(
        c.call(&["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]),
        err("ERR You can't specify both OPTIN mode and OPTOUT mode")
    );
    assert_eq!(c.call(&["CLIENT", "TRACKING", "on", "optout"]), ok());
    assert_eq!(
        c.call(&["CLIENT", "CACHING", "on"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["CLIENT", "CACHING", "yes"]),
        err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    );
    assert_eq!(c.call(&["CLIENT", "TRACKING", "off", "optout"]), ok());
    assert_eq!(c.call(&["CLIENT", "CACHING", "on"]), not_tracking);
}
