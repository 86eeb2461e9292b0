//! A simulated multi-epoch sky with known answers: steady sources, variables and
//! transients on correlated noise, written as LOFAR-like 4-D FITS images with `truth.csv`.

use crate::extract::measure::{Beam, Gaussian};
use crate::image::header::{Header, Value};
use crate::image::wcs::Wcs;
use anyhow::{Context, Result};
use fitsio::images::{ImageDescription, ImageType};
use fitsio::FitsFile;
use rayon::prelude::*;
use std::f64::consts::{LN_2, PI};
use std::io::Write;
use std::path::{Path, PathBuf};

/// SplitMix64 with Box–Muller normals: small, fast and the same on every platform, so a
/// seed always gives the same sky.
pub struct Rng {
    state: u64,
    spare: Option<f64>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            spare: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (2.0 * PI * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }
}

/// The simulated field.
#[derive(Clone, Debug)]
pub struct Settings {
    pub epochs: usize,
    pub seed: u64,
    pub size: usize,
    pub variables: usize,
    pub transients: usize,
    /// Sources anywhere in the image, corners and edges included (15 pixels from the
    /// border at least), rather than within 0.42 of its size from the centre.
    pub anywhere: bool,
}

/// What kind of source, and its flux in each epoch (Jy).
#[derive(Clone, Debug)]
pub struct TrueSource {
    pub kind: &'static str,
    pub ra: f64,
    pub dec: f64,
    pub x: f64,
    pub y: f64,
    pub flux: Vec<f64>,
}

const CENTRE: (f64, f64) = (123.4, 56.7);
const PIXEL_ARCSEC: f64 = 5.0;
const BMAJ_ARCSEC: f64 = 25.0;
const BMIN_ARCSEC: f64 = 20.0;
const BPA_DEG: f64 = 30.0;
/// Noise per beam, Jy/beam.
pub const NOISE: f64 = 0.001;
const FREQUENCY: f64 = 150e6;
const BANDWIDTH: f64 = 2e6;

/// Writes `epoch_NNN.fits` for each epoch and `truth.csv` into `outdir`; returns the image
/// paths in time order.
pub fn simulate(outdir: &Path, settings: &Settings) -> Result<Vec<PathBuf>> {
    simulate_with_steady(outdir, settings, None)
}

/// `simulate` with `steady` steady sources instead of the default one per 5000 pixels
/// (fewer if the field is full first); a crowded field for benchmarks.
pub fn simulate_with_steady(
    outdir: &Path,
    settings: &Settings,
    steady: Option<usize>,
) -> Result<Vec<PathBuf>> {
    let sources = sky_model(settings, steady, &wcs_for(settings.size)?);
    render(outdir, settings, &sources)
}

/// A source at 0-based pixel (x, y) of a simulated image `size` pixels on a side, with
/// its flux in each epoch (Jy).
pub fn source_at(
    size: usize,
    kind: &'static str,
    x: f64,
    y: f64,
    flux: Vec<f64>,
) -> Result<TrueSource> {
    let (ra, dec) = wcs_for(size)?
        .pixel_to_sky(x, y)
        .context("the pixel has no sky position")?;
    Ok(TrueSource {
        kind,
        ra,
        dec,
        x,
        y,
        flux,
    })
}

fn wcs_for(size: usize) -> Result<Wcs> {
    Wcs::from_header(&header_for(size, 0))
}

