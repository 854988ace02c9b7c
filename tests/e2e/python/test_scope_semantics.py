"""Job token scope semantics beyond the doc examples: defaults, the project in its own
allowlist, entity shapes, boolean coercion of `enabled`, and addressing projects by their
URL-encoded full path.
"""

from __future__ import annotations

import pytest

from helpers import unique_name


def test_new_project_defaults(factory):
    project = factory.project()
    scope = project.job_token_scope.get()
    assert (scope.inbound_enabled, scope.outbound_enabled) == (True, False)
    assert [p.id for p in scope.allowlist.list(get_all=True)] == [project.id]
    assert scope.groups_allowlist.list(get_all=True) == []


def test_self_is_listed_in_id_order(factory):
    # The project itself is not necessarily first: the whole list is ordered by id.
    group = factory.group()
    older = factory.project(group)
    project = factory.project(group)
    newer = factory.project(group)
    scope = project.job_token_scope.get()
    scope.allowlist.create({"target_project_id": newer.id})
    scope.allowlist.create({"target_project_id": older.id})
    assert [p.id for p in scope.allowlist.list(get_all=True)] == [older.id, project.id, newer.id]
    it = scope.allowlist.list(iterator=True)
    assert it.total == 3  # X-Total counts the project itself


def test_allowlist_survives_disabling(factory):
    # With the inbound scope off the allowlist is still kept, listed and editable; it just
    # has no effect until the scope is enabled again.
    group = factory.group()
    project = factory.project(group)
    first, second = factory.project(group), factory.project(group)
    manager = project.job_token_scope
    scope = manager.get()
    scope.allowlist.create({"target_project_id": first.id})

    manager.update(new_data={"enabled": False})
    scope.refresh()
    assert scope.inbound_enabled is False
    assert {p.id for p in scope.allowlist.list(get_all=True)} == {project.id, first.id}
    scope.allowlist.create({"target_project_id": second.id})
    scope.allowlist.delete(first.id)

    manager.update(new_data={"enabled": True})
    assert {p.id for p in manager.get().allowlist.list(get_all=True)} == {project.id, second.id}


def test_disabling_affects_only_that_project(factory):
    a, b = factory.project(), factory.project()
    a.job_token_scope.update(new_data={"enabled": False})
    assert a.job_token_scope.get().inbound_enabled is False
    assert b.job_token_scope.get().inbound_enabled is True


@pytest.mark.parametrize(
    "value, expected",
    [(False, False), (True, True), ("false", False), ("true", True), ("0", False), ("1", True)],
)
def test_enabled_boolean_coercion(factory, value, expected):
    # GitLab coerces the usual boolean spellings; python-gitlab passes values through as-is.
    project = factory.project()
    project.job_token_scope.update(new_data={"enabled": not expected})
    project.job_token_scope.update(new_data={"enabled": value})
    assert project.job_token_scope.get().inbound_enabled is expected


def test_outbound_cannot_be_changed(factory):
    # Only `enabled` (inbound) is read; the deprecated outbound flag stays off.
    project = factory.project()
    project.job_token_scope.update(new_data={"enabled": True, "outbound_enabled": True})
    project.job_token_scope.update(new_data={"enabled": True, "job_token_scope_enabled": True})
    assert project.job_token_scope.get().outbound_enabled is False


