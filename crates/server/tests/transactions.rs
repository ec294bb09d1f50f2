//! MULTI / EXEC / DISCARD / WATCH / UNWATCH through the real server, with
//! Valkey 8's replies (tests/unit/multi.tcl): queueing, EXECABORT after a
//! rejected command, errors inside EXEC, and every way a WATCH is
//! invalidated (writes by other clients, EXPIRE, RENAME, MOVE, COPY,
//! FLUSHDB, FLUSHALL, SWAPDB) or not (other databases, keys untouched by a
//! flush).

mod common;
use common::{bulk, encode, err, int, ok, wait_until, Client, TestServer, V};
use std::time::Duration;

fn queued() -> V {
    V::Simple("QUEUED".into())
}
fn pong() -> V {
    V::Simple("PONG".into())
}
const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// MULTI, PING, EXEC: the EXEC reply tells whether the WATCHes held.
fn exec_ping(c: &mut Client) -> V {
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["PING"]), queued());
    c.call(&["EXEC"])
}
fn succeeded() -> V {
    V::Arr(vec![pong()])
}

// ---- MULTI / EXEC / DISCARD --------------------------------------------------------

#[test]
fn multi_exec_basics_resp2_and_resp3() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "k", "v"]), queued());
    assert_eq!(c.call(&["GET", "k"]), queued());
    assert_eq!(c.call(&["PING"]), queued());
    assert_eq!(c.call(&["EXEC"]), V::Arr(vec![ok(), bulk("v"), pong()]));
    // Exact bytes, including an empty transaction.
    let mut raw = s.raw();
    raw.send(&encode(&[b"MULTI"]));
    raw.send(&encode(&[b"INCR", b"n"]));
    raw.send(&encode(&[b"EXEC"]));
    raw.expect(b"+OK\r\n+QUEUED\r\n*1\r\n:1\r\n");
    raw.send(&encode(&[b"MULTI"]));
    raw.send(&encode(&[b"EXEC"]));
    raw.expect(b"+OK\r\n*0\r\n");
    let mut c3 = Client::new(&s);
    c3.hello3();
    assert_eq!(c3.call(&["MULTI"]), ok());
    assert_eq!(c3.call(&["GET", "nokey"]), queued());
    assert_eq!(c3.call(&["EXEC"]), V::Arr(vec![V::Null]));
}

#[test]
fn discard_and_commands_without_multi() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "k", "v"]);
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["DEL", "k"]), queued());
    assert_eq!(c.call(&["DISCARD"]), ok());
    assert_eq!(c.call(&["GET", "k"]), bulk("v"));
    assert_eq!(c.call(&["DISCARD"]), err("ERR DISCARD without MULTI"));
    assert_eq!(c.call(&["EXEC"]), err("ERR EXEC without MULTI"));
}

