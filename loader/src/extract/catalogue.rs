//! Sources measured by another finder, for `skytrap load --catalogue`: ASKAP's Selavy
//! component catalogue, in its `.txt` form (columns named in the header line, their units
//! in the line below) or as a VOTable (`.xml`, `.vot`; TABLEDATA, units on the FIELDs),
//! as the VAST pipeline reads them; or PySE's CSV (`pyse --csv`: a header line naming the
//! columns; Jy, degrees, arcsec). Columns are found by name and converted to skytrap's
//! units. Each source becomes a `Source` as skytrap's own finder measures it; what the
//! catalogue does not give comes from the image: the pixel position from its WCS and,
//! where the catalogue has no noise or significance, the signal-to-noise ratio from
//! skytrap's noise map there.

use crate::extract::{deconv, Field, Source};
use crate::image::fits::Image;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Reads `path`'s sources for `image`. A line or value that cannot be read is an error
/// naming the line; a source off the image is an error too (the catalogue is not the
/// image's).
pub fn read(path: &Path, image: &Image, field: &Field) -> Result<Vec<Source>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the catalogue", path.display()))?;
    let first = text.lines().next().unwrap_or("");
    let read = if first.trim_start().starts_with('#') && first.contains("component_id") {
        selavy_txt(&text).and_then(|t| selavy(&t, image, field))
    } else if text.trim_start().starts_with("<?xml") || text.contains("<VOTABLE") {
        votable(&text).and_then(|t| selavy(&t, image, field))
    } else if ["ra", "dec", "peak", "flux"]
        .iter()
        .all(|c| first.split(',').any(|n| n.trim() == *c))
    {
        pyse(&pyse_csv(&text), image, field)
    } else {
        Err(anyhow::anyhow!(
            "neither a Selavy component catalogue (.txt, or a VOTable) nor PySE's CSV (a \
             first line ra, dec, peak, flux, ...)"
        ))
    };
    read.with_context(|| path.display().to_string())
}

/// A catalogue as text cells: its columns' names and units, and each row with the line
/// of the file it is on.
struct Table {
    names: Vec<String>,
    units: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// The index of a column, and the factor that brings it to skytrap's units.
    fn column(&self, name: &str) -> Result<(usize, f64)> {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .with_context(|| format!("no column {name}"))?;
        Ok((
            i,
            factor(self.units.get(i).map_or("", String::as_str), name)?,
        ))
    }

    /// A row's value of a column in skytrap's units; line names the row in messages.
    fn value(&self, row: &[String], line: usize, (i, factor): (usize, f64)) -> Result<f64> {
        let text = row
            .get(i)
            .with_context(|| format!("line {line}: no column {}", self.names[i]))?
            .trim();
        let v: f64 = text
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .with_context(|| format!("line {line}: {} '{text}' is not a number", self.names[i]))?;
        Ok(v * factor)
    }
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

/// Selavy's `.txt`: the header line names the columns; the line below gives their units,
/// each written to end where its column's name ends (columns without a unit have none);
/// then a row per line, cells separated by spaces.
fn selavy_txt(text: &str) -> Result<Table> {
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
    let mut lines = text.lines().enumerate();
    let header = words(lines.next().map_or("", |(_, l)| l));
    let units = match lines.next() {
        Some((_, l)) if l.trim_start().starts_with('#') => words(l),
        _ => bail!("line 2: expected the units of the columns"),
    };
    Ok(Table {
        names: header.iter().map(|(_, n)| n.clone()).collect(),
        units: header
            .iter()
            .map(|(end, _)| {
                units
                    .iter()
                    .find(|(e, _)| e == end)
                    .map_or(String::new(), |(_, u)| u.clone())
            })
            .collect(),
        rows: lines
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|(n, l)| (n + 1, l.split_whitespace().map(String::from).collect()))
            .collect(),
    })
}

