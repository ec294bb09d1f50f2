//! Eviction under `maxmemory`: Valkey's `performEvictions` with sampled
//! approximate LRU / LFU / TTL / random choice.
//!
//! Each round samples `maxmemory-samples` keys per database and evicts the
//! best candidate of all of them. Rounds repeat until memory is under the
//! limit or the time budget set by `maxmemory-eviction-tenacity` runs out;
//! in the latter case the command still runs (Valkey's EVICT_RUNNING) and
//! the cron continues the work.

use super::Server;
use crate::config::MaxmemoryPolicy;
use crate::keyspace::access::{idle_seconds, lfu_decayed_counter, lfu_minutes, lru_clock};
use crate::keyspace::Record;
use std::time::{Duration, Instant};

/// Valkey's `evictionTimeLimitUs`: 50 µs per tenacity step up to 10, then
/// growing geometrically, unlimited at 100.
fn time_limit(tenacity: u32) -> Option<Duration> {
    let t = tenacity.min(100);
    if t <= 10 {
        return Some(Duration::from_micros(50 * u64::from(t)));
    }
    if t < 100 {
        return Some(Duration::from_micros(
            (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
        ));
    }
    None
}

/// How good a candidate a record is for `policy`: higher evicts first.
fn score(policy: MaxmemoryPolicy, rec: &Record, now_ms: i64, decay_time: u32) -> i64 {
    match policy {
        MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => {
            idle_seconds(lru_clock(now_ms), rec.clock()) as i64
        }
        MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
            255 - i64::from(lfu_decayed_counter(
                rec.clock(),
                lfu_minutes(now_ms),
                decay_time,
            ))
        }
        MaxmemoryPolicy::VolatileTtl => -rec.expire().unwrap_or(i64::MAX),
        _ => 0,
    }
}

fn is_volatile(policy: MaxmemoryPolicy) -> bool {
    matches!(
        policy,
        MaxmemoryPolicy::VolatileLru
            | MaxmemoryPolicy::VolatileLfu
            | MaxmemoryPolicy::VolatileRandom
            | MaxmemoryPolicy::VolatileTtl
    )
}

/// Evicts keys until used memory is under `maxmemory`. Returns false only
/// when nothing could be evicted and memory is still over the limit (the
/// caller replies OOM).
pub fn free_memory_if_needed(srv: &mut Server) -> bool {
    let limit = srv.config.maxmemory as usize;
    if limit == 0 || crate::alloc::used_memory() <= limit {
        return true;
    }
    let policy = srv.config.maxmemory_policy;
    if policy == MaxmemoryPolicy::NoEviction {
        return false;
    }
    let start = Instant::now();
    let budget = time_limit(srv.config.maxmemory_eviction_tenacity);
    let volatile = is_volatile(policy);
    // Volatile policies sample more: only keys with a TTL qualify.
    let samples = srv.config.maxmemory_samples.max(1) as usize * if volatile { 4 } else { 1 };
    let decay = srv.config.lfu_decay_time;
    let now_ms = srv.now.ms;
    let mut evicted_any = false;
    // Volatile policies look only at keys with a TTL, which may be few: when
    // a round finds none, the next samples more (Valkey samples its expires
    // index instead; there is none here).
    let mut round_samples = samples;
    while crate::alloc::used_memory() > limit {
        let mut best: Option<(i64, usize, Vec<u8>)> = None;
        let mut state = srv.random() | 1;
        let mut rng = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut sampled = Vec::new();
        for (dbi, db) in srv.keyspace.dbs.iter().enumerate() {
            if db.is_empty() || (volatile && db.expires() == 0) {
                continue;
            }
            sampled.clear();
            db.sample(round_samples, &mut rng, &mut sampled);
            for rec in &sampled {
                if volatile && !rec.has_expire() {
                    continue;
                }
                let s = score(policy, rec, now_ms, decay);
                if best.as_ref().is_none_or(|b| s > b.0) {
                    best = Some((s, dbi, rec.key().to_vec()));
                }
            }
        }
        let Some((_, dbi, key)) = best else {
            let largest = srv.keyspace.dbs.iter().map(|d| d.len()).max().unwrap_or(0);
            if volatile && round_samples < largest {
                round_samples = (round_samples * 8).min(largest);
                continue;
            }
            return evicted_any && crate::alloc::used_memory() <= limit;
        };
        round_samples = samples;
        let old = srv.keyspace.dbs[dbi].remove(&key);
        crate::lazyfree::drop_value_if(old, srv.config.lazyfree_lazy_eviction);
        srv.stats.evicted_keys += 1;
        // The deletion reaches the AOF as its own DEL / UNLINK.
        let lazy = srv.config.lazyfree_lazy_eviction;
        super::exec::propagate_deletion(srv, dbi, &key, lazy);
        srv.key_modified(dbi, &key);
        srv.notify(crate::config::notify::EVICTED, "evicted", &key, dbi);
        evicted_any = true;
        if budget.is_some_and(|b| start.elapsed() >= b) {
            // Out of time: let the command run; the cron carries on.
            break;
        }
    }
    let ms = start.elapsed().as_millis() as u64;
    srv.latency_add_sample_if_needed("eviction-cycle", ms);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_time_limits_like_valkey() {
        assert_eq!(time_limit(0), Some(Duration::ZERO));
        assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
        assert!(time_limit(11).unwrap() > Duration::from_micros(500));
        assert_eq!(time_limit(100), None);
    }

    #[test]
    fn scores_prefer_idle_rare_and_soon_expiring_keys() {
        let now = 1_700_000_000_000i64;
        let old = Record::new_string(b"a", b"v", Some(now + 10), lru_clock(now - 100_000));
        let new = Record::new_string(b"b", b"v", Some(now + 99_999), lru_clock(now));
        let lru = MaxmemoryPolicy::AllkeysLru;
        assert!(score(lru, &old, now, 1) > score(lru, &new, now, 1));
        let ttl = MaxmemoryPolicy::VolatileTtl;
        assert!(score(ttl, &old, now, 1) > score(ttl, &new, now, 1));
        let lfu = MaxmemoryPolicy::AllkeysLfu;
        let rare = Record::new_string(b"c", b"v", None, (lfu_minutes(now) << 8) | 1);
        let hot = Record::new_string(b"d", b"v", None, (lfu_minutes(now) << 8) | 200);
        assert!(score(lfu, &rare, now, 1) > score(lfu, &hot, now, 1));
    }
}
