#!/usr/bin/env python3
"""Persistence: RDB load time and memory during BGSAVE, Ferrokey vs references.

One dataset, one dump file: N keys (default 10M) -- 95% strings (16-byte keys
`key:%012d`, 16-byte values), 5% small collections (hashes, sets, sorted sets
and lists in turn, 10 elements each) -- are fed with `redis-cli --pipe` into the
dump maker (default: Valkey), which SAVEs them to one dump.rdb.

1. RDB load. For each server and round: copy the dump into a fresh directory,
   start the server with `--dir DIR --dbfilename dump.rdb --save ""`, and time
   from spawn until PING answers PONG *and* DBSIZE equals N (Valkey accepts
   connections and answers -LOADING meanwhile; a server that loads before it
   listens is simply refused until then, so time-to-ready is comparable).
   Reported: best and mean over the rounds, VmRSS after the load (from /proc,
   never INFO) and bytes per key over an empty server's RSS.
2. BGSAVE memory. In the last round, with the dataset loaded, a writer
   (`redis-benchmark -t set -r <string keys> -d 16 -P 16`, only existing string
   keys, same sizes: the dataset does not grow) dirties pages while the server
   runs BGSAVE. Every ~50 ms until INFO persistence shows
   rdb_bgsave_in_progress:0 this samples the parent's VmRSS, the fork child
   (found by ppid in /proc), its VmRSS, and Pss / Private_Dirty of both from
   /proc/PID/smaps_rollup. Pss splits shared copy-on-write pages between the
   two, so parent Pss + child Pss is the memory both really use together;
   adding their RSS double counts every page not yet copied.
   Reported: parent RSS before, peak of parent Pss + child Pss (and that over
   the RSS before), peak child Private_Dirty (pages the child owns alone), the
   BGSAVE duration and the writer's rate during the save.

A reference that cannot read the maker's RDB version (Debian's Redis 7.0 and
Valkey 8's RDB 11) is given a dump of the same dataset made by itself, and the
table says so.

Examples:
  bench/persistence.py --quick
  bench/persistence.py --keys 1000000 --rounds 3
  bench/persistence.py --servers valkey,redis        # references only
  FERROKEY_BIN=/usr/bin/redis-server bench/persistence.py --quick --servers ferrokey,redis \\
      --dump-from redis                              # stand-in A/A test
"""

import argparse
import csv
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

CHUNK = 20_000  # records formatted per write
COLL_EVERY = 20  # 1 key in 20 (5%) is a small collection
COLL_ELEMS = 10
STR_KEY = b"key:%012d"  # what redis-benchmark -t set -r N writes: key:<12 digits>
VSIZE = 16  # string value bytes; the writer uses -d 16 too


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


# --------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------


def split_keys(n):
    """(string keys, collection keys) for N keys in total."""
    colls = n // COLL_EVERY
    return n - colls, colls


def _coll_templates():
    """Four RESP templates (one command each) taking the collection index j."""
    hash_t = b"*%d\r\n$4\r\nHSET\r\n$16\r\nhsh:%%012d\r\n" % (2 + 2 * COLL_ELEMS)
    set_t = b"*%d\r\n$4\r\nSADD\r\n$16\r\nset:%%012d\r\n" % (2 + COLL_ELEMS)
    zset_t = b"*%d\r\n$4\r\nZADD\r\n$16\r\nzst:%%012d\r\n" % (2 + 2 * COLL_ELEMS)
    list_t = b"*%d\r\n$5\r\nRPUSH\r\n$16\r\nlst:%%012d\r\n" % (2 + COLL_ELEMS)
    for k in range(COLL_ELEMS):
        # 8-byte field names / 8-byte values; 12-byte members (never integers,
        # so sets stay listpack-encoded rather than intsets).
        hash_t += bulk(b"field:%02d" % k) + b"$8\r\nv%07d\r\n"
        set_t += b"$12\r\nmem:%%06d%02d\r\n" % k
        zset_t += bulk(b"%d" % (k * 10)) + b"$12\r\nmem:%%06d%02d\r\n" % k
        list_t += b"$12\r\nitm:%%06d%02d\r\n" % k
    return hash_t, set_t, zset_t, list_t


