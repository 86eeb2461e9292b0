//! `skytrap load`: extract every image (in parallel), then write each one and associate it,
//! in time order, one transaction per image. Before association each image is also
//! force-fitted at the positions the database asks for (lightcurves that may have gone
//! undetected, and monitor positions); the image is read again for that rather than kept
//! in memory, so memory stays bounded however long the series.

use crate::db;
use crate::extract::{self, Extraction, Params};
use crate::fits;
use crate::forced;
use anyhow::{bail, Context, Result};
use futures_util::pin_mut;
use indicatif::{ParallelProgressIterator, ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// One image ready for the database.
struct Prepared {
    url: String,
    time: String,
    meta: fits::Metadata,
    extraction: Extraction,
}

/// What a load did, for the summary line.
#[derive(Default, Debug)]
pub struct Summary {
    pub images: usize,
    pub skipped: usize,
    pub sources: usize,
    pub dropped: usize,
    pub new_sources: i64,
}

pub async fn load(
    url: &str,
    dataset: &str,
    images: &[PathBuf],
    monitors: &[(f64, f64)],
    params: &Params,
) -> Result<Summary> {
    let started = Instant::now();
    if dataset.is_empty() || dataset.len() > 100 {
        bail!("dataset name must be 1 to 100 characters");
    }
    let client = db::connect(url).await?;

    // Images of this dataset already in the database are skipped: a re-run resumes.
    let done: HashSet<String> = client
        .query(
            "SELECT i.url FROM skytrap.image i JOIN skytrap.dataset d ON d.id = i.dataset
             WHERE d.description = $1 AND i.associated_at IS NOT NULL",
            &[&dataset],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut todo = Vec::new();
    let mut summary = Summary::default();
    for path in images {
        let url = std::fs::canonicalize(path)
            .with_context(|| format!("{}: cannot open", path.display()))?
            .display()
            .to_string();
        if done.contains(&url) {
            summary.skipped += 1;
        } else {
            todo.push((path.clone(), url));
        }
    }

    let bar = progress(todo.len() as u64, "extracting");
    let prepared: Vec<Result<Prepared>> = todo
        .par_iter()
        .progress_with(bar.clone())
        .map(|(path, url)| prepare(path, url, params).with_context(|| path.display().to_string()))
        .collect();
    bar.finish_and_clear();
    // Nothing is written unless every image could be read: a bad file stops the load
    // before it touches the database, and says which file and why.
    let mut prepared: Vec<Prepared> = prepared.into_iter().collect::<Result<_>>()?;
    let dataset_id = dataset_id(&client, dataset, params).await?;
    for (ra, dec) in monitors {
        client
            .execute(
                "INSERT INTO skytrap.monitor (dataset, ra, decl)
                 SELECT $1, $2, $3 WHERE NOT EXISTS (
                     SELECT 1 FROM skytrap.monitor WHERE dataset = $1 AND ra = $2 AND decl = $3)",
                &[&dataset_id, ra, dec],
            )
            .await?;
    }
    prepared.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then(a.meta.freq_eff.total_cmp(&b.meta.freq_eff))
    });

    let mut client = client;
    let bar = progress(prepared.len() as u64, "associating");
    for p in &prepared {
        let stored = store(&mut client, dataset_id, p, params)
            .await
            .with_context(|| format!("{}: storing and associating failed", p.url))?;
        bar.inc(1);
        let Some((written, dropped, new_sources)) = stored else {
            summary.skipped += 1;
            continue;
        };
        summary.images += 1;
        summary.sources += written;
        summary.dropped += dropped;
        summary.new_sources += new_sources;
    }
    bar.finish_and_clear();
    eprintln!(
        "skytrap: dataset '{dataset}': {} images loaded, {} already loaded, {} sources, {} new sources{} in {:.1} s",
        summary.images,
        summary.skipped,
        summary.sources,
        summary.new_sources,
        if summary.dropped > 0 {
            format!(", {} sources dropped for infinite errors", summary.dropped)
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64()
    );
    Ok(summary)
}

fn prepare(path: &std::path::Path, url: &str, params: &Params) -> Result<Prepared> {
    let image = fits::read(path)?;
    let time = fits::observation_time(&image.meta)?;
    let extraction = extract::extract(&image, params)?;
    Ok(Prepared {
        url: url.to_string(),
        time,
        meta: image.meta,
        extraction,
    })
}

fn progress(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} images ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(what);
    bar
}

async fn dataset_id(client: &tokio_postgres::Client, name: &str, p: &Params) -> Result<i32> {
    client
        .execute(
            "INSERT INTO skytrap.dataset (description, detection_threshold, analysis_threshold,
                 backsize_x, backsize_y, margin_width)
             VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (description) DO NOTHING",
            &[
                &name,
                &p.detection,
                &p.analysis,
                &(p.back_size as i32),
                &(p.margin as f64),
            ],
        )
        .await?;
    let row = client
        .query_one(
            "SELECT id FROM skytrap.dataset WHERE description = $1",
            &[&name],
        )
        .await?;
    Ok(row.get(0))
}

