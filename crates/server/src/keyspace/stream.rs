//! The stream type: an append-only log of entries named by 128-bit IDs
//! (`<ms>-<seq>`), each a list of field/value pairs, plus consumer groups.
//!
//! Storage follows Valkey's design and byte format, so that an RDB / DUMP
//! payload can carry the nodes as they are. Entries are packed into
//! listpacks ("nodes"), each keyed by the ID of the first entry it was
//! created with (its "master ID"), kept in master ID order. Valkey uses a
//! radix tree keyed by the big-endian ID, and a buffer per node; here a
//! blocked double-ended vector searched by bisection gives the same order
//! and seeks, and the nodes of a stream of a megabyte or more lie back to
//! back in shared 64 KiB chunks, where a buffer per node would lose ~6 % to
//! the allocator's size classes (see `NodeIndex` and `Packing`). A node's
//! listpack starts with a master entry, then holds the entries:
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

use super::listpack::{
    self, entry_len as value_size, int_entry_len as int_size, push_entry as put_value,
    push_int_entry as put_int, Listpack, Lp, LpItem, EOF as LP_EOF, HEADER as LP_HEADER,
};
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

// ---- node listpacks, read and written where they lie ----------------------
//
// Nodes live inside shared chunk buffers (see `NodeIndex`), so they are read
// through a borrowed view (`listpack::Lp`) and written by appending to or
// patching the chunk with `listpack.rs`'s entry writers, not through
// `Listpack`, which owns its buffer: the byte format's code exists once.

/// The total-bytes field of the listpack at `off`.
fn lp_total(buf: &[u8], off: usize) -> Option<usize> {
    listpack::total_bytes(buf.get(off..)?)
}

/// Sets the header of the listpack at `off`, which ends at the end of `buf`:
/// its total bytes, and `added` more elements in its count.
fn lp_fix_header(buf: &mut [u8], off: usize, added: usize) {
    if let Some(lp) = buf.get_mut(off..) {
        listpack::fix_header(lp, added);
    }
}

/// Grows `v` so that it holds `need` bytes, to a size the allocator really
/// hands out: the capacity is then all the memory held, and `Vec`'s own
/// doubling never applies.
fn reserve_bin(v: &mut Vec<u8>, need: usize) {
    if need > v.capacity() {
        let want = crate::alloc::alloc_size(need).max(need);
        v.reserve_exact(want - v.len());
    }
}

// ---- the node index ------------------------------------------------------

/// Slots per block of the node index: 64 × 24 bytes is 1536 bytes, one of
/// the allocator's size classes exactly. (Tiny in unit tests, so that the
/// property tests cross block boundaries all the time.)
const BLOCK: usize = if cfg!(test) { 3 } else { 64 };

/// A node: its master ID and where its listpack is.
#[derive(Clone, Copy, Debug)]
struct Slot {
    master: StreamId,
    /// The chunk's id (see `NodeIndex::base`).
    chunk: u32,
    /// Offset of the listpack in the chunk.
    off: u32,
}

/// A buffer of consecutive nodes' listpacks, back to back in master-ID
/// order, possibly with holes where nodes were removed.
#[derive(Clone, Debug, Default)]
struct Chunk {
    bytes: Vec<u8>,
    /// Nodes in it.
    nodes: u32,
    /// Their bytes; the rest of `bytes` is holes.
    live: u32,
}

impl Chunk {
    fn node(&self, off: u32) -> Option<Lp<'_>> {
        let off = off as usize;
        let total = lp_total(&self.bytes, off)?;
        self.bytes.get(off..off + total).map(Lp)
    }

    fn holes(&self) -> usize {
        self.bytes.len().saturating_sub(self.live as usize)
    }
}

/// When nodes share chunks. A node in a buffer of its own loses ~6 % on
/// average to the allocator's size classes (a 2.8 KB node takes 3 KiB); a
/// chunk of exactly a size class, filled with nodes, loses less than one
/// node at its end. Small streams keep a buffer per node: a chunk only
/// gives its memory back when all its nodes are gone, so the head of a
/// trimmed small stream would be mostly holes.
#[derive(Debug)]
struct Packing {
    /// Nodes share chunks once the stream's nodes take this many bytes.
    from: usize,
    /// The capacity of a shared chunk, a size class of the allocator.
    /// 64 KiB by measurement: a 28 MB stream took 29.1 B/entry of RSS with
    /// 64 KiB chunks and 31.7 with 128 KiB or 512 KiB ones, as much as a
    /// buffer per node (mimalloc keeps 64 KiB blocks 8 to a 512 KiB page;
    /// bigger ones sit in 4 MiB pages that transparent huge pages make
    /// resident 2 MiB at a time).
    chunk: usize,
    /// Nodes bigger than `chunk / ratio` keep a buffer of their own, which
    /// bounds what the end of a full chunk loses.
    ratio: usize,
}

const PACKING: Packing = Packing {
    from: 1 << 20,
    chunk: 64 << 10,
    ratio: 8,
};

/// Packing from a few hundred bytes, so the property tests exercise
/// shared chunks, holes, compaction and nodes moving out of full chunks.
#[cfg(test)]
const TINY: Packing = Packing {
    from: 300,
    chunk: 512,
    ratio: 1,
};

