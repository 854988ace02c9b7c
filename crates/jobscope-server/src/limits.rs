//! Abuse limits at the request level (issue 7): a ban on client addresses that fail to
//! authenticate too often, request rates per user and per address, a cap on the requests in
//! flight and a time limit for a whole request.
//!
//! Every limit is off unless configured (as GitLab self-managed ships its throttles and its
//! failed-authentication ban), and off costs one branch per request. The pieces:
//!
//! - [`LimitLayer`] runs first for every route: it refuses banned addresses (`403`), requests
//!   beyond `--max-in-flight` (`503`) and anonymous requests beyond the per-address rate
//!   (`429`); it bounds the request with `--request-timeout` (`503`) and adds GitLab's
//!   `RateLimit-*` headers to the answer.
//! - The authentication extractors ([`crate::auth::MaybeCaller`], [`crate::auth::job::JobCaller`])
//!   report to [`Limits`]: a refused credential (`401`) counts towards the ban of the client's
//!   address; a resolved user is counted against the per-user rate (`429` past it), and a
//!   success forgets the address's failures, as GitLab does.
//! - Counters live in this process only, in sharded maps of bounded size.
//!
//! GitLab's facts (Rack::Attack and `Gitlab::Auth::IpRateLimiter`): 30 failed authentications
//! in 3 minutes from one address ban it for an hour with a plain-text `403`; a throttled
//! request gets `429` with the plain-text body `Retry later` and the `RateLimit-*` headers,
//! counted in fixed windows aligned to the Unix epoch.

use std::cell::Cell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Args;
use futures::future::{BoxFuture, Either};
use jobscope_types::UserId;

pub use crate::durations::{parse_duration, parse_positive_duration};
use crate::error::ApiError;
pub use crate::net::IpNet;
use crate::net::bits;

// ---- configuration --------------------------------------------------------------------------

/// How many addresses (or users) one limit keeps counters for; beyond it the oldest are
/// forgotten (the ban) or share one counter (the rates), so memory stays bounded whatever
/// the number of clients.
pub const MAX_TRACKED: usize = 100_000;

/// The limits' flags of `jobscope serve` (flattened into [`crate::config::ServeArgs`]).
#[derive(Clone, Debug, Args)]
pub struct LimitArgs {
    /// Ban a client address for `--auth-ban-duration` once it has failed to authenticate
    /// `--auth-ban-max-failures` times within `--auth-ban-window` (GitLab's failed-authentication
    /// ban). Banned addresses get 403 on every request, even with a valid token.
    #[arg(long, env = "JOBSCOPE_AUTH_BAN", value_name = "BOOL", num_args = 0..=1,
          default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub auth_ban: bool,

    /// Failed authentications (401) from one address that ban it.
    #[arg(long, env = "JOBSCOPE_AUTH_BAN_MAX_FAILURES", default_value_t = 30, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_ban_max_failures: u32,

    /// Window in which failures are counted (`500ms`, `30s`, `3m`, `1h`).
    #[arg(long, env = "JOBSCOPE_AUTH_BAN_WINDOW", default_value = "3m",
          value_name = "DURATION", value_parser = parse_positive_duration)]
    pub auth_ban_window: Duration,

    /// How long a ban lasts.
    #[arg(long, env = "JOBSCOPE_AUTH_BAN_DURATION", default_value = "1h",
          value_name = "DURATION", value_parser = parse_positive_duration)]
    pub auth_ban_duration: Duration,

    /// Limit the requests of each authenticated user (personal access token or job token) to
    /// `--rate-limit-authenticated-requests` per `--rate-limit-authenticated-period`; more get
    /// 429 `Retry later`.
    #[arg(long, env = "JOBSCOPE_RATE_LIMIT_AUTHENTICATED", value_name = "BOOL", num_args = 0..=1,
          default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub rate_limit_authenticated: bool,

    /// Requests per period allowed to one authenticated user.
    #[arg(long, env = "JOBSCOPE_RATE_LIMIT_AUTHENTICATED_REQUESTS", default_value_t = 7200,
          value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_authenticated_requests: u32,

    /// Period of the per-user limit.
    #[arg(long, env = "JOBSCOPE_RATE_LIMIT_AUTHENTICATED_PERIOD", default_value = "1h",
          value_name = "DURATION", value_parser = parse_positive_duration)]
    pub rate_limit_authenticated_period: Duration,

    /// Limit the requests that authenticate no user to
    /// `--rate-limit-unauthenticated-requests` per `--rate-limit-unauthenticated-period` per
    /// client address.
    #[arg(long, env = "JOBSCOPE_RATE_LIMIT_UNAUTHENTICATED", value_name = "BOOL", num_args = 0..=1,
          default_value_t = false, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub rate_limit_unauthenticated: bool,

    /// Requests per period allowed to one address without authentication.
    #[arg(long, env = "JOBSCOPE_RATE_LIMIT_UNAUTHENTICATED_REQUESTS", default_value_t = 3600,
          value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_unauthenticated_requests: u32,

    /// Period of the per-address limit.
    #[arg(long, env = "JOBSCOPE_RATE_LIMIT_UNAUTHENTICATED_PERIOD", default_value = "1h",
          value_name = "DURATION", value_parser = parse_positive_duration)]
    pub rate_limit_unauthenticated_period: Duration,

    /// Proxies (addresses or networks, comma-separated) whose `X-Forwarded-For` names the
    /// client; from any other peer the header is ignored.
    #[arg(
        long,
        env = "JOBSCOPE_TRUSTED_PROXIES",
        value_delimiter = ',',
        value_name = "ADDRESS[/PREFIX]"
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// Requests handled at once; beyond it requests get 503 with `Retry-After` at once
    /// instead of waiting. Unlimited when unset.
    #[arg(long, env = "JOBSCOPE_MAX_IN_FLIGHT", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_in_flight: Option<u64>,

    /// Time limit of a whole request (`30s`, `2m`); a request that takes longer gets 503.
    /// Unlimited when unset.
    #[arg(long, env = "JOBSCOPE_REQUEST_TIMEOUT", value_name = "DURATION", value_parser = parse_positive_duration)]
    pub request_timeout: Option<Duration>,
}

