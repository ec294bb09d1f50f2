//! The ordered index of a large sorted set: an order-statistic B+tree of
//! `(score, member)` pairs, in safe Rust.
//!
//! Valkey uses a skiplist: one node per member with a random tower of
//! forward pointers and spans, ~40 bytes of pointers per member on top of
//! the member string, and a cache miss per level walked. Here the pairs are
//! packed into leaves of up to [`LEAF_BYTES`] bytes:
//!
//! ```text
//! leaf   [score f64 LE][varint member length][member bytes] ...
//! inner  children, the number of pairs under each child, and separators
//! ```
//!
//! so a 12-byte member costs 21 bytes in its leaf, and a lookup reads a few
//! contiguous buffers. Leaf buffers grow one allocator size class at a time
//! (not by doubling), so the bytes held track the bytes used whatever the
//! logical fill of the tree. Inner nodes keep the pair count of every child,
//! which gives rank queries, "the n-th pair" and range counts in O(log n).
//!
//! Separators follow the B+tree rule: `seps[i]` is a lower bound for every
//! pair under `children[i + 1]` and an exclusive upper bound for every pair
//! under `children[i]`. They are copies (a member may leave the tree while
//! its copy still separates two children; that is still a valid bound).
//!
//! Pairs compare by score, then member bytes (`memcmp`, then length), with
//! `-0` equal to `0` as Valkey's `<`/`==` comparisons have it. Scores are
//! never NaN.

use crate::keyspace::varint;
use std::cmp::Ordering;

/// Leaves are split above this many bytes (unless they hold a single pair).
pub const LEAF_BYTES: usize = 1024;
/// Inner nodes are split above this many children.
const MAX_CHILDREN: usize = 64;
/// An inner node below this many children is merged with a neighbour.
const MIN_CHILDREN: usize = MAX_CHILDREN / 4;
/// A leaf below this many bytes is merged with a neighbour when they fit.
const MIN_LEAF_BYTES: usize = LEAF_BYTES / 4;

/// How Valkey orders sorted-set members: by score, then by member bytes.
#[inline]
pub fn cmp_pair(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

// ---- leaf encoding ---------------------------------------------------------

/// (value, offset after it) of the varint at `off`.
#[inline]
fn get_varint(buf: &[u8], off: usize) -> (usize, usize) {
    let (v, n) = varint::read(&buf[off..]);
    (v, off + n)
}

/// Bytes a pair takes in a leaf.
#[inline]
fn entry_size(member: &[u8]) -> usize {
    8 + varint::len(member.len()) + member.len()
}

/// The pair at `off`: (score, member, offset of the next pair).
#[inline]
fn entry(buf: &[u8], off: usize) -> (f64, &[u8], usize) {
    let mut sb = [0u8; 8];
    sb.copy_from_slice(&buf[off..off + 8]);
    let (len, start) = get_varint(buf, off + 8);
    (
        f64::from_le_bytes(sb),
        &buf[start..start + len],
        start + len,
    )
}

/// Inserts a pair at byte offset `off`, growing the buffer one allocator
/// size class at a time (a doubling `Vec` would hold up to twice the bytes).
fn leaf_insert_at(buf: &mut Vec<u8>, off: usize, score: f64, member: &[u8]) {
    let size = entry_size(member);
    let need = buf.len() + size;
    if need > buf.capacity() {
        let target = crate::alloc::alloc_size(need).max(need);
        buf.reserve_exact(target - buf.len());
    }
    let old = buf.len();
    buf.resize(need, 0);
    buf.copy_within(off..old, off + size);
    buf[off..off + 8].copy_from_slice(&score.to_le_bytes());
    let n = varint::write(&mut buf[off + 8..], member.len());
    buf[off + 8 + n..off + size].copy_from_slice(member);
}

/// Gives memory back when a leaf shrank well below its allocation.
fn leaf_maybe_shrink(buf: &mut Vec<u8>) {
    if buf.len() * 3 < buf.capacity() * 2 {
        buf.shrink_to(crate::alloc::alloc_size(buf.len()));
    }
}

/// Number of pairs in a leaf.
fn leaf_count(buf: &[u8]) -> usize {
    let (mut off, mut n) = (0, 0);
    while off < buf.len() {
        off = entry(buf, off).2;
        n += 1;
    }
    n
}

/// Byte offset of the `n`-th pair (or the end).
fn leaf_offset(buf: &[u8], n: usize) -> usize {
    let mut off = 0;
    for _ in 0..n {
        if off >= buf.len() {
            break;
        }
        off = entry(buf, off).2;
    }
    off
}

/// Where a pair would go in a leaf: (index, byte offset, already there).
fn leaf_search(buf: &[u8], score: f64, member: &[u8]) -> (usize, usize, bool) {
    let (mut off, mut i) = (0, 0);
    while off < buf.len() {
        let (s, m, next) = entry(buf, off);
        match cmp_pair(s, m, score, member) {
            Ordering::Less => {}
            Ordering::Equal => return (i, off, true),
            Ordering::Greater => return (i, off, false),
        }
        off = next;
        i += 1;
    }
    (i, off, false)
}

// ---- nodes -----------------------------------------------------------------

/// A separator: a copy of a pair bounding two children.
#[derive(Clone)]
struct Sep {
    score: f64,
    member: Box<[u8]>,
}

impl Sep {
    fn new(score: f64, member: &[u8]) -> Sep {
        Sep {
            score,
            member: member.into(),
        }
    }

    /// Whether the separator is <= the pair.
    #[inline]
    fn le(&self, score: f64, member: &[u8]) -> bool {
        cmp_pair(self.score, &self.member, score, member) != Ordering::Greater
    }
}

#[derive(Clone)]
enum Node {
    Leaf(Vec<u8>),
    Inner(Box<Inner>),
}

#[derive(Clone)]
struct Inner {
    children: Vec<Node>,
    /// Pairs under each child.
    counts: Vec<usize>,
    /// `children.len() - 1` separators.
    seps: Vec<Sep>,
}

/// Where an insert put the pair in its leaf, for the split heuristic.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placed {
    Front,
    Back,
    Middle,
}

