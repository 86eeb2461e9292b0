//! A bounded, deterministic fuzz of reading and extracting FITS files, run by `make test`:
//! seeded mutations of a valid 64 x 64 image (byte flips in header and pixels, cards
//! deleted, duplicated and swapped, numeric values replaced by extremes and garbage,
//! truncation, garbage appended). Every case must end in an image with its sources or in
//! one error line that names the reason; none may panic.
//!
//! Size: CASES = 20 000 mutated files of about 20 KB (4-5 s in release on one core of
//! the 2-core CI machine). The seed is fixed, so a failure names a case that reproduces.
//! The unbounded version of this is `tests/fuzz/run.sh` (cargo-fuzz).

use skytrap_loader::extract::{self, Params};
use skytrap_loader::image::fits;
use std::panic::{catch_unwind, AssertUnwindSafe};

const CASES: u64 = 20_000;
const SEED: u64 = 0x5eed_f175;
const N: usize = 64;

/// xorshift64*: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn normal(&mut self) -> f64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64 + 1e-300;
        let v = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn card(text: &str) -> Vec<u8> {
    format!("{text:<80}").into_bytes()
}

fn base_cards() -> Vec<Vec<u8>> {
    [
        "SIMPLE  =                    T",
        "BITPIX  =                  -32",
        "NAXIS   =                    4",
        "NAXIS1  =                   64",
        "NAXIS2  =                   64",
        "NAXIS3  =                    1",
        "NAXIS4  =                    1",
        "BSCALE  =                  1.0",
        "BZERO   =                  0.0",
        "BMAJ    =  6.9444444444444E-03",
        "BMIN    =  5.5555555555556E-03",
        "BPA     =                 30.0",
        "CTYPE1  = 'RA---SIN'",
        "CRVAL1  =                123.4",
        "CDELT1  = -1.3888888888889E-03",
        "CRPIX1  =                 33.0",
        "CTYPE2  = 'DEC--SIN'",
        "CRVAL2  =                 56.7",
        "CDELT2  =  1.3888888888889E-03",
        "CRPIX2  =                 33.0",
        "CTYPE3  = 'FREQ    '",
        "CRVAL3  =            1.4000E+8",
        "CDELT3  =            2.0000E+5",
        "CRPIX3  =                  1.0",
        "CTYPE4  = 'STOKES  '",
        "CRVAL4  =                  1.0",
        "DATE-OBS= '2026-01-01T00:00:00.0'",
        "HISTORY AIPS   CLEAN BMAJ=  6.9444E-03 BMIN=  5.5556E-03 BPA=  30.00",
    ]
    .iter()
    .map(|c| card(c))
    .collect()
}

fn base_pixels() -> Vec<f32> {
    let mut rng = Rng(12345);
    let mut data: Vec<f32> = (0..N * N).map(|_| (0.001 * rng.normal()) as f32).collect();
    for (x0, y0, peak) in [(20.3, 22.6, 0.05), (44.8, 40.1, 0.03)] {
        for y in 0..N {
            for x in 0..N {
                let (dx, dy) = (x as f64 - x0, y as f64 - y0);
                data[y * N + x] += (peak * (-(dx * dx + dy * dy) / (2.0 * 2.0 * 2.0)).exp()) as f32;
            }
        }
    }
    data
}

fn serialise(cards: &[Vec<u8>], pixels: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = cards.iter().flatten().copied().collect();
    out.extend(card("END"));
    out.resize(out.len().div_ceil(2880) * 2880, b' ');
    out.extend_from_slice(pixels);
    out.resize(out.len().div_ceil(2880) * 2880, 0);
    out
}

const EXTREMES: &[&str] = &[
    "0",
    "-0.0",
    "1",
    "-1",
    "1.5",
    "2",
    "3",
    "65536",
    "65537",
    "1E308",
    "-1E308",
    "1E-308",
    "5E-324",
    "2147483648",
    "-2147483649",
    "9.3E18",
    "999999999999999",
    "NaN",
    "inf",
    "-inf",
    "1.2.3",
    "'text'",
    "T",
    "",
    "'",
    "90.0000001",
    "-32",
    "12",
];