/// Writes `epoch_NNN.fits` for each epoch of `settings` with these sources on fresh noise,
/// and `truth.csv`; returns the image paths in time order.
pub fn render(outdir: &Path, settings: &Settings, sources: &[TrueSource]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(outdir)
        .with_context(|| format!("cannot create {}", outdir.display()))?;
    let beam = beam_in_pixels();
    let paths: Vec<PathBuf> = (0..settings.epochs)
        .map(|e| outdir.join(format!("epoch_{:03}.fits", e + 1)))
        .collect();
    paths
        .par_iter()
        .enumerate()
        .try_for_each(|(e, path)| -> Result<()> {
            let mut pixels =
                correlated_noise(settings.size, settings.seed ^ ((e as u64 + 1) << 32), &beam);
            for s in sources {
                add_point_source(&mut pixels, settings.size, s.x, s.y, s.flux[e], &beam);
            }
            write_fits(path, &header_for(settings.size, e), &pixels, settings.size)
                .with_context(|| format!("cannot write {}", path.display()))
        })?;

    let truth = outdir.join("truth.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&truth)?);
    writeln!(out, "source,kind,ra,dec,x,y,epoch,date_obs,flux")?;
    for (i, s) in sources.iter().enumerate() {
        for (e, flux) in s.flux.iter().enumerate() {
            writeln!(
                out,
                "{},{},{:.9},{:.9},{:.4},{:.4},{},{},{:.6}",
                i + 1,
                s.kind,
                s.ra,
                s.dec,
                s.x,
                s.y,
                e + 1,
                date_obs(e),
                flux
            )?;
        }
    }
    out.flush()?;
    Ok(paths)
}

/// A single-epoch field crowded with point sources for completeness and bias tests.
#[derive(Clone, Debug)]
pub struct Population {
    pub seed: u64,
    /// Image side, pixels.
    pub size: usize,
    /// Number of sources (fewer if the field cannot hold them 4 beams apart).
    pub sources: usize,
    /// Peak fluxes are log-uniform between these signal-to-noise ratios.
    pub snr: (f64, f64),
}

/// Writes `population.fits` into `outdir`, one epoch of `population.sources` point
/// sources on the same correlated noise as `simulate`, each in its own cell of a grid of
/// 4.8 beams (FWHM) with a random offset of up to 0.4 beam, so no two are closer than 4
/// beams and no island merges with another; 5 beams are kept clear of the border.
/// Returns the image path and the true sources (one flux each).
pub fn population(outdir: &Path, population: &Population) -> Result<(PathBuf, Vec<TrueSource>)> {
    std::fs::create_dir_all(outdir)
        .with_context(|| format!("cannot create {}", outdir.display()))?;
    let size = population.size;
    let header = header_for(size, 0);
    let wcs = Wcs::from_header(&header)?;
    let beam = beam_in_pixels();
    let fwhm = 2.0 * beam.smaj;
    let (cell, border) = (4.8 * fwhm, 5.0 * fwhm);
    let cells_per_side = ((size as f64 - 2.0 * border) / cell).floor().max(0.0) as usize;
    let mut rng = Rng::new(population.seed);
    // A random choice of cells: a partial Fisher–Yates shuffle.
    let mut cells: Vec<usize> = (0..cells_per_side * cells_per_side).collect();
    let n = population.sources.min(cells.len());
    for i in 0..n {
        let last = cells.len() - 1;
        let j = i + (rng.uniform() * (cells.len() - i) as f64) as usize;
        cells.swap(i, j.min(last));
    }
    let (lo, hi) = (population.snr.0.ln(), population.snr.1.ln());
    let mut sources = Vec::with_capacity(n);
    for &c in &cells[..n] {
        let (i, j) = ((c % cells_per_side) as f64, (c / cells_per_side) as f64);
        let x = border + (i + 0.5) * cell + (rng.uniform() - 0.5) * 0.8 * fwhm;
        let y = border + (j + 0.5) * cell + (rng.uniform() - 0.5) * 0.8 * fwhm;
        let flux = NOISE * (lo + (hi - lo) * rng.uniform()).exp();
        let (ra, dec) = wcs.pixel_to_sky(x, y).expect("inside the projection");
        sources.push(TrueSource {
            kind: "steady",
            ra,
            dec,
            x,
            y,
            flux: vec![flux],
        });
    }
    let mut pixels = correlated_noise(size, population.seed ^ (1 << 32), &beam);
    for s in &sources {
        add_point_source(&mut pixels, size, s.x, s.y, s.flux[0], &beam);
    }
    let path = outdir.join("population.fits");
    write_fits(&path, &header, &pixels, size)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((path, sources))
}

fn date_obs(epoch: usize) -> String {
    // One epoch a day from 2026-01-01; the day-of-year arithmetic is done by hand because
    // the simulator needs nothing else from a calendar.
    const DAYS: [usize; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let (mut year, mut day) = (2026, epoch);
    loop {
        let len = if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) {
            366
        } else {
            365
        };
        if day < len {
            break;
        }
        day -= len;
        year += 1;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let mut month = 0;
    loop {
        let len = DAYS[month] + usize::from(month == 1 && leap);
        if day < len {
            break;
        }
        day -= len;
        month += 1;
    }
    format!("{year}-{:02}-{:02}T00:00:00.0", month + 1, day + 1)
}

/// The header of a simulated image: RA, DEC, FREQ, STOKES axes like LOFAR's.
fn header_for(size: usize, epoch: usize) -> Header {
    let n = |x: f64| Value::Number(x);
    let t = |s: &str| Value::Text(s.to_string());
    let centre = size as f64 / 2.0 + 1.0;
    Header::from_pairs(
        [
            ("NAXIS", n(4.0)),
            ("CTYPE1", t("RA---SIN")),
            ("CRVAL1", n(CENTRE.0)),
            ("CDELT1", n(-PIXEL_ARCSEC / 3600.0)),
            ("CRPIX1", n(centre)),
            ("CUNIT1", t("deg")),
            ("CTYPE2", t("DEC--SIN")),
            ("CRVAL2", n(CENTRE.1)),
            ("CDELT2", n(PIXEL_ARCSEC / 3600.0)),
            ("CRPIX2", n(centre)),
            ("CUNIT2", t("deg")),
            ("CTYPE3", t("FREQ")),
            ("CRVAL3", n(FREQUENCY)),
            ("CDELT3", n(BANDWIDTH)),
            ("CRPIX3", n(1.0)),
            ("CUNIT3", t("Hz")),
            ("CTYPE4", t("STOKES")),
            ("CRVAL4", n(1.0)),
            ("CDELT4", n(1.0)),
            ("CRPIX4", n(1.0)),
            ("BMAJ", n(BMAJ_ARCSEC / 3600.0)),
            ("BMIN", n(BMIN_ARCSEC / 3600.0)),
            ("BPA", n(BPA_DEG)),
            ("EQUINOX", n(2000.0)),
            ("RADESYS", t("ICRS")),
            ("BUNIT", t("JY/BEAM")),
            ("TELESCOP", t("SKYTRAP-SIM")),
            ("DATE-OBS", t(&date_obs(epoch))),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v)),
    )
}

fn beam_in_pixels() -> Beam {
    Beam {
        smaj: BMAJ_ARCSEC / 2.0 / PIXEL_ARCSEC,
        smin: BMIN_ARCSEC / 2.0 / PIXEL_ARCSEC,
        theta: BPA_DEG.to_radians(),
    }
}

/// Steady sources, a few variables and a few transients, at least 4 beams apart, inside
/// 42% of the image size from its centre or, with `anywhere`, in the whole image.
fn sky_model(settings: &Settings, steady: Option<usize>, wcs: &Wcs) -> Vec<TrueSource> {
    let mut rng = Rng::new(settings.seed);
    let size = settings.size as f64;
    let n_steady = steady.unwrap_or((settings.size * settings.size / 5000).max(6));
    let (n_variable, n_transient) = (settings.variables, settings.transients);
    let min_separation = 4.0 * 2.0 * beam_in_pixels().smaj;
    let mut placed: Vec<(f64, f64)> = Vec::new();
    let mut sources = Vec::new();
    let epochs = settings.epochs;
    for k in 0..n_steady + n_variable + n_transient {
        let Some((x, y)) = (0..1000).find_map(|_| {
            let (x, y) = if settings.anywhere {
                let edge = 15.0;
                let span = size - 2.0 * edge;
                (edge + span * rng.uniform(), edge + span * rng.uniform())
            } else {
                let r = 0.42 * size * rng.uniform().sqrt();
                let a = 2.0 * PI * rng.uniform();
                (size / 2.0 + r * a.cos(), size / 2.0 + r * a.sin())
            };
            placed
                .iter()
                .all(|&(px, py)| (px - x).hypot(py - y) >= min_separation)
                .then_some((x, y))
        }) else {
            break; // the field is full
        };
        placed.push((x, y));
        let (ra, dec) = wcs.pixel_to_sky(x, y).expect("inside the projection");
        let (kind, flux) = if k < n_steady {
            // 20 to 200 sigma, log-uniform.
            let f = NOISE * 20.0 * 10f64.powf(rng.uniform());
            ("steady", vec![f; epochs])
        } else if k < n_steady + n_variable {
            let mean = NOISE * (40.0 + 40.0 * rng.uniform());
            let period = 4.0 + 6.0 * rng.uniform();
            let phase = 2.0 * PI * rng.uniform();
            let f = (0..epochs)
                .map(|e| mean * (1.0 + 0.5 * (2.0 * PI * e as f64 / period + phase).sin()))
                .collect();
            ("variable", f)
        } else {
            // Appears after the first epoch, bright enough to be new against any noise in
            // the earlier images, and stays on for 1 to 3 epochs.
            let peak = NOISE * (40.0 + 60.0 * rng.uniform());
            let start = 1 + (rng.uniform() * epochs.saturating_sub(1) as f64) as usize;
            let length = 1 + (rng.uniform() * 3.0) as usize;
            let f = (0..epochs)
                .map(|e| {
                    if e >= start && e < start + length {
                        peak
                    } else {
                        0.0
                    }
                })
                .collect();
            ("transient", f)
        };
        sources.push(TrueSource {
            kind,
            ra,
            dec,
            x,
            y,
            flux,
        });
    }
    sources
}

/// White noise smoothed by the beam, scaled to `NOISE` Jy/beam: noise in a synthesis
/// image is correlated over a beam, as PySE's error formulas assume.
fn correlated_noise(size: usize, seed: u64, beam: &Beam) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let white: Vec<f64> = (0..size * size).map(|_| rng.normal()).collect();
    let kernel_gauss = Gaussian {
        peak: 1.0,
        x: 0.0,
        y: 0.0,
        smaj: beam.smaj / 2f64.sqrt(),
        smin: beam.smin / 2f64.sqrt(),
        theta: beam.theta,
    };
    // The kernel is the beam with axes shrunk by √2, so the noise autocorrelation has
    // the beam's shape.
    let half = (3.0 * beam.smaj).ceil() as i64;
    let mut kernel = Vec::new();
    for dy in -half..=half {
        for dx in -half..=half {
            let k = kernel_gauss.value(dx as f64, dy as f64);
            if k > 1e-4 {
                kernel.push((dx, dy, k));
            }
        }
    }
    let norm = kernel.iter().map(|k| k.2 * k.2).sum::<f64>().sqrt();
    let n = size as i64;
    (0..size * size)
        .into_par_iter()
        .map(|i| {
            let (x, y) = ((i % size) as i64, (i / size) as i64);
            let mut sum = 0.0;
            for &(dx, dy, k) in &kernel {
                // Periodic edges keep the noise stationary up to the border.
                let xx = (x + dx).rem_euclid(n);
                let yy = (y + dy).rem_euclid(n);
                sum += k * white[(yy * n + xx) as usize];
            }
            (NOISE * sum / norm) as f32
        })
        .collect()
}

