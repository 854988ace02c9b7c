//! Token generation and digests. Plaintext tokens exist only in the answer that creates them;
//! the store keeps the salted SHA-256 digest ([`jobscope_store::secrets`]), and lookups are by
//! digest equality.

use std::sync::Arc;

pub use jobscope_store::secrets::push_hex;
use rand::Rng;

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

/// The version field of GitLab's routable token format.
const ROUTABLE_VERSION: &str = "01";

/// A new personal access token for `user` in GitLab's routable format: `glpat-`, then the
/// base64url (unpadded) of 16 random bytes followed by a routing payload (`u:` and the user's
/// id in base 36), then `.01.`, the payload's length in bytes as 2 base-36 digits, and the
/// CRC32 of everything before it as 7 base-36 digits. The checksum lets the server refuse a
/// mistyped or made-up token before any database access ([`SecretToken::has_shape`]).
pub fn new_personal_access_token(user: jobscope_types::UserId) -> String {
    use base64::Engine as _;

    let mut payload = vec![0u8; 16];
    rand::rng().fill_bytes(&mut payload);
    payload.extend_from_slice(b"u:");
    push_base36(&mut payload, u64::try_from(user.get()).unwrap_or(0), 1);
    let mut token = String::with_capacity(64);
    token.push_str(PAT_PREFIX);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
    token.push('.');
    token.push_str(ROUTABLE_VERSION);
    token.push('.');
    let mut digits = Vec::with_capacity(9);
    push_base36(&mut digits, payload.len() as u64, 2);
    token.extend(digits.iter().map(|b| char::from(*b)));
    digits.clear();
    push_base36(&mut digits, u64::from(crc32(token.as_bytes())), 7);
    token.extend(digits.iter().map(|b| char::from(*b)));
    token
}

/// Appends `n` in lowercase base 36, left-padded with zeros to at least `width` digits.
fn push_base36(out: &mut Vec<u8>, mut n: u64, width: usize) {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut buf = [b'0'; 16];
    let mut i = buf.len();
    while n > 0 || buf.len() - i < width {
        i -= 1;
        buf[i] = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.extend_from_slice(&buf[i..]);
}

/// Parses lowercase base 36.
fn parse_base36(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &d| {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'z' => d - b'a' + 10,
            _ => return None,
        };
        n.checked_mul(36)?.checked_add(u64::from(v))
    })
}

/// CRC-32 (IEEE 802.3, as zlib's `crc32`), with a table built at compile time.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    !bytes
        .iter()
        .fold(!0u32, |c, &b| TABLE[usize::from((c as u8) ^ b)] ^ (c >> 8))
}

/// Is `token` (`rest` being what follows its prefix) a well-formed routable token: base64url
/// payload, `.01.`, the payload length that matches, and the right CRC32?
fn is_routable(token: &str, rest: &str) -> bool {
    let bytes = rest.as_bytes();
    // payload, ".01.", 2 length digits, 7 checksum digits
    let Some(payload_len) = bytes.len().checked_sub(13) else {
        return false;
    };
    let (payload, tail) = bytes.split_at(payload_len);
    if payload.is_empty()
        || !payload
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        || &tail[..4] != b".01."
        || payload.len() % 4 == 1
    {
        return false;
    }
    let decoded_len = payload.len() / 4 * 3 + (payload.len() % 4).saturating_sub(1);
    let (Some(length), Some(checksum)) = (parse_base36(&tail[4..6]), parse_base36(&tail[6..]))
    else {
        return false;
    };
    let checked = &token.as_bytes()[..token.len() - 7];
    length == decoded_len as u64 && checksum == u64::from(crc32(checked))
}

/// Could `token` be a token jobscope issued with `prefix`: either GitLab's legacy shape (8 to
/// 255 of letters, digits, `_` and `-` after the prefix) or, when it has a `.`, a routable
/// token whose length field and CRC32 check out.
pub fn has_shape(token: &str, prefix: &str) -> bool {
    token.strip_prefix(prefix).is_some_and(|rest| {
        (8..=255).contains(&rest.len())
            && if rest.contains('.') {
                is_routable(token, rest)
            } else {
                rest.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
            }
    })
}

/// Turns tokens into the digests the store keeps, with the instance's salt
/// ([`jobscope_store::Store::token_salt`], read once when the server state is made).
#[derive(Clone)]
pub struct TokenHasher {
    salt: Arc<str>,
}

impl TokenHasher {
    pub fn new(salt: &str) -> Self {
        TokenHasher { salt: salt.into() }
    }

    /// The digest of `token`: hex SHA-256 of the token followed by the salt.
    pub fn digest(&self, token: &str) -> String {
        jobscope_store::token_digest(token, &self.salt)
    }
}

