//! simulate → load → associate → alerts, against a real PostgreSQL with the extension
//! (`make test` runs a private cluster and sets DATABASE_URL).

use skytrap_core::sky;
use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{
    assert_same, assert_sound, dataset_summary, dump_dataset, read_truth, scratch_database,
    scratch_dir, skytrap, succeed, KillOnDrop, Truth,
};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

const EPOCHS: usize = 8;

/// Truth rows grouped per source.
fn sources(truth: &[Truth], kind: &str) -> Vec<Vec<Truth>> {
    let mut ids: Vec<u32> = truth
        .iter()
        .filter(|t| t.kind == kind)
        .map(|t| t.source)
        .collect();
    ids.dedup();
    ids.iter()
        .map(|id| truth.iter().filter(|t| t.source == *id).cloned().collect())
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn simulated_transients_become_new_sources_and_alerts() {
    let dir = scratch_dir("e2e");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: EPOCHS,
            seed: 7,
            size: 512,
            variables: 4,
            transients: 3,
            anywhere: false,
        },
    )
    .unwrap();
    let truth = read_truth(&dir);
    let (url, client) = scratch_database("e2e").await;

    // The listener starts first and must be listening before anything is loaded.
    let mut listener = KillOnDrop(
        skytrap()
            .args(["listen", "--db", &url])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let database = url.rsplit_once('/').unwrap().1.to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // The listener reads the outbox only after LISTEN, so once it has run that
        // SELECT it is listening.
        let listening: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = $1 AND application_name = 'skytrap listen'
                   AND query LIKE 'SELECT alert_id%'",
                &[&database],
            )
            .await
            .unwrap()
            .get(0);
        if listening > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the listener never issued LISTEN"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "e2e"])
            .args(&images),
    );

    // Every injected transient is a new source, first seen in the epoch it appeared.
    let transients = sources(&truth, "transient");
    assert_eq!(transients.len(), 3);
    let found = client
        .query(
            "SELECT r.wm_ra, r.wm_decl, to_char(i.taustart_ts, 'YYYY-MM-DD\"T\"HH24:MI:SS.0'),
                    n.newsource_type, n.runcat
             FROM skytrap.newsource n
             JOIN skytrap.runningcatalog r ON r.id = n.runcat
             JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc
             JOIN skytrap.image i ON i.id = x.image",
            &[],
        )
        .await
        .unwrap();
    let mut transient_runcats = Vec::new();
    let mut first_epochs = Vec::new();
    for rows in &transients {
        let first = rows.iter().find(|t| t.flux > 0.0);
        let Some(first) = first else { continue };
        let hit = found
            .iter()
            .find(|r| sky::distance(r.get(0), r.get(1), first.ra, first.dec) * 3600.0 < 3.0);
        let hit = hit.unwrap_or_else(|| panic!("transient {} not in newsource", first.source));
        assert_eq!(
            hit.get::<_, String>(2),
            first.date_obs,
            "first epoch of {}",
            first.source
        );
        // Injected at 40 sigma or more into an image whose earlier epochs were clean.
        assert_eq!(hit.get::<_, i16>(3), 1);
        transient_runcats.push(hit.get::<_, i64>(4));
        first_epochs.push((hit.get::<_, i64>(4), first.date_obs.clone()));
    }
    let appearing = transients
        .iter()
        .filter(|rows| rows.iter().any(|t| t.flux > 0.0))
        .count();
    assert_eq!(
        found.len(),
        appearing,
        "only the injected transients are new"
    );

    // A steady source has one lightcurve point per epoch, one from each image.
    let steady = &sources(&truth, "steady")[0][0];
    let points = client
        .query(
            "SELECT l.image FROM skytrap.lightcurve l JOIN skytrap.runningcatalog r ON r.id = l.runcat
             WHERE skytrap.distance(r.wm_ra, r.wm_decl, $1, $2) < 3.0 / 3600",
            &[&steady.ra, &steady.dec],
        )
        .await
        .unwrap();
    let mut images_seen: Vec<i32> = points.iter().map(|r| r.get(0)).collect();
    images_seen.sort();
    images_seen.dedup();
    assert_eq!(points.len(), EPOCHS);
    assert_eq!(images_seen.len(), EPOCHS);

    // The listener printed exactly one new-source alert per transient, naming its
    // lightcurve (variables also raise variable and flux-jump alerts).
    let stdout = listener.0.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut new_sources = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let alert: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            if alert["kind"] == "new_source" {
                new_sources.push(alert);
                if new_sources.len() == appearing {
                    break;
                }
            }
        }
        new_sources
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reader.is_finished() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(listener);
    let alerts = reader.join().unwrap();
    let mut alerted: Vec<i64> = alerts
        .iter()
        .map(|a| a["object"]["runcat"].as_i64().unwrap())
        .collect();
    alerted.sort();
    transient_runcats.sort();
    assert_eq!(alerted, transient_runcats);
    for alert in &alerts {
        let runcat = alert["object"]["runcat"].as_i64().unwrap();
        let (_, date) = first_epochs.iter().find(|(r, _)| *r == runcat).unwrap();
        // The alert's measurement is the first detection, in the epoch it appeared.
        // The time as UTC with its zone: "2026-01-03T00:00:00Z".
        let seen = alert["source"]["taustart_ts"].as_str().unwrap();
        let seen = seen.strip_suffix('Z').expect("a UTC time ends in Z");
        assert_eq!(format!("{seen}.0"), *date, "alert epoch of runcat {runcat}");
    }
    let before: i64 = client
        .query_one("SELECT count(*) FROM skytrap.alert", &[])
        .await
        .unwrap()
        .get(0);

    // Loading the same images again adds nothing.
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "e2e"])
            .args(&images),
    );
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM skytrap.image), (SELECT count(*) FROM skytrap.alert),
                    (SELECT count(*) FROM skytrap.alert WHERE kind = 'new_source')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(counts.get::<_, i64>(0), EPOCHS as i64);
    assert_eq!(counts.get::<_, i64>(1), before);
    assert_eq!(counts.get::<_, i64>(2), appearing as i64);
    std::fs::remove_dir_all(dir).unwrap();
    assert_sound(&client, "after the loads").await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_bad_file_stops_the_load_before_anything_is_written() {
    let dir = scratch_dir("e2e-bad");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 2,
            seed: 3,
            size: 256,
            variables: 4,
            transients: 3,
            anywhere: false,
        },
    )
    .unwrap();
    let bytes = std::fs::read(&images[1]).unwrap();
    let truncated = dir.join("truncated.fits");
    std::fs::write(&truncated, &bytes[..bytes.len() - 5000]).unwrap();
    let no_date = dir.join("no_date.fits");
    std::fs::write(
        &no_date,
        skytrap_tests::minimal_fits(
            64,
            64,
            &[
                "CTYPE1  = 'RA---SIN'",
                "CTYPE2  = 'DEC--SIN'",
                "CRVAL1  =                 10.0",
                "CRVAL2  =                 20.0",
                "CRPIX1  =                 32.0",
                "CRPIX2  =                 32.0",
                "CDELT1  =              -0.001",
                "CDELT2  =               0.001",
                "BMAJ    =                0.005",
                "BMIN    =                0.004",
                "RESTFRQ =             1.4E+09",
            ],
            1.0,
        ),
    )
    .unwrap();
    let (url, client) = scratch_database("bad").await;
    for (bad, reason) in [(&truncated, "truncated"), (&no_date, "DATE-OBS")] {
        let out = skytrap()
            .args(["load", "--db", &url, "--dataset", "bad"])
            .arg(&images[0])
            .arg(bad)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
        assert!(stderr.contains(reason), "expected '{reason}' in: {stderr}");
        let written: i64 = client
            .query_one(
                "SELECT (SELECT count(*) FROM skytrap.dataset) + (SELECT count(*) FROM skytrap.image)
                      + (SELECT count(*) FROM skytrap.extractedsource)",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(written, 0, "a failed load wrote rows");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// TraP's acceptance on a long series: 30 epochs with 12 transients and 6 variables among
/// ~50 steady sources placed anywhere in the image, corners and edges included
/// (`skytrap simulate`'s truth is the oracle).
#[tokio::test(flavor = "current_thread")]
async fn a_thirty_epoch_series_finds_every_transient_and_ranks_variables_first() {
    const EPOCHS: usize = 30;
    const SIZE: usize = 512;
    let dir = scratch_dir("e2e-30");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: EPOCHS,
            // A sky with three of the transients in the image's corners.
            seed: 38,
            size: SIZE,
            variables: 6,
            transients: 12,
            anywhere: true,
        },
    )
    .unwrap();
    let truth = read_truth(&dir);
    let (url, client) = scratch_database("e2e30").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "long"])
            .args(&images),
    );
    // The lightcurve nearest a true position, with its variability summary.
    let lightcurve = |ra: f64, dec: f64| {
        let client = &client;
        async move {
            client
                .query_one(
                    "SELECT r.id, v.eta_int,
                            (SELECT to_char(i.taustart_ts, 'YYYY-MM-DD\"T\"HH24:MI:SS.0')
                             FROM skytrap.newsource n
                             JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc
                             JOIN skytrap.image i ON i.id = x.image WHERE n.runcat = r.id),
                            (SELECT count(*) FROM skytrap.assocxtrsource a
                             WHERE a.runcat = r.id AND a.type = 7)
                     FROM skytrap.runningcatalog r JOIN skytrap.varmetric v ON v.runcat = r.id
                     ORDER BY skytrap.distance(r.wm_ra, r.wm_decl, $1, $2) LIMIT 1",
                    &[&ra, &dec],
                )
                .await
                .unwrap()
        }
    };

    let transients = sources(&truth, "transient");
    let mut appearing = 0;
    for rows in &transients {
        let on: Vec<&Truth> = rows.iter().filter(|t| t.flux > 0.0).collect();
        let Some(first) = on.first() else { continue };
        appearing += 1;
        // Every transient is injected at 40σ or more: each must be new, first seen on
        // the epoch it appeared.
        assert!(first.flux >= 10.0 * simulate::NOISE);
        let row = lightcurve(first.ra, first.dec).await;
        assert_eq!(
            row.get::<_, Option<String>>(2).as_deref(),
            Some(first.date_obs.as_str()),
            "transient {} first seen on epoch {}",
            first.source,
            first.epoch
        );
        // After it fades it is force-fitted in every later image, up to the expiration
        // of 10 forced fits.
        let last_on = on.last().unwrap().epoch;
        assert_eq!(
            row.get::<_, i64>(3),
            (EPOCHS - last_on).min(10) as i64,
            "null detections of transient {}",
            first.source
        );
    }
    assert!(appearing >= 9, "only {appearing} transients appeared");
    // Some of them outside the circle inscribed in the image: its corners were searched too.
    let centre = (SIZE as f64 - 1.0) / 2.0;
    let in_corners = transients
        .iter()
        .filter(|rows| rows.iter().any(|t| t.flux > 0.0))
        .filter(|rows| (rows[0].x - centre).hypot(rows[0].y - centre) > centre)
        .count();
    assert!(in_corners >= 2, "{in_corners} transients in the corners");
    let new_sources: i64 = client
        .query_one("SELECT count(*) FROM skytrap.newsource", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(new_sources, appearing as i64, "no steady source is new");

    // Every variable ranks above every steady source by η.
    let mut steady_max = 0f64;
    for rows in sources(&truth, "steady") {
        let row = lightcurve(rows[0].ra, rows[0].dec).await;
        assert_eq!(
            row.get::<_, Option<String>>(2),
            None,
            "steady source {} is new",
            rows[0].source
        );
        steady_max = steady_max.max(row.get(1));
    }
    let variables = sources(&truth, "variable");
    assert_eq!(variables.len(), 6);
    for rows in variables {
        let eta: f64 = lightcurve(rows[0].ra, rows[0].dec).await.get(1);
        assert!(
            eta > steady_max,
            "variable {} has η {eta}, a steady source {steady_max}",
            rows[0].source
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
    assert_sound(&client, "after the loads").await;
}

/// A transient in an image corner, outside the circle inscribed in the image, is judged as
/// one at the centre: new on the epoch it appears, with an alert whose packet has the
/// earlier images as upper limits, and force-fitted in every image after it fades.
#[tokio::test(flavor = "current_thread")]
async fn a_transient_in_an_image_corner_is_new_and_followed() {
    const SIZE: usize = 512;
    const EPOCHS: usize = 6;
    let settings = Settings {
        epochs: EPOCHS,
        seed: 20,
        size: SIZE,
        variables: 0,
        transients: 0,
        anywhere: false,
    };
    // 50σ in epochs 3 and 4, nothing before or after; a steady source at the centre.
    let flux = (0..EPOCHS)
        .map(|e| if e == 2 || e == 3 { 0.05 } else { 0.0 })
        .collect();
    let sources = [
        simulate::source_at(SIZE, "transient", 20.0, 20.0, flux).unwrap(),
        simulate::source_at(SIZE, "steady", 255.5, 255.5, vec![0.05; EPOCHS]).unwrap(),
    ];
    let dir = scratch_dir("e2e-corner");
    let images = simulate::render(&dir, &settings, &sources).unwrap();
    let appears = read_truth(&dir)
        .into_iter()
        .find(|t| t.source == 1 && t.epoch == 3)
        .unwrap();
    let (url, client) = scratch_database("corner").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "corner"])
            .args(&images),
    );
    let row = client
        .query_one(
            "SELECT (SELECT to_char(i.taustart_ts, 'YYYY-MM-DD\"T\"HH24:MI:SS.0')
                     FROM skytrap.newsource n
                     JOIN skytrap.extractedsource x ON x.id = n.trigger_xtrsrc
                     JOIN skytrap.image i ON i.id = x.image WHERE n.runcat = r.id),
                    (SELECT count(*) FROM skytrap.assocxtrsource a
                     WHERE a.runcat = r.id AND a.type = 7),
                    (SELECT json_array_length(body -> 'upper_limits') FROM skytrap.alert
                     WHERE kind = 'new_source' AND runcat = r.id)
             FROM skytrap.runningcatalog r
             WHERE skytrap.distance(r.wm_ra, r.wm_decl, $1, $2) < 5.0 / 3600",
            &[&appears.ra, &appears.dec],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, Option<String>>(0).as_deref(),
        Some(appears.date_obs.as_str()),
        "the corner transient is new on the epoch it appears"
    );
    assert_eq!(row.get::<_, i64>(1), 2, "forced fits in epochs 5 and 6");
    assert_eq!(
        row.get::<_, Option<i32>>(2),
        Some(2),
        "a new_source alert with epochs 1 and 2 as upper limits"
    );
    std::fs::remove_dir_all(dir).unwrap();
    assert_sound(&client, "after the loads").await;
}

