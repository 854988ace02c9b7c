# shellcheck shell=bash
# Sourced by the end-to-end scripts: the database one run of a suite uses.
#
#   JOBSCOPE_E2E_BACKEND=sqlite    (default) a SQLite file in the run's work directory
#   JOBSCOPE_E2E_BACKEND=postgres  a new PostgreSQL database, dropped by e2e_db_drop;
#                                  JOBSCOPE_TEST_POSTGRES_URL names the server (default
#                                  postgres://postgres@127.0.0.1:5432/postgres)
#
# e2e_db_create WORKDIR sets E2E_DATABASE_URL; e2e_db_drop removes what it created.

e2e_db_create() {
    local workdir=$1
    case "${JOBSCOPE_E2E_BACKEND:-sqlite}" in
        sqlite)
            E2E_DATABASE_URL="sqlite://$workdir/db.sqlite3"
            ;;
        postgres)
            E2E_PG_ADMIN=${JOBSCOPE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
            E2E_PG_NAME="jobscope_e2e_$$_${RANDOM}${RANDOM}"
            if ! psql "$E2E_PG_ADMIN" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE $E2E_PG_NAME" >/dev/null; then
                echo "cannot create a PostgreSQL database at $E2E_PG_ADMIN" >&2
                return 2
            fi
            E2E_DATABASE_URL="${E2E_PG_ADMIN%/*}/$E2E_PG_NAME"
            ;;
        *)
            echo "unknown JOBSCOPE_E2E_BACKEND: ${JOBSCOPE_E2E_BACKEND} (sqlite or postgres)" >&2
            return 2
            ;;
    esac
    export E2E_DATABASE_URL
}

e2e_db_drop() {
    if [[ -n ${E2E_PG_NAME:-} ]]; then
        psql "$E2E_PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $E2E_PG_NAME WITH (FORCE)" >/dev/null 2>&1 || true
        E2E_PG_NAME=
    fi
}
