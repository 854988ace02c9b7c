-- CI jobs and their tokens, the job token authentication log, and audit events.

CREATE TABLE ci_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    ref TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'success', 'failed', 'canceled')),
    token_digest TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX ci_jobs_project ON ci_jobs (project_id);
CREATE INDEX ci_jobs_user_running ON ci_jobs (user_id) WHERE status = 'running';

-- One row per (accessed project, origin project): the last successful cross-project access
-- and, per job token policy, when it was last needed (JSON object name -> timestamp).
CREATE TABLE ci_job_token_authorizations (
    accessed_project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    origin_project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    last_authorized_at TEXT NOT NULL,
    job_token_policies TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (accessed_project_id, origin_project_id)
);
CREATE INDEX ci_job_token_authorizations_origin ON ci_job_token_authorizations (origin_project_id);

-- Audit events outlive what they describe: no foreign keys.
CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER,
    entity_type TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    entity_path TEXT NOT NULL,
    event_name TEXT NOT NULL,
    target_type TEXT,
    target_id INTEGER,
    details TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, id);
