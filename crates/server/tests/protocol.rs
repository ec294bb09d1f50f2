//! The wire protocol end to end: pipelining, split commands, big bulks,
//! inline commands, RESP3, and malformed input.

mod common;
use common::{encode, redis_info_u64, TestServer};

#[test]
fn pipeline_of_10k_commands_in_one_write() {
    let s = TestServer::start();
    let mut raw = s.raw();
    let mut batch = Vec::new();
    for i in 0..10_000 {
        batch.extend_from_slice(&encode(&[b"SET", format!("k{i}").as_bytes(), b"v"]));
    }
    raw.send(&batch);
    raw.expect(&b"+OK\r\n".repeat(10_000));
    raw.send(&encode(&[b"DBSIZE"]));
    raw.expect(b":10000\r\n");
}

/// A client streaming a long pipeline (and reading its replies) must not
/// hold the event loop: another client's commands are answered while the
/// stream is still being served, each turn bounded. (The server cuts the
/// streaming client off after a few reads and queues it once; queueing it
/// again on every event made turns grow without bound — 80 ms stalls
/// while 3M keys loaded — and now trips a debug assertion.)
#[test]
fn a_streaming_pipeline_does_not_starve_other_clients() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    const N: usize = 400_000;
    let s = TestServer::start();
    let mut feed = s.raw();
    let mut reader = feed.0.try_clone().unwrap();
    let replied = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&replied);
    let replies = std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0;
        while bytes < N * 5 {
            let n = reader.read(&mut buf).expect("read replies");
            assert!(n > 0, "connection closed after {bytes} reply bytes");
            assert!(buf[..n].iter().all(|&b| b"+OK\r\n".contains(&b)));
            bytes += n;
            counter.store(bytes / 5, Ordering::Relaxed);
        }
    });
    let writer = std::thread::spawn(move || {
        let mut chunk = Vec::new();
        for i in 0..N {
            chunk.extend_from_slice(&encode(&[b"SET", format!("key:{i:08}").as_bytes(), b"v"]));
            if chunk.len() > 1 << 16 {
                feed.0.write_all(&chunk).unwrap();
                chunk.clear();
            }
        }
        feed.0.write_all(&chunk).unwrap();
        feed
    });
    let mut probe = s.raw();
    let mut answered_mid_stream = 0;
    while replied.load(Ordering::Relaxed) < N {
        probe.send(&encode(&[b"PING"]));
        probe.expect(b"+PONG\r\n");
        if replied.load(Ordering::Relaxed) < N {
            answered_mid_stream += 1;
        }
    }
    replies.join().unwrap();
    let _feed = writer.join().unwrap();
    assert!(
        answered_mid_stream >= 10,
        "only {answered_mid_stream} PINGs answered while {N} SETs streamed"
    );
    probe.send(&encode(&[b"DBSIZE"]));
    probe.expect(format!(":{N}\r\n").as_bytes());
}

/// `busy-poll-usec` (Ferrokey's own parameter): the loop keeps polling
/// for a while after a busy round instead of sleeping. Replies are the
/// same with it off and on; it is settable and bounded like any number.
#[test]
fn busy_poll_is_a_parameter_and_changes_no_reply() {
    let s = TestServer::start();
    let mut c = s.conn();
    let get = |c: &mut redis::Connection| -> Vec<String> {
        redis::cmd("CONFIG")
            .arg("GET")
            .arg("busy-poll-usec")
            .query(c)
            .unwrap()
    };
    assert_eq!(get(&mut c), ["busy-poll-usec", "50"]);
    for v in ["0", "1000", "50"] {
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("busy-poll-usec")
            .arg(v)
            .query(&mut c)
            .unwrap();
        assert_eq!(get(&mut c)[1], v);
        let mut raw = s.raw();
        let mut batch = Vec::new();
        for _ in 0..100 {
            batch.extend_from_slice(&encode(&[b"INCR", format!("n{v}").as_bytes()]));
        }
        raw.send(&batch);
        let want: Vec<u8> = (1..=100)
            .flat_map(|i| format!(":{i}\r\n").into_bytes())
            .collect();
        raw.expect(&want);
    }
    let err = redis::cmd("CONFIG")
        .arg("SET")
        .arg("busy-poll-usec")
        .arg("-1")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("argument must be between 0 and 1000000"),
        "{err}"
    );
}

