//! The `skytrap` command: parses the command line (`cli`) and dispatches to the library.

#![forbid(unsafe_code)]

mod cli;

use anyhow::{Context, Result};
use clap::Parser;
use cli::{Cli, Command, DbCommand, RulesCommand};
use skytrap_loader::image::files;
use skytrap_loader::{alerts::listen, db, db::cluster, db::load, db::rules, output, simulate};
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
    let url = || -> Result<String> {
        match &cli.db {
            Some(url) => Ok(url.clone()),
            None => cluster::Cluster {
                dir: cluster::DEFAULT_DIR.into(),
                port: cluster::DEFAULT_PORT,
                tcp: false,
            }
            .url(),
        }
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
            simulate::simulate_with_steady(
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
            dataset,
            images,
            keep_going,
            allow_late,
            date_obs_from,
            times,
            monitor,
            retry_for,
            allow_config_change,
            params,
            quality,
        } => {
            let options = load::Options {
                dataset: dataset.clone(),
                monitors: monitor.clone(),
                retry_for: std::time::Duration::from_secs(*retry_for),
                allow_config_change: *allow_config_change,
                keep_going: *keep_going,
                allow_late: *allow_late,
                times: match (date_obs_from, times) {
                    (Some(key), _) => load::Times::Keyword(key.clone()),
                    (None, Some(csv)) => load::Times::from_csv(csv)?,
                    (None, None) => load::Times::DateObs,
                },
            };
            let config = params.config(Some(quality))?;
            let images = files::expand(images)?;
            runtime()?.block_on(load::load(&url()?, &images, &config, &options))?;
        }
        Command::Listen {
            from,
            consumer,
            limit,
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
            };
            runtime()?.block_on(listen::listen(&url()?, &options))?;
        }
        Command::Rules(RulesCommand::Show { dataset }) => {
            runtime()?.block_on(rules::show(&url()?, dataset))?;
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
            runtime()?.block_on(rules::set(&url()?, dataset, kind, &changes))?;
        }
    }
    Ok(())
}
