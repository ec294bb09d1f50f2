//! The stream type: an append-only log of entries named by 128-bit IDs
//! (`<ms>-<seq>`), each a list of field/value pairs, plus consumer groups.
//!
//! Storage follows Valkey's design and byte format, so that memory per entry
//! matches it and an RDB / DUMP payload can carry the chunks as they are.
//! Entries are packed into listpack chunks ("nodes"), each keyed by the ID
//! of the first entry it was created with (its "master ID"), kept in master
//! ID order. Valkey uses a radix tree keyed by the big-endian ID; here a
//! blocked double-ended vector searched by bisection gives the same order
//! and seeks for less memory (see `NodeIndex`). A node's listpack starts
//! with a master entry, then holds the entries:
//!
//! ```text
//! master   count | deleted | num-fields | field_1 ... field_N | 0
//! entry    flags | ms-diff | seq-diff | num-fields | f_1 | v_1 ... | lp-count
//! entry    flags | ms-diff | seq-diff | v_1 ... v_N | lp-count   (SAMEFIELDS)
//! ```
//!
//! IDs are stored as differences from the master ID (small integers), and an
//! entry whose field names equal the master entry's stores only its values.
//! `lp-count` is the number of listpack elements of the entry before it, so
//! the node can be walked backwards. Deleted entries are only flagged
//! (tombstones) and counted in the master entry; a node is dropped when its
//! last live entry is deleted or when trimming removes it whole.
//!
//! A new node starts when the tail node reaches `stream-node-max-bytes` or
//! `stream-node-max-entries` (live and deleted), exactly as in Valkey, since
//! approximate trimming (`MAXLEN ~`) works in whole nodes and its results are
//! visible to clients.

#[path = "stream_group.rs"]
mod group;

pub use group::{Consumer, CountUpdate, Group, Nack, INVALID_ENTRIES_READ};

use super::listpack::{Listpack, LpItem};
use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// Entry flag: deleted (a tombstone).
const FLAG_DELETED: i64 = 1;
/// Entry flag: same field names as the master entry (values only).
const FLAG_SAMEFIELDS: i64 = 2;

/// Largest listpack a node may become, whatever the configuration
/// (Valkey's `STREAM_LISTPACK_MAX_SIZE`), and the largest total size of one
/// entry's fields and values.
const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// A stream entry ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    pub fn is_zero(self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// The next ID; None after the last possible one.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID; None before 0-0.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// The `<ms>-<seq>` text, without allocating.
    pub fn text(self) -> IdText {
        let mut buf = [0u8; 41];
        let mut t = [0u8; 20];
        let ms = crate::util::num::u64_to_buf(self.ms, &mut t);
        let a = ms.len();
        buf[..a].copy_from_slice(ms);
        buf[a] = b'-';
        let seq = crate::util::num::u64_to_buf(self.seq, &mut t);
        buf[a + 1..a + 1 + seq.len()].copy_from_slice(seq);
        IdText {
            buf,
            len: (a + 1 + seq.len()) as u8,
        }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// The text of an ID on the stack (at most 41 bytes).
#[derive(Clone, Copy)]
pub struct IdText {
    buf: [u8; 41],
    len: u8,
}

impl std::ops::Deref for IdText {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

/// The node size limits (`stream-node-max-bytes`, `stream-node-max-entries`;
/// 0 means no limit).
#[derive(Clone, Copy, Debug)]
pub struct StreamConfig {
    pub node_max_bytes: usize,
    pub node_max_entries: u64,
}

impl StreamConfig {
    pub fn from_config(c: &crate::config::Config) -> StreamConfig {
        StreamConfig {
            node_max_bytes: c.stream_node_max_bytes,
            node_max_entries: c.stream_node_max_entries,
        }
    }
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            node_max_bytes: 4096,
            node_max_entries: 100,
        }
    }
}

/// How the ID of a new entry is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewId {
    /// `*`: the current time, or the last ID's successor.
    Auto,
    /// `<ms>-*`: this time, with the next free sequence.
    AutoSeq(u64),
    /// A full ID.
    Exact(StreamId),
}

/// Why an entry could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the stream's last ID.
    NotGreater,
    /// The fields and values are too large for a node.
    TooLarge,
}

/// What trimming keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    /// At most this many entries.
    MaxLen(u64),
    /// No entry with a smaller ID.
    MinId(StreamId),
}

/// A trim request (XTRIM, or XADD's MAXLEN / MINID).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trim {
    pub strategy: TrimStrategy,
    /// `~`: remove only whole nodes.
    pub approx: bool,
    /// Most entries to remove; 0 for no limit.
    pub limit: u64,
}

/// A field and value as bytes (integers formatted).
type CowPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// The consumer groups, by name (name order, as Valkey lists them).
pub type Groups = BTreeMap<Vec<u8>, Group>;

/// Nodes per block of the node index: 64 × 40 bytes is 2560 bytes, one of
/// the allocator's size classes exactly. (Tiny in unit tests, so that the
/// property tests cross block boundaries all the time.)
const BLOCK: usize = if cfg!(test) { 3 } else { 64 };

/// A node and its master ID.
type NodeSlot = (StreamId, Listpack);

/// Where a node is in the index: (block, offset in the block).
type NodePos = (usize, usize);

/// The nodes in master-ID order. Valkey keeps them in a radix tree. Nodes
/// are only ever added at the end and mostly dropped from the front
/// (trimming), so here they sit in blocks of [`BLOCK`] double-ended slots,
/// searched by bisection: about 40 bytes a node, where a B-tree takes about
/// 90 and one big vector loses up to a quarter to the allocator's rounding
/// (with 100 entries a node, every 10 bytes here are 0.1 byte an entry).
#[derive(Clone, Debug, Default)]
struct NodeIndex {
    blocks: Vec<VecDeque<NodeSlot>>,
    len: usize,
}

impl NodeIndex {
    fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = &NodeSlot> {
        self.blocks.iter().flat_map(|b| b.iter())
    }

    fn at(&self, (b, o): NodePos) -> Option<&NodeSlot> {
        self.blocks.get(b)?.get(o)
    }

    fn first_pos(&self) -> Option<NodePos> {
        (self.len > 0).then_some((0, 0))
    }

    fn next_pos(&self, (b, o): NodePos) -> Option<NodePos> {
        let block = self.blocks.get(b)?;
        if o + 1 < block.len() {
            Some((b, o + 1))
        } else {
            (b + 1 < self.blocks.len()).then_some((b + 1, 0))
        }
    }

