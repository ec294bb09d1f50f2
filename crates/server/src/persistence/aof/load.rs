//! Loading the AOF at start-up (Valkey's `loadAppendOnlyFiles` and
//! `loadSingleAppendOnlyFile`): the base file (an RDB image, or commands),
//! then every incremental file in order, each command run through the
//! normal command table by a client of its own that gets no replies.
//!
//! The rules are Valkey's, byte for byte where they show (log lines): a
//! file missing from the manifest is fatal; a last file cut short (a crash
//! in the middle of a write) is truncated to its last whole command and
//! loading goes on when `aof-load-truncated` is yes; a transaction whose
//! EXEC never made it is dropped the same way; an unknown command or a
//! malformed file is fatal. A single `appendonly.aof` in `dir` (Redis 6 and
//! older) is moved into the directory as the base first ("upgrade").

use super::{file_path, load_manifest, log, strerror, with, Status};
use crate::commands::{self, Command};
use crate::persistence::crc64::crc64;
use crate::persistence::rdb::file::load_aof_preamble;
use crate::resp::{OwnedArgs, Protocol, Reply};
use crate::server::{ClientState, Server};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::time::Instant;

/// Valkey's `CLIENT_ID_AOF`: the id of the client that replays the AOF.
pub const AOF_CLIENT_ID: u64 = u64::MAX;
/// Valkey's `AOF_ANNOTATION_LINE_MAX_LEN`: the `fgets` buffer the loader
/// reads header lines with.
const LINE_MAX: usize = 1024;
/// Commands between refreshes of the command clock during a load.
const CLOCK_EVERY: u64 = 1024;

/// What [`load_aof_dir`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AofLoad {
    /// Loaded (possibly after truncating a cut-short last file).
    Ok,
    /// The manifest lists no file: nothing to load.
    NotExist,
    /// Every listed file is empty.
    Empty,
}

/// A load that must stop the server. The details are already in the log,
/// as Valkey writes them; `msg` repeats the last line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofError {
    pub msg: String,
}

impl std::fmt::Display for AofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

/// Outcome of one file (Valkey's `AOF_*` codes).
#[derive(Clone, Debug, PartialEq, Eq)]
enum One {
    Ok,
    NotExist,
    Empty,
    Truncated,
    Failed(String),
}

fn fail(msg: String) -> One {
    log::warning(&msg);
    One::Failed(msg)
}

/// C's `atoi`/`strtol` on a header line: optional sign and leading digits,
/// 0 when there are none (a `$` line with no digits reads as length 0).
fn leading_int(s: &[u8]) -> i64 {
    let s = match s.iter().position(|c| !matches!(c, b' ' | b'\t')) {
        Some(i) => &s[i..],
        None => return 0,
    };
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &d in digits.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i64::from(d - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// A `BufRead` with the offset of what was consumed.
struct Source<R> {
    r: R,
    pos: u64,
}

/// Why reading the next command stopped.
enum ReadErr {
    /// The file ended inside a command.
    Eof,
    /// A line that is not what the protocol wants there.
    Format,
    Io(io::Error),
}

impl<R: BufRead> Source<R> {
    /// `fgets` into a `LINE_MAX` buffer: up to and including a newline, at
    /// most `LINE_MAX - 1` bytes; None at the end of the file.
    fn line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        loop {
            let avail = match self.r.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok((!line.is_empty()).then_some(line));
            }
            let room = LINE_MAX - 1 - line.len();
            let window = &avail[..avail.len().min(room)];
            let (n, done) = match window.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (window.len(), window.len() == room),
            };
            line.extend_from_slice(&window[..n]);
            self.r.consume(n);
            self.pos += n as u64;
            if done {
                return Ok(Some(line));
            }
        }
    }

    /// Exactly `n` bytes, or None if the file ends first.
    fn bytes(&mut self, n: u64) -> io::Result<Option<Vec<u8>>> {
        let mut v = Vec::new();
        (&mut self.r).take(n).read_to_end(&mut v)?;
        self.pos += v.len() as u64;
        Ok((v.len() as u64 == n).then_some(v))
    }

    /// The next command: Ok(None) at a clean end of file. Annotations
    /// (`#...` lines such as `#TS:`) are skipped.
    fn command(&mut self) -> Result<Option<OwnedArgs>, ReadErr> {
        let head = loop {
            match self.line().map_err(ReadErr::Io)? {
                None => return Ok(None),
                Some(l) if l.first() == Some(&b'#') => continue,
                Some(l) => break l,
            }
        };
        if head[0] != b'*' {
            return Err(ReadErr::Format);
        }
        if head.len() == 1 {
            return Err(ReadErr::Eof);
        }
        let argc = leading_int(&head[1..]);
        if argc < 1 {
            return Err(ReadErr::Format);
        }
        let mut args = OwnedArgs::new();
        for _ in 0..argc {
            let Some(l) = self.line().map_err(ReadErr::Io)? else {
                return Err(ReadErr::Eof);
            };
            if l[0] != b'$' {
                return Err(ReadErr::Format);
            }
            let len = leading_int(&l[1..]);
            if len < 0 {
                return Err(ReadErr::Format);
            }
            let Some(arg) = self.bytes(len as u64).map_err(ReadErr::Io)? else {
                return Err(ReadErr::Eof);
            };
            // The CRLF after the argument (not checked, as in Valkey).
            if self.bytes(2).map_err(ReadErr::Io)?.is_none() {
                return Err(ReadErr::Eof);
            }
            args.push(&arg);
        }
        Ok(Some(args))
    }
}

