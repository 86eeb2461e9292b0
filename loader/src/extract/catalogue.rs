//! Sources measured by another finder, for `skytrap load --catalogue`: ASKAP's Selavy
//! component catalogue (its `.txt` form, as the VAST pipeline reads it), its columns found
//! by name in the header line and its units from the line below (mJy, mJy/beam, arcsec,
//! deg); or PySE's CSV (`pyse --csv`: a header line naming the columns, Jy, degrees,
//! arcsec). Each source becomes a `Source` as skytrap's own finder measures it; what the
//! catalogue does not give comes from the image: the pixel position from its WCS and,
//! where the catalogue has no noise or significance, the signal-to-noise ratio from
//! skytrap's noise map there.

use crate::extract::{deconv, Field, Source};
use crate::image::fits::Image;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Reads `path`'s sources for `image`. A line or value that cannot be read is an error
/// naming the line; a component off the image is an error too (the catalogue is not the
/// image's).
pub fn read(path: &Path, image: &Image, field: &Field) -> Result<Vec<Source>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the catalogue", path.display()))?;
    let first = text.lines().next().unwrap_or("");
    let read = if first.trim_start().starts_with('#') && first.contains("component_id") {
        selavy(&text, image, field)
    } else if ["ra", "dec", "peak", "flux"]
        .iter()
        .all(|c| first.split(',').any(|n| n.trim() == *c))
    {
        pyse(&text, image, field)
    } else {
        Err(anyhow::anyhow!(
            "neither a Selavy component catalogue (its first line names the columns: \
             # island_id component_id ...) nor PySE's CSV (a first line ra, dec, peak, flux, ...)"
        ))
    };
    read.with_context(|| path.display().to_string())
}

/// The pixel position of (ra, dec) on the image, or why it is not there.
fn on_image(image: &Image, ra: f64, dec: f64, line: usize) -> Result<(f64, f64)> {
    let Some((x, y)) = image.wcs.sky_to_pixel(ra, dec) else {
        bail!("line {line}: ({ra}, {dec}) is not on the image");
    };
    let (nx, ny) = (image.data.ncols() as f64, image.data.nrows() as f64);
    if !(x > -0.5 && y > -0.5 && x < nx - 0.5 && y < ny - 0.5) {
        bail!(
            "line {line}: ({ra}, {dec}) is off the image (pixel {x:.1}, {y:.1}): is this the \
             image's catalogue?"
        );
    }
    Ok((x, y))
}

/// skytrap's noise map at a pixel, Jy/beam.
fn noise_at(field: &Field, x: f64, y: f64) -> f64 {
    f64::from(field.maps.rms[[y.round() as usize, x.round() as usize]])
}

/// PySE's CSV (radio-pyse's `pyse --csv`, the default columns `peak, peak_err, flux,
/// flux_err, x, y, ra, ra_err, dec, dec_err, smaj_asec, smaj_asec_err, smin_asec,
/// smin_asec_err, theta_celes, theta_celes_err, sig, reduced_chisq`, in any order): Jy,
/// Jy/beam, degrees (positions and their errors, the RA error as an RA difference, as
/// skytrap keeps it), arcsec (semi-axes), degrees east of north.
fn pyse(text: &str, image: &Image, field: &Field) -> Result<Vec<Source>> {
    let mut lines = text.lines().enumerate();
    let names: Vec<String> = lines
        .next()
        .map(|(_, l)| l.split(',').map(|n| n.trim().to_string()).collect())
        .unwrap_or_default();
    let column = |wanted: &[&str]| {
        names
            .iter()
            .position(|n| wanted.contains(&n.as_str()))
            .with_context(|| format!("no column {}", wanted[0]))
    };
    let optional = |wanted: &[&str]| column(wanted).ok();
    let (ra, dec) = (column(&["ra"])?, column(&["dec"])?);
    let (ra_err, dec_err) = (column(&["ra_err"])?, column(&["dec_err"])?);
    let (peak, peak_err) = (column(&["peak"])?, column(&["peak_err"])?);
    let (flux, flux_err) = (column(&["flux"])?, column(&["flux_err"])?);
    let smaj = column(&["smaj_asec"])?;
    let smin = column(&["smin_asec"])?;
    let pa = column(&["theta_celes"])?;
    let (smaj_err, smin_err, pa_err) = (
        optional(&["smaj_asec_err"]),
        optional(&["smin_asec_err"]),
        optional(&["theta_celes_err"]),
    );
    let (sig, chisq) = (optional(&["sig"]), optional(&["reduced_chisq"]));
    let mut sources = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let value = |i: usize| -> Result<f64> {
            let text = fields
                .get(i)
                .with_context(|| format!("line {}: no column {}", n + 1, names[i]))?;
            text.parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .with_context(|| format!("line {}: {} '{text}' is not a number", n + 1, names[i]))
        };
        let optional = |i: Option<usize>| i.map(value).transpose();
        let (ra, dec) = (value(ra)?, value(dec)?);
        let (x, y) = on_image(image, ra, dec, n + 1)?;
        let (ra_err, dec_err) = (value(ra_err)? * 3600.0, value(dec_err)? * 3600.0);
        let peak = value(peak)?;
        let (smaj, smin, pa) = (value(smaj)?, value(smin)?, value(pa)?);
        // The shape with the restoring beam deconvolved, on the sky (arcsec, degrees), by
        // the AIPS DECONV skytrap's finder uses.
        let m = &image.meta;
        let dc = deconv::deconvolve(smaj, smin, pa, m.bmaj * 1800.0, m.bmin * 1800.0, m.bpa);
        sources.push(Source {
            ra,
            dec,
            ra_err,
            dec_err,
            peak,
            peak_err: value(peak_err)?,
            flux: value(flux)?,
            flux_err: value(flux_err)?,
            smaj,
            smin,
            pa,
            snr: optional(sig)?.unwrap_or_else(|| peak / noise_at(field, x, y)),
            x,
            y,
            smaj_err: optional(smaj_err)?.unwrap_or(0.0),
            smin_err: optional(smin_err)?.unwrap_or(0.0),
            pa_err: optional(pa_err)?.unwrap_or(0.0),
            error_radius: (ra_err * dec.to_radians().cos()).hypot(dec_err),
            chisq: f64::NAN,
            reduced_chisq: optional(chisq)?.unwrap_or(f64::NAN),
            fitted: true,
            smaj_dc: dc.smaj,
            smin_dc: dc.smin,
            pa_dc: if dc.smaj > 0.0 { dc.pa } else { 0.0 },
            dc_imposs: dc.impossible,
        });
    }
    Ok(sources)
}

