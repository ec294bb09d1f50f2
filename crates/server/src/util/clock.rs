//! A cheap stopwatch for timing every command.
//!
//! Each command is timed for INFO commandstats, the slow log and the
//! latency monitor: two clock reads per command. `Instant::now()` is a
//! vDSO `clock_gettime`, ~20 ns here, and showed as 4–6 % of the server's
//! time under pipelined load. Where the CPU has an invariant TSC (the
//! `constant_tsc` and `nonstop_tsc` flags: same rate on every core, in
//! every power state), the stopwatch reads it directly (a few ns) and
//! converts ticks with a rate measured against the monotonic clock once.
//! Elsewhere it falls back to `Instant`.
//!
//! Only durations come from here; dates still come from the system clock.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A point to measure elapsed time from.
#[derive(Clone, Copy)]
pub struct Stopwatch(Mark);

#[derive(Clone, Copy)]
enum Mark {
    Tsc(u64),
    Instant(Instant),
}

/// Nanoseconds per TSC tick, or None when the TSC is not usable.
fn ns_per_tick() -> Option<f64> {
    static RATE: OnceLock<Option<f64>> = OnceLock::new();
    *RATE.get_or_init(calibrate)
}

#[cfg(target_arch = "x86_64")]
fn read_tsc() -> u64 {
    // SAFETY: RDTSC is available on every x86-64 CPU and has no memory
    // effects; it is only used after `calibrate` found an invariant TSC.
    unsafe { core::arch::x86_64::_rdtsc() }
}

#[cfg(target_arch = "x86_64")]
fn calibrate() -> Option<f64> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let flags = cpuinfo.lines().find(|l| l.starts_with("flags"))?;
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    if !has("constant_tsc") || !has("nonstop_tsc") {
        return None;
    }
    // 5 ms against the monotonic clock: the rate is then known to a few
    // parts per million, far below a microsecond over any command.
    let (t0, c0) = (Instant::now(), read_tsc());
    while t0.elapsed() < Duration::from_millis(5) {
        std::hint::spin_loop();
    }
    let (ns, ticks) = (t0.elapsed().as_nanos() as f64, read_tsc().wrapping_sub(c0));
    (ticks > 0).then(|| ns / ticks as f64)
}

#[cfg(not(target_arch = "x86_64"))]
fn read_tsc() -> u64 {
    0
}

#[cfg(not(target_arch = "x86_64"))]
fn calibrate() -> Option<f64> {
    None
}

/// Measures the TSC rate now (5 ms) rather than on the first command.
pub fn init() {
    let _ = ns_per_tick();
}

impl Stopwatch {
    #[inline]
    pub fn start() -> Stopwatch {
        match ns_per_tick() {
            Some(_) => Stopwatch(Mark::Tsc(read_tsc())),
            None => Stopwatch(Mark::Instant(Instant::now())),
        }
    }

    /// Whole microseconds since `start`.
    #[inline]
    pub fn elapsed_us(&self) -> u64 {
        match self.0 {
            Mark::Tsc(c0) => {
                let rate = ns_per_tick().unwrap_or(0.0);
                // A TSC that went backwards (it should not) reads as 0.
                (read_tsc().saturating_sub(c0) as f64 * rate / 1000.0) as u64
            }
            Mark::Instant(t) => t.elapsed().as_micros() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_monotonic_clock() {
        init();
        let (w, t) = (Stopwatch::start(), Instant::now());
        std::thread::sleep(Duration::from_millis(30));
        let (ours, real) = (w.elapsed_us(), t.elapsed().as_micros() as u64);
        // Read one after the other: within 1 % (and the few µs between).
        let diff = ours.abs_diff(real);
        assert!(
            diff <= real / 100 + 50,
            "stopwatch {ours} µs, Instant {real} µs"
        );
        assert!(ours >= 29_900, "{ours}");
    }

    #[test]
    fn starts_near_zero() {
        let w = Stopwatch::start();
        assert!(w.elapsed_us() < 10_000);
    }
}
