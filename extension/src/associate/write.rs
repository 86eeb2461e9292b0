//! What association writes, each kind of row in one set-based statement: lightcurves
//! started, moved and forked, links, flux rows and new sources.

use super::{Image, Links, Source};
use pgrx::datum::DatumWithOid;
use pgrx::spi::{self, SpiClient};
use skytrap_core::associate::RunningPosition;
use skytrap_core::newsource::NewSource;
use skytrap_core::varmetric::BandState;
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
    /// The measurement's errors, which join the lightcurve's sums of errors.
    ra_err: Vec<f64>,
    decl_err: Vec<f64>,
}

/// The SQL that unnests a `Moved`'s columns, bound as $1 to $9 by `Moved::args`.
const UNNEST_MOVED: &str =
    "unnest($1::bigint[], $2::bigint[], $3::int[], $4::float8[], $5::float8[],
                   $6::float8[], $7::float8[], $8::float8[], $9::float8[])";

impl Moved {
    /// Lightcurve `runcat` at position `p` after measurement `s`.
    pub(super) fn push(&mut self, runcat: i64, s: &Source, p: &RunningPosition) {
        self.runcat.push(runcat);
        self.xtrsrc.push(s.id);
        self.ra_err.push(s.ra_err);
        self.decl_err.push(s.decl_err);
        self.datapoints.push(p.datapoints);
        self.wm_ra.push(p.wm_ra);
        self.wm_decl.push(p.wm_decl);
        self.sum_weight_ra.push(p.sum_weight_ra);
        self.sum_weight_decl.push(p.sum_weight_decl);
    }

    pub(super) fn len(&self) -> usize {
        self.runcat.len()
    }

