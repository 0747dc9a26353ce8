//! `GET /api/v1/rankings/daily?date=YYYY-MM-DD&level=county|township|city|province`: the fair daily ranking
//! (JSON, the dashboard's table), and `GET /api/v1/rankings/daily.html` with the same
//! parameters: the self-contained report with its map.
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

/// Parsed `date` and `level`; unknown parameters are refused.
fn parse(q: &HashMap<String, String>) -> Result<(NaiveDate, RankLevel), ApiError> {
    if let Some(k) = q.keys().find(|k| !matches!(k.as_str(), "date" | "level")) {
        return Err(ApiError::field(
            k.as_str(),
            "unknown parameter; known: date, level",
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
    Ok((date, level))
}

async fn table(
    s: &AppState,
    role: &Role,
    q: &HashMap<String, String>,
) -> Result<DailyRanking, ApiError> {
    if let Role::Patrol(_) = role {
        return Err(ApiError::Forbidden(
            "rankings are for admin and county tokens".into(),
        ));
    }
    let (date, level) = parse(q)?;
    let placer = s.service.placer().clone();
    let cfg = s.service.rank_config().clone();
    let now = s.service.clock().now();
    Ok(s.service
        .store(move |st| rankings::daily(st, placer.as_ref(), &cfg, date, level, now))
        .await?)
}

pub async fn daily(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(table(&s, &role, &q).await?))
}

pub async fn daily_html(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
) -> Result<impl IntoResponse, ApiError> {
    let t = table(&s, &role, &q).await?;
    let placer = s.service.placer().clone();
    let cfg = s.service.rank_config().clone();
    let lang = s.service.ui().lang();
    let html = s
        .service
        .store(move |st| rankings::report_html(st, placer.as_ref(), &cfg, &t, lang))
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html))
}
