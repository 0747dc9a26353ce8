//! Every route × every role (issue 15): the status each role gets, reads and writes, written out
//! below per cell. The list of routes comes from the router's own table (`api::routes()`), so a
//! route added without a row here fails this test.
//!
//! Roles: admin; the county of the unit (410526); another county (410527); the patrol of the
//! township (410526101); the patrol of another township (410526100); no token; an unknown token.
//! The objects acted on (events, tasks, mask candidates) lie in township 410526101. Each write
//! cell acts on an object of its own, brought by the admin into the state the action needs, so a
//! cell's answer says whether the role may, not what an earlier cell did.
//!
//! Every API route also refuses a query parameter it does not take (400 naming it), from the
//! same table: a typo (`?sinse=`) is an error, never a filter silently ignored.

mod common;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use common::dispatch::{act, count, photo_png, report};
use common::server::*;
use strawfire::config::TokenConfig;

const PATROL_A0: &str = "patrol-410526100-token-00";

/// The roles, in the order of the expectation rows.
const ROLES: [(&str, Option<&str>); 7] = [
    ("admin", Some(ADMIN)),
    ("county of the unit", Some(COUNTY_A)),
    ("other county", Some(COUNTY_B)),
    ("patrol of the township", Some(PATROL_A1)),
    ("patrol of another township", Some(PATROL_A0)),
    ("no token", None),
    ("unknown token", Some("not-a-configured-token")),
];

/// What a cell acts on.
#[derive(Clone, Copy, Debug)]
enum Object {
    None,
    /// A task (and its event) in the state the action needs.
    Task(Need),
    Event,
    /// An event the rules gave no task (seen too long ago).
    TasklessEvent,
    Candidate,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    /// Any task (reads).
    Any,
    /// Not acknowledged (ack).
    New,
    /// Acknowledged (on-site, verdict).
    Acknowledged,
    /// Verified (close, send back, photo).
    Verified,
    /// Closed (reopen).
    Closed,
}

/// The body a cell sends.
#[derive(Clone, Copy, Debug)]
enum Body {
    Nothing,
    EmptyJson,
    OnSite,
    Verdict,
    Hotspot,
    Alert,
    Scene,
    /// `{"reason"}` (the command center's moves).
    Reason,
    /// `{"unit": <the other township of the county>, "reason"}`.
    Reassign,
}

/// One row: method, path (as in the route table), the query added, the object, the body, and the
/// status per role (in `ROLES` order).
struct Row {
    method: &'static str,
    path: &'static str,
    query: &'static str,
    object: Object,
    send: Body,
    expect: [u16; 7],
}

const OPEN: [u16; 7] = [200; 7];
const TOKEN: [u16; 7] = [200, 200, 200, 200, 200, 401, 401];
const ADMIN_ONLY: [u16; 7] = [200, 403, 403, 403, 403, 401, 401];

