-- skytrap 0.1.0 -> 0.2.0. Released scripts are frozen: a later change gets its own step.
\echo Use "ALTER EXTENSION skytrap UPDATE TO '0.2.0'" to load this file. \quit

CREATE FUNCTION skytrap.version() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT extversion::text FROM pg_catalog.pg_extension WHERE extname = 'skytrap' $$;

-- Images are known by content as well as by URL (`skytrap load` resumes by both).
ALTER TABLE skytrap.image
    ADD COLUMN sha256 char(64) CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT image_dataset_sha256_key UNIQUE (dataset, sha256);

-- Fluxes are finite: NaN sorts above every number and would pass every alert threshold.
ALTER TABLE skytrap.extractedsource
    ADD CONSTRAINT extractedsource_f_peak_check CHECK (f_peak > '-Infinity' AND f_peak < 'Infinity'),
    ADD CONSTRAINT extractedsource_f_int_check CHECK (f_int > '-Infinity' AND f_int < 'Infinity');

-- Defined results for NaN, infinite and out-of-range arguments; a new region's lightcurves
-- linked in id order.
CREATE OR REPLACE FUNCTION skytrap.frequencyband_for(dataset integer, freq_eff double precision,
                                          freq_bw double precision)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE
    lo   double precision := freq_eff - freq_bw / 2;
    hi   double precision := freq_eff + freq_bw / 2;
    band integer;
BEGIN
    IF NOT (freq_eff > '-Infinity' AND freq_eff < 'Infinity'
            AND freq_bw >= 0 AND freq_bw < 'Infinity') THEN
        RAISE EXCEPTION 'skytrap.frequencyband_for: freq_eff % and freq_bw % are not a frequency band',
            freq_eff, freq_bw
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'freq_eff must be finite, freq_bw finite and not negative (Hz).';
    END IF;
    SELECT b.id INTO band
    FROM skytrap.frequencyband b
    WHERE b.dataset = frequencyband_for.dataset
      AND (greatest(hi, b.freq_high) - least(lo, b.freq_low) < (hi - lo) + (b.freq_high - b.freq_low)
           OR b.freq_central = freq_eff)
    ORDER BY b.id
    LIMIT 1;
    IF band IS NULL THEN
        INSERT INTO skytrap.frequencyband (dataset, freq_central, freq_low, freq_high)
        VALUES (frequencyband_for.dataset, freq_eff, lo, hi)
        RETURNING id INTO band;
    END IF;
    RETURN band;
END
$$;

CREATE OR REPLACE FUNCTION skytrap.skyregion_for(dataset integer, centre_ra double precision,
                                      centre_decl double precision, xtr_radius double precision)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
AS $$
DECLARE
    region integer;
BEGIN
    IF NOT (centre_ra > '-Infinity' AND centre_ra < 'Infinity'
            AND centre_decl BETWEEN -90 AND 90 AND xtr_radius >= 0 AND xtr_radius < 'NaN') THEN
        RAISE EXCEPTION 'skytrap.skyregion_for: centre (%, %) and radius % are not a sky region',
            centre_ra, centre_decl, xtr_radius
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'RA must be finite, declination in [-90, 90], the radius not negative (degrees).';
    END IF;
    -- Into [0, 360): a tiny negative RA would round to 360 itself.
    centre_ra := centre_ra - 360 * floor(centre_ra / 360);
    IF centre_ra >= 360 THEN
        centre_ra := 0;
    END IF;
    SELECT s.id INTO region
    FROM skytrap.skyregion s
    WHERE s.dataset = skyregion_for.dataset AND s.centre_ra = skyregion_for.centre_ra
      AND s.centre_decl = skyregion_for.centre_decl AND s.xtr_radius = skyregion_for.xtr_radius;
    IF region IS NULL THEN
        INSERT INTO skytrap.skyregion (dataset, centre_ra, centre_decl, xtr_radius)
        VALUES (skyregion_for.dataset, skyregion_for.centre_ra, skyregion_for.centre_decl,
                skyregion_for.xtr_radius)
        RETURNING id INTO region;
        INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
        SELECT r.id, region, skytrap.distance(skyregion_for.centre_ra, skyregion_for.centre_decl, r.wm_ra, r.wm_decl)
        FROM skytrap.runningcatalog r
        WHERE skytrap.xmatch(skyregion_for.centre_ra, skyregion_for.centre_decl, r.wm_ra, r.wm_decl,
                             skyregion_for.xtr_radius)
          AND r.dataset = skyregion_for.dataset
          AND skytrap.distance(skyregion_for.centre_ra, skyregion_for.centre_decl, r.wm_ra, r.wm_decl)
              < skyregion_for.xtr_radius
        ORDER BY r.id;
    END IF;
    RETURN region;
