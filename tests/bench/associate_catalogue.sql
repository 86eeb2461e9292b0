-- The synthetic survey of tests/bench/associate.sh, in schema `bench`.
--
-- The sky is cut into tiles of about 25 square degrees (rows 5 degrees high, the row at
-- declination 27.5..32.5 first, each row cut in RA into cells of equal area). A survey of
-- N sources has observed the N / 10^4 tiles nearest (RA, Dec) = (180, 30): one earlier
-- image (with its sky region) per tile, 10^4 sources per tile on a jittered 100 x 100 grid,
-- so the density is fixed (400 per square degree, 3 arcmin apart) and the catalogue grows
-- by covering more sky. Sources closer than a beam are one source to a source finder, so
-- no two catalogue sources are closer than 2.25 arcmin: every match of the benchmark image
-- is unambiguous and skytrap and TraP must agree on it.
--
-- Each catalogue source is a lightcurve with one point, as after one association: an
-- extractedsource row, a runningcatalog row (sums), runningcatalog_flux (its state, shown
-- by varmetric), assocxtrsource (type 4) and assocskyrgn (its own tile's region only:
-- association never reads these rows of old sources).
--
-- bench.grow(tiles) appends tiles up to that count; bench.make_image(n, url) makes the
-- image that the benchmark associates: a later visit of the first tile with n blind
-- sources, 90 % within 0.3 arcsec of catalogue sources (1 % of them three times brighter
-- than before) and 10 % at new positions, 1.5 arcmin from any catalogue source.

CREATE SCHEMA bench;

CREATE FUNCTION bench.norm_ra(ra double precision) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN r >= 360 OR r < 0 THEN 0 ELSE r END
    FROM (SELECT ra - 360 * floor(ra / 360) AS r) s
$$;

CREATE TABLE bench.tile (
    id          integer PRIMARY KEY,   -- 1 = the tile at (180, 30); then by distance from it
    dec_lo      double precision NOT NULL,
    dec_hi      double precision NOT NULL,
    ra_lo       double precision NOT NULL,
    width       double precision NOT NULL,   -- in RA
    centre_ra   double precision NOT NULL,
    centre_decl double precision NOT NULL,
    radius      double precision,            -- centre to the farthest corner
    skyrgn      integer,
    image       integer
);

INSERT INTO bench.tile (id, dec_lo, dec_hi, ra_lo, width, centre_ra, centre_decl)
SELECT row_number() OVER (ORDER BY skytrap.distance(180, 30, c.centre_ra, c.centre_decl),
                                   c.centre_decl, c.centre_ra),
       c.lo, c.hi, c.ra_lo, c.w, c.centre_ra, c.centre_decl
FROM (SELECT r.lo, r.hi, 360.0 / r.n AS w, 180 - 180.0 / r.n + k * 360.0 / r.n AS ra_lo,
             bench.norm_ra(180 + k * 360.0 / r.n) AS centre_ra, (r.lo + r.hi) / 2 AS centre_decl
      FROM (SELECT lo, hi,
                   greatest(1, round(degrees(1) * 360 * (sin(radians(hi)) - sin(radians(lo))) / 25))::int AS n
            FROM (SELECT greatest(-90, 27.5 + 5 * k) AS lo, least(90, 32.5 + 5 * k) AS hi
                  FROM generate_series(-24, 12) k) b) r,
           generate_series(0, r.n - 1) k) c;
UPDATE bench.tile SET radius = greatest(
    skytrap.distance(centre_ra, centre_decl, bench.norm_ra(ra_lo), dec_lo),
    skytrap.distance(centre_ra, centre_decl, bench.norm_ra(ra_lo + width), dec_lo),
    skytrap.distance(centre_ra, centre_decl, bench.norm_ra(ra_lo), dec_hi),
    skytrap.distance(centre_ra, centre_decl, bench.norm_ra(ra_lo + width), dec_hi)) + 0.01;

INSERT INTO skytrap.dataset (description) VALUES ('associate benchmark');
INSERT INTO skytrap.frequencyband (dataset, freq_central, freq_low, freq_high)
SELECT id, 150e6, 149e6, 151e6 FROM skytrap.dataset WHERE description = 'associate benchmark';

