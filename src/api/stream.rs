//! `GET /api/v1/stream`: live updates as Server-Sent Events, for the dashboard and the patrol
//! page. Events: `hello` (on connect: the role), `hotspots` `{count, bbox, ids}`, `event` `{id}`,
//! `task` `{id, state}`, `verdict` `{task_id}`, and `resync` when this stream fell behind and the
//! page should refetch everything. A `ping` event (`{}`) every 15 s keeps proxies from closing it
//! and lets the page tell a live stream from a dead one (a browser's `EventSource` does not see
//! comments, and a half-open connection raises no error): `hello` carries the interval as
//! `ping_s`, and a page that hears nothing for two of them reconnects.
//!
//! Auth: the bearer header like every endpoint, or `?token=` because a browser's `EventSource`
//! cannot set headers (a deviation from DESIGN.md, for this endpoint only; the token then shows
//! in access logs of proxies, so deployments that log query strings should strip it). Updates
//! are scoped like the list endpoints: a county or patrol token hears only its units.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures_util::stream::{self, Stream, StreamExt};
use std::sync::Arc;
use tokio::sync::broadcast::{self, error::RecvError};

use super::auth::{Caller, Role};
use super::{ApiError, AppState};
use crate::service::live::{Published, Visible};
use crate::service::Live;
use crate::store::Scope;

/// Seconds between keep-alive comments.
pub const KEEP_ALIVE_S: u64 = 15;

pub async fn stream(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(k) = q.keys().find(|k| k.as_str() != "token") {
        return Err(ApiError::field(
            k.as_str(),
            "unknown parameter; known: token",
        ));
    }
    let role = match (
        headers.contains_key(axum::http::header::AUTHORIZATION),
        q.get("token"),
    ) {
        (false, Some(t)) => s
            .tokens
            .role_of(t)
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?,
        _ => caller(&s, headers).await?,
    };
    let events = updates(s.service.live().clone(), role);
    Ok(Sse::new(events).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(KEEP_ALIVE_S))
            .event(Event::default().event("ping").data("{}")),
    ))
}

/// The header path of auth, through the same extractor as every other endpoint.
async fn caller(s: &AppState, headers: HeaderMap) -> Result<Role, ApiError> {
    use axum::extract::FromRequestParts;
    let mut req = axum::http::Request::new(());
    *req.headers_mut() = headers;
    let (mut parts, ()) = req.into_parts();
    Caller::from_request_parts(&mut parts, s)
        .await
        .map(|Caller(r)| r)
}

/// What a stream holds between events: the hub, its place in it, its scope, and the events of
/// the last message not yet sent (a message is one change, possibly several events).
struct Listening {
    live: Live,
    rx: broadcast::Receiver<Arc<Published>>,
    scope: Scope,
    pending: Arc<[Visible]>,
    next: usize,
}

/// The SSE events one subscriber sees: `hello`, then every update in its scope, until the
/// service closes the hub.
fn updates(live: Live, role: Role) -> impl Stream<Item = Result<Event, Infallible>> {
    let hello = Event::default()
        .event("hello")
        .data(serde_json::json!({"role": role.name(), "ping_s": KEEP_ALIVE_S}).to_string());
    let state = Listening {
        rx: live.subscribe(),
        live,
        scope: role.scope(),
        pending: Arc::from([]),
        next: 0,
    };
    let rest = stream::unfold(state, |mut s: Listening| async move {
        loop {
            if let Some(v) = s.pending.get(s.next) {
                s.next += 1;
                let event = Event::default().event(v.name).data(&v.data);
                return Some((Ok(event), s));
            }
            let got = tokio::select! {
                got = s.rx.recv() => got,
                _ = s.live.closed() => return None,
            };
            match got {
                Ok(message) => {
                    s.pending = message.for_scope(&s.scope);
                    s.next = 0;
                }
                Err(RecvError::Lagged(n)) => {
                    let event = Event::default()
                        .event("resync")
                        .data(serde_json::json!({"missed": n}).to_string());
                    return Some((Ok(event), s));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    stream::once(async move { Ok(hello) }).chain(rest)
}
