//! What the OpenAPI document says of each route (`openapi.rs` builds it): one function per
//! line of the `routes!` table, named after its method and path. Parameters are the ones the
//! handler reads through `Check`; the success answer names its wire type.

use jobscope_types::api::{
    AllowlistEntry, AllowlistGroup, AllowlistGroupCreated, AllowlistProject,
    AllowlistProjectCreated, ApplicationSettings, AuditEvent, AuthLog, Autopopulation,
    BasicProject, CiJob, Group, JobTokenDecision, JobTokenScope, Member, PersonalAccessToken,
    Project, ReachableProject, User, Version,
};
use jobscope_types::policies::JOB_TOKEN_POLICIES;
use schemars::generate::SchemaGenerator;
use schemars::{Schema, json_schema};

use crate::auth::scopes::AVAILABLE_SCOPES;
use crate::openapi::{
    Auth, EMAIL_PATTERN, NAME_PATTERN, Op, PATH_PATTERN, Success, Ty, opt, req, schema,
};

const VISIBILITY: Ty = Ty::OneOf(&["private", "internal", "public"]);
const LEVEL: Ty = Ty::IntOf(&[10, 15, 20, 30, 40, 50]);
const SORT: Ty = Ty::OneOf(&["asc", "desc"]);
const POLICIES: Ty = Ty::List(Some(JOB_TOKEN_POLICIES));
const NAME: Ty = Ty::Matching(NAME_PATTERN);
const PATH: Ty = Ty::Matching(PATH_PATTERN);
const EMAIL: Ty = Ty::Matching(EMAIL_PATTERN);

/// `true`, `false` or `null`: the answers of block, unblock, activate and deactivate.
fn json_literal(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": ["boolean", "null"]})
}

/// `{"message": "202 Accepted"}`: deletion is scheduled.
fn accepted(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
    })
}

/// GitLab's Job entity as `GET /job` shows it (no pipeline details).
fn job_entity(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "name": {"type": "string"},
            "ref": {"type": "string"},
            "web_url": {"type": "string"},
            "user": {"type": "object"},
        },
        "required": ["id", "status", "name", "ref", "web_url", "user"],
    })
}

/// `/projects` lists: Project, or BasicProject with `simple=true`.
fn project_or_basic(g: &mut SchemaGenerator) -> Schema {
    let project = g.subschema_for::<Project>();
    let basic = g.subschema_for::<BasicProject>();
    json_schema!({"anyOf": [project, basic]})
}

// Links from a created object's answer to the operations on it.
const BODY_ID: &[(&str, &str)] = &[("id", "$response.body#/id")];
const BODY_USER: &[(&str, &str)] = &[("user_id", "$response.body#/id")];
const MEMBER: &[(&str, &str)] = &[
    ("id", "$request.path.id"),
    ("user_id", "$response.body#/id"),
];
const PATH_ID: &[(&str, &str)] = &[("id", "$request.path.id")];

// --- meta ---------------------------------------------------------------------------------

pub fn get_version() -> Op {
    Op::new(
        "The GitLab version whose API is served",
        Success::Body(200, schema::<Version>),
    )
}

pub fn get_metadata() -> Op {
    Op::new("Same as /version", Success::Body(200, schema::<Version>))
}

pub fn get_user() -> Op {
    Op::new("The authenticated user", Success::Body(200, schema::<User>))
}

// --- users --------------------------------------------------------------------------------

pub fn get_users() -> Op {
    Op::new("List users", Success::List(schema::<User>))
        .auth(Auth::Optional)
        .paged()
        .params(&[
            opt("username", Ty::Str, "exact username"),
            opt("search", Ty::Str, "part of the name, username or email"),
            opt("active", Ty::Bool, ""),
            opt("blocked", Ty::Bool, ""),
            opt("external", Ty::Bool, ""),
            opt("admins", Ty::Bool, ""),
        ])
}