    /// The columns as arguments $1 to $9, in the order `UNNEST_MOVED` reads them.
    fn args(&self) -> Vec<DatumWithOid<'static>> {
        vec![
            self.runcat.clone().into(),
            self.xtrsrc.clone().into(),
            self.datapoints.clone().into(),
            self.wm_ra.clone().into(),
            self.wm_decl.clone().into(),
            self.sum_weight_ra.clone().into(),
            self.sum_weight_decl.clone().into(),
            self.ra_err.clone().into(),
            self.decl_err.clone().into(),
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
                 sum_ra_err = r.sum_ra_err + u.ra_err, sum_decl_err = r.sum_decl_err + u.decl_err,
                 forcedfits_count = 0
             FROM {UNNEST_MOVED}
                  AS u(runcat, xtrsrc, datapoints, wm_ra, wm_decl, swr, swd, ra_err, decl_err)
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
        m.push(0, s, &RunningPosition::first(&s.position));
    }
    let mut args = m.args();
    args.push(dataset.into());
    args.push(mon_src.into());
    let rows = client.update(
        &format!(
            "INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl,
                 sum_weight_ra, sum_weight_decl, sum_ra_err, sum_decl_err, mon_src)
             SELECT u.xtrsrc, $10, u.datapoints, u.wm_ra, u.wm_decl, u.swr, u.swd, u.ra_err,
                    u.decl_err, $11
             FROM {UNNEST_MOVED} WITH ORDINALITY
                  AS u(runcat, xtrsrc, datapoints, wm_ra, wm_decl, swr, swd, ra_err, decl_err, n)
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
pub(super) fn forks(client: &mut SpiClient<'_>, fork: &Moved) -> Result<Vec<i64>, spi::Error> {
    if fork.runcat.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client.update(
        &format!(
            "INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl,
                 sum_weight_ra, sum_weight_decl, sum_ra_err, sum_decl_err)
             SELECT u.xtrsrc, o.dataset, u.datapoints, u.wm_ra, u.wm_decl, u.swr, u.swd,
                    o.sum_ra_err + u.ra_err, o.sum_decl_err + u.decl_err
             FROM {UNNEST_MOVED} WITH ORDINALITY
                  AS u(old, xtrsrc, datapoints, wm_ra, wm_decl, swr, swd, ra_err, decl_err, n)
             JOIN skytrap.runningcatalog o ON o.id = u.old
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
    client.update(
        // Materialized, so that the cones are read from the regions' index, never from
        // the catalogue's around each region.
        "WITH r AS MATERIALIZED (
             SELECT id, dataset, wm_ra, wm_decl FROM skytrap.runningcatalog WHERE id = ANY($1))
         INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
         SELECT r.id, s.id, skytrap.distance(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl)
         FROM r
         JOIN skytrap.skyregion s
              ON skytrap.xmatch(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl, $2)
         WHERE s.dataset = r.dataset AND skytrap.skyregion_covers(s, r.wm_ra, r.wm_decl)
         ORDER BY r.id, s.id",
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

/// The flux-row columns `flux_args` binds, unnested as `u`: $1 and $4 to $21 ($2 and $3
/// are the image's band and Stokes parameter).
const UNNEST_FLUX: &str = "unnest($1::bigint[], $4::int[], $5::float8[], $6::float8[],
             $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[],
             $12::float8[], $13::float8[], $14::float8[], $15::float8[], $16::float8[],
             $17::bigint[], $18::bigint[], $19::float8[], $20::float8[], $21::bool[])
         AS u(runcat, n, p1, p2, p3, p4, p5, i1, i2, i3, i4, i5, first, last, last_xtrsrc,
              last_prev, last_f_int, max_f_int, shown)";

/// Stores each lightcurve's state (`states`, in the order of `runcats`) in the image's band
/// and Stokes parameter, and whether the variability summary shows that row (`shown`):
/// rows that exist (`stored`) are updated in place, by key (an update that changes no
/// indexed column and stays on its page: HOT), the others inserted.
pub(super) fn flux_rows(
    client: &mut SpiClient<'_>,
    image: &Image,
    runcats: &[i64],
    states: &[BandState],
    shown: &[bool],
    stored: &[bool],
) -> Result<(), spi::Error> {
    let (old, new): (Vec<usize>, Vec<usize>) = (0..runcats.len()).partition(|&i| stored[i]);
    if !old.is_empty() {
        client.update(
            &format!(
                "UPDATE skytrap.runningcatalog_flux f SET
                     f_datapoints = u.n, sum_f_peak = u.p1, sum_f_peak_sq = u.p2,
                     sum_f_peak_weight = u.p3, sum_weighted_f_peak = u.p4,
                     sum_weighted_f_peak_sq = u.p5, sum_f_int = u.i1, sum_f_int_sq = u.i2,
                     sum_f_int_weight = u.i3, sum_weighted_f_int = u.i4,
                     sum_weighted_f_int_sq = u.i5,
                     first_ts = to_timestamp(u.first) AT TIME ZONE 'UTC',
                     last_ts = to_timestamp(u.last) AT TIME ZONE 'UTC',
                     last_xtrsrc = u.last_xtrsrc, last_prev_xtrsrc = u.last_prev,
                     last_f_int = u.last_f_int, max_f_int = u.max_f_int,
                     varmetric_band = u.shown
                 FROM {UNNEST_FLUX}
                 WHERE f.runcat = u.runcat AND f.band = $2 AND f.stokes = $3"
            ),
            None,
            &flux_args(image, &old, runcats, states, shown),
        )?;
    }
    if !new.is_empty() {
        client.update(
            &format!(
                "INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
                     sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak,
                     sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq, sum_f_int_weight,
                     sum_weighted_f_int, sum_weighted_f_int_sq, first_ts, last_ts, last_xtrsrc,
                     last_prev_xtrsrc, last_f_int, max_f_int, varmetric_band)
                 SELECT u.runcat, $2, $3, u.n, u.p1, u.p2, u.p3, u.p4, u.p5, u.i1, u.i2, u.i3,
                        u.i4, u.i5, to_timestamp(u.first) AT TIME ZONE 'UTC',
                        to_timestamp(u.last) AT TIME ZONE 'UTC', u.last_xtrsrc, u.last_prev,
                        u.last_f_int, u.max_f_int, u.shown
                 FROM {UNNEST_FLUX}"
            ),
            None,
            &flux_args(image, &new, runcats, states, shown),
        )?;
    }
    Ok(())
}

/// The arguments of `UNNEST_FLUX` for the rows `at`.
fn flux_args(
    image: &Image,
    at: &[usize],
    runcats: &[i64],
    states: &[BandState],
    shown: &[bool],
) -> Vec<DatumWithOid<'static>> {
    let col =
        |g: fn(&BandState) -> f64| -> Vec<f64> { at.iter().map(|&i| g(&states[i])).collect() };
    let last = |i: usize| {
        states[i]
            .last
            .expect("a state with a point has a last point")
    };
    let runcat: Vec<i64> = at.iter().map(|&i| runcats[i]).collect();
    let n: Vec<i32> = at.iter().map(|&i| states[i].peak.n).collect();
    let last_epoch: Vec<f64> = at.iter().map(|&i| last(i).epoch).collect();
    let last_xtrsrc: Vec<i64> = at.iter().map(|&i| last(i).xtrsrc).collect();
    let last_previous: Vec<Option<i64>> = at.iter().map(|&i| last(i).previous).collect();
    let last_f_int: Vec<f64> = at.iter().map(|&i| last(i).f_int).collect();
    let shown: Vec<bool> = at.iter().map(|&i| shown[i]).collect();
    vec![
        runcat.into(),
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
        col(|s| s.first).into(),
        last_epoch.into(),
        last_xtrsrc.into(),
        last_previous.into(),
        last_f_int.into(),
        col(|s| s.max_f_int).into(),
        shown.into(),
    ]
}

/// Other Stokes I flux rows of the lightcurves whose variability summary moved to or from
/// them, given as (runcat, band, shown).
pub(super) fn summary_bands(
    client: &mut SpiClient<'_>,
    changed: Vec<(i64, i32, bool)>,
) -> Result<(), spi::Error> {
    if changed.is_empty() {
        return Ok(());
    }
    let (runcat, rest): (Vec<i64>, Vec<(i32, bool)>) =
        changed.into_iter().map(|(r, b, s)| (r, (b, s))).unzip();
    let (band, shown): (Vec<i32>, Vec<bool>) = rest.into_iter().unzip();
    client.update(
        "UPDATE skytrap.runningcatalog_flux f SET varmetric_band = u.shown
         FROM unnest($1::bigint[], $2::int[], $3::bool[]) AS u(runcat, band, shown)
         WHERE f.runcat = u.runcat AND f.band = u.band AND f.stokes = 1",
        None,
        &[runcat.into(), band.into(), shown.into()],
    )?;
    Ok(())
}

/// Stores the links, each with V, η and the count of its lightcurve's integrated flux
/// after it (`flux`, in link order) and its previous point.
pub(super) fn links(
    client: &mut SpiClient<'_>,
    image: &Image,
    links: &Links,
    flux: &[BandState],
    previous: &[Option<i64>],
) -> Result<(), spi::Error> {
    let v: Vec<f64> = flux.iter().map(|s| s.int.v()).collect();
    let eta: Vec<f64> = flux.iter().map(|s| s.int.eta()).collect();
    let n: Vec<i32> = flux.iter().map(|s| s.int.n).collect();
    let args: Vec<DatumWithOid> = vec![
        links.runcat.clone().into(),
        links.xtrsrc.clone().into(),
        links.kind.clone().into(),
        links.distance_arcsec.clone().into(),
        links.r.clone().into(),
        v.into(),
        eta.into(),
        n.into(),
        previous.to_vec().into(),
        image.id.into(),
    ];
    client.update(
        "INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int,
             eta_int, f_datapoints, prev_xtrsrc, taustart_ts)
         SELECT u.*, i.taustart_ts
         FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::float8[], $5::float8[],
                     $6::float8[], $7::float8[], $8::int[], $9::bigint[]) AS u,
              skytrap.image i
         WHERE i.id = $10",
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
         JOIN skytrap.extractedsource x ON x.id = u.xtrsrc
         JOIN skytrap.image i ON i.id = x.image
         WHERE a.runcat = u.runcat AND a.taustart_ts = i.taustart_ts AND a.xtrsrc = u.xtrsrc",
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

/// The image is associated: its `associated_at` is set.
pub(super) fn associated(client: &mut SpiClient<'_>, image_id: i32) -> Result<(), spi::Error> {
    client.update(
        "UPDATE skytrap.image SET associated_at = now() WHERE id = $1",
        None,
        &[image_id.into()],
    )?;
    Ok(())
}
