//! Hostile input: `skytrap extract` on a corpus of broken and adversarial FITS files
//! (tests/hostile/make_corpus.py) and on bad command lines. Every run has a time limit and
//! an address-space limit; every failure must be one line that starts with `skytrap: `,
//! names the file and the reason, and never a panic. Needs no database.
//!
//! expected.tsv's `load` column (rejected:N / error / ok) is for the load half of this
//! test, which needs a database and lives with the loader's load tests.

use skytrap_core::sky;
use skytrap_tests::{extract_csv_rows, scratch_dir, skytrap, workspace};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Wall-clock limit of one run: the largest corpus file is 8 MB.
const TIME_LIMIT: Duration = Duration::from_secs(20);
/// Address-space limit of one run (ulimit -v, KiB): 4 GB.
const MEMORY_LIMIT_KIB: u64 = 4_000_000;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `skytrap ARGS` under the memory limit; kills it and fails past the time limit.
fn run_limited(args: &[&std::ffi::OsStr]) -> Run {
    let bin = skytrap().get_program().to_owned();
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_LIMIT_KIB}; exec \"$0\" \"$@\""))
        .arg(&bin)
        .args(args)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("bash");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "skytrap {args:?} ran longer than {} s and was killed",
                TIME_LIMIT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// The failure contract: exit status 1 or 2, one line on stderr starting `skytrap: `, no
/// panic, and the expected words.
fn assert_clean_failure(what: &str, run: &Run, needles: &[&str]) {
    let stderr = &run.stderr;
    assert!(
        matches!(run.code, Some(1) | Some(2)),
        "{what}: exit status {:?}, stderr: {stderr}",
        run.code
    );
    assert!(!stderr.contains("panicked"), "{what}: panic: {stderr}");
    assert!(
        !stderr.contains("RUST_BACKTRACE"),
        "{what}: panic: {stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "{what}: stderr must be one line: {stderr}"
    );
    assert!(
        stderr.starts_with("skytrap: "),
        "{what}: stderr must start with 'skytrap: ': {stderr}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle),
            "{what}: expected '{needle}' in: {stderr}"
        );
    }
}

struct Expected {
    file: String,
    extract_ok: bool,
    reason: String,
    load: String,
}

fn make_corpus(dir: &Path) -> Vec<Expected> {
    let script = workspace().join("tests/hostile/make_corpus.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
        .expect("python3 is needed to write the hostile corpus");
    assert!(
        out.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let table = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut lines = table.lines();
    assert_eq!(
        lines.next(),
        Some("file\textract\treason\tload\twhat"),
        "expected.tsv header"
    );
    lines
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "expected.tsv row: {line}");
            assert!(matches!(f[1], "ok" | "error"), "{line}");
            assert_eq!(
                f[1] == "error",
                !f[2].is_empty(),
                "a reason for every error: {line}"
            );
            assert!(
                f[3] == "ok"
                    || f[3] == "error"
                    || f[3]
                        .strip_prefix("rejected:")
                        .is_some_and(|n| ["0", "4", "5"].contains(&n)),
                "load column: {line}"
            );
            Expected {
                file: f[0].to_string(),
                extract_ok: f[1] == "ok",
                reason: f[2].to_string(),
                load: f[3].to_string(),
            }
        })
        .collect()
}

