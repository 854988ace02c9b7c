"""The supporting API (users, tokens, groups, projects, members, application settings) driven
through python-gitlab, as the job token scope tests and real clients use it, including how
each of these affects access to the job token scope endpoints.
"""

from __future__ import annotations

import warnings

import pytest
from gitlab import (
    GitlabAuthenticationError,
    GitlabBlockError,
    GitlabCreateError,
    GitlabDeleteError,
    GitlabGetError,
    GitlabRotateError,
    GitlabUpdateError,
)

from helpers import (
    DEVELOPER,
    MAINTAINER,
    MISSING_ID,
    OWNER,
    REPORTER,
    raises_gitlab,
    unique_name,
)

BLOCKED = "403 Forbidden - Your account has been blocked."


def test_root_identity(gl, base_url):
    with warnings.catch_warnings():
        # python-gitlab warns when web_url does not start with the configured URL.
        warnings.simplefilter("error")
        gl.auth()
    assert gl.user.username == "root"
    assert gl.user.is_admin is True
    assert gl.user.web_url == f"{base_url}/root"
    version, revision = gl.version()
    assert version != "unknown" and revision != "unknown"


def test_users_create_get_list_update(gl):
    name = unique_name("alice")
    user = gl.users.create(
        {
            "email": f"{name}@example.com",
            "username": name,
            "name": "Alice E2E",
            "password": "Correct-Horse-Battery-9",
            "skip_confirmation": True,
        }
    )
    assert user.username == name
    assert user.state == "active"

    fetched = gl.users.get(user.id)
    assert (fetched.id, fetched.username, fetched.name) == (user.id, name, "Alice E2E")
    assert fetched.email == f"{name}@example.com"  # admins see the email

    assert [u.id for u in gl.users.list(username=name)] == [user.id]
    assert gl.users.list(username=unique_name("nobody")) == []

    fetched.name = "Alice Renamed"
    fetched.save()  # PUT only the changed attribute; the full user comes back
    assert fetched.name == "Alice Renamed" and fetched.username == name
    assert gl.users.get(user.id).name == "Alice Renamed"


def test_user_create_errors(gl, factory):
    existing = factory.user()
    name = unique_name("dup")
    with raises_gitlab(GitlabCreateError, 409, "Username has already been taken"):
        gl.users.create(
            {
                "email": f"{name}@example.com",
                "username": existing.username,
                "name": "Dup",
                "password": "Correct-Horse-Battery-9",
            }
        )
    with raises_gitlab(
        GitlabCreateError,
        400,
        "password, reset_password, force_random_password are missing, at least one parameter "
        "must be provided",
    ):
        gl.users.create({"email": f"{name}@example.com", "username": name, "name": "No Pw"})
    # Only admins create users.
    with raises_gitlab(GitlabCreateError, 403, "403 Forbidden"):
        existing.gl.users.create(
            {
                "email": f"{name}@example.com",
                "username": name,
                "name": "X",
                "password": "Correct-Horse-Battery-9",
            }
        )


def test_block_and_unblock(gl, factory):
    project = factory.project()
    member = factory.user()
    factory.member(project, member, MAINTAINER)
    member.gl.auth()
    assert member.gl.user.id == member.id
    # While active, the member can use the scope API.
    assert member.gl.projects.get(project.id, lazy=True).job_token_scope.get().inbound_enabled

    user = gl.users.get(member.id)
    assert user.block() is True  # GitLab answers JSON `true`
    assert user.state == "blocked"
    assert gl.users.get(member.id).state == "blocked"

    # The token is still valid, but the account may not use the API.
    with raises_gitlab(GitlabGetError, 403, BLOCKED):
        member.gl.auth()
    with raises_gitlab(GitlabGetError, 403, BLOCKED):
        member.gl.projects.get(project.id, lazy=True).job_token_scope.get()

    assert user.unblock() is True
    assert user.state == "active"
    assert gl.users.get(member.id).state == "active"
    assert member.gl.projects.get(project.id, lazy=True).job_token_scope.get().inbound_enabled


