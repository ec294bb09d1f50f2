//! The event loop: accept, read, run, write — on one thread, with mio.
//!
//! A readable client is read until the socket is drained, every complete
//! command in its buffer is run (pipelining), and all their replies go out in
//! one `write` when the socket takes them. Only when the socket is full is
//! WRITABLE interest registered, so a request/response round trip costs one
//! read and one write syscall.
//!
//! Around that: protected mode and `maxclients` at accept time, the query
//! and output buffer limits, CLIENT PAUSE (a held command stays in the query
//! buffer until the pause ends), output produced for other clients (MONITOR)
//! and clients killed by CLIENT KILL.

use super::client::{is_loopback, ClientType};
use super::exec::{execute, must_postpone};
use super::{Client, ClientState, Server};
use crate::config::{ClientBufferLimit, Config, OBUF_NORMAL, OBUF_PUBSUB};
use crate::keyspace::Now;
use crate::resp::parser::Peeked;
use crate::resp::{ParseLimits, Parsed};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Read at least this much per read call.
const READ_CHUNK: usize = 16 * 1024;
/// Reads one client gets before the others' turn (see `read_and_run`).
const READS_PER_TURN: usize = 2;
/// Write pending replies out once they reach this size, mid-pipeline.
const REPLY_CHUNK: usize = 64 * 1024;
/// Listener tokens count down from here; client tokens are slot indexes.
const LISTENER_BASE: usize = usize::MAX - 64;

/// Valkey's reply to a non-loopback client in protected mode.
pub const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Running in protected mode because protected \
mode is enabled and no password is set for the default user. In this mode connections are only \
accepted from the loopback interface. If you want to connect from external computers, you may \
adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG \
SET protected-mode no' from the loopback interface by connecting from the same host the server is \
running, however MAKE SURE it's not publicly accessible from internet if you do so. Use CONFIG \
REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode \
by editing the configuration file, and setting the protected mode option to 'no', and then \
restarting the server. 3) If you started the server manually just for testing, restart it with \
the '--protected-mode no' option. 4) Set up an authentication password for the default user. \
NOTE: You only need to do one of the above things in order for the server to start accepting \
connections from the outside.\r\n";

/// Whether protected mode turns this peer away: Valkey 8 denies non-loopback
/// peers while `protected-mode` is on and the default user has no password
/// (whatever `bind` says).
pub fn protected_mode_denies(config: &Config, peer: &SocketAddr) -> bool {
    config.protected_mode && config.requirepass.is_none() && !is_loopback(peer)
}

pub struct EventLoop {
    poll: Poll,
    pub srv: Server,
    /// Clients whose turn ended with input possibly still unread: served
    /// again on the next loop iteration, after the others' events.
    ready: Vec<usize>,
    /// The last round served events (see `busy_poll`).
    was_busy: bool,
    /// Waking blocked clients is under way (it re-runs commands, which may
    /// make more keys ready: the running loop picks those up).
    serving_blocked: bool,
    /// Clients with replies to this round's commands, written at its end
    /// before the other pending output (see `flush_pending_writes`).
    replies: Vec<usize>,
    /// Rounds since pub/sub messages were first held back (see
    /// `wait_for_events`).
    pubsub_rounds: u32,
}

/// How many rounds pub/sub messages may wait for a poll that finds
/// nothing to do before they are written anyway.
const PUBSUB_MAX_ROUNDS: u32 = 4;
/// Held messages (deliveries) past which they are written at the end of
/// the round: a round that fills many subscribers' buffers already makes
/// writes big enough, and holding more only grows the buffers.
const PUBSUB_MAX_HELD: usize = 512;

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

/// The output buffer limit class of a client.
fn obuf_class(state: &ClientState) -> usize {
    match state.client_type() {
        ClientType::PubSub => OBUF_PUBSUB,
        _ => OBUF_NORMAL,
    }
}

