"""Concurrent allowlist edits through independent python-gitlab clients: duplicates and the
200-entry limits must be enforced atomically (one winner, clean 400s, never a 500).

All traffic goes to the local test server; each test sends a bounded number of requests.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import gitlab

from helpers import ROOT_TOKEN

WORKERS = 16


def _outcome(call: Callable[[], object]) -> object:
    """201 for success, else (status, message) of the python-gitlab error."""
    try:
        call()
        return 201
    except gitlab.GitlabError as exc:
        message = exc.error_message
        return (exc.response_code, message if isinstance(message, str) else repr(message))


def _race(factory, project_id: int, kind: str, target_ids: list[int]) -> collections.Counter:
    """Adds each target from its own thread and client (one HTTP connection per thread)."""

    def add(target_id: int) -> object:
        gl = gitlab.Gitlab(factory.base_url, private_token=ROOT_TOKEN)
        scope = gl.projects.get(project_id, lazy=True).job_token_scope.get()
        if kind == "project":
            return _outcome(lambda: scope.allowlist.create({"target_project_id": target_id}))
        return _outcome(lambda: scope.groups_allowlist.create({"target_group_id": target_id}))

    with ThreadPoolExecutor(WORKERS) as pool:
        return collections.Counter(pool.map(add, target_ids))


def test_same_project_added_concurrently(factory):
    project, target = factory.project(), factory.project()
    outcomes = _race(factory, project.id, "project", [target.id] * WORKERS)
    duplicate = (400, "400 Bad request - This project is already in the job token allowlist.")
    assert outcomes == {201: 1, duplicate: WORKERS - 1}
    assert sorted(p.id for p in project.job_token_scope.get().allowlist.list(get_all=True)) == (
        sorted([project.id, target.id])
    )


def test_same_group_added_concurrently(factory):
    project, group = factory.project(), factory.group()
    outcomes = _race(factory, project.id, "group", [group.id] * WORKERS)
    duplicate = (400, "400 Bad request - This group is already in the job token allowlist.")
    assert outcomes == {201: 1, duplicate: WORKERS - 1}


def test_distinct_projects_added_concurrently(factory, many_projects):
    project = factory.project()
    targets = many_projects[:40]
    assert _race(factory, project.id, "project", targets) == {201: len(targets)}
    listed = [p.id for p in project.job_token_scope.get().allowlist.list(get_all=True)]
    assert sorted(listed) == sorted([project.id, *targets])


def test_project_limit_under_concurrency(factory, many_projects):
    # 190 links exist; 30 concurrent adds may only bring it to exactly 200.
    group = factory.group()
    targets = many_projects + [factory.project(group).id for _ in range(220 - len(many_projects))]
    project = factory.project()
    scope = project.job_token_scope.get()
    for target in targets[:190]:
        scope.allowlist.create({"target_project_id": target})
    outcomes = _race(factory, project.id, "project", targets[190:])
    limit = (
        400,
        "400 Bad request - Validation failed: Source project exceeds the allowable number of "
        "project links in this direction",
    )
    assert outcomes == {201: 10, limit: 20}
    assert scope.allowlist.list(iterator=True).total == 201  # 200 links + the project


def test_group_limit_under_concurrency(factory):
    # The same for the separate 200-entry limit on group links.
    groups = [factory.group().id for _ in range(215)]
    project = factory.project()
    scope = project.job_token_scope.get()
    for gid in groups[:195]:
        scope.groups_allowlist.create({"target_group_id": gid})
    outcomes = _race(factory, project.id, "group", groups[195:])
    limit = (
        400,
        "400 Bad request - Validation failed: Source project exceeds the allowable number of "
        "group links",
    )
    assert outcomes == {201: 5, limit: 15}
    assert scope.groups_allowlist.list(iterator=True).total == 200
    # The project links have a limit of their own: they can still be added.
    scope.allowlist.create({"target_project_id": factory.project().id})
