//! Every REST endpoint the client knows, one struct each. Constructors take what the endpoint
//! requires; optional parameters are builder methods. Fields are private so that new
//! parameters never break callers.

pub mod audit_events;
pub mod ci;
pub mod groups;
pub mod members;
pub mod meta;
pub mod projects;
pub mod scope;
pub mod settings;
pub mod tokens;
pub mod users;

/// Declares an endpoint struct's `Endpoint` impl from its method and a path expression.
macro_rules! endpoint {
    ($ty:ty, $method:ident, |$s:ident| $path:expr) => {
        impl $crate::endpoint::Endpoint for $ty {
            fn method(&self) -> http::Method {
                http::Method::$method
            }
            fn path(&self) -> String {
                let $s = self;
                $path
            }
        }
    };
    ($ty:ty, $method:ident, |$s:ident| $path:expr, query = |$q:ident| $query:expr) => {
        impl $crate::endpoint::Endpoint for $ty {
            fn method(&self) -> http::Method {
                http::Method::$method
            }
            fn path(&self) -> String {
                let $s = self;
                $path
            }
            fn query(&self) -> Vec<(String, String)> {
                let $q = self;
                $query
            }
        }
    };
    ($ty:ty, $method:ident, |$s:ident| $path:expr, body = |$b:ident| $body:expr) => {
        impl $crate::endpoint::Endpoint for $ty {
            fn method(&self) -> http::Method {
                http::Method::$method
            }
            fn path(&self) -> String {
                let $s = self;
                $path
            }
            fn body(&self) -> Option<$crate::endpoint::Body> {
                let $b = self;
                $body
            }
        }
    };
}

pub(crate) use endpoint;
