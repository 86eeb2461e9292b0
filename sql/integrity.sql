-- The invariants association keeps, checked against the rows as they are. Foreign keys
-- prove the references today; this proves them, and what no key can (sums that are their
-- points), on a layout without them. One row per violation; none for a sound database.
-- Reads every lightcurve: minutes for a survey of millions, so a check, not a monitor.
CREATE FUNCTION skytrap.check_integrity()
RETURNS TABLE (invariant text, runcat bigint, detail text)
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
AS $$
    SELECT 'dangling link', a.runcat,
           format('link %s belongs to lightcurve %s, which does not exist', a.id, a.runcat)
    FROM skytrap.assocxtrsource a
    WHERE NOT EXISTS (SELECT 1 FROM skytrap.runningcatalog r WHERE r.id = a.runcat)
    UNION ALL
    SELECT 'dangling link', a.runcat,
           format('link %s names measurement %s, which does not exist', a.id, a.xtrsrc)
    FROM skytrap.assocxtrsource a
    WHERE NOT EXISTS (SELECT 1 FROM skytrap.extractedsource x WHERE x.id = a.xtrsrc)
    UNION ALL
    SELECT 'link time', a.runcat,
           format('link %s has time %s; its measurement %s was taken at %s', a.id,
                  a.taustart_ts, a.xtrsrc, i.taustart_ts)
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    WHERE a.taustart_ts <> i.taustart_ts
    UNION ALL
    SELECT 'dangling measurement', x.ff_runcat,
           format('measurement %s belongs to image %s, which does not exist', x.id, x.image)
    FROM skytrap.extractedsource x
    WHERE NOT EXISTS (SELECT 1 FROM skytrap.image i WHERE i.id = x.image)
    UNION ALL
    SELECT 'lightcurve without points', r.id, format('lightcurve %s has no link', r.id)
    FROM skytrap.runningcatalog r
    WHERE NOT EXISTS (SELECT 1 FROM skytrap.assocxtrsource a WHERE a.runcat = r.id)
    UNION ALL
    SELECT 'dangling flux row', f.runcat,
           format('flux row %s belongs to lightcurve %s, which does not exist', f.id, f.runcat)
    FROM skytrap.runningcatalog_flux f
    WHERE NOT EXISTS (SELECT 1 FROM skytrap.runningcatalog r WHERE r.id = f.runcat)
    UNION ALL
    SELECT 'dangling new source', n.runcat,
           format('new source %s: its lightcurve %s or its measurement %s does not exist',
                  n.id, n.runcat, n.trigger_xtrsrc)
    FROM skytrap.newsource n
    WHERE NOT EXISTS (SELECT 1 FROM skytrap.runningcatalog r WHERE r.id = n.runcat)
       OR NOT EXISTS (SELECT 1 FROM skytrap.extractedsource x WHERE x.id = n.trigger_xtrsrc)
    UNION ALL
    SELECT * FROM skytrap.lightcurve_violations()
$$;
