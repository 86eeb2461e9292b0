-- Start from an empty skytrap, whatever ran before.
DROP EXTENSION skytrap CASCADE;
CREATE EXTENSION skytrap;

-- Alert rules as data. Four epochs of one field:
--   A: 1, 1, 2, 2 Jy ± 0.05 — a flux jump and a variable at epoch 3 (worked by hand:
--      Vs = (2 − 1)/√(0.05² + 0.05²) = 14.142, m = 2·1/3 = 0.667; over 1, 1, 2 the sample
--      sd is 0.577 and the mean 1.333, so V = 0.433, and with weights 400,
--      η = 400·(1/9 + 1/9 + 4/9)/2 = 133.3). At epoch 4 V falls to 0.385: no new alert.
--   B: 1 Jy steady, at a monitor position: one monitor alert per detection, until the
--      rule is switched off before epoch 4.
--   C: a transient at epoch 2: a new source.
INSERT INTO skytrap.dataset (description) VALUES ('alerts');

-- Every dataset starts with TraP's and Mooley's defaults.
SELECT kind, enabled, min_newsource_type, eta_min, v_min, vs_min, m_min, radius_arcsec
FROM skytrap.alert_rule ORDER BY kind;

INSERT INTO skytrap.monitor (dataset, ra, decl, name)
SELECT id, 20.05, 0, 'B' FROM skytrap.dataset;

-- An epoch of sources at the given RAs (declination 0) and fluxes, associated.
CREATE FUNCTION pg_temp.epoch_of(e integer, ras double precision[], fluxes double precision[])
RETURNS TABLE (matched integer, new_runcat integer, new_sources integer, forks integer,
               forced integer)
LANGUAGE plpgsql AS $$
DECLARE
    d integer := (SELECT id FROM skytrap.dataset WHERE description = 'alerts');
    img integer;
BEGIN
    INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts, rb_smaj,
                               rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max,
                               detection_thresh)
    VALUES (d, skytrap.frequencyband_for(d, 150e6, 2e6), skytrap.skyregion_for(d, 20, 0, 1),
            150e6, 2e6, timestamp '2026-01-01' + (e - 1) * interval '1 day', 0.01, 0.01, 0,
            0.001, 0.001, 'epoch' || e || '.fits', 0.01, 0.02, 8)
    RETURNING id INTO img;
    INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                                         ns_sys_err, error_radius, det_sigma, f_peak,
                                         f_peak_err, f_int, f_int_err)
    SELECT img, s.ra, 0, 0.0001, 0.0001, 1, 1, 1, 20, s.f, 0.05, s.f, 0.05
    FROM unnest(ras, fluxes) AS s(ra, f)
    WHERE s.f > 0;
    RETURN QUERY SELECT * FROM skytrap.associate_image(img);
END
$$;

-- An epoch of the three sources A, B and C (no source where a flux is 0).
CREATE FUNCTION pg_temp.epoch(e integer, a double precision, c double precision)
RETURNS TABLE (matched integer, new_runcat integer, new_sources integer, forks integer,
               forced integer)
LANGUAGE sql AS $$
    SELECT * FROM pg_temp.epoch_of(e, ARRAY[20.0, 20.05, 20.1], ARRAY[a, 1.0, c])
$$;

SELECT * FROM pg_temp.epoch(1, 1.0, 0);
SELECT * FROM pg_temp.epoch(2, 1.0, 0.5);
SELECT * FROM pg_temp.epoch(3, 2.0, 0);
UPDATE skytrap.alert_rule SET enabled = false WHERE kind = 'monitor_detection';
SELECT * FROM pg_temp.epoch(4, 2.0, 0);

-- Each alert, in commit order, with the image that raised it and why.
SELECT a.alert_id, a.kind, i.url,
       round((a.body->'source'->>'ra')::numeric, 2) AS ra,
       round((a.body->'classification'->>'vs')::numeric, 3) AS vs,
       round((a.body->'classification'->>'m')::numeric, 3) AS m,
       round((a.body->'classification'->>'v_int')::numeric, 3) AS v_int,
       round((a.body->'classification'->>'eta_int')::numeric, 1) AS eta_int,
       a.body->'classification'->>'name' AS monitor,
       a.body->'classification'->>'newsource_type' AS newsource_type
FROM skytrap.alert a JOIN skytrap.image i ON i.id = a.image
ORDER BY a.alert_id;

-- The jump's alert carries the lightcurve before it, the object's variability after it,
-- and cites the monitor-free earlier alerts on the same object (none for A). A was seen
-- in both earlier images of the field, so neither is an upper limit.
SELECT json_array_length(body->'history') AS earlier_points,
       body->'history'->0->>'f_int' AS first_f_int,
       round((body->'object'->>'v_int')::numeric, 3) AS object_v_int,
       body->'citations' AS citations,
       json_array_length(body->'upper_limits') AS upper_limits
