//! Reading radio images: pixels as a 2-D plane, the header, the WCS and what the pipeline
//! needs from the header (frequency, beam, time).

use crate::image::header::{show, Header, Value};
use crate::image::wcs::Wcs;
use anyhow::{bail, Context, Result};
use ndarray::Array2;
use std::io::{BufRead, Read};
use std::path::Path;

/// Largest side we accept; beyond this a header is more likely corrupt than real.
pub const MAX_SIDE: usize = 65_536;

/// FITS blocks are 2880 bytes, 36 cards of 80 characters.
const BLOCK: usize = 2880;

/// Most header blocks read before giving up on finding END: 360 000 cards, 29 MB. Real
/// images have a few hundred cards; a file without END must not be read to its end.
const MAX_HEADER_BLOCKS: usize = 10_000;

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
    /// TELESCOP and OBJECT, as written.
    pub telescope: Option<String>,
    pub object: Option<String>,
}

/// Reads the image of a FITS file: the primary HDU's, or where the primary HDU is empty,
/// the first extension's (an IMAGE extension; with INHERIT = T it inherits the primary
/// header's keywords). A gzip-compressed file is read through its decompression. Errors
/// say what is wrong with the file; the caller adds its name.
///
/// The header is read and checked here, in Rust, before any pixel is: the mandatory
/// keywords, the data size against the file's length (so no allocation follows a
/// header's claim), BSCALE/BZERO/BLANK, the WCS, the beam. Then exactly the promised
/// pixel bytes are read and converted to float32 with BSCALE/BZERO applied and BLANK
/// pixels set to NaN.
pub fn read(path: &Path) -> Result<Image> {
    let (input, file_len) = open(path)?;
    read_from(input, file_len)
}

/// `read` on a FITS file held in memory (tests and fuzzing).
pub fn parse(bytes: &[u8]) -> Result<Image> {
    if bytes.is_empty() {
        bail!("the file is empty");
    }
    read_from(std::io::Cursor::new(bytes), Some(bytes.len() as u64))
}

/// What a FITS file's header says about its image, checked: everything but the pixels.
pub struct Described {
    pub header: Header,
    pub meta: Metadata,
    /// Pixels along RA and DEC.
    pub nx: usize,
    pub ny: usize,
}

/// Reads and checks a FITS file's header as `read` does, and that the pixel data is all
/// there, without keeping it: a file that passes holds an image `read` can return (unless
/// it changes meanwhile).
pub fn describe(path: &Path) -> Result<Described> {
    let (input, file_len) = open(path)?;
    let checked = checked_header(input, file_len)?;
    if file_len.is_none() {
        // Compressed: its length says nothing of the image's, so the data is read through.
        let wanted = checked.layout.data_bytes;
        let got = std::io::copy(&mut checked.input.take(wanted), &mut std::io::sink())
            .context("cannot decompress the file")?;
        if got < wanted {
            bail!(
                "the file is truncated: the header promises {wanted} bytes of pixel data, \
                 the decompressed file has {got} after its header"
            );
        }
    }
    Ok(Described {
        header: checked.header,
        meta: checked.meta,
        nx: checked.layout.nx,
        ny: checked.layout.ny,
    })
}

/// The file's bytes, decompressed where it is gzip-compressed, and its length where that
/// is the length of the FITS data (None for a compressed file).
fn open(path: &Path) -> Result<(Box<dyn Read>, Option<u64>)> {
    let meta = std::fs::metadata(path).context("cannot read the file")?;
    if meta.is_dir() {
        bail!("is a directory, not a FITS file");
    }
    if meta.len() == 0 {
        bail!("the file is empty");
    }
    let mut file =
        std::io::BufReader::new(std::fs::File::open(path).context("cannot open the file")?);
    let gzip = file
        .fill_buf()
        .context("cannot read the file")?
        .starts_with(&GZIP_MAGIC);
    Ok(if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(file);
        (Box::new(std::io::BufReader::new(decoder)), None)
    } else {
        (Box::new(file), Some(meta.len()))
    })
}

/// The FITS bytes of a file, decompressed where it is gzip-compressed: what an image is
/// known by (`load` hashes them), so that a compressed copy is the same image.
pub fn content(path: &Path) -> Result<Box<dyn Read>> {
    Ok(open(path)?.0)
}

/// The first two bytes of a gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A header read and checked, with the input positioned after it.
struct CheckedHeader<R> {
    input: R,
    header: Header,
    layout: Layout,
    wcs: Wcs,
    meta: Metadata,
}