/// A VOTable's first table, in TABLEDATA (the serialisation Selavy writes): the FIELDs'
/// names and units, and each TR's cells, entities decoded.
fn votable(text: &str) -> Result<Table> {
    for binary in ["<BINARY", "<BINARY2", "<FITS"] {
        if text.contains(binary) {
            bail!(
                "a VOTable in {} serialisation: skytrap reads TABLEDATA",
                &binary[1..]
            );
        }
    }
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}="))? + name.len() + 2;
        let quote = tag[start..].chars().next()?;
        let rest = &tag[start + 1..];
        Some(unescape(&rest[..rest.find(quote)?]))
    };
    let (mut names, mut units) = (Vec::new(), Vec::new());
    let mut at = 0;
    while let Some(start) = text[at..].find("<FIELD").map(|i| at + i) {
        let end = text[start..]
            .find('>')
            .map(|i| start + i)
            .with_context(|| format!("line {}: a FIELD that does not end", line_of(start)))?;
        let tag = &text[start..end];
        names.push(
            attribute(tag, "name")
                .with_context(|| format!("line {}: a FIELD without a name", line_of(start)))?,
        );
        units.push(attribute(tag, "unit").unwrap_or_default());
        at = end;
    }
    let data = text
        .find("<TABLEDATA")
        .context("no TABLEDATA: not a VOTable with its rows inline")?;
    let mut rows = Vec::new();
    let mut at = data;
    while let Some(start) = text[at..].find("<TR").map(|i| at + i) {
        let end = text[start..]
            .find("</TR>")
            .map(|i| start + i)
            .with_context(|| format!("line {}: a TR that does not end", line_of(start)))?;
        let row = &text[start..end];
        let mut cells = Vec::new();
        let mut cell_at = 0;
        while let Some(td) = row[cell_at..].find("<TD").map(|i| cell_at + i) {
            let open = td + row[td..].find('>').context("a TD that does not end")?;
            if row[..open].ends_with('/') {
                cells.push(String::new());
                cell_at = open;
                continue;
            }
            let close = row[open..]
                .find("</TD>")
                .map(|i| open + i)
                .with_context(|| format!("line {}: a TD that does not end", line_of(start)))?;
            cells.push(unescape(&row[open + 1..close]));
            cell_at = close;
        }
        rows.push((line_of(start), cells));
        at = end;
    }
    Ok(Table { names, units, rows })
}

/// XML's predefined and numeric character references decoded.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out += &rest[..i];
        rest = &rest[i..];
        let Some(end) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out + rest
}

/// PySE's CSV: a header line of names, then rows of `, `-separated numbers; its units are
/// fixed (Jy, Jy/beam, degrees, arcsec), none converted but the position errors.
fn pyse_csv(text: &str) -> Table {
    let mut lines = text.lines().enumerate();
    let names: Vec<String> = lines
        .next()
        .map(|(_, l)| l.split(',').map(|n| n.trim().to_string()).collect())
        .unwrap_or_default();
    Table {
        units: vec![String::new(); names.len()],
        names,
        rows: lines
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| (n + 1, l.split(',').map(|v| v.trim().to_string()).collect()))
            .collect(),
    }
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

