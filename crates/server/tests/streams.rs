//! The stream commands, against the real server: replies byte for byte as
//! Valkey gives them (RESP2 and RESP3), every option and error, consumer
//! groups through reads, claims and acks, blocking reads woken by writes
//! from other connections, and keyspace events. Many cases are ports of
//! Valkey's tests/unit/type/stream.tcl and stream-cgroups.tcl.

mod common;

use common::{bulk, err, int, ok, Client, TestServer, V};
use std::time::{Duration, Instant};

fn arr(items: Vec<V>) -> V {
    V::Arr(items)
}

fn bulks(items: &[&str]) -> V {
    V::Arr(items.iter().map(|s| bulk(s)).collect())
}

/// `[id, [field, value, ...]]`.
fn entry(id: &str, fv: &[&str]) -> V {
    arr(vec![bulk(id), bulks(fv)])
}

fn call(c: &mut Client, line: &str) -> V {
    let words: Vec<&str> = line.split(' ').collect();
    c.call(&words)
}

fn text(v: V) -> String {
    v.text()
}

/// A field of a flat RESP2 map reply (XINFO).
fn field(v: &V, name: &str) -> V {
    let V::Arr(items) = v else {
        panic!("not a map: {v:?}")
    };
    for pair in items.chunks(2) {
        if pair[0] == bulk(name) {
            return pair[1].clone();
        }
    }
    panic!("no {name} in {v:?}")
}

fn items(v: V) -> Vec<V> {
    match v {
        V::Arr(x) => x,
        other => panic!("not an array: {other:?}"),
    }
}

// ---- XADD ------------------------------------------------------------------------

#[test]
fn xadd_ids_and_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for args in [
        &["XADD", "s"][..],
        &["XADD", "s", "*"][..],
        &["XADD", "s", "*", "field"][..],
        &["XADD", "s", "MAXLEN", "5", "*", "f"][..],
    ] {
        assert_eq!(
            c.call(args),
            err("ERR wrong number of arguments for 'xadd' command")
        );
    }
    assert_eq!(call(&mut c, "XADD s 123-456 item 1"), bulk("123-456"));
    assert_eq!(call(&mut c, "XADD s 123-* item 2"), bulk("123-457"));
    assert_eq!(call(&mut c, "XADD s 789-* item 3"), bulk("789-0"));
    let smaller =
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item");
    assert_eq!(call(&mut c, "XADD s 42-* item 4"), smaller);
    assert_eq!(call(&mut c, "XADD s 789-0 item 4"), smaller);
    assert_eq!(call(&mut c, "XADD s 789 item 4"), smaller);
    assert_eq!(call(&mut c, "XADD s 790 item 4"), bulk("790-0"));
    assert_eq!(
        call(&mut c, "XADD s 1-2-3 a b"),
        err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(
        call(&mut c, "XADD s - a b"),
        err("ERR Invalid stream ID specified as stream command argument")
    );
    // Auto IDs follow the clock, and never go backwards.
    let id = text(call(&mut c, "XADD s * item 5"));
    let (ms, seq) = id.split_once('-').unwrap();
    assert!(ms.parse::<u64>().unwrap() > 1_600_000_000_000);
    assert_eq!(seq, "0");
    assert_eq!(call(&mut c, "XLEN s"), int(5));

    // 0-0 is refused before the key is created.
    assert_eq!(
        call(&mut c, "XADD z 0-0 k v"),
        err("ERR The ID specified in XADD must be greater than 0-0")
    );
    assert_eq!(call(&mut c, "EXISTS z"), int(0));
    assert_eq!(call(&mut c, "XADD z 0-* a b"), bulk("0-1"));

    // The last possible ID.
    call(&mut c, "DEL m");
    assert_eq!(
        call(
            &mut c,
            "XADD m 18446744073709551615-18446744073709551615 a b"
        ),
        bulk("18446744073709551615-18446744073709551615")
    );
    assert_eq!(
        call(&mut c, "XADD m * c d"),
        err("ERR The stream has exhausted the last possible ID, unable to add more items")
    );
    call(&mut c, "DEL m");
    call(&mut c, "XADD m 1-18446744073709551615 a b");
    assert_eq!(call(&mut c, "XADD m 1-* c d"), smaller);
    // A future timestamp with the maximal sequence: `*` moves to the next ms.
    call(&mut c, "DEL x");
    call(&mut c, "XADD x 2577343934890-18446744073709551615 f v");
    assert_eq!(call(&mut c, "XADD x * f2 v2"), bulk("2577343934891-0"));

    // NOMKSTREAM.
    assert_eq!(call(&mut c, "XADD nokey NOMKSTREAM * a 1"), V::Nil);
    assert_eq!(call(&mut c, "EXISTS nokey"), int(0));
    call(&mut c, "XADD nokey * a 1");
    assert!(matches!(
        call(&mut c, "XADD nokey NOMKSTREAM * b 2"),
        V::Bulk(_)
    ));
    assert_eq!(call(&mut c, "XLEN nokey"), int(2));

    // Types.
    call(&mut c, "SET str v");
    let wrong = err("WRONGTYPE Operation against a key holding the wrong kind of value");
    assert_eq!(call(&mut c, "XADD str * a b"), wrong);
    assert_eq!(call(&mut c, "XLEN str"), wrong);
    assert_eq!(call(&mut c, "TYPE s"), V::Simple("stream".into()));
    assert_eq!(call(&mut c, "OBJECT ENCODING s"), bulk("stream"));
    assert_eq!(call(&mut c, "XLEN nothing"), int(0));

    // RESP3: the null of NOMKSTREAM.
    let mut r = Client::new(&s);
    r.hello3();
    assert_eq!(r.cmd_raw("XADD nokey2 NOMKSTREAM * a 1"), b"_\r\n");
}

#[test]
fn xadd_and_xtrim_trimming() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for j in 0..1000 {
        let f = if j % 10 == 3 { "yitem" } else { "xitem" };
        c.call(&["XADD", "s", "MAXLEN", "5", "*", f, &j.to_string()]);
    }
    assert_eq!(call(&mut c, "XLEN s"), int(5));
    let got: Vec<String> = items(call(&mut c, "XRANGE s - +"))
        .into_iter()
        .map(|e| items(items(e).remove(1)).remove(1).text())
        .collect();
    assert_eq!(got, ["995", "996", "997", "998", "999"]);

    call(&mut c, "DEL s");
    for j in 0..1000 {
        c.call(&[
            "XADD",
            "s",
            "MAXLEN",
            "=",
            "5",
            "*",
            "xitem",
            &j.to_string(),
        ]);
    }
    assert_eq!(call(&mut c, "XLEN s"), int(5));

    call(&mut c, "DEL s");
    for j in 0..1000 {
        c.call(&[
            "XADD",
            "s",
            "MAXLEN",
            "~",
            "555",
            "*",
            "xitem",
            &j.to_string(),
        ]);
    }
    assert_eq!(call(&mut c, "XLEN s"), int(600));

    call(&mut c, "DEL s");
    for j in 1..1001 {
        let minid = if j >= 5 { j - 5 } else { 1000 };
        c.call(&[
            "XADD",
            "s",
            "MINID",
            &minid.to_string(),
            &j.to_string(),
            "xitem",
            &j.to_string(),
        ]);
    }
    assert_eq!(call(&mut c, "XLEN s"), int(6));
    assert_eq!(
        items(call(&mut c, "XRANGE s - + COUNT 1")).remove(0),
        entry("995-0", &["xitem", "995"])
    );

    call(&mut c, "DEL s");
    for i in 1..=5 {
        c.call(&["XADD", "s", &format!("{i}-0"), "f", "v"]);
    }
    assert_eq!(call(&mut c, "XTRIM s MINID = 3-0"), int(2));
    assert_eq!(
        call(&mut c, "XRANGE s - +"),
        arr(vec![
            entry("3-0", &["f", "v"]),
            entry("4-0", &["f", "v"]),
            entry("5-0", &["f", "v"])
        ])
    );
    call(&mut c, "DEL s");
    call(&mut c, "XADD s 1-0 f v");
    call(&mut c, "XADD s 1641544570597-0 f v");
    call(&mut c, "XADD s 1641544570597-1 f v");
    assert_eq!(call(&mut c, "XTRIM s MINID 1641544570597-0"), int(1));
    assert_eq!(call(&mut c, "XLEN s"), int(2));

    // XTRIM MAXLEN exact and approximate.
    call(&mut c, "DEL s");
    for j in 0..1000 {
        c.call(&["XADD", "s", "*", "xitem", &j.to_string()]);
    }
    assert_eq!(call(&mut c, "XTRIM s MAXLEN 666"), int(334));
    assert_eq!(call(&mut c, "XTRIM s MAXLEN = 555"), int(111));
    assert_eq!(call(&mut c, "XTRIM s MAXLEN ~ 444"), int(55));
    assert_eq!(call(&mut c, "XLEN s"), int(500));
    assert_eq!(call(&mut c, "XTRIM s MAXLEN ~ 400"), int(100));
    assert_eq!(call(&mut c, "XLEN s"), int(400));
    assert_eq!(call(&mut c, "XTRIM nokey MAXLEN 1"), int(0));

    // LIMIT.
    call(&mut c, "DEL y");
    for _ in 0..3 {
        call(&mut c, "XADD y * xitem v");
    }
    call(&mut c, "XADD y MAXLEN ~ 0 LIMIT 1 * xitem v");
    assert_eq!(call(&mut c, "XLEN y"), int(4));
    assert_eq!(call(&mut c, "CONFIG SET stream-node-max-entries 10"), ok());
    call(&mut c, "DEL s");
    for _ in 0..100 {
        call(&mut c, "XADD s * xitem v");
    }
    call(&mut c, "XADD s MAXLEN ~ 55 LIMIT 30 * xitem v");
    assert_eq!(call(&mut c, "XLEN s"), int(71));
    call(&mut c, "XADD s MAXLEN ~ 55 LIMIT 30 * xitem v");
    assert_eq!(call(&mut c, "XLEN s"), int(62));
    call(&mut c, "CONFIG SET stream-node-max-entries 1");
    call(&mut c, "DEL s");
    for _ in 0..102 {
        call(&mut c, "XADD s * xitem v");
    }
    call(&mut c, "XTRIM s MAXLEN ~ 1");
    assert_eq!(call(&mut c, "XLEN s"), int(2));
    call(&mut c, "XTRIM s MAXLEN 1");
    assert_eq!(call(&mut c, "XLEN s"), int(1));
    call(&mut c, "CONFIG SET stream-node-max-entries 2");
    call(&mut c, "DEL s");
    for _ in 0..3 {
        call(&mut c, "XADD s * xitem v");
    }
    assert_eq!(call(&mut c, "XTRIM s MAXLEN ~ 0 LIMIT 1"), int(0));
    assert_eq!(call(&mut c, "XTRIM s MAXLEN ~ 0 LIMIT 2"), int(2));
    call(&mut c, "CONFIG SET stream-node-max-entries 100");

    // A stream trimmed to nothing stays.
    assert!(matches!(call(&mut c, "XADD e MAXLEN 0 * a b"), V::Bulk(_)));
    assert_eq!(call(&mut c, "XLEN e"), int(0));
    assert_eq!(call(&mut c, "EXISTS e"), int(1));

    // Errors.
    let e = |c: &mut Client, line: &str, msg: &str| assert_eq!(call(c, line), err(msg), "{line}");
    e(
        &mut c,
        "XTRIM s MAXLEN 1 LIMIT 30",
        "ERR syntax error, LIMIT cannot be used without the special ~ option",
    );
    e(
        &mut c,
        "XTRIM s LIMIT 30 MAXLEN 1",
        "ERR syntax error, LIMIT cannot be used without the special ~ option",
    );
    e(
        &mut c,
        "XTRIM s LIMIT 30",
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
    );
    e(&mut c, "XTRIM s FOO 30", "ERR syntax error");
    e(
        &mut c,
        "XTRIM s MAXLEN 1 MINID 2",
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
    );
    e(
        &mut c,
        "XTRIM s MAXLEN -1",
        "ERR The MAXLEN argument must be >= 0.",
    );
    e(
        &mut c,
        "XTRIM s MAXLEN ~ 1 LIMIT -1",
        "ERR The LIMIT argument must be >= 0.",
    );
    e(
        &mut c,
        "XTRIM s MAXLEN abc",
        "ERR value is not an integer or out of range",
    );
    e(
        &mut c,
        "XTRIM s MINID +",
        "ERR Invalid stream ID specified as stream command argument",
    );
    e(&mut c, "XTRIM s LIMIT 0 NOMKSTREAM", "ERR syntax error");
    e(
        &mut c,
        "XADD s LIMIT 5 * a b",
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
    );
    e(
        &mut c,
        "XADD s MAXLEN ~ * a b",
        "ERR value is not an integer or out of range",
    );
    // An option without its argument is taken for the ID.
    e(
        &mut c,
        "XADD s a b MAXLEN",
        "ERR Invalid stream ID specified as stream command argument",
    );
}