def test_token_self_and_revocation(gl, factory):
    user = factory.user(scopes=["api", "read_user"])
    me = user.gl.personal_access_tokens.get("self")
    assert me.id == user.token_id
    assert me.user_id == user.id
    assert sorted(me.scopes) == ["api", "read_user"]
    assert me.active is True and me.revoked is False
    assert "token" not in me.asdict()  # the secret is only shown at creation

    assert user.token_id in [t.id for t in gl.personal_access_tokens.list(user_id=user.id)]
    assert gl.personal_access_tokens.get(user.token_id).name == me.name

    # Revoke through the object fetched as "self" (DELETE /personal_access_tokens/<id>).
    me.delete()
    with pytest.raises(GitlabAuthenticationError) as info:
        user.gl.auth()
    assert info.value.response_code == 401
    assert gl.personal_access_tokens.get(user.token_id).revoked is True


def test_token_revoked_by_admin_and_self_endpoint(gl, factory):
    user = factory.user()
    second = factory.token(user, ["api"])
    third = factory.token(user, ["api"])
    project = factory.project(gl=user.gl)  # in the user's own namespace

    gl.personal_access_tokens.delete(second.id)  # the administrator revokes it
    with pytest.raises(GitlabAuthenticationError):
        factory.client(second.token).projects.get(project.id, lazy=True).job_token_scope.get()

    factory.client(third.token).personal_access_tokens.delete("self")  # revokes itself
    with pytest.raises(GitlabAuthenticationError):
        factory.client(third.token).auth()

    # The first token is unaffected.
    assert user.gl.projects.get(project.id, lazy=True).job_token_scope.get().inbound_enabled


def test_revoked_token_error_body(factory):
    # GitLab reports a revoked token with an OAuth error body, so python-gitlab's
    # error_message is "invalid_token".
    user = factory.user()
    tok = factory.token(user, ["api"])
    client = factory.client(tok.token)
    client.personal_access_tokens.delete("self")
    with raises_gitlab(GitlabAuthenticationError, 401, "invalid_token") as info:
        client.auth()
    assert b"Token was revoked. You have to re-authorize from the user." in info.value.response_body


def test_token_rotation(gl, factory):
    user = factory.user()
    tok = factory.token(user, ["api"])
    rotated = gl.personal_access_tokens.rotate(tok.id)  # returns the new token as a dict
    assert rotated["id"] != tok.id
    assert rotated["token"] != tok.token
    with pytest.raises(GitlabAuthenticationError):
        factory.client(tok.token).auth()
    fresh = factory.client(rotated["token"])
    fresh.auth()
    assert fresh.user.id == user.id


def test_token_creation_errors(gl, factory):
    user = gl.users.get(factory.user().id)
    with raises_gitlab(GitlabCreateError, 400, "scopes does not have a valid value"):
        user.personal_access_tokens.create({"name": "bad", "scopes": ["no_such_scope"]})


def test_nested_groups(gl, factory):
    top = factory.group()
    sub = factory.group(parent=top)
    leaf = factory.group(parent=sub)
    assert top.parent_id is None
    assert sub.parent_id == top.id
    assert sub.full_path == f"{top.path}/{sub.path}"
    assert leaf.full_path == f"{top.path}/{sub.path}/{leaf.path}"

    # Get by URL-encoded full path.
    assert gl.groups.get(sub.full_path).id == sub.id
    assert gl.groups.get(leaf.full_path).id == leaf.id
    assert [g.id for g in top.subgroups.list(get_all=True)] == [sub.id]
    assert sorted(g.id for g in top.descendant_groups.list(get_all=True)) == sorted(
        [sub.id, leaf.id]
    )
    with raises_gitlab(GitlabGetError, 404, "404 Group Not Found"):
        gl.groups.get(f"{top.full_path}/{unique_name('missing')}")


