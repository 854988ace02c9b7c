"""Schemathesis hooks for the C1.15 contract fuzzing run (loaded through SCHEMATHESIS_HOOKS).

- Where Schemathesis put the configured credentials (run.sh's `[auth.openapi.*]`: the root
  token as PRIVATE-TOKEN or Bearer, a placeholder as JOB-TOKEN), the request carries real
  ones: the root personal access token, or on the job endpoints the token of a freshly
  started CI job. Credentials it generated or left out on purpose (negative testing of
  authentication) are sent as they are, and the `ignored_auth` check's own probes (without
  credentials, with a wrong token) do not pass through this hook.
- The fuzzer must not saw off the branch it sits on: operations on the administrator `root`
  (user 1) and on its token (token 1) are pointed at an id that does not exist, and the two
  operations on "the token of this request" (revoke, rotate) get a throwaway token of their own.
- Every request sent is counted; the count is written to $JOBSCOPE_ST_COUNT_FILE at exit.
- The server coerces parameters as GitLab's Grape does: an empty or null value is an absent
  one, an integer may come as a whole number or a string of digits, a boolean as 0/1 or as
  true/false/yes/no/on/off/t/f/y/n, a list as one comma-separated value; in a form body or
  a query string everything is text and of a repeated key the last value counts (as with
  Rack); a JSON body that is no object (`[null]`) is ignored. A
  `negative_data_rejection` failure is dropped when the request, so coerced, conforms to the
  document (`page=`, `{"expires_at": null}`, `enabled=0` are not schema violations for
  GitLab's clients). Any other schema-violating request that succeeds fails the run.
"""

import atexit
import datetime
import json
import os
import re

import jsonschema_rs
import requests
import schemathesis
from schemathesis.core import NotSet
from schemathesis.core.failures import AcceptedNegativeData

API = os.environ["JOBSCOPE_ST_API"]
ROOT_TOKEN = os.environ["JOBSCOPE_ST_ROOT_TOKEN"]
# The fixture project the job endpoints' jobs run in, and its group: never deleted.
JOB_PROJECT = os.environ["JOBSCOPE_ST_JOB_PROJECT"]
PROTECTED_PROJECTS = {JOB_PROJECT, os.environ["JOBSCOPE_ST_JOB_PROJECT_PATH"]}
PROTECTED_GROUPS = {os.environ["JOBSCOPE_ST_GROUP"], os.environ["JOBSCOPE_ST_GROUP_PATH"]}
COUNT_FILE = os.environ.get("JOBSCOPE_ST_COUNT_FILE")
# Where the negative_data_rejection failures dropped as GitLab's coercions are listed.
DROPPED_FILE = os.environ.get("JOBSCOPE_ST_DROPPED_FILE")
with open(os.environ["JOBSCOPE_ST_SCHEMA"], encoding="utf-8") as _f:
    DOCUMENT = json.load(_f)
JOB_TOKEN_PLACEHOLDER = os.environ["JOBSCOPE_ST_JOB_TOKEN_PLACEHOLDER"]
AUTH_HEADERS = ("private-token", "job-token", "authorization")
CONFIGURED = {
    ("private-token", ROOT_TOKEN),
    ("authorization", f"Bearer {ROOT_TOKEN}"),
    ("job-token", JOB_TOKEN_PLACEHOLDER),
}

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


def _utc_today():
    return datetime.datetime.now(datetime.UTC).date()


