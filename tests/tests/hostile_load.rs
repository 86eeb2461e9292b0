//! Hostile input, the `load` half (issue 7; the `extract` half is hostile_input.rs): every
//! file of the broken-FITS corpus (tests/hostile/make_corpus.py) is loaded into a dataset
//! of its own. A file whose header is sound but whose pixels are unusable is stored as a
//! rejected image with TraP's reason (expected.tsv's `rejected:N`); any other broken file
//! stops the load with one clear line naming the file, before anything is written.

use skytrap_tests::{scratch_database, scratch_dir, skytrap, workspace};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "current_thread")]
async fn broken_files_are_refused_or_recorded_as_rejections() {
    let dir = scratch_dir("hostile-load");
    let status = std::process::Command::new("python3")
        .arg(workspace().join("tests/hostile/make_corpus.py"))
        .arg(&dir)
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs tests/hostile/make_corpus.py");
    assert!(status.success());
    let expected = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let (url, client) = scratch_database("hostile_load").await;
    let mut kinds = 0;
    for line in expected.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (file, outcome) = (fields[0], fields[3]);
        let path = dir.join(file);
        let dataset = file.trim_end_matches(".fits");
        let mut loader = skytrap()
            .args(["load", "--db", &url, "--dataset", dataset])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while loader.try_wait().unwrap().is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{file}: load ran longer than 30 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let out = loader.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{file}: {stderr}");
        let stored = client
            .query(
                "SELECT r.rejectreason FROM skytrap.image i
                 JOIN skytrap.dataset d ON d.id = i.dataset
                 LEFT JOIN skytrap.rejection r ON r.image = i.id
                 WHERE d.description = $1",
                &[&dataset],
            )
            .await
            .unwrap();
        match outcome.split_once(':') {
            None if outcome == "ok" => {
                assert!(out.status.success(), "{file}: {stderr}");
                assert_eq!(stored.len(), 1, "{file}: one image stored");
                assert_eq!(
                    stored[0].get::<_, Option<i32>>(0),
                    None,
                    "{file}: not rejected"
                );
            }
            None => {
                assert_eq!(outcome, "error");
                assert!(!out.status.success(), "{file}: load should fail: {stderr}");
                let lines: Vec<&str> = stderr.lines().collect();
                assert_eq!(lines.len(), 1, "{file}: one line: {stderr}");
                assert!(
                    lines[0].starts_with("skytrap: ") && lines[0].contains(file),
                    "{file}: the error names the file: {stderr}"
                );
                assert!(stored.is_empty(), "{file}: nothing stored");
            }
            Some(("rejected", reason)) => {
                assert!(out.status.success(), "{file}: {stderr}");
                let reason: i32 = reason.parse().unwrap();
                assert_eq!(stored.len(), 1, "{file}: the image is kept");
                assert_eq!(stored[0].get::<_, Option<i32>>(0), Some(reason), "{file}");
                assert!(
                    stderr.contains(&format!("{file}: rejected: ")),
                    "{file}: the rejection is reported: {stderr}"
                );
            }
            Some(_) => panic!("{file}: unknown load outcome {outcome}"),
        }
        kinds += 1;
    }
    assert!(kinds >= 30, "only {kinds} kinds of hostile file");
    // Rejected images never reach association.
    let associated: i64 = client
        .query_one(
            "SELECT count(*) FROM skytrap.image i JOIN skytrap.rejection r ON r.image = i.id
             WHERE i.associated_at IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(associated, 0);
    std::fs::remove_dir_all(dir).unwrap();
}