// ---- XRANGE / XREVRANGE / XDEL / XLEN ---------------------------------------------

#[test]
fn xrange_and_xrevrange() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // Mixed field sets exercise the master-entry compression.
    c.send(&["MULTI"]);
    c.read();
    for j in 0..3000 {
        if j % 10 == 7 {
            c.send(&[
                "XADD",
                "s",
                "*",
                "item",
                &j.to_string(),
                "otherfield",
                "foo",
            ]);
        } else {
            c.send(&["XADD", "s", "*", "item", &j.to_string()]);
        }
        c.read();
    }
    let V::Arr(ids) = c.call(&["EXEC"]) else {
        panic!()
    };
    let ids: Vec<String> = ids.into_iter().map(text).collect();
    let all = items(call(&mut c, "XRANGE s - +"));
    assert_eq!(all.len(), 3000);
    for (j, e) in all.iter().enumerate() {
        let e = items(e.clone());
        assert_eq!(e[0], bulk(&ids[j]));
        let fv = items(e[1].clone());
        assert_eq!(fv[1], bulk(&j.to_string()));
        assert_eq!(fv.len(), if j % 10 == 7 { 4 } else { 2 });
    }
    let mut rev = items(call(&mut c, "XREVRANGE s + -"));
    rev.reverse();
    assert_eq!(rev, all);
    assert_eq!(items(call(&mut c, "XRANGE s - + COUNT 10")).len(), 10);
    assert_eq!(
        items(call(&mut c, "XREVRANGE s + - COUNT 10"))[0],
        all[2999]
    );
    // Iterating with exclusive starts.
    let mut last = "-".to_string();
    let mut n = 0;
    loop {
        let page = items(c.call(&["XRANGE", "s", &last, "+", "COUNT", "700"]));
        if page.is_empty() {
            break;
        }
        n += page.len();
        last = format!("({}", items(page.last().unwrap().clone())[0].text());
    }
    assert_eq!(n, 3000);
    // Sub-ranges against the full list.
    for (a, b) in [(0, 0), (5, 17), (99, 100), (1234, 2900), (2999, 2999)] {
        let got = items(c.call(&["XRANGE", "s", &ids[a], &ids[b]]));
        assert_eq!(got, all[a..=b].to_vec());
        let got = items(c.call(&["XREVRANGE", "s", &ids[b], &ids[a]]));
        let mut want = all[a..=b].to_vec();
        want.reverse();
        assert_eq!(got, want);
    }
    assert_eq!(call(&mut c, "XRANGE s - + COUNT 0"), V::NilArray);
    assert_eq!(call(&mut c, "XRANGE s - + COUNT -5"), V::NilArray);
    assert_eq!(call(&mut c, "XRANGE nokey - +"), arr(vec![]));
    assert_eq!(call(&mut c, "XRANGE s + -"), arr(vec![]));
    assert_eq!(call(&mut c, "XRANGE s - + FOO 1"), err("ERR syntax error"));
    assert_eq!(call(&mut c, "XRANGE s - + COUNT"), err("ERR syntax error"));
    assert_eq!(
        call(&mut c, "XRANGE s - + COUNT x"),
        err("ERR value is not an integer or out of range")
    );

    // Exclusive ranges at the edges of the ID space.
    c.send(&["MULTI"]);
    c.read();
    for id in [
        "0-1",
        "0-18446744073709551615",
        "1-0",
        "42-0",
        "42-42",
        "18446744073709551615-18446744073709551614",
        "18446744073709551615-18446744073709551615",
    ] {
        c.send(&["XADD", "vip", id, "foo", "bar"]);
        c.read();
    }
    c.call(&["EXEC"]);
    assert_eq!(items(call(&mut c, "XRANGE vip - +")).len(), 7);
    assert_eq!(items(call(&mut c, "XRANGE vip (0-1 +")).len(), 6);
    assert_eq!(
        items(call(
            &mut c,
            "XRANGE vip - (18446744073709551615-18446744073709551615"
        ))
        .len(),
        6
    );
    assert_eq!(items(call(&mut c, "XRANGE vip (0-1 (1-0")).len(), 1);
    assert_eq!(items(call(&mut c, "XRANGE vip (1-0 (42-42")).len(), 1);
    let invalid = err("ERR Invalid stream ID specified as stream command argument");
    assert_eq!(call(&mut c, "XRANGE vip (- +"), invalid);
    assert_eq!(call(&mut c, "XRANGE vip - (+"), invalid);
    assert_eq!(
        call(
            &mut c,
            "XRANGE vip (18446744073709551615-18446744073709551615 +"
        ),
        err("ERR invalid start ID for the interval")
    );
    assert_eq!(
        call(&mut c, "XRANGE vip - (0-0"),
        err("ERR invalid end ID for the interval")
    );
    // Incomplete IDs: start at seq 0, end at the last seq.
    assert_eq!(
        call(&mut c, "XRANGE vip 42 42"),
        arr(vec![
            entry("42-0", &["foo", "bar"]),
            entry("42-42", &["foo", "bar"])
        ])
    );

    // Issue #5006: XREVRANGE with compressed and plain entries.
    call(&mut c, "XADD t1 1234567891230 key1 value1");
    call(&mut c, "XADD t1 1234567891240 key2 value2");
    call(&mut c, "XADD t1 1234567891250 key3 value3");
    call(&mut c, "XADD t2 1234567891230 key1 value1");
    call(&mut c, "XADD t2 1234567891240 key1 value2");
    call(&mut c, "XADD t2 1234567891250 key1 value3");
    assert_eq!(
        call(&mut c, "XREVRANGE t1 1234567891245 -"),
        arr(vec![
            entry("1234567891240-0", &["key2", "value2"]),
            entry("1234567891230-0", &["key1", "value1"])
        ])
    );
    assert_eq!(
        call(&mut c, "XREVRANGE t2 1234567891245 -"),
        arr(vec![
            entry("1234567891240-0", &["key1", "value2"]),
            entry("1234567891230-0", &["key1", "value1"])
        ])
    );

    // Exact bytes, both protocols; integers come back as bulk strings.
    call(&mut c, "XADD b 1-1 f 12 g x");
    assert_eq!(
        c.cmd_raw("XRANGE b - +"),
        b"*1\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$1\r\nf\r\n$2\r\n12\r\n$1\r\ng\r\n$1\r\nx\r\n"
    );
    let mut r = Client::new(&s);
    r.hello3();
    assert_eq!(
        r.cmd_raw("XRANGE b - +"),
        b"*1\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$1\r\nf\r\n$2\r\n12\r\n$1\r\ng\r\n$1\r\nx\r\n"
    );
    assert_eq!(r.cmd_raw("XRANGE b - + COUNT 0"), b"_\r\n");
}

