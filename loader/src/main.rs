//! The `skytrap` command.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use skytrap_loader::{cluster, db, extract, listen, load, output, rules, simulate};
use std::path::PathBuf;

/// Find transient and variable radio sources in a stream of sky images.
#[derive(Parser)]
#[command(name = "skytrap", version, propagate_version = true)]
struct Cli {
    /// PostgreSQL URL of the skytrap database [default: the private cluster of `skytrap db up`]
    #[arg(long, global = true, env = "DATABASE_URL", value_name = "URL")]
    db: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    },
    /// Find and measure the sources in FITS images; print them as CSV or JSON lines
    Extract {
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = output::Format::Csv)]
        format: output::Format,
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
        #[command(flatten)]
        params: ExtractOptions,
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
enum RulesCommand {
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
enum DbCommand {
    /// Create (first time) and start the cluster, with database `skytrap` and the extension
    Up(ClusterOptions),
    /// Stop the cluster
    Down(ClusterOptions),
    /// Print the cluster's connection URL
    Url(ClusterOptions),
}

#[derive(Args)]
struct ClusterOptions {
    /// Data directory
    #[arg(long, default_value = cluster::DEFAULT_DIR)]
    dir: PathBuf,
    /// TCP port on 127.0.0.1
    #[arg(long, default_value_t = cluster::DEFAULT_PORT)]
    port: u16,
}

#[derive(Clone, Copy, ValueEnum)]
enum Connectivity {
    #[value(name = "8")]
    Eight,
    #[value(name = "4")]
    Four,
}

/// Source-finding settings (defaults: TraP's job_params).
#[derive(Args)]
struct ExtractOptions {
    /// Detection threshold, in sigma of the local noise
    #[arg(long, default_value_t = 8.0, value_parser = positive)]
    detection_threshold: f64,
    /// Analysis threshold for growing islands, in sigma
    #[arg(long, default_value_t = 3.0, value_parser = positive)]
    analysis_threshold: f64,
    /// Background and noise box size, pixels
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(3..=65536))]
    back_size: u32,
    /// Pixels ignored along the image border
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=65536))]
    margin: u32,
    /// Extraction radius around the image centre, pixels (0: whole image)
    #[arg(long, default_value_t = 0.0, value_parser = non_negative)]
    radius: f64,
    /// Island connectivity
    #[arg(long, value_enum, default_value_t = Connectivity::Eight)]
    connectivity: Connectivity,
    /// Systematic position error east-west, arcsec
    #[arg(long, default_value_t = 10.0, value_parser = non_negative)]
    ew_sys_err: f64,
    /// Systematic position error north-south, arcsec
    #[arg(long, default_value_t = 10.0, value_parser = non_negative)]
    ns_sys_err: f64,
}

impl ExtractOptions {
    fn params(&self) -> extract::Params {
        extract::Params {
            detection: self.detection_threshold,
            analysis: self.analysis_threshold,
            back_size: self.back_size as usize,
            margin: self.margin as usize,
            radius: self.radius,
            eight_connected: matches!(self.connectivity, Connectivity::Eight),
            ew_sys_err: self.ew_sys_err,
            ns_sys_err: self.ns_sys_err,
        }
    }
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // clap's own message is several lines (the error, then usage and tips): give
            // the error's lines, up to the first blank one, as one line.
            let text = e.to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            let message = message.join(" ");
            eprintln!(
                "skytrap: {}; see 'skytrap --help'",
                message.strip_prefix("error: ").unwrap_or(&message)
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = run(cli) {
        eprintln!("skytrap: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let url = || {
        cli.db
            .clone()
            .unwrap_or_else(|| cluster::url_for_port(cluster::DEFAULT_PORT))
    };
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the I/O runtime")
    };
    match &cli.command {
        Command::Db(command) => {
            let (DbCommand::Up(o) | DbCommand::Down(o) | DbCommand::Url(o)) = command;
            let cluster = cluster::Cluster {
                dir: o.dir.clone(),
                port: o.port,
            };
            match command {
                DbCommand::Up(_) => {
                    cluster.up()?;
                    runtime()?.block_on(db::create_database_and_extension(&cluster.url()))?;
                    eprintln!("skytrap: database ready: psql {}", cluster.url());
                }
                DbCommand::Down(_) => cluster.down()?,
                DbCommand::Url(_) => println!("{}", cluster.url()),
            }
        }
        Command::Simulate {
            outdir,
            epochs,
            seed,
            size,
            variables,
            transients,
        } => {
            simulate::simulate(
                outdir,
                &simulate::Settings {
                    epochs: *epochs,
                    seed: *seed,
                    size: *size as usize,
                    variables: *variables,
                    transients: *transients,
                },
            )?;
        }
        Command::Extract {
            images,
            format,
            params,
        } => output::extract_and_print(images, &params.params(), *format)?,
        Command::Load {
            dataset,
            images,
            monitor,
            retry_for,
            params,
        } => {
            runtime()?.block_on(load::load(
                &url(),
                dataset,
                images,
                monitor,
                std::time::Duration::from_secs(*retry_for),
                &params.params(),
            ))?;
        }
        Command::Listen {
            from,
            consumer,
            limit,
            json,
            voevent,
            exec,
            exec_attempts,
            ivorn_root,
        } => {
            if let Some(dir) = voevent {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let options = listen::Options {
                from: *from,
                limit: *limit,
                consumer: consumer.clone(),
                json: *json || (voevent.is_none() && exec.is_none()),
                voevent: voevent.clone(),
                exec: exec.clone(),
                exec_attempts: *exec_attempts,
                ivorn_root: ivorn_root.clone(),
            };
            runtime()?.block_on(listen::listen(&url(), &options))?;
        }
        Command::Rules(RulesCommand::Show { dataset }) => {
            runtime()?.block_on(rules::show(&url(), dataset))?;
        }
        Command::Rules(RulesCommand::Set {
            dataset,
            kind,
            enabled,
            min_newsource_type,
            min_det_sigma,
            eta_min,
            v_min,
            band,
            vs_min,
            m_min,
            radius_arcsec,
        }) => {
            let changes = rules::Changes {
                enabled: *enabled,
                min_newsource_type: *min_newsource_type,
                min_det_sigma: *min_det_sigma,
                eta_min: *eta_min,
                v_min: *v_min,
                band: *band,
                vs_min: *vs_min,
                m_min: *m_min,
                radius_arcsec: *radius_arcsec,
            };
            runtime()?.block_on(rules::set(&url(), dataset, kind, &changes))?;
        }
    }
    Ok(())
}

/// A finite number above 0.
fn positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("'{text}' is not a positive number")),
    }
}

/// A finite number, 0 or more.
fn non_negative(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(format!("'{text}' is not a number >= 0")),
    }
}

/// "RA,DEC" in degrees, RA normalised to [0, 360).
fn parse_position(text: &str) -> Result<(f64, f64), String> {
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
