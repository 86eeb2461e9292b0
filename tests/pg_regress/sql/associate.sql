-- Start from an empty skytrap, whatever ran before.
DROP EXTENSION skytrap CASCADE;
CREATE EXTENSION skytrap;

-- One source seen in three epochs, and a transient that appears in the third.
-- Fluxes 1, 2, 3 Jy with 0.1 Jy errors give V = 0.5 and η = 100 (worked by hand:
-- mean 2, sample sd 1; Σ (I − 2)²/0.01 = 200 over N − 1 = 2).
INSERT INTO skytrap.dataset (description) VALUES ('golden');
INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts, rb_smaj,
                           rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max, detection_thresh)
SELECT d.id, skytrap.frequencyband_for(d.id, 150e6, 2e6), skytrap.skyregion_for(d.id, 10, 0, 1),
       150e6, 2e6, timestamp '2026-01-01' + (e - 1) * interval '1 day', 0.01, 0.01, 0,
       0.001, 0.001, 'epoch' || e || '.fits', 0.01, 0.02, 8
FROM skytrap.dataset d, generate_series(1, 3) AS e
ORDER BY e;

-- Both epochs share one band and one sky region.
SELECT count(DISTINCT band) AS bands, count(DISTINCT skyrgn) AS regions FROM skytrap.image;

INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                                     ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err,
                                     f_int, f_int_err)
SELECT i.id, 10 + 0.0001 * e, 0, 0.0001, 0.0001, 1, 1, 1, 100, e, 0.1, e, 0.1
FROM skytrap.image i, generate_series(1, 3) AS e
WHERE i.url = 'epoch' || e || '.fits';
-- The transient, 0.1 degree away, only in epoch 3, at 0.5 Jy: above the epoch-1 limit
-- rms_max·(8 + 1) = 0.18 Jy, so newsource_type 1 (likely).
INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                                     ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err,
                                     f_int, f_int_err)
SELECT id, 10.1, 0, 0.0001, 0.0001, 1, 1, 1, 50, 0.5, 0.01, 0.5, 0.01
FROM skytrap.image WHERE url = 'epoch3.fits';

SELECT a.* FROM skytrap.image i, skytrap.associate_image(i.id) AS a ORDER BY i.taustart_ts;

-- Associating an image twice is refused.
SELECT * FROM skytrap.associate_image((SELECT min(id) FROM skytrap.image));

SELECT assoc_type, f_int, round(v_int::numeric, 9) AS v_int, round(eta_int::numeric, 6) AS eta_int
FROM skytrap.lightcurve ORDER BY runcat, taustart_ts;

SELECT datapoints, round(wm_ra::numeric, 6) AS wm_ra, wm_decl,
       round((wm_uncertainty_ew * 3600)::numeric, 4) AS unc_ew_arcsec
FROM skytrap.runningcatalog ORDER BY id;

SELECT f_datapoints, avg_f_int, round(avg_f_int_sq::numeric, 9) AS avg_f_int_sq
FROM skytrap.runningcatalog_flux ORDER BY runcat;

SELECT round(v_int::numeric, 9) AS v_int, round(eta_int::numeric, 6) AS eta_int,
       lightcurve_max, lightcurve_avg, lightcurve_median, datapoints,
       newsource IS NOT NULL AS is_new, round(sigma_rms_max::numeric, 6) AS sigma_rms_max
FROM skytrap.varmetric ORDER BY runcat;

SELECT n.newsource_type, p.url AS previous_limits_image, x.f_peak
FROM skytrap.newsource n
JOIN skytrap.image p ON p.id = n.previous_limits_image
JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc;

-- The new source's alert carries the measurement, the object and the reason, in schema
-- version 1. (The steady source's jumps from 1 to 2 to 3 Jy raise other alerts: alerts.sql.)
SELECT kind, schema_version,
       body->>'kind' AS body_kind,
       body->'source'->>'f_peak' AS f_peak,
       body->'source'->>'url' AS url,
       body->'object'->>'datapoints' AS datapoints,
       body->'classification'->>'newsource_type' AS newsource_type,
       body->'classification'->>'previous_rms_max' AS previous_rms_max
FROM skytrap.alert WHERE kind = 'new_source';

-- All running-catalogue sources inside an image's extraction region (its sky region, a
-- 1 degree circle around (10, 0)): both lightcurves.
SELECT i.url, count(r.id) AS sources_inside
FROM skytrap.image i
JOIN skytrap.skyregion s ON s.id = i.skyrgn
JOIN skytrap.runningcatalog r
  ON skytrap.in_cone(r.wm_ra, r.wm_decl, s.centre_ra, s.centre_decl, s.xtr_radius)
WHERE i.url = 'epoch3.fits'
GROUP BY i.url;
