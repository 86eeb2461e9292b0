//! The command line: every subcommand and flag, and the parsers of their values.

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use skytrap_loader::{config, db::cluster, output};
use std::path::PathBuf;

/// Find transient and variable radio sources in a stream of sky images.
#[derive(Parser)]
#[command(name = "skytrap", version, propagate_version = true)]
pub struct Cli {
    /// PostgreSQL URL of the skytrap database [default: the private cluster of `skytrap db up`]
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "URL")]
    pub db: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a private PostgreSQL cluster with the skytrap extension
    #[command(subcommand)]
    Db(DbCommand),
    /// Write a simulated multi-epoch sky with known transients, and its truth.csv
    Simulate {
        /// Directory for epoch_NNN.fits and truth.csv
        outdir: PathBuf,
        /// Number of epochs (one image a day)
        #[arg(long, default_value_t = 10)]
        epochs: usize,
        /// Random seed: the same seed gives the same sky
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Image side in pixels
        #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(64..=16384))]
        size: u32,
        /// Number of variable sources
        #[arg(long, default_value_t = 4)]
        variables: usize,
        /// Number of transients (each appears after the first epoch)
        #[arg(long, default_value_t = 3)]
        transients: usize,
        /// Number of steady sources, at least 4 beams apart (fewer if the field fills up)
        /// [default: one per 5000 pixels]
        #[arg(long, value_name = "N")]
        steady: Option<usize>,
        /// Place sources anywhere in the image, corners and edges too (15 pixels from the
        /// border at least), not only within 0.42 of its size from the centre
        #[arg(long)]
        anywhere: bool,
    },
    /// Find and measure the sources in FITS images; print them as CSV or JSON lines
    Extract {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = output::Format::Csv)]
        format: output::Format,
        /// Instead of finding sources, force-fit each image at these positions: a CSV file
        /// of ra,dec (degrees) per line, header optional; peak only, with position and
        /// shape fixed, over a box of --box-in-beampix
        #[arg(long, value_name = "CSV")]
        at: Option<PathBuf>,
        #[command(flatten)]
        params: ExtractOptions,
    },
    /// Extract images and associate them into a dataset's lightcurves, in time order
    Load {
        /// Dataset name (created on first use)
        #[arg(long)]
        dataset: String,
        #[arg(required = true)]
        images: Vec<PathBuf>,
        /// Force-fit this position (degrees) in every image, detected or not (TraP's
        /// monitoring list); repeat for more positions
        #[arg(long, value_name = "RA,DEC", value_parser = parse_position)]
        monitor: Vec<(f64, f64)>,
        /// After losing the database (a server restart, say), keep reconnecting this long
        /// before giving up; a re-run resumes either way
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        retry_for: u64,
        /// Load even if the dataset was made with other settings (its stored
        /// configuration stays that of its first load)
        #[arg(long)]
        allow_config_change: bool,
        #[command(flatten)]
        params: ExtractOptions,
        #[command(flatten)]
        quality: QualityOptions,
    },
    /// Deliver alerts as they are committed: JSON lines on stdout (the default), VOEvent
    /// files, or a command per alert
    Listen {
        /// Start after this alert id (0: every alert in the outbox); resets a named
        /// consumer [default: where the consumer left off, else only new alerts]
        #[arg(long, value_name = "ID")]
        from: Option<i64>,
        /// Keep this listener's position in the database under NAME, so it resumes where
        /// it stopped (at-least-once delivery)
        #[arg(long, value_name = "NAME")]
        consumer: Option<String>,
        /// Exit after this many alerts
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        /// Print each alert as a JSON line (the default when no other responder is given)
        #[arg(long)]
        json: bool,
        /// Write each alert as a VOEvent 2.0 file DIR/<alert_id>.xml
        #[arg(long, value_name = "DIR")]
        voevent: Option<PathBuf>,
        /// Run a shell command per alert with its JSON on stdin (SKYTRAP_ALERT_ID set);
        /// a failing command is retried, then the alert is parked in skytrap.alert_parked
        #[arg(long, value_name = "CMD")]
        exec: Option<String>,
        /// Attempts of the --exec command before an alert is parked
        #[arg(long, default_value_t = 3, value_name = "N")]
        exec_attempts: u32,
        /// Seconds one attempt of the --exec command may run before it is killed
        #[arg(long, default_value_t = 60.0, value_name = "SECONDS", value_parser = positive_seconds)]
        exec_timeout: f64,
        /// IVORN of the VOEvent stream
        #[arg(
            long,
            default_value = "ivo://skytrap.invalid/alerts",
            value_name = "IVORN"
        )]
        ivorn_root: String,
    },
    /// Show or change a dataset's alert rules
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// List the rules of a dataset
    Show {
        #[arg(long)]
        dataset: String,
    },
    /// Change one rule; settings not given stay as they are
    Set {
        #[arg(long)]
        dataset: String,
        #[arg(value_parser = ["new_source", "variable", "flux_jump", "monitor_detection"])]
        kind: String,
        #[arg(long)]
        enabled: Option<bool>,
        /// new_source: 0 alerts on possible and likely transients, 1 on likely only
        #[arg(long, value_parser = clap::value_parser!(i16).range(0..=1))]
        min_newsource_type: Option<i16>,
        /// new_source: least detection significance, sigma
        #[arg(long)]
        min_det_sigma: Option<f64>,
        /// variable: least η of the integrated flux
        #[arg(long)]
        eta_min: Option<f64>,
        /// variable: least V of the integrated flux
        #[arg(long)]
        v_min: Option<f64>,
        /// variable: only this frequency band (id)
        #[arg(long)]
        band: Option<i32>,
        /// flux_jump: least |Vs| between consecutive points
        #[arg(long)]
        vs_min: Option<f64>,
        /// flux_jump: least |m| between consecutive points
        #[arg(long)]
        m_min: Option<f64>,
        /// monitor_detection: largest distance from a monitor position, arcsec
        #[arg(long)]
        radius_arcsec: Option<f64>,
    },
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// Create (first time) and start the cluster, with database `skytrap` and the extension
    Up(ClusterOptions),
    /// Stop the cluster
    Down(ClusterOptions),
    /// Print the cluster's connection URL
    Url(ClusterOptions),
}