/// One mutated file, and what was done to it.
fn mutate(rng: &mut Rng, cards: &[Vec<u8>], pixels: &[u8]) -> (Vec<u8>, String) {
    let mut cards = cards.to_vec();
    let mut pixels = pixels.to_vec();
    let mut what = Vec::new();
    for _ in 0..1 + rng.below(3) {
        match rng.below(9) {
            0 if !cards.is_empty() => {
                let i = rng.below(cards.len());
                what.push(format!("delete card {i}"));
                cards.remove(i);
            }
            1 if !cards.is_empty() => {
                let (i, j) = (rng.below(cards.len()), rng.below(cards.len() + 1));
                what.push(format!("duplicate card {i} at {j}"));
                let c = cards[i].clone();
                cards.insert(j, c);
            }
            2 if cards.len() > 1 => {
                let (i, j) = (rng.below(cards.len()), rng.below(cards.len()));
                what.push(format!("swap cards {i} and {j}"));
                cards.swap(i, j);
            }
            3 | 4 if !cards.is_empty() => {
                let i = rng.below(cards.len());
                let value = EXTREMES[rng.below(EXTREMES.len())];
                what.push(format!("card {i} value {value}"));
                let key = String::from_utf8_lossy(&cards[i][..8]).into_owned();
                cards[i] = card(&format!("{key}= {value:>20}"));
            }
            5 if !cards.is_empty() => {
                let i = rng.below(cards.len());
                let at = rng.below(80);
                let byte = rng.next() as u8;
                what.push(format!("card {i} byte {at} = {byte}"));
                cards[i][at] = byte;
            }
            6 if !pixels.is_empty() => {
                let value = [
                    f32::NAN,
                    f32::INFINITY,
                    -f32::INFINITY,
                    1e38,
                    -1e38,
                    0.0,
                    1e-45,
                ][rng.below(7)];
                let most = if rng.below(4) == 0 { N * N } else { 50 };
                let count = 1 + rng.below(most);
                what.push(format!("{count} pixels = {value}"));
                for _ in 0..count {
                    let p = rng.below(N * N) * 4;
                    pixels[p..p + 4].copy_from_slice(&value.to_be_bytes());
                }
            }
            _ => {}
        }
    }
    let mut file = serialise(&cards, &pixels);
    match rng.below(8) {
        0 => {
            let len = rng.below(file.len());
            what.push(format!("truncate at {len}"));
            file.truncate(len);
        }
        1 => {
            let at = rng.below(file.len());
            let byte = rng.next() as u8;
            what.push(format!("byte {at} = {byte}"));
            file[at] = byte;
        }
        2 => {
            what.push("garbage appended".into());
            file.extend((0..rng.below(5000)).map(|_| rng.next() as u8));
        }
        _ => {}
    }
    (file, what.join(", "))
}

/// Words of which every error message must contain one: the keyword or the property
/// that is wrong.
const REASONS: &[&str] = &[
    "SIMPLE",
    "END",
    "BITPIX",
    "NAXIS",
    "truncated",
    "BSCALE",
    "BZERO",
    "BLANK",
    "CTYPE",
    "CRVAL",
    "CRPIX",
    "CDELT",
    "CD",
    "PC",
    "CROTA",
    "PV2",
    "LONPOLE",
    "projection",
    "BMAJ",
    "BMIN",
    "BPA",
    "beam",
    "frequency",
    "FREQ",
    "RESTFRQ",
    "RESTBW",
    "flat",
    "NaN",
    "infinite",
    "noise",
    "margin",
    "background",
    "centre",
    "empty",
];

#[test]
fn mutated_files_never_panic_and_every_error_names_its_reason() {
    let cards = base_cards();
    let pixels: Vec<u8> = base_pixels().iter().flat_map(|v| v.to_be_bytes()).collect();
    let params = Params {
        back_size: 32,
        margin: 4,
        ..Params::default()
    };
    let base = fits::parse(&serialise(&cards, &pixels)).unwrap();
    assert_eq!(extract::extract(&base, &params).unwrap().sources.len(), 2);

    let started = std::time::Instant::now();
    let mut rng = Rng(SEED);
    let (mut ok, mut errors) = (0, 0);
    for case in 0..CASES {
        let (file, what) = mutate(&mut rng, &cards, &pixels);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let image = fits::parse(&file)?;
            let extraction = extract::extract(&image, &params)?;
            let _ = extract::geometry(&image, &params)?;
            // What load needs besides: the time (an error here is load's, not extract's).
            if let Err(e) = fits::observation_time(&image.meta) {
                anyhow::ensure!(format!("{e:#}").contains("DATE-OBS"), "time: {e:#}");
            }
            for s in &extraction.sources {
                anyhow::ensure!(
                    s.ra.is_finite() && s.dec.is_finite(),
                    "non-finite position {s:?}"
                );
            }
            Ok(extraction.sources.len())
        }));
        match outcome {
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("case {case} ({what}) panicked: {message}");
            }
            Ok(Ok(_)) => ok += 1,
            Ok(Err(e)) => {
                let message = format!("{e:#}");
                assert!(
                    !message.is_empty() && !message.contains('\n'),
                    "case {case} ({what}): not one line: {message:?}"
                );
                assert!(
                    REASONS.iter().any(|r| message.contains(r)),
                    "case {case} ({what}): the error names no reason: {message}"
                );
                assert!(
                    !message.contains("non-finite position"),
                    "case {case} ({what}): {message}"
                );
                errors += 1;
            }
        }
    }
    // Neither outcome may dominate so much that the other is barely tested.
    assert!(
        ok > CASES / 10 && errors > CASES / 10,
        "{ok} ok, {errors} errors"
    );
    eprintln!(
        "{CASES} cases: {ok} read and extracted, {errors} clean errors, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