/// Selavy's components (either form), in skytrap's units.
fn selavy(t: &Table, image: &Image, field: &Field) -> Result<Vec<Source>> {
    let ra = t.column("ra_deg_cont")?;
    let dec = t.column("dec_deg_cont")?;
    let ra_err = t.column("ra_err")?;
    let dec_err = t.column("dec_err")?;
    let peak = t.column("flux_peak")?;
    let peak_err = t.column("flux_peak_err")?;
    let flux = t.column("flux_int")?;
    let flux_err = t.column("flux_int_err")?;
    let maj = t.column("maj_axis")?;
    let min = t.column("min_axis")?;
    let pa = t.column("pos_ang")?;
    let maj_dc = t.column("maj_axis_deconv")?;
    let min_dc = t.column("min_axis_deconv")?;
    let pa_dc = t.column("pos_ang_deconv")?;
    let chisq = t.column("chi_squared_fit")?;
    let rms = t.column("rms_image").ok();
    t.rows
        .iter()
        .map(|(line, row)| {
            let value = |column| t.value(row, *line, column);
            let (ra, dec) = (value(ra)?, value(dec)?);
            let (x, y) = on_image(image, ra, dec, *line)?;
            let noise = match rms {
                Some(column) => value(column)?,
                None => noise_at(field, x, y),
            };
            let (ra_err_arc, dec_err) = (value(ra_err)?, value(dec_err)?);
            let peak = value(peak)?;
            // Selavy's axes are full widths at half maximum; skytrap keeps half widths.
            let (maj_dc, min_dc) = (value(maj_dc)? / 2.0, value(min_dc)? / 2.0);
            Ok(Source {
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
            })
        })
        .collect()
}

/// PySE's sources (radio-pyse's `pyse --csv`, the default columns `peak, peak_err, flux,
/// flux_err, x, y, ra, ra_err, dec, dec_err, smaj_asec, smaj_asec_err, smin_asec,
/// smin_asec_err, theta_celes, theta_celes_err, sig, reduced_chisq`, in any order): Jy,
/// Jy/beam, degrees (positions and their errors, the RA error as an RA difference, as
/// skytrap keeps it), arcsec (semi-axes), degrees east of north.
fn pyse(t: &Table, image: &Image, field: &Field) -> Result<Vec<Source>> {
    let (ra, dec) = (t.column("ra")?, t.column("dec")?);
    let (ra_err, dec_err) = (t.column("ra_err")?, t.column("dec_err")?);
    let (peak, peak_err) = (t.column("peak")?, t.column("peak_err")?);
    let (flux, flux_err) = (t.column("flux")?, t.column("flux_err")?);
    let (smaj, smin, pa) = (
        t.column("smaj_asec")?,
        t.column("smin_asec")?,
        t.column("theta_celes")?,
    );
    let (smaj_err, smin_err, pa_err) = (
        t.column("smaj_asec_err").ok(),
        t.column("smin_asec_err").ok(),
        t.column("theta_celes_err").ok(),
    );
    let (sig, chisq) = (t.column("sig").ok(), t.column("reduced_chisq").ok());
    t.rows
        .iter()
        .map(|(line, row)| {
            let value = |column| t.value(row, *line, column);
            let optional = |column: Option<(usize, f64)>| column.map(value).transpose();
            let (ra, dec) = (value(ra)?, value(dec)?);
            let (x, y) = on_image(image, ra, dec, *line)?;
            let (ra_err, dec_err) = (value(ra_err)? * 3600.0, value(dec_err)? * 3600.0);
            let peak = value(peak)?;
            let (smaj, smin, pa) = (value(smaj)?, value(smin)?, value(pa)?);
            // The shape with the restoring beam deconvolved, on the sky (arcsec, degrees),
            // by the AIPS DECONV skytrap's finder uses.
            let m = &image.meta;
            let dc = deconv::deconvolve(smaj, smin, pa, m.bmaj * 1800.0, m.bmin * 1800.0, m.bpa);
            Ok(Source {
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
            })
        })
        .collect()
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
    fn selavy_votable_is_the_same_catalogue_as_its_text() {
        // The VAST pipeline ships epoch 01's components in both forms.
        let image = fits::read(&epoch(1)).unwrap();
        let field = extract::field(&image, &Params::default()).unwrap();
        let txt = read(
            &epoch(1).with_extension("selavy.components.txt"),
            &image,
            &field,
        )
        .unwrap();
        let xml = read(
            &epoch(1).with_extension("selavy.components.xml"),
            &image,
            &field,
        )
        .unwrap();
        assert_eq!(format!("{txt:?}"), format!("{xml:?}"));
        assert_eq!(unescape("a &lt;b&gt; &amp;&#65;&#x42; &x"), "a <b> &AB &x");
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
