//! The private cluster of `skytrap db up` is reachable by its owner alone: a Unix socket in
//! its 0700 data directory, no TCP unless asked for, and then only with the generated
//! password. Its start-up hands no path to a shell.
//!
//! One cluster, started four times, once after a crash (about 6 s); as root, the other
//! local user is `nobody`.

use skytrap_tests::{is_root, scratch_dir, skytrap, succeed};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

fn db(args: &[&str], dir: &Path, port: u16) -> std::process::Output {
    skytrap()
        .arg("db")
        .args(args)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir)
        .output()
        .unwrap()
}

fn url(dir: &Path, port: u16, tcp: bool) -> String {
    let args: &[&str] = if tcp { &["url", "--tcp"] } else { &["url"] };
    let out = db(args, dir, port);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// psql's answer to one query, or its error.
fn psql(as_user: Option<&str>, url: &str, sql: &str) -> Result<String, String> {
    let mut c = match as_user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--", "psql"]);
            c
        }
        None => Command::new("psql"),
    };
    let out = c
        .args(["-XAtw", url, "-c", sql])
        .env_remove("PGPASSFILE")
        .env_remove("PGPASSWORD")
        .current_dir("/")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

fn tcp_open(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn only_the_owner_reaches_the_private_cluster() {
    let base = scratch_dir("private-cluster");
    // A name a shell would choke on or run: nothing in it may be interpreted.
    let dir = base.join("it's $(touch pwned) \"x\"");
    let port = 56000 + (std::process::id() % 3000) as u16;
    let stop = scopeguard(&dir, port);
    let out = db(&["up"], &dir, port);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The owner: through the socket, with the extension ready.
    let socket = url(&dir, port, false);
    assert!(!socket.contains("127.0.0.1"), "{socket}");
    assert_eq!(
        psql(None, &socket, "SELECT inet_server_addr() IS NULL, extversion FROM pg_extension WHERE extname = 'skytrap'"),
        Ok(format!("t|{}", env!("CARGO_PKG_VERSION")))
    );
    // No one else: the data directory is the owner's alone, and no TCP port is open.
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    assert!(!tcp_open(port), "TCP port {port} is open");
    assert!(!base.join("pwned").exists() && !Path::new("/pwned").exists());
    if is_root() {
        let refused = psql(Some("nobody"), &socket, "SELECT 1").unwrap_err();
        assert!(refused.contains("Permission denied"), "{refused}");
    }

    // --tcp: 127.0.0.1 as well, with the generated password, which the URL's password
    // file holds (0600) and the loader and psql both read.
    succeed(
        skytrap()
            .args(["db", "up", "--tcp", "--port", &port.to_string(), "--dir"])
            .arg(&dir),
    );
    let tcp = url(&dir, port, true);
    assert!(
        tcp.contains("127.0.0.1") && tcp.contains("passfile="),
        "{tcp}"
    );
    assert_eq!(
        psql(None, &tcp, "SELECT inet_server_addr()"),
        Ok("127.0.0.1".into())
    );
    let passfile = dir.join("skytrap.pgpass");
    assert_eq!(
        std::fs::metadata(&passfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The loader gets in and asks (there is no such dataset yet).
    let out = skytrap()
        .args(["rules", "show", "--dataset", "any", "--db", &tcp])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("no dataset named 'any'"), "{said}");
    let bare = format!("postgresql://postgres@127.0.0.1:{port}/skytrap");
    let no_password = psql(None, &bare, "SELECT 1").unwrap_err();
    assert!(
        no_password.contains("no password supplied"),
        "{no_password}"
    );
    let wrong = format!("postgresql://postgres:guess@127.0.0.1:{port}/skytrap");
    let refused = psql(None, &wrong, "SELECT 1").unwrap_err();
    assert!(
        refused.contains("password authentication failed"),
        "{refused}"
    );
    if is_root() {
        assert!(psql(Some("nobody"), &tcp, "SELECT 1").is_err());
    }

    // Without --tcp again, TCP is closed again.
    succeed(
        skytrap()
            .args(["db", "up", "--port", &port.to_string(), "--dir"])
            .arg(&dir),
    );
    assert!(!tcp_open(port), "TCP port {port} is still open");
    assert_eq!(psql(None, &socket, "SELECT 1"), Ok("1".into()));

    // The machine goes down under the server (every process of it killed), leaving its
    // postmaster.pid saying "ready": `db up` waits for the new server, through its crash
    // recovery (some 100 MB of WAL to replay, so a second or more), and says ready only
    // when it is.
    psql(
        None,
        &socket,
        "CREATE TABLE crash AS SELECT g FROM generate_series(1, 3000000) AS g",
    )
    .unwrap();
    let pid_file = std::fs::read_to_string(dir.join("postmaster.pid")).unwrap();
    let postmaster = pid_file.lines().next().unwrap().trim().to_string();
    let group = Command::new("ps")
        .args(["-o", "pgid=", "-p", &postmaster])
        .output()
        .unwrap();
    let group = String::from_utf8_lossy(&group.stdout).trim().to_string();
    succeed(Command::new("kill").args(["-KILL", "--", &format!("-{group}")]));
    while Command::new("kill")
        .args(["-0", "--", &format!("-{group}")])
        .output()
        .unwrap()
        .status
        .success()
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("postmaster.pid")).unwrap(),
        pid_file
    );
    succeed(
        skytrap()
            .args(["db", "up", "--port", &port.to_string(), "--dir"])
            .arg(&dir),
    );
    assert_eq!(psql(None, &socket, "SELECT 1"), Ok("1".into()));
    drop(stop);

    // A data directory planted as a symbolic link is refused.
    let link = base.join("link");
    std::os::unix::fs::symlink(base.join("elsewhere"), &link).unwrap();
    let out = db(&["up"], &link, port);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!base.join("elsewhere").exists());
    std::fs::remove_dir_all(base).unwrap();
}

