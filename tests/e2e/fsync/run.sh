#!/usr/bin/env bash
# Security requirement C1.15, "lose un-fsynced writes" (the LazyFS and ALICE anchors), on
# SQLite: no mutation is acknowledged before its transaction is durable.
#
# LazyFS (a FUSE file system that drops what was not fsynced) cannot be installed here. This
# checks the property it tests at the system-call level, as ALICE does (tests/e2e/crash
# goes further and builds the files a power cut would leave, from a log of the writes): the
# server runs under `strace`, a stream of allowlist and scope mutations is sent, and
# check.py asserts that before every acknowledgement (a 200 or 201 answer written to a
# client socket) each write to the database's write-ahead log was followed by an `fdatasync`
# or `fsync` of it. A power cut after the answer then loses nothing acknowledged. A
# self-test checks the checker: with the syncs removed from the same trace it must fail
# (SELF_TEST=0 skips it).
#
# Needs strace (installed with apt-get when missing, as root or through `sudo -n`).
# Environment: JOBSCOPE_BIN (default <repo>/target/debug/jobscope), KEEP_WORK=1.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
JOBSCOPE_BIN=${JOBSCOPE_BIN:-$REPO/target/debug/jobscope}

die() {
    echo "fsync/run.sh: $*" >&2
    exit 2
}

[[ -x $JOBSCOPE_BIN ]] || die "server binary not found: $JOBSCOPE_BIN (cargo build -p jobscope)"
for tool in curl python3; do
    command -v "$tool" >/dev/null || die "'$tool' is required but not on PATH"
done
if ! command -v strace >/dev/null; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null || die "strace is missing and cannot be installed (not root, no 'sudo -n')"
        sudo=(sudo -n)
    fi
    echo "strace not found: installing Debian's strace package with apt-get"
    "${sudo[@]}" apt-get install -y -q strace >/dev/null || {
        "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q strace >/dev/null
    } || die "could not install strace"
fi

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        pkill -TERM -P "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        echo "work directory kept: $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

root=glpat-fsync-check-root-0001
strace -f -qq -tt -y -s 40 -e trace=write,pwrite64,writev,sendto,sendmsg,fsync,fdatasync \
    -o "$work/trace" \
    "$JOBSCOPE_BIN" serve --database "sqlite://$work/db.sqlite3" --root-token "$root" \
    --listen 127.0.0.1:0 --port-file "$work/port" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do
    [[ -s $work/port ]] && break
    kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(cat "$work/server.log")"
    sleep 0.05
done
[[ -s $work/port ]] || die "the server did not start"
base="http://$(cat "$work/port")/api/v4"

api() { # METHOD PATH [JSON]
    local args=(-sS -o /dev/null -w '%{http_code}' -X "$1" -H "PRIVATE-TOKEN: $root")
    if [[ $# -ge 3 ]]; then
        args+=(-H 'Content-Type: application/json' --data "$3")
    fi
    curl "${args[@]}" "$base$2"
}
expect() { # STATUS METHOD PATH [JSON]
    local want=$1 got
    shift
    got=$(api "$@")
    [[ $got == "$want" ]] || die "$1 $2 answered $got, not $want"
}

# The first use of the root token is written in the background within a second (its
# `last_used_at`, then not again for ten minutes): let that happen before the stream, so that
# every log write below belongs to a request.
expect 200 GET /user
sleep 1.5
expect 201 POST /groups '{"name":"fsync","path":"fsync"}'
expect 201 POST /projects '{"name":"target","namespace_id":2}'
mutations=0
for i in $(seq 1 12); do
    expect 201 POST /projects "{\"name\":\"source$i\",\"namespace_id\":2}"
    expect 201 POST /projects/1/job_token_scope/allowlist "{\"target_project_id\":$((i + 1))}"
    mutations=$((mutations + 2))
done
for i in $(seq 1 4); do
    expect 204 PATCH /projects/1/job_token_scope "{\"enabled\":$([[ $((i % 2)) == 1 ]] && echo true || echo false)}"
    expect 204 DELETE "/projects/1/job_token_scope/allowlist/$((i + 1))"
    mutations=$((mutations + 2))
done
# SIGTERM to the server itself (strace's child); strace exits when it does.
pkill -TERM -P "$server_pid" || true
wait "$server_pid" 2>/dev/null || true
server_pid=

echo "$mutations mutations sent; checking the system calls"
python3 "$HERE/check.py" "$work/trace" "$work/db.sqlite3-wal" --min-acks "$mutations"
if [[ ${SELF_TEST:-1} == 1 ]]; then
    # The checker must catch an acknowledgement that precedes the sync.
    python3 "$HERE/check.py" "$work/trace" "$work/db.sqlite3-wal" --drop-syncs >/dev/null 2>&1 &&
        die "self-test: with the syncs removed from the trace the checker still passed"
    echo "self-test: with the syncs removed from the trace the checker fails, as it should"
fi
