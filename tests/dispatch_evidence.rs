//! Evidence checks on verdicts: a copied photo (same bytes, or the same picture re-encoded), a
//! GPS position 5 km from the fire, and a report timed before the patrol knew are flagged with
//! reasons; the verdict stands and is marked for review.

mod common;

use chrono::Duration;
use common::dispatch::*;
use common::server::PATROL_A1;
use common::stores::Backend;

on_both_stores!(
    copied_photos_far_positions_and_early_reports_are_flagged_but_stand,
    exif_time_and_position_that_contradict_the_report_are_flagged,
);

fn flags(v: &serde_json::Value) -> Vec<String> {
    v["verdict"]["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flag"].as_str().unwrap().to_string())
        .collect()
}

async fn copied_photos_far_positions_and_early_reports_are_flagged_but_stand(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    let places = [
        (35.60, 114.30),
        (35.70, 114.20),
        (35.80, 114.10),
        (35.65, 114.40),
    ];
    for (lat, lon) in places {
        hotspot(&ts, lat, lon, t0() - Duration::minutes(10)).await;
    }
    let mut ids = Vec::new();
    for (lat, lon) in places {
        let id = task_id_near(&ts, lat, lon).await;
        assert_eq!(act(&ts, id, "ack", PATROL_A1).await.0, 200);
        ids.push(id);
    }
    clock.advance(Duration::minutes(15));

    // A: a clean report.
    let (status, a) = report(
        &ts,
        ids[0],
        PATROL_A1,
        "burning",
        35.60,
        114.30,
        photo_png(1),
    )
    .await;
    assert_eq!(status, 201, "{a}");
    assert!(flags(&a).is_empty(), "{a}");

    // B: A's photo again, sent from 5 km north of B's fire.
    let (status, b) = report(
        &ts,
        ids[1],
        PATROL_A1,
        "burned_scar",
        35.70 + 0.045,
        114.20,
        photo_png(1),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    let fb = flags(&b);
    assert!(fb.contains(&"photo_identical".to_string()), "{b}");
    assert!(fb.contains(&"far_from_event".to_string()), "{b}");
    let vb = &b["verdict"]["flags"];
    let copied = vb
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == "photo_identical")
        .unwrap();
    assert_eq!(copied["other_task"].as_i64(), Some(ids[0]));
    assert!(copied["reason"]
        .as_str()
        .unwrap()
        .contains(&format!("task {}", ids[0])));
    let far = vb
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["flag"] == "far_from_event")
        .unwrap();
    let d = far["distance_m"].as_f64().unwrap();
    assert!((4800.0..5200.0).contains(&d), "{d}");
    assert_eq!(b["verdict"]["review"], true);
    assert_eq!((&b["review"], &b["flags"]), (&b["verdict"]["review"], vb));
    // The verdict stands.
    assert_eq!(b["task"]["properties"]["state"], "verified");
    assert_eq!(b["task"]["properties"]["verdict"], "burned_scar");
    assert_eq!(b["task"]["properties"]["review"], true);

    // C: A's picture resized and re-encoded as JPEG: other bytes, same look.
    let (status, c) = report(
        &ts,
        ids[2],
        PATROL_A1,
        "burning",
        35.80,
        114.10,
        photo_jpeg_copy(1),
    )
    .await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(flags(&c), ["photo_near_identical"], "{c}");

    // D: a new photo, but the report says it was made an hour before the patrol acknowledged.
    let form = verdict_form(
        &[
            ("verdict", "burning".into()),
            ("lat", "35.65".into()),
            ("lon", "114.40".into()),
            ("time", "2026-06-08T12:00:00+08:00".into()),
            ("note", "烟很大".into()),
        ],
        Some(("d.png", photo_png(4))),
    );
    let (status, dv) = post_verdict(&ts, ids[3], PATROL_A1, form).await;
    assert_eq!(status, 201, "{dv}");
    assert_eq!(flags(&dv), ["before_notified"], "{dv}");
    assert_eq!(dv["verdict"]["reported_at"], "2026-06-08T04:00:00Z");
    assert_eq!(dv["verdict"]["note"], "烟很大");

    // The review marks in the list; one file per distinct photo (A and B share one).
    let verified = tasks(&ts, PATROL_A1, "?status=verified").await;
    let review: Vec<(i64, bool)> = verified
        .iter()
        .map(|f| {
            (
                f["properties"]["id"].as_i64().unwrap(),
                f["properties"]["review"].as_bool().unwrap(),
            )
        })
        .collect();
    for (id, r) in review {
        assert_eq!(r, id != ids[0], "task {id}");
    }
    assert_eq!(photo_files(&ts).len(), 3);
    assert_eq!(
        count(&ts, "SELECT COUNT(*) FROM verdicts WHERE review = 1"),
        3
    );
    ts.stop().await;
}

async fn exif_time_and_position_that_contradict_the_report_are_flagged(b: Backend) {
    let (ts, clock) = clocked_on(b, |_| {}).await;
    let places = [(35.75, 114.35), (35.85, 114.25)];
    for (lat, lon) in places {
        hotspot(&ts, lat, lon, t0() - Duration::minutes(10)).await;
    }
    let mut ids = Vec::new();
    for (lat, lon) in places {
        let id = task_id_near(&ts, lat, lon).await;
        assert_eq!(act(&ts, id, "ack", PATROL_A1).await.0, 200);
        ids.push(id);
    }
    clock.advance(Duration::minutes(15)); // 05:15 UTC = 13:15 in Henan

    // Taken at 09:00 Henan time (01:00 UTC), 4.5 km east of where the patrol says it stands.
    let old = photo_jpeg_with_exif(11, "2026:06:08 09:00:00", 114.35 + 0.05, 35.75);
    let form = verdict_form(
        &[
            ("verdict", "burning".into()),
            ("lat", "35.75".into()),
            ("lon", "114.35".into()),
        ],
        Some(("e.jpg", old)),
    );
    let (status, v) = post_verdict(&ts, ids[0], PATROL_A1, form).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(flags(&v), ["exif_time", "exif_position"], "{v}");
    assert_eq!(v["verdict"]["exif_time"], "2026-06-08T01:00:00Z");
    assert!((v["verdict"]["exif_lon"].as_f64().unwrap() - 114.40).abs() < 1e-4);
    let gap = v["verdict"]["flags"][0]["gap_min"].as_i64().unwrap();
    assert_eq!(gap, 255);

    // EXIF that agrees with the report (taken a minute ago, here) raises nothing.
    let fresh = photo_jpeg_with_exif(12, "2026:06:08 13:14:00", 114.25, 35.85);
    let form = verdict_form(
        &[
            ("verdict", "burned_scar".into()),
            ("lat", "35.85".into()),
            ("lon", "114.25".into()),
        ],
        Some(("f.jpg", fresh)),
    );
    let (status, v) = post_verdict(&ts, ids[1], PATROL_A1, form).await;
    assert_eq!(status, 201, "{v}");
    assert!(flags(&v).is_empty(), "{v}");
    assert_eq!(v["verdict"]["exif_time"], "2026-06-08T05:14:00Z");
    ts.stop().await;
}
