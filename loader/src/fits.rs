//! Reading radio images: pixels as a 2-D plane, the header, the WCS and what the pipeline
//! needs from the header (frequency, beam, time).

use crate::header::Header;
use crate::wcs::Wcs;
use anyhow::{bail, Context, Result};
use fitsio::hdu::HduInfo;
use fitsio::FitsFile;
use ndarray::{Array2, ArrayD, Ix2};
use std::path::Path;

/// Largest side we accept; beyond this a header is more likely corrupt than real.
const MAX_SIDE: usize = 65_536;

/// One image plane with its metadata.
pub struct Image {
    pub header: Header,
    /// Pixel values, indexed [y, x]; blanked pixels are NaN.
    pub data: Array2<f32>,
    pub wcs: Wcs,
    pub meta: Metadata,
}

/// What the pipeline reads from the header.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// Effective frequency and bandwidth, Hz.
    pub freq_eff: f64,
    pub freq_bw: f64,
    /// Restoring beam FWHM axes and position angle, degrees.
    pub bmaj: f64,
    pub bmin: f64,
    pub bpa: f64,
    /// DATE-OBS as written, if any.
    pub date_obs: Option<String>,
    /// Stokes parameter, 1..4 = I, Q, U, V.
    pub stokes: i16,
}

/// Reads the primary image of a FITS file. Errors say what is wrong with the file; the
/// caller adds its name.
pub fn read(path: &Path) -> Result<Image> {
    let meta = std::fs::metadata(path).context("cannot read the file")?;
    if meta.len() == 0 {
        bail!("the file is empty");
    }
    let mut file =
        FitsFile::open(path).map_err(|e| anyhow::anyhow!("not a readable FITS file ({e})"))?;
    let hdu = file
        .primary_hdu()
        .map_err(|e| anyhow::anyhow!("no primary header ({e})"))?;
    let header = Header::from_cards(&header_cards(&mut file)?);
    let shape = match &hdu.info {
        HduInfo::ImageInfo { shape, .. } => shape.clone(),
        _ => bail!("the primary HDU is not an image"),
    };
    // fitsio lists axes slowest first: [..., NAXIS2, NAXIS1].
    if shape.len() < 2 {
        bail!(
            "the primary HDU has {} axes; an image needs at least 2",
            shape.len()
        );
    }
    let (ny, nx) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    if nx == 0 || ny == 0 || nx > MAX_SIDE || ny > MAX_SIDE {
        bail!("image size {nx}x{ny} is out of range (1 to {MAX_SIDE} pixels a side)");
    }
    if let Some(extra) = shape[..shape.len() - 2].iter().find(|&&n| n != 1) {
        bail!("axes beyond RA and DEC must have length 1 (found one of length {extra}): cubes are not supported");
    }
    let wcs = Wcs::from_header(&header).context("invalid WCS")?;
    let meta = metadata(&header)?;
    let data: ArrayD<f32> = hdu
        .read_image(&mut file)
        .map_err(|e| anyhow::anyhow!("cannot read the pixel data, is the file truncated? ({e})"))?;
    let data = data
        .into_shape_with_order((ny, nx))
        .context("pixel data do not match NAXIS1 x NAXIS2")?
        .into_dimensionality::<Ix2>()?;
    Ok(Image {
        header,
        data,
        wcs,
        meta,
    })
}

