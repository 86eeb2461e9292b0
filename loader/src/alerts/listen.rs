//! `skytrap listen`: delivers alerts to responders, at least once. NOTIFY only wakes us up;
//! alerts are read from the outbox by id, and a named consumer's position is kept in
//! `skytrap.alert_consumer`, so nothing is lost while the listener is down, and a lost
//! connection (a server restart) is retried until the server is back.

use crate::alerts::voevent;
use anyhow::{Context, Result};
use futures_util::StreamExt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio_postgres::{AsyncMessage, Client};

/// Alerts read per query.
const BATCH: usize = 1000;

/// What to deliver and where.
pub struct Options {
    /// Start after this alert id; for a named consumer this resets its position.
    pub from: Option<i64>,
    /// Stop after this many alerts.
    pub limit: Option<u64>,
    /// Keep the position in the database under this name.
    pub consumer: Option<String>,
    /// Print each alert as a JSON line on stdout.
    pub json: bool,
    /// Write each alert as a VOEvent 2.0 file in this directory.
    pub voevent: Option<PathBuf>,
    /// Run this shell command per alert with the JSON on stdin.
    pub exec: Option<String>,
    /// Attempts of the command before the alert is parked.
    pub exec_attempts: u32,
    /// How long one attempt of the command may run before it is killed (a failed attempt).
    pub exec_timeout: Duration,
    /// IVORN of the alert stream, e.g. ivo://example.org/skytrap.
    pub ivorn_root: String,
    /// Deliver only the alerts of this dataset (its name).
    pub dataset: Option<String>,
    /// Deliver only alerts of these kinds (all when empty).
    pub kinds: Vec<String>,
}

/// The database went away; worth reconnecting.
#[derive(Debug)]
struct Disconnected(String);

impl std::fmt::Display for Disconnected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for Disconnected {}

fn is_disconnection(e: &anyhow::Error) -> bool {
    e.downcast_ref::<Disconnected>().is_some() || crate::db::connection_lost(e)
}

