//! The access clock in each record: seconds for LRU, or minutes plus a
//! logarithmic counter for LFU, as Valkey keeps in its 24-bit `lru` field —
//! here in 22 bits (see record.rs): LRU seconds wrap after 48.5 days, LFU
//! minutes (14 bits) after 11.4 days; both wraps are handled like Valkey's.

use super::record::CLOCK_MAX;

/// Bits of the LFU counter (the low part of the clock).
pub const LFU_COUNTER_BITS: u32 = 8;
/// The LFU minutes field: what is left of the clock above the counter.
pub const LFU_MINUTES_MAX: u32 = CLOCK_MAX >> LFU_COUNTER_BITS;
/// A new key's LFU counter, so it is not evicted before it had a chance.
pub const LFU_INIT_VAL: u32 = 5;

/// How lookups update a record's clock (from `maxmemory-policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Access {
    #[default]
    Lru,
    Lfu {
        log_factor: u32,
        decay_time: u32,
    },
}

/// The LRU clock for a time in ms: seconds, wrapping.
pub fn lru_clock(unix_ms: i64) -> u32 {
    ((unix_ms / 1000) as u32) & CLOCK_MAX
}

/// The LFU clock's minutes field for a time in ms, wrapping.
pub fn lfu_minutes(unix_ms: i64) -> u32 {
    ((unix_ms / 60_000) as u32) & LFU_MINUTES_MAX
}

/// Seconds since `rec_clock` by the LRU clock `now_clock`, across one wrap.
pub fn idle_seconds(now_clock: u32, rec_clock: u32) -> u64 {
    if now_clock >= rec_clock {
        u64::from(now_clock - rec_clock)
    } else {
        u64::from(now_clock) + u64::from(CLOCK_MAX - rec_clock)
    }
}

/// Valkey's `LFUDecrAndReturn`: the counter minus one for every
/// `decay_time` minutes since the clock's minutes field.
pub fn lfu_decayed_counter(clock: u32, now_minutes: u32, decay_time: u32) -> u32 {
    let counter = clock & ((1 << LFU_COUNTER_BITS) - 1);
    let last = clock >> LFU_COUNTER_BITS;
    let elapsed = if now_minutes >= last {
        now_minutes - last
    } else {
        LFU_MINUTES_MAX - last + now_minutes
    };
    let periods = elapsed.checked_div(decay_time).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// Valkey's `LFULogIncr`: increments the counter with a probability that
/// falls as it grows, so 255 stands for about a million hits at factor 10.
/// `rand` is uniform in [0, 1).
pub fn lfu_log_incr(counter: u32, log_factor: u32, rand: f64) -> u32 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if rand < p {
        counter + 1
    } else {
        counter
    }
}

/// The clock value of a brand-new record.
pub fn initial_clock(access: Access, unix_ms: i64) -> u32 {
    match access {
        Access::Lru => lru_clock(unix_ms),
        Access::Lfu { .. } => (lfu_minutes(unix_ms) << LFU_COUNTER_BITS) | LFU_INIT_VAL,
    }
}

/// The clock after an access: the current second for LRU; for LFU the
/// decayed, log-incremented counter stamped with the current minute.
pub fn touched_clock(old: u32, access: Access, unix_ms: i64, rand: f64) -> u32 {
    match access {
        Access::Lru => lru_clock(unix_ms),
        Access::Lfu {
            log_factor,
            decay_time,
        } => {
            let now_min = lfu_minutes(unix_ms);
            let counter = lfu_decayed_counter(old, now_min, decay_time);
            (now_min << LFU_COUNTER_BITS) | lfu_log_incr(counter, log_factor, rand)
        }
    }
}

/// The LRU clock of a key idle for `idle_secs` at `unix_ms` (RDB's IDLE
/// opcode, RESTORE IDLETIME): Valkey's `objectSetLRUOrLFU`.
pub fn clock_from_idle(unix_ms: i64, idle_secs: u64) -> u32 {
    let now = lru_clock(unix_ms) as u64;
    let idle = idle_secs.min(CLOCK_MAX as u64);
    (if idle <= now {
        now - idle
    } else {
        // Before the last wrap of the clock.
        CLOCK_MAX as u64 - (idle - now)
    }) as u32
}

/// The LFU clock of a key with counter `freq` at `unix_ms` (RDB's FREQ
/// opcode, RESTORE FREQ).
pub fn clock_from_freq(unix_ms: i64, freq: u8) -> u32 {
    (lfu_minutes(unix_ms) << LFU_COUNTER_BITS) | freq as u32
}

/// The LFU counter a clock holds (undecayed), for RDB FREQ / DUMP.
pub fn freq_of(clock: u32) -> u8 {
    (clock & ((1 << LFU_COUNTER_BITS) - 1)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_wraps_like_valkey() {
        assert_eq!(idle_seconds(100, 100), 0);
        assert_eq!(idle_seconds(10, 4), 6);
        // The clock wrapped after the access: Valkey's formula, which is one
        // short of a true modulo.
        assert_eq!(idle_seconds(10, CLOCK_MAX - 5), 15);
        assert_eq!(idle_seconds(0, CLOCK_MAX), 0);
        assert_eq!(lfu_minutes(60_000 * 3 + 59_999), 3);
        assert!(lfu_minutes(i64::MAX / 2) <= LFU_MINUTES_MAX);
    }

    #[test]
    fn lfu_counter_decays_per_period_and_saturates() {
        let clock = (100 << LFU_COUNTER_BITS) | 20;
        assert_eq!(lfu_decayed_counter(clock, 100, 1), 20);
        assert_eq!(lfu_decayed_counter(clock, 103, 1), 17);
        assert_eq!(lfu_decayed_counter(clock, 200, 1), 0);
        assert_eq!(
            lfu_decayed_counter(clock, 200, 0),
            20,
            "decay-time 0 never decays"
        );
        // The minutes field wrapped.
        let clock = (LFU_MINUTES_MAX << LFU_COUNTER_BITS) | 9;
        assert_eq!(lfu_decayed_counter(clock, 2, 1), 7);
    }

    #[test]
    fn lfu_increment_gets_harder_as_the_counter_grows() {
        assert_eq!(lfu_log_incr(5, 10, 0.99), 6, "at the initial value always");
        assert_eq!(lfu_log_incr(100, 10, 0.5), 100);
        assert_eq!(lfu_log_incr(100, 10, 0.0001), 101);
        assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
    }

    #[test]
    fn new_and_touched_clocks_follow_the_policy() {
        let lfu = Access::Lfu {
            log_factor: 10,
            decay_time: 1,
        };
        let ms = 1_700_000_000_000;
        assert_eq!(initial_clock(Access::Lru, ms), lru_clock(ms));
        assert_eq!(initial_clock(lfu, ms) & 255, LFU_INIT_VAL);
        let c = touched_clock(initial_clock(lfu, ms), lfu, ms, 0.0);
        assert_eq!(c & 255, LFU_INIT_VAL + 1);
        assert_eq!(
            touched_clock(0, Access::Lru, ms + 5000, 0.0),
            lru_clock(ms) + 5
        );
    }

    #[test]
    fn clocks_from_idle_and_freq_read_back() {
        let ms = 1_700_000_000_000;
        let c = clock_from_idle(ms, 100);
        assert_eq!(idle_seconds(lru_clock(ms), c), 100);
        let c = clock_from_freq(ms, 42);
        assert_eq!(freq_of(c), 42);
        assert_eq!(lfu_decayed_counter(c, lfu_minutes(ms), 1), 42);
    }
}
