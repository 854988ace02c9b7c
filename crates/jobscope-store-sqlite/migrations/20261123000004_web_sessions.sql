-- Sessions of the web UI (issue 8). The browser's cookie holds a random session id; only its
-- digest is stored, with the id of the personal access token the user signed in with (never
-- the token), the per-session CSRF secret and the times that bound the session. Sessions are
-- not announced to caches (nothing caches them) and are not part of exports.
CREATE TABLE web_sessions (
    id_digest TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_id INTEGER NOT NULL REFERENCES personal_access_tokens (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_token ON web_sessions (token_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