pub fn post_users() -> Op {
    Op::new(
        "Create a user (administrators)",
        Success::Body(201, schema::<User>),
    )
    .params(&[
        req("email", EMAIL, ""),
        req("name", Ty::Str, ""),
        req("username", PATH, ""),
        opt("password", Ty::Str, ""),
        opt("reset_password", Ty::Bool, ""),
        opt("force_random_password", Ty::Bool, ""),
        opt("admin", Ty::Bool, ""),
        opt("external", Ty::Bool, ""),
        opt("can_create_group", Ty::Bool, ""),
        opt("projects_limit", Ty::Int, ""),
        opt("skip_confirmation", Ty::Bool, "accepted and ignored"),
    ])
    .errors(&[409])
    .link("GetUser", "GET", "/users/{id}", BODY_ID)
    .link("UpdateUser", "PUT", "/users/{id}", BODY_ID)
    .link("BlockUser", "POST", "/users/{id}/block", BODY_ID)
    .link("DeactivateUser", "POST", "/users/{id}/deactivate", BODY_ID)
    .link(
        "CreateToken",
        "POST",
        "/users/{id}/personal_access_tokens",
        BODY_ID,
    )
    .link(
        "CreateProjectForUser",
        "POST",
        "/projects/user/{user_id}",
        BODY_USER,
    )
    .link("DeleteUser", "DELETE", "/users/{id}", BODY_ID)
}

pub fn get_users_id() -> Op {
    Op::new("One user", Success::Body(200, schema::<User>)).auth(Auth::Optional)
}

pub fn put_users_id() -> Op {
    Op::new(
        "Change a user (administrators)",
        Success::Body(200, schema::<User>),
    )
    .params(&[
        opt("name", Ty::Str, ""),
        opt("email", EMAIL, ""),
        opt("username", PATH, ""),
        opt("admin", Ty::Bool, ""),
        opt("external", Ty::Bool, ""),
        opt("can_create_group", Ty::Bool, ""),
        opt("projects_limit", Ty::Int, ""),
        opt("password", Ty::Str, ""),
    ])
    .errors(&[409])
}

pub fn delete_users_id() -> Op {
    Op::new("Delete a user (administrators)", Success::NoContent)
        .params(&[opt("hard_delete", Ty::Bool, "")])
        .errors(&[409])
}

pub fn post_users_id_block() -> Op {
    Op::new("Block a user", Success::Body(201, json_literal)).errors(&[409])
}

pub fn post_users_id_unblock() -> Op {
    Op::new("Unblock a user", Success::Body(201, json_literal)).errors(&[409])
}

pub fn post_users_id_deactivate() -> Op {
    Op::new("Deactivate a user", Success::Body(201, json_literal)).errors(&[409])
}

pub fn post_users_id_activate() -> Op {
    Op::new("Activate a user", Success::Body(201, json_literal)).errors(&[409])
}

pub fn post_users_id_personal_access_tokens() -> Op {
    Op::new(
        "Create a personal access token for a user (administrators)",
        Success::Body(201, schema::<PersonalAccessToken>),
    )
    .params(&[
        req("name", Ty::Str, ""),
        req("scopes", Ty::List(Some(AVAILABLE_SCOPES)), ""),
        opt("description", Ty::Str, ""),
        opt("expires_at", Ty::Date, ""),
    ])
    .errors(&[409, 422])
    .link("GetToken", "GET", "/personal_access_tokens/{id}", BODY_ID)
    .link(
        "RotateToken",
        "POST",
        "/personal_access_tokens/{id}/rotate",
        BODY_ID,
    )
    .link(
        "RevokeToken",
        "DELETE",
        "/personal_access_tokens/{id}",
        BODY_ID,
    )
}

// --- personal access tokens ---------------------------------------------------------------

