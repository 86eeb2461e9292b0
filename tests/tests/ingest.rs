//! Loading an archive as telescopes and archives write it: a directory searched for
//! images, gzip-compressed files, images in a FITS extension after an empty primary HDU,
//! observation times kept under another keyword or in a table; bad files left out with
//! `--keep-going`; images older than what a dataset has associated refused unless
//! `--allow-late`. The simulator's images are the reference: each altered copy must load
//! as the original does.

use skytrap_loader::simulate::{self, Settings};
use skytrap_tests::{
    assert_sound, dataset_summary, scratch_database, scratch_dir, skytrap, succeed,
};
use std::io::Write;
use std::path::{Path, PathBuf};

fn series(dir: &Path, epochs: usize, seed: u64) -> Vec<PathBuf> {
    simulate::simulate(
        dir,
        &Settings {
            epochs,
            seed,
            size: 128,
            variables: 1,
            transients: 2,
            anywhere: true,
        },
    )
    .unwrap()
}

/// The length of a FITS file's primary header (up to the block holding END).
fn header_len(bytes: &[u8]) -> usize {
    let end = bytes
        .chunks(80)
        .position(|c| c.starts_with(b"END "))
        .expect("an END card");
    ((end * 80) / 2880 + 1) * 2880
}

fn cards(header: &[u8]) -> Vec<String> {
    header
        .chunks(80)
        .map(|c| String::from_utf8_lossy(c).trim_end().to_string())
        .take_while(|c| c != "END")
        .collect()
}

fn header_bytes(cards: &[String]) -> Vec<u8> {
    let mut bytes: Vec<u8> = cards
        .iter()
        .chain(std::iter::once(&"END".to_string()))
        .flat_map(|c| format!("{c:<80}").into_bytes())
        .collect();
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    bytes
}

/// The same image moved into an IMAGE extension after an empty primary HDU (every
/// keyword in the extension, as archives that write extensions do).
fn as_extension(bytes: &[u8]) -> Vec<u8> {
    let len = header_len(bytes);
    let mut extension = cards(&bytes[..len]);
    extension[0] = "XTENSION= 'IMAGE   '".to_string();
    extension.push("PCOUNT  =                    0".to_string());
    extension.push("GCOUNT  =                    1".to_string());
    let primary = [
        "SIMPLE  =                    T",
        "BITPIX  =                    8",
        "NAXIS   =                    0",
        "EXTEND  =                    T",
    ]
    .map(String::from);
    [
        header_bytes(&primary),
        header_bytes(&extension),
        bytes[len..].to_vec(),
    ]
    .concat()
}

