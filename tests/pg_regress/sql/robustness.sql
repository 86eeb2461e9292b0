-- Robustness: every function of schema skytrap against hostile input (NULL, NaN,
-- ±Infinity, RA outside [0, 360), |decl| > 90, negative and huge radii, empty input), and
-- the markings PostgreSQL trusts (volatility, strictness, parallel safety).
-- sky.sql and xmatch.sql hold the ordinary results; what they already pin is not repeated.
DROP EXTENSION skytrap CASCADE;
CREATE EXTENSION skytrap;
\set VERBOSITY terse

-- The markings. provolatile: i immutable, s stable, v volatile; proparallel: s safe,
-- r restricted, u unsafe. Why each is true:
--   * the geometry, pixel-key, statistics, time-text (utc) and operator-class functions are
--     pure functions of their arguments: IMMUTABLE, PARALLEL SAFE (cone_pixels and pixel_near keep a
--     per-backend cache of the last cone, which changes how a cone is read, never which
--     positions it holds);
--   * the SQL predicates (xmatch, in_cone, deruiter_xmatch, in_ellipse, in_polygon) are not
--     STRICT so that PostgreSQL can inline them into the query, which is what lets an index
--     answer them; xmatch_keys is not STRICT so that a position without a pixel key is false;
--     lightcurve_stats_add is not STRICT because it skips NULL measurements itself;
--   * forced_fit_targets, alert_candidates, alert_bodies, alert_body, check_integrity and
--     lightcurve_violations only read tables: STABLE;
--   * associate_image, lock_dataset, fork_lightcurves, forget_rejected_image,
--     frequencyband_for, skyregion_for and the trigger functions write (or lock):
--     VOLATILE, PARALLEL UNSAFE.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments, p.prokind,
       p.provolatile, p.proisstrict, p.proparallel
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'skytrap'
ORDER BY p.proname, arguments;

-- The hostile values, substituted below into one argument at a time of a call whose
-- other arguments are ordinary.
CREATE TEMP TABLE hostile (n integer, label text, v double precision);
INSERT INTO hostile VALUES (1, 'NULL', NULL), (2, 'NaN', 'NaN'), (3, '+Inf', 'Infinity'),
                           (4, '-Inf', '-Infinity');

-- distance and position_angle: STRICT, so NULL gives NULL; any NaN or infinite coordinate
-- gives NaN (sin and cos of an infinite angle are NaN; an infinite declination is off the
-- sphere).
SELECT h.label,
       skytrap.distance(h.v, 0, 1, 1) AS ra1, skytrap.distance(0, h.v, 1, 1) AS dec1,
       skytrap.distance(0, 0, h.v, 1) AS ra2, skytrap.distance(0, 0, 1, h.v) AS dec2
FROM hostile h ORDER BY h.n;
SELECT h.label,
       skytrap.position_angle(h.v, 0, 1, 1) AS ra1, skytrap.position_angle(0, h.v, 1, 1) AS dec1,
       skytrap.position_angle(0, 0, h.v, 1) AS ra2, skytrap.position_angle(0, 0, 1, h.v) AS dec2
FROM hostile h ORDER BY h.n;
-- Out of range: RA is taken modulo 360 (-10 and 350, 370 and 10 are the same meridian);
-- a declination beyond ±90 is NaN, even by a hair; the poles themselves are positions
-- (pole to pole is 180 whatever the RAs).
SELECT skytrap.distance(-10, 0, 350, 0) AS same_ra, skytrap.distance(370, 20, 10, 20) AS same_ra_too,
       skytrap.distance(0, 90.000001, 0, 0) AS beyond_north, skytrap.distance(0, 0, 0, -90.5) AS beyond_south,
       round(skytrap.distance(12, -90, 250, 90)::numeric, 9) AS pole_to_pole;
-- East across RA 0 written as -0.1 → 0.1; the same point is 0 by definition; off the
-- sphere NaN.
SELECT round(skytrap.position_angle(-0.1, 0, 0.1, 0)::numeric, 9) AS east,
       skytrap.position_angle(-10, 20, 350, 20) AS same_point,
       skytrap.position_angle(0, 0, 0, 91) AS beyond_pole;

