//! `skytrap listen`: alerts as JSON lines as they are committed. NOTIFY only wakes us up;
//! the alerts themselves are read from the outbox by id, so none is missed while a
//! notification is in flight.

use anyhow::{Context, Result};
use futures_util::StreamExt;
use std::io::Write;
use std::time::Duration;
use tokio_postgres::{AsyncMessage, NoTls};

/// Prints alerts with ids above `from` (default: those that arrive from now on); stops
/// after `limit` alerts if given.
pub async fn listen(url: &str, from: Option<i64>, limit: Option<u64>) -> Result<()> {
    let mut config: tokio_postgres::Config = url.parse().context("invalid database URL")?;
    // Visible in pg_stat_activity, so operators (and tests) can see a listener is up.
    config.application_name("skytrap listen");
    let (client, mut connection) = config.connect(NoTls).await.with_context(|| {
        format!("cannot connect to {url}; is the database running (`skytrap db up`)?")
    })?;
    let (wake, mut woken) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(_)) => {
                    let _ = wake.send(());
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    client.batch_execute("LISTEN skytrap_alert").await?;
    let mut cursor = match from {
        Some(id) => id,
        None => client
            .query_one("SELECT coalesce(max(alert_id), 0) FROM skytrap.alert", &[])
            .await?
            .get(0),
    };
    let statement = client
        .prepare(
            "SELECT alert_id,
                    (jsonb_build_object('alert_id', alert_id, 'kind', kind,
                                        'created_at', created_at) || body)::text
             FROM skytrap.alert WHERE alert_id > $1 ORDER BY alert_id LIMIT 1000",
        )
        .await?;
    let mut printed = 0u64;
    let stdout = std::io::stdout();
    loop {
        let rows = client.query(&statement, &[&cursor]).await?;
        let mut out = stdout.lock();
        for row in &rows {
            writeln!(out, "{}", row.get::<_, String>(1))?;
            cursor = row.get(0);
            printed += 1;
            if limit.is_some_and(|l| printed >= l) {
                out.flush()?;
                return Ok(());
            }
        }
        out.flush()?;
        drop(out);
        if rows.len() == 1000 {
            continue;
        }
        tokio::select! {
            woke = woken.recv() => {
                if woke.is_none() {
                    let reason = match driver.await {
                        Ok(Err(e)) => e.to_string(),
                        _ => "closed".to_string(),
                    };
                    anyhow::bail!("lost the database connection: {reason}");
                }
            }
            // A safety net: re-read the outbox now and then even without a wake-up.
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
    }
}