    fn prev_pos(&self, (b, o): NodePos) -> Option<NodePos> {
        if o > 0 {
            Some((b, o - 1))
        } else if b > 0 {
            Some((b - 1, self.blocks[b - 1].len().checked_sub(1)?))
        } else {
            None
        }
    }

    /// The last node starting at or before `id` (the one that would hold
    /// it).
    fn find_pos(&self, id: StreamId) -> Option<NodePos> {
        let b = self
            .blocks
            .partition_point(|blk| blk.front().is_some_and(|(k, _)| *k <= id))
            .checked_sub(1)?;
        let o = self.blocks[b]
            .partition_point(|(k, _)| *k <= id)
            .checked_sub(1)?;
        Some((b, o))
    }

    fn find(&self, id: StreamId) -> Option<&NodeSlot> {
        self.at(self.find_pos(id)?)
    }

    /// The position of the node starting exactly at `master`.
    fn exact_pos(&self, master: StreamId) -> Option<NodePos> {
        self.find_pos(master)
            .filter(|&p| self.at(p).is_some_and(|(k, _)| *k == master))
    }

    fn get_mut(&mut self, master: StreamId) -> Option<&mut Listpack> {
        let (b, o) = self.exact_pos(master)?;
        self.blocks[b].get_mut(o).map(|(_, lp)| lp)
    }

    fn first(&self) -> Option<&NodeSlot> {
        self.blocks.first()?.front()
    }

    fn last_mut(&mut self) -> Option<&mut NodeSlot> {
        self.blocks.last_mut()?.back_mut()
    }

    /// Appends a node (its master ID is above every other).
    fn push(&mut self, master: StreamId, lp: Listpack) {
        if self.blocks.last().is_none_or(|b| b.len() >= BLOCK) {
            self.blocks.push(VecDeque::with_capacity(BLOCK));
        }
        if let Some(b) = self.blocks.last_mut() {
            b.push_back((master, lp));
            self.len += 1;
        }
    }

    fn remove(&mut self, master: StreamId) {
        if let Some((b, o)) = self.exact_pos(master) {
            self.blocks[b].remove(o);
            self.len -= 1;
            self.tidy(b);
        }
    }

    fn pop_front(&mut self) {
        if let Some(b) = self.blocks.first_mut() {
            if b.pop_front().is_some() {
                self.len -= 1;
            }
            self.tidy(0);
        }
    }

    /// After a removal from block `b`: drops it when empty, and gives back
    /// most of its room when it is a quarter full (only the last block ever
    /// grows again, and it regrows by itself).
    fn tidy(&mut self, b: usize) {
        let Some(block) = self.blocks.get_mut(b) else {
            return;
        };
        if block.is_empty() {
            self.blocks.remove(b);
        } else if block.len() <= block.capacity() / 4 {
            block.shrink_to_fit();
        }
    }

    /// Bytes of the index itself.
    fn memory_usage(&self) -> usize {
        let slot = std::mem::size_of::<NodeSlot>();
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| crate::alloc::alloc_size(b.capacity() * slot))
            .sum();
        let top = self.blocks.capacity() * std::mem::size_of::<VecDeque<NodeSlot>>();
        blocks
            + if top == 0 {
                0
            } else {
                crate::alloc::alloc_size(top)
            }
    }
}

/// The entries and their bookkeeping, apart from the consumer groups so
/// that a group can be changed while entries are read.
#[derive(Clone, Debug, Default)]
pub struct Entries {
    nodes: NodeIndex,
    length: u64,
    last_id: StreamId,
    /// The first live entry, 0-0 when empty.
    first_id: StreamId,
    max_deleted_id: StreamId,
    entries_added: u64,
}

/// A stream value.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    entries: Entries,
    groups: Groups,
}

/// One entry as stored, borrowed from its node.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    lp: &'a Listpack,
    flags: i64,
    nfields: usize,
    /// First master field (used when the entry has the same fields).
    master_fields: usize,
    /// First field (or first value when the fields are the master's).
    data: usize,
}

impl<'a> EntryRef<'a> {
    /// Number of field/value pairs.
    pub fn field_count(&self) -> usize {
        self.nfields
    }

    pub fn is_deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }

    /// The field/value pairs in order.
    pub fn fields(&self) -> Fields<'a> {
        let same = self.flags & FLAG_SAMEFIELDS != 0;
        Fields {
            lp: self.lp,
            master: same.then_some(self.master_fields),
            pos: Some(self.data),
            left: self.nfields,
        }
    }
}

/// Iterator over an entry's field/value pairs.
pub struct Fields<'a> {
    lp: &'a Listpack,
    master: Option<usize>,
    pos: Option<usize>,
    left: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (LpItem<'a>, LpItem<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let field = match self.master {
            Some(m) => {
                self.master = self.lp.next(m);
                self.lp.get(m)
            }
            None => {
                let p = self.pos?;
                self.pos = self.lp.next(p);
                self.lp.get(p)
            }
        };
        let p = self.pos?;
        self.pos = self.lp.next(p);
        Some((field, self.lp.get(p)))
    }
}

/// An integer element of a node (every element but fields and values).
fn int_at(lp: &Listpack, pos: usize) -> i64 {
    lp.get(pos).as_i64().unwrap_or(0)
}

/// A node's master entry, decoded.
#[derive(Clone, Copy)]
struct Node<'a> {
    master: StreamId,
    lp: &'a Listpack,
    master_count: usize,
    master_fields: usize,
    /// The master entry's terminating 0 (its "lp-count").
    terminator: usize,
}

