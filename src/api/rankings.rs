//! `GET /api/v1/rankings/daily?date=YYYY-MM-DD&level=county|township|city|province`: the fair daily ranking
//! (JSON, the dashboard's table); `GET /api/v1/rankings/daily.html` with the same parameters
//! and an optional `comment`: the bulletin (通报) as one self-contained page, and
//! `GET /api/v1/rankings/daily.pdf`: the same printed on A4 by headless Chromium
//! ([`crate::print`]; 503 naming what to install when there is none). A bulletin is numbered
//! (第N期) on its first rendering; a day that has not begun is refused (400), the table as the
//! bulletin: it has no fires yet, and would rank every unit first as if it were clean.
//!
//! Scope: leadership's table is public inside the system, so admin and every county token see
//! all units (a county compares itself with its neighbours); patrol tokens get 403.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDate;

use super::auth::{Caller, Role};
use super::{ApiError, AppState};
use crate::rank::facts::RankLevel;
use crate::rank::table::DailyRanking;
use crate::service::rankings;

/// Parsed `date` and `level` (and `comment` where `comment` is allowed); unknown parameters are
/// refused.
fn parse(
    q: &HashMap<String, String>,
    comment: bool,
) -> Result<(NaiveDate, RankLevel, Option<String>), ApiError> {
    let known = |k: &str| matches!(k, "date" | "level") || (comment && k == "comment");
    if let Some(k) = q.keys().find(|k| !known(k)) {
        return Err(ApiError::field(
            k.as_str(),
            if comment {
                "unknown parameter; known: date, level, comment"
            } else {
                "unknown parameter; known: date, level"
            },
        ));
    }
    let date = q
        .get("date")
        .ok_or_else(|| ApiError::field("date", "required, YYYY-MM-DD"))?;
    let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::field("date", "a calendar date YYYY-MM-DD"))?;
    let level = match q.get("level") {
        None => RankLevel::County,
        Some(l) => RankLevel::parse(l.trim())
            .ok_or_else(|| ApiError::field("level", "county, township, city or province"))?,
    };
    let comment = q.get("comment").cloned();
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(ApiError::field("comment", "at most 2,000 characters"));
    }
    Ok((date, level, comment))
}

/// Leadership's table is for admin and county tokens, not patrols.
fn readable(role: &Role) -> Result<(), ApiError> {
    if let Role::Patrol(_) = role {
        return Err(ApiError::Forbidden(
            "rankings are for admin and county tokens".into(),
        ));
    }
    Ok(())
}

async fn table(
    s: &AppState,
    role: &Role,
    q: &HashMap<String, String>,
    comment: bool,
) -> Result<(DailyRanking, Option<String>), ApiError> {
    readable(role)?;
    let (date, level, text) = parse(q, comment)?;
    let placer = s.service.placer().clone();
    let cfg = s.service.rank_config().clone();
    let now = s.service.clock().now();
    rankings::check_day_begun(&cfg, date, now).map_err(|m| ApiError::field("date", m))?;
    let t = s
        .service
        .store(move |st| rankings::daily(st, placer.as_ref(), &cfg, date, level, now))
        .await?;
    Ok((t, text))
}

pub async fn daily(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(table(&s, &role, &q, false).await?.0))
}

/// The bulletin's HTML (numbering its issue on the first rendering).
async fn bulletin(
    s: &AppState,
    role: &Role,
    q: &HashMap<String, String>,
) -> Result<(DailyRanking, String), ApiError> {
    let (t, comment) = table(s, role, q, true).await?;
    let placer = s.service.placer().clone();
    let cfg = s.service.rank_config().clone();
    let report = s.service.report_config().clone();
    let lang = s.service.ui().lang();
    let now = s.service.clock().now();
    let table = t.clone();
    let html = s
        .service
        .store(move |st| {
            let opts = rankings::BulletinOptions {
                report: &report,
                comment: comment.as_deref(),
                lang,
                now,
            };
            rankings::report_html(st, placer.as_ref(), &cfg, &table, &opts)
        })
        .await?;
    Ok((t, html))
}

pub async fn daily_html(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    let (_, html) = bulletin(&s, &role, &q).await?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html))
}

/// One print at a time: each is a Chromium process of a few hundred MB.
static PRINTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

pub async fn daily_pdf(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    readable(&role)?;
    // The request's own faults first (a bad date or parameter is a 400 here too), then, before
    // any work, a deployment without Chromium answers at once, naming what to install.
    parse(&q, true)?;
    let chromium = crate::print::find_chromium(s.service.report_config().chromium.as_deref())
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let (t, html) = bulletin(&s, &role, &q).await?;
    let _slot = PRINTS
        .acquire()
        .await
        .map_err(|_| ApiError::Internal("print slots closed".into()))?;
    let pdf = tokio::task::spawn_blocking(move || crate::print::html_to_pdf(&html, &chromium))
        .await
        .map_err(|e| ApiError::Internal(format!("print task: {e}")))?
        .map_err(|e| ApiError::Internal(crate::service::inbox::chain(&e)))?;
    let name = format!("bulletin-{}-{}.pdf", t.level.as_str(), t.date);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        pdf,
    ))
}
