//! The geo commands end to end, through the real server. Expected replies
//! are those of Valkey's tests/unit/geo.tcl (written here in the same Tcl
//! list notation so they can be compared at a glance) and exact bytes from
//! geo.c's reply functions.

mod common;
use common::{Client, TestServer, V};

/// Renders a reply as a Tcl list, the notation geo.tcl's expectations use:
/// nested arrays and words with spaces are braced.
fn tcl(v: &V, top: bool) -> String {
    match v {
        V::Arr(items) => {
            let inner: Vec<String> = items.iter().map(|i| tcl(i, false)).collect();
            let s = inner.join(" ");
            if top {
                s
            } else {
                format!("{{{s}}}")
            }
        }
        V::Bulk(_) | V::Simple(_) => {
            let t = v.text();
            if t.contains(' ') || (t.is_empty() && !top) {
                format!("{{{t}}}")
            } else {
                t
            }
        }
        V::Int(n) => n.to_string(),
        V::Nil | V::NilArray | V::Null => "{}".into(),
        other => panic!("unexpected reply {other:?}"),
    }
}

/// Runs `args` and renders the reply as a Tcl list.
#[track_caller]
fn q(c: &mut Client, args: &[&str]) -> String {
    tcl(&c.call(args), true)
}

/// Runs a space-separated command and returns the exact reply bytes.
#[track_caller]
fn raw(c: &mut Client, line: &str) -> String {
    String::from_utf8_lossy(&c.cmd_raw(line)).into_owned()
}

#[track_caller]
fn error(c: &mut Client, args: &[&str]) -> String {
    match c.call(args) {
        V::Err(e) => e,
        other => panic!("expected an error for {args:?}, got {other:?}"),
    }
}

/// A sorted set's members and scores, lowest first.
fn scores(c: &mut Client, key: &str) -> Vec<(String, f64)> {
    let V::Arr(a) = c.call(&["zrange", key, "0", "-1", "withscores"]) else {
        panic!("not an array");
    };
    a.chunks(2)
        .map(|p| (p[0].text(), p[1].text().parse().expect("score")))
        .collect()
}

fn sicily(c: &mut Client, key: &str) {
    c.call(&["del", key]);
    let v = c.call(&[
        "geoadd",
        key,
        "13.361389",
        "38.115556",
        "Palermo",
        "15.087269",
        "37.502669",
        "Catania",
    ]);
    assert_eq!(v, V::Int(2));
}

fn nyc(c: &mut Client) {
    c.call(&["del", "nyc"]);
    assert_eq!(
        q(
            c,
            &["geoadd", "nyc", "-73.9454966", "40.747533", "lic market"]
        ),
        "1"
    );
    let v = c.call(&[
        "geoadd",
        "nyc",
        "-73.9733487",
        "40.7648057",
        "central park n/q/r",
        "-73.9903085",
        "40.7362513",
        "union square",
        "-74.0131604",
        "40.7126674",
        "wtc one",
        "-73.7858139",
        "40.6428986",
        "jfk",
        "-73.9375699",
        "40.7498929",
        "q4",
        "-73.9564142",
        "40.7480973",
        "4545",
    ]);
    assert_eq!(v, V::Int(6));
}

#[test]
fn geoadd_scores_and_options() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    nyc(&mut c);
    assert_eq!(
        q(&mut c, &["zrange", "nyc", "0", "-1", "withscores"]),
        "{wtc one} 1791873972053020 {union square} 1791875485187452 {central park n/q/r} \
         1791875761332224 4545 1791875796750882 {lic market} 1791875804419201 q4 \
         1791875830079666 jfk 1791895905559723"
    );
    assert_eq!(
        q(
            &mut c,
            &["geoadd", "nyc", "-73.9454966", "40.747533", "lic market"]
        ),
        "0"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "geoadd",
                "nyc",
                "CH",
                "40.747533",
                "-73.9454966",
                "lic market"
            ]
        ),
        "1"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "geoadd",
                "nyc",
                "NX",
                "-73.9454966",
                "40.747533",
                "lic market"
            ]
        ),
        "0"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "geoadd",
                "nyc",
                "NX",
                "CH",
                "-73.9454966",
                "40.747533",
                "lic market"
            ]
        ),
        "0"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "geoadd",
                "nyc",
                "CH",
                "XX",
                "-73.9454966",
                "40.747533",
                "lic market"
            ]
        ),
        "1"
    );
    // XX never adds.
    assert_eq!(
        q(&mut c, &["geoadd", "nyc", "XX", "1", "2", "newcomer"]),
        "0"
    );
    assert_eq!(q(&mut c, &["zscore", "nyc", "newcomer"]), "{}");
    assert_eq!(q(&mut c, &["zcard", "nyc"]), "7");
    assert_eq!(q(&mut c, &["object", "encoding", "nyc"]), "listpack");
}

