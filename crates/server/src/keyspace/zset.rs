//! The sorted set type.
//!
//! Two encodings, switched at Valkey's moments (`zset-max-listpack-entries`
//! and `-value`):
//!
//! - **listpack**: `member, score, member, score, ...` sorted by (score,
//!   member), byte for byte Valkey's `zzlInsertAt` layout (integral scores
//!   as listpack integers, others as `d2string` text), so RDB can carry the
//!   buffer as it is. Operations are linear, as in Valkey.
//! - **skiplist** (the name OBJECT ENCODING reports): a member -> score
//!   index (`Table<Member>`, one 24-byte allocation per 12-byte member,
//!   holding the member and its score) plus an order-statistic B+tree of
//!   (score, pointer to the index's `Member`) pairs, 16 bytes each in
//!   fixed 1 KiB leaves (`zset_tree.rs`), which answers rank, "n-th", and
//!   score/lex range queries in O(log n). The member bytes exist once, in
//!   the index; `Big` keeps the tree's pointers valid (see there).
//!
//! Large → small conversion happens only where Valkey does it
//! ([`ZSet::convert_to_listpack_if_fits`], used for results built fresh).

#[path = "zset_tree.rs"]
mod tree;

use super::listpack::{Listpack, LpItem};
use super::member::Member;
use super::thinbuf::{one_word, LpHeader};
use crate::util::num::{double_to_i64, format_double, strtod};
use ferrokey_table::{EntryRef, Table};
use std::cmp::Ordering;
pub use tree::cmp_pair;
use tree::{member_key, Tree};

/// `zset-max-listpack-entries/-value`.
#[derive(Clone, Copy, Debug)]
pub struct ZSetConfig {
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl ZSetConfig {
    pub fn from_config(c: &crate::config::Config) -> ZSetConfig {
        ZSetConfig {
            max_listpack_entries: c.zset_max_listpack_entries,
            max_listpack_value: c.zset_max_listpack_value,
        }
    }
}

/// Valkey's `LISTPACK_MAX_SAFETY_SIZE`: a listpack never grows past 1 GiB.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

// ---- ranges ----------------------------------------------------------------

/// A score interval (`zrangespec`): `(1.5` is exclusive, `1.5` inclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

/// One end of a score range as `zslParseRange` reads it: C `strtod` on the
/// text up to a NUL, after an optional `(`; leading blanks and out-of-range
/// values (`1e400` is inf) are accepted, trailing bytes and NaN are not; an
/// empty string is 0.
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, ex) = match arg.first() {
        Some(b'(') => (&arg[1..], true),
        _ => (arg, false),
    };
    let text = match text.iter().position(|&b| b == 0) {
        Some(n) => &text[..n],
        None => text,
    };
    let r = strtod(text);
    if r.consumed != text.len() || r.value.is_nan() {
        return None;
    }
    Some((r.value, ex))
}

impl ScoreRange {
    /// Parses `min max` (None: "min or max is not a float").
    pub fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, minex) = parse_score_bound(min)?;
        let (max, maxex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    /// Ranges that can hold nothing (`zslIsInRange`'s first test).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lex range: `-`, `+`, `[value` or `(value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Value { bytes: Vec<u8>, exclusive: bool },
}

impl LexBound {
    /// `zslParseLexRangeItem` (C string rules for `-` and `+`).
    pub fn parse(arg: &[u8]) -> Option<LexBound> {
        let lone = arg.len() == 1 || arg.get(1) == Some(&0);
        match arg.first()? {
            b'+' if lone => Some(LexBound::PosInf),
            b'-' if lone => Some(LexBound::NegInf),
            b'(' => Some(LexBound::Value {
                bytes: arg[1..].to_vec(),
                exclusive: true,
            }),
            b'[' => Some(LexBound::Value {
                bytes: arg[1..].to_vec(),
                exclusive: false,
            }),
            _ => None,
        }
    }

    /// How `v` compares with the bound (`sdscmplex(v, bound)`).
    fn cmp_value(&self, v: &[u8]) -> Ordering {
        match self {
            LexBound::NegInf => Ordering::Greater,
            LexBound::PosInf => Ordering::Less,
            LexBound::Value { bytes, .. } => v.cmp(bytes),
        }
    }

    /// `-` and `+` count as exclusive, as in Valkey.
    fn exclusive(&self) -> bool {
        match self {
            LexBound::Value { exclusive, .. } => *exclusive,
            _ => true,
        }
    }
}

/// A lex interval (`zlexrangespec`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    /// Parses `min max` (None: "min or max not valid string range item").
    pub fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }

    #[inline]
    pub fn gte_min(&self, v: &[u8]) -> bool {
        let c = self.min.cmp_value(v);
        if self.min.exclusive() {
            c == Ordering::Greater
        } else {
            c != Ordering::Less
        }
    }

    #[inline]
    pub fn lte_max(&self, v: &[u8]) -> bool {
        let c = self.max.cmp_value(v);
        if self.max.exclusive() {
            c == Ordering::Less
        } else {
            c != Ordering::Greater
        }
    }

    /// Ranges that can hold nothing (`zslIsInLexRange`'s first test).
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        let cmp = match (&self.min, &self.max) {
            (NegInf, NegInf) | (PosInf, PosInf) => Ordering::Equal,
            (NegInf, _) | (_, PosInf) => Ordering::Less,
            (PosInf, _) | (_, NegInf) => Ordering::Greater,
            (Value { bytes: a, .. }, Value { bytes: b, .. }) => a.cmp(b),
        };
        cmp == Ordering::Greater
            || (cmp == Ordering::Equal && (self.min.exclusive() || self.max.exclusive()))
    }
}

// ---- ZADD ------------------------------------------------------------------

/// ZADD's NX/XX/GT/LT/INCR (`ZADD_IN_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    pub incr: bool,
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// What [`ZSet::add`] did (`ZADD_OUT_*` plus the new score).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AddOutcome {
    /// The score (or the increment's result) is NaN; nothing changed.
    Nan,
    /// NX/XX/GT/LT prevented the change.
    Nop,
    Added(f64),
    Updated(f64),
    /// Processed, but the score was already this.
    Same(f64),
}

// ---- listpack helpers ------------------------------------------------------

/// The text of a listpack element: integers formatted into `buf`.
#[inline]
fn item_bytes<'a>(it: LpItem<'a>, buf: &'a mut [u8; 20]) -> &'a [u8] {
    match it {
        LpItem::Str(s) => s,
        LpItem::Int(i) => {
            let (b, n) = itoa_buf(i);
            *buf = b;
            &buf[..n]
        }
    }
}