#[derive(Args)]
pub struct ClusterOptions {
    /// Data directory
    #[arg(long, default_value = cluster::DEFAULT_DIR)]
    pub dir: PathBuf,
    /// Port (of the socket, and of TCP with --tcp)
    #[arg(long, default_value_t = cluster::DEFAULT_PORT)]
    pub port: u16,
    /// Also listen on TCP at 127.0.0.1, with a generated password (only the Unix socket in
    /// the data directory otherwise, which only its owner can reach)
    #[arg(long)]
    pub tcp: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Connectivity {
    #[value(name = "8")]
    Eight,
    #[value(name = "4")]
    Four,
}

/// Source-finding settings. Each defaults to the file of --config, else the preset.
#[derive(Args)]
pub struct ExtractOptions {
    /// Defaults: trap (TraP's job_params: shape fixed to the beam, 250-pixel radius) or
    /// pyse (PySE's command-line defaults) [skytrap's: TraP's, fitting shapes, whole image]
    #[arg(long, value_enum, value_name = "NAME")]
    pub preset: Option<PresetName>,
    /// TOML file of settings (sections source_extraction, quality, persistence, as in
    /// TraP's job_params.cfg); flags override it, it overrides the preset
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Detection threshold, in sigma of the local noise [trap: 8, pyse: 10]
    #[arg(long, value_parser = positive)]
    pub detection_threshold: Option<f64>,
    /// Analysis threshold for growing islands, in sigma [3]
    #[arg(long, value_parser = positive)]
    pub analysis_threshold: Option<f64>,
    /// Background and noise box size, pixels [trap: 50, pyse: 64]
    #[arg(long, value_parser = clap::value_parser!(u32).range(3..=65536))]
    pub back_size: Option<u32>,
    /// Pixels ignored along the image border [trap: 10, pyse: 0]
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=65536))]
    pub margin: Option<u32>,
    /// Extraction radius around the image centre, pixels (0: whole image) [0]
    #[arg(long, value_parser = non_negative)]
    pub radius: Option<f64>,
    /// Island connectivity [8]
    #[arg(long, value_enum)]
    pub connectivity: Option<Connectivity>,
    /// False Detection Rate: detect at the threshold where at most this fraction of
    /// detected pixels is noise (Hopkins et al. 2002, as PySE) instead of a fixed one [off]
    #[arg(long, value_name = "ALPHA", value_parser = fraction)]
    pub fdr: Option<f64>,
    /// Deblend islands over N sub-thresholds (PySE's deblend_nthresh; 0: off) [0]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=300))]
    pub deblend: Option<u32>,
    /// Least fraction of the island's flux a deblended part must hold [0.005]
    #[arg(long, value_name = "FRACTION", value_parser = fraction)]
    pub deblend_mincont: Option<f64>,
    /// Fit only peak and position, with the shape held at the restoring beam [false]
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub force_beam: Option<bool>,
    /// Measure sources by their moments, without a least-squares fit (PySE's vectorised
    /// mode; the config key is `vectorized`) [false]
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub moments: Option<bool>,
    /// CLEAN bias added to every peak, Jy/beam (PySE's clean_bias) [0]
    #[arg(long, value_name = "JY", allow_negative_numbers = true, value_parser = finite)]
    pub clean_bias: Option<f64>,
    /// Error of the CLEAN bias, Jy/beam [0]
    #[arg(long, value_name = "JY", value_parser = non_negative)]
    pub clean_bias_error: Option<f64>,
    /// Fractional flux-calibration error, added to every peak error [0]
    #[arg(long, value_name = "FRACTION", value_parser = non_negative)]
    pub frac_flux_cal_error: Option<f64>,
    /// Forced fits: box side in units of the larger beam semi-axis [trap: 10, pyse: 3]
    #[arg(long, value_name = "BEAMS", value_parser = positive)]
    pub box_in_beampix: Option<f64>,
    /// Systematic position error east-west, arcsec [trap: 10, pyse: 0]
    #[arg(long, value_parser = non_negative)]
    pub ew_sys_err: Option<f64>,
    /// Systematic position error north-south, arcsec [trap: 10, pyse: 0]
    #[arg(long, value_parser = non_negative)]
    pub ns_sys_err: Option<f64>,
}

