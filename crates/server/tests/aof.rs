//! The append-only file through the real binary: every type survives a
//! restart, the multi-part layout on disk (manifest, base, incremental
//! files) matches Valkey 8's, BGREWRITEAOF while writes continue loses
//! nothing, a directory written by hand in Valkey's layout loads (command
//! base and RDB base), a cut-short tail is truncated or refused per
//! `aof-load-truncated`, INFO's aof fields, and CONFIG SET appendonly at
//! runtime.

mod common;
use common::{info_field as field, ok, Client, RedisServer, TestServer, V};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const AOF: &[&str] = &["--appendonly", "yes", "--enable-debug-command", "yes"];

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

fn manifest(dir: &Path) -> String {
    std::fs::read_to_string(aof_dir(dir).join("appendonly.aof.manifest")).unwrap_or_default()
}

/// Files of the AOF directory, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(aof_dir(dir))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// RESP for a list of commands, as an AOF holds them.
fn resp(cmds: &[&[&str]]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in cmds {
        let a: Vec<&[u8]> = c.iter().map(|s| s.as_bytes()).collect();
        out.extend(common::encode(&a));
    }
    out
}

fn wait_rewrite_done(c: &mut Client, rewrites: i64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let info = c.info(&["persistence"]);
        let done = field(&info, "aof_rewrite_in_progress").as_deref() == Some("0")
            && field(&info, "aof_rewrite_scheduled").as_deref() == Some("0")
            && field(&info, "aof_rewrites")
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|n| n >= rewrites);
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "rewrite never finished: {info}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn digest(c: &mut Client) -> String {
    c.call(&["DEBUG", "DIGEST"]).text()
}

/// Loads every type, with TTLs and several databases.
fn fill(c: &mut Client) {
    let cmds: &[&[&str]] = &[
        &["SET", "str", "hello"],
        &["SET", "int", "12345"],
        &["INCRBYFLOAT", "float", "1.5"],
        &["SET", "ttl", "v", "EX", "10000"],
        &["RPUSH", "list", "a", "b", "c", "d"],
        &["LPOP", "list"],
        &["SADD", "set", "x", "y", "z", "1", "2"],
        &["SPOP", "set"],
        &["SADD", "intset", "1", "2", "3"],
        &["ZADD", "zset", "1.5", "a", "-2", "b", "3e10", "c"],
        &["ZINCRBY", "zset", "0.25", "a"],
        &["HSET", "hash", "f1", "v1", "f2", "v2"],
        &["HINCRBY", "hash", "n", "7"],
        &["XADD", "stream", "*", "f", "v"],
        &["XADD", "stream", "MAXLEN", "~", "100", "*", "g", "w"],
        &["XGROUP", "CREATE", "stream", "grp", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "1",
            "STREAMS",
            "stream",
            ">",
        ],
        &["PFADD", "hll", "a", "b", "c"],
        &["SETBIT", "bits", "100", "1"],
        &["GEOADD", "geo", "13.361389", "38.115556", "Palermo"],
        &["PEXPIRE", "list", "50000000"],
        &["SELECT", "3"],
        &["SET", "db3", "three"],
        &["SELECT", "0"],
    ];
    for cmd in cmds {
        let r = c.call(cmd);
        assert!(!matches!(r, V::Err(_)), "{cmd:?}: {r:?}");
    }
}

