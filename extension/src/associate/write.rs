//! What association writes, each kind of row in one set-based statement: lightcurves
//! started, moved and forked, links, flux sums, new sources and variability summaries.

use super::{Image, Links, Source};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{self, SpiClient};
use skytrap_core::associate::RunningPosition;
use skytrap_core::newsource::NewSource;
use skytrap_core::varmetric::{BandState, Summary};
use std::collections::{HashMap, HashSet};

/// New positions of lightcurves that gained a point, as columns for `unnest`.
#[derive(Default)]
pub(super) struct Moved {
    runcat: Vec<i64>,
    xtrsrc: Vec<i64>,
    datapoints: Vec<i32>,
    wm_ra: Vec<f64>,
    wm_decl: Vec<f64>,
    sum_weight_ra: Vec<f64>,
    sum_weight_decl: Vec<f64>,
}

/// The SQL that unnests a `Moved`'s columns, bound as $1 to $7 by `Moved::args`.
const UNNEST_MOVED: &str =
    "unnest($1::bigint[], $2::bigint[], $3::int[], $4::float8[], $5::float8[],
                   $6::float8[], $7::float8[])";

impl Moved {
    /// Lightcurve `runcat` at position `p` after measurement `xtrsrc`.
    pub(super) fn push(&mut self, runcat: i64, xtrsrc: i64, p: &RunningPosition) {
        self.runcat.push(runcat);
        self.xtrsrc.push(xtrsrc);
        self.datapoints.push(p.datapoints);
        self.wm_ra.push(p.wm_ra);
        self.wm_decl.push(p.wm_decl);
        self.sum_weight_ra.push(p.sum_weight_ra);
        self.sum_weight_decl.push(p.sum_weight_decl);
    }

    pub(super) fn len(&self) -> usize {
        self.runcat.len()
    }

    /// The columns as arguments $1 to $7, in the order `UNNEST_MOVED` reads them.
    fn args(&self) -> Vec<DatumWithOid<'static>> {
        vec![
            self.runcat.clone().into(),
            self.xtrsrc.clone().into(),
            self.datapoints.clone().into(),
            self.wm_ra.clone().into(),
            self.wm_decl.clone().into(),
            self.sum_weight_ra.clone().into(),
            self.sum_weight_decl.clone().into(),
        ]
    }
}

/// Lightcurves extended by a blind detection move to their new positions.
pub(super) fn moved(client: &mut SpiClient<'_>, m: &Moved) -> Result<(), spi::Error> {
    if m.runcat.is_empty() {
        return Ok(());
    }
    client.update(
        &format!(
            "UPDATE skytrap.runningcatalog r
             SET datapoints = u.datapoints, wm_ra = u.wm_ra, wm_decl = u.wm_decl,
                 sum_weight_ra = u.swr, sum_weight_decl = u.swd,
                 sum_ra_err = r.sum_ra_err + x.ra_err, sum_decl_err = r.sum_decl_err + x.decl_err,
                 forcedfits_count = 0
             FROM {UNNEST_MOVED} AS u(runcat, xtrsrc, datapoints, wm_ra, wm_decl, swr, swd)
             JOIN skytrap.extractedsource x ON x.id = u.xtrsrc
             WHERE r.id = u.runcat"
        ),
        None,
        &m.args(),
    )?;
    Ok(())
}

/// Starts a lightcurve for each source (a monitor's own where `mon_src`); returns the new
/// ids in input order.
pub(super) fn fresh(
    client: &mut SpiClient<'_>,
    dataset: i32,
    fresh: &[&Source],
    mon_src: bool,
) -> Result<Vec<i64>, spi::Error> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let mut m = Moved::default();
    for s in fresh {
        m.push(0, s.id, &RunningPosition::first(&s.position));
    }
    let mut args = m.args();
    args.push(dataset.into());
    args.push(mon_src.into());
    let rows = client.update(
        &format!(
            "INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl,
                 sum_weight_ra, sum_weight_decl, sum_ra_err, sum_decl_err, mon_src)
             SELECT u.xtrsrc, $8, u.datapoints, u.wm_ra, u.wm_decl, u.swr, u.swd, x.ra_err,
                    x.decl_err, $9
             FROM {UNNEST_MOVED}
                  WITH ORDINALITY AS u(runcat, xtrsrc, datapoints, wm_ra, wm_decl, swr, swd, n)
             JOIN skytrap.extractedsource x ON x.id = u.xtrsrc
             ORDER BY u.n
             RETURNING id, xtrsrc"
        ),
        None,
        &args,
    )?;
    ids_by_source(rows, &m.xtrsrc)
}

