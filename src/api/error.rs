//! API errors: a status and a JSON body `{"error": ..., "field": ..., "code": ..., "message_zh": ...}`.
//! Bad input names the field (or header, or CSV line); internal errors are logged and answered
//! with a plain 500. `code` is stable per kind of failure (`bad_field`, `forbidden`, ...) for
//! programs; `message_zh` is the failure in Chinese for the people the answer is shown to, from
//! the catalogue's `api.err.*` keys (the English `error` keeps the detail).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::service::ServiceError;
use crate::store::jobs::FailureKind;

/// An API failure.
#[derive(Debug)]
pub enum ApiError {
    /// 401: no or unknown bearer token.
    Unauthorized(String),
    /// 403: the token's role does not reach this unit or action.
    Forbidden(String),
    /// 403: a write would land in a unit the token does not reach (`unit`; `None`: outside every
    /// unit). `field` names what placed it (e.g. `position`).
    OutOfReach {
        message: String,
        field: Option<String>,
        unit: Option<String>,
    },
    /// 400: a field (query parameter, JSON field, header) is wrong.
    BadField { field: String, message: String },
    /// 400/422: the body as a whole is unusable; `details` lists the problems.
    BadBody {
        status: StatusCode,
        message: String,
        details: Vec<String>,
    },
    /// 413: the body is over the limit.
    TooLarge { limit: usize },
    /// 404.
    NotFound(String),
    /// 409: the thing is in a state that refuses the action (e.g. a verdict on a closed task).
    Conflict {
        message: String,
        state: String,
        action: String,
    },
    /// 409: the task changed since the caller saw it (its `version` is no longer the `expect`
    /// the caller sent): look again before acting.
    Stale {
        id: i64,
        state: String,
        version: String,
    },
    /// 422: a field is well-formed but unusable (e.g. a photo that is not an image).
    Unprocessable { field: String, message: String },
    /// 422: a task reassigned to the unit that already holds it (`unit`, by `name` when the
    /// layers know it): nothing to move, whatever the task's state.
    SameUnit {
        id: i64,
        unit: String,
        name: Option<String>,
    },
    /// 503: busy, retry later.
    Busy(String),
    /// 503: this server lacks what the request needs (e.g. Chromium for a PDF); the message
    /// says what to install or configure.
    Unavailable(String),
    /// 503: the storage cannot take writes (disk full, I/O error, read-only); `cause` says which.
    StorageUnavailable { cause: String },
    /// 501: the configured store does not do this yet (`StoreError::Unsupported`, e.g. a part
    /// of the PostgreSQL store still being ported); the message names the part. Not a fault of
    /// the request, nor of the server's state: the deployment's choice of store.
    NotImplemented(String),
    /// 500: logged, not shown.
    Internal(String),
}

impl ApiError {
    /// 403 for a write that lands outside the caller's scope: in `unit`, or outside every unit.
    pub fn out_of_reach(field: Option<&str>, unit: Option<String>) -> ApiError {
        let message = match &unit {
            Some(u) => format!(
                "the write lands in unit {u}, outside the scope of this token; nothing was stored"
            ),
            None => "the write lands outside every known unit, which only the admin role may \
                     write; nothing was stored"
                .to_string(),
        };
        ApiError::OutOfReach {
            message,
            field: field.map(String::from),
            unit,
        }
    }