/// All 80-character cards of the current HDU.
fn header_cards(file: &mut FitsFile) -> Result<Vec<String>> {
    use std::os::raw::{c_char, c_int};
    let mut cards = Vec::new();
    // SAFETY: `file` is an open fitsfile for the duration of these calls; each card buffer
    // is 81 bytes as cfitsio requires (FLEN_CARD) and is NUL-terminated by ffgrec.
    unsafe {
        let fptr = file.as_raw();
        let (mut nkeys, mut more, mut status): (c_int, c_int, c_int) = (0, 0, 0);
        fitsio::sys::ffghsp(fptr, &mut nkeys, &mut more, &mut status);
        if status != 0 {
            bail!("cannot read the header (cfitsio status {status})");
        }
        for i in 1..=nkeys {
            let mut card = [0 as c_char; 81];
            fitsio::sys::ffgrec(fptr, i, card.as_mut_ptr(), &mut status);
            if status != 0 {
                bail!("cannot read header card {i} (cfitsio status {status})");
            }
            let bytes: Vec<u8> = card
                .iter()
                .take_while(|&&c| c != 0)
                .map(|&c| c as u8)
                .collect();
            cards.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(cards)
}

/// Frequency, beam, time and Stokes from a header.
pub fn metadata(h: &Header) -> Result<Metadata> {
    // The FREQ axis is the observing frequency; RESTFRQ is often a line's rest frequency
    // (the simulated ASKAP images carry the HI line), so it is only the fallback.
    let axes = h.number("WCSAXES").or(h.number("NAXIS")).unwrap_or(2.0) as usize;
    let axis_of = |prefix: &str| {
        (3..=axes.clamp(3, 9)).find(|n| {
            h.text(&format!("CTYPE{n}"))
                .is_some_and(|t| t.trim().starts_with(prefix))
        })
    };
    let (freq_eff, freq_bw) = if let Some(n) = axis_of("FREQ") {
        let f = h
            .number(&format!("CRVAL{n}"))
            .with_context(|| format!("CTYPE{n} is FREQ but CRVAL{n} is missing"))?;
        (f, h.number(&format!("CDELT{n}")).unwrap_or(0.0).abs())
    } else if let Some(f) = h.number("RESTFRQ").or(h.number("RESTFREQ")) {
        (f, h.number("RESTBW").unwrap_or(0.0).abs())
    } else {
        bail!("no frequency: neither a FREQ axis nor RESTFRQ/RESTFREQ");
    };
    if freq_eff.is_nan() || freq_eff <= 0.0 {
        bail!("frequency {freq_eff} Hz is not positive");
    }
    let (bmaj, bmin, bpa) = match (h.number("BMAJ"), h.number("BMIN")) {
        (Some(a), Some(b)) => (a, b, h.number("BPA").unwrap_or(0.0)),
        _ => aips_beam(&h.history)
            .context("no restoring beam: BMAJ/BMIN missing and no AIPS CLEAN history card")?,
    };
    if !(bmaj > 0.0 && bmin > 0.0) || bmin > bmaj * (1.0 + 1e-9) {
        bail!("restoring beam BMAJ = {bmaj}, BMIN = {bmin} is not a valid ellipse");
    }
    let stokes = axis_of("STOKES")
        .and_then(|n| h.number(&format!("CRVAL{n}")))
        .unwrap_or(1.0) as i16;
    Ok(Metadata {
        freq_eff,
        freq_bw,
        bmaj,
        bmin,
        bpa,
        date_obs: h.text("DATE-OBS").map(str::to_string),
        stokes,
    })
}

/// The beam from an AIPS history card: `AIPS   CLEAN BMAJ=  1.2E-02 BMIN=  8.0E-03 BPA=  45.0`.
fn aips_beam(history: &[String]) -> Option<(f64, f64, f64)> {
    let field = |line: &str, key: &str| -> Option<f64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split_whitespace().next()?.parse().ok()
    };
    history.iter().rev().find_map(|line| {
        Some((
            field(line, "BMAJ=")?,
            field(line, "BMIN=")?,
            field(line, "BPA=").unwrap_or(0.0),
        ))
    })
}

/// DATE-OBS as an ISO timestamp PostgreSQL accepts, checked field by field.
pub fn observation_time(meta: &Metadata) -> Result<String> {
    let s = meta
        .date_obs
        .as_deref()
        .context("no DATE-OBS: the observation time is needed to order the images")?;
    let ok = s.len() >= 10
        && s.as_bytes()[4] == b'-'
        && s.as_bytes()[7] == b'-'
        && s[..4].parse::<u32>().is_ok()
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && s[8..10].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d));
    if !ok {
        bail!("DATE-OBS '{s}' is not an ISO date (YYYY-MM-DD[Thh:mm:ss])");
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Value;

    fn header(pairs: &[(&str, Value)]) -> Header {
        Header::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    #[test]
    fn frequency_prefers_the_freq_axis_over_restfrq() {
        let h = header(&[
            ("NAXIS", Value::Number(4.0)),
            ("CTYPE3", Value::Text("FREQ".into())),
            ("CRVAL3", Value::Number(888e6)),
            ("CDELT3", Value::Number(288e6)),
            ("RESTFRQ", Value::Number(1420.405752e6)),
            ("BMAJ", Value::Number(0.004)),
            ("BMIN", Value::Number(0.003)),
        ]);
        let m = metadata(&h).unwrap();
        assert_eq!((m.freq_eff, m.freq_bw), (888e6, 288e6));
    }

    #[test]
    fn beam_from_aips_history() {
        let mut h = header(&[("RESTFRQ", Value::Number(1.4e9))]);
        h.history = vec!["AIPS   CLEAN BMAJ=  1.2000E-02 BMIN=  8.0000E-03 BPA=  45.00".into()];
        let m = metadata(&h).unwrap();
        assert_eq!((m.bmaj, m.bmin, m.bpa), (0.012, 0.008, 45.0));
        h.history.clear();
        assert!(format!("{:#}", metadata(&h).unwrap_err()).contains("no restoring beam"));
    }

    #[test]
    fn date_obs_is_checked() {
        let mut m = metadata(&header(&[
            ("RESTFRQ", Value::Number(1.4e9)),
            ("BMAJ", Value::Number(0.01)),
            ("BMIN", Value::Number(0.01)),
        ]))
        .unwrap();
        assert!(observation_time(&m).is_err());
        m.date_obs = Some("2012-04-06T04:24:11".into());
        assert_eq!(observation_time(&m).unwrap(), "2012-04-06T04:24:11");
        m.date_obs = Some("06/04/12".into());
        assert!(observation_time(&m).is_err());
    }
}
