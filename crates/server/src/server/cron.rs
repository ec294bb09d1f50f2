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
    // CLIENT PAUSE stops expiry and eviction too: both would change the
    // dataset the pause is meant to freeze.
    let paused = srv.active_pause().is_some();
    if srv.active_expire_enabled && !paused {
        let start = Instant::now();
        let now = srv.now;
        let deadline = start + expire_budget(srv);
        for db in &mut srv.keyspace.dbs {
            if Instant::now() >= deadline {
                break;
            }
            db.active_expire(now, deadline, usize::MAX);
        }
        // Hash fields past their TTL, in hashes nobody reads (notified and
        // propagated as HDELs there).
        crate::commands::hashes::active_expire_fields(srv, expire_budget(srv) / 4);
        // Each deleted key reaches the AOF as its own DEL / UNLINK.
        super::exec::propagate_expired(srv);
        srv.collect_expired();
        let ms = start.elapsed().as_millis() as u64;
        srv.latency_add_sample_if_needed("expire-cycle", ms);
    }
    for db in &mut srv.keyspace.dbs {
        db.rehash_for(Duration::from_millis(1));
    }
    // A finished AOF rewrite is handled here (new base, manifest, history
    // deleted) before the generic child handling sees the child.
    crate::persistence::aof::reap_child(srv);
    // Also done before every command; here too so that a CONFIG SET of
    // tracking-table-max-keys takes effect on an idle server.
    if !srv.tracking.clients.is_empty() {
        super::tracking::limit_table(srv);
    }
    crate::persistence::cron(srv);
    // Scheduled and automatic rewrites, everysec fsync, write retries.
    crate::persistence::aof::cron(srv);
    // MIGRATE connections idle for more than 10 s are closed.
    crate::commands::migrate::cron(srv);
    if srv.config.maxmemory > 0 && !paused {
        super::evict::free_memory_if_needed(srv);
    }
}
