//! maxmemory: eviction policies and OOM errors through the real server.

mod common;
use common::{redis_info_u64, used_memory, TestServer};

/// Sets maxmemory to what is used now plus `extra` bytes.
fn limit_to(con: &mut redis::Connection, extra: u64) -> u64 {
    let limit = used_memory(con) + extra;
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(limit)
        .query(con)
        .unwrap();
    limit
}

fn fill(con: &mut redis::Connection, prefix: &str, n: usize, ttl: bool) {
    let mut p = redis::pipe();
    for i in 0..n {
        let k = format!("{prefix}:{i:08}");
        if ttl {
            p.cmd("SET")
                .arg(k)
                .arg("x".repeat(40))
                .arg("EX")
                .arg(100_000)
                .ignore();
        } else {
            p.cmd("SET").arg(k).arg("x".repeat(40)).ignore();
        }
    }
    let () = p.query(con).unwrap();
}

#[test]
fn allkeys_policies_keep_memory_under_the_limit() {
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let s = TestServer::start();
        let mut con = s.conn();
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory-policy")
            .arg(policy)
            .query(&mut con)
            .unwrap();
        let limit = limit_to(&mut con, 2 << 20);
        fill(&mut con, "k", 100_000, false);
        let used = used_memory(&mut con);
        assert!(
            used <= limit + (256 << 10),
            "{policy}: used {used} > limit {limit}"
        );
        let n: u64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
        assert!(n > 1000 && n < 100_000, "{policy}: {n} keys");
        assert!(
            redis_info_u64(&mut con, "stats", "evicted_keys") > 0,
            "{policy}"
        );
    }
}

#[test]
fn lru_keeps_recently_used_keys() {
    let s = TestServer::start();
    let mut con = s.conn();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query(&mut con)
        .unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-samples")
        .arg(10)
        .query(&mut con)
        .unwrap();
    fill(&mut con, "hot", 2000, false);
    // The idle clock has one-second resolution: let the hot keys age first,
    // then touch them so they are the most recently used.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    fill(&mut con, "cold", 20_000, false);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut p = redis::pipe();
    for i in 0..2000 {
        p.cmd("GET").arg(format!("hot:{i:08}")).ignore();
    }
    let () = p.query(&mut con).unwrap();
    limit_to(&mut con, 0);
    fill(&mut con, "new", 5000, false);
    let mut p = redis::pipe();
    for i in 0..2000 {
        p.cmd("EXISTS").arg(format!("hot:{i:08}"));
    }
    let alive: Vec<i64> = p.query(&mut con).unwrap();
    let kept = alive.iter().sum::<i64>();
    assert!(
        kept > 1800,
        "only {kept} of 2000 recently used keys survived"
    );
}

#[test]
fn volatile_policies_evict_only_keys_with_a_ttl() {
    let s = TestServer::start();
    let mut con = s.conn();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("volatile-ttl")
        .query(&mut con)
        .unwrap();
    fill(&mut con, "keep", 5000, false);
    limit_to(&mut con, 1 << 20);
    fill(&mut con, "ttl", 50_000, true);
    let mut p = redis::pipe();
    for i in 0..5000 {
        p.cmd("EXISTS").arg(format!("keep:{i:08}"));
    }
    let alive: Vec<i64> = p.query(&mut con).unwrap();
    assert_eq!(
        alive.iter().sum::<i64>(),
        5000,
        "a key without TTL was evicted"
    );
    assert!(redis_info_u64(&mut con, "stats", "evicted_keys") > 0);
}

#[test]
fn noeviction_replies_oom_to_writes_but_serves_reads() {
    let s = TestServer::start();
    let mut con = s.conn();
    let () = redis::cmd("SET").arg("a").arg("1").query(&mut con).unwrap();
    limit_to(&mut con, 64 << 10);
    let mut raw = s.raw();
    let mut oom = false;
    for i in 0..10_000 {
        raw.send(&common::encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            &[b'v'; 100],
        ]));
        let mut buf = [0u8; 5];
        std::io::Read::read_exact(&mut raw.0, &mut buf).unwrap();
        if &buf == b"+OK\r\n" {
            continue;
        }
        let rest = raw
            .read_exact(b"OOM command not allowed when used memory > 'maxmemory'.\r\n".len() - 4);
        let mut all = buf.to_vec();
        all.extend_from_slice(&rest);
        assert_eq!(
            String::from_utf8_lossy(&all),
            "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
        );
        oom = true;
        break;
    }
    assert!(oom, "writes never hit the limit");
    let v: String = redis::cmd("GET").arg("a").query(&mut con).unwrap();
    assert_eq!(v, "1");
    let n: i64 = redis::cmd("DEL").arg("a").query(&mut con).unwrap();
    assert_eq!(n, 1, "DEL is not DENYOOM");
}

/// Valkey evicts before every command, reads included, and a tracking
/// client gets the invalidation of a key evicted then before the reply of
/// the command that triggered it.
#[test]
fn eviction_before_a_read_and_its_invalidation_precede_the_reply() {
    let s = TestServer::start();
    let mut c = common::Client::new(&s);
    c.cmd_raw("HELLO 3");
    assert_eq!(c.cmd_raw("CLIENT TRACKING on"), b"+OK\r\n");
    let mut con = s.conn();
    limit_to(&mut con, 100 * 1024);
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("volatile-random")
        .query(&mut con)
        .unwrap();
    assert_eq!(c.cmd_raw("SETEX volatile-key 10000 x"), b"+OK\r\n");
    assert_eq!(c.cmd_raw("GET volatile-key"), b"$1\r\nx\r\n");
    // About 200 KB: the next command finds the server over its limit.
    assert_eq!(c.cmd_raw("SETBIT big-key 1600000 0"), b":0\r\n");
    assert_eq!(
        c.cmd_raw("GETBIT big-key 0"),
        b">2\r\n$10\r\ninvalidate\r\n*1\r\n$12\r\nvolatile-key\r\n"
    );
    assert_eq!(c.read_raw(), b":0\r\n");
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(0)
        .query(&mut con)
        .unwrap();
}