#[test]
fn xdel_and_stream_bookkeeping() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for i in 1..=5 {
        c.call(&["XADD", "s", &format!("1-{i}"), "k", &i.to_string()]);
    }
    assert_eq!(call(&mut c, "XDEL s 1-1 1-4 1-5 2-1"), int(3));
    assert_eq!(call(&mut c, "XLEN s"), int(2));
    assert_eq!(
        call(&mut c, "XRANGE s - +"),
        arr(vec![entry("1-2", &["k", "2"]), entry("1-3", &["k", "3"])])
    );
    assert_eq!(
        call(&mut c, "XDEL s 1-2 bad"),
        err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(call(&mut c, "XLEN s"), int(2));
    // A missing key answers 0 before the IDs are looked at.
    assert_eq!(call(&mut c, "XDEL nokey bad"), int(0));

    // Deleting everything in random order keeps the structure sane.
    call(&mut c, "CONFIG SET stream-node-max-entries 7");
    let mut ids = Vec::new();
    for j in 0..300 {
        ids.push(text(c.call(&["XADD", "f", "*", "item", &j.to_string()])));
    }
    let keys = field(&call(&mut c, "XINFO STREAM f"), "radix-tree-keys");
    assert_eq!(keys, int(43));
    let mut order: Vec<usize> = (0..300).collect();
    let mut x: u64 = 12345;
    for i in (1..order.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        order.swap(i, (x >> 33) as usize % (i + 1));
    }
    let mut left = 300;
    for i in order {
        assert_eq!(c.call(&["XDEL", "f", &ids[i]]), int(1));
        left -= 1;
        if left % 50 == 0 {
            assert_eq!(items(call(&mut c, "XRANGE f - +")).len(), left);
        }
    }
    assert_eq!(call(&mut c, "XLEN f"), int(0));
    assert_eq!(call(&mut c, "EXISTS f"), int(1));
    call(&mut c, "CONFIG SET stream-node-max-entries 100");

    // recorded-first-entry-id, max-deleted-entry-id, entries-added.
    for i in 1..=5 {
        c.call(&["XADD", "x", &format!("{i}-0"), "data", "a"]);
    }
    let info = call(&mut c, "XINFO STREAM x FULL");
    assert_eq!(field(&info, "entries-added"), int(5));
    assert_eq!(field(&info, "recorded-first-entry-id"), bulk("1-0"));
    assert_eq!(field(&info, "max-deleted-entry-id"), bulk("0-0"));
    call(&mut c, "XDEL x 2-0");
    let info = call(&mut c, "XINFO STREAM x FULL");
    assert_eq!(field(&info, "recorded-first-entry-id"), bulk("1-0"));
    assert_eq!(field(&info, "max-deleted-entry-id"), bulk("2-0"));
    call(&mut c, "XDEL x 1-0");
    let info = call(&mut c, "XINFO STREAM x FULL");
    assert_eq!(field(&info, "recorded-first-entry-id"), bulk("3-0"));
    assert_eq!(field(&info, "max-deleted-entry-id"), bulk("2-0"));
    call(&mut c, "XTRIM x MAXLEN = 2");
    let info = call(&mut c, "XINFO STREAM x FULL");
    assert_eq!(field(&info, "recorded-first-entry-id"), bulk("4-0"));
}

// ---- XSETID ------------------------------------------------------------------------

#[test]
fn xsetid() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "XADD s MAXLEN 0 * a b");
    assert_eq!(call(&mut c, "XSETID s 200-0"), ok());
    let info = call(&mut c, "XINFO STREAM s");
    assert_eq!(field(&info, "last-generated-id"), bulk("200-0"));
    assert_eq!(field(&info, "entries-added"), int(1));
    call(&mut c, "XADD s * a b");
    assert_eq!(
        call(&mut c, "XSETID s 1-1"),
        err("ERR The ID specified in XSETID is smaller than the target stream top item")
    );
    assert_eq!(call(&mut c, "XSETID nokey 1-1"), err("ERR no such key"));
    assert_eq!(call(&mut c, "XSETID s 1-1 0"), err("ERR syntax error"));
    assert_eq!(call(&mut c, "XSETID s 1-1 0-0"), err("ERR syntax error"));
    assert_eq!(
        call(&mut c, "XSETID s 1-1 ENTRIESADDED -1 MAXDELETEDID 0-0"),
        err("ERR entries_added must be positive")
    );
    call(&mut c, "XADD x 1-0 a b");
    assert_eq!(
        call(&mut c, "XSETID x 1-0 ENTRIESADDED 1 MAXDELETEDID 2-0"),
        err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
    );
    assert_eq!(
        call(&mut c, "XSETID x 1-0 ENTRIESADDED 0 MAXDELETEDID 0-0"),
        err("ERR The entries_added specified in XSETID is smaller than the target stream length")
    );
    call(&mut c, "DEL x");
    call(&mut c, "XADD x 1-1 a 1");
    call(&mut c, "XADD x 1-2 b 2");
    call(&mut c, "XADD x 1-3 c 3");
    call(&mut c, "XDEL x 1-2");
    call(&mut c, "XDEL x 1-3");
    assert_eq!(
        field(&call(&mut c, "XINFO STREAM x"), "max-deleted-entry-id"),
        bulk("1-3")
    );
    assert_eq!(
        call(&mut c, "XSETID x 1-2"),
        err("ERR The ID specified in XSETID is smaller than current max_deleted_entry_id")
    );
    assert_eq!(
        call(&mut c, "XSETID x 5-0 ENTRIESADDED 9 MAXDELETEDID 4-0"),
        ok()
    );
    let info = call(&mut c, "XINFO STREAM x");
    assert_eq!(field(&info, "last-generated-id"), bulk("5-0"));
    assert_eq!(field(&info, "entries-added"), int(9));
    assert_eq!(field(&info, "max-deleted-entry-id"), bulk("4-0"));
    assert_eq!(
        call(&mut c, "XADD x 5-0 a b"),
        err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
    );
}

// ---- XREAD -------------------------------------------------------------------------

#[test]
fn xread_non_blocking() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for i in 1..=3 {
        c.call(&[
            "XADD",
            "s",
            &format!("{i}-0"),
            &format!("k{i}"),
            &format!("v{i}"),
        ]);
    }
    assert_eq!(
        call(&mut c, "XREAD COUNT 1 STREAMS s 0-0"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("1-0", &["k1", "v1"])])
        ])])
    );
    assert_eq!(
        call(&mut c, "XREAD STREAMS s 1"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![
                entry("2-0", &["k2", "v2"]),
                entry("3-0", &["k3", "v3"])
            ])
        ])])
    );
    assert_eq!(
        call(&mut c, "XREAD STREAMS nokey{t} s2{t} 0-0 0-0"),
        V::NilArray
    );
    assert_eq!(call(&mut c, "XREAD STREAMS s $"), V::NilArray);
    // `+`: the last entry only, whatever COUNT.
    assert_eq!(
        call(&mut c, "XREAD COUNT 3 STREAMS s +"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("3-0", &["k3", "v3"])])
        ])])
    );
    assert_eq!(
        call(&mut c, "XREAD BLOCK 1000000 STREAMS s +").clone(),
        call(&mut c, "XREAD STREAMS s +")
    );
    c.call(&["XADD", "s", "3-18446744073709551615", "k5", "v5"]);
    assert_eq!(
        call(&mut c, "XREAD STREAMS s +"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("3-18446744073709551615", &["k5", "v5"])])
        ])])
    );
    call(&mut c, "XADD e 1-0 k1 v1");
    call(&mut c, "XDEL e 1-0");
    assert_eq!(call(&mut c, "XREAD STREAMS e +"), V::NilArray);
    assert_eq!(call(&mut c, "XREAD STREAMS nokey +"), V::NilArray);
    // An empty stream whose last ID is 0-0 has no `+`.
    call(&mut c, "XGROUP CREATE mk g $ MKSTREAM");
    assert_eq!(
        call(&mut c, "XREAD STREAMS mk +"),
        err("ERR the stream last element ID is 0-0")
    );
    // Several streams, in argument order.
    call(&mut c, "XADD {l}1 1-0 a 1");
    call(&mut c, "XADD {l}2 2-0 b 2");
    assert_eq!(
        call(&mut c, "XREAD STREAMS {l}1 {l}2 {l}3 + + +"),
        arr(vec![
            arr(vec![bulk("{l}1"), arr(vec![entry("1-0", &["a", "1"])])]),
            arr(vec![bulk("{l}2"), arr(vec![entry("2-0", &["b", "2"])])]),
        ])
    );
    // ID edges.
    call(&mut c, "XADD x 1-1 f v");
    call(&mut c, "XADD x 1-18446744073709551615 f v");
    call(&mut c, "XADD x 2-1 f v");
    assert_eq!(
        call(&mut c, "XREAD BLOCK 0 STREAMS x 1-18446744073709551615"),
        arr(vec![arr(vec![
            bulk("x"),
            arr(vec![entry("2-1", &["f", "v"])])
        ])])
    );

    // Errors.
    let e = |c: &mut Client, line: &str, msg: &str| assert_eq!(call(c, line), err(msg), "{line}");
    e(&mut c, "XREAD COUNT 1 STREAMS s", "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.");
    e(&mut c, "XREAD COUNT 1 s 0", "ERR syntax error");
    e(
        &mut c,
        "XREAD GROUP g c STREAMS s 0",
        "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
    );
    e(
        &mut c,
        "XREAD NOACK STREAMS s 0",
        "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
    );
    e(&mut c, "XREAD STREAMS s >", "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
    e(
        &mut c,
        "XREAD STREAMS s -",
        "ERR Invalid stream ID specified as stream command argument",
    );
    e(
        &mut c,
        "XREAD COUNT x STREAMS s 0",
        "ERR value is not an integer or out of range",
    );
    e(
        &mut c,
        "XREAD BLOCK x STREAMS s 0",
        "ERR timeout is not an integer or out of range",
    );
    e(
        &mut c,
        "XREAD BLOCK -1 STREAMS s 0",
        "ERR timeout is negative",
    );
    e(
        &mut c,
        "XREAD BLOCK 1.5 STREAMS s 0",
        "ERR timeout is not an integer or out of range",
    );
    call(&mut c, "SET str x");
    e(
        &mut c,
        "XREAD STREAMS s str 0 0",
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    );

    // RESP3: a map of stream -> entries.
    let mut r = Client::new(&s);
    r.hello3();
    assert_eq!(
        r.cmd_raw("XREAD COUNT 1 STREAMS s 0"),
        b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$2\r\nk1\r\n$2\r\nv1\r\n"
    );
    assert_eq!(r.cmd_raw("XREAD STREAMS s $"), b"_\r\n");
    assert_eq!(
        c.cmd_raw("XREAD COUNT 1 STREAMS s 0"),
        b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$2\r\nk1\r\n$2\r\nv1\r\n"
    );
    // COMMAND GETKEYS finds the keys after STREAMS.
    assert_eq!(
        call(&mut c, "COMMAND GETKEYS XREAD COUNT 2 STREAMS a b 0 0"),
        bulks(&["a", "b"])
    );
    assert_eq!(
        call(&mut c, "COMMAND GETKEYS XREADGROUP GROUP g c STREAMS a >"),
        bulks(&["a"])
    );
}

