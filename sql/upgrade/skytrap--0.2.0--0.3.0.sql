-- skytrap 0.2.0 -> 0.3.0. Released scripts are frozen: a later change gets its own step.
\echo Use "ALTER EXTENSION skytrap UPDATE TO '0.3.0'" to load this file. \quit

-- A sky region describes what was searched: a footprint where its circle would claim
-- more (a square image searched whole). Regions stored before stay circles.
ALTER TABLE skytrap.skyregion
    ADD COLUMN footprint double precision[],
    DROP CONSTRAINT skyregion_dataset_centre_ra_centre_decl_xtr_radius_key,
    ADD UNIQUE NULLS NOT DISTINCT (dataset, centre_ra, centre_decl, xtr_radius, footprint);

-- Each link carries its point's time, so that a lightcurve's points are read newest first
-- by index (alert packets); the key that kept (runcat, xtrsrc) unique takes the time in.
ALTER TABLE skytrap.assocxtrsource ADD COLUMN taustart_ts timestamp;
UPDATE skytrap.assocxtrsource a SET taustart_ts = i.taustart_ts
FROM skytrap.extractedsource x JOIN skytrap.image i ON i.id = x.image
WHERE x.id = a.xtrsrc;
ALTER TABLE skytrap.assocxtrsource
    ALTER COLUMN taustart_ts SET NOT NULL,
    DROP CONSTRAINT assocxtrsource_runcat_xtrsrc_key,
    ADD UNIQUE (runcat, taustart_ts, xtrsrc);

-- The link table's references are no foreign keys: their checks cost as much as the
-- link's own write. skytrap.check_integrity() proves them; these triggers cascade.
ALTER TABLE skytrap.assocxtrsource
    DROP CONSTRAINT assocxtrsource_runcat_fkey,
    DROP CONSTRAINT assocxtrsource_xtrsrc_fkey;
-- The cascade, once per statement over its deleted rows (the owner's rights, as a foreign
-- key's cascade has: roles that may delete lightcurves or measurements may not delete links).
CREATE FUNCTION skytrap.delete_links_of_lightcurves() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    DELETE FROM skytrap.assocxtrsource a USING deleted d WHERE a.runcat = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER delete_links AFTER DELETE ON skytrap.runningcatalog
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION skytrap.delete_links_of_lightcurves();

CREATE FUNCTION skytrap.delete_links_of_measurements() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    DELETE FROM skytrap.assocxtrsource a USING deleted d WHERE a.xtrsrc = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER delete_links AFTER DELETE ON skytrap.extractedsource
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION skytrap.delete_links_of_measurements();

-- Each band's flux row holds what a new point needs, so that association costs the same
-- however long the lightcurve: the first and last times, the last point (its previous
-- point and flux), the largest flux, and whether the variability summary shows the row.
-- Worked out here from the points stored.
ALTER TABLE skytrap.runningcatalog_flux
    ADD COLUMN first_ts timestamp,
    ADD COLUMN last_ts timestamp,
    ADD COLUMN last_xtrsrc bigint,
    ADD COLUMN last_prev_xtrsrc bigint,
    ADD COLUMN last_f_int double precision,
    ADD COLUMN max_f_int double precision,
    ADD COLUMN varmetric_band boolean NOT NULL DEFAULT false;
WITH point AS (
    SELECT a.runcat, i.band, i.stokes, i.taustart_ts, x.id, a.prev_xtrsrc, x.f_int
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
),
last AS (
    SELECT DISTINCT ON (runcat, band, stokes) *
    FROM point
    ORDER BY runcat, band, stokes, taustart_ts DESC, id DESC
),
extremes AS (
    SELECT runcat, band, stokes, min(taustart_ts) AS first_ts, max(f_int) AS max_f_int
    FROM point
    GROUP BY runcat, band, stokes
)
UPDATE skytrap.runningcatalog_flux f
SET first_ts = e.first_ts, last_ts = l.taustart_ts, last_xtrsrc = l.id,
    last_prev_xtrsrc = l.prev_xtrsrc, last_f_int = l.f_int, max_f_int = e.max_f_int
FROM last l JOIN extremes e USING (runcat, band, stokes)
WHERE f.runcat = l.runcat AND f.band = l.band AND f.stokes = l.stokes;
-- TraP's rule: of each band's last Stokes I point, the largest flux; ties, the lower band.
UPDATE skytrap.runningcatalog_flux f SET varmetric_band = true
FROM (SELECT DISTINCT ON (runcat) id FROM skytrap.runningcatalog_flux WHERE stokes = 1
      ORDER BY runcat, last_f_int DESC, band) s
WHERE f.id = s.id;
ALTER TABLE skytrap.runningcatalog_flux
    ALTER COLUMN first_ts SET NOT NULL,
    ALTER COLUMN last_ts SET NOT NULL,
    ALTER COLUMN last_xtrsrc SET NOT NULL,
    ALTER COLUMN last_f_int SET NOT NULL,
    ALTER COLUMN max_f_int SET NOT NULL;

-- The variability summary is a view of those rows: nothing to rewrite per image but the
-- flux row, and the median and pair metrics, which need every point, computed on read.
DROP TABLE skytrap.varmetric;
CREATE FUNCTION skytrap.flux_median(fluxes double precision[])
RETURNS double precision
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'flux_median_wrapper';
CREATE FUNCTION skytrap.significant_pair(flux double precision[], flux_err double precision[],
                                         min_abs_vs double precision)
RETURNS double precision[]
IMMUTABLE STRICT PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'significant_pair_wrapper';
-- TraP's varmetric: each lightcurve's variability summary, in the Stokes I band TraP's
-- rule picks (runningcatalog_flux.varmetric_band). V, η, the largest and mean flux, the
-- count and the time span come from the band's flux row (constant work per point, kept
-- by association); the median and VAST's pair metrics need every point and are computed
-- on read from the band's points, O(n) and O(n²) in them, so a query that ranks by η and
-- takes a few rows computes them for those rows alone. The significance over the noise
-- of the earlier image a new source beat comes from its new-source record. id is the
-- lightcurve's.
CREATE FUNCTION skytrap.varmetric_median(runcat bigint, band integer)
RETURNS double precision
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = skytrap, pg_temp
AS $$
    SELECT skytrap.flux_median(array_agg(x.f_int))
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    WHERE a.runcat = varmetric_median.runcat AND i.band = varmetric_median.band
      AND i.stokes = 1
$$;

-- {|Vs|, |m|} of the lightcurve's pair of Stokes I points in the band, peak or integrated
-- flux, with |Vs| at least its dataset's pair_metrics_min_abs_vs and the largest |m|.
CREATE FUNCTION skytrap.varmetric_pair(runcat bigint, band integer, peak boolean)
RETURNS double precision[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = skytrap, pg_temp
AS $$
    SELECT skytrap.significant_pair(
               coalesce(array_agg(CASE WHEN varmetric_pair.peak THEN x.f_peak ELSE x.f_int END
                                  ORDER BY i.taustart_ts, x.id), '{}'),
               coalesce(array_agg(CASE WHEN varmetric_pair.peak THEN x.f_peak_err
                                       ELSE x.f_int_err END
                                  ORDER BY i.taustart_ts, x.id), '{}'),
               (SELECT d.pair_metrics_min_abs_vs
                FROM skytrap.runningcatalog r JOIN skytrap.dataset d ON d.id = r.dataset
                WHERE r.id = varmetric_pair.runcat))
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    WHERE a.runcat = varmetric_pair.runcat AND i.band = varmetric_pair.band AND i.stokes = 1
$$;

CREATE VIEW skytrap.varmetric AS
SELECT f.runcat AS id,
       f.runcat,
       skytrap.lightcurve_stats_v(ARRAY[f.f_datapoints, f.sum_f_int, f.sum_f_int_sq,
           f.sum_f_int_weight, f.sum_weighted_f_int, f.sum_weighted_f_int_sq, 0, 0]) AS v_int,
       skytrap.lightcurve_stats_eta(ARRAY[f.f_datapoints, f.sum_f_int, f.sum_f_int_sq,
           f.sum_f_int_weight, f.sum_weighted_f_int, f.sum_weighted_f_int_sq, 0, 0]) AS eta_int,
       skytrap.lightcurve_stats_v(ARRAY[f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq,
           f.sum_f_peak_weight, f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq, 0, 0]) AS v_peak,
       skytrap.lightcurve_stats_eta(ARRAY[f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq,
           f.sum_f_peak_weight, f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq, 0, 0]) AS eta_peak,
       f.band,
       n.id AS newsource,
       t.f_int / p.rms_max AS sigma_rms_max,
       t.f_int / p.rms_min AS sigma_rms_min,
       f.max_f_int AS lightcurve_max,
       f.avg_f_int AS lightcurve_avg,
       skytrap.varmetric_median(f.runcat, f.band) AS lightcurve_median,
       (skytrap.varmetric_pair(f.runcat, f.band, false))[1] AS vs_abs_significant_max_int,
       (skytrap.varmetric_pair(f.runcat, f.band, false))[2] AS m_abs_significant_max_int,
       (skytrap.varmetric_pair(f.runcat, f.band, true))[1] AS vs_abs_significant_max_peak,
       (skytrap.varmetric_pair(f.runcat, f.band, true))[2] AS m_abs_significant_max_peak,
       f.f_datapoints AS datapoints,
       f.first_ts,
       f.last_ts
FROM skytrap.runningcatalog_flux f
LEFT JOIN skytrap.newsource n ON n.runcat = f.runcat
LEFT JOIN skytrap.extractedsource t ON t.id = n.trigger_xtrsrc
LEFT JOIN skytrap.image p ON p.id = n.previous_limits_image
WHERE f.stokes = 1 AND f.varmetric_band;

GRANT SELECT ON skytrap.varmetric TO skytrap_loader;
GRANT SELECT ON skytrap.varmetric TO skytrap_analyst;

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
-- A UTC time as ISO 8601 text with its zone: "2026-01-02T00:00:00Z" (the tables keep UTC
-- in timestamp without time zone, as TraP did), so that a consumer reads it unambiguously.
-- Inlined into its callers (an alert packet calls it for every point: 0.9 µs a call
-- where a call of its own took 2.5), so it sets no search_path and is as stable as
-- to_jsonb (either would stop that); its operators are built-in ones on exact types,
-- which pg_catalog, searched first, resolves.
CREATE FUNCTION skytrap.utc(t timestamp)
RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT (to_jsonb(t) #>> '{}') || 'Z' $$;

-- A packet cites the newest alerts on its object, read by index.
DROP INDEX skytrap.alert_runcat_idx;
CREATE INDEX ON skytrap.alert (runcat, alert_id);
-- Packets of schema version 2: no lightcurve median in `object` (it needs every point).
ALTER TABLE skytrap.alert ALTER COLUMN schema_version SET DEFAULT 2;
-- Alert packets of bounded size: the history and upper limits of a window.
ALTER TABLE skytrap.dataset
    ADD COLUMN alert_history_days double precision NOT NULL DEFAULT 30
        CHECK (alert_history_days >= 0 AND alert_history_days < 'Infinity'),
    ADD COLUMN alert_history_points integer NOT NULL DEFAULT 100 CHECK (alert_history_points >= 0);
-- Alert bodies are JSON text as built (json), not jsonb: built in less than half the time.
ALTER TABLE skytrap.alert ALTER COLUMN body TYPE json USING body::json;
-- (A change of type forgets the column's compression.)
ALTER TABLE skytrap.alert ALTER COLUMN body SET COMPRESSION lz4;
DROP FUNCTION skytrap.alert_body(text, bigint, bigint, jsonb);
DROP FUNCTION skytrap.alert_bodies(skytrap.alert_candidate[]);
CREATE FUNCTION skytrap.alert_bodies(candidates skytrap.alert_candidate[])
RETURNS TABLE (n bigint, body json)
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
AS $$
    WITH c AS (
        SELECT * FROM unnest(candidates) WITH ORDINALITY AS c(kind, runcat, xtrsrc, classification, n)
    ),
    -- The earlier images of the fields the candidates' lightcurves lie in, as upper-limit
    -- entries, per (sky region, image alerted on): built once for all the candidates
    -- that share them (an image's new sources share its field), not once per packet.
    -- Per band, the newest alert_history_points + 1 accepted images in the window before
    -- the image, read by index; each limit is the image's detection threshold times its
    -- lowest noise.
    field AS MATERIALIZED (
        SELECT f.skyrgn, f.image, ui.id, ui.taustart_ts,
               json_build_object('image', ui.id, 'taustart_ts', skytrap.utc(ui.taustart_ts),
                                  'band', ui.band, 'f_peak_limit', ui.f_peak_limit,
                                  'limit_rms', 'rms_min') AS entry
        FROM (SELECT DISTINCT us.skyrgn, x.image
              FROM c
              JOIN skytrap.extractedsource x ON x.id = c.xtrsrc
              JOIN skytrap.assocskyrgn us ON us.runcat = c.runcat) f
        JOIN skytrap.image i ON i.id = f.image
        JOIN skytrap.dataset d ON d.id = i.dataset
        JOIN skytrap.frequencyband fb ON fb.dataset = d.id
        CROSS JOIN LATERAL (
            SELECT ui.id, ui.taustart_ts, ui.band,
                   ui.rms_min * ui.detection_thresh AS f_peak_limit
            FROM skytrap.image ui
            WHERE ui.skyrgn = f.skyrgn AND ui.band = fb.id
              AND ui.taustart_ts < i.taustart_ts
              AND ui.taustart_ts >= i.taustart_ts - d.alert_history_days * interval '1 day'
              AND ui.rms_min IS NOT NULL AND ui.detection_thresh IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM skytrap.rejection uj WHERE uj.image = ui.id)
            ORDER BY ui.taustart_ts DESC, ui.id DESC
            LIMIT d.alert_history_points + 1) ui
    ),
    -- Each (sky region, image)'s upper limits as the packet of a lightcurve seen in none
    -- of its images carries them (every new source's): built once and copied into each
    -- such packet as text.
    field_limits AS MATERIALIZED (
        SELECT fl.skyrgn, fl.image,
               json_agg(fl.entry ORDER BY fl.taustart_ts, fl.id)
                 FILTER (WHERE fl.k <= d.alert_history_points) AS limits,
               count(*) > d.alert_history_points AS cut
        FROM (SELECT fl.*, row_number() OVER (PARTITION BY fl.skyrgn, fl.image
                                              ORDER BY fl.taustart_ts DESC, fl.id DESC) AS k
              FROM field fl) fl
        JOIN skytrap.image i ON i.id = fl.image
        JOIN skytrap.dataset d ON d.id = i.dataset
        GROUP BY fl.skyrgn, fl.image, d.alert_history_points
    )
    SELECT c.n, json_build_object(
        'schema_version', 2,
        'kind', c.kind,
        'dataset', json_build_object('id', d.id, 'description', d.description),
        'source', json_build_object(
            'id', x.id, 'ra', x.ra, 'dec', x.decl, 'ra_err', x.ra_err, 'dec_err', x.decl_err,
            'error_radius', x.error_radius,
            'f_peak', x.f_peak, 'f_peak_err', x.f_peak_err, 'f_int', x.f_int,
            'f_int_err', x.f_int_err, 'det_sigma', x.det_sigma, 'extract_type', x.extract_type,
            'image', i.id, 'url', i.url, 'taustart_ts', skytrap.utc(i.taustart_ts),
            'freq_eff', i.freq_eff, 'band', i.band, 'stokes', i.stokes),
        'object', json_build_object(
            'runcat', r.id, 'wm_ra', r.wm_ra, 'wm_decl', r.wm_decl,
            'wm_uncertainty_ew', r.wm_uncertainty_ew, 'wm_uncertainty_ns', r.wm_uncertainty_ns,
            'datapoints', r.datapoints,
            'v_int', v.v_int, 'eta_int', v.eta_int, 'v_peak', v.v_peak, 'eta_peak', v.eta_peak,
            'lightcurve_max', v.lightcurve_max, 'lightcurve_avg', v.lightcurve_avg,
            'first_ts', skytrap.utc(v.first_ts), 'last_ts', skytrap.utc(v.last_ts)),
        'history', h.history,
        'history_points', e.earlier,
        'history_cut', e.earlier > h.taken,
        'upper_limits', coalesce(fu.limits, u.limits),
        'upper_limits_cut', coalesce(fu.cut, u.cut),
        'classification', c.classification,
        'citations', (SELECT coalesce(json_agg(a.alert_id ORDER BY a.alert_id), '[]'::json)
                      FROM ((SELECT al.alert_id FROM skytrap.alert al WHERE al.runcat = r.id
                             ORDER BY al.alert_id DESC LIMIT d.alert_history_points)
                            UNION
                            SELECT al.alert_id FROM skytrap.alert al
                            WHERE al.xtrsrc = ANY (h.points)) a))
    FROM c
    JOIN skytrap.extractedsource x ON x.id = c.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    JOIN skytrap.dataset d ON d.id = i.dataset
    JOIN skytrap.runningcatalog r ON r.id = c.runcat
    LEFT JOIN skytrap.varmetric v ON v.runcat = r.id
    -- How many points came before this one: every point (the flux rows count them) but
    -- those at its time or later, read by index from the newest. (OFFSET 0 keeps it a
    -- subquery, read once: pulled up, it would be read for each of its two uses.)
    CROSS JOIN LATERAL (
        SELECT (SELECT sum(f.f_datapoints) FROM skytrap.runningcatalog_flux f
                WHERE f.runcat = r.id)
             - (SELECT count(*) FROM skytrap.assocxtrsource la
                WHERE la.runcat = r.id AND la.taustart_ts >= i.taustart_ts) AS earlier
        OFFSET 0) e
    -- The history the packet carries: the newest alert_history_points earlier points in
    -- the alert_history_days before it, read by index newest first; their ids, which
    -- earlier alerts cite.
    CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(json_build_object(
                   'id', p.id, 'image', p.image, 'taustart_ts', skytrap.utc(p.taustart_ts),
                   'band', p.band, 'freq_eff', p.freq_eff,
                   'f_peak', p.f_peak, 'f_peak_err', p.f_peak_err,
                   'f_int', p.f_int, 'f_int_err', p.f_int_err,
                   'extract_type', p.extract_type, 'assoc_type', p.type)
                 ORDER BY p.taustart_ts, p.id), '[]'::json) AS history,
               count(*) AS taken, coalesce(array_agg(p.id), '{}') AS points
        FROM (SELECT hx.id, hx.image, ha.taustart_ts, hi.band, hi.freq_eff, hx.f_peak,
                     hx.f_peak_err, hx.f_int, hx.f_int_err, hx.extract_type, ha.type
              FROM skytrap.assocxtrsource ha
              JOIN skytrap.extractedsource hx ON hx.id = ha.xtrsrc
              JOIN skytrap.image hi ON hi.id = hx.image
              WHERE ha.runcat = r.id AND ha.taustart_ts < i.taustart_ts
                AND ha.taustart_ts >= i.taustart_ts - d.alert_history_days * interval '1 day'
              ORDER BY ha.taustart_ts DESC, ha.xtrsrc DESC
              LIMIT d.alert_history_points) p) h
    -- The field's images (`field` above) in which the lightcurve has a point: its points
    -- from the oldest of them on, read by index in one range (none for a lightcurve that
    -- starts with this image).
    CROSS JOIN LATERAL (
        SELECT coalesce(array_agg(sx.image), '{}') AS images
        FROM skytrap.assocxtrsource sa
        JOIN skytrap.extractedsource sx ON sx.id = sa.xtrsrc
        WHERE sa.runcat = r.id AND sa.taustart_ts < i.taustart_ts
          AND sa.taustart_ts >= (SELECT min(fl.taustart_ts)
                                 FROM skytrap.assocskyrgn us
                                 JOIN field fl ON fl.skyrgn = us.skyrgn AND fl.image = i.id
                                 WHERE us.runcat = r.id)) s
    -- The upper limits of a lightcurve in one sky region and seen in none of its images:
    -- that region's list as built above.
    CROSS JOIN LATERAL (SELECT count(*) AS regions, min(us.skyrgn) AS skyrgn
                        FROM skytrap.assocskyrgn us WHERE us.runcat = r.id OFFSET 0) g
    LEFT JOIN field_limits fu ON g.regions = 1 AND cardinality(s.images) = 0
                             AND fu.skyrgn = g.skyrgn AND fu.image = i.id
    -- Any other's: of the newest alert_history_points (and one more, to tell whether
    -- there were more) of the field's earlier images in the regions linked to the
    -- lightcurve, those without a point of it.
    CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(l.entry ORDER BY l.taustart_ts, l.id)
                 FILTER (WHERE l.k <= d.alert_history_points AND l.id <> ALL (s.images)),
                        '[]'::json) AS limits,
               count(*) > d.alert_history_points AS cut
        FROM (SELECT fl.id, fl.taustart_ts, fl.entry,
                     row_number() OVER (ORDER BY fl.taustart_ts DESC, fl.id DESC) AS k
              FROM skytrap.assocskyrgn us
              JOIN field fl ON fl.skyrgn = us.skyrgn AND fl.image = i.id
              WHERE us.runcat = r.id AND fu.skyrgn IS NULL
              ORDER BY fl.taustart_ts DESC, fl.id DESC
              LIMIT d.alert_history_points + 1) l) u