END
$$;

CREATE OR REPLACE FUNCTION skytrap.deruiter_xmatch(ra1 double precision, decl1 double precision,
                                        unc_ew1 double precision, unc_ns1 double precision,
                                        ra2 double precision, decl2 double precision,
                                        unc_ew2 double precision, unc_ns2 double precision,
                                        r_max double precision, radius double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.xmatch(ra1, decl1, ra2, decl2, radius)
       AND skytrap.de_ruiter(ra1, decl1, unc_ew1, unc_ns1, ra2, decl2, unc_ew2, unc_ns2) < r_max
       AND r_max <> 'NaN'::double precision
$$;

CREATE OR REPLACE FUNCTION skytrap.in_ellipse(ra double precision, decl double precision,
                                   ra0 double precision, decl0 double precision,
                                   smaj double precision, smin double precision,
                                   pa double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.in_cone(ra, decl, ra0, decl0, greatest(smaj, smin))
       AND skytrap.in_ellipse_exact(ra, decl, ra0, decl0, smaj, smin, pa)
$$;

-- NULL coordinates give NULL, not a skipped call: the planner support sees the same function.
ALTER FUNCTION skytrap.xmatch_keys(bigint, bigint, double precision, double precision,
                                   double precision, double precision, double precision)
    CALLED ON NULL INPUT;

-- Alert consumers belong to the role that made them; row-level security keeps listeners
-- to their own cursors. Existing cursors go to the role running this update.
ALTER TABLE skytrap.alert_consumer ADD COLUMN owner name NOT NULL DEFAULT current_user;
ALTER TABLE skytrap.alert_parked ADD COLUMN owner name NOT NULL DEFAULT current_user,
    DROP CONSTRAINT alert_parked_pkey,
    ADD CONSTRAINT alert_parked_pkey PRIMARY KEY (consumer, alert_id, owner);
ALTER TABLE skytrap.alert_consumer ENABLE ROW LEVEL SECURITY;
ALTER TABLE skytrap.alert_parked ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON skytrap.alert_consumer
    USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY own_rows ON skytrap.alert_parked
    USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE POLICY analysts_read ON skytrap.alert_consumer FOR SELECT
    USING (pg_has_role('skytrap_analyst', 'USAGE'));
CREATE POLICY analysts_read ON skytrap.alert_parked FOR SELECT
    USING (pg_has_role('skytrap_analyst', 'USAGE'));

-- The roles skytrap_loader, skytrap_analyst and skytrap_listener, as roles.sql makes them.
-- Least privilege. Three group roles, one per way of using skytrap; give people and
-- services their own LOGIN roles and make them members:
--
--     CREATE ROLE pipeline LOGIN IN ROLE skytrap_loader;     -- runs `skytrap load`
--     CREATE ROLE alerts   LOGIN IN ROLE skytrap_listener;   -- runs `skytrap listen`
--     CREATE ROLE alice    LOGIN IN ROLE skytrap_analyst;    -- psql, notebooks
--
--   skytrap_loader    writes the pipeline: datasets, images, measurements, association
--                     (skytrap.associate_image) and the alerts it raises; changes alert
--                     rules (`skytrap rules set`). Cannot drop or alter tables, and cannot
--                     touch the listeners' cursors.
--   skytrap_analyst   reads everything in schema skytrap; writes only its own tables in
--                     schema skytrap_scratch and temporary tables.
--   skytrap_listener  reads the alert outbox (skytrap.alert) and nothing else of the
--                     pipeline; keeps its own cursors in alert_consumer and parks its own
--                     failures in alert_parked (row-level security, alerts.sql: a consumer
--                     name belongs to the role that first used it).
--
-- The roles are NOLOGIN and cluster-wide: the first CREATE EXTENSION in a cluster makes
-- them, and every database's CREATE EXTENSION grants them its own objects. DROP EXTENSION
-- takes the grants on its objects with it, never the roles. Tables added by later versions
-- are granted by their upgrade scripts. skytrap's functions and triggers run with the
-- caller's privileges (none is SECURITY DEFINER), so what a role may do is exactly what
-- is granted below.

-- The roles, unless they exist (made by another database's CREATE EXTENSION, or by an
-- administrator, whose attributes are then kept as they are).
DO $$
DECLARE
    role record;
BEGIN
    FOR role IN
        SELECT * FROM (VALUES
            ('skytrap_loader', 'skytrap: runs `skytrap load` and association; writes the pipeline tables'),
            ('skytrap_analyst', 'skytrap: reads everything in schema skytrap; own tables in skytrap_scratch'),
            ('skytrap_listener', 'skytrap: reads the alert outbox; moves only its own consumer cursors')
        ) AS r(name, description)
    LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', role.name);
            EXECUTE format('COMMENT ON ROLE %I IS %L', role.name, role.description);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            -- It exists: another database's CREATE EXTENSION (perhaps at this very
            -- moment) or an administrator made it.
            NULL;
        END;
    END LOOP;
END
$$;

-- All three connect to this database (also where CONNECT was revoked from PUBLIC) and
-- see schema skytrap; analysts may make temporary tables. These two grants are on the
-- database, not on the extension's objects: DROP EXTENSION leaves them.
DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO skytrap_loader, skytrap_analyst, skytrap_listener',
                   current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO skytrap_analyst', current_database());
END
$$;
GRANT USAGE ON SCHEMA skytrap TO skytrap_loader, skytrap_analyst, skytrap_listener;

-- skytrap_loader ------------------------------------------------------------------------

-- What `skytrap load`, skytrap.associate_image and the triggers behind them read: the
-- pipeline tables, the alert rules and the outbox (an alert cites earlier alerts).
GRANT SELECT ON
    skytrap.dataset, skytrap.config, skytrap.frequencyband, skytrap.skyregion, skytrap.image,
    skytrap.rejectreason, skytrap.rejection, skytrap.monitor, skytrap.extractedsource,
    skytrap.runningcatalog, skytrap.runningcatalog_flux, skytrap.assocxtrsource,
    skytrap.assocskyrgn, skytrap.newsource, skytrap.varmetric, skytrap.alert_rule,
    skytrap.alert
TO skytrap_loader;
-- What they add: a dataset (and, by trigger, its default alert rules), bands, sky regions,
-- images, rejections, monitor positions, measurements (COPY), lightcurves and their
-- links, flux sums, new sources, variability and, by trigger, alerts.
GRANT INSERT ON
    skytrap.dataset, skytrap.config, skytrap.alert_rule, skytrap.frequencyband, skytrap.skyregion,
    skytrap.image, skytrap.rejection, skytrap.monitor, skytrap.extractedsource,
    skytrap.runningcatalog, skytrap.runningcatalog_flux, skytrap.assocxtrsource,
    skytrap.assocskyrgn, skytrap.newsource, skytrap.varmetric, skytrap.alert
TO skytrap_loader;
-- What association changes: lightcurves (moved, extended, forked away), their flux sums
-- and variability, forced fits it finds redundant, a monitor's lightcurve, and the
-- previous point of a link when an earlier image comes in late (granted below, with the
-- column). Of an image only associated_at, which also lets associate_image lock the
-- image row.
GRANT UPDATE, DELETE ON skytrap.runningcatalog, skytrap.extractedsource TO skytrap_loader;
GRANT UPDATE ON skytrap.runningcatalog_flux, skytrap.varmetric TO skytrap_loader;
GRANT UPDATE (runcat) ON skytrap.monitor TO skytrap_loader;
GRANT UPDATE (associated_at) ON skytrap.image TO skytrap_loader;
-- `skytrap rules set`: a rule's settings, never which dataset or kind it is.
GRANT UPDATE (enabled, min_newsource_type, min_det_sigma, eta_min, v_min, band, vs_min,
              m_min, radius_arcsec)
    ON skytrap.alert_rule TO skytrap_loader;
-- The ids of the rows it adds.
GRANT USAGE ON SEQUENCE
    skytrap.dataset_id_seq, skytrap.config_id_seq, skytrap.frequencyband_id_seq, skytrap.skyregion_id_seq,
    skytrap.image_id_seq, skytrap.rejection_id_seq, skytrap.monitor_id_seq,
    skytrap.extractedsource_id_seq, skytrap.runningcatalog_id_seq,
    skytrap.runningcatalog_flux_id_seq, skytrap.assocxtrsource_id_seq,
    skytrap.assocskyrgn_id_seq, skytrap.newsource_id_seq, skytrap.varmetric_id_seq,
    skytrap.alert_alert_id_seq
TO skytrap_loader;
-- The functions that write are the loader's alone (everyone may run the others, which
-- only read). Table privileges would stop anyone else anyway; this says so up front.
REVOKE EXECUTE ON FUNCTION
    skytrap.associate_image(integer),
    skytrap.frequencyband_for(integer, double precision, double precision),
    skytrap.skyregion_for(integer, double precision, double precision, double precision)
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    skytrap.associate_image(integer),
    skytrap.frequencyband_for(integer, double precision, double precision),
    skytrap.skyregion_for(integer, double precision, double precision, double precision)