def test_projects_in_group_and_user_namespace(gl, factory):
    top = factory.group()
    sub = factory.group(parent=top)
    project = factory.project(sub)
    assert project.namespace["id"] == sub.id
    assert project.namespace["kind"] == "group"
    assert project.path_with_namespace == f"{sub.full_path}/{project.path}"
    assert gl.projects.get(project.path_with_namespace).id == project.id
    assert [p.id for p in gl.groups.get(sub.id).projects.list(get_all=True)] == [project.id]

    # A project created by the administrator for a user, in that user's namespace.
    user = factory.user()
    name = unique_name("personal")
    personal = gl.users.get(user.id).projects.create({"name": name})
    assert personal.namespace["kind"] == "user"
    assert personal.path_with_namespace == f"{user.username}/{name}"
    # The user owns it, so they may manage its job token scope.
    scope = user.gl.projects.get(personal.path_with_namespace, lazy=True).job_token_scope.get()
    assert scope.inbound_enabled is True

    # And one the user creates for themselves.
    own = user.gl.projects.create({"name": unique_name("own")})
    assert own.namespace["kind"] == "user"
    assert own.path_with_namespace.startswith(f"{user.username}/")


def test_project_visibility_and_delete(gl, factory):
    user = factory.user()
    public = factory.project(visibility="public")
    private = factory.project(visibility="private")
    assert (public.visibility, private.visibility) == ("public", "private")
    assert user.gl.projects.get(public.id).id == public.id
    with raises_gitlab(GitlabGetError, 404, "404 Project Not Found"):
        user.gl.projects.get(private.id)

    # A deleted project (in a user namespace, so nothing delays the deletion) is gone,
    # also for the scope endpoints.
    doomed = factory.project()
    gl.projects.delete(doomed.id)
    with raises_gitlab(GitlabGetError, 404, "404 Project Not Found"):
        gl.projects.get(doomed.id)
    with raises_gitlab(GitlabGetError, 404, "404 Project Not Found"):
        gl.projects.get(doomed.id, lazy=True).job_token_scope.get()


def test_members_and_inheritance(gl, factory):
    top = factory.group()
    sub = factory.group(parent=top)
    project = factory.project(sub)
    user = factory.user()
    scope_of = lambda: user.gl.projects.get(project.id, lazy=True).job_token_scope  # noqa: E731

    # Not a member: the private project does not exist for them.
    with raises_gitlab(GitlabGetError, 404, "404 Project Not Found"):
        scope_of().get()

    member = factory.member(top, user, DEVELOPER)
    assert (member.id, member.access_level) == (user.id, DEVELOPER)
    assert user.id in [m.id for m in top.members.list(get_all=True)]
    # Inherited, not direct, on the subgroup's project.
    assert user.id not in [m.id for m in project.members.list(get_all=True)]
    inherited = {m.id: m.access_level for m in project.members_all.list(get_all=True)}
    assert inherited[user.id] == DEVELOPER
    assert project.members_all.get(user.id).access_level == DEVELOPER
    with raises_gitlab(GitlabGetError, 404, "404 Not found"):
        project.members.get(user.id)
    # A Developer can see the project but not manage its scope.
    with raises_gitlab(GitlabGetError, 403, "403 Forbidden"):
        scope_of().get()

    # Promote in the top group: Maintainer there is Maintainer on every descendant project.
    member = top.members.get(user.id)
    member.access_level = MAINTAINER
    member.save()
    assert member.access_level == MAINTAINER
    assert top.members.get(user.id).access_level == MAINTAINER
    assert project.members_all.get(user.id).access_level == MAINTAINER
    assert scope_of().get().inbound_enabled is True

    # A direct project membership with a higher level wins in members/all.
    factory.member(project, user, OWNER)
    assert project.members.get(user.id).access_level == OWNER
    assert project.members_all.get(user.id).access_level == OWNER
    project.members.delete(user.id)

    # Removing the group membership removes access again.
    top.members.delete(user.id)
    assert user.id not in [m.id for m in top.members.list(get_all=True)]
    with raises_gitlab(GitlabGetError, 404, "404 Project Not Found"):
        scope_of().get()


def test_member_errors(factory):
    project = factory.project()
    user = factory.user()
    factory.member(project, user, REPORTER)
    with raises_gitlab(GitlabCreateError, 409, "Member already exists"):
        factory.member(project, user, DEVELOPER)
    # A Reporter may not manage members.
    other = factory.user()
    with raises_gitlab(GitlabCreateError, 403, "403 Forbidden"):
        user.gl.projects.get(project.id, lazy=True).members.create(
            {"user_id": other.id, "access_level": int(DEVELOPER)}
        )


