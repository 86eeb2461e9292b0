//! Source extraction, stage by stage: the mask and the background and noise maps
//! (`background`), the detection threshold (`fdr`), islands (`islands`) and their
//! deblending (`deblend`), measurement (`measure`, `forcebeam`, `deconv`), forced fits at
//! given positions (`forced`) and image quality control (`qc`); this module ties them
//! together and puts the results on the sky.

pub mod background;
pub mod catalogue;
pub mod deblend;
pub mod deconv;
pub mod fdr;
pub mod forcebeam;
pub mod forced;
pub mod islands;
pub mod measure;
pub mod qc;

use crate::image::ellipse::{self, Ellipse};
use crate::image::fits::Image;
use anyhow::{bail, Result};
use measure::{Beam, Measurement};
use ndarray::Array2;
use rayon::prelude::*;
use serde::Serialize;
use skytrap_core::codes::reject;
use skytrap_core::sky;

/// Extraction settings; the defaults are TraP's job_params.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Detection threshold, sigma.
    pub detection: f64,
    /// Analysis (island-growing) threshold, sigma.
    pub analysis: f64,
    /// Background box size, pixels.
    pub back_size: usize,
    /// Pixels masked at the image border.
    pub margin: usize,
    /// Extraction radius around the image centre in pixels; 0 means the whole image.
    pub radius: f64,
    /// 8-connected islands (PySE) rather than 4-connected (TraP's copy).
    pub eight_connected: bool,
    /// Systematic position errors east-west and north-south, arcsec.
    pub ew_sys_err: f64,
    pub ns_sys_err: f64,
    /// False Detection Rate: the detection threshold is the one at which at most this
    /// fraction of detected pixels is expected to be noise (PySE's `fd_extract`); None:
    /// the fixed `detection` threshold.
    pub fdr_alpha: Option<f64>,
    /// Deblending sub-thresholds (0: no deblending) and the least fraction of an island's
    /// flux a part must hold to be a source of its own.
    pub deblend_nthresh: usize,
    pub deblend_mincont: f64,
    /// Fit only peak and position, the shape held at the restoring beam.
    pub force_beam: bool,
    /// No least-squares fit: every source measured by its (tweaked) moments, with the
    /// moments' errors, as PySE's vectorised mode does.
    pub moments_only: bool,
    /// PySE's CLEAN bias (Jy/beam, added to every peak) and its error, and the fractional
    /// flux-calibration error; all 0 by default, as in PySE.
    pub clean_bias: f64,
    pub clean_bias_error: f64,
    pub frac_flux_cal_error: f64,
    /// Forced fits: the box's side in units of the larger beam semi-axis (pixels).
    pub box_in_beampix: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            detection: 8.0,
            analysis: 3.0,
            back_size: 50,
            margin: 10,
            radius: 0.0,
            eight_connected: true,
            ew_sys_err: 10.0,
            ns_sys_err: 10.0,
            fdr_alpha: None,
            deblend_nthresh: 0,
            deblend_mincont: 0.005,
            force_beam: false,
            moments_only: false,
            clean_bias: 0.0,
            clean_bias_error: 0.0,
            frac_flux_cal_error: 0.0,
            box_in_beampix: forced::BOX_IN_BEAMPIX,
        }
    }
}

/// One measured source, in the units of `skytrap extract`'s output.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    /// Position, degrees.
    pub ra: f64,
    pub dec: f64,
    /// Position errors, arcsec (RA error as an RA difference, not an arc).
    pub ra_err: f64,
    pub dec_err: f64,
    /// Peak, Jy/beam, and integrated flux, Jy.
    pub peak: f64,
    pub peak_err: f64,
    pub flux: f64,
    pub flux_err: f64,
    /// Semi-axes (half width at half maximum), arcsec, and position angle, degrees east of north.
    pub smaj: f64,
    pub smin: f64,
    pub pa: f64,
    /// Highest signal-to-noise ratio in the island.
    pub snr: f64,
    /// 0-based pixel position.
    pub x: f64,
    pub y: f64,
    pub smaj_err: f64,
    pub smin_err: f64,
    pub pa_err: f64,
    /// The most pessimistic on-sky position error, arcsec.
    pub error_radius: f64,
    pub chisq: f64,
    pub reduced_chisq: f64,
    /// true for a Gaussian fit, false where only moments could be measured.
    pub fitted: bool,
    /// The shape with the restoring beam deconvolved (PySE's AIPS DECONV): semi-axes,
    /// arcsec, position angle, degrees east of north, and how many of the two axes could
    /// not be deconvolved (the source no wider than the beam along them; such an axis is 0).
    pub smaj_dc: f64,
    pub smin_dc: f64,
    pub pa_dc: f64,
    pub dc_imposs: u8,
}

