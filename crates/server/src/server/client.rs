//! A client connection: its socket and buffers ([`Client`]) and the state
//! commands see and change ([`ClientState`]), plus the `CLIENT LIST` /
//! `CLIENT INFO` line that describes one ([`ClientInfo`]).

use crate::resp::{ArgList, OwnedArgs, Protocol, Reply, RequestParser};
use mio::net::TcpStream;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

/// Size of Valkey's per-client static reply buffer (`PROTO_REPLY_CHUNK_BYTES`).
/// Output beyond it is what Valkey keeps in its reply list, so it is what
/// `omem` and the output buffer limits count.
pub const REPLY_CHUNK_BYTES: usize = 16 * 1024;

/// CLIENT REPLY mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    SkipNext,
    /// Set while the command after `CLIENT REPLY SKIP` runs.
    Skip,
}

/// MULTI state: the queued commands, and whether one was rejected.
#[derive(Default)]
pub struct MultiState {
    pub queue: Vec<(&'static crate::commands::Command, OwnedArgs)>,
    /// A command failed to queue (unknown, arity...): EXEC aborts.
    pub aborted: bool,
}

impl MultiState {
    /// Bytes of the queued arguments (`multi-mem` in CLIENT LIST).
    pub fn args_bytes(&self) -> usize {
        self.queue
            .iter()
            .map(|(_, a)| a.as_args().total_len())
            .sum()
    }
}

/// Client classes of `CLIENT LIST TYPE` / `CLIENT KILL TYPE` and of
/// `client-output-buffer-limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientType {
    Normal,
    Replica,
    PubSub,
    Primary,
}

impl ClientType {
    /// Valkey's `getClientTypeByName`, case-insensitive.
    pub fn from_name(name: &[u8]) -> Option<ClientType> {
        let n = name.to_ascii_lowercase();
        match &n[..] {
            b"normal" => Some(ClientType::Normal),
            b"slave" | b"replica" => Some(ClientType::Replica),
            b"pubsub" => Some(ClientType::PubSub),
            b"master" | b"primary" => Some(ClientType::Primary),
            _ => None,
        }
    }
}

/// What commands see and change about their client.
pub struct ClientState {
    pub id: u64,
    pub db: usize,
    pub name: Option<Vec<u8>>,
    pub lib_name: Option<Vec<u8>>,
    pub lib_ver: Option<Vec<u8>>,
    pub authenticated: bool,
    pub user: Vec<u8>,
    pub multi: Option<MultiState>,
    /// (db, key) pairs this client WATCHes.
    pub watched: Vec<(usize, Vec<u8>)>,
    pub reply_mode: ReplyMode,
    pub no_evict: bool,
    pub no_touch: bool,
    /// READONLY: may read from a replica in cluster mode (flag `r`).
    pub readonly: bool,
    /// Close the connection once pending replies are written.
    pub close_after_reply: bool,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    /// The peer is on the loopback interface (protected mode, `local`
    /// protected actions such as `enable-debug-command local`).
    pub is_local: bool,
    /// The client's slot in `Server::clients` (stable while it lives).
    pub slot: usize,
    pub created: Instant,
    pub last_interaction: Instant,
    pub last_cmd: &'static str,
    /// Set by CLIENT KILL from another client, or by an output buffer
    /// limit: closed at the next chance (Valkey's CLOSE_ASAP, flag `A`).
    pub killed: bool,
    /// In MONITOR mode (flag `O`): receives every executed command.
    pub monitor: bool,
    /// Running inside EXEC: commands must not block (Valkey's
    /// `CLIENT_DENY_BLOCKING`; blocking commands act as non-blocking).
    pub deny_blocking: bool,
    /// Held by CLIENT PAUSE: its next command waits in the query buffer
    /// until the pause ends (counted in `blocked_clients`, flag `b`).
    pub postponed: bool,
    /// Blocked on keys by a blocking command (flag `b`), see blocking.rs.
    pub blocked: Option<super::blocking::Blocked>,
    /// While a woken command runs again: its original deadline.
    pub reblock_deadline: Option<i64>,
    /// Subscription counts (`sub`, `psub`, `ssub`), kept by pub/sub.
    pub sub_channels: usize,
    pub sub_patterns: usize,
    pub sub_shard_channels: usize,
    /// Bytes read from / written to this connection, commands it ran.
    pub net_in: u64,
    pub net_out: u64,
    pub commands: u64,
    /// Query buffer length and free space, and the size of the running
    /// command's arguments, as of the command being run (the client is out
    /// of `Server::clients` meanwhile, so CLIENT INFO reads these).
    pub qbuf_len: usize,
    pub qbuf_free: usize,
    pub argv_mem: usize,
}

