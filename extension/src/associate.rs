//! `skytrap.associate_image(image)`: one call turns an image's extracted sources into
//! lightcurve points. Reads with SPI, decides in `skytrap-core`, writes set-based.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{self, SpiClient};
use skytrap_core::associate::{candidate_pairs, plan, RunningPosition};
use skytrap_core::codes::link;
use skytrap_core::lightcurve::{self, BandPoint};
use skytrap_core::newsource::{self, PreviousImage};
use skytrap_core::sky::Position;
use skytrap_core::variability::{self, FluxSums, SignificantPair};
use std::collections::{HashMap, HashSet};

/// Advisory-lock key space for "one associating transaction per dataset at a time" in a
/// database not yet updated to 0.3.0, whose loaders take this lock; from 0.3.0 the lock is
/// the dataset's row, which no role but a loader may lock.
const DATASET_LOCK_SPACE: i32 = 7291;

struct Image {
    dataset: i32,
    band: i32,
    stokes: i16,
    search_radius: f64,
    r_max: f64,
    margin: f64,
    min_abs_vs: f64,
    /// `taustart_ts` in seconds since 1970.
    epoch: f64,
    /// The image's sky region.
    skyrgn: i32,
    /// Whether links name their previous point (`assocxtrsource.prev_xtrsrc`, from 0.2.0).
    /// A 0.1.0 database that has this library but not yet `ALTER EXTENSION skytrap
    /// UPDATE` is associated as 0.1.0 did, without it.
    previous_stored: bool,
    /// Whether sky regions have footprints (`skyregion.footprint`, from 0.3.0); before,
    /// every region is its circle.
    footprints_stored: bool,
    /// Whether each band's pair summaries are kept with its flux sums
    /// (`runningcatalog_flux.vs_abs_significant_max_int` and the others, from 0.3.0);
    /// before, the one summary in `varmetric` is carried on.
    band_pairs_stored: bool,
}

/// One measurement of the image: blind (`extract_type` 0), or forced at a lightcurve's
/// position (`ff_runcat`) or at a monitor position (`ff_monitor`).
struct Source {
    id: i64,
    ff_runcat: Option<i64>,
    ff_monitor: Option<i32>,
    position: Position,
    f_peak: f64,
    f_peak_err: f64,
    f_int: f64,
    f_int_err: f64,
}

/// Associates the measurements of one image with its dataset's running catalogue, as
/// TraP does: blind detections extend, fork or start lightcurves; forced fits at the
/// positions of lightcurves the blind detections did not extend become null-detection
/// points; forced fits at monitor positions extend (or start) the monitor's lightcurve.
/// First detections brighter than earlier images could have missed become `newsource`
/// rows (which raise alerts), and the variability summary of every lightcurve touched is
/// brought up to date. Locks the dataset's row, so concurrent loaders of one dataset
/// queue up; the caller's transaction makes the whole image atomic.
/// What `associate_image` returns: lightcurves extended one-to-one or many-to-one, new
/// lightcurves, new sources (transient candidates), forks, and forced-fit points.
type Counts = (i32, i32, i32, i32, i32);

// pgrx reads the column names from the literal tuple, so it cannot be a type alias.
#[allow(clippy::type_complexity)]
#[pg_extern]
// Its statements name built-in functions unqualified (unnest of bigint[], say): under the
// caller's search_path, a schema others may write to could hold a function of that exact
// argument type to run in their place, so the path is pinned (pg_catalog first, implicitly).
#[search_path(@extschema@, pg_temp)]
fn associate_image(
    image: i32,
) -> Result<
    TableIterator<
        'static,
        (
            name!(matched, i32),
            name!(new_runcat, i32),
            name!(new_sources, i32),
            name!(forks, i32),
            name!(forced, i32),
        ),
    >,
    spi::Error,
> {
    let counts = Spi::connect_mut(|client| associate(client, image))?;
    Ok(TableIterator::once(counts))
}