impl Inner {
    /// The child a pair belongs to: the number of separators <= it.
    #[inline]
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        self.seps.partition_point(|s| s.le(score, member))
    }

    fn before(&self, i: usize) -> usize {
        self.counts[..i].iter().sum()
    }

    /// Child `i` grew: split it, until every piece fits (nothing cleverer
    /// such as moving pairs to a neighbour: leaf buffers are sized to their
    /// content anyway, so a half-full leaf costs little).
    fn fix_overflow(&mut self, i: usize, placed: Placed) {
        if self.split_child(i, placed) {
            self.fix_overflow(i + 1, Placed::Middle);
            self.fix_overflow(i, Placed::Middle);
        }
    }

    /// Splits child `i` in two if it is too big; true if it did.
    fn split_child(&mut self, i: usize, placed: Placed) -> bool {
        let last = i + 1 == self.children.len();
        let split = match &mut self.children[i] {
            Node::Leaf(buf) => {
                if buf.len() <= LEAF_BYTES {
                    return false;
                }
                let n = self.counts[i];
                if n < 2 {
                    return false;
                }
                // Ascending (or descending) inserts: keep the full leaf full
                // and start a new one, instead of leaving two half leaves.
                let at = match placed {
                    Placed::Back if last => n - 1,
                    Placed::Front if i == 0 => 1,
                    _ => {
                        let (mut off, mut k) = (0, 0);
                        while off < buf.len() / 2 {
                            off = entry(buf, off).2;
                            k += 1;
                        }
                        k.clamp(1, n - 1)
                    }
                };
                let off = leaf_offset(buf, at);
                let right = buf.split_off(off);
                buf.shrink_to(crate::alloc::alloc_size(buf.len()));
                let (s, m, _) = entry(&right, 0);
                let sep = Sep::new(s, m);
                (Node::Leaf(right), n - at, sep)
            }
            Node::Inner(child) => {
                if child.children.len() <= MAX_CHILDREN {
                    return false;
                }
                let mid = child.children.len() / 2;
                let children = child.children.split_off(mid);
                let counts = child.counts.split_off(mid);
                let seps = child.seps.split_off(mid);
                let Some(up) = child.seps.pop() else {
                    return false;
                };
                let moved: usize = counts.iter().sum();
                (
                    Node::Inner(Box::new(Inner {
                        children,
                        counts,
                        seps,
                    })),
                    moved,
                    up,
                )
            }
        };
        let (node, moved, sep) = split;
        self.counts[i] -= moved;
        self.children.insert(i + 1, node);
        self.counts.insert(i + 1, moved);
        self.seps.insert(i, sep);
        true
    }

    /// Drops child `i` (it holds nothing any more).
    fn remove_child(&mut self, i: usize) {
        self.children.remove(i);
        self.counts.remove(i);
        if !self.seps.is_empty() {
            self.seps.remove(i.min(self.seps.len() - 1));
        }
    }

    fn is_small(&self, i: usize) -> bool {
        match &self.children[i] {
            Node::Leaf(buf) => buf.len() < MIN_LEAF_BYTES,
            Node::Inner(n) => n.children.len() < MIN_CHILDREN,
        }
    }

    /// Child `i` shrank: drop it if empty, else merge it with a neighbour
    /// when it became small (or even out two inner nodes).
    fn fix_underflow(&mut self, i: usize) {
        if self.counts[i] == 0 {
            self.remove_child(i);
            return;
        }
        if !self.is_small(i) || self.children.len() < 2 {
            return;
        }
        // Prefer the right neighbour, as with ascending deletes (pops) the
        // left one is usually gone.
        let (a, b) = if i + 1 < self.children.len() {
            (i, i + 1)
        } else {
            (i - 1, i)
        };
        self.merge_or_balance(a, b);
    }

    /// Merges children `a` and `a + 1` if they fit in one node; otherwise
    /// (inner nodes only) moves children so both have about half.
    fn merge_or_balance(&mut self, a: usize, b: usize) {
        debug_assert_eq!(a + 1, b);
        let (left, right) = self.children.split_at_mut(b);
        match (&mut left[a], &mut right[0]) {
            (Node::Leaf(l), Node::Leaf(r)) => {
                if l.len() + r.len() > LEAF_BYTES {
                    return;
                }
                if l.capacity() < l.len() + r.len() {
                    let target = crate::alloc::alloc_size(l.len() + r.len());
                    l.reserve_exact(target - l.len());
                }
                l.extend_from_slice(r);
            }
            (Node::Inner(l), Node::Inner(r)) => {
                let total = l.children.len() + r.children.len();
                if total > MAX_CHILDREN {
                    // Even them out; the separator rotates through here.
                    let want = total / 2;
                    let sep = self.seps[a].clone();
                    if l.children.len() < want {
                        let k = want - l.children.len();
                        let mut moved = 0;
                        l.seps.push(sep);
                        for _ in 0..k {
                            l.children.push(r.children.remove(0));
                            let c = r.counts.remove(0);
                            l.counts.push(c);
                            moved += c;
                            l.seps.push(r.seps.remove(0));
                        }
                        // The last separator pushed becomes the parent's.
                        if let Some(up) = l.seps.pop() {
                            self.seps[a] = up;
                        }
                        self.counts[a] += moved;
                        self.counts[b] -= moved;
                    } else if r.children.len() < want {
                        let k = want - r.children.len();
                        let mut moved = 0;
                        r.seps.insert(0, sep);
                        for _ in 0..k {
                            if let (Some(c), Some(n)) = (l.children.pop(), l.counts.pop()) {
                                r.children.insert(0, c);
                                r.counts.insert(0, n);
                                moved += n;
                            }
                            if let Some(s) = l.seps.pop() {
                                r.seps.insert(0, s);
                            }
                        }
                        let up = r.seps.remove(0);
                        self.seps[a] = up;
                        self.counts[a] -= moved;
                        self.counts[b] += moved;
                    }
                    return;
                }
                let sep = self.seps[a].clone();
                l.seps.push(sep);
                l.seps.append(&mut r.seps);
                l.children.append(&mut r.children);
                l.counts.append(&mut r.counts);
            }
            // Siblings are always at the same depth.
            _ => return,
        }
        self.counts[a] += self.counts[b];
        self.children.remove(b);
        self.counts.remove(b);
        self.seps.remove(a);
    }
}

