//! Freeing big things off the command path, like Valkey's lazyfree: a
//! background thread receives whole databases and large values and drops
//! them there.

use crate::keyspace::{Db, Record};
use std::sync::mpsc::{self, Sender};
use std::sync::OnceLock;

/// Values whose freeing is worth a trip to the background thread: strings
/// by size, collections by allocation count (Valkey's LAZYFREE_THRESHOLD).
const LAZY_MIN_BYTES: usize = 64 * 1024;
const LAZY_MIN_EFFORT: usize = 64;

/// Anything sent is simply dropped on the background thread.
type Garbage = Box<dyn Send>;

fn sender() -> Option<&'static Sender<Garbage>> {
    static TX: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Garbage>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok()
            .map(|_| tx)
    })
    .as_ref()
}

/// Drops a database's contents, in the background when `lazy`.
pub fn drop_db(db: Db, lazy: bool) {
    if lazy && !db.is_empty() {
        if let Some(tx) = sender() {
            let _ = tx.send(Box::new(db));
            return;
        }
    }
    drop(db);
}

/// Drops a deleted key, in the background when its value is big.
pub fn drop_value(rec: Option<Record>) {
    let Some(rec) = rec else { return };
    if rec.free_effort() > LAZY_MIN_EFFORT || rec.memory_usage() >= LAZY_MIN_BYTES {
        if let Some(tx) = sender() {
            let _ = tx.send(Box::new(rec));
            return;
        }
    }
    drop(rec);
}