TO skytrap_loader;

-- skytrap_analyst -----------------------------------------------------------------------

-- Every table and view of the schema, read-only (every row of alert_consumer and
-- alert_parked too: see their policies), and where the sequences stand.
GRANT SELECT ON ALL TABLES IN SCHEMA skytrap TO skytrap_analyst;
GRANT SELECT ON ALL SEQUENCES IN SCHEMA skytrap TO skytrap_analyst;

-- Analysts' own tables: each is its creator's, to share with GRANT. The schema belongs to
-- the extension, so DROP EXTENSION refuses to run while tables are left in it.
CREATE SCHEMA skytrap_scratch;
COMMENT ON SCHEMA skytrap_scratch IS 'skytrap: analysts'' own tables (skytrap_analyst may CREATE here)';
GRANT USAGE, CREATE ON SCHEMA skytrap_scratch TO skytrap_analyst;

-- skytrap_listener ----------------------------------------------------------------------

-- `skytrap listen`: read the outbox; add a consumer and move its cursor; park failures.
-- Row-level security (alerts.sql) limits the last two to the listener's own rows, and
-- these column lists keep it from renaming a consumer or giving a row away.
GRANT SELECT ON skytrap.alert TO skytrap_listener;
GRANT SELECT, INSERT (name, last_alert_id), UPDATE (last_alert_id, updated_at)
    ON skytrap.alert_consumer TO skytrap_listener;