#[test]
fn geoadd_errors() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let syntax = "ERR syntax error";
    let lic = ["-73.9454966", "40.747533", "lic market"];
    let with = |pre: &[&'static str]| {
        let mut v: Vec<&str> = vec!["geoadd", "nyc"];
        v.extend_from_slice(pre);
        v.extend_from_slice(&lic);
        v
    };
    assert_eq!(error(&mut c, &with(&["xx", "nx"])), syntax);
    assert_eq!(error(&mut c, &with(&["ch", "xx", "foo"])), syntax);
    assert_eq!(
        error(&mut c, &["geoadd", "nyc", "1", "2", "a", "3"]),
        syntax
    );
    assert_eq!(
        error(&mut c, &["geoadd", "nyc", "nx", "ch"]),
        "ERR wrong number of arguments for 'geoadd' command"
    );
    assert_eq!(error(&mut c, &["geoadd", "nyc", "nx", "ch", "xx"]), syntax);
    assert_eq!(
        error(&mut c, &["geoadd", "nyc", "1", "2", "a", "foo", "bar", "b"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        error(&mut c, &["geoadd", "nyc", "200", "100", "a"]),
        "ERR invalid longitude,latitude pair 200.000000,100.000000"
    );
    assert_eq!(
        error(&mut c, &["geoadd", "nyc", "10", "85.1", "a"]),
        "ERR invalid longitude,latitude pair 10.000000,85.100000"
    );
    assert_eq!(
        error(&mut c, &["geoadd", "nyc", "-180.5", "-3.25", "a"]),
        "ERR invalid longitude,latitude pair -180.500000,-3.250000"
    );
    // Nothing was added by the failed commands.
    assert_eq!(q(&mut c, &["exists", "nyc"]), "0");
    c.call(&["set", "str", "x"]);
    assert!(error(&mut c, &["geoadd", "str", "1", "2", "a"]).starts_with("WRONGTYPE"));
}

#[test]
fn geopos_geodist_geohash() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    sicily(&mut c, "Sicily");
    assert_eq!(
        raw(&mut c, "geopos Sicily Palermo nope Catania"),
        "*3\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n\
         *2\r\n$20\r\n15.08726745843887329\r\n$20\r\n37.50266842333162032\r\n"
    );
    assert_eq!(raw(&mut c, "geopos Sicily"), "*0\r\n");
    assert_eq!(raw(&mut c, "geopos nokey a b"), "*2\r\n*-1\r\n*-1\r\n");
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Catania"),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Catania km"),
        "$8\r\n166.2742\r\n"
    );
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Catania MI"),
        "$8\r\n103.3182\r\n"
    );
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Catania ft"),
        "$11\r\n545518.8700\r\n"
    );
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Palermo"),
        "$6\r\n0.0000\r\n"
    );
    assert_eq!(raw(&mut c, "geodist Sicily Palermo Agrigento"), "$-1\r\n");
    assert_eq!(raw(&mut c, "geodist Sicily Ragusa Agrigento"), "$-1\r\n");
    assert_eq!(raw(&mut c, "geodist empty_key Palermo Catania"), "$-1\r\n");
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Catania yards"),
        "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
    );
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Catania km x"),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        raw(&mut c, "geohash Sicily Palermo Catania nope"),
        "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"
    );
    assert_eq!(raw(&mut c, "geohash Sicily"), "*0\r\n");
    assert_eq!(raw(&mut c, "geohash nokey a"), "*1\r\n$-1\r\n");
    c.call(&["geoadd", "points", "-5.6", "42.6", "test"]);
    assert_eq!(q(&mut c, &["geohash", "points", "test"]), "ezs42e44yx0");

    // RESP3: coordinates are doubles, missing entries nulls.
    c.call(&["hello", "3"]);
    assert_eq!(
        raw(&mut c, "geopos Sicily Palermo nope"),
        "*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n"
    );
    assert_eq!(raw(&mut c, "geodist Sicily Palermo nope"), "_\r\n");
    assert_eq!(
        raw(&mut c, "geodist Sicily Palermo Catania"),
        "$11\r\n166274.1516\r\n"
    );
    assert_eq!(raw(&mut c, "geohash Sicily nope"), "*1\r\n_\r\n");

    c.call(&["set", "str", "x"]);
    for cmd in ["geopos str a", "geohash str a", "geodist str a b"] {
        assert!(raw(&mut c, cmd).starts_with("-WRONGTYPE"), "{cmd}");
    }
}

