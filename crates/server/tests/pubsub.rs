//! Pub/sub through raw RESP2/RESP3 connections: (un)subscribe replies,
//! message delivery to channels, patterns and shard channels, the RESP2
//! subscribed-mode restrictions, PUBSUB introspection, and keyspace
//! notifications.

mod common;

use common::{bulk, err, int, ok, Client, TestServer, V};

fn arr(items: Vec<V>) -> V {
    V::Arr(items)
}

fn sub_reply(kind: &str, name: &str, n: i64) -> V {
    arr(vec![bulk(kind), bulk(name), int(n)])
}

#[test]
fn subscribe_publish_unsubscribe() {
    let s = TestServer::start();
    let mut sub = Client::new(&s);
    let mut p = Client::new(&s);
    sub.send(&["SUBSCRIBE", "a", "b"]);
    assert_eq!(sub.read(), sub_reply("subscribe", "a", 1));
    assert_eq!(sub.read(), sub_reply("subscribe", "b", 2));
    assert_eq!(p.call(&["PUBLISH", "a", "hello"]), int(1));
    assert_eq!(p.call(&["PUBLISH", "nobody", "x"]), int(0));
    assert_eq!(
        sub.read(),
        arr(vec![bulk("message"), bulk("a"), bulk("hello")])
    );
    // Subscribing twice counts once.
    assert_eq!(
        sub.call(&["SUBSCRIBE", "a"]),
        sub_reply("subscribe", "a", 2)
    );
    // Without arguments: every channel, in subscription order.
    sub.send(&["UNSUBSCRIBE"]);
    assert_eq!(sub.read(), sub_reply("unsubscribe", "a", 1));
    assert_eq!(sub.read(), sub_reply("unsubscribe", "b", 0));
    // Back in normal mode.
    assert_eq!(sub.call(&["SET", "k", "v"]), ok());
    assert_eq!(
        sub.call(&["UNSUBSCRIBE"]),
        err("NOSUB 'unsubscribe' command executed not in subscribed mode")
    );
}

#[test]
fn patterns_and_shard_channels() {
    let s = TestServer::start();
    let mut sub = Client::new(&s);
    let mut p = Client::new(&s);
    assert_eq!(
        sub.call(&["PSUBSCRIBE", "news.*"]),
        sub_reply("psubscribe", "news.*", 1)
    );
    assert_eq!(
        sub.call(&["SUBSCRIBE", "news.sport"]),
        sub_reply("subscribe", "news.sport", 2)
    );
    // One subscriber, reached twice (channel and pattern).
    assert_eq!(p.call(&["PUBLISH", "news.sport", "goal"]), int(2));
    let a = sub.read();
    let b = sub.read();
    assert_eq!(
        a,
        arr(vec![bulk("message"), bulk("news.sport"), bulk("goal")])
    );
    assert_eq!(
        b,
        arr(vec![
            bulk("pmessage"),
            bulk("news.*"),
            bulk("news.sport"),
            bulk("goal")
        ])
    );
    assert_eq!(
        sub.call(&["SSUBSCRIBE", "shard1"]),
        sub_reply("ssubscribe", "shard1", 1)
    );
    assert_eq!(p.call(&["SPUBLISH", "shard1", "m"]), int(1));
    assert_eq!(
        sub.read(),
        arr(vec![bulk("smessage"), bulk("shard1"), bulk("m")])
    );
    // Shard channels are a namespace of their own.
    assert_eq!(p.call(&["PUBLISH", "shard1", "m"]), int(0));
    assert_eq!(p.call(&["PUBSUB", "NUMPAT"]), int(1));
    assert_eq!(
        p.call(&["PUBSUB", "NUMSUB", "news.sport", "zzz"]),
        arr(vec![bulk("news.sport"), int(1), bulk("zzz"), int(0)])
    );
    assert_eq!(
        p.call(&["PUBSUB", "CHANNELS", "news*"]),
        arr(vec![bulk("news.sport")])
    );
    assert_eq!(
        p.call(&["PUBSUB", "SHARDCHANNELS"]),
        arr(vec![bulk("shard1")])
    );
    assert_eq!(
        p.call(&["PUBSUB", "SHARDNUMSUB", "shard1"]),
        arr(vec![bulk("shard1"), int(1)])
    );
    let info = p.call(&["INFO", "stats"]).text();
    assert!(info.contains("pubsub_channels:1\r\n"), "{info}");
    assert!(info.contains("pubsub_patterns:1\r\n"), "{info}");
    assert!(info.contains("pubsubshard_channels:1\r\n"), "{info}");
    assert_eq!(
        sub.call(&["PUNSUBSCRIBE", "news.*"]),
        sub_reply("punsubscribe", "news.*", 1)
    );
    assert_eq!(
        sub.call(&["SUNSUBSCRIBE", "shard1"]),
        sub_reply("sunsubscribe", "shard1", 0)
    );
}

#[test]
fn resp2_subscribed_mode_allows_only_some_commands() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["SUBSCRIBE", "ch"]);
    assert_eq!(
        c.call(&["GET", "k"]),
        err("ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
    );
    assert_eq!(c.call(&["PING"]), arr(vec![bulk("pong"), bulk("")]));
    assert_eq!(c.call(&["PING", "hi"]), arr(vec![bulk("pong"), bulk("hi")]));
    // RESET leaves subscribed mode.
    assert_eq!(c.call(&["RESET"]), V::Simple("RESET".into()));
    assert_eq!(c.call(&["PING"]), V::Simple("PONG".into()));
    let mut p = Client::new(&s);
    assert_eq!(p.call(&["PUBLISH", "ch", "x"]), int(0));
}

