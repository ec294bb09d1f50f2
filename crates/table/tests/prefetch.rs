//! The prefetch hints: harmless on every shape of table (empty, growing
//! with a rehash in progress, settled, shrinking) and never change it.
mod common;

use common::Bytes;
use ferrokey_table::Table;

fn key(i: u32) -> Vec<u8> {
    format!("key:{i}").into_bytes()
}

fn hint(t: &Table<Bytes>, k: &[u8]) {
    let h = t.hash_key(k);
    t.prefetch_bucket(h);
    t.prefetch_entries(h);
}

#[test]
fn prefetch_never_changes_the_table() {
    let mut t: Table<Bytes> = Table::new();
    hint(&t, b"nothing here");
    assert_eq!(t.len(), 0);
    let mut saw_rehash = false;
    for i in 0..20_000 {
        t.insert(Bytes::new(&key(i)));
        saw_rehash |= t.is_rehashing();
        // Hits, misses, and keys whose bucket already moved.
        hint(&t, &key(i / 2));
        hint(&t, &key(i + 1_000_000));
        assert_eq!(t.len(), i as usize + 1);
    }
    assert!(saw_rehash, "the hints were never given during a rehash");
    for i in 0..20_000 {
        hint(&t, &key(i));
        assert!(t.get(&key(i)).is_some());
    }
    for i in 0..19_990 {
        hint(&t, &key(i));
        assert!(t.remove(&key(i)).is_some());
        hint(&t, &key(i));
    }
    assert_eq!(t.len(), 10);
    for i in 19_990..20_000 {
        assert!(t.get(&key(i)).is_some());
    }
}
