//! `POST /api/v1/scenes`: a scene file as the body (any raster GDAL reads, DESIGN.md layout).
//! The body streams to a file under `<data_dir>/uploads/` while it is hashed, so a 1 GiB granule
//! never sits in memory; the scan then runs like an inbox scene. `?name=` names it in records.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::auth::Caller;
use super::{ApiError, AppState};

pub async fn upload(
    State(s): State<AppState>,
    Caller(role): Caller,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    role.require_admin("uploading scenes")?;
    let limit = s.limits.scene_bytes;
    if let Some(k) = q.keys().find(|k| k.as_str() != "name") {
        return Err(ApiError::field(
            k.as_str(),
            "unknown parameter; known: name",
        ));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let name = q
        .get("name")
        .cloned()
        .unwrap_or_else(|| "upload.tif".into());
    if name.contains('/') || name.contains('\\') || name.starts_with('.') || name.len() > 200 {
        return Err(ApiError::field("name", "a plain file name"));
    }
    let dir = s.service.data_dir().join("uploads");
    // A full disk is a 503 naming it (and `healthz` degraded), not a bare 500.
    let io = |path: &std::path::Path, e: std::io::Error| -> ApiError {
        s.service
            .storage()
            .note(crate::service::ServiceError::Io {
                path: path.to_path_buf(),
                source: e,
            })
            .into()
    };
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| io(&dir, e))?;
    let tmp = dir.join(format!(".{}.part", unique()));
    let result = receive(body, &tmp, limit).await.map_err(|e| match e {
        Received::Api(a) => a,
        Received::Io(e) => io(&tmp, e),
    });
    let sha = match result {
        Ok(sha) => sha,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    // Named after the content, with the client's extension, so GDAL picks the right driver.
    let ext = std::path::Path::new(&name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("tif")
        .to_string();
    let path = dir.join(format!("{sha}.{ext}"));
    if let Err(e) = tokio::fs::rename(&tmp, &path).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(io(&path, e));
    }
    let done = s
        .service
        .ingest_scene_hashed(&path, &name, sha, "upload")
        .await;
    let _ = tokio::fs::remove_file(&path).await;
    let done = done.map_err(|e| match e {
        // The client knows its file by its name, not by our upload path.
        e @ crate::service::ServiceError::Scan { .. } => ApiError::BadBody {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: crate::service::inbox::chain(&e).replace(&path.display().to_string(), &name),
            details: Vec::new(),
        },
        other => other.into(),
    })?;
    let status = if done.report.already_ingested {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(done)))
}

/// Why receiving an upload failed: the request, or the disk.
enum Received {
    Api(ApiError),
    Io(std::io::Error),
}

impl From<ApiError> for Received {
    fn from(e: ApiError) -> Received {
        Received::Api(e)
    }
}

/// Streams the body to `path`, hashing it; over `limit` → 413.
async fn receive(body: Body, path: &std::path::Path, limit: usize) -> Result<String, Received> {
    let internal = Received::Io;
    let mut file = tokio::fs::File::create(path).await.map_err(internal)?;
    let mut hash = Sha256::new();
    let mut n = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: format!("cannot read the body: {e}"),
            details: Vec::new(),
        })?;
        n += chunk.len();
        if n > limit {
            return Err(ApiError::TooLarge { limit }.into());
        }
        hash.update(&chunk);
        file.write_all(&chunk).await.map_err(internal)?;
    }
    if n == 0 {
        return Err(ApiError::BadBody {
            status: StatusCode::BAD_REQUEST,
            message: "empty body: send the scene file as the request body".into(),
            details: Vec::new(),
        }
        .into());
    }
    file.flush().await.map_err(internal)?;
    Ok(crate::service::hex(&hash.finalize()))
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
