//! One value per RDB type code, read and written: what follows a key in an
//! RDB file, and what a DUMP payload carries after its type byte.
//!
//! Loading follows Valkey 8's `rdbLoadObject`: the encodings a value ends up
//! with are the ones Valkey would give it (a listpack within the configured
//! limits stays a listpack, a bigger one becomes a hash table or skiplist,
//! a quicklist of one small node becomes a listpack list, the legacy
//! ziplist and zipmap encodings are converted to listpacks), and the
//! corruption checks are Valkey's deep ones (`sanitize-dump-payload yes`),
//! always on: every listpack, ziplist, zipmap, intset and stream node is
//! walked before it is adopted, every count is checked against the bytes
//! left, duplicates are refused. Nothing a payload holds can make the
//! loader panic, read out of bounds, or reserve memory out of proportion
//! to its own size.
//!
//! Saving writes what Valkey 8 writes (RDB 11): compact encodings as one
//! blob each, hash tables and skiplists element by element. Hashes with
//! field TTLs are the exception: they are written as Redis 7.4 does (RDB 12
//! types 24 and 25), the only format that can hold them.
//!
//! Listpacks and intsets are adopted as they are after validation (one
//! allocation for the whole value), which is what makes loading fast: a
//! small hash, set or sorted set costs a copy and a linear check.

use super::codec::{self, RdbError, Reader, Result, StrOrInt};
use super::legacy;
use crate::keyspace::hash::{Hash, HashConfig};
use crate::keyspace::list::{End, List, ListConfig, RawNode, StoredNode};
use crate::keyspace::listpack::{parse_canonical_int, Listpack, LpItem};
use crate::keyspace::set::intset::IntSet;
use crate::keyspace::set::{Set, SetConfig};
use crate::keyspace::stream::{Entries, Stream, StreamId};
use crate::keyspace::zset::{AddFlags, AddOutcome, ZSet, ZSetConfig};
use crate::keyspace::{Value, ValueRef};
use std::borrow::Cow;
use std::collections::BTreeMap;

// ---- type codes (rdb.h) -------------------------------------------------------

pub const TYPE_STRING: u8 = 0;
pub const TYPE_LIST: u8 = 1;
pub const TYPE_SET: u8 = 2;
pub const TYPE_ZSET: u8 = 3;
pub const TYPE_HASH: u8 = 4;
/// Sorted set with binary (8-byte) scores.
pub const TYPE_ZSET_2: u8 = 5;
/// Module value of the 4.0 release candidates: cannot be parsed without
/// the module.
pub const TYPE_MODULE_PRE_GA: u8 = 6;
/// Module value annotated with opcodes, so it can be skipped.
pub const TYPE_MODULE_2: u8 = 7;
pub const TYPE_HASH_ZIPMAP: u8 = 9;
pub const TYPE_LIST_ZIPLIST: u8 = 10;
pub const TYPE_SET_INTSET: u8 = 11;
pub const TYPE_ZSET_ZIPLIST: u8 = 12;
pub const TYPE_HASH_ZIPLIST: u8 = 13;
/// Quicklist whose nodes are ziplists.
pub const TYPE_LIST_QUICKLIST: u8 = 14;
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
pub const TYPE_HASH_LISTPACK: u8 = 16;
pub const TYPE_ZSET_LISTPACK: u8 = 17;
/// Quicklist whose nodes are listpacks or plain elements.
pub const TYPE_LIST_QUICKLIST_2: u8 = 18;
/// Stream with first ID, max deleted ID, entries added, group offsets.
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub const TYPE_SET_LISTPACK: u8 = 20;
/// Stream whose consumers also have an active time.
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;
/// Redis 7.4 release candidates: hash with absolute field TTLs.
pub const TYPE_HASH_METADATA_PRE_GA: u8 = 22;
/// Redis 7.4 release candidates: listpack of (field, value, ttl).
pub const TYPE_HASH_LISTPACK_EX_PRE_GA: u8 = 23;
/// Redis 7.4+: hash with field TTLs relative to a minimum.
pub const TYPE_HASH_METADATA: u8 = 24;
/// Redis 7.4+: minimum TTL, then a listpack of (field, value, ttl).
pub const TYPE_HASH_LISTPACK_EX: u8 = 25;

/// Quicklist node containers (`QUICKLIST_NODE_CONTAINER_*`).
const CONTAINER_PLAIN: u64 = 1;
const CONTAINER_PACKED: u64 = 2;

/// Module value opcodes (`RDB_MODULE_OPCODE_*`).
const MODULE_OPCODE_EOF: u64 = 0;
const MODULE_OPCODE_SINT: u64 = 1;
const MODULE_OPCODE_UINT: u64 = 2;
const MODULE_OPCODE_FLOAT: u64 = 3;
const MODULE_OPCODE_DOUBLE: u64 = 4;
const MODULE_OPCODE_STRING: u64 = 5;

/// Stream entry flags, as in the node listpacks.
const STREAM_FLAG_DELETED: i64 = 1;
const STREAM_FLAG_SAMEFIELDS: i64 = 2;

/// Largest field expire time Redis accepts (`EB_EXPIRE_TIME_MAX`, 2^48 - 1).
const HASH_TTL_MAX: u64 = (1 << 48) - 1;

/// Whether `ty` is a value type this module reads. Module values (6, 7) are
/// not: the file loader skips type 7 with [`skip_module_value`].
pub fn is_object_type(ty: u8) -> bool {
    matches!(ty, 0..=5 | 9..=25)
}

/// What loading needs to know: the encoding limits of the configuration,
/// the clock (hash fields already expired are dropped) and
/// `sanitize-dump-payload`.
#[derive(Clone, Copy, Debug)]
pub struct LoadOpts {
    pub list: ListConfig,
    pub hash: HashConfig,
    pub set: SetConfig,
    pub zset: ZSetConfig,
    /// Unix time in ms: hash fields with an expire time at or before it
    /// are not loaded.
    pub now_ms: i64,
    /// `sanitize-dump-payload yes`. Every check Valkey makes only in that
    /// mode is made here anyway (what Ferrokey's structures rely on must
    /// hold for any input), so this is informational.
    pub deep_sanitize: bool,
}

impl LoadOpts {
    pub fn from_config(c: &crate::config::Config, now_ms: i64) -> LoadOpts {
        LoadOpts {
            list: ListConfig::from_config(c),
            hash: HashConfig::from_config(c),
            set: SetConfig::from_config(c),
            zset: ZSetConfig::from_config(c),
            now_ms,
            deep_sanitize: c.sanitize_dump_payload == crate::config::SanitizeDumpPayload::Yes,
        }
    }
}

/// A loaded value. Strings are not turned into records here: the caller
/// applies Valkey's string encoding rules (int, embstr, raw).
pub enum Object<'a> {
    /// An integer-encoded string.
    Int(i64),
    /// A string, borrowed from the input unless it was compressed.
    Str(Cow<'a, [u8]>),
    Value(Value),
}

/// How values are written.
#[derive(Clone, Copy, Debug)]
pub struct SaveOpts {
    /// `rdbcompression`: strings over 20 bytes are LZF-compressed when
    /// that saves space.
    pub compress: bool,
}

// ---- loading ------------------------------------------------------------------

/// Reads the value of type `ty` (its type byte already consumed).
/// `Ok(None)`: the value is empty once loaded (an empty collection, which
/// Valkey skips as `RDB_LOAD_ERR_EMPTY_KEY`, or a hash whose fields had all
/// expired): the key must be skipped.
pub fn read_object<'a>(r: &mut Reader<'a>, ty: u8, opts: &LoadOpts) -> Result<Option<Object<'a>>> {
    let v = match ty {
        TYPE_STRING => {
            return Ok(Some(match r.string_or_int()? {
                StrOrInt::Int(i) => Object::Int(i),
                StrOrInt::Str(s) => Object::Str(s),
            }))
        }
        TYPE_LIST => read_linked_list(r, opts)?,
        TYPE_SET => read_set(r, opts)?,
        TYPE_ZSET | TYPE_ZSET_2 => read_zset(r, ty == TYPE_ZSET_2, opts)?,
        TYPE_HASH => read_hash(r, opts)?,
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => read_quicklist(r, ty, opts)?,
        TYPE_HASH_ZIPMAP => read_zipmap(r, opts)?,
        TYPE_LIST_ZIPLIST => read_list_ziplist(r, opts)?,
        TYPE_SET_INTSET => read_intset(r, opts)?,
        TYPE_SET_LISTPACK => read_set_listpack(r, opts)?,
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => read_zset_packed(r, ty, opts)?,
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => read_hash_packed(r, ty, opts)?,
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            Some(read_stream(r, ty)?)
        }
        TYPE_HASH_METADATA_PRE_GA | TYPE_HASH_METADATA => read_hash_metadata(r, ty, opts)?,
        TYPE_HASH_LISTPACK_EX_PRE_GA | TYPE_HASH_LISTPACK_EX => read_hash_listpack_ex(r, ty, opts)?,
        TYPE_MODULE_PRE_GA => return r.err("Pre-release module format not supported"),
        _ => return r.err(format!("Unknown RDB encoding type {ty}")),
    };
    Ok(v.map(Object::Value))
}

/// A string as owned bytes (the blobs that become listpacks and intsets).
fn read_blob(r: &mut Reader<'_>) -> Result<Vec<u8>> {
    Ok(r.string()?.into_owned())
}

/// A listpack blob, fully validated; `what` names it in the error. The
/// bytes are copied once, from the file (or the LZF output) into the
/// listpack's block.
fn read_listpack(r: &mut Reader<'_>, what: &str) -> Result<Listpack> {
    let at = r.offset();
    let blob = r.string()?;
    Listpack::from_bytes(&blob).ok_or_else(|| RdbError {
        offset: at,
        msg: format!("{what} integrity check failed."),
    })
}

/// How many elements to size a hash table for ahead of reading `len` of
/// them: `len`, but never more than one per 8 bytes of input left, so a
/// payload claiming a huge count cannot make the table reserve many times
/// its own size (a real value that small per element just grows the table
/// as it loads).
fn presize(len: usize, r: &Reader<'_>) -> usize {
    len.min(r.remaining() / 8)
}

fn corrupt<T>(at: usize, msg: impl Into<String>) -> Result<T> {
    Err(RdbError {
        offset: at,
        msg: msg.into(),
    })
}

/// `RDB_TYPE_LIST`: elements one by one (RDB ≤ 6).
fn read_linked_list(r: &mut Reader<'_>, opts: &LoadOpts) -> Result<Option<Value>> {
    let len = r.count(1)?;
    if len == 0 {
        return Ok(None);
    }
    let mut l = List::new();
    for _ in 0..len {
        let s = r.string()?;
        l.push(End::Tail, &s, &opts.list);
    }
    Ok(Some(Value::List(l)))
}

