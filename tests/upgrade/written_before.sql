-- Data written by an earlier skytrap, for tests/tests/upgrade.rs: three epochs of three
-- steady sources, a flaring one (1, 3, 2 Jy) and a transient in the third. Not yet
-- associated: associated-<version>.sql holds what that version's association wrote.
INSERT INTO skytrap.dataset (description) VALUES ('written before');
INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts,
    rb_smaj, rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max, detection_thresh)
SELECT d.id, skytrap.frequencyband_for(d.id, 150e6, 2e6),
       skytrap.skyregion_for(d.id, 10, 0, 1), 150e6, 2e6,
       timestamp '2026-01-01' + (e - 1) * interval '1 day', 0.01, 0.01, 0,
       0.001, 0.001, 'epoch' || e || '.fits', 0.01, 0.02, 8
FROM skytrap.dataset d, generate_series(1, 3) AS e;
INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
    ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
SELECT i.id, 10 + 0.01 * s, 0, 0.0001, 0.0001, 1, 1, 1, 100, s + 0.1 * e, 0.1,
       s + 0.1 * e, 0.1
FROM skytrap.image i, generate_series(1, 3) AS e, generate_series(1, 3) AS s
WHERE i.url = 'epoch' || e || '.fits';
INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
    ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
SELECT id, 10.5, 0, 0.0001, 0.0001, 1, 1, 1, 50, 0.5, 0.01, 0.5, 0.01
FROM skytrap.image WHERE url = 'epoch3.fits';
INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
    ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
SELECT i.id, 10.04, 0, 0.0001, 0.0001, 1, 1, 1, 100, (ARRAY[1, 3, 2])[e], 0.1,
       (ARRAY[1, 3, 2])[e], 0.1
FROM skytrap.image i, generate_series(1, 3) AS e
WHERE i.url = 'epoch' || e || '.fits';