    /// The stable code of the failure, as the body's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::OutOfReach { .. } => "out_of_reach",
            ApiError::BadField { .. } => "bad_field",
            ApiError::BadBody { .. } => "bad_body",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { .. } => "conflict",
            ApiError::Stale { .. } => "stale",
            ApiError::Unprocessable { .. } => "unprocessable",
            ApiError::SameUnit { .. } => "same_unit",
            ApiError::Busy(_) => "busy",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::StorageUnavailable { .. } => "storage_unavailable",
            ApiError::NotImplemented(_) => "not_implemented",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The failure in Chinese, as the body's `message_zh`.
    pub fn message_zh(&self) -> String {
        let l = crate::i18n::Lang::ZhCn;
        match self {
            ApiError::Unauthorized(_) => l.t("api.err.unauthorized").into(),
            ApiError::Forbidden(_) => l.t("api.err.forbidden").into(),
            ApiError::OutOfReach { .. } => l.t("api.err.out_of_reach").into(),
            ApiError::BadField { field, .. } => {
                l.f("api.err.bad_field", &[("field", &field_label(l, field))])
            }
            ApiError::BadBody { .. } => l.t("api.err.bad_body").into(),
            ApiError::TooLarge { limit } => l.f("api.err.too_large", &[("limit", limit)]),
            ApiError::NotFound(_) => l.t("api.err.not_found").into(),
            ApiError::Conflict { state, .. } => {
                l.f("api.err.conflict", &[("state", &l.state_name(state))])
            }
            ApiError::Stale { id, state, .. } => l.f(
                "api.err.stale",
                &[("id", id), ("state", &l.state_name(state))],
            ),
            ApiError::Unprocessable { field, .. } => l.f(
                "api.err.unprocessable",
                &[("field", &field_label(l, field))],
            ),
            ApiError::SameUnit { id, unit, name } => l.f(
                "api.err.same_unit",
                &[("id", id), ("unit", name.as_ref().unwrap_or(unit))],
            ),
            ApiError::Busy(_) => l.t("api.err.busy").into(),
            ApiError::Unavailable(_) => l.t("api.err.unavailable").into(),
            ApiError::StorageUnavailable { .. } => l.t("api.err.storage_unavailable").into(),
            ApiError::NotImplemented(_) => l.t("api.err.not_implemented").into(),
            ApiError::Internal(_) => l.t("api.err.internal").into(),
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::BadField {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A field as the pages call it (`纬度` for `lat`); a field without a label by its name.
fn field_label(l: crate::i18n::Lang, field: &str) -> String {
    let key = match field {
        "lat" => "field.lat",
        "lon" => "field.lon",
        "verdict" => "field.verdict",
        "photo" => "field.photo",
        "note" => "field.note",
        "acted_at" | "time" => "field.time",
        "reason" => "field.reason",
        "unit" => "field.unit",
        "date" => "field.date",
        "level" => "field.level",
        // The lists' filters and pages, as the dashboard sends them.
        "from" => "field.from",
        "to" => "field.to",
        "bbox" => "field.bbox",
        "limit" => "field.limit",
        "cursor" => "field.cursor",
        "status" => "field.status",
        "task" => "field.task",
        "order" => "field.order",
        "review" => "field.review",
        "confidence" => "field.confidence",
        "entity" => "field.entity",
        // Bodies: the task's version a move expects, a camera alert's position, the bulletin's
        // comment, a body that cannot be read at all.
        "expect" => "field.expect",
        "position" => "field.position",
        "comment" => "field.comment",
        "body" => "field.body",
        other => return other.to_string(),
    };
    l.t(key).to_string()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, message_zh) = (self.code(), self.message_zh());
        let (status, mut body) = match self {
            ApiError::Unauthorized(m) => (
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"error": m, "field": "Authorization"}),
            ),
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, serde_json::json!({"error": m})),
            ApiError::OutOfReach {
                message,
                field,
                unit,
            } => (
                StatusCode::FORBIDDEN,
                serde_json::json!({"error": message, "field": field, "unit": unit}),
            ),
            ApiError::BadField { field, message } => (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": format!("`{field}`: {message}"), "field": field}),
            ),
            ApiError::BadBody {
                status,
                message,
                details,
            } => (
                status,
                serde_json::json!({"error": message, "field": "body", "details": details}),
            ),
            ApiError::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                serde_json::json!({
                    "error": format!("body larger than the limit of {limit} bytes"),
                    "field": "body",
                    "limit_bytes": limit,
                }),
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, serde_json::json!({"error": m})),
            ApiError::Conflict {
                message,
                state,
                action,
            } => (
                StatusCode::CONFLICT,
                serde_json::json!({"error": message, "state": state, "action": action}),
            ),
            ApiError::Stale { id, state, version } => (
                StatusCode::CONFLICT,
                serde_json::json!({
                    "error": format!("task {id} changed since it was seen (it is now {state}); look at it again before acting"),
                    "field": "expect",
                    "state": state,
                    "version": version,
                }),
            ),
            ApiError::Unprocessable { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({"error": format!("`{field}`: {message}"), "field": field}),
            ),
            ApiError::SameUnit { id, unit, name } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({
                    "error": format!(
                        "task {id} is already the task of {}; choose another unit to reassign it to",
                        match &name {
                            Some(n) => format!("{n} ({unit})"),
                            None => format!("unit {unit}"),
                        }
                    ),
                    "field": "unit",
                    "unit": unit,
                }),
            ),
            ApiError::Busy(m) | ApiError::Unavailable(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"error": m}),
            ),
            ApiError::StorageUnavailable { cause } => (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({
                    "error": format!("storage unavailable, nothing was stored: {cause}; retry once the operator has freed space"),
                    "field": null,
                    "cause": cause,
                }),
            ),
            ApiError::NotImplemented(m) => (
                StatusCode::NOT_IMPLEMENTED,
                serde_json::json!({"error": m, "field": null}),
            ),
            ApiError::Internal(m) => {
                tracing::error!("internal error: {m}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    serde_json::json!({"error": "internal error"}),
                )
            }
        };
        body["code"] = code.into();
        body["message_zh"] = message_zh.into();
        let mut resp = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> ApiError {
        if let Some(cause) = e.storage_cause() {
            return ApiError::StorageUnavailable { cause };
        }
        match e {
            ServiceError::Scan { .. } => ApiError::BadBody {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: crate::service::inbox::chain(&e),
                details: Vec::new(),
            },
            // A worker's failure (#19), answered as the same failure here would be: a time
            // or feed error 400, a product that cannot be read 422 (as `Time`/`Feed` and
            // `Scan`/`FeedRow` above and below), what the deployment lacks 503 saying it.
            ServiceError::JobFailed { kind, message, .. } => match kind {
                FailureKind::BadInput => ApiError::BadBody {
                    status: StatusCode::BAD_REQUEST,
                    message,
                    details: Vec::new(),
                },
                FailureKind::Unreadable => ApiError::BadBody {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    message,
                    details: Vec::new(),
                },
                FailureKind::Unavailable => ApiError::Unavailable(message),
            },
            ServiceError::Feed(ref r) => ApiError::BadBody {
                status: StatusCode::BAD_REQUEST,
                message: r.to_string(),
                details: Vec::new(),
            },
            ServiceError::Time { .. } => ApiError::BadBody {
                status: StatusCode::BAD_REQUEST,
                message: e.to_string(),
                details: Vec::new(),
            },
            ServiceError::FeedRow { .. } => ApiError::BadBody {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: crate::service::inbox::chain(&e),
                details: Vec::new(),
            },
            ServiceError::Busy(_) => ApiError::Busy(e.to_string()),
            ServiceError::Store(crate::store::StoreError::OutOfReach { unit }) => {
                ApiError::out_of_reach(None, unit)
            }
            // The deployment's store cannot do this yet: 501 naming the part.
            ServiceError::Store(s @ crate::store::StoreError::Unsupported { .. }) => {
                ApiError::NotImplemented(s.to_string())
            }
            other => ApiError::Internal(crate::service::inbox::chain(&other)),
        }
    }
}