impl ClientState {
    pub fn new(id: u64, addr: String, laddr: String, fd: i32, authenticated: bool) -> ClientState {
        let now = Instant::now();
        let is_local = addr.parse::<SocketAddr>().is_ok_and(|a| is_loopback(&a));
        ClientState {
            id,
            db: 0,
            name: None,
            lib_name: None,
            lib_ver: None,
            authenticated,
            user: b"default".to_vec(),
            multi: None,
            watched: Vec::new(),
            reply_mode: ReplyMode::On,
            no_evict: false,
            no_touch: false,
            readonly: false,
            close_after_reply: false,
            addr,
            laddr,
            fd,
            is_local,
            slot: 0,
            created: now,
            last_interaction: now,
            last_cmd: "NULL",
            killed: false,
            monitor: false,
            deny_blocking: false,
            postponed: false,
            blocked: None,
            reblock_deadline: None,
            sub_channels: 0,
            sub_patterns: 0,
            sub_shard_channels: 0,
            net_in: 0,
            net_out: 0,
            commands: 0,
            qbuf_len: 0,
            qbuf_free: 0,
            argv_mem: 0,
        }
    }

    pub fn is_pubsub(&self) -> bool {
        self.sub_channels + self.sub_patterns + self.sub_shard_channels > 0
    }

    /// Valkey's `getClientType`: monitors are normal clients.
    pub fn client_type(&self) -> ClientType {
        if self.is_pubsub() {
            ClientType::PubSub
        } else {
            ClientType::Normal
        }
    }

    /// The `flags=` letters of CLIENT LIST, in Valkey's order.
    pub fn flags_string(&self, view: ServerView<'_>) -> String {
        let mut f = String::new();
        if self.monitor {
            f.push('O');
        }
        if self.is_pubsub() {
            f.push('P');
        }
        if self.multi.is_some() {
            f.push('x');
        }
        if self.postponed || self.blocked.is_some() {
            f.push('b');
        }
        if let Some(t) = view.tracking {
            f.push('t');
            if t.broken_redirect {
                f.push('R');
            }
            if t.bcast {
                f.push('B');
            }
        }
        if view.dirty_cas {
            f.push('d');
        }
        if self.close_after_reply {
            f.push('c');
        }
        if self.killed {
            f.push('A');
        }
        if self.readonly {
            f.push('r');
        }
        if self.no_evict {
            f.push('e');
        }
        if self.no_touch {
            f.push('T');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// Describes this client while it runs a command (it is out of
    /// `Server::clients`; its reply buffer is `out`).
    pub fn info_running<'a>(&'a self, out: &Reply) -> ClientInfo<'a> {
        let pending = out.len();
        ClientInfo {
            state: self,
            qbuf: self.qbuf_len,
            qbuf_free: self.qbuf_free,
            argv_mem: self.argv_mem,
            pending_out: pending,
            out_capacity: out.capacity(),
            events: "r",
            resp: resp_version(out.protocol()),
        }
    }
}

/// Whether a peer address is on the loopback interface, as Valkey's
/// `connSocketIsLocal` decides it ("127.*" or "::1").
pub fn is_loopback(addr: &SocketAddr) -> bool {
    match addr {
        SocketAddr::V4(a) => a.ip().octets()[0] == 127,
        SocketAddr::V6(a) => a.ip().is_loopback(),
    }
}

fn resp_version(p: Protocol) -> u8 {
    match p {
        Protocol::Resp2 => 2,
        Protocol::Resp3 => 3,
    }
}

/// A connection and its buffers.
pub struct Client {
    pub sock: TcpStream,
    /// Received bytes; `qpos` is where the next command starts.
    /// Zeroed once as it grows; input is `qbuf[qpos..qend]`.
    pub qbuf: Vec<u8>,
    pub qpos: usize,
    pub qend: usize,
    pub parser: RequestParser,
    pub args: ArgList,
    /// Replies not yet written; `wpos` bytes of it already went out.
    pub out: Reply,
    pub wpos: usize,
    /// WRITABLE interest is registered (the socket was full).
    pub wants_write: bool,
    /// On the event loop's ready list (cut off at the end of its turn with
    /// input left): it must be queued once, or every event it gets while
    /// queued would add a turn to each round and the round would grow
    /// without bound.
    pub queued: bool,
    /// Since when the output is above the soft limit of
    /// `client-output-buffer-limit`.
    pub obuf_soft_since: Option<Instant>,
    pub state: ClientState,
}

