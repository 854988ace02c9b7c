#!/usr/bin/env bash
# End-to-end test: the curl examples of GitLab's "Project CI/CD job token scope API" docs
# (doc/api/project_job_token_scopes.md) work verbatim against jobscope.
#
# Starts `jobscope serve` on a fresh database (SQLite, or PostgreSQL with JOBSCOPE_E2E_BACKEND=postgres) in a temporary directory, creates the
# fixtures the examples assume (group 2 "diaspora", projects 1 and 2 in it), then runs every
# example of examples.txt with `bash -c`, after exactly two substitutions:
#   https://gitlab.example.com -> the server's base URL, <your_access_token> -> the root token.
# The response is captured through a curl config file ($CURL_HOME/.curlrc: silent, show-error,
# output, dump-header, write-out), so the command text itself is untouched; check.py then
# asserts the status and body the docs promise. One PASS/FAIL line per example, a summary,
# exit status 1 if anything failed (2 for a setup error).
#
# Environment: JOBSCOPE_BIN (default <repo>/target/debug/jobscope; build it with
# `cargo build -p jobscope`), VERBOSE=1 (print each command as run), KEEP_WORK=1 (keep the
# temporary directory with the database and the server log).
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
# shellcheck source=../lib/database.sh
source "$HERE/../lib/database.sh"
JOBSCOPE_BIN=${JOBSCOPE_BIN:-$REPO/target/debug/jobscope}
EXAMPLES=$HERE/examples.txt
CHECK=$HERE/check.py

die() {
    echo "run.sh: $*" >&2
    exit 2
}

if [[ ! -f $JOBSCOPE_BIN || ! -x $JOBSCOPE_BIN ]]; then
    die "server binary not found or not executable: $JOBSCOPE_BIN
  build it with: (cd '$REPO' && cargo build -p jobscope), or set JOBSCOPE_BIN"
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null || die "'$tool' is required but not on PATH"
done
[[ -f $EXAMPLES && -f $CHECK ]] || die "missing $EXAMPLES or $CHECK"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobscope-e2e-curl.XXXXXX")
SERVER_PID=
cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    e2e_db_drop
    if [[ $rc -ne 0 && -s $WORK/server.log ]]; then
        echo "--- server log (last 40 lines of $WORK/server.log)"
        tail -n 40 "$WORK/server.log"
    fi
    if [[ ${KEEP_WORK:-} == 1 ]]; then
        echo "work directory kept: $WORK"
    else
        rm -rf -- "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TOKEN=glpat-e2e-curl-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

# ---- server -------------------------------------------------------------------------------
# Variables that would override the flags below (or change URLs) are removed from its env.
e2e_db_create "$WORK" || die "no database for the server"
env -u JOBSCOPE_EXTERNAL_URL -u JOBSCOPE_DATABASE_URL -u JOBSCOPE_LISTEN -u JOBSCOPE_PORT_FILE \
    JOBSCOPE_ROOT_TOKEN="$TOKEN" \
    "$JOBSCOPE_BIN" serve --listen 127.0.0.1:0 --port-file "$WORK/port" \
    --database "$E2E_DATABASE_URL" >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!

ADDR=
for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during startup"
    if [[ -s $WORK/port ]]; then
        ADDR=$(<"$WORK/port")
        [[ $ADDR =~ ^[0-9.]+:[0-9]+$ ]] && break
        ADDR=
    fi
    sleep 0.1
done
[[ -n $ADDR ]] || die "the server wrote no host:port into $WORK/port within 30s"
BASE=http://$ADDR