#[test]
fn georadius_family() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    nyc(&mut c);
    let center = ["-73.9798091", "40.7598464"];
    let gr = |c: &mut Client, cmd: &str, rest: &[&str]| {
        let mut v = vec![cmd, "nyc", center[0], center[1]];
        v.extend_from_slice(rest);
        q(c, &v)
    };
    assert_eq!(
        gr(&mut c, "georadius", &["3", "km", "asc"]),
        "{central park n/q/r} 4545 {union square}"
    );
    assert_eq!(
        gr(&mut c, "georadius_ro", &["3", "km", "asc"]),
        "{central park n/q/r} 4545 {union square}"
    );
    assert_eq!(
        gr(&mut c, "georadius", &["3", "km", "withdist", "asc"]),
        "{{central park n/q/r} 0.7750} {4545 2.3651} {{union square} 2.7697}"
    );
    assert_eq!(
        gr(&mut c, "georadius", &["10", "km", "COUNT", "3"]),
        "{central park n/q/r} 4545 {union square}"
    );
    assert_eq!(
        gr(&mut c, "georadius", &["10", "km", "WITHDIST", "WITHHASH", "WITHCOORD", "COUNT", "2"]),
        "{{central park n/q/r} 0.7750 1791875761332224 {-73.97334784269332886 40.76480639569881959}} \
         {4545 2.3651 1791875796750882 {-73.95641237497329712 40.74809751381645384}}"
    );
    assert_eq!(
        gr(&mut c, "georadius", &["10", "km", "COUNT", "3", "ANY"]),
        "{wtc one} {union square} {central park n/q/r}"
    );
    assert_eq!(
        gr(
            &mut c,
            "georadius",
            &["10", "km", "COUNT", "3", "ANY", "ASC"]
        ),
        "{central park n/q/r} {union square} {wtc one}"
    );
    assert_eq!(
        gr(&mut c, "georadius", &["10", "km", "COUNT", "2", "DESC"]),
        "{wtc one} q4"
    );
    assert_eq!(
        q(&mut c, &["georadiusbymember", "nyc", "wtc one", "7", "km"]),
        "{wtc one} {union square} {central park n/q/r} 4545 {lic market}"
    );
    assert_eq!(
        q(
            &mut c,
            &["georadiusbymember_ro", "nyc", "wtc one", "7", "km"]
        ),
        "{wtc one} {union square} {central park n/q/r} 4545 {lic market}"
    );
    assert_eq!(
        q(
            &mut c,
            &["georadiusbymember", "nyc", "wtc one", "7", "km", "withdist"]
        ),
        "{{wtc one} 0.0000} {{union square} 3.2544} {{central park n/q/r} 6.7000} \
         {4545 6.1975} {{lic market} 6.8969}"
    );
    // Errors.
    assert_eq!(
        error(
            &mut c,
            &[
                "georadius",
                "nyc",
                center[0],
                center[1],
                "10",
                "km",
                "ANY",
                "ASC"
            ]
        ),
        "ERR the ANY argument requires COUNT argument"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "georadius",
                "nyc",
                center[0],
                center[1],
                "10",
                "km",
                "COUNT"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "georadius",
                "nyc",
                center[0],
                center[1],
                "10",
                "km",
                "COUNT",
                "0"
            ]
        ),
        "ERR COUNT must be > 0"
    );
    assert_eq!(
        error(
            &mut c,
            &["georadius", "nyc", center[0], center[1], "x", "km"]
        ),
        "ERR need numeric radius"
    );
    assert_eq!(
        error(
            &mut c,
            &["georadius", "nyc", center[0], center[1], "-1", "km"]
        ),
        "ERR radius cannot be negative"
    );
    assert_eq!(
        error(
            &mut c,
            &["georadius", "nyc", center[0], center[1], "1", "parsec"]
        ),
        "ERR unsupported unit provided. please use M, KM, FT, MI"
    );
    assert_eq!(
        error(&mut c, &["georadius", "nyc", "181", "0", "1", "km"]),
        "ERR invalid longitude,latitude pair 181.000000,0.000000"
    );
    assert_eq!(
        error(&mut c, &["georadiusbymember", "nyc", "nope", "1", "km"]),
        "ERR could not decode requested zset member"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "georadius_ro",
                "nyc",
                center[0],
                center[1],
                "1",
                "km",
                "store",
                "x"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        error(&mut c, &["georadius", "nyc", center[0], center[1], "1", "km", "store", "x", "withdist"]),
        "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    );
    // Missing key: empty array (even for an unknown member).
    assert_eq!(raw(&mut c, "georadius nokey 0 0 1 km"), "*0\r\n");
    assert_eq!(raw(&mut c, "georadiusbymember nokey m 1 km"), "*0\r\n");
    // Huge radius (issue #2767).
    c.call(&[
        "geoadd",
        "users",
        "-47.271613776683807",
        "-54.534504198047678",
        "user_000000",
    ]);
    match c.call(&["georadius", "users", "0", "0", "50000", "km", "WITHCOORD"]) {
        V::Arr(a) => assert_eq!(a.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn georadiusbymember_oblique_and_pole() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let cases: [(&[&str], &str, &str, &str); 4] = [
        (
            &[
                "-0.15307903289794921875",
                "85",
                "n1",
                "0.3515625",
                "85.00019260486917005437",
                "n2",
            ],
            "n1",
            "4891.94",
            "n1 n2",
        ),
        (
            &[
                "-4.95211958885192871094",
                "85",
                "n3",
                "11.25",
                "85.0511",
                "n4",
            ],
            "n3",
            "156544",
            "n3 n4",
        ),
        (
            &[
                "-45",
                "65.50900022111811438208",
                "n5",
                "90",
                "85.0511",
                "n6",
            ],
            "n5",
            "5009431",
            "n5 n6",
        ),
        (
            &["45", "65", "n1", "-135", "85.05", "n2"],
            "n1",
            "5009431",
            "n1 n2",
        ),
    ];
    for (points, member, radius, expected) in cases {
        c.call(&["del", "k1"]);
        let mut add = vec!["geoadd", "k1"];
        add.extend_from_slice(points);
        c.call(&add);
        assert_eq!(
            q(&mut c, &["georadiusbymember", "k1", member, radius, "m"]),
            expected
        );
    }
}

#[test]
fn geosearch() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    nyc(&mut c);
    let from = [
        "geosearch",
        "nyc",
        "fromlonlat",
        "-73.9798091",
        "40.7598464",
    ];
    let gs = |c: &mut Client, rest: &[&str]| {
        let mut v = from.to_vec();
        v.extend_from_slice(rest);
        q(c, &v)
    };
    assert_eq!(
        gs(&mut c, &["bybox", "6", "6", "km", "asc"]),
        "{central park n/q/r} 4545 {union square} {lic market}"
    );
    assert_eq!(
        gs(&mut c, &["bybox", "6", "6", "km", "withdist", "asc"]),
        "{{central park n/q/r} 0.7750} {4545 2.3651} {{union square} 2.7697} {{lic market} 3.1991}"
    );
    assert_eq!(
        gs(&mut c, &["byradius", "3", "km", "desc", "withhash"]),
        "{{union square} 1791875485187452} {4545 1791875796750882} {{central park n/q/r} 1791875761332224}"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "frommember",
                "wtc one",
                "bybox",
                "14",
                "14",
                "km"
            ]
        ),
        "{wtc one} {union square} {central park n/q/r} 4545 {lic market} q4"
    );
    // Errors, in Valkey's order.
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "fromlonlat",
                "-73.9",
                "40.7",
                "frommember",
                "xxx",
                "bybox",
                "6",
                "6",
                "km"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "bybox",
                "3",
                "3",
                "km",
                "asc",
                "desc",
                "withhash",
                "withdist",
                "withcoord"
            ]
        ),
        "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "GEOSEARCH",
                "nyc",
                "fromlonlat",
                "-73.9",
                "40.7",
                "byradius",
                "3",
                "km",
                "bybox",
                "3",
                "3",
                "km"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "GEOSEARCH",
                "nyc",
                "fromlonlat",
                "-73.9",
                "40.7",
                "asc",
                "desc",
                "withhash"
            ]
        ),
        "ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "fromlonlat",
                "-73.9",
                "40.7",
                "bybox",
                "6",
                "6",
                "km",
                "storedist"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "frommember",
                "nope",
                "bybox",
                "6",
                "6",
                "km"
            ]
        ),
        "ERR could not decode requested zset member"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "fromlonlat",
                "0",
                "0",
                "bybox",
                "x",
                "6",
                "km"
            ]
        ),
        "ERR need numeric width"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "fromlonlat",
                "0",
                "0",
                "bybox",
                "6",
                "x",
                "km"
            ]
        ),
        "ERR need numeric height"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nyc",
                "fromlonlat",
                "0",
                "0",
                "bybox",
                "6",
                "-1",
                "km"
            ]
        ),
        "ERR height or width cannot be negative"
    );
    // A missing key still has its arguments checked, FROMMEMBER excepted.
    assert_eq!(
        raw(&mut c, "geosearch nokey frommember x byradius 1 km"),
        "*0\r\n"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearch",
                "nokey",
                "frommember",
                "x",
                "asc",
                "desc",
                "withhash"
            ]
        ),
        "ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch"
    );
    c.call(&["set", "str", "x"]);
    assert!(error(
        &mut c,
        &[
            "geosearch",
            "str",
            "fromlonlat",
            "0",
            "0",
            "byradius",
            "1",
            "km"
        ]
    )
    .starts_with("WRONGTYPE"));
}

