//! GitLab's offset pagination: `page` / `per_page` parameters and the `X-*` and `Link`
//! headers every list answer carries.

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use jobscope_store::{PageRequest, Paged};
use serde::Serialize;

use crate::params::{Check, Int};
use crate::urls::BaseUrl;

pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;

/// Reads `page` and `per_page`: integers ≥ 1 (beyond the 64-bit range too: a page that far
/// is empty); `per_page` above 100 is lowered to 100.
pub fn parse(check: &mut Check<'_>) -> PageRequest {
    let page = match check.optional_int("page").map(Int::saturating) {
        None => 1,
        Some(v) if v >= 1 => v.unsigned_abs(),
        Some(_) => {
            check.error("page does not have a valid value");
            1
        }
    };
    let per_page = match check.optional_int("per_page").map(Int::saturating) {
        None => DEFAULT_PER_PAGE,
        Some(v) if v >= 1 => v.unsigned_abs().min(MAX_PER_PAGE),
        Some(_) => {
            check.error("per_page does not have a valid value");
            DEFAULT_PER_PAGE
        }
    };
    PageRequest::new(page, per_page)
}

/// Builds the URL of another page: the request's path and query, with `page` and `per_page`
/// set.
fn page_url(base: &BaseUrl, uri: &Uri, page: u64, per_page: u64) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut saw_page = false;
    let mut saw_per_page = false;
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            match k.as_ref() {
                "page" => {
                    if !saw_page {
                        pairs.push(("page".into(), page.to_string()));
                    }
                    saw_page = true;
                }
                "per_page" => {
                    if !saw_per_page {
                        pairs.push(("per_page".into(), per_page.to_string()));
                    }
                    saw_per_page = true;
                }
                // Credentials never go into links.
                "private_token" | "access_token" | "job_token" => {}
                _ => pairs.push((k.into_owned(), v.into_owned())),
            }
        }
    }
    if !saw_page {
        pairs.push(("page".into(), page.to_string()));
    }
    if !saw_per_page {
        pairs.push(("per_page".into(), per_page.to_string()));
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let path = uri.path();
    let prefix = base.path_prefix();
    let full_path = if !prefix.is_empty() && !path.starts_with(prefix) {
        format!("{prefix}{path}")
    } else {
        path.to_owned()
    };
    let origin = &base.as_str()[..base.as_str().len() - prefix.len()];
    format!("{origin}{full_path}?{query}")
}

/// The pagination headers, in GitLab's order.
pub fn headers(base: &BaseUrl, uri: &Uri, page: PageRequest, total: u64) -> HeaderMap {
    let per_page = page.per_page.max(1);
    let total_pages = total.div_ceil(per_page).max(1);
    let current = page.page;
    let next = (current < total_pages).then(|| current + 1);
    // Kaminari: no previous page for the first page or beyond the last one.
    let prev = (current > 1 && current <= total_pages).then(|| current - 1);
    let mut h = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-per-page", per_page.to_string());
    put("x-page", current.to_string());
    put(
        "x-next-page",
        next.map(|n| n.to_string()).unwrap_or_default(),
    );
    put(
        "x-prev-page",
        prev.map(|n| n.to_string()).unwrap_or_default(),
    );
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(format!(
            "<{}>; rel=\"prev\"",
            page_url(base, uri, p, per_page)
        ));
    }
    if let Some(n) = next {
        links.push(format!(
            "<{}>; rel=\"next\"",
            page_url(base, uri, n, per_page)
        ));
    }
    links.push(format!(
        "<{}>; rel=\"first\"",
        page_url(base, uri, 1, per_page)
    ));
    links.push(format!(
        "<{}>; rel=\"last\"",
        page_url(base, uri, total_pages, per_page)
    ));
    put("link", links.join(", "));
    put("x-total", total.to_string());
    put("x-total-pages", total_pages.to_string());
    h
}

/// A JSON array answer with pagination headers.
pub fn respond<T: Serialize>(
    base: &BaseUrl,
    uri: &Uri,
    page: PageRequest,
    paged: Paged<T>,
) -> Response {
    let headers = headers(base, uri, page, paged.total);
    (headers, Json(paged.items)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    fn header(h: &HeaderMap, k: &str) -> String {
        h.get(k)
            .map(|v| v.to_str().unwrap_or("").to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn headers_for_a_middle_page() {
        let base = BaseUrl::new("http://h:1");
        let uri: Uri =
            "/api/v4/projects/g%2Fp/job_token_scope/allowlist?per_page=5&page=2&private_token=s"
                .parse()
                .unwrap_or_default();
        let h = headers(&base, &uri, PageRequest::new(2, 5), 12);
        assert_eq!(header(&h, "x-total"), "12");
        assert_eq!(header(&h, "x-total-pages"), "3");
        assert_eq!(header(&h, "x-next-page"), "3");
        assert_eq!(header(&h, "x-prev-page"), "1");
        assert_eq!(
            header(&h, "link"),
            "<http://h:1/api/v4/projects/g%2Fp/job_token_scope/allowlist?per_page=5&page=1>; rel=\"prev\", \
             <http://h:1/api/v4/projects/g%2Fp/job_token_scope/allowlist?per_page=5&page=3>; rel=\"next\", \
             <http://h:1/api/v4/projects/g%2Fp/job_token_scope/allowlist?per_page=5&page=1>; rel=\"first\", \
             <http://h:1/api/v4/projects/g%2Fp/job_token_scope/allowlist?per_page=5&page=3>; rel=\"last\""
        );
    }

    #[test]
    fn empty_and_last_pages() {
        let base = BaseUrl::new("http://h");
        let uri: Uri = "/x".parse().unwrap_or_default();
        let h = headers(&base, &uri, PageRequest::new(1, 20), 0);
        assert_eq!(header(&h, "x-total-pages"), "1");
        assert_eq!(header(&h, "x-next-page"), "");
        assert_eq!(header(&h, "x-prev-page"), "");
        assert_eq!(
            header(&h, "link"),
            "<http://h/x?page=1&per_page=20>; rel=\"first\", <http://h/x?page=1&per_page=20>; rel=\"last\""
        );
    }

    #[test]
    fn parameters() {
        let p = Params::from_query(Some("page=2&per_page=500"));
        let mut c = p.check();
        assert_eq!(parse(&mut c), PageRequest::new(2, 100));
        assert!(c.done().is_ok());
        for bad in ["per_page=0", "per_page=-1", "page=0", "page=x"] {
            let p = Params::from_query(Some(bad));
            let mut c = p.check();
            parse(&mut c);
            assert!(c.done().is_err(), "{bad}");
        }
    }
}
