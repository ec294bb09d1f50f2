#!/usr/bin/env python3
"""Memory per key: Ferrokey vs reference servers, side by side.

For each case and each server: start the server fresh, read VmRSS from
/proc/PID/status (never INFO: Ferrokey's INFO is under test), load the case's
commands with `redis-cli --pipe`, wait for RSS to settle, read VmRSS again.
bytes/unit = (RSS after - RSS before) / units.

The RESP input of a case is generated once into a file and fed to every server.

Examples:
  bench/memory.py --quick
  bench/memory.py --cases strings --sizes 1000000
  bench/memory.py --cases str8,set --servers redis,valkey
  FERROKEY_BIN=/usr/bin/redis-server bench/memory.py --quick   # stand-in test
"""

import argparse
import csv
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

KEY_FMT = b"key:%08d"  # 12 bytes for every i < 10**8
VALUE_SIZES = (8, 16, 32, 100)
TTL = b"100000"
CHUNK = 100_000  # records formatted per write


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def value_fmt(size, prefix=b"v"):
    """A %-format producing exactly `size` bytes from an int (taken mod 10**digits).

    The letter prefix keeps the value from being integer-encoded by the server,
    so every value really is a `size`-byte string.
    """
    digits = size - len(prefix)
    return prefix + b"%0" + str(digits).encode() + b"d", 10 ** digits


# --------------------------------------------------------------------------
# Cases: each returns (chunk_fn(a, b) -> bytes for records [a, b), records, units)
# --------------------------------------------------------------------------


def case_string(vsize, ttl):
    vfmt, vmod = value_fmt(vsize)
    if ttl:
        tmpl = b"*5\r\n$3\r\nSET\r\n$12\r\n" + KEY_FMT + b"\r\n$%d\r\n" % vsize + vfmt
        tmpl += b"\r\n$2\r\nEX\r\n" + bulk(TTL)
    else:
        tmpl = b"*3\r\n$3\r\nSET\r\n$12\r\n" + KEY_FMT + b"\r\n$%d\r\n" % vsize + vfmt + b"\r\n"

    def setup(n):
        def chunk(a, b):
            return b"".join([tmpl % (i, i % vmod) for i in range(a, b)])

        return chunk, n, n

    return setup


def case_set():
    tmpl = b"*3\r\n$4\r\nSADD\r\n" + bulk(b"set:bench") + b"$12\r\nmem:%08d\r\n"

    def setup(n):
        return (lambda a, b: b"".join([tmpl % i for i in range(a, b)])), n, n

    return setup


def case_hash():
    vfmt, vmod = value_fmt(8)
    tmpl = b"*4\r\n$4\r\nHSET\r\n" + bulk(b"hash:bench") + b"$12\r\nfld:%08d\r\n$8\r\n" + vfmt + b"\r\n"

    def setup(n):
        return (lambda a, b: b"".join([tmpl % (i, i % vmod) for i in range(a, b)])), n, n

    return setup


def case_zset():
    # Fixed-width 8-digit scores ("00000042" parses as 42) keep lengths constant.
    tmpl = b"*4\r\n$4\r\nZADD\r\n" + bulk(b"zset:bench") + b"$8\r\n%08d\r\n$12\r\nmem:%08d\r\n"

    def setup(n):
        return (lambda a, b: b"".join([tmpl % (i, i) for i in range(a, b)])), n, n

    return setup


