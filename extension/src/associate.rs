//! `skytrap.associate_image(image)`: one call turns an image's extracted sources into
//! lightcurve points. Reads with SPI, decides in `skytrap-core`, writes set-based.

use pgrx::prelude::*;
use pgrx::spi::{self, SpiClient};
use skytrap_core::associate::{match_one_to_one, RunningPosition};
use skytrap_core::newsource::{self, PreviousImage};
use skytrap_core::sky::{self, Position};
use skytrap_core::variability::FluxSums;

/// Advisory-lock key space for "one associating transaction per dataset at a time".
const DATASET_LOCK_SPACE: i32 = 7291;

struct Image {
    dataset: i32,
    band: i32,
    stokes: i16,
    search_radius: f64,
    r_max: f64,
    margin: f64,
}

struct Source {
    id: i64,
    position: Position,
    f_peak: f64,
    f_peak_err: f64,
    f_int: f64,
    f_int_err: f64,
}

/// Associates the blind detections of one image with its dataset's running catalogue:
/// matched sources extend their lightcurve, the others start one, and first detections
/// brighter than earlier images of the field could have missed become `newsource` rows
/// (which raise alerts). Takes the dataset's advisory lock, so concurrent loaders of one
/// dataset queue up; the caller's transaction makes the whole image atomic.
#[pg_extern]
fn associate_image(
    image: i32,
) -> Result<
    TableIterator<
        'static,
        (
            name!(matched, i32),
            name!(new_runcat, i32),
            name!(new_sources, i32),
        ),
    >,
    spi::Error,
> {
    let counts = Spi::connect_mut(|client| associate(client, image))?;
    Ok(TableIterator::once(counts))
}

fn associate(client: &mut SpiClient<'_>, image_id: i32) -> Result<(i32, i32, i32), spi::Error> {
    let image = lock_image(client, image_id)?;
    let sources = blind_sources(client, image_id)?;
    if sources.is_empty() {
        mark_associated(client, image_id)?;
        return Ok((0, 0, 0));
    }

    let (lo, hi) = sources.iter().fold((90f64, -90f64), |(lo, hi), s| {
        (lo.min(s.position.dec), hi.max(s.position.dec))
    });
    let (runcat_ids, running) = catalogue_strip(
        client,
        image.dataset,
        lo - image.search_radius,
        hi + image.search_radius,
    )?;
    let positions: Vec<Position> = running.iter().map(RunningPosition::position).collect();
    let detections: Vec<Position> = sources.iter().map(|s| s.position).collect();
    let matches = match_one_to_one(&detections, &positions, image.search_radius, image.r_max);

    // Lightcurves that go on, and the sources that start new ones.
    let mut links = Links::default();
    let mut moved = Moved::default();
    let mut fresh = Vec::new();
    for (s, m) in sources.iter().zip(&matches) {
        match m {
            Some(m) => {
                let next = running[m.candidate].with(&s.position);
                moved.push(runcat_ids[m.candidate], s.id, &next);
                links.push(runcat_ids[m.candidate], s, 3, m.distance * 3600.0, m.r);
            }
            None => fresh.push(s),
        }
    }
    update_moved(client, &moved)?;
    let fresh_ids = insert_fresh(client, image.dataset, &fresh)?;
    for (s, &rc) in fresh.iter().zip(&fresh_ids) {
        links.push(rc, s, 4, 0.0, 0.0);
    }
    link_sky_regions(client, &fresh_ids)?;

    let flux = update_flux_sums(client, &image, &links)?;
    insert_links(client, &links, &flux)?;
    let new_sources = insert_new_sources(client, image_id, &image, &fresh, &fresh_ids)?;
    upsert_varmetric(client, &image, &links, &flux)?;
    mark_associated(client, image_id)?;

    Ok((
        links.runcat.len() as i32 - fresh.len() as i32,
        fresh.len() as i32,
        new_sources,
    ))
}

