//! Alert delivery benchmark (run by tests/bench/alerts.sh): alerts per second and latency
//! from COMMIT to the responder's output line, for `skytrap listen`, beside the floor of
//! bare LISTEN/NOTIFY to a client measured in the same run.
//!
//! Alerts are written straight into the outbox (bodies of realistic size), so the figures
//! are for delivery: outbox → NOTIFY → listener → responder. Prints them as a markdown
//! table, then the row of README.md's speed summary on a line of its own after `summary: `.

use futures_util::StreamExt;
use skytrap_tests::{scratch_database, skytrap, KillOnDrop};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio_postgres::{AsyncMessage, NoTls};

struct Run {
    name: &'static str,
    latencies: Vec<Duration>,
    elapsed: Duration,
    /// Committed at a set pace, so that the rate is the pacing's, not a throughput.
    paced: bool,
}

impl Run {
    /// The latency at quantile `p`, in ms.
    fn quantile_ms(&self, p: f64) -> f64 {
        let mut l = self.latencies.clone();
        l.sort();
        l[((l.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    /// One row of the table; the last column is the median latency over the floor's.
    fn print(&self, floor: Option<&Run>) {
        let ratio = floor
            .map(|f| {
                format!(
                    "{:.1}×",
                    self.quantile_ms(0.5) / f.quantile_ms(0.5).max(1e-6)
                )
            })
            .unwrap_or_else(|| "1".into());
        let rate = if self.paced {
            "paced".into()
        } else {
            thousands(self.rate())
        };
        println!(
            "| {} | {} | {rate} | {:.2} | {:.2} | {:.2} | {ratio} |",
            self.name,
            thousands(self.latencies.len() as f64),
            self.quantile_ms(0.5),
            self.quantile_ms(0.99),
            self.quantile_ms(1.0),
        );
    }
}

/// A count for the table: 10 000.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Body of a typical alert (about 2 kB, with a 20-point history), with every field the
/// VOEvent responder reads.
fn body(i: usize) -> String {
    let history: Vec<String> = (0..20)
        .map(|k| format!(r#"{{"image": {k}, "f_int": 0.0{k}, "f_int_err": 0.001, "taustart_ts": "2026-01-01T00:00:00"}}"#))
        .collect();
    format!(
        r#"{{"schema_version": 1, "kind": "new_source", "dataset": {{"id": 1, "description": "bench"}}, "source": {{"id": {i}, "ra": 123.4, "dec": 56.7, "f_peak": 0.05, "f_peak_err": 0.001, "taustart_ts": "2026-01-02T00:00:00", "error_radius": 1.0, "image": 1}}, "object": {{"runcat": {i}}}, "history": [{}], "citations": []}}"#,
        history.join(", ")
    )
}

/// How alerts are written: `batches` transactions of `per_batch` alerts, `pause` apart,
/// numbering sources from `first_runcat`.
#[derive(Clone, Copy)]
struct Load {
    batches: usize,
    per_batch: usize,
    pause: Duration,
    first_runcat: usize,
}

/// Writes the alerts of `load`; returns each alert's COMMIT time by alert id.
async fn produce(
    client: &mut tokio_postgres::Client,
    dataset: i32,
    load: Load,
) -> Vec<(i64, Instant)> {
    let Load {
        batches,
        per_batch,
        pause,
        first_runcat,
    } = load;
    let mut committed = Vec::new();
    for b in 0..batches {
        let tx = client.transaction().await.unwrap();
        let bodies: Vec<String> = (0..per_batch)
            .map(|k| body(first_runcat + b * per_batch + k))
            .collect();
        let runcats: Vec<i64> = (0..per_batch)
            .map(|k| (first_runcat + b * per_batch + k) as i64)
            .collect();
        let ids: Vec<i64> = tx
            .query(
                "INSERT INTO skytrap.alert (kind, dataset, runcat, xtrsrc, image, body)
                 SELECT 'new_source', $1, r, r, 1, b::json FROM unnest($2::bigint[], $3::text[]) AS u(r, b)
                 RETURNING alert_id",
                &[&dataset, &runcats, &bodies],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let t = Instant::now();
        tx.commit().await.unwrap();
        committed.extend(ids.into_iter().map(|id| (id, t)));
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    committed
}

/// Runs `skytrap listen` with the given responder arguments and measures delivery.
async fn listen_run(
    name: &'static str,
    url: &str,
    client: &mut tokio_postgres::Client,
    dataset: i32,
    responder: &[&str],
    load: Load,
) -> Run {
    let newest: i64 = client
        .query_one("SELECT coalesce(max(alert_id), 0) FROM skytrap.alert", &[])
        .await
        .unwrap()
        .get(0);
    let total = load.batches * load.per_batch;
    let mut child = KillOnDrop(
        skytrap()
            .args([
                "listen",
                "--db",
                url,
                "--json",
                "--from",
                &newest.to_string(),
            ])
            .args(["--limit", &total.to_string()])
            .args(responder)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let at = Instant::now();
            let id = serde_json::from_str::<serde_json::Value>(&line).unwrap()["alert_id"]
                .as_i64()
                .unwrap();
            tx.send((id, at)).unwrap();
        }
    });
    // Let the listener connect and LISTEN before anything is committed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let committed = produce(client, dataset, load).await;
    let arrivals: std::collections::HashMap<i64, Instant> = rx.iter().take(total).collect();
    reader.join().unwrap();
    let last = arrivals.values().max().copied().unwrap();
    Run {
        name,
        latencies: committed
            .iter()
            .map(|(id, t)| arrivals[id].saturating_duration_since(*t))
            .collect(),
        elapsed: last - started,
        paced: !load.pause.is_zero(),
    }
}

/// The floor: a client LISTENs and the producer only NOTIFYs (no outbox, no responder).
async fn bare_notify(
    url: &str,
    client: &tokio_postgres::Client,
    count: usize,
    pause: Duration,
) -> Run {
    let (listener, mut connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(Ok(m)) = messages.next().await {
            if let AsyncMessage::Notification(n) = m {
                let _ = tx.send((n.payload().parse::<usize>().unwrap(), Instant::now()));
            }
        }
    });
    listener.batch_execute("LISTEN bench_floor").await.unwrap();
    let started = Instant::now();
    let mut sent = Vec::new();
    for i in 0..count {
        let t = Instant::now();
        client
            .execute("SELECT pg_notify('bench_floor', $1)", &[&i.to_string()])
            .await
            .unwrap();
        sent.push(t);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
    let mut latencies = vec![Duration::ZERO; count];
    let mut last = started;
    for _ in 0..count {
        let (i, at) = rx.recv().await.unwrap();
        latencies[i] = at.saturating_duration_since(sent[i]);
        last = last.max(at);
    }
    Run {
        name: "bare LISTEN/NOTIFY to a client (the floor), paced",
        latencies,
        elapsed: last - started,
        paced: !pause.is_zero(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (url, mut client) = scratch_database("alerts_bench").await;
    let dataset: i32 = client
        .query_one(
            "INSERT INTO skytrap.dataset (description) VALUES ('bench') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let voevent_dir =
        std::env::temp_dir().join(format!("skytrap-bench-voevent-{}", std::process::id()));
    std::fs::create_dir_all(&voevent_dir).unwrap();
    let voevent_arg = voevent_dir.display().to_string();
    let pace = Duration::from_millis(5);

    println!("| delivery | alerts | alerts/s | p50 ms | p99 ms | max ms | p50 / floor |");
    println!("|---|---|---|---|---|---|---|");
    let floor = bare_notify(&url, &client, 500, pace).await;
    floor.print(None);
    let paced = |first_runcat| Load {
        batches: 500,
        per_batch: 1,
        pause: pace,
        first_runcat,
    };
    let burst = |first_runcat| Load {
        batches: 100,
        per_batch: 100,
        pause: Duration::ZERO,
        first_runcat,
    };
    let voevent = ["--voevent", voevent_arg.as_str()];
    let runs = [
        listen_run(
            "`listen --json`, 1 alert per commit, paced",
            &url,
            &mut client,
            dataset,
            &[],
            paced(0),
        )
        .await,
        listen_run(
            "`listen --json --voevent`, 1 alert per commit, paced",
            &url,
            &mut client,
            dataset,
            &voevent,
            paced(1_000),
        )
        .await,
        listen_run(
            "`listen --json`, 100 alerts per commit, burst",
            &url,
            &mut client,
            dataset,
            &[],
            burst(10_000),
        )
        .await,
        listen_run(
            "`listen --json --voevent`, 100 alerts per commit, burst",
            &url,
            &mut client,
            dataset,
            &voevent,
            burst(30_000),
        )
        .await,
        listen_run(
            "`listen --json --consumer`, 100 alerts per commit, burst",
            &url,
            &mut client,
            dataset,
            &["--consumer", "bench"],
            burst(50_000),
        )
        .await,
    ];
    for run in &runs {
        run.print(Some(&floor));
    }
    let (paced, burst) = (&runs[0], &runs[2]);
    println!(
        "summary: | Alert delivery, COMMIT to `skytrap listen`'s line | {:.2} ms (median), {:.2} ms \
         (p99); {} alerts/s in bursts | bare LISTEN/NOTIFY {:.2} ms (median) | \
         [alert delivery](docs/benchmarks.md#alert-delivery) |",
        paced.quantile_ms(0.5),
        paced.quantile_ms(0.99),
        thousands(burst.rate()),
        floor.quantile_ms(0.5),
    );
    std::fs::remove_dir_all(voevent_dir).unwrap();
}