-- alpha(theta, dec): NaN for a radius that is NaN or negative (there is no cone) and for a
-- declination that is NaN, infinite or beyond ±90; 180 (all RAs) once |dec| + theta > 89.9,
-- an infinite radius included; alpha(0, 0) = atan(sin 0 / 1) = 0.
SELECT h.label, skytrap.alpha(h.v, 0) AS theta, skytrap.alpha(0.01, h.v) AS dec
FROM hostile h ORDER BY h.n;
SELECT skytrap.alpha(-0.01, 0) AS negative_radius, skytrap.alpha(-1, 89.5) AS negative_near_pole,
       skytrap.alpha(0.01, 90.5) AS beyond_pole, skytrap.alpha(0, 90) AS at_pole,
       skytrap.alpha(180, 0) AS half_sky, skytrap.alpha(1e300, -45) AS huge, skytrap.alpha(0, 0) AS zero;

-- de_ruiter: 3" apart in declination with 1" errors on each side, r = 3/√2 = 2.1213.
-- NaN or infinite coordinates and NaN or negative uncertainties give NaN. An infinite
-- uncertainty makes its axis count 0: east-west, the declination offset alone is still
-- 2.1213; north-south, there is no RA offset either, so 0.
SELECT h.label,
       round(skytrap.de_ruiter(h.v, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0)::numeric, 4) AS ra1,
       round(skytrap.de_ruiter(10, h.v, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0)::numeric, 4) AS decl1,
       round(skytrap.de_ruiter(10, 20, h.v, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0)::numeric, 4) AS unc_ew1,
       round(skytrap.de_ruiter(10, 20, 1 / 3600.0, h.v, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0)::numeric, 4) AS unc_ns1,
       round(skytrap.de_ruiter(10, 20, 1 / 3600.0, 1 / 3600.0, h.v, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0)::numeric, 4) AS ra2,
       round(skytrap.de_ruiter(10, 20, 1 / 3600.0, 1 / 3600.0, 10, h.v, 1 / 3600.0, 1 / 3600.0)::numeric, 4) AS decl2,
       round(skytrap.de_ruiter(10, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, h.v, 1 / 3600.0)::numeric, 4) AS unc_ew2,
       round(skytrap.de_ruiter(10, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, h.v)::numeric, 4) AS unc_ns2
