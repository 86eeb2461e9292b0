//! `skytrap load`: every file is checked first (its content hashed, its header read), so
//! a bad file stops the load before it touches the database. Then the images are
//! extracted a few at a time, in parallel and in time order, while the previous ones are
//! written and associated, one transaction per image. Before association each image is
//! also force-fitted at the positions the database asks for (lightcurves that may have
//! gone undetected, and monitor positions), with the pixels and background its
//! extraction used; only a few images are held at once, so memory stays bounded however
//! long the series.

use crate::config::{self, Config};
use crate::db;
use crate::extract::qc::{self, Quality};
use crate::extract::{self, Extraction, Field, Geometry, Params, RejectReason, Unusable};
use crate::extract::{catalogue, forced};
use crate::image::fits;
use anyhow::{bail, Context, Result};
use futures_util::pin_mut;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use skytrap_core::codes::extract_type;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::Sender;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// A file to load, its header checked.
struct Todo {
    path: PathBuf,
    url: String,
    sha256: String,
    /// DATE-OBS, checked, and the frequency: the order in which images are stored.
    time: String,
    freq_eff: f64,
    /// Another finder's catalogue of the image, whose sources replace skytrap's.
    catalogue: Option<PathBuf>,
}

/// One image ready for the database.
struct Prepared {
    url: String,
    sha256: String,
    time: String,
    meta: fits::Metadata,
    geometry: Geometry,
    /// TraP's noise in the image centre, Jy/beam (None where it cannot be measured).
    rms_qc: Option<f64>,
    outcome: Outcome,
}

/// What extraction made of an image: its sources, with the pixels and field they were
/// measured on (for the forced fits), or TraP's reason to reject it.
enum Outcome {
    Measured(Box<Measured>),
    Rejected(Unusable),
}

struct Measured {
    extraction: Extraction,
    image: fits::Image,
    field: Field,
}

/// What a load did, for the summary line.
#[derive(Default, Debug)]
pub struct Summary {
    pub images: usize,
    pub skipped: usize,
    pub rejected: usize,
    /// Files that could not be loaded (`--keep-going` goes on without them).
    pub failed: usize,
    /// Images associated after later ones (`--allow-late`).
    pub late: usize,
    /// Rejected images processed again (`--retry-rejected`).
    pub retried: usize,
    /// Blind detections stored, and forced fits that became lightcurve points.
    pub blind: usize,
    pub forced: usize,
    pub dropped: usize,
    pub new_sources: usize,
    pub alerts: usize,
}

/// How a batch of images is loaded.
pub struct Options {
    pub dataset: String,
    /// Positions force-fitted in every image (TraP's monitoring list), degrees.
    pub monitors: Vec<(f64, f64)>,
    /// How long to keep reconnecting after losing the database.
    pub retry_for: Duration,
    /// Load with settings other than those the dataset was made with, which become its
    /// settings.
    pub allow_config_change: bool,
    /// Process the batch's images that the dataset stored as rejected again.
    pub retry_rejected: bool,
    /// Report a file that cannot be read or measured in one line and load the others.
    pub keep_going: bool,
    /// Associate images observed before images the dataset has associated already.
    pub allow_late: bool,
    /// Where each image's observation time is.
    pub times: Times,
    /// Other finders' catalogues, by image (canonical path): their sources are stored
    /// instead of skytrap's.
    pub catalogues: HashMap<String, PathBuf>,
    pub verbosity: Verbosity,
}

/// What `load` says on stderr besides errors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing but errors and warnings.
    Quiet,
    /// A line per rejected or late image, and the summary.
    Normal,
    /// And a line per image associated.
    Verbose,
}

/// Where the observation time of an image is found.
pub enum Times {
    /// DATE-OBS, as TraP reads it.
    DateObs,
    /// Another header keyword (an ISO date, or days under an MJD keyword).
    Keyword(String),
    /// A table of times by file (canonical path), for archives that keep them apart.
    Table(HashMap<PathBuf, String>),
}

impl Times {
    /// A CSV file of `file,time` rows (ISO dates; files relative to the CSV's
    /// directory; a first row `file,...` is a header).
    pub fn from_csv(csv: &Path) -> Result<Times> {
        let text = std::fs::read_to_string(csv)
            .with_context(|| format!("{}: cannot read", csv.display()))?;
        let base = csv.parent().unwrap_or(Path::new("."));
        let mut table = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || (n == 0 && line.starts_with("file,")) {
                continue;
            }
            let at = |what: &str| format!("{}, line {}: {what}", csv.display(), n + 1);
            let Some((file, time)) = line.split_once(',') else {
                bail!(at("expected file,time"));
            };
            let path = base.join(file.trim().trim_matches('"'));
            let path = std::fs::canonicalize(&path)
                .with_context(|| at(&format!("{}: no such file", path.display())))?;
            let time = fits::iso_time(time.trim().trim_matches('"'), "the time")
                .with_context(|| at("not a time"))?;
            table.insert(path, time);
        }
        Ok(Times::Table(table))
    }

    fn of(&self, path: &Path, described: &fits::Described) -> Result<String> {
        match self {
            Times::DateObs => fits::observation_time(&described.meta),
            Times::Keyword(key) => fits::observation_time_in(&described.header, key),
            Times::Table(table) => std::fs::canonicalize(path)
                .ok()
                .and_then(|p| table.get(&p).cloned())
                .context("not in the table of observation times"),
        }
    }
}

