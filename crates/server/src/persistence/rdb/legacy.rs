//! The encodings old RDB files use and nothing writes any more: the
//! ziplist (lists, hashes and sorted sets up to RDB 9, and the nodes of the
//! first quicklist format, type 14) and the zipmap (hashes of Redis 2.4 and
//! earlier, type 9). Both are decoded into today's listpack, after the
//! integrity checks Valkey's loader applies (`ziplistValidateIntegrity` and
//! `zipmapValidateIntegrity` in their deep forms), so that no malformed
//! input can read out of bounds or be adopted half-way.
//!
//! ```text
//! ziplist  u32 zlbytes | u32 zltail | u16 zllen | entry... | 0xff      (LE)
//! entry    prevlen (1 byte < 254, or 0xfe + u32 LE) | encoding | data
//!   00pppppp                    string of up to 63 bytes
//!   01pppppp qqqqqqqq           string of up to 16383 bytes (BE length)
//!   10______ u32 BE             longer string
//!   11000000 / 11010000 / 11100000   int16 / int32 / int64 (LE)
//!   11110000                    int24 (LE)
//!   11111110                    int8
//!   1111xxxx (0001..1101)       immediate 0..12 (xxxx - 1)
//!
//! zipmap   u8 count (254: unknown) | (len field len free value pad)... | 0xff
//!   len: one byte < 254, or 254 + u32 LE
//! ```

use super::object::has_duplicates;
use crate::keyspace::listpack::Listpack;

/// One element of a ziplist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZlEntry<'a> {
    Int(i64),
    Str(&'a [u8]),
}

/// zlbytes, zltail and zllen.
const ZL_HEADER: usize = 10;
const ZL_END: u8 = 0xff;
/// A prevlen first byte announcing the 5-byte form.
const ZL_BIG_PREVLEN: u8 = 0xfe;