GRANT SELECT, INSERT (consumer, alert_id, attempts, error), UPDATE (attempts, error, parked_at)
    ON skytrap.alert_parked TO skytrap_listener;

-- Alert upper limits come from the sky regions linked to the lightcurve (assocskyrgn), found
-- through an index on the images' sky region, not from every image of the dataset.
CREATE INDEX ON skytrap.image (skyrgn);
-- Alert bodies for a whole image in one query; the previous points of an image's lightcurves
-- in one join.
CREATE FUNCTION skytrap.alert_bodies(candidates skytrap.alert_candidate[])
RETURNS TABLE (n bigint, body jsonb)
LANGUAGE sql STABLE
AS $$
    SELECT c.n, jsonb_build_object(
        'schema_version', 1,
        'kind', c.kind,
        'dataset', jsonb_build_object('id', d.id, 'description', d.description),
        'source', jsonb_build_object(
            'id', x.id, 'ra', x.ra, 'dec', x.decl, 'ra_err', x.ra_err, 'dec_err', x.decl_err,
            'error_radius', x.error_radius,
            'f_peak', x.f_peak, 'f_peak_err', x.f_peak_err, 'f_int', x.f_int,
            'f_int_err', x.f_int_err, 'det_sigma', x.det_sigma, 'extract_type', x.extract_type,
            'image', i.id, 'url', i.url, 'taustart_ts', i.taustart_ts,
            'freq_eff', i.freq_eff, 'band', i.band, 'stokes', i.stokes),
        'object', jsonb_build_object(
            'runcat', r.id, 'wm_ra', r.wm_ra, 'wm_decl', r.wm_decl,
            'wm_uncertainty_ew', r.wm_uncertainty_ew, 'wm_uncertainty_ns', r.wm_uncertainty_ns,
            'datapoints', r.datapoints,
            'v_int', v.v_int, 'eta_int', v.eta_int, 'v_peak', v.v_peak, 'eta_peak', v.eta_peak,
            'lightcurve_max', v.lightcurve_max, 'lightcurve_avg', v.lightcurve_avg,
            'lightcurve_median', v.lightcurve_median, 'first_ts', v.first_ts, 'last_ts', v.last_ts),
        'history', h.history,
        'upper_limits', (
            SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'image', ui.id, 'taustart_ts', ui.taustart_ts, 'band', ui.band,
                       'f_peak_limit', ui.rms_min * ui.detection_thresh)
                     ORDER BY ui.taustart_ts, ui.id), '[]'::jsonb)
            FROM skytrap.assocskyrgn us
            JOIN skytrap.image ui ON ui.skyrgn = us.skyrgn
            WHERE us.runcat = r.id AND ui.taustart_ts < i.taustart_ts
              AND ui.rms_min IS NOT NULL AND ui.detection_thresh IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM skytrap.rejection uj WHERE uj.image = ui.id)
              AND ui.id <> ALL (h.images)),
        'classification', c.classification,
        'citations', (SELECT coalesce(jsonb_agg(a.alert_id ORDER BY a.alert_id), '[]'::jsonb)
                      FROM skytrap.alert a WHERE a.runcat = r.id))
    FROM unnest(candidates) WITH ORDINALITY AS c(kind, runcat, xtrsrc, classification, n)
    JOIN skytrap.extractedsource x ON x.id = c.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    JOIN skytrap.dataset d ON d.id = i.dataset
    JOIN skytrap.runningcatalog r ON r.id = c.runcat
    LEFT JOIN skytrap.varmetric v ON v.runcat = r.id
    -- The lightcurve's points, read once: the earlier ones are its history, and the images
    -- of all of them are the images that saw it (no upper limit from those).
    CROSS JOIN LATERAL (
        SELECT coalesce(jsonb_agg(jsonb_build_object(
                   'id', hx.id, 'image', hi.id, 'taustart_ts', hi.taustart_ts,
                   'band', hi.band, 'freq_eff', hi.freq_eff,
                   'f_peak', hx.f_peak, 'f_peak_err', hx.f_peak_err,
                   'f_int', hx.f_int, 'f_int_err', hx.f_int_err,
                   'extract_type', hx.extract_type, 'assoc_type', ha.type)
                 ORDER BY hi.taustart_ts, hx.id) FILTER (WHERE hi.taustart_ts < i.taustart_ts),
                        '[]'::jsonb) AS history,
               coalesce(array_agg(hx.image), '{}') AS images
        FROM skytrap.assocxtrsource ha
        JOIN skytrap.extractedsource hx ON hx.id = ha.xtrsrc
        JOIN skytrap.image hi ON hi.id = hx.image
        WHERE ha.runcat = r.id) h
