-- The instance's token salt (jobscope-store/src/secrets.rs): token digests are SHA-256 of the
-- token followed by it. A new database gets 32 random hexadecimal digits; a database that
-- already holds token digests, made without a salt, keeps the empty salt so they still match.
CREATE TABLE instance_secrets (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token_salt TEXT NOT NULL
);
INSERT INTO instance_secrets (id, token_salt)
SELECT 1, CASE
    WHEN EXISTS (SELECT 1 FROM personal_access_tokens) OR EXISTS (SELECT 1 FROM ci_jobs) THEN ''
    ELSE replace(gen_random_uuid()::text, '-', '')
END;
