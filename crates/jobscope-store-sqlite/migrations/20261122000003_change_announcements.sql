-- Announces committed changes to what authentication and the decision read, so that every
-- server process can drop its cached copies (jobscope-server/src/cache.rs). Each writing
-- transaction bumps the counter; processes read it every few milliseconds. The
-- authentication log, audit events and a token's last use are not announced.
CREATE TABLE change_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);

CREATE TRIGGER instance_settings_insert_announce AFTER INSERT ON instance_settings
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER instance_settings_update_announce AFTER UPDATE ON instance_settings
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER instance_settings_delete_announce AFTER DELETE ON instance_settings
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER users_insert_announce AFTER INSERT ON users
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER users_update_announce AFTER UPDATE ON users
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER users_delete_announce AFTER DELETE ON users
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER namespaces_insert_announce AFTER INSERT ON namespaces
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER namespaces_update_announce AFTER UPDATE ON namespaces
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER namespaces_delete_announce AFTER DELETE ON namespaces
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER projects_insert_announce AFTER INSERT ON projects
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER projects_update_announce AFTER UPDATE ON projects
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER projects_delete_announce AFTER DELETE ON projects
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER routes_insert_announce AFTER INSERT ON routes
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER routes_update_announce AFTER UPDATE ON routes
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER routes_delete_announce AFTER DELETE ON routes
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER namespace_members_insert_announce AFTER INSERT ON namespace_members
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER namespace_members_update_announce AFTER UPDATE ON namespace_members
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER namespace_members_delete_announce AFTER DELETE ON namespace_members
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER project_members_insert_announce AFTER INSERT ON project_members
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER project_members_update_announce AFTER UPDATE ON project_members
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER project_members_delete_announce AFTER DELETE ON project_members
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_job_token_project_scope_links_insert_announce AFTER INSERT ON ci_job_token_project_scope_links
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_job_token_project_scope_links_update_announce AFTER UPDATE ON ci_job_token_project_scope_links
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_job_token_project_scope_links_delete_announce AFTER DELETE ON ci_job_token_project_scope_links
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_job_token_group_scope_links_insert_announce AFTER INSERT ON ci_job_token_group_scope_links
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_job_token_group_scope_links_update_announce AFTER UPDATE ON ci_job_token_group_scope_links
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_job_token_group_scope_links_delete_announce AFTER DELETE ON ci_job_token_group_scope_links
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_jobs_insert_announce AFTER INSERT ON ci_jobs
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_jobs_update_announce AFTER UPDATE ON ci_jobs
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER ci_jobs_delete_announce AFTER DELETE ON ci_jobs
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER personal_access_tokens_insert_announce AFTER INSERT ON personal_access_tokens
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER personal_access_tokens_delete_announce AFTER DELETE ON personal_access_tokens
BEGIN UPDATE change_counter SET value = value + 1; END;

CREATE TRIGGER personal_access_tokens_update_announce AFTER UPDATE OF user_id, name, description, token_digest, scopes, revoked, expires_at ON personal_access_tokens
BEGIN UPDATE change_counter SET value = value + 1; END;