/// The sources of one image and what the database records about the extraction.
pub struct Extraction {
    pub sources: Vec<Source>,
    /// Noise range over the extraction region, Jy/beam.
    pub rms_min: f64,
    pub rms_max: f64,
    /// The detection threshold applied, sigma: the FDR step's under `fdr_alpha`, None
    /// where it found none (no pixel passes, so the image sets no detection limit).
    pub detection: Option<f64>,
}

/// Where an image looks and with what beam, from its header and WCS alone: what the
/// database records about every image, measured or rejected.
pub struct Geometry {
    /// Centre of the pixel grid and the radius of a circle around it holding every searched
    /// pixel, degrees.
    pub centre: (f64, f64),
    pub xtr_radius: f64,
    /// The searched area's boundary on the sky, {ra1, dec1, ra2, dec2, ...} (degrees,
    /// great-circle edges), where the circle alone would claim more than was searched; None
    /// where the circle is exact (an extraction radius inside the margin) or the area does
    /// not fit in a hemisphere.
    pub footprint: Option<Vec<f64>>,
    /// Restoring beam semi-axes (degrees) and position angle, as TraP stores them.
    pub beam_smaj: f64,
    pub beam_smin: f64,
    /// Pixel sizes, degrees.
    pub deltax: f64,
    pub deltay: f64,
}

/// An image whose header is sound but whose pixels cannot be measured, with the reason
/// from TraP's list (`skytrap.rejectreason`): `load` records it as a rejection.
#[derive(Debug)]
pub struct Unusable {
    pub reason: RejectReason,
    pub detail: String,
}

/// TraP's reject reasons, numbered as in `skytrap.rejectreason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    RmsInvalid = reject::RMS_INVALID as isize,
    BeamInvalid = reject::BEAM_INVALID as isize,
    BrightSource = reject::BRIGHT_SOURCE as isize,
    ContainsNan = reject::CONTAINS_NAN as isize,
    Flat = reject::FLAT as isize,
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Unusable {}

fn unusable(reason: RejectReason, detail: String) -> anyhow::Error {
    Unusable { reason, detail }.into()
}

/// What extraction and forced fits share about an image: the restoring beam in pixels,
/// the mask of unusable pixels (true = excluded), and the background and noise maps.
pub struct Field {
    pub beam: Beam,
    pub mask: Array2<bool>,
    pub maps: background::Maps,
    /// Noise range over the unmasked pixels, Jy/beam.
    pub rms_min: f64,
    pub rms_max: f64,
}

/// Finds and measures the sources of an image.
pub fn extract(image: &Image, params: &Params) -> Result<Extraction> {
    Ok(extract_in(image, &field(image, params)?, params))
}