fn rows() -> Vec<Row> {
    use Body as S;
    use Need::*;
    use Object as O;
    let r = |method, path, query, object, send, expect| Row {
        method,
        path,
        query,
        object,
        send,
        expect,
    };
    vec![
        r("GET", "/api/v1/healthz", "", O::None, S::Nothing, OPEN),
        r("GET", "/metrics", "", O::None, S::Nothing, OPEN),
        r("GET", "/api/v1/units", "", O::None, S::Nothing, TOKEN),
        r("GET", "/api/v1/stream", "", O::None, S::Nothing, TOKEN),
        r(
            "GET",
            "/api/v1/dashboard-config",
            "",
            O::None,
            S::Nothing,
            TOKEN,
        ),
        r("GET", "/", "", O::None, S::Nothing, OPEN),
        r("GET", "/patrol", "", O::None, S::Nothing, OPEN),
        r("GET", "/patrol-sw.js", "", O::None, S::Nothing, OPEN),
        r("GET", "/static/{*path}", "", O::None, S::Nothing, OPEN),
        // Public like the pages (an <img> sends no token); with no local basemap there are none.
        r(
            "GET",
            "/tiles/{z}/{x}/{y}",
            "",
            O::None,
            S::Nothing,
            [404; 7],
        ),
        // An admin's scene that is not a raster is refused for what it is, after the scope.
        r(
            "POST",
            "/api/v1/scenes",
            "?name=x.tif",
            O::None,
            S::Scene,
            [422, 403, 403, 403, 403, 401, 401],
        ),
        r("GET", "/api/v1/hotspots", "", O::None, S::Nothing, TOKEN),
        r(
            "POST",
            "/api/v1/hotspots",
            "",
            O::None,
            S::Hotspot,
            [201, 403, 403, 403, 403, 401, 401],
        ),
        // The alert lands in 410526101: its county may post it, the other county may not.
        r(
            "POST",
            "/api/v1/sensor-alerts",
            "",
            O::None,
            S::Alert,
            [201, 201, 403, 403, 403, 401, 401],
        ),
        r("GET", "/api/v1/events", "", O::None, S::Nothing, TOKEN),
        // Another scope's event is not found (its existence does not leak).
        r(
            "GET",
            "/api/v1/events/{id}",
            "",
            O::Event,
            S::Nothing,
            [200, 200, 404, 200, 404, 401, 401],
        ),
        // A task by hand for a task-less event: the command center only; another county's
        // event is not found.
        r(
            "POST",
            "/api/v1/events/{id}/task",
            "",
            O::TasklessEvent,
            S::Reason,
            [201, 201, 404, 403, 403, 401, 401],
        ),
        r(
            "GET",
            "/api/v1/units/{code}",
            "",
            O::None,
            S::Nothing,
            [200, 200, 403, 200, 403, 401, 401],
        ),
        r("GET", "/api/v1/tasks", "", O::None, S::Nothing, TOKEN),
        // The patrol's record: every token has one (its own verdicts).
        r(
            "GET",
            "/api/v1/verdicts/mine",
            "",
            O::None,
            S::Nothing,
            TOKEN,
        ),
        r(
            "GET",
            "/api/v1/tasks/{id}",
            "",
            O::Task(Any),
            S::Nothing,
            [200, 200, 403, 200, 403, 401, 401],
        ),
        r(
            "POST",
            "/api/v1/tasks/{id}/ack",
            "",
            O::Task(New),
            S::EmptyJson,
            [200, 200, 403, 200, 403, 401, 401],
        ),
        r(
            "POST",
            "/api/v1/tasks/{id}/on-site",
            "",
            O::Task(Acknowledged),
            S::OnSite,
            [200, 200, 403, 200, 403, 401, 401],
        ),
        r(
            "POST",
            "/api/v1/tasks/{id}/verdict",
            "",
            O::Task(Acknowledged),
            S::Verdict,
            [201, 201, 403, 201, 403, 401, 401],
        ),
        // Closing is for the county (or admin), not the patrol.
        r(
            "POST",
            "/api/v1/tasks/{id}/close",
            "",
            O::Task(Verified),
            S::EmptyJson,
            [200, 200, 403, 403, 403, 401, 401],
        ),
        // The command center's moves (#17): county or admin, never a patrol.
        r(
            "POST",
            "/api/v1/tasks/{id}/reassign",
            "",
            O::Task(New),
            S::Reassign,
            [200, 200, 403, 403, 403, 401, 401],
        ),
        r(
            "POST",
            "/api/v1/tasks/{id}/cancel",
            "",
            O::Task(New),
            S::Reason,
            [200, 200, 403, 403, 403, 401, 401],
        ),
        r(
            "POST",
            "/api/v1/tasks/{id}/send-back",
            "",
            O::Task(Verified),
            S::Reason,
            [200, 200, 403, 403, 403, 401, 401],
        ),
        r(
            "POST",
            "/api/v1/tasks/{id}/reopen",
            "",
            O::Task(Closed),
            S::Reason,
            [200, 200, 403, 403, 403, 401, 401],
        ),
        // A verdict's photo: its county, the admin and the patrol of the township.
        r(
            "GET",
            "/api/v1/tasks/{id}/photo",
            "",
            O::Task(Verified),
            S::Nothing,
            [200, 200, 403, 200, 403, 401, 401],
        ),
        r(
            "GET",
            "/api/v1/mask-candidates",
            "",
            O::None,
            S::Nothing,
            ADMIN_ONLY,
        ),
        r(
            "POST",
            "/api/v1/mask-candidates/{id}/confirm",
            "",
            O::Candidate,
            S::Nothing,
            ADMIN_ONLY,
        ),
        r(
            "POST",
            "/api/v1/mask-candidates/{id}/reject",
            "",
            O::Candidate,
            S::Nothing,
            ADMIN_ONLY,
        ),
        r("GET", "/api/v1/precision", "", O::None, S::Nothing, TOKEN),
        // A task's audit log: admin and the task's county.
        r(
            "GET",
            "/api/v1/audit",
            "?entity=task&id={task}",
            O::Task(Any),
            S::Nothing,
            [200, 200, 403, 403, 403, 401, 401],
        ),
        r(
            "GET",
            "/api/v1/deliveries",
            "",
            O::None,
            S::Nothing,
            ADMIN_ONLY,
        ),
        // Leadership's table: admin and every county, not patrols.
        r(
            "GET",
            "/api/v1/rankings/daily",
            "?date=2026-06-08",
            O::None,
            S::Nothing,
            [200, 200, 200, 403, 403, 401, 401],
        ),
        r(
            "GET",
            "/api/v1/rankings/daily.html",
            "?date=2026-06-08",
            O::None,
            S::Nothing,
            [200, 200, 200, 403, 403, 401, 401],
        ),
        r(
            "GET",
            "/api/v1/rankings/daily.pdf",
            "?date=2026-06-08",
            O::None,
            S::Nothing,
            [200, 200, 200, 403, 403, 401, 401],
        ),
    ]
}