/// Where a node is in the index: (block, offset in the block).
type NodePos = (usize, usize);

/// The nodes in master-ID order. Valkey keeps them in a radix tree of
/// separately allocated listpacks. Nodes are only ever added at the end and
/// mostly dropped from the front (trimming), so here their slots sit in
/// blocks of [`BLOCK`] double-ended slots, searched by bisection (24 bytes a
/// node), and their listpacks in chunks (see [`Packing`]).
///
/// Invariants: slots are in increasing master order and their chunk ids
/// never decrease along it (a chunk's nodes are consecutive, at increasing
/// offsets); every chunk in `chunks` between the first and the last has
/// nodes or is an empty placeholder, the first and last have nodes; a
/// chunk's buffer ends with its last node (holes are only between nodes),
/// so the stream's last node, in the last chunk, can grow in place.
#[derive(Clone, Debug, Default)]
struct NodeIndex {
    blocks: Vec<VecDeque<Slot>>,
    len: usize,
    chunks: VecDeque<Chunk>,
    /// The id of `chunks[0]`; ids count up (wrapping) as chunks are added.
    base: u32,
    /// Bytes of all nodes.
    bytes: usize,
    /// Whether new nodes share chunks: from [`Packing::from`] bytes on,
    /// until the stream shrinks below half that.
    shared: bool,
    /// Another packing policy, for tests.
    #[cfg(test)]
    packing: Option<&'static Packing>,
}

