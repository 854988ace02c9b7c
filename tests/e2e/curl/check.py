#!/usr/bin/env python3
"""Assertions for tests/e2e/curl/run.sh: what GitLab's documentation promises for each example.

usage: check.py EXPECT STATUS BODY_FILE HEADERS_FILE BASE_URL

EXPECT names a documented response (see EXPECTATIONS) or, prefixed with "state:", the state
read back after an example to confirm its effect. Prints one reason per line and exits 1 when
the response is not what GitLab's docs promise; lines starting with "NOTE:" are deviations that
do not fail the test. Exits 2 on usage errors.
"""

import json
import sys
from urllib.parse import urlsplit

# Documented keys of each project of GET .../job_token_scope/allowlist (the doc's example).
PROJECT_KEYS = [
    "id", "description", "name", "name_with_namespace", "path", "path_with_namespace",
    "created_at", "default_branch", "tag_list", "topics", "ssh_url_to_repo", "http_url_to_repo",
    "web_url", "avatar_url", "star_count", "last_activity_at", "namespace",
]
NAMESPACE_KEYS = ["id", "name", "path", "kind", "full_path", "parent_id", "avatar_url", "web_url"]
GROUP_KEYS = ["id", "web_url", "name"]

# The fixtures run.sh creates: group 2 "Diaspora" (path diaspora) holding projects 1 and 2.
FIXTURE_PROJECTS = {1: ("Diaspora Project Site", "diaspora-project-site"),
                    2: ("Diaspora Client", "diaspora-client")}
GROUP = {"id": 2, "name": "Diaspora", "path": "diaspora"}