pub fn get_personal_access_tokens() -> Op {
    Op::new(
        "List personal access tokens",
        Success::List(schema::<PersonalAccessToken>),
    )
    .paged()
    .params(&[
        opt("user_id", Ty::Int, "administrators: another user's tokens"),
        opt("revoked", Ty::Bool, ""),
        opt("state", Ty::OneOf(&["active", "inactive"]), ""),
        opt("search", Ty::Str, ""),
    ])
}

pub fn get_personal_access_tokens_self() -> Op {
    Op::new(
        "The token of the request",
        Success::Body(200, schema::<PersonalAccessToken>),
    )
}

pub fn delete_personal_access_tokens_self() -> Op {
    Op::new("Revoke the token of the request", Success::NoContent)
}

pub fn post_personal_access_tokens_self_rotate() -> Op {
    Op::new(
        "Rotate the token of the request",
        Success::Body(200, schema::<PersonalAccessToken>),
    )
    .params(&[opt(
        "expires_at",
        Ty::Date,
        "the new token's expiry; a week from today when omitted",
    )])
    .errors(&[409, 422])
}

pub fn get_personal_access_tokens_id() -> Op {
    Op::new(
        "One token",
        Success::Body(200, schema::<PersonalAccessToken>),
    )
}

pub fn delete_personal_access_tokens_id() -> Op {
    Op::new("Revoke a token", Success::NoContent)
}

pub fn post_personal_access_tokens_id_rotate() -> Op {
    Op::new(
        "Rotate a token",
        Success::Body(200, schema::<PersonalAccessToken>),
    )
    .params(&[opt(
        "expires_at",
        Ty::Date,
        "the new token's expiry; a week from today when omitted",
    )])
    .errors(&[409, 422])
}

// --- groups -------------------------------------------------------------------------------

const GROUP_LIST: [crate::openapi::Param; 8] = [
    opt("search", Ty::Str, ""),
    opt("top_level_only", Ty::Bool, ""),
    opt("visibility", VISIBILITY, ""),
    opt("min_access_level", LEVEL, ""),
    opt(
        "order_by",
        Ty::OneOf(&["name", "path", "id", "similarity"]),
        "",
    ),
    opt("sort", SORT, ""),
    opt("all_available", Ty::Bool, ""),
    opt("owned", Ty::Bool, ""),
];

pub fn get_groups() -> Op {
    Op::new("List groups", Success::List(schema::<Group>))
        .auth(Auth::Optional)
        .paged()
        .params(&GROUP_LIST)
}

pub fn post_groups() -> Op {
    Op::new("Create a group", Success::Body(201, schema::<Group>))
        .params(&[
            req("name", NAME, ""),
            req("path", PATH, ""),
            opt("parent_id", Ty::Int, "the parent group (a subgroup)"),
            opt("visibility", VISIBILITY, ""),
            opt("description", Ty::Str, ""),
        ])
        .errors(&[409])
        .link("GetGroup", "GET", "/groups/{id}", BODY_ID)
        .link("GetGroupProjects", "GET", "/groups/{id}/projects", BODY_ID)
        .link(
            "GetGroupSubgroups",
            "GET",
            "/groups/{id}/subgroups",
            BODY_ID,
        )
        .link("GetGroupMembers", "GET", "/groups/{id}/members", BODY_ID)
        .link("AddGroupMember", "POST", "/groups/{id}/members", BODY_ID)
        .link("DeleteGroup", "DELETE", "/groups/{id}", BODY_ID)
}

pub fn get_groups_id() -> Op {
    Op::new("One group", Success::Body(200, schema::<Group>))
        .auth(Auth::Optional)
        .params(&[opt(
            "with_projects",
            Ty::Bool,
            "include the group's projects (default true)",
        )])
}

pub fn delete_groups_id() -> Op {
    Op::new("Delete a group", Success::Body(202, accepted))
}

pub fn get_groups_id_subgroups() -> Op {
    Op::new("List a group's subgroups", Success::List(schema::<Group>))
        .auth(Auth::Optional)
        .paged()
        .params(&GROUP_LIST)
}

