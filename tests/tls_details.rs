//! TLS details over real handshakes: the key usage of the generated EC
//! server certificate (RFC 8813: digitalSignature, never keyEncipherment),
//! its re-issue when an older certificate claims keyEncipherment, and the
//! server's own cipher-suite preference.

mod common;

use std::sync::Arc;

use common::*;
use rustls::SupportedCipherSuite;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Key usage of a PEM certificate: (digitalSignature, keyEncipherment).
fn key_usage(pem: &[u8]) -> (bool, bool) {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).expect("PEM");
    let cert = pem.parse_x509().expect("X.509");
    let ku = cert
        .key_usage()
        .expect("key usage parses")
        .expect("a key usage extension");
    assert!(ku.critical, "key usage is critical");
    (ku.value.digital_signature(), ku.value.key_encipherment())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_ec_server_certificate_only_signs() {
    let sb = Sandbox::start().await;
    let pem = std::fs::read(sb.certs.join("server.pem")).unwrap();
    let (_, parsed) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let cert = parsed.parse_x509().unwrap();
    assert_eq!(
        cert.public_key().algorithm.algorithm,
        x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY,
        "an EC key"
    );
    assert_eq!(key_usage(&pem), (true, false), "digitalSignature only");
    let eku = cert
        .extended_key_usage()
        .unwrap()
        .expect("extended key usage");
    assert!(eku.value.server_auth, "serverAuth");
}

/// A server certificate from an earlier version (keyEncipherment set) is
/// re-issued from the same CA on the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_certificate_with_key_encipherment_is_reissued_from_the_same_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    let first = Sandbox::with(Config {
        certs: Some(certs.clone()),
        ..Config::default()
    })
    .await;
    first.stop().await;
    let ca_pem = std::fs::read_to_string(certs.join("ca.pem")).unwrap();
    let ca_key =
        rcgen::KeyPair::from_pem(&std::fs::read_to_string(certs.join("ca.key")).unwrap()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
            .unwrap();
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let old = params.signed_by(&key, &issuer).unwrap().pem();
    assert_eq!(key_usage(old.as_bytes()), (true, true), "the old kind");
    std::fs::write(certs.join("server.pem"), &old).unwrap();
    std::fs::write(certs.join("server.key"), key.serialize_pem()).unwrap();

    let sb = Sandbox::with(Config {
        certs: Some(certs.clone()),
        ..Config::default()
    })
    .await;
    let now = std::fs::read_to_string(certs.join("server.pem")).unwrap();
    assert_ne!(now, old, "re-issued");
    assert_eq!(key_usage(now.as_bytes()), (true, false));
    assert_eq!(
        std::fs::read_to_string(certs.join("ca.pem")).unwrap(),
        ca_pem,
        "the same CA"
    );
    // Clients that trust the CA keep working.
    let r = sb.get(PARTNER1, "/api/companies/1").await;
    assert_eq!(r.status(), 200);
}

/// Completes a handshake offering `suites` in that order; returns the
/// suite the server chose.
async fn negotiate(
    sb: &Sandbox,
    suites: Vec<SupportedCipherSuite>,
    version: &'static rustls::SupportedProtocolVersion,
) -> rustls::CipherSuite {
    let mut provider = (*cleverfox_sandbox::edge::tls::provider()).clone();
    provider.cipher_suites = suites;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&sb.ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = bounded(TcpStream::connect(sb.addr)).await.unwrap();
    let tls = bounded(
        TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp),
    )
    .await
    .expect("handshake");
    let (_, conn) = tls.get_ref();
    assert_eq!(conn.protocol_version(), Some(version.version));
    conn.negotiated_cipher_suite().expect("a suite").suite()
}

/// Whatever order a client offers, the server picks by its own preference
/// (the provider's order): under TLS 1.3 and TLS 1.2 alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_prefers_its_own_cipher_suite_order() {
    let sb = Sandbox::start().await;
    let server_order = cleverfox_sandbox::edge::tls::provider()
        .cipher_suites
        .clone();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let mut ours: Vec<SupportedCipherSuite> = server_order
            .iter()
            .copied()
            .filter(|s| s.version() == version)
            .filter(|s| match s {
                // the certificate is ECDSA: RSA-only TLS 1.2 suites cannot be used
                SupportedCipherSuite::Tls12(t) => t
                    .sign
                    .contains(&rustls::SignatureScheme::ECDSA_NISTP256_SHA256),
                SupportedCipherSuite::Tls13(_) => true,
            })
            .collect();
        assert!(ours.len() >= 2, "{version:?}: {ours:?}");
        let preferred = ours[0].suite();
        // The client offers the server's least preferred first.
        ours.reverse();
        let chosen = negotiate(&sb, ours.clone(), version).await;
        assert_eq!(chosen, preferred, "{version:?}, client offered {ours:?}");
        // Offered alone, the least preferred is accepted (so the choice above
        // was the server's preference, not the only suite it takes).
        let last = ours[0];
        assert_eq!(negotiate(&sb, vec![last], version).await, last.suite());
    }
}
