//! The accept loop and the per-connection task: sniff plain HTTP, TLS
//! handshake under a timeout, then hyper-util's auto builder (HTTP/1.1 and
//! HTTP/2 through ALPN); graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;

use crate::http::service::{self, App};

/// Connection limits and timeouts.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Time allowed for the first byte and the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed to receive a request's headers (HTTP/1.1).
    pub header_read_timeout: Duration,
    /// Open connections at most; further clients wait in the listen queue.
    pub max_connections: usize,
    /// Largest request head (HTTP/1.1 buffer, HTTP/2 header list).
    pub max_header_bytes: usize,
    /// How long in-flight requests may take to finish on shutdown.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(15),
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Serves HTTPS on an already-bound listener until `shutdown` completes,
/// then stops accepting and lets in-flight requests finish (up to the
/// grace period).
pub async fn run(
    listener: TcpListener,
    app: Arc<App>,
    tls: Arc<rustls::ServerConfig>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(limits.max_header_bytes as u32)
        .max_concurrent_streams(256)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);

    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let (app, acceptor, builder, limits) = (
            app.clone(),
            acceptor.clone(),
            builder.clone(),
            limits.clone(),
        );
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            serve_connection(tcp, peer, app, acceptor, &builder, &limits, watcher).await;
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
    }
}

/// The TLS record type of a handshake: every TLS client's first byte.
const TLS_HANDSHAKE: u8 = 0x16;

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Arc<App>,
    acceptor: TlsAcceptor,
    builder: &auto::Builder<TokioExecutor>,
    limits: &Limits,
    watcher: Watcher,
) {
    let mut first = [0u8; 1];
    match timeout(limits.handshake_timeout, tcp.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return, // closed, failed, or silent
    }
    if first[0] != TLS_HANDSHAKE {
        refuse_plain_http(tcp, limits.handshake_timeout).await;
        tracing::info!(%peer, "refused a plain-HTTP request on the HTTPS port");
        return;
    }
    let stream = match timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let svc = service_fn(move |req| service::handle(app.clone(), req));
    let conn = builder
        .serve_connection(TokioIo::new(stream), svc)
        .into_owned();
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// The plain-text answer to plain HTTP on the HTTPS port.
pub const PLAIN_HTTP_MESSAGE: &str = "This is the CleverFox Backup API sandbox. The API requires HTTPS with TLS 1.2 or later: \
use https:// in the URL (and trust the sandbox's ca.pem).\n";

/// Reads the request head (bounded in size and time) so the client sees the
/// answer rather than a reset, answers 400 in plain text, and closes.
async fn refuse_plain_http(mut tcp: TcpStream, wait: Duration) {
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    let _ = timeout(wait, async {
        while len < buf.len() {
            match tcp.read(&mut buf[len..]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => len += n,
            }
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        PLAIN_HTTP_MESSAGE.len(),
        PLAIN_HTTP_MESSAGE
    );
    let _ = timeout(wait, async {
        let _ = tcp.write_all(response.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}
