//! `skytrap listen` responders: VOEvent files that validate against the IVOA schema, and
//! commands that get every alert or, failing, park it.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{scratch_database, scratch_dir, skytrap, succeed, workspace};
use std::process::Command;

/// A loaded simulated series; returns its database URL, a client and the outbox size.
async fn loaded(name: &str) -> (String, tokio_postgres::Client, i64) {
    let dir = scratch_dir(name);
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 8,
            seed: 21,
            size: 256,
            variables: 4,
            transients: 4,
            anywhere: false,
        },
    )
    .unwrap();
    let (url, client) = scratch_database(name).await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", name])
            .args(&images),
    );
    let n: i64 = client
        .query_one("SELECT count(*) FROM skytrap.alert", &[])
        .await
        .unwrap()
        .get(0);
    assert!(n >= 4, "only {n} alerts");
    std::fs::remove_dir_all(dir).unwrap();
    (url, client, n)
}

#[tokio::test(flavor = "current_thread")]
async fn voevent_files_validate_against_the_voevent_2_schema() {
    let (url, client, n) = loaded("voevent").await;
    let dir = scratch_dir("voevent-out");
    let out = skytrap()
        .args([
            "listen",
            "--db",
            &url,
            "--from",
            "0",
            "--limit",
            &n.to_string(),
        ])
        .args(["--ivorn-root", "ivo://example.org/skytrap", "--voevent"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "--voevent alone prints nothing");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len() as i64, n);
    let schema = workspace().join("tests/fixtures/VOEvent-v2.0.xsd");
    let check = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .args(&files)
        .output()
        .expect("xmllint (Debian: libxml2-utils)");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // Each file names its alert; a source's later alerts cite its earlier ones.
    let cited = client
        .query(
            "SELECT a.alert_id, min(e.alert_id) FROM skytrap.alert a
             JOIN skytrap.alert e ON e.runcat = a.runcat AND e.image < a.image
             GROUP BY a.alert_id",
            &[],
        )
        .await
        .unwrap();
    assert!(!cited.is_empty(), "no source alerted twice in this series");
    for row in cited {
        let (id, first): (i64, i64) = (row.get(0), row.get(1));
        let xml = std::fs::read_to_string(dir.join(format!("{id}.xml"))).unwrap();
        assert!(xml.contains(&format!(r#"ivorn="ivo://example.org/skytrap#{id}""#)));
        assert!(
            xml.contains(&format!(
                r#"<EventIVORN cite="followup">ivo://example.org/skytrap#{first}</EventIVORN>"#
            )),
            "alert {id} does not cite {first}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn commands_get_every_alert_and_failures_are_parked() {
    let (url, client, n) = loaded("exec").await;
    let dir = scratch_dir("exec-out");
    let sink = dir.join("received.jsonl");
    succeed(
        skytrap()
            .args(["listen", "--db", &url, "--from", "0", "--consumer", "ok"])
            .args(["--limit", &n.to_string(), "--exec"])
            .arg(format!("cat >> {}", sink.display())),
    );
    let received = skytrap_tests::alert_ids(&sink);
    let expected = skytrap_tests::outbox_ids(&client).await;
    assert_eq!(received, expected);

    // A command that always fails: each alert is tried twice, then parked, never dropped.
    let out = skytrap()
        .args([
            "listen",
            "--db",
            &url,
            "--from",
            "0",
            "--consumer",
            "broken",
        ])
        .args(["--limit", "3", "--exec-attempts", "2", "--exec", "exit 3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("parked after 2 attempts").count(),
        3,
        "{stderr}"
    );
    let parked: Vec<(i64, i32)> = client
        .query(
            "SELECT alert_id, attempts FROM skytrap.alert_parked WHERE consumer = 'broken'
             ORDER BY alert_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        parked,
        expected[..3].iter().map(|&id| (id, 2)).collect::<Vec<_>>()
    );
    let cursor: i64 = client
        .query_one(
            "SELECT last_alert_id FROM skytrap.alert_consumer WHERE name = 'broken'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(cursor, expected[2]);

    // A command that hangs is killed after --exec-timeout (its children too) and the
    // attempt counts as failed; a responder sees no database credentials.
    let env = dir.join("env.txt");
    let started = std::time::Instant::now();
    let out = skytrap()
        .args(["listen", "--db", &url, "--from", "0", "--consumer", "slow"])
        .args([
            "--limit",
            "1",
            "--exec-attempts",
            "1",
            "--exec-timeout",
            "0.5",
        ])
        .arg("--exec")
        .arg(format!("env > {}; sleep 30 & wait", env.display()))
        .env("DATABASE_URL", &url)
        .env("PGPASSWORD", "s3cret")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("was killed"), "{stderr}");
    let environment = std::fs::read_to_string(&env).unwrap();
    assert!(environment.contains("SKYTRAP_ALERT_ID="));
    for secret in ["DATABASE_URL", "PGPASSWORD", "s3cret"] {
        assert!(
            !environment.contains(secret),
            "{secret} reached the responder"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn rules_change_with_the_rules_command() {
    let (url, client) = scratch_database("rules").await;
    client
        .batch_execute("INSERT INTO skytrap.dataset (description) VALUES ('survey')")
        .await
        .unwrap();
    for args in [
        &["variable", "--eta-min", "20", "--v-min", "0.3"][..],
        &["monitor_detection", "--enabled", "false"][..],
    ] {
        succeed(
            skytrap()
                .args(["rules", "--db", &url, "set", "--dataset", "survey"])
                .args(args),
        );
    }
    let row = client
        .query_one(
            "SELECT v.eta_min, v.v_min, v.vs_min, m.enabled
             FROM skytrap.alert_rule v JOIN skytrap.alert_rule m ON m.dataset = v.dataset
             WHERE v.kind = 'variable' AND m.kind = 'monitor_detection'",
            &[],
        )
        .await
        .unwrap();
    // Changed what was given, kept the rest (vs_min belongs to another rule anyway).
    assert_eq!(row.get::<_, f64>(0), 20.0);
    assert_eq!(row.get::<_, f64>(1), 0.3);
    assert_eq!(row.get::<_, f64>(2), 4.3);
    assert!(!row.get::<_, bool>(3));
    let out = skytrap()
        .args(["rules", "--db", &url, "show", "--dataset", "survey"])
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.contains("eta_min=20 v_min=0.3"), "{shown}");
    assert!(shown
        .lines()
        .any(|l| l.starts_with("monitor_detection") && l.contains("disabled")));
    let out = skytrap()
        .args(["rules", "--db", &url, "show", "--dataset", "nosuch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no dataset named 'nosuch'"));
}