/// `RDB_TYPE_LIST_QUICKLIST` (ziplist nodes) and `_QUICKLIST_2` (listpack
/// or plain nodes): the nodes are kept as they are, then a single small
/// node becomes a listpack list, as Valkey's `listTypeTryConversion` does.
fn read_quicklist(r: &mut Reader<'_>, ty: u8, opts: &LoadOpts) -> Result<Option<Value>> {
    let len = r.count(2)?;
    if len == 0 {
        return Ok(None);
    }
    let mut nodes = Vec::with_capacity(len.min(1024));
    for _ in 0..len {
        let container = if ty == TYPE_LIST_QUICKLIST_2 {
            let c = r.len()?;
            if c != CONTAINER_PLAIN && c != CONTAINER_PACKED {
                return r.err("Quicklist integrity check failed.");
            }
            c
        } else {
            CONTAINER_PACKED
        };
        let at = r.offset();
        let data = r.string()?;
        if data.is_empty() {
            return corrupt(at, "Empty quicklist node");
        }
        if container == CONTAINER_PLAIN {
            nodes.push(RawNode::Plain(data.into_owned()));
            continue;
        }
        let lp = if ty == TYPE_LIST_QUICKLIST_2 {
            Listpack::from_bytes(&data)
                .ok_or_else(|| err_at(at, "Listpack integrity check failed."))?
        } else {
            legacy::ziplist_to_listpack(&data)
                .ok_or_else(|| err_at(at, "Ziplist integrity check failed."))?
        };
        // Empty nodes are skipped (an all-empty list is an empty key).
        if !lp.is_empty() {
            nodes.push(RawNode::Packed(lp));
        }
    }
    if nodes.is_empty() {
        return Ok(None);
    }
    Ok(Some(Value::List(List::from_nodes(nodes, &opts.list))))
}

fn err_at(offset: usize, msg: &str) -> RdbError {
    RdbError {
        offset,
        msg: msg.into(),
    }
}

/// `RDB_TYPE_LIST_ZIPLIST` (RDB ≤ 7): the elements go into a quicklist,
/// which Valkey's loader does not convert even when it is small.
fn read_list_ziplist(r: &mut Reader<'_>, opts: &LoadOpts) -> Result<Option<Value>> {
    let at = r.offset();
    let zl = read_blob(r)?;
    let mut l = List::new_quicklist(&opts.list);
    let mut buf = [0u8; 20];
    let ok = legacy::ziplist_walk(&zl, |e| {
        match e {
            legacy::ZlEntry::Str(s) => l.push(End::Tail, s, &opts.list),
            legacy::ZlEntry::Int(i) => l.push(
                End::Tail,
                crate::keyspace::set::format_i64(i, &mut buf),
                &opts.list,
            ),
        }
        true
    });
    if !ok {
        return corrupt(at, "List ziplist integrity check failed.");
    }
    if l.is_empty() {
        return Ok(None);
    }
    Ok(Some(Value::List(l)))
}

/// `RDB_TYPE_SET`: members one by one, into the encoding Valkey picks while
/// adding them (intset while they are integers, then listpack, then hash
/// table; a hash table at once when there are more than
/// `set-max-intset-entries`).
fn read_set(r: &mut Reader<'_>, opts: &LoadOpts) -> Result<Option<Value>> {
    let len = r.count(1)?;
    if len == 0 {
        return Ok(None);
    }
    let cfg = &opts.set;
    let mut set = if len > cfg.max_intset_entries.min(1 << 30) {
        Set::new_hashtable(presize(len, r))
    } else {
        Set::new()
    };
    for _ in 0..len {
        let at = r.offset();
        let m = r.string()?;
        if !set.add(&m, cfg) {
            return corrupt(at, "Duplicate set members detected");
        }
    }
    Ok(Some(Value::Set(set)))
}

/// `RDB_TYPE_SET_INTSET`: adopted as it is, unless it holds more than
/// `set-max-intset-entries`.
fn read_intset(r: &mut Reader<'_>, opts: &LoadOpts) -> Result<Option<Value>> {
    let at = r.offset();
    let blob = r.string()?;
    let Some(is) = IntSet::from_bytes(&blob) else {
        return corrupt(at, "Intset integrity check failed.");
    };
    let n = is.len();
    let mut set = Set::from_intset(is);
    if n > opts.set.max_intset_entries {
        set.convert_to_hashtable(n);
    }
    Ok(Some(Value::Set(set)))
}

/// `RDB_TYPE_SET_LISTPACK`: adopted as it is, unless it holds more than
/// `set-max-listpack-entries`.
fn read_set_listpack(r: &mut Reader<'_>, opts: &LoadOpts) -> Result<Option<Value>> {
    let at = r.offset();
    let lp = read_listpack(r, "Set listpack")?;
    if has_duplicates(&lp, 1) {
        return corrupt(at, "Set listpack integrity check failed.");
    }
    let n = lp.len();
    if n == 0 {
        return Ok(None);
    }
    let mut set = Set::from_distinct_listpack(lp);
    if n > opts.set.max_listpack_entries {
        set.convert_to_hashtable(n);
    }
    Ok(Some(Value::Set(set)))
}

/// `RDB_TYPE_ZSET` (text scores) and `_ZSET_2` (binary scores): pairs in
/// any order; small sets end up as listpacks, as after Valkey's
/// `zsetConvert` at the end of loading.
fn read_zset(r: &mut Reader<'_>, binary: bool, opts: &LoadOpts) -> Result<Option<Value>> {
    let len = r.count(if binary { 9 } else { 2 })?;
    if len == 0 {
        return Ok(None);
    }
    let cfg = &opts.zset;
    let mut z = if len <= cfg.max_listpack_entries {
        ZSet::new()
    } else {
        ZSet::new_skiplist(presize(len, r))
    };
    for _ in 0..len {
        let at = r.offset();
        let m = r.string()?;
        let score = if binary {
            r.binary_double()?
        } else {
            r.text_double()?
        };
        if score.is_nan() {
            return corrupt(at, "Zset with NAN score detected");
        }
        if !matches!(
            z.add(score, &m, AddFlags::default(), cfg),
            AddOutcome::Added(_)
        ) {
            return corrupt(at, "Duplicate zset fields detected");
        }
    }
    Ok(Some(Value::ZSet(z)))
}

/// `RDB_TYPE_ZSET_ZIPLIST` and `_ZSET_LISTPACK`: member/score pairs in
/// order, adopted as a listpack (a ziplist converted first); a skiplist if
/// there are more than `zset-max-listpack-entries`.
fn read_zset_packed(r: &mut Reader<'_>, ty: u8, opts: &LoadOpts) -> Result<Option<Value>> {
    let at = r.offset();
    let lp = if ty == TYPE_ZSET_ZIPLIST {
        let zl = read_blob(r)?;
        match legacy::ziplist_pairs_to_listpack(&zl) {
            Some(lp) => lp,
            None => return corrupt(at, "Zset ziplist integrity check failed."),
        }
    } else {
        let lp = read_listpack(r, "Zset listpack")?;
        if lp.len() % 2 != 0 || has_duplicates(&lp, 2) {
            return corrupt(at, "Zset listpack integrity check failed.");
        }
        lp
    };
    if !zset_scores_valid(&lp) {
        return corrupt(at, "Zset with NAN score detected");
    }
    let n = lp.len() / 2;
    if n == 0 {
        return Ok(None);
    }
    let Some(mut z) = ZSet::from_listpack(lp) else {
        return corrupt(at, "Zset listpack integrity check failed.");
    };
    if n > opts.zset.max_listpack_entries {
        z.maybe_convert(n, 0, &opts.zset);
    }
    Ok(Some(Value::ZSet(z)))
}

/// Every score of a member/score listpack is a number (a NaN, which the
/// sorted set code could not order, is refused).
fn zset_scores_valid(lp: &Listpack) -> bool {
    lp.iter().skip(1).step_by(2).all(|s| match s {
        LpItem::Int(_) => true,
        // Scores are read as Valkey's zzlGetScore does: strtod on at most
        // 127 bytes.
        LpItem::Str(t) => !crate::util::num::strtod(&t[..t.len().min(127)])
            .value
            .is_nan(),
    })
}

/// `RDB_TYPE_HASH`: pairs one by one; a hash table at once beyond
/// `hash-max-listpack-entries`, else a listpack until a field or value is
/// too long for one.
fn read_hash(r: &mut Reader<'_>, opts: &LoadOpts) -> Result<Option<Value>> {
    let len = r.count(2)?;
    if len == 0 {
        return Ok(None);
    }
    let cfg = &opts.hash;
    let mut h = Hash::new();
    if len > cfg.max_listpack_entries {
        h.prepare_insert(presize(len, r), std::iter::empty(), cfg);
    }
    for _ in 0..len {
        let at = r.offset();
        let f = r.string()?;
        let v = r.string()?;
        if !h.set(&f, &v, cfg) {
            return corrupt(at, "Duplicate hash fields detected");
        }
    }
    Ok(Some(Value::Hash(h)))
}

/// `RDB_TYPE_HASH_ZIPLIST` and `_HASH_LISTPACK`: field/value pairs adopted
/// as a listpack (a ziplist converted first).
fn read_hash_packed(r: &mut Reader<'_>, ty: u8, opts: &LoadOpts) -> Result<Option<Value>> {
    let at = r.offset();
    let what = if ty == TYPE_HASH_ZIPLIST {
        "Hash ziplist integrity check failed."
    } else {
        "Hash listpack integrity check failed."
    };
    let lp = if ty == TYPE_HASH_ZIPLIST {
        let zl = read_blob(r)?;
        match legacy::ziplist_pairs_to_listpack(&zl) {
            Some(lp) => lp,
            None => return corrupt(at, what),
        }
    } else {
        read_listpack(r, "Hash listpack")?
    };
    if lp.is_empty() {
        return Ok(None);
    }
    match Hash::from_listpack(lp, &opts.hash) {
        Some(h) => Ok(Some(Value::Hash(h))),
        None => corrupt(at, what),
    }
}

/// `RDB_TYPE_HASH_ZIPMAP` (Redis ≤ 2.4).
fn read_zipmap(r: &mut Reader<'_>, opts: &LoadOpts) -> Result<Option<Value>> {
    let at = r.offset();
    let zm = read_blob(r)?;
    let Some((lp, _maxlen)) = legacy::zipmap_to_listpack(&zm) else {
        return corrupt(at, "Zipmap integrity check failed.");
    };
    // Hash::from_listpack converts beyond the configured entry count or
    // value length, as Valkey does for zipmaps.
    match Hash::from_listpack(lp, &opts.hash) {
        Some(h) => Ok(Some(Value::Hash(h))),
        None => corrupt(at, "Hash zipmap with dup elements"),
    }
}

/// `RDB_TYPE_HASH_METADATA` (Redis 7.4+: a minimum expire time, then
/// (ttl, field, value) with ttl relative to it, 0 for none) and `_PRE_GA`
/// (absolute ttls, no minimum). Expired fields are dropped.
fn read_hash_metadata(r: &mut Reader<'_>, ty: u8, opts: &LoadOpts) -> Result<Option<Value>> {
    let min_expire = if ty == TYPE_HASH_METADATA {
        r.millis()? as u64
    } else {
        0
    };
    let len = r.count(3)?;
    if len == 0 {
        return Ok(None);
    }
    let cfg = &opts.hash;
    let mut h = Hash::new();
    if len > cfg.max_listpack_entries {
        h.prepare_insert(presize(len, r), std::iter::empty(), cfg);
    }
    for _ in 0..len {
        let at = r.offset();
        let ttl = r.len()?;
        let expire_at = if ty == TYPE_HASH_METADATA && ttl != 0 {
            ttl.checked_add(min_expire).map(|v| v - 1)
        } else {
            Some(ttl)
        };
        let expire_at = match expire_at {
            Some(v) if v <= HASH_TTL_MAX => v,
            _ => return corrupt(at, format!("invalid expireAt time: {ttl}")),
        };
        let f = r.string()?;
        let v = r.string()?;
        if expire_at != 0 && expire_at as i64 <= opts.now_ms {
            continue;
        }
        if !h.set(&f, &v, cfg) {
            return corrupt(at, "Duplicate hash fields detected");
        }
        if expire_at != 0 {
            h.set_field_expire(&f, Some(expire_at as i64));
        }
    }
    if h.is_empty() {
        return Ok(None);
    }
    h.enable_field_expires();
    Ok(Some(Value::Hash(h)))
}