#[test]
fn blocking_xread() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut rd = Client::new(&s);

    // `$`: only what arrives after the call, even though the command runs
    // again once woken.
    c.call(&["XADD", "s2{t}", "*", "old", "abcd1234"]);
    rd.send(&[
        "XREAD", "BLOCK", "20000", "STREAMS", "s1{t}", "s2{t}", "s3{t}", "$", "$", "$",
    ]);
    common::wait_blocked(&mut c, 1);
    let id = c.call(&["XADD", "s2{t}", "*", "new", "abcd1234"]);
    assert_eq!(
        rd.read(),
        arr(vec![arr(vec![
            bulk("s2{t}"),
            arr(vec![arr(vec![id, bulks(&["new", "abcd1234"])])])
        ])])
    );

    // Old data is served at once.
    assert_eq!(
        items(
            items(rd.call(&[
                "XREAD", "BLOCK", "20000", "STREAMS", "s1{t}", "s2{t}", "s3{t}", "$", "0-0", "$"
            ]))
            .remove(0)
        )[0],
        bulk("s2{t}")
    );

    // A stream that ran dry (#5299).
    call(&mut c, "DEL m");
    call(&mut c, "XADD m 666 key value");
    call(&mut c, "XDEL m 666");
    assert_eq!(
        rd.call(&["XREAD", "BLOCK", "10", "STREAMS", "m", "665"]),
        V::NilArray
    );
    rd.send(&["XREAD", "BLOCK", "0", "STREAMS", "m", "665"]);
    common::wait_blocked(&mut c, 1);
    call(&mut c, "XADD m 667 key value");
    assert_eq!(
        rd.read(),
        arr(vec![arr(vec![
            bulk("m"),
            arr(vec![entry("667-0", &["key", "value"])])
        ])])
    );

    // A deleted-entry-only change does not serve an empty array.
    call(&mut c, "DEL e");
    call(&mut c, "XADD e 666 f v");
    call(&mut c, "XADD e 667 f2 v2");
    call(&mut c, "XDEL e 667");
    assert_eq!(
        rd.call(&["XREAD", "BLOCK", "10", "STREAMS", "e", "666"]),
        V::NilArray
    );

    // The key created by the write that wakes (`+` on a missing stream).
    rd.send(&["XREAD", "BLOCK", "20000", "STREAMS", "le", "+"]);
    common::wait_blocked(&mut c, 1);
    call(&mut c, "XADD le 1-0 k1 v1");
    assert_eq!(
        rd.read(),
        arr(vec![arr(vec![
            bulk("le"),
            arr(vec![entry("1-0", &["k1", "v1"])])
        ])])
    );

    // XADD + DEL inside MULTI wakes nobody; a later XADD does.
    call(&mut c, "DEL w");
    rd.send(&["XREAD", "BLOCK", "20000", "STREAMS", "w", "$"]);
    common::wait_blocked(&mut c, 1);
    call(&mut c, "MULTI");
    call(&mut c, "XADD w * old abcd1234");
    call(&mut c, "DEL w");
    call(&mut c, "LPUSH w foo bar");
    call(&mut c, "EXEC");
    call(&mut c, "DEL w");
    assert!(rd.silent_for(50));
    let id = c.call(&["XADD", "w", "*", "new", "abcd1234"]);
    assert_eq!(
        rd.read(),
        arr(vec![arr(vec![
            bulk("w"),
            arr(vec![arr(vec![id, bulks(&["new", "abcd1234"])])])
        ])])
    );

    // Several XADDs in one transaction: all of them are seen.
    call(&mut c, "DEL t");
    call(&mut c, "XADD t * old abcd1234");
    rd.send(&[
        "XREAD", "BLOCK", "20000", "STREAMS", "t", "t", "t", "$", "$", "$",
    ]);
    common::wait_blocked(&mut c, 1);
    call(&mut c, "MULTI");
    call(&mut c, "XADD t * field one");
    call(&mut c, "XADD t * field two");
    call(&mut c, "EXEC");
    let got = items(rd.read());
    let first = items(got[0].clone());
    assert_eq!(first[0], bulk("t"));
    let es = items(first[1].clone());
    assert_eq!(es.len(), 2);
    assert_eq!(items(es[1].clone())[1], bulks(&["field", "two"]));

    // The key deleted and added again while blocked with `$`: the old
    // last ID still holds.
    call(&mut c, "DEL k");
    call(&mut c, "XADD k 666 f v");
    rd.send(&["XREAD", "BLOCK", "0", "STREAMS", "k", "$"]);
    common::wait_blocked(&mut c, 1);
    call(&mut c, "DEL k");
    call(&mut c, "XADD k 667 f v");
    assert_eq!(
        rd.read(),
        arr(vec![arr(vec![
            bulk("k"),
            arr(vec![entry("667-0", &["f", "v"])])
        ])])
    );

    // Timeouts, and MULTI where nothing blocks.
    let t0 = Instant::now();
    assert_eq!(
        rd.call(&["XREAD", "BLOCK", "100", "STREAMS", "nothing", "$"]),
        V::NilArray
    );
    assert!(t0.elapsed() >= Duration::from_millis(90));
    call(&mut rd, "MULTI");
    call(&mut rd, "XREAD BLOCK 0 STREAMS nothing $");
    assert_eq!(call(&mut rd, "EXEC"), arr(vec![V::NilArray]));
    let mut r3 = Client::new(&s);
    r3.hello3();
    r3.send(&["XREAD", "BLOCK", "10", "STREAMS", "nothing", "$"]);
    assert_eq!(r3.read_raw(), b"_\r\n");
}

#[test]
fn blocking_xread_with_several_consumers() {
    let s = TestServer::start();
    let mut w = Client::new(&s);
    call(&mut w, "XADD s 1-0 a 1");
    let mut readers: Vec<Client> = (0..4).map(|_| Client::new(&s)).collect();
    for (i, r) in readers.iter_mut().enumerate() {
        r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
        common::wait_blocked(&mut w, i + 1);
    }
    // One XADD wakes every reader, each with the new entry.
    call(&mut w, "XADD s 2-0 b 2");
    for r in readers.iter_mut() {
        assert_eq!(
            r.read(),
            arr(vec![arr(vec![
                bulk("s"),
                arr(vec![entry("2-0", &["b", "2"])])
            ])])
        );
    }
    common::wait_blocked(&mut w, 0);
    // A reader waiting on another stream stays blocked.
    readers[0].send(&["XREAD", "BLOCK", "0", "STREAMS", "other", "$"]);
    common::wait_blocked(&mut w, 1);
    call(&mut w, "XADD s 3-0 c 3");
    assert!(readers[0].silent_for(50));
    call(&mut w, "XADD other 1-0 x y");
    assert_eq!(
        readers[0].read(),
        arr(vec![arr(vec![
            bulk("other"),
            arr(vec![entry("1-0", &["x", "y"])])
        ])])
    );
    // CLIENT UNBLOCK gives the null array.
    let id = as_id(&mut readers[1]);
    readers[1].send(&["XREAD", "BLOCK", "0", "STREAMS", "zzz", "$"]);
    common::wait_blocked(&mut w, 1);
    assert_eq!(w.call(&["CLIENT", "UNBLOCK", &id]), int(1));
    assert_eq!(readers[1].read(), V::NilArray);
}

fn as_id(c: &mut Client) -> String {
    match c.call(&["CLIENT", "ID"]) {
        V::Int(n) => n.to_string(),
        other => panic!("{other:?}"),
    }
}

// ---- consumer groups ----------------------------------------------------------------

