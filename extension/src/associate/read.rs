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
use skytrap_core::variability::FluxSums;
use skytrap_core::varmetric::{BandState, LastPoint};
use std::collections::{HashMap, HashSet};

/// Takes the dataset's lock and the image's row, and reads the image with its dataset's
/// settings. An image that does not exist, was associated already or is rejected is an
/// error, and so is a schema older than this library (association writes what the
/// update adds).
pub(super) fn lock_image(client: &mut SpiClient<'_>, image_id: i32) -> Result<Image, spi::Error> {
    let installed: Option<String> = client
        .select(
            "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'skytrap'",
            None,
            &[],
        )?
        .first()
        .get_one()?;
    let library = env!("CARGO_PKG_VERSION");
    if installed.as_deref() != Some(library) {
        error!(
            "skytrap.associate_image: the database has skytrap {}, this library is {library}: \
             update the extension (ALTER EXTENSION skytrap UPDATE)",
            installed.as_deref().unwrap_or("none")
        );
    }
    let found = client.select(
        "SELECT dataset FROM skytrap.image WHERE id = $1",
        None,
        &[image_id.into()],
    )?;
    if found.is_empty() {
        error!("skytrap.associate_image: image {image_id} does not exist");
    }
    let dataset = found.first().get_one::<i32>()?.unwrap_or_default();
    // The dataset's lock (which the loader took already, in the same transaction).
    client.update("SELECT skytrap.lock_dataset($1)", None, &[dataset.into()])?;
    let row = client
        .update(
            "SELECT i.band, i.stokes, d.beamwidths_limit * i.rb_smaj, d.assoc_radius,
                    d.new_source_sigma_margin, i.associated_at IS NOT NULL,
                    EXISTS (SELECT 1 FROM skytrap.rejection j WHERE j.image = i.id),
                    extract(epoch FROM i.taustart_ts)::float8, i.skyrgn
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
        epoch: row.get(8)?.unwrap_or_default(),
        skyrgn: row.get(9)?.unwrap_or_default(),
    })
}

pub(super) fn image_sources(
    client: &SpiClient<'_>,
    image_id: i32,
) -> Result<Vec<Source>, spi::Error> {
    let rows = client.select(
        "SELECT id, ra, decl, uncertainty_ew, uncertainty_ns, f_peak, f_peak_err, f_int, f_int_err,
                ff_runcat, ff_monitor, ra_err, decl_err
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
            ra_err: f(12)?,
            decl_err: f(13)?,
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

/// A lightcurve's stored states that association needs: in the image's band and Stokes
/// parameter, and in every band of Stokes I (which the variability summary picks from).
#[derive(Default)]
pub(super) struct Stored {
    /// By (runcat, band, stokes).
    pub(super) states: HashMap<(i64, i32, i16), BandState>,
    /// The Stokes I flux rows the variability summary shows, as (runcat, band).
    pub(super) shown: HashSet<(i64, i32)>,
}

/// The stored states of the lightcurves `runcats` in the image's band and Stokes
/// parameter and, for a Stokes I image (which may move the variability summary), in every
/// band of Stokes I, read by index: one flux row per band, whatever the length of the
/// lightcurve.
pub(super) fn band_states(
    client: &SpiClient<'_>,
    image: &Image,
    runcats: &[i64],
) -> Result<Stored, spi::Error> {
    let mut stored = Stored::default();
    let rows = client.select(
        "SELECT f.runcat, f.band, f.stokes, f.f_datapoints, f.sum_f_peak, f.sum_f_peak_sq,
                f.sum_f_peak_weight, f.sum_weighted_f_peak, f.sum_weighted_f_peak_sq,
                f.sum_f_int, f.sum_f_int_sq, f.sum_f_int_weight, f.sum_weighted_f_int,
                f.sum_weighted_f_int_sq, extract(epoch FROM f.first_ts)::float8,
                extract(epoch FROM f.last_ts)::float8, f.last_xtrsrc, f.last_prev_xtrsrc,
                f.last_f_int, f.max_f_int, f.varmetric_band
         FROM (SELECT DISTINCT unnest($1::bigint[])) AS u(runcat)
         JOIN skytrap.runningcatalog_flux f ON f.runcat = u.runcat
         WHERE (f.band = $2 AND f.stokes = $3) OR ($3 = 1 AND f.stokes = 1)",
        None,
        &[
            runcats.to_vec().into(),
            image.band.into(),
            image.stokes.into(),
        ],
    )?;
    for row in rows {
        let n: i32 = row.get(4)?.unwrap_or_default();
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
            peak: sums(5)?,
            int: sums(10)?,
            first: f(15)?,
            max_f_int: f(20)?,
            last: Some(LastPoint {
                epoch: f(16)?,
                xtrsrc: row.get(17)?.unwrap_or_default(),
                previous: row.get(18)?,
                f_int: f(19)?,
            }),
        };
        let runcat: i64 = row.get(1)?.unwrap_or_default();
        let band: i32 = row.get(2)?.unwrap_or_default();
        let stokes: i16 = row.get(3)?.unwrap_or_default();
        if row.get::<bool>(21)?.unwrap_or_default() {
            stored.shown.insert((runcat, band));
        }
        stored.states.insert((runcat, band, stokes), state);
    }
    Ok(stored)
}

/// The points of the lightcurves that the links `late` (indices into `links`) extend
/// with a point older than their latest, in every band and Stokes parameter: the stored
/// ones and this image's, in time order (`in_time_order`). Only there does association
/// read a lightcurve's history (an image associated after a later one); a lightcurve's
/// links and measurements are read by index, and the images are looked up once each.
pub(super) fn lightcurves(
    client: &SpiClient<'_>,
    image: &Image,
    links: &Links,
    late: &[usize],
) -> Result<Lightcurves, spi::Error> {
    if late.is_empty() {
        return Ok(Lightcurves::new());
    }
    let runcats: Vec<i64> = late.iter().map(|&i| links.runcat[i]).collect();
    struct StoredPoint {
        runcat: i64,
        image: i32,
        point: Point,
    }
    let mut stored = Vec::new();
    for row in client.select(
        // LATERAL per lightcurve: index lookups whatever the planner thinks of the array.
        "SELECT u.runcat, x.id, a.prev_xtrsrc, x.image, x.f_int, x.f_int_err, x.f_peak,
                x.f_peak_err
         FROM unnest($1::bigint[]) AS u(runcat)
         CROSS JOIN LATERAL (
             SELECT a.xtrsrc, a.prev_xtrsrc FROM skytrap.assocxtrsource a
             WHERE a.runcat = u.runcat) a
         JOIN skytrap.extractedsource x ON x.id = a.xtrsrc",
        None,
        &[runcats.into()],
    )? {
        let f = |i| row.get::<f64>(i).map(Option::unwrap_or_default);
        stored.push(StoredPoint {
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
    for &i in late {
        lightcurves
            .entry(links.runcat[i])
            .or_default()
            .push(links.point(i, image));
    }
    for lc in lightcurves.values_mut() {
        in_time_order(lc);
    }
    Ok(lightcurves)
}
