//! The set type, in Valkey's three encodings.
//!
//! - **intset** while every member is an integer and there are at most
//!   `set-max-intset-entries` of them: a sorted array of integers in Valkey's
//!   byte layout ([`IntSet`]).
//! - **listpack** while there are at most `set-max-listpack-entries` members
//!   of at most `set-max-listpack-value` bytes: one [`Listpack`] buffer,
//!   searched linearly.
//! - **hashtable** otherwise: a [`Table`] of [`Member`]s, one allocation per
//!   member and no node around it.
//!
//! The conversions happen exactly where Valkey's `t_set.c` makes them
//! (OBJECT ENCODING is part of the observable behaviour): small to large as
//! members are added, never back, except for sets built fresh (the `…STORE`
//! destinations and what SPOP keeps), which start small again.

#[path = "intset.rs"]
pub mod intset;

pub use self::intset::IntSet;
use super::listpack::{parse_canonical_int, Listpack, LpItem};
use super::member::Member;
use super::thinbuf::{one_word, IsHeader, LpHeader};
use crate::resp::Reply;
use ferrokey_table::{EntryRef, Ref, Table};
use std::borrow::Cow;
use std::fmt;

/// `set-max-intset-entries`, `set-max-listpack-entries/-value`.
#[derive(Clone, Copy, Debug)]
pub struct SetConfig {
    pub max_intset_entries: usize,
    pub max_listpack_entries: usize,
    pub max_listpack_value: usize,
}

impl SetConfig {
    pub fn from_config(c: &crate::config::Config) -> SetConfig {
        SetConfig {
            max_intset_entries: c.set_max_intset_entries,
            max_listpack_entries: c.set_max_listpack_entries,
            max_listpack_value: c.set_max_listpack_value,
        }
    }

    /// The intset limit actually applied: Valkey caps it at 2^30 entries
    /// whatever the configuration says (`intsetMaxEntries`).
    fn intset_limit(&self) -> usize {
        self.max_intset_entries.min(1 << 30)
    }
}

impl Default for SetConfig {
    /// Valkey's defaults.
    fn default() -> Self {
        SetConfig {
            max_intset_entries: 512,
            max_listpack_entries: 128,
            max_listpack_value: 64,
        }
    }
}

/// A listpack may not grow past this (Valkey's `LISTPACK_MAX_SAFETY_SIZE`);
/// a set that would is converted to a hash table instead.
const LISTPACK_MAX_SAFETY_SIZE: usize = 1 << 30;

/// Valkey's `lpSafeToAdd`.
fn lp_safe_to_add(current: usize, add: usize) -> bool {
    current.saturating_add(add) <= LISTPACK_MAX_SAFETY_SIZE
}

/// Bytes a listpack of `rep` copies of integer `v` takes (Valkey's
/// `lpEstimateBytesRepeatedInteger`): the conversion check from an intset
/// uses the widest member as a bound for all of them.
fn lp_estimate_repeated_int(v: i64, rep: usize) -> usize {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if i16::try_from(v).is_ok() {
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    };
    // Header, entries with their one-byte backlen, end marker.
    6 + (enc + 1) * rep + 1
}

/// Characters of `v` in decimal, the sign included (Valkey's `sdigits10`).
fn decimal_len(v: i64) -> usize {
    let mut n = usize::from(v < 0) + 1;
    let mut u = v.unsigned_abs();
    while u >= 10 {
        u /= 10;
        n += 1;
    }
    n
}

/// Formats `v` in decimal into `buf`, returning the text.
pub fn format_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut u = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// One member as a set hands it out: an integer (intset, integer listpack
/// entries), a string in a listpack, or a hash-table member.
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
    Member(Ref<'a, Member>),
}

impl fmt::Debug for Elem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.bytes()))
    }
}

impl<'a> From<LpItem<'a>> for Elem<'a> {
    fn from(it: LpItem<'a>) -> Elem<'a> {
        match it {
            LpItem::Int(i) => Elem::Int(i),
            LpItem::Str(s) => Elem::Str(s),
        }
    }
}