def case_smallhash():
    # n counts fields; n/10 hashes of 10 fields (12-byte field names, 8-byte values).
    vfmt, vmod = value_fmt(8)
    tmpl = b"*22\r\n$4\r\nHSET\r\n$12\r\nhsh:%08d\r\n"
    for k in range(10):
        tmpl += bulk(b"fld:%08d" % k) + b"$8\r\n" + vfmt + b"\r\n"

    def setup(n):
        hashes = max(1, n // 10)

        def chunk(a, b):
            return b"".join(
                [tmpl % ((h,) + tuple((h * 10 + k) % vmod for k in range(10))) for h in range(a, b)]
            )

        return chunk, hashes, hashes

    return setup


def case_stream():
    v1, vmod = value_fmt(8, b"v")
    v2, _ = value_fmt(8, b"w")
    tmpl = (
        b"*7\r\n$4\r\nXADD\r\n" + bulk(b"stream:bench") + bulk(b"*")
        + bulk(b"fieldone") + b"$8\r\n" + v1 + b"\r\n"
        + bulk(b"fieldtwo") + b"$8\r\n" + v2 + b"\r\n"
    )

    def setup(n):
        return (lambda a, b: b"".join([tmpl % (i % vmod, i % vmod) for i in range(a, b)])), n, n

    return setup


# name -> (group, unit, description, setup factory, default sizes)
CASES = {}
for _v in VALUE_SIZES:
    CASES["str%d" % _v] = ("strings", "key", "SET 12B key, %dB value" % _v, case_string(_v, False), "strings")
    CASES["str%d-ttl" % _v] = ("strings", "key", "SET 12B key, %dB value EX 100000" % _v, case_string(_v, True), "strings")
CASES["set"] = ("set", "member", "1 key, SADD 12B members", case_set(), "coll")
CASES["hash"] = ("hash", "field", "1 key, HSET 12B fields 8B values", case_hash(), "coll")
CASES["zset"] = ("zset", "member", "1 key, ZADD 12B members", case_zset(), "coll")
CASES["smallhash"] = ("smallhash", "hash", "N/10 hashes x 10 fields (12B/8B)", case_smallhash(), "coll")
CASES["stream"] = ("stream", "entry", "1 key, XADD 2 fields 8B/8B", case_stream(), "coll")

GROUPS = {
    "strings": [c for c in CASES if CASES[c][0] == "strings"],
    "strings-nottl": ["str%d" % v for v in VALUE_SIZES],
    "strings-ttl": ["str%d-ttl" % v for v in VALUE_SIZES],
    "collections": ["set", "hash", "zset", "smallhash", "stream"],
    "all": list(CASES),
}


def select_cases(spec):
    out = []
    for tok in [t.strip() for t in spec.split(",") if t.strip()]:
        names = GROUPS.get(tok, [tok] if tok in CASES else None)
        if names is None:
            raise SystemExit(
                "unknown case %r; cases: %s; groups: %s" % (tok, ", ".join(CASES), ", ".join(GROUPS))
            )
        out += [n for n in names if n not in out]
    return out


def generate(path, chunk_fn, records):
    t = time.time()
    with open(path, "wb", buffering=1 << 22) as f:
        for a in range(0, records, CHUNK):
            f.write(chunk_fn(a, min(records, a + CHUNK)))
    return time.time() - t, os.path.getsize(path)


def settle(server, quiet, max_wait):
    """Poll VmRSS until it moved by < 0.1% for `quiet` seconds. Returns (rss, peak).

    Servers keep changing RSS after the last reply: Redis finishes an
    incremental rehash and frees the old table seconds later, allocators purge
    dirty pages on a timer. The settled value is the steady-state cost.
    """
    samples = [(time.time(), server.rss())]
    start = samples[0][0]
    peak = samples[0][1]
    while True:
        time.sleep(0.25)
        now, r = time.time(), server.rss()
        samples.append((now, r))
        peak = max(peak, r)
        window = [s for t, s in samples if t >= now - quiet]
        if now - start >= quiet and (max(window) - min(window)) <= max(65536, 0.001 * r):
            return r, peak
        if now - start >= max_wait:
            bl.log("  RSS not settled after %.0fs, using last sample" % max_wait)
            return r, peak


CANNOT_START = set()  # servers that failed to start once are not retried per case


def measure(spec, path, records, units, args):
    if spec.name in CANNOT_START:
        return None
    srv = bl.Server(spec)
    try:
        srv.start()
    except RuntimeError as e:
        bl.log("  %s: %s (skipping it for the remaining cases)" % (spec.name, e))
        CANNOT_START.add(spec.name)
        return None
    try:
        time.sleep(0.2)
        before = srv.rss()
        t = time.time()
        ok, replies, errors, text = bl.pipe_file(srv.port, path)
        load_s = time.time() - t
        if not ok or replies != records:
            first_err = next((ln for ln in text.splitlines() if ln.startswith(("ERR", "-", "WRONG"))), "")
            bl.log(
                "  %s: load failed (errors=%s replies=%s of %d) %s"
                % (spec.name, errors, replies, records, first_err or text.strip()[-200:])
            )
            return None
        immediate = srv.rss()
        after, peak = settle(srv, args.settle, args.max_settle)
        if not srv.alive():
            bl.log("  %s: server died" % spec.name)
            return None
        return {
            "before": before,
            "immediate": immediate,
            "after": after,
            "peak": peak,
            "load_s": load_s,
            "per_unit": (after - before) / float(units),
        }
    finally:
        srv.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bl.add_server_args(p)
    p.add_argument("--quick", action="store_true", help="smoke run: 20k items, short settle")
    p.add_argument("--cases", default="all", help="comma list of cases/groups (%s; groups: %s)"
                   % (", ".join(CASES), ", ".join(GROUPS)))
    p.add_argument("--sizes", default=None,
                   help="comma list of N for every selected case (default: strings 1000000,10000000; "
                   "collections 1000000; --quick 20000)")
    p.add_argument("--settle", type=float, default=None,
                   help="RSS must be stable this many seconds before reading it (default 10, quick 1)")
    p.add_argument("--max-settle", type=float, default=60.0, help="give up settling after this (s)")
    p.add_argument("--workdir", default=None, help="where RESP files are written (default: a temp dir)")
    p.add_argument("--keep-files", action="store_true", help="keep generated RESP files")
    p.add_argument("--csv", default=None, help="also write raw results to this CSV file")
    args = p.parse_args()
    if args.settle is None:
        args.settle = 1.0 if args.quick else 10.0

    bl.ensure_redis_tools()
    specs = bl.resolve_servers(args)
    cases = select_cases(args.cases)
    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
        sizes_for = {"strings": sizes, "coll": sizes}
    elif args.quick:
        sizes_for = {"strings": [20_000], "coll": [20_000]}
    else:
        sizes_for = {"strings": [1_000_000, 10_000_000], "coll": [1_000_000]}
    if any(n >= 10 ** 8 for v in sizes_for.values() for n in v):
        raise SystemExit("N must be < 100,000,000 (keys are fixed 12 bytes: key:%08d)")
    workdir = args.workdir or bl.make_tmpdir("memory-", keep=args.keep_files, base="/var/tmp")
    os.makedirs(workdir, exist_ok=True)

    rows = []  # (case, n, unit, {server: result})
    raw = []
    for case in cases:
        _group, unit, desc, factory, size_kind = CASES[case]
        for n in sizes_for[size_kind]:
            chunk_fn, records, units = factory(n)
            path = os.path.join(workdir, "%s-%d.resp" % (case, n))
            gen_s, nbytes = generate(path, chunk_fn, records)
            bl.log("case %s N=%d: %s; %d commands, %.0f MB generated in %.1fs"
                   % (case, n, desc, records, nbytes / 1e6, gen_s))
            results = {}
            for spec in specs:
                r = measure(spec, path, records, units, args)
                results[spec.name] = r
                if r:
                    bl.log("  %-9s before %7.1f MB after %8.1f MB (immediate %8.1f, peak %8.1f) "
                           "load %.1fs -> %.1f B/%s"
                           % (spec.name, r["before"] / 1e6, r["after"] / 1e6, r["immediate"] / 1e6,
                              r["peak"] / 1e6, r["load_s"], r["per_unit"], unit))
                raw.append((case, n, unit, units, spec.name, r))
            if not args.keep_files:
                os.unlink(path)
            rows.append((case, n, unit, results))

    names = [s.name for s in specs]
    fk = next((s.name for s in specs if s.is_ferrokey), None)
    refs = [s.name for s in specs if not s.is_ferrokey]
    header = ["case", "N", "unit"] + ["%s B/unit" % n for n in names]
    if fk:
        header += ["%s/%s" % (fk, r) for r in refs]
    table = []
    for case, n, unit, results in rows:
        per = {k: (v["per_unit"] if v else None) for k, v in results.items()}
        line = [case, n, unit] + [("%.1f" % per[k]) if per[k] is not None else "ERR" for k in names]
        if fk:
            line += [bl.ratio(per[fk], per[r]) or "-" for r in refs]
        table.append(line)
    print("Memory per unit: (VmRSS after load, settled - VmRSS before) / units. Lower is better;"
          " ratio < 1 means Ferrokey uses less.")
    print(bl.fmt_table(header, table))

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["case", "n", "unit", "units", "server", "rss_before", "rss_immediate",
                        "rss_after", "rss_peak", "load_s", "bytes_per_unit"])
            for case, n, unit, units, name, r in raw:
                if r:
                    w.writerow([case, n, unit, units, name, r["before"], r["immediate"], r["after"],
                                r["peak"], "%.2f" % r["load_s"], "%.2f" % r["per_unit"]])
                else:
                    w.writerow([case, n, unit, units, name, "", "", "", "", "", "ERR"])
    failed = any(r is None for _c, _n, _u, res in rows for r in res.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
