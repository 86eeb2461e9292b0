//! What an operator asks of a running survey: `skytrap status` against counts taken from
//! the tables themselves, and `skytrap listen` filtered by dataset and kind.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{scratch_database, scratch_dir, skytrap, succeed};

#[tokio::test(flavor = "current_thread")]
async fn status_and_filtered_listening_match_the_tables() {
    let dir = scratch_dir("operator");
    let images = simulate::simulate(
        &dir.join("sim"),
        &Settings {
            epochs: 4,
            seed: 5,
            size: 256,
            variables: 2,
            transients: 2,
            anywhere: true,
        },
    )
    .unwrap();
    let (url, client) = scratch_database("operator").await;
    succeed(
        skytrap()
            .args(["--db", &url, "load", "--dataset", "a"])
            .args(&images),
    );
    succeed(
        skytrap()
            .args(["--db", &url, "load", "--dataset", "b"])
            .args(&images[..2]),
    );
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let alerts = count("SELECT count(*) FROM skytrap.alert").await;
    let b_jumps = count(
        "SELECT count(*) FROM skytrap.alert a JOIN skytrap.dataset d ON d.id = a.dataset
         WHERE d.description = 'b' AND a.kind IN ('flux_jump', 'variable')",
    )
    .await;
    assert!(b_jumps > 0 && alerts > b_jumps);

    // listen, filtered: every line of dataset b and kind flux_jump or variable, as many
    // as the outbox holds; the start said on stderr.
    let out = succeed(
        skytrap()
            .args(["--db", &url, "listen", "--from", "0", "--dataset", "b"])
            .args([
                "--kind",
                "flux_jump",
                "--kind",
                "variable",
                "--limit",
                &b_jumps.to_string(),
                "--consumer",
                "ops",
            ]),
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as i64, b_jumps);
    assert!(lines
        .iter()
        .all(|a| (a["kind"] == "flux_jump" || a["kind"] == "variable")
            && a["dataset"]["description"] == "b"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("consumer 'ops' starts after alert 0"),
        "{stderr}"
    );
    let last_delivered = lines.last().unwrap()["alert_id"].as_i64().unwrap();

    // status, as JSON: the tables' own counts.
    let out = succeed(skytrap().args(["--db", &url, "status", "--format", "json"]));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = &status["datasets"][0];
    assert_eq!(a["name"], "a");
    assert_eq!(a["images"], 4);
    assert_eq!(a["rejected"], 0);
    assert_eq!(
        a["lightcurves"].as_i64().unwrap(),
        count(
            "SELECT count(*) FROM skytrap.runningcatalog r JOIN skytrap.dataset d
             ON d.id = r.dataset WHERE d.description = 'a'"
        )
        .await
    );
    assert_eq!(
        a["new_sources"].as_i64().unwrap(),
        count(
            "SELECT count(*) FROM skytrap.newsource n JOIN skytrap.runningcatalog r
             ON r.id = n.runcat JOIN skytrap.dataset d ON d.id = r.dataset
             WHERE d.description = 'a'"
        )
        .await
    );
    assert_eq!(status["datasets"][1]["images"], 2);
    let consumer = &status["consumers"][0];
    assert_eq!(consumer["name"], "ops");
    assert_eq!(consumer["after"].as_i64().unwrap(), last_delivered);
    let behind = client
        .query_one(
            "SELECT count(*) FROM skytrap.alert WHERE alert_id > $1",
            &[&last_delivered],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(consumer["behind"].as_i64().unwrap(), behind);

    // As text, one dataset; a dataset that does not exist is named.
    let out = succeed(skytrap().args(["--db", &url, "status", "--dataset", "b"]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("dataset 'b': 2 images (0 rejected), "),
        "{text}"
    );
    assert!(!text.contains("dataset 'a'"), "{text}");
    let out = skytrap()
        .args(["--db", &url, "status", "--dataset", "nope"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "skytrap: there is no dataset 'nope'"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
