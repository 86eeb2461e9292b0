//! `skytrap extract` output: CSV with the columns the issue fixes, or JSON lines.

use crate::extract::forced;
use crate::extract::{self, Params, Source};
use crate::image::fits;
use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// ra,dec,ra_err,dec_err,peak,peak_err,flux,flux_err,smaj,smin,pa,snr,x,y,image
    Csv,
    /// One JSON object per source per line, with every measured column
    Json,
}

const CSV_HEADER: &str =
    "ra,dec,ra_err,dec_err,peak,peak_err,flux,flux_err,smaj,smin,pa,snr,x,y,image";

/// Extracts every image (in parallel) and prints the sources in input order.
pub fn extract_and_print(images: &[PathBuf], params: &Params, format: Format) -> Result<()> {
    let results: Vec<Result<Vec<Source>>> = images
        .par_iter()
        .map(|path| {
            let image = fits::read(path)?;
            Ok(extract::extract(&image, params)?.sources)
        })
        .collect();
    print(images, results, format)
}

/// Positions to force-fit from a CSV file: `ra,dec` in degrees per line; a first line
/// that is not two numbers is a header; blank lines are skipped.
pub fn read_positions(path: &Path) -> Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the positions", path.display()))?;
    let mut positions = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let parsed = match fields[..] {
            [ra, dec, ..] => ra.parse::<f64>().ok().zip(dec.parse::<f64>().ok()),
            _ => None,
        };
        match parsed {
            Some((ra, dec)) if ra.is_finite() && (-90.0..=90.0).contains(&dec) => {
                positions.push((skytrap_core::sky::normalise_ra(ra), dec))
            }
            None if i == 0 => continue,
            _ => bail!(
                "{}: line {}: '{line}' is not a position: give ra,dec in degrees with dec in [-90, 90]",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(positions)
}

/// Force-fits every image (in parallel) at the positions, peak only with position and
/// shape fixed, and prints the fits in input order; a position off an image or on
/// blanked pixels gets no line, as in TraP.
pub fn force_fit_and_print(
    images: &[PathBuf],
    positions: &[(f64, f64)],
    params: &Params,
    format: Format,
) -> Result<()> {
    let results: Vec<Result<Vec<Source>>> = images
        .par_iter()
        .map(|path| {
            let image = fits::read(path)?;
            let field = extract::field(&image, params)?;
            Ok(positions
                .par_iter()
                .filter_map(|&(ra, dec)| forced::fit_at(&image, &field, ra, dec, params))
                .collect())
        })
        .collect();
    print(images, results, format)
}

/// Prints every image's sources, or nothing if any image failed (so a failed run leaves
/// no partial catalogue on stdout). The CSV has the same columns for one image as for
/// many, the image's path last.
fn print(images: &[PathBuf], results: Vec<Result<Vec<Source>>>, format: Format) -> Result<()> {
    let catalogues: Vec<Vec<Source>> = images
        .iter()
        .zip(results)
        .map(|(path, result)| result.with_context(|| path.display().to_string()))
        .collect::<Result<_>>()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if matches!(format, Format::Csv) {
        writeln!(out, "{CSV_HEADER}")?;
    }
    for (path, sources) in images.iter().zip(catalogues) {
        for s in &sources {
            match format {
                Format::Csv => writeln!(
                    out,
                    "{:.7},{:.7},{:.3},{:.3},{:.6e},{:.3e},{:.6e},{:.3e},{:.3},{:.3},{:.2},{:.2},{:.3},{:.3},{}",
                    s.ra, s.dec, s.ra_err, s.dec_err, s.peak, s.peak_err, s.flux, s.flux_err,
                    s.smaj, s.smin, s.pa, s.snr, s.x, s.y, path.display()
                )?,
                Format::Json => {
                    let mut value = serde_json::to_value(s)?;
                    value["image"] = serde_json::Value::String(path.display().to_string());
                    writeln!(out, "{value}")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}
