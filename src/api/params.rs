//! Query parameters of the list endpoints, parsed by hand so every error names its parameter
//! and a misspelt parameter is an error, not a silently ignored filter. The endpoints that take
//! none say so with [`NoParams`]: any parameter is refused there too (`?sinse=` on
//! `/verdicts/mine` answered the whole record as if it were a filter).

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, NaiveDate, Utc};

use super::auth::Role;
use super::ApiError;
use crate::hotspot::Confidence;
use crate::store::Scope;

/// The filters shared by `GET /hotspots` and `GET /events`.
#[derive(Debug, Clone)]
pub struct Filters {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub bbox: Option<[f64; 4]>,
    pub unit: Option<String>,
    pub source: Option<String>,
    pub confidence: Option<Confidence>,
    pub limit: usize,
    pub scope: Scope,
}

const KNOWN: [&str; 8] = [
    "from",
    "to",
    "bbox",
    "unit",
    "source",
    "confidence",
    "limit",
    "cursor",
];

/// The extractor of an endpoint that takes no query parameters: any is a 400 naming it (the
/// first by name), as the endpoints with parameters refuse the ones they do not know. Put after
/// the token's extractor, so a request without a token is a 401 first, as everywhere.
#[derive(Debug, Clone, Copy)]
pub struct NoParams;

impl<S: Send + Sync> FromRequestParts<S> for NoParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Query(q) = Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::field("query", e.body_text()))?;
        none_taken(&q)?;
        Ok(NoParams)
    }
}

/// `q` is empty, or 400 naming its first parameter (by name): the endpoint takes none.
fn none_taken(q: &HashMap<String, String>) -> Result<(), ApiError> {
    match q.keys().min() {
        Some(k) => Err(ApiError::field(
            k.as_str(),
            "unknown parameter; none are taken",
        )),
        None => Ok(()),
    }
}

/// The longest unit code or parcel id a parameter may carry (characters).
pub const MAX_CODE_CHARS: usize = 64;
/// The longest short text of a record: satellite, instrument, version, source name (characters).
pub const MAX_NAME_CHARS: usize = 64;

/// `v` is at most `max` characters, or 400 naming `field`: a text field is bounded wherever it
/// enters (a megabyte "satellite" is stored, indexed and sent back in every list otherwise).
pub fn max_chars(field: &str, v: &str, max: usize) -> Result<(), ApiError> {
    if v.chars().count() > max {
        return Err(ApiError::field(
            field,
            format!("at most {max} characters (got {})", v.chars().count()),
        ));
    }
    Ok(())
}

/// Parses and checks the filters against the caller's role: a `unit` outside the role → 403.
pub fn filters(q: &HashMap<String, String>, role: &Role) -> Result<Filters, ApiError> {
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::field(
            k.as_str(),
            format!("unknown parameter; known: {}", KNOWN.join(", ")),
        ));
    }
    let from = q.get("from").map(|v| time("from", v, false)).transpose()?;
    let to = q.get("to").map(|v| time("to", v, true)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ApiError::field("to", "is before `from`"));
        }
    }
    let bbox = q.get("bbox").map(|v| bbox(v)).transpose()?;
    let unit = q.get("unit").map(|u| u.trim().to_string());
    if let Some(u) = &unit {
        max_chars("unit", u, MAX_CODE_CHARS)?;
        if u.is_empty() || !u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ApiError::field("unit", "a unit code (digits)"));
        }
        if !role.reaches(u) {
            return Err(ApiError::Forbidden(format!(
                "unit {u} is outside the scope of this token"
            )));
        }
    }
    if let Some(s) = q.get("source") {
        max_chars("source", s, MAX_NAME_CHARS)?;
    }
    let confidence = q
        .get("confidence")
        .map(|c| {
            Confidence::parse(c).ok_or_else(|| {
                ApiError::field("confidence", "l, n, h (or low, nominal, high) or 0–100")
            })
        })
        .transpose()?;
    let limit = super::paged::limit(q)?;
    Ok(Filters {
        from,
        to,
        bbox,
        unit,
        source: q.get("source").cloned().filter(|s| !s.is_empty()),
        confidence,
        limit,
        scope: role.scope(),
    })
}

/// RFC 3339 or a date (`from` = start of the day, `to` = its end).
fn time(name: &str, v: &str, end_of_day: bool) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let t = if end_of_day {
            d.and_hms_opt(23, 59, 59)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        if let Some(t) = t {
            return Ok(t.and_utc());
        }
    }
    Err(ApiError::field(
        name,
        format!("`{v}` is not an RFC 3339 time (2024-06-08T18:00:00Z) or a date (2024-06-08)"),
    ))
}

fn bbox(v: &str) -> Result<[f64; 4], ApiError> {
    let parts: Vec<Option<f64>> = v.split(',').map(|p| p.trim().parse().ok()).collect();
    let err = |m: &str| ApiError::field("bbox", format!("`{v}`: {m}"));
    if parts.len() != 4 || parts.iter().any(|p| p.is_none()) {
        return Err(err("four numbers west,south,east,north"));
    }
    let b = [
        parts[0].unwrap_or_default(),
        parts[1].unwrap_or_default(),
        parts[2].unwrap_or_default(),
        parts[3].unwrap_or_default(),
    ];
    if !(-180.0..=180.0).contains(&b[0]) || !(-180.0..=180.0).contains(&b[2]) {
        return Err(err("longitudes must lie in -180..180"));
    }
    if !(-90.0..=90.0).contains(&b[1]) || !(-90.0..=90.0).contains(&b[3]) {
        return Err(err("latitudes must lie in -90..90"));
    }
    if b[0] > b[2] || b[1] > b[3] {
        return Err(err("west must be <= east and south <= north"));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn field_of(e: ApiError) -> String {
        match e {
            ApiError::BadField { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_parameter() {
        let a = Role::Admin;
        assert_eq!(
            field_of(filters(&q(&[("bbox", "1,2,3")]), &a).unwrap_err()),
            "bbox"
        );
        assert_eq!(
            field_of(filters(&q(&[("from", "yesterday")]), &a).unwrap_err()),
            "from"
        );
        assert_eq!(
            field_of(filters(&q(&[("confidence", "x")]), &a).unwrap_err()),
            "confidence"
        );
        assert_eq!(
            field_of(filters(&q(&[("untis", "4105")]), &a).unwrap_err()),
            "untis"
        );
        let f = filters(
            &q(&[
                ("from", "2024-06-08"),
                ("to", "2024-06-08"),
                ("bbox", "114,35,115,36"),
            ]),
            &a,
        )
        .unwrap();
        assert_eq!(f.bbox, Some([114.0, 35.0, 115.0, 36.0]));
        assert!(f.to.unwrap() > f.from.unwrap());
    }

    #[test]
    fn a_unit_outside_the_role_is_forbidden() {
        let c = Role::County("410526".into());
        assert!(matches!(
            filters(&q(&[("unit", "410527")]), &c),
            Err(ApiError::Forbidden(_))
        ));
        assert!(filters(&q(&[("unit", "410526100")]), &c).is_ok());
    }
}
