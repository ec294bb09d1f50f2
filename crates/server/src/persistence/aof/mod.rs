//! The append-only file, in the multi-part layout of Redis 7 / Valkey 8.
//!
//! ```text
//! <dir>/<appenddirname>/
//!     appendonly.aof.manifest      the list of files (see manifest.rs)
//!     appendonly.aof.3.base.rdb    snapshot of the last rewrite (RDB, or
//!                                  commands when aof-use-rdb-preamble is no)
//!     appendonly.aof.5.incr.aof    commands since then, in RESP
//! ```
//!
//! The executor turns every change to the dataset into commands (see
//! `server::exec`, "propagation") and [`feed`]s them here: they are encoded
//! into an in-memory buffer, written with one `write` per event-loop round
//! before any reply of that round leaves (so a reply always follows its
//! write), and synced according to `appendfsync`: `always` fsyncs before the
//! replies go out, `everysec` hands the fsync to a background thread once a
//! second (fsync.rs), `no` leaves it to the kernel.
//!
//! BGREWRITEAOF forks a child that writes a new base from its snapshot of
//! the dataset (rewrite.rs) while the parent appends to a fresh incremental
//! file; when the child is done the manifest switches to the new base plus
//! that file, and the old files are deleted. Loading replays base then
//! incremental files through the command table (load.rs).
//!
//! The AOF state is per event-loop thread (a thread-local, [`with`]): the
//! `Server` struct is not this module's, and one thread owns a server.

pub mod fsync;
pub mod load;
pub mod manifest;
pub mod rewrite;

pub use load::{load_aof_dir, AofError, AofLoad};

use crate::config::AppendFsync;
use crate::persistence::child::{self, ChildKind};
use crate::server::net::log;
use crate::server::Server;
use manifest::Manifest;
use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Seconds between two logs of the same write error (Valkey's
/// `AOF_WRITE_LOG_ERROR_RATE`).
const WRITE_LOG_ERROR_RATE: i64 = 30;
/// Rewrites failing this many times in a row are delayed (Valkey's
/// `AOF_REWRITE_LIMITE_THRESHOLD` / `_MAX_MINUTES`).
const REWRITE_LIMIT_THRESHOLD: u64 = 3;
const REWRITE_LIMIT_MAX_MINUTES: i64 = 60;

/// An operation failed; why is in the log (as Valkey logs it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failed;

/// Valkey's `aof_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Off,
    On,
    /// Turned on at runtime: waiting for the first rewrite to produce a
    /// base; commands meanwhile go to a temporary incremental file.
    WaitRewrite,
}

/// Everything the AOF keeps between calls (Valkey's `server.aof_*`).
pub struct Aof {
    pub status: Status,
    /// Encoded commands not yet written (`aof_buf`).
    pub buf: Vec<u8>,
    /// Commands were fed since the last flush attempt: replies wait for it.
    unflushed: bool,
    /// The database the last fed command ran in: a SELECT is written when
    /// the next one differs. None forces one.
    selected_db: Option<usize>,
    /// The incremental file being appended to.
    file: Option<Arc<File>>,
    pub manifest: Manifest,
    manifest_loaded: bool,
    /// `aof_current_size`, `aof_rewrite_base_size`.
    pub current_size: u64,
    pub rewrite_base_size: u64,
    /// Size of the current incremental file, and how much of it is synced.
    last_incr_size: u64,
    last_incr_fsync_offset: u64,
    last_fsync_ms: i64,
    /// When a flush was first postponed for a running fsync, 0 if none.
    flush_postponed_start: i64,
    pub delayed_fsync: u64,
    last_write_ok: bool,
    last_write_errno: i32,
    last_write_error_log: i64,
    pub rewrite_scheduled: bool,
    /// Unix seconds the running rewrite started, and the last one's length.
    rewrite_time_start: i64,
    pub rewrite_time_last: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub consecutive_failures: u64,
    rewrite_use_rdb_preamble: bool,
    /// Pid of the rewrite child (its temp file is named after it).
    child_pid: i32,
    /// Last `#TS:` annotation written (aof-timestamp-enabled).
    cur_timestamp: i64,
    /// Rewrite back-off after repeated failures (`aofRewriteLimited`).
    limit_delay_minutes: i64,
    limit_next_rewrite: i64,
    pub bio: fsync::Bio,
}

impl Default for Aof {
    fn default() -> Aof {
        Aof {
            status: Status::Off,
            buf: Vec::new(),
            unflushed: false,
            selected_db: None,
            file: None,
            manifest: Manifest::default(),
            manifest_loaded: false,
            current_size: 0,
            rewrite_base_size: 0,
            last_incr_size: 0,
            last_incr_fsync_offset: 0,
            last_fsync_ms: 0,
            flush_postponed_start: 0,
            delayed_fsync: 0,
            last_write_ok: true,
            last_write_errno: 0,
            last_write_error_log: 0,
            rewrite_scheduled: false,
            rewrite_time_start: -1,
            rewrite_time_last: -1,
            last_bgrewrite_ok: true,
            rewrites: 0,
            consecutive_failures: 0,
            rewrite_use_rdb_preamble: true,
            child_pid: 0,
            cur_timestamp: 0,
            limit_delay_minutes: 0,
            limit_next_rewrite: 0,
            bio: fsync::Bio::default(),
        }
    }
}

thread_local! {
    static AOF: RefCell<Aof> = RefCell::new(Aof::default());
}

/// Runs `f` on this thread's AOF state. Never call it re-entrantly (the
/// functions of this module do not run commands while they hold it).
pub fn with<R>(f: impl FnOnce(&mut Aof) -> R) -> R {
    AOF.with(|a| f(&mut a.borrow_mut()))
}

/// Whether changes are being fed to the AOF (Valkey: `aof_state != OFF`).
/// The executor skips building the propagated stream when nothing needs it.
pub fn is_on() -> bool {
    AOF.with(|a| a.borrow().status != Status::Off)
}

pub fn status() -> Status {
    AOF.with(|a| a.borrow().status)
}

/// Whether commands were fed since the last write attempt: replies must
/// wait for [`before_sleep`]. (After a postponed or failed write they go
/// out anyway, as in Valkey: the data stays buffered for the retry.)
pub fn has_pending() -> bool {
    AOF.with(|a| a.borrow().unflushed)
}

/// The directory of the AOF files: `dir`/`appenddirname`.
pub fn aof_dir(srv: &Server) -> PathBuf {
    srv.config.dir.join(&srv.config.appenddirname)
}

