//! The ordered index of a large sorted set: an order-statistic B+tree of
//! `(score, member)` pairs whose leaves point at the members instead of
//! holding copies.
//!
//! Valkey uses a skiplist: one node per member with a random tower of
//! forward pointers and spans, ~40 bytes of pointers per member on top of
//! the member string, and a cache miss per level walked. Here a pair is 16
//! bytes in a leaf, the score and a pointer to the member's allocation in
//! the sorted set's index (a `Member`, keyspace/member.rs: varint length,
//! member bytes, score), so the member bytes exist once:
//!
//! ```text
//! leaf   [score f64][*Member] x up to LEAF_CAP, ordered
//! inner  children, the number of pairs under each child, and separators
//! ```
//!
//! The score sits in the leaf so that comparing pairs of different scores
//! (the common case) stays inside the leaf; the member bytes are read
//! through the pointer only to break score ties, to confirm a match and to
//! hand pairs out. Where members are read one after another (walks, binary
//! searches among equal scores) the next ones are prefetched so their cache
//! misses overlap, and a lookup that has the member's pointer (ZRANK, ZREM,
//! a score update) finds it among equal scores by scanning the leaf for the
//! pointer instead of comparing bytes.
//!
//! Leaves are fixed blocks of [`LEAF_CAP`] pairs (1 KiB, one allocator
//! bin): every leaf but a lone root is allocated at full size once and never
//! reallocated, so leaves freed by merges are the blocks later splits reuse.
//! (Leaves that grew one size class at a time left freed smaller blocks
//! lingering in the allocator's pages, and `realloc` shrinking in place made
//! the held size differ from the one accounted.) To keep fixed leaves well
//! filled under random inserts, a full leaf first hands pairs to a
//! neighbour with room and splits only when both are nearly full; inserts
//! at either end of the whole order start a new leaf and leave the full one
//! full. Inner nodes keep the pair count of every child, which gives rank
//! queries, "the n-th pair" and range counts in O(log n).
//!
//! Separators follow the B+tree rule: `seps[i]` is a lower bound for every
//! pair under `children[i + 1]` and an exclusive upper bound for every pair
//! under `children[i]`. They are copies (a member may leave the tree while
//! its copy still separates two children; that is still a valid bound), one
//! per leaf, so they cost little.
//!
//! Pairs compare by score, then member bytes (`memcmp`, then length), with
//! `-0` equal to `0` as Valkey's `<`/`==` comparisons have it. Scores are
//! never NaN.
//!
//! # Safety invariant
//!
//! Every pair's pointer is a live `Member` allocation, owned by the sorted
//! set's index, whose key bytes do not change while the pair is in the
//! tree. [`Tree::insert`] is `unsafe` with that contract; the owner removes a
//! pair from the tree ([`Tree::remove`], [`Tree::remove_range`], which hands
//! the pair out only once it is out of the tree) before it frees the member.
//! The tree itself never writes to nor frees a member.

use crate::keyspace::varint;
use std::cmp::Ordering;
use std::ptr::NonNull;

/// Pairs a leaf holds at most: 64 pairs of 16 bytes fill a 1 KiB bin.
pub const LEAF_CAP: usize = 64;
/// Inner nodes are split above this many children. Their vectors are
/// allocated once with room for one more (the transient overflow before the
/// split): 64 children and counts, 63 separators, all exact allocator bins.
const MAX_CHILDREN: usize = 63;
/// An inner node below this many children is merged with a neighbour.
const MIN_CHILDREN: usize = 16;
/// A leaf below this many pairs is merged with a neighbour, or takes pairs
/// from it when both do not fit in one.
const MIN_LEAF: usize = LEAF_CAP / 4;
/// A full leaf hands pairs to a neighbour only if that one has this much
/// room: moving fewer would buy a handful of inserts before the next move.
const MIN_ROOM: usize = LEAF_CAP / 8;
/// First capacity of a lone root leaf: a small set pays for what it holds.
const ROOT_MIN_CAP: usize = 4;

/// How Valkey orders sorted-set members: by score, then by member bytes.
#[inline]
pub fn cmp_pair(s1: f64, m1: &[u8], s2: f64, m2: &[u8]) -> Ordering {
    match s1.partial_cmp(&s2) {
        Some(Ordering::Equal) | None => m1.cmp(m2),
        Some(o) => o,
    }
}

/// The member bytes of a `Member` allocation, read in place: member.rs's
/// layout starts with the varint key length and the key (pinned by the
/// `member_key_reads_members_layout` test).
///
/// # Safety
/// `m` is the pointer of a live `Member` (`Member::as_ptr`) that stays
/// allocated, with its key unchanged, for `'a`.
#[inline]
pub unsafe fn member_key<'a>(m: NonNull<u8>) -> &'a [u8] {
    let p = m.as_ptr();
    // SAFETY: per the contract `p` starts a Member: a complete varint (the
    // key length) followed by that many key bytes, all in the allocation.
    unsafe {
        let (len, n) = varint::read_raw(p);
        std::slice::from_raw_parts(p.add(n), len)
    }
}

/// A pair in a leaf: the score and the member it orders.
#[derive(Clone, Copy)]
struct Pair {
    score: f64,
    m: NonNull<u8>,
}

impl Pair {
    /// The member bytes. Only for pairs held by the tree.
    #[inline]
    fn key(&self) -> &[u8] {
        // SAFETY: the tree invariant (module docs): a pair in the tree
        // points at a live member whose key does not change; `&self`
        // borrows the leaf, so the pair is still in it.
        unsafe { member_key(self.m) }
    }

