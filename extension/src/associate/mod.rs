//! `skytrap.associate_image(image)`: one call turns an image's extracted sources into
//! lightcurve points. `read` reads with SPI, `skytrap-core` decides, `write` writes
//! set-based; `associate` below wires them in the order the writes need (a fork's new
//! lightcurve, say, is read back with the state it was given). Each point costs the same
//! however long its lightcurve: association reads and writes one flux row per band, and
//! reads a lightcurve's history only when a point comes in older than its latest.

mod read;
mod write;

use pgrx::prelude::*;
use pgrx::spi::{self, SpiClient};
use skytrap_core::associate::{candidate_pairs, plan, RunningPosition};
use skytrap_core::codes::{link, stokes};
use skytrap_core::lightcurve::{Point, PointOrder};
use skytrap_core::newsource::{self, PreviousImage};
use skytrap_core::sky::Position;
use skytrap_core::varmetric::{summary_band, BandState};
use std::collections::{HashMap, HashSet};
use write::Moved;

/// The image being associated, with its dataset's settings.
struct Image {
    id: i32,
    dataset: i32,
    band: i32,
    stokes: i16,
    search_radius: f64,
    r_max: f64,
    margin: f64,
    /// `taustart_ts` in seconds since 1970.
    epoch: f64,
    /// The image's sky region.
    skyrgn: i32,
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
    /// TraP's combined position errors (degrees), which lightcurves sum.
    ra_err: f64,
    decl_err: f64,
}

/// The lightcurve points this image adds, one per (runcat, source), as columns for
/// `unnest`.
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

    /// The `i`th link's point on its lightcurve.
    fn point(&self, i: usize, image: &Image) -> Point {
        Point {
            xtrsrc: self.xtrsrc[i],
            band: image.band,
            stokes: image.stokes,
            previous: None,
            int: self.int[i],
            peak: self.peak[i],
            epoch: image.epoch,
            current: true,
        }
    }
}

/// What `associate_image` returns: lightcurves extended one-to-one or many-to-one, new
/// lightcurves, new sources (transient candidates), forks, and forced-fit points.
type Counts = (i32, i32, i32, i32, i32);