CREATE FUNCTION bench.grow(upto integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    ds   integer := (SELECT id FROM skytrap.dataset WHERE description = 'associate benchmark');
    bd   integer := (SELECT id FROM skytrap.frequencyband WHERE dataset = ds);
    have integer := (SELECT coalesce(max(id), 0) FROM bench.tile WHERE image IS NOT NULL);
BEGIN
    IF upto > (SELECT count(*) FROM bench.tile) THEN
        RAISE EXCEPTION 'the sky holds % tiles of 10^4 sources', (SELECT count(*) FROM bench.tile);
    END IF;
    INSERT INTO skytrap.skyregion (dataset, centre_ra, centre_decl, xtr_radius)
    SELECT ds, centre_ra, centre_decl, radius FROM bench.tile WHERE id > have AND id <= upto ORDER BY id;
    UPDATE bench.tile t SET skyrgn = s.id
    FROM skytrap.skyregion s
    WHERE t.id > have AND t.id <= upto AND s.dataset = ds AND s.centre_ra = t.centre_ra
      AND s.centre_decl = t.centre_decl AND s.xtr_radius = t.radius;
    -- One earlier image per tile: 10" restoring beam, noise 0.2..1 mJy, 8 sigma.
    INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts, rb_smaj,
                               rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max,
                               detection_thresh, analysis_thresh, associated_at)
    SELECT ds, bd, skyrgn, 150e6, 2e6, timestamp '2024-01-01' + id * interval '10 minutes',
           10 / 3600.0, 10 / 3600.0, 0, 2 / 3600.0, 2 / 3600.0, 'tile-' || id, 0.0002, 0.001,
           8, 3, now()
    FROM bench.tile WHERE id > have AND id <= upto ORDER BY id;
    UPDATE bench.tile t SET image = i.id
    FROM skytrap.image i
    WHERE t.id > have AND t.id <= upto AND i.dataset = ds AND i.url = 'tile-' || t.id;

    INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                                         ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err,
                                         f_int, f_int_err, x_pix, y_pix)
    SELECT image, bench.norm_ra(ra_lo + (j + 0.5 + (u - 0.5) / 4) * width / 100),
           dec_lo + (i + 0.5 + (v - 0.5) / 4) * (dec_hi - dec_lo) / 100,
           0.1 / 3600, 0.1 / 3600, 0.5, 0.5, 0.5, f / 0.0003, f, 0.0003, f, 0.0003, j * 25, i * 25
    FROM (SELECT t.id, t.image, t.ra_lo, t.width, t.dec_lo, t.dec_hi, i, j,
                 random() AS u, random() AS v, 0.002 + 0.01 * -ln(1 - random()) AS f
          FROM bench.tile t, generate_series(0, 99) i, generate_series(0, 99) j
          WHERE t.id > have AND t.id <= upto) s
    ORDER BY id, i, j;

    CREATE TEMP TABLE fresh ON COMMIT DROP AS
    SELECT x.id, x.image, t.skyrgn, t.centre_ra, t.centre_decl, x.ra, x.decl, x.uncertainty_ew,
           x.uncertainty_ns, x.ra_err, x.decl_err, x.f_peak, x.f_peak_err, x.f_int, x.f_int_err,
           timestamp '2024-01-01' + t.id * interval '10 minutes' AS ts
    FROM bench.tile t JOIN skytrap.extractedsource x ON x.image = t.image
    WHERE t.id > have AND t.id <= upto;

    INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl,
                                        sum_weight_ra, sum_weight_decl, sum_ra_err, sum_decl_err)
    SELECT id, ds, 1, ra, decl, 1 / uncertainty_ew ^ 2, 1 / uncertainty_ns ^ 2, ra_err, decl_err
    FROM fresh ORDER BY id;
    INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
        sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak, sum_weighted_f_peak_sq,
        sum_f_int, sum_f_int_sq, sum_f_int_weight, sum_weighted_f_int, sum_weighted_f_int_sq,
        first_ts, last_ts, last_xtrsrc, last_f_int, max_f_int, varmetric_band)
    SELECT r.id, bd, 1, 1, f.f_peak, f.f_peak ^ 2, 1 / f.f_peak_err ^ 2, f.f_peak / f.f_peak_err ^ 2,
           f.f_peak ^ 2 / f.f_peak_err ^ 2, f.f_int, f.f_int ^ 2, 1 / f.f_int_err ^ 2,
           f.f_int / f.f_int_err ^ 2, f.f_int ^ 2 / f.f_int_err ^ 2, f.ts, f.ts, f.id, f.f_int,
           f.f_int, true
    FROM fresh f JOIN skytrap.runningcatalog r ON r.xtrsrc = f.id ORDER BY r.id;
    INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int, eta_int,
                                        f_datapoints, taustart_ts)
    SELECT r.id, f.id, 4, 0, 0, 0, 0, 1, f.ts
    FROM fresh f JOIN skytrap.runningcatalog r ON r.xtrsrc = f.id ORDER BY r.id;
    INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
    SELECT r.id, f.skyrgn, skytrap.distance(f.centre_ra, f.centre_decl, f.ra, f.decl)
    FROM fresh f JOIN skytrap.runningcatalog r ON r.xtrsrc = f.id ORDER BY r.id;
END
$$;

