//! Nothing lost, nothing doubled (issue 7): `skytrap load` is killed with SIGKILL at 22
//! chosen points (during extraction, at the image row, at COPY, at each table association
//! writes, at the alert outbox, and at timed moments) and re-run; the PostgreSQL server is
//! restarted under it (fast and immediate shutdown) and kept down past `--retry-for`. Every
//! time the final database equals an uninterrupted load, table by table and row by row.
//!
//! Size: 12 epochs of 512x512 simulated images (about 60 sources each, 4 transients,
//! 4 variables); the test takes about a minute.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{
    assert_same, assert_sound, connect, dump, scratch_database, scratch_dir, skytrap, succeed,
    Dump, KillOnDrop, PrivateCluster,
};
use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

fn series(name: &str) -> (PathBuf, Vec<PathBuf>) {
    let dir = scratch_dir(name);
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 12,
            seed: 11,
            size: 512,
            variables: 4,
            transients: 4,
            anywhere: false,
        },
    )
    .unwrap();
    (dir, images)
}

/// A load of the series, with a monitor position near the field's centre.
fn load(url: &str, dataset: &str, images: &[PathBuf]) -> std::process::Command {
    let monitor = simulate::source_at(512, "steady", 256.0, 300.0, Vec::new()).unwrap();
    let mut c = skytrap();
    c.args(["load", "--db", url, "--dataset", dataset])
        .args(["--monitor", &format!("{},{}", monitor.ra, monitor.dec)])
        .args(images)
        .stdout(Stdio::null());
    c
}

/// What the loader's backend is doing: (state, wait event type), if it is connected.
async fn loader_backend(watch: &Client) -> Option<(String, Option<String>)> {
    watch
        .query_opt(
            "SELECT state, wait_event_type FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'skytrap load'",
            &[],
        )
        .await
        .unwrap()
        .map(|r| (r.get::<_, Option<String>>(0).unwrap_or_default(), r.get(1)))
}

async fn images_stored(watch: &Client) -> i64 {
    watch
        .query_one("SELECT count(*) FROM skytrap.image", &[])
        .await
        .unwrap()
        .get(0)
}

/// Whether the loader waits for a lock on this table.
async fn waits_for(watch: &Client, table: &str) -> bool {
    watch
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                            WHERE NOT l.granted AND a.application_name = 'skytrap load'
                              AND l.relation = ('skytrap.' || $1)::regclass)",
            &[&table],
        )
        .await
        .unwrap()
        .get(0)
}