# Plain API calls for fixtures and state checks: `-q` keeps the examples' .curlrc out.
API_STATUS=
api() { # METHOD PATH [JSON]; the body goes to $WORK/api.body, the headers to $WORK/api.headers
    local args=(-q --silent --show-error --noproxy '*' --request "$1"
        --header "PRIVATE-TOKEN: $TOKEN" --output "$WORK/api.body"
        --dump-header "$WORK/api.headers" --write-out '%{http_code}')
    if [[ $# -ge 3 ]]; then
        args+=(--header 'Content-Type: application/json' --data "$3")
    fi
    rm -f -- "$WORK/api.body" "$WORK/api.headers"
    API_STATUS=$(curl "${args[@]}" "$BASE/api/v4$2" 2>"$WORK/api.stderr") || API_STATUS=000
}
api_field() { # PYTHON_EXPRESSION over the JSON body `b`
    python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$WORK/api.body" "$1" 2>/dev/null || echo '?'
}

ready=
for _ in $(seq 1 100); do
    api GET /user
    if [[ $API_STATUS == 200 ]]; then ready=1 && break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during startup"
    sleep 0.1
done
[[ -n $ready ]] || die "GET $BASE/api/v4/user as root never answered 200 (last: $API_STATUS)"
echo "server: $BASE (pid $SERVER_PID, $JOBSCOPE_BIN)"

# ---- fixtures: the ids the docs use --------------------------------------------------------
fixture_create() { # WHAT PATH JSON WANT_ID
    api POST "$2" "$3"
    local id ns
    id=$(api_field 'b["id"]')
    if [[ $API_STATUS != 201 || $id != "$4" ]]; then
        die "FIXTURE FAILED: $1: POST /api/v4$2 -> $API_STATUS, id $id (expected 201 and id $4;
  the examples hard-code these ids, so the database must be fresh): $(head -c 300 "$WORK/api.body" 2>/dev/null)"
    fi
    if [[ $2 == /projects ]]; then
        ns=$(api_field 'b["namespace"]["id"]')
        [[ $ns == 2 ]] || die "FIXTURE FAILED: $1: namespace id $ns, expected 2"
    fi
    echo "fixture: $1 -> id $id"
}
fixture_create 'group "diaspora"' /groups '{"name":"Diaspora","path":"diaspora"}' 2
fixture_create 'project "diaspora/diaspora-project-site"' /projects \
    '{"name":"Diaspora Project Site","path":"diaspora-project-site","namespace_id":2}' 1
fixture_create 'project "diaspora/diaspora-client"' /projects \
    '{"name":"Diaspora Client","path":"diaspora-client","namespace_id":2}' 2

run_fixture() { # NAME (an "@fixture" line of examples.txt)
    case $1 in
        scope-enabled) # the state of a fresh project, which the GET example's response shows
            api PATCH /projects/1/job_token_scope '{"enabled":true}'
            [[ $API_STATUS == 204 ]] ||
                die "FIXTURE FAILED: $1: PATCH /projects/1/job_token_scope -> $API_STATUS" ;;
        allowlist-has-project-2)
            api POST /projects/1/job_token_scope/allowlist '{"target_project_id":2}'
            [[ $API_STATUS == 201 ]] ||
                die "FIXTURE FAILED: $1: POST /projects/1/job_token_scope/allowlist -> $API_STATUS" ;;
        *) die "unknown fixture '$1' in $EXAMPLES" ;;
    esac
    echo "fixture: $1"
}

# ---- the examples --------------------------------------------------------------------------
mkdir "$WORK/curlhome"
cat >"$WORK/curlhome/.curlrc" <<EOF
# Written by run.sh: captures the response of each verbatim example (read via CURL_HOME).
silent
show-error
noproxy = "*"
output = "$WORK/example.body"
dump-header = "$WORK/example.headers"
write-out = "%{http_code}"
EOF