#[test]
fn queueing_errors_abort_exec() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // An unknown command.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "foo1", "bar1"]), queued());
    assert_eq!(
        c.call(&["non-existing-command"]),
        err("ERR unknown command 'non-existing-command', with args beginning with: ")
    );
    assert_eq!(c.call(&["SET", "foo2", "bar2"]), queued());
    assert_eq!(c.call(&["EXEC"]), err(EXECABORT));
    assert_eq!(c.call(&["EXISTS", "foo1", "foo2"]), int(0));
    // The client left the MULTI state.
    assert_eq!(c.call(&["PING"]), pong());
    // An arity error.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "foo1", "bar1"]), queued());
    assert_eq!(
        c.call(&["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(c.call(&["EXEC"]), err(EXECABORT));
    assert_eq!(c.call(&["EXISTS", "foo1"]), int(0));
    // An unknown subcommand.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(
        c.call(&["OBJECT", "nope", "k"]),
        err("ERR unknown subcommand 'nope'. Try OBJECT HELP.")
    );
    assert_eq!(c.call(&["EXEC"]), err(EXECABORT));
    // DISCARD after a queueing error is fine.
    assert_eq!(c.call(&["MULTI"]), ok());
    c.call(&["NOPE"]);
    assert_eq!(c.call(&["DISCARD"]), ok());
    assert_eq!(c.call(&["PING"]), pong());
}

#[test]
fn a_refused_exec_discards_the_transaction_and_says_why() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // An arity error on EXEC itself, in MULTI: the transaction is gone.
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "k", "v"]), queued());
    assert_eq!(
        c.call(&["EXEC", "extra"]),
        err("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
    );
    assert_eq!(c.call(&["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(c.call(&["EXISTS", "k"]), int(0));
    // Counted as an EXECABORT error, and as a rejected EXEC.
    let info = c.call(&["INFO", "errorstats"]).text();
    assert!(info.contains("errorstat_EXECABORT:count=1"), "{info}");
    let info = c.call(&["INFO", "commandstats"]).text();
    assert!(
        info.contains("cmdstat_exec:calls=1,") && info.contains("rejected_calls=1,failed_calls=1"),
        "{info}"
    );

    // Out of memory: a read-only transaction still runs, one with a
    // DENYOOM command queued before the limit is discarded at EXEC.
    let mut admin = Client::new(&s);
    assert_eq!(c.call(&["SET", "x", "value"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["GET", "x"]), queued());
    assert_eq!(c.call(&["PING"]), queued());
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(c.call(&["EXEC"]), V::Arr(vec![bulk("value"), pong()]));
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["SET", "x", "1"]), queued());
    assert_eq!(c.call(&["GET", "x"]), queued());
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert_eq!(
        c.call(&["EXEC"]),
        err("EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.")
    );
    assert_eq!(admin.call(&["CONFIG", "SET", "maxmemory", "0"]), ok());
    assert_eq!(c.call(&["GET", "x"]), bulk("value"));
}

#[test]
fn errors_inside_exec_do_not_abort_the_others() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "a", "foo"]);
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["INCR", "a"]), queued());
    assert_eq!(c.call(&["SET", "b", "1"]), queued());
    assert_eq!(c.call(&["RENAME", "nokey", "x"]), queued());
    assert_eq!(c.call(&["EXPIRE", "b", "100", "NX", "XX"]), queued());
    assert_eq!(c.call(&["INCR", "b"]), queued());
    assert_eq!(
        c.call(&["EXEC"]),
        V::Arr(vec![
            err("ERR value is not an integer or out of range"),
            ok(),
            err("ERR no such key"),
            err("ERR NX and XX, GT or LT options at the same time are not compatible"),
            int(2),
        ])
    );
    assert_eq!(c.call(&["GET", "b"]), bulk("2"));
}

#[test]
fn nested_multi_is_an_error() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(c.call(&["MULTI"]), ok());
    assert!(matches!(c.call(&["MULTI"]), V::Err(e) if e.starts_with("ERR ")));
    // Valkey 8 also aborts the transaction (MULTI is flagged no-multi);
    // see `nested_multi_and_watch_abort_exec_like_valkey_8`.
    c.call(&["DISCARD"]);
    assert_eq!(c.call(&["MULTI"]), ok());
    assert!(matches!(c.call(&["WATCH", "x"]), V::Err(e) if e.starts_with("ERR ")));
    c.call(&["DISCARD"]);
}

#[test]
fn nested_multi_and_watch_abort_exec_like_valkey_8() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let not_allowed = err("ERR Command not allowed inside a transaction");
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["MULTI"]), not_allowed);
    assert_eq!(c.call(&["EXEC"]), err(EXECABORT));
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["WATCH", "x"]), not_allowed);
    assert_eq!(c.call(&["EXEC"]), err(EXECABORT));
}

// ---- WATCH --------------------------------------------------------------------------