fn checked_header<R: Read>(mut input: R, file_len: Option<u64>) -> Result<CheckedHeader<R>> {
    let (primary, mut header_len) = read_header(&mut input, file_len, Hdu::Primary)?;
    let empty_primary = Header::from_cards(&primary).number("NAXIS") == Some(0.0);
    let cards = if empty_primary && file_len.is_none_or(|len| len > header_len) {
        let (extension, len) = read_header(&mut input, file_len, Hdu::Extension)?;
        header_len += len;
        image_extension(primary, extension)?
    } else {
        primary
    };
    let (header, celestial) = celestial_axes_first(Header::from_cards(&cards));
    let mut layout = Layout::of(&header)?;
    // DEC before RA in the file: the plane is stored with DEC varying fastest.
    layout.transposed = celestial.is_some_and(|(ra, dec)| dec < ra);
    if let Some(file_len) = file_len {
        let available = file_len.saturating_sub(header_len);
        if layout.data_bytes > available {
            bail!(
                "the file is truncated: the header promises {} bytes of pixel data \
                 ({}x{} pixels of BITPIX {}), the file has {available} after its header",
                layout.data_bytes,
                layout.nx,
                layout.ny,
                layout.bitpix
            );
        }
    }
    let wcs = Wcs::from_header(&header).with_context(|| match celestial {
        Some((ra, dec)) => format!(
            "invalid WCS (RA is axis {ra} and DEC axis {dec} in the file; \
                 keywords are numbered as if they were axes 1 and 2)"
        ),
        None => "invalid WCS".to_string(),
    })?;
    let meta = metadata(&header)?;
    check_geometry(&wcs, &meta, layout.nx, layout.ny)?;
    Ok(CheckedHeader {
        input,
        header,
        layout,
        wcs,
        meta,
    })
}

fn read_from<R: Read>(input: R, file_len: Option<u64>) -> Result<Image> {
    let CheckedHeader {
        input,
        header,
        layout,
        wcs,
        meta,
    } = checked_header(input, file_len)?;
    // The size is the header's claim, checked against the file's length where it has one;
    // still, a real but huge file must fail with a message, not abort the process.
    let pixels = layout.nx * layout.ny;
    let mut raw: Vec<u8> = Vec::new();
    let mut values: Vec<f32> = Vec::new();
    if raw.try_reserve_exact(layout.data_bytes as usize).is_err()
        || values.try_reserve_exact(pixels).is_err()
    {
        bail!(
            "cannot allocate memory for {}x{} pixels ({} bytes)",
            layout.nx,
            layout.ny,
            layout.data_bytes
        );
    }
    // Filled as it arrives, so that a compressed file that ends early costs no more
    // memory than it holds.
    input
        .take(layout.data_bytes)
        .read_to_end(&mut raw)
        .context("cannot read the pixel data")?;
    if (raw.len() as u64) < layout.data_bytes {
        bail!(
            "cannot read the pixel data: the file is truncated or changed while being read \
             ({} of {} bytes)",
            raw.len(),
            layout.data_bytes
        );
    }
    let data = layout.decode(&raw, values);
    Ok(Image {
        header,
        data,
        wcs,
        meta,
    })
}

/// The header with RA as axis 1 and DEC as axis 2, whichever axes they are in the file
/// (CASA and AIPS may write FREQ or STOKES first, or DEC before RA), and their axis numbers
/// in the file if they had to move.
fn celestial_axes_first(header: Header) -> (Header, Option<(usize, usize)>) {
    match header.celestial_axes() {
        Some((ra, dec)) if (ra, dec) != (1, 2) => {
            let naxis = header.number("NAXIS").unwrap_or(0.0) as usize;
            let mut order = vec![ra, dec];
            order.extend((1..=naxis).filter(|&n| n != ra && n != dec));
            (header.with_axes_in_order(&order), Some((ra, dec)))
        }
        _ => (header, None),
    }
}

/// Which header `read_header` reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hdu {
    Primary,
    /// The first extension, after an empty primary HDU.
    Extension,
}

/// Structural keywords of a primary header that an extension does not inherit.
const NOT_INHERITED: [&str; 10] = [
    "SIMPLE", "BITPIX", "NAXIS", "EXTEND", "BSCALE", "BZERO", "BLANK", "PCOUNT", "GCOUNT",
    "INHERIT",
];

/// The cards of an image in the first extension: the extension's, after the primary
/// header's (but its structural keywords) where the extension says INHERIT = T, so that
/// the extension's own keywords win.
fn image_extension(primary: Vec<String>, extension: Vec<String>) -> Result<Vec<String>> {
    let header = Header::from_cards(&extension);
    let kind = header.text("XTENSION").map(str::trim_end).unwrap_or("");
    if kind != "IMAGE" {
        bail!(
            "the primary HDU holds no image (NAXIS = 0) and its first extension is {}, \
             not an IMAGE",
            if kind.is_empty() { "not named" } else { kind }
        );
    }
    let inherit = matches!(header.get("INHERIT"), Some(Value::Logical(true)));
    if !inherit {
        return Ok(extension);
    }
    let structural = |card: &String| {
        let key = card.get(..8).unwrap_or(card).trim_end();
        NOT_INHERITED.contains(&key) || key.strip_prefix("NAXIS").is_some_and(|n| !n.is_empty())
    };
    Ok(primary
        .into_iter()
        .filter(|c| !structural(c))
        .chain(extension)
        .collect())
}

