//! The benchmark's baseline: a bare HTTPS server (hyper-util's auto builder
//! over rustls with ring, ALPN `h2` and `http/1.1`) that answers every
//! request with one saved response of the sandbox, byte for byte: its status,
//! its headers and its body. `scripts/bench.sh` builds it, saves a real
//! response of the sandbox for each scenario, and loads both servers the same
//! way, so the ratio of the two figures is what the sandbox's own work costs.
//!
//! usage: baseline --bind ADDR --cert server.pem --key server.key --response FILE
//!
//! FILE is the response as `curl --include` writes it (HTTP/1.1 status line,
//! headers, a blank line, the body). The port it listens on is printed on
//! standard output as `listening on ADDR`. It reads each request body to the
//! end, as the sandbox does, and stops on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// One saved response: served for every request.
struct Saved {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

fn parse_response(raw: &[u8]) -> Result<Saved, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no blank line after the headers")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "the head is not UTF-8")?;
    let body = Bytes::copy_from_slice(&raw[split + 4..]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let code = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header line {line:?}"))?;
        let name = name.trim().to_ascii_lowercase();
        // Framing and per-connection headers are the server's own business.
        if matches!(
            name.as_str(),
            "content-length" | "date" | "connection" | "transfer-encoding" | "keep-alive"
        ) {
            continue;
        }
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(value.trim()).map_err(|e| e.to_string())?;
        headers.push((name, value));
    }
    Ok(Saved {
        status: code,
        headers,
        body,
    })
}

struct Args {
    bind: SocketAddr,
    cert: String,
    key: String,
    response: String,
}

fn args() -> Result<Args, String> {
    let mut bind = None;
    let (mut cert, mut key, mut response) = (None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bind" => bind = Some(value()?.parse().map_err(|e| format!("--bind: {e}"))?),
            "--cert" => cert = Some(value()?),
            "--key" => key = Some(value()?),
            "--response" => response = Some(value()?),
            // `cargo bench` passes --bench to every bench target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        bind: bind.unwrap_or_else(|| "127.0.0.1:0".parse().expect("a literal address")),
        cert: cert.ok_or("--cert is required")?,
        key: key.ok_or("--key is required")?,
        response: response.ok_or("--response is required")?,
    })
}

fn tls_config(cert: &str, key: &str) -> Result<rustls::ServerConfig, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{cert}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{cert}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn main() {
    let result = args().and_then(|a| {
        let raw = std::fs::read(&a.response).map_err(|e| format!("{}: {e}", a.response))?;
        let saved = Arc::new(parse_response(&raw)?);
        let tls = tls_config(&a.cert, &a.key)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(serve(a.bind, Arc::new(tls), saved))
    });
    if let Err(e) = result {
        eprintln!("baseline: {e}");
        std::process::exit(2);
    }
}

async fn serve(
    bind: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    saved: Arc<Saved>,
) -> Result<(), String> {
    let listener = TcpListener::bind(bind).await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("listening on {addr}");
    let acceptor = TlsAcceptor::from(tls);
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
    loop {
        let (tcp, _) = tokio::select! {
            r = listener.accept() => r.map_err(|e| e.to_string())?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, builder, saved) = (acceptor.clone(), builder.clone(), saved.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let saved = saved.clone();
                async move {
                    // Read the body to the end, as the sandbox does.
                    let _ = req.into_body().collect().await;
                    let mut resp = Response::new(Full::new(saved.body.clone()));
                    *resp.status_mut() = saved.status;
                    let headers = resp.headers_mut();
                    for (name, value) in &saved.headers {
                        headers.append(name.clone(), value.clone());
                    }
                    Ok::<_, std::convert::Infallible>(resp)
                }
            });
            let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}