/// Decimal digits of `i` in a fixed buffer: (bytes, length).
fn itoa_buf(i: i64) -> ([u8; 20], usize) {
    let mut out = [0u8; 20];
    let mut digits = [0u8; 20];
    let mut u = i.unsigned_abs();
    let mut n = 0;
    loop {
        digits[n] = b'0' + (u % 10) as u8;
        n += 1;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    let mut k = 0;
    if i < 0 {
        out[0] = b'-';
        k = 1;
    }
    for d in digits[..n].iter().rev() {
        out[k] = *d;
        k += 1;
    }
    (out, k)
}

/// A score as stored in a listpack (`zzlGetScore`: text is read with
/// `strtod` on at most 127 bytes, without validation).
#[inline]
fn lp_score(it: LpItem<'_>) -> f64 {
    match it {
        LpItem::Int(i) => i as f64,
        LpItem::Str(s) => strtod(&s[..s.len().min(127)]).value,
    }
}

/// The listpack text of a score (`zzlInsertAt`): integers that `double2ll`
/// accepts (`-0` included) as integers, anything else as `d2string`.
fn score_text(score: f64, out: &mut Vec<u8>) {
    out.clear();
    match double_to_i64(score) {
        Some(i) => {
            let (b, n) = itoa_buf(i);
            out.extend_from_slice(&b[..n]);
        }
        None => format_double(score, out),
    }
}

/// Position and score of `member` in a listpack.
fn lp_find(lp: &Listpack, member: &[u8]) -> Option<(usize, f64)> {
    let p = lp.find(lp.first()?, member, 1)?;
    let s = lp.next(p)?;
    Some((p, lp_score(lp.get(s))))
}

/// `zzlInsert`: puts the pair at its sorted place (the member is absent).
fn lp_insert(lp: &mut Listpack, member: &[u8], score: f64) {
    let mut at = None;
    let mut p = lp.first();
    while let Some(e) = p {
        let Some(sp) = lp.next(e) else { break };
        let s = lp_score(lp.get(sp));
        if s > score {
            at = Some(e);
            break;
        }
        if s == score {
            let mut buf = [0u8; 20];
            if item_bytes(lp.get(e), &mut buf) > member {
                at = Some(e);
                break;
            }
        }
        p = lp.next(sp);
    }
    let mut text = Vec::with_capacity(24);
    score_text(score, &mut text);
    match at {
        Some(e) => {
            lp.insert_at(e, member);
            // The score goes right after the new member, i.e. before the
            // element now following it.
            match lp.next(e) {
                Some(next) => {
                    lp.insert_at(next, &text);
                }
                None => lp.push_back(&text),
            }
        }
        None => {
            lp.push_back(member);
            lp.push_back(&text);
        }
    }
}

/// Iterates (member, score) pairs of a listpack in order.
struct LpPairs<'a> {
    it: super::listpack::Iter<'a>,
}

impl<'a> Iterator for LpPairs<'a> {
    type Item = (LpItem<'a>, f64);
    fn next(&mut self) -> Option<Self::Item> {
        let m = self.it.next()?;
        let s = self.it.next()?;
        Some((m, lp_score(s)))
    }
}

fn lp_pairs(lp: &Listpack) -> LpPairs<'_> {
    LpPairs { it: lp.iter() }
}

// ---- the type --------------------------------------------------------------

/// The skiplist encoding: member -> score, and the ordered pairs.
///
/// The tree points at the index's members. What keeps that sound (the
/// tree's safety invariant): a member enters the tree right after the index
/// took it and leaves the tree before the index frees it (`remove`, `pop`,
/// `remove_rank_range` take it out of the tree first); members never move
/// (the index holds them by pointer; a score update writes in place) and
/// their keys never change. Dropping a `Big` frees the members and then the
/// tree, which never reads them on drop.
struct Big {
    index: Table<Member>,
    tree: Tree,
}

impl Big {
    fn with_capacity(cap: usize) -> Big {
        let mut index = Table::new();
        if cap > 0 {
            index.reserve(cap);
        }
        Big {
            index,
            tree: Tree::new(),
        }
    }

    /// Adds a member that is not in the set.
    fn insert_new(&mut self, member: &[u8], score: f64) {
        let m = Member::with_score(member, score);
        let p = m.as_ptr();
        if let Some(old) = self.index.insert(m) {
            // Not expected (the caller checked); keep the pair count and the
            // index in step rather than leave a pair to a freed member.
            self.tree.remove(old.score(), member);
        }
        // SAFETY: p is the member the index now owns (its allocation does not
        // move), and no pair of this key is left in the tree; it leaves the
        // tree before the index frees it (Big's invariant).
        unsafe { self.tree.insert(score, p) };
    }

    /// Takes the pairs of ranks `start..start + count` out and frees their
    /// members, handing each (member, score) to `f` first.
    fn remove_ranks(&mut self, start: usize, count: usize, mut f: impl FnMut(&[u8], f64)) {
        let index = &mut self.index;
        self.tree.remove_range(start, count, |s, p| {
            // SAFETY: the pair was in the tree a moment ago, so `p` is a live
            // member of the index; `key` is not used after the index freed
            // the member (the statement that removes it is the last use).
            let key = unsafe { member_key(p) };
            f(key, s);
            index.remove(key);
        });
    }

    /// Checks the tree against the index (tests): every pair points at the
    /// index's member for its key, with the member's score.
    #[cfg(test)]
    fn check(&self) {
        self.tree.check();
        assert_eq!(self.tree.len(), self.index.len());
        for (s, p) in self.tree.pointers() {
            // SAFETY: pairs point at live members of the index (invariant).
            let key = unsafe { member_key(p) };
            let m = self.index.get(key).expect("a pair's member is indexed");
            assert_eq!(m.as_ptr(), p);
            assert_eq!(m.score().to_bits(), s.to_bits());
        }
    }
}

impl Clone for Big {
    fn clone(&self) -> Big {
        let mut b = Big::with_capacity(self.index.len());
        // In order: each pair lands at the end of the new tree, which keeps
        // its leaves full.
        self.tree.walk(0, false, |s, m| {
            b.insert_new(m, s);
            true
        });
        b
    }
}

one_word! {
    /// The encoding, in one word (see `thinbuf`): a small sorted set costs
    /// only its listpack.
    struct Enc / EncOwn / EncRef / EncMut {
        thin Listpack(LpHeader),
        boxed Skiplist(Big) = 2,
    }
}

impl Clone for Enc {
    fn clone(&self) -> Enc {
        Enc::new(match self.get() {
            EncRef::Listpack(lp) => EncOwn::Listpack(lp.clone()),
            EncRef::Skiplist(b) => EncOwn::Skiplist(Box::new(b.clone())),
        })
    }
}

