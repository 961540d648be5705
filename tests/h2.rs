//! HTTP/2 edge cases over real TLS with a strict HTTP/2 client (the `h2`
//! crate): HEAD answers carry no body, a body over `--max-body` is answered
//! 413 promptly and its stream reset, and an idle connection is closed with
//! GOAWAY, freeing its place under the connection limit.

mod common;

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use cleverfox_sandbox::config::Settings;
use cleverfox_sandbox::edge::server::Limits;
use common::*;
use http::{Method, Request, StatusCode};
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How soon an answer that needs no waiting must come.
const PROMPT: Duration = Duration::from_secs(5);

async fn tls_connect(sb: &Sandbox, alpn: &[u8]) -> TlsStream<TcpStream> {
    let tcp = bounded(TcpStream::connect(sb.addr))
        .await
        .expect("TCP connect");
    let connector = TlsConnector::from(Arc::new(sb.tls_config(&[alpn])));
    let tls = bounded(connector.connect(ServerName::try_from("localhost").unwrap(), tcp))
        .await
        .expect("TLS handshake");
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn), "ALPN");
    tls
}

/// The HTTP/2 frame type of GOAWAY.
const GOAWAY: u8 = 0x7;

/// The client's side of a TLS stream that notes the type of every HTTP/2
/// frame the server sends.
struct Tap {
    inner: TlsStream<TcpStream>,
    /// Frame types received, in order.
    frames: Arc<Mutex<Vec<u8>>>,
    /// The current frame header as it arrives.
    header: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    payload_left: usize,
}

impl Tap {
    fn note(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let n = self.payload_left.min(bytes.len());
                self.payload_left -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (9 - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.header.len() == 9 {
                let h = &self.header;
                self.payload_left =
                    (usize::from(h[0]) << 16) | (usize::from(h[1]) << 8) | usize::from(h[2]);
                self.frames.lock().unwrap().push(h[3]);
                self.header.clear();
            }
        }
    }
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if r.is_ready() {
            let got = buf.filled()[before..].to_vec();
            self.note(&got);
        }
        r
    }
}

impl AsyncWrite for Tap {
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
}

/// An HTTP/2 connection to the sandbox: the request handle, the task
/// driving the connection (which ends when the server closes it), and the
/// types of the frames the server sent.
struct H2 {
    send: h2::client::SendRequest<Bytes>,
    conn: JoinHandle<Result<(), h2::Error>>,
    frames: Arc<Mutex<Vec<u8>>>,
}

impl H2 {
    /// Waits until the server has closed the connection, after a GOAWAY.
    async fn assert_closed_with_goaway(self, what: &str) {
        let closed = timeout(STEP, self.conn)
            .await
            .unwrap_or_else(|_| panic!("{what}: the connection is still open"))
            .unwrap();
        let frames = self.frames.lock().unwrap().clone();
        assert!(
            frames.contains(&GOAWAY),
            "{what}: closed without GOAWAY ({closed:?}); frames: {frames:?}"
        );
        // The client may still be writing (a PING answer) as the server
        // closes: an I/O error is the client's, not a protocol error.
        if let Err(e) = closed {
            assert!(e.is_io(), "{what}: {e}");
        }
    }
}

/// Connects over HTTP/2; `window` is the client's initial stream window
/// (how much response body the server may send before the client reads).
async fn h2_connect(sb: &Sandbox, window: Option<u32>) -> H2 {
    let frames = Arc::new(Mutex::new(Vec::new()));
    let tls = Tap {
        inner: tls_connect(sb, b"h2").await,
        frames: frames.clone(),
        header: Vec::new(),
        payload_left: 0,
    };
    let mut builder = h2::client::Builder::new();
    if let Some(w) = window {
        builder.initial_window_size(w);
    }
    let (send, conn) = bounded(builder.handshake::<_, Bytes>(tls))
        .await
        .expect("h2 handshake");
    H2 {
        send,
        conn: tokio::spawn(conn),
        frames,
    }
}

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:x"))
    )
}

fn request(method: Method, path: &str, key: &str) -> http::request::Builder {
    Request::builder()
        .method(method)
        .uri(format!("https://localhost{path}"))
        .header("authorization", basic(key))
}