FROM hostile h ORDER BY h.n;
-- RA wraps (-0.0001 and 359.9999 are the same, so only the 3" remain); a declination
-- beyond 90 and a negative uncertainty are NaN; with no uncertainty at all, an offset is
-- infinitely significant, and no offset is 0/0.
SELECT round(skytrap.de_ruiter(-0.0001, 20, 1 / 3600.0, 1 / 3600.0, 359.9999, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0)::numeric, 4) AS wrapped,
       skytrap.de_ruiter(10, 90.5, 1, 1, 10, 89, 1, 1) AS beyond_pole,
       skytrap.de_ruiter(10, 20, -1, 1, 10, 20, 1, 1) AS negative_uncertainty,
       skytrap.de_ruiter(10, 20, 0, 0, 11, 21, 0, 0) AS exact_and_apart,
       skytrap.de_ruiter(10, 20, 0, 0, 10, 20, 0, 0) AS exact_and_together;

-- two_epoch_vs and two_epoch_m: 2 ± 0.1 then 1 ± 0.1 gives Vs = 1/√0.02 = 7.0711 and
-- m = 2·1/3 = 0.6667. Anything but finite fluxes and finite, non-negative errors is not a
-- measurement: NaN.
SELECT h.label,
       skytrap.two_epoch_vs(h.v, 0.1, 1, 0.1) AS f_a, skytrap.two_epoch_vs(2, h.v, 1, 0.1) AS err_a,
       skytrap.two_epoch_vs(2, 0.1, h.v, 0.1) AS f_b, skytrap.two_epoch_vs(2, 0.1, 1, h.v) AS err_b,
       skytrap.two_epoch_m(h.v, 1) AS m_f_a, skytrap.two_epoch_m(2, h.v) AS m_f_b
FROM hostile h ORDER BY h.n;
-- Equal fluxes do not vary: 0, even with zero errors or zero fluxes (not 0/0). Different
-- fluxes with zero errors: infinitely significant. Through zero (1 then -1): m = 4/0.
SELECT round(skytrap.two_epoch_vs(2, 0.1, 1, 0.1)::numeric, 4) AS vs, round(skytrap.two_epoch_m(2, 1)::numeric, 4) AS m,
       skytrap.two_epoch_vs(1, 0, 1, 0) AS vs_equal_exact, skytrap.two_epoch_m(0, 0) AS m_both_zero,
       skytrap.two_epoch_vs(2, 0, 1, 0) AS vs_exact, skytrap.two_epoch_vs(2, -0.1, 1, 0.1) AS vs_negative_error,
       skytrap.two_epoch_m(1, -1) AS m_through_zero;

-- pixel: NULL for no position (NULL, NaN, infinite, beyond the poles); RA modulo 360; the
-- poles have keys.
SELECT h.label, skytrap.pixel(h.v, 0) AS ra, skytrap.pixel(0, h.v) AS decl FROM hostile h ORDER BY h.n;
SELECT skytrap.pixel(-10, 20) = skytrap.pixel(350, 20) AS negative_ra, skytrap.pixel(360, 20) = skytrap.pixel(0, 20) AS ra_360,
       skytrap.pixel(0, 90) IS NOT NULL AND skytrap.pixel(0, -90) IS NOT NULL AS poles,
       skytrap.pixel(0, 90.0000001) IS NULL AS beyond_pole;

-- cone_pixels: how many key ranges. No centre or no radius (NaN, infinite centre,
-- negative radius): none; an infinite radius: the one range of the whole sky. (The exact
-- ranges depend on what the backend has read before, so only what they hold is shown.)
SELECT h.label, cardinality(skytrap.cone_pixels(h.v, 20, 0.01)) AS ra,
       cardinality(skytrap.cone_pixels(10, h.v, 0.01)) AS decl,
       cardinality(skytrap.cone_pixels(10, 20, h.v)) AS radius
FROM hostile h ORDER BY h.n;
SELECT skytrap.cone_pixels(10, 20, 'Infinity') = skytrap.cone_pixels(10, 20, 180) AS infinite_is_whole_sky,
       skytrap.pixel(10, 20) OPERATOR(skytrap.#=) ANY (skytrap.cone_pixels(-350, 20, 0.001)) AS negative_ra_centre,
       skytrap.pixel(10, 20) OPERATOR(skytrap.#=) ANY (skytrap.cone_pixels(10, 20, 0)) AS zero_radius_holds_centre,
       skytrap.pixel(77, 90) OPERATOR(skytrap.#=) ANY (skytrap.cone_pixels(0, 89.9999, 0.001)) AS across_the_pole,
       cardinality(skytrap.cone_pixels(10, 90.5, 1)) AS beyond_pole;
-- The operator-class functions: an empty range sorts after every key and range; #~ never
-- drops a key for a cone with no ranges (the range test, not #~, ends a scan).
SELECT skytrap.pixel_range_cmp(5, 'empty') AS key_vs_empty, skytrap.pixel_ranges_cmp('empty', '[1,2)') AS empty_vs_range,
       skytrap.pixel_ranges_cmp('empty', 'empty') AS empty_vs_empty, skytrap.pixel_circle_cmp(5, circle(point(0, 0), 1)) AS circle_cmp,
       skytrap.pixel_near(skytrap.pixel(10, 20), circle(point(10, 'NaN'), 1)) AS nan_circle,
       skytrap.pixel_in(NULL, '[1,2)') IS NULL AS strict;

-- xmatch and in_cone: 3.6" apart, radius 0.01 degrees: true. NULL gives NULL; a NaN or
-- infinite coordinate is false; a NaN or negative radius is false; an infinite radius holds
-- every position on the sky.
SELECT h.label,
       skytrap.xmatch(h.v, 20, 10, 20.001, 0.01) AS ra1, skytrap.xmatch(10, h.v, 10, 20.001, 0.01) AS decl1,
       skytrap.xmatch(10, 20, h.v, 20.001, 0.01) AS ra2, skytrap.xmatch(10, 20, 10, h.v, 0.01) AS decl2,
       skytrap.xmatch(10, 20, 10, 20.001, h.v) AS radius,
       skytrap.in_cone(h.v, 20, 10, 20.001, 0.01) AS cone_ra, skytrap.in_cone(10, 20, 10, 20.001, h.v) AS cone_radius
FROM hostile h ORDER BY h.n;
-- Radii: (190, -20) is the antipode of (10, 20), exactly 180 away: inside a radius of 180
-- (or more), outside 179.99; a radius of 0 holds the centre only.
SELECT skytrap.in_cone(190, -20, 10, 20, 180) AS antipode_180, skytrap.in_cone(190, -20, 10, 20, 1e300) AS antipode_huge,
       skytrap.in_cone(190, -20, 10, 20, 179.99) AS antipode_179,
       skytrap.in_cone(10, 20, 370, 20, 0) AS zero_radius_centre, skytrap.in_cone(10, 20.0000001, 10, 20, 0) AS zero_radius_off,
       skytrap.xmatch(10, 91, 10, 91, 1) AS both_beyond_pole, skytrap.xmatch(10, -90, 190, -90, 1 / 3.6e6) AS south_pole_any_ra;
-- The same through an index, with an infinite, a NaN and a NULL radius, and NaN rows.
CREATE TEMP TABLE sky (id integer, ra double precision, decl double precision);
INSERT INTO sky VALUES (1, 10, 20), (2, 190, -20), (3, 'NaN', 0), (4, 0, 'NaN'), (5, -350, 20.0005);
CREATE INDEX ON sky (skytrap.pixel(ra, decl) skytrap.pixel_ops);
SET enable_seqscan = off;
SELECT 'Infinity' AS radius, array_agg(id ORDER BY id) FROM sky WHERE skytrap.in_cone(ra, decl, 10, 20, 'Infinity')
UNION ALL
SELECT 'NaN', array_agg(id ORDER BY id) FROM sky WHERE skytrap.in_cone(ra, decl, 10, 20, 'NaN')
UNION ALL
SELECT 'NULL', array_agg(id ORDER BY id) FROM sky WHERE skytrap.in_cone(ra, decl, 10, 20, NULL)
UNION ALL
SELECT '0.001', array_agg(id ORDER BY id) FROM sky WHERE skytrap.in_cone(ra, decl, 370, 20, 0.001);
RESET enable_seqscan;
-- Cross-matching an empty table finds nothing; NOT of a NaN position is true, not NULL.
SELECT count(*) FROM sky s JOIN (SELECT * FROM sky WHERE false) e ON skytrap.xmatch(s.ra, s.decl, e.ra, e.decl, 180);
SELECT id, NOT skytrap.in_cone(ra, decl, 10, 20, 1) AS outside FROM sky ORDER BY id;

-- deruiter_xmatch: the 3" pair above with r = 2.1213 < 5.68, inside 60": true. NaN or
-- infinite coordinates, NaN or negative uncertainties, NaN or negative r_max or radius:
-- false. An infinite uncertainty still matches (r = 2.1213 or 0, see de_ruiter), an
-- infinite r_max or radius too. NULL: NULL where the rest holds.
SELECT h.label,
       skytrap.deruiter_xmatch(h.v, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS ra1,
       skytrap.deruiter_xmatch(10, h.v, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS decl1,
       skytrap.deruiter_xmatch(10, 20, h.v, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS unc_ew1,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, h.v, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS unc_ns1,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, 1 / 3600.0, h.v, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS ra2,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, 1 / 3600.0, 10, h.v, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS decl2,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, h.v, 1 / 3600.0, 5.68, 60 / 3600.0) AS unc_ew2,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, h.v, 5.68, 60 / 3600.0) AS unc_ns2,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, h.v, 60 / 3600.0) AS r_max,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, h.v) AS radius
FROM hostile h ORDER BY h.n;
SELECT skytrap.deruiter_xmatch(10, 20, -1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS negative_uncertainty,
       skytrap.deruiter_xmatch(10, 20, 1 / 3600.0, 1 / 3600.0, 10, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, -1, 60 / 3600.0) AS negative_r_max,
       skytrap.deruiter_xmatch(-350, 20, 1 / 3600.0, 1 / 3600.0, 370, 20 + 3 / 3600.0, 1 / 3600.0, 1 / 3600.0, 5.68, 60 / 3600.0) AS ra_wraps;

-- in_ellipse: (10, 20.4) is 0.4 north of the centre (10, 20), on the major axis of a
-- 1 × 0.5 ellipse at PA 0: (0.4/1)² = 0.16 <= 1, inside. NaN or infinite coordinates,
-- NaN or negative semi-axes, NaN or infinite position angles: false. An infinite semi-axis
-- is an infinitely long ellipse (still inside). A NULL axis or angle: NULL, since the
-- point is within the larger axis.
SELECT h.label,
       skytrap.in_ellipse(h.v, 20.4, 10, 20, 1, 0.5, 0) AS ra, skytrap.in_ellipse(10, h.v, 10, 20, 1, 0.5, 0) AS decl,
       skytrap.in_ellipse(10, 20.4, h.v, 20, 1, 0.5, 0) AS ra0, skytrap.in_ellipse(10, 20.4, 10, h.v, 1, 0.5, 0) AS decl0,
       skytrap.in_ellipse(10, 20.4, 10, 20, h.v, 0.5, 0) AS smaj, skytrap.in_ellipse(10, 20.4, 10, 20, 1, h.v, 0) AS smin,
       skytrap.in_ellipse(10, 20.4, 10, 20, 1, 0.5, h.v) AS pa
FROM hostile h ORDER BY h.n;
-- smaj is the axis along pa even when it is the shorter: 0.5 along PA 90 and 1 across
-- holds 0.9 north ((0.9/1)² = 0.81) but not 0.6 east ((0.6/0.5)² = 1.44; at declination 0
-- RA and arc agree). Bad axes hold nothing, not even the centre; zero axes hold the centre
-- only. RA wraps.
SELECT skytrap.in_ellipse(100, 0.9, 100, 0, 0.5, 1, 90) AS north_across, skytrap.in_ellipse(100.6, 0, 100, 0, 0.5, 1, 90) AS east_along,
       skytrap.in_ellipse(10, 20, 10, 20, -1, 0.5, 0) AS negative_smaj_centre, skytrap.in_ellipse(10, 20, 10, 20, 1, -0.5, 0) AS negative_smin_centre,
       skytrap.in_ellipse(10, 20, 10, 20, 0, 0, 0) AS zero_centre, skytrap.in_ellipse(10, 20.001, 10, 20, 0, 0, 0) AS zero_off,
       skytrap.in_ellipse(-350, 20.4, 370, 20, 1, 0.5, 0) AS ra_wraps, skytrap.in_ellipse(10, 91, 10, 90, 2, 2, 0) AS beyond_pole;

-- Polygons. Not a polygon (polygon_cone NULL, in_polygon false): empty, odd length, a NULL
-- element, a NaN, infinite or beyond-the-pole vertex, three vertices spread around the
-- equator (the unit vectors cancel: no hemisphere holds them).
SELECT label, skytrap.polygon_cone(polygon) IS NULL AS not_a_polygon, skytrap.in_polygon(0.2, 0.2, polygon) AS in_polygon,
       skytrap.in_polygon_exact(0.2, 0.2, polygon) AS exact
FROM (VALUES ('empty', '{}'::float8[]), ('odd', '{0,0,1,0,0}'), ('null element', '{0,0,1,0,NULL,1}'),
             ('NaN vertex', '{0,0,1,0,NaN,1}'), ('infinite vertex', '{0,0,Infinity,0,0,1}'),
             ('beyond the pole', '{0,0,1,0,0,91}'), ('around the equator', '{0,0,120,0,240,0}'),
             ('two vertices', '{0,0,1,0}')) AS t(label, polygon);
-- The triangle (0, 0), (1, 0), (0, 1) holds (0.2, 0.2) but not (0.6, 0.6) (0.6 + 0.6 > 1;
-- the great-circle edge bulges by ~1e-5 degrees only), written flat, as {{ra, dec}, ...}
-- rows, or with RAs out of [0, 360).
SELECT skytrap.in_polygon(0.2, 0.2, '{0,0,1,0,0,1}') AS flat, skytrap.in_polygon(0.2, 0.2, '{{0,0},{1,0},{0,1}}') AS rows,
       skytrap.in_polygon(0.6, 0.6, '{{0,0},{1,0},{0,1}}') AS outside, skytrap.in_polygon(360.2, 0.2, '{-360,0,361,0,720,1}') AS ra_wraps;
-- The point: NULL gives NULL; NaN, infinite or beyond the pole is false.
SELECT h.label, skytrap.in_polygon(h.v, 0.2, '{0,0,1,0,0,1}') AS ra, skytrap.in_polygon(0.2, h.v, '{0,0,1,0,0,1}') AS decl,
       skytrap.in_polygon_exact(h.v, 0.2, '{0,0,1,0,0,1}') AS exact_ra
FROM hostile h ORDER BY h.n;
SELECT skytrap.in_polygon(0, 91, '{0,80,120,80,240,80}') AS beyond_pole, skytrap.in_polygon(0, 90, '{0,80,120,80,240,80}') AS pole,
       skytrap.in_polygon(0, 0, NULL) IS NULL AS null_polygon;

-- lightcurve_stats. Fluxes 1, 2, 3 with errors 0.1, 0.1, 0.2: mean 2, sample sd 1, V = 0.5;
-- weights 100, 100, 25 give ξ = 375/225 = 5/3 and Σw(I − ξ)² = 400/9 + 100/9 + 400/9 =
-- 100, η = 100/2 = 50. The other rows are not measurements and are skipped: NULL, NaN and
-- infinite fluxes; NULL, NaN, infinite, zero and negative errors.
CREATE TEMP TABLE points (lc text, flux double precision, err double precision);
INSERT INTO points VALUES
    ('A', 1, 0.1), ('A', 2, 0.1), ('A', 3, 0.2),
    ('A', NULL, 0.1), ('A', 'NaN', 0.1), ('A', 'Infinity', 0.1), ('A', '-Infinity', 0.1),
    ('A', 5, NULL), ('A', 5, 'NaN'), ('A', 5, 'Infinity'), ('A', 5, 0), ('A', 5, -0.1),
    ('B', 'NaN', 0.1), ('B', 4, 0), ('B', NULL, NULL),
    ('C', -2, 0.5);
SELECT lc, s.datapoints, s.avg_flux, round(s.weighted_avg_flux::numeric, 9) AS weighted_avg_flux, s.max_flux, s.min_flux,
       round(s.v::numeric, 9) AS v, round(s.eta::numeric, 9) AS eta
FROM (SELECT lc, skytrap.lightcurve_stats(flux, err) AS s FROM points GROUP BY lc) g, LATERAL (SELECT (g.s).*) s
ORDER BY lc;
-- Over zero rows: 0 points, everything else NULL (not NaN, not ±Infinity).
SELECT (skytrap.lightcurve_stats(flux, err)).* FROM points WHERE false;
-- Its support functions, called directly. The state is {n, Σf, Σf², Σw, Σwf, Σwf², max,
-- min}; 2 ± 0.5 (w = 4) adds {1, 2, 4, 4, 8, 16, 2, 2} to the empty state. Any state that
-- is not eight numbers (NULL, a NULL element, another length) is the empty state.
SELECT skytrap.lightcurve_stats_add(NULL, 2, 0.5) AS null_state,
       skytrap.lightcurve_stats_add('{1,2,NULL,4,5,6,7,8}', 2, 0.5) AS null_element,
       skytrap.lightcurve_stats_add('{}', 2, 0.5) AS empty,
       skytrap.lightcurve_stats_add('{0,0,0,0,0,0,-Infinity,Infinity}', NULL, 0.5) AS skipped;
SELECT skytrap.lightcurve_stats_combine('{}', '{1,2,4,4,8,16,2,2}') AS combined,
       skytrap.lightcurve_stats_v('{}') AS v_empty, skytrap.lightcurve_stats_eta('{1,NULL}') AS eta_bad,
       skytrap.lightcurve_stats_v(NULL) IS NULL AS v_strict;
SELECT (skytrap.lightcurve_stats_final('{}')).*;
SELECT (skytrap.lightcurve_stats_final('{1,2,4,4,8,16,2,2}')).*;

-- The writers. frequencyband_for and skyregion_for: NULL in, NULL out; values no band or
-- region can be made of are errors, as is a dataset that does not exist.
INSERT INTO skytrap.dataset (description) VALUES ('robust');
SELECT skytrap.frequencyband_for(NULL, 150e6, 1e6) IS NULL AS null_dataset,
       skytrap.frequencyband_for(d.id, NULL, 1e6) IS NULL AS null_freq,
       skytrap.frequencyband_for(d.id, 150e6, NULL) IS NULL AS null_bw
FROM skytrap.dataset d;
SELECT skytrap.frequencyband_for(id, 'NaN', 1e6) FROM skytrap.dataset;
SELECT skytrap.frequencyband_for(id, 'Infinity', 1e6) FROM skytrap.dataset;
SELECT skytrap.frequencyband_for(id, 150e6, 'NaN') FROM skytrap.dataset;
SELECT skytrap.frequencyband_for(id, 150e6, -1e6) FROM skytrap.dataset;
SELECT skytrap.frequencyband_for(-1, 150e6, 1e6);
-- lock_dataset: NULL is no call; a dataset that does not exist is an error; an existing
-- one is locked (its row, held to the end of the transaction).
SELECT skytrap.lock_dataset(NULL) IS NULL AS null_dataset;
SELECT skytrap.lock_dataset(-1);
SELECT skytrap.lock_dataset(id) FROM skytrap.dataset;
-- A zero bandwidth is a band of one frequency, and the same frequency finds it again.
SELECT skytrap.frequencyband_for(id, 120e6, 0) = skytrap.frequencyband_for(id, 120e6, 0) AS same_band FROM skytrap.dataset;
SELECT skytrap.skyregion_for(NULL, 10, 0, 1) IS NULL AS null_dataset,
       skytrap.skyregion_for(d.id, NULL, 0, 1) IS NULL AS null_ra
FROM skytrap.dataset d;
SELECT skytrap.skyregion_for(id, 'NaN', 0, 1) FROM skytrap.dataset;
SELECT skytrap.skyregion_for(id, 'Infinity', 0, 1) FROM skytrap.dataset;
SELECT skytrap.skyregion_for(id, 10, 90.5, 1) FROM skytrap.dataset;
SELECT skytrap.skyregion_for(id, 10, 0, -1) FROM skytrap.dataset;
SELECT skytrap.skyregion_for(id, 10, 0, 'NaN') FROM skytrap.dataset;
SELECT skytrap.skyregion_for(-1, 10, 0, 1);
-- RA is taken modulo 360: -10, 350 and 710 are one region, centred on 350; -1e-20 is 0
-- (not 360, which the table refuses).
-- (A statement does not see rows its own function calls add, hence the temporary table.)
CREATE TEMP TABLE regions AS
SELECT ra, skytrap.skyregion_for(d.id, ra, 0, 1) AS region
FROM skytrap.dataset d, (VALUES (1, -10), (2, 350), (3, 710), (4, -1e-20)) AS v(n, ra) ORDER BY n;
SELECT r.ra, r.region, s.centre_ra FROM regions r JOIN skytrap.skyregion s ON s.id = r.region ORDER BY r.ra;
-- A footprint that is no polygon within a hemisphere is an error. The same footprint finds
-- its region again; another footprint, or none, makes another region. A region covers
-- what its circle and its footprint both hold: a square's corner, not what lies past its
-- edge inside the circle (which a region without a footprint covers).
SELECT skytrap.skyregion_for(id, 10, 0, 1, '{10,0,11,0}') FROM skytrap.dataset;
SELECT skytrap.skyregion_for(id, 10, 0, 1, '{10,0,11,0,NaN,1}') FROM skytrap.dataset;
CREATE TEMP TABLE squares AS
SELECT n, skytrap.skyregion_for(d.id, 20, 0, 0.75, f) AS region
FROM skytrap.dataset d,
     (VALUES (1, '{19.5,-0.5,20.5,-0.5,20.5,0.5,19.5,0.5}'::float8[]),
             (2, '{19.5,-0.5,20.5,-0.5,20.5,0.5,19.5,0.5}'),
             (3, '{19.6,-0.5,20.5,-0.5,20.5,0.5,19.5,0.5}'),
             (4, NULL)) AS v(n, f)
ORDER BY n;
SELECT n, region - min(region) OVER () AS region FROM squares ORDER BY n;
SELECT q.n, p.label, skytrap.skyregion_covers(s, p.ra, p.decl) AS covers
FROM squares q JOIN skytrap.skyregion s ON s.id = q.region,
     (VALUES (1, 'centre', 20, 0), (2, 'corner', 20.45, 0.45), (3, 'past the edge', 20.6, 0),
             (4, 'past the circle', 20.8, 0)) AS p(k, label, ra, decl)
WHERE q.n IN (1, 4)
ORDER BY q.n, p.k;

-- Two images of one field: 'empty' has no sources, 'rejected' is rejected.
INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts, rb_smaj, rb_smin, rb_pa,
                           deltax, deltay, url, rms_min, rms_max, detection_thresh)
SELECT d.id, skytrap.frequencyband_for(d.id, 150e6, 1e6), skytrap.skyregion_for(d.id, 10, 0, 1), 150e6, 1e6,
       timestamp '2026-01-01' + n * interval '1 day', 0.01, 0.01, 0, 0.001, 0.001, u, 0.01, 0.01, 8
FROM skytrap.dataset d, (VALUES (1, 'empty'), (2, 'rejected')) AS i(n, u);
INSERT INTO skytrap.rejection (image, rejectreason) SELECT id, 0 FROM skytrap.image WHERE url = 'rejected';
-- A NaN or infinite flux is refused when it is stored, so it never reaches association,
-- statistics or alert rules (where NaN, sorting above every number, would pass every
-- threshold).
INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err, ns_sys_err,
                                     error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
SELECT id, 10, 0, 0.0001, 0.0001, 1, 1, 1, 10, 1, 0.1, 'NaN', 0.1 FROM skytrap.image WHERE url = 'empty';
INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err, ns_sys_err,
                                     error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
SELECT id, 10, 0, 0.0001, 0.0001, 1, 1, 1, 10, '-Infinity', 0.1, 1, 0.1 FROM skytrap.image WHERE url = 'empty';

-- Before association: nothing to force-fit, nothing to alert on, for an existing image, a
-- missing one and NULL alike.
SELECT (SELECT count(*) FROM skytrap.forced_fit_targets(i.id)) AS targets,
       (SELECT count(*) FROM skytrap.forced_fit_targets(2147483647)) AS targets_missing,
       (SELECT count(*) FROM skytrap.forced_fit_targets(NULL)) AS targets_null,
       (SELECT count(*) FROM skytrap.alert_candidates(i.id)) AS candidates,
       (SELECT count(*) FROM skytrap.alert_candidates(2147483647)) AS candidates_missing,
       (SELECT count(*) FROM skytrap.alert_candidates(NULL)) AS candidates_null
FROM skytrap.image i WHERE i.url = 'empty';
-- associate_image: NULL is no call (STRICT: no row); an image with no sources is
-- associated with all counts 0 (and is then an upper limit for later images); a second
-- time, a missing image and a rejected image are errors.
SELECT * FROM skytrap.associate_image(NULL);
SELECT * FROM skytrap.associate_image((SELECT id FROM skytrap.image WHERE url = 'empty'));
SELECT url, associated_at IS NOT NULL AS associated FROM skytrap.image ORDER BY url;
SELECT * FROM skytrap.associate_image((SELECT id FROM skytrap.image WHERE url = 'empty'));
SELECT * FROM skytrap.associate_image(2147483647);
SELECT * FROM skytrap.associate_image((SELECT id FROM skytrap.image WHERE url = 'rejected'));
SELECT (SELECT count(*) FROM skytrap.runningcatalog) AS lightcurves, (SELECT count(*) FROM skytrap.alert) AS alerts;
-- forget_rejected_image: NULL is no call; an image that does not exist, or is not
-- rejected (the associated 'empty'), is refused; a rejected one goes with its rejection.
SELECT skytrap.forget_rejected_image(NULL) IS NULL AS null_image;
SELECT skytrap.forget_rejected_image(2147483647);
SELECT skytrap.forget_rejected_image(id) FROM skytrap.image WHERE url = 'empty';
BEGIN;
SELECT skytrap.forget_rejected_image(id) IS NOT NULL AS forgotten FROM skytrap.image WHERE url = 'rejected';
SELECT url FROM skytrap.image ORDER BY url;
SELECT count(*) AS rejections FROM skytrap.rejection;
ROLLBACK;
-- fork_lightcurves: NULL is no call; empty lists fork nothing; lists of different lengths
-- are an error (each new lightcurve takes over one old one).
SELECT skytrap.fork_lightcurves(NULL, '{}') IS NULL AS null_old,
       skytrap.fork_lightcurves('{}', NULL) IS NULL AS null_new,
       skytrap.fork_lightcurves('{}', '{}') IS NOT NULL AS empty;
SELECT skytrap.fork_lightcurves('{1,2}', '{3}');
-- alert_body of nothing is NULL: NULL or unknown ids.
SELECT skytrap.alert_body(NULL, NULL, NULL, NULL) IS NULL AS all_null,
       skytrap.alert_body('new_source', 9223372036854775807, 9223372036854775807, '{}') IS NULL AS unknown;
-- alert_bodies of nothing is no rows: a NULL or empty list, a NULL candidate, unknown ids.
SELECT (SELECT count(*) FROM skytrap.alert_bodies(NULL)) AS null_list,
       (SELECT count(*) FROM skytrap.alert_bodies('{}')) AS empty_list,
       (SELECT count(*) FROM skytrap.alert_bodies(ARRAY[NULL::skytrap.alert_candidate])) AS null_candidate,
       (SELECT count(*) FROM skytrap.alert_bodies(ARRAY[ROW('new_source', 9223372036854775807,
                                                            9223372036854775807, '{}')::skytrap.alert_candidate])) AS unknown;
