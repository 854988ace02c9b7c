"""Every code example of python-gitlab's job token scope documentation
(docs/gl_objects/job_token_scope.rst, python-gitlab 8.6.0), run against jobscope with its
effects asserted. Each test names the example it covers.
"""

from __future__ import annotations

import requests

from helpers import unique_name


def _project_pair(factory):
    """A source project (as a full `gl.projects.get()` object, like the docs assume) and a
    target project in the same fresh group."""
    group = factory.group()
    source = factory.project(group)
    target = factory.project(group)
    return factory.gl.projects.get(source.id), target


def test_get_scope(factory):
    # scope = project.job_token_scope.get(); print(scope.inbound_enabled)  # True
    project = factory.gl.projects.get(factory.project().id)
    scope = project.job_token_scope.get()
    assert scope.inbound_enabled is True  # new projects have the inbound allowlist on
    assert scope.outbound_enabled is False
    assert scope.get_id() is None  # the scope has no id of its own
    # GitLab answers with exactly these two fields; no project_id that could redirect the
    # allowlist managers' paths.
    assert scope.asdict() == {"inbound_enabled": True, "outbound_enabled": False}


def test_save_then_refresh(factory):
    # scope.enabled = False; scope.save()  ...  scope.refresh(); print(scope.inbound_enabled)
    project = factory.gl.projects.get(factory.project().id)
    scope = project.job_token_scope.get()
    assert scope.inbound_enabled is True

    scope.enabled = False
    scope.save()  # PATCH {"enabled": false}; GitLab answers 204 without a body
    scope.refresh()
    assert scope.inbound_enabled is False
    # A freshly fetched object agrees, so the change was stored.
    assert project.job_token_scope.get().inbound_enabled is False

    scope.enabled = True
    scope.save()
    scope.refresh()
    assert scope.inbound_enabled is True


def test_update_with_new_data(factory):
    # project.job_token_scope.update(new_data={"enabled": True})
    project = factory.gl.projects.get(factory.project().id)
    result = project.job_token_scope.update(new_data={"enabled": False})
    # With GitLab's 204 No Content, python-gitlab hands back the raw response.
    assert isinstance(result, requests.Response)
    assert result.status_code == 204
    assert project.job_token_scope.get().inbound_enabled is False

    project.job_token_scope.update(new_data={"enabled": True})
    assert project.job_token_scope.get().inbound_enabled is True


def test_refresh_sees_changes_made_elsewhere(factory):
    # scope.refresh(); print(scope.inbound_enabled)  # False -- after an update made through
    # the manager rather than through this object.
    project = factory.gl.projects.get(factory.project().id)
    scope = project.job_token_scope.get()
    assert scope.inbound_enabled is True
    project.job_token_scope.update(new_data={"enabled": False})
    assert scope.inbound_enabled is True  # stale until refreshed
    scope.refresh()
    assert scope.inbound_enabled is False


def test_allowlist_list_get_all(factory):
    # allowlist = scope.allowlist.list(get_all=True)
    project, target = _project_pair(factory)
    scope = project.job_token_scope.get()
    allowlist = scope.allowlist.list(get_all=True)
    # The project itself is always in its own allowlist.
    assert [p.id for p in allowlist] == [project.id]
    assert allowlist[0].get_id() == project.id
    assert allowlist[0].path_with_namespace == project.path_with_namespace

    scope.allowlist.create({"target_project_id": target.id})
    allowlist = scope.allowlist.list(get_all=True)
    assert sorted(p.id for p in allowlist) == sorted([project.id, target.id])
    assert {p.name for p in allowlist} == {project.name, target.name}


def test_allowlist_create(factory):
    # allowed_project = scope.allowlist.create({"target_project_id": 42})
    project, target = _project_pair(factory)
    scope = project.job_token_scope.get()
    allowed_project = scope.allowlist.create({"target_project_id": target.id})
    assert allowed_project.get_id() == target.id
    # GitLab's 201 body is exactly the two ids (the upstream functional test asserts both).
    assert allowed_project.asdict() == {
        "source_project_id": project.id,
        "target_project_id": target.id,
    }
    assert target.id in [p.id for p in scope.allowlist.list(get_all=True)]


def test_allowlist_delete_created_object(factory):
    # allowed_project.delete()
    project, target = _project_pair(factory)
    scope = project.job_token_scope.get()
    allowed_project = scope.allowlist.create({"target_project_id": target.id})
    allowed_project.delete()  # DELETE .../allowlist/<target_project_id>
    assert [p.id for p in scope.allowlist.list(get_all=True)] == [project.id]


def test_allowlist_delete_listed_object(factory):
    # The same object delete, on an entry obtained from list() (whose id is `id`).
    project, target = _project_pair(factory)
    scope = project.job_token_scope.get()
    scope.allowlist.create({"target_project_id": target.id})
    [entry] = [p for p in scope.allowlist.list(get_all=True) if p.id == target.id]
    entry.delete()
    assert [p.id for p in scope.allowlist.list(get_all=True)] == [project.id]


