//! Whole RDB files: what surrounds the values.
//!
//! ```text
//! "REDIS" + 4-digit version
//! AUX fields            0xfa key value            (redis-ver, ctime, used-mem, aof-base ...)
//! function libraries    0xf5 code                 (FUNCTION2)
//! per database          0xfe db  0xfb size expires   (SELECTDB, RESIZEDB)
//!   per key             [0xfc ms | 0xfd s] [0xf8 idle | 0xf9 freq] type key value
//! 0xff, then the CRC-64 of everything before it (8 bytes LE; 0 = not computed)
//! ```
//!
//! Loading works on the whole file in memory (see `codec::Reader`); saving
//! streams through a small buffer, computing the checksum as it goes, so a
//! save of any size holds only one value's encoding at a time.

use super::codec::{self, RdbError, Reader, Result};
use super::object::{self, LoadOpts, Object, SaveOpts};
use super::{RDB_MAX_READ_VERSION, RDB_VERSION};
use crate::keyspace::{access, Payload, Record, ValueRef};
use crate::persistence::crc64::crc64;
use crate::server::net::log;
use crate::server::Server;
use std::io::{self, Write};
use std::path::Path;

const OP_SLOT_INFO: u8 = 244;
const OP_FUNCTION2: u8 = 245;
const OP_FUNCTION_PRE_GA: u8 = 246;
const OP_MODULE_AUX: u8 = 247;
const OP_IDLE: u8 = 248;
const OP_FREQ: u8 = 249;
const OP_AUX: u8 = 250;
const OP_RESIZEDB: u8 = 251;
const OP_EXPIRETIME_MS: u8 = 252;
const OP_EXPIRETIME: u8 = 253;
const OP_SELECTDB: u8 = 254;
const OP_EOF: u8 = 255;

/// What a load found, for the log and INFO.
#[derive(Debug, Default, Clone)]
pub struct LoadStats {
    pub version: u16,
    pub keys_loaded: u64,
    pub keys_expired: u64,
    pub empty_keys_skipped: u64,
    pub functions: usize,
}

/// Loads a complete RDB image into `srv`, whose databases are expected to
/// be empty. Keys already expired are dropped (counted in
/// `keys_expired`), except in an AOF base (`aof_preamble`), whose later
/// commands assume every key is there. On error the keyspace holds what
/// was loaded so far: the caller discards it.
pub fn load_rdb_bytes(srv: &mut Server, bytes: &[u8]) -> Result<LoadStats> {
    load_rdb(srv, bytes, false)
}

/// [`load_rdb_bytes`] for the RDB preamble of an AOF base file: expired
/// keys are kept.
pub fn load_aof_preamble(srv: &mut Server, bytes: &[u8]) -> Result<LoadStats> {
    load_rdb(srv, bytes, true)
}