def generate(path, n):
    """RESP for the whole dataset; returns (commands, seconds, bytes)."""
    strings, colls = split_keys(n)
    s_tmpl = b"*3\r\n$3\r\nSET\r\n$16\r\n" + STR_KEY + b"\r\n$16\r\nv%015d\r\n"
    hash_t, set_t, zset_t, list_t = _coll_templates()
    t = time.time()
    with open(path, "wb", buffering=1 << 22) as f:
        for a in range(0, strings, CHUNK):
            f.write(b"".join([s_tmpl % (i, i) for i in range(a, min(strings, a + CHUNK))]))
        for a in range(0, colls, CHUNK):
            out = []
            for j in range(a, min(colls, a + CHUNK)):
                kind = j % 4
                m = j % 1_000_000
                if kind == 0:
                    out.append(hash_t % ((j,) + tuple((j * COLL_ELEMS + k) % 10_000_000 for k in range(COLL_ELEMS))))
                elif kind == 1:
                    out.append(set_t % ((j,) + (m,) * COLL_ELEMS))
                elif kind == 2:
                    out.append(zset_t % ((j,) + (m,) * COLL_ELEMS))
                else:
                    out.append(list_t % ((j,) + (m,) * COLL_ELEMS))
            f.write(b"".join(out))
    return strings + colls, time.time() - t, os.path.getsize(path)


def rdb_version(path):
    try:
        with open(path, "rb") as f:
            head = f.read(9)
        return head[:5].decode() + " " + head[5:9].decode() if head[:5] == b"REDIS" else repr(head)
    except OSError as e:
        return "unreadable (%s)" % e


def make_dump(spec, resp_path, commands, nkeys, workdir, timeout):
    """Feed the dataset into `spec`, SAVE, return the path of its dump (or raise RuntimeError)."""
    gen_dir = bl.make_tmpdir("persist-gen-%s-" % spec.name, base=workdir)
    srv = bl.Server(spec, workdir=gen_dir, extra_args=["--dir", gen_dir, "--dbfilename", "dump.rdb"])
    srv.start()
    try:
        t = time.time()
        ok, replies, errors, text = bl.pipe_file(srv.port, resp_path, timeout=timeout)
        if not ok or replies != commands:
            raise RuntimeError("%s: loading the dataset failed (errors=%s replies=%s of %d): %s"
                               % (spec.name, errors, replies, commands, text.strip()[-300:]))
        with bl.Conn(srv.port, timeout=timeout) as c:
            n = c.call("DBSIZE")
            if n != nkeys:
                raise RuntimeError("%s: DBSIZE %s after loading, expected %d" % (spec.name, n, nkeys))
            load_s = time.time() - t
            t = time.time()
            c.call("SAVE")
            save_s = time.time() - t
    finally:
        srv.stop()
    src = os.path.join(gen_dir, "dump.rdb")
    if not os.path.isfile(src):
        raise RuntimeError("%s: SAVE answered but wrote no %s\n%s" % (spec.name, src, srv.log_tail()))
    dst = os.path.join(workdir, "%s.rdb" % spec.name)
    os.replace(src, dst)
    shutil.rmtree(gen_dir, ignore_errors=True)
    bl.log("dump by %s: %d keys loaded in %.1fs, SAVE %.1fs -> %s, %.1f MB, %s"
           % (spec.name, nkeys, load_s, save_s, dst, os.path.getsize(dst) / 1e6, rdb_version(dst)))
    return dst


# --------------------------------------------------------------------------
# /proc helpers
# --------------------------------------------------------------------------


def proc_status_kb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def smaps_rollup_kb(pid):
    """{'Pss': kB, 'Private_Dirty': kB, ...} of a process (all mappings summed)."""
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[0].endswith(":") and parts[2] == "kB":
                out[parts[0][:-1]] = int(parts[1])
    return out


def ppid_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    # comm is in parentheses and may contain spaces: split after the last ')'
    return int(data[data.rindex(")") + 2:].split()[1])


