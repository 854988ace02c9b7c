-- bench/gitlab-pick.sql: step 0 of bench/gitlab-decision.sql alone (picking a random pair
-- from the table of pairs), so that its share of each transaction can be told apart from
-- GitLab's own statements. Same variables: -D set=allowed|denied -D npairs=N.
\set i random(1, :npairs)
SELECT token_digest AS digest, target_project_id AS target
  FROM synth_bench.pairs WHERE set = ':set' AND i = :i \gset