/// Makes the objects the cells act on, each at a place of its own in township 410526101 (lat
/// 35.5–36.5, lon < 116.5 on the test grid).
struct Maker<'a> {
    srv: &'a TestServer,
    next: usize,
}

impl Maker<'_> {
    /// A fresh place: 0.02° (≈ 2 km) apart, beyond any event's reach and mask radius.
    fn place(&mut self) -> (f64, f64) {
        self.next += 1;
        let (i, j) = (self.next / 40, self.next % 40);
        (35.6 + i as f64 * 0.02, 114.0 + j as f64 * 0.02)
    }

    /// A hotspot seen 10 minutes ago at a fresh place: its event id.
    async fn event(&mut self) -> (i64, f64, f64) {
        self.event_seen(Duration::minutes(10)).await
    }

    /// A hotspot seen `ago` at a fresh place: its event id.
    async fn event_seen(&mut self, ago: Duration) -> (i64, f64, f64) {
        let (lat, lon) = self.place();
        let t = Utc::now() - ago;
        let csv = firms_csv(&[firms_row(
            lat,
            lon,
            &t.format("%Y-%m-%d").to_string(),
            &t.format("%H%M").to_string(),
            "N20",
            "n",
            "2.0NRT",
            3.0,
        )]);
        let (status, v) = self
            .srv
            .post("/api/v1/hotspots", ADMIN, "text/csv", csv)
            .await;
        assert_eq!(status, 201, "{v}");
        (v["report"]["event_ids"][0].as_i64().unwrap(), lat, lon)
    }

    /// A task in the state `need` asks for, moved there by the admin.
    async fn task(&mut self, need: Need) -> (i64, f64, f64) {
        let (event, lat, lon) = self.event().await;
        let id = count(
            self.srv,
            &format!("SELECT id FROM tasks WHERE event_id = {event}"),
        );
        if matches!(need, Need::Acknowledged | Need::Verified | Need::Closed) {
            assert_eq!(act(self.srv, id, "ack", ADMIN).await.0, 200);
        }
        if matches!(need, Need::Verified | Need::Closed) {
            let photo = photo_png(1000 + self.next as u64);
            let (status, v) = report(self.srv, id, ADMIN, "burning", lat, lon, photo).await;
            assert_eq!(status, 201, "{v}");
        }
        if need == Need::Closed {
            assert_eq!(act(self.srv, id, "close", ADMIN).await.0, 200);
        }
        (id, lat, lon)
    }

    /// A pending mask candidate: an industrial site reported at a fresh place.
    async fn candidate(&mut self) -> i64 {
        let (id, lat, lon) = self.task(Need::Acknowledged).await;
        let photo = photo_png(5000 + self.next as u64);
        let (status, v) = report(self.srv, id, ADMIN, "no_fire_industrial", lat, lon, photo).await;
        assert_eq!(status, 201, "{v}");
        v["mask_candidate"]
            .as_i64()
            .or_else(|| v["mask_candidate"]["id"].as_i64())
            .unwrap_or_else(|| panic!("no candidate proposed: {v}"))
    }
}

on_both_stores!(every_route_answers_every_role_as_expected);