fn lock_image(client: &mut SpiClient<'_>, image_id: i32) -> Result<Image, spi::Error> {
    let found = client.select(
        "SELECT dataset FROM skytrap.image WHERE id = $1",
        None,
        &[image_id.into()],
    )?;
    if found.is_empty() {
        error!("skytrap.associate_image: image {image_id} does not exist");
    }
    let dataset = found.first().get_one::<i32>()?.unwrap_or_default();
    client.update(
        "SELECT pg_advisory_xact_lock($1, $2)",
        None,
        &[DATASET_LOCK_SPACE.into(), dataset.into()],
    )?;
    let row = client
        .update(
            "SELECT i.band, i.stokes, d.beamwidths_limit * i.rb_smaj, d.assoc_radius,
                    d.new_source_sigma_margin, i.associated_at IS NOT NULL,
                    EXISTS (SELECT 1 FROM skytrap.rejection j WHERE j.image = i.id)
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
    })
}

fn blind_sources(client: &SpiClient<'_>, image_id: i32) -> Result<Vec<Source>, spi::Error> {
    let rows = client.select(
        "SELECT id, ra, decl, uncertainty_ew, uncertainty_ns, f_peak, f_peak_err, f_int, f_int_err
         FROM skytrap.extractedsource WHERE image = $1 AND extract_type = 0 ORDER BY id",
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
        });
    }
    Ok(sources)
}

/// Active running-catalogue entries of the dataset in a declination strip.
fn catalogue_strip(
    client: &SpiClient<'_>,
    dataset: i32,
    dec_lo: f64,
    dec_hi: f64,
) -> Result<(Vec<i64>, Vec<RunningPosition>), spi::Error> {
    let rows = client.select(
        "SELECT id, datapoints, wm_ra, wm_decl, sum_weight_ra, sum_weight_decl
         FROM skytrap.runningcatalog
         WHERE dataset = $1 AND NOT inactive AND NOT mon_src AND wm_decl BETWEEN $2 AND $3",
        None,
        &[dataset.into(), dec_lo.into(), dec_hi.into()],
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

impl Moved {
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
        "UPDATE skytrap.runningcatalog r
         SET datapoints = u.datapoints, wm_ra = u.wm_ra, wm_decl = u.wm_decl,
             sum_weight_ra = u.swr, sum_weight_decl = u.swd,
             sum_ra_err = r.sum_ra_err + x.ra_err, sum_decl_err = r.sum_decl_err + x.decl_err,
             forcedfits_count = 0
         FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::float8[], $5::float8[],
                     $6::float8[], $7::float8[]) AS u(runcat, xtrsrc, datapoints, wm_ra, wm_decl, swr, swd)
         JOIN skytrap.extractedsource x ON x.id = u.xtrsrc
         WHERE r.id = u.runcat",
        None,
        &[
            m.runcat.clone().into(),
            m.xtrsrc.clone().into(),
            m.datapoints.clone().into(),
            m.wm_ra.clone().into(),
            m.wm_decl.clone().into(),
            m.sum_weight_ra.clone().into(),
            m.sum_weight_decl.clone().into(),
        ],
    )?;
    Ok(())
}

/// Starts a lightcurve for each unmatched source; returns the new ids in input order.
fn insert_fresh(
    client: &mut SpiClient<'_>,
    dataset: i32,
    fresh: &[&Source],
) -> Result<Vec<i64>, spi::Error> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let mut m = Moved::default();
    for s in fresh {
        m.push(0, s.id, &RunningPosition::first(&s.position));
    }
    let rows = client.update(
        "INSERT INTO skytrap.runningcatalog (xtrsrc, dataset, datapoints, wm_ra, wm_decl,
             sum_weight_ra, sum_weight_decl, sum_ra_err, sum_decl_err)
         SELECT u.xtrsrc, $1, u.datapoints, u.wm_ra, u.wm_decl, u.swr, u.swd, x.ra_err, x.decl_err
         FROM unnest($2::bigint[], $3::int[], $4::float8[], $5::float8[], $6::float8[], $7::float8[])
              WITH ORDINALITY AS u(xtrsrc, datapoints, wm_ra, wm_decl, swr, swd, n)
         JOIN skytrap.extractedsource x ON x.id = u.xtrsrc
         ORDER BY u.n
         RETURNING id, xtrsrc",
        None,
        &[
            dataset.into(),
            m.xtrsrc.clone().into(),
            m.datapoints.into(),
            m.wm_ra.into(),
            m.wm_decl.into(),
            m.sum_weight_ra.into(),
            m.sum_weight_decl.into(),
        ],
    )?;
    // RETURNING order is not promised; map back by the source id.
    let mut by_source = std::collections::HashMap::with_capacity(fresh.len());
    for row in rows {
        let id: i64 = row.get(1)?.unwrap_or_default();
        let xtrsrc: i64 = row.get(2)?.unwrap_or_default();
        by_source.insert(xtrsrc, id);
    }
    Ok(m.xtrsrc.iter().map(|x| by_source[x]).collect())
}

