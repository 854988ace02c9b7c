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
    let mut out = String::with_capacity(64);
    push_hex(&mut out, &Sha256::digest(token.as_bytes()));
    out
}

/// Appends `bytes` in lowercase hexadecimal (what `hex::encode` gives, without building the
/// string a character at a time: this runs on every authenticated request).
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
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

    /// Could this be a token jobscope issued with `prefix` (`glpat-` or `glcbt-`)? The
    /// prefix, then 8 to 255 of GitLab's token characters. Anything else is refused without
    /// looking it up (C1.13): a malformed or oversized credential costs no database work.
    pub fn has_shape(&self, prefix: &str) -> bool {
        self.0.strip_prefix(prefix).is_some_and(|rest| {
            (8..=255).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        })
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
    fn token_shapes() {
        let issued = new_personal_access_token();
        assert!(SecretToken::new(issued.as_str()).has_shape(PAT_PREFIX));
        assert!(SecretToken::new("glpat-root-test-token-0001").has_shape(PAT_PREFIX));
        assert!(SecretToken::new("glcbt-64_AbCdEfGhIjKlMnOpQrSt").has_shape(JOB_TOKEN_PREFIX));
        for bad in [
            "",
            "glpat-",
            "glpat-short",
            "GLPAT-abcdefghijkl",
            "abcdefghijklmnopqrst",
            "glpat-abc def ghijkl",
            "glpat-abcdefgh\u{e9}ijkl",
            "glcbt-64_AbCdEfGhIjKlMnOpQrSt",
        ] {
            assert!(!SecretToken::new(bad).has_shape(PAT_PREFIX), "{bad:?}");
        }
        assert!(!SecretToken::new(format!("glpat-{}", "a".repeat(256))).has_shape(PAT_PREFIX));
        assert!(!SecretToken::new(issued).has_shape(JOB_TOKEN_PREFIX));
    }

    #[test]
    fn digests_are_lowercase_hex_sha256() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut s = String::from("x");
        push_hex(&mut s, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(s, "x000fa5ff");
    }

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