/// A header's cards up to END, and the header's length in bytes.
fn read_header<R: Read>(
    input: &mut R,
    file_len: Option<u64>,
    hdu: Hdu,
) -> Result<(Vec<String>, u64)> {
    let mut cards = Vec::new();
    let mut block = [0u8; BLOCK];
    for n in 0..MAX_HEADER_BLOCKS {
        let got = read_up_to(input, &mut block).context("cannot read the header")?;
        if got == 0 && hdu == Hdu::Extension && n == 0 {
            bail!("NAXIS = 0: the primary HDU holds no image and no extension follows it");
        }
        if got == 0 {
            bail!(
                "the header has no END card: the file ends after {} header cards \
                 (truncated, or not a FITS file)",
                cards.len()
            );
        }
        for raw in block[..got].chunks(80) {
            // FITS headers are printable ASCII; anything else becomes '?', so a card
            // stays 80 characters and its columns where they belong.
            let card: String = raw
                .iter()
                .map(|&b| {
                    if (32..127).contains(&b) {
                        b as char
                    } else {
                        '?'
                    }
                })
                .collect();
            if cards.is_empty() {
                match hdu {
                    Hdu::Primary if !card.starts_with("SIMPLE  =") => bail!(
                        "not a readable FITS file: it does not start with the card SIMPLE = T"
                    ),
                    Hdu::Extension if !card.starts_with("XTENSION=") => bail!(
                        "the primary HDU holds no image (NAXIS = 0) and what follows it is \
                         not a FITS extension"
                    ),
                    _ => {}
                }
            }
            if card.len() == 80 && card.starts_with("END") && card[3..].trim().is_empty() {
                return Ok((cards, (n as u64 + 1) * BLOCK as u64));
            }
            cards.push(card);
        }
        if got < BLOCK {
            bail!(
                "the header has no END card: the file ends after {} header cards \
                 (truncated, or not a FITS file)",
                cards.len()
            );
        }
    }
    let size = file_len.map_or("is compressed".to_string(), |len| format!("has {len}"));
    bail!(
        "no END card in the first {} header cards ({} bytes; the file {size}): \
         the header is corrupt",
        MAX_HEADER_BLOCKS * BLOCK / 80,
        MAX_HEADER_BLOCKS * BLOCK
    )
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to<R: Read>(input: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The shape and encoding of the primary array, checked.
#[derive(Debug)]
struct Layout {
    bitpix: i32,
    nx: usize,
    ny: usize,
    /// The plane is stored DEC-fastest and is transposed to [DEC, RA] on reading.
    transposed: bool,
    data_bytes: u64,
    bscale: f64,
    bzero: f64,
    blank: Option<i64>,
}

impl Layout {
    fn of(h: &Header) -> Result<Layout> {
        // A primary HDU, or an IMAGE extension (`image_extension` checked its XTENSION).
        if !matches!(h.get("SIMPLE"), Some(Value::Logical(true))) && !h.contains("XTENSION") {
            bail!("SIMPLE is not T: the file does not conform to FITS");
        }
        let bitpix = h.required("BITPIX")?;
        if ![8.0, 16.0, 32.0, 64.0, -32.0, -64.0].contains(&bitpix) {
            bail!(
                "BITPIX = {} is not a FITS data type (8, 16, 32, 64, -32 or -64)",
                show(bitpix)
            );
        }
        let bitpix = bitpix as i32;
        let naxis = h.required("NAXIS")?;
        if !(0.0..=999.0).contains(&naxis) || naxis.fract() != 0.0 {
            bail!("NAXIS = {} is not a number of axes (0 to 999)", show(naxis));
        }
        let naxis = naxis as usize;
        if naxis == 0 {
            bail!("NAXIS = 0: the primary HDU holds no image and no extension follows it");
        }
        if naxis == 1 {
            bail!("NAXIS = 1: the primary HDU holds a 1-D array, not an image");
        }
        let mut axes = Vec::with_capacity(naxis);
        for n in 1..=naxis {
            let key = format!("NAXIS{n}");
            let len = h.required(&key)?;
            if !(0.0..=9.0e15).contains(&len) || len.fract() != 0.0 {
                bail!("{key} = {} is not a valid axis length", show(len));
            }
            axes.push(len);
        }
        for (n, &len) in axes.iter().enumerate().take(2) {
            if len < 1.0 {
                bail!(
                    "NAXIS{} = {len} is not a valid axis length: an image needs at least one pixel a side",
                    n + 1
                );
            }
            if len > MAX_SIDE as f64 {
                bail!(
                    "NAXIS{} = {} is more than {MAX_SIDE} pixels: the header is corrupt or the image too large",
                    n + 1,
                    show(len)
                );
            }
        }
        if let Some((n, len)) = axes.iter().enumerate().skip(2).find(|(_, &l)| l != 1.0) {
            bail!(
                "NAXIS{} = {}: axes beyond RA and DEC must have length 1 (cubes are not supported)",
                n + 1,
                show(*len)
            );
        }
        let (nx, ny) = (axes[0] as usize, axes[1] as usize);
        let bscale = h.real("BSCALE")?.unwrap_or(1.0);
        if bscale == 0.0 {
            bail!("BSCALE = 0 would make every pixel equal to BZERO");
        }
        let bzero = h.real("BZERO")?.unwrap_or(0.0);
        let blank = match h.real("BLANK")? {
            Some(b) if bitpix > 0 => {
                if b.fract() != 0.0 || b.abs() > 9.2e18 {
                    bail!("BLANK = {} is not an integer", show(b));
                }
                Some(b as i64)
            }
            _ => None,
        };
        Ok(Layout {
            bitpix,
            nx,
            ny,
            transposed: false,
            data_bytes: (nx as u64) * (ny as u64) * (bitpix.unsigned_abs() as u64 / 8),
            bscale,
            bzero,
            blank,
        })
    }

    /// Physical pixel values of the raw big-endian data.
    fn decode(&self, raw: &[u8], mut values: Vec<f32>) -> Array2<f32> {
        let (scale, zero) = (self.bscale, self.bzero);
        let scaled = |v: f64| (zero + scale * v) as f32;
        let int = |v: i64| {
            if Some(v) == self.blank {
                f32::NAN
            } else {
                scaled(v as f64)
            }
        };
        let identity = scale == 1.0 && zero == 0.0;
        match self.bitpix {
            8 => values.extend(raw.iter().map(|&b| int(i64::from(b)))),
            16 => values.extend(
                raw.chunks_exact(2)
                    .map(|c| int(i64::from(i16::from_be_bytes([c[0], c[1]])))),
            ),
            32 => values.extend(
                raw.chunks_exact(4)
                    .map(|c| int(i64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]])))),
            ),
            64 => values.extend(
                raw.chunks_exact(8)
                    .map(|c| int(i64::from_be_bytes(c.try_into().unwrap_or([0; 8])))),
            ),
            -32 => values.extend(raw.chunks_exact(4).map(|c| {
                let v = f32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                if identity {
                    v
                } else {
                    scaled(f64::from(v))
                }
            })),
            _ => values.extend(
                raw.chunks_exact(8)
                    .map(|c| scaled(f64::from_be_bytes(c.try_into().unwrap_or([0; 8])))),
            ),
        }
        if self.transposed {
            return Array2::from_shape_vec((self.nx, self.ny), values)
                .map(|a| a.reversed_axes().as_standard_layout().into_owned())
                .unwrap_or_else(|_| Array2::from_elem((self.ny, self.nx), f32::NAN));
        }
        Array2::from_shape_vec((self.ny, self.nx), values)
            .unwrap_or_else(|_| Array2::from_elem((self.ny, self.nx), f32::NAN))
    }
}

