#!/usr/bin/env bash
# Security requirement C1.15, "lose un-fsynced writes" (the LazyFS and Pebble crash-clone
# anchors), on SQLite: after a power cut at any moment of a stream of allowlist mutations,
# the database recovers with every acknowledged mutation and nothing half applied.
#
# LazyFS needs FUSE, which this machine lacks; this builds what it would leave instead:
#   1. `jobscope migrate` creates the database; its files are copied aside (the initial state).
#   2. `jobscope serve` runs on it with iolog.so preloaded (an LD_PRELOAD library built here
#      with gcc), which logs every write to the database's files with its offset and bytes,
#      every truncate, fsync/fdatasync (before and after), creation and removal of them, and
#      the head of every HTTP answer before it is sent, in one total order.
#   3. stream.py sends a seeded stream of mutations (project and group entries added and
#      removed, policies rewritten, the inbound flag flipped; each also writes an audit
#      event), one at a time; then the server is killed with SIGKILL.
#   4. check.py picks crash points in the log (after acknowledgements, just before syncs
#      complete, between writes, at random) and for each builds images of the files: the
#      initial copy plus only the writes a completed sync covered (LazyFS's "lose un-fsynced
#      writes"), the same plus a random part of the rest, some writes torn by sector (Pebble's
#      crash clones), and every write (a plain kill -9). `-shm` is left out. Each image must
#      pass SQLite's integrity check and hold exactly the state and audit events of the
#      acknowledged mutations, plus at most the one in flight; some are served by jobscope.
#   5. Self-tests (SELF_TEST=0 skips them): short runs with iolog.so turning syncs into
#      no-ops, first every sync of the database's files, then only the directory's (so the
#      new write-ahead log's name is never durable); the lose-un-fsynced images must then
#      fail for lost acknowledged mutations, while the kill -9 images still pass (which is
#      why a kill -9 test alone cannot see this).
#
# Needs python3 and gcc (installed with apt-get when missing, as root or through `sudo -n`).
# Environment: JOBSCOPE_BIN (default <repo>/target/debug/jobscope), CRASH_MUTATIONS (300),
# CRASH_POINTS (250), CRASH_SEED (15), CRASH_TMPDIR (/dev/shm when writable, else $TMPDIR
# or /tmp: where the run and its images are kept), KEEP_WORK=1, VERBOSE=1 (a line per image).
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
JOBSCOPE_BIN=${JOBSCOPE_BIN:-$REPO/target/debug/jobscope}
MUTATIONS=${CRASH_MUTATIONS:-300}
POINTS=${CRASH_POINTS:-250}
SEED=${CRASH_SEED:-15}

die() {
    echo "crash/run.sh: $*" >&2
    exit 2
}

[[ -x $JOBSCOPE_BIN ]] || die "server binary not found: $JOBSCOPE_BIN (cargo build -p jobscope)"
command -v python3 >/dev/null || die "'python3' is required but not on PATH"
if ! command -v gcc >/dev/null; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if ! { command -v sudo >/dev/null && sudo -n true 2>/dev/null; }; then
            die "gcc is missing and cannot be installed (not root, no 'sudo -n')"
        fi
        sudo=(sudo -n)
    fi
    echo "gcc not found: installing Debian's gcc package with apt-get"
    "${sudo[@]}" apt-get install -y -q gcc libc6-dev >/dev/null || {
        "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q gcc libc6-dev >/dev/null
    } || die "could not install gcc"
fi

shim_dir=$REPO/target/e2e-crash
mkdir -p "$shim_dir"
shim=$shim_dir/iolog.so
if [[ ! -e $shim || $HERE/iolog.c -nt $shim ]]; then
    gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$shim" "$HERE/iolog.c" -ldl -lpthread
fi

# The model is built from the calls, not from what the disk kept, so the run needs no real
# disk: on tmpfs the server's syncs and the thousands of images cost no disk I/O.
scratch=${CRASH_TMPDIR:-/dev/shm}
[[ -d $scratch && -w $scratch ]] || scratch=${TMPDIR:-/tmp}
work=$(realpath "$(mktemp -d "$scratch/jobscope-crash.XXXXXX")")
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        echo "work directory kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