// ---- the tree --------------------------------------------------------------

/// An order-statistic B+tree of `(score, member)` pairs, each member once.
#[derive(Clone)]
pub struct Tree {
    root: Node,
    len: usize,
}

impl Default for Tree {
    fn default() -> Self {
        Tree::new()
    }
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tree(len {})", self.len)
    }
}

impl Tree {
    pub fn new() -> Tree {
        Tree {
            root: Node::Leaf(Vec::new()),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds a pair that is not in the tree (a member already present with
    /// another score must be removed first).
    pub fn insert(&mut self, score: f64, member: &[u8]) {
        fn ins(node: &mut Node, score: f64, member: &[u8]) -> (Placed, bool) {
            match node {
                Node::Leaf(buf) => {
                    let (_, off, found) = leaf_search(buf, score, member);
                    if found {
                        return (Placed::Middle, false);
                    }
                    let placed = if off == buf.len() {
                        Placed::Back
                    } else if off == 0 {
                        Placed::Front
                    } else {
                        Placed::Middle
                    };
                    leaf_insert_at(buf, off, score, member);
                    (placed, true)
                }
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    let (placed, added) = ins(&mut n.children[i], score, member);
                    if added {
                        n.counts[i] += 1;
                        n.fix_overflow(i, placed);
                    }
                    (placed, added)
                }
            }
        }
        let (placed, added) = ins(&mut self.root, score, member);
        if !added {
            return;
        }
        self.len += 1;
        let overflow = match &self.root {
            Node::Leaf(buf) => buf.len() > LEAF_BYTES && self.len >= 2,
            Node::Inner(n) => n.children.len() > MAX_CHILDREN,
        };
        if overflow {
            let old = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let mut top = Inner {
                children: vec![old],
                counts: vec![self.len],
                seps: Vec::new(),
            };
            top.fix_overflow(0, placed);
            self.root = Node::Inner(Box::new(top));
        }
    }

    /// A root with one child is replaced by the child.
    fn collapse_root(&mut self) {
        loop {
            let Node::Inner(n) = &mut self.root else {
                return;
            };
            if n.children.len() > 1 {
                return;
            }
            match n.children.pop() {
                Some(child) => self.root = child,
                None => {
                    self.root = Node::Leaf(Vec::new());
                    return;
                }
            }
        }
    }

    /// Removes a pair; false if it was not there.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        fn rem(node: &mut Node, score: f64, member: &[u8]) -> bool {
            match node {
                Node::Leaf(buf) => {
                    let (_, off, found) = leaf_search(buf, score, member);
                    if found {
                        let end = entry(buf, off).2;
                        buf.drain(off..end);
                        leaf_maybe_shrink(buf);
                    }
                    found
                }
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    let found = rem(&mut n.children[i], score, member);
                    if found {
                        n.counts[i] -= 1;
                        n.fix_underflow(i);
                    }
                    found
                }
            }
        }
        let found = rem(&mut self.root, score, member);
        if found {
            self.len -= 1;
            self.collapse_root();
        }
        found
    }

    /// 0-based rank of a pair, if present.
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        let mut node = &self.root;
        let mut rank = 0;
        loop {
            match node {
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    rank += n.before(i);
                    node = &n.children[i];
                }
                Node::Leaf(buf) => {
                    let (i, _, found) = leaf_search(buf, score, member);
                    return found.then_some(rank + i);
                }
            }
        }
    }

    /// The pair at `rank` (0 = lowest).
    pub fn get(&self, rank: usize) -> Option<(f64, &[u8])> {
        if rank >= self.len {
            return None;
        }
        let mut node = &self.root;
        let mut r = rank;
        loop {
            match node {
                Node::Inner(n) => {
                    let mut i = 0;
                    while i + 1 < n.counts.len() && r >= n.counts[i] {
                        r -= n.counts[i];
                        i += 1;
                    }
                    node = &n.children[i];
                }
                Node::Leaf(buf) => {
                    let off = leaf_offset(buf, r);
                    if off >= buf.len() {
                        return None;
                    }
                    let (s, m, _) = entry(buf, off);
                    return Some((s, m));
                }
            }
        }
    }

    /// The number of leading pairs for which `pred` holds; `pred` must be
    /// true for a prefix of the order and false after it (a "below the
    /// range" test). Then it is the rank of the first pair past the prefix.
    pub fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut node = &self.root;
        let mut rank = 0;
        loop {
            match node {
                Node::Inner(n) => {
                    // Children before the first separator failing `pred`
                    // hold only pairs below it, so only pairs passing.
                    let j = n.seps.partition_point(|s| pred(s.score, &s.member));
                    rank += n.before(j);
                    node = &n.children[j];
                }
                Node::Leaf(buf) => {
                    let mut off = 0;
                    while off < buf.len() {
                        let (s, m, next) = entry(buf, off);
                        if !pred(s, m) {
                            break;
                        }
                        rank += 1;
                        off = next;
                    }
                    return rank;
                }
            }
        }
    }

    /// Calls `f` with the pairs from rank `from` on, ascending (or
    /// descending when `reverse`, from `from` down to rank 0), until it
    /// returns false.
    pub fn walk(&self, from: usize, reverse: bool, mut f: impl FnMut(f64, &[u8]) -> bool) {
        if from >= self.len {
            return;
        }
        if reverse {
            let mut offs = Vec::new();
            walk_rev(&self.root, from, &mut offs, &mut f);
        } else {
            walk_fwd(&self.root, from, &mut f);
        }
    }

    /// Removes the pairs of ranks `start..start + count`, calling `f` with
    /// each (ascending).
    pub fn remove_range(&mut self, start: usize, count: usize, mut f: impl FnMut(f64, &[u8])) {
        let count = count.min(self.len.saturating_sub(start));
        if count == 0 {
            return;
        }
        if count == self.len {
            // Everything: visit, then start over.
            walk_fwd(&self.root, 0, &mut |s, m| {
                f(s, m);
                true
            });
            *self = Tree::new();
            return;
        }
        remove_range(&mut self.root, start, count, &mut f);
        self.len -= count;
        self.collapse_root();
    }

    /// Bytes held in the allocator by the tree (exact: visits every node).
    pub fn memory_usage(&self) -> usize {
        fn node_bytes(n: &Node) -> usize {
            match n {
                Node::Leaf(buf) => crate::alloc::alloc_size(buf.capacity()),
                Node::Inner(inner) => {
                    inner_bytes(inner) + inner.children.iter().map(node_bytes).sum::<usize>()
                }
            }
        }
        node_bytes(&self.root)
    }

    /// Bytes held, estimated from the leftmost leaves holding at least
    /// `samples` pairs (O(samples + depth)), like Valkey's sampled
    /// `objectComputeSize`.
    pub fn memory_estimate(&self, samples: usize) -> usize {
        if self.len == 0 {
            return 0;
        }
        // Walk down the leftmost path, charging each inner node visited as
        // representative of its level.
        let mut bytes_per_pair_inner = 0.0;
        let mut node = &self.root;
        while let Node::Inner(n) = node {
            bytes_per_pair_inner +=
                inner_bytes(n) as f64 / n.counts.iter().sum::<usize>().max(1) as f64;
            node = &n.children[0];
        }
        // Then the leftmost leaves.
        let (mut leaf_bytes, mut leaf_pairs) = (0usize, 0usize);
        sample_leaves(&self.root, samples.max(1), &mut leaf_bytes, &mut leaf_pairs);
        let per_pair = leaf_bytes as f64 / leaf_pairs.max(1) as f64 + bytes_per_pair_inner;
        (per_pair * self.len as f64) as usize
    }

    /// Checks every structural invariant (tests).
    #[cfg(test)]
    pub fn check(&self) {
        fn chk(
            n: &Node,
            lo: Option<(f64, &[u8])>,
            hi: Option<(f64, &[u8])>,
            depth: usize,
            leaf_depth: &mut Option<usize>,
        ) -> usize {
            match n {
                Node::Leaf(buf) => {
                    match leaf_depth {
                        Some(d) => assert_eq!(*d, depth, "leaves at different depths"),
                        None => *leaf_depth = Some(depth),
                    }
                    let mut off = 0;
                    let mut prev: Option<(f64, Vec<u8>)> = None;
                    let mut count = 0;
                    while off < buf.len() {
                        let (s, m, next) = entry(buf, off);
                        if let Some((ps, pm)) = &prev {
                            assert_eq!(cmp_pair(*ps, pm, s, m), Ordering::Less);
                        }
                        if let Some((ls, lm)) = lo {
                            assert_ne!(cmp_pair(ls, lm, s, m), Ordering::Greater);
                        }
                        if let Some((hs, hm)) = hi {
                            assert_eq!(cmp_pair(s, m, hs, hm), Ordering::Less);
                        }
                        prev = Some((s, m.to_vec()));
                        off = next;
                        count += 1;
                    }
                    assert_eq!(off, buf.len());
                    count
                }
                Node::Inner(inner) => {
                    assert_eq!(inner.children.len(), inner.counts.len());
                    assert_eq!(inner.children.len(), inner.seps.len() + 1);
                    assert!(inner.children.len() <= MAX_CHILDREN);
                    let mut total = 0;
                    for (i, c) in inner.children.iter().enumerate() {
                        let l = if i == 0 {
                            lo
                        } else {
                            Some((inner.seps[i - 1].score, &inner.seps[i - 1].member[..]))
                        };
                        let h = if i == inner.seps.len() {
                            hi
                        } else {
                            Some((inner.seps[i].score, &inner.seps[i].member[..]))
                        };
                        let got = chk(c, l, h, depth + 1, leaf_depth);
                        assert_eq!(got, inner.counts[i], "child count");
                        assert!(got > 0, "empty child");
                        total += got;
                    }
                    total
                }
            }
        }
        let mut d = None;
        let n = chk(&self.root, None, None, 0, &mut d);
        assert_eq!(n, self.len);
        if let Node::Inner(i) = &self.root {
            assert!(i.children.len() >= 2);
        }
    }

    /// Number of leaves (tests, tuning).
    #[cfg(test)]
    fn leaves(&self) -> usize {
        fn lv(n: &Node) -> usize {
            match n {
                Node::Leaf(_) => 1,
                Node::Inner(i) => i.children.iter().map(lv).sum(),
            }
        }
        lv(&self.root)
    }
}

