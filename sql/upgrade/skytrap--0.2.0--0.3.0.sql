-- skytrap 0.2.0 -> 0.3.0. Released scripts are frozen: a later change gets its own step.
\echo Use "ALTER EXTENSION skytrap UPDATE TO '0.3.0'" to load this file. \quit

-- A sky region describes what was searched: a footprint where its circle would claim
-- more (a square image searched whole). Regions stored before stay circles.
ALTER TABLE skytrap.skyregion
    ADD COLUMN footprint double precision[],
    DROP CONSTRAINT skyregion_dataset_centre_ra_centre_decl_xtr_radius_key,
    ADD UNIQUE NULLS NOT DISTINCT (dataset, centre_ra, centre_decl, xtr_radius, footprint);

-- VAST's pair metrics per band and Stokes parameter, worked out here from the points
-- stored (of the pairs with |Vs| at least the dataset's threshold, the largest |m|), so
-- that the variability summary can describe any band.
ALTER TABLE skytrap.runningcatalog_flux
    ADD COLUMN vs_abs_significant_max_int  double precision NOT NULL DEFAULT 0,
    ADD COLUMN m_abs_significant_max_int   double precision NOT NULL DEFAULT 0,
    ADD COLUMN vs_abs_significant_max_peak double precision NOT NULL DEFAULT 0,
    ADD COLUMN m_abs_significant_max_peak  double precision NOT NULL DEFAULT 0;
WITH point AS (
    SELECT a.runcat, i.band, i.stokes, x.id, x.f_int, x.f_int_err, x.f_peak, x.f_peak_err,
           d.pair_metrics_min_abs_vs AS vs_min
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    JOIN skytrap.dataset d ON d.id = i.dataset
),
pair AS (
    SELECT p.runcat, p.band, p.stokes, p.vs_min,
           abs(skytrap.two_epoch_vs(p.f_int, p.f_int_err, q.f_int, q.f_int_err)) AS vs_int,
           abs(skytrap.two_epoch_m(p.f_int, q.f_int)) AS m_int,
           abs(skytrap.two_epoch_vs(p.f_peak, p.f_peak_err, q.f_peak, q.f_peak_err)) AS vs_peak,
           abs(skytrap.two_epoch_m(p.f_peak, q.f_peak)) AS m_peak
    FROM point p
    JOIN point q ON q.runcat = p.runcat AND q.band = p.band AND q.stokes = p.stokes AND q.id < p.id
),
best AS (
    -- [|m|, |Vs|] of the significant pair with the largest |m|; NaN is no measurement.
    SELECT runcat, band, stokes,
           max(ARRAY[m_int, vs_int]) FILTER (WHERE vs_int >= vs_min AND vs_int <> 'NaN'
                                                 AND m_int <> 'NaN') AS int,
           max(ARRAY[m_peak, vs_peak]) FILTER (WHERE vs_peak >= vs_min AND vs_peak <> 'NaN'
                                                   AND m_peak <> 'NaN') AS peak
    FROM pair
    GROUP BY runcat, band, stokes
)
UPDATE skytrap.runningcatalog_flux f
SET vs_abs_significant_max_int = coalesce(b.int[2], 0), m_abs_significant_max_int = coalesce(b.int[1], 0),
    vs_abs_significant_max_peak = coalesce(b.peak[2], 0), m_abs_significant_max_peak = coalesce(b.peak[1], 0)
FROM best b
WHERE f.runcat = b.runcat AND f.band = b.band AND f.stokes = b.stokes
  AND (b.int IS NOT NULL OR b.peak IS NOT NULL);

-- Per-image statements read what the image touches, found by key.
DROP INDEX skytrap.image_skyrgn_idx;
CREATE INDEX ON skytrap.image (skyrgn, band, taustart_ts);
CREATE INDEX ON skytrap.assocskyrgn (skyrgn);
CREATE INDEX ON skytrap.extractedsource (ff_runcat) WHERE ff_runcat IS NOT NULL;
CREATE INDEX ON skytrap.newsource (trigger_xtrsrc);

-- Whether a sky region's search covered (ra, decl): nearer its centre than xtr_radius
-- and, where it has a footprint, inside it. Inlined into its callers, so it sets no
-- search_path (which would stop that): its functions are schema-qualified and its
-- operators built-in ones on exact types, which pg_catalog, searched first, resolves.
CREATE FUNCTION skytrap.skyregion_covers(region skytrap.skyregion, ra double precision,
                                         decl double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.distance(region.centre_ra, region.centre_decl, ra, decl) < region.xtr_radius
       AND (region.footprint IS NULL OR skytrap.in_polygon_exact(ra, decl, region.footprint))
$$;

DROP FUNCTION skytrap.skyregion_for(integer, double precision, double precision, double precision);
-- The sky region (centre and radius, degrees, and the searched area's outline where the
-- circle alone would claim more) of the dataset, created on first use; a new region is
-- linked to the running-catalogue sources it covers. The centre's RA is taken modulo 360
-- (-10 is 350). NULL for a NULL dataset, centre or radius; an error for a NaN or infinite
-- coordinate, a declination outside [-90, 90], a NaN or negative radius, a footprint that
-- is no polygon within a hemisphere, and for a dataset that does not exist.
CREATE FUNCTION skytrap.skyregion_for(dataset integer, centre_ra double precision,
                                      centre_decl double precision, xtr_radius double precision,
                                      footprint double precision[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = skytrap, pg_temp
AS $$
DECLARE
    region integer;
    found  skytrap.skyregion;
BEGIN
    IF dataset IS NULL OR centre_ra IS NULL OR centre_decl IS NULL OR xtr_radius IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT (centre_ra > '-Infinity' AND centre_ra < 'Infinity'
            AND centre_decl BETWEEN -90 AND 90 AND xtr_radius >= 0 AND xtr_radius < 'NaN') THEN
        RAISE EXCEPTION 'skytrap.skyregion_for: centre (%, %) and radius % are not a sky region',
            centre_ra, centre_decl, xtr_radius
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'RA must be finite, declination in [-90, 90], the radius not negative (degrees).';
    END IF;
    IF footprint IS NOT NULL AND skytrap.polygon_cone(footprint) IS NULL THEN
        RAISE EXCEPTION 'skytrap.skyregion_for: the footprint is not a polygon within a hemisphere'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A footprint is {ra1, dec1, ra2, dec2, ...}: at least three vertices, degrees.';
    END IF;
    -- Into [0, 360): a tiny negative RA would round to 360 itself.
    centre_ra := centre_ra - 360 * floor(centre_ra / 360);
    IF centre_ra >= 360 THEN
        centre_ra := 0;
    END IF;
    SELECT s.id INTO region
    FROM skytrap.skyregion s
    WHERE s.dataset = skyregion_for.dataset AND s.centre_ra = skyregion_for.centre_ra
      AND s.centre_decl = skyregion_for.centre_decl AND s.xtr_radius = skyregion_for.xtr_radius
      AND s.footprint IS NOT DISTINCT FROM skyregion_for.footprint;
    IF region IS NULL THEN
        INSERT INTO skytrap.skyregion (dataset, centre_ra, centre_decl, xtr_radius, footprint)
        VALUES (skyregion_for.dataset, skyregion_for.centre_ra, skyregion_for.centre_decl,
                skyregion_for.xtr_radius, skyregion_for.footprint)
        RETURNING * INTO found;
        region := found.id;
        INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
        SELECT r.id, region, skytrap.distance(skyregion_for.centre_ra, skyregion_for.centre_decl, r.wm_ra, r.wm_decl)
        FROM skytrap.runningcatalog r
        WHERE skytrap.xmatch(skyregion_for.centre_ra, skyregion_for.centre_decl, r.wm_ra, r.wm_decl,
                             skyregion_for.xtr_radius)
          AND r.dataset = skyregion_for.dataset
          AND skytrap.skyregion_covers(found, r.wm_ra, r.wm_decl)
        ORDER BY r.id;
    END IF;
    RETURN region;
END
$$;

REVOKE EXECUTE ON FUNCTION
    skytrap.skyregion_for(integer, double precision, double precision, double precision,
                          double precision[])
FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    skytrap.skyregion_for(integer, double precision, double precision, double precision,
                          double precision[])
TO skytrap_loader;

-- Alert packets say which noise their upper limits use, and cite the alerts on any of the
-- lightcurve's points (a fork's history included).
CREATE INDEX ON skytrap.alert (xtrsrc);
CREATE OR REPLACE FUNCTION skytrap.alert_bodies(candidates skytrap.alert_candidate[])
RETURNS TABLE (n bigint, body jsonb)
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
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
                       'f_peak_limit', ui.rms_min * ui.detection_thresh,
                       'limit_rms', 'rms_min')
                     ORDER BY ui.taustart_ts, ui.id), '[]'::jsonb)
            FROM skytrap.assocskyrgn us
            JOIN skytrap.image ui ON ui.skyrgn = us.skyrgn
            WHERE us.runcat = r.id AND ui.taustart_ts < i.taustart_ts
              AND ui.rms_min IS NOT NULL AND ui.detection_thresh IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM skytrap.rejection uj WHERE uj.image = ui.id)
              AND ui.id <> ALL (h.images)),
        'classification', c.classification,
        'citations', (SELECT coalesce(jsonb_agg(a.alert_id ORDER BY a.alert_id), '[]'::jsonb)
                      FROM skytrap.alert a WHERE a.xtrsrc = ANY (h.points)))
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
               coalesce(array_agg(hx.image), '{}') AS images,
               coalesce(array_agg(hx.id), '{}') AS points
        FROM skytrap.assocxtrsource ha
        JOIN skytrap.extractedsource hx ON hx.id = ha.xtrsrc
        JOIN skytrap.image hi ON hi.id = hx.image
        WHERE ha.runcat = r.id) h
