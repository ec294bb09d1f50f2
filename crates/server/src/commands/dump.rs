//! DUMP and RESTORE (and RESTORE-ASKING, its cluster-migration twin):
//! a value serialized in Valkey's payload format, which Valkey and Redis
//! accept from Ferrokey and the other way round.
//!
//! ```text
//! type byte | value as in an RDB file | RDB version (u16 LE) | CRC-64 (u64 LE)
//! ```
//!
//! The CRC covers everything before it, the version included. Ferrokey
//! writes version 11 (Valkey 8 / Redis 7.2) and accepts up to 12, so
//! payloads from Redis 7.4 (hash field TTL types) restore too.

use super::flags::{ASKING, DENYOOM, READONLY, WRITE};
use super::keys::notify;
use super::{acl, err, Command, Ctx};
use crate::config::notify as ev;
use crate::keyspace::{access, Access, Payload, Record, ValueRef};
use crate::persistence::crc64::crc64;
use crate::persistence::rdb::object::{self, LoadOpts, Object, SaveOpts};
use crate::persistence::rdb::{Reader, RDB_MAX_READ_VERSION, RDB_VERSION};

const RESTORE_COMPLEXITY: &str = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";

pub static COMMANDS: &[Command] = {
    use super::keyspec::*;
    &[
        Command::new("dump", 2, READONLY, acl::KEYSPACE, dump)
            .tips(&["nondeterministic_output"])
            .key_specs(&[KeySpec::at(1, RO | ACCESS)])
            .doc(
                "generic",
                "2.6.0",
                "Returns a serialized representation of the value stored at a key.",
                "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
            ),
        Command::new("restore", -4, WRITE | DENYOOM, acl::KEYSPACE | acl::DANGEROUS, restore)
            .key_specs(&[KeySpec::at(1, OW | UPDATE)])
            .doc(
                "generic",
                "2.6.0",
                "Creates a key from the serialized representation of a value.",
                RESTORE_COMPLEXITY,
            ),
        Command::new(
            "restore-asking",
            -4,
            WRITE | DENYOOM | ASKING,
            acl::KEYSPACE | acl::DANGEROUS,
            restore,
        )
        .key_specs(&[KeySpec::at(1, OW | UPDATE)])
        .doc(
            "server",
            "3.0.0",
            "An internal command for migrating keys in a cluster.",
            RESTORE_COMPLEXITY,
        ),
    ]
};

/// Bytes after the value: the RDB version and the CRC-64.
const FOOTER: usize = 10;

/// The DUMP payload of a value (Valkey's `createDumpPayload`).
pub fn create_payload(v: &ValueRef<'_>, compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(object::object_type(v));
    object::write_object(&mut out, v, &SaveOpts { compress });
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Checks a payload's footer (Valkey's `verifyDumpPayload`): a version this
/// server reads and, unless `skip_crc`, the checksum. Returns the value
/// part (type byte and value) when both are right.
pub fn verify_payload(p: &[u8], skip_crc: bool) -> Option<&[u8]> {
    if p.len() < FOOTER {
        return None;
    }
    let (body, footer) = p.split_at(p.len() - FOOTER);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_MAX_READ_VERSION {
        return None;
    }
    if !skip_crc {
        let mut stored = [0u8; 8];
        stored.copy_from_slice(&footer[2..]);
        if crc64(0, &p[..p.len() - 8]) != u64::from_le_bytes(stored) {
            return None;
        }
    }
    Some(body)
}