/// Every `/api/v1` route, read or write, answers a parameter it does not take with 400 naming
/// it, before doing anything: the lists name their known ones, the rest take none (the pages,
/// assets, tiles and `/metrics` are not the API and are left to browsers and scrapers).
#[tokio::test]
async fn every_api_route_refuses_a_parameter_it_does_not_take() {
    let srv = TestServer::start().await;
    let mut wrong = Vec::new();
    let api: Vec<_> = strawfire::api::routes()
        .into_iter()
        .filter(|(_, p)| p.starts_with("/api/v1/"))
        .collect();
    assert!(api.len() >= 30, "{api:?}");
    for (method, path) in api {
        let path = path.replace("{id}", "1").replace("{code}", "410526101");
        let url = srv.url(&format!("{path}?sinse=2024-06-01"));
        let req = match method.as_str() {
            "GET" => srv.client.get(&url),
            "POST" => srv.client.post(&url),
            m => panic!("method {m} has no request here"),
        };
        let resp = req.bearer_auth(ADMIN).send().await.unwrap();
        let status = resp.status().as_u16();
        let v: serde_json::Value =
            serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or_default();
        if status != 400 || v["field"] != "sinse" || v["code"] != "bad_field" {
            wrong.push(format!("{method} {path}?sinse=: {status} {v}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    srv.stop().await;
}

async fn every_route_answers_every_role_as_expected(b: common::stores::Backend) {
    let srv = TestServer::start_on_with(
        b,
        tempfile::tempdir().unwrap(),
        |c| {
            c.tokens.push(TokenConfig {
                token: PATROL_A0.into(),
                role: "patrol:410526100".into(),
                name: None,
            });
        },
        std::sync::Arc::new(GridPlacer),
    )
    .await;
    let rows = rows();

    // The table covers the router exactly: a new route needs its row of expectations.
    let served: BTreeSet<(String, String)> = strawfire::api::routes()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let expected: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(
        served.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes without scope expectations"
    );
    assert_eq!(
        expected.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "expectations for routes the router does not serve"
    );
    assert_eq!(expected.len(), rows.len(), "one row per route");

    let mut make = Maker { srv: &srv, next: 0 };
    let mut wrong = Vec::new();
    for row in &rows {
        for (k, (role, token)) in ROLES.iter().enumerate() {
            let mut path = row.path.replace("{code}", "410526101");
            path = path.replace("{*path}", "app.css");
            path = path.replace("{z}/{x}/{y}", "3/5/2.png");
            let mut query = row.query.to_string();
            let mut place = (35.6, 114.0);
            match row.object {
                Object::None => {}
                Object::Event => {
                    let (id, ..) = make.event().await;
                    path = path.replace("{id}", &id.to_string());
                }
                Object::TasklessEvent => {
                    let (id, ..) = make.event_seen(Duration::hours(8)).await;
                    path = path.replace("{id}", &id.to_string());
                }
                Object::Task(need) => {
                    let (id, lat, lon) = make.task(need).await;
                    path = path.replace("{id}", &id.to_string());
                    query = query.replace("{task}", &id.to_string());
                    place = (lat, lon);
                }
                Object::Candidate => {
                    let id = make.candidate().await;
                    path = path.replace("{id}", &id.to_string());
                }
            }
            let url = srv.url(&format!("{path}{query}"));
            let mut req = match row.method {
                "GET" => srv.client.get(&url),
                "POST" => srv.client.post(&url),
                m => panic!("method {m} has no request here"),
            };
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let t = Utc::now() - Duration::minutes(5);
            req = match row.send {
                Body::Nothing => req,
                Body::EmptyJson => req.header("content-type", "application/json").body("{}"),
                Body::OnSite => req
                    .header("content-type", "application/json")
                    .body(serde_json::json!({"lat": place.0, "lon": place.1}).to_string()),
                Body::Verdict => req.multipart(common::dispatch::verdict_form(
                    &[
                        ("verdict", "burning".to_string()),
                        ("lat", place.0.to_string()),
                        ("lon", place.1.to_string()),
                    ],
                    Some((
                        "field.png",
                        photo_png(9000 + make.next as u64 * 7 + k as u64),
                    )),
                )),
                Body::Hotspot => {
                    let (lat, lon) = make.place();
                    req.header("content-type", "text/csv")
                        .body(firms_csv(&[firms_row(
                            lat,
                            lon,
                            &t.format("%Y-%m-%d").to_string(),
                            &t.format("%H%M").to_string(),
                            "N20",
                            "n",
                            "2.0NRT",
                            3.0,
                        )]))
                }
                Body::Alert => {
                    let (lat, lon) = make.place();
                    req.header("content-type", "application/json").body(
                        serde_json::json!({
                            "sensor_id": format!("cam-{k}"), "time": t.to_rfc3339(),
                            "kind": "fire", "confidence": 0.8,
                            "position": {"lon": lon, "lat": lat}
                        })
                        .to_string(),
                    )
                }
                Body::Reason => req
                    .header("content-type", "application/json")
                    .body(r#"{"reason": "矩阵测试"}"#),
                Body::Reassign => req
                    .header("content-type", "application/json")
                    .body(r#"{"unit": "410526100", "reason": "矩阵测试"}"#),
                Body::Scene => req
                    .header("content-type", "image/tiff")
                    .body("not a raster"),
            };
            // Only the status and headers: the stream never ends.
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let ctype = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if status != row.expect[k] {
                let body = if row.path == "/api/v1/stream" {
                    String::new()
                } else {
                    resp.text().await.unwrap_or_default()
                };
                wrong.push(format!(
                    "{} {path}{query} as {role}: {status}, expected {} {body}",
                    row.method, row.expect[k]
                ));
            } else if status >= 400 && !ctype.contains("json") {
                wrong.push(format!(
                    "{} {path} as {role}: {status} answered as `{ctype}`, not JSON",
                    row.method
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    srv.stop().await;
}