$$;
CREATE OR REPLACE FUNCTION skytrap.alert_body(kind text, runcat bigint, xtrsrc bigint, classification jsonb)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT body
    FROM skytrap.alert_bodies(ARRAY[ROW(kind, runcat, xtrsrc, classification)::skytrap.alert_candidate])
$$;
-- Each link names the previous point of its lightcurve in the same band and Stokes
-- parameter, so alerts compare an image's points with the previous ones by key instead of
-- reading whole lightcurves. Existing links: the last point of the latest earlier time.
ALTER TABLE skytrap.assocxtrsource ADD COLUMN prev_xtrsrc bigint;
GRANT UPDATE (prev_xtrsrc) ON skytrap.assocxtrsource TO skytrap_loader;
WITH point AS (
    SELECT a.id, a.runcat, a.xtrsrc, i.band, i.stokes, i.taustart_ts
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
),
moment AS (
    SELECT runcat, band, stokes, taustart_ts, max(xtrsrc) AS last_xtrsrc
    FROM point GROUP BY runcat, band, stokes, taustart_ts
),
previous AS (
    SELECT runcat, band, stokes, taustart_ts,
           lag(last_xtrsrc) OVER (PARTITION BY runcat, band, stokes ORDER BY taustart_ts) AS xtrsrc
    FROM moment
)
UPDATE skytrap.assocxtrsource a SET prev_xtrsrc = p.xtrsrc
FROM point t JOIN previous p USING (runcat, band, stokes, taustart_ts)
WHERE a.id = t.id AND p.xtrsrc IS NOT NULL;
CREATE OR REPLACE FUNCTION skytrap.alert_candidates(image integer)
RETURNS SETOF skytrap.alert_candidate
LANGUAGE sql STABLE
AS $$
    WITH img AS (SELECT * FROM skytrap.image WHERE id = alert_candidates.image),
    rule AS (SELECT r.* FROM skytrap.alert_rule r, img WHERE r.dataset = img.dataset AND r.enabled),
    point AS (
        -- This image's lightcurve points, each beside the previous point of its lightcurve
        -- (the link names it).
        SELECT a.runcat, a.xtrsrc, a.v_int, a.eta_int, a.f_datapoints, x.f_int, x.f_int_err,
               x.det_sigma, x.extract_type, a.prev_xtrsrc,
               px.f_int AS prev_f_int, px.f_int_err AS prev_f_int_err
        FROM img
        JOIN skytrap.extractedsource x ON x.image = img.id
        JOIN skytrap.assocxtrsource a ON a.xtrsrc = x.id
        LEFT JOIN skytrap.extractedsource px ON px.id = a.prev_xtrsrc
    )
    SELECT 'new_source', n.runcat, n.trigger_xtrsrc,
           jsonb_build_object('newsource_type', n.newsource_type, 'det_sigma', x.det_sigma,
                              'previous_limits_image', p.id, 'previous_rms_min', p.rms_min,
                              'previous_rms_max', p.rms_max,
                              'previous_detection_thresh', p.detection_thresh)
    FROM img
    JOIN skytrap.extractedsource x ON x.image = img.id
    JOIN skytrap.newsource n ON n.trigger_xtrsrc = x.id
    JOIN skytrap.image p ON p.id = n.previous_limits_image
    JOIN rule r ON r.kind = 'new_source'
    WHERE n.newsource_type >= r.min_newsource_type AND x.det_sigma >= r.min_det_sigma
    UNION ALL
    SELECT 'variable', p.runcat, p.xtrsrc,
           jsonb_build_object('eta_int', p.eta_int, 'v_int', p.v_int, 'datapoints', p.f_datapoints,
                              'eta_min', r.eta_min, 'v_min', r.v_min, 'band', img.band)
    FROM img, point p
    JOIN rule r ON r.kind = 'variable'
    -- The previous point's metrics, looked up only for the points above the thresholds.
    LEFT JOIN skytrap.assocxtrsource pa ON pa.runcat = p.runcat AND pa.xtrsrc = p.prev_xtrsrc
    WHERE (r.band IS NULL OR r.band = img.band)
      AND p.eta_int >= r.eta_min AND p.v_int >= r.v_min
      AND NOT (coalesce(pa.eta_int, 0) >= r.eta_min AND coalesce(pa.v_int, 0) >= r.v_min)
    UNION ALL
    SELECT 'flux_jump', p.runcat, p.xtrsrc,
           jsonb_build_object('vs', j.vs, 'm', j.m, 'vs_min', r.vs_min, 'm_min', r.m_min,
                              'previous_xtrsrc', p.prev_xtrsrc, 'previous_f_int', p.prev_f_int,
                              'previous_f_int_err', p.prev_f_int_err)
    FROM point p
    CROSS JOIN LATERAL (SELECT skytrap.two_epoch_vs(p.f_int, p.f_int_err, p.prev_f_int, p.prev_f_int_err) AS vs,
                               skytrap.two_epoch_m(p.f_int, p.prev_f_int) AS m) j
    JOIN rule r ON r.kind = 'flux_jump'
    WHERE p.prev_xtrsrc IS NOT NULL AND abs(j.vs) >= r.vs_min AND abs(j.m) >= r.m_min
    UNION ALL
    SELECT 'monitor_detection', p.runcat, p.xtrsrc,
           jsonb_build_object('monitor', m.id, 'name', m.name,
                              'distance_arcsec', skytrap.distance(m.ra, m.decl, x.ra, x.decl) * 3600,
                              'radius_arcsec', r.radius_arcsec)
    FROM img, point p
    JOIN skytrap.extractedsource x ON x.id = p.xtrsrc
    JOIN skytrap.monitor m ON true
    JOIN rule r ON r.kind = 'monitor_detection'
    WHERE m.dataset = img.dataset AND x.extract_type = 0
      AND skytrap.distance(m.ra, m.decl, x.ra, x.decl) * 3600 < r.radius_arcsec
