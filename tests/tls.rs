//! TLS (API.md section 1): protocol versions, ALPN, plain HTTP on the HTTPS
//! port, and the certificates the sandbox writes, reuses and re-issues.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Config, PARTNER1, STEP, Sandbox, start_sandbox};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use x509_parser::extensions::GeneralName;

const CERT_FILES: [&str; 4] = ["ca.pem", "ca.key", "server.pem", "server.key"];

async fn stop(sb: Sandbox) {
    timeout(STEP, sb.stop()).await.expect("sandbox stops");
}

fn with_certs(dir: &Path) -> Config {
    Config {
        certs: Some(dir.to_path_buf()),
        ..Config::default()
    }
}

/// Runs a tool with stdin closed under `timeout 15`; returns whether it
/// succeeded and its stdout and stderr together.
async fn run_tool(program: &str, args: &[String]) -> (bool, String) {
    let mut cmd = Command::new("timeout");
    cmd.arg("15").arg(program).args(args).stdin(Stdio::null());
    let job = tokio::task::spawn_blocking(move || cmd.output());
    let out = timeout(STEP, job)
        .await
        .expect("tool finishes")
        .expect("join")
        .expect("the tool runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// `openssl s_client` against the sandbox, trusting its CA, as `localhost`.
async fn s_client(sb: &Sandbox, extra: &[&str]) -> (bool, String) {
    let mut args: Vec<String> = vec![
        "s_client".into(),
        "-connect".into(),
        format!("127.0.0.1:{}", sb.addr.port()),
        "-servername".into(),
        "localhost".into(),
        "-CAfile".into(),
        sb.certs.join("ca.pem").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    run_tool("openssl", &args).await
}

async fn assert_negotiates(sb: &Sandbox, flag: &str, protocol: &str) {
    let (ok, out) = s_client(sb, &[flag, "-brief"]).await;
    assert!(ok, "openssl {flag} connects:\n{out}");
    assert!(out.contains("CONNECTION ESTABLISHED"), "{flag}:\n{out}");
    assert!(
        out.contains(&format!("Protocol version: {protocol}")),
        "{flag} negotiates {protocol}:\n{out}"
    );
    assert!(
        out.contains("Verification: OK"),
        "the certificate verifies against ca.pem:\n{out}"
    );
}

/// The client really sent a hello of the old version (`-msg` trace) and the
/// handshake failed on a fatal alert from the server, not locally.
async fn assert_refused(sb: &Sandbox, flag: &str, hello: &str) {
    let (ok, out) = s_client(sb, &[flag, "-cipher", "DEFAULT:@SECLEVEL=0", "-msg"]).await;
    assert!(!ok, "openssl {flag} must fail:\n{out}");
    assert!(
        !out.contains("no protocols available"),
        "the client must really offer {hello}:\n{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with(&format!(">>> {hello}, Handshake"))
            && l.contains("ClientHello")),
        "a {hello} ClientHello was sent:\n{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("<<< ") && l.contains("Alert") && l.contains("fatal")),
        "the server answered with a fatal alert:\n{out}"
    );
    assert!(!out.contains("CONNECTION ESTABLISHED"), "{out}");
    assert!(out.contains("Cipher is (NONE)"), "no cipher agreed:\n{out}");
}

fn client_trusting(ca_pem: &[u8]) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).expect("PEM"))
        .timeout(STEP)
}

/// GET /api/companies with PARTNER1 at `url`; returns the status.
async fn get_companies(client: &reqwest::Client, url: &str) -> reqwest::StatusCode {
    let r = timeout(
        STEP,
        client
            .get(format!("{url}/api/companies"))
            .basic_auth(PARTNER1, Some("x"))
            .send(),
    )
    .await
    .expect("answers in time")
    .unwrap_or_else(|e| panic!("GET {url}/api/companies: {e:?}"));
    r.status()
}

fn read_files(dir: &Path) -> Vec<Vec<u8>> {
    CERT_FILES
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The parsed certificate of a PEM file's first block, with a closure.
fn with_cert<T>(pem: &[u8], f: impl FnOnce(&x509_parser::certificate::X509Certificate) -> T) -> T {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).expect("PEM");
    let cert = pem.parse_x509().expect("X.509");
    f(&cert)
}