/// Finds the command of `args` the way Valkey's `lookupCommand` does for
/// the loader: a container command with a subcommand resolves to it.
fn lookup(args: &OwnedArgs) -> Option<&'static Command> {
    let a = args.as_args();
    let cmd = commands::lookup(a.get(0))?;
    if a.len() == 1 || cmd.subcommands.is_empty() {
        return Some(cmd);
    }
    cmd.subcommand(a.get(1))
}

/// The length of the RDB image at the start of `bytes` (an old-style AOF
/// has commands after it): the end is the EOF opcode followed by the
/// checksum of everything before (or zeros when checksums were off), then
/// the end of the file or a command.
fn rdb_image_len(bytes: &[u8]) -> usize {
    let version = std::str::from_utf8(bytes.get(5..9).unwrap_or(b""))
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    let tail_ok = |at: usize| at == bytes.len() || matches!(bytes.get(at), Some(b'*' | b'#'));
    let mut crc = 0u64;
    let mut hashed = 0usize;
    for p in 9..bytes.len() {
        if bytes[p] != 0xff {
            continue;
        }
        if version < 5 {
            if tail_ok(p + 1) {
                return p + 1;
            }
            continue;
        }
        let Some(stored) = bytes.get(p + 1..p + 9) else {
            break;
        };
        crc = crc64(crc, &bytes[hashed..=p]);
        hashed = p + 1;
        let stored = u64::from_le_bytes(stored.try_into().unwrap_or([0xff; 8]));
        if (stored == crc || stored == 0) && tail_ok(p + 9) {
            return p + 9;
        }
    }
    bytes.len()
}

/// State of one file's replay.
struct Replay<'a> {
    srv: &'a mut Server,
    client: ClientState,
    out: Reply,
    name: String,
    loops: u64,
}

