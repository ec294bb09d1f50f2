//! Insert latency while growing: inserts N entries (default 10M) one by one
//! into our Table and into `hashbrown::HashTable`, timing every insert, and
//! prints the slowest single insert, p99.9 and friends side by side.
//!
//!   cargo run --release -p ferrokey-table --example growth_latency [N]
//!   FERROKEY_ALLOC=mimalloc cargo run --release -p ferrokey-table --example growth_latency [N]
//!
//! (the second with the server's allocator; see `support/alloc_switch.rs`)
//!
//! hashbrown doubles by rehashing everything at once, so its slowest insert
//! grows with the table; ours allocates the new array (zeroed, so untouched
//! pages cost nothing) and moves one bucket per operation.
//!
//! Each insert is timed twice: wall clock, and the thread's CPU time
//! (CLOCK_THREAD_CPUTIME_ID), which leaves out the time the thread was
//! preempted — on a shared 2-core machine a wall-clock maximum is mostly
//! the scheduler's doing. With `FERROKEY_FAULTS=1` each insert's page
//! faults are counted as well (slower; to attribute the slow inserts).

#[path = "support/alloc_switch.rs"]
mod alloc_switch;
#[path = "../tests/common/mod.rs"]
mod common;

#[global_allocator]
static ALLOC: alloc_switch::Switch = alloc_switch::Switch;

use common::Bytes;
use ferrokey_table::{DefaultHashBuilder, Entry, Table};
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::time::Instant;

/// CPU time of the calling thread, in ns.
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Page faults (minor and major) and context switches (voluntary and
/// not) of the calling thread so far, packed as `faults << 32 | switches`.
fn faults() -> u64 {
    // SAFETY: an all-zero rusage is valid; getrusage only writes it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_THREAD with a valid out pointer.
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    ((ru.ru_minflt + ru.ru_majflt) as u64) << 32 | (ru.ru_nvcsw + ru.ru_nivcsw) as u64
}

/// `FERROKEY_FAULTS=1`: count each insert's page faults too (two more
/// system calls per insert, so the run is slower; for attribution only).
fn count_faults() -> bool {
    std::env::var_os("FERROKEY_FAULTS").is_some_and(|v| v == "1")
}

/// What else an insert of ours did, from capacity and bucket-byte changes.
#[derive(Clone, Copy, Debug)]
enum Event {
    Plain,
    ResizeStart,
    RehashEnd,
    ChildAlloc,
    ChildFree,
}

thread_local! {
    static EVENTS: std::cell::RefCell<Vec<Event>> = const { std::cell::RefCell::new(Vec::new()) };
    static FAULTS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Stats {
    name: &'static str,
    total_ms: f64,
    lat_ns: Vec<u32>,
    /// Thread CPU time of each insert.
    cpu_ns: Vec<u32>,
    /// Inserts that started a resize (ours) / reallocated (hashbrown).
    resize_at: Vec<usize>,
}

impl Stats {
    fn pct(&self, sorted: &[u32], p: f64) -> u32 {
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i]
    }
}

fn entries(n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|i| Bytes::new(format!("key:{i:010}").as_bytes()))
        .collect()
}