$$;

CREATE FUNCTION skytrap.alert_body(kind text, runcat bigint, xtrsrc bigint, classification jsonb)
RETURNS json
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
AS $$
    SELECT body
    FROM skytrap.alert_bodies(ARRAY[ROW(kind, runcat, xtrsrc, classification)::skytrap.alert_candidate])
$$;

-- The previous point of a link is looked up by its time, in the links' new key.
CREATE OR REPLACE FUNCTION skytrap.alert_candidates(image integer)
RETURNS SETOF skytrap.alert_candidate
LANGUAGE sql STABLE
SET search_path = skytrap, pg_temp
AS $$
    WITH img AS (SELECT * FROM skytrap.image WHERE id = alert_candidates.image),
    rule AS (SELECT r.* FROM skytrap.alert_rule r, img WHERE r.dataset = img.dataset AND r.enabled),
    point AS (
        -- This image's lightcurve points, each beside the previous point of its lightcurve
        -- (the link names it).
        SELECT a.runcat, a.xtrsrc, a.v_int, a.eta_int, a.f_datapoints, x.f_int, x.f_int_err,
               x.det_sigma, x.extract_type, a.prev_xtrsrc,
               px.f_int AS prev_f_int, px.f_int_err AS prev_f_int_err,
               pi.taustart_ts AS prev_ts
        FROM img
        JOIN skytrap.extractedsource x ON x.image = img.id
        JOIN skytrap.assocxtrsource a ON a.xtrsrc = x.id
        LEFT JOIN skytrap.extractedsource px ON px.id = a.prev_xtrsrc
        LEFT JOIN skytrap.image pi ON pi.id = px.image
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
    LEFT JOIN skytrap.assocxtrsource pa
           ON pa.runcat = p.runcat AND pa.taustart_ts = p.prev_ts AND pa.xtrsrc = p.prev_xtrsrc
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
-- forks into): copies of its links (type 6, copied on a fork), flux rows, sky regions and
-- new-source record (its variability summary is a view of those). Forced fits of
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
            v_int, eta_int, f_datapoints, prev_xtrsrc, taustart_ts)
        SELECT f.new, a.xtrsrc, 6, a.distance_arcsec, a.r, a.loglr, a.v_int, a.eta_int,
               a.f_datapoints, a.prev_xtrsrc, a.taustart_ts
        FROM f JOIN skytrap.assocxtrsource a ON a.runcat = f.old
        ORDER BY f.n, a.id),
    flux AS (
        INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
            sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak,
            sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq, sum_f_int_weight,
            sum_weighted_f_int, sum_weighted_f_int_sq, first_ts, last_ts, last_xtrsrc,
            last_prev_xtrsrc, last_f_int, max_f_int, varmetric_band)
        SELECT f.new, c.band, c.stokes, c.f_datapoints, c.sum_f_peak, c.sum_f_peak_sq,
               c.sum_f_peak_weight, c.sum_weighted_f_peak, c.sum_weighted_f_peak_sq,
               c.sum_f_int, c.sum_f_int_sq, c.sum_f_int_weight, c.sum_weighted_f_int,
               c.sum_weighted_f_int_sq, c.first_ts, c.last_ts, c.last_xtrsrc,
               c.last_prev_xtrsrc, c.last_f_int, c.max_f_int, c.varmetric_band
        FROM f JOIN skytrap.runningcatalog_flux c ON c.runcat = f.old
        ORDER BY f.n, c.id),
    regions AS (
        INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
        SELECT f.new, r.skyrgn, r.distance_deg
        FROM f JOIN skytrap.assocskyrgn r ON r.runcat = f.old
        ORDER BY f.n, r.id)
    INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image,
        newsource_type)
    SELECT f.new, n.trigger_xtrsrc, n.previous_limits_image, n.newsource_type
    FROM f JOIN skytrap.newsource n ON n.runcat = f.old
    ORDER BY f.n;

    UPDATE skytrap.extractedsource SET ff_runcat = NULL
    WHERE ff_runcat = ANY (fork_lightcurves.old);
    DELETE FROM skytrap.runningcatalog WHERE id = ANY (fork_lightcurves.old);
END
$$;

REVOKE EXECUTE ON FUNCTION skytrap.fork_lightcurves(bigint[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION skytrap.fork_lightcurves(bigint[], bigint[]) TO skytrap_loader;

-- The settings each image was processed with, and the settings a loader may change
-- (`skytrap load --allow-config-change`, `--retry-rejected`).
CREATE TABLE skytrap.job_settings (
    id          serial PRIMARY KEY,
    dataset     integer NOT NULL REFERENCES skytrap.dataset (id) ON DELETE CASCADE,
    settings    jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dataset, settings)
);
ALTER TABLE skytrap.image ADD COLUMN job_settings integer REFERENCES skytrap.job_settings (id);
ALTER TABLE skytrap.image ADD COLUMN telescope varchar(64), ADD COLUMN object varchar(100);
GRANT SELECT, INSERT ON skytrap.job_settings TO skytrap_loader;
GRANT USAGE ON SEQUENCE skytrap.job_settings_id_seq TO skytrap_loader;
GRANT SELECT ON skytrap.job_settings TO skytrap_analyst;
GRANT SELECT ON SEQUENCE skytrap.job_settings_id_seq TO skytrap_analyst;
GRANT UPDATE (value, type) ON skytrap.config TO skytrap_loader;
GRANT UPDATE (assoc_radius, beamwidths_limit, new_source_sigma_margin, expiration,
              pair_metrics_min_abs_vs, alert_history_days, alert_history_points)
    ON skytrap.dataset TO skytrap_loader;

-- Forgets a rejected image, so that `skytrap load --retry-rejected` can process it again
-- as a new one: the image row and its rejection go. An image that is not rejected, or
-- that has measurements, is refused. It runs as the extension's owner because loaders
-- may not delete images (nor anything else they did not write in the same transaction);
-- this is the one image they may remove. The caller holds the dataset's lock.
CREATE FUNCTION skytrap.forget_rejected_image(image integer)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM skytrap.rejection r WHERE r.image = forget_rejected_image.image) THEN
        RAISE EXCEPTION 'skytrap.forget_rejected_image: image % is not a rejected image', image
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM skytrap.extractedsource x WHERE x.image = forget_rejected_image.image)
       OR EXISTS (SELECT FROM skytrap.image i
                  WHERE i.id = forget_rejected_image.image AND i.associated_at IS NOT NULL) THEN
        RAISE EXCEPTION 'skytrap.forget_rejected_image: image % has measurements', image
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM skytrap.image i WHERE i.id = forget_rejected_image.image;
END
$$;