pub fn get_groups_id_descendant_groups() -> Op {
    Op::new(
        "List a group's descendant groups",
        Success::List(schema::<Group>),
    )
    .auth(Auth::Optional)
    .paged()
    .params(&GROUP_LIST)
}

pub fn get_groups_id_projects() -> Op {
    Op::new("List a group's projects", Success::List(project_or_basic))
        .auth(Auth::Optional)
        .paged()
        .params(&[
            opt("include_subgroups", Ty::Bool, ""),
            opt("simple", Ty::Bool, "BasicProject items"),
        ])
}

// --- members ------------------------------------------------------------------------------

fn list_members(summary: &'static str) -> Op {
    Op::new(summary, Success::List(schema::<Member>))
        .paged()
        .params(&[
            opt("query", Ty::Str, "part of the name or username"),
            opt("user_ids", Ty::List(None), "only these users"),
        ])
}

fn add_member(show: &'static str, update: &'static str) -> Op {
    Op::new("Add a member", Success::Body(201, schema::<Member>))
        .params(&[
            req("access_level", LEVEL, ""),
            opt("user_id", Ty::Int, "the user (or `username`)"),
            opt("username", PATH, ""),
            opt("expires_at", Ty::Date, ""),
        ])
        .at_least_one_of(&["user_id", "username"])
        .errors(&[409])
        .link("GetMember", "GET", show, MEMBER)
        .link("UpdateMember", "PUT", update, MEMBER)
        .link("RemoveMember", "DELETE", update, MEMBER)
}

fn update_member() -> Op {
    Op::new(
        "Change a member's role",
        Success::Body(200, schema::<Member>),
    )
    .params(&[
        req("access_level", LEVEL, ""),
        opt("expires_at", Ty::Date, ""),
    ])
    .errors(&[409])
}

pub fn get_groups_id_members() -> Op {
    list_members("List a group's direct members")
}

pub fn post_groups_id_members() -> Op {
    add_member(
        "/groups/{id}/members/{user_id}",
        "/groups/{id}/members/{user_id}",
    )
}

pub fn get_groups_id_members_all() -> Op {
    list_members("List a group's members, inherited ones included")
}

pub fn get_groups_id_members_all_user_id() -> Op {
    Op::new(
        "One member, inherited included",
        Success::Body(200, schema::<Member>),
    )
}

pub fn get_groups_id_members_user_id() -> Op {
    Op::new("One direct member", Success::Body(200, schema::<Member>))
}

pub fn put_groups_id_members_user_id() -> Op {
    update_member()
}

pub fn delete_groups_id_members_user_id() -> Op {
    Op::new("Remove a member", Success::NoContent)
}

pub fn get_projects_id_members() -> Op {
    list_members("List a project's direct members")
}

pub fn post_projects_id_members() -> Op {
    add_member(
        "/projects/{id}/members/{user_id}",
        "/projects/{id}/members/{user_id}",
    )
}

pub fn get_projects_id_members_all() -> Op {
    list_members("List a project's members, inherited ones included")
}

pub fn get_projects_id_members_all_user_id() -> Op {
    Op::new(
        "One member, inherited included",
        Success::Body(200, schema::<Member>),
    )
}

pub fn get_projects_id_members_user_id() -> Op {
    Op::new("One direct member", Success::Body(200, schema::<Member>))
}

pub fn put_projects_id_members_user_id() -> Op {
    update_member()
}

pub fn delete_projects_id_members_user_id() -> Op {
    Op::new("Remove a member", Success::NoContent)
}

// --- projects -----------------------------------------------------------------------------

const PROJECT_FIELDS: [crate::openapi::Param; 6] = [
    opt("path", PATH, "defaults to the name, made URL-safe"),
    opt(
        "namespace_id",
        Ty::Int,
        "group or personal namespace (default: the caller's)",
    ),
    opt("description", Ty::Str, ""),
    opt("visibility", VISIBILITY, ""),
    opt("default_branch", Ty::Str, ""),
    opt("topics", Ty::List(None), ""),
];

