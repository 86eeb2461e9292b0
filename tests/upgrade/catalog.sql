-- Everything the skytrap extension puts in a database, one line per fact, sorted: the
-- upgrade test compares this for an upgraded install and a fresh one.
WITH member AS (
    SELECT classid, objid FROM pg_depend
    WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
      AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'skytrap')
),
rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relacl, c.relrowsecurity, c.relforcerowsecurity,
           c.reloptions
    FROM pg_class c JOIN member m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
),
fn AS (
    SELECT p.oid, p.oid::regprocedure::text AS sig, p.prokind, p.proacl
    FROM pg_proc p JOIN member m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
)
SELECT fact FROM (
    SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM member
    UNION ALL
    SELECT format('column %s.%s %s%s%s%s%s', r.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                  coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''),
                  CASE a.attgenerated WHEN 's' THEN ' stored' ELSE '' END,
                  CASE a.attcompression WHEN 'l' THEN ' lz4' WHEN 'p' THEN ' pglz' ELSE '' END)
             || ' #' || a.attnum || coalesce(' acl ' || a.attacl::text, '')
    FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef d ON d.adrelid = r.oid AND d.adnum = a.attnum
    UNION ALL
    SELECT format('constraint %s.%s %s', r.relname, c.conname, pg_get_constraintdef(c.oid))
    FROM rel r JOIN pg_constraint c ON c.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM rel r JOIN pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
    FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s.%s %s to %s using %s check %s', p.tablename, p.policyname, p.cmd,
                  p.roles, p.qual, p.with_check)
    FROM pg_policies p WHERE p.schemaname = 'skytrap'
    UNION ALL
    SELECT format('table %s kind %s acl %s rls %s/%s options %s', r.relname, r.relkind, r.relacl,
                  r.relrowsecurity, r.relforcerowsecurity, r.reloptions)
    FROM rel r
    UNION ALL
    SELECT 'view ' || r.relname || ' ' || pg_get_viewdef(r.oid) FROM rel r WHERE r.relkind = 'v'
    UNION ALL
    SELECT format('function %s acl %s', f.sig, f.proacl) FROM fn f
    UNION ALL
    SELECT 'function ' || pg_get_functiondef(f.oid) FROM fn f WHERE f.prokind IN ('f', 'p')
    UNION ALL
    SELECT format('aggregate %s %s %s %s %s %s', f.sig, a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
                  a.aggtranstype::regtype, a.agginitval)
    FROM fn f JOIN pg_aggregate a ON a.aggfnoid = f.oid
    UNION ALL
    SELECT format('operator %s(%s, %s) %s', o.oprname, o.oprleft::regtype, o.oprright::regtype,
                  o.oprcode)
    FROM pg_operator o JOIN member m ON m.classid = 'pg_operator'::regclass AND m.objid = o.oid
    UNION ALL
    SELECT format('type %s attribute %s %s', t.typname, a.attname, format_type(a.atttypid, a.atttypmod))
    FROM pg_type t JOIN member m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
    JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0
    UNION ALL
    SELECT format('schema %s acl %s', n.nspname, n.nspacl)
    FROM pg_namespace n WHERE n.nspname LIKE 'skytrap%'
    UNION ALL
    SELECT format('comment %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
    FROM pg_description d JOIN member m ON m.classid = d.classoid AND m.objid = d.objoid
    UNION ALL
    SELECT format('row %s', r) FROM skytrap.rejectreason r
    UNION ALL
    SELECT format('row extract_type %s', r) FROM skytrap.extract_type r
    UNION ALL
    SELECT format('row assoc_type %s', r) FROM skytrap.assoc_type r
    UNION ALL
    SELECT format('row newsource_type %s', r) FROM skytrap.newsource_type r
    UNION ALL
    SELECT format('row stokes %s', r) FROM skytrap.stokes r
) facts(fact)
ORDER BY fact;