# Parse examples.txt into steps: "fixture NAME", "state NAME", or "example" with its fields.
STEP_KIND=() STEP_ARG=() STEP_ID=() STEP_DESC=() STEP_CMD=()
cur=
flush() {
    if [[ -n $cur ]]; then
        [[ -n ${STEP_CMD[cur]} ]] || die "example ${STEP_ID[cur]} in $EXAMPLES has no command"
        STEP_CMD[cur]=${STEP_CMD[cur]%$'\n'}
    fi
    cur=
}
add_step() { # KIND ARG ID
    STEP_KIND+=("$1") STEP_ARG+=("$2") STEP_ID+=("$3") STEP_DESC+=("") STEP_CMD+=("")
}
while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line == '=== '* ]]; then
        flush
        read -r _ id expect rest <<<"$line"
        [[ -n ${id:-} && -n ${expect:-} && -z ${rest:-} ]] || die "bad example header: $line"
        add_step example "$expect" "$id"
        cur=$((${#STEP_KIND[@]} - 1))
    elif [[ $line == '@fixture '* || $line == '@state '* ]]; then
        flush
        kind=${line%% *} && kind=${kind#@}
        add_step "$kind" "${line#* }" ""
    elif [[ -n $cur ]]; then
        if [[ -z $line ]]; then
            [[ -z ${STEP_CMD[cur]} ]] || flush
        elif [[ $line == '#'* && -z ${STEP_CMD[cur]} ]]; then
            case $line in
                '# section: '*) STEP_DESC[cur]="${line#'# section: '}${STEP_DESC[cur]}" ;;
                '# variant: '*) STEP_DESC[cur]+=" [variant ${line#'# variant: '}]" ;;
            esac
        else
            STEP_CMD[cur]+=$line$'\n'
        fi
    fi
done <"$EXAMPLES"
flush

passed=0 failed=0 checks_passed=0 checks_failed=0 failed_ids=()
last_id=
report() { # CHECK_OUTPUT: the reasons and notes, indented under the PASS/FAIL line
    [[ -z $1 ]] || sed 's/^/        /' <<<"$1"
}

run_example() { # INDEX
    local i=$1 raw cmd status rc out expect=${STEP_ARG[$1]} id=${STEP_ID[$1]}
    raw=${STEP_CMD[i]}
    # The two mechanical substitutions (quoted replacements: no pattern characters).
    cmd=${raw//https:\/\/gitlab.example.com/"$BASE"}
    cmd=${cmd//<your_access_token>/"$TOKEN"}
    if [[ $raw != *https://gitlab.example.com* || $raw != *'<your_access_token>'* ]]; then
        die "example $id does not contain both https://gitlab.example.com and <your_access_token>"
    fi
    [[ ${VERBOSE:-} != 1 ]] || sed 's/^/      | /' <<<"$cmd"
    rm -f -- "$WORK/example.body" "$WORK/example.headers"
    status=$(cd "$WORK" && CURL_HOME="$WORK/curlhome" bash -c "$cmd" </dev/null 2>"$WORK/example.stderr") &&
        rc=0 || rc=$?
    if [[ $rc -ne 0 ]]; then
        out="the command exited with status $rc: $(cat "$WORK/example.stderr")"
    elif [[ ! $status =~ ^[0-9]{3}$ ]]; then
        out="no HTTP status captured (is \$CURL_HOME/.curlrc being read?): ${status:0:200}"
    else
        out=$(python3 "$CHECK" "$expect" "$status" "$WORK/example.body" "$WORK/example.headers" \
            "$BASE") && rc=0 || rc=$?
    fi
    if [[ $rc -eq 0 ]]; then
        passed=$((passed + 1))
        echo "PASS  $id  $expect: ${STEP_DESC[i]} -> $status"
    else
        failed=$((failed + 1)) && failed_ids+=("$id")
        echo "FAIL  $id  $expect: ${STEP_DESC[i]}"
    fi
    report "$out"
    last_id=$id
}

run_state() { # NAME (an "@state" line): read the state back after the previous example
    local name=$1 path out rc
    case $name in
        scope_*) path=/projects/1/job_token_scope ;;
        allowlist_*) path=/projects/1/job_token_scope/allowlist ;;
        groups_*) path=/projects/1/job_token_scope/groups_allowlist ;;
        *) die "unknown @state '$name' in $EXAMPLES" ;;
    esac
    api GET "$path"
    out=$(python3 "$CHECK" "state:$name" "$API_STATUS" "$WORK/api.body" "$WORK/api.headers" \
        "$BASE") && rc=0 || rc=$?
    if [[ $rc -eq 0 ]]; then
        checks_passed=$((checks_passed + 1))
        echo "  ok    after $last_id: state $name (GET $path)"
    else
        checks_failed=$((checks_failed + 1)) && failed_ids+=("$last_id(state $name)")
        echo "  FAIL  after $last_id: state $name (GET $path)"
    fi
    report "$out"
}

for i in "${!STEP_KIND[@]}"; do
    case ${STEP_KIND[i]} in
        fixture) run_fixture "${STEP_ARG[i]}" ;;
        state) run_state "${STEP_ARG[i]}" ;;
        example) run_example "$i" ;;
    esac
done

echo
echo "summary: $((passed + failed)) examples: $passed passed, $failed failed;" \
    "$((checks_passed + checks_failed)) state checks: $checks_passed passed, $checks_failed failed"
if ((failed + checks_failed)); then
    echo "failed: ${failed_ids[*]}"
    exit 1
fi
