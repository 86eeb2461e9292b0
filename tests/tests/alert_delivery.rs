//! At-least-once delivery: a named consumer killed with SIGKILL resumes where it stopped,
//! and listeners ride out a database restart in the middle of a load. Runs on a cluster of
//! its own, since it restarts the server.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{alert_ids, connect, scratch_dir, skytrap, KillOnDrop, PrivateCluster};
use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn listener(url: &str, consumer: &str, from_start: bool, out: &Path) -> KillOnDrop {
    let mut cmd = skytrap();
    cmd.args(["listen", "--db", url, "--consumer", consumer]);
    if from_start {
        cmd.args(["--from", "0"]);
    }
    KillOnDrop(
        cmd.stdout(File::create(out).unwrap())
            .stderr(File::create(out.with_extension("stderr")).unwrap())
            .spawn()
            .unwrap(),
    )
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn load(url: &str, images: &[std::path::PathBuf]) -> std::process::Child {
    skytrap()
        .args(["load", "--db", url, "--dataset", "stream"])
        .args(images)
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn consumers_get_every_alert_across_sigkill_and_server_restart() {
    let cluster = PrivateCluster::start("delivery");
    let url = cluster.url();
    let dir = scratch_dir("delivery-sky");
    let images = simulate::simulate(
        &dir,
        &Settings {
            epochs: 24,
            seed: 11,
            size: 256,
            variables: 4,
            transients: 10,
            anywhere: false,
        },
    )
    .unwrap();
    let (a_out, b_out, c_out) = (
        dir.join("a.jsonl"),
        dir.join("b.jsonl"),
        dir.join("c.jsonl"),
    );

    // Carol listens throughout, across the restart; Alice is killed part-way.
    let carol = listener(&url, "carol", true, &c_out);
    let alice = listener(&url, "alice", true, &a_out);
    assert!(load(&url, &images[..10]).wait().unwrap().success());
    wait_for("alice's first alerts", Duration::from_secs(20), || {
        alert_ids(&a_out).len() >= 3
    });
    drop(alice); // SIGKILL

    // Restart the server while the rest is loading; re-run the load until it completes
    // (a re-run skips the images already in).
    let mut rest = load(&url, &images[10..]);
    std::thread::sleep(Duration::from_millis(150));
    cluster.down();
    cluster.up();
    let mut attempts = 1;
    while !rest.wait().unwrap().success() {
        attempts += 1;
        assert!(attempts <= 5, "the load never completed after the restart");
        rest = load(&url, &images[10..]);
    }

    let client = connect(&url).await;
    let outbox: BTreeSet<i64> = client
        .query("SELECT alert_id FROM skytrap.alert", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let images_in: i64 = client
        .query_one("SELECT count(*) FROM skytrap.image", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(images_in, 24);
    assert!(outbox.len() >= 10, "only {} alerts", outbox.len());
    let newest = *outbox.iter().max().unwrap();

    // Alice comes back and resumes from her cursor in the database.
    let bob = listener(&url, "alice", false, &b_out);
    wait_for("alice to catch up", Duration::from_secs(30), || {
        alert_ids(&b_out).contains(&newest)
    });
    wait_for("carol to catch up", Duration::from_secs(30), || {
        alert_ids(&c_out).contains(&newest)
    });
    drop(bob);
    drop(carol);

    let before_kill: BTreeSet<i64> = alert_ids(&a_out).into_iter().collect();
    let after_restart: BTreeSet<i64> = alert_ids(&b_out).into_iter().collect();
    let alice_all: BTreeSet<i64> = before_kill.union(&after_restart).copied().collect();
    assert!(
        before_kill.len() < outbox.len(),
        "alice was not killed part-way"
    );
    assert_eq!(alice_all, outbox, "alice missed or invented alerts");
    let carol_all: BTreeSet<i64> = alert_ids(&c_out).into_iter().collect();
    assert_eq!(carol_all, outbox, "carol missed or invented alerts");
    let carol_log = std::fs::read_to_string(c_out.with_extension("stderr")).unwrap();
    assert!(
        carol_log.contains("database unavailable"),
        "carol never lost the server: {carol_log}"
    );
    eprintln!(
        "{} alerts; alice {} before SIGKILL, {} after; load attempts {attempts}",
        outbox.len(),
        before_kill.len(),
        after_restart.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Alert ids are handed out in commit order: with loaders of two datasets committing side
/// by side, two listeners each receive every alert of the outbox, in strictly increasing
/// id order, none skipped (a listener reading past an id that commits later would never
/// see it).
#[tokio::test(flavor = "current_thread")]
async fn alert_ids_follow_commit_order_across_concurrent_loaders() {
    let (url, client) = skytrap_tests::scratch_database("commit_order").await;
    let dir = scratch_dir("commit-order");
    let mut series = Vec::new();
    for (name, seed) in [("north", 21), ("south", 22)] {
        let images = simulate::simulate(
            &dir.join(name),
            &Settings {
                epochs: 12,
                seed,
                size: 256,
                variables: 4,
                transients: 8,
                anywhere: true,
            },
        )
        .unwrap();
        series.push((name, images));
    }
    let outs = [dir.join("x.jsonl"), dir.join("y.jsonl")];
    let listeners = [
        listener(&url, "x", true, &outs[0]),
        listener(&url, "y", true, &outs[1]),
    ];
    let loaders: Vec<std::process::Child> = series
        .iter()
        .map(|(name, images)| {
            skytrap()
                .args(["load", "--db", &url, "--dataset", name])
                .args(images)
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut loader in loaders {
        assert!(loader.wait().unwrap().success());
    }
    let outbox = skytrap_tests::outbox_ids(&client).await;
    let datasets: i64 = client
        .query_one("SELECT count(DISTINCT dataset) FROM skytrap.alert", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        outbox.len() >= 20 && datasets == 2,
        "{} alerts of {datasets} datasets",
        outbox.len()
    );
    // The two loaders did commit side by side: in id order the datasets alternate.
    let order: Vec<i32> = client
        .query("SELECT dataset FROM skytrap.alert ORDER BY alert_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let switches = order.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches >= 2, "the loads did not overlap: {order:?}");
    let newest = *outbox.last().unwrap();
    for out in &outs {
        wait_for("the listeners to catch up", Duration::from_secs(30), || {
            alert_ids(out).contains(&newest)
        });
    }
    drop(listeners);
    for out in &outs {
        let received = alert_ids(out);
        assert!(
            received.windows(2).all(|w| w[0] < w[1]),
            "{}: ids out of order: {received:?}",
            out.display()
        );
        assert_eq!(
            received,
            outbox,
            "{}: missed or invented alerts",
            out.display()
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}