def test_allowlist_delete_by_id(factory):
    # scope.allowlist.delete(42)
    project, target = _project_pair(factory)
    scope = project.job_token_scope.get()
    scope.allowlist.create({"target_project_id": target.id})
    scope.allowlist.delete(target.id)
    assert [p.id for p in scope.allowlist.list(get_all=True)] == [project.id]


def test_allowlist_get_id(factory):
    # resp = allowlist.create({"target_project_id": 2}); allowlist_id = resp.get_id()
    # for allowlist in project.allowlist.list(iterator=True): allowlist_id == allowlist.get_id()
    #
    # The documented loop is broken as written: a Project has no `allowlist` attribute (the
    # manager lives on the scope object), so the working form `scope.allowlist` is used.
    project, target = _project_pair(factory)
    assert not hasattr(project, "allowlist")
    scope = project.job_token_scope.get()
    allowlist = scope.allowlist

    resp = allowlist.create({"target_project_id": target.id})
    allowlist_id = resp.get_id()
    assert allowlist_id == target.id

    seen = []
    for entry in scope.allowlist.list(iterator=True):
        assert entry.get_id() == entry.id  # list items are plain projects
        seen.append(entry.get_id())
    assert allowlist_id in seen
    assert sorted(seen) == sorted([project.id, target.id])


def test_groups_allowlist_list_get_all(factory):
    # allowlist = scope.groups_allowlist.list(get_all=True)
    project = factory.gl.projects.get(factory.project().id)
    scope = project.job_token_scope.get()
    assert scope.groups_allowlist.list(get_all=True) == []

    group = factory.group()
    scope.groups_allowlist.create({"target_group_id": group.id})
    [entry] = scope.groups_allowlist.list(get_all=True)
    assert entry.get_id() == entry.id == group.id
    assert entry.name == group.name
    # GitLab's BasicGroupDetails (id, web_url, name), then jobscope's entry fields.
    data = entry.asdict()
    assert list(data)[:3] == ["id", "web_url", "name"]
    assert data["web_url"] == f"{factory.base_url}/groups/{group.full_path}"
    assert data["default_permissions"] is True
    assert data["job_token_policies"] == []
    assert data["autopopulated"] is False


def test_groups_allowlist_create(factory):
    # allowed_group = scope.groups_allowlist.create({"target_group_id": 42})
    project = factory.gl.projects.get(factory.project().id)
    group = factory.group()
    scope = project.job_token_scope.get()
    allowed_group = scope.groups_allowlist.create({"target_group_id": group.id})
    assert allowed_group.get_id() == group.id
    assert allowed_group.asdict() == {"source_project_id": project.id, "target_group_id": group.id}


def test_groups_allowlist_delete_created_object(factory):
    # allowed_group.delete()
    project = factory.gl.projects.get(factory.project().id)
    group = factory.group()
    scope = project.job_token_scope.get()
    allowed_group = scope.groups_allowlist.create({"target_group_id": group.id})
    allowed_group.delete()
    assert scope.groups_allowlist.list(get_all=True) == []


def test_groups_allowlist_delete_by_id(factory):
    # scope.groups_allowlist.delete(42)
    project = factory.gl.projects.get(factory.project().id)
    keep, drop = factory.group(), factory.group()
    scope = project.job_token_scope.get()
    scope.groups_allowlist.create({"target_group_id": keep.id})
    scope.groups_allowlist.create({"target_group_id": drop.id})
    scope.groups_allowlist.delete(drop.id)
    assert [g.id for g in scope.groups_allowlist.list(get_all=True)] == [keep.id]


def test_groups_allowlist_get_id(factory):
    # The .get_id() advice for groups: create and list objects agree on the group id.
    project = factory.gl.projects.get(factory.project().id)
    groups = [factory.group() for _ in range(2)]
    scope = project.job_token_scope.get()
    created = [scope.groups_allowlist.create({"target_group_id": g.id}).get_id() for g in groups]
    listed = [g.get_id() for g in scope.groups_allowlist.list(iterator=True)]
    assert created == [g.id for g in groups]
    assert sorted(listed) == sorted(created)


def test_upstream_functional_flow(factory):
    # The shape of python-gitlab's own functional test: projects created with only a name,
    # groups with name and path; names found in the lists; entries gone after delete.
    gl = factory.gl
    project = gl.projects.create({"name": unique_name("fn-src")})
    other = gl.projects.create({"name": unique_name("fn-dst")})
    name = unique_name("fn-group")
    group = gl.groups.create({"name": name, "path": name})
    scope = project.job_token_scope.get()

    scope.enabled = True
    scope.save()
    scope.refresh()
    assert scope.inbound_enabled

    resp = scope.allowlist.create({"target_project_id": other.id})
    assert resp.source_project_id == project.id
    assert resp.target_project_id == other.id
    assert any(a.name == other.name for a in scope.allowlist.list())
    scope.allowlist.delete(other.id)
    assert not any(a.id == other.id for a in scope.allowlist.list())

    resp = scope.groups_allowlist.create({"target_group_id": group.id})
    assert resp.source_project_id == project.id
    assert resp.target_group_id == group.id
    assert any(g.name == group.name for g in scope.groups_allowlist.list())
    scope.groups_allowlist.delete(group.id)
    assert not any(g.id == group.id for g in scope.groups_allowlist.list())