impl Elem<'_> {
    /// The member as bytes (integers in decimal).
    pub fn bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Elem::Int(i) => Cow::Owned(i.to_string().into_bytes()),
            Elem::Str(s) => Cow::Borrowed(s),
            Elem::Member(m) => Cow::Borrowed(m.key()),
        }
    }

    /// Calls `f` with the member's bytes, without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Elem::Int(i) => f(format_i64(*i, &mut [0; 20])),
            Elem::Str(s) => f(s),
            Elem::Member(m) => f(m.key()),
        }
    }

    /// The member as an integer if it is one in canonical form (what an
    /// intset could hold).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Elem::Int(i) => Some(*i),
            Elem::Str(s) => parse_canonical_int(s),
            Elem::Member(m) => parse_canonical_int(m.key()),
        }
    }

    /// Writes the member as a bulk string.
    pub fn reply(&self, out: &mut Reply) {
        match self {
            Elem::Int(i) => out.bulk_i64(*i),
            Elem::Str(s) => out.bulk(s),
            Elem::Member(m) => out.bulk(m.key()),
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes().into_owned()
    }
}

/// A set.
pub struct Set {
    enc: Enc,
}

one_word! {
    /// The encoding, in one word (see `thinbuf`).
    struct Enc / EncOwn / EncRef / EncMut {
        thin Lp(LpHeader),
        thin Int(IsHeader),
        boxed Ht(Table<Member>) = 2,
    }
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

impl Clone for Set {
    fn clone(&self) -> Set {
        let enc = match self.enc.get() {
            EncRef::Int(is) => Enc::new(EncOwn::Int(is.clone())),
            EncRef::Lp(lp) => Enc::new(EncOwn::Lp(lp.clone())),
            EncRef::Ht(t) => {
                let mut n = Table::new();
                n.reserve(t.len());
                for m in t.iter() {
                    n.insert((*m).clone());
                }
                Enc::new(EncOwn::Ht(Box::new(n)))
            }
        };
        Set { enc }
    }
}

impl fmt::Debug for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Set<{}>", self.encoding_name())?;
        f.debug_set().entries(self.iter()).finish()
    }
}

/// A hash table presized for `cap` members.
fn new_table(cap: usize) -> Box<Table<Member>> {
    let mut t = Table::new();
    if cap > 0 {
        t.reserve(cap);
    }
    Box::new(t)
}

/// Inserts `m` into a table unless present; true if added.
fn table_add(t: &mut Table<Member>, m: &[u8]) -> bool {
    match t.entry(m) {
        EntryRef::Occupied(_) => false,
        EntryRef::Vacant(v) => {
            v.insert(Member::new(m, b""));
            true
        }
    }
}

fn lp_contains(lp: &Listpack, m: &[u8]) -> Option<usize> {
    lp.first().and_then(|p| lp.find(p, m, 0))
}

impl Set {
    /// The member table of the `hashtable` encoding (for prefetching).
    pub fn member_table(&self) -> Option<&Table<Member>> {
        match self.enc.get() {
            EncRef::Ht(t) => Some(t),
            _ => None,
        }
    }

    /// An empty set in the intset encoding (Valkey's `createIntsetObject`;
    /// adding a string to it moves it to a listpack).
    pub fn new() -> Set {
        Set {
            enc: Enc::new(EncOwn::Int(IntSet::new())),
        }
    }

    /// An empty listpack-encoded set.
    pub fn new_listpack() -> Set {
        Set {
            enc: Enc::new(EncOwn::Lp(Listpack::new())),
        }
    }

    /// An empty hashtable-encoded set, presized for `cap` members.
    pub fn new_hashtable(cap: usize) -> Set {
        Set {
            enc: Enc::new(EncOwn::Ht(new_table(cap))),
        }
    }

    /// The empty set a key gets when `first` is about to be added to it,
    /// followed by about `size_hint` members in all (Valkey's
    /// `setTypeCreate`): an intset for an integer when the hint allows, a
    /// listpack when the hint allows, else a presized hash table.
    pub fn with_hint(first: &[u8], size_hint: usize, cfg: &SetConfig) -> Set {
        if parse_canonical_int(first).is_some() && size_hint <= cfg.max_intset_entries {
            Set::new()
        } else if size_hint <= cfg.max_listpack_entries {
            Set::new_listpack()
        } else {
            Set::new_hashtable(size_hint)
        }
    }