/// Reads a response body to its end, releasing flow-control capacity as it
/// goes; returns the bytes.
async fn read_body(body: &mut h2::RecvStream) -> Result<Vec<u8>, h2::Error> {
    let mut got = Vec::new();
    bounded(async {
        while let Some(chunk) = body.data().await {
            let chunk = chunk?;
            let _ = body.flow_control().release_capacity(chunk.len());
            got.extend_from_slice(&chunk);
        }
        Ok(got)
    })
    .await
}

/// Sends one request without a body and returns the response head and body
/// stream.
async fn send_empty(h2: &mut H2, req: Request<()>) -> (http::response::Parts, h2::RecvStream) {
    let mut send = bounded(h2.send.clone().ready()).await.expect("ready");
    let (resp, _stream) = send.send_request(req, true).expect("send request");
    let resp = bounded(resp).await.expect("response");
    resp.into_parts()
}

// ------------------------------------------------------------------ HEAD

/// RFC 9113 section 8.1: a response to HEAD has no content; the HEADERS
/// frame ends the stream. Over HTTP/2 as over HTTP/1.1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_carry_no_body_over_h2() {
    let sb = Sandbox::start().await;
    let mut h2 = h2_connect(&sb, None).await;
    for (path, status) in [
        ("/api/companies", 405),
        ("/api/companies/1", 405),
        ("/no/such/path", 404),
        ("/openapi.json", 404),
    ] {
        let req = request(Method::HEAD, path, PARTNER1).body(()).unwrap();
        let (head, mut body) = send_empty(&mut h2, req).await;
        assert_eq!(head.status, status, "HEAD {path}");
        assert!(
            head.headers.contains_key("x-request-id"),
            "HEAD {path}: the headers are those of the answer"
        );
        assert!(
            body.is_end_stream(),
            "HEAD {path}: the HEADERS frame did not end the stream"
        );
        let rest = read_body(&mut body).await;
        assert!(
            matches!(&rest, Ok(b) if b.is_empty()),
            "HEAD {path}: the answer carried a body: {rest:?}"
        );
    }
    // The same connection still serves bodies to GET.
    let req = request(Method::GET, "/api/companies/1", PARTNER1)
        .body(())
        .unwrap();
    let (head, mut body) = send_empty(&mut h2, req).await;
    assert_eq!(head.status, StatusCode::OK);
    let text = read_body(&mut body).await.expect("GET body");
    let json: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    assert_eq!(json["data"]["CompanyId"], 1);
    assert!(!h2.conn.is_finished(), "the connection survived");
}

/// Over HTTP/1.1 a HEAD answer is its head alone: the next response on the
/// connection follows the blank line directly; both protocols give the same
/// Content-Length (that of the body a non-HEAD answer would carry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_are_headers_only_over_http1_too() {
    let sb = Sandbox::start().await;
    let auth = basic(PARTNER1);
    let mut tls = tls_connect(&sb, b"http/1.1").await;
    let requests = format!(
        "HEAD /api/companies HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\r\n\
         GET /api/companies/1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    );
    bounded(tls.write_all(requests.as_bytes()))
        .await
        .expect("write");
    let mut got = Vec::new();
    let _ = bounded(tls.read_to_end(&mut got)).await;
    let text = String::from_utf8_lossy(&got);
    let (head, rest) = text.split_once("\r\n\r\n").expect("a response head");
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    assert!(
        rest.starts_with("HTTP/1.1 200"),
        "bytes between the HEAD answer and the next response: {rest:?}"
    );
    let h1_length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .expect("content-length on HTTP/1.1");

    let mut h2 = h2_connect(&sb, None).await;
    let req = request(Method::HEAD, "/api/companies", PARTNER1)
        .body(())
        .unwrap();
    let (h2_head, _) = send_empty(&mut h2, req).await;
    assert_eq!(
        h2_head
            .headers
            .get("content-length")
            .map(|v| v.to_str().unwrap()),
        Some(h1_length.as_str()),
        "HEAD gives the same Content-Length on both protocols"
    );
}

// ------------------------------------------------------------------ 413

/// How a body over the limit ended on the client's side.
#[derive(Debug)]
enum Upload {
    /// The server reset the stream (with this reason) before it was all sent.
    Reset(h2::Reason),
    /// Every byte went out.
    Sent,
}