impl Client {
    pub fn new(sock: TcpStream, state: ClientState) -> Client {
        Client {
            sock,
            qbuf: Vec::new(),
            qpos: 0,
            qend: 0,
            parser: RequestParser::default(),
            args: ArgList::default(),
            out: Reply::new(Protocol::Resp2),
            wpos: 0,
            wants_write: false,
            queued: false,
            obuf_soft_since: None,
            state,
        }
    }

    /// Output not yet written, in bytes.
    pub fn pending_output(&self) -> usize {
        self.out.len() - self.wpos
    }

    /// Output beyond the static reply buffer: what Valkey's
    /// `getClientOutputBufferMemoryUsage` counts.
    pub fn output_memory(&self) -> usize {
        self.pending_output().saturating_sub(REPLY_CHUNK_BYTES)
    }

    /// Describes this client (not running a command).
    pub fn info(&self) -> ClientInfo<'_> {
        // Without pending input the client has no buffer of its own in
        // Valkey 8 (it reads into a shared one).
        let qbuf = self.qend - self.qpos;
        ClientInfo {
            state: &self.state,
            qbuf,
            qbuf_free: if qbuf == 0 {
                0
            } else {
                self.qbuf.len() - self.qend
            },
            argv_mem: 0,
            pending_out: self.pending_output(),
            out_capacity: self.out.capacity(),
            events: if self.wants_write { "rw" } else { "r" },
            resp: resp_version(self.out.protocol()),
        }
    }
}

/// What the server keeps about a client outside its state, shown in its
/// CLIENT LIST line: a failed WATCH, its tracking settings.
#[derive(Clone, Copy, Default)]
pub struct ServerView<'a> {
    pub dirty_cas: bool,
    pub tracking: Option<&'a super::tracking::ClientTracking>,
}

impl<'a> ServerView<'a> {
    pub fn of(srv: &'a super::Server, id: u64) -> ServerView<'a> {
        ServerView {
            dirty_cas: srv.cas_dirty.contains(&id),
            tracking: srv.tracking.clients.get(&id),
        }
    }
}

/// The data of one `CLIENT LIST` line.
pub struct ClientInfo<'a> {
    pub state: &'a ClientState,
    pub qbuf: usize,
    pub qbuf_free: usize,
    pub argv_mem: usize,
    pub pending_out: usize,
    pub out_capacity: usize,
    pub events: &'static str,
    pub resp: u8,
}

impl ClientInfo<'_> {
    /// Bytes this client costs (`tot-mem`): the structures, both buffers,
    /// the arguments and the MULTI queue.
    pub fn total_memory(&self) -> usize {
        std::mem::size_of::<Client>()
            + self.qbuf
            + self.qbuf_free
            + self.argv_mem
            + self.out_capacity
            + self.state.multi.as_ref().map_or(0, MultiState::args_bytes)
            + self
                .state
                .watched
                .iter()
                .map(|(_, k)| k.len() + 32)
                .sum::<usize>()
    }

    /// Appends the line in Valkey 8.0's field order (`catClientInfoString`),
    /// without the trailing newline.
    pub fn write_line(&self, out: &mut String, view: ServerView<'_>) {
        let s = self.state;
        let obl = self.pending_out.min(REPLY_CHUNK_BYTES);
        let omem = self.pending_out - obl;
        let oll = omem.div_ceil(REPLY_CHUNK_BYTES);
        let multi = s.multi.as_ref().map_or(-1, |m| m.queue.len() as i64);
        let multi_mem = s.multi.as_ref().map_or(0, MultiState::args_bytes);
        let lossy = |v: &Option<Vec<u8>>| {
            v.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        let _ = write!(
            out,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} \
             multi={} watch={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs={} rbp={} obl={} \
             oll={} omem={} tot-mem={} events={} cmd={} user={} redir={} resp={} lib-name={} \
             lib-ver={} tot-net-in={} tot-net-out={} tot-cmds={}",
            s.id,
            s.addr,
            s.laddr,
            s.fd,
            lossy(&s.name),
            s.created.elapsed().as_secs(),
            s.last_interaction.elapsed().as_secs(),
            s.flags_string(view),
            s.db,
            s.sub_channels,
            s.sub_patterns,
            s.sub_shard_channels,
            multi,
            s.watched.len(),
            self.qbuf,
            self.qbuf_free,
            self.argv_mem,
            multi_mem,
            REPLY_CHUNK_BYTES,
            REPLY_CHUNK_BYTES,
            obl,
            oll,
            omem,
            self.total_memory(),
            self.events,
            s.last_cmd,
            String::from_utf8_lossy(&s.user),
            view.tracking.map_or(-1, |t| t.redirect as i64),
            self.resp,
            lossy(&s.lib_name),
            lossy(&s.lib_ver),
            s.net_in,
            s.net_out,
            s.commands,
        );
    }
}

