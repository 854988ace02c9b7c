//! Lists, read page after page until the end, and never cut short without an error.
//!
//! The next page is the `Link: <…>; rel="next"` target (GitLab's offset and keyset paging
//! both give it); failing that, `X-Next-Page` (what go-gitlab follows). Only the next link's
//! query is used, on the client's own base URL, so a server that builds links from another
//! host name (behind a proxy) still pages correctly. When the first page gave `X-Total` and
//! fewer items arrived in all, the list changed while it was read (offset paging then skips
//! items) and the stream ends with [`Error::Pagination`] instead of a silently short list.

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use http::Method;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{Call, Client, decode};
use crate::endpoint::Pageable;
use crate::error::{Error, Result};

/// Items per page the client asks for: GitLab's maximum.
pub const PER_PAGE: u32 = 100;

/// A guard against a server whose next link never ends.
const MAX_PAGES: u32 = 100_000;

struct Cursor {
    client: Client,
    path: String,
    base: Vec<(String, String)>,
    next: Option<Vec<(String, String)>>,
    total: Option<u64>,
    seen: u64,
    pages: u32,
}

impl Client {
    /// The items of a list endpoint as a stream, fetched a page at a time (100 per page unless
    /// the endpoint sets `per_page`).
    pub fn paged<T>(&self, endpoint: &dyn Pageable) -> BoxStream<'static, Result<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let mut base = endpoint.query();
        if !base.iter().any(|(k, _)| k == "per_page") {
            base.push(("per_page".into(), PER_PAGE.to_string()));
        }
        let cursor = Cursor {
            client: self.clone(),
            path: endpoint.path(),
            next: Some(base.clone()),
            base,
            total: None,
            seen: 0,
            pages: 0,
        };
        stream::try_unfold(cursor, |mut cursor| async move {
            let Some(query) = cursor.next.take() else {
                return Ok(None);
            };
            let items: Vec<T> = cursor.fetch(query).await?;
            Ok(Some((stream::iter(items.into_iter().map(Ok)), cursor)))
        })
        .try_flatten()
        .boxed()
    }

    /// Every item of a list endpoint (all pages).
    pub async fn all<T>(&self, endpoint: &dyn Pageable) -> Result<Vec<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.paged(endpoint).try_collect().await
    }
}

impl Cursor {
    async fn fetch<T: DeserializeOwned>(&mut self, query: Vec<(String, String)>) -> Result<Vec<T>> {
        self.pages += 1;
        let call = Call {
            method: Method::GET,
            url: self.client.url(&self.path, &query)?,
            body: None,
            idempotent: true,
            graphql: false,
        };
        let what = || format!("GET {}", call.url.path());
        let response = self.client.send(&call).await?;
        let items: Vec<T> = decode(&call, &response)?;
        if self.pages == 1 {
            self.total = response
                .header("x-total")
                .and_then(|v| v.trim().parse().ok());
        }
        self.seen += items.len() as u64;
        let next = match response.header("link").and_then(next_link) {
            Some(url) => Some(query_of(&url)),
            None => response
                .header("x-next-page")
                .map(str::trim)
                .filter(|v| !v.is_empty() && *v != "0")
                .map(|page| with_page(&self.base, page)),
        };
        match next {
            Some(next) if next == query => {
                return Err(Error::Pagination {
                    what: what(),
                    message: "the server's next page is the page just read".into(),
                });
            }
            Some(_) if self.pages >= MAX_PAGES => {
                return Err(Error::Pagination {
                    what: what(),
                    message: format!("more than {MAX_PAGES} pages"),
                });
            }
            Some(_) if items.is_empty() => {
                return Err(Error::Pagination {
                    what: what(),
                    message: "an empty page that claims a next one".into(),
                });
            }
            Some(next) => self.next = Some(next),
            None => {
                if let Some(total) = self.total
                    && self.seen < total
                {
                    return Err(Error::Pagination {
                        what: what(),
                        message: format!(
                            "the server counted {total} items but sent {}; the list changed \
                             while it was being read, try again",
                            self.seen
                        ),
                    });
                }
            }
        }
        Ok(items)
    }
}

/// The `rel="next"` target of a `Link` header.
pub(crate) fn next_link(header: &str) -> Option<Url> {
    for part in header.split(',') {
        let part = part.trim();
        let Some(rest) = part.strip_prefix('<') else {
            continue;
        };
        let Some((target, params)) = rest.split_once('>') else {
            continue;
        };
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.strip_prefix("rel=")
                .map(|v| v.trim_matches('"').split_whitespace().any(|r| r == "next"))
                .unwrap_or(false)
        });
        if is_next {
            return Url::parse(target).ok();
        }
    }
    None
}

fn query_of(url: &Url) -> Vec<(String, String)> {
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn with_page(base: &[(String, String)], page: &str) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = base.iter().filter(|(k, _)| k != "page").cloned().collect();
    q.push(("page".into(), page.to_owned()));
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let h = r#"<https://g.example/api/v4/projects/1/job_token_scope/allowlist?id=1&page=2&per_page=20>; rel="next", <https://g.example/api/v4/projects/1/job_token_scope/allowlist?id=1&page=1&per_page=20>; rel="first", <https://g.example/api/v4/x?page=3>; rel="last""#;
        let next = next_link(h).unwrap();
        assert_eq!(next.query(), Some("id=1&page=2&per_page=20"));
        assert!(next_link(r#"<https://g/x?page=1>; rel="first""#).is_none());
        assert!(next_link("garbage").is_none());
        assert!(next_link(r#"<https://g/x?cursor=abc>; rel="next last""#).is_some());
        assert_eq!(
            with_page(
                &[
                    ("per_page".into(), "100".into()),
                    ("page".into(), "1".into())
                ],
                "2"
            ),
            vec![
                ("per_page".to_owned(), "100".to_owned()),
                ("page".to_owned(), "2".to_owned())
            ]
        );
    }
}
