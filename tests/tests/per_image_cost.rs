//! Per-image statements cost what the image touches, not what the survey holds: after a
//! survey of 2·10^5 lightcurves in 20 fields (the association benchmark's synthetic
//! catalogue) and a series through the real loader with forced fits, monitor positions, two
//! bands and a fork, one more image is loaded and associated, and no table of more than a
//! few thousand rows may have been read by a sequential scan. A statement that scans a big
//! table is invisible at a test's usual size and costs more with every image of a survey.

use skytrap_loader::simulate::{self, Settings, NOISE};
use skytrap_tests::{scratch_database, scratch_dir, set_card, skytrap, succeed, workspace};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

/// Tables whose size makes a scan a defect.
const LARGE: i64 = 5000;

/// Sequential scans per table of schema skytrap, as the statistics collector has them.
async fn seq_scans(client: &Client) -> HashMap<String, (i64, i64)> {
    client
        .batch_execute("SELECT pg_stat_clear_snapshot()")
        .await
        .unwrap();
    client
        .query(
            "SELECT relname::text, seq_scan, n_tup_ins FROM pg_stat_user_tables
             WHERE schemaname = 'skytrap'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn no_per_image_statement_reads_a_large_table_whole() {
    let (url, client) = scratch_database("per_image_cost").await;
    let catalogue =
        std::fs::read_to_string(workspace().join("tests/bench/associate_catalogue.sql")).unwrap();
    client.batch_execute(&catalogue).await.unwrap();
    client.batch_execute("SELECT bench.grow(20)").await.unwrap();

    // Five epochs of a 256² field: a steady source in a corner and one at the centre, a
    // transient on in epoch 2 only (force-fitted after), and a source that in epoch 5 is
    // seen as two, 30″ either side of it (a fork). Epochs 1 to 4 again at 120 MHz.
    const SIZE: usize = 256;
    const EPOCHS: usize = 5;
    let settings = Settings {
        epochs: EPOCHS,
        seed: 5,
        size: SIZE,
        variables: 0,
        transients: 0,
        anywhere: false,
    };
    let on = |epochs: &[usize], flux: f64| -> Vec<f64> {
        (1..=EPOCHS)
            .map(|e| if epochs.contains(&e) { flux } else { 0.0 })
            .collect()
    };
    let bright = 30.0 * NOISE;
    let sources = [
        simulate::source_at(SIZE, "steady", 30.0, 30.0, on(&[1, 2, 3, 4, 5], bright)),
        simulate::source_at(SIZE, "steady", 127.5, 127.5, on(&[1, 2, 3, 4, 5], bright)),
        simulate::source_at(SIZE, "transient", 90.0, 170.0, on(&[2], bright)),
        simulate::source_at(SIZE, "steady", 180.0, 80.0, on(&[1, 2, 3, 4], bright)),
        simulate::source_at(SIZE, "steady", 174.0, 80.0, on(&[5], bright)),
        simulate::source_at(SIZE, "steady", 186.0, 80.0, on(&[5], bright)),
    ]
    .map(Result::unwrap);
    let dir = scratch_dir("per-image-cost");
    let images = simulate::render(&dir, &settings, &sources).unwrap();
    let mut series: Vec<PathBuf> = images[..EPOCHS - 1].to_vec();
    for (e, image) in images[..EPOCHS - 1].iter().enumerate() {
        let mut bytes = std::fs::read(image).unwrap();
        set_card(&mut bytes, "CRVAL3", "120000000.0");
        let copy = dir.join(format!("epoch_{:03}_120MHz.fits", e + 1));
        std::fs::write(&copy, bytes).unwrap();
        series.push(copy);
    }
    let monitors = [
        format!("{},{}", sources[1].ra, sources[1].dec),
        format!("{},{}", sources[1].ra + 0.05, sources[1].dec),
    ];
    let load = |images: &[PathBuf]| {
        let mut command = skytrap();
        command.args(["load", "--db", &url, "--dataset", "associate benchmark"]);
        for m in &monitors {
            command.args(["--monitor", m]);
        }
        succeed(command.args(images));
    };
    load(&series);

    // Statistics as autovacuum would keep them, and no autovacuum to read tables meanwhile.
    client.batch_execute("ANALYZE").await.unwrap();
    for r in client
        .query(
            "SELECT format('ALTER TABLE %I.%I SET (autovacuum_enabled = false)', schemaname, relname)
             FROM pg_stat_user_tables WHERE schemaname = 'skytrap'",
            &[],
        )
        .await
        .unwrap()
    {
        client.batch_execute(r.get(0)).await.unwrap();
    }
    let sizes: HashMap<String, i64> = client
        .query(
            "SELECT relname::text, n_live_tup FROM pg_stat_user_tables WHERE schemaname = 'skytrap'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let large: Vec<&String> = sizes
        .iter()
        .filter(|(_, &n)| n > LARGE)
        .map(|(t, _)| t)
        .collect();
    assert!(large.len() >= 5, "large tables: {large:?}");

    let before = seq_scans(&client).await;
    load(&images[EPOCHS - 1..]);
    // The loader's backend has exited, flushing its statistics; wait until they are seen.
    let deadline = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let now = seq_scans(&client).await;
        if now["extractedsource"].1 > before["extractedsource"].1 || Instant::now() > deadline {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        after["extractedsource"].1 > before["extractedsource"].1,
        "the last load's statistics never arrived"
    );
    let scanned: Vec<String> = large
        .iter()
        .filter(|t| after[**t].0 > before[**t].0)
        .map(|t| {
            format!(
                "{t} ({} rows): {} scans",
                sizes[*t],
                after[*t].0 - before[*t].0
            )
        })
        .collect();
    assert!(
        scanned.is_empty(),
        "scanned whole by one image's load: {scanned:?}"
    );

    // The image did what it was made for: a fork, forced fits and monitor points.
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE a.type = 2), count(*) FILTER (WHERE a.type = 7),
                    count(*) FILTER (WHERE a.type = 9)
             FROM skytrap.image i
             JOIN skytrap.extractedsource x ON x.image = i.id
             JOIN skytrap.assocxtrsource a ON a.xtrsrc = x.id
             WHERE i.url LIKE '%epoch_005.fits'",
            &[],
        )
        .await
        .unwrap();
    let (forks, forced, monitored): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((forks, forced, monitored), (2, 1, 2));
    std::fs::remove_dir_all(dir).unwrap();
}