#[test]
fn xgroup_create_and_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "XADD s * foo bar");
    assert_eq!(call(&mut c, "XGROUP CREATE s g $"), ok());
    assert_eq!(
        call(&mut c, "XGROUP CREATE s g $"),
        err("BUSYGROUP Consumer Group name already exists")
    );
    assert_eq!(
        call(&mut c, "XGROUP CREATE nokey g $"),
        err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
    );
    assert_eq!(call(&mut c, "EXISTS nokey"), int(0));
    assert_eq!(
        call(&mut c, "XGROUP CREATE nokey g bad MKSTREAM"),
        err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(call(&mut c, "EXISTS nokey"), int(0));
    assert_eq!(call(&mut c, "XGROUP CREATE nokey g $ MKSTREAM"), ok());
    assert_eq!(call(&mut c, "XLEN nokey"), int(0));
    assert_eq!(
        call(&mut c, "XGROUP CREATE s g2 $ ENTRIESREAD -3"),
        err("ERR value for ENTRIESREAD must be positive or -1")
    );
    assert_eq!(
        call(&mut c, "XGROUP CREATE s g3 $ ENTRIESREAD x"),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        call(&mut c, "XGROUP CREATE s g4 $ FOO"),
        err("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.")
    );
    assert_eq!(
        call(&mut c, "XGROUP CREATE s g5 -"),
        err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(
        call(&mut c, "XGROUP SETID s nog 0"),
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(
        call(&mut c, "XGROUP CREATECONSUMER s nog c"),
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(
        call(&mut c, "XGROUP DELCONSUMER s nog c"),
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(call(&mut c, "XGROUP DESTROY s nog"), int(0));
    assert_eq!(
        call(&mut c, "XGROUP FOO s g"),
        err("ERR unknown subcommand 'FOO'. Try XGROUP HELP.")
    );
    assert_eq!(
        call(&mut c, "XGROUP HELP xxx"),
        err("ERR wrong number of arguments for 'xgroup|help' command")
    );
    assert_eq!(
        call(&mut c, "XINFO HELP xxx"),
        err("ERR wrong number of arguments for 'xinfo|help' command")
    );
    assert_eq!(
        call(&mut c, "XGROUP SETID s g 0 ENTRIESREAD"),
        err("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.")
    );
    call(&mut c, "SET str v");
    assert_eq!(
        call(&mut c, "XGROUP CREATE str g $"),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
    let V::Arr(help) = call(&mut c, "XGROUP HELP") else {
        panic!()
    };
    assert_eq!(help.len(), 17);
    assert_eq!(
        help[0],
        V::Simple("XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
    );
    assert_eq!(
        help[1],
        V::Simple("CREATE <key> <groupname> <id|$> [option]".into())
    );
    let V::Arr(help) = call(&mut c, "XINFO HELP") else {
        panic!()
    };
    assert_eq!(help.len(), 9);
    assert_eq!(
        help[5],
        V::Simple("STREAM <key> [FULL [COUNT <count>]".into())
    );

    // ENTRIESREAD is kept.
    call(&mut c, "DEL e");
    for i in 1..=4 {
        c.call(&["XADD", "e", &format!("1-{i}"), "a", "1"]);
    }
    call(&mut c, "XGROUP CREATE e g1 $ ENTRIESREAD 0");
    call(&mut c, "XGROUP CREATE e g2 $ ENTRIESREAD 3");
    let groups = items(call(&mut c, "XINFO GROUPS e"));
    assert_eq!(field(&groups[0], "entries-read"), int(0));
    assert_eq!(field(&groups[1], "entries-read"), int(3));
    assert_eq!(field(&groups[1], "lag"), int(1));
    assert_eq!(call(&mut c, "XGROUP SETID e g1 1-2 ENTRIESREAD 2"), ok());
    let groups = items(call(&mut c, "XINFO GROUPS e"));
    assert_eq!(field(&groups[0], "last-delivered-id"), bulk("1-2"));
    assert_eq!(field(&groups[0], "entries-read"), int(2));
    assert_eq!(field(&groups[0], "lag"), int(2));
    assert_eq!(call(&mut c, "XGROUP DESTROY e g1"), int(1));
    assert_eq!(items(call(&mut c, "XINFO GROUPS e")).len(), 1);
}

#[test]
fn xreadgroup_pending_and_ack() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "XADD s * foo bar");
    call(&mut c, "XGROUP CREATE s g $");
    call(&mut c, "XADD s 2000000000000-0 a 1");
    call(&mut c, "XADD s 2000000000001-0 b 2");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g c1 STREAMS s >"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![
                entry("2000000000000-0", &["a", "1"]),
                entry("2000000000001-0", &["b", "2"])
            ])
        ])])
    );
    call(&mut c, "XADD s 2000000000002-0 c 3");
    call(&mut c, "XADD s 2000000000003-0 d 4");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g c2 COUNT 1 STREAMS s >"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("2000000000002-0", &["c", "3"])])
        ])])
    );
    call(&mut c, "XREADGROUP GROUP g c2 STREAMS s >");
    // Nothing new: a null array.
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g c2 STREAMS s >"),
        V::NilArray
    );
    // History: each consumer sees only its own.
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g c1 COUNT 10 STREAMS s 0"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![
                entry("2000000000000-0", &["a", "1"]),
                entry("2000000000001-0", &["b", "2"])
            ])
        ])])
    );
    assert_eq!(
        call(
            &mut c,
            "XREADGROUP GROUP g c2 COUNT 1 STREAMS s 2000000000002"
        ),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("2000000000003-0", &["d", "4"])])
        ])])
    );
    // XPENDING summary and extended forms.
    assert_eq!(
        call(&mut c, "XPENDING s g"),
        arr(vec![
            int(4),
            bulk("2000000000000-0"),
            bulk("2000000000003-0"),
            arr(vec![bulks(&["c1", "2"]), bulks(&["c2", "2"])])
        ])
    );
    let pending = items(call(&mut c, "XPENDING s g - + 10"));
    assert_eq!(pending.len(), 4);
    let p0 = items(pending[0].clone());
    assert_eq!(p0[0], bulk("2000000000000-0"));
    assert_eq!(p0[1], bulk("c1"));
    // c1's entries were delivered twice (the history read counts).
    assert_eq!(p0[3], int(2));
    assert_eq!(items(pending[2].clone())[3], int(1));
    assert_eq!(items(call(&mut c, "XPENDING s g - + 10 c1")).len(), 2);
    assert_eq!(items(call(&mut c, "XPENDING s g - + 10 nobody")).len(), 0);
    assert_eq!(items(call(&mut c, "XPENDING s g - + 1")).len(), 1);
    assert_eq!(
        items(call(
            &mut c,
            "XPENDING s g (2000000000000-0 (2000000000003-0 10"
        ))
        .len(),
        2
    );
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        items(call(&mut c, "XPENDING s g IDLE 99999999 - + 10 c1")).len(),
        0
    );
    assert_eq!(
        items(call(&mut c, "XPENDING s g IDLE 1 - + 10 c1")).len(),
        2
    );
    assert_eq!(items(call(&mut c, "XPENDING s g IDLE 1 - + 10")).len(), 4);
    let e = |c: &mut Client, line: &str, msg: &str| assert_eq!(call(c, line), err(msg), "{line}");
    e(&mut c, "XPENDING s g - +", "ERR syntax error");
    e(&mut c, "XPENDING s g IDLE 10 - +", "ERR syntax error");
    e(
        &mut c,
        "XPENDING s g - + x",
        "ERR value is not an integer or out of range",
    );
    e(
        &mut c,
        "XPENDING s g IDLE x - + 10",
        "ERR value is not an integer or out of range",
    );
    e(
        &mut c,
        "XPENDING s nog",
        "NOGROUP No such key 's' or consumer group 'nog'",
    );
    e(
        &mut c,
        "XPENDING nokey g",
        "NOGROUP No such key 'nokey' or consumer group 'g'",
    );

    // XACK.
    assert_eq!(call(&mut c, "XACK s g 2000000000000-0"), int(1));
    assert_eq!(call(&mut c, "XACK s g 2000000000000-0"), int(0));
    assert_eq!(
        call(&mut c, "XACK s g 2000000000000-0 2000000000001-0"),
        int(1)
    );
    assert_eq!(items(call(&mut c, "XPENDING s g - + 10 c1")).len(), 0);
    e(
        &mut c,
        "XACK s g 2000000000002-0 invalid-id",
        "ERR Invalid stream ID specified as stream command argument",
    );
    assert_eq!(call(&mut c, "XACK s g 2000000000002-0"), int(1));
    assert_eq!(call(&mut c, "XACK s nog bad"), int(0));
    assert_eq!(call(&mut c, "XACK nokey g bad"), int(0));

    // An empty PEL summary: nulls (RESP2 and RESP3).
    call(&mut c, "XACK s g 2000000000003-0");
    assert_eq!(
        call(&mut c, "XPENDING s g"),
        arr(vec![int(0), V::Nil, V::Nil, V::NilArray])
    );
    let mut r = Client::new(&s);
    r.hello3();
    assert_eq!(r.cmd_raw("XPENDING s g"), b"*4\r\n:0\r\n_\r\n_\r\n_\r\n");

    // Errors of XREADGROUP.
    e(&mut c, "XREADGROUP GROUP g c COUNT 1 STREAMS s", "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.");
    e(
        &mut c,
        "XREADGROUP COUNT 1 STREAMS s >",
        "ERR wrong number of arguments for 'xreadgroup' command",
    );
    e(
        &mut c,
        "XREADGROUP COUNT 1 BLOCK 1 STREAMS s >",
        "ERR Missing GROUP option for XREADGROUP",
    );
    e(
        &mut c,
        "XREADGROUP GROUP nog c STREAMS s >",
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option",
    );
    e(
        &mut c,
        "XREADGROUP GROUP g c STREAMS nokey >",
        "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option",
    );
    e(&mut c, "XREADGROUP GROUP g c STREAMS s $", "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
    e(&mut c, "XREADGROUP GROUP g c STREAMS s +", "ERR The + ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The + ID would just return an empty result set.");
}

#[test]
fn xreadgroup_history_and_setid() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    // NACK reassignment after XGROUP SETID.
    for _ in 0..4 {
        call(&mut c, "XADD ev * f1 v1");
    }
    call(&mut c, "XGROUP CREATE ev g1 $");
    call(&mut c, "XADD ev * f1 v1");
    assert_eq!(
        items(
            items(items(call(&mut c, "XREADGROUP GROUP g1 c1 STREAMS ev >")).remove(0)).remove(1)
        )
        .len(),
        1
    );
    call(&mut c, "XGROUP SETID ev g1 -");
    assert_eq!(
        items(
            items(items(call(&mut c, "XREADGROUP GROUP g1 c2 STREAMS ev >")).remove(0)).remove(1)
        )
        .len(),
        5
    );
    assert_eq!(items(call(&mut c, "XPENDING ev g1 - + 10 c1")).len(), 0);
    assert_eq!(items(call(&mut c, "XPENDING ev g1 - + 10 c2")).len(), 5);

    // Empty history (#5577).
    call(&mut c, "DEL e");
    call(&mut c, "XADD e * a 1");
    call(&mut c, "XADD e * b 2");
    call(&mut c, "XADD e * c 3");
    call(&mut c, "XGROUP CREATE e g 0");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g me COUNT 3 STREAMS e 0"),
        arr(vec![arr(vec![bulk("e"), arr(vec![])])])
    );
    assert_eq!(
        items(
            items(items(call(&mut c, "XREADGROUP GROUP g me COUNT 3 STREAMS e >")).remove(0))
                .remove(1)
        )
        .len(),
        3
    );
    assert_eq!(
        items(
            items(items(call(&mut c, "XREADGROUP GROUP g me COUNT 3 STREAMS e 0")).remove(0))
                .remove(1)
        )
        .len(),
        3
    );

    // Deleted entries in the history (#5570): the ID with a null.
    call(&mut c, "DEL m");
    call(&mut c, "XGROUP CREATE m g $ MKSTREAM");
    call(&mut c, "XADD m 1 field1 A");
    call(&mut c, "XREADGROUP GROUP g me STREAMS m >");
    call(&mut c, "XADD m MAXLEN 1 2 field1 B");
    call(&mut c, "XREADGROUP GROUP g me STREAMS m >");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g me STREAMS m 0-1"),
        arr(vec![arr(vec![
            bulk("m"),
            arr(vec![
                arr(vec![bulk("1-0"), V::NilArray]),
                entry("2-0", &["field1", "B"])
            ])
        ])])
    );

    // BLOCK is ignored with an explicit ID.
    call(&mut c, "DEL b");
    call(&mut c, "XGROUP CREATE b g $ MKSTREAM");
    call(&mut c, "XADD b 666 key value");
    call(&mut c, "XDEL b 666");
    for id in ["0", "600", "666", "700"] {
        assert_eq!(
            c.call(&[
                "XREADGROUP",
                "GROUP",
                "g",
                "me",
                "BLOCK",
                "0",
                "STREAMS",
                "b",
                id
            ]),
            arr(vec![arr(vec![bulk("b"), arr(vec![])])])
        );
    }
    call(&mut c, "XADD b 667 key value");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g me BLOCK 0 STREAMS b >"),
        arr(vec![arr(vec![
            bulk("b"),
            arr(vec![entry("667-0", &["key", "value"])])
        ])])
    );
    for id in ["0", "600", "666"] {
        assert_eq!(
            c.call(&[
                "XREADGROUP",
                "GROUP",
                "g",
                "me",
                "BLOCK",
                "0",
                "STREAMS",
                "b",
                id
            ]),
            arr(vec![arr(vec![
                bulk("b"),
                arr(vec![entry("667-0", &["key", "value"])])
            ])])
        );
    }
    for id in ["667", "700"] {
        assert_eq!(
            c.call(&[
                "XREADGROUP",
                "GROUP",
                "g",
                "me",
                "BLOCK",
                "0",
                "STREAMS",
                "b",
                id
            ]),
            arr(vec![arr(vec![bulk("b"), arr(vec![])])])
        );
    }

    // NOACK: delivered, not pending; the consumer is created all the same.
    call(&mut c, "DEL n");
    call(&mut c, "XGROUP CREATE n g $ MKSTREAM");
    call(&mut c, "XADD n * f1 v1");
    assert_eq!(
        items(call(&mut c, "XREADGROUP GROUP g Alice NOACK STREAMS n >")).len(),
        1
    );
    assert_eq!(items(call(&mut c, "XPENDING n g")).remove(0), int(0));
    let consumers = items(call(&mut c, "XINFO CONSUMERS n g"));
    assert_eq!(field(&consumers[0], "name"), bulk("Alice"));
    assert_eq!(field(&consumers[0], "pending"), int(0));
}