/// Image quality control of `load` (TraP's names and defaults).
#[derive(Args)]
pub struct QualityOptions {
    /// Reject an image whose centre noise rms_qc (Jy/beam) is not below this [100]
    #[arg(long, value_parser = positive)]
    pub rms_est_max: Option<f64>,
    /// ... or not above this [0]
    #[arg(long, value_parser = non_negative)]
    pub rms_est_min: Option<f64>,
    /// Images of the band before the rms history test applies (0: off) [100]
    #[arg(long, value_name = "N")]
    pub rms_est_history: Option<u32>,
    /// ... which rejects an rms_qc this many sigma off the history's mean [3]
    #[arg(long, value_parser = positive)]
    pub rms_rej_sigma: Option<f64>,
    /// Kappa of the clipping that measures rms_qc [4]
    #[arg(long, value_parser = positive)]
    pub rms_est_sigma: Option<f64>,
    /// rms_qc is measured over the central 2/F of each axis [8]
    #[arg(long, value_name = "F", value_parser = clap::value_parser!(u32).range(2..=65536))]
    pub rms_est_fraction: Option<u32>,
    /// Reject a beam with a semi-axis of more pixels than this [30]
    #[arg(long, value_parser = positive)]
    pub oversampled_x: Option<f64>,
    /// Reject a beam whose semi-axes' ratio exceeds this [2]
    #[arg(long, value_parser = positive)]
    pub elliptical_x: Option<f64>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PresetName {
    Trap,
    Pyse,
}

impl ExtractOptions {
    /// The preset, the file over it, the flags over both.
    pub fn config(&self, quality: Option<&QualityOptions>) -> Result<config::Config> {
        let preset = self.preset.map(|p| match p {
            PresetName::Trap => config::Preset::Trap,
            PresetName::Pyse => config::Preset::Pyse,
        });
        let mut c = config::Config::from_file(preset, self.config.as_deref())?;
        let e = &mut c.extraction;
        let set = |target: &mut f64, v: Option<f64>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(&mut e.detection, self.detection_threshold);
        set(&mut e.analysis, self.analysis_threshold);
        set(&mut e.radius, self.radius);
        set(&mut e.deblend_mincont, self.deblend_mincont);
        set(&mut e.box_in_beampix, self.box_in_beampix);
        set(&mut e.ew_sys_err, self.ew_sys_err);
        set(&mut e.ns_sys_err, self.ns_sys_err);
        if let Some(v) = self.back_size {
            e.back_size = v as usize;
        }
        if let Some(v) = self.margin {
            e.margin = v as usize;
        }
        if let Some(v) = self.connectivity {
            e.eight_connected = matches!(v, Connectivity::Eight);
        }
        if let Some(v) = self.fdr {
            e.fdr_alpha = Some(v);
        }
        if let Some(v) = self.deblend {
            e.deblend_nthresh = v as usize;
        }
        if let Some(v) = self.force_beam {
            e.force_beam = v;
        }
        if let Some(v) = self.moments {
            e.moments_only = v;
        }
        set(&mut e.clean_bias, self.clean_bias);
        set(&mut e.clean_bias_error, self.clean_bias_error);
        set(&mut e.frac_flux_cal_error, self.frac_flux_cal_error);
        if let Some(o) = quality {
            let q = &mut c.quality;
            set(&mut q.rms_est_max, o.rms_est_max);
            set(&mut q.rms_est_min, o.rms_est_min);
            set(&mut q.rms_rej_sigma, o.rms_rej_sigma);
            set(&mut q.rms_est_sigma, o.rms_est_sigma);
            set(&mut q.oversampled_x, o.oversampled_x);
            set(&mut q.elliptical_x, o.elliptical_x);
            if let Some(v) = o.rms_est_history {
                q.rms_est_history = v as usize;
            }
            if let Some(v) = o.rms_est_fraction {
                q.rms_est_fraction = v as usize;
            }
        }
        Ok(c)
    }
}

/// A finite number above 0.
pub fn positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("'{text}' is not a positive number")),
    }
}

/// A number strictly between 0 and 1.
pub fn fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!("'{text}' is not a number between 0 and 1")),
    }
}

/// A finite number.
pub fn finite(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("'{text}' is not a finite number")),
    }
}

/// A finite number, 0 or more.
pub fn non_negative(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("'{text}' is not a number >= 0")),
    }
}

/// A number of seconds above 0, at most a day.
pub fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 86400.0 => Ok(x),
        _ => Err(format!(
            "'{text}' is not a number of seconds above 0 (at most 86400)"
        )),
    }
}

/// "RA,DEC" in degrees, RA normalised to [0, 360).
pub fn parse_position(text: &str) -> Result<(f64, f64), String> {
    let parsed = text.split_once(',').and_then(|(ra, dec)| {
        Some((
            ra.trim().parse::<f64>().ok()?,
            dec.trim().parse::<f64>().ok()?,
        ))
    });
    match parsed {
        Some((ra, dec)) if ra.is_finite() && (-90.0..=90.0).contains(&dec) => {
            Ok((skytrap_core::sky::normalise_ra(ra), dec))
        }
        _ => Err(format!(
            "'{text}' is not a position: give RA,DEC in degrees with DEC in [-90, 90]"
        )),
    }
}
