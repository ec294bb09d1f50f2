//! Clients blocked on keys (BLPOP, BZPOPMIN, BLMOVE, ...), Valkey 7's way:
//! a blocking command that finds nothing to serve registers the client on its
//! keys and leaves the command *unconsumed* in the client's query buffer.
//! When a write makes one of those keys exist with the awaited type, the
//! clients blocked on it are woken first come, first served, and each one's
//! command simply runs again from the start (it may block again, keeping its
//! original deadline). At the deadline the client gets the command's timeout
//! reply instead and the command is consumed.
//!
//! Who is blocked on what lives in each [`Db`] (`blocked`), so a key's
//! creation through any path (`Db::insert`: pushes, RENAME, MOVE, COPY,
//! SORT STORE, RESTORE, MULTI/EXEC) marks it ready without the command
//! knowing about blocking. The event loop then calls [`take_ready`] after
//! every command and re-runs the woken clients.

use super::{Client, Server};
use crate::commands::Ctx;
use crate::keyspace::ObjType;
use std::collections::VecDeque;

/// What a blocked client receives when its timeout passes (or CLIENT
/// UNBLOCK ... TIMEOUT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` / RESP3 null: BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
    NullArray,
    /// `$-1` / RESP3 null: BLMOVE, BRPOPLPUSH.
    Null,
}

/// A client's blocked state.
#[derive(Clone, Debug)]
pub struct Blocked {
    pub db: usize,
    pub keys: Vec<Vec<u8>>,
    /// The type whose appearance wakes the client.
    pub ty: ObjType,
    /// Unix time in ms; 0 means no timeout.
    pub deadline: i64,
    pub on_timeout: TimeoutReply,
    /// Also woken when the key is deleted or changes type (XREADGROUP:
    /// its re-run then replies NOGROUP or WRONGTYPE).
    pub unblock_on_nokey: bool,
    /// The command, for its statistics when it times out.
    pub cmd: &'static str,
    /// Bytes of the blocked command in the query buffer (set by the event
    /// loop), consumed when the client is released without running it.
    pub cmd_len: usize,
}

/// How a blocked client is released without its command running again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// The deadline passed, or CLIENT UNBLOCK ... TIMEOUT.
    Timeout,
    /// CLIENT UNBLOCK ... ERROR.
    Error,
}

/// Per-database registry: key -> blocked client ids (FIFO), and keys made
/// ready since the event loop last looked.
#[derive(Default)]
pub struct DbBlocking {
    pub clients: std::collections::HashMap<Vec<u8>, VecDeque<u64>>,
    pub ready: Vec<Vec<u8>>,
}

impl DbBlocking {
    /// Called when `key` is created or replaced: it may now serve clients.
    #[inline]
    pub fn signal(&mut self, key: &[u8]) {
        if !self.clients.is_empty()
            && self.clients.contains_key(key)
            && !self.ready.iter().any(|k| k == key)
        {
            self.ready.push(key.to_vec());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }
}

impl<'a> Ctx<'a> {
    /// Parses a blocking command's timeout (seconds, fractions allowed) like
    /// Valkey's `getTimeoutFromObjectOrReply`: Some(absolute deadline in ms,
    /// or 0 for "forever"), or None after replying the error.
    pub fn block_timeout(&mut self, i: usize) -> Option<i64> {
        let Some(secs) = crate::util::num::parse_long_double(self.arg(i)) else {
            self.out
                .error(b"ERR timeout is not a float or out of range");
            return None;
        };
        let ms = secs * 1000.0;
        if ms >= i64::MAX as f64 {
            self.out.error(b"ERR timeout is out of range");
            return None;
        }
        let ms = ms.ceil() as i64;
        if ms < 0 {
            self.out.error(b"ERR timeout is negative");
            return None;
        }
        if ms == 0 {
            return Some(0);
        }
        let now = self.srv.now.ms;
        if ms > i64::MAX - now {
            self.out.error(b"ERR timeout is out of range");
            return None;
        }
        Some(now + ms)
    }

    /// Whether the running command may block: not inside MULTI/EXEC or a
    /// script, where a blocking command with nothing to serve replies as if
    /// its timeout had passed.
    pub fn may_block(&self) -> bool {
        !self.client.deny_blocking
    }

