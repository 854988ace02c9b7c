//! How a secret (a personal access token, a job token) becomes what the store keeps.
//!
//! The store never sees a plaintext token: it keeps, and is searched by, the hex SHA-256 of
//! the token followed by the instance's salt, as GitLab digests tokens with an instance-wide
//! secret (`TokenAuthenticatableStrategies::Digest`). The salt is made at random when the
//! database is created (`instance_secrets`) and travels with an export, so a dump of one
//! instance cannot be matched against a table of digests made for another, or for none.
//! Databases that held tokens before the salt existed keep the empty salt, so their tokens
//! keep working.

use sha2::{Digest, Sha256};

/// Hex SHA-256 of `token` followed by `salt`: the `token_digest` a store keeps.
pub fn token_digest(token: &str, salt: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(salt.as_bytes());
    let mut out = String::with_capacity(64);
    push_hex(&mut out, &hasher.finalize());
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

/// Is `salt` one a backend may have made: empty (a database from before salting) or 32
/// lowercase hexadecimal digits?
pub fn is_valid_salt(salt: &str) -> bool {
    salt.is_empty()
        || (salt.len() == 32 && salt.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_sha256_of_token_then_salt() {
        // SHA-256("abc"), the FIPS 180-2 example: with the empty salt the digest is the
        // token's own, as in databases from before salting.
        assert_eq!(
            token_digest("abc", ""),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(token_digest("ab", "c"), token_digest("abc", ""));
        assert_ne!(
            token_digest(
                "glpat-abcdefghijklmnopqrst",
                "00112233445566778899aabbccddeeff"
            ),
            token_digest("glpat-abcdefghijklmnopqrst", "")
        );
    }

    #[test]
    fn salts() {
        assert!(is_valid_salt(""));
        assert!(is_valid_salt("00112233445566778899aabbccddeeff"));
        assert!(!is_valid_salt("00112233445566778899AABBCCDDEEFF"));
        assert!(!is_valid_salt("0011"));
        assert!(!is_valid_salt("00112233445566778899aabbccddeeff00"));
    }
}
