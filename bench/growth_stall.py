#!/usr/bin/env python3
"""Growth stalls: how long can a single request wait while the keyspace grows?

For each server: start it fresh (pinned to the server core), then load N keys
with `redis-cli --pipe` in the background (niced, on the client core) while
this script, on its own connection, sends one GET at a time in a loop (random
key of the loaded range) and times every round trip. A server that resizes
its main hash table in one go (or does any other O(n) work on a request path)
shows it as a huge max; incremental rehashing keeps the tail flat.

Reported per server: load time, number of probes, p50/p99/p99.9/p99.99/max
round trip in microseconds, when (seconds into the load) the max happened, and
the max of an idle probe before loading (the noise floor of this machine).
With --rounds > 1 servers alternate A/B/A/B and the table shows medians (the
max column shows the worst round).

Examples:
  bench/growth_stall.py --quick
  bench/growth_stall.py --keys 10000000 --rounds 3
"""

import argparse
import array
import csv
import gc
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

CHUNK = 100_000


def generate(path, n, vsize):
    digits = vsize - 1
    tmpl = (b"*3\r\n$3\r\nSET\r\n$12\r\nkey:%08d\r\n$" + str(vsize).encode() + b"\r\nv%0"
            + str(digits).encode() + b"d\r\n")
    mod = 10 ** digits
    t = time.time()
    with open(path, "wb", buffering=1 << 22) as f:
        for a in range(0, n, CHUNK):
            f.write(b"".join([tmpl % (i, i % mod) for i in range(a, min(n, a + CHUNK))]))
    return time.time() - t


class Prober:
    """Synchronous GET loop on one connection; records each round trip in ns."""

    def __init__(self, port, nkeys, seed=1):
        rng = random.Random(seed)
        self.cmds = [bl.encode("GET", b"key:%08d" % rng.randrange(nkeys)) for _ in range(4096)]
        # Long timeout: a multi-second stall is a result to report, not an error.
        self.conn = bl.Conn(port, timeout=120)
        self.sock = self.conn.sock
        self.errors = 0

    def one(self):
        """Send one GET, wait for the whole reply; returns elapsed ns."""
        cmd = self.cmds[self.i & 4095]
        self.i += 1
        sock = self.sock
        t = time.perf_counter_ns()
        sock.sendall(cmd)
        buf = sock.recv(65536)
        while True:
            nl = buf.find(b"\r\n")
            if nl >= 0:
                if buf[:1] == b"$":
                    n = int(buf[1:nl])
                    need = nl + 2 + (n + 2 if n >= 0 else 0)
                else:  # "-ERR ...": count it, keep probing
                    need = nl + 2
                    self.errors += 1
                if len(buf) >= need:
                    break
            more = sock.recv(65536)
            if not more:
                raise bl.RespError("connection closed by server")
            buf += more
        return time.perf_counter_ns() - t

    def run(self, until, times, stamps):
        """Probe until until() is true; append round trips (ns) and start offsets."""
        self.i = 0
        t0 = time.perf_counter_ns()
        while not until():
            start = time.perf_counter_ns()
            times.append(self.one())
            stamps.append(start - t0)


def stats(times):
    s = sorted(times)
    return {
        "probes": len(s),
        "p50": bl.percentile(s, 50),
        "p99": bl.percentile(s, 99),
        "p999": bl.percentile(s, 99.9),
        "p9999": bl.percentile(s, 99.99),
        "max": s[-1] if s else None,
    }


def one_run(spec, path, nkeys, args):
    srv = bl.Server(spec, cpu=args.server_cpu)
    try:
        srv.start()
    except RuntimeError as e:
        bl.log("  %s: %s" % (spec.name, e))
        return None
    try:
        prober = Prober(srv.port, nkeys)
        # Idle floor first: same loop, nothing else going on.
        idle_times, idle_stamps = array.array("q"), array.array("q")
        deadline = time.time() + args.idle
        prober.run(lambda: time.time() >= deadline, idle_times, idle_stamps)

        times, stamps = array.array("q"), array.array("q")
        t = time.time()
        loader = bl.pipe_file(srv.port, path, cpu=args.client_cpu, nice=args.loader_nice,
                              background=True)
        gc.disable()  # a GC pause in the prober would read as a server stall
        try:
            prober.run(lambda: loader.poll() is not None, times, stamps)
        finally:
            gc.enable()
        load_s = time.time() - t
        out = loader.stdout.read()
        loader.wait()
        if loader in bl._CHILDREN:
            bl._CHILDREN.remove(loader)
        ok, replies, errors, text = bl.parse_pipe_output(loader.returncode, out)
        if not ok or replies != nkeys:
            bl.log("  %s: load failed (errors=%s replies=%s of %d): %s"
                   % (spec.name, errors, replies, nkeys, text.strip()[-200:]))
            return None
        if prober.errors:
            bl.log("  %s: %d GET probes got error replies" % (spec.name, prober.errors))
        r = stats(times)
        imax = max(range(len(times)), key=times.__getitem__)
        r.update({
            "load_s": load_s,
            "max_at_s": stamps[imax] / 1e9,
            "idle_max": max(idle_times) if idle_times else None,
            "idle_p9999": stats(idle_times)["p9999"],
            "probe_errors": prober.errors,
        })
        prober.conn.close()
        return r
    except (OSError, bl.RespError) as e:
        bl.log("  %s: probe failed: %s" % (spec.name, e))
        return None
    finally:
        srv.stop()