$$;

-- Alert rules refuse a NaN, infinite or negative threshold (a NaN one switched its rule off
-- without a word). Rules stored before are kept to what they did: a negative threshold
-- becomes 0, which lets through the same points; a rule with a NaN or infinite one, which
-- never did what it said, is switched off with that value back at its default, for its
-- owner to set again (`skytrap rules show` lists it as disabled).
UPDATE skytrap.alert_rule SET
    enabled = enabled AND min_det_sigma < 'Infinity' AND eta_min < 'Infinity'
              AND v_min < 'Infinity' AND vs_min < 'Infinity' AND m_min < 'Infinity'
              AND radius_arcsec < 'Infinity',
    min_det_sigma = CASE WHEN min_det_sigma < 'Infinity' THEN greatest(min_det_sigma, 0) ELSE 0 END,
    eta_min = CASE WHEN eta_min < 'Infinity' THEN greatest(eta_min, 0) ELSE 8.0 END,
    v_min = CASE WHEN v_min < 'Infinity' THEN greatest(v_min, 0) ELSE 0.4 END,
    vs_min = CASE WHEN vs_min < 'Infinity' THEN greatest(vs_min, 0) ELSE 4.3 END,
    m_min = CASE WHEN m_min < 'Infinity' THEN greatest(m_min, 0) ELSE 0.26 END,
    radius_arcsec = CASE WHEN radius_arcsec < 'Infinity' THEN greatest(radius_arcsec, 0) ELSE 10 END
