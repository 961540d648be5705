//! Connection limits and timeouts over real sockets: the handshake timeout,
//! the header read timeout, the request head size limit, the connection
//! limit, and graceful shutdown (src/server.rs, `Limits`).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use cleverfox_sandbox::edge::server::Limits;
use common::*;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// How long a connection that should still be open is watched.
const STILL_OPEN: Duration = Duration::from_millis(50);

/// Short limits for one test; the caller overrides what it tests.
fn short_limits() -> Limits {
    Limits {
        handshake_timeout: Duration::from_millis(400),
        header_read_timeout: Duration::from_millis(400),
        max_connections: 64,
        max_header_bytes: 16 * 1024,
        shutdown_grace: Duration::from_secs(2),
    }
}

async fn sandbox(limits: Limits) -> Sandbox {
    Sandbox::with(Config {
        limits: Some(limits),
        ..Config::default()
    })
    .await
}

/// A TLS client (HTTP/1.1 by ALPN) that trusts only the sandbox's CA.
fn connector(sb: &Sandbox) -> TlsConnector {
    connector_alpn(sb, &[b"http/1.1"])
}

/// A TLS client offering `alpn` (none when empty) that trusts only the sandbox's CA.
fn connector_alpn(sb: &Sandbox, alpn: &[&[u8]]) -> TlsConnector {
    TlsConnector::from(Arc::new(sb.tls_config(alpn)))
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// A completed TLS handshake with the sandbox (HTTP/1.1 by ALPN).
async fn tls_connect(sb: &Sandbox) -> TlsStream<TcpStream> {
    tls_connect_with(sb, connector(sb)).await
}

async fn tls_connect_with(sb: &Sandbox, connector: TlsConnector) -> TlsStream<TcpStream> {
    let tcp = timeout(STEP, TcpStream::connect(sb.addr))
        .await
        .expect("TCP connect in time")
        .expect("TCP connect");
    timeout(STEP, connector.connect(localhost(), tcp))
        .await
        .expect("TLS handshake in time")
        .expect("TLS handshake")
}

/// `GET path` with the partner key (HTTP/1.1, keep-alive), plus `extra`
/// header lines (each ending in CRLF).
fn get_request(path: &str, extra: &str) -> Vec<u8> {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{PARTNER1}:x"));
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {auth}\r\n{extra}\r\n")
        .into_bytes()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn status_of(head: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(head);
    let line = text.lines().next().unwrap_or_default();
    assert!(line.starts_with("HTTP/1.1 "), "not a response: {text:?}");
    line[9..12]
        .parse()
        .unwrap_or_else(|_| panic!("status line: {line:?}"))
}

/// Reads one whole HTTP/1.1 response (Content-Length or chunked) and
/// returns its status; the connection stays usable.
async fn read_response<S: AsyncRead + Unpin>(s: &mut S) -> u16 {
    timeout(STEP, async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let n = s.read(&mut chunk).await.expect("read response head");
            assert!(n > 0, "connection closed mid-head: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse::<usize>().expect("content-length"));
        let chunked = head.contains("transfer-encoding: chunked");
        loop {
            let body = &buf[head_end..];
            let done = match length {
                Some(len) => body.len() >= len,
                None if chunked => body.ends_with(b"0\r\n\r\n"),
                None => panic!("response without a length: {head}"),
            };
            if done {
                break;
            }
            let n = s.read(&mut chunk).await.expect("read response body");
            assert!(n > 0, "connection closed mid-body");
            buf.extend_from_slice(&chunk[..n]);
        }
        status_of(&buf[..head_end])
    })
    .await
    .expect("whole response in time")
}

/// Asserts the peer has not closed the connection (nor sent anything):
/// a short read times out.
async fn assert_still_open<S: AsyncRead + Unpin>(s: &mut S, what: &str) {
    let mut buf = [0u8; 256];
    match timeout(STILL_OPEN, s.read(&mut buf)).await {
        Err(_) => {}
        Ok(r) => panic!("{what}: expected an open, silent connection, read gave {r:?}"),
    }
}

/// Reads until the peer closes (Ok(0) or an error) within `bound`;
/// returns every byte received before that.
async fn read_until_closed<S: AsyncRead + Unpin>(
    s: &mut S,
    bound: Duration,
    what: &str,
) -> Vec<u8> {
    let mut got = Vec::new();
    let closed = timeout(bound, async {
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "{what}: the connection was still open after {bound:?} (received {:?})",
        String::from_utf8_lossy(&got)
    );
    got
}

// ------------------------------------------------------------------ timeouts

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tcp_client_that_sends_nothing_is_disconnected_after_the_handshake_timeout() {
    let limits = short_limits();
    let hs = limits.handshake_timeout;
    let sb = sandbox(limits).await;

    let mut tcp = timeout(STEP, TcpStream::connect(sb.addr))
        .await
        .expect("connect in time")
        .expect("connect");
    let connected = Instant::now();
    assert_still_open(&mut tcp, "just after connecting").await;

    let got = read_until_closed(&mut tcp, hs * 5, "silent TCP client").await;
    let lived = connected.elapsed();
    assert!(got.is_empty(), "the server sent {got:?} to a silent client");
    assert!(
        lived >= hs * 8 / 10,
        "closed after {lived:?}, before the {hs:?} handshake timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_request_head_is_cut_off_after_the_header_read_timeout() {
    let limits = short_limits();
    let hr = limits.header_read_timeout;
    let sb = sandbox(limits).await;

    let mut tls = tls_connect(&sb).await;
    timeout(STEP, async {
        tls.write_all(b"GET /api/companies HTTP/1.1\r\nHost: localhost\r\n")
            .await?;
        tls.flush().await
    })
    .await
    .expect("write in time")
    .expect("write the partial head");
    let sent = Instant::now();
    assert_still_open(&mut tls, "just after the partial head").await;

    let got = read_until_closed(&mut tls, hr * 5, "partial request head").await;
    let lived = sent.elapsed();
    if !got.is_empty() {
        // hyper may answer 408 before closing; nothing else is acceptable.
        let head_end = find(&got, b"\r\n\r\n").map_or(got.len(), |i| i + 4);
        assert_eq!(status_of(&got[..head_end]), 408, "{got:?}");
    }
    assert!(
        lived >= hr * 8 / 10,
        "closed after {lived:?}, before the {hr:?} header read timeout"
    );
}

/// After the TLS handshake neither timeout may stop applying: a client that
/// completes TLS and then never sends a byte must not hold its connection
/// (and a `max_connections` slot) for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_client_that_never_sends_a_request_is_disconnected() {
    let limits = short_limits();
    let bound = (limits.handshake_timeout + limits.header_read_timeout) * 5;
    let sb = sandbox(limits).await;

    let mut tls = tls_connect(&sb).await;
    assert_still_open(&mut tls, "just after the handshake").await;
    let got = read_until_closed(&mut tls, bound, "TLS client that sends nothing").await;
    assert!(got.is_empty(), "the server sent {got:?}");
}

/// The same for a client that negotiated HTTP/2 (which has no header-read
/// timeout of its own: its preface must come in time) or no ALPN at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_clients_are_disconnected_whatever_protocol_they_negotiated() {
    let limits = short_limits();
    let bound = (limits.handshake_timeout + limits.header_read_timeout) * 5;
    let sb = sandbox(limits).await;
    for (alpn, what) in [(&[&b"h2"[..]][..], "h2"), (&[][..], "no ALPN")] {
        let mut tls = tls_connect_with(&sb, connector_alpn(&sb, alpn)).await;
        let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        assert_eq!(negotiated, alpn.first().map(|p| p.to_vec()), "{what}");
        assert_still_open(&mut tls, what).await;
        let got = read_until_closed(&mut tls, bound, what).await;
        // HTTP/2 servers may send their SETTINGS frame first; nothing else.
        assert!(
            what == "h2" || got.is_empty(),
            "{what}: the server sent {got:?}"
        );
    }
}

/// A request body that stops arriving is answered 408 once the body read
/// timeout has passed; the server does not wait for it for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_gets_408() {
    let settings = cleverfox_sandbox::config::Settings {
        body_read_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let sb = Sandbox::with(Config {
        limits: Some(short_limits()),
        settings,
        ..Config::default()
    })
    .await;
    let mut tls = tls_connect(&sb).await;
    let head = "POST /api/companies HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic ZGVtby1wYXJ0bmVyLTE6\r\n\
                Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Name\": ";
    timeout(STEP, tls.write_all(head.as_bytes()))
        .await
        .expect("write in time")
        .expect("write");
    assert_eq!(read_response(&mut tls).await, 408);
    let companies = sb
        .get_json(common::PARTNER1, "/api/companies?PageSize=500")
        .await;
    assert!(
        companies["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["CompanyId"].as_i64() < Some(8)),
        "nothing was created"
    );
}

// ------------------------------------------------------------------ sizes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_head_over_max_header_bytes_is_refused_and_the_server_survives() {
    let limits = Limits {
        max_header_bytes: 16 * 1024,
        // Long enough that only the size limit can end the big request.
        header_read_timeout: Duration::from_secs(30),
        ..short_limits()
    };
    let sb = sandbox(limits).await;

    // The same request with a small header is answered 200 (so the refusal
    // below is about the size alone).
    let mut tls = tls_connect(&sb).await;
    let small = format!("X-Padding: {}\r\n", "a".repeat(1024));
    timeout(STEP, tls.write_all(&get_request("/api/companies", &small)))
        .await
        .expect("write in time")
        .expect("write");
    assert_eq!(read_response(&mut tls).await, 200);
    drop(tls);

    // 40 KiB in one header: over the 16 KiB limit, under the 64 KiB default.
    let mut tls = tls_connect(&sb).await;
    // `Connection: close`, so that a wrongful answer ends the connection too.
    let big = format!(
        "X-Padding: {}\r\nConnection: close\r\n",
        "a".repeat(40 * 1024)
    );
    // The server may close while the head is still being written.
    let _ = timeout(STEP, async {
        tls.write_all(&get_request("/api/companies", &big)).await?;
        tls.flush().await
    })
    .await
    .expect("write in time (or fail)");
    let got = read_until_closed(&mut tls, STEP, "over-size request head").await;
    if !got.is_empty() {
        let head_end = find(&got, b"\r\n\r\n").map_or(got.len(), |i| i + 4);
        assert_eq!(
            status_of(&got[..head_end]),
            431,
            "{}",
            String::from_utf8_lossy(&got[..head_end])
        );
    }

    // The server still answers on a new connection.
    let r = timeout(STEP, sb.get(PARTNER1, "/api/companies"))
        .await
        .expect("answer in time");
    assert_eq!(r.status(), 200);
}

// ------------------------------------------------------------------ connections

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_holds_further_clients_until_a_connection_closes() {
    let limits = Limits {
        max_connections: 2,
        // Long, so the idle connections below stay open however the server
        // treats idle clients: only the connection limit is under test.
        handshake_timeout: Duration::from_secs(30),
        header_read_timeout: Duration::from_secs(30),
        ..short_limits()
    };
    let sb = sandbox(limits).await;

    let mut first = tls_connect(&sb).await;
    let _second = tls_connect(&sb).await;

    let tcp = timeout(STEP, TcpStream::connect(sb.addr))
        .await
        .expect("TCP connect in time (the listen queue)")
        .expect("TCP connect");
    let mut third = Box::pin(connector(&sb).connect(localhost(), tcp));
    assert!(
        timeout(Duration::from_millis(300), &mut third)
            .await
            .is_err(),
        "a third TLS handshake completed with max_connections = 2"
    );

    // Close the first connection (close_notify, then the socket).
    let _ = timeout(STEP, first.shutdown()).await;
    drop(first);

    let mut third = timeout(STEP, third)
        .await
        .expect("the third handshake completes once a slot is free")
        .expect("TLS handshake");
    timeout(STEP, third.write_all(&get_request("/api/companies", "")))
        .await
        .expect("write in time")
        .expect("write");
    assert_eq!(read_response(&mut third).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_closes_idle_keep_alive_connections_and_the_port() {
    let limits = Limits {
        // Long: stop() must not wait for either to end the idle connection.
        header_read_timeout: Duration::from_secs(30),
        shutdown_grace: Duration::from_secs(30),
        ..short_limits()
    };
    let sb = sandbox(limits).await;
    let addr = sb.addr;

    let mut tls = tls_connect(&sb).await;
    timeout(STEP, tls.write_all(&get_request("/api/companies", "")))
        .await
        .expect("write in time")
        .expect("write");
    assert_eq!(read_response(&mut tls).await, 200);
    assert_still_open(&mut tls, "keep-alive connection after a request").await;

    let started = Instant::now();
    timeout(Duration::from_secs(5), sb.stop())
        .await
        .expect("stop() returns well within the 30 s grace period");
    let took = started.elapsed();

    let got = read_until_closed(
        &mut tls,
        Duration::from_secs(2),
        "keep-alive connection after stop()",
    )
    .await;
    assert!(got.is_empty(), "unexpected bytes after stop(): {got:?}");

    let e = timeout(STEP, TcpStream::connect(addr))
        .await
        .expect("connect attempt in time")
        .expect_err("the port still accepts connections after stop()");
    assert_eq!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused,
        "{e} (stop took {took:?})"
    );
}

/// On shutdown, a request already in flight (held up by a latency fault)
/// still gets its answer, while the port stops taking new connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_finishes_during_a_graceful_stop() {
    let limits = Limits {
        shutdown_grace: Duration::from_secs(10),
        ..Limits::default()
    };
    let sb = sandbox(limits).await;
    let client = sb.client();
    let rule = sb
        .request(
            &client,
            Some(ADMIN),
            reqwest::Method::POST,
            "/_sandbox/faults",
            Some("application/json"),
            Some(r#"{"path": "/api/companies/1", "latency_ms": 800, "times": 1}"#.into()),
        )
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    let url = sb.url("/api/companies/1");
    let slow = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .get(url)
                .basic_auth(PARTNER1, None::<&str>)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    // The rule is used up (and listed no more) once the request has reached
    // the server and is waiting out its latency.
    let deadline = Instant::now() + STEP;
    loop {
        let rules = sb
            .request(
                &client,
                Some(ADMIN),
                reqwest::Method::GET,
                "/_sandbox/faults",
                None,
                None,
            )
            .await;
        if rules.body["data"].as_array().is_some_and(|d| d.is_empty()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the request never reached the server"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let addr = sb.addr;
    let started = Instant::now();
    timeout(STEP, sb.stop()).await.expect("stop returns");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "stop waited for the request in flight"
    );
    let status = timeout(STEP, slow)
        .await
        .expect("answered in time")
        .unwrap();
    assert_eq!(status.expect("the in-flight request was answered"), 200);
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the port is closed after the stop"
    );
}
