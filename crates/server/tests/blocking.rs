//! Clients blocked on keys: wake-up by the write that makes a key ready
//! (whatever command it is), first come first served, timeouts, CLIENT
//! UNBLOCK, MULTI, disconnects, and the INFO / CLIENT LIST views of it.

mod common;

use common::{bulk, err, int, ok, Client, TestServer, V};
use std::time::{Duration, Instant};

fn arr(items: &[&str]) -> V {
    V::Arr(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn blpop_is_woken_by_a_push_from_another_client() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    a.send(&["BLPOP", "q", "0"]);
    common::wait_blocked(&mut b, 1);
    assert_eq!(b.call(&["RPUSH", "q", "x", "y"]), int(2));
    assert_eq!(a.read(), arr(&["q", "x"]));
    assert_eq!(b.call(&["LRANGE", "q", "0", "-1"]), arr(&["y"]));
    common::wait_blocked(&mut b, 0);
}

#[test]
fn a_woken_client_sees_the_key_expired_during_the_write_and_blocks_again() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    assert_eq!(b.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    let start = Instant::now();
    a.send(&["BLPOP", "mylist", "1"]);
    common::wait_blocked(&mut b, 1);
    // The EXEC makes the list ready, but it expired while the transaction
    // slept: the blocked client finds nothing and waits out its timeout.
    assert_eq!(b.call(&["MULTI"]), ok());
    b.call(&["RPUSH", "mylist", "a"]);
    b.call(&["PEXPIRE", "mylist", "100"]);
    b.call(&["DEBUG", "SLEEP", "0.2"]);
    assert_eq!(b.call(&["EXEC"]), V::Arr(vec![int(1), int(1), ok()]));
    assert_eq!(a.read(), V::NilArray);
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_millis(1500),
        "{waited:?}"
    );
    assert_eq!(b.call(&["EXISTS", "mylist"]), int(0));
}

#[test]
fn clients_are_served_first_come_first_served() {
    let s = TestServer::start();
    let mut c1 = Client::new(&s);
    let mut c2 = Client::new(&s);
    let mut c3 = Client::new(&s);
    let mut w = Client::new(&s);
    c1.send(&["BLPOP", "q", "0"]);
    common::wait_blocked(&mut w, 1);
    c2.send(&["BLPOP", "q", "0"]);
    common::wait_blocked(&mut w, 2);
    c3.send(&["BLPOP", "q", "0"]);
    common::wait_blocked(&mut w, 3);
    // One element: only the first is served; the others keep their places.
    assert_eq!(w.call(&["RPUSH", "q", "a"]), int(1));
    assert_eq!(c1.read(), arr(&["q", "a"]));
    common::wait_blocked(&mut w, 2);
    assert_eq!(w.call(&["RPUSH", "q", "b", "c"]), int(2));
    assert_eq!(c2.read(), arr(&["q", "b"]));
    assert_eq!(c3.read(), arr(&["q", "c"]));
    assert_eq!(w.call(&["EXISTS", "q"]), int(0));
}

#[test]
fn a_client_blocked_on_several_keys_takes_the_first_ready() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut w = Client::new(&s);
    a.send(&["BRPOP", "k1", "k2", "k3", "0"]);
    common::wait_blocked(&mut w, 1);
    assert_eq!(w.call(&["LPUSH", "k2", "v"]), int(1));
    assert_eq!(a.read(), arr(&["k2", "v"]));
    assert!(w
        .call(&["INFO", "clients"])
        .text()
        .contains("total_blocking_keys:0"));
}

#[test]
fn timeouts_reply_null_and_keep_the_pipeline_going() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let start = Instant::now();
    a.send(&["BLPOP", "nokey", "0.2"]);
    a.send(&["PING"]);
    assert_eq!(a.read(), V::NilArray);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(190), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(a.read(), V::Simple("PONG".into()));
    // BLMOVE times out with a null bulk.
    assert_eq!(
        a.call(&["BLMOVE", "nokey", "dst", "LEFT", "RIGHT", "0.05"]),
        V::Nil
    );
    // RESP3: null.
    a.call(&["HELLO", "3"]);
    assert_eq!(a.call(&["BLPOP", "nokey", "0.05"]), V::Null);
}

#[test]
fn timeout_errors_are_valkeys() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    assert_eq!(
        a.call(&["BLPOP", "k", "abc"]),
        err("ERR timeout is not a float or out of range")
    );
    assert_eq!(
        a.call(&["BLPOP", "k", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        a.call(&["BLPOP", "k", "inf"]),
        err("ERR timeout is out of range")
    );
}

#[test]
fn inside_multi_blocking_commands_do_not_block() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    assert_eq!(a.call(&["MULTI"]), ok());
    assert_eq!(a.call(&["BLPOP", "nokey", "0"]), V::Simple("QUEUED".into()));
    assert_eq!(a.call(&["EXEC"]), V::Arr(vec![V::NilArray]));
}