fn run_ours(n: usize) -> Stats {
    let es = entries(n);
    let mut t: Table<Bytes> = Table::new();
    let mut lat = Vec::with_capacity(n);
    let mut cpu = Vec::with_capacity(n);
    let mut resize_at = Vec::new();
    let start = Instant::now();
    let mut events = Vec::with_capacity(n);
    let count = count_faults();
    let mut fault_counts = Vec::with_capacity(if count { n } else { 0 });
    for e in es {
        let cap = t.capacity();
        let bytes = t.bucket_bytes();
        let f0 = if count { faults() } else { 0 };
        let c0 = cpu_ns();
        let t0 = Instant::now();
        t.insert(e);
        let d = t0.elapsed().as_nanos().min(u32::MAX as u128) as u32;
        let c = cpu_ns() - c0;
        // Read before the pushes below, which fault in their own pages.
        let f = if count { faults() - f0 } else { 0 };
        cpu.push(c.min(u32::MAX as u64) as u32);
        if count {
            // Page faults in the high nibble, context switches in the low.
            let (pf, cs) = ((f >> 32).min(15), (f & 0xffff_ffff).min(15));
            fault_counts.push((pf << 4 | cs) as u8);
        }
        lat.push(d);
        if t.capacity() > cap {
            resize_at.push(lat.len() - 1);
        }
        events.push(if t.capacity() > cap {
            Event::ResizeStart
        } else if t.capacity() < cap {
            Event::RehashEnd
        } else if t.bucket_bytes() > bytes {
            Event::ChildAlloc
        } else if t.bucket_bytes() < bytes {
            Event::ChildFree
        } else {
            Event::Plain
        });
    }
    EVENTS.with(|c| *c.borrow_mut() = events);
    println!(
        "ferrokey's bucket pool after the inserts: {:?}",
        ferrokey_table::pool_stats()
    );
    FAULTS.with(|c| *c.borrow_mut() = fault_counts);
    let total_ms = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(t.len(), n);
    drop(t);
    Stats {
        name: "ferrokey",
        total_ms,
        lat_ns: lat,
        cpu_ns: cpu,
        resize_at,
    }
}

fn run_hashbrown(n: usize) -> Stats {
    let es = entries(n);
    let h = |k: &[u8]| DefaultHashBuilder.hash_one(k);
    let mut t: HashTable<Bytes> = HashTable::new();
    let mut lat = Vec::with_capacity(n);
    let mut cpu = Vec::with_capacity(n);
    let mut resize_at = Vec::new();
    let start = Instant::now();
    for e in es {
        let cap = t.capacity();
        let c0 = cpu_ns();
        let t0 = Instant::now();
        let hash = h(e.key());
        match t.entry(hash, |x| x.key() == e.key(), |x| h(x.key())) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                drop(std::mem::replace(o.get_mut(), e))
            }
            hashbrown::hash_table::Entry::Vacant(v) => drop(v.insert(e)),
        }
        let d = t0.elapsed().as_nanos().min(u32::MAX as u128) as u32;
        cpu.push((cpu_ns() - c0).min(u32::MAX as u64) as u32);
        lat.push(d);
        if t.capacity() > cap {
            resize_at.push(lat.len() - 1);
        }
    }
    let total_ms = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(t.len(), n);
    drop(t);
    Stats {
        name: "hashbrown",
        total_ms,
        lat_ns: lat,
        cpu_ns: cpu,
        resize_at,
    }
}

