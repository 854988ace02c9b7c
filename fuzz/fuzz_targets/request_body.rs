//! Request bodies (JSON or form, merged over the query string) and every coercion the
//! handlers apply to them: never a panic, and a refusal is always a client error (4xx).
#![no_main]

use axum::response::IntoResponse;
use jobscope_server::params::parse_request;
use libfuzzer_sys::fuzz_target;

/// Parameter names the routes read, so that the coercions meet the fuzzer's values.
const KEYS: &[&str] = &[
    "id",
    "page",
    "per_page",
    "enabled",
    "target_project_id",
    "target_group_id",
    "job_token_policies",
    "default_permissions",
    "direction",
    "expires_at",
    "scopes",
    "access_level",
    "name",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let content_type = match selector % 4 {
        0 => "application/json",
        1 => "application/x-www-form-urlencoded",
        2 => "application/merge-patch+json; charset=utf-8",
        _ => "text/plain",
    };
    let (query, body) = match rest.iter().position(|b| *b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    let query = std::str::from_utf8(query).ok();
    match parse_request(query, content_type, Some(body)) {
        Err(e) => {
            let status = e.into_response().status();
            assert!(status.is_client_error(), "refused with {status}");
        }
        Ok(params) => {
            let mut check = params.check();
            for key in KEYS {
                let _ = check.optional_int(key);
                let _ = check.optional_bool(key);
                let _ = check.optional_string(key);
                let _ = check.optional_date(key);
                let _ = check.string_array(key, false);
                let _ = check.optional_int_in(key, &[0, 10, 20, 30, 40, 50]);
            }
            if let Err(e) = check.done() {
                let status = e.into_response().status();
                assert!(status.is_client_error(), "refused with {status}");
            }
        }
    }
});