/// The beam, mask and background maps of an image under these settings.
pub fn field(image: &Image, params: &Params) -> Result<Field> {
    let (ny, nx) = image.data.dim();
    let beam = beam_in_pixels(image);

    let (cx, cy) = ((nx as f64 - 1.0) / 2.0, (ny as f64 - 1.0) / 2.0);
    let mut mask = Array2::from_elem((ny, nx), false);
    ndarray::Zip::indexed(&mut mask)
        .and(&image.data)
        .for_each(|(y, x), m, &v| {
            *m = !v.is_finite()
                || x < params.margin
                || y < params.margin
                || x + params.margin >= nx
                || y + params.margin >= ny
                || (params.radius > 0.0
                    && ((x as f64 - cx).powi(2) + (y as f64 - cy).powi(2)).sqrt() >= params.radius)
        });
    let mut unmasked = image
        .data
        .iter()
        .zip(mask.iter())
        .filter(|(_, &m)| !m)
        .map(|(&v, _)| v);
    let Some(first) = unmasked.next() else {
        check_margin(nx, ny, params)?;
        if image.data.iter().any(|v| v.is_nan()) {
            return Err(unusable(
                RejectReason::ContainsNan,
                "no usable pixels: the image is blank (NaN)".into(),
            ));
        }
        return Err(unusable(
            RejectReason::RmsInvalid,
            "no usable pixels: every pixel is infinite".into(),
        ));
    };
    if unmasked.all(|v| v == first) {
        return Err(unusable(
            RejectReason::Flat,
            format!("the image is flat: every usable pixel is {first}"),
        ));
    }

    let maps = background::estimate(&image.data, &mask, (params.back_size, params.back_size))
        .map_err(|e| unusable(RejectReason::RmsInvalid, format!("{e:#}")))?;
    // PySE's rms_filter: pixels whose noise is below RMS_FILTER of the median node noise
    // are not analysed (near-zero-noise regions such as AWImager's outer circle, where any
    // ripple would be a "detection").
    let floor = RMS_FILTER * maps.node_rms_median;
    ndarray::Zip::from(&mut mask)
        .and(&maps.rms)
        .for_each(|m, &r| *m |= f64::from(r) < floor);
    let (mut rms_min, mut rms_max) = (f64::INFINITY, f64::NEG_INFINITY);
    for (&r, &m) in maps.rms.iter().zip(mask.iter()) {
        if !m {
            rms_min = rms_min.min(f64::from(r));
            rms_max = rms_max.max(f64::from(r));
        }
    }
    if !(rms_min > 0.0 && rms_max.is_finite()) {
        return Err(unusable(
            RejectReason::RmsInvalid,
            format!("the noise ranges from {rms_min} to {rms_max} Jy/beam"),
        ));
    }
    Ok(Field {
        beam,
        mask,
        maps,
        rms_min,
        rms_max,
    })
}

/// An image no larger than twice its margin has no pixel to search: the settings do not
/// suit it (an error, where an image whose pixels are unusable is a rejection).
pub fn check_margin(nx: usize, ny: usize, params: &Params) -> Result<()> {
    if nx <= 2 * params.margin || ny <= 2 * params.margin {
        bail!(
            "the image ({nx}x{ny} pixels) is no larger than its margin of {} pixels",
            params.margin
        );
    }
    Ok(())
}

/// PySE's `rms_filter` default.
const RMS_FILTER: f64 = 0.001;

/// The restoring beam in pixels: its ellipse on the sky taken through the inverse CD
/// matrix (TraP's formula assumes north up, east along −x and square pixels, and makes a
/// rotated, mirrored or non-square-pixel image's beam wrong). At the reference point's
/// scale, as PySE and TraP take it. Where the CD matrix is singular, TraP's formula.
pub fn beam_in_pixels(image: &Image) -> Beam {
    let meta = &image.meta;
    let bpa = meta.bpa.to_radians();
    match ellipse::inverse(&image.wcs.reference_frame()) {
        Some(m) => {
            let e = Ellipse::on_sky(meta.bmaj / 2.0, meta.bmin / 2.0, bpa).mapped(&m);
            Beam {
                smaj: e.smaj,
                smin: e.smin,
                theta: e.theta(),
            }
        }
        None => {
            let (dx, dy) = image.wcs.pixel_scale();
            Beam {
                smaj: meta.bmaj / 2.0
                    * ((bpa.sin() / dx).powi(2) + (bpa.cos() / dy).powi(2)).sqrt(),
                smin: meta.bmin / 2.0
                    * ((bpa.cos() / dx).powi(2) + (bpa.sin() / dy).powi(2)).sqrt(),
                theta: bpa,
            }
        }
    }
}