$$;
CREATE OR REPLACE FUNCTION skytrap.raise_alerts()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    found skytrap.alert_candidate[];
BEGIN
    SELECT array_agg(c ORDER BY c.kind, c.xtrsrc, c.runcat) INTO found
    FROM skytrap.alert_candidates(NEW.id) c;
    IF found IS NULL THEN
        RETURN NULL;
    END IF;
    -- Writers of alerts queue here until they commit, so alert ids are handed out in
    -- commit order and a consumer reading "alert_id > last seen" can never skip one.
    PERFORM pg_advisory_xact_lock(7292, 0);
    INSERT INTO skytrap.alert (kind, dataset, runcat, xtrsrc, image, body)
    SELECT c.kind, NEW.dataset, c.runcat, c.xtrsrc, NEW.id, b.body
    FROM unnest(found) WITH ORDINALITY AS c(kind, runcat, xtrsrc, classification, n)
    LEFT JOIN skytrap.alert_bodies(found) b ON b.n = c.n
    ORDER BY c.n
    ON CONFLICT (kind, runcat, xtrsrc) DO NOTHING;
    RETURN NULL;
END
$$;

-- A new lightcurve's sky regions are found by cone through an index, not by a scan of every
-- region of the dataset.
CREATE INDEX skyregion_pixel ON skytrap.skyregion (skytrap.pixel(centre_ra, centre_decl) skytrap.pixel_ops);

