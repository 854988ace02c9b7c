//! The UI's stylesheet and script, embedded in the binary. Their URLs carry a digest of their
//! content, so they are cached for a year and a new binary's files are fetched anew.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const CSS: &str = include_str!("assets/ui.css");
const JS: &str = include_str!("assets/ui.js");

/// The first 16 hexadecimal digits of the SHA-256 of both files.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    h.update(CSS.as_bytes());
    h.update([0]);
    h.update(JS.as_bytes());
    let mut out = String::with_capacity(16);
    crate::auth::tokens::push_hex(&mut out, &h.finalize()[..8]);
    out
});

/// The URL of an asset (`ui.css`, `ui.js`).
pub fn url(file: &str) -> String {
    format!("/-/ui/assets/{}/{file}", &*VERSION)
}

/// GET /-/ui/assets/{version}/{file}
pub async fn serve(Path((version, file)): Path<(String, String)>) -> Response {
    let (body, content_type) = match file.as_str() {
        "ui.css" => (CSS, "text/css; charset=utf-8"),
        "ui.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return crate::error::ApiError::RouteNotFound.into_response(),
    };
    // An old page may ask for an earlier version: it gets today's file, not cached for long.
    let cache = if version == *VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}