    /// How this pair compares with `(score, key)` (tests).
    #[cfg(test)]
    fn cmp_to(&self, score: f64, key: &[u8]) -> Ordering {
        match self.score.partial_cmp(&score) {
            Some(Ordering::Equal) | None => self.key().cmp(key),
            Some(o) => o,
        }
    }
}

type Leaf = Vec<Pair>;

/// A leaf below the root: allocated at full size once, never reallocated.
fn new_leaf() -> Leaf {
    Vec::with_capacity(LEAF_CAP)
}

/// How many pairs ahead a walk asks for the members: they are scattered in
/// memory, and a caller doing real work per pair (formatting a score) would
/// otherwise leave no room for the CPU to overlap their cache misses.
const PREFETCH_AHEAD: usize = 4;

/// Hints the CPU to bring the cache line at `p` in; never faults.
#[inline(always)]
fn prefetch_bytes(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of the x86-64 baseline; a prefetch is only a hint
    // and does not access memory architecturally, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`prefetch_bytes`] of a pair's member.
#[inline(always)]
fn prefetch(p: &Pair) {
    prefetch_bytes(p.m.as_ptr().cast_const());
}

/// The number of leading pairs of `l` for which `below` holds (true for a
/// prefix, false after it). With `members_ahead`, each step also starts
/// loading the members of both pairs the next step may probe: when `below`
/// reads member bytes (score ties, lex ranges) their cache misses then
/// overlap instead of queueing up one per step.
#[inline]
fn leaf_partition(l: &[Pair], below: impl Fn(&Pair) -> bool, members_ahead: bool) -> usize {
    let (mut base, mut size) = (0usize, l.len());
    if size == 0 {
        return 0;
    }
    // Invariant: pairs before `base` are below, pairs from `base + size` on
    // are not.
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        let next = (size - half) / 2;
        if members_ahead && size - half > 1 {
            prefetch(&l[base + next]);
            prefetch(&l[mid + next]);
        }
        if below(&l[mid]) {
            base = mid;
        }
        size -= half;
    }
    base + usize::from(below(&l[base]))
}

/// When a search over separators loads member bytes ahead.
#[derive(Clone, Copy)]
enum Ahead {
    Never,
    Always,
    /// From the first separator with this score on (bytes are compared
    /// only on score ties).
    OnTie(f64),
}

/// [`leaf_partition`] over separators.
#[inline]
fn sep_partition(seps: &[Sep], below: impl Fn(&Sep) -> bool, ahead: Ahead) -> usize {
    let (mut base, mut size) = (0usize, seps.len());
    if size == 0 {
        return 0;
    }
    let mut on = matches!(ahead, Ahead::Always);
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        let next = (size - half) / 2;
        if on && size - half > 1 {
            prefetch_bytes(seps[base + next].member.as_ptr());
            prefetch_bytes(seps[mid + next].member.as_ptr());
        }
        if let Ahead::OnTie(score) = ahead {
            on |= seps[mid].score == score;
        }
        if below(&seps[mid]) {
            base = mid;
        }
        size -= half;
    }
    base + usize::from(below(&seps[base]))
}

/// Where `(score, key)` is (Ok) or would go (Err) in a leaf. Scores are
/// compared first, in the leaf; member bytes are read only within the run
/// of pairs sharing the score. `m`, the member's pointer when the caller
/// has it, finds the pair in a long run by a scan of the leaf itself, which
/// is cheaper than reading members scattered in memory.
#[inline]
fn leaf_search(l: &[Pair], score: f64, key: &[u8], m: Option<NonNull<u8>>) -> Result<usize, usize> {
    let a = leaf_partition(l, |p| p.score < score, false);
    let run = &l[a..];
    let run = &run[..leaf_partition(run, |p| p.score <= score, false)];
    if let Some(m) = m.filter(|_| run.len() > 2) {
        if let Some(i) = run.iter().position(|p| p.m == m) {
            return Ok(a + i);
        }
    }
    let i = leaf_partition(run, |p| p.key() < key, run.len() > 2);
    match run.get(i) {
        Some(p) if p.key() == key => Ok(a + i),
        _ => Err(a + i),
    }
}

fn leaf_bytes(l: &Leaf) -> usize {
    crate::alloc::alloc_size(l.capacity() * std::mem::size_of::<Pair>())
}

// ---- nodes -----------------------------------------------------------------

/// A separator: a copy of a pair bounding two children.
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

    /// A copy of a pair held by the tree.
    fn of(p: &Pair) -> Sep {
        Sep::new(p.score, p.key())
    }

    /// Whether the separator is <= the pair.
    #[inline]
    fn le(&self, score: f64, member: &[u8]) -> bool {
        cmp_pair(self.score, &self.member, score, member) != Ordering::Greater
    }

    fn duplicate(&self) -> Sep {
        Sep::new(self.score, &self.member)
    }
}

enum Node {
    Leaf(Leaf),
    Inner(Box<Inner>),
}

struct Inner {
    children: Vec<Node>,
    /// Pairs under each child.
    counts: Vec<usize>,
    /// `children.len() - 1` separators.
    seps: Vec<Sep>,
}

/// Where an insert put the pair, for the split heuristics: a new leaf at
/// the end (or start) of a node means ascending (descending) inserts, which
/// should leave full nodes behind rather than half ones.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placed {
    Front,
    Back,
    Middle,
}

impl Inner {
    fn empty() -> Inner {
        Inner {
            children: Vec::with_capacity(MAX_CHILDREN + 1),
            counts: Vec::with_capacity(MAX_CHILDREN + 1),
            seps: Vec::with_capacity(MAX_CHILDREN),
        }
    }

    fn with_child(child: Node, count: usize) -> Inner {
        let mut n = Inner::empty();
        n.children.push(child);
        n.counts.push(count);
        n
    }