/// Two loaders of one dataset queue on its row lock (the second skips what the
/// first stored), loaders of different datasets run side by side, and every dataset ends
/// as a single serial load would leave it.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_loaders_serialize_per_dataset() {
    let dir = scratch_dir("e2e-concurrent");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 6,
            seed: 5,
            size: 256,
            variables: 2,
            transients: 2,
            anywhere: false,
        },
    )
    .unwrap();
    let (url, client) = scratch_database("concurrent").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "serial"])
            .args(&images),
    );
    let loaders: Vec<_> = ["shared", "shared", "other"]
        .iter()
        .map(|dataset| {
            skytrap()
                .args(["load", "--db", &url, "--dataset", dataset])
                .args(&images)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for loader in loaders {
        let out = loader.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let serial = dataset_summary(&client, "serial").await;
    assert_eq!(serial[0], 6);
    let serial_rows = dump_dataset(&client, "serial").await;
    for dataset in ["shared", "other"] {
        assert_same(
            &format!("dataset {dataset}"),
            &dump_dataset(&client, dataset).await,
            &serial_rows,
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
    assert_sound(&client, "after the loads").await;
}

/// Monitor positions are force-fitted in every image: one lightcurve each, started in the
/// first image (type 8) and extended in every later one (type 9), whether or not a
/// source is there; at a steady source the forced peak agrees with the simulator's flux.
#[tokio::test(flavor = "current_thread")]
async fn monitor_positions_get_a_point_in_every_image() {
    let dir = scratch_dir("e2e-monitor");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 4,
            seed: 3,
            size: 256,
            variables: 1,
            transients: 1,
            anywhere: false,
        },
    )
    .unwrap();
    let steady = sources(&read_truth(&dir), "steady")[0][0].clone();
    let (url, client) = scratch_database("monitor").await;
    let (empty_ra, empty_dec) = (123.3, 56.6);
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "monitored"])
            .args(["--monitor", &format!("{},{}", steady.ra, steady.dec)])
            .args(["--monitor", &format!("{empty_ra},{empty_dec}")])
            .args(&images),
    );
    let rows = client
        .query(
            "SELECT m.ra, array_agg(a.type ORDER BY i.taustart_ts),
                    array_agg(x.f_peak ORDER BY i.taustart_ts),
                    array_agg(x.f_peak_err ORDER BY i.taustart_ts)
             FROM skytrap.monitor m
             JOIN skytrap.assocxtrsource a ON a.runcat = m.runcat
             JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
             JOIN skytrap.image i ON i.id = x.image
             WHERE x.ff_monitor = m.id
             GROUP BY m.id, m.ra ORDER BY m.id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "one lightcurve per monitor position");
    for row in &rows {
        let types: Vec<i16> = row.get(1);
        assert_eq!(types, [8, 9, 9, 9]);
    }
    let (peaks, errors): (Vec<f64>, Vec<f64>) = (rows[0].get(2), rows[0].get(3));
    for (peak, err) in peaks.iter().zip(&errors) {
        assert!(
            (peak - steady.flux).abs() < 5.0 * err + 0.02 * steady.flux,
            "forced peak {peak} ± {err} at a {} Jy source",
            steady.flux
        );
    }
    let (peaks, errors): (Vec<f64>, Vec<f64>) = (rows[1].get(2), rows[1].get(3));
    for (peak, err) in peaks.iter().zip(&errors) {
        assert!(
            peak.abs() < 5.0 * err,
            "forced peak {peak} ± {err} on empty sky"
        );
    }
    // TraP's averages over a monitor lightcurve's datapoints are the averages of its points.
    let averages = client
        .query(
            "SELECT r.datapoints::bigint, count(*), r.avg_ra_err, avg(x.ra_err), r.avg_decl_err,
                    avg(x.decl_err), r.avg_weight_ra, avg(1 / x.uncertainty_ew ^ 2)
             FROM skytrap.monitor m
             JOIN skytrap.runningcatalog r ON r.id = m.runcat
             JOIN skytrap.assocxtrsource a ON a.runcat = r.id
             JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
             GROUP BY r.id",
            &[],
        )
        .await
        .unwrap();
    for row in &averages {
        assert_eq!(row.get::<_, i64>(0), row.get::<_, i64>(1));
        for k in [2, 4, 6] {
            let (stored, mean): (f64, f64) = (row.get(k), row.get(k + 1));
            assert!(
                (stored - mean).abs() <= 1e-9 * mean,
                "column {k}: {stored} vs {mean}"
            );
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
    assert_sound(&client, "after the loads").await;
}

/// Images are known by URL and content: a copy under another name is the same image, and a
/// file whose bytes changed since it was loaded is refused rather than loaded twice.
#[tokio::test(flavor = "current_thread")]
async fn reruns_know_images_by_url_and_content() {
    let dir = scratch_dir("e2e-identity");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 3,
            seed: 4,
            size: 256,
            variables: 1,
            transients: 1,
            anywhere: false,
        },
    )
    .unwrap();
    let (url, client) = scratch_database("identity").await;
    let load = |files: &[std::path::PathBuf]| {
        let mut c = skytrap();
        c.args(["load", "--db", &url, "--dataset", "identity"])
            .args(files);
        c
    };
    succeed(&mut load(&images[..2]));
    let copy = dir.join("copy_of_epoch_001.fits");
    std::fs::copy(&images[0], &copy).unwrap();
    let out = succeed(&mut load(&[copy, images[1].clone(), images[2].clone()]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 image loaded, 2 already loaded"),
        "{stderr}"
    );
    let hashes: Vec<String> = client
        .query(
            "SELECT sha256::text FROM skytrap.image ORDER BY taustart_ts",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(hashes.len(), 3);
    // The hash is the file's: compare with sha256sum's.
    let sum = succeed(std::process::Command::new("sha256sum").arg(&images[2]));
    assert!(String::from_utf8_lossy(&sum.stdout).starts_with(&hashes[2]));

    let mut bytes = std::fs::read(&images[1]).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&images[1], bytes).unwrap();
    let out = load(&images).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("epoch_002.fits: the file changed since it was loaded"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
    assert_sound(&client, "after the loads").await;
}
