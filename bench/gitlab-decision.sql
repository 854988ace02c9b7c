-- bench/gitlab-decision.sql: one job token decision the way GitLab makes it, as SQL only
-- (issue 6, goal 6). A pgbench custom script, run by `bench/run gitlab-sql`:
--
--   pgbench -n -M simple -c 16 -j 2 -T 30 -D set=allowed -D npairs=N \
--           -f bench/gitlab-decision.sql postgres://…/<synthetic instance>
--
-- Each transaction is one decision for a random (job token, target project) pair of the
-- synthetic instance (crates/jobscope-synth), with the statements GitLab issues for it
-- (spec section 11 and section 7.2 of /work/shared/spec/gitlab-job-token-scope.md),
-- expressed over jobscope's PostgreSQL tables, with GitLab's short cuts (`\if`):
--
--   1. Ci::AuthJobFinder: the job by its token               (ci_builds → ci_jobs)
--   2. the job's project A, its namespace and its route
--   3. the job's user U
--   4. find_project!: the target B, its namespace and its route
--   5. B's inbound flag                                       (project_ci_cd_settings)
--   6. the instance setting                                   (application_settings)
--   7. U's role in B                                          (project_authorizations:
--      one lookup on GitLab; here the project membership and the memberships of B's
--      namespaces, the two indexed reads jobscope's schema needs for it)
--   8. unless A = B, and only when B enforces its allowlist (§7.2 inbound_ok):
--      a. the indexed existence query on project links (source = B, target = A, inbound);
--      b. only when it finds nothing: A's ancestor group ids (A.parent_groups, by
--         traversal ids), then the group links query
--         `source_project_id = B AND target_group_id IN (ancestors)`.
--
-- It runs with the simple query protocol (`-M simple`): values are put into the SQL text,
-- as Rails does with prepared statements off (GitLab's default behind PgBouncer). Not
-- counted here, and part of GitLab's cost on top: Ruby and Rails (object loading,
-- DeclarativePolicy), the network to the database, the authentication log's Sidekiq job.
-- Counted here, and not GitLab's: step 0, which picks the pair from a table of pairs
-- (bench/gitlab-pick.sql measures it alone).

-- 0. Pick a pair (harness).
\set i random(1, :npairs)
SELECT token_digest AS digest, target_project_id AS target
  FROM synth_bench.pairs WHERE set = ':set' AND i = :i \gset

-- 1. The job behind the token.
SELECT * FROM ci_jobs WHERE token_digest = ':digest' LIMIT 1 \gset job_

-- 2. A, its namespace and route.
SELECT * FROM projects WHERE id = :job_project_id LIMIT 1 \gset origin_
SELECT * FROM namespaces WHERE id = :origin_namespace_id LIMIT 1;
SELECT * FROM routes WHERE project_id = :job_project_id LIMIT 1;

-- 3. U.
SELECT * FROM users WHERE id = :job_user_id LIMIT 1;

-- 4. B, its namespace and route.
SELECT * FROM projects WHERE id = :target LIMIT 1 \gset target_
SELECT * FROM namespaces WHERE id = :target_namespace_id LIMIT 1 \gset target_ns_
SELECT * FROM routes WHERE project_id = :target LIMIT 1;

-- 5. B's inbound flag.
SELECT inbound_job_token_scope_enabled::int AS inbound FROM projects WHERE id = :target \gset

-- 6. The instance setting.
SELECT enforce_ci_inbound_job_token_scope_enabled::int AS enforced
  FROM instance_settings ORDER BY id DESC LIMIT 1 \gset

-- 7. U's role in B.
SELECT GREATEST(
    (SELECT max(access_level) FROM project_members
      WHERE project_id = :target AND user_id = :job_user_id),
    (SELECT max(access_level) FROM namespace_members
      WHERE user_id = :job_user_id AND namespace_id = ANY (':target_ns_traversal_ids'::bigint[]))
  ) AS access_level;

-- 8. The scope.
\if :job_project_id != :target
\if :enforced + :inbound > 0
SELECT EXISTS (
    SELECT 1 FROM ci_job_token_project_scope_links
     WHERE source_project_id = :target AND target_project_id = :job_project_id
       AND direction = 1
  )::int AS linked \gset
\if :linked = 0
SELECT COALESCE(string_agg(n.id::text, ','), '0') AS ancestors
  FROM namespaces n
 WHERE n.kind = 'group'
   AND n.id IN (SELECT unnest(traversal_ids) FROM namespaces WHERE id = :origin_namespace_id)
  \gset
SELECT EXISTS (
    SELECT 1 FROM ci_job_token_group_scope_links
     WHERE source_project_id = :target AND target_group_id IN (:ancestors)
  )::int AS group_linked \gset
\endif
\endif
\endif
