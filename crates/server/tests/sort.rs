//! SORT and SORT_RO on lists, sets and sorted sets, with BY, GET, LIMIT,
//! ALPHA, DESC and STORE, compared with Valkey's replies.

mod common;

use common::{bulk, err, int, Client, TestServer, V};

fn arr(items: &[&str]) -> V {
    V::Arr(items.iter().map(|s| bulk(s)).collect())
}

fn call(c: &mut Client, line: &str) -> V {
    let args: Vec<&str> = line.split(' ').collect();
    c.call(&args)
}

#[test]
fn numeric_and_alpha_sorting() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "RPUSH l 3 1 10 2");
    assert_eq!(call(&mut c, "SORT l"), arr(&["1", "2", "3", "10"]));
    assert_eq!(call(&mut c, "SORT l DESC"), arr(&["10", "3", "2", "1"]));
    assert_eq!(call(&mut c, "SORT l ALPHA"), arr(&["1", "10", "2", "3"]));
    assert_eq!(call(&mut c, "SORT l LIMIT 1 2"), arr(&["2", "3"]));
    assert_eq!(call(&mut c, "SORT l LIMIT -5 2"), arr(&["1", "2"]));
    assert_eq!(call(&mut c, "SORT l LIMIT 10 2"), arr(&[]));
    assert_eq!(call(&mut c, "SORT_RO l DESC LIMIT 0 1"), arr(&["10"]));
    call(&mut c, "RPUSH words b a c");
    assert_eq!(
        call(&mut c, "SORT words"),
        err("ERR One or more scores can't be converted into double")
    );
    assert_eq!(call(&mut c, "SORT words ALPHA DESC"), arr(&["c", "b", "a"]));
    // Equal scores fall back to comparing the elements.
    call(&mut c, "RPUSH eq 1.0 1 01");
    assert_eq!(call(&mut c, "SORT eq"), arr(&["01", "1", "1.0"]));
}

#[test]
fn sets_and_sorted_sets() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "SADD s 5 3 9");
    assert_eq!(call(&mut c, "SORT s"), arr(&["3", "5", "9"]));
    call(&mut c, "ZADD z 1 c 2 b 3 a");
    assert_eq!(call(&mut c, "SORT z ALPHA"), arr(&["a", "b", "c"]));
    // BY with no '*' keeps the value's own order: a sorted set by score.
    assert_eq!(call(&mut c, "SORT z BY nosort"), arr(&["c", "b", "a"]));
    assert_eq!(call(&mut c, "SORT z BY nosort DESC"), arr(&["a", "b", "c"]));
    assert_eq!(call(&mut c, "SORT z BY nosort LIMIT 1 1"), arr(&["b"]));
    assert_eq!(call(&mut c, "SORT missing"), arr(&[]));
    call(&mut c, "SET str x");
    assert_eq!(
        call(&mut c, "SORT str"),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn by_and_get_patterns() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "RPUSH ids 1 2 3");
    call(&mut c, "MSET w_1 30 w_2 10 w_3 20 name_1 one name_2 two");
    call(&mut c, "HSET h_1 f c");
    call(&mut c, "HSET h_2 f a");
    call(&mut c, "HSET h_3 f b");
    assert_eq!(call(&mut c, "SORT ids BY w_*"), arr(&["2", "3", "1"]));
    assert_eq!(
        call(&mut c, "SORT ids BY w_* GET # GET name_*"),
        V::Arr(vec![
            bulk("2"),
            bulk("two"),
            bulk("3"),
            V::Nil,
            bulk("1"),
            bulk("one"),
        ])
    );
    assert_eq!(
        call(&mut c, "SORT ids BY h_*->f ALPHA"),
        arr(&["2", "3", "1"])
    );
    assert_eq!(
        call(&mut c, "SORT ids BY h_*->f ALPHA GET h_*->f"),
        arr(&["a", "b", "c"])
    );
    // GET of a pattern without '*' is always nil.
    assert_eq!(
        call(&mut c, "SORT ids GET fixed LIMIT 0 1"),
        V::Arr(vec![V::Nil])
    );
    assert_eq!(
        call(&mut c, "SORT ids BY w_* LIMIT 0 x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(call(&mut c, "SORT ids FOO"), err("ERR syntax error"));
    assert_eq!(
        call(&mut c, "SORT_RO ids STORE dst"),
        err("ERR syntax error")
    );
}

#[test]
fn store_makes_a_list_and_empty_results_delete() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "RPUSH l 3 1 2");
    assert_eq!(call(&mut c, "SORT l STORE dst"), int(3));
    assert_eq!(call(&mut c, "LRANGE dst 0 -1"), arr(&["1", "2", "3"]));
    assert_eq!(call(&mut c, "TYPE dst"), V::Simple("list".into()));
    // GET values that are missing are stored as empty strings.
    assert_eq!(call(&mut c, "SORT l GET nope_* STORE dst2"), int(3));
    assert_eq!(call(&mut c, "LRANGE dst2 0 0"), arr(&[""]));
    assert_eq!(call(&mut c, "SORT missing STORE dst"), int(0));
    assert_eq!(call(&mut c, "EXISTS dst"), int(0));
    // A set stored without sorting is sorted anyway, for determinism.
    call(&mut c, "SADD s c a b");
    assert_eq!(call(&mut c, "SORT s BY nosort STORE dst"), int(3));
    assert_eq!(call(&mut c, "LRANGE dst 0 -1"), arr(&["a", "b", "c"]));
}

#[test]
fn command_getkeys_includes_the_store_key() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    assert_eq!(
        call(&mut c, "COMMAND GETKEYS SORT src BY w_* STORE dst"),
        arr(&["src", "dst"])
    );
    assert_eq!(call(&mut c, "COMMAND GETKEYS SORT_RO src"), arr(&["src"]));
}