fn associate(client: &mut SpiClient<'_>, image_id: i32) -> Result<Counts, spi::Error> {
    let image = lock_image(client, image_id)?;
    let sources = image_sources(client, image_id)?;
    let blind: Vec<&Source> = sources
        .iter()
        .filter(|s| s.ff_runcat.is_none() && s.ff_monitor.is_none())
        .collect();

    let mut links = Links::default();
    let mut moved = Moved::default();
    let mut fresh = Vec::new();
    // Lightcurves this image's blind detections extend or fork.
    let mut detected = HashSet::new();
    let mut forks = 0;
    if !blind.is_empty() {
        let detections: Vec<Position> = blind.iter().map(|s| s.position).collect();
        let (runcat_ids, running) =
            catalogue_near(client, image.dataset, &detections, image.search_radius)?;
        let positions: Vec<Position> = running.iter().map(RunningPosition::position).collect();
        let pairs = candidate_pairs(&detections, &positions, image.search_radius, image.r_max);
        let plan = plan(blind.len(), positions.len(), &pairs);

        for p in &plan.extend {
            let (s, rc) = (blind[p.source], runcat_ids[p.candidate]);
            moved.push(rc, s.id, &running[p.candidate].with(&s.position));
            links.push(rc, s, link::ONE_TO_ONE, p.distance * 3600.0, p.r);
            detected.insert(rc);
        }
        let mut fork = Moved::default();
        let mut fork_pairs = Vec::new();
        for (c, group) in &plan.forks {
            for p in group {
                let s = blind[p.source];
                fork.push(runcat_ids[*c], s.id, &running[*c].with(&s.position));
                fork_pairs.push(*p);
            }
            detected.insert(runcat_ids[*c]);
        }
        forks = plan.forks.len() as i32;
        let fork_ids = insert_forks(client, &fork, &image)?;
        for (p, &rc) in fork_pairs.iter().zip(&fork_ids) {
            links.push(
                rc,
                blind[p.source],
                link::FORK_BASE,
                p.distance * 3600.0,
                p.r,
            );
        }
        update_moved(client, &moved)?;
        fresh = plan.unmatched.iter().map(|&i| blind[i]).collect();
    }
    // Forced fits at lightcurves a blind detection extended measure nothing new.
    drop_redundant_forced_fits(client, &sources, &detected)?;
    let fresh_ids = insert_fresh(client, image.dataset, &fresh, false)?;
    for (s, &rc) in fresh.iter().zip(&fresh_ids) {
        links.push(rc, s, link::NEW_SOURCE, 0.0, 0.0);
    }
    link_sky_regions(client, &image, &fresh_ids)?;

    let forced = associate_forced(client, &image, &sources, &detected, &mut links)?;

    let lightcurves = lightcurves(client, &image, &links)?;
    let flux = update_flux_sums(client, &image, &links, &lightcurves)?;
    if image.previous_stored {
        let order = PointOrder::of(&links, &lightcurves, &image);
        insert_links(client, &links, &flux, Some(&order.previous))?;
        reorder_later_points(client, &order)?;
    } else {
        insert_links(client, &links, &flux, None)?;
    }
    let new_sources = insert_new_sources(client, image_id, &image, &fresh, &fresh_ids)?;
    upsert_varmetric(client, &image, &links, &flux, &lightcurves)?;
    mark_associated(client, image_id)?;

    Ok((
        moved.runcat.len() as i32,
        fresh.len() as i32,
        new_sources,
        forks,
        forced,
    ))
}

fn lock_image(client: &mut SpiClient<'_>, image_id: i32) -> Result<Image, spi::Error> {
    let found = client.select(
        "SELECT dataset, to_regprocedure('skytrap.lock_dataset(integer)') IS NOT NULL
         FROM skytrap.image WHERE id = $1",
        None,
        &[image_id.into()],
    )?;
    if found.is_empty() {
        error!("skytrap.associate_image: image {image_id} does not exist");
    }
    let found = found.first();
    let dataset = found.get::<i32>(1)?.unwrap_or_default();
    // The dataset's lock (which the loader took already, in the same transaction). A
    // database without 0.3.0's lock_dataset is not updated yet, and its loaders take
    // 0.2.0's advisory lock.
    if found.get::<bool>(2)?.unwrap_or_default() {
        client.update("SELECT skytrap.lock_dataset($1)", None, &[dataset.into()])?;
    } else {
        client.update(
            "SELECT pg_advisory_xact_lock($1, $2)",
            None,
            &[DATASET_LOCK_SPACE.into(), dataset.into()],
        )?;
    }
    let row = client
        .update(
            "SELECT i.band, i.stokes, d.beamwidths_limit * i.rb_smaj, d.assoc_radius,
                    d.new_source_sigma_margin, i.associated_at IS NOT NULL,
                    EXISTS (SELECT 1 FROM skytrap.rejection j WHERE j.image = i.id),
                    d.pair_metrics_min_abs_vs, extract(epoch FROM i.taustart_ts)::float8,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                            WHERE attrelid = 'skytrap.assocxtrsource'::regclass
                              AND attname = 'prev_xtrsrc' AND NOT attisdropped),
                    i.skyrgn,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                            WHERE attrelid = 'skytrap.skyregion'::regclass
                              AND attname = 'footprint' AND NOT attisdropped),
                    EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
                            WHERE attrelid = 'skytrap.runningcatalog_flux'::regclass
                              AND attname = 'vs_abs_significant_max_int' AND NOT attisdropped)
             FROM skytrap.image i JOIN skytrap.dataset d ON d.id = i.dataset
             WHERE i.id = $1 FOR UPDATE OF i",
            None,
            &[image_id.into()],
        )?
        .first();
    if row.get::<bool>(6)?.unwrap_or(false) {
        error!("skytrap.associate_image: image {image_id} was associated already");
    }
    if row.get::<bool>(7)?.unwrap_or(false) {
        error!("skytrap.associate_image: image {image_id} is rejected; rejected images are not associated");
    }
    Ok(Image {
        dataset,
        band: row.get(1)?.unwrap_or_default(),
        stokes: row.get(2)?.unwrap_or(1),
        search_radius: row.get(3)?.unwrap_or_default(),
        r_max: row.get(4)?.unwrap_or_default(),
        margin: row.get(5)?.unwrap_or_default(),
        min_abs_vs: row.get(8)?.unwrap_or_default(),
        epoch: row.get(9)?.unwrap_or_default(),
        previous_stored: row.get(10)?.unwrap_or_default(),
        skyrgn: row.get(11)?.unwrap_or_default(),
        footprints_stored: row.get(12)?.unwrap_or_default(),
        band_pairs_stored: row.get(13)?.unwrap_or_default(),
    })
}

