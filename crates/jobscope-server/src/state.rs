//! Shared state of request handlers.

use std::sync::Arc;

use jobscope_store::Store;

use crate::authlog::AuthLog;
use crate::config::ServerConfig;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<ServerConfig>,
    /// Successful cross-project job token accesses, waiting to be written.
    pub auth_log: Arc<AuthLog>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: ServerConfig) -> Self {
        AppState {
            auth_log: Arc::new(AuthLog::new(store.clone())),
            store,
            config: Arc::new(config),
        }
    }
}