/// Stops the cluster when dropped, also when an assertion fails.
fn scopeguard(dir: &Path, port: u16) -> impl Drop {
    struct Stop(std::path::PathBuf, u16);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = db(&["down"], &self.0, self.1);
        }
    }
    Stop(dir.to_path_buf(), port)
}

/// `sslmode` as libpq reads it, over TCP to a server with a certificate of its own CA:
/// verify-full and verify-ca check it against `sslrootcert` (another CA is refused),
/// require encrypts without checking, disable does not encrypt.
#[tokio::test(flavor = "current_thread")]
async fn tls_follows_sslmode() {
    let base = scratch_dir("private-cluster-tls");
    let dir = base.join("pgdata");
    let port = 59000 + (std::process::id() % 3000) as u16;
    let _stop = scopeguard(&dir, port);
    succeed(
        skytrap()
            .args(["db", "up", "--tcp", "--port", &port.to_string(), "--dir"])
            .arg(&dir),
    );
    // Two authorities, and a certificate for 127.0.0.1 from the first.
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(&base)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for ca in ["ca", "other-ca"] {
        let (key, crt, subject) = (
            format!("{ca}.key"),
            format!("{ca}.crt"),
            format!("/CN={ca}"),
        );
        let mut args = vec![
            "req", "-x509", "-days", "2", "-subj", &subject, "-keyout", &key, "-out", &crt,
        ];
        args.extend(ec);
        openssl(&args);
    }
    let mut args = vec![
        "req",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ];
    args.extend(ec);
    openssl(&args);
    std::fs::write(base.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
    for file in ["server.crt", "server.key"] {
        let to = dir.join(file);
        std::fs::copy(base.join(file), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
        if is_root() {
            succeed(Command::new("chown").arg("postgres:postgres").arg(&to));
        }
    }
    let tcp = url(&dir, port, true);
    let admin = skytrap_loader::db::connect(&tcp).await.unwrap();
    for sql in ["ALTER SYSTEM SET ssl = on", "SELECT pg_reload_conf()"] {
        admin.batch_execute(sql).await.unwrap();
    }
    drop(admin);

    let encoded = |p: &Path| -> String {
        p.to_string_lossy()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect()
    };
    let (ca, other) = (
        encoded(&base.join("ca.crt")),
        encoded(&base.join("other-ca.crt")),
    );
    let encrypted = |extra: String| {
        let url = format!("{tcp}&{extra}");
        async move {
            let client = skytrap_loader::db::connect(&url)
                .await
                .map_err(|e| format!("{e:#}"))?;
            let row = client
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await
                .unwrap();
            Ok::<bool, String>(row.get(0))
        }
    };
    assert_eq!(
        encrypted(format!("sslmode=verify-full&sslrootcert={ca}")).await,
        Ok(true)
    );
    assert_eq!(
        encrypted(format!("sslmode=verify-ca&sslrootcert={ca}")).await,
        Ok(true)
    );
    assert_eq!(encrypted("sslmode=require".into()).await, Ok(true));
    assert_eq!(encrypted("sslmode=disable".into()).await, Ok(false));
    let refused = encrypted(format!("sslmode=verify-full&sslrootcert={other}"))
        .await
        .unwrap_err();
    assert!(refused.contains("certificate"), "{refused}");
    let unknown = encrypted("sslmode=sometimes".into()).await.unwrap_err();
    assert!(unknown.contains("sslmode=sometimes"), "{unknown}");
    std::fs::remove_dir_all(base).unwrap();
}