pub async fn listen(url: &str, opts: &Options) -> Result<()> {
    let target = crate::db::target(url)?;
    let mut cursor: Option<i64> = None;
    let mut delivered = 0u64;
    let mut wait = Duration::from_millis(250);
    loop {
        match session(&target, opts, &mut cursor, &mut delivered).await {
            Ok(()) => return Ok(()),
            Err(e) if is_disconnection(&e) => {
                eprintln!("skytrap: listen: database unavailable ({e:#}); retrying in {wait:?}");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// One connection's worth of listening; returns Ok only when `limit` is reached.
async fn session(
    target: &crate::db::Target,
    opts: &Options,
    cursor: &mut Option<i64>,
    delivered: &mut u64,
) -> Result<()> {
    let mut config = target.config.clone();
    // Visible in pg_stat_activity, so operators (and tests) can see a listener is up.
    config.application_name("skytrap listen");
    let (client, mut messages) = crate::db::open(target, &config).await?;
    let (wake, mut woken) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    let _ = wake.send(());
                }
                Ok(_) => {}
                Err(e) => return e.to_string(),
            }
        }
        "connection closed".to_string()
    });
    // A cursor update lost in a server crash only means those alerts are delivered again,
    // so this session need not wait for its commits to reach disk.
    client
        .batch_execute("SET synchronous_commit TO off; LISTEN skytrap_alert")
        .await?;
    if cursor.is_none() {
        *cursor = Some(initial_position(&client, opts).await?);
    }
    // Alerts the filters leave out are read (as ids) and passed over, so the position
    // moves past them.
    let fetch = client
        .prepare(
            "SELECT alert_id, kind, body -> 'dataset' ->> 'description',
                    CASE WHEN ($2::text IS NULL OR body -> 'dataset' ->> 'description' = $2)
                              AND (cardinality($3::text[]) = 0 OR kind = ANY ($3))
                    THEN (jsonb_build_object('alert_id', alert_id, 'kind', kind,
                                             'created_at', (to_jsonb(created_at AT TIME ZONE 'UTC')
                                                            #>> '{}') || 'Z') || body::jsonb)::text END
             FROM skytrap.alert WHERE alert_id > $1 ORDER BY alert_id LIMIT 1000",
        )
        .await?;
    loop {
        let rows = client
            .query(&fetch, &[&cursor.unwrap_or(0), &opts.dataset, &opts.kinds])
            .await?;
        let mut limit_reached = false;
        for row in &rows {
            let id: i64 = row.get(0);
            let Some(line) = row.get::<_, Option<String>>(3) else {
                *cursor = Some(id);
                continue;
            };
            deliver(&client, opts, id, &line).await?;
            *cursor = Some(id);
            if !opts.json {
                let (kind, dataset): (String, Option<String>) = (row.get(1), row.get(2));
                eprintln!(
                    "skytrap: listen: alert {id} ({kind}, dataset '{}') delivered",
                    dataset.unwrap_or_default()
                );
            }
            *delivered += 1;
            if opts.limit.is_some_and(|l| *delivered >= l) {
                limit_reached = true;
                break;
            }
        }
        // The consumer's position moves once per batch, after delivery: a crash in
        // between delivers (part of) the batch again, never skips it.
        if let (Some(name), Some(id), false) = (&opts.consumer, *cursor, rows.is_empty()) {
            client
                .execute(
                    "UPDATE skytrap.alert_consumer SET last_alert_id = $2, updated_at = now()
                     WHERE name = $1",
                    &[name, &id],
                )
                .await?;
        }
        if limit_reached {
            return Ok(());
        }
        if rows.len() == BATCH {
            continue;
        }
        tokio::select! {
            woke = woken.recv() => {
                if woke.is_none() {
                    let reason = driver.await.unwrap_or_else(|e| e.to_string());
                    return Err(Disconnected(reason).into());
                }
            }
            // Re-read the outbox now and then even without a wake-up.
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
    }
}

/// Where to start: after `--from`, else where the named consumer left off, else (a new
/// consumer, or none) after the newest alert.
async fn initial_position(client: &Client, opts: &Options) -> Result<i64> {
    let newest: i64 = client
        .query_one("SELECT coalesce(max(alert_id), 0) FROM skytrap.alert", &[])
        .await?
        .get(0);
    let Some(name) = &opts.consumer else {
        let position = opts.from.unwrap_or(newest);
        eprintln!(
            "skytrap: listen: starts after alert {position}{}",
            if opts.from.is_none() {
                ", the newest (--from ID to start earlier)"
            } else {
                ""
            }
        );
        return Ok(position);
    };
    let existed = client
        .query_opt(
            "SELECT 1 FROM skytrap.alert_consumer WHERE name = $1",
            &[name],
        )
        .await?
        .is_some();
    match opts.from {
        Some(from) => {
            client
                .execute(
                    "INSERT INTO skytrap.alert_consumer (name, last_alert_id) VALUES ($1, $2)
                     ON CONFLICT (name) DO UPDATE SET last_alert_id = EXCLUDED.last_alert_id,
                                                      updated_at = now()",
                    &[name, &from],
                )
                .await?;
        }
        None => {
            client
                .execute(
                    "INSERT INTO skytrap.alert_consumer (name, last_alert_id) VALUES ($1, $2)
                     ON CONFLICT (name) DO NOTHING",
                    &[name, &newest],
                )
                .await?;
        }
    }
    // Row-level security hides another role's consumer: its name is taken. Another name
    // would start after the newest alert and skip what came since the old cursor, so the
    // listener stops and says how to get the cursor back.
    let Some(row) = client
        .query_opt(
            "SELECT last_alert_id FROM skytrap.alert_consumer WHERE name = $1",
            &[name],
        )
        .await?
    else {
        anyhow::bail!(
            "consumer '{name}' belongs to another database role (after an update from \
             0.1.0, to the role that ran it): have the extension's owner hand it over with \
             UPDATE skytrap.alert_consumer SET owner = current_user WHERE name = '{name}' \
             run as this role by a superuser, or SET owner = '<this role>'"
        );
    };
    let position: i64 = row.get(0);
    if !existed && opts.from.is_none() {
        eprintln!(
            "skytrap: listen: new consumer '{name}' starts after alert {position}, the newest \
             (--from ID to start earlier)"
        );
    } else {
        eprintln!(
            "skytrap: listen: consumer '{name}' {} after alert {position}{}",
            if opts.from.is_some() {
                "starts"
            } else {
                "resumes"
            },
            if position < newest {
                format!(" (the newest is {newest})")
            } else {
                String::new()
            }
        );
    }
    Ok(position)
}

/// Hands one alert to every responder. A responder's own failure (a full disk, a closed
/// stdout) stops the listener without advancing the consumer, so the alert is delivered
/// again next time; a failing --exec command is retried and then parked.
async fn deliver(client: &Client, opts: &Options, id: i64, line: &str) -> Result<()> {
    if opts.json {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    if let Some(dir) = &opts.voevent {
        let alert: voevent::Alert =
            serde_json::from_str(line).context("the alert is not one skytrap writes")?;
        let xml = voevent::render(&alert, &opts.ivorn_root)?;
        let path = dir.join(format!("{id}.xml"));
        let tmp = dir.join(format!(".{id}.xml.partial"));
        std::fs::write(&tmp, xml).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path)?;
    }
    if let Some(command) = &opts.exec {
        let mut failure = String::new();
        for attempt in 1..=opts.exec_attempts.max(1) {
            match run_command(command, id, line, opts.exec_timeout).await {
                Ok(()) => return Ok(()),
                Err(e) => failure = format!("{e:#}"),
            }
            if attempt < opts.exec_attempts {
                tokio::time::sleep(Duration::from_millis(500) * attempt).await;
            }
        }
        let consumer = opts.consumer.as_deref().unwrap_or("");
        client
            .execute(
                "INSERT INTO skytrap.alert_parked (consumer, alert_id, attempts, error)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (consumer, alert_id, owner) DO UPDATE
                 SET attempts = EXCLUDED.attempts, error = EXCLUDED.error, parked_at = now()",
                &[&consumer, &id, &(opts.exec_attempts as i32), &failure],
            )
            .await?;
        eprintln!(
            "skytrap: listen: alert {id} parked after {} attempts: {failure}",
            opts.exec_attempts
        );
    }
    Ok(())
}

/// Runs the responder once: the alert on its stdin, `SKYTRAP_ALERT_ID` set, and none of
/// the listener's database credentials in its environment. Past `timeout` its whole process
/// group is killed and the attempt has failed.
async fn run_command(command: &str, id: i64, line: &str, timeout: Duration) -> Result<()> {
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("SKYTRAP_ALERT_ID", id.to_string())
        .env_remove("DATABASE_URL")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .stdin(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot run `{command}`"))?;
    let group = child.id();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let run = async {
        // A command that does not read its input is not an error.
        let _ = stdin.write_all(format!("{line}\n").as_bytes()).await;
        drop(stdin);
        child.wait().await
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(status) => {
            let status = status?;
            anyhow::ensure!(status.success(), "`{command}` exited with {status}");
            Ok(())
        }
        Err(_) => {
            if let Some(pid) = group {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status();
            }
            anyhow::bail!("`{command}` still ran after {timeout:?} and was killed")
        }
    }
}