/// A column's factor to skytrap's units (Jy, Jy/beam, arcsec, degrees) from its unit.
fn factor(unit: &str, column: &str) -> Result<f64> {
    Ok(match unit.trim_matches(['[', ']']) {
        "mJy" | "mJy/beam" => 1e-3,
        "uJy" | "uJy/beam" => 1e-6,
        "Jy" | "Jy/beam" | "deg" | "arcsec" | "--" | "" => 1.0,
        "arcmin" => 60.0,
        other => bail!("column {column}: unit '{other}' is not one skytrap reads"),
    })
}

fn selavy(text: &str, image: &Image, field: &Field) -> Result<Vec<Source>> {
    let mut lines = text.lines().enumerate();
    // The header line names the columns; the line below gives their units, each written
    // to end where its column's name ends (columns without a unit have none).
    let words = |line: &str| -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let mut start = None;
        for (i, c) in line.char_indices().chain([(line.len(), ' ')]) {
            match (c.is_whitespace() || c == '#', start) {
                (false, None) => start = Some(i),
                (true, Some(s)) => {
                    out.push((i, line[s..i].to_string()));
                    start = None;
                }
                _ => {}
            }
        }
        out
    };
    let header = match lines.next() {
        Some((_, l)) if l.trim_start().starts_with('#') && l.contains("component_id") => words(l),
        _ => bail!(
            "not a Selavy component catalogue (its first line names the columns: \
             # island_id component_id ...)"
        ),
    };
    let units = match lines.next() {
        Some((_, l)) if l.trim_start().starts_with('#') => words(l),
        _ => bail!("line 2: expected the units of the columns"),
    };
    let names: Vec<&str> = header.iter().map(|(_, n)| n.as_str()).collect();
    let units: Vec<&str> = header
        .iter()
        .map(|(end, _)| {
            units
                .iter()
                .find(|(e, _)| e == end)
                .map_or("", |(_, u)| u.as_str())
        })
        .collect();
    // (index, factor) of each column skytrap needs.
    let column = |name: &str| -> Result<(usize, f64)> {
        let i = names
            .iter()
            .position(|n| *n == name)
            .with_context(|| format!("no column {name}"))?;
        Ok((i, factor(units.get(i).copied().unwrap_or(""), name)?))
    };
    let ra = column("ra_deg_cont")?;
    let dec = column("dec_deg_cont")?;
    let ra_err = column("ra_err")?;
    let dec_err = column("dec_err")?;
    let peak = column("flux_peak")?;
    let peak_err = column("flux_peak_err")?;
    let flux = column("flux_int")?;
    let flux_err = column("flux_int_err")?;
    let maj = column("maj_axis")?;
    let min = column("min_axis")?;
    let pa = column("pos_ang")?;
    let maj_dc = column("maj_axis_deconv")?;
    let min_dc = column("min_axis_deconv")?;
    let pa_dc = column("pos_ang_deconv")?;
    let chisq = column("chi_squared_fit")?;
    let rms = column("rms_image").ok();
    let mut sources = Vec::new();
    for (n, line) in lines {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let value = |(i, f): (usize, f64)| -> Result<f64> {
            let text = fields
                .get(i)
                .with_context(|| format!("line {}: no column {} ", n + 1, names[i]))?;
            let v: f64 = text
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .with_context(|| {
                    format!("line {}: {} '{text}' is not a number", n + 1, names[i])
                })?;
            Ok(v * f)
        };
        let (ra, dec) = (value(ra)?, value(dec)?);
        let (x, y) = on_image(image, ra, dec, n + 1)?;
        let noise = match rms {
            Some(column) => value(column)?,
            None => noise_at(field, x, y),
        };
        let (ra_err_arc, dec_err) = (value(ra_err)?, value(dec_err)?);
        let peak = value(peak)?;
        // Selavy's axes are full widths at half maximum; skytrap keeps half widths.
        let (maj_dc, min_dc) = (value(maj_dc)? / 2.0, value(min_dc)? / 2.0);
        sources.push(Source {
            ra,
            dec,
            // An RA difference, as skytrap keeps it: the arc over cos(dec).
            ra_err: ra_err_arc / dec.to_radians().cos(),
            dec_err,
            peak,
            peak_err: value(peak_err)?,
            flux: value(flux)?,
            flux_err: value(flux_err)?,
            smaj: value(maj)? / 2.0,
            smin: value(min)? / 2.0,
            pa: value(pa)?,
            snr: peak / noise,
            x,
            y,
            smaj_err: 0.0,
            smin_err: 0.0,
            pa_err: 0.0,
            error_radius: ra_err_arc.hypot(dec_err),
            chisq: value(chisq)?,
            reduced_chisq: f64::NAN,
            fitted: true,
            smaj_dc: maj_dc,
            smin_dc: min_dc,
            pa_dc: value(pa_dc)?,
            dc_imposs: u8::from(maj_dc == 0.0) + u8::from(min_dc == 0.0),
        });
    }
    Ok(sources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{self, Params};
    use crate::image::fits;

    fn epoch(n: u32) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/fits/sim_multiepoch_vast")
            .join(format!("sim_ASKAP_epoch0{n}.fits"))
    }

    #[test]
    fn selavy_components_in_skytrap_units() {
        let image = fits::read(&epoch(1)).unwrap();
        let field = extract::field(&image, &Params::default()).unwrap();
        let sources = read(
            &epoch(1).with_extension("selavy.components.txt"),
            &image,
            &field,
        )
        .unwrap();
        // Selavy lists 4 components; the first (by hand from its line): 149.983325,
        // -29.977778, 2002.257017 mJy/beam, 2001.231634 mJy, axes 15.00" x 10.00" FWHM at
        // 0.04°, rms_image from its column.
        assert_eq!(sources.len(), 4);
        let s = &sources[0];
        assert_eq!((s.ra, s.dec), (149.983325, -29.977778));
        assert!((s.peak - 2.002257017).abs() < 1e-12 && (s.flux - 2.001231634).abs() < 1e-12);
        assert_eq!((s.smaj, s.smin, s.pa), (7.5, 5.0, 0.04));
        // The pixel from the WCS: the image is 256² at 2" centred on (150, -30), so the
        // source is (150 - 149.983325) cos(30°) 3600 / 2 = 26.0 pixels west (x larger)
        // and (30 - 29.977778) 3600 / 2 = 40.0 pixels north of the reference pixel.
        let (cx, cy) = image.wcs.sky_to_pixel(150.0, -30.0).unwrap();
        assert!(
            (s.x - cx - 26.0).abs() < 0.1 && (s.y - cy - 40.0).abs() < 0.1,
            "{s:?}"
        );
        assert!(s.snr > 100.0, "{}", s.snr);
    }

    #[test]
    fn another_image_or_another_format_is_named() {
        let image = fits::read(&epoch(1)).unwrap();
        let field = extract::field(&image, &Params::default()).unwrap();
        let dir = std::env::temp_dir().join(format!("skytrap-catalogue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("x.csv");
        std::fs::write(&csv, "ra,dec\n1,2\n").unwrap();
        let e = format!("{:#}", read(&csv, &image, &field).unwrap_err());
        assert!(
            e.contains("x.csv: neither a Selavy component catalogue"),
            "{e}"
        );
        let text = std::fs::read_to_string(epoch(1).with_extension("selavy.components.txt"))
            .unwrap()
            .replace("149.983325", "120.983325");
        let moved = dir.join("moved.txt");
        std::fs::write(&moved, text).unwrap();
        let e = format!("{:#}", read(&moved, &image, &field).unwrap_err());
        assert!(e.contains("line 3: (120.983325, -29.977778) is "), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