/// The new running-catalogue ids of an `INSERT ... RETURNING id, xtrsrc`, in the order of
/// `xtrsrc` (RETURNING promises no order).
fn ids_by_source(rows: spi::SpiTupleTable<'_>, xtrsrc: &[i64]) -> Result<Vec<i64>, spi::Error> {
    let mut by_source = HashMap::with_capacity(xtrsrc.len());
    for row in rows {
        let id: i64 = row.get(1)?.unwrap_or_default();
        let x: i64 = row.get(2)?.unwrap_or_default();
        by_source.insert(x, id);
    }
    Ok(xtrsrc.iter().map(|x| by_source[x]).collect())
}

/// One-to-many: each (old lightcurve, source) in `fork` becomes a new lightcurve at the
/// updated position, to which `skytrap.fork_lightcurves` (sql/forks.sql) gives the old
/// one's history before deleting it. Returns the new ids in input order.
pub(super) fn forks(
    client: &mut SpiClient<'_>,
    fork: &Moved,
    image: &Image,
) -> Result<Vec<i64>, spi::Error> {
    if fork.runcat.is_empty() {
        return Ok(Vec::new());
    }
    if !image.can_fork {
        error!(
            "skytrap.associate_image: image {} forks a lightcurve, which this database cannot \
             store before its skytrap schema is updated: run ALTER EXTENSION skytrap UPDATE",
            image.id
        );
    }
    let rows = client.update(
        &format!(
            "INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl,
                 sum_weight_ra, sum_weight_decl, sum_ra_err, sum_decl_err)
             SELECT u.xtrsrc, o.dataset, u.datapoints, u.wm_ra, u.wm_decl, u.swr, u.swd,
                    o.sum_ra_err + x.ra_err, o.sum_decl_err + x.decl_err
             FROM {UNNEST_MOVED}
                  WITH ORDINALITY AS u(old, xtrsrc, datapoints, wm_ra, wm_decl, swr, swd, n)
             JOIN skytrap.runningcatalog o ON o.id = u.old
             JOIN skytrap.extractedsource x ON x.id = u.xtrsrc
             ORDER BY u.n
             RETURNING id, xtrsrc"
        ),
        None,
        &fork.args(),
    )?;
    let ids = ids_by_source(rows, &fork.xtrsrc)?;
    client.update(
        "SELECT skytrap.fork_lightcurves($1, $2)",
        None,
        &[fork.runcat.clone().into(), ids.clone().into()],
    )?;
    Ok(ids)
}

/// Deletes this image's forced fits at lightcurves that a blind detection in the same
/// image extends: the loader fits every known position before association, and the
/// blind measurement is the one that counts.
pub(super) fn drop_redundant_forced_fits(
    client: &mut SpiClient<'_>,
    sources: &[Source],
    detected: &HashSet<i64>,
) -> Result<(), spi::Error> {
    let redundant: Vec<i64> = sources
        .iter()
        .filter(|s| s.ff_monitor.is_none() && s.ff_runcat.is_some_and(|rc| detected.contains(&rc)))
        .map(|s| s.id)
        .collect();
    if !redundant.is_empty() {
        client.update(
            "DELETE FROM skytrap.extractedsource WHERE id = ANY($1)",
            None,
            &[redundant.into()],
        )?;
    }
    Ok(())
}

