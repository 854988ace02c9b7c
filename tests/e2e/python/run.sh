#!/usr/bin/env bash
# Runs the python-gitlab end-to-end suite against a locally built jobscope server.
#
#   bash tests/e2e/python/run.sh [extra pytest args...]
#
# Environment:
#   JOBSCOPE_BIN       server binary (default: <repo>/target/debug/jobscope; build it with
#                      `cargo build -p jobscope` first)
#   JOBSCOPE_E2E_VENV  virtualenv to create or reuse (default: <repo>/target/e2e-venv)
#   PYTHON             interpreter used to create the venv (default: python3)
#
# The venv is (re)populated only when requirements.txt changed since the last install; only
# PyPI is contacted, and only then. The exit code is pytest's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

venv="${JOBSCOPE_E2E_VENV:-$repo/target/e2e-venv}"
bin="${JOBSCOPE_BIN:-$repo/target/debug/jobscope}"
python="${PYTHON:-python3}"
requirements="$here/requirements.txt"

if [[ ! -x "$bin" || -d "$bin" ]]; then
    echo "run.sh: server binary not found or not executable: $bin" >&2
    echo "run.sh: build it with 'cargo build -p jobscope' (from $repo) or set JOBSCOPE_BIN" >&2
    exit 2
fi
# Both paths are used after the cd below, so make them absolute.
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
mkdir -p "$venv"
venv="$(cd "$venv" && pwd)"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "run.sh: creating venv $venv" >&2
    "$python" -m venv "$venv"
fi

# The stamp holds the hash of the requirements last installed into this venv.
stamp="$venv/.jobscope-e2e-requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
if [[ "$want" != "$have" ]]; then
    echo "run.sh: installing $requirements into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
fi

export JOBSCOPE_BIN="$bin"

# pytest runs from this directory (its pytest.ini's testpaths then selects the suite), so
# make arguments that name files relative to the caller's directory absolute first, keeping
# any "::test" suffix: `run.sh tests/e2e/python/test_errors.py::test_add_self -x` works.
args=()
for arg in "$@"; do
    file="${arg%%::*}"
    if [[ "$arg" != -* && -e "$file" ]]; then
        arg="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")${arg:${#file}}"
    fi
    args+=("$arg")
done

# The database: SQLite (conftest makes a file) or, with JOBSCOPE_E2E_BACKEND=postgres, a new
# PostgreSQL database that is dropped at the end.
# shellcheck source=../lib/database.sh
source "$here/../lib/database.sh"
if [[ ${JOBSCOPE_E2E_BACKEND:-sqlite} == postgres ]]; then
    workdir="$(mktemp -d)"
    trap 'e2e_db_drop; rm -rf -- "$workdir"' EXIT
    e2e_db_create "$workdir"
    export JOBSCOPE_E2E_DATABASE_URL="$E2E_DATABASE_URL"
fi

cd "$here"
# -p no:cacheprovider keeps pytest from writing .pytest_cache next to the tests.
set +e
"$venv/bin/python" -m pytest -p no:cacheprovider ${args[@]+"${args[@]}"}
status=$?
set -e
exit "$status"