pub async fn load(
    url: &str,
    images: &[PathBuf],
    config: &Config,
    options: &Options,
) -> Result<Summary> {
    let started = Instant::now();
    let dataset = options.dataset.as_str();
    if dataset.is_empty() || dataset.len() > 100 {
        bail!("dataset name must be 1 to 100 characters");
    }
    let mut client = connect(url).await?;
    // A dataset made with other settings is refused before any image is read.
    if !options.allow_config_change {
        check_config(&client, dataset, config).await?;
    }
    let mut summary = Summary::default();
    let files = new_files(&client, images, options, &mut summary).await?;
    let todo = checked(files, &config.extraction, options, &mut summary)?;
    if !options.allow_late {
        refuse_late(&client, dataset, &todo).await?;
    }

    let (dataset_id, job_settings) =
        dataset_id(&mut client, dataset, config, options.allow_config_change).await?;
    for (ra, dec) in &options.monitors {
        client
            .execute(
                "INSERT INTO skytrap.monitor (dataset, ra, decl)
                 SELECT $1, $2, $3 WHERE NOT EXISTS (
                     SELECT 1 FROM skytrap.monitor WHERE dataset = $1 AND ra = $2 AND decl = $3)",
                &[&dataset_id, ra, dec],
            )
            .await?;
    }

    let bar = progress(todo.len() as u64, "loading");
    let (sender, mut prepared) = tokio::sync::mpsc::channel(1);
    {
        let config = config.clone();
        std::thread::spawn(move || extract_in_order(todo, &config, sender));
    }
    let ids = Ids {
        dataset: dataset_id,
        job_settings,
    };
    while let Some(p) = prepared.recv().await {
        let Some(p) = bar.suspend(|| unless_kept_going(p, options, &mut summary))? else {
            bar.inc(1);
            continue;
        };
        let stored = store_retrying(&mut client, url, ids, &p, config, options, &bar)
            .await
            .with_context(|| format!("{}: storing and associating failed", p.url))?;
        bar.inc(1);
        summary.record(&p, stored, options.verbosity, &bar);
    }
    bar.finish_and_clear();
    if options.verbosity != Verbosity::Quiet {
        eprintln!(
            "skytrap: dataset '{dataset}': {} in {:.1} s",
            summary.line(),
            started.elapsed().as_secs_f64()
        );
    }
    if summary.failed > 0 {
        bail!(
            "{} of {} files could not be loaded (each said why above)",
            summary.failed,
            images.len()
        );
    }
    Ok(summary)
}

/// The files to load, each with its URL (canonical path) and SHA-256: an image is known by
/// both, and images of the dataset already in the database are skipped, so a re-run
/// resumes; a file whose content changed since it was loaded is an error, not a second
/// image. With --retry-rejected a rejected image is not "loaded": it is processed again.
async fn new_files(
    client: &tokio_postgres::Client,
    images: &[PathBuf],
    options: &Options,
    summary: &mut Summary,
) -> Result<Vec<(PathBuf, String, String)>> {
    let dataset = options.dataset.as_str();
    let files: Vec<(PathBuf, String, String)> = images
        .par_iter()
        .map(|path| {
            let url = std::fs::canonicalize(path)
                .with_context(|| format!("{}: cannot open", path.display()))?
                .display()
                .to_string();
            let sha256 =
                sha256_of(path).with_context(|| format!("{}: cannot read", path.display()))?;
            Ok((path.clone(), url, sha256))
        })
        .collect::<Vec<Result<_>>>()
        .into_iter()
        .filter_map(|file| unless_kept_going(file, options, summary).transpose())
        .collect::<Result<_>>()?;
    let mut loaded_urls: HashMap<String, Option<String>> = HashMap::new();
    let mut loaded_contents: HashSet<String> = HashSet::new();
    for row in client
        .query(
            "SELECT i.url, i.sha256::text FROM skytrap.image i
             JOIN skytrap.dataset d ON d.id = i.dataset WHERE d.description = $1
             AND NOT ($2 AND EXISTS (SELECT 1 FROM skytrap.rejection r WHERE r.image = i.id))",
            &[&dataset, &options.retry_rejected],
        )
        .await?
    {
        let sha256: Option<String> = row.get(1);
        if let Some(h) = &sha256 {
            loaded_contents.insert(h.clone());
        }
        loaded_urls.insert(row.get(0), sha256);
    }
    let mut new = Vec::new();
    for (path, url, sha256) in files {
        if let Some(Some(before)) = loaded_urls.get(&url) {
            if *before != sha256 {
                bail!(
                    "{}: the file changed since it was loaded into dataset '{dataset}' \
                     (SHA-256 was {before}, is now {sha256}); a loaded image is never replaced: \
                     give the new image its own file name",
                    path.display()
                );
            }
        }
        if loaded_urls.contains_key(&url) || !loaded_contents.insert(sha256.clone()) {
            summary.skipped += 1;
        } else {
            loaded_urls.insert(url.clone(), Some(sha256.clone()));
            new.push((path, url, sha256));
        }
    }
    Ok(new)
}