WHERE NOT (min_det_sigma >= 0 AND min_det_sigma < 'Infinity' AND eta_min >= 0
           AND eta_min < 'Infinity' AND v_min >= 0 AND v_min < 'Infinity' AND vs_min >= 0
           AND vs_min < 'Infinity' AND m_min >= 0 AND m_min < 'Infinity'
           AND radius_arcsec >= 0 AND radius_arcsec < 'Infinity');
ALTER TABLE skytrap.alert_rule
    DROP CONSTRAINT alert_rule_vs_min_check,
    DROP CONSTRAINT alert_rule_m_min_check,
    DROP CONSTRAINT alert_rule_radius_arcsec_check,
    ADD CONSTRAINT alert_rule_min_det_sigma_check
        CHECK (min_det_sigma >= 0 AND min_det_sigma < 'Infinity'),
    ADD CONSTRAINT alert_rule_eta_min_check CHECK (eta_min >= 0 AND eta_min < 'Infinity'),
    ADD CONSTRAINT alert_rule_v_min_check CHECK (v_min >= 0 AND v_min < 'Infinity'),
    ADD CONSTRAINT alert_rule_vs_min_check CHECK (vs_min >= 0 AND vs_min < 'Infinity'),
    ADD CONSTRAINT alert_rule_m_min_check CHECK (m_min >= 0 AND m_min < 'Infinity'),
    ADD CONSTRAINT alert_rule_radius_arcsec_check
        CHECK (radius_arcsec >= 0 AND radius_arcsec < 'Infinity');