/// The path of a file of the AOF directory.
pub fn file_path(srv: &Server, name: &[u8]) -> PathBuf {
    aof_dir(srv).join(std::ffi::OsStr::from_bytes(name))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `strerror`-style text of an OS error: Rust's message without its
/// " (os error N)" suffix, as Valkey's logs and MISCONF error show it.
pub fn strerror(e: &io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn errno_text(errno: i32) -> String {
    strerror(&io::Error::from_raw_os_error(errno))
}

// ---- the propagated stream --------------------------------------------------

/// Appends `argv` as a RESP array of bulk strings, the encoding of both the
/// AOF and the replication stream (Valkey's `catAppendOnlyGenericCommand`).
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, argv: &[A]) {
    encode_iter(out, argv.iter().map(|a| a.as_ref()));
}

/// [`encode_command`] for any exact-size sequence of arguments (a
/// command's `Args` without copying them first).
pub fn encode_iter<'a>(out: &mut Vec<u8>, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    let mut num = itoa_buf();
    out.push(b'*');
    out.extend_from_slice(fmt_usize(&mut num, argv.len()));
    out.extend_from_slice(b"\r\n");
    for a in argv {
        out.push(b'$');
        out.extend_from_slice(fmt_usize(&mut num, a.len()));
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

fn fmt_usize(buf: &mut [u8; 20], v: usize) -> &[u8] {
    crate::util::num::u64_to_buf(v as u64, buf)
}

/// Feeds one propagated command, run in database `db` (None: database
/// neutral, as MULTI and EXEC), to the AOF buffer (Valkey's
/// `feedAppendOnlyFile`). Commands are kept while the AOF is on, or while a
/// first rewrite runs (they go to the temporary incremental file).
pub fn feed<A: AsRef<[u8]>>(srv: &Server, db: Option<usize>, argv: &[A]) {
    feed_with(srv, db, |buf| encode_command(buf, argv));
}

/// [`feed`] of a command's own arguments.
pub fn feed_args(srv: &Server, db: Option<usize>, args: &crate::resp::Args<'_>) {
    feed_with(srv, db, |buf| encode_iter(buf, args.iter()));
}

fn feed_with(srv: &Server, db: Option<usize>, encode: impl FnOnce(&mut Vec<u8>)) {
    let child_is_aof = srv.child.as_ref().is_some_and(|c| c.kind == ChildKind::Aof);
    let ts = srv.config.aof_timestamp_enabled;
    let unix = srv.now.ms / 1000;
    with(|a| {
        let keep = a.status == Status::On || (a.status == Status::WaitRewrite && child_is_aof);
        if !keep {
            return;
        }
        if ts && a.cur_timestamp < unix {
            a.cur_timestamp = unix;
            a.buf
                .extend_from_slice(format!("#TS:{unix}\r\n").as_bytes());
        }
        if let Some(db) = db {
            if a.selected_db != Some(db) {
                let n = db.to_string();
                encode_command(&mut a.buf, &[b"SELECT".as_slice(), n.as_bytes()]);
                a.selected_db = Some(db);
            }
        }
        encode(&mut a.buf);
        a.unflushed = a.file.is_some();
    });
}

// ---- writing and syncing ----------------------------------------------------

/// What a flush needs to know about the server.
struct FlushEnv {
    now_ms: i64,
    policy: AppendFsync,
    child_active: bool,
    no_fsync_on_rewrite: bool,
}

/// Latency events a flush measured, recorded once the AOF state is released.
type Samples = Vec<(&'static str, u64)>;

/// Writes `buf` fully, retrying short writes and interruptions (Valkey's
/// `aofWrite`): the bytes written, and the error that stopped it, if any.
fn write_fully(mut f: &File, buf: &[u8]) -> (usize, Option<io::Error>) {
    let mut done = 0;
    while done < buf.len() {
        match f.write(&buf[done..]) {
            Ok(0) => return (done, Some(io::Error::from_raw_os_error(libc::ENOSPC))),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

impl Aof {
    /// Valkey's `flushAppendOnlyFile`: writes the buffer, then fsyncs as
    /// `appendfsync` says. `force` writes even while a background fsync
    /// runs.
    fn flush(&mut self, env: &FlushEnv, force: bool, samples: &mut Samples) {
        let Some(file) = self.file.clone() else {
            return;
        };
        let mut sync_in_progress = false;
        if self.buf.is_empty() {
            // Nothing to write, but data written earlier may still need
            // its fsync: everysec once its second is over, always when the
            // policy just changed to it.
            let unsynced = self.last_incr_fsync_offset != self.last_incr_size;
            let due = match env.policy {
                AppendFsync::EverySec => {
                    unsynced && env.now_ms - self.last_fsync_ms >= 1000 && {
                        sync_in_progress = self.bio.pending() > 0;
                        !sync_in_progress
                    }
                }
                AppendFsync::Always => unsynced,
                AppendFsync::No => false,
            };
            if due {
                self.try_fsync(&file, env, sync_in_progress, samples);
            }
            return;
        }
        if env.policy == AppendFsync::EverySec {
            sync_in_progress = self.bio.pending() > 0;
        }
        if env.policy == AppendFsync::EverySec && !force && sync_in_progress {
            // A write now could block behind the fsync: wait for it up to
            // two seconds, as Valkey does.
            if self.flush_postponed_start == 0 {
                self.flush_postponed_start = env.now_ms;
                return;
            } else if env.now_ms - self.flush_postponed_start < 2000 {
                return;
            }
            self.delayed_fsync += 1;
            log::notice(
                "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer \
                 without waiting for fsync to complete, this may slow down the server.",
            );
        }
        let start = std::time::Instant::now();
        let (written, err) = write_fully(&file, &self.buf);
        let ms = start.elapsed().as_millis() as u64;
        let event = if sync_in_progress {
            "aof-write-pending-fsync"
        } else if env.child_active {
            "aof-write-active-child"
        } else {
            "aof-write-alone"
        };
        samples.push((event, ms));
        samples.push(("aof-write", ms));
        self.flush_postponed_start = 0;
        if let Some(e) = err {
            let unix = env.now_ms / 1000;
            let can_log = unix - self.last_write_error_log > WRITE_LOG_ERROR_RATE;
            if can_log {
                self.last_write_error_log = unix;
            }
            let mut written = written;
            if written == 0 {
                if can_log {
                    log::warning(&format!("Error writing to the AOF file: {}", strerror(&e)));
                }
                self.last_write_errno = e.raw_os_error().unwrap_or(libc::EIO);
            } else {
                if can_log {
                    log::warning(&format!(
                        "Short write while writing to the AOF file: (nwritten={written}, expected={})",
                        self.buf.len()
                    ));
                }
                // Take the partial command back out of the file, so the
                // file never ends in the middle of one.
                match file.set_len(self.last_incr_size) {
                    Ok(()) => written = 0,
                    Err(te) => {
                        if can_log {
                            log::warning(&format!(
                                "Could not remove short write from the append-only file. The server \
                                 may refuse to load the AOF the next time it starts.  ftruncate: {}",
                                strerror(&te)
                            ));
                        }
                    }
                }
                self.last_write_errno = libc::ENOSPC;
            }
            if env.policy == AppendFsync::Always {
                // The replies of these commands are about to go out: with
                // `always` they must not go out unless on disk, and the
                // changes cannot be undone.
                log::warning(
                    "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...",
                );
                std::process::exit(1);
            }
            // Keep the data and refuse writes until a flush succeeds.
            self.last_write_ok = false;
            if written > 0 {
                self.current_size += written as u64;
                self.last_incr_size += written as u64;
                self.buf.drain(..written);
            }
            return;
        }
        if !self.last_write_ok {
            log::notice("AOF write error looks solved. The server can write again.");
            self.last_write_ok = true;
        }
        self.current_size += written as u64;
        self.last_incr_size += written as u64;
        // Keep a small buffer for the next round, give back a big one.
        if self.buf.capacity() < 64 * 1024 {
            self.buf.clear();
        } else {
            self.buf = Vec::new();
        }
        self.try_fsync(&file, env, sync_in_progress, samples);
    }

    fn try_fsync(
        &mut self,
        file: &Arc<File>,
        env: &FlushEnv,
        sync_in_progress: bool,
        samples: &mut Samples,
    ) {
        // no-appendfsync-on-rewrite: leave the disk to the child.
        if env.no_fsync_on_rewrite && env.child_active {
            return;
        }
        match env.policy {
            AppendFsync::Always => {
                let start = std::time::Instant::now();
                if let Err(e) = file.sync_data() {
                    log::warning(&format!(
                        "Can't persist AOF for fsync error when the AOF fsync policy is 'always': {}. Exiting...",
                        strerror(&e)
                    ));
                    std::process::exit(1);
                }
                samples.push(("aof-fsync-always", start.elapsed().as_millis() as u64));
                self.last_incr_fsync_offset = self.last_incr_size;
                self.last_fsync_ms = env.now_ms;
            }
            AppendFsync::EverySec if env.now_ms - self.last_fsync_ms >= 1000 => {
                if !sync_in_progress {
                    self.bio.fsync(file);
                    self.last_incr_fsync_offset = self.last_incr_size;
                }
                self.last_fsync_ms = env.now_ms;
            }
            _ => {}
        }
    }

    /// Whether writes must be refused: the last write or background fsync
    /// failed (`writeCommandsDeniedByDiskError`). The errno to report.
    fn write_error(&self) -> Option<i32> {
        if self.status == Status::Off {
            return None;
        }
        if !self.last_write_ok {
            return Some(self.last_write_errno);
        }
        match self.bio.status() {
            (false, errno) => Some(errno),
            _ => None,
        }
    }
}

fn flush_env(srv: &Server) -> FlushEnv {
    FlushEnv {
        now_ms: srv.now.ms,
        policy: srv.config.appendfsync,
        child_active: srv.child.is_some(),
        no_fsync_on_rewrite: srv.config.no_appendfsync_on_rewrite,
    }
}

/// Writes (and syncs, per policy) the buffer. `force` ignores a running
/// background fsync.
pub fn flush(srv: &mut Server, force: bool) {
    let env = flush_env(srv);
    let mut samples = Samples::new();
    with(|a| {
        a.unflushed = false;
        if a.status != Status::Off {
            a.flush(&env, force, &mut samples)
        }
    });
    for (event, ms) in samples {
        srv.latency_add_sample_if_needed(event, ms);
    }
}

/// Valkey's `beforeSleep` part: called before replies are written, so
/// every reply follows the write of its command (and its fsync with
/// `appendfsync always`). Cheap when there is nothing to write.
pub fn before_sleep(srv: &mut Server) {
    if has_pending() {
        flush(srv, false);
    }
}

/// The MISCONF error writes get while the AOF cannot be written, if any.
pub fn write_error_reply() -> Option<Vec<u8>> {
    with(|a| a.write_error()).map(|errno| {
        format!(
            "MISCONF Errors writing to the AOF file: {}",
            errno_text(errno)
        )
        .into_bytes()
    })
}

// ---- the manifest on disk ---------------------------------------------------

fn manifest_name(srv: &Server) -> String {
    format!("{}.manifest", srv.config.appendfilename)
}

/// Writes the manifest if it changed: to a temporary file, fsynced,
/// renamed over the old one, and the directory fsynced (Valkey's
/// `persistAofManifest`).
fn persist_manifest(srv: &Server, am: &mut Manifest) -> io::Result<()> {
    if !am.dirty {
        return Ok(());
    }
    let name = manifest_name(srv);
    let tmp_name = format!("temp-{name}");
    let dir = aof_dir(srv);
    let tmp = dir.join(&tmp_name);
    let path = dir.join(&name);
    let result = (|| {
        let mut f = File::create(&tmp).inspect_err(|e| {
            log::warning(&format!(
                "Can't open the AOF manifest file {tmp_name}: {}",
                strerror(e)
            ))
        })?;
        f.write_all(&am.to_bytes()).inspect_err(|e| {
            log::warning(&format!(
                "Error trying to write the temporary AOF manifest file {tmp_name}: {}",
                strerror(e)
            ))
        })?;
        f.sync_data().inspect_err(|e| {
            log::warning(&format!(
                "Fail to fsync the temp AOF file {tmp_name}: {}.",
                strerror(e)
            ))
        })?;
        std::fs::rename(&tmp, &path).inspect_err(|e| {
            log::warning(&format!(
                "Error trying to rename the temporary AOF manifest file {tmp_name} into {name}: {}",
                strerror(e)
            ))
        })?;
        fsync_dir(&dir).inspect_err(|e| {
            log::warning(&format!(
                "Fail to fsync AOF directory {}: {}.",
                path.display(),
                strerror(e)
            ))
        })
    })();
    if result.is_ok() {
        am.dirty = false;
    }
    result
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn create_dir(srv: &Server) -> io::Result<()> {
    let dir = aof_dir(srv);
    std::fs::create_dir_all(&dir).inspect_err(|e| {
        log::warning(&format!(
            "Can't open or create append-only dir {}: {}",
            srv.config.appenddirname,
            strerror(e)
        ))
    })
}

/// Reads the manifest from disk once (Valkey's `aofLoadManifestFromDisk`):
/// no directory or no manifest is an empty manifest (a fresh start, or an
/// old single-file AOF to upgrade); an unreadable or invalid one is fatal.
pub fn load_manifest(srv: &Server) -> Result<(), AofError> {
    if with(|a| a.manifest_loaded) {
        return Ok(());
    }
    let path = aof_dir(srv).join(manifest_name(srv));
    let am = match std::fs::read(&path) {
        Ok(bytes) => Manifest::parse(&bytes).map_err(|e| {
            let lines = e.log_lines();
            for l in &lines {
                log::warning(l);
            }
            AofError {
                msg: e.msg.to_string(),
            }
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Manifest::default(),
        Err(e) => {
            let msg = format!(
                "Fatal error: can't open the AOF manifest file {} for reading: {}",
                path.display(),
                strerror(&e)
            );
            log::warning(&msg);
            return Err(AofError { msg });
        }
    };
    with(|a| {
        a.manifest = am;
        a.manifest_loaded = true;
    });
    Ok(())
}

/// Deletes the history files in the background and drops them from the
/// manifest (Valkey's `aofDelHistoryFiles`), unless `aof-disable-auto-gc`.
pub fn delete_history(srv: &Server) {
    if srv.config.aof_disable_auto_gc {
        return;
    }
    let mut am = with(|a| a.manifest.clone());
    if am.history.is_empty() {
        return;
    }
    for f in std::mem::take(&mut am.history) {
        log::notice(&format!(
            "Removing the history file {} in the background",
            String::from_utf8_lossy(&f.name)
        ));
        bg_unlink(file_path(srv, &f.name));
    }
    am.dirty = true;
    let _ = persist_manifest(srv, &mut am);
    with(|a| a.manifest = am);
}

/// Unlinks a file off the event loop: deleting a big file can take long.
fn bg_unlink(path: PathBuf) {
    let spawned = std::thread::Builder::new()
        .name("bio_unlink".into())
        .spawn({
            let path = path.clone();
            move || {
                let _ = std::fs::remove_file(path);
            }
        });
    if spawned.is_err() {
        let _ = std::fs::remove_file(path);
    }
}

// ---- start-up ---------------------------------------------------------------

/// Valkey's `aofOpenIfNeededOnServerStart`, after the dataset is loaded:
/// with `appendonly yes`, creates the directory, writes a base file from
/// the current dataset when the manifest lists no file, opens (or creates)
/// the last incremental file for appending and saves the manifest. Then
/// history files left by an interrupted rewrite are deleted. Any error is
/// fatal for the server.
pub fn open_at_startup(srv: &mut Server) -> io::Result<()> {
    load_manifest(srv).map_err(|e| io::Error::other(e.msg))?;
    if !srv.config.appendonly {
        return Ok(());
    }
    with(|a| a.status = Status::On);
    sync_expire_logging(srv);
    create_dir(srv)?;
    let prefix = srv.config.appendfilename.clone();
    let mut am = with(|a| a.manifest.clone());
    let had_incr = !am.incr.is_empty();
    if am.is_empty() {
        let base = am.new_base(&prefix, srv.config.aof_use_rdb_preamble);
        let path = file_path(srv, &base);
        rewrite::rewrite_to(srv, &path, &rewrite::Options::of(srv), std::process::id())
            .inspect_err(|e| {
                log::warning(&format!(
                    "Write error writing append only file on disk: {}",
                    strerror(e)
                ))
            })?;
        log::notice(&format!(
            "Creating AOF base file {} on server start",
            String::from_utf8_lossy(&base)
        ));
    }
    let name = am.last_incr(&prefix);
    let path = file_path(srv, &name);
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .inspect_err(|e| {
            log::warning(&format!(
                "Can't open the append-only file {}: {}",
                String::from_utf8_lossy(&name),
                strerror(e)
            ))
        })?;
    persist_manifest(srv, &mut am)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let base_size = am
        .base
        .as_ref()
        .and_then(|b| std::fs::metadata(file_path(srv, &b.name)).ok())
        .map_or(0, |m| m.len());
    let now = srv.now.ms;
    with(|a| {
        a.manifest = am;
        a.file = Some(Arc::new(file));
        a.last_incr_size = size;
        a.last_incr_fsync_offset = size;
        a.last_fsync_ms = now;
        if a.current_size == 0 {
            // Nothing was loaded (a fresh start): the files are the base
            // just written and an empty incremental file.
            a.current_size = base_size + size;
            a.rewrite_base_size = base_size;
        }
    });
    let name = String::from_utf8_lossy(&name);
    if had_incr {
        log::notice(&format!("Opening AOF incr file {name} on server start"));
    } else {
        log::notice(&format!("Creating AOF incr file {name} on server start"));
    }
    delete_history(srv);
    Ok(())
}

/// Keeps the databases' record of lazily expired keys on while the AOF is
/// on: each one is propagated as a DEL (or UNLINK).
pub fn sync_expire_logging(srv: &mut Server) {
    let on = is_on();
    for db in &mut srv.keyspace.dbs {
        db.propagate_expired = on;
    }
}

// ---- turning the AOF on and off at runtime ----------------------------------

/// CONFIG SET appendonly no (Valkey's `stopAppendOnly`): the buffer is
/// written and synced, the file closed, a scheduled or running rewrite
/// cancelled.
pub fn stop(srv: &mut Server) {
    if status() == Status::Off {
        return;
    }
    flush(srv, true);
    let now = srv.now.ms;
    with(|a| {
        if let Some(f) = a.file.take() {
            match f.sync_data() {
                Ok(()) => a.last_fsync_ms = now,
                Err(e) => log::warning(&format!("Fail to fsync the AOF file: {}", strerror(&e))),
            }
        }
        a.selected_db = None;
        a.status = Status::Off;
        if a.rewrite_scheduled {
            a.rewrite_scheduled = false;
            log::notice("AOF was disabled but there is a scheduled AOF background, cancel it.");
        }
        a.last_incr_size = 0;
        a.last_incr_fsync_offset = 0;
        a.buf = Vec::new();
    });
    kill_child(srv);
    sync_expire_logging(srv);
}

/// CONFIG SET appendonly yes (Valkey's `startAppendOnly`): a rewrite makes
/// the first base; until it is done, commands go to a temporary file.
/// `in_exec`: called from inside a transaction, where a fork must wait.
pub fn start(srv: &mut Server, in_exec: bool) -> Result<(), Failed> {
    if status() != Status::Off {
        return Ok(());
    }
    if load_manifest(srv).is_err() {
        return Err(Failed);
    }
    with(|a| a.status = Status::WaitRewrite);
    let other_child = srv.child.as_ref().is_some_and(|c| c.kind != ChildKind::Aof);
    if other_child {
        with(|a| a.rewrite_scheduled = true);
        log::notice(
            "AOF was enabled but there is already another background operation. An AOF background \
             was scheduled to start when possible.",
        );
    } else if in_exec {
        with(|a| a.rewrite_scheduled = true);
        log::notice(
            "AOF was enabled during a transaction. An AOF background was scheduled to start when possible.",
        );
    } else {
        if srv.child.is_some() {
            log::notice(
                "AOF was enabled but there is already an AOF rewriting in background. Stopping \
                 background AOF and starting a rewrite now.",
            );
            kill_child(srv);
        }
        if rewrite_background(srv).is_err() {
            with(|a| a.status = Status::Off);
            log::warning(
                "The server needs to enable the AOF but can't trigger a background AOF rewrite \
                 operation. Check the above logs for more info about the error.",
            );
            return Err(Failed);
        }
    }
    let now = srv.now.ms;
    with(|a| {
        a.last_fsync_ms = now;
        if !a.bio.status().0 {
            log::warning("AOF reopen, just ignore the AOF fsync error in bio job");
            a.bio.clear_error();
        }
        if !a.last_write_ok {
            log::warning("AOF reopen, just ignore the last error.");
            a.last_write_ok = true;
        }
    });
    sync_expire_logging(srv);
    Ok(())
}

/// Applies a CONFIG SET of `appendonly` (Valkey's `updateAppendonly`): the
/// CONFIG SET error text on failure.
pub fn apply_appendonly(srv: &mut Server, in_exec: bool) -> Result<(), String> {
    let on = srv.config.appendonly;
    match status() {
        Status::Off if on => {
            start(srv, in_exec).map_err(|_| "Unable to turn on AOF. Check server logs.".to_string())
        }
        Status::On | Status::WaitRewrite if !on => {
            stop(srv);
            Ok(())
        }
        _ => Ok(()),
    }
}

// ---- background rewrite -----------------------------------------------------

/// The name of the temporary incremental file used while the AOF waits for
/// its first rewrite.
fn temp_incr_name(srv: &Server) -> Vec<u8> {
    format!("temp-{}.incr", srv.config.appendfilename).into_bytes()
}

/// Where the rewrite child `pid` leaves its new base.
fn child_temp_file(srv: &Server, pid: i32) -> PathBuf {
    srv.config.dir.join(format!("temp-rewriteaof-bg-{pid}.aof"))
}

/// Switches appending to a new incremental file when a rewrite starts
/// (Valkey's `openNewIncrAofForAppend`): the commands after the fork must
/// not go to a file the new base replaces.
fn open_new_incr_for_append(srv: &Server) -> io::Result<()> {
    let (status, mut am) = with(|a| (a.status, a.manifest.clone()));
    if status == Status::Off {
        return Ok(());
    }
    let (name, update) = if status == Status::WaitRewrite {
        (temp_incr_name(srv), false)
    } else {
        (am.new_incr(&srv.config.appendfilename), true)
    };
    let shown = String::from_utf8_lossy(&name).into_owned();
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(file_path(srv, &name))
        .inspect_err(|e| {
            log::warning(&format!(
                "Can't open the append-only file {shown}: {}",
                strerror(e)
            ))
        })?;
    if update {
        persist_manifest(srv, &mut am)?;
    }
    log::notice(&format!(
        "Creating AOF incr file {shown} on background rewrite"
    ));
    let now = srv.now.ms;
    with(|a| {
        if let Some(old) = a.file.take() {
            // Already written; its last fsync can happen off the loop.
            a.bio.fsync_and_close(old);
            a.last_fsync_ms = now;
        }
        a.file = Some(Arc::new(file));
        a.last_incr_size = 0;
        a.last_incr_fsync_offset = 0;
        if update {
            a.manifest = am;
        }
    });
    Ok(())
}

/// Valkey's `aofRewriteLimited`: after three failures in a row, automatic
/// rewrites wait 1, 2, 4 ... up to 60 minutes.
fn rewrite_limited() -> bool {
    let now = unix_now();
    with(|a| {
        if a.consecutive_failures < REWRITE_LIMIT_THRESHOLD {
            a.limit_delay_minutes = 0;
            a.limit_next_rewrite = 0;
            return false;
        }
        if a.limit_next_rewrite != 0 {
            if now < a.limit_next_rewrite {
                return true;
            }
            a.limit_next_rewrite = 0;
            return false;
        }
        a.limit_delay_minutes = if a.limit_delay_minutes == 0 {
            1
        } else {
            (a.limit_delay_minutes * 2).min(REWRITE_LIMIT_MAX_MINUTES)
        };
        a.limit_next_rewrite = now + a.limit_delay_minutes * 60;
        log::warning(&format!(
            "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
            a.limit_delay_minutes
        ));
        true
    })
}

/// Starts a background rewrite (Valkey's `rewriteAppendOnlyFileBackground`):
/// the buffer is written, appending moves to a new incremental file, and a
/// forked child writes the new base from its snapshot. The child's pid.
pub fn rewrite_background(srv: &mut Server) -> Result<i32, Failed> {
    if srv.child.is_some() {
        return Err(Failed);
    }
    let fail = || with(|a| a.last_bgrewrite_ok = false);
    if create_dir(srv).is_err() {
        fail();
        return Err(Failed);
    }
    // The new incremental file starts with a SELECT.
    with(|a| a.selected_db = None);
    flush(srv, true);
    if open_new_incr_for_append(srv).is_err() {
        fail();
        return Err(Failed);
    }
    if status() == Status::WaitRewrite {
        with(|a| a.bio.drain());
    }
    with(|a| a.rewrites += 1);
    let opts = rewrite::Options::of(srv);
    let dir = srv.config.dir.clone();
    let spawned = child::spawn(srv, ChildKind::Aof, move |srv| {
        let pid = std::process::id();
        let tmp = dir.join(format!("temp-rewriteaof-bg-{pid}.aof"));
        match rewrite::rewrite_to(srv, &tmp, &opts, pid) {
            Ok(()) => {
                log::notice(&format!(
                    "Successfully created the temporary AOF base file temp-rewriteaof-bg-{pid}.aof"
                ));
                true
            }
            Err(e) => {
                log::warning(&format!(
                    "Write error writing append only file on disk: {}",
                    strerror(&e)
                ));
                false
            }
        }
    });
    match spawned {
        Ok(pid) => {
            log::notice(&format!(
                "Background append only file rewriting started by pid {pid}"
            ));
            let preamble = srv.config.aof_use_rdb_preamble;
            with(|a| {
                a.rewrite_scheduled = false;
                a.rewrite_time_start = unix_now();
                a.rewrite_use_rdb_preamble = preamble;
                a.child_pid = pid;
            });
            Ok(pid)
        }
        Err(e) => {
            fail();
            log::warning(&format!(
                "Can't rewrite append only file in background: fork: {}",
                strerror(&e)
            ));
            Err(Failed)
        }
    }
}

/// What BGREWRITEAOF did.
#[derive(Debug, PartialEq, Eq)]
pub enum BgRewrite {
    Started,
    Scheduled,
    AlreadyInProgress,
    Failed,
}

/// BGREWRITEAOF (Valkey's `bgrewriteaofCommand`). `in_exec`: inside a
/// transaction, where the fork waits for the cron.
pub fn bgrewriteaof(srv: &mut Server, in_exec: bool) -> BgRewrite {
    if srv.child.as_ref().is_some_and(|c| c.kind == ChildKind::Aof) {
        return BgRewrite::AlreadyInProgress;
    }
    if load_manifest(srv).is_err() {
        return BgRewrite::Failed;
    }
    if srv.child.is_some() || in_exec {
        with(|a| {
            a.rewrite_scheduled = true;
            // A manual rewrite is not held back by past failures.
            a.consecutive_failures = 0;
        });
        log::notice("Background append only file rewriting scheduled.");
        return BgRewrite::Scheduled;
    }
    match rewrite_background(srv) {
        Ok(_) => BgRewrite::Started,
        Err(Failed) => BgRewrite::Failed,
    }
}

/// Kills a running rewrite child and removes its temporary files (Valkey's
/// `killAppendOnlyChild`).
pub fn kill_child(srv: &mut Server) {
    if !srv.child.as_ref().is_some_and(|c| c.kind == ChildKind::Aof) {
        return;
    }
    let pid = srv.child.as_ref().map_or(0, |c| c.pid);
    log::notice(&format!("Killing running AOF rewrite child: {pid}"));
    child::kill(srv);
    remove_child_temp_files(srv, pid);
    with(|a| a.rewrite_time_start = -1);
}

fn remove_child_temp_files(srv: &Server, pid: i32) {
    bg_unlink(child_temp_file(srv, pid));
    bg_unlink(srv.config.dir.join(format!("temp-rewriteaof-{pid}.aof")));
}

/// Reaps a finished rewrite child and handles its result. The cron calls
/// this before the generic child handling (which then finds no AOF child).
pub fn reap_child(srv: &mut Server) {
    if !srv.child.as_ref().is_some_and(|c| c.kind == ChildKind::Aof) {
        return;
    }
    if let Some(done) = child::try_reap(srv) {
        srv.persist.aof_last_cow_size = done.cow_bytes;
        rewrite_done(srv, done.ok);
    }
}

/// A rewrite child ended (Valkey's `backgroundRewriteDoneHandler`). On
/// success: the child's file becomes the new base, the incremental files
/// it covers become history (and are deleted), the manifest is saved, and
/// an AOF waiting for its first rewrite is on.
pub fn rewrite_done(srv: &mut Server, ok: bool) {
    let pid = with(|a| a.child_pid);
    if ok {
        log::notice("Background AOF rewrite terminated with success");
        if install_rewrite(srv, pid).is_err() {
            with(|a| {
                a.last_bgrewrite_ok = false;
                a.consecutive_failures += 1;
            });
        }
    } else {
        with(|a| {
            a.last_bgrewrite_ok = false;
            a.consecutive_failures += 1;
        });
        log::warning("Background AOF rewrite terminated with error");
    }
    remove_child_temp_files(srv, pid);
    let waiting = status() == Status::WaitRewrite;
    if waiting {
        // The first rewrite failed: drop what was kept for it and try again.
        with(|a| a.buf = Vec::new());
        log::notice(&format!(
            "Removing the temp incr aof file {} in the background",
            String::from_utf8_lossy(&temp_incr_name(srv))
        ));
        bg_unlink(file_path(srv, &temp_incr_name(srv)));
    }
    let now = unix_now();
    with(|a| {
        if a.rewrite_time_start >= 0 {
            a.rewrite_time_last = now - a.rewrite_time_start;
        }
        a.rewrite_time_start = -1;
        if waiting {
            a.rewrite_scheduled = true;
        }
    });
}

/// The success half of [`rewrite_done`]; Err leaves the old files in use.
fn install_rewrite(srv: &mut Server, pid: i32) -> Result<(), Failed> {
    let tmp = child_temp_file(srv, pid);
    let tmp_name = format!("temp-rewriteaof-bg-{pid}.aof");
    let (mut am, status, preamble) =
        with(|a| (a.manifest.clone(), a.status, a.rewrite_use_rdb_preamble));
    let prefix = srv.config.appendfilename.clone();
    let base = am.new_base(&prefix, preamble);
    let base_path = file_path(srv, &base);
    let base_shown = String::from_utf8_lossy(&base).into_owned();
    let start = std::time::Instant::now();
    if let Err(e) = std::fs::rename(&tmp, &base_path) {
        log::warning(&format!(
            "Error trying to rename the temporary AOF base file {tmp_name} into {}: {}",
            base_path.display(),
            strerror(&e)
        ));
        return Err(Failed);
    }
    srv.latency_add_sample_if_needed("aof-rename", start.elapsed().as_millis() as u64);
    log::notice(&format!(
        "Successfully renamed the temporary AOF base file {tmp_name} into {base_shown}"
    ));
    let mut new_incr_path = None;
    if status == Status::WaitRewrite {
        let temp_incr = temp_incr_name(srv);
        let from = file_path(srv, &temp_incr);
        let incr = am.new_incr(&prefix);
        let to = file_path(srv, &incr);
        if let Err(e) = std::fs::rename(&from, &to) {
            log::warning(&format!(
                "Error trying to rename the temporary AOF incr file {} into {}: {}",
                from.display(),
                to.display(),
                strerror(&e)
            ));
            bg_unlink(base_path);
            return Err(Failed);
        }
        log::notice(&format!(
            "Successfully renamed the temporary AOF incr file {} into {}",
            String::from_utf8_lossy(&temp_incr),
            String::from_utf8_lossy(&incr)
        ));
        new_incr_path = Some(to);
    }
    let open = with(|a| a.file.is_some());
    am.mark_rewritten_incr_as_history(open);
    if persist_manifest(srv, &mut am).is_err() {
        bg_unlink(base_path);
        if let Some(p) = new_incr_path {
            bg_unlink(p);
        }
        return Err(Failed);
    }
    let base_size = std::fs::metadata(&base_path).map_or(0, |m| m.len());
    with(|a| {
        a.manifest = am;
        if a.status != Status::Off {
            a.current_size = base_size + a.last_incr_size;
            a.rewrite_base_size = a.current_size;
        }
    });
    delete_history(srv);
    with(|a| {
        a.last_bgrewrite_ok = true;
        a.consecutive_failures = 0;
    });
    log::notice("Background AOF rewrite finished successfully");
    with(|a| {
        if a.status == Status::WaitRewrite {
            a.status = Status::On;
        }
    });
    Ok(())
}

// ---- periodic work ----------------------------------------------------------

/// The cron's part (from Valkey's `serverCron`): a scheduled rewrite, an
/// automatic rewrite on growth, a postponed flush, the everysec fsync of
/// data already written, and retrying after a write error.
pub fn cron(srv: &mut Server) {
    let (state, scheduled) = with(|a| (a.status, a.rewrite_scheduled));
    if srv.child.is_none() && scheduled && !rewrite_limited() {
        let _ = rewrite_background(srv);
    }
    let perc = srv.config.auto_aof_rewrite_percentage as u64;
    if state == Status::On && srv.child.is_none() && perc > 0 {
        let (current, base) = with(|a| (a.current_size, a.rewrite_base_size));
        if current > srv.config.auto_aof_rewrite_min_size {
            let base = if base == 0 { 1 } else { base };
            let growth = (current * 100 / base) as i64 - 100;
            if growth >= perc as i64 && !rewrite_limited() {
                log::notice(&format!(
                    "Starting automatic rewriting of AOF on {growth}% growth"
                ));
                let _ = rewrite_background(srv);
            }
        }
    }
    if status() != Status::Off {
        // Also covers the postponed flush and the retry after an error:
        // both are the same call.
        flush(srv, false);
    }
}

/// Before the server exits (Valkey's `prepareForShutdown` part): a rewrite
/// child is killed, but while the AOF waits for its first rewrite the
/// server must not exit unless forced (the dataset exists nowhere else).
/// Then the buffer is written and the file synced. False: do not exit.
pub fn prepare_for_shutdown(srv: &mut Server, force: bool) -> bool {
    if srv.child.as_ref().is_some_and(|c| c.kind == ChildKind::Aof) {
        if status() == Status::WaitRewrite {
            if force {
                log::warning("Writing initial AOF. Exit anyway.");
            } else {
                log::warning("Writing initial AOF, can't exit.");
                return false;
            }
        }
        log::warning("There is a child rewriting the AOF. Killing it!");
        kill_child(srv);
    }
    flush_and_sync_at_exit(srv);
    true
}

/// Writes the buffer and fsyncs the file (at exit; harmless to repeat).
pub fn flush_and_sync_at_exit(srv: &mut Server) {
    if status() == Status::Off {
        return;
    }
    log::notice("Calling fsync() on the AOF file.");
    flush(srv, true);
    with(|a| {
        if let Some(f) = &a.file {
            if let Err(e) = f.sync_data() {
                log::warning(&format!("Fail to fsync the AOF file: {}.", strerror(&e)));
            }
            a.last_incr_fsync_offset = a.last_incr_size;
        }
    });
}

// ---- INFO -------------------------------------------------------------------

/// The AOF fields of INFO persistence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub enabled: bool,
    pub rewrite_in_progress: bool,
    pub rewrite_scheduled: bool,
    pub last_rewrite_time_sec: i64,
    pub current_rewrite_time_sec: i64,
    pub last_bgrewrite_ok: bool,
    pub rewrites: u64,
    pub rewrites_consecutive_failures: u64,
    pub last_write_ok: bool,
    /// The rest is shown only with `appendonly yes`.
    pub current_size: u64,
    pub base_size: u64,
    pub buffer_length: usize,
    pub pending_bio_fsync: usize,
    pub delayed_fsync: u64,
}

pub fn info(srv: &Server) -> Info {
    let in_progress = srv.child.as_ref().is_some_and(|c| c.kind == ChildKind::Aof);
    let now = unix_now();
    with(|a| Info {
        enabled: a.status != Status::Off,
        rewrite_in_progress: in_progress,
        rewrite_scheduled: a.rewrite_scheduled,
        last_rewrite_time_sec: a.rewrite_time_last,
        current_rewrite_time_sec: if in_progress && a.rewrite_time_start >= 0 {
            now - a.rewrite_time_start
        } else {
            -1
        },
        last_bgrewrite_ok: a.last_bgrewrite_ok,
        rewrites: a.rewrites,
        rewrites_consecutive_failures: a.consecutive_failures,
        last_write_ok: a.last_write_ok && a.bio.status().0,
        current_size: a.current_size,
        base_size: a.rewrite_base_size,
        buffer_length: a.buf.len(),
        pending_bio_fsync: a.bio.pending(),
        delayed_fsync: a.delayed_fsync,
    })
}

/// Bytes held by the AOF buffer (`mem_aof_buffer`).
pub fn buffer_memory() -> usize {
    AOF.with(|a| a.borrow().buf.capacity())
}

// ---- tests support ----------------------------------------------------------

/// Unit tests: turns the AOF "on" without a file, so the propagated stream
/// stays in the buffer for [`take_captured`].
#[cfg(test)]
pub fn capture(srv: &mut Server) {
    with(|a| {
        a.status = Status::On;
        a.buf.clear();
        a.selected_db = None;
    });
    sync_expire_logging(srv);
}

/// Forgets this thread's AOF state (tests that restart a server in-process).
#[cfg(test)]
pub fn reset() {
    with(|a| *a = Aof::default());
}

/// The stream captured since the last call, as lists of arguments.
#[cfg(test)]
pub fn take_captured() -> Vec<Vec<String>> {
    let bytes = with(|a| std::mem::take(&mut a.buf));
    load::parse_commands(&bytes)
        .into_iter()
        .map(|c| {
            c.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::strings::tests::Harness;

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ferrokey-aof-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A server with the AOF on in `dir`, as started with `appendonly yes`.
    fn server(dir: &Path, preamble: bool) -> Harness {
        reset();
        let mut h = Harness::new();
        h.srv.config.dir = dir.to_path_buf();
        h.srv.config.appendonly = true;
        h.srv.config.aof_use_rdb_preamble = preamble;
        h
    }

    /// The dataset as sorted rewrite commands: equal datasets, equal lists.
    fn canonical(srv: &Server) -> Vec<String> {
        let mut out = Vec::new();
        rewrite::write_commands(&mut out, srv, false).unwrap();
        let mut v: Vec<String> = load::parse_commands(&out)
            .into_iter()
            .map(|c| {
                c.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        v.sort();
        v
    }

    const WORKLOAD: &[&str] = &[
        "SET s hello",
        "SET n 10",
        "INCRBY n 5",
        "INCRBYFLOAT f 1.25",
        "SET t v EX 1000",
        "APPEND s !",
        "RPUSH l a b c d",
        "LPOP l",
        "SADD set x y z",
        "SREM set y",
        "ZADD z 1 a 2 b 3 c",
        "ZINCRBY z 5 a",
        "HSET h f1 v1 f2 v2",
        "XADD x * f v",
        "XADD x * g w",
        "XGROUP CREATE x grp 0",
        "XREADGROUP GROUP grp c1 COUNT 1 STREAMS x >",
        "PFADD hll a b c",
        "SETBIT bits 7 1",
        "GEOADD geo 13.361389 38.115556 Palermo",
        "SELECT 5",
        "SET other db5",
        "MULTI",
        "SET m1 1",
        "SET m2 2",
        "EXEC",
        "SELECT 0",
        "DEL n",
        "EXPIRE s 1000",
    ];

    fn round_trip(name: &str, preamble: bool) {
        let dir = tmpdir(name);
        let mut h = server(&dir, preamble);
        open_at_startup(&mut h.srv).unwrap();
        for l in &WORKLOAD[..10] {
            h.cmd(l);
        }
        flush(&mut h.srv, true);
        let aofdir = dir.join("appendonlydir");
        let manifest = std::fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
        let ext = if preamble { "rdb" } else { "aof" };
        assert_eq!(
            manifest,
            format!(
                "file appendonly.aof.1.base.{ext} seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
            )
        );
        for l in &WORKLOAD[10..] {
            h.cmd(l);
        }
        flush(&mut h.srv, true);
        let want = canonical(&h.srv);
        let info = info(&h.srv);
        assert!(info.enabled);
        assert_eq!(info.buffer_length, 0);
        let on_disk: u64 = std::fs::read_dir(&aofdir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| !e.file_name().to_string_lossy().ends_with("manifest"))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        assert_eq!(info.current_size, on_disk);

        // DEBUG LOADAOF: the same dataset back from the files.
        load::debug_loadaof(&mut h.srv).unwrap();
        assert_eq!(canonical(&h.srv), want);
        assert_eq!(h.srv.dirty, 0);

        // "Restart": a fresh server loading the directory.
        let mut h2 = server(&dir, preamble);
        assert_eq!(load_aof_dir(&mut h2.srv), Ok(AofLoad::Ok));
        assert_eq!(canonical(&h2.srv), want);
        assert_eq!(info.current_size, super::info(&h2.srv).current_size);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn every_type_survives_a_restart_with_a_command_base() {
        round_trip("cmdbase", false);
    }

    #[test]
    fn every_type_survives_a_restart_with_an_rdb_base() {
        round_trip("rdbbase", true);
    }

    #[test]
    fn missing_dir_is_not_exist_and_empty_files_are_empty() {
        let dir = tmpdir("empty");
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::NotExist));
        let aofdir = dir.join("appendonlydir");
        std::fs::create_dir_all(&aofdir).unwrap();
        std::fs::write(
            aofdir.join("appendonly.aof.manifest"),
            "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
        )
        .unwrap();
        std::fs::write(aofdir.join("appendonly.aof.1.base.aof"), "").unwrap();
        std::fs::write(aofdir.join("appendonly.aof.1.incr.aof"), "").unwrap();
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::Empty));
        // A listed file that is missing is fatal.
        std::fs::remove_file(aofdir.join("appendonly.aof.1.incr.aof")).unwrap();
        let mut h = server(&dir, true);
        let e = load_aof_dir(&mut h.srv).unwrap_err();
        assert_eq!(
            e.msg,
            "Unable to obtain the AOF file appendonly.aof.1.incr.aof length. stat: No such file or directory"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Valkey's tests/assets/rdb-preamble.aof: k1, k2 in an RDB image (a
    /// Redis 7 file), then `SELECT 0` and `set k3 v3`.
    const RDB_PREAMBLE_AOF: &[u8] = b"REDIS0010\xfa\x09redis-ver\x0b255.255.255\xfa\x0aredis-bits\xc0@\xfa\x05ctime\xc2\xd6\x10\xcba\xfa\x08used-mem\xc2\xa0\x8d\x10\x00\xfa\x0caof-preamble\xc0\x01\xfe\x00\xfb\x02\x00\x00\x02k2\x02v2\x00\x02k1\x02v1\xff\xfb\xcbm\xc9\xb7\x0c\x80\xa4*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$2\r\nk3\r\n$2\r\nv3\r\n";

    /// A directory as Valkey 8 lays it out, written by hand.
    fn valkey_dir(name: &str, base: &[u8], base_name: &str, incr: &[u8]) -> PathBuf {
        let dir = tmpdir(name);
        let aofdir = dir.join("appendonlydir");
        std::fs::create_dir_all(&aofdir).unwrap();
        std::fs::write(
            aofdir.join("appendonly.aof.manifest"),
            format!("file {base_name} seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"),
        )
        .unwrap();
        std::fs::write(aofdir.join(base_name), base).unwrap();
        std::fs::write(aofdir.join("appendonly.aof.1.incr.aof"), incr).unwrap();
        dir
    }

    fn cmds(list: &[&[&str]]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in list {
            encode_command(&mut out, c);
        }
        out
    }

    #[test]
    fn loads_a_valkey_layout_with_a_command_base() {
        let mut base = b"#TS:1700000000\r\n".to_vec();
        base.extend(cmds(&[
            &["SELECT", "0"],
            &["SET", "k1", "v1"],
            &["RPUSH", "l", "a", "b"],
        ]));
        let incr = cmds(&[
            &["SELECT", "0"],
            &["SET", "k2", "v2"],
            &["MULTI"],
            &["INCR", "n"],
            &["INCR", "n"],
            &["EXEC"],
            &["SET", "gone", "x", "PXAT", "1"],
        ]);
        let dir = valkey_dir("vkcmd", &base, "appendonly.aof.1.base.aof", &incr);
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::Ok));
        assert_eq!(
            h.cmd("MGET k1 k2 n"),
            "*3\r\n$2\r\nv1\r\n$2\r\nv2\r\n$1\r\n2\r\n"
        );
        assert_eq!(h.cmd("LRANGE l 0 -1"), "*2\r\n$1\r\na\r\n$1\r\nb\r\n");
        // Past expire times are applied as written while loading (the key
        // then expires normally).
        assert_eq!(h.srv.keyspace.dbs[0].len(), 5);
        assert_eq!(h.cmd("EXISTS gone"), ":0\r\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn loads_a_valkey_layout_with_an_rdb_base() {
        let rdb = RDB_PREAMBLE_AOF;
        let incr = cmds(&[&["SELECT", "0"], &["SET", "k4", "v4"]]);
        let dir = valkey_dir("vkrdb", rdb, "appendonly.aof.1.base.rdb", &incr);
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::Ok));
        assert_eq!(
            h.cmd("MGET k1 k2 k3 k4"),
            "*4\r\n$2\r\nv1\r\n$2\r\nv2\r\n$2\r\nv3\r\n$2\r\nv4\r\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_truncated_tail_is_cut_off_when_allowed() {
        let mut incr = cmds(&[&["SET", "a", "1"], &["SET", "b", "2"]]);
        let whole = incr.len() as u64;
        incr.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n");
        let base = cmds(&[&["SET", "base", "x"]]);
        let dir = valkey_dir("trunc", &base, "appendonly.aof.1.base.aof", &incr);
        let incr_path = dir.join("appendonlydir/appendonly.aof.1.incr.aof");
        // aof-load-truncated no: refused, the file untouched.
        let mut h = server(&dir, true);
        h.srv.config.aof_load_truncated = false;
        let e = load_aof_dir(&mut h.srv).unwrap_err();
        assert!(e.msg.starts_with(
            "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup"
        ));
        assert!(std::fs::metadata(&incr_path).unwrap().len() > whole);
        // yes (the default): truncated to the last whole command, loaded.
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::Ok));
        assert_eq!(std::fs::metadata(&incr_path).unwrap().len(), whole);
        assert_eq!(
            h.cmd("MGET base a b c"),
            "*4\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unfinished_transaction_is_dropped() {
        let incr = cmds(&[&["SET", "a", "1"], &["MULTI"], &["SET", "b", "2"]]);
        let base = cmds(&[&["SET", "base", "x"]]);
        let dir = valkey_dir("multi", &base, "appendonly.aof.1.base.aof", &incr);
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::Ok));
        assert_eq!(h.cmd("MGET a b"), "*2\r\n$1\r\n1\r\n$-1\r\n");
        let len = std::fs::metadata(dir.join("appendonlydir/appendonly.aof.1.incr.aof"))
            .unwrap()
            .len();
        assert_eq!(len, cmds(&[&["SET", "a", "1"]]).len() as u64);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_commands_and_garbage_are_fatal() {
        let base = cmds(&[&["SET", "base", "x"]]);
        let dir = valkey_dir(
            "unknown",
            &base,
            "appendonly.aof.1.base.aof",
            &cmds(&[&["NOSUCHCMD", "x"]]),
        );
        let mut h = server(&dir, true);
        assert_eq!(
            load_aof_dir(&mut h.srv).unwrap_err().msg,
            "Unknown command 'NOSUCHCMD' reading the append only file appendonly.aof.1.incr.aof"
        );
        let dir = valkey_dir(
            "garbage",
            &base,
            "appendonly.aof.1.base.aof",
            b"SET a b\r\n",
        );
        let mut h = server(&dir, true);
        assert_eq!(
            load_aof_dir(&mut h.srv).unwrap_err().msg,
            "Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup \
             of your AOF file, then use ./valkey-check-aof --fix <filename.manifest>"
        );
        // A cut-short file that is not the last one is fatal too.
        let cut = b"*2\r\n$3\r\nGET\r\n";
        let dir = valkey_dir("notlast", cut, "appendonly.aof.1.base.aof", &base);
        let mut h = server(&dir, true);
        assert_eq!(
            load_aof_dir(&mut h.srv).unwrap_err().msg,
            "Fatal error: the truncated file is not the last file"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_old_single_file_aof_is_moved_into_the_directory() {
        let dir = tmpdir("upgrade");
        std::fs::write(dir.join("appendonly.aof"), cmds(&[&["SET", "k1", "v1"]])).unwrap();
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::Ok));
        open_at_startup(&mut h.srv).unwrap();
        assert!(!dir.join("appendonly.aof").exists());
        assert!(dir.join("appendonlydir/appendonly.aof").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap(),
            "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
        );
        assert_eq!(h.cmd("GET k1"), "$2\r\nv1\r\n");
        let _ = std::fs::remove_dir_all(&dir);
        // An old file with an RDB preamble: the image, then its tail.
        let dir = tmpdir("upgrade-preamble");
        std::fs::write(dir.join("appendonly.aof"), RDB_PREAMBLE_AOF).unwrap();
        let mut h = server(&dir, true);
        assert_eq!(load_aof_dir(&mut h.srv), Ok(AofLoad::Ok));
        assert_eq!(
            h.cmd("MGET k1 k2 k3"),
            "*3\r\n$2\r\nv1\r\n$2\r\nv2\r\n$2\r\nv3\r\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn commands_are_encoded_as_resp_arrays() {
        let mut out = Vec::new();
        encode_command(&mut out, &[b"SET".as_slice(), b"k", b""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn strerror_drops_the_rust_suffix() {
        let e = io::Error::from_raw_os_error(libc::ENOSPC);
        assert_eq!(strerror(&e), "No space left on device");
        assert_eq!(
            String::from_utf8(
                format!(
                    "MISCONF Errors writing to the AOF file: {}",
                    errno_text(libc::EIO)
                )
                .into_bytes()
            )
            .unwrap(),
            "MISCONF Errors writing to the AOF file: Input/output error"
        );
    }

    #[test]
    fn feed_selects_the_database_and_annotates_time() {
        let mut srv = Server::new(crate::config::Config::default());
        capture(&mut srv);
        feed(&srv, Some(0), &[b"SET".as_slice(), b"a", b"1"]);
        feed(&srv, Some(0), &[b"SET".as_slice(), b"b", b"2"]);
        feed(&srv, None, &[b"MULTI".as_slice()]);
        feed(&srv, Some(3), &[b"DEL".as_slice(), b"a"]);
        assert_eq!(
            take_captured(),
            [
                vec!["SELECT", "0"],
                vec!["SET", "a", "1"],
                vec!["SET", "b", "2"],
                vec!["MULTI"],
                vec!["SELECT", "3"],
                vec!["DEL", "a"],
            ]
        );
        srv.config.aof_timestamp_enabled = true;
        feed(&srv, Some(3), &[b"DEL".as_slice(), b"b"]);
        let raw = with(|a| std::mem::take(&mut a.buf));
        let ts = format!("#TS:{}\r\n", srv.now.ms / 1000);
        assert!(
            raw.starts_with(ts.as_bytes()),
            "{}",
            String::from_utf8_lossy(&raw)
        );
        with(|a| a.status = Status::Off);
    }
}