    /// The child a pair belongs to: the number of separators <= it. Member
    /// bytes (behind a pointer each) are compared on score ties only, so
    /// they are loaded ahead from the first tie on.
    #[inline]
    fn child_for(&self, score: f64, member: &[u8]) -> usize {
        sep_partition(&self.seps, |s| s.le(score, member), Ahead::OnTie(score))
    }

    fn before(&self, i: usize) -> usize {
        self.counts[..i].iter().sum()
    }

    /// Puts a child at `at`, bounded from its neighbour by `sep` (below it
    /// when `at > 0`, above it when `at == 0`).
    fn insert_child(&mut self, at: usize, node: Node, count: usize, sep: Sep) {
        self.children.insert(at, node);
        self.counts.insert(at, count);
        self.seps.insert(at.saturating_sub(1), sep);
    }

    /// Pair counts of leaf children `i` (None if it is not a leaf).
    fn leaf_len(&self, i: usize) -> Option<usize> {
        match self.children.get(i) {
            Some(Node::Leaf(l)) => Some(l.len()),
            _ => None,
        }
    }

    /// Child `i` is a full leaf and a pair goes at `pos` in it: moves pairs
    /// to a neighbour or splits so that it fits, and says where it goes now
    /// (child, position).
    fn make_room(
        &mut self,
        i: usize,
        pos: usize,
        score: f64,
        key: &[u8],
    ) -> (usize, usize, Placed) {
        let last = i + 1 == self.children.len();
        if pos == LEAF_CAP && last {
            self.insert_child(i + 1, Node::Leaf(new_leaf()), 0, Sep::new(score, key));
            return (i + 1, 0, Placed::Back);
        }
        if pos == 0 && i == 0 {
            if let Node::Leaf(l) = &self.children[0] {
                let sep = Sep::of(&l[0]);
                self.insert_child(0, Node::Leaf(new_leaf()), 0, sep);
                return (0, 0, Placed::Front);
            }
        }
        // A neighbour with room takes about half of it.
        if let Some(n) = self.leaf_len(i + 1).filter(|&n| n + MIN_ROOM <= LEAF_CAP) {
            let k = (LEAF_CAP - n).div_ceil(2);
            let (a, b) = self.children.split_at_mut(i + 1);
            if let (Node::Leaf(l), Node::Leaf(r)) = (&mut a[i], &mut b[0]) {
                let at = l.len() - k;
                r.splice(0..0, l.drain(at..));
                self.seps[i] = Sep::of(&r[0]);
                self.counts[i] -= k;
                self.counts[i + 1] += k;
                return if pos <= at {
                    (i, pos, Placed::Middle)
                } else {
                    (i + 1, pos - at, Placed::Middle)
                };
            }
        }
        if let Some(n) = i
            .checked_sub(1)
            .and_then(|j| self.leaf_len(j))
            .filter(|&n| n + MIN_ROOM <= LEAF_CAP)
        {
            let k = (LEAF_CAP - n).div_ceil(2);
            let (a, b) = self.children.split_at_mut(i);
            if let (Node::Leaf(l), Node::Leaf(r)) = (&mut a[i - 1], &mut b[0]) {
                let before = l.len();
                l.extend(r.drain(..k));
                self.seps[i - 1] = Sep::of(&r[0]);
                self.counts[i - 1] += k;
                self.counts[i] -= k;
                return if pos <= k {
                    (i - 1, before + pos, Placed::Middle)
                } else {
                    (i, pos - k, Placed::Middle)
                };
            }
        }
        // Both neighbours (nearly) full: split in the middle.
        let mid = LEAF_CAP / 2;
        let Node::Leaf(l) = &mut self.children[i] else {
            return (i, pos, Placed::Middle);
        };
        let mut right = new_leaf();
        right.extend(l.drain(mid..));
        let sep = Sep::of(&right[0]);
        let moved = right.len();
        self.counts[i] -= moved;
        self.insert_child(i + 1, Node::Leaf(right), moved, sep);
        if pos <= mid {
            (i, pos, Placed::Middle)
        } else {
            (i + 1, pos - mid, Placed::Middle)
        }
    }