def test_application_settings_enforcement(gl, factory):
    """The instance-wide enforcement setting overrides a project's disabled inbound scope.

    The setting is shared by every test, so it is restored in `finally` whatever happens.
    """
    project = factory.project()
    enabled_project = factory.project()
    manager = gl.projects.get(project.id, lazy=True).job_token_scope
    manager.update(new_data={"enabled": False})
    scope = manager.get()
    assert scope.inbound_enabled is False

    settings = gl.settings.get()
    assert settings.enforce_ci_inbound_job_token_scope_enabled is False  # jobscope's default
    try:
        settings.enforce_ci_inbound_job_token_scope_enabled = True
        settings.save()  # PUT {"enforce_ci_inbound_job_token_scope_enabled": true}
        assert settings.enforce_ci_inbound_job_token_scope_enabled is True
        assert gl.settings.get().enforce_ci_inbound_job_token_scope_enabled is True

        scope.refresh()
        assert scope.inbound_enabled is True  # effective value: instance OR project
        assert enabled_project.job_token_scope.get().inbound_enabled is True
    finally:
        restore = gl.settings.get()
        restore.enforce_ci_inbound_job_token_scope_enabled = False
        restore.save()

    assert gl.settings.get().enforce_ci_inbound_job_token_scope_enabled is False
    # The project's own stored value was kept all along.
    scope.refresh()
    assert scope.inbound_enabled is False
    assert enabled_project.job_token_scope.get().inbound_enabled is True


def test_application_settings_update_and_permissions(gl, factory):
    # gl.settings.update(new_data=...) returns the full settings dict.
    current = gl.settings.get().enforce_ci_inbound_job_token_scope_enabled
    result = gl.settings.update(new_data={"enforce_ci_inbound_job_token_scope_enabled": current})
    assert result["enforce_ci_inbound_job_token_scope_enabled"] is current

    # Reading a list-valued attribute makes python-gitlab send it back on the next save (it
    # cannot tell whether the list was mutated); the server must accept it unchanged.
    settings = gl.settings.get()
    levels = settings.restricted_visibility_levels
    settings.enforce_ci_inbound_job_token_scope_enabled = current
    settings.save()
    assert settings.restricted_visibility_levels == levels
    assert settings.enforce_ci_inbound_job_token_scope_enabled is current

    user = factory.user()
    with raises_gitlab(GitlabGetError, 403, "403 Forbidden"):
        user.gl.settings.get()
    with raises_gitlab(GitlabUpdateError, 403, "403 Forbidden"):
        user.gl.settings.update(new_data={"enforce_ci_inbound_job_token_scope_enabled": True})
    assert gl.settings.get().enforce_ci_inbound_job_token_scope_enabled is current


def test_deactivate_and_activate(gl, factory):
    project = factory.project()
    member = factory.user()
    factory.member(project, member, MAINTAINER)
    # Deactivate before the user's token was ever used: GitLab refuses to deactivate users
    # with recent activity.
    user = gl.users.get(member.id)
    assert user.deactivate() is True
    assert user.state == "deactivated"
    assert gl.users.get(member.id).state == "deactivated"
    with pytest.raises(GitlabGetError) as info:
        member.gl.projects.get(project.id, lazy=True).job_token_scope.get()
    assert info.value.response_code == 403
    assert info.value.error_message.startswith(
        "403 Forbidden - Your account has been deactivated by your administrator. "
        "Please log back in from a web browser to reactivate your account at "
    )

    assert user.activate() is True
    assert user.state == "active"
    assert member.gl.projects.get(project.id, lazy=True).job_token_scope.get().inbound_enabled


def test_missing_user(gl):
    with raises_gitlab(GitlabGetError, 404, "404 User Not Found"):
        gl.users.get(MISSING_ID)


def test_project_visibility_capped_by_group(factory):
    # A project may not be more visible than its group; on create GitLab silently lowers it.
    group = factory.group(visibility="private")
    project = factory.project(group, visibility="public")
    assert project.visibility == "private"