/// Lightcurves that got a null detection count one more forced fit towards expiration.
pub(super) fn null_detections(
    client: &mut SpiClient<'_>,
    runcats: Vec<i64>,
) -> Result<(), spi::Error> {
    if !runcats.is_empty() {
        client.update(
            "UPDATE skytrap.runningcatalog SET forcedfits_count = forcedfits_count + 1
             WHERE id = ANY($1)",
            None,
            &[runcats.into()],
        )?;
    }
    Ok(())
}

/// Monitor lightcurves extended by a forced fit, as (runcat, xtrsrc): the position stays
/// the monitor's; the point's errors and weights join the sums, so that TraP's averages
/// over datapoints stay averages.
pub(super) fn monitor_points(
    client: &mut SpiClient<'_>,
    points: Vec<(i64, i64)>,
) -> Result<(), spi::Error> {
    if points.is_empty() {
        return Ok(());
    }
    let (runcats, fits): (Vec<i64>, Vec<i64>) = points.into_iter().unzip();
    client.update(
        "UPDATE skytrap.runningcatalog r
         SET datapoints = r.datapoints + 1,
             sum_weight_ra = r.sum_weight_ra + 1 / x.uncertainty_ew ^ 2,
             sum_weight_decl = r.sum_weight_decl + 1 / x.uncertainty_ns ^ 2,
             sum_ra_err = r.sum_ra_err + x.ra_err, sum_decl_err = r.sum_decl_err + x.decl_err
         FROM unnest($1::bigint[], $2::bigint[]) AS u(runcat, xtrsrc)
         JOIN skytrap.extractedsource x ON x.id = u.xtrsrc
         WHERE r.id = u.runcat",
        None,
        &[runcats.into(), fits.into()],
    )?;
    Ok(())
}

/// Each monitor position is given its new lightcurve.
pub(super) fn monitor_lightcurves(
    client: &mut SpiClient<'_>,
    monitors: Vec<i32>,
    runcats: Vec<i64>,
) -> Result<(), spi::Error> {
    client.update(
        "UPDATE skytrap.monitor m SET runcat = u.runcat
         FROM unnest($1::int[], $2::bigint[]) AS u(monitor, runcat) WHERE m.id = u.monitor",
        None,
        &[monitors.into(), runcats.into()],
    )?;
    Ok(())
}

/// Links each new lightcurve to the sky regions of the dataset that cover it, and to its
/// own image's region. The regions are found through their pixel index within `reach`
/// (the dataset's largest region radius), so the cost follows the new lightcurves, not
/// the number of fields the survey has covered.
pub(super) fn sky_regions(
    client: &mut SpiClient<'_>,
    image: &Image,
    runcats: &[i64],
    reach: f64,
) -> Result<(), spi::Error> {
    let covers = if image.footprints_stored {
        "skytrap.skyregion_covers(s, r.wm_ra, r.wm_decl)"
    } else {
        "skytrap.distance(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl) < s.xtr_radius"
    };
    client.update(
        // Materialized, so that the cones are read from the regions' index, never from
        // the catalogue's around each region.
        &format!(
            "WITH r AS MATERIALIZED (
                 SELECT id, dataset, wm_ra, wm_decl FROM skytrap.runningcatalog WHERE id = ANY($1))
             INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
             SELECT r.id, s.id, skytrap.distance(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl)
             FROM r
             JOIN skytrap.skyregion s
                  ON skytrap.xmatch(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl, $2)
             WHERE s.dataset = r.dataset AND {covers}
             ORDER BY r.id, s.id"
        ),
        None,
        &[runcats.to_vec().into(), reach.into()],
    )?;
    client.update(
        "INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
         SELECT r.id, s.id, skytrap.distance(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl)
         FROM skytrap.runningcatalog r, skytrap.skyregion s
         WHERE r.id = ANY($1) AND s.id = $2
         ORDER BY r.id
         ON CONFLICT (runcat, skyrgn) DO NOTHING",
        None,
        &[runcats.to_vec().into(), image.skyrgn.into()],
    )?;
    Ok(())
}

