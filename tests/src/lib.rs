//! Helpers for skytrap's end-to-end tests: where the `skytrap` binary and the test data
//! are, a scratch database per test, the simulator's truth, and hand-made FITS files.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tokio_postgres::{Client, NoTls};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The release `skytrap` binary (`SKYTRAP_BIN` overrides); `make test` builds it first.
pub fn skytrap() -> Command {
    let bin = std::env::var_os("SKYTRAP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace().join("target"));
            target.join("release/skytrap")
        });
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build --release -p skytrap-loader`",
        bin.display()
    );
    let mut c = Command::new(bin);
    c.env_remove("DATABASE_URL");
    c
}

/// The real telescope images the repository carries in `tests/data/fits` (provenance in
/// its MANIFEST.md); `SKYTRAP_FITS_DIR` overrides.
pub fn fits_dir() -> PathBuf {
    let dir = std::env::var_os("SKYTRAP_FITS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("tests/data/fits"));
    assert!(
        dir.is_dir(),
        "{} is missing: the test images live in tests/data/fits (or set SKYTRAP_FITS_DIR)",
        dir.display()
    );
    dir
}

/// A fresh scratch directory under the system temp dir.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("skytrap-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A new database with the extension on the server of `DATABASE_URL`; returns its URL and
/// a client. `make test` points DATABASE_URL at its private test cluster.
pub async fn scratch_database(name: &str) -> (String, Client) {
    scratch_database_at(name, None).await
}

/// `scratch_database` with the extension at a given version (None: the default one).
pub async fn scratch_database_at(name: &str, version: Option<&str>) -> (String, Client) {
    let base = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must name a server with the skytrap extension installed (make test sets it)",
    );
    let (server, _) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    let database = format!("skytrap_{name}_{}", std::process::id());
    let admin = connect(&format!("{server}/postgres")).await;
    // Two statements: a multi-statement string runs as one transaction, which
    // DROP/CREATE DATABASE refuse.
    for sql in [
        format!("DROP DATABASE IF EXISTS {database}"),
        format!("CREATE DATABASE {database}"),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
    let url = format!("{server}/{database}");
    let client = connect(&url).await;
    let create = match version {
        Some(v) => format!("CREATE EXTENSION skytrap VERSION '{v}'"),
        None => "CREATE EXTENSION skytrap".to_string(),
    };
    client.batch_execute(&create).await.unwrap();
    (url, client)
}

/// What a dataset holds: images, lightcurves, lightcurve points, new sources, alerts.
pub async fn dataset_summary(client: &Client, dataset: &str) -> [i64; 5] {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM skytrap.image i WHERE i.dataset = d.id),
                    (SELECT count(*) FROM skytrap.runningcatalog r WHERE r.dataset = d.id),
                    (SELECT count(*) FROM skytrap.assocxtrsource a
                     JOIN skytrap.runningcatalog r ON r.id = a.runcat WHERE r.dataset = d.id),
                    (SELECT count(*) FROM skytrap.newsource n
                     JOIN skytrap.runningcatalog r ON r.id = n.runcat WHERE r.dataset = d.id),
                    (SELECT count(*) FROM skytrap.alert a WHERE a.dataset = d.id)
             FROM skytrap.dataset d WHERE d.description = $1",
            &[&dataset],
        )
        .await
        .unwrap_or_else(|e| panic!("dataset {dataset}: {e}"));
    std::array::from_fn(|i| row.get(i))
}

/// Fails the test with every violation `skytrap.check_integrity()` finds, if any.
pub async fn assert_sound(client: &Client, when: &str) {
    let violations: Vec<String> = client
        .query(
            "SELECT format('%s (lightcurve %s): %s', invariant, runcat, detail)
             FROM skytrap.check_integrity()",
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("check_integrity {when}: {e}"))
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        violations.is_empty(),
        "check_integrity {when}:\n{}",
        violations.join("\n")
    );
}

pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    tokio::spawn(connection);
    client
}

/// One row of the simulator's truth.csv.
#[derive(Clone, Debug)]
pub struct Truth {
    pub source: u32,
    pub kind: String,
    pub ra: f64,
    pub dec: f64,
    /// 0-based pixel position.
    pub x: f64,
    pub y: f64,
    pub epoch: usize,
    pub date_obs: String,
    pub flux: f64,
}

pub fn read_truth(dir: &Path) -> Vec<Truth> {
    let text = std::fs::read_to_string(dir.join("truth.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            Truth {
                source: f[0].parse().unwrap(),
                kind: f[1].to_string(),
                ra: f[2].parse().unwrap(),
                dec: f[3].parse().unwrap(),
                x: f[4].parse().unwrap(),
                y: f[5].parse().unwrap(),
                epoch: f[6].parse().unwrap(),
                date_obs: f[7].to_string(),
                flux: f[8].parse().unwrap(),
            }
        })
        .collect()
}

/// One row of a reference CSV, by column name.
pub struct Record(HashMap<String, String>);

impl Record {
    /// A numeric column; panics, naming the column, if it is missing or not a number.
    pub fn num(&self, column: &str) -> f64 {
        let text = self.text(column);
        text.parse()
            .unwrap_or_else(|_| panic!("column {column}: {text:?} is not a number"))
    }

    pub fn text(&self, column: &str) -> &str {
        self.0
            .get(column)
            .unwrap_or_else(|| panic!("no column {column}"))
    }
}

/// Reads a reference CSV: '#' lines, a header row, then one row per record.
pub fn read_records(path: &Path) -> Vec<Record> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("a header row").split(',').collect();
    lines
        .map(|line| {
            Record(
                header
                    .iter()
                    .map(|h| h.to_string())
                    .zip(line.split(',').map(str::to_string))
                    .collect(),
            )
        })
        .collect()
}

/// Replaces the value of header card `key` (an 80-character card) in a FITS file's bytes.
pub fn set_card(bytes: &mut [u8], key: &str, value: &str) {
    let name = format!("{key:<8}=");
    let at = bytes
        .chunks(80)
        .take_while(|c| !c.starts_with(b"END "))
        .position(|c| c.starts_with(name.as_bytes()))
        .unwrap_or_else(|| panic!("no {key} card"));
    let card = format!("{name} {value:>20}");
    let card = format!("{card:<80}");
    bytes[at * 80..at * 80 + 80].copy_from_slice(card.as_bytes());
}

/// A minimal FITS file: the given header cards (after SIMPLE/BITPIX/NAXIS*) and an
/// nx × ny float32 image of `value`.
pub fn minimal_fits(nx: usize, ny: usize, cards: &[&str], value: f32) -> Vec<u8> {
    let mut header = vec![
        "SIMPLE  =                    T".to_string(),
        "BITPIX  =                  -32".to_string(),
        "NAXIS   =                    2".to_string(),
        format!("NAXIS1  = {nx:>20}"),
        format!("NAXIS2  = {ny:>20}"),
    ];
    header.extend(cards.iter().map(|c| c.to_string()));
    header.push("END".to_string());
    let mut bytes: Vec<u8> = header
        .iter()
        .flat_map(|c| format!("{c:<80}").into_bytes())
        .collect();
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    for _ in 0..nx * ny {
        bytes.extend_from_slice(&value.to_be_bytes());
    }
    bytes.resize(bytes.len().div_ceil(2880) * 2880, 0);
    bytes
}

/// A child process that is killed (SIGKILL) when dropped: when a test ends, passed or
/// failed, or on purpose.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private cluster of the test's own (`skytrap db up`), for tests that stop and start
/// the server; stopped when dropped.
/// Whether the tests run as root (then private clusters run as `postgres`).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

pub struct PrivateCluster {
    pub dir: PathBuf,
    pub port: u16,
}

impl PrivateCluster {
    pub fn start(name: &str) -> PrivateCluster {
        let dir = scratch_dir(name).join("pgdata");
        let port = 55000 + (std::process::id() % 5000) as u16;
        let cluster = PrivateCluster { dir, port };
        cluster.up();
        cluster
    }

    /// Its URL, as `skytrap db url` gives it (the Unix socket in its data directory).
    pub fn url(&self) -> String {
        let out = succeed(
            skytrap()
                .args(["db", "url", "--port", &self.port.to_string(), "--dir"])
                .arg(&self.dir),
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    pub fn up(&self) {
        let out = skytrap()
            .args(["db", "up", "--port", &self.port.to_string(), "--dir"])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "db up: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server with a fast shutdown (open connections are cut).
    pub fn down(&self) {
        let out = skytrap()
            .args(["db", "down", "--dir"])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "db down: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl PrivateCluster {
    /// Restarts the server with pg_ctl's `fast` shutdown (connections cut, checkpoint) or
    /// `immediate` one (no checkpoint: the server recovers from its WAL as after a crash).
    pub fn restart(&self, mode: &str) {
        let out = Command::new("/usr/lib/postgresql/15/bin/pg_config")
            .arg("--bindir")
            .output()
            .unwrap();
        let pg_ctl = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("pg_ctl");
        // The server refuses to run as root; `skytrap db up` runs it as postgres.
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        let status = command
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", mode, "-w", "-t", "60", "-l"])
            .arg(self.dir.join("server.log"))
            .arg("restart")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl -m {mode} restart failed");
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = skytrap()
            .args(["db", "down", "--dir"])
            .arg(&self.dir)
            .output();
    }
}

/// Alert ids in a file of JSON lines written by `skytrap listen`.
pub fn alert_ids(path: &Path) -> Vec<i64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|a| a["alert_id"].as_i64())
        .collect()
}

/// Every alert id of the outbox, in order.
pub async fn outbox_ids(client: &Client) -> Vec<i64> {
    client
        .query("SELECT alert_id FROM skytrap.alert ORDER BY alert_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Loads Q3C and pgSphere (Debian's postgresql-15-q3c and postgresql-15-pgsphere) into a
/// database, as oracles. Debian's pg_sphere 1.2.0 script does not load on PostgreSQL
/// 15.20 (its obsolete GAVO `@` operators fail the commutator check; upstream pgsphere
/// issue #85), so its script is run as plain SQL without that block.
pub async fn load_q3c_and_pgsphere(client: &Client) {
    client.batch_execute("CREATE EXTENSION q3c").await.unwrap();
    let script = std::fs::read_to_string("/usr/share/postgresql/15/extension/pg_sphere--1.2.0.sql")
        .expect("pgSphere script: install postgresql-15-pgsphere");
    let start = script
        .find("-- a minimal set of backwards-compatible operators for GAVO")
        .expect("the GAVO block");
    let end = script[start..]
        .find("-- debugging")
        .expect("the end of the GAVO block")
        + start;
    let sql = format!("{}{}", &script[..start], &script[end..])
        .lines()
        .filter(|l| !l.starts_with("\\echo"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("MODULE_PATHNAME", "$libdir/pg_sphere");
    client.batch_execute(&sql).await.unwrap();
}

/// Runs a command and asserts that it succeeded, showing its stderr if not.
pub fn succeed(command: &mut Command) -> std::process::Output {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        command,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The numbers of the rows of `skytrap extract`'s CSV output (the image's path, the last
/// column, left out), after checking its header.
pub fn extract_csv_rows(text: &str) -> Vec<Vec<f64>> {
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("ra,dec,ra_err,dec_err,peak,peak_err,flux,flux_err,smaj,smin,pa,snr,x,y,image")
    );
    lines
        .map(|l| {
            let (numbers, _image) = l.rsplit_once(',').unwrap();
            numbers.split(',').map(|v| v.parse().unwrap()).collect()
        })
        .collect()
}

/// The tables a load writes, in the order their ids are referenced; for each, the columns
/// holding other tables' ids and the columns that differ between runs by nature (clock
/// times). Ids themselves differ too (a rolled-back transaction still uses up sequence
/// values), so rows are compared with every id replaced by its rank in its table.
pub struct Table {
    name: &'static str,
    id: Option<&'static str>,
    order: &'static str,
    refs: &'static [(&'static str, &'static str)],
    clock: &'static [&'static str],
    /// The rows of dataset $1.
    scope: &'static str,
}

const OF_DATASET: &str = "dataset = $1";
const OF_IMAGES: &str = "image IN (SELECT id FROM skytrap.image WHERE dataset = $1)";
const OF_LIGHTCURVES: &str = "runcat IN (SELECT id FROM skytrap.runningcatalog WHERE dataset = $1)";

pub const TABLES: &[Table] = &[
    Table {
        name: "dataset",
        id: Some("id"),
        order: "id",
        refs: &[],
        clock: &["process_start_ts"],
        scope: "id = $1",
    },
    Table {
        name: "alert_rule",
        id: None,
        order: "dataset, kind",
        refs: &[("dataset", "dataset"), ("band", "frequencyband")],
        clock: &[],
        scope: OF_DATASET,
    },
    Table {
        name: "config",
        id: Some("id"),
        order: "id",
        refs: &[("dataset", "dataset")],
        clock: &[],
        scope: OF_DATASET,
    },
    Table {
        name: "job_settings",
        id: Some("id"),
        order: "id",
        refs: &[("dataset", "dataset")],
        clock: &["recorded_at"],
        scope: OF_DATASET,
    },
    Table {
        name: "monitor",
        id: Some("id"),
        order: "id",
        refs: &[("dataset", "dataset"), ("runcat", "runningcatalog")],
        clock: &[],
        scope: OF_DATASET,
    },
    Table {
        name: "frequencyband",
        id: Some("id"),
        order: "id",
        refs: &[("dataset", "dataset")],
        clock: &[],
        scope: OF_DATASET,
    },
    Table {
        name: "skyregion",
        id: Some("id"),
        order: "id",
        refs: &[("dataset", "dataset")],
        clock: &[],
        scope: OF_DATASET,
    },
    Table {
        name: "image",
        id: Some("id"),
        order: "id",
        refs: &[
            ("dataset", "dataset"),
            ("band", "frequencyband"),
            ("skyrgn", "skyregion"),
            ("job_settings", "job_settings"),
        ],
        clock: &["associated_at"],
        scope: OF_DATASET,
    },
    Table {
        name: "rejection",
        id: Some("id"),
        order: "id",
        refs: &[("image", "image")],
        clock: &[],
        scope: OF_IMAGES,
    },
    Table {
        name: "extractedsource",
        id: Some("id"),
        order: "id",
        refs: &[("image", "image"), ("ff_runcat", "runningcatalog")],
        clock: &[],
        scope: OF_IMAGES,
    },
    Table {
        name: "runningcatalog",
        id: Some("id"),
        order: "id",
        refs: &[("xtrsrc", "extractedsource"), ("dataset", "dataset")],
        clock: &[],
        scope: OF_DATASET,
    },
    Table {
        name: "runningcatalog_flux",
        id: Some("id"),
        order: "id",
        refs: &[
            ("runcat", "runningcatalog"),
            ("band", "frequencyband"),
            ("last_xtrsrc", "extractedsource"),
            ("last_prev_xtrsrc", "extractedsource"),
        ],
        clock: &[],
        scope: OF_LIGHTCURVES,
    },
    Table {
        name: "assocxtrsource",
        id: Some("id"),
        order: "id",
        refs: &[
            ("runcat", "runningcatalog"),
            ("xtrsrc", "extractedsource"),
            ("prev_xtrsrc", "extractedsource"),
        ],
        clock: &[],
        scope: OF_LIGHTCURVES,
    },
    Table {
        name: "assocskyrgn",
        id: Some("id"),
        order: "id",
        refs: &[("runcat", "runningcatalog"), ("skyrgn", "skyregion")],
        clock: &[],
        scope: OF_LIGHTCURVES,
    },
    Table {
        name: "newsource",
        id: Some("id"),
        order: "id",
        refs: &[
            ("runcat", "runningcatalog"),
            ("trigger_xtrsrc", "extractedsource"),
            ("previous_limits_image", "image"),
        ],
        clock: &[],
        scope: OF_LIGHTCURVES,
    },
    // A view (its id is its lightcurve's), compared as the table it was before 0.3.0.
    Table {
        name: "varmetric",
        id: Some("id"),
        order: "id",
        refs: &[
            ("runcat", "runningcatalog"),
            ("band", "frequencyband"),
            ("newsource", "newsource"),
        ],
        clock: &[],
        scope: OF_LIGHTCURVES,
    },
    Table {
        name: "alert",
        id: Some("alert_id"),
        order: "alert_id",
        refs: &[
            ("dataset", "dataset"),
            ("runcat", "runningcatalog"),
            ("xtrsrc", "extractedsource"),
            ("image", "image"),
        ],
        clock: &["created_at"],
        scope: OF_DATASET,
    },
];

/// What a load wrote, table by table: the table's name and one canonical JSON text per row.
pub type Dump = Vec<(&'static str, Vec<String>)>;

/// Every row a load wrote, canonical: every id replaced by its rank in its table, clock
/// times dropped.
pub async fn dump(client: &Client) -> Dump {
    dump_where(client, None).await
}

/// The rows of one dataset (by description), canonical as `dump`'s and with ids ranked
/// within the dataset, so that a dataset loaded beside others compares with one loaded
/// alone. Its name (the dataset's description, also in alert bodies) is left out.
pub async fn dump_dataset(client: &Client, dataset: &str) -> Dump {
    let id: i32 = client
        .query_one(
            "SELECT id FROM skytrap.dataset WHERE description = $1",
            &[&dataset],
        )
        .await
        .unwrap_or_else(|e| panic!("dataset {dataset}: {e}"))
        .get(0);
    dump_where(client, Some(id)).await
}

async fn dump_where(client: &Client, dataset: Option<i32>) -> Dump {
    let mut rows: HashMap<&str, Vec<serde_json::Map<String, Value>>> = HashMap::new();
    let mut ranks: HashMap<&str, HashMap<i64, usize>> = HashMap::new();
    for t in TABLES {
        // A database of an older version may not have the table yet: no rows.
        let exists: bool = client
            .query_one(
                "SELECT to_regclass('skytrap.' || $1) IS NOT NULL",
                &[&t.name],
            )
            .await
            .unwrap()
            .get(0);
        if !exists {
            rows.insert(t.name, Vec::new());
            ranks.insert(t.name, HashMap::new());
            continue;
        }
        let (scope, args): (String, Vec<&(dyn tokio_postgres::types::ToSql + Sync)>) =
            match &dataset {
                Some(id) => (format!("WHERE {}", t.scope), vec![id]),
                None => (String::new(), vec![]),
            };
        let fetched: Vec<serde_json::Map<String, Value>> = client
            .query(
                &format!(
                    "SELECT to_jsonb(t)::text FROM skytrap.{} t {scope} ORDER BY {}",
                    t.name, t.order
                ),
                &args,
            )
            .await
            .unwrap()
            .iter()
            .map(
                |r| match serde_json::from_str(r.get::<_, &str>(0)).unwrap() {
                    Value::Object(m) => m,
                    _ => unreachable!("to_jsonb of a row is an object"),
                },
            )
            .collect();
        if let Some(id) = t.id {
            let rank = fetched
                .iter()
                .enumerate()
                .map(|(n, row)| (row[id].as_i64().unwrap(), n))
                .collect();
            ranks.insert(t.name, rank);
        }
        rows.insert(t.name, fetched);
    }
    let rank_of = |table: &str, v: &Value| match v.as_i64() {
        Some(id) => Value::from(ranks[table][&id]),
        None => Value::Null,
    };
    TABLES
        .iter()
        .map(|t| {
            let canonical = rows[t.name]
                .iter()
                .map(|row| {
                    let mut row = row.clone();
                    if let Some(id) = t.id {
                        row.remove(id);
                    }
                    for clock in t.clock {
                        row.remove(*clock);
                    }
                    // A column an older version does not have is left out.
                    for (column, table) in t.refs {
                        if let Some(id) = row.get(*column) {
                            let mapped = rank_of(table, id);
                            row.insert(column.to_string(), mapped);
                        }
                    }
                    if let Some(body) = row.get_mut("body") {
                        body_ranks(body, &rank_of);
                        if dataset.is_some() {
                            body.as_object_mut().map(|b| b.remove("dataset"));
                        }
                    }
                    if dataset.is_some() && t.name == "dataset" {
                        row.remove("description");
                    }
                    Value::Object(row).to_string()
                })
                .collect();
            (t.name, canonical)
        })
        .collect()
}

/// An alert body with the row ids inside it as ranks (the `id` of a nested object is
/// dropped: it repeats a reference the alert's own columns carry).
fn body_ranks(v: &mut Value, rank_of: &dyn Fn(&str, &Value) -> Value) {
    const REFS: [(&str, &str); 5] = [
        ("image", "image"),
        ("previous_limits_image", "image"),
        ("band", "frequencyband"),
        ("runcat", "runningcatalog"),
        ("previous_xtrsrc", "extractedsource"),
    ];
    match v {
        Value::Object(m) => {
            m.remove("id");
            for (key, table) in REFS {
                if let Some(id) = m.get_mut(key) {
                    *id = rank_of(table, id);
                }
            }
            if let Some(Value::Array(cited)) = m.get_mut("citations") {
                for c in cited.iter_mut() {
                    *c = rank_of("alert", c);
                }
            }
            for (key, inner) in m.iter_mut() {
                if key != "citations" && !REFS.iter().any(|(k, _)| k == key) {
                    body_ranks(inner, rank_of);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| body_ranks(x, rank_of)),
        _ => {}
    }
}

/// Asserts that two dumps hold the same rows, naming the first table and row that differ.
pub fn assert_same(what: &str, got: &[(&str, Vec<String>)], want: &[(&str, Vec<String>)]) {
    for ((table, got), (_, want)) in got.iter().zip(want) {
        assert_eq!(
            got.len(),
            want.len(),
            "{what}: skytrap.{table} has {} rows, an uninterrupted load {}",
            got.len(),
            want.len()
        );
        if let Some((g, w)) = got.iter().zip(want).find(|(g, w)| g != w) {
            panic!(
                "{what}: skytrap.{table} differs from an uninterrupted load:\n got  {g}\n want {w}"
            );
        }
    }
}