fn project_links(op: Op) -> Op {
    op.link("GetProject", "GET", "/projects/{id}", BODY_ID)
        .link(
            "GetJobTokenScope",
            "GET",
            "/projects/{id}/job_token_scope",
            BODY_ID,
        )
        .link(
            "UpdateJobTokenScope",
            "PATCH",
            "/projects/{id}/job_token_scope",
            BODY_ID,
        )
        .link(
            "GetAllowlist",
            "GET",
            "/projects/{id}/job_token_scope/allowlist",
            BODY_ID,
        )
        .link(
            "AddAllowlistProject",
            "POST",
            "/projects/{id}/job_token_scope/allowlist",
            BODY_ID,
        )
        .link(
            "GetGroupsAllowlist",
            "GET",
            "/projects/{id}/job_token_scope/groups_allowlist",
            BODY_ID,
        )
        .link(
            "AddAllowlistGroup",
            "POST",
            "/projects/{id}/job_token_scope/groups_allowlist",
            BODY_ID,
        )
        .link("GetMembers", "GET", "/projects/{id}/members", BODY_ID)
        .link("AddMember", "POST", "/projects/{id}/members", BODY_ID)
        .link(
            "GetAuditEvents",
            "GET",
            "/projects/{id}/audit_events",
            BODY_ID,
        )
        .link("DeleteProject", "DELETE", "/projects/{id}", BODY_ID)
}

pub fn get_projects() -> Op {
    Op::new("List projects", Success::List(project_or_basic))
        .auth(Auth::Optional)
        .paged()
        .params(&[
            opt("search", Ty::Str, ""),
            opt("visibility", VISIBILITY, ""),
            opt("min_access_level", LEVEL, ""),
            opt(
                "order_by",
                Ty::OneOf(&[
                    "id",
                    "name",
                    "path",
                    "created_at",
                    "updated_at",
                    "last_activity_at",
                    "similarity",
                    "star_count",
                ]),
                "",
            ),
            opt("sort", SORT, ""),
            opt("membership", Ty::Bool, ""),
            opt("owned", Ty::Bool, ""),
            opt("simple", Ty::Bool, "BasicProject items"),
        ])
}

pub fn post_projects() -> Op {
    project_links(
        Op::new("Create a project", Success::Body(201, schema::<Project>))
            .params(&[opt("name", NAME, "the name (or `path`)")])
            .params(&PROJECT_FIELDS)
            .at_least_one_of(&["name", "path"])
            .errors(&[409]),
    )
}

pub fn post_projects_user_user_id() -> Op {
    project_links(
        Op::new(
            "Create a project for a user (administrators)",
            Success::Body(201, schema::<Project>),
        )
        .params(&[req("name", NAME, "")])
        .params(&PROJECT_FIELDS)
        .errors(&[409]),
    )
}

pub fn get_projects_id() -> Op {
    Op::new("One project", Success::Body(200, schema::<Project>)).auth(Auth::Optional)
}

pub fn delete_projects_id() -> Op {
    Op::new("Delete a project", Success::Body(202, accepted))
}

// --- job token scope ----------------------------------------------------------------------

pub fn get_projects_id_job_token_scope() -> Op {
    Op::new(
        "The project's job token scope settings (Maintainer)",
        Success::Body(200, schema::<JobTokenScope>),
    )
}

pub fn patch_projects_id_job_token_scope() -> Op {
    Op::new(
        "Turn the project's allowlist on or off (Maintainer)",
        Success::NoContent,
    )
    .params(&[req(
        "enabled",
        Ty::Bool,
        "limit access to this project to the allowlist",
    )])
    .errors(&[409])
}

pub fn get_projects_id_job_token_scope_allowlist() -> Op {
    Op::new(
        "The projects whose jobs may reach this project",
        Success::List(schema::<AllowlistProject>),
    )
    .paged()
}