/// Sends `total` bytes on `stream` as flow control allows, in 16 KiB
/// pieces, until done or reset.
async fn upload(mut stream: h2::SendStream<Bytes>, total: usize) -> Upload {
    let piece = Bytes::from(vec![b' '; 16 * 1024]);
    let mut sent = 0;
    while sent < total {
        let want = piece.len().min(total - sent);
        stream.reserve_capacity(want);
        let got = std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(r) = stream.poll_reset(cx) {
                return std::task::Poll::Ready(Err(r.ok()));
            }
            stream.poll_capacity(cx).map(Ok)
        })
        .await;
        let n = match got {
            Ok(Some(Ok(n))) if n > 0 => n.min(want),
            Ok(Some(Ok(_))) => continue,
            Err(Some(reason)) => return Upload::Reset(reason),
            _ => {
                return Upload::Reset(
                    std::future::poll_fn(|cx| stream.poll_reset(cx))
                        .await
                        .unwrap_or(h2::Reason::CANCEL),
                );
            }
        };
        if stream
            .send_data(piece.slice(..n), sent + n == total)
            .is_err()
        {
            return Upload::Reset(
                std::future::poll_fn(|cx| stream.poll_reset(cx))
                    .await
                    .unwrap_or(h2::Reason::CANCEL),
            );
        }
        sent += n;
    }
    Upload::Sent
}

/// Starts `POST /api/companies` with a body of `total` bytes (its
/// Content-Length declared or not) and uploads it in a task.
async fn post_big(
    h2: &mut H2,
    total: usize,
    declared: bool,
) -> (h2::client::ResponseFuture, JoinHandle<Upload>) {
    let mut req = request(Method::POST, "/api/companies", PARTNER1)
        .header("content-type", "application/json");
    if declared {
        req = req.header("content-length", total.to_string());
    }
    let mut send = bounded(h2.send.clone().ready()).await.expect("ready");
    let (resp, stream) = send
        .send_request(req.body(()).unwrap(), false)
        .expect("send request");
    (resp, tokio::spawn(upload(stream, total)))
}

/// Asserts a whole 413 answer (status and error body).
async fn assert_413(resp: http::Response<h2::RecvStream>, what: &str) {
    assert_eq!(resp.status(), 413, "{what}");
    let mut body = resp.into_body();
    let text = read_body(&mut body)
        .await
        .unwrap_or_else(|e| panic!("{what}: the 413 body: {e}"));
    let json: serde_json::Value =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text:?}"));
    assert!(
        json["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("over the limit")),
        "{what}: {json}"
    );
}

/// A 16 MiB body (with and without Content-Length) against the 1 MiB
/// default limit, from a client that reads as it sends, with stream windows
/// down to one byte: the 413 comes promptly, then the server resets the
/// stream (NO_ERROR) so the client stops sending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_far_over_max_body_gets_a_prompt_413_and_a_reset_over_h2() {
    let sb = Sandbox::start().await;
    let before = sb.get_json(PARTNER1, "/api/companies?PageSize=500").await;
    for window in [1u32, 64, 65_535] {
        for declared in [true, false] {
            let what = format!("window {window}, content-length declared: {declared}");
            let mut h2 = h2_connect(&sb, Some(window)).await;
            let (resp, uploading) = post_big(&mut h2, 16 * 1024 * 1024, declared).await;
            let resp = timeout(PROMPT, resp)
                .await
                .unwrap_or_else(|_| panic!("{what}: no answer within {PROMPT:?}"))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_413(resp, &what).await;
            let upload = timeout(PROMPT, uploading)
                .await
                .unwrap_or_else(|_| panic!("{what}: the stream was not reset after the 413"))
                .unwrap();
            assert!(
                matches!(upload, Upload::Reset(h2::Reason::NO_ERROR)),
                "{what}: {upload:?}"
            );
            assert!(!h2.conn.is_finished(), "{what}: the connection survived");
        }
    }
    let after = sb.get_json(PARTNER1, "/api/companies?PageSize=500").await;
    assert_eq!(after["data"], before["data"], "nothing was created");
}

/// A 2 MiB body from a client that sends its whole body before it reads the
/// answer, through a window smaller than the 413's body: the upload is not
/// left waiting (the server takes the rest of the body, or resets the
/// stream), and then the whole 413 is there to read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_everything_first_still_gets_its_413_over_h2() {
    let sb = Sandbox::start().await;
    for window in [1u32, 64] {
        for declared in [true, false] {
            let what = format!("window {window}, content-length declared: {declared}");
            let mut h2 = h2_connect(&sb, Some(window)).await;
            let (resp, uploading) = post_big(&mut h2, 2 * 1024 * 1024, declared).await;
            let upload = timeout(PROMPT, uploading)
                .await
                .unwrap_or_else(|_| panic!("{what}: the upload was left waiting"))
                .unwrap();
            assert!(
                matches!(upload, Upload::Sent | Upload::Reset(h2::Reason::NO_ERROR)),
                "{what}: {upload:?}"
            );
            let resp = timeout(PROMPT, resp)
                .await
                .unwrap_or_else(|_| panic!("{what}: no answer within {PROMPT:?}"))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_413(resp, &what).await;
        }
    }
}

