//! Request parameters as GitLab's API reads them: the query string, a JSON body and a
//! form-encoded body are merged into one map (body over query), then each endpoint validates
//! and coerces what it declares. Coercion follows Grape's rules closely enough for every
//! client we know: integers accept JSON numbers and digit strings, booleans accept JSON
//! booleans and the usual words, arrays accept JSON arrays, `key[]` pairs and comma lists.
//!
//! Errors are collected per parameter in declaration order and reported together as
//! `{"error": "a is missing, b is invalid"}`, which is what Grape does.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use chrono::NaiveDate;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// The merged parameters of one request.
#[derive(Clone, Debug, Default)]
pub struct Params {
    map: BTreeMap<String, Value>,
}

impl Params {
    pub fn from_query(query: Option<&str>) -> Self {
        let mut p = Params::default();
        if let Some(q) = query {
            p.merge_pairs(form_urlencoded::parse(q.as_bytes()));
        }
        p
    }

    fn merge_pairs<'a>(
        &mut self,
        pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    ) {
        for (k, v) in pairs {
            if let Some(base) = k.strip_suffix("[]") {
                let entry = self
                    .map
                    .entry(base.to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()));
                match entry {
                    Value::Array(items) => items.push(Value::String(v.into_owned())),
                    other => *other = Value::Array(vec![Value::String(v.into_owned())]),
                }
            } else {
                self.map
                    .insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }

    fn merge_json(&mut self, body: serde_json::Map<String, Value>) {
        for (k, v) in body {
            self.map.insert(k, v);
        }
    }

    /// NUL bytes are refused anywhere (as GitLab does): no database stores them in text.
    fn refuse_nul(&self) -> Result<(), ApiError> {
        fn has_nul(v: &Value) -> bool {
            match v {
                Value::String(s) => s.contains('\0'),
                Value::Array(items) => items.iter().any(has_nul),
                Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
                _ => false,
            }
        }
        if self.map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)) {
            return Err(ApiError::bad_request(crate::routes::NUL_MESSAGE));
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn insert(&mut self, key: &str, value: Value) {
        self.map.insert(key.to_owned(), value);
    }

    /// Starts validating; finish with [`Check::done`].
    pub fn check(&self) -> Check<'_> {
        Check {
            params: self,
            errors: Vec::new(),
        }
    }
}

/// Reads a string value the way Grape sees it: strings as they are, numbers and booleans
/// in their JSON text form.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// An integer parameter that parsed. Values beyond the 64-bit range are valid integers to
/// GitLab (Ruby has big integers) but can never name a row, so they are kept apart, with
/// their sign (a page or a limit far below zero is as invalid as -1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int {
    Value(i64),
    /// Above `i64::MAX`.
    TooLarge,
    /// Below `i64::MIN`.
    TooSmall,
}

impl Int {
    pub fn value(self) -> Option<i64> {
        match self {
            Int::Value(v) => Some(v),
            Int::TooLarge | Int::TooSmall => None,
        }
    }

    /// The value, or the nearest 64-bit one.
    pub fn saturating(self) -> i64 {
        match self {
            Int::Value(v) => v,
            Int::TooLarge => i64::MAX,
            Int::TooSmall => i64::MIN,
        }
    }
}

pub fn parse_int(v: &Value) -> Option<Int> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Int::Value(i))
            } else if n.as_u64().is_some() {
                Some(Int::TooLarge)
            } else {
                let f = n.as_f64()?;
                if f.fract() == 0.0 && f.is_finite() {
                    if f.abs() < 9.0e15 {
                        #[allow(clippy::cast_possible_truncation)]
                        Some(Int::Value(f as i64))
                    } else if f > 0.0 {
                        Some(Int::TooLarge)
                    } else {
                        Some(Int::TooSmall)
                    }
                } else {
                    None
                }
            }
        }
        Value::String(s) => parse_int_str(s.trim()),
        _ => None,
    }
}