/// Each image's header checked (its bytes were all read for the hash), so that a bad file
/// is found before anything is written, and the images in the order they are stored:
/// observation time, then frequency.
fn checked(
    files: Vec<(PathBuf, String, String)>,
    params: &Params,
    options: &Options,
    summary: &mut Summary,
) -> Result<Vec<Todo>> {
    let mut todo: Vec<Todo> = files
        .into_par_iter()
        .map(|(path, url, sha256)| {
            let checked = || -> Result<Todo> {
                let described = fits::describe(&path)?;
                extract::check_margin(described.nx, described.ny, params)?;
                Ok(Todo {
                    time: options.times.of(&path, &described)?,
                    freq_eff: described.meta.freq_eff,
                    catalogue: options.catalogues.get(&url).cloned(),
                    path: path.clone(),
                    url,
                    sha256,
                })
            };
            checked().with_context(|| path.display().to_string())
        })
        .collect::<Vec<Result<_>>>()
        .into_iter()
        .filter_map(|todo| unless_kept_going(todo, options, summary).transpose())
        .collect::<Result<_>>()?;
    todo.sort_by(|a, b| a.time.cmp(&b.time).then(a.freq_eff.total_cmp(&b.freq_eff)));
    Ok(todo)
}

impl Summary {
    /// Counts what storing an image did, and says on stderr what a person should know.
    fn record(&mut self, p: &Prepared, stored: Stored, verbosity: Verbosity, bar: &ProgressBar) {
        match stored {
            Stored::Before => self.skipped += 1,
            Stored::Rejected { why, retried } => {
                bar.suspend(|| eprintln!("skytrap: {}: rejected: {why}", p.url));
                self.rejected += 1;
                self.retried += usize::from(retried);
            }
            Stored::Associated(a) => {
                let line = format!(
                    "{}: {}, {}, {}, {}",
                    p.url.rsplit('/').next().unwrap_or(&p.url),
                    plural(a.blind, "blind source"),
                    plural(a.forced, "forced fit"),
                    plural(a.new_sources, "new source"),
                    plural(a.alerts, "alert")
                );
                if verbosity == Verbosity::Verbose {
                    bar.suspend(|| eprintln!("skytrap: {}: {}", p.time, line));
                }
                bar.set_message(line);
                if a.late {
                    bar.suspend(|| {
                        eprintln!(
                            "skytrap: {}: associated after images observed later \
                             (--allow-late): its points take their place in time order in \
                             the lightcurves, but what the later images decided stands (their \
                             new sources and alerts, and the first detections it would have made)",
                            p.url
                        )
                    });
                    self.late += 1;
                }
                self.retried += usize::from(a.retried);
                self.images += 1;
                self.blind += a.blind;
                self.forced += a.forced;
                self.dropped += a.dropped;
                self.new_sources += a.new_sources;
                self.alerts += a.alerts;
            }
        }
    }

    /// "2 images loaded, 0 already loaded; 3 blind sources, ..." and what else happened.
    fn line(&self) -> String {
        let mut line = format!(
            "{} loaded, {} already loaded; {}, {}, {}, {}",
            plural(self.images, "image"),
            self.skipped,
            plural(self.blind, "blind source"),
            plural(self.forced, "forced fit"),
            plural(self.new_sources, "new source"),
            plural(self.alerts, "alert"),
        );
        if self.rejected > 0 {
            line += &format!(", {} rejected", plural(self.rejected, "image"));
        }
        if self.dropped > 0 {
            line += &format!(
                ", {} dropped for infinite errors",
                plural(self.dropped, "measurement")
            );
        }
        if self.late > 0 {
            line += &format!(", {} associated late", self.late);
        }
        if self.retried > 0 {
            line += &format!(
                ", {} processed again",
                plural(self.retried, "rejected image")
            );
        }
        if self.failed > 0 {
            line += &format!(", {} not loaded", plural(self.failed, "file"));
        }
        line
    }
}

/// A file that cannot be read stops the load before anything is written, or with
/// --keep-going is reported in one line and left out.
fn unless_kept_going<T>(
    outcome: Result<T>,
    options: &Options,
    summary: &mut Summary,
) -> Result<Option<T>> {
    match outcome {
        Err(e) if options.keep_going => {
            eprintln!("skytrap: {e:#} (not loaded)");
            summary.failed += 1;
            Ok(None)
        }
        outcome => outcome.map(Some),
    }
}