impl<'a> Node<'a> {
    fn open(master: StreamId, lp: &'a Listpack) -> Option<Node<'a>> {
        let count = lp.first()?;
        let deleted = lp.next(count)?;
        let nf = lp.next(deleted)?;
        let master_count = usize::try_from(int_at(lp, nf)).ok()?;
        let master_fields = lp.next(nf)?;
        let mut p = master_fields;
        for _ in 0..master_count {
            p = lp.next(p)?;
        }
        Some(Node {
            master,
            lp,
            master_count,
            master_fields,
            terminator: p,
        })
    }

    /// Position of the first entry's flags.
    fn first_entry(&self) -> Option<usize> {
        self.lp.next(self.terminator)
    }

    /// Live entries (the master entry's count).
    fn live(&self) -> i64 {
        self.lp.first().map_or(0, |p| int_at(self.lp, p))
    }

    /// Tombstones (the master entry's deleted count).
    fn deleted(&self) -> i64 {
        self.lp
            .first()
            .and_then(|p| self.lp.next(p))
            .map_or(0, |p| int_at(self.lp, p))
    }

    /// Decodes the entry whose flags are at `p`; also returns the position
    /// of its lp-count.
    fn entry(&self, p: usize) -> Option<(EntryRef<'a>, usize)> {
        let lp = self.lp;
        let flags = int_at(lp, p);
        let ms_pos = lp.next(p)?;
        let seq_pos = lp.next(ms_pos)?;
        let id = StreamId {
            ms: self.master.ms.wrapping_add(int_at(lp, ms_pos) as u64),
            seq: self.master.seq.wrapping_add(int_at(lp, seq_pos) as u64),
        };
        let mut q = lp.next(seq_pos)?;
        let (nfields, skip) = if flags & FLAG_SAMEFIELDS != 0 {
            (self.master_count, self.master_count)
        } else {
            let n = usize::try_from(int_at(lp, q)).ok()?;
            q = lp.next(q)?;
            (n, n * 2)
        };
        let data = q;
        for _ in 0..skip {
            q = lp.next(q)?;
        }
        let e = EntryRef {
            id,
            lp,
            flags,
            nfields,
            master_fields: self.master_fields,
            data,
        };
        Some((e, q))
    }

    /// Given the lp-count position of an entry, the position of its flags
    /// (None at the master entry's terminator).
    fn entry_start(&self, count_pos: usize) -> Option<usize> {
        let n = int_at(self.lp, count_pos);
        if n <= 0 {
            return None;
        }
        let mut p = count_pos;
        for _ in 0..n {
            p = self.lp.prev(p)?;
        }
        Some(p)
    }

    /// The ID of the last entry, tombstone or not.
    fn last_id(&self) -> Option<StreamId> {
        let start = self.entry_start(self.lp.last()?)?;
        Some(self.entry(start)?.0.id)
    }

    /// Entries in order with their flags positions.
    fn walk(&self) -> NodeWalk<'a> {
        NodeWalk {
            node: *self,
            pos: self.first_entry(),
        }
    }
}

struct NodeWalk<'a> {
    node: Node<'a>,
    pos: Option<usize>,
}

impl<'a> Iterator for NodeWalk<'a> {
    /// The entry and the position of its flags.
    type Item = (EntryRef<'a>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let p = self.pos?;
        let (e, count_pos) = self.node.entry(p)?;
        self.pos = self.node.lp.next(count_pos);
        Some((e, p))
    }
}

/// Entries with IDs in `[start, end]`, forwards or backwards, tombstones
/// skipped (Valkey's `streamIterator`).
pub struct Range<'a> {
    index: &'a NodeIndex,
    /// The next node to open; None when done.
    next_node: Option<NodePos>,
    rev: bool,
    node: Option<Node<'a>>,
    /// Forwards: the next entry's flags. Backwards: the lp-count of the
    /// next entry to look at.
    pos: Option<usize>,
    start: StreamId,
    end: StreamId,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        loop {
            let node = match (self.node, self.pos) {
                (Some(n), Some(_)) => n,
                _ => {
                    let at = self.next_node?;
                    let (k, lp) = self.index.at(at)?;
                    self.next_node = if self.rev {
                        self.index.prev_pos(at)
                    } else {
                        self.index.next_pos(at)
                    };
                    let Some(n) = Node::open(*k, lp) else {
                        self.next_node = None;
                        return None;
                    };
                    self.node = Some(n);
                    self.pos = if self.rev { lp.last() } else { n.first_entry() };
                    continue;
                }
            };
            let p = self.pos?;
            let e = if self.rev {
                let Some(flags) = node.entry_start(p) else {
                    // Reached the master entry: on to the previous node.
                    self.pos = None;
                    continue;
                };
                let (e, _) = node.entry(flags)?;
                self.pos = node.lp.prev(flags);
                e
            } else {
                let (e, count_pos) = node.entry(p)?;
                self.pos = node.lp.next(count_pos);
                e
            };
            // Past the far end of the range: nothing more to find.
            if (!self.rev && e.id > self.end) || (self.rev && e.id < self.start) {
                self.next_node = None;
                self.pos = None;
                return None;
            }
            let inside = if self.rev {
                e.id <= self.end
            } else {
                e.id >= self.start
            };
            if inside && !e.is_deleted() {
                return Some(e);
            }
        }
    }
}

impl Entries {
    /// Entries rebuilt from an RDB value or RESTORE payload: the nodes in
    /// strictly increasing master-ID order, each one checked by the loader
    /// to be a well-formed node, and the bookkeeping as it was saved.
    pub fn from_loaded(
        nodes: Vec<(StreamId, Listpack)>,
        length: u64,
        last_id: StreamId,
        first_id: StreamId,
        max_deleted_id: StreamId,
        entries_added: u64,
    ) -> Entries {
        let mut index = NodeIndex::default();
        for (master, lp) in nodes {
            index.push(master, lp);
        }
        Entries {
            nodes: index,
            length,
            last_id,
            first_id,
            max_deleted_id,
            entries_added,
        }
    }

    /// Live entries.
    pub fn len(&self) -> u64 {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// The last ID ever generated (entries may have been deleted since).
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// The first live entry's ID as recorded (0-0 when empty).
    pub fn first_id(&self) -> StreamId {
        self.first_id
    }

    pub fn max_deleted_id(&self) -> StreamId {
        self.max_deleted_id
    }

    /// All-time count of entries added.
    pub fn entries_added(&self) -> u64 {
        self.entries_added
    }

    /// Number of nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes as (master ID, listpack), in order: what RDB stores.
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &Listpack)> {
        self.nodes.iter().map(|(k, v)| (*k, v))
    }

    /// Number of nodes Valkey's radix tree would have for these node keys
    /// (XINFO's `radix-tree-nodes`): the size of the compressed trie of the
    /// 16-byte big-endian keys, where each maximal non-branching run of
    /// bytes is one node and each key ends in a leaf node.
    pub fn radix_tree_nodes(&self) -> usize {
        let keys: Vec<[u8; 16]> = self
            .nodes
            .iter()
            .map(|(k, _)| {
                let mut b = [0u8; 16];
                b[..8].copy_from_slice(&k.ms.to_be_bytes());
                b[8..].copy_from_slice(&k.seq.to_be_bytes());
                b
            })
            .collect();
        if keys.is_empty() {
            return 1;
        }
        trie_nodes(&keys, 0)
    }

