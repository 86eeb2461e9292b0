//! What association reads: the image and its measurements, the running catalogue near
//! them, the lightcurves they extend, and the stored state those are brought up to date
//! from.

use super::{Image, Links, Source};
use pgrx::prelude::*;
use pgrx::spi::{self, SpiClient};
use skytrap_core::associate::RunningPosition;
use skytrap_core::lightcurve::{in_time_order, Lightcurves, Point};
use skytrap_core::newsource::PreviousImage;
use skytrap_core::sky::Position;
use skytrap_core::variability::{FluxSums, SignificantPair};
use skytrap_core::varmetric::BandState;
use std::collections::{HashMap, HashSet};

/// Advisory-lock key space for "one associating transaction per dataset at a time" in a
/// database not yet updated to 0.3.0, whose loaders take this lock; from 0.3.0 the lock is
/// the dataset's row, which no role but a loader may lock.
const DATASET_LOCK_SPACE: i32 = 7291;

/// Takes the dataset's lock and the image's row, and reads the image with its dataset's
/// settings and what the database's schema holds. An image that does not exist, was
/// associated already or is rejected is an error.
pub(super) fn lock_image(client: &mut SpiClient<'_>, image_id: i32) -> Result<Image, spi::Error> {
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
                              AND attname = 'vs_abs_significant_max_int' AND NOT attisdropped),
                    to_regprocedure('skytrap.fork_lightcurves(bigint[], bigint[])') IS NOT NULL
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
        id: image_id,
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
        can_fork: row.get(14)?.unwrap_or_default(),
    })
}

pub(super) fn image_sources(
    client: &SpiClient<'_>,
    image_id: i32,
) -> Result<Vec<Source>, spi::Error> {
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
pub(super) fn catalogue_near(
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

/// The lightcurve of each monitor position that has one.
pub(super) fn monitor_lightcurves(
    client: &SpiClient<'_>,
    monitors: Vec<i32>,
) -> Result<HashMap<i32, i64>, spi::Error> {
    let mut runcat_of = HashMap::new();
    for row in client.select(
        "SELECT id, runcat FROM skytrap.monitor WHERE id = ANY($1) AND runcat IS NOT NULL",
        None,
        &[monitors.into()],
    )? {
        let monitor: i32 = row.get(1)?.unwrap_or_default();
        runcat_of.insert(monitor, row.get::<i64>(2)?.unwrap_or_default());
    }
    Ok(runcat_of)
}

/// The largest extraction radius of the dataset's sky regions: how far from a position
/// the centre of a region that covers it can be.
pub(super) fn largest_region_radius(
    client: &SpiClient<'_>,
    dataset: i32,
) -> Result<f64, spi::Error> {
    Ok(client
        .select(
            "SELECT max(xtr_radius) FROM skytrap.skyregion WHERE dataset = $1",
            None,
            &[dataset.into()],
        )?
        .first()
        .get_one()?
        .unwrap_or_default())
}

/// The sky regions linked to each of the lightcurves.
pub(super) fn sky_regions(
    client: &SpiClient<'_>,
    runcats: &[i64],
) -> Result<HashMap<i64, Vec<i32>>, spi::Error> {
    let mut regions_of: HashMap<i64, Vec<i32>> = HashMap::new();
    for row in client.select(
        "SELECT runcat, skyrgn FROM skytrap.assocskyrgn WHERE runcat = ANY($1)",
        None,
        &[runcats.to_vec().into()],
    )? {
        let runcat: i64 = row.get(1)?.unwrap_or_default();
        regions_of
            .entry(runcat)
            .or_default()
            .push(row.get(2)?.unwrap_or_default());
    }
    Ok(regions_of)
}

/// The accepted images of the image's band taken before it in each of `regions`, with
/// the limits the new-source rule judges by.
pub(super) fn earlier_images(
    client: &SpiClient<'_>,
    image: &Image,
    regions: Vec<i32>,
) -> Result<HashMap<i32, Vec<PreviousImage>>, spi::Error> {
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
        &[regions.into(), image.band.into(), image.id.into()],
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
    Ok(images_of)
}

/// The stored state of each (runcat, band) pair in Stokes parameter `stokes`; pairs with
/// none stored are left out.
pub(super) fn band_states(
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

/// The points of each lightcurve this image extends, in every band and Stokes parameter:
/// the stored ones and this image's, in time order (`in_time_order`). A lightcurve's links
/// and measurements are read by index per lightcurve, so the cost follows the lightcurves
/// touched and their lengths, never the size of the tables; the images are looked up once
/// each rather than once per point, which is a third of the read on long lightcurves.
pub(super) fn lightcurves(
    client: &SpiClient<'_>,
    image: &Image,
    links: &Links,
) -> Result<Lightcurves, spi::Error> {
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

    let mut lightcurves = Lightcurves::new();
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
        lightcurves
            .entry(rc)
            .or_default()
            .push(links.point(i, image));
    }
    for lc in lightcurves.values_mut() {
        in_time_order(lc);
    }
    Ok(lightcurves)
}
