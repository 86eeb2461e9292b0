-- `make demo`'s report: what skytrap found beside the simulator's truth.
-- psql -v truth=/path/to/truth.csv -f report.sql
\pset footer off
CREATE TEMP TABLE truth (source int, kind text, ra float8, decl float8, x float8, y float8,
                         epoch int, date_obs timestamp, flux float8);
\set copy '\\copy truth FROM ' :'truth' ' CSV HEADER'
:copy

\echo
\echo 'Injected transients beside the new sources skytrap found (matched within 5 arcsec):'
WITH injected AS (
    SELECT source, min(ra) AS ra, min(decl) AS decl,
           min(date_obs) FILTER (WHERE flux > 0) AS first_on, max(flux) AS peak
    FROM truth WHERE kind = 'transient' GROUP BY source
), found AS (
    SELECT n.runcat, r.wm_ra, r.wm_decl, i.taustart_ts, x.f_peak, n.newsource_type
    FROM skytrap.newsource n
    JOIN skytrap.runningcatalog r ON r.id = n.runcat
    JOIN skytrap.dataset d ON d.id = r.dataset AND d.description = 'demo'
    JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc
    JOIN skytrap.image i ON i.id = x.image
), pairs AS (
    SELECT t.source, t.first_on, t.peak, f.*,
           skytrap.distance(t.ra, t.decl, f.wm_ra, f.wm_decl) * 3600 AS offset_arcsec
    FROM injected t
    LEFT JOIN found f ON skytrap.distance(t.ra, t.decl, f.wm_ra, f.wm_decl) < 5.0 / 3600
    UNION ALL
    SELECT NULL, NULL, NULL, f.*, NULL
    FROM found f
    WHERE NOT EXISTS (SELECT 1 FROM injected t
                      WHERE skytrap.distance(t.ra, t.decl, f.wm_ra, f.wm_decl) < 5.0 / 3600)
)
SELECT coalesce(source::text, 'none') AS "truth: source",
       to_char(first_on, 'YYYY-MM-DD') AS "appears",
       round((peak * 1000)::numeric, 1) AS "mJy",
       coalesce(runcat::text, 'MISSED') AS "found: runcat",
       to_char(taustart_ts, 'YYYY-MM-DD') AS "first seen",
       round((f_peak * 1000)::numeric, 1) AS "mJy ",
       CASE newsource_type WHEN 1 THEN 'likely' WHEN 0 THEN 'possible' END AS "transient?",
       round(offset_arcsec::numeric, 2) AS "offset arcsec"
FROM pairs
WHERE first_on IS NOT NULL OR source IS NULL
ORDER BY coalesce(first_on, taustart_ts), source;

\echo 'The most variable lightcurves by eta (integrated flux), with what the simulator injected:'
SELECT v.runcat, round(v.eta_int::numeric, 1) AS eta, round(v.v_int::numeric, 3) AS "V",
       v.datapoints AS points, round((v.lightcurve_avg * 1000)::numeric, 1) AS "mean mJy",
       coalesce((SELECT t.kind FROM truth t
                 WHERE skytrap.distance(t.ra, t.decl, r.wm_ra, r.wm_decl) < 5.0 / 3600
                 LIMIT 1), 'no match') AS "truth: kind"
FROM skytrap.varmetric v
JOIN skytrap.runningcatalog r ON r.id = v.runcat
JOIN skytrap.dataset d ON d.id = r.dataset AND d.description = 'demo'
ORDER BY v.eta_int DESC
LIMIT 8;
