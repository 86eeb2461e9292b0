//! The private PostgreSQL cluster behind `skytrap db up|down|url`: its own data directory,
//! port and socket, run as an unprivileged user, never the system cluster.
//!
//! Only its owner can reach it. The server listens on a Unix socket inside the data
//! directory, which is 0700: local connections are trusted because no one else can get to
//! the socket. TCP is off unless asked for (`--tcp`), and then on 127.0.0.1 with
//! scram-sha-256 and a generated password kept in a 0600 password file in the data
//! directory, which the URL names (`passfile=`). The server is started without a shell,
//! so nothing in a path is ever interpreted.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const DEFAULT_DIR: &str = ".skytrap/pgdata";
pub const DEFAULT_PORT: u16 = 54329;
pub const DATABASE: &str = "skytrap";

/// The settings file the server includes, rewritten by every `up`.
const SETTINGS: &str = "skytrap.conf";
/// The password file of the TCP listener (libpq's pgpass format).
const PASSWORD_FILE: &str = "skytrap.pgpass";
/// A Unix socket's path must fit in `sun_path` (108 bytes with its NUL).
const SOCKET_PATH_MAX: usize = 107;

/// A cluster's data directory and port, and whether it also listens on TCP.
pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
    pub tcp: bool,
}

impl Cluster {
    /// The connection URL of database `skytrap` as superuser `postgres`: through the Unix
    /// socket in the data directory, or with `tcp` on 127.0.0.1 with the password file.
    pub fn url(&self) -> Result<String> {
        let dir = absolute(&self.dir)?;
        Ok(if self.tcp {
            let passfile = dir.join(PASSWORD_FILE);
            format!(
                "postgresql://postgres@127.0.0.1:{}/{DATABASE}?passfile={}",
                self.port,
                percent_encode(&passfile.to_string_lossy())
            )
        } else {
            socket_url(&dir, self.port, DATABASE)
        })
    }

    /// Creates (first time) and starts the cluster. Safe to repeat; a running cluster is
    /// restarted if it should start or stop listening on TCP. The caller then makes sure
    /// database `skytrap` has the extension.
    pub fn up(&self) -> Result<()> {
        let bin = pg_bindir()?;
        let user = unprivileged_user()?;
        let dir = absolute(&self.dir)?;
        let socket = dir.join(format!(".s.PGSQL.{}", self.port));
        if socket.as_os_str().len() > SOCKET_PATH_MAX {
            bail!(
                "{} is too long a path for the server's socket ({} bytes with the socket's \
                 name, at most {SOCKET_PATH_MAX}): choose a shorter --dir",
                dir.display(),
                socket.as_os_str().len()
            );
        }
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
                    // The socket is reachable by the owner alone; TCP needs the password.
                    "--auth-local=trust".as_ref(),
                    "--auth-host=scram-sha-256".as_ref(),
                    "--locale=C.UTF-8".as_ref(),
                    "-E".as_ref(),
                    "UTF8".as_ref(),
                ],
            )
            .context("initdb failed")?;
            let conf = dir.join("postgresql.conf");
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&conf)
                .with_context(|| format!("cannot open {}", conf.display()))?;
            writeln!(f, "include_if_exists = '{SETTINGS}'")?;
        }
        refuse_symlink(&dir)?;
        // A running server that listens on TCP or not against what is asked now restarts.
        let was_tcp = std::fs::read_to_string(dir.join(SETTINGS))
            .is_ok_and(|s| s.contains("listen_addresses = '127.0.0.1'"));
        if was_tcp != self.tcp && self.is_running(&bin, user.as_deref(), &dir)? {
            self.down()?;
        }
        self.write_settings(&dir, user.as_deref())?;
        if self.is_running(&bin, user.as_deref(), &dir)? {
            // It may still be starting up (crash recovery after the machine went down).
            wait_until_ready(&dir, None, None)?;
        } else {
            start(&bin, user.as_deref(), &dir)?;
        }
        if self.tcp {
            self.set_password(&dir)?;
        }
        Ok(())
    }

    /// The port, the socket in the data directory, and TCP on 127.0.0.1 or none, in a file
    /// the server includes (values quoted for postgresql.conf, never for a shell).
    fn write_settings(&self, dir: &Path, user: Option<&str>) -> Result<()> {
        let socket_dir = dir.to_str().with_context(|| {
            format!(
                "{} is not UTF-8, which PostgreSQL's settings need",
                dir.display()
            )
        })?;
        if socket_dir.chars().any(|c| c.is_control()) {
            bail!("{} has control characters in its path", dir.display());
        }
        // unix_socket_directories is a list: the directory goes in double quotes (a
        // doubled quote inside), and the whole value in single quotes for the file.
        let listed = format!("\"{}\"", socket_dir.replace('"', "\"\""));
        let settings = format!(
            "# Written by `skytrap db up`; rewritten on every start.\n\
             port = {}\n\
             listen_addresses = '{}'\n\
             unix_socket_directories = '{}'\n",
            self.port,
            if self.tcp { "127.0.0.1" } else { "" },
            conf_quote(&listed)
        );
        let path = dir.join(SETTINGS);
        std::fs::write(&path, settings)
            .with_context(|| format!("cannot write {}", path.display()))?;
        give_to(&path, user)
    }

    /// A generated password for `postgres` (set through the socket) and the password file
    /// that the TCP URL names, 0600: made once, kept across restarts.
    fn set_password(&self, dir: &Path) -> Result<()> {
        let passfile = dir.join(PASSWORD_FILE);
        if passfile.exists() {
            return Ok(());
        }
        let mut bytes = [0u8; 24];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
            .context("cannot read /dev/urandom")?;
        let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let url = socket_url(dir, self.port, "postgres");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(async {
                let client = crate::db::connect(&url).await?;
                // Hex digits only: safe inside the literal.
                client
                    .batch_execute(&format!("ALTER ROLE postgres PASSWORD '{password}'"))
                    .await
                    .context("cannot set the password of role postgres")
            })?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&passfile)
            .with_context(|| format!("cannot create {}", passfile.display()))?;
        writeln!(f, "127.0.0.1:{}:*:postgres:{password}", self.port)?;
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