/// The environment's own noise, for comparison: the same timing loop
/// around an operation that allocates nothing and touches no new memory
/// (in-cache lookups in a 1000-entry table, repeated for `spin_ns`, the
/// mean CPU time of our inserts, so that both loops spend as long inside
/// their timed regions), as many times. What it shows above 100 us is
/// interrupts and such, charged to whatever runs.
/// Returns (cpu max, min(wall, cpu) max, count above 100 us on both).
fn run_control(n: usize, spin_ns: u64) -> (u32, u32, usize) {
    let mut t: Table<Bytes> = Table::new();
    let keys: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("key:{i:010}").into_bytes())
        .collect();
    for k in &keys {
        t.insert(Bytes::new(k));
    }
    let spin = std::time::Duration::from_nanos(spin_ns);
    let (mut cpu_max, mut both_max, mut slow) = (0u32, 0u32, 0usize);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..n {
        let c0 = cpu_ns();
        let t0 = Instant::now();
        while t0.elapsed() < spin {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = std::hint::black_box(&keys[(x % 1000) as usize][..]);
            std::hint::black_box(t.get(k).is_some());
        }
        let d = t0.elapsed().as_nanos().min(u32::MAX as u128) as u32;
        let c = (cpu_ns() - c0).min(u32::MAX as u64) as u32;
        cpu_max = cpu_max.max(c);
        both_max = both_max.max(c.min(d));
        slow += usize::from(c.min(d) > 100_000);
    }
    (cpu_max, both_max, slow)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let runs = [run_ours(n), run_hashbrown(n)];
    let mean_cpu = runs[0].cpu_ns.iter().map(|&c| u64::from(c)).sum::<u64>() / n as u64;
    let control = run_control(n, mean_cpu);
    println!(
        "growing to {n} entries, one insert at a time (ns unless noted), allocator: {}",
        alloc_switch::name()
    );
    println!("{:<28}{:>14}{:>14}", "", runs[0].name, runs[1].name);
    let sorted: Vec<Vec<u32>> = runs
        .iter()
        .map(|r| {
            let mut s = r.lat_ns.clone();
            s.sort_unstable();
            s
        })
        .collect();
    let row = |label: &str, f: &dyn Fn(usize) -> String| {
        println!("{label:<28}{:>14}{:>14}", f(0), f(1));
    };
    row("total (ms)", &|i| format!("{:.0}", runs[i].total_ms));
    row("mean", &|i| {
        format!("{:.0}", runs[i].total_ms * 1e6 / n as f64)
    });
    for (label, p) in [
        ("p50", 0.5),
        ("p99", 0.99),
        ("p99.9", 0.999),
        ("p99.99", 0.9999),
    ] {
        row(label, &|i| runs[i].pct(&sorted[i], p).to_string());
    }
    row("max", &|i| sorted[i].last().unwrap().to_string());
    let cpu_sorted: Vec<Vec<u32>> = runs
        .iter()
        .map(|r| {
            let mut s = r.cpu_ns.clone();
            s.sort_unstable();
            s
        })
        .collect();
    row("cpu p99.9", &|i| {
        runs[i].pct(&cpu_sorted[i], 0.999).to_string()
    });
    row("cpu max", &|i| cpu_sorted[i].last().unwrap().to_string());
    row("cpu > 100 us", &|i| {
        cpu_sorted[i]
            .iter()
            .filter(|&&d| d > 100_000)
            .count()
            .to_string()
    });
    // Slow for real only if slow on both clocks: wall-only is preemption,
    // cpu-only is the thread clock's coarse accounting.
    let both = |i: usize| -> Vec<u32> {
        runs[i]
            .lat_ns
            .iter()
            .zip(&runs[i].cpu_ns)
            .map(|(&w, &c)| w.min(c))
            .collect()
    };
    row("min(wall,cpu) max", &|i| {
        both(i).iter().max().unwrap().to_string()
    });
    row("min(wall,cpu) > 100 us", &|i| {
        both(i).iter().filter(|&&d| d > 100_000).count().to_string()
    });
    row("cpu max at a resize", &|i| {
        runs[i]
            .resize_at
            .iter()
            .map(|&j| runs[i].cpu_ns[j])
            .max()
            .unwrap_or(0)
            .to_string()
    });
    row("inserts > 100 us", &|i| {
        sorted[i]
            .iter()
            .filter(|&&d| d > 100_000)
            .count()
            .to_string()
    });
    row("resizes", &|i| runs[i].resize_at.len().to_string());
    row("max at a resize", &|i| {
        runs[i]
            .resize_at
            .iter()
            .map(|&j| runs[i].lat_ns[j])
            .max()
            .unwrap_or(0)
            .to_string()
    });
    row("max elsewhere", &|i| {
        let resize: std::collections::HashSet<usize> = runs[i].resize_at.iter().copied().collect();
        let m = runs[i]
            .lat_ns
            .iter()
            .enumerate()
            .filter(|(j, _)| !resize.contains(j))
            .map(|(_, &d)| d)
            .max()
            .unwrap_or(0);
        m.to_string()
    });
    // Where the slowest inserts of ours happened, to tell resizes from
    // scheduler noise (this machine has two shared cores).
    let mut worst: Vec<(u32, usize)> = runs[0]
        .lat_ns
        .iter()
        .enumerate()
        .map(|(j, &d)| (d, j))
        .collect();
    worst.sort_unstable_by(|a, b| b.cmp(a));
    println!("ferrokey's 5 slowest inserts (wall ns / cpu ns @ index):");
    for (d, j) in worst.iter().take(5) {
        let near = runs[0].resize_at.contains(j);
        let c = runs[0].cpu_ns[*j];
        println!(
            "  {d:>10} / {c:>10} @ {j}{}",
            if near { "  (started a resize)" } else { "" }
        );
    }
    let mut worst: Vec<(u32, usize)> = runs[0]
        .cpu_ns
        .iter()
        .enumerate()
        .map(|(j, &d)| (d, j))
        .collect();
    worst.sort_unstable_by(|a, b| b.cmp(a));
    println!("ferrokey's 5 most CPU-expensive inserts (cpu ns / wall ns @ index):");
    for (c, j) in worst.iter().take(5) {
        let d = runs[0].lat_ns[*j];
        let ev = EVENTS.with(|e| e.borrow()[*j]);
        let f = FAULTS.with(|f| {
            f.borrow()
                .get(*j)
                .map(|f| format!("  {} page faults, {} switches", f >> 4, f & 15))
        });
        println!("  {c:>10} / {d:>10} @ {j}  {ev:?}{}", f.unwrap_or_default());
    }
    FAULTS.with(|f| {
        let f = f.borrow();
        if f.is_empty() {
            return;
        }
        let total: u64 = f.iter().map(|&x| u64::from(x >> 4)).sum();
        let slow = |j: usize| runs[0].cpu_ns[j].min(runs[0].lat_ns[j]) > 100_000;
        let (mut slow_n, mut slow_faulting, mut slow_switched) = (0, 0, 0);
        for (j, &x) in f.iter().enumerate() {
            if slow(j) {
                slow_n += 1;
                slow_faulting += usize::from(x >> 4 > 0);
                slow_switched += usize::from(x & 15 > 0);
            }
        }
        println!(
            "page faults in inserts: {total} ({} inserts faulted); of the {slow_n} inserts > 100 us on both clocks, {slow_faulting} faulted, {slow_switched} were switched out",
            f.iter().filter(|&&x| x >> 4 > 0).count()
        );
    });
    // Slow inserts by what they did.
    EVENTS.with(|e| {
        let e = e.borrow();
        let f = FAULTS.with(|f| f.borrow().clone());
        // count, cpu > 100 us, min(wall, cpu) > 100 us, cpu max, page faults
        type Row = (usize, usize, usize, u32, u64);
        let mut by: std::collections::BTreeMap<String, Row> = Default::default();
        for (j, ev) in e.iter().enumerate() {
            let c = runs[0].cpu_ns[j];
            let s = by.entry(format!("{ev:?}")).or_default();
            s.0 += 1;
            s.1 += usize::from(c > 100_000);
            s.2 += usize::from(c.min(runs[0].lat_ns[j]) > 100_000);
            s.3 = s.3.max(c);
            s.4 += f.get(j).map_or(0, |&x| u64::from(x >> 4));
        }
        println!(
            "ferrokey inserts by event: count / cpu > 100 us / both > 100 us / cpu max ns{}",
            if f.is_empty() { "" } else { " / page faults" }
        );
        for (k, (n, slow, both, max, faults)) in by {
            let faults = if f.is_empty() {
                String::new()
            } else {
                format!(" {faults:>10}")
            };
            println!("  {k:<12} {n:>10} {slow:>6} {both:>6} {max:>12}{faults}");
        }
    });
    println!(
        "control ({n} times {mean_cpu} ns of in-cache lookups, timed the same way): cpu max {} ns, min(wall,cpu) max {} ns, {} above 100 us on both clocks",
        control.0, control.1, control.2
    );
}