fn load_rdb(srv: &mut Server, bytes: &[u8], aof_preamble: bool) -> Result<LoadStats> {
    let mut r = Reader::new(bytes);
    let magic = r
        .bytes(9)
        .or_else(|_| r.err("Short read or OOM loading DB"))?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError {
            offset: 0,
            msg: "Wrong signature trying to load DB from file".into(),
        });
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse::<u16>().ok())
        .unwrap_or(0);
    if !(1..=RDB_MAX_READ_VERSION).contains(&version) {
        return Err(RdbError {
            offset: 5,
            msg: format!("Can't handle RDB format version {version}"),
        });
    }
    let now = crate::keyspace::Now::from_system_with(srv.now.access);
    let opts = LoadOpts::from_config(&srv.config, now.ms);
    let mut stats = LoadStats {
        version,
        ..LoadStats::default()
    };
    let mut db = 0usize;
    let (mut expire, mut idle, mut freq): (Option<i64>, Option<u64>, Option<u8>) =
        (None, None, None);
    // A progress line every few seconds of a long load, so a big file's
    // start-up is not silent.
    let started = std::time::Instant::now();
    let mut last_progress = started;
    loop {
        let op = r.u8()?;
        match op {
            OP_EXPIRETIME => {
                expire = Some(r.le_u32()? as i32 as i64 * 1000);
                continue;
            }
            OP_EXPIRETIME_MS => {
                expire = Some(r.millis()?);
                continue;
            }
            OP_FREQ => {
                freq = Some(r.u8()?);
                continue;
            }
            OP_IDLE => {
                idle = Some(r.len()?);
                continue;
            }
            OP_EOF => break,
            OP_SELECTDB => {
                let id = r.len()?;
                if id >= srv.keyspace.dbs.len() as u64 {
                    return r.err(format!(
                        "FATAL: Data file was created with a server configured to handle more than {} databases",
                        srv.keyspace.dbs.len()
                    ));
                }
                db = id as usize;
                continue;
            }
            OP_RESIZEDB => {
                let size = r.len()?;
                let _expires = r.len()?;
                let d = &mut srv.keyspace.dbs[db];
                // Never trust a hint for more keys than the file can hold.
                let size = size.min(r.remaining() as u64 / 3) as usize;
                if d.is_empty() {
                    d.reserve(size);
                }
                continue;
            }
            OP_SLOT_INFO => {
                // Redis 7.4 / Valkey cluster: slot, keys, expires of the
                // slot — a sizing hint only.
                r.len()?;
                r.len()?;
                r.len()?;
                continue;
            }
            OP_AUX => {
                let k = r.string()?;
                let v = r.string()?;
                log_aux(&k, &v, now.ms);
                continue;
            }
            OP_MODULE_AUX => {
                let at = r.offset();
                let id = r.len()?;
                let when_op = r.len()?;
                let _when = r.len()?;
                if when_op != 2 {
                    return r.err("bad when_opcode");
                }
                skip_module_body(&mut r)?;
                log::warning(&format!(
                    "Skipped module AUX data of module id {id:#x} at offset {at}: no such module"
                ));
                continue;
            }
            OP_FUNCTION_PRE_GA => {
                return r.err("Pre-release function format not supported.");
            }
            OP_FUNCTION2 => {
                let code = r.string()?.into_owned();
                srv.persist.functions.push(code);
                stats.functions += 1;
                continue;
            }
            _ => {}
        }
        let ty = op;
        let at = r.offset();
        let key = r.string()?;
        let value = if ty == object::TYPE_MODULE_2 {
            r.len()?;
            skip_module_body(&mut r)?;
            log::warning(&format!(
                "Skipped key '{}' at offset {at}: value of an unknown module type",
                String::from_utf8_lossy(&key)
            ));
            None
        } else if object::is_object_type(ty) {
            object::read_object(&mut r, ty, &opts)?
        } else {
            return Err(RdbError {
                offset: at - 1,
                msg: format!("Unknown RDB encoding type {ty}"),
            });
        };
        let (exp, id, fr) = (expire.take(), idle.take(), freq.take());
        let Some(value) = value else {
            if ty != object::TYPE_MODULE_2 {
                if stats.empty_keys_skipped < 10 {
                    log::notice(&format!(
                        "rdbLoadObject skipping empty key: {}",
                        String::from_utf8_lossy(&key)
                    ));
                }
                stats.empty_keys_skipped += 1;
            }
            continue;
        };
        if !aof_preamble && exp.is_some_and(|e| e < now.ms) {
            stats.keys_expired += 1;
            continue;
        }
        let clock = match (id, fr) {
            (_, Some(f)) => access::clock_from_freq(now.ms, f),
            (Some(i), None) => access::clock_from_idle(now.ms, i),
            (None, None) => now.clock,
        };
        let rec = match value {
            Object::Int(i) => Record::build(&key, Payload::Int(i), exp, clock),
            Object::Str(s) => Record::new_string(&key, &s, exp, clock),
            Object::Value(v) => Record::build(&key, Payload::Heap(Box::new(v)), exp, clock),
        };
        if srv.keyspace.dbs[db].insert(rec).is_some() {
            return Err(RdbError {
                offset: at,
                msg: format!(
                    "RDB has duplicated key '{}' in DB {db}",
                    String::from_utf8_lossy(&key)
                ),
            });
        }
        stats.keys_loaded += 1;
        if stats.keys_loaded.is_multiple_of(65536) && last_progress.elapsed().as_secs() >= 2 {
            last_progress = std::time::Instant::now();
            log::notice(&format!(
                "Loading RDB: {:.1}% ({} of {} MB), {} keys in {:.1} s",
                r.offset() as f64 * 100.0 / bytes.len() as f64,
                r.offset() >> 20,
                bytes.len() >> 20,
                stats.keys_loaded,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    if version >= 5 {
        let body = r.offset();
        let stored = r.le_u64()?;
        if stored == 0 {
            log::notice("RDB file was saved with checksum disabled: no check performed.");
        } else if srv.config.rdbchecksum && !srv.persist.skip_checksum_validation {
            let computed = crc64(0, &bytes[..body]);
            if computed != stored {
                return Err(RdbError {
                    offset: body,
                    msg: format!(
                        "Wrong RDB checksum expected: ({stored:x}) but got ({computed:x}). RDB CRC error"
                    ),
                });
            }
        }
    }
    Ok(stats)
}

/// Skips the opcode-annotated body of a module value or module AUX record
/// (what `RDB_TYPE_MODULE_2` made possible: unknown modules' data can be
/// stepped over without the module).
fn skip_module_body(r: &mut Reader<'_>) -> Result<()> {
    loop {
        match r.len()? {
            0 => return Ok(()),
            1 | 2 => {
                r.len()?;
            }
            3 => {
                r.bytes(4)?;
            }
            4 => {
                r.bytes(8)?;
            }
            5 => {
                r.string()?;
            }
            op => return r.err(format!("Unknown module opcode {op}")),
        }
    }
}

fn log_aux(k: &[u8], v: &[u8], now_ms: i64) {
    let text = String::from_utf8_lossy(v);
    match k {
        b"redis-ver" => log::notice(&format!("Loading RDB produced by Redis version {text}")),
        b"valkey-ver" => log::notice(&format!("Loading RDB produced by Valkey version {text}")),
        b"ctime" => {
            let age = now_ms / 1000 - text.parse::<i64>().unwrap_or(0);
            log::notice(&format!("RDB age {} seconds", age.max(0)));
        }
        b"used-mem" => {
            let mb = text.parse::<f64>().unwrap_or(0.0) / (1024.0 * 1024.0);
            log::notice(&format!("RDB memory usage when created {mb:.2} Mb"));
        }
        _ if k.first() == Some(&b'%') => {
            log::notice(&format!("RDB '{}': {text}", String::from_utf8_lossy(k)))
        }
        _ => {}
    }
}

/// Buffers the encoding and keeps the running checksum.
struct Sink<'w, W: Write> {
    w: &'w mut W,
    buf: Vec<u8>,
    crc: u64,
    checksum: bool,
}

impl<W: Write> Sink<'_, W> {
    const FLUSH_AT: usize = 64 * 1024;

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= Self::FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.checksum {
            self.crc = crc64(self.crc, &self.buf);
        }
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

/// Writes a complete RDB of `srv`'s dataset: the header, AUX fields,
/// function libraries, every database, EOF and the checksum.
pub fn write_rdb(w: &mut impl Write, srv: &Server) -> io::Result<()> {
    write_rdb_with(w, srv, false)
}

/// [`write_rdb`], marked as the base of an AOF (`aof-base` 1) when
/// `aof_base`.
pub fn write_rdb_with(w: &mut impl Write, srv: &Server, aof_base: bool) -> io::Result<()> {
    let mut s = Sink {
        w,
        buf: Vec::with_capacity(Sink::<Vec<u8>>::FLUSH_AT * 2),
        crc: 0,
        checksum: srv.config.rdbchecksum,
    };
    s.buf
        .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    let unix = srv.now.ms / 1000;
    let used = crate::alloc::used_memory();
    let aux: [(&str, String); 5] = [
        ("redis-ver", crate::REDIS_VERSION.to_string()),
        ("redis-bits", "64".into()),
        ("ctime", unix.to_string()),
        ("used-mem", used.to_string()),
        ("aof-base", (aof_base as u8).to_string()),
    ];
    for (k, v) in aux {
        s.buf.push(OP_AUX);
        codec::write_string(&mut s.buf, k.as_bytes(), false);
        codec::write_string(&mut s.buf, v.as_bytes(), false);
    }
    for code in &srv.persist.functions {
        s.buf.push(OP_FUNCTION2);
        codec::write_string(&mut s.buf, code, false);
    }
    let opts = SaveOpts {
        compress: srv.config.rdbcompression,
    };
    let policy = srv.now.access;
    let save_lru = srv.config.maxmemory_policy.is_lru();
    let save_lfu = matches!(policy, access::Access::Lfu { .. });
    let lru_now = access::lru_clock(srv.now.ms);
    for (i, db) in srv.keyspace.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        s.buf.push(OP_SELECTDB);
        codec::write_len(&mut s.buf, i as u64);
        s.buf.push(OP_RESIZEDB);
        codec::write_len(&mut s.buf, db.len() as u64);
        codec::write_len(&mut s.buf, db.expires() as u64);
        for rec in db.iter() {
            if let Some(at) = rec.expire() {
                s.buf.push(OP_EXPIRETIME_MS);
                codec::write_millis(&mut s.buf, at);
            }
            if save_lfu {
                s.buf.push(OP_FREQ);
                s.buf.push(access::freq_of(rec.clock()));
            } else if save_lru {
                s.buf.push(OP_IDLE);
                codec::write_len(&mut s.buf, access::idle_seconds(lru_now, rec.clock()));
            }
            write_key_value(&mut s.buf, rec.key(), &rec.value(), &opts);
            s.maybe_flush()?;
        }
    }
    s.buf.push(OP_EOF);
    s.flush()?;
    let crc = if s.checksum { s.crc } else { 0 };
    s.w.write_all(&crc.to_le_bytes())?;
    s.w.flush()
}

/// One key: type byte, key, value.
pub fn write_key_value(out: &mut Vec<u8>, key: &[u8], v: &ValueRef<'_>, opts: &SaveOpts) {
    out.push(object::object_type(v));
    codec::write_string(out, key, opts.compress);
    object::write_object(out, v, opts);
}

/// Saves the dataset to `path` the way Valkey does: into a temporary file
/// in the same directory, fsync'ed, then renamed over `path`, so a crash
/// leaves either the old file or the new one, never half of one.
pub fn save(srv: &Server, path: &Path) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("temp-{}.rdb", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = io::BufWriter::with_capacity(1 << 20, file);
        write_rdb(&mut w, srv)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // The rename must reach the disk too.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