fn inner_bytes(n: &Inner) -> usize {
    use crate::alloc::alloc_size;
    use std::mem::size_of;
    alloc_size(size_of::<Inner>())
        + alloc_size(n.children.capacity() * size_of::<Node>())
        + alloc_size(n.counts.capacity() * size_of::<usize>())
        + alloc_size(n.seps.capacity() * size_of::<Sep>())
        + n.seps
            .iter()
            .map(|s| alloc_size(s.member.len()))
            .sum::<usize>()
}

fn sample_leaves(n: &Node, want: usize, bytes: &mut usize, pairs: &mut usize) {
    match n {
        Node::Leaf(buf) => {
            *bytes += crate::alloc::alloc_size(buf.capacity());
            *pairs += leaf_count(buf);
        }
        Node::Inner(inner) => {
            for c in &inner.children {
                if *pairs >= want {
                    return;
                }
                sample_leaves(c, want, bytes, pairs);
            }
        }
    }
}

fn walk_fwd(n: &Node, skip: usize, f: &mut dyn FnMut(f64, &[u8]) -> bool) -> bool {
    match n {
        Node::Leaf(buf) => {
            let mut off = leaf_offset(buf, skip);
            while off < buf.len() {
                let (s, m, next) = entry(buf, off);
                if !f(s, m) {
                    return false;
                }
                off = next;
            }
            true
        }
        Node::Inner(inner) => {
            let mut skip = skip;
            for (c, &cnt) in inner.children.iter().zip(&inner.counts) {
                if skip >= cnt {
                    skip -= cnt;
                    continue;
                }
                if !walk_fwd(c, skip, f) {
                    return false;
                }
                skip = 0;
            }
            true
        }
    }
}