-- The two locks that make writers take turns are row locks, which only roles that may
-- update the row can take, where the advisory locks before were any role's to hold (and
-- so to stall loading and alerting with): a dataset's row (its loaders; they may update
-- process_end_ts, and so lock the row) and the one row of alert_order (alert ids in
-- commit order; only its owner may lock it). The outbox is written by raise_alerts
-- alone, which runs as its owner: loaders no longer insert alerts themselves.
CREATE TABLE skytrap.alert_order (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row)
);
INSERT INTO skytrap.alert_order DEFAULT VALUES;
GRANT SELECT ON skytrap.alert_order TO skytrap_analyst;

CREATE OR REPLACE FUNCTION skytrap.raise_alerts()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = skytrap, pg_temp
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
    PERFORM 1 FROM skytrap.alert_order FOR UPDATE;
    INSERT INTO skytrap.alert (kind, dataset, runcat, xtrsrc, image, body)
    SELECT c.kind, NEW.dataset, c.runcat, c.xtrsrc, NEW.id, b.body
    FROM unnest(found) WITH ORDINALITY AS c(kind, runcat, xtrsrc, classification, n)
    LEFT JOIN skytrap.alert_bodies(found) b ON b.n = c.n
    ORDER BY c.n
    ON CONFLICT (kind, runcat, xtrsrc) DO NOTHING;
    RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION skytrap.raise_alerts() FROM PUBLIC;
REVOKE INSERT ON skytrap.alert FROM skytrap_loader;
REVOKE USAGE ON SEQUENCE skytrap.alert_alert_id_seq FROM skytrap_loader;
GRANT UPDATE (process_end_ts) ON skytrap.dataset TO skytrap_loader;

-- Every function that is not inlined into its caller pins search_path (pg_catalog first,
-- then skytrap, then pg_temp): a schema others may write to, early on a caller's path,
-- could otherwise hold a function of an exact argument type (unnest(bigint[]), say) that
-- would run in the built-in one's place with the caller's privileges.
ALTER FUNCTION skytrap.version() SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.frequencyband_for(integer, double precision, double precision)
    SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.add_default_alert_rules() SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.alert_body(text, bigint, bigint, jsonb) SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.alert_candidates(integer) SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.notify_alerts() SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.lightcurve_stats_final(double precision[]) SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.forced_fit_targets(integer) SET search_path = skytrap, pg_temp;
ALTER FUNCTION skytrap.associate_image(integer) SET search_path = skytrap, pg_temp;

-- The dataset's lock, held until the transaction ends: loaders of one dataset take turns
-- storing and associating images. It is the dataset's row, which only roles that may
-- update skytrap.dataset (its loaders) can lock, where an advisory lock is any role's to
-- hold. Where the session sets no lock_timeout of its own, it waits at most 10 minutes
-- (long enough for another loader to store an image, short of waiting for ever on a
-- session that holds the lock and does nothing), then fails with one line saying why.
CREATE FUNCTION skytrap.lock_dataset(dataset integer)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = skytrap, pg_temp
AS $$
DECLARE
    name text;
BEGIN
    SELECT d.description INTO name FROM skytrap.dataset d WHERE d.id = lock_dataset.dataset;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'skytrap.lock_dataset: dataset % does not exist', dataset
            USING ERRCODE = 'no_data_found';
    END IF;
    IF current_setting('lock_timeout') = '0' THEN
        PERFORM set_config('lock_timeout', '10min', true);
    END IF;
    PERFORM FROM skytrap.dataset d WHERE d.id = lock_dataset.dataset FOR NO KEY UPDATE;
EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'dataset ''%'' is locked: another loader holds it and kept it past lock_timeout (%); run the load again once that loader is done',
        name, current_setting('lock_timeout')
        USING ERRCODE = 'lock_not_available';
END
$$;