/// Little-endian integer of up to 8 bytes, sign-extended from `b.len()`
/// bytes.
fn le_signed(b: &[u8]) -> i64 {
    let mut v: u64 = 0;
    for (i, &x) in b.iter().enumerate() {
        v |= (x as u64) << (8 * i);
    }
    let bits = 8 * b.len() as u32;
    if bits == 0 || bits >= 64 {
        return v as i64;
    }
    // Move the sign bit to the top and shift back arithmetically.
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

fn u32_le(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Size of the encoding header (1, 2 or 5 bytes) and of the data of the
/// entry whose encoding starts at `q`; None for an invalid encoding or one
/// whose header runs past `last` (the index of the end marker).
fn zl_decode_encoding(zl: &[u8], q: usize, last: usize) -> Option<(usize, usize)> {
    let b = *zl.get(q)?;
    let lensize = match b >> 6 {
        0 | 1 => (b >> 6) as usize + 1,
        2 => 5,
        _ => 1,
    };
    if q + lensize > last {
        return None;
    }
    let len = match b >> 6 {
        0 => (b & 0x3f) as usize,
        1 => (((b & 0x3f) as usize) << 8) | zl[q + 1] as usize,
        2 => u32::from_be_bytes([zl[q + 1], zl[q + 2], zl[q + 3], zl[q + 4]]) as usize,
        _ => match b {
            0xc0 => 2,
            0xd0 => 4,
            0xe0 => 8,
            0xf0 => 3,
            0xfe => 1,
            0xf1..=0xfd => 0,
            _ => return None,
        },
    };
    Some((lensize, len))
}

/// The value of a validated entry: encoding byte `b` and its data.
fn zl_value(b: u8, data: &[u8]) -> ZlEntry<'_> {
    if b < 0xc0 {
        return ZlEntry::Str(data);
    }
    match b {
        0xf1..=0xfd => ZlEntry::Int((b & 0x0f) as i64 - 1),
        _ => ZlEntry::Int(le_signed(data)),
    }
}

/// Walks a ziplist, checking it as Valkey's deep `ziplistValidateIntegrity`
/// does (sizes in the header, every entry inside the buffer, each prevlen
/// equal to the previous entry's size, the tail offset, the count), and
/// hands each element to `f` (which may refuse it by returning false).
/// False if the ziplist is malformed or `f` refused an element; the
/// elements seen before that point have been handed out.
pub fn ziplist_walk<'a>(zl: &'a [u8], mut f: impl FnMut(ZlEntry<'a>) -> bool) -> bool {
    let size = zl.len();
    if size < ZL_HEADER + 1 {
        return false;
    }
    if u32_le(zl, 0) != Some(size) || zl[size - 1] != ZL_END {
        return false;
    }
    let Some(tail) = u32_le(zl, 4) else {
        return false;
    };
    if tail > size - 1 {
        return false;
    }
    let header_count = u16::from_le_bytes([zl[8], zl[9]]);
    let last = size - 1;
    let mut p = ZL_HEADER;
    let mut prev: Option<usize> = None;
    let mut prev_raw_size = 0usize;
    let mut count = 0usize;
    while zl[p] != ZL_END {
        // prevlen: 1 byte, or 0xfe and 4 more.
        let (prevsize, prevlen) = if zl[p] < ZL_BIG_PREVLEN {
            (1, zl[p] as usize)
        } else {
            if p + 5 > last {
                return false;
            }
            match u32_le(zl, p + 1) {
                Some(v) => (5, v),
                None => return false,
            }
        };
        if p + prevsize > last {
            return false;
        }
        let q = p + prevsize;
        let Some((lensize, len)) = zl_decode_encoding(zl, q, last) else {
            return false;
        };
        let header = prevsize + lensize;
        let Some(end) = p.checked_add(header).and_then(|v| v.checked_add(len)) else {
            return false;
        };
        if end > last || p < ZL_HEADER + prevlen || prevlen != prev_raw_size {
            return false;
        }
        if !f(zl_value(zl[q], &zl[p + header..end])) {
            return false;
        }
        prev_raw_size = header + len;
        prev = Some(p);
        p = end;
        count += 1;
    }
    if p != last {
        return false;
    }
    if prev.is_some_and(|pp| pp != tail) {
        return false;
    }
    header_count == u16::MAX || header_count as usize == count
}

/// Appends a ziplist element to a listpack (integers stay integers).
fn lp_push(lp: &mut Listpack, e: ZlEntry<'_>) {
    match e {
        ZlEntry::Int(i) => lp.push_back_int(i),
        ZlEntry::Str(s) => lp.push_back(s),
    }
}

/// The listpack holding a ziplist's elements (quicklist v1 nodes, Valkey's
/// `_ziplistEntryConvertAndValidate`). None if the ziplist is malformed.
pub fn ziplist_to_listpack(zl: &[u8]) -> Option<Listpack> {
    let mut lp = Listpack::new();
    ziplist_walk(zl, |e| {
        lp_push(&mut lp, e);
        true
    })
    .then_some(lp)
}

/// The listpack of a ziplist of field/value (or member/score) pairs, for the
/// hash and sorted set types 13 and 12 (Valkey's
/// `ziplistPairsConvertAndValidateIntegrity`): None if the ziplist is
/// malformed, holds an odd number of elements, or names a field twice.
pub fn ziplist_pairs_to_listpack(zl: &[u8]) -> Option<Listpack> {
    let lp = ziplist_to_listpack(zl)?;
    if lp.len() % 2 != 0 || has_duplicates(&lp, 2) {
        return None;
    }
    Some(lp)
}

/// Walks a zipmap, checking it as Valkey's deep `zipmapValidateIntegrity`
/// does (every length inside the buffer, at least one pair, the count in
/// the header unless it says "unknown"), handing each (field, value) to
/// `f`. False if the zipmap is malformed or `f` returned false.
pub fn zipmap_walk<'a>(zm: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8]) -> bool) -> bool {
    const BIGLEN: u8 = 254;
    const END: u8 = 0xff;
    let size = zm.len();
    if size < 2 || zm[size - 1] != END {
        return false;
    }
    let last = size - 1;
    // The header byte is the count; entries start after it, and nothing
    // may reach past the end marker.
    let in_range = |x: usize| (2..=last).contains(&x);
    // (bytes of the length, the length) of the length encoding at `p`.
    let length_at = |p: usize| -> Option<(usize, usize)> {
        if zm[p] < BIGLEN {
            Some((1, zm[p] as usize))
        } else {
            Some((5, u32_le(zm, p + 1)?))
        }
    };
    let mut p = 1usize;
    let mut count = 0usize;
    while zm[p] != END {
        let s = if zm[p] < BIGLEN { 1 } else { 5 };
        if !in_range(p + s) {
            return false;
        }
        let Some((s, flen)) = length_at(p) else {
            return false;
        };
        let fstart = p + s;
        p = fstart + flen;
        if !in_range(p) {
            return false;
        }
        let vs = if zm[p] < BIGLEN { 1 } else { 5 };
        if !in_range(p + vs) {
            return false;
        }
        let Some((vs, vlen)) = length_at(p) else {
            return false;
        };
        p += vs;
        let free = zm[p] as usize;
        let vstart = p + 1;
        p = vstart + vlen + free;
        count += 1;
        if !in_range(p) {
            return false;
        }
        if !f(&zm[fstart..fstart + flen], &zm[vstart..vstart + vlen]) {
            return false;
        }
    }
    count > 0 && (zm[0] == BIGLEN || zm[0] as usize == count)
}

