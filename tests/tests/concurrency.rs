//! Loaders of different datasets do not wait for each other, and analysts reading the
//! database (a long query, an open REPEATABLE READ transaction) do not hold up loading
//! (issue 7). Loaders of the same dataset serialize: see end_to_end.rs. The locks that
//! make them take turns are rows no outsider may lock: a session holding the advisory
//! locks of 0.2.0 holds up nothing, and a loader kept waiting past lock_timeout says why
//! in one line (issue 24). Size: 6 epochs of 256x256 simulated images per dataset; 3
//! epochs of 128x128 for the locks.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{
    assert_same, connect, dataset_summary, dump_dataset, scratch_database, scratch_dir, skytrap,
    succeed, KillOnDrop,
};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

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

/// Opens a transaction on `holder` that holds the loading lock of `dataset`, as a loader
/// storing an image does: its row, locked FOR NO KEY UPDATE.
async fn hold_dataset_lock(holder: &Client, dataset: &str) {
    holder.batch_execute("BEGIN").await.unwrap();
    let locked = holder
        .execute(
            "SELECT FROM skytrap.dataset WHERE description = $1 FOR NO KEY UPDATE",
            &[&dataset],
        )
        .await
        .unwrap();
    assert_eq!(locked, 1, "dataset {dataset} exists");
}

/// Three epochs of a small simulated field with two transients: alerts from the second.
fn small_series(name: &str) -> (PathBuf, Vec<PathBuf>) {
    let dir = scratch_dir(name);
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 3,
            seed: 24,
            size: 128,
            variables: 1,
            transients: 2,
            anywhere: false,
        },
    )
    .unwrap();
    (dir, images)
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
    let load = |dataset: &str, images: &[PathBuf]| {
        let mut c = skytrap();
        c.args(["load", "--db", &url, "--dataset", dataset])
            .args(images)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    succeed(&mut load("serial", &images));
    let serial = dataset_summary(&client, "serial").await;
    assert_eq!(serial[0], 6);

    // Dataset "held" exists; the test takes its loading lock (the lock on its row that
    // every loader of a dataset takes per image), as a slow loader of that dataset would.
    succeed(&mut load("held", &images[..1]));
    let holder = connect(&url).await;
    hold_dataset_lock(&holder, "held").await;

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
    holder.batch_execute("COMMIT").await.unwrap();
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

/// Any role may take any advisory lock. A session holding the ones 0.2.0 used for a
/// dataset (7291, id) and for the alert order (7292, 0) no longer holds up a load of that
/// dataset or the alerts it raises.
#[tokio::test(flavor = "current_thread")]
async fn advisory_locks_held_by_a_session_hold_up_nothing() {
    let (dir, images) = small_series("advisory-locks");
    let (url, client) = scratch_database("advisory_locks").await;
    let load = |images: &[PathBuf]| {
        let mut c = skytrap();
        c.args(["load", "--db", &url, "--dataset", "advised"])
            .args(images)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    succeed(&mut load(&images[..1]));
    let dataset: i32 = client
        .query_one(
            "SELECT id FROM skytrap.dataset WHERE description = 'advised'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let holder = connect(&url).await;
    holder
        .execute(
            "SELECT pg_advisory_lock(7291, $1), pg_advisory_lock(7292, 0)",
            &[&dataset],
        )
        .await
        .unwrap();

    let mut loader = KillOnDrop(load(&images).spawn().unwrap());
    assert!(
        exits(&mut loader, Duration::from_secs(60)).await,
        "the load waited for a session's advisory locks"
    );
    let summary = dataset_summary(&client, "advised").await;
    assert_eq!(summary[0], 3, "every epoch loaded");
    assert!(summary[4] > 0, "alerts raised: {summary:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// A loader that cannot get its dataset's lock within lock_timeout (the session's own, set
/// here in the URL; 10 minutes where it sets none) gives up with one line that names the
/// dataset and says another loader holds it.
#[tokio::test(flavor = "current_thread")]
async fn a_loader_kept_from_its_dataset_says_so() {
    let (dir, images) = small_series("lock-timeout");
    let (url, _client) = scratch_database("lock_timeout").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "busy"])
            .arg(&images[0]),
    );
    let holder = connect(&url).await;
    hold_dataset_lock(&holder, "busy").await;

    let separator = if url.contains('?') { '&' } else { '?' };
    let impatient = format!("{url}{separator}options=-c%20lock_timeout%3D1s");
    let started = Instant::now();
    let out = skytrap()
        .args(["load", "--db", &impatient, "--dataset", "busy"])
        .args(&images)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("dataset 'busy' is locked: another loader holds it"),
        "{stderr}"
    );
    holder.batch_execute("ROLLBACK").await.unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}
