-- Every table, view, column, type, function, operator and operator class of schema skytrap
-- has a comment (sql/comments.sql, sql/codes.sql), so that psql's \d+ is the reference:
-- an object added without one is listed here and fails the test.
SELECT kind, name FROM (
    SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                          WHEN 'f' THEN 'foreign table' ELSE 'table' END, c.oid::regclass::text
    FROM pg_class c
    WHERE c.relnamespace = 'skytrap'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND obj_description(c.oid, 'pg_class') IS NULL
    UNION ALL
    SELECT 'column', format('%s.%I', c.oid::regclass, a.attname)
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relnamespace = 'skytrap'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
      AND col_description(c.oid, a.attnum) IS NULL
    UNION ALL
    SELECT 'type', t.oid::regtype::text
    FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
    WHERE t.typnamespace = 'skytrap'::regnamespace AND t.typcategory <> 'A'
      AND (c.relkind = 'c' OR t.typrelid = 0) AND obj_description(t.oid, 'pg_type') IS NULL
    UNION ALL
    SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'p' THEN 'procedure'
                          WHEN 'w' THEN 'window function' ELSE 'function' END, p.oid::regprocedure::text
    FROM pg_proc p
    WHERE p.pronamespace = 'skytrap'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
    UNION ALL
    SELECT 'operator', o.oid::regoperator::text FROM pg_operator o
    WHERE o.oprnamespace = 'skytrap'::regnamespace AND obj_description(o.oid, 'pg_operator') IS NULL
    UNION ALL
    SELECT 'operator class', format('%s USING %s', oc.opcname, am.amname)
    FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
    WHERE oc.opcnamespace = 'skytrap'::regnamespace AND obj_description(oc.oid, 'pg_opclass') IS NULL
    UNION ALL
    SELECT 'operator family', format('%s USING %s', of.opfname, am.amname)
    FROM pg_opfamily of JOIN pg_am am ON am.oid = of.opfmethod
    WHERE of.opfnamespace = 'skytrap'::regnamespace AND obj_description(of.oid, 'pg_opfamily') IS NULL
) missing(kind, name)
ORDER BY kind, name;

-- What psql shows an analyst: a column's unit and meaning, and a code's lookup table.
SELECT col_description('skytrap.extractedsource'::regclass, a.attnum) AS f_int
FROM pg_attribute a WHERE a.attrelid = 'skytrap.extractedsource'::regclass AND a.attname = 'f_int';
SELECT id, name FROM skytrap.extract_type ORDER BY id;
SELECT id, name FROM skytrap.newsource_type ORDER BY id;