#[test]
fn claims_and_autoclaims() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for (i, (f, v)) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]
        .iter()
        .enumerate()
    {
        c.call(&["XADD", "s", &format!("{}-0", i + 1), f, v]);
    }
    call(&mut c, "XGROUP CREATE s g 0");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g c1 COUNT 1 STREAMS s >"),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("1-0", &["a", "1"])])
        ])])
    );
    // Not idle long enough yet.
    assert_eq!(call(&mut c, "XCLAIM s g c2 100000 1-0"), arr(vec![]));
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(
        call(&mut c, "XCLAIM s g c2 10 1-0"),
        arr(vec![entry("1-0", &["a", "1"])])
    );
    assert_eq!(items(call(&mut c, "XPENDING s g - + 10 c1")).len(), 0);
    let p = items(items(call(&mut c, "XPENDING s g - + 10 c2")).remove(0));
    assert_eq!(p[3], int(2));
    // JUSTID leaves the counter; RETRYCOUNT sets it.
    assert_eq!(call(&mut c, "XCLAIM s g c3 0 1-0 JUSTID"), bulks(&["1-0"]));
    assert_eq!(
        items(items(call(&mut c, "XPENDING s g - + 10")).remove(0))[3],
        int(2)
    );
    assert_eq!(
        call(&mut c, "XCLAIM s g c3 0 1-0 JUSTID RETRYCOUNT 7"),
        bulks(&["1-0"])
    );
    assert_eq!(
        items(items(call(&mut c, "XPENDING s g - + 10")).remove(0))[3],
        int(7)
    );
    // IDLE sets the delivery time back.
    assert_eq!(
        call(&mut c, "XCLAIM s g c3 0 1-0 JUSTID IDLE 500000"),
        bulks(&["1-0"])
    );
    let idle = match items(items(call(&mut c, "XPENDING s g - + 10")).remove(0))[2] {
        V::Int(n) => n,
        ref other => panic!("{other:?}"),
    };
    assert!((500_000..600_000).contains(&idle), "{idle}");
    // TIME in the future is taken as now.
    call(&mut c, "XCLAIM s g c3 0 1-0 JUSTID TIME 99999999999999");
    let idle = match items(items(call(&mut c, "XPENDING s g - + 10")).remove(0))[2] {
        V::Int(n) => n,
        ref other => panic!("{other:?}"),
    };
    assert!(idle < 1000);
    // FORCE creates the pending entry, if the entry exists.
    assert_eq!(
        call(&mut c, "XCLAIM s g c4 0 3-0 9-0 FORCE JUSTID"),
        bulks(&["3-0"])
    );
    assert_eq!(items(call(&mut c, "XPENDING s g - + 10 c4")).len(), 1);
    assert_eq!(call(&mut c, "XCLAIM s g c4 0 2-0"), arr(vec![]));
    // LASTID moves the group forward.
    call(&mut c, "XCLAIM s g c4 0 3-0 LASTID 3-0");
    assert_eq!(
        field(
            &items(call(&mut c, "XINFO GROUPS s"))[0],
            "last-delivered-id"
        ),
        bulk("3-0")
    );
    let e = |c: &mut Client, line: &str, msg: &str| assert_eq!(call(c, line), err(msg), "{line}");
    e(
        &mut c,
        "XCLAIM s g c x 1-0",
        "ERR Invalid min-idle-time argument for XCLAIM",
    );
    e(
        &mut c,
        "XCLAIM s g c 0 1-0 IDLE x",
        "ERR Invalid IDLE option argument for XCLAIM",
    );
    e(
        &mut c,
        "XCLAIM s g c 0 1-0 TIME x",
        "ERR Invalid TIME option argument for XCLAIM",
    );
    e(
        &mut c,
        "XCLAIM s g c 0 1-0 RETRYCOUNT x",
        "ERR Invalid RETRYCOUNT option argument for XCLAIM",
    );
    e(
        &mut c,
        "XCLAIM s g c 0 1-0 LASTID x",
        "ERR Invalid stream ID specified as stream command argument",
    );
    e(
        &mut c,
        "XCLAIM s g c 0 1-0 BOGUS",
        "ERR Unrecognized XCLAIM option 'BOGUS'",
    );
    e(
        &mut c,
        "XCLAIM s g c 0 1-0 IDLE",
        "ERR Unrecognized XCLAIM option 'IDLE'",
    );
    e(
        &mut c,
        "XCLAIM s nog c x 1-0",
        "NOGROUP No such key 's' or consumer group 'nog'",
    );
    e(
        &mut c,
        "XCLAIM nokey g c 0 1-0",
        "NOGROUP No such key 'nokey' or consumer group 'g'",
    );

    // XCLAIM with XDEL: deleted entries leave the PEL.
    call(&mut c, "DEL x");
    call(&mut c, "XADD x 1-0 f v");
    call(&mut c, "XADD x 2-0 f v");
    call(&mut c, "XADD x 3-0 f v");
    call(&mut c, "XGROUP CREATE x grp 0");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP grp Alice STREAMS x >"),
        arr(vec![arr(vec![
            bulk("x"),
            arr(vec![
                entry("1-0", &["f", "v"]),
                entry("2-0", &["f", "v"]),
                entry("3-0", &["f", "v"])
            ])
        ])])
    );
    call(&mut c, "XDEL x 2-0");
    assert_eq!(
        call(&mut c, "XCLAIM x grp Bob 0 1-0 2-0 3-0"),
        arr(vec![entry("1-0", &["f", "v"]), entry("3-0", &["f", "v"])])
    );
    assert_eq!(call(&mut c, "XPENDING x grp - + 10 Alice"), arr(vec![]));

    // XAUTOCLAIM as an iterator.
    call(&mut c, "DEL a");
    for i in 1..=5 {
        c.call(&["XADD", "a", &format!("{i}-0"), "n", &i.to_string()]);
    }
    call(&mut c, "XGROUP CREATE a g 0");
    call(&mut c, "XREADGROUP GROUP g c1 COUNT 90 STREAMS a >");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        call(&mut c, "XAUTOCLAIM a g c2 10 - COUNT 2"),
        arr(vec![
            bulk("3-0"),
            arr(vec![entry("1-0", &["n", "1"]), entry("2-0", &["n", "2"])]),
            arr(vec![])
        ])
    );
    assert_eq!(
        call(&mut c, "XAUTOCLAIM a g c2 10 3-0 COUNT 2 JUSTID"),
        arr(vec![bulk("5-0"), bulks(&["3-0", "4-0"]), arr(vec![])])
    );
    assert_eq!(
        call(&mut c, "XAUTOCLAIM a g c2 10 5-0 COUNT 1"),
        arr(vec![
            bulk("0-0"),
            arr(vec![entry("5-0", &["n", "5"])]),
            arr(vec![])
        ])
    );
    // Too recently delivered now: nothing, but the scan goes through.
    assert_eq!(
        call(&mut c, "XAUTOCLAIM a g c3 100000 -"),
        arr(vec![bulk("0-0"), arr(vec![]), arr(vec![])])
    );
    // Deleted entries are reported, and count towards COUNT.
    call(&mut c, "DEL x");
    call(&mut c, "XADD x 1-0 f v");
    call(&mut c, "XADD x 2-0 f v");
    call(&mut c, "XADD x 3-0 f v");
    call(&mut c, "XGROUP CREATE x grp 0");
    call(&mut c, "XREADGROUP GROUP grp Alice STREAMS x >");
    call(&mut c, "XDEL x 1-0");
    call(&mut c, "XDEL x 2-0");
    assert_eq!(
        call(&mut c, "XAUTOCLAIM x grp Bob 0 0-0 COUNT 1"),
        arr(vec![bulk("2-0"), arr(vec![]), bulks(&["1-0"])])
    );
    assert_eq!(
        call(&mut c, "XAUTOCLAIM x grp Bob 0 2-0 COUNT 1"),
        arr(vec![bulk("3-0"), arr(vec![]), bulks(&["2-0"])])
    );
    assert_eq!(
        call(&mut c, "XAUTOCLAIM x grp Bob 0 3-0 COUNT 1"),
        arr(vec![
            bulk("0-0"),
            arr(vec![entry("3-0", &["f", "v"])]),
            arr(vec![])
        ])
    );
    assert_eq!(call(&mut c, "XPENDING x grp - + 10 Alice"), arr(vec![]));
    // XCLAIM / XAUTOCLAIM after trimming.
    call(&mut c, "CONFIG SET stream-node-max-entries 2");
    call(&mut c, "DEL x");
    call(&mut c, "XADD x 1-0 f v");
    call(&mut c, "XADD x 2-0 f v");
    call(&mut c, "XADD x 3-0 f v");
    call(&mut c, "XGROUP CREATE x grp 0");
    call(&mut c, "XREADGROUP GROUP grp Alice STREAMS x >");
    call(&mut c, "XTRIM x MAXLEN 1");
    assert_eq!(
        call(&mut c, "XAUTOCLAIM x grp Bob 0 0-0"),
        arr(vec![
            bulk("0-0"),
            arr(vec![entry("3-0", &["f", "v"])]),
            bulks(&["1-0", "2-0"])
        ])
    );
    e(
        &mut c,
        "XAUTOCLAIM x grp Bob 0 3-0 COUNT 0",
        "ERR COUNT must be > 0",
    );
    e(
        &mut c,
        "XAUTOCLAIM x grp Bob 0 3-0 COUNT 8070450532247928833",
        "ERR COUNT must be > 0",
    );
    e(
        &mut c,
        "XAUTOCLAIM x grp Bob x 3-0",
        "ERR Invalid min-idle-time argument for XAUTOCLAIM",
    );
    e(&mut c, "XAUTOCLAIM x grp Bob 0 3-0 FOO", "ERR syntax error");
    e(
        &mut c,
        "XAUTOCLAIM x grp Bob 0 (18446744073709551615-18446744073709551615",
        "ERR invalid start ID for the interval",
    );
    e(
        &mut c,
        "XAUTOCLAIM x nog Bob 0 0",
        "NOGROUP No such key 'x' or consumer group 'nog'",
    );
}