/// Maps a body-buffering rejection: over the limit → 413, anything else → 400.
pub fn body_rejection(r: axum::extract::rejection::BytesRejection, limit: usize) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { limit }
    } else {
        ApiError::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: format!("cannot read the body: {}", r.body_text()),
            details: Vec::new(),
        }
    }
}

/// Makes every error answer JSON. axum's own rejections (a body over a route's limit — 413 —, a
/// path or query that cannot be decoded, a method the route does not take) are plain text; this
/// turns them into `{"error", "field"}` like the answers of the handlers. Only error answers
/// whose type is not JSON are touched, and their bodies are short texts.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    if is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let error = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let field = match status {
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE => Some("body"),
        StatusCode::UNAUTHORIZED => Some("Authorization"),
        _ => None,
    };
    let l = crate::i18n::Lang::ZhCn;
    let (code, message_zh) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", l.t("api.err.body_too_large")),
        StatusCode::UNAUTHORIZED => ("unauthorized", l.t("api.err.unauthorized")),
        StatusCode::NOT_FOUND => ("not_found", l.t("api.err.not_found")),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", l.t("api.err.method")),
        s if s.is_client_error() => ("bad_request", l.t("api.err.bad_request")),
        _ => ("internal", l.t("api.err.internal")),
    };
    let body =
        serde_json::json!({"error": error, "field": field, "code": code, "message_zh": message_zh})
            .to_string();
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chinese_message_names_the_state_and_the_field_as_the_pages_do() {
        let c = ApiError::Conflict {
            message: "cannot cancel a verified task".into(),
            state: "verified".into(),
            action: "cancel".into(),
        };
        assert_eq!(c.message_zh(), "任务当前状态为“已核查”，不允许此操作");
        assert_eq!(
            ApiError::field("acted_at", "ahead of the clock").message_zh(),
            "“核查时间”有误"
        );
        // The lists' filters are named in Chinese too (the dashboard shows `message_zh`).
        assert_eq!(
            ApiError::field("bbox", "four numbers").message_zh(),
            "“地图范围”有误"
        );
        assert_eq!(
            ApiError::field("limit", "1 to 5000").message_zh(),
            "“每页条数”有误"
        );
        assert_eq!(
            ApiError::field("from", "a time").message_zh(),
            "“开始时间”有误"
        );
        // A field without a label (a misspelt parameter) is named as it is.
        assert_eq!(
            ApiError::field("levle", "unknown parameter").message_zh(),
            "“levle”有误"
        );
    }

    /// A part of the store this backend does not do yet is 501 with the JSON error body naming
    /// the part, from the service or from a task change; any other store failure stays 500 and
    /// says nothing of itself.
    #[tokio::test]
    async fn an_unsupported_store_part_is_501_naming_it() {
        use crate::service::tasks::TaskFailure;
        use crate::service::ServiceError;
        use crate::store::tasks::TaskError;
        use crate::store::StoreError;
        let unsupported = || StoreError::Unsupported {
            backend: "PostgreSQL",
            what: "escalations",
        };
        let answers = [
            ApiError::from(ServiceError::Store(unsupported())),
            ApiError::from(TaskFailure::Task(TaskError::Store(unsupported()))),
        ];
        for a in answers {
            let resp = a.into_response();
            assert_eq!(resp.status(), StatusCode::NOT_IMPLEMENTED);
            let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["code"], "not_implemented");
            assert_eq!(
                v["error"],
                "the PostgreSQL store does not support escalations yet"
            );
            assert_eq!(v["message_zh"], "所用的存储尚不支持此功能，请联系管理员");
            assert!(v["field"].is_null());
        }
        let other = ApiError::from(ServiceError::Store(StoreError::BadValue {
            table: "tasks",
            column: "state",
            value: "x".into(),
        }))
        .into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