pub fn parse_int_str(s: &str) -> Option<Int> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(match s.parse::<i64>() {
        Ok(v) => Int::Value(v),
        Err(_) if s.starts_with('-') => Int::TooSmall,
        Err(_) => Int::TooLarge,
    })
}

pub fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
            "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Validation in progress: each accessor records its parameter's error, if any, and returns
/// `None` on error or absence.
pub struct Check<'a> {
    params: &'a Params,
    errors: Vec<String>,
}

impl Check<'_> {
    fn fail(&mut self, key: &str, what: &str) {
        self.errors.push(format!("{key} {what}"));
    }

    /// Presence as Grape's `requires` checks it (the key exists), then non-blank unless
    /// `allow_blank`.
    fn present(&mut self, key: &str, allow_blank: bool) -> Option<&Value> {
        let params = self.params;
        match params.get(key) {
            None => {
                self.fail(key, "is missing");
                None
            }
            Some(v) if !allow_blank && is_blank(v) => {
                self.fail(key, "is empty");
                None
            }
            Some(v) => Some(v),
        }
    }

    pub fn required_int(&mut self, key: &str) -> Option<Int> {
        let v = self.present(key, false)?.clone();
        self.coerce_int(key, &v)
    }

    pub fn optional_int(&mut self, key: &str) -> Option<Int> {
        match self.params.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(v) => {
                let v = v.clone();
                self.coerce_int(key, &v)
            }
        }
    }

    fn coerce_int(&mut self, key: &str, v: &Value) -> Option<Int> {
        let parsed = parse_int(v);
        if parsed.is_none() {
            self.fail(key, "is invalid");
        }
        parsed
    }

    /// An integer that must be one of `allowed`; "does not have a valid value" otherwise.
    pub fn optional_int_in(&mut self, key: &str, allowed: &[i64]) -> Option<i64> {
        let v = self.optional_int(key)?;
        match v.value() {
            Some(x) if allowed.contains(&x) => Some(x),
            _ => {
                self.fail(key, "does not have a valid value");
                None
            }
        }
    }

    pub fn required_int_in(&mut self, key: &str, allowed: &[i64]) -> Option<i64> {
        let v = self.required_int(key)?;
        match v.value() {
            Some(x) if allowed.contains(&x) => Some(x),
            _ => {
                self.fail(key, "does not have a valid value");
                None
            }
        }
    }

    pub fn required_bool(&mut self, key: &str) -> Option<bool> {
        let v = self.present(key, false)?.clone();
        self.coerce_bool(key, &v)
    }

    pub fn optional_bool(&mut self, key: &str) -> Option<bool> {
        match self.params.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => {
                let v = v.clone();
                self.coerce_bool(key, &v)
            }
        }
    }

    fn coerce_bool(&mut self, key: &str, v: &Value) -> Option<bool> {
        let parsed = parse_bool(v);
        if parsed.is_none() {
            self.fail(key, "is invalid");
        }
        parsed
    }

    pub fn required_string(&mut self, key: &str) -> Option<String> {
        let v = self.present(key, true)?.clone();
        self.coerce_string(key, &v)
    }

    pub fn optional_string(&mut self, key: &str) -> Option<String> {
        match self.params.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => {
                let v = v.clone();
                self.coerce_string(key, &v)
            }
        }
    }

    fn coerce_string(&mut self, key: &str, v: &Value) -> Option<String> {
        let s = as_text(v);
        if s.is_none() {
            self.fail(key, "is invalid");
        }
        s
    }

    /// One of `allowed` (case-sensitive, as Grape's `values:`).
    pub fn optional_string_in(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let s = self.optional_string(key)?;
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.fail(key, "does not have a valid value");
            None
        }
    }

    /// An array of strings: a JSON array, `key[]=` pairs, or a comma-separated string.
    pub fn string_array(&mut self, key: &str, required: bool) -> Option<Vec<String>> {
        let v = if required {
            self.present(key, false)?.clone()
        } else {
            match self.params.get(key) {
                None | Some(Value::Null) => return None,
                Some(v) => v.clone(),
            }
        };
        let items = match &v {
            Value::Array(items) => items.iter().map(as_text).collect::<Option<Vec<_>>>(),
            Value::String(s) => Some(
                s.split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect(),
            ),
            _ => None,
        };
        if items.is_none() {
            self.fail(key, "is invalid");
        }
        items
    }

    /// A date: `YYYY-MM-DD`, or a timestamp whose date part is taken.
    pub fn optional_date(&mut self, key: &str) -> Option<Option<NaiveDate>> {
        match self.params.get(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) if s.trim().is_empty() => Some(None),
            Some(Value::String(s)) => {
                let s = s.trim();
                let date_part = s.get(..10).unwrap_or(s);
                match NaiveDate::parse_from_str(date_part, "%Y-%m-%d") {
                    Ok(d)
                        if s.len() == 10
                            || s.as_bytes()
                                .get(10)
                                .is_some_and(|b| *b == b'T' || *b == b' ') =>
                    {
                        Some(Some(d))
                    }
                    _ => {
                        self.fail(key, "is invalid");
                        None
                    }
                }
            }
            Some(_) => {
                self.fail(key, "is invalid");
                None
            }
        }
    }

    /// Puts an error before the ones collected so far (for a path parameter declared first).
    pub fn error_first(&mut self, message: impl Into<String>) {
        self.errors.insert(0, message.into());
    }

    /// Adds an error computed by the caller (for rules across parameters).
    pub fn error(&mut self, message: impl Into<String>) {
        self.errors.push(message.into());
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// `Err` with every collected message, or `Ok` when all parameters were valid.
    pub fn done(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Params(self.errors))
        }
    }
}