/// `RDB_TYPE_HASH_LISTPACK_EX` (a minimum expire time, then a listpack of
/// (field, value, ttl) triples, ttl 0 for none) and `_PRE_GA` (no minimum).
/// Expired fields are dropped.
fn read_hash_listpack_ex(r: &mut Reader<'_>, ty: u8, opts: &LoadOpts) -> Result<Option<Value>> {
    if ty == TYPE_HASH_LISTPACK_EX {
        // The minimum is only a hint for Redis (its TTLs are absolute).
        r.millis()?;
    }
    let at = r.offset();
    let lp = read_listpack(r, "Hash listpack")?;
    if lp.len() % 3 != 0 || has_duplicates(&lp, 3) {
        return corrupt(at, "Hash listpack integrity check failed.");
    }
    let mut pairs = Listpack::new();
    let mut ttls: Vec<(Vec<u8>, i64)> = Vec::new();
    let mut it = lp.iter();
    while let (Some(f), Some(v), Some(t)) = (it.next(), it.next(), it.next()) {
        let ttl = match t.as_i64() {
            Some(t) if (0..=HASH_TTL_MAX as i64).contains(&t) => t,
            _ => return corrupt(at, "Hash listpack integrity check failed."),
        };
        if ttl != 0 && ttl <= opts.now_ms {
            continue;
        }
        lp_push_item(&mut pairs, f);
        lp_push_item(&mut pairs, v);
        if ttl != 0 {
            ttls.push((f.to_vec(), ttl));
        }
    }
    if pairs.is_empty() {
        return Ok(None);
    }
    let Some(mut h) = Hash::from_listpack(pairs, &opts.hash) else {
        return corrupt(at, "Hash listpack integrity check failed.");
    };
    h.enable_field_expires();
    for (f, at) in ttls {
        h.set_field_expire(&f, Some(at));
    }
    Ok(Some(Value::Hash(h)))
}

fn lp_push_item(lp: &mut Listpack, it: LpItem<'_>) {
    match it {
        LpItem::Int(i) => lp.push_back_int(i),
        LpItem::Str(s) => lp.push_back(s),
    }
}

// ---- streams ------------------------------------------------------------------

fn read_id(r: &mut Reader<'_>) -> Result<StreamId> {
    let ms = r.len()?;
    let seq = r.len()?;
    Ok(StreamId::new(ms, seq))
}

/// A 16-byte big-endian ID (node keys, PEL entries).
fn raw_id(b: &[u8]) -> StreamId {
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&b[..8]);
    seq.copy_from_slice(&b[8..16]);
    StreamId::new(u64::from_be_bytes(ms), u64::from_be_bytes(seq))
}

fn put_raw_id(out: &mut Vec<u8>, id: StreamId) {
    out.extend_from_slice(&id.ms.to_be_bytes());
    out.extend_from_slice(&id.seq.to_be_bytes());
}

fn next_int(it: &mut crate::keyspace::listpack::Iter<'_>) -> Option<i64> {
    it.next()?.as_i64()
}

fn skip_items(it: &mut crate::keyspace::listpack::Iter<'_>, n: u64) -> Option<()> {
    for _ in 0..n {
        it.next()?;
    }
    Some(())
}

/// Checks a stream node the way Valkey's deep
/// `streamValidateListpackIntegrity` does (master entry, then each entry's
/// flags, ID, fields, values and back-count, nothing after the last), plus
/// what Ferrokey's node walking relies on: the master entry's live and
/// deleted counts match the entries, and entry IDs are at or after the
/// master ID and increase strictly across the whole stream (`prev` is the
/// last ID seen before this node). Returns the live entries and the first
/// live ID.
fn check_stream_node(
    master: StreamId,
    lp: &Listpack,
    prev: &mut Option<StreamId>,
) -> Option<(u64, Option<StreamId>)> {
    let n = lp.len() as u64;
    let mut it = lp.iter();
    let count = next_int(&mut it)?;
    let deleted = next_int(&mut it)?;
    let master_fields = next_int(&mut it)?;
    if count < 0 || deleted < 0 || master_fields < 0 || master_fields as u64 > n {
        return None;
    }
    let master_fields = master_fields as u64;
    skip_items(&mut it, master_fields)?;
    if next_int(&mut it)? != 0 {
        return None;
    }
    let total = (count as u64).checked_add(deleted as u64)?;
    if total > n {
        return None;
    }
    let (mut live, mut dead) = (0u64, 0u64);
    let mut first_live = None;
    for _ in 0..total {
        let flags = next_int(&mut it)?;
        let ms_diff = next_int(&mut it)?;
        let seq_diff = next_int(&mut it)?;
        let id = StreamId::new(
            master.ms.wrapping_add(ms_diff as u64),
            master.seq.wrapping_add(seq_diff as u64),
        );
        if id < master || prev.is_some_and(|p| id <= p) {
            return None;
        }
        *prev = Some(id);
        let same = flags & STREAM_FLAG_SAMEFIELDS != 0;
        let fields = if same {
            master_fields
        } else {
            let f = next_int(&mut it)?;
            if f < 0 || f as u64 > n {
                return None;
            }
            // The field names (values follow, interleaved: 2f in all).
            skip_items(&mut it, f as u64)?;
            f as u64
        };
        skip_items(&mut it, fields)?;
        let expected = if same { fields + 3 } else { 2 * fields + 4 };
        if next_int(&mut it)? != expected as i64 {
            return None;
        }
        if flags & STREAM_FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
            first_live.get_or_insert(id);
        }
    }
    if it.next().is_some() || live != count as u64 || dead != deleted as u64 {
        return None;
    }
    Some((live, first_live))
}

/// The stream types 15, 19 and 21: nodes, bookkeeping, consumer groups
/// with their pending entries and consumers.
fn read_stream(r: &mut Reader<'_>, ty: u8) -> Result<Value> {
    // A node is at least a 17-byte key and an 8-byte listpack string.
    let n_nodes = r.count(25)?;
    let mut nodes: Vec<(StreamId, Listpack)> = Vec::with_capacity(n_nodes.min(4096));
    let mut live_total = 0u64;
    let mut first_live: Option<StreamId> = None;
    let mut last_entry: Option<StreamId> = None;
    for _ in 0..n_nodes {
        let at = r.offset();
        let key = r.string()?;
        if key.len() != 16 {
            return corrupt(at, "Stream node key entry is not the size of a stream ID");
        }
        let master = raw_id(&key);
        let at = r.offset();
        let lp = read_listpack(r, "Stream listpack")?;
        if lp.is_empty() {
            return corrupt(at, "Empty listpack inside stream");
        }
        if let Some((prev, _)) = nodes.last() {
            if master == *prev {
                return corrupt(at, "Listpack re-added with existing key");
            }
            if master < *prev {
                return corrupt(at, "Stream node keys out of order");
            }
        }
        let Some((live, first)) = check_stream_node(master, &lp, &mut last_entry) else {
            return corrupt(at, "Stream listpack integrity check failed.");
        };
        live_total += live;
        if first_live.is_none() {
            first_live = first;
        }
        nodes.push((master, lp));
    }
    let at = r.offset();
    let length = r.len()?;
    let last_id = read_id(r)?;
    let (first_id, max_deleted, entries_added) = if ty >= TYPE_STREAM_LISTPACKS_2 {
        let first = read_id(r)?;
        let max_deleted = read_id(r)?;
        (first, max_deleted, r.len()?)
    } else {
        // Before RDB 10 these were not saved: Valkey derives them.
        (first_live.unwrap_or(StreamId::MAX), StreamId::MIN, length)
    };
    if length != 0 && nodes.is_empty() {
        return corrupt(at, "Stream length inconsistent with rax entries");
    }
    if length != live_total {
        return corrupt(at, "Stream length inconsistent with its entries");
    }
    if last_entry.is_some_and(|e| e > last_id) {
        return corrupt(at, "Stream last ID smaller than its entries");
    }
    let mut stream = Stream::new();
    *stream.entries_mut() =
        Entries::from_loaded(nodes, length, last_id, first_id, max_deleted, entries_added);
    read_stream_groups(r, ty, &mut stream)?;
    Ok(Value::Stream(Box::new(stream)))
}

fn read_stream_groups(r: &mut Reader<'_>, ty: u8, stream: &mut Stream) -> Result<()> {
    // name, ID (2), offset, PEL size, consumer count: at least 5 bytes.
    let n_groups = r.count(5)?;
    for _ in 0..n_groups {
        let at = r.offset();
        let name = r.string()?;
        let last_id = read_id(r)?;
        let entries_read = if ty >= TYPE_STREAM_LISTPACKS_2 {
            // Saved as the unsigned image of the signed counter (-1 for
            // "unknown" is 2^64 - 1).
            r.len()? as i64
        } else {
            stream.entries().estimate_distance(last_id)
        };
        if !stream.create_group(&name, last_id, entries_read) {
            return corrupt(
                at,
                format!(
                    "Duplicated consumer group name {}",
                    String::from_utf8_lossy(&name)
                ),
            );
        }
        // The group PEL: (ID, delivery time, delivery count), owners
        // resolved from the consumers' PELs that follow.
        let n_pel = r.count(16 + 8 + 1)?;
        let mut pel: BTreeMap<StreamId, (i64, u64, bool)> = BTreeMap::new();
        for _ in 0..n_pel {
            let at = r.offset();
            let id = raw_id(r.bytes(16)?);
            let time = r.millis()?;
            let count = r.len()?;
            if pel.insert(id, (time, count, false)).is_some() {
                return corrupt(
                    at,
                    "Duplicated global PEL entry loading stream consumer group",
                );
            }
        }
        let Some(group) = stream.groups_mut().get_mut(&name[..]) else {
            return corrupt(at, "Stream consumer group vanished");
        };
        let per_consumer = if ty >= TYPE_STREAM_LISTPACKS_3 {
            1 + 8 + 8 + 1
        } else {
            1 + 8 + 1
        };
        let n_consumers = r.count(per_consumer)?;
        for _ in 0..n_consumers {
            let at = r.offset();
            let cname = r.string()?;
            let seen = r.millis()?;
            // Before RDB 11 consumers had no active time: the seen time is
            // Valkey's best estimate.
            let active = if ty >= TYPE_STREAM_LISTPACKS_3 {
                r.millis()?
            } else {
                seen
            };
            if !group.restore_consumer(&cname, seen, active) {
                return corrupt(at, "Duplicate stream consumer detected.");
            }
            let n_cpel = r.count(16)?;
            for _ in 0..n_cpel {
                let at = r.offset();
                let id = raw_id(r.bytes(16)?);
                let Some(entry) = pel.get_mut(&id) else {
                    return corrupt(at, "Consumer entry not found in group global PEL");
                };
                if entry.2 {
                    return corrupt(
                        at,
                        "Duplicated consumer PEL entry  loading a stream consumer group",
                    );
                }
                entry.2 = true;
                group.restore_pending(id, entry.0, entry.1, &cname);
            }
        }
        // Every pending entry belongs to a consumer in Ferrokey's model
        // (Valkey checks this in deep sanitization only).
        if pel.values().any(|e| !e.2) {
            return r.err("Stream CG PEL entry without consumer");
        }
    }
    Ok(())
}

