//! Turning store records into GitLab's JSON entities.

use chrono::NaiveDate;
use jobscope_store as store;
use jobscope_types::Visibility;
use jobscope_types::api;

use crate::urls::BaseUrl;

/// How much of a user record the viewer may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum UserView {
    /// UserBasic: lists seen by non-administrators.
    Basic,
    /// User: another user's profile.
    Profile,
    /// UserPublic: oneself.
    Private,
    /// UserWithAdmin: administrators.
    Admin,
}

pub struct Entities<'a> {
    pub base: &'a BaseUrl,
}

impl<'a> Entities<'a> {
    pub fn new(base: &'a BaseUrl) -> Self {
        Entities { base }
    }

    pub fn user_basic(&self, u: &store::User) -> api::UserBasic {
        api::UserBasic {
            id: u.id,
            username: u.username.clone(),
            name: u.name.clone(),
            state: u.state.as_str().to_owned(),
            locked: false,
            avatar_url: None,
            web_url: self.base.join(&format!("/{}", u.username)),
        }
    }

    pub fn user(&self, u: &store::User, view: UserView) -> api::User {
        let profile = (view >= UserView::Profile).then(|| api::UserProfile {
            created_at: u.created_at,
            bio: String::new(),
            location: String::new(),
            public_email: None,
            skype: String::new(),
            linkedin: String::new(),
            twitter: String::new(),
            discord: String::new(),
            website_url: String::new(),
            organization: String::new(),
            job_title: String::new(),
            pronouns: None,
            bot: u.bot,
            work_information: None,
            local_time: None,
        });
        let private = (view >= UserView::Private).then(|| api::UserPrivate {
            last_sign_in_at: None,
            confirmed_at: Some(u.created_at),
            last_activity_on: None,
            email: u.email.clone(),
            theme_id: 1,
            color_scheme_id: 1,
            projects_limit: u.projects_limit,
            current_sign_in_at: None,
            identities: Vec::new(),
            can_create_group: u.can_create_group,
            can_create_project: u.projects_limit > 0,
            two_factor_enabled: false,
            external: u.external,
            private_profile: false,
            commit_email: Some(u.email.clone()),
        });
        let admin = (view >= UserView::Admin).then(|| api::UserAdminFields {
            is_admin: u.admin,
            note: None,
            namespace_id: u.namespace_id,
            created_by: None,
        });
        api::User {
            id: u.id,
            username: u.username.clone(),
            name: u.name.clone(),
            state: u.state.as_str().to_owned(),
            locked: false,
            avatar_url: None,
            web_url: self.base.join(&format!("/{}", u.username)),
            profile,
            private,
            admin,
        }
    }

    pub fn token(
        &self,
        t: &store::PersonalAccessToken,
        today: NaiveDate,
        plaintext: Option<String>,
    ) -> api::PersonalAccessToken {
        api::PersonalAccessToken {
            id: t.id,
            name: t.name.clone(),
            active: t.is_active(today),
            revoked: t.revoked,
            expired: t.is_expired(today),
            created_at: t.created_at,
            description: t.description.clone(),
            scopes: t.scopes.clone(),
            user_id: t.user_id,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            token: plaintext,
        }
    }

    pub fn namespace_web_url(&self, n: &store::Namespace) -> String {
        match n.kind {
            store::NamespaceKind::Group => self.base.join(&format!("/groups/{}", n.full_path)),
            store::NamespaceKind::User => self.base.join(&format!("/{}", n.full_path)),
        }
    }

    pub fn namespace_basic(&self, n: &store::Namespace) -> api::NamespaceBasic {
        api::NamespaceBasic {
            id: n.id,
            name: n.name.clone(),
            path: n.path.clone(),
            kind: n.kind.as_str().to_owned(),
            full_path: n.full_path.clone(),
            parent_id: n.parent_id,
            avatar_url: None,
            web_url: self.namespace_web_url(n),
        }
    }

    pub fn basic_project(&self, p: &store::Project) -> api::BasicProject {
        let mut topics = p.topics.clone();
        topics.sort();
        api::BasicProject {
            id: p.id,
            description: p.description.clone(),
            name: p.name.clone(),
            name_with_namespace: p.name_with_namespace(),
            path: p.path.clone(),
            path_with_namespace: p.full_path.clone(),
            created_at: p.created_at,
            default_branch: Some(
                p.default_branch
                    .clone()
                    .unwrap_or_else(|| "main".to_owned()),
            ),
            tag_list: topics.clone(),
            topics,
            ssh_url_to_repo: format!("git@{}:{}.git", self.base.host(), p.full_path),
            http_url_to_repo: self.base.join(&format!("/{}.git", p.full_path)),
            web_url: self.base.join(&format!("/{}", p.full_path)),
            avatar_url: None,
            star_count: 0,
            last_activity_at: p.last_activity_at,
            namespace: self.namespace_basic(&p.namespace),
        }
    }