/// Checks that the WCS and the beam make sense for an image of nx × ny pixels.
fn check_geometry(wcs: &Wcs, meta: &Metadata, nx: usize, ny: usize) -> Result<()> {
    let (cx, cy) = (nx as f64 / 2.0, ny as f64 / 2.0);
    if wcs.pixel_to_sky(cx, cy).is_none() {
        bail!(
            "the image centre (pixel {cx}, {cy}) has no sky position: CRPIX1/CRPIX2 or \
             CDELT/CD put it off the projection"
        );
    }
    let (dx, dy) = wcs.pixel_scale();
    let pixel = dx.min(dy);
    let (major, minor) = (meta.bmaj / pixel, meta.bmin / dx.max(dy));
    // Against a tiny image the margin is the problem, not the beam: extraction says so.
    let side = nx.max(ny).max(64) as f64;
    if major > 2.0 * side {
        bail!(
            "the restoring beam (BMAJ = {} deg, {} pixels) is wider than the image \
             ({nx}x{ny} pixels): BMAJ and BMIN must be in degrees",
            show(meta.bmaj),
            show(major.round())
        );
    }
    if minor < 0.01 {
        bail!(
            "the restoring beam (BMIN = {} deg, {} pixels) is far smaller than a pixel: \
             BMAJ and BMIN must be in degrees",
            show(meta.bmin),
            show(minor)
        );
    }
    Ok(())
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
            .real(&format!("CRVAL{n}"))?
            .with_context(|| format!("CTYPE{n} is FREQ but CRVAL{n} is missing"))?;
        (f, h.real(&format!("CDELT{n}"))?.unwrap_or(0.0).abs())
    } else if let Some(f) = h.real("RESTFRQ")?.or(h.real("RESTFREQ")?) {
        (f, h.real("RESTBW")?.unwrap_or(0.0).abs())
    } else {
        bail!("no frequency: neither a FREQ axis nor RESTFRQ/RESTFREQ");
    };
    if freq_eff.is_nan() || freq_eff <= 0.0 {
        bail!("frequency {freq_eff} Hz is not positive");
    }
    let (bmaj, bmin, bpa) = match (h.real("BMAJ")?, h.real("BMIN")?) {
        (Some(a), Some(b)) => (a, b, h.real("BPA")?.unwrap_or(0.0)),
        _ => aips_beam(&h.history)
            .context("no restoring beam: BMAJ/BMIN missing and no AIPS CLEAN history card")?,
    };
    if !(bmaj > 0.0 && bmin > 0.0) || bmin > bmaj * (1.0 + 1e-9) {
        bail!(
            "restoring beam BMAJ = {bmaj}, BMIN = {bmin} is not a valid ellipse \
             (both positive, BMAJ >= BMIN, in degrees)"
        );
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
        telescope: h.text("TELESCOP").map(str::to_string),
        object: h.text("OBJECT").map(str::to_string),
    })
}