    /// Blocks the client on `keys` until one of them holds a `ty` value
    /// (then the command runs again) or until `deadline` (ms, 0 = never),
    /// when the client gets `on_timeout`. The handler replies nothing.
    pub fn block_for_keys(
        &mut self,
        keys: &[&[u8]],
        ty: ObjType,
        deadline: i64,
        on_timeout: TimeoutReply,
    ) {
        let db = self.client.db;
        // A command that runs again after a wake-up keeps its first deadline.
        let deadline = self.client.reblock_deadline.take().unwrap_or(deadline);
        let mut uniq: Vec<Vec<u8>> = Vec::with_capacity(keys.len());
        for k in keys {
            if !uniq.iter().any(|u| u == k) {
                uniq.push(k.to_vec());
            }
        }
        let reg = &mut self.srv.keyspace.dbs[db].blocking;
        for k in &uniq {
            reg.clients
                .entry(k.clone())
                .or_default()
                .push_back(self.client.id);
        }
        self.srv.blocked_clients += 1;
        if deadline > 0 {
            self.srv.block_deadlines.insert((deadline, self.client.id));
        }
        self.client.blocked = Some(Blocked {
            db,
            keys: uniq,
            ty,
            deadline,
            on_timeout,
            unblock_on_nokey: false,
            cmd: self.cmd.name,
            cmd_len: 0,
        });
    }
}

impl<'a> Ctx<'a> {
    /// [`Ctx::block_for_keys`] for a command that must also be woken when
    /// a key is deleted or changes type (Valkey's `unblock_on_nokey`).
    pub fn block_for_keys_or_nokey(
        &mut self,
        keys: &[&[u8]],
        ty: ObjType,
        deadline: i64,
        on_timeout: TimeoutReply,
    ) {
        self.block_for_keys(keys, ty, deadline, on_timeout);
        if let Some(b) = &mut self.client.blocked {
            b.unblock_on_nokey = true;
        }
    }
}

/// Whether a client blocked as `b` should run again now that `key` holds
/// a value of type `live` (None: the key is gone).
fn should_wake(b: &Blocked, live: Option<ObjType>) -> bool {
    match live {
        Some(t) if t == b.ty => true,
        _ => b.unblock_on_nokey,
    }
}

/// Removes a client's registrations (woken, timed out, unblocked or gone).
pub fn unregister(srv: &mut Server, id: u64, b: &Blocked) {
    if let Some(db) = srv.keyspace.dbs.get_mut(b.db) {
        for k in &b.keys {
            if let Some(q) = db.blocking.clients.get_mut(k) {
                q.retain(|&c| c != id);
                if q.is_empty() {
                    db.blocking.clients.remove(k);
                }
            }
        }
    }
    if b.deadline > 0 {
        srv.block_deadlines.remove(&(b.deadline, id));
    }
    srv.blocked_clients = srv.blocked_clients.saturating_sub(1);
}

/// Releases a blocked client without running its command again: writes
/// the timeout reply or the CLIENT UNBLOCK error and consumes the command.
/// The caller then runs the rest of its pipeline and flushes it.
pub fn release(srv: &mut Server, c: &mut Client, how: Release) {
    let Some(b) = c.state.blocked.take() else {
        return;
    };
    unregister(srv, c.state.id, &b);
    // The command ends here: count it (Valkey's updateStatsOnUnblock).
    srv.stats.total_commands_processed += 1;
    c.state.commands += 1;
    let st = srv.stats.commands.entry(b.cmd).or_default();
    st.calls += 1;
    if how == Release::Error {
        st.failed_calls += 1;
    }
    let start = c.out.len();
    match how {
        Release::Timeout => match b.on_timeout {
            TimeoutReply::NullArray => c.out.null_array(),
            TimeoutReply::Null => c.out.null(),
        },
        Release::Error => {
            c.out
                .error(b"UNBLOCKED client unblocked via CLIENT UNBLOCK");
            super::exec::count_error(srv, b"UNBLOCKED");
        }
    }
    if c.state.reply_mode != super::client::ReplyMode::On {
        c.out.truncate(start);
    }
    c.qpos += b.cmd_len;
}

/// Keys made ready since the last call, as (db, key), oldest first.
pub fn take_ready(srv: &mut Server) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, db) in srv.keyspace.dbs.iter_mut().enumerate() {
        out.extend(db.blocking.ready.drain(..).map(|k| (i, k)));
    }
    out
}

/// Whether any database has keys made ready.
#[inline]
pub fn has_ready(srv: &Server) -> bool {
    srv.blocked_clients > 0
        && srv
            .keyspace
            .dbs
            .iter()
            .any(|d| !d.blocking.ready.is_empty())
}

/// The clients to wake for a ready key, in the order they blocked: those
/// waiting for the type the key now holds (Valkey checks the type before
/// re-running a command, so BLPOP is not woken by a SET).
pub fn wakeable(srv: &Server, db: usize, key: &[u8]) -> Vec<u64> {
    let Some(d) = srv.keyspace.dbs.get(db) else {
        return Vec::new();
    };
    let Some(q) = d.blocking.clients.get(key) else {
        return Vec::new();
    };
    let live_type = d
        .peek(key)
        .filter(|r| r.expire().is_none_or(|at| at >= srv.now.ms))
        .map(|r| r.obj_type());
    q.iter()
        .copied()
        .filter(|id| {
            srv.client_slots
                .get(id)
                .and_then(|&s| srv.clients.get(s)?.as_ref())
                .and_then(|c| c.state.blocked.as_ref())
                .is_some_and(|b| should_wake(b, live_type))
        })
        .collect()
}

/// Whether `key` still holds a live value of the type client `id` waits
/// for.
pub fn still_ready(srv: &Server, db: usize, key: &[u8], id: u64) -> bool {
    let Some(d) = srv.keyspace.dbs.get(db) else {
        return false;
    };
    let live = d
        .peek(key)
        .filter(|r| r.expire().is_none_or(|at| at >= srv.now.ms))
        .map(|r| r.obj_type());
    srv.client_slots
        .get(&id)
        .and_then(|&s| srv.clients.get(s)?.as_ref())
        .and_then(|c| c.state.blocked.as_ref())
        .is_some_and(|b| should_wake(b, live))
}

/// Client ids whose deadline is at or before `now_ms`.
pub fn timed_out(srv: &Server, now_ms: i64) -> Vec<u64> {
    srv.block_deadlines
        .iter()
        .take_while(|(d, _)| *d <= now_ms)
        .map(|&(_, id)| id)
        .collect()
}

/// Keys with at least one waiter that also wakes on deletion (INFO's
/// `total_blocking_keys_on_nokey`).
pub fn keys_on_nokey(srv: &Server) -> usize {
    let nokey = |id: &u64| {
        srv.client_slots
            .get(id)
            .and_then(|&s| srv.clients.get(s)?.as_ref())
            .and_then(|c| c.state.blocked.as_ref())
            .is_some_and(|b| b.unblock_on_nokey)
    };
    srv.keyspace
        .dbs
        .iter()
        .flat_map(|d| d.blocking.clients.values())
        .filter(|ids| ids.iter().any(nokey))
        .count()
}
