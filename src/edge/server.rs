//! The accept loop and the per-connection task: sniff plain HTTP, TLS
//! handshake under a timeout, then hyper-util's auto builder (HTTP/1.1 and
//! HTTP/2 through ALPN); graceful shutdown. Around the request pipeline:
//! HEAD answers lose their body (on both protocols), each connection counts
//! its open requests so an HTTP/2 connection with none for the idle timeout
//! is closed with GOAWAY, and an HTTP/2 request body left unread (a refusal
//! such as 413) is drained, bounded, so the client can finish sending and
//! read the answer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_rustls::TlsAcceptor;

use super::app::App;
use super::auth::KeyMemo;
use super::body;
use super::service;

/// Connection limits and timeouts.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Time allowed for the first byte and the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed to receive a request's headers (HTTP/1.1), and so how
    /// long a connection may sit between requests: an HTTP/1.1 connection
    /// waiting for its next request head, an HTTP/2 connection with no open
    /// stream (then closed with GOAWAY), or waiting for the HTTP/2 preface.
    pub header_read_timeout: Duration,
    /// Open connections at most; a further client waits (before its TLS
    /// handshake, then in the listen queue) while the connections that have
    /// served a request and have none open are closed to make room.
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
    let shared = Arc::new(Shared {
        builders: Builders::new(&limits),
        acceptor: TlsAcceptor::from(tls),
        app,
        limits,
    });
    // Counts the open connections for the shutdown.
    let graceful = GracefulShutdown::new();
    // Tells every connection to finish its requests and close (GOAWAY).
    let (drain, draining) = watch::channel(false);
    // Whether a client is waiting for a connection slot: then connections
    // that have served a request and have none open close.
    let (full, full_rx) = watch::channel(false);
    // Closes the connections still open when the grace period runs out.
    let (force_close, force_closed) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(shared.limits.max_connections));
    tokio::pin!(shutdown);

    loop {
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
        // A client over the limit waits here, before its TLS handshake,
        // while idle connections give their slots up.
        let Some(permit) = take_slot(&slots, &full, &mut shutdown).await else {
            break;
        };
        let _ = tcp.set_nodelay(true);
        let shared = shared.clone();
        let watcher = graceful.watcher();
        let signals = Signals {
            draining: draining.clone(),
            full: full_rx.clone(),
        };
        let mut force_closed = force_closed.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = serve_connection(tcp, peer, &shared, watcher, signals) => {}
                _ = force_closed.wait_for(|closed| *closed) => {}
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    let _ = drain.send(true);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(shared.limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing remaining connections");
            let _ = force_close.send(true);
        }
    }
}

/// A connection slot, at once if one is free; otherwise `full` is raised
/// (idle connections give theirs up) until one is. `None` once `shutdown`
/// completes first.
async fn take_slot<F: Future<Output = ()>>(
    slots: &Arc<Semaphore>,
    full: &watch::Sender<bool>,
    shutdown: &mut Pin<&mut F>,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(p) = slots.clone().try_acquire_owned() {
        return Some(p);
    }
    let _ = full.send(true);
    let p = tokio::select! {
        p = slots.clone().acquire_owned() => p.ok()?,
        () = shutdown => return None,
    };
    let _ = full.send(false);
    Some(p)
}

/// What every connection task shares.
struct Shared {
    app: Arc<App>,
    acceptor: TlsAcceptor,
    builders: Builders,
    limits: Limits,
}

/// One connection builder per protocol.
struct Builders {
    h1: auto::Builder<TokioExecutor>,
    h2: auto::Builder<TokioExecutor>,
}

impl Builders {
    fn new(limits: &Limits) -> Builders {
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
        Builders {
            h1: builder.clone().http1_only(),
            h2: builder.http2_only(),
        }
    }
}

/// The TLS record type of a handshake: every TLS client's first byte.
const TLS_HANDSHAKE: u8 = 0x16;

/// The first byte and the TLS handshake, under one deadline; a plain-HTTP
/// request is answered and refused. `None` when the connection is done.
async fn handshake(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let limits = &shared.limits;
    let deadline = Instant::now() + limits.handshake_timeout;
    let mut first = [0u8; 1];
    match timeout_at(deadline, tcp.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return None, // closed, failed, or silent
    }
    if first[0] != TLS_HANDSHAKE {
        refuse_plain_http(tcp, limits.handshake_timeout).await;
        tracing::info!(%peer, "refused a plain-HTTP request on the HTTPS port");
        return None;
    }
    match timeout_at(deadline, shared.acceptor.accept(tcp)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::info!(%peer, error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::info!(%peer, "TLS handshake timed out");
            None
        }
    }
}

