//! The list type, with Valkey 7.2+'s two encodings.
//!
//! * `listpack`: while a list is small it is one listpack (Valkey's byte
//!   format, see `listpack.rs`) — a few bytes per element, one allocation.
//! * `quicklist`: once it outgrows `list-max-listpack-size` it becomes a
//!   sequence of nodes, each a listpack bounded by the same setting
//!   (negative: 4/8/16/32/64 KiB of bytes; positive: an element count, with
//!   an 8 KiB safety cap), or a "plain" node holding one element too big for
//!   any listpack. Interior nodes farther than `list-compress-depth` nodes
//!   from either end are kept LZF-compressed when that saves enough, and
//!   inflated on access.
//!
//! The conversion points are Valkey's (`listTypeTryConversion*` in
//! t_list.c): a listpack becomes a quicklist *before* an addition that would
//! exceed the limit (the size of the arguments is checked up front, for the
//! whole batch of a variadic push); a quicklist turns back into a listpack
//! after a removal when it is down to one packed node at most half the
//! limit (half, so a list hovering at the limit does not flip-flop). The node
//! rules — when a push opens a new node, when an insertion splits a node,
//! which neighbours merge afterwards, when an element gets its own plain
//! node — follow quicklist.c, so node fill (and thus memory) matches Valkey.
//!
//! Nodes live in a `VecDeque`: pushing and popping at either end is O(1),
//! and reaching an index walks node counts from the nearer end, like
//! quicklist's linked list, without per-node pointers.

#[path = "lzf.rs"]
pub mod lzf;

use super::listpack::{Listpack, LpItem};
use super::thinbuf::{one_word, LpHeader};
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Head,
    Tail,
}

/// `list-max-listpack-size` and `list-compress-depth`.
#[derive(Clone, Copy, Debug)]
pub struct ListConfig {
    pub fill: i32,
    pub compress_depth: u32,
}

impl ListConfig {
    pub fn from_config(c: &crate::config::Config) -> ListConfig {
        ListConfig {
            fill: c.list_max_listpack_size,
            compress_depth: c.list_compress_depth,
        }
    }
}

impl Default for ListConfig {
    /// Valkey's defaults: 8 KiB nodes, no compression.
    fn default() -> Self {
        ListConfig {
            fill: -2,
            compress_depth: 0,
        }
    }
}

/// Byte limits of negative fill values -1..-5.
const SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// With a count limit, no listpack grows past this many bytes either.
const SIZE_SAFETY_LIMIT: usize = 8192;
/// Per-entry overhead assumed when deciding if an element still fits a node
/// (an overestimate keeps nodes just under the allocator size classes).
const SIZE_ESTIMATE_OVERHEAD: usize = 8;
/// Nodes smaller than this are not worth compressing.
const MIN_COMPRESS_BYTES: usize = 48;
/// Compression must save more than this many bytes to be kept.
const MIN_COMPRESS_IMPROVE: usize = 8;
/// Header and end marker of a listpack (counted once when merging two).
const LP_OVERHEAD: usize = 7;
/// Valkey stores fill in 16 signed bits and the depth in 16 bits.
const FILL_MAX: i32 = (1 << 15) - 1;
const COMPRESS_MAX: usize = (1 << 16) - 1;

/// `DEBUG QUICKLIST-PACKED-THRESHOLD`: when non-zero, elements of at least
/// this many bytes get plain nodes whatever the fill (tests use tiny values).
static PACKED_THRESHOLD: AtomicUsize = AtomicUsize::new(0);

/// Sets the test-only plain-node threshold (0 = off). Refused, as in Valkey,
/// for values at or near 4 GiB.
pub fn set_packed_threshold(sz: usize) -> bool {
    if sz as u64 > (1u64 << 32) - (1 << 20) {
        return false;
    }
    PACKED_THRESHOLD.store(sz, Ordering::Relaxed);
    true
}

fn neg_fill_limit(fill: i32) -> usize {
    let level = (-(fill as i64) - 1).clamp(0, SIZE_LEVELS.len() as i64 - 1);
    SIZE_LEVELS[level as usize]
}

/// (byte limit, count limit) of a node for `fill`; one of them is unbounded.
fn node_limit(fill: i32) -> (usize, usize) {
    if fill >= 0 {
        (usize::MAX, fill.max(1) as usize)
    } else {
        (neg_fill_limit(fill), usize::MAX)
    }
}

/// Whether a listpack of `sz` bytes and `count` elements is over the limit.
fn exceeds_limit(fill: i32, sz: usize, count: usize) -> bool {
    let (sz_limit, count_limit) = node_limit(fill);
    if sz_limit != usize::MAX {
        sz > sz_limit
    } else {
        sz > SIZE_SAFETY_LIMIT || count > count_limit
    }
}

/// Whether an element of `sz` bytes gets a plain node of its own.
fn is_large(sz: usize, fill: i32) -> bool {
    large_for(sz, fill, PACKED_THRESHOLD.load(Ordering::Relaxed))
}

/// [`is_large`] with the debug threshold `t` given.
fn large_for(sz: usize, fill: i32, t: usize) -> bool {
    if t != 0 {
        return sz >= t;
    }
    if fill >= 0 {
        sz > SIZE_SAFETY_LIMIT
    } else {
        sz > neg_fill_limit(fill)
    }
}

/// An element to compare list entries with, its integer form parsed once
/// (a listpack stores canonical integers as integers).
struct Needle<'a> {
    bytes: &'a [u8],
    int: Option<i64>,
}

