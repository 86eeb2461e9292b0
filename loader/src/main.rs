//! The `skytrap` command: parses the command line (`cli`) and dispatches to the library.

#![forbid(unsafe_code)]

mod cli;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};
use cli::{Cli, Command, ConfigCommand, Database, DbCommand, RulesCommand};
use skytrap_loader::image::files;
use skytrap_loader::{
    alerts::listen, config, db, db::cluster, db::load, db::rules, output, simulate,
};
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
            // clap's own message is several lines (the error, tips, usage): give the
            // error and its tips ("a similar argument exists: '--margin'") on one line,
            // with the help of the command the mistake was made in.
            let text = e.to_string();
            let lines = text.lines().map(str::trim);
            let mut message: Vec<&str> = lines.clone().take_while(|l| !l.is_empty()).collect();
            message.extend(lines.filter(|l| l.starts_with("tip:")));
            let message = message.join(" ");
            eprintln!(
                "skytrap: {}; see '{} --help'",
                message.strip_prefix("error: ").unwrap_or(&message),
                command_of(&std::env::args().collect::<Vec<_>>())
            );
            std::process::exit(2);
        }
    };
    if let Err(e) = run(cli) {
        eprintln!("skytrap: {e:#}");
        std::process::exit(1);
    }
}

/// "skytrap load" for `skytrap load --db URL --bad`: the (sub)command an argument was
/// given to, as far as the arguments name one.
fn command_of(args: &[String]) -> String {
    let mut command = Cli::command();
    let mut path = vec!["skytrap".to_string()];
    let mut args = args.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--db" {
            args.next();
        } else if !arg.starts_with('-') {
            match command.find_subcommand(arg) {
                Some(sub) => {
                    path.push(arg.clone());
                    command = sub.clone();
                }
                None => break,
            }
        }
    }
    path.join(" ")
}

/// The database's URL: --db, else DATABASE_URL, else the private cluster's.
fn url(database: &Database) -> Result<String> {
    match &database.db {
        Some(url) => Ok(url.clone()),
        None => cluster::Cluster {
            dir: cluster::DEFAULT_DIR.into(),
            port: cluster::DEFAULT_PORT,
            tcp: false,
        }
        .url(),
    }
}

fn run(cli: Cli) -> Result<()> {
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
                tcp: o.tcp,
            };
            match command {
                DbCommand::Up(_) => {
                    cluster.up()?;
                    let url = cluster.url()?;
                    runtime()?.block_on(db::create_database_and_extension(&url))?;
                    eprintln!("skytrap: database ready: psql '{url}'");
                }
                DbCommand::Down(_) => cluster.down()?,
                DbCommand::Url(_) => println!("{}", cluster.url()?),
            }
        }
        Command::Simulate {
            outdir,
            epochs,
            seed,
            size,
            variables,
            transients,
            steady,
            anywhere,
        } => {
            let written = simulate::simulate_with_steady(
                outdir,
                &simulate::Settings {
                    epochs: *epochs,
                    seed: *seed,
                    size: *size as usize,
                    variables: *variables,
                    transients: *transients,
                    anywhere: *anywhere,
                },
                *steady,
            )?;
            let name = |p: Option<&std::path::PathBuf>| {
                p.and_then(|p| p.file_name())
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned())
            };
            eprintln!(
                "skytrap: simulate: wrote {} images of {size}x{size} pixels to {} ({} to {}) \
                 and truth.csv, the true sources and their flux in each epoch",
                written.len(),
                outdir.display(),
                name(written.first()),
                name(written.last())
            );
        }
        Command::Extract {
            images,
            format,
            at,
            params,
        } => {
            let config = params.config(None)?;
            match at {
                None => output::extract_and_print(images, &config.extraction, *format)?,
                Some(positions) => {
                    let positions = output::read_positions(positions)?;
                    output::force_fit_and_print(images, &positions, &config.extraction, *format)?
                }
            }
        }
        Command::Load {
            database,
            dataset,
            images,
            catalogue,
            keep_going,
            allow_late,
            date_obs_from,
            times,
            monitor,
            retry_for,
            allow_config_change,
            retry_rejected,
            quiet,
            verbose,
            params,
            load_settings,
        } => {
            let catalogues = files::pair_catalogues(images, catalogue)?;
            let options = load::Options {
                dataset: dataset.clone(),
                monitors: monitor.clone(),
                retry_for: std::time::Duration::from_secs(*retry_for),
                allow_config_change: *allow_config_change,
                retry_rejected: *retry_rejected,
                keep_going: *keep_going,
                allow_late: *allow_late,
                catalogues,
                verbosity: match (quiet, verbose) {
                    (true, _) => load::Verbosity::Quiet,
                    (_, true) => load::Verbosity::Verbose,
                    _ => load::Verbosity::Normal,
                },
                times: match (date_obs_from, times) {
                    (Some(key), _) => load::Times::Keyword(key.clone()),
                    (None, Some(csv)) => load::Times::from_csv(csv)?,
                    (None, None) => load::Times::DateObs,
                },
            };
            let config = params.config(Some(load_settings))?;
            let images = files::expand(images)?;
            runtime()?.block_on(load::load(&url(database)?, &images, &config, &options))?;
        }
        Command::Listen {
            database,
            from,
            consumer,
            limit,
            dataset,
            kind,
            json,
            voevent,
            exec,
            exec_attempts,
            exec_timeout,
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
                exec_timeout: std::time::Duration::from_secs_f64(*exec_timeout),
                ivorn_root: ivorn_root.clone(),
                dataset: dataset.clone(),
                kinds: kind.clone(),
            };
            runtime()?.block_on(listen::listen(&url(database)?, &options))?;
        }
        Command::Rules {
            database,
            command: RulesCommand::Show { dataset },
        } => {
            runtime()?.block_on(rules::show(&url(database)?, dataset))?;
        }
        Command::Rules {
            database,
            command:
                RulesCommand::Set {
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
                },
        } => {
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
            runtime()?.block_on(rules::set(&url(database)?, dataset, kind, &changes))?;
        }
        Command::Status {
            database,
            dataset,
            format,
        } => {
            runtime()?.block_on(db::status::status(
                &url(database)?,
                dataset.as_deref(),
                *format == cli::StatusFormat::Json,
            ))?;
        }
        Command::Export {
            database,
            dataset,
            table,
            format,
            output,
        } => {
            let rows = runtime()?.block_on(db::export::export(
                &url(database)?,
                dataset,
                *table,
                *format,
                output.as_deref(),
            ))?;
            if let Some(path) = output {
                eprintln!("skytrap: export: {rows} rows written to {}", path.display());
            }
        }
        Command::Config(ConfigCommand::Show {
            params,
            load_settings,
        }) => print!("{}", params.config(Some(load_settings))?.to_toml()),
        Command::Config(ConfigCommand::Import { job_file }) => {
            let (toml, imported, unused) = config::import_trap_job(job_file)?;
            print!("{toml}");
            eprintln!(
                "skytrap: {}: {imported} settings imported, {unused} with no counterpart \
                 (listed at the end)",
                job_file.display()
            );
        }
    }
    Ok(())
}
