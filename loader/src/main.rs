//! The `skytrap` command.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use skytrap_loader::{cluster, db, extract, listen, load, output, simulate};
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
        #[command(flatten)]
        params: ExtractOptions,
    },
    /// Print alerts as JSON lines as they are committed
    Listen {
        /// Start after this alert id (0: every alert in the outbox) [default: only new alerts]
        #[arg(long, value_name = "ID")]
        from: Option<i64>,
        /// Exit after this many alerts
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
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
    #[arg(long, default_value_t = 8.0)]
    detection_threshold: f64,
    /// Analysis threshold for growing islands, in sigma
    #[arg(long, default_value_t = 3.0)]
    analysis_threshold: f64,
    /// Background and noise box size, pixels
    #[arg(long, default_value_t = 50)]
    back_size: usize,
    /// Pixels ignored along the image border
    #[arg(long, default_value_t = 10)]
    margin: usize,
    /// Extraction radius around the image centre, pixels (0: whole image)
    #[arg(long, default_value_t = 0.0)]
    radius: f64,
    /// Island connectivity
    #[arg(long, value_enum, default_value_t = Connectivity::Eight)]
    connectivity: Connectivity,
    /// Systematic position error east-west, arcsec
    #[arg(long, default_value_t = 10.0)]
    ew_sys_err: f64,
    /// Systematic position error north-south, arcsec
    #[arg(long, default_value_t = 10.0)]
    ns_sys_err: f64,
}

impl ExtractOptions {
    fn params(&self) -> extract::Params {
        extract::Params {
            detection: self.detection_threshold,
            analysis: self.analysis_threshold,
            back_size: self.back_size.max(1),
            margin: self.margin,
            radius: self.radius,
            eight_connected: matches!(self.connectivity, Connectivity::Eight),
            ew_sys_err: self.ew_sys_err,
            ns_sys_err: self.ns_sys_err,
        }
    }
}

fn main() {
    let cli = Cli::parse();
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
        } => {
            simulate::simulate(
                outdir,
                &simulate::Settings {
                    epochs: *epochs,
                    seed: *seed,
                    size: *size as usize,
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
            params,
        } => {
            runtime()?.block_on(load::load(&url(), dataset, images, &params.params()))?;
        }
        Command::Listen { from, limit } => {
            runtime()?.block_on(listen::listen(&url(), *from, *limit))?;
        }
    }
    Ok(())
}
