//! Persistence: RDB snapshots, DUMP/RESTORE payloads and the append-only
//! file, all in the byte formats Redis 7.x and Valkey 8 read and write.
//!
//! - [`crc64`]: the CRC-64 (Jones polynomial) that ends RDB files and DUMP
//!   payloads.
//! - [`rdb`]: the RDB codec. `rdb::codec` has the primitives (lengths,
//!   strings, doubles), `rdb::object` one value per type code, `rdb::file`
//!   whole files (header, AUX fields, databases, EOF and checksum).
//! - [`child`]: background saves in a forked child process.
//!
//! This module holds the state INFO persistence reports and the policies
//! around the files: SAVE and BGSAVE, save points checked by the cron,
//! loading at start-up, saving at shutdown.

pub mod aof;
pub mod child;
pub mod crc64;
pub mod rdb;

use crate::server::net::log;
use crate::server::Server;
use child::ChildKind;
use std::io;
use std::path::PathBuf;
use std::time::Instant;

/// Seconds after a failed BGSAVE before save points may try again
/// (Valkey's `CONFIG_BGSAVE_RETRY_DELAY`).
const BGSAVE_RETRY_DELAY: u64 = 5;

/// What INFO persistence reports, and what the save policy remembers.
#[derive(Debug)]
pub struct State {
    /// Function libraries found in a loaded RDB (FUNCTION2 records): kept
    /// and written back by every save, so no data is lost even though
    /// Ferrokey has no FUNCTION command yet.
    pub functions: Vec<Vec<u8>>,
    /// `DEBUG SET-SKIP-CHECKSUM-VALIDATION`.
    pub skip_checksum_validation: bool,
    /// `dirty` when the running BGSAVE started: what its success clears.
    pub dirty_before_bgsave: u64,
    pub last_bgsave_ok: bool,
    /// Duration of the last BGSAVE, -1 before the first.
    pub last_bgsave_secs: i64,
    pub last_bgsave_try_unix: u64,
    /// `BGSAVE SCHEDULE` (or a save point) waiting for a running child.
    pub bgsave_scheduled: bool,
    pub rdb_saves: u64,
    pub last_load_keys_loaded: u64,
    pub last_load_keys_expired: u64,
    /// Bytes copy-on-write gave the last BGSAVE / BGREWRITEAOF child.
    pub rdb_last_cow_size: u64,
    pub aof_last_cow_size: u64,
    /// How long the last fork took (µs), and forks so far (INFO stats).
    pub latest_fork_usec: u64,
    pub total_forks: u64,
}

impl Default for State {
    fn default() -> State {
        State {
            functions: Vec::new(),
            skip_checksum_validation: false,
            dirty_before_bgsave: 0,
            last_bgsave_ok: true,
            last_bgsave_secs: -1,
            last_bgsave_try_unix: 0,
            bgsave_scheduled: false,
            rdb_saves: 0,
            last_load_keys_loaded: 0,
            last_load_keys_expired: 0,
            rdb_last_cow_size: 0,
            aof_last_cow_size: 0,
            latest_fork_usec: 0,
            total_forks: 0,
        }
    }
}

/// The MISCONF error that writes get while the dataset cannot be
/// persisted: the last RDB save failed and `stop-writes-on-bgsave-error`
/// is on (with save points), or the AOF cannot be written.
pub fn disk_error_reply(srv: &Server) -> Option<Vec<u8>> {
    if srv.config.stop_writes_on_bgsave_error
        && !srv.config.save.is_empty()
        && !srv.persist.last_bgsave_ok
    {
        return Some(
            b"MISCONF Valkey is configured to save RDB snapshots, but it's currently unable to \
              persist to disk. Commands that may modify the data set are disabled, because this \
              instance is configured to report errors during writes if RDB snapshotting fails \
              (stop-writes-on-bgsave-error option). Please check the Valkey logs for details \
              about the RDB error."
                .to_vec(),
        );
    }
    aof::write_error_reply()
}