/// Refuses, before anything is written, images observed before the newest image the
/// dataset has associated: association runs in time order, and an earlier image loaded
/// now is not judged as it would have been in its place.
async fn refuse_late(client: &tokio_postgres::Client, dataset: &str, todo: &[Todo]) -> Result<()> {
    let times: Vec<&str> = todo.iter().map(|t| t.time.as_str()).collect();
    let first_late = client
        .query_opt(
            "SELECT t.n, newest::text FROM unnest($2::text[]) WITH ORDINALITY AS t(time, n),
                 (SELECT max(i.taustart_ts) AS newest FROM skytrap.image i
                  JOIN skytrap.dataset d ON d.id = i.dataset
                  WHERE d.description = $1 AND i.associated_at IS NOT NULL) m
             WHERE t.time::timestamp < m.newest ORDER BY t.n LIMIT 1",
            &[&dataset, &times],
        )
        .await?;
    if let Some(row) = first_late {
        let (n, newest): (i64, String) = (row.get(0), row.get(1));
        let t = &todo[n as usize - 1];
        bail!(
            "{}: observed {}, before the newest image dataset '{dataset}' has associated \
             ({newest}): association runs in time order, so an earlier image loaded now \
             would not be judged as in its place (its first detections would not be new \
             sources, later images' decisions would stand); load a series in time order, \
             or give --allow-late to associate it anyway",
            t.path.display(),
            t.time
        );
    }
    Ok(())
}

/// A connection named for `pg_stat_activity`, whose backend gives up on a transaction
/// within a second of this process dying (so a killed loader never holds the dataset's
/// lock while its orphaned statement runs on).
async fn connect(url: &str) -> Result<tokio_postgres::Client> {
    let client = db::connect(url).await?;
    db::require_extension(&client, url).await?;
    client
        .batch_execute(
            "SET application_name = 'skytrap load'; SET client_connection_check_interval = '1s'",
        )
        .await?;
    Ok(client)
}