impl NodeIndex {
    #[cfg(not(test))]
    fn packing(&self) -> &'static Packing {
        &PACKING
    }

    #[cfg(test)]
    fn packing(&self) -> &'static Packing {
        self.packing.unwrap_or(&PACKING)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn rank(&self, chunk: u32) -> usize {
        chunk.wrapping_sub(self.base) as usize
    }

    fn slot(&self, (b, o): NodePos) -> Option<&Slot> {
        self.blocks.get(b)?.get(o)
    }

    fn slot_mut(&mut self, (b, o): NodePos) -> Option<&mut Slot> {
        self.blocks.get_mut(b)?.get_mut(o)
    }

    fn lp_of(&self, s: &Slot) -> Option<Lp<'_>> {
        self.chunks.get(self.rank(s.chunk))?.node(s.off)
    }

    fn at(&self, pos: NodePos) -> Option<(StreamId, Lp<'_>)> {
        let s = self.slot(pos)?;
        Some((s.master, self.lp_of(s)?))
    }

    fn iter(&self) -> impl Iterator<Item = (StreamId, Lp<'_>)> {
        self.blocks
            .iter()
            .flat_map(|b| b.iter())
            .filter_map(move |s| Some((s.master, self.lp_of(s)?)))
    }

    fn first_pos(&self) -> Option<NodePos> {
        (self.len > 0).then_some((0, 0))
    }

    fn last_pos(&self) -> Option<NodePos> {
        let b = self.blocks.len().checked_sub(1)?;
        Some((b, self.blocks[b].len().checked_sub(1)?))
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
            .partition_point(|blk| blk.front().is_some_and(|s| s.master <= id))
            .checked_sub(1)?;
        let o = self.blocks[b]
            .partition_point(|s| s.master <= id)
            .checked_sub(1)?;
        Some((b, o))
    }

    /// The position of the first node of the chunk of rank `k`.
    fn chunk_start(&self, k: usize) -> Option<NodePos> {
        let b = self
            .blocks
            .partition_point(|blk| blk.back().is_some_and(|s| self.rank(s.chunk) < k));
        let o = self
            .blocks
            .get(b)?
            .partition_point(|s| self.rank(s.chunk) < k);
        let s = self.slot((b, o))?;
        (self.rank(s.chunk) == k).then_some((b, o))
    }

    fn last(&self) -> Option<(StreamId, Lp<'_>)> {
        self.at(self.last_pos()?)
    }

    fn push_slot(&mut self, slot: Slot) {
        if self.blocks.last().is_none_or(|b| b.len() >= BLOCK) {
            self.blocks.push(VecDeque::with_capacity(BLOCK));
        }
        if let Some(b) = self.blocks.last_mut() {
            b.push_back(slot);
            self.len += 1;
        }
    }

    /// Switches to shared chunks and back as the stream grows and shrinks
    /// (with some slack between the two, so that a stream trimmed around
    /// the limit does not keep switching). Nodes stored on their own until
    /// then are packed then: copying them is paid for by the bytes added
    /// since the last switch.
    fn update_sharing(&mut self) {
        let p = self.packing();
        if !self.shared && self.bytes >= p.from {
            self.repack();
        } else if self.shared && self.bytes < p.from / 2 {
            self.shared = false;
        }
    }

    /// Adds a node after every other: the listpack of `size` bytes that
    /// `write` appends.
    fn push_node(&mut self, master: StreamId, size: usize, write: impl FnOnce(&mut Vec<u8>)) {
        let p = self.packing();
        // The node before is the best guess of this one's final size.
        let est = self.last().map_or(0, |(_, lp)| lp.byte_len()).max(size);
        let pack = self.shared && est.saturating_mul(p.ratio) <= p.chunk;
        let into_last = pack
            && self.chunks.back().is_some_and(|c| {
                c.bytes.capacity() >= p.chunk && c.bytes.len() + est <= c.bytes.capacity()
            });
        if !into_last {
            let mut bytes = Vec::new();
            reserve_bin(&mut bytes, if pack { p.chunk.max(size) } else { size });
            self.chunks.push_back(Chunk {
                bytes,
                nodes: 0,
                live: 0,
            });
        }
        let id = self
            .base
            .wrapping_add(self.chunks.len().saturating_sub(1) as u32);
        let Some(c) = self.chunks.back_mut() else {
            return;
        };
        let off = c.bytes.len();
        reserve_bin(&mut c.bytes, off + size);
        write(&mut c.bytes);
        let n = c.bytes.len() - off;
        c.nodes += 1;
        c.live += n as u32;
        self.bytes += n;
        self.push_slot(Slot {
            master,
            chunk: id,
            off: off as u32,
        });
    }

    /// Stores every node anew in shared chunks.
    fn repack(&mut self) {
        let old = std::mem::take(self);
        #[cfg(test)]
        {
            self.packing = old.packing;
        }
        self.shared = true;
        for (master, lp) in old.iter() {
            self.push_node(master, lp.byte_len(), |out| out.extend_from_slice(lp.0));
        }
    }

    /// Appends `elements` elements that `write` puts, `extra` bytes, to
    /// the last node. None if there is no node.
    fn append_to_last(
        &mut self,
        extra: usize,
        elements: usize,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Option<()> {
        let (k, off) = self.room_at_end(extra)?;
        let c = self.chunks.get_mut(k)?;
        let before = c.bytes.len();
        c.bytes.pop(); // the end marker
        write(&mut c.bytes);
        c.bytes.push(LP_EOF);
        lp_fix_header(&mut c.bytes, off, elements);
        let added = c.bytes.len() - before;
        c.live += added as u32;
        self.bytes += added;
        Some(())
    }

    /// Makes room for `extra` more bytes after the last node; returns the
    /// rank of its chunk and its offset there.
    fn room_at_end(&mut self, extra: usize) -> Option<(usize, usize)> {
        let pos = self.last_pos()?;
        let s = *self.slot(pos)?;
        let k = self.rank(s.chunk);
        let p = self.packing();
        let c = self.chunks.get_mut(k)?;
        let off = s.off as usize;
        let need = c.bytes.len() + extra;
        if need <= c.bytes.capacity() {
            return Some((k, off));
        }
        if c.nodes == 1 {
            // Alone in its buffer: grows the way a listpack does.
            if off > 0 {
                c.bytes.drain(..off);
                self.slot_mut(pos)?.off = 0;
            }
            let c = self.chunks.get_mut(k)?;
            reserve_bin(&mut c.bytes, need - off);
            return Some((k, 0));
        }
        if need <= p.chunk {
            reserve_bin(&mut c.bytes, need);
            return Some((k, off));
        }
        // The chunk is full: the node moves to a new one, which the nodes
        // after it will share.
        let node_len = c.bytes.len() - off;
        let pack = self.shared && (node_len + extra).saturating_mul(p.ratio) <= p.chunk;
        let end = self.end_before(pos, s.chunk);
        let c = self.chunks.get_mut(k)?;
        let mut bytes = Vec::new();
        reserve_bin(&mut bytes, if pack { p.chunk } else { node_len + extra });
        bytes.extend_from_slice(&c.bytes[off..]);
        c.bytes.truncate(end);
        c.nodes -= 1;
        c.live -= node_len as u32;
        let holey = c.holes() > c.live as usize;
        self.chunks.push_back(Chunk {
            bytes,
            nodes: 1,
            live: node_len as u32,
        });
        let id = self.base.wrapping_add(self.chunks.len() as u32 - 1);
        let slot = self.slot_mut(pos)?;
        slot.chunk = id;
        slot.off = 0;
        if holey {
            self.compact(k);
        }
        Some((self.chunks.len() - 1, 0))
    }

    /// Replaces the integer element at `at` (an offset in the node at
    /// `pos`) by `value`. Positions after it in the node move when the
    /// encoding's size changes.
    fn replace_int(&mut self, pos: NodePos, at: usize, value: i64) {
        let Some(&s) = self.slot(pos) else {
            return;
        };
        let k = self.rank(s.chunk);
        let Some(c) = self.chunks.get_mut(k) else {
            return;
        };
        let off = s.off as usize;
        let at = off + at;
        let n = int_size(value);
        let Some(old) = listpack::entry_size(&c.bytes, at) else {
            return;
        };
        if old == n {
            listpack::write_int_entry(&mut c.bytes[at..at + n], value);
            return;
        }
        if n > old {
            let need = c.bytes.len() + n - old;
            reserve_bin(&mut c.bytes, need);
        }
        c.bytes.splice(at..at + old, std::iter::repeat_n(0, n));
        listpack::write_int_entry(&mut c.bytes[at..at + n], value);
        let Some(total) = lp_total(&c.bytes, off) else {
            return;
        };
        let total = total + n - old;
        c.bytes[off..off + 4].copy_from_slice(&(total as u32).to_le_bytes());
        c.live = (c.live as usize + n - old) as u32;
        self.bytes = self.bytes + n - old;
        // The nodes after it in the chunk moved.
        let mut p = self.next_pos(pos);
        while let Some(q) = p {
            match self.slot_mut(q) {
                Some(t) if t.chunk == s.chunk => t.off = (t.off as usize + n - old) as u32,
                _ => break,
            }
            p = self.next_pos(q);
        }
    }

    /// Where the node before the one at `pos` ends, when it is in chunk
    /// `id`; else 0.
    fn end_before(&self, pos: NodePos, id: u32) -> usize {
        self.prev_pos(pos)
            .and_then(|p| self.slot(p))
            .filter(|p| p.chunk == id)
            .and_then(|p| Some(p.off as usize + self.lp_of(p)?.byte_len()))
            .unwrap_or(0)
    }

    /// Removes the node at `pos`.
    fn remove(&mut self, pos: NodePos) {
        let Some(&s) = self.slot(pos) else {
            return;
        };
        let end = self.end_before(pos, s.chunk);
        let (b, o) = pos;
        let Some(s) = self.blocks.get_mut(b).and_then(|blk| blk.remove(o)) else {
            return;
        };
        self.len -= 1;
        self.tidy(b);
        let k = self.rank(s.chunk);
        let Some(c) = self.chunks.get_mut(k) else {
            return;
        };
        let off = s.off as usize;
        let n = lp_total(&c.bytes, off).unwrap_or(0);
        self.bytes -= n;
        c.nodes -= 1;
        c.live -= n as u32;
        if c.nodes == 0 {
            *c = Chunk::default();
            self.drop_empty_chunks();
            return;
        }
        if off + n == c.bytes.len() {
            // Every chunk ends with its last node.
            c.bytes.truncate(end);
        }
        if c.holes() > c.live as usize {
            self.compact(k);
        }
    }

    /// Drops the empty chunks at both ends.
    fn drop_empty_chunks(&mut self) {
        while self.chunks.front().is_some_and(|c| c.nodes == 0) {
            self.chunks.pop_front();
            self.base = self.base.wrapping_add(1);
        }
        while self.chunks.back().is_some_and(|c| c.nodes == 0) {
            self.chunks.pop_back();
        }
        if self.chunks.is_empty() {
            self.base = 0;
        }
        if self.chunks.len() <= self.chunks.capacity() / 4 {
            self.chunks.shrink_to_fit();
        }
    }

    /// Rewrites the chunk of rank `k` without its holes.
    fn compact(&mut self, k: usize) {
        let Some(start) = self.chunk_start(k) else {
            return;
        };
        let Some(c) = self.chunks.get_mut(k) else {
            return;
        };
        let old = std::mem::take(&mut c.bytes);
        let mut fresh = Vec::new();
        reserve_bin(&mut fresh, c.live as usize);
        let id = self.base.wrapping_add(k as u32);
        let mut pos = Some(start);
        while let Some(p) = pos {
            let Some(s) = self.slot_mut(p) else {
                break;
            };
            if s.chunk != id {
                break;
            }
            let off = s.off as usize;
            let n = lp_total(&old, off).unwrap_or(0);
            s.off = fresh.len() as u32;
            fresh.extend_from_slice(old.get(off..off + n).unwrap_or_default());
            pos = self.next_pos(p);
        }
        self.chunks[k].bytes = fresh;
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

    /// Asserts the invariants (see the type's documentation) and that
    /// every node is a well-formed listpack.
    #[cfg(test)]
    fn check(&self) {
        let mut nodes = vec![0u32; self.chunks.len()];
        let mut live = vec![0usize; self.chunks.len()];
        let mut ends = vec![0usize; self.chunks.len()];
        let mut prev: Option<(StreamId, usize, usize)> = None;
        for s in self.blocks.iter().flat_map(|b| b.iter()) {
            let k = self.rank(s.chunk);
            assert!(k < self.chunks.len(), "slot of a dropped chunk");
            let lp = self.lp_of(s).expect("node in its chunk");
            assert!(Listpack::from_bytes(lp.0).is_some(), "bad node");
            if let Some((m, pk, end)) = prev {
                assert!(m < s.master, "masters out of order");
                assert!(pk <= k, "chunks out of order");
                assert!(pk < k || end <= s.off as usize, "nodes overlap");
            }
            prev = Some((s.master, k, s.off as usize + lp.byte_len()));
            ends[k] = s.off as usize + lp.byte_len();
            nodes[k] += 1;
            live[k] += lp.byte_len();
        }
        assert_eq!(self.len, nodes.iter().map(|&n| n as usize).sum::<usize>());
        for (k, c) in self.chunks.iter().enumerate() {
            assert_eq!(c.nodes, nodes[k], "chunk {k} node count");
            assert_eq!(c.live as usize, live[k], "chunk {k} live bytes");
            assert!(c.live as usize <= c.bytes.len());
        }
        assert!(self.chunks.front().is_none_or(|c| c.nodes > 0));
        assert!(self.chunks.back().is_none_or(|c| c.nodes > 0));
        assert_eq!(self.bytes, live.iter().sum::<usize>());
        if let Some((_, k, _)) = prev {
            assert_eq!(k, self.chunks.len() - 1, "last node not in the last chunk");
        }
        for (k, &end) in ends.iter().enumerate() {
            assert_eq!(end, self.chunks[k].bytes.len(), "chunk {k} ends in a hole");
        }
    }

    /// Bytes held in the allocator: the chunks and the index itself.
    fn memory_usage(&self) -> usize {
        use crate::alloc::alloc_size;
        let chunks: usize = self
            .chunks
            .iter()
            .map(|c| alloc_size(c.bytes.capacity()))
            .sum();
        let slot = std::mem::size_of::<Slot>();
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| alloc_size(b.capacity() * slot))
            .sum();
        chunks
            + alloc_size(self.chunks.capacity() * std::mem::size_of::<Chunk>())
            + blocks
            + alloc_size(self.blocks.capacity() * std::mem::size_of::<VecDeque<Slot>>())
    }
}