impl Replay<'_> {
    /// Runs the commands from `src` to its end (Valkey's command loop).
    fn commands<R: BufRead>(&mut self, src: &mut Source<R>, path: &Path) -> One {
        let truncate_ok = self.srv.config.aof_load_truncated;
        let mut valid_up_to = src.pos;
        let mut valid_before_multi = src.pos;
        let err = loop {
            if self.loops.is_multiple_of(CLOCK_EVERY) {
                self.srv.refresh_now();
                self.srv.now.loading = true;
            }
            self.loops += 1;
            let args = match src.command() {
                Ok(Some(a)) => a,
                Ok(None) => break None,
                Err(e) => break Some(e),
            };
            let Some(cmd) = lookup(&args) else {
                if self.function_load(&args) {
                    valid_up_to = src.pos;
                    continue;
                }
                return fail(format!(
                    "Unknown command '{}' reading the append only file {}",
                    String::from_utf8_lossy(args.as_args().get(0)),
                    self.name
                ));
            };
            if cmd.name == "multi" {
                valid_before_multi = valid_up_to;
            }
            crate::server::exec::run_loaded(self.srv, &mut self.client, &mut self.out, cmd, &args);
            self.out.clear();
            if truncate_ok {
                valid_up_to = src.pos;
            }
        };
        match err {
            None if self.client.multi.is_none() => return One::Ok,
            None => {
                log::warning(&format!(
                    "Revert incomplete MULTI/EXEC transaction in AOF file {}",
                    self.name
                ));
                valid_up_to = valid_before_multi;
            }
            Some(ReadErr::Eof) => {}
            Some(ReadErr::Format) => {
                return fail(format!(
                    "Bad file format reading the append only file {}: make a backup of your AOF \
                     file, then use ./valkey-check-aof --fix <filename.manifest>",
                    self.name
                ))
            }
            Some(ReadErr::Io(e)) => {
                return fail(format!(
                    "Unrecoverable error reading the append only file {}: {}",
                    self.name,
                    strerror(&e)
                ))
            }
        }
        // The file ends in the middle of a command (or transaction).
        self.client.multi = None;
        if truncate_ok {
            log::warning(&format!(
                "!!! Warning: short read while loading the AOF file {}!!!",
                self.name
            ));
            log::warning(&format!(
                "!!! Truncating the AOF {} at offset {valid_up_to} !!!",
                self.name
            ));
            match std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(valid_up_to))
            {
                Ok(()) => {
                    log::warning(&format!(
                        "AOF {} loaded anyway because aof-load-truncated is enabled",
                        self.name
                    ));
                    return One::Truncated;
                }
                Err(e) => log::warning(&format!(
                    "Error truncating the AOF file {}: {}",
                    self.name,
                    strerror(&e)
                )),
            }
        }
        fail(format!(
            "Unexpected end of file reading the append only file {}. You can: 1) Make a backup \
             of your AOF file, then use ./valkey-check-aof --fix <filename.manifest>. 2) \
             Alternatively you can set the 'aof-load-truncated' configuration option to yes and \
             restart the server.",
            self.name
        ))
    }

    /// `FUNCTION LOAD <code>` in a command-log base, while there is no
    /// FUNCTION command: the library is kept like one read from an RDB.
    fn function_load(&mut self, args: &OwnedArgs) -> bool {
        let a = args.as_args();
        if a.len() == 3
            && a.get(0).eq_ignore_ascii_case(b"FUNCTION")
            && a.get(1).eq_ignore_ascii_case(b"LOAD")
            && commands::lookup(b"function").is_none()
        {
            self.srv.persist.functions.push(a.get(2).to_vec());
            return true;
        }
        false
    }
}

/// Loads one file of the AOF directory.
fn load_one(srv: &mut Server, name: &[u8], old_style: bool) -> One {
    let shown = String::from_utf8_lossy(name).into_owned();
    let path = file_path(srv, name);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            log::warning(&format!(
                "The append log file {shown} doesn't exist: {}",
                strerror(&e)
            ));
            return One::NotExist;
        }
        Err(e) => {
            return fail(format!(
                "Fatal error: can't open the append log file {shown} for reading: {}",
                strerror(&e)
            ))
        }
    };
    if file.metadata().is_ok_and(|m| m.len() == 0) {
        return One::Empty;
    }
    let mut client = ClientState::new(AOF_CLIENT_ID, String::new(), String::new(), -1, true);
    // Nothing may block the replay (Valkey's CLIENT_DENY_BLOCKING).
    client.deny_blocking = true;
    let mut replay = Replay {
        srv,
        client,
        out: Reply::new(Protocol::Resp2),
        name: shown.clone(),
        loops: 0,
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let is_rdb = match reader.fill_buf() {
        Ok(head) => head.starts_with(b"REDIS"),
        Err(e) => {
            return fail(format!(
                "Unrecoverable error reading the append only file {shown}: {}",
                strerror(&e)
            ))
        }
    };
    if !is_rdb {
        let mut src = Source { r: reader, pos: 0 };
        return replay.commands(&mut src, &path);
    }
    if old_style {
        log::notice("Reading RDB preamble from AOF file...");
    } else {
        log::notice("Reading RDB base file on AOF loading...");
    }
    let mut bytes = Vec::new();
    if let Err(e) = reader.read_to_end(&mut bytes) {
        return fail(format!(
            "Unrecoverable error reading the append only file {shown}: {}",
            strerror(&e)
        ));
    }
    if let Err(e) = load_aof_preamble(replay.srv, &bytes) {
        log::warning(&format!("{e:?}"));
        return fail(if old_style {
            format!("Error reading the RDB preamble of the AOF file {shown}, AOF loading aborted")
        } else {
            format!("Error reading the RDB base file {shown}, AOF loading aborted")
        });
    }
    let end = rdb_image_len(&bytes);
    if old_style && end < bytes.len() {
        log::notice("Reading the remaining AOF tail...");
    }
    let mut src = Source {
        r: &bytes[end..],
        pos: end as u64,
    };
    replay.commands(&mut src, &path)
}

