-- Lightcurve statistics for any query result, and the positions the loader force-fits.

-- What skytrap.lightcurve_stats returns. v and eta are TraP's V and η; weighted_avg_flux
-- is the inverse-variance weighted mean ξ that η is measured against.
CREATE TYPE skytrap.lightcurve_statistics AS (
    datapoints        integer,
    avg_flux          double precision,
    weighted_avg_flux double precision,
    max_flux          double precision,
    min_flux          double precision,
    v                 double precision,
    eta               double precision
);

CREATE FUNCTION skytrap.lightcurve_stats_final(state double precision[])
RETURNS skytrap.lightcurve_statistics
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = skytrap, pg_temp
AS $$
    SELECT CASE WHEN state[1] > 0 THEN
        ROW(state[1]::integer, state[2] / state[1], state[5] / state[4], state[7], state[8],
            skytrap.lightcurve_stats_v(state), skytrap.lightcurve_stats_eta(state))::skytrap.lightcurve_statistics
    ELSE
        ROW(0, NULL, NULL, NULL, NULL, NULL, NULL)::skytrap.lightcurve_statistics
    END
$$;

-- SELECT runcat, (skytrap.lightcurve_stats(f_int, f_int_err)).* FROM skytrap.lightcurve
-- GROUP BY runcat: TraP's variability indices of any selection of measurements (a time
-- range, one band, blind detections only...). Parallel: partial states combine exactly.
CREATE AGGREGATE skytrap.lightcurve_stats(flux double precision, flux_err double precision) (
    SFUNC = skytrap.lightcurve_stats_add,
    STYPE = double precision[],
    INITCOND = '{0,0,0,0,0,0,-Infinity,Infinity}',
    COMBINEFUNC = skytrap.lightcurve_stats_combine,
    FINALFUNC = skytrap.lightcurve_stats_final,
    PARALLEL = SAFE
);

-- Where the loader force-fits an image before it is associated (TraP's null detections
-- and monitor list): every lightcurve in the image's sky region that began before the
-- image and has not expired (fewer than the dataset's `expiration` forced fits since its
-- last blind detection), and every monitor position of the dataset. Association keeps
-- the forced fit of a lightcurve only where no blind detection in the image extends it.
CREATE FUNCTION skytrap.forced_fit_targets(image integer)
RETURNS TABLE (runcat bigint, monitor integer, ra double precision, decl double precision)
LANGUAGE sql STABLE STRICT
SET search_path = skytrap, pg_temp
AS $$
    SELECT r.id, NULL::integer, r.wm_ra, r.wm_decl
    FROM skytrap.image i
    JOIN skytrap.dataset d ON d.id = i.dataset
    JOIN skytrap.assocskyrgn s ON s.skyrgn = i.skyrgn
    JOIN skytrap.runningcatalog r ON r.id = s.runcat
    JOIN skytrap.extractedsource first_x ON first_x.id = r.xtrsrc
    JOIN skytrap.image first_i ON first_i.id = first_x.image
    WHERE i.id = forced_fit_targets.image
      AND NOT r.mon_src AND NOT r.inactive
      AND r.forcedfits_count < d.expiration
      AND first_i.taustart_ts < i.taustart_ts
    UNION ALL
    SELECT m.runcat, m.id, m.ra, m.decl
    FROM skytrap.image i
    JOIN skytrap.monitor m ON m.dataset = i.dataset
    WHERE i.id = forced_fit_targets.image
    ORDER BY 2 NULLS FIRST, 1
$$;
