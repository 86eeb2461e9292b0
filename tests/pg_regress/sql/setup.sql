-- Every golden test runs in one fresh database with the extension.
CREATE EXTENSION skytrap;
SELECT extname, extversion FROM pg_extension WHERE extname = 'skytrap';
