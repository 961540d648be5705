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
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;

use super::app::App;
use super::service;

/// Connection limits and timeouts.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Time allowed for the first byte and the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed to receive a request's headers (HTTP/1.1).
    pub header_read_timeout: Duration,
    /// Open connections at most; further clients wait in the listen queue.
    pub max_connections: usize,
    /// Largest request head (HTTP/2 header list; HTTP/1.1 read buffer, which
    /// hyper does not let go below 8 KiB).
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
    // The protocol is the one ALPN negotiated (HTTP/1.1 without ALPN), so no
    // connection waits, untimed, for hyper to guess it from the first bytes.
    let builders = Arc::new(Builders {
        h1: builder.clone().http1_only(),
        h2: builder.http2_only(),
    });
    let graceful = GracefulShutdown::new();
    // Closes the connections still open when the grace period runs out.
    let (force_close, force_closed) = watch::channel(false);
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
        let (app, acceptor, builders, limits) = (
            app.clone(),
            acceptor.clone(),
            builders.clone(),
            limits.clone(),
        );
        let watcher = graceful.watcher();
        let mut force_closed = force_closed.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = serve_connection(tcp, peer, app, acceptor, &builders, &limits, watcher) => {}
                _ = force_closed.wait_for(|closed| *closed) => {}
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing remaining connections");
            let _ = force_close.send(true);
        }
    }
}

/// One connection builder per protocol.
struct Builders {
    h1: auto::Builder<TokioExecutor>,
    h2: auto::Builder<TokioExecutor>,
}

/// The TLS record type of a handshake: every TLS client's first byte.
const TLS_HANDSHAKE: u8 = 0x16;

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Arc<App>,
    acceptor: TlsAcceptor,
    builders: &Builders,
    limits: &Limits,
    watcher: Watcher,
) {
    // One deadline for the first byte and the whole TLS handshake.
    let deadline = Instant::now() + limits.handshake_timeout;
    let mut first = [0u8; 1];
    match timeout_at(deadline, tcp.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return, // closed, failed, or silent
    }
    if first[0] != TLS_HANDSHAKE {
        refuse_plain_http(tcp, limits.handshake_timeout).await;
        tracing::info!(%peer, "refused a plain-HTTP request on the HTTPS port");
        return;
    }
    let mut stream = match timeout_at(deadline, acceptor.accept(tcp)).await {
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
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let svc = service_fn(move |req| service::handle(app.clone(), req));
    let result = if h2 {
        // HTTP/2 has no header-read timeout: the client's first bytes (its
        // connection preface) must arrive within the header-read timeout.
        let mut buf = vec![0u8; 4096];
        let n = match timeout(limits.header_read_timeout, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return,
        };
        buf.truncate(n);
        let io = TokioIo::new(Rewind::new(buf, stream));
        watcher
            .watch(builders.h2.serve_connection(io, svc).into_owned())
            .await
    } else {
        watcher
            .watch(
                builders
                    .h1
                    .serve_connection(TokioIo::new(stream), svc)
                    .into_owned(),
            )
            .await
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// An I/O stream that first yields bytes already read from it.
struct Rewind<T> {
    prefix: Option<bytes::Bytes>,
    inner: T,
}

impl<T> Rewind<T> {
    fn new(prefix: Vec<u8>, inner: T) -> Rewind<T> {
        Rewind {
            prefix: Some(bytes::Bytes::from(prefix)),
            inner,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Rewind<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(mut prefix) = self.prefix.take() {
            let n = prefix.len().min(buf.remaining());
            buf.put_slice(&prefix.split_to(n));
            if !prefix.is_empty() {
                self.prefix = Some(prefix);
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Rewind<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
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
