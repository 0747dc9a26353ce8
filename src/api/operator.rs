//! The command center's moves (#17), county or admin only, each with a required `reason` that
//! goes into the audit log with the caller and the time:
//!
//! - `POST /api/v1/events/{id}/task` `{"reason", "unit"?}`: a task for an event that has none
//!   (to the event's township, else its county, unless `unit` names another). 201.
//! - `POST /api/v1/tasks/{id}/reassign` `{"unit", "reason"}`: an open task to another township
//!   (or county) — for a county token, one of its own.
//! - `POST /api/v1/tasks/{id}/cancel` `{"reason"}`: an open task cancelled.
//! - `POST /api/v1/tasks/{id}/send-back` `{"reason"}`: a verdict back for re-verification.
//! - `POST /api/v1/tasks/{id}/reopen` `{"reason"}`: a closed task back under review.
//! - `GET /api/v1/tasks/{id}/photo`: the verdict's photo, for the task's county, the admin,
//!   and the patrol (of the task's township, or the token that reported it).
//!
//! Scope as for tasks: another county's task answers 403, another scope's event 404; a patrol
//! token may not make these moves (403). Bad input is a 400 naming the field; a move the state
//! machine refuses a 409 with the state and the action; a reassignment to the unit that already
//! holds the task a 422 `same_unit` naming `unit` (in any state: there is nothing to move).
//!
//! A move on a task may carry `"expect"`: the task's `version` as the operator saw it (the
//! dashboard's action panel sends it). When the task changed since — another operator, the
//! patrol, the escalation sweep — the move is refused with 409 `stale` (the task's state and
//! version now, and `message_zh` saying so) instead of acting on an old picture. The check is
//! made on the task as read just before the move, not inside the move's transaction: two moves
//! within the same instant are still told apart by the state machine.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::actor::Who;
use super::auth::Role;
use super::params::NoParams;
use super::tasks::{feature, parse_id, scoped};
use super::{ApiError, AppState};
use crate::service::operator::OperatorAction;
use crate::service::tasks::TaskFailure;
use crate::store::operator::REASSIGN_SAME_UNIT;
use crate::store::tasks::{StoredTask, TaskError, TaskTarget};
use crate::store::EventQuery;

/// The longest reason kept, characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The body: a JSON object with only the `allowed` fields, `reason` required.
struct Body {
    reason: String,
    unit: Option<String>,
    /// The task's `version` as the caller saw it.
    expect: Option<String>,
}

fn body(bytes: &Bytes, allowed: &[&str], unit_required: bool) -> Result<Body, ApiError> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::field(
            "body",
            format!("a JSON object with {}: {e}", allowed.join(", ")),
        )
    })?;
    let Some(o) = v.as_object() else {
        return Err(ApiError::field(
            "body",
            format!("a JSON object with {}", allowed.join(", ")),
        ));
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown field; known: {}", allowed.join(", ")),
        ));
    }
    let reason = match o.get("reason") {
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::field(
                "reason",
                "missing: say why (it is audited)",
            ))
        }
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(serde_json::Value::String(_)) => {
            return Err(ApiError::field("reason", "empty: say why (it is audited)"))
        }
        Some(_) => return Err(ApiError::field("reason", "a string")),
    };
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::field(
            "reason",
            format!("at most {MAX_REASON_CHARS} characters"),
        ));
    }
    let unit = match o.get("unit") {
        None | Some(serde_json::Value::Null) if !unit_required => None,
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::field("unit", "missing: the township code"))
        }
        Some(serde_json::Value::String(s))
            if !s.trim().is_empty()
                && s.trim().len() <= super::params::MAX_CODE_CHARS
                && s.trim().bytes().all(|b| b.is_ascii_digit()) =>
        {
            Some(s.trim().to_string())
        }
        Some(_) => return Err(ApiError::field("unit", "a unit code (digits)")),
    };
    let expect = match o.get("expect") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 64 => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::field(
                "expect",
                "the task's `version` as last seen (a short string)",
            ))
        }
    };
    Ok(Body {
        reason,
        unit,
        expect,
    })
}

/// Refuses a move made on an old picture of the task (`expect` is not its version now).
fn still_as_seen(task: &StoredTask, b: &Body) -> Result<(), ApiError> {
    let now = super::tasks::version(task);
    match &b.expect {
        Some(seen) if *seen != now => Err(ApiError::Stale {
            id: task.id,
            state: task.state.as_str().to_string(),
            version: now,
        }),
        _ => Ok(()),
    }
}

/// Only the command center (a county or the admin) makes these moves.
fn command_center(role: &Role) -> Result<(), ApiError> {
    match role {
        Role::Patrol(_) => Err(ApiError::Forbidden(
            "this needs the task's county or the admin role".into(),
        )),
        _ => Ok(()),
    }
}