/// The image's extraction region and beam on the sky.
pub fn geometry(image: &Image, params: &Params) -> Result<Geometry> {
    let (ny, nx) = image.data.dim();
    let (dx, dy) = image.wcs.pixel_scale();
    // The mask's centre (`field`), so that the region describes what was searched.
    let (cx, cy) = ((nx as f64 - 1.0) / 2.0, (ny as f64 - 1.0) / 2.0);
    let Some(centre) = image.wcs.pixel_to_sky(cx, cy) else {
        bail!("the image centre has no sky position in its WCS");
    };
    let vertices: Option<Vec<(f64, f64)>> = searched_outline(nx, ny, params).map(|outline| {
        outline
            .iter()
            .filter_map(|&(x, y)| image.wcs.pixel_to_sky(x, y))
            .collect()
    });
    let vertices = vertices.filter(|v| sky::polygon_cone(v).is_some());
    let xtr_radius = match (&vertices, params.radius > 0.0) {
        (Some(v), _) => v
            .iter()
            .map(|&(ra, dec)| sky::distance(centre.0, centre.1, ra, dec))
            .fold(0.0, f64::max),
        (None, true) => params.radius * dx,
        // An area beyond a hemisphere (an all-sky image): the inscribed circle.
        (None, false) => nx.min(ny) as f64 / 2.0 * dx,
    };
    let footprint = vertices.map(|v| v.iter().flat_map(|&(ra, dec)| [ra, dec]).collect());
    Ok(Geometry {
        centre,
        xtr_radius,
        footprint,
        beam_smaj: image.meta.bmaj / 2.0,
        beam_smin: image.meta.bmin / 2.0,
        deltax: dx,
        deltay: dy,
    })
}

/// Vertices of the searched area's outline, besides the corners: enough that a straight
/// pixel edge and the great circle between two vertices part by well under a pixel on a
/// field of tens of degrees.
const OUTLINE_VERTICES: usize = 128;

/// The outline of the searched pixels (`field`'s mask without the blanked ones) in pixel
/// coordinates, counter-clockwise: the pixels' outer edges inside the margin, cut by the
/// extraction radius; None when the extraction circle lies inside the margin, so that it
/// is the whole outline. Both shapes hold the centre, so in each direction the outline
/// lies at the nearer of the two; the rectangle's corners are vertices of their own.
fn searched_outline(nx: usize, ny: usize, params: &Params) -> Option<Vec<(f64, f64)>> {
    let (cx, cy) = ((nx as f64 - 1.0) / 2.0, (ny as f64 - 1.0) / 2.0);
    let m = params.margin as f64;
    let (x0, x1) = (m - 0.5, nx as f64 - m - 0.5);
    let (y0, y1) = (m - 0.5, ny as f64 - m - 0.5);
    let radius = if params.radius > 0.0 {
        params.radius
    } else {
        f64::INFINITY
    };
    let inside_margin = [x1 - cx, cx - x0, y1 - cy, cy - y0]
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    if radius <= inside_margin {
        return None;
    }
    let to_rectangle = |t: f64| {
        let (s, c) = t.sin_cos();
        let along = |d: f64, lo: f64, hi: f64| match d {
            d if d > 0.0 => hi / d,
            d if d < 0.0 => lo / d,
            _ => f64::INFINITY,
        };
        along(c, x0 - cx, x1 - cx).min(along(s, y0 - cy, y1 - cy))
    };
    let tau = std::f64::consts::TAU;
    let mut angles: Vec<f64> = [(x1, y1), (x0, y1), (x0, y0), (x1, y0)]
        .iter()
        .map(|&(x, y)| (y - cy).atan2(x - cx).rem_euclid(tau))
        .chain((0..OUTLINE_VERTICES).map(|k| tau * k as f64 / OUTLINE_VERTICES as f64))
        .collect();
    angles.sort_by(f64::total_cmp);
    angles.dedup();
    Some(
        angles
            .into_iter()
            .map(|t| {
                let r = radius.min(to_rectangle(t));
                (cx + r * t.cos(), cy + r * t.sin())
            })
            .collect(),
    )
}