/// Associates the measurements of one image with its dataset's running catalogue, as
/// TraP does: blind detections extend, fork or start lightcurves; forced fits at the
/// positions of lightcurves the blind detections did not extend become null-detection
/// points; forced fits at monitor positions extend (or start) the monitor's lightcurve.
/// First detections brighter than earlier images could have missed become `newsource`
/// rows (which raise alerts), and the state of every lightcurve touched is brought up to
/// date, one flux row per band (its variability summary is a view of those). Locks the dataset's row, so concurrent loaders of one dataset
/// queue up; the caller's transaction makes the whole image atomic.
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
    let image = read::lock_image(client, image_id)?;
    let sources = read::image_sources(client, image_id)?;
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
            read::catalogue_near(client, image.dataset, &detections, image.search_radius)?;
        let positions: Vec<Position> = running.iter().map(RunningPosition::position).collect();
        let pairs = candidate_pairs(&detections, &positions, image.search_radius, image.r_max);
        let plan = plan(blind.len(), positions.len(), &pairs);

        for p in &plan.extend {
            let (s, rc) = (blind[p.source], runcat_ids[p.candidate]);
            moved.push(rc, s, &running[p.candidate].with(&s.position));
            links.push(rc, s, link::ONE_TO_ONE, p.distance * 3600.0, p.r);
            detected.insert(rc);
        }
        let mut fork = Moved::default();
        let mut fork_pairs = Vec::new();
        for (c, group) in &plan.forks {
            for p in group {
                let s = blind[p.source];
                fork.push(runcat_ids[*c], s, &running[*c].with(&s.position));
                fork_pairs.push(*p);
            }
            detected.insert(runcat_ids[*c]);
        }
        forks = plan.forks.len() as i32;
        let fork_ids = write::forks(client, &fork)?;
        for (p, &rc) in fork_pairs.iter().zip(&fork_ids) {
            links.push(
                rc,
                blind[p.source],
                link::FORK_BASE,
                p.distance * 3600.0,
                p.r,
            );
        }
        write::moved(client, &moved)?;
        fresh = plan.unmatched.iter().map(|&i| blind[i]).collect();
    }
    // Forced fits at lightcurves a blind detection extended measure nothing new.
    write::drop_redundant_forced_fits(client, &sources, &detected)?;
    let fresh_ids = write::fresh(client, image.dataset, &fresh, false)?;
    for (s, &rc) in fresh.iter().zip(&fresh_ids) {
        links.push(rc, s, link::NEW_SOURCE, 0.0, 0.0);
    }
    link_sky_regions(client, &image, &fresh_ids)?;

    let forced = associate_forced(client, &image, &sources, &detected, &mut links)?;

    let stored = read::band_states(client, &image, &links.runcat)?;
    let (flux, previous) = update_flux_rows(client, &image, &links, &stored)?;
    write::links(client, &image, &links, &flux, &previous)?;
    let new_sources = new_sources(client, &image, &fresh, &fresh_ids)?;
    write::associated(client, image_id)?;

    Ok((
        moved.len() as i32,
        fresh.len() as i32,
        new_sources,
        forks,
        forced,
    ))
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
    write::null_detections(client, nulls)?;

    let monitored: Vec<&Source> = sources.iter().filter(|s| s.ff_monitor.is_some()).collect();
    if !monitored.is_empty() {
        let ids: Vec<i32> = monitored.iter().filter_map(|s| s.ff_monitor).collect();
        let runcat_of = read::monitor_lightcurves(client, ids)?;
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
        write::monitor_points(client, again)?;
        let new_ids = write::fresh(client, image.dataset, &first, true)?;
        for (s, &rc) in first.iter().zip(&new_ids) {
            links.push(rc, s, link::FIRST_MONITOR, 0.0, 0.0);
        }
        link_sky_regions(client, image, &new_ids)?;
        let monitors: Vec<i32> = first.iter().filter_map(|s| s.ff_monitor).collect();
        write::monitor_lightcurves(client, monitors, new_ids)?;
    }
    Ok((links.runcat.len() - before) as i32)
}

/// Records which sky regions of the dataset cover each new lightcurve, and links it to its
/// own image's region whatever its position (TraP does too: a source fitted just outside
/// the searched area was still seen there).
fn link_sky_regions(
    client: &mut SpiClient<'_>,
    image: &Image,
    runcats: &[i64],
) -> Result<(), spi::Error> {
    if runcats.is_empty() {
        return Ok(());
    }
    let reach = read::largest_region_radius(client, image.dataset)?;
    write::sky_regions(client, image, runcats, reach)
}

