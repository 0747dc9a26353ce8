//! Helpers of the dispatch tests: a clocked server, hotspots posted as FIRMS CSV, generated
//! photos, multipart verdicts, and direct looks into the SQLite file (outbox, verdict rows).
#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use strawfire::config::Config;
use strawfire::dispatch::ManualClock;

use super::server::{firms_csv, firms_row, GridPlacer, TestServer, ADMIN};
use super::stores::{Backend, PgSchema};

/// 2026-06-08 05:00 UTC (13:00 in Henan, wheat harvest).
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 8, 5, 0, 0).unwrap()
}

/// A server on the grid placer whose clock stands at [`t0`] until the test moves it.
pub async fn clocked(tweak: impl FnOnce(&mut Config)) -> (TestServer, ManualClock) {
    clocked_on(Backend::Sqlite, tweak).await
}

/// [`clocked`] on a store of `backend` (PostgreSQL: a fresh schema of the test database).
pub async fn clocked_on(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
) -> (TestServer, ManualClock) {
    let clock = ManualClock::new(t0());
    let dir = tempfile::tempdir().unwrap();
    let pg = (backend == Backend::Postgres).then(PgSchema::new);
    let ts = TestServer::start_in(
        dir,
        pg,
        tweak,
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await;
    (ts, clock)
}

/// Stops the server and starts a new one on the same data directory (or schema) and clock.
pub async fn restart(
    mut ts: TestServer,
    clock: &ManualClock,
    tweak: impl FnOnce(&mut Config),
) -> TestServer {
    if let Some(r) = ts.running.take() {
        r.shutdown().await;
    }
    let pg = ts.pg.take();
    TestServer::start_in(
        ts.dir,
        pg,
        tweak,
        Arc::new(GridPlacer),
        Arc::new(clock.clone()),
    )
    .await
}

/// Posts one VIIRS hotspot (nominal confidence, 3 MW) seen at `at`; returns the ingest report.
pub async fn hotspot(ts: &TestServer, lat: f64, lon: f64, at: DateTime<Utc>) -> serde_json::Value {
    let row = firms_row(
        lat,
        lon,
        &at.format("%Y-%m-%d").to_string(),
        &at.format("%H%M").to_string(),
        "N20",
        "n",
        "2.0NRT",
        3.0,
    );
    let (status, v) = ts
        .post("/api/v1/hotspots", ADMIN, "text/csv", firms_csv(&[row]))
        .await;
    assert!(status == 200 || status == 201, "{status} {v}");
    v
}

/// The open tasks a token sees.
pub async fn tasks(ts: &TestServer, token: &str, query: &str) -> Vec<serde_json::Value> {
    ts.features(&format!("/api/v1/tasks{query}"), token).await
}

/// The one task of an event position, by the admin's list.
pub async fn task_id_near(ts: &TestServer, lat: f64, lon: f64) -> i64 {
    let all = tasks(ts, ADMIN, "").await;
    all.iter()
        .find(|f| {
            let c = &f["geometry"]["coordinates"];
            (c[0].as_f64().unwrap() - lon).abs() < 0.01
                && (c[1].as_f64().unwrap() - lat).abs() < 0.01
        })
        .unwrap_or_else(|| panic!("no task near {lat},{lon}: {all:?}"))["properties"]["id"]
        .as_i64()
        .unwrap()
}

/// A PNG whose look is a 9×8 grid of seeded grey blocks: different seeds give perceptual
/// hashes far apart (about half the 64 bits), the same seed the same bytes.
pub fn photo_png(seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut grid = [[0u8; 9]; 8];
    for row in grid.iter_mut() {
        for v in row.iter_mut() {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *v = (x >> 56) as u8;
        }
    }
    let img = image::RgbImage::from_fn(9 * 24, 8 * 24, |px, py| {
        let v = grid[(py / 24) as usize][(px / 24) as usize];
        image::Rgb([v, v.saturating_sub(12), v.saturating_sub(30)])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// The same picture as `photo_png(seed)`, resized and re-encoded as JPEG (a "laundered" copy).
pub fn photo_jpeg_copy(seed: u64) -> Vec<u8> {
    let img = image::load_from_memory(&photo_png(seed)).unwrap().resize(
        150,
        133,
        image::imageops::FilterType::Triangle,
    );
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img.to_rgb8())
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    out
}

/// A verdict form: `fields` as text parts, then the photo (if any) as a file part.
pub fn verdict_form(
    fields: &[(&str, String)],
    photo: Option<(&str, Vec<u8>)>,
) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.clone());
    }
    if let Some((name, bytes)) = photo {
        let mime = if name.ends_with(".png") {
            "image/png"
        } else if name.ends_with(".jpg") {
            "image/jpeg"
        } else {
            "application/octet-stream"
        };
        form = form.part(
            "photo",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap(),
        );
    }
    form
}

