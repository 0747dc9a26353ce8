//! Bad verdicts get a clear 4xx naming the field, and leave nothing behind: no verdict row, no
//! photo file, no audit entry, the task unchanged.

mod common;

use chrono::Duration;
use common::dispatch::*;
use common::server::{ADMIN, PATROL_A1};
use common::stores::Backend;

on_both_stores!(bad_verdicts_are_refused_and_nothing_is_half_written,);

fn fields(lat: &str) -> Vec<(&'static str, String)> {
    vec![
        ("verdict", "burning".into()),
        ("lat", lat.into()),
        ("lon", "114.30".into()),
    ]
}

async fn bad_verdicts_are_refused_and_nothing_is_half_written(b: Backend) {
    let (ts, clock) = clocked_on(b, |c| c.limits.photo_bytes = 256 * 1024).await;
    hotspot(&ts, 35.60, 114.30, t0() - Duration::minutes(10)).await;
    let id = task_id_near(&ts, 35.60, 114.30).await;
    assert_eq!(act(&ts, id, "ack", PATROL_A1).await.0, 200);
    clock.advance(Duration::minutes(10));

    // Unknown task.
    let (status, v) = report(&ts, 999, PATROL_A1, "burning", 35.60, 114.30, photo_png(1)).await;
    assert_eq!(status, 404, "{v}");
    // No photo.
    let (status, v) = post_verdict(&ts, id, PATROL_A1, verdict_form(&fields("35.60"), None)).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("photo")), "{v}");
    // Not an image.
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec();
    let (status, v) = post_verdict(
        &ts,
        id,
        PATROL_A1,
        verdict_form(&fields("35.60"), Some(("report.png", pdf))),
    )
    .await;
    assert_eq!((status, v["field"].as_str()), (422, Some("photo")), "{v}");
    // An image, but not a photo format we take (WebP decodes; only JPEG and PNG are kept).
    let mut webp = Vec::new();
    image::DynamicImage::new_rgb8(32, 32)
        .write_to(
            &mut std::io::Cursor::new(&mut webp),
            image::ImageFormat::WebP,
        )
        .unwrap();
    let (status, v) = post_verdict(
        &ts,
        id,
        PATROL_A1,
        verdict_form(&fields("35.60"), Some(("x.webp", webp))),
    )
    .await;
    assert_eq!((status, v["field"].as_str()), (422, Some("photo")), "{v}");
    assert!(v["error"].as_str().unwrap().contains("JPEG or PNG"), "{v}");
    // Too big: 1 MiB against a 256 KiB limit. The server answers 413 at the limit and reads the
    // rest of the body before it closes (api::drain): the answer arrives every time, never a
    // reset or broken pipe in its place, so the POST is sent once.
    let big = vec![7u8; 1 << 20];
    let (status, v) = post_verdict(
        &ts,
        id,
        PATROL_A1,
        verdict_form(&fields("35.60"), Some(("big.png", big))),
    )
    .await;
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["limit_bytes"].as_u64(), Some(256 * 1024));
    // Bad fields, each named.
    for (form, field) in [
        (
            vec![
                ("verdict", "smoke".to_string()),
                ("lat", "35.6".into()),
                ("lon", "114.3".into()),
            ],
            "verdict",
        ),
        (
            vec![("lat", "35.6".to_string()), ("lon", "114.3".into())],
            "verdict",
        ),
        (
            vec![("verdict", "burning".to_string()), ("lon", "114.3".into())],
            "lat",
        ),
        (
            vec![
                ("verdict", "burning".to_string()),
                ("lat", "35.6".into()),
                ("lon", "east".into()),
            ],
            "lon",
        ),
        (
            vec![
                ("verdict", "burning".to_string()),
                ("lat", "35.6".into()),
                ("lon", "114.3".into()),
                ("time", "yesterday".into()),
            ],
            "time",
        ),
        (
            vec![
                ("verdict", "burning".to_string()),
                ("lat", "35.6".into()),
                ("lon", "114.3".into()),
                ("colour", "red".into()),
            ],
            "colour",
        ),
    ] {
        let (status, v) = post_verdict(
            &ts,
            id,
            PATROL_A1,
            verdict_form(&form, Some(("a.png", photo_png(2)))),
        )
        .await;
        assert_eq!((status, v["field"].as_str()), (400, Some(field)), "{v}");
    }
    // Not multipart at all.
    let (status, v) = ts
        .post(
            &format!("/api/v1/tasks/{id}/verdict"),
            PATROL_A1,
            "application/json",
            r#"{"verdict":"burning"}"#,
        )
        .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("body")), "{v}");

    // Nothing of it was written.
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM verdicts"), 0);
    assert!(photo_files(&ts).is_empty(), "{:?}", photo_files(&ts));
    let (_, t) = ts.get(&format!("/api/v1/tasks/{id}"), ADMIN).await;
    assert_eq!(t["properties"]["state"], "acknowledged");
    assert_eq!(actions_but_notify(&t), ["create", "acknowledge"]);
    assert_eq!(
        count(&ts, "SELECT COUNT(*) FROM outbox WHERE kind = 'verdict'"),
        0
    );

    // A good verdict, then the task is closed: later verdicts are refused with 409.
    let (status, v) = report(&ts, id, PATROL_A1, "burning", 35.60, 114.30, photo_png(3)).await;
    assert_eq!(status, 201, "{v}");
    let (status, v) = report(
        &ts,
        id,
        PATROL_A1,
        "no_fire_other",
        35.60,
        114.30,
        photo_png(4),
    )
    .await;
    assert_eq!(
        (status, v["state"].as_str(), v["action"].as_str()),
        (409, Some("verified"), Some("verdict")),
        "{v}"
    );
    assert_eq!(act(&ts, id, "close", ADMIN).await.0, 200);
    let (status, v) = report(&ts, id, PATROL_A1, "burning", 35.60, 114.30, photo_png(5)).await;
    assert_eq!((status, v["state"].as_str()), (409, Some("closed")), "{v}");
    assert_eq!(count(&ts, "SELECT COUNT(*) FROM verdicts"), 1);
    assert_eq!(
        photo_files(&ts).len(),
        1,
        "only the accepted verdict's photo is kept"
    );
    ts.stop().await;
}