/// Moves an old single-file AOF (`dir`/`appendfilename`) into the AOF
/// directory as the base of a new manifest (Valkey's `aofUpgradePrepare`).
fn upgrade_prepare(srv: &Server) -> Result<(), AofError> {
    let fatal = |msg: String| {
        log::warning(&msg);
        AofError { msg }
    };
    let name = srv.config.appendfilename.clone();
    let dir = super::aof_dir(srv);
    std::fs::create_dir_all(&dir).map_err(|e| {
        fatal(format!(
            "Can't open or create append-only dir {}: {}",
            srv.config.appenddirname,
            strerror(&e)
        ))
    })?;
    let mut am = super::manifest::Manifest {
        base: Some(super::manifest::FileInfo {
            name: name.clone().into_bytes(),
            seq: 1,
            kind: super::manifest::FileType::Base,
        }),
        curr_base_seq: 1,
        dirty: true,
        ..Default::default()
    };
    super::persist_manifest(srv, &mut am).map_err(|e| AofError { msg: strerror(&e) })?;
    std::fs::rename(srv.config.dir.join(&name), dir.join(&name)).map_err(|e| {
        fatal(format!(
            "Error trying to move the old AOF file {name} into dir {}: {}",
            srv.config.appenddirname,
            strerror(&e)
        ))
    })?;
    with(|a| a.manifest = am);
    log::notice(&format!(
        "Successfully migrated an old-style AOF file ({name}) into the AOF directory ({}).",
        srv.config.appenddirname
    ));
    Ok(())
}

/// Loads the AOF directory into `srv` (empty databases expected): base,
/// then incremental files. Reads the manifest first (and upgrades an old
/// single-file AOF). Logs as Valkey does, including the final "DB loaded
/// from append only file" line.
pub fn load_aof_dir(srv: &mut Server) -> Result<AofLoad, AofError> {
    let start = Instant::now();
    load_manifest(srv)?;
    let old_name = srv.config.appendfilename.clone();
    let old_in_dir = srv.config.dir.join(&old_name);
    if old_in_dir.is_file() {
        let aofdir = super::aof_dir(srv);
        let am = with(|a| a.manifest.clone());
        let base_is_old = am
            .base
            .as_ref()
            .is_some_and(|b| b.name == old_name.as_bytes());
        if !aofdir.is_dir()
            || am.is_empty()
            || (base_is_old && am.incr.is_empty() && !aofdir.join(&old_name).is_file())
        {
            upgrade_prepare(srv)?;
        }
    }
    let am = with(|a| a.manifest.clone());
    if am.is_empty() {
        return Ok(AofLoad::NotExist);
    }
    let files: Vec<&[u8]> = am
        .base
        .iter()
        .chain(&am.incr)
        .map(|f| f.name.as_slice())
        .collect();
    let mut total = 0u64;
    for name in &files {
        match std::fs::metadata(file_path(srv, name)) {
            Ok(m) => total += m.len(),
            Err(e) => {
                let msg = format!(
                    "Unable to obtain the AOF file {} length. stat: {}",
                    String::from_utf8_lossy(name),
                    strerror(&e)
                );
                log::warning(&msg);
                return Err(AofError { msg });
            }
        }
    }
    if total == 0 {
        return Ok(AofLoad::Empty);
    }
    // Nothing the replay does may reach the AOF it reads.
    let status = with(|a| std::mem::replace(&mut a.status, Status::Off));
    let result = load_files(srv, &am, &files, &old_name);
    with(|a| a.status = status);
    srv.refresh_now();
    let base_size = result?;
    with(|a| {
        a.current_size = total;
        a.rewrite_base_size = base_size;
    });
    log::notice(&format!(
        "DB loaded from append only file: {:.3} seconds",
        start.elapsed().as_secs_f64()
    ));
    Ok(AofLoad::Ok)
}

/// Loads the listed files in order; the base file's size on success.
fn load_files(
    srv: &mut Server,
    am: &super::manifest::Manifest,
    files: &[&[u8]],
    old_name: &str,
) -> Result<u64, AofError> {
    let total_num = files.len();
    let mut base_size = 0;
    for (i, name) in files.iter().enumerate() {
        let is_base = i == 0 && am.base.is_some();
        if is_base {
            base_size = std::fs::metadata(file_path(srv, name)).map_or(0, |m| m.len());
        }
        let last = i + 1 == total_num;
        let start = Instant::now();
        let old_style = *name == old_name.as_bytes();
        let mut r = load_one(srv, name, old_style);
        if r == One::Ok || (r == One::Truncated && last) {
            log::notice(&format!(
                "DB loaded from {} file {}: {:.3} seconds",
                if is_base { "base" } else { "incr" },
                String::from_utf8_lossy(name),
                start.elapsed().as_secs_f64()
            ));
        }
        if r == One::Empty && !is_base {
            r = One::Ok;
        }
        if r == One::Truncated && !last {
            r = fail("Fatal error: the truncated file is not the last file".to_string());
        }
        match r {
            One::Failed(msg) => return Err(AofError { msg }),
            One::NotExist => {
                return Err(AofError {
                    msg: format!(
                        "The append log file {} doesn't exist",
                        String::from_utf8_lossy(name)
                    ),
                })
            }
            _ => {}
        }
    }
    Ok(base_size)
}