def _throwaway_token():
    r = _session.post(
        f"{API}/users/{ROOT_USER_ID}/personal_access_tokens",
        json={
            "name": "schemathesis-throwaway",
            "scopes": ["api"],
            # Tomorrow (UTC, as the server counts): within any maximum lifetime the fuzzer sets.
            "expires_at": (_utc_today() + datetime.timedelta(days=1)).isoformat(),
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
    sent = {
        (name.lower(), str(value))
        for name, value in headers.items()
        if name.lower() in AUTH_HEADERS
    }
    configured = bool(sent) and sent <= CONFIGURED
    params = case.path_parameters or {}

    if path.startswith("/users/{id}") and method != "GET":
        if _is_root(params.get("id"), ROOT_USER_ID):
            params["id"] = ABSENT_ID
    if path in ("/personal_access_tokens/{id}", "/personal_access_tokens/{id}/rotate"):
        if method != "GET" and _is_root(params.get("id"), ROOT_TOKEN_ID):
            params["id"] = ABSENT_ID
    if (
        method == "DELETE"
        and path == "/projects/{id}"
        and str(params.get("id")) in PROTECTED_PROJECTS
    ):
        params["id"] = str(ABSENT_ID)
    if method == "DELETE" and path == "/groups/{id}" and str(params.get("id")) in PROTECTED_GROUPS:
        params["id"] = str(ABSENT_ID)
    if params:
        case.path_parameters = params

    if not configured:
        return
    for name in list(headers):
        if name.lower() in AUTH_HEADERS:
            del headers[name]
    if path in ("/job", "/job_token/allowed"):
        headers["JOB-TOKEN"] = _job_token()
    elif path.startswith("/personal_access_tokens/self") and method != "GET":
        headers["PRIVATE-TOKEN"] = _throwaway_token()
    else:
        headers["PRIVATE-TOKEN"] = ROOT_TOKEN
    case.headers = headers


def _resolve(schema):
    ref = schema.get("$ref", "")
    if not ref.startswith("#/"):
        return schema
    node = DOCUMENT
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _conforms(schema, value):
    validator = jsonschema_rs.Draft202012Validator(_resolve(schema), validate_formats=True)
    return validator.is_valid(value)


INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
TRUE = {"1", "true", "t", "yes", "y", "on"}
FALSE = {"0", "false", "f", "no", "n", "off"}
ABSENT = object()


def _coerced(value, schema, textual):
    """The value as the server reads it for a parameter of this schema (params.rs); `textual`
    for a query string or a form body, where an empty object or list is sent as nothing or
    as an empty value."""
    if value is None or value == "" or (textual and value in ({}, [])):
        return ABSENT
    types = schema.get("type")
    types = set(types) if isinstance(types, list) else {types}
    if textual and "array" not in types and isinstance(value, dict | list):
        # Sent as the key repeated: the last one counts (as with Rack).
        values = list(value.values()) if isinstance(value, dict) else value
        return _coerced(values[-1], schema, textual)
    if textual and "string" in types and isinstance(value, int | float):
        return str(value)
    if textual and "array" in types and isinstance(value, str | int | float):
        value = str(value).split(",")  # a list may come as one comma-separated value
    if textual and "array" in types and isinstance(value, list):
        items = schema.get("items", {})
        coerced = (_coerced(v, items, True) for v in value)
        return [v for v in coerced if v is not ABSENT]
    if "integer" in types and not isinstance(value, bool):
        if isinstance(value, str) and INTEGER.fullmatch(value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    if "boolean" in types:
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
            return value == 1
    return value


def _conforms_as_coerced(case):
    """Whether the request's query and body, coerced as the server coerces them, conform."""
    operation = DOCUMENT["paths"][case.operation.path][case.method.lower()]
    declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
    query = dict(case.query or {})
    if set(query) - set(declared):
        return False
    for name, parameter in declared.items():
        value = _coerced(query[name], parameter["schema"], True) if name in query else ABSENT
        if value is ABSENT:
            if parameter.get("required"):
                return False
        elif not _conforms(parameter["schema"], value):
            return False
    if case.body is None or isinstance(case.body, NotSet):
        return True
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get(case.media_type)
    if media is None:
        return False
    schema = _resolve(media["schema"])
    properties = schema.get("properties", {})
    textual = case.media_type == "application/x-www-form-urlencoded"
    body = {}
    # A body that is no JSON object is ignored (Grape reads parameters from an object only).
    for name, value in (case.body if isinstance(case.body, dict) else {}).items():
        value = _coerced(value, properties.get(name, {}), textual)
        if value is not ABSENT:
            body[name] = value
    return _conforms(schema, body)


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if not isinstance(failure, AcceptedNegativeData):
        return True
    data = case.meta.phase.data if case.meta is not None else None
    location = getattr(data, "parameter_location", None)
    if location is not None and location.name not in ("QUERY", "BODY"):
        return True
    if not _conforms_as_coerced(case):
        return True
    if DROPPED_FILE:
        with open(DROPPED_FILE, "a", encoding="utf-8") as f:
            query, body = case.query or {}, case.body
            body = body if isinstance(body, dict | list | str | int | float) else None
            f.write(f"{case.method.upper()} {case.operation.path} query={query!r} body={body!r}\n")
    return False