impl<'a> Needle<'a> {
    fn new(bytes: &'a [u8]) -> Needle<'a> {
        Needle {
            bytes,
            int: super::listpack::parse_canonical_int(bytes),
        }
    }

    #[inline]
    fn matches(&self, it: LpItem<'_>) -> bool {
        match it {
            LpItem::Int(i) => self.int == Some(i),
            LpItem::Str(s) => s == self.bytes,
        }
    }
}

/// Decimal text of `i` in `buf`.
fn fmt_i64(i: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = i.unsigned_abs();
    let mut p = buf.len();
    loop {
        p -= 1;
        buf[p] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        p -= 1;
        buf[p] = b'-';
    }
    &buf[p..]
}

// ---- listpack helpers ------------------------------------------------------

/// Splits `lp` before element `at`: `lp` keeps `[0, at)`, the rest is
/// returned. Both come out with exact capacity.
fn lp_split_off(lp: &mut Listpack, at: usize) -> Listpack {
    let mut rest = lp.clone();
    if at > 0 {
        if let Some(p) = rest.first() {
            rest.delete_range(p, at);
        }
    }
    if let Some(p) = lp.seek(at as i64) {
        lp.delete_range(p, usize::MAX);
    }
    rest
}

/// `a` followed by `b` as one listpack.
fn lp_concat(a: &Listpack, b: &Listpack) -> Listpack {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let total = ab.len() + bb.len() - LP_OVERHEAD;
    let count = (a.len() + b.len()).min(u16::MAX as usize) as u16;
    let mut buf = Vec::with_capacity(total);
    buf.extend_from_slice(&(total as u32).to_le_bytes());
    buf.extend_from_slice(&count.to_le_bytes());
    buf.extend_from_slice(&ab[6..ab.len() - 1]);
    buf.extend_from_slice(&bb[6..bb.len() - 1]);
    buf.push(0xff);
    match Listpack::from_bytes(&buf) {
        Some(lp) => lp,
        None => {
            // Not reachable with well-formed inputs; rebuild the slow way.
            let mut lp = a.clone();
            for it in b.iter() {
                lp.push_back(&it.to_bytes());
            }
            lp
        }
    }
}

/// Calls `f` on the elements of `lp` starting at element `from` (or at the
/// end the walk starts from when None), towards the tail or the head.
/// Returns false when `f` asked to stop.
fn walk_lp(
    lp: &Listpack,
    from: Option<usize>,
    reverse: bool,
    f: &mut impl FnMut(LpItem<'_>) -> bool,
) -> bool {
    let mut p = match from {
        Some(i) => lp.seek(i as i64),
        None if reverse => lp.last(),
        None => lp.first(),
    };
    while let Some(pos) = p {
        if !f(lp.get(pos)) {
            return false;
        }
        p = if reverse { lp.prev(pos) } else { lp.next(pos) };
    }
    true
}

/// Deletes up to `max` elements equal to `n`, walking from the head or the
/// tail. Returns how many went.
fn lp_remove(lp: &mut Listpack, n: &Needle<'_>, max: usize, reverse: bool) -> usize {
    let mut removed = 0;
    if reverse {
        let mut p = lp.last();
        while let Some(pos) = p {
            if removed == max {
                break;
            }
            // Entries before `pos` keep their offsets when it goes.
            let prev = lp.prev(pos);
            if n.matches(lp.get(pos)) {
                lp.delete(pos);
                removed += 1;
            }
            p = prev;
        }
    } else {
        let mut p = lp.first();
        while let Some(pos) = p {
            if removed == max {
                break;
            }
            if n.matches(lp.get(pos)) {
                p = lp.delete(pos);
                removed += 1;
            } else {
                p = lp.next(pos);
            }
        }
    }
    removed
}

// ---- quicklist nodes ---------------------------------------------------------

/// One quicklist node. `tried` marks a raw node whose compression was
/// attempted and not worth it, so it is not retried until it changes.
#[derive(Clone, Debug)]
enum Node {
    Packed {
        lp: Listpack,
        tried: bool,
    },
    Plain {
        data: Box<[u8]>,
        tried: bool,
    },
    /// An LZF-compressed packed or plain node.
    Lzf {
        data: Box<[u8]>,
        raw_len: usize,
        count: u32,
        plain: bool,
    },
}

/// A node's contents, inflated.
enum Raw {
    Packed(Listpack),
    Plain(Vec<u8>),
}

/// A node's contents, borrowed (or inflated for the duration of a call).
enum View<'a> {
    Packed(&'a Listpack),
    Plain(&'a [u8]),
}

impl Node {
    fn packed(lp: Listpack) -> Node {
        Node::Packed { lp, tried: false }
    }

    fn plain(v: &[u8]) -> Node {
        Node::Plain {
            data: v.into(),
            tried: false,
        }
    }

    fn with_one(v: &[u8]) -> Node {
        let mut lp = Listpack::new();
        lp.push_back(v);
        Node::packed(lp)
    }

    fn count(&self) -> usize {
        match self {
            Node::Packed { lp, .. } => lp.len(),
            Node::Plain { .. } => 1,
            Node::Lzf { count, .. } => *count as usize,
        }
    }

    fn is_plain(&self) -> bool {
        matches!(self, Node::Plain { .. } | Node::Lzf { plain: true, .. })
    }

    /// Uncompressed size (quicklist's `node->sz`).
    fn raw_size(&self) -> usize {
        match self {
            Node::Packed { lp, .. } => lp.byte_len(),
            Node::Plain { data, .. } => data.len(),
            Node::Lzf { raw_len, .. } => *raw_len,
        }
    }

    fn memory_usage(&self) -> usize {
        match self {
            Node::Packed { lp, .. } => lp.memory_usage(),
            Node::Plain { data, .. } | Node::Lzf { data, .. } => {
                crate::alloc::alloc_size(data.len())
            }
        }
    }

    /// The inflated contents of a compressed node (None for raw nodes, or
    /// if the compressed bytes were damaged, which our own never are).
    fn inflate(&self) -> Option<Raw> {
        let Node::Lzf {
            data,
            raw_len,
            plain,
            ..
        } = self
        else {
            return None;
        };
        let bytes = lzf::decompress(data, *raw_len)?;
        if *plain {
            Some(Raw::Plain(bytes))
        } else {
            Listpack::from_bytes(&bytes).map(Raw::Packed)
        }
    }

    /// Calls `f` with the node's contents, inflating a compressed node into
    /// a temporary (the node itself stays compressed).
    fn view<R>(&self, f: impl FnOnce(View<'_>) -> R) -> R {
        match self {
            Node::Packed { lp, .. } => f(View::Packed(lp)),
            Node::Plain { data, .. } => f(View::Plain(data)),
            Node::Lzf { .. } => match self.inflate() {
                Some(Raw::Packed(lp)) => f(View::Packed(&lp)),
                Some(Raw::Plain(d)) => f(View::Plain(&d)),
                None => {
                    debug_assert!(false, "damaged compressed list node");
                    f(View::Packed(&Listpack::new()))
                }
            },
        }
    }

    /// Makes the node raw (inflating it if compressed) and marks it changed,
    /// so it is considered for compression again.
    fn make_raw(&mut self) {
        match self {
            Node::Packed { tried, .. } | Node::Plain { tried, .. } => *tried = false,
            Node::Lzf { .. } => {
                *self = match self.inflate() {
                    Some(Raw::Packed(lp)) => Node::packed(lp),
                    Some(Raw::Plain(d)) => Node::Plain {
                        data: d.into_boxed_slice(),
                        tried: false,
                    },
                    None => {
                        debug_assert!(false, "damaged compressed list node");
                        Node::packed(Listpack::new())
                    }
                }
            }
        }
    }

    /// Inflates a compressed node (an end node must be raw).
    /// (The inflated node counts as untried: it compressed well before, so
    /// it will be compressed again once it is back in the interior.)
    fn decompress(&mut self) {
        if matches!(self, Node::Lzf { .. }) {
            self.make_raw();
        }
    }

    /// Compresses a raw node if that saves more than MIN_COMPRESS_IMPROVE
    /// bytes (Valkey's `__quicklistCompressNode`).
    fn try_compress(&mut self) {
        let count = self.count() as u32;
        let (raw, plain, tried) = match self {
            Node::Packed { lp, tried } => (lp.as_bytes(), false, tried),
            Node::Plain { data, tried } => (&data[..], true, tried),
            Node::Lzf { .. } => return,
        };
        if *tried {
            return;
        }
        if raw.len() < MIN_COMPRESS_BYTES {
            *tried = true;
            return;
        }
        let mut out = vec![0u8; raw.len() - MIN_COMPRESS_IMPROVE - 1];
        match lzf::compress(raw, &mut out) {
            Some(n) => {
                out.truncate(n);
                let raw_len = raw.len();
                *self = Node::Lzf {
                    data: out.into_boxed_slice(),
                    raw_len,
                    count,
                    plain,
                };
            }
            None => *tried = true,
        }
    }

    /// Takes the contents out, inflated.
    fn into_raw(self) -> Raw {
        match self {
            Node::Packed { lp, .. } => Raw::Packed(lp),
            Node::Plain { data, .. } => Raw::Plain(data.into_vec()),
            n @ Node::Lzf { .. } => n.inflate().unwrap_or_else(|| {
                debug_assert!(false, "damaged compressed list node");
                Raw::Packed(Listpack::new())
            }),
        }
    }
}

// ---- quicklist ----------------------------------------------------------------

#[derive(Clone, Debug)]
struct Quick {
    nodes: VecDeque<Node>,
    /// Elements in all nodes.
    count: usize,
    /// Fill and compress depth are fixed when the quicklist is created, as
    /// in Valkey (a CONFIG SET affects lists converted afterwards).
    fill: i32,
    depth: usize,
}

impl Quick {
    fn new(cfg: &ListConfig) -> Quick {
        Quick {
            nodes: VecDeque::new(),
            count: 0,
            fill: cfg.fill.clamp(-5, FILL_MAX),
            depth: (cfg.compress_depth as usize).min(COMPRESS_MAX),
        }
    }

    /// Whether an element of `sz` bytes may join `node`.
    fn allow_insert(&self, node: Option<&Node>, sz: usize) -> bool {
        let Some(n) = node else {
            return false;
        };
        if n.is_plain() || is_large(sz, self.fill) {
            return false;
        }
        !exceeds_limit(
            self.fill,
            n.raw_size() + sz + SIZE_ESTIMATE_OVERHEAD,
            n.count() + 1,
        )
    }

    /// Whether nodes `i` and `i + 1` may become one.
    fn allow_merge(&self, i: usize) -> bool {
        let (Some(a), Some(b)) = (self.nodes.get(i), self.nodes.get(i + 1)) else {
            return false;
        };
        if a.is_plain() || b.is_plain() {
            return false;
        }
        let sz = (a.raw_size() + b.raw_size()).saturating_sub(LP_OVERHEAD);
        !exceeds_limit(self.fill, sz, a.count() + b.count())
    }

    /// Node `i`, raw and marked changed.
    fn raw_mut(&mut self, i: usize) -> Option<&mut Node> {
        let n = self.nodes.get_mut(i)?;
        n.make_raw();
        Some(n)
    }

    /// The listpack of node `i`, raw and marked changed (None for plain).
    fn packed_mut(&mut self, i: usize) -> Option<&mut Listpack> {
        match self.raw_mut(i)? {
            Node::Packed { lp, .. } => Some(lp),
            _ => None,
        }
    }

    /// Restores the compression invariant after a change: the `depth` nodes
    /// at each end raw, the others compressed where it pays (nodes already
    /// tried and unchanged are skipped).
    fn settle(&mut self) {
        if self.depth == 0 {
            return;
        }
        let (len, depth) = (self.nodes.len(), self.depth);
        for (i, n) in self.nodes.iter_mut().enumerate() {
            if i >= depth && i + depth < len {
                n.try_compress();
            } else {
                n.decompress();
            }
        }
    }

    /// (node, offset in node) of element `idx`, walking from the nearer end.
    fn locate(&self, idx: usize) -> Option<(usize, usize)> {
        if idx >= self.count {
            return None;
        }
        if idx < self.count / 2 {
            let mut before = 0;
            for (i, n) in self.nodes.iter().enumerate() {
                let c = n.count();
                if idx < before + c {
                    return Some((i, idx - before));
                }
                before += c;
            }
        } else {
            let mut before = self.count;
            for (i, n) in self.nodes.iter().enumerate().rev() {
                before = before.checked_sub(n.count())?;
                if idx >= before {
                    return Some((i, idx - before));
                }
            }
        }
        None
    }

    fn push(&mut self, end: End, v: &[u8]) {
        self.count += 1;
        if is_large(v.len(), self.fill) {
            match end {
                End::Head => self.nodes.push_front(Node::plain(v)),
                End::Tail => self.nodes.push_back(Node::plain(v)),
            }
            self.settle();
            return;
        }
        let (target, i) = match end {
            End::Head => (self.nodes.front(), 0),
            End::Tail => (self.nodes.back(), self.nodes.len().wrapping_sub(1)),
        };
        if self.allow_insert(target, v.len()) {
            if let Some(lp) = self.packed_mut(i) {
                match end {
                    End::Head => lp.push_front(v),
                    End::Tail => lp.push_back(v),
                }
            }
            return;
        }
        match end {
            End::Head => self.nodes.push_front(Node::with_one(v)),
            End::Tail => self.nodes.push_back(Node::with_one(v)),
        }
        self.settle();
    }

    fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        let i = match end {
            End::Head => 0,
            End::Tail => self.nodes.len().checked_sub(1)?,
        };
        let node = self.nodes.get_mut(i)?;
        node.decompress();
        let (v, empty) = match node {
            Node::Packed { lp, .. } => {
                let p = match end {
                    End::Head => lp.first(),
                    End::Tail => lp.last(),
                }?;
                let v = lp.get(p).to_vec();
                lp.delete(p);
                (v, lp.is_empty())
            }
            Node::Plain { data, .. } => (std::mem::take(data).into_vec(), true),
            Node::Lzf { .. } => return None,
        };
        self.count -= 1;
        if empty {
            self.nodes.remove(i);
            self.settle();
        }
        Some(v)
    }

    /// Splits packed node `i` around element `off` and returns the new part
    /// (not yet linked in). `after`: node `i` keeps `[0, off]` and the new
    /// part gets the rest; otherwise the new part gets `[0, off)` and node
    /// `i` keeps `[off, end)`. (quicklist's `_quicklistSplitNode`.)
    fn split(&mut self, i: usize, off: usize, after: bool) -> Node {
        let Some(lp) = self.packed_mut(i) else {
            return Node::packed(Listpack::new());
        };
        if after {
            Node::packed(lp_split_off(lp, off + 1))
        } else {
            let rest = lp_split_off(lp, off);
            Node::packed(std::mem::replace(lp, rest))
        }
    }

    /// Merges node `i + 1` into node `i`.
    fn merge_at(&mut self, i: usize) {
        let Some(b) = self.nodes.remove(i + 1) else {
            return;
        };
        let Raw::Packed(b) = b.into_raw() else {
            return;
        };
        if let Some(a) = self.packed_mut(i) {
            *a = lp_concat(a, &b);
        }
    }

    /// After a split, merges small neighbours around node `c` the way
    /// quicklist does (prev pair, next pair, then `c` with each side).
    /// Returns the index the centre ended at.
    fn merge_around(&mut self, mut c: usize) -> usize {
        if c >= 2 && self.allow_merge(c - 2) {
            self.merge_at(c - 2);
            c -= 1;
        }
        if self.allow_merge(c + 1) {
            self.merge_at(c + 1);
        }
        if c >= 1 && self.allow_merge(c - 1) {
            self.merge_at(c - 1);
            c -= 1;
        }
        if self.allow_merge(c) {
            self.merge_at(c);
        }
        c
    }

    /// Inserts `v` next to element `off` of node `ni` (quicklist's
    /// `_quicklistInsert`).
    fn insert(&mut self, ni: usize, off: usize, v: &[u8], after: bool) {
        let Some(node) = self.nodes.get(ni) else {
            return;
        };
        let sz = v.len();
        let full = !self.allow_insert(Some(node), sz);
        let at_tail = after && off + 1 == node.count();
        let at_head = !after && off == 0;
        let avail_next = at_tail && self.allow_insert(self.nodes.get(ni + 1), sz);
        let avail_prev =
            at_head && ni > 0 && self.allow_insert(self.nodes.get(ni.wrapping_sub(1)), sz);
        let node_plain = node.is_plain();
        self.count += 1;
        if is_large(sz, self.fill) {
            if node_plain || at_tail || at_head {
                self.nodes
                    .insert(if after { ni + 1 } else { ni }, Node::plain(v));
            } else {
                let other = self.split(ni, off, after);
                if after {
                    self.nodes.insert(ni + 1, Node::plain(v));
                    self.nodes.insert(ni + 2, other);
                } else {
                    self.nodes.insert(ni, other);
                    self.nodes.insert(ni + 1, Node::plain(v));
                }
            }
        } else if !full {
            if let Some(lp) = self.packed_mut(ni) {
                let pos = lp.seek(off as i64).unwrap_or(lp.end());
                let at = if after {
                    lp.next(pos).unwrap_or(lp.end())
                } else {
                    pos
                };
                lp.insert_at(at, v);
            }
        } else if at_tail && avail_next {
            if let Some(lp) = self.packed_mut(ni + 1) {
                lp.push_front(v);
            }
        } else if at_head && avail_prev {
            if let Some(lp) = self.packed_mut(ni - 1) {
                lp.push_back(v);
            }
        } else if at_tail || at_head {
            self.nodes
                .insert(if after { ni + 1 } else { ni }, Node::with_one(v));
        } else {
            let mut other = self.split(ni, off, after);
            if let Node::Packed { lp, .. } = &mut other {
                if after {
                    lp.push_front(v);
                } else {
                    lp.push_back(v);
                }
            }
            if after {
                self.nodes.insert(ni + 1, other);
                self.merge_around(ni);
            } else {
                self.nodes.insert(ni, other);
                self.merge_around(ni + 1);
            }
        }
        self.settle();
    }

    /// Replaces element `off` of node `ni` (quicklist's
    /// `quicklistReplaceEntry`).
    fn replace(&mut self, ni: usize, off: usize, v: &[u8]) {
        let Some(node) = self.nodes.get(ni) else {
            return;
        };
        let large = is_large(v.len(), self.fill);
        if !node.is_plain() && !large {
            if let Some(lp) = self.packed_mut(ni) {
                if let Some(p) = lp.seek(off as i64) {
                    lp.replace(p, v);
                }
            }
        } else if node.is_plain() {
            if large {
                self.nodes[ni] = Node::plain(v);
            } else {
                // A small value moves next to where the plain node was.
                self.insert(ni, 0, v, true);
                self.nodes.remove(ni);
                self.count -= 1;
            }
        } else {
            // A large value in a packed node: cut the node after the entry,
            // put the value in a plain node behind it, drop the old entry.
            let ncount = node.count();
            let tail = (off + 1 != ncount).then(|| self.split(ni, off, true));
            self.nodes.insert(ni + 1, Node::plain(v));
            if let Some(t) = tail {
                self.nodes.insert(ni + 2, t);
            }
            if self.nodes[ni].count() == 1 {
                self.nodes.remove(ni);
            } else {
                if let Some(lp) = self.packed_mut(ni) {
                    if let Some(p) = lp.last() {
                        lp.delete(p);
                    }
                }
                self.merge_around(ni + 1);
            }
        }
        self.settle();
    }

    /// Deletes `n` elements from index `start` on (quicklistDelRange).
    fn del_range(&mut self, start: usize, n: usize) {
        let Some((mut ni, mut off)) = self.locate(start) else {
            return;
        };
        let mut left = n.min(self.count - start);
        while left > 0 && ni < self.nodes.len() {
            let c = self.nodes[ni].count();
            if (off == 0 && left >= c) || self.nodes[ni].is_plain() {
                self.nodes.remove(ni);
                self.count -= c;
                left = left.saturating_sub(c);
            } else {
                let del = (c - off).min(left);
                let mut empty = false;
                if let Some(lp) = self.packed_mut(ni) {
                    if let Some(p) = lp.seek(off as i64) {
                        lp.delete_range(p, del);
                    }
                    empty = lp.is_empty();
                }
                self.count -= del;
                left -= del;
                if empty {
                    self.nodes.remove(ni);
                } else {
                    ni += 1;
                }
            }
            off = 0;
        }
        self.settle();
    }

    /// LREM: deletes up to `max` elements equal to `needle`.
    fn remove(&mut self, needle: &Needle<'_>, max: usize, reverse: bool) -> usize {
        let mut removed = 0;
        let mut i = if reverse {
            self.nodes.len().wrapping_sub(1)
        } else {
            0
        };
        while i < self.nodes.len() && removed < max {
            let has = self.nodes[i].view(|v| match v {
                View::Plain(d) => d == needle.bytes,
                View::Packed(lp) => lp.iter().any(|it| needle.matches(it)),
            });
            let mut gone = false;
            if has {
                if self.nodes[i].is_plain() {
                    self.nodes.remove(i);
                    self.count -= 1;
                    removed += 1;
                    gone = true;
                } else if let Some(lp) = self.packed_mut(i) {
                    let n = lp_remove(lp, needle, max - removed, reverse);
                    gone = lp.is_empty();
                    self.count -= n;
                    removed += n;
                    if gone {
                        self.nodes.remove(i);
                    }
                }
            }
            if reverse {
                i = i.wrapping_sub(1);
            } else if !gone {
                i += 1;
            }
        }
        if removed > 0 {
            self.settle();
        }
        removed
    }

    /// Calls `f` on elements from index `start` on, towards the tail or the
    /// head, until it returns false.
    fn walk(&self, start: usize, reverse: bool, mut f: impl FnMut(LpItem<'_>) -> bool) {
        let Some((mut ni, off)) = self.locate(start) else {
            return;
        };
        let mut from = Some(off);
        loop {
            let Some(node) = self.nodes.get(ni) else {
                return;
            };
            let go_on = node.view(|v| match v {
                View::Plain(d) => f(LpItem::Str(d)),
                View::Packed(lp) => walk_lp(lp, from, reverse, &mut f),
            });
            from = None;
            if !go_on {
                return;
            }
            if reverse {
                match ni.checked_sub(1) {
                    Some(p) => ni = p,
                    None => return,
                }
            } else {
                ni += 1;
            }
        }
    }
}

// ---- the list -------------------------------------------------------------------

one_word! {
    /// The encoding, in one word (see `thinbuf`): a small list costs only
    /// its listpack.
    struct Enc / EncOwn / EncRef / EncMut {
        thin Pack(LpHeader),
        boxed Quick(Quick) = 2,
    }
}

impl Clone for Enc {
    fn clone(&self) -> Enc {
        Enc::new(match self.get() {
            EncRef::Pack(lp) => EncOwn::Pack(lp.clone()),
            EncRef::Quick(q) => EncOwn::Quick(Box::new(q.clone())),
        })
    }
}

impl fmt::Debug for Enc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            EncRef::Pack(lp) => f.debug_tuple("Pack").field(lp).finish(),
            EncRef::Quick(q) => f.debug_tuple("Quick").field(q).finish(),
        }
    }
}

/// [`List::quicklist_stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuicklistStats {
    pub nodes: usize,
    pub count: usize,
    pub fill: i32,
    pub compressed: bool,
    pub uncompressed_size: usize,
}

