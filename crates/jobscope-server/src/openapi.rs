//! The OpenAPI 3.1 document of `/api/v4`, generated from the code: paths and methods come
//! from the `routes!` table, what each route reads and answers from the [`Op`] that the table
//! names next to its handler (`routes/docs.rs`), and the bodies' JSON Schemas from the wire
//! types of `jobscope_types::api` (schemars derives behind that crate's `schema` feature).
//!
//! The document is served at `GET /api/v4/openapi.json` without authentication and checked in
//! as `docs/openapi.json`; `tests/api/openapi.rs` fails when the two differ
//! (`JOBSCOPE_UPDATE_OPENAPI=1 cargo test -p jobscope-server --test api openapi` rewrites the
//! file).

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use crate::routes::{self, RouteSpec};

/// Where the document is served, below the API's prefix.
pub const PATH: &str = "/openapi.json";

/// How an operation authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// A personal access token is required (401 without one).
    Token,
    /// Anonymous callers are answered too (with what is public); a token adds rights.
    Optional,
    /// A CI/CD job token (`JOB-TOKEN`, `job_token`, Bearer or Basic `gitlab-ci-token`).
    Job,
}

/// The type of one parameter, as the server coerces it (`params.rs`).
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    Int,
    /// An integer ≥ 1 (ids, pages).
    Id,
    Bool,
    Str,
    /// A date `YYYY-MM-DD`.
    Date,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// One of these integers.
    IntOf(&'static [i64]),
    /// An integer from the first bound to the second, or null (`null`, or an empty form
    /// value) for none.
    NullableRange(i64, i64),
    /// A list of strings (JSON array, `key[]=` pairs or a comma-separated string).
    List(Option<&'static [&'static str]>),
    /// A string the server validates further (`validate.rs`): the ECMA regex it must match.
    Matching(&'static str),
}

/// Group and project paths, usernames: letters, digits and single `_`, `-`, `.` between them.
pub const PATH_PATTERN: &str = "^[A-Za-z0-9]+([_.-][A-Za-z0-9]+)*$";
/// Project and group names: a letter, digit or `_` first, then also `.`, `-` and spaces.
pub const NAME_PATTERN: &str = "^[A-Za-z0-9_][A-Za-z0-9_. -]*$";
/// An email address the server accepts.
pub const EMAIL_PATTERN: &str = "^[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+$";

impl Ty {
    fn schema(self) -> Value {
        match self {
            Ty::Int => json!({"type": "integer"}),
            Ty::Id => json!({"type": "integer", "minimum": 1}),
            Ty::Bool => json!({"type": "boolean"}),
            Ty::Str => json!({"type": "string"}),
            Ty::Date => json!({"type": "string", "format": "date"}),
            Ty::OneOf(values) => json!({"type": "string", "enum": values}),
            Ty::IntOf(values) => json!({"type": "integer", "enum": values}),
            Ty::NullableRange(min, max) => {
                json!({"type": ["integer", "null"], "minimum": min, "maximum": max})
            }
            Ty::List(None) => json!({"type": "array", "items": {"type": "string"}}),
            Ty::List(Some(values)) => {
                json!({"type": "array", "items": {"type": "string", "enum": values}})
            }
            Ty::Matching(pattern) => {
                json!({"type": "string", "pattern": pattern, "maxLength": 255})
            }
        }
    }
}

/// A query or body parameter that the handler reads through `Check`.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub description: &'static str,
}

/// An optional parameter.
pub const fn opt(name: &'static str, ty: Ty, description: &'static str) -> Param {
    Param {
        name,
        ty,
        required: false,
        description,
    }
}

/// A required parameter.
pub const fn req(name: &'static str, ty: Ty, description: &'static str) -> Param {
    Param {
        name,
        ty,
        required: true,
        description,
    }
}

/// `page` and `per_page`, which every list reads.
pub const PAGING: [Param; 2] = [
    opt("page", Ty::Id, "page to return (from 1)"),
    opt(
        "per_page",
        Ty::Id,
        "items per page (default 20, values above 100 read as 100)",
    ),
];

/// The schema of a response body.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T` (a reference to `#/components/schemas/T` for named types).
pub fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// What a successful answer carries.
#[derive(Clone, Copy, Debug)]
pub enum Success {
    /// A JSON body with this status.
    Body(u16, SchemaFn),
    /// A JSON array with GitLab's pagination headers (200).
    List(SchemaFn),
    /// `204 No Content`.
    NoContent,
}

