//! Least privilege: plain LOGIN users in skytrap_loader, skytrap_listener and
//! skytrap_analyst run what their role is for (a load with association and alerts, a
//! listener with its cursor, an analyst's reads and scratch tables) and are refused, with
//! SQLSTATE 42501, everything else asked of them here. The users are cluster-wide, so
//! their names are unique to the run, and they are dropped at the end, passed or failed.

use futures_util::FutureExt;
use skytrap_core::sky;
use skytrap_tests::{connect, read_truth, scratch_database, scratch_dir, skytrap, succeed, Truth};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// The test's LOGIN users, each a member of one skytrap role.
struct Users {
    loader: String,
    listener: String,
    /// A second listener, whose cursor is not the first one's.
    other_listener: String,
    analyst: String,
    password: String,
}

impl Users {
    fn new() -> Users {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let run = format!("{}_{}", std::process::id(), nanos % 1_000_000_000);
        Users {
            loader: format!("skytrap_t{run}_loader"),
            listener: format!("skytrap_t{run}_listener"),
            other_listener: format!("skytrap_t{run}_listener2"),
            analyst: format!("skytrap_t{run}_analyst"),
            password: format!("p{nanos:x}"),
        }
    }

    fn all(&self) -> [&str; 4] {
        [
            &self.loader,
            &self.listener,
            &self.other_listener,
            &self.analyst,
        ]
    }

    async fn create(&self, admin: &Client) {
        for (user, role) in [
            (&self.loader, "skytrap_loader"),
            (&self.listener, "skytrap_listener"),
            (&self.other_listener, "skytrap_listener"),
            (&self.analyst, "skytrap_analyst"),
        ] {
            // Names and password are made above, never taken from input.
            admin
                .batch_execute(&format!(
                    "CREATE ROLE {user} LOGIN PASSWORD '{}' IN ROLE {role}",
                    self.password
                ))
                .await
                .unwrap();
        }
    }

    /// Drops what the users own in the test database (the analyst's scratch table), then
    /// the users.
    async fn drop(&self, admin: &Client) {
        let names = self.all().join(", ");
        let _ = admin.batch_execute(&format!("DROP OWNED BY {names}")).await;
        for user in self.all() {
            let _ = admin
                .batch_execute(&format!("DROP ROLE IF EXISTS {user}"))
                .await;
        }
    }

    /// `url` with this user and password in place of its own user.
    fn url(&self, url: &str, user: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let host_start = rest[..rest.find('/').unwrap_or(rest.len())]
            .rfind('@')
            .map_or(0, |at| at + 1);
        format!(
            "{scheme}://{user}:{}@{}",
            self.password,
            &rest[host_start..]
        )
    }
}

/// Runs `sql` in a transaction that is rolled back, and asserts that it is refused with
/// insufficient_privilege (42501).
async fn refused(client: &Client, sql: &str) {
    client.batch_execute("BEGIN").await.unwrap();
    let result = client.batch_execute(sql).await;
    client.batch_execute("ROLLBACK").await.unwrap();
    let err = result.expect_err(&format!("allowed, should be refused: {sql}"));
    assert_eq!(
        err.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{sql}: {err:?}"
    );
}

/// The position within 0.12° of the simulated field's centre (123.4, 56.7) farthest from
/// every simulated source.
fn emptiest(truth: &[Truth]) -> (f64, f64) {
    let (ra0, dec0) = (123.4, 56.7);
    let grid = (-12..=12).flat_map(|i| (-12..=12).map(move |j| (i, j)));
    let positions = grid.map(|(i, j)| {
        let dec = dec0 + f64::from(j) * 0.01;
        (ra0 + f64::from(i) * 0.01 / dec.to_radians().cos(), dec)
    });
    let clearance = |&(ra, dec): &(f64, f64)| {
        truth
            .iter()
            .map(|t| sky::distance(ra, dec, t.ra, t.dec))
            .fold(f64::INFINITY, f64::min)
    };
    positions
        .max_by(|a, b| clearance(a).total_cmp(&clearance(b)))
        .unwrap()
}

fn count_lines(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).lines().count()
}