/// The file with its DATE-OBS card replaced by `card` (or dropped for None).
fn without_date_obs(bytes: &[u8], card: Option<&str>) -> Vec<u8> {
    let len = header_len(bytes);
    let cards: Vec<String> = cards(&bytes[..len])
        .into_iter()
        .filter_map(|c| match c.starts_with("DATE-OBS") {
            true => card.map(String::from),
            false => Some(c),
        })
        .collect();
    [header_bytes(&cards), bytes[len..].to_vec()].concat()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

/// Each image's file name (without its directories) and time, in time order.
async fn images_by_time(client: &tokio_postgres::Client, dataset: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT regexp_replace(i.url, '^.*/', ''), i.taustart_ts::text FROM skytrap.image i
             JOIN skytrap.dataset d ON d.id = i.dataset WHERE d.description = $1
             ORDER BY i.taustart_ts",
            &[&dataset],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// A directory holding the series as an archive might (gzip-compressed, in a FITS
/// extension, in subdirectories, with other files beside) loads in time order and gives
/// the dataset the plain files give.
#[tokio::test(flavor = "current_thread")]
async fn a_directory_of_compressed_and_extension_images_loads_as_the_plain_files() {
    let dir = scratch_dir("ingest-dir");
    let images = series(&dir.join("plain"), 4, 31);
    let read = |n: usize| std::fs::read(&images[n]).unwrap();
    let archive = dir.join("archive");
    // Named so that name order is not time order.
    write(&archive.join("z/first.fits"), &read(0));
    write(&archive.join("y/second.fits"), &as_extension(&read(1)));
    write(&archive.join("x/third.fits.gz"), &gzip(&read(2)));
    write(
        &archive.join("fourth.FITS.GZ"),
        &gzip(&as_extension(&read(3))),
    );
    write(&archive.join("notes.txt"), b"not an image");
    write(&archive.join("x/.fifth.fits.partial"), b"half written");

    let (url, client) = scratch_database("ingest_dir").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "plain"])
            .args(&images),
    );
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "archive"])
            .arg(&archive),
    );
    let names: Vec<String> = images_by_time(&client, "archive")
        .await
        .into_iter()
        .map(|i| i.0)
        .collect();
    assert_eq!(
        names,
        [
            "first.fits",
            "second.fits",
            "third.fits.gz",
            "fourth.FITS.GZ"
        ]
    );
    let times = |images: Vec<(String, String)>| images.into_iter().map(|i| i.1).collect::<Vec<_>>();
    assert_eq!(
        times(images_by_time(&client, "archive").await),
        times(images_by_time(&client, "plain").await)
    );
    let plain = dataset_summary(&client, "plain").await;
    assert!(plain[3] > 0, "the series has new sources: {plain:?}");
    assert_eq!(dataset_summary(&client, "archive").await, plain);
    // A compressed copy of a loaded image is that image (known by its FITS bytes).
    let out = succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "plain"])
            .arg(archive.join("x/third.fits.gz")),
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 images loaded, 1 already loaded"));

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = skytrap()
        .args(["load", "--db", &url, "--dataset", "none"])
        .arg(&empty)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("no FITS images in this directory"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// With --keep-going each bad file is named in one line with its reason and the others
/// load; the exit status still says that not everything did.
#[tokio::test(flavor = "current_thread")]
async fn keep_going_loads_the_rest_and_names_each_bad_file() {
    let dir = scratch_dir("ingest-keep-going");
    let images = series(&dir, 3, 32);
    let bytes = std::fs::read(&images[1]).unwrap();
    let truncated = write(&dir.join("truncated.fits"), &bytes[..bytes.len() - 5000]);
    let no_date = write(&dir.join("no_date.fits"), &without_date_obs(&bytes, None));
    let not_fits = write(&dir.join("notes.fits"), b"SIMPLE? no, a text file\n");
    let (url, client) = scratch_database("ingest_keep_going").await;
    let out = skytrap()
        .args(["load", "--db", &url, "--keep-going", "--dataset", "kept"])
        .args(&images)
        .args([&truncated, &no_date, &not_fits])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for (bad, reason) in [
        (&truncated, "truncated"),
        (&no_date, "DATE-OBS"),
        (&not_fits, "not a readable FITS file"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(&bad.display().to_string()))
            .unwrap_or_else(|| panic!("no line names {}: {stderr}", bad.display()));
        assert!(
            line.contains(reason) && line.ends_with("(not loaded)"),
            "{line}"
        );
    }
    assert!(
        stderr.contains("3 of 6 files could not be loaded"),
        "{stderr}"
    );
    assert_eq!(dataset_summary(&client, "kept").await[0], 3);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Association runs in time order: images observed before what a dataset has associated
/// are refused, with nothing written, unless --allow-late, which loads them and says what
/// that changes.
#[tokio::test(flavor = "current_thread")]
async fn images_older_than_the_associated_ones_are_refused_unless_allowed() {
    let dir = scratch_dir("ingest-late");
    let images = series(&dir, 6, 33);
    let (url, client) = scratch_database("ingest_late").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "late"])
            .args(&images[3..]),
    );
    let refused = skytrap()
        .args(["load", "--db", &url, "--dataset", "late"])
        .args(&images[..3])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&images[0].display().to_string()),
        "{stderr}"
    );
    assert!(
        stderr.contains("before the newest image dataset 'late' has associated"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-late"), "{stderr}");
    assert_eq!(dataset_summary(&client, "late").await[0], 3);

    let allowed = succeed(
        skytrap()
            .args(["load", "--db", &url, "--allow-late", "--dataset", "late"])
            .args(&images[..3]),
    );
    let stderr = String::from_utf8_lossy(&allowed.stderr);
    assert_eq!(
        stderr
            .matches("associated after images observed later")
            .count(),
        3,
        "{stderr}"
    );
    assert!(stderr.contains("3 associated late"), "{stderr}");
    assert_eq!(dataset_summary(&client, "late").await[0], 6);
    // Points added out of time order: sums, pair metrics and previous points still those of
    // the points.
    assert_sound(&client, "after late images").await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// Archives that keep the time elsewhere: under another keyword (an MJD is converted) or
/// in a CSV table beside the files.
#[tokio::test(flavor = "current_thread")]
async fn observation_times_come_from_another_keyword_or_a_table() {
    let dir = scratch_dir("ingest-times");
    let images = series(&dir.join("sim"), 2, 34);
    let read = |n: usize| std::fs::read(&images[n]).unwrap();
    // MJD 60000.25 is 2023-02-25T06:00, 60001.5 is 2023-02-26T12:00 (worked by hand).
    let mjd = [
        write(
            &dir.join("mjd/a.fits"),
            &without_date_obs(&read(0), Some("MJD-OBS =             60000.25")),
        ),
        write(
            &dir.join("mjd/b.fits"),
            &without_date_obs(&read(1), Some("MJD-OBS =              60001.5")),
        ),
    ];
    let (url, client) = scratch_database("ingest_times").await;
    let out = skytrap()
        .args(["load", "--db", &url, "--dataset", "mjd"])
        .args(&mjd)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("no DATE-OBS"));
    succeed(
        skytrap()
            .args([
                "load",
                "--db",
                &url,
                "--date-obs-from",
                "MJD-OBS",
                "--dataset",
                "mjd",
            ])
            .args(&mjd),
    );
    assert_eq!(
        images_by_time(&client, "mjd").await,
        [
            ("a.fits".to_string(), "2023-02-25 06:00:00".to_string()),
            ("b.fits".to_string(), "2023-02-26 12:00:00".to_string())
        ]
    );

    let table = dir.join("table");
    let files = [
        write(
            &table.join("images/c.fits"),
            &without_date_obs(&read(0), None),
        ),
        write(
            &table.join("images/d.fits"),
            &without_date_obs(&read(1), None),
        ),
    ];
    let csv = write(
        &table.join("times.csv"),
        b"file,time\nimages/d.fits,2024-03-02T00:00:00\nimages/c.fits,2024-03-01T12:30:00\n",
    );
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "table", "--times"])
            .arg(&csv)
            .args(&files),
    );
    assert_eq!(
        images_by_time(&client, "table").await,
        [
            ("c.fits".to_string(), "2024-03-01 12:30:00".to_string()),
            ("d.fits".to_string(), "2024-03-02 00:00:00".to_string())
        ]
    );
    // A file the table does not list is named.
    let other = write(
        &table.join("images/e.fits"),
        &without_date_obs(&read(0), Some("COMMENT another file")),
    );
    let out = skytrap()
        .args(["load", "--db", &url, "--dataset", "table", "--times"])
        .arg(&csv)
        .arg(&other)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("e.fits: not in the table of observation times"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The VAST pipeline's test epochs with ASKAP Selavy's catalogues (tests/data/fits, from
/// askap-vast/vast-pipeline): `--catalogue` stores Selavy's components, in skytrap's units,
/// as each image's blind sources, and skytrap still force-fits the image and associates.
#[tokio::test(flavor = "current_thread")]
async fn selavy_catalogues_stand_in_for_the_finder() {
    let dir = skytrap_tests::fits_dir().join("sim_multiepoch_vast");
    let image = |n: u32| dir.join(format!("sim_ASKAP_epoch0{n}.fits"));
    let selavy = |n: u32| dir.join(format!("sim_ASKAP_epoch0{n}.selavy.components.txt"));
    let (url, client) = scratch_database("ingest_selavy").await;
    let mut load = skytrap();
    load.args(["load", "--db", &url, "--dataset", "selavy"]);
    for n in 1..=4 {
        load.arg(image(n)).arg("--catalogue").arg(selavy(n));
    }
    succeed(&mut load);
    // Selavy's component counts (its files: 4, 7, 4, 5), each image's blind sources.
    let blind: Vec<i64> = client
        .query(
            "SELECT count(x.id) FROM skytrap.image i
             LEFT JOIN skytrap.extractedsource x ON x.image = i.id AND x.extract_type = 0
             GROUP BY i.id, i.taustart_ts ORDER BY i.taustart_ts",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(blind, [4, 7, 4, 5]);
    // Epoch 01's first component as Selavy wrote it: 2001.231634 mJy, 2002.257017 mJy/beam.
    let row = client
        .query_one(
            "SELECT x.f_int, x.f_peak FROM skytrap.extractedsource x
             ORDER BY skytrap.distance(x.ra, x.decl, 149.983325, -29.977778), x.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, f64>(0), row.get::<_, f64>(1)),
        (2.001231634, 2.002257017)
    );
    // The 2 Jy source at (150.0205, -30.0) that Selavy finds in epochs 02 and 04: a new
    // source in 02, force-fitted by skytrap in 03, detected again in 04.
    let points: Vec<String> = client
        .query(
            "SELECT l.measured_as FROM skytrap.lightcurves l
             WHERE l.runcat = (SELECT r.id FROM skytrap.runningcatalog r
                               ORDER BY skytrap.distance(r.wm_ra, r.wm_decl, 150.0205, -30.0)
                               LIMIT 1)
             ORDER BY l.observed_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(points, ["blind", "forced_at_lightcurve", "blind"]);
    // One catalogue per image, in order.
    let out = skytrap()
        .args(["load", "--db", &url, "--dataset", "other"])
        .args([image(1), image(2)])
        .arg("--catalogue")
        .arg(selavy(1))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("1 catalogues for 2 images: give one --catalogue per image"));
}

/// PySE's own CSV (`pyse --csv`, radio-pyse 0.7.1, committed beside the image with its
/// command in the MANIFEST) stands in for skytrap's finder the same way: one blind source
/// per line, PySE's positions and fluxes as PySE wrote them.
#[tokio::test(flavor = "current_thread")]
async fn a_pyse_csv_stands_in_for_the_finder() {
    let dir = skytrap_tests::fits_dir().join("sim_multiepoch_vast");
    let csv = dir.join("sim_ASKAP_epoch01.pyse.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(", ").collect();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(", ").map(|v| v.parse().unwrap()).collect())
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (url, client) = scratch_database("ingest_pyse").await;
    succeed(
        skytrap()
            .args(["load", "--db", &url, "--dataset", "pyse"])
            .arg(dir.join("sim_ASKAP_epoch01.fits"))
            .arg("--catalogue")
            .arg(&csv),
    );
    let stored: Vec<(f64, f64, f64, f64)> = client
        .query(
            "SELECT ra, decl, f_peak, f_int FROM skytrap.extractedsource
             WHERE extract_type = 0 ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    assert_eq!(stored.len(), rows.len());
    for (s, r) in stored.iter().zip(&rows) {
        assert_eq!(
            (s.0, s.1, s.2, s.3),
            (r[col("ra")], r[col("dec")], r[col("peak")], r[col("flux")])
        );
    }
}