/// An OpenAPI link from this operation's success answer to another operation.
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub name: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    /// Parameter of the target → runtime expression (`$response.body#/id`, `$request.path.id`).
    pub parameters: &'static [(&'static str, &'static str)],
}

/// What the code says about one route besides its method and path.
#[derive(Clone, Debug)]
pub struct Op {
    pub summary: &'static str,
    pub auth: Auth,
    /// Query parameters (GET, DELETE) or body fields (POST, PUT, PATCH).
    pub params: Vec<Param>,
    /// The answer when all goes well.
    pub success: Success,
    /// Error statuses beyond those every operation can answer (400, 401, 403, 404).
    pub errors: &'static [u16],
    pub links: Vec<Link>,
    /// `:id` is declared an integer (GitLab's allowlist POST and DELETE), not an id or path.
    pub integer_id: bool,
    /// Body fields of which at least one must be given (GitLab's `at_least_one_of`).
    pub at_least_one_of: &'static [&'static str],
}

impl Op {
    pub fn new(summary: &'static str, success: Success) -> Self {
        Op {
            summary,
            auth: Auth::Token,
            params: Vec::new(),
            success,
            errors: &[],
            links: Vec::new(),
            integer_id: false,
            at_least_one_of: &[],
        }
    }

    pub fn at_least_one_of(mut self, fields: &'static [&'static str]) -> Self {
        self.at_least_one_of = fields;
        self
    }

    pub fn integer_id(mut self) -> Self {
        self.integer_id = true;
        self
    }

    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    pub fn params(mut self, params: &[Param]) -> Self {
        self.params.extend_from_slice(params);
        self
    }

    pub fn paged(self) -> Self {
        self.params(&PAGING)
    }

    pub fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }

    pub fn link(
        mut self,
        name: &'static str,
        method: &'static str,
        path: &'static str,
        parameters: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.links.push(Link {
            name,
            method,
            path,
            parameters,
        });
        self
    }
}

/// `getProjectsIdJobTokenScopeAllowlist`: the method and the path's words, camel-cased.
pub fn operation_id(method: &str, path: &str) -> String {
    let mut out = method.to_ascii_lowercase();
    for word in path.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}

fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// A path parameter: `:id` of projects and groups is an integer id or a URL-encoded full path;
/// every other one is an integer id.
fn path_param(path: &str, name: &str, integer_id: bool) -> Value {
    let by_ref = name == "id"
        && !integer_id
        && (path.starts_with("/projects/") || path.starts_with("/groups/"));
    if by_ref {
        json!({
            "name": name,
            "in": "path",
            "required": true,
            "description": "The id, or the URL-encoded full path (`acme%2Fdeployer`).",
            "schema": {"type": "string", "minLength": 1},
        })
    } else {
        json!({
            "name": name,
            "in": "path",
            "required": true,
            "schema": {"type": "integer", "minimum": 1},
        })
    }
}

fn security(auth: Auth) -> Value {
    match auth {
        Auth::Token => json!([{"PrivateToken": []}, {"Bearer": []}]),
        Auth::Optional => json!([{"PrivateToken": []}, {"Bearer": []}, {}]),
        Auth::Job => json!([{"JobToken": []}, {"Bearer": []}]),
    }
}

fn error_response(status: u16) -> Value {
    let json_error = json!({"schema": {"$ref": "#/components/schemas/Error"}});
    let header = |d: &str, required: bool| json!({"description": d, "required": required, "schema": {"type": "string"}});
    match status {
        // A client address banned after failed authentications gets GitLab's plain text.
        403 => json!({
            "description": status_text(status),
            "content": {
                "application/json": json_error,
                "text/plain": {"schema": {"type": "string"}},
            },
        }),
        // The rate limits (`--rate-limit-*`), when turned on: GitLab's text and headers.
        429 => json!({
            "description": status_text(status),
            "headers": {
                "Retry-After": header("Seconds until the limit's window ends", true),
                "RateLimit-Name": header("Which limit", false),
                "RateLimit-Limit": header("Requests allowed per minute (rounded up)", false),
                "RateLimit-Observed": header("Requests counted in the window", false),
                "RateLimit-Remaining": header("Requests left in the window", false),
                "RateLimit-Reset": header("Seconds until the window ends", false),
                "RateLimit-ResetTime": header("When the window ends (HTTP date)", false),
            },
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }),
        // Too many requests in flight or over time (`--max-in-flight`, `--request-timeout`).
        503 => json!({
            "description": status_text(status),
            "headers": {"Retry-After": header("Seconds to wait before retrying", false)},
            "content": {"application/json": json_error},
        }),
        _ => json!({
            "description": status_text(status),
            "content": {"application/json": json_error},
        }),
    }
}