#[test]
fn geosearch_sicily_shapes() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    sicily(&mut c, "Sicily");
    c.call(&[
        "geoadd",
        "Sicily",
        "12.758489",
        "38.788135",
        "edge1",
        "17.241510",
        "38.788135",
        "eage2",
    ]);
    assert_eq!(
        q(
            &mut c,
            &["georadius", "Sicily", "15", "37", "200", "km", "asc"]
        ),
        "Catania Palermo"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "geosearch",
                "Sicily",
                "fromlonlat",
                "15",
                "37",
                "bybox",
                "400",
                "400",
                "km",
                "asc"
            ]
        ),
        "Catania Palermo eage2 edge1"
    );
    c.call(&["del", "Sicily"]);
    c.call(&[
        "geoadd", "Sicily", "12.75", "36.995", "test1", "12.75", "36.50", "test2", "13.00",
        "36.50", "test3",
    ]);
    assert_eq!(
        q(
            &mut c,
            &[
                "geosearch",
                "Sicily",
                "fromlonlat",
                "15",
                "37",
                "bybox",
                "400",
                "2",
                "km"
            ]
        ),
        "test1"
    );
    c.call(&["geoadd", "Sicily", "-1", "37.00", "test3"]);
    assert_eq!(
        q(
            &mut c,
            &[
                "geosearch",
                "Sicily",
                "fromlonlat",
                "15",
                "37",
                "bybox",
                "3000",
                "2",
                "km",
                "asc"
            ]
        ),
        "test1 test3"
    );
    c.call(&["del", "Sicily"]);
    c.call(&[
        "geoadd",
        "Sicily",
        "12.758489",
        "38.788135",
        "edge1",
        "17.241510",
        "38.788135",
        "edge2",
        "17.250000",
        "35.202000",
        "edge3",
        "12.750000",
        "35.202000",
        "edge4",
        "12.748489955781654",
        "37",
        "edge5",
        "15",
        "38.798135872540925",
        "edge6",
        "17.251510044218346",
        "37",
        "edge7",
        "15",
        "35.201864127459075",
        "edge8",
        "12.692799634687903",
        "38.798135872540925",
        "corner1",
        "12.692799634687903",
        "38.798135872540925",
        "corner2",
        "17.200560937451133",
        "35.201864127459075",
        "corner3",
        "12.799439062548865",
        "35.201864127459075",
        "corner4",
    ]);
    let got = q(
        &mut c,
        &[
            "geosearch",
            "Sicily",
            "fromlonlat",
            "15",
            "37",
            "bybox",
            "400",
            "400",
            "km",
            "asc",
        ],
    );
    let mut v: Vec<&str> = got.split(' ').collect();
    v.sort_unstable();
    assert_eq!(v, ["edge1", "edge2", "edge5", "edge7"]);
}

