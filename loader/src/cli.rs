//! The command line: every subcommand and flag, and the parsers of their values.

use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use skytrap_loader::{config, db::cluster, db::export, output};
use std::path::PathBuf;

/// The kinds of alert, as `skytrap.alert.kind` and `skytrap.alert_rule.kind` have them.
const ALERT_KINDS: [&str; 4] = ["new_source", "variable", "flux_jump", "monitor_detection"];

/// Find transient and variable radio sources in a stream of sky images.
#[derive(Parser)]
#[command(name = "skytrap", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the database is, for the commands that use one.
#[derive(Args)]
pub struct Database {
    /// PostgreSQL URL of the skytrap database [default: the private cluster of `skytrap db up`]
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "URL")]
    pub db: Option<String>,
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
        /// FITS images (plain or gzip-compressed)
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<PathBuf>,
        /// csv (one line per source, a header first) or json (one object per line)
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
        #[command(flatten)]
        database: Database,
        /// Dataset name (created on first use)
        #[arg(long)]
        dataset: String,
        /// FITS images (plain or gzip-compressed), or directories to search for them
        #[arg(required = true, value_name = "IMAGE|DIR")]
        images: Vec<PathBuf>,
        /// Report a file that cannot be read or measured in one line and load the others
        /// (the exit status is still 1) [default: a bad file stops the load before
        /// anything is written]
        #[arg(long)]
        keep_going: bool,
        /// Associate images observed before images the dataset has associated already
        /// (association runs in time order; says what this changes) [default: refused]
        #[arg(long)]
        allow_late: bool,
        /// Read the observation time from this header keyword instead of DATE-OBS (an ISO
        /// date, or days under an MJD keyword such as MJD-OBS)
        #[arg(long, value_name = "KEY", conflicts_with = "times")]
        date_obs_from: Option<String>,
        /// Take an image's sources from another finder's catalogue instead of finding them:
        /// a Selavy component catalogue (.txt or VOTable) or PySE's CSV; one per IMAGE, in
        /// the same order. The image is still read for its header, noise and forced fits
        #[arg(long, value_name = "FILE")]
        catalogue: Vec<PathBuf>,
        /// Read the observation times from a CSV file of file,time rows (ISO dates; files
        /// relative to the CSV's directory)
        #[arg(long, value_name = "CSV")]
        times: Option<PathBuf>,
        /// Force-fit this position (degrees) in every image, detected or not (TraP's
        /// monitoring list); repeat for more positions
        #[arg(long, value_name = "RA,DEC", value_parser = parse_position)]
        monitor: Vec<(f64, f64)>,
        /// After losing the database (a server restart, say), keep reconnecting this long
        /// before giving up; a re-run resumes either way
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        retry_for: u64,
        /// Load with settings other than those the dataset was loaded with so far: they
        /// become its settings (skytrap.config), and each image keeps those it was
        /// processed with (image.job_settings) [default: refused]
        #[arg(long)]
        allow_config_change: bool,
        /// Say nothing but errors and warnings (no summary)
        #[arg(short, long, conflicts_with = "verbose")]
        quiet: bool,
        /// Say what each image added: blind sources, forced fits, new sources, alerts
        #[arg(short, long)]
        verbose: bool,
        /// Process the images of this batch that the dataset stored as rejected again,
        /// with the settings now in force: each rejection is replaced by a normal load (or
        /// by a new rejection)
        #[arg(long)]
        retry_rejected: bool,
        #[command(flatten)]
        params: ExtractOptions,
        #[command(flatten)]
        load_settings: SettingFlags<true>,
    },
    /// Deliver alerts as they are committed: JSON lines on stdout (the default), VOEvent
    /// files, or a command per alert
    Listen {
        #[command(flatten)]
        database: Database,
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
        /// Only the alerts of this dataset (its name)
        #[arg(long, value_name = "NAME")]
        dataset: Option<String>,
        /// Only alerts of this kind; repeat for more [default: every kind]
        #[arg(long, value_parser = ALERT_KINDS)]
        kind: Vec<String>,
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
    Rules {
        #[command(flatten)]
        database: Database,
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// What the database holds: each dataset's images, rejections and why, lightcurves,
    /// new sources and alerts; each alert consumer and how far behind it is
    Status {
        #[command(flatten)]
        database: Database,
        /// Only this dataset
        #[arg(long)]
        dataset: Option<String>,
        /// text (for people) or json (one document, for scripts)
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Write a dataset's catalogue, lightcurves, candidates, alerts or images as CSV,
    /// VOTable or Parquet (for pandas, astropy, TOPCAT, pyarrow)
    Export {
        #[command(flatten)]
        database: Database,
        /// Dataset name
        #[arg(long)]
        dataset: String,
        /// What to write
        #[arg(value_enum)]
        table: export::Table,
        /// csv (a header line, then one line per row), votable (VOTable 1.4) or parquet
        #[arg(long, value_enum, default_value_t = export::Format::Csv)]
        format: export::Format,
        /// Write to this file (whole or not at all) [default: stdout]
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Show the settings of a job, or convert TraP's job file into skytrap's
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the settings in force (a preset, a file and flags over it) as a TOML file
    /// that --config reads, each setting with its help
    Show {
        #[command(flatten)]
        params: ExtractOptions,
        #[command(flatten)]
        load_settings: SettingFlags<true>,
    },
    /// Convert TraP's job_params.cfg into skytrap's TOML, printed on stdout; settings
    /// with no counterpart are listed as comments at its end
    Import {
        /// TraP's job file (INI)
        #[arg(value_name = "JOB_PARAMS.CFG")]
        job_file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// List the rules of a dataset
    Show {
        /// Dataset name
        #[arg(long)]
        dataset: String,
    },
    /// Change one rule; settings not given stay as they are
    Set {
        /// Dataset name
        #[arg(long)]
        dataset: String,
        /// The rule to change
        #[arg(value_parser = ALERT_KINDS)]
        kind: String,
        /// Whether the rule raises alerts (true or false)
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

/// Source-finding settings: the preset, a file over it, and a flag per setting over both.
#[derive(Args)]
pub struct ExtractOptions {
    /// Defaults: trap (TraP's job_params: shape fixed to the beam, 250-pixel radius) or
    /// pyse (PySE's command-line defaults) [skytrap's: TraP's, fitting shapes, whole image]
    #[arg(long, value_enum, value_name = "NAME")]
    pub preset: Option<PresetName>,
    /// Settings file: TOML with TraP's sections (source_extraction, quality, association,
    /// ...), or TraP's job_params.cfg itself (.cfg, .ini); flags override it, it
    /// overrides the preset
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub flags: SettingFlags<false>,
}

/// The flags of the settings in `config::settings()`, one per setting, with its help;
/// `LOAD` chooses those only `load` applies (quality control, association) or the
/// extraction ones. Each value is checked where a file's value is, by `Config::set_text`.
pub struct SettingFlags<const LOAD: bool> {
    pub given: Vec<(&'static config::Setting, String)>,
}

impl<const LOAD: bool> SettingFlags<LOAD> {
    fn settings() -> impl Iterator<Item = &'static config::Setting> {
        config::settings()
            .iter()
            .filter(|s| (s.stage != config::Stage::Extraction) == LOAD)
    }
}

impl<const LOAD: bool> clap::FromArgMatches for SettingFlags<LOAD> {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let given = Self::settings()
            .filter_map(|s| matches.get_one::<String>(s.key).map(|v| (s, v.clone())))
            .collect();
        Ok(SettingFlags { given })
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl<const LOAD: bool> Args for SettingFlags<LOAD> {
    fn augment_args(command: clap::Command) -> clap::Command {
        Self::settings().fold(command, |command, s| {
            let arg = clap::Arg::new(s.key)
                .long(s.flag)
                .value_name(s.value_name)
                .help(s.help)
                .allow_negative_numbers(true);
            command.arg(if s.is_switch() {
                arg.num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("true")
            } else {
                arg
            })
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PresetName {
    Trap,
    Pyse,
}

impl ExtractOptions {
    /// The preset, the file over it, the flags over both (the quality flags of `load`
    /// too, where given).
    pub fn config(&self, load: Option<&SettingFlags<true>>) -> Result<config::Config> {
        let preset = self.preset.map(|p| match p {
            PresetName::Trap => config::Preset::Trap,
            PresetName::Pyse => config::Preset::Pyse,
        });
        let (mut c, unused) = config::Config::from_file(preset, self.config.as_deref())?;
        if let (Some(file), 1..) = (&self.config, unused) {
            eprintln!(
                "skytrap: {}: {unused} TraP settings have no counterpart and are ignored \
                 (`skytrap config import {0}` lists them)",
                file.display()
            );
        }
        let load = load.map(|q| q.given.as_slice()).unwrap_or_default();
        for (setting, text) in self.flags.given.iter().chain(load) {
            c.set_text(setting, text)
                .map_err(|why| anyhow::anyhow!("--{} {text}: {why}", setting.flag))?;
        }
        Ok(c)
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every argument of every subcommand says what it is for in `--help`.
    #[test]
    fn every_argument_has_help() {
        fn check(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if arg.get_help().is_none() && !matches!(id, "help" | "version") {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        check(&Cli::command(), "skytrap", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }
}