/// The error statuses any operation may answer, as shared responses.
const SHARED_ERRORS: &[u16] = &[400, 401, 403, 404, 409, 413, 422, 429, 503];

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Invalid parameters (`{\"error\": …}`) or a refused request (`{\"message\": …}`)",
        401 => "No valid credentials",
        403 => "Not allowed (role, token scope, blocked user)",
        404 => "No such object, or one the caller may not see",
        409 => "Conflicts with an existing object",
        413 => "The request body is larger than the server accepts",
        422 => "Refused by the object's rules",
        429 => "A rate limit was reached (only when rate limits are configured)",
        503 => {
            "Too many requests in flight, or the request ran out of time (only when those \
            limits are configured); or the database is unavailable"
        }
        _ => "Error",
    }
}

fn pagination_headers() -> Value {
    let int = |d: &str, required: bool| json!({"description": d, "required": required, "schema": {"type": "string", "pattern": "^[0-9]+$"}});
    let maybe_int = |d: &str| json!({"description": d, "required": true, "schema": {"type": "string", "pattern": "^[0-9]*$"}});
    json!({
        "X-Total": int("Number of items in all pages", true),
        "X-Total-Pages": int("Number of pages", true),
        "X-Per-Page": int("Items per page", true),
        "X-Page": int("This page", true),
        "X-Next-Page": maybe_int("The next page, empty on the last"),
        "X-Prev-Page": maybe_int("The previous page, empty on the first"),
        "Link": {
            "description": "RFC 8288 links to the `prev`, `next`, `first` and `last` pages",
            "required": false,
            "schema": {"type": "string"},
        },
    })
}

/// References to the pagination headers kept in `components/headers`.
fn pagination_header_refs() -> Value {
    let refs: Map<String, Value> = pagination_headers()
        .as_object()
        .map(|headers| {
            headers
                .keys()
                .map(|name| {
                    (
                        name.clone(),
                        json!({"$ref": format!("#/components/headers/{name}")}),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Value::Object(refs)
}

/// `{"message": …}` (text, or attribute → messages for model validation), `{"error": …}`
/// (parameter validation, unknown routes, OAuth token errors with `error_description`).
fn error_schema() -> Value {
    json!({
        "description": "GitLab's error bodies (see `error.rs`).",
        "type": "object",
        "properties": {
            "message": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                ],
            },
            "error": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}},
                ],
            },
            "error_description": {"type": "string"},
            "scope": {"type": "string"},
        },
        "anyOf": [{"required": ["message"]}, {"required": ["error"]}],
    })
}

