//! The private PostgreSQL cluster behind `skytrap db up|down|url`: its own data directory,
//! port and socket, run as an unprivileged user, never the system cluster.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const DEFAULT_DIR: &str = ".skytrap/pgdata";
pub const DEFAULT_PORT: u16 = 54329;
pub const DATABASE: &str = "skytrap";

/// A cluster's data directory and port.
pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
}

impl Cluster {
    /// The connection URL of database `skytrap` (TCP on loopback, superuser `postgres`,
    /// trust authentication: the cluster only listens on 127.0.0.1).
    pub fn url(&self) -> String {
        url_for_port(self.port)
    }

    /// Creates (first time) and starts the cluster, then makes sure database `skytrap`
    /// has the extension. Safe to repeat.
    pub fn up(&self) -> Result<()> {
        let bin = pg_bindir()?;
        let user = unprivileged_user()?;
        let dir = absolute(&self.dir)?;
        if !dir.join("PG_VERSION").exists() {
            make_private_dir(&dir, user.as_deref())?;
            run(
                user.as_deref(),
                &bin.join("initdb"),
                &[
                    "-D".as_ref(),
                    dir.as_os_str(),
                    "-U".as_ref(),
                    "postgres".as_ref(),
                    "--auth=trust".as_ref(),
                    "--locale=C.UTF-8".as_ref(),
                    "-E".as_ref(),
                    "UTF8".as_ref(),
                ],
            )
            .context("initdb failed")?;
        }
        if !self.is_running(&bin, user.as_deref(), &dir)? {
            // The socket lives in the data directory (owned by the cluster's user) unless
            // the path is too long for a Unix socket, in which case TCP alone serves.
            let socket = dir.join(format!(".s.PGSQL.{}", self.port));
            let socket_dir = if socket.as_os_str().len() < 100 {
                dir.display().to_string()
            } else {
                String::new()
            };
            let options = format!(
                "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}'",
                self.port, socket_dir
            );
            let log = dir.join("server.log");
            run(
                user.as_deref(),
                &bin.join("pg_ctl"),
                &[
                    "-D".as_ref(),
                    dir.as_os_str(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "start".as_ref(),
                ],
            )
            .with_context(|| format!("the server did not start; see {}", log.display()))?;
        }
        Ok(())
    }

    /// Stops the cluster if it runs.
    pub fn down(&self) -> Result<()> {
        let bin = pg_bindir()?;
        let user = unprivileged_user()?;
        let dir = absolute(&self.dir)?;
        if !dir.join("PG_VERSION").exists() {
            bail!("no cluster in {}", dir.display());
        }
        if self.is_running(&bin, user.as_deref(), &dir)? {
            run(
                user.as_deref(),
                &bin.join("pg_ctl"),
                &[
                    "-D".as_ref(),
                    dir.as_os_str(),
                    "-m".as_ref(),
                    "fast".as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            )?;
        }
        Ok(())
    }

    fn is_running(&self, bin: &Path, user: Option<&str>, dir: &Path) -> Result<bool> {
        let out = command(
            user,
            &bin.join("pg_ctl"),
            &["-D".as_ref(), dir.as_os_str(), "status".as_ref()],
        )
        .output()
        .context("cannot run pg_ctl")?;
        Ok(out.status.success())
    }
}

pub fn url_for_port(port: u16) -> String {
    format!("postgresql://postgres@127.0.0.1:{port}/{DATABASE}")
}

/// PostgreSQL's server programs, from `$PG_CONFIG` or Debian's PostgreSQL 15.
fn pg_bindir() -> Result<PathBuf> {
    let pg_config = std::env::var("PG_CONFIG")
        .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin/pg_config".to_string());
    let out = Command::new(&pg_config)
        .arg("--bindir")
        .output()
        .with_context(|| {
            format!("cannot run {pg_config}: install PostgreSQL 15 (Debian: postgresql-15) or set PG_CONFIG")
        })?;
    if !out.status.success() {
        bail!("{pg_config} --bindir failed");
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// PostgreSQL will not run as root; as root the cluster runs as `postgres`.
fn unprivileged_user() -> Result<Option<String>> {
    let out = Command::new("id")
        .arg("-u")
        .output()
        .context("cannot run id")?;
    let root = String::from_utf8_lossy(&out.stdout).trim() == "0";
    Ok(root.then(|| "postgres".to_string()))
}

fn absolute(dir: &Path) -> Result<PathBuf> {
    Ok(if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        std::env::current_dir()?.join(dir)
    })
}

fn make_private_dir(dir: &Path, user: Option<&str>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(user) = user {
        // Every parent must be searchable by the cluster's user.
        let status = Command::new("chown")
            .arg(format!("{user}:{user}"))
            .arg(dir)
            .status()?;
        if !status.success() {
            bail!("cannot give {} to user {user}", dir.display());
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    Ok(())
}

fn command(user: Option<&str>, program: &Path, args: &[&std::ffi::OsStr]) -> Command {
    let mut c = match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    c.args(args);
    // The cluster must not inherit a working directory its user cannot read.
    c.current_dir("/");
    c
}

fn run(user: Option<&str>, program: &Path, args: &[&std::ffi::OsStr]) -> Result<Output> {
    let out = command(user, program, args)
        .output()
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !out.status.success() {
        bail!(
            "{} exited with {}: {}{}",
            program.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}