/// The failed-authentication ban.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BanConfig {
    pub max_failures: u32,
    pub window: Duration,
    pub duration: Duration,
}

impl Default for BanConfig {
    /// GitLab's: 30 failures in 3 minutes ban for an hour.
    fn default() -> Self {
        BanConfig {
            max_failures: 30,
            window: Duration::from_secs(180),
            duration: Duration::from_secs(3600),
        }
    }
}

/// A request rate: `requests` per `period`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateConfig {
    pub requests: u32,
    pub period: Duration,
}

/// What request handling needs to know of the limits; `Default` turns them all off.
#[derive(Clone, Debug, Default)]
pub struct LimitsConfig {
    pub auth_ban: Option<BanConfig>,
    /// Per user (`throttle_authenticated_api`; GitLab's default when on: 7,200 per hour).
    pub authenticated: Option<RateConfig>,
    /// Per address, for requests that authenticate no user (`throttle_unauthenticated_api`;
    /// GitLab's default when on: 3,600 per hour).
    pub unauthenticated: Option<RateConfig>,
    pub trusted_proxies: Vec<IpNet>,
    pub max_in_flight: Option<usize>,
    pub request_timeout: Option<Duration>,
}

impl From<&LimitArgs> for LimitsConfig {
    fn from(a: &LimitArgs) -> Self {
        LimitsConfig {
            auth_ban: a.auth_ban.then_some(BanConfig {
                max_failures: a.auth_ban_max_failures,
                window: a.auth_ban_window,
                duration: a.auth_ban_duration,
            }),
            authenticated: a.rate_limit_authenticated.then_some(RateConfig {
                requests: a.rate_limit_authenticated_requests,
                period: a.rate_limit_authenticated_period,
            }),
            unauthenticated: a.rate_limit_unauthenticated.then_some(RateConfig {
                requests: a.rate_limit_unauthenticated_requests,
                period: a.rate_limit_unauthenticated_period,
            }),
            trusted_proxies: a.trusted_proxies.clone(),
            max_in_flight: a
                .max_in_flight
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            request_timeout: a.request_timeout,
        }
    }
}

// ---- the client's address -------------------------------------------------------------------

/// The client's address: the connection's peer, or, when the peer is one of the trusted
/// proxies, the nearest address in `X-Forwarded-For` that is not (each proxy appends the
/// address it received the request from, so everything left of the first untrusted hop may be
/// forged). `None` without a connection (requests built in process).
pub fn client_ip(
    headers: &HeaderMap,
    extensions: &Extensions,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip()
        .to_canonical();
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if trusted.is_empty() || !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(text) = value.to_str() else {
            return Some(client);
        };
        for hop in text.rsplit(',') {
            let hop = hop.trim();
            let parsed = hop
                .parse::<IpAddr>()
                .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()));
            // A hop that is not an address ends the chain we can follow.
            let Ok(ip) = parsed else {
                return Some(client);
            };
            client = ip.to_canonical();
            if !is_trusted(client) {
                return Some(client);
            }
        }
    }
    Some(client)
}

// ---- sharded maps ---------------------------------------------------------------------------

const SHARDS: usize = 16;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn shard_index(x: u64) -> usize {
    // Fibonacci hashing: the top bits of the product pick one of the 16 shards.
    (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % SHARDS
}

fn ip_hash(ip: IpAddr) -> u64 {
    let (v, _) = bits(ip);
    (v as u64) ^ ((v >> 64) as u64)
}

type Shards<T> = [Mutex<T>; SHARDS];

fn shards<T: Default>() -> Shards<T> {
    std::array::from_fn(|_| Mutex::new(T::default()))
}

fn pick<T>(shards: &Shards<T>, hash: u64) -> MutexGuard<'_, T> {
    lock(&shards[shard_index(hash)])
}

