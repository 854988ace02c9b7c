#!/usr/bin/env bash
# End-to-end test: nginx's auth_request protecting an HTTP service with jobscope's job token
# allowlist, using the configuration documented in docs/nginx-auth-request.md.
#
# Starts `jobscope serve` on a fresh database (SQLite, or PostgreSQL with JOBSCOPE_E2E_BACKEND=postgres) and an unprivileged nginx in a temporary
# prefix. nginx loads docs/nginx/jobscope-auth-request.conf with nothing changed but its three
# addresses (jobscope's, the protected store's, the listening port), plus a second server
# block of its own playing the protected "store": static files from a temporary directory,
# 201 for writes, and an endpoint echoing the headers it received. Fixtures are created over
# jobscope's REST API; then every check is a curl request through nginx. One PASS/FAIL line
# per check, a summary, exit status 1 if anything failed (2 for a setup error).
#
# nginx: $NGINX_BIN, else `nginx` on PATH, else /usr/sbin/nginx; when none exists, Debian's
# `nginx` package is installed with apt-get (as root, or through `sudo -n`). Its binary has
# ngx_http_auth_request_module built in, which is checked with `nginx -V`.
#
# Environment: JOBSCOPE_BIN (default <repo>/target/debug/jobscope; build it with
# `cargo build -p jobscope`), NGINX_BIN, KEEP_WORK=1 (keep the temporary directory).
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../../.." && pwd)
# shellcheck source=../lib/database.sh
source "$HERE/../lib/database.sh"
JOBSCOPE_BIN=${JOBSCOPE_BIN:-$REPO/target/debug/jobscope}
DOC_CONF=$REPO/docs/nginx/jobscope-auth-request.conf
DOC_PAGE=$REPO/docs/nginx-auth-request.md

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
[[ -f $DOC_CONF && -f $DOC_PAGE ]] || die "missing $DOC_CONF or $DOC_PAGE"

# ---- nginx with auth_request ----------------------------------------------------------------
find_nginx() {
    if [[ -n ${NGINX_BIN:-} ]]; then
        echo "$NGINX_BIN"
    elif command -v nginx >/dev/null; then
        command -v nginx
    elif [[ -x /usr/sbin/nginx ]]; then
        echo /usr/sbin/nginx
    fi
}

install_nginx() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "nginx is not installed and this user can neither install it (not root) nor use
  'sudo -n'. Install it (Debian: apt-get install nginx), or set NGINX_BIN to an nginx built
  with --with-http_auth_request_module."
        fi
    fi
    command -v apt-get >/dev/null || die "nginx is not installed and apt-get is not available"
    echo "nginx not found: installing Debian's nginx package with apt-get"
    # Keep the package's postinst from starting a system-wide nginx on port 80: a
    # policy-rc.d that denies every start, for the duration of the install only (unless
    # the machine already has one, as Docker's Debian images do).
    local policy=/usr/sbin/policy-rc.d added_policy=
    if [[ ! -e $policy ]]; then
        "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
        added_policy=1
        trap '"${sudo[@]}" rm -f -- "$policy"; exit 130' INT TERM
    fi
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    local rc=0
    "${apt[@]}" install --no-install-recommends nginx >"$NGINX_INSTALL_LOG" 2>&1 || {
        "${apt[@]}" update >>"$NGINX_INSTALL_LOG" 2>&1 &&
            "${apt[@]}" install --no-install-recommends nginx >>"$NGINX_INSTALL_LOG" 2>&1
    } || rc=$?
    if [[ -n $added_policy ]]; then
        "${sudo[@]}" rm -f -- "$policy"
        trap - INT TERM
    fi
    if [[ $rc -ne 0 ]]; then
        tail -n 20 "$NGINX_INSTALL_LOG" >&2
        rm -f -- "$NGINX_INSTALL_LOG"
        die "apt-get install nginx failed (status $rc)"
    fi
}

