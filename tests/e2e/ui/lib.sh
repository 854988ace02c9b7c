# shellcheck shell=bash
# Sourced by run.sh and screenshots.sh: checks the tools, installs what is missing (Debian's
# chromium with apt-get, as root or through `sudo -n`; playwright-core with `npm ci` from the
# committed package-lock.json), and starts `jobscope serve` on a fresh database with a known
# root token. The browser scripts then seed users, groups, projects and CI jobs through the
# API (seed.mjs).
#
# Environment: JOBSCOPE_BIN (default <repo>/target/debug/jobscope), CHROMIUM_BIN (default
# /usr/bin/chromium), JOBSCOPE_E2E_BACKEND (sqlite or postgres, see ../lib/database.sh),
# KEEP_WORK=1 (keep the temporary directory).

UI_HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$UI_HERE/../../.." && pwd)
# shellcheck source=../lib/database.sh
source "$UI_HERE/../lib/database.sh"
JOBSCOPE_BIN=${JOBSCOPE_BIN:-$REPO/target/debug/jobscope}
CHROMIUM_BIN=${CHROMIUM_BIN:-/usr/bin/chromium}

die() {
    echo "${0##*/}: $*" >&2
    exit 2
}

ui_check_tools() {
    if [[ ! -f $JOBSCOPE_BIN || ! -x $JOBSCOPE_BIN ]]; then
        die "server binary not found or not executable: $JOBSCOPE_BIN
  build it with: (cd '$REPO' && cargo build -p jobscope), or set JOBSCOPE_BIN"
    fi
    for tool in node npm; do
        command -v "$tool" >/dev/null || die "'$tool' is required but not on PATH (Node.js 20 or later)"
    done
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    ((major >= 20)) || die "Node.js 20 or later is required (node --test), found $(node --version)"
}

ui_install_chromium() {
    [[ -x $CHROMIUM_BIN ]] && return 0
    [[ $CHROMIUM_BIN == /usr/bin/chromium ]] || die "CHROMIUM_BIN is not executable: $CHROMIUM_BIN"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "chromium is not installed and this user can neither install it (not root) nor use
  'sudo -n'. Install it (Debian: apt-get install chromium), or set CHROMIUM_BIN."
        fi
    fi
    command -v apt-get >/dev/null || die "chromium is not installed and apt-get is not available"
    echo "chromium not found: installing Debian's chromium package with apt-get"
    local log apt rc=0
    log=$(mktemp "${TMPDIR:-/tmp}/jobscope-e2e-ui-apt.XXXXXX")
    apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends)
    "${apt[@]}" install chromium >"$log" 2>&1 || {
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y update >>"$log" 2>&1 &&
            "${apt[@]}" install chromium >>"$log" 2>&1
    } || rc=$?
    if [[ $rc -ne 0 ]]; then
        tail -n 20 "$log" >&2
        rm -f -- "$log"
        die "apt-get install chromium failed (status $rc)"
    fi
    rm -f -- "$log"
    [[ -x $CHROMIUM_BIN ]] || die "chromium still not found at $CHROMIUM_BIN after installing it"
}

# playwright-core, exactly as package-lock.json pins it; reinstalled only when the lock
# file changed since the last install.
ui_install_node_modules() {
    local stamp=$UI_HERE/node_modules/.jobscope-lock.sha256 want have
    want=$(sha256sum "$UI_HERE/package-lock.json" | cut -d' ' -f1)
    have=$(cat "$stamp" 2>/dev/null || true)
    if [[ $want != "$have" || ! -d $UI_HERE/node_modules/playwright-core ]]; then
        echo "installing playwright-core with npm ci"
        (cd "$UI_HERE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
        echo "$want" >"$stamp"
    fi
}

SERVER_PID=''
ui_cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    e2e_db_drop
    if [[ $rc -ne 0 && -s ${WORK:-}/server.log ]]; then
        echo "--- last 40 lines of the server's log"
        tail -n 40 "$WORK/server.log"
    fi
    if [[ ${KEEP_WORK:-} == 1 ]]; then
        echo "work directory kept: $WORK"
    else
        rm -rf -- "${WORK:?}"
    fi
    exit "$rc"
}

# Starts the server; sets WORK, JOBSCOPE_URL and JOBSCOPE_ROOT_TOKEN (exported for node).
ui_start_server() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobscope-e2e-ui.XXXXXX")
    trap ui_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    JOBSCOPE_ROOT_TOKEN=glpat-e2e-ui-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
    e2e_db_create "$WORK" || die "no database for the server"
    env -u JOBSCOPE_EXTERNAL_URL -u JOBSCOPE_DATABASE_URL -u JOBSCOPE_LISTEN -u JOBSCOPE_PORT_FILE \
        JOBSCOPE_ROOT_TOKEN="$JOBSCOPE_ROOT_TOKEN" \
        "$JOBSCOPE_BIN" serve --listen 127.0.0.1:0 --port-file "$WORK/port" \
        --database "$E2E_DATABASE_URL" >"$WORK/server.log" 2>&1 </dev/null &
    SERVER_PID=$!
    local addr=''
    for _ in $(seq 1 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || die "jobscope exited during startup"
        if [[ -s $WORK/port ]]; then
            addr=$(<"$WORK/port")
            [[ $addr =~ ^[0-9.]+:[0-9]+$ ]] && break
            addr=''
        fi
        sleep 0.1
    done
    [[ -n $addr ]] || die "jobscope wrote no host:port into $WORK/port within 30s"
    JOBSCOPE_URL=http://$addr
    export JOBSCOPE_URL JOBSCOPE_ROOT_TOKEN CHROMIUM_BIN
    echo "jobscope: $JOBSCOPE_URL (pid $SERVER_PID)"
}
