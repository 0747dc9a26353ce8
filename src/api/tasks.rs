//! Tasks: `GET /api/v1/tasks?status=open|<state>&unit=CODE` (GeoJSON), `GET /api/v1/tasks/{id}`
//! (with verdict and audit), `POST /api/v1/tasks/{id}/ack`, `/on-site`, `/verdict` (multipart:
//! fields and a photo) and `/close`.
//!
//! Scope: an admin sees every task, a county token the tasks of its county, a patrol token the
//! tasks of its own township. Another unit's task answers 403 (the brief for patrols: "cannot see
//! or change"), an unknown one 404. Acknowledge, arrive and report: the task's patrol, its county
//! or an admin; close: its county or an admin. A move the state machine refuses answers 409 with
//! the state and the action.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};

use super::actor::Who;
use super::auth::Role;
use super::paged;
use super::params::NoParams;
use super::{ApiError, AppState};
use crate::dispatch::{TaskState, Verdict};
use crate::i18n::Lang;
use crate::locate::navlink::NavLinks;
use crate::service::tasks::{TaskFailure, VerdictForm};
use crate::store::idempotency::IdempotencyKey;
use crate::store::tasks::{Acted, StoredTask, StoredVerdict, TaskChange, TaskError, TaskQuery};

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A task as a GeoJSON Feature (the patrol page and dashboard contract). `nav`: the links that
/// open the fire in a phone's map app, each in its app's datum (`locate::navlink`), the marker
/// named in `lang`.
pub fn feature(t: &StoredTask, now: DateTime<Utc>, lang: Lang) -> serde_json::Value {
    let m = &t.milestones;
    let opt = |v: Option<DateTime<Utc>>| v.map(rfc3339);
    let next = t.next_due();
    serde_json::json!({
        "type": "Feature",
        "id": t.id,
        "geometry": {"type": "Point", "coordinates": [t.lon, t.lat]},
        "properties": {
            "id": t.id,
            "event_id": t.event_id,
            "unit": t.unit,
            "unit_level": t.unit_level,
            "county": t.county,
            "state": t.state.as_str(),
            "priority": t.priority,
            "created_at": opt(m.created_at),
            "notified_at": opt(m.notified_at),
            "acknowledged_at": opt(m.acknowledged_at),
            "on_site_at": opt(m.on_site_at),
            "verified_at": opt(m.verified_at),
            "closed_at": opt(m.closed_at),
            "cancelled_at": opt(m.cancelled_at),
            "ack_due": rfc3339(t.ack_due),
            "on_site_due": rfc3339(t.on_site_due),
            "verdict_due": rfc3339(t.verdict_due),
            "next_due": next.map(|(_, at)| rfc3339(at)),
            "next_deadline": next.map(|(d, _)| d.as_str()),
            "overdue": t.overdue(now),
            "escalations": t.escalations,
            "verdict": t.verdict.map(|v| v.as_str()),
            "review": t.review,
            "parcel": t.parcel,
            "nav": NavLinks::new(t.lon, t.lat, &lang.f("nav.marker", &[("id", &t.id)])),
            "version": version(t),
        }
    })
}

/// The task as it was seen, as a short opaque word: it changes with every change of its state,
/// unit, milestones, deadlines, escalations or verdict. A command-center move may send it back
/// as `expect`, and is refused (409 `stale`) when the task changed since (`api::operator`).
pub fn version(t: &StoredTask) -> String {
    let m = &t.milestones;
    let seen = format!(
        "{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{:?}|{}",
        t.state.as_str(),
        t.unit,
        t.updated_at.timestamp(),
        m.created_at,
        m.notified_at,
        m.acknowledged_at,
        m.on_site_at,
        m.verified_at,
        m.closed_at,
        m.cancelled_at,
        t.ack_due.timestamp(),
        t.on_site_due.timestamp(),
        t.verdict_due.timestamp(),
        t.escalations.join(","),
        t.verdict.map(|v| v.as_str()),
        t.review,
    );
    crate::service::sha256_hex(seen.as_bytes())[..16].to_string()
}

fn verdict_json(v: &StoredVerdict) -> serde_json::Value {
    let mut j = serde_json::to_value(v).expect("a verdict serialises");
    for k in ["reported_at", "received_at"] {
        j[k] = serde_json::json!(rfc3339(if k == "reported_at" {
            v.reported_at
        } else {
            v.received_at
        }));
    }
    j["exif_time"] = serde_json::json!(v.exif_time.map(rfc3339));
    j
}