/// Extractor: the merged query and body parameters of a request.
pub struct RequestParams(pub Params);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

fn is_form(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// Does a request with this `Content-Type` carry parameters in its body?
pub fn body_has_params(content_type: &str) -> bool {
    is_json(content_type) || is_form(content_type)
}

/// The parameters of a request: its query string merged with its body (JSON object or form),
/// the body winning. `body` is `None` when the content type carries no parameters (see
/// [`body_has_params`]). A pure function of its inputs, so that it can be fuzzed.
pub fn parse_request(
    query: Option<&str>,
    content_type: &str,
    body: Option<&[u8]>,
) -> Result<Params, ApiError> {
    let mut params = Params::from_query(query);
    if let Some(body) = body.filter(|b| !b.iter().all(u8::is_ascii_whitespace)) {
        if is_json(content_type) {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => params.merge_json(map),
                // A JSON body that is not an object carries no named parameters.
                Ok(_) => {}
                Err(_) => {
                    return Err(ApiError::param(
                        "message body does not match declared format",
                    ));
                }
            }
        } else if is_form(content_type) {
            params.merge_pairs(form_urlencoded::parse(body));
        }
    }
    params.refuse_nul()?;
    Ok(params)
}

impl FromRequest<AppState> for RequestParams {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !body_has_params(content_type) {
            return parse_request(req.uri().query(), content_type, None).map(RequestParams);
        }
        let content_type = content_type.to_owned();
        let query = req.uri().query().map(str::to_owned);
        let body: Bytes = collect_limited(req.into_body(), state.config.max_body_bytes).await?;
        parse_request(query.as_deref(), &content_type, Some(&body)).map(RequestParams)
    }
}

