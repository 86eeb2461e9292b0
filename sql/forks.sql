-- A fork (TraP's one-to-many): several sources of one image match one lightcurve and none
-- other. associate_image starts a new lightcurve for each source at its updated position,
-- then calls this to move the old lightcurve's history onto them.

-- Each new[i] takes over the history of old[i] (an old lightcurve comes once per source it
-- forks into): copies of its links (type 6, copied on a fork), flux rows, sky regions and
-- new-source record (its variability summary is a view of those). Forced fits of
-- earlier images at an old lightcurve keep their points through the copied links and lose
-- only their pointer to it; then the old lightcurves are deleted, as TraP does, with all
-- that was theirs. Rows are copied in a fixed order, so ids come out the same on a re-run.
-- NULL is no call; arrays of different lengths are an error.
CREATE FUNCTION skytrap.fork_lightcurves(old bigint[], new bigint[])
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    IF cardinality(fork_lightcurves.old) <> cardinality(fork_lightcurves.new) THEN
        RAISE EXCEPTION 'skytrap.fork_lightcurves: % old and % new lightcurves',
            cardinality(fork_lightcurves.old), cardinality(fork_lightcurves.new)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH f AS (
        SELECT * FROM unnest(fork_lightcurves.old, fork_lightcurves.new)
                      WITH ORDINALITY AS f(old, new, n)),
    links AS (
        INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, loglr,
            v_int, eta_int, f_datapoints, prev_xtrsrc, taustart_ts)
        SELECT f.new, a.xtrsrc, 6, a.distance_arcsec, a.r, a.loglr, a.v_int, a.eta_int,
               a.f_datapoints, a.prev_xtrsrc, a.taustart_ts
        FROM f JOIN skytrap.assocxtrsource a ON a.runcat = f.old
        ORDER BY f.n, a.id),
    flux AS (
        INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
            sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak,
            sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq, sum_f_int_weight,
            sum_weighted_f_int, sum_weighted_f_int_sq, first_ts, last_ts, last_xtrsrc,
            last_prev_xtrsrc, last_f_int, max_f_int, varmetric_band)
        SELECT f.new, c.band, c.stokes, c.f_datapoints, c.sum_f_peak, c.sum_f_peak_sq,
               c.sum_f_peak_weight, c.sum_weighted_f_peak, c.sum_weighted_f_peak_sq,
               c.sum_f_int, c.sum_f_int_sq, c.sum_f_int_weight, c.sum_weighted_f_int,
               c.sum_weighted_f_int_sq, c.first_ts, c.last_ts, c.last_xtrsrc,
               c.last_prev_xtrsrc, c.last_f_int, c.max_f_int, c.varmetric_band
        FROM f JOIN skytrap.runningcatalog_flux c ON c.runcat = f.old
        ORDER BY f.n, c.id),
    regions AS (
        INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
        SELECT f.new, r.skyrgn, r.distance_deg
        FROM f JOIN skytrap.assocskyrgn r ON r.runcat = f.old
        ORDER BY f.n, r.id)
    INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image,
        newsource_type)
    SELECT f.new, n.trigger_xtrsrc, n.previous_limits_image, n.newsource_type
    FROM f JOIN skytrap.newsource n ON n.runcat = f.old
    ORDER BY f.n;

    UPDATE skytrap.extractedsource SET ff_runcat = NULL
    WHERE ff_runcat = ANY (fork_lightcurves.old);
    DELETE FROM skytrap.runningcatalog WHERE id = ANY (fork_lightcurves.old);
END
$$;
