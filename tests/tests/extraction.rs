//! The extractor against the simulator's truth, and `skytrap extract` as a command.

use skytrap_core::sky;
use skytrap_loader::extract::{self, Params};
use skytrap_loader::image::fits;
use skytrap_loader::simulate::{self, Settings, NOISE};
use skytrap_tests::{extract_csv_rows, read_truth, scratch_dir, skytrap};

/// Beam FWHM of the simulator, arcsec (major axis).
const BEAM_ARCSEC: f64 = 25.0;

#[test]
fn bright_isolated_sources_are_found_and_measured() {
    let dir = scratch_dir("extract-truth");
    let settings = Settings {
        epochs: 1,
        seed: 2024,
        size: 768,
        variables: 4,
        transients: 3,
        anywhere: false,
    };
    let paths = simulate::simulate(&dir, &settings).unwrap();
    let image = fits::read(&paths[0]).unwrap();
    let found = extract::extract(&image, &Params::default())
        .unwrap()
        .sources;
    let truth: Vec<_> = read_truth(&dir)
        .into_iter()
        .filter(|t| t.flux > 0.0)
        .collect();
    assert!(truth.len() > 100, "only {} injected sources", truth.len());

    let mut ratios = Vec::new();
    for t in &truth {
        let nearest = found
            .iter()
            .map(|s| (sky::distance(s.ra, s.dec, t.ra, t.dec) * 3600.0, s))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let (offset, s) = nearest.unwrap_or_else(|| panic!("{t:?} not found"));
        // Every injected source is at least 20 sigma: all must be found, within a tenth
        // of a beam, with a peak within 5 of its own standard errors of the truth.
        assert!(offset < 0.1 * BEAM_ARCSEC, "{t:?}: {offset} arcsec off");
        assert!(
            (s.peak - t.flux).abs() < 5.0 * s.peak_err,
            "{t:?}: peak {} ± {}",
            s.peak,
            s.peak_err
        );
        // Condon's peak error for a point source is the noise itself.
        assert!(
            (s.peak_err / NOISE - 1.0).abs() < 0.2,
            "peak_err {}",
            s.peak_err
        );
        ratios.push(s.flux / t.flux);
    }
    // Nothing spurious: every detection is an injected source.
    for s in &found {
        assert!(
            truth
                .iter()
                .any(|t| sky::distance(s.ra, s.dec, t.ra, t.dec) * 3600.0 < 0.2 * BEAM_ARCSEC),
            "spurious detection {s:?}"
        );
    }
    // Integrated flux is unbiased to 2 % (median over the field).
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    assert!((median - 1.0).abs() < 0.02, "median flux ratio {median}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn extract_prints_the_documented_csv_columns() {
    let dir = scratch_dir("extract-cli");
    let paths = simulate::simulate(
        &dir,
        &Settings {
            epochs: 1,
            seed: 5,
            size: 256,
            variables: 4,
            transients: 3,
            anywhere: false,
        },
    )
    .unwrap();
    let out = skytrap().arg("extract").arg(&paths[0]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows = extract_csv_rows(&text);
    let injected = read_truth(&dir).iter().filter(|t| t.flux > 0.0).count();
    assert_eq!(rows.len(), injected);
    for r in &rows {
        // The simulator's beam: 25" × 20" FWHM at PA 30°, so HWHM 12.5" × 10".
        assert!(
            (r[8] - 12.5).abs() < 1.5 && (r[9] - 10.0).abs() < 1.5,
            "{r:?}"
        );
        assert!((r[10] - 30.0).abs() < 10.0, "{r:?}");
        assert!(r[11] > 8.0);
    }
    let json = skytrap()
        .args(["extract", "--format", "json"])
        .arg(&paths[0])
        .output()
        .unwrap();
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8(json.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!((first["ra"].as_f64().unwrap() - rows[0][0]).abs() < 1e-6);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_files_name_the_file_and_the_reason() {
    let dir = scratch_dir("extract-bad");
    let good = simulate::simulate(
        &dir,
        &Settings {
            epochs: 1,
            seed: 9,
            size: 128,
            variables: 4,
            transients: 3,
            anywhere: false,
        },
    )
    .unwrap()
    .remove(0);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.join("truncated.fits");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let no_wcs = dir.join("no_wcs.fits");
    std::fs::write(
        &no_wcs,
        skytrap_tests::minimal_fits(
            64,
            64,
            &[
                "BMAJ    =                0.01",
                "BMIN    =                0.01",
                "RESTFRQ =             1.4E+09",
            ],
            1.0,
        ),
    )
    .unwrap();
    let empty = dir.join("empty.fits");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.join("notes.fits");
    std::fs::write(&text, "this is not FITS\n".repeat(200)).unwrap();
    for (file, reason) in [
        (&truncated, "truncated"),
        (&no_wcs, "CTYPE1"),
        (&empty, "empty"),
        (&text, "not a readable FITS file"),
    ] {
        let out = skytrap().arg("extract").arg(file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&file.display().to_string()), "{stderr}");
        assert!(stderr.contains(reason), "expected '{reason}' in: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(out.stdout.is_empty(), "no partial catalogue on stdout");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The simulated ASKAP epochs come with catalogues from ASKAP's own finder, Selavy: an
/// independent measurement of the same beam-shaped sources.
#[test]
fn simulated_askap_images_agree_with_selavy() {
    let dir = skytrap_tests::fits_dir().join("sim_multiepoch_vast");
    // Epoch 02 has a 12" pair that a finder without deblending blends into one source.
    for epoch in ["01", "03", "04"] {
        let image = fits::read(&dir.join(format!("sim_ASKAP_epoch{epoch}.fits"))).unwrap();
        let found = extract::extract(&image, &Params::default())
            .unwrap()
            .sources;
        let text = std::fs::read_to_string(
            dir.join(format!("sim_ASKAP_epoch{epoch}.selavy.components.txt")),
        )
        .unwrap();
        let selavy: Vec<(f64, f64, f64, f64)> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<f64> = l
                    .split_whitespace()
                    .skip(5)
                    .take(8)
                    .map(|v| v.parse().unwrap())
                    .collect();
                // ra, dec (deg), peak (mJy/beam), integrated flux (mJy)
                (f[0], f[1], f[5] / 1000.0, f[7] / 1000.0)
            })
            .collect();
        assert_eq!(found.len(), selavy.len(), "epoch {epoch}");
        for (ra, dec, peak, flux) in selavy {
            let s = found
                .iter()
                .min_by(|a, b| {
                    sky::distance(a.ra, a.dec, ra, dec)
                        .total_cmp(&sky::distance(b.ra, b.dec, ra, dec))
                })
                .unwrap();
            assert!(
                sky::distance(s.ra, s.dec, ra, dec) * 3600.0 < 0.05,
                "epoch {epoch}: {s:?}"
            );
            assert!(
                (s.peak / peak - 1.0).abs() < 1e-3,
                "epoch {epoch}: peak {} vs {peak}",
                s.peak
            );
            assert!(
                (s.flux / flux - 1.0).abs() < 2e-3,
                "epoch {epoch}: flux {} vs {flux}",
                s.flux
            );
        }
    }
}

/// PySE's rms_filter: where the noise is under a thousandth of the image's median (the
/// near-empty outer circle AWImager leaves), nothing is analysed, although the sources
/// there keep their signal-to-noise ratio.
#[test]
fn regions_of_near_zero_noise_are_not_analysed() {
    let dir = scratch_dir("extract-rms-filter");
    let settings = Settings {
        epochs: 1,
        seed: 7,
        size: 512,
        variables: 0,
        transients: 0,
        anywhere: false,
    };
    let paths = simulate::simulate(&dir, &settings).unwrap();
    let mut image = fits::read(&paths[0]).unwrap();
    // The left 160 columns scaled down a million times: noise and sources alike.
    const EDGE: usize = 160;
    for ((_, x), v) in image.data.indexed_iter_mut() {
        if x < EDGE {
            *v *= 1e-6;
        }
    }
    let truth = read_truth(&dir);
    let quiet: Vec<_> = truth
        .iter()
        .filter(|t| {
            image
                .wcs
                .sky_to_pixel(t.ra, t.dec)
                .is_some_and(|(x, _)| x < EDGE as f64 - 30.0)
        })
        .collect();
    assert!(!quiet.is_empty(), "no injected source in the quiet region");
    let found = extract::extract(&image, &Params::default())
        .unwrap()
        .sources;
    assert!(
        found.iter().all(|s| s.x >= EDGE as f64 - 30.0),
        "a source found in the near-zero-noise region: {:?}",
        found
            .iter()
            .filter(|s| s.x < EDGE as f64 - 30.0)
            .collect::<Vec<_>>()
    );
    let loud = truth
        .iter()
        .filter(|t| {
            image
                .wcs
                .sky_to_pixel(t.ra, t.dec)
                .is_some_and(|(x, _)| x > EDGE as f64 + 60.0)
        })
        .count();
    assert!(
        found.len() >= loud,
        "{} found, {loud} injected in the normal region",
        found.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--moments` (PySE's vectorised mode): no least-squares fit, the tweaked moments and
/// their errors. On the simulator's sky every bright source is found where it is, fluxes
/// are unbiased, and the errors describe the scatter (the pulls against the truth have a
/// spread near 1).
#[test]
fn moments_mode_measures_without_fitting() {
    let dir = scratch_dir("extract-moments");
    let settings = Settings {
        epochs: 1,
        seed: 2024,
        size: 768,
        variables: 4,
        transients: 3,
        anywhere: false,
    };
    let paths = simulate::simulate(&dir, &settings).unwrap();
    let image = fits::read(&paths[0]).unwrap();
    let params = Params {
        moments_only: true,
        ..Params::default()
    };
    let found = extract::extract(&image, &params).unwrap().sources;
    assert!(found.iter().all(|s| !s.fitted));
    let truth: Vec<_> = read_truth(&dir)
        .into_iter()
        .filter(|t| t.flux > 0.0)
        .collect();
    let (mut pulls, mut ratios) = (Vec::new(), Vec::new());
    for t in &truth {
        let (offset, s) = found
            .iter()
            .map(|s| (sky::distance(s.ra, s.dec, t.ra, t.dec) * 3600.0, s))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap();
        assert!(offset < 0.1 * BEAM_ARCSEC, "{t:?}: {offset} arcsec off");
        pulls.push((s.peak - t.flux) / s.peak_err);
        ratios.push(s.flux / t.flux);
    }
    ratios.sort_by(f64::total_cmp);
    let median_ratio = ratios[ratios.len() / 2];
    let mean = pulls.iter().sum::<f64>() / pulls.len() as f64;
    let spread =
        (pulls.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / pulls.len() as f64).sqrt();
    eprintln!(
        "moments mode: {} sources, median flux ratio {median_ratio:.4}, peak pulls \
         {mean:.2} ± {spread:.2}",
        truth.len()
    );
    assert!(
        (median_ratio - 1.0).abs() < 0.02,
        "median flux ratio {median_ratio}"
    );
    assert!(
        mean.abs() < 1.0 && (0.5..2.0).contains(&spread),
        "peak pulls {mean} ± {spread}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// `--clean-bias` adds PySE's CLEAN bias to every peak (and scales the flux with it);
/// `--frac-flux-cal-error` widens every peak error.
#[test]
fn clean_bias_and_calibration_error_reach_the_output() {
    let dir = scratch_dir("extract-clean-bias");
    let settings = Settings {
        epochs: 1,
        seed: 5,
        size: 256,
        variables: 0,
        transients: 0,
        anywhere: false,
    };
    let paths = simulate::simulate(&dir, &settings).unwrap();
    let run = |extra: &[&str]| -> Vec<serde_json::Value> {
        let out = skytrap()
            .arg("extract")
            .arg(&paths[0])
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let plain = run(&[]);
    let biased = run(&[
        "--clean-bias",
        "0.01",
        "--clean-bias-error",
        "0.002",
        "--frac-flux-cal-error",
        "0.05",
    ]);
    assert!(!plain.is_empty());
    assert_eq!(plain.len(), biased.len());
    for (a, b) in plain.iter().zip(&biased) {
        let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
        // PySE's formulae (reference §7.7) from the plain measurement: A′ = A + 0.01,
        // σ_A′² = (0.05·A′)² + 0.002² + (σ_A·A′/A)², S′ = S·A′/A, and the flux error keeps
        // its shape terms: (σ_S′/S′)² = (σ_A′/A′)² + (σ_S/S)² − (σ_A/A)².
        let (peak, peak_err) = (f(a, "peak"), f(a, "peak_err"));
        let (flux, flux_err) = (f(a, "flux"), f(a, "flux_err"));
        let biased_peak = peak + 0.01;
        let want_peak_err = ((0.05 * biased_peak).powi(2)
            + 0.002f64.powi(2)
            + (peak_err * biased_peak / peak).powi(2))
        .sqrt();
        let want_flux = flux * biased_peak / peak;
        let shape = (flux_err / flux).powi(2) - (peak_err / peak).powi(2);
        let want_flux_err = want_flux * ((want_peak_err / biased_peak).powi(2) + shape).sqrt();
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-9 * want.abs();
        assert!(close(f(b, "peak"), biased_peak), "{b}");
        assert!(
            close(f(b, "peak_err"), want_peak_err),
            "{b}: want {want_peak_err}"
        );
        assert!(close(f(b, "flux"), want_flux), "{b}");
        assert!(
            close(f(b, "flux_err"), want_flux_err),
            "{b}: want {want_flux_err}"
        );
    }
    // Forced fits at the same places get the same terms, as PySE's fit_to_point does.
    // (Their peaks are skytrap's, not compared with PySE's: PySE's forced model sits up
    // to half a pixel off the position, forced.rs.)
    let positions = dir.join("positions.csv");
    let lines: Vec<String> = plain
        .iter()
        .map(|s| format!("{},{}", s["ra"], s["dec"]))
        .collect();
    std::fs::write(&positions, lines.join("\n")).unwrap();
    let at = ["--at".to_string(), positions.display().to_string()];
    let forced = run(&[&at[0], &at[1]]);
    let forced_biased = run(&[
        &at[0],
        &at[1],
        "--clean-bias",
        "0.01",
        "--clean-bias-error",
        "0.002",
        "--frac-flux-cal-error",
        "0.05",
    ]);
    assert_eq!(forced.len(), plain.len());
    for (a, b) in forced.iter().zip(&forced_biased) {
        let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
        let (peak, peak_err) = (f(a, "peak"), f(a, "peak_err"));
        let biased_peak = peak + 0.01;
        let want_peak_err = ((0.05 * biased_peak).powi(2)
            + 0.002f64.powi(2)
            + (peak_err * biased_peak / peak).powi(2))
        .sqrt();
        assert!(
            (f(b, "peak") - biased_peak).abs() <= 1e-9 * biased_peak,
            "{b}"
        );
        assert!(
            (f(b, "peak_err") - want_peak_err).abs() <= 1e-9 * want_peak_err,
            "{b}: want {want_peak_err}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// The catalogue row (ra, dec first) nearest (ra, dec).
fn nearest(rows: &[Vec<f64>], ra: f64, dec: f64) -> &Vec<f64> {
    rows.iter()
        .min_by(|p, q| {
            sky::distance(p[0], p[1], ra, dec).total_cmp(&sky::distance(q[0], q[1], ra, dec))
        })
        .unwrap()
}

/// One sky seen through four pixel grids: north up with square 5″ pixels, rotated by
/// CROTA2 = 30°, with the RA axis mirrored (CDELT1 > 0), and with pixels twice as long in
/// x (6″ × 3″). The images are rendered on the sky, not in pixels: each pixel's value is
/// the sky Gaussian (a 30″ × 15″ beam at PA 45°) at the pixel's position through the WCS,
/// which the unit tests check against astropy. Every grid must give the same catalogue,
/// with shapes fitted and with `--force-beam` (where a beam taken as north up and square
/// made the mirrored grid's peaks 20 % low and the non-square one's 20 %).
#[test]
fn rotated_mirrored_and_non_square_grids_give_one_catalogue() {
    let dir = scratch_dir("extract-grids");
    let (bmaj, bmin, bpa) = (30.0 / 3600.0, 15.0 / 3600.0, 45f64.to_radians());
    let fwhm_to_sigma = 1.0 / (8.0 * std::f64::consts::LN_2).sqrt();
    // Sky covariance of the beam in (east, north), degrees².
    let (s, c) = bpa.sin_cos();
    let (a, b) = (
        (bmaj * fwhm_to_sigma).powi(2),
        (bmin * fwhm_to_sigma).powi(2),
    );
    let cov = [
        [a * s * s + b * c * c, (a - b) * s * c],
        [(a - b) * s * c, a * c * c + b * s * s],
    ];
    let det = cov[0][0] * cov[1][1] - cov[0][1] * cov[0][1];
    let (centre_ra, centre_dec): (f64, f64) = (123.4, 56.7);
    // Five sources of 0.1 to 0.5 Jy/beam around the centre, 100 to 500 sigma.
    let sources: Vec<(f64, f64, f64)> = (0..5)
        .map(|k| {
            let t = k as f64 * 1.3;
            let r = 0.01 + 0.008 * k as f64;
            (
                centre_ra + r * t.cos() / centre_dec.to_radians().cos(),
                centre_dec + r * t.sin(),
                0.1 * (k + 1) as f64,
            )
        })
        .collect();
    let grids: [(&str, f64, f64, f64); 4] = [
        ("north_up", -5.0, 5.0, 0.0),
        ("crota2_30", -5.0, 5.0, 30.0),
        ("mirrored", 5.0, 5.0, 0.0),
        ("non_square", -6.0, 3.0, 0.0),
    ];
    let n = 128usize;
    let card = |key: &str, value: String| format!("{key:<8}= {value:>20}");
    let mut catalogues = Vec::new();
    for (name, cdelt1, cdelt2, crota2) in grids {
        let cards = [
            card("CTYPE1", "'RA---SIN'".into()),
            card("CRVAL1", format!("{centre_ra}")),
            card("CDELT1", format!("{}", cdelt1 / 3600.0)),
            card("CRPIX1", "64.5".into()),
            card("CTYPE2", "'DEC--SIN'".into()),
            card("CRVAL2", format!("{centre_dec}")),
            card("CDELT2", format!("{}", cdelt2 / 3600.0)),
            card("CRPIX2", "64.5".into()),
            card("CROTA2", format!("{crota2}")),
            card("BMAJ", format!("{bmaj}")),
            card("BMIN", format!("{bmin}")),
            card("BPA", "45.0".into()),
            card("RESTFRQ", "1.5E+08".into()),
        ];
        let refs: Vec<&str> = cards.iter().map(String::as_str).collect();
        let mut bytes = skytrap_tests::minimal_fits(n, n, &refs, 0.0);
        let path = dir.join(format!("{name}.fits"));
        std::fs::write(&path, &bytes).unwrap();
        let wcs = fits::read(&path).unwrap().wcs;
        let start = ((5 + cards.len() + 1) * 80).div_ceil(2880) * 2880;
        let mut state = 777u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        for y in 0..n {
            for x in 0..n {
                let noise =
                    (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
                let (ra, dec) = wcs.pixel_to_sky(x as f64, y as f64).unwrap();
                let mut v = 0.001 * noise;
                for &(sra, sdec, peak) in &sources {
                    let (e, no) = sky::tangent_offsets(sra, sdec, ra, dec);
                    let q =
                        (cov[1][1] * e * e - 2.0 * cov[0][1] * e * no + cov[0][0] * no * no) / det;
                    v += peak * (-0.5 * q).exp();
                }
                let at = start + 4 * (y * n + x);
                bytes[at..at + 4].copy_from_slice(&(v as f32).to_be_bytes());
            }
        }
        std::fs::write(&path, bytes).unwrap();
        let mut rows = Vec::new();
        for extra in [&[][..], &["--force-beam"][..]] {
            // A switch right before the image takes no value from it.
            let out = skytrap()
                .arg("extract")
                .args(["--margin", "0", "--back-size", "32"])
                .args(extra)
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            rows.push(extract_csv_rows(&String::from_utf8_lossy(&out.stdout)));
        }
        catalogues.push((name, rows));
    }
    // Columns: ra,dec,ra_err,dec_err,peak,peak_err,flux,flux_err,smaj,smin,pa,...
    for (mode, label) in ["fitted", "force_beam"].iter().enumerate() {
        for (name, rows) in &catalogues {
            let found = &rows[mode];
            assert_eq!(found.len(), sources.len(), "{name} {label}: {found:?}");
            for &(ra, dec, peak) in &sources {
                let s = nearest(found, ra, dec);
                let offset = sky::distance(s[0], s[1], ra, dec) * 3600.0;
                let what = format!("{name} {label}, source of {peak} Jy");
                assert!(offset < 0.3, "{what}: {offset}″ off");
                assert!((s[4] / peak - 1.0).abs() < 0.02, "{what}: peak {}", s[4]);
                assert!((s[6] / peak - 1.0).abs() < 0.03, "{what}: flux {}", s[6]);
                assert!(
                    (s[8] - 15.0).abs() < 0.5 && (s[9] - 7.5).abs() < 0.3,
                    "{what}: axes {} {}",
                    s[8],
                    s[9]
                );
                let pa_off = (s[10] - 45.0 + 90.0).rem_euclid(180.0) - 90.0;
                assert!(pa_off.abs() < 2.0, "{what}: PA {}", s[10]);
                // The position's errors east (ra_err in RA, times cos δ) and north are the
                // same error ellipse's on every grid: within 10 % of the north-up grid's (the
                // noise, and so each grid's rms estimate, falls on other pixels).
                let reference = &catalogues[0].1[mode];
                let r = nearest(reference, ra, dec);
                let cos_dec = dec.to_radians().cos();
                for (k, axis) in [(2, "east"), (3, "north")] {
                    let scale = if k == 2 { cos_dec } else { 1.0 };
                    let (got, want) = (s[k] * scale, r[k] * scale);
                    assert!(
                        (got / want - 1.0).abs() < 0.1,
                        "{what}: error {axis} {got}″ against {want}″ north up"
                    );
                }
            }
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}