/// The server stops reading a socket after a short read (no second read
/// for the EAGAIN); a FIN sent later must still be seen and the client
/// closed, and one sent with the last command too.
#[test]
fn a_client_that_half_closes_is_answered_and_closed() {
    use std::io::Read;
    use std::net::Shutdown;
    let s = TestServer::start();
    let mut c = s.conn();
    let clients = |c: &mut redis::Connection| -> usize {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(c).unwrap();
        list.lines().count()
    };
    // FIN well after the last command was read.
    let mut late = s.raw();
    late.send(&encode(&[b"PING"]));
    late.expect(b"+PONG\r\n");
    assert_eq!(clients(&mut c), 2);
    late.0.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    late.0.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{rest:?}");
    // FIN right behind pipelined commands: all are answered first.
    let mut eager = s.raw();
    let mut batch = encode(&[b"SET", b"k", b"v"]);
    batch.extend_from_slice(&encode(&[b"GET", b"k"]));
    eager.send(&batch);
    eager.0.shutdown(Shutdown::Write).unwrap();
    let mut got = Vec::new();
    eager.0.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"+OK\r\n$1\r\nv\r\n");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while clients(&mut c) != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "half-closed clients stay listed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn command_split_byte_by_byte() {
    let s = TestServer::start();
    let mut raw = s.raw();
    raw.0.set_nodelay(true).unwrap();
    let cmd = encode(&[b"SET", b"split", b"value with spaces"]);
    for b in &cmd {
        raw.send(std::slice::from_ref(b));
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    raw.expect(b"+OK\r\n");
    raw.send(&encode(&[b"GET", b"split"]));
    raw.expect(b"$17\r\nvalue with spaces\r\n");
}

#[test]
fn bulk_of_100_mb_round_trips() {
    let s = TestServer::start();
    let mut con = s.conn();
    let big: Vec<u8> = (0..100 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query(&mut con)
        .unwrap();
    let back: Vec<u8> = redis::cmd("GET").arg("big").query(&mut con).unwrap();
    assert!(back == big, "100 MB value came back different");
    let n: i64 = redis::cmd("STRLEN").arg("big").query(&mut con).unwrap();
    assert_eq!(n, 100 * 1024 * 1024);
}

#[test]
fn inline_commands_with_quotes() {
    let s = TestServer::start();
    let mut raw = s.raw();
    raw.send(b"SET inl \"a b\\x41\"\r\nGET inl\r\nPING\n");
    raw.expect(b"+OK\r\n$4\r\na bA\r\n+PONG\r\n");
}

#[test]
fn malformed_input_gets_an_error_and_the_server_keeps_serving() {
    let s = TestServer::start();
    let cases: &[(&[u8], &[u8])] = &[
        (
            b"*abc\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n+PING\r\n",
            b"-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$99999999999999\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"SET a \"unbalanced\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, reply) in cases {
        let mut raw = s.raw();
        raw.send(input);
        let got = raw.read_to_end();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(reply)
        );
    }
    // Another client is unaffected.
    let mut con = s.conn();
    let pong: String = redis::cmd("PING").query(&mut con).unwrap();
    assert_eq!(pong, "PONG");
}

#[test]
fn resp3_hello_and_null() {
    let s = TestServer::start();
    let mut raw = s.raw();
    raw.send(&encode(&[b"HELLO", b"3"]));
    let head = raw.read_exact(3);
    assert_eq!(&head, b"%7\r");
    let mut raw = s.raw();
    raw.send(&encode(&[b"HELLO", b"3"]));
    let mut buf = vec![0u8; 4096];
    let n = std::io::Read::read(&mut raw.0, &mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.contains("$5\r\nproto\r\n:3\r\n"), "{text}");
    raw.send(&encode(&[b"GET", b"missing"]));
    raw.expect(b"_\r\n");
}

#[test]
fn redis_cli_talks_to_it() {
    let s = TestServer::start();
    assert_eq!(s.cli(&["SET", "x", "1"]).trim(), "OK");
    assert_eq!(s.cli(&["INCRBY", "x", "41"]).trim(), "42");
    assert_eq!(s.cli(&["GET", "x"]).trim(), "42");
}

#[test]
fn a_pipelining_client_that_reads_late_does_not_balloon_buffers() {
    let s = TestServer::start();
    let mut raw = s.raw();
    // 400k PINGs (5.6 MB) written before reading anything: the server must
    // stop reading while replies back up instead of buffering both sides.
    let one = encode(&[b"PING"]);
    let batch: Vec<u8> = one.repeat(400_000);
    let mut writer = raw.0.try_clone().unwrap();
    let t = std::thread::spawn(move || std::io::Write::write_all(&mut writer, &batch).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut con = s.conn();
    let peak = redis_info_u64(&mut con, "memory", "used_memory_peak");
    assert!(
        peak < 2 << 20,
        "used_memory_peak {peak} while a client pipelines"
    );
    raw.expect(&b"+PONG\r\n".repeat(400_000));
    t.join().unwrap();
}