#[test]
fn store_variants() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    sicily(&mut c, "points");
    let at = ["13.361389", "38.115556"];
    assert_eq!(
        q(
            &mut c,
            &[
                "georadius",
                "points",
                at[0],
                at[1],
                "500",
                "km",
                "store",
                "points2"
            ]
        ),
        "2"
    );
    assert_eq!(
        q(&mut c, &["zrange", "points2", "0", "-1", "withscores"]),
        q(&mut c, &["zrange", "points", "0", "-1", "withscores"])
    );
    assert_eq!(q(&mut c, &["object", "encoding", "points2"]), "listpack");
    assert_eq!(
        q(
            &mut c,
            &[
                "georadiusbymember",
                "points",
                "Palermo",
                "500",
                "km",
                "store",
                "points2"
            ]
        ),
        "2"
    );
    assert_eq!(
        q(&mut c, &["zrange", "points2", "0", "-1"]),
        "Palermo Catania"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "georadiusbymember",
                "points",
                "Catania",
                "500",
                "km",
                "storedist",
                "points2"
            ]
        ),
        "2"
    );
    assert_eq!(
        q(&mut c, &["zrange", "points2", "0", "-1", "withscores"]),
        "Catania 0 Palermo 166.27415156960032"
    );
    assert_eq!(
        q(
            &mut c,
            &[
                "georadius",
                "points",
                at[0],
                at[1],
                "500",
                "km",
                "storedist",
                "points2"
            ]
        ),
        "2"
    );
    // Distances from the given point (not Palermo's cell centre) in km.
    let d = scores(&mut c, "points2");
    assert_eq!((d[0].0.as_str(), d[1].0.as_str()), ("Palermo", "Catania"));
    assert!(d[0].1 < 0.001 && d[1].1 > 166.0 && d[1].1 < 167.0, "{d:?}");
    // GEOSEARCHSTORE: dest first, then source.
    let gss = [
        "geosearchstore",
        "points3",
        "points",
        "fromlonlat",
        at[0],
        at[1],
        "byradius",
        "500",
        "km",
    ];
    assert_eq!(q(&mut c, &gss), "2");
    assert_eq!(
        q(&mut c, &["zrange", "points3", "0", "-1"]),
        q(&mut c, &["zrange", "points", "0", "-1"])
    );
    let mut gssd = gss.to_vec();
    gssd.extend_from_slice(&["storedist", "count", "1"]);
    assert_eq!(q(&mut c, &gssd), "1");
    let d = scores(&mut c, "points3");
    assert_eq!(d.len(), 1);
    assert!(d[0].0 == "Palermo" && d[0].1 < 0.001, "{d:?}");
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearchstore",
                "abc",
                "points",
                "fromlonlat",
                at[0],
                at[1],
                "byradius",
                "50",
                "km",
                "store",
                "abc"
            ]
        ),
        "ERR syntax error"
    );
    assert_eq!(
        error(
            &mut c,
            &[
                "geosearchstore",
                "abc",
                "points",
                "fromlonlat",
                at[0],
                at[1],
                "byradius",
                "50",
                "km",
                "withdist"
            ]
        ),
        "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    );
    assert_eq!(
        error(
            &mut c,
            &["georadius", "points", at[0], at[1], "50", "km", "store"]
        ),
        "ERR syntax error"
    );
    // Empty results delete the destination; a missing source too.
    assert_eq!(
        q(
            &mut c,
            &[
                "geosearchstore",
                "points3",
                "points",
                "fromlonlat",
                "0",
                "0",
                "byradius",
                "1",
                "m"
            ]
        ),
        "0"
    );
    assert_eq!(q(&mut c, &["exists", "points3"]), "0");
    c.call(&["set", "points3", "x"]);
    assert_eq!(
        q(
            &mut c,
            &[
                "georadius",
                "nokey",
                "0",
                "0",
                "1",
                "km",
                "store",
                "points3"
            ]
        ),
        "0"
    );
    assert_eq!(q(&mut c, &["exists", "points3"]), "0");
    // The destination may hold any type: it is replaced.
    c.call(&["set", "points3", "x"]);
    assert_eq!(q(&mut c, &gss), "2");
    assert_eq!(q(&mut c, &["type", "points3"]), "zset");
    // A source of the wrong type.
    c.call(&["set", "str", "x"]);
    assert!(error(
        &mut c,
        &[
            "geosearchstore",
            "d",
            "str",
            "fromlonlat",
            "0",
            "0",
            "byradius",
            "1",
            "km"
        ]
    )
    .starts_with("WRONGTYPE"));
    assert!(error(&mut c, &["georadius", "str", "0", "0", "1", "km"]).starts_with("WRONGTYPE"));
}

