//! Presets, configuration files and image quality control through `skytrap load`, and
//! forced fits at given positions through `skytrap extract --at`.
//!
//! The quality-control images are copies of one simulated image with the pixels scaled
//! by known factors: `rms_qc` scales with them exactly, so whether TraP's history test
//! passes is worked out by hand from the factors alone (see each step).

use skytrap_loader::simulate::{self, Settings, NOISE};
use skytrap_tests::{
    extract_csv_rows, read_truth, scratch_database, scratch_dir, set_card, skytrap,
};
use std::path::{Path, PathBuf};
use std::process::Output;

/// One simulated epoch (256², 1 mJy/beam noise, 25″ × 20″ beam on 5″ pixels).
fn one_epoch(dir: &Path, epochs: usize) -> Vec<PathBuf> {
    simulate::simulate(
        dir,
        &Settings {
            epochs,
            seed: 17,
            size: 256,
            variables: 1,
            transients: 1,
            anywhere: false,
        },
    )
    .unwrap()
}

/// Multiplies every (BITPIX −32) pixel by `factor`.
fn scale_pixels(bytes: &mut [u8], factor: f32) {
    let end = bytes
        .chunks(80)
        .position(|c| c.starts_with(b"END "))
        .expect("an END card");
    let start = ((end + 1) * 80).div_ceil(2880) * 2880;
    for px in bytes[start..].chunks_exact_mut(4) {
        let v = f32::from_be_bytes(px.try_into().unwrap()) * factor;
        px.copy_from_slice(&v.to_be_bytes());
    }
}

