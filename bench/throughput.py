#!/usr/bin/env python3
"""Throughput: redis-benchmark against Ferrokey and reference servers, A/B/A/B.

Every server is started once, pinned to the server core (default 0);
redis-benchmark and the pub/sub subscribers run pinned to the client core
(default 1). For each round, pipeline depth and test group the servers take
turns (A, B, C, A, B, C, ...; who goes first rotates each round), so slow
drift of the machine hits all of them alike. The table shows the median requests/s over the rounds (± half the
min..max range, as % of the median) and the ratio ferrokey/reference
(higher is better for Ferrokey).

Standard tests (one redis-benchmark -t TEST invocation each):
  set,get,incr,mset,lpush,rpop,sadd,hset,zadd,lrange_100
Custom-command tests (redis-benchmark ... COMMAND ARGS):
  pfadd      PFADD hll __rand_int__
  xadd       XADD stream * field __rand_int__
  publish1   PUBLISH to a channel with 1 subscriber
  publish100 PUBLISH to a channel with 100 subscribers (runs n/10 requests)

Examples:
  bench/throughput.py --quick
  bench/throughput.py --rounds 7 --pipelines 1,16
  bench/throughput.py --tests get,set,publish100 --servers ferrokey,valkey
"""

import argparse
import csv
import io
import os
import selectors
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

STD_TESTS = ["set", "get", "incr", "mset", "lpush", "rpop", "sadd", "hset", "zadd", "lrange_100"]
CHANNEL = b"bench:chan"
PAYLOAD = b"payload-16-bytes"  # 16 bytes, like -d 16 for the other tests
CUSTOM = {
    # name: (command args, subscribers, request divisor)
    "pfadd": (["PFADD", "hll", "__rand_int__"], 0, 1),
    "xadd": (["XADD", "stream", "*", "field", "__rand_int__"], 0, 1),
    "publish1": (["PUBLISH", CHANNEL.decode(), PAYLOAD.decode()], 1, 1),
    # Each PUBLISH fans out to 100 connections: 1/10 of the requests keeps the
    # run time in line with the other tests.
    "publish100": (["PUBLISH", CHANNEL.decode(), PAYLOAD.decode()], 100, 10),
}
ALL_TESTS = STD_TESTS + list(CUSTOM)


# --------------------------------------------------------------------------
# Subscriber helper process (python3 throughput.py --_subscriber PORT COUNT)
# --------------------------------------------------------------------------


def _sub_confirm():
    return b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL)


def _sub_message():
    return b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(CHANNEL), CHANNEL, len(PAYLOAD), PAYLOAD)


def subscriber_main(port, count):
    """Hold `count` subscribed connections in one process, discard what arrives.

    One process with a selector (rather than `count` redis-cli processes that
    format every message) keeps the client core free enough that subscribers
    don't fall behind and get cut off by the server's pubsub output-buffer
    limit. Prints READY once every SUBSCRIBE is confirmed; on EOF on stdin
    drains and prints `received=<bytes> closed=<connections lost>`.
    """
    confirm = _sub_confirm()
    socks = []
    for _ in range(count):
        s = socket.create_connection((bl.HOST, port), timeout=10)
        s.sendall(bl.encode("SUBSCRIBE", CHANNEL))
        socks.append(s)
    for s in socks:
        got = b""
        while len(got) < len(confirm):
            data = s.recv(len(confirm) - len(got))
            if not data:
                sys.stdout.write("FAILED subscribe: connection closed\n")
                return 1
            got += data
        if got != confirm:
            sys.stdout.write("FAILED subscribe: %r\n" % got[:80])
            return 1
        s.setblocking(False)
    sys.stdout.write("READY\n")
    sys.stdout.flush()

    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    buf = bytearray(1 << 18)
    received = closed = 0
    draining_since = None
    while True:
        events = sel.select(timeout=0.2)
        if not events and draining_since is not None:
            break  # quiet for 0.2s after EOF: everything has arrived
        for key, _ in events:
            if key.fileobj is sys.stdin:
                sys.stdin.buffer.read1(4096)  # EOF (or noise): time to drain
                sel.unregister(sys.stdin)
                draining_since = time.time()
                continue
            try:
                n = key.fileobj.recv_into(buf)
            except BlockingIOError:
                continue
            except OSError:
                n = 0
            if n == 0:
                closed += 1
                sel.unregister(key.fileobj)
            received += n
        if draining_since is not None and time.time() - draining_since > 30:
            break
    sys.stdout.write("received=%d closed=%d\n" % (received, closed))
    return 0