/// Starts the server on its own, in a process group of its own (a Ctrl-C in the terminal
/// does not reach it), with its output in `server.log`, and waits until it accepts
/// connections. Not through `pg_ctl start`, which hands the data directory to a shell.
fn start(bin: &Path, user: Option<&str>, dir: &Path) -> Result<()> {
    let log_path = dir.join("server.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    give_to(&log_path, user)?;
    // A server that went down with the machine leaves its postmaster.pid saying "ready"
    // until the new one replaces it.
    let stale = std::fs::read_to_string(dir.join("postmaster.pid")).ok();
    let mut server = command(
        user,
        &bin.join("postgres"),
        &["-D".as_ref(), dir.as_os_str()],
    );
    server
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0);
    let mut child = server
        .spawn()
        .with_context(|| format!("cannot start {}", bin.join("postgres").display()))?;
    wait_until_ready(dir, stale.as_deref(), Some(&mut child))
}

/// Waits until the server of `dir` accepts connections: its postmaster.pid, other than
/// `stale`, says "ready" on line 8 (what `pg_ctl -w` reads). Fails if `child` (the server
/// just started) exits first, or after a minute.
fn wait_until_ready(
    dir: &Path,
    stale: Option<&str>,
    mut child: Option<&mut std::process::Child>,
) -> Result<()> {
    let log_path = dir.join("server.log");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.as_mut().map(|c| c.try_wait()).transpose()?.flatten() {
            bail!(
                "the server did not start ({status}); see {}",
                log_path.display()
            );
        }
        let ready = std::fs::read_to_string(dir.join("postmaster.pid")).is_ok_and(|pid| {
            Some(pid.as_str()) != stale && pid.lines().nth(7).is_some_and(|l| l.trim() == "ready")
        });
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the server was not ready after 60 s; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn socket_url(dir: &Path, port: u16, database: &str) -> String {
    format!(
        "postgresql://postgres@{}:{port}/{database}",
        percent_encode(&dir.to_string_lossy())
    )
}

/// Percent-encodes what a URL's host or query value cannot hold as it is.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A value for a single-quoted string of postgresql.conf: quotes doubled, backslashes
/// escaped (the file's parser reads backslash escapes).
fn conf_quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "''")
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

/// A data directory planted as a symlink would have the cluster's files, permissions and
/// ownership land wherever it points.
fn refuse_symlink(dir: &Path) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!(
            "{} is a symbolic link: refusing to use it as a data directory",
            dir.display()
        );
    }
    Ok(())
}

fn make_private_dir(dir: &Path, user: Option<&str>) -> Result<()> {
    refuse_symlink(dir)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    refuse_symlink(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    give_to(dir, user)?;
    if let Some(user) = user {
        // Every parent must be searchable by the cluster's user.
        let reachable = command(
            Some(user),
            Path::new("test"),
            &["-x".as_ref(), dir.as_os_str()],
        )
        .status()
        .is_ok_and(|s| s.success());
        if !reachable {
            bail!(
                "user {user}, who runs the cluster, cannot reach {}: a parent directory is \
                 closed to it (choose a --dir under /tmp or open the parents to {user})",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Hands a file or directory to the cluster's user (when running as root), never
/// following a symbolic link.
fn give_to(path: &Path, user: Option<&str>) -> Result<()> {
    if let Some(user) = user {
        let status = Command::new("chown")
            .arg("-h")
            .arg(format!("{user}:{user}"))
            .arg(path)
            .status()?;
        if !status.success() {
            bail!("cannot give {} to user {user}", path.display());
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_the_socket_directory() {
        let c = Cluster {
            dir: PathBuf::from("/tmp/a b/it's $(x)"),
            port: 5,
            tcp: false,
        };
        assert_eq!(
            c.url().unwrap(),
            "postgresql://postgres@%2Ftmp%2Fa%20b%2Fit%27s%20%24%28x%29:5/skytrap"
        );
        let c = Cluster { tcp: true, ..c };
        assert_eq!(
            c.url().unwrap(),
            "postgresql://postgres@127.0.0.1:5/skytrap?passfile=%2Ftmp%2Fa%20b%2Fit%27s%20%24%28x%29%2Fskytrap.pgpass"
        );
    }

    #[test]
    fn settings_values_are_quoted_for_the_file() {
        assert_eq!(conf_quote(r"it's a\b"), r"it''s a\\b");
    }
}
