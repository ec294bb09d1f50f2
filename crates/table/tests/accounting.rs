//! `in_use_bytes` against `mapped_bytes`: the server's `used_memory` adds
//! the first, so it must cover a table's buckets while the table lives and
//! fall back once it is dropped, whatever the pool keeps cached (spare
//! chunks, free runs). A file of its own: the figures are process-wide.

mod common;

use common::Bytes;
use ferrokey_table::{in_use_bytes, mapped_bytes, Table};
use std::time::{Duration, Instant};

#[test]
fn in_use_bytes_covers_live_buckets_and_not_the_pools_cache() {
    let before = in_use_bytes();
    let mut t: Table<Bytes> = Table::new();
    for i in 0..100_000u32 {
        t.insert(Bytes::new(format!("m{i}").as_bytes()));
    }
    t.rehash_steps(usize::MAX);
    // Every bucket of a table this size is mapped memory (its array) or
    // pool memory (its children, in an arena).
    let live = in_use_bytes() - before;
    assert!(
        live >= t.bucket_bytes(),
        "in use {live} < the table's {} bucket bytes",
        t.bucket_bytes()
    );
    assert!(mapped_bytes() >= in_use_bytes());
    // Dropped on another thread, as the server's lazy free does.
    std::thread::spawn(move || drop(t)).join().unwrap();
    // The array is unmapped by the background thread; spares and emptied
    // chunks may stay mapped, but are not in use.
    let deadline = Instant::now() + Duration::from_secs(10);
    while in_use_bytes() > before + 4096 {
        assert!(
            Instant::now() < deadline,
            "in use {} after the drop (was {before}; mapped {})",
            in_use_bytes(),
            mapped_bytes()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