    /// Splits inner child `i` in two if it grew past [`MAX_CHILDREN`].
    fn fix_overflow(&mut self, i: usize, placed: Placed) {
        let last = i + 1 == self.children.len();
        let Node::Inner(c) = &mut self.children[i] else {
            return;
        };
        let len = c.children.len();
        if len <= MAX_CHILDREN {
            return;
        }
        let mid = match placed {
            Placed::Back if last => len - 1,
            Placed::Front if i == 0 => 1,
            _ => len / 2,
        };
        let mut right = Inner::empty();
        right.children.extend(c.children.drain(mid..));
        right.counts.extend(c.counts.drain(mid..));
        right.seps.extend(c.seps.drain(mid..));
        let Some(up) = c.seps.pop() else {
            return;
        };
        let moved: usize = right.counts.iter().sum();
        self.counts[i] -= moved;
        self.insert_child(i + 1, Node::Inner(Box::new(right)), moved, up);
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
            Node::Leaf(l) => l.len() < MIN_LEAF,
            Node::Inner(n) => n.children.len() < MIN_CHILDREN,
        }
    }

    /// Child `i` shrank: drop it if empty, else merge it with a neighbour
    /// when it became small (or even the two out).
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
    /// moves pairs or children so both have about half.
    fn merge_or_balance(&mut self, a: usize, b: usize) {
        debug_assert_eq!(a + 1, b);
        let (left, right) = self.children.split_at_mut(b);
        match (&mut left[a], &mut right[0]) {
            (Node::Leaf(l), Node::Leaf(r)) => {
                let total = l.len() + r.len();
                if total > LEAF_CAP {
                    let want = total / 2;
                    if l.len() < want {
                        let k = want - l.len();
                        l.extend(r.drain(..k));
                        self.counts[a] += k;
                        self.counts[b] -= k;
                    } else {
                        let k = l.len() - want;
                        let at = l.len() - k;
                        r.splice(0..0, l.drain(at..));
                        self.counts[a] -= k;
                        self.counts[b] += k;
                    }
                    self.seps[a] = Sep::of(&r[0]);
                    return;
                }
                l.extend_from_slice(r);
            }
            (Node::Inner(l), Node::Inner(r)) => {
                let total = l.children.len() + r.children.len();
                if total > MAX_CHILDREN {
                    // Even them out; the separator rotates through here.
                    let want = total / 2;
                    let sep = self.seps[a].duplicate();
                    if l.children.len() < want {
                        let k = want - l.children.len();
                        let moved: usize = r.counts[..k].iter().sum();
                        l.seps.push(sep);
                        l.children.extend(r.children.drain(..k));
                        l.counts.extend(r.counts.drain(..k));
                        l.seps.extend(r.seps.drain(..k));
                        // The last separator taken becomes the parent's.
                        if let Some(up) = l.seps.pop() {
                            self.seps[a] = up;
                        }
                        self.counts[a] += moved;
                        self.counts[b] -= moved;
                    } else if r.children.len() < want {
                        let k = want - r.children.len();
                        let at = l.children.len() - k;
                        let moved: usize = l.counts[at..].iter().sum();
                        r.seps.insert(0, sep);
                        r.children.splice(0..0, l.children.drain(at..));
                        r.counts.splice(0..0, l.counts.drain(at..));
                        // Separators between the moved children, and the
                        // one above them, which goes up.
                        r.seps.splice(0..0, l.seps.drain(at..));
                        if let Some(up) = l.seps.pop() {
                            self.seps[a] = up;
                        }
                        self.counts[a] -= moved;
                        self.counts[b] += moved;
                    }
                    return;
                }
                let sep = self.seps[a].duplicate();
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

/// An order-statistic B+tree of `(score, member)` pairs, each member once,
/// pointing at members it does not own (see the module's safety invariant).
pub struct Tree {
    root: Node,
    len: usize,
}

// SAFETY: the pointers lead to members owned by the same sorted set's index,
// which moves along with the tree (both live in one `Big`), so a thread the
// tree is sent to (lazy free) owns the targets as well; the tree has no
// thread-bound state.
unsafe impl Send for Tree {}

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

    /// Adds the pair `(score, member m)`.
    ///
    /// # Safety
    /// `m` is `Member::as_ptr` of a live member whose key is not in the
    /// tree; the member stays allocated, its key unchanged, until the pair
    /// leaves the tree ([`Tree::remove`], [`Tree::remove_range`]) or the
    /// tree is dropped.
    pub unsafe fn insert(&mut self, score: f64, m: NonNull<u8>) {
        // SAFETY: `m` is live for as long as it is in the tree (contract);
        // `key` is not used once `m` is handed to the tree's care.
        let key = unsafe { member_key(m) };
        let pair = Pair { score, m };
        if let Node::Leaf(l) = &mut self.root {
            let Err(pos) = leaf_search(l, score, key, None) else {
                return;
            };
            if l.len() < LEAF_CAP {
                if l.len() == l.capacity() {
                    // A lone root grows by doubling up to a full leaf; a
                    // fresh block each time, so its size is what is counted.
                    let cap = (l.capacity() * 2).clamp(ROOT_MIN_CAP, LEAF_CAP);
                    let mut grown = Vec::with_capacity(cap);
                    grown.extend_from_slice(l);
                    *l = grown;
                }
                l.insert(pos, pair);
                self.len += 1;
                return;
            }
            // A full root leaf becomes the only child of a new root, which
            // then makes room as for any leaf.
            let leaf = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            self.root = Node::Inner(Box::new(Inner::with_child(leaf, self.len)));
        }
        let Node::Inner(n) = &mut self.root else {
            return;
        };
        let Some(placed) = ins(n, pair, key) else {
            return;
        };
        self.len += 1;
        if n.children.len() > MAX_CHILDREN {
            let old = std::mem::replace(&mut self.root, Node::Leaf(Vec::new()));
            let mut top = Inner::with_child(old, self.len);
            top.fix_overflow(0, placed);
            self.root = Node::Inner(Box::new(top));
        }
    }

    /// A root with one child is replaced by the child; a lone root leaf
    /// much bigger than its content is reallocated smaller.
    fn fix_root(&mut self) {
        while let Node::Inner(n) = &mut self.root {
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
        if let Node::Leaf(l) = &mut self.root {
            if l.capacity() > ROOT_MIN_CAP && l.len() * 4 <= l.capacity() {
                let cap = (l.len() * 2).next_power_of_two().max(ROOT_MIN_CAP);
                let mut small = Vec::with_capacity(cap);
                small.extend_from_slice(l);
                *l = small;
            }
        }
    }

    /// Removes a pair; false if it was not there. The caller may free the
    /// member once it is out.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        self.remove_hinted(score, member, None)
    }

    /// [`Tree::remove`] given also the member's pointer (a faster search
    /// among many equal scores).
    pub fn remove_member(&mut self, score: f64, member: &[u8], m: NonNull<u8>) -> bool {
        self.remove_hinted(score, member, Some(m))
    }

    fn remove_hinted(&mut self, score: f64, member: &[u8], m: Option<NonNull<u8>>) -> bool {
        fn rem(node: &mut Node, score: f64, member: &[u8], m: Option<NonNull<u8>>) -> bool {
            match node {
                Node::Leaf(l) => match leaf_search(l, score, member, m) {
                    Ok(i) => {
                        l.remove(i);
                        true
                    }
                    Err(_) => false,
                },
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    let found = rem(&mut n.children[i], score, member, m);
                    if found {
                        n.counts[i] -= 1;
                        n.fix_underflow(i);
                    }
                    found
                }
            }
        }
        let found = rem(&mut self.root, score, member, m);
        if found {
            self.len -= 1;
            self.fix_root();
        }
        found
    }

    /// 0-based rank of a pair, if present (tests; the sorted set has the
    /// member's pointer, see [`Tree::rank_member`]).
    #[cfg(test)]
    pub fn rank(&self, score: f64, member: &[u8]) -> Option<usize> {
        self.rank_hinted(score, member, None)
    }

    /// [`Tree::rank`] given also the member's pointer (a faster search
    /// among many equal scores).
    pub fn rank_member(&self, score: f64, member: &[u8], m: NonNull<u8>) -> Option<usize> {
        self.rank_hinted(score, member, Some(m))
    }

    fn rank_hinted(&self, score: f64, member: &[u8], m: Option<NonNull<u8>>) -> Option<usize> {
        let mut node = &self.root;
        let mut rank = 0;
        loop {
            match node {
                Node::Inner(n) => {
                    let i = n.child_for(score, member);
                    rank += n.before(i);
                    node = &n.children[i];
                }
                Node::Leaf(l) => return leaf_search(l, score, member, m).ok().map(|i| rank + i),
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
                Node::Leaf(l) => return l.get(r).map(|p| (p.score, p.key())),
            }
        }
    }

    /// The number of leading pairs for which `pred` holds; `pred` must be
    /// true for a prefix of the order and false after it (a "below the
    /// range" test). Then it is the rank of the first pair past the prefix.
    pub fn partition_point(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        self.partition(
            |s: &Sep| pred(s.score, &s.member),
            |p: &Pair| pred(p.score, p.key()),
            true,
        )
    }

    /// [`Tree::partition_point`] for a test on scores alone, which never
    /// reads member bytes.
    pub fn partition_point_by_score(&self, pred: impl Fn(f64) -> bool) -> usize {
        self.partition(|s: &Sep| pred(s.score), |p: &Pair| pred(p.score), false)
    }

    fn partition(
        &self,
        sep: impl Fn(&Sep) -> bool,
        pair: impl Fn(&Pair) -> bool,
        members_ahead: bool,
    ) -> usize {
        let mut node = &self.root;
        let mut rank = 0;
        loop {
            match node {
                Node::Inner(n) => {
                    // Children before the first separator failing the test
                    // hold only pairs below it, so only pairs passing.
                    let j = sep_partition(
                        &n.seps,
                        &sep,
                        if members_ahead {
                            Ahead::Always
                        } else {
                            Ahead::Never
                        },
                    );
                    rank += n.before(j);
                    node = &n.children[j];
                }
                Node::Leaf(l) => return rank + leaf_partition(l, &pair, members_ahead),
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
            walk_rev(&self.root, from, &mut f);
        } else {
            walk_fwd(&self.root, from, &mut f);
        }
    }

    /// Removes the pairs of ranks `start..start + count` and hands each to
    /// `f` (ascending) once it is out of the tree, so `f` may free its
    /// member.
    pub fn remove_range(
        &mut self,
        start: usize,
        count: usize,
        mut f: impl FnMut(f64, NonNull<u8>),
    ) {
        let count = count.min(self.len.saturating_sub(start));
        if count == 0 {
            return;
        }
        if count == self.len {
            // Everything: take the tree out, then visit what it held.
            let old = std::mem::take(self);
            drain_all(old.root, &mut f);
            return;
        }
        remove_range(&mut self.root, start, count, &mut f);
        self.len -= count;
        self.fix_root();
    }

    /// Bytes held in the allocator by the tree (exact: visits every node).
    pub fn memory_usage(&self) -> usize {
        fn node_bytes(n: &Node) -> usize {
            match n {
                Node::Leaf(l) => leaf_bytes(l),
                Node::Inner(inner) => {
                    inner_bytes(inner) + inner.children.iter().map(node_bytes).sum::<usize>()
                }
            }
        }
        node_bytes(&self.root)
    }

    /// Bytes held, estimated from the leftmost leaves holding at least
    /// `samples` pairs (O(samples / LEAF_CAP + depth)), like Valkey's
    /// sampled `objectComputeSize`.
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

    /// Every pair's member pointer, in order (tests: cross-checks with the
    /// index that owns them).
    #[cfg(test)]
    pub fn pointers(&self) -> Vec<(f64, NonNull<u8>)> {
        fn visit(n: &Node, out: &mut Vec<(f64, NonNull<u8>)>) {
            match n {
                Node::Leaf(l) => out.extend(l.iter().map(|p| (p.score, p.m))),
                Node::Inner(i) => i.children.iter().for_each(|c| visit(c, out)),
            }
        }
        let mut out = Vec::with_capacity(self.len);
        visit(&self.root, &mut out);
        out
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
                Node::Leaf(l) => {
                    match leaf_depth {
                        Some(d) => assert_eq!(*d, depth, "leaves at different depths"),
                        None => *leaf_depth = Some(depth),
                    }
                    if depth > 0 {
                        assert_eq!(l.capacity(), LEAF_CAP, "leaf below the root");
                    }
                    assert!(l.len() <= LEAF_CAP);
                    for w in l.windows(2) {
                        assert_eq!(w[0].cmp_to(w[1].score, w[1].key()), Ordering::Less);
                    }
                    for p in l {
                        if let Some((ls, lm)) = lo {
                            assert_ne!(cmp_pair(ls, lm, p.score, p.key()), Ordering::Greater);
                        }
                        if let Some((hs, hm)) = hi {
                            assert_eq!(cmp_pair(p.score, p.key(), hs, hm), Ordering::Less);
                        }
                    }
                    l.len()
                }
                Node::Inner(inner) => {
                    assert_eq!(inner.children.len(), inner.counts.len());
                    assert_eq!(inner.children.len(), inner.seps.len() + 1);
                    assert!(inner.children.len() <= MAX_CHILDREN);
                    assert_eq!(inner.children.capacity(), MAX_CHILDREN + 1);
                    assert_eq!(inner.counts.capacity(), MAX_CHILDREN + 1);
                    assert_eq!(inner.seps.capacity(), MAX_CHILDREN);
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

/// Inserts into the subtree of `n`; the placement if the pair was added.
fn ins(n: &mut Inner, pair: Pair, key: &[u8]) -> Option<Placed> {
    let i = n.child_for(pair.score, key);
    let placed = match &mut n.children[i] {
        Node::Inner(c) => {
            let placed = ins(c, pair, key)?;
            n.counts[i] += 1;
            n.fix_overflow(i, placed);
            return Some(placed);
        }
        Node::Leaf(l) => {
            let pos = leaf_search(l, pair.score, key, None).err()?;
            if l.len() < LEAF_CAP {
                l.insert(pos, pair);
                n.counts[i] += 1;
                return Some(Placed::Middle);
            }
            let (j, pos, placed) = n.make_room(i, pos, pair.score, key);
            if let Node::Leaf(l) = &mut n.children[j] {
                l.insert(pos, pair);
                n.counts[j] += 1;
            }
            placed
        }
    };
    Some(placed)
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
        Node::Leaf(l) => {
            *bytes += leaf_bytes(l);
            *pairs += l.len();
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
        Node::Leaf(l) => {
            let l = &l[skip.min(l.len())..];
            l.iter().take(PREFETCH_AHEAD).for_each(prefetch);
            for (i, p) in l.iter().enumerate() {
                if let Some(ahead) = l.get(i + PREFETCH_AHEAD) {
                    prefetch(ahead);
                }
                if !f(p.score, p.key()) {
                    return false;
                }
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
fn walk_rev(n: &Node, from: usize, f: &mut dyn FnMut(f64, &[u8]) -> bool) -> bool {
    match n {
        Node::Leaf(l) => {
            let l = &l[..(from + 1).min(l.len())];
            l.iter().rev().take(PREFETCH_AHEAD).for_each(prefetch);
            for (i, p) in l.iter().enumerate().rev() {
                if let Some(ahead) = i.checked_sub(PREFETCH_AHEAD).map(|j| &l[j]) {
                    prefetch(ahead);
                }
                if !f(p.score, p.key()) {
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
            if !walk_rev(&inner.children[i], r, f) {
                return false;
            }
            for j in (0..i).rev() {
                let last = inner.counts[j].saturating_sub(1);
                if !walk_rev(&inner.children[j], last, f) {
                    return false;
                }
            }
            true
        }
    }
}

/// Hands every pair of a detached subtree to `f`, in order.
fn drain_all(n: Node, f: &mut dyn FnMut(f64, NonNull<u8>)) {
    match n {
        Node::Leaf(l) => l.into_iter().for_each(|p| f(p.score, p.m)),
        Node::Inner(inner) => inner.children.into_iter().for_each(|c| drain_all(c, f)),
    }
}

fn remove_range(n: &mut Node, start: usize, count: usize, f: &mut dyn FnMut(f64, NonNull<u8>)) {
    match n {
        Node::Leaf(l) => {
            let a = start.min(l.len());
            let b = (start + count).min(l.len());
            // Out of the leaf before `f` sees them (it may free them).
            for p in l.drain(a..b) {
                f(p.score, p.m);
            }
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
    use crate::keyspace::member::Member;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap};

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

    /// A tree with the members it points at, owned the way a sorted set's
    /// index owns them: freed as soon as their pair leaves the tree.
    #[derive(Default)]
    struct Owned {
        t: Tree,
        members: HashMap<Vec<u8>, Member>,
    }

    impl Owned {
        fn insert(&mut self, score: f64, key: &[u8]) {
            assert!(!self.members.contains_key(key));
            let m = Member::with_score(key, score);
            let p = m.as_ptr();
            self.members.insert(key.to_vec(), m);
            // SAFETY: p is a member just added to `members`, which frees it
            // only after the pair left the tree.
            unsafe { self.t.insert(score, p) };
        }

        /// Removes by member bytes, or with the member's pointer too when
        /// it exists (both searches are exercised).
        fn remove(&mut self, score: f64, key: &[u8]) -> bool {
            let found = match self.members.get(key) {
                Some(m) if key.len().is_multiple_of(2) => {
                    self.t.remove_member(score, key, m.as_ptr())
                }
                _ => self.t.remove(score, key),
            };
            if found {
                assert!(self.members.remove(key).is_some());
            }
            found
        }

        fn remove_range(&mut self, start: usize, count: usize, mut f: impl FnMut(f64, &[u8])) {
            let members = &mut self.members;
            self.t.remove_range(start, count, |s, p| {
                // SAFETY: the pair was in the tree, so `p` is a member of
                // `members`; its key is copied before it is freed.
                let key = unsafe { member_key(p) }.to_vec();
                f(s, &key);
                let m = members.remove(&key).expect("a pair's member");
                assert_eq!(m.as_ptr(), p);
            });
        }

        fn check(&self) {
            self.t.check();
            assert_eq!(self.t.len(), self.members.len());
            for (s, p) in self.t.pointers() {
                // SAFETY: pairs in the tree point at members of `members`.
                let key = unsafe { member_key(p) };
                let m = &self.members[key];
                assert_eq!(m.as_ptr(), p);
                assert_eq!(m.score(), s);
            }
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
    fn member_key_reads_members_layout() {
        for n in [0usize, 1, 12, 127, 128, 300, 20_000] {
            let key: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let m = Member::with_score(&key, 1.5);
            // SAFETY: m is alive for the whole borrow.
            assert_eq!(unsafe { member_key(m.as_ptr()) }, m.key());
            assert_eq!(m.key(), &key[..]);
        }
    }

    #[test]
    fn orders_by_score_then_member() {
        let mut o = Owned::default();
        o.insert(2.0, b"b");
        o.insert(1.0, b"z");
        o.insert(2.0, b"a");
        o.insert(-0.0, b"m");
        o.insert(0.0, b"l");
        let got: Vec<_> = contents(&o.t).into_iter().map(|k| k.1).collect();
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
        assert_eq!(o.t.rank(2.0, b"a"), Some(3));
        assert_eq!(o.t.rank(2.0, b"c"), None);
        assert_eq!(o.t.get(4), Some((2.0, &b"b"[..])));
        assert_eq!(o.t.get(5), None);
        assert!(o.remove(1.0, b"z"));
        assert!(!o.remove(1.0, b"z"));
        assert_eq!(o.t.len(), 4);
        o.check();
    }

    #[test]
    fn many_ascending_inserts_fill_leaves() {
        for descending in [false, true] {
            let mut o = Owned::default();
            for j in 0..20_000u32 {
                let i = if descending { 19_999 - j } else { j };
                o.insert(f64::from(i), format!("member:{i:05}").as_bytes());
            }
            o.check();
            assert_eq!(o.t.len(), 20_000);
            // Appends at either end leave full leaves behind.
            assert!(
                o.t.leaves() <= 20_000 / LEAF_CAP + 2,
                "leaves {}",
                o.t.leaves()
            );
            // 16 bytes a pair, plus separators and inner nodes.
            let bytes = o.t.memory_usage();
            assert!(bytes < 20_000 * 18, "bytes {bytes}");
            for i in (0..20_000u32).step_by(997) {
                let m = format!("member:{i:05}");
                assert_eq!(o.t.rank(f64::from(i), m.as_bytes()), Some(i as usize));
                assert_eq!(o.t.get(i as usize).map(|(s, _)| s), Some(f64::from(i)));
            }
            // Removing from the front (ZPOPMIN) keeps it valid.
            for i in 0..15_000u32 {
                assert!(o.remove(f64::from(i), format!("member:{i:05}").as_bytes()));
            }
            o.check();
            assert_eq!(o.t.len(), 5000);
            assert_eq!(o.t.get(0).map(|(s, _)| s), Some(15_000.0));
        }
    }

    #[test]
    fn random_inserts_keep_leaves_well_filled() {
        let mut o = Owned::default();
        let n = 50_000u64;
        for j in 0..n {
            let i = j.wrapping_mul(2_654_435_761) % n;
            o.insert(i as f64, format!("m{i:011}").as_bytes());
        }
        o.check();
        let fill = n as f64 / (o.t.leaves() * LEAF_CAP) as f64;
        assert!(fill > 0.8, "fill {fill}");
    }

    #[test]
    fn walks_both_ways_from_any_rank() {
        let mut o = Owned::default();
        for i in 0..3000u32 {
            o.insert(f64::from(i % 100), format!("{i}").as_bytes());
        }
        let t = &o.t;
        let all = contents(t);
        for from in [0, 1, 43, 44, 63, 64, 1500, 2999] {
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
        let mut o = Owned::default();
        for i in 0..5000u32 {
            o.insert(f64::from(i / 10), format!("{i:04}").as_bytes());
        }
        let t = &o.t;
        assert_eq!(t.partition_point(|s, _| s < 0.0), 0);
        assert_eq!(t.partition_point(|s, _| s < 17.0), 170);
        assert_eq!(t.partition_point(|s, _| s <= 17.0), 180);
        assert_eq!(t.partition_point(|_, _| true), 5000);
        assert_eq!(
            t.partition_point(|s, m| s < 17.0 || (s == 17.0 && m < b"0175")),
            175
        );
        assert_eq!(t.partition_point_by_score(|s| s < 17.0), 170);
        assert_eq!(t.partition_point_by_score(|s| s <= 499.0), 5000);
    }

    #[test]
    fn remove_ranges_and_huge_members() {
        let mut o = Owned::default();
        let big = vec![b'x'; 5000];
        for i in 0..2000u32 {
            let mut m = format!("{i:05}").into_bytes();
            if i % 300 == 0 {
                m.extend_from_slice(&big);
            }
            o.insert(1.0, &m);
        }
        o.check();
        let mut removed = Vec::new();
        o.remove_range(100, 1500, |_, m| removed.push(m[..5].to_vec()));
        assert_eq!(removed.len(), 1500);
        assert_eq!(removed[0], b"00100");
        assert_eq!(removed[1499], b"01599");
        o.check();
        assert_eq!(o.t.len(), 500);
        assert_eq!(
            o.t.get(100).map(|(_, m)| m[..5].to_vec()),
            Some(b"01600".to_vec())
        );
        o.remove_range(0, 10_000, |_, _| {});
        assert!(o.t.is_empty());
        assert!(o.members.is_empty());
        o.check();
    }

    #[test]
    fn memory_tracks_content() {
        let mut o = Owned::default();
        for i in 0..10_000u32 {
            o.insert(
                f64::from(i.wrapping_mul(2_654_435_761) % 10_007),
                format!("m{i:011}").as_bytes(),
            );
        }
        o.check();
        let t = &o.t;
        let exact = t.memory_usage();
        // 16-byte pairs in leaves over 80 % full, plus inner nodes.
        assert!(exact < 10_000 * 23, "exact {exact}");
        assert!(exact > 10_000 * 16);
        let est = t.memory_estimate(5);
        assert!(
            est > exact / 2 && est < exact * 2,
            "est {est} exact {exact}"
        );
        // A lone root leaf is sized to its content, and shrinks with it.
        let mut small = Owned::default();
        for i in 0..5u32 {
            small.insert(f64::from(i), format!("{i}").as_bytes());
        }
        assert_eq!(small.t.memory_usage(), crate::alloc::alloc_size(8 * 16));
        for i in 0..4u32 {
            small.remove(f64::from(i), format!("{i}").as_bytes());
        }
        assert_eq!(small.t.memory_usage(), crate::alloc::alloc_size(4 * 16));
        small.check();
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
        let mut o = Owned::default();
        for i in 0..n {
            let (s, m) = key(i);
            o.insert(s, m.as_bytes());
        }
        o.check();
        assert_eq!(o.t.len(), n as usize);
        let mut left = n as usize;
        for i in (0..n).filter(|i| i % 10 != 3) {
            let (s, m) = key(i.wrapping_mul(48_271) % n);
            if o.remove(s, m.as_bytes()) {
                left -= 1;
            }
            if i % 50_000 == 0 {
                o.check();
            }
        }
        o.check();
        assert_eq!(o.t.len(), left);
        let mut removed = 0;
        o.remove_range(left / 3, left / 3, |_, _| removed += 1);
        assert_eq!(removed, left / 3);
        o.check();
        let all = contents(&o.t);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        for (i, k) in all.iter().enumerate().step_by(101) {
            assert_eq!(o.t.rank(k.0, &k.1), Some(i));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8, u16),
        /// A member's score changes: out of the tree and back in elsewhere.
        Rescore(u16, u8),
        RemoveRange(u16, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<u8>(), any::<u16>()).prop_map(|(s, m)| Op::Insert(s % 16, m % 4000)),
            3 => (any::<u8>(), any::<u16>()).prop_map(|(s, m)| Op::Remove(s % 16, m % 4000)),
            2 => (any::<u16>(), any::<u8>()).prop_map(|(m, s)| Op::Rescore(m % 4000, s % 16)),
            1 => (any::<u16>(), any::<u16>()).prop_map(|(a, n)| Op::RemoveRange(a % 3000, n % 200)),
        ]
    }

    fn model_key(m: u16) -> Vec<u8> {
        format!("{m}").repeat(usize::from(m % 7) + 1).into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Against a BTreeSet model, with members freed as their pairs
        /// leave (so a pair left behind would point at freed memory: `check`
        /// and valgrind would see it).
        #[test]
        fn behaves_like_btreeset(ops in proptest::collection::vec(op(), 1..3000)) {
            let mut o = Owned::default();
            let mut model: BTreeSet<K> = BTreeSet::new();
            let mut scores: HashMap<Vec<u8>, f64> = HashMap::new();
            for op in ops {
                match op {
                    Op::Insert(s, m) => {
                        let key = model_key(m);
                        if !scores.contains_key(&key) {
                            o.insert(f64::from(s), &key);
                            scores.insert(key.clone(), f64::from(s));
                            model.insert(K(f64::from(s), key));
                        }
                    }
                    Op::Remove(s, m) => {
                        let k = K(f64::from(s), model_key(m));
                        let present = model.remove(&k);
                        if present {
                            scores.remove(&k.1);
                        }
                        prop_assert_eq!(o.remove(k.0, &k.1), present);
                    }
                    Op::Rescore(m, s) => {
                        let key = model_key(m);
                        if let Some(old) = scores.get(&key).copied() {
                            // The way ZADD moves a member: the same
                            // allocation leaves the tree and comes back.
                            let p = o.members[&key].as_ptr();
                            prop_assert!(o.t.remove_member(old, &key, p));
                            // SAFETY: p is still owned by `members`.
                            unsafe { o.t.insert(f64::from(s), p) };
                            o.members.get_mut(&key).unwrap().set_score(f64::from(s));
                            model.remove(&K(old, key.clone()));
                            model.insert(K(f64::from(s), key.clone()));
                            scores.insert(key, f64::from(s));
                        }
                    }
                    Op::RemoveRange(a, n) => {
                        let v: Vec<K> = model.iter().cloned().collect();
                        let a = usize::from(a);
                        let end = (a + usize::from(n)).min(v.len());
                        let mut got = Vec::new();
                        o.remove_range(a, usize::from(n), |s, m| got.push(K(s, m.to_vec())));
                        let want: Vec<K> = if a < end { v[a..end].to_vec() } else { Vec::new() };
                        for k in &want {
                            model.remove(k);
                            scores.remove(&k.1);
                        }
                        prop_assert_eq!(got, want);
                    }
                }
            }
            o.check();
            let v: Vec<K> = model.iter().cloned().collect();
            prop_assert_eq!(contents(&o.t), v.clone());
            for (i, k) in v.iter().enumerate().step_by(37) {
                prop_assert_eq!(o.t.rank(k.0, &k.1), Some(i));
                let p = o.members[&k.1].as_ptr();
                prop_assert_eq!(o.t.rank_member(k.0, &k.1, p), Some(i));
                // A pointer that is not the pair's falls back to the bytes.
                prop_assert_eq!(o.t.rank_member(k.0, &k.1, NonNull::dangling()), Some(i));
                let g = o.t.get(i).map(|(s, m)| K(s, m.to_vec()));
                prop_assert_eq!(g.as_ref(), Some(k));
            }
        }
    }
}