FROM skytrap.alert WHERE kind = 'flux_jump';

-- B's later alerts cite its earlier ones.
SELECT alert_id, body->'citations' AS citations
FROM skytrap.alert WHERE kind = 'monitor_detection' ORDER BY alert_id;

-- The transient's alert lists the epoch-1 image that did not see it as an upper limit:
-- rms_min × detection threshold = 0.01 × 8, and says the limit uses the lowest noise.
SELECT body->'upper_limits'->0->>'f_peak_limit' AS limit_jy,
       body->'upper_limits'->0->>'limit_rms' AS limit_rms,
       json_array_length(body->'upper_limits') AS limits
FROM skytrap.alert WHERE kind = 'new_source';

-- Rules are checked: an unknown kind and a negative threshold are refused.
INSERT INTO skytrap.alert_rule (dataset, kind) SELECT id, 'rumour' FROM skytrap.dataset;
UPDATE skytrap.alert_rule SET vs_min = -1 WHERE kind = 'flux_jump';
-- So are NaN and infinite thresholds, which would switch a rule off without a word (NaN
-- compares above every number): every threshold of every kind.
UPDATE skytrap.alert_rule SET min_det_sigma = 'NaN' WHERE kind = 'new_source';
UPDATE skytrap.alert_rule SET min_det_sigma = -1 WHERE kind = 'new_source';
UPDATE skytrap.alert_rule SET eta_min = 'NaN' WHERE kind = 'variable';
UPDATE skytrap.alert_rule SET eta_min = 'Infinity' WHERE kind = 'variable';
UPDATE skytrap.alert_rule SET v_min = '-Infinity' WHERE kind = 'variable';
UPDATE skytrap.alert_rule SET v_min = 'NaN' WHERE kind = 'variable';
UPDATE skytrap.alert_rule SET vs_min = 'NaN' WHERE kind = 'flux_jump';
UPDATE skytrap.alert_rule SET m_min = 'Infinity' WHERE kind = 'flux_jump';
UPDATE skytrap.alert_rule SET radius_arcsec = 'NaN' WHERE kind = 'monitor_detection';
UPDATE skytrap.alert_rule SET radius_arcsec = -10 WHERE kind = 'monitor_detection';
-- Zero and finite values are taken (rolled back: the rules stay as they were).
BEGIN;
UPDATE skytrap.alert_rule SET min_det_sigma = 0, eta_min = 0, v_min = 0, vs_min = 0, m_min = 0,
                              radius_arcsec = 0;
UPDATE skytrap.alert_rule SET min_det_sigma = 1e300, eta_min = 1e300, v_min = 1e300,
                              vs_min = 1e300, m_min = 1e300, radius_arcsec = 1e300;
ROLLBACK;

-- A fork keeps the alerts of the history it carries. Epoch 5: A is seen as two 2 Jy
-- sources 2″ either side of it, and forks into two lightcurves (its own is deleted).
-- Epoch 6: the western one drops to 0.5 Jy, a flux jump (Vs = 1.5/√(2·0.05²) = 21.2,
-- m = 2·1.5/2.5 = 1.2) and a variable (V of 1, 1, 2, 2, 2, 0.5 is 0.47); both alerts cite
-- A's epoch-3 alerts, on points of their history.
SELECT * FROM pg_temp.epoch_of(5, ARRAY[20 - 2 / 3600.0, 20 + 2 / 3600.0, 20.05], ARRAY[2, 2, 1]);
SELECT * FROM pg_temp.epoch_of(6, ARRAY[20 - 2 / 3600.0, 20 + 2 / 3600.0, 20.05], ARRAY[0.5, 2, 1]);
SELECT a.kind, i.url,
       a.runcat <> (SELECT runcat FROM skytrap.alert WHERE kind = 'flux_jump' ORDER BY alert_id LIMIT 1)
           AS on_a_fork,
       a.body->'citations' AS citations,
       (a.body->'citations')::jsonb = (SELECT jsonb_agg(e.alert_id ORDER BY e.alert_id)
                              FROM skytrap.alert e JOIN skytrap.image ei ON ei.id = e.image
                              WHERE ei.url = 'epoch3.fits' AND e.kind IN ('flux_jump', 'variable'))
           AS cites_a
FROM skytrap.alert a JOIN skytrap.image i ON i.id = a.image
WHERE i.url = 'epoch6.fits'
ORDER BY a.alert_id;
