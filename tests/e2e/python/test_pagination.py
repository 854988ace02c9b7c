"""Pagination of the two allowlist listings as python-gitlab consumes it: `Link rel="next"`
for get_all and iterators, the X-Total/X-Total-Pages/X-Per-Page/X-Page headers for the
RESTObjectList attributes and for list()'s "only the first page" warning.
"""

from __future__ import annotations

import warnings

import pytest
from gitlab import GitlabCreateError, GitlabListError

from helpers import raises_gitlab

TARGETS = 150  # allowlist entries besides the project itself
GROUPS = 25


@pytest.fixture(scope="module")
def big_allowlist(factory, many_projects):
    """A project with 150 other projects in its allowlist: (project, [target ids])."""
    project = factory.gl.projects.get(factory.project().id)
    scope = project.job_token_scope.get()
    targets = many_projects[:TARGETS]
    for target in targets:
        scope.allowlist.create({"target_project_id": target})
    return project, targets


@pytest.fixture(scope="module")
def big_groups_allowlist(factory):
    """A project with 25 groups in its groups allowlist: (project, [group ids])."""
    project = factory.gl.projects.get(factory.project().id)
    scope = project.job_token_scope.get()
    groups = [factory.group().id for _ in range(GROUPS)]
    for gid in groups:
        scope.groups_allowlist.create({"target_group_id": gid})
    return project, groups


def test_get_all_returns_every_entry(big_allowlist):
    project, targets = big_allowlist
    scope = project.job_token_scope.get()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entries = scope.allowlist.list(get_all=True)
    assert [str(w.message) for w in caught] == []  # e.g. no "base URL ... differs" warning
    ids = [e.id for e in entries]
    assert len(ids) == TARGETS + 1
    assert len(set(ids)) == len(ids)
    assert set(ids) == {project.id, *targets}
    assert ids == sorted(ids)  # GitLab orders the allowlist by project id


def test_get_all_with_large_pages(big_allowlist):
    project, targets = big_allowlist
    scope = project.job_token_scope.get()
    entries = scope.allowlist.list(get_all=True, per_page=100)
    assert sorted(e.id for e in entries) == sorted([project.id, *targets])


def test_iterator(big_allowlist):
    project, targets = big_allowlist
    scope = project.job_token_scope.get()
    it = scope.allowlist.list(iterator=True)
    # These come from the headers of the first page (default per_page 20).
    assert len(it) == TARGETS + 1
    assert it.total == TARGETS + 1
    assert it.per_page == 20
    assert it.total_pages == 8  # ceil(151 / 20)
    assert it.current_page == 1
    assert it.prev_page is None
    assert it.next_page == 2

    ids = [entry.id for entry in it]
    assert len(ids) == TARGETS + 1
    assert set(ids) == {project.id, *targets}
    # After the last page was fetched the attributes describe it.
    assert it.current_page == 8
    assert it.next_page is None
    assert it.prev_page == 7


def test_plain_list_returns_first_page_and_warns(big_allowlist):
    project, _ = big_allowlist
    scope = project.job_token_scope.get()
    with pytest.warns(UserWarning, match=r"get_all=True") as caught:
        entries = scope.allowlist.list()
    assert len(entries) == 20
    assert "returned 20 of 151 items" in str(caught[0].message)


def test_explicit_page(big_allowlist):
    project, targets = big_allowlist
    scope = project.job_token_scope.get()
    all_ids = sorted([project.id, *targets])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit page must not trigger the warning
        page2 = scope.allowlist.list(page=2, per_page=50)
        last = scope.allowlist.list(page=4, per_page=50)
        beyond = scope.allowlist.list(page=5, per_page=50)
    assert [e.id for e in page2] == all_ids[50:100]
    assert [e.id for e in last] == all_ids[150:]
    assert beyond == []


def test_per_page_above_maximum_is_clamped(big_allowlist):
    # GitLab caps per_page at 100.
    project, _ = big_allowlist
    scope = project.job_token_scope.get()
    it = scope.allowlist.list(iterator=True, per_page=500)
    assert it.per_page == 100
    assert it.total_pages == 2
    assert len(list(it)) == TARGETS + 1


def test_groups_allowlist_get_all(big_groups_allowlist):
    project, groups = big_groups_allowlist
    scope = project.job_token_scope.get()
    entries = scope.groups_allowlist.list(get_all=True)
    ids = [g.id for g in entries]
    assert ids == sorted(groups)  # ordered by group id; every group once

    it = scope.groups_allowlist.list(iterator=True)
    assert (len(it), it.total, it.total_pages, it.per_page) == (GROUPS, GROUPS, 2, 20)
    assert sorted(g.id for g in it) == sorted(groups)

    with pytest.warns(UserWarning, match=r"get_all=True"):
        assert len(scope.groups_allowlist.list()) == 20
    assert [g.id for g in scope.groups_allowlist.list(page=2)] == sorted(groups)[20:]


def test_project_link_limit(factory, many_projects):
    # GitLab allows at most 200 inbound project links per project (the project itself does
    # not count); the 201st is refused.
    targets = many_projects[:TARGETS]
    group = factory.group()
    project = factory.gl.projects.get(factory.project(group).id)
    scope = project.job_token_scope.get()
    for target in targets + [factory.project(group).id for _ in range(200 - TARGETS)]:
        scope.allowlist.create({"target_project_id": target})
    extra = factory.project(group)
    with raises_gitlab(
        GitlabCreateError,
        400,
        "400 Bad request - Validation failed: Source project exceeds the allowable number of "
        "project links in this direction",
    ):
        scope.allowlist.create({"target_project_id": extra.id})
    it = scope.allowlist.list(iterator=True)
    assert it.total == 201  # 200 links plus the project itself


def test_empty_list_headers(factory):
    project = factory.gl.projects.get(factory.project().id)
    it = project.job_token_scope.get().groups_allowlist.list(iterator=True)
    assert (len(it), it.total, it.total_pages, it.current_page, it.next_page) == (0, 0, 1, 1, None)
    assert list(it) == []


def test_invalid_pagination_parameters(big_groups_allowlist):
    project, _ = big_groups_allowlist
    scope = project.job_token_scope.get()
    with raises_gitlab(GitlabListError, 400, "per_page does not have a valid value"):
        scope.groups_allowlist.list(per_page=0)
    with raises_gitlab(GitlabListError, 400, "page does not have a valid value"):
        scope.groups_allowlist.list(page=0)
    with raises_gitlab(GitlabListError, 400, "page is invalid"):
        scope.allowlist.list(page="abc")