-- The image to associate (n sources), a later visit of tile 1 in the same sky region.
CREATE FUNCTION bench.make_image(n integer, url text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    ds  integer := (SELECT id FROM skytrap.dataset WHERE description = 'associate benchmark');
    bd  integer := (SELECT id FROM skytrap.frequencyband WHERE dataset = ds);
    t   bench.tile := (SELECT t FROM bench.tile t WHERE id = 1);
    img integer;
BEGIN
    INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts, rb_smaj,
                               rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max,
                               detection_thresh, analysis_thresh)
    VALUES (ds, bd, t.skyrgn, 150e6, 2e6, timestamp '2025-06-01', 10 / 3600.0, 10 / 3600.0, 0,
            2 / 3600.0, 2 / 3600.0, url, 0.0002, 0.001, 8, 3)
    RETURNING id INTO img;
    -- The 0.9 n catalogue sources nearest the tile's centre, moved by up to 0.3 arcsec; every
    -- ninth of them also gives a new source half a grid step (90 arcsec) north of it.
    CREATE TEMP TABLE near ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY d, id) AS k, *
    FROM (SELECT x.id, x.ra, x.decl, x.f_int,
                 skytrap.distance(t.centre_ra, t.centre_decl, x.ra, x.decl) AS d
          FROM skytrap.extractedsource x WHERE x.image = t.image
          ORDER BY d, x.id LIMIT n * 9 / 10) s;
    INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                                         ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err,
                                         f_int, f_int_err)
    SELECT img, ra, decl, 0.1 / 3600, 0.1 / 3600, 0.5, 0.5, 0.5, f / 0.0003, f, 0.0003, f, 0.0003
    FROM (SELECT k, bench.norm_ra(ra + (random() - 0.5) * 0.4 / 3600 / cos(radians(decl))) AS ra,
                 decl + (random() - 0.5) * 0.4 / 3600 AS decl,
                 f_int * CASE WHEN random() < 0.01 THEN 3 ELSE 1 + 0.06 * (random() - 0.5) END AS f
          FROM near
          UNION ALL
          SELECT n + k, ra, decl + 0.025, 0.002 + 0.02 * random()
          FROM near WHERE k % 9 = 0) s
    ORDER BY k;
    RETURN img;
END
$$;

-- One committed association of an image, timed in the server (ms): what a loader waits for,
-- without psql's start.
CREATE FUNCTION bench.timed_associate(image integer) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM skytrap.associate_image(image);
    RETURN round((1000 * extract(epoch FROM clock_timestamp() - t0))::numeric, 1);
END
$$;

-- k earlier visits of tile 1 in its sky region and band, hourly in the days before the
-- benchmark's images (inside alert packets' 30-day window), that saw nothing new (no
-- sources): a field observed many times, as a survey's are, so that what reads a region's
-- images is timed too, and each new source's alert carries its upper limits.
CREATE FUNCTION bench.visits(k integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts, rb_smaj,
                               rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max,
                               detection_thresh, analysis_thresh, associated_at)
    SELECT i.dataset, i.band, i.skyrgn, i.freq_eff, i.freq_bw,
           timestamp '2025-05-27' + v * interval '1 hour', i.rb_smaj, i.rb_smin, i.rb_pa,
           i.deltax, i.deltay, 'visit-' || v, i.rms_min, i.rms_max, i.detection_thresh,
           i.analysis_thresh, now()
    FROM bench.tile t JOIN skytrap.image i ON i.id = t.image, generate_series(1, k) v
    WHERE t.id = 1
    ORDER BY v;
$$;

-- The benchmark's image of n sources (bench.make_image) as the loader delivers it: every
-- hundredth source that matches a catalogue source is seen as two, 2 arcsec east and west
-- of it (a fork of that lightcurve), and the image carries a forced fit at every
-- lightcurve skytrap.forced_fit_targets lists (all of tile 1's), most of which a blind
-- detection makes redundant.
CREATE FUNCTION bench.make_loaded_image(n integer, url text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    img integer := bench.make_image(n, url);
BEGIN
    WITH split AS (
        SELECT x.id, x.ra, x.decl
        FROM skytrap.extractedsource x
        WHERE x.image = img
          AND EXISTS (SELECT 1 FROM skytrap.runningcatalog r
                      WHERE skytrap.xmatch(r.wm_ra, r.wm_decl, x.ra, x.decl, 1 / 3600.0))
          AND x.id % 100 = 0),
    gone AS (DELETE FROM skytrap.extractedsource x USING split s WHERE x.id = s.id)
    INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                                         ns_sys_err, error_radius, det_sigma, f_peak,
                                         f_peak_err, f_int, f_int_err)
    SELECT img, bench.norm_ra(s.ra + side * 2 / 3600.0 / cos(radians(s.decl))), s.decl,
           0.1 / 3600, 0.1 / 3600, 0.5, 0.5, 0.5, 20, 0.006, 0.0003, 0.006, 0.0003
    FROM split s, (VALUES (-1), (1)) AS v(side)
    ORDER BY s.id, side;
    INSERT INTO skytrap.extractedsource (image, ff_runcat, ra, decl, ra_fit_err, decl_fit_err,
                                         ew_sys_err, ns_sys_err, error_radius, det_sigma,
                                         f_peak, f_peak_err, f_int, f_int_err, extract_type)
    SELECT img, f.runcat, f.ra, f.decl, 0, 0, 0.5, 0.5, 0.5, 3, 0.001, 0.0003, 0.001, 0.0003, 1
    FROM skytrap.forced_fit_targets(img) f
    WHERE f.monitor IS NULL
    ORDER BY f.runcat;
    RETURN img;
END
$$;