/// The SHA-256 of a file's bytes, in hex.
/// The SHA-256 of a file's FITS bytes (decompressed), in hex.
fn sha256_of(path: &Path) -> Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(&mut fits::content(path)?, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Extracts the images in the order given, as many at a time as there are threads, and
/// hands each on in that order. The channel holds one: while an image is stored, the next
/// ones are extracted, and no more than a few images' pixels and maps are in memory.
fn extract_in_order(todo: Vec<Todo>, config: &Config, out: Sender<Result<Prepared>>) {
    for batch in todo.chunks(rayon::current_num_threads()) {
        let prepared: Vec<Result<Prepared>> = batch
            .par_iter()
            .map(|t| prepare(t, config).with_context(|| t.path.display().to_string()))
            .collect();
        for p in prepared {
            if out.blocking_send(p).is_err() {
                return; // the load stopped
            }
        }
    }
}

fn prepare(t: &Todo, config: &Config) -> Result<Prepared> {
    let (params, quality) = (&config.extraction, &config.quality);
    let image = fits::read(&t.path)?;
    let geometry = extract::geometry(&image, params)?;
    // TraP's quality control before extraction: no bright source near the pointing, the
    // noise in the image centre within range, then the beam's shape; the history test needs the database (`store`). An
    // image that fails is still checked for unusable pixels, which TraP tests first.
    let rms_qc = qc::rms_qc(&image.data, quality.rms_est_sigma, quality.rms_est_fraction);
    let failed = qc::bright_source_near(geometry.centre, &t.time, quality)
        .map(|detail| (RejectReason::BrightSource, detail))
        .or_else(|| {
            qc::rms_out_of_range(rms_qc, quality).map(|detail| (RejectReason::RmsInvalid, detail))
        })
        .or_else(|| {
            qc::beam_invalid(&extract::beam_in_pixels(&image), quality)
                .map(|detail| (RejectReason::BeamInvalid, detail))
        });
    let meta = image.meta.clone();
    let outcome = match (extract::field(&image, params), failed) {
        (Err(e), _) => Outcome::Rejected(e.downcast::<Unusable>()?),
        (Ok(_), Some((reason, detail))) => Outcome::Rejected(Unusable { reason, detail }),
        (Ok(field), None) => Outcome::Measured(Box::new(Measured {
            extraction: match &t.catalogue {
                None => extract::extract_in(&image, &field, params),
                Some(path) => Extraction {
                    sources: catalogue::read(path, &image, &field)?,
                    rms_min: field.rms_min,
                    rms_max: field.rms_max,
                    detection: Some(params.detection),
                },
            },
            image,
            field,
        })),
    };
    Ok(Prepared {
        url: t.url.clone(),
        sha256: t.sha256.clone(),
        time: t.time.clone(),
        meta,
        geometry,
        rms_qc: Some(rms_qc).filter(|r| r.is_finite()),
        outcome,
    })
}

/// "1 image", "2 images".
fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn progress(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>12} [{bar:40}] {pos}/{len} images ({eta}) {wide_msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(what);
    bar
}

/// The settings of a dataset, as `skytrap.config` rows (none for a new dataset or one
/// made before skytrap stored them); the association's as its `dataset` row has them
/// where `skytrap.config` has no row yet (a dataset made before they were settings).
async fn stored_config(
    client: &impl tokio_postgres::GenericClient,
    dataset: &str,
) -> Result<Vec<config::Row>> {
    Ok(client
        .query(
            "SELECT c.section, c.key, c.value, c.type FROM skytrap.config c
             JOIN skytrap.dataset d ON d.id = c.dataset WHERE d.description = $1
             UNION ALL
             SELECT a.section, a.key, a.value, a.type
             FROM skytrap.dataset d CROSS JOIN LATERAL (VALUES
                 ('source_extraction', 'expiration', d.expiration::text, 'int'),
                 ('association', 'deruiter_radius', d.assoc_radius::text, 'float'),
                 ('association', 'beamwidths_limit', d.beamwidths_limit::text, 'float'),
                 ('transient_search', 'new_source_sigma_margin',
                  d.new_source_sigma_margin::text, 'float'),
                 ('transient_search', 'pair_metrics_min_abs_vs',
                  d.pair_metrics_min_abs_vs::text, 'float'),
                 ('alerts', 'history_days', d.alert_history_days::text, 'float'),
                 ('alerts', 'history_points', d.alert_history_points::text, 'int'))
                 a (section, key, value, type)
             WHERE d.description = $1
               AND EXISTS (SELECT 1 FROM skytrap.config c WHERE c.dataset = d.id)
               AND NOT EXISTS (SELECT 1 FROM skytrap.config c
                               WHERE c.dataset = d.id AND c.section = a.section AND c.key = a.key)",
            &[&dataset],
        )
        .await?
        .iter()
        .map(|r| config::Row {
            section: r.get(0),
            key: r.get(1),
            value: r.get::<_, Option<String>>(2).unwrap_or_default(),
            kind: r.get::<_, Option<String>>(3).unwrap_or_default(),
        })
        .collect())
}

/// Refuses settings that differ from those the dataset was loaded with so far.
async fn check_config(
    client: &impl tokio_postgres::GenericClient,
    dataset: &str,
    config: &Config,
) -> Result<()> {
    let stored = stored_config(client, dataset).await?;
    if stored.is_empty() {
        return Ok(());
    }
    let differences = config::differences(&stored, &config.rows());
    if !differences.is_empty() {
        bail!(
            "dataset '{dataset}' was loaded with other settings: {}; give the same settings \
             (they are in skytrap.config), or --allow-config-change to load with these from \
             now on",
            differences.join(", ")
        );
    }
    Ok(())
}

/// The dataset's id, created with these settings on first use, and the id of these
/// settings in `skytrap.job_settings`. Under the dataset's lock (in case another loader
/// made it meanwhile) the settings are checked again, stored in `skytrap.config` for a
/// new dataset (or a setting it has no row for yet), and with `allow_config_change` made
/// the dataset's settings in force, the association's on its row too.
async fn dataset_id(
    client: &mut tokio_postgres::Client,
    name: &str,
    config: &Config,
    allow_config_change: bool,
) -> Result<(i32, i32)> {
    let (p, a) = (&config.extraction, &config.association);
    // The association's settings: the dataset row's columns and their values.
    let associating = "assoc_radius, beamwidths_limit, new_source_sigma_margin, expiration,
                       pair_metrics_min_abs_vs, alert_history_days, alert_history_points";
    let association: [&(dyn ToSql + Sync); 7] = [
        &a.deruiter_radius,
        &a.beamwidths_limit,
        &a.new_source_sigma_margin,
        &a.expiration,
        &a.pair_metrics_min_abs_vs,
        &a.alert_history_days,
        &a.alert_history_points,
    ];
    client
        .execute(
            &format!(
                "INSERT INTO skytrap.dataset (description, detection_threshold,
                     analysis_threshold, backsize_x, backsize_y, margin_width, {associating})
                 VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (description) DO NOTHING"
            ),
            &[
                &[
                    &name as &(dyn ToSql + Sync),
                    &p.detection,
                    &p.analysis,
                    &(p.back_size as i32),
                    &(p.margin as f64),
                ],
                &association[..],
            ]
            .concat(),
        )
        .await?;
    let row = client
        .query_one(
            "SELECT id FROM skytrap.dataset WHERE description = $1",
            &[&name],
        )
        .await?;
    let id: i32 = row.get(0);
    let tx = client.transaction().await?;
    lock_dataset(&tx, id).await?;
    if allow_config_change {
        tx.execute(
            &format!(
                "UPDATE skytrap.dataset SET ({associating}) = ($2, $3, $4, $5, $6, $7, $8)
                 WHERE id = $1"
            ),
            &[&[&id as &(dyn ToSql + Sync)], &association[..]].concat(),
        )
        .await?;
    } else {
        check_config(&tx, name, config).await?;
    }
    let statement = tx
        .prepare(if allow_config_change {
            "INSERT INTO skytrap.config (dataset, section, key, value, type)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dataset, section, key)
             DO UPDATE SET value = EXCLUDED.value, type = EXCLUDED.type"
        } else {
            "INSERT INTO skytrap.config (dataset, section, key, value, type)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dataset, section, key) DO NOTHING"
        })
        .await?;
    for r in config.rows() {
        tx.execute(&statement, &[&id, &r.section, &r.key, &r.value, &r.kind])
            .await?;
    }
    let settings = config.to_json().to_string();
    let job_settings: i32 = tx
        .query_one(
            "WITH made AS (
                 INSERT INTO skytrap.job_settings (dataset, settings) VALUES ($1, $2::text::jsonb)
                 ON CONFLICT (dataset, settings) DO NOTHING RETURNING id)
             SELECT id FROM made
             UNION ALL
             SELECT id FROM skytrap.job_settings WHERE dataset = $1 AND settings = $2::text::jsonb
             LIMIT 1",
            &[&id, &settings],
        )
        .await?
        .get(0);
    tx.commit().await?;
    Ok((id, job_settings))
}

