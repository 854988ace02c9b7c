//! When to send a request again, and how long to wait first.
//!
//! - `429 Too Many Requests`: always retried (the server did not act on the request), after
//!   the `Retry-After` the server gave (seconds or an HTTP date), or after the backoff delay
//!   when it gave none. A `Retry-After` longer than [`RetryPolicy::max_wait`] is not waited
//!   out: the caller gets the `429` with the wait in [`crate::Error::Api::retry_after`].
//! - `502`, `503`, `504` and dropped connections: retried with exponential backoff and
//!   jitter, for idempotent requests only (GET, PUT, PATCH, DELETE). A POST is retried only
//!   when the connection was never made, since it might otherwise be applied twice.
//! - Nothing else: `500` is a server bug, 4xx are answers.

use std::time::{Duration, SystemTime};

use http::StatusCode;

/// Retry settings. The default makes up to 4 retries, waiting 0.5 s, 1 s, 2 s, 4 s (±25%), and
/// waits out a `Retry-After` of up to 60 s.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retrying off).
    pub max_retries: u32,
    /// The first backoff delay; each further one doubles, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` the client waits out.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The backoff before retry number `attempt` (1-based), with ±25% jitter.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let capped = exp.min(self.max_delay);
        let jitter = rand::random_range(0.75..1.25);
        capped.mul_f64(jitter)
    }
}

/// Statuses worth retrying for an idempotent request.
pub(crate) fn transient(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            max_wait: Duration::from_secs(5),
        };
        let first = p.backoff(1);
        assert!(first >= Duration::from_millis(75) && first <= Duration::from_millis(125));
        let third = p.backoff(3);
        assert!(third >= Duration::from_millis(300) && third <= Duration::from_millis(500));
        assert!(p.backoff(40) <= Duration::from_millis(1250));
        assert!(transient(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!transient(StatusCode::INTERNAL_SERVER_ERROR));
    }
}
