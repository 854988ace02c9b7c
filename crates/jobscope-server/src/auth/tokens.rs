//! Token generation and digests. Plaintext tokens exist only in the answer that creates them;
//! the store keeps the SHA-256 digest, and lookups are by digest equality.

use rand::Rng;
use sha2::{Digest, Sha256};

/// GitLab's personal access token prefix.
pub const PAT_PREFIX: &str = "glpat-";
/// GitLab's CI job token prefix.
pub const JOB_TOKEN_PREFIX: &str = "glcbt-";

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// A random token body of `len` characters from GitLab's token alphabet.
pub fn random_secret(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// A new personal access token: `glpat-` and 20 random characters (GitLab's legacy format).
pub fn new_personal_access_token() -> String {
    format!("{PAT_PREFIX}{}", random_secret(20))
}

/// Hex SHA-256 of the whole token string.
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token as received: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn new(s: impl Into<String>) -> Self {
        SecretToken(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> String {
        digest(&self.0)
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_gitlabs() {
        let t = new_personal_access_token();
        assert!(t.starts_with("glpat-"));
        assert_eq!(t.len(), 26);
        assert_ne!(t, new_personal_access_token());
        assert_eq!(digest("abc").len(), 64);
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            format!("{:?}", SecretToken::new("glpat-x")),
            "SecretToken(<redacted>)"
        );
    }
}