def children_of(pid):
    """Child pids of `pid`: /proc/PID/task/*/children if the kernel has it, else a /proc scan."""
    kids = []
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
        have = False
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    have = True
                    kids += [int(x) for x in f.read().split()]
            except FileNotFoundError:
                pass
        if have:
            return kids
    except FileNotFoundError:
        return []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if ppid_of(int(d)) == pid:
                kids.append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def machine_lines():
    model = "unknown cpu"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = proc_meminfo_gib()
    thp = "?"
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            thp = re.search(r"\[(\w+)\]", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    return "machine: %s, %d cores (%d usable), %.1f GiB RAM, Linux %s, THP %s" % (
        model, os.cpu_count() or 0, bl.cpu_count(), mem, platform.release(), thp)


def proc_meminfo_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1048576.0
    except OSError:
        pass
    return 0.0


def info_fields(conn, section):
    text = conn.call("INFO", section)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = {}
    for line in (text or "").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


# --------------------------------------------------------------------------
# Phase 1: timed RDB load
# --------------------------------------------------------------------------


class LoadFailed(RuntimeError):
    pass


class LoadingServer(bl.Server):
    """A server started on an existing dump, timed from spawn to PONG + DBSIZE == N."""

    def start_timed(self, expected, timeout):
        for _attempt in range(3):  # another process may grab the free port first
            self.port = bl.free_port()
            cmd = [self.spec.path, "--port", str(self.port), "--bind", bl.HOST,
                   "--save", "", "--appendonly", "no"] + self.extra_args
            logf = open(self.logpath, "ab")
            t0 = time.perf_counter()
            self.proc = bl.register_child(subprocess.Popen(
                cmd, cwd=self.workdir, stdin=subprocess.DEVNULL, stdout=logf,
                stderr=subprocess.STDOUT, start_new_session=True))
            logf.close()
            try:
                t_pong, t_ready, dbsize = self._wait_loaded(expected, t0 + timeout)
                return t_pong - t0, t_ready - t0, dbsize
            except LoadFailed as e:
                exited = self.proc.poll() is not None
                self.stop()
                if exited and "Address already in use" in self.log_tail(5):
                    continue
                raise LoadFailed("%s\n%s" % (e, self.log_tail()))
        raise LoadFailed("could not bind a free port 3 times\n%s" % self.log_tail())

    def _wait_loaded(self, expected, deadline):
        conn = None
        t_pong = None
        last_n = None
        try:
            while True:
                now = time.perf_counter()
                if self.proc.poll() is not None:
                    raise LoadFailed("exited with code %s while loading" % self.proc.returncode)
                if now > deadline:
                    raise LoadFailed("not ready within the timeout (PONG %s, last DBSIZE %s of %d)"
                                     % ("yes" if t_pong else "no", last_n, expected))
                if conn is None:
                    try:
                        # Long timeout: a server may accept and answer only once loaded.
                        conn = bl.Conn(self.port, timeout=max(1.0, deadline - now))
                    except OSError:
                        time.sleep(0.01)
                        continue
                try:
                    if conn.call("PING") == "PONG":
                        if t_pong is None:
                            t_pong = time.perf_counter()
                        n = conn.call("DBSIZE")
                        if n == expected:
                            return t_pong, time.perf_counter(), n
                        if last_n == n and time.perf_counter() - t_pong > 5.0:
                            raise LoadFailed("answers PONG but DBSIZE stays %s, expected %d" % (n, expected))
                        last_n = n
                except bl.RespError as e:  # -LOADING, or the connection dropped
                    if "LOADING" not in str(e):
                        conn.close()
                        conn = None
                except OSError:
                    conn.close()
                    conn = None
                time.sleep(0.01)
        finally:
            if conn is not None:
                conn.close()


def empty_rss(spec):
    """VmRSS of the server started empty (the baseline bytes/key is computed over)."""
    srv = bl.Server(spec)
    try:
        srv.start()
        time.sleep(0.5)
        return srv.rss()
    except RuntimeError as e:
        bl.log("  %s: cannot start it empty: %s" % (spec.name, e))
        return None
    finally:
        srv.stop()


def timed_load(spec, rdb, nkeys, args):
    """One load round. Returns (result dict, server still running) or (error text, None)."""
    d = bl.make_tmpdir("persist-%s-" % spec.name, base=args.workdir)
    try:
        shutil.copyfile(rdb, os.path.join(d, "dump.rdb"))
    except OSError as e:
        shutil.rmtree(d, ignore_errors=True)
        return "cannot copy the dump: %s" % e, None
    srv = LoadingServer(spec, workdir=d, extra_args=["--dir", d, "--dbfilename", "dump.rdb"])
    try:
        pong_s, ready_s, _ = srv.start_timed(nkeys, args.load_timeout)
    except LoadFailed as e:
        shutil.rmtree(d, ignore_errors=True)
        return str(e), None
    rss_ready = srv.rss()
    return {"pong_s": pong_s, "load_s": ready_s, "rss_ready": rss_ready,
            "rss": settled_rss(srv, args.settle, args.max_settle)}, srv


def settled_rss(srv, quiet, max_wait):
    """VmRSS once it moved by < 0.1% for `quiet` seconds (allocators purge freed
    load buffers on a timer, so RSS right at the end of the load is not the
    steady state); the last sample after `max_wait` seconds otherwise."""
    start = time.time()
    samples = [(start, srv.rss())]
    while True:
        time.sleep(0.1)
        now, r = time.time(), srv.rss()
        samples.append((now, r))
        window = [x for t, x in samples if t >= now - quiet]
        if now - start >= quiet and max(window) - min(window) <= max(65536, 0.001 * r):
            return r
        if now - start >= max_wait:
            bl.log("  %s: RSS not settled after %.0fs, using the last sample" % (srv.name, max_wait))
            return r


# --------------------------------------------------------------------------
# Phase 2: memory during BGSAVE
# --------------------------------------------------------------------------


def start_writer(port, strings, logpath, nice):
    cmd = ["redis-benchmark", "-h", bl.HOST, "-p", str(port), "-t", "set", "-r", str(strings),
           "-d", str(VSIZE), "-P", "16", "-n", "2000000000", "-q"]
    if nice is not None:
        cmd = ["nice", "-n", str(nice)] + cmd
    f = open(logpath, "wb")
    proc = bl.register_child(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f,
                                              stderr=subprocess.STDOUT))
    f.close()
    return proc


