//! The database side: the private cluster (`cluster`), loading images (`load`), alert
//! rules (`rules`), what the database holds (`status`), files of it (`export`); and here, connections to PostgreSQL: a URL (or libpq key=value string)
//! as libpq reads it, the password looked up in a password file as libpq does, TLS by
//! libpq's `sslmode` (rustls), and never a password in a message.

pub mod cluster;
pub mod export;
pub mod load;
pub mod rules;
pub mod status;

use anyhow::{bail, Context, Result};
use futures_util::stream::{poll_fn, Stream, StreamExt};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Where and how to connect: tokio-postgres's settings, plus what it does not read itself.
pub struct Target {
    pub config: Config,
    /// The connection string with any password masked, for messages.
    pub shown: String,
    /// What of the server's certificate is checked.
    verify: Verify,
    /// `sslrootcert`: the certificate authorities to check it against (else the system's).
    root_cert: Option<PathBuf>,
}

/// libpq's `sslmode` beyond tokio-postgres's own disable/prefer/require.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Verify {
    /// prefer and require: encrypted, the certificate not checked (as libpq does).
    Nothing,
    /// verify-ca: signed by a trusted authority.
    Chain,
    /// verify-full: that, and issued for the host connected to.
    ChainAndName,
}

/// Reads a connection string. libpq's `passfile`, `sslmode` and `sslrootcert` are taken
/// out (tokio-postgres knows only some of them); without a password in the string, one is
/// looked up in `passfile`, else `$PGPASSFILE`, else `~/.pgpass`.
pub fn target(url: &str) -> Result<Target> {
    let shown = mask_password(url);
    let (rest, passfile) = take_parameter(url, "passfile");
    let (rest, sslmode) = take_parameter(&rest, "sslmode");
    let (rest, root_cert) = take_parameter(&rest, "sslrootcert");
    let mut config: Config = rest
        .parse()
        .with_context(|| format!("cannot read the connection string {shown}"))?;
    let (mode, verify) = match sslmode.as_deref() {
        None | Some("prefer") | Some("allow") => (SslMode::Prefer, Verify::Nothing),
        Some("disable") => (SslMode::Disable, Verify::Nothing),
        // As libpq: with a root certificate given, require checks the chain.
        Some("require") if root_cert.is_some() => (SslMode::Require, Verify::Chain),
        Some("require") => (SslMode::Require, Verify::Nothing),
        Some("verify-ca") => (SslMode::Require, Verify::Chain),
        Some("verify-full") => (SslMode::Require, Verify::ChainAndName),
        Some(other) => bail!(
            "sslmode={other} in {shown}: one of disable, allow, prefer, require, verify-ca, \
             verify-full"
        ),
    };
    config.ssl_mode(mode);
    if config.get_password().is_none() {
        let file = passfile
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("PGPASSFILE").map(PathBuf::from))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")));
        if let Some(password) = file.and_then(|f| password_from_file(&f, &config)) {
            config.password(password);
        }
    }
    Ok(Target {
        config,
        shown,
        verify,
        root_cert: root_cert.map(PathBuf::from),
    })
}

/// The TLS connector for a target (used only where the server is reached over TCP).
pub fn tls(target: &Target) -> Result<MakeRustlsConnect> {
    // ring rather than rustls's default aws-lc-rs, whose C build needs CMake; ring's lack
    // of post-quantum key exchange is what the deprecation is about.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous();
    let verifier: Arc<dyn ServerCertVerifier> = match target.verify {
        Verify::Nothing => Arc::new(Unverified(provider)),
        Verify::Chain | Verify::ChainAndName => {
            let mut roots = RootCertStore::empty();
            match &target.root_cert {
                Some(file) => {
                    let certs = CertificateDer::pem_file_iter(file)
                        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                        .with_context(|| {
                            format!("cannot read the root certificates in {}", file.display())
                        })?;
                    for cert in certs {
                        roots.add(cert).with_context(|| {
                            format!("a root certificate in {} is unusable", file.display())
                        })?;
                    }
                }
                None => {
                    for cert in rustls_native_certs::load_native_certs().certs {
                        let _ = roots.add(cert);
                    }
                }
            }
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build()?;
            if target.verify == Verify::Chain {
                Arc::new(AnyName(webpki))
            } else {
                webpki
            }
        }
    };
    Ok(MakeRustlsConnect::new(
        builder
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    ))
}

/// sslmode=prefer or require: the channel is encrypted, the certificate taken as it is
/// (the handshake's signatures are still checked).
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// sslmode=verify-ca: the chain checked, the name not.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Connects and drives the connection in the background.
pub async fn connect(url: &str) -> Result<Client> {
    connect_to(&target(url)?).await
}

