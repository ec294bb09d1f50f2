//! The cache-line bucket hash table at the heart of Ferrokey.
//!
//! [`Table`] stores *owned pointers* to entries (a keyspace record, a set
//! member, ...) through the small [`Entry`] trait: there is no separate node
//! per entry, the entry allocation itself is all there is. [`KvStore`] is an
//! array of tables indexed by cluster slot.
//!
//! # Layout
//!
//! A table is an array of 64-byte buckets (one cache line). A bucket is eight
//! *tag* bytes (the top byte of each entry's hash) followed by eight 7-byte
//! slots (an entry's 48-bit address, or in slot 7 of a full bucket the link
//! to a child bucket), so a lookup compares the tags of all eight slots at
//! once (one 8-byte load and one SSE2 compare) and follows an address to
//! compare a key almost only on a real match. A link also carries a small
//! filter of the tags stored below it, so most misses on a chained bucket
//! stop at its first cache line, and every entry carries a few spare hash
//! bits (its rehash *hint*), so growing moves entries without reading them
//! to rehash their keys (one grow in seven does). See `bucket.rs`.
//!
//! ```text
//!  array:  [ b0 ][ b1 ][ b2 ] ...          b1 overflowed:
//!                 |                         slot 7 of b1 links to a child
//!                 +--> [ child ] --> [ child ]
//! ```
//!
//! # Invariants
//!
//! 1. An entry with hash `h` lives in the chain of bucket `h & mask` of one of
//!    the two levels (never anywhere else: no displacement, which is what
//!    makes [`Table::scan`]'s guarantee possible).
//! 2. While rehashing (level 1 allocated), chains of level 0 below
//!    `rehash_idx` are empty; a new entry goes to level 1, or to its
//!    level-0 chain if that is not moved yet (it moves with the chain).
//! 3. In a chain, every bucket but the last is full, and the last of a chain
//!    of two or more is not empty. Deletes fill their hole from the chain's
//!    tail (`compact_chain`), so chains stay short after churn. The safe
//!    iterator defers this to the end of each chain.
//! 4. A slot is empty iff its tag byte is 0, and an empty slot is all zeros;
//!    slot 7 of a chained bucket is a link (tag byte 0), never an entry; a
//!    stored tag always equals the top byte of the entry's hash, or 1 when
//!    that is 0 (`tag_of`), so it is never 0. A link's chain filter has the
//!    bit of every tag stored below it (it may have more). An entry's rehash
//!    hint, if not zero, holds `k` valid hash bits: those just above its
//!    level's bucket index.
//! 5. `levels[i].used` counts the entries in level `i`, `children` its child
//!    buckets; [`Table::bucket_bytes`] is exact from them.
//! 6. The fill (entries / slots) stays at most 100 % after an insert and at
//!    least 13 % after a delete, under [`ResizePolicy::Allow`]; both limits
//!    widen to 500 % / 3 % under `Avoid`, and `Forbid` never resizes. A resize
//!    allocates the new array and moves a few (4) bucket chains per operation
//!    (and more from [`Table::rehash_for`]): no operation is O(n).
//!
//! # Safety
//!
//! The unsafe code is confined to this crate: buckets hold entries'
//! addresses (their pointers' provenance exposed on the way in, taken back
//! on the way out), and views of entries are rebuilt from them (see
//! [`Entry`]'s contract). Every block states why it is sound; the tests, including the
//! property tests against `HashMap`, also run under valgrind
//! (`scripts/valgrind-table.sh`).

mod alloc;
mod bucket;
mod fenwick;
mod hash;
mod iter;
mod kvstore;
mod pool;
mod prefetch;
mod sample;
mod scan;
mod stats;
mod table;

pub use alloc::{in_use_bytes, mapped_bytes, LAZY_FREE_BYTES, MAP_BYTES};
pub use hash::DefaultHashBuilder;
pub use iter::{Iter, IterMut};
pub use kvstore::{KvEntry, KvIter, KvOccupied, KvStore, KvVacant, MAX_SLOTS};
pub use pool::{pool_stats, PoolStats};

pub use stats::{LevelStats, CHAIN_HISTOGRAM_LEN};
pub use table::{Entry, EntryRef, Occupied, Ref, RefMut, ResizePolicy, Table, Vacant};