/// The DNS names and IP addresses of a certificate's subjectAltName.
fn sans(pem: &[u8]) -> (Vec<String>, Vec<IpAddr>) {
    with_cert(pem, |cert| {
        let san = cert
            .subject_alternative_name()
            .expect("SAN parses")
            .expect("has a SAN");
        let (mut dns, mut ips) = (Vec::new(), Vec::new());
        for g in &san.value.general_names {
            match g {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => ips.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap())),
                    16 => ips.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap())),
                    n => panic!("IP SAN of {n} bytes"),
                },
                _ => {}
            }
        }
        (dns, ips)
    })
}

/// Whether `cert_pem` is signed by `ca_pem`'s key and valid now.
fn signed_by_and_valid(cert_pem: &[u8], ca_pem: &[u8]) -> bool {
    with_cert(ca_pem, |ca| {
        with_cert(cert_pem, |cert| {
            cert.verify_signature(Some(ca.public_key())).is_ok() && cert.validity().is_valid()
        })
    })
}

// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls12_and_tls13_are_negotiated() {
    let sb = start_sandbox(Config::default()).await;
    assert_negotiates(&sb, "-tls1_2", "TLSv1.2").await;
    assert_negotiates(&sb, "-tls1_3", "TLSv1.3").await;
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls11_and_older_are_refused() {
    let sb = start_sandbox(Config::default()).await;
    assert_refused(&sb, "-tls1_1", "TLS 1.1").await;
    assert_refused(&sb, "-tls1", "TLS 1.0").await;
    // SSLv3: only when this openssl can still send an SSLv3 hello (OpenSSL 3
    // as shipped by Debian and Ubuntu has no -ssl3 option at all; then this
    // variant is skipped).
    let (_, help) = run_tool("openssl", &["s_client".into(), "-help".into()]).await;
    if help.lines().any(|l| l.trim_start().starts_with("-ssl3 ")) {
        assert_refused(&sb, "-ssl3", "SSL 3.0").await;
    } else {
        eprintln!("this openssl has no -ssl3: the SSLv3 variant is skipped");
    }
    stop(sb).await;
}

