//! `:id` path parameters (`ProjectRef`, `NamespaceRef`): parsing never panics, and whatever
//! parses survives its own URL encoding (what the client sends) unchanged.
#![no_main]

use jobscope_types::{NamespaceRef, ProjectRef};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    // What the router hands the parser: the segment, percent-decoded.
    let Ok(decoded) = percent_decode_str(raw).decode_utf8() else {
        return;
    };
    if let Some(r) = ProjectRef::parse(&decoded) {
        let segment = r.to_segment();
        assert!(!segment.contains('/'), "an encoded path is one segment");
        let again = percent_decode_str(&segment)
            .decode_utf8()
            .expect("our own encoding decodes");
        assert_eq!(ProjectRef::parse(&again), Some(r));
    }
    if let Some(r) = NamespaceRef::parse(&decoded) {
        let segment = r.to_segment();
        assert!(!segment.contains('/'), "an encoded path is one segment");
        let again = percent_decode_str(&segment)
            .decode_utf8()
            .expect("our own encoding decodes");
        assert_eq!(NamespaceRef::parse(&again), Some(r));
    }
});
