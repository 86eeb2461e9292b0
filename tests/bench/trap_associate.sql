-- TraP's association of one image (tkp/db/associations.py, schema version 40; see the
-- TraP reference, trap-reference.md sections 3.4 and 6), set-based SQL on skytrap's
-- tables, for tests/bench/associate.sh to time beside skytrap.associate_image.
--
-- trap.associate_image(image, indexed) runs, in this order:
--   * the candidate pairs into trap.temprunningcatalog with the running values each pair
--     would give (3.4.1, 3.4.2), TraP's query for images away from RA 0/360 (the meridian
--     variant is not included): 1-degree declination zones, declination and RA windows,
--     the unit-vector dot product against cos(R) and the De Ruiter radius. With indexed =
--     false the zone test is TraP's `zone BETWEEN floor(decl - R) AND floor(decl + R)`;
--     with indexed = true it names the (at most two, R < 1 degree) zones, `zone = ANY
--     (ARRAY[...])`, the same rows, so that a btree on (zone, wm_ra, ...) reads one RA
--     range per zone instead of whole zones, and it looks each pair's flux row up by key,
--     where TraP's join lets a misestimating planner hash the whole flux table;
--   * many-to-many pruning (3.4.3), TraP's query;
--   * one-to-many forks (3.4.4): new runningcatalog, flux, base-point (type 2) and copied
--     (type 6) links, sky regions, newsource and varmetric rows moved to the forks;
--   * one-to-one and many-to-one (3.4.5): type 3 links with V and eta of the updated sums,
--     runningcatalog and runningcatalog_flux updated (existing band) or inserted (new band);
--   * new running-catalogue sources for blind sources without candidates (3.4.6), with
--     flux, sky regions (their own image's and every other region of the dataset that
--     covers them) and type 4 links;
--   * the new-source test against earlier images through assocskyrgn (3.4.7);
--   * varmetric brought up to date for the lightcurves this image touched: V and eta from
--     the flux sums, the lightcurve's max, mean and median, the new-source significance
--     (TraP 4 recomputed varmetric for the whole dataset after every image, in a later
--     step, and skytrap also keeps VAST's two-epoch pair metrics there: leaving both out
--     favours TraP);
--   * the image marked associated, which raises skytrap's alerts by trigger, as skytrap's
--     call does; then TraP's clean-up (3.4.8).
-- The previous point: skytrap's links name the previous point of their lightcurve in the
-- band (assocxtrsource.prev_xtrsrc), which its alert trigger reads. TraP had neither, so
-- after the pruning each candidate lightcurve's latest earlier point in the band is found
-- in one join and one sort (what skytrap's trigger did before it stored the column), and
-- the type 2, 3 and 6 links carry it.
-- trap.timestep(image) is a whole TraP 4 timestep: the well-indexed association, then
-- TraP's varmetric step (trap.store_varmetric, at the end of this file), which deleted and
-- recomputed the varmetric rows of the whole dataset.
-- skytrap stores running sums where TraP stored running averages; the temp table keeps
-- TraP's averages and the writes multiply them back by the count. TraP's UPDATEs with one
-- correlated subquery per column are written as UPDATE ... FROM (kinder to TraP), and its
-- VACUUM of the scratch table before the pruning, which cannot run inside a function, is an
-- ANALYZE.
-- skytrap's varmetric is a view of its flux rows; TraP's was a table, trap.varmetric here,
-- which trap.sync_varmetric() gives a row for every lightcurve of the catalogue the
-- benchmark builds. skytrap's flux rows have columns TraP's had not (the first, last and
-- largest point); TraP's inserts fill them with the image's time and measurement, to meet
-- their NOT NULLs, and its updates leave them alone.

CREATE SCHEMA trap;

-- TraP's varmetric table, as skytrap 0.2.0 kept it.
CREATE TABLE trap.varmetric (
    id               bigserial PRIMARY KEY,
    runcat           bigint NOT NULL UNIQUE REFERENCES skytrap.runningcatalog (id) ON DELETE CASCADE,
    v_int            double precision NOT NULL,
    eta_int          double precision NOT NULL,
    v_peak           double precision NOT NULL,
    eta_peak         double precision NOT NULL,
    band             integer NOT NULL REFERENCES skytrap.frequencyband (id),
    newsource        bigint REFERENCES skytrap.newsource (id) ON DELETE SET NULL,
    sigma_rms_max    double precision,
    sigma_rms_min    double precision,
    lightcurve_max   double precision NOT NULL,
    lightcurve_avg   double precision NOT NULL,
    lightcurve_median double precision NOT NULL,
    datapoints       integer NOT NULL,
    first_ts         timestamp NOT NULL,
    last_ts          timestamp NOT NULL
) WITH (fillfactor = 50);

-- A varmetric row for every lightcurve of one point that has none (the catalogue the
-- benchmark builds holds only such lightcurves), from its flux row.
CREATE FUNCTION trap.sync_varmetric() RETURNS void
LANGUAGE sql AS $fn$
    INSERT INTO trap.varmetric (runcat, v_int, eta_int, v_peak, eta_peak, band,
        lightcurve_max, lightcurve_avg, lightcurve_median, datapoints, first_ts, last_ts)
    SELECT f.runcat, 0, 0, 0, 0, f.band, f.max_f_int, f.avg_f_int, f.last_f_int,
           f.f_datapoints, f.first_ts, f.last_ts
    FROM skytrap.runningcatalog_flux f
    WHERE f.stokes = 1 AND f.varmetric_band
      AND NOT EXISTS (SELECT 1 FROM trap.varmetric v WHERE v.runcat = f.runcat)
    ORDER BY f.runcat;
$fn$;

-- TraP's scratch table (it was a permanent table, emptied before and after each image).
CREATE TABLE trap.temprunningcatalog (
    id                     serial PRIMARY KEY,
    runcat                 bigint NOT NULL,
    xtrsrc                 bigint NOT NULL,
    distance_arcsec        double precision NOT NULL,
    r                      double precision NOT NULL,
    dataset                integer NOT NULL,
    band                   integer NOT NULL,
    stokes                 smallint NOT NULL,
    datapoints             integer NOT NULL,
    zone                   integer NOT NULL,
    wm_ra                  double precision NOT NULL,
    wm_decl                double precision NOT NULL,
    wm_uncertainty_ew      double precision NOT NULL,
    wm_uncertainty_ns      double precision NOT NULL,
    avg_ra_err             double precision NOT NULL,
    avg_decl_err           double precision NOT NULL,
    avg_wra                double precision NOT NULL,
    avg_wdecl              double precision NOT NULL,
    avg_weight_ra          double precision NOT NULL,
    avg_weight_decl        double precision NOT NULL,
    x                      double precision NOT NULL,
    y                      double precision NOT NULL,
    z                      double precision NOT NULL,
    margin                 boolean NOT NULL DEFAULT false,
    inactive               boolean NOT NULL DEFAULT false,
    f_datapoints           integer NOT NULL,
    avg_f_peak             double precision,
    avg_f_peak_sq          double precision,
    avg_f_peak_weight      double precision,
    avg_weighted_f_peak    double precision,
    avg_weighted_f_peak_sq double precision,
    avg_f_int              double precision,
    avg_f_int_sq           double precision,
    avg_f_int_weight       double precision,
    avg_weighted_f_int     double precision,
    avg_weighted_f_int_sq  double precision,
    prev_xtrsrc            bigint  -- not TraP's: see "the previous point" above
);
CREATE INDEX ON trap.temprunningcatalog (runcat);
CREATE INDEX ON trap.temprunningcatalog (xtrsrc);

-- TraP's V and eta of a flux quantity from its running averages over n points (reference
-- 3.7). SQL functions of one expression, inlined into the statements. V takes skytrap's
-- guards (a variance below 1e-9 of the mean square is round-off, the mean by size; TraP:
-- below 8e-14 Jy², the mean as signed), so that the rows the methods write compare; the
-- expression costs the same.
CREATE FUNCTION trap.v(n integer, avg_f double precision, avg_f_sq double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n <= 1 THEN 0
                WHEN abs(avg_f_sq - avg_f * avg_f) <= 1e-9 * avg_f_sq THEN 0
                ELSE sqrt(greatest(0, n::float8 / (n - 1) * (avg_f_sq - avg_f * avg_f))) END
           / CASE WHEN avg_f = 0 THEN 1e-6 ELSE abs(avg_f) END
$$;
CREATE FUNCTION trap.eta(n integer, avg_w double precision, avg_wf double precision,
                         avg_wf_sq double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n <= 1 THEN 0
                ELSE n::float8 / (n - 1) * (avg_w * avg_wf_sq - avg_wf * avg_wf) / avg_w END
$$;

-- The candidate pairs with their updated running values (TraP's _insert_temprunningcatalog;
-- R = beamwidths_limit * rb_smaj, beamwidths_limit and the De Ruiter limit passed in as TraP
-- passed them). The zone test is the only difference between the two.
CREATE FUNCTION trap.insert_candidates(image integer, indexed boolean,
                                       beamwidths_limit double precision,
                                       deruiter_radius double precision) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    select_list constant text := $q$
INSERT INTO trap.temprunningcatalog
  (runcat, xtrsrc, distance_arcsec, r, dataset, band, stokes, datapoints, zone, wm_ra, wm_decl,
   wm_uncertainty_ew, wm_uncertainty_ns, avg_ra_err, avg_decl_err, avg_wra, avg_wdecl,
   avg_weight_ra, avg_weight_decl, x, y, z, f_datapoints,
   avg_f_peak, avg_f_peak_sq, avg_f_peak_weight, avg_weighted_f_peak, avg_weighted_f_peak_sq,
   avg_f_int, avg_f_int_sq, avg_f_int_weight, avg_weighted_f_int, avg_weighted_f_int_sq)
  SELECT t0.runcat, t0.xtrsrc, t0.distance_arcsec, t0.r, t0.dataset, t0.band, t0.stokes,
         t0.datapoints, CAST(FLOOR(t0.wm_decl) AS INTEGER) AS zone, t0.wm_ra, t0.wm_decl,
         t0.wm_uncertainty_ew, t0.wm_uncertainty_ns, t0.avg_ra_err, t0.avg_decl_err,
         t0.avg_wra, t0.avg_wdecl, t0.avg_weight_ra, t0.avg_weight_decl,
         COS(RADIANS(t0.wm_decl)) * COS(RADIANS(t0.wm_ra)) AS x,
         COS(RADIANS(t0.wm_decl)) * SIN(RADIANS(t0.wm_ra)) AS y,
         SIN(RADIANS(t0.wm_decl)) AS z,
         CASE WHEN rf0.f_datapoints IS NULL THEN 1 ELSE rf0.f_datapoints + 1 END AS f_datapoints,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_peak
              ELSE (rf0.f_datapoints * rf0.avg_f_peak + t0.f_peak) / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_peak * t0.f_peak
              ELSE (rf0.f_datapoints * rf0.avg_f_peak_sq + t0.f_peak * t0.f_peak) / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN 1 / (t0.f_peak_err * t0.f_peak_err)
              ELSE (rf0.f_datapoints * rf0.avg_f_peak_weight + 1 / (t0.f_peak_err * t0.f_peak_err))
                   / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_peak / (t0.f_peak_err * t0.f_peak_err)
              ELSE (rf0.f_datapoints * rf0.avg_weighted_f_peak + t0.f_peak / (t0.f_peak_err * t0.f_peak_err))
                   / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_peak * t0.f_peak / (t0.f_peak_err * t0.f_peak_err)
              ELSE (rf0.f_datapoints * rf0.avg_weighted_f_peak_sq
                    + (t0.f_peak * t0.f_peak) / (t0.f_peak_err * t0.f_peak_err)) / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_int
              ELSE (rf0.f_datapoints * rf0.avg_f_int + t0.f_int) / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_int * t0.f_int
              ELSE (rf0.f_datapoints * rf0.avg_f_int_sq + t0.f_int * t0.f_int) / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN 1 / (t0.f_int_err * t0.f_int_err)
              ELSE (rf0.f_datapoints * rf0.avg_f_int_weight + 1 / (t0.f_int_err * t0.f_int_err))
                   / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_int / (t0.f_int_err * t0.f_int_err)
              ELSE (rf0.f_datapoints * rf0.avg_weighted_f_int + t0.f_int / (t0.f_int_err * t0.f_int_err))
                   / (rf0.f_datapoints + 1) END,
         CASE WHEN rf0.f_datapoints IS NULL THEN t0.f_int * t0.f_int / (t0.f_int_err * t0.f_int_err)
              ELSE (rf0.f_datapoints * rf0.avg_weighted_f_int_sq
                    + (t0.f_int * t0.f_int) / (t0.f_int_err * t0.f_int_err)) / (rf0.f_datapoints + 1) END
    FROM (SELECT rc0.id AS runcat, x0.id AS xtrsrc,
                 3600 * DEGREES(2 * ASIN(SQRT((rc0.x - x0.x) * (rc0.x - x0.x)
                                              + (rc0.y - x0.y) * (rc0.y - x0.y)
                                              + (rc0.z - x0.z) * (rc0.z - x0.z)) / 2)) AS distance_arcsec,
                 SQRT((rc0.wm_ra - x0.ra) * COS(RADIANS((rc0.wm_decl + x0.decl) / 2))
                      * (rc0.wm_ra - x0.ra) * COS(RADIANS((rc0.wm_decl + x0.decl) / 2))
                      / (rc0.wm_uncertainty_ew * rc0.wm_uncertainty_ew + x0.uncertainty_ew * x0.uncertainty_ew)
                      + (rc0.wm_decl - x0.decl) * (rc0.wm_decl - x0.decl)
                      / (rc0.wm_uncertainty_ns * rc0.wm_uncertainty_ns + x0.uncertainty_ns * x0.uncertainty_ns)) AS r,
                 x0.f_peak, x0.f_peak_err, x0.f_int, x0.f_int_err,
                 i0.dataset, i0.band, i0.stokes,
                 rc0.datapoints + 1 AS datapoints,
                 (rc0.datapoints * rc0.avg_wra + x0.ra / (x0.uncertainty_ew * x0.uncertainty_ew))
                 / (rc0.datapoints * rc0.avg_weight_ra + 1 / (x0.uncertainty_ew * x0.uncertainty_ew)) AS wm_ra,
                 (rc0.datapoints * rc0.avg_wdecl + x0.decl / (x0.uncertainty_ns * x0.uncertainty_ns))
                 / (rc0.datapoints * rc0.avg_weight_decl + 1 / (x0.uncertainty_ns * x0.uncertainty_ns)) AS wm_decl,
                 SQRT(1 / ((rc0.datapoints + 1)
                           * ((rc0.datapoints * rc0.avg_weight_ra + 1 / (x0.uncertainty_ew * x0.uncertainty_ew))
                              / (rc0.datapoints + 1)))) AS wm_uncertainty_ew,
                 SQRT(1 / ((rc0.datapoints + 1)
                           * ((rc0.datapoints * rc0.avg_weight_decl + 1 / (x0.uncertainty_ns * x0.uncertainty_ns))
                              / (rc0.datapoints + 1)))) AS wm_uncertainty_ns,
                 (rc0.datapoints * rc0.avg_ra_err + x0.ra_err) / (rc0.datapoints + 1) AS avg_ra_err,
                 (rc0.datapoints * rc0.avg_decl_err + x0.decl_err) / (rc0.datapoints + 1) AS avg_decl_err,
                 (rc0.datapoints * rc0.avg_wra + x0.ra / (x0.uncertainty_ew * x0.uncertainty_ew))
                 / (rc0.datapoints + 1) AS avg_wra,
                 (rc0.datapoints * rc0.avg_wdecl + x0.decl / (x0.uncertainty_ns * x0.uncertainty_ns))
                 / (rc0.datapoints + 1) AS avg_wdecl,
                 (rc0.datapoints * rc0.avg_weight_ra + 1 / (x0.uncertainty_ew * x0.uncertainty_ew))
                 / (rc0.datapoints + 1) AS avg_weight_ra,
                 (rc0.datapoints * rc0.avg_weight_decl + 1 / (x0.uncertainty_ns * x0.uncertainty_ns))
                 / (rc0.datapoints + 1) AS avg_weight_decl
            FROM skytrap.extractedsource x0, skytrap.runningcatalog rc0, skytrap.image i0
           WHERE i0.id = $1
             AND x0.image = i0.id
             AND x0.image = $1
             AND x0.extract_type = 0
             AND i0.dataset = rc0.dataset
             AND rc0.mon_src = FALSE
             AND %s
             AND rc0.wm_decl BETWEEN x0.decl - $2 * i0.rb_smaj
                                 AND x0.decl + $2 * i0.rb_smaj
             AND rc0.wm_ra BETWEEN x0.ra - skytrap.alpha($2 * i0.rb_smaj, x0.decl)
                               AND x0.ra + skytrap.alpha($2 * i0.rb_smaj, x0.decl)
             AND rc0.x * x0.x + rc0.y * x0.y + rc0.z * x0.z > COS(RADIANS($2 * i0.rb_smaj))
             AND SQRT((rc0.wm_ra - x0.ra) * COS(RADIANS((rc0.wm_decl + x0.decl) / 2))
                      * (rc0.wm_ra - x0.ra) * COS(RADIANS((rc0.wm_decl + x0.decl) / 2))
                      / (x0.uncertainty_ew * x0.uncertainty_ew + rc0.wm_uncertainty_ew * rc0.wm_uncertainty_ew)
                      + (x0.decl - rc0.wm_decl) * (x0.decl - rc0.wm_decl)
                      / (x0.uncertainty_ns * x0.uncertainty_ns + rc0.wm_uncertainty_ns * rc0.wm_uncertainty_ns))
                 < $3
         ) t0
         %s
$q$;
    -- TraP's join of the candidates to their flux rows. The planner cannot estimate how
    -- many pairs the zone query gives (at 1e7 catalogue sources it expects 1.3e6 for 900)
    -- and then reads the whole flux table into a hash; the well-indexed version looks
    -- each pair's row up in the (runcat, band, stokes) key instead, as a DBA would make it.
    flux_join constant text := $q$
         LEFT OUTER JOIN skytrap.runningcatalog_flux rf0
         ON t0.runcat = rf0.runcat AND t0.band = rf0.band AND t0.stokes = rf0.stokes$q$;
    flux_lookup constant text := $q$
         LEFT JOIN LATERAL (SELECT * FROM skytrap.runningcatalog_flux f
                            WHERE f.runcat = t0.runcat AND f.band = t0.band AND f.stokes = t0.stokes
                            OFFSET 0) rf0 ON true$q$;
BEGIN
    IF indexed THEN
        EXECUTE format(select_list,
            'rc0.zone = ANY (ARRAY[CAST(FLOOR(x0.decl - $2 * i0.rb_smaj) AS INTEGER),
                                   CAST(FLOOR(x0.decl + $2 * i0.rb_smaj) AS INTEGER)])',
            flux_lookup)
        USING image, beamwidths_limit, deruiter_radius;
    ELSE
        EXECUTE format(select_list,
            'rc0.zone BETWEEN CAST(FLOOR(x0.decl - $2 * i0.rb_smaj) AS INTEGER)
                          AND CAST(FLOOR(x0.decl + $2 * i0.rb_smaj) AS INTEGER)',
            flux_join)
        USING image, beamwidths_limit, deruiter_radius;
    END IF;
