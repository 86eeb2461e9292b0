//! A job's settings as TraP users have them: TraP's job file read directly or converted,
//! association settings stored with the dataset and used by association, settings that
//! change over a dataset's life with each image keeping its own, rejected images
//! processed again, and mistakes named where they are.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{scratch_database, scratch_dir, set_card, skytrap, succeed};
use std::path::{Path, PathBuf};

fn series(dir: &Path, epochs: usize) -> Vec<PathBuf> {
    simulate::simulate(
        dir,
        &Settings {
            epochs,
            seed: 23,
            size: 256,
            variables: 2,
            transients: 2,
            anywhere: true,
        },
    )
    .unwrap()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// TraP's template job file with other values (tkp/config/job_template/job_params.cfg).
const JOB: &str = "[persistence]
description = \"TRAP dataset\"
dataset_id = -1
rms_est_sigma = 4            ; Sigma value used for iterative clipping in RMS estimation
rms_est_fraction = 8
rms_est_history = 100        ; how many images used for calculating rms histogram
rms_est_max = 100
rms_est_min = 0.0
rms_rej_sigma = 3
bandwidth_max = 0.0

[quality_lofar]
low_bound = 1
high_bound = 80
oversampled_x = 30
elliptical_x = 2.0
min_separation = 10

[source_extraction]
detection_threshold = 7      ; extraction threshold (S/N)
analysis_threshold = 3
back_size_x = 50
back_size_y = 50
margin = 10
deblend_nthresh = 0
extraction_radius_pix = 0
force_beam = True
box_in_beampix = 10
ew_sys_err = 10
ns_sys_err = 10
expiration = 1               ; number of forced fits performed after a blind fit

[association]
deruiter_radius = 4.5
beamwidths_limit =  2.0

[transient_search]
new_source_sigma_margin = 2

[pipeline]
mode = 'batch'
hosts = ',,,,,'
ports = '6666,6667,6668,6669,6670,6671'
";

/// The most forced fits any lightcurve of the dataset has after its last blind detection.
async fn most_forced_fits_after_last_detection(
    client: &tokio_postgres::Client,
    dataset: &str,
) -> i64 {
    client
        .query_one(
            "WITH points AS (
                 SELECT a.runcat, x.extract_type, i.taustart_ts
                 FROM skytrap.assocxtrsource a
                 JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
                 JOIN skytrap.image i ON i.id = x.image
                 JOIN skytrap.dataset d ON d.id = i.dataset WHERE d.description = $1),
             last_blind AS (
                 SELECT runcat, max(taustart_ts) AS t FROM points WHERE extract_type = 0
                 GROUP BY runcat)
             SELECT coalesce(max(n), 0) FROM (
                 SELECT p.runcat, count(*) AS n FROM points p JOIN last_blind l USING (runcat)
                 WHERE p.extract_type = 1 AND p.taustart_ts > l.t GROUP BY p.runcat) c",
            &[&dataset],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "current_thread")]