/// Collects a body of at most `limit` bytes: 413 beyond it, 400 if the client's stream breaks.
async fn collect_limited(body: axum::body::Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(err) = source {
            if err.is::<http_body_util::LengthLimitError>() {
                return ApiError::PayloadTooLarge;
            }
            source = err.source();
        }
        ApiError::param("request body could not be read")
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(pairs: &[(&str, Value)]) -> Params {
        let mut p = Params::default();
        for (k, v) in pairs {
            p.insert(k, v.clone());
        }
        p
    }

    #[test]
    fn integers_follow_grape() {
        assert_eq!(parse_int(&json!(12)), Some(Int::Value(12)));
        assert_eq!(parse_int(&json!("12")), Some(Int::Value(12)));
        assert_eq!(parse_int(&json!(" 7 ")), Some(Int::Value(7)));
        assert_eq!(parse_int(&json!("-3")), Some(Int::Value(-3)));
        assert_eq!(parse_int(&json!(12.0)), Some(Int::Value(12)));
        assert_eq!(parse_int(&json!(12.34)), None);
        assert_eq!(parse_int(&json!("12.34")), None);
        assert_eq!(parse_int(&json!("abc")), None);
        assert_eq!(parse_int(&json!(true)), None);
        assert_eq!(parse_int(&json!([1])), None);
        assert_eq!(
            parse_int(&json!("123456789012345678901234567890")),
            Some(Int::TooLarge)
        );
        assert_eq!(
            parse_int(&json!("-123456789012345678901234567890")),
            Some(Int::TooSmall)
        );
        assert_eq!(
            parse_int(&json!(18446744073709551615u64)),
            Some(Int::TooLarge)
        );
        assert_eq!(parse_int(&json!(-1.0e30)), Some(Int::TooSmall));
    }

    #[test]
    fn booleans_follow_grape() {
        for t in [
            json!(true),
            json!("true"),
            json!("TRUE"),
            json!("1"),
            json!(1),
            json!("yes"),
            json!("on"),
            json!("t"),
        ] {
            assert_eq!(parse_bool(&t), Some(true), "{t}");
        }
        for f in [
            json!(false),
            json!("false"),
            json!("0"),
            json!(0),
            json!("no"),
            json!("off"),
            json!("f"),
        ] {
            assert_eq!(parse_bool(&f), Some(false), "{f}");
        }
        for bad in [
            json!(123),
            json!("maybe"),
            json!(null),
            json!([true]),
            json!({}),
        ] {
            assert_eq!(parse_bool(&bad), None, "{bad}");
        }
    }

    #[test]
    fn missing_empty_and_invalid() {
        let p = params(&[("a", json!(null)), ("b", json!("")), ("c", json!("x"))]);
        let mut c = p.check();
        assert_eq!(c.required_int("a"), None);
        assert_eq!(c.required_int("b"), None);
        assert_eq!(c.required_int("c"), None);
        assert_eq!(c.required_int("d"), None);
        let err = c.done().unwrap_err();
        assert_eq!(
            err.body(),
            json!({"error": "a is empty, b is empty, c is invalid, d is missing"})
        );
    }

    #[test]
    fn query_arrays_and_body_precedence() {
        let mut p = Params::from_query(Some("scopes[]=api&scopes[]=read_api&x=1"));
        let mut body = serde_json::Map::new();
        body.insert("x".into(), json!(2));
        p.merge_json(body);
        let mut c = p.check();
        assert_eq!(
            c.string_array("scopes", true),
            Some(vec!["api".to_string(), "read_api".to_string()])
        );
        assert_eq!(c.required_int("x"), Some(Int::Value(2)));
        let p = params(&[("scopes", json!("api, read_user"))]);
        assert_eq!(
            p.check().string_array("scopes", true),
            Some(vec!["api".to_string(), "read_user".to_string()])
        );
    }

    #[test]
    fn dates() {
        let p = params(&[
            ("a", json!("2026-01-31")),
            ("b", json!("2026-01-31T10:00:00Z")),
            ("c", json!("31/01/2026")),
            ("d", json!(null)),
        ]);
        let mut c = p.check();
        assert_eq!(
            c.optional_date("a"),
            Some(NaiveDate::from_ymd_opt(2026, 1, 31))
        );
        assert_eq!(
            c.optional_date("b"),
            Some(NaiveDate::from_ymd_opt(2026, 1, 31))
        );
        assert_eq!(c.optional_date("c"), None);
        assert_eq!(c.optional_date("d"), Some(None));
        assert!(c.has_errors());
    }
}