root=glpat-crash-check-root-0001
quiet=(--quiet)
[[ ${VERBOSE:-0} == 1 ]] && quiet=()

# run NAME DROP_SYNC MUTATIONS: a recorded server run and its client; leaves $work/NAME/.
run() {
    local dir=$work/$1 drop=$2 count=$3
    mkdir -p "$dir/db" "$dir/initial"
    local db=$dir/db/db.sqlite3
    "$JOBSCOPE_BIN" migrate --database "sqlite://$db" >"$dir/migrate.log" 2>&1 ||
        die "jobscope migrate failed: $(cat "$dir/migrate.log")"
    # Fold the write-ahead log migrate left into the database file (closing the last
    # connection removes the log), so that the server creates its log during the run and
    # the directory entry's durability is part of what is checked.
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()' "$db"
    [[ ! -e $db-wal ]] || die "the write-ahead log of $db survived a clean close"
    cp -- "$db" "$dir/initial/"
    LD_PRELOAD=$shim JOBSCOPE_IOLOG=$dir/io.log JOBSCOPE_IOLOG_DB=$db \
        JOBSCOPE_IOLOG_DROP_SYNC=$drop \
        "$JOBSCOPE_BIN" serve --database "sqlite://$db" --root-token "$root" \
        --listen 127.0.0.1:0 --port-file "$dir/port" >"$dir/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 600); do
        [[ -s $dir/port ]] && break
        kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(cat "$dir/server.log")"
        sleep 0.05
    done
    [[ -s $dir/port ]] || die "the server did not start"
    python3 "$HERE/stream.py" "$(cat "$dir/port")" "$root" "$dir/mutations.json" \
        --mutations "$count" --seed "$SEED"
    # A crash, not a shutdown: nothing is flushed or checkpointed on the way out.
    kill -KILL "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=
}

# check NAME [check.py options]
check() {
    local dir=$work/$1
    shift
    python3 "$HERE/check.py" "$dir/io.log" "$dir/initial" "$dir/db/db.sqlite3" \
        "$dir/mutations.json" --images "$dir/images" --seed "$SEED" \
        --jobscope "$JOBSCOPE_BIN" --token "$root" "${quiet[@]}" "$@"
}

started=$(date +%s)
run stream 0 "$MUTATIONS"
echo "stream sent and recorded in $(($(date +%s) - started)) s"
check stream --points "$POINTS"
echo "checked in $(($(date +%s) - started)) s"

# self_test DROP WHAT: a short recorded run with iolog.so dropping syncs (DROP: 1 every
# sync of the database's files, dir those of their directory); its lose-un-fsynced images
# must fail for lost acknowledged mutations, and its kill -9 images must pass.
self_test() {
    local drop=$1 what=$2 out=$work/self-test-$1
    run "nosync-$drop" "$drop" 40
    if check "nosync-$drop" --points 20 --serve 0 --variants synced >"$out" 2>&1; then
        cat "$out"
        die "self-test: with $what dropped the lose-un-fsynced images still passed"
    fi
    local lost
    lost=$(sed -n 's/^FAIL: .*; \([0-9]*\) of them lost acknowledged mutations$/\1/p' "$out")
    if [[ -z $lost || $lost == 0 ]]; then
        cat "$out"
        die "self-test: with $what dropped the check failed, but not for lost acknowledged mutations"
    fi
    check "nosync-$drop" --points 20 --serve 0 --variants process >"$out-kill" 2>&1 || {
        cat "$out-kill"
        die "self-test: with $what dropped the kill -9 images should still pass"
    }
    echo "self-test: with $what dropped, $lost of 20 lose-un-fsynced images lose acknowledged mutations (as they must); the kill -9 images pass"
}

if [[ ${SELF_TEST:-1} == 1 ]]; then
    self_test 1 "every sync of the database's files"
    self_test dir "the directory's syncs"
fi
echo "crash consistency (C1.15) checked in $(($(date +%s) - started)) s"