/// Adds each link's point to its lightcurve's state in the image's band and Stokes
/// parameter (`BandState::with_point`) and stores it; returns the updated states and each
/// point's previous point, in link order. The previous point follows from the stored state
/// unless the point is older than the latest: only those lightcurves are read (`late`),
/// and their stored points that now follow one of the image's are given it.
fn update_flux_rows(
    client: &mut SpiClient<'_>,
    image: &Image,
    links: &Links,
    stored: &read::Stored,
) -> Result<(Vec<BandState>, Vec<Option<i64>>), spi::Error> {
    let before: Vec<BandState> = links
        .runcat
        .iter()
        .map(|&rc| {
            let key = (rc, image.band, image.stokes);
            stored.states.get(&key).copied().unwrap_or_default()
        })
        .collect();
    let known: Vec<Option<Option<i64>>> =
        before.iter().map(|s| s.previous_of(image.epoch)).collect();
    let late: Vec<usize> = (0..known.len()).filter(|&i| known[i].is_none()).collect();
    let mut previous: Vec<Option<i64>> = known.into_iter().map(Option::flatten).collect();

    let lightcurves = read::lightcurves(client, image, links, &late)?;
    let new_points = late.iter().map(|&i| (links.runcat[i], links.xtrsrc[i]));
    let order = PointOrder::of(new_points, &lightcurves, image.band, image.stokes);
    for (&i, &p) in late.iter().zip(&order.previous) {
        previous[i] = p;
    }
    let mut states: Vec<BandState> = before
        .iter()
        .enumerate()
        .map(|(i, s)| s.with_point(&links.point(i, image), previous[i]))
        .collect();
    let late_link: HashMap<i64, usize> = late.iter().map(|&i| (links.runcat[i], i)).collect();
    for &(rc, xtrsrc, p) in &order.later {
        if let Some(&i) = late_link.get(&rc) {
            states[i] = states[i].with_previous_changed(xtrsrc, p);
        }
    }
    write::later_points(client, &order.later)?;

    let (shown, moved) = summary_bands(image, links, stored, &states);
    let has_row: Vec<bool> = links
        .runcat
        .iter()
        .map(|&rc| stored.states.contains_key(&(rc, image.band, image.stokes)))
        .collect();
    write::flux_rows(client, image, &links.runcat, &states, &shown, &has_row)?;
    write::summary_bands(client, moved)?;
    Ok((states, previous))
}

/// Which flux row each lightcurve's variability summary shows after a Stokes I image
/// (`varmetric::summary_band` over its Stokes I states, the image's band updated to
/// `states`): whether it is the image's row, in link order, and the lightcurve's other
/// rows whose flag changes, as (runcat, band, shown). An image in Stokes Q, U or V leaves
/// the summaries alone.
fn summary_bands(
    image: &Image,
    links: &Links,
    stored: &read::Stored,
    states: &[BandState],
) -> (Vec<bool>, Vec<(i64, i32, bool)>) {
    if image.stokes != stokes::I {
        return (vec![false; links.runcat.len()], Vec::new());
    }
    let mut others: HashMap<i64, Vec<(i32, &BandState)>> = HashMap::new();
    for ((rc, band, st), state) in &stored.states {
        if *st == stokes::I && *band != image.band {
            others.entry(*rc).or_default().push((*band, state));
        }
    }
    let mut moved = Vec::new();
    let shown = links
        .runcat
        .iter()
        .zip(states)
        .map(|(rc, state)| {
            let bands = others.get(rc).map(Vec::as_slice).unwrap_or_default();
            let winner = summary_band(bands.iter().copied().chain([(image.band, state)]))
                .unwrap_or(image.band);
            for &(band, _) in bands {
                if (band == winner) != stored.shown.contains(&(*rc, band)) {
                    moved.push((*rc, band, band == winner));
                }
            }
            winner == image.band
        })
        .collect();
    moved.sort_unstable();
    (shown, moved)
}

/// Applies TraP's new-source rule (`newsource::classify`) to the sources that started a
/// lightcurve, against the earlier accepted images of the band in the sky regions that
/// cover each (linked just before): what the lightcurve's sky holds, not what the dataset
/// does. Returns how many became `newsource` rows.
fn new_sources(
    client: &mut SpiClient<'_>,
    image: &Image,
    fresh: &[&Source],
    fresh_ids: &[i64],
) -> Result<i32, spi::Error> {
    if fresh.is_empty() {
        return Ok(0);
    }
    let regions_of = read::sky_regions(client, fresh_ids)?;
    let regions: Vec<i32> = regions_of.values().flatten().copied().collect();
    let images_of = read::earlier_images(client, image, regions)?;
    let mut new = write::NewSources::default();
    for (s, &rc) in fresh.iter().zip(fresh_ids) {
        let covering: Vec<PreviousImage> = regions_of
            .get(&rc)
            .into_iter()
            .flatten()
            .filter_map(|g| images_of.get(g))
            .flatten()
            .copied()
            .collect();
        if let Some(found) = newsource::classify(s.f_peak, &covering, image.margin) {
            new.push(rc, s.id, &found);
        }
    }
    write::new_sources(client, new)
}
