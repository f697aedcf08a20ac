-- driftlint fix script: review every statement before running it.
-- generated 2026-11-29 10:40:12 UTC by driftlint 0.1.0
-- migrations:   examples/flask-app/migrations
-- expectations: expectations/example.yaml
-- database:     postgresql://app@db.internal:5432/app?sslmode=prefer
-- 5 fixes to run, 4 review-only, 1 finding without a fix; 2 destructive statements commented out
--
-- Take a backup first:
--   pg_dump --format=custom --file=driftlint-backup.dump 'postgresql://app@db.internal:5432/app?sslmode=prefer'
-- then run the script as a whole, and check again:
--   psql -X -v ON_ERROR_STOP=1 -f <this file> 'postgresql://app@db.internal:5432/app?sslmode=prefer'
-- Every step is written to be harmless when run a second time.

\set ON_ERROR_STOP on

BEGIN;

-- untracked-column: column public.users.nickname is in the database, but no migration creates it
-- fix: adopt public.users.nickname in a migration, or drop it
-- to keep public.users.nickname, adopt it in a new migration:
--   op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
-- DESTRUCTIVE: drops column public.users.nickname and its data
-- DESTRUCTIVE (re-run with --allow-destructive to include):
-- ALTER TABLE public.users DROP COLUMN IF EXISTS nickname;

-- forbidden-column-present: column public.system_config.id exists in the database, but the expectations say it must not
-- fix: drop column public.system_config.id
-- DESTRUCTIVE: drops column public.system_config.id and its data
-- DESTRUCTIVE (re-run with --allow-destructive to include):
-- ALTER TABLE public.system_config DROP COLUMN IF EXISTS id;

-- sequence-behind: sequence public.users_id_seq would hand out 1, but public.users.id already reaches 1042
-- fix: move sequence public.users_id_seq past max(id)
-- public.users.id reached 1042 when checked; public.users_id_seq would have handed out 1.
-- The max is read again here; the sequence only moves forward, and the next nextval() returns one step (1) past the column, or the start (1) for an empty table.
SELECT COALESCE((to_regclass('public.users') IS NOT NULL AND to_regclass('public.users_id_seq') IS NOT NULL), false) AS driftlint_guard_1 \gset
\if :driftlint_guard_1
SELECT setval('public.users_id_seq', GREATEST(
    (SELECT COALESCE(max(id)::bigint + (1), 1) FROM public.users),
    (SELECT CASE WHEN is_called THEN last_value + (1) ELSE last_value END FROM public.users_id_seq)
), false);
\endif

-- sequence-behind: sequence public.invite_codes_id_seq would hand out 1, but public.invite_codes.id already reaches 2
-- fix: move sequence public.invite_codes_id_seq past max(id)
-- public.invite_codes.id reached 2 when checked; public.invite_codes_id_seq would have handed out 1.
-- The max is read again here; the sequence only moves forward, and the next nextval() returns one step (1) past the column, or the start (1) for an empty table.
SELECT COALESCE((to_regclass('public.invite_codes') IS NOT NULL AND to_regclass('public.invite_codes_id_seq') IS NOT NULL), false) AS driftlint_guard_2 \gset
\if :driftlint_guard_2
SELECT setval('public.invite_codes_id_seq', GREATEST(
    (SELECT COALESCE(max(id)::bigint + (1), 1) FROM public.invite_codes),
    (SELECT CASE WHEN is_called THEN last_value + (1) ELSE last_value END FROM public.invite_codes_id_seq)
), false);
\endif

-- stamped-not-applied: the database is stamped at revisions a7c9e1f3b5d7 and f6b8d0e2a4c6 but the changes of a7c9e1f3b5d7 (score index and backfill) and of the revision after it are not in its schema: column public.analysis_results.score_version does not exist, column public.submissions.score_version does not exist and column public.users.locked_until does not exist
-- fix: run the upgrade() of a7c9e1f3b5d7, f6b8d0e2a4c6 that the database is stamped with but lacks
-- Running upgrade e5a7c9d1f3b5 -> a7c9e1f3b5d7 (examples/flask-app/migrations/versions/a7c9e1f3b5d7_score_index_and_backfill.py)
SELECT COALESCE((to_regclass('public.ix_submissions_score') IS NULL), false) AS driftlint_guard_3 \gset
\if :driftlint_guard_3
CREATE INDEX ix_submissions_score ON submissions (score);
ALTER TABLE submissions ADD COLUMN score_version smallint;
ALTER TABLE analysis_results ADD COLUMN score_version smallint;
UPDATE submissions SET score = 0 WHERE score IS NULL;
\endif
-- Running upgrade e5a7c9d1f3b5 -> f6b8d0e2a4c6 (examples/flask-app/migrations/versions/f6b8d0e2a4c6_add_locked_until_to_users.py)
SELECT COALESCE((NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass('public.users') AND attname = 'locked_until' AND attnum > 0 AND NOT attisdropped)), false) AS driftlint_guard_4 \gset
\if :driftlint_guard_4
ALTER TABLE users ADD COLUMN locked_until timestamp without time zone;
\endif

COMMIT;

-- Review only, not run: snippets for a new migration, and guidance.

-- column-type-mismatch: column public.users.locked_until is timestamp without time zone at the migrations' head, expected timestamp with time zone
-- write a migration that changes the type of public.users.locked_until to timestamp with time zone
-- op.alter_column("users", "locked_until", type_=sa.DateTime(timezone=True), existing_type=sa.DateTime(), existing_nullable=True)
-- # SQL: ALTER TABLE public.users ALTER COLUMN locked_until TYPE timestamp with time zone;

-- primary-key-mismatch: the primary key of public.system_config is (id) at the migrations' head, expected (key)
-- write a migration that makes (key) the primary key of public.system_config
-- op.drop_constraint("system_config_pkey", "system_config", type_="primary")
-- op.create_primary_key("system_config_pkey", "system_config", ["key"])
-- # SQL: ALTER TABLE public.system_config DROP CONSTRAINT system_config_pkey;
-- # SQL: ALTER TABLE public.system_config ADD CONSTRAINT system_config_pkey PRIMARY KEY (key);

-- primary-key-mismatch: the primary key of public.system_config is (id) in the database, expected (key)
-- write a migration that makes (key) the primary key of public.system_config
-- op.drop_constraint("system_config_pkey", "system_config", type_="primary")
-- op.create_primary_key("system_config_pkey", "system_config", ["key"])
-- # SQL: ALTER TABLE public.system_config DROP CONSTRAINT system_config_pkey;
-- # SQL: ALTER TABLE public.system_config ADD CONSTRAINT system_config_pkey PRIMARY KEY (key);

-- forbidden-column-present: column public.system_config.id exists at the migrations' head, but the expectations say it must not
-- write a migration that drops column public.system_config.id
-- # DESTRUCTIVE: drops the column and its data
-- op.drop_column("system_config", "id")
-- # SQL: ALTER TABLE public.system_config DROP COLUMN id;

-- Findings this script does not fix:
--   multiple-heads: the migrations have 2 heads (a7c9e1f3b5d7, f6b8d0e2a4c6), but only one is allowed; the branches split at e5a7c9d1f3b5