pub fn post_projects_id_job_token_scope_allowlist() -> Op {
    Op::new(
        "Allow a project's jobs to reach this project",
        Success::Body(201, schema::<AllowlistProjectCreated>),
    )
    .integer_id()
    .params(&[
        req("target_project_id", Ty::Id, "the project to allow"),
        opt("default_permissions", Ty::Bool, ""),
        opt("job_token_policies", POLICIES, "fine-grained permissions"),
    ])
    .errors(&[409])
    .link(
        "UpdateAllowlistProject",
        "PATCH",
        "/projects/{id}/job_token_scope/allowlist/{target_project_id}",
        &[
            ("id", "$response.body#/source_project_id"),
            ("target_project_id", "$response.body#/target_project_id"),
        ],
    )
    .link(
        "RemoveAllowlistProject",
        "DELETE",
        "/projects/{id}/job_token_scope/allowlist/{target_project_id}",
        &[
            ("id", "$response.body#/source_project_id"),
            ("target_project_id", "$response.body#/target_project_id"),
        ],
    )
}

pub fn delete_projects_id_job_token_scope_allowlist_target_project_id() -> Op {
    Op::new("Remove a project from the allowlist", Success::NoContent).integer_id()
}

pub fn patch_projects_id_job_token_scope_allowlist_target_project_id() -> Op {
    Op::new(
        "Change a project entry's permissions",
        Success::Body(200, schema::<AllowlistEntry>),
    )
    .params(&[
        opt("default_permissions", Ty::Bool, ""),
        opt("job_token_policies", POLICIES, ""),
    ])
}

pub fn get_projects_id_job_token_scope_groups_allowlist() -> Op {
    Op::new(
        "The groups whose projects' jobs may reach this project",
        Success::List(schema::<AllowlistGroup>),
    )
    .paged()
}

pub fn post_projects_id_job_token_scope_groups_allowlist() -> Op {
    Op::new(
        "Allow the jobs of a group's projects to reach this project",
        Success::Body(201, schema::<AllowlistGroupCreated>),
    )
    .integer_id()
    .params(&[
        req("target_group_id", Ty::Id, "the group to allow"),
        opt("default_permissions", Ty::Bool, ""),
        opt("job_token_policies", POLICIES, "fine-grained permissions"),
    ])
    .errors(&[409])
    .link(
        "UpdateAllowlistGroup",
        "PATCH",
        "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}",
        &[
            ("id", "$response.body#/source_project_id"),
            ("target_group_id", "$response.body#/target_group_id"),
        ],
    )
    .link(
        "RemoveAllowlistGroup",
        "DELETE",
        "/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}",
        &[
            ("id", "$response.body#/source_project_id"),
            ("target_group_id", "$response.body#/target_group_id"),
        ],
    )
}

pub fn delete_projects_id_job_token_scope_groups_allowlist_target_group_id() -> Op {
    Op::new("Remove a group from the allowlist", Success::NoContent).integer_id()
}

pub fn patch_projects_id_job_token_scope_groups_allowlist_target_group_id() -> Op {
    Op::new(
        "Change a group entry's permissions",
        Success::Body(200, schema::<AllowlistEntry>),
    )
    .params(&[
        opt("default_permissions", Ty::Bool, ""),
        opt("job_token_policies", POLICIES, ""),
    ])
}

pub fn get_projects_id_job_token_scope_auth_logs() -> Op {
    Op::new(
        "Which projects' jobs reached this project (the authentication log)",
        Success::List(schema::<AuthLog>),
    )
    .paged()
}

pub fn post_projects_id_job_token_scope_autopopulate() -> Op {
    Op::new(
        "Fill the allowlist from the authentication log",
        Success::Body(200, schema::<Autopopulation>),
    )
    .params(&[opt("dry_run", Ty::Bool, "only say what would be added")])
    .errors(&[409])
    .link(
        "ClearAutopopulated",
        "DELETE",
        "/projects/{id}/job_token_scope/autopopulated",
        PATH_ID,
    )
}

