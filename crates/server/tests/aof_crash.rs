//! The AOF's durability promise, tested the hard way: writers hammer the
//! server, it is killed with SIGKILL in the middle, and a restart on the
//! same directory must hold every write it acknowledged.
//!
//! - `appendfsync always`: every acknowledged write is there (it was
//!   written and fdatasync'ed before its reply left).
//! - `appendfsync everysec`: at most about a second of writes may be lost
//!   (to an OS crash; a process kill loses nothing, since the write(2)
//!   happens before the reply and the page cache survives the process).

mod common;
use common::TestServer;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 4;

/// What one writer saw acknowledged.
struct Acked {
    /// INCRs acknowledged on `counter:<t>` (its last reply).
    incr: u64,
    /// RPUSHes acknowledged on `list:<t>` (values 1..=n, in order).
    rpush: u64,
}

/// Runs writers against `port` until `stop` or until the server dies; what
/// each one had acknowledged.
fn writers(port: u16, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<Acked>> {
    (0..WRITERS)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut con = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
                    .unwrap()
                    .get_connection()
                    .unwrap();
                let mut acked = Acked { incr: 0, rpush: 0 };
                let counter = format!("counter:{t}");
                let list = format!("list:{t}");
                while !stop.load(Ordering::Relaxed) {
                    let r: redis::RedisResult<u64> =
                        redis::cmd("INCR").arg(&counter).query(&mut con);
                    let Ok(n) = r else { break };
                    acked.incr = n;
                    let r: redis::RedisResult<u64> =
                        redis::cmd("RPUSH").arg(&list).arg(n).query(&mut con);
                    let Ok(len) = r else { break };
                    assert_eq!(len, n, "list and counter move together");
                    acked.rpush = len;
                }
                acked
            })
        })
        .collect()
}

/// Loads the server for `run`, kills it with SIGKILL while the writers are
/// busy, restarts it on the same directory and returns, per writer, what
/// was acknowledged and what survived (counter, list length), plus the
/// acknowledged writes per second.
fn crash_and_restart(fsync: &str, run: Duration) -> (Vec<(Acked, u64, u64)>, f64) {
    let dir = common::new_temp_dir();
    let args = ["--appendonly", "yes", "--appendfsync", fsync];
    let s = TestServer::start_in(&dir, &args);
    let stop = Arc::new(AtomicBool::new(false));
    let handles = writers(s.port, stop.clone());
    let start = Instant::now();
    std::thread::sleep(run);
    // Mid-load: the writers are still sending.
    s.kill9();
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<Acked> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let total: u64 = acked.iter().map(|a| a.incr + a.rpush).sum();
    let rate = total as f64 / elapsed;
    let s = TestServer::start_in(&dir, &args);
    let mut c = common::Client::new(&s);
    let mut out = Vec::new();
    for (t, a) in acked.into_iter().enumerate() {
        let counter = match c.call(&["GET", &format!("counter:{t}")]) {
            common::V::Bulk(b) => String::from_utf8_lossy(&b).parse().unwrap(),
            common::V::Nil => 0,
            other => panic!("{other:?}"),
        };
        let len = common::as_int(c.call(&["LLEN", &format!("list:{t}")])) as u64;
        // The survivors are a prefix 1..=len, without holes.
        if len > 0 {
            let last = c.call(&["LINDEX", &format!("list:{t}"), "-1"]).text();
            assert_eq!(last, len.to_string());
        }
        out.push((a, counter, len));
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    (out, rate)
}

#[test]
fn appendfsync_always_keeps_every_acknowledged_write() {
    let (results, rate) = crash_and_restart("always", Duration::from_millis(2500));
    let acked: u64 = results.iter().map(|(a, _, _)| a.incr + a.rpush).sum();
    assert!(
        acked > 100,
        "too few writes to mean anything: {acked} ({rate:.0}/s)"
    );
    for (t, (a, counter, len)) in results.iter().enumerate() {
        // At most the one command in flight at the kill may be there
        // without its acknowledgement, never one missing.
        assert!(
            *counter >= a.incr && *counter <= a.incr + 1,
            "writer {t}: counter {counter}, acknowledged {}",
            a.incr
        );
        assert!(
            *len >= a.rpush && *len <= a.rpush + 1,
            "writer {t}: list {len}, acknowledged {}",
            a.rpush
        );
    }
    eprintln!("always: {acked} acknowledged writes at {rate:.0}/s, none lost");
}

#[test]
fn appendfsync_everysec_loses_at_most_about_a_second() {
    let (results, rate) = crash_and_restart("everysec", Duration::from_millis(2500));
    let acked: u64 = results.iter().map(|(a, _, _)| a.incr + a.rpush).sum();
    assert!(
        acked > 100,
        "too few writes to mean anything: {acked} ({rate:.0}/s)"
    );
    let lost: u64 = results
        .iter()
        .map(|(a, counter, len)| a.incr.saturating_sub(*counter) + a.rpush.saturating_sub(*len))
        .sum();
    // One second of writes, plus a margin for the background fsync that
    // may be running late.
    let allowed = (rate * 1.5) as u64 + 10;
    assert!(
        lost <= allowed,
        "lost {lost} acknowledged writes, more than ~1 s ({rate:.0}/s)"
    );
    for (t, (a, counter, len)) in results.iter().enumerate() {
        assert!(*counter <= a.incr + 1, "writer {t}: more than was written");
        assert!(*len <= a.rpush + 1, "writer {t}: more than was written");
    }
    eprintln!("everysec: {acked} acknowledged writes at {rate:.0}/s, {lost} lost");
}
