mod common;

use common::Bytes;
use ferrokey_table::{Entry, EntryRef, Table};

#[test]
fn smoke_insert_get_remove_100k() {
    let mut t: Table<Bytes> = Table::new();
    let n = 100_000;
    for i in 0..n {
        let k = format!("key:{i}");
        assert!(t.insert(Bytes::new(k.as_bytes())).is_none());
        assert_eq!(t.len(), i + 1);
    }
    for i in 0..n {
        let k = format!("key:{i}");
        assert_eq!(t.get(k.as_bytes()).unwrap().key(), k.as_bytes());
    }
    assert!(t.get(b"nope").is_none());
    let mut seen = 0;
    let mut c = 0;
    loop {
        c = t.scan(c, |_| seen += 1);
        if c == 0 {
            break;
        }
    }
    assert!(seen >= n);
    assert_eq!(t.iter().count(), n);
    for i in 0..n {
        if i % 2 == 0 {
            let k = format!("key:{i}");
            assert!(t.remove(k.as_bytes()).is_some(), "{i}");
        }
    }
    assert_eq!(t.len(), n / 2);
    t.retain(|e| e.key().len() % 2 == 0);
    for e in t.iter() {
        assert_eq!(e.key().len() % 2, 0);
    }
    let left = t.len();
    match t.entry(b"key:1") {
        EntryRef::Occupied(o) => drop(o.remove()),
        EntryRef::Vacant(v) => drop(v.insert(Bytes::new(b"key:1"))),
    }
    assert!(t.len() == left - 1 || t.len() == left + 1);
    while !t.is_empty() {
        let k = t.iter().next().unwrap().key().to_vec();
        t.remove(&k).unwrap();
    }
    assert_eq!(t.bucket_bytes(), 0);
}