/// Polls `done` every 5 ms until it holds or the loader exits (false) or a minute passes.
async fn until<F, Fut>(loader: &mut KillOnDrop, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if done().await {
            return true;
        }
        if loader.0.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the loader neither reached the point nor finished within a minute"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits for a loader started with piped stderr; its exit status and stderr.
fn finish(loader: &mut KillOnDrop) -> (std::process::ExitStatus, String) {
    let mut stderr = String::new();
    loader
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (loader.0.wait().unwrap(), stderr)
}

/// Where a loader is killed.
#[derive(Clone, Copy, Debug)]
enum Point {
    /// This long after it connected: while it extracts, before it writes.
    Extracting(u64),
    /// Once it waits for a lock on this table, after storing this many more images
    /// (the test holds the lock; the loader's transaction is midway).
    Writing(&'static str, i64),
    /// This long after it started, wherever it is.
    After(u64),
}

/// The tables one image's transaction writes, in about the order it writes them: the
/// image row, the sources (COPY), association, the alert outbox.
const WRITES: [&str; 7] = [
    "image",
    "extractedsource",
    "runningcatalog",
    "runningcatalog_flux",
    "assocxtrsource",
    "newsource",
    "alert",
];

/// Runs a loader to `point` and kills it there (SIGKILL). Returns where it was when
/// killed, or None if it finished first.
async fn kill_at(url: &str, images: &[PathBuf], watch: &Client, point: Point) -> Option<String> {
    let before = images_stored(watch).await;
    let locker = connect(url).await;
    if let Point::Writing(table, 0) = point {
        locker
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE skytrap.{table} IN SHARE ROW EXCLUSIVE MODE"
            ))
            .await
            .unwrap();
    }
    let mut loader = KillOnDrop(
        load(url, "crash", images)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let hit = match point {
        Point::Extracting(ms) => {
            if !until(&mut loader, || async {
                loader_backend(watch).await.is_some()
            })
            .await
            {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(ms)).await;
            let state = loader_backend(watch).await;
            let idle = matches!(&state, Some((s, _)) if s == "idle");
            (idle && images_stored(watch).await == before).then(|| "extraction".to_string())
        }
        Point::Writing(table, more) => {
            if more > 0 {
                let stored = until(&mut loader, || async {
                    images_stored(watch).await >= before + more
                })
                .await;
                if !stored {
                    return None;
                }
                // Granted once the loader commits the image it is writing.
                locker
                    .batch_execute(&format!(
                        "BEGIN; LOCK TABLE skytrap.{table} IN SHARE ROW EXCLUSIVE MODE"
                    ))
                    .await
                    .unwrap();
            }
            until(&mut loader, || waits_for(watch, table))
                .await
                .then(|| table.to_string())
        }
        Point::After(ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            loader_backend(watch)
                .await
                .map(|(state, wait)| format!("{state} {}", wait.unwrap_or_default()))
        }
    };
    drop(loader);
    locker.batch_execute("ROLLBACK").await.unwrap();
    // The killed loader's backend rolls back within a second (client_connection_check_interval).
    let start = Instant::now();
    while loader_backend(watch).await.is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the killed loader's backend is still there after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Every image in the database is whole: associated, or rejected with its reason.
    let partial: i64 = watch
        .query_one(
            "SELECT count(*) FROM skytrap.image i WHERE i.associated_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM skytrap.rejection j WHERE j.image = i.id)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(partial, 0, "a half-stored image after a kill at {point:?}");
    hit
}

#[tokio::test]
async fn killed_and_restarted_loads_end_as_an_uninterrupted_one() {
    let (dir, images) = series("crash");
    let (reference_url, reference) = scratch_database("crash_reference").await;
    let started = Instant::now();
    succeed(&mut load(&reference_url, "crash", &images));
    let uninterrupted = started.elapsed();
    let want = dump(&reference).await;
    assert_sound(&reference, "after an uninterrupted load").await;
    let rows = |dump: &Dump, table: &str| dump.iter().find(|t| t.0 == table).unwrap().1.len();
    assert_eq!(
        rows(&want, "image"),
        images.len(),
        "every image in the reference"
    );
    for table in ["alert", "monitor", "config", "newsource"] {
        assert!(rows(&want, table) > 0, "the series writes {table}");
    }

    // SIGKILL at 22 points, resuming each time.
    let (url, watch) = scratch_database("crash_killed").await;
    let mut points = vec![
        Point::Extracting(0),
        Point::Extracting(15),
        Point::Extracting(30),
        Point::Extracting(45),
    ];
    // The first five tables are written for every image, the last two only for images
    // with new sources or alerts; each `Writing(_, 1)` lets one more image through.
    let (every_image, some_images) = WRITES.split_at(5);
    points.extend(every_image.iter().map(|t| Point::Writing(t, 0)));
    points.extend(every_image.iter().map(|t| Point::Writing(t, 1)));
    points.extend(some_images.iter().map(|t| Point::Writing(t, 0)));
    points.extend(some_images.iter().map(|t| Point::Writing(t, 1)));
    let mut hits = Vec::new();
    for point in points {
        if let Some(hit) = kill_at(&url, &images, &watch, point).await {
            hits.push(hit);
        }
    }
    let out = succeed(&mut load(&url, "crash", &images));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already loaded"), "{stderr}");
    assert_same("after 18 kills", &dump(&watch).await, &want);
    assert_sound(&watch, "after 18 kills").await;

    // Kills at a fifth, two fifths... of an uninterrupted load's time, wherever the loader
    // is then, each in a database of its own (so that there is work left to interrupt),
    // each followed by a re-run.
    for fifth in 1..=4 {
        let (url, watch) = scratch_database(&format!("crash_timed_{fifth}")).await;
        let at = uninterrupted * fifth / 5;
        if let Some(hit) = kill_at(&url, &images, &watch, Point::After(at.as_millis() as u64)).await
        {
            hits.push(hit);
        }
        succeed(&mut load(&url, "crash", &images));
        assert_same(
            &format!("after a kill at {at:?}"),
            &dump(&watch).await,
            &want,
        );
    }
    println!("killed at: {hits:?}");
    assert!(
        hits.len() >= 18,
        "only {} kills hit the loader mid-run: {hits:?}",
        hits.len()
    );
    for stage in std::iter::once("extraction").chain(WRITES) {
        assert!(
            hits.iter().any(|h| h == stage),
            "no kill at {stage}: {hits:?}"
        );
    }

    // The server restarted under a running loader, twice each way: it reconnects and
    // finishes the job in the same run.
    let cluster = PrivateCluster::start("crash-server");
    let url = cluster.url();
    let mut loader = KillOnDrop(
        load(&url, "crash", &images)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    for (mode, table, stored) in [
        ("fast", "runningcatalog", 1),
        ("immediate", "extractedsource", 3),
        ("fast", "alert", 5),
        ("immediate", "assocxtrsource", 8),
    ] {
        let watch = connect(&url).await;
        assert!(
            until(&mut loader, || async {
                images_stored(&watch).await >= stored
            })
            .await,
            "the loader finished before the {mode} restart"
        );
        let locker = connect(&url).await;
        locker
            .batch_execute(&format!(
                "BEGIN; LOCK TABLE skytrap.{table} IN SHARE ROW EXCLUSIVE MODE"
            ))
            .await
            .unwrap();
        assert!(until(&mut loader, || waits_for(&watch, table)).await);
        cluster.restart(mode);
    }
    let (status, stderr) = finish(&mut loader);
    assert!(
        status.success(),
        "the loader did not survive the restarts: {stderr}"
    );
    assert_eq!(
        stderr.matches("lost the database").count(),
        4,
        "one reconnection per restart: {stderr}"
    );
    let out = succeed(&mut load(&url, "crash", &images));
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 images loaded, 12 already loaded"));
    let server = connect(&url).await;
    assert_same("after 4 server restarts", &dump(&server).await, &want);
    assert_sound(&server, "after 4 server restarts").await;

    // A server that stays down: a clear error once --retry-for runs out; a re-run converges.
    succeed(&mut load(&reference_url, "down", &images));
    let want = dump(&reference).await;
    let mut loader = KillOnDrop(
        load(&url, "down", &images)
            .args(["--retry-for", "3"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let locker = connect(&url).await;
    assert!(
        until(&mut loader, || async {
            images_stored(&server).await >= 12 + 4
        })
        .await
    );
    locker
        .batch_execute("BEGIN; LOCK TABLE skytrap.runningcatalog IN SHARE ROW EXCLUSIVE MODE")
        .await
        .unwrap();
    assert!(until(&mut loader, || waits_for(&server, "runningcatalog")).await);
    cluster.down();
    let (status, stderr) = finish(&mut loader);
    assert!(!status.success());
    assert!(
        stderr.contains("did not come back within 3 s; run the same command again to resume"),
        "{stderr}"
    );
    cluster.up();
    succeed(&mut load(&url, "down", &images));
    let server = connect(&url).await;
    assert_same("after the server stayed down", &dump(&server).await, &want);
    assert_sound(&server, "after the server stayed down").await;
    std::fs::remove_dir_all(dir).unwrap();
}