-- Analysts see each point's previous one too.
CREATE OR REPLACE VIEW skytrap.lightcurve AS
SELECT a.runcat,
       r.dataset,
       x.id AS xtrsrc,
       i.id AS image,
       i.taustart_ts,
       i.band,
       b.freq_central,
       i.stokes,
       x.ra,
       x.decl,
       x.f_peak,
       x.f_peak_err,
       x.f_int,
       x.f_int_err,
       x.det_sigma,
       x.extract_type,
       a.type AS assoc_type,
       a.v_int,
       a.eta_int,
       a.prev_xtrsrc
FROM skytrap.assocxtrsource a
JOIN skytrap.runningcatalog r ON r.id = a.runcat
JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
JOIN skytrap.image i ON i.id = x.image
JOIN skytrap.frequencyband b ON b.id = i.band;

-- Each image rewrites the flux sums and variability rows of the lightcurves it touches:
-- half of each page is left free so that the new versions stay on their pages and touch
-- no index (HOT updates), and the metrics, which change with every point, lose their
-- indexes. Pages written from now on keep the room; rows on older pages move to such a
-- page at their first update, or all at once with VACUUM FULL.
ALTER TABLE skytrap.runningcatalog_flux SET (fillfactor = 50);
ALTER TABLE skytrap.varmetric SET (fillfactor = 50);
DROP INDEX skytrap.varmetric_eta_int_idx, skytrap.varmetric_v_int_idx;
-- Sky regions find their lightcurves by cone through the pixel index (skyregion_for), so
-- the declination index only cost every position update an index entry.
DROP INDEX skytrap.runningcatalog_dataset_wm_decl_idx;
-- Alert bodies grow with their lightcurves' history and are compressed past 2 kB; lz4 does
-- it five times faster than pglz. Bodies already stored keep pglz, which reads as before.
ALTER TABLE skytrap.alert ALTER COLUMN body SET COMPRESSION lz4;