pub(super) fn may_see(role: &Role, t: &StoredTask) -> bool {
    match role {
        Role::Admin => true,
        Role::County(c) => t.county.as_deref() == Some(c.as_str()),
        Role::Patrol(u) => t.unit == *u,
    }
}

pub(super) fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::field("id", "a task id (integer)"))
}

/// The task, if it exists and the role reaches it.
pub(super) async fn scoped(s: &AppState, role: &Role, id: i64) -> Result<StoredTask, ApiError> {
    let task = s
        .service
        .task(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
    if !may_see(role, &task) {
        return Err(ApiError::Forbidden(format!(
            "task {id} belongs to unit {}, outside the scope of this token",
            task.unit
        )));
    }
    Ok(task)
}

impl From<TaskFailure> for ApiError {
    fn from(e: TaskFailure) -> ApiError {
        match e {
            TaskFailure::Task(TaskError::NotFound { what, id }) => {
                ApiError::NotFound(format!("no {what} {id}"))
            }
            TaskFailure::Task(TaskError::Illegal(i)) => ApiError::Conflict {
                message: i.to_string(),
                state: i.from.into(),
                action: i.action.into(),
            },
            // A storage failure (503), a part the store does not do (501), or a 500.
            TaskFailure::Task(TaskError::Store(s)) => crate::service::ServiceError::Store(s).into(),
            TaskFailure::Photo(p) => ApiError::Unprocessable {
                field: "photo".into(),
                message: p.to_string(),
            },
            TaskFailure::Service(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub async fn list(
    State(s): State<AppState>,
    who: Who,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    const KNOWN: [&str; 5] = ["status", "unit", "review", "limit", "cursor"];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let status = match q.get("status").map(|v| v.trim()) {
        None | Some("") | Some("all") => None,
        Some("open") => Some(None),
        Some(v) => Some(Some(TaskState::parse(v).ok_or_else(|| {
            ApiError::field(
                "status",
                "open, all, or a state: new, notified, acknowledged, on_site, verified, closed, cancelled",
            )
        })?)),
    };
    let unit = q.get("unit").map(|u| u.trim().to_string());
    if let Some(u) = &unit {
        super::params::max_chars("unit", u, super::params::MAX_CODE_CHARS)?;
        if u.is_empty() || !u.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::field("unit", "a unit code (digits)"));
        }
        let reaches = match &who.role {
            Role::Admin => true,
            Role::County(c) => u.starts_with(c.as_str()),
            Role::Patrol(t) => u == t,
        };
        if !reaches {
            return Err(ApiError::Forbidden(format!(
                "unit {u} is outside the scope of this token"
            )));
        }
    }
    // `review=true`: verdicts flagged by the evidence checks (the review view's filter).
    let review = match q.get("review").map(|v| v.trim()) {
        None | Some("") => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => return Err(ApiError::field("review", "true or false")),
    };
    let limit = paged::limit(&q)?;
    let before_id = paged::cursor(&q, "tasks")?.map(|c| c.id);
    let query = TaskQuery {
        id: None,
        status,
        unit,
        scope: who.role.scope(),
        ack_due_before: None,
        limit: limit + 1,
        before_id,
        review,
    };
    let now = s.service.clock().now();
    let lang = s.service.ui().lang();
    let store = s.service.store_handle();
    // Newest first, one page, streamed (`paged.rs`).
    paged::stream_features(
        "tasks",
        limit,
        move |from, n, f| {
            let mut q = query.clone();
            if let Some(c) = from {
                q.before_id = Some(c.id);
            }
            q.limit = n;
            store.tasks_each(&q, f)
        },
        |r| (0, r.id),
        move |r, sink| sink.json(&feature(r, now, lang)),
    )
    .await
}

pub async fn one(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id)?;
    let task = scoped(&s, &who.role, id).await?;
    let verdict = s.service.verdict_of(id).await?;
    let audit = s.service.audit("task", id).await?;
    let mut f = feature(&task, s.service.clock().now(), s.service.ui().lang());
    f["properties"]["verdict"] = verdict
        .as_ref()
        .map(verdict_json)
        .unwrap_or(serde_json::Value::Null);
    f["properties"]["audit"] = audit
        .iter()
        .map(|a| {
            let mut j = serde_json::to_value(a).expect("audit serialises");
            j["at"] = serde_json::json!(rfc3339(a.at));
            j
        })
        .collect();
    Ok(Json(f))
}

/// `{}` or an empty body.
fn empty_body(body: &Bytes) -> Result<(), ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(o)) if o.is_empty() => Ok(()),
        _ => Err(ApiError::field("body", "send no body or `{}`")),
    }
}

