//! A client connection: its socket and buffers ([`Client`]) and the state
//! commands see and change ([`ClientState`]).

use crate::resp::{ArgList, OwnedArgs, Protocol, Reply, RequestParser};
use mio::net::TcpStream;
use std::time::Instant;

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
    /// Close the connection once pending replies are written.
    pub close_after_reply: bool,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub created: Instant,
    pub last_interaction: Instant,
    pub last_cmd: &'static str,
    /// Set by CLIENT KILL from another client: closed at the next chance.
    pub killed: bool,
}

impl ClientState {
    pub fn new(id: u64, addr: String, laddr: String, fd: i32, authenticated: bool) -> ClientState {
        let now = Instant::now();
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
            close_after_reply: false,
            addr,
            laddr,
            fd,
            created: now,
            last_interaction: now,
            last_cmd: "NULL",
            killed: false,
        }
    }
}

/// A connection and its buffers.
pub struct Client {
    pub sock: TcpStream,
    /// Received bytes; `qpos` is where the next command starts.
    pub qbuf: Vec<u8>,
    pub qpos: usize,
    pub parser: RequestParser,
    pub args: ArgList,
    /// Replies not yet written; `wpos` bytes of it already went out.
    pub out: Reply,
    pub wpos: usize,
    /// WRITABLE interest is registered (the socket was full).
    pub wants_write: bool,
    pub state: ClientState,
}

impl Client {
    pub fn new(sock: TcpStream, state: ClientState) -> Client {
        Client {
            sock,
            qbuf: Vec::new(),
            qpos: 0,
            parser: RequestParser::default(),
            args: ArgList::default(),
            out: Reply::new(Protocol::Resp2),
            wpos: 0,
            wants_write: false,
            state,
        }
    }

    /// Output not yet written, in bytes.
    pub fn pending_output(&self) -> usize {
        self.out.len() - self.wpos
    }
}