impl std::fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHasher(<salt>)")
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

    pub fn digest(&self, hasher: &TokenHasher) -> String {
        hasher.digest(&self.0)
    }

    /// Could this be a token jobscope issued with `prefix` (`glpat-` or `glcbt-`)? See
    /// [`has_shape`]. Anything else is refused without looking it up (C1.13): a malformed,
    /// mistyped or oversized credential costs no database work.
    pub fn has_shape(&self, prefix: &str) -> bool {
        has_shape(&self.0, prefix)
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use jobscope_types::UserId;

    use super::*;

    #[test]
    fn token_shapes() {
        let issued = new_personal_access_token(UserId::from(1_i64));
        assert!(SecretToken::new(issued.as_str()).has_shape(PAT_PREFIX));
        assert!(SecretToken::new("glpat-root-test-token-0001").has_shape(PAT_PREFIX));
        assert!(SecretToken::new("glpat-abcdefghijklmnopqrst").has_shape(PAT_PREFIX));
        assert!(SecretToken::new("glcbt-64_AbCdEfGhIjKlMnOpQrSt").has_shape(JOB_TOKEN_PREFIX));
        for bad in [
            "",
            "glpat-",
            "glpat-short",
            "GLPAT-abcdefghijkl",
            "abcdefghijklmnopqrst",
            "glpat-abc def ghijkl",
            "glpat-abcdefgh\u{e9}ijkl",
            "glpat-abcdefgh.ijklmn",
            "glcbt-64_AbCdEfGhIjKlMnOpQrSt",
        ] {
            assert!(!SecretToken::new(bad).has_shape(PAT_PREFIX), "{bad:?}");
        }
        assert!(!SecretToken::new(format!("glpat-{}", "a".repeat(256))).has_shape(PAT_PREFIX));
        assert!(!SecretToken::new(issued).has_shape(JOB_TOKEN_PREFIX));
    }

    #[test]
    fn routable_tokens_carry_a_checksum() {
        for user in [1, 35, 36, 123_456_789] {
            let t = new_personal_access_token(UserId::from(user as i64));
            // glpat- + base64url(16 random bytes + "u:" + id) + ".01." + 2 + 7 digits
            let (head, tail) = t.rsplit_once('.').unwrap();
            assert!(head.starts_with("glpat-") && head.ends_with(".01"), "{t}");
            assert_eq!(tail.len(), 9, "{t}");
            let payload_len = 16 + 2 + radix36(user as u64).len();
            assert_eq!(
                parse_base36(&tail.as_bytes()[..2]),
                Some(payload_len as u64),
                "{t}"
            );
            assert!(has_shape(&t, PAT_PREFIX), "{t}");
            // Any one character changed, the checksum no longer matches.
            for i in PAT_PREFIX.len()..t.len() {
                let mut b = t.clone().into_bytes();
                b[i] = if b[i] == b'a' { b'b' } else { b'a' };
                let changed = String::from_utf8(b).unwrap();
                assert!(!has_shape(&changed, PAT_PREFIX), "{changed} from {t}");
            }
        }
        assert_ne!(
            new_personal_access_token(UserId::from(1_i64)),
            new_personal_access_token(UserId::from(1_i64))
        );
        // The checksum is zlib's CRC32 ("The quick brown fox..." is the usual check value).
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        assert_eq!(crc32(b""), 0);
    }

    fn radix36(n: u64) -> String {
        let mut v = Vec::new();
        push_base36(&mut v, n, 1);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn base36() {
        assert_eq!(radix36(0), "0");
        assert_eq!(radix36(35), "z");
        assert_eq!(radix36(36), "10");
        let mut v = Vec::new();
        push_base36(&mut v, 18, 2);
        push_base36(&mut v, u64::from(u32::MAX), 7);
        assert_eq!(v, b"0i1z141z3");
        assert_eq!(parse_base36(b"1z141z3"), Some(u64::from(u32::MAX)));
        assert_eq!(parse_base36(b"1Z"), None);
    }

    #[test]
    fn digests_are_salted_lowercase_hex_sha256() {
        assert_eq!(
            TokenHasher::new("").digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let salted = TokenHasher::new("00112233445566778899aabbccddeeff");
        assert_eq!(
            salted.digest("abc"),
            jobscope_store::token_digest("abc00112233445566778899aabbccddeeff", "")
        );
        assert_eq!(
            SecretToken::new("abc").digest(&salted),
            salted.digest("abc")
        );
        assert_eq!(format!("{salted:?}"), "TokenHasher(<salt>)");
        let mut s = String::from("x");
        push_hex(&mut s, &[0x00, 0x0f, 0xa5, 0xff]);
        assert_eq!(s, "x000fa5ff");
        assert_eq!(
            format!("{:?}", SecretToken::new("glpat-x")),
            "SecretToken(<redacted>)"
        );
    }
}