async fn change(
    s: &AppState,
    who: Who,
    id: i64,
    ch: TaskChange,
) -> Result<Json<serde_json::Value>, ApiError> {
    let task = scoped(s, &who.role, id).await?;
    if matches!(ch, TaskChange::Close) && matches!(who.role, Role::Patrol(_)) {
        return Err(ApiError::Forbidden(
            "closing a task needs its county or the admin role".into(),
        ));
    }
    let task = s.service.change_task(task.id, ch, who.actor).await?;
    Ok(Json(feature(
        &task,
        s.service.clock().now(),
        s.service.ui().lang(),
    )))
}

/// `POST /tasks/{id}/ack`: no body, `{}`, or `{"acted_at": RFC 3339}` (when the patrol
/// acknowledged, maybe offline); `Idempotency-Key` honoured (`idempotent`).
pub async fn ack(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let key = key_header(&headers)?;
    let acted_at = if body.iter().all(|b| b.is_ascii_whitespace()) {
        None
    } else {
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::field(
                "body",
                format!("send no body, `{{}}` or `{{\"acted_at\": ..}}`: {e}"),
            )
        })?;
        let o = v
            .as_object()
            .ok_or_else(|| ApiError::field("body", "send no body, `{}` or a JSON object"))?;
        only_fields(o, &["acted_at"])?;
        acted_at(o.get("acted_at"))?
    };
    let request = format!("ack\n{}", acted_at.map(rfc3339).unwrap_or_default());
    acted_change(&s, who, id, TaskChange::Acknowledge, acted_at, key, request).await
}

/// The `Idempotency-Key` header: 1 to 128 visible ASCII characters (a UUID, say).
fn key_header(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let k = v.to_str().unwrap_or("").trim();
    if k.is_empty() || k.len() > 128 || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(
            IDEMPOTENCY_KEY,
            "1 to 128 visible ASCII characters (a UUID, say)",
        ));
    }
    Ok(Some(k.to_string()))
}

/// The header a client names an action with, so a repeat of it changes nothing.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

fn only_fields(
    o: &serde_json::Map<String, serde_json::Value>,
    known: &[&str],
) -> Result<(), ApiError> {
    if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown field; known: {}", known.join(", ")),
        ));
    }
    Ok(())
}

fn acted_at(v: Option<&serde_json::Value>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(t)) => parse_time("acted_at", t).map(Some),
        Some(_) => Err(ApiError::field("acted_at", ACTED_AT_FORMAT)),
    }
}

const ACTED_AT_FORMAT: &str = "an RFC 3339 time, e.g. 2026-06-08T10:05:00+08:00";

fn parse_time(field: &str, t: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(t.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::field(field, ACTED_AT_FORMAT))
}

/// Acknowledge or arrive, at the time the patrol acted, once per idempotency key.
#[allow(clippy::too_many_arguments)]
async fn acted_change(
    s: &AppState,
    who: Who,
    id: i64,
    ch: TaskChange,
    at: Option<DateTime<Utc>>,
    key: Option<String>,
    request: String,
) -> Result<Response, ApiError> {
    let task = scoped(s, &who.role, id).await?;
    if let Some(at) = at {
        s.service
            .check_acted_at(&task, at)
            .map_err(|m| ApiError::field("acted_at", m))?;
    }
    let route = match ch {
        TaskChange::Acknowledge => "ack",
        _ => "on-site",
    };
    let key = key.map(|k| IdempotencyKey {
        actor: who.actor.id.clone(),
        key: k,
        route: route.into(),
        task_id: task.id,
        request_sha256: crate::service::sha256_hex(request.as_bytes()),
    });
    idempotent(s, key, |key| async move {
        let acted = Acted { at, key };
        let t = s
            .service
            .change_task_as(task.id, ch, who.actor, acted)
            .await?;
        Ok((
            StatusCode::OK,
            feature(&t, s.service.clock().now(), s.service.ui().lang()),
        ))
    })
    .await
}

/// Runs `act` unless its key was used before; then answers what the first request was
/// answered (header `Idempotent-Replayed: true`), or, for the same key on another request, 422
/// naming the header. The key is claimed in the change's own transaction, so two requests
/// racing with one key change the store once: the loser finds the winner's answer.
async fn idempotent<F, Fut>(
    s: &AppState,
    key: Option<IdempotencyKey>,
    act: F,
) -> Result<Response, ApiError>
where
    F: FnOnce(Option<IdempotencyKey>) -> Fut,
    Fut: std::future::Future<Output = Result<(StatusCode, serde_json::Value), TaskFailure>>,
{
    let Some(k) = key else {
        let (status, body) = act(None).await?;
        return Ok((status, Json(body)).into_response());
    };
    if let Some(r) = replay(s, &k).await? {
        return Ok(r);
    }
    match act(Some(k.clone())).await {
        Ok((status, body)) => {
            s.service
                .keep_idempotent_answer(k.actor, k.key, status.as_u16(), body.clone())
                .await;
            Ok((status, Json(body)).into_response())
        }
        Err(TaskFailure::Task(TaskError::Replayed { .. })) => match replay(s, &k).await? {
            Some(r) => Ok(r),
            None => Err(ApiError::Internal(format!(
                "idempotency key `{}` claimed but not found",
                k.key
            ))),
        },
        Err(e) => Err(e.into()),
    }
}