class Subscribers:
    def __init__(self, port, count, cpu):
        cmd = [sys.executable, os.path.abspath(__file__), "--_subscriber", str(port), str(count)]
        if cpu is not None:
            cmd = ["taskset", "-c", str(cpu)] + cmd
        self.count = count
        self.proc = bl.register_child(
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        line = self.proc.stdout.readline().decode().strip()
        if line != "READY":
            bl.stop_process(self.proc)
            raise RuntimeError("subscribers not ready: %r" % line)

    def finish(self):
        """Returns (messages received, connections lost)."""
        try:
            out, _ = self.proc.communicate(timeout=60)  # closes stdin -> drain and report
        except subprocess.TimeoutExpired:
            bl.stop_process(self.proc)
            return None, None
        text = out.decode()
        try:
            fields = dict(kv.split("=") for kv in text.split())
            received, closed = int(fields["received"]), int(fields["closed"])
        except (KeyError, ValueError):
            return None, None
        msgs = (received) / float(len(_sub_message()))
        return msgs, closed


# --------------------------------------------------------------------------
# Running redis-benchmark
# --------------------------------------------------------------------------


def server_cpu_seconds(server):
    """User + system CPU time the server process has used so far."""
    try:
        with open("/proc/%d/stat" % server.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_benchmark(port, args, pipeline, requests, tests=None, command=None):
    """Returns ({test: row dict}, error string or None)."""
    cmd = ["redis-benchmark", "-h", bl.HOST, "-p", str(port), "-c", str(args.clients),
           "-r", "1000000", "-d", "16", "-n", str(requests), "-P", str(pipeline), "--csv"]
    if tests:
        cmd += ["-t", ",".join(tests)]
    if command:
        cmd += command
    if args.client_cpu is not None:
        cmd = ["taskset", "-c", str(args.client_cpu)] + cmd
    proc = bl.register_child(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    try:
        out, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        bl.stop_process(proc)
        out, err = b"", b"timed out after %ds" % args.timeout
    finally:
        if proc in bl._CHILDREN:
            bl._CHILDREN.remove(proc)
    rows = {}
    for rec in csv.DictReader(io.StringIO(out.decode("utf-8", "replace"))):
        name = rec.get("test", "")
        if "needed to benchmark" in name:
            continue  # redis-benchmark's own LPUSH prefill for LRANGE
        label = name.split()[0].lower() if tests else None
        try:
            rows[label] = {k: float(rec[k]) for k in rec if k != "test"}
        except (TypeError, ValueError):
            continue
    error = None
    if proc.returncode != 0 or not rows:
        error = (err.decode("utf-8", "replace").strip() or "rc=%s" % proc.returncode)[-300:]
    return rows, error


DEATHS = []  # every time a server was found dead between runs


def ensure_running(server):
    """Restart a server that died (its failed test is already recorded).

    Returns an error string if it can't be brought back, else None."""
    if server.alive():
        return None
    why = "%s died (exit %s)" % (server.name, server.proc.returncode if server.proc else "?")
    bl.log("  %s; restarting it fresh" % why)
    try:
        server.start()
        DEATHS.append(why + ", restarted")
        return None
    except RuntimeError as e:
        DEATHS.append(why + ", restart failed")
        return "server down, restart failed: %s" % str(e).splitlines()[0]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_server_args(p)
    p.add_argument("--quick", action="store_true", help="smoke run: few requests, 2 rounds")
    p.add_argument("--rounds", type=int, default=None, help="A/B rounds (default 5, quick 2)")
    p.add_argument("--pipelines", default="1,16", help="comma list of -P values")
    p.add_argument("--requests-p1", type=int, default=None, help="-n at -P 1 (default 200000)")
    p.add_argument("--requests-pipelined", type=int, default=None, help="-n at -P>1 (default 1000000)")
    p.add_argument("--clients", type=int, default=50, help="-c (default 50)")
    p.add_argument("--tests", default=",".join(ALL_TESTS), help="comma list from: " + ",".join(ALL_TESTS))
    p.add_argument("--server-cpu", default="0", help="core for the servers ('none' to not pin)")
    p.add_argument("--client-cpu", default="1", help="core for redis-benchmark and subscribers")
    p.add_argument("--timeout", type=int, default=None,
                   help="seconds per redis-benchmark run (default 300, quick 60)")
    p.add_argument("--csv", default=None, help="write every sample to this CSV file")
    p.add_argument("--_subscriber", nargs=2, metavar=("PORT", "COUNT"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args._subscriber:
        return subscriber_main(int(args._subscriber[0]), int(args._subscriber[1]))

    rounds = args.rounds or (2 if args.quick else 5)
    args.timeout = args.timeout or (60 if args.quick else 300)
    n_p1 = args.requests_p1 or (10_000 if args.quick else 200_000)
    n_pp = args.requests_pipelined or (50_000 if args.quick else 1_000_000)
    pipelines = [int(x) for x in args.pipelines.split(",")]
    tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    bad = [t for t in tests if t not in ALL_TESTS]
    if bad:
        raise SystemExit("unknown tests %s; choose from %s" % (bad, ",".join(ALL_TESTS)))
    std = [t for t in tests if t in STD_TESTS]
    custom = [t for t in tests if t in CUSTOM]

    bl.ensure_redis_tools()
    if args.server_cpu == "none" or bl.cpu_count() < 2 or not bl.ensure_taskset():
        if args.server_cpu != "none":
            bl.log("WARNING: fewer than 2 usable cores or no taskset: not pinning")
        args.server_cpu = args.client_cpu = None
    quiet_note = bl.check_quiet_machine()
    specs = bl.resolve_servers(args)
    servers = [bl.Server(s, cpu=args.server_cpu) for s in specs]
    for s in servers:
        try:
            s.start()
        except RuntimeError as e:
            raise SystemExit(str(e))
        bl.log("started %s on port %d (pid %d)" % (s.name, s.port, s.proc.pid))

    # samples[(test, P)][server] = [rps per round]
    samples = {}
    # cpu[(test, P)][server] = [server CPU microseconds per request, per round]:
    # unlike requests/s, barely moved by other load on the machine.
    cpu = {}
    raw = []
    failures = []

    def record(rnd, pipeline, server, test, row, error, extra="", cpu_us=None):
        key = (test, pipeline)
        if cpu_us is not None and not error:
            cpu.setdefault(key, {}).setdefault(server.name, []).append(cpu_us)
        samples.setdefault(key, {}).setdefault(server.name, [])
        rps = row["rps"] if row else None
        samples[key][server.name].append(rps)
        raw.append([rnd, pipeline, server.name, test, rps,
                    row.get("p50_latency_ms") if row else "", row.get("p99_latency_ms") if row else "",
                    error or "", extra])
        if error:
            failures.append("%s %s P%d round %d: %s" % (server.name, test, pipeline, rnd, error))

    t0 = time.time()
    for rnd in range(1, rounds + 1):
        # Rotate who goes first each round (ABC, BCA, CAB, ...): servers still
        # take turns test by test, and no server always runs first.
        k = (rnd - 1) % len(servers)
        order = servers[k:] + servers[:k]
        for pipeline in pipelines:
            n = n_p1 if pipeline == 1 else n_pp
            # One redis-benchmark call per test and server: servers alternate
            # test by test, and a command a server lacks fails only its test.
            for t in std:
                for srv in order:
                    down = ensure_running(srv)
                    if down:
                        record(rnd, pipeline, srv, t, None, down)
                        continue
                    c0 = server_cpu_seconds(srv)
                    rows, error = run_benchmark(srv.port, args, pipeline, n, tests=[t])
                    c1 = server_cpu_seconds(srv)
                    # LRANGE_* tests include redis-benchmark's own LPUSH prefill.
                    per_req = None if c0 is None or c1 is None else (c1 - c0) / n * 1e6
                    record(rnd, pipeline, srv, t, rows.get(t), error if t not in rows else None,
                           cpu_us=per_req)
                    bl.log("round %d P%-2d %-9s %s=%s" % (
                        rnd, pipeline, srv.name, t,
                        "%.0fk" % (rows[t]["rps"] / 1000) if t in rows else "ERR " + (error or "")))
            for t in custom:
                command, nsubs, divisor = CUSTOM[t]
                for srv in order:
                    down = ensure_running(srv)
                    if down:
                        record(rnd, pipeline, srv, t, None, down)
                        continue
                    subs, extra, sub_error = None, "", None
                    if nsubs:
                        try:
                            subs = Subscribers(srv.port, nsubs, args.client_cpu)
                        except (RuntimeError, OSError) as e:
                            sub_error = str(e)
                    if sub_error:
                        rows, error = {}, sub_error
                    else:
                        c0 = server_cpu_seconds(srv)
                        rows, error = run_benchmark(srv.port, args, pipeline, max(1, n // divisor),
                                                    command=command)
                        c1 = server_cpu_seconds(srv)
                    row = next(iter(rows.values()), None)
                    if subs:
                        msgs, closed = subs.finish()
                        expected = max(1, n // divisor) * nsubs
                        extra = "delivered=%s/%d lost_conns=%s" % (
                            "?" if msgs is None else "%d" % msgs, expected, closed)
                        if msgs is None or closed or msgs < 0.99 * expected:
                            error = error or "subscribers: " + extra
                    per_req = None
                    if not sub_error and c0 is not None and c1 is not None:
                        per_req = (c1 - c0) / max(1, n // divisor) * 1e6
                    record(rnd, pipeline, srv, t, row, error, extra, cpu_us=per_req)
                    bl.log("round %d P%-2d %-9s %s=%s %s" % (
                        rnd, pipeline, srv.name, t,
                        "%.0fk" % (row["rps"] / 1000) if row else "ERR " + (error or ""), extra))
    elapsed = time.time() - t0
    for s in servers:
        s.stop()

    names = [s.name for s in specs]
    fk = next((s.name for s in specs if s.is_ferrokey), None)
    refs = [s.name for s in specs if not s.is_ferrokey]
    header = ["test", "P"] + ["%s rps" % n for n in names]
    if fk:
        header += ["%s/%s" % (fk, r) for r in refs]
    table = []
    for pipeline in pipelines:
        for t in tests:
            per = samples.get((t, pipeline), {})
            med = {nm: bl.median(per.get(nm, [])) for nm in names}
            line = [t, pipeline]
            for nm in names:
                vals = [v for v in per.get(nm, []) if v is not None]
                if not vals or med[nm] is None:
                    line.append("ERR")
                    continue
                spread = (max(vals) - min(vals)) / 2.0 / med[nm] * 100 if len(vals) > 1 else 0.0
                bad_rounds = len(per.get(nm, [])) - len(vals)
                line.append("%.0f ±%.0f%%%s" % (med[nm], spread, " (%d ERR)" % bad_rounds if bad_rounds else ""))
            if fk:
                line += [bl.ratio(med[fk], med[r]) or "-" for r in refs]
            table.append(line)
    print("Throughput: median requests/s over %d rounds (± half the min..max range); -c %d, -r 1000000,"
          " -d 16; server core %s, client core %s. Higher is better; ratio > 1 means Ferrokey is faster."
          % (rounds, args.clients, args.server_cpu, args.client_cpu))
    print(bl.fmt_table(header, table))
    print("(%.0f s; -n %d at P1, %d pipelined; publish100 uses n/10)" % (elapsed, n_p1, n_pp))
    cheader = ["test", "P"] + ["%s us/req" % n for n in names]
    if fk:
        cheader += ["%s/%s" % (r, fk) for r in refs]
    cheader += ["%s busy" % n for n in names]
    ctable = []
    for pipeline in pipelines:
        for t in tests:
            per = cpu.get((t, pipeline), {})
            med = {nm: bl.median(per.get(nm, [])) for nm in names}
            line = [t, pipeline] + ["-" if med[nm] is None else "%.2f" % med[nm] for nm in names]
            if fk:
                line += [bl.ratio(med[r], med[fk]) or "-" for r in refs]
            # How much of its core the server used: well below 100 %, the
            # client (or the network path) set the rate, not the server.
            rates = samples.get((t, pipeline), {})
            for nm in names:
                rps = bl.median([v for v in rates.get(nm, []) if v is not None])
                line.append("-" if med[nm] is None or rps is None else "%.0f%%" % (med[nm] * rps / 1e4))
            ctable.append(line)
    print()
    print("Server CPU (user + system) per request, median over rounds: lower is better; the ratio"
          " reference/Ferrokey > 1 means Ferrokey spends less CPU per request. Steadier than"
          " requests/s on a busy machine (with the server saturated, requests/s ~ 1 / this)."
          " 'busy' = CPU per request x requests/s: the share of its core the server used.")
    print(bl.fmt_table(cheader, ctable))
    print("(%s; %s)" % (quiet_note, bl.end_note()))
    if DEATHS:
        print("\nServer deaths (%d):" % len(DEATHS))
        for d in DEATHS:
            print("  " + d)
    if failures:
        print("\nFailures (%d):" % len(failures))
        for f in failures[:40]:
            print("  " + f)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["round", "pipeline", "server", "test", "rps", "p50_ms", "p99_ms", "error", "extra"])
            w.writerows(raw)
    return 1 if failures or DEATHS else 0


if __name__ == "__main__":
    sys.exit(main())