    /// Entries with IDs in `[start, end]`, skipping tombstones.
    pub fn range(&self, start: StreamId, end: StreamId, rev: bool) -> Range<'_> {
        let next_node = if start > end {
            None
        } else if rev {
            self.nodes.find_pos(end)
        } else {
            // The node holding `start` begins at or before it.
            self.nodes
                .find_pos(start)
                .or_else(|| self.nodes.first_pos())
        };
        Range {
            index: &self.nodes,
            next_node,
            rev,
            node: None,
            pos: None,
            start,
            end,
        }
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.range(id, id, false).next()
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.get(id).is_some()
    }

    /// The first / last live entry's ID.
    pub fn first_valid_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, false)
            .next()
            .map(|e| e.id)
    }

    pub fn last_valid_id(&self) -> Option<StreamId> {
        self.range(StreamId::MIN, StreamId::MAX, true)
            .next()
            .map(|e| e.id)
    }

    /// Adds an entry of `fv` (field, value, field, value...; at least one
    /// pair) with an ID chosen by `new_id`; `now_ms` is the command's time.
    pub fn append(
        &mut self,
        fv: &[&[u8]],
        new_id: NewId,
        cfg: StreamConfig,
        now_ms: u64,
    ) -> Result<StreamId, AppendError> {
        let last = self.last_id;
        let id = match new_id {
            NewId::Exact(id) => id,
            NewId::AutoSeq(ms) if ms == last.ms => {
                if last.seq == u64::MAX {
                    return Err(AppendError::NotGreater);
                }
                StreamId::new(ms, last.seq + 1)
            }
            NewId::AutoSeq(ms) => StreamId::new(ms, 0),
            NewId::Auto if now_ms > last.ms => StreamId::new(now_ms, 0),
            // A clock behind the last ID: keep its time, next sequence
            // (0-0 after the very last ID, refused just below).
            NewId::Auto => last.next().unwrap_or(StreamId::MIN),
        };
        if id <= last {
            return Err(AppendError::NotGreater);
        }
        let total: usize = fv.iter().map(|b| b.len()).sum();
        if total > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let nf = fv.len() / 2;
        let max_bytes = if cfg.node_max_bytes == 0 || cfg.node_max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            cfg.node_max_bytes
        };

        // Append to the tail node unless it is full.
        let mut tail = None;
        if let Some((master, lp)) = self.nodes.last_mut() {
            let master = *master;
            let full = if lp.byte_len() + total >= max_bytes {
                true
            } else if cfg.node_max_entries > 0 {
                let n = Node::open(master, lp).map_or(0, |n| n.live() + n.deleted());
                n as u64 >= cfg.node_max_entries
            } else {
                false
            };
            if full {
                // Closed for good: give back any slack capacity.
                *lp = lp.clone();
            } else {
                tail = Some(master);
            }
        }

        let mut flags = 0;
        let master = match tail {
            Some(master) => {
                let Some(lp) = self.nodes.get_mut(master) else {
                    return Err(AppendError::TooLarge);
                };
                let (count_pos, same) = {
                    let n = Node::open(master, lp).ok_or(AppendError::TooLarge)?;
                    let same = n.master_count == nf
                        && iter_from(n.lp, n.master_fields)
                            .take(nf)
                            .zip(fv.iter().step_by(2))
                            .all(|(m, f)| m.eq_bytes(f));
                    (n.lp.first().ok_or(AppendError::TooLarge)?, same)
                };
                let count = int_at(lp, count_pos);
                lp.replace_int(count_pos, count + 1);
                if same {
                    flags |= FLAG_SAMEFIELDS;
                }
                master
            }
            None => {
                let mut lp = Listpack::new();
                lp.push_back_int(1);
                lp.push_back_int(0);
                lp.push_back_int(nf as i64);
                for f in fv.iter().step_by(2) {
                    lp.push_back(f);
                }
                lp.push_back_int(0);
                self.nodes.push(id, lp);
                flags |= FLAG_SAMEFIELDS;
                id
            }
        };
        let Some(lp) = self.nodes.get_mut(master) else {
            return Err(AppendError::TooLarge);
        };
        lp.push_back_int(flags);
        lp.push_back_int(id.ms.wrapping_sub(master.ms) as i64);
        lp.push_back_int(id.seq.wrapping_sub(master.seq) as i64);
        let same = flags & FLAG_SAMEFIELDS != 0;
        if same {
            for v in fv.iter().skip(1).step_by(2) {
                lp.push_back(v);
            }
        } else {
            lp.push_back_int(nf as i64);
            for x in fv {
                lp.push_back(x);
            }
        }
        let lp_count = if same { nf + 3 } else { 2 * nf + 4 };
        lp.push_back_int(lp_count as i64);

        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Deletes the live entry `id` (Valkey's `streamDeleteItem`): flags it,
    /// or drops its node when it was the node's last live entry. Does not
    /// update `first_id` / `max_deleted_id` (see [`Entries::delete`]).
    fn delete_one(&mut self, id: StreamId) -> bool {
        let Some((master, lp)) = self.nodes.find(id) else {
            return false;
        };
        let master = *master;
        let Some(node) = Node::open(master, lp) else {
            return false;
        };
        let mut found = None;
        for (e, flags_pos) in node.walk() {
            if e.id == id {
                if !e.is_deleted() {
                    found = Some((flags_pos, e.flags));
                }
                break;
            }
            if e.id > id {
                break;
            }
        }
        let Some((flags_pos, flags)) = found else {
            return false;
        };
        let live = node.live();
        let deleted = node.deleted();
        if live <= 1 {
            self.nodes.remove(master);
        } else if let Some(lp) = self.nodes.get_mut(master) {
            // Same-size change first: the header updates below may move
            // everything after them.
            lp.replace_int(flags_pos, flags | FLAG_DELETED);
            if let Some(p) = lp.first() {
                lp.replace_int(p, live - 1);
                if let Some(q) = lp.next(p) {
                    lp.replace_int(q, deleted + 1);
                }
            }
        }
        self.length -= 1;
        true
    }

    /// XDEL: deletes the live entries among `ids`, keeping the first ID and
    /// the maximal deleted ID up to date. Returns how many were deleted.
    pub fn delete(&mut self, ids: &[StreamId]) -> usize {
        let mut deleted = 0;
        let mut first_gone = false;
        for &id in ids {
            if self.delete_one(id) {
                if id == self.first_id {
                    first_gone = true;
                }
                if id > self.max_deleted_id {
                    self.max_deleted_id = id;
                }
                deleted += 1;
            }
        }
        if deleted > 0 {
            if self.length == 0 {
                self.first_id = StreamId::MIN;
            } else if first_gone {
                self.first_id = self.first_valid_id().unwrap_or(StreamId::MAX);
            }
        }
        deleted
    }

    /// Trims from the head (Valkey's `streamTrim`): whole nodes while they
    /// can go, then (unless approximate) entries inside the next node.
    /// Returns the number of entries removed.
    pub fn trim(&mut self, t: &Trim) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let TrimStrategy::MaxLen(max) = t.strategy {
                if self.length <= max {
                    break;
                }
            }
            let Some((master, lp)) = self.nodes.first() else {
                break;
            };
            let master = *master;
            let Some(node) = Node::open(master, lp) else {
                break;
            };
            let entries = node.live().max(0) as u64;
            if t.limit > 0 && deleted + entries > t.limit {
                break;
            }
            let remove_node = match t.strategy {
                TrimStrategy::MaxLen(max) => self.length - entries >= max,
                TrimStrategy::MinId(min) => node.last_id().unwrap_or(StreamId::MIN) < min,
            };
            if remove_node {
                self.nodes.pop_front();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if t.approx {
                break;
            }
            // Flag entries inside this node until the target is met.
            let mut marks = Vec::new();
            let mut length = self.length;
            for (e, flags_pos) in node.walk() {
                let stop = match t.strategy {
                    TrimStrategy::MaxLen(max) => length <= max,
                    TrimStrategy::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                if !e.is_deleted() {
                    marks.push((flags_pos, e.flags | FLAG_DELETED));
                    length -= 1;
                }
            }
            let live = node.live();
            let tombstones = node.deleted();
            let n = marks.len() as i64;
            if let Some(lp) = self.nodes.get_mut(master) {
                for (p, f) in marks {
                    lp.replace_int(p, f);
                }
                if let Some(p) = lp.first() {
                    lp.replace_int(p, live - n);
                    if let Some(q) = lp.next(p) {
                        lp.replace_int(q, tombstones + n);
                    }
                }
            }
            self.length -= n as u64;
            deleted += n as u64;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.first_valid_id().unwrap_or(StreamId::MAX);
        }
        deleted
    }

    /// XSETID: sets the last ID and optionally the added-entries counter
    /// and maximal deleted ID (the caller validated them).
    pub fn set_meta(
        &mut self,
        last_id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    ) {
        self.last_id = last_id;
        if let Some(n) = entries_added {
            self.entries_added = n;
        }
        if let Some(m) = max_deleted {
            self.max_deleted_id = m;
        }
    }

    /// Whether `[start, end]` (None: unbounded) may contain a tombstone
    /// (Valkey's `streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: Option<StreamId>, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        let start = start.unwrap_or(StreamId::MIN);
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted_id && self.max_deleted_id <= end
    }

    /// The logical read counter of `id`: how many entries were added up to
    /// it, or [`INVALID_ENTRIES_READ`] when that cannot be known (Valkey's
    /// `streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        let added = self.entries_added as i64;
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            // No tombstone inside the stream: the count is exact.
            if id < self.first_id {
                return added - self.length as i64;
            } else if id == self.first_id {
                return added - self.length as i64 + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag: entries not yet delivered to it, None when unknown
    /// (Valkey's `streamReplyWithCGLag`).
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        let added = self.entries_added as i64;
        if g.entries_read != INVALID_ENTRIES_READ
            && !self.range_has_tombstones(Some(g.last_id), None)
        {
            return Some(added - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then_some(added - read)
    }

    /// Bytes held in the allocator by the nodes, sampling `samples` nodes
    /// when there are more (0: exact).
    fn memory_usage(&self, samples: usize) -> usize {
        let n = self.nodes.len();
        let lps = if samples == 0 || n <= samples {
            self.nodes.iter().map(|(_, lp)| lp.memory_usage()).sum()
        } else {
            let sampled: usize = self
                .nodes
                .iter()
                .take(samples)
                .map(|(_, lp)| lp.memory_usage())
                .sum();
            sampled / samples * n
        };
        lps + self.nodes.memory_usage()
    }
}

/// Nodes of the compressed trie of `keys` (sorted, distinct, 16 bytes)
/// below a node at `depth`, counting that node.
fn trie_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1; // the key's leaf
    }
    if keys.len() == 1 {
        // A compressed node with the rest of the key, then the leaf.
        return 2;
    }
    let first = &keys[0];
    let last = &keys[keys.len() - 1];
    let common = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if common > 0 {
        // A compressed node for the shared run, then the branching node.
        return 1 + trie_nodes(keys, depth + common);
    }
    // A branching node with one child per distinct byte.
    let mut total = 1;
    let mut i = 0;
    while i < keys.len() {
        let b = keys[i][depth];
        let j = i + keys[i..].iter().take_while(|k| k[depth] == b).count();
        total += trie_nodes(&keys[i..j], depth + 1);
        i = j;
    }
    total
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.entries.length as usize
    }

    /// A stream is never "empty" in the sense of being deleted: Valkey keeps
    /// empty streams (XDEL/XTRIM to zero leave the key).
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn encoding_name(&self) -> &'static str {
        "stream"
    }

    /// Bytes held in the allocator beyond the `Stream` struct: the nodes
    /// (sampled when `samples` > 0, like Valkey's `objectComputeSize`) and
    /// every group's structures.
    pub fn memory_usage(&self, samples: usize) -> usize {
        let groups: usize = self.groups.values().map(Group::memory_usage).sum();
        let group_keys: usize = self
            .groups
            .keys()
            .map(|k| crate::alloc::alloc_size(k.len().max(1)))
            .sum();
        self.entries.memory_usage(samples)
            + groups
            + group_keys
            + group::btree_bytes(
                self.groups.len(),
                std::mem::size_of::<Vec<u8>>() + std::mem::size_of::<Group>(),
            )
    }

    /// Allocations a drop frees, roughly (Valkey's lazy free effort: nodes
    /// plus pending entries).
    pub fn free_effort(&self) -> usize {
        1 + self.entries.nodes.len() + self.groups.values().map(Group::free_effort).sum::<usize>()
    }

    /// Entries in ID order: (ms, seq, field/value pairs), for DEBUG DIGEST.
    pub fn for_each(&self, mut f: impl FnMut(u64, u64, &[(&[u8], &[u8])])) {
        for e in self.entries.range(StreamId::MIN, StreamId::MAX, false) {
            let owned: Vec<CowPair<'_>> = e
                .fields()
                .map(|(f, v)| (f.to_bytes(), v.to_bytes()))
                .collect();
            let pairs: Vec<(&[u8], &[u8])> = owned.iter().map(|(f, v)| (&**f, &**v)).collect();
            f(e.id.ms, e.id.seq, &pairs);
        }
    }

    /// The entries and their bookkeeping.
    pub fn entries(&self) -> &Entries {
        &self.entries
    }

    pub fn entries_mut(&mut self) -> &mut Entries {
        &mut self.entries
    }

    pub fn groups(&self) -> &Groups {
        &self.groups
    }

    pub fn groups_mut(&mut self) -> &mut Groups {
        &mut self.groups
    }

    /// Both halves at once, to change groups while reading entries.
    pub fn parts_mut(&mut self) -> (&mut Entries, &mut Groups) {
        (&mut self.entries, &mut self.groups)
    }

    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    /// Creates group `name`; false if it exists.
    pub fn create_group(&mut self, name: &[u8], last_id: StreamId, entries_read: i64) -> bool {
        if self.groups.contains_key(name) {
            return false;
        }
        self.groups
            .insert(name.to_vec(), Group::new(last_id, entries_read));
        true
    }

    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// Serves a `>` read of group `group` for `consumer` (which must exist):
    /// the entries after the group's last ID, at most `count` (0: all),
    /// moving the last ID and the read counter, and recording each entry as
    /// pending for the consumer unless `noack` (Valkey's
    /// `streamReplyWithRange` with a group). `emit` sees each entry.
    /// Returns the number served.
    pub fn read_group_new(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        count: usize,
        noack: bool,
        now: i64,
        mut emit: impl FnMut(&EntryRef<'_>),
    ) -> usize {
        let Some(g) = self.groups.get_mut(group) else {
            return 0;
        };
        // The successor of the last delivered ID (wrapping like Valkey's
        // `streamIncrID` does for the last possible ID).
        let start = g.last_id.next().unwrap_or(StreamId::MIN);
        let entries = &self.entries;
        let mut served = 0;
        for e in entries.range(start, StreamId::MAX, false) {
            if e.id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ
                    && !entries.range_has_tombstones(Some(e.id), None)
                {
                    g.entries_read += 1;
                } else if entries.entries_added > 0 {
                    g.entries_read = entries.estimate_distance(e.id);
                }
                g.last_id = e.id;
            }
            emit(&e);
            if !noack {
                g.deliver(e.id, consumer, now);
            }
            served += 1;
            if count > 0 && served == count {
                break;
            }
        }
        served
    }

    /// Serves a history read (XREADGROUP with an ID): the consumer's
    /// pending entries from `start` on, at most `count` (0: all). `emit`
    /// gets each ID with its entry, or None when the entry was deleted
    /// meanwhile; served entries count one more delivery.
    pub fn read_group_history(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        count: usize,
        now: i64,
        mut emit: impl FnMut(StreamId, Option<&EntryRef<'_>>),
    ) -> usize {
        let Some(g) = self.groups.get_mut(group) else {
            return 0;
        };
        let ids: Vec<StreamId> = match g.consumer(consumer) {
            Some(c) => {
                let it = c.pending().range(start..).copied();
                if count > 0 {
                    it.take(count).collect()
                } else {
                    it.collect()
                }
            }
            None => return 0,
        };
        for &id in &ids {
            match self.entries.get(id) {
                Some(e) => {
                    emit(id, Some(&e));
                    g.redeliver(id, now);
                }
                None => emit(id, None),
            }
        }
        ids.len()
    }
}

