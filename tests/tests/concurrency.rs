//! Loaders of different datasets do not wait for each other, and analysts reading the
//! database (a long query, an open REPEATABLE READ transaction) do not hold up loading
//! (issue 7). Loaders of the same dataset serialize: see end_to_end.rs. Size: 6 epochs of
//! 256x256 simulated images per dataset.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{
    assert_same, connect, dataset_summary, dump_dataset, scratch_database, scratch_dir, skytrap,
    succeed, KillOnDrop,
};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Waits for a loader, polling, so the test's own queries keep running meanwhile.
async fn exits(loader: &mut KillOnDrop, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Some(status) = loader.0.try_wait().unwrap() {
            assert!(status.success(), "a loader failed");
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "current_thread")]
async fn datasets_load_in_parallel_and_readers_never_block_loading() {
    let dir = scratch_dir("concurrency");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 6,
            seed: 21,
            size: 256,
            variables: 2,
            transients: 2,
            anywhere: false,
        },
    )
    .unwrap();
    let (url, client) = scratch_database("concurrency").await;
    let load = |dataset: &str, images: &[std::path::PathBuf]| {
        let mut c = skytrap();
        c.args(["--db", &url, "load", "--dataset", dataset])
            .args(images)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    succeed(&mut load("serial", &images));
    let serial = dataset_summary(&client, "serial").await;
    assert_eq!(serial[0], 6);

    // Dataset "held" exists; the test takes its loading lock (the advisory lock every
    // loader of a dataset takes per image), as a slow loader of that dataset would.
    succeed(&mut load("held", &images[..1]));
    let held: i32 = client
        .query_one(
            "SELECT id FROM skytrap.dataset WHERE description = 'held'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let holder = connect(&url).await;
    holder
        .execute("SELECT pg_advisory_lock(7291, $1)", &[&held])
        .await
        .unwrap();

    // Analysts: one with an open REPEATABLE READ transaction that has read every
    // pipeline table, one running a 30-second query over the sources.
    let analyst = connect(&url).await;
    analyst
        .batch_execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ;
             SELECT count(*) FROM skytrap.image, skytrap.dataset;
             SELECT count(*) FROM skytrap.extractedsource;
             SELECT count(*) FROM skytrap.runningcatalog;
             SELECT count(*) FROM skytrap.runningcatalog_flux;
             SELECT count(*) FROM skytrap.assocxtrsource;
             SELECT count(*) FROM skytrap.varmetric;
             SELECT count(*) FROM skytrap.newsource;
             SELECT count(*) FROM skytrap.alert;",
        )
        .await
        .unwrap();
    let images_seen_before: i64 = analyst
        .query_one("SELECT count(*) FROM skytrap.image", &[])
        .await
        .unwrap()
        .get(0);
    let long_query = tokio::spawn({
        let reader = connect(&url).await;
        async move {
            reader
                .query_one(
                    "SELECT count(*) FROM skytrap.extractedsource, pg_sleep(30)",
                    &[],
                )
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    });

    let started = Instant::now();
    let mut loaders: Vec<KillOnDrop> = ["held", "one", "two", "three"]
        .iter()
        .map(|d| KillOnDrop(load(d, &images).spawn().unwrap()))
        .collect();
    for (n, loader) in loaders.iter_mut().enumerate().skip(1) {
        assert!(
            exits(loader, Duration::from_secs(25)).await,
            "loader {n} of another dataset waited for the held dataset or for the readers"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "loading waited for the 30-second reader"
    );
    assert!(
        !long_query.is_finished(),
        "the long query ended before loading did: the test proved nothing"
    );
    assert!(
        loaders[0].0.try_wait().unwrap().is_none(),
        "the held dataset's loader did not wait for its lock"
    );
    holder
        .execute("SELECT pg_advisory_unlock(7291, $1)", &[&held])
        .await
        .unwrap();
    assert!(exits(&mut loaders[0], Duration::from_secs(25)).await);

    // The readers' snapshot never moved, and every dataset is as a serial load left it.
    let images_seen_after: i64 = analyst
        .query_one("SELECT count(*) FROM skytrap.image", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(images_seen_after, images_seen_before);
    analyst.batch_execute("COMMIT").await.unwrap();
    let serial_rows = dump_dataset(&client, "serial").await;
    for dataset in ["held", "one", "two", "three"] {
        assert_same(
            &format!("dataset {dataset}"),
            &dump_dataset(&client, dataset).await,
            &serial_rows,
        );
    }
    long_query.abort();
    std::fs::remove_dir_all(dir).unwrap();
}