/// Finds and measures the sources of an image in its field.
pub fn extract_in(image: &Image, field: &Field, params: &Params) -> Extraction {
    let Field {
        beam, mask, maps, ..
    } = field;
    let signal = &image.data - &maps.background;
    let detection = match params.fdr_alpha {
        None => params.detection,
        Some(alpha) => {
            let z = signal
                .iter()
                .zip(maps.rms.iter())
                .zip(mask.iter())
                .filter(|&((_, &r), &m)| !m && r > 0.0)
                .map(|((&v, &r), _)| f64::from(v) / f64::from(r));
            match fdr::threshold(z, beam, alpha) {
                Some(t) => t,
                None => {
                    return Extraction {
                        sources: Vec::new(),
                        rms_min: field.rms_min,
                        rms_max: field.rms_max,
                        detection: None,
                    }
                }
            }
        }
    };
    let found = islands::find(
        &signal,
        &maps.rms,
        mask,
        detection,
        params.analysis,
        params.eight_connected,
    );
    let rms_at = |x: usize, y: usize| f64::from(maps.rms[[y, x]]);
    let sources = found
        .into_par_iter()
        .flat_map_iter(|island| {
            let (rms, snr) = (island.rms, island.max_snr);
            let parts = deblend::deblend(
                island.pixels,
                params.deblend_nthresh,
                params.deblend_mincont,
                params.eight_connected,
                &|x, y| detection * rms_at(x, y),
            );
            let single = parts.len() == 1;
            parts.into_iter().map(move |part| {
                // A deblended part is cut at its level, and its noise and significance
                // are those at its own brightest pixel.
                let (rms, snr) = if single {
                    (rms, snr)
                } else {
                    part.pixels
                        .iter()
                        .fold((rms, f64::MIN), |(r, s), &(x, y, v)| {
                            let z = f64::from(v) / rms_at(x, y);
                            if z > s {
                                (rms_at(x, y), z)
                            } else {
                                (r, s)
                            }
                        })
                };
                let threshold = part.level.unwrap_or(params.analysis * rms);
                (part.pixels, rms, snr, threshold)
            })
        })
        .filter_map(|(pixels, rms, snr, threshold)| {
            let m = if params.moments_only && params.force_beam {
                measure::measure_moments_beam(&pixels, rms, threshold, beam)
            } else if params.moments_only {
                measure::measure_moments(&pixels, rms, threshold, beam)
            } else if params.force_beam {
                forcebeam::measure(&pixels, rms, threshold, beam)
            } else {
                measure::measure(&pixels, rms, threshold, beam)
            };
            let m = measure::calibrated(
                m,
                params.clean_bias,
                params.clean_bias_error,
                params.frac_flux_cal_error,
            );
            to_sky(image, &m, snr)
        })
        .collect();
    Extraction {
        sources,
        rms_min: field.rms_min,
        rms_max: field.rms_max,
        detection: Some(detection),
    }
}