    /// A set holding an intset (loaded from RDB / RESTORE).
    pub fn from_intset(is: IntSet) -> Set {
        Set {
            enc: Enc::new(EncOwn::Int(is)),
        }
    }

    /// A set holding a listpack (loaded from RDB / RESTORE). None if the
    /// listpack holds a member twice, which a set never does.
    pub fn from_listpack(lp: Listpack) -> Option<Set> {
        let mut seen = std::collections::HashSet::with_capacity(lp.len());
        for it in lp.iter() {
            if !seen.insert(it.to_bytes()) {
                return None;
            }
        }
        Some(Set {
            enc: Enc::new(EncOwn::Lp(lp)),
        })
    }

    /// A set holding a listpack whose members the caller has already
    /// checked to be distinct (the RDB loader does so without allocating),
    /// so it is adopted as it is.
    pub fn from_distinct_listpack(lp: Listpack) -> Set {
        Set {
            enc: Enc::new(EncOwn::Lp(lp)),
        }
    }

    /// The intset, when that is the encoding (for RDB / DUMP).
    pub fn intset(&self) -> Option<&IntSet> {
        match self.enc.get() {
            EncRef::Int(is) => Some(is),
            _ => None,
        }
    }

    /// The listpack, when that is the encoding (for RDB / DUMP).
    pub fn listpack(&self) -> Option<&Listpack> {
        match self.enc.get() {
            EncRef::Lp(lp) => Some(lp),
            _ => None,
        }
    }

    pub fn is_intset(&self) -> bool {
        matches!(self.enc.get(), EncRef::Int(_))
    }

    pub fn is_listpack(&self) -> bool {
        matches!(self.enc.get(), EncRef::Lp(_))
    }

    pub fn is_hashtable(&self) -> bool {
        matches!(self.enc.get(), EncRef::Ht(_))
    }