/// Posts a verdict form.
pub async fn post_verdict(
    ts: &TestServer,
    id: i64,
    token: &str,
    form: reqwest::multipart::Form,
) -> (u16, serde_json::Value) {
    let r = ts
        .client
        .post(ts.url(&format!("/api/v1/tasks/{id}/verdict")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(serde_json::Value::Null),
    )
}

/// A task's state before acknowledgement: `new`, or `notified` once the delivery worker (the
/// notify branch) has delivered its notice or found no webhook for its unit. The dispatch tests
/// do not depend on delivery, so they accept either.
pub fn unacknowledged(state: &serde_json::Value) -> bool {
    state == "new" || state == "notified"
}

/// The audit actions of a task feature, without the delivery worker's `notify`.
pub fn actions_but_notify(task: &serde_json::Value) -> Vec<String> {
    task["properties"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_string())
        .filter(|a| a != "notify")
        .collect()
}

/// A complete verdict at (lat, lon) with a generated photo.
pub async fn report(
    ts: &TestServer,
    id: i64,
    token: &str,
    verdict: &str,
    lat: f64,
    lon: f64,
    photo: Vec<u8>,
) -> (u16, serde_json::Value) {
    let form = verdict_form(
        &[
            ("verdict", verdict.to_string()),
            ("lat", lat.to_string()),
            ("lon", lon.to_string()),
        ],
        Some(("field.png", photo)),
    );
    post_verdict(ts, id, token, form).await
}

/// POST with an empty JSON object (ack, close).
pub async fn act(ts: &TestServer, id: i64, action: &str, token: &str) -> (u16, serde_json::Value) {
    ts.post(
        &format!("/api/v1/tasks/{id}/{action}"),
        token,
        "application/json",
        "{}",
    )
    .await
}

/// POST on-site at (lat, lon).
pub async fn on_site(
    ts: &TestServer,
    id: i64,
    token: &str,
    lat: f64,
    lon: f64,
) -> (u16, serde_json::Value) {
    ts.post(
        &format!("/api/v1/tasks/{id}/on-site"),
        token,
        "application/json",
        serde_json::json!({"lat": lat, "lon": lon}).to_string(),
    )
    .await
}

/// The store file of a test server, opened read-only beside the running service (WAL).
pub fn db(ts: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        ts.dir.path().join("data").join("strawfire.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

/// A single integer from SQL, on the server's store (SQLite or PostgreSQL: SQL both read).
pub fn count(ts: &TestServer, sql: &str) -> i64 {
    match &ts.pg {
        Some(pg) => {
            let sql = sql.to_string();
            pg.with(move |c| c.query_one(&sql, &[]).unwrap().get(0))
        }
        None => db(ts).query_row(sql, [], |r| r.get(0)).unwrap(),
    }
}

/// Runs a statement that changes rows on the server's store (SQL both dialects read), for what
/// no API can do: e.g. losing a stored answer as a crash between commit and answer would.
pub fn exec(ts: &TestServer, sql: &str) -> u64 {
    match &ts.pg {
        Some(pg) => {
            let sql = sql.to_string();
            pg.with(move |c| c.execute(&sql, &[]).unwrap())
        }
        None => rusqlite::Connection::open(ts.dir.path().join("data").join("strawfire.sqlite"))
            .unwrap()
            .execute(sql, [])
            .unwrap() as u64,
    }
}

/// The first (text) column of every row of `sql`, on the server's store.
pub fn column(ts: &TestServer, sql: &str) -> Vec<String> {
    column_of(ts, sql)
}

/// The first column of every row of `sql` as `T` (text, an integer), on the server's store.
pub fn column_of<T>(ts: &TestServer, sql: &str) -> Vec<T>
where
    T: rusqlite::types::FromSql + for<'a> ::postgres::types::FromSql<'a> + Send + 'static,
{
    match &ts.pg {
        Some(pg) => {
            let sql = sql.to_string();
            pg.with(move |c| {
                c.query(&sql, &[])
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect()
            })
        }
        None => {
            let c = db(ts);
            let mut st = c.prepare(sql).unwrap();
            let rows = st.query_map([], |r| r.get(0)).unwrap();
            rows.collect::<Result<_, _>>().unwrap()
        }
    }
}

/// The text columns of the first row of `sql`, on the server's store.
pub fn texts(ts: &TestServer, sql: &str) -> Vec<String> {
    match &ts.pg {
        Some(pg) => {
            let sql = sql.to_string();
            pg.with(move |c| {
                let r = c.query_one(&sql, &[]).unwrap();
                (0..r.len()).map(|i| r.get(i)).collect()
            })
        }
        None => db(ts)
            .query_row(sql, [], |r| {
                (0..r.as_ref().column_count())
                    .map(|i| r.get(i))
                    .collect::<Result<Vec<String>, _>>()
            })
            .unwrap(),
    }
}

/// Files under `data/photos`.
pub fn photo_files(ts: &TestServer) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&ts.dir.path().join("data").join("photos"), &mut out);
    out
}

/// `photo_png(seed)` as a JPEG carrying EXIF: `DateTimeOriginal` (local camera time,
/// `YYYY:MM:DD HH:MM:SS`) and a GPS position, as a phone writes them (APP1 after SOI).
pub fn photo_jpeg_with_exif(seed: u64, taken_local: &str, lon: f64, lat: f64) -> Vec<u8> {
    let img = image::load_from_memory(&photo_png(seed)).unwrap();
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(img.to_rgb8())
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    add_exif(&jpeg, taken_local, lon, lat)
}

/// `jpeg` with an EXIF APP1 segment right after SOI: `DateTimeOriginal` (local camera time)
/// and a GPS position (north, east), as a phone writes them.
pub fn add_exif(jpeg: &[u8], taken_local: &str, lon: f64, lat: f64) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let dms = |x: f64| {
        let d = x.abs().floor();
        let m = ((x.abs() - d) * 60.0).floor();
        let s = ((x.abs() - d) * 60.0 - m) * 60.0;
        Value::Rational(vec![
            Rational {
                num: d as u32,
                denom: 1,
            },
            Rational {
                num: m as u32,
                denom: 1,
            },
            Rational {
                num: (s * 1000.0).round() as u32,
                denom: 1000,
            },
        ])
    };
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let fields = [
        field(
            Tag::DateTimeOriginal,
            Value::Ascii(vec![taken_local.as_bytes().to_vec()]),
        ),
        field(Tag::GPSLatitudeRef, Value::Ascii(vec![b"N".to_vec()])),
        field(Tag::GPSLatitude, dms(lat)),
        field(Tag::GPSLongitudeRef, Value::Ascii(vec![b"E".to_vec()])),
        field(Tag::GPSLongitude, dms(lon)),
    ];
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((2 + 6 + tiff.len()) as u16).to_be_bytes());
    out.extend(b"Exif\0\0");
    out.extend(&tiff);
    out.extend(&jpeg[2..]);
    out
}
