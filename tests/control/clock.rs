//! The sandbox clock.

use super::*;

// ----------------------------------------------------------------- 5. clock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advancing_the_clock_moves_now_and_the_offset() {
    let t = Client::start().await;
    let c = t.admin("/_sandbox/clock").await;
    assert_eq!(c["offset_seconds"].as_f64(), Some(0.0), "{c}");
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let before = ms(c["now"].as_str().unwrap());
    assert!(
        (before - real).abs() < 5_000,
        "starts at the real time: {c}"
    );

    let r = t
        .post(ADMIN, "/_sandbox/clock", &json!({"advance": 7200}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["offset_seconds"].as_f64(),
        Some(7200.0),
        "{}",
        r.text
    );
    let moved = ms(r.body["now"].as_str().unwrap()) - before;
    assert!(
        (7_200_000..7_200_000 + 20_000).contains(&moved),
        "now moved by {moved} ms"
    );
    let c = t.admin("/_sandbox/clock").await;
    assert_eq!(c["offset_seconds"].as_f64(), Some(7200.0), "{c}");
    assert!(ms(c["now"].as_str().unwrap()) - before >= 7_200_000);
}
