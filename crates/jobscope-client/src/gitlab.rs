//! What GitLab offers only through GraphQL (its REST API has no per-entry permissions, no
//! authentication log and no autopopulation): the queries and mutations, and the mapping of
//! their answers onto the client's types.

use chrono::{DateTime, Utc};
use jobscope_types::{NamespaceId, ProjectId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::Client;
use crate::entry::{AuthLogEntry, Entry, Target};
use crate::error::{Error, Result};

/// GitLab's GraphQL enum value for a policy name (`read_jobs` → `READ_JOBS`).
pub(crate) fn policy_enum(name: &str) -> String {
    name.to_ascii_uppercase()
}

fn policy_name(value: &str) -> String {
    value.to_ascii_lowercase()
}

/// The number at the end of a GlobalID (`gid://gitlab/Project/42` → 42).
fn gid(id: &str) -> Result<i64> {
    id.rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| Error::decode("GitLab GraphQL", format!("not a GlobalID: {id:?}")))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection<T> {
    page_info: PageInfo,
    nodes: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Accessible {
    id: String,
    full_path: String,
    #[serde(default)]
    web_url: Option<String>,
}

#[derive(Deserialize)]
struct Username {
    username: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryNode {
    target: Option<Accessible>,
    #[serde(default = "yes")]
    default_permissions: bool,
    #[serde(default)]
    job_token_policies: Option<Vec<String>>,
    #[serde(default)]
    autopopulated: bool,
    #[serde(default)]
    added_by: Option<Username>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
}

fn yes() -> bool {
    true
}

const ENTRY_FIELDS: &str =
    "defaultPermissions jobTokenPolicies autopopulated createdAt addedBy { username }";

/// Pages through one GraphQL connection under `project(fullPath:)`, `path` naming the fields
/// down to it.
async fn all_nodes<T: for<'de> Deserialize<'de>>(
    client: &Client,
    query: &str,
    project_path: &str,
    path: &[&str],
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data: Value = client
            .graphql(query, json!({"path": project_path, "after": after}), false)
            .await?;
        let mut node = data.get("project").ok_or_else(|| not_found(project_path))?;
        if node.is_null() {
            return Err(not_found(project_path));
        }
        for key in path {
            node = node.get(key).ok_or_else(|| {
                Error::decode("GitLab GraphQL", format!("no {key} in the answer"))
            })?;
        }
        let page: Connection<T> =
            serde_json::from_value(node.clone()).map_err(|e| Error::decode("GitLab GraphQL", e))?;
        out.extend(page.nodes);
        match (page.page_info.has_next_page, page.page_info.end_cursor) {
            (true, Some(cursor)) if after.as_deref() != Some(cursor.as_str()) => {
                after = Some(cursor)
            }
            (true, _) => {
                return Err(Error::Pagination {
                    what: "GitLab GraphQL".into(),
                    message: "a next page without a new cursor".into(),
                });
            }
            (false, _) => return Ok(out),
        }
    }
}

/// GitLab's GraphQL answers `project: null` for a project the caller cannot see.
fn not_found(path: &str) -> Error {
    Error::Api {
        status: http::StatusCode::NOT_FOUND,
        message: format!("404 Project Not Found ({path})"),
        body: None,
        retry_after: None,
    }
}

/// Both allowlists with their permissions (the project itself is not an entry).
pub(crate) async fn entries(client: &Client, project_path: &str) -> Result<Vec<Entry>> {
    let projects_query = format!(
        "query($path: ID!, $after: String) {{ project(fullPath: $path) {{ \
         ciJobTokenScopeAllowlist {{ projectsAllowlist(first: 100, after: $after) {{ \
         pageInfo {{ hasNextPage endCursor }} nodes {{ \
         target {{ ... on CiJobTokenAccessibleProject {{ id fullPath webUrl }} }} {ENTRY_FIELDS} }} }} }} }} }}"
    );
    let groups_query = format!(
        "query($path: ID!, $after: String) {{ project(fullPath: $path) {{ \
         ciJobTokenScopeAllowlist {{ groupsAllowlist(first: 100, after: $after) {{ \
         pageInfo {{ hasNextPage endCursor }} nodes {{ \
         target {{ ... on CiJobTokenAccessibleGroup {{ id fullPath webUrl }} }} {ENTRY_FIELDS} }} }} }} }} }}"
    );
    let projects: Vec<EntryNode> = all_nodes(
        client,
        &projects_query,
        project_path,
        &["ciJobTokenScopeAllowlist", "projectsAllowlist"],
    )
    .await?;
    let groups: Vec<EntryNode> = all_nodes(
        client,
        &groups_query,
        project_path,
        &["ciJobTokenScopeAllowlist", "groupsAllowlist"],
    )
    .await?;
    let mut out = Vec::new();
    for (node, group) in projects
        .into_iter()
        .map(|n| (n, false))
        .chain(groups.into_iter().map(|n| (n, true)))
    {
        // A target the caller may not see comes back as null; it is still an entry, but
        // nothing can be said of it.
        let Some(target) = node.target else { continue };
        let id = gid(&target.id)?;
        out.push(Entry {
            target: if group {
                Target::Group(NamespaceId(id))
            } else {
                Target::Project(ProjectId(id))
            },
            path: target.full_path,
            web_url: target.web_url,
            default_permissions: node.default_permissions,
            job_token_policies: node
                .job_token_policies
                .unwrap_or_default()
                .iter()
                .map(|p| policy_name(p))
                .collect(),
            autopopulated: node.autopopulated,
            added_by: node.added_by.map(|u| u.username),
            added_at: node.created_at,
        });
    }
    Ok(out)
}

/// Sets an entry's permissions (`ciJobTokenScopeUpdatePolicies`; both values are required).
pub(crate) async fn update_policies(
    client: &Client,
    project_path: &str,
    target_path: &str,
    default_permissions: bool,
    policies: &[String],
) -> Result<()> {
    let query = "mutation($input: CiJobTokenScopeUpdatePoliciesInput!) { \
                 ciJobTokenScopeUpdatePolicies(input: $input) { errors } }";
    let input = json!({"input": {
        "projectPath": project_path,
        "targetPath": target_path,
        "defaultPermissions": default_permissions,
        "jobTokenPolicies": policies.iter().map(|p| policy_enum(p)).collect::<Vec<_>>(),
    }});
    mutate(client, query, input, "ciJobTokenScopeUpdatePolicies").await
}

/// `ciJobTokenScopeAutopopulateAllowlist`.
pub(crate) async fn autopopulate(client: &Client, project_path: &str) -> Result<()> {
    let query = "mutation($input: CiJobTokenScopeAutopopulateAllowlistInput!) { \
                 ciJobTokenScopeAutopopulateAllowlist(input: $input) { status errors } }";
    mutate(
        client,
        query,
        json!({"input": {"projectPath": project_path}}),
        "ciJobTokenScopeAutopopulateAllowlist",
    )
    .await
}

/// `ciJobTokenScopeClearAllowlistAutopopulations`.
pub(crate) async fn clear_autopopulated(client: &Client, project_path: &str) -> Result<()> {
    let query = "mutation($input: CiJobTokenScopeClearAllowlistAutopopulationsInput!) { \
                 ciJobTokenScopeClearAllowlistAutopopulations(input: $input) { errors } }";
    mutate(
        client,
        query,
        json!({"input": {"projectPath": project_path}}),
        "ciJobTokenScopeClearAllowlistAutopopulations",
    )
    .await
}

/// Runs a mutation whose payload has `errors: [String!]!`.
async fn mutate(client: &Client, query: &str, variables: Value, name: &str) -> Result<()> {
    let data: Value = client.graphql(query, variables, true).await?;
    let payload = data.get(name).filter(|p| !p.is_null()).ok_or_else(|| {
        // GitLab answers a null payload (with a top-level error, handled before) when the
        // caller lacks the permission; without one, the answer is malformed.
        Error::decode("GitLab GraphQL", format!("no {name} in the answer"))
    })?;
    let errors: Vec<String> = payload
        .get("errors")
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::GraphQl { messages: errors })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthLogNode {
    origin_project: Option<Accessible>,
    last_authorized_at: DateTime<Utc>,
}

/// The authentication log (`Project.ciJobTokenAuthLogs`).
pub(crate) async fn auth_log(client: &Client, project_path: &str) -> Result<Vec<AuthLogEntry>> {
    let query = "query($path: ID!, $after: String) { project(fullPath: $path) { \
                 ciJobTokenAuthLogs(first: 100, after: $after) { \
                 pageInfo { hasNextPage endCursor } \
                 nodes { lastAuthorizedAt originProject { id fullPath webUrl } } } } }";
    let nodes: Vec<AuthLogNode> =
        all_nodes(client, query, project_path, &["ciJobTokenAuthLogs"]).await?;
    let mut out = Vec::new();
    for node in nodes {
        let Some(origin) = node.origin_project else {
            continue;
        };
        out.push(AuthLogEntry {
            origin_project_id: ProjectId(gid(&origin.id)?),
            origin_project_path: origin.full_path,
            last_authorized_at: node.last_authorized_at,
            job_token_policies: Default::default(),
        });
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.last_authorized_at));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_and_policies() {
        assert_eq!(gid("gid://gitlab/Project/42").unwrap(), 42);
        assert_eq!(gid("gid://gitlab/Group/7").unwrap(), 7);
        assert!(gid("gid://gitlab/Project/x").is_err());
        assert_eq!(policy_enum("read_jobs"), "READ_JOBS");
        assert_eq!(policy_name("ADMIN_PACKAGES"), "admin_packages");
    }
}