#[test]
fn keys_made_ready_by_multi_rename_and_sort_store_wake_clients() {
    let s = TestServer::start();
    let mut w = Client::new(&s);
    // MULTI/EXEC: served after the transaction, seeing its final state.
    let mut a = Client::new(&s);
    a.send(&["BLPOP", "m", "0"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["MULTI"]);
    w.call(&["RPUSH", "m", "1"]);
    w.call(&["RPUSH", "m", "2"]);
    assert_eq!(w.call(&["EXEC"]), V::Arr(vec![int(1), int(2)]));
    assert_eq!(a.read(), arr(&["m", "1"]));
    // RENAME of a list onto the awaited key.
    a.send(&["BLPOP", "r", "0"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["RPUSH", "src", "z"]);
    assert_eq!(w.call(&["RENAME", "src", "r"]), ok());
    assert_eq!(a.read(), arr(&["r", "z"]));
    // SORT ... STORE creates a list.
    a.send(&["BLPOP", "sorted", "0"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["RPUSH", "nums", "3", "1", "2"]);
    assert_eq!(w.call(&["SORT", "nums", "STORE", "sorted"]), int(3));
    assert_eq!(a.read(), arr(&["sorted", "1"]));
}

#[test]
fn a_key_of_another_type_does_not_wake_a_list_waiter() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut w = Client::new(&s);
    a.send(&["BLPOP", "k", "0"]);
    common::wait_blocked(&mut w, 1);
    assert_eq!(w.call(&["SET", "k", "str"]), ok());
    std::thread::sleep(Duration::from_millis(50));
    common::wait_blocked(&mut w, 1);
    assert_eq!(w.call(&["DEL", "k"]), int(1));
    assert_eq!(w.call(&["LPUSH", "k", "v"]), int(1));
    assert_eq!(a.read(), arr(&["k", "v"]));
}

#[test]
fn client_unblock_with_timeout_and_error() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut w = Client::new(&s);
    let id = common::as_int(a.call(&["CLIENT", "ID"]));
    a.send(&["BLPOP", "k", "0"]);
    common::wait_blocked(&mut w, 1);
    let list = w.call(&["CLIENT", "LIST"]).text();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .expect("client listed");
    assert!(line.contains(" flags=b "), "{line}");
    assert!(line.contains(" cmd=blpop "), "{line}");
    assert_eq!(w.call(&["CLIENT", "UNBLOCK", &id.to_string()]), int(1));
    assert_eq!(a.read(), V::NilArray);
    assert_eq!(w.call(&["CLIENT", "UNBLOCK", &id.to_string()]), int(0));
    a.send(&["BZPOPMIN", "z", "0"]);
    common::wait_blocked(&mut w, 1);
    assert_eq!(
        w.call(&["CLIENT", "UNBLOCK", &id.to_string(), "ERROR"]),
        int(1)
    );
    assert_eq!(
        a.read(),
        err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    );
    assert_eq!(a.call(&["PING"]), V::Simple("PONG".into()));
}

#[test]
fn a_disconnected_blocked_client_is_forgotten() {
    let s = TestServer::start();
    let mut w = Client::new(&s);
    {
        let mut a = Client::new(&s);
        a.send(&["BLPOP", "k", "0"]);
        common::wait_blocked(&mut w, 1);
    }
    common::wait_blocked(&mut w, 0);
    assert_eq!(w.call(&["RPUSH", "k", "v"]), int(1));
    assert_eq!(w.call(&["LLEN", "k"]), int(1));
}

#[test]
fn blmove_woken_feeds_another_waiter() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut b = Client::new(&s);
    let mut w = Client::new(&s);
    // b waits on the destination of a's BLMOVE.
    a.send(&["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]);
    common::wait_blocked(&mut w, 1);
    b.send(&["BLPOP", "dst", "0"]);
    common::wait_blocked(&mut w, 2);
    assert_eq!(w.call(&["RPUSH", "src", "v"]), int(1));
    assert_eq!(a.read(), bulk("v"));
    assert_eq!(b.read(), arr(&["dst", "v"]));
    common::wait_blocked(&mut w, 0);
}

#[test]
fn bzpopmin_is_woken_by_zadd() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut w = Client::new(&s);
    a.send(&["BZPOPMIN", "z1", "z2", "0"]);
    common::wait_blocked(&mut w, 1);
    assert_eq!(w.call(&["ZADD", "z2", "2", "b", "1", "a"]), int(2));
    assert_eq!(a.read(), arr(&["z2", "a", "1"]));
}

#[test]
fn swapdb_wakes_clients_waiting_in_either_db() {
    let s = TestServer::start();
    let mut a = Client::new(&s);
    let mut w = Client::new(&s);
    a.send(&["BLPOP", "k", "0"]);
    common::wait_blocked(&mut w, 1);
    w.call(&["SELECT", "1"]);
    w.call(&["RPUSH", "k", "from1"]);
    assert_eq!(w.call(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(a.read(), arr(&["k", "from1"]));
}