/// Visits pairs from local rank `from` down to 0.
fn walk_rev(
    n: &Node,
    from: usize,
    offs: &mut Vec<usize>,
    f: &mut dyn FnMut(f64, &[u8]) -> bool,
) -> bool {
    match n {
        Node::Leaf(buf) => {
            offs.clear();
            let mut off = 0;
            while off < buf.len() && offs.len() <= from {
                offs.push(off);
                off = entry(buf, off).2;
            }
            for &o in offs.iter().rev() {
                let (s, m, _) = entry(buf, o);
                if !f(s, m) {
                    return false;
                }
            }
            true
        }
        Node::Inner(inner) => {
            // Find the child holding `from`, then go left from there.
            let mut i = 0;
            let mut r = from;
            while i + 1 < inner.counts.len() && r >= inner.counts[i] {
                r -= inner.counts[i];
                i += 1;
            }
            let r = r.min(inner.counts[i].saturating_sub(1));
            if !walk_rev(&inner.children[i], r, offs, f) {
                return false;
            }
            for j in (0..i).rev() {
                let last = inner.counts[j].saturating_sub(1);
                if !walk_rev(&inner.children[j], last, offs, f) {
                    return false;
                }
            }
            true
        }
    }
}

fn remove_range(n: &mut Node, start: usize, count: usize, f: &mut dyn FnMut(f64, &[u8])) {
    match n {
        Node::Leaf(buf) => {
            let a = leaf_offset(buf, start);
            let mut b = a;
            for _ in 0..count {
                if b >= buf.len() {
                    break;
                }
                let (s, m, next) = entry(buf, b);
                f(s, m);
                b = next;
            }
            buf.drain(a..b);
            leaf_maybe_shrink(buf);
        }
        Node::Inner(inner) => {
            let end = start + count;
            let mut pos = 0;
            // Indexes of the children touched, to fix them afterwards.
            let (mut first, mut last) = (usize::MAX, 0);
            for i in 0..inner.children.len() {
                let c = inner.counts[i];
                let lo = start.max(pos);
                let hi = end.min(pos + c);
                if lo < hi {
                    remove_range(&mut inner.children[i], lo - pos, hi - lo, f);
                    inner.counts[i] -= hi - lo;
                    first = first.min(i);
                    last = i;
                }
                pos += c;
                if pos >= end {
                    break;
                }
            }
            if first == usize::MAX {
                return;
            }
            // Drop emptied children (right to left keeps indexes valid);
            // only the two boundary children can be left non-empty.
            for i in (first..=last).rev() {
                if inner.counts[i] == 0 {
                    inner.remove_child(i);
                }
            }
            // Merge what became small around the hole.
            let mut i = first.min(inner.children.len().saturating_sub(1));
            let stop = (first + 2).min(inner.children.len());
            while i < stop && i < inner.children.len() {
                let before = inner.children.len();
                inner.fix_underflow(i);
                if inner.children.len() == before {
                    i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// A model key ordered like the tree (scores here are never -0).
    #[derive(Clone, Debug, PartialEq)]
    struct K(f64, Vec<u8>);
    impl Eq for K {}
    impl PartialOrd for K {
        fn partial_cmp(&self, o: &K) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for K {
        fn cmp(&self, o: &K) -> Ordering {
            cmp_pair(self.0, &self.1, o.0, &o.1)
        }
    }

    fn contents(t: &Tree) -> Vec<K> {
        let mut v = Vec::new();
        t.walk(0, false, |s, m| {
            v.push(K(s, m.to_vec()));
            true
        });
        v
    }

    #[test]
    fn orders_by_score_then_member() {
        let mut t = Tree::new();
        t.insert(2.0, b"b");
        t.insert(1.0, b"z");
        t.insert(2.0, b"a");
        t.insert(-0.0, b"m");
        t.insert(0.0, b"l");
        let got: Vec<_> = contents(&t).into_iter().map(|k| k.1).collect();
        assert_eq!(
            got,
            vec![
                b"l".to_vec(),
                b"m".to_vec(),
                b"z".to_vec(),
                b"a".to_vec(),
                b"b".to_vec()
            ]
        );
        assert_eq!(t.rank(2.0, b"a"), Some(3));
        assert_eq!(t.rank(2.0, b"c"), None);
        assert_eq!(t.get(4), Some((2.0, &b"b"[..])));
        assert!(t.remove(1.0, b"z"));
        assert!(!t.remove(1.0, b"z"));
        assert_eq!(t.len(), 4);
        t.check();
    }

    #[test]
    fn many_ascending_inserts_fill_leaves() {
        let mut t = Tree::new();
        for i in 0..20_000u32 {
            t.insert(f64::from(i), format!("member:{i:05}").as_bytes());
        }
        t.check();
        assert_eq!(t.len(), 20_000);
        // 23-byte pairs in 1024-byte leaves, split at the end: ~44 a leaf.
        assert!(t.leaves() < 20_000 / 40, "leaves {}", t.leaves());
        for i in (0..20_000u32).step_by(997) {
            let m = format!("member:{i:05}");
            assert_eq!(t.rank(f64::from(i), m.as_bytes()), Some(i as usize));
            assert_eq!(t.get(i as usize).map(|(s, _)| s), Some(f64::from(i)));
        }
        // Removing from the front (ZPOPMIN) keeps it valid.
        for i in 0..15_000u32 {
            assert!(t.remove(f64::from(i), format!("member:{i:05}").as_bytes()));
        }
        t.check();
        assert_eq!(t.len(), 5000);
        assert_eq!(t.get(0).map(|(s, _)| s), Some(15_000.0));
    }

    #[test]
    fn walks_both_ways_from_any_rank() {
        let mut t = Tree::new();
        for i in 0..3000u32 {
            t.insert(f64::from(i % 100), format!("{i}").as_bytes());
        }
        let all = contents(&t);
        for from in [0, 1, 43, 44, 1500, 2999] {
            let mut fwd = Vec::new();
            t.walk(from, false, |s, m| {
                fwd.push(K(s, m.to_vec()));
                fwd.len() < 100
            });
            assert_eq!(fwd[..], all[from..(from + 100).min(3000)]);
            let mut rev = Vec::new();
            t.walk(from, true, |s, m| {
                rev.push(K(s, m.to_vec()));
                true
            });
            let mut expect = all[..=from].to_vec();
            expect.reverse();
            assert_eq!(rev, expect);
        }
        t.walk(3000, false, |_, _| panic!("past the end"));
    }

    #[test]
    fn partition_point_counts_prefix() {
        let mut t = Tree::new();
        for i in 0..5000u32 {
            t.insert(f64::from(i / 10), format!("{i:04}").as_bytes());
        }
        assert_eq!(t.partition_point(|s, _| s < 0.0), 0);
        assert_eq!(t.partition_point(|s, _| s < 17.0), 170);
        assert_eq!(t.partition_point(|s, _| s <= 17.0), 180);
        assert_eq!(t.partition_point(|_, _| true), 5000);
        assert_eq!(
            t.partition_point(|s, m| s < 17.0 || (s == 17.0 && m < b"0175")),
            175
        );
    }

    #[test]
    fn remove_ranges_and_huge_members() {
        let mut t = Tree::new();
        let big = vec![b'x'; 5000];
        for i in 0..2000u32 {
            let mut m = format!("{i:05}").into_bytes();
            if i % 300 == 0 {
                m.extend_from_slice(&big);
            }
            t.insert(1.0, &m);
        }
        t.check();
        let mut removed = Vec::new();
        t.remove_range(100, 1500, |_, m| removed.push(m[..5].to_vec()));
        assert_eq!(removed.len(), 1500);
        assert_eq!(removed[0], b"00100");
        assert_eq!(removed[1499], b"01599");
        t.check();
        assert_eq!(t.len(), 500);
        assert_eq!(
            t.get(100).map(|(_, m)| m[..5].to_vec()),
            Some(b"01600".to_vec())
        );
        t.remove_range(0, 10_000, |_, _| {});
        assert!(t.is_empty());
        t.check();
    }

    #[test]
    fn memory_tracks_content() {
        let mut t = Tree::new();
        for i in 0..10_000u32 {
            t.insert(
                f64::from(i.wrapping_mul(2_654_435_761) % 10_007),
                format!("m{i:011}").as_bytes(),
            );
        }
        t.check();
        let exact = t.memory_usage();
        // 21-byte pairs; leaves sized to content plus inner nodes.
        assert!(exact < 10_000 * 27, "exact {exact}");
        assert!(exact > 10_000 * 21);
        let est = t.memory_estimate(5);
        assert!(
            est > exact / 2 && est < exact * 2,
            "est {est} exact {exact}"
        );
    }

    #[test]
    fn deep_trees_rebalance_inner_nodes() {
        // Three levels of inner nodes, then most pairs removed in a
        // scattered order and by ranges: merges and borrows between inner
        // nodes at every level.
        let n = 300_000u64;
        let key = |i: u64| {
            (
                f64::from((i % 1000) as u32),
                format!("{:08}", i.wrapping_mul(7919) % n),
            )
        };
        let mut t = Tree::new();
        for i in 0..n {
            let (s, m) = key(i);
            t.insert(s, m.as_bytes());
        }
        t.check();
        assert_eq!(t.len(), n as usize);
        let mut left = n as usize;
        for i in (0..n).filter(|i| i % 10 != 3) {
            let (s, m) = key(i.wrapping_mul(48_271) % n);
            if t.remove(s, m.as_bytes()) {
                left -= 1;
            }
            if i % 50_000 == 0 {
                t.check();
            }
        }
        t.check();
        assert_eq!(t.len(), left);
        let mut removed = 0;
        t.remove_range(left / 3, left / 3, |_, _| removed += 1);
        assert_eq!(removed, left / 3);
        t.check();
        let all = contents(&t);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        for (i, k) in all.iter().enumerate().step_by(101) {
            assert_eq!(t.rank(k.0, &k.1), Some(i));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8, u16),
        RemoveRange(u16, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<u8>(), any::<u16>()).prop_map(|(s, m)| Op::Insert(s % 16, m % 4000)),
            3 => (any::<u8>(), any::<u16>()).prop_map(|(s, m)| Op::Remove(s % 16, m % 4000)),
            1 => (any::<u16>(), any::<u16>()).prop_map(|(a, n)| Op::RemoveRange(a % 3000, n % 200)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn behaves_like_btreeset(ops in proptest::collection::vec(op(), 1..3000)) {
            let mut t = Tree::new();
            let mut model: BTreeSet<K> = BTreeSet::new();
            for o in ops {
                match o {
                    Op::Insert(s, m) => {
                        let k = K(f64::from(s), format!("{m}").repeat(usize::from(m % 7) + 1).into_bytes());
                        if !model.contains(&k) {
                            t.insert(k.0, &k.1);
                            model.insert(k);
                        }
                    }
                    Op::Remove(s, m) => {
                        let k = K(f64::from(s), format!("{m}").repeat(usize::from(m % 7) + 1).into_bytes());
                        prop_assert_eq!(t.remove(k.0, &k.1), model.remove(&k));
                    }
                    Op::RemoveRange(a, n) => {
                        let v: Vec<K> = model.iter().cloned().collect();
                        let a = usize::from(a);
                        let end = (a + usize::from(n)).min(v.len());
                        let mut got = Vec::new();
                        t.remove_range(a, usize::from(n), |s, m| got.push(K(s, m.to_vec())));
                        let want: Vec<K> = if a < end { v[a..end].to_vec() } else { Vec::new() };
                        for k in &want {
                            model.remove(k);
                        }
                        prop_assert_eq!(got, want);
                    }
                }
            }
            t.check();
            let v: Vec<K> = model.iter().cloned().collect();
            prop_assert_eq!(contents(&t), v.clone());
            for (i, k) in v.iter().enumerate().step_by(37) {
                prop_assert_eq!(t.rank(k.0, &k.1), Some(i));
                let g = t.get(i).map(|(s, m)| K(s, m.to_vec()));
                prop_assert_eq!(g.as_ref(), Some(k));
            }
        }
    }
}