fn image_sources(client: &SpiClient<'_>, image_id: i32) -> Result<Vec<Source>, spi::Error> {
    let rows = client.select(
        "SELECT id, ra, decl, uncertainty_ew, uncertainty_ns, f_peak, f_peak_err, f_int, f_int_err,
                ff_runcat, ff_monitor
         FROM skytrap.extractedsource WHERE image = $1 ORDER BY id",
        None,
        &[image_id.into()],
    )?;
    let mut sources = Vec::with_capacity(rows.len());
    for row in rows {
        let f = |i| row.get::<f64>(i).map(Option::unwrap_or_default);
        sources.push(Source {
            id: row.get(1)?.unwrap_or_default(),
            position: Position {
                ra: f(2)?,
                dec: f(3)?,
                unc_ew: f(4)?,
                unc_ns: f(5)?,
            },
            f_peak: f(6)?,
            f_peak_err: f(7)?,
            f_int: f(8)?,
            f_int_err: f(9)?,
            ff_runcat: row.get(10)?,
            ff_monitor: row.get(11)?,
        });
    }
    Ok(sources)
}

/// Active running-catalogue entries of the dataset within `radius` of any of the
/// positions, found through the pixel index (one cone per position), so the work grows
/// with the image, not with the catalogue.
fn catalogue_near(
    client: &SpiClient<'_>,
    dataset: i32,
    positions: &[Position],
    radius: f64,
) -> Result<(Vec<i64>, Vec<RunningPosition>), spi::Error> {
    let ra: Vec<f64> = positions.iter().map(|p| p.ra).collect();
    let decl: Vec<f64> = positions.iter().map(|p| p.dec).collect();
    let rows = client.select(
        "SELECT DISTINCT ON (r.id) r.id, r.datapoints, r.wm_ra, r.wm_decl, r.sum_weight_ra,
                r.sum_weight_decl
         FROM unnest($2::float8[], $3::float8[]) AS s(ra, decl)
         JOIN skytrap.runningcatalog r ON skytrap.xmatch(r.wm_ra, r.wm_decl, s.ra, s.decl, $4)
         WHERE r.dataset = $1 AND NOT r.inactive AND NOT r.mon_src
         ORDER BY r.id",
        None,
        &[dataset.into(), ra.into(), decl.into(), radius.into()],
    )?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut running = Vec::with_capacity(rows.len());
    for row in rows {
        ids.push(row.get::<i64>(1)?.unwrap_or_default());
        running.push(RunningPosition {
            datapoints: row.get(2)?.unwrap_or_default(),
            wm_ra: row.get(3)?.unwrap_or_default(),
            wm_decl: row.get(4)?.unwrap_or_default(),
            sum_weight_ra: row.get(5)?.unwrap_or_default(),
            sum_weight_decl: row.get(6)?.unwrap_or_default(),
        });
    }
    Ok((ids, running))
}

/// New positions of lightcurves that gained a point, as columns for `unnest`.
#[derive(Default)]
struct Moved {
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

    fn push(&mut self, runcat: i64, xtrsrc: i64, p: &RunningPosition) {
        self.runcat.push(runcat);
        self.xtrsrc.push(xtrsrc);
        self.datapoints.push(p.datapoints);
        self.wm_ra.push(p.wm_ra);
        self.wm_decl.push(p.wm_decl);
        self.sum_weight_ra.push(p.sum_weight_ra);
        self.sum_weight_decl.push(p.sum_weight_decl);
    }
}