def test_block_edge_cases(gl, factory):
    user = gl.users.get(factory.user().id)
    assert user.unblock() is False  # already active: GitLab answers `false`
    assert user.block() is True
    assert user.block() is None  # already blocked: GitLab answers `null`
    assert gl.users.get(user.id).state == "blocked"
    with raises_gitlab(
        GitlabBlockError,
        403,
        "403 Forbidden - The API initiating user cannot be blocked by the API",
    ):
        gl.users.get(gl.users.list(username="root")[0].id, lazy=True).block()


def test_delete_user(gl, factory):
    user = factory.user()
    gl.users.delete(user.id)
    with raises_gitlab(GitlabGetError, 404, "404 User Not Found"):
        gl.users.get(user.id)
    # Their token went with them.
    with pytest.raises(GitlabAuthenticationError):
        user.gl.auth()


def test_token_rotation_errors(gl, factory):
    user = factory.user()
    tok = factory.token(user, ["api"])
    gl.personal_access_tokens.rotate(tok.id)
    with raises_gitlab(GitlabRotateError, 400, "400 Bad request - Token already revoked"):
        gl.personal_access_tokens.rotate(tok.id)
    with raises_gitlab(GitlabDeleteError, 404, "404 Not found"):
        gl.personal_access_tokens.delete(MISSING_ID)


def test_member_errors_detail(factory):
    top = factory.group()
    sub = factory.group(parent=top)
    project = factory.project(sub)
    user = factory.user()
    factory.member(top, user, DEVELOPER)
    # Lower than the inherited level: a model validation error, i.e. a dict message.
    with raises_gitlab(
        GitlabCreateError,
        400,
        {
            "access_level": [
                f"should be greater than or equal to Developer inherited membership from group "
                f"{top.name}"
            ]
        },
    ):
        factory.member(sub, user, REPORTER)
    with raises_gitlab(GitlabCreateError, 400, "access_level does not have a valid value"):
        project.members.create({"user_id": user.id, "access_level": 35})
    with raises_gitlab(GitlabCreateError, 404, "404 User Not Found"):
        project.members.create({"user_id": MISSING_ID, "access_level": int(MAINTAINER)})
    # Members can also be added by username.
    member = project.members.create({"username": user.username, "access_level": int(MAINTAINER)})
    assert (member.id, member.access_level) == (user.id, MAINTAINER)


def test_project_create_errors(gl, factory):
    group = factory.group()
    first = factory.project(group)
    with raises_gitlab(GitlabCreateError, 400, {"path": ["has already been taken"]}):
        gl.projects.create(
            {"name": unique_name("other"), "path": first.path, "namespace_id": group.id}
        )
    with raises_gitlab(GitlabCreateError, 400, {"name": ["has already been taken"]}):
        gl.projects.create(
            {"name": first.name, "path": unique_name("other"), "namespace_id": group.id}
        )
    with raises_gitlab(GitlabCreateError, 400, {"namespace": ["is not valid"]}):
        gl.projects.create({"name": unique_name("p"), "namespace_id": MISSING_ID})


def test_project_duplicate_reports_name_and_path(gl, factory):
    group = factory.group()
    first = factory.project(group)
    with pytest.raises(GitlabCreateError) as info:
        gl.projects.create({"name": first.name, "path": first.path, "namespace_id": group.id})
    assert info.value.response_code == 400
    message = info.value.error_message
    assert message["name"] == ["has already been taken"]
    assert message["path"] == ["has already been taken"]


def test_group_create_errors(gl, factory):
    top = factory.group()
    with raises_gitlab(
        GitlabCreateError, 400, 'Failed to save group {:path=>["has already been taken"]}'
    ):
        gl.groups.create({"name": unique_name("g"), "path": top.path})
    with raises_gitlab(
        GitlabCreateError,
        400,
        'Failed to save group {:visibility_level=>["internal is not allowed since the parent '
        'group has a private visibility."]}',
    ):
        factory.group(parent=top, visibility="internal")


def test_subgroup_names_are_unique_within_parent(gl, factory):
    top = factory.group()
    sub = factory.group(parent=top)
    with raises_gitlab(
        GitlabCreateError, 400, 'Failed to save group {:name=>["has already been taken"]}'
    ):
        gl.groups.create({"name": sub.name, "path": unique_name("sub"), "parent_id": top.id})