#[derive(Clone)]
pub struct ZSet {
    enc: Enc,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl std::fmt::Debug for ZSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ZSet({}, {} members)", self.encoding_name(), self.len())
    }
}

impl ZSet {
    /// The member index of the `skiplist` encoding (for prefetching).
    pub fn member_table(&self) -> Option<&Table<Member>> {
        match self.enc.get() {
            EncRef::Skiplist(b) => Some(&b.index),
            EncRef::Listpack(_) => None,
        }
    }

    /// An empty listpack-encoded sorted set.
    pub fn new() -> ZSet {
        ZSet {
            enc: Enc::new(EncOwn::Listpack(Listpack::new())),
        }
    }

    /// An empty skiplist-encoded sorted set sized for `cap` members.
    pub fn new_skiplist(cap: usize) -> ZSet {
        ZSet {
            enc: Enc::new(EncOwn::Skiplist(Box::new(Big::with_capacity(cap)))),
        }
    }

    /// `zsetTypeCreate`: the encoding a set of about `size_hint` members of
    /// up to `value_len_hint` bytes starts with.
    pub fn with_hints(size_hint: usize, value_len_hint: usize, cfg: &ZSetConfig) -> ZSet {
        if size_hint <= cfg.max_listpack_entries && value_len_hint <= cfg.max_listpack_value {
            ZSet::new()
        } else {
            ZSet::new_skiplist(size_hint)
        }
    }

    /// Adopts a listpack of member/score pairs (RDB, DUMP/RESTORE). None if
    /// it does not hold pairs.
    pub fn from_listpack(lp: Listpack) -> Option<ZSet> {
        lp.len().is_multiple_of(2).then_some(ZSet {
            enc: Enc::new(EncOwn::Listpack(lp)),
        })
    }

