//! `page` / `per_page` from any query string: never a panic, and either a 400 message or a
//! page request GitLab would accept (page ≥ 1, 1 ≤ per_page ≤ 100).
#![no_main]

use jobscope_server::pagination::{self, MAX_PER_PAGE};
use jobscope_server::params::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let params = Params::from_query(Some(query));
    let mut check = params.check();
    let page = pagination::parse(&mut check);
    if check.done().is_ok() {
        assert!(page.page >= 1);
        assert!((1..=MAX_PER_PAGE).contains(&page.per_page));
    }
});