fn update_moved(client: &mut SpiClient<'_>, m: &Moved) -> Result<(), spi::Error> {
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

/// Starts a lightcurve for each unmatched source; returns the new ids in input order.
fn insert_fresh(
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
/// updated position that carries the old one's whole history (links copied as type 6,
/// flux sums, sky regions, new-source record and variability summary); the old
/// lightcurve is then deleted, as TraP does. Returns the new ids in input order.
fn insert_forks(
    client: &mut SpiClient<'_>,
    fork: &Moved,
    image: &Image,
) -> Result<Vec<i64>, spi::Error> {
    if fork.runcat.is_empty() {
        return Ok(Vec::new());
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
    let previous = if image.previous_stored {
        ", prev_xtrsrc"
    } else {
        ""
    };
    let pairs = if image.band_pairs_stored {
        ", vs_abs_significant_max_int, m_abs_significant_max_int,
           vs_abs_significant_max_peak, m_abs_significant_max_peak"
    } else {
        ""
    };
    client.update(
        // Every copy in a fixed order, so ids come out the same on a re-run.
        &format!("WITH f AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS f(old, new, n)),
         links AS (
             INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, loglr,
                 v_int, eta_int, f_datapoints{previous})
             SELECT f.new, a.xtrsrc, $3, a.distance_arcsec, a.r, a.loglr, a.v_int, a.eta_int,
                    a.f_datapoints{previous}
             FROM f JOIN skytrap.assocxtrsource a ON a.runcat = f.old
             ORDER BY f.n, a.id),
         flux AS (
             INSERT INTO skytrap.runningcatalog_flux (runcat, band, stokes, f_datapoints,
                 sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak,
                 sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq, sum_f_int_weight,
                 sum_weighted_f_int, sum_weighted_f_int_sq{pairs})
             SELECT f.new, c.band, c.stokes, c.f_datapoints, c.sum_f_peak, c.sum_f_peak_sq,
                    c.sum_f_peak_weight, c.sum_weighted_f_peak, c.sum_weighted_f_peak_sq,
                    c.sum_f_int, c.sum_f_int_sq, c.sum_f_int_weight, c.sum_weighted_f_int,
                    c.sum_weighted_f_int_sq{pairs}
             FROM f JOIN skytrap.runningcatalog_flux c ON c.runcat = f.old
             ORDER BY f.n, c.id),
         regions AS (
             INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
             SELECT f.new, r.skyrgn, r.distance_deg
             FROM f JOIN skytrap.assocskyrgn r ON r.runcat = f.old
             ORDER BY f.n, r.id),
         news AS (
             INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image,
                 newsource_type)
             SELECT f.new, n.trigger_xtrsrc, n.previous_limits_image, n.newsource_type
             FROM f JOIN skytrap.newsource n ON n.runcat = f.old
             ORDER BY f.n)
         INSERT INTO skytrap.varmetric (runcat, v_int, eta_int, v_peak, eta_peak, band,
             sigma_rms_max, sigma_rms_min, lightcurve_max, lightcurve_avg, lightcurve_median,
             vs_abs_significant_max_int, m_abs_significant_max_int,
             vs_abs_significant_max_peak, m_abs_significant_max_peak,
             datapoints, first_ts, last_ts)
         SELECT f.new, v.v_int, v.eta_int, v.v_peak, v.eta_peak, v.band, v.sigma_rms_max,
                v.sigma_rms_min, v.lightcurve_max, v.lightcurve_avg, v.lightcurve_median,
                v.vs_abs_significant_max_int, v.m_abs_significant_max_int,
                v.vs_abs_significant_max_peak, v.m_abs_significant_max_peak,
                v.datapoints, v.first_ts, v.last_ts
         FROM f JOIN skytrap.varmetric v ON v.runcat = f.old
         ORDER BY f.n"),
        None,
        &[
            fork.runcat.clone().into(),
            ids.clone().into(),
            link::FORK_COPY.into(),
        ],
    )?;
    // Forced fits of earlier images keep their lightcurve points through the copied
    // links; only the pointer to the deleted lightcurve goes.
    client.update(
        "UPDATE skytrap.extractedsource SET ff_runcat = NULL WHERE ff_runcat = ANY($1)",
        None,
        &[fork.runcat.clone().into()],
    )?;
    client.update(
        "DELETE FROM skytrap.runningcatalog WHERE id = ANY($1)",
        None,
        &[fork.runcat.clone().into()],
    )?;
    Ok(ids)
}

/// Deletes this image's forced fits at lightcurves that a blind detection in the same
/// image extends: the loader fits every known position before association, and the
/// blind measurement is the one that counts.
fn drop_redundant_forced_fits(
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

/// The forced fits of the image: null detections of lightcurves no blind detection
/// extended (type 7; position unchanged, one more forced fit towards expiration), and
/// monitor positions (type 8 starts the monitor's own lightcurve, type 9 extends it).
/// Adds their links; returns how many there are.
fn associate_forced(
    client: &mut SpiClient<'_>,
    image: &Image,
    sources: &[Source],
    detected: &HashSet<i64>,
    links: &mut Links,
) -> Result<i32, spi::Error> {
    let before = links.runcat.len();
    let mut nulls = Vec::new();
    // A monitor's fit names its lightcurve too, but is linked below as a monitor point.
    for s in sources.iter().filter(|s| s.ff_monitor.is_none()) {
        if let Some(rc) = s.ff_runcat.filter(|rc| !detected.contains(rc)) {
            links.push(rc, s, link::NULL_DETECTION, 0.0, 0.0);
            nulls.push(rc);
        }
    }
    if !nulls.is_empty() {
        client.update(
            "UPDATE skytrap.runningcatalog SET forcedfits_count = forcedfits_count + 1
             WHERE id = ANY($1)",
            None,
            &[nulls.into()],
        )?;
    }

    let monitored: Vec<&Source> = sources.iter().filter(|s| s.ff_monitor.is_some()).collect();
    if !monitored.is_empty() {
        let ids: Vec<i32> = monitored.iter().filter_map(|s| s.ff_monitor).collect();
        let mut runcat_of = HashMap::new();
        for row in client.select(
            "SELECT id, runcat FROM skytrap.monitor WHERE id = ANY($1) AND runcat IS NOT NULL",
            None,
            &[ids.into()],
        )? {
            let monitor: i32 = row.get(1)?.unwrap_or_default();
            runcat_of.insert(monitor, row.get::<i64>(2)?.unwrap_or_default());
        }
        let (mut first, mut again) = (Vec::new(), Vec::new());
        for s in monitored {
            match s.ff_monitor.and_then(|m| runcat_of.get(&m)) {
                Some(&rc) => {
                    links.push(rc, s, link::MONITOR, 0.0, 0.0);
                    again.push((rc, s.id));
                }
                None => first.push(s),
            }
        }
        if !again.is_empty() {
            // The position stays the monitor's; the point's errors and weights join the
            // sums, so that TraP's averages over datapoints stay averages.
            let (runcats, fits): (Vec<i64>, Vec<i64>) = again.into_iter().unzip();
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
        }
        let new_ids = insert_fresh(client, image.dataset, &first, true)?;
        for (s, &rc) in first.iter().zip(&new_ids) {
            links.push(rc, s, link::FIRST_MONITOR, 0.0, 0.0);
        }
        link_sky_regions(client, image, &new_ids)?;
        let monitors: Vec<i32> = first.iter().filter_map(|s| s.ff_monitor).collect();
        client.update(
            "UPDATE skytrap.monitor m SET runcat = u.runcat
             FROM unnest($1::int[], $2::bigint[]) AS u(monitor, runcat) WHERE m.id = u.monitor",
            None,
            &[monitors.into(), new_ids.into()],
        )?;
    }
    Ok((links.runcat.len() - before) as i32)
}

/// Records which sky regions of the dataset cover each new lightcurve, and links it to its
/// own image's region whatever its position (TraP does too: a source fitted just outside
/// the searched area was still seen there). The regions are found through their pixel
/// index within the dataset's largest region radius, so the cost follows the new
/// lightcurves, not the number of fields the survey has covered.
fn link_sky_regions(
    client: &mut SpiClient<'_>,
    image: &Image,
    runcats: &[i64],
) -> Result<(), spi::Error> {
    if runcats.is_empty() {
        return Ok(());
    }
    let reach: f64 = client
        .select(
            "SELECT max(xtr_radius) FROM skytrap.skyregion WHERE dataset = $1",
            None,
            &[image.dataset.into()],
        )?
        .first()
        .get_one()?
        .unwrap_or_default();
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

/// The lightcurve points this image adds, one per (runcat, source).
#[derive(Default)]
struct Links {
    runcat: Vec<i64>,
    xtrsrc: Vec<i64>,
    kind: Vec<i16>,
    distance_arcsec: Vec<f64>,
    r: Vec<f64>,
    peak: Vec<(f64, f64)>,
    int: Vec<(f64, f64)>,
}

impl Links {
    fn push(&mut self, runcat: i64, s: &Source, kind: i16, distance_arcsec: f64, r: f64) {
        self.runcat.push(runcat);
        self.xtrsrc.push(s.id);
        self.kind.push(kind);
        self.distance_arcsec.push(distance_arcsec);
        self.r.push(r);
        self.peak.push((s.f_peak, s.f_peak_err));
        self.int.push((s.f_int, s.f_int_err));
    }
}

/// A lightcurve's running state in one band and Stokes parameter (`runningcatalog_flux`):
/// the flux sums and VAST's pair summaries, peak and integrated.
#[derive(Clone, Copy, Default)]
struct BandState {
    peak: FluxSums,
    int: FluxSums,
    pair_peak: SignificantPair,
    pair_int: SignificantPair,
}

/// The stored state of each (runcat, band) pair in Stokes parameter `stokes`; pairs with
/// none stored are left out.
fn band_states(
    client: &SpiClient<'_>,
    image: &Image,
    runcat: &[i64],
    band: &[i32],
    stokes: i16,
) -> Result<HashMap<(i64, i32), BandState>, spi::Error> {
    let (pairs, varmetric) = if image.band_pairs_stored {
        (
            "f.vs_abs_significant_max_int, f.m_abs_significant_max_int,
             f.vs_abs_significant_max_peak, f.m_abs_significant_max_peak",
            "",
        )
    } else {
        (
            "coalesce(v.vs_abs_significant_max_int, 0), coalesce(v.m_abs_significant_max_int, 0),
             coalesce(v.vs_abs_significant_max_peak, 0), coalesce(v.m_abs_significant_max_peak, 0)",
            "LEFT JOIN skytrap.varmetric v ON v.runcat = f.runcat AND v.band = f.band",
        )
    };
    let mut known = HashMap::new();
    let rows = client.select(
        &format!(
            "SELECT f.runcat, f.band, f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq,
                    f.sum_f_peak_weight, f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq,
                    f.sum_f_int, f.sum_f_int_sq, f.sum_f_int_weight, f.sum_weighted_f_int,
                    f.sum_weighted_f_int_sq, {pairs}
             FROM unnest($1::bigint[], $2::int[]) AS u(runcat, band)
             JOIN skytrap.runningcatalog_flux f
                  ON f.runcat = u.runcat AND f.band = u.band AND f.stokes = $3
             {varmetric}"
        ),
        None,
        &[runcat.to_vec().into(), band.to_vec().into(), stokes.into()],
    )?;
    for row in rows {
        let n: i32 = row.get(3)?.unwrap_or_default();
        let f = |i| row.get::<f64>(i).map(Option::unwrap_or_default);
        let sums = |at: usize| -> Result<FluxSums, spi::Error> {
            Ok(FluxSums {
                n,
                sum_f: f(at)?,
                sum_f_sq: f(at + 1)?,
                sum_w: f(at + 2)?,
                sum_wf: f(at + 3)?,
                sum_wf_sq: f(at + 4)?,
            })
        };
        let state = BandState {
            peak: sums(4)?,
            int: sums(9)?,
            pair_int: SignificantPair {
                vs_abs: f(14)?,
                m_abs: f(15)?,
            },
            pair_peak: SignificantPair {
                vs_abs: f(16)?,
                m_abs: f(17)?,
            },
        };
        let key = (
            row.get::<i64>(1)?.unwrap_or_default(),
            row.get::<i32>(2)?.unwrap_or_default(),
        );
        known.insert(key, state);
    }
    Ok(known)
}

/// Adds each link's point to its lightcurve's state in the image's band and Stokes
/// parameter: the flux sums, and the pair summaries by pairing the point with the earlier
/// ones of that band (no pair is revisited). Returns the updated states in link order.
fn update_flux_sums(
    client: &mut SpiClient<'_>,
    image: &Image,
    links: &Links,
    lightcurves: &HashMap<i64, Vec<Point>>,
) -> Result<Vec<BandState>, spi::Error> {
    let bands = vec![image.band; links.runcat.len()];
    let known = band_states(client, image, &links.runcat, &bands, image.stokes)?;
    let updated: Vec<BandState> = links
        .runcat
        .iter()
        .zip(links.peak.iter().zip(&links.int))
        .map(|(rc, (&(p, pe), &(i, ie)))| {
            let old = known.get(&(*rc, image.band)).copied().unwrap_or_default();
            let lc = lightcurves.get(rc).map(Vec::as_slice).unwrap_or_default();
            let earlier = in_band(lc, image.band, image.stokes).filter(|q| !q.current);
            BandState {
                peak: old.peak.with(p, pe),
                int: old.int.with(i, ie),
                pair_peak: old.pair_peak.with_pairs(
                    (p, pe),
                    earlier.clone().map(|q| q.peak),
                    image.min_abs_vs,
                ),
                pair_int: old.pair_int.with_pairs(
                    (i, ie),
                    earlier.map(|q| q.int),
                    image.min_abs_vs,
                ),
            }
        })
        .collect();

    let col = |g: fn(&BandState) -> f64| -> Vec<f64> { updated.iter().map(g).collect() };
    let n: Vec<i32> = updated.iter().map(|s| s.peak.n).collect();
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
            links.runcat.clone().into(),
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
    Ok(updated)
}

fn insert_links(
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

/// Where this image's points fall in their lightcurves: each new link's previous point,
/// and the stored points whose previous point is now one of this image's (an image
/// associated after a later one; none when images come in time order).
struct PointOrder {
    /// In link order.
    previous: Vec<Option<i64>>,
    /// Stored points whose previous point changed: (runcat, xtrsrc, new previous point).
    later: Vec<(i64, i64, Option<i64>)>,
}

impl PointOrder {
    fn of(links: &Links, lightcurves: &HashMap<i64, Vec<Point>>, image: &Image) -> PointOrder {
        let mut previous_of_new = HashMap::new();
        let mut later = Vec::new();
        for (&rc, lc) in lightcurves {
            let lc: Vec<&Point> = in_band(lc, image.band, image.stokes).collect();
            let times: Vec<f64> = lc.iter().map(|p| p.epoch).collect();
            for (p, before) in lc.iter().zip(lightcurve::previous_points(&times)) {
                let before = before.map(|j| lc[j].xtrsrc);
                if p.current {
                    previous_of_new.insert((rc, p.xtrsrc), before);
                } else if p.previous != before {
                    later.push((rc, p.xtrsrc, before));
                }
            }
        }
        later.sort_unstable();
        let previous = links
            .runcat
            .iter()
            .zip(&links.xtrsrc)
            .map(|(&rc, &x)| previous_of_new.get(&(rc, x)).copied().flatten())
            .collect();
        PointOrder { previous, later }
    }
}

/// Stored points that a point of this image now precedes name their new previous point.
fn reorder_later_points(client: &mut SpiClient<'_>, order: &PointOrder) -> Result<(), spi::Error> {
    if order.later.is_empty() {
        return Ok(());
    }
    let runcat: Vec<i64> = order.later.iter().map(|l| l.0).collect();
    let xtrsrc: Vec<i64> = order.later.iter().map(|l| l.1).collect();
    let previous: Vec<Option<i64>> = order.later.iter().map(|l| l.2).collect();
    client.update(
        "UPDATE skytrap.assocxtrsource a SET prev_xtrsrc = u.prev
         FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(runcat, xtrsrc, prev)
         WHERE a.runcat = u.runcat AND a.xtrsrc = u.xtrsrc",
        None,
        &[runcat.into(), xtrsrc.into(), previous.into()],
    )?;
    Ok(())
}

/// Applies TraP's new-source rule to the sources that started a lightcurve; returns how
/// many became `newsource` rows.
fn insert_new_sources(
    client: &mut SpiClient<'_>,
    image_id: i32,
    image: &Image,
    fresh: &[&Source],
    fresh_ids: &[i64],
) -> Result<i32, spi::Error> {
    if fresh.is_empty() {
        return Ok(0);
    }
    // The regions covering each new lightcurve (linked just before), and the earlier
    // accepted images of the band in those regions: what the lightcurves' sky holds, not
    // what the dataset does.
    let mut regions_of: HashMap<i64, Vec<i32>> = HashMap::new();
    for row in client.select(
        "SELECT runcat, skyrgn FROM skytrap.assocskyrgn WHERE runcat = ANY($1)",
        None,
        &[fresh_ids.to_vec().into()],
    )? {
        let runcat: i64 = row.get(1)?.unwrap_or_default();
        regions_of
            .entry(runcat)
            .or_default()
            .push(row.get(2)?.unwrap_or_default());
    }
    let regions: Vec<i32> = regions_of.values().flatten().copied().collect();
    let mut images_of: HashMap<i32, Vec<PreviousImage>> = HashMap::new();
    for row in client.select(
        "SELECT i.skyrgn, i.id::bigint, i.rms_min, i.rms_max, i.detection_thresh
         FROM (SELECT DISTINCT unnest($1::int[])) AS g(skyrgn)
         JOIN skytrap.image i ON i.skyrgn = g.skyrgn
         WHERE i.band = $2
           AND i.taustart_ts < (SELECT taustart_ts FROM skytrap.image WHERE id = $3)
           AND i.rms_min IS NOT NULL AND i.rms_max IS NOT NULL AND i.detection_thresh IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM skytrap.rejection j WHERE j.image = i.id)",
        None,
        &[regions.into(), image.band.into(), image_id.into()],
    )? {
        let f = |i| row.get::<f64>(i).map(Option::unwrap_or_default);
        images_of
            .entry(row.get(1)?.unwrap_or_default())
            .or_default()
            .push(PreviousImage {
                id: row.get(2)?.unwrap_or_default(),
                rms_min: f(3)?,
                rms_max: f(4)?,
                detection_thresh: f(5)?,
            });
    }

    let (mut runcat, mut trigger, mut limits_image, mut kind) = (vec![], vec![], vec![], vec![]);
    for (s, &rc) in fresh.iter().zip(fresh_ids) {
        let covering: Vec<PreviousImage> = regions_of
            .get(&rc)
            .into_iter()
            .flatten()
            .filter_map(|g| images_of.get(g))
            .flatten()
            .copied()
            .collect();
        if let Some(new) = newsource::classify(s.f_peak, &covering, image.margin) {
            runcat.push(rc);
            trigger.push(s.id);
            limits_image.push(new.previous_limits_image as i32);
            kind.push(new.kind as i16);
        }
    }
    if runcat.is_empty() {
        return Ok(0);
    }
    let count = runcat.len() as i32;
    client.update(
        "INSERT INTO skytrap.newsource (runcat, trigger_xtrsrc, previous_limits_image, newsource_type)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::smallint[])",
        None,
        &[
            runcat.into(),
            trigger.into(),
            limits_image.into(),
            kind.into(),
        ],
    )?;
    Ok(count)
}

/// One lightcurve's variability summary, in columns for `unnest`.
#[derive(Default)]
struct Summaries {
    runcat: Vec<i64>,
    band: Vec<i32>,
    v_int: Vec<f64>,
    eta_int: Vec<f64>,
    v_peak: Vec<f64>,
    eta_peak: Vec<f64>,
    max: Vec<f64>,
    avg: Vec<f64>,
    median: Vec<f64>,
    pair_int: Vec<SignificantPair>,
    pair_peak: Vec<SignificantPair>,
    n: Vec<i32>,
    first: Vec<f64>,
    last: Vec<f64>,
}

/// A measurement on a lightcurve.
struct Point {
    xtrsrc: i64,
    band: i32,
    stokes: i16,
    /// The previous point as stored (None for this image's points, not stored yet).
    previous: Option<i64>,
    /// (flux, error)
    int: (f64, f64),
    peak: (f64, f64),
    /// Seconds since 1970.
    epoch: f64,
    /// Whether it is this image's.
    current: bool,
}

/// The points of a lightcurve in one band and Stokes parameter.
fn in_band(lc: &[Point], band: i32, stokes: i16) -> impl Iterator<Item = &Point> + Clone {
    lc.iter()
        .filter(move |p| p.band == band && p.stokes == stokes)
}

/// Brings the variability summary of every lightcurve this image touched up to date. It
/// describes one band, chosen by TraP's rule (`lightcurve::summary_band`) from the Stokes I
/// points: V and η from that band's sums, VAST's pair metrics from its pair summaries, and
/// the max, mean and median integrated flux, count and times of its points. Images in
/// other Stokes parameters leave it alone (a Stokes V mean near 0 would make V huge).
fn upsert_varmetric(
    client: &mut SpiClient<'_>,
    image: &Image,
    links: &Links,
    flux: &[BandState],
    lightcurves: &HashMap<i64, Vec<Point>>,
) -> Result<(), spi::Error> {
    const STOKES_I: i16 = 1;
    if image.stokes != STOKES_I {
        return Ok(());
    }
    let band_of: Vec<i32> = links
        .runcat
        .iter()
        .map(|rc| {
            let lc = lightcurves.get(rc).map(Vec::as_slice).unwrap_or_default();
            let points = lc
                .iter()
                .filter(|p| p.stokes == STOKES_I)
                .map(|p| BandPoint {
                    band: p.band,
                    epoch: p.epoch,
                    id: p.xtrsrc,
                    f_int: p.int.0,
                });
            lightcurve::summary_band(points).unwrap_or(image.band)
        })
        .collect();
    // The lightcurves whose summary describes another band than the image's.
    let (elsewhere, elsewhere_band): (Vec<i64>, Vec<i32>) = links
        .runcat
        .iter()
        .zip(&band_of)
        .filter(|(_, &b)| b != image.band)
        .map(|(&rc, &b)| (rc, b))
        .unzip();
    let stored = band_states(client, image, &elsewhere, &elsewhere_band, STOKES_I)?;

    let mut u = Summaries::default();
    for ((rc, &band), state) in links.runcat.iter().zip(&band_of).zip(flux) {
        let state = if band == image.band {
            *state
        } else {
            stored.get(&(*rc, band)).copied().unwrap_or_default()
        };
        let lc = lightcurves.get(rc).map(Vec::as_slice).unwrap_or_default();
        let points: Vec<&Point> = in_band(lc, band, STOKES_I).collect();
        let mut fluxes: Vec<f64> = points.iter().map(|q| q.int.0).collect();
        u.runcat.push(*rc);
        u.band.push(band);
        u.v_int.push(state.int.v());
        u.eta_int.push(state.int.eta());
        u.v_peak.push(state.peak.v());
        u.eta_peak.push(state.peak.eta());
        u.max
            .push(fluxes.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        u.avg.push(fluxes.iter().sum::<f64>() / fluxes.len() as f64);
        u.median.push(variability::median(&mut fluxes));
        u.pair_int.push(state.pair_int);
        u.pair_peak.push(state.pair_peak);
        u.n.push(points.len() as i32);
        u.first
            .push(points.iter().map(|q| q.epoch).fold(f64::INFINITY, f64::min));
        u.last.push(
            points
                .iter()
                .map(|q| q.epoch)
                .fold(f64::NEG_INFINITY, f64::max),
        );
    }
    let vs = |p: &[SignificantPair]| p.iter().map(|p| p.vs_abs).collect::<Vec<f64>>();
    let m = |p: &[SignificantPair]| p.iter().map(|p| p.m_abs).collect::<Vec<f64>>();
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
            u.runcat.into(),
            u.band.into(),
            u.v_int.into(),
            u.eta_int.into(),
            u.v_peak.into(),
            u.eta_peak.into(),
            u.max.into(),
            u.avg.into(),
            u.median.into(),
            vs(&u.pair_int).into(),
            m(&u.pair_int).into(),
            vs(&u.pair_peak).into(),
            m(&u.pair_peak).into(),
            u.n.into(),
            u.first.into(),
            u.last.into(),
        ],
    )?;
    Ok(())
}

/// The points of each lightcurve this image extends, in every band and Stokes parameter:
/// the stored ones and this image's, in time order (ties by measurement id, so sums come
/// out the same bits whatever order rows are stored in). A lightcurve's links and
/// measurements are read by index per lightcurve, so the cost follows the lightcurves
/// touched and their lengths, never the size of the tables; the images are looked up once
/// each rather than once per point, which is a third of the read on long lightcurves.
fn lightcurves(
    client: &SpiClient<'_>,
    image: &Image,
    links: &Links,
) -> Result<HashMap<i64, Vec<Point>>, spi::Error> {
    struct Stored {
        runcat: i64,
        image: i32,
        point: Point,
    }
    let mut stored = Vec::new();
    let previous = if image.previous_stored {
        "a.prev_xtrsrc"
    } else {
        "NULL::bigint"
    };
    for row in client.select(
        // LATERAL per lightcurve: index lookups whatever the planner thinks of the array.
        &format!(
            "SELECT u.runcat, x.id, x.prev_xtrsrc, x.image, x.f_int, x.f_int_err, x.f_peak,
                    x.f_peak_err
             FROM unnest($1::bigint[]) AS u(runcat)
             CROSS JOIN LATERAL (
                 SELECT x.id, {previous} AS prev_xtrsrc, x.image, x.f_int, x.f_int_err,
                        x.f_peak, x.f_peak_err
                 FROM skytrap.assocxtrsource a
                 JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
                 WHERE a.runcat = u.runcat) x"
        ),
        None,
        &[links.runcat.clone().into()],
    )? {
        let f = |i| row.get::<f64>(i).map(Option::unwrap_or_default);
        stored.push(Stored {
            runcat: row.get(1)?.unwrap_or_default(),
            image: row.get(4)?.unwrap_or_default(),
            point: Point {
                xtrsrc: row.get(2)?.unwrap_or_default(),
                band: 0,
                stokes: 0,
                previous: row.get(3)?,
                int: (f(5)?, f(6)?),
                peak: (f(7)?, f(8)?),
                epoch: 0.0,
                current: false,
            },
        });
    }
    let images: Vec<i32> = stored
        .iter()
        .map(|s| s.image)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut taken = HashMap::with_capacity(images.len());
    for row in client.select(
        "SELECT id, extract(epoch FROM taustart_ts)::float8, band, stokes FROM skytrap.image
         WHERE id = ANY($1)",
        None,
        &[images.into()],
    )? {
        let id: i32 = row.get(1)?.unwrap_or_default();
        let when = (
            row.get::<f64>(2)?.unwrap_or_default(),
            row.get::<i32>(3)?.unwrap_or_default(),
            row.get::<i16>(4)?.unwrap_or_default(),
        );
        taken.insert(id, when);
    }

    let mut lightcurves: HashMap<i64, Vec<Point>> = HashMap::new();
    for s in stored {
        if let Some(&(epoch, band, stokes)) = taken.get(&s.image) {
            let point = Point {
                epoch,
                band,
                stokes,
                ..s.point
            };
            lightcurves.entry(s.runcat).or_default().push(point);
        }
    }
    for (i, &rc) in links.runcat.iter().enumerate() {
        lightcurves.entry(rc).or_default().push(Point {
            xtrsrc: links.xtrsrc[i],
            band: image.band,
            stokes: image.stokes,
            previous: None,
            int: links.int[i],
            peak: links.peak[i],
            epoch: image.epoch,
            current: true,
        });
    }
    for lc in lightcurves.values_mut() {
        lc.sort_by(|a, b| a.epoch.total_cmp(&b.epoch).then(a.xtrsrc.cmp(&b.xtrsrc)));
    }
    Ok(lightcurves)
}

fn mark_associated(client: &mut SpiClient<'_>, image_id: i32) -> Result<(), spi::Error> {
    client.update(
        "UPDATE skytrap.image SET associated_at = now() WHERE id = $1",
        None,
        &[image_id.into()],
    )?;
    Ok(())
}
