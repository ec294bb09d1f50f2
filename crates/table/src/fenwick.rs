//! A Fenwick (binary indexed) tree of per-slot entry counts.
//!
//! [`KvStore`](crate::KvStore) keeps one count per cluster slot (16384 of
//! them). Picking a random entry uniformly means picking a slot with a
//! probability proportional to its size, and a SCAN has to jump over empty
//! slots; both reduce to "which slot holds the n-th entry when the slots are
//! laid end to end", which this tree answers in O(log n), as it answers prefix
//! sums and updates.

/// Prefix sums over `n` counters, indexed `0..n`.
pub(crate) struct Fenwick {
    /// 1-based: `tree[i]` sums the counters `i - lowbit(i) .. i` (0-based,
    /// end exclusive). `tree[0]` is unused.
    tree: Box<[u64]>,
    total: u64,
}

#[inline]
fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl Fenwick {
    /// `n` counters, all zero.
    pub(crate) fn new(n: usize) -> Self {
        Fenwick {
            tree: vec![0; n + 1].into_boxed_slice(),
            total: 0,
        }
    }

    /// Number of counters.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.tree.len() - 1
    }

    /// Sum of all counters.
    #[inline]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Adds `delta` to counter `i`. A counter never goes below zero (the
    /// callers only remove what they added); debug builds check it.
    pub(crate) fn add(&mut self, i: usize, delta: i64) {
        debug_assert!(i < self.len());
        self.total = self.total.wrapping_add_signed(delta);
        let mut j = i + 1;
        while j < self.tree.len() {
            debug_assert!(delta >= 0 || self.tree[j] >= delta.unsigned_abs());
            self.tree[j] = self.tree[j].wrapping_add_signed(delta);
            j += lowbit(j);
        }
    }

    /// Sum of counters `0..=i`.
    pub(crate) fn prefix(&self, i: usize) -> u64 {
        debug_assert!(i < self.len());
        let mut sum = 0u64;
        let mut j = i + 1;
        while j > 0 {
            sum += self.tree[j];
            j -= lowbit(j);
        }
        sum
    }

    /// The counter holding the `rank`-th unit (1-based) when the counters are
    /// laid end to end: the smallest `i` with `prefix(i) >= rank`.
    /// `rank` must be in `1..=total()`.
    pub(crate) fn find(&self, rank: u64) -> usize {
        debug_assert!(rank >= 1 && rank <= self.total);
        let n = self.len();
        // Descend from the largest power of two not above n: at each step,
        // skip a whole subtree when its sum is still below the rank left.
        let mut pos = 0usize;
        let mut rem = rank;
        let mut step = if n == 0 { 0 } else { 1usize << n.ilog2() };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next] < rem {
                pos = next;
                rem -= self.tree[next];
            }
            step >>= 1;
        }
        // `pos` (1-based) is the last counter whose prefix is below the rank,
        // so the answer is counter pos + 1 (1-based), i.e. `pos` 0-based.
        pos.min(n.saturating_sub(1))
    }

    /// The first counter after `i` that is not zero, if any.
    pub(crate) fn next_non_zero(&self, i: usize) -> Option<usize> {
        let before = self.prefix(i);
        (before < self.total).then(|| self.find(before + 1))
    }

    /// Sets every counter to zero.
    pub(crate) fn clear(&mut self) {
        self.tree.fill(0);
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks every query against plain sums of `counts`.
    fn check(f: &Fenwick, counts: &[u64]) {
        let total: u64 = counts.iter().sum();
        assert_eq!(f.total(), total);
        let mut sum = 0;
        for (i, c) in counts.iter().enumerate() {
            sum += c;
            assert_eq!(f.prefix(i), sum, "prefix({i})");
        }
        let mut rank = 1;
        for (i, c) in counts.iter().enumerate() {
            for _ in 0..*c {
                assert_eq!(f.find(rank), i, "find({rank})");
                rank += 1;
            }
        }
        for i in 0..counts.len() {
            let expect = (i + 1..counts.len()).find(|&j| counts[j] > 0);
            assert_eq!(f.next_non_zero(i), expect, "next_non_zero({i})");
        }
    }

    #[test]
    fn matches_plain_sums_for_many_sizes() {
        // Sizes that are and are not powers of two, including 1.
        for n in [1usize, 2, 3, 5, 8, 13, 16, 31] {
            let mut f = Fenwick::new(n);
            let mut counts = vec![0u64; n];
            check(&f, &counts);
            // A deterministic pseudo-random walk of additions and removals.
            let mut x = 0x9e37_79b9_u64 ^ n as u64;
            for _ in 0..200 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x % n as u64) as usize;
                if x & 0x100 != 0 || counts[i] == 0 {
                    let d = (x >> 20) % 4 + 1;
                    counts[i] += d;
                    f.add(i, d as i64);
                } else {
                    counts[i] -= 1;
                    f.add(i, -1);
                }
                check(&f, &counts);
            }
            f.clear();
            check(&f, &vec![0; n]);
        }
    }

    #[test]
    fn find_on_cluster_sized_tree() {
        let mut f = Fenwick::new(16384);
        f.add(0, 2);
        f.add(9000, 1);
        f.add(16383, 5);
        assert_eq!(f.find(1), 0);
        assert_eq!(f.find(2), 0);
        assert_eq!(f.find(3), 9000);
        assert_eq!(f.find(4), 16383);
        assert_eq!(f.find(8), 16383);
        assert_eq!(f.next_non_zero(0), Some(9000));
        assert_eq!(f.next_non_zero(9000), Some(16383));
        assert_eq!(f.next_non_zero(16383), None);
        f.add(9000, -1);
        assert_eq!(f.next_non_zero(0), Some(16383));
        assert_eq!(f.prefix(16382), 2);
    }
}
