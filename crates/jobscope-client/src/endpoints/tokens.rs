//! Personal access tokens.

use chrono::NaiveDate;
use jobscope_types::{TokenId, UserId};

use super::endpoint;
use crate::endpoint::{Endpoint, JsonBody, Pageable, QueryPairs};

/// `POST /users/:id/personal_access_tokens` (administrators): the answer carries the token,
/// once.
#[derive(Clone, Debug)]
pub struct CreatePersonalAccessToken {
    user: UserId,
    name: String,
    scopes: Vec<String>,
    expires_at: Option<NaiveDate>,
    description: Option<String>,
}

impl CreatePersonalAccessToken {
    pub fn new(user: UserId, name: impl Into<String>, scopes: Vec<String>) -> Self {
        CreatePersonalAccessToken {
            user,
            name: name.into(),
            scopes,
            expires_at: None,
            description: None,
        }
    }

    pub fn expires_at(mut self, d: NaiveDate) -> Self {
        self.expires_at = Some(d);
        self
    }

    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }
}

endpoint!(
    CreatePersonalAccessToken,
    POST,
    |s| format!("users/{}/personal_access_tokens", s.user),
    body = |s| JsonBody::new()
        .set("name", s.name.clone())
        .set("scopes", s.scopes.clone())
        .set_opt("expires_at", s.expires_at.map(|d| d.to_string()))
        .set_opt("description", s.description.clone())
        .build()
);

/// `GET /personal_access_tokens` (yours; an administrator sees everyone's, or one user's).
#[derive(Clone, Debug, Default)]
pub struct ListPersonalAccessTokens {
    user: Option<UserId>,
    state: Option<String>,
}

impl ListPersonalAccessTokens {
    pub fn new() -> Self {
        ListPersonalAccessTokens::default()
    }

    pub fn user(mut self, u: UserId) -> Self {
        self.user = Some(u);
        self
    }

    /// `active` or `inactive`.
    pub fn state(mut self, s: impl Into<String>) -> Self {
        self.state = Some(s.into());
        self
    }
}

impl Endpoint for ListPersonalAccessTokens {
    fn method(&self) -> http::Method {
        http::Method::GET
    }
    fn path(&self) -> String {
        "personal_access_tokens".into()
    }
    fn query(&self) -> Vec<(String, String)> {
        QueryPairs::new()
            .push_opt("user_id", self.user)
            .push_opt("state", self.state.as_ref())
            .build()
    }
}

impl Pageable for ListPersonalAccessTokens {}

/// Which token: one by id, or the one making the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenRef {
    Id(TokenId),
    Current,
}

impl TokenRef {
    fn segment(self) -> String {
        match self {
            TokenRef::Id(id) => id.to_string(),
            TokenRef::Current => "self".into(),
        }
    }
}

/// `GET /personal_access_tokens/:id` or `/self`.
#[derive(Clone, Debug)]
pub struct GetPersonalAccessToken {
    token: TokenRef,
}

impl GetPersonalAccessToken {
    pub fn new(token: TokenRef) -> Self {
        GetPersonalAccessToken { token }
    }
}

endpoint!(GetPersonalAccessToken, GET, |s| format!(
    "personal_access_tokens/{}",
    s.token.segment()
));

/// `DELETE /personal_access_tokens/:id` or `/self`.
#[derive(Clone, Debug)]
pub struct RevokePersonalAccessToken {
    token: TokenRef,
}

impl RevokePersonalAccessToken {
    pub fn new(token: TokenRef) -> Self {
        RevokePersonalAccessToken { token }
    }
}

endpoint!(RevokePersonalAccessToken, DELETE, |s| format!(
    "personal_access_tokens/{}",
    s.token.segment()
));

/// `POST /personal_access_tokens/:id/rotate` or `/self/rotate`: a new token replaces it.
#[derive(Clone, Debug)]
pub struct RotatePersonalAccessToken {
    token: TokenRef,
    expires_at: Option<NaiveDate>,
}

impl RotatePersonalAccessToken {
    pub fn new(token: TokenRef) -> Self {
        RotatePersonalAccessToken {
            token,
            expires_at: None,
        }
    }

    pub fn expires_at(mut self, d: NaiveDate) -> Self {
        self.expires_at = Some(d);
        self
    }
}

endpoint!(
    RotatePersonalAccessToken,
    POST,
    |s| format!("personal_access_tokens/{}/rotate", s.token.segment()),
    body = |s| JsonBody::new()
        .set_opt("expires_at", s.expires_at.map(|d| d.to_string()))
        .build()
);
