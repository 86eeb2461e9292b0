-- The TraP tables and the columns TraP users query, as skytrap provides them.
SELECT table_name, string_agg(column_name, ', ' ORDER BY ordinal_position) AS columns
FROM information_schema.columns
WHERE table_schema = 'skytrap'
  AND table_name IN ('dataset', 'image', 'frequencyband', 'skyregion', 'extractedsource',
                     'runningcatalog', 'runningcatalog_flux', 'assocxtrsource', 'assocskyrgn',
                     'newsource', 'varmetric', 'monitor', 'rejection', 'rejectreason', 'alert')
GROUP BY table_name
ORDER BY table_name;
-- TraP's reject reasons, with TraP's ids.
SELECT id, description FROM skytrap.rejectreason ORDER BY id;