def us(ns):
    return None if ns is None else ns / 1000.0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_server_args(p)
    p.add_argument("--quick", action="store_true", help="smoke run: 300k keys")
    p.add_argument("--keys", type=int, default=None, help="keys to load (default 10000000)")
    p.add_argument("--value-size", type=int, default=16, help="bytes per value (default 16)")
    p.add_argument("--rounds", type=int, default=1, help="A/B rounds (default 1)")
    p.add_argument("--idle", type=float, default=None, help="seconds of idle probing first (default 2)")
    p.add_argument("--server-cpu", default="0", help="core for the server ('none' to not pin)")
    p.add_argument("--client-cpu", default="1", help="core for the loader and this prober")
    p.add_argument("--loader-nice", type=int, default=10,
                   help="nice value of the redis-cli --pipe loader so the prober wakes promptly")
    p.add_argument("--csv", default=None, help="write per-round results to this CSV file")
    args = p.parse_args()
    nkeys = args.keys or (300_000 if args.quick else 10_000_000)
    if args.idle is None:
        args.idle = 0.5 if args.quick else 2.0
    if nkeys >= 10 ** 8:
        raise SystemExit("--keys must be < 100,000,000")
    if args.value_size < 2:
        raise SystemExit("--value-size must be >= 2")

    bl.ensure_redis_tools()
    if args.server_cpu == "none" or bl.cpu_count() < 2 or not bl.ensure_taskset():
        if args.server_cpu != "none":
            bl.log("WARNING: fewer than 2 usable cores or no taskset: not pinning")
        args.server_cpu = args.client_cpu = None
    if args.client_cpu is not None:
        os.sched_setaffinity(0, {int(args.client_cpu)})
    quiet_note = bl.check_quiet_machine()
    specs = bl.resolve_servers(args)

    workdir = bl.make_tmpdir("growth-", base="/var/tmp")
    path = os.path.join(workdir, "load.resp")
    gen_s = generate(path, nkeys, args.value_size)
    bl.log("generated %d SETs (%.0f MB) in %.1fs" % (nkeys, os.path.getsize(path) / 1e6, gen_s))

    results = {s.name: [] for s in specs}
    raw = []
    for rnd in range(1, args.rounds + 1):
        k = (rnd - 1) % len(specs)  # rotate who goes first each round
        for spec in specs[k:] + specs[:k]:
            r = one_run(spec, path, nkeys, args)
            results[spec.name].append(r)
            raw.append((rnd, spec.name, r))
            if r:
                bl.log("round %d %-9s load %.1fs, %d probes, p50 %.0fus p99.99 %.0fus max %.0fus at %.1fs"
                       " (idle max %.0fus)" % (rnd, spec.name, r["load_s"], r["probes"], us(r["p50"]),
                                               us(r["p9999"]), us(r["max"]), r["max_at_s"],
                                               us(r["idle_max"])))
    os.unlink(path)

    names = [s.name for s in specs]
    fk = next((s.name for s in specs if s.is_ferrokey), None)
    refs = [s.name for s in specs if not s.is_ferrokey]
    summary = {}
    for nm in names:
        ok = [r for r in results[nm] if r]
        if not ok:
            summary[nm] = None
            continue
        m = {k: bl.median([r[k] for r in ok]) for k in
             ("load_s", "probes", "p50", "p99", "p999", "p9999", "max_at_s", "idle_max")}
        m["max"] = max(r["max"] for r in ok)
        m["rounds_ok"] = len(ok)
        summary[nm] = m
    header = ["server", "keys", "load s", "probes", "p50 us", "p99 us", "p99.9 us", "p99.99 us",
              "max us", "max at s", "idle max us"]
    table = []
    for nm in names:
        m = summary[nm]
        if not m:
            table.append([nm, nkeys] + ["ERR"] * (len(header) - 2))
            continue
        table.append([nm, nkeys, "%.1f" % m["load_s"], "%d" % m["probes"], "%.0f" % us(m["p50"]),
                      "%.0f" % us(m["p99"]), "%.0f" % us(m["p999"]), "%.0f" % us(m["p9999"]),
                      "%.0f" % us(m["max"]), "%.1f" % m["max_at_s"], "%.0f" % us(m["idle_max"])])
    print("Growth stall: GET round trips on a separate connection while %d keys load via redis-cli --pipe"
          " (%d round(s); medians, max = worst round). Lower is better." % (nkeys, args.rounds))
    print(bl.fmt_table(header, table))
    print("(%s; %s)" % (quiet_note, bl.end_note()))
    if fk and summary.get(fk):
        print()
        rh = ["ratio"] + ["%s/%s" % (fk, r) for r in refs]
        rows = []
        for label, k in (("p99.99", "p9999"), ("max", "max"), ("load time", "load_s")):
            rows.append([label] + [bl.ratio(summary[fk][k], summary[r][k]) if summary.get(r) else "-"
                                   for r in refs])
        print(bl.fmt_table(rh, rows))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            cols = ["load_s", "probes", "p50", "p99", "p999", "p9999", "max", "max_at_s", "idle_max",
                    "idle_p9999", "probe_errors"]
            w.writerow(["round", "server", "keys"] + cols)
            for rnd, nm, r in raw:
                w.writerow([rnd, nm, nkeys] + ([r[c] for c in cols] if r else ["ERR"] * len(cols)))
    failed = any(r is None for rs in results.values() for r in rs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
