-- Cone search and cross-match. Every predicate here is a plain SQL function that PostgreSQL
-- inlines into the query, ending in skytrap.xmatch_keys(pixel(ra1, decl1), pixel(ra2,
-- decl2), ra1, decl1, ra2, decl2, radius): the exact test, carrying both positions' pixel
-- keys so that an index on either side's key can answer it. Its planner support function
-- (extension/src/xmatch.rs) turns it into "key in one of the cone's key ranges", which a
-- btree reads in one plain index scan. Index recipe for any table of positions:
--     CREATE INDEX ON my_catalogue (skytrap.pixel(ra, decl) skytrap.pixel_ops);
--     ANALYZE my_catalogue;

-- The operator class. Comparisons of keys are int8's own under skytrap's names, so that the
-- index serves the predicates below but never an ORDER BY on the key (the btree reads the
-- key ranges below forwards only). Two more operators let one plain index scan answer a
-- cone: "key #= ANY(ranges)" positions the scan on each of the cone's key ranges (int8range,
-- #= meaning "inside"), and "key #~ circle" drops, from the keys read, those whose position
-- cannot be inside the cone, before their rows are fetched. Their functions are plain C
-- (extension/src/xmatch.rs): the btree calls them for every key.
-- The indexable key of a position: HEALPix nested index at depth 29 (0.4 mas); NULL for a
-- NaN or infinite coordinate or |decl| > 90.
CREATE FUNCTION skytrap.pixel(ra double precision, decl double precision) RETURNS bigint
    AS 'MODULE_PATHNAME', 'pixel_wrapper' LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE COST 100;
-- The exact test at the end of every predicate below, carrying both positions' keys.
CREATE FUNCTION skytrap.xmatch_keys(key1 bigint, key2 bigint,
                                    ra1 double precision, decl1 double precision,
                                    ra2 double precision, decl2 double precision,
                                    radius double precision) RETURNS boolean
    AS 'MODULE_PATHNAME', 'xmatch_keys_wrapper' LANGUAGE c IMMUTABLE PARALLEL SAFE COST 50
    SUPPORT skytrap.xmatch_keys_support;
-- The key ranges that hold every position within radius degrees of (ra, decl).
CREATE FUNCTION skytrap.cone_pixels(ra double precision, decl double precision,
                                    radius double precision) RETURNS int8range[]
    AS 'MODULE_PATHNAME', 'skytrap_cone_pixels' LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE COST 100;
CREATE FUNCTION skytrap.pixel_in(bigint, int8range) RETURNS boolean
    AS 'MODULE_PATHNAME', 'skytrap_pixel_in' LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION skytrap.pixel_range_cmp(bigint, int8range) RETURNS integer
    AS 'MODULE_PATHNAME', 'skytrap_pixel_range_cmp' LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION skytrap.pixel_ranges_cmp(int8range, int8range) RETURNS integer
    AS 'MODULE_PATHNAME', 'skytrap_pixel_ranges_cmp' LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION skytrap.pixel_near(bigint, circle) RETURNS boolean
    AS 'MODULE_PATHNAME', 'skytrap_pixel_near' LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION skytrap.pixel_circle_cmp(bigint, circle) RETURNS integer
    AS 'MODULE_PATHNAME', 'skytrap_pixel_circle_cmp' LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR skytrap.#< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8lt,
                            RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR skytrap.#<= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8le,
                             RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR skytrap.#= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8eq,
                            RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR skytrap.#>= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8ge,
                             RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR skytrap.#> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = int8gt,
                            RESTRICT = scalargtsel, JOIN = scalargtjoinsel);
CREATE OPERATOR skytrap.#= (LEFTARG = bigint, RIGHTARG = int8range, FUNCTION = skytrap.pixel_in,
                            RESTRICT = eqsel, JOIN = eqjoinsel);
-- The circle is (ra, decl) and a radius, in degrees.
CREATE OPERATOR skytrap.#~ (LEFTARG = bigint, RIGHTARG = circle, FUNCTION = skytrap.pixel_near,
                            RESTRICT = eqsel, JOIN = eqjoinsel);