/// Writes one image and its sources and associates it, all in one transaction.
/// Returns (sources written, sources dropped, new sources), or None if another loader
/// stored the image first.
async fn store(
    client: &mut tokio_postgres::Client,
    dataset: i32,
    p: &Prepared,
    params: &Params,
) -> Result<Option<(usize, usize, i64)>> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock(7291, $1)", &[&dataset])
        .await?;
    // Another loader of this dataset may have stored the image while this one waited.
    let exists = tx
        .query_opt(
            "SELECT 1 FROM skytrap.image WHERE dataset = $1 AND url = $2",
            &[&dataset, &p.url],
        )
        .await?;
    if exists.is_some() {
        return Ok(None);
    }
    let e = &p.extraction;
    let m = &p.meta;
    let image: i32 = tx
        .query_one(
            "INSERT INTO skytrap.image (dataset, band, skyrgn, stokes, freq_eff, freq_bw,
                 taustart_ts, rb_smaj, rb_smin, rb_pa, deltax, deltay, fwhm_arcsec, fov_degrees,
                 rms_min, rms_max, detection_thresh, analysis_thresh, url)
             VALUES ($1, skytrap.frequencyband_for($1, $2, $3),
                     skytrap.skyregion_for($1, $4, $5, $6), $7, $2, $3, $8::text::timestamp,
                     $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
             RETURNING id",
            &[
                &dataset,
                &m.freq_eff,
                &m.freq_bw,
                &e.centre.0,
                &e.centre.1,
                &e.xtr_radius,
                &m.stokes,
                &p.time,
                &e.beam_smaj,
                &e.beam_smin,
                &m.bpa,
                &e.deltax,
                &e.deltay,
                &(m.bmaj * 3600.0),
                &(2.0 * e.xtr_radius),
                &e.rms_min,
                &e.rms_max,
                &params.detection,
                &params.analysis,
                &p.url,
            ],
        )
        .await?
        .get(0);

    let forced = forced_fits(&tx, image, p, params).await?;

    let sink = tx
        .copy_in(
            "COPY skytrap.extractedsource (image, ra, decl, ra_fit_err, decl_fit_err, ew_sys_err,
                 ns_sys_err, error_radius, det_sigma, semimajor, semiminor, pa, f_peak,
                 f_peak_err, f_int, f_int_err, chisq, reduced_chisq, extract_type, fit_type,
                 x_pix, y_pix, ff_runcat, ff_monitor)
             FROM STDIN BINARY",
        )
        .await?;
    let f8 = Type::FLOAT8;
    let types = [
        Type::INT4,
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        f8.clone(),
        Type::INT2,
        Type::INT2,
        Type::FLOAT4,
        Type::FLOAT4,
        Type::INT8,
        Type::INT4,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    let (mut written, mut dropped) = (0, 0);
    let blind = e.sources.iter().map(|s| (s, None, None));
    let at_targets = forced.iter().map(|(t, s)| (s, t.runcat, t.monitor));
    for (s, ff_runcat, ff_monitor) in blind.chain(at_targets) {
        // TraP drops measurements whose flux errors are infinite; so do we, and count them.
        let finite = [s.peak_err, s.flux_err, s.ra_err, s.dec_err, s.error_radius]
            .iter()
            .all(|v| v.is_finite())
            && s.peak_err > 0.0
            && s.flux_err > 0.0;
        if !finite {
            dropped += 1;
            continue;
        }
        let extract_type: i16 = match (ff_runcat, ff_monitor) {
            (_, Some(_)) => 2,
            (Some(_), None) => 1,
            (None, None) => 0,
        };
        let row: [&(dyn ToSql + Sync); 24] = [
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
            &extract_type,
            &i16::from(s.fitted),
            &(s.x as f32),
            &(s.y as f32),
            &ff_runcat,
            &ff_monitor,
        ];
        writer.as_mut().write(&row).await?;
        written += 1;
    }
    writer.finish().await?;

    let row = tx
        .query_one(
            "SELECT new_sources FROM skytrap.associate_image($1)",
            &[&image],
        )
        .await?;
    let new_sources: i32 = row.get(0);
    tx.commit().await?;
    Ok(Some((written, dropped, i64::from(new_sources))))
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
    p: &Prepared,
    params: &Params,
) -> Result<Vec<(Target, extract::Source)>> {
    let targets: Vec<Target> = tx
        .query(
            "SELECT runcat, monitor, ra, decl FROM skytrap.forced_fit_targets($1)",
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
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let pixels = fits::read(std::path::Path::new(&p.url))?;
    let field = extract::field(&pixels, params)?;
    Ok(targets
        .into_par_iter()
        .filter_map(|t| {
            let s = forced::fit_at(&pixels, &field, t.ra, t.dec, forced::BOX_IN_BEAMPIX)?;
            Some((t, s))
        })
        .collect())
}
