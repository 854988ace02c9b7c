//! Form bodies (`application/x-www-form-urlencoded`) and query strings, with repeated keys.

use axum::body::Bytes;

/// The fields of a form or query string, in order.
#[derive(Debug, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(bytes: &[u8]) -> FormData {
        FormData(
            form_urlencoded::parse(bytes)
                // A NUL byte is refused by GitLab everywhere; here it is simply dropped.
                .map(|(k, v)| (k.replace('\0', ""), v.replace('\0', "")))
                .collect(),
        )
    }

    pub fn from_body(body: &Bytes) -> FormData {
        Self::parse(body)
    }

    pub fn from_query(query: Option<&str>) -> FormData {
        Self::parse(query.unwrap_or("").as_bytes())
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// A positive page number (`page`), 1 when absent or invalid.
    pub fn page(&self) -> u64 {
        self.get("page")
            .parse::<u64>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_pages() {
        let f = FormData::parse(b"a=1&b=x+y&a=2&page=3&n=%00z");
        assert_eq!(f.get("a"), "1");
        assert_eq!(f.get("b"), "x y");
        assert_eq!(f.get("missing"), "");
        assert_eq!(f.get("n"), "z");
        assert_eq!(f.page(), 3);
        assert_eq!(FormData::parse(b"page=-1").page(), 1);
        assert_eq!(FormData::parse(b"page=99999999999999999999").page(), 1);
    }
}
