//! Project and group members, with GitLab's roles (10 Guest … 50 Owner).

use chrono::NaiveDate;
use jobscope_types::{AccessLevel, NamespaceRef, ProjectRef, UserId};

use super::endpoint;
use crate::endpoint::{JsonBody, Pageable};

/// Whose members: a project's or a group's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemberSource {
    Project(ProjectRef),
    Group(NamespaceRef),
}

impl MemberSource {
    fn base(&self) -> String {
        match self {
            MemberSource::Project(p) => format!("projects/{}/members", p.to_segment()),
            MemberSource::Group(g) => format!("groups/{}/members", g.to_segment()),
        }
    }
}

/// `GET /projects/:id/members` (direct members), or `…/members/all` (with those inherited
/// from the groups above).
#[derive(Clone, Debug)]
pub struct ListMembers {
    source: MemberSource,
    inherited: bool,
}

impl ListMembers {
    pub fn new(source: MemberSource) -> Self {
        ListMembers {
            source,
            inherited: false,
        }
    }

    /// Include members inherited from ancestor groups.
    pub fn inherited(mut self, yes: bool) -> Self {
        self.inherited = yes;
        self
    }
}

endpoint!(ListMembers, GET, |s| if s.inherited {
    format!("{}/all", s.source.base())
} else {
    s.source.base()
});
impl Pageable for ListMembers {}

/// `POST /projects/:id/members` with `user_id` and `access_level`.
#[derive(Clone, Debug)]
pub struct AddMember {
    source: MemberSource,
    user: UserId,
    level: AccessLevel,
    expires_at: Option<NaiveDate>,
}

impl AddMember {
    pub fn new(source: MemberSource, user: UserId, level: AccessLevel) -> Self {
        AddMember {
            source,
            user,
            level,
            expires_at: None,
        }
    }

    pub fn expires_at(mut self, d: NaiveDate) -> Self {
        self.expires_at = Some(d);
        self
    }
}

endpoint!(
    AddMember,
    POST,
    |s| s.source.base(),
    body = |s| {
        JsonBody::new()
            .set("user_id", s.user.get())
            .set("access_level", s.level.value())
            .set_opt("expires_at", s.expires_at.map(|d| d.to_string()))
            .build()
    }
);

/// `PUT /projects/:id/members/:user_id`: a new role.
#[derive(Clone, Debug)]
pub struct UpdateMember {
    source: MemberSource,
    user: UserId,
    level: AccessLevel,
}

impl UpdateMember {
    pub fn new(source: MemberSource, user: UserId, level: AccessLevel) -> Self {
        UpdateMember {
            source,
            user,
            level,
        }
    }
}

endpoint!(
    UpdateMember,
    PUT,
    |s| format!("{}/{}", s.source.base(), s.user),
    body = |s| JsonBody::new().set("access_level", s.level.value()).build()
);

/// `DELETE /projects/:id/members/:user_id`.
#[derive(Clone, Debug)]
pub struct RemoveMember {
    source: MemberSource,
    user: UserId,
}

impl RemoveMember {
    pub fn new(source: MemberSource, user: UserId) -> Self {
        RemoveMember { source, user }
    }
}

endpoint!(RemoveMember, DELETE, |s| format!(
    "{}/{}",
    s.source.base(),
    s.user
));

/// `GET /projects/:id/members/:user_id` (a direct member), or `…/members/all/:user_id` (also
/// one inherited from the groups above).
#[derive(Clone, Debug)]
pub struct GetMember {
    source: MemberSource,
    user: UserId,
    inherited: bool,
}

impl GetMember {
    pub fn new(source: MemberSource, user: UserId) -> Self {
        GetMember {
            source,
            user,
            inherited: false,
        }
    }

    /// Also find members inherited from ancestor groups.
    pub fn inherited(mut self, yes: bool) -> Self {
        self.inherited = yes;
        self
    }
}

endpoint!(GetMember, GET, |s| if s.inherited {
    format!("{}/all/{}", s.source.base(), s.user)
} else {
    format!("{}/{}", s.source.base(), s.user)
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Endpoint;

    #[test]
    fn member_paths() {
        let p = MemberSource::Project(ProjectRef::from("acme/app"));
        let g = MemberSource::Group(NamespaceRef::from(7));
        assert_eq!(
            GetMember::new(p.clone(), UserId(2)).path(),
            "projects/acme%2Fapp/members/2"
        );
        assert_eq!(
            GetMember::new(g, UserId(2)).inherited(true).path(),
            "groups/7/members/all/2"
        );
        assert_eq!(
            ListMembers::new(p).inherited(true).path(),
            "projects/acme%2Fapp/members/all"
        );
    }
}