/// A zipmap's pairs as a field/value listpack, with the longest field or
/// value (Valkey converts to a hash table beyond `hash-max-listpack-value`).
/// None if the zipmap is malformed or names a field twice.
pub fn zipmap_to_listpack(zm: &[u8]) -> Option<(Listpack, usize)> {
    let mut lp = Listpack::new();
    let mut maxlen = 0usize;
    let ok = zipmap_walk(zm, |f, v| {
        maxlen = maxlen.max(f.len()).max(v.len());
        lp.push_back(f);
        lp.push_back(v);
        true
    });
    if !ok || has_duplicates(&lp, 2) {
        return None;
    }
    Some((lp, maxlen))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::keyspace::listpack::LpItem;

    /// A ziplist entry's bytes after the prevlen, as Redis writes them
    /// (`zipStoreEntryEncoding` and `zipSaveInteger`).
    fn zl_encode(e: ZlEntry<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        match e {
            ZlEntry::Str(s) => {
                let n = s.len();
                if n < 64 {
                    out.push(n as u8);
                } else if n < 16384 {
                    out.push(0x40 | (n >> 8) as u8);
                    out.push(n as u8);
                } else {
                    out.push(0x80);
                    out.extend_from_slice(&(n as u32).to_be_bytes());
                }
                out.extend_from_slice(s);
            }
            ZlEntry::Int(i) => {
                if (0..=12).contains(&i) {
                    out.push(0xf1 + i as u8);
                } else if let Ok(v) = i8::try_from(i) {
                    out.push(0xfe);
                    out.push(v as u8);
                } else if let Ok(v) = i16::try_from(i) {
                    out.push(0xc0);
                    out.extend_from_slice(&v.to_le_bytes());
                } else if (-(1 << 23)..(1 << 23)).contains(&i) {
                    out.push(0xf0);
                    out.extend_from_slice(&(i as i32).to_le_bytes()[..3]);
                } else if let Ok(v) = i32::try_from(i) {
                    out.push(0xd0);
                    out.extend_from_slice(&v.to_le_bytes());
                } else {
                    out.push(0xe0);
                    out.extend_from_slice(&i.to_le_bytes());
                }
            }
        }
        out
    }

    /// A ziplist of these elements, byte for byte as Redis builds one.
    pub(crate) fn build_ziplist(items: &[ZlEntry<'_>]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = ZL_HEADER;
        for &e in items {
            tail = ZL_HEADER + body.len();
            let mut entry = Vec::new();
            if prev < 254 {
                entry.push(prev as u8);
            } else {
                entry.push(0xfe);
                entry.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            entry.extend_from_slice(&zl_encode(e));
            prev = entry.len();
            body.extend_from_slice(&entry);
        }
        let total = ZL_HEADER + body.len() + 1;
        let mut zl = Vec::with_capacity(total);
        zl.extend_from_slice(&(total as u32).to_le_bytes());
        zl.extend_from_slice(&(tail as u32).to_le_bytes());
        zl.extend_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(ZL_END);
        zl
    }

    /// A zipmap of these pairs, each value followed by `free` spare bytes.
    pub(crate) fn build_zipmap(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
        let mut zm = vec![pairs.len().min(254) as u8];
        let len = |out: &mut Vec<u8>, n: usize| {
            if n < 254 {
                out.push(n as u8);
            } else {
                out.push(254);
                out.extend_from_slice(&(n as u32).to_le_bytes());
            }
        };
        for (f, v) in pairs {
            len(&mut zm, f.len());
            zm.extend_from_slice(f);
            len(&mut zm, v.len());
            zm.push(free);
            zm.extend_from_slice(v);
            zm.extend(std::iter::repeat_n(0u8, free as usize));
        }
        zm.push(0xff);
        zm
    }

    fn items(lp: &Listpack) -> Vec<Vec<u8>> {
        lp.iter().map(LpItem::to_vec).collect()
    }

    #[test]
    fn hand_built_ziplist_by_the_spec() {
        // Two entries written out byte by byte from the format description:
        // "2" as an immediate, then "hello".
        let zl = [
            0x14, 0, 0, 0, // zlbytes = 20
            0x0c, 0, 0, 0, // zltail = 12
            2, 0, // zllen
            0x00, 0xf3, // prevlen 0, immediate 2
            0x02, 0x05, b'h', b'e', b'l', b'l', b'o', // prevlen 2, "hello"
            0xff,
        ];
        let lp = ziplist_to_listpack(&zl).unwrap();
        assert_eq!(items(&lp), vec![b"2".to_vec(), b"hello".to_vec()]);
        assert_eq!(
            build_ziplist(&[ZlEntry::Int(2), ZlEntry::Str(b"hello")]),
            zl
        );
    }

    #[test]
    fn every_integer_encoding() {
        let ints = [
            0i64,
            12,
            13,
            -1,
            127,
            -128,
            300,
            -32768,
            40000,
            -8_388_608,
            8_388_607,
            1 << 30,
            -(1 << 31),
            1 << 40,
            i64::MIN,
            i64::MAX,
        ];
        let entries: Vec<ZlEntry<'_>> = ints.iter().map(|&i| ZlEntry::Int(i)).collect();
        let zl = build_ziplist(&entries);
        let mut got = Vec::new();
        assert!(ziplist_walk(&zl, |e| {
            got.push(e);
            true
        }));
        assert_eq!(got, entries);
    }

    #[test]
    fn long_strings_and_big_prevlens() {
        let a = vec![b'a'; 300];
        let b = vec![b'b'; 20000];
        let zl = build_ziplist(&[ZlEntry::Str(&a), ZlEntry::Str(&b), ZlEntry::Str(b"x")]);
        let lp = ziplist_to_listpack(&zl).unwrap();
        assert_eq!(items(&lp), vec![a, b, b"x".to_vec()]);
    }

    #[test]
    fn corrupt_ziplists_are_refused() {
        let good = build_ziplist(&[ZlEntry::Str(b"ab"), ZlEntry::Int(7), ZlEntry::Str(b"cd")]);
        assert!(ziplist_to_listpack(&good).is_some());
        // Wrong zlbytes, tail, count, prevlen, encoding, missing end.
        let mut bad = good.clone();
        bad[0] += 1;
        assert!(ziplist_to_listpack(&bad).is_none());
        let mut bad = good.clone();
        bad[4] += 1;
        assert!(ziplist_to_listpack(&bad).is_none());
        let mut bad = good.clone();
        bad[8] = 5;
        assert!(ziplist_to_listpack(&bad).is_none());
        let mut bad = good.clone();
        bad[14] = 9; // prevlen of the second entry
        assert!(ziplist_to_listpack(&bad).is_none());
        let mut bad = good.clone();
        bad[15] = 0xc1; // not an encoding
        assert!(ziplist_to_listpack(&bad).is_none());
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 1] = 0;
        assert!(ziplist_to_listpack(&bad).is_none());
        // A string running past the end.
        let mut bad = good.clone();
        bad[11] = 60;
        assert!(ziplist_to_listpack(&bad).is_none());
        // Unknown count (65535) is accepted.
        let mut ok = good.clone();
        ok[8] = 0xff;
        ok[9] = 0xff;
        assert!(ziplist_to_listpack(&ok).is_some());
        // Too short for a header.
        assert!(ziplist_to_listpack(&good[..5]).is_none());
        // An empty ziplist is valid.
        assert_eq!(ziplist_to_listpack(&build_ziplist(&[])).unwrap().len(), 0);
    }

    #[test]
    fn pairs_reject_duplicates_and_odd_counts() {
        let zl = build_ziplist(&[ZlEntry::Str(b"f"), ZlEntry::Int(1), ZlEntry::Str(b"g")]);
        assert!(ziplist_pairs_to_listpack(&zl).is_none());
        let zl = build_ziplist(&[
            ZlEntry::Str(b"f"),
            ZlEntry::Int(1),
            ZlEntry::Str(b"f"),
            ZlEntry::Int(2),
        ]);
        assert!(ziplist_pairs_to_listpack(&zl).is_none());
        // The integer 5 and the string "5" are the same field.
        let zl = build_ziplist(&[
            ZlEntry::Int(5),
            ZlEntry::Int(1),
            ZlEntry::Str(b"5"),
            ZlEntry::Int(2),
        ]);
        assert!(ziplist_pairs_to_listpack(&zl).is_none());
        // Equal values are fine.
        let zl = build_ziplist(&[
            ZlEntry::Str(b"a"),
            ZlEntry::Int(1),
            ZlEntry::Str(b"b"),
            ZlEntry::Int(1),
        ]);
        let lp = ziplist_pairs_to_listpack(&zl).unwrap();
        assert_eq!(
            items(&lp),
            vec![b"a".to_vec(), b"1".to_vec(), b"b".to_vec(), b"1".to_vec()]
        );
    }

    #[test]
    fn hand_built_zipmap_by_the_spec() {
        // {"foo" => "bar"} with one byte of free space, as in zipmap.c's
        // header comment: count, len "foo", len free "bar" pad, end.
        let zm = [1, 3, b'f', b'o', b'o', 3, 1, b'b', b'a', b'r', 0, 0xff];
        let (lp, maxlen) = zipmap_to_listpack(&zm).unwrap();
        assert_eq!(items(&lp), vec![b"foo".to_vec(), b"bar".to_vec()]);
        assert_eq!(maxlen, 3);
        assert_eq!(build_zipmap(&[(b"foo", b"bar")], 1), zm);
    }

    #[test]
    fn zipmap_long_values_and_corruption() {
        let big = vec![b'v'; 300];
        let zm = build_zipmap(&[(b"a", &big), (b"b", b"")], 0);
        let (lp, maxlen) = zipmap_to_listpack(&zm).unwrap();
        assert_eq!(lp.len(), 4);
        assert_eq!(maxlen, 300);
        // Duplicated field.
        let zm = build_zipmap(&[(b"a", b"1"), (b"a", b"2")], 0);
        assert!(zipmap_to_listpack(&zm).is_none());
        // Wrong count, empty map, truncated value, no end marker.
        let mut bad = build_zipmap(&[(b"a", b"1")], 0);
        bad[0] = 2;
        assert!(zipmap_to_listpack(&bad).is_none());
        assert!(zipmap_to_listpack(&[0, 0xff]).is_none());
        let mut bad = build_zipmap(&[(b"a", b"1")], 0);
        bad[3] = 40;
        assert!(zipmap_to_listpack(&bad).is_none());
        let good = build_zipmap(&[(b"a", b"1")], 0);
        assert!(zipmap_to_listpack(&good[..good.len() - 1]).is_none());
        // Count 254 means "unknown".
        let mut unknown = build_zipmap(&[(b"a", b"1")], 0);
        unknown[0] = 254;
        assert!(zipmap_to_listpack(&unknown).is_some());
    }
}