END
$fn$;

CREATE FUNCTION trap.associate_image(image integer, indexed boolean)
RETURNS TABLE (matched integer, new_runcat integer, new_sources integer)
LANGUAGE plpgsql AS $fn$
DECLARE
    img  skytrap.image := (SELECT i FROM skytrap.image i WHERE i.id = associate_image.image);
    ds   skytrap.dataset := (SELECT d FROM skytrap.dataset d WHERE d.id = img.dataset);
    n3   integer;
    n4   integer;
    nnew integer;
BEGIN
    -- As skytrap: one associating transaction per dataset.
    PERFORM pg_advisory_xact_lock(7291, img.dataset);
    DELETE FROM trap.temprunningcatalog;

    PERFORM trap.insert_candidates(img.id, indexed, ds.beamwidths_limit, ds.assoc_radius);
    -- TraP VACUUMed the scratch table here (issue #432); inside a function only ANALYZE
    -- can run, and it gives the planner the candidates' numbers for what follows.
    ANALYZE trap.temprunningcatalog;

    -- Many-to-many: keep, per source, the pairs with the smallest r (TraP's query).
    UPDATE trap.temprunningcatalog
       SET inactive = TRUE
     WHERE EXISTS (SELECT runcat, xtrsrc
                     FROM (SELECT t1.runcat, t1.xtrsrc
                             FROM (SELECT xtrsrc, MIN(r) AS min_r
                                     FROM trap.temprunningcatalog
                                    WHERE runcat IN (SELECT runcat FROM trap.temprunningcatalog
                                                      WHERE runcat IN (SELECT runcat FROM trap.temprunningcatalog
                                                                        WHERE xtrsrc IN (SELECT xtrsrc FROM trap.temprunningcatalog
                                                                                          GROUP BY xtrsrc HAVING COUNT(*) > 1))
                                                      GROUP BY runcat HAVING COUNT(*) > 1)
                                      AND xtrsrc IN (SELECT xtrsrc FROM trap.temprunningcatalog
                                                      GROUP BY xtrsrc HAVING COUNT(*) > 1)
                                    GROUP BY xtrsrc) t0,
                                  (SELECT runcat, xtrsrc, r
                                     FROM trap.temprunningcatalog
                                    WHERE runcat IN (SELECT runcat FROM trap.temprunningcatalog
                                                      WHERE runcat IN (SELECT runcat FROM trap.temprunningcatalog
                                                                        WHERE xtrsrc IN (SELECT xtrsrc FROM trap.temprunningcatalog
                                                                                          GROUP BY xtrsrc HAVING COUNT(*) > 1))
                                                      GROUP BY runcat HAVING COUNT(*) > 1)
                                      AND xtrsrc IN (SELECT xtrsrc FROM trap.temprunningcatalog
                                                      GROUP BY xtrsrc HAVING COUNT(*) > 1)) t1
                            WHERE t0.xtrsrc = t1.xtrsrc AND t0.min_r < t1.r) t2
                    WHERE t2.runcat = temprunningcatalog.runcat
                      AND t2.xtrsrc = temprunningcatalog.xtrsrc);

    UPDATE trap.temprunningcatalog t
       SET prev_xtrsrc = p.xtrsrc
      FROM (SELECT DISTINCT ON (pa.runcat) pa.runcat, px.id AS xtrsrc
              FROM (SELECT DISTINCT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE) c
                   JOIN skytrap.assocxtrsource pa ON pa.runcat = c.runcat
                   JOIN skytrap.extractedsource px ON px.id = pa.xtrsrc
                   JOIN skytrap.image pi ON pi.id = px.image
             WHERE pi.band = img.band AND pi.stokes = img.stokes
               AND pi.taustart_ts < img.taustart_ts
             ORDER BY pa.runcat, pi.taustart_ts DESC, px.id DESC) p
     WHERE p.runcat = t.runcat AND t.inactive = FALSE;

    -- One-to-many: each source of a catalogue entry with several becomes a new lightcurve
    -- carrying the old one's history.
    INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl, sum_weight_ra,
                                        sum_weight_decl, sum_ra_err, sum_decl_err)
    SELECT t1.xtrsrc, t1.dataset, t1.datapoints, t1.wm_ra, t1.wm_decl,
           t1.avg_weight_ra * t1.datapoints, t1.avg_weight_decl * t1.datapoints,
           t1.avg_ra_err * t1.datapoints, t1.avg_decl_err * t1.datapoints
      FROM (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
             GROUP BY runcat HAVING COUNT(*) > 1) t0, trap.temprunningcatalog t1
     WHERE t1.runcat = t0.runcat AND t1.inactive = FALSE;
    INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
        sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak, sum_weighted_f_peak_sq,
        sum_f_int, sum_f_int_sq, sum_f_int_weight, sum_weighted_f_int, sum_weighted_f_int_sq,
        first_ts, last_ts, last_xtrsrc, last_f_int, max_f_int)
    SELECT r.id, t1.band, t1.stokes, t1.f_datapoints,
           t1.avg_f_peak * t1.f_datapoints, t1.avg_f_peak_sq * t1.f_datapoints,
           t1.avg_f_peak_weight * t1.f_datapoints, t1.avg_weighted_f_peak * t1.f_datapoints,
           t1.avg_weighted_f_peak_sq * t1.f_datapoints, t1.avg_f_int * t1.f_datapoints,
           t1.avg_f_int_sq * t1.f_datapoints, t1.avg_f_int_weight * t1.f_datapoints,
           t1.avg_weighted_f_int * t1.f_datapoints, t1.avg_weighted_f_int_sq * t1.f_datapoints,
           img.taustart_ts, img.taustart_ts, t1.xtrsrc, 0, 0
      FROM (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
             GROUP BY runcat HAVING COUNT(*) > 1) t0, trap.temprunningcatalog t1,
           skytrap.runningcatalog r
     WHERE t1.runcat = t0.runcat AND t1.inactive = FALSE AND r.xtrsrc = t1.xtrsrc;
    INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int, eta_int,
                                        f_datapoints, prev_xtrsrc, taustart_ts)
    SELECT r.id, t1.xtrsrc, 2, t1.distance_arcsec, t1.r,
           trap.v(t1.f_datapoints, t1.avg_f_int, t1.avg_f_int_sq),
           trap.eta(t1.f_datapoints, t1.avg_f_int_weight, t1.avg_weighted_f_int,
                    t1.avg_weighted_f_int_sq),
           t1.f_datapoints, t1.prev_xtrsrc, img.taustart_ts
      FROM (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
             GROUP BY runcat HAVING COUNT(*) > 1) t0, trap.temprunningcatalog t1,
           skytrap.runningcatalog r
     WHERE t1.runcat = t0.runcat AND t1.inactive = FALSE AND r.xtrsrc = t1.xtrsrc;
    INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int, eta_int,
                                        f_datapoints, prev_xtrsrc, taustart_ts)
    SELECT r.id, a.xtrsrc, 6, a.distance_arcsec, a.r, a.v_int, a.eta_int, a.f_datapoints,
           a.prev_xtrsrc, a.taustart_ts
      FROM (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
             GROUP BY runcat HAVING COUNT(*) > 1) t0, trap.temprunningcatalog t1,
           skytrap.runningcatalog r, skytrap.assocxtrsource a
     WHERE t1.runcat = t0.runcat AND t1.inactive = FALSE AND r.xtrsrc = t1.xtrsrc
       AND a.runcat = t1.runcat;
    INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
    SELECT r.id, a.skyrgn, a.distance_deg
      FROM (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
             GROUP BY runcat HAVING COUNT(*) > 1) t0, trap.temprunningcatalog t1,
           skytrap.runningcatalog r, skytrap.assocskyrgn a
     WHERE t1.runcat = t0.runcat AND t1.inactive = FALSE AND r.xtrsrc = t1.xtrsrc
       AND a.runcat = t1.runcat;
    INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image, newsource_type)
    SELECT r.id, n.trigger_xtrsrc, n.previous_limits_image, n.newsource_type
      FROM (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
             GROUP BY runcat HAVING COUNT(*) > 1) t0, trap.temprunningcatalog t1,
           skytrap.runningcatalog r, skytrap.newsource n
     WHERE t1.runcat = t0.runcat AND t1.inactive = FALSE AND r.xtrsrc = t1.xtrsrc
       AND n.runcat = t1.runcat;
    INSERT INTO trap.varmetric (runcat, v_int, eta_int, v_peak, eta_peak, band, newsource,
                                   sigma_rms_max, sigma_rms_min, lightcurve_max, lightcurve_avg,
                                   lightcurve_median, datapoints, first_ts, last_ts)
    SELECT r.id, v.v_int, v.eta_int, v.v_peak, v.eta_peak, v.band, NULL, v.sigma_rms_max,
           v.sigma_rms_min, v.lightcurve_max, v.lightcurve_avg, v.lightcurve_median, v.datapoints,
           v.first_ts, v.last_ts
      FROM (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
             GROUP BY runcat HAVING COUNT(*) > 1) t0, trap.temprunningcatalog t1,
           skytrap.runningcatalog r, trap.varmetric v
     WHERE t1.runcat = t0.runcat AND t1.inactive = FALSE AND r.xtrsrc = t1.xtrsrc
       AND v.runcat = t1.runcat;
    DELETE FROM skytrap.assocxtrsource
     WHERE runcat IN (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
                       GROUP BY runcat HAVING COUNT(*) > 1);
    DELETE FROM skytrap.runningcatalog_flux
     WHERE runcat IN (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
                       GROUP BY runcat HAVING COUNT(*) > 1);
    UPDATE skytrap.runningcatalog
       SET inactive = TRUE
     WHERE id IN (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
                   GROUP BY runcat HAVING COUNT(*) > 1);
    UPDATE trap.temprunningcatalog
       SET inactive = TRUE
     WHERE runcat IN (SELECT runcat FROM trap.temprunningcatalog WHERE inactive = FALSE
                       GROUP BY runcat HAVING COUNT(*) > 1);
    DELETE FROM skytrap.assocskyrgn
     WHERE runcat IN (SELECT r.id FROM skytrap.runningcatalog r WHERE r.inactive = TRUE);
    DELETE FROM skytrap.newsource
     WHERE runcat IN (SELECT r.id FROM skytrap.runningcatalog r WHERE r.inactive = TRUE);
    DELETE FROM trap.varmetric
     WHERE runcat IN (SELECT r.id FROM skytrap.runningcatalog r WHERE r.inactive = TRUE);

    -- One-to-one and many-to-one.
    INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int, eta_int,
                                        f_datapoints, prev_xtrsrc, taustart_ts)
    SELECT t.runcat, t.xtrsrc, 3, t.distance_arcsec, t.r,
           trap.v(t.f_datapoints, t.avg_f_int, t.avg_f_int_sq),
           trap.eta(t.f_datapoints, t.avg_f_int_weight, t.avg_weighted_f_int,
                    t.avg_weighted_f_int_sq),
           t.f_datapoints, t.prev_xtrsrc, img.taustart_ts
      FROM trap.temprunningcatalog t, skytrap.runningcatalog r, skytrap.extractedsource x
     WHERE t.runcat = r.id AND t.inactive = FALSE AND t.xtrsrc = x.id;
    GET DIAGNOSTICS n3 = ROW_COUNT;
    UPDATE skytrap.runningcatalog r
       SET datapoints = t.datapoints, wm_ra = t.wm_ra, wm_decl = t.wm_decl,
           sum_weight_ra = t.avg_weight_ra * t.datapoints,
           sum_weight_decl = t.avg_weight_decl * t.datapoints,
           sum_ra_err = t.avg_ra_err * t.datapoints, sum_decl_err = t.avg_decl_err * t.datapoints,
           forcedfits_count = 0
      FROM trap.temprunningcatalog t
     WHERE t.runcat = r.id AND t.inactive = FALSE;
    UPDATE skytrap.runningcatalog_flux f
       SET f_datapoints = t.f_datapoints,
           sum_f_peak = t.avg_f_peak * t.f_datapoints, sum_f_peak_sq = t.avg_f_peak_sq * t.f_datapoints,
           sum_f_peak_weight = t.avg_f_peak_weight * t.f_datapoints,
           sum_weighted_f_peak = t.avg_weighted_f_peak * t.f_datapoints,
           sum_weighted_f_peak_sq = t.avg_weighted_f_peak_sq * t.f_datapoints,
           sum_f_int = t.avg_f_int * t.f_datapoints, sum_f_int_sq = t.avg_f_int_sq * t.f_datapoints,
           sum_f_int_weight = t.avg_f_int_weight * t.f_datapoints,
           sum_weighted_f_int = t.avg_weighted_f_int * t.f_datapoints,
           sum_weighted_f_int_sq = t.avg_weighted_f_int_sq * t.f_datapoints
      FROM trap.temprunningcatalog t
     WHERE t.runcat = f.runcat AND t.band = f.band AND t.stokes = f.stokes AND t.inactive = FALSE;
    INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
        sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak, sum_weighted_f_peak_sq,
        sum_f_int, sum_f_int_sq, sum_f_int_weight, sum_weighted_f_int, sum_weighted_f_int_sq,
        first_ts, last_ts, last_xtrsrc, last_f_int, max_f_int)
    SELECT t.runcat, t.band, t.stokes, t.f_datapoints,
           t.avg_f_peak * t.f_datapoints, t.avg_f_peak_sq * t.f_datapoints,
           t.avg_f_peak_weight * t.f_datapoints, t.avg_weighted_f_peak * t.f_datapoints,
           t.avg_weighted_f_peak_sq * t.f_datapoints, t.avg_f_int * t.f_datapoints,
           t.avg_f_int_sq * t.f_datapoints, t.avg_f_int_weight * t.f_datapoints,
           t.avg_weighted_f_int * t.f_datapoints, t.avg_weighted_f_int_sq * t.f_datapoints,
           img.taustart_ts, img.taustart_ts, t.xtrsrc, 0, 0
      FROM trap.temprunningcatalog t
     WHERE t.inactive = FALSE
       AND NOT EXISTS (SELECT 1 FROM skytrap.runningcatalog_flux rf
                        WHERE rf.runcat = t.runcat AND rf.band = t.band AND rf.stokes = t.stokes);

    -- Blind sources in no candidate pair start a lightcurve.
    INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl, sum_weight_ra,
                                        sum_weight_decl, sum_ra_err, sum_decl_err)
    SELECT x0.id, img.dataset, 1, x0.ra, x0.decl, 1 / (x0.uncertainty_ew * x0.uncertainty_ew),
           1 / (x0.uncertainty_ns * x0.uncertainty_ns), x0.ra_err, x0.decl_err
      FROM skytrap.extractedsource x0
           LEFT OUTER JOIN trap.temprunningcatalog trc0 ON x0.id = trc0.xtrsrc
     WHERE x0.image = img.id AND x0.extract_type = 0 AND trc0.xtrsrc IS NULL;
    GET DIAGNOSTICS n4 = ROW_COUNT;
    INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
        sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak, sum_weighted_f_peak_sq,
        sum_f_int, sum_f_int_sq, sum_f_int_weight, sum_weighted_f_int, sum_weighted_f_int_sq,
        first_ts, last_ts, last_xtrsrc, last_f_int, max_f_int)
    SELECT r0.id, img.band, img.stokes, 1, x0.f_peak, x0.f_peak * x0.f_peak,
           1 / (x0.f_peak_err * x0.f_peak_err), x0.f_peak / (x0.f_peak_err * x0.f_peak_err),
           x0.f_peak * x0.f_peak / (x0.f_peak_err * x0.f_peak_err), x0.f_int, x0.f_int * x0.f_int,
           1 / (x0.f_int_err * x0.f_int_err), x0.f_int / (x0.f_int_err * x0.f_int_err),
           x0.f_int * x0.f_int / (x0.f_int_err * x0.f_int_err),
           img.taustart_ts, img.taustart_ts, x0.id, x0.f_int, x0.f_int
      FROM (SELECT x1.id AS xtrsrc FROM skytrap.extractedsource x1
                   LEFT OUTER JOIN trap.temprunningcatalog trc1 ON x1.id = trc1.xtrsrc
             WHERE x1.image = img.id AND x1.extract_type = 0 AND trc1.xtrsrc IS NULL) t0,
           skytrap.runningcatalog r0, skytrap.extractedsource x0
     WHERE r0.xtrsrc = t0.xtrsrc AND x0.id = r0.xtrsrc;
    -- Their own image's sky region, then every other region of the dataset that covers them.
    INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
    SELECT rc.id, img.skyrgn,
           DEGREES(2 * ASIN(SQRT((rc.x - sky.x) * (rc.x - sky.x) + (rc.y - sky.y) * (rc.y - sky.y)
                                 + (rc.z - sky.z) * (rc.z - sky.z)) / 2))
      FROM skytrap.extractedsource ex
           JOIN skytrap.runningcatalog rc ON rc.xtrsrc = ex.id
           JOIN skytrap.skyregion sky ON sky.id = img.skyrgn
           LEFT OUTER JOIN trap.temprunningcatalog trc ON ex.id = trc.xtrsrc
     WHERE ex.image = img.id AND ex.extract_type = 0 AND trc.xtrsrc IS NULL;
    INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
    SELECT rc1.id, sky.id,
           DEGREES(2 * ASIN(SQRT((rc1.x - sky.x) * (rc1.x - sky.x) + (rc1.y - sky.y) * (rc1.y - sky.y)
                                 + (rc1.z - sky.z) * (rc1.z - sky.z)) / 2))
      FROM skytrap.skyregion sky, skytrap.runningcatalog rc1,
           (SELECT ex.id AS xtrsrc FROM skytrap.extractedsource ex
                   LEFT OUTER JOIN trap.temprunningcatalog trc ON ex.id = trc.xtrsrc
             WHERE ex.image = img.id AND ex.extract_type = 0 AND trc.xtrsrc IS NULL) t1
     WHERE rc1.xtrsrc = t1.xtrsrc
       AND sky.dataset = rc1.dataset
       AND sky.id <> img.skyrgn
       AND DEGREES(2 * ASIN(SQRT((rc1.x - sky.x) * (rc1.x - sky.x) + (rc1.y - sky.y) * (rc1.y - sky.y)
                                 + (rc1.z - sky.z) * (rc1.z - sky.z)) / 2)) < sky.xtr_radius;
    INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int, eta_int,
                                        f_datapoints, taustart_ts)
    SELECT r0.id, r0.xtrsrc, 4, 0, 0, 0, 0, 1, img.taustart_ts
      FROM (SELECT x1.id AS xtrsrc FROM skytrap.extractedsource x1
                   LEFT OUTER JOIN trap.temprunningcatalog trc1 ON x1.id = trc1.xtrsrc
             WHERE x1.image = img.id AND x1.extract_type = 0 AND trc1.xtrsrc IS NULL) t0,
           skytrap.runningcatalog r0
     WHERE r0.xtrsrc = t0.xtrsrc;

    -- New sources: the earlier, accepted images of the band whose regions hold the new
    -- lightcurve; the one with the deepest limit decides (TraP's previous limits).
    INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image, newsource_type)
    SELECT runcat, xtrsrc, prev, CASE WHEN f_peak > high THEN 1 ELSE 0 END
      FROM (SELECT DISTINCT ON (r.id) r.id AS runcat, x.id AS xtrsrc, x.f_peak, p.id AS prev,
                   p.rms_min * (p.detection_thresh + ds.new_source_sigma_margin) AS low,
                   p.rms_max * (p.detection_thresh + ds.new_source_sigma_margin) AS high
              FROM skytrap.extractedsource x
                   LEFT OUTER JOIN trap.temprunningcatalog trc ON x.id = trc.xtrsrc
                   JOIN skytrap.runningcatalog r ON r.xtrsrc = x.id
                   JOIN skytrap.assocskyrgn a ON a.runcat = r.id
                   JOIN skytrap.image p ON p.skyrgn = a.skyrgn
             WHERE x.image = img.id AND x.extract_type = 0 AND trc.xtrsrc IS NULL
               AND p.dataset = img.dataset AND p.band = img.band
               AND p.taustart_ts < img.taustart_ts
               AND p.rms_min IS NOT NULL AND p.rms_max IS NOT NULL AND p.detection_thresh IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM skytrap.rejection j WHERE j.image = p.id)
             ORDER BY r.id, low, high, p.id) c
     WHERE f_peak > low;
    GET DIAGNOSTICS nnew = ROW_COUNT;

    -- varmetric of every lightcurve this image touched.
    INSERT INTO trap.varmetric AS v (runcat, v_int, eta_int, v_peak, eta_peak, band,
         newsource, sigma_rms_max, sigma_rms_min, lightcurve_max, lightcurve_avg,
         lightcurve_median, datapoints, first_ts, last_ts)
    SELECT u.runcat,
           trap.v(f.f_datapoints, f.avg_f_int, f.avg_f_int_sq),
           greatest(0, trap.eta(f.f_datapoints, f.avg_f_int_weight, f.avg_weighted_f_int,
                                f.avg_weighted_f_int_sq)),
           trap.v(f.f_datapoints, f.avg_f_peak, f.avg_f_peak_sq),
           greatest(0, trap.eta(f.f_datapoints, f.avg_f_peak_weight, f.avg_weighted_f_peak,
                                f.avg_weighted_f_peak_sq)),
           img.band, n.id, t.f_int / p.rms_max, t.f_int / p.rms_min,
           lc.max, lc.avg, lc.median, lc.n, lc.first_ts, lc.last_ts
      FROM (SELECT a.runcat FROM skytrap.assocxtrsource a JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
             WHERE x.image = img.id AND a.type IN (2, 3, 4)) u
      JOIN skytrap.runningcatalog_flux f ON f.runcat = u.runcat AND f.band = img.band AND f.stokes = img.stokes
      LEFT JOIN skytrap.newsource n ON n.runcat = u.runcat
      LEFT JOIN skytrap.extractedsource t ON t.id = n.trigger_xtrsrc
      LEFT JOIN skytrap.image p ON p.id = n.previous_limits_image
      CROSS JOIN LATERAL (
          SELECT max(x.f_int) AS max, avg(x.f_int) AS avg,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY x.f_int) AS median,
                 count(*)::int AS n, min(i.taustart_ts) AS first_ts, max(i.taustart_ts) AS last_ts
            FROM skytrap.assocxtrsource a
            JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
            JOIN skytrap.image i ON i.id = x.image
           WHERE a.runcat = u.runcat AND i.band = img.band) AS lc
    ON CONFLICT (runcat) DO UPDATE SET
        v_int = EXCLUDED.v_int, eta_int = EXCLUDED.eta_int, v_peak = EXCLUDED.v_peak,
        eta_peak = EXCLUDED.eta_peak, band = EXCLUDED.band, newsource = EXCLUDED.newsource,
        sigma_rms_max = EXCLUDED.sigma_rms_max, sigma_rms_min = EXCLUDED.sigma_rms_min,
        lightcurve_max = EXCLUDED.lightcurve_max, lightcurve_avg = EXCLUDED.lightcurve_avg,
        lightcurve_median = EXCLUDED.lightcurve_median, datapoints = EXCLUDED.datapoints,
        first_ts = EXCLUDED.first_ts, last_ts = EXCLUDED.last_ts;

    -- Marked associated: skytrap's trigger raises the alerts.
    UPDATE skytrap.image SET associated_at = now() WHERE id = img.id;

    -- TraP's clean-up.
    DELETE FROM trap.temprunningcatalog;
    UPDATE skytrap.extractedsource SET ff_runcat = NULL
     WHERE ff_runcat IN (SELECT r.id FROM skytrap.runningcatalog r WHERE r.inactive = TRUE);
    DELETE FROM skytrap.runningcatalog WHERE inactive = TRUE;

    RETURN QUERY SELECT n3, n4, nnew;
