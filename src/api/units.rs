//! `GET /api/v1/units/{code}`: what the store knows of a unit (county, township, village or
//! parcel code): counts of hotspots and events, last seen. Names and geometry come with the
//! locate layers.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::Json;

use super::auth::Caller;
use super::{ApiError, AppState};

pub async fn one(
    State(s): State<AppState>,
    Caller(role): Caller,
    Path(code): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ApiError::field("code", "a unit code (digits)"));
    }
    if !role.reaches(&code) {
        return Err(ApiError::Forbidden(format!(
            "unit {code} is outside the scope of this token"
        )));
    }
    let c = code.clone();
    let stats = s.service.store(move |st| st.unit(&c)).await?;
    if stats.level.is_none() {
        return Err(ApiError::NotFound(format!(
            "no hotspot or event in unit {code}"
        )));
    }
    Ok(Json(stats))
}
