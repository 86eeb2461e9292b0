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
            .args(["load", "--db", &url, "--dataset", "a"])
            .args(&images),
    );
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "b"])
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
            .args(["listen", "--db", &url, "--from", "0", "--dataset", "b"])
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
    let out = succeed(skytrap().args(["status", "--db", &url, "--format", "json"]));
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

    // The analysts' views: each row names its dataset, codes in words, times UTC.
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM skytrap.candidates WHERE dataset_name = 'a'),
                    (SELECT count(*) FROM skytrap.images WHERE dataset_name = 'b'),
                    (SELECT count(*) FROM skytrap.variability WHERE dataset_name = 'a'),
                    (SELECT count(*) FROM skytrap.varmetric v JOIN skytrap.runningcatalog r
                     ON r.id = v.runcat JOIN skytrap.dataset d ON d.id = r.dataset
                     WHERE d.description = 'a'),
                    (SELECT string_agg(DISTINCT measured_as, ',' ORDER BY measured_as)
                     FROM skytrap.lightcurves WHERE dataset_name = 'a'),
                    (SELECT pg_typeof(observed_at)::text FROM skytrap.images LIMIT 1),
                    (SELECT count(*) FROM skytrap.lightcurves l JOIN skytrap.lightcurve t
                     ON t.xtrsrc = l.xtrsrc AND t.runcat = l.runcat
                     WHERE l.observed_at <> t.taustart_ts AT TIME ZONE 'UTC')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        status["datasets"][0]["new_sources"].as_i64().unwrap()
    );
    assert_eq!(row.get::<_, i64>(1), 2);
    assert_eq!(row.get::<_, i64>(2), row.get::<_, i64>(3));
    assert_eq!(row.get::<_, String>(4), "blind,forced_at_lightcurve");
    assert_eq!(row.get::<_, String>(5), "timestamp with time zone");
    assert_eq!(
        row.get::<_, i64>(6),
        0,
        "observed_at is the UTC time of taustart_ts"
    );

    // As text, one dataset; a dataset that does not exist is named.
    let out = succeed(skytrap().args(["status", "--db", &url, "--dataset", "b"]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("dataset 'b': 2 images (0 rejected), "),
        "{text}"
    );
    assert!(!text.contains("dataset 'a'"), "{text}");
    let out = skytrap()
        .args(["status", "--db", &url, "--dataset", "nope"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "skytrap: there is no dataset 'nope'"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The README's worked example on real AMI-LA images: the images view names the
/// telescope and target the headers give (TELESCOP = 'AMI-LA', OBJECT = 'SWIFT_554620'),
/// and the afterglow is one lightcurve of two blind points.
#[tokio::test(flavor = "current_thread")]
async fn real_images_keep_their_telescope_and_target() {
    let (url, client) = scratch_database("real_images").await;
    let fits = skytrap_tests::fits_dir();
    succeed(
        skytrap()
            .args([
                "load",
                "--db",
                &url,
                "--dataset",
                "grb130427a",
                "--elliptical-x",
                "3",
            ])
            .arg(fits.join("AMI-LA_SWIFT_554620-130429.fits"))
            .arg(fits.join("AMI-LA_SWIFT_554620-130504.fits")),
    );
    let rows: Vec<(String, String, String)> = client
        .query(
            "SELECT telescope, object, to_char(observed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
             FROM skytrap.images WHERE dataset_name = 'grb130427a' ORDER BY observed_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    assert_eq!(
        rows,
        [
            s("AMI-LA", "SWIFT_554620", "2013-04-29"),
            s("AMI-LA", "SWIFT_554620", "2013-05-04")
        ]
    );
    let points: Vec<String> = client
        .query(
            "SELECT measured_as FROM skytrap.lightcurves WHERE dataset_name = 'grb130427a'
             ORDER BY observed_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(points, ["blind", "blind"]);
}

/// `skytrap export`: every table of a dataset as CSV, VOTable and Parquet; the CSV has a
/// row per row of the view it comes from, astropy reads the VOTable back and pyarrow the
/// Parquet (the test venv's; `make test` makes it) with the same rows, columns and types.
#[tokio::test(flavor = "current_thread")]
async fn exports_read_back_with_astropy_and_pyarrow() {
    let python = std::env::var("SKYTRAP_TEST_PYTHON")
        .expect("SKYTRAP_TEST_PYTHON: the test venv's python with astropy (make e2e sets it)");
    let dir = scratch_dir("export");
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
    let (url, client) = scratch_database("export").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "x"])
            .args(&images),
    );
    for (table, count) in [
        ("catalogue", "SELECT count(*) FROM skytrap.runningcatalog"),
        ("lightcurves", "SELECT count(*) FROM skytrap.lightcurves"),
        ("candidates", "SELECT count(*) FROM skytrap.candidates"),
        ("alerts", "SELECT count(*) FROM skytrap.alert"),
        ("images", "SELECT count(*) FROM skytrap.images"),
    ] {
        let rows: i64 = client.query_one(count, &[]).await.unwrap().get(0);
        assert!(rows > 0, "{table}: nothing to export");
        let out = succeed(skytrap().args(["export", "--db", &url, "--dataset", "x", table]));
        let csv = String::from_utf8(out.stdout).unwrap();
        assert_eq!(csv.lines().count() as i64, rows + 1, "{table}: {csv}");
        let file = dir.join(format!("{table}.vot"));
        succeed(
            skytrap()
                .args([
                    "export",
                    "--db",
                    &url,
                    "--dataset",
                    "x",
                    table,
                    "--format",
                    "votable",
                    "-o",
                ])
                .arg(&file),
        );
        // astropy reads it without a warning (VOTable 1.4, declared types and nulls), with
        // as many rows and the CSV's columns.
        let read = std::process::Command::new(&python)
            .args([
                "-W",
                "error",
                "-c",
                "import sys\nfrom astropy.io.votable import parse_single_table\n\
                 t = parse_single_table(sys.argv[1]).to_table()\n\
                 print(len(t)); print(','.join(t.colnames))\n\
                 print(t[t.colnames[0]].dtype.kind)\n\
                 print(t['observed_at'][0] if 'observed_at' in t.colnames else '-')\n\
                 print(t['wm_ra'].unit if 'wm_ra' in t.colnames else '-')",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&read.stdout);
        assert!(
            read.status.success(),
            "{table}: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[0], rows.to_string(), "{table}");
        assert_eq!(lines[1], csv.lines().next().unwrap(), "{table}");
        if table == "images" {
            assert!(
                lines[3].starts_with("2026-01-01T00:00:00") && lines[3].ends_with('Z'),
                "{stdout}"
            );
        }
        if table == "catalogue" {
            assert_eq!(lines[2], "i", "runcat is an integer");
            assert_eq!(lines[4], "deg");
        }
        // pyarrow reads the Parquet file with the same rows and columns, times as UTC
        // timestamps equal to the CSV's.
        let file = dir.join(format!("{table}.parquet"));
        succeed(
            skytrap()
                .args([
                    "export",
                    "--db",
                    &url,
                    "--dataset",
                    "x",
                    table,
                    "--format",
                    "parquet",
                    "-o",
                ])
                .arg(&file),
        );
        let read = std::process::Command::new(&python)
            .args([
                "-W",
                "error",
                "-c",
                "import sys\nimport pyarrow.parquet as pq\n\
                 t = pq.read_table(sys.argv[1])\n\
                 print(t.num_rows); print(','.join(t.column_names))\n\
                 print(t.schema.field(t.column_names[0]).type)\n\
                 c = 'observed_at' if 'observed_at' in t.column_names else None\n\
                 print(t.schema.field(c).type if c else '-')\n\
                 print(t.column(c)[0].as_py().isoformat() if c else '-')",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&read.stdout);
        assert!(
            read.status.success(),
            "{table}: {}",
            String::from_utf8_lossy(&read.stderr)
        );
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines[0], rows.to_string(), "{table}");
        assert_eq!(lines[1], csv.lines().next().unwrap(), "{table}");
        if table == "catalogue" {
            assert_eq!(lines[2], "int64", "runcat");
        }
        if table == "images" {
            assert_eq!(lines[3], "timestamp[us, tz=UTC]");
            // The CSV's first observed_at, 2026-01-01T00:00:00Z, as pyarrow gives it.
            assert_eq!(lines[4], "2026-01-01T00:00:00+00:00");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// What each command says on stderr: `simulate` what it wrote; `load -q` nothing, `load -v`
/// a line per image with what it added; `listen` to a VOEvent directory a line per alert.
#[tokio::test(flavor = "current_thread")]
async fn commands_say_what_they_did_and_no_more() {
    let dir = scratch_dir("say");
    let sim = dir.join("sim");
    let out = succeed(
        skytrap()
            .arg("simulate")
            .arg(&sim)
            .args(["--epochs", "3", "--size", "128"]),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "skytrap: simulate: wrote 3 images of 128x128 pixels to {} (epoch_001.fits to \
             epoch_003.fits) and truth.csv, the true sources and their flux in each epoch",
            sim.display()
        )
    );
    let (url, client) = scratch_database("say").await;
    let out = succeed(
        skytrap()
            .args(["load", "-q", "--db", &url, "--dataset", "q"])
            .arg(&sim),
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "-q says nothing");
    let out = succeed(
        skytrap()
            .args(["load", "-v", "--db", &url, "--dataset", "v"])
            .arg(&sim),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let per_image: Vec<&str> = stderr.lines().filter(|l| l.contains(".fits: ")).collect();
    assert_eq!(per_image.len(), 3, "{stderr}");
    assert!(
        per_image[0].starts_with("skytrap: 2026-01-01T00:00:00.0: epoch_001.fits: ")
            && per_image[0].contains(" blind sources, 0 forced fits, "),
        "{stderr}"
    );
    assert!(stderr
        .lines()
        .last()
        .unwrap()
        .starts_with("skytrap: dataset 'v': 3 images loaded"));
    let alerts: i64 = client
        .query_one("SELECT count(*) FROM skytrap.alert", &[])
        .await
        .unwrap()
        .get(0);
    assert!(alerts >= 2, "{alerts} alerts");
    let out = succeed(
        skytrap()
            .args([
                "listen",
                "--db",
                &url,
                "--from",
                "0",
                "--limit",
                "2",
                "--voevent",
            ])
            .arg(dir.join("voevents")),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let delivered: Vec<&str> = stderr
        .lines()
        .filter(|l| l.ends_with(") delivered"))
        .collect();
    assert_eq!(delivered.len(), 2, "{stderr}");
    assert!(
        delivered[0].starts_with("skytrap: listen: alert 1 ("),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Alert packets of bounded size: with `--alert-history-points 2` a packet carries the 2
/// newest earlier points, says how many the lightcurve had and that the history was cut;
/// the same alert with the default (100) carries them all. Upper limits are capped alike:
/// they come from the 2 newest earlier images of the field.
#[tokio::test(flavor = "current_thread")]
async fn alert_packets_carry_a_capped_history() {
    let dir = scratch_dir("capped");
    let images = simulate::simulate(
        &dir.join("sim"),
        &Settings {
            epochs: 8,
            seed: 11,
            size: 256,
            variables: 3,
            transients: 2,
            anywhere: false,
        },
    )
    .unwrap();
    let (url, client) = scratch_database("capped").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "all"])
            .args(&images),
    );
    succeed(
        skytrap()
            .args([
                "load",
                "--db",
                &url,
                "--dataset",
                "two",
                "--alert-history-points",
                "2",
            ])
            .args(&images),
    );
    // Each alert of dataset 'two' beside the same alert (kind, image time, position) of 'all'.
    let rows = client
        .query(
            "SELECT t.body::text, a.body::text
             FROM skytrap.alert t JOIN skytrap.dataset dt ON dt.id = t.dataset AND dt.description = 'two'
             JOIN skytrap.alert a ON a.kind = t.kind
              AND a.body -> 'source' ->> 'taustart_ts' = t.body -> 'source' ->> 'taustart_ts'
              AND a.body -> 'source' ->> 'ra' = t.body -> 'source' ->> 'ra'
             JOIN skytrap.dataset da ON da.id = a.dataset AND da.description = 'all'
             ORDER BY t.alert_id",
            &[],
        )
        .await
        .unwrap();
    let parse = |s: String| -> serde_json::Value { serde_json::from_str(&s).unwrap() };
    let mut cut = 0;
    for row in &rows {
        let (two, all) = (parse(row.get(0)), parse(row.get(1)));
        let full = all["history"].as_array().unwrap();
        let kept = two["history"].as_array().unwrap();
        assert_eq!(
            two["history_points"],
            full.len(),
            "the lightcurve's earlier points"
        );
        assert_eq!(all["history_cut"], false);
        assert_eq!(kept.len(), full.len().min(2));
        // The same points (ids differ between the datasets): the newest, oldest first.
        let point = |p: &serde_json::Value| (p["taustart_ts"].clone(), p["f_int"].clone());
        assert_eq!(
            kept.iter().map(point).collect::<Vec<_>>(),
            full[full.len() - kept.len()..]
                .iter()
                .map(point)
                .collect::<Vec<_>>()
        );
        assert_eq!(two["history_cut"], full.len() > 2);
        // The earlier images of the field (one field, every image accepted), newest first.
        let earlier: Vec<String> = client
            .query(
                "SELECT skytrap.utc(i.taustart_ts) FROM skytrap.image i
                 JOIN skytrap.dataset d ON d.id = i.dataset AND d.description = 'two'
                 WHERE i.taustart_ts < ($1::text::timestamptz AT TIME ZONE 'UTC')
                 ORDER BY i.taustart_ts DESC",
                &[&two["source"]["taustart_ts"].as_str().unwrap()],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let times = |body: &serde_json::Value, newest: &[String]| -> Vec<serde_json::Value> {
            body["upper_limits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["taustart_ts"].clone())
                .filter(|t| newest.iter().any(|n| n == t.as_str().unwrap()))
                .collect()
        };
        assert_eq!(all["upper_limits_cut"], false);
        assert_eq!(
            times(&two, &earlier),
            times(&all, &earlier[..earlier.len().min(2)])
        );
        assert_eq!(two["upper_limits_cut"], earlier.len() > 2);
        cut += usize::from(full.len() > 2);
    }
    assert!(
        rows.len() >= 3 && cut > 0,
        "{} alerts, {cut} with a cut history",
        rows.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
}