REVOKE EXECUTE ON FUNCTION skytrap.forget_rejected_image(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION skytrap.forget_rejected_image(integer) TO skytrap_loader;

-- Each lightcurve's stored state against its points, for check_integrity
-- (extension/src/integrity.rs).
CREATE FUNCTION skytrap.lightcurve_violations()
RETURNS TABLE (invariant text, runcat bigint, detail text)
LANGUAGE c STABLE STRICT
SET search_path = skytrap, pg_temp
AS 'MODULE_PATHNAME', 'lightcurve_violations_wrapper';

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

-- Lookup tables for the codes, and a comment on every object of the schema, as a fresh
-- install gets them (sql/codes.sql and sql/comments.sql, copied here whole: an updated
-- database has the same catalog as a fresh one).

-- Lookup tables for the codes that TraP's tables store as plain integers, for analysts to
-- join, e.g.
--     SELECT x.id, t.name FROM skytrap.extractedsource x
--     JOIN skytrap.extract_type t ON t.id = x.extract_type;
-- No foreign key from the pipeline's tables points at them: a check on every row would
-- slow COPY and association. The numbering is extension/core/src/codes.rs's, shared by
-- the extension and the loader. Why an image was rejected is TraP's own table,
-- skytrap.rejectreason (schema.sql).

-- extractedsource.extract_type ----------------------------------------------------------

CREATE TABLE skytrap.extract_type (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.extract_type (id, name, description) VALUES
    (0, 'blind', 'blind detection: found by the source finder'),
    (1, 'forced_at_lightcurve', 'forced fit at the position of a lightcurve that no blind detection in the image extended (a null detection); extractedsource.ff_runcat names the lightcurve'),
    (2, 'forced_at_monitor', 'forced fit at a monitor position; extractedsource.ff_monitor names it');
COMMENT ON TABLE skytrap.extract_type IS
    'How a measurement was made: the codes of extractedsource.extract_type (and of the lightcurve view''s extract_type). A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.extract_type.id IS
    'The code as extractedsource.extract_type stores it: 0 blind, 1 forced at a lightcurve, 2 forced at a monitor position.';
COMMENT ON COLUMN skytrap.extract_type.name IS
    'Short name of the code (as named in extension/core/src/codes.rs).';
COMMENT ON COLUMN skytrap.extract_type.description IS
    'What the code means.';

-- assocxtrsource.type -------------------------------------------------------------------

CREATE TABLE skytrap.assoc_type (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.assoc_type (id, name, description) VALUES
    (2, 'fork_base', 'base point of a one-to-many fork: the measurement that starts a lightcurve split off a forked one'),
    (3, 'one_to_one', 'blind detection extending a lightcurve: a one-to-one association, or one link of a many-to-one'),
    (4, 'new_source', 'first point of a new lightcurve: a blind detection that matched no lightcurve'),
    (6, 'fork_copy', 'earlier point of a forked lightcurve, copied onto each lightcurve split off it (skytrap.fork_lightcurves)'),
    (7, 'null_detection', 'forced fit at a lightcurve that no blind detection in the image extended (extract_type 1)'),
    (8, 'first_monitor', 'first forced fit at a monitor position: starts the monitor''s lightcurve'),
    (9, 'monitor', 'later forced fit at a monitor position, extending the monitor''s lightcurve');
COMMENT ON TABLE skytrap.assoc_type IS
    'How a measurement joined its lightcurve: TraP''s link types, the codes of assocxtrsource.type (and of the lightcurve view''s assoc_type). A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.assoc_type.id IS
    'The code as assocxtrsource.type stores it: 2 fork base point, 3 one-to-one, 4 new source, 6 copied on a fork, 7 null detection, 8 first and 9 later forced fit at a monitor position (TraP''s numbering; 1 and 5 are unused).';
COMMENT ON COLUMN skytrap.assoc_type.name IS
    'Short name of the code (as named in extension/core/src/codes.rs).';
COMMENT ON COLUMN skytrap.assoc_type.description IS
    'What the code means.';

-- newsource.newsource_type --------------------------------------------------------------

CREATE TABLE skytrap.newsource_type (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.newsource_type (id, name, description) VALUES
    (0, 'possible', 'possible transient: brighter than the earlier image''s limit at its lowest noise, but not at its highest (perhaps a steady source in a noisy part of that image)'),
    (1, 'likely', 'likely transient: brighter than the earlier image''s limit even at its highest noise');
COMMENT ON TABLE skytrap.newsource_type IS
    'TraP''s classes of transient candidate: the codes of newsource.newsource_type and alert_rule.min_newsource_type. A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.newsource_type.id IS
    'The code as newsource.newsource_type stores it: 0 possible transient, 1 likely transient.';
COMMENT ON COLUMN skytrap.newsource_type.name IS
    'Short name of the code.';
COMMENT ON COLUMN skytrap.newsource_type.description IS
    'What the code means.';

-- image.stokes --------------------------------------------------------------------------

CREATE TABLE skytrap.stokes (
    id          smallint PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    description text NOT NULL
);
INSERT INTO skytrap.stokes (id, name, description) VALUES
    (1, 'I', 'Stokes I: total intensity'),
    (2, 'Q', 'Stokes Q: linear polarisation'),
    (3, 'U', 'Stokes U: linear polarisation'),
    (4, 'V', 'Stokes V: circular polarisation');
COMMENT ON TABLE skytrap.stokes IS
    'Stokes parameters as numbered on a FITS STOKES axis: the codes of image.stokes and runningcatalog_flux.stokes (and of the lightcurve view''s stokes). A lookup table for joins; no foreign key points at it.';
COMMENT ON COLUMN skytrap.stokes.id IS
    'The code as image.stokes stores it: 1 I, 2 Q, 3 U, 4 V.';
COMMENT ON COLUMN skytrap.stokes.name IS
    'The Stokes parameter''s letter.';
COMMENT ON COLUMN skytrap.stokes.description IS
    'What the parameter measures.';

-- Everyone who reads the pipeline's tables reads the lookup tables: the loader (roles.sql
-- grants it its tables by name) and analysts (roles.sql: every table). In that order, as
-- roles.sql grants them, so that the tables' privileges read the same.
GRANT SELECT ON skytrap.extract_type, skytrap.assoc_type, skytrap.newsource_type, skytrap.stokes
TO skytrap_loader, skytrap_analyst;

-- The column reference, in the database: a comment on every table, view, column, type,
-- function, aggregate and operator of schema skytrap, so that \d+ and \df+ in psql say
-- what each holds. Units: angles in degrees unless a comment says otherwise; fluxes in Jy
-- (peak fluxes in Jy/beam); frequencies in Hz; times of type timestamp are UTC. Columns
-- that are TraP's (schema version 40) keep TraP's meaning; "skytrap:" marks what skytrap
-- adds or does differently. The lookup tables of the codes comment themselves (codes.sql).
-- Functions are named as oid::regprocedure prints them. Text is ASCII only, so that the
-- script converts to any database encoding.

-- sql/schema.sql ==========================================================================

COMMENT ON FUNCTION skytrap.version() IS
    'The installed version of the skytrap extension, as CREATE or ALTER EXTENSION ... UPDATE left it.';

-- dataset -------------------------------------------------------------------------------

COMMENT ON TABLE skytrap.dataset IS
    'One survey or observing campaign (TraP''s dataset), with the association settings used for it; skytrap load --dataset names it by description.';
COMMENT ON COLUMN skytrap.dataset.id IS
    'The dataset''s id.';
COMMENT ON COLUMN skytrap.dataset.rerun IS
    'TraP: how many times a dataset of this description was processed before. skytrap: descriptions are unique, so always 0.';
COMMENT ON COLUMN skytrap.dataset.type IS
    'TraP''s column, not used (1).';
COMMENT ON COLUMN skytrap.dataset.process_start_ts IS
    'When the dataset was created, UTC.';
COMMENT ON COLUMN skytrap.dataset.process_end_ts IS
    'TraP: when processing ended, UTC. skytrap load leaves it NULL; loaders may update it, which is what lets them lock the dataset''s row (skytrap.lock_dataset).';
COMMENT ON COLUMN skytrap.dataset.detection_threshold IS
    'Source finder detection threshold the dataset was created with, in sigma (multiples of the local noise).';
COMMENT ON COLUMN skytrap.dataset.analysis_threshold IS
    'Source finder analysis threshold the dataset was created with, in sigma: pixels above it belong to a source''s island.';
COMMENT ON COLUMN skytrap.dataset.assoc_radius IS
    'Largest De Ruiter radius (dimensionless) for an association: TraP''s deruiter_radius, default 5.68.';
COMMENT ON COLUMN skytrap.dataset.beamwidths_limit IS
    'skytrap: hard association search radius, in units of the image''s restoring beam semi-major axis (rb_smaj); default 3 (TraP''s job setting of that name).';
COMMENT ON COLUMN skytrap.dataset.new_source_sigma_margin IS
    'skytrap: extra sigma above an earlier image''s detection threshold before a first detection counts as a new source; default 1 (TraP''s job setting of that name).';
COMMENT ON COLUMN skytrap.dataset.expiration IS
    'skytrap: how many forced fits at a lightcurve''s position follow its last blind detection before they stop; default 10 (TraP''s job setting of that name).';
COMMENT ON COLUMN skytrap.dataset.pair_metrics_min_abs_vs IS
    'skytrap: |Vs| from which a pair of measurements counts in the two-epoch metrics (vs_abs_significant_max_*, m_abs_significant_max_*); default 4.3 as in VAST.';
COMMENT ON COLUMN skytrap.dataset.backsize_x IS
    'Size of a background-estimation box along x, pixels (skytrap: boxes are square, so backsize_y is the same).';
COMMENT ON COLUMN skytrap.dataset.backsize_y IS
    'Size of a background-estimation box along y, pixels.';
COMMENT ON COLUMN skytrap.dataset.margin_width IS
    'Margin at each edge of an image where no source is searched for, pixels.';
COMMENT ON COLUMN skytrap.dataset.description IS
    'The dataset''s name (up to 100 characters), as given to skytrap load --dataset. skytrap: unique.';
COMMENT ON COLUMN skytrap.dataset.node IS
    'TraP''s column for a sharded database (this node), not used (1).';
COMMENT ON COLUMN skytrap.dataset.nodes IS
    'TraP''s column for a sharded database (number of nodes), not used (1).';
COMMENT ON COLUMN skytrap.dataset.alert_history_days IS
    'skytrap: an alert packet carries the points and upper limits of the lightcurve in this many days before the alert ([alerts] history_days; default 30, as ZTF).';
COMMENT ON COLUMN skytrap.dataset.alert_history_points IS
    'skytrap: an alert packet carries at most this many points, the newest within alert_history_days, and the upper limits of at most this many earlier images of the field, the newest ([alerts] history_points; default 100).';

-- config --------------------------------------------------------------------------------

COMMENT ON TABLE skytrap.config IS
    'The job settings in force for a dataset, one row per setting, as in TraP (skytrap.job_settings keeps each set an image was processed with).';
COMMENT ON COLUMN skytrap.config.id IS
    'The row''s id.';
COMMENT ON COLUMN skytrap.config.dataset IS
    'The dataset the setting belongs to.';
COMMENT ON COLUMN skytrap.config.section IS
    'Section of the job file the setting is in, e.g. source_extraction, association.';
COMMENT ON COLUMN skytrap.config.key IS
    'Name of the setting within its section, e.g. detection_threshold.';
COMMENT ON COLUMN skytrap.config.value IS
    'The setting''s value as text, written so that it reads back to the same number (booleans True or False).';
COMMENT ON COLUMN skytrap.config.type IS
    'TraP''s type name of the value: int, float or bool.';

-- job_settings --------------------------------------------------------------------------

COMMENT ON TABLE skytrap.job_settings IS
    'skytrap: each distinct set of settings a dataset''s images were processed with, one row per set; image.job_settings names the one an image was loaded with.';
COMMENT ON COLUMN skytrap.job_settings.id IS
    'The settings'' id, as image.job_settings names it.';
COMMENT ON COLUMN skytrap.job_settings.dataset IS
    'The dataset whose images were processed with these settings.';
COMMENT ON COLUMN skytrap.job_settings.settings IS
    'Every setting, as {"section": {"key": value}} with the sections and keys of skytrap.config and JSON numbers and booleans.';
COMMENT ON COLUMN skytrap.job_settings.recorded_at IS
    'When these settings were first used for the dataset.';

-- frequencyband -------------------------------------------------------------------------

COMMENT ON TABLE skytrap.frequencyband IS
    'Frequency bands, per dataset and first come: an image joins the first band of its dataset whose interval overlaps its own (skytrap.frequencyband_for, TraP''s get_band).';
COMMENT ON COLUMN skytrap.frequencyband.id IS
    'The band''s id.';
COMMENT ON COLUMN skytrap.frequencyband.dataset IS
    'The dataset the band belongs to.';
COMMENT ON COLUMN skytrap.frequencyband.freq_central IS
    'Central frequency of the band, Hz: the freq_eff of the image that made it.';
COMMENT ON COLUMN skytrap.frequencyband.freq_low IS
    'Low edge of the band, Hz.';
COMMENT ON COLUMN skytrap.frequencyband.freq_high IS
    'High edge of the band, Hz.';

-- skyregion -----------------------------------------------------------------------------

COMMENT ON TABLE skytrap.skyregion IS
    'The sky an image''s extraction searched: within xtr_radius of the centre and, where footprint is not NULL, inside that polygon. Images that searched the same sky share a region (skytrap.skyregion_for).';
COMMENT ON COLUMN skytrap.skyregion.id IS
    'The region''s id.';
COMMENT ON COLUMN skytrap.skyregion.dataset IS
    'The dataset the region belongs to.';
COMMENT ON COLUMN skytrap.skyregion.centre_ra IS
    'Right ascension of the region''s centre, degrees in [0, 360). skytrap: the centre of the pixel grid, ((nx-1)/2, (ny-1)/2) 0-based (TraP: pixel nx/2).';
COMMENT ON COLUMN skytrap.skyregion.centre_decl IS
    'Declination of the region''s centre, degrees.';
COMMENT ON COLUMN skytrap.skyregion.xtr_radius IS
    'Radius of the searched circle around the centre, degrees. skytrap: the circle that holds every searched pixel (TraP: extraction_radius_pix times the pixel size).';
COMMENT ON COLUMN skytrap.skyregion.x IS
    'x of the centre''s unit vector, cos(decl) cos(ra); generated.';
COMMENT ON COLUMN skytrap.skyregion.y IS
    'y of the centre''s unit vector, cos(decl) sin(ra); generated.';
COMMENT ON COLUMN skytrap.skyregion.z IS
    'z of the centre''s unit vector, sin(decl); generated.';
COMMENT ON COLUMN skytrap.skyregion.footprint IS
    'skytrap: outline of the searched pixels on the sky, {ra1, dec1, ra2, dec2, ...} in degrees with great-circle edges, where the circle alone would claim more than was searched; NULL: the circle is the region (and for regions stored before 0.3.0).';

-- image ---------------------------------------------------------------------------------

COMMENT ON TABLE skytrap.image IS
    'One image of a dataset, accepted or rejected (skytrap.rejection), with its metadata and what its source extraction recorded.';
COMMENT ON COLUMN skytrap.image.id IS
    'The image''s id.';
COMMENT ON COLUMN skytrap.image.dataset IS
    'The dataset the image belongs to.';
COMMENT ON COLUMN skytrap.image.band IS
    'The frequency band the image belongs to (skytrap.frequencyband_for).';
COMMENT ON COLUMN skytrap.image.skyrgn IS
    'The sky region its extraction searched (skytrap.skyregion_for).';
COMMENT ON COLUMN skytrap.image.tau IS
    'TraP''s reference number for the integration time, not used (NULL).';
COMMENT ON COLUMN skytrap.image.stokes IS
    'Stokes parameter of the image, as numbered on a FITS STOKES axis: 1 I, 2 Q, 3 U, 4 V (see skytrap.stokes); 1 where the file has no STOKES axis.';
COMMENT ON COLUMN skytrap.image.tau_time IS
    'Integration time, seconds (TraP: END_UTC minus DATE-OBS). Not set by skytrap load (NULL).';
COMMENT ON COLUMN skytrap.image.freq_eff IS
    'Effective (central) frequency of the image, Hz.';
COMMENT ON COLUMN skytrap.image.freq_bw IS
    'Bandwidth of the image, Hz.';
COMMENT ON COLUMN skytrap.image.taustart_ts IS
    'Start of the observation (DATE-OBS), UTC.';
COMMENT ON COLUMN skytrap.image.rb_smaj IS
    'Restoring beam semi-major axis, degrees (half of BMAJ).';
COMMENT ON COLUMN skytrap.image.rb_smin IS
    'Restoring beam semi-minor axis, degrees (half of BMIN).';
COMMENT ON COLUMN skytrap.image.rb_pa IS
    'Restoring beam position angle (BPA), degrees east of north.';
COMMENT ON COLUMN skytrap.image.deltax IS
    'Size of a pixel along x, degrees (skytrap load writes it positive, the pixel''s length on the sky).';
COMMENT ON COLUMN skytrap.image.deltay IS
    'Size of a pixel along y, degrees (skytrap load writes it positive).';
COMMENT ON COLUMN skytrap.image.fwhm_arcsec IS
    'skytrap load: FWHM of the restoring beam''s major axis (BMAJ), arcsec. TraP documented the primary beam''s FWHM here but never stored it.';
COMMENT ON COLUMN skytrap.image.fov_degrees IS
    'skytrap load: diameter of the searched circle (twice the sky region''s xtr_radius), degrees. TraP documented the field of view in square degrees here but never stored it.';
COMMENT ON COLUMN skytrap.image.rms_qc IS
    'Noise in the centre of the image (sigma-clipped RMS of the central region, TraP''s quality-control measure), Jy/beam.';
COMMENT ON COLUMN skytrap.image.rms_min IS
    'Lowest noise in the extraction region, Jy/beam; NULL for an image rejected before extraction.';
COMMENT ON COLUMN skytrap.image.rms_max IS
    'Highest noise in the extraction region, Jy/beam; NULL for an image rejected before extraction.';
COMMENT ON COLUMN skytrap.image.detection_thresh IS
    'Detection threshold as applied, sigma (with FDR on: the threshold it found; NULL where it found none, so the image sets no detection limit).';
COMMENT ON COLUMN skytrap.image.analysis_thresh IS
    'Analysis threshold as applied, sigma.';
COMMENT ON COLUMN skytrap.image.url IS
    'Where the image file was when it was loaded.';
COMMENT ON COLUMN skytrap.image.node IS
    'TraP''s column for a sharded database (this node), not used (1).';
COMMENT ON COLUMN skytrap.image.nodes IS
    'TraP''s column for a sharded database (number of nodes), not used (1).';
COMMENT ON COLUMN skytrap.image.associated_at IS
    'skytrap: when the image''s sources joined the running catalogue (skytrap.associate_image); NULL until then. Setting it raises the image''s alerts.';
COMMENT ON COLUMN skytrap.image.sha256 IS
    'skytrap: SHA-256 of the image''s FITS bytes (decompressed, for a gzip-compressed file), lowercase hex: a re-run of skytrap load knows an image by its content as well as by its URL.';
COMMENT ON COLUMN skytrap.image.job_settings IS
    'skytrap: the settings the image was processed with (skytrap.job_settings); NULL for images loaded before 0.3.0.';
COMMENT ON COLUMN skytrap.image.telescope IS
    'skytrap: the FITS header''s TELESCOP (NULL: not given, or loaded before 0.3.0).';
COMMENT ON COLUMN skytrap.image.object IS
    'skytrap: the FITS header''s OBJECT, the target or field name (NULL: not given, or loaded before 0.3.0).';

-- rejectreason --------------------------------------------------------------------------

COMMENT ON TABLE skytrap.rejectreason IS
    'TraP''s fixed list of reasons to reject an image: 0 RMS invalid, 1 beam invalid, 2 bright source near, 3 tau_time invalid, 4 contains NaN, 5 data is flat. skytrap load uses 0, 1, 4 and 5.';
COMMENT ON COLUMN skytrap.rejectreason.id IS
    'The reason''s code, as rejection.rejectreason stores it.';
COMMENT ON COLUMN skytrap.rejectreason.description IS
    'What the reason means.';

-- rejection -----------------------------------------------------------------------------

COMMENT ON TABLE skytrap.rejection IS
    'Rejected images and why (TraP''s image quality control): a rejected image gets no measurements and sets no upper limits.';
COMMENT ON COLUMN skytrap.rejection.id IS
    'The rejection''s id.';
COMMENT ON COLUMN skytrap.rejection.image IS
    'The rejected image.';
COMMENT ON COLUMN skytrap.rejection.rejectreason IS
    'Why, as a code of skytrap.rejectreason: 0 RMS invalid, 1 beam invalid, 2 bright source near, 3 tau_time invalid, 4 contains NaN, 5 data is flat.';
COMMENT ON COLUMN skytrap.rejection.comment IS
    'The details, e.g. the measured noise and the range it should have been in (up to 512 characters).';

-- monitor -------------------------------------------------------------------------------

COMMENT ON TABLE skytrap.monitor IS
    'User positions force-fitted in every image of the dataset (skytrap load --monitor), as TraP''s monitor list.';
COMMENT ON COLUMN skytrap.monitor.id IS
    'The position''s id, as extractedsource.ff_monitor names it.';
COMMENT ON COLUMN skytrap.monitor.dataset IS
    'The dataset whose images are fitted at this position.';
COMMENT ON COLUMN skytrap.monitor.runcat IS
    'The position''s own lightcurve, started by its first forced fit (assoc type 8); NULL before that.';
COMMENT ON COLUMN skytrap.monitor.ra IS
    'Right ascension, degrees in [0, 360).';
COMMENT ON COLUMN skytrap.monitor.decl IS
    'Declination, degrees.';
COMMENT ON COLUMN skytrap.monitor.name IS
    'Optional name of the position (up to 100 characters).';

-- extractedsource -----------------------------------------------------------------------

COMMENT ON TABLE skytrap.extractedsource IS
    'One measurement of one source in one image: a blind detection or a forced fit. The loader writes what the source finder measured; PostgreSQL generates TraP''s combined errors and cartesian columns from it.';
COMMENT ON COLUMN skytrap.extractedsource.id IS
    'The measurement''s id.';
COMMENT ON COLUMN skytrap.extractedsource.image IS
    'The image it was measured in.';
COMMENT ON COLUMN skytrap.extractedsource.ff_runcat IS
    'For a forced fit, the lightcurve fitted at: a null detection''s lightcurve (extract_type 1) or, skytrap, a monitor''s lightcurve once it has one (extract_type 2). NULL for blind detections, and once a fork has replaced that lightcurve.';
COMMENT ON COLUMN skytrap.extractedsource.ff_monitor IS
    'For a forced fit at a monitor position (extract_type 2), that position (skytrap.monitor); NULL otherwise.';
COMMENT ON COLUMN skytrap.extractedsource.ra IS
    'Right ascension, degrees in [0, 360) (J2000).';
COMMENT ON COLUMN skytrap.extractedsource.decl IS
    'Declination, degrees (J2000).';
COMMENT ON COLUMN skytrap.extractedsource.ra_fit_err IS
    '1-sigma error of ra from the fit, degrees of right ascension (an RA difference, so it grows towards the poles).';
COMMENT ON COLUMN skytrap.extractedsource.decl_fit_err IS
    '1-sigma error of decl from the fit, degrees.';
COMMENT ON COLUMN skytrap.extractedsource.ew_sys_err IS
    'Systematic position error east-west, an on-sky angle, arcsec (the telescope''s, from the job settings).';
COMMENT ON COLUMN skytrap.extractedsource.ns_sys_err IS
    'Systematic position error north-south, arcsec (from the job settings).';
COMMENT ON COLUMN skytrap.extractedsource.error_radius IS
    'Pessimistic estimate of the absolute on-sky error of the position, arcsec.';
COMMENT ON COLUMN skytrap.extractedsource.det_sigma IS
    'Significance of the detection, sigma: the highest signal-to-noise ratio of a pixel of the source''s island (forced fits: of the fitting box).';
COMMENT ON COLUMN skytrap.extractedsource.semimajor IS
    'Semi-major axis of the fitted shape (half width at half maximum, beam not deconvolved), arcsec.';
COMMENT ON COLUMN skytrap.extractedsource.semiminor IS
    'Semi-minor axis of the fitted shape (half width at half maximum), arcsec.';
COMMENT ON COLUMN skytrap.extractedsource.pa IS
    'Position angle of the fitted shape''s major axis, degrees east of north.';
COMMENT ON COLUMN skytrap.extractedsource.f_peak IS
    'Peak flux density, Jy/beam; finite, negative possible (forced fits).';
COMMENT ON COLUMN skytrap.extractedsource.f_peak_err IS
    '1-sigma error of f_peak, Jy/beam; finite and positive.';
COMMENT ON COLUMN skytrap.extractedsource.f_int IS
    'Integrated flux density, Jy; finite, negative possible (forced fits).';
COMMENT ON COLUMN skytrap.extractedsource.f_int_err IS
    '1-sigma error of f_int, Jy; finite and positive.';
COMMENT ON COLUMN skytrap.extractedsource.chisq IS
    'Chi-squared of the fit (goodness of fit).';
COMMENT ON COLUMN skytrap.extractedsource.reduced_chisq IS
    'Reduced chi-squared of the fit: chisq per degree of freedom.';
COMMENT ON COLUMN skytrap.extractedsource.extract_type IS
    'How it was measured: 0 blind detection, 1 forced fit at a lightcurve''s position (a null detection), 2 forced fit at a monitor position; see skytrap.extract_type.';
COMMENT ON COLUMN skytrap.extractedsource.fit_type IS
    'How the shape and fluxes were measured: 1 Gaussian fit, 0 moments only (no fit).';
COMMENT ON COLUMN skytrap.extractedsource.x_pix IS
    'skytrap: x of the position in the image, 0-based pixels.';
COMMENT ON COLUMN skytrap.extractedsource.y_pix IS
    'skytrap: y of the position in the image, 0-based pixels.';
COMMENT ON COLUMN skytrap.extractedsource.node IS
    'TraP''s column for a sharded database (this node), not used (1).';
COMMENT ON COLUMN skytrap.extractedsource.nodes IS
    'TraP''s column for a sharded database (number of nodes), not used (1).';
COMMENT ON COLUMN skytrap.extractedsource.ra_err IS
    '1-sigma error of ra, degrees of right ascension: ra_fit_err and ew_sys_err (inflated to an RA difference at decl) in quadrature; generated, as TraP computes it.';
COMMENT ON COLUMN skytrap.extractedsource.decl_err IS
    '1-sigma error of decl, degrees: decl_fit_err and ns_sys_err in quadrature; generated, as TraP computes it.';
COMMENT ON COLUMN skytrap.extractedsource.uncertainty_ew IS
    'On-sky 1-sigma position uncertainty east-west, degrees: ew_sys_err and error_radius (at most 360 arcsec) in quadrature; generated. The De Ruiter radius and the weighted mean position use it.';
COMMENT ON COLUMN skytrap.extractedsource.uncertainty_ns IS
    'On-sky 1-sigma position uncertainty north-south, degrees: ns_sys_err and error_radius (at most 360 arcsec) in quadrature; generated.';
COMMENT ON COLUMN skytrap.extractedsource.zone IS
    'TraP''s 1-degree declination zone, floor(decl); generated.';
COMMENT ON COLUMN skytrap.extractedsource.x IS
    'x of the position''s unit vector, cos(decl) cos(ra); generated.';
COMMENT ON COLUMN skytrap.extractedsource.y IS
    'y of the position''s unit vector, cos(decl) sin(ra); generated.';
COMMENT ON COLUMN skytrap.extractedsource.z IS
    'z of the position''s unit vector, sin(decl); generated.';
COMMENT ON COLUMN skytrap.extractedsource.racosdecl IS
    'ra times cos(decl), degrees; generated (TraP''s helper for distance queries).';
COMMENT ON COLUMN skytrap.extractedsource.margin IS
    'TraP''s flag for sources near RA 0/360, never implemented; not used (false).';

-- runningcatalog ------------------------------------------------------------------------

COMMENT ON TABLE skytrap.runningcatalog IS
    'One row per lightcurve (a source of the dataset): the weighted mean position of its measurements over all bands. skytrap stores the weight sums; TraP''s avg_* columns are generated from them.';
COMMENT ON COLUMN skytrap.runningcatalog.id IS
    'The lightcurve''s id (runcat elsewhere).';
COMMENT ON COLUMN skytrap.runningcatalog.xtrsrc IS
    'The measurement that started the lightcurve.';
COMMENT ON COLUMN skytrap.runningcatalog.dataset IS
    'The dataset the lightcurve belongs to.';
COMMENT ON COLUMN skytrap.runningcatalog.datapoints IS
    'Datapoints of the position: blind detections, and the forced fits of a monitor''s lightcurve; null detections do not count (as in TraP).';
COMMENT ON COLUMN skytrap.runningcatalog.wm_ra IS
    'Weighted mean right ascension, degrees in [0, 360). skytrap: averaged in the plane tangent at the lightcurve, so RA 0/360 and the poles need no special case.';
COMMENT ON COLUMN skytrap.runningcatalog.wm_decl IS
    'Weighted mean declination, degrees.';
COMMENT ON COLUMN skytrap.runningcatalog.sum_weight_ra IS
    'skytrap: sum of 1/uncertainty_ew^2 over the datapoints, degrees^-2.';
COMMENT ON COLUMN skytrap.runningcatalog.sum_weight_decl IS
    'skytrap: sum of 1/uncertainty_ns^2 over the datapoints, degrees^-2.';
COMMENT ON COLUMN skytrap.runningcatalog.sum_ra_err IS
    'skytrap: sum of ra_err over the datapoints, degrees.';
COMMENT ON COLUMN skytrap.runningcatalog.sum_decl_err IS
    'skytrap: sum of decl_err over the datapoints, degrees.';
COMMENT ON COLUMN skytrap.runningcatalog.wm_uncertainty_ew IS
    'On-sky 1-sigma uncertainty of the weighted mean position east-west, degrees: 1/sqrt(sum_weight_ra); generated.';
COMMENT ON COLUMN skytrap.runningcatalog.wm_uncertainty_ns IS
    'On-sky 1-sigma uncertainty of the weighted mean position north-south, degrees: 1/sqrt(sum_weight_decl); generated.';
COMMENT ON COLUMN skytrap.runningcatalog.avg_weight_ra IS
    'TraP''s mean of 1/uncertainty_ew^2, degrees^-2: sum_weight_ra / datapoints; generated.';
COMMENT ON COLUMN skytrap.runningcatalog.avg_weight_decl IS
    'TraP''s mean of 1/uncertainty_ns^2, degrees^-2: sum_weight_decl / datapoints; generated.';
COMMENT ON COLUMN skytrap.runningcatalog.avg_wra IS
    'TraP''s mean of ra/uncertainty_ew^2, degrees^-1: wm_ra * avg_weight_ra; generated.';
COMMENT ON COLUMN skytrap.runningcatalog.avg_wdecl IS
    'TraP''s mean of decl/uncertainty_ns^2, degrees^-1: wm_decl * avg_weight_decl; generated.';
COMMENT ON COLUMN skytrap.runningcatalog.avg_ra_err IS
    'Mean ra_err of the datapoints, degrees: sum_ra_err / datapoints; generated.';
COMMENT ON COLUMN skytrap.runningcatalog.avg_decl_err IS
    'Mean decl_err of the datapoints, degrees: sum_decl_err / datapoints; generated.';
COMMENT ON COLUMN skytrap.runningcatalog.zone IS
    'TraP''s 1-degree declination zone, floor(wm_decl); generated.';
COMMENT ON COLUMN skytrap.runningcatalog.x IS
    'x of the mean position''s unit vector, cos(wm_decl) cos(wm_ra); generated.';
COMMENT ON COLUMN skytrap.runningcatalog.y IS
    'y of the mean position''s unit vector, cos(wm_decl) sin(wm_ra); generated.';
COMMENT ON COLUMN skytrap.runningcatalog.z IS
    'z of the mean position''s unit vector, sin(wm_decl); generated.';
COMMENT ON COLUMN skytrap.runningcatalog.inactive IS
    'TraP: set on a lightcurve about to be replaced by a fork. skytrap deletes a forked lightcurve in the same call, so it stays false.';
COMMENT ON COLUMN skytrap.runningcatalog.mon_src IS
    'True for a monitor position''s own lightcurve, which blind association never extends.';
COMMENT ON COLUMN skytrap.runningcatalog.forcedfits_count IS
    'Forced fits (null detections) since the last blind detection; forced fitting stops when it reaches the dataset''s expiration.';

-- runningcatalog_flux -------------------------------------------------------------------

COMMENT ON TABLE skytrap.runningcatalog_flux IS
    'Flux statistics of a lightcurve per band and Stokes parameter, over all its points there (blind and forced). skytrap stores sums; TraP''s avg_* columns are generated from them.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.id IS
    'The row''s id.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.runcat IS
    'The lightcurve.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.band IS
    'The frequency band.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.stokes IS
    'The Stokes parameter: 1 I, 2 Q, 3 U, 4 V (see skytrap.stokes).';
COMMENT ON COLUMN skytrap.runningcatalog_flux.f_datapoints IS
    'Measurements summed, in this band and Stokes parameter.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_f_peak IS
    'skytrap: sum of f_peak, Jy/beam.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_f_peak_sq IS
    'skytrap: sum of f_peak^2, (Jy/beam)^2.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_f_peak_weight IS
    'skytrap: sum of 1/f_peak_err^2, (Jy/beam)^-2.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_weighted_f_peak IS
    'skytrap: sum of f_peak/f_peak_err^2, (Jy/beam)^-1.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_weighted_f_peak_sq IS
    'skytrap: sum of f_peak^2/f_peak_err^2 (dimensionless).';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_f_int IS
    'skytrap: sum of f_int, Jy.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_f_int_sq IS
    'skytrap: sum of f_int^2, Jy^2.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_f_int_weight IS
    'skytrap: sum of 1/f_int_err^2, Jy^-2.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_weighted_f_int IS
    'skytrap: sum of f_int/f_int_err^2, Jy^-1.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.sum_weighted_f_int_sq IS
    'skytrap: sum of f_int^2/f_int_err^2 (dimensionless).';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_f_peak IS
    'TraP''s mean f_peak, Jy/beam: sum_f_peak / f_datapoints; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_f_peak_sq IS
    'TraP''s mean of f_peak^2, (Jy/beam)^2; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_f_peak_weight IS
    'TraP''s mean of 1/f_peak_err^2, (Jy/beam)^-2; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_weighted_f_peak IS
    'TraP''s mean of f_peak/f_peak_err^2, (Jy/beam)^-1; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_weighted_f_peak_sq IS
    'TraP''s mean of f_peak^2/f_peak_err^2 (dimensionless); generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_f_int IS
    'TraP''s mean f_int, Jy: sum_f_int / f_datapoints; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_f_int_sq IS
    'TraP''s mean of f_int^2, Jy^2; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_f_int_weight IS
    'TraP''s mean of 1/f_int_err^2, Jy^-2; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_weighted_f_int IS
    'TraP''s mean of f_int/f_int_err^2, Jy^-1; generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.avg_weighted_f_int_sq IS
    'TraP''s mean of f_int^2/f_int_err^2 (dimensionless); generated.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.first_ts IS
    'skytrap: time of the band''s first point (image taustart_ts), UTC.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.last_ts IS
    'skytrap: time of the band''s last point (image taustart_ts), UTC: the latest, ties to the higher measurement id.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.last_xtrsrc IS
    'skytrap: the band''s last point (extractedsource.id); a new point follows it, so association reads no history.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.last_prev_xtrsrc IS
    'skytrap: the last point''s own previous point (assocxtrsource.prev_xtrsrc), which a new point at the same time shares.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.last_f_int IS
    'skytrap: integrated flux of the last point, Jy: what TraP''s rule compares across bands to pick the one varmetric shows.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.max_f_int IS
    'skytrap: largest integrated flux of the band''s points, Jy.';
COMMENT ON COLUMN skytrap.runningcatalog_flux.varmetric_band IS
    'skytrap: whether this is the Stokes I row the lightcurve''s varmetric row shows, by TraP''s rule (of each band''s last point, the band with the largest f_int; ties to the lower band). One per lightcurve with a Stokes I point.';

-- assocxtrsource ------------------------------------------------------------------------

COMMENT ON TABLE skytrap.assocxtrsource IS
    'The lightcurve link table: which measurements belong to which lightcurve, how each joined it, and the variability indices after each point.';
COMMENT ON FUNCTION skytrap.delete_links_of_lightcurves() IS
    'Trigger function (AFTER DELETE on runningcatalog, once per statement): deletes the deleted lightcurves'' links, as ON DELETE CASCADE would; the link table keeps no foreign keys (skytrap.check_integrity proves them).';
COMMENT ON FUNCTION skytrap.delete_links_of_measurements() IS
    'Trigger function (AFTER DELETE on extractedsource, once per statement): deletes the deleted measurements'' links, as ON DELETE CASCADE would.';
COMMENT ON COLUMN skytrap.assocxtrsource.id IS
    'The link''s id.';
COMMENT ON COLUMN skytrap.assocxtrsource.runcat IS
    'The lightcurve.';
COMMENT ON COLUMN skytrap.assocxtrsource.xtrsrc IS
    'The measurement.';
COMMENT ON COLUMN skytrap.assocxtrsource.type IS
    'How the measurement joined the lightcurve: 2 fork base point, 3 one-to-one, 4 new source, 6 copied on a fork, 7 forced fit at a null detection, 8 first / 9 later forced fit at a monitor position; see skytrap.assoc_type.';
COMMENT ON COLUMN skytrap.assocxtrsource.distance_arcsec IS
    'Distance between the measurement and the lightcurve''s position when they were associated, arcsec; 0 for new sources and forced fits.';
COMMENT ON COLUMN skytrap.assocxtrsource.r IS
    'De Ruiter radius of the association (dimensionless); 0 for new sources and forced fits.';
COMMENT ON COLUMN skytrap.assocxtrsource.loglr IS
    'TraP''s log likelihood ratio of the association, never computed; not used (NULL).';
COMMENT ON COLUMN skytrap.assocxtrsource.v_int IS
    'V of the integrated flux in this band and Stokes parameter after this point: standard deviation over mean (TraP''s first variability index).';
COMMENT ON COLUMN skytrap.assocxtrsource.eta_int IS
    'eta of the integrated flux in this band and Stokes parameter after this point: reduced chi-squared against the weighted mean (TraP''s second variability index).';
COMMENT ON COLUMN skytrap.assocxtrsource.f_datapoints IS
    'Points of the lightcurve in this band and Stokes parameter up to and including this one.';
COMMENT ON COLUMN skytrap.assocxtrsource.prev_xtrsrc IS
    'skytrap: the lightcurve''s previous point in the same band and Stokes parameter (the last one of the latest earlier time); NULL for the first. Not a foreign key.';
COMMENT ON COLUMN skytrap.assocxtrsource.taustart_ts IS
    'skytrap: the time of the point (its image''s taustart_ts), UTC: a lightcurve''s points are read newest first by index (runcat, taustart_ts, xtrsrc).';

-- assocskyrgn ---------------------------------------------------------------------------

COMMENT ON TABLE skytrap.assocskyrgn IS
    'Which lightcurves fall inside which sky regions: whom to force-fit in an image, and which earlier images set the limits of a new source.';
COMMENT ON COLUMN skytrap.assocskyrgn.id IS
    'The row''s id.';
COMMENT ON COLUMN skytrap.assocskyrgn.runcat IS
    'The lightcurve.';
COMMENT ON COLUMN skytrap.assocskyrgn.skyrgn IS
    'The sky region it falls in.';
COMMENT ON COLUMN skytrap.assocskyrgn.distance_deg IS
    'Distance between the lightcurve and the region''s centre when they were linked, degrees.';

-- newsource -----------------------------------------------------------------------------

COMMENT ON TABLE skytrap.newsource IS
    'Transient candidates (TraP''s newsource): first detections brighter than the deepest earlier accepted image of their band and field could have missed.';
COMMENT ON COLUMN skytrap.newsource.id IS
    'The candidate''s id.';
COMMENT ON COLUMN skytrap.newsource.runcat IS
    'The new lightcurve.';
COMMENT ON COLUMN skytrap.newsource.trigger_xtrsrc IS
    'The first detection, which made it a candidate.';
COMMENT ON COLUMN skytrap.newsource.previous_limits_image IS
    'The earlier image whose limit it was judged against: of the band''s earlier accepted images covering it, the one with the lowest rms_min * (detection_thresh + new_source_sigma_margin).';
COMMENT ON COLUMN skytrap.newsource.newsource_type IS
    '0 possible transient (f_peak above that image''s limit at its lowest noise only; perhaps a steady source in a noisy area), 1 likely transient (above it even at its highest noise); see skytrap.newsource_type.';

-- varmetric -----------------------------------------------------------------------------

COMMENT ON VIEW skytrap.varmetric IS
    'Variability summary of each lightcurve in one band, by TraP''s rule (per band the latest Stokes I point, and of those the band with the largest integrated flux). skytrap: a view of the flux row that runningcatalog_flux.varmetric_band marks, always current (TraP recomputed a table for the whole dataset); the median and the pair metrics are computed on read from the band''s points.';
COMMENT ON COLUMN skytrap.varmetric.id IS
    'skytrap: the lightcurve''s id (runcat).';
COMMENT ON COLUMN skytrap.varmetric.runcat IS
    'The lightcurve.';
COMMENT ON COLUMN skytrap.varmetric.v_int IS
    'V of the integrated flux in the band (Stokes I): standard deviation over mean.';
COMMENT ON COLUMN skytrap.varmetric.eta_int IS
    'eta of the integrated flux in the band (Stokes I): reduced chi-squared against the weighted mean.';
COMMENT ON COLUMN skytrap.varmetric.v_peak IS
    'skytrap: V of the peak flux in the band (Stokes I).';
COMMENT ON COLUMN skytrap.varmetric.eta_peak IS
    'skytrap: eta of the peak flux in the band (Stokes I).';
COMMENT ON COLUMN skytrap.varmetric.band IS
    'The band the row describes.';
COMMENT ON COLUMN skytrap.varmetric.newsource IS
    'The lightcurve''s transient-candidate record (skytrap.newsource), if any.';
COMMENT ON COLUMN skytrap.varmetric.sigma_rms_max IS
    'For a new source: f_int of its first detection over the rms_max of its previous_limits_image (TraP''s significance; NULL otherwise).';
COMMENT ON COLUMN skytrap.varmetric.sigma_rms_min IS
    'For a new source: f_int of its first detection over the rms_min of its previous_limits_image (NULL otherwise).';
COMMENT ON COLUMN skytrap.varmetric.lightcurve_max IS
    'Largest integrated flux of the lightcurve''s points in the band (Stokes I, blind and forced), Jy.';
COMMENT ON COLUMN skytrap.varmetric.lightcurve_avg IS
    'Mean integrated flux of those points, Jy.';
COMMENT ON COLUMN skytrap.varmetric.lightcurve_median IS
    'Median integrated flux of those points, Jy (the mean of the middle two for an even count). skytrap: computed on read, O(n) in the points.';
COMMENT ON COLUMN skytrap.varmetric.vs_abs_significant_max_int IS
    'skytrap: VAST''s two-epoch metric of the integrated flux in the band: |Vs| of the pair with the largest |m| among pairs with |Vs| >= the dataset''s pair_metrics_min_abs_vs; 0 when none. Computed on read, O(n^2) in the points.';
COMMENT ON COLUMN skytrap.varmetric.m_abs_significant_max_int IS
    'skytrap: VAST''s two-epoch metric of the integrated flux in the band: the largest |m| (modulation index) among pairs with |Vs| >= pair_metrics_min_abs_vs; 0 when none.';
COMMENT ON COLUMN skytrap.varmetric.vs_abs_significant_max_peak IS
    'skytrap: as vs_abs_significant_max_int, for the peak flux.';
COMMENT ON COLUMN skytrap.varmetric.m_abs_significant_max_peak IS
    'skytrap: as m_abs_significant_max_int, for the peak flux.';
COMMENT ON COLUMN skytrap.varmetric.datapoints IS
    'skytrap: points of the lightcurve in the band (Stokes I).';
COMMENT ON COLUMN skytrap.varmetric.first_ts IS
    'skytrap: time of the first of those points (image taustart_ts), UTC.';
COMMENT ON COLUMN skytrap.varmetric.last_ts IS
    'skytrap: time of the last of those points (image taustart_ts), UTC.';

-- sql/images.sql ==========================================================================

COMMENT ON FUNCTION skytrap.lock_dataset(integer) IS
    'Takes the dataset''s lock (its row) until the transaction ends, so that loaders of one dataset take turns; waits at most lock_timeout (10 minutes unless the session sets one). Loaders only.';
COMMENT ON FUNCTION skytrap.forget_rejected_image(integer) IS
    'Deletes a rejected image without measurements, and its rejection, so that skytrap load --retry-rejected can load it again; refuses any other image. Runs as the extension''s owner; loaders only, holding the dataset''s lock.';
COMMENT ON FUNCTION skytrap.frequencyband_for(integer,double precision,double precision) IS
    'The band of the dataset for an image at freq_eff with bandwidth freq_bw (Hz): the first whose interval overlaps [freq_eff - freq_bw/2, freq_eff + freq_bw/2], else a new one (TraP''s get_band). Loaders only.';
COMMENT ON FUNCTION skytrap.skyregion_covers(skytrap.skyregion,double precision,double precision) IS
    'Whether a sky region''s search covered (ra, decl), degrees: nearer its centre than xtr_radius and inside its footprint, if it has one. Inlined into its callers.';
COMMENT ON FUNCTION skytrap.skyregion_for(integer,double precision,double precision,double precision,double precision[]) IS
    'The dataset''s sky region with this centre, radius and footprint (degrees), created on first use and then linked to the lightcurves it covers (assocskyrgn). Loaders only.';

-- sql/alerts.sql ==========================================================================

-- alert_rule ----------------------------------------------------------------------------

COMMENT ON TABLE skytrap.alert_rule IS
    'What raises an alert, per dataset and kind; every dataset starts with the four kinds at their defaults. Change with UPDATE or skytrap rules set; thresholds are finite and not negative.';
COMMENT ON COLUMN skytrap.alert_rule.dataset IS
    'The dataset the rule applies to.';
COMMENT ON COLUMN skytrap.alert_rule.kind IS
    'new_source (a transient candidate), variable (eta and V reach their thresholds), flux_jump (a jump between consecutive points of a band), or monitor_detection (a blind detection near a monitor position).';
COMMENT ON COLUMN skytrap.alert_rule.enabled IS
    'Whether the rule raises alerts.';
COMMENT ON COLUMN skytrap.alert_rule.min_newsource_type IS
    'new_source: lowest newsource_type that alerts, 0 (possible and likely transients, the default) or 1 (likely only); see skytrap.newsource_type.';
COMMENT ON COLUMN skytrap.alert_rule.min_det_sigma IS
    'new_source: lowest det_sigma of the first detection that alerts, sigma; default 0.';
COMMENT ON COLUMN skytrap.alert_rule.eta_min IS
    'variable: eta of the integrated flux at which a lightcurve alerts (with v_min), having been below before; default 8 (TraP''s).';
COMMENT ON COLUMN skytrap.alert_rule.v_min IS
    'variable: V of the integrated flux at which a lightcurve alerts (with eta_min); default 0.4 (TraP''s).';
COMMENT ON COLUMN skytrap.alert_rule.band IS
    'variable: only points of this frequency band alert; NULL: any band.';
COMMENT ON COLUMN skytrap.alert_rule.vs_min IS
    'flux_jump: smallest |Vs| (two-epoch t-statistic of the integrated flux against the previous point) that alerts; default 4.3 (Mooley et al. 2016).';
COMMENT ON COLUMN skytrap.alert_rule.m_min IS
    'flux_jump: smallest |m| (two-epoch modulation index) that alerts, with vs_min; default 0.26 (Mooley et al. 2016).';
COMMENT ON COLUMN skytrap.alert_rule.radius_arcsec IS
    'monitor_detection: a blind detection nearer a monitor position than this alerts, arcsec; default 10.';

COMMENT ON FUNCTION skytrap.add_default_alert_rules() IS
    'Trigger function (AFTER INSERT on dataset): gives a new dataset the four alert rules at their defaults.';

-- alert ---------------------------------------------------------------------------------

COMMENT ON TABLE skytrap.alert IS
    'The alert outbox, written only by the trigger raise_alerts in the transaction that associates an image. alert_id order is commit order: a consumer that has seen alert N has seen every alert below N.';
COMMENT ON COLUMN skytrap.alert.alert_id IS
    'The alert''s id, handed out in commit order.';
COMMENT ON COLUMN skytrap.alert.created_at IS
    'When the alert was written.';
COMMENT ON COLUMN skytrap.alert.kind IS
    'The rule that raised it: new_source, variable, flux_jump or monitor_detection (see skytrap.alert_rule).';
COMMENT ON COLUMN skytrap.alert.dataset IS
    'The dataset.';
COMMENT ON COLUMN skytrap.alert.runcat IS
    'The lightcurve it is about (no foreign key).';
COMMENT ON COLUMN skytrap.alert.xtrsrc IS
    'The measurement that raised it (no foreign key).';
COMMENT ON COLUMN skytrap.alert.image IS
    'The image whose association raised it (no foreign key).';
COMMENT ON COLUMN skytrap.alert.schema_version IS
    'Version of the body''s layout: 2 from skytrap 0.3.0 (UTC times with their zone, history and upper limits capped, no lightcurve_median in object); 1 before.';
COMMENT ON COLUMN skytrap.alert.body IS
    'The alert packet, JSON (json: the text as built; cast to jsonb for containment queries) shaped like an LSST/ZTF alert: dataset, source, object, history, upper_limits, classification and citations (skytrap.alert_bodies).';

-- alert_consumer ------------------------------------------------------------------------

COMMENT ON TABLE skytrap.alert_consumer IS
    'Where each named consumer (skytrap listen --consumer NAME) has got to in the outbox. A name belongs to the role that first used it; row-level security shows and moves only a role''s own (analysts read all).';
COMMENT ON COLUMN skytrap.alert_consumer.name IS
    'The consumer''s name.';
COMMENT ON COLUMN skytrap.alert_consumer.last_alert_id IS
    'The last alert_id the consumer has delivered; it resumes after it.';
COMMENT ON COLUMN skytrap.alert_consumer.updated_at IS
    'When the position last moved.';
COMMENT ON COLUMN skytrap.alert_consumer.owner IS
    'The role that first used the name, and the only one (with the table''s owner) that sees and moves it.';

-- alert_parked --------------------------------------------------------------------------

COMMENT ON TABLE skytrap.alert_parked IS
    'Alerts a consumer''s responder failed on after all retries: kept, never dropped. Under row-level security like alert_consumer.';
COMMENT ON COLUMN skytrap.alert_parked.consumer IS
    'The consumer''s name (the empty string for an unnamed listener).';
COMMENT ON COLUMN skytrap.alert_parked.alert_id IS
    'The alert that failed.';
COMMENT ON COLUMN skytrap.alert_parked.attempts IS
    'How many times delivery was tried.';
COMMENT ON COLUMN skytrap.alert_parked.error IS
    'The last attempt''s error.';
COMMENT ON COLUMN skytrap.alert_parked.parked_at IS
    'When the alert was parked.';
COMMENT ON COLUMN skytrap.alert_parked.owner IS
    'The role that ran the listener, and the only one (with the table''s owner) that sees the row.';

-- alert_order ---------------------------------------------------------------------------

COMMENT ON TABLE skytrap.alert_order IS
    'internal: one row, locked by each writer of alerts until it commits (raise_alerts), so that alert ids are handed out in commit order.';
COMMENT ON COLUMN skytrap.alert_order.only_row IS
    'Always true: the table has exactly one row.';

-- alert_candidate and the functions that find and describe alerts -----------------------

COMMENT ON TYPE skytrap.alert_candidate IS
    'A reason to alert found in one image, before it becomes an outbox row.';
COMMENT ON COLUMN skytrap.alert_candidate.kind IS
    'The rule: new_source, variable, flux_jump or monitor_detection.';
COMMENT ON COLUMN skytrap.alert_candidate.runcat IS
    'The lightcurve.';
COMMENT ON COLUMN skytrap.alert_candidate.xtrsrc IS
    'The measurement that alerts.';
COMMENT ON COLUMN skytrap.alert_candidate.classification IS
    'Why it alerts: the rule''s values and thresholds, as JSON (the body''s classification).';

COMMENT ON FUNCTION skytrap.utc(timestamp without time zone) IS
    'A UTC time (the tables keep UTC in timestamp without time zone, as TraP did) as ISO 8601 text ending in Z, e.g. 2026-01-02T00:00:00Z: the times of alert packets.';
COMMENT ON FUNCTION skytrap.alert_bodies(skytrap.alert_candidate[]) IS
    'The alert bodies (schema version 2) of a list of candidates in one query, each with its position n in the list; a candidate whose source or lightcurve does not exist gets none.';
COMMENT ON FUNCTION skytrap.alert_body(text,bigint,bigint,jsonb) IS
    'The alert body of one candidate (kind, runcat, xtrsrc, classification); NULL when the source or the lightcurve does not exist.';
COMMENT ON FUNCTION skytrap.alert_candidates(integer) IS
    'What one associated image sets off under its dataset''s enabled alert rules, as alert candidates (raise_alerts writes them).';
COMMENT ON FUNCTION skytrap.raise_alerts() IS
    'Trigger function (AFTER UPDATE OF associated_at on image, once an image is associated): writes its alerts to the outbox in commit order. Runs as the extension''s owner, the outbox''s one writer.';
COMMENT ON FUNCTION skytrap.notify_alerts() IS
    'Trigger function (AFTER INSERT on alert, per statement): NOTIFY on channel skytrap_alert with {"v": 1, "first": alert_id, "last": alert_id, "n": count} of the alerts added, never the body.';

-- sql/views.sql ===========================================================================

-- lightcurve ----------------------------------------------------------------------------

COMMENT ON VIEW skytrap.lightcurve IS
    'Every point of every lightcurve with its time, band and fluxes: TraP''s tkp.db.general.lightcurve for all sources at once. Order by taustart_ts per runcat for time order.';
COMMENT ON COLUMN skytrap.lightcurve.runcat IS
    'The lightcurve.';
COMMENT ON COLUMN skytrap.lightcurve.dataset IS
    'The dataset.';
COMMENT ON COLUMN skytrap.lightcurve.xtrsrc IS
    'The measurement (extractedsource.id).';
COMMENT ON COLUMN skytrap.lightcurve.image IS
    'The image it was measured in.';
COMMENT ON COLUMN skytrap.lightcurve.taustart_ts IS
    'Start of the image''s observation, UTC.';
COMMENT ON COLUMN skytrap.lightcurve.band IS
    'The image''s frequency band.';
COMMENT ON COLUMN skytrap.lightcurve.freq_central IS
    'Central frequency of the band, Hz.';
COMMENT ON COLUMN skytrap.lightcurve.stokes IS
    'The image''s Stokes parameter: 1 I, 2 Q, 3 U, 4 V (see skytrap.stokes).';
COMMENT ON COLUMN skytrap.lightcurve.ra IS
    'Right ascension of the measurement, degrees.';
COMMENT ON COLUMN skytrap.lightcurve.decl IS
    'Declination of the measurement, degrees.';
COMMENT ON COLUMN skytrap.lightcurve.f_peak IS
    'Peak flux density, Jy/beam.';
COMMENT ON COLUMN skytrap.lightcurve.f_peak_err IS
    '1-sigma error of f_peak, Jy/beam.';
COMMENT ON COLUMN skytrap.lightcurve.f_int IS
    'Integrated flux density, Jy.';
COMMENT ON COLUMN skytrap.lightcurve.f_int_err IS
    '1-sigma error of f_int, Jy.';
COMMENT ON COLUMN skytrap.lightcurve.det_sigma IS
    'Significance of the detection, sigma.';
COMMENT ON COLUMN skytrap.lightcurve.extract_type IS
    '0 blind detection, 1 forced fit at a lightcurve''s position, 2 forced fit at a monitor position; see skytrap.extract_type.';
COMMENT ON COLUMN skytrap.lightcurve.assoc_type IS
    'How the point joined the lightcurve (assocxtrsource.type): 2 fork base, 3 one-to-one, 4 new source, 6 copied on a fork, 7 null detection, 8/9 monitor; see skytrap.assoc_type.';
COMMENT ON COLUMN skytrap.lightcurve.v_int IS
    'V of the integrated flux in this band and Stokes parameter after this point.';
COMMENT ON COLUMN skytrap.lightcurve.eta_int IS
    'eta of the integrated flux in this band and Stokes parameter after this point.';
COMMENT ON COLUMN skytrap.lightcurve.prev_xtrsrc IS
    'The lightcurve''s previous point in the same band and Stokes parameter (NULL for the first): join on it to compare each point with the one before.';

-- sql/forks.sql ===========================================================================

COMMENT ON FUNCTION skytrap.fork_lightcurves(bigint[],bigint[]) IS
    'internal to associate_image (TraP''s one-to-many): each new[i] takes over the history of old[i] (links copied as type 6, flux rows, sky regions, new-source record), then the old lightcurves are deleted. Loaders only.';

-- sql/integrity.sql =======================================================================

COMMENT ON FUNCTION skytrap.check_integrity() IS
    'Every invariant association keeps, checked against the rows: one row per violation (dangling links, measurements, flux and new-source rows; lightcurves without points; link times, flux rows, previous points and variability summary bands that are not their points''). No rows: the database is sound. Reads every lightcurve.';
COMMENT ON FUNCTION skytrap.lightcurve_violations() IS
    'internal to check_integrity: each lightcurve''s flux rows (sums, first, last and largest point, the band varmetric shows) and previous points against a recomputation from its points.';

-- sql/lightcurves.sql =====================================================================

-- lightcurve_statistics -----------------------------------------------------------------

COMMENT ON TYPE skytrap.lightcurve_statistics IS
    'What the aggregate skytrap.lightcurve_stats returns. Fluxes are in the unit of the flux aggregated (Jy for f_int, Jy/beam for f_peak).';
COMMENT ON COLUMN skytrap.lightcurve_statistics.datapoints IS
    'Measurements counted (finite flux with a finite, positive error).';
COMMENT ON COLUMN skytrap.lightcurve_statistics.avg_flux IS
    'Mean flux.';
COMMENT ON COLUMN skytrap.lightcurve_statistics.weighted_avg_flux IS
    'Inverse-variance weighted mean flux, the xi that eta is measured against.';
COMMENT ON COLUMN skytrap.lightcurve_statistics.max_flux IS
    'Largest flux.';
COMMENT ON COLUMN skytrap.lightcurve_statistics.min_flux IS
    'Smallest flux.';
COMMENT ON COLUMN skytrap.lightcurve_statistics.v IS
    'TraP''s V: standard deviation over mean (0 for fewer than two measurements).';
COMMENT ON COLUMN skytrap.lightcurve_statistics.eta IS
    'TraP''s eta: reduced chi-squared against the weighted mean (0 for fewer than two measurements).';

COMMENT ON AGGREGATE skytrap.lightcurve_stats(double precision,double precision) IS
    'TraP''s variability statistics (datapoints, means, extremes, V, eta) of any selection of measurements (flux, flux_err): e.g. (skytrap.lightcurve_stats(f_int, f_int_err)).* ... GROUP BY runcat. Parallel safe.';
COMMENT ON FUNCTION skytrap.lightcurve_stats_final(double precision[]) IS
    'internal: final function of the aggregate skytrap.lightcurve_stats, state to lightcurve_statistics.';
COMMENT ON FUNCTION skytrap.forced_fit_targets(integer) IS
    'Where the loader force-fits an image before association: lightcurves of its sky region first seen earlier and not expired (fewer than expiration forced fits since their last blind detection), then every monitor position of the dataset; degrees.';

-- sql/xmatch.sql ==========================================================================

COMMENT ON FUNCTION skytrap.pixel(double precision,double precision) IS
    'The indexable key of a position (ra, decl in degrees): its HEALPix nested index at depth 29 (0.4 mas); NULL for a NaN or infinite coordinate or |decl| > 90. Index it with skytrap.pixel_ops.';
COMMENT ON FUNCTION skytrap.xmatch_keys(bigint,bigint,double precision,double precision,double precision,double precision,double precision) IS
    'internal: the exact test that every cone and cross-match predicate ends in: are (ra1, decl1) and (ra2, decl2) within radius degrees? It carries both positions'' pixel keys, so its planner support can use an index on either.';
COMMENT ON FUNCTION skytrap.cone_pixels(double precision,double precision,double precision) IS
    'internal: the pixel key ranges that hold every position within radius degrees of (ra, decl); an index scan reads them (key #= ANY(ranges)).';
COMMENT ON FUNCTION skytrap.pixel_in(bigint,int8range) IS
    'internal: the operator key #= range of skytrap.pixel_ops: is the key in the range?';
COMMENT ON FUNCTION skytrap.pixel_range_cmp(bigint,int8range) IS
    'internal: btree support function of skytrap.pixel_ops comparing a key with a key range (which sorts as its lower bound).';
COMMENT ON FUNCTION skytrap.pixel_ranges_cmp(int8range,int8range) IS
    'internal: btree support function of skytrap.pixel_ops ordering key ranges by their bounds, empty ones last.';
COMMENT ON FUNCTION skytrap.pixel_near(bigint,circle) IS
    'internal: the operator key #~ circle of skytrap.pixel_ops: may the key''s position be within the cone (centre ra = x, decl = y, radius; degrees)? Drops keys before their rows are read.';
COMMENT ON FUNCTION skytrap.pixel_circle_cmp(bigint,circle) IS
    'internal: btree support function of skytrap.pixel_ops for #~, which no scan starts from: every key sorts after a circle.';

COMMENT ON OPERATOR skytrap.#< (bigint, bigint) IS
    'internal: int8 less-than under skytrap.pixel_ops''s name.';
COMMENT ON OPERATOR skytrap.#<= (bigint, bigint) IS
    'internal: int8 less-than-or-equal under skytrap.pixel_ops''s name.';
COMMENT ON OPERATOR skytrap.#= (bigint, bigint) IS
    'internal: int8 equality under skytrap.pixel_ops''s name.';
COMMENT ON OPERATOR skytrap.#>= (bigint, bigint) IS
    'internal: int8 greater-than-or-equal under skytrap.pixel_ops''s name.';
COMMENT ON OPERATOR skytrap.#> (bigint, bigint) IS
    'internal: int8 greater-than under skytrap.pixel_ops''s name.';
COMMENT ON OPERATOR skytrap.#= (bigint, int8range) IS
    'internal: is the pixel key inside the key range? Positions an index scan on each of a cone''s ranges.';
COMMENT ON OPERATOR skytrap.#~ (bigint, circle) IS
    'internal: may the pixel key''s position be within the cone (circle centre ra = x, decl = y, radius; degrees)? Filters keys in an index scan.';
COMMENT ON OPERATOR FAMILY skytrap.pixel_ops USING btree IS
    'The btree operator family of skytrap.pixel_ops.';
COMMENT ON OPERATOR CLASS skytrap.pixel_ops USING btree IS
    'Btree index on skytrap.pixel(ra, decl) for the cone and cross-match predicates: CREATE INDEX ON t (skytrap.pixel(ra, decl) skytrap.pixel_ops). Serves those predicates, not ORDER BY.';

COMMENT ON FUNCTION skytrap.xmatch(double precision,double precision,double precision,double precision,double precision) IS
    'Join predicate: are (ra1, decl1) and (ra2, decl2) within radius of each other (degrees)? An index on either side''s skytrap.pixel serves it; the radius may come from the other side''s row.';
COMMENT ON FUNCTION skytrap.in_cone(double precision,double precision,double precision,double precision,double precision) IS
    'Cone search: is (ra, decl) within radius of (ra0, decl0)? Degrees; an index on skytrap.pixel(ra, decl) serves it.';
COMMENT ON FUNCTION skytrap.deruiter_xmatch(double precision,double precision,double precision,double precision,double precision,double precision,double precision,double precision,double precision,double precision) IS
    'Join predicate with TraP''s association criterion: within radius and with a De Ruiter radius below r_max, from positions and their east-west and north-south uncertainties (degrees).';
COMMENT ON FUNCTION skytrap.in_ellipse(double precision,double precision,double precision,double precision,double precision,double precision,double precision) IS
    'Is (ra, decl) in the ellipse centred on (ra0, decl0) with semi-axes smaj and smin, smaj at position angle pa east of north? Degrees; indexed through in_cone.';
COMMENT ON FUNCTION skytrap.in_polygon(double precision,double precision,double precision[]) IS
    'Is (ra, decl) in the polygon {ra1, dec1, ra2, dec2, ...} with great-circle edges (at least 3 vertices, smaller than a hemisphere)? Degrees; false for an array that is no such polygon; indexed through in_cone.';

-- Functions written in Rust (extension/src) ===============================================

-- sky.rs --------------------------------------------------------------------------------

COMMENT ON FUNCTION skytrap.distance(double precision,double precision,double precision,double precision) IS
    'Angular distance between (ra1, dec1) and (ra2, dec2) by Vincenty''s formula, exact at every separation; degrees in and out.';
COMMENT ON FUNCTION skytrap.position_angle(double precision,double precision,double precision,double precision) IS
    'Position angle of (ra2, dec2) seen from (ra1, dec1), degrees east of north in [0, 360).';
COMMENT ON FUNCTION skytrap.alpha(double precision,double precision) IS
    'TraP''s RA inflation: the half-width in right ascension of a cone of radius theta at declination dec, degrees; 180 near the poles.';

-- variability.rs ------------------------------------------------------------------------

COMMENT ON FUNCTION skytrap.two_epoch_vs(double precision,double precision,double precision,double precision) IS
    'Two-epoch t-statistic Vs = (f_a - f_b) / sqrt(err_a^2 + err_b^2) (Mooley et al. 2016).';
COMMENT ON FUNCTION skytrap.two_epoch_m(double precision,double precision) IS
    'Two-epoch modulation index m = 2 (f_a - f_b) / (f_a + f_b) (Mooley et al. 2016).';
COMMENT ON FUNCTION skytrap.lightcurve_stats_add(double precision[],double precision,double precision) IS
    'internal: state function of the aggregate skytrap.lightcurve_stats: the state {n, sum f, sum f^2, sum w, sum wf, sum wf^2, max, min} (w = 1/err^2) with one more measurement; one without a finite flux and a finite, positive error is skipped.';
COMMENT ON FUNCTION skytrap.lightcurve_stats_combine(double precision[],double precision[]) IS
    'internal: combine function of the aggregate skytrap.lightcurve_stats: two partial states as one, for parallel aggregation.';
COMMENT ON FUNCTION skytrap.lightcurve_stats_v(double precision[]) IS
    'internal: TraP''s V of a skytrap.lightcurve_stats state (0 for fewer than two measurements).';
COMMENT ON FUNCTION skytrap.lightcurve_stats_eta(double precision[]) IS
    'internal: TraP''s eta of a skytrap.lightcurve_stats state (0 for fewer than two measurements).';
COMMENT ON FUNCTION skytrap.flux_median(double precision[]) IS
    'The median of the fluxes (the mean of the middle two for an even count), NULL elements left out; NULL for none.';
COMMENT ON FUNCTION skytrap.significant_pair(double precision[],double precision[],double precision) IS
    'VAST''s two-epoch metrics of points given in time order as fluxes and errors: {|Vs|, |m|} of the pair with the largest |m| among pairs with |Vs| >= min_abs_vs; {0, 0} when none. Compares every pair.';

-- xmatch.rs -----------------------------------------------------------------------------

COMMENT ON FUNCTION skytrap.xmatch_keys_support(internal) IS
    'internal: planner support function of skytrap.xmatch_keys: turns it into an index condition on either side''s pixel key, with a selectivity from the cone''s area.';
COMMENT ON FUNCTION skytrap.de_ruiter(double precision,double precision,double precision,double precision,double precision,double precision,double precision,double precision) IS
    'The De Ruiter radius (dimensionless) between two positions with their east-west and north-south on-sky uncertainties, all in degrees. skytrap: from the second''s offsets in the plane tangent at the first (TraP: RA difference times cos of the mean declination).';
COMMENT ON FUNCTION skytrap.in_ellipse_exact(double precision,double precision,double precision,double precision,double precision,double precision,double precision) IS
    'The exact test behind skytrap.in_ellipse, which no index serves: is (ra, decl) in the ellipse (semi-axes and position angle in degrees)?';
COMMENT ON FUNCTION skytrap.in_polygon_exact(double precision,double precision,double precision[]) IS
    'The exact test behind skytrap.in_polygon, which no index serves: is (ra, decl) in the polygon {ra1, dec1, ...} with great-circle edges? False for an array that is no polygon.';
COMMENT ON FUNCTION skytrap.polygon_cone(double precision[]) IS
    'The cone {ra, dec, radius} (degrees) that holds a polygon {ra1, dec1, ra2, dec2, ...}; NULL for an array that is no polygon within a hemisphere.';

-- associate/mod.rs ----------------------------------------------------------------------

COMMENT ON FUNCTION skytrap.associate_image(integer) IS
    'Associates a stored image''s measurements with its dataset''s lightcurves as TraP does, records new sources, brings each lightcurve''s flux rows up to date and marks the image associated (which raises its alerts). Returns (matched, new_runcat, new_sources, forks, forced); loaders only.';

-- Views an astronomer starts from. Each row names its dataset (`dataset_name`), codes
-- come with their names, and times are timestamptz in UTC, so pandas and astropy read them
-- unambiguously. Frequencies in MHz here (Hz in the tables).

-- Every image, with its band, noise and beam, and why it was rejected (NULL: accepted).
CREATE VIEW skytrap.images AS
SELECT d.description AS dataset_name,
       i.dataset,
       i.id AS image,
       i.url,
       i.telescope,
       i.object,
       i.taustart_ts AT TIME ZONE 'UTC' AS observed_at,
       i.band,
       b.freq_central / 1e6 AS freq_mhz,
       st.name AS stokes,
       i.rms_qc,
       i.rms_min,
       i.rms_max,
       i.detection_thresh,
       2 * i.rb_smaj * 3600 AS beam_major_arcsec,
       2 * i.rb_smin * 3600 AS beam_minor_arcsec,
       i.rb_pa AS beam_pa,
       i.associated_at,
       rr.description AS rejected,
       rj.comment AS rejection_detail,
       i.job_settings
FROM skytrap.image i
JOIN skytrap.dataset d ON d.id = i.dataset
JOIN skytrap.frequencyband b ON b.id = i.band
LEFT JOIN skytrap.stokes st ON st.id = i.stokes
LEFT JOIN skytrap.rejection rj ON rj.image = i.id
LEFT JOIN skytrap.rejectreason rr ON rr.id = rj.rejectreason;

-- Every lightcurve point, blind or forced, the measurement named in words.
CREATE VIEW skytrap.lightcurves AS
SELECT d.description AS dataset_name,
       l.dataset,
       l.runcat,
       l.xtrsrc,
       l.image,
       l.taustart_ts AT TIME ZONE 'UTC' AS observed_at,
       l.band,
       l.freq_central / 1e6 AS freq_mhz,
       st.name AS stokes,
       l.ra,
       l.decl,
       l.f_peak,
       l.f_peak_err,
       l.f_int,
       l.f_int_err,
       l.det_sigma,
       et.name AS measured_as,
       at.name AS link,
       l.v_int,
       l.eta_int
FROM skytrap.lightcurve l
JOIN skytrap.dataset d ON d.id = l.dataset
LEFT JOIN skytrap.stokes st ON st.id = l.stokes
LEFT JOIN skytrap.extract_type et ON et.id = l.extract_type
LEFT JOIN skytrap.assoc_type at ON at.id = l.assoc_type;

-- Each lightcurve's variability: TraP's η and V, VAST's two-epoch metrics, its flux
-- summary and time span, and whether it began as a new source.
CREATE VIEW skytrap.variability AS
SELECT d.description AS dataset_name,
       r.dataset,
       r.id AS runcat,
       r.wm_ra,
       r.wm_decl,
       v.band,
       b.freq_central / 1e6 AS freq_mhz,
       v.datapoints,
       v.eta_int,
       v.v_int,
       v.eta_peak,
       v.v_peak,
       v.vs_abs_significant_max_int,
       v.m_abs_significant_max_int,
       v.vs_abs_significant_max_peak,
       v.m_abs_significant_max_peak,
       v.lightcurve_max,
       v.lightcurve_avg,
       v.lightcurve_median,
       v.first_ts AT TIME ZONE 'UTC' AS first_seen,
       v.last_ts AT TIME ZONE 'UTC' AS last_seen,
       v.newsource IS NOT NULL AS new_source
FROM skytrap.varmetric v
JOIN skytrap.runningcatalog r ON r.id = v.runcat
JOIN skytrap.dataset d ON d.id = r.dataset
JOIN skytrap.frequencyband b ON b.id = v.band;

-- Transient candidates: each new source with its first detection, the image it was
-- found in, the earlier image whose limit it beat, and TraP's significance over that
-- image's lowest and highest noise.
CREATE VIEW skytrap.candidates AS
SELECT d.description AS dataset_name,
       r.dataset,
       n.runcat,
       r.wm_ra,
       r.wm_decl,
       nt.name AS likelihood,
       x.id AS xtrsrc,
       x.image,
       i.url,
       i.taustart_ts AT TIME ZONE 'UTC' AS observed_at,
       b.freq_central / 1e6 AS freq_mhz,
       x.f_peak,
       x.f_peak_err,
       x.f_int,
       x.f_int_err,
       x.det_sigma,
       v.sigma_rms_min,
       v.sigma_rms_max,
       n.previous_limits_image,
       p.taustart_ts AT TIME ZONE 'UTC' AS previous_limits_observed_at
FROM skytrap.newsource n
JOIN skytrap.runningcatalog r ON r.id = n.runcat
JOIN skytrap.dataset d ON d.id = r.dataset
JOIN skytrap.newsource_type nt ON nt.id = n.newsource_type
JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc
JOIN skytrap.image i ON i.id = x.image
JOIN skytrap.frequencyband b ON b.id = i.band
JOIN skytrap.image p ON p.id = n.previous_limits_image
LEFT JOIN skytrap.varmetric v ON v.runcat = n.runcat;

-- The analysts' views (views.sql) ---------------------------------------------------

COMMENT ON FUNCTION skytrap.varmetric_median(bigint,integer) IS
    'internal to the varmetric view: the median integrated flux of the lightcurve''s Stokes I points in the band.';
COMMENT ON FUNCTION skytrap.varmetric_pair(bigint,integer,boolean) IS
    'internal to the varmetric view: {|Vs|, |m|} of the lightcurve''s Stokes I points in the band (peak or integrated flux), with its dataset''s pair_metrics_min_abs_vs.';

COMMENT ON VIEW skytrap.images IS
    'Every image of every dataset, with its band, noise and beam and why it was rejected (NULL: accepted); times UTC. Start here to see what a dataset holds.';
COMMENT ON COLUMN skytrap.images.dataset_name IS
    'The dataset''s name (dataset.description).';
COMMENT ON COLUMN skytrap.images.dataset IS
    'The dataset (dataset.id).';
COMMENT ON COLUMN skytrap.images.image IS
    'The image (image.id).';
COMMENT ON COLUMN skytrap.images.url IS
    'The image''s file, as loaded.';
COMMENT ON COLUMN skytrap.images.telescope IS
    'The telescope (FITS TELESCOP).';
COMMENT ON COLUMN skytrap.images.object IS
    'The target or field (FITS OBJECT).';
COMMENT ON COLUMN skytrap.images.observed_at IS
    'Start of the observation (image.taustart_ts), UTC.';
COMMENT ON COLUMN skytrap.images.band IS
    'The frequency band (frequencyband.id).';
COMMENT ON COLUMN skytrap.images.freq_mhz IS
    'Central frequency of the band, MHz.';
COMMENT ON COLUMN skytrap.images.stokes IS
    'Stokes parameter: I, Q, U or V (skytrap.stokes).';
COMMENT ON COLUMN skytrap.images.rms_qc IS
    'Noise in the image''s central region (TraP''s rms_qc), Jy/beam.';
COMMENT ON COLUMN skytrap.images.rms_min IS
    'Lowest noise in the searched area, Jy/beam.';
COMMENT ON COLUMN skytrap.images.rms_max IS
    'Highest noise in the searched area, Jy/beam.';
COMMENT ON COLUMN skytrap.images.detection_thresh IS
    'Detection threshold applied, sigma (NULL: an FDR step that found none).';
COMMENT ON COLUMN skytrap.images.beam_major_arcsec IS
    'Restoring beam''s major axis (FWHM), arcsec.';
COMMENT ON COLUMN skytrap.images.beam_minor_arcsec IS
    'Restoring beam''s minor axis (FWHM), arcsec.';
COMMENT ON COLUMN skytrap.images.beam_pa IS
    'Restoring beam''s position angle, degrees east of north.';
COMMENT ON COLUMN skytrap.images.associated_at IS
    'When the image was associated (NULL: rejected, or not yet).';
COMMENT ON COLUMN skytrap.images.rejected IS
    'Why the image was rejected (skytrap.rejectreason); NULL if it was accepted.';
COMMENT ON COLUMN skytrap.images.rejection_detail IS
    'The rejection''s detail, e.g. the test and the values that failed.';
COMMENT ON COLUMN skytrap.images.job_settings IS
    'The settings the image was processed with (skytrap.job_settings).';
COMMENT ON VIEW skytrap.lightcurves IS
    'Every point of every lightcurve, blind detections and forced fits named in words; times UTC. skytrap.lightcurve has the same points with TraP''s codes.';
COMMENT ON COLUMN skytrap.lightcurves.dataset_name IS
    'The dataset''s name (dataset.description).';
COMMENT ON COLUMN skytrap.lightcurves.dataset IS
    'The dataset (dataset.id).';
COMMENT ON COLUMN skytrap.lightcurves.runcat IS
    'The lightcurve (runningcatalog.id).';
COMMENT ON COLUMN skytrap.lightcurves.xtrsrc IS
    'The measurement (extractedsource.id).';
COMMENT ON COLUMN skytrap.lightcurves.image IS
    'The image (image.id).';
COMMENT ON COLUMN skytrap.lightcurves.observed_at IS
    'Start of the observation (image.taustart_ts), UTC.';
COMMENT ON COLUMN skytrap.lightcurves.band IS
    'The frequency band (frequencyband.id).';
COMMENT ON COLUMN skytrap.lightcurves.freq_mhz IS
    'Central frequency of the band, MHz.';
COMMENT ON COLUMN skytrap.lightcurves.stokes IS
    'Stokes parameter: I, Q, U or V (skytrap.stokes).';
COMMENT ON COLUMN skytrap.lightcurves.ra IS
    'The measurement''s right ascension, degrees.';
COMMENT ON COLUMN skytrap.lightcurves.decl IS
    'The measurement''s declination, degrees.';
COMMENT ON COLUMN skytrap.lightcurves.f_peak IS
    'Peak flux density, Jy/beam.';
COMMENT ON COLUMN skytrap.lightcurves.f_peak_err IS
    'Error of f_peak, Jy/beam.';
COMMENT ON COLUMN skytrap.lightcurves.f_int IS
    'Integrated flux density, Jy.';
COMMENT ON COLUMN skytrap.lightcurves.f_int_err IS
    'Error of f_int, Jy.';
COMMENT ON COLUMN skytrap.lightcurves.det_sigma IS
    'Detection significance: peak over the local noise, sigma.';
COMMENT ON COLUMN skytrap.lightcurves.measured_as IS
    'How the point was measured: blind, forced_at_lightcurve or forced_at_monitor (skytrap.extract_type).';
COMMENT ON COLUMN skytrap.lightcurves.link IS
    'How the point joined its lightcurve (skytrap.assoc_type), e.g. one_to_one, new_source, null_detection.';
COMMENT ON COLUMN skytrap.lightcurves.v_int IS
    'The lightcurve''s V (integrated flux) after this point.';
COMMENT ON COLUMN skytrap.lightcurves.eta_int IS
    'The lightcurve''s eta (integrated flux) after this point.';
COMMENT ON VIEW skytrap.variability IS
    'Each lightcurve''s variability: TraP''s eta and V, VAST''s two-epoch metrics, its flux summary and time span (UTC); ORDER BY eta_int DESC finds the most variable.';
COMMENT ON COLUMN skytrap.variability.dataset_name IS
    'The dataset''s name (dataset.description).';
COMMENT ON COLUMN skytrap.variability.dataset IS
    'The dataset (dataset.id).';
COMMENT ON COLUMN skytrap.variability.runcat IS
    'The lightcurve (runningcatalog.id).';
COMMENT ON COLUMN skytrap.variability.wm_ra IS
    'The lightcurve''s weighted mean right ascension, degrees.';
COMMENT ON COLUMN skytrap.variability.wm_decl IS
    'The lightcurve''s weighted mean declination, degrees.';
COMMENT ON COLUMN skytrap.variability.band IS
    'The frequency band (frequencyband.id).';
COMMENT ON COLUMN skytrap.variability.freq_mhz IS
    'Central frequency of the band, MHz.';
COMMENT ON COLUMN skytrap.variability.datapoints IS
    'Points of the lightcurve in its band.';
COMMENT ON COLUMN skytrap.variability.eta_int IS
    'eta of the integrated flux (TraP): the reduced chi-squared about the weighted mean.';
COMMENT ON COLUMN skytrap.variability.v_int IS
    'V of the integrated flux (TraP): the coefficient of variation.';
COMMENT ON COLUMN skytrap.variability.eta_peak IS
    'eta of the peak flux.';
COMMENT ON COLUMN skytrap.variability.v_peak IS
    'V of the peak flux.';
COMMENT ON COLUMN skytrap.variability.vs_abs_significant_max_int IS
    'VAST''s two-epoch Vs (integrated flux) of the pair with the largest |m| among pairs with |Vs| at least the dataset''s pair_metrics_min_abs_vs; 0 when none.';
COMMENT ON COLUMN skytrap.variability.m_abs_significant_max_int IS
    'VAST''s modulation index m (integrated flux) of that pair; 0 when none.';
COMMENT ON COLUMN skytrap.variability.vs_abs_significant_max_peak IS
    'As vs_abs_significant_max_int, of the peak flux.';
COMMENT ON COLUMN skytrap.variability.m_abs_significant_max_peak IS
    'As m_abs_significant_max_int, of the peak flux.';
COMMENT ON COLUMN skytrap.variability.lightcurve_max IS
    'Highest integrated flux of the lightcurve, Jy.';
COMMENT ON COLUMN skytrap.variability.lightcurve_avg IS
    'Mean integrated flux, Jy.';
COMMENT ON COLUMN skytrap.variability.lightcurve_median IS
    'Median integrated flux, Jy.';
COMMENT ON COLUMN skytrap.variability.first_seen IS
    'Time of its first point, UTC.';
COMMENT ON COLUMN skytrap.variability.last_seen IS
    'Time of its last point, UTC.';
COMMENT ON COLUMN skytrap.variability.new_source IS
    'Whether the lightcurve began as a new source (see skytrap.candidates).';
COMMENT ON VIEW skytrap.candidates IS
    'Transient candidates: each new source with its first detection, the image it was found in, the earlier image whose detection limit it beat, and TraP''s significance; times UTC.';
COMMENT ON COLUMN skytrap.candidates.dataset_name IS
    'The dataset''s name (dataset.description).';
COMMENT ON COLUMN skytrap.candidates.dataset IS
    'The dataset (dataset.id).';
COMMENT ON COLUMN skytrap.candidates.runcat IS
    'The lightcurve (runningcatalog.id).';
COMMENT ON COLUMN skytrap.candidates.wm_ra IS
    'The lightcurve''s weighted mean right ascension, degrees.';
COMMENT ON COLUMN skytrap.candidates.wm_decl IS
    'The lightcurve''s weighted mean declination, degrees.';
COMMENT ON COLUMN skytrap.candidates.likelihood IS
    'likely or possible (skytrap.newsource_type): above the earlier image''s limit even at its highest noise, or only at its lowest.';
COMMENT ON COLUMN skytrap.candidates.xtrsrc IS
    'The measurement (extractedsource.id).';
COMMENT ON COLUMN skytrap.candidates.image IS
    'The image (image.id).';
COMMENT ON COLUMN skytrap.candidates.url IS
    'The image''s file, as loaded.';
COMMENT ON COLUMN skytrap.candidates.observed_at IS
    'Start of the observation (image.taustart_ts), UTC.';
COMMENT ON COLUMN skytrap.candidates.freq_mhz IS
    'Central frequency of the band, MHz.';
COMMENT ON COLUMN skytrap.candidates.f_peak IS
    'Peak flux density, Jy/beam.';
COMMENT ON COLUMN skytrap.candidates.f_peak_err IS
    'Error of f_peak, Jy/beam.';
COMMENT ON COLUMN skytrap.candidates.f_int IS
    'Integrated flux density, Jy.';
COMMENT ON COLUMN skytrap.candidates.f_int_err IS
    'Error of f_int, Jy.';
COMMENT ON COLUMN skytrap.candidates.det_sigma IS
    'Detection significance: peak over the local noise, sigma.';
COMMENT ON COLUMN skytrap.candidates.sigma_rms_min IS
    'f_int of the first detection over the lowest noise of the earlier image (TraP''s significance).';
COMMENT ON COLUMN skytrap.candidates.sigma_rms_max IS
    'f_int of the first detection over the highest noise of the earlier image.';
COMMENT ON COLUMN skytrap.candidates.previous_limits_image IS
    'The earlier image whose limit the first detection beat (image.id).';
COMMENT ON COLUMN skytrap.candidates.previous_limits_observed_at IS
    'When that earlier image was observed, UTC.';
GRANT SELECT ON skytrap.images, skytrap.lightcurves, skytrap.variability, skytrap.candidates TO skytrap_analyst;
