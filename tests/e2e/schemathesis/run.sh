#!/usr/bin/env bash
# Contract fuzzing (security requirements C1.15, second half): Schemathesis, stateless and
# stateful through the document's links, against jobscope's own OpenAPI document
# (docs/openapi.json, the file the server also serves at /api/v4/openapi.json), on a live
# `jobscope serve` with real credentials (the root personal access token; job endpoints get
# the token of a freshly started CI job, see jobscope_hooks.py).
#
#   bash tests/e2e/schemathesis/run.sh [extra schemathesis args...]
#
# Passes when no answer is a 5xx, every answer conforms to the document (status code,
# content type, headers, body schema), no request the document calls invalid succeeds, and
# no operation that requires credentials answers without them, over at least
# JOBSCOPE_ST_MIN_REQUESTS (1000) requests.
# The number of requests and the duration are printed at the end.
#
# Environment:
#   JOBSCOPE_BIN          server binary (default <repo>/target/debug/jobscope)
#   JOBSCOPE_ST_VENV      virtualenv (default <repo>/target/schemathesis-venv), filled from
#                         requirements.txt when that file changed; only PyPI is contacted
#   JOBSCOPE_ST_SEED      the generation seed (default 1507: deterministic generation)
#   JOBSCOPE_ST_MAX_EXAMPLES  cases per operation in the fuzzing phase, scenarios in the
#                         stateful one (default 10: about 4,500 requests in 2-4 minutes)
#   JOBSCOPE_ST_PHASES, JOBSCOPE_ST_CHECKS  narrow the run (Schemathesis' --phases, --checks)
#   JOBSCOPE_ST_WORKERS   concurrent workers (default 1, which keeps the run deterministic)
#   JOBSCOPE_E2E_BACKEND  sqlite (default) or postgres, as the other end-to-end suites
#   KEEP_WORK=1           keep the work directory (server log, Schemathesis reports)
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
# shellcheck source=../lib/database.sh
source "$HERE/../lib/database.sh"
JOBSCOPE_BIN=${JOBSCOPE_BIN:-$REPO/target/debug/jobscope}
VENV=${JOBSCOPE_ST_VENV:-$REPO/target/schemathesis-venv}
PYTHON=${PYTHON:-python3}
SEED=${JOBSCOPE_ST_SEED:-1507}
MAX_EXAMPLES=${JOBSCOPE_ST_MAX_EXAMPLES:-10}
MIN_REQUESTS=${JOBSCOPE_ST_MIN_REQUESTS:-1000}
SCHEMA=$REPO/docs/openapi.json
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ensure_resource_availability,negative_data_rejection,ignored_auth
# negative_data_rejection: a request the document calls invalid must not succeed, but for
# GitLab's coercions (an empty or null value is absent, numbers and booleans may come as text,
# a JSON body that is no object is ignored: see jobscope_hooks.py). ignored_auth: every
# operation that requires credentials refuses a request without them and one with a wrong
# token.
# Not use_after_free: DELETE /personal_access_tokens/:id revokes, and GitLab goes on showing
# the revoked token (200, "revoked": true), which that check takes for a deleted resource.

die() {
    echo "run.sh: $*" >&2
    exit 2
}

if [[ ! -f $JOBSCOPE_BIN || ! -x $JOBSCOPE_BIN ]]; then
    die "server binary not found or not executable: $JOBSCOPE_BIN
  build it with: (cd '$REPO' && cargo build -p jobscope), or set JOBSCOPE_BIN"
fi
for tool in curl "$PYTHON"; do
    command -v "$tool" >/dev/null || die "'$tool' is required but not on PATH"
done
[[ -f $SCHEMA ]] || die "missing $SCHEMA"

# ---- the virtualenv ------------------------------------------------------------------------
requirements=$HERE/requirements.txt
if [[ ! -x $VENV/bin/python ]]; then
    echo "run.sh: creating venv $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
stamp=$VENV/.jobscope-schemathesis-requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ $want != "$(cat "$stamp" 2>/dev/null || true)" ]]; then
    echo "run.sh: installing $requirements into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobscope-e2e-schemathesis.XXXXXX")
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

TOKEN=glpat-e2e-schemathesis-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
JOB_TOKEN_PLACEHOLDER=replaced-by-jobscope-hooks-with-a-fresh-job-token

# ---- the server ----------------------------------------------------------------------------
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
API=http://$ADDR/api/v4

