-- skytrap 0.1.0 -> 0.2.0. Released scripts are frozen: a later change gets its own step.
\echo Use "ALTER EXTENSION skytrap UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION skytrap.version() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT extversion::text FROM pg_catalog.pg_extension WHERE extname = 'skytrap' $$;

-- Images are known by content as well as by URL (`skytrap load` resumes by both).
ALTER TABLE skytrap.image
    ADD COLUMN sha256 char(64) CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT image_dataset_sha256_key UNIQUE (dataset, sha256);
