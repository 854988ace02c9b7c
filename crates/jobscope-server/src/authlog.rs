//! What requests record without waiting for the database: the job token authentication log
//! (accesses merged in memory per (accessed, origin) pair) and when personal access tokens
//! were last used. Both are flushed to the store in batches by one background task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobscope_store::{AuthorizationRecord, Store, StoreResult};
use jobscope_types::{ProjectId, TokenId};

/// How often the background task writes the buffer.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

pub struct AuthLog {
    store: Arc<dyn Store>,
    pending: Mutex<HashMap<(ProjectId, ProjectId), AuthorizationRecord>>,
}

impl AuthLog {
    pub fn new(store: Arc<dyn Store>) -> Self {
        AuthLog {
            store,
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(ProjectId, ProjectId), AuthorizationRecord>> {
        // A panic while holding this lock leaves a plain map behind; keep using it.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn merge(
        map: &mut HashMap<(ProjectId, ProjectId), AuthorizationRecord>,
        rec: AuthorizationRecord,
    ) {
        let key = (rec.accessed_project_id, rec.origin_project_id);
        match map.get_mut(&key) {
            Some(existing) => {
                existing.at = existing.at.max(rec.at);
                for p in rec.policies {
                    if !existing.policies.contains(&p) {
                        existing.policies.push(p);
                    }
                }
            }
            None => {
                map.insert(key, rec);
            }
        }
    }

    /// Notes a successful cross-project access (cheap: a map update).
    pub fn record(&self, accessed: ProjectId, origin: ProjectId, policy: Option<&str>) {
        let rec = AuthorizationRecord {
            accessed_project_id: accessed,
            origin_project_id: origin,
            at: crate::service::now(),
            policies: policy.map(|p| vec![p.to_owned()]).unwrap_or_default(),
        };
        Self::merge(&mut self.lock(), rec);
    }

    /// How many (accessed, origin) pairs wait to be written.
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// Writes everything pending. On failure the records go back into the buffer.
    pub async fn flush(&self) -> StoreResult<()> {
        let batch: Vec<AuthorizationRecord> = self.lock().drain().map(|(_, r)| r).collect();
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.record_authorizations(&batch).await {
            let mut map = self.lock();
            for r in batch {
                Self::merge(&mut map, r);
            }
            return Err(e);
        }
        Ok(())
    }
}

/// When personal access tokens were last used, written off the request path like the
/// authentication log: a request that finds its token's `last_used_at` older than ten minutes
/// notes the time here (a map update), and the flusher writes what accumulated in one batch.
/// Reads of tokens flush first, so this process never shows an older time than it recorded.
pub struct TokenUses {
    store: Arc<dyn Store>,
    pending: Mutex<HashMap<TokenId, DateTime<Utc>>>,
}

impl TokenUses {
    /// Writes go through `store`; given the read cache, the cached token learns the time too.
    pub fn new(store: Arc<dyn Store>) -> Self {
        TokenUses {
            store,
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenId, DateTime<Utc>>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that token `id` was used at `at`.
    pub fn record(&self, id: TokenId, at: DateTime<Utc>) {
        let mut map = self.lock();
        let slot = map.entry(id).or_insert(at);
        *slot = (*slot).max(at);
    }

    /// How many tokens wait to be written.
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// Writes everything pending. What could not be written goes back into the buffer.
    pub async fn flush(&self) -> StoreResult<()> {
        let batch: Vec<(TokenId, DateTime<Utc>)> = self.lock().drain().collect();
        let mut failed = None;
        for (i, (id, at)) in batch.iter().enumerate() {
            if let Err(e) = self.store.touch_personal_access_token(*id, *at).await {
                let mut map = self.lock();
                for (id, at) in &batch[i..] {
                    let slot = map.entry(*id).or_insert(*at);
                    *slot = (*slot).max(*at);
                }
                failed = Some(e);
                break;
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

/// Writes both buffers every `interval` until the process ends.
pub fn spawn_flusher(
    log: &Arc<AuthLog>,
    uses: &Arc<TokenUses>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    let (log, uses) = (Arc::clone(log), Arc::clone(uses));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = log.flush().await {
                tracing::warn!(error = %e, "could not write the job token authentication log");
            }
            if let Err(e) = uses.flush().await {
                tracing::warn!(error = %e, "could not record when tokens were last used");
            }
        }
    })
}