/// A node's listpack as stored (what RDB and DUMP carry).
#[derive(Clone, Copy)]
pub struct NodeBytes<'a>(&'a [u8]);

impl<'a> NodeBytes<'a> {
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
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
    lp: Lp<'a>,
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
    lp: Lp<'a>,
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
fn int_at(lp: Lp<'_>, pos: usize) -> i64 {
    lp.get(pos).as_i64().unwrap_or(0)
}

/// A node's master entry, decoded.
#[derive(Clone, Copy)]
struct Node<'a> {
    master: StreamId,
    lp: Lp<'a>,
    master_count: usize,
    master_fields: usize,
    /// The master entry's terminating 0 (its "lp-count").
    terminator: usize,
}

impl<'a> Node<'a> {
    fn open(master: StreamId, lp: Lp<'a>) -> Option<Node<'a>> {
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
                    let Some(n) = Node::open(k, lp) else {
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
        let total: usize = nodes.iter().map(|(_, lp)| lp.byte_len()).sum();
        let mut index = NodeIndex::default();
        index.shared = total >= index.packing().from;
        for (master, lp) in nodes {
            let b = lp.as_bytes();
            index.push_node(master, b.len(), |out| out.extend_from_slice(b));
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
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, NodeBytes<'_>)> {
        self.nodes.iter().map(|(k, lp)| (k, NodeBytes(lp.0)))
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
        let values_size: usize = fv.iter().skip(1).step_by(2).map(|v| value_size(v)).sum();

        // Append to the last node unless it is full.
        let mut tail = None;
        if let Some((master, lp)) = self.nodes.last() {
            let n = Node::open(master, lp).ok_or(AppendError::TooLarge)?;
            let live = n.live();
            let full = lp.byte_len() + total >= max_bytes
                || (cfg.node_max_entries > 0
                    && (live + n.deleted()) as u64 >= cfg.node_max_entries);
            if !full {
                let same = n.master_count == nf
                    && iter_from(lp, n.master_fields)
                        .take(nf)
                        .zip(fv.iter().step_by(2))
                        .all(|(m, f)| m.eq_bytes(f));
                tail = Some((master, live, same, lp.byte_len()));
            }
        }

        match tail {
            Some((master, live, same, tail_len)) => {
                let flags = if same { FLAG_SAMEFIELDS } else { 0 };
                let ms = id.ms.wrapping_sub(master.ms) as i64;
                let seq = id.seq.wrapping_sub(master.seq) as i64;
                let lp_count = if same { nf + 3 } else { 2 * nf + 4 };
                let mut size = int_size(flags)
                    + int_size(ms)
                    + int_size(seq)
                    + values_size
                    + int_size(lp_count as i64);
                if !same {
                    size += int_size(nf as i64)
                        + fv.iter().step_by(2).map(|f| value_size(f)).sum::<usize>();
                }
                // The listpack's size field is 32 bits.
                if tail_len + size > u32::MAX as usize {
                    return Err(AppendError::TooLarge);
                }
                self.nodes
                    .append_to_last(size, lp_count + 1, |out| {
                        put_int(out, flags);
                        put_int(out, ms);
                        put_int(out, seq);
                        if same {
                            for v in fv.iter().skip(1).step_by(2) {
                                put_value(out, v);
                            }
                        } else {
                            put_int(out, nf as i64);
                            for x in fv {
                                put_value(out, x);
                            }
                        }
                        put_int(out, lp_count as i64);
                    })
                    .ok_or(AppendError::TooLarge)?;
                // The master entry's count of live entries.
                if let Some(pos) = self.nodes.last_pos() {
                    self.nodes.replace_int(pos, LP_HEADER, live + 1);
                }
            }
            None => {
                // A new node: the master entry (count, deleted, the field
                // names, 0), then the entry, with the master's fields.
                let fields_size: usize = fv.iter().step_by(2).map(|f| value_size(f)).sum();
                let nf_size = int_size(nf as i64);
                let size = LP_HEADER
                    + int_size(1)
                    + int_size(0)
                    + nf_size
                    + fields_size
                    + int_size(0)
                    + int_size(FLAG_SAMEFIELDS)
                    + int_size(0)
                    + int_size(0)
                    + values_size
                    + int_size(nf as i64 + 3)
                    + 1;
                let elements = 2 * nf + 8;
                if size > u32::MAX as usize {
                    return Err(AppendError::TooLarge);
                }
                self.nodes.update_sharing();
                self.nodes.push_node(id, size, |out| {
                    let off = out.len();
                    out.extend_from_slice(&[0; LP_HEADER]);
                    put_int(out, 1);
                    put_int(out, 0);
                    put_int(out, nf as i64);
                    for f in fv.iter().step_by(2) {
                        put_value(out, f);
                    }
                    put_int(out, 0);
                    put_int(out, FLAG_SAMEFIELDS);
                    put_int(out, 0);
                    put_int(out, 0);
                    for v in fv.iter().skip(1).step_by(2) {
                        put_value(out, v);
                    }
                    put_int(out, nf as i64 + 3);
                    out.push(LP_EOF);
                    lp_fix_header(out, off, elements);
                });
            }
        }

        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(id)
    }

    /// Sets the live and deleted counts of the master entry of the node at
    /// `pos`.
    fn set_counts(&mut self, pos: NodePos, live: i64, deleted: i64) {
        self.nodes.replace_int(pos, LP_HEADER, live);
        // Where the deleted count is now, after the live count's change.
        let at = self.nodes.at(pos).and_then(|(_, lp)| lp.next(LP_HEADER));
        if let Some(q) = at {
            self.nodes.replace_int(pos, q, deleted);
        }
    }

    /// Deletes the live entry `id` (Valkey's `streamDeleteItem`): flags it,
    /// or drops its node when it was the node's last live entry. Does not
    /// update `first_id` / `max_deleted_id` (see [`Entries::delete`]).
    fn delete_one(&mut self, id: StreamId) -> bool {
        let Some(pos) = self.nodes.find_pos(id) else {
            return false;
        };
        let Some((master, lp)) = self.nodes.at(pos) else {
            return false;
        };
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
            self.nodes.remove(pos);
        } else {
            // Same-size change first: the header updates below may move
            // everything after them.
            self.nodes.replace_int(pos, flags_pos, flags | FLAG_DELETED);
            self.set_counts(pos, live - 1, deleted + 1);
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
            let Some(pos) = self.nodes.first_pos() else {
                break;
            };
            let Some((master, lp)) = self.nodes.at(pos) else {
                break;
            };
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
                self.nodes.remove(pos);
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
            // Flags keep their size: the positions stay valid until the
            // counts change.
            for (p, f) in marks {
                self.nodes.replace_int(pos, p, f);
            }
            self.set_counts(pos, live - n, tombstones + n);
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

    /// Bytes held in the allocator by the nodes. Exact, never sampled:
    /// there is a buffer per node only in streams under a megabyte, and
    /// bigger ones share buffers of 64-256 KiB, so there are few to add up,
    /// and sampling the first ones would say little about the others.
    fn memory_usage(&self) -> usize {
        self.nodes.memory_usage()
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
    /// and every group's structures. `samples` (Valkey's `objectComputeSize`
    /// sampling) is not needed: the count is exact and cheap.
    pub fn memory_usage(&self, _samples: usize) -> usize {
        let groups: usize = self.groups.values().map(Group::memory_usage).sum();
        let group_keys: usize = self
            .groups
            .keys()
            .map(|k| crate::alloc::alloc_size(k.len().max(1)))
            .sum();
        self.entries.memory_usage()
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
fn iter_from(lp: Lp<'_>, pos: usize) -> impl Iterator<Item = LpItem<'_>> {
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
        let lp = Listpack::from_bytes(lp.as_bytes()).unwrap();
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

    #[test]
    fn node_entries_are_encoded_as_listpacks_are() {
        let ints = [
            0i64,
            1,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];
        for i in ints {
            let mut lp = Listpack::new();
            lp.push_back_int(i);
            let mut out = Vec::new();
            put_int(&mut out, i);
            assert_eq!(
                &lp.as_bytes()[LP_HEADER..lp.byte_len() - 1],
                &out[..],
                "{i}"
            );
            assert_eq!(int_size(i), out.len(), "{i}");
            let mut patched = vec![0; out.len()];
            listpack::write_int_entry(&mut patched, i);
            assert_eq!(patched, out, "{i}");
        }
        let mut values: Vec<Vec<u8>> = [
            "",
            "a",
            "-0",
            "007",
            "12",
            "-12",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "1.5",
        ]
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect();
        for len in [
            63, 64, 125, 126, 127, 200, 4095, 4096, 16_380, 16_381, 20_000,
        ] {
            values.push(vec![b'x'; len]);
        }
        for v in &values {
            let lp = Listpack::from_items([v.as_slice()]);
            let mut out = Vec::new();
            put_value(&mut out, v);
            assert_eq!(
                &lp.as_bytes()[LP_HEADER..lp.byte_len() - 1],
                &out[..],
                "{}",
                v.len()
            );
            assert_eq!(value_size(v), out.len(), "{}", v.len());
            let mut buf = lp.as_bytes().to_vec();
            buf.truncate(LP_HEADER);
            buf.extend_from_slice(&out);
            let view = Lp(&buf);
            assert_eq!(view.get(LP_HEADER), lp.get(LP_HEADER));
        }
    }

    /// Every node in shared chunks, small ones.
    const SHARED: Packing = Packing {
        from: 0,
        chunk: 8192,
        ratio: 1,
    };

    fn all_ids(e: &Entries) -> Vec<StreamId> {
        collect(e, StreamId::MIN, StreamId::MAX, false)
            .iter()
            .map(|x| x.0)
            .collect()
    }

    #[test]
    fn counts_that_change_size_move_the_nodes_after_them() {
        let mut e = Entries::default();
        e.nodes.packing = Some(&SHARED);
        let c = StreamConfig {
            node_max_bytes: 0,
            node_max_entries: 130,
        };
        // The last node's count goes from 127 to 128 (a longer encoding)
        // while it grows.
        for i in 1..=400 {
            e.append(&[b"f", b"v"], NewId::Exact(id(1, i)), c, 0)
                .unwrap();
        }
        e.nodes.check();
        assert_eq!(e.node_count(), 4);
        assert!(e.nodes.chunks.len() < 4, "{}", e.nodes.chunks.len());
        // First node's live count 130 -> 127 (shorter), then the second's
        // deleted count 127 -> 128 (longer), nodes after them sharing the
        // chunk.
        let mut model: Vec<StreamId> = (1..=400).map(|i| id(1, i)).collect();
        let gone: Vec<StreamId> = (1..=3).map(|i| id(1, i * 7)).collect();
        assert_eq!(e.delete(&gone), 3);
        model.retain(|x| !gone.contains(x));
        e.nodes.check();
        assert_eq!(all_ids(&e), model);
        let gone: Vec<StreamId> = (131..=258).map(|i| id(1, i)).collect();
        assert_eq!(e.delete(&gone), 128);
        model.retain(|x| !gone.contains(x));
        e.nodes.check();
        assert_eq!(all_ids(&e), model);
        assert_eq!(e.len() as usize, model.len());
        // Exact trimming inside the first node.
        let t = Trim {
            strategy: TrimStrategy::MaxLen(model.len() as u64 - 50),
            approx: false,
            limit: 0,
        };
        assert_eq!(e.trim(&t), 50);
        model.drain(..50);
        e.nodes.check();
        assert_eq!(all_ids(&e), model);
    }

    #[test]
    fn the_node_before_a_deleted_last_node_takes_new_entries() {
        let mut e = Entries::default();
        e.nodes.packing = Some(&SHARED);
        let c = cfg(10);
        for i in 1..=25 {
            e.append(&[b"f", b"v"], NewId::Exact(id(i, 0)), c, 0)
                .unwrap();
        }
        assert_eq!(e.node_count(), 3);
        let last: Vec<StreamId> = (21..=25).map(|i| id(i, 0)).collect();
        assert_eq!(e.delete(&last), 5);
        e.nodes.check();
        assert_eq!(e.node_count(), 2);
        // A bigger limit reopens the (shared) node now last.
        e.append(&[b"f", b"v"], NewId::Exact(id(30, 0)), cfg(20), 0)
            .unwrap();
        e.nodes.check();
        assert_eq!(e.node_count(), 2);
        let want: Vec<StreamId> = (1..=20).chain([30]).map(|i| id(i, 0)).collect();
        assert_eq!(all_ids(&e), want);
        assert_eq!(e.last_valid_id(), Some(id(30, 0)));
    }

    #[test]
    fn a_node_outgrowing_its_chunk_leaves_no_hole_behind() {
        let mut e = Entries::default();
        e.nodes.packing = Some(&SHARED);
        for i in 1..=30 {
            e.append(&[b"f", b"v"], NewId::Exact(id(i, 0)), cfg(10), 0)
                .unwrap();
        }
        let ids = |r: std::ops::RangeInclusive<u64>| r.map(|i| id(i, 0)).collect::<Vec<_>>();
        // A hole between the first node and the last.
        assert_eq!(e.delete(&ids(11..=20)), 10);
        assert_eq!(e.nodes.chunks.len(), 1);
        // The last node grows past the chunk's end and moves out.
        let unlimited = StreamConfig {
            node_max_bytes: 0,
            node_max_entries: 0,
        };
        for i in 31..=1000 {
            e.append(&[b"f", b"v"], NewId::Exact(id(i, 0)), unlimited, 0)
                .unwrap();
        }
        e.nodes.check();
        assert_eq!(e.nodes.chunks.len(), 2);
        // Gone again: the first node is the last one, and takes entries.
        assert_eq!(e.delete(&ids(21..=1000)), 980);
        e.nodes.check();
        e.append(&[b"f", b"v"], NewId::Exact(id(2000, 0)), cfg(100), 0)
            .unwrap();
        e.nodes.check();
        assert_eq!(e.node_count(), 1);
        let mut want = ids(1..=10);
        want.push(id(2000, 0));
        assert_eq!(all_ids(&e), want);
    }

    #[test]
    fn chunks_give_memory_back_as_nodes_go() {
        let chunk_bytes =
            |e: &Entries| -> usize { e.nodes.chunks.iter().map(|c| c.bytes.capacity()).sum() };
        let mut e = Entries::default();
        e.nodes.packing = Some(&SHARED);
        let c = cfg(10);
        for i in 1..=2000 {
            e.append(&[b"f", b"v"], NewId::Exact(id(i, 0)), c, 0)
                .unwrap();
        }
        e.nodes.check();
        let full = chunk_bytes(&e);
        // Full chunks and the one being filled.
        assert!(
            full < e.nodes.bytes + SHARED.chunk,
            "{full} for {}",
            e.nodes.bytes
        );
        // Two nodes of every three deleted whole: the holes are compacted
        // away.
        let gone: Vec<StreamId> = (1..=2000)
            .filter(|i| (i - 1) / 10 % 3 != 0)
            .map(|i| id(i, 0))
            .collect();
        e.delete(&gone);
        e.nodes.check();
        let third = chunk_bytes(&e);
        assert!(third < full / 2, "{third} of {full}");
        let t = Trim {
            strategy: TrimStrategy::MaxLen(100),
            approx: true,
            limit: 0,
        };
        e.trim(&t);
        e.nodes.check();
        assert!(chunk_bytes(&e) < full / 5, "{} of {full}", chunk_bytes(&e));
        e.trim(&Trim {
            strategy: TrimStrategy::MaxLen(0),
            approx: false,
            limit: 0,
        });
        e.nodes.check();
        assert!(e.nodes.chunks.is_empty());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, u8, bool),
        Del(u16),
        TrimLen(u16, bool),
        TrimMin(u16),
        Range(u16, u16, bool),
        /// A new `stream-node-max-entries`.
        Config(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..4, 0u8..3, any::<bool>()).prop_map(|(a, b, c)| Op::Add(a, b, c)),
            2 => any::<u16>().prop_map(Op::Del),
            1 => (0u16..60, any::<bool>()).prop_map(|(a, b)| Op::TrimLen(a, b)),
            1 => any::<u16>().prop_map(Op::TrimMin),
            2 => (any::<u16>(), any::<u16>(), any::<bool>()).prop_map(|(a, b, c)| Op::Range(a, b, c)),
            1 => any::<u8>().prop_map(Op::Config),
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
            tiny in any::<bool>(),
        ) {
            let mut c = StreamConfig { node_max_bytes: max_bytes, node_max_entries: max_entries };
            let mut e = Entries::default();
            if tiny {
                e.nodes.packing = Some(&TINY);
            }
            let mut m: Model = BTreeMap::new();
            let mut clock = 1u64;
            for o in ops {
                match o {
                    Op::Config(x) => {
                        // Old full nodes take entries again, nodes grow
                        // out of their chunks.
                        c.node_max_entries = [1, 2, 3, 5, 40][x as usize % 5];
                    }
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
                e.nodes.check();
            }
        }
    }
}

/// `cargo test -p ferrokey-server --lib entries_cost -- --nocapture`
/// prints where the bytes of two-field entries go.
#[cfg(test)]
mod measure {
    use super::*;

    /// Entries like `bench/memory.py`'s stream case: two fields of 8-byte
    /// values, a few hundred entries a millisecond.
    fn bench_like(n: u64) -> Entries {
        let mut e = Entries::default();
        let c = StreamConfig::default();
        for i in 0..n {
            let a = format!("v{:07}", i % 10_000_000);
            let b = format!("w{:07}", i % 10_000_000);
            e.append(
                &[b"fieldone", a.as_bytes(), b"fieldtwo", b.as_bytes()],
                NewId::Auto,
                c,
                1_700_000_000_000 + i / 300,
            )
            .unwrap();
        }
        e
    }

    /// Prints with `--nocapture`; asserts the per-entry budget: what
    /// Valkey 8.1 takes (29.4 B by RSS for this shape), i.e. the listpack
    /// bytes themselves and well under a byte more.
    #[test]
    fn two_field_entries_cost_at_most_the_listpacks_and_half_a_byte() {
        let mut bad = Vec::new();
        for n in [20_000u64, 200_000, 1_000_000] {
            let e = bench_like(n);
            e.nodes.check();
            let lp_bytes: usize = e.nodes().map(|(_, l)| l.as_bytes().len()).sum();
            let alloc = e.memory_usage();
            let chunks = e.nodes.chunks.len();
            println!(
                "n {n} nodes {} chunks {chunks} lp bytes/entry {:.2} alloc/entry {:.2} \
                 (chunks {:.2}, index {:.2})",
                e.node_count(),
                lp_bytes as f64 / n as f64,
                alloc as f64 / n as f64,
                e.nodes
                    .chunks
                    .iter()
                    .map(|c| c.bytes.capacity())
                    .sum::<usize>() as f64
                    / n as f64,
                (alloc as f64
                    - e.nodes
                        .chunks
                        .iter()
                        .map(|c| c.bytes.capacity())
                        .sum::<usize>() as f64)
                    / n as f64,
            );
            // (The index is bigger here than in the server, its blocks
            // being tiny in tests.)
            let chunk_bytes: usize = e.nodes.chunks.iter().map(|c| c.bytes.capacity()).sum();
            if n >= 200_000 {
                bad.push(chunk_bytes as f64 > lp_bytes as f64 + 0.2 * n as f64);
            }
        }
        assert!(!bad.contains(&true), "{bad:?}");
    }
}
