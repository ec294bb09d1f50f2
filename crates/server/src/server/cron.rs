//! Periodic work, `hz` times a second: active expiry, incremental rehashing
//! of the keyspace tables, and eviction when over `maxmemory`.

use super::Server;
use std::time::{Duration, Instant};

/// Share of each cron period the active expiry cycle may use (Valkey's slow
/// cycle: 25 %, raised with `active-expire-effort`).
fn expire_budget(srv: &Server) -> Duration {
    let hz = srv.config.hz.clamp(1, 500) as u64;
    let effort = srv.config.active_expire_effort.clamp(1, 10) as u64;
    let percent = 25 + 2 * (effort - 1);
    Duration::from_micros(1_000_000 / hz * percent / 100)
}

pub fn run(srv: &mut Server) {
    let now = srv.now;
    let deadline = Instant::now() + expire_budget(srv);
    let mut expired = 0;
    for db in &mut srv.keyspace.dbs {
        if Instant::now() >= deadline {
            break;
        }
        let (_, n) = db.active_expire(now, deadline, usize::MAX);
        expired += n;
    }
    srv.stats.expired_keys += expired as u64;
    for db in &mut srv.keyspace.dbs {
        db.rehash_for(Duration::from_millis(1));
    }
    if srv.config.maxmemory > 0 {
        super::evict::free_memory_if_needed(srv);
    }
}
