-- Cone search, cross-match, ellipses and polygons: results and defined edge cases.
CREATE TABLE stars (id int, ra float8, decl float8);
INSERT INTO stars VALUES
    (1, 10, 20), (2, 10, 20.001), (3, 10.01, 20), (4, 359.9999, 0), (5, 0.00012, 0),
    (6, 0, -90), (7, 180, -89.9999), (8, 'NaN', 0), (9, 10, NULL), (10, 370, 20.0005),
    (11, -350, 20.0005), (12, 190, -20);
CREATE INDEX ON stars (skytrap.pixel(ra, decl) skytrap.pixel_ops);

-- Cones: 5 arcsec around (10, 20) holds 1, 2 (3.6" north), 10 and 11 (1.8" north, RA
-- written as 370 and -350), not 3 (33.8" east).
SELECT array_agg(id ORDER BY id) FROM stars WHERE skytrap.in_cone(ra, decl, 10, 20, 5.0 / 3600);
-- RA outside [0, 360) is the same sky: 10 and 11 sit 1.8" from (10, 20).
SELECT array_agg(id ORDER BY id) FROM stars WHERE skytrap.in_cone(ra, decl, 370, 20, 5.0 / 3600);
-- Across RA 0/360 and at the south pole (7 is 0.36" from the pole).
SELECT array_agg(id ORDER BY id) FROM stars WHERE skytrap.in_cone(ra, decl, 0, 0, 1.0 / 3600);
SELECT array_agg(id ORDER BY id) FROM stars WHERE skytrap.in_cone(ra, decl, 123, -90, 1.0 / 3600);
-- A radius of 180 holds every valid position; NaN and NULL positions never match.
SELECT array_agg(id ORDER BY id) FROM stars WHERE skytrap.in_cone(ra, decl, 10, 20, 180);
-- Negative, NaN and NULL radii match nothing.
SELECT count(*) FROM stars WHERE skytrap.in_cone(ra, decl, 10, 20, -1);
SELECT count(*) FROM stars WHERE skytrap.in_cone(ra, decl, 10, 20, 'NaN');
SELECT count(*) FROM stars WHERE skytrap.in_cone(ra, decl, 10, 20, NULL);
-- A centre off the sphere matches nothing.
SELECT count(*) FROM stars WHERE skytrap.in_cone(ra, decl, 10, 95, 10);

-- The pixel key: NULL where there is no position.
SELECT skytrap.pixel(123.4, 56.7) >> 34 AS depth12_pixel, skytrap.pixel(483.4, 56.7) = skytrap.pixel(123.4, 56.7) AS ra_wraps,
       skytrap.pixel('NaN', 0) IS NULL AS nan_is_null, skytrap.pixel(0, 91) IS NULL AS beyond_pole_is_null;
-- Distance: NaN for a declination off the sphere.
SELECT skytrap.distance(0, 91, 0, 0) AS off_sphere;

-- Cross-match, either argument order, each pair with its distance.
CREATE TABLE image_sources (id int, ra float8, decl float8);
INSERT INTO image_sources VALUES (100, 10.0003, 20), (101, 0, 0), (102, 50, 50);
SELECT s.id, t.id, round((skytrap.distance(s.ra, s.decl, t.ra, t.decl) * 3600)::numeric, 3) AS arcsec
FROM image_sources s JOIN stars t ON skytrap.xmatch(s.ra, s.decl, t.ra, t.decl, 5.0 / 3600)
ORDER BY 1, 2;
SELECT s.id, t.id FROM image_sources s JOIN stars t ON skytrap.xmatch(t.ra, t.decl, s.ra, s.decl, 5.0 / 3600)
ORDER BY 1, 2;
-- A per-row radius.
SELECT s.id, count(t.id) FROM image_sources s
JOIN stars t ON skytrap.xmatch(s.ra, s.decl, t.ra, t.decl, CASE WHEN s.id = 100 THEN 60.0 / 3600 ELSE 1.0 / 3600 END)
GROUP BY s.id ORDER BY s.id;
-- TraP's criterion: 1 arcsec errors on each side; 3 is 33.8" away (r = 23.9) and fails.
SELECT t.id, round(skytrap.de_ruiter(10.0003, 20, 1.0 / 3600, 1.0 / 3600, t.ra, t.decl, 1.0 / 3600, 1.0 / 3600)::numeric, 3) AS r
FROM stars t WHERE skytrap.deruiter_xmatch(10.0003, 20, 1.0 / 3600, 1.0 / 3600, t.ra, t.decl, 1.0 / 3600, 1.0 / 3600, 5.68, 60.0 / 3600)
ORDER BY t.id;
-- Nearest neighbour: a LATERAL search within a radius, nearest first.
SELECT s.id, n.id AS nearest
FROM image_sources s
LEFT JOIN LATERAL (SELECT t.id FROM stars t
                   WHERE skytrap.in_cone(t.ra, t.decl, s.ra, s.decl, 60.0 / 3600)
                   ORDER BY skytrap.distance(t.ra, t.decl, s.ra, s.decl) LIMIT 1) n ON true
ORDER BY s.id;

-- Ellipse: 40" x 2" along PA 90 (east-west) centred between 1 and 3 holds both (16.9"
-- either side), and 10 and 11 (1.8" north: 0.178 + 0.81 = 0.99 <= 1), but not 2 (3.6" north).
SELECT array_agg(id ORDER BY id) FROM stars
WHERE skytrap.in_ellipse(ra, decl, 10.005, 20, 40.0 / 3600, 2.0 / 3600, 90);
-- Polygon: a square straddling RA 0/360, and a triangle around the south pole.
SELECT array_agg(id ORDER BY id) FROM stars
WHERE skytrap.in_polygon(ra, decl, ARRAY[359.99, -0.01, 0.01, -0.01, 0.01, 0.01, 359.99, 0.01]);
SELECT array_agg(id ORDER BY id) FROM stars
WHERE skytrap.in_polygon(ra, decl, ARRAY[0, -89, 120, -89, 240, -89]);
-- Not a polygon: odd length, two vertices.
SELECT skytrap.polygon_cone(ARRAY[1, 2, 3]::float8[]) IS NULL AS odd, skytrap.in_polygon_exact(0, 0, ARRAY[0, 0, 1, 1]) AS two_vertices;

-- The index serves cones and joins, in either argument order. (On twelve rows a sequential
-- scan is cheaper, so it is switched off here; tests/bench/xmatch.sh shows real sizes.)
CREATE FUNCTION pg_temp.plan_uses(query text, index text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line LIKE '%Index Scan %' || index || '%' THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;
SET enable_seqscan = off;
SELECT pg_temp.plan_uses('SELECT id FROM stars WHERE skytrap.in_cone(ra, decl, 10, 20, 0.001)', 'stars_pixel_idx') AS cone,
       pg_temp.plan_uses('SELECT 1 FROM image_sources s JOIN stars t ON skytrap.xmatch(s.ra, s.decl, t.ra, t.decl, 0.001)', 'stars_pixel_idx') AS join_indexed_second,
       pg_temp.plan_uses('SELECT 1 FROM image_sources s JOIN stars t ON skytrap.xmatch(t.ra, t.decl, s.ra, s.decl, 0.001)', 'stars_pixel_idx') AS join_indexed_first,
       pg_temp.plan_uses('SELECT 1 FROM skytrap.runningcatalog WHERE skytrap.in_cone(wm_ra, wm_decl, 10, 20, 0.001)', 'runningcatalog_pixel') AS runningcatalog;
RESET enable_seqscan;

-- The operators an index scan uses: a key in a key range (inclusive, exclusive, unbounded
-- and empty ranges), and a key whose position may be in a cone (circle: ra, decl, radius).
SELECT 5 OPERATOR(skytrap.#=) '[5,10)'::int8range AS lower_bound_in,
       9 OPERATOR(skytrap.#=) '[5,10)'::int8range AS last_in,
       10 OPERATOR(skytrap.#=) '[5,10)'::int8range AS upper_bound_out,
       5 OPERATOR(skytrap.#=) '(4,)'::int8range AS unbounded_in,
       5 OPERATOR(skytrap.#=) 'empty'::int8range AS empty_out;
SELECT skytrap.pixel(10, 20) OPERATOR(skytrap.#~) circle(point(10, 20.0002), 0.0003) AS near_in,
       skytrap.pixel(10, 20) OPERATOR(skytrap.#~) circle(point(10, 20.0002), 0.0001) AS near_out;
SELECT array_length(skytrap.cone_pixels(10, 20, 10 / 3600.0), 1) BETWEEN 1 AND 9 AS few_ranges,
       skytrap.cone_pixels(10, 20, -1) = '{}' AS negative_radius_none,
       skytrap.cone_pixels(10, 20, 180) AS whole_sky;
