//! `skytrap extract` output: CSV with the columns the issue fixes, or JSON lines.

use crate::extract::{self, Params, Source};
use crate::fits;
use anyhow::{Context, Result};
use clap::ValueEnum;
use rayon::prelude::*;
use std::io::Write;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// ra,dec,ra_err,dec_err,peak,peak_err,flux,flux_err,smaj,smin,pa,snr,x,y (and image, for several images)
    Csv,
    /// One JSON object per source per line, with every measured column
    Json,
}

const CSV_HEADER: &str = "ra,dec,ra_err,dec_err,peak,peak_err,flux,flux_err,smaj,smin,pa,snr,x,y";

/// Extracts every image (in parallel) and prints the sources in input order.
pub fn extract_and_print(images: &[PathBuf], params: &Params, format: Format) -> Result<()> {
    let results: Vec<Result<Vec<Source>>> = images
        .par_iter()
        .map(|path| {
            let image = fits::read(path)?;
            Ok(extract::extract(&image, params)?.sources)
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let several = images.len() > 1;
    if matches!(format, Format::Csv) {
        writeln!(out, "{CSV_HEADER}{}", if several { ",image" } else { "" })?;
    }
    for (path, result) in images.iter().zip(results) {
        let sources = result.with_context(|| path.display().to_string())?;
        for s in &sources {
            match format {
                Format::Csv => {
                    write!(
                        out,
                        "{:.7},{:.7},{:.3},{:.3},{:.6e},{:.3e},{:.6e},{:.3e},{:.3},{:.3},{:.2},{:.2},{:.3},{:.3}",
                        s.ra, s.dec, s.ra_err, s.dec_err, s.peak, s.peak_err, s.flux, s.flux_err,
                        s.smaj, s.smin, s.pa, s.snr, s.x, s.y
                    )?;
                    if several {
                        write!(out, ",{}", path.display())?;
                    }
                    writeln!(out)?;
                }
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