/// A copy of `source` observed on 2026-01-`day`, its pixels scaled by `factor`, with
/// header changes.
fn variant(source: &Path, dir: &Path, day: u32, factor: f32, cards: &[(&str, &str)]) -> PathBuf {
    let mut bytes = std::fs::read(source).unwrap();
    set_card(
        &mut bytes,
        "DATE-OBS",
        &format!("'2026-01-{day:02}T00:00:00.0'"),
    );
    for (key, value) in cards {
        set_card(&mut bytes, key, value);
    }
    scale_pixels(&mut bytes, factor);
    let path = dir.join(format!("day{day:02}.fits"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(args: &[&str], images: &[PathBuf], url: &str) -> Output {
    let out = skytrap()
        .args(args)
        .args(["--db", url])
        .args(images)
        .output()
        .unwrap();
    out
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "skytrap failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn config_value(client: &tokio_postgres::Client, dataset: &str, key: &str) -> String {
    client
        .query_one(
            "SELECT c.value FROM skytrap.config c JOIN skytrap.dataset d ON d.id = c.dataset
             WHERE d.description = $1 AND c.key = $2",
            &[&dataset, &key],
        )
        .await
        .unwrap_or_else(|e| panic!("{dataset} {key}: {e}"))
        .get(0)
}

async fn images_of(client: &tokio_postgres::Client, dataset: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM skytrap.image i JOIN skytrap.dataset d ON d.id = i.dataset
             WHERE d.description = $1",
            &[&dataset],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "current_thread")]
async fn the_configuration_is_stored_with_the_dataset_and_other_settings_are_refused() {
    let dir = scratch_dir("settings");
    let images = one_epoch(&dir.join("sim"), 3);
    let (url, client) = scratch_database("settings").await;
    let file = dir.join("job.toml");
    std::fs::write(
        &file,
        "[source_extraction]\ndetection_threshold = 9\n[quality]\nelliptical_x = 3\n",
    )
    .unwrap();
    let config = ["load", "--dataset", "a", "--config", file.to_str().unwrap()];

    ok(&run(&config, &images[..1], &url));
    // Every setting has its row, under TraP's section and key names and type names.
    let rows: Vec<(String, String, String, String)> = client
        .query(
            "SELECT section, key, value, type FROM skytrap.config ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(rows.len(), 34, "{rows:?}");
    let row = |key: &str| rows.iter().find(|r| r.1 == key).unwrap().clone();
    let s = |v: &str| v.to_string();
    assert_eq!(
        row("detection_threshold"),
        (
            s("source_extraction"),
            s("detection_threshold"),
            s("9.0"),
            s("float")
        )
    );
    assert_eq!(
        row("elliptical_x"),
        (s("quality"), s("elliptical_x"), s("3.0"), s("float"))
    );
    // The rest is the TraP preset: job_params' values.
    assert_eq!(row("back_size").2, "50");
    assert_eq!(
        row("rms_est_history"),
        (s("quality"), s("rms_est_history"), s("100"), s("int"))
    );
    assert_eq!(row("force_beam").2, "False");
    let thresholds = client
        .query_one(
            "SELECT d.detection_threshold, i.detection_thresh FROM skytrap.dataset d
             JOIN skytrap.image i ON i.dataset = d.id WHERE d.description = 'a'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (thresholds.get::<_, f64>(0), thresholds.get::<_, f64>(1)),
        (9.0, 9.0)
    );

    // Another threshold on the command line (which overrides the file): refused, the
    // differing key named, before anything is written.
    let out = run(
        &[&config[..], &["--detection-threshold", "10"]].concat(),
        &images[1..2],
        &url,
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dataset 'a' was loaded with other settings")
            && err.contains("source_extraction.detection_threshold (stored 9.0, now 10.0)")
            && !err.contains("elliptical_x"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(images_of(&client, "a").await, 1);
    // The same settings load; so do other settings when told to, which are then the
    // dataset's settings (job_settings.rs follows them image by image).
    ok(&run(&config, &images[1..2], &url));
    ok(&run(
        &[
            &config[..],
            &["--detection-threshold", "10", "--allow-config-change"],
        ]
        .concat(),
        &images[2..3],
        &url,
    ));
    assert_eq!(images_of(&client, "a").await, 3);
    assert_eq!(
        config_value(&client, "a", "detection_threshold").await,
        "10.0"
    );

    // The PySE preset: PySE's command-line defaults; a flag over the file over the preset.
    std::fs::write(
        &file,
        "preset = \"pyse\"\n[source_extraction]\ndetection_threshold = 12\nmargin = 3\n",
    )
    .unwrap();
    ok(&run(
        &[
            "load",
            "--dataset",
            "b",
            "--config",
            file.to_str().unwrap(),
            "--margin",
            "5",
        ],
        &images[..1],
        &url,
    ));
    for (key, value) in [
        ("detection_threshold", "12.0"), // the file
        ("margin", "5"),                 // the flag
        ("back_size", "64"),             // PySE's grid
        ("box_in_beampix", "3.0"),       // PySE's ffbox
        ("ew_sys_err", "0.0"),
        ("deblend_mincont", "0.005"),
    ] {
        assert_eq!(config_value(&client, "b", key).await, value, "{key}");
    }
    ok(&run(
        &[
            "load",
            "--dataset",
            "c",
            "--preset",
            "pyse",
            "--fdr",
            "0.01",
            "--deblend",
            "16",
        ],
        &images[..1],
        &url,
    ));
    assert_eq!(
        config_value(&client, "c", "detection_threshold").await,
        "10.0"
    );
    assert_eq!(config_value(&client, "c", "fdr_alpha").await, "0.01");
    assert_eq!(config_value(&client, "c", "deblend_nthresh").await, "16");
    // A file with a mistake names the file and the setting.
    std::fs::write(&file, "[source_extraction]\ndetection_treshold = 9\n").unwrap();
    let out = run(
        &["load", "--dataset", "d", "--config", file.to_str().unwrap()],
        &images[..1],
        &url,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains(file.to_str().unwrap())
            && err.contains("unknown setting [source_extraction] detection_treshold"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn quality_control_rejects_images_as_trap_does() {
    let dir = scratch_dir("quality");
    let epoch = one_epoch(&dir.join("sim"), 1).remove(0);
    let beam_pixels = 25.0 / 3600.0; // BMAJ, degrees
                                     // Days 1-6: the noise scaled by these factors. Day 7: the beam's axes 25" x 10"
                                     // (ratio 2.5 > elliptical_x 2). Day 8: a 400" beam, semi-axis 40 pixels > 30.
    let factors = [1.00f32, 1.02, 0.99, 1.01, 3.0, 1.0];
    let mut images: Vec<PathBuf> = factors
        .iter()
        .enumerate()
        .map(|(i, &f)| variant(&epoch, &dir, i as u32 + 1, f, &[]))
        .collect();
    images.push(variant(
        &epoch,
        &dir,
        7,
        1.0,
        &[("BMIN", &format!("{}", 10.0 / 3600.0))],
    ));
    images.push(variant(
        &epoch,
        &dir,
        8,
        1.0,
        &[
            ("BMAJ", &format!("{}", 16.0 * beam_pixels)),
            ("BMIN", &format!("{}", 16.0 * beam_pixels)),
        ],
    ));
    let (url, client) = scratch_database("quality").await;
    let file = dir.join("quality.toml");
    std::fs::write(
        &file,
        "[quality]\nrms_est_history = 4\nrms_rej_sigma = 1.5\n",
    )
    .unwrap();
    let out = run(
        &[
            "load",
            "--dataset",
            "qc",
            "--config",
            file.to_str().unwrap(),
        ],
        &images,
        &url,
    );
    ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 images rejected"), "{stderr}");

    let rows = client
        .query(
            "SELECT i.taustart_ts::date::text, i.rms_qc, r.rejectreason, r.comment,
                    (SELECT count(*) FROM skytrap.extractedsource x WHERE x.image = i.id)
             FROM skytrap.image i LEFT JOIN skytrap.rejection r ON r.image = i.id
             ORDER BY i.taustart_ts",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 8);
    let rms: Vec<f64> = rows.iter().map(|r| r.get(1)).collect();
    let reason: Vec<Option<i32>> = rows.iter().map(|r| r.get(2)).collect();
    let comment: Vec<Option<String>> = rows.iter().map(|r| r.get(3)).collect();
    let sources: Vec<i64> = rows.iter().map(|r| r.get(4)).collect();
    // rms_qc is the simulator's 1 mJy/beam noise (the central region holds few sources,
    // clipped away) and scales with the pixels exactly.
    assert!(
        (rms[0] / NOISE - 1.0).abs() < 0.15,
        "rms_qc {} for 1 mJy/beam noise",
        rms[0]
    );
    for (i, &f) in factors.iter().enumerate() {
        assert!(
            (rms[i] / rms[0] - f64::from(f)).abs() < 1e-4,
            "day {}: rms_qc {} is not {f} x {}",
            i + 1,
            rms[i],
            rms[0]
        );
    }
    // Days 1-3: fewer than 4 images, no history test. Day 4, history (1.00, 1.02, 0.99,
    // 1.01): mean 1.005, sd 0.0112, 1.01 is 0.45 sd off: kept. Day 5, history (1.02,
    // 0.99, 1.01, 3.0): mean 1.505, sd 0.863, 3.0 is 1.73 sd off > 1.5: rejected, RMS
    // invalid. Day 6, history (0.99, 1.01, 3.0, 1.0), the rejected image included as in
    // TraP: mean 1.5, sd 0.866, 1.0 is 0.58 sd off: kept. Days 7, 8: beam invalid.
    assert_eq!(
        reason,
        [None, None, None, None, Some(0), None, Some(1), Some(1)],
        "{comment:?}"
    );
    assert!(comment[4]
        .as_deref()
        .unwrap()
        .contains("within 1.5 sigma of the last 4"));
    assert!(comment[6].as_deref().unwrap().contains("too elliptical"));
    assert!(comment[7].as_deref().unwrap().contains("oversampled"));
    // Rejected images are kept but never measured; the others are.
    for i in 0..8 {
        assert_eq!(sources[i] == 0, reason[i].is_some(), "day {}", i + 1);
    }

    // TraP's global range, from the command line: rms_est_max 2 mJy rejects the day-5
    // image (3 mJy) as RMS invalid, and not day 1.
    let out = run(
        &["load", "--dataset", "range", "--rms-est-max", "0.002"],
        &[images[0].clone(), images[4].clone()],
        &url,
    );
    ok(&out);
    let rejected: Vec<(i32, String)> = client
        .query(
            "SELECT r.rejectreason, r.comment FROM skytrap.rejection r
             JOIN skytrap.image i ON i.id = r.image JOIN skytrap.dataset d ON d.id = i.dataset
             WHERE d.description = 'range'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].0, 0);
    assert!(rejected[0].1.contains("rms_est_max 0.002"), "{rejected:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn extract_at_force_fits_the_given_positions() {
    let dir = scratch_dir("extract-at");
    let images = one_epoch(&dir.join("sim"), 1);
    let truth: Vec<_> = read_truth(&dir.join("sim"))
        .into_iter()
        .filter(|t| t.epoch == 1)
        .collect();
    let mut csv = String::from("ra,dec\n");
    for t in &truth {
        csv += &format!("{},{}\n", t.ra, t.dec);
    }
    csv += "0.0,-60.0\n"; // off the image: no fit
    let positions = dir.join("positions.csv");
    std::fs::write(&positions, &csv).unwrap();
    let out = skytrap()
        .args(["extract", "--at", positions.to_str().unwrap()])
        .args(&images)
        .output()
        .unwrap();
    ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let rows = extract_csv_rows(&text);
    // One fit per position on the image, in the given order, at exactly that position,
    // with the beam's shape (25" x 20" FWHM: 12.5" x 10" semi-axes), and the simulator's
    // flux within 5 sigma.
    assert_eq!(rows.len(), truth.len());
    let mut pulls = Vec::new();
    for (r, t) in rows.iter().zip(&truth) {
        assert!(
            (r[0] - t.ra).abs() < 1e-6 && (r[1] - t.dec).abs() < 1e-6,
            "{r:?}"
        );
        assert!(
            (r[8] - 12.5).abs() < 0.01 && (r[9] - 10.0).abs() < 0.01,
            "{r:?}"
        );
        assert_eq!(r[4], r[6]);
        let pull = (r[4] - t.flux) / r[5];
        assert!(pull.abs() < 5.0, "{r:?} vs {t:?}");
        pulls.push(pull);
    }
    let sd = (pulls.iter().map(|p| p * p).sum::<f64>() / pulls.len() as f64).sqrt();
    assert!(sd < 2.0, "pull sd {sd}");

    // A smaller box (PySE's 3 beams) still fits every position; a bad line is an error
    // naming the file and the line.
    let out = skytrap()
        .args(["extract", "--box-in-beampix", "3", "--at"])
        .arg(&positions)
        .args(&images)
        .output()
        .unwrap();
    ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        truth.len() + 1
    );
    std::fs::write(&positions, "ra,dec\n10,20\n10;20\n").unwrap();
    let out = skytrap()
        .args(["extract", "--at"])
        .arg(&positions)
        .args(&images)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("positions.csv: line 3: '10;20' is not a position"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A 128² image (5″ pixels, circular 20″ beam: HWHM 2 pixels) of white noise of 1 mJy/beam,
/// two 40 mJy sources 6 pixels (1.5 beam widths) apart whose islands merge at 3 sigma,
/// and a faint 6 mJy source.
fn blended_pair(path: &Path) {
    let card = |key: &str, value: &str| format!("{key:<8}= {value:>20}");
    let cards = [
        card("CTYPE1", "'RA---SIN'"),
        card("CRVAL1", "123.4"),
        card("CDELT1", &format!("{}", -5.0 / 3600.0)),
        card("CRPIX1", "65.0"),
        card("CTYPE2", "'DEC--SIN'"),
        card("CRVAL2", "56.7"),
        card("CDELT2", &format!("{}", 5.0 / 3600.0)),
        card("CRPIX2", "65.0"),
        card("BMAJ", &format!("{}", 20.0 / 3600.0)),
        card("BMIN", &format!("{}", 20.0 / 3600.0)),
        card("BPA", "0.0"),
        card("RESTFRQ", "1.5E+08"),
    ];
    let refs: Vec<&str> = cards.iter().map(String::as_str).collect();
    let (n, hwhm) = (128usize, 2.0f64);
    let mut bytes = skytrap_tests::minimal_fits(n, n, &refs, 0.0);
    let start = ((5 + cards.len() + 1) * 80).div_ceil(2880) * 2880;
    // Box–Muller on a fixed linear congruential sequence: the same noise every run.
    let mut state = 12345u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let sources = [
        (58.0, 64.0, 0.040),
        (64.0, 64.0, 0.040),
        (30.0, 100.0, 0.006),
    ];
    for y in 0..n {
        for x in 0..n {
            let noise =
                (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
            let mut v = 0.001 * noise;
            for (sx, sy, peak) in sources {
                let r2 = (x as f64 - sx).powi(2) + (y as f64 - sy).powi(2);
                v += peak * (-std::f64::consts::LN_2 * r2 / (hwhm * hwhm)).exp();
            }
            let at = start + 4 * (y * n + x);
            bytes[at..at + 4].copy_from_slice(&(v as f32).to_be_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap();
}

/// `skytrap extract` rows as (x, y, peak).
fn extract_rows(args: &[&str], image: &Path) -> Vec<(f64, f64, f64)> {
    let out = skytrap()
        .arg("extract")
        .args(args)
        .arg(image)
        .output()
        .unwrap();
    ok(&out);
    extract_csv_rows(&String::from_utf8(out.stdout).unwrap())
        .iter()
        .map(|v| (v[12], v[13], v[4]))
        .collect()
}

#[test]
fn deblending_fdr_and_force_beam_on_a_hand_made_image() {
    let dir = scratch_dir("deblend");
    let image = dir.join("pair.fits");
    blended_pair(&image);
    // At 8 sigma: the pair is one island, one source; the 6 mJy source is not detected.
    let plain = extract_rows(&[], &image);
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!((plain[0].0 - 61.0).abs() < 0.5, "{plain:?}");
    // Deblended (PySE's 32 levels): two sources at the injected positions and peaks.
    let mut split = extract_rows(&["--deblend", "32"], &image);
    split.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(split.len(), 2, "{split:?}");
    for ((x, y, peak), truth_x) in split.iter().zip([58.0, 64.0]) {
        assert!(
            (x - truth_x).abs() < 0.25 && (y - 64.0).abs() < 0.25,
            "{split:?}"
        );
        assert!((peak / 0.040 - 1.0).abs() < 0.08, "{split:?}");
    }
    // A high minimum contrast keeps the pair whole.
    assert_eq!(
        extract_rows(&["--deblend", "32", "--deblend-mincont", "0.6"], &image).len(),
        1
    );
    // FDR at 1 %: the threshold falls to about 4.5 sigma for this image (some 60
    // significant pixels of 11 664), so the 6 sigma source is found too, and nothing else.
    // (Deblending it as well would split the faint source on a noise dip, as PySE's
    // algorithm does; that is why deblending is off here.)
    let mut fdr = extract_rows(&["--fdr", "0.01"], &image);
    fdr.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(fdr.len(), 2, "{fdr:?}");
    // (A 6 sigma source on white noise: within half a beam width of where it was put.)
    assert!(
        (fdr[0].0 - 30.0).abs() < 2.0 && (fdr[0].1 - 100.0).abs() < 2.0,
        "{fdr:?}"
    );
    assert!((fdr[1].0 - 61.0).abs() < 0.5, "{fdr:?}");
    // Force-beam: the same pair, each the beam's shape (10″ x 10″ semi-axes), with the
    // peaks still within 8 %.
    let out = skytrap()
        .args([
            "extract",
            "--deblend",
            "32",
            "--force-beam",
            "--format",
            "json",
        ])
        .arg(&image)
        .output()
        .unwrap();
    ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let (smaj, smin) = (v["smaj"].as_f64().unwrap(), v["smin"].as_f64().unwrap());
        assert!(
            (smaj - 10.0).abs() < 0.01 && (smin - 10.0).abs() < 0.01,
            "{line}"
        );
        assert!(
            (v["peak"].as_f64().unwrap() / 0.040 - 1.0).abs() < 0.08,
            "{line}"
        );
        // A point source deconvolves to nothing.
        assert_eq!(v["smaj_dc"].as_f64().unwrap(), 0.0, "{line}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// With `--fdr` each image records the threshold the FDR step applied (about 4.5σ here, not
/// the nominal 8σ), and later images are judged new against it: a 7σ source, below the
/// nominal limit of (8 + 1)σ but above (t + 1)σ, is new in the second image.
#[tokio::test(flavor = "current_thread")]
async fn fdr_images_record_the_threshold_they_applied() {
    use skytrap_loader::{config::Config, extract, image::fits};
    const SIZE: usize = 256;
    let settings = Settings {
        epochs: 2,
        seed: 41,
        size: SIZE,
        variables: 0,
        transients: 0,
        anywhere: false,
    };
    let sources = [
        simulate::source_at(SIZE, "transient", 128.0, 140.0, vec![0.0, 7.0 * NOISE]).unwrap(),
        simulate::source_at(SIZE, "steady", 80.0, 80.0, vec![50.0 * NOISE; 2]).unwrap(),
    ];
    let dir = scratch_dir("fdr-threshold");
    let images = simulate::render(&dir, &settings, &sources).unwrap();
    let (url, client) = scratch_database("fdr_threshold").await;
    let loaded = skytrap()
        .args(["load", "--db", &url, "--dataset", "fdr", "--fdr", "0.01"])
        .args(&images)
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );

    let mut params = Config::preset(None).extraction;
    params.fdr_alpha = Some(0.01);
    let stored = client
        .query(
            "SELECT detection_thresh FROM skytrap.image ORDER BY taustart_ts",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    for (path, row) in images.iter().zip(&stored) {
        let applied = extract::extract(&fits::read(path).unwrap(), &params)
            .unwrap()
            .detection
            .unwrap();
        assert!((3.0..6.0).contains(&applied), "FDR threshold {applied}");
        assert_eq!(row.get::<_, Option<f64>>(0), Some(applied));
    }
    let new: Vec<(f64, f64)> = client
        .query(
            "SELECT r.wm_ra, r.wm_decl FROM skytrap.newsource n
             JOIN skytrap.runningcatalog r ON r.id = n.runcat",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    let offset = skytrap_core::sky::distance(new[0].0, new[0].1, sources[0].ra, sources[0].dec);
    assert!(
        offset * 3600.0 < 5.0,
        "the new source is {offset}° from the transient"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