fn operation(
    route: &RouteSpec,
    op: &Op,
    generator: &mut SchemaGenerator,
    bodies: &mut Map<String, Value>,
) -> Value {
    let method = route.method;
    let mut parameters: Vec<Value> = path_params(route.path)
        .into_iter()
        .map(|name| path_param(route.path, name, op.integer_id))
        .collect();
    let in_body = matches!(method, "POST" | "PUT" | "PATCH");
    let mut out = Map::new();
    let id = operation_id(method, route.path);
    out.insert("operationId".into(), json!(id));
    out.insert("summary".into(), json!(op.summary));
    let tag = route
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    let tag = if route.path.contains("/job_token_scope") || route.path.starts_with("/job") {
        "job_token_scope"
    } else {
        tag
    };
    out.insert("tags".into(), json!([tag]));
    // An operation that reads no body field declares no body (GitLab ignores one).
    if in_body && !op.params.is_empty() {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for p in &op.params {
            let mut s = p.ty.schema();
            if !p.description.is_empty()
                && let Some(obj) = s.as_object_mut()
            {
                obj.insert("description".into(), json!(p.description));
            }
            properties.insert(p.name.into(), s);
            if p.required {
                required.push(p.name);
            }
        }
        let mut body_schema = json!({"type": "object", "properties": properties});
        if !required.is_empty() {
            body_schema["required"] = json!(required);
        }
        if !op.at_least_one_of.is_empty() {
            let alternatives: Vec<Value> = op
                .at_least_one_of
                .iter()
                .map(|field| json!({"required": [field]}))
                .collect();
            body_schema["anyOf"] = Value::Array(alternatives);
        }
        // One schema for both encodings, kept in `components/schemas` as `<operationId>Body`.
        let name = format!("{id}Body");
        bodies.insert(name.clone(), body_schema);
        let body_ref = json!({"$ref": format!("#/components/schemas/{name}")});
        let content = json!({
            "application/json": {"schema": body_ref},
            "application/x-www-form-urlencoded": {"schema": body_ref},
        });
        out.insert(
            "requestBody".into(),
            json!({
                "required": !required.is_empty() || !op.at_least_one_of.is_empty(),
                "content": content,
            }),
        );
    } else {
        for p in &op.params {
            let mut param = json!({
                "name": p.name,
                "in": "query",
                "required": p.required,
                "schema": p.ty.schema(),
            });
            if !p.description.is_empty() {
                param["description"] = json!(p.description);
            }
            if matches!(p.ty, Ty::List(_)) {
                param["style"] = json!("form");
                param["explode"] = json!(false);
            }
            parameters.push(param);
        }
    }
    if !parameters.is_empty() {
        out.insert("parameters".into(), Value::Array(parameters));
    }

    let mut responses = Map::new();
    let links: Map<String, Value> = op
        .links
        .iter()
        .map(|l| {
            let params: Map<String, Value> = l
                .parameters
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect();
            (
                l.name.to_owned(),
                json!({"operationId": operation_id(l.method, l.path), "parameters": params}),
            )
        })
        .collect();
    let (status, mut response) = match op.success {
        Success::Body(status, schema) => (
            status,
            json!({
                "description": status_text(status),
                "content": {"application/json": {"schema": schema(generator)}},
            }),
        ),
        Success::List(schema) => (
            200,
            json!({
                "description": "One page of the list",
                "headers": pagination_header_refs(),
                "content": {"application/json": {"schema": {"type": "array", "items": schema(generator)}}},
            }),
        ),
        Success::NoContent => (204, json!({"description": status_text(204)})),
    };
    if !links.is_empty() {
        response["links"] = Value::Object(links);
    }
    responses.insert(status.to_string(), response);
    // 429 and 503 come from the abuse limits, which may answer any request when configured.
    let mut errors: Vec<u16> = vec![400, 401, 403, 404, 429, 503];
    if in_body {
        errors.push(413);
    }
    errors.extend_from_slice(op.errors);
    errors.sort_unstable();
    errors.dedup();
    for e in errors {
        let response = if SHARED_ERRORS.contains(&e) {
            json!({"$ref": format!("#/components/responses/Error{e}")})
        } else {
            error_response(e)
        };
        responses.insert(e.to_string(), response);
    }
    out.insert("responses".into(), Value::Object(responses));
    out.insert("security".into(), security(op.auth));
    Value::Object(out)
}

/// Builds the whole document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = SchemaGenerator::new(settings);
    let mut paths = Map::new();
    let mut bodies = Map::new();
    for (route, op) in routes::documented() {
        let item = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(item) = item.as_object_mut() {
            item.insert(
                route.method.to_ascii_lowercase(),
                operation(&route, &op, &mut generator, &mut bodies),
            );
        }
    }
    let mut schemas: Map<String, Value> = generator
        .take_definitions(true)
        .into_iter()
        .collect::<Map<String, Value>>();
    schemas.insert("Error".into(), error_schema());
    schemas.extend(bodies);
    schemas.sort_keys();
    let responses: Map<String, Value> = SHARED_ERRORS
        .iter()
        .map(|&e| (format!("Error{e}"), error_response(e)))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "jobscope: GitLab's REST API v4 for CI/CD job token scopes",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The job token scope endpoints of GitLab's REST API v4 and the \
                substrate they need (users, tokens, groups, projects, members, settings), plus \
                jobscope's enforcement endpoints. Generated from the server's route table; \
                parameters are accepted in the query string, a JSON body or a form body.",
        },
        "servers": [{"url": "/api/v4"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "headers": pagination_headers(),
            "securitySchemes": {
                "PrivateToken": {"type": "apiKey", "in": "header", "name": "PRIVATE-TOKEN",
                    "description": "A personal access token (`glpat-…`)."},
                "Bearer": {"type": "http", "scheme": "bearer",
                    "description": "A personal access token, or on the job endpoints a job token."},
                "JobToken": {"type": "apiKey", "in": "header", "name": "JOB-TOKEN",
                    "description": "A CI/CD job token of a running job."},
            },
        },
    })
}

/// The document as served and checked in: pretty JSON with a final newline.
pub fn document_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
        text.push('\n');
        text
    })
}

/// `GET /api/v4/openapi.json`: no authentication, as GitLab serves its own API description.
pub async fn serve() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        document_text(),
    )
        .into_response()
}