/// Durations beyond this (a century) are taken as this, so that no deadline overflows.
const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

// ---- the failed-authentication ban ----------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Failures {
    /// Start of the current counting window.
    since: Instant,
    count: u32,
    banned_until: Option<Instant>,
}

#[derive(Default)]
struct BanShard {
    map: HashMap<IpAddr, Failures>,
    next_sweep: Option<Instant>,
}

/// Failed authentications per address, and the bans they lead to.
pub struct FailedAuth {
    config: BanConfig,
    shards: Shards<BanShard>,
    /// Addresses on record across shards: while zero, a check is one atomic load.
    tracked: AtomicUsize,
    per_shard: usize,
}

impl FailedAuth {
    pub fn new(config: BanConfig, capacity: usize) -> Self {
        FailedAuth {
            config: BanConfig {
                window: config.window.min(LONGEST),
                duration: config.duration.min(LONGEST),
                ..config
            },
            shards: shards(),
            tracked: AtomicUsize::new(0),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// Whether any address has failures or a ban on record.
    pub fn any(&self) -> bool {
        self.tracked.load(Ordering::Relaxed) > 0
    }

    /// Addresses on record (failures or bans).
    pub fn tracked(&self) -> usize {
        self.tracked.load(Ordering::Relaxed)
    }

    fn shard(&self, ip: IpAddr) -> MutexGuard<'_, BanShard> {
        pick(&self.shards, ip_hash(ip))
    }

    fn stale(&self, f: &Failures, now: Instant) -> bool {
        match f.banned_until {
            Some(until) => until <= now,
            None => now.saturating_duration_since(f.since) >= self.config.window,
        }
    }

    fn forget(&self, n: usize) {
        if n > 0 {
            self.tracked.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Drops what no longer counts: windows that ended, bans that expired.
    fn sweep(&self, shard: &mut BanShard, now: Instant) {
        let before = shard.map.len();
        shard.map.retain(|_, f| !self.stale(f, now));
        self.forget(before - shard.map.len());
        shard.next_sweep = Some(now + self.config.window);
    }

    fn sweep_if_due(&self, shard: &mut BanShard, now: Instant) {
        if shard.next_sweep.is_none_or(|t| now >= t) {
            self.sweep(shard, now);
        }
    }

    /// How long `ip` stays banned, if it is.
    pub fn banned(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        if !self.any() {
            return None;
        }
        let mut shard = self.shard(ip);
        self.sweep_if_due(&mut shard, now);
        let f = *shard.map.get(&ip)?;
        if self.stale(&f, now) {
            shard.map.remove(&ip);
            self.forget(1);
            return None;
        }
        f.banned_until.map(|until| until - now)
    }

    /// Notes a failed authentication from `ip`; true when this failure bans it. Like GitLab
    /// (Rack::Attack's Allow2Ban) the failure that reaches the limit is still answered; the
    /// requests after it are refused.
    pub fn failed(&self, ip: IpAddr, now: Instant) -> bool {
        let mut guard = self.shard(ip);
        let shard = &mut *guard;
        self.sweep_if_due(shard, now);
        if !shard.map.contains_key(&ip) && shard.map.len() >= self.per_shard {
            self.sweep(shard, now);
            if shard.map.len() >= self.per_shard && !self.evict_oldest(shard) {
                // Every slot holds a ban: this address goes uncounted rather than lifting one.
                return false;
            }
        }
        let f = match shard.map.entry(ip) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                self.tracked.fetch_add(1, Ordering::Relaxed);
                v.insert(Failures {
                    since: now,
                    count: 0,
                    banned_until: None,
                })
            }
        };
        if self.stale(f, now) {
            // The window ended, or the ban did: counting starts again.
            *f = Failures {
                since: now,
                count: 0,
                banned_until: None,
            };
        }
        if f.banned_until.is_some() {
            return false;
        }
        f.count = f.count.saturating_add(1);
        if f.count >= self.config.max_failures {
            f.banned_until = Some(now + self.config.duration);
            return true;
        }
        false
    }

    /// Forgets the oldest address that is not banned; false if all are.
    fn evict_oldest(&self, shard: &mut BanShard) -> bool {
        let oldest = shard
            .map
            .iter()
            .filter(|(_, f)| f.banned_until.is_none())
            .min_by_key(|(_, f)| f.since)
            .map(|(ip, _)| *ip);
        match oldest {
            Some(ip) => {
                shard.map.remove(&ip);
                self.forget(1);
                true
            }
            None => false,
        }
    }

    /// A successful authentication from `ip` forgets its failures, as on GitLab (29 failures,
    /// a success and 29 more do not ban). A ban stays.
    pub fn succeeded(&self, ip: IpAddr) {
        if !self.any() {
            return;
        }
        let mut shard = self.shard(ip);
        if shard.map.get(&ip).is_some_and(|f| f.banned_until.is_none()) {
            shard.map.remove(&ip);
            self.forget(1);
        }
    }
}

// ---- request rates --------------------------------------------------------------------------

/// Whose requests a rate counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RateKey {
    User(i64),
    Address(IpAddr),
}

