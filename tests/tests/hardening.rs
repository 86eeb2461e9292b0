//! What the security review of issue 24 asked of the database: the locks that make writers
//! take turns are rows that only the roles meant to hold them may lock (no outsider, no
//! analyst or listener); the outbox is written by its trigger alone (a loader's own INSERT
//! is refused); alert rules refuse NaN, infinite and negative thresholds, and an update
//! from 0.2.0 mends rules stored with them. Each role is taken with SET ROLE in one
//! superuser session, so no login is needed; the one role made here is dropped at the end.

use futures_util::FutureExt;
use skytrap_tests::{scratch_database, scratch_database_at, skytrap};
use std::panic::AssertUnwindSafe;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

/// Runs `sql` as `role` in a transaction that is rolled back, and asserts that it is
/// refused with insufficient_privilege (42501).
async fn refused(client: &Client, role: &str, sql: &str) {
    client
        .batch_execute(&format!("BEGIN; SET LOCAL ROLE {role}"))
        .await
        .unwrap();
    let result = client.batch_execute(sql).await;
    client.batch_execute("ROLLBACK").await.unwrap();
    let err = result.expect_err(&format!("{role} may, but should not: {sql}"));
    assert_eq!(
        err.code(),
        Some(&SqlState::INSUFFICIENT_PRIVILEGE),
        "{role}: {sql}: {err:?}"
    );
}

/// Runs `sql` as `role` in a transaction that is rolled back; it must succeed.
async fn allowed(client: &Client, role: &str, sql: &str) {
    client
        .batch_execute(&format!("BEGIN; SET LOCAL ROLE {role}"))
        .await
        .unwrap();
    let result = client.batch_execute(sql).await;
    client.batch_execute("ROLLBACK").await.unwrap();
    result.unwrap_or_else(|e| panic!("{role}: {sql}: {e:?}"));
}

#[tokio::test(flavor = "current_thread")]
async fn only_loaders_lock_a_dataset_and_only_the_trigger_writes_alerts() {
    let (_, admin) = scratch_database("hardening_roles").await;
    // A role of nobody's: in none of skytrap's roles, as any login of the cluster may be.
    let outsider = format!("skytrap_t{}_outsider", std::process::id());
    admin
        .batch_execute(&format!(
            "CREATE ROLE {outsider} NOLOGIN;
             GRANT USAGE ON SCHEMA skytrap TO {outsider};
             INSERT INTO skytrap.dataset (description) VALUES ('locked');"
        ))
        .await
        .unwrap();
    let result = AssertUnwindSafe(roles_scenario(&admin, &outsider))
        .catch_unwind()
        .await;
    admin
        .batch_execute(&format!(
            "REVOKE USAGE ON SCHEMA skytrap FROM {outsider}; DROP ROLE {outsider}"
        ))
        .await
        .unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn roles_scenario(admin: &Client, outsider: &str) {
    let lock_dataset = "SELECT FROM skytrap.dataset WHERE description = 'locked' FOR NO KEY UPDATE";
    let share_dataset = "SELECT FROM skytrap.dataset WHERE description = 'locked' FOR KEY SHARE";
    let lock_alert_order = "SELECT FROM skytrap.alert_order FOR UPDATE";
    // Neither lock is anyone's but the roles' that take turns with it ...
    for role in [outsider, "skytrap_analyst", "skytrap_listener"] {
        for sql in [lock_dataset, share_dataset, lock_alert_order] {
            refused(admin, role, sql).await;
        }
    }
    // ... the dataset's is its loaders', the alert order's the trigger's (its owner's).
    allowed(admin, "skytrap_loader", lock_dataset).await;
    refused(admin, "skytrap_loader", lock_alert_order).await;

    // The outbox: loaders no longer write it, nor draw its ids.
    refused(
        admin,
        "skytrap_loader",
        "INSERT INTO skytrap.alert (kind, dataset, runcat, xtrsrc, image, body)
         SELECT 'new_source', id, 1, 1, 1, '{}' FROM skytrap.dataset",
    )
    .await;
    refused(
        admin,
        "skytrap_loader",
        "SELECT nextval('skytrap.alert_alert_id_seq')",
    )
    .await;
}

/// `skytrap rules set` with a NaN, infinite or negative threshold is refused with the
/// constraint's error, and the rule stays as it was.
#[tokio::test(flavor = "current_thread")]
async fn rules_refuse_thresholds_that_are_no_numbers() {
    let (url, admin) = scratch_database("hardening_rules").await;
    admin
        .batch_execute("INSERT INTO skytrap.dataset (description) VALUES ('ruled')")
        .await
        .unwrap();
    for (kind, setting, value) in [
        ("variable", "--eta-min", "NaN"),
        ("variable", "--v-min", "inf"),
        ("new_source", "--min-det-sigma", "-1"),
        ("flux_jump", "--vs-min", "NaN"),
        ("flux_jump", "--m-min", "-inf"),
        ("monitor_detection", "--radius-arcsec", "NaN"),
    ] {
        let out = skytrap()
            .args(["rules", "--db", &url, "set", "--dataset", "ruled", kind])
            .arg(format!("{setting}={value}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{kind} {setting} {value}: {stderr}");
        assert!(
            stderr.contains("violates check constraint"),
            "{kind} {setting} {value}: {stderr}"
        );
    }
    let defaults: (f64, f64, f64, f64, f64, f64) = admin
        .query_one(
            "SELECT max(min_det_sigma), max(eta_min), max(v_min), max(vs_min), max(m_min),
                    max(radius_arcsec)
             FROM skytrap.alert_rule",
            &[],
        )
        .await
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .unwrap();
    assert_eq!(defaults, (0.0, 8.0, 0.4, 4.3, 0.26, 10.0));
}

/// Rules that 0.2.0 stored with thresholds 0.3.0 refuses are mended by the update: a
/// negative one becomes 0 (which lets through the same points), and a rule with a NaN or
/// infinite one (which never did what it said) is switched off, the value at its default.
#[tokio::test(flavor = "current_thread")]
async fn the_update_mends_rules_it_would_refuse() {
    let (_, client) = scratch_database_at("hardening_update", Some("0.2.0")).await;
    client
        .batch_execute(
            "INSERT INTO skytrap.dataset (description) VALUES ('mended');
             UPDATE skytrap.alert_rule SET eta_min = 'NaN' WHERE kind = 'variable';
             UPDATE skytrap.alert_rule SET m_min = 'NaN', vs_min = 'Infinity'
             WHERE kind = 'flux_jump';
             UPDATE skytrap.alert_rule SET min_det_sigma = -3, v_min = -1
             WHERE kind = 'new_source';
             ALTER EXTENSION skytrap UPDATE;",
        )
        .await
        .unwrap();
    let rules: Vec<(String, bool, [f64; 5])> = client
        .query(
            "SELECT kind, enabled, min_det_sigma, eta_min, v_min, vs_min, m_min
             FROM skytrap.alert_rule ORDER BY kind",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let values = [r.get(2), r.get(3), r.get(4), r.get(5), r.get(6)];
            (r.get(0), r.get(1), values)
        })
        .collect();
    let rule = |kind: &str, enabled, values| (kind.to_string(), enabled, values);
    assert_eq!(
        rules,
        [
            rule("flux_jump", false, [0.0, 8.0, 0.4, 4.3, 0.26]),
            rule("monitor_detection", true, [0.0, 8.0, 0.4, 4.3, 0.26]),
            rule("new_source", true, [0.0, 8.0, 0.0, 4.3, 0.26]),
            rule("variable", false, [0.0, 8.0, 0.4, 4.3, 0.26]),
        ]
    );
}