#[test]
fn every_type_survives_a_restart() {
    let dir = common::new_temp_dir();
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    fill(&mut c);
    let want = digest(&mut c);
    let ttl = c.call(&["PTTL", "ttl"]);
    // Replies go out only after their write: a SIGKILL loses nothing.
    drop(c);
    s.kill9();
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(digest(&mut c), want);
    assert_eq!(c.call(&["GET", "str"]), common::bulk("hello"));
    assert_eq!(c.call(&["SELECT", "3"]), ok());
    assert_eq!(c.call(&["GET", "db3"]), common::bulk("three"));
    assert_eq!(c.call(&["SELECT", "0"]), ok());
    let (V::Int(before), V::Int(after)) = (ttl, c.call(&["PTTL", "ttl"])) else {
        panic!("TTL lost");
    };
    assert!(after <= before && after > before - 5000, "{before} {after}");
    // A clean shutdown works the same way.
    assert_eq!(c.call(&["SET", "late", "1"]), ok());
    c.send(&["SHUTDOWN", "NOSAVE"]);
    let mut s = s;
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(0));
    drop(c);
    drop(s);
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["GET", "late"]), common::bulk("1"));
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn layout_on_disk_and_bgrewriteaof() {
    let dir = common::new_temp_dir();
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    // Valkey 8 at start-up with no AOF: an (empty) RDB base and an
    // incremental file.
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert_eq!(
        files(&dir),
        [
            "appendonly.aof.1.base.rdb",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    let base = std::fs::read(aof_dir(&dir).join("appendonly.aof.1.base.rdb")).unwrap();
    assert!(base.starts_with(b"REDIS0011"));
    // The incremental file holds the commands as RESP, SELECT first.
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    assert_eq!(
        std::fs::read(aof_dir(&dir).join("appendonly.aof.1.incr.aof")).unwrap(),
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        c.call(&["BGREWRITEAOF"]),
        V::Simple("Background append only file rewriting started".into())
    );
    wait_rewrite_done(&mut c, 1);
    assert_eq!(c.call(&["SET", "k2", "v2"]), ok());
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    // History files are deleted in the background.
    common::wait_until(Duration::from_secs(5), "history deleted", || {
        files(&dir)
            == [
                "appendonly.aof.2.base.rdb",
                "appendonly.aof.2.incr.aof",
                "appendonly.aof.manifest",
            ]
    });
    // Inside MULTI the rewrite is scheduled, and runs from the cron.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["BGREWRITEAOF"]), V::Simple("QUEUED".into()));
    assert_eq!(
        c.call(&["EXEC"]),
        V::Arr(vec![V::Simple(
            "Background append only file rewriting scheduled".into()
        )])
    );
    wait_rewrite_done(&mut c, 2);
    assert!(manifest(&dir).starts_with("file appendonly.aof.3.base.rdb seq 3 type b\n"));
    // A command-log base with aof-use-rdb-preamble no.
    assert_eq!(
        c.call(&["CONFIG", "SET", "aof-use-rdb-preamble", "no"]),
        ok()
    );
    assert_eq!(
        c.call(&["BGREWRITEAOF"]),
        V::Simple("Background append only file rewriting started".into())
    );
    wait_rewrite_done(&mut c, 3);
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.4.base.aof seq 4 type b\nfile appendonly.aof.4.incr.aof seq 4 type i\n"
    );
    let base = std::fs::read(aof_dir(&dir).join("appendonly.aof.4.base.aof")).unwrap();
    assert!(base.starts_with(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"));
    let want = digest(&mut c);
    drop(c);
    s.kill9();
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(digest(&mut c), want);
    assert_eq!(
        c.call(&["MGET", "k", "k2"]),
        V::Arr(vec![common::bulk("v"), common::bulk("v2")])
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bgrewriteaof_while_writes_continue_loses_nothing() {
    let dir = common::new_temp_dir();
    let s = TestServer::start_in(&dir, AOF);
    let stop = Arc::new(AtomicBool::new(false));
    let port = s.port;
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                .unwrap()
                .get_connection()
                .unwrap();
            let mut acked = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let n: u64 = redis::cmd("INCR").arg("counter").query(&mut con).unwrap();
                let _: u64 = redis::cmd("RPUSH")
                    .arg("log")
                    .arg(n)
                    .query(&mut con)
                    .unwrap();
                let _: () = redis::cmd("SET")
                    .arg(format!("key:{n}"))
                    .arg(n)
                    .query(&mut con)
                    .unwrap();
                acked = n;
            }
            acked
        })
    };
    let mut c = Client::new(&s);
    // Some data first, so the children have something to write.
    for i in 0..2000 {
        c.send(&["SET", &format!("pre:{i}"), &"x".repeat(100)]);
    }
    for _ in 0..2000 {
        c.read();
    }
    for round in 1..=3 {
        std::thread::sleep(Duration::from_millis(150));
        let r = c.call(&["BGREWRITEAOF"]);
        assert!(matches!(r, V::Simple(_)), "{r:?}");
        wait_rewrite_done(&mut c, round);
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let acked = writer.join().unwrap();
    assert!(acked > 100, "writer too slow: {acked}");
    let want = digest(&mut c);
    drop(c);
    s.kill9();
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["GET", "counter"]),
        common::bulk(&acked.to_string())
    );
    assert_eq!(c.call(&["LLEN", "log"]), V::Int(acked as i64));
    assert_eq!(c.call(&["DBSIZE"]), V::Int(2000 + 2 + acked as i64));
    assert_eq!(digest(&mut c), want);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn info_persistence_aof_fields() {
    let s = TestServer::start_with(AOF);
    let mut c = Client::new(&s);
    let info = c.info(&["persistence"]);
    let names: Vec<&str> = info
        .lines()
        .filter_map(|l| l.split(':').next())
        .filter(|n| n.starts_with("aof_"))
        .collect();
    assert_eq!(
        names,
        [
            "aof_enabled",
            "aof_rewrite_in_progress",
            "aof_rewrite_scheduled",
            "aof_last_rewrite_time_sec",
            "aof_current_rewrite_time_sec",
            "aof_last_bgrewrite_status",
            "aof_rewrites",
            "aof_rewrites_consecutive_failures",
            "aof_last_write_status",
            "aof_last_cow_size",
            "aof_current_size",
            "aof_base_size",
            "aof_pending_rewrite",
            "aof_buffer_length",
            "aof_pending_bio_fsync",
            "aof_delayed_fsync"
        ]
    );
    assert_eq!(field(&info, "aof_enabled").as_deref(), Some("1"));
    assert_eq!(field(&info, "aof_last_write_status").as_deref(), Some("ok"));
    assert_eq!(
        field(&info, "aof_last_rewrite_time_sec").as_deref(),
        Some("-1")
    );
    assert_eq!(field(&info, "aof_buffer_length").as_deref(), Some("0"));
    let size0: u64 = field(&info, "aof_current_size").unwrap().parse().unwrap();
    let base: u64 = field(&info, "aof_base_size").unwrap().parse().unwrap();
    assert_eq!(size0, base, "only the base at start");
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    let size1: u64 = c
        .info(&["persistence"])
        .lines()
        .find_map(|l| l.strip_prefix("aof_current_size:"))
        .unwrap()
        .parse()
        .unwrap();
    // SELECT 0 (23 bytes) and the SET (27 bytes).
    assert_eq!(size1, size0 + 23 + 27);
    // Without the AOF: only the common fields.
    let s2 = TestServer::start();
    let mut c2 = Client::new(&s2);
    let info = c2.info(&["persistence"]);
    assert_eq!(field(&info, "aof_enabled").as_deref(), Some("0"));
    assert_eq!(field(&info, "aof_current_size"), None);
}

#[test]
fn config_set_appendonly_at_runtime() {
    let dir = common::new_temp_dir();
    let s = TestServer::start_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["SET", "before", "1"]), ok());
    assert!(files(&dir).is_empty());
    assert_eq!(c.call(&["CONFIG", "SET", "appendonly", "yes"]), ok());
    // Writes while the first rewrite runs are kept too.
    assert_eq!(c.call(&["SET", "during", "2"]), ok());
    wait_rewrite_done(&mut c, 1);
    let info = c.info(&["persistence"]);
    assert_eq!(field(&info, "aof_enabled").as_deref(), Some("1"));
    assert_eq!(
        manifest(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert_eq!(c.call(&["SET", "after", "3"]), ok());
    let want = digest(&mut c);
    drop(c);
    s.kill9();
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(digest(&mut c), want);
    assert_eq!(
        c.call(&["MGET", "before", "during", "after"]),
        V::Arr(vec![
            common::bulk("1"),
            common::bulk("2"),
            common::bulk("3")
        ])
    );
    // And off again: the files stay, nothing more is written.
    assert_eq!(c.call(&["CONFIG", "SET", "appendonly", "no"]), ok());
    let len = std::fs::metadata(aof_dir(&dir).join("appendonly.aof.1.incr.aof"))
        .unwrap()
        .len();
    assert_eq!(c.call(&["SET", "off", "4"]), ok());
    assert_eq!(
        std::fs::metadata(aof_dir(&dir).join("appendonly.aof.1.incr.aof"))
            .unwrap()
            .len(),
        len
    );
    assert_eq!(
        field(&c.info(&["persistence"]), "aof_enabled").as_deref(),
        Some("0")
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes a directory in Valkey 8's layout.
fn valkey_layout(base_name: &str, base: &[u8], incr: &[u8]) -> PathBuf {
    let dir = common::new_temp_dir();
    let d = aof_dir(&dir);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("appendonly.aof.manifest"),
        format!("file {base_name} seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"),
    )
    .unwrap();
    std::fs::write(d.join(base_name), base).unwrap();
    std::fs::write(d.join("appendonly.aof.1.incr.aof"), incr).unwrap();
    dir
}

#[test]
fn loads_a_directory_in_valkey_8_layout() {
    let base = resp(&[
        &["SELECT", "0"],
        &["SET", "k1", "v1"],
        &["ZADD", "z", "1", "a"],
    ]);
    let incr = resp(&[
        &["SELECT", "0"],
        &["SET", "k2", "v2"],
        &["MULTI"],
        &["SET", "k3", "v3"],
        &["PEXPIREAT", "k3", "99999999999999"],
        &["EXEC"],
    ]);
    let dir = valkey_layout("appendonly.aof.1.base.aof", &base, &incr);
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["MGET", "k1", "k2", "k3"]),
        V::Arr(vec![
            common::bulk("v1"),
            common::bulk("v2"),
            common::bulk("v3")
        ])
    );
    assert_eq!(c.call(&["PEXPIRETIME", "k3"]), V::Int(99999999999999));
    assert_eq!(c.call(&["ZSCORE", "z", "a"]), common::bulk("1"));
    // The server goes on appending to the last incremental file.
    assert_eq!(c.call(&["SET", "k4", "v4"]), ok());
    let incr_now = std::fs::read(aof_dir(&dir).join("appendonly.aof.1.incr.aof")).unwrap();
    assert!(incr_now.starts_with(&incr));
    assert!(incr_now.len() > incr.len());
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);

    // An RDB base (Valkey's tests/assets/rdb-preamble.aof, a Redis 7
    // image) followed by commands.
    let rdb: &[u8] = b"REDIS0010\xfa\x09redis-ver\x0b255.255.255\xfa\x0aredis-bits\xc0@\xfa\x05ctime\xc2\xd6\x10\xcba\xfa\x08used-mem\xc2\xa0\x8d\x10\x00\xfa\x0caof-preamble\xc0\x01\xfe\x00\xfb\x02\x00\x00\x02k2\x02v2\x00\x02k1\x02v1\xff\xfb\xcbm\xc9\xb7\x0c\x80\xa4*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$2\r\nk3\r\n$2\r\nv3\r\n";
    let dir = valkey_layout(
        "appendonly.aof.1.base.rdb",
        rdb,
        &resp(&[&["SET", "k4", "v4"]]),
    );
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["MGET", "k1", "k2", "k3", "k4"]),
        V::Arr(vec![
            common::bulk("v1"),
            common::bulk("v2"),
            common::bulk("v3"),
            common::bulk("v4")
        ])
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn truncated_tail_per_aof_load_truncated() {
    let base = resp(&[&["SET", "base", "x"]]);
    let mut incr = resp(&[&["SET", "a", "1"], &["INCR", "n"]]);
    let whole = incr.len() as u64;
    incr.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$2\r\nv");
    let dir = valkey_layout("appendonly.aof.1.base.aof", &base, &incr);
    let incr_path = aof_dir(&dir).join("appendonly.aof.1.incr.aof");
    let mut args = AOF.to_vec();
    args.extend(["--aof-load-truncated", "no"]);
    let (code, log) = TestServer::start_failing(&dir, &args);
    assert_eq!(code, Some(1), "{log}");
    assert!(
        log.contains(
            "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup of your AOF file, then use ./valkey-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
        ),
        "{log}"
    );
    assert!(std::fs::metadata(&incr_path).unwrap().len() > whole);
    // yes (the default): cut to the last whole command and loaded.
    let s = TestServer::start_in(&dir, AOF);
    let mut c = Client::new(&s);
    assert_eq!(
        c.call(&["MGET", "base", "a", "n", "b"]),
        V::Arr(vec![
            common::bulk("x"),
            common::bulk("1"),
            common::bulk("1"),
            V::Nil
        ])
    );
    // Truncated, then appended to.
    assert_eq!(c.call(&["SET", "c", "3"]), ok());
    let now = std::fs::read(&incr_path).unwrap();
    assert_eq!(&now[..whole as usize], &incr[..whole as usize]);
    assert!(now[whole as usize..].starts_with(b"*2\r\n$6\r\nSELECT"));
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_directories_stop_the_server() {
    let base = resp(&[&["SET", "base", "x"]]);
    let dir = valkey_layout(
        "appendonly.aof.1.base.aof",
        &base,
        &resp(&[&["NOSUCH", "x"]]),
    );
    let (code, log) = TestServer::start_failing(&dir, AOF);
    assert_eq!(code, Some(1));
    assert!(
        log.contains(
            "Unknown command 'NOSUCH' reading the append only file appendonly.aof.1.incr.aof"
        ),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // A manifest naming a file that is not there.
    let dir = valkey_layout("appendonly.aof.1.base.aof", &base, b"");
    std::fs::remove_file(aof_dir(&dir).join("appendonly.aof.1.incr.aof")).unwrap();
    let (code, log) = TestServer::start_failing(&dir, AOF);
    assert_eq!(code, Some(1));
    assert!(
        log.contains("appendonly.aof.1.incr.aof length. stat: No such file or directory"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    // A manifest that is not one.
    let dir = valkey_layout("appendonly.aof.1.base.aof", &base, b"");
    std::fs::write(
        aof_dir(&dir).join("appendonly.aof.manifest"),
        "file appendonly.aof.2.incr.aof seq 2 type i\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let (code, log) = TestServer::start_failing(&dir, AOF);
    assert_eq!(code, Some(1));
    assert!(
        log.contains("Found a non-monotonic sequence number"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn appendfsync_always_writes_before_replying() {
    let dir = common::new_temp_dir();
    let mut args = AOF.to_vec();
    args.extend(["--appendfsync", "always"]);
    let s = TestServer::start_in(&dir, &args);
    let mut c = Client::new(&s);
    let incr = aof_dir(&dir).join("appendonly.aof.1.incr.aof");
    for i in 0..50 {
        assert_eq!(c.call(&["RPUSH", "l", &i.to_string()]), V::Int(i + 1));
        // Already in the file when the reply arrives.
        let data = std::fs::read(&incr).unwrap();
        let tail = resp(&[&["RPUSH", "l", &i.to_string()]]);
        assert!(
            data.ends_with(&tail),
            "command {i} not written before its reply"
        );
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn automatic_rewrite_on_growth_and_timestamp_annotations() {
    let dir = common::new_temp_dir();
    let mut args = AOF.to_vec();
    args.extend([
        "--auto-aof-rewrite-percentage",
        "100",
        "--auto-aof-rewrite-min-size",
        "10kb",
        "--aof-timestamp-enabled",
        "yes",
    ]);
    let s = TestServer::start_in(&dir, &args);
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["SET", "first", "1"]), ok());
    let incr = std::fs::read(aof_dir(&dir).join("appendonly.aof.1.incr.aof")).unwrap();
    assert!(
        incr.starts_with(b"#TS:"),
        "{:?}",
        String::from_utf8_lossy(&incr)
    );
    // Past the minimum size and double the base: the cron rewrites.
    let big = "x".repeat(1000);
    for i in 0..20 {
        assert_eq!(c.call(&["SET", &format!("k{i}"), &big]), ok());
    }
    wait_rewrite_done(&mut c, 1);
    common::wait_until(Duration::from_secs(5), "new manifest", || {
        manifest(&dir).starts_with("file appendonly.aof.2.base.rdb seq 2 type b\n")
    });
    let want = digest(&mut c);
    drop(c);
    s.kill9();
    let s = TestServer::start_in(&dir, &args);
    let mut c = Client::new(&s);
    assert_eq!(digest(&mut c), want);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A real Redis 7 (same multi-part layout as Valkey 8) writes the
/// directory, Ferrokey loads it to the same DEBUG DIGEST, and the other
/// way round with a command-log base (Redis 7.0 reads RDB 10 at most).
#[test]
fn cross_loads_with_a_real_redis_server() {
    let workload: &[&[&str]] = &[
        &["SET", "s", "hello"],
        &["SET", "t", "v", "EX", "10000"],
        &["RPUSH", "l", "a", "b", "c", "d"],
        &["LPOP", "l"],
        &["SADD", "st", "1", "2", "x", "y", "z"],
        &["SPOP", "st", "2"],
        &["ZADD", "z", "1.5", "a", "2", "b", "3", "c"],
        &["ZINCRBY", "z", "0.5", "a"],
        &["HSET", "h", "f", "v", "n", "1"],
        &["XADD", "x", "*", "f", "v"],
        &["XADD", "x", "*", "g", "w"],
        &["XGROUP", "CREATE", "x", "g", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "COUNT",
            "1",
            "STREAMS",
            "x",
            ">",
        ],
        &["INCRBYFLOAT", "fl", "2.5"],
        &["GETEX", "s", "PX", "500000"],
        &["PFADD", "hll", "a", "b"],
        &["GEOADD", "g", "13.36", "38.11", "P"],
        &["BGREWRITEAOF"],
    ];
    let after: &[&[&str]] = &[
        &["SET", "after", "rewrite"],
        &["BLPOP", "l", "0"],
        &["ZMPOP", "1", "z", "MIN", "COUNT", "2"],
        &["XADD", "x", "MAXLEN", "~", "1", "*", "h", "i"],
    ];
    for (writer_is_redis, extra) in [(true, "yes"), (false, "no")] {
        let dir = common::new_temp_dir();
        let args = [
            "--appendonly",
            "yes",
            "--enable-debug-command",
            "yes",
            "--aof-use-rdb-preamble",
            extra,
        ];
        let run = |cmds: &[&[&str]], con: &mut redis::Connection| {
            for c in cmds {
                let mut cmd = redis::cmd(c[0]);
                for a in &c[1..] {
                    cmd.arg(*a);
                }
                let _: redis::Value = cmd.query(con).unwrap();
            }
        };
        let digest = |con: &mut redis::Connection| -> String {
            redis::cmd("DEBUG").arg("DIGEST").query(con).unwrap()
        };
        let want;
        if writer_is_redis {
            let redis = RedisServer::start(&dir, &args);
            let mut con = redis.conn();
            run(workload, &mut con);
            std::thread::sleep(Duration::from_millis(500));
            run(after, &mut con);
            want = digest(&mut con);
            drop(con);
            redis.stop();
            let s = TestServer::start_in(&dir, &args);
            let mut c = s.conn();
            assert_eq!(digest(&mut c), want, "Redis wrote, Ferrokey read");
        } else {
            let s = TestServer::start_in(&dir, &args);
            let mut con = s.conn();
            run(workload, &mut con);
            let mut c = Client::new(&s);
            wait_rewrite_done(&mut c, 1);
            run(after, &mut con);
            want = digest(&mut con);
            drop(s);
            let redis = RedisServer::start(&dir, &args);
            let got = digest(&mut redis.conn());
            redis.stop();
            assert_eq!(got, want, "Ferrokey wrote, Redis read");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