/// Where the RDB file lives: `dir`/`dbfilename`.
pub fn rdb_path(srv: &Server) -> PathBuf {
    srv.config.dir.join(&srv.config.dbfilename)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// SAVE: writes the RDB in the foreground.
pub fn save_sync(srv: &mut Server) -> io::Result<()> {
    let path = rdb_path(srv);
    match rdb::file::save(srv, &path) {
        Ok(()) => {
            log::notice("DB saved on disk");
            srv.dirty = 0;
            srv.lastsave_unix = unix_now();
            srv.persist.last_bgsave_ok = true;
            Ok(())
        }
        Err(e) => {
            log::warning(&format!("Failed saving the DB: {e}"));
            srv.persist.last_bgsave_ok = false;
            Err(e)
        }
    }
}

/// BGSAVE: forks a child that writes the RDB.
pub fn bgsave(srv: &mut Server) -> io::Result<i32> {
    srv.persist.rdb_saves += 1;
    srv.persist.dirty_before_bgsave = srv.dirty;
    srv.persist.last_bgsave_try_unix = unix_now();
    let path = rdb_path(srv);
    let pid = child::spawn(srv, ChildKind::Rdb, move |srv| {
        match rdb::file::save(srv, &path) {
            Ok(()) => {
                log::notice("DB saved on disk");
                true
            }
            Err(e) => {
                log::warning(&format!("Write error saving DB on disk: {e}"));
                false
            }
        }
    });
    match pid {
        Ok(pid) => {
            log::notice(&format!("Background saving started by pid {pid}"));
            Ok(pid)
        }
        Err(e) => {
            srv.persist.last_bgsave_ok = false;
            log::warning(&format!("Can't save in background: fork: {e}"));
            Err(e)
        }
    }
}

/// Whether a BGSAVE child is running.
pub fn bgsave_in_progress(srv: &Server) -> bool {
    srv.child.as_ref().is_some_and(|c| c.kind == ChildKind::Rdb)
}

/// Seconds the running BGSAVE has taken so far, -1 if none runs.
pub fn current_bgsave_secs(srv: &Server) -> i64 {
    match &srv.child {
        Some(c) if c.kind == ChildKind::Rdb => c.started.elapsed().as_secs() as i64,
        _ => -1,
    }
}

fn rdb_child_done(srv: &mut Server, ok: bool, started: Instant) {
    srv.persist.last_bgsave_secs = started.elapsed().as_secs() as i64;
    if ok {
        log::notice("Background saving terminated with success");
        srv.dirty = srv.dirty.saturating_sub(srv.persist.dirty_before_bgsave);
        srv.lastsave_unix = unix_now();
        srv.persist.last_bgsave_ok = true;
    } else {
        log::warning("Background saving error");
        srv.persist.last_bgsave_ok = false;
    }
}

/// The cron's part: reaps a finished child, then starts a scheduled BGSAVE
/// or one a save point asks for.
pub fn cron(srv: &mut Server) {
    if let Some(started) = srv.child.as_ref().map(|c| c.started) {
        if let Some(done) = child::try_reap(srv) {
            match done.kind {
                ChildKind::Rdb => {
                    srv.persist.rdb_last_cow_size = done.cow_bytes;
                    rdb_child_done(srv, done.ok, started);
                }
                ChildKind::Aof => {
                    srv.persist.aof_last_cow_size = done.cow_bytes;
                    aof::rewrite_done(srv, done.ok);
                }
            }
        }
    }
    if srv.child.is_some() {
        return;
    }
    let now = unix_now();
    let may_retry = srv.persist.last_bgsave_ok
        || now.saturating_sub(srv.persist.last_bgsave_try_unix) > BGSAVE_RETRY_DELAY;
    if srv.persist.bgsave_scheduled && may_retry {
        srv.persist.bgsave_scheduled = false;
        let _ = bgsave(srv);
        return;
    }
    let due = srv.config.save.iter().find(|&&(secs, changes)| {
        srv.dirty >= changes && now.saturating_sub(srv.lastsave_unix) > secs
    });
    if let Some(&(secs, changes)) = due {
        if may_retry {
            log::notice(&format!("{changes} changes in {secs} seconds. Saving..."));
            let _ = bgsave(srv);
        }
    }
}

/// FLUSHALL's part (Valkey's `flushAllDataAndResetRDB`): a running BGSAVE
/// would write the old data, so it is killed, and with save points
/// configured the now empty dataset is saved at once.
pub fn after_flushall(srv: &mut Server) {
    if bgsave_in_progress(srv) {
        kill_rdb_child(srv);
    }
    if !srv.config.save.is_empty() {
        let _ = save_sync(srv);
    }
    srv.dirty += 1;
}

/// BGSAVE CANCEL.
pub fn cancel_bgsave(srv: &mut Server) {
    kill_rdb_child(srv);
}

fn kill_rdb_child(srv: &mut Server) {
    let pid = srv.child.as_ref().map(|c| c.pid).unwrap_or(0);
    child::kill(srv);
    let _ = std::fs::remove_file(srv.config.dir.join(format!("temp-{pid}.rdb")));
    log::notice("Background saving child killed");
}

/// Loads the dataset at start-up: the AOF directory when `appendonly
/// yes` (as Valkey: the AOF is then the more complete record), else the
/// RDB file if there is one. An unreadable or corrupt file is an error: the
/// server must not start with part of the data.
pub fn load_at_startup(srv: &mut Server) -> Result<(), String> {
    if srv.config.appendonly {
        return aof::load_aof_dir(srv).map(|_| ()).map_err(|e| e.msg);
    }
    let path = rdb_path(srv);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(format!(
                "Fatal error loading the DB, check server logs. Exiting. ({}: {e})",
                path.display()
            ))
        }
    };
    let start = Instant::now();
    let result = rdb::file::load_rdb_bytes(srv, &bytes);
    drop(bytes);
    crate::alloc::release_free_memory();
    match result {
        Ok(stats) => {
            log::notice(&format!(
                "Done loading RDB, keys loaded: {}, keys expired: {}.",
                stats.keys_loaded, stats.keys_expired
            ));
            log::notice(&format!(
                "DB loaded from disk: {:.3} seconds",
                start.elapsed().as_secs_f64()
            ));
            srv.persist.last_load_keys_loaded = stats.keys_loaded;
            srv.persist.last_load_keys_expired = stats.keys_expired;
            Ok(())
        }
        Err(e) => Err(format!(
            "Internal error in RDB reading file '{}': {e}. Fatal error loading the DB, check server logs. Exiting.",
            path.display()
        )),
    }
}