/// The beam from an AIPS history card: `AIPS   CLEAN BMAJ=  1.2E-02 BMIN=  8.0E-03 BPA=  45.0`.
fn aips_beam(history: &[String]) -> Option<(f64, f64, f64)> {
    let field = |line: &str, key: &str| -> Option<f64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split_whitespace()
            .next()?
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
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
    iso_time(s, "DATE-OBS")
}

/// The observation time from another header keyword (where an archive keeps it
/// elsewhere): an ISO date as in DATE-OBS, or a number of days if the keyword is a
/// Modified Julian Date (its name starts with MJD).
pub fn observation_time_in(header: &Header, key: &str) -> Result<String> {
    let key = key.to_ascii_uppercase();
    match header.get(&key) {
        None => bail!("no {key}: the observation time is needed to order the images"),
        Some(Value::Text(s)) => iso_time(s.trim_end(), &key),
        Some(Value::Number(mjd)) if key.starts_with("MJD") => {
            iso_from_mjd(*mjd).with_context(|| format!("{key} = {} is not a date", show(*mjd)))
        }
        Some(other) => bail!(
            "{key} = {other:?} is neither an ISO date nor, under an MJD keyword, a number of days"
        ),
    }
}

/// A Modified Julian Date as an ISO timestamp (UTC, microseconds), between the years 1
/// and 9999.
fn iso_from_mjd(mjd: f64) -> Option<String> {
    // MJD 0 is 1858-11-17T00:00, 678 941 days after 0000-03-01 (the proleptic Gregorian
    // calendar's start of a 400-year cycle, as in Hinnant's days_from_civil).
    let micros = (mjd * 86_400e6).round();
    if !(-678_575.0 * 86_400e6..2_973_483.0 * 86_400e6).contains(&micros) {
        return None;
    }
    let micros = micros as i64;
    let (days, of_day) = (
        micros.div_euclid(86_400_000_000),
        micros.rem_euclid(86_400_000_000),
    );
    let z = days + 678_881;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let seconds = of_day / 1_000_000;
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        of_day % 1_000_000
    ))
}