/// Stores each lightcurve's state (`states`, in the order of `runcats`) in the image's band
/// and Stokes parameter.
pub(super) fn flux_sums(
    client: &mut SpiClient<'_>,
    image: &Image,
    runcats: &[i64],
    states: &[BandState],
) -> Result<(), spi::Error> {
    let col = |g: fn(&BandState) -> f64| -> Vec<f64> { states.iter().map(g).collect() };
    let n: Vec<i32> = states.iter().map(|s| s.peak.n).collect();
    let (pair_columns, pair_values, pair_updates) = if image.band_pairs_stored {
        (
            ", vs_abs_significant_max_int, m_abs_significant_max_int,
               vs_abs_significant_max_peak, m_abs_significant_max_peak",
            ", u.vs_int, u.m_int, u.vs_peak, u.m_peak",
            ", vs_abs_significant_max_int = EXCLUDED.vs_abs_significant_max_int,
               m_abs_significant_max_int = EXCLUDED.m_abs_significant_max_int,
               vs_abs_significant_max_peak = EXCLUDED.vs_abs_significant_max_peak,
               m_abs_significant_max_peak = EXCLUDED.m_abs_significant_max_peak",
        )
    } else {
        ("", "", "")
    };
    client.update(
        &format!(
            "INSERT INTO skytrap.runningcatalog_flux AS f (runcat, band, stokes, f_datapoints,
                 sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak,
                 sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq, sum_f_int_weight,
                 sum_weighted_f_int, sum_weighted_f_int_sq{pair_columns})
             SELECT u.runcat, $2, $3, u.n, u.p1, u.p2, u.p3, u.p4, u.p5, u.i1, u.i2, u.i3, u.i4,
                    u.i5{pair_values}
             FROM unnest($1::bigint[], $4::int[], $5::float8[], $6::float8[], $7::float8[],
                         $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[],
                         $13::float8[], $14::float8[], $15::float8[], $16::float8[],
                         $17::float8[], $18::float8[])
                  AS u(runcat, n, p1, p2, p3, p4, p5, i1, i2, i3, i4, i5, vs_int, m_int,
                       vs_peak, m_peak)
             ON CONFLICT (runcat, band, stokes) DO UPDATE SET
                 f_datapoints = EXCLUDED.f_datapoints,
                 sum_f_peak = EXCLUDED.sum_f_peak, sum_f_peak_sq = EXCLUDED.sum_f_peak_sq,
                 sum_f_peak_weight = EXCLUDED.sum_f_peak_weight,
                 sum_weighted_f_peak = EXCLUDED.sum_weighted_f_peak,
                 sum_weighted_f_peak_sq = EXCLUDED.sum_weighted_f_peak_sq,
                 sum_f_int = EXCLUDED.sum_f_int, sum_f_int_sq = EXCLUDED.sum_f_int_sq,
                 sum_f_int_weight = EXCLUDED.sum_f_int_weight,
                 sum_weighted_f_int = EXCLUDED.sum_weighted_f_int,
                 sum_weighted_f_int_sq = EXCLUDED.sum_weighted_f_int_sq{pair_updates}"
        ),
        None,
        &[
            runcats.to_vec().into(),
            image.band.into(),
            image.stokes.into(),
            n.into(),
            col(|s| s.peak.sum_f).into(),
            col(|s| s.peak.sum_f_sq).into(),
            col(|s| s.peak.sum_w).into(),
            col(|s| s.peak.sum_wf).into(),
            col(|s| s.peak.sum_wf_sq).into(),
            col(|s| s.int.sum_f).into(),
            col(|s| s.int.sum_f_sq).into(),
            col(|s| s.int.sum_w).into(),
            col(|s| s.int.sum_wf).into(),
            col(|s| s.int.sum_wf_sq).into(),
            col(|s| s.pair_int.vs_abs).into(),
            col(|s| s.pair_int.m_abs).into(),
            col(|s| s.pair_peak.vs_abs).into(),
            col(|s| s.pair_peak.m_abs).into(),
        ],
    )?;
    Ok(())
}

