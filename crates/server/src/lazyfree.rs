//! Freeing big things off the command path, like Valkey's lazyfree: a
//! background thread receives whole databases and large values and drops
//! them there.

use crate::keyspace::{Db, Record};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::OnceLock;

/// Values whose freeing is worth a trip to the background thread: strings
/// by size, collections by allocation count (Valkey's LAZYFREE_THRESHOLD).
const LAZY_MIN_BYTES: usize = 64 * 1024;
const LAZY_MIN_EFFORT: usize = 64;

/// Anything sent is dropped on the background thread; the count is how
/// many objects (keys) it holds, for INFO.
type Garbage = (Box<dyn Send>, u64);

/// Objects handed to the background thread and not freed yet
/// (`lazyfree_pending_objects`), and objects it freed since the last
/// CONFIG RESETSTAT (`lazyfreed_objects`). Shared with that thread, as
/// Valkey's are with its bio thread.
static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);

pub fn pending_objects() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

pub fn freed_objects() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// CONFIG RESETSTAT.
pub fn reset_stats() {
    FREED.store(0, Ordering::Relaxed);
}

fn sender() -> Option<&'static Sender<Garbage>> {
    static TX: OnceLock<Option<Sender<Garbage>>> = OnceLock::new();
    TX.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Garbage>();
        std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || {
                for (garbage, n) in rx {
                    drop(garbage);
                    FREED.fetch_add(n, Ordering::Relaxed);
                    PENDING.fetch_sub(n, Ordering::Relaxed);
                }
            })
            .ok()
            .map(|_| tx)
    })
    .as_ref()
}

/// Hands `garbage` (`n` objects) to the background thread; gives it back
/// if there is none.
fn send(garbage: Box<dyn Send>, n: u64) -> Result<(), Box<dyn Send>> {
    let Some(tx) = sender() else {
        return Err(garbage);
    };
    PENDING.fetch_add(n, Ordering::Relaxed);
    tx.send((garbage, n)).map_err(|e| {
        PENDING.fetch_sub(n, Ordering::Relaxed);
        e.0 .0
    })
}

/// Drops a database's contents, in the background when `lazy`.
pub fn drop_db(db: Db, lazy: bool) {
    if lazy && !db.is_empty() {
        let n = db.len() as u64;
        // On failure the database comes back boxed and is dropped here.
        let _ = send(Box::new(db), n);
        return;
    }
    drop(db);
}

/// Drops a deleted key, in the background when its value is big: what
/// every deletion does where Valkey's matching `lazyfree-lazy-*` option
/// is on (all are by default), and what UNLINK always does.
pub fn drop_value(rec: Option<Record>) {
    let Some(rec) = rec else { return };
    if rec.free_effort() > LAZY_MIN_EFFORT || rec.memory_usage() >= LAZY_MIN_BYTES {
        let _ = send(Box::new(rec), 1);
        return;
    }
    drop(rec);
}

/// [`drop_value`] when `lazy`, else a synchronous drop (a deletion whose
/// `lazyfree-lazy-*` option is off).
pub fn drop_value_if(rec: Option<Record>, lazy: bool) {
    if lazy {
        drop_value(rec);
    } else {
        drop(rec);
    }
}