/// Elements of `lp` from position `pos` on.
fn iter_from(lp: &Listpack, pos: usize) -> impl Iterator<Item = LpItem<'_>> {
    std::iter::successors(Some(pos), move |&p| lp.next(p)).map(move |p| lp.get(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(ms: u64, seq: u64) -> StreamId {
        StreamId::new(ms, seq)
    }

    type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

    fn cfg(entries: u64) -> StreamConfig {
        StreamConfig {
            node_max_bytes: 4096,
            node_max_entries: entries,
        }
    }

    fn collect(e: &Entries, start: StreamId, end: StreamId, rev: bool) -> Vec<(StreamId, Pairs)> {
        e.range(start, end, rev)
            .map(|x| {
                (
                    x.id,
                    x.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn id_text_and_neighbours() {
        assert_eq!(&*id(0, 0).text(), b"0-0");
        assert_eq!(
            &*StreamId::MAX.text(),
            b"18446744073709551615-18446744073709551615"
        );
        assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
        assert!(id(1, 5) < id(2, 0));
    }

    #[test]
    fn append_ids_like_valkey() {
        let mut e = Entries::default();
        let c = cfg(100);
        assert_eq!(
            e.append(&[b"a", b"1"], NewId::Exact(id(123, 456)), c, 0),
            Ok(id(123, 456))
        );
        assert_eq!(
            e.append(&[b"a", b"1"], NewId::AutoSeq(123), c, 0),
            Ok(id(123, 457))
        );
        assert_eq!(
            e.append(&[b"a", b"1"], NewId::AutoSeq(789), c, 0),
            Ok(id(789, 0))
        );
        assert_eq!(
            e.append(&[b"a", b"1"], NewId::AutoSeq(42), c, 0),
            Err(AppendError::NotGreater)
        );
        assert_eq!(
            e.append(&[b"a", b"1"], NewId::Exact(id(789, 0)), c, 0),
            Err(AppendError::NotGreater)
        );
        // Clock behind the last ID: same ms, next sequence.
        assert_eq!(e.append(&[b"a", b"1"], NewId::Auto, c, 500), Ok(id(789, 1)));
        assert_eq!(
            e.append(&[b"a", b"1"], NewId::Auto, c, 1000),
            Ok(id(1000, 0))
        );
        let mut z = Entries::default();
        assert_eq!(
            z.append(&[b"a", b"1"], NewId::AutoSeq(0), c, 0),
            Ok(id(0, 1))
        );
        let mut m = Entries::default();
        m.append(&[b"a", b"1"], NewId::Exact(id(1, u64::MAX)), c, 0)
            .unwrap();
        assert_eq!(
            m.append(&[b"a", b"1"], NewId::AutoSeq(1), c, 0),
            Err(AppendError::NotGreater)
        );
        assert_eq!(e.len(), 5);
        assert_eq!(e.entries_added(), 5);
        assert_eq!(e.first_id(), id(123, 456));
    }

    #[test]
    fn node_layout_is_valkeys() {
        let mut e = Entries::default();
        let c = cfg(100);
        e.append(&[b"f", b"v1", b"g", b"2"], NewId::Exact(id(5, 1)), c, 0)
            .unwrap();
        e.append(&[b"f", b"v2", b"g", b"3"], NewId::Exact(id(7, 0)), c, 0)
            .unwrap();
        e.append(&[b"x", b"y"], NewId::Exact(id(7, 9)), c, 0)
            .unwrap();
        let (_, lp) = e.nodes().next().unwrap();
        let items: Vec<Vec<u8>> = lp.iter().map(|i| i.to_vec()).collect();
        let expect: Vec<&[u8]> = vec![
            b"3", b"0", b"2", b"f", b"g", b"0", // master entry
            b"2", b"0", b"0", b"v1", b"2", b"5", // same fields, lp-count 2+3
            b"2", b"2", b"-1", b"v2", b"3", b"5", // seq diff may be negative
            b"0", b"2", b"8", b"1", b"x", b"y", b"6", // own fields
        ];
        assert_eq!(items, expect.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
        assert_eq!(
            collect(&e, StreamId::MIN, StreamId::MAX, true)
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            vec![id(7, 9), id(7, 0), id(5, 1)]
        );
    }

    #[test]
    fn nodes_split_by_entries_and_bytes() {
        let mut e = Entries::default();
        for i in 1..=25 {
            e.append(&[b"f", b"v"], NewId::Exact(id(i, 0)), cfg(10), 0)
                .unwrap();
        }
        assert_eq!(e.node_count(), 3);
        let mut b = Entries::default();
        let big = vec![b'x'; 1000];
        let c = StreamConfig {
            node_max_bytes: 4096,
            node_max_entries: 0,
        };
        for i in 1..=10 {
            b.append(&[b"f", &big], NewId::Exact(id(i, 0)), c, 0)
                .unwrap();
        }
        assert!(b.node_count() >= 3, "{}", b.node_count());
        assert_eq!(b.len(), 10);
        assert!(b.radix_tree_nodes() >= b.node_count());
    }

    #[test]
    fn delete_and_tombstones() {
        let mut e = Entries::default();
        for i in 1..=5 {
            e.append(&[b"f", b"v"], NewId::Exact(id(1, i)), cfg(100), 0)
                .unwrap();
        }
        assert_eq!(e.delete(&[id(1, 1), id(1, 4), id(1, 5), id(2, 1)]), 3);
        assert_eq!(e.len(), 2);
        assert_eq!(e.first_id(), id(1, 2));
        assert_eq!(e.max_deleted_id(), id(1, 5));
        assert_eq!(e.delete(&[id(1, 4)]), 0);
        assert_eq!(
            collect(&e, StreamId::MIN, StreamId::MAX, false)
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            vec![id(1, 2), id(1, 3)]
        );
        assert_eq!(e.last_valid_id(), Some(id(1, 3)));
        assert_eq!(e.delete(&[id(1, 2), id(1, 3)]), 2);
        assert_eq!(e.node_count(), 0);
        assert_eq!(e.first_id(), StreamId::MIN);
        assert_eq!(e.last_id(), id(1, 5));
    }

    #[test]
    fn trim_approx_keeps_whole_nodes() {
        let mut e = Entries::default();
        for i in 1..=1000 {
            e.append(&[b"x", b"v"], NewId::Exact(id(i, 0)), cfg(100), 0)
                .unwrap();
        }
        let t = |n, approx| Trim {
            strategy: TrimStrategy::MaxLen(n),
            approx,
            limit: if approx { 10_000 } else { 0 },
        };
        assert_eq!(e.trim(&t(666, false)), 334);
        assert_eq!(e.len(), 666);
        assert_eq!(e.trim(&t(555, false)), 111);
        assert_eq!(e.trim(&t(444, true)), 55);
        assert_eq!(e.len(), 500);
        assert_eq!(e.trim(&t(400, true)), 100);
        assert_eq!(e.len(), 400);
        assert_eq!(e.first_id(), id(601, 0));
        let m = Trim {
            strategy: TrimStrategy::MinId(id(650, 0)),
            approx: false,
            limit: 0,
        };
        assert_eq!(e.trim(&m), 49);
        assert_eq!(e.first_id(), id(650, 0));
    }

    #[test]
    fn read_counter_estimates() {
        let mut e = Entries::default();
        for i in 1..=5 {
            e.append(&[b"d", b"a"], NewId::Exact(id(i, 0)), cfg(100), 0)
                .unwrap();
        }
        assert_eq!(e.estimate_distance(id(5, 0)), 5);
        assert_eq!(e.estimate_distance(id(1, 0)), 1);
        assert_eq!(e.estimate_distance(id(0, 0)), 0);
        assert_eq!(e.estimate_distance(id(3, 0)), INVALID_ENTRIES_READ);
        assert_eq!(e.estimate_distance(id(9, 0)), INVALID_ENTRIES_READ);
        e.delete(&[id(3, 0)]);
        assert_eq!(e.estimate_distance(id(0, 0)), INVALID_ENTRIES_READ);
        let g = Group::new(id(0, 0), INVALID_ENTRIES_READ);
        assert_eq!(e.lag(&g), None);
    }

    #[test]
    fn radix_nodes_of_small_trees() {
        let mut e = Entries::default();
        assert_eq!(e.radix_tree_nodes(), 1);
        e.append(&[b"a", b"1"], NewId::Exact(id(1, 0)), cfg(1), 0)
            .unwrap();
        assert_eq!(e.radix_tree_nodes(), 2);
        e.append(&[b"a", b"1"], NewId::Exact(id(2, 0)), cfg(1), 0)
            .unwrap();
        // Shared 7 bytes, a branch on the 8th, then 8 bytes to each leaf.
        assert_eq!(e.radix_tree_nodes(), 6);
    }

    #[test]
    fn groups_read_new_and_history() {
        let mut s = Stream::new();
        for i in 1..=3 {
            s.entries_mut()
                .append(&[b"f", b"v"], NewId::Exact(id(i, 0)), cfg(100), 0)
                .unwrap();
        }
        assert!(s.create_group(b"g", StreamId::MIN, 0));
        assert!(!s.create_group(b"g", StreamId::MIN, 0));
        s.groups_mut()
            .get_mut(&b"g"[..])
            .unwrap()
            .create_consumer(b"c", 0);
        let mut seen = Vec::new();
        assert_eq!(
            s.read_group_new(b"g", b"c", 2, false, 10, |e| seen.push(e.id)),
            2
        );
        assert_eq!(seen, vec![id(1, 0), id(2, 0)]);
        let g = s.group(b"g").unwrap();
        assert_eq!(g.last_id, id(2, 0));
        assert_eq!(g.entries_read, 2);
        assert_eq!(s.entries().lag(g), Some(1));
        s.entries_mut().delete(&[id(1, 0)]);
        let mut hist = Vec::new();
        s.read_group_history(b"g", b"c", StreamId::MIN, 0, 20, |i, e| {
            hist.push((i, e.is_some()))
        });
        assert_eq!(hist, vec![(id(1, 0), false), (id(2, 0), true)]);
        assert_eq!(s.group(b"g").unwrap().pel()[&id(2, 0)].delivery_count, 2);
        let mut digest = Vec::new();
        s.for_each(|ms, seq, f| digest.push((ms, seq, f.len())));
        assert_eq!(digest, vec![(2, 0, 1), (3, 0, 1)]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, u8, bool),
        Del(u16),
        TrimLen(u16, bool),
        TrimMin(u16),
        Range(u16, u16, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..4, 0u8..3, any::<bool>()).prop_map(|(a, b, c)| Op::Add(a, b, c)),
            2 => any::<u16>().prop_map(Op::Del),
            1 => (0u16..60, any::<bool>()).prop_map(|(a, b)| Op::TrimLen(a, b)),
            1 => any::<u16>().prop_map(Op::TrimMin),
            2 => (any::<u16>(), any::<u16>(), any::<bool>()).prop_map(|(a, b, c)| Op::Range(a, b, c)),
        ]
    }

    type Model = BTreeMap<StreamId, Pairs>;

    fn model_ids(m: &Model) -> Vec<StreamId> {
        m.keys().copied().collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn chunked_storage_matches_a_btreemap(
            ops in proptest::collection::vec(op(), 1..120),
            max_entries in 1u64..6,
            max_bytes in prop_oneof![Just(0usize), 60usize..400],
        ) {
            let c = StreamConfig { node_max_bytes: max_bytes, node_max_entries: max_entries };
            let mut e = Entries::default();
            let mut m: Model = BTreeMap::new();
            let mut clock = 1u64;
            for o in ops {
                match o {
                    Op::Add(shape, step, auto) => {
                        // Few distinct field sets, so SAMEFIELDS and not both occur.
                        let fv: Vec<Vec<u8>> = match shape {
                            0 => vec![b"f".to_vec(), b"v".to_vec()],
                            1 => vec![b"f".to_vec(), clock.to_string().into_bytes()],
                            2 => vec![b"a".to_vec(), b"1".to_vec(), b"b".to_vec(), vec![b'z'; 70]],
                            _ => vec![b"-5".to_vec(), b"".to_vec()],
                        };
                        clock += step as u64;
                        let refs: Vec<&[u8]> = fv.iter().map(|v| v.as_slice()).collect();
                        let new_id = if auto { NewId::Auto } else { NewId::AutoSeq(clock) };
                        let got = e.append(&refs, new_id, c, clock).unwrap();
                        prop_assert!(m.keys().next_back().is_none_or(|l| *l < got));
                        m.insert(got, fv.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect());
                    }
                    Op::Del(i) => {
                        let ids = model_ids(&m);
                        let target = if ids.is_empty() { id(1, 1) } else { ids[i as usize % ids.len()] };
                        let n = e.delete(&[target, target]);
                        prop_assert_eq!(n, usize::from(m.remove(&target).is_some()));
                    }
                    Op::TrimLen(n, approx) => {
                        let before = model_ids(&m);
                        let removed = e.trim(&Trim { strategy: TrimStrategy::MaxLen(n as u64), approx, limit: 0 });
                        if approx {
                            // Whole nodes from the head only: never below n.
                            prop_assert!(e.len() >= (n as u64).min(before.len() as u64));
                        } else {
                            prop_assert_eq!(e.len(), (n as u64).min(before.len() as u64));
                        }
                        prop_assert_eq!(removed as usize, before.len() - e.len() as usize);
                        for k in before.iter().take(removed as usize) {
                            m.remove(k);
                        }
                    }
                    Op::TrimMin(i) => {
                        let ids = model_ids(&m);
                        let min = if ids.is_empty() { id(0, 0) } else { ids[i as usize % ids.len()] };
                        let removed = e.trim(&Trim { strategy: TrimStrategy::MinId(min), approx: false, limit: 0 });
                        let expect: Vec<StreamId> = ids.iter().copied().filter(|k| *k < min).collect();
                        prop_assert_eq!(removed as usize, expect.len());
                        for k in expect {
                            m.remove(&k);
                        }
                    }
                    Op::Range(a, b, rev) => {
                        let ids = model_ids(&m);
                        let pick = |x: u16| if ids.is_empty() { id(x as u64, 0) } else { ids[x as usize % ids.len()] };
                        let (s, t) = (pick(a), pick(b));
                        let got = collect(&e, s, t, rev);
                        let mut want: Vec<_> = if s <= t {
                            m.range(s..=t).map(|(k, v)| (*k, v.clone())).collect()
                        } else {
                            Vec::new()
                        };
                        if rev {
                            want.reverse();
                        }
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(e.len() as usize, m.len());
                let all = collect(&e, StreamId::MIN, StreamId::MAX, false);
                let want: Vec<_> = m.iter().map(|(k, v)| (*k, v.clone())).collect();
                prop_assert_eq!(&all, &want);
                let first = m.keys().next().copied().unwrap_or(StreamId::MIN);
                prop_assert_eq!(e.first_id(), first);
                prop_assert_eq!(e.last_valid_id(), m.keys().next_back().copied());
                for (&k, v) in m.iter().take(3) {
                    let got = e.get(k).map(|x| x.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect::<Vec<_>>());
                    prop_assert_eq!(got.as_ref(), Some(v));
                }
            }
        }
    }
}

/// `cargo test -p ferrokey-server --lib breakdown_of -- --ignored --nocapture`
/// prints where the bytes of a million two-field entries go.
#[cfg(test)]
mod measure {
    use super::*;

    /// Prints with `--nocapture`; asserts the per-entry budget (Valkey's
    /// ~31 B for two 8-byte fields).
    #[test]
    fn two_field_entries_cost_at_most_32_bytes() {
        let mut e = Entries::default();
        let c = StreamConfig::default();
        let n = 200_000u64;
        for i in 0..n {
            e.append(
                &[b"f1", b"abcdefgh", b"f2", b"ijklmnop"],
                NewId::Auto,
                c,
                1_700_000_000_000 + i / 300,
            )
            .unwrap();
        }
        let lp_bytes: usize = e.nodes.iter().map(|(_, l)| l.byte_len()).sum();
        let lp_alloc: usize = e.nodes.iter().map(|(_, l)| l.memory_usage()).sum();
        println!(
            "nodes {} lp bytes/entry {:.2} alloc/entry {:.2} avg node {} alloc_size(avg) {}",
            e.nodes.len(),
            lp_bytes as f64 / n as f64,
            lp_alloc as f64 / n as f64,
            lp_bytes / e.nodes.len(),
            crate::alloc::alloc_size(lp_bytes / e.nodes.len())
        );
        assert!(lp_alloc as f64 / n as f64 <= 32.0);
    }
}