def test_allowlist_entry_shape(factory, base_url):
    group = factory.group()
    project = factory.project(group)
    scope = project.job_token_scope.get()
    entries = {p.id: p for p in scope.allowlist.list(get_all=True)}
    entry = entries[project.id]
    # GitLab's BasicProjectDetails fields (default_branch, readme_url and forks_count depend
    # on repository access, so they are not required here).
    required = {
        "id", "description", "name", "name_with_namespace", "path", "path_with_namespace",
        "created_at", "tag_list", "topics", "ssh_url_to_repo", "http_url_to_repo", "web_url",
        "avatar_url", "star_count", "last_activity_at", "namespace",
    }  # fmt: skip
    assert required <= set(entry.asdict())
    assert entry.path_with_namespace == f"{group.full_path}/{project.path}"
    assert entry.web_url == f"{base_url}/{entry.path_with_namespace}"
    assert entry.http_url_to_repo == f"{base_url}/{entry.path_with_namespace}.git"
    ns = entry.namespace
    assert {k: ns[k] for k in ("id", "path", "kind", "full_path", "parent_id")} == {
        "id": group.id,
        "path": group.path,
        "kind": "group",
        "full_path": group.full_path,
        "parent_id": None,
    }
    assert ns["web_url"] == f"{base_url}/groups/{group.full_path}"


def test_user_namespace_entry_shape(gl, factory, base_url):
    user = factory.user()
    personal = gl.users.get(user.id).projects.create({"name": unique_name("personal")})
    project = factory.project()
    scope = project.job_token_scope.get()
    scope.allowlist.create({"target_project_id": personal.id})
    [entry] = [p for p in scope.allowlist.list(get_all=True) if p.id == personal.id]
    assert entry.namespace["kind"] == "user"
    assert entry.namespace["full_path"] == user.username
    assert entry.namespace["web_url"] == f"{base_url}/{user.username}"


class TestPaths:
    """`gl.projects.get("group/sub/project", lazy=True)` sends the URL-encoded path
    (`group%2Fsub%2Fproject`) in every sub-resource URL."""

    @pytest.fixture
    def nested(self, factory):
        top = factory.group()
        sub = factory.group(parent=top)
        project = factory.project(sub)
        return project, f"{top.path}/{sub.path}/{project.path}"

    def test_get_by_path(self, gl, nested):
        project, path = nested
        assert project.path_with_namespace == path
        lazy = gl.projects.get(path, lazy=True)
        assert lazy.id == path.replace("/", "%2F")  # nothing was fetched
        scope = lazy.job_token_scope.get()
        assert (scope.inbound_enabled, scope.outbound_enabled) == (True, False)

    def test_update_by_path(self, gl, nested):
        project, path = nested
        manager = gl.projects.get(path, lazy=True).job_token_scope
        manager.update(new_data={"enabled": False})
        assert gl.projects.get(project.id).job_token_scope.get().inbound_enabled is False
        scope = manager.get()
        scope.enabled = True
        scope.save()
        scope.refresh()
        assert scope.inbound_enabled is True

    def test_lists_by_path(self, gl, factory, nested):
        project, path = nested
        target, group = factory.project(), factory.group()
        by_id = project.job_token_scope.get()
        by_id.allowlist.create({"target_project_id": target.id})
        by_id.groups_allowlist.create({"target_group_id": group.id})

        scope = gl.projects.get(path, lazy=True).job_token_scope.get()
        assert sorted(p.id for p in scope.allowlist.list(get_all=True)) == sorted(
            [project.id, target.id]
        )
        assert [g.id for g in scope.groups_allowlist.list(get_all=True)] == [group.id]
        it = scope.allowlist.list(iterator=True, per_page=1)
        assert (it.total, it.total_pages) == (2, 2)
        assert len(list(it)) == 2  # the Link to page 2 keeps the encoded path working

    def test_path_is_case_insensitive(self, gl, nested):
        project, path = nested
        scope = gl.projects.get(path.upper(), lazy=True).job_token_scope.get()
        assert scope.inbound_enabled is True

    def test_non_lazy_get_uses_numeric_id(self, gl, factory, nested):
        # A non-lazy get resolves the path once; later calls use the numeric id, so even the
        # integer-only POST/DELETE routes work.
        project, path = nested
        resolved = gl.projects.get(path)
        assert resolved.id == project.id
        target = factory.project()
        scope = resolved.job_token_scope.get()
        scope.allowlist.create({"target_project_id": target.id}).delete()