    pub fn len(&self) -> usize {
        match self.enc.get() {
            EncRef::Int(is) => is.len(),
            EncRef::Lp(lp) => lp.len(),
            EncRef::Ht(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self.enc.get() {
            EncRef::Int(is) => is.is_empty(),
            EncRef::Lp(lp) => lp.is_empty(),
            EncRef::Ht(t) => t.is_empty(),
        }
    }

    /// Valkey's name for the encoding (OBJECT ENCODING).
    pub fn encoding_name(&self) -> &'static str {
        match self.enc.get() {
            EncRef::Int(_) => "intset",
            EncRef::Lp(_) => "listpack",
            EncRef::Ht(_) => "hashtable",
        }
    }

    /// Bytes held in the allocator (the struct itself is the caller's). For
    /// a hash table with `samples > 0` the members are estimated from the
    /// first `samples` of them, as Valkey's `objectComputeSize` does, so
    /// the cost does not grow with the set.
    pub fn memory_usage(&self, samples: usize) -> usize {
        match self.enc.get() {
            EncRef::Int(is) => is.memory_usage(),
            EncRef::Lp(lp) => lp.memory_usage(),
            EncRef::Ht(t) => {
                let fixed = crate::alloc::alloc_size(std::mem::size_of::<Table<Member>>())
                    + t.bucket_bytes();
                let members = if samples == 0 {
                    t.iter().map(|m| m.memory_usage()).sum()
                } else {
                    let mut n = 0usize;
                    let mut bytes = 0usize;
                    for m in t.iter().take(samples) {
                        n += 1;
                        bytes += m.memory_usage();
                    }
                    if n == 0 {
                        0
                    } else {
                        (bytes as f64 / n as f64 * t.len() as f64) as usize
                    }
                };
                fixed + members
            }
        }
    }

    /// Allocations a drop frees (decides lazy freeing).
    pub fn free_effort(&self) -> usize {
        match self.enc.get() {
            EncRef::Ht(t) => t.len(),
            _ => 1,
        }
    }

    /// Calls `f` with every member's bytes.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        for e in self.iter() {
            e.with_bytes(&mut f);
        }
    }

    /// Every member: intsets in ascending order, listpacks in insertion
    /// order, hash tables in table order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(match self.enc.get() {
            EncRef::Int(is) => IterInner::Int(is, 0),
            EncRef::Lp(lp) => IterInner::Lp(lp.iter()),
            EncRef::Ht(t) => IterInner::Ht(t.iter()),
        })
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self.enc.get() {
            EncRef::Int(is) => parse_canonical_int(m).is_some_and(|v| is.contains(v)),
            EncRef::Lp(lp) => lp_contains(lp, m).is_some(),
            EncRef::Ht(t) => t.contains_key(m),
        }
    }

    /// Membership of an element of another set, without formatting
    /// integers when this one is an intset too.
    pub fn contains_elem(&self, e: &Elem<'_>) -> bool {
        match (self.enc.get(), e) {
            (EncRef::Int(is), Elem::Int(i)) => is.contains(*i),
            _ => e.with_bytes(|b| self.contains(b)),
        }
    }

    /// Adds a member; true if it is new. Converts the encoding when the
    /// member does not fit the current one (Valkey's `setTypeAddAux`).
    pub fn add(&mut self, m: &[u8], cfg: &SetConfig) -> bool {
        match self.enc.get_mut() {
            EncMut::Ht(t) => table_add(t, m),
            EncMut::Lp(lp) => {
                if lp_contains(lp, m).is_some() {
                    return false;
                }
                if lp.len() < cfg.max_listpack_entries
                    && m.len() <= cfg.max_listpack_value
                    && lp_safe_to_add(lp.byte_len(), m.len())
                {
                    lp.push_back(m);
                } else {
                    let cap = lp.len() + 1;
                    self.convert_to_hashtable(cap);
                    self.table_add(m);
                }
                true
            }
            EncMut::Int(is) => {
                if let Some(v) = parse_canonical_int(m) {
                    if !is.insert(v) {
                        return false;
                    }
                    if is.len() > cfg.intset_limit() {
                        self.convert_to_hashtable(0);
                    }
                    return true;
                }
                // A string joins a small intset by turning it into a
                // listpack, if every member (bounded by the widest integer)
                // fits one; otherwise the set becomes a hash table.
                let n = is.len();
                let (max_elem_len, est_bytes) = match (is.min(), is.max()) {
                    (Some(lo), Some(hi)) => (
                        decimal_len(lo).max(decimal_len(hi)),
                        lp_estimate_repeated_int(lo, n).max(lp_estimate_repeated_int(hi, n)),
                    ),
                    _ => (0, 0),
                };
                if n < cfg.max_listpack_entries
                    && m.len() <= cfg.max_listpack_value
                    && max_elem_len <= cfg.max_listpack_value
                    && lp_safe_to_add(0, est_bytes + m.len())
                {
                    self.convert_to_listpack();
                    if let EncMut::Lp(lp) = self.enc.get_mut() {
                        lp.push_back(m);
                    }
                } else {
                    self.convert_to_hashtable(n + 1);
                    self.table_add(m);
                }
                true
            }
        }
    }

    /// [`Set::add`] for an element of another set: integers go into an
    /// intset without a detour through text.
    pub fn add_elem(&mut self, e: &Elem<'_>, cfg: &SetConfig) -> bool {
        if let (EncMut::Int(is), Elem::Int(i)) = (self.enc.get_mut(), e) {
            if !is.insert(*i) {
                return false;
            }
            if is.len() > cfg.intset_limit() {
                self.convert_to_hashtable(0);
            }
            return true;
        }
        e.with_bytes(|b| self.add(b, cfg))
    }

    /// [`Set::remove`] for an element of another set.
    pub fn remove_elem(&mut self, e: &Elem<'_>) -> bool {
        if let (EncMut::Int(is), Elem::Int(i)) = (self.enc.get_mut(), e) {
            return is.remove(*i);
        }
        e.with_bytes(|b| self.remove(b))
    }

    /// One step of a stateless scan (SSCAN): a hash table visits one
    /// bucket chain per call and returns the next cursor (0 when done); the
    /// compact encodings visit every member at once and return 0, as Valkey
    /// does for them.
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match self.enc.get() {
            EncRef::Ht(t) => t.scan(cursor, |m| f(m.key())),
            _ => {
                self.for_each(f);
                0
            }
        }
    }

    fn table_add(&mut self, m: &[u8]) -> bool {
        match self.enc.get_mut() {
            EncMut::Ht(t) => table_add(t, m),
            _ => false,
        }
    }

    /// Removes a member; true if it was present. The encoding stays.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self.enc.get_mut() {
            EncMut::Int(is) => parse_canonical_int(m).is_some_and(|v| is.remove(v)),
            EncMut::Lp(lp) => match lp_contains(lp, m) {
                Some(p) => {
                    lp.delete(p);
                    true
                }
                None => false,
            },
            EncMut::Ht(t) => t.remove(m).is_some(),
        }
    }

    /// Converts a small set to a hash table ahead of adding about
    /// `size_hint` members (SADD with many arguments; Valkey's
    /// `setTypeMaybeConvert`).
    pub fn maybe_convert(&mut self, size_hint: usize, cfg: &SetConfig) {
        let convert = match self.enc.get() {
            EncRef::Lp(_) => size_hint > cfg.max_listpack_entries,
            EncRef::Int(_) => size_hint > cfg.max_intset_entries,
            EncRef::Ht(_) => false,
        };
        if convert {
            self.convert_to_hashtable(size_hint);
        }
    }

    /// Moves the members to a hash table presized for `cap` members (at
    /// least the current count).
    pub fn convert_to_hashtable(&mut self, cap: usize) {
        if self.is_hashtable() {
            return;
        }
        let mut t = new_table(cap.max(self.len()));
        for e in self.iter() {
            e.with_bytes(|b| {
                t.insert(Member::new(b, b""));
            });
        }
        self.enc = Enc::new(EncOwn::Ht(t));
    }

    /// Moves the members of an intset (or hash table) to a listpack.
    fn convert_to_listpack(&mut self) {
        if self.is_listpack() {
            return;
        }
        let mut lp = Listpack::new();
        for e in self.iter() {
            match e {
                Elem::Int(i) => lp.push_back_int(i),
                other => other.with_bytes(|b| lp.push_back(b)),
            }
        }
        self.enc = Enc::new(EncOwn::Lp(lp));
    }

    /// Turns a set whose members are all integers into an intset, if it is
    /// small enough for one (Valkey's `maybeConvertToIntset`). Does nothing
    /// if a member is not an integer.
    pub fn maybe_convert_to_intset(&mut self, cfg: &SetConfig) {
        if self.is_intset() || self.len() > cfg.intset_limit() {
            return;
        }
        let mut ints = Vec::with_capacity(self.len());
        for e in self.iter() {
            match e.as_int() {
                Some(i) => ints.push(i),
                None => return,
            }
        }
        self.enc = Enc::new(EncOwn::Int(IntSet::from_ints(ints)));
    }

    /// A random member (uniform for the compact encodings; the hash table
    /// draws from a large sample, as Valkey's `dictGetFairRandomKey`).
    /// None only when empty.
    pub fn random(&self, rng: &mut dyn FnMut() -> u64) -> Option<Elem<'_>> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        match self.enc.get() {
            EncRef::Int(is) => Some(Elem::Int(is.get((rng() % len as u64) as usize))),
            EncRef::Lp(lp) => {
                let p = lp.seek((rng() % len as u64) as i64)?;
                Some(lp.get(p).into())
            }
            EncRef::Ht(t) => t.fair_random_entry(rng).map(Elem::Member),
        }
    }

    /// Removes a random member and returns it.
    pub fn pop_random(&mut self, rng: &mut dyn FnMut() -> u64) -> Option<Vec<u8>> {
        let len = self.len();
        if len == 0 {
            return None;
        }
        let i = (rng() % len as u64) as usize;
        match self.enc.get_mut() {
            EncMut::Int(is) => Some(is.remove_at(i).to_string().into_bytes()),
            EncMut::Lp(lp) => {
                let p = lp.seek(i as i64)?;
                let v = lp.get(p).to_vec();
                lp.delete(p);
                Some(v)
            }
            EncMut::Ht(t) => {
                let k = t.fair_random_entry(rng)?.key().to_vec();
                t.remove(&k[..]);
                Some(k)
            }
        }
    }

    /// `count` distinct members chosen at random, in set order, for a
    /// listpack (Valkey's `lpNextRandom` walk: each member is taken with
    /// probability needed / remaining, so one pass suffices and every
    /// subset is equally likely). Returns their indexes.
    pub fn sample_indexes(len: usize, count: usize, rng: &mut dyn FnMut() -> u64) -> Vec<usize> {
        let mut out = Vec::with_capacity(count.min(len));
        let mut need = count.min(len);
        for i in 0..len {
            if need == 0 {
                break;
            }
            let left = (len - i) as u64;
            if rng() % left < need as u64 {
                out.push(i);
                need -= 1;
            }
        }
        out
    }

    /// Keeps only the members at these (ascending) indexes of a listpack
    /// set, returning the removed ones; for other encodings removes nothing.
    pub fn listpack_split(&mut self, keep: &[usize]) -> Vec<Vec<u8>> {
        let EncMut::Lp(lp) = self.enc.get_mut() else {
            return Vec::new();
        };
        let mut kept = Listpack::new();
        let mut removed = Vec::new();
        let mut k = keep.iter().peekable();
        for (i, it) in lp.iter().enumerate() {
            if k.peek() == Some(&&i) {
                k.next();
                match it {
                    LpItem::Int(v) => kept.push_back_int(v),
                    LpItem::Str(s) => kept.push_back(s),
                }
            } else {
                removed.push(it.to_vec());
            }
        }
        *lp = kept;
        removed
    }
}