pub fn delete_projects_id_job_token_scope_autopopulated() -> Op {
    Op::new(
        "Remove the entries autopopulation added",
        Success::NoContent,
    )
}

pub fn get_projects_id_job_token_scope_reachable() -> Op {
    Op::new(
        "The projects this project's jobs may reach (reverse lookup)",
        Success::List(schema::<ReachableProject>),
    )
    .paged()
}

pub fn get_projects_id_audit_events() -> Op {
    Op::new(
        "The project's audit events",
        Success::List(schema::<AuditEvent>),
    )
    .paged()
    .params(&[
        opt("created_after", Ty::Str, "date or RFC 3339 time"),
        opt("created_before", Ty::Str, "date or RFC 3339 time"),
    ])
}

pub fn get_projects_id_audit_events_audit_event_id() -> Op {
    Op::new("One audit event", Success::Body(200, schema::<AuditEvent>))
}

// --- CI jobs and the decision -------------------------------------------------------------

pub fn post_ci_jobs() -> Op {
    Op::new(
        "Start a CI job; the answer carries its job token, once",
        Success::Body(201, schema::<CiJob>),
    )
    .params(&[
        req("project_id", Ty::Str, "the job's project: id or full path"),
        req("user_id", Ty::Id, "the user the job runs as"),
        opt("name", Ty::Str, ""),
        opt("ref", Ty::Str, ""),
    ])
    .link("GetJob", "GET", "/ci/jobs/{id}", BODY_ID)
    .link("FinishJob", "PUT", "/ci/jobs/{id}", BODY_ID)
}

pub fn get_ci_jobs_id() -> Op {
    Op::new("One CI job", Success::Body(200, schema::<CiJob>))
}

pub fn put_ci_jobs_id() -> Op {
    Op::new(
        "Finish a CI job (its token stops working)",
        Success::Body(200, schema::<CiJob>),
    )
    .params(&[req(
        "status",
        Ty::OneOf(&["success", "failed", "canceled"]),
        "how the job ended",
    )])
}

pub fn get_job() -> Op {
    Op::new("The job of the job token", Success::Body(200, job_entity)).auth(Auth::Job)
}

pub fn get_job_token_allowed() -> Op {
    Op::new(
        "May the job of this token reach the project?",
        Success::Body(200, schema::<JobTokenDecision>),
    )
    .auth(Auth::Job)
    .params(&[
        req("project", Ty::Str, "the target project: id or full path"),
        opt(
            "policy",
            Ty::OneOf(JOB_TOKEN_POLICIES),
            "the permission needed",
        ),
        opt(
            "auth_request",
            Ty::Bool,
            "answer 403 instead of 404 for unknown projects (nginx)",
        ),
    ])
}

// --- settings -----------------------------------------------------------------------------

pub fn get_application_settings() -> Op {
    Op::new(
        "Instance settings (administrators)",
        Success::Body(200, schema::<ApplicationSettings>),
    )
}

pub fn put_application_settings() -> Op {
    Op::new(
        "Change instance settings (administrators)",
        Success::Body(200, schema::<ApplicationSettings>),
    )
    .params(&[
        opt("enforce_ci_inbound_job_token_scope_enabled", Ty::Bool, ""),
        opt("default_project_visibility", VISIBILITY, ""),
        opt("default_group_visibility", VISIBILITY, ""),
        opt("default_projects_limit", Ty::Int, ""),
        opt(
            "max_personal_access_token_lifetime",
            Ty::NullableRange(1, 400),
            "days; null for no limit",
        ),
    ])
    .at_least_one_of(&[
        "enforce_ci_inbound_job_token_scope_enabled",
        "default_project_visibility",
        "default_group_visibility",
        "default_projects_limit",
        "max_personal_access_token_lifetime",
    ])
}
