//! The sandbox clock (API.md section 8).

use super::*;

// ------------------------------------------------------------------ the sandbox clock

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_can_be_read_advanced_and_set() {
    let t = start().await;
    let c = t.clock().await;
    let now = c["now"].as_str().expect("now");
    assert_eq!(now.len(), 23, "{now}");
    ms(now);
    let offset = c["offset_seconds"].as_f64().expect("offset_seconds");
    assert!(offset.abs() < 5.0, "starts at the real time: {offset}");

    let moved = t.move_clock(json!({ "advance": 3600 })).await;
    let off = moved["offset_seconds"].as_f64().unwrap();
    assert!((off - offset - 3600.0).abs() < 1.0, "{moved}");
    let moved_now = ms(moved["now"].as_str().unwrap());
    let diff = moved_now - ms(now);
    assert!(
        (3_600_000..3_610_000).contains(&diff),
        "advanced by {diff} ms"
    );
    assert_eq!(t.clock().await["offset_seconds"], moved["offset_seconds"]);

    let set = t
        .move_clock(json!({ "set": "2030-01-01T00:00:00.000" }))
        .await;
    let set_now = set["now"].as_str().unwrap();
    assert!(set_now.starts_with("2030-01-01T00:00:0"), "{set}");
    let later = t.now().await;
    assert!(later.as_str() >= set_now, "the clock runs on: {later}");
    // writes are stamped from it
    let rec = t
        .create(PARTNER1, "companies", &company_body("Stamped"))
        .await;
    assert!(
        rec["AddedOn"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-01T00:00:"),
        "{rec}"
    );
    // fractional advances and the clock going back in time
    let moved = t.move_clock(json!({ "advance": 1.5 })).await;
    assert!(
        moved["now"]
            .as_str()
            .unwrap()
            .starts_with("2030-01-01T00:00:"),
        "{moved}"
    );
    let past = t
        .move_clock(json!({ "set": "2020-06-01T12:00:00.000" }))
        .await;
    assert!(
        past["now"]
            .as_str()
            .unwrap()
            .starts_with("2020-06-01T12:00:0"),
        "{past}"
    );
    assert!(past["offset_seconds"].as_f64().unwrap() < 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_refuses_partner_keys_and_bad_bodies() {
    let t = start().await;
    t.move_clock(json!({ "set": "2030-01-01T00:00:00.000" }))
        .await;
    let offset = t.clock().await["offset_seconds"].as_f64().unwrap();
    for key in [PARTNER1, PARTNER2] {
        let r = t.get(key, "/_sandbox/clock").await;
        refused(&r, 403, &[]);
        let r = t
            .post(key, "/_sandbox/clock", &json!({ "advance": 3601 }))
            .await;
        refused(&r, 403, &[]);
    }
    let r = bounded(t.c.get(t.sb.url("/_sandbox/clock")).send())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    for body in [
        json!({ "advance": "soon" }),
        json!({ "advance": null }),
        json!({ "set": "yesterday" }),
        json!({ "set": 1_900_000_000 }),
        json!({ "set": "2030-13-01T00:00:00.000" }),
        json!({}),
        json!({ "advance": 1, "set": "2030-01-01T00:00:00.000" }),
        json!({ "speed": 2 }),
    ] {
        let r = t.post(ADMIN, "/_sandbox/clock", &body).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        r.errors();
    }
    for raw in ["{\"advance\": ", "[1]", "\"advance\""] {
        let r = t
            .request(
                Some(ADMIN),
                Method::POST,
                "/_sandbox/clock",
                Some("application/json"),
                Some(raw.into()),
            )
            .await;
        assert_eq!(r.status, 400, "{raw}: {}", r.text);
        r.errors();
    }
    let r = t
        .request(Some(ADMIN), Method::DELETE, "/_sandbox/clock", None, None)
        .await;
    refused(&r, 405, &[]);
    let allow = r.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let after = t.clock().await["offset_seconds"].as_f64().unwrap();
    assert!(
        (after - offset).abs() < 0.5,
        "a refused request moved the clock: {offset} -> {after}"
    );
}