#[test]
fn consumers_and_xinfo() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    call(&mut c, "XGROUP CREATE s g $ MKSTREAM");
    assert_eq!(
        call(&mut c, "XREADGROUP GROUP g Alice COUNT 1 STREAMS s >"),
        V::NilArray
    );
    std::thread::sleep(Duration::from_millis(50));
    let info = items(call(&mut c, "XINFO CONSUMERS s g")).remove(0);
    assert_eq!(field(&info, "name"), bulk("Alice"));
    assert!(matches!(field(&info, "idle"), V::Int(n) if n >= 50));
    assert_eq!(field(&info, "inactive"), int(-1));
    call(&mut c, "XADD s * f v");
    call(&mut c, "XREADGROUP GROUP g Alice COUNT 1 STREAMS s >");
    let info = items(call(&mut c, "XINFO CONSUMERS s g")).remove(0);
    assert!(matches!(field(&info, "inactive"), V::Int(n) if (0..300).contains(&n)));
    assert_eq!(field(&info, "pending"), int(1));
    assert_eq!(call(&mut c, "XGROUP CREATECONSUMER s g Alice"), int(0));
    assert_eq!(call(&mut c, "XGROUP CREATECONSUMER s g Bob"), int(1));
    let names: Vec<V> = items(call(&mut c, "XINFO CONSUMERS s g"))
        .iter()
        .map(|c| field(c, "name"))
        .collect();
    assert_eq!(names, vec![bulk("Alice"), bulk("Bob")]);
    assert_eq!(
        field(&items(call(&mut c, "XINFO GROUPS s"))[0], "consumers"),
        int(2)
    );
    assert_eq!(call(&mut c, "XGROUP DELCONSUMER s g Alice"), int(1));
    assert_eq!(call(&mut c, "XGROUP DELCONSUMER s g Alice"), int(0));
    assert_eq!(
        call(&mut c, "XPENDING s g"),
        arr(vec![int(0), V::Nil, V::Nil, V::NilArray])
    );
    assert_eq!(
        call(&mut c, "XINFO CONSUMERS s nog"),
        err("NOGROUP No such consumer group 'nog' for key name 's'")
    );
    assert_eq!(call(&mut c, "XINFO STREAM nokey"), err("ERR no such key"));
    assert_eq!(call(&mut c, "XINFO GROUPS nokey"), err("ERR no such key"));
    assert_eq!(
        call(&mut c, "XINFO STREAM s FULL COUNT"),
        err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
    );
    assert_eq!(
        call(&mut c, "XINFO STREAM s FOO"),
        err("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
    );
    assert_eq!(
        call(&mut c, "XINFO STREAM s FULL COUNT x"),
        err("ERR value is not an integer or out of range")
    );

    // XINFO STREAM FULL as in Valkey's test.
    call(&mut c, "DEL x");
    for (id, f) in [
        ("100", "a"),
        ("101", "b"),
        ("102", "c"),
        ("103", "e"),
        ("104", "f"),
    ] {
        c.call(&["XADD", "x", id, f, "1"]);
    }
    call(&mut c, "XGROUP CREATE x g1 0");
    call(&mut c, "XGROUP CREATE x g2 0");
    call(&mut c, "XREADGROUP GROUP g1 Alice COUNT 1 STREAMS x >");
    call(&mut c, "XREADGROUP GROUP g1 Bob COUNT 1 STREAMS x >");
    call(&mut c, "XREADGROUP GROUP g1 Bob NOACK COUNT 1 STREAMS x >");
    call(&mut c, "XREADGROUP GROUP g2 Charlie COUNT 4 STREAMS x >");
    call(&mut c, "XDEL x 103");
    let full = call(&mut c, "XINFO STREAM x FULL");
    assert_eq!(items(full.clone()).len(), 18);
    assert_eq!(field(&full, "length"), int(4));
    assert_eq!(
        field(&full, "entries"),
        arr(vec![
            entry("100-0", &["a", "1"]),
            entry("101-0", &["b", "1"]),
            entry("102-0", &["c", "1"]),
            entry("104-0", &["f", "1"])
        ])
    );
    let groups = items(field(&full, "groups"));
    assert_eq!(field(&groups[0], "name"), bulk("g1"));
    assert_eq!(field(&groups[0], "last-delivered-id"), bulk("102-0"));
    assert_eq!(field(&groups[0], "pel-count"), int(2));
    assert_eq!(
        items(items(field(&groups[0], "pending")).remove(0))[0],
        bulk("100-0")
    );
    assert_eq!(
        items(items(field(&groups[0], "pending")).remove(0))[1],
        bulk("Alice")
    );
    let consumers = items(field(&groups[0], "consumers"));
    assert_eq!(field(&consumers[0], "name"), bulk("Alice"));
    assert_eq!(
        items(items(field(&consumers[0], "pending")).remove(0))[0],
        bulk("100-0")
    );
    assert_eq!(
        items(items(field(&consumers[0], "pending")).remove(0)).len(),
        3
    );
    let consumers = items(field(&groups[1], "consumers"));
    assert_eq!(field(&consumers[0], "name"), bulk("Charlie"));
    assert_eq!(items(field(&consumers[0], "pending")).len(), 4);
    let full = call(&mut c, "XINFO STREAM x FULL COUNT 1");
    assert_eq!(items(full.clone()).len(), 18);
    assert_eq!(
        field(&full, "entries"),
        arr(vec![entry("100-0", &["a", "1"])])
    );
    let groups = items(field(&full, "groups"));
    assert_eq!(items(field(&groups[1], "pending")).len(), 1);

    // The plain form.
    let info = call(&mut c, "XINFO STREAM x");
    assert_eq!(items(info.clone()).len(), 20);
    assert_eq!(field(&info, "radix-tree-keys"), int(1));
    assert_eq!(field(&info, "radix-tree-nodes"), int(2));
    assert_eq!(field(&info, "groups"), int(2));
    assert_eq!(field(&info, "first-entry"), entry("100-0", &["a", "1"]));
    assert_eq!(field(&info, "last-entry"), entry("104-0", &["f", "1"]));
    call(&mut c, "XGROUP CREATE empty g $ MKSTREAM");
    let info = call(&mut c, "XINFO STREAM empty");
    assert_eq!(field(&info, "first-entry"), V::Nil);
    assert_eq!(field(&info, "radix-tree-nodes"), int(1));

    // RESP3: maps.
    let mut r = Client::new(&s);
    r.hello3();
    let V::Map(m) = r.call(&["XINFO", "STREAM", "empty"]) else {
        panic!()
    };
    assert_eq!(m.len(), 10);
    assert_eq!(m[9], (bulk("last-entry"), V::Null));
    let V::Arr(g) = r.call(&["XINFO", "GROUPS", "x"]) else {
        panic!()
    };
    let V::Map(g) = &g[0] else { panic!() };
    assert_eq!(g[0], (bulk("name"), bulk("g1")));
    assert_eq!(g.len(), 6);
}

#[test]
fn group_read_counter_and_lag() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let group = |c: &mut Client, i: usize| {
        items(field(&call(c, "XINFO STREAM x FULL"), "groups"))[i].clone()
    };

    call(&mut c, "XGROUP CREATE x g1 0 MKSTREAM");
    let info = call(&mut c, "XINFO STREAM x FULL");
    assert_eq!(field(&info, "entries-added"), int(0));
    assert_eq!(field(&group(&mut c, 0), "entries-read"), V::Nil);
    assert_eq!(field(&group(&mut c, 0), "lag"), int(0));
    call(&mut c, "XADD x 1-0 data a");
    call(&mut c, "XDEL x 1-0");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), V::Nil);
    assert_eq!(field(&group(&mut c, 0), "lag"), int(0));

    call(&mut c, "DEL x");
    for i in 1..=5 {
        c.call(&["XADD", "x", &format!("{i}-0"), "data", "a"]);
    }
    call(&mut c, "XGROUP CREATE x g1 0");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), V::Nil);
    assert_eq!(field(&group(&mut c, 0), "lag"), int(5));
    call(&mut c, "XREADGROUP GROUP g1 c11 COUNT 1 STREAMS x >");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), int(1));
    assert_eq!(field(&group(&mut c, 0), "lag"), int(4));
    call(&mut c, "XREADGROUP GROUP g1 c12 COUNT 10 STREAMS x >");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), int(5));
    assert_eq!(field(&group(&mut c, 0), "lag"), int(0));
    call(&mut c, "XADD x 6-0 data f");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), int(5));
    assert_eq!(field(&group(&mut c, 0), "lag"), int(1));

    // With tombstones.
    call(&mut c, "DEL x");
    for i in 1..=5 {
        c.call(&["XADD", "x", &format!("{i}-0"), "data", "a"]);
    }
    call(&mut c, "XDEL x 3-0");
    call(&mut c, "XGROUP CREATE x g1 0");
    call(&mut c, "XGROUP CREATE x g2 0");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), V::Nil);
    assert_eq!(field(&group(&mut c, 0), "lag"), V::Nil);
    for _ in 0..3 {
        call(&mut c, "XREADGROUP GROUP g1 c11 COUNT 1 STREAMS x >");
        assert_eq!(field(&group(&mut c, 0), "entries-read"), V::Nil);
        assert_eq!(field(&group(&mut c, 0), "lag"), V::Nil);
    }
    call(&mut c, "XREADGROUP GROUP g1 c11 COUNT 1 STREAMS x >");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), int(5));
    assert_eq!(field(&group(&mut c, 0), "lag"), int(0));
    call(&mut c, "XADD x 6-0 data f");
    assert_eq!(field(&group(&mut c, 0), "lag"), int(1));
    call(&mut c, "XTRIM x MINID = 3-0");
    assert_eq!(field(&group(&mut c, 0), "entries-read"), int(5));
    assert_eq!(field(&group(&mut c, 0), "lag"), int(1));
    assert_eq!(field(&group(&mut c, 1), "entries-read"), V::Nil);
    assert_eq!(field(&group(&mut c, 1), "lag"), int(3));
    call(&mut c, "XTRIM x MINID = 5-0");
    assert_eq!(field(&group(&mut c, 0), "lag"), int(1));
    assert_eq!(field(&group(&mut c, 1), "lag"), int(2));

    // entries-read follows acked reads (propagation test in Valkey).
    call(&mut c, "DEL m");
    call(&mut c, "XADD m * a b c d e f");
    call(&mut c, "XGROUP CREATE m g $");
    call(&mut c, "XREADGROUP GROUP g ryan COUNT 1 STREAMS m >");
    call(&mut c, "XADD m * a1 b1 a1 b2");
    call(&mut c, "XADD m * name v1 name v1");
    call(&mut c, "XREADGROUP GROUP g ryan COUNT 1 STREAMS m >");
    call(&mut c, "XREADGROUP GROUP g ryan COUNT 1 STREAMS m >");
    let g = items(field(&call(&mut c, "XINFO STREAM m FULL"), "groups")).remove(0);
    assert_eq!(field(&g, "entries-read"), int(3));
    assert_eq!(field(&g, "lag"), int(0));
}

