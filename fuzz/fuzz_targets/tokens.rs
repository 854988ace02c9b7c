//! Where credentials are found (headers, query, Bearer, Basic): any request head yields at
//! most one token, never a panic, and a token that fails the shape check is never one a
//! lookup would be made for.
#![no_main]

use jobscope_server::auth::caller::find_token;
use jobscope_server::auth::job::find_job_token;
use jobscope_server::auth::tokens::{JOB_TOKEN_PREFIX, PAT_PREFIX, TokenHasher};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The input is split into a query string and up to four header values.
    let mut fields = data.split(|b| *b == 0xff);
    let query = fields.next().unwrap_or_default();
    let mut builder = http::Request::builder();
    if let Ok(q) = std::str::from_utf8(query) {
        let uri = format!("/api/v4/job_token/allowed?{q}");
        if uri.parse::<http::Uri>().is_ok() {
            builder = builder.uri(uri);
        }
    }
    for name in ["private-token", "job-token", "authorization", "sudo"] {
        if let Some(value) = fields.next()
            && let Ok(v) = http::HeaderValue::from_bytes(value)
        {
            builder = builder.header(name, v);
        }
    }
    let Ok(request) = builder.body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let hasher = TokenHasher::new("00112233445566778899aabbccddeeff");
    if let Some(t) = find_token(&parts) {
        let shaped = t.has_shape(PAT_PREFIX);
        assert!(!shaped || t.expose().starts_with(PAT_PREFIX));
        assert!(!shaped || t.expose().len() <= PAT_PREFIX.len() + 255);
        assert_eq!(t.digest(&hasher).len(), 64);
    }
    if let Some(t) = find_job_token(&parts) {
        let shaped = t.has_shape(JOB_TOKEN_PREFIX);
        assert!(!shaped || t.expose().starts_with(JOB_TOKEN_PREFIX));
        assert_eq!(t.digest(&hasher).len(), 64);
    }
});