async fn serve_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    // Held until the connection is done: the shutdown waits for it.
    _watcher: Watcher,
    mut signals: Signals,
) {
    let Some(mut stream) = handshake(tcp, peer, shared).await else {
        return;
    };
    let limits = &shared.limits;
    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
    let mut prefix = Vec::new();
    if h2 {
        // HTTP/2 has no header-read timeout: the client's first bytes (its
        // connection preface) must arrive within the header-read timeout.
        prefix = vec![0u8; 4096];
        let n = match timeout(limits.header_read_timeout, stream.read(&mut prefix)).await {
            Ok(Ok(n)) if n > 0 => n,
            _ => return,
        };
        prefix.truncate(n);
    }
    let streams = Arc::new(Streams::new(h2));
    let svc = service(shared.app.clone(), h2, streams.clone());
    let builder = if h2 {
        &shared.builders.h2
    } else {
        &shared.builders.h1
    };
    let io = TokioIo::new(Rewind::new(prefix, stream));
    let conn = builder.serve_connection(io, svc).into_owned();
    tokio::pin!(conn);
    let idle = limits.header_read_timeout;
    let mut closing = false;
    let result = loop {
        tokio::select! {
            biased;
            r = conn.as_mut() => break r,
            // HTTP/1.1 idles out through hyper's header-read timeout.
            () = idle_for(&streams, idle), if h2 && !closing => {
                tracing::debug!(%peer, "closing an idle HTTP/2 connection");
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = wanted_back(&mut signals.full, &streams), if !closing => {
                tracing::debug!(%peer, "closing an idle connection: a client waits for its slot");
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = signals.draining.wait_for(|d| *d), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// The connection's service: the request pipeline, with each request
/// counted open until its response is done, HEAD answers without a body,
/// and (HTTP/2) an unread request body drained.
fn service(
    app: Arc<App>,
    h2: bool,
    streams: Arc<Streams>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<ResponseBody>,
    Error = service::CloseConnection,
    Future = impl Future<Output = Result<Response<ResponseBody>, service::CloseConnection>> + Send,
> + Clone {
    let drain = h2.then(|| Drain {
        max_bytes: app.settings.max_body.saturating_mul(DRAIN_FACTOR),
        wait: app.settings.body_read_timeout,
    });
    let keys = Arc::new(KeyMemo::default()); // the key this connection sent last
    service_fn(move |req: Request<Incoming>| {
        let app = app.clone();
        let keys = keys.clone();
        let stream = OpenStream::new(streams.clone());
        let head = req.method() == Method::HEAD;
        let req = req.map(|body| RequestBody {
            inner: Some(body),
            drain,
        });
        async move {
            let response = service::handle(app, keys, req).await?;
            Ok::<_, service::CloseConnection>(finish(response, head, stream))
        }
    })
}

/// What the accept loop tells every connection.
struct Signals {
    /// The server is shutting down: finish the requests in flight and close.
    draining: watch::Receiver<bool>,
    /// A client is waiting for a connection slot.
    full: watch::Receiver<bool>,
}

/// The requests of one connection, counted with atomics so that serving a
/// request wakes nobody: only a task waiting for the connection to fall
/// idle (an HTTP/2 idle timer, or a client waiting for a slot) is woken,
/// when the last open request ends.
#[derive(Debug)]
struct Streams {
    /// Requests whose response is not yet done.
    open: AtomicUsize,
    /// Requests seen so far.
    served: AtomicU64,
    /// Tasks waiting for `open` to reach 0.
    watchers: AtomicUsize,
    /// Told when `open` reaches 0 while someone watches.
    idle: Notify,
    /// When `open` last reached 0 (or the connection began), in
    /// nanoseconds since `since`.
    ended_ns: AtomicU64,
    since: Instant,
    /// Whether `ended_ns` is kept (for the HTTP/2 idle timer).
    timed: bool,
}

impl Streams {
    fn new(timed: bool) -> Streams {
        Streams {
            open: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            watchers: AtomicUsize::new(0),
            idle: Notify::new(),
            ended_ns: AtomicU64::new(0),
            since: Instant::now(),
            timed,
        }
    }

    fn is_idle(&self) -> bool {
        self.open.load(SeqCst) == 0
    }

    /// When the connection last fell idle.
    fn idle_since(&self) -> Instant {
        self.since + Duration::from_nanos(self.ended_ns.load(SeqCst))
    }

    /// Resolves once no request is open (and, with `served`, at least one
    /// was served).
    async fn until_idle(&self, served: bool) {
        self.watchers.fetch_add(1, SeqCst);
        let _unwatch = Unwatch(&self.watchers);
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // registered before the check, so an end in between still wakes it
            notified.as_mut().enable();
            if self.is_idle() && (!served || self.served.load(SeqCst) > 0) {
                return;
            }
            notified.await;
        }
    }
}

/// Takes a watcher off the count when its wait ends (or is dropped).
struct Unwatch<'a>(&'a AtomicUsize);

impl Drop for Unwatch<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

/// Resolves once no request has been open on the connection for `idle`
/// (counted from the end of the last one, or from the start).
async fn idle_for(streams: &Streams, idle: Duration) {
    loop {
        streams.until_idle(false).await;
        let since = streams.idle_since();
        let served = streams.served.load(SeqCst);
        tokio::time::sleep_until(since + idle).await;
        // no request came and went meanwhile, and none is open
        if streams.is_idle()
            && streams.served.load(SeqCst) == served
            && streams.idle_since() == since
        {
            return;
        }
    }
}

/// Resolves while a client waits for a connection slot and this one has
/// served a request and has none open: an idle client gives its slot to the
/// next one at once (a connection still waiting for its first request is
/// left to the handshake and header-read timeouts).
async fn wanted_back(full: &mut watch::Receiver<bool>, streams: &Streams) {
    loop {
        if !*full.borrow_and_update() {
            if full.changed().await.is_err() {
                return std::future::pending().await;
            }
            continue;
        }
        tokio::select! {
            () = streams.until_idle(true) => return,
            r = full.changed() => {
                if r.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }
}

/// One request counted as open on its connection, from its head until its
/// response body is done or dropped.
struct OpenStream(Arc<Streams>);

impl OpenStream {
    fn new(streams: Arc<Streams>) -> OpenStream {
        streams.open.fetch_add(1, SeqCst);
        streams.served.fetch_add(1, SeqCst);
        OpenStream(streams)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        let s = &self.0;
        if s.open.fetch_sub(1, SeqCst) == 1 {
            if s.timed {
                let ns = u64::try_from(s.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
                s.ended_ns.store(ns, SeqCst);
            }
            if s.watchers.load(SeqCst) > 0 {
                s.idle.notify_waiters();
            }
        }
    }
}

/// The answer as sent: HEAD answers keep their headers (and the
/// Content-Length of the body a GET would carry) but no body, on both
/// protocols (RFC 9110 section 9.3.2, RFC 9113 section 8.1).
fn finish(
    response: Response<body::Body>,
    head: bool,
    stream: OpenStream,
) -> Response<ResponseBody> {
    let (mut parts, body) = response.into_parts();
    let body = if head {
        if let Some(len) = body.size_hint().exact() {
            parts
                .headers
                .entry(header::CONTENT_LENGTH)
                .or_insert(HeaderValue::from(len));
        }
        Full::new(Bytes::new())
    } else {
        body
    };
    let stream = (!body.is_end_stream()).then_some(stream);
    Response::from_parts(
        parts,
        ResponseBody {
            inner: body,
            stream,
        },
    )
}

/// A response body that keeps its request counted as open until it is done.
struct ResponseBody {
    inner: body::Body,
    /// Dropped at the end of the body (or with it).
    stream: Option<OpenStream>,
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(frame, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.stream = None;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// How much of an unread HTTP/2 request body is drained: `DRAIN_FACTOR`
/// times `--max-body`, within the body read timeout.
const DRAIN_FACTOR: usize = 4;

/// The bounds of draining one unread request body.
#[derive(Clone, Copy, Debug)]
struct Drain {
    max_bytes: usize,
    wait: Duration,
}

/// A request body that, over HTTP/2, is drained when the pipeline drops it
/// unread (an early answer such as 401 or 413): a client that sends its
/// whole body before reading the answer can then finish and read it. Past
/// the bounds the body is dropped and the stream reset (NO_ERROR once the
/// answer is complete).
struct RequestBody {
    inner: Option<Incoming>,
    /// None over HTTP/1.1, where hyper closes the connection instead.
    drain: Option<Drain>,
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.inner.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        let (Some(mut body), Some(drain)) = (self.inner.take(), self.drain) else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        if body
            .size_hint()
            .upper()
            .is_some_and(|n| n > drain.max_bytes as u64)
        {
            return; // more than the drain takes: reset at once
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let mut left = drain.max_bytes;
            let _ = timeout(drain.wait, async {
                while let Some(Ok(frame)) = body.frame().await {
                    let n = frame.data_ref().map_or(0, Bytes::len);
                    if n > left {
                        break;
                    }
                    left -= n;
                }
            })
            .await;
        });
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
            // an empty prefix would read as the end of the stream
            prefix: (!prefix.is_empty()).then(|| Bytes::from(prefix)),
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
