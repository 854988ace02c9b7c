"""The client of tests/e2e/crash: sets up a project with targets, then sends a seeded random
stream of allowlist mutations, one at a time on one connection, and writes what it sent to a
JSON file for check.py.

Every mutation changes something (an entry added that was absent, removed that was present,
policies rewritten, the inbound flag flipped), so each writes exactly one audit event. Each
request carries an `X-Request-Id` that the server echoes, so the answer found in the server's
I/O log names its request. The client waits for each answer before sending the next request:
at any moment at most one mutation is in flight.
"""

import argparse
import http.client
import json
import random
import sys

POLICIES = [
    "read_deployments",
    "admin_deployments",
    "read_environments",
    "read_jobs",
    "admin_jobs",
    "read_packages",
    "read_pipelines",
    "admin_releases",
    "read_repositories",
]


class Api:
    def __init__(self, address: str, token: str):
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.token = token
        self.sent = 0

    def call(self, request_id: str, method: str, path: str, body=None, want=(200, 201, 204)):
        headers = {"PRIVATE-TOKEN": self.token, "X-Request-Id": request_id}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, "/api/v4" + path, body=data, headers=headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        self.sent += 1
        if resp.status not in want:
            sys.exit(f"stream.py: {method} {path} answered {resp.status}: {raw[:300]!r}")
        echoed = resp.getheader("X-Request-Id")
        if echoed != request_id:
            sys.exit(f"stream.py: the server did not echo X-Request-Id ({echoed!r})")
        return resp.status, (json.loads(raw) if raw else None)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("address", help="host:port of the server")
    ap.add_argument("token")
    ap.add_argument("out", help="JSON file to write")
    ap.add_argument("--mutations", type=int, default=300)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    api = Api(args.address, args.token)

    # Setup (not checked as mutations: it is all acknowledged before the first of them).
    n = 0

    def setup(method, path, body=None):
        nonlocal n
        n += 1
        return api.call(f"setup-{n:04d}", method, path, body)[1]

    top = setup("POST", "/groups", {"name": "crash", "path": "crash"})["id"]
    groups = [
        setup("POST", "/groups", {"name": f"g{i}", "path": f"g{i}", "parent_id": top})["id"]
        for i in range(6)
    ]
    source = setup("POST", "/projects", {"name": "source", "namespace_id": top})["id"]
    targets = [
        setup("POST", "/projects", {"name": f"t{i}", "namespace_id": groups[i % 6]})["id"]
        for i in range(20)
    ]
    setup_last = f"setup-{n:04d}"

    # The model: what the allowlist holds after each acknowledged mutation.
    projects: dict[int, list[str]] = {}
    group_links: dict[int, list[str]] = {}
    inbound = True
    mutations = []
    base = f"/projects/{source}/job_token_scope"
    for i in range(args.mutations):
        rid = f"m-{i:04d}"
        choices = []
        absent_p = [t for t in targets if t not in projects]
        absent_g = [g for g in groups if g not in group_links]
        if absent_p:
            choices += ["add_project"] * 3
        if projects:
            choices += ["remove_project"] * 2 + ["update_project"] * 2
        if absent_g:
            choices += ["add_group"] * 2
        if group_links:
            choices += ["remove_group", "update_group"]
        choices.append("inbound")
        op = rng.choice(choices)
        policies = rng.sample(POLICIES, rng.randint(0, 3))
        m = {"id": rid, "op": op}
        if op == "add_project":
            t = rng.choice(absent_p)
            body = {"target_project_id": t}
            if policies:
                body["job_token_policies"] = policies
            api.call(rid, "POST", f"{base}/allowlist", body)
            projects[t] = policies
            m |= {"target": t, "policies": policies}
        elif op == "remove_project":
            t = rng.choice(sorted(projects))
            api.call(rid, "DELETE", f"{base}/allowlist/{t}")
            del projects[t]
            m |= {"target": t}
        elif op == "update_project":
            t = rng.choice(sorted(projects))
            api.call(rid, "PATCH", f"{base}/allowlist/{t}", {"job_token_policies": policies})
            projects[t] = policies
            m |= {"target": t, "policies": policies}
        elif op == "add_group":
            g = rng.choice(absent_g)
            body = {"target_group_id": g}
            if policies:
                body["job_token_policies"] = policies
            api.call(rid, "POST", f"{base}/groups_allowlist", body)
            group_links[g] = policies
            m |= {"target": g, "policies": policies}
        elif op == "remove_group":
            g = rng.choice(sorted(group_links))
            api.call(rid, "DELETE", f"{base}/groups_allowlist/{g}")
            del group_links[g]
            m |= {"target": g}
        elif op == "update_group":
            g = rng.choice(sorted(group_links))
            api.call(rid, "PATCH", f"{base}/groups_allowlist/{g}", {"job_token_policies": policies})
            group_links[g] = policies
            m |= {"target": g, "policies": policies}
        else:
            inbound = not inbound
            api.call(rid, "PATCH", base, {"enabled": inbound})
            m |= {"enabled": inbound}
        mutations.append(m)

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "source": source,
                "setup_last": setup_last,
                "mutations": mutations,
                "final": {
                    "projects": {str(k): v for k, v in projects.items()},
                    "groups": {str(k): v for k, v in group_links.items()},
                    "inbound": inbound,
                },
            },
            f,
            indent=1,
        )
    print(f"{len(mutations)} mutations acknowledged after {n} setup requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
