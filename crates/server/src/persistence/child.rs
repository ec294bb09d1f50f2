//! Background saves in a forked child process, as Valkey does them.
//!
//! `fork` gives the child a point-in-time copy of the whole dataset for the
//! cost of the page tables; pages are copied only when the parent writes
//! them. To keep that copy small the parent stops resizing its tables while
//! a child runs (a rehash would rewrite every bucket page): see
//! `keyspace::record::RESIZE_POLICY`, set to `Avoid` here and restored when
//! the child is reaped.
//!
//! The child only writes a file and exits with `_exit`, so nothing the
//! parent's other threads held (the lazy-free thread) matters to it.

use crate::keyspace::record::RESIZE_POLICY;
use crate::server::net::log;
use crate::server::Server;
use ferrokey_table::ResizePolicy;
use std::io;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    Rdb,
    Aof,
}

/// The running child, if any (Valkey runs at most one).
#[derive(Debug)]
pub struct Child {
    pub pid: i32,
    pub kind: ChildKind,
    pub started: Instant,
    /// Read end of the pipe on which the child reports, as it exits, how
    /// many bytes copy-on-write made private to it (INFO `*_last_cow_size`).
    cow_pipe: Option<std::fs::File>,
}

/// A finished child: its kind, whether it succeeded, and its copy-on-write
/// bytes (0 when it could not tell).
#[derive(Debug, Clone, Copy)]
pub struct Reaped {
    pub kind: ChildKind,
    pub ok: bool,
    pub cow_bytes: u64,
}

/// The child's own Private_Dirty bytes: the pages copy-on-write gave it.
fn private_dirty_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/smaps_rollup") else {
        return 0;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("Private_Dirty:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// A non-blocking pipe whose ends close on exec: (read, write).
fn cow_pipe() -> Option<(std::fs::File, std::fs::File)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two new descriptors into the array we own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return None;
    }
    // SAFETY: both descriptors were just created and are owned by nobody
    // else; each File closes its own.
    Some(unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    })
}

/// Forks a child that runs `job` on its copy of the dataset and exits with
/// status 0 if it returns true, 1 otherwise. Returns the child's pid.
pub fn spawn(
    srv: &mut Server,
    kind: ChildKind,
    job: impl FnOnce(&Server) -> bool,
) -> io::Result<i32> {
    if srv.child.is_some() {
        return Err(io::Error::other("a child process is already running"));
    }
    let listener_fds: Vec<i32> = {
        use std::os::fd::AsRawFd;
        srv.listeners.iter().map(|l| l.as_raw_fd()).collect()
    };
    let pipe = cow_pipe();
    let fork_start = Instant::now();
    // SAFETY: fork has no memory-safety preconditions; the child below only
    // runs `job` (plain file writing on its private copy of memory) and
    // leaves through `_exit`, never returning into the event loop.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        for fd in listener_fds {
            // SAFETY: closing the child's duplicate of a listening socket,
            // so a restarted server can bind the port while we still run.
            unsafe { libc::close(fd) };
        }
        let ok =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(srv))).unwrap_or(false);
        if let Some((_, mut w)) = pipe {
            use std::io::Write;
            let _ = w.write_all(&private_dirty_bytes().to_le_bytes());
        }
        // SAFETY: ends the child without running the parent's atexit
        // handlers or destructors (which would flush the parent's buffers).
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    srv.persist.latest_fork_usec = fork_start.elapsed().as_micros() as u64;
    srv.persist.total_forks += 1;
    RESIZE_POLICY.with(|p| p.set(ResizePolicy::Avoid));
    srv.child = Some(Child {
        pid,
        kind,
        started: Instant::now(),
        cow_pipe: pipe.map(|(r, _)| r),
    });
    Ok(pid)
}

/// Whether a child has finished: Some once it has been reaped.
pub fn try_reap(srv: &mut Server) -> Option<Reaped> {
    let child = srv.child.as_ref()?;
    let mut status = 0;
    // SAFETY: waitpid on our own child's pid with a valid status pointer.
    let r = unsafe { libc::waitpid(child.pid, &mut status, libc::WNOHANG) };
    if r == 0 {
        return None;
    }
    let ok = r == child.pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if r == child.pid && libc::WIFSIGNALED(status) {
        log::warning(&format!(
            "Background child terminated by signal {}",
            libc::WTERMSIG(status)
        ));
    }
    let kind = child.kind;
    let cow_bytes = srv
        .child
        .take()
        .and_then(|c| c.cow_pipe)
        .and_then(|mut r| {
            use std::io::Read;
            let mut b = [0u8; 8];
            r.read_exact(&mut b).ok().map(|_| u64::from_le_bytes(b))
        })
        .unwrap_or(0);
    RESIZE_POLICY.with(|p| p.set(ResizePolicy::Allow));
    Some(Reaped {
        kind,
        ok,
        cow_bytes,
    })
}

/// Kills the running child (SHUTDOWN, FLUSHALL, a new SAVE) and reaps it.
pub fn kill(srv: &mut Server) -> Option<ChildKind> {
    let child = srv.child.take()?;
    // SAFETY: signalling and reaping our own child.
    unsafe {
        libc::kill(child.pid, libc::SIGUSR1);
        let mut status = 0;
        libc::waitpid(child.pid, &mut status, 0);
    }
    RESIZE_POLICY.with(|p| p.set(ResizePolicy::Allow));
    Some(child.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::time::Duration;

    fn wait_reaped(srv: &mut Server) -> Reaped {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(done) = try_reap(srv) {
                return done;
            }
            assert!(Instant::now() < deadline, "child never finished");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_child_reports_success_failure_and_its_copied_pages() {
        let mut srv = Server::new(Config::default());
        let pid = spawn(&mut srv, ChildKind::Rdb, |srv| srv.keyspace.dbs.len() == 16).unwrap();
        assert!(pid > 0);
        // One child at a time.
        assert!(spawn(&mut srv, ChildKind::Aof, |_| true).is_err());
        assert_eq!(RESIZE_POLICY.with(|p| p.get()), ResizePolicy::Avoid);
        let done = wait_reaped(&mut srv);
        assert_eq!(done.kind, ChildKind::Rdb);
        assert!(done.ok);
        assert!(srv.child.is_none());
        assert_eq!(RESIZE_POLICY.with(|p| p.get()), ResizePolicy::Allow);
        assert_eq!(srv.persist.total_forks, 1);

        spawn(&mut srv, ChildKind::Aof, |_| false).unwrap();
        let done = wait_reaped(&mut srv);
        assert_eq!((done.kind, done.ok), (ChildKind::Aof, false));
    }

    #[test]
    fn kill_stops_a_running_child() {
        let mut srv = Server::new(Config::default());
        spawn(&mut srv, ChildKind::Rdb, |_| {
            std::thread::sleep(Duration::from_secs(30));
            true
        })
        .unwrap();
        let started = Instant::now();
        assert_eq!(kill(&mut srv), Some(ChildKind::Rdb));
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(srv.child.is_none());
        assert_eq!(RESIZE_POLICY.with(|p| p.get()), ResizePolicy::Allow);
    }
}