/// Valkey's `validateClientAttr`: names and library attributes must be
/// printable ASCII without spaces, so CLIENT LIST stays splittable.
pub fn valid_client_attr(v: &[u8]) -> bool {
    v.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection_matches_valkey() {
        assert!(is_loopback(&"127.0.0.1:5".parse().unwrap()));
        assert!(is_loopback(&"127.9.9.9:5".parse().unwrap()));
        assert!(is_loopback(&"[::1]:5".parse().unwrap()));
        assert!(!is_loopback(&"10.0.0.1:5".parse().unwrap()));
        assert!(!is_loopback(&"[fe80::1]:5".parse().unwrap()));
    }

    #[test]
    fn flags_in_valkey_order() {
        let mut s = ClientState::new(1, "127.0.0.1:1".into(), "127.0.0.1:2".into(), 5, true);
        let clean = ServerView::default();
        let dirty = ServerView {
            dirty_cas: true,
            ..Default::default()
        };
        assert_eq!(s.flags_string(clean), "N");
        s.monitor = true;
        s.multi = Some(MultiState::default());
        s.no_evict = true;
        s.no_touch = true;
        assert_eq!(s.flags_string(dirty), "OxdeT");
        s.killed = true;
        assert_eq!(s.flags_string(clean), "OxAeT");
        let t = crate::server::tracking::ClientTracking {
            bcast: true,
            broken_redirect: true,
            ..Default::default()
        };
        let tracked = ServerView {
            tracking: Some(&t),
            ..Default::default()
        };
        s.readonly = true;
        assert_eq!(s.flags_string(tracked), "OxtRBAreT");
    }

    #[test]
    fn info_line_fields_in_order() {
        let mut s = ClientState::new(7, "127.0.0.1:1".into(), "127.0.0.1:2".into(), 9, true);
        s.name = Some(b"foo".to_vec());
        s.last_cmd = "client|info";
        let out = Reply::new(Protocol::Resp3);
        let mut line = String::new();
        s.info_running(&out)
            .write_line(&mut line, ServerView::default());
        let keys: Vec<&str> = line
            .split(' ')
            .map(|kv| kv.split('=').next().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "addr",
                "laddr",
                "fd",
                "name",
                "age",
                "idle",
                "flags",
                "db",
                "sub",
                "psub",
                "ssub",
                "multi",
                "watch",
                "qbuf",
                "qbuf-free",
                "argv-mem",
                "multi-mem",
                "rbs",
                "rbp",
                "obl",
                "oll",
                "omem",
                "tot-mem",
                "events",
                "cmd",
                "user",
                "redir",
                "resp",
                "lib-name",
                "lib-ver",
                "tot-net-in",
                "tot-net-out",
                "tot-cmds"
            ]
        );
        assert!(line.starts_with("id=7 addr=127.0.0.1:1 laddr=127.0.0.1:2 fd=9 name=foo age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 watch=0 "));
        assert!(line.contains(" obl=0 oll=0 omem=0 "));
        assert!(line.contains(
            " events=r cmd=client|info user=default redir=-1 resp=3 lib-name= lib-ver= "
        ));
    }

    #[test]
    fn client_attrs_must_be_printable_without_spaces() {
        assert!(valid_client_attr(b"redis-py"));
        assert!(valid_client_attr(b""));
        assert!(!valid_client_attr(b"a b"));
        assert!(!valid_client_attr(b"a\nb"));
        assert!(!valid_client_attr("é".as_bytes()));
    }

    #[test]
    fn client_type_names() {
        assert_eq!(ClientType::from_name(b"NORMAL"), Some(ClientType::Normal));
        assert_eq!(ClientType::from_name(b"slave"), Some(ClientType::Replica));
        assert_eq!(ClientType::from_name(b"replica"), Some(ClientType::Replica));
        assert_eq!(ClientType::from_name(b"master"), Some(ClientType::Primary));
        assert_eq!(ClientType::from_name(b"pubsub"), Some(ClientType::PubSub));
        assert_eq!(ClientType::from_name(b"x"), None);
    }
}