/// Takes the dataset's lock until the transaction ends (`skytrap.lock_dataset`, which
/// says, in one line, why it gave up after lock_timeout).
async fn lock_dataset(tx: &tokio_postgres::Transaction<'_>, dataset: i32) -> Result<()> {
    match tx
        .execute("SELECT skytrap.lock_dataset($1)", &[&dataset])
        .await
    {
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            bail!(
                "{}",
                e.as_db_error()
                    .map_or(e.to_string(), |d| d.message().to_string())
            )
        }
        done => done.map(drop).map_err(Into::into),
    }
}

/// What storing one image did.
enum Stored {
    /// Another loader of the dataset stored it first (or a lost connection hid our commit).
    Before,
    /// Rejected, and why; `retried`: it had been rejected before.
    Rejected {
        why: String,
        retried: bool,
    },
    Associated(Associated),
}

/// What associating one image did.
struct Associated {
    /// Blind detections stored, and forced fits that became lightcurve points.
    blind: usize,
    forced: usize,
    /// Measurements left out for infinite errors.
    dropped: usize,
    new_sources: usize,
    alerts: usize,
    /// Observed before images the dataset had associated.
    late: bool,
    /// It had been rejected before.
    retried: bool,
}

/// `store`, again on a new connection while the server is unreachable (a restart, say),
/// for up to `retry_for`. A retry is safe: each attempt is one transaction, and one that
/// did commit is found by the next.
async fn store_retrying(
    client: &mut tokio_postgres::Client,
    url: &str,
    ids: Ids,
    p: &Prepared,
    config: &Config,
    options: &Options,
    bar: &ProgressBar,
) -> Result<Stored> {
    let retry_for = options.retry_for;
    let deadline = Instant::now() + retry_for;
    loop {
        let lost = match store(client, ids, p, config, options).await {
            Err(e) if db::connection_lost(&e) && Instant::now() < deadline => e,
            done => return done,
        };
        bar.suspend(|| {
            eprintln!(
                "skytrap: {}: lost the database ({lost:#}); reconnecting to store it again",
                p.url
            )
        });
        *client = loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            match connect(url).await {
                Ok(c) => break c,
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!(
                        "the database did not come back within {} s; run the same command \
                         again to resume",
                        retry_for.as_secs()
                    )))
                }
                Err(_) => continue,
            }
        };
    }
}

/// The rows an image's row refers to.
#[derive(Clone, Copy)]
struct Ids {
    dataset: i32,
    /// The settings it is processed with (`skytrap.job_settings`).
    job_settings: i32,
}

/// Writes one image and its sources and associates it, or records why it is rejected,
/// all in one transaction.
async fn store(
    client: &mut tokio_postgres::Client,
    ids: Ids,
    p: &Prepared,
    config: &Config,
    options: &Options,
) -> Result<Stored> {
    let (dataset, params) = (ids.dataset, &config.extraction);
    let tx = client.transaction().await?;
    lock_dataset(&tx, dataset).await?;
    // Another loader of this dataset may have stored the image while this one waited, or
    // associated later images. A rejected image stored before is forgotten when it is to
    // be processed again.
    let stored_before = tx
        .query(
            "SELECT i.id, EXISTS (SELECT 1 FROM skytrap.rejection r WHERE r.image = i.id)
             FROM skytrap.image i WHERE i.dataset = $1 AND (i.url = $2 OR i.sha256 = $3)",
            &[&dataset, &p.url, &p.sha256],
        )
        .await?;
    let retried = !stored_before.is_empty();
    for row in &stored_before {
        let (id, rejected): (i32, bool) = (row.get(0), row.get(1));
        if !(rejected && options.retry_rejected) {
            return Ok(Stored::Before);
        }
        tx.execute("SELECT skytrap.forget_rejected_image($1)", &[&id])
            .await?;
    }
    let late: bool = tx
        .query_one(
            "SELECT coalesce($2::text::timestamp < max(taustart_ts), false)
             FROM skytrap.image WHERE dataset = $1 AND associated_at IS NOT NULL",
            &[&dataset, &p.time],
        )
        .await?
        .get(0);
    if late && !options.allow_late {
        bail!(
            "observed {}, before images another loader of the dataset associated meanwhile; \
             give --allow-late to associate it anyway",
            p.time
        );
    }
    let image = insert_image(&tx, ids, p, params).await?;
    let verdict = match &p.outcome {
        Outcome::Rejected(why) => Err((why.reason, why.detail.clone())),
        Outcome::Measured(measured) => {
            match off_history(&tx, dataset, &image, p.rms_qc, &config.quality).await? {
                Some(detail) => Err((RejectReason::RmsInvalid, detail)),
                None => Ok(measured),
            }
        }
    };
    let measured = match verdict {
        Ok(measured) => measured,
        Err((reason, detail)) => {
            // TraP keeps a rejected image, with its reason, and never associates it.
            tx.execute(
                "INSERT INTO skytrap.rejection (image, rejectreason, comment)
                 VALUES ($1, $2, left($3, 512))",
                &[&image.id, &(reason as i32), &detail],
            )
            .await?;
            tx.commit().await?;
            return Ok(Stored::Rejected {
                why: detail,
                retried,
            });
        }
    };
    let forced = forced_fits(&tx, image.id, &measured.image, &measured.field, params).await?;
    let sources = &measured.extraction.sources;
    let (blind, dropped) = copy_sources(&tx, image.id, sources, &forced, params).await?;
    // The outbox's newest id before association: the alerts raised are the image's above
    // it (ids are handed out in commit order, so the range is short).
    let newest_alert: i64 = tx
        .query_one("SELECT coalesce(max(alert_id), 0) FROM skytrap.alert", &[])
        .await?
        .get(0);
    let row = tx
        .query_one(
            "SELECT new_sources, forced FROM skytrap.associate_image($1)",
            &[&image.id],
        )
        .await?;
    let (new_sources, forced): (i32, i32) = (row.get(0), row.get(1));
    let alerts: i64 = tx
        .query_one(
            "SELECT count(*) FROM skytrap.alert WHERE alert_id > $1 AND image = $2",
            &[&newest_alert, &image.id],
        )
        .await?
        .get(0);
    tx.commit().await?;
    Ok(Stored::Associated(Associated {
        blind,
        forced: forced as usize,
        dropped,
        new_sources: new_sources as usize,
        alerts: alerts as usize,
        late,
        retried,
    }))
}