// ---- modules ------------------------------------------------------------------

/// Skips a module value (type byte consumed) without the module: a
/// `MODULE_2` value is its module ID and then opcode-tagged fields up to an
/// EOF opcode, which is what that format exists for. A `MODULE_PRE_GA`
/// value cannot be skipped.
pub fn skip_module_value(r: &mut Reader<'_>, ty: u8) -> Result<()> {
    match ty {
        TYPE_MODULE_2 => {}
        TYPE_MODULE_PRE_GA => return r.err("Pre-release module format not supported"),
        _ => return r.err(format!("Type {ty} is not a module value")),
    }
    r.len()?;
    loop {
        match r.len()? {
            MODULE_OPCODE_EOF => return Ok(()),
            MODULE_OPCODE_SINT | MODULE_OPCODE_UINT => {
                r.len()?;
            }
            MODULE_OPCODE_FLOAT => {
                r.bytes(4)?;
            }
            MODULE_OPCODE_DOUBLE => {
                r.bytes(8)?;
            }
            MODULE_OPCODE_STRING => {
                r.string()?;
            }
            op => return r.err(format!("Unknown module opcode {op}")),
        }
    }
}

// ---- integrity helpers ----------------------------------------------------------

/// An element as a duplicate check compares it: integers and their
/// canonical text are the same element, as in Valkey (which compares the
/// string forms).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum DupKey<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> DupKey<'a> {
    fn of(it: LpItem<'a>) -> DupKey<'a> {
        match it {
            LpItem::Int(i) => DupKey::Int(i),
            LpItem::Str(s) => match parse_canonical_int(s) {
                Some(i) => DupKey::Int(i),
                None => DupKey::Str(s),
            },
        }
    }
}

/// Whether two of the elements at positions 0, `stride`, 2 × `stride` ...
/// of `lp` are equal (set members, hash fields, sorted set members):
/// Valkey's `lpValidateIntegrityAndDups`, without allocating for small
/// listpacks.
pub(crate) fn has_duplicates(lp: &Listpack, stride: usize) -> bool {
    const SMALL: usize = 16;
    let keys = lp.iter().step_by(stride.max(1)).map(DupKey::of);
    if lp.len() <= SMALL * stride.max(1) {
        let mut buf = [DupKey::Int(0); SMALL];
        let mut n = 0;
        for k in keys {
            if buf[..n].contains(&k) {
                return true;
            }
            if n < SMALL {
                buf[n] = k;
                n += 1;
            }
        }
        return false;
    }
    let mut v: Vec<DupKey<'_>> = keys.collect();
    v.sort_unstable();
    v.windows(2).any(|w| w[0] == w[1])
}

// ---- saving -------------------------------------------------------------------

/// The type code Valkey 8 writes for a value (Redis 7.4's for a hash with
/// field TTLs).
pub fn object_type(v: &ValueRef<'_>) -> u8 {
    match v {
        ValueRef::Int(_) | ValueRef::Str(_) => TYPE_STRING,
        ValueRef::Heap(v) => match v {
            Value::Str(_) => TYPE_STRING,
            Value::List(_) => TYPE_LIST_QUICKLIST_2,
            Value::Hash(h) => match (h.is_listpack(), h.has_field_expires()) {
                (true, false) => TYPE_HASH_LISTPACK,
                (false, false) => TYPE_HASH,
                (true, true) => TYPE_HASH_LISTPACK_EX,
                (false, true) => TYPE_HASH_METADATA,
            },
            Value::Set(s) => {
                if s.is_intset() {
                    TYPE_SET_INTSET
                } else if s.is_listpack() {
                    TYPE_SET_LISTPACK
                } else {
                    TYPE_SET
                }
            }
            Value::ZSet(z) => {
                if z.is_listpack() {
                    TYPE_ZSET_LISTPACK
                } else {
                    TYPE_ZSET_2
                }
            }
            Value::Stream(_) => TYPE_STREAM_LISTPACKS_3,
        },
    }
}

/// Writes the payload of `v` (no type byte: see [`object_type`]).
pub fn write_object(out: &mut Vec<u8>, v: &ValueRef<'_>, opts: &SaveOpts) {
    let c = opts.compress;
    match v {
        ValueRef::Int(i) => codec::write_int_string(out, *i),
        ValueRef::Str(s) => codec::write_string(out, s, c),
        ValueRef::Heap(v) => match v {
            Value::Str(s) => codec::write_string(out, s, c),
            Value::List(l) => write_list(out, l, c),
            Value::Hash(h) => write_hash(out, h, c),
            Value::Set(s) => write_set(out, s, c),
            Value::ZSet(z) => write_zset(out, z, c),
            Value::Stream(s) => write_stream(out, s, c),
        },
    }
}

/// Quicklist 2: node count, then per node its container and bytes; a
/// compressed node's LZF bytes are written as they are.
fn write_list(out: &mut Vec<u8>, l: &List, c: bool) {
    codec::write_len(out, l.node_count() as u64);
    l.for_each_stored_node(|n| match n {
        StoredNode::Packed(b) => {
            codec::write_len(out, CONTAINER_PACKED);
            codec::write_string(out, b, c);
        }
        StoredNode::Plain(b) => {
            codec::write_len(out, CONTAINER_PLAIN);
            codec::write_string(out, b, c);
        }
        StoredNode::Lzf {
            plain,
            data,
            raw_len,
        } => {
            codec::write_len(
                out,
                if plain {
                    CONTAINER_PLAIN
                } else {
                    CONTAINER_PACKED
                },
            );
            out.push(0xc0 | codec::ENC_LZF);
            codec::write_len(out, data.len() as u64);
            codec::write_len(out, raw_len as u64);
            out.extend_from_slice(data);
        }
    });
}

fn write_item(out: &mut Vec<u8>, it: LpItem<'_>, c: bool) {
    match it {
        LpItem::Str(s) => codec::write_string(out, s, c),
        // What rdbSaveRawString makes of an integer's text.
        LpItem::Int(i) => codec::write_int_string(out, i),
    }
}

fn write_hash(out: &mut Vec<u8>, h: &Hash, c: bool) {
    if h.has_field_expires() {
        return write_hash_with_ttls(out, h, c);
    }
    match h.as_listpack() {
        Some(lp) => codec::write_string(out, lp.as_bytes(), c),
        None => {
            codec::write_len(out, h.len() as u64);
            h.for_each_item(|f, v| {
                write_item(out, f, c);
                write_item(out, v, c);
            });
        }
    }
}

/// A hash with field TTLs, as Redis 7.4 writes it: `LISTPACK_EX` (minimum
/// TTL, then a listpack of field, value, ttl sorted by ttl with the fields
/// without one last) for a small hash, `METADATA` (minimum TTL, count,
/// then ttl relative to the minimum + 1 or 0, field, value) for a big one.
fn write_hash_with_ttls(out: &mut Vec<u8>, h: &Hash, c: bool) {
    let min = h.min_field_expire().unwrap_or(0).max(0);
    codec::write_millis(out, min);
    if h.is_listpack() {
        let mut lp = Listpack::new();
        let mut with_ttl: Vec<Vec<u8>> = Vec::new();
        h.for_each_field_expire(|f, at| {
            if let Some(v) = h.get(f) {
                lp.push_back(f);
                lp.push_back(&v);
                lp.push_back_int(at);
                with_ttl.push(f.to_vec());
            }
        });
        h.for_each_item(|f, v| {
            let f = f.to_bytes();
            if h.field_expire(&f).is_none() {
                lp.push_back(&f);
                lp_push_item(&mut lp, v);
                lp.push_back_int(0);
            }
        });
        codec::write_string(out, lp.as_bytes(), c);
        return;
    }
    codec::write_len(out, h.len() as u64);
    h.for_each_item(|f, v| {
        let fb = f.to_bytes();
        let rel = match h.field_expire(&fb) {
            Some(at) => (at.max(min) - min) as u64 + 1,
            None => 0,
        };
        codec::write_len(out, rel);
        write_item(out, f, c);
        write_item(out, v, c);
    });
}

fn write_set(out: &mut Vec<u8>, s: &Set, c: bool) {
    if let Some(is) = s.intset() {
        codec::write_string(out, is.as_bytes(), c);
    } else if let Some(lp) = s.listpack() {
        codec::write_string(out, lp.as_bytes(), c);
    } else {
        codec::write_len(out, s.len() as u64);
        s.for_each(|m| codec::write_string(out, m, c));
    }
}

/// A skiplist set is written from the highest score down, as Valkey does
/// (so that loading inserts each element at the head).
fn write_zset(out: &mut Vec<u8>, z: &ZSet, c: bool) {
    if let Some(lp) = z.listpack() {
        codec::write_string(out, lp.as_bytes(), c);
        return;
    }
    let n = z.len();
    codec::write_len(out, n as u64);
    if n > 0 {
        z.walk(n - 1, true, |m, s| {
            codec::write_string(out, m, c);
            codec::write_binary_double(out, s);
            true
        });
    }
}

