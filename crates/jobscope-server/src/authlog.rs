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

/// How long a written (accessed, origin) pair is not written again unless it brings a policy
/// the log does not have yet: GitLab's capture delay. Without it a busy pair would be written
/// every second, and many distinct pairs would keep the database busy with the log.
pub const CAPTURE_DELAY: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

type Pair = (ProjectId, ProjectId);

#[derive(Default)]
struct LogState {
    /// Accesses not written yet.
    pending: HashMap<Pair, AuthorizationRecord>,
    /// Pairs written within the capture delay: when, and the policies written.
    written: HashMap<Pair, (DateTime<Utc>, Vec<String>)>,
}

pub struct AuthLog {
    store: Arc<dyn Store>,
    state: Mutex<LogState>,
}

impl AuthLog {
    pub fn new(store: Arc<dyn Store>) -> Self {
        AuthLog {
            store,
            state: Mutex::new(LogState::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        // A panic while holding this lock leaves plain maps behind; keep using them.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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

    /// Notes a successful cross-project access (cheap: a map update). A pair written less
    /// than [`CAPTURE_DELAY`] ago is not noted again, unless `policy` is new for it.
    pub fn record(&self, accessed: ProjectId, origin: ProjectId, policy: Option<&str>) {
        let at = crate::service::now();
        let mut state = self.lock();
        if let Some((written_at, policies)) = state.written.get(&(accessed, origin))
            && at - *written_at < CAPTURE_DELAY
            && policy.is_none_or(|p| policies.iter().any(|q| q == p))
        {
            return;
        }
        let rec = AuthorizationRecord {
            accessed_project_id: accessed,
            origin_project_id: origin,
            at,
            policies: policy.map(|p| vec![p.to_owned()]).unwrap_or_default(),
        };
        Self::merge(&mut state.pending, rec);
    }

    /// How many (accessed, origin) pairs wait to be written.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    /// Writes everything pending. On failure the records go back into the buffer.
    pub async fn flush(&self) -> StoreResult<()> {
        let batch: Vec<AuthorizationRecord> = self.lock().pending.drain().map(|(_, r)| r).collect();
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.record_authorizations(&batch).await {
            let mut state = self.lock();
            for r in batch {
                Self::merge(&mut state.pending, r);
            }
            return Err(e);
        }
        let now = crate::service::now();
        let mut state = self.lock();
        state.written.retain(|_, (at, _)| now - *at < CAPTURE_DELAY);
        for r in batch {
            let entry = state
                .written
                .entry((r.accessed_project_id, r.origin_project_id))
                .or_insert_with(|| (r.at, Vec::new()));
            entry.0 = r.at;
            for p in r.policies {
                if !entry.1.contains(&p) {
                    entry.1.push(p);
                }
            }
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