impl RateKey {
    fn hash(&self) -> u64 {
        match self {
            RateKey::User(id) => *id as u64,
            RateKey::Address(ip) => ip_hash(*ip),
        }
    }
}

#[derive(Default)]
struct RateShard {
    /// The window the counts belong to (windows are aligned to the Unix epoch, as
    /// Rack::Attack's are, so all counts of a limit end together).
    window: u64,
    counts: HashMap<RateKey, u32>,
    /// Shared by the keys that arrive once the shard is full.
    overflow: u32,
}

/// A fixed-window request counter per key (user or address).
pub struct RateLimiter {
    name: &'static str,
    requests: u32,
    period_ms: u64,
    per_shard: usize,
    shards: Shards<RateShard>,
}

/// Where a key stands in its window, for the answer's `RateLimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateInfo {
    name: &'static str,
    requests: u32,
    period_ms: u64,
    /// Requests counted in the window, this one included.
    observed: u32,
    /// End of the window, in milliseconds since the Unix epoch.
    reset_ms: u64,
    now_ms: u64,
}

const RATELIMIT_NAME: HeaderName = HeaderName::from_static("ratelimit-name");
const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_OBSERVED: HeaderName = HeaderName::from_static("ratelimit-observed");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
const RATELIMIT_RESET_TIME: HeaderName = HeaderName::from_static("ratelimit-resettime");

impl RateInfo {
    /// The limit's name in `RateLimit-Name` (GitLab's throttle names).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Past the limit: this request is refused.
    pub fn exceeded(&self) -> bool {
        self.observed > self.requests
    }

    /// Seconds until the window ends (at least 1), for `Retry-After`.
    pub fn retry_after(&self) -> u64 {
        self.reset_ms
            .saturating_sub(self.now_ms)
            .div_ceil(1000)
            .max(1)
    }

    /// Writes GitLab's headers: `RateLimit-Name`, `-Limit` (per minute, rounded up, as GitLab
    /// states it whatever the period), `-Observed`, `-Remaining`, `-Reset` (Unix time); on a
    /// throttled answer also `RateLimit-ResetTime` (HTTP date) and `Retry-After`.
    pub fn write_headers(&self, headers: &mut HeaderMap, throttled: bool) {
        let per_minute = (u128::from(self.requests) * 60_000).div_ceil(u128::from(self.period_ms));
        let reset = self.reset_ms.div_ceil(1000);
        headers.insert(RATELIMIT_NAME, HeaderValue::from_static(self.name));
        headers.insert(
            RATELIMIT_LIMIT,
            HeaderValue::from(u64::try_from(per_minute).unwrap_or(u64::MAX)),
        );
        headers.insert(RATELIMIT_OBSERVED, HeaderValue::from(self.observed));
        headers.insert(
            RATELIMIT_REMAINING,
            HeaderValue::from(self.requests.saturating_sub(self.observed)),
        );
        headers.insert(RATELIMIT_RESET, HeaderValue::from(reset));
        if throttled {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(self.retry_after()));
            let date = i64::try_from(reset)
                .ok()
                .and_then(|s| chrono::DateTime::<chrono::Utc>::from_timestamp(s, 0));
            if let Some(date) = date
                && let Ok(v) =
                    HeaderValue::from_str(&date.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
            {
                headers.insert(RATELIMIT_RESET_TIME, v);
            }
        }
    }
}