/// DEBUG RELOAD: save (unless `nosave`), empty the dataset (unless
/// `noflush`), and load the file back.
pub fn debug_reload(srv: &mut Server, save: bool, flush: bool) -> Result<(), String> {
    if save {
        save_sync(srv).map_err(|_| "Error trying to save the DB".to_string())?;
    }
    let path = rdb_path(srv);
    let bytes =
        std::fs::read(&path).map_err(|e| format!("Error trying to load the RDB dump: {e}"))?;
    if flush {
        for i in 0..srv.keyspace.dbs.len() {
            let old = srv.keyspace.dbs[i].take();
            crate::lazyfree::drop_db(old, false);
        }
        srv.persist.functions.clear();
    }
    let result = rdb::file::load_rdb_bytes(srv, &bytes);
    drop(bytes);
    crate::alloc::release_free_memory();
    match result {
        Ok(stats) => {
            srv.persist.last_load_keys_loaded = stats.keys_loaded;
            srv.persist.last_load_keys_expired = stats.keys_expired;
            log::notice("DB reloaded by DEBUG RELOAD");
            Ok(())
        }
        Err(e) => {
            log::warning(&format!("Error trying to load the RDB dump: {e}"));
            Err("Error trying to load the RDB dump, check server logs.".into())
        }
    }
}

/// How SHUTDOWN (or a signal) asked to treat the dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShutdownSave {
    /// Save if save points are configured.
    Default,
    Save,
    NoSave,
}

/// Valkey's `prepareForShutdown`: stops a child, saves as asked. False
/// when the save failed (the server must keep running unless forced).
pub fn prepare_for_shutdown(srv: &mut Server, mode: ShutdownSave, force: bool) -> bool {
    if !aof::prepare_for_shutdown(srv, force) {
        return false;
    }
    if bgsave_in_progress(srv) {
        log::warning("There is a child saving an .rdb. Killing it!");
        kill_rdb_child(srv);
    } else if srv.child.is_some() {
        child::kill(srv);
    }
    let save = match mode {
        ShutdownSave::Save => true,
        ShutdownSave::NoSave => false,
        ShutdownSave::Default => !srv.config.save.is_empty(),
    };
    if save {
        log::notice("Saving the final RDB snapshot before exiting.");
        if save_sync(srv).is_err() {
            if force {
                log::warning("Error trying to save the DB. Exit anyway.");
            } else {
                log::warning("Error trying to save the DB, can't exit.");
                return false;
            }
        }
    }
    true
}
