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
        // SAFETY: ends the child without running the parent's atexit
        // handlers or destructors (which would flush the parent's buffers).
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    RESIZE_POLICY.with(|p| p.set(ResizePolicy::Avoid));
    srv.child = Some(Child {
        pid,
        kind,
        started: Instant::now(),
    });
    Ok(pid)
}

/// Whether a child has finished: Some(success) once it has been reaped.
pub fn try_reap(srv: &mut Server) -> Option<(ChildKind, bool)> {
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
    srv.child = None;
    RESIZE_POLICY.with(|p| p.set(ResizePolicy::Allow));
    Some((kind, ok))
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
