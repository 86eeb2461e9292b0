-- What loaders call while storing an image: the dataset's lock, then, inside the INSERT
-- of the image row and under that lock, where the image belongs (its frequency band and
-- its sky region).

-- The dataset's lock, held until the transaction ends: loaders of one dataset take turns
-- storing and associating images. It is the dataset's row, which only roles that may
-- update skytrap.dataset (its loaders) can lock, where an advisory lock is any role's to
-- hold. Where the session sets no lock_timeout of its own, it waits at most 10 minutes
-- (long enough for another loader to store an image, short of waiting for ever on a
-- session that holds the lock and does nothing), then fails with one line saying why.
CREATE FUNCTION skytrap.lock_dataset(dataset integer)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = skytrap, pg_temp
AS $$
DECLARE
    name text;
BEGIN
    SELECT d.description INTO name FROM skytrap.dataset d WHERE d.id = lock_dataset.dataset;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'skytrap.lock_dataset: dataset % does not exist', dataset
            USING ERRCODE = 'no_data_found';
    END IF;
    IF current_setting('lock_timeout') = '0' THEN
        PERFORM set_config('lock_timeout', '10min', true);
    END IF;
    PERFORM FROM skytrap.dataset d WHERE d.id = lock_dataset.dataset FOR NO KEY UPDATE;
EXCEPTION WHEN lock_not_available THEN
    RAISE EXCEPTION 'dataset ''%'' is locked: another loader holds it and kept it past lock_timeout (%); run the load again once that loader is done',
        name, current_setting('lock_timeout')
        USING ERRCODE = 'lock_not_available';
END
$$;

-- Forgets a rejected image, so that `skytrap load --retry-rejected` can process it again
-- as a new one: the image row and its rejection go. An image that is not rejected, or
-- that has measurements, is refused. It runs as the extension's owner because loaders
-- may not delete images (nor anything else they did not write in the same transaction);
-- this is the one image they may remove. The caller holds the dataset's lock.
CREATE FUNCTION skytrap.forget_rejected_image(image integer)
RETURNS void
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = skytrap, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM skytrap.rejection r WHERE r.image = forget_rejected_image.image) THEN
        RAISE EXCEPTION 'skytrap.forget_rejected_image: image % is not a rejected image', image
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM skytrap.extractedsource x WHERE x.image = forget_rejected_image.image)
       OR EXISTS (SELECT FROM skytrap.image i
                  WHERE i.id = forget_rejected_image.image AND i.associated_at IS NOT NULL) THEN
        RAISE EXCEPTION 'skytrap.forget_rejected_image: image % has measurements', image
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    DELETE FROM skytrap.image i WHERE i.id = forget_rejected_image.image;
END
$$;

