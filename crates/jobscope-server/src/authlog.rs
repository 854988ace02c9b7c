//! The job token authentication log, written off the request path: accesses are merged in
//! memory per (accessed, origin) pair and flushed to the store in batches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jobscope_store::{AuthorizationRecord, Store, StoreResult};
use jobscope_types::ProjectId;

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

    /// Flushes every `interval` until the process ends.
    pub fn spawn_flusher(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let log = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = log.flush().await {
                    tracing::warn!(error = %e, "could not write the job token authentication log");
                }
            }
        })
    }
}
