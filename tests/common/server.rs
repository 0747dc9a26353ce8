//! A real service on port 0 with a real SQLite file in a temp dir, and a real HTTP client.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strawfire::config::{Config, TokenConfig};
use strawfire::dispatch::{Clock, SystemClock};
use strawfire::fuse::{Placement, Placer};
use strawfire::service::{start_clocked, Running};

pub const ADMIN: &str = "admin-token-0123456789";
pub const COUNTY_A: &str = "county-410526-token-0123";
pub const COUNTY_B: &str = "county-410527-token-0123";
pub const PATROL_A1: &str = "patrol-410526101-token-01";

/// Stands in for the locate layers in tests: west of 116.5° E is county 410526 (township
/// 410526100 south of 35.5° N, 410526101 north of it), east of it county 410527.
pub struct GridPlacer;

impl Placer for GridPlacer {
    fn place(&self, lon: f64, lat: f64, _footprint_m: f64) -> Placement {
        let (county, township) = if lon < 116.5 {
            ("410526", if lat < 35.5 { "410526100" } else { "410526101" })
        } else {
            ("410527", "410527100")
        };
        Placement {
            county: Some(county.into()),
            township: Some(township.into()),
            ..Placement::default()
        }
    }
}

pub fn test_config(dir: &Path) -> Config {
    let mut c = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        samples_dir: None,
        ..Config::default()
    };
    c.inbox.poll_s = 0.05;
    c.inbox.settle_s = 0.1;
    c.limits.alert_bytes = 4096;
    c.limits.feed_bytes = 256 * 1024;
    c.limits.scene_bytes = 8 << 20;
    for (token, role) in [
        (ADMIN, "admin"),
        (COUNTY_A, "county:410526"),
        (COUNTY_B, "county:410527"),
        (PATROL_A1, "patrol:410526101"),
    ] {
        c.tokens.push(TokenConfig {
            token: token.into(),
            role: role.into(),
            name: None,
        });
    }
    c.sensors.push(strawfire::config::SensorConfig {
        id: "cam-1".into(),
        lon: 114.30,
        lat: 34.80,
        name: None,
    });
    c
}