class Response:
    def __init__(self, status, body_file, headers_file, base):
        self.status = status
        self.base = base.rstrip("/")
        try:
            with open(body_file, "rb") as f:
                self.raw = f.read()
        except FileNotFoundError:  # curl does not create the output file for an empty body
            self.raw = b""
        self.headers = {}
        try:
            with open(headers_file, encoding="latin-1") as f:
                blocks = [b for b in f.read().replace("\r\n", "\n").split("\n\n") if b.strip()]
        except FileNotFoundError:
            blocks = []
        if blocks:  # the last block is the final response (after any 1xx)
            for line in blocks[-1].split("\n")[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    self.headers[name.strip().lower()] = value.strip()


class Failures(list):
    def expect(self, cond, msg):
        if not cond:
            self.append(msg)
        return cond


def status_is(r, f, code):
    return f.expect(r.status == code, f"status {r.status}, expected {code}")


def json_body(r, f):
    """The parsed JSON body (None after recording a failure)."""
    ctype = r.headers.get("content-type", "")
    f.expect(ctype.split(";")[0].strip() == "application/json",
             f"Content-Type {ctype!r}, expected application/json")
    try:
        return json.loads(r.raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        f.append(f"body is not JSON ({e}): {r.raw[:200]!r}")
        return None


def empty_body(r, f):
    f.expect(r.raw == b"", f"expected no response body, got {r.raw[:200]!r}")


def exact_json(r, f, code, want):
    if status_is(r, f, code):
        body = json_body(r, f)
        if body is not None:
            f.expect(body == want, f"body {json.dumps(body)}, expected {json.dumps(want)}")


def json_list(r, f):
    if not status_is(r, f, 200):
        return None
    body = json_body(r, f)
    if body is None:
        return None
    if not f.expect(isinstance(body, list), f"expected a JSON array, got {json.dumps(body)[:200]}"):
        return None
    if not f.expect(all(isinstance(x, dict) and "id" in x for x in body),
                    f"expected objects with an id, got {json.dumps(body)[:200]}"):
        return None
    return body


def pagination_headers(r, f):
    # "This endpoint supports offset-based pagination": GitLab's defaults are page 1, 20 a page.
    f.expect(r.headers.get("x-page") == "1", f"X-Page {r.headers.get('x-page')!r}, expected '1'")
    f.expect(r.headers.get("x-per-page") == "20",
             f"X-Per-Page {r.headers.get('x-per-page')!r}, expected '20'")


def check_project(r, f, p):
    pid = p.get("id")
    missing = [k for k in PROJECT_KEYS if k not in p]
    f.expect(not missing, f"project {pid}: documented keys missing: {missing}")
    ns = p.get("namespace")
    if f.expect(isinstance(ns, dict), f"project {pid}: namespace is not an object: {ns!r}"):
        missing = [k for k in NAMESPACE_KEYS if k not in ns]
        f.expect(not missing, f"project {pid}: documented namespace keys missing: {missing}")
        for k in ("id", "name", "path"):
            f.expect(ns.get(k) == GROUP[k], f"project {pid}: namespace.{k} {ns.get(k)!r}, "
                     f"expected {GROUP[k]!r}")
        f.expect(ns.get("kind") == "group", f"project {pid}: namespace.kind {ns.get('kind')!r}")
        f.expect(ns.get("full_path") == "diaspora",
                 f"project {pid}: namespace.full_path {ns.get('full_path')!r}")
        f.expect(ns.get("parent_id") is None,
                 f"project {pid}: namespace.parent_id {ns.get('parent_id')!r}, expected null")
        f.expect(isinstance(ns.get("web_url"), str) and ns["web_url"].startswith(r.base + "/")
                 and ns["web_url"].endswith("/diaspora"),
                 f"project {pid}: namespace.web_url {ns.get('web_url')!r}")
    if pid not in FIXTURE_PROJECTS:
        return
    name, path = FIXTURE_PROJECTS[pid]
    full = f"diaspora/{path}"
    for key, want in (("name", name), ("path", path), ("name_with_namespace", f"Diaspora / {name}"),
                      ("path_with_namespace", full), ("web_url", f"{r.base}/{full}"),
                      ("http_url_to_repo", f"{r.base}/{full}.git"), ("star_count", 0)):
        f.expect(p.get(key) == want, f"project {pid}: {key} {p.get(key)!r}, expected {want!r}")
    host = urlsplit(r.base).hostname
    f.expect(p.get("ssh_url_to_repo") == f"git@{host}:{full}.git",
             f"project {pid}: ssh_url_to_repo {p.get('ssh_url_to_repo')!r}")
    for key in ("tag_list", "topics"):
        f.expect(isinstance(p.get(key), list), f"project {pid}: {key} is not an array")
    for key in ("created_at", "last_activity_at", "default_branch"):
        f.expect(isinstance(p.get(key), str) and p[key],
                 f"project {pid}: {key} {p.get(key)!r}, expected a string")
    for key in ("description", "avatar_url"):
        f.expect(p.get(key) is None or isinstance(p.get(key), str),
                 f"project {pid}: {key} {p.get(key)!r}")


def check_group(r, f, g, notes):
    gid = g.get("id")
    missing = [k for k in GROUP_KEYS if k not in g]
    f.expect(not missing, f"group {gid}: documented keys missing: {missing}")
    extra = sorted(set(g) - set(GROUP_KEYS))
    if extra:
        notes.append(f"group {gid}: keys beyond the documented id/web_url/name: {extra}")
    if gid == GROUP["id"]:
        f.expect(g.get("name") == GROUP["name"], f"group 2: name {g.get('name')!r}")
        want = f"{r.base}/groups/{GROUP['path']}"
        f.expect(g.get("web_url") == want, f"group 2: web_url {g.get('web_url')!r}, expected {want!r}")


def ids_are(f, items, want, what):
    got = sorted(x["id"] for x in items)
    f.expect(got == sorted(want), f"{what} ids {got}, expected {sorted(want)}")


def allowlist(r, f, notes, want_ids):
    items = json_list(r, f)
    if items is None:
        return
    pagination_headers(r, f)
    ids_are(f, items, want_ids, "allowlist")
    for p in items:
        check_project(r, f, p)


def groups_allowlist(r, f, notes, want_ids):
    items = json_list(r, f)
    if items is None:
        return
    pagination_headers(r, f)
    ids_are(f, items, want_ids, "groups allowlist")
    for g in items:
        check_group(r, f, g, notes)


def scope(r, f, inbound):
    exact_json(r, f, 200, {"inbound_enabled": inbound, "outbound_enabled": False})


def no_content(r, f):
    if status_is(r, f, 204):
        empty_body(r, f)


EXPECTATIONS = {
    # Documented responses (fresh projects have the inbound scope enabled, as in GitLab).
    "scope_get": lambda r, f, n: scope(r, f, True),
    "scope_patch_disable": lambda r, f, n: no_content(r, f),
    "allowlist_add": lambda r, f, n: exact_json(
        r, f, 201, {"source_project_id": 1, "target_project_id": 2}),
    # The inbound allowlist lists the project itself and the projects added to it.
    "allowlist_get": lambda r, f, n: allowlist(r, f, n, [1, 2]),
    "allowlist_delete": lambda r, f, n: no_content(r, f),
    "groups_add": lambda r, f, n: exact_json(
        r, f, 201, {"source_project_id": 1, "target_group_id": 2}),
    "groups_get": lambda r, f, n: groups_allowlist(r, f, n, [2]),
    "groups_delete": lambda r, f, n: no_content(r, f),
    # Variant C's erroneous "Add a project" example: GitLab's Grape validation answer.
    "doc_error_patch_without_enabled": lambda r, f, n: exact_json(
        r, f, 400, {"error": "enabled is missing"}),
    # State read back (with plain curl) after an example, to confirm its effect.
    "state:scope_disabled": lambda r, f, n: scope(r, f, False),
    "state:scope_enabled": lambda r, f, n: scope(r, f, True),
    "state:allowlist_1_2": lambda r, f, n: allowlist(r, f, n, [1, 2]),
    "state:allowlist_1": lambda r, f, n: allowlist(r, f, n, [1]),
    "state:groups_2": lambda r, f, n: groups_allowlist(r, f, n, [2]),
    "state:groups_none": lambda r, f, n: groups_allowlist(r, f, n, []),
}


def main(argv):
    if len(argv) != 6 or argv[1] not in EXPECTATIONS or not argv[2].isdigit():
        print(__doc__.strip(), file=sys.stderr)
        print("expectations: " + ", ".join(EXPECTATIONS), file=sys.stderr)
        return 2
    r = Response(int(argv[2]), argv[3], argv[4], argv[5])
    failures, notes = Failures(), []
    EXPECTATIONS[argv[1]](r, failures, notes)
    for n in notes:
        print(f"NOTE: {n}")
    for msg in failures:
        print(msg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
