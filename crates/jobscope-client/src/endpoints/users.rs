//! Users (administrators manage them).

use jobscope_types::UserId;

use super::endpoint;
use crate::endpoint::{Endpoint, JsonBody, Pageable, QueryPairs};

/// `GET /users`.
#[derive(Clone, Debug, Default)]
pub struct ListUsers {
    username: Option<String>,
    search: Option<String>,
    blocked: Option<bool>,
    admins: Option<bool>,
}

impl ListUsers {
    pub fn new() -> Self {
        ListUsers::default()
    }

    /// Exactly this username.
    pub fn username(mut self, u: impl Into<String>) -> Self {
        self.username = Some(u.into());
        self
    }

    pub fn search(mut self, s: impl Into<String>) -> Self {
        self.search = Some(s.into());
        self
    }

    pub fn blocked(mut self, yes: bool) -> Self {
        self.blocked = Some(yes);
        self
    }

    pub fn admins(mut self, yes: bool) -> Self {
        self.admins = Some(yes);
        self
    }
}

impl Endpoint for ListUsers {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn path(&self) -> String {
        "users".into()
    }
    fn query(&self) -> Vec<(String, String)> {
        QueryPairs::new()
            .push_opt("username", self.username.as_ref())
            .push_opt("search", self.search.as_ref())
            .push_opt("blocked", self.blocked)
            .push_opt("admins", self.admins)
            .build()
    }
}

impl Pageable for ListUsers {}

/// `POST /users`.
#[derive(Clone, Debug)]
pub struct CreateUser {
    username: String,
    name: String,
    email: String,
    password: Option<String>,
    admin: Option<bool>,
    external: Option<bool>,
}

impl CreateUser {
    pub fn new(
        username: impl Into<String>,
        name: impl Into<String>,
        email: impl Into<String>,
    ) -> Self {
        CreateUser {
            username: username.into(),
            name: name.into(),
            email: email.into(),
            password: None,
            admin: None,
            external: None,
        }
    }

    /// A password (GitLab needs one, or `force_random_password`, which is sent otherwise).
    pub fn password(mut self, p: impl Into<String>) -> Self {
        self.password = Some(p.into());
        self
    }

    pub fn admin(mut self, yes: bool) -> Self {
        self.admin = Some(yes);
        self
    }

    pub fn external(mut self, yes: bool) -> Self {
        self.external = Some(yes);
        self
    }
}

endpoint!(
    CreateUser,
    POST,
    |_s| "users".into(),
    body = |s| {
        JsonBody::new()
            .set("username", s.username.clone())
            .set("name", s.name.clone())
            .set("email", s.email.clone())
            .set_opt("password", s.password.clone())
            .set_opt(
                "force_random_password",
                s.password.is_none().then_some(true),
            )
            .set("skip_confirmation", true)
            .set_opt("admin", s.admin)
            .set_opt("external", s.external)
            .build()
    }
);

/// `GET /users/:id`.
#[derive(Clone, Debug)]
pub struct GetUser {
    id: UserId,
}

impl GetUser {
    pub fn new(id: UserId) -> Self {
        GetUser { id }
    }
}

endpoint!(GetUser, GET, |s| format!("users/{}", s.id));

/// What can be done to a user with `POST /users/:id/<action>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserAction {
    Block,
    Unblock,
    Deactivate,
    Activate,
}

/// `POST /users/:id/block` (and `unblock`, `deactivate`, `activate`).
#[derive(Clone, Debug)]
pub struct ChangeUserState {
    id: UserId,
    action: UserAction,
}

impl ChangeUserState {
    pub fn new(id: UserId, action: UserAction) -> Self {
        ChangeUserState { id, action }
    }
}

impl Endpoint for ChangeUserState {
    fn method(&self) -> http::Method {
        http::Method::POST
    }
    fn path(&self) -> String {
        let action = match self.action {
            UserAction::Block => "block",
            UserAction::Unblock => "unblock",
            UserAction::Deactivate => "deactivate",
            UserAction::Activate => "activate",
        };
        format!("users/{}/{action}", self.id)
    }
    fn idempotent(&self) -> bool {
        true
    }
}

/// `DELETE /users/:id`.
#[derive(Clone, Debug)]
pub struct DeleteUser {
    id: UserId,
}

impl DeleteUser {
    pub fn new(id: UserId) -> Self {
        DeleteUser { id }
    }
}

endpoint!(DeleteUser, DELETE, |s| format!("users/{}", s.id));