/// Stores the links, each with V, η and the count of its lightcurve's integrated flux
/// after it (`flux`, in link order) and, where the schema has the column, its previous
/// point.
pub(super) fn links(
    client: &mut SpiClient<'_>,
    links: &Links,
    flux: &[BandState],
    previous: Option<&[Option<i64>]>,
) -> Result<(), spi::Error> {
    let v: Vec<f64> = flux.iter().map(|s| s.int.v()).collect();
    let eta: Vec<f64> = flux.iter().map(|s| s.int.eta()).collect();
    let n: Vec<i32> = flux.iter().map(|s| s.int.n).collect();
    let mut args: Vec<DatumWithOid> = vec![
        links.runcat.clone().into(),
        links.xtrsrc.clone().into(),
        links.kind.clone().into(),
        links.distance_arcsec.clone().into(),
        links.r.clone().into(),
        v.into(),
        eta.into(),
        n.into(),
    ];
    let (column, array) = match previous {
        Some(previous) => {
            args.push(previous.to_vec().into());
            (", prev_xtrsrc", ", $9::bigint[]")
        }
        None => ("", ""),
    };
    client.update(
        &format!(
            "INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int,
                 eta_int, f_datapoints{column})
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::float8[],
                                  $5::float8[], $6::float8[], $7::float8[], $8::int[]{array})"
        ),
        None,
        &args,
    )?;
    Ok(())
}

/// Stored points that a point of this image now precedes name their new previous point,
/// given as (runcat, xtrsrc, previous point).
pub(super) fn later_points(
    client: &mut SpiClient<'_>,
    later: &[(i64, i64, Option<i64>)],
) -> Result<(), spi::Error> {
    if later.is_empty() {
        return Ok(());
    }
    let runcat: Vec<i64> = later.iter().map(|l| l.0).collect();
    let xtrsrc: Vec<i64> = later.iter().map(|l| l.1).collect();
    let previous: Vec<Option<i64>> = later.iter().map(|l| l.2).collect();
    client.update(
        "UPDATE skytrap.assocxtrsource a SET prev_xtrsrc = u.prev
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(runcat, xtrsrc, prev)
         WHERE a.runcat = u.runcat AND a.xtrsrc = u.xtrsrc",
        None,
        &[runcat.into(), xtrsrc.into(), previous.into()],
    )?;
    Ok(())
}

/// `newsource` rows, as columns for `unnest`.
#[derive(Default)]
pub(super) struct NewSources {
    runcat: Vec<i64>,
    trigger: Vec<i64>,
    limits_image: Vec<i32>,
    kind: Vec<i16>,
}

impl NewSources {
    /// Lightcurve `runcat`, started by measurement `trigger`, is new.
    pub(super) fn push(&mut self, runcat: i64, trigger: i64, new: &NewSource) {
        self.runcat.push(runcat);
        self.trigger.push(trigger);
        self.limits_image.push(new.previous_limits_image as i32);
        self.kind.push(new.kind as i16);
    }
}

/// Stores the new sources; returns how many there are.
pub(super) fn new_sources(client: &mut SpiClient<'_>, new: NewSources) -> Result<i32, spi::Error> {
    if new.runcat.is_empty() {
        return Ok(0);
    }
    let count = new.runcat.len() as i32;
    client.update(
        "INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image, newsource_type)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::smallint[])",
        None,
        &[
            new.runcat.into(),
            new.trigger.into(),
            new.limits_image.into(),
            new.kind.into(),
        ],
    )?;
    Ok(count)
}

