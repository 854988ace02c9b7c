//! Which token scopes each route accepts, as GitLab registers them: `api` for everything,
//! `read_api` for GET/HEAD, plus a few route-specific scopes.

use axum::http::Method;

/// Every scope a personal access token may carry (GitLab's `all_available_scopes`, without
/// the registry and observability ones that depend on features jobscope does not have).
pub const AVAILABLE_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_user",
    "create_runner",
    "manage_runner",
    "k8s_proxy",
    "self_rotate",
    "read_repository",
    "write_repository",
    "ai_features",
    "sudo",
    "admin_mode",
    "read_service_ping",
    "ci",
];

/// The scopes a route registers, in GitLab's order (route-specific first, then `api`,
/// `read_api`), and which of them allow this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteScopes {
    registered: Vec<&'static str>,
    allowed: Vec<&'static str>,
    /// `GET /personal_access_tokens/self` accepts a token of any scope.
    any: bool,
}

impl RouteScopes {
    pub fn for_route(method: &Method, route: Option<&str>) -> RouteScopes {
        let read = method == Method::GET || method == Method::HEAD;
        let route = route.unwrap_or("");
        let mut specific: Vec<&'static str> = Vec::new();
        let mut specific_allowed: Vec<&'static str> = Vec::new();
        let mut any = false;
        let rel = route.strip_prefix("/api/v4").unwrap_or(route);
        match rel {
            "/personal_access_tokens/self" if read => any = true,
            "/personal_access_tokens/self/rotate" => {
                specific.push("self_rotate");
                specific_allowed.push("self_rotate");
            }
            "/version" | "/metadata" => {
                specific.extend(["read_user", "ai_features"]);
                if read {
                    specific_allowed.extend(["read_user", "ai_features"]);
                }
            }
            _ if rel.starts_with("/ci/jobs") => {
                // The CI system's own API: a dedicated scope, for every method.
                specific.push("ci");
                specific_allowed.push("ci");
            }
            _ if rel == "/user" || rel.starts_with("/users") => {
                specific.push("read_user");
                if read {
                    specific_allowed.push("read_user");
                }
            }
            _ => {}
        }
        let mut registered = specific.clone();
        registered.extend(["api", "read_api"]);
        let mut allowed = specific_allowed;
        allowed.push("api");
        if read {
            allowed.push("read_api");
        }
        RouteScopes {
            registered,
            allowed,
            any,
        }
    }

    pub fn permits(&self, token_scopes: &[String]) -> bool {
        self.any
            || token_scopes
                .iter()
                .any(|s| self.allowed.iter().any(|a| a == s))
    }

    /// The `scope` field of an `insufficient_scope` answer.
    pub fn registered(&self) -> String {
        self.registered.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn read_api_is_get_only() {
        let get =
            RouteScopes::for_route(&Method::GET, Some("/api/v4/projects/{id}/job_token_scope"));
        let patch = RouteScopes::for_route(
            &Method::PATCH,
            Some("/api/v4/projects/{id}/job_token_scope"),
        );
        assert!(get.permits(&s(&["read_api"])));
        assert!(!patch.permits(&s(&["read_api"])));
        assert!(patch.permits(&s(&["api"])));
        assert!(!get.permits(&s(&["read_user"])));
        assert_eq!(patch.registered(), "api read_api");
    }

    #[test]
    fn user_routes_take_read_user() {
        let get = RouteScopes::for_route(&Method::GET, Some("/api/v4/user"));
        assert!(get.permits(&s(&["read_user"])));
        let post = RouteScopes::for_route(&Method::POST, Some("/api/v4/users"));
        assert!(!post.permits(&s(&["read_user"])));
        assert_eq!(post.registered(), "read_user api read_api");
        let me = RouteScopes::for_route(&Method::GET, Some("/api/v4/personal_access_tokens/self"));
        assert!(me.permits(&s(&["read_repository"])));
    }
}
