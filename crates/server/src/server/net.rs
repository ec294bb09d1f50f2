//! The event loop: accept, read, run, write — on one thread, with mio.
//!
//! A readable client is read until the socket is drained, every complete
//! command in its buffer is run (pipelining), and all their replies go out in
//! one `write` when the socket takes them. Only when the socket is full is
//! WRITABLE interest registered, so a request/response round trip costs one
//! read and one write syscall.

use super::exec::execute;
use super::{Client, ClientState, Server};
use crate::config::Config;
use crate::keyspace::Now;
use crate::resp::{ParseLimits, Parsed};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Read at least this much per read call.
const READ_CHUNK: usize = 16 * 1024;
/// Write pending replies out once they reach this size, mid-pipeline.
const REPLY_CHUNK: usize = 64 * 1024;
/// Listener tokens count down from here; client tokens are slot indexes.
const LISTENER_BASE: usize = usize::MAX - 64;

pub struct EventLoop {
    poll: Poll,
    listeners: Vec<TcpListener>,
    pub srv: Server,
}

/// The addresses `bind` asks for. `-` before an address makes it optional
/// (Valkey: "* -::*" binds IPv6 only where available).
fn bind_addrs(config: &Config) -> Vec<(SocketAddr, bool)> {
    let mut out = Vec::new();
    for b in &config.bind {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, b.as_str()),
        };
        let host = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        if let Ok(ip) = host.parse::<std::net::IpAddr>() {
            out.push((SocketAddr::new(ip, config.port), optional));
        }
    }
    out
}