pub async fn connect_to(target: &Target) -> Result<Client> {
    let (client, mut messages) = open(target, &target.config).await.with_context(|| {
        format!(
            "cannot connect to {}; start the private database with `skytrap db up` or pass --db URL",
            target.shown
        )
    })?;
    // Notices and notifications are dropped; the first error ends the connection (the
    // stream would repeat it, and spinning here starves a single-threaded runtime).
    tokio::spawn(async move {
        while let Some(message) = messages.next().await {
            if let Err(e) = message {
                eprintln!("skytrap: database connection lost: {e}");
                break;
            }
        }
    });
    Ok(client)
}

/// What the server sends besides query results (notices, notifications); polling it
/// drives the connection.
pub type Messages = Pin<Box<dyn Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send>>;

/// Opens a connection with `config` (the target's, or a variant of it): TLS as the target
/// says over TCP, none over a Unix socket (which has no host name to check).
pub async fn open(target: &Target, config: &Config) -> Result<(Client, Messages)> {
    let sockets_only = config
        .get_hosts()
        .iter()
        .all(|h| matches!(h, Host::Unix(_)));
    Ok(
        if sockets_only || config.get_ssl_mode() == SslMode::Disable {
            let (client, mut connection) = config.connect(NoTls).await?;
            (
                client,
                Box::pin(poll_fn(move |cx| connection.poll_message(cx))),
            )
        } else {
            let (client, mut connection) = config.connect(tls(target)?).await?;
            (
                client,
                Box::pin(poll_fn(move |cx| connection.poll_message(cx))),
            )
        },
    )
}