#[test]
fn watch_basics() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Not modified: EXEC runs.
    assert_eq!(c.call(&["WATCH", "x", "y", "z"]), ok());
    assert_eq!(c.call(&["WATCH", "k"]), ok());
    assert_eq!(exec_ping(&mut c), succeeded());
    // Modified by this very client before MULTI: EXEC fails (nil array).
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "x"]);
    c.call(&["SET", "x", "40"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    // One key of five.
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "a", "b", "x", "k", "z"]);
    c.call(&["SET", "x", "40"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    // After a successful or failed EXEC nothing is watched.
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "x"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    c.call(&["SET", "x", "40"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    c.call(&["WATCH", "x"]);
    c.call(&["SET", "x", "50"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    c.call(&["SET", "x", "60"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // UNWATCH
    c.call(&["WATCH", "x"]);
    c.call(&["SET", "x", "40"]);
    assert_eq!(c.call(&["UNWATCH"]), ok());
    assert_eq!(exec_ping(&mut c), succeeded());
    assert_eq!(c.call(&["UNWATCH"]), ok());
    assert_eq!(
        c.call(&["WATCH"]),
        err("ERR wrong number of arguments for 'watch' command")
    );
}

#[test]
fn watch_failure_in_resp3_is_null() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.hello3();
    c.call(&["WATCH", "x"]);
    c.call(&["SET", "x", "1"]);
    assert_eq!(exec_ping(&mut c), V::Null);
}

#[test]
fn watch_invalidated_by_another_client() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut other = Client::new(&s);
    c.call(&["SET", "x", "1"]);
    c.call(&["WATCH", "x"]);
    assert_eq!(c.call(&["MULTI"]), ok());
    assert_eq!(c.call(&["INCR", "x"]), queued());
    // Written between MULTI and EXEC by someone else.
    other.call(&["SET", "x", "10"]);
    assert_eq!(c.call(&["EXEC"]), V::NilArray);
    assert_eq!(c.call(&["GET", "x"]), bulk("10"));
    // The same write in another database does not count.
    c.call(&["SELECT", "5"]);
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "x"]);
    other.call(&["SELECT", "1"]);
    other.call(&["SET", "x", "10"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // Reads do not count either.
    c.call(&["WATCH", "x"]);
    other.call(&["SELECT", "5"]);
    other.call(&["GET", "x"]);
    other.call(&["EXISTS", "x"]);
    other.call(&["TTL", "x"]);
    other.call(&["TOUCH", "x"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // A failed write (RENAMENX onto an existing key) does not count.
    other.call(&["SET", "src", "1"]);
    c.call(&["WATCH", "x"]);
    assert_eq!(other.call(&["RENAMENX", "src", "x"]), int(0));
    assert_eq!(other.call(&["EXPIRE", "x", "100", "XX"]), int(0));
    assert_eq!(exec_ping(&mut c), succeeded());
}

#[test]
fn watch_invalidated_by_keyspace_commands() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut other = Client::new(&s);
    let mut check = |c: &mut Client, setup: &[&str], write: &[&str], fails: bool| {
        other.call(&["FLUSHALL"]);
        other.call(setup);
        c.call(&["WATCH", "x"]);
        other.call(write);
        let want = if fails { V::NilArray } else { succeeded() };
        assert_eq!(exec_ping(c), want, "{write:?}");
    };
    check(&mut c, &["SET", "x", "foo"], &["EXPIRE", "x", "10"], true);
    check(&mut c, &["SET", "x", "foo"], &["PERSIST", "x"], false);
    check(
        &mut c,
        &["SET", "x", "foo", "EX", "100"],
        &["PERSIST", "x"],
        true,
    );
    check(&mut c, &["SET", "x", "foo"], &["DEL", "x"], true);
    check(&mut c, &["SET", "x", "foo"], &["UNLINK", "x"], true);
    check(&mut c, &["SET", "x", "foo"], &["DEL", "y"], false);
    check(&mut c, &["SET", "x", "foo"], &["RENAME", "x", "y"], true);
    check(&mut c, &["SET", "y", "foo"], &["RENAME", "y", "x"], true);
    check(&mut c, &["SET", "x", "foo"], &["MOVE", "x", "3"], true);
    check(&mut c, &["SET", "y", "foo"], &["COPY", "y", "x"], true);
    check(&mut c, &["SET", "x", "foo"], &["COPY", "x", "y"], false);
    check(&mut c, &["SET", "x", "foo"], &["PEXPIREAT", "x", "1"], true);
    check(&mut c, &["SET", "x", "foo"], &["EXPIRE", "x", "-1"], true);
}

#[test]
fn watch_and_move_or_copy_into_the_watched_database() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut other = Client::new(&s);
    c.call(&["SELECT", "2"]);
    c.call(&["WATCH", "x"]);
    other.call(&["SET", "x", "v"]);
    other.call(&["MOVE", "x", "2"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    c.call(&["WATCH", "y"]);
    other.call(&["SET", "y", "v"]);
    other.call(&["COPY", "y", "y", "DB", "2"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
}

#[test]
fn flush_touches_only_existing_watched_keys() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // FLUSHALL
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "x"]);
    c.call(&["FLUSHALL"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    c.call(&["DEL", "x"]);
    c.call(&["WATCH", "x"]);
    c.call(&["FLUSHALL"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // FLUSHDB
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "x"]);
    c.call(&["FLUSHDB"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    c.call(&["WATCH", "x"]);
    c.call(&["FLUSHDB"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // FLUSHDB of another database leaves this one's WATCHes alone.
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "x"]);
    c.call(&["SELECT", "1"]);
    c.call(&["SET", "x", "1"]);
    c.call(&["FLUSHDB"]);
    c.call(&["SELECT", "0"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // FLUSHALL from another client while queued.
    c.call(&["WATCH", "x"]);
    c.call(&["MULTI"]);
    c.call(&["GET", "x"]);
    let mut other = Client::new(&s);
    other.call(&["FLUSHALL", "ASYNC"]);
    assert_eq!(c.call(&["EXEC"]), V::NilArray);
}

#[test]
fn swapdb_touches_watched_keys_on_either_side() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // The key exists in the watched database: SWAPDB "deletes" it.
    c.call(&["FLUSHALL"]);
    c.call(&["SET", "x", "30"]);
    c.call(&["WATCH", "x"]);
    c.call(&["SWAPDB", "0", "1"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    // The key is missing but exists on the other side: SWAPDB creates it.
    c.call(&["FLUSHALL"]);
    c.call(&["SELECT", "1"]);
    c.call(&["SET", "x", "30"]);
    c.call(&["SELECT", "0"]);
    c.call(&["WATCH", "x"]);
    c.call(&["SWAPDB", "0", "1"]);
    assert_eq!(exec_ping(&mut c), V::NilArray);
    // Missing on both sides: no change.
    c.call(&["FLUSHALL"]);
    c.call(&["SELECT", "1"]);
    c.call(&["SET", "other", "1"]);
    c.call(&["SELECT", "0"]);
    c.call(&["WATCH", "x"]);
    c.call(&["SWAPDB", "0", "1"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // Databases not involved: no change.
    c.call(&["SET", "x", "1"]);
    c.call(&["WATCH", "x"]);
    c.call(&["SWAPDB", "2", "3"]);
    c.call(&["SWAPDB", "0", "0"]);
    assert_eq!(exec_ping(&mut c), succeeded());
}

#[test]
fn discard_clears_dirty_flag_and_watches() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["DEL", "x"]);
    c.call(&["WATCH", "x"]);
    c.call(&["SET", "x", "10"]);
    c.call(&["MULTI"]);
    assert_eq!(c.call(&["DISCARD"]), ok());
    c.call(&["MULTI"]);
    c.call(&["INCR", "x"]);
    assert_eq!(c.call(&["EXEC"]), V::Arr(vec![int(11)]));
    c.call(&["WATCH", "x"]);
    c.call(&["MULTI"]);
    c.call(&["DISCARD"]);
    c.call(&["SET", "x", "10"]);
    c.call(&["MULTI"]);
    c.call(&["INCR", "x"]);
    assert_eq!(c.call(&["EXEC"]), V::Arr(vec![int(11)]));
}

#[test]
fn watching_a_key_that_already_expired_does_not_fail_exec() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SET", "x", "foo", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    c.call(&["WATCH", "x"]);
    assert_eq!(exec_ping(&mut c), succeeded());
    // Deleting the stale key (here by an access) is no change either.
    c.call(&["SET", "x", "foo", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    c.call(&["WATCH", "x"]);
    assert_eq!(c.call(&["EXISTS", "x"]), int(0));
    assert_eq!(exec_ping(&mut c), succeeded());
}

#[test]
fn watched_key_that_expires_fails_exec_like_valkey_8() {
    let s = TestServer::start_with(&["--enable-debug-command", "yes"]);
    let mut c = Client::new(&s);
    // Expired but not yet deleted (lazy path).
    c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    c.call(&["SET", "key", "1", "PX", "100"]);
    c.call(&["WATCH", "key"]);
    std::thread::sleep(Duration::from_millis(150));
    c.call(&["MULTI"]);
    c.call(&["INCR", "key"]);
    assert_eq!(c.call(&["EXEC"]), V::NilArray);
    // Deleted by the active expiry cycle.
    c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    c.call(&["SET", "x", "foo", "PX", "100"]);
    c.call(&["WATCH", "x"]);
    wait_until(Duration::from_secs(5), "x did not actively expire", || {
        c.call(&["DBSIZE"]) == int(0)
    });
    assert_eq!(exec_ping(&mut c), V::NilArray);
    // A stale key flushed away is no change for a client that watched it
    // stale.
    c.call(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    c.call(&["SET", "x", "foo", "PX", "1"]);
    std::thread::sleep(Duration::from_millis(5));
    c.call(&["WATCH", "x"]);
    c.call(&["FLUSHDB"]);
    assert_eq!(exec_ping(&mut c), succeeded());
}