-- The first band of the dataset whose interval overlaps [freq_eff ± freq_bw/2], or a new
-- band centred on this image (TraP's get_band). Frequencies in Hz. NULL for a NULL
-- argument; an error for a NaN or infinite freq_eff or a NaN, infinite or negative
-- freq_bw (which no band should be made of), and for a dataset that does not exist.
CREATE FUNCTION skytrap.frequencyband_for(dataset integer, freq_eff double precision,
                                          freq_bw double precision)
RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = skytrap, pg_temp
AS $$
DECLARE
    lo   double precision := freq_eff - freq_bw / 2;
    hi   double precision := freq_eff + freq_bw / 2;
    band integer;
BEGIN
    IF NOT (freq_eff > '-Infinity' AND freq_eff < 'Infinity'
            AND freq_bw >= 0 AND freq_bw < 'Infinity') THEN
        RAISE EXCEPTION 'skytrap.frequencyband_for: freq_eff % and freq_bw % are not a frequency band',
            freq_eff, freq_bw
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'freq_eff must be finite, freq_bw finite and not negative (Hz).';
    END IF;
    SELECT b.id INTO band
    FROM skytrap.frequencyband b
    WHERE b.dataset = frequencyband_for.dataset
      AND (greatest(hi, b.freq_high) - least(lo, b.freq_low) < (hi - lo) + (b.freq_high - b.freq_low)
           OR b.freq_central = freq_eff)
    ORDER BY b.id
    LIMIT 1;
    IF band IS NULL THEN
        INSERT INTO skytrap.frequencyband (dataset, freq_central, freq_low, freq_high)
        VALUES (frequencyband_for.dataset, freq_eff, lo, hi)
        RETURNING id INTO band;
    END IF;
    RETURN band;
END
$$;

-- Whether a sky region's search covered (ra, decl): nearer its centre than xtr_radius
-- and, where it has a footprint, inside it. Inlined into its callers, so it sets no
-- search_path (which would stop that): its functions are schema-qualified and its
-- operators built-in ones on exact types, which pg_catalog, searched first, resolves.
CREATE FUNCTION skytrap.skyregion_covers(region skytrap.skyregion, ra double precision,
                                         decl double precision)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT skytrap.distance(region.centre_ra, region.centre_decl, ra, decl) < region.xtr_radius
       AND (region.footprint IS NULL OR skytrap.in_polygon_exact(ra, decl, region.footprint))
$$;

-- The sky region (centre and radius, degrees, and the searched area's outline where the
-- circle alone would claim more) of the dataset, created on first use; a new region is
-- linked to the running-catalogue sources it covers. The centre's RA is taken modulo 360
-- (-10 is 350). NULL for a NULL dataset, centre or radius; an error for a NaN or infinite
-- coordinate, a declination outside [-90, 90], a NaN or negative radius, a footprint that
-- is no polygon within a hemisphere, and for a dataset that does not exist.
CREATE FUNCTION skytrap.skyregion_for(dataset integer, centre_ra double precision,
                                      centre_decl double precision, xtr_radius double precision,
                                      footprint double precision[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = skytrap, pg_temp
AS $$
DECLARE
    region integer;
    found  skytrap.skyregion;
BEGIN
    IF dataset IS NULL OR centre_ra IS NULL OR centre_decl IS NULL OR xtr_radius IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT (centre_ra > '-Infinity' AND centre_ra < 'Infinity'
            AND centre_decl BETWEEN -90 AND 90 AND xtr_radius >= 0 AND xtr_radius < 'NaN') THEN
        RAISE EXCEPTION 'skytrap.skyregion_for: centre (%, %) and radius % are not a sky region',
            centre_ra, centre_decl, xtr_radius
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'RA must be finite, declination in [-90, 90], the radius not negative (degrees).';
    END IF;
    IF footprint IS NOT NULL AND skytrap.polygon_cone(footprint) IS NULL THEN
        RAISE EXCEPTION 'skytrap.skyregion_for: the footprint is not a polygon within a hemisphere'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'A footprint is {ra1, dec1, ra2, dec2, ...}: at least three vertices, degrees.';
    END IF;
    -- Into [0, 360): a tiny negative RA would round to 360 itself.
    centre_ra := centre_ra - 360 * floor(centre_ra / 360);
    IF centre_ra >= 360 THEN
        centre_ra := 0;
    END IF;
    SELECT s.id INTO region
    FROM skytrap.skyregion s
    WHERE s.dataset = skyregion_for.dataset AND s.centre_ra = skyregion_for.centre_ra
      AND s.centre_decl = skyregion_for.centre_decl AND s.xtr_radius = skyregion_for.xtr_radius
      AND s.footprint IS NOT DISTINCT FROM skyregion_for.footprint;
    IF region IS NULL THEN
        INSERT INTO skytrap.skyregion (dataset, centre_ra, centre_decl, xtr_radius, footprint)
        VALUES (skyregion_for.dataset, skyregion_for.centre_ra, skyregion_for.centre_decl,
                skyregion_for.xtr_radius, skyregion_for.footprint)
        RETURNING * INTO found;
        region := found.id;
        INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
        SELECT r.id, region, skytrap.distance(skyregion_for.centre_ra, skyregion_for.centre_decl, r.wm_ra, r.wm_decl)
        FROM skytrap.runningcatalog r
        WHERE skytrap.xmatch(skyregion_for.centre_ra, skyregion_for.centre_decl, r.wm_ra, r.wm_decl,
                             skyregion_for.xtr_radius)
          AND r.dataset = skyregion_for.dataset
          AND skytrap.skyregion_covers(found, r.wm_ra, r.wm_decl)
        ORDER BY r.id;
    END IF;
    RETURN region;
END
$$;