/// An ISO date as PostgreSQL accepts it, checked field by field; `key` names where it
/// came from.
pub fn iso_time(s: &str, key: &str) -> Result<String> {
    // Byte-wise: DATE-OBS may hold anything, and slicing a str mid-character panics.
    let b = s.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let ok = b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && number(0..4).is_some()
        && number(5..7).is_some_and(|m| (1..=12).contains(&m))
        && number(8..10).is_some_and(|d| (1..=31).contains(&d))
        && (b.len() == 10
            || (b[10] == b'T'
                && number(11..13).is_some_and(|h| h < 24)
                && b.get(13) == Some(&b':')
                && number(14..16).is_some_and(|m| m < 60)
                && (b.len() == 16
                    || (b.get(16) == Some(&b':')
                        && number(17..19).is_some_and(|s| s <= 60)
                        && (b.len() == 19
                            || b[19..] == *b"Z"
                            || (b[19] == b'.'
                                && b.len() > 20
                                && b[20..]
                                    .strip_suffix(b"Z")
                                    .unwrap_or(&b[20..])
                                    .iter()
                                    .all(u8::is_ascii_digit)))))));
    if !ok {
        bail!("{key} '{s}' is not an ISO date (YYYY-MM-DD[Thh:mm:ss])");
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::header::Value;

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

    /// MJD to ISO against dates worked by hand: MJD 0 is 1858-11-17, 51 544.5 is
    /// 2000-01-01T12:00 (J2000), 60 000.25 is 2023-02-25T06:00.
    #[test]
    fn the_time_can_come_from_another_keyword() {
        let h = header(&[
            ("MJD-OBS", Value::Number(60000.25)),
            ("DATE", Value::Text("2012-04-06T04:24:11".into())),
            ("TIMESYS", Value::Number(1.0)),
        ]);
        assert_eq!(
            observation_time_in(&h, "mjd-obs").unwrap(),
            "2023-02-25T06:00:00.000000"
        );
        assert_eq!(iso_from_mjd(0.0).unwrap(), "1858-11-17T00:00:00.000000");
        assert_eq!(iso_from_mjd(51544.5).unwrap(), "2000-01-01T12:00:00.000000");
        assert_eq!(iso_from_mjd(-1.0).unwrap(), "1858-11-16T00:00:00.000000");
        assert_eq!(
            iso_from_mjd(51544.0 + 1.5 / 86_400.0).unwrap(),
            "2000-01-01T00:00:01.500000"
        );
        assert!(iso_from_mjd(f64::NAN).is_none() && iso_from_mjd(1e9).is_none());
        assert_eq!(
            observation_time_in(&h, "DATE").unwrap(),
            "2012-04-06T04:24:11"
        );
        let missing = format!("{:#}", observation_time_in(&h, "DATE-BEG").unwrap_err());
        assert!(missing.contains("no DATE-BEG"), "{missing}");
        assert!(observation_time_in(&h, "TIMESYS").is_err());
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
        for good in ["2012-04-06", "2012-04-06T04:24", "2012-04-06T04:24:11.125"] {
            m.date_obs = Some(good.into());
            assert!(observation_time(&m).is_ok(), "{good}");
        }
        // Non-ASCII where a digit belongs used to panic on a char boundary.
        for bad in [
            "2026-01-0\u{e9}T00:00:00",
            "2012-04-06T25:00:00",
            "2012-04-06 junk",
        ] {
            m.date_obs = Some(bad.into());
            assert!(observation_time(&m).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod reader_tests {
    use super::*;

    /// The Rust reader gives the pixels cfitsio gives, bit for bit, for float images
    /// and for scaled integer images with BLANK (which become NaN).
    /// A FITS file of float32 pixels, in the order given, after these header cards.
    fn fits_bytes(cards: &[String], pixels: &[f32]) -> Vec<u8> {
        let mut file: Vec<u8> = cards
            .iter()
            .chain(std::iter::once(&"END".to_string()))
            .flat_map(|c| format!("{c:<80}").into_bytes())
            .collect();
        file.resize(file.len().div_ceil(BLOCK) * BLOCK, b' ');
        for v in pixels {
            file.extend_from_slice(&v.to_be_bytes());
        }
        file.resize(file.len().div_ceil(BLOCK) * BLOCK, 0);
        file
    }

    /// The same sky written with its four axes in different orders (DEC before RA, FREQ and
    /// STOKES first, a CD matrix with a rotation and non-square pixels) reads as the same
    /// image: the same pixels at the same sky positions.
    #[test]
    fn any_axis_order_reads_the_same_sky() {
        let (nx, ny) = (40usize, 30usize);
        let value = |x: usize, y: usize| (x * 100 + y) as f32;
        // Per axis: CTYPE, NAXIS, CRVAL, CRPIX, and its row of the CD matrix.
        let axes = [
            ("RA---SIN", nx, 150.0, 20.5, [-0.001, 0.0002]),
            ("DEC--SIN", ny, 30.0, 15.5, [0.0003, 0.0015]),
            ("FREQ", 1, 1.4e8, 1.0, [0.0, 0.0]),
            ("STOKES", 1, 1.0, 1.0, [0.0, 0.0]),
        ];
        let write = |order: [usize; 4]| {
            let mut cards = vec![
                "SIMPLE  =                    T".to_string(),
                "BITPIX  =                  -32".to_string(),
                "NAXIS   =                    4".to_string(),
            ];
            for (n, &a) in order.iter().enumerate() {
                cards.push(format!("NAXIS{}  = {:>20}", n + 1, axes[a].1));
            }
            for (n, &a) in order.iter().enumerate() {
                let (ctype, _, crval, crpix, _) = axes[a];
                cards.push(format!("CTYPE{}  = '{ctype}'", n + 1));
                cards.push(format!("CRVAL{}  = {crval:>20}", n + 1));
                cards.push(format!("CRPIX{}  = {crpix:>20}", n + 1));
                for (m, &b) in order.iter().enumerate() {
                    let cd = if a < 2 && b < 2 {
                        axes[a].4[b]
                    } else if a == b {
                        1.0
                    } else {
                        0.0
                    };
                    cards.push(format!("{:<8}= {cd:>20}", format!("CD{}_{}", n + 1, m + 1)));
                }
            }
            cards.extend([
                "BMAJ    =                0.005".to_string(),
                "BMIN    =                0.004".to_string(),
                "BPA     =                 10.0".to_string(),
            ]);
            // Pixels in file order: the first axis varies fastest.
            let (pos_ra, pos_dec) = (
                order.iter().position(|&a| a == 0).unwrap(),
                order.iter().position(|&a| a == 1).unwrap(),
            );
            let pixels: Vec<f32> = if pos_ra < pos_dec {
                (0..ny)
                    .flat_map(|y| (0..nx).map(move |x| value(x, y)))
                    .collect()
            } else {
                (0..nx)
                    .flat_map(|x| (0..ny).map(move |y| value(x, y)))
                    .collect()
            };
            parse(&fits_bytes(&cards, &pixels)).unwrap()
        };
        let reference = write([0, 1, 2, 3]);
        assert_eq!(reference.data.dim(), (ny, nx));
        assert_eq!(reference.data[[7, 3]], value(3, 7));
        for order in [[1, 0, 2, 3], [2, 3, 0, 1], [3, 1, 2, 0], [2, 1, 3, 0]] {
            let image = write(order);
            assert_eq!(image.data, reference.data, "pixels, axis order {order:?}");
            for (x, y) in [(0.0, 0.0), (39.0, 0.0), (12.3, 25.7), (39.0, 29.0)] {
                let want = reference.wcs.pixel_to_sky(x, y).unwrap();
                let got = image.wcs.pixel_to_sky(x, y).unwrap();
                assert!(
                    (got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12,
                    "axis order {order:?}: pixel ({x}, {y}) at {got:?}, not {want:?}"
                );
            }
            assert_eq!(image.meta.freq_eff, 1.4e8, "axis order {order:?}");
        }
    }

    /// A small image's cards (beam and time included) and pixels, each pixel different.
    fn small_image() -> (Vec<String>, Vec<f32>) {
        let cards = [
            "SIMPLE  =                    T",
            "BITPIX  =                  -32",
            "NAXIS   =                    2",
            "NAXIS1  =                   20",
            "NAXIS2  =                   10",
            "CTYPE1  = 'RA---SIN'",
            "CTYPE2  = 'DEC--SIN'",
            "CRVAL1  =                 10.0",
            "CRVAL2  =                -30.0",
            "CRPIX1  =                 10.0",
            "CRPIX2  =                  5.0",
            "CDELT1  =              -0.001",
            "CDELT2  =               0.001",
            "BMAJ    =                0.005",
            "BMIN    =                0.004",
            "BPA     =                 10.0",
            "RESTFRQ =             1.4E+09",
            "DATE-OBS= '2026-01-02T03:04:05'",
        ];
        let pixels = (0..200).map(|i| i as f32 * 0.5 - 7.0).collect();
        (cards.iter().map(|c| c.to_string()).collect(), pixels)
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("skytrap-fits-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A gzip-compressed file reads as the file it holds, whatever its name; one cut short
    /// is refused as truncated by `describe` (before anything is loaded) and by `read`.
    #[test]
    fn gzip_compressed_files_read_as_the_file_they_hold() {
        let (cards, pixels) = small_image();
        let plain = fits_bytes(&cards, &pixels);
        let reference = parse(&plain).unwrap();
        let dir = scratch("gzip");
        let packed = gzip(&plain);
        for name in ["image.fits.gz", "image.fits"] {
            let path = dir.join(name);
            std::fs::write(&path, &packed).unwrap();
            let image = read(&path).unwrap();
            assert_eq!(image.data, reference.data, "{name}");
            assert_eq!(image.meta.date_obs.as_deref(), Some("2026-01-02T03:04:05"));
            let described = describe(&path).unwrap();
            assert_eq!((described.nx, described.ny), (20, 10));
        }
        // The pixel data ends 400 bytes early: the last 100 of 200 pixels are missing.
        let short = gzip(&plain[..2880 + 400]);
        let path = dir.join("short.fits.gz");
        std::fs::write(&path, short).unwrap();
        let described = format!("{:#}", describe(&path).err().unwrap());
        assert!(
            described.contains("truncated") && described.contains("400"),
            "{described}"
        );
        let read_error = format!("{:#}", read(&path).err().unwrap());
        assert!(
            read_error.contains("truncated") && read_error.contains("400 of 800"),
            "{read_error}"
        );
        // Not gzip after its first two bytes.
        let path = dir.join("corrupt.fits.gz");
        std::fs::write(&path, [&packed[..2], &[0u8; 100][..]].concat()).unwrap();
        assert!(read(&path).is_err() && describe(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// An image in the first extension after an empty primary HDU reads as the same image
    /// in a primary HDU; with INHERIT = T the primary header's keywords (here the beam, the
    /// frequency and the time) count, the extension's winning where both have one.
    #[test]
    fn an_image_extension_after_an_empty_primary_is_read() {
        let (cards, pixels) = small_image();
        let reference = parse(&fits_bytes(&cards, &pixels)).unwrap();
        let primary_only = |c: &String| {
            ["BMAJ", "BMIN", "BPA", "RESTFRQ", "DATE-OBS"]
                .iter()
                .any(|k| c.starts_with(k))
        };
        let primary = fits_bytes(
            &[
                "SIMPLE  =                    T".to_string(),
                "BITPIX  =                    8".to_string(),
                "NAXIS   =                    0".to_string(),
                "EXTEND  =                    T".to_string(),
                // Overridden by the extension's own CRVAL1.
                "CRVAL1  =                 99.0".to_string(),
            ]
            .into_iter()
            .chain(cards.iter().filter(|c| primary_only(c)).cloned())
            .collect::<Vec<_>>(),
            &[],
        );
        let extension = |inherit: bool, kind: &str| {
            let mut ext: Vec<String> = vec![format!("XTENSION= '{kind}'")];
            ext.extend(cards[1..5].iter().cloned());
            ext.push("PCOUNT  =                    0".into());
            ext.push("GCOUNT  =                    1".into());
            if inherit {
                ext.push("INHERIT =                    T".into());
            }
            ext.extend(cards[5..].iter().filter(|c| !primary_only(c)).cloned());
            [primary.clone(), fits_bytes(&ext, &pixels)].concat()
        };
        let image = parse(&extension(true, "IMAGE   ")).unwrap();
        assert_eq!(image.data, reference.data);
        assert_eq!(
            image.wcs.pixel_to_sky(3.0, 4.0),
            reference.wcs.pixel_to_sky(3.0, 4.0)
        );
        assert_eq!((image.meta.bmaj, image.meta.freq_eff), (0.005, 1.4e9));
        assert_eq!(image.meta.date_obs.as_deref(), Some("2026-01-02T03:04:05"));
        // Without INHERIT the primary header's keywords are not the image's: no frequency.
        let alone = format!("{:#}", parse(&extension(false, "IMAGE")).err().unwrap());
        assert!(alone.contains("no frequency"), "{alone}");
        let table = format!("{:#}", parse(&extension(true, "BINTABLE")).err().unwrap());
        assert!(table.contains("BINTABLE, not an IMAGE"), "{table}");
        let nothing = format!("{:#}", parse(&primary).err().unwrap());
        assert!(nothing.contains("no extension follows"), "{nothing}");
    }

    #[test]
    fn pixels_match_cfitsio() {
        let dir = std::env::temp_dir().join(format!("skytrap-fits-agree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let settings = crate::simulate::Settings {
            epochs: 1,
            seed: 3,
            size: 64,
            variables: 0,
            transients: 0,
            anywhere: false,
        };
        let path = crate::simulate::simulate(&dir, &settings)
            .unwrap()
            .remove(0);
        let mut f = fitsio::FitsFile::open(&path).unwrap();
        let hdu = f.primary_hdu().unwrap();
        let theirs: ndarray::ArrayD<f32> = hdu.read_image(&mut f).unwrap();
        let ours = read(&path).unwrap().data;
        assert_eq!(theirs.len(), ours.len());
        for (a, b) in theirs.iter().zip(ours.iter()) {
            assert_eq!(a.to_bits(), b.to_bits());
        }

        // The same header as BITPIX 16 with BSCALE, BZERO and two BLANK pixels.
        let bytes = std::fs::read(&path).unwrap();
        let (cards, header_len) =
            read_header(&mut &bytes[..], Some(bytes.len() as u64), Hdu::Primary).unwrap();
        let mut text = String::new();
        for card in &cards {
            let card = match &card[..8] {
                "BITPIX  " => format!("{:<80}", "BITPIX  =                   16"),
                "BSCALE  " | "BZERO   " | "BLANK   " => continue,
                _ => card.clone(),
            };
            text.push_str(&card);
        }
        for extra in [
            "BSCALE  =              0.00025",
            "BZERO   =                  1.5",
            "BLANK   =                -32768",
            "END",
        ] {
            text.push_str(&format!("{extra:<80}"));
        }
        let mut file = text.into_bytes();
        file.resize(file.len().div_ceil(BLOCK) * BLOCK, b' ');
        let raw: Vec<i16> = (0..64 * 64)
            .map(|i| {
                if i % 1000 == 7 {
                    -32768
                } else {
                    (i % 3001) as i16 - 1500
                }
            })
            .collect();
        for v in &raw {
            file.extend_from_slice(&v.to_be_bytes());
        }
        file.resize(file.len().div_ceil(BLOCK) * BLOCK, 0);
        let int_path = dir.join("int16.fits");
        std::fs::write(&int_path, &file).unwrap();
        let ours = read(&int_path).unwrap().data;
        for (v, o) in raw.iter().zip(ours.iter()) {
            if *v == -32768 {
                assert!(o.is_nan());
            } else {
                assert_eq!(*o, (1.5 + 0.00025 * f64::from(*v)) as f32);
            }
        }
        assert_eq!(ours.len(), 64 * 64);
        assert!(header_len > 0);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
