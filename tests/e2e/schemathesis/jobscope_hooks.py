"""Schemathesis hooks for the C1.15 contract fuzzing run (loaded through SCHEMATHESIS_HOOKS).

- Every request carries real credentials: the root personal access token, or on the job
  endpoints the token of a freshly started CI job.
- The fuzzer must not saw off the branch it sits on: operations on the administrator `root`
  (user 1) and on its token (token 1) are pointed at an id that does not exist, and the two
  operations on "the token of this request" (revoke, rotate) get a throwaway token of their own.
- Every request sent is counted; the count is written to $JOBSCOPE_ST_COUNT_FILE at exit.
"""

import atexit
import datetime
import os

import requests
import schemathesis

API = os.environ["JOBSCOPE_ST_API"]
ROOT_TOKEN = os.environ["JOBSCOPE_ST_ROOT_TOKEN"]
# The fixture project the job endpoints' jobs run in, and its group: never deleted.
JOB_PROJECT = os.environ["JOBSCOPE_ST_JOB_PROJECT"]
PROTECTED_PROJECTS = {JOB_PROJECT, os.environ["JOBSCOPE_ST_JOB_PROJECT_PATH"]}
PROTECTED_GROUPS = {os.environ["JOBSCOPE_ST_GROUP"], os.environ["JOBSCOPE_ST_GROUP_PATH"]}
COUNT_FILE = os.environ.get("JOBSCOPE_ST_COUNT_FILE")

ROOT_USER_ID = 1
ROOT_TOKEN_ID = 1
ABSENT_ID = 2_000_000_000

_count = 0
_session = requests.Session()
_session.headers["PRIVATE-TOKEN"] = ROOT_TOKEN


def _write_count():
    if COUNT_FILE:
        with open(COUNT_FILE, "w") as f:
            f.write(f"{_count}\n")


atexit.register(_write_count)


def _throwaway_token():
    r = _session.post(
        f"{API}/users/{ROOT_USER_ID}/personal_access_tokens",
        json={
            "name": "schemathesis-throwaway",
            "scopes": ["api"],
            "expires_at": (datetime.date.today() + datetime.timedelta(days=2)).isoformat(),
        },
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["token"]


def _job_token():
    r = _session.post(
        f"{API}/ci/jobs",
        json={"project_id": JOB_PROJECT, "user_id": ROOT_USER_ID},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["token"]


def _is_root(value, root_id):
    try:
        return int(str(value)) == root_id
    except ValueError:
        return False


@schemathesis.hook
def before_call(context, case, kwargs):
    global _count
    _count += 1
    path = case.operation.path
    method = case.method.upper()
    headers = dict(case.headers or {})
    for name in list(headers):
        if name.lower() in ("private-token", "job-token", "authorization"):
            del headers[name]
    params = case.path_parameters or {}

    if path.startswith("/users/{id}") and method != "GET":
        if _is_root(params.get("id"), ROOT_USER_ID):
            params["id"] = ABSENT_ID
    if path in ("/personal_access_tokens/{id}", "/personal_access_tokens/{id}/rotate"):
        if method != "GET" and _is_root(params.get("id"), ROOT_TOKEN_ID):
            params["id"] = ABSENT_ID
    if method == "DELETE" and path == "/projects/{id}" and str(params.get("id")) in PROTECTED_PROJECTS:
        params["id"] = str(ABSENT_ID)
    if method == "DELETE" and path == "/groups/{id}" and str(params.get("id")) in PROTECTED_GROUPS:
        params["id"] = str(ABSENT_ID)
    if params:
        case.path_parameters = params

    if path in ("/job", "/job_token/allowed"):
        headers["JOB-TOKEN"] = _job_token()
    elif path.startswith("/personal_access_tokens/self") and method != "GET":
        headers["PRIVATE-TOKEN"] = _throwaway_token()
    else:
        headers["PRIVATE-TOKEN"] = ROOT_TOKEN
    case.headers = headers