pub struct TestServer {
    pub base: String,
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub client: reqwest::Client,
    /// The PostgreSQL schema the server stores in (`None`: the SQLite file in `dir`); dropped
    /// after the server.
    pub pg: Option<super::stores::PgSchema>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        TestServer::start_with(dir, |_| {}).await
    }

    /// [`TestServer::start`] on a store of `b` (PostgreSQL: a fresh schema).
    pub async fn start_on(b: super::stores::Backend) -> TestServer {
        TestServer::start_on_with(
            b,
            tempfile::tempdir().unwrap(),
            |_| {},
            Arc::new(GridPlacer),
        )
        .await
    }

    /// [`TestServer::start_placed`] on a store of `b` (PostgreSQL: a fresh schema).
    pub async fn start_on_with(
        b: super::stores::Backend,
        dir: tempfile::TempDir,
        tweak: impl FnOnce(&mut Config),
        placer: Arc<dyn Placer>,
    ) -> TestServer {
        let pg = super::stores::schema_for(b);
        TestServer::start_in(dir, pg, tweak, placer, Arc::new(SystemClock)).await
    }

    pub async fn start_with(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::start_placed(dir, tweak, Arc::new(GridPlacer)).await
    }

    pub async fn start_placed(
        dir: tempfile::TempDir,
        tweak: impl FnOnce(&mut Config),
        placer: Arc<dyn Placer>,
    ) -> TestServer {
        TestServer::start_clocked(dir, tweak, placer, Arc::new(SystemClock)).await
    }

    /// A server whose deadlines and retries run on `clock` (a `ManualClock` the test moves).
    pub async fn start_clocked(
        dir: tempfile::TempDir,
        tweak: impl FnOnce(&mut Config),
        placer: Arc<dyn Placer>,
        clock: Arc<dyn Clock>,
    ) -> TestServer {
        TestServer::start_in(dir, None, tweak, placer, clock).await
    }

    /// [`TestServer::start_clocked`] storing in PostgreSQL schema `pg` when given (`[store]
    /// url`), else in the SQLite file under `dir`.
    pub async fn start_in(
        dir: tempfile::TempDir,
        pg: Option<super::stores::PgSchema>,
        tweak: impl FnOnce(&mut Config),
        placer: Arc<dyn Placer>,
        clock: Arc<dyn Clock>,
    ) -> TestServer {
        let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        let mut cfg = test_config(dir.path());
        if let Some(pg) = &pg {
            cfg.store.url = Some(pg.url.clone());
        }
        tweak(&mut cfg);
        let running = start_clocked(cfg, placer, clock).await.unwrap();
        if pg.is_some() {
            let file = dir.path().join("data").join(strawfire::service::STORE_FILE);
            assert!(
                !file.exists(),
                "a PostgreSQL server made {}",
                file.display()
            );
        }
        TestServer {
            base: format!("http://{}", running.addr),
            running: Some(running),
            dir,
            client: reqwest::Client::new(),
            pg,
        }
    }

    /// A server that takes products on a store of `b`: a granule's partner awaited 60 s,
    /// scenes up to 64 MiB, its worker (PostgreSQL) polling every 50 ms, an upload answered
    /// when its job is done (up to 60 s).
    pub async fn start_for_products(b: super::stores::Backend) -> TestServer {
        TestServer::start_on_with(
            b,
            tempfile::tempdir().unwrap(),
            |c| {
                c.inbox.partner_wait_s = 60.0;
                c.limits.scene_bytes = 64 << 20;
                c.worker.poll_s = 0.05;
                c.worker.upload_wait_s = 60.0;
            },
            Arc::new(GridPlacer),
        )
        .await
    }

    /// On PostgreSQL, a second node (API and worker) on this server's store, in a folder of its
    /// own, configured by `tweak`; `None` on SQLite (one process there).
    pub async fn second_node(&self, tweak: impl FnOnce(&mut Config)) -> Option<TestServer> {
        let url = self.pg.as_ref()?.url.clone();
        let second = TestServer::start_in(
            tempfile::tempdir().unwrap(),
            None,
            |c| {
                tweak(c);
                c.store.url = Some(url);
            },
            Arc::new(GridPlacer),
            Arc::new(SystemClock),
        )
        .await;
        Some(second)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `files` posted to `POST /api/v1/scenes` as one `multipart/form-data` request (a
    /// `file` part each, named by the file), as the admin: the status and the JSON answer
    /// (`Null` when the body is not JSON).
    pub async fn post_scene_files<P: AsRef<Path>>(&self, files: &[P]) -> (u16, serde_json::Value) {
        let mut form = reqwest::multipart::Form::new();
        for f in files {
            let f = f.as_ref();
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let part = reqwest::multipart::Part::bytes(std::fs::read(f).unwrap()).file_name(name);
            form = form.part("file", part);
        }
        let r = self
            .client
            .post(self.url("/api/v1/scenes"))
            .bearer_auth(ADMIN)
            .multipart(form)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub fn inbox(&self) -> PathBuf {
        self.dir.path().join("data").join("inbox")
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let r = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    pub async fn post(
        &self,
        path: &str,
        token: &str,
        ctype: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, serde_json::Value) {
        let r = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        answer(r).await
    }

    /// The Prometheus text of `/metrics` (no token needed).
    pub async fn metrics(&self) -> String {
        let r = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.text().await.unwrap()
    }

    /// Waits until the notification worker has made `n` more passes (each pass sees the
    /// clock as it is now), so a test can show that nothing more happens.
    pub async fn notify_passes(&self, n: u64) {
        let polls = || {
            self.running
                .as_ref()
                .expect("a running server")
                .service
                .metrics()
                .notify_polls()
        };
        let start = polls();
        eventually(
            Duration::from_secs(20),
            "notification worker passes",
            || async { (polls() >= start + n).then_some(()) },
        )
        .await;
    }

    /// The features of a GeoJSON list endpoint.
    pub async fn features(&self, path: &str, token: &str) -> Vec<serde_json::Value> {
        let (status, v) = self.get(path, token).await;
        assert_eq!(status, 200, "{path}: {v}");
        v["features"].as_array().cloned().unwrap_or_default()
    }

    /// Stops the server and hands its temp dir back, to start another on the same data.
    pub async fn stop_keep_dir(mut self) -> tempfile::TempDir {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        self.dir
    }

    /// Stops the server and hands its temp dir and PostgreSQL schema (if any) back, to start
    /// another on the same store ([`TestServer::start_in`]).
    pub async fn stop_keep_store(mut self) -> (tempfile::TempDir, Option<super::stores::PgSchema>) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        (self.dir, self.pg)
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// Polls `f` until it returns `Some`, or panics after `timeout`.
/// The status of an answer and its JSON body (`Null` when the body is not JSON).
pub async fn answer(r: reqwest::Response) -> (u16, serde_json::Value) {
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(serde_json::Value::Null),
    )
}

/// Serves `router` on loopback port 0 (a fake feed or receiver) until the test ends; its base
/// URL.
pub async fn serve_fake(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let t0 = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(t0.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub const FIRMS_HEADER: &str = "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_ti5,frp,daynight";

/// One FIRMS VIIRS CSV row (all the fields the tests vary, in FIRMS column order).
#[allow(clippy::too_many_arguments)]
pub fn firms_row(
    lat: f64,
    lon: f64,
    date: &str,
    hhmm: &str,
    sat: &str,
    conf: &str,
    version: &str,
    frp: f64,
) -> String {
    format!("{lat:.5},{lon:.5},335.2,0.39,0.36,{date},{hhmm},{sat},VIIRS,{conf},{version},291.4,{frp:.2},N")
}

/// A FIRMS CSV body of rows.
pub fn firms_csv(rows: &[String]) -> String {
    let mut s = String::from(FIRMS_HEADER);
    s.push('\n');
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

/// A FIRMS CSV of N20 VIIRS hotspots seen `hours_ago` before now, each of `frp_mw`:
/// (lat, lon, hours_ago, confidence).
pub fn recent_firms_csv(rows: &[(f64, f64, i64, &str)], frp_mw: f64) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|&(lat, lon, hours_ago, conf)| {
            let t = chrono::Utc::now() - chrono::Duration::hours(hours_ago);
            firms_row(
                lat,
                lon,
                &t.format("%Y-%m-%d").to_string(),
                &t.format("%H%M").to_string(),
                "N20",
                conf,
                "2.0NRT",
                frp_mw,
            )
        })
        .collect();
    firms_csv(&rows)
}
