//! Credentials, and the one header each of them travels in.

use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// How requests authenticate. The secret is never printed (`Debug` redacts it) and never
/// appears in an error.
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials (only `GET /version` and public reads work, and not all of those).
    #[default]
    None,
    /// A personal, project or group access token (`glpat-…`), sent as `PRIVATE-TOKEN`.
    PrivateToken(SecretString),
    /// An OAuth 2 access token, sent as `Authorization: Bearer`.
    OAuth(SecretString),
    /// A CI/CD job token (`CI_JOB_TOKEN`, `glcbt-…`), sent as `JOB-TOKEN`.
    JobToken(SecretString),
}

impl Auth {
    pub fn private_token(token: impl Into<String>) -> Auth {
        Auth::PrivateToken(SecretString::from(token.into()))
    }

    pub fn oauth(token: impl Into<String>) -> Auth {
        Auth::OAuth(SecretString::from(token.into()))
    }

    pub fn job_token(token: impl Into<String>) -> Auth {
        Auth::JobToken(SecretString::from(token.into()))
    }

    /// A short name for messages: "a personal access token", …
    pub fn describe(&self) -> &'static str {
        match self {
            Auth::None => "no credentials",
            Auth::PrivateToken(_) => "an access token",
            Auth::OAuth(_) => "an OAuth token",
            Auth::JobToken(_) => "a CI/CD job token",
        }
    }

    pub fn is_job_token(&self) -> bool {
        matches!(self, Auth::JobToken(_))
    }

    /// The REST header for these credentials.
    pub(crate) fn header(&self) -> Result<Option<(HeaderName, HeaderValue)>, Error> {
        let (name, value) = match self {
            Auth::None => return Ok(None),
            Auth::PrivateToken(t) => ("private-token", t.expose_secret().to_owned()),
            Auth::OAuth(t) => ("authorization", format!("Bearer {}", t.expose_secret())),
            Auth::JobToken(t) => ("job-token", t.expose_secret().to_owned()),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::Config(format!(
                "{} contains characters an HTTP header cannot carry",
                self.describe()
            ))
        })?;
        value.set_sensitive(true);
        Ok(Some((HeaderName::from_static(name), value)))
    }

    /// The header GitLab's GraphQL endpoint accepts: a bearer token (access tokens work as
    /// bearer tokens there). Job tokens cannot use GraphQL.
    pub(crate) fn graphql_header(&self) -> Result<Option<(HeaderName, HeaderValue)>, Error> {
        match self {
            Auth::PrivateToken(t) | Auth::OAuth(t) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", t.expose_secret()))
                    .map_err(|_| {
                        Error::Config(format!(
                            "{} contains characters an HTTP header cannot carry",
                            self.describe()
                        ))
                    })?;
                value.set_sensitive(true);
                Ok(Some((http::header::AUTHORIZATION, value)))
            }
            Auth::None | Auth::JobToken(_) => Ok(None),
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::PrivateToken(_) => f.write_str("Auth::PrivateToken(<redacted>)"),
            Auth::OAuth(_) => f.write_str("Auth::OAuth(<redacted>)"),
            Auth::JobToken(_) => f.write_str("Auth::JobToken(<redacted>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_redaction() {
        let a = Auth::private_token("glpat-secret");
        let (name, value) = a.header().unwrap().unwrap();
        assert_eq!(name, "private-token");
        assert_eq!(value, "glpat-secret");
        assert!(value.is_sensitive());
        assert!(!format!("{a:?}").contains("secret"));
        let (name, value) = Auth::oauth("abc").header().unwrap().unwrap();
        assert_eq!(
            (name.as_str(), value.to_str().unwrap()),
            ("authorization", "Bearer abc")
        );
        let (name, _) = Auth::job_token("glcbt-x").header().unwrap().unwrap();
        assert_eq!(name, "job-token");
        assert!(Auth::None.header().unwrap().is_none());
        assert!(Auth::job_token("x").graphql_header().unwrap().is_none());
        let err = Auth::private_token("bad\ntoken").header().unwrap_err();
        assert!(!err.to_string().contains("bad"));
    }
}