impl RateLimiter {
    pub fn new(name: &'static str, config: RateConfig, capacity: usize) -> Self {
        RateLimiter {
            name,
            requests: config.requests,
            period_ms: u64::try_from(config.period.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
            per_shard: capacity.div_ceil(SHARDS).max(1),
            shards: shards(),
        }
    }

    /// Counts one request of `key` at `now_ms` (milliseconds since the Unix epoch).
    pub fn hit(&self, key: RateKey, now_ms: u64) -> RateInfo {
        let window = now_ms / self.period_ms;
        let observed = {
            let mut guard = pick(&self.shards, key.hash());
            let shard = &mut *guard;
            if shard.window != window {
                // A new window: every count of the previous one is void.
                shard.counts.clear();
                shard.overflow = 0;
                shard.window = window;
            }
            let full = shard.counts.len() >= self.per_shard;
            match shard.counts.get_mut(&key) {
                Some(n) => {
                    *n = n.saturating_add(1);
                    *n
                }
                None if full => {
                    shard.overflow = shard.overflow.saturating_add(1);
                    shard.overflow
                }
                None => {
                    shard.counts.insert(key, 1);
                    1
                }
            }
        };
        RateInfo {
            name: self.name,
            requests: self.requests,
            period_ms: self.period_ms,
            observed,
            reset_ms: window.saturating_add(1).saturating_mul(self.period_ms),
            now_ms,
        }
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

// ---- all limits -----------------------------------------------------------------------------

/// What the authentication extractors found in this request, for the layer: set inside the
/// layer's scope only, so it costs nothing while no rate is limited.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    /// A user was authenticated (their rate counted, if it is limited).
    user: bool,
    info: Option<RateInfo>,
}

tokio::task_local! {
    static SEEN: Cell<Seen>;
}

/// The limits of one server process, shared by the layer and the authentication extractors.
pub struct Limits {
    ban: Option<FailedAuth>,
    authenticated: Option<RateLimiter>,
    unauthenticated: Option<RateLimiter>,
    trusted_proxies: Vec<IpNet>,
    max_in_flight: Option<usize>,
    in_flight: AtomicUsize,
    timeout: Option<Duration>,
    /// Any limit at all; when false the layer is one branch.
    any: bool,
    /// A limit that follows the request to its end (all but the ban).
    wraps: bool,
}

impl Limits {
    pub fn new(config: &LimitsConfig) -> Self {
        let authenticated = config
            .authenticated
            .map(|c| RateLimiter::new("throttle_authenticated_api", c, MAX_TRACKED));
        let unauthenticated = config
            .unauthenticated
            .map(|c| RateLimiter::new("throttle_unauthenticated_api", c, MAX_TRACKED));
        let wraps = authenticated.is_some()
            || unauthenticated.is_some()
            || config.max_in_flight.is_some()
            || config.request_timeout.is_some();
        Limits {
            any: wraps || config.auth_ban.is_some(),
            wraps,
            ban: config.auth_ban.map(|c| FailedAuth::new(c, MAX_TRACKED)),
            authenticated,
            unauthenticated,
            trusted_proxies: config.trusted_proxies.clone(),
            max_in_flight: config.max_in_flight,
            in_flight: AtomicUsize::new(0),
            timeout: config.request_timeout,
        }
    }

    /// The failed-authentication ban, when configured (for tests and metrics).
    pub fn ban(&self) -> Option<&FailedAuth> {
        self.ban.as_ref()
    }

    /// Requests in flight (counted only with `--max-in-flight`).
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn rates(&self) -> bool {
        self.authenticated.is_some() || self.unauthenticated.is_some()
    }

    /// For the authentication extractors: the request presented a credential and it was
    /// refused with 401. Counts towards the ban of the client's address.
    pub fn authentication_failed(&self, headers: &HeaderMap, extensions: &Extensions) {
        let Some(ban) = &self.ban else {
            return;
        };
        let Some(ip) = client_ip(headers, extensions, &self.trusted_proxies) else {
            return;
        };
        if ban.failed(ip, Instant::now()) {
            tracing::warn!(
                address = %ip,
                failures = ban.config.max_failures,
                ban_seconds = ban.config.duration.as_secs(),
                "client address banned after repeated failed authentications"
            );
        }
    }

    /// For the authentication extractors: `user` authenticated. Forgets the failures of the
    /// client's address and counts the request against the user's rate: 429 beyond it.
    pub fn authenticated(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
        user: UserId,
    ) -> Result<(), ApiError> {
        if let Some(ban) = &self.ban
            && ban.any()
            && let Some(ip) = client_ip(headers, extensions, &self.trusted_proxies)
        {
            ban.succeeded(ip);
        }
        if !self.rates() {
            return Ok(());
        }
        // Outside the layer (no scope) nothing is counted; a second extractor in the same
        // request does not count it twice.
        match SEEN.try_with(|s| s.get().user) {
            Ok(false) => {}
            Ok(true) | Err(_) => return Ok(()),
        }
        let info = self
            .authenticated
            .as_ref()
            .map(|r| r.hit(RateKey::User(user.0), unix_ms()));
        let _ = SEEN.try_with(|s| s.set(Seen { user: true, info }));
        match info {
            Some(info) if info.exceeded() => Err(ApiError::RateLimited(info)),
            _ => Ok(()),
        }
    }
}

/// A slot among `--max-in-flight`, given back when dropped.
struct Permit(Arc<Limits>);

impl Permit {
    fn acquire(limits: &Arc<Limits>, max: usize) -> Option<Permit> {
        if limits.in_flight.fetch_add(1, Ordering::AcqRel) >= max {
            limits.in_flight.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Permit(limits.clone()))
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Whether the request carries something meant as a credential (then it is counted per user
/// once authenticated, or per address if it authenticates nobody).
fn has_credentials(req: &Request<Body>) -> bool {
    let h = req.headers();
    h.contains_key("private-token")
        || h.contains_key("job-token")
        || h.contains_key(header::AUTHORIZATION)
        || req.uri().query().is_some_and(|q| q.contains("token="))
        || crate::ui::has_session_cookie(h)
}

// ---- the layer ------------------------------------------------------------------------------

/// Applies [`Limits`] to every request (see the module documentation).
#[derive(Clone)]
pub struct LimitLayer {
    limits: Arc<Limits>,
}

impl LimitLayer {
    pub fn new(limits: Arc<Limits>) -> Self {
        LimitLayer { limits }
    }
}

impl<S> tower::Layer<S> for LimitLayer {
    type Service = LimitService<S>;

    fn layer(&self, inner: S) -> LimitService<S> {
        LimitService {
            inner,
            limits: self.limits.clone(),
        }
    }
}

#[derive(Clone)]
pub struct LimitService<S> {
    inner: S,
    limits: Arc<Limits>,
}

type Answer = Result<Response, Infallible>;

fn refuse<F>(e: ApiError) -> Either<F, BoxFuture<'static, Answer>> {
    Either::Right(Box::pin(std::future::ready(Ok(e.into_response()))))
}

impl<S> tower::Service<Request<Body>> for LimitService<S>
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Answer>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let limits = &*self.limits;
        if !limits.any {
            return Either::Left(self.inner.call(req));
        }
        let mut peer = None;
        if let Some(ban) = &limits.ban
            && ban.any()
        {
            peer = client_ip(req.headers(), req.extensions(), &limits.trusted_proxies);
            if let Some(ip) = peer
                && ban.banned(ip, Instant::now()).is_some()
            {
                return refuse(ApiError::AddressBanned);
            }
        }
        if !limits.wraps {
            return Either::Left(self.inner.call(req));
        }
        let permit = match limits.max_in_flight {
            Some(max) => match Permit::acquire(&self.limits, max) {
                Some(p) => Some(p),
                None => return refuse(ApiError::Overloaded),
            },
            None => None,
        };
        let mut seen = Seen::default();
        if let Some(rate) = &limits.unauthenticated {
            if peer.is_none() {
                peer = client_ip(req.headers(), req.extensions(), &limits.trusted_proxies);
            }
            // Without credentials nobody can authenticate: counted (and refused) up front.
            if let Some(ip) = peer
                && !has_credentials(&req)
            {
                let info = rate.hit(RateKey::Address(ip), unix_ms());
                if info.exceeded() {
                    return refuse(ApiError::RateLimited(info));
                }
                seen.info = Some(info);
            }
        }
        let timeout = limits.timeout;
        let rates = limits.rates();
        let limits = self.limits.clone();
        let inner = self.inner.call(req);
        Either::Right(Box::pin(async move {
            let _permit = permit;
            let run = async move {
                let Some(limit) = timeout else {
                    return inner.await;
                };
                match tokio::time::timeout(limit, inner).await {
                    Ok(answer) => answer,
                    Err(_) => Ok(ApiError::Unavailable(format!(
                        "the request took longer than --request-timeout ({limit:?})"
                    ))
                    .into_response()),
                }
            };
            if !rates {
                return run.await;
            }
            let (answer, seen) = SEEN
                .scope(Cell::new(seen), async move {
                    let answer = run.await;
                    (answer, SEEN.try_with(Cell::get).unwrap_or_default())
                })
                .await;
            let Ok(mut response) = answer;
            let mut info = seen.info;
            // Credentials that authenticated nobody count per address, as anonymous requests.
            if !seen.user
                && info.is_none()
                && let (Some(rate), Some(ip)) = (&limits.unauthenticated, peer)
            {
                let counted = rate.hit(RateKey::Address(ip), unix_ms());
                if counted.exceeded() {
                    return Ok(ApiError::RateLimited(counted).into_response());
                }
                info = Some(counted);
            }
            if let Some(info) = info
                && response.status() != StatusCode::TOO_MANY_REQUESTS
            {
                info.write_headers(response.headers_mut(), false);
            }
            Ok(response)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn from(peer: &str, forwarded: &[&str], trusted: &[&str]) -> Option<IpAddr> {
        let mut headers = HeaderMap::new();
        for f in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(f).unwrap());
        }
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::new(ip(peer), 40000)));
        client_ip(&headers, &ext, &nets(trusted))
    }

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        limits: LimitArgs,
    }

    fn parse(args: &[&str]) -> Result<LimitsConfig, clap::Error> {
        use clap::Parser;
        let cli = Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))?;
        Ok(LimitsConfig::from(&cli.limits))
    }

    #[test]
    fn flags() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let off = parse(&[]).unwrap();
        assert!(off.auth_ban.is_none() && off.authenticated.is_none());
        assert!(off.unauthenticated.is_none() && off.trusted_proxies.is_empty());
        assert!(off.max_in_flight.is_none() && off.request_timeout.is_none());
        assert!(!Limits::new(&off).any, "nothing configured, nothing to do");
        let on = parse(&[
            "--auth-ban",
            "--rate-limit-authenticated",
            "--rate-limit-unauthenticated=true",
            "--trusted-proxies",
            "10.0.0.0/8,::1",
            "--max-in-flight",
            "512",
            "--request-timeout",
            "60s",
        ])
        .unwrap();
        assert_eq!(on.auth_ban, Some(BanConfig::default()));
        let hour = Duration::from_secs(3600);
        assert_eq!(
            on.authenticated,
            Some(RateConfig {
                requests: 7200,
                period: hour
            })
        );
        assert_eq!(
            on.unauthenticated,
            Some(RateConfig {
                requests: 3600,
                period: hour
            })
        );
        assert_eq!(on.trusted_proxies, nets(&["10.0.0.0/8", "::1"]));
        assert_eq!(on.max_in_flight, Some(512));
        assert_eq!(on.request_timeout, Some(Duration::from_secs(60)));
        let tuned = parse(&[
            "--auth-ban",
            "--auth-ban-max-failures",
            "5",
            "--auth-ban-window",
            "30s",
        ])
        .unwrap();
        assert_eq!(tuned.auth_ban.unwrap().max_failures, 5);
        assert_eq!(tuned.auth_ban.unwrap().window, Duration::from_secs(30));
        for bad in [
            &["--auth-ban-max-failures", "0"][..],
            &["--max-in-flight", "0"],
            &["--request-timeout", "0s"],
            &["--auth-ban-window", "soon"],
            &["--trusted-proxies", "10.0.0.0/40"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn networks() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.1.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped peers");
        assert!(!net.contains(ip("::1")));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: IpNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("example.com".parse::<IpNet>().is_err());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        // No proxies configured, or an untrusted peer: the header is ignored.
        assert_eq!(
            from("203.0.113.7", &["198.51.100.2"], &[]),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            from("203.0.113.7", &["198.51.100.2"], &["10.0.0.0/8"]),
            Some(ip("203.0.113.7"))
        );
        // From a trusted proxy: the nearest untrusted hop; forged entries further left lose.
        assert_eq!(
            from("10.0.0.1", &["1.1.1.1, 203.0.113.7"], &["10.0.0.0/8"]),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            from(
                "10.0.0.1",
                &["1.1.1.1, 203.0.113.7, 10.0.0.2"],
                &["10.0.0.0/8"]
            ),
            Some(ip("203.0.113.7"))
        );
        // Several headers are one list, in order.
        assert_eq!(
            from("10.0.0.1", &["1.1.1.1", "203.0.113.7"], &["10.0.0.0/8"]),
            Some(ip("203.0.113.7"))
        );
        // Without the header, or when every hop is a proxy, or at garbage: the last hop known.
        assert_eq!(from("10.0.0.1", &[], &["10.0.0.0/8"]), Some(ip("10.0.0.1")));
        assert_eq!(
            from("10.0.0.1", &["10.0.0.3, 10.0.0.2"], &["10.0.0.0/8"]),
            Some(ip("10.0.0.3"))
        );
        assert_eq!(
            from("10.0.0.1", &["203.0.113.7, garbage"], &["10.0.0.0/8"]),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            from("::ffff:10.0.0.1", &["203.0.113.7:5555"], &["10.0.0.0/8"]),
            Some(ip("203.0.113.7"))
        );
        // No connection: no address.
        assert_eq!(client_ip(&HeaderMap::new(), &Extensions::new(), &[]), None);
    }

    fn ban(max: u32) -> FailedAuth {
        FailedAuth::new(
            BanConfig {
                max_failures: max,
                window: Duration::from_secs(180),
                duration: Duration::from_secs(3600),
            },
            64,
        )
    }

    #[test]
    fn ban_after_max_failures_in_the_window() {
        let b = ban(3);
        let t0 = Instant::now();
        let a = ip("203.0.113.7");
        assert!(!b.any());
        assert!(!b.failed(a, t0));
        assert!(!b.failed(a, t0 + Duration::from_secs(1)));
        assert_eq!(b.banned(a, t0 + Duration::from_secs(2)), None);
        assert!(b.failed(a, t0 + Duration::from_secs(2)), "the third bans");
        assert_eq!(
            b.banned(a, t0 + Duration::from_secs(2)),
            Some(Duration::from_secs(3600))
        );
        assert_eq!(b.banned(ip("203.0.113.8"), t0), None, "others are not");
        // A success does not lift a ban; the ban ends on its own.
        b.succeeded(a);
        assert!(b.banned(a, t0 + Duration::from_secs(3601)).is_some());
        assert_eq!(b.banned(a, t0 + Duration::from_secs(3602)), None);
        assert_eq!(b.tracked(), 0, "an expired ban is forgotten");
    }

    #[test]
    fn failures_expire_with_the_window_and_reset_on_success() {
        let b = ban(3);
        let t0 = Instant::now();
        let a = ip("203.0.113.7");
        b.failed(a, t0);
        b.failed(a, t0);
        // The window (3 min) ends: counting starts again.
        assert!(!b.failed(a, t0 + Duration::from_secs(181)));
        assert!(!b.failed(a, t0 + Duration::from_secs(182)));
        // A success forgets the failures.
        b.succeeded(a);
        assert_eq!(b.tracked(), 0);
        assert!(!b.failed(a, t0 + Duration::from_secs(183)));
        assert!(!b.failed(a, t0 + Duration::from_secs(184)));
        assert!(b.failed(a, t0 + Duration::from_secs(185)));
    }

    #[test]
    fn ban_memory_is_bounded() {
        let b = ban(2);
        let t0 = Instant::now();
        // Far more addresses than the capacity (64), each failing once, then one banned.
        for i in 0..10_000u32 {
            b.failed(IpAddr::from((0x0A00_0000u32 + i).to_be_bytes()), t0);
        }
        assert!(b.tracked() <= 64 + SHARDS, "{} tracked", b.tracked());
        let a = ip("203.0.113.7");
        b.failed(a, t0);
        assert!(b.failed(a, t0));
        // A flood of new addresses does not evict the ban.
        for i in 0..10_000u32 {
            b.failed(IpAddr::from((0x0B00_0000u32 + i).to_be_bytes()), t0);
        }
        assert!(b.banned(a, t0).is_some());
        assert!(b.tracked() <= 64 + SHARDS);
        // Once everything is stale, sweeps forget it all.
        let later = t0 + Duration::from_secs(4000);
        for i in 0..10_000u32 {
            b.banned(IpAddr::from((0x0C00_0000u32 + i).to_be_bytes()), later);
        }
        assert_eq!(b.tracked(), 0);
    }

    fn rate(requests: u32, period: Duration) -> RateLimiter {
        RateLimiter::new(
            "throttle_authenticated_api",
            RateConfig { requests, period },
            64,
        )
    }

    #[test]
    fn fixed_windows_per_key() {
        let r = rate(2, Duration::from_secs(60));
        let t = 1_699_999_980_000u64; // a multiple of 60 s
        let u = RateKey::User(1);
        assert!(!r.hit(u, t).exceeded());
        assert!(!r.hit(u, t + 1000).exceeded());
        let third = r.hit(u, t + 2000);
        assert!(third.exceeded());
        assert_eq!(third.observed, 3);
        assert_eq!(third.retry_after(), 58);
        assert!(!r.hit(RateKey::User(2), t + 2000).exceeded(), "per key");
        assert!(!r.hit(u, t + 60_000).exceeded(), "a new window");
    }

    #[test]
    fn rate_memory_is_bounded() {
        let r = rate(5, Duration::from_secs(3600));
        let t = 1_700_000_000_000u64;
        for i in 0..10_000 {
            r.hit(RateKey::User(i), t);
        }
        let held: usize = r.shards.iter().map(|s| lock(s).counts.len()).sum();
        assert!(held <= 64 + SHARDS, "{held} keys held");
        // Keys beyond the capacity share a counter, so they are still limited.
        assert!(r.hit(RateKey::User(1_000_000), t).exceeded());
    }

    #[test]
    fn headers_as_gitlab_writes_them() {
        let r = RateLimiter::new(
            "throttle_authenticated_api",
            RateConfig {
                requests: 7200,
                period: Duration::from_secs(3600),
            },
            64,
        );
        let now = 1_609_833_930_000u64;
        let info = r.hit(RateKey::User(1), now);
        let mut h = HeaderMap::new();
        info.write_headers(&mut h, false);
        let get = |h: &HeaderMap, n: &str| h.get(n).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            get(&h, "ratelimit-name").as_deref(),
            Some("throttle_authenticated_api")
        );
        assert_eq!(get(&h, "ratelimit-limit").as_deref(), Some("120"));
        assert_eq!(get(&h, "ratelimit-observed").as_deref(), Some("1"));
        assert_eq!(get(&h, "ratelimit-remaining").as_deref(), Some("7199"));
        assert_eq!(get(&h, "ratelimit-reset").as_deref(), Some("1609837200"));
        assert_eq!(get(&h, "retry-after"), None);
        assert_eq!(get(&h, "ratelimit-resettime"), None);
        info.write_headers(&mut h, true);
        assert_eq!(get(&h, "retry-after").as_deref(), Some("3270"));
        assert_eq!(
            get(&h, "ratelimit-resettime").as_deref(),
            Some("Tue, 05 Jan 2021 09:00:00 GMT")
        );
    }
}