#[test]
fn every_hostile_file_fails_cleanly_or_extracts() {
    let dir = scratch_dir("hostile");
    let started = Instant::now();
    let corpus = make_corpus(&dir);
    // Deterministic: a second run writes the same bytes.
    let again = scratch_dir("hostile-again");
    make_corpus(&again);
    for e in &corpus {
        assert_eq!(
            std::fs::read(dir.join(&e.file)).unwrap(),
            std::fs::read(again.join(&e.file)).unwrap(),
            "{} differs between two runs of make_corpus.py",
            e.file
        );
    }
    std::fs::remove_dir_all(&again).unwrap();

    let kinds = corpus.iter().filter(|e| e.file != "good.fits").count();
    assert!(kinds >= 30, "only {kinds} kinds of hostile file");
    assert!(corpus.iter().any(|e| e.file == "good.fits" && e.extract_ok));
    // Every reject reason the load half checks is represented.
    for load in ["rejected:0", "rejected:4", "rejected:5", "error", "ok"] {
        assert!(
            corpus.iter().any(|e| e.load == load),
            "no file with load {load}"
        );
    }

    let good_run = run_limited(&["extract".as_ref(), dir.join("good.fits").as_os_str()]);
    let good = extract_csv_rows(&good_run.stdout);
    assert_eq!(good.len(), 5, "good.fits: {}", good_run.stdout);
    let mut variants = 0;
    for e in &corpus {
        let path: PathBuf = dir.join(&e.file);
        let run = run_limited(&["extract".as_ref(), path.as_os_str()]);
        let what = format!("{} ({})", e.file, run.stderr.trim());
        if e.extract_ok {
            assert_eq!(run.code, Some(0), "{what} must extract");
            assert!(run.stderr.is_empty(), "{what}: stderr {}", run.stderr);
            // Every valid variant gives the base image's catalogue: each source within
            // 0.01 pixel (0.05″), its peak within 1e-4 Jy/beam plus the pixels' rounding
            // in the variant's format (pixel values scaled by the corpus' factor).
            let rows = extract_csv_rows(&run.stdout);
            assert_eq!(rows.len(), 5, "{what}: {}", run.stdout);
            let (scale, rounding) = match e.file.as_str() {
                "values_1e38.fits" => (1.6e39, 0.0),
                "int8_scaled.fits" => (1.0, 0.07 / 255.0 / 2.0),
                "int16_scaled.fits" => (1.0, 1e-5 / 2.0),
                _ => (1.0, 0.0),
            };
            for g in &good {
                let r = rows
                    .iter()
                    .min_by(|a, b| {
                        sky::distance(a[0], a[1], g[0], g[1])
                            .total_cmp(&sky::distance(b[0], b[1], g[0], g[1]))
                    })
                    .unwrap();
                assert!(r.iter().all(|v| v.is_finite()), "{what}: {r:?}");
                let offset = sky::distance(r[0], r[1], g[0], g[1]) * 3600.0;
                assert!(
                    offset < 0.05,
                    "{what}: {offset}″ from good.fits' source {g:?}"
                );
                assert!(
                    (r[4] / scale - g[4]).abs() < 1e-4 + rounding,
                    "{what}: peak {} against {}",
                    r[4] / scale,
                    g[4]
                );
            }
            variants += 1;
        } else {
            assert_clean_failure(
                &what,
                &run,
                &[&format!("skytrap: {}: ", path.display()), &e.reason],
            );
            assert_eq!(run.code, Some(1), "{what}");
        }
    }

    // good.fits and its valid variants: 4-D with extra axes, float32 near overflow, BITPIX
    // −64, 8, 16, 32 and 64, transposed axes, and headers odd in ways extraction ignores.
    assert_eq!(variants, 13, "valid variants compared");

    // Several files: the bad one is named, whatever its place.
    let good = dir.join("good.fits");
    let bad = dir.join("naxis1_negative.fits");
    let run = run_limited(&["extract".as_ref(), good.as_os_str(), bad.as_os_str()]);
    assert_clean_failure(
        "good + bad",
        &run,
        &[&bad.display().to_string(), "NAXIS1 = -5"],
    );

    eprintln!(
        "hostile corpus: {} files in {:.1} s",
        corpus.len(),
        started.elapsed().as_secs_f64()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_command_lines_fail_with_one_clear_line() {
    let dir = scratch_dir("hostile-cli");
    let good = dir.join("good.fits");
    // One valid image from the corpus script is enough here.
    make_corpus(&dir);
    let g = good.to_str().unwrap();
    let missing = dir.join("no-such-file.fits");
    let m = missing.to_str().unwrap();
    let d = dir.to_str().unwrap();
    let sim = dir.join("sim");
    let s = sim.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (&["extract", "--bogus", g], &["--bogus"]),
        (&["extract"], &["required", "<IMAGE>"]),
        (&["frobnicate"], &["frobnicate"]),
        (&["extract", m], &[m, "No such file"]),
        (&["extract", d], &[d, "is a directory"]),
        (
            &["extract", "--detection-threshold=-5", g],
            &["detection-threshold", "-5"],
        ),
        (
            &["extract", "--detection-threshold", "NaN", g],
            &["detection-threshold", "NaN"],
        ),
        (
            &["extract", "--analysis-threshold", "inf", g],
            &["analysis-threshold"],
        ),
        (
            &["extract", "--analysis-threshold", "0", g],
            &["analysis-threshold"],
        ),
        (&["extract", "--back-size", "0", g], &["back-size"]),
        (&["extract", "--back-size", "-3", g], &["-3"]),
        (
            &["extract", "--margin", "99999999999999999999", g],
            &["margin"],
        ),
        (&["extract", "--radius=-1", g], &["radius"]),
        (&["extract", "--radius", "nan", g], &["radius"]),
        (&["extract", "--ew-sys-err=-1e400", g], &["ew-sys-err"]),
        (&["extract", "--format", "xml", g], &["format", "xml"]),
        (&["extract", "--connectivity", "6", g], &["connectivity"]),
        (&["extract", "--margin", "200", g], &[g, "margin of 200"]),
        (
            &["load", "--dataset", "x", "--monitor", "garbage", g],
            &["monitor", "garbage"],
        ),
        (
            &["load", "--dataset", "x", "--monitor", "10,95", g],
            &["monitor", "10,95"],
        ),
        (
            &["load", "--dataset", "x", "--monitor", "nan,1", g],
            &["monitor"],
        ),
        (&["load", "--monitor", "1,1", g], &["--dataset"]),
        (&["simulate", s, "--size", "1"], &["size", "64"]),
        (&["simulate", s, "--size", "99999999999"], &["size"]),
        (&["simulate", s, "--epochs", "many"], &["epochs", "many"]),
        (&["simulate", s, "--seed", "-1"], &["-1"]),
    ];
    for (args, needles) in cases {
        let os: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        let run = run_limited(&os);
        assert_clean_failure(&format!("skytrap {}", args.join(" ")), &run, needles);
    }
    assert!(!sim.exists(), "a rejected simulate wrote {}", sim.display());
    std::fs::remove_dir_all(dir).unwrap();
}