-- #~ is filed as ">=": a btree never stops a forward scan on a failed ">=" key, it only skips
-- the key, which is what a filter must do.
CREATE OPERATOR CLASS skytrap.pixel_ops FOR TYPE bigint USING btree AS
    OPERATOR 1 skytrap.#< (bigint, bigint),
    OPERATOR 2 skytrap.#<= (bigint, bigint),
    OPERATOR 3 skytrap.#= (bigint, bigint),
    OPERATOR 4 skytrap.#>= (bigint, bigint),
    OPERATOR 5 skytrap.#> (bigint, bigint),
    OPERATOR 3 skytrap.#= (bigint, int8range),
    OPERATOR 4 skytrap.#~ (bigint, circle),
    FUNCTION 1 (bigint, bigint) btint8cmp(bigint, bigint),
    FUNCTION 1 (bigint, int8range) skytrap.pixel_range_cmp(bigint, int8range),
    FUNCTION 1 (int8range, int8range) skytrap.pixel_ranges_cmp(int8range, int8range),
    FUNCTION 1 (bigint, circle) skytrap.pixel_circle_cmp(bigint, circle);

-- These predicates are inlined into the queries that use them, so they set no search_path
-- (which would stop that): every function in them is schema-qualified, and their
-- operators are built-in ones on exact types, which pg_catalog, searched first, resolves.

-- Degrees in, degrees out. Defined behaviour (see tests/pg_regress/sql/xmatch.sql and
-- robustness.sql):
--   NULL anywhere gives NULL (so WHERE drops the row); a NaN or infinite coordinate or
--   |decl| > 90 is false; RA is taken modulo 360; a negative or NaN radius is false; a
--   radius of 180 or more (infinite included) holds every valid position.

-- Join predicate: are two positions within `radius` of each other? An index on either
-- side's skytrap.pixel serves, whatever the argument order; the radius may come from the
-- other side's row (a per-row radius of the indexed side leaves nothing to probe with).
CREATE FUNCTION skytrap.xmatch(ra1 double precision, decl1 double precision,
                               ra2 double precision, decl2 double precision,
                               radius double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.xmatch_keys(skytrap.pixel(ra1, decl1), skytrap.pixel(ra2, decl2),
                               ra1, decl1, ra2, decl2, radius)
$$;

-- Cone search: is (ra, decl) within `radius` of (ra0, decl0)?
CREATE FUNCTION skytrap.in_cone(ra double precision, decl double precision,
                                ra0 double precision, decl0 double precision,
                                radius double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.xmatch(ra, decl, ra0, decl0, radius)
$$;

-- Join predicate with TraP's association criterion: within `radius` and with a De Ruiter
-- radius below r_max (uncertainties east-west and north-south, degrees). A NaN r_max, or
-- a NaN De Ruiter radius (negative or NaN uncertainties), is false: PostgreSQL orders NaN
-- above every number, so "r < 'NaN'" alone would hold for every pair.
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
       AND r_max <> 'NaN'::double precision
$$;

-- Is (ra, decl) in the ellipse with semi-axis smaj along position angle pa (east of north)
-- and smin across it, centred on (ra0, decl0)? Normally smaj >= smin; the other way round
-- is the same ellipse turned by 90 degrees. A NaN or negative semi-axis or a NaN or
-- infinite pa holds nothing; a zero semi-axis only the centre.
CREATE FUNCTION skytrap.in_ellipse(ra double precision, decl double precision,
                                   ra0 double precision, decl0 double precision,
                                   smaj double precision, smin double precision,
                                   pa double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.in_cone(ra, decl, ra0, decl0, greatest(smaj, smin))
       AND skytrap.in_ellipse_exact(ra, decl, ra0, decl0, smaj, smin, pa)
$$;

-- Is (ra, decl) in the polygon {ra1, dec1, ra2, dec2, ...} with great-circle edges
-- (at least 3 vertices, smaller than a hemisphere)? False for an array that is not such a
-- polygon (skytrap.polygon_cone is NULL for it).
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
-- The fields a new lightcurve falls in are found by cone, however many the survey has.
CREATE INDEX skyregion_pixel ON skytrap.skyregion (skytrap.pixel(centre_ra, centre_decl) skytrap.pixel_ops);
