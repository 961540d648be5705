//! Certificates and the rustls server configuration.
//!
//! On first start a private CA (`ca.pem`, `ca.key`) and a server certificate
//! signed by it (`server.pem`, `server.key`) are written to the certs
//! directory; later starts reuse them. A server certificate that has expired
//! (or will within a day), does not cover a configured hostname, claims
//! keyEncipherment (as older versions set; RFC 8813), or was not
//! signed by the CA on disk is re-issued from the same CA, so clients that
//! trust `ca.pem` keep working. Key files are mode 0600. One crypto provider,
//! `ring`, serves rustls and rcgen alike.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

/// What the TLS set-up needs from the command line.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    pub certs_dir: PathBuf,
    /// Extra names the server certificate must cover.
    pub hostnames: Vec<String>,
    /// Refuse TLS 1.2 as well (`--min-tls 1.3`).
    pub tls13_only: bool,
    /// The user's own certificate chain and key (`--tls-cert`, `--tls-key`).
    pub own_cert: Option<(PathBuf, PathBuf)>,
}

/// A ready server configuration and what the banner should say about it.
pub struct TlsSetup {
    pub config: Arc<ServerConfig>,
    /// The CA clients should trust, when the sandbox made it.
    pub ca_path: Option<PathBuf>,
    /// What happened to the certificates, for the log.
    pub note: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Rustls(#[from] rustls::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The crypto provider of every TLS and certificate operation here.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The names every generated server certificate covers.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

pub fn setup(settings: &TlsSettings) -> Result<TlsSetup, TlsError> {
    let (chain, key, ca_path, note) = match &settings.own_cert {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| TlsError::Invalid {
                    path: cert.clone(),
                    message: format!("not a PEM certificate chain: {e}"),
                })?;
            if chain.is_empty() {
                return Err(TlsError::Invalid {
                    path: cert.clone(),
                    message: "no certificate in the file".into(),
                });
            }
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Invalid {
                path: key.clone(),
                message: format!("not a PEM private key: {e}"),
            })?;
            (
                chain,
                key_der,
                None,
                format!("serving the certificate {}", cert.display()),
            )
        }
        None => {
            let (cert_pem, key_pem, note) =
                ensure_certificates(&settings.certs_dir, &settings.hostnames)?;
            let chain = vec![
                CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| {
                    TlsError::Invalid {
                        path: settings.certs_dir.join("server.pem"),
                        message: e.to_string(),
                    }
                })?,
            ];
            let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| {
                TlsError::Invalid {
                    path: settings.certs_dir.join("server.key"),
                    message: e.to_string(),
                }
            })?;
            (chain, key, Some(settings.certs_dir.join("ca.pem")), note)
        }
    };
    let versions: &[&'static rustls::SupportedProtocolVersion] = if settings.tls13_only {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // The provider's order (AEADs, strongest first) rather than the client's.
    config.ignore_client_order = true;
    Ok(TlsSetup {
        config: Arc::new(config),
        ca_path,
        note,
    })
}