fn add_point_source(pixels: &mut [f32], size: usize, x: f64, y: f64, flux: f64, beam: &Beam) {
    if flux == 0.0 {
        return;
    }
    let g = Gaussian {
        peak: flux,
        x,
        y,
        smaj: beam.smaj,
        smin: beam.smin,
        theta: beam.theta,
    };
    let reach = (beam.smaj * (20.0 / LN_2).sqrt()).ceil() as i64;
    for py in (y as i64 - reach).max(0)..=(y as i64 + reach).min(size as i64 - 1) {
        for px in (x as i64 - reach).max(0)..=(x as i64 + reach).min(size as i64 - 1) {
            pixels[py as usize * size + px as usize] += g.value(px as f64, py as f64) as f32;
        }
    }
}

/// Writes a FITS file atomically: to a temporary name first, renamed when complete.
fn write_fits(path: &Path, header: &Header, pixels: &[f32], size: usize) -> Result<()> {
    let tmp = path.with_extension("fits.partial");
    let description = ImageDescription {
        data_type: ImageType::Float,
        dimensions: &[1, 1, size, size],
    };
    {
        let mut f = FitsFile::create(&tmp)
            .with_custom_primary(&description)
            .overwrite()
            .open()?;
        let hdu = f.primary_hdu()?;
        for key in [
            "CTYPE1", "CRVAL1", "CDELT1", "CRPIX1", "CUNIT1", "CTYPE2", "CRVAL2", "CDELT2",
            "CRPIX2", "CUNIT2", "CTYPE3", "CRVAL3", "CDELT3", "CRPIX3", "CUNIT3", "CTYPE4",
            "CRVAL4", "CDELT4", "CRPIX4", "BMAJ", "BMIN", "BPA", "EQUINOX", "RADESYS", "BUNIT",
            "TELESCOP", "DATE-OBS",
        ] {
            if let Some(v) = header.number(key) {
                hdu.write_key(&mut f, key, v)?;
            } else if let Some(v) = header.text(key) {
                hdu.write_key(&mut f, key, v)?;
            }
        }
        hdu.write_image(&mut f, pixels)?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_step_one_day_across_month_and_year_ends() {
        assert_eq!(date_obs(0), "2026-01-01T00:00:00.0");
        assert_eq!(date_obs(31), "2026-02-01T00:00:00.0");
        assert_eq!(date_obs(364), "2026-12-31T00:00:00.0");
        assert_eq!(date_obs(365), "2027-01-01T00:00:00.0");
        // 2028 is a leap year: day 59 of it is 29 February.
        assert_eq!(date_obs(365 + 365 + 59), "2028-02-29T00:00:00.0");
    }

    #[test]
    fn noise_has_the_requested_rms() {
        let v = correlated_noise(256, 1, &beam_in_pixels());
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let rms = (v
            .iter()
            .map(|&x| (f64::from(x) - mean).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        // About 256²/(π·5·4) ≈ 1000 independent beams: 2-3 % sampling scatter.
        assert!((rms - NOISE).abs() < 0.1 * NOISE, "rms {rms}");
    }

    #[test]
    fn same_seed_same_sky() {
        let s = Settings {
            epochs: 3,
            seed: 42,
            size: 256,
            variables: 4,
            transients: 3,
            anywhere: false,
        };
        let wcs = Wcs::from_header(&header_for(256, 0)).unwrap();
        let a = sky_model(&s, None, &wcs);
        let b = sky_model(&s, None, &wcs);
        assert_eq!(a.len(), b.len());
        assert!(a
            .iter()
            .zip(&b)
            .all(|(p, q)| p.ra == q.ra && p.flux == q.flux));
        // Transients are off in the first epoch, so they can be new later.
        assert!(a
            .iter()
            .filter(|s| s.kind == "transient")
            .all(|s| s.flux[0] == 0.0));
    }
}
