//! Eviction under `maxmemory`: sampled approximate LRU/LFU/TTL/random, as in
//! Valkey's `performEvictions`.

use super::Server;
use crate::config::MaxmemoryPolicy;

/// Evicts keys until used memory is under `maxmemory`. Returns false if it
/// could not (policy `noeviction`, or nothing left to evict).
pub fn free_memory_if_needed(srv: &mut Server) -> bool {
    let limit = srv.config.maxmemory as usize;
    if limit == 0 {
        return true;
    }
    let policy = srv.config.maxmemory_policy;
    if policy == MaxmemoryPolicy::NoEviction {
        return crate::alloc::used_memory() <= limit;
    }
    let samples = srv.config.maxmemory_samples.max(1) as usize;
    let volatile = matches!(
        policy,
        MaxmemoryPolicy::VolatileLru
            | MaxmemoryPolicy::VolatileLfu
            | MaxmemoryPolicy::VolatileRandom
            | MaxmemoryPolicy::VolatileTtl
    );
    while crate::alloc::used_memory() > limit {
        // Best candidate over all databases: (score, db, key); higher score
        // = better to evict.
        let mut best: Option<(i64, usize, Vec<u8>)> = None;
        let clock = srv.now.clock as i64;
        for dbi in 0..srv.keyspace.dbs.len() {
            if srv.keyspace.dbs[dbi].is_empty() {
                continue;
            }
            for _ in 0..samples {
                let mut s = srv.random() | 1;
                let mut rng = || {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    s
                };
                let db = &srv.keyspace.dbs[dbi];
                let Some(rec) = db.random_record(&mut rng) else {
                    break;
                };
                if volatile && !rec.has_expire() {
                    continue;
                }
                let score = match policy {
                    MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => (clock
                        - rec.clock() as i64)
                        .rem_euclid(crate::keyspace::record::CLOCK_MAX as i64 + 1),
                    MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                        255 - (rec.clock() & 255) as i64
                    }
                    MaxmemoryPolicy::VolatileTtl => -rec.expire().unwrap_or(i64::MAX),
                    _ => 0,
                };
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, dbi, rec.key().to_vec()));
                }
            }
        }
        let Some((_, dbi, key)) = best else {
            return false;
        };
        srv.keyspace.dbs[dbi].remove(&key);
        srv.key_modified(dbi, &key);
        srv.stats.evicted_keys += 1;
    }
    true
}
