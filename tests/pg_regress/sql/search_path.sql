-- Every function skytrap does not inline pins search_path (issue 24). A schema anyone may
-- write to comes first on the session's path, holding functions and aggregates of the exact
-- argument types skytrap's code names unqualified: each records that it ran (and then does
-- the built-in's work). Loading, association, alerts and the other functions never call
-- them.
DROP EXTENSION skytrap CASCADE;
CREATE EXTENSION skytrap;

-- The functions that run SQL and set no search_path: only the predicates PostgreSQL
-- inlines into the caller's query, whose names are all qualified or built-in operators on
-- exact types (a SET clause would stop the inlining).
SELECT p.proname AS unpinned
FROM pg_proc p
WHERE p.pronamespace = 'skytrap'::regnamespace
  AND (p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
       OR p.proname = 'associate_image')
  AND NOT coalesce(p.proconfig @> ARRAY['search_path=skytrap, pg_temp'], false)
ORDER BY 1;
-- The one that runs as its owner: the outbox's writer.
SELECT p.oid::regprocedure AS security_definer, p.proconfig
FROM pg_proc p
WHERE p.pronamespace = 'skytrap'::regnamespace AND p.prosecdef
ORDER BY p.oid::regprocedure::text;

CREATE SCHEMA decoy;
GRANT USAGE, CREATE ON SCHEMA decoy TO PUBLIC;
CREATE TABLE decoy.called (decoy text PRIMARY KEY);
GRANT INSERT ON decoy.called TO PUBLIC;
CREATE FUNCTION decoy.record(decoy text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO decoy.called VALUES (decoy) ON CONFLICT DO NOTHING
$$;

-- unnest of every array type skytrap unnests, and array_agg of every element type it
-- aggregates.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['bigint', 'integer', 'smallint', 'double precision', 'text',
                             'skytrap.alert_candidate'] LOOP
        EXECUTE format('CREATE FUNCTION decoy.unnest(a %1$s[]) RETURNS SETOF %1$s
                        LANGUAGE sql AS %2$L',
                       t, format('SELECT decoy.record(%L); SELECT * FROM pg_catalog.unnest(a)',
                                 'unnest(' || t || '[])'));
    END LOOP;
    FOREACH t IN ARRAY ARRAY['bigint', 'integer', 'skytrap.alert_candidate'] LOOP
        EXECUTE format('CREATE FUNCTION decoy.array_agg_step(s %1$s[], v %1$s) RETURNS %1$s[]
                        LANGUAGE sql AS %2$L',
                       t, format('SELECT decoy.record(%L); SELECT s || v',
                                 'array_agg(' || t || ')'));
        EXECUTE format('CREATE AGGREGATE decoy.array_agg(%1$s)
                        (SFUNC = decoy.array_agg_step, STYPE = %1$s[])', t);
    END LOOP;
END
$$;
CREATE FUNCTION decoy.jsonb_agg_step(s jsonb, v jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT decoy.record('jsonb_agg(jsonb)');
    SELECT coalesce(s, '[]') || pg_catalog.jsonb_build_array(v)
$$;
CREATE AGGREGATE decoy.jsonb_agg(jsonb) (SFUNC = decoy.jsonb_agg_step, STYPE = jsonb);
CREATE FUNCTION decoy.count_step(s bigint, v bigint) RETURNS bigint LANGUAGE sql AS $$
    SELECT decoy.record('count(bigint)');
    SELECT s + 1
$$;
CREATE AGGREGATE decoy.count(bigint) (SFUNC = decoy.count_step, STYPE = bigint, INITCOND = 0);
-- The shape of the alert wake-up's arguments.
CREATE FUNCTION decoy.json_build_object(text, integer, text, bigint, text, bigint, text, bigint)
RETURNS json LANGUAGE sql AS $$
    SELECT decoy.record('json_build_object');
    SELECT pg_catalog.json_build_object($1, $2, $3, $4, $5, $6, $7, $8)
$$;

SET search_path = decoy, public;

-- The decoys do catch an unqualified call with the session's path...
SELECT pg_catalog.count(*) FROM unnest(ARRAY[1, 2]::bigint[]);
SELECT json_build_object('v', 1, 'first', 2::bigint, 'last', 3::bigint, 'n', 4::bigint);
-- ... and skytrap's own code with its pin taken away (here: the default rules' trigger).
BEGIN;
ALTER FUNCTION skytrap.add_default_alert_rules() RESET search_path;
INSERT INTO skytrap.dataset (description) VALUES ('unpinned');
SELECT decoy FROM decoy.called ORDER BY 1;
ROLLBACK;
TRUNCATE decoy.called;

-- A dataset with a monitor position, loaded as the loader does: bands, sky regions,
-- forced-fit targets, four epochs of three sources (A steady then doubling: a flux jump
-- and a variable; B at the monitor position; C a transient in epoch 2), each associated,
-- which raises alerts and notifies listeners.
INSERT INTO skytrap.dataset (description) VALUES ('decoyed');
INSERT INTO skytrap.monitor (dataset, ra, decl, name)
SELECT id, 20.05, 0, 'B' FROM skytrap.dataset;
CREATE FUNCTION pg_temp.epoch(e integer, a double precision, c double precision)
RETURNS TABLE (matched integer, new_runcat integer, new_sources integer, forks integer,
               forced integer)
-- No SET clause: skytrap's functions are called with the session's path. Its own
-- statements call no decoy.
LANGUAGE plpgsql AS $$
DECLARE
    d integer := (SELECT id FROM skytrap.dataset WHERE description = 'decoyed');
    img integer;
BEGIN
    INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts, rb_smaj,
                               rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max,
                               detection_thresh)
    VALUES (d, skytrap.frequencyband_for(d, 150e6, 2e6), skytrap.skyregion_for(d, 20, 0, 1),
            150e6, 2e6, timestamp '2026-01-01' + (e - 1) * interval '1 day', 0.01, 0.01, 0,
            0.001, 0.001, 'epoch' || e || '.fits', 0.01, 0.02, 8)
    RETURNING id INTO img;
    PERFORM pg_catalog.count(*) FROM skytrap.forced_fit_targets(img);
    INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                                         ns_sys_err, error_radius, det_sigma, f_peak,
                                         f_peak_err, f_int, f_int_err)
    SELECT img, s.ra, 0, 0.0001, 0.0001, 1, 1, 1, 20, s.f, 0.05, s.f, 0.05
    FROM (VALUES (20.0, a), (20.05, 1.0), (20.1, c)) AS s(ra, f)
    WHERE s.f > 0;
    RETURN QUERY SELECT * FROM skytrap.associate_image(img);
END
$$;
SELECT * FROM pg_temp.epoch(1, 1.0, 0);
SELECT * FROM pg_temp.epoch(2, 1.0, 0.5);
SELECT * FROM pg_temp.epoch(3, 2.0, 0);
SELECT * FROM pg_temp.epoch(4, 2.0, 0);

-- Alerts of every kind, each with its body, and the other functions on what was loaded.
SELECT kind, pg_catalog.count(*) AS alerts,
       pg_catalog.bool_and(body IS NOT NULL) AS with_bodies
FROM skytrap.alert GROUP BY kind ORDER BY kind;
SELECT skytrap.alert_body(kind, runcat, xtrsrc, '{}') IS NOT NULL AS body_again
FROM skytrap.alert ORDER BY alert_id LIMIT 1;
SELECT (skytrap.lightcurve_stats(f_int, f_int_err)).datapoints
FROM skytrap.lightcurve GROUP BY runcat ORDER BY 1;
SELECT skytrap.version() = extversion AS version FROM pg_extension WHERE extname = 'skytrap';

-- Not one decoy ran.
SELECT decoy FROM decoy.called ORDER BY 1;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA decoy CASCADE;
RESET client_min_messages;
