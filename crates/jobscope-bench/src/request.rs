//! What the load generator sends: the target, the request specifications (from the command
//! line or a JSON-lines file) and their encoding as HTTP/1.1 bytes.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};

use anyhow::{Context, bail};
use serde::Deserialize;

/// Where requests go: the address to connect to, the `Host` header, and a path prefix taken
/// from the base URL (`http://host:port/prefix`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `host:port` as written in the URL (the `Host` header).
    pub host_header: String,
    /// Host name or address, to resolve.
    pub host: String,
    pub port: u16,
    /// The base URL's path without its trailing `/` ("" for none).
    pub prefix: String,
}

impl Target {
    /// Parses `--url`: only `http://` (no TLS), a host, an optional port and path; no query.
    pub fn parse(base: &str) -> anyhow::Result<Target> {
        let url =
            url::Url::parse(base).with_context(|| format!("--url {base:?} is not a valid URL"))?;
        if url.scheme() != "http" {
            bail!(
                "--url {base:?}: only http:// is supported (got scheme {:?})",
                url.scheme()
            );
        }
        let Some(host) = url.host_str() else {
            bail!("--url {base:?} has no host");
        };
        if url.query().is_some() || url.fragment().is_some() {
            bail!("--url {base:?}: give the query with --path or in the requests file");
        }
        if !url.username().is_empty() || url.password().is_some() {
            bail!("--url {base:?}: credentials in the URL are not supported; use --header");
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let host_header = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        // `Url` writes IPv6 hosts with brackets; the socket address wants them without.
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Ok(Target {
            host_header,
            host: bare,
            port,
            prefix: url.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The first address the host resolves to.
    pub fn resolve(&self) -> anyhow::Result<SocketAddr> {
        (self.host.as_str(), self.port)
            .to_socket_addrs()
            .with_context(|| format!("resolving {}", self.host))?
            .next()
            .with_context(|| format!("{} resolves to no address", self.host))
    }
}

/// One request to send.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// `GET` unless given.
    #[serde(default = "default_method")]
    pub method: String,
    /// Path and query, starting with `/` (appended to the base URL's path).
    pub path: String,
    /// Header names and values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A request body (sent with `Content-Length`).
    #[serde(default)]
    pub body: Option<String>,
}

fn default_method() -> String {
    "GET".to_owned()
}

impl RequestSpec {
    /// A `GET` of `path` with no headers.
    pub fn get(path: &str) -> RequestSpec {
        RequestSpec {
            method: default_method(),
            path: path.to_owned(),
            headers: BTreeMap::new(),
            body: None,
        }
    }

    /// Checks what would make a malformed request: an empty or non-token method, a path that
    /// does not start with `/` or holds spaces or control characters, header names that are
    /// not tokens, header values with line breaks.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.method.is_empty() || !self.method.bytes().all(is_token_byte) {
            bail!("method {:?} is not a valid HTTP method", self.method);
        }
        if !self.path.starts_with('/') {
            bail!("path {:?} must start with '/'", self.path);
        }
        if self
            .path
            .bytes()
            .any(|b| b == b' ' || b.is_ascii_control() || b >= 0x80)
        {
            bail!(
                "path {:?} holds a space, a control or a non-ASCII character (percent-encode it)",
                self.path
            );
        }
        for (name, value) in &self.headers {
            validate_header(name, value)?;
        }
        Ok(())
    }

    /// The request as HTTP/1.1 bytes: request line, `Host` (unless given), the headers,
    /// `Content-Length` for a body, a blank line, the body.
    pub fn encode(&self, target: &Target) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.path.len());
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(target.prefix.as_bytes());
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        let has = |n: &str| self.headers.keys().any(|k| k.eq_ignore_ascii_case(n));
        if !has("host") {
            out.extend_from_slice(b"Host: ");
            out.extend_from_slice(target.host_header.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        if let Some(body) = &self.body
            && !has("content-length")
        {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if let Some(body) = &self.body {
            out.extend_from_slice(body.as_bytes());
        }
        out
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn validate_header(name: &str, value: &str) -> anyhow::Result<()> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        bail!("header name {name:?} is not a valid HTTP header name");
    }
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        bail!("the value of header {name:?} holds a line break or NUL");
    }
    Ok(())
}

/// Parses one `--header 'Name: value'`.
pub fn parse_header(arg: &str) -> anyhow::Result<(String, String)> {
    let Some((name, value)) = arg.split_once(':') else {
        bail!("--header {arg:?} must look like 'Name: value'");
    };
    let (name, value) = (name.trim(), value.trim());
    validate_header(name, value).with_context(|| format!("--header {arg:?}"))?;
    Ok((name.to_owned(), value.to_owned()))
}

/// Parses a requests file: one JSON object per line,
/// `{"path": "/…", "headers": {"Name": "value"}}` (optionally `"method"` and `"body"`).
/// Blank lines are skipped. `source` names the file in error messages.
pub fn parse_requests_file(text: &str, source: &str) -> anyhow::Result<Vec<RequestSpec>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let spec: RequestSpec = serde_json::from_str(line)
            .with_context(|| format!("{source} line {}: not a request object", i + 1))?;
        spec.validate()
            .with_context(|| format!("{source} line {}", i + 1))?;
        out.push(spec);
    }
    if out.is_empty() {
        bail!("{source} holds no requests");
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target::parse("http://127.0.0.1:8080").unwrap()
    }

    #[test]
    fn parses_targets() {
        let t = target();
        assert_eq!(t.host_header, "127.0.0.1:8080");
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("127.0.0.1", 8080, "")
        );
        let t = Target::parse("http://localhost/api/v4/").unwrap();
        assert_eq!((t.host_header.as_str(), t.port), ("localhost", 80));
        assert_eq!(t.prefix, "/api/v4");
        let t = Target::parse("http://[::1]:9000").unwrap();
        assert_eq!(
            (t.host.as_str(), t.host_header.as_str()),
            ("::1", "[::1]:9000")
        );
        for bad in [
            "https://h",
            "127.0.0.1:8080",
            "http://h/?q=1",
            "http://u:p@h/",
            "nonsense",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encodes_requests() {
        let mut spec = RequestSpec::get("/api/v4/job_token/allowed?project=2");
        spec.headers.insert("JOB-TOKEN".into(), "glcbt-64_x".into());
        assert_eq!(
            String::from_utf8(spec.encode(&target())).unwrap(),
            "GET /api/v4/job_token/allowed?project=2 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\
             JOB-TOKEN: glcbt-64_x\r\n\r\n"
        );
        let mut with_body = RequestSpec::get("/x");
        with_body.method = "POST".into();
        with_body.body = Some("{}".into());
        with_body.headers.insert("host".into(), "example".into());
        let prefixed = Target::parse("http://h:1/base").unwrap();
        assert_eq!(
            String::from_utf8(with_body.encode(&prefixed)).unwrap(),
            "POST /base/x HTTP/1.1\r\nhost: example\r\nContent-Length: 2\r\n\r\n{}"
        );
    }

    #[test]
    fn parses_header_arguments() {
        assert_eq!(
            parse_header("PRIVATE-TOKEN:  glpat-abc ").unwrap(),
            ("PRIVATE-TOKEN".to_owned(), "glpat-abc".to_owned())
        );
        assert_eq!(parse_header("X: a:b").unwrap().1, "a:b");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": value").is_err());
        assert!(parse_header("Bad Name: v").is_err());
    }

    #[test]
    fn parses_request_files() {
        let text = r#"{"path": "/a", "headers": {"JOB-TOKEN": "t1"}}

            {"path": "/b?x=1"}
            {"method": "DELETE", "path": "/c", "body": "x"}
        "#;
        let specs = parse_requests_file(text, "r.jsonl").unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[0].headers["JOB-TOKEN"], "t1");
        assert_eq!(
            (specs[1].method.as_str(), specs[1].path.as_str()),
            ("GET", "/b?x=1")
        );
        assert_eq!(specs[2].body.as_deref(), Some("x"));

        let err = |t: &str| format!("{:#}", parse_requests_file(t, "r.jsonl").unwrap_err());
        assert!(err("").contains("holds no requests"));
        assert!(err("{\"path\": \"/a\"}\nnot json").contains("r.jsonl line 2"));
        assert!(err(r#"{"path": "a"}"#).contains("must start with '/'"));
        assert!(err(r#"{"path": "/a b"}"#).contains("space"));
        assert!(err(r#"{"path": "/a", "header": {}}"#).contains("line 1"));
        assert!(err(r#"{"path": "/a", "headers": {"X": "a\r\nb"}}"#).contains("line break"));
        assert!(err(r#"{"path": "/a", "headers": {"X": 1}}"#).contains("line 1"));
        assert!(err(r#"{"path": "/a", "method": "G T"}"#).contains("method"));
    }
}