/// A hand-made TLS 1.1 ClientHello (no extensions) gets a fatal alert and
/// then the connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls11_hello_gets_an_alert_and_the_connection_closes() {
    let sb = start_sandbox(Config::default()).await;
    let mut body = vec![0x03, 0x02]; // client_version TLS 1.1
    body.extend([0x5a; 32]); // random
    body.push(0); // no session id
    body.extend([0x00, 0x04, 0xc0, 0x13, 0x00, 0x2f]); // two CBC suites
    body.extend([0x01, 0x00]); // null compression
    let mut hs = vec![0x01, 0x00, 0x00, body.len() as u8];
    hs.extend(&body);
    let mut record = vec![0x16, 0x03, 0x02, 0x00, hs.len() as u8];
    record.extend(&hs);

    let mut tcp = timeout(STEP, TcpStream::connect(sb.addr))
        .await
        .expect("connects in time")
        .expect("connects");
    timeout(STEP, tcp.write_all(&record))
        .await
        .expect("writes in time")
        .expect("writes");
    // read_to_end returns only once the server has closed the connection
    let mut answer = Vec::new();
    let _ = timeout(STEP, tcp.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection");
    // what came back is alert records only, the first one fatal
    assert!(answer.len() >= 7, "an alert record: {answer:02x?}");
    assert_eq!(answer[5], 2, "a fatal alert: {answer:02x?}");
    let mut rest = &answer[..];
    while !rest.is_empty() {
        assert!(rest.len() >= 5, "whole records: {answer:02x?}");
        assert_eq!(rest[0], 0x15, "only alerts, no ServerHello: {answer:02x?}");
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        rest = &rest[(5 + len).min(rest.len())..];
    }
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn min_tls_13_refuses_tls12() {
    let sb = start_sandbox(Config {
        tls13_only: true,
        ..Config::default()
    })
    .await;
    assert_refused(&sb, "-tls1_2", "TLS 1.2").await;
    assert_negotiates(&sb, "-tls1_3", "TLSv1.3").await;
    let status = get_companies(&sb.client(), &sb.url("")).await;
    assert_eq!(status, 200);
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alpn_serves_http2_and_http11() {
    let sb = start_sandbox(Config::default()).await;
    let mut bodies = Vec::new();
    for (client, version) in [
        (sb.client_h2(), reqwest::Version::HTTP_2),
        (sb.client(), reqwest::Version::HTTP_11),
    ] {
        let r = timeout(
            STEP,
            client
                .get(sb.url("/api/companies"))
                .basic_auth(PARTNER1, Some("x"))
                .send(),
        )
        .await
        .expect("answers in time")
        .expect("GET /api/companies");
        assert_eq!(r.status(), 200);
        assert_eq!(r.version(), version);
        let body: serde_json::Value = timeout(STEP, r.json())
            .await
            .expect("body in time")
            .expect("JSON");
        bodies.push(body);
    }
    assert!(bodies[0]["data"].as_array().is_some_and(|a| !a.is_empty()));
    assert_eq!(bodies[0], bodies[1], "both protocols serve the same API");

    let (ok, out) = s_client(&sb, &["-alpn", "h2,http/1.1"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("ALPN protocol: h2"), "{out}");
    let (ok, out) = s_client(&sb, &["-alpn", "http/1.1"]).await;
    assert!(ok, "{out}");
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_gets_a_plain_400_and_the_connection_closes() {
    let sb = start_sandbox(Config::default()).await;
    let mut tcp = timeout(STEP, TcpStream::connect(sb.addr))
        .await
        .expect("connects in time")
        .expect("connects");
    timeout(
        STEP,
        tcp.write_all(b"GET /api/companies HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    )
    .await
    .expect("writes in time")
    .expect("writes");
    // read_to_end returns only at EOF: the server closes the connection
    let mut answer = Vec::new();
    let n = timeout(STEP, tcp.read_to_end(&mut answer))
        .await
        .expect("the server closes the connection")
        .expect("reads to EOF, no reset");
    assert_eq!(n, answer.len());
    let text = String::from_utf8(answer).expect("plain text");
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type").then(|| v.trim())
        })
        .expect("a Content-Type");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(body.contains("HTTPS"), "{body}");
    assert!(body.contains("TLS 1.2"), "{body}");
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_are_written_once_and_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let sb = start_sandbox(with_certs(&dir)).await;
    assert_eq!(get_companies(&sb.client(), &sb.url("")).await, 200);
    stop(sb).await;
    for f in CERT_FILES {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    assert_eq!(mode(&dir.join("ca.key")), 0o600);
    assert_eq!(mode(&dir.join("server.key")), 0o600);
    let first = read_files(&dir);
    assert!(signed_by_and_valid(&first[2], &first[0]));

    let sb = start_sandbox(with_certs(&dir)).await;
    assert_eq!(get_companies(&sb.client(), &sb.url("")).await, 200);
    stop(sb).await;
    let second = read_files(&dir);
    for (i, f) in CERT_FILES.iter().enumerate() {
        assert!(first[i] == second[i], "{f} reused byte for byte");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_hostname_reissues_the_server_certificate_from_the_same_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let sb = start_sandbox(with_certs(&dir)).await;
    stop(sb).await;
    let before = read_files(&dir);
    assert!(!sans(&before[2]).0.contains(&"sandbox.test".to_string()));

    let sb = start_sandbox(Config {
        hostnames: vec!["sandbox.test".into()],
        ..with_certs(&dir)
    })
    .await;
    let after = read_files(&dir);
    assert!(after[0] == before[0], "ca.pem unchanged");
    assert!(after[1] == before[1], "ca.key unchanged");
    assert!(after[2] != before[2], "server.pem re-issued");
    assert_eq!(mode(&dir.join("server.key")), 0o600);
    assert!(
        signed_by_and_valid(&after[2], &after[0]),
        "signed by the CA"
    );
    let (dns, ips) = sans(&after[2]);
    for name in ["sandbox.test", "localhost"] {
        assert!(dns.contains(&name.to_string()), "{name} in {dns:?}");
    }
    assert!(ips.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{ips:?}");

    // a client that trusts only ca.pem, connecting by the new name
    let client = client_trusting(&after[0])
        .resolve("sandbox.test", sb.addr)
        .build()
        .unwrap();
    let url = format!("https://sandbox.test:{}", sb.addr.port());
    assert_eq!(get_companies(&client, &url).await, 200);
    stop(sb).await;
}

/// Writes a server certificate for the default names, signed by the CA of
/// `dir`, with the given validity, over server.pem and server.key.
fn write_server_cert(
    dir: &Path,
    not_before: time::OffsetDateTime,
    not_after: time::OffsetDateTime,
) {
    let ca_pem = std::fs::read_to_string(dir.join("ca.pem")).unwrap();
    let ca_key = std::fs::read_to_string(dir.join("ca.key")).unwrap();
    let issuer =
        rcgen::Issuer::from_ca_cert_pem(&ca_pem, rcgen::KeyPair::from_pem(&ca_key).unwrap())
            .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "test-made server certificate");
    params.not_before = not_before;
    params.not_after = not_after;
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_server_certificate_is_reissued() {
    use time::{Duration, OffsetDateTime};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let sb = start_sandbox(with_certs(&dir)).await;
    stop(sb).await;
    let now = OffsetDateTime::now_utc();

    // control: a valid certificate of the same making is kept as is
    write_server_cert(&dir, now - Duration::days(30), now + Duration::days(300));
    let valid = read_files(&dir);
    let sb = start_sandbox(with_certs(&dir)).await;
    assert_eq!(get_companies(&sb.client(), &sb.url("")).await, 200);
    stop(sb).await;
    assert!(read_files(&dir) == valid, "a valid certificate is reused");

    // an expired one is re-issued from the same CA
    write_server_cert(&dir, now - Duration::days(400), now - Duration::days(1));
    let expired = read_files(&dir);
    let sb = start_sandbox(with_certs(&dir)).await;
    let after = read_files(&dir);
    assert!(after[0] == expired[0], "ca.pem unchanged");
    assert!(after[2] != expired[2], "server.pem re-issued");
    assert!(after[3] != expired[3], "server.key re-issued");
    assert!(signed_by_and_valid(&after[2], &after[0]));
    // clients that trust ca.pem connect fine
    let client = client_trusting(&after[0])
        .resolve("localhost", sb.addr)
        .build()
        .unwrap();
    assert_eq!(get_companies(&client, &sb.url("")).await, 200);
    let (ok, out) = s_client(&sb, &["-brief"]).await;
    assert!(ok && out.contains("Verification: OK"), "{out}");
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_certificate_is_served() {
    let tmp = tempfile::tempdir().unwrap();
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path): (PathBuf, PathBuf) =
        (tmp.path().join("own.pem"), tmp.path().join("own.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, signing_key.serialize_pem()).unwrap();
    let sb = start_sandbox(Config {
        own_cert: Some((cert_path.clone(), key_path)),
        ..Config::default()
    })
    .await;
    // a client trusting only that certificate (the harness's client does)
    assert_eq!(get_companies(&sb.client(), &sb.url("")).await, 200);
    // and openssl sees exactly that certificate
    let (ok, out) = run_tool(
        "openssl",
        &[
            "s_client".into(),
            "-connect".into(),
            format!("127.0.0.1:{}", sb.addr.port()),
            "-servername".into(),
            "localhost".into(),
            "-CAfile".into(),
            cert_path.display().to_string(),
            "-brief".into(),
        ],
    )
    .await;
    assert!(ok && out.contains("Verification: OK"), "{out}");
    // no certificate was generated instead
    assert!(!sb.certs.join("server.pem").exists());
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_covers_localhost_and_loopback_addresses() {
    let sb = start_sandbox(Config::default()).await;
    let pem = std::fs::read(sb.certs.join("server.pem")).unwrap();
    let (dns, ips) = sans(&pem);
    assert!(dns.contains(&"localhost".to_string()), "{dns:?}");
    assert!(ips.contains(&IpAddr::V4(Ipv4Addr::LOCALHOST)), "{ips:?}");
    assert!(ips.contains(&IpAddr::V6(Ipv6Addr::LOCALHOST)), "{ips:?}");
    // by address too: https://127.0.0.1:PORT verifies
    let client = client_trusting(&sb.ca_pem).build().unwrap();
    let url = format!(
        "https://{}",
        SocketAddr::from((Ipv4Addr::LOCALHOST, sb.addr.port()))
    );
    assert_eq!(get_companies(&client, &url).await, 200);
    stop(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostname_that_is_an_address_is_covered_and_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("certs");
    let cfg = || Config {
        hostnames: vec!["10.11.12.13".into(), "fd00::7".into()],
        ..with_certs(&dir)
    };
    let sb = start_sandbox(cfg()).await;
    stop(sb).await;
    let first = read_files(&dir);
    let (_, ips) = sans(&first[2]);
    assert!(
        ips.contains(&"10.11.12.13".parse::<IpAddr>().unwrap()),
        "{ips:?}"
    );
    assert!(
        ips.contains(&"fd00::7".parse::<IpAddr>().unwrap()),
        "{ips:?}"
    );
    // the same names again: nothing to re-issue
    let sb = start_sandbox(cfg()).await;
    stop(sb).await;
    assert!(read_files(&dir) == first, "all four files reused");
}