NGINX_INSTALL_LOG=$(mktemp "${TMPDIR:-/tmp}/jobscope-e2e-nginx-apt.XXXXXX")
NGINX=$(find_nginx)
if [[ -z $NGINX ]]; then
    install_nginx
    NGINX=$(find_nginx)
    [[ -n $NGINX ]] || die "nginx still not found after installing it"
fi
rm -f -- "$NGINX_INSTALL_LOG"
[[ -x $NGINX ]] || die "not an executable: $NGINX"
"$NGINX" -V 2>&1 | grep -q -o with-http_auth_request_module ||
    die "$NGINX was built without ngx_http_auth_request_module ($NGINX -V)"
# -e (nginx >= 1.19.5): log to stderr from the start, not to the compiled-in error log.
NGINX_ARGS=()
if "$NGINX" -h 2>&1 | grep -q -- '^ *-e '; then NGINX_ARGS=(-e stderr); fi

# ---- work directory, cleanup ----------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jobscope-e2e-nginx.XXXXXX")
NGX=$WORK/nginx # nginx's prefix: configuration, logs, temporary files, the store's files
SERVER_PID='' NGINX_PID=''
stop() { # PID: SIGTERM, then wait for it
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    [[ -z $NGINX_PID ]] || stop "$NGINX_PID"
    [[ -z $SERVER_PID ]] || stop "$SERVER_PID"
    e2e_db_drop
    if [[ $rc -ne 0 ]]; then
        local f
        for f in "$WORK/server.log" "$NGX/stderr.log" "$NGX/access.log"; do
            if [[ -s $f ]]; then
                echo "--- last 40 lines of $f"
                tail -n 40 "$f"
            fi
        done
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

# ---- jobscope -------------------------------------------------------------------------------
ROOT_TOKEN=glpat-e2e-nginx-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
e2e_db_create "$WORK" || die "no database for the server"
env -u JOBSCOPE_EXTERNAL_URL -u JOBSCOPE_DATABASE_URL -u JOBSCOPE_LISTEN -u JOBSCOPE_PORT_FILE \
    JOBSCOPE_ROOT_TOKEN="$ROOT_TOKEN" \
    "$JOBSCOPE_BIN" serve --listen 127.0.0.1:0 --port-file "$WORK/port" \
    --database "$E2E_DATABASE_URL" >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!

ADDR=
for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "jobscope exited during startup"
    if [[ -s $WORK/port ]]; then
        ADDR=$(<"$WORK/port")
        [[ $ADDR =~ ^[0-9.]+:[0-9]+$ ]] && break
        ADDR=
    fi
    sleep 0.1
done
[[ -n $ADDR ]] || die "jobscope wrote no host:port into $WORK/port within 30s"
API=http://$ADDR/api/v4

API_STATUS=
api() { # METHOD PATH [JSON]: as root; the body goes to $WORK/api.body
    local args=(-q --silent --show-error --noproxy '*' --request "$1"
        --header "PRIVATE-TOKEN: $ROOT_TOKEN" --output "$WORK/api.body" --write-out '%{http_code}')
    [[ $# -lt 3 ]] || args+=(--header 'Content-Type: application/json' --data "$3")
    rm -f -- "$WORK/api.body"
    API_STATUS=$(curl "${args[@]}" "$API$2" 2>"$WORK/api.stderr") || API_STATUS=000
}
api_field() { # KEY of the JSON object in $WORK/api.body
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$WORK/api.body" "$1" 2>/dev/null || echo '?'
}
must() { # WANT_STATUS METHOD PATH [JSON]: a fixture step that has to succeed
    local want=$1
    shift
    api "$@"
    [[ $API_STATUS == "$want" ]] || die "FIXTURE FAILED: $1 /api/v4$2 ${3:-} -> $API_STATUS (expected $want): $(head -c 300 "$WORK/api.body" 2>/dev/null)"
}

ready=
for _ in $(seq 1 100); do
    api GET /user
    if [[ $API_STATUS == 200 ]]; then ready=1 && break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || die "jobscope exited during startup"
    sleep 0.1
done
[[ -n $ready ]] || die "GET $API/user as root never answered 200 (last: $API_STATUS)"
echo "jobscope: http://$ADDR (pid $SERVER_PID)"

# ---- fixtures -------------------------------------------------------------------------------
# Group ci-src holds A (the project whose jobs call the store); group ci-dst holds B (the
# store's project) and C (a project B never allowlists). All private; the jobs' user is a
# Developer of all three.
must 201 POST /users '{"email":"deployer@example.com","username":"deployer","name":"Deployer","password":"e2e-nginx-password"}'
USER_ID=$(api_field id)
must 201 POST /groups '{"name":"ci-src","path":"ci-src","visibility":"private"}'
SRC_GROUP=$(api_field id)
must 201 POST /groups '{"name":"ci-dst","path":"ci-dst","visibility":"private"}'
DST_GROUP=$(api_field id)
PROJECT_ID='' PROJECT_PATH=''
project() { # NAME NAMESPACE_ID: sets PROJECT_ID and PROJECT_PATH (path_with_namespace)
    must 201 POST /projects "{\"name\":\"$1\",\"namespace_id\":$2,\"visibility\":\"private\"}"
    PROJECT_ID=$(api_field id) PROJECT_PATH=$(api_field path_with_namespace)
}
project builder "$SRC_GROUP" && A=$PROJECT_ID A_PATH=$PROJECT_PATH
project artifacts "$DST_GROUP" && B=$PROJECT_ID B_PATH=$PROJECT_PATH
project outsider "$DST_GROUP" && C=$PROJECT_ID C_PATH=$PROJECT_PATH
for p in "$A" "$B" "$C"; do
    must 201 POST "/projects/$p/members" "{\"user_id\":$USER_ID,\"access_level\":30}"
done
# B's allowlist is enforced (explicitly, whatever the default of new projects).
must 204 PATCH "/projects/$B/job_token_scope" '{"enabled":true}'
must 201 POST /ci/jobs "{\"project_id\":$A,\"user_id\":$USER_ID}"
JOB_A=$(api_field id) TOKEN_A=$(api_field token)
must 201 POST /ci/jobs "{\"project_id\":$C,\"user_id\":$USER_ID}"
TOKEN_C=$(api_field token)
[[ $TOKEN_A == glcbt-* && $TOKEN_C == glcbt-* ]] || die "unexpected job tokens: $TOKEN_A $TOKEN_C"
B_ENC=${B_PATH//\//%2F}
echo "fixtures: A=$A ($A_PATH, job $JOB_A), B=$B ($B_PATH), C=$C ($C_PATH), user $USER_ID"

# ---- nginx ----------------------------------------------------------------------------------
mkdir -p "$NGX"/{tmp,data/store/"$B",data/store/"$A",data/store/"$C",data/store/"$B_PATH"}
printf 'artifact of %s\n' "$B_PATH" | tee "$NGX/data/store/$B/file.txt" >"$NGX/data/store/$B_PATH/file.txt"
printf 'artifact of %s\n' "$A_PATH" >"$NGX/data/store/$A/file.txt"
printf 'artifact of %s\n' "$C_PATH" >"$NGX/data/store/$C/file.txt"

RUN_AS=()
if [[ $(id -u) -eq 0 ]]; then
    # Do not run nginx as root: the whole process (master and worker) runs as nobody.
    command -v setpriv >/dev/null || die "running as root and setpriv (util-linux) is missing"
    RUN_AS=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
    chmod 0711 "$WORK"
    chown -R "$(id -u nobody):$(id -g nobody)" "$NGX"
fi

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_nginx_conf() { # FRONT_PORT STORE_PORT
    # The documented file, with exactly its three addresses substituted.
    local want
    for want in 'server 127.0.0.1:8080;' 'server 127.0.0.1:9000;' 'listen 80;'; do
        [[ $(grep -c -F -- "$want" "$DOC_CONF") == 1 ]] ||
            die "$DOC_CONF must contain '$want' exactly once (the test substitutes it)"
    done
    sed -e "s/server 127\.0\.0\.1:8080;/server $ADDR;/" \
        -e "s/server 127\.0\.0\.1:9000;/server 127.0.0.1:$2;/" \
        -e "s/listen 80;/listen 127.0.0.1:$1;/" \
        "$DOC_CONF" >"$NGX/jobscope-auth-request.conf"
    cat >"$NGX/nginx.conf" <<EOF
# Written by tests/e2e/nginx/run.sh. pid and error_log are given with -g.
worker_processes 1;
events { worker_connections 128; }
http {
    access_log $NGX/access.log;
    client_body_temp_path $NGX/tmp/client_body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    default_type text/plain;

    # The protected service (the "store" the documented config calls protected_store).
    server {
        listen 127.0.0.1:$2;
        location /store/ {
            root $NGX/data;
            if (\$request_method !~ ^(GET|HEAD)\$) {
                return 201 "stored: \$request_method \$uri by \$http_x_jobscope_user\n";
            }
        }
        # Echoes what the store received from the front nginx.
        location ~ ^/store/[^/]+/whoami\$ {
            return 200 "user=\$http_x_jobscope_user user_id=\$http_x_jobscope_user_id job=\$http_x_jobscope_job_id source=\$http_x_jobscope_source_project level=\$http_x_jobscope_access_level job_token=<\$http_job_token> authorization=<\$http_authorization>\n";
        }
    }

    # The documented configuration.
    include $NGX/jobscope-auth-request.conf;
}
EOF
    [[ ${#RUN_AS[@]} -eq 0 ]] || chown "$(id -u nobody):$(id -g nobody)" "$NGX"/*.conf
}

start_nginx() { # returns non-zero if nginx exited (a port taken in between, most likely)
    "${RUN_AS[@]}" "$NGINX" "${NGINX_ARGS[@]}" -p "$NGX" -c "$NGX/nginx.conf" \
        -g "daemon off; pid $NGX/nginx.pid; error_log stderr;" >>"$NGX/stderr.log" 2>&1 </dev/null &
    NGINX_PID=$!
    local code
    for _ in $(seq 1 100); do
        if ! kill -0 "$NGINX_PID" 2>/dev/null; then
            wait "$NGINX_PID" 2>/dev/null || true
            NGINX_PID=
            return 1
        fi
        code=$(curl -q -s --noproxy '*' -o /dev/null -w '%{http_code}' "$FRONT/" 2>/dev/null) || true
        [[ $code == 404 ]] && return 0
        sleep 0.05
    done
    die "nginx did not answer on $FRONT within 5s"
}

FRONT=
for attempt in 1 2 3; do
    front_port=$(free_port) store_port=$(free_port)
    [[ $front_port != "$store_port" ]] || continue
    FRONT=http://127.0.0.1:$front_port
    write_nginx_conf "$front_port" "$store_port"
    "${RUN_AS[@]}" "$NGINX" "${NGINX_ARGS[@]}" -p "$NGX" -c "$NGX/nginx.conf" -t -q \
        -g "pid $NGX/nginx.pid; error_log stderr;" >>"$NGX/stderr.log" 2>&1 ||
        die "nginx -t rejected the configuration: $(cat "$NGX/stderr.log")"
    start_nginx && break
    echo "nginx exited at startup (attempt $attempt): $(tail -n 3 "$NGX/stderr.log")"
    FRONT=
done
[[ -n $FRONT && -n $NGINX_PID ]] || die "could not start nginx"
echo "nginx: $FRONT ($("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), pid $NGINX_PID${RUN_AS:+, as nobody})"

# ---- checks ---------------------------------------------------------------------------------
passed=0 failed=0 failed_names=()
STATUS='' BODY=''
through_nginx() { # CURL_ARGS... (the last one a path under $FRONT): sets STATUS and BODY
    local args=("$@") path=${!#}
    unset 'args[${#args[@]}-1]'
    STATUS=$(curl -q --silent --show-error --noproxy '*' --path-as-is -o "$WORK/resp.body" \
        -w '%{http_code}' "${args[@]}" "$FRONT$path" 2>"$WORK/resp.stderr") || STATUS=000
    BODY=$(cat "$WORK/resp.body" 2>/dev/null || true)
}
check() { # NAME WANT_STATUS WANT_BODY_GLOB CURL_ARGS... PATH ('' as the glob: any body)
    local name=$1 want=$2 glob=$3
    shift 3
    through_nginx "$@"
    # shellcheck disable=SC2053 # $glob is a pattern on purpose
    if [[ $STATUS == "$want" && ( -z $glob || $BODY == $glob ) ]]; then
        passed=$((passed + 1))
        echo "PASS  $name -> $STATUS"
    else
        failed=$((failed + 1)) && failed_names+=("$name")
        echo "FAIL  $name"
        echo "        expected $want${glob:+ with a body matching \"$glob\"}, got $STATUS: $(head -c 300 <<<"$BODY")"
        [[ ! -s $WORK/resp.stderr ]] || echo "        curl: $(cat "$WORK/resp.stderr")"
    fi
}
allowlist() { # JSON_EXTRA: (re)creates B's entry for A
    api DELETE "/projects/$B/job_token_scope/allowlist/$A"
    must 201 POST "/projects/$B/job_token_scope/allowlist" "{\"target_project_id\":$A$1}"
}
JA=(-H "JOB-TOKEN: $TOKEN_A")

if python3 -c 'import sys; sys.exit(open(sys.argv[1]).read() not in open(sys.argv[2]).read())' \
    "$DOC_CONF" "$DOC_PAGE"; then
    passed=$((passed + 1))
    echo "PASS  docs/nginx-auth-request.md shows docs/nginx/jobscope-auth-request.conf verbatim"
else
    failed=$((failed + 1)) && failed_names+=("the page and the configuration file differ")
    echo "FAIL  docs/nginx-auth-request.md does not show docs/nginx/jobscope-auth-request.conf verbatim"
fi
B_FILE="artifact of $B_PATH"

check "A's token, B has not allowlisted A: GET is 403" 403 '' "${JA[@]}" "/store/$B/file.txt"
must 201 POST "/projects/$B/job_token_scope/allowlist" "{\"target_project_id\":$A}"
echo "      (B now allowlists A, default permissions)"
check "A's token (JOB-TOKEN) GET /store/<B id>/file.txt" 200 "$B_FILE" "${JA[@]}" "/store/$B/file.txt"
check "A's token GET by encoded path /store/$B_ENC/file.txt" 200 "$B_FILE" "${JA[@]}" "/store/$B_ENC/file.txt"
check "A's token GET by encoded path, lowercase %2f" 200 "$B_FILE" "${JA[@]}" "/store/${B_PATH//\//%2f}/file.txt"
check "A's token as HTTP Basic gitlab-ci-token:<token>" 200 "$B_FILE" \
    -u "gitlab-ci-token:$TOKEN_A" "/store/$B/file.txt"
check "A's token as Authorization: Bearer" 200 "$B_FILE" \
    -H "Authorization: Bearer $TOKEN_A" "/store/$B/file.txt"
check "HEAD (read_packages)" 200 '' "${JA[@]}" --head "/store/$B/file.txt"
check "A's token on A itself (same project)" 200 "artifact of $A_PATH" "${JA[@]}" "/store/$A/file.txt"
check "PUT with a default-permissions entry (admin_packages, user is Developer)" 201 \
    "stored: PUT /store/$B/new.bin by deployer" "${JA[@]}" -X PUT --data-binary 'payload' "/store/$B/new.bin"
check "the store receives X-Jobscope-User/-Source-Project, no job token" 200 \
    "user=deployer user_id=$USER_ID job=$JOB_A source=$A_PATH level=30 job_token=<> authorization=<>" \
    "${JA[@]}" "/store/$B/whoami"
check "a client's own X-Jobscope-User is replaced (Basic auth, token stripped)" 200 \
    "user=deployer * source=$A_PATH * job_token=<> authorization=<>" \
    -u "gitlab-ci-token:$TOKEN_A" -H 'X-Jobscope-User: root' -H 'X-Jobscope-Source-Project: ci-dst/artifacts' \
    "/store/$B/whoami"
check "C's token (C not allowlisted by B): 403" 403 '' -H "JOB-TOKEN: $TOKEN_C" "/store/$B/file.txt"
check "a bogus token: 401" 401 '' -H "JOB-TOKEN: glcbt-64_bogus0000000000000000000" "/store/$B/file.txt"
check "no token: 401" 401 '' "/store/$B/file.txt"
check "a personal access token is not a job token: 401" 401 '' \
    -H "Authorization: Bearer $ROOT_TOKEN" "/store/$B/file.txt"
check "unknown project id: 403, not 500" 403 '' "${JA[@]}" "/store/999999/file.txt"
check "unknown project path: 403, not 500" 403 '' "${JA[@]}" "/store/ci-dst%2Fnothing/file.txt"
check "dot segments cannot switch projects (/store/<B>/../<C>/…)" 403 '' \
    "${JA[@]}" "/store/$B/../$C/file.txt"
check "encoded dot segments neither (/store/<B>/%2e%2e/<C>/…)" 403 '' \
    "${JA[@]}" "/store/$B/%2e%2e/$C/file.txt"
check "a method without a policy (PATCH): 403" 403 '' "${JA[@]}" -X PATCH "/store/$B/file.txt"

allowlist ',"default_permissions":false,"job_token_policies":["read_packages"]'
echo "      (B's entry for A now grants only read_packages)"
check "read_packages entry: GET 200" 200 "$B_FILE" "${JA[@]}" "/store/$B/file.txt"
check "read_packages entry: PUT 403" 403 '' "${JA[@]}" -X PUT --data-binary 'payload' "/store/$B/new.bin"
check "read_packages entry: DELETE 403" 403 '' "${JA[@]}" -X DELETE "/store/$B/new.bin"
allowlist ',"default_permissions":false,"job_token_policies":["admin_packages"]'
echo "      (B's entry for A now grants only admin_packages)"
check "admin_packages entry: PUT 201" 201 '' "${JA[@]}" -X PUT --data-binary 'payload' "/store/$B/new.bin"
check "admin_packages entry: GET 200 (admin implies read)" 200 "$B_FILE" "${JA[@]}" "/store/$B/file.txt"

must 204 DELETE "/projects/$B/job_token_scope/allowlist/$A"
echo "      (B's entry for A deleted)"
check "revocation: the very next GET is 403" 403 '' "${JA[@]}" "/store/$B/file.txt"
must 201 POST "/projects/$B/job_token_scope/groups_allowlist" "{\"target_group_id\":$SRC_GROUP}"
echo "      (B now allowlists A's group ci-src)"
check "group entry: A's token GET 200" 200 "$B_FILE" "${JA[@]}" "/store/$B/file.txt"
must 200 PUT "/ci/jobs/$JOB_A" '{"status":"success"}'
echo "      (A's job finished)"
check "finished job: the very next GET is 401" 401 '' "${JA[@]}" "/store/$B/file.txt"

echo
echo "summary: $((passed + failed)) checks: $passed passed, $failed failed"
if ((failed)); then
    printf 'failed: %s\n' "${failed_names[@]}"
    exit 1
fi