// ------------------------------------------------------------------ idle

fn idle_limits(idle: Duration, max_connections: usize) -> Limits {
    Limits {
        header_read_timeout: idle,
        max_connections,
        shutdown_grace: Duration::from_secs(2),
        ..Limits::default()
    }
}

/// An HTTP/2 connection with no open stream for the idle timeout is closed
/// with GOAWAY, however faithfully the client answers PINGs; while a stream
/// is open it is not idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_h2_connection_is_closed_with_goaway() {
    let idle = Duration::from_millis(500);
    let sb = Sandbox::with(Config {
        limits: Some(idle_limits(idle, 64)),
        ..Config::default()
    })
    .await;
    let mut h2 = h2_connect(&sb, None).await;
    let req = request(Method::GET, "/api/companies/1", PARTNER1)
        .body(())
        .unwrap();
    let (head, mut body) = send_empty(&mut h2, req).await;
    assert_eq!(head.status, 200);
    read_body(&mut body).await.expect("body");
    let answered = Instant::now();

    let send = h2.send.clone();
    h2.assert_closed_with_goaway("idle connection").await;
    let lived = answered.elapsed();
    assert!(
        lived >= idle * 8 / 10,
        "closed after {lived:?}, before the {idle:?} idle timeout"
    );
    // The handle knows the connection is gone.
    let after = timeout(STEP, send.ready()).await.expect("bounded");
    assert!(after.is_err(), "the client can still send after GOAWAY");
}

/// A response still being read keeps its connection open past the idle
/// timeout: the stream is open until its body is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2_stream_whose_body_is_unread_keeps_its_connection() {
    let idle = Duration::from_millis(300);
    let sb = Sandbox::with(Config {
        limits: Some(idle_limits(idle, 64)),
        ..Config::default()
    })
    .await;
    // A one-byte window: the server cannot finish the body until the client reads.
    let mut h2 = h2_connect(&sb, Some(1)).await;
    let req = request(Method::GET, "/api/companies", PARTNER1)
        .body(())
        .unwrap();
    let (head, mut body) = send_empty(&mut h2, req).await;
    assert_eq!(head.status, 200);
    let first = bounded(body.data()).await.expect("a byte").expect("data");
    assert_eq!(first.len(), 1);
    // Wait out three idle timeouts with the body unfinished (polling that
    // the connection stays up).
    let until = Instant::now() + idle * 3;
    while Instant::now() < until {
        assert!(
            !h2.conn.is_finished(),
            "the connection was closed while a response was being sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = body.flow_control().release_capacity(first.len());
    let mut text = first.to_vec();
    text.extend(read_body(&mut body).await.expect("the rest of the body"));
    let json: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    assert!(json["data"].is_array(), "{json}");
    // Then it idles out.
    h2.assert_closed_with_goaway("once idle").await;
}

/// Reads one HTTP/1.1 response with a Content-Length; returns its status.
async fn read_h1_response(tls: &mut TlsStream<TcpStream>) -> u16 {
    bounded(async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .expect("content-length");
                if body.len() >= length {
                    return head[9..12].parse().unwrap();
                }
            }
            let n = tls.read(&mut chunk).await.expect("read");
            assert!(n > 0, "closed mid-response: {text:?}");
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
}

/// With `max_connections` taken by a client that made a request and then
/// sits idle (HTTP/2 answering PINGs, or HTTP/1.1 keep-alive), a new client
/// is served at once, long before the idle timeout: the idle connection
/// gives its slot up (HTTP/2 with GOAWAY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_do_not_hold_the_connection_limit() {
    for idler_h2 in [true, false] {
        let what = if idler_h2 {
            "h2 idler"
        } else {
            "HTTP/1.1 idler"
        };
        let sb = Sandbox::with(Config {
            limits: Some(idle_limits(Duration::from_secs(60), 1)),
            ..Config::default()
        })
        .await;
        let mut idler_h2_conn = None;
        let mut idler_h1_conn = None;
        if idler_h2 {
            let mut h2 = h2_connect(&sb, None).await;
            let req = request(Method::GET, "/api/companies/1", PARTNER1)
                .body(())
                .unwrap();
            let (head, mut body) = send_empty(&mut h2, req).await;
            assert_eq!(head.status, 200, "{what}");
            read_body(&mut body).await.expect("body");
            idler_h2_conn = Some(h2);
        } else {
            let mut h1 = tls_connect(&sb, b"http/1.1").await;
            let get = format!(
                "GET /api/companies/1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\n\r\n",
                basic(PARTNER1)
            );
            bounded(h1.write_all(get.as_bytes())).await.expect("write");
            assert_eq!(read_h1_response(&mut h1).await, 200, "{what}");
            idler_h1_conn = Some(h1);
        }

        let started = Instant::now();
        let mut next = timeout(PROMPT, h2_connect(&sb, None))
            .await
            .unwrap_or_else(|_| panic!("{what}: the next client did not get a slot"));
        let req = request(Method::GET, "/api/companies/2", PARTNER1)
            .body(())
            .unwrap();
        let (head, _) = timeout(PROMPT, send_empty(&mut next, req))
            .await
            .expect("answered promptly");
        assert_eq!(head.status, 200, "{what}");
        assert!(started.elapsed() < PROMPT, "{what}");

        if let Some(h2) = idler_h2_conn {
            h2.assert_closed_with_goaway(what).await;
        }
        if let Some(mut h1) = idler_h1_conn {
            let mut rest = Vec::new();
            let eof = timeout(PROMPT, h1.read_to_end(&mut rest)).await;
            assert!(eof.is_ok(), "the idle HTTP/1.1 connection closed");
            assert!(rest.is_empty(), "{rest:?}");
        }
    }
}