/// Stores each lightcurve's variability summary (`summaries`, in the order of
/// `runcats`), with TraP's `sigma_rms_min/max` from its new-source record.
pub(super) fn varmetric(
    client: &mut SpiClient<'_>,
    runcats: &[i64],
    summaries: &[Summary],
) -> Result<(), spi::Error> {
    let col = |g: fn(&Summary) -> f64| -> Vec<f64> { summaries.iter().map(g).collect() };
    let band: Vec<i32> = summaries.iter().map(|s| s.band).collect();
    let n: Vec<i32> = summaries.iter().map(|s| s.n).collect();
    client.update(
        "INSERT INTO skytrap.varmetric AS v (runcat, v_int, eta_int, v_peak, eta_peak, band,
             newsource, sigma_rms_max, sigma_rms_min, lightcurve_max, lightcurve_avg,
             lightcurve_median, vs_abs_significant_max_int, m_abs_significant_max_int,
             vs_abs_significant_max_peak, m_abs_significant_max_peak, datapoints, first_ts,
             last_ts)
         SELECT u.runcat, u.v_int, u.eta_int, u.v_peak, u.eta_peak, u.band,
                n.id, t.f_int / p.rms_max, t.f_int / p.rms_min, u.max, u.avg, u.median,
                u.vs_int, u.m_int, u.vs_peak, u.m_peak, u.n,
                to_timestamp(u.first) AT TIME ZONE 'UTC', to_timestamp(u.last) AT TIME ZONE 'UTC'
         FROM unnest($1::bigint[], $2::int[], $3::float8[], $4::float8[], $5::float8[],
                     $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
                     $11::float8[], $12::float8[], $13::float8[], $14::int[], $15::float8[],
                     $16::float8[])
              AS u(runcat, band, v_int, eta_int, v_peak, eta_peak, max, avg, median, vs_int,
                   m_int, vs_peak, m_peak, n, first, last)
         LEFT JOIN skytrap.newsource n ON n.runcat = u.runcat
         LEFT JOIN skytrap.extractedsource t ON t.id = n.trigger_xtrsrc
         LEFT JOIN skytrap.image p ON p.id = n.previous_limits_image
         ORDER BY u.runcat -- new rows get their ids in a fixed order
         ON CONFLICT (runcat) DO UPDATE SET
             v_int = EXCLUDED.v_int, eta_int = EXCLUDED.eta_int, v_peak = EXCLUDED.v_peak,
             eta_peak = EXCLUDED.eta_peak, band = EXCLUDED.band, newsource = EXCLUDED.newsource,
             sigma_rms_max = EXCLUDED.sigma_rms_max, sigma_rms_min = EXCLUDED.sigma_rms_min,
             lightcurve_max = EXCLUDED.lightcurve_max, lightcurve_avg = EXCLUDED.lightcurve_avg,
             lightcurve_median = EXCLUDED.lightcurve_median,
             vs_abs_significant_max_int = EXCLUDED.vs_abs_significant_max_int,
             m_abs_significant_max_int = EXCLUDED.m_abs_significant_max_int,
             vs_abs_significant_max_peak = EXCLUDED.vs_abs_significant_max_peak,
             m_abs_significant_max_peak = EXCLUDED.m_abs_significant_max_peak,
             datapoints = EXCLUDED.datapoints, first_ts = EXCLUDED.first_ts,
             last_ts = EXCLUDED.last_ts",
        None,
        &[
            runcats.to_vec().into(),
            band.into(),
            col(|s| s.v_int).into(),
            col(|s| s.eta_int).into(),
            col(|s| s.v_peak).into(),
            col(|s| s.eta_peak).into(),
            col(|s| s.max).into(),
            col(|s| s.avg).into(),
            col(|s| s.median).into(),
            col(|s| s.pair_int.vs_abs).into(),
            col(|s| s.pair_int.m_abs).into(),
            col(|s| s.pair_peak.vs_abs).into(),
            col(|s| s.pair_peak.m_abs).into(),
            n.into(),
            col(|s| s.first).into(),
            col(|s| s.last).into(),
        ],
    )?;
    Ok(())
}

/// The image is associated: its `associated_at` is set.
pub(super) fn associated(client: &mut SpiClient<'_>, image_id: i32) -> Result<(), spi::Error> {
    client.update(
        "UPDATE skytrap.image SET associated_at = now() WHERE id = $1",
        None,
        &[image_id.into()],
    )?;
    Ok(())
}