/// The answer of the request that first used `k`, if one did.
async fn replay(s: &AppState, k: &IdempotencyKey) -> Result<Option<Response>, ApiError> {
    let Some(stored) = s
        .service
        .idempotency_key(k.actor.clone(), k.key.clone())
        .await?
    else {
        return Ok(None);
    };
    if !stored.same_request(k) {
        return Err(ApiError::Unprocessable {
            field: IDEMPOTENCY_KEY.into(),
            message: format!(
                "key `{}` was used for another request ({} of task {}): a new action needs a new key",
                k.key, stored.route, stored.task_id
            ),
        });
    }
    let (status, body) = match stored.answer {
        Some((status, body)) => (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body),
        // The change committed but its answer was not kept (a stop in between): the task as
        // it is now.
        None => {
            let now = s.service.clock().now();
            let task = s
                .service
                .task(k.task_id)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no task {}", k.task_id)))?;
            if k.route == "verdict" {
                let v = s.service.verdict_of(k.task_id).await?;
                (
                    StatusCode::CREATED,
                    serde_json::json!({
                        "flags": v.as_ref().map(|v| serde_json::json!(v.flags)),
                        "review": v.as_ref().map(|v| v.review),
                        "verdict": v.as_ref().map(verdict_json),
                        "task": feature(&task, now, s.service.ui().lang()),
                        "mask_candidate": null,
                    }),
                )
            } else {
                (StatusCode::OK, feature(&task, now, s.service.ui().lang()))
            }
        }
    };
    let mut r = (status, Json(body)).into_response();
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(Some(r))
}

pub async fn close(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id)?;
    empty_body(&body)?;
    change(&s, who, id, TaskChange::Close).await
}

fn coordinate(field: &str, v: Option<&serde_json::Value>) -> Result<f64, ApiError> {
    let (lo, hi) = if field == "lat" {
        (-90.0, 90.0)
    } else {
        (-180.0, 180.0)
    };
    let x = match v {
        None | Some(serde_json::Value::Null) => return Err(ApiError::field(field, "missing")),
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    x.filter(|x| x.is_finite() && (lo..=hi).contains(x))
        .ok_or_else(|| ApiError::field(field, format!("a number from {lo} to {hi} (degrees)")))
}

/// `POST /tasks/{id}/on-site`: `{"lat", "lon", "acted_at"?}` (position and time of arrival);
/// `Idempotency-Key` honoured.
pub async fn on_site(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let key = key_header(&headers)?;
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::field("body", format!("JSON {{\"lat\": .., \"lon\": ..}}: {e}")))?;
    if let Some(o) = v.as_object() {
        only_fields(o, &["lat", "lon", "acted_at"])?;
    }
    let lat = coordinate("lat", v.get("lat"))?;
    let lon = coordinate("lon", v.get("lon"))?;
    let at = acted_at(v.get("acted_at"))?;
    let request = format!(
        "on-site\n{lat}\n{lon}\n{}",
        at.map(rfc3339).unwrap_or_default()
    );
    acted_change(
        &s,
        who,
        id,
        TaskChange::OnSite { lon, lat },
        at,
        key,
        request,
    )
    .await
}

fn multipart_error(e: MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { limit }
    } else {
        ApiError::field(
            "body",
            format!("cannot read the multipart body: {}", e.body_text()),
        )
    }
}

