-- Cone search and cross-match. Every predicate here is a plain SQL function that PostgreSQL
-- inlines into the query (Q3C's pattern): a test of skytrap.pixel(ra, decl) against nine
-- key ranges, which an expression index on skytrap.pixel(ra, decl) answers, and then the
-- exact test. Index recipe for any table of positions:
--     CREATE INDEX ON my_catalogue (skytrap.pixel(ra, decl) skytrap.pixel_ops);
--     ANALYZE my_catalogue;

-- Comparisons of pixel keys. They are int8's own, but PostgreSQL rates "key >= value from
-- another row" as matching a third of the table, so a cross-match would never probe the
-- index. These operators are estimated like equality (1/number of distinct keys), which is
-- what a key range around one position really selects. The btree operator class makes an
-- index on skytrap.pixel(...) answer them.
CREATE OPERATOR skytrap.#< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8lt,
                            RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR skytrap.#<= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8le,
                             RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR skytrap.#= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8eq,
                            RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR skytrap.#>= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8ge,
                             RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR skytrap.#> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8gt,
                            RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR CLASS skytrap.pixel_ops FOR TYPE bigint USING btree AS
    OPERATOR 1 skytrap.#<,
    OPERATOR 2 skytrap.#<=,
    OPERATOR 3 skytrap.#=,
    OPERATOR 4 skytrap.#>=,
    OPERATOR 5 skytrap.#>,
    FUNCTION 1 btint8cmp(bigint, bigint);
-- Degrees in, degrees out. Defined behaviour (see tests/pg_regress/sql/xmatch.sql):
--   NULL anywhere gives NULL (so WHERE drops the row); NaN coordinates or |decl| > 90 match
--   nothing; RA is taken modulo 360; a negative or NaN radius matches nothing; a radius of
--   180 or more matches every valid position.

-- Is (ra, decl) within `radius` of (ra0, decl0)?
CREATE FUNCTION skytrap.in_cone(ra double precision, decl double precision,
                                ra0 double precision, decl0 double precision,
                                radius double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT ((skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 1) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 1))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 2) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 2))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 3) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 3))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 4) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 4))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 5) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 5))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 6) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 6))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 7) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 7))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 8) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 8))
         OR (skytrap.pixel(ra, decl) OPERATOR(skytrap.#>=) skytrap.pixel_range_lo(ra0, decl0, radius, 9) AND skytrap.pixel(ra, decl) OPERATOR(skytrap.#<=) skytrap.pixel_range_hi(ra0, decl0, radius, 9)))
       AND skytrap.distance(ra, decl, ra0, decl0) <= radius
$$;

-- Join predicate: are two positions within `radius` (which may come from either row)?
-- Each position is in the other's cone; stating both lets an index on either side's
-- skytrap.pixel serve, whatever the argument order.
CREATE FUNCTION skytrap.xmatch(ra1 double precision, decl1 double precision,
                               ra2 double precision, decl2 double precision,
                               radius double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.in_cone(ra2, decl2, ra1, decl1, radius)
       AND skytrap.in_cone(ra1, decl1, ra2, decl2, radius)
$$;

-- Join predicate with TraP's association criterion: within `radius` and with a De Ruiter
-- radius below r_max (uncertainties east-west and north-south, degrees).
CREATE FUNCTION skytrap.deruiter_xmatch(ra1 double precision, decl1 double precision,
                                        unc_ew1 double precision, unc_ns1 double precision,
                                        ra2 double precision, decl2 double precision,
                                        unc_ew2 double precision, unc_ns2 double precision,
                                        r_max double precision, radius double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.xmatch(ra1, decl1, ra2, decl2, radius)
       AND skytrap.de_ruiter(ra1, decl1, unc_ew1, unc_ns1, ra2, decl2, unc_ew2, unc_ns2) < r_max
$$;

-- Is (ra, decl) in the ellipse with semi-axes smaj >= smin and major axis at position angle
-- pa (east of north), centred on (ra0, decl0)?
CREATE FUNCTION skytrap.in_ellipse(ra double precision, decl double precision,
                                   ra0 double precision, decl0 double precision,
                                   smaj double precision, smin double precision,
                                   pa double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.in_cone(ra, decl, ra0, decl0, smaj)
       AND skytrap.in_ellipse_exact(ra, decl, ra0, decl0, smaj, smin, pa)
$$;

-- Is (ra, decl) in the polygon {ra1, dec1, ra2, dec2, ...} with great-circle edges
-- (at least 3 vertices, smaller than a hemisphere)?
CREATE FUNCTION skytrap.in_polygon(ra double precision, decl double precision,
                                   polygon double precision[])
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.in_cone(ra, decl, (skytrap.polygon_cone(polygon))[1],
                           (skytrap.polygon_cone(polygon))[2], (skytrap.polygon_cone(polygon))[3])
       AND skytrap.in_polygon_exact(ra, decl, polygon)
$$;

-- skytrap's own tables carry the index.
CREATE INDEX runningcatalog_pixel ON skytrap.runningcatalog (skytrap.pixel(wm_ra, wm_decl) skytrap.pixel_ops);
CREATE INDEX extractedsource_pixel ON skytrap.extractedsource (skytrap.pixel(ra, decl) skytrap.pixel_ops);