#[tokio::test(flavor = "current_thread")]
async fn each_role_does_its_job_and_nothing_more() {
    let started = std::time::Instant::now();
    let (url, admin) = scratch_database("privileges").await;
    let users = Users::new();
    users.create(&admin).await;
    let result = AssertUnwindSafe(scenario(&url, &admin, &users))
        .catch_unwind()
        .await;
    users.drop(&admin).await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    eprintln!("privileges: {:.1} s", started.elapsed().as_secs_f64());
}

async fn scenario(url: &str, admin: &Client, users: &Users) {
    let (loader_url, listener_url, other_listener_url, analyst_url) = (
        users.url(url, &users.loader),
        users.url(url, &users.listener),
        users.url(url, &users.other_listener),
        users.url(url, &users.analyst),
    );

    // Every table and view of schema skytrap; the pipeline's are all but the outbox and
    // the listeners' two.
    let relations: Vec<(String, bool)> = admin
        .query(
            "SELECT c.relname::text, c.relkind = 'r' FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'skytrap' AND c.relkind IN ('r', 'v') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let listeners_own = ["alert", "alert_consumer", "alert_parked"];
    let pipeline: Vec<&str> = relations
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| !listeners_own.contains(name))
        .collect();
    assert!(pipeline.contains(&"image") && pipeline.contains(&"lightcurve"));

    // The loader: a simulated series, end to end: epochs 1 and 3, then all three again
    // (the re-run skips what is in, so epoch 2 comes in late, --allow-late, and moves the previous point
    // of epoch 3's links), with a monitor position in the emptiest part of the field that
    // every epoch force-fits.
    let dir = scratch_dir("privileges");
    succeed(
        skytrap()
            .arg("simulate")
            .arg(&dir)
            .args(["--epochs", "3", "--size", "256"]),
    );
    let mut images: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fits"))
        .collect();
    images.sort();
    assert_eq!(images.len(), 3);
    let (ra, dec) = emptiest(&read_truth(&dir));
    let monitor = format!("{ra},{dec}");
    succeed(
        skytrap()
            .args(["load", "--db", &loader_url, "--dataset", "privileges"])
            .args(["--monitor", &monitor])
            .args([&images[0], &images[2]]),
    );
    succeed(
        skytrap()
            .args(["load", "--db", &loader_url, "--dataset", "privileges"])
            .args(["--monitor", &monitor, "--allow-late"])
            .args(&images),
    );
    let row = admin
        .query_one(
            "SELECT (SELECT count(*) FROM skytrap.image WHERE associated_at IS NOT NULL),
                    (SELECT count(*) FROM skytrap.runningcatalog),
                    (SELECT count(*) FROM skytrap.newsource),
                    (SELECT count(*) FROM skytrap.monitor WHERE runcat IS NOT NULL),
                    (SELECT count(*) FROM skytrap.alert),
                    (SELECT max(alert_id) FROM skytrap.alert)",
            &[],
        )
        .await
        .unwrap();
    let (associated, lightcurves, new_sources, monitored, alerts, newest): (
        i64,
        i64,
        i64,
        i64,
        i64,
        Option<i64>,
    ) = (
        row.get(0),
        row.get(1),
        row.get(2),
        row.get(3),
        row.get(4),
        row.get(5),
    );
    assert_eq!(associated, 3, "every image associated");
    assert!(lightcurves > 10, "{lightcurves} lightcurves");
    assert!(new_sources > 0, "no new sources");
    assert_eq!(monitored, 1, "the monitor position has its lightcurve");
    let monitor_points: i64 = admin
        .query_one(
            "SELECT count(*) FROM skytrap.monitor m
             JOIN skytrap.assocxtrsource a ON a.runcat = m.runcat",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        monitor_points, 3,
        "a monitor point in each epoch, the late one too"
    );
    assert!(alerts >= 2, "{alerts} alerts");
    // Each link names the last point of the latest earlier time in its band and Stokes
    // parameter, worked out here in SQL from the lightcurves as stored.
    let (named, wrong): (i64, i64) = admin
        .query_one(
            "WITH point AS (
                 SELECT a.runcat, a.xtrsrc, a.prev_xtrsrc, i.band, i.stokes, i.taustart_ts
                 FROM skytrap.assocxtrsource a
                 JOIN skytrap.extractedsource x ON x.id = a.xtrsrc
                 JOIN skytrap.image i ON i.id = x.image),
             expected AS (
                 SELECT p.prev_xtrsrc, (SELECT q.xtrsrc FROM point q
                                        WHERE q.runcat = p.runcat AND q.band = p.band
                                          AND q.stokes = p.stokes
                                          AND q.taustart_ts < p.taustart_ts
                                        ORDER BY q.taustart_ts DESC, q.xtrsrc DESC
                                        LIMIT 1) AS xtrsrc
                 FROM point p)
             SELECT count(prev_xtrsrc), count(*) FILTER (WHERE prev_xtrsrc IS DISTINCT FROM xtrsrc)
             FROM expected",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert!(named > 10, "{named} links name a previous point");
    assert_eq!(wrong, 0, "links naming the wrong previous point");
    let newest = newest.unwrap();
    // ... and the dataset's alert rules.
    succeed(skytrap().args([
        "rules",
        "--db",
        &loader_url,
        "set",
        "--dataset",
        "privileges",
        "variable",
        "--eta-min",
        "9",
    ]));
    let eta_min: f64 = admin
        .query_one(
            "SELECT eta_min FROM skytrap.alert_rule WHERE kind = 'variable'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(eta_min, 9.0);

    // The listener: one alert, then the rest where its cursor stopped.
    let consumer = format!("{}_cursor", users.listener);
    let out = succeed(skytrap().args([
        "listen",
        "--db",
        &listener_url,
        "--consumer",
        &consumer,
        "--from",
        "0",
        "--limit",
        "1",
    ]));
    assert_eq!(count_lines(&out.stdout), 1);
    let cursor = |name: String| async move {
        admin
            .query_one(
                "SELECT last_alert_id, owner::text FROM skytrap.alert_consumer WHERE name = $1",
                &[&name],
            )
            .await
            .map(|r| (r.get::<_, i64>(0), r.get::<_, String>(1)))
            .unwrap()
    };
    let (first, owner) = cursor(consumer.clone()).await;
    assert_eq!(owner, users.listener);
    assert!(first > 0 && first < newest);
    let rest = (alerts - 1).to_string();
    let out = succeed(skytrap().args([
        "listen",
        "--db",
        &listener_url,
        "--consumer",
        &consumer,
        "--limit",
        &rest,
    ]));
    assert_eq!(count_lines(&out.stdout) as i64, alerts - 1);
    assert_eq!(
        cursor(consumer.clone()).await,
        (newest, users.listener.clone())
    );
    // It parks its own failures.
    succeed(skytrap().args([
        "listen",
        "--db",
        &listener_url,
        "--consumer",
        &format!("{consumer}_exec"),
        "--from",
        "0",
        "--limit",
        "1",
        "--exec-attempts",
        "1",
        "--exec",
        "exit 3",
    ]));
    let parked: Vec<(String, String)> = admin
        .query(
            "SELECT consumer, owner::text FROM skytrap.alert_parked",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        parked,
        vec![(format!("{consumer}_exec"), users.listener.clone())]
    );

    // The analyst reads every table and view, every listener's cursor among them, and
    // keeps tables of its own.
    let analyst = connect(&analyst_url).await;
    for (relation, _) in &relations {
        analyst
            .batch_execute(&format!("SELECT * FROM skytrap.{relation} LIMIT 1"))
            .await
            .unwrap_or_else(|e| panic!("analyst cannot read {relation}: {e:?}"));
    }
    let seen: i64 = analyst
        .query_one("SELECT count(*) FROM skytrap.alert_consumer", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 2);
    analyst
        .batch_execute(
            "CREATE TABLE skytrap_scratch.bright AS
                 SELECT runcat, max(f_int) AS f_int FROM skytrap.lightcurve GROUP BY runcat;
             CREATE TEMP TABLE variable AS SELECT * FROM skytrap.varmetric WHERE eta_int > 1;
             INSERT INTO skytrap_scratch.bright SELECT runcat, lightcurve_max FROM variable;",
        )
        .await
        .unwrap();
    let out = succeed(skytrap().args([
        "rules",
        "--db",
        &analyst_url,
        "show",
        "--dataset",
        "privileges",
    ]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("eta_min=9"));

    // ... and is refused every change to the pipeline.
    for (relation, is_table) in &relations {
        if !is_table {
            continue;
        }
        let column: String = admin
            .query_one(
                "SELECT attname::text FROM pg_attribute
                 WHERE attrelid = ('skytrap.' || $1)::regclass AND attnum = 1",
                &[relation],
            )
            .await
            .unwrap()
            .get(0);
        let t = format!("skytrap.{relation}");
        refused(&analyst, &format!("INSERT INTO {t} DEFAULT VALUES")).await;
        refused(&analyst, &format!("UPDATE {t} SET {column} = {column}")).await;
        refused(&analyst, &format!("DELETE FROM {t}")).await;
        refused(&analyst, &format!("TRUNCATE {t} CASCADE")).await;
    }
    refused(&analyst, "SELECT * FROM skytrap.associate_image(1)").await;
    refused(&analyst, "SELECT skytrap.frequencyband_for(1, 1e8, 1e6)").await;
    refused(&analyst, "SELECT skytrap.fork_lightcurves('{}', '{}')").await;
    refused(&analyst, "CREATE TABLE skytrap.mine (x int)").await;
    let out = skytrap()
        .args([
            "rules",
            "--db",
            &analyst_url,
            "set",
            "--dataset",
            "privileges",
        ])
        .args(["variable", "--eta-min", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("permission denied"));

    // The listener reads nothing of the pipeline but the outbox, writes no alerts, and
    // cannot see or move another listener's cursor.
    let listener = connect(&listener_url).await;
    for relation in &pipeline {
        refused(
            &listener,
            &format!("SELECT * FROM skytrap.{relation} LIMIT 1"),
        )
        .await;
    }
    refused(
        &listener,
        "INSERT INTO skytrap.alert (kind, dataset, runcat, xtrsrc, image, body)
         VALUES ('new_source', 1, 1, 1, 1, '{}')",
    )
    .await;
    // Nor give its own cursor away.
    refused(
        &listener,
        &format!("UPDATE skytrap.alert_consumer SET owner = 'postgres' WHERE name = '{consumer}'"),
    )
    .await;
    let other = connect(&other_listener_url).await;
    let visible: i64 = other
        .query_one("SELECT count(*) FROM skytrap.alert_consumer", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(visible, 0, "another listener's cursors are invisible");
    let moved = other
        .execute(
            "UPDATE skytrap.alert_consumer SET last_alert_id = 0 WHERE name = $1",
            &[&consumer],
        )
        .await
        .unwrap();
    assert_eq!(moved, 0);
    refused(
        &other,
        &format!(
            "INSERT INTO skytrap.alert_consumer (name, last_alert_id) VALUES ('{consumer}', 0)
             ON CONFLICT (name) DO UPDATE SET last_alert_id = EXCLUDED.last_alert_id"
        ),
    )
    .await;
    let out = skytrap()
        .args([
            "listen",
            "--db",
            &other_listener_url,
            "--consumer",
            &consumer,
        ])
        .args(["--limit", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to another database role"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = skytrap()
        .args([
            "listen",
            "--db",
            &other_listener_url,
            "--consumer",
            &consumer,
        ])
        .args(["--from", "0", "--limit", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("row-level security"));
    assert_eq!(
        cursor(consumer.clone()).await,
        (newest, users.listener.clone())
    );

    // The loader changes no table's definition, no listener's cursor, no role.
    let loader = connect(&loader_url).await;
    refused(&loader, "DROP TABLE skytrap.image CASCADE").await;
    refused(&loader, "ALTER TABLE skytrap.image ADD COLUMN note text").await;
    refused(
        &loader,
        "ALTER TABLE skytrap.alert_consumer DISABLE ROW LEVEL SECURITY",
    )
    .await;
    refused(&loader, "TRUNCATE skytrap.image CASCADE").await;
    refused(&loader, "DELETE FROM skytrap.image").await;
    refused(
        &loader,
        "UPDATE skytrap.alert_consumer SET last_alert_id = 0",
    )
    .await;
    refused(&loader, "DELETE FROM skytrap.alert_consumer").await;
    refused(
        &loader,
        "INSERT INTO skytrap.alert_consumer (name, owner) VALUES ('sneaky', 'postgres')",
    )
    .await;
    refused(&loader, "SELECT * FROM skytrap.alert_parked").await;
    refused(&loader, &format!("CREATE ROLE {}_new LOGIN", users.loader)).await;
    refused(
        &loader,
        &format!("GRANT skytrap_analyst TO {}", users.loader),
    )
    .await;
    assert_eq!(cursor(consumer).await, (newest, users.listener.clone()));

    std::fs::remove_dir_all(dir).unwrap();
}