/// The unit a code names, checked against the caller: a county token reaches only its county.
fn target(s: &AppState, role: &Role, code: &str) -> Result<TaskTarget, ApiError> {
    let t = s
        .service
        .task_target(code)
        .map_err(|e| ApiError::Unprocessable {
            field: "unit".into(),
            message: e.to_string(),
        })?;
    if let Role::County(c) = role {
        if t.county.as_deref() != Some(c.as_str()) {
            return Err(ApiError::Forbidden(format!(
                "unit {code} is outside county {c}, the scope of this token"
            )));
        }
    }
    Ok(t)
}

pub async fn create_task(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::field("id", "an event id (integer)"))?;
    command_center(&who.role)?;
    let query = EventQuery {
        id: Some(id),
        scope: who.role.scope(),
        ..EventQuery::default()
    };
    let event = s
        .service
        .store(move |st| Ok(st.events(&query)?.into_iter().next()))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no event {id}")))?;
    let b = body(&bytes, &["reason", "unit"], false)?;
    let pl = &event.event.placement;
    let target = match (&b.unit, &pl.township, &pl.county) {
        (Some(code), ..) => target(&s, &who.role, code)?,
        (None, Some(t), county) => TaskTarget {
            unit: t.clone(),
            level: "township".into(),
            county: county.clone(),
        },
        (None, None, Some(c)) => TaskTarget {
            unit: c.clone(),
            level: "county".into(),
            county: Some(c.clone()),
        },
        (None, None, None) => {
            return Err(ApiError::field(
                "unit",
                "missing: the event lies outside every unit; name the township",
            ))
        }
    };
    let task = s
        .service
        .create_task_for(id, target, b.reason, who.actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(feature(
            &task,
            s.service.clock().now(),
            s.service.ui().lang(),
        )),
    )
        .into_response())
}

pub async fn reassign(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let id = parse_id(&id)?;
    let task = scoped(&s, &who.role, id).await?;
    command_center(&who.role)?;
    let b = body(&bytes, &["unit", "reason", "expect"], true)?;
    still_as_seen(&task, &b)?;
    let target = target(&s, &who.role, b.unit.as_deref().unwrap_or_default())?;
    // Already there: nothing to move, whatever the state (the store refuses it too, for a
    // reassignment that raced this one to the same unit).
    let same_unit = |unit: &str| ApiError::SameUnit {
        id: task.id,
        unit: unit.to_string(),
        name: s.service.unit_name(unit),
    };
    if target.unit == task.unit {
        return Err(same_unit(&task.unit));
    }
    let unit = target.unit.clone();
    let task = match s
        .service
        .reassign_task(task.id, target, b.reason, who.actor)
        .await
    {
        Err(TaskFailure::Task(TaskError::Illegal(i))) if i.action == REASSIGN_SAME_UNIT => {
            return Err(same_unit(&unit))
        }
        other => other?,
    };
    Ok(Json(feature(
        &task,
        s.service.clock().now(),
        s.service.ui().lang(),
    )))
}

async fn one_reason(
    s: AppState,
    who: Who,
    id: String,
    bytes: Bytes,
    action: OperatorAction,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let task = scoped(&s, &who.role, id).await?;
    command_center(&who.role)?;
    let b = body(&bytes, &["reason", "expect"], false)?;
    still_as_seen(&task, &b)?;
    let task = s
        .service
        .review_task(task.id, action, b.reason, who.actor)
        .await?;
    Ok(Json(feature(
        &task,
        s.service.clock().now(),
        s.service.ui().lang(),
    )))
}

pub async fn cancel(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    one_reason(s, who, id, bytes, OperatorAction::Cancel).await
}

pub async fn send_back(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    one_reason(s, who, id, bytes, OperatorAction::SendBack).await
}

pub async fn reopen(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    one_reason(s, who, id, bytes, OperatorAction::Reopen).await
}

pub async fn photo(
    State(s): State<AppState>,
    who: Who,
    _: NoParams,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    // A patrol that reported the verdict may see its photo even after the task moved to
    // another township; otherwise the task's scope decides.
    let task = s
        .service
        .task(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no task {id}")))?;
    let verdict = s.service.verdict_of(id).await?;
    let reporter = verdict.as_ref().is_some_and(|v| v.actor == who.actor.id);
    if !reporter {
        scoped(&s, &who.role, task.id).await?;
    }
    let photo = s
        .service
        .verdict_photo(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("task {id} has no verdict photo")))?;
    Ok((
        [
            (header::CONTENT_TYPE, photo.content_type.to_string()),
            // The bytes never change for a sha256; the token decides who gets them.
            (header::CACHE_CONTROL, "private, max-age=86400".to_string()),
            (header::ETAG, format!("\"{}\"", photo.sha256)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        photo.bytes,
    )
        .into_response())
}