    /// The listpack, when that is the encoding (RDB).
    pub fn listpack(&self) -> Option<&Listpack> {
        match self.enc.get() {
            EncRef::Listpack(lp) => Some(lp),
            EncRef::Skiplist(_) => None,
        }
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.enc.get(), EncRef::Listpack(_))
    }

    pub fn len(&self) -> usize {
        match self.enc.get() {
            EncRef::Listpack(lp) => lp.len() / 2,
            EncRef::Skiplist(b) => b.tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self.enc.get() {
            EncRef::Listpack(lp) => lp.is_empty(),
            EncRef::Skiplist(b) => b.tree.is_empty(),
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self.enc.get() {
            EncRef::Listpack(_) => "listpack",
            EncRef::Skiplist(_) => "skiplist",
        }
    }

    /// Bytes held in the allocator. For the skiplist encoding with
    /// `samples > 0`, estimated from that many members (O(samples)).
    pub fn memory_usage(&self, samples: usize) -> usize {
        use crate::alloc::alloc_size;
        match self.enc.get() {
            EncRef::Listpack(lp) => lp.memory_usage(),
            EncRef::Skiplist(b) => {
                let fixed = alloc_size(std::mem::size_of::<Big>()) + b.index.bucket_bytes();
                let n = b.index.len();
                if samples == 0 {
                    let members: usize = b.index.iter().map(|m| m.memory_usage()).sum();
                    fixed + members + b.tree.memory_usage()
                } else {
                    let (mut seen, mut bytes) = (0usize, 0usize);
                    for m in b.index.iter().take(samples) {
                        seen += 1;
                        bytes += m.memory_usage();
                    }
                    let members = if seen == 0 {
                        0
                    } else {
                        (bytes as f64 / seen as f64 * n as f64) as usize
                    };
                    fixed + members + b.tree.memory_estimate(samples)
                }
            }
        }
    }

    /// Allocations a drop frees (lazy free decides on it).
    pub fn free_effort(&self) -> usize {
        match self.enc.get() {
            EncRef::Listpack(_) => 1,
            EncRef::Skiplist(b) => b.tree.len(),
        }
    }

    /// Members with their scores, lowest rank first.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], f64)) {
        self.walk(0, false, |m, s| {
            f(m, s);
            true
        });
    }

    /// All pairs, lowest rank first.
    pub fn pairs(&self) -> Vec<(Vec<u8>, f64)> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each(|m, s| v.push((m.to_vec(), s)));
        v
    }

    /// Calls `f` with the pairs from rank `from` (0 = lowest score) on,
    /// towards higher ranks, or towards rank 0 when `reverse`, until `f`
    /// returns false.
    pub fn walk(&self, from: usize, reverse: bool, mut f: impl FnMut(&[u8], f64) -> bool) {
        match self.enc.get() {
            EncRef::Listpack(lp) => {
                let Some(mut e) = lp.seek(2 * from as i64) else {
                    return;
                };
                loop {
                    let Some(sp) = lp.next(e) else { return };
                    let mut buf = [0u8; 20];
                    let m = item_bytes(lp.get(e), &mut buf);
                    if !f(m, lp_score(lp.get(sp))) {
                        return;
                    }
                    let next = if reverse {
                        lp.prev(e).and_then(|s| lp.prev(s))
                    } else {
                        lp.next(sp)
                    };
                    match next {
                        Some(n) => e = n,
                        None => return,
                    }
                }
            }
            EncRef::Skiplist(b) => b.tree.walk(from, reverse, |s, m| f(m, s)),
        }
    }

    /// The pair at `rank` (0 = lowest score).
    pub fn get(&self, rank: usize) -> Option<(Vec<u8>, f64)> {
        if let EncRef::Skiplist(b) = self.enc.get() {
            return b.tree.get(rank).map(|(s, m)| (m.to_vec(), s));
        }
        let mut out = None;
        self.walk(rank, false, |m, s| {
            out = Some((m.to_vec(), s));
            false
        });
        out
    }

    /// Removes and returns the member with the lowest score (`min`) or the
    /// highest.
    pub fn pop(&mut self, min: bool) -> Option<(Vec<u8>, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let rank = if min { 0 } else { len - 1 };
        match self.enc.get_mut() {
            EncMut::Listpack(lp) => {
                let e = lp.seek(2 * rank as i64)?;
                let m = lp.get(e).to_vec();
                let s = lp_score(lp.get(lp.next(e)?));
                lp.delete_range(e, 2);
                Some((m, s))
            }
            EncMut::Skiplist(b) => {
                let mut out = None;
                b.remove_ranks(rank, 1, |m, s| out = Some((m.to_vec(), s)));
                out
            }
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self.enc.get() {
            EncRef::Listpack(lp) => lp_find(lp, member).map(|(_, s)| s),
            EncRef::Skiplist(b) => b.index.get(member).map(|m| m.score()),
        }
    }

    /// 0-based rank of `member` (from the highest score when `reverse`)
    /// and its score.
    pub fn rank(&self, member: &[u8], reverse: bool) -> Option<(usize, f64)> {
        let len = self.len();
        let (rank, score) = match self.enc.get() {
            EncRef::Listpack(lp) => {
                let mut found = None;
                for (i, (m, s)) in lp_pairs(lp).enumerate() {
                    if m.eq_bytes(member) {
                        found = Some((i, s));
                        break;
                    }
                }
                found?
            }
            EncRef::Skiplist(b) => {
                let m = b.index.get(member)?;
                let s = m.score();
                (b.tree.rank_member(s, member, m.as_ptr())?, s)
            }
        };
        Some((if reverse { len - 1 - rank } else { rank }, score))
    }

    /// Converts to the skiplist encoding, sized for `cap` members.
    fn convert_to_skiplist(&mut self, cap: usize) {
        let EncRef::Listpack(lp) = self.enc.get() else {
            return;
        };
        let mut big = Big::with_capacity(cap);
        for (m, s) in lp_pairs(lp) {
            let mut buf = [0u8; 20];
            big.insert_new(item_bytes(m, &mut buf), s);
        }
        self.enc = Enc::new(EncOwn::Skiplist(Box::new(big)));
    }

    /// `zsetTypeMaybeConvert`: goes to the skiplist encoding ahead of adding
    /// about `size_hint` members of up to `value_len_hint` bytes.
    pub fn maybe_convert(&mut self, size_hint: usize, value_len_hint: usize, cfg: &ZSetConfig) {
        if self.is_listpack()
            && (size_hint > cfg.max_listpack_entries || value_len_hint > cfg.max_listpack_value)
        {
            self.convert_to_skiplist(size_hint);
        }
    }

    /// `zsetConvertToListpackIfNeeded`: a skiplist set that is small enough
    /// (given its longest member and total member bytes) becomes a listpack.
    pub fn convert_to_listpack_if_fits(
        &mut self,
        max_len: usize,
        total_len: usize,
        cfg: &ZSetConfig,
    ) {
        let EncRef::Skiplist(b) = self.enc.get() else {
            return;
        };
        if b.tree.len() <= cfg.max_listpack_entries
            && max_len <= cfg.max_listpack_value
            && total_len <= LISTPACK_MAX_SAFETY_SIZE
        {
            let mut lp = Listpack::new();
            let mut text = Vec::with_capacity(24);
            b.tree.walk(0, false, |s, m| {
                lp.push_back(m);
                score_text(s, &mut text);
                lp.push_back(&text);
                true
            });
            self.enc = Enc::new(EncOwn::Listpack(lp));
        }
    }

    /// `zsetAdd`: adds `member` or updates its score under `flags`,
    /// converting to the skiplist encoding when the listpack would grow past
    /// its limits.
    pub fn add(
        &mut self,
        score: f64,
        member: &[u8],
        flags: AddFlags,
        cfg: &ZSetConfig,
    ) -> AddOutcome {
        if score.is_nan() {
            return AddOutcome::Nan;
        }
        let mut score = score;
        if let EncMut::Listpack(lp) = self.enc.get_mut() {
            if let Some((pos, cur)) = lp_find(lp, member) {
                if flags.nx {
                    return AddOutcome::Nop;
                }
                if flags.incr {
                    score += cur;
                    if score.is_nan() {
                        return AddOutcome::Nan;
                    }
                }
                if (flags.lt && score >= cur) || (flags.gt && score <= cur) {
                    return AddOutcome::Nop;
                }
                if score != cur {
                    lp.delete_range(pos, 2);
                    lp_insert(lp, member, score);
                    return AddOutcome::Updated(score);
                }
                return AddOutcome::Same(score);
            }
            if flags.xx {
                return AddOutcome::Nop;
            }
            if lp.len() / 2 < cfg.max_listpack_entries
                && member.len() <= cfg.max_listpack_value
                && lp.byte_len() + member.len() <= LISTPACK_MAX_SAFETY_SIZE
            {
                lp_insert(lp, member, score);
                return AddOutcome::Added(score);
            }
            let n = lp.len() / 2;
            self.convert_to_skiplist(n + 1);
        }
        let EncMut::Skiplist(b) = self.enc.get_mut() else {
            return AddOutcome::Nop;
        };
        // One index lookup whether the member is there or not.
        match b.index.entry(member) {
            EntryRef::Occupied(mut o) => {
                if flags.nx {
                    return AddOutcome::Nop;
                }
                let mut m = o.get_mut();
                let cur = m.score();
                if flags.incr {
                    score += cur;
                    if score.is_nan() {
                        return AddOutcome::Nan;
                    }
                }
                if (flags.lt && score >= cur) || (flags.gt && score <= cur) {
                    return AddOutcome::Nop;
                }
                if score != cur {
                    // The same member moves to its new place in the tree.
                    b.tree.remove_member(cur, member, m.as_ptr());
                    m.set_score(score);
                    // SAFETY: m is the index's member for this key, now out
                    // of the tree; the index keeps it until it leaves the
                    // tree again (Big's invariant). set_score wrote in place.
                    unsafe { b.tree.insert(score, m.as_ptr()) };
                    return AddOutcome::Updated(score);
                }
                AddOutcome::Same(score)
            }
            EntryRef::Vacant(_) if flags.xx => AddOutcome::Nop,
            EntryRef::Vacant(v) => {
                let p = v.insert(Member::with_score(member, score)).as_ptr();
                // SAFETY: p is the member the index just took for a key that
                // had no pair in the tree; it leaves the tree before the
                // index frees it (Big's invariant).
                unsafe { b.tree.insert(score, p) };
                AddOutcome::Added(score)
            }
        }
    }

    /// `zsetDel`: true if `member` was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self.enc.get_mut() {
            EncMut::Listpack(lp) => match lp_find(lp, member) {
                Some((pos, _)) => {
                    lp.delete_range(pos, 2);
                    true
                }
                None => false,
            },
            EncMut::Skiplist(b) => match b.index.remove(member) {
                Some(m) => {
                    // Out of the tree before `m` (the member it points at)
                    // is freed at the end of this arm.
                    b.tree.remove_member(m.score(), member, m.as_ptr());
                    true
                }
                None => false,
            },
        }
    }

    /// Removes the pairs of ranks `start..end`; returns how many.
    pub fn remove_rank_range(&mut self, start: usize, end: usize) -> usize {
        let end = end.min(self.len());
        if start >= end {
            return 0;
        }
        match self.enc.get_mut() {
            EncMut::Listpack(lp) => match lp.seek(2 * start as i64) {
                Some(p) => lp.delete_range(p, 2 * (end - start)) / 2,
                None => 0,
            },
            EncMut::Skiplist(b) => {
                let mut n = 0;
                b.remove_ranks(start, end - start, |_, _| n += 1);
                n
            }
        }
    }

    /// Ranks `start..end` of the pairs whose scores are in `r`.
    pub fn score_span(&self, r: &ScoreRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        match self.enc.get() {
            EncRef::Listpack(lp) => {
                // zzlFirstInRange: the first pair at or above min, which
                // must also be at or below max.
                let mut start = None;
                let mut end = 0;
                for (i, (_, s)) in lp_pairs(lp).enumerate() {
                    match start {
                        None if r.gte_min(s) => {
                            if !r.lte_max(s) {
                                return (0, 0);
                            }
                            start = Some(i);
                            end = i + 1;
                        }
                        None => {}
                        Some(_) if r.lte_max(s) => end = i + 1,
                        Some(_) => break,
                    }
                }
                start.map_or((0, 0), |s| (s, end))
            }
            EncRef::Skiplist(b) => {
                let start = b.tree.partition_point_by_score(|s| !r.gte_min(s));
                let end = b.tree.partition_point_by_score(|s| r.lte_max(s));
                (start, end.max(start))
            }
        }
    }

    /// Ranks `start..end` of the pairs whose members are in `r` (meaningful
    /// when all scores are equal, as in Valkey).
    pub fn lex_span(&self, r: &LexRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        match self.enc.get() {
            EncRef::Listpack(lp) => {
                let mut start = None;
                let mut end = 0;
                for (i, (m, _)) in lp_pairs(lp).enumerate() {
                    let mut buf = [0u8; 20];
                    let m = item_bytes(m, &mut buf);
                    match start {
                        None if r.gte_min(m) => {
                            if !r.lte_max(m) {
                                return (0, 0);
                            }
                            start = Some(i);
                            end = i + 1;
                        }
                        None => {}
                        Some(_) if r.lte_max(m) => end = i + 1,
                        Some(_) => break,
                    }
                }
                start.map_or((0, 0), |s| (s, end))
            }
            EncRef::Skiplist(b) => {
                let start = b.tree.partition_point(|_, m| !r.gte_min(m));
                let end = b.tree.partition_point(|_, m| r.lte_max(m));
                (start, end.max(start))
            }
        }
    }

    /// A random pair (uniform), or None when empty.
    pub fn random_pair(&self, rng: &mut dyn FnMut() -> u64) -> Option<(Vec<u8>, f64)> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        match self.enc.get() {
            EncRef::Listpack(_) => self.get((rng() % len as u64) as usize),
            EncRef::Skiplist(b) => b
                .index
                .fair_random_entry(rng)
                .map(|m| (m.key().to_vec(), m.score())),
        }
    }

    /// One step of ZSCAN: calls `f` with members and scores and returns the
    /// next cursor. A listpack is returned whole (cursor 0), as in Valkey;
    /// the skiplist encoding walks its index table's buckets, visiting about
    /// `count` members (at most `10 * count` steps).
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], ScanScore)) -> u64 {
        match self.enc.get() {
            EncRef::Listpack(lp) => {
                let mut it = lp.iter();
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    let mut b1 = [0u8; 20];
                    let mut b2 = [0u8; 20];
                    f(
                        item_bytes(m, &mut b1),
                        ScanScore::Text(item_bytes(s, &mut b2)),
                    );
                }
                0
            }
            EncRef::Skiplist(b) => {
                let mut cursor = cursor;
                let mut visited = 0usize;
                let mut budget = count.saturating_mul(10);
                loop {
                    cursor = b.index.scan(cursor, |m| {
                        visited += 1;
                        f(m.key(), ScanScore::Double(m.score()));
                    });
                    if cursor == 0 || budget == 0 || visited >= count {
                        return cursor;
                    }
                    budget -= 1;
                }
            }
        }
    }
}