/// Records which sky regions of the dataset each new lightcurve falls in.
fn link_sky_regions(client: &mut SpiClient<'_>, runcats: &[i64]) -> Result<(), spi::Error> {
    if runcats.is_empty() {
        return Ok(());
    }
    client.update(
        "INSERT INTO skytrap.assocskyrgn (runcat, skyrgn, distance_deg)
         SELECT r.id, s.id, skytrap.distance(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl)
         FROM skytrap.runningcatalog r JOIN skytrap.skyregion s ON s.dataset = r.dataset
         WHERE r.id = ANY($1)
           AND skytrap.distance(s.centre_ra, s.centre_decl, r.wm_ra, r.wm_decl) < s.xtr_radius",
        None,
        &[runcats.to_vec().into()],
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

/// Adds each link's fluxes to its (runcat, band, stokes) sums; returns the updated sums
/// (peak, integrated) in link order.
fn update_flux_sums(
    client: &mut SpiClient<'_>,
    image: &Image,
    links: &Links,
) -> Result<Vec<(FluxSums, FluxSums)>, spi::Error> {
    let mut known = std::collections::HashMap::new();
    let rows = client.select(
        "SELECT runcat, f_datapoints, sum_f_peak, sum_f_peak_sq, sum_f_peak_weight,
                sum_weighted_f_peak, sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq,
                sum_f_int_weight, sum_weighted_f_int, sum_weighted_f_int_sq
         FROM skytrap.runningcatalog_flux
         WHERE runcat = ANY($1) AND band = $2 AND stokes = $3",
        None,
        &[
            links.runcat.clone().into(),
            image.band.into(),
            image.stokes.into(),
        ],
    )?;
    for row in rows {
        let n: i32 = row.get(2)?.unwrap_or_default();
        let f = |i| row.get::<f64>(i).map(Option::unwrap_or_default);
        let peak = FluxSums {
            n,
            sum_f: f(3)?,
            sum_f_sq: f(4)?,
            sum_w: f(5)?,
            sum_wf: f(6)?,
            sum_wf_sq: f(7)?,
        };
        let int = FluxSums {
            n,
            sum_f: f(8)?,
            sum_f_sq: f(9)?,
            sum_w: f(10)?,
            sum_wf: f(11)?,
            sum_wf_sq: f(12)?,
        };
        known.insert(row.get::<i64>(1)?.unwrap_or_default(), (peak, int));
    }

    let updated: Vec<(FluxSums, FluxSums)> = links
        .runcat
        .iter()
        .zip(links.peak.iter().zip(&links.int))
        .map(|(rc, (&(p, pe), &(i, ie)))| {
            let (peak, int) = known.get(rc).copied().unwrap_or_default();
            (peak.with(p, pe), int.with(i, ie))
        })
        .collect();

    let col = |g: fn(&FluxSums) -> f64, which: usize| -> Vec<f64> {
        updated
            .iter()
            .map(|pair| g(if which == 0 { &pair.0 } else { &pair.1 }))
            .collect()
    };
    let n: Vec<i32> = updated.iter().map(|(p, _)| p.n).collect();
    client.update(
        "INSERT INTO skytrap.runningcatalog_flux AS f (runcat, band, stokes, f_datapoints,
             sum_f_peak, sum_f_peak_sq, sum_f_peak_weight, sum_weighted_f_peak,
             sum_weighted_f_peak_sq, sum_f_int, sum_f_int_sq, sum_f_int_weight,
             sum_weighted_f_int, sum_weighted_f_int_sq)
         SELECT u.runcat, $2, $3, u.n, u.p1, u.p2, u.p3, u.p4, u.p5, u.i1, u.i2, u.i3, u.i4, u.i5
         FROM unnest($1::bigint[], $4::int[], $5::float8[], $6::float8[], $7::float8[],
                     $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[],
                     $13::float8[], $14::float8[])
              AS u(runcat, n, p1, p2, p3, p4, p5, i1, i2, i3, i4, i5)
         ON CONFLICT (runcat, band, stokes) DO UPDATE SET
             f_datapoints = EXCLUDED.f_datapoints,
             sum_f_peak = EXCLUDED.sum_f_peak, sum_f_peak_sq = EXCLUDED.sum_f_peak_sq,
             sum_f_peak_weight = EXCLUDED.sum_f_peak_weight,
             sum_weighted_f_peak = EXCLUDED.sum_weighted_f_peak,
             sum_weighted_f_peak_sq = EXCLUDED.sum_weighted_f_peak_sq,
             sum_f_int = EXCLUDED.sum_f_int, sum_f_int_sq = EXCLUDED.sum_f_int_sq,
             sum_f_int_weight = EXCLUDED.sum_f_int_weight,
             sum_weighted_f_int = EXCLUDED.sum_weighted_f_int,
             sum_weighted_f_int_sq = EXCLUDED.sum_weighted_f_int_sq",
        None,
        &[
            links.runcat.clone().into(),
            image.band.into(),
            image.stokes.into(),
            n.into(),
            col(|s| s.sum_f, 0).into(),
            col(|s| s.sum_f_sq, 0).into(),
            col(|s| s.sum_w, 0).into(),
            col(|s| s.sum_wf, 0).into(),
            col(|s| s.sum_wf_sq, 0).into(),
            col(|s| s.sum_f, 1).into(),
            col(|s| s.sum_f_sq, 1).into(),
            col(|s| s.sum_w, 1).into(),
            col(|s| s.sum_wf, 1).into(),
            col(|s| s.sum_wf_sq, 1).into(),
        ],
    )?;
    Ok(updated)
}

fn insert_links(
    client: &mut SpiClient<'_>,
    links: &Links,
    flux: &[(FluxSums, FluxSums)],
) -> Result<(), spi::Error> {
    let v: Vec<f64> = flux.iter().map(|(_, int)| int.v()).collect();
    let eta: Vec<f64> = flux.iter().map(|(_, int)| int.eta()).collect();
    let n: Vec<i32> = flux.iter().map(|(_, int)| int.n).collect();
    client.update(
        "INSERT INTO skytrap.assocxtrsource (runcat, xtrsrc, type, distance_arcsec, r, v_int,
             eta_int, f_datapoints)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::float8[],
                              $5::float8[], $6::float8[], $7::float8[], $8::int[])",
        None,
        &[
            links.runcat.clone().into(),
            links.xtrsrc.clone().into(),
            links.kind.clone().into(),
            links.distance_arcsec.clone().into(),
            links.r.clone().into(),
            v.into(),
            eta.into(),
            n.into(),
        ],
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
    // Earlier accepted images of the same band, with the circle each one covered.
    let rows = client.select(
        "SELECT i.id::bigint, s.centre_ra, s.centre_decl, s.xtr_radius, i.rms_min, i.rms_max,
                i.detection_thresh
         FROM skytrap.image i JOIN skytrap.skyregion s ON s.id = i.skyrgn
         WHERE i.dataset = $1 AND i.band = $2
           AND i.taustart_ts < (SELECT taustart_ts FROM skytrap.image WHERE id = $3)
           AND i.rms_min IS NOT NULL AND i.rms_max IS NOT NULL AND i.detection_thresh IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM skytrap.rejection j WHERE j.image = i.id)",
        None,
        &[image.dataset.into(), image.band.into(), image_id.into()],
    )?;
    let mut earlier = Vec::new();
    for row in rows {
        let f = |i| row.get::<f64>(i).map(Option::unwrap_or_default);
        earlier.push((
            (f(2)?, f(3)?, f(4)?),
            PreviousImage {
                id: row.get(1)?.unwrap_or_default(),
                rms_min: f(5)?,
                rms_max: f(6)?,
                detection_thresh: f(7)?,
            },
        ));
    }
    if earlier.is_empty() {
        return Ok(0);
    }

    let (mut runcat, mut trigger, mut limits_image, mut kind) = (vec![], vec![], vec![], vec![]);
    for (s, &rc) in fresh.iter().zip(fresh_ids) {
        let covering: Vec<PreviousImage> = earlier
            .iter()
            .filter(|((ra, dec, radius), _)| {
                sky::distance(*ra, *dec, s.position.ra, s.position.dec) < *radius
            })
            .map(|(_, p)| *p)
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

/// Brings the variability summary of every lightcurve this image touched up to date.
fn upsert_varmetric(
    client: &mut SpiClient<'_>,
    image: &Image,
    links: &Links,
    flux: &[(FluxSums, FluxSums)],
) -> Result<(), spi::Error> {
    let v_int: Vec<f64> = flux.iter().map(|(_, i)| i.v()).collect();
    let eta_int: Vec<f64> = flux.iter().map(|(_, i)| i.eta()).collect();
    let v_peak: Vec<f64> = flux.iter().map(|(p, _)| p.v()).collect();
    let eta_peak: Vec<f64> = flux.iter().map(|(p, _)| p.eta()).collect();
    client.update(
        "INSERT INTO skytrap.varmetric AS v (runcat, v_int, eta_int, v_peak, eta_peak, band,
             newsource, sigma_rms_max, sigma_rms_min, lightcurve_max, lightcurve_avg,
             lightcurve_median, datapoints, first_ts, last_ts)
         SELECT u.runcat, u.v_int, u.eta_int, u.v_peak, u.eta_peak, $2,
                n.id, t.f_int / p.rms_max, t.f_int / p.rms_min,
                lc.max, lc.avg, lc.median, lc.n, lc.first_ts, lc.last_ts
         FROM unnest($1::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[])
              AS u(runcat, v_int, eta_int, v_peak, eta_peak)
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
             WHERE a.runcat = u.runcat AND i.band = $2) AS lc
         ON CONFLICT (runcat) DO UPDATE SET
             v_int = EXCLUDED.v_int, eta_int = EXCLUDED.eta_int, v_peak = EXCLUDED.v_peak,
             eta_peak = EXCLUDED.eta_peak, band = EXCLUDED.band, newsource = EXCLUDED.newsource,
             sigma_rms_max = EXCLUDED.sigma_rms_max, sigma_rms_min = EXCLUDED.sigma_rms_min,
             lightcurve_max = EXCLUDED.lightcurve_max, lightcurve_avg = EXCLUDED.lightcurve_avg,
             lightcurve_median = EXCLUDED.lightcurve_median, datapoints = EXCLUDED.datapoints,
             first_ts = EXCLUDED.first_ts, last_ts = EXCLUDED.last_ts",
        None,
        &[
            links.runcat.clone().into(),
            image.band.into(),
            v_int.into(),
            eta_int.into(),
            v_peak.into(),
            eta_peak.into(),
        ],
    )?;
    Ok(())
}

fn mark_associated(client: &mut SpiClient<'_>, image_id: i32) -> Result<(), spi::Error> {
    client.update(
        "UPDATE skytrap.image SET associated_at = now() WHERE id = $1",
        None,
        &[image_id.into()],
    )?;
    Ok(())
}
