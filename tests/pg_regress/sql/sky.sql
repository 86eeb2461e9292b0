-- Spherical geometry, degrees in and out. Expected values worked by hand.

-- Along a meridian the distance is the difference in declination.
SELECT round(skytrap.distance(10, 20, 10, 25)::numeric, 12) AS five_degrees;
-- Across RA 0/360 on the equator.
SELECT round(skytrap.distance(359.5, 0, 0.5, 0)::numeric, 12) AS one_degree;
-- Pole to equator, and antipodes.
SELECT skytrap.distance(123, 90, 7, 0) AS ninety, round(skytrap.distance(10, 30, 190, -30)::numeric, 9) AS one_eighty;
-- One milliarcsecond survives (the law of cosines returns 0 here).
SELECT round((skytrap.distance(0, 0, 0, 1 / 3.6e6) * 3.6e6)::numeric, 9) AS one_mas;
-- Position angles east of north: N, E, S, W, and east across RA 0.
SELECT skytrap.position_angle(10, 0, 10, 1) AS north,
       skytrap.position_angle(10, 0, 11, 0) AS east,
       skytrap.position_angle(10, 0, 10, -1) AS south,
       skytrap.position_angle(10, 0, 9, 0) AS west,
       round(skytrap.position_angle(359.9, 0, 0.1, 0)::numeric, 9) AS east_across_zero;
-- TraP's RA inflation: 1/cos(60°) = 2 for a small cone, 180 near the pole.
SELECT round((skytrap.alpha(0.01, 60) / 0.01)::numeric, 6) AS twice, skytrap.alpha(0.2, 89.8) AS saturated;
-- STRICT: NULL in, NULL out.
SELECT skytrap.distance(NULL, 0, 0, 0) IS NULL AS null_in_null_out;