/// Converts a pixel-frame measurement to sky units; None if it is off the projection.
/// Shapes and the position's error ellipse go through the WCS's local map at the source,
/// so that the RA and Dec errors are those of the error ellipse in the local east and
/// north (PySE projects onto the pixel axes first, and a rotated image's errors then
/// differ by up to 2×).
pub fn to_sky(image: &Image, m: &Measurement, snr: f64) -> Option<Source> {
    let g = &m.gaussian;
    let (ra, dec) = image.wcs.pixel_to_sky(g.x, g.y)?;
    let to_sky = image.wcs.local_frame(g.x, g.y)?;
    let errors = ellipse::transform(
        &Ellipse::in_pixels(m.position_err.0, m.position_err.1, g.theta).covariance(),
        &to_sky,
    );
    let (east_err, north_err) = (errors[0][0].sqrt(), errors[1][1].sqrt());
    let ra_err = east_err / dec.to_radians().cos();
    let error_radius = east_err.hypot(north_err);
    let shape = Ellipse::in_pixels(g.smaj, g.smin, g.theta).mapped(&to_sky);
    let (smaj, smin, pa) = (
        shape.smaj * 3600.0,
        shape.smin * 3600.0,
        shape.position_angle(),
    );
    let beam = beam_in_pixels(image);
    let dc = deconv::deconvolve(
        g.smaj,
        g.smin,
        g.theta.to_degrees(),
        beam.smaj,
        beam.smin,
        beam.theta.to_degrees(),
    );
    let deconvolved = Ellipse::in_pixels(dc.smaj, dc.smin, dc.pa.to_radians()).mapped(&to_sky);
    let pa_dc = if dc.smaj > 0.0 {
        deconvolved.position_angle()
    } else {
        0.0
    };
    Some(Source {
        ra,
        dec,
        ra_err: ra_err * 3600.0,
        dec_err: north_err * 3600.0,
        peak: g.peak,
        peak_err: m.peak_err,
        flux: m.flux,
        flux_err: m.flux_err,
        smaj,
        smin,
        pa,
        snr,
        x: g.x,
        y: g.y,
        smaj_err: m.smaj_err * smaj / g.smaj,
        smin_err: m.smin_err * smin / g.smin,
        pa_err: m.theta_err.to_degrees(),
        error_radius: error_radius * 3600.0,
        chisq: m.chisq,
        reduced_chisq: m.reduced_chisq,
        fitted: m.fitted,
        smaj_dc: deconvolved.smaj * 3600.0,
        smin_dc: deconvolved.smin * 3600.0,
        pa_dc,
        dc_imposs: dc.impossible,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(margin: usize, radius: f64) -> Params {
        Params {
            margin,
            radius,
            ..Params::default()
        }
    }

    #[test]
    fn a_whole_image_is_outlined_by_its_pixels_outer_edges_inside_the_margin() {
        let outline = searched_outline(512, 512, &params(10, 0.0)).unwrap();
        // The outer edges of pixels 10 and 501 (0-based) on each axis.
        for corner in [(9.5, 9.5), (501.5, 9.5), (501.5, 501.5), (9.5, 501.5)] {
            assert!(
                outline
                    .iter()
                    .any(|&(x, y)| (x - corner.0).abs() < 1e-9 && (y - corner.1).abs() < 1e-9),
                "corner {corner:?} missing"
            );
        }
        for &(x, y) in &outline {
            let on_edge = [x - 9.5, x - 501.5, y - 9.5, y - 501.5]
                .iter()
                .any(|d| d.abs() < 1e-9);
            let inside = |v: f64| (9.5 - 1e-9..=501.5 + 1e-9).contains(&v);
            assert!(on_edge && inside(x) && inside(y), "({x}, {y})");
        }
        // Counter-clockwise (positive area by the shoelace formula), and the area searched.
        let area: f64 = (0..outline.len())
            .map(|i| {
                let (a, b) = (outline[i], outline[(i + 1) % outline.len()]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            / 2.0;
        assert!((area - 492.0 * 492.0).abs() < 1e-6, "{area}");
    }

    /// One simulated epoch (256², a 30σ source at the centre) read back from disk.
    fn simulated_image(name: &str) -> Image {
        let dir =
            std::env::temp_dir().join(format!("skytrap-extract-{name}-{}", std::process::id()));
        let settings = crate::simulate::Settings {
            epochs: 1,
            seed: 3,
            size: 256,
            variables: 0,
            transients: 0,
            anywhere: false,
        };
        let source = crate::simulate::source_at(256, "steady", 127.5, 127.5, vec![0.03]).unwrap();
        let paths = crate::simulate::render(&dir, &settings, &[source]).unwrap();
        let image = crate::image::fits::read(&paths[0]).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
        image
    }

    #[test]
    fn the_region_and_the_extraction_radius_share_one_centre() {
        // TraP centres the mask on ((nx−1)/2, (ny−1)/2) and the region on (nx/2, ny/2).
        let image = simulated_image("centre");
        for radius in [0.0, 100.0] {
            let g = geometry(&image, &params(10, radius)).unwrap();
            let (ra, dec) = image.wcs.pixel_to_sky(127.5, 127.5).unwrap();
            assert!(sky::distance(g.centre.0, g.centre.1, ra, dec) < 1e-12);
        }
        // Searched whole: the circle reaches the outline's farthest corner, the outer edge of
        // pixel (10, 10), and the footprint holds a source at pixel (12, 12) but not one
        // outside the margin at (5, 5).
        let g = geometry(&image, &params(10, 0.0)).unwrap();
        let (ra, dec) = image.wcs.pixel_to_sky(9.5, 9.5).unwrap();
        assert!((g.xtr_radius - sky::distance(g.centre.0, g.centre.1, ra, dec)).abs() < 1e-9);
        let footprint: Vec<(f64, f64)> = g
            .footprint
            .unwrap()
            .chunks(2)
            .map(|v| (v[0], v[1]))
            .collect();
        let inside = |x, y| {
            let (ra, dec) = image.wcs.pixel_to_sky(x, y).unwrap();
            sky::in_polygon(ra, dec, &footprint)
        };
        assert!(
            inside(12.0, 12.0) && inside(243.0, 12.0) && !inside(5.0, 5.0) && !inside(128.0, 250.0)
        );
        // An extraction radius inside the margin: the circle alone, of that radius.
        let g = geometry(&image, &params(10, 100.0)).unwrap();
        assert!(
            g.footprint.is_none()
                && (g.xtr_radius - 100.0 * image.wcs.pixel_scale().0).abs() < 1e-15
        );
    }

    #[test]
    fn an_fdr_step_that_finds_no_threshold_sets_none() {
        // α so small that not even the 30σ source's pixels pass: nothing detected, and no
        // threshold to record (the image then sets no detection limit).
        let image = simulated_image("fdr");
        let found = extract(
            &image,
            &Params {
                fdr_alpha: Some(1e-300),
                ..Params::default()
            },
        )
        .unwrap();
        assert!(found.sources.is_empty() && found.detection.is_none());
        let found = extract(
            &image,
            &Params {
                fdr_alpha: Some(0.01),
                ..Params::default()
            },
        )
        .unwrap();
        assert_eq!(found.sources.len(), 1);
        assert!(found.detection.is_some_and(|t| (3.0..8.0).contains(&t)));
    }

    #[test]
    fn the_fdr_step_counts_the_searched_pixels_only() {
        // FDR's N is the number of pixels searched (Hopkins et al. 2002: the pixels the
        // test is applied to). PySE takes len() of its masked array, which counts the
        // masked pixels as well; they never pass (their density is not below the line),
        // so its threshold is the one over the searched pixels padded with zeros.
        let dir = std::env::temp_dir().join(format!("skytrap-fdr-count-{}", std::process::id()));
        let settings = crate::simulate::Settings {
            epochs: 1,
            seed: 3,
            size: 512,
            variables: 0,
            transients: 0,
            anywhere: true,
        };
        let paths = crate::simulate::simulate(&dir, &settings).unwrap();
        let image = crate::image::fits::read(&paths[0]).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
        let p = Params {
            radius: 100.0,
            fdr_alpha: Some(0.01),
            ..Params::default()
        };
        let field = field(&image, &p).unwrap();
        let signal = &image.data - &field.maps.background;
        let searched: Vec<f64> = signal
            .iter()
            .zip(field.maps.rms.iter())
            .zip(field.mask.iter())
            .filter(|&((_, &r), &m)| !m && r > 0.0)
            .map(|((&v, &r), _)| f64::from(v) / f64::from(r))
            .collect();
        let masked = field.mask.len() - searched.len();
        assert!(masked > field.mask.len() / 2);
        let ours = fdr::threshold(searched.iter().copied(), &field.beam, 0.01).unwrap();
        let pyse = fdr::threshold(
            searched
                .iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, masked)),
            &field.beam,
            0.01,
        )
        .unwrap();
        assert_eq!(extract_in(&image, &field, &p).detection, Some(ours));
        assert!(pyse - ours > 0.05, "{ours} against PySE's {pyse}");
    }

    #[test]
    fn an_extraction_circle_inside_the_margin_is_its_own_outline() {
        // 512 pixels, margin 10: the circle reaches the margin at 246 pixels.
        assert!(searched_outline(512, 512, &params(10, 200.0)).is_none());
        assert!(searched_outline(512, 512, &params(10, 246.0)).is_none());
        // TraP's 250 crosses it: the outline is the circle cut by the margin.
        let outline = searched_outline(512, 512, &params(10, 250.0)).unwrap();
        let reach: Vec<f64> = outline
            .iter()
            .map(|&(x, y)| (x - 255.5).hypot(y - 255.5))
            .collect();
        let (near, far) = reach
            .iter()
            .fold((f64::INFINITY, 0f64), |(n, f), &r| (n.min(r), f.max(r)));
        assert!(
            (near - 246.0).abs() < 1e-9 && (far - 250.0).abs() < 1e-9,
            "{near} {far}"
        );
    }
}
