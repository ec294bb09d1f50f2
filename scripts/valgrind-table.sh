#!/usr/bin/env bash
# Runs every test binary of the table crate (ferrokey-table) under valgrind
# memcheck, then the server's unit tests of its other `unsafe` code (the
# key record layout, the one-pointer buffers of `thinbuf` and the listpacks,
# intsets, sets, hashes and lists built on them, collection members, the
# record slab): those are the only places with `unsafe`, so their unit,
# model and property tests double as a memory-safety check — invalid
# reads/writes, double frees and leaks fail the run.
#
#   scripts/valgrind-table.sh            # a few minutes
#   scripts/valgrind-table.sh --quick    # CI: fewer property-test cases
#
# PROPTEST_CASES overrides the property-test case counts; CARGO_TARGET_DIR
# is honoured.
set -euo pipefail

quick=0
for arg in "$@"; do
    case "$arg" in
        --quick) quick=1 ;;
        -h | --help)
            sed -n '2,13p' "$0"
            exit 0
            ;;
        *)
            echo "unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind is not installed (apt-get install valgrind)" >&2
    exit 1
fi

if [[ $quick == 1 ]]; then
    export PROPTEST_CASES=${PROPTEST_CASES:-4}
else
    export PROPTEST_CASES=${PROPTEST_CASES:-24}
fi
# No shrinking storms or regression files under valgrind.
export PROPTEST_MAX_SHRINK_ITERS=${PROPTEST_MAX_SHRINK_ITERS:-0}
export PROPTEST_DISABLE_FAILURE_PERSISTENCE=${PROPTEST_DISABLE_FAILURE_PERSISTENCE:-true}

# Build the test binaries and collect their paths from cargo's JSON messages
# (the artifacts of this package built with the test profile).
mapfile -t bins < <(
    cargo test -p ferrokey-table --no-run --message-format=json 2>/dev/null |
        grep '"reason":"compiler-artifact"' |
        grep 'ferrokey-table' |
        grep '"test":true' |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p'
)
if [[ ${#bins[@]} == 0 ]]; then
    echo "no test binaries found (does the crate build? try: cargo test -p ferrokey-table --no-run)" >&2
    exit 1
fi

# Two "possibly lost" blocks are not leaks of this crate: the TLS block of a
# thread that is still running at exit (the detached lazy-free thread keeps
# waiting for garbage), and the handle std allocates for a thread's
# `thread::current()` (held through an offset pointer valgrind does not
# recognise). Everything else still fails the run.
supp=$(mktemp)
trap 'rm -f "$supp"' EXIT
cat >"$supp" <<'SUPP'
{
   running-thread-tls
   Memcheck:Leak
   match-leak-kinds: possible
   ...
   fun:_dl_allocate_tls
   ...
}
{
   std-thread-current-handle
   Memcheck:Leak
   match-leak-kinds: possible
   ...
   fun:*init_current*
   ...
}
SUPP

status=0
for bin in "${bins[@]}"; do
    name=$(basename "$bin")
    echo "== valgrind: $name (PROPTEST_CASES=$PROPTEST_CASES)"
    start=$(date +%s)
    # definite and possible leaks are errors; memory still reachable at exit
    # (the lazy-free thread's queue) is not.
    if valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \
        --suppressions="$supp" --quiet "$bin" --test-threads=2 -q; then
        echo "== ok: $name ($(($(date +%s) - start)) s)"
    else
        echo "== FAILED: $name" >&2
        status=1
    fi
done

# The server library's unsafe modules, by test-name filter.
server_bin=$(
    cargo test -p ferrokey-server --lib --no-run --message-format=json 2>/dev/null |
        grep '"reason":"compiler-artifact"' |
        grep '"test":true' |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
)
if [[ -z $server_bin ]]; then
    echo "no server test binary found" >&2
    status=1
else
    echo "== valgrind: server record layout, thin buffers and the collections on them, members, slab, sorted-set tree, fork child"
    if valgrind --tool=memcheck --error-exitcode=1 --leak-check=full \
        --errors-for-leak-kinds=definite,possible --show-leak-kinds=definite,possible \
        --suppressions="$supp" --quiet "$server_bin" --test-threads=2 -q \
        keyspace::record keyspace::member keyspace::slab keyspace::varint keyspace::zset \
        keyspace::thinbuf keyspace::listpack keyspace::set keyspace::hash keyspace::list \
        keyspace::value &&
        # The fork tests alone and without the leak check: a forked child
        # leaves through _exit, skipping the destructors of threads that
        # only the parent has, which memcheck would count as the child's
        # leaks (and turn into a failed exit status).
        valgrind --tool=memcheck --error-exitcode=1 --leak-check=no \
            --child-silent-after-fork=yes --quiet "$server_bin" --test-threads=1 -q \
            persistence::child; then
        echo "== ok: server unsafe modules"
        bins+=("$server_bin")
    else
        echo "== FAILED: server unsafe modules" >&2
        status=1
    fi
fi

if [[ $status == 0 ]]; then
    echo "valgrind: ${#bins[@]} test binaries, 0 errors"
fi
exit $status