/// DUMP key
fn dump(ctx: &mut Ctx<'_>) {
    let key = ctx.arg(1);
    let compress = ctx.srv.config.rdbcompression;
    let payload = ctx
        .lookup_read(key)
        .map(|rec| create_payload(&rec.value(), compress));
    match payload {
        Some(p) => ctx.out.bulk(&p),
        None => ctx.out.null(),
    }
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency]
fn restore(ctx: &mut Ctx<'_>) {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let argc = ctx.argc();
    let mut j = 4;
    while j < argc {
        let opt = ctx.arg(j);
        let more = argc - j - 1;
        if opt.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if opt.eq_ignore_ascii_case(b"absttl") {
            absttl = true;
        } else if opt.eq_ignore_ascii_case(b"idletime") && more >= 1 && freq.is_none() {
            let Some(v) = ctx.arg_i64(j + 1) else { return };
            if v < 0 {
                ctx.out.error(b"ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            idle = Some(v);
            j += 1;
        } else if opt.eq_ignore_ascii_case(b"freq") && more >= 1 && idle.is_none() {
            let Some(v) = ctx.arg_i64(j + 1) else { return };
            if !(0..=255).contains(&v) {
                ctx.out
                    .error(b"ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            freq = Some(v);
            j += 1;
        } else {
            ctx.out.error(err::SYNTAX);
            return;
        }
        j += 1;
    }

    let key = ctx.arg(1);
    // Checked before the TTL and the payload, as in Valkey.
    if !replace && ctx.lookup_write(key).is_some() {
        ctx.out.error(b"BUSYKEY Target key name already exists.");
        return;
    }
    let Some(ttl) = ctx.arg_i64(2) else { return };
    if ttl < 0 {
        ctx.out.error(b"ERR Invalid TTL value, must be >= 0");
        return;
    }
    let skip_crc = ctx.srv.persist.skip_checksum_validation;
    let Some(body) = verify_payload(ctx.arg(3), skip_crc) else {
        ctx.out
            .error(b"ERR DUMP payload version or checksum are wrong");
        return;
    };
    let now = ctx.now();
    let opts = LoadOpts::from_config(&ctx.srv.config, now.ms);
    let mut r = Reader::new(body);
    let obj = match r.u8() {
        Ok(ty) if object::is_object_type(ty) => object::read_object(&mut r, ty, &opts),
        _ => Ok(None),
    };
    // An empty value is as bad as a corrupt one here (Valkey's loader
    // returns no object for either).
    let Ok(Some(obj)) = obj else {
        ctx.out.error(b"ERR Bad data format");
        return;
    };

    let old = if replace { ctx.db().remove(key) } else { None };
    let deleted = old.is_some();
    crate::lazyfree::drop_value(old);

    let expire = if ttl == 0 {
        None
    } else if absttl {
        Some(ttl)
    } else {
        Some(ttl.saturating_add(now.ms))
    };
    if expire.is_some_and(|at| at <= now.ms) {
        // Already expired: nothing is created; a replaced key is gone,
        // which replicas and the AOF learn as a deletion.
        if deleted {
            let del: &[u8] = if ctx.srv.config.lazyfree_lazy_server_del {
                b"UNLINK"
            } else {
                b"DEL"
            };
            ctx.propagate_as(&[del, key]);
            ctx.modified(key);
            notify(ctx, ev::GENERIC, "del", key);
        } else {
            ctx.propagate_as(&[]);
        }
        ctx.out.ok();
        return;
    }

    // The access clock: IDLETIME under an LRU policy, FREQ under LFU, the
    // current time otherwise (Valkey's `objectSetLRUOrLFU`).
    let clock = match (now.access, idle, freq) {
        (Access::Lfu { .. }, _, Some(f)) => access::clock_from_freq(now.ms, f as u8),
        (Access::Lru, Some(i), _) => access::clock_from_idle(now.ms, i as u64),
        _ => now.clock,
    };
    let rec = match obj {
        Object::Int(i) => Record::build(key, Payload::Int(i), expire, clock),
        Object::Str(s) => Record::new_string(key, &s, expire, clock),
        Object::Value(v) => Record::build(key, Payload::Heap(Box::new(v)), expire, clock),
    };
    let displaced = ctx.db().insert(rec);
    crate::lazyfree::drop_value(displaced);
    if let (Some(at), false) = (expire, absttl) {
        // A relative TTL reaches replicas and the AOF as the absolute time
        // it was turned into.
        let at = at.to_string();
        let mut argv: Vec<&[u8]> = (0..argc).map(|i| ctx.arg(i)).collect();
        argv[2] = at.as_bytes();
        argv.push(b"ABSTTL");
        ctx.propagate_as(&argv);
    }
    ctx.modified(key);
    notify(ctx, ev::NEW, "new", key);
    notify(ctx, ev::GENERIC, "restore", key);
    ctx.out.ok();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Value;

    #[test]
    fn payload_of_hello_is_valkeys() {
        let p = create_payload(&ValueRef::Str(b"hello"), true);
        let body = b"\x00\x05hello\x0b\x00";
        assert_eq!(&p[..body.len()], body);
        assert_eq!(&p[body.len()..], &crc64(0, body).to_le_bytes());
        assert_eq!(verify_payload(&p, false), Some(&b"\x00\x05hello"[..]));
    }

    #[test]
    fn footer_checks() {
        let p = create_payload(&ValueRef::Int(7), true);
        assert_eq!(&p[..2], [0x00, 0xc0]);
        let mut bad = p.clone();
        bad[1] ^= 1;
        assert!(verify_payload(&bad, false).is_none());
        assert!(verify_payload(&bad, true).is_some());
        // Version 12 (Redis 7.4) is accepted, 13 is not.
        let mut v12 = p[..p.len() - 10].to_vec();
        v12.extend_from_slice(&12u16.to_le_bytes());
        let crc = crc64(0, &v12);
        v12.extend_from_slice(&crc.to_le_bytes());
        assert!(verify_payload(&v12, false).is_some());
        let mut v13 = p[..p.len() - 10].to_vec();
        v13.extend_from_slice(&13u16.to_le_bytes());
        let crc = crc64(0, &v13);
        v13.extend_from_slice(&crc.to_le_bytes());
        assert!(verify_payload(&v13, false).is_none());
        assert!(verify_payload(&p[..9], false).is_none());
    }

    #[test]
    fn payload_of_a_raw_string_value() {
        let v = Value::Str(b"abc"[..].into());
        let p = create_payload(&ValueRef::Heap(&v), false);
        assert_eq!(&p[..6], b"\x00\x03abc\x0b");
    }
}
