//! `ALTER EXTENSION skytrap UPDATE` from each earlier release (issue 7): install its
//! frozen SQL (sql/install/), add data, update through sql/upgrade/, and compare the
//! catalog with a fresh install of the current version (tests/upgrade/catalog.sql lists
//! every table, column, constraint, index, trigger, policy, function, privilege and
//! comment). The data survives the update unchanged, and the updated database loads and
//! associates new images exactly as a fresh one does. The old version's rows come from
//! tests/upgrade/ (its README says how they were made): this library associates only in a
//! schema of its own version.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{
    assert_same, assert_sound, dataset_summary, dump, scratch_database_at, scratch_dir, skytrap,
    succeed, workspace, Dump,
};
use tokio_postgres::Client;

async fn catalog(client: &Client) -> Vec<String> {
    let sql = std::fs::read_to_string(workspace().join("tests/upgrade/catalog.sql")).unwrap();
    client
        .query(&sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A dump taken after the update, with only the columns each row had before it: the
/// columns an update adds are compared on their own (`previous_points`, `flux_state`).
fn as_before(after: &Dump, before: &Dump) -> Dump {
    let object = |text: &str| match serde_json::from_str(text).unwrap() {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("a dumped row is an object"),
    };
    after
        .iter()
        .zip(before)
        .map(|((table, rows), (_, old_rows))| {
            let rows = rows
                .iter()
                .zip(old_rows)
                .map(|(row, old)| {
                    let old = object(old);
                    let mut row = object(row);
                    row.retain(|k, _| old.contains_key(k));
                    serde_json::Value::Object(row).to_string()
                })
                .collect();
            (*table, rows)
        })
        .collect()
}

/// Each flux row's state beyond its sums (first and last time, last point, largest flux,
/// whether varmetric shows it), and each varmetric row's pair metrics and median, as text
/// in id order.
async fn flux_state(client: &Client) -> Vec<String> {
    client
        .query(
            "SELECT format('%s %s %s %s %s %s %s %s', runcat, first_ts, last_ts, last_xtrsrc,
                           last_prev_xtrsrc, last_f_int, max_f_int, varmetric_band)
             FROM skytrap.runningcatalog_flux ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Each varmetric row's pair metrics (|Vs| and |m|, integrated and peak), by lightcurve.
async fn pair_metrics(client: &Client) -> Vec<[f64; 4]> {
    client
        .query(
            "SELECT vs_abs_significant_max_int, m_abs_significant_max_int,
                    vs_abs_significant_max_peak, m_abs_significant_max_peak
             FROM skytrap.varmetric ORDER BY runcat",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| [r.get(0), r.get(1), r.get(2), r.get(3)])
        .collect()
}

/// Each link's (runcat, xtrsrc, previous point), in id order.
async fn previous_points(client: &Client) -> Vec<(i64, i64, Option<i64>)> {
    client
        .query(
            "SELECT runcat, xtrsrc, prev_xtrsrc FROM skytrap.assocxtrsource ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn update_from_0_1_0_equals_a_fresh_install() {
    update_equals_a_fresh_install("0.1.0").await;
}

#[tokio::test(flavor = "current_thread")]
async fn update_from_0_2_0_equals_a_fresh_install() {
    update_equals_a_fresh_install("0.2.0").await;
}

async fn update_equals_a_fresh_install(previous: &str) {
    let name = previous.replace('.', "_");
    let (old_url, old) = scratch_database_at(&format!("upgrade_old_{name}"), Some(previous)).await;
    let version: String = old
        .query_one(
            "SELECT extversion FROM pg_extension WHERE extname = 'skytrap'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, previous);

    // Data written by the old version (tests/upgrade/): three epochs of three steady
    // sources, a flaring one (1, 3, 2 Jy) and a transient in the third, associated; an
    // alert consumer's cursor.
    let upgrade = workspace().join("tests/upgrade");
    let read = |file: &str| std::fs::read_to_string(upgrade.join(file)).unwrap();
    let data = read("written_before.sql");
    let consumer = "INSERT INTO skytrap.alert_consumer (name, last_alert_id) VALUES ('archive', 1)";
    old.batch_execute(&data).await.unwrap();
    old.batch_execute(&read(&format!("associated-{previous}.sql")))
        .await
        .unwrap();
    old.batch_execute(consumer).await.unwrap();
    let before = dump(&old).await;
    assert_eq!(
        dataset_summary(&old, "written before").await,
        // The flaring source raises two flux jumps and, at its second point, a variable.
        [3, 5, 13, 1, 4]
    );

    // This skytrap refuses to load into the old version, and says what to do.
    let dir = scratch_dir(&format!("upgrade-{name}"));
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 4,
            seed: 8,
            size: 256,
            variables: 1,
            transients: 2,
            anywhere: false,
        },
    )
    .unwrap();
    let refused = skytrap()
        .args(["load", "--db", &old_url, "--dataset", "too early"])
        .args(&images)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let says = format!(
        "has skytrap {previous}, this skytrap is {}: update the extension",
        env!("CARGO_PKG_VERSION")
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains(&says));

    old.batch_execute("ALTER EXTENSION skytrap UPDATE")
        .await
        .unwrap();
    let version: String = old
        .query_one("SELECT skytrap.version()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, env!("CARGO_PKG_VERSION"));

    // The same catalog as a fresh install, fact for fact.
    let (new_url, new) = scratch_database_at(&format!("upgrade_new_{name}"), None).await;
    let (updated, fresh) = (catalog(&old).await, catalog(&new).await);
    let missing: Vec<&String> = fresh.iter().filter(|f| !updated.contains(f)).collect();
    let extra: Vec<&String> = updated.iter().filter(|f| !fresh.contains(f)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "after ALTER EXTENSION UPDATE the catalog differs from a fresh install:\n\
         missing {missing:#?}\nextra {extra:#?}"
    );
    assert!(
        fresh.len() > 500,
        "the catalog dump lists {} facts",
        fresh.len()
    );

    // The data is untouched; the cursor kept its place (now owned by the updating role).
    // Each link now names its previous point, as this version's association would have.
    let after = dump(&old).await;
    assert_same("after the update", &as_before(&after, &before), &before);
    assert_sound(&old, "after the update").await;
    new.batch_execute(&data).await.unwrap();
    new.batch_execute("SELECT skytrap.associate_image(id) FROM skytrap.image ORDER BY taustart_ts")
        .await
        .unwrap();
    new.batch_execute(consumer).await.unwrap();
    let previous = previous_points(&old).await;
    assert_eq!(previous, previous_points(&new).await);
    // The update works out each band's state as association keeps it, and the varmetric
    // view shows what the table held: the flaring source's largest significant |m| is
    // 1 Jy against 3 Jy, |m| = 1, |Vs| = 2/√0.02.
    assert_eq!(flux_state(&old).await, flux_state(&new).await);
    let pairs = pair_metrics(&old).await;
    assert_eq!(pairs, pair_metrics(&new).await);
    let flaring = [200f64.sqrt(), 1.0, 200f64.sqrt(), 1.0];
    assert!(
        pairs
            .iter()
            .any(|p| p.iter().zip(flaring).all(|(a, b)| (a - b).abs() < 1e-9)),
        "{pairs:?}"
    );
    assert_eq!(previous.iter().filter(|p| p.2.is_some()).count(), 8);
    let cursor: i64 = old
        .query_one(
            "SELECT last_alert_id FROM skytrap.alert_consumer WHERE name = 'archive'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(cursor, 1);

    // And the updated database loads like a fresh one.
    for url in [&old_url, &new_url] {
        succeed(
            skytrap()
                .args(["load", "--db", url, "--dataset", "after the update"])
                .args(&images),
        );
    }
    let loaded = dataset_summary(&new, "after the update").await;
    assert_eq!(loaded[0], 4);
    assert_eq!(dataset_summary(&old, "after the update").await, loaded);
    assert_sound(&old, "after the update and a load").await;
    assert_sound(&new, "after a load").await;
    std::fs::remove_dir_all(dir).unwrap();
}