/// A score as ZSCAN prints it: the listpack text as stored, or a double
/// (printed `%.17g`, Valkey's `ld2string(LD_STR_AUTO)`).
#[derive(Clone, Copy, Debug)]
pub enum ScanScore<'a> {
    Text(&'a [u8]),
    Double(f64),
}

/// Valkey's `ld2string(.., LD_STR_AUTO)`: `%.17Lg` of the double widened
/// to long double (exact, so the same digits as `%.17g`), `inf`, `-inf`.
pub fn format_g17(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-inf" } else { b"inf" });
        return;
    }
    if v == 0.0 {
        out.extend_from_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // 17 significant digits, correctly rounded: d.dddddddddddddddde±x.
    let sci = format!("{:.16e}", v);
    let (mant, exp) = match sci.split_once('e') {
        Some(p) => p,
        None => (sci.as_str(), "0"),
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    if neg {
        out.push(b'-');
    }
    if !(-4..17).contains(&exp) {
        // Scientific: strip trailing zeros of the fraction.
        let mut frac = &digits[1..];
        while let [rest @ .., b'0'] = frac {
            frac = rest;
        }
        out.push(digits[0]);
        if !frac.is_empty() {
            out.push(b'.');
            out.extend_from_slice(frac);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(e.to_string().as_bytes());
        return;
    }
    // Fixed: 16 - exp fractional digits, trailing zeros stripped.
    let mut s: Vec<u8> = Vec::with_capacity(24);
    if exp >= 0 {
        let int_digits = exp as usize + 1;
        s.extend_from_slice(&digits[..int_digits]);
        s.push(b'.');
        s.extend_from_slice(&digits[int_digits..]);
    } else {
        s.extend_from_slice(b"0.");
        s.resize(s.len() + (-exp - 1) as usize, b'0');
        s.extend_from_slice(&digits);
    }
    while s.last() == Some(&b'0') {
        s.pop();
    }
    if s.last() == Some(&b'.') {
        s.pop();
    }
    out.extend_from_slice(&s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_is_one_pointer() {
        // A small sorted set costs its listpack; the tree is boxed.
        assert_eq!(std::mem::size_of::<ZSet>(), 8);
    }
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn cfg(entries: usize, value: usize) -> ZSetConfig {
        ZSetConfig {
            max_listpack_entries: entries,
            max_listpack_value: value,
        }
    }

    fn add(z: &mut ZSet, s: f64, m: &str) -> AddOutcome {
        z.add(s, m.as_bytes(), AddFlags::default(), &cfg(128, 64))
    }

    #[test]
    fn listpack_layout_is_valkeys() {
        let mut z = ZSet::new();
        add(&mut z, 1.5, "b");
        add(&mut z, 2.0, "a");
        add(&mut z, -0.0, "z");
        add(&mut z, 1.5, "c");
        add(&mut z, 1e300, "12");
        let lp = z.listpack().unwrap();
        // z -> 0 (as an integer: double2ll(-0) is 0), then b/c at 1.5 by
        // member bytes, then a 2 (integer), then "12" (an integer member).
        let items: Vec<String> = lp
            .iter()
            .map(|i| match i {
                LpItem::Int(v) => format!("i{v}"),
                LpItem::Str(s) => format!("s{}", String::from_utf8_lossy(s)),
            })
            .collect();
        assert_eq!(
            items,
            ["sz", "i0", "sb", "s1.5", "sc", "s1.5", "sa", "i2", "i12", "s1e+300"]
        );
        // The same listpack Valkey builds for these adds.
        let mut want = Listpack::new();
        for it in ["z", "0", "b", "1.5", "c", "1.5", "a", "2", "12", "1e+300"] {
            want.push_back(it.as_bytes());
        }
        assert_eq!(lp.as_bytes(), want.as_bytes());
        assert_eq!(z.score(b"z"), Some(0.0));
        assert_eq!(z.rank(b"a", false), Some((3, 2.0)));
        assert_eq!(z.rank(b"12", true), Some((0, 1e300)));
    }

    #[test]
    fn converts_on_count_and_length() {
        let c = cfg(4, 8);
        let mut z = ZSet::new();
        for i in 0..4 {
            z.add(
                f64::from(i),
                format!("m{i}").as_bytes(),
                AddFlags::default(),
                &c,
            );
        }
        assert_eq!(z.encoding_name(), "listpack");
        z.add(9.0, b"m9", AddFlags::default(), &c);
        assert_eq!(z.encoding_name(), "skiplist");
        assert_eq!(z.len(), 5);
        assert_eq!(z.rank(b"m9", true), Some((0, 9.0)));

        let mut z = ZSet::new();
        z.add(1.0, b"123456789", AddFlags::default(), &c);
        assert_eq!(z.encoding_name(), "skiplist");
        // Updating an existing member never converts.
        let mut z = ZSet::new();
        z.add(1.0, b"a", AddFlags::default(), &c);
        z.maybe_convert(1, 8, &c);
        assert_eq!(z.encoding_name(), "listpack");
        z.maybe_convert(5, 1, &c);
        assert_eq!(z.encoding_name(), "skiplist");
        z.convert_to_listpack_if_fits(1, 1, &c);
        assert_eq!(z.encoding_name(), "listpack");
        assert_eq!(z.score(b"a"), Some(1.0));
    }

    #[test]
    fn add_flags_follow_zsetadd() {
        for big in [false, true] {
            let mut z = if big {
                ZSet::new_skiplist(0)
            } else {
                ZSet::new()
            };
            let c = cfg(128, 64);
            let f = |incr, nx, xx, gt, lt| AddFlags {
                incr,
                nx,
                xx,
                gt,
                lt,
            };
            assert_eq!(
                z.add(1.0, b"a", f(false, false, true, false, false), &c),
                AddOutcome::Nop
            );
            assert_eq!(
                z.add(1.0, b"a", AddFlags::default(), &c),
                AddOutcome::Added(1.0)
            );
            assert_eq!(
                z.add(5.0, b"a", f(false, true, false, false, false), &c),
                AddOutcome::Nop
            );
            assert_eq!(
                z.add(0.0, b"a", f(false, false, false, true, false), &c),
                AddOutcome::Nop
            );
            assert_eq!(
                z.add(3.0, b"a", f(false, false, false, true, false), &c),
                AddOutcome::Updated(3.0)
            );
            assert_eq!(
                z.add(4.0, b"a", f(false, false, false, false, true), &c),
                AddOutcome::Nop
            );
            assert_eq!(
                z.add(2.0, b"a", f(true, false, false, false, false), &c),
                AddOutcome::Updated(5.0)
            );
            assert_eq!(
                z.add(0.0, b"a", f(true, false, false, false, false), &c),
                AddOutcome::Same(5.0)
            );
            assert_eq!(
                z.add(f64::NAN, b"a", AddFlags::default(), &c),
                AddOutcome::Nan
            );
            z.add(f64::INFINITY, b"a", AddFlags::default(), &c);
            assert_eq!(
                z.add(
                    f64::NEG_INFINITY,
                    b"a",
                    f(true, false, false, false, false),
                    &c
                ),
                AddOutcome::Nan
            );
            assert_eq!(z.score(b"a"), Some(f64::INFINITY));
        }
    }

    #[test]
    fn ranges_parse_like_valkey() {
        let r = ScoreRange::parse(b"(1", b"+inf").unwrap();
        assert!(r.minex && !r.maxex && r.min == 1.0 && r.max == f64::INFINITY);
        assert_eq!(
            ScoreRange::parse(b"", b"(").map(|r| (r.min, r.max, r.maxex)),
            Some((0.0, 0.0, true))
        );
        assert!(ScoreRange::parse(b" 1", b"1e400").is_some());
        assert!(ScoreRange::parse(b"1x", b"2").is_none());
        assert!(ScoreRange::parse(b"nan", b"2").is_none());
        assert!(ScoreRange::parse(b"1\0junk", b"2").is_some());
        assert!(LexRange::parse(b"-", b"+").is_some());
        assert!(LexRange::parse(b"a", b"+").is_none());
        assert!(LexRange::parse(b"", b"+").is_none());
        assert!(LexRange::parse(b"+x", b"+").is_none());
        assert!(LexRange::parse(b"[", b"(").is_some());
        assert!(LexRange::parse(b"-", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"[a", b"-").unwrap().is_empty());
        assert!(LexRange::parse(b"[a", b"(a").unwrap().is_empty());
        assert!(!LexRange::parse(b"[a", b"[a").unwrap().is_empty());
    }

    #[test]
    fn g17_matches_printf() {
        let cases: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (0.1, "0.10000000000000001"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (1e17, "1e+17"),
            (12345678901234567.0, "12345678901234568"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (3.0e300, "3.0000000000000002e+300"),
            (f64::INFINITY, "inf"),
            (-0.0, "-0"),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            format_g17(*v, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), *want, "{v}");
        }
    }

    #[test]
    fn pops_and_rank_ranges() {
        for entries in [128, 0] {
            let c = cfg(entries, 64);
            let mut z = ZSet::new();
            for i in 0..10 {
                z.add(
                    f64::from(i),
                    format!("m{i}").as_bytes(),
                    AddFlags::default(),
                    &c,
                );
            }
            assert_eq!(z.pop(true), Some((b"m0".to_vec(), 0.0)));
            assert_eq!(z.pop(false), Some((b"m9".to_vec(), 9.0)));
            assert_eq!(z.remove_rank_range(2, 4), 2);
            let left: Vec<_> = z.pairs().into_iter().map(|p| p.0).collect();
            assert_eq!(left, [&b"m1"[..], b"m2", b"m5", b"m6", b"m7", b"m8"]);
            let mut rev = Vec::new();
            z.walk(3, true, |m, _| {
                rev.push(m.to_vec());
                true
            });
            assert_eq!(rev, [&b"m6"[..], b"m5", b"m2", b"m1"]);
            let r = ScoreRange::parse(b"(2", b"7").unwrap();
            assert_eq!(z.score_span(&r), (2, 5));
            let l = LexRange::parse(b"[m5", b"(m8").unwrap();
            assert_eq!(z.lex_span(&l), (2, 5));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(i8, u8, bool),
        Incr(i8, u8),
        Rem(u8),
        Pop(bool),
        RemRange(u8, u8),
    }

    fn member(m: u8) -> Vec<u8> {
        // Some members are integers (listpack ints), some are long (convert).
        match m % 5 {
            0 => format!("{}", i32::from(m) - 100).into_bytes(),
            1 => format!("long-member-{m}-{}", "x".repeat(usize::from(m % 3) * 4)).into_bytes(),
            _ => format!("m{m}").into_bytes(),
        }
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<i8>(), any::<u8>(), any::<bool>()).prop_map(|(s, m, h)| Op::Add(s % 8, m % 60, h)),
            2 => (any::<i8>(), any::<u8>()).prop_map(|(s, m)| Op::Incr(s % 3, m % 60)),
            3 => any::<u8>().prop_map(|m| Op::Rem(m % 60)),
            1 => any::<bool>().prop_map(Op::Pop),
            1 => (any::<u8>(), any::<u8>()).prop_map(|(a, n)| Op::RemRange(a % 40, n % 5)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn behaves_like_a_model(ops in proptest::collection::vec(op(), 1..300)) {
            let c = cfg(16, 20);
            let mut z = ZSet::new();
            let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            let sorted = |m: &BTreeMap<Vec<u8>, f64>| {
                let mut v: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
                v.sort_by(|a, b| cmp_pair(a.1, &a.0, b.1, &b.0));
                v
            };
            for o in ops {
                match o {
                    Op::Add(s, m, half) => {
                        let s = f64::from(s) + if half { 0.5 } else { 0.0 };
                        let m = member(m);
                        let out = z.add(s, &m, AddFlags::default(), &c);
                        match model.insert(m, s) {
                            None => prop_assert_eq!(out, AddOutcome::Added(s)),
                            Some(old) if old == s => prop_assert_eq!(out, AddOutcome::Same(s)),
                            Some(_) => prop_assert_eq!(out, AddOutcome::Updated(s)),
                        }
                    }
                    Op::Incr(s, m) => {
                        let m = member(m);
                        let flags = AddFlags { incr: true, ..AddFlags::default() };
                        let out = z.add(f64::from(s), &m, flags, &c);
                        let new = model.get(&m).copied().unwrap_or(0.0) + f64::from(s);
                        let existed = model.insert(m, new).is_some();
                        match out {
                            AddOutcome::Added(v) => prop_assert!(!existed && v == new),
                            AddOutcome::Updated(v) | AddOutcome::Same(v) => prop_assert!(existed && v == new),
                            _ => prop_assert!(false, "unexpected {:?}", out),
                        }
                    }
                    Op::Rem(m) => {
                        let m = member(m);
                        prop_assert_eq!(z.remove(&m), model.remove(&m).is_some());
                    }
                    Op::Pop(min) => {
                        let v = sorted(&model);
                        let want = if min { v.first().cloned() } else { v.last().cloned() };
                        if let Some((m, _)) = &want {
                            model.remove(m);
                        }
                        prop_assert_eq!(z.pop(min), want);
                    }
                    Op::RemRange(a, n) => {
                        let v = sorted(&model);
                        let (a, end) = (usize::from(a), (usize::from(a) + usize::from(n)).min(v.len()));
                        let removed = z.remove_rank_range(a, a + usize::from(n));
                        if a < end {
                            for (m, _) in &v[a..end] {
                                model.remove(m);
                            }
                            prop_assert_eq!(removed, end - a);
                        } else {
                            prop_assert_eq!(removed, 0);
                        }
                    }
                }
                prop_assert_eq!(z.len(), model.len());
            }
            let v = sorted(&model);
            prop_assert_eq!(z.pairs(), v.clone());
            for (i, (m, s)) in v.iter().enumerate() {
                prop_assert_eq!(z.rank(m, false), Some((i, *s)));
                prop_assert_eq!(z.rank(m, true), Some((v.len() - 1 - i, *s)));
                prop_assert_eq!(z.score(m), Some(*s));
            }
            let r = ScoreRange { min: -2.0, max: 3.5, minex: true, maxex: false };
            let want: Vec<usize> = (0..v.len()).filter(|&i| r.gte_min(v[i].1) && r.lte_max(v[i].1)).collect();
            let (a, b) = z.score_span(&r);
            prop_assert_eq!((a..b).collect::<Vec<_>>(), want);
            let big = z.encoding_name() == "skiplist";
            prop_assert_eq!(big, z.clone().encoding_name() == "skiplist");
            prop_assert_eq!(z.clone().pairs(), v);
        }
    }

    /// A model pair ordered like the sorted set.
    #[derive(Clone, Debug)]
    struct K(f64, Vec<u8>);
    impl PartialEq for K {
        fn eq(&self, o: &K) -> bool {
            self.cmp(o) == Ordering::Equal
        }
    }
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

    #[derive(Debug, Clone)]
    enum BigOp {
        /// Adds or moves a member (score index, member index).
        Add(u8, u16),
        Incr(u8, u16),
        Rem(u16),
        Pop(bool),
        RemRange(u16, u16),
        Check,
    }

    fn big_member(m: u16) -> Vec<u8> {
        match m % 4 {
            0 => format!("member:{m:06}").into_bytes(),
            1 => format!("{m}").into_bytes(),
            2 => format!("long-{m}-")
                .repeat(usize::from(m % 9) + 1)
                .into_bytes(),
            _ => format!("m{m}").into_bytes(),
        }
    }

    /// Few distinct scores (ties ordered by member bytes), -0 among them.
    fn big_score(s: u8) -> f64 {
        match s % 33 {
            32 => -0.0,
            v => f64::from(v) - 8.0,
        }
    }

    fn big_op() -> impl Strategy<Value = BigOp> {
        prop_oneof![
            12 => (any::<u8>(), any::<u16>()).prop_map(|(s, m)| BigOp::Add(s, m % 5000)),
            2 => (any::<u8>(), any::<u16>()).prop_map(|(s, m)| BigOp::Incr(s % 5, m % 5000)),
            4 => any::<u16>().prop_map(|m| BigOp::Rem(m % 5000)),
            1 => any::<bool>().prop_map(BigOp::Pop),
            1 => (any::<u16>(), any::<u16>()).prop_map(|(a, n)| BigOp::RemRange(a % 3000, n % 300)),
            1 => Just(BigOp::Check),
        ]
    }

    fn check_big(z: &ZSet) {
        if let EncRef::Skiplist(b) = z.enc.get() {
            b.check();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// The skiplist encoding over thousands of members (many leaves,
        /// inner levels): adds, score moves, increments, removes, pops and
        /// rank-range deletes against a model, with every tree pointer
        /// checked against the index that owns the members (a pair left to
        /// a freed member shows up there, and under valgrind).
        #[test]
        fn big_sets_behave_like_a_model(ops in proptest::collection::vec(big_op(), 1..4000)) {
            let c = cfg(16, 64);
            let mut z = ZSet::new();
            let mut scores: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            let mut order: std::collections::BTreeSet<K> = std::collections::BTreeSet::new();
            for op in ops {
                match op {
                    BigOp::Add(s, m) => {
                        let (s, m) = (big_score(s), big_member(m));
                        let out = z.add(s, &m, AddFlags::default(), &c);
                        match scores.get(&m).copied() {
                            None => prop_assert_eq!(out, AddOutcome::Added(s)),
                            Some(old) if old == s => prop_assert_eq!(out, AddOutcome::Same(s)),
                            Some(old) => {
                                prop_assert_eq!(out, AddOutcome::Updated(s));
                                order.remove(&K(old, m.clone()));
                            }
                        }
                        if !matches!(out, AddOutcome::Same(_)) {
                            order.insert(K(s, m.clone()));
                            scores.insert(m, s);
                        }
                    }
                    BigOp::Incr(s, m) => {
                        let m = big_member(m);
                        let flags = AddFlags { incr: true, ..AddFlags::default() };
                        let out = z.add(f64::from(s), &m, flags, &c);
                        let old = scores.get(&m).copied();
                        let new = old.unwrap_or(0.0) + f64::from(s);
                        match out {
                            AddOutcome::Added(v) => prop_assert!(old.is_none() && v == new),
                            AddOutcome::Updated(v) | AddOutcome::Same(v) => prop_assert!(old.is_some() && v == new),
                            _ => prop_assert!(false, "unexpected {:?}", out),
                        }
                        if let Some(old) = old {
                            order.remove(&K(old, m.clone()));
                        }
                        order.insert(K(new, m.clone()));
                        scores.insert(m, new);
                    }
                    BigOp::Rem(m) => {
                        let m = big_member(m);
                        let old = scores.remove(&m);
                        if let Some(old) = old {
                            order.remove(&K(old, m.clone()));
                        }
                        prop_assert_eq!(z.remove(&m), old.is_some());
                    }
                    BigOp::Pop(min) => {
                        let want = if min { order.pop_first() } else { order.pop_last() };
                        if let Some(k) = &want {
                            scores.remove(&k.1);
                        }
                        let got = z.pop(min);
                        prop_assert_eq!(got.map(|(m, s)| K(s, m)), want);
                    }
                    BigOp::RemRange(a, n) => {
                        let (a, n) = (usize::from(a), usize::from(n));
                        let gone: Vec<K> = order.iter().skip(a).take(n).cloned().collect();
                        for k in &gone {
                            order.remove(k);
                            scores.remove(&k.1);
                        }
                        prop_assert_eq!(z.remove_rank_range(a, a + n), gone.len());
                    }
                    BigOp::Check => check_big(&z),
                }
                prop_assert_eq!(z.len(), scores.len());
            }
            check_big(&z);
            let v: Vec<(Vec<u8>, f64)> = order.iter().map(|k| (k.1.clone(), k.0)).collect();
            prop_assert_eq!(z.pairs(), v.clone());
            for (i, (m, s)) in v.iter().enumerate().step_by(7) {
                prop_assert_eq!(z.rank(m, false), Some((i, *s)));
                prop_assert_eq!(z.score(m), Some(*s));
                prop_assert_eq!(z.get(i), Some((m.clone(), *s)));
            }
            let r = ScoreRange { min: -2.0, max: 3.5, minex: true, maxex: false };
            let want = v.iter().filter(|p| r.gte_min(p.1) && r.lte_max(p.1)).count();
            let (a, b) = z.score_span(&r);
            prop_assert_eq!(b - a, want);
            prop_assert!(v[..a].iter().all(|p| !r.gte_min(p.1)));
            let copy = z.clone();
            check_big(&copy);
            drop(z);
            prop_assert_eq!(copy.pairs(), v);
        }
    }
}

#[cfg(test)]
mod memory {
    use super::*;

    /// Where the bytes of a big sorted set go (`--nocapture` prints the
    /// breakdown), and the budget: at most 64 B per 12-byte member.
    #[test]
    fn big_sorted_set_stays_within_64_bytes_per_member() {
        let c = ZSetConfig {
            max_listpack_entries: 128,
            max_listpack_value: 64,
        };
        for shuffled in [false, true] {
            let before = crate::alloc::used_memory();
            let mut z = ZSet::new();
            let n = 200_000u64;
            for j in 0..n {
                let i = if shuffled {
                    j.wrapping_mul(2_654_435_761) % n
                } else {
                    j
                };
                z.add(
                    i as f64,
                    format!("m{i:011}").as_bytes(),
                    AddFlags::default(),
                    &c,
                );
            }
            // Only indicative: tests running alongside allocate too.
            let total = crate::alloc::used_memory() as f64 - before as f64;
            let EncRef::Skiplist(b) = z.enc.get() else {
                panic!()
            };
            let members: usize = b.index.iter().map(|m| m.memory_usage()).sum();
            println!(
                "shuffled {shuffled}: total {:.2} B/member: index buckets {:.2}, members {:.2}, tree {:.2} (estimate {:.2}); exact usage {:.2}",
                total / n as f64,
                b.index.bucket_bytes() as f64 / n as f64,
                members as f64 / n as f64,
                b.tree.memory_usage() as f64 / n as f64,
                b.tree.memory_estimate(5) as f64 / n as f64,
                z.memory_usage(0) as f64 / n as f64,
            );
            assert!(z.memory_usage(0) as f64 / n as f64 <= 64.0);
            // The tree's share: 16-byte pairs in leaves at least 80 % full
            // (full when appending), separators and inner nodes.
            assert!(b.tree.memory_usage() as f64 / n as f64 <= 22.0);
        }
    }
}