END
$fn$;

-- TraP 4's varmetric step (reference 3.8; tkp/steps/varmetric.py and
-- tkp/db/alchemy/varmetric.py), which TraP ran after every timestep: every varmetric row of
-- the dataset deleted, then recomputed from the whole lightcurve table.
--   1. per (lightcurve, band), the time of its latest point;
--   2. of the points at those times, per lightcurve the one with the largest f_int over
--      the bands (the "match"; ties go to the lowest link id, where TraP wrote two rows and
--      failed on varmetric.runcat, issue #566): its band, v_int and eta_int;
--   3. the new-source significance of the lightcurve's newsource row;
--   4. max, mean and median of f_int over every point in the match band.
-- Columns TraP did not have are filled so that the rows meet skytrap's NOT NULLs: V and
-- eta of the peak flux from the match band's flux sums, the number of points and the first
-- and last times from step 4's aggregate; VAST's pair metrics are left at 0 (which
-- favours TraP).
CREATE FUNCTION trap.store_varmetric(dataset integer) RETURNS void
LANGUAGE sql AS $fn$
    DELETE FROM trap.varmetric v
     USING skytrap.runningcatalog r
     WHERE r.id = v.runcat AND r.dataset = store_varmetric.dataset;

    -- Subqueries, each read once, as TraP's own query is built: the planner estimates them
    -- from the tables (a CTE read twice is estimated at a few rows and nested-looped).
    INSERT INTO trap.varmetric (runcat, v_int, eta_int, v_peak, eta_peak, band, newsource,
         sigma_rms_max, sigma_rms_min, lightcurve_max, lightcurve_avg, lightcurve_median,
         datapoints, first_ts, last_ts)
    SELECT lc.runcat, lc.v_int, lc.eta_int,
           trap.v(f.f_datapoints, f.avg_f_peak, f.avg_f_peak_sq),
           greatest(0, trap.eta(f.f_datapoints, f.avg_f_peak_weight, f.avg_weighted_f_peak,
                                f.avg_weighted_f_peak_sq)),
           lc.band, n.id, t.f_int / p.rms_max, t.f_int / p.rms_min,
           lc.max, lc.avg, lc.median, lc.n, lc.first_ts, lc.last_ts
      FROM (-- 4. over every point in the match band
            SELECT m.runcat, m.v_int, m.eta_int, m.band, m.stokes,
                   max(x.f_int) AS max, avg(x.f_int) AS avg,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY x.f_int) AS median,
                   count(*)::int AS n, min(i.taustart_ts) AS first_ts,
                   max(i.taustart_ts) AS last_ts
              FROM (-- 2. the match
                    SELECT DISTINCT ON (a.runcat) a.runcat, a.v_int, a.eta_int, i.band, i.stokes
                      FROM (-- 1. the latest time per lightcurve and band
                            SELECT a.runcat, i.band, max(i.taustart_ts) AS ts
                              FROM skytrap.runningcatalog r
                              JOIN skytrap.assocxtrsource a ON a.runcat = r.id
                              JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
                              JOIN skytrap.image i ON i.id = x.image
                             WHERE r.dataset = store_varmetric.dataset
                             GROUP BY a.runcat, i.band) l
                      JOIN skytrap.assocxtrsource a ON a.runcat = l.runcat
                      JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
                      JOIN skytrap.image i
                           ON i.id = x.image AND i.band = l.band AND i.taustart_ts = l.ts
                     ORDER BY a.runcat, x.f_int DESC, a.id) m
              JOIN skytrap.assocxtrsource a ON a.runcat = m.runcat
              JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
              JOIN skytrap.image i ON i.id = x.image AND i.band = m.band
             GROUP BY m.runcat, m.v_int, m.eta_int, m.band, m.stokes) lc
      JOIN skytrap.runningcatalog_flux f
           ON f.runcat = lc.runcat AND f.band = lc.band AND f.stokes = lc.stokes
      -- 3. the new-source significance
      LEFT JOIN skytrap.newsource n ON n.runcat = lc.runcat
      LEFT JOIN skytrap.extractedsource t ON t.id = n.trigger_xtrsrc
      LEFT JOIN skytrap.image p ON p.id = n.previous_limits_image
     ORDER BY lc.runcat;
$fn$;

-- A TraP 4 timestep of one image: the well-indexed association, then the varmetric step.
CREATE FUNCTION trap.timestep(image integer)
RETURNS TABLE (matched integer, new_runcat integer, new_sources integer)
LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN QUERY SELECT * FROM trap.associate_image(image, true);
    PERFORM trap.store_varmetric((SELECT i.dataset FROM skytrap.image i WHERE i.id = image));
END
$fn$;