#[test]
fn blocking_xreadgroup() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut rd = Client::new(&s);
    call(&mut c, "XGROUP CREATE s g $ MKSTREAM");
    // Several consumers of one group: each new entry goes to one of them.
    let mut readers: Vec<Client> = (0..3).map(|_| Client::new(&s)).collect();
    for (i, r) in readers.iter_mut().enumerate() {
        r.send(&[
            "XREADGROUP",
            "GROUP",
            "g",
            &format!("c{i}"),
            "COUNT",
            "1",
            "BLOCK",
            "0",
            "STREAMS",
            "s",
            ">",
        ]);
        common::wait_blocked(&mut c, i + 1);
    }
    call(&mut c, "XADD s 1-0 n 1");
    assert_eq!(
        readers[0].read(),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("1-0", &["n", "1"])])
        ])])
    );
    common::wait_blocked(&mut c, 2);
    call(&mut c, "MULTI");
    call(&mut c, "XADD s 2-0 n 2");
    call(&mut c, "XADD s 3-0 n 3");
    call(&mut c, "EXEC");
    assert_eq!(
        readers[1].read(),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("2-0", &["n", "2"])])
        ])])
    );
    assert_eq!(
        readers[2].read(),
        arr(vec![arr(vec![
            bulk("s"),
            arr(vec![entry("3-0", &["n", "3"])])
        ])])
    );
    common::wait_blocked(&mut c, 0);
    assert_eq!(
        call(&mut c, "XPENDING s g"),
        arr(vec![
            int(3),
            bulk("1-0"),
            bulk("3-0"),
            arr(vec![
                bulks(&["c0", "1"]),
                bulks(&["c1", "1"]),
                bulks(&["c2", "1"])
            ])
        ])
    );

    // A consumer crashes; another claims its entry and acks it.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        call(&mut c, "XAUTOCLAIM s g c1 10 0 COUNT 1"),
        arr(vec![
            bulk("2-0"),
            arr(vec![entry("1-0", &["n", "1"])]),
            arr(vec![])
        ])
    );
    assert_eq!(call(&mut c, "XACK s g 1-0 2-0"), int(2));
    assert_eq!(items(call(&mut c, "XPENDING s g")).remove(0), int(1));

    // XGROUP DESTROY wakes readers of the group with NOGROUP.
    rd.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "Alice",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    common::wait_blocked(&mut c, 1);
    assert_eq!(call(&mut c, "XGROUP DESTROY s g"), int(1));
    assert_eq!(
        rd.read(),
        err("NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option")
    );

    // A timeout is a null array; the consumer was created anyway.
    call(&mut c, "XGROUP CREATE s g2 $");
    assert_eq!(
        rd.call(&[
            "XREADGROUP",
            "GROUP",
            "g2",
            "Bob",
            "BLOCK",
            "20",
            "STREAMS",
            "s",
            ">"
        ]),
        V::NilArray
    );
    assert_eq!(items(call(&mut c, "XINFO CONSUMERS s g2")).len(), 1);

    // RENAME of a stream with the group onto the awaited key serves it.
    call(&mut c, "DEL {r}a {r}b");
    call(&mut c, "XGROUP CREATE {r}a mygroup $ MKSTREAM");
    rd.send(&[
        "XREADGROUP",
        "GROUP",
        "mygroup",
        "Alice",
        "BLOCK",
        "0",
        "STREAMS",
        "{r}a",
        ">",
    ]);
    common::wait_blocked(&mut c, 1);
    call(&mut c, "XGROUP CREATE {r}b mygroup $ MKSTREAM");
    call(&mut c, "XADD {r}b 100 f1 v1");
    call(&mut c, "RENAME {r}b {r}a");
    assert_eq!(
        rd.read(),
        arr(vec![arr(vec![
            bulk("{r}a"),
            arr(vec![entry("100-0", &["f1", "v1"])])
        ])])
    );
    // ... and without the group, NOGROUP.
    rd.send(&[
        "XREADGROUP",
        "GROUP",
        "mygroup",
        "Alice",
        "BLOCK",
        "0",
        "STREAMS",
        "{r}a",
        ">",
    ]);
    common::wait_blocked(&mut c, 1);
    call(&mut c, "XADD {r}b 100 f1 v1");
    call(&mut c, "RENAME {r}b {r}a");
    assert_eq!(
        rd.read(),
        err("NOGROUP No such key '{r}a' or consumer group 'mygroup' in XREADGROUP with GROUP option")
    );
}

#[test]
fn keyspace_events_and_watch() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut sub = Client::new(&s);
    assert_eq!(call(&mut c, "CONFIG SET notify-keyspace-events Et"), ok());
    sub.call(&[
        "SUBSCRIBE",
        "__keyevent@0__:xadd",
        "__keyevent@0__:xtrim",
        "__keyevent@0__:xdel",
        "__keyevent@0__:xgroup-create",
        "__keyevent@0__:xgroup-createconsumer",
        "__keyevent@0__:xgroup-delconsumer",
        "__keyevent@0__:xgroup-destroy",
        "__keyevent@0__:xgroup-setid",
        "__keyevent@0__:xsetid",
    ]);
    for _ in 0..8 {
        sub.read();
    }
    let mut event = || match sub.read() {
        V::Arr(x) => x[1]
            .text()
            .trim_start_matches("__keyevent@0__:")
            .to_string(),
        other => panic!("{other:?}"),
    };
    call(&mut c, "XADD s 1-0 a 1");
    assert_eq!(event(), "xadd");
    call(&mut c, "XADD s MAXLEN 1 2-0 a 2");
    assert_eq!(event(), "xadd");
    assert_eq!(event(), "xtrim");
    call(&mut c, "XADD s 3-0 a 3");
    assert_eq!(event(), "xadd");
    call(&mut c, "XTRIM s MAXLEN 1");
    assert_eq!(event(), "xtrim");
    call(&mut c, "XDEL s 3-0");
    assert_eq!(event(), "xdel");
    call(&mut c, "XGROUP CREATE s g $");
    assert_eq!(event(), "xgroup-create");
    call(&mut c, "XGROUP CREATECONSUMER s g c");
    assert_eq!(event(), "xgroup-createconsumer");
    call(&mut c, "XREADGROUP GROUP g d STREAMS s >");
    assert_eq!(event(), "xgroup-createconsumer");
    call(&mut c, "XGROUP DELCONSUMER s g c");
    assert_eq!(event(), "xgroup-delconsumer");
    call(&mut c, "XGROUP SETID s g 0");
    assert_eq!(event(), "xgroup-setid");
    call(&mut c, "XSETID s 9-0");
    assert_eq!(event(), "xsetid");
    call(&mut c, "XGROUP DESTROY s g");
    assert_eq!(event(), "xgroup-destroy");
    // Nothing deleted, no event.
    call(&mut c, "XDEL s 100-0");
    call(&mut c, "XADD s 10-0 a 1");
    assert_eq!(event(), "xadd");

    // WATCH: XADD invalidates, group changes on an existing key do not.
    let mut w = Client::new(&s);
    call(&mut w, "WATCH s");
    call(&mut c, "XGROUP CREATE s g2 $");
    call(&mut w, "MULTI");
    call(&mut w, "PING");
    assert_eq!(call(&mut w, "EXEC"), arr(vec![V::Simple("PONG".into())]));
    call(&mut w, "WATCH s");
    call(&mut c, "XADD s * a 1");
    call(&mut w, "MULTI");
    call(&mut w, "PING");
    assert_eq!(call(&mut w, "EXEC"), V::NilArray);
}

#[test]
fn copy_digest_and_memory() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    for i in 1..=300 {
        c.call(&[
            "XADD",
            "s",
            &format!("{i}-0"),
            "f",
            &i.to_string(),
            "g",
            "xx",
        ]);
    }
    call(&mut c, "XGROUP CREATE s g 0");
    call(&mut c, "XREADGROUP GROUP g c COUNT 5 STREAMS s >");
    assert_eq!(call(&mut c, "COPY s t"), int(1));
    assert_eq!(call(&mut c, "XRANGE t - +"), call(&mut c, "XRANGE s - +"));
    assert_eq!(call(&mut c, "XPENDING t g"), call(&mut c, "XPENDING s g"));
    // Independent copies.
    call(&mut c, "XACK t g 1-0");
    assert_eq!(items(call(&mut c, "XPENDING s g")).remove(0), int(5));
    let V::Int(m) = call(&mut c, "MEMORY USAGE s") else {
        panic!()
    };
    assert!((3000..40000).contains(&m), "{m}");
}