fn write_stream(out: &mut Vec<u8>, s: &Stream, c: bool) {
    let e = s.entries();
    codec::write_len(out, e.node_count() as u64);
    let mut key = Vec::with_capacity(16);
    for (master, lp) in e.nodes() {
        key.clear();
        put_raw_id(&mut key, master);
        codec::write_string(out, &key, c);
        codec::write_string(out, lp.as_bytes(), c);
    }
    codec::write_len(out, e.len());
    for id in [e.last_id(), e.first_id(), e.max_deleted_id()] {
        codec::write_len(out, id.ms);
        codec::write_len(out, id.seq);
    }
    codec::write_len(out, e.entries_added());
    let groups = s.groups();
    codec::write_len(out, groups.len() as u64);
    for (name, g) in groups {
        codec::write_string(out, name, c);
        codec::write_len(out, g.last_id.ms);
        codec::write_len(out, g.last_id.seq);
        codec::write_len(out, g.entries_read as u64);
        codec::write_len(out, g.pel().len() as u64);
        for (id, nack) in g.pel() {
            put_raw_id(out, *id);
            codec::write_millis(out, nack.delivery_time);
            codec::write_len(out, nack.delivery_count);
        }
        codec::write_len(out, g.consumer_count() as u64);
        for cons in g.consumers() {
            codec::write_string(out, cons.name(), c);
            codec::write_millis(out, cons.seen_time);
            codec::write_millis(out, cons.active_time);
            codec::write_len(out, cons.pending().len() as u64);
            for id in cons.pending() {
                put_raw_id(out, *id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::stream::{NewId, StreamConfig};
    use proptest::prelude::*;

    fn opts() -> LoadOpts {
        LoadOpts::from_config(&crate::config::Config::default(), 1_700_000_000_000)
    }

    fn save(v: &ValueRef<'_>) -> (u8, Vec<u8>) {
        let mut out = Vec::new();
        write_object(&mut out, v, &SaveOpts { compress: true });
        (object_type(v), out)
    }

    fn load<'a>(ty: u8, payload: &'a [u8], o: &LoadOpts) -> Option<Object<'a>> {
        let mut r = Reader::new(payload);
        let obj = read_object(&mut r, ty, o).unwrap();
        assert!(r.is_empty(), "type {ty}: {} bytes left", r.remaining());
        obj
    }

    fn heap(obj: Option<Object<'_>>) -> Value {
        match obj {
            Some(Object::Value(v)) => v,
            _ => panic!("not a heap value"),
        }
    }

    /// A canonical text of a value's contents, to compare values with.
    fn content(v: &Value) -> String {
        let hex = |b: &[u8]| -> String { b.iter().map(|x| format!("{x:02x}")).collect() };
        match v {
            Value::Str(s) => hex(s),
            Value::List(l) => {
                let mut out = Vec::new();
                l.for_each(|e| out.push(hex(e)));
                out.join(",")
            }
            Value::Hash(h) => {
                let mut out = Vec::new();
                h.for_each(|f, v| {
                    out.push(format!("{}={}@{:?}", hex(f), hex(v), h.field_expire(f)))
                });
                out.sort();
                out.join(",")
            }
            Value::Set(s) => {
                let mut out = Vec::new();
                s.for_each(|m| out.push(hex(m)));
                out.sort();
                out.join(",")
            }
            Value::ZSet(z) => {
                let mut out = Vec::new();
                z.for_each(|m, s| out.push(format!("{}:{s:?}", hex(m))));
                out.join(",")
            }
            Value::Stream(s) => {
                let e = s.entries();
                let mut out = format!(
                    "len={} last={} first={} maxdel={} added={} nodes={}|",
                    e.len(),
                    e.last_id(),
                    e.first_id(),
                    e.max_deleted_id(),
                    e.entries_added(),
                    e.node_count()
                );
                for ent in e.range(StreamId::MIN, StreamId::MAX, false) {
                    out.push_str(&format!("{}{{", ent.id));
                    for (f, v) in ent.fields() {
                        out.push_str(&format!("{}={};", hex(&f.to_bytes()), hex(&v.to_bytes())));
                    }
                    out.push('}');
                }
                for (name, g) in s.groups() {
                    out.push_str(&format!(
                        "|group {} last={} read={}",
                        hex(name),
                        g.last_id,
                        g.entries_read
                    ));
                    for (id, n) in g.pel() {
                        out.push_str(&format!(
                            " pel {id} {} {} {}",
                            n.delivery_time,
                            n.delivery_count,
                            hex(n.consumer())
                        ));
                    }
                    for c in g.consumers() {
                        out.push_str(&format!(
                            " cons {} {} {} {:?}",
                            hex(c.name()),
                            c.seen_time,
                            c.active_time,
                            c.pending()
                        ));
                    }
                }
                out
            }
        }
    }

    /// Saves a value, loads it back, and checks contents and encoding.
    fn roundtrip(v: &Value, o: &LoadOpts) -> Value {
        let (ty, payload) = save(&ValueRef::Heap(v));
        let back = heap(load(ty, &payload, o));
        assert_eq!(content(&back), content(v));
        assert_eq!(back.encoding_name(), v.encoding_name());
        // Saving what was loaded gives the same bytes (listpacks, intsets
        // and stream nodes are adopted as they are).
        let (ty2, payload2) = save(&ValueRef::Heap(&back));
        assert_eq!(ty2, ty);
        if !matches!(v, Value::Set(s) if s.is_hashtable())
            && !matches!(v, Value::Hash(h) if !h.is_listpack())
        {
            assert_eq!(payload2, payload);
        }
        back
    }

    fn list_of(n: usize, width: usize, cfg: &ListConfig) -> List {
        let mut l = List::new();
        for i in 0..n {
            let e = format!("element-{i:0width$}-abcabcabcabc");
            l.push(End::Tail, e.as_bytes(), cfg);
        }
        l
    }

    #[test]
    fn strings_roundtrip_in_every_encoding() {
        let o = opts();
        for v in [0i64, -1, 300, 1 << 40, i64::MIN] {
            let (ty, p) = save(&ValueRef::Int(v));
            assert_eq!(ty, TYPE_STRING);
            match load(ty, &p, &o) {
                Some(Object::Int(i)) => assert_eq!(i, v),
                // Beyond 32 bits the integer is written as text.
                Some(Object::Str(s)) => assert_eq!(&s[..], v.to_string().as_bytes()),
                _ => panic!(),
            }
        }
        let long = vec![b'x'; 1000];
        for s in [&b""[..], b"hello", &long] {
            let (ty, p) = save(&ValueRef::Str(s));
            match load(ty, &p, &o) {
                Some(Object::Str(back)) => assert_eq!(&back[..], s),
                _ => panic!(),
            }
        }
        // A compressed string is LZF in the payload.
        let (_, p) = save(&ValueRef::Heap(&Value::Str(long.clone().into())));
        assert_eq!(p[0], 0xc3);
        assert!(p.len() < 100);
    }

    #[test]
    fn exact_bytes_of_small_values() {
        // "hello": length 5 and the bytes (the DUMP body before the footer).
        assert_eq!(save(&ValueRef::Str(b"hello")).1, b"\x05hello");
        // 12 as an 8-bit integer string, 300 as 16-bit.
        assert_eq!(save(&ValueRef::Int(12)).1, [0xc0, 12]);
        assert_eq!(save(&ValueRef::Int(300)).1, [0xc1, 0x2c, 0x01]);
        // An intset {1, 2, 3}: one 14-byte string of the intset.
        let set = Value::Set(Set::from_intset(IntSet::from_ints([3, 1, 2])));
        let (ty, p) = save(&ValueRef::Heap(&set));
        assert_eq!(ty, TYPE_SET_INTSET);
        assert_eq!(p, [14, 2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0],);
        // A listpack hash {a: 1}: the listpack as a string.
        let mut h = Hash::new();
        h.set(b"a", b"1", &opts().hash);
        let (ty, p) = save(&ValueRef::Heap(&Value::Hash(h)));
        assert_eq!(ty, TYPE_HASH_LISTPACK);
        assert_eq!(p, [12, 12, 0, 0, 0, 2, 0, 0x81, b'a', 2, 1, 1, 0xff]);
        // A one-element listpack list: one packed node.
        let l = List::from_items([&b"x"[..]], &opts().list);
        let (ty, p) = save(&ValueRef::Heap(&Value::List(l)));
        assert_eq!(ty, TYPE_LIST_QUICKLIST_2);
        assert_eq!(p, [1, 2, 10, 10, 0, 0, 0, 1, 0, 0x81, b'x', 2, 0xff]);
    }

    #[test]
    fn lists_roundtrip() {
        let mut o = opts();
        // listpack
        let l = list_of(10, 3, &o.list);
        assert_eq!(l.encoding_name(), "listpack");
        roundtrip(&Value::List(l), &o);
        // quicklist of several nodes
        let l = list_of(2000, 5, &o.list);
        assert!(l.node_count() > 1);
        roundtrip(&Value::List(l), &o);
        // compressed interior nodes, kept compressed through the payload
        o.list = ListConfig {
            fill: 16,
            compress_depth: 1,
        };
        let l = list_of(200, 5, &o.list);
        assert!(l.compressed_nodes() > 0);
        let n = l.compressed_nodes();
        let back = roundtrip(&Value::List(l), &o);
        match back {
            Value::List(b) => assert_eq!(b.compressed_nodes(), n),
            _ => panic!(),
        }
        // plain nodes for big elements
        o.list = ListConfig::default();
        let mut l = List::new();
        let big = vec![b'p'; 20000];
        l.push(End::Tail, b"a", &o.list);
        l.push(End::Tail, &big, &o.list);
        l.push(End::Tail, b"b", &o.list);
        assert!(l.is_quicklist());
        roundtrip(&Value::List(l), &o);
    }

    #[test]
    fn quicklist_of_one_small_node_loads_as_listpack() {
        let o = opts();
        let lp = Listpack::from_items([&b"a"[..], b"b"]);
        let mut p = Vec::new();
        codec::write_len(&mut p, 1);
        codec::write_len(&mut p, CONTAINER_PACKED);
        codec::write_string(&mut p, lp.as_bytes(), false);
        let v = heap(load(TYPE_LIST_QUICKLIST_2, &p, &o));
        assert_eq!(v.encoding_name(), "listpack");
        assert_eq!(content(&v), "61,62");
    }

    #[test]
    fn hashes_roundtrip() {
        let o = opts();
        let mut h = Hash::new();
        for i in 0..10 {
            h.set(
                format!("f{i}").as_bytes(),
                format!("{i}").as_bytes(),
                &o.hash,
            );
        }
        assert_eq!(h.encoding_name(), "listpack");
        roundtrip(&Value::Hash(h), &o);
        let mut h = Hash::new();
        for i in 0..1000 {
            h.set(
                format!("f{i}").as_bytes(),
                format!("v{i}").as_bytes(),
                &o.hash,
            );
        }
        assert_eq!(h.encoding_name(), "hashtable");
        roundtrip(&Value::Hash(h), &o);
    }

    #[test]
    fn hashes_with_field_ttls_roundtrip_as_redis_7_4_types() {
        let o = opts();
        let future = o.now_ms + 100_000;
        let mut h = Hash::new();
        for i in 0..5 {
            h.set(format!("f{i}").as_bytes(), b"v", &o.hash);
        }
        h.set_field_expire(b"f3", Some(future + 5));
        h.set_field_expire(b"f1", Some(future));
        let (ty, p) = save(&ValueRef::Heap(&Value::Hash(h.clone())));
        assert_eq!(ty, TYPE_HASH_LISTPACK_EX);
        // The minimum TTL first, then the (field, value, ttl) listpack,
        // sorted by TTL with the fields without one last.
        assert_eq!(&p[..8], &future.to_le_bytes());
        let back = roundtrip(&Value::Hash(h.clone()), &o);
        assert_eq!(back.encoding_name(), "listpackex");
        let mut r = Reader::new(&p[8..]);
        let lp = Listpack::from_bytes(&r.string().unwrap()).unwrap();
        let items: Vec<Vec<u8>> = lp.iter().map(LpItem::to_vec).collect();
        assert_eq!(items[0], b"f1");
        assert_eq!(items[2], future.to_string().as_bytes());
        assert_eq!(items[3], b"f3");
        assert_eq!(items[14], b"0");
        // Loaded later, an expired field is dropped.
        let later = LoadOpts {
            now_ms: future,
            ..o
        };
        let v = heap(load(ty, &p, &later));
        match &v {
            Value::Hash(x) => {
                assert_eq!(x.len(), 4);
                assert!(!x.contains(b"f1"));
                assert_eq!(x.field_expire(b"f3"), Some(future + 5));
            }
            _ => panic!(),
        }
        // Every field expired: the key is skipped.
        let much_later = LoadOpts {
            now_ms: future + 10,
            ..o
        };
        let mut only = Hash::new();
        only.set(b"x", b"1", &o.hash);
        only.set_field_expire(b"x", Some(future));
        let (ty, p) = save(&ValueRef::Heap(&Value::Hash(only)));
        assert!(load(ty, &p, &much_later).is_none());
        // A big hash: HASH_METADATA with relative TTLs.
        let mut big = Hash::new();
        for i in 0..600 {
            big.set(format!("f{i}").as_bytes(), b"v", &o.hash);
        }
        big.set_field_expire(b"f7", Some(future));
        big.set_field_expire(b"f9", Some(future + 1000));
        let (ty, _) = save(&ValueRef::Heap(&Value::Hash(big.clone())));
        assert_eq!(ty, TYPE_HASH_METADATA);
        roundtrip(&Value::Hash(big), &o);
    }

    #[test]
    fn hash_metadata_pre_ga_uses_absolute_ttls() {
        let o = opts();
        let mut p = Vec::new();
        codec::write_len(&mut p, 2);
        codec::write_len(&mut p, (o.now_ms + 5000) as u64);
        codec::write_string(&mut p, b"a", false);
        codec::write_string(&mut p, b"1", false);
        codec::write_len(&mut p, 0);
        codec::write_string(&mut p, b"b", false);
        codec::write_string(&mut p, b"2", false);
        let v = heap(load(TYPE_HASH_METADATA_PRE_GA, &p, &o));
        match &v {
            Value::Hash(h) => {
                assert_eq!(h.field_expire(b"a"), Some(o.now_ms + 5000));
                assert_eq!(h.field_expire(b"b"), None);
                assert_eq!(h.encoding_name(), "listpackex");
            }
            _ => panic!(),
        }
    }

    #[test]
    fn sets_roundtrip() {
        let o = opts();
        let s = Set::from_intset(IntSet::from_ints(0..100));
        roundtrip(&Value::Set(s), &o);
        let mut s = Set::new();
        for m in ["a", "b", "c", "1"] {
            s.add(m.as_bytes(), &o.set);
        }
        assert!(s.is_listpack());
        roundtrip(&Value::Set(s), &o);
        let mut s = Set::new();
        for i in 0..1000 {
            s.add(format!("m{i}").as_bytes(), &o.set);
        }
        assert!(s.is_hashtable());
        roundtrip(&Value::Set(s), &o);
    }

    #[test]
    fn zsets_roundtrip_with_infinities() {
        let o = opts();
        let mut z = ZSet::new();
        for (m, s) in [
            ("lo", f64::NEG_INFINITY),
            ("mid", 0.5),
            ("hi", f64::INFINITY),
        ] {
            z.add(s, m.as_bytes(), AddFlags::default(), &o.zset);
        }
        assert!(z.is_listpack());
        roundtrip(&Value::ZSet(z), &o);
        let mut z = ZSet::new();
        for i in 0..500 {
            z.add(
                i as f64 / 3.0,
                format!("m{i}").as_bytes(),
                AddFlags::default(),
                &o.zset,
            );
        }
        z.add(f64::INFINITY, b"inf", AddFlags::default(), &o.zset);
        z.add(f64::NEG_INFINITY, b"-inf", AddFlags::default(), &o.zset);
        assert!(!z.is_listpack());
        let (ty, p) = save(&ValueRef::Heap(&Value::ZSet(z.clone())));
        assert_eq!(ty, TYPE_ZSET_2);
        // Highest score first.
        assert_eq!(&p[3..6], b"inf");
        roundtrip(&Value::ZSet(z), &o);
    }

    fn sample_stream() -> Stream {
        let cfg = StreamConfig {
            node_max_bytes: 4096,
            node_max_entries: 10,
        };
        let mut s = Stream::new();
        for i in 1..=35u64 {
            let v = i.to_string();
            let fv: Vec<&[u8]> = if i % 7 == 0 {
                vec![b"other", v.as_bytes()]
            } else {
                vec![b"n", v.as_bytes(), b"s", b"text"]
            };
            s.entries_mut()
                .append(&fv, NewId::Exact(StreamId::new(1000 + i, 0)), cfg, 0)
                .unwrap();
        }
        s.entries_mut()
            .delete(&[StreamId::new(1003, 0), StreamId::new(1020, 0)]);
        assert!(s.create_group(b"grp", StreamId::MIN, 0));
        assert!(s.create_group(b"other", StreamId::new(1010, 0), 10));
        let g = s.groups_mut().get_mut(&b"grp"[..]).unwrap();
        g.create_consumer(b"alice", 5000);
        g.create_consumer(b"bob", 6000);
        g.create_consumer(b"idle", 7000);
        s.read_group_new(b"grp", b"alice", 3, false, 8000, |_| {});
        s.read_group_new(b"grp", b"bob", 4, false, 9000, |_| {});
        s
    }

    #[test]
    fn streams_roundtrip_with_groups_pel_and_consumers() {
        let o = opts();
        let s = sample_stream();
        assert!(s.entries().node_count() > 2);
        let back = roundtrip(&Value::Stream(Box::new(s)), &o);
        let Value::Stream(b) = back else { panic!() };
        let g = b.group(b"grp").unwrap();
        assert_eq!(g.pel().len(), 7);
        assert_eq!(g.consumer(b"alice").unwrap().pending().len(), 3);
        assert_eq!(g.consumer(b"bob").unwrap().active_time, 9000);
        assert_eq!(g.consumer(b"idle").unwrap().active_time, -1);
        // An empty stream (no nodes) with a last ID.
        let mut e = Stream::new();
        e.entries_mut().set_meta(StreamId::new(5, 5), Some(3), None);
        roundtrip(&Value::Stream(Box::new(e)), &o);
    }

    /// Rewrites a stream payload of type 21 into the older layouts.
    fn downgrade_stream(s: &Stream, ty: u8) -> Vec<u8> {
        let mut out = Vec::new();
        let e = s.entries();
        codec::write_len(&mut out, e.node_count() as u64);
        for (master, lp) in e.nodes() {
            let mut k = Vec::new();
            put_raw_id(&mut k, master);
            codec::write_string(&mut out, &k, false);
            codec::write_string(&mut out, lp.as_bytes(), false);
        }
        codec::write_len(&mut out, e.len());
        codec::write_len(&mut out, e.last_id().ms);
        codec::write_len(&mut out, e.last_id().seq);
        if ty >= TYPE_STREAM_LISTPACKS_2 {
            for id in [e.first_id(), e.max_deleted_id()] {
                codec::write_len(&mut out, id.ms);
                codec::write_len(&mut out, id.seq);
            }
            codec::write_len(&mut out, e.entries_added());
        }
        codec::write_len(&mut out, s.groups().len() as u64);
        for (name, g) in s.groups() {
            codec::write_string(&mut out, name, false);
            codec::write_len(&mut out, g.last_id.ms);
            codec::write_len(&mut out, g.last_id.seq);
            if ty >= TYPE_STREAM_LISTPACKS_2 {
                codec::write_len(&mut out, g.entries_read as u64);
            }
            codec::write_len(&mut out, g.pel().len() as u64);
            for (id, n) in g.pel() {
                put_raw_id(&mut out, *id);
                codec::write_millis(&mut out, n.delivery_time);
                codec::write_len(&mut out, n.delivery_count);
            }
            codec::write_len(&mut out, g.consumer_count() as u64);
            for c in g.consumers() {
                codec::write_string(&mut out, c.name(), false);
                codec::write_millis(&mut out, c.seen_time);
                codec::write_len(&mut out, c.pending().len() as u64);
                for id in c.pending() {
                    put_raw_id(&mut out, *id);
                }
            }
        }
        out
    }

    #[test]
    fn older_stream_types_get_valkeys_defaults() {
        let o = opts();
        let s = sample_stream();
        for ty in [TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_2] {
            let p = downgrade_stream(&s, ty);
            let Value::Stream(b) = heap(load(ty, &p, &o)) else {
                panic!()
            };
            // Consumers without an active time take their seen time.
            let g = b.group(b"grp").unwrap();
            assert_eq!(g.consumer(b"idle").unwrap().active_time, 7000);
            assert_eq!(g.pel().len(), 7);
            if ty == TYPE_STREAM_LISTPACKS {
                assert_eq!(b.entries().entries_added(), 33);
                assert_eq!(b.entries().first_id(), StreamId::new(1001, 0));
                assert_eq!(b.entries().max_deleted_id(), StreamId::MIN);
                // The group offset is estimated: unknown with tombstones.
                assert_eq!(g.entries_read, -1);
            } else {
                assert_eq!(b.entries().entries_added(), 35);
                assert_eq!(g.entries_read, s.group(b"grp").unwrap().entries_read);
                assert_eq!(b.group(b"other").unwrap().entries_read, 10);
            }
        }
    }

    #[test]
    fn stream_corruption_is_refused() {
        let o = opts();
        let s = sample_stream();
        let (ty, good) = save(&ValueRef::Heap(&Value::Stream(Box::new(s))));
        assert!(load(ty, &good, &o).is_some());
        // A consumer PEL naming an ID the group PEL lacks.
        let mut e = Stream::new();
        let cfg = StreamConfig::default();
        e.entries_mut()
            .append(&[b"a", b"1"], NewId::Exact(StreamId::new(1, 1)), cfg, 0)
            .unwrap();
        e.create_group(b"g", StreamId::MIN, 0);
        let g = e.groups_mut().get_mut(&b"g"[..]).unwrap();
        g.create_consumer(b"c", 1);
        e.read_group_new(b"g", b"c", 1, false, 5, |_| {});
        let (_, p) = save(&ValueRef::Heap(&Value::Stream(Box::new(e))));
        // The last 16 bytes are the consumer's PEL ID: change it.
        let mut bad = p.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        let err = read_object(&mut Reader::new(&bad), ty, &o).err().unwrap();
        assert_eq!(err.msg, "Consumer entry not found in group global PEL");
        // A consumer PEL left empty: the group entry has no owner.
        let mut bad = p[..n - 17].to_vec();
        bad.push(0);
        let err = read_object(&mut Reader::new(&bad), ty, &o).err().unwrap();
        assert_eq!(err.msg, "Stream CG PEL entry without consumer");
    }

    #[test]
    fn duplicates_are_corruption() {
        let o = opts();
        let mut p = Vec::new();
        codec::write_len(&mut p, 2);
        codec::write_string(&mut p, b"a", false);
        codec::write_string(&mut p, b"a", false);
        let e = read_object(&mut Reader::new(&p), TYPE_SET, &o)
            .err()
            .unwrap();
        assert_eq!(e.msg, "Duplicate set members detected");
        let mut p = Vec::new();
        codec::write_len(&mut p, 2);
        for _ in 0..2 {
            codec::write_string(&mut p, b"7", false);
        }
        assert!(read_object(&mut Reader::new(&p), TYPE_SET, &o).is_err());
        let mut p = Vec::new();
        codec::write_len(&mut p, 2);
        for _ in 0..2 {
            codec::write_string(&mut p, b"f", false);
            codec::write_string(&mut p, b"v", false);
        }
        let e = read_object(&mut Reader::new(&p), TYPE_HASH, &o)
            .err()
            .unwrap();
        assert_eq!(e.msg, "Duplicate hash fields detected");
        let mut p = Vec::new();
        codec::write_len(&mut p, 2);
        for s in [1.0, 2.0] {
            codec::write_string(&mut p, b"m", false);
            codec::write_binary_double(&mut p, s);
        }
        let e = read_object(&mut Reader::new(&p), TYPE_ZSET_2, &o)
            .err()
            .unwrap();
        assert_eq!(e.msg, "Duplicate zset fields detected");
        // Listpack payloads.
        let lp = Listpack::from_items([&b"x"[..], b"y", b"x"]);
        let mut p = Vec::new();
        codec::write_string(&mut p, lp.as_bytes(), false);
        let e = read_object(&mut Reader::new(&p), TYPE_SET_LISTPACK, &o)
            .err()
            .unwrap();
        assert_eq!(e.msg, "Set listpack integrity check failed.");
        let lp = Listpack::from_items([&b"m"[..], b"1", b"m", b"2"]);
        let mut p = Vec::new();
        codec::write_string(&mut p, lp.as_bytes(), false);
        assert!(read_object(&mut Reader::new(&p), TYPE_ZSET_LISTPACK, &o).is_err());
        assert!(read_object(&mut Reader::new(&p), TYPE_HASH_LISTPACK, &o).is_err());
        // NaN scores.
        let mut p = Vec::new();
        codec::write_len(&mut p, 1);
        codec::write_string(&mut p, b"m", false);
        codec::write_binary_double(&mut p, f64::NAN);
        let e = read_object(&mut Reader::new(&p), TYPE_ZSET_2, &o)
            .err()
            .unwrap();
        assert_eq!(e.msg, "Zset with NAN score detected");
    }

    #[test]
    fn dup_check_treats_integers_and_their_text_alike() {
        let many: Vec<String> = (0..100).map(|i| format!("m{i}")).collect();
        let mut items: Vec<&[u8]> = many.iter().map(|s| s.as_bytes()).collect();
        let lp = Listpack::from_items(items.iter().copied());
        assert!(!has_duplicates(&lp, 1));
        items.push(b"m42");
        let lp = Listpack::from_items(items.iter().copied());
        assert!(has_duplicates(&lp, 1));
        // Stride 2: only the even positions count.
        let lp = Listpack::from_items([&b"a"[..], b"x", b"b", b"x"]);
        assert!(!has_duplicates(&lp, 2));
        // An integer entry and a string entry "12" (never written by
        // Valkey, but possible in a crafted payload) are the same member.
        let mut lp = Listpack::new();
        lp.push_back_int(12);
        let mut raw = lp.as_bytes().to_vec();
        // Append the string "12" by hand: 0x82 '1' '2' backlen 3.
        let end = raw.len() - 1;
        raw.splice(end..end, [0x82, b'1', b'2', 3]);
        let total = raw.len() as u32;
        raw[..4].copy_from_slice(&total.to_le_bytes());
        raw[4] = 2;
        let lp = Listpack::from_bytes(&raw).unwrap();
        assert!(has_duplicates(&lp, 1));
    }

    #[test]
    fn legacy_types_load_into_todays_encodings() {
        use legacy::tests::{build_ziplist, build_zipmap};
        use legacy::ZlEntry;
        let o = opts();
        // Hash ziplist (13).
        let zl = build_ziplist(&[
            ZlEntry::Str(b"f"),
            ZlEntry::Int(1),
            ZlEntry::Str(b"g"),
            ZlEntry::Str(b"two"),
        ]);
        let mut p = Vec::new();
        codec::write_string(&mut p, &zl, false);
        let v = heap(load(TYPE_HASH_ZIPLIST, &p, &o));
        assert_eq!(v.encoding_name(), "listpack");
        assert_eq!(content(&v), "66=31@None,67=74776f@None");
        // Zset ziplist (12), scores as integers and text.
        let zl = build_ziplist(&[
            ZlEntry::Str(b"a"),
            ZlEntry::Int(1),
            ZlEntry::Str(b"b"),
            ZlEntry::Str(b"2.5"),
        ]);
        let mut p = Vec::new();
        codec::write_string(&mut p, &zl, false);
        let v = heap(load(TYPE_ZSET_ZIPLIST, &p, &o));
        assert_eq!(v.encoding_name(), "listpack");
        assert_eq!(content(&v), "61:1.0,62:2.5");
        // List ziplist (10): a quicklist even when small, as in Valkey.
        let zl = build_ziplist(&[ZlEntry::Str(b"x"), ZlEntry::Int(-7)]);
        let mut p = Vec::new();
        codec::write_string(&mut p, &zl, false);
        let v = heap(load(TYPE_LIST_ZIPLIST, &p, &o));
        assert_eq!(v.encoding_name(), "quicklist");
        assert_eq!(content(&v), "78,2d37");
        // Quicklist v1 (14): ziplist nodes.
        let mut p = Vec::new();
        codec::write_len(&mut p, 2);
        for items in [
            [ZlEntry::Str(b"a"), ZlEntry::Int(1)],
            [ZlEntry::Str(b"b"), ZlEntry::Int(2)],
        ] {
            codec::write_string(&mut p, &build_ziplist(&items), true);
        }
        let v = heap(load(TYPE_LIST_QUICKLIST, &p, &o));
        assert_eq!(content(&v), "61,31,62,32");
        // Zipmap (9): small becomes a listpack, a long value a hash table.
        let zm = build_zipmap(&[(b"k", b"v"), (b"k2", b"v2")], 2);
        let mut p = Vec::new();
        codec::write_string(&mut p, &zm, false);
        let v = heap(load(TYPE_HASH_ZIPMAP, &p, &o));
        assert_eq!(v.encoding_name(), "listpack");
        assert_eq!(content(&v), "6b32=7632@None,6b=76@None");
        let long = vec![b'L'; 100];
        let zm = build_zipmap(&[(b"k", &long)], 0);
        let mut p = Vec::new();
        codec::write_string(&mut p, &zm, false);
        assert_eq!(
            heap(load(TYPE_HASH_ZIPMAP, &p, &o)).encoding_name(),
            "hashtable"
        );
        // Old text-score zsets (3) and linked lists (1).
        let mut p = Vec::new();
        codec::write_len(&mut p, 2);
        codec::write_string(&mut p, b"a", false);
        p.extend_from_slice(b"\x031.5");
        codec::write_string(&mut p, b"b", false);
        p.push(254);
        let v = heap(load(TYPE_ZSET, &p, &o));
        assert_eq!(content(&v), "61:1.5,62:inf");
        let mut p = Vec::new();
        codec::write_len(&mut p, 3);
        for e in ["a", "12", "c"] {
            codec::write_string(&mut p, e.as_bytes(), false);
        }
        let v = heap(load(TYPE_LIST, &p, &o));
        assert_eq!(v.encoding_name(), "listpack");
        assert_eq!(content(&v), "61,3132,63");
    }

    #[test]
    fn empty_collections_are_skipped() {
        let o = opts();
        for ty in [
            TYPE_LIST,
            TYPE_SET,
            TYPE_ZSET_2,
            TYPE_HASH,
            TYPE_LIST_QUICKLIST_2,
        ] {
            assert!(load(ty, &[0], &o).is_none(), "type {ty}");
        }
        let mut p = Vec::new();
        codec::write_string(&mut p, Listpack::new().as_bytes(), false);
        for ty in [TYPE_SET_LISTPACK, TYPE_ZSET_LISTPACK, TYPE_HASH_LISTPACK] {
            assert!(load(ty, &p, &o).is_none(), "type {ty}");
        }
    }

    #[test]
    fn encodings_follow_the_configured_limits() {
        let mut o = opts();
        o.set.max_intset_entries = 10;
        o.set.max_listpack_entries = 3;
        o.zset.max_listpack_entries = 2;
        o.hash.max_listpack_entries = 2;
        let s = Set::from_intset(IntSet::from_ints(0..20));
        let (ty, p) = save(&ValueRef::Heap(&Value::Set(s)));
        assert!(heap(load(ty, &p, &o)).encoding_name() == "hashtable");
        let lp = Listpack::from_items([&b"a"[..], b"b", b"c", b"d"]);
        let mut p = Vec::new();
        codec::write_string(&mut p, lp.as_bytes(), false);
        assert_eq!(
            heap(load(TYPE_SET_LISTPACK, &p, &o)).encoding_name(),
            "hashtable"
        );
        assert_eq!(
            heap(load(TYPE_ZSET_LISTPACK, &p, &o)).encoding_name(),
            "listpack"
        );
        let lp6 = Listpack::from_items([&b"a"[..], b"1", b"b", b"2", b"c", b"3"]);
        let mut p = Vec::new();
        codec::write_string(&mut p, lp6.as_bytes(), false);
        assert_eq!(
            heap(load(TYPE_ZSET_LISTPACK, &p, &o)).encoding_name(),
            "skiplist"
        );
        assert_eq!(
            heap(load(TYPE_HASH_LISTPACK, &p, &o)).encoding_name(),
            "hashtable"
        );
        // A set of integers within the intset limit stays an intset.
        let mut p = Vec::new();
        codec::write_len(&mut p, 3);
        for m in ["1", "2", "3"] {
            codec::write_string(&mut p, m.as_bytes(), false);
        }
        assert_eq!(heap(load(TYPE_SET, &p, &o)).encoding_name(), "intset");
    }

    #[test]
    fn module_values_are_skipped_by_their_opcodes() {
        let mut p = Vec::new();
        codec::write_len(&mut p, 0x1234_5678);
        for (op, body) in [
            (MODULE_OPCODE_SINT, vec![0x05]),
            (MODULE_OPCODE_UINT, vec![0x40, 0x10]),
            (MODULE_OPCODE_FLOAT, vec![0; 4]),
            (MODULE_OPCODE_DOUBLE, vec![0; 8]),
            (MODULE_OPCODE_STRING, b"\x03abc".to_vec()),
        ] {
            codec::write_len(&mut p, op);
            p.extend_from_slice(&body);
        }
        codec::write_len(&mut p, MODULE_OPCODE_EOF);
        p.push(0x99);
        let mut r = Reader::new(&p);
        skip_module_value(&mut r, TYPE_MODULE_2).unwrap();
        assert_eq!(r.remaining(), 1);
        assert!(skip_module_value(&mut Reader::new(&p), TYPE_MODULE_PRE_GA).is_err());
        assert!(!is_object_type(TYPE_MODULE_2) && !is_object_type(TYPE_MODULE_PRE_GA));
        assert!(is_object_type(TYPE_HASH_LISTPACK_EX) && !is_object_type(26));
    }

    // ---- fixtures ----------------------------------------------------------

    fn fixture_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rdb")
    }

    /// One key of a fixture: db, key, expire, type code and value.
    type Loaded<'a> = (usize, Vec<u8>, Option<i64>, u8, Option<Object<'a>>);

    /// A minimal walk over a whole RDB file, enough to reach every value
    /// (the real loader is file.rs).
    fn walk_rdb<'a>(bytes: &'a [u8], o: &LoadOpts) -> Vec<Loaded<'a>> {
        let mut r = Reader::new(bytes);
        assert_eq!(r.bytes(5).unwrap(), b"REDIS");
        r.bytes(4).unwrap();
        let mut out = Vec::new();
        let (mut db, mut expire) = (0usize, None);
        loop {
            match r.u8().unwrap() {
                0xfa => {
                    r.string().unwrap();
                    r.string().unwrap();
                }
                0xf5 => {
                    r.string().unwrap();
                }
                0xfe => db = r.len().unwrap() as usize,
                0xfb => {
                    r.len().unwrap();
                    r.len().unwrap();
                }
                0xf4 => {
                    for _ in 0..3 {
                        r.len().unwrap();
                    }
                }
                0xfc => expire = Some(r.millis().unwrap()),
                0xfd => expire = Some(r.le_u32().unwrap() as i64 * 1000),
                0xf8 => {
                    r.len().unwrap();
                }
                0xf9 => {
                    r.u8().unwrap();
                }
                0xff => break,
                ty => {
                    let key = r.string().unwrap().into_owned();
                    let v = read_object(&mut r, ty, o)
                        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&key)));
                    out.push((db, key, expire.take(), ty, v));
                }
            }
        }
        let body = r.offset();
        assert_eq!(
            r.le_u64().unwrap(),
            crate::persistence::crc64::crc64(0, &bytes[..body])
        );
        out
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Compares a loaded value with the fixture's description of it.
    fn check_fixture_value(name: &str, obj: &Object<'_>, want: &serde_json::Value) {
        let ty = want["type"].as_str().unwrap();
        let val = &want["value"];
        let ctx = format!("{name}: {}", want["key"]);
        match (ty, obj) {
            ("string", Object::Int(i)) => {
                assert_eq!(
                    i.to_string().into_bytes(),
                    unhex(val.as_str().unwrap()),
                    "{ctx}"
                );
                assert_eq!(want["encoding"], "int", "{ctx}");
            }
            ("string", Object::Str(s)) => {
                assert_eq!(s.to_vec(), unhex(val.as_str().unwrap()), "{ctx}")
            }
            (_, Object::Value(v)) => match (ty, v) {
                ("list", Value::List(l)) => {
                    let mut got = Vec::new();
                    l.for_each(|e| got.push(e.to_vec()));
                    let exp: Vec<Vec<u8>> = val
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| unhex(x.as_str().unwrap()))
                        .collect();
                    assert_eq!(got, exp, "{ctx}");
                }
                ("set", Value::Set(s)) => {
                    let mut got = Vec::new();
                    s.for_each(|m| got.push(m.to_vec()));
                    got.sort();
                    let mut exp: Vec<Vec<u8>> = val
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| unhex(x.as_str().unwrap()))
                        .collect();
                    exp.sort();
                    assert_eq!(got, exp, "{ctx}");
                }
                ("zset", Value::ZSet(z)) => {
                    let got = z.pairs();
                    let exp: Vec<(Vec<u8>, f64)> = val
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| {
                            let s = p[1].as_str().unwrap();
                            (unhex(p[0].as_str().unwrap()), s.parse::<f64>().unwrap())
                        })
                        .collect();
                    assert_eq!(got, exp, "{ctx}");
                }
                ("hash", Value::Hash(h)) => {
                    let (fields, ttls) = match val.get("fields") {
                        Some(f) => (f, val.get("field_pexpireat")),
                        None => (val, None),
                    };
                    let fields = fields.as_object().unwrap();
                    assert_eq!(h.len(), fields.len(), "{ctx}");
                    for (f, v) in fields {
                        let f = unhex(f);
                        assert_eq!(
                            h.get(&f).map(|c| c.to_vec()),
                            Some(unhex(v.as_str().unwrap())),
                            "{ctx}"
                        );
                        let want_ttl = ttls
                            .and_then(|t| t.get(hex_of(&f).as_str()))
                            .and_then(|t| t.as_i64());
                        assert_eq!(h.field_expire(&f), want_ttl, "{ctx}");
                    }
                }
                ("stream", Value::Stream(s)) => {
                    let entries = val["entries"].as_array().unwrap();
                    let got: Vec<_> = s
                        .entries()
                        .range(StreamId::MIN, StreamId::MAX, false)
                        .collect();
                    assert_eq!(got.len(), entries.len(), "{ctx}");
                    for (e, w) in got.iter().zip(entries) {
                        assert_eq!(e.id.to_string(), w[0].as_str().unwrap(), "{ctx}");
                        let want = w[1].as_object().unwrap();
                        assert_eq!(e.field_count(), want.len(), "{ctx}");
                        for (f, v) in e.fields() {
                            assert_eq!(
                                want[&hex_of(&f.to_bytes())].as_str().unwrap(),
                                hex_of(&v.to_bytes()),
                                "{ctx}"
                            );
                        }
                    }
                    let groups = val["groups"].as_array().unwrap();
                    assert_eq!(s.groups().len(), groups.len(), "{ctx}");
                    for w in groups {
                        let g = s.group(w["name"].as_str().unwrap().as_bytes()).unwrap();
                        assert_eq!(
                            g.last_id.to_string(),
                            w["last-delivered-id"].as_str().unwrap()
                        );
                        assert_eq!(g.entries_read, w["entries-read"].as_i64().unwrap());
                        assert_eq!(g.pel().len() as i64, w["pending"].as_i64().unwrap());
                        assert_eq!(g.consumer_count() as i64, w["consumers"].as_i64().unwrap());
                        assert_eq!(s.entries().lag(g), w["lag"].as_i64(), "{ctx}");
                    }
                }
                _ => panic!("{ctx}: unexpected value for type {ty}"),
            },
            _ => panic!("{ctx}: unexpected object"),
        }
    }

    fn hex_of(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn check_fixture(name: &str, check_encodings: bool) {
        let dir = fixture_dir();
        let bytes = std::fs::read(dir.join(format!("{name}.rdb"))).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                .unwrap();
        let o = opts();
        let loaded = walk_rdb(&bytes, &o);
        let mut seen = 0;
        for (db, key, expire, ty, obj) in &loaded {
            let want = &json["dbs"][db.to_string()][hex_of(key)];
            assert!(want.is_object(), "{name}: unexpected key {key:?}");
            let want_exp = want["pexpireat"].as_i64().unwrap();
            assert_eq!(expire.unwrap_or(-1), want_exp, "{name}: {key:?}");
            let obj = obj
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: {key:?} skipped"));
            check_fixture_value(name, obj, want);
            if check_encodings {
                if let Object::Value(v) = obj {
                    if !matches!(v, Value::Str(_)) {
                        assert_eq!(
                            v.encoding_name(),
                            want["encoding"].as_str().unwrap(),
                            "{name}: {key:?} type {ty}"
                        );
                    }
                }
            }
            seen += 1;
        }
        let total: usize = json["dbs"]
            .as_object()
            .unwrap()
            .values()
            .map(|d| d.as_object().unwrap().len())
            .sum();
        assert_eq!(seen, total, "{name}");
    }

    #[test]
    fn fixture_valkey_8_0() {
        check_fixture("valkey-8.0", true);
    }

    #[test]
    fn fixture_valkey_8_1_8() {
        check_fixture("valkey-8.1.8", true);
    }

    #[test]
    fn fixture_redis_7_0_15() {
        // Redis 7.0 had no listpack lists or sets: its quicklists and
        // hash-table sets take Valkey 8's encodings on loading.
        check_fixture("redis-7.0.15", false);
    }

    #[test]
    fn fixture_redis_7_4_with_field_ttls() {
        check_fixture("redis-7.4plus", true);
    }

    #[test]
    fn fixture_values_save_back_to_the_same_values() {
        let dir = fixture_dir();
        let bytes = std::fs::read(dir.join("valkey-8.0.rdb")).unwrap();
        let o = opts();
        for (_, key, _, ty, obj) in walk_rdb(&bytes, &o) {
            let Some(Object::Value(v)) = obj else {
                continue;
            };
            let (ty2, p) = save(&ValueRef::Heap(&v));
            // Valkey 8 writes the same type codes.
            assert_eq!(ty2, ty, "{key:?}");
            let back = heap(load(ty2, &p, &o));
            assert_eq!(content(&back), content(&v), "{key:?}");
        }
    }

    // ---- robustness ----------------------------------------------------------

    /// Payloads of every kind, for the mutation tests.
    fn sample_payloads() -> Vec<(u8, Vec<u8>)> {
        let o = opts();
        let mut vals: Vec<Value> = Vec::new();
        vals.push(Value::List(list_of(30, 2, &o.list)));
        let mut h = Hash::new();
        h.set(b"a", b"1", &o.hash);
        h.set(b"bb", b"xyz", &o.hash);
        vals.push(Value::Hash(h.clone()));
        h.set_field_expire(b"a", Some(o.now_ms + 1000));
        vals.push(Value::Hash(h));
        vals.push(Value::Set(Set::from_intset(IntSet::from_ints([1, 5, 9]))));
        let mut s = Set::new();
        s.add(b"m", &o.set);
        s.add(b"n", &o.set);
        vals.push(Value::Set(s));
        let mut z = ZSet::new();
        z.add(1.5, b"a", AddFlags::default(), &o.zset);
        z.add(2.0, b"b", AddFlags::default(), &o.zset);
        vals.push(Value::ZSet(z));
        vals.push(Value::Stream(Box::new(sample_stream())));
        let mut out: Vec<(u8, Vec<u8>)> = vals.iter().map(|v| save(&ValueRef::Heap(v))).collect();
        let zl =
            legacy::tests::build_ziplist(&[legacy::ZlEntry::Str(b"f"), legacy::ZlEntry::Int(300)]);
        let mut p = Vec::new();
        codec::write_string(&mut p, &zl, false);
        out.push((TYPE_HASH_ZIPLIST, p.clone()));
        out.push((TYPE_LIST_ZIPLIST, p));
        let zm = legacy::tests::build_zipmap(&[(b"k", b"v")], 1);
        let mut p = Vec::new();
        codec::write_string(&mut p, &zm, false);
        out.push((TYPE_HASH_ZIPMAP, p));
        out
    }

    #[test]
    fn truncated_payloads_error_cleanly() {
        let o = opts();
        for (ty, p) in sample_payloads() {
            for n in 0..p.len() {
                let mut r = Reader::new(&p[..n]);
                assert!(read_object(&mut r, ty, &o).is_err(), "type {ty} cut at {n}");
            }
        }
    }

    #[test]
    fn huge_counts_are_refused_before_allocating() {
        let o = opts();
        // Four billion elements claimed by a 6-byte payload.
        let p = [0x80, 0xff, 0xff, 0xff, 0xff, 0x00];
        for ty in [
            TYPE_LIST,
            TYPE_SET,
            TYPE_ZSET_2,
            TYPE_HASH,
            TYPE_LIST_QUICKLIST_2,
        ] {
            assert!(read_object(&mut Reader::new(&p), ty, &o).is_err());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_bytes_never_panic(ty in 0u8..=25, data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let o = opts();
            let mut r = Reader::new(&data);
            let _ = read_object(&mut r, ty, &o);
            let _ = skip_module_value(&mut Reader::new(&data), TYPE_MODULE_2);
        }

        #[test]
        fn mutated_payloads_never_panic(
            which in any::<prop::sample::Index>(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        ) {
            let samples = sample_payloads();
            let (ty, mut p) = samples[which.index(samples.len())].clone();
            for (at, b) in edits {
                let i = at.index(p.len());
                p[i] = b;
            }
            let o = opts();
            if let Ok(Some(Object::Value(v))) = read_object(&mut Reader::new(&p), ty, &o) {
                // Whatever was accepted can be used and saved again.
                let _ = content(&v);
                let (ty2, p2) = save(&ValueRef::Heap(&v));
                let back = read_object(&mut Reader::new(&p2), ty2, &o);
                prop_assert!(back.is_ok());
            }
        }
    }
}