#[test]
fn resp3_subscribers_get_pushes_and_may_run_any_command() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    c.call(&["HELLO", "3"]);
    c.send(&["SUBSCRIBE", "ch"]);
    assert_eq!(c.read(), sub_reply("subscribe", "ch", 1));
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    // Publishing to itself: the reply, then the message (Valkey 8.1.8
    // sends `:1` and then the push; Redis 7.0 did the opposite).
    c.send(&["PUBLISH", "ch", "self"]);
    assert_eq!(c.read(), int(1));
    assert_eq!(
        c.read(),
        arr(vec![bulk("message"), bulk("ch"), bulk("self")])
    );
    // Inside MULTI: after EXEC's whole reply.
    c.call(&["MULTI"]);
    c.call(&["PUBLISH", "ch", "a"]);
    c.call(&["PUBLISH", "ch", "b"]);
    assert_eq!(c.call(&["EXEC"]), arr(vec![int(1), int(1)]));
    for m in ["a", "b"] {
        assert_eq!(c.read(), arr(vec![bulk("message"), bulk("ch"), bulk(m)]));
    }
    // A null channel when there is nothing left to unsubscribe from.
    c.call(&["PSUBSCRIBE", "p*"]);
    c.send(&["UNSUBSCRIBE", "ch"]);
    assert_eq!(c.read(), sub_reply("unsubscribe", "ch", 1));
    assert_eq!(
        c.call(&["UNSUBSCRIBE"]),
        arr(vec![bulk("unsubscribe"), V::Null, int(1)])
    );
}

#[test]
fn keyspace_and_keyevent_notifications() {
    let s = TestServer::start();
    let mut c = Client::new(&s);
    let mut sub = Client::new(&s);
    assert_eq!(
        c.call(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        ok()
    );
    sub.call(&["PSUBSCRIBE", "__key*__:*"]);
    c.call(&["SET", "foo", "bar"]);
    let msg = |v: V| match v {
        V::Arr(items) => items[2..].iter().map(|x| x.text()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(msg(sub.read()), vec!["__keyspace@0__:foo", "set"]);
    assert_eq!(msg(sub.read()), vec!["__keyevent@0__:set", "foo"]);
    c.call(&["DEL", "foo"]);
    assert_eq!(msg(sub.read()), vec!["__keyspace@0__:foo", "del"]);
    assert_eq!(msg(sub.read()), vec!["__keyevent@0__:del", "foo"]);
    // Expired events, from lazy expiry.
    c.call(&["SET", "tmp", "v", "PX", "1"]);
    assert_eq!(msg(sub.read()), vec!["__keyspace@0__:tmp", "set"]);
    assert_eq!(msg(sub.read()), vec!["__keyevent@0__:set", "tmp"]);
    assert_eq!(msg(sub.read()), vec!["__keyspace@0__:tmp", "expire"]);
    assert_eq!(msg(sub.read()), vec!["__keyevent@0__:expire", "tmp"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(c.call(&["GET", "tmp"]), V::Nil);
    assert_eq!(msg(sub.read()), vec!["__keyspace@0__:tmp", "expired"]);
    assert_eq!(msg(sub.read()), vec!["__keyevent@0__:expired", "tmp"]);
}

/// Messages wait for a quiet poll (or a few rounds) before they are
/// written, so that one write carries several. Under a steady stream of
/// pipelined publishes from several connections every message must still
/// arrive, each publisher's in its order, and the replies must too.
#[test]
fn busy_publishers_deliver_every_message_in_order() {
    const PUBLISHERS: usize = 4;
    const EACH: usize = 2000;
    let s = TestServer::start();
    let mut subs: Vec<Client> = (0..2).map(|_| Client::new(&s)).collect();
    for sub in &mut subs {
        assert_eq!(
            sub.call(&["SUBSCRIBE", "c"]),
            sub_reply("subscribe", "c", 1)
        );
    }
    std::thread::scope(|scope| {
        for p in 0..PUBLISHERS {
            let s = &s;
            scope.spawn(move || {
                let mut c = Client::new(s);
                for batch in (0..EACH).collect::<Vec<_>>().chunks(50) {
                    for i in batch {
                        c.send(&["PUBLISH", "c", &format!("{p}:{i}")]);
                    }
                    for _ in batch {
                        assert_eq!(c.read(), int(2));
                    }
                }
            });
        }
    });
    for sub in &mut subs {
        let mut next = [0usize; PUBLISHERS];
        for _ in 0..PUBLISHERS * EACH {
            let V::Arr(items) = sub.read() else {
                panic!("not a message")
            };
            assert_eq!(items[..2], [bulk("message"), bulk("c")]);
            let V::Bulk(body) = &items[2] else {
                panic!("no payload")
            };
            let body = String::from_utf8(body.clone()).unwrap();
            let (p, i) = body.split_once(':').unwrap();
            let (p, i): (usize, usize) = (p.parse().unwrap(), i.parse().unwrap());
            assert_eq!(i, next[p], "publisher {p} out of order");
            next[p] += 1;
        }
        assert_eq!(next, [EACH; PUBLISHERS]);
    }
}
