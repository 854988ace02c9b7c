-- jobscope schema, SQLite flavour. Timestamps are RFC 3339 UTC text; booleans are 0/1;
-- traversal_ids are '/'-delimited with a leading and trailing '/' ("/1/5/9/") so that
-- "is X an ancestor" is a substring test.

CREATE TABLE instance_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    enforce_ci_inbound_job_token_scope_enabled INTEGER NOT NULL DEFAULT 0,
    default_project_visibility TEXT NOT NULL DEFAULT 'private',
    default_group_visibility TEXT NOT NULL DEFAULT 'private',
    default_projects_limit INTEGER NOT NULL DEFAULT 100000,
    max_personal_access_token_lifetime INTEGER,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'blocked', 'deactivated')),
    admin INTEGER NOT NULL DEFAULT 0,
    external INTEGER NOT NULL DEFAULT 0,
    bot INTEGER NOT NULL DEFAULT 0,
    can_create_group INTEGER NOT NULL DEFAULT 1,
    projects_limit INTEGER NOT NULL DEFAULT 100000,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));

CREATE TABLE namespaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('group', 'user')),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    full_path TEXT NOT NULL,
    full_name TEXT NOT NULL,
    parent_id INTEGER REFERENCES namespaces (id) ON DELETE CASCADE,
    traversal_ids TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('private', 'internal', 'public')),
    description TEXT NOT NULL DEFAULT '',
    owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX namespaces_full_path_lower ON namespaces (lower(full_path));
CREATE INDEX namespaces_parent ON namespaces (parent_id);
CREATE INDEX namespaces_owner ON namespaces (owner_id);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id INTEGER NOT NULL REFERENCES namespaces (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    full_path TEXT NOT NULL,
    description TEXT,
    visibility TEXT NOT NULL CHECK (visibility IN ('private', 'internal', 'public')),
    default_branch TEXT,
    topics TEXT NOT NULL DEFAULT '[]',
    creator_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    last_activity_at TEXT NOT NULL,
    inbound_job_token_scope_enabled INTEGER NOT NULL DEFAULT 1,
    job_token_scope_enabled INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX projects_full_path_lower ON projects (lower(full_path));
CREATE UNIQUE INDEX projects_namespace_name ON projects (namespace_id, name);
CREATE INDEX projects_namespace ON projects (namespace_id);

-- Full paths are unique across namespaces and projects together.
CREATE TABLE routes (
    path_lower TEXT PRIMARY KEY,
    namespace_id INTEGER REFERENCES namespaces (id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects (id) ON DELETE CASCADE,
    CHECK ((namespace_id IS NULL) <> (project_id IS NULL))
);
CREATE INDEX routes_namespace ON routes (namespace_id);
CREATE INDEX routes_project ON routes (project_id);

CREATE TABLE namespace_members (
    namespace_id INTEGER NOT NULL REFERENCES namespaces (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_level INTEGER NOT NULL,
    expires_at TEXT,
    created_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (namespace_id, user_id)
);
CREATE INDEX namespace_members_user ON namespace_members (user_id);

CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_level INTEGER NOT NULL,
    expires_at TEXT,
    created_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members (user_id);

CREATE TABLE personal_access_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    token_digest TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT,
    last_used_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

CREATE TABLE ci_job_token_project_scope_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    target_project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    direction INTEGER NOT NULL CHECK (direction IN (0, 1)),
    added_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    job_token_policies TEXT NOT NULL DEFAULT '[]',
    default_permissions INTEGER NOT NULL DEFAULT 1,
    autopopulated INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (source_project_id, target_project_id, direction)
);
CREATE INDEX ci_job_token_project_scope_links_target ON ci_job_token_project_scope_links (target_project_id);

CREATE TABLE ci_job_token_group_scope_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source_project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    target_group_id INTEGER NOT NULL REFERENCES namespaces (id) ON DELETE CASCADE,
    added_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    job_token_policies TEXT NOT NULL DEFAULT '[]',
    default_permissions INTEGER NOT NULL DEFAULT 1,
    autopopulated INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (source_project_id, target_group_id)
);
CREATE INDEX ci_job_token_group_scope_links_target ON ci_job_token_group_scope_links (target_group_id);