/// Writes a file atomically; key files get mode 0600.
fn write_file(path: &Path, contents: &str, secret: bool) -> Result<(), TlsError> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut f = opts.open(&tmp).map_err(io_err(&tmp))?;
    f.write_all(contents.as_bytes()).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    #[cfg(unix)]
    if secret {
        // the mode of open() applies only to new files
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))
            .map_err(io_err(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

fn read_optional(path: &Path) -> Result<Option<String>, TlsError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Makes sure the certs directory holds a CA and a server certificate for
/// `hostnames`; returns the server certificate and key (PEM) and a note.
fn ensure_certificates(
    dir: &Path,
    hostnames: &[String],
) -> Result<(String, String, String), TlsError> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let (ca_pem_path, ca_key_path) = (dir.join("ca.pem"), dir.join("ca.key"));
    let (srv_pem_path, srv_key_path) = (dir.join("server.pem"), dir.join("server.key"));
    let mut names: Vec<String> = DEFAULT_NAMES.iter().map(|s| s.to_string()).collect();
    for h in hostnames {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(h)) {
            names.push(h.clone());
        }
    }

    let mut notes = Vec::new();
    let existing_ca = match (read_optional(&ca_pem_path)?, read_optional(&ca_key_path)?) {
        (Some(cert), Some(key)) if cert_valid_for(&cert, Duration::days(30)) => {
            let key = KeyPair::from_pem(&key).map_err(|e| TlsError::Invalid {
                path: ca_key_path.clone(),
                message: format!("not a usable private key: {e}"),
            })?;
            Some((cert, key))
        }
        (Some(_), Some(_)) => {
            notes.push(
                "the CA expires within 30 days: made a new one (clients must trust the new ca.pem)",
            );
            None
        }
        _ => None,
    };
    let (ca_pem, ca_key) = match existing_ca {
        Some(ca) => ca,
        None => {
            let (cert, key) = new_ca()?;
            write_file(&ca_key_path, &key.serialize_pem(), true)?;
            write_file(&ca_pem_path, &cert, false)?;
            if notes.is_empty() {
                notes.push("made a new CA");
            }
            (cert, key)
        }
    };

    if let (Some(cert), Some(key)) = (read_optional(&srv_pem_path)?, read_optional(&srv_key_path)?)
        && server_cert_usable(&cert, &key, &ca_pem, &names)
    {
        notes.push("reused the server certificate");
        return Ok((cert, key, notes.join("; ")));
    }
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(names.clone())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "CleverFox Backup API sandbox");
    params.use_authority_key_identifier_extension = true;
    // An EC key signs the handshake; it never enciphers keys (RFC 8813).
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(365);
    let cert = params.signed_by(&key, &issuer)?;
    write_file(&srv_key_path, &key.serialize_pem(), true)?;
    write_file(&srv_pem_path, &cert.pem(), false)?;
    notes.push("issued a server certificate");
    Ok((
        cert.pem(),
        key.serialize_pem(),
        format!("{} for {}", notes.join("; "), names.join(", ")),
    ))
}

fn new_ca() -> Result<(String, KeyPair), TlsError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let now = OffsetDateTime::now_utc();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "CleverFox Backup API sandbox");
    params.distinguished_name.push(
        DnType::CommonName,
        format!("CleverFox sandbox local CA {}", now.unix_timestamp()),
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(3650);
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key))
}

/// Whether the PEM certificate parses and stays valid for at least `margin`.
fn cert_valid_for(pem: &str, margin: Duration) -> bool {
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(pem.as_bytes()) else {
        return false;
    };
    let Ok(cert) = pem.parse_x509() else {
        return false;
    };
    let now = OffsetDateTime::now_utc();
    cert.validity().not_before.to_datetime() <= now
        && cert.validity().not_after.to_datetime() > now + margin
}

/// Whether a server certificate on disk can be served as is: valid for at
/// least a day, covering every name, signed by the CA, matching its key,
/// and not claiming `keyEncipherment` (which earlier versions set on their
/// EC certificates; RFC 8813).
fn server_cert_usable(cert_pem: &str, key_pem: &str, ca_pem: &str, names: &[String]) -> bool {
    use x509_parser::extensions::GeneralName;
    if !cert_valid_for(cert_pem, Duration::days(1)) {
        return false;
    }
    let (Ok((_, cert)), Ok((_, ca))) = (
        x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()),
        x509_parser::pem::parse_x509_pem(ca_pem.as_bytes()),
    ) else {
        return false;
    };
    let (Ok(cert), Ok(ca)) = (cert.parse_x509(), ca.parse_x509()) else {
        return false;
    };
    if cert.verify_signature(Some(ca.public_key())).is_err() {
        return false;
    }
    let Ok(key) = KeyPair::from_pem(key_pem) else {
        return false;
    };
    if key.subject_public_key_info() != cert.public_key().raw {
        return false;
    }
    if cert
        .key_usage()
        .ok()
        .flatten()
        .is_some_and(|ku| ku.value.key_encipherment())
    {
        return false;
    }
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let covers = |name: &str| {
        san.value
            .general_names
            .iter()
            .any(|g| match (g, name.parse::<IpAddr>()) {
                (GeneralName::DNSName(d), Err(_)) => d.eq_ignore_ascii_case(name),
                (GeneralName::IPAddress(bytes), Ok(ip)) => match ip {
                    IpAddr::V4(v4) => *bytes == v4.octets(),
                    IpAddr::V6(v6) => *bytes == v6.octets(),
                },
                _ => false,
            })
    };
    names.iter().all(|n| covers(n))
}
