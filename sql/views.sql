-- Views for analysts.

-- Every point of every lightcurve, in time order per source: the query TraP users know as
-- tkp.db.general.lightcurve, for all sources at once. prev_xtrsrc is the point before in
-- the same band and Stokes parameter (NULL for the first), so that comparing each point
-- with the one before is a join by key.
CREATE VIEW skytrap.lightcurve AS
SELECT a.runcat,
       r.dataset,
       x.id AS xtrsrc,
       i.id AS image,
       i.taustart_ts,
       i.band,
       b.freq_central,
       i.stokes,
       x.ra,
       x.decl,
       x.f_peak,
       x.f_peak_err,
       x.f_int,
       x.f_int_err,
       x.det_sigma,
       x.extract_type,
       a.type AS assoc_type,
       a.v_int,
       a.eta_int,
       a.prev_xtrsrc
FROM skytrap.assocxtrsource a
JOIN skytrap.runningcatalog r ON r.id = a.runcat
JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
JOIN skytrap.image i ON i.id = x.image
JOIN skytrap.frequencyband b ON b.id = i.band;

-- TraP's varmetric: each lightcurve's variability summary, in the Stokes I band TraP's
-- rule picks (runningcatalog_flux.varmetric_band). V, η, the largest and mean flux, the
-- count and the time span come from the band's flux row (constant work per point, kept
-- by association); the median and VAST's pair metrics need every point and are computed
-- on read from the band's points, O(n) and O(n²) in them, so a query that ranks by η and
-- takes a few rows computes them for those rows alone. The significance over the noise
-- of the earlier image a new source beat comes from its new-source record. id is the
-- lightcurve's.
CREATE FUNCTION skytrap.varmetric_median(runcat bigint, band integer)
RETURNS double precision
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = skytrap, pg_temp
AS $$
    SELECT skytrap.flux_median(array_agg(x.f_int))
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    WHERE a.runcat = varmetric_median.runcat AND i.band = varmetric_median.band
      AND i.stokes = 1
$$;

-- {|Vs|, |m|} of the lightcurve's pair of Stokes I points in the band, peak or integrated
-- flux, with |Vs| at least its dataset's pair_metrics_min_abs_vs and the largest |m|.
CREATE FUNCTION skytrap.varmetric_pair(runcat bigint, band integer, peak boolean)
RETURNS double precision[]
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = skytrap, pg_temp
AS $$
    SELECT skytrap.significant_pair(
               coalesce(array_agg(CASE WHEN varmetric_pair.peak THEN x.f_peak ELSE x.f_int END
                                  ORDER BY i.taustart_ts, x.id), '{}'),
               coalesce(array_agg(CASE WHEN varmetric_pair.peak THEN x.f_peak_err
                                       ELSE x.f_int_err END
                                  ORDER BY i.taustart_ts, x.id), '{}'),
               (SELECT d.pair_metrics_min_abs_vs
                FROM skytrap.runningcatalog r JOIN skytrap.dataset d ON d.id = r.dataset
                WHERE r.id = varmetric_pair.runcat))
    FROM skytrap.assocxtrsource a
    JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
    JOIN skytrap.image i ON i.id = x.image
    WHERE a.runcat = varmetric_pair.runcat AND i.band = varmetric_pair.band AND i.stokes = 1
$$;

CREATE VIEW skytrap.varmetric AS
SELECT f.runcat AS id,
       f.runcat,
       skytrap.lightcurve_stats_v(ARRAY[f.f_datapoints, f.sum_f_int, f.sum_f_int_sq,
           f.sum_f_int_weight, f.sum_weighted_f_int, f.sum_weighted_f_int_sq, 0, 0]) AS v_int,
       skytrap.lightcurve_stats_eta(ARRAY[f.f_datapoints, f.sum_f_int, f.sum_f_int_sq,
           f.sum_f_int_weight, f.sum_weighted_f_int, f.sum_weighted_f_int_sq, 0, 0]) AS eta_int,
       skytrap.lightcurve_stats_v(ARRAY[f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq,
           f.sum_f_peak_weight, f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq, 0, 0]) AS v_peak,
       skytrap.lightcurve_stats_eta(ARRAY[f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq,
           f.sum_f_peak_weight, f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq, 0, 0]) AS eta_peak,
       f.band,
       n.id AS newsource,
       t.f_int / p.rms_max AS sigma_rms_max,
       t.f_int / p.rms_min AS sigma_rms_min,
       f.max_f_int AS lightcurve_max,
       f.avg_f_int AS lightcurve_avg,
       skytrap.varmetric_median(f.runcat, f.band) AS lightcurve_median,
       (skytrap.varmetric_pair(f.runcat, f.band, false))[1] AS vs_abs_significant_max_int,
       (skytrap.varmetric_pair(f.runcat, f.band, false))[2] AS m_abs_significant_max_int,
       (skytrap.varmetric_pair(f.runcat, f.band, true))[1] AS vs_abs_significant_max_peak,
       (skytrap.varmetric_pair(f.runcat, f.band, true))[2] AS m_abs_significant_max_peak,
       f.f_datapoints AS datapoints,
       f.first_ts,
       f.last_ts
