//! Shared state of request handlers.

use std::sync::Arc;

use jobscope_store::{Store, StoreResult};

use crate::auth::tokens::TokenHasher;
use crate::authlog::{AuthLog, TokenUses};
use crate::cache::CachedStore;
use crate::config::ServerConfig;
use crate::limits::Limits;
use crate::metrics::Metrics;

/// What every handler shares, behind one reference count: axum clones the state for each
/// request, and one `Arc` costs one atomic increment where seven cost seven.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    /// The store every handler goes through (behind the read cache when there is one).
    pub store: Arc<dyn Store>,
    /// The read cache, when configured, for what only it can do (watching other processes'
    /// changes, counting the calls that reached the database).
    pub cache: Option<Arc<CachedStore>>,
    pub config: Arc<ServerConfig>,
    /// Successful cross-project job token accesses, waiting to be written.
    pub auth_log: Arc<AuthLog>,
    /// Personal access token uses, waiting to be written.
    pub token_uses: Arc<TokenUses>,
    /// Abuse limits: failed-authentication ban, request rates, requests in flight.
    pub limits: Arc<Limits>,
    /// Counters and histograms for `/-/metrics`.
    pub metrics: Arc<Metrics>,
    /// Token digests with this instance's salt.
    pub tokens: TokenHasher,
}

impl AppState {
    /// State over `store`, with the read cache in front of it when `config.cache` says so
    /// (see [`crate::cache`]). Reads the instance's token salt, so fails when the store
    /// cannot be read.
    pub async fn new(store: Arc<dyn Store>, config: ServerConfig) -> StoreResult<Self> {
        let tokens = TokenHasher::new(&store.token_salt().await?);
        let raw = store.clone();
        let cache = config
            .cache
            .then(|| Arc::new(CachedStore::new(store.clone())));
        let store: Arc<dyn Store> = match &cache {
            Some(c) => c.clone(),
            None => store,
        };
        Ok(AppState(Arc::new(Shared {
            // The authentication log writes behind the cache: nothing cached depends on it.
            auth_log: Arc::new(AuthLog::new(raw)),
            // Token uses go through the cache, which updates the token it holds.
            token_uses: Arc::new(TokenUses::new(store.clone())),
            store,
            cache,
            limits: Arc::new(Limits::new(&config.limits)),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new(
                crate::routes::templates().iter().map(|t| &**t),
            )),
            tokens,
        })))
    }
}