#[derive(Clone, Debug)]
pub struct List {
    enc: Enc,
}

impl Default for List {
    fn default() -> Self {
        List::new()
    }
}

/// One node's contents, as RDB stores a quicklist (QUICKLIST_2: each node a
/// listpack or a plain element).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeRef<'a> {
    /// A serialized listpack.
    Packed(&'a [u8]),
    /// One element on its own.
    Plain(&'a [u8]),
}

/// A node to build a list from (RDB loading).
#[derive(Clone, Debug)]
pub enum RawNode {
    Packed(Listpack),
    Plain(Vec<u8>),
}

/// A node as it is kept, for RDB saving: a compressed node comes with its
/// LZF bytes, which RDB stores as they are (Valkey's `rdbSaveLzfBlob`), so a
/// save neither inflates nor recompresses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredNode<'a> {
    /// A serialized listpack.
    Packed(&'a [u8]),
    /// One element on its own.
    Plain(&'a [u8]),
    /// An LZF-compressed packed (or, if `plain`, plain) node of `raw_len`
    /// bytes once inflated.
    Lzf {
        plain: bool,
        data: &'a [u8],
        raw_len: usize,
    },
}

impl List {
    pub fn new() -> List {
        List {
            enc: Enc::new(EncOwn::Pack(Listpack::new())),
        }
    }

    /// A list of these elements, head to tail, encoded as pushing them one by
    /// one would.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>, cfg: &ListConfig) -> List {
        let mut l = List::new();
        for it in items {
            l.push(End::Tail, it, cfg);
        }
        l
    }

    /// A list made of loaded nodes (empty listpacks are skipped), then given
    /// the encoding Valkey picks after loading: a single small packed node
    /// becomes a plain listpack.
    pub fn from_nodes(nodes: impl IntoIterator<Item = RawNode>, cfg: &ListConfig) -> List {
        let mut q = Quick::new(cfg);
        for n in nodes {
            match n {
                RawNode::Packed(lp) => {
                    if !lp.is_empty() {
                        q.count += lp.len();
                        q.nodes.push_back(Node::packed(lp));
                    }
                }
                RawNode::Plain(d) => {
                    q.count += 1;
                    q.nodes.push_back(Node::Plain {
                        data: d.into_boxed_slice(),
                        tried: false,
                    });
                }
            }
        }
        q.settle();
        let mut l = List {
            enc: Enc::new(EncOwn::Quick(Box::new(q))),
        };
        l.convert_auto(cfg);
        l
    }

    /// A list that was one listpack (RDB `LIST_LISTPACK`-style payloads),
    /// converted to a quicklist if it is over the limits.
    pub fn from_listpack(lp: Listpack, cfg: &ListConfig) -> List {
        let mut l = List {
            enc: Enc::new(EncOwn::Pack(lp)),
        };
        l.convert_auto(cfg);
        l
    }

    /// An empty list in the quicklist encoding, which pushes keep (it is
    /// not turned into a listpack while small): what Valkey builds from an
    /// RDB `LIST_ZIPLIST` value (type 10), a quicklist its loader never
    /// converts.
    pub fn new_quicklist(cfg: &ListConfig) -> List {
        List {
            enc: Enc::new(EncOwn::Quick(Box::new(Quick::new(cfg)))),
        }
    }

    pub fn len(&self) -> usize {
        match self.enc.get() {
            EncRef::Pack(lp) => lp.len(),
            EncRef::Quick(q) => q.count,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding_name(&self) -> &'static str {
        match self.enc.get() {
            EncRef::Pack(_) => "listpack",
            EncRef::Quick(_) => "quicklist",
        }
    }

    pub fn is_quicklist(&self) -> bool {
        matches!(self.enc.get(), EncRef::Quick(_))
    }

    /// Number of quicklist nodes (1 for a listpack).
    pub fn node_count(&self) -> usize {
        match self.enc.get() {
            EncRef::Pack(_) => 1,
            EncRef::Quick(q) => q.nodes.len(),
        }
    }

    /// What DEBUG OBJECT shows of a quicklist: node count, elements, the
    /// fill it was created with, whether it compresses, and its nodes'
    /// uncompressed bytes. None for a listpack.
    pub fn quicklist_stats(&self) -> Option<QuicklistStats> {
        match self.enc.get() {
            EncRef::Pack(_) => None,
            EncRef::Quick(q) => Some(QuicklistStats {
                nodes: q.nodes.len(),
                count: q.count,
                fill: q.fill,
                compressed: q.depth != 0,
                uncompressed_size: q.nodes.iter().map(Node::raw_size).sum(),
            }),
        }
    }

    /// Number of compressed quicklist nodes.
    pub fn compressed_nodes(&self) -> usize {
        match self.enc.get() {
            EncRef::Pack(_) => 0,
            EncRef::Quick(q) => q
                .nodes
                .iter()
                .filter(|n| matches!(n, Node::Lzf { .. }))
                .count(),
        }
    }

    /// Bytes held in the allocator; estimated from `samples` nodes when
    /// non-zero (Valkey's objectComputeSize samples quicklist nodes), exact
    /// when 0.
    pub fn memory_usage(&self, samples: usize) -> usize {
        match self.enc.get() {
            EncRef::Pack(lp) => lp.memory_usage(),
            EncRef::Quick(q) => {
                let fixed = crate::alloc::alloc_size(std::mem::size_of::<Quick>())
                    + crate::alloc::alloc_size(q.nodes.capacity() * std::mem::size_of::<Node>());
                if samples == 0 || samples >= q.nodes.len() {
                    return fixed + q.nodes.iter().map(Node::memory_usage).sum::<usize>();
                }
                let (mut bytes, mut elems) = (0usize, 0usize);
                for n in q.nodes.iter().take(samples) {
                    bytes += n.memory_usage();
                    elems += n.count();
                }
                if elems == 0 {
                    return fixed;
                }
                fixed + (bytes as f64 / elems as f64 * q.count as f64) as usize
            }
        }
    }

    /// Valkey's lazyfree effort: how many allocations dropping this frees.
    pub fn free_effort(&self) -> usize {
        match self.enc.get() {
            EncRef::Pack(_) => 1,
            EncRef::Quick(q) => q.nodes.len().max(1),
        }
    }

    /// Elements head to tail.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        let mut buf = [0u8; 20];
        self.walk(0, false, |it| {
            match it {
                LpItem::Int(i) => f(fmt_i64(i, &mut buf)),
                LpItem::Str(s) => f(s),
            }
            true
        });
    }

    /// The nodes as RDB stores them (a listpack list is one packed node).
    pub fn for_each_node(&self, mut f: impl FnMut(NodeRef<'_>)) {
        match self.enc.get() {
            EncRef::Pack(lp) => f(NodeRef::Packed(lp.as_bytes())),
            EncRef::Quick(q) => {
                for n in &q.nodes {
                    n.view(|v| match v {
                        View::Packed(lp) => f(NodeRef::Packed(lp.as_bytes())),
                        View::Plain(d) => f(NodeRef::Plain(d)),
                    });
                }
            }
        }
    }

    /// The nodes as they are kept (compressed ones still compressed), for
    /// RDB saving; a listpack list is one packed node.
    pub fn for_each_stored_node(&self, mut f: impl FnMut(StoredNode<'_>)) {
        match self.enc.get() {
            EncRef::Pack(lp) => f(StoredNode::Packed(lp.as_bytes())),
            EncRef::Quick(q) => {
                for n in &q.nodes {
                    f(match n {
                        Node::Packed { lp, .. } => StoredNode::Packed(lp.as_bytes()),
                        Node::Plain { data, .. } => StoredNode::Plain(data),
                        Node::Lzf {
                            data,
                            raw_len,
                            plain,
                            ..
                        } => StoredNode::Lzf {
                            plain: *plain,
                            data,
                            raw_len: *raw_len,
                        },
                    });
                }
            }
        }
    }

    /// Calls `f` on the elements from index `start` (0-based, from the head)
    /// towards the tail, or towards the head when `reverse`, until `f`
    /// returns false or the list ends. Reaching `start` costs
    /// O(distance from the nearer end).
    pub fn walk(&self, start: usize, reverse: bool, mut f: impl FnMut(LpItem<'_>) -> bool) {
        match self.enc.get() {
            EncRef::Pack(lp) => {
                if start < lp.len() {
                    walk_lp(lp, Some(start), reverse, &mut f);
                }
            }
            EncRef::Quick(q) => q.walk(start, reverse, f),
        }
    }

    /// `index` (negative counts from the tail) as a position, if in range.
    pub fn resolve(&self, index: i64) -> Option<usize> {
        let len = self.len() as i64;
        let i = if index < 0 {
            len.checked_add(index)?
        } else {
            index
        };
        (0..len).contains(&i).then_some(i as usize)
    }

    /// Calls `f` with the element at `index` (negative from the tail).
    pub fn with_index<R>(&self, index: i64, f: impl FnOnce(LpItem<'_>) -> R) -> Option<R> {
        let i = self.resolve(index)?;
        let mut f = Some(f);
        let mut r = None;
        self.walk(i, false, |it| {
            if let Some(f) = f.take() {
                r = Some(f(it));
            }
            false
        });
        r
    }

    /// The element at `index` (negative from the tail).
    pub fn get(&self, index: i64) -> Option<Vec<u8>> {
        self.with_index(index, |it| it.to_vec())
    }

    /// Index of the first element equal to `v`, from the head.
    pub fn find(&self, v: &[u8]) -> Option<usize> {
        let n = Needle::new(v);
        let mut i = 0;
        let mut found = None;
        self.walk(0, false, |it| {
            if n.matches(it) {
                found = Some(i);
                return false;
            }
            i += 1;
            true
        });
        found
    }

    /// Turns a listpack into a quicklist if adding `add_count` elements of
    /// `add_bytes` bytes in all would take it over the limit (Valkey checks
    /// this before any addition, for the whole batch).
    fn grow(&mut self, add_bytes: usize, add_count: usize, cfg: &ListConfig) {
        let EncMut::Pack(lp) = self.enc.get_mut() else {
            return;
        };
        if !exceeds_limit(cfg.fill, lp.byte_len() + add_bytes, lp.len() + add_count) {
            return;
        }
        let lp = std::mem::take(lp);
        let mut q = Quick::new(cfg);
        if !lp.is_empty() {
            q.count = lp.len();
            q.nodes.push_back(Node::packed(lp));
        }
        self.enc = Enc::new(EncOwn::Quick(Box::new(q)));
    }

    /// A quicklist of one small packed node back into a listpack. The limit
    /// is halved when shrinking, so lists near it do not flip back and forth.
    fn repack_if_small(&mut self, cfg: &ListConfig, shrinking: bool) {
        let EncMut::Quick(q) = self.enc.get_mut() else {
            return;
        };
        if q.nodes.len() != 1 || q.nodes[0].is_plain() {
            return;
        }
        let (mut sz_limit, mut count_limit) = node_limit(cfg.fill);
        if shrinking {
            sz_limit /= 2;
            count_limit /= 2;
        }
        if q.nodes[0].raw_size() > sz_limit || q.count > count_limit {
            return;
        }
        if let Some(Raw::Packed(lp)) = q.nodes.pop_front().map(Node::into_raw) {
            self.enc = Enc::new(EncOwn::Pack(lp));
        }
    }

    /// After elements were removed: Valkey's `LIST_CONV_SHRINKING`.
    pub fn shrink(&mut self, cfg: &ListConfig) {
        self.repack_if_small(cfg, true);
    }

    /// The encoding a freshly built list gets (`LIST_CONV_AUTO`).
    pub fn convert_auto(&mut self, cfg: &ListConfig) {
        match self.enc.get() {
            EncRef::Pack(_) => self.grow(0, 0, cfg),
            EncRef::Quick(_) => self.repack_if_small(cfg, false),
        }
    }

    fn push_raw(&mut self, end: End, v: &[u8]) {
        match self.enc.get_mut() {
            EncMut::Pack(lp) => match end {
                End::Head => lp.push_front(v),
                End::Tail => lp.push_back(v),
            },
            EncMut::Quick(q) => q.push(end, v),
        }
    }

    /// Pushes one element (converting to a quicklist first if needed).
    pub fn push(&mut self, end: End, v: &[u8], cfg: &ListConfig) {
        self.grow(v.len(), 1, cfg);
        self.push_raw(end, v);
    }

    /// LPUSH/RPUSH: pushes `items` in order at `end`, the conversion decided
    /// once for the whole batch as Valkey does.
    pub fn push_all<'v, I>(&mut self, end: End, items: I, cfg: &ListConfig)
    where
        I: IntoIterator<Item = &'v [u8]>,
        I::IntoIter: ExactSizeIterator + Clone,
    {
        let items = items.into_iter();
        let bytes = items.clone().map(<[u8]>::len).sum();
        self.grow(bytes, items.len(), cfg);
        for v in items {
            self.push_raw(end, v);
        }
    }

    /// Pushes an element popped from a list (LMOVE): Valkey hands it over as
    /// an integer object when it was one, and integers do not count towards
    /// the size check.
    pub fn push_popped(&mut self, end: End, v: &[u8], cfg: &ListConfig) {
        let bytes = if super::listpack::parse_canonical_int(v).is_some() {
            0
        } else {
            v.len()
        };
        self.grow(bytes, 1, cfg);
        self.push_raw(end, v);
    }

    /// Removes and returns the element at `end`. The encoding is left as it
    /// is: callers apply [`List::shrink`] once they are done removing.
    pub fn pop(&mut self, end: End) -> Option<Vec<u8>> {
        match self.enc.get_mut() {
            EncMut::Pack(lp) => {
                let p = match end {
                    End::Head => lp.first()?,
                    End::Tail => lp.last()?,
                };
                let v = lp.get(p).to_vec();
                lp.delete(p);
                Some(v)
            }
            EncMut::Quick(q) => q.pop(end),
        }
    }

    /// LSET: replaces the element at `index`; false if out of range. Like
    /// Valkey, the size check for growing runs first, and a successful
    /// replacement may shrink the list back to a listpack.
    pub fn set(&mut self, index: i64, v: &[u8], cfg: &ListConfig) -> bool {
        self.grow(v.len(), 1, cfg);
        let Some(i) = self.resolve(index) else {
            return false;
        };
        match self.enc.get_mut() {
            EncMut::Pack(lp) => {
                if let Some(p) = lp.seek(i as i64) {
                    lp.replace(p, v);
                }
            }
            EncMut::Quick(q) => {
                if let Some((ni, off)) = q.locate(i) {
                    q.replace(ni, off, v);
                }
            }
        }
        self.shrink(cfg);
        true
    }

    /// LINSERT: inserts `v` before or after the first element equal to
    /// `pivot`; false if there is none. (The growing check runs first, even
    /// when the pivot turns out to be missing, as in Valkey.)
    pub fn insert(&mut self, pivot: &[u8], v: &[u8], after: bool, cfg: &ListConfig) -> bool {
        self.grow(v.len(), 1, cfg);
        let Some(i) = self.find(pivot) else {
            return false;
        };
        self.insert_at(i, v, after);
        true
    }

    /// Inserts `v` before or after the element at index `i`.
    pub fn insert_at(&mut self, i: usize, v: &[u8], after: bool) {
        match self.enc.get_mut() {
            EncMut::Pack(lp) => {
                let Some(p) = lp.seek(i as i64) else {
                    return;
                };
                let at = if after {
                    lp.next(p).unwrap_or(lp.end())
                } else {
                    p
                };
                lp.insert_at(at, v);
            }
            EncMut::Quick(q) => {
                if let Some((ni, off)) = q.locate(i) {
                    q.insert(ni, off, v, after);
                }
            }
        }
    }

    /// LREM: removes elements equal to `v` — all when `count` is 0, else up
    /// to |count| of them from the head (positive) or the tail (negative).
    /// Returns how many were removed. Apply [`List::shrink`] afterwards.
    pub fn remove(&mut self, v: &[u8], count: i64) -> usize {
        let needle = Needle::new(v);
        let max = match count.unsigned_abs() {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let reverse = count < 0;
        match self.enc.get_mut() {
            EncMut::Pack(lp) => lp_remove(lp, &needle, max, reverse),
            EncMut::Quick(q) => q.remove(&needle, max, reverse),
        }
    }

    /// Deletes `count` elements from index `start` on (clamped to the list).
    /// Apply [`List::shrink`] afterwards.
    pub fn delete_range(&mut self, start: usize, count: usize) {
        if count == 0 || start >= self.len() {
            return;
        }
        match self.enc.get_mut() {
            EncMut::Pack(lp) => {
                if let Some(p) = lp.seek(start as i64) {
                    lp.delete_range(p, count);
                }
            }
            EncMut::Quick(q) => q.del_range(start, count),
        }
    }

    /// LTRIM's removal: `ltrim` elements from the head, `rtrim` from the
    /// tail.
    pub fn trim(&mut self, ltrim: usize, rtrim: usize) {
        self.delete_range(0, ltrim);
        let len = self.len();
        let r = rtrim.min(len);
        self.delete_range(len - r, r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg(fill: i32, depth: u32) -> ListConfig {
        ListConfig {
            fill,
            compress_depth: depth,
        }
    }

    fn items(l: &List) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        l.for_each(|e| v.push(e.to_vec()));
        v
    }

    fn strs(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    /// Checks the structure against the rules: counts add up, no empty
    /// nodes, packed nodes within the limit (a lone element may exceed it
    /// only in its own plain node), compression only in the interior, and
    /// the reverse walk agrees with the forward one.
    fn check(l: &List) {
        let fwd = items(l);
        assert_eq!(fwd.len(), l.len());
        let mut back = Vec::new();
        if !l.is_empty() {
            l.walk(l.len() - 1, true, |it| {
                back.push(it.to_vec());
                true
            });
        }
        back.reverse();
        assert_eq!(fwd, back);
        if let EncRef::Quick(q) = l.enc.get() {
            let total: usize = q.nodes.iter().map(Node::count).sum();
            assert_eq!(total, q.count);
            for (i, n) in q.nodes.iter().enumerate() {
                assert!(n.count() > 0, "empty node {i}");
                if matches!(n, Node::Lzf { .. }) {
                    assert!(
                        i >= q.depth && i + q.depth < q.nodes.len(),
                        "compressed end node"
                    );
                }
                if !n.is_plain() {
                    // (Bytes may exceed the limit: LSET replaces in place
                    // without checking it, as in Valkey.)
                    let (_, cnt) = node_limit(q.fill);
                    assert!(n.count() <= cnt.max(1), "node {i} over count");
                }
            }
        }
    }

    #[test]
    fn node_is_compact() {
        assert!(
            std::mem::size_of::<Node>() <= 32,
            "{}",
            std::mem::size_of::<Node>()
        );
        // Both encodings share one tagged pointer.
        assert_eq!(std::mem::size_of::<List>(), 8);
    }

    #[test]
    fn limits_follow_fill() {
        assert_eq!(node_limit(-1), (4096, usize::MAX));
        assert_eq!(node_limit(-2), (8192, usize::MAX));
        assert_eq!(node_limit(-5), (65536, usize::MAX));
        assert_eq!(node_limit(-100), (65536, usize::MAX));
        assert_eq!(node_limit(0), (usize::MAX, 1));
        assert_eq!(node_limit(128), (usize::MAX, 128));
        assert!(exceeds_limit(128, 8193, 1));
        assert!(!exceeds_limit(128, 8192, 128));
        assert!(exceeds_limit(128, 100, 129));
        assert!(is_large(8193, -2) && !is_large(8192, -2));
        assert!(is_large(8193, 5) && !is_large(8192, 5));
        assert!(is_large(4097, -1));
    }

    #[test]
    fn listpack_to_quicklist_by_count_and_back() {
        let c = cfg(3, 0);
        let mut l = List::new();
        l.push_all(End::Tail, [&b"a"[..], b"b", b"c"], &c);
        assert_eq!(l.encoding_name(), "listpack");
        l.push(End::Tail, b"d", &c);
        assert_eq!(l.encoding_name(), "quicklist");
        assert_eq!(items(&l), strs(&["a", "b", "c", "d"]));
        // Valkey's "RPOP lst 3" case: one element left, 1 <= 3/2.
        l.delete_range(1, 3);
        l.shrink(&c);
        assert_eq!(l.encoding_name(), "listpack");
        assert_eq!(items(&l), strs(&["a"]));
    }

    #[test]
    fn fill_zero_means_one_and_big_fill_means_size_limit() {
        let c = cfg(0, 0);
        let mut l = List::new();
        l.push(End::Tail, b"a", &c);
        assert_eq!(l.encoding_name(), "listpack");
        l.push(End::Tail, b"b", &c);
        assert_eq!(l.encoding_name(), "quicklist");
        assert_eq!(l.node_count(), 2);

        let c = cfg(-6, 0);
        let mut l = List::new();
        l.push(End::Tail, &vec![b'x'; 60000], &c);
        assert_eq!(l.encoding_name(), "listpack");
        l.push(End::Tail, &vec![b'x'; 5536], &c);
        assert_eq!(l.encoding_name(), "quicklist");
    }

    #[test]
    fn large_elements_get_plain_nodes() {
        let c = cfg(-1, 0);
        let big = vec![b'x'; 8192];
        let mut l = List::new();
        l.push_all(End::Tail, [&b"a"[..], b"b", b"c"], &c);
        l.push(End::Tail, &big, &c);
        assert_eq!(l.encoding_name(), "quicklist");
        assert_eq!(l.node_count(), 2);
        // RPOP 1 leaves a small single node: back to listpack.
        assert_eq!(l.pop(End::Tail), Some(big.clone()));
        l.shrink(&c);
        assert_eq!(l.encoding_name(), "listpack");

        // "$large a b", RPOP 2 -> one plain node stays a quicklist; LSET of
        // a small value replaces it by a packed node, then it converts.
        let mut l = List::new();
        l.push_all(End::Tail, [&big[..], b"a", b"b"], &c);
        l.pop(End::Tail);
        l.pop(End::Tail);
        l.shrink(&c);
        assert_eq!(l.encoding_name(), "quicklist");
        assert!(l.set(-1, b"c", &c));
        assert_eq!(l.encoding_name(), "listpack");
        assert_eq!(items(&l), strs(&["c"]));
    }

    #[test]
    fn lset_quirk_converts_on_count_even_without_growth() {
        // Valkey checks "length + 1" before LSET: a full listpack converts
        // and, with 3 elements > 3/2, stays a quicklist.
        let c = cfg(3, 0);
        let mut l = List::from_items([&b"a"[..], b"b", b"c"], &c);
        assert_eq!(l.encoding_name(), "listpack");
        assert!(l.set(0, b"z", &c));
        assert_eq!(l.encoding_name(), "quicklist");
        assert!(!l.set(7, b"z", &c));
        assert_eq!(items(&l), strs(&["z", "b", "c"]));
    }

    #[test]
    fn lset_large_into_the_middle_of_a_packed_node_splits_it() {
        let c = cfg(4, 0);
        let mut l = List::from_items(
            ["aa", "bb", "cc", "dd", "ee"].iter().map(|s| s.as_bytes()),
            &c,
        );
        assert_eq!(l.encoding_name(), "quicklist");
        let big = vec![b'e'; 9000];
        assert!(l.set(2, &big, &c));
        check(&l);
        assert_eq!(
            items(&l),
            vec![
                b"aa".to_vec(),
                b"bb".to_vec(),
                big.clone(),
                b"dd".to_vec(),
                b"ee".to_vec()
            ]
        );
        assert!(l.set(2, b"small", &c));
        check(&l);
        assert_eq!(items(&l), strs(&["aa", "bb", "small", "dd", "ee"]));
    }

    #[test]
    fn insert_splits_full_nodes_and_merges() {
        let c = cfg(4, 0);
        let mut l = List::new();
        for i in 0..16 {
            l.push(End::Tail, i.to_string().as_bytes(), &c);
        }
        assert_eq!(l.node_count(), 4);
        // Inserting into the middle of a full node splits it.
        l.insert_at(5, b"x", true);
        check(&l);
        let mut want: Vec<Vec<u8>> = (0..16).map(|i: i32| i.to_string().into_bytes()).collect();
        want.insert(6, b"x".to_vec());
        assert_eq!(items(&l), want);
        // Before the head of a node whose previous node is full: new node.
        l.insert_at(0, b"y", false);
        want.insert(0, b"y".to_vec());
        check(&l);
        assert_eq!(items(&l), want);
        assert!(l.insert(b"15", b"end", true, &c));
        want.push(b"end".to_vec());
        assert!(!l.insert(b"nope", b"q", true, &c));
        check(&l);
        assert_eq!(items(&l), want);
    }

    #[test]
    fn remove_and_trim() {
        let c = cfg(2, 0);
        let mut l = List::from_items(
            ["a", "b", "a", "c", "a", "1", "a"]
                .iter()
                .map(|s| s.as_bytes()),
            &c,
        );
        assert_eq!(l.remove(b"a", -2), 2);
        check(&l);
        assert_eq!(items(&l), strs(&["a", "b", "a", "c", "1"]));
        assert_eq!(l.remove(b"1", 0), 1);
        assert_eq!(l.remove(b"a", 0), 2);
        check(&l);
        assert_eq!(items(&l), strs(&["b", "c"]));
        l.shrink(&c);
        assert_eq!(l.encoding_name(), "quicklist"); // 2 > 2/2

        let mut l = List::from_items(
            (0..100)
                .map(|i| format!("v{i}"))
                .collect::<Vec<_>>()
                .iter()
                .map(|s| s.as_bytes()),
            &c,
        );
        l.trim(10, 85);
        check(&l);
        assert_eq!(
            items(&l),
            (10..15)
                .map(|i| format!("v{i}").into_bytes())
                .collect::<Vec<_>>()
        );
        l.trim(0, 100);
        assert!(l.is_empty());
    }

    #[test]
    fn integers_are_compared_like_valkey() {
        let c = ListConfig::default();
        let l = List::from_items([&b"12"[..], b"012", b"-0", b"9223372036854775807"], &c);
        assert_eq!(l.find(b"12"), Some(0));
        assert_eq!(l.find(b"012"), Some(1));
        assert_eq!(l.find(b"-0"), Some(2));
        assert_eq!(l.find(b"9223372036854775807"), Some(3));
        assert_eq!(l.find(b"+12"), None);
        assert_eq!(l.get(-1), Some(b"9223372036854775807".to_vec()));
        assert_eq!(l.get(-5), None);
        assert_eq!(l.get(4), None);
        assert_eq!(l.get(i64::MIN), None);
    }

    #[test]
    fn compression_keeps_ends_raw() {
        let c = cfg(4, 1);
        let mut l = List::new();
        let chunk = "abcdefgh".repeat(10);
        for i in 0..40 {
            l.push(End::Tail, format!("{chunk}{i}").as_bytes(), &c);
        }
        check(&l);
        assert_eq!(l.node_count(), 10);
        assert_eq!(l.compressed_nodes(), 8);
        assert_eq!(l.get(17), Some(format!("{chunk}17").into_bytes()));
        // Edits in a compressed node recompress it.
        assert!(l.set(17, b"x", &c));
        l.insert_at(21, b"y", false);
        check(&l);
        assert_eq!(l.compressed_nodes(), l.node_count() - 2);
        // Popping the end nodes exposes compressed ones, which inflate.
        for _ in 0..8 {
            l.pop(End::Head);
        }
        check(&l);
        assert_eq!(l.compressed_nodes(), l.node_count() - 2);
        // Compressed, it takes much less memory than raw.
        let mut raw = List::new();
        l.for_each(|e| raw.push(End::Tail, e, &cfg(4, 0)));
        assert_eq!(items(&raw), items(&l));
        assert!(l.memory_usage(0) * 2 < raw.memory_usage(0));
    }

    #[test]
    fn packed_threshold_overrides_fill() {
        // The global itself is left alone: tests run in parallel.
        assert!(large_for(10, -2, 10) && !large_for(9, -2, 10));
        assert!(!large_for(9000, -2, 10_000));
        assert!(!set_packed_threshold((1 << 32) - (1 << 20) + 1));
    }

    #[test]
    fn nodes_round_trip() {
        let c = cfg(4, 0);
        let big = vec![b'z'; 9000];
        let l = List::from_items(
            [&b"a"[..], b"b", b"c", b"d", b"e", &big, b"7"]
                .iter()
                .copied(),
            &c,
        );
        let mut nodes = Vec::new();
        l.for_each_node(|n| {
            nodes.push(match n {
                NodeRef::Packed(b) => RawNode::Packed(Listpack::from_bytes(b).unwrap()),
                NodeRef::Plain(d) => RawNode::Plain(d.to_vec()),
            })
        });
        assert_eq!(nodes.len(), 4);
        let back = List::from_nodes(nodes, &c);
        assert_eq!(items(&back), items(&l));
        assert_eq!(back.encoding_name(), "quicklist");
        // One small packed node loads as a listpack.
        let one = List::from_nodes([RawNode::Packed(Listpack::from_items([&b"a"[..]]))], &c);
        assert_eq!(one.encoding_name(), "listpack");
    }

    #[test]
    fn memory_is_dense() {
        let c = ListConfig::default();
        let mut l = List::new();
        for i in 0..100_000u32 {
            l.push(End::Tail, format!("el:{i:09}").as_bytes(), &c);
        }
        let exact = l.memory_usage(0);
        let per = exact as f64 / 100_000.0;
        // 1 + 12 + 1 bytes per entry plus node overhead.
        assert!(per < 14.5, "{per}");
        let est = l.memory_usage(5);
        assert!((est as f64 - exact as f64).abs() / (exact as f64) < 0.05);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(bool, Vec<u8>),
        PushMany(bool, Vec<Vec<u8>>),
        Pop(bool),
        Set(i64, Vec<u8>),
        Insert(bool, usize, Vec<u8>),
        Remove(i64, usize),
        DelRange(usize, usize),
        Trim(usize, usize),
    }

    fn elem() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            6 => (0u32..20).prop_map(|i| i.to_string().into_bytes()),
            3 => "[a-c]{1,12}".prop_map(String::into_bytes),
            1 => (40usize..200).prop_map(|n| vec![b'q'; n]),
            1 => (4000usize..9000).prop_map(|n| vec![b'L'; n]),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<bool>(), elem()).prop_map(|(h, v)| Op::Push(h, v)),
            2 => (any::<bool>(), proptest::collection::vec(elem(), 1..6)).prop_map(|(h, v)| Op::PushMany(h, v)),
            2 => any::<bool>().prop_map(Op::Pop),
            2 => (-30i64..30, elem()).prop_map(|(i, v)| Op::Set(i, v)),
            2 => (any::<bool>(), 0usize..40, elem()).prop_map(|(a, i, v)| Op::Insert(a, i, v)),
            1 => (-3i64..4, 0usize..40).prop_map(|(c, i)| Op::Remove(c, i)),
            1 => (0usize..40, 0usize..10).prop_map(|(s, n)| Op::DelRange(s, n)),
            1 => (0usize..5, 0usize..5).prop_map(|(a, b)| Op::Trim(a, b)),
        ]
    }

    fn end(h: bool) -> End {
        if h {
            End::Head
        } else {
            End::Tail
        }
    }

    proptest! {
        // 200 cases unless PROPTEST_CASES asks for more.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(200),
            ..ProptestConfig::default()
        })]
        #[test]
        fn behaves_like_a_vec(
            fill in prop_oneof![Just(-1), Just(-2), Just(0), Just(1), Just(3), Just(5)],
            depth in 0u32..3,
            ops in proptest::collection::vec(op(), 1..80),
        ) {
            let c = cfg(fill, depth);
            let mut l = List::new();
            let mut m: std::collections::VecDeque<Vec<u8>> = Default::default();
            for o in ops {
                match o {
                    Op::Push(h, v) => {
                        l.push(end(h), &v, &c);
                        if h { m.push_front(v) } else { m.push_back(v) }
                    }
                    Op::PushMany(h, vs) => {
                        let refs: Vec<&[u8]> = vs.iter().map(|v| &v[..]).collect();
                        l.push_all(end(h), refs.iter().copied(), &c);
                        for v in vs {
                            if h { m.push_front(v) } else { m.push_back(v) }
                        }
                    }
                    Op::Pop(h) => {
                        let want = if h { m.pop_front() } else { m.pop_back() };
                        prop_assert_eq!(l.pop(end(h)), want);
                        l.shrink(&c);
                    }
                    Op::Set(i, v) => {
                        let len = m.len() as i64;
                        let idx = if i < 0 { len + i } else { i };
                        let ok = l.set(i, &v, &c);
                        prop_assert_eq!(ok, (0..len).contains(&idx));
                        if ok { m[idx as usize] = v; }
                    }
                    Op::Insert(after, i, v) => {
                        if i < m.len() {
                            let pivot = m[i].clone();
                            let first = m.iter().position(|e| *e == pivot).unwrap();
                            prop_assert!(l.insert(&pivot, &v, after, &c));
                            m.insert(if after { first + 1 } else { first }, v);
                        }
                    }
                    Op::Remove(cnt, i) => {
                        if i < m.len() {
                            let target = m[i].clone();
                            let n = l.remove(&target, cnt);
                            let max = if cnt == 0 { usize::MAX } else { cnt.unsigned_abs() as usize };
                            let mut done = 0;
                            if cnt >= 0 {
                                let mut k = 0;
                                while k < m.len() {
                                    if done < max && m[k] == target { m.remove(k); done += 1; } else { k += 1; }
                                }
                            } else {
                                let mut k = m.len();
                                while k > 0 {
                                    k -= 1;
                                    if done < max && m[k] == target { m.remove(k); done += 1; }
                                }
                            }
                            prop_assert_eq!(n, done);
                            l.shrink(&c);
                        }
                    }
                    Op::DelRange(s, n) => {
                        l.delete_range(s, n);
                        if s < m.len() {
                            let e = (s + n).min(m.len());
                            m.drain(s..e);
                        }
                        l.shrink(&c);
                    }
                    Op::Trim(a, b) => {
                        l.trim(a, b);
                        let a = a.min(m.len());
                        m.drain(..a);
                        let b = b.min(m.len());
                        let keep = m.len() - b;
                        m.truncate(keep);
                        l.shrink(&c);
                    }
                }
                check(&l);
                let want: Vec<Vec<u8>> = m.iter().cloned().collect();
                prop_assert_eq!(items(&l), want);
                for probe in [0i64, 1, -1, 3] {
                    let len = m.len() as i64;
                    let idx = if probe < 0 { len + probe } else { probe };
                    let want = (0..len).contains(&idx).then(|| m[idx as usize].clone());
                    prop_assert_eq!(l.get(probe), want);
                }
            }
        }
    }
}