/// The form, read whole (the route's body limit bounds it) and checked field by field.
async fn read_form(mut mp: Multipart, limit: usize) -> Result<VerdictForm, ApiError> {
    let mut text: HashMap<String, String> = HashMap::new();
    let mut photo: Option<Vec<u8>> = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "photo" => {
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
                photo = Some(bytes.to_vec());
            }
            "verdict" | "lat" | "lon" | "time" | "acted_at" | "note" => {
                let v = field.text().await.map_err(|e| multipart_error(e, limit))?;
                text.insert(name, v);
            }
            other => {
                return Err(ApiError::field(
                    if other.is_empty() { "body" } else { other },
                    "unknown field; known: verdict, lat, lon, time, acted_at, note, photo",
                ))
            }
        }
    }
    let verdict = match text.get("verdict").map(|v| v.trim()) {
        None | Some("") => return Err(ApiError::field("verdict", "missing")),
        Some(v) => Verdict::parse(v).ok_or_else(|| {
            ApiError::field(
                "verdict",
                "one of burning, burned_scar, no_fire_industrial, no_fire_other",
            )
        })?,
    };
    let num = |k: &str| text.get(k).map(|v| serde_json::Value::String(v.clone()));
    let lat = coordinate("lat", num("lat").as_ref())?;
    let lon = coordinate("lon", num("lon").as_ref())?;
    // `acted_at` (what the offline queue sends) and `time` (the form's field) both say when
    // the patrol made the verdict; given both, they must agree.
    let given = |k: &str| {
        text.get(k)
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .map(|t| parse_time(k, t))
            .transpose()
    };
    let time = match (given("time")?, given("acted_at")?) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::field(
                "acted_at",
                "differs from `time`: send one of them (or both the same)",
            ))
        }
        (a, b) => b.or(a),
    };
    let note = text
        .get("note")
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(ApiError::field("note", "at most 2000 characters"));
    }
    let photo = match photo {
        Some(p) if !p.is_empty() => p,
        Some(_) => return Err(ApiError::field("photo", "the file is empty")),
        None => {
            return Err(ApiError::field(
                "photo",
                "missing: attach the photo as a file field",
            ))
        }
    };
    Ok(VerdictForm {
        verdict,
        lon,
        lat,
        time,
        acted_at: text.get("acted_at").is_some_and(|t| !t.trim().is_empty()),
        note,
        photo,
    })
}

pub async fn verdict(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    headers: HeaderMap,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    // Scope before reading the upload: another unit's task is refused without taking its photo.
    let task = scoped(&s, &who.role, id).await?;
    let key = key_header(&headers)?;
    let mp = mp.map_err(|e| {
        ApiError::field(
            "body",
            format!(
                "send multipart/form-data (fields and a photo file): {}",
                e.body_text()
            ),
        )
    })?;
    let form = read_form(mp, s.limits.photo_bytes).await?;
    if let Some(t) = form.time {
        let field = if form.acted_at { "acted_at" } else { "time" };
        s.service
            .check_acted_at(&task, t)
            .map_err(|m| ApiError::field(field, m))?;
    }
    let request = format!(
        "verdict\n{}\n{}\n{}\n{}\n{}\n{}",
        form.verdict.as_str(),
        form.lat,
        form.lon,
        form.time.map(rfc3339).unwrap_or_default(),
        form.note.as_deref().unwrap_or(""),
        crate::service::sha256_hex(&form.photo),
    );
    let key = key.map(|k| IdempotencyKey {
        actor: who.actor.id.clone(),
        key: k,
        route: "verdict".into(),
        task_id: task.id,
        request_sha256: crate::service::sha256_hex(request.as_bytes()),
    });
    let svc = s.service.clone();
    idempotent(&s, key, |key| async move {
        let out = svc.submit_verdict_as(task.id, form, who.actor, key).await?;
        let now = svc.clock().now();
        Ok((
            StatusCode::CREATED,
            serde_json::json!({
                // Also at the top, for clients that only look at what was flagged.
                "flags": out.verdict.flags,
                "review": out.verdict.review,
                "verdict": verdict_json(&out.verdict),
                "task": feature(&out.task, now, svc.ui().lang()),
                "mask_candidate": out.candidate,
            }),
        ))
    })
    .await
}

/// `GET /api/v1/verdicts/mine`: the patrol's record, the verdicts this token filed (newest
/// first, at most 200), each with its task: `{"verdicts": [{task_id, unit, lat, lon, state,
/// verdict, reported_at, received_at, note, review, flags}]}`. Any token; only its own rows.
pub async fn mine(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
) -> Result<impl IntoResponse, ApiError> {
    let rows = s.service.verdicts_by(who.actor.id.clone(), 200).await?;
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|(t, v)| {
            serde_json::json!({
                "task_id": t.id,
                "unit": t.unit,
                "lat": t.lat,
                "lon": t.lon,
                "state": t.state.as_str(),
                "verdict": v.verdict.as_str(),
                "reported_at": rfc3339(v.reported_at),
                "received_at": rfc3339(v.received_at),
                "note": v.note,
                "review": v.review,
                "flags": v.flags,
                "distance_m": v.distance_m.round(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "verdicts": list })))
}
