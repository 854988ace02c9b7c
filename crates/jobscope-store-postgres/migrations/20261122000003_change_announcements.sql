-- Announces committed changes to what authentication and the decision read, so that every
-- server process can drop its cached copies (jobscope-server/src/cache.rs): statement
-- triggers NOTIFY jobscope_changes, which PostgreSQL delivers when the transaction commits
-- (and folds into one per transaction). The authentication log, audit events and a token's
-- last use are not announced.
CREATE FUNCTION jobscope_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('jobscope_changes', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER instance_settings_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON instance_settings
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER users_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER namespaces_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON namespaces
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER projects_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER routes_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON routes
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER namespace_members_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON namespace_members
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER project_members_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON project_members
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER ci_job_token_project_scope_links_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ci_job_token_project_scope_links
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER ci_job_token_group_scope_links_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ci_job_token_group_scope_links
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER ci_jobs_announce AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ci_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();

CREATE TRIGGER personal_access_tokens_announce
    AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF user_id, name, description, token_digest, scopes, revoked, expires_at ON personal_access_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION jobscope_announce_change();
