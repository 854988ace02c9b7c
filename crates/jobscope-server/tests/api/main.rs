//! Integration tests of the HTTP API, in process (one binary, see crates.io's layout).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod authz_matrix;
mod cache;
mod enforcement;
mod helpers;
mod limits;
mod monitoring;
mod openapi;
mod robustness;
mod scope_endpoints;
mod security_c1;
mod substrate;
mod ui;