/// A connection with a request in progress keeps its slot: the waiting
/// client gets in when that request is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_an_open_request_keeps_its_slot() {
    let sb = Sandbox::with(Config {
        limits: Some(idle_limits(Duration::from_secs(60), 1)),
        ..Config::default()
    })
    .await;
    // A one-byte window holds the answer open until the client reads.
    let mut busy = h2_connect(&sb, Some(1)).await;
    let req = request(Method::GET, "/api/companies", PARTNER1)
        .body(())
        .unwrap();
    let (head, mut body) = send_empty(&mut busy, req).await;
    assert_eq!(head.status, 200);
    let first = bounded(body.data()).await.unwrap().unwrap();

    let waiting = tokio::spawn({
        let addr = sb.addr;
        let config = sb.tls_config(&[b"h2"]);
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            TlsConnector::from(Arc::new(config))
                .connect(ServerName::try_from("localhost").unwrap(), tcp)
                .await
                .map(|_| ())
        }
    });
    // Poll for 300 ms: the waiting client does not get the busy slot.
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        assert!(
            !waiting.is_finished(),
            "the busy connection gave up its slot"
        );
        assert!(!busy.conn.is_finished(), "the busy connection was closed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = body.flow_control().release_capacity(first.len());
    let mut text = first.to_vec();
    text.extend(read_body(&mut body).await.expect("the rest"));
    let json: serde_json::Value = serde_json::from_slice(&text).expect("whole JSON");
    assert!(json["data"].is_array());
    // Done, the connection is idle and gives its slot to the waiting client.
    timeout(PROMPT, waiting)
        .await
        .expect("the waiting client got the slot")
        .unwrap()
        .expect("TLS handshake");
    busy.assert_closed_with_goaway("the busy connection, once done")
        .await;
}

/// A client reading with a tiny stream window still gets every byte of a
/// large answer (flow control is honoured, not worked around).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_answer_arrives_whole_through_a_small_window() {
    let sb = Sandbox::with(Config {
        settings: Settings::default(),
        ..Config::default()
    })
    .await;
    let mut h2 = h2_connect(&sb, Some(16)).await;
    let req = request(Method::GET, "/api/companies?PageSize=500", PARTNER1)
        .body(())
        .unwrap();
    let (head, mut body) = send_empty(&mut h2, req).await;
    assert_eq!(head.status, 200);
    let text = read_body(&mut body).await.expect("body");
    let json: serde_json::Value = serde_json::from_slice(&text).expect("JSON");
    assert!(!json["data"].as_array().unwrap().is_empty());
}