REVOKE EXECUTE ON FUNCTION skytrap.lock_dataset(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION skytrap.lock_dataset(integer) TO skytrap_loader;

-- A fork (TraP's one-to-many): several sources of one image match one lightcurve and none
-- other. associate_image starts a new lightcurve for each source at its updated position,
-- then calls this to move the old lightcurve's history onto them.

-- Each new[i] takes over the history of old[i] (an old lightcurve comes once per source it
-- forks into): copies of its links (type 6, copied on a fork), flux sums and pair
-- summaries, sky regions, new-source record and variability summary. Forced fits of
-- earlier images at an old lightcurve keep their points through the copied links and lose
-- only their pointer to it; then the old lightcurves are deleted, as TraP does, with all
-- that was theirs. Rows are copied in a fixed order, so ids come out the same on a re-run.
-- NULL is no call; arrays of different lengths are an error.
CREATE FUNCTION skytrap.fork_lightcurves(old bigint[], new bigint[])
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    IF cardinality(fork_lightcurves.old) <> cardinality(fork_lightcurves.new) THEN
        RAISE EXCEPTION 'skytrap.fork_lightcurves: % old and % new lightcurves',
            cardinality(fork_lightcurves.old), cardinality(fork_lightcurves.new)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH f AS (
        SELECT * FROM unnest(fork_lightcurves.old, fork_lightcurves.new)
                      WITH ORDINALITY AS f(old, new, n)),
    links AS (
        INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, loglr,
            v_int, eta_int, f_datapoints, prev_xtrsrc)
        SELECT f.new, a.xtrsrc, 6, a.distance_arcsec, a.r, a.loglr, a.v_int, a.eta_int,
               a.f_datapoints, a.prev_xtrsrc
        FROM f JOIN skytrap.assocxtrsource a ON a.runcat = f.old
        ORDER BY f.n, a.id),
    flux AS (
        INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
            sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak,
            sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq, sum_f_int_weight,
            sum_weighted_f_int, sum_weighted_f_int_sq, vs_abs_significant_max_int,
            m_abs_significant_max_int, vs_abs_significant_max_peak, m_abs_significant_max_peak)
        SELECT f.new, c.band, c.stokes, c.f_datapoints, c.sum_f_peak, c.sum_f_peak_sq,
               c.sum_f_peak_weight, c.sum_weighted_f_peak, c.sum_weighted_f_peak_sq,
               c.sum_f_int, c.sum_f_int_sq, c.sum_f_int_weight, c.sum_weighted_f_int,
               c.sum_weighted_f_int_sq, c.vs_abs_significant_max_int,
               c.m_abs_significant_max_int, c.vs_abs_significant_max_peak,
               c.m_abs_significant_max_peak
        FROM f JOIN skytrap.runningcatalog_flux c ON c.runcat = f.old
        ORDER BY f.n, c.id),
    regions AS (
        INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
        SELECT f.new, r.skyrgn, r.distance_deg
        FROM f JOIN skytrap.assocskyrgn r ON r.runcat = f.old
        ORDER BY f.n, r.id),
    news AS (
        INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image,
            newsource_type)
        SELECT f.new, n.trigger_xtrsrc, n.previous_limits_image, n.newsource_type
        FROM f JOIN skytrap.newsource n ON n.runcat = f.old
        ORDER BY f.n)
    INSERT INTO skytrap.varmetric (runcat, v_int, eta_int, v_peak, eta_peak, band,
        sigma_rms_max, sigma_rms_min, lightcurve_max, lightcurve_avg, lightcurve_median,
        vs_abs_significant_max_int, m_abs_significant_max_int,
        vs_abs_significant_max_peak, m_abs_significant_max_peak,
        datapoints, first_ts, last_ts)
    SELECT f.new, v.v_int, v.eta_int, v.v_peak, v.eta_peak, v.band, v.sigma_rms_max,
           v.sigma_rms_min, v.lightcurve_max, v.lightcurve_avg, v.lightcurve_median,
           v.vs_abs_significant_max_int, v.m_abs_significant_max_int,
           v.vs_abs_significant_max_peak, v.m_abs_significant_max_peak,
           v.datapoints, v.first_ts, v.last_ts
    FROM f JOIN skytrap.varmetric v ON v.runcat = f.old
    ORDER BY f.n;

    UPDATE skytrap.extractedsource SET ff_runcat = NULL
    WHERE ff_runcat = ANY (fork_lightcurves.old);
    DELETE FROM skytrap.runningcatalog WHERE id = ANY (fork_lightcurves.old);
END
$$;

REVOKE EXECUTE ON FUNCTION skytrap.fork_lightcurves(bigint[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION skytrap.fork_lightcurves(bigint[], bigint[]) TO skytrap_loader;
