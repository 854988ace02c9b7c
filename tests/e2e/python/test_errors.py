"""How jobscope's error responses surface through python-gitlab's exception classes: the
class, `response_code` and `error_message` (the body's "error" key, else its "message").
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gitlab
import pytest
from gitlab import (
    GitlabAuthenticationError,
    GitlabCreateError,
    GitlabDeleteError,
    GitlabGetError,
    GitlabListError,
    GitlabUpdateError,
)
from gitlab.v4.objects import ProjectJobTokenScope

from conftest import UserHandle
from helpers import (
    DEVELOPER,
    MAINTAINER,
    MISSING_ID,
    REPORTER,
    ROOT_TOKEN,
    gitlab_outcome,
    raises_gitlab,
)

FORBIDDEN = "403 Forbidden"
FORBIDDEN_DELETE = "403 Forbidden - Insufficient permissions to modify the job token scope"
PROJECT_NOT_FOUND = "404 Project Not Found"


@dataclasses.dataclass
class Scene:
    """A private project with one allowlisted project and one allowlisted group, and users
    with various relations to it. Tests must not change it (they create their own projects
    for anything that succeeds)."""

    project: Any
    target: Any  # in the project's allowlist
    group: Any  # in the project's groups allowlist
    developer: UserHandle
    maintainer: UserHandle
    maintainer_read_api: UserHandle  # a Maintainer whose token only has read_api
    outsider: UserHandle  # no membership at all


@pytest.fixture(scope="module")
def scene(factory) -> Scene:
    group = factory.group()
    project = factory.project(group)
    target = factory.project(group)
    allowed_group = factory.group()
    scope = project.job_token_scope.get()
    scope.allowlist.create({"target_project_id": target.id})
    scope.groups_allowlist.create({"target_group_id": allowed_group.id})

    developer = factory.user()
    factory.member(project, developer, DEVELOPER)
    maintainer = factory.user()
    factory.member(project, maintainer, MAINTAINER)
    maintainer_read_api = factory.user(scopes=["read_api"])
    factory.member(project, maintainer_read_api, MAINTAINER)
    outsider = factory.user()
    return Scene(
        project=project,
        target=target,
        group=allowed_group,
        developer=developer,
        maintainer=maintainer,
        maintainer_read_api=maintainer_read_api,
        outsider=outsider,
    )


def _scope_manager(gl, project_id):
    """`project.job_token_scope` for `project_id` as seen by `gl`, without any request."""
    return gl.projects.get(project_id, lazy=True).job_token_scope


def _scope(gl, project_id):
    """A scope object for `project_id` built without a request (GetWithoutIdMixin.get() has no
    `lazy`), so that its allowlist managers and save() can be used by callers who may not
    read the scope itself."""
    return ProjectJobTokenScope(_scope_manager(gl, project_id), {}, lazy=True)


# ---------------------------------------------------------------------------------- 401 --


@pytest.mark.parametrize("token", ["glpat-doesnotexist0000", None], ids=["bad-token", "none"])
def test_unauthenticated(factory, scene, token):
    gl = factory.client(token)
    manager = _scope_manager(gl, scene.project.id)
    scope = _scope(gl, scene.project.id)
    calls = {
        "get": manager.get,
        "update": lambda: manager.update(new_data={"enabled": False}),
        "allowlist.list": scope.allowlist.list,
        "allowlist.create": lambda: scope.allowlist.create({"target_project_id": scene.target.id}),
        "allowlist.delete": lambda: scope.allowlist.delete(scene.target.id),
        "groups_allowlist.list": scope.groups_allowlist.list,
        "groups_allowlist.create": lambda: scope.groups_allowlist.create(
            {"target_group_id": scene.group.id}
        ),
        "groups_allowlist.delete": lambda: scope.groups_allowlist.delete(scene.group.id),
    }
    # 401 is GitlabAuthenticationError for every operation (not a GitlabGetError etc.).
    unauthorized = ("GitlabAuthenticationError", 401, "401 Unauthorized")
    outcomes = {name: gitlab_outcome(call) for name, call in calls.items()}
    assert outcomes == dict.fromkeys(calls, unauthorized)
    # Authentication comes before the project lookup.
    with raises_gitlab(GitlabAuthenticationError, 401, "401 Unauthorized"):
        _scope_manager(gl, MISSING_ID).get()


# ---------------------------------------------------------------------------------- 403 --


def test_developer_is_forbidden(scene):
    gl = scene.developer.gl
    manager = _scope_manager(gl, scene.project.id)
    scope = _scope(gl, scene.project.id)
    with raises_gitlab(GitlabGetError, 403, FORBIDDEN):
        manager.get()
    with raises_gitlab(GitlabUpdateError, 403, FORBIDDEN):
        manager.update(new_data={"enabled": False})
    with raises_gitlab(GitlabListError, 403, FORBIDDEN):
        scope.allowlist.list()
    with raises_gitlab(GitlabCreateError, 403, FORBIDDEN):
        scope.allowlist.create({"target_project_id": scene.target.id})
    with raises_gitlab(GitlabListError, 403, FORBIDDEN):
        scope.groups_allowlist.list()
    with raises_gitlab(GitlabCreateError, 403, FORBIDDEN):
        scope.groups_allowlist.create({"target_group_id": scene.group.id})
    # The DELETE endpoints leave the check to the service, which words it differently.
    with raises_gitlab(GitlabDeleteError, 403, FORBIDDEN_DELETE):
        scope.allowlist.delete(scene.target.id)
    with raises_gitlab(GitlabDeleteError, 403, FORBIDDEN_DELETE):
        scope.groups_allowlist.delete(scene.group.id)


def test_developer_save_is_forbidden(scene):
    # The save() flow. The developer cannot get() the scope, so save a lazy scope object
    # carrying a pending change.
    scope = _scope(scene.developer.gl, scene.project.id)
    scope.enabled = False
    with raises_gitlab(GitlabUpdateError, 403, FORBIDDEN):
        scope.save()
    assert scene.project.job_token_scope.get().inbound_enabled is True  # unchanged


def test_reporter_is_forbidden(factory):
    project = factory.project()
    reporter = factory.user()
    factory.member(project, reporter, REPORTER)
    with raises_gitlab(GitlabGetError, 403, FORBIDDEN):
        _scope_manager(reporter.gl, project.id).get()


@pytest.mark.parametrize("visibility", ["public", "internal"])
def test_non_member_on_visible_project_is_forbidden(factory, visibility):
    # A public or internal project is readable by every (non-external) user, so a non-member
    # gets 403 rather than 404.
    group = factory.group(visibility=visibility)
    project = factory.project(group, visibility=visibility)
    target = factory.project(group, visibility=visibility)
    project.job_token_scope.get().allowlist.create({"target_project_id": target.id})
    outsider = factory.user()
    manager = _scope_manager(outsider.gl, project.id)
    scope = _scope(outsider.gl, project.id)
    with raises_gitlab(GitlabGetError, 403, FORBIDDEN):
        manager.get()
    with raises_gitlab(GitlabUpdateError, 403, FORBIDDEN):
        manager.update(new_data={"enabled": False})
    with raises_gitlab(GitlabListError, 403, FORBIDDEN):
        scope.allowlist.list()
    with raises_gitlab(GitlabCreateError, 403, FORBIDDEN):
        scope.allowlist.create({"target_project_id": target.id})
    with raises_gitlab(GitlabDeleteError, 403, FORBIDDEN_DELETE):
        scope.allowlist.delete(target.id)

    # External users cannot see internal projects at all.
    external = factory.user(external=True)
    if visibility == "internal":
        with raises_gitlab(GitlabGetError, 404, PROJECT_NOT_FOUND):
            _scope_manager(external.gl, project.id).get()
    else:
        with raises_gitlab(GitlabGetError, 403, FORBIDDEN):
            _scope_manager(external.gl, project.id).get()


def test_read_api_token_cannot_write(scene):
    # read_api allows GET only; writes are refused by the token scope check with an OAuth
    # error body ({"error": "insufficient_scope", ...}), whose "error" key python-gitlab uses.
    gl = scene.maintainer_read_api.gl
    manager = _scope_manager(gl, scene.project.id)
    scope = manager.get()  # reading works (the user is a Maintainer)
    assert scope.inbound_enabled is True
    assert {p.id for p in scope.allowlist.list(get_all=True)} == {
        scene.project.id,
        scene.target.id,
    }
    assert [g.id for g in scope.groups_allowlist.list(get_all=True)] == [scene.group.id]

    with raises_gitlab(GitlabUpdateError, 403, "insufficient_scope") as info:
        manager.update(new_data={"enabled": False})
    body = info.value.response_body.decode()
    assert "The request requires higher privileges than provided by the access token." in body
    scope.enabled = False
    with raises_gitlab(GitlabUpdateError, 403, "insufficient_scope"):
        scope.save()
    with raises_gitlab(GitlabCreateError, 403, "insufficient_scope"):
        scope.allowlist.create({"target_project_id": scene.target.id})
    with raises_gitlab(GitlabDeleteError, 403, "insufficient_scope"):
        scope.allowlist.delete(scene.target.id)
    with raises_gitlab(GitlabCreateError, 403, "insufficient_scope"):
        scope.groups_allowlist.create({"target_group_id": scene.group.id})
    with raises_gitlab(GitlabDeleteError, 403, "insufficient_scope"):
        scope.groups_allowlist.delete(scene.group.id)
    assert scene.project.job_token_scope.get().inbound_enabled is True  # nothing changed


# ---------------------------------------------------------------------------------- 404 --


def test_non_member_on_private_project_gets_not_found(scene):
    gl = scene.outsider.gl
    manager = _scope_manager(gl, scene.project.id)
    scope = _scope(gl, scene.project.id)
    with raises_gitlab(GitlabGetError, 404, PROJECT_NOT_FOUND):
        manager.get()
    with raises_gitlab(GitlabUpdateError, 404, PROJECT_NOT_FOUND):
        manager.update(new_data={"enabled": False})
    with raises_gitlab(GitlabListError, 404, PROJECT_NOT_FOUND):
        scope.allowlist.list()
    with raises_gitlab(GitlabCreateError, 404, PROJECT_NOT_FOUND):
        scope.allowlist.create({"target_project_id": scene.target.id})
    with raises_gitlab(GitlabDeleteError, 404, PROJECT_NOT_FOUND):
        scope.allowlist.delete(scene.target.id)
    with raises_gitlab(GitlabListError, 404, PROJECT_NOT_FOUND):
        scope.groups_allowlist.list()
    with raises_gitlab(GitlabCreateError, 404, PROJECT_NOT_FOUND):
        scope.groups_allowlist.create({"target_group_id": scene.group.id})
    with raises_gitlab(GitlabDeleteError, 404, PROJECT_NOT_FOUND):
        scope.groups_allowlist.delete(scene.group.id)


def test_missing_project(gl):
    manager = _scope_manager(gl, MISSING_ID)
    with raises_gitlab(GitlabGetError, 404, PROJECT_NOT_FOUND):
        manager.get()
    with raises_gitlab(GitlabListError, 404, PROJECT_NOT_FOUND):
        _scope(gl, MISSING_ID).allowlist.list()
    with raises_gitlab(GitlabGetError, 404, PROJECT_NOT_FOUND):
        _scope_manager(gl, "no-such-group/no-such-project").get()


def test_missing_targets(gl, scene):
    scope = _scope(gl, scene.project.id)
    with raises_gitlab(GitlabCreateError, 404, "404 target_project_id not found Not Found"):
        scope.allowlist.create({"target_project_id": MISSING_ID})
    with raises_gitlab(GitlabCreateError, 404, "404 target_group_id not found Not Found"):
        scope.groups_allowlist.create({"target_group_id": MISSING_ID})
    # DELETE looks the target up first: a missing project reads like a missing source.
    with raises_gitlab(GitlabDeleteError, 404, PROJECT_NOT_FOUND):
        scope.allowlist.delete(MISSING_ID)
    with raises_gitlab(GitlabDeleteError, 404, "404 target_group_id not found Not Found"):
        scope.groups_allowlist.delete(MISSING_ID)


def test_user_namespace_is_not_a_group(gl, scene):
    # Only groups can be added to the groups allowlist; a user's namespace id is not found.
    user = gl.users.get(scene.outsider.id)
    assert user.namespace_id
    with raises_gitlab(GitlabCreateError, 404, "404 target_group_id not found Not Found"):
        _scope(gl, scene.project.id).groups_allowlist.create({"target_group_id": user.namespace_id})


# ---------------------------------------------------------------------------------- 400 --


def test_add_self(gl, scene):
    with raises_gitlab(
        GitlabCreateError,
        400,
        "400 Bad request - Validation failed: Target project can't be the same as the source "
        "project",
    ):
        _scope(gl, scene.project.id).allowlist.create({"target_project_id": scene.project.id})


def test_remove_self(gl, scene):
    with raises_gitlab(
        GitlabDeleteError,
        400,
        "400 Bad request - Source project cannot be removed from the job token scope",
    ):
        _scope(gl, scene.project.id).allowlist.delete(scene.project.id)
    assert scene.project.id in [p.id for p in scene.project.job_token_scope.get().allowlist.list()]


def test_duplicates(factory):
    project = factory.project()
    target = factory.project()
    group = factory.group()
    scope = project.job_token_scope.get()
    scope.allowlist.create({"target_project_id": target.id})
    scope.groups_allowlist.create({"target_group_id": group.id})
    with raises_gitlab(
        GitlabCreateError,
        400,
        "400 Bad request - This project is already in the job token allowlist.",
    ):
        scope.allowlist.create({"target_project_id": target.id})
    with raises_gitlab(
        GitlabCreateError,
        400,
        "400 Bad request - This group is already in the job token allowlist.",
    ):
        scope.groups_allowlist.create({"target_group_id": group.id})
    assert len(scope.allowlist.list(get_all=True)) == 2
    assert len(scope.groups_allowlist.list(get_all=True)) == 1


def test_remove_entries_not_in_the_list(factory):
    project = factory.project()
    other = factory.project()
    group = factory.group()
    scope = project.job_token_scope.get()
    with raises_gitlab(
        GitlabDeleteError, 400, "400 Bad request - Target project is not in the job token scope"
    ):
        scope.allowlist.delete(other.id)
    with raises_gitlab(
        GitlabDeleteError, 400, "400 Bad request - Target group is not in the job token scope"
    ):
        scope.groups_allowlist.delete(group.id)
    # Removing twice: the second attempt finds nothing.
    scope.allowlist.create({"target_project_id": other.id})
    scope.allowlist.delete(other.id)
    with raises_gitlab(
        GitlabDeleteError, 400, "400 Bad request - Target project is not in the job token scope"
    ):
        scope.allowlist.delete(other.id)


def test_update_parameter_errors(gl, scene):
    manager = _scope_manager(gl, scene.project.id)
    with raises_gitlab(GitlabUpdateError, 400, "enabled is missing"):
        manager.update(new_data={})
    # Only unknown keys: still missing, and nothing changes.
    with raises_gitlab(GitlabUpdateError, 400, "enabled is missing"):
        manager.update(new_data={"outbound_enabled": True})
    with raises_gitlab(GitlabUpdateError, 400, "enabled is invalid"):
        manager.update(new_data={"enabled": 123})
    assert manager.get().asdict() == {"inbound_enabled": True, "outbound_enabled": False}


def test_create_parameter_errors(gl, scene):
    scope = _scope(gl, scene.project.id)
    # python-gitlab itself refuses a create without the required attribute ...
    with pytest.raises(AttributeError, match="target_project_id"):
        scope.allowlist.create({})
    with pytest.raises(AttributeError, match="target_group_id"):
        scope.groups_allowlist.create({"target_project_id": scene.target.id})
    # ... but passes through values of the wrong type.
    with raises_gitlab(GitlabCreateError, 400, "target_project_id is invalid"):
        scope.allowlist.create({"target_project_id": "abc"})
    with raises_gitlab(GitlabCreateError, 400, "target_group_id is invalid"):
        scope.groups_allowlist.create({"target_group_id": "abc"})


def test_unreadable_targets(factory, scene):
    # A Maintainer of the source may only add targets they can read. GitLab answers 400 for
    # an existing target the caller cannot read and 404 for a missing one, which tells them
    # that it exists; jobscope answers both with the 404 (security requirement C1.5,
    # docs/compatibility.md). Removing keeps GitLab's 403.
    scope = _scope(scene.maintainer.gl, scene.project.id)
    hidden_project = factory.project()
    hidden_group = factory.group()
    with raises_gitlab(
        GitlabCreateError,
        404,
        "404 target_project_id not found Not Found",
    ):
        scope.allowlist.create({"target_project_id": hidden_project.id})
    with raises_gitlab(
        GitlabCreateError,
        404,
        "404 target_group_id not found Not Found",
    ):
        scope.groups_allowlist.create({"target_group_id": hidden_group.id})
    # The scene's target lives in a private group the maintainer is not a member of either.
    with raises_gitlab(
        GitlabDeleteError,
        403,
        "403 Forbidden - The target_project that you are attempting to access does not exist "
        "or you don't have permission to perform this action",
    ):
        scope.allowlist.delete(scene.target.id)


def test_maintainer_can_manage(factory):
    # The positive counterpart: a Maintainer with an api token can do everything, with
    # targets they can read (here: public ones).
    project = factory.project()
    maintainer = factory.user()
    factory.member(project, maintainer, MAINTAINER)
    target = factory.project(visibility="public")
    group = factory.group(visibility="public")

    manager = _scope_manager(maintainer.gl, project.id)
    scope = manager.get()
    scope.enabled = False
    scope.save()
    scope.refresh()
    assert scope.inbound_enabled is False
    scope.allowlist.create({"target_project_id": target.id})
    scope.groups_allowlist.create({"target_group_id": group.id})
    assert {p.id for p in scope.allowlist.list(get_all=True)} == {project.id, target.id}
    assert [g.id for g in scope.groups_allowlist.list(get_all=True)] == [group.id]
    scope.allowlist.delete(target.id)
    scope.groups_allowlist.delete(group.id)
    assert [p.id for p in scope.allowlist.list(get_all=True)] == [project.id]
    assert scope.groups_allowlist.list(get_all=True) == []


def test_path_id_on_write_endpoints_is_invalid(factory):
    # GitLab declares :id as an Integer on the POST and DELETE allowlist routes, so a
    # URL-encoded path there is a parameter error (the reads and PATCH accept paths).
    group = factory.group()
    project = factory.project(group)
    target = factory.project(group)
    by_path = factory.gl.projects.get(project.path_with_namespace, lazy=True)
    scope = _scope(factory.gl, by_path.id)  # id is the encoded path, e.g. "g%2Fp"
    with raises_gitlab(GitlabCreateError, 400, "id is invalid"):
        scope.allowlist.create({"target_project_id": target.id})
    with raises_gitlab(GitlabDeleteError, 400, "id is invalid"):
        scope.allowlist.delete(target.id)
    with raises_gitlab(GitlabCreateError, 400, "id is invalid"):
        scope.groups_allowlist.create({"target_group_id": group.id})
    with raises_gitlab(GitlabDeleteError, 400, "id is invalid"):
        scope.groups_allowlist.delete(group.id)
    # The same calls by numeric id work.
    scope = _scope(factory.gl, project.id)
    scope.allowlist.create({"target_project_id": target.id})
    scope.allowlist.delete(target.id)


# ------------------------------------------------------------------ other credentials --


def test_job_token_header_is_not_accepted(factory, scene):
    # The scope endpoints are not job-token routes: a JOB-TOKEN header is ignored, even one
    # carrying a valid personal access token.
    job = gitlab.Gitlab(factory.base_url, job_token=ROOT_TOKEN)
    with raises_gitlab(GitlabAuthenticationError, 401, "401 Unauthorized"):
        _scope_manager(job, scene.project.id).get()


def test_bearer_personal_access_token_is_accepted(factory, scene):
    # `Authorization: Bearer <PAT>` (python-gitlab's oauth_token=) works like PRIVATE-TOKEN.
    bearer = gitlab.Gitlab(factory.base_url, oauth_token=scene.maintainer.token)
    assert _scope_manager(bearer, scene.project.id).get().inbound_enabled is True


def test_expired_token(factory, scene):
    # A token whose expiry date has passed is refused with an OAuth error body.
    tok = factory.token(scene.maintainer, ["api"], expires_at="2020-01-01")
    with raises_gitlab(GitlabAuthenticationError, 401, "invalid_token") as info:
        _scope_manager(factory.client(tok.token), scene.project.id).get()
    assert b"Token is expired." in info.value.response_body


def test_read_user_token_cannot_read_scope(factory, scene):
    tok = factory.token(scene.maintainer, ["read_user"])
    with raises_gitlab(GitlabGetError, 403, "insufficient_scope"):
        _scope_manager(factory.client(tok.token), scene.project.id).get()


def test_sudo(gl, scene):
    # Root impersonating the Developer gets the Developer's answer ...
    manager = _scope_manager(gl, scene.project.id)
    with raises_gitlab(GitlabGetError, 403, FORBIDDEN):
        manager.get(sudo=scene.developer.username)
    assert manager.get(sudo=scene.maintainer.username).inbound_enabled is True
    # ... while a non-admin may not impersonate anyone.
    with raises_gitlab(GitlabGetError, 403, "403 Forbidden - Must be admin to use sudo"):
        _scope_manager(scene.maintainer.gl, scene.project.id).get(sudo="root")


def test_admin_manages_any_project(gl, factory):
    # Root is no member of a project a user created in their own namespace, but as an
    # administrator may manage its scope.
    user = factory.user()
    project = factory.project(gl=user.gl)
    manager = _scope_manager(gl, project.id)
    manager.update(new_data={"enabled": False})
    assert manager.get().inbound_enabled is False
    assert [p.id for p in _scope(gl, project.id).allowlist.list()] == [project.id]


# ----------------------------------------------------------------- target visibility --


def test_target_visibility_rules(factory):
    # Public targets can be added by anyone who manages the source, internal ones by any
    # non-external user; private ones need membership (see test_unreadable_targets).
    project = factory.project()
    internal_group = factory.group(visibility="internal")
    internal_project = factory.project(internal_group, visibility="internal")

    regular = factory.user()
    factory.member(project, regular, MAINTAINER)
    scope = _scope(regular.gl, project.id)
    scope.allowlist.create({"target_project_id": internal_project.id})
    scope.groups_allowlist.create({"target_group_id": internal_group.id})

    other = factory.project()
    external = factory.user(external=True)
    factory.member(other, external, MAINTAINER)
    scope = _scope(external.gl, other.id)
    with raises_gitlab(
        GitlabCreateError,
        404,
        "404 target_project_id not found Not Found",
    ):
        scope.allowlist.create({"target_project_id": internal_project.id})
    with raises_gitlab(
        GitlabCreateError,
        404,
        "404 target_group_id not found Not Found",
    ):
        scope.groups_allowlist.create({"target_group_id": internal_group.id})


def test_removing_unreadable_group_is_allowed(factory):
    # Unlike projects, removing a group from the groups allowlist does not check that the
    # caller can read the group.
    project = factory.project()
    hidden_group = factory.group()
    project.job_token_scope.get().groups_allowlist.create({"target_group_id": hidden_group.id})
    maintainer = factory.user()
    factory.member(project, maintainer, MAINTAINER)
    scope = _scope(maintainer.gl, project.id)
    assert [g.id for g in scope.groups_allowlist.list()] == [hidden_group.id]
    scope.groups_allowlist.delete(hidden_group.id)
    assert scope.groups_allowlist.list() == []


# ------------------------------------------------------------- parameter validation --


def test_target_id_coercion_and_validation(gl, factory):
    project = factory.project()
    target = factory.project()
    group = factory.group()
    scope = _scope(gl, project.id)
    # Integer parameters accept numeric strings; the answer carries integers.
    created = scope.allowlist.create({"target_project_id": str(target.id)})
    assert created.asdict() == {"source_project_id": project.id, "target_project_id": target.id}
    created = scope.groups_allowlist.create({"target_group_id": str(group.id)})
    assert created.asdict() == {"source_project_id": project.id, "target_group_id": group.id}

    with raises_gitlab(GitlabCreateError, 400, "target_project_id is invalid"):
        scope.allowlist.create({"target_project_id": 1.5})
    # null / "" are rejected by the parameter validation too. GitLab's exact wording for
    # these ("is empty" or "is missing") is not pinned down, so only the status is checked.
    for value in (None, ""):
        with pytest.raises(GitlabCreateError) as info:
            scope.allowlist.create({"target_project_id": value})
        assert info.value.response_code == 400
        assert info.value.error_message.startswith("target_project_id is ")
    # Ids that cannot exist are simply not found.
    for value in (0, -1):
        with raises_gitlab(GitlabCreateError, 404, "404 target_project_id not found Not Found"):
            scope.allowlist.create({"target_project_id": value})

    with raises_gitlab(GitlabDeleteError, 400, "target_project_id is invalid"):
        scope.allowlist.delete("abc")
    with raises_gitlab(GitlabDeleteError, 400, "target_group_id is invalid"):
        scope.groups_allowlist.delete("abc")


def test_enabled_validation(gl, scene):
    manager = _scope_manager(gl, scene.project.id)
    with raises_gitlab(GitlabUpdateError, 400, "enabled is invalid"):
        manager.update(new_data={"enabled": "maybe"})
    for value in (None, ""):
        with pytest.raises(GitlabUpdateError) as info:
            manager.update(new_data={"enabled": value})
        assert info.value.response_code == 400
        assert info.value.error_message.startswith("enabled is ")
    assert manager.get().inbound_enabled is True


# ---------------------------------------------------------------- order of the checks --


def test_check_order(factory, scene):
    missing_body = {}
    # 401 before parameter validation.
    with raises_gitlab(GitlabAuthenticationError, 401, "401 Unauthorized"):
        _scope_manager(factory.client(None), scene.project.id).update(new_data=missing_body)
    # Parameter validation before the project lookup and the role check (a non-member gets
    # 400, not 404; a Developer 400, not 403).
    with raises_gitlab(GitlabUpdateError, 400, "enabled is missing"):
        _scope_manager(scene.outsider.gl, scene.project.id).update(new_data=missing_body)
    with raises_gitlab(GitlabUpdateError, 400, "enabled is missing"):
        _scope_manager(scene.developer.gl, scene.project.id).update(new_data=missing_body)
    # POST: the role check comes before the target lookup.
    with raises_gitlab(GitlabCreateError, 403, FORBIDDEN):
        _scope(scene.developer.gl, scene.project.id).allowlist.create(
            {"target_project_id": MISSING_ID}
        )
    # DELETE looks the target up first, before the source project and the role.
    with raises_gitlab(GitlabDeleteError, 404, "404 target_group_id not found Not Found"):
        _scope(scene.outsider.gl, scene.project.id).groups_allowlist.delete(MISSING_ID)
    with raises_gitlab(GitlabDeleteError, 404, "404 target_group_id not found Not Found"):
        _scope(scene.developer.gl, scene.project.id).groups_allowlist.delete(MISSING_ID)
    with raises_gitlab(GitlabDeleteError, 404, PROJECT_NOT_FOUND):
        _scope(scene.developer.gl, scene.project.id).allowlist.delete(MISSING_ID)