/// The image's row as inserted: its id, and the band and time the history test reads by.
struct ImageRow {
    id: i32,
    band: i32,
    taustart: std::time::SystemTime,
}

async fn insert_image(
    tx: &tokio_postgres::Transaction<'_>,
    ids: Ids,
    p: &Prepared,
    params: &Params,
) -> Result<ImageRow> {
    let g = &p.geometry;
    let m = &p.meta;
    let (rms_min, rms_max, detection) = match &p.outcome {
        Outcome::Measured(m) => {
            let e = &m.extraction;
            (Some(e.rms_min), Some(e.rms_max), e.detection)
        }
        Outcome::Rejected(_) => (None, None, Some(params.detection)),
    };
    let inserted = tx
        .query_one(
            "INSERT INTO skytrap.image (dataset, band, skyrgn, stokes, freq_eff, freq_bw,
                 taustart_ts, rb_smaj, rb_smin, rb_pa, deltax, deltay, fwhm_arcsec, fov_degrees,
                 rms_min, rms_max, detection_thresh, analysis_thresh, url, sha256, rms_qc,
                 job_settings, telescope, object)
             VALUES ($1, skytrap.frequencyband_for($1, $2, $3),
                     skytrap.skyregion_for($1, $4, $5, $6, $23), $7, $2, $3, $8::text::timestamp,
                     $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $24,
                     left($25, 64), left($26, 100))
             RETURNING id, band, taustart_ts",
            &[
                &ids.dataset,
                &m.freq_eff,
                &m.freq_bw,
                &g.centre.0,
                &g.centre.1,
                &g.xtr_radius,
                &m.stokes,
                &p.time,
                &g.beam_smaj,
                &g.beam_smin,
                &m.bpa,
                &g.deltax,
                &g.deltay,
                &(m.bmaj * 3600.0),
                &(2.0 * g.xtr_radius),
                &rms_min,
                &rms_max,
                &detection,
                &params.analysis,
                &p.url,
                &p.sha256,
                &p.rms_qc,
                &g.footprint,
                &ids.job_settings,
                &m.telescope,
                &m.object,
            ],
        )
        .await?;
    Ok(ImageRow {
        id: inserted.get(0),
        band: inserted.get(1),
        taustart: inserted.get(2),
    })
}

