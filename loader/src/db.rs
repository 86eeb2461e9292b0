//! Connections to PostgreSQL.

use anyhow::{Context, Result};
use tokio_postgres::{Client, NoTls};

/// Connects and drives the connection in the background.
pub async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .with_context(|| {
            format!("cannot connect to {url}; start the private database with `skytrap db up` or pass --db URL")
        })?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("skytrap: database connection lost: {e}");
        }
    });
    Ok(client)
}

/// Checks that the database has the extension at this command's version: a loader and an
/// extension of different versions would disagree about the tables.
pub async fn require_extension(client: &Client, url: &str) -> Result<()> {
    let wanted = env!("CARGO_PKG_VERSION");
    let installed: Option<String> = client
        .query_opt(
            "SELECT extversion::text FROM pg_catalog.pg_extension WHERE extname = 'skytrap'",
            &[],
        )
        .await?
        .map(|r| r.get(0));
    match installed {
        Some(v) if v == wanted => Ok(()),
        Some(v) => anyhow::bail!(
            "{url} has skytrap {v}, this skytrap is {wanted}: update the extension with \
             `ALTER EXTENSION skytrap UPDATE` (as its owner)"
        ),
        None => anyhow::bail!(
            "{url} has no skytrap extension: `CREATE EXTENSION skytrap` (as a superuser), or \
             use the private database of `skytrap db up`"
        ),
    }
}

/// Creates database `skytrap` on the server behind `url` (whose database must exist or be
/// `skytrap` on a fresh cluster) and the extension in it.
pub async fn create_database_and_extension(url: &str) -> Result<()> {
    let admin = url
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/postgres"))
        .unwrap_or_default();
    let client = connect(&admin).await?;
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_database WHERE datname = $1",
            &[&crate::cluster::DATABASE],
        )
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE DATABASE {}", crate::cluster::DATABASE))
            .await?;
    }
    let client = connect(url).await?;
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS skytrap; ALTER EXTENSION skytrap UPDATE")
        .await
        .context("CREATE EXTENSION skytrap failed: is the extension installed? (make install)")?;
    Ok(())
}
