//! The background fsync thread (Valkey's `bio` AOF jobs).
//!
//! With `appendfsync everysec` the event loop never waits for the disk: once
//! a second it hands the AOF file to this thread, which calls `fdatasync`
//! while commands go on. The loop only looks at how many jobs are pending
//! (a write issued during an fsync may block on some filesystems, so the
//! flush is postponed while one runs) and at the last fsync's outcome,
//! which turns `aof_last_write_status` to `err` and stops writes, as in
//! Valkey.
//!
//! Replaced files are closed here too (after a final fsync), so closing a
//! big file with dirty pages never stalls the loop.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;

enum Job {
    /// `fdatasync` the file.
    Fsync(Arc<File>),
    /// `fdatasync` it, then drop our handle (closing it if it was the last).
    Close(Arc<File>),
}

/// Shared between the event loop and the thread.
#[derive(Default)]
struct Shared {
    pending: AtomicUsize,
    /// False after a failed fsync, until one succeeds.
    ok: AtomicBool,
    errno: AtomicI32,
}

/// Handle on the fsync thread. The thread starts on first use and lives as
/// long as the process.
pub struct Bio {
    tx: Option<Sender<Job>>,
    shared: Arc<Shared>,
}

impl Default for Bio {
    fn default() -> Bio {
        let shared = Arc::new(Shared::default());
        shared.ok.store(true, Ordering::Relaxed);
        Bio { tx: None, shared }
    }
}

impl Bio {
    fn sender(&mut self) -> Option<&Sender<Job>> {
        if self.tx.is_none() {
            let (tx, rx) = mpsc::channel::<Job>();
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("bio_aof".into())
                .spawn(move || {
                    for job in rx {
                        let file = match &job {
                            Job::Fsync(f) | Job::Close(f) => f,
                        };
                        match file.sync_data() {
                            Ok(()) => shared.ok.store(true, Ordering::Release),
                            // A file closed or unsyncable under us (EBADF,
                            // EINVAL) is not a disk error (Valkey ignores
                            // those too).
                            Err(e)
                                if matches!(
                                    e.raw_os_error(),
                                    Some(libc::EBADF) | Some(libc::EINVAL)
                                ) => {}
                            Err(e) => {
                                shared.errno.store(
                                    e.raw_os_error().unwrap_or(libc::EIO),
                                    Ordering::Relaxed,
                                );
                                shared.ok.store(false, Ordering::Release);
                            }
                        }
                        drop(job);
                        shared.pending.fetch_sub(1, Ordering::AcqRel);
                    }
                });
            if spawned.is_ok() {
                self.tx = Some(tx);
            }
        }
        self.tx.as_ref()
    }

    fn submit(&mut self, job: Job) {
        self.shared.pending.fetch_add(1, Ordering::AcqRel);
        let failed = match self.sender() {
            Some(tx) => tx.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        // No thread (it could not be spawned): do the work inline.
        if let Some(job) = failed {
            let (Job::Fsync(f) | Job::Close(f)) = job;
            let _ = f.sync_data();
            self.shared.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Queues an fsync of `file`.
    pub fn fsync(&mut self, file: &Arc<File>) {
        self.submit(Job::Fsync(file.clone()));
    }

    /// Queues a final fsync of `file` and its closing.
    pub fn fsync_and_close(&mut self, file: Arc<File>) {
        self.submit(Job::Close(file));
    }

    /// Jobs queued or running (`aof_pending_bio_fsync`).
    pub fn pending(&self) -> usize {
        self.shared.pending.load(Ordering::Acquire)
    }

    /// Whether the last background fsync succeeded, and the error number
    /// of the last failure.
    pub fn status(&self) -> (bool, i32) {
        (
            self.shared.ok.load(Ordering::Acquire),
            self.shared.errno.load(Ordering::Relaxed),
        )
    }

    /// Forgets a past fsync error (AOF turned on again).
    pub fn clear_error(&self) {
        self.shared.ok.store(true, Ordering::Release);
    }

    /// Waits until every queued job is done (before switching files at
    /// the start of a rewrite, and in tests).
    pub fn drain(&self) {
        while self.pending() > 0 {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn fsync_jobs_run_and_are_counted() {
        let dir = std::env::temp_dir().join(format!("ferrokey-bio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let file = Arc::new(File::create(&path).unwrap());
        (&*file).write_all(b"hello").unwrap();
        let mut bio = Bio::default();
        bio.fsync(&file);
        bio.fsync_and_close(file);
        bio.drain();
        assert_eq!(bio.pending(), 0);
        assert!(bio.status().0);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