/// TraP's history test: why the image's rms_qc is off those of the band's newest images
/// up to this one (this one included, rejected ones too), if it is.
async fn off_history(
    tx: &tokio_postgres::Transaction<'_>,
    dataset: i32,
    image: &ImageRow,
    rms_qc: Option<f64>,
    quality: &Quality,
) -> Result<Option<String>> {
    let Some(rms_qc) = rms_qc else {
        return Ok(None);
    };
    let history: Vec<f64> = tx
        .query(
            // The dataset too, so that the (dataset, band, taustart_ts) index finds the
            // rows (a band belongs to one dataset).
            "SELECT rms_qc FROM skytrap.image
             WHERE dataset = $4 AND band = $1 AND taustart_ts <= $2 AND rms_qc IS NOT NULL
             ORDER BY taustart_ts DESC, id DESC LIMIT $3",
            &[
                &image.band,
                &image.taustart,
                &(quality.rms_est_history as i64),
                &dataset,
            ],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(qc::rms_off_history(rms_qc, &history, quality))
}

/// The columns of `skytrap.extractedsource` the loader writes, and their types, in the
/// order `copy_sources` gives the values.
const SOURCE_COLUMNS: [(&str, Type); 24] = [
    ("image", Type::INT4),
    ("ra", Type::FLOAT8),
    ("decl", Type::FLOAT8),
    ("ra_fit_err", Type::FLOAT8),
    ("decl_fit_err", Type::FLOAT8),
    ("ew_sys_err", Type::FLOAT8),
    ("ns_sys_err", Type::FLOAT8),
    ("error_radius", Type::FLOAT8),
    ("det_sigma", Type::FLOAT8),
    ("semimajor", Type::FLOAT8),
    ("semiminor", Type::FLOAT8),
    ("pa", Type::FLOAT8),
    ("f_peak", Type::FLOAT8),
    ("f_peak_err", Type::FLOAT8),
    ("f_int", Type::FLOAT8),
    ("f_int_err", Type::FLOAT8),
    ("chisq", Type::FLOAT8),
    ("reduced_chisq", Type::FLOAT8),
    ("extract_type", Type::INT2),
    ("fit_type", Type::INT2),
    ("x_pix", Type::FLOAT4),
    ("y_pix", Type::FLOAT4),
    ("ff_runcat", Type::INT8),
    ("ff_monitor", Type::INT4),
];

/// COPYs the image's blind detections and forced fits into `skytrap.extractedsource`;
/// returns how many were written and how many dropped. TraP drops measurements whose flux
/// errors are infinite; so do we, and count them.
async fn copy_sources(
    tx: &tokio_postgres::Transaction<'_>,
    image: i32,
    blind: &[extract::Source],
    forced: &[(Target, extract::Source)],
    params: &Params,
) -> Result<(usize, usize)> {
    let columns: Vec<&str> = SOURCE_COLUMNS.iter().map(|c| c.0).collect();
    let types: Vec<Type> = SOURCE_COLUMNS.iter().map(|c| c.1.clone()).collect();
    let sink = tx
        .copy_in(&format!(
            "COPY skytrap.extractedsource ({}) FROM STDIN BINARY",
            columns.join(", ")
        ))
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    let (mut blind_written, mut dropped) = (0, 0);
    let blind = blind.iter().map(|s| (s, None, None));
    let at_targets = forced.iter().map(|(t, s)| (s, t.runcat, t.monitor));
    for (s, ff_runcat, ff_monitor) in blind.chain(at_targets) {
        let finite = [s.peak_err, s.flux_err, s.ra_err, s.dec_err, s.error_radius]
            .iter()
            .all(|v| v.is_finite())
            && s.peak_err > 0.0
            && s.flux_err > 0.0;
        if !finite {
            dropped += 1;
            continue;
        }
        let measured_as = match (ff_runcat, ff_monitor) {
            (_, Some(_)) => extract_type::FORCED_AT_MONITOR,
            (Some(_), None) => extract_type::FORCED_AT_LIGHTCURVE,
            (None, None) => extract_type::BLIND,
        };
        let row: [&(dyn ToSql + Sync); SOURCE_COLUMNS.len()] = [
            &image,
            &s.ra,
            &s.dec,
            &(s.ra_err / 3600.0),
            &(s.dec_err / 3600.0),
            &params.ew_sys_err,
            &params.ns_sys_err,
            &s.error_radius,
            &s.snr,
            &s.smaj,
            &s.smin,
            &s.pa,
            &s.peak,
            &s.peak_err,
            &s.flux,
            &s.flux_err,
            &s.chisq,
            &s.reduced_chisq,
            &measured_as,
            &i16::from(s.fitted),
            &(s.x as f32),
            &(s.y as f32),
            &ff_runcat,
            &ff_monitor,
        ];
        writer.as_mut().write(&row).await?;
        blind_written += usize::from(ff_runcat.is_none() && ff_monitor.is_none());
    }
    writer.finish().await?;
    Ok((blind_written, dropped))
}

/// A position the database asks the loader to force-fit.
struct Target {
    runcat: Option<i64>,
    monitor: Option<i32>,
    ra: f64,
    dec: f64,
}

/// Forced fits of the image at the positions `skytrap.forced_fit_targets` lists; positions
/// off the image or on masked pixels get none, as in TraP.
async fn forced_fits(
    tx: &tokio_postgres::Transaction<'_>,
    image: i32,
    pixels: &fits::Image,
    field: &Field,
    params: &Params,
) -> Result<Vec<(Target, extract::Source)>> {
    let targets: Vec<Target> = tx
        .query(
            // In a fixed order, so the forced fits get the same ids on a re-run.
            "SELECT runcat, monitor, ra, decl FROM skytrap.forced_fit_targets($1)
             ORDER BY monitor NULLS FIRST, runcat",
            &[&image],
        )
        .await?
        .iter()
        .map(|r| Target {
            runcat: r.get(0),
            monitor: r.get(1),
            ra: r.get(2),
            dec: r.get(3),
        })
        .collect();
    Ok(targets
        .into_par_iter()
        .filter_map(|t| {
            let s = forced::fit_at(pixels, field, t.ra, t.dec, params)?;
            Some((t, s))
        })
        .collect())
}