/// The connection string with the password (in the user part of a URL, or a `password`
/// parameter) replaced by `***`.
pub fn mask_password(url: &str) -> String {
    let mut shown = url.to_string();
    if let Some(scheme_end) = shown.find("://") {
        let start = scheme_end + 3;
        let authority_end = shown[start..]
            .find(['/', '?'])
            .map_or(shown.len(), |i| start + i);
        if let Some(at) = shown[start..authority_end].rfind('@') {
            let userinfo = start..start + at;
            if let Some(colon) = shown[userinfo.clone()].find(':') {
                shown.replace_range(start + colon + 1..start + at, "***");
            }
        }
    }
    // `password=…` as a URL parameter (up to `&`) or a key=value pair (up to a space).
    let mut out = String::new();
    let mut rest = shown.as_str();
    while let Some(i) = rest.find("password=") {
        let before_ok = i == 0 || matches!(rest.as_bytes()[i - 1], b'?' | b'&' | b' ');
        out.push_str(&rest[..i + "password=".len()]);
        rest = &rest[i + "password=".len()..];
        if before_ok {
            out.push_str("***");
            let end = rest.find(['&', ' ']).unwrap_or(rest.len());
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Takes `name=value` out of a URL's query or a key=value string; returns the rest and the
/// (percent-decoded) value.
fn take_parameter(url: &str, name: &str) -> (String, Option<String>) {
    let prefix = format!("{name}=");
    if url.contains("://") {
        let Some((base, query)) = url.split_once('?') else {
            return (url.to_string(), None);
        };
        let (taken, kept): (Vec<&str>, Vec<&str>) =
            query.split('&').partition(|p| p.starts_with(&prefix));
        let value = taken.last().map(|p| percent_decode(&p[prefix.len()..]));
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        (rest, value)
    } else {
        let (taken, kept): (Vec<&str>, Vec<&str>) =
            url.split_whitespace().partition(|p| p.starts_with(&prefix));
        let value = taken.last().map(|p| p[prefix.len()..].to_string());
        (kept.join(" "), value)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether an error means the server went away (a closed socket, a refused connection, a
/// shutdown) rather than refused the work: worth reconnecting and trying again.
pub fn connection_lost(e: &anyhow::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.chain().any(|cause| {
        let Some(pg) = cause.downcast_ref::<tokio_postgres::Error>() else {
            return false;
        };
        match pg.code() {
            // Class 08, connection exceptions, and the server shutting down or starting.
            Some(code) => {
                code.code().starts_with("08")
                    || [
                        SqlState::ADMIN_SHUTDOWN,
                        SqlState::CRASH_SHUTDOWN,
                        SqlState::CANNOT_CONNECT_NOW,
                    ]
                    .contains(code)
            }
            None => {
                pg.is_closed()
                    || std::error::Error::source(pg).is_some_and(|s| s.is::<std::io::Error>())
            }
        }
    })
}

/// The password for this connection in a libpq password file
/// (`host:port:database:user:password`, `*` matching anything, `\:` and `\\` escaped), as
/// libpq reads it: ignored (with a warning) if others may read it. A Unix socket's
/// directory matches itself or `localhost`.
fn password_from_file(file: &std::path::Path, config: &Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file).ok()?.permissions().mode();
    if mode & 0o077 != 0 {
        eprintln!(
            "skytrap: warning: password file {} has group or world access; it is ignored \
             (chmod 600 it)",
            file.display()
        );
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => vec![h.clone()],
        Some(Host::Unix(p)) => vec![p.display().to_string(), "localhost".to_string()],
        None => vec!["localhost".to_string()],
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let database = config.get_dbname().map_or(user.clone(), str::to_string);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            let [h, p, d, u, password] = fields.as_slice() else {
                return None;
            };
            let matches = |field: &str, value: &str| field == "*" || field == value;
            (host.iter().any(|v| matches(h, v))
                && matches(p, &port)
                && matches(d, &database)
                && matches(u, &user))
            .then(|| password.clone())
        })
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => fields.last_mut().unwrap().extend(chars.next()),
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// Checks that the database has the extension at this command's version: a loader and an
/// extension of different versions would disagree about the tables.
pub async fn require_extension(client: &Client, url: &str) -> Result<()> {
    let wanted = env!("CARGO_PKG_VERSION");
    let url = mask_password(url);
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
    let mut admin = target(url)?;
    admin.config.dbname("postgres");
    let client = connect_to(&admin).await?;
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_database WHERE datname = $1",
            &[&cluster::DATABASE],
        )
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(&format!("CREATE DATABASE {}", cluster::DATABASE))
            .await?;
    }
    let client = connect(url).await?;
    client
        .batch_execute("CREATE EXTENSION IF NOT EXISTS skytrap; ALTER EXTENSION skytrap UPDATE")
        .await
        .context("CREATE EXTENSION skytrap failed: is the extension installed? (make install)")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            mask_password("postgresql://ann:s3cr%40t@db.example:5432/sky?sslmode=require"),
            "postgresql://ann:***@db.example:5432/sky?sslmode=require"
        );
        assert_eq!(
            mask_password("postgresql://ann@db/sky?password=s3cret&sslmode=require"),
            "postgresql://ann@db/sky?password=***&sslmode=require"
        );
        assert_eq!(
            mask_password("host=db user=ann password=s3cret dbname=sky"),
            "host=db user=ann password=*** dbname=sky"
        );
        assert_eq!(
            mask_password("postgresql://ann@%2Ftmp%2Fx:5/sky"),
            "postgresql://ann@%2Ftmp%2Fx:5/sky"
        );
        // A database called "password=" is not a password parameter.
        assert_eq!(
            mask_password("postgresql://ann@db/mypassword=x"),
            "postgresql://ann@db/mypassword=x"
        );
    }

    #[test]
    fn passwords_come_from_the_password_file_as_libpq_reads_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("skytrap-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pgpass");
        std::fs::write(
            &file,
            "# comment\n\
             other:5432:*:ann:wrong\n\
             db.example:5433:sky:ann:right\\:one\n\
             *:*:*:bob:bobs\n\
             localhost:5:*:postgres:sock\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let encoded: String = file
            .to_string_lossy()
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect();
        let password = |url: &str| {
            target(url)
                .unwrap()
                .config
                .get_password()
                .map(<[u8]>::to_vec)
        };
        assert_eq!(
            password(&format!(
                "postgresql://ann@db.example:5433/sky?passfile={encoded}"
            )),
            Some(b"right:one".to_vec())
        );
        assert_eq!(
            password(&format!("postgresql://bob@elsewhere/x?passfile={encoded}")),
            Some(b"bobs".to_vec())
        );
        // A Unix socket matches `localhost`.
        assert_eq!(
            password(&format!(
                "postgresql://postgres@%2Ftmp%2Fs:5/x?passfile={encoded}"
            )),
            Some(b"sock".to_vec())
        );
        // No line for it; a password in the URL wins over the file.
        assert_eq!(
            password(&format!(
                "postgresql://ann@db.example:1/sky?passfile={encoded}"
            )),
            None
        );
        assert_eq!(
            password(&format!(
                "postgresql://ann:given@db.example:5433/sky?passfile={encoded}"
            )),
            Some(b"given".to_vec())
        );
        // Readable by others: ignored, as libpq does.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            password(&format!("postgresql://bob@elsewhere/x?passfile={encoded}")),
            None
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