impl EventLoop {
    pub fn new(config: Config) -> io::Result<EventLoop> {
        let poll = Poll::new()?;
        let mut listeners = Vec::new();
        for (addr, optional) in bind_addrs(&config) {
            match bind_listener(addr) {
                Ok(l) => listeners.push(l),
                Err(e) if optional => {
                    log::verbose(&format!("Could not bind {addr}: {e} (optional)"))
                }
                Err(e) => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!("Could not create server TCP listening socket {addr}: {e}"),
                    ))
                }
            }
        }
        if listeners.is_empty() && config.port != 0 {
            return Err(io::Error::new(
                ErrorKind::AddrNotAvailable,
                "Failed listening on any address",
            ));
        }
        for (i, l) in listeners.iter_mut().enumerate() {
            poll.registry()
                .register(l, Token(LISTENER_BASE + i), Interest::READABLE)?;
        }
        Ok(EventLoop {
            poll,
            listeners,
            srv: Server::new(config),
        })
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Runs until SHUTDOWN.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut next_cron = Instant::now();
        loop {
            let timeout = next_cron.saturating_duration_since(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            self.srv.now = Now::from_system();
            for ev in events.iter() {
                let t = ev.token().0;
                if t >= LISTENER_BASE {
                    self.accept(t - LISTENER_BASE);
                    continue;
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.on_readable(t);
                }
                if ev.is_writable() {
                    self.on_writable(t);
                }
            }
            if Instant::now() >= next_cron {
                self.srv.now = Now::from_system();
                super::cron::run(&mut self.srv);
                self.close_killed_and_idle();
                let hz = self.srv.config.hz.clamp(1, 500) as u64;
                next_cron = Instant::now() + Duration::from_millis(1000 / hz);
            }
            if self.srv.shutdown {
                self.flush_all();
                return Ok(());
            }
        }
    }

    fn accept(&mut self, li: usize) {
        loop {
            let (sock, peer) = match self.listeners[li].accept() {
                Ok(x) => x,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) => {
                    log::warning(&format!("Accepting client connection: {e}"));
                    return;
                }
            };
            self.add_client(sock, peer);
        }
    }

    fn add_client(&mut self, mut sock: TcpStream, peer: SocketAddr) {
        let srv = &mut self.srv;
        srv.stats.total_connections_received += 1;
        let live = srv.clients.iter().flatten().count();
        if live >= srv.config.maxclients as usize {
            let _ = sock.write_all(b"-ERR max number of clients reached\r\n");
            srv.stats.rejected_connections += 1;
            return;
        }
        let _ = sock.set_nodelay(true);
        let slot = match srv.clients.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                srv.clients.push(None);
                srv.clients.len() - 1
            }
        };
        if self
            .poll
            .registry()
            .register(&mut sock, Token(slot), Interest::READABLE)
            .is_err()
        {
            return;
        }
        let id = srv.next_client_id;
        srv.next_client_id += 1;
        let laddr = sock.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let fd = sock.as_raw_fd();
        let authenticated = srv.config.requirepass.is_none();
        let state = ClientState::new(id, peer.to_string(), laddr, fd, authenticated);
        srv.clients[slot] = Some(Box::new(Client::new(sock, state)));
    }

    fn on_readable(&mut self, slot: usize) {
        let Some(mut c) = self.srv.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let open = self.read_and_run(&mut c, slot);
        self.finish(slot, c, open);
    }

    fn on_writable(&mut self, slot: usize) {
        let Some(mut c) = self.srv.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let open = self.flush(&mut c, slot);
        self.finish(slot, c, open);
    }

    /// Puts a client back in its slot, or closes it.
    fn finish(&mut self, slot: usize, mut c: Box<Client>, open: bool) {
        let done =
            !open || (c.state.close_after_reply && c.pending_output() == 0) || c.state.killed;
        if done {
            self.close(&mut c);
        } else {
            self.srv.clients[slot] = Some(c);
        }
    }

    /// Reads what is available and runs the commands, one read at a time so
    /// a flood of pipelined input never piles up in the query buffer; false
    /// when the connection is finished.
    fn read_and_run(&mut self, c: &mut Client, slot: usize) -> bool {
        loop {
            if c.qbuf.capacity() - c.qbuf.len() < READ_CHUNK / 2 {
                c.qbuf.reserve(READ_CHUNK);
            }
            let len = c.qbuf.len();
            let spare = c.qbuf.capacity() - len;
            c.qbuf.resize(len + spare, 0);
            let n = match c.sock.read(&mut c.qbuf[len..]) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    c.qbuf.truncate(len);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {
                    c.qbuf.truncate(len);
                    continue;
                }
                Err(_) => {
                    c.qbuf.truncate(len);
                    return false;
                }
            };
            c.qbuf.truncate(len + n);
            if n == 0 {
                // EOF: run what arrived whole, then close.
                self.run_commands(c);
                return false;
            }
            self.srv.stats.total_net_input_bytes += n as u64;
            c.state.last_interaction = Instant::now();
            if c.qbuf.len() - c.qpos > self.srv.config.client_query_buffer_limit as usize {
                log::warning(&format!(
                    "Closing client that reached max query buffer length: id={} addr={}",
                    c.state.id, c.state.addr
                ));
                return false;
            }
            self.run_commands(c);
            if c.pending_output() >= REPLY_CHUNK && !self.flush(c, slot) {
                return false;
            }
            if c.state.close_after_reply || c.state.killed || self.srv.shutdown {
                break;
            }
        }
        self.flush(c, slot)
    }

    /// Runs every complete command in the query buffer.
    fn run_commands(&mut self, c: &mut Client) {
        let limits = ParseLimits {
            max_bulk_len: self.srv.config.proto_max_bulk_len as usize,
            max_inline_len: 64 * 1024,
            max_multibulk_len: i32::MAX as usize,
            authenticated: c.state.authenticated,
        };
        while !c.state.close_after_reply && !c.state.killed {
            let buf = &c.qbuf[c.qpos..];
            if buf.is_empty() {
                break;
            }
            match c.parser.parse(buf, &limits, &mut c.args) {
                Ok(Parsed::Complete { consumed }) => {
                    if !c.args.is_empty() {
                        let args = c.args.args(&c.qbuf[c.qpos..]);
                        execute(&mut self.srv, &mut c.state, &mut c.out, args);
                    }
                    c.qpos += consumed;
                    if self.srv.shutdown {
                        break;
                    }
                }
                Ok(Parsed::Incomplete { needed }) => {
                    if let Some(n) = needed {
                        let want = (c.qpos + n).saturating_sub(c.qbuf.len());
                        c.qbuf.reserve(want);
                    }
                    break;
                }
                Err(e) => {
                    let msg = format!("ERR {}", e.message());
                    log::verbose(&format!(
                        "Protocol error ({}) from client: id={} addr={}",
                        e.message(),
                        c.state.id,
                        c.state.addr
                    ));
                    c.out.error(msg.as_bytes());
                    c.state.close_after_reply = true;
                    break;
                }
            }
        }
        // Drop consumed bytes; cheap when all of it was consumed.
        if c.qpos == c.qbuf.len() {
            c.qbuf.clear();
            c.qpos = 0;
        } else if c.qpos > 0 {
            c.qbuf.drain(..c.qpos);
            c.qpos = 0;
        }
        if c.qbuf.is_empty() && c.qbuf.capacity() > 4 * READ_CHUNK {
            c.qbuf = Vec::new();
        }
    }

    /// Writes pending replies; false if the connection broke.
    fn flush(&mut self, c: &mut Client, slot: usize) -> bool {
        while c.pending_output() > 0 {
            match c.sock.write(&c.out.buf()[c.wpos..]) {
                Ok(0) => return false,
                Ok(n) => {
                    c.wpos += n;
                    self.srv.stats.total_net_output_bytes += n as u64;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if !c.wants_write {
                        c.wants_write = true;
                        let _ = self.poll.registry().reregister(
                            &mut c.sock,
                            Token(slot),
                            Interest::READABLE | Interest::WRITABLE,
                        );
                    }
                    return true;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        c.out.clear();
        c.wpos = 0;
        if c.wants_write {
            c.wants_write = false;
            let _ = self
                .poll
                .registry()
                .reregister(&mut c.sock, Token(slot), Interest::READABLE);
        }
        true
    }

    fn close(&mut self, c: &mut Client) {
        let _ = self.poll.registry().deregister(&mut c.sock);
        super::exec::unwatch_all(&mut self.srv, &mut c.state);
    }

    fn close_killed_and_idle(&mut self) {
        let timeout = self.srv.config.timeout;
        let now = Instant::now();
        for slot in 0..self.srv.clients.len() {
            let expired = match &self.srv.clients[slot] {
                Some(c) => {
                    c.state.killed
                        || (timeout > 0
                            && c.state.multi.is_none()
                            && now.duration_since(c.state.last_interaction).as_secs()
                                > timeout as u64)
                }
                None => false,
            };
            if expired {
                if let Some(mut c) = self.srv.clients[slot].take() {
                    self.close(&mut c);
                }
            }
        }
    }

    fn flush_all(&mut self) {
        for slot in 0..self.srv.clients.len() {
            if let Some(mut c) = self.srv.clients[slot].take() {
                let _ = c.sock.write_all(&c.out.buf()[c.wpos..]);
                self.close(&mut c);
            }
        }
    }
}

fn bind_listener(addr: SocketAddr) -> io::Result<TcpListener> {
    // std's listener sets SO_REUSEADDR on Unix; mio takes it over.
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    Ok(TcpListener::from_std(std_listener))
}

/// Log lines in Valkey's format: `pid:M dd Mon yyyy hh:mm:ss.mmm * message`.
pub mod log {
    use std::sync::atomic::{AtomicU8, Ordering};

    /// 0 debug, 1 verbose, 2 notice, 3 warning, 4 nothing.
    pub static LEVEL: AtomicU8 = AtomicU8::new(2);

    fn emit(level: u8, mark: char, msg: &str) {
        if level < LEVEL.load(Ordering::Relaxed) {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = now.as_secs();
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        eprintln!(
            "{}:M {:02}:{:02}:{:02}.{:03} {} {}",
            std::process::id(),
            h,
            m,
            s,
            now.subsec_millis(),
            mark,
            msg
        );
    }

    pub fn verbose(msg: &str) {
        emit(1, '-', msg)
    }
    pub fn notice(msg: &str) {
        emit(2, '*', msg)
    }
    pub fn warning(msg: &str) {
        emit(3, '#', msg)
    }
}