FROM skytrap.runningcatalog_flux f
LEFT JOIN skytrap.newsource n ON n.runcat = f.runcat
LEFT JOIN skytrap.extractedsource t ON t.id = n.trigger_xtrsrc
LEFT JOIN skytrap.image p ON p.id = n.previous_limits_image
WHERE f.stokes = 1 AND f.varmetric_band;

-- Views an astronomer starts from. Each row names its dataset (`dataset_name`), codes
-- come with their names, and times are timestamptz in UTC, so pandas and astropy read them
-- unambiguously. Frequencies in MHz here (Hz in the tables).

-- Every image, with its band, noise and beam, and why it was rejected (NULL: accepted).
CREATE VIEW skytrap.images AS
SELECT d.description AS dataset_name,
       i.dataset,
       i.id AS image,
       i.url,
       i.telescope,
       i.object,
       i.taustart_ts AT TIME ZONE 'UTC' AS observed_at,
       i.band,
       b.freq_central / 1e6 AS freq_mhz,
       st.name AS stokes,
       i.rms_qc,
       i.rms_min,
       i.rms_max,
       i.detection_thresh,
       2 * i.rb_smaj * 3600 AS beam_major_arcsec,
       2 * i.rb_smin * 3600 AS beam_minor_arcsec,
       i.rb_pa AS beam_pa,
       i.associated_at,
       rr.description AS rejected,
       rj.comment AS rejection_detail,
       i.job_settings
FROM skytrap.image i
JOIN skytrap.dataset d ON d.id = i.dataset
JOIN skytrap.frequencyband b ON b.id = i.band
LEFT JOIN skytrap.stokes st ON st.id = i.stokes
LEFT JOIN skytrap.rejection rj ON rj.image = i.id
LEFT JOIN skytrap.rejectreason rr ON rr.id = rj.rejectreason;

-- Every lightcurve point, blind or forced, the measurement named in words.
CREATE VIEW skytrap.lightcurves AS
SELECT d.description AS dataset_name,
       l.dataset,
       l.runcat,
       l.xtrsrc,
       l.image,
       l.taustart_ts AT TIME ZONE 'UTC' AS observed_at,
       l.band,
       l.freq_central / 1e6 AS freq_mhz,
       st.name AS stokes,
       l.ra,
       l.decl,
       l.f_peak,
       l.f_peak_err,
       l.f_int,
       l.f_int_err,
       l.det_sigma,
       et.name AS measured_as,
       at.name AS link,
       l.v_int,
       l.eta_int
FROM skytrap.lightcurve l
JOIN skytrap.dataset d ON d.id = l.dataset
LEFT JOIN skytrap.stokes st ON st.id = l.stokes
LEFT JOIN skytrap.extract_type et ON et.id = l.extract_type
LEFT JOIN skytrap.assoc_type at ON at.id = l.assoc_type;

-- Each lightcurve's variability: TraP's η and V, VAST's two-epoch metrics, its flux
-- summary and time span, and whether it began as a new source.
CREATE VIEW skytrap.variability AS
SELECT d.description AS dataset_name,
       r.dataset,
       r.id AS runcat,
       r.wm_ra,
       r.wm_decl,
       v.band,
       b.freq_central / 1e6 AS freq_mhz,
       v.datapoints,
       v.eta_int,
       v.v_int,
       v.eta_peak,
       v.v_peak,
       v.vs_abs_significant_max_int,
       v.m_abs_significant_max_int,
       v.vs_abs_significant_max_peak,
       v.m_abs_significant_max_peak,
       v.lightcurve_max,
       v.lightcurve_avg,
       v.lightcurve_median,
       v.first_ts AT TIME ZONE 'UTC' AS first_seen,
       v.last_ts AT TIME ZONE 'UTC' AS last_seen,
       v.newsource IS NOT NULL AS new_source
FROM skytrap.varmetric v
JOIN skytrap.runningcatalog r ON r.id = v.runcat
JOIN skytrap.dataset d ON d.id = r.dataset
JOIN skytrap.frequencyband b ON b.id = v.band;

-- Transient candidates: each new source with its first detection, the image it was
-- found in, the earlier image whose limit it beat, and TraP's significance over that
-- image's lowest and highest noise.
CREATE VIEW skytrap.candidates AS
SELECT d.description AS dataset_name,
       r.dataset,
       n.runcat,
       r.wm_ra,
       r.wm_decl,
       nt.name AS likelihood,
       x.id AS xtrsrc,
       x.image,
       i.url,
       i.taustart_ts AT TIME ZONE 'UTC' AS observed_at,
       b.freq_central / 1e6 AS freq_mhz,
       x.f_peak,
       x.f_peak_err,
       x.f_int,
       x.f_int_err,
       x.det_sigma,
       v.sigma_rms_min,
       v.sigma_rms_max,
       n.previous_limits_image,
       p.taustart_ts AT TIME ZONE 'UTC' AS previous_limits_observed_at
FROM skytrap.newsource n
JOIN skytrap.runningcatalog r ON r.id = n.runcat
JOIN skytrap.dataset d ON d.id = r.dataset
JOIN skytrap.newsource_type nt ON nt.id = n.newsource_type
JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc
JOIN skytrap.image i ON i.id = x.image
JOIN skytrap.frequencyband b ON b.id = i.band
JOIN skytrap.image p ON p.id = n.previous_limits_image
LEFT JOIN skytrap.varmetric v ON v.runcat = n.runcat;