/// Valkey's `checkClientOutputBufferLimits`: the hard limit closes at once,
/// the soft limit when exceeded for longer than its seconds.
fn obuf_limit_reached(c: &mut Client, limit: &ClientBufferLimit) -> bool {
    let used = c.output_memory() as u64;
    let hard = limit.hard_limit_bytes > 0 && used >= limit.hard_limit_bytes;
    let over_soft = limit.soft_limit_bytes > 0 && used >= limit.soft_limit_bytes;
    let soft = if over_soft {
        match c.obuf_soft_since {
            None => {
                c.obuf_soft_since = Some(Instant::now());
                false
            }
            Some(t) => t.elapsed().as_secs() > limit.soft_limit_seconds,
        }
    } else {
        c.obuf_soft_since = None;
        false
    };
    hard || soft
}

/// The client as CLIENT LIST shows it, for log lines.
fn describe(srv: &Server, c: &Client) -> String {
    let mut s = String::new();
    c.info()
        .write_line(&mut s, super::client::ServerView::of(srv, c.state.id));
    s
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
        let mut srv = Server::new(config);
        crate::persistence::load_at_startup(&mut srv)
            .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
        crate::persistence::aof::open_at_startup(&mut srv)?;
        srv.listeners = listeners;
        srv.registry = poll.registry().try_clone().ok();
        Ok(EventLoop {
            poll,
            srv,
            ready: Vec::new(),
            was_busy: false,
            serving_blocked: false,
            replies: Vec::new(),
            pubsub_rounds: 0,
        })
    }

    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.srv
            .listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Runs until SHUTDOWN, SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        signals::install();
        let mut events = Events::with_capacity(1024);
        let mut next_cron = Instant::now();
        loop {
            let mut timeout = next_cron.saturating_duration_since(Instant::now());
            if !self.ready.is_empty() {
                timeout = Duration::ZERO;
            }
            if let Some(p) = self.srv.pause {
                let left = (p.end_ms - Now::from_system().ms).max(0) as u64;
                timeout = timeout.min(Duration::from_millis(left));
            }
            if let Some(&(deadline, _)) = self.srv.block_deadlines.first() {
                let left = (deadline - Now::from_system().ms).max(0) as u64;
                timeout = timeout.min(Duration::from_millis(left));
            }
            self.wait_for_events(&mut events, timeout)?;
            self.was_busy = !events.is_empty();
            let busy = Instant::now();
            self.srv.refresh_now();
            self.srv.update_pause(self.srv.now.ms);
            for ev in events.iter() {
                let t = ev.token().0;
                if t >= LISTENER_BASE {
                    self.accept(t - LISTENER_BASE);
                    continue;
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.on_readable(t, ev.is_read_closed() || ev.is_error());
                }
                if ev.is_writable() {
                    self.on_writable(t);
                }
            }
            // Clients cut off at the end of their turn (fairness, below).
            for slot in std::mem::take(&mut self.ready) {
                if let Some(Some(c)) = self.srv.clients.get_mut(slot) {
                    c.queued = false;
                }
                self.on_readable(slot, true);
            }
            if !self.srv.block_deadlines.is_empty() {
                self.srv.refresh_now();
                self.release_timed_out();
            }
            self.after_commands();
            if Instant::now() >= next_cron {
                if !self.srv.pause_cron {
                    self.srv.refresh_now();
                    super::cron::run(&mut self.srv);
                    self.close_idle();
                }
                let hz = self.srv.config.hz.clamp(1, 500) as u64;
                next_cron = Instant::now() + Duration::from_millis(1000 / hz);
            }
            if let Some(sig) = signals::take() {
                log::warning(&format!("Received {sig} scheduling shutdown..."));
                let mode = crate::persistence::ShutdownSave::Default;
                if crate::persistence::prepare_for_shutdown(&mut self.srv, mode, false) {
                    self.srv.shutdown = true;
                } else {
                    log::warning(&format!(
                        "{sig} received but errors trying to shut down the server, check the logs for more information"
                    ));
                }
            }
            self.srv.track_metrics();
            self.srv.stats.eventloop_cycles += 1;
            self.srv.stats.eventloop_duration_sum += busy.elapsed().as_micros() as u64;
            if self.srv.shutdown {
                crate::persistence::aof::flush_and_sync_at_exit(&mut self.srv);
                self.flush_all();
                return Ok(());
            }
        }
    }

    /// Polls for events, sleeping up to `timeout`. Messages for subscribers
    /// held back by the last rounds go out first if nothing is waiting, so
    /// while publishers keep the server busy each subscriber gets the
    /// messages of several publishes in one write (Valkey gets the same
    /// from its longer rounds); an idle server delivers them at once.
    fn wait_for_events(&mut self, events: &mut Events, timeout: Duration) -> io::Result<()> {
        if !self.srv.pubsub_writes.is_empty() {
            self.poll_once(events, Duration::ZERO)?;
            if !events.is_empty() {
                return Ok(());
            }
            self.flush_pubsub_writes();
        }
        if !self.busy_poll(events, timeout)? {
            self.poll_once(events, timeout)?;
        }
        Ok(())
    }

    fn poll_once(&mut self, events: &mut Events, timeout: Duration) -> io::Result<()> {
        match self.poll.poll(events, Some(timeout)) {
            Err(e) if e.kind() != ErrorKind::Interrupted => Err(e),
            _ => Ok(()),
        }
    }

    fn flush_pubsub_writes(&mut self) {
        self.pubsub_rounds = 0;
        let held = std::mem::take(&mut self.srv.pubsub_writes);
        self.srv.pending_writes.extend(held);
        self.flush_pending_writes();
    }

    /// `busy-poll-usec`: right after a round that served events, polls
    /// without sleeping for up to that long before the caller blocks;
    /// true if events came meanwhile. Measured on this 2-vCPU VM at -P 1
    /// (50 clients): +10-20 % requests/s, as the core no longer sleeps and
    /// wakes between requests; the spin shows as CPU time.
    fn busy_poll(&mut self, events: &mut Events, timeout: Duration) -> io::Result<bool> {
        let spin = u64::from(self.srv.config.busy_poll_usec);
        if spin == 0 || timeout.is_zero() || !self.was_busy {
            return Ok(false);
        }
        let until = Instant::now() + Duration::from_micros(spin);
        loop {
            self.poll_once(events, Duration::ZERO)?;
            if !events.is_empty() {
                return Ok(true);
            }
            if Instant::now() >= until {
                return Ok(false);
            }
            std::hint::spin_loop();
        }
    }

    /// Work left behind by the commands just run: clients a pause released,
    /// output produced for other clients, clients killed.
    fn after_commands(&mut self) {
        // Valkey's beforeSleep: the BCAST invalidations of this cycle.
        super::tracking::broadcast(&mut self.srv);
        // Released clients may run commands that release or feed others.
        for _ in 0..8 {
            let mut progressed = false;
            if self.srv.resume_postponed {
                self.srv.resume_postponed = false;
                self.resume_postponed();
                progressed = true;
            }
            if !self.srv.unblocked.is_empty() {
                self.run_unblocked();
                progressed = true;
            }
            if super::blocking::has_ready(&self.srv) {
                self.serve_blocked();
                progressed = true;
            }
            // Valkey's beforeSleep: the AOF is written (and fsynced with
            // `appendfsync always`) before the replies held for it go out.
            crate::persistence::aof::before_sleep(&mut self.srv);
            if !self.srv.pending_writes.is_empty() || !self.replies.is_empty() {
                self.flush_pending_writes();
                progressed = true;
            }
            if self.srv.kill_pending {
                self.srv.kill_pending = false;
                self.close_killed();
                progressed = true;
            }
            if !progressed || self.srv.shutdown {
                break;
            }
        }
        if !self.srv.pubsub_writes.is_empty() {
            self.pubsub_rounds += 1;
            if self.pubsub_rounds >= PUBSUB_MAX_ROUNDS
                || self.srv.pubsub_writes.len() >= PUBSUB_MAX_HELD
                || self.srv.shutdown
            {
                self.flush_pubsub_writes();
            }
        }
    }

    fn accept(&mut self, li: usize) {
        loop {
            // The listeners may have been replaced (CONFIG SET port) since
            // the event was queued.
            let Some(listener) = self.srv.listeners.get(li) else {
                return;
            };
            let (sock, peer) = match listener.accept() {
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
        // Admission control first, as Valkey's acceptCommonHandler.
        let live = srv.clients.iter().flatten().count();
        if live >= srv.config.maxclients as usize {
            let _ = sock.write_all(b"-ERR max number of clients reached\r\n");
            srv.stats.rejected_connections += 1;
            return;
        }
        if protected_mode_denies(&srv.config, &peer) {
            let _ = sock.write_all(PROTECTED_MODE_DENIED);
            srv.stats.rejected_connections += 1;
            return;
        }
        srv.stats.total_connections_received += 1;
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
        let mut state = ClientState::new(id, peer.to_string(), laddr, fd, authenticated);
        state.slot = slot;
        srv.clients[slot] = Some(Box::new(Client::new(sock, state)));
        srv.client_slots.insert(id, slot);
    }

    /// `drain`: read until the socket says EAGAIN or EOF (the peer closed,
    /// or the client was cut off mid-stream and has no event pending).
    fn on_readable(&mut self, slot: usize, drain: bool) {
        let Some(mut c) = self.srv.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let open = self.read_and_run(&mut c, slot, drain);
        self.finish(slot, c, open);
    }

    fn on_writable(&mut self, slot: usize) {
        let Some(mut c) = self.srv.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let mut open = self.flush(&mut c, slot);
        // Reading stopped while replies were stuck (back-pressure): with
        // edge-triggered events, unread input would wait forever.
        if open && !c.wants_write && !c.state.close_after_reply {
            open = self.read_and_run(&mut c, slot, true);
        }
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
    ///
    /// Back-pressure: while replies cannot be written (the client is not
    /// reading them), nothing more is read from it; `on_writable` resumes.
    /// So neither buffer grows without bound for a client that only sends.
    ///
    /// Fairness: a client gets at most `READS_PER_TURN` reads per turn, then
    /// goes on the ready list so others' requests are served in between
    /// (a client streaming a huge pipeline would otherwise hold the loop for
    /// as long as it keeps sending).
    ///
    /// A short read means the socket was empty when read: without `drain`
    /// the loop stops there instead of paying a second `read` for the
    /// EAGAIN (a third of all syscalls under pipelined load). Events are
    /// edge-triggered, and data or a FIN arriving after that read raises
    /// a new edge, so nothing is left unread; a FIN that had already
    /// arrived is reported with the event (`drain`), and then the loop
    /// reads on to the EOF.
    fn read_and_run(&mut self, c: &mut Client, slot: usize, drain: bool) -> bool {
        let mut reads = 0;
        while !c.wants_write {
            if reads == READS_PER_TURN {
                if !c.queued {
                    debug_assert!(!self.ready.contains(&slot), "client {slot} queued twice");
                    c.queued = true;
                    self.ready.push(slot);
                }
                break;
            }
            reads += 1;
            // The buffer is zeroed once as it grows, never per read: `qend`
            // marks how much of it holds input.
            if c.qbuf.len() - c.qend < READ_CHUNK / 2 {
                let want = (c.qend + READ_CHUNK).max(c.qbuf.capacity());
                c.qbuf.resize(want, 0);
            }
            let len = c.qend;
            let offered = c.qbuf.len() - len;
            let n = match c.sock.read(&mut c.qbuf[len..]) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return false,
            };
            c.qend += n;
            if n == 0 {
                // EOF: run what arrived whole, answer it, then close.
                // Valkey writes its replies before it sees the EOF, so a
                // client that half-closes (`printf 'PING\r\n' | nc`) is
                // answered; the close follows once the output is out.
                self.run_commands(c);
                c.state.close_after_reply = true;
                return self.flush(c, slot);
            }
            self.srv.stats.total_net_input_bytes += n as u64;
            self.srv.stats.total_reads_processed += 1;
            c.state.net_in += n as u64;
            if c.qend - c.qpos > self.srv.config.client_query_buffer_limit {
                self.query_buffer_limit_reached(c);
                return false;
            }
            c.state.last_interaction = Instant::now();
            self.run_commands(c);
            self.check_output_limits(c);
            if c.state.killed {
                return false;
            }
            if c.pending_output() >= REPLY_CHUNK && !self.flush(c, slot) {
                return false;
            }
            if c.state.close_after_reply || self.srv.shutdown || (n < offered && !drain) {
                break;
            }
        }
        if c.pending_output() > 0 && !c.state.close_after_reply && !self.srv.shutdown {
            // Written with the other clients' replies once every event of
            // this round is handled (Valkey's handleClientsWithPendingWrites
            // in beforeSleep): the replies reach their readers in one burst,
            // so a client woken by the first finds the next ones ready
            // instead of going back to sleep between them (a wake-up on the
            // other core costs more than the write that causes it).
            self.replies.push(slot);
            return true;
        }
        self.flush(c, slot)
    }

    /// Valkey's `handleQbLimitReached`: log and close.
    fn query_buffer_limit_reached(&mut self, c: &Client) {
        let mut head = Vec::new();
        let unread = &c.qbuf[c.qpos..c.qend];
        super::cat_repr(&mut head, &unread[..unread.len().min(64)]);
        log::warning(&format!(
            "Closing client that reached max query buffer length: {} (qbuf initial bytes: {})",
            describe(&self.srv, c),
            String::from_utf8_lossy(&head)
        ));
        self.srv.stats.client_query_buffer_limit_disconnections += 1;
    }

    /// Closes (asynchronously, like Valkey's `freeClientAsync`) a client
    /// whose pending output broke its `client-output-buffer-limit`.
    fn check_output_limits(&mut self, c: &mut Client) {
        if c.state.killed || c.pending_output() <= super::client::REPLY_CHUNK_BYTES {
            c.obuf_soft_since = None;
            return;
        }
        let limit = self.srv.config.client_output_buffer_limit[obuf_class(&c.state)];
        if obuf_limit_reached(c, &limit) {
            log::warning(&format!(
                "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                describe(&self.srv, c)
            ));
            self.srv.stats.client_output_buffer_limit_disconnections += 1;
            c.state.killed = true;
            c.out.clear();
            c.wpos = 0;
        }
    }

    /// Runs every complete command in the query buffer, unless a CLIENT
    /// PAUSE holds the next one.
    fn run_commands(&mut self, c: &mut Client) {
        if c.state.postponed || c.state.blocked.is_some() {
            return;
        }
        let limits = ParseLimits {
            max_bulk_len: self.srv.config.proto_max_bulk_len as usize,
            max_inline_len: 64 * 1024,
            max_multibulk_len: i32::MAX as usize,
            authenticated: c.state.authenticated,
        };
        prefetch_batch(&self.srv, c);
        let mut pending_bulk = None;
        while !c.state.close_after_reply && !c.state.killed {
            let buf = &c.qbuf[c.qpos..c.qend];
            if buf.is_empty() {
                break;
            }
            match c.parser.parse(buf, &limits, &mut c.args) {
                Ok(Parsed::Complete { consumed }) => {
                    if !c.args.is_empty() {
                        let args = c.args.args(&c.qbuf[c.qpos..c.qend]);
                        if must_postpone(&self.srv, &c.state, &args) {
                            // Parsed again when the pause ends.
                            c.state.postponed = true;
                            break;
                        }
                        // Valkey 8 reads into a shared buffer and gives it
                        // to the client only when more input follows this
                        // command: otherwise CLIENT LIST shows no buffer.
                        let more = c.qend - c.qpos > consumed;
                        (c.state.qbuf_len, c.state.qbuf_free) = if more {
                            (c.qend, c.qbuf.len() - c.qend)
                        } else {
                            (0, 0)
                        };
                        c.state.argv_mem = args.total_len();
                        execute(&mut self.srv, &mut c.state, &mut c.out, args);
                        c.state.argv_mem = 0;
                        c.state.reblock_deadline = None;
                        if let Some(b) = &mut c.state.blocked {
                            // Left in the buffer: it runs again when woken.
                            b.cmd_len = consumed;
                            break;
                        }
                        if super::blocking::has_ready(&self.srv) {
                            // Valkey serves blocked clients right after the
                            // command that fed them, before this client's next.
                            self.serve_blocked();
                        }
                    }
                    c.qpos += consumed;
                    if self.srv.shutdown {
                        break;
                    }
                }
                Ok(Parsed::Incomplete { needed }) => {
                    // Reserved once the consumed bytes are gone (below):
                    // reserving now would double a nearly full buffer.
                    pending_bulk = needed;
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
        if c.qpos == c.qend {
            c.qpos = 0;
            c.qend = 0;
        } else if c.qpos > 0 {
            c.qbuf.copy_within(c.qpos..c.qend, 0);
            c.qend -= c.qpos;
            c.qpos = 0;
        }
        if c.qend == 0 && c.qbuf.len() > 4 * READ_CHUNK {
            c.qbuf = Vec::new();
        }
        if !c.parser.in_progress() {
            c.args.trim();
        }
        // A big bulk in progress: room for all of it, allocated once.
        if let Some(n) = pending_bulk {
            if n > c.qbuf.len() {
                c.qbuf.reserve_exact(n - c.qbuf.len());
                c.qbuf.resize(n, 0);
            }
        }
    }

    /// Wakes the clients blocked on keys made ready, first come first served
    /// per key: each one's command runs again (and may block again, at the
    /// back of the queue, keeping its deadline), then its pipeline goes on.
    fn serve_blocked(&mut self) {
        if self.serving_blocked {
            return;
        }
        self.serving_blocked = true;
        loop {
            let ready = super::blocking::take_ready(&mut self.srv);
            if ready.is_empty() {
                break;
            }
            for (db, key) in ready {
                for id in super::blocking::wakeable(&self.srv, db, &key) {
                    // The previous one may have taken the last element.
                    if !super::blocking::still_ready(&self.srv, db, &key, id) {
                        continue;
                    }
                    let Some(&slot) = self.srv.client_slots.get(&id) else {
                        continue;
                    };
                    let Some(mut c) = self.srv.clients[slot].take() else {
                        continue;
                    };
                    if let Some(b) = c.state.blocked.take() {
                        super::blocking::unregister(&mut self.srv, id, &b);
                        c.state.reblock_deadline = Some(b.deadline);
                    }
                    self.run_commands(&mut c);
                    c.state.reblock_deadline = None;
                    self.check_output_limits(&mut c);
                    let open = !c.state.killed && self.flush(&mut c, slot);
                    self.finish(slot, c, open);
                }
            }
        }
        self.serving_blocked = false;
    }

    /// Gives the timeout reply to blocked clients whose deadline passed.
    fn release_timed_out(&mut self) {
        let now = self.srv.now.ms;
        for id in super::blocking::timed_out(&self.srv, now) {
            let Some(&slot) = self.srv.client_slots.get(&id) else {
                // Gone meanwhile: drop the stale deadline.
                self.srv.block_deadlines.retain(|&(_, i)| i != id);
                continue;
            };
            let Some(mut c) = self.srv.clients[slot].take() else {
                continue;
            };
            super::blocking::release(&mut self.srv, &mut c, super::blocking::Release::Timeout);
            self.run_commands(&mut c);
            self.check_output_limits(&mut c);
            let open = !c.state.killed && self.flush(&mut c, slot);
            self.finish(slot, c, open);
        }
    }

    /// Runs the pipelines of clients CLIENT UNBLOCK released.
    fn run_unblocked(&mut self) {
        for slot in std::mem::take(&mut self.srv.unblocked) {
            let Some(mut c) = self.srv.clients.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            self.run_commands(&mut c);
            self.check_output_limits(&mut c);
            let open = !c.state.killed && self.flush(&mut c, slot);
            self.finish(slot, c, open);
        }
    }

    /// Runs again the clients a pause held (they may be held again).
    fn resume_postponed(&mut self) {
        for slot in 0..self.srv.clients.len() {
            let held = matches!(&self.srv.clients[slot], Some(c) if c.state.postponed);
            if !held {
                continue;
            }
            let Some(mut c) = self.srv.clients[slot].take() else {
                continue;
            };
            c.state.postponed = false;
            self.run_commands(&mut c);
            self.check_output_limits(&mut c);
            let open = !c.state.killed && self.flush(&mut c, slot);
            self.finish(slot, c, open);
        }
    }

    /// Writes the round's replies, then the output other clients' commands
    /// produced (messages to subscribers, the MONITOR feed). Replies first:
    /// their clients wait for them to send more (a publisher at -P 1),
    /// while nobody waits on a push; writing 100 subscribers' messages
    /// ahead of the publisher's reply cost PUBLISH to 100 subscribers a
    /// quarter of its rate.
    fn flush_pending_writes(&mut self) {
        let mut replies = std::mem::take(&mut self.replies);
        replies.sort_unstable();
        replies.dedup();
        let mut others = std::mem::take(&mut self.srv.pending_writes);
        others.sort_unstable();
        others.dedup();
        others.retain(|s| replies.binary_search(s).is_err());
        for slot in replies.into_iter().chain(others) {
            let Some(mut c) = self.srv.clients.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            self.check_output_limits(&mut c);
            let open = !c.state.killed && (c.wants_write || self.flush(&mut c, slot));
            self.finish(slot, c, open);
        }
    }

    /// Writes pending replies; false if the connection broke.
    fn flush(&mut self, c: &mut Client, slot: usize) -> bool {
        if c.pending_output() > 0 && crate::persistence::aof::has_pending() {
            // A reply must not leave before its command is in the AOF: it
            // waits for the one AOF write of this round (after_commands),
            // unless it is big enough to send now, after an early write.
            if c.pending_output() < REPLY_CHUNK {
                self.srv.pending_writes.push(slot);
                return true;
            }
            crate::persistence::aof::before_sleep(&mut self.srv);
        }
        while c.pending_output() > 0 {
            match c.sock.write(&c.out.buf()[c.wpos..]) {
                Ok(0) => return false,
                Ok(n) => {
                    c.wpos += n;
                    self.srv.stats.total_net_output_bytes += n as u64;
                    self.srv.stats.total_writes_processed += 1;
                    c.state.net_out += n as u64;
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
        c.out.shrink_if_idle(REPLY_CHUNK);
        c.wpos = 0;
        c.obuf_soft_since = None;
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
        if let Some(b) = c.state.blocked.take() {
            super::blocking::unregister(&mut self.srv, c.state.id, &b);
        }
        if c.state.is_pubsub() {
            self.srv.pubsub.forget(c.state.id);
        }
        let slot = self.srv.client_slots.remove(&c.state.id);
        if c.queued {
            // The slot may go to a new client before the ready list runs.
            self.ready.retain(|&s| Some(s) != slot);
        }
        super::tracking::disable(&mut self.srv, c.state.id);
        super::exec::unwatch_all(&mut self.srv, &mut c.state);
        if c.state.monitor {
            let id = c.state.id;
            self.srv.monitors.retain(|&(m, _)| m != id);
        }
    }

    /// Closes the clients CLIENT KILL marked.
    fn close_killed(&mut self) {
        for slot in 0..self.srv.clients.len() {
            if matches!(&self.srv.clients[slot], Some(c) if c.state.killed) {
                if let Some(mut c) = self.srv.clients[slot].take() {
                    self.close(&mut c);
                }
            }
        }
    }

    /// Closes killed clients, and clients idle for longer than `timeout`
    /// (Valkey's `clientsCronHandleTimeout`: not monitors, clients held by
    /// a pause, or pub/sub clients).
    fn close_idle(&mut self) {
        let timeout = Duration::from_secs(self.srv.config.timeout as u64);
        for slot in 0..self.srv.clients.len() {
            let expired = match &self.srv.clients[slot] {
                Some(c) => {
                    let s = &c.state;
                    s.killed
                        || (!timeout.is_zero()
                            && !s.monitor
                            && !s.postponed
                            && !s.is_pubsub()
                            && s.last_interaction.elapsed() > timeout)
                }
                None => false,
            };
            if expired {
                if let Some(mut c) = self.srv.clients[slot].take() {
                    if !c.state.killed {
                        log::verbose("Closing idle client");
                    }
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

/// Prefetches the keys of a batch of pipelined commands (two or more in
/// the buffer) before any of them runs, then the members they name in big
/// collections; see `Db::prefetch` and `Db::prefetch_members`.
fn prefetch_batch(srv: &Server, c: &Client) {
    let buf = &c.qbuf[c.qpos..c.qend];
    // A lone command gains nothing: its own lookup takes the same misses.
    if buf.len() < 32 || c.parser.in_progress() {
        return;
    }
    let mut cmds: [Peeked; 16] = [(&[], None); 16];
    let n = crate::resp::parser::peek_keys(buf, &mut cmds);
    if n >= 2 {
        if let Some(db) = srv.keyspace.dbs.get(c.state.db) {
            db.prefetch(cmds[..n].iter().map(|c| c.0));
            db.prefetch_members(&cmds[..n]);
        }
    }
}

/// Replaces the listening sockets with ones for the current `port` and
/// `bind` (Valkey's `changeListener`, run when CONFIG SET changes them): the
/// old sockets are closed first, so the new addresses may overlap them.
/// Port 0 closes them all. On failure nothing listens: the caller restores
/// the previous configuration and calls this again.
pub fn rebind_listeners(srv: &mut Server) -> io::Result<()> {
    for mut l in srv.listeners.drain(..) {
        if let Some(r) = &srv.registry {
            let _ = r.deregister(&mut l);
        }
    }
    if srv.config.port == 0 {
        return Ok(());
    }
    let mut fresh = Vec::new();
    for (addr, optional) in bind_addrs(&srv.config) {
        match bind_listener(addr) {
            Ok(l) => fresh.push(l),
            Err(e) if optional => log::verbose(&format!("Could not bind {addr}: {e} (optional)")),
            Err(e) => {
                log::warning(&format!(
                    "Failed listening on port {} (tcp), aborting: {e}",
                    srv.config.port
                ));
                return Err(e);
            }
        }
    }
    if fresh.is_empty() {
        return Err(io::Error::new(
            ErrorKind::AddrNotAvailable,
            "Failed listening on any address",
        ));
    }
    if let Some(r) = &srv.registry {
        for (i, l) in fresh.iter_mut().enumerate() {
            r.register(l, Token(LISTENER_BASE + i), Interest::READABLE)?;
        }
    }
    srv.listeners = fresh;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_mode_decision() {
        let mut cfg = Config::default();
        let remote: SocketAddr = "10.1.2.3:4000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        assert!(cfg.protected_mode);
        assert!(protected_mode_denies(&cfg, &remote));
        assert!(!protected_mode_denies(&cfg, &local));
        cfg.requirepass = Some(b"pw".to_vec());
        assert!(!protected_mode_denies(&cfg, &remote));
        cfg.requirepass = None;
        cfg.protected_mode = false;
        assert!(!protected_mode_denies(&cfg, &remote));
    }

    #[test]
    fn denied_message_is_one_line() {
        assert!(PROTECTED_MODE_DENIED.starts_with(b"-DENIED Running in protected mode because protected mode is enabled and no password is set for the default user. In this mode"));
        assert!(PROTECTED_MODE_DENIED.ends_with(b"connections from the outside.\r\n"));
        assert_eq!(
            PROTECTED_MODE_DENIED
                .iter()
                .filter(|&&b| b == b'\n')
                .count(),
            1
        );
        assert!(!PROTECTED_MODE_DENIED.windows(2).any(|w| w == b"  "));
    }
}

/// SIGTERM and SIGINT ask for a clean shutdown: the handler only sets a flag,
/// which the event loop reads after each poll (at least `hz` times a second).
mod signals {
    use std::sync::atomic::{AtomicI32, Ordering};

    static RECEIVED: AtomicI32 = AtomicI32::new(0);

    extern "C" fn on_signal(sig: libc::c_int) {
        RECEIVED.store(sig, Ordering::SeqCst);
    }

    pub fn install() {
        let handler: extern "C" fn(libc::c_int) = on_signal;
        for sig in [libc::SIGTERM, libc::SIGINT] {
            // SAFETY: the handler only stores to an atomic, which is
            // async-signal-safe; SIG_ERR (failure) leaves the default action.
            unsafe { libc::signal(sig, handler as libc::sighandler_t) };
        }
        // A client vanishing mid-write must not kill the process.
        // SAFETY: ignoring SIGPIPE has no preconditions.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    }

    /// The name of a signal received since the last call.
    pub fn take() -> Option<&'static str> {
        match RECEIVED.swap(0, Ordering::SeqCst) {
            0 => None,
            libc::SIGINT => Some("SIGINT"),
            _ => Some("SIGTERM"),
        }
    }
}