#[test]
fn resp3_search_replies() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    sicily(&mut c, "Sicily");
    c.call(&["hello", "3"]);
    assert_eq!(
        raw(
            &mut c,
            "geosearch Sicily frommember Palermo byradius 200 km asc withcoord withdist withhash"
        ),
        "*2\r\n*4\r\n$7\r\nPalermo\r\n$6\r\n0.0000\r\n:3479099956230698\r\n*2\r\n\
         ,13.36138933897018433\r\n,38.11555639549629859\r\n\
         *4\r\n$7\r\nCatania\r\n$8\r\n166.2742\r\n:3479447370796909\r\n*2\r\n\
         ,15.08726745843887329\r\n,37.50266842333162032\r\n"
    );
    assert_eq!(
        raw(&mut c, "geosearch Sicily fromlonlat 0 0 byradius 1 km"),
        "*0\r\n"
    );
}

/// The dirty counter (`rdb_changes_since_last_save`).
fn dirty(c: &mut Client) -> i64 {
    let info = c.call(&["info", "persistence"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("dirty counter")
}

#[test]
fn dirty_counter_and_key_positions() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let d0 = dirty(&mut c);
    sicily(&mut c, "Sicily");
    assert_eq!(dirty(&mut c), d0 + 2);
    // Re-adding the same positions changes nothing.
    c.call(&["geoadd", "Sicily", "13.361389", "38.115556", "Palermo"]);
    assert_eq!(dirty(&mut c), d0 + 2);
    // One per stored member.
    c.call(&[
        "geosearchstore",
        "dst",
        "Sicily",
        "fromlonlat",
        "15",
        "37",
        "byradius",
        "500",
        "km",
    ]);
    assert_eq!(dirty(&mut c), d0 + 4);
    // Deleting the destination on an empty result counts once.
    c.call(&[
        "geosearchstore",
        "dst",
        "Sicily",
        "fromlonlat",
        "0",
        "0",
        "byradius",
        "1",
        "km",
    ]);
    assert_eq!(dirty(&mut c), d0 + 5);
    c.call(&[
        "geosearchstore",
        "dst",
        "Sicily",
        "fromlonlat",
        "0",
        "0",
        "byradius",
        "1",
        "km",
    ]);
    assert_eq!(dirty(&mut c), d0 + 5);

    let keys = |c: &mut Client, args: &[&str]| {
        let mut v = vec!["command", "getkeys"];
        v.extend_from_slice(args);
        q(c, &v)
    };
    assert_eq!(
        keys(
            &mut c,
            &["georadius", "src", "0", "0", "1", "km", "store", "dst"]
        ),
        "src dst"
    );
    assert_eq!(
        keys(
            &mut c,
            &[
                "georadiusbymember",
                "src",
                "m",
                "1",
                "km",
                "storedist",
                "dst"
            ]
        ),
        "src dst"
    );
    assert_eq!(
        keys(&mut c, &["georadius_ro", "src", "0", "0", "1", "km"]),
        "src"
    );
    assert_eq!(
        keys(
            &mut c,
            &[
                "geosearchstore",
                "dst",
                "src",
                "fromlonlat",
                "0",
                "0",
                "byradius",
                "1",
                "km"
            ]
        ),
        "dst src"
    );
}