async fn a_trap_job_file_sets_extraction_and_association() {
    let dir = scratch_dir("job-file");
    let images = series(&dir.join("sim"), 6);
    let job = dir.join("job_params.cfg");
    std::fs::write(&job, JOB).unwrap();

    // `config import`: skytrap's TOML on stdout, which reads back; what has no
    // counterpart named.
    let out = succeed(skytrap().args(["config", "import"]).arg(&job));
    let toml = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        toml.starts_with(
            "# skytrap settings from TraP's job file job_params.cfg\npreset = \"trap\"\n"
        ),
        "{toml}"
    );
    assert!(
        toml.contains("[association]\nderuiter_radius = 4.5\nbeamwidths_limit = 2.0\n"),
        "{toml}"
    );
    assert!(
        toml.contains("[source_extraction]\ndetection_threshold = 7\n"),
        "{toml}"
    );
    assert!(
        toml.contains("[quality_lofar]\nmin_separation = 10\n"),
        "{toml}"
    );
    assert!(
        toml.contains(
            "#   [quality_lofar] low_bound = 1: skytrap has no LOFAR theoretical-noise check"
        ),
        "{toml}"
    );
    assert_eq!(
        stderr_of(&out).trim(),
        format!(
            "skytrap: {}: 23 settings imported, 8 with no counterpart (listed at the end)",
            job.display()
        )
    );
    let imported = dir.join("job.toml");
    std::fs::write(&imported, &toml).unwrap();
    let show = |file: &Path| {
        String::from_utf8(succeed(skytrap().args(["config", "show", "--config"]).arg(file)).stdout)
            .unwrap()
    };
    assert_eq!(
        show(&job),
        show(&imported),
        "the job file and its import are the same settings"
    );

    // Loaded with the job file itself: TraP's settings with the dataset, association's
    // on its row, where associate_image reads them.
    let (url, client) = scratch_database("job_file").await;
    let out = succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "job", "--config"])
            .arg(&job)
            .args(&images),
    );
    assert!(
        stderr_of(&out)
            .contains("job_params.cfg: 8 TraP settings have no counterpart and are ignored"),
        "{}",
        stderr_of(&out)
    );
    let row = client
        .query_one(
            "SELECT detection_threshold, assoc_radius, beamwidths_limit, new_source_sigma_margin,
                    expiration FROM skytrap.dataset WHERE description = 'job'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, f64>(0),
            row.get::<_, f64>(1),
            row.get::<_, f64>(2),
            row.get::<_, f64>(3),
            row.get::<_, i32>(4)
        ),
        (7.0, 4.5, 2.0, 2.0, 1)
    );
    let config: Vec<(String, String, String)> = client
        .query(
            "SELECT c.section, c.key, c.value FROM skytrap.config c
             JOIN skytrap.dataset d ON d.id = c.dataset
             WHERE d.description = 'job' AND c.section IN ('association', 'transient_search')
             ORDER BY c.id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        config,
        [
            s("association", "deruiter_radius", "4.5"),
            s("association", "beamwidths_limit", "2.0"),
            s("transient_search", "new_source_sigma_margin", "2.0"),
            s("transient_search", "pair_metrics_min_abs_vs", "4.3"),
        ]
    );
    // expiration 1 reached association: no lightcurve has more than one forced fit after
    // its last blind detection, where the same images with TraP's 10 give some two or
    // more (so the comparison can fail).
    succeed(
        skytrap()
            .args([
                "load",
                "--db",
                &url,
                "--dataset",
                "default",
                "--preset",
                "trap",
            ])
            .args(["--detection-threshold", "7", "--radius", "0"])
            .args(&images),
    );
    assert!(most_forced_fits_after_last_detection(&client, "default").await >= 2);
    assert_eq!(
        most_forced_fits_after_last_detection(&client, "job").await,
        1
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn settings_change_when_allowed_and_each_image_keeps_its_own() {
    let dir = scratch_dir("settings-over-time");
    let images = series(&dir.join("sim"), 3);
    let (url, client) = scratch_database("settings_over_time").await;
    let load = |extra: &[&str], images: &[PathBuf]| {
        skytrap()
            .args(["load", "--db", &url, "--dataset", "a"])
            .args(extra)
            .args(images)
            .output()
            .unwrap()
    };
    assert!(load(&["--deruiter-radius", "4"], &images[..1])
        .status
        .success());
    let refused = load(&["--deruiter-radius", "3"], &images[1..2]);
    assert!(!refused.status.success());
    assert!(stderr_of(&refused).contains("association.deruiter_radius (stored 4.0, now 3.0)"));
    assert!(load(
        &["--deruiter-radius", "3", "--allow-config-change"],
        &images[1..2]
    )
    .status
    .success());
    assert!(
        load(&["--deruiter-radius", "3"], &images[2..3])
            .status
            .success(),
        "3 is in force now"
    );
    let rows: Vec<(String, String)> = client
        .query(
            "SELECT regexp_replace(i.url, '^.*/', ''),
                    s.settings -> 'association' ->> 'deruiter_radius'
             FROM skytrap.image i JOIN skytrap.job_settings s ON s.id = i.job_settings
             ORDER BY i.taustart_ts",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let s = |a: &str, b: &str| (a.to_string(), b.to_string());
    assert_eq!(
        rows,
        [
            s("epoch_001.fits", "4.0"),
            s("epoch_002.fits", "3.0"),
            s("epoch_003.fits", "3.0")
        ]
    );
    let now: (f64, String) = {
        let r = client
            .query_one(
                "SELECT d.assoc_radius, c.value FROM skytrap.dataset d
                 JOIN skytrap.config c ON c.dataset = d.id AND c.key = 'deruiter_radius'",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(now, (3.0, "3.0".to_string()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_rejected_image_is_processed_again_when_asked() {
    let dir = scratch_dir("retry-rejected");
    let mut images = series(&dir.join("sim"), 3);
    // The last epoch's beam 25" x 10": a ratio of 2.5, over TraP's elliptical_x of 2.
    let mut bytes = std::fs::read(&images[2]).unwrap();
    set_card(&mut bytes, "BMIN", &format!("{}", 10.0 / 3600.0));
    images[2] = dir.join("elongated.fits");
    std::fs::write(&images[2], bytes).unwrap();
    let (url, client) = scratch_database("retry_rejected").await;
    let load = |extra: &[&str]| {
        skytrap()
            .args(["load", "--db", &url, "--dataset", "r"])
            .args(extra)
            .args(&images)
            .output()
            .unwrap()
    };
    let state = || async {
        client
            .query_one(
                "SELECT count(*), count(r.id),
                        (SELECT count(*) FROM skytrap.extractedsource x
                         JOIN skytrap.image e ON e.id = x.image WHERE e.url LIKE '%elongated.fits')
                 FROM skytrap.image i LEFT JOIN skytrap.rejection r ON r.image = i.id",
                &[],
            )
            .await
            .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2)))
            .unwrap()
    };
    assert!(load(&[]).status.success());
    assert_eq!(state().await, (3, 1, 0));
    // Again without --retry-rejected: skipped as loaded.
    assert!(stderr_of(&load(&[])).contains("0 images loaded, 3 already loaded"));
    // Retried with the same settings: rejected again, still one row.
    let out = load(&["--retry-rejected"]);
    assert!(
        stderr_of(&out).contains("1 image rejected, 1 rejected image processed again"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(state().await, (3, 1, 0));
    // Other settings must be allowed to change first.
    let out = load(&["--retry-rejected", "--elliptical-x", "3"]);
    assert!(
        !out.status.success()
            && stderr_of(&out).contains("quality.elliptical_x (stored 2.0, now 3.0)")
    );
    let out = load(&[
        "--retry-rejected",
        "--elliptical-x",
        "3",
        "--allow-config-change",
    ]);
    assert!(
        stderr_of(&out).contains("1 image loaded, 2 already loaded")
            && stderr_of(&out).contains("1 rejected image processed again"),
        "{}",
        stderr_of(&out)
    );
    let (images_now, rejections, sources) = state().await;
    assert_eq!((images_now, rejections), (3, 0));
    assert!(sources > 0, "the elongated image was measured");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn mistakes_are_named_where_they_are() {
    let dir = scratch_dir("mistakes");
    // A mistyped flag: clap's suggestion, and the subcommand's own help.
    let out = skytrap()
        .args(["load", "--dataset", "x", "--deruiter-radios", "3", "a.fits"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("'--deruiter-radios'")
            && err.contains("a similar argument exists: '--deruiter-radius'")
            && err.trim_end().ends_with("see 'skytrap load --help'"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = skytrap()
        .args(["db", "up", "--prot", "5"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&out)
            .trim_end()
            .ends_with("see 'skytrap db up --help'"),
        "{}",
        stderr_of(&out)
    );
    // --db only where a database is used.
    let out = skytrap()
        .args(["extract", "--db", "postgresql://x", "a.fits"])
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).contains("unexpected argument '--db'")
            && stderr_of(&out)
                .trim_end()
                .ends_with("see 'skytrap extract --help'"),
        "{}",
        stderr_of(&out)
    );
    // A mistyped key: the file, the line, the nearest key.
    let file = dir.join("job.toml");
    std::fs::write(
        &file,
        "preset = \"trap\"\n\n[association]\nbeamwidth_limit = 2\n",
    )
    .unwrap();
    let out = skytrap()
        .args(["config", "show", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        stderr_of(&out).trim(),
        format!(
            "skytrap: {}:4: unknown setting [association] beamwidth_limit; did you mean `beamwidths_limit`?",
            file.display()
        )
    );
    // A TOML error: line and column.
    std::fs::write(&file, "[quality]\nelliptical_x = = 3\n").unwrap();
    let out = skytrap()
        .args(["config", "show", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        stderr_of(&out).starts_with(&format!("skytrap: {}:2:16: not valid TOML", file.display())),
        "{}",
        stderr_of(&out)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// TraP's bright-source check: an image pointed 3° from Cas A, or at the Sun on the day it
/// was observed, is rejected with the source named; the same field elsewhere is not.
#[tokio::test(flavor = "current_thread")]
async fn images_pointed_near_a_bright_source_are_rejected() {
    let dir = scratch_dir("bright");
    let mut images = series(&dir.join("sim"), 3);
    // Cas A is at RA 350.85, Dec +58.82 (J2000); the Sun on 2026-01-03 at about RA 18h51m
    // (282.8°), Dec -22.9° (the almanac's; any point within a degree or two does).
    for (n, (ra, dec)) in [(1, (350.85, 61.815)), (2, (282.8, -22.9))] {
        let mut bytes = std::fs::read(&images[n]).unwrap();
        set_card(&mut bytes, "CRVAL1", &format!("{ra}"));
        set_card(&mut bytes, "CRVAL2", &format!("{dec}"));
        images[n] = dir.join(format!("moved{n}.fits"));
        std::fs::write(&images[n], bytes).unwrap();
    }
    let (url, client) = scratch_database("bright").await;
    succeed(
        skytrap()
            .args([
                "load",
                "--db",
                &url,
                "--dataset",
                "b",
                "--min-separation",
                "10",
            ])
            .args(&images),
    );
    let rows: Vec<(String, Option<i32>, Option<String>)> = client
        .query(
            "SELECT regexp_replace(i.url, '^.*/', ''), r.rejectreason, r.comment
             FROM skytrap.image i LEFT JOIN skytrap.rejection r ON r.image = i.id
             ORDER BY i.taustart_ts",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(rows[0].1, None, "{rows:?}");
    assert_eq!(rows[1].1, Some(2), "{rows:?}");
    assert!(rows[1].2.as_deref().unwrap().starts_with(
        "bright source near: Cas A is 3.0 degrees from the pointing (min_separation 10)"
    ));
    assert_eq!(rows[2].1, Some(2), "{rows:?}");
    assert!(
        rows[2].2.as_deref().unwrap().contains("the Sun is"),
        "{rows:?}"
    );
    // A bright source of one's own: 3C 196 (RA 123.40°, Dec +48.22°) is 8.5° from the
    // simulated field's centre (123.4°, 56.7°).
    succeed(
        skytrap()
            .args([
                "load",
                "--db",
                &url,
                "--dataset",
                "own",
                "--min-separation",
                "10",
            ])
            .args(["--bright-sources", "3C196=123.40,48.22"])
            .arg(&images[0]),
    );
    let comment: String = client
        .query_one(
            "SELECT r.comment FROM skytrap.rejection r JOIN skytrap.image i ON i.id = r.image
             JOIN skytrap.dataset d ON d.id = i.dataset WHERE d.description = 'own'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        comment.starts_with("bright source near: 3C196 is 8.5 degrees"),
        "{comment}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