def bgsave(srv, strings, args):
    """Run one BGSAVE under write load and sample memory. Returns a dict or an error string."""
    pid = srv.proc.pid
    writer = None
    wlog = os.path.join(srv.workdir, "writer.log")
    rdb_path = os.path.join(srv.workdir, "dump.rdb")
    try:
        os.unlink(rdb_path)  # the copy we loaded from; BGSAVE must write a new one
    except OSError:
        pass
    try:
        with bl.Conn(srv.port, timeout=60) as c:
            if args.writer:
                writer = start_writer(srv.port, strings, wlog, args.writer_nice)
                time.sleep(args.warmup)
                if writer.poll() is not None:
                    with open(wlog, "rb") as f:
                        return "writer (redis-benchmark) exited: %s" % f.read()[-300:].decode("utf-8", "replace")
            stats0 = info_fields(c, "stats")
            rss_before = srv.rss()
            pss_before = smaps_rollup_kb(pid).get("Pss", 0) * 1024
            t0 = time.perf_counter()
            try:
                reply = c.call("BGSAVE")
            except bl.RespError as e:
                return "BGSAVE failed: %s" % e
            child = None
            seen_child = False
            seen_flag = False
            samples = []
            status = None
            while True:
                now = time.perf_counter()
                if now - t0 > args.bgsave_timeout:
                    return "BGSAVE not finished after %.0fs" % args.bgsave_timeout
                if not srv.alive():
                    return "server died during BGSAVE (exit %s)\n%s" % (srv.proc.returncode, srv.log_tail())
                if child is None:
                    kids = [k for k in children_of(pid)]
                    child = kids[0] if kids else None
                    seen_child = seen_child or child is not None
                s = {"t": now - t0, "parent_rss": srv.rss()}
                try:
                    s["parent_pss"] = smaps_rollup_kb(pid).get("Pss", 0) * 1024
                except OSError:
                    s["parent_pss"] = None
                if child is not None:
                    try:
                        if ppid_of(child) != pid:
                            raise FileNotFoundError
                        cr = smaps_rollup_kb(child)
                        s["child"] = child
                        s["child_rss"] = proc_status_kb(child) * 1024
                        s["child_pss"] = cr.get("Pss", 0) * 1024
                        s["child_dirty"] = cr.get("Private_Dirty", 0) * 1024
                    except (OSError, TypeError, ValueError, IndexError):
                        child = None  # gone (or reaped between reads)
                samples.append(s)
                info = info_fields(c, "persistence")
                flag = info.get("rdb_bgsave_in_progress")
                if flag == "1":
                    seen_flag = True
                elif flag == "0" and (seen_flag or seen_child or os.path.exists(rdb_path)
                                      or now - t0 > 5.0):
                    # (a flag still 0 with no child and no file yet: the save may
                    # not have been registered yet; give it up to 5 s)
                    status = info.get("rdb_last_bgsave_status")
                    break
                elif flag is None and seen_child and child is None:
                    status = "(no INFO persistence; child exited)"
                    break
                elif flag is None and not seen_child and now - t0 > 5.0:
                    return "no rdb_bgsave_in_progress in INFO persistence and no child process after 5 s"
                # sample every `interval` (reading smaps_rollup of a GB-sized process takes ms)
                time.sleep(max(0.005, args.interval - (time.perf_counter() - now)))
            dur = time.perf_counter() - t0
            stats1 = info_fields(c, "stats")
            dbsize = c.call("DBSIZE")
    except (OSError, bl.RespError) as e:
        return "connection error during BGSAVE: %s" % e
    finally:
        if writer is not None:
            bl.stop_process(writer)
    if status not in (None, "ok") and not status.startswith("("):
        return "BGSAVE finished with rdb_last_bgsave_status:%s\n%s" % (status, srv.log_tail())
    if not os.path.isfile(rdb_path):
        return "BGSAVE reported done but no %s was written\n%s" % (rdb_path, srv.log_tail())
    writes = None
    try:
        writes = int(stats1["total_commands_processed"]) - int(stats0["total_commands_processed"])
    except (KeyError, ValueError):
        pass

    def peak(f):
        vals = [f(s) for s in samples]
        vals = [v for v in vals if v is not None]
        return max(vals) if vals else None

    both = peak(lambda s: (s["parent_pss"] + s.get("child_pss", 0)) if s.get("parent_pss") is not None else None)
    return {
        "reply": reply,
        "samples": len(samples),
        "child_seen": seen_child,
        "flag_seen": seen_flag,
        "rss_before": rss_before,
        "pss_before": pss_before,
        "peak_pss_sum": both,
        "peak_parent_rss": peak(lambda s: s["parent_rss"]),
        "peak_child_rss": peak(lambda s: s.get("child_rss")),
        "peak_rss_sum": peak(lambda s: s["parent_rss"] + s.get("child_rss", 0)),
        "peak_child_dirty": peak(lambda s: s.get("child_dirty")),
        "duration_s": dur,
        "writes": writes,
        "writes_per_s": (writes / dur) if writes is not None and dur > 0 else None,
        "rdb_bytes": os.path.getsize(rdb_path),
        "dbsize_after": dbsize,
    }


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def mb(x):
    return None if x is None else "%.1f" % (x / 1e6)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_server_args(p)
    p.add_argument("--quick", action="store_true", help="smoke run: 200k keys, 1 round")
    p.add_argument("--keys", type=int, default=None, help="keys in the dataset (default 10000000)")
    p.add_argument("--rounds", type=int, default=None, help="load rounds per server (default 2)")
    p.add_argument("--dump-from", default="valkey",
                   help="server that makes the dump (default valkey; any name from --servers, or redis/valkey)")
    p.add_argument("--no-bgsave", dest="bgsave", action="store_false", help="skip the BGSAVE phase")
    p.add_argument("--no-writer", dest="writer", action="store_false",
                   help="BGSAVE without concurrent writes")
    p.add_argument("--writer-nice", type=int, default=None,
                   help="nice value for the writer (default: not niced)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds the writer runs before BGSAVE")
    p.add_argument("--interval", type=float, default=0.05, help="BGSAVE sampling interval (s)")
    p.add_argument("--settle", type=float, default=None,
                   help="RSS after a load must be stable this many seconds (default 2, quick 0.5)")
    p.add_argument("--max-settle", type=float, default=30.0, help="give up settling after this (s)")
    p.add_argument("--load-timeout", type=float, default=900.0, help="give up a load after this (s)")
    p.add_argument("--bgsave-timeout", type=float, default=1800.0, help="give up a BGSAVE after this (s)")
    p.add_argument("--workdir", default="/var/tmp", help="where dumps and temp dirs go (default /var/tmp)")
    p.add_argument("--csv", default=None, help="also write raw results to this CSV file")
    args = p.parse_args()
    nkeys = args.keys or (200_000 if args.quick else 10_000_000)
    rounds = args.rounds or (1 if args.quick else 2)
    if args.settle is None:
        args.settle = 0.5 if args.quick else 2.0
    if nkeys < COLL_EVERY * 4 or nkeys >= 10 ** 12:
        raise SystemExit("--keys must be between %d and 10^12" % (COLL_EVERY * 4))
    strings, colls = split_keys(nkeys)
    t_start = time.time()

    if args.servers is None and args.ref is None and not os.environ.get("REFERENCE_BINS"):
        args.servers = "ferrokey,valkey"  # the default references: Valkey 8.1 only
    bl.ensure_redis_tools()
    quiet_note = bl.check_quiet_machine()
    specs = bl.resolve_servers(args)
    versions = {s.name: bl.server_version(s.path) for s in specs}

    # The dump maker: one of the measured servers, or a default reference started only for that.
    maker = next((s for s in specs if s.name == args.dump_from), None)
    if maker is None:
        if args.dump_from == "valkey":
            maker = bl.ServerSpec("valkey", bl.find_valkey())
        elif args.dump_from == "redis":
            maker = bl.ServerSpec("redis", bl.ensure_redis_tools(need_server=True))
        else:
            raise SystemExit("--dump-from %s: not among the servers" % args.dump_from)
        versions.setdefault(maker.name + " (dump maker)", bl.server_version(maker.path))

    workdir = bl.make_tmpdir("persistence-", base=args.workdir)
    args.workdir = workdir
    resp = os.path.join(workdir, "dataset.resp")
    commands, gen_s, nbytes = generate(resp, nkeys)
    bl.log("dataset: %d keys (%d strings, %d collections x %d elements), %d commands, %.0f MB RESP in %.1fs"
           % (nkeys, strings, colls, COLL_ELEMS, commands, nbytes / 1e6, gen_s))
    try:
        common = make_dump(maker, resp, commands, nkeys, workdir, args.load_timeout)
    except RuntimeError as e:
        raise SystemExit("could not make the dump with %s: %s" % (maker.name, e))

    rdb_for = {s.name: common for s in specs}
    own_dump = {}
    baseline = {s.name: empty_rss(s) for s in specs}
    loads = {s.name: [] for s in specs}  # list of result dicts
    errors = {}
    bg = {}
    raw = []
    for rnd in range(1, rounds + 1):
        k = (rnd - 1) % len(specs)  # rotate who goes first
        for spec in specs[k:] + specs[:k]:
            if spec.name in errors:
                continue
            r, srv = timed_load(spec, rdb_for[spec.name], nkeys, args)
            if srv is None and not spec.is_ferrokey and spec.name != maker.name and spec.name not in own_dump:
                bl.log("  %s cannot load the %s dump (%s): making its own dump of the same dataset"
                       % (spec.name, maker.name, rdb_version(common))
                       + "".join("\n    " + ln for ln in r.strip().splitlines()[-2:]))
                try:
                    rdb_for[spec.name] = own_dump[spec.name] = make_dump(
                        spec, resp, commands, nkeys, workdir, args.load_timeout)
                    r, srv = timed_load(spec, rdb_for[spec.name], nkeys, args)
                except RuntimeError as e:
                    r, srv = str(e), None
            if srv is None:
                bl.log("round %d %-9s LOAD FAILED: %s" % (rnd, spec.name, r))
                errors[spec.name] = r
                raw.append(("load", rnd, spec.name, {"error": r.splitlines()[0] if r else ""}))
                continue
            try:
                loads[spec.name].append(r)
                raw.append(("load", rnd, spec.name, r))
                bl.log("round %d %-9s load %.2fs (PONG at %.2fs), RSS %.1f MB when ready, %.1f MB settled"
                       % (rnd, spec.name, r["load_s"], r["pong_s"], r["rss_ready"] / 1e6, r["rss"] / 1e6))
                if rnd == rounds and args.bgsave:
                    try:
                        b = bgsave(srv, strings, args)
                    except Exception as e:  # report it in the table, don't lose the other servers
                        b = "BGSAVE measurement failed: %r\n%s" % (e, srv.log_tail())
                    bg[spec.name] = b
                    if isinstance(b, dict):
                        raw.append(("bgsave", rnd, spec.name, b))
                        bl.log("  %-9s BGSAVE %.2fs, RSS before %.1f MB, peak Pss parent+child %.1f MB,"
                               " child Private_Dirty %s MB, %s writes/s, %d samples"
                               % (spec.name, b["duration_s"], b["rss_before"] / 1e6,
                                  (b["peak_pss_sum"] or 0) / 1e6, mb(b["peak_child_dirty"]),
                                  "%.0f" % b["writes_per_s"] if b["writes_per_s"] is not None else "?",
                                  b["samples"]))
                    else:
                        bl.log("  %-9s BGSAVE FAILED: %s" % (spec.name, b))
                        raw.append(("bgsave", rnd, spec.name, {"error": b.splitlines()[0]}))
            finally:
                srv.stop()
                shutil.rmtree(srv.workdir, ignore_errors=True)
    os.unlink(resp)

    # ------------------------------------------------------------------ output
    names = [s.name for s in specs]
    fk = next((s.name for s in specs if s.is_ferrokey), None)
    refs = [s.name for s in specs if not s.is_ferrokey]
    print("command: %s" % " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], bl.REPO_ROOT)]
                                       + sys.argv[1:]))
    print(machine_lines())
    for nm, v in versions.items():
        path = next((s.path for s in specs if s.name == nm), maker.path)
        print("server %s: %s [%s]" % (nm, path, v))
    print("dataset: %d keys = %d strings (16-byte keys, 16-byte values) + %d collections "
          "(hash/set/zset/list in turn, %d elements each); dump by %s: %.1f MB, %s"
          % (nkeys, strings, colls, COLL_ELEMS, maker.name, os.path.getsize(common) / 1e6, rdb_version(common)))
    for nm, path in own_dump.items():
        print("  %s cannot read that RDB version: it loads its own dump of the same dataset (%.1f MB, %s)"
              % (nm, os.path.getsize(path) / 1e6, rdb_version(path)))
    print()

    def summarize(nm):
        rs = loads[nm]
        if not rs:
            return None
        best = min(r["load_s"] for r in rs)
        rss = min(r["rss"] for r in rs)
        base = baseline.get(nm)
        return {
            "best": best,
            "mean": sum(r["load_s"] for r in rs) / len(rs),
            "pong": min(r["pong_s"] for r in rs),
            "rss": rss,
            "rss_ready": min(r["rss_ready"] for r in rs),
            "bpk": (rss - base) / nkeys if base is not None else None,
            "rounds": len(rs),
            "keys_per_s": nkeys / best,
        }

    summ = {nm: summarize(nm) for nm in names}
    rat_cols = ["%s/%s" % (fk, r) for r in refs] if fk else []

    def row(label, key, fmt, scale=1.0, summary=summ):
        vals = []
        for nm in names:
            s = summary.get(nm)
            v = s.get(key) if isinstance(s, dict) else None
            vals.append(fmt % (v / scale) if v is not None else ("ERR" if not isinstance(s, dict) else "-"))
        ratios = []
        if fk:
            for r in refs:
                a = summary.get(fk)
                b = summary.get(r)
                ratios.append(bl.ratio(a.get(key) if isinstance(a, dict) else None,
                                       b.get(key) if isinstance(b, dict) else None) or "-")
        return [label] + vals + ratios

    print("RDB load: spawn until PONG and DBSIZE == %d; %d round(s). Lower is better;"
          " ratio < 1 means Ferrokey is faster / smaller." % (nkeys, rounds))
    table = [
        row("load time, best (s)", "best", "%.2f"),
        row("load time, mean (s)", "mean", "%.2f"),
        row("first PONG, best (s)", "pong", "%.2f"),
        row("keys/s loaded, best (higher=better)", "keys_per_s", "%.0f"),
        row("RSS when ready (MB)", "rss_ready", "%.1f", 1e6),
        row("RSS after load, settled (MB)", "rss", "%.1f", 1e6),
        row("bytes/key over empty RSS", "bpk", "%.1f"),
    ]
    print(bl.fmt_table(["metric"] + names + rat_cols, table))
    for nm in names:
        if nm in errors:
            print("  %s: %s" % (nm, errors[nm].strip().replace("\n", "\n    ")))

    if args.bgsave:
        print()
        bsum = {}
        for nm in names:
            b = bg.get(nm)
            if isinstance(b, dict):
                d = dict(b)
                d["peak_over_rss"] = (b["peak_pss_sum"] / b["rss_before"]) if b["peak_pss_sum"] else None
                d["dirty_over_rss"] = (b["peak_child_dirty"] / b["rss_before"]) if b["peak_child_dirty"] is not None else None
                bsum[nm] = d
            else:
                bsum[nm] = None
        print("BGSAVE under writes (%s): parent + fork child memory, sampled every %.0f ms."
              " Lower is better." % ("redis-benchmark -t set -r %d -d %d -P 16 on existing keys%s"
                                     % (strings, VSIZE, ", nice %d" % args.writer_nice
                                        if args.writer_nice is not None else "")
                                     if args.writer else "no writer", args.interval * 1000))
        btable = [
            row("RSS before BGSAVE (MB)", "rss_before", "%.1f", 1e6, bsum),
            row("peak Pss parent+child (MB)", "peak_pss_sum", "%.1f", 1e6, bsum),
            row("  peak / RSS before", "peak_over_rss", "%.2f", 1.0, bsum),
            row("peak child Private_Dirty (MB)", "peak_child_dirty", "%.1f", 1e6, bsum),
            row("  child dirty / RSS before", "dirty_over_rss", "%.2f", 1.0, bsum),
            row("peak RSS parent+child (MB)*", "peak_rss_sum", "%.1f", 1e6, bsum),
            row("BGSAVE duration (s)", "duration_s", "%.2f", 1.0, bsum),
            row("writes/s during BGSAVE (load applied)", "writes_per_s", "%.0f", 1.0, bsum),
            row("RDB written (MB)", "rdb_bytes", "%.1f", 1e6, bsum),
        ]
        print(bl.fmt_table(["metric"] + names + rat_cols, btable))
        print("  * RSS double counts the pages parent and child still share; Pss splits them.")
        for nm in names:
            b = bg.get(nm)
            if b is None and nm not in errors:
                continue
            if isinstance(b, dict):
                if not b["child_seen"]:
                    print("  %s: no fork child seen in the samples (save faster than %.0f ms?)"
                          % (nm, args.interval * 1000))
                if b["writes"] is None and args.writer:
                    print("  %s: no total_commands_processed in INFO stats: writes/s unknown" % nm)
                if b["dbsize_after"] != nkeys:
                    print("  %s: DBSIZE %s after the BGSAVE, expected %d" % (nm, b["dbsize_after"], nkeys))
            elif b is not None:
                print("  %s: %s" % (nm, b.strip().replace("\n", "\n    ")))
            elif nm in errors:
                print("  %s: not measured (load failed)" % nm)
    print()
    print("(%s; %s; run time %.0f s)" % (quiet_note, bl.end_note(), time.time() - t_start))

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            cols = ["load_s", "pong_s", "rss_ready", "rss", "rss_before", "pss_before", "peak_pss_sum",
                    "peak_parent_rss", "peak_child_rss", "peak_rss_sum", "peak_child_dirty",
                    "duration_s", "writes", "writes_per_s", "rdb_bytes", "samples", "error"]
            w.writerow(["phase", "round", "server", "keys", "empty_rss"] + cols)
            for phase, rnd, nm, r in raw:
                w.writerow([phase, rnd, nm, nkeys, baseline.get(nm)]
                           + [("%.3f" % r[c]) if isinstance(r.get(c), float) else r.get(c, "") for c in cols])
    failed = bool(errors) or any(not isinstance(bg.get(nm), dict) for nm in names
                                 if args.bgsave and nm not in errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