enum IterInner<'a> {
    Int(&'a IntSet, usize),
    Lp(super::listpack::Iter<'a>),
    Ht(ferrokey_table::Iter<'a, Member, ferrokey_table::DefaultHashBuilder>),
}

/// Iterator over a set's members, see [`Set::iter`].
pub struct Iter<'a>(IterInner<'a>);

impl<'a> Iterator for Iter<'a> {
    type Item = Elem<'a>;

    fn next(&mut self) -> Option<Elem<'a>> {
        match &mut self.0 {
            IterInner::Int(is, i) => {
                if *i >= is.len() {
                    return None;
                }
                *i += 1;
                Some(Elem::Int(is.get(*i - 1)))
            }
            IterInner::Lp(it) => it.next().map(Elem::from),
            IterInner::Ht(it) => it.next().map(Elem::Member),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn cfg() -> SetConfig {
        SetConfig::default()
    }

    fn members(s: &Set) -> BTreeSet<Vec<u8>> {
        s.iter().map(|e| e.to_vec()).collect()
    }

    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn struct_stays_small() {
        // One tagged pointer for all three encodings.
        assert_eq!(std::mem::size_of::<Set>(), 8);
    }

    #[test]
    fn integers_start_an_intset() {
        let c = cfg();
        let mut s = Set::with_hint(b"17", 1, &c);
        assert!(s.add(b"17", &c));
        assert!(s.add(b"16", &c));
        assert!(!s.add(b"16", &c));
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(
            s.intset().map(|i| i.as_bytes().to_vec()),
            Some(vec![2, 0, 0, 0, 2, 0, 0, 0, 16, 0, 17, 0])
        );
        // Non-canonical integers are strings.
        for m in [
            &b"01"[..],
            b"+1",
            b"-0",
            b" 1",
            b"213244124402402314402033402",
        ] {
            let s = Set::with_hint(m, 1, &c);
            assert_eq!(s.encoding_name(), "listpack", "{m:?}");
        }
    }

    #[test]
    fn string_moves_small_intset_to_listpack() {
        let c = cfg();
        let mut s = Set::new();
        for m in [&b"1"[..], b"2", b"3"] {
            s.add(m, &c);
        }
        assert!(s.add(b"a", &c));
        assert_eq!(s.encoding_name(), "listpack");
        assert_eq!(members(&s).len(), 4);
        // The listpack holds the integers as integers, then the string.
        let lp = s.listpack().map(|l| l.as_bytes().to_vec());
        assert_eq!(
            lp,
            Some(
                Listpack::from_items([&b"1"[..], b"2", b"3", b"a"])
                    .as_bytes()
                    .to_vec()
            )
        );
    }

    #[test]
    fn string_moves_large_intset_to_hashtable() {
        let c = cfg();
        let mut s = Set::new();
        for i in 0..130 {
            s.add(i.to_string().as_bytes(), &c);
        }
        assert_eq!(s.encoding_name(), "intset");
        assert!(s.add(b"a", &c));
        assert_eq!(s.encoding_name(), "hashtable");
        assert_eq!(s.len(), 131);
        assert!(s.contains(b"129") && s.contains(b"a"));
    }

    #[test]
    fn intset_overflow_goes_to_hashtable() {
        let c = cfg();
        let mut s = Set::new();
        for i in 0..512 {
            s.add(i.to_string().as_bytes(), &c);
        }
        assert_eq!(s.encoding_name(), "intset");
        s.add(b"512", &c);
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn listpack_limits() {
        let c = cfg();
        let mut s = Set::with_hint(b"a", 1, &c);
        s.add(b"a", &c);
        for i in 0..127 {
            s.add(i.to_string().as_bytes(), &c);
        }
        assert_eq!((s.encoding_name(), s.len()), ("listpack", 128));
        s.add(b"b", &c);
        assert_eq!(s.encoding_name(), "hashtable");

        let mut s = Set::with_hint(b"a", 1, &c);
        s.add(b"a", &c);
        s.add(&[b'x'; 64], &c);
        assert_eq!(s.encoding_name(), "listpack");
        s.add(&[b'x'; 65], &c);
        assert_eq!(s.encoding_name(), "hashtable");

        // A long string against an intset goes straight to a hash table.
        let mut s = Set::new();
        s.add(b"1", &c);
        s.add(&[b'y'; 65], &c);
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn hints_presize_and_convert() {
        let c = cfg();
        assert_eq!(Set::with_hint(b"1", 512, &c).encoding_name(), "intset");
        assert_eq!(Set::with_hint(b"1", 513, &c).encoding_name(), "hashtable");
        assert_eq!(Set::with_hint(b"a", 128, &c).encoding_name(), "listpack");
        assert_eq!(Set::with_hint(b"a", 129, &c).encoding_name(), "hashtable");
        let mut s = Set::new_listpack();
        s.add(b"a", &c);
        s.maybe_convert(128, &c);
        assert_eq!(s.encoding_name(), "listpack");
        s.maybe_convert(129, &c);
        assert_eq!(s.encoding_name(), "hashtable");
        assert!(s.contains(b"a"));
        let mut s = Set::new();
        s.add(b"1", &c);
        s.maybe_convert(513, &c);
        assert_eq!(s.encoding_name(), "hashtable");
    }

    #[test]
    fn back_to_intset_when_all_integers() {
        let c = cfg();
        let mut s = Set::new_hashtable(0);
        for m in ["3", "1", "2"] {
            s.add(m.as_bytes(), &c);
        }
        s.maybe_convert_to_intset(&c);
        assert_eq!(s.encoding_name(), "intset");
        assert_eq!(
            s.iter().map(|e| e.to_vec()).collect::<Vec<_>>(),
            [b"1", b"2", b"3"]
        );
        let mut s = Set::new_listpack();
        s.add(b"1", &c);
        s.add(b"x", &c);
        s.maybe_convert_to_intset(&c);
        assert_eq!(s.encoding_name(), "listpack");
    }

    #[test]
    fn random_and_pop() {
        let c = cfg();
        let mut r = rng(7);
        for first in ["1", "a"] {
            for n in [3usize, 300] {
                let mut s = Set::with_hint(first.as_bytes(), 1, &c);
                let mut model = BTreeSet::new();
                s.add(first.as_bytes(), &c);
                model.insert(first.as_bytes().to_vec());
                for i in 0..n {
                    s.add(i.to_string().as_bytes(), &c);
                    model.insert(i.to_string().into_bytes());
                }
                for _ in 0..20 {
                    let e = s.random(&mut r).map(|e| e.to_vec());
                    assert!(e.is_some_and(|e| model.contains(&e)));
                }
                while let Some(m) = s.pop_random(&mut r) {
                    assert!(model.remove(&m), "{m:?}");
                }
                assert!(model.is_empty() && s.is_empty());
            }
        }
    }

    #[test]
    fn sampling_indexes_is_ordered_and_exact() {
        let mut r = rng(3);
        for (len, count) in [(10, 3), (10, 10), (10, 0), (5, 9), (128, 64)] {
            let idx = Set::sample_indexes(len, count, &mut r);
            assert_eq!(idx.len(), count.min(len));
            assert!(idx.windows(2).all(|w| w[0] < w[1]));
            assert!(idx.iter().all(|&i| i < len));
        }
    }

    #[test]
    fn listpack_split_keeps_chosen() {
        let c = cfg();
        let mut s = Set::new_listpack();
        for m in ["a", "1", "b", "2"] {
            s.add(m.as_bytes(), &c);
        }
        let removed = s.listpack_split(&[1, 2]);
        assert_eq!(removed, vec![b"a".to_vec(), b"2".to_vec()]);
        assert_eq!(
            members(&s),
            [b"1".to_vec(), b"b".to_vec()].into_iter().collect()
        );
        assert_eq!(
            s.listpack().map(|l| l.as_bytes().to_vec()),
            Some(Listpack::from_items([&b"1"[..], b"b"]).as_bytes().to_vec())
        );
    }

    #[test]
    fn memory_usage_estimates() {
        let c = cfg();
        let mut s = Set::new_hashtable(0);
        for i in 0..1000 {
            s.add(format!("member:{i:05}").as_bytes(), &c);
        }
        let exact = s.memory_usage(0);
        let est = s.memory_usage(5);
        assert!(exact > 1000 * 16);
        assert_eq!(exact, est); // all members are in the same size class
        assert_eq!(s.free_effort(), 1000);
        let small = Set::with_hint(b"1", 1, &c);
        assert_eq!(small.free_effort(), 1);
    }

    #[test]
    fn clone_is_deep_and_equal() {
        let c = cfg();
        let mut s = Set::new_hashtable(0);
        for i in 0..200 {
            s.add(format!("m{i}").as_bytes(), &c);
        }
        let mut d = s.clone();
        assert_eq!(members(&s), members(&d));
        d.remove(b"m1");
        assert!(s.contains(b"m1") && !d.contains(b"m1"));
    }

    #[test]
    fn from_listpack_rejects_duplicates() {
        assert!(Set::from_listpack(Listpack::from_items([&b"a"[..], b"1"])).is_some());
        assert!(Set::from_listpack(Listpack::from_items([&b"a"[..], b"a"])).is_none());
        assert!(Set::from_listpack(Listpack::from_items([&b"7"[..], b"7"])).is_none());
    }

    #[test]
    fn format_i64_matches_to_string() {
        for v in [0i64, 1, -1, 9, 10, -10, i64::MIN, i64::MAX, 1234567890] {
            assert_eq!(format_i64(v, &mut [0; 20]), v.to_string().as_bytes());
        }
    }

    fn member_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            (-40i64..40).prop_map(|i| i.to_string().into_bytes()),
            any::<i64>().prop_map(|i| i.to_string().into_bytes()),
            "[a-c]{1,2}".prop_map(String::into_bytes),
            proptest::collection::vec(b'x'..=b'z', 60..70),
            Just(b"007".to_vec()),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_btreeset(
            small in any::<bool>(),
            ops in proptest::collection::vec((0u8..4, member_strategy()), 0..400),
        ) {
            // Small limits so conversions happen often.
            let c = if small {
                SetConfig { max_intset_entries: 20, max_listpack_entries: 8, max_listpack_value: 64 }
            } else {
                cfg()
            };
            let mut s = Set::new();
            let mut model: BTreeSet<Vec<u8>> = BTreeSet::new();
            for (op, m) in ops {
                match op {
                    0 | 1 => prop_assert_eq!(s.add(&m, &c), model.insert(m.clone())),
                    2 => prop_assert_eq!(s.remove(&m), model.remove(&m)),
                    _ => prop_assert_eq!(s.contains(&m), model.contains(&m)),
                }
                prop_assert_eq!(s.len(), model.len());
                // The encoding is never smaller than what the content needs.
                let all_int = model.iter().all(|m| parse_canonical_int(m).is_some());
                if s.is_intset() {
                    prop_assert!(all_int && s.len() <= c.max_intset_entries);
                }
                if s.is_listpack() {
                    prop_assert!(s.len() <= c.max_listpack_entries);
                    prop_assert!(model.iter().all(|m| m.len() <= c.max_listpack_value));
                }
            }
            prop_assert_eq!(members(&s), model.clone());
            let mut n = 0;
            s.for_each(|b| { n += 1; assert!(model.contains(b)); });
            prop_assert_eq!(n, model.len());
        }
    }
}