api() { # METHOD PATH [JSON] -> prints the body; fails on a non-2xx answer
    local args=(--silent --show-error --fail-with-body --noproxy '*' --request "$1"
        --header "PRIVATE-TOKEN: $TOKEN")
    if [[ $# -ge 3 ]]; then
        args+=(--header 'Content-Type: application/json' --data "$3")
    fi
    curl "${args[@]}" "$API$2"
}
field() { "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

for _ in $(seq 1 100); do
    api GET /user >/dev/null 2>&1 && break
    sleep 0.1
done
api GET /user >/dev/null || die "GET /user as root never answered 200"

# The served document is the checked-in one (the Rust test keeps that file current).
curl --silent --show-error --noproxy '*' "$API/openapi.json" >"$WORK/served.json"
cmp -s "$WORK/served.json" "$SCHEMA" ||
    die "the server's /api/v4/openapi.json differs from $SCHEMA (rebuild the binary?)"

# ---- fixtures: something to find beside what the fuzzer creates ----------------------------
GROUP=$(api POST /groups '{"name":"Fixtures","path":"fixtures"}' | field id)
SUBGROUP=$(api POST /groups "{\"name\":\"Sub\",\"path\":\"sub\",\"parent_id\":$GROUP}" | field id)
JOBS=$(api POST /projects "{\"name\":\"jobs\",\"namespace_id\":$GROUP}" | field id)
OTHER=$(api POST /projects "{\"name\":\"other\",\"namespace_id\":$SUBGROUP,\"visibility\":\"public\"}" | field id)
USER=$(api POST /users '{"email":"dev@example.com","name":"Dev","username":"dev","password":"a-long-password-1"}' | field id)
api POST "/projects/$JOBS/members" "{\"user_id\":$USER,\"access_level\":30}" >/dev/null
api POST "/projects/$JOBS/job_token_scope/allowlist" "{\"target_project_id\":$OTHER}" >/dev/null
api POST "/projects/$OTHER/job_token_scope/groups_allowlist" "{\"target_group_id\":$GROUP}" >/dev/null
api POST /users/$USER/personal_access_tokens '{"name":"dev","scopes":["read_api"]}' >/dev/null
JOB_TOKEN=$(api POST /ci/jobs "{\"project_id\":$JOBS,\"user_id\":1}" | field token)
curl --silent --noproxy '*' -H "JOB-TOKEN: $JOB_TOKEN" "$API/job_token/allowed?project=$OTHER" >/dev/null
echo "server: $API (pid $SERVER_PID); fixtures: group $GROUP, projects $JOBS and $OTHER, user $USER"

# ---- Schemathesis ------------------------------------------------------------------------
# Besides what it generates, Schemathesis draws ids and paths from these fixtures (with some
# probability), so that operations get past "404 Not Found" to their real logic.
cat >"$WORK/schemathesis.toml" <<TOML
[dictionaries.ids]
values = [1, 2, 3, $JOBS, $OTHER, "$JOBS", "$OTHER", "$GROUP", "fixtures", "fixtures/jobs", "fixtures/sub", "fixtures/sub/other"]
[dictionaries.users]
values = [$USER]
[dictionaries.projects]
values = [$JOBS, $OTHER]
[dictionaries.project_refs]
values = ["$JOBS", "$OTHER", "fixtures/jobs", "fixtures/sub/other"]
[dictionaries.groups]
values = [$GROUP, $SUBGROUP]
[dictionaries.events]
values = [1, 2, 3]

[parameters]
"path.id" = { dictionary = "ids", probability = 0.7 }
"path.user_id" = { dictionary = "users", probability = 0.5 }
"path.target_project_id" = { dictionary = "projects", probability = 0.5 }
"path.target_group_id" = { dictionary = "groups", probability = 0.5 }
"path.audit_event_id" = { dictionary = "events", probability = 0.5 }
"body.target_project_id" = { dictionary = "projects", probability = 0.5 }
"body.target_group_id" = { dictionary = "groups", probability = 0.5 }
"body.namespace_id" = { dictionary = "groups", probability = 0.5 }
"body.parent_id" = { dictionary = "groups", probability = 0.5 }
"body.user_id" = { dictionary = "users", probability = 0.5 }
"body.project_id" = { dictionary = "project_refs", probability = 0.7 }
"query.project" = { dictionary = "project_refs", probability = 0.7 }

[phases.stateful]
max-steps = 12

# The credentials are configuration, not generated data: so the ignored_auth check probes
# each operation without them and with a wrong token. jobscope_hooks.py picks the token
# actually sent (on the job endpoints, the token of a freshly started job).
[auth.openapi.PrivateToken]
api_key = "$TOKEN"
[auth.openapi.Bearer]
bearer = "$TOKEN"
[auth.openapi.JobToken]
api_key = "$JOB_TOKEN_PLACEHOLDER"
TOML

export SCHEMATHESIS_HOOKS=jobscope_hooks
export PYTHONPATH=$HERE${PYTHONPATH:+:$PYTHONPATH}
export JOBSCOPE_ST_API=$API JOBSCOPE_ST_ROOT_TOKEN=$TOKEN JOBSCOPE_ST_SCHEMA=$SCHEMA
export JOBSCOPE_ST_JOB_PROJECT=$JOBS JOBSCOPE_ST_JOB_PROJECT_PATH=fixtures/jobs
export JOBSCOPE_ST_GROUP=$GROUP JOBSCOPE_ST_GROUP_PATH=fixtures
export JOBSCOPE_ST_COUNT_FILE=$WORK/requests JOBSCOPE_ST_DROPPED_FILE=$WORK/dropped JOBSCOPE_ST_JOB_TOKEN_PLACEHOLDER=$JOB_TOKEN_PLACEHOLDER

started=$(date +%s)
set +e
(cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$SCHEMA" \
    --url "$API" \
    --phases "${JOBSCOPE_ST_PHASES:-examples,coverage,fuzzing,stateful}" \
    --checks "${JOBSCOPE_ST_CHECKS:-$CHECKS}" \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers "${JOBSCOPE_ST_WORKERS:-1}" \
    --request-timeout 10 \
    --suppress-health-check all \
    --generation-database none \
    --no-color \
    --report junit --report-dir "$WORK/report" \
    "$@")
status=$?
set -e
elapsed=$(($(date +%s) - started))
requests=$(cat "$WORK/requests" 2>/dev/null || echo 0)

dropped=0
[[ -f $WORK/dropped ]] && dropped=$(wc -l <"$WORK/dropped")

echo
echo "schemathesis (C1.15): $requests requests in ${elapsed}s, exit status $status;" \
    "$dropped accepted negative cases were GitLab's coercions (empty, null, text, non-object body)"
if [[ $status -ne 0 ]]; then
    exit "$status"
fi
if ((requests < MIN_REQUESTS)); then
    echo "run.sh: only $requests requests were sent; C1.15 asks for at least $MIN_REQUESTS" >&2
    exit 1
fi
kill -0 "$SERVER_PID" 2>/dev/null || die "the server died during the run"