/// Reloads the AOF into an emptied dataset (DEBUG LOADAOF): the buffer is
/// written first so the files hold everything. Valkey exits when this
/// fails (the dataset is gone); the caller decides.
pub fn debug_loadaof(srv: &mut Server) -> Result<(), String> {
    if super::status() == Status::On {
        super::flush(srv, true);
    }
    for i in 0..srv.keyspace.dbs.len() {
        let old = srv.keyspace.dbs[i].take();
        crate::lazyfree::drop_db(old, false);
    }
    srv.persist.functions.clear();
    match load_aof_dir(srv) {
        Ok(_) => {
            srv.dirty = 0;
            log::notice("Append Only File loaded by DEBUG LOADAOF");
            Ok(())
        }
        Err(e) => Err(e.msg),
    }
}

/// Splits a buffer of RESP commands into their arguments (tests, tools).
pub fn parse_commands(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut src = Source { r: bytes, pos: 0 };
    let mut out = Vec::new();
    while let Ok(Some(args)) = src.command() {
        out.push(args.as_args().iter().map(|a| a.to_vec()).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_commands_and_skips_annotations() {
        let text =
            b"#TS:1700000000\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*1\r\n$5\r\nMULTI\r\n";
        assert_eq!(
            parse_commands(text),
            [
                vec![b"SET".to_vec(), b"k".to_vec(), b"".to_vec()],
                vec![b"MULTI".to_vec()]
            ]
        );
    }

    #[test]
    fn classifies_bad_input_like_valkey() {
        let kind = |b: &[u8]| {
            let mut s = Source { r: b, pos: 0 };
            match s.command() {
                Ok(Some(_)) => "cmd",
                Ok(None) => "end",
                Err(ReadErr::Eof) => "eof",
                Err(ReadErr::Format) => "format",
                Err(ReadErr::Io(_)) => "io",
            }
        };
        assert_eq!(kind(b""), "end");
        assert_eq!(kind(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), "cmd");
        // Cut anywhere inside a command: a short read.
        assert_eq!(kind(b"*"), "eof");
        assert_eq!(kind(b"*2"), "eof");
        assert_eq!(kind(b"*2\r\n$3\r\nGE"), "eof");
        assert_eq!(kind(b"*2\r\n$3\r\nGET"), "eof");
        assert_eq!(kind(b"*2\r\n$3\r\nGET\r\n"), "eof");
        // Not the protocol.
        assert_eq!(kind(b"SET k v\r\n"), "format");
        assert_eq!(kind(b"*0\r\n"), "format");
        assert_eq!(kind(b"*\r\n"), "format");
        assert_eq!(kind(b"*1\r\nGET\r\n"), "format");
        assert_eq!(kind(b"*1\r\n$-1\r\n"), "format");
    }

    #[test]
    fn offsets_count_consumed_bytes() {
        let text = b"*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPI";
        let mut s = Source {
            r: &text[..],
            pos: 0,
        };
        assert!(matches!(s.command(), Ok(Some(_))));
        assert_eq!(s.pos, 14);
        assert!(matches!(s.command(), Err(ReadErr::Eof)));
    }

    #[test]
    fn rdb_image_end_is_found_before_a_tail() {
        // Valkey's tests/assets/rdb-preamble.aof: k1 k2 in the RDB, then
        // "SELECT 0" and "set k3 v3".
        let mut rdb = b"REDIS0011\xfa\x09redis-ver\x057.2.4\xfe\x00\xfb\x02\x00\x00\x02k2\x02v2\x00\x02k1\x02v1\xff".to_vec();
        let crc = crc64(0, &rdb);
        rdb.extend_from_slice(&crc.to_le_bytes());
        let image = rdb.len();
        assert_eq!(rdb_image_len(&rdb), image);
        rdb.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n");
        assert_eq!(rdb_image_len(&rdb), image);
    }

    #[test]
    fn leading_int_is_atoi() {
        assert_eq!(leading_int(b"12\r\n"), 12);
        assert_eq!(leading_int(b"-3\r\n"), -3);
        assert_eq!(leading_int(b"x\r\n"), 0);
        assert_eq!(leading_int(b"99999999999999999999999\r\n"), i64::MAX);
    }
}