    /// GitLab's Project entity. `owner` is the personal namespace's owner (projects in groups
    /// have none); `admin_fields` adds what only project administrators see.
    pub fn project(
        &self,
        p: &store::Project,
        owner: Option<&store::User>,
        permissions: Option<api::ProjectPermissions>,
        admin_fields: bool,
    ) -> api::Project {
        let api_self = self.base.join(&format!("/api/v4/projects/{}", p.id));
        api::Project {
            basic: self.basic_project(p),
            links: Some(api::ProjectLinks {
                issues: Some(format!("{api_self}/issues")),
                merge_requests: Some(format!("{api_self}/merge_requests")),
                repo_branches: format!("{api_self}/repository/branches"),
                labels: format!("{api_self}/labels"),
                events: format!("{api_self}/events"),
                members: format!("{api_self}/members"),
                cluster_agents: format!("{api_self}/cluster_agents"),
                self_: api_self,
            }),
            empty_repo: true,
            archived: false,
            visibility: p.visibility,
            owner: owner.map(|u| self.user_basic(u)),
            issues_enabled: true,
            merge_requests_enabled: true,
            wiki_enabled: true,
            jobs_enabled: true,
            snippets_enabled: true,
            container_registry_enabled: true,
            shared_runners_enabled: true,
            lfs_enabled: true,
            creator_id: p.creator_id,
            import_status: Some("none".to_owned()),
            open_issues_count: 0,
            description_html: Some(p.description.clone().unwrap_or_default()),
            updated_at: Some(p.last_activity_at),
            ci_job_token_scope_enabled: admin_fields.then_some(p.outbound_scope_enabled),
            public_jobs: true,
            shared_with_groups: Vec::new(),
            request_access_enabled: true,
            permissions,
        }
    }

    pub fn basic_group(&self, g: &store::Namespace) -> api::BasicGroup {
        api::BasicGroup {
            id: g.id,
            web_url: self.namespace_web_url(g),
            name: g.name.clone(),
        }
    }

    pub fn group(
        &self,
        g: &store::Namespace,
        projects: Option<Vec<api::BasicProject>>,
    ) -> api::Group {
        let detail = projects.is_some();
        api::Group {
            id: g.id,
            web_url: self.namespace_web_url(g),
            name: g.name.clone(),
            path: g.path.clone(),
            description: g.description.clone(),
            visibility: g.visibility,
            share_with_group_lock: false,
            require_two_factor_authentication: false,
            two_factor_grace_period: 48,
            project_creation_level: "developer".to_owned(),
            auto_devops_enabled: None,
            subgroup_creation_level: "maintainer".to_owned(),
            emails_disabled: false,
            emails_enabled: true,
            mentions_disabled: None,
            lfs_enabled: true,
            archived: false,
            default_branch: None,
            avatar_url: None,
            request_access_enabled: true,
            full_name: g.full_name.clone(),
            full_path: g.full_path.clone(),
            created_at: g.created_at,
            parent_id: g.parent_id,
            shared_runners_setting: Some("enabled".to_owned()),
            max_artifacts_size: None,
            marked_for_deletion_on: None,
            shared_with_groups: detail.then(Vec::new),
            projects,
            shared_projects: detail.then(Vec::new),
        }
    }

    pub fn member(&self, m: &store::Member, created_by: Option<&store::User>) -> api::Member {
        api::Member {
            id: m.user.id,
            username: m.user.username.clone(),
            name: m.user.name.clone(),
            state: m.user.state.as_str().to_owned(),
            locked: false,
            avatar_url: None,
            web_url: self.base.join(&format!("/{}", m.user.username)),
            access_level: m.access_level.value(),
            created_at: m.created_at,
            created_by: created_by.map(|u| self.user_basic(u)),
            expires_at: m.expires_at,
            membership_state: Some("active".to_owned()),
        }
    }

    /// An allowlist entry's metadata (`None` for the project itself).
    pub fn entry_info(
        &self,
        default_permissions: bool,
        policies: &[String],
        autopopulated: bool,
        added_by: Option<&store::User>,
        added_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> api::EntryInfo {
        api::EntryInfo {
            default_permissions,
            job_token_policies: policies.to_vec(),
            autopopulated,
            added_by: added_by.map(|u| self.user_basic(u)),
            added_at,
        }
    }

    pub fn job(
        &self,
        j: &store::Job,
        project: &store::Project,
        token: Option<String>,
    ) -> api::CiJob {
        api::CiJob {
            id: j.id,
            status: j.status.as_str().to_owned(),
            name: j.name.clone(),
            ref_name: j.ref_name.clone(),
            project_id: j.project_id,
            user_id: j.user_id,
            created_at: j.created_at,
            finished_at: j.finished_at,
            web_url: self
                .base
                .join(&format!("/{}/-/jobs/{}", project.full_path, j.id)),
            token,
        }
    }

    pub fn audit_event(&self, e: &store::AuditEvent) -> api::AuditEvent {
        api::AuditEvent {
            id: e.id,
            author_id: e.author_id,
            entity_id: e.entity_id,
            entity_type: e.entity_type.clone(),
            event_name: e.event_name.clone(),
            details: e.details.clone(),
            created_at: e.created_at,
        }
    }

    pub fn settings(&self, s: &store::InstanceSettings) -> api::ApplicationSettings {
        api::ApplicationSettings {
            id: 1,
            default_projects_limit: s.default_projects_limit,
            signup_enabled: false,
            password_authentication_enabled_for_web: false,
            max_personal_access_token_lifetime: s.max_personal_access_token_lifetime,
            enforce_ci_inbound_job_token_scope_enabled: s
                .enforce_ci_inbound_job_token_scope_enabled,
            restricted_visibility_levels: Vec::new(),
            default_project_visibility: s.default_project_visibility,
            default_snippet_visibility: Visibility::Private,
            default_group_visibility: s.default_group_visibility,
            created_at: s.updated_at,
            updated_at: s.updated_at,
        }
    }
}
