//! `ALTER EXTENSION skytrap UPDATE` from each earlier release (issue 7): install its
//! frozen SQL (sql/install/), add data, update through sql/upgrade/, and compare the
//! catalog with a fresh install of the current version (tests/upgrade/catalog.sql lists
//! every table, column, constraint, index, trigger, policy, function, privilege and
//! comment). The data survives the update unchanged, and the updated database loads and
//! associates new images exactly as a fresh one does.

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
/// columns an update adds are compared on their own (`previous_points`, `band_pairs`).
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

/// Each flux row's pair metrics (|Vs| and |m|, integrated and peak), in id order.
async fn band_pairs(client: &Client) -> Vec<[f64; 4]> {
    client
        .query(
            "SELECT vs_abs_significant_max_int, m_abs_significant_max_int,
                    vs_abs_significant_max_peak, m_abs_significant_max_peak
             FROM skytrap.runningcatalog_flux ORDER BY id",
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

    // Data written by the old version: three epochs of three steady sources, a flaring
    // one (1, 3, 2 Jy) and a transient in the third, associated; an alert consumer's
    // cursor.
    let written_before = "INSERT INTO skytrap.dataset (description) VALUES ('written before');
         INSERT INTO skytrap.image (dataset, band, skyrgn, freq_eff, freq_bw, taustart_ts,
             rb_smaj, rb_smin, rb_pa, deltax, deltay, url, rms_min, rms_max, detection_thresh)
         SELECT d.id, skytrap.frequencyband_for(d.id, 150e6, 2e6),
                skytrap.skyregion_for(d.id, 10, 0, 1), 150e6, 2e6,
                timestamp '2026-01-01' + (e - 1) * interval '1 day', 0.01, 0.01, 0,
                0.001, 0.001, 'epoch' || e || '.fits', 0.01, 0.02, 8
         FROM skytrap.dataset d, generate_series(1, 3) AS e;
         INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
             ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
         SELECT i.id, 10 + 0.01 * s, 0, 0.0001, 0.0001, 1, 1, 1, 100, s + 0.1 * e, 0.1,
                s + 0.1 * e, 0.1
         FROM skytrap.image i, generate_series(1, 3) AS e, generate_series(1, 3) AS s
         WHERE i.url = 'epoch' || e || '.fits';
         INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
             ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
         SELECT id, 10.5, 0, 0.0001, 0.0001, 1, 1, 1, 50, 0.5, 0.01, 0.5, 0.01
         FROM skytrap.image WHERE url = 'epoch3.fits';
         INSERT INTO skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err,
             ew_sys_err, ns_sys_err, error_radius, det_sigma, f_peak, f_peak_err, f_int, f_int_err)
         SELECT i.id, 10.04, 0, 0.0001, 0.0001, 1, 1, 1, 100, (ARRAY[1, 3, 2])[e], 0.1,
                (ARRAY[1, 3, 2])[e], 0.1
         FROM skytrap.image i, generate_series(1, 3) AS e
         WHERE i.url = 'epoch' || e || '.fits';
         SELECT skytrap.associate_image(id) FROM skytrap.image ORDER BY taustart_ts;
         INSERT INTO skytrap.alert_consumer (name, last_alert_id) VALUES ('archive', 1);";
    old.batch_execute(written_before).await.unwrap();
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
    new.batch_execute(written_before).await.unwrap();
    let previous = previous_points(&old).await;
    assert_eq!(previous, previous_points(&new).await);
    // The update works out each band's pair metrics as association keeps them: the flaring
    // source's largest significant |m| is 1 Jy against 3 Jy, |m| = 1, |Vs| = 2/√0.02.
    let pairs = band_pairs(&old).await;
    assert_eq!(pairs, band_pairs(&new).await);
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
