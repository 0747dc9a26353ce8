//! `POST /api/v1/scenes`: a scene file as the body (any raster GDAL reads, DESIGN.md layout).
//! The body streams to a file under `<data_dir>/uploads/` while it is hashed, so a 1 GiB granule
//! never sits in memory; the scan then runs like an inbox scene. `?name=` names it in records.
//!
//! Products whose meaning is in their names and partners come as `multipart/form-data`, one
//! part per file with its file name, in one request: an L1B pair, an SDR set, an official fire
//! product with its geolocation (VNP14IMG + VNP03IMG); or as a body with `?name=` for a single
//! product file (AFIMG, a VNP14IMG alone). The parts stream into one folder per request, under
//! their names, removed after the ingest; `limits.scene_bytes` bounds the parts together.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
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
    req: axum::extract::Request,
) -> Result<axum::response::Response, ApiError> {
    role.require_admin("uploading scenes")?;
    // The request whole (not headers + body): the multipart extractor reads the route's
    // `DefaultBodyLimit::disable()` from its extensions; rebuilt from headers alone it fell back
    // to axum's 2 MB and refused any larger part (a MODIS L1B file is 3–130 MB).
    let (parts, body) = req.into_parts();
    let headers = parts.headers.clone();
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
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let name = q
        .get("name")
        .cloned()
        .unwrap_or_else(|| "upload.tif".into());
    if !plain_name(&name) {
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
    if multipart || is_product_name(&name) {
        // Files that must keep their names (products are recognised by them) and lie together
        // (a pair, a set, a fire product beside its geolocation): one folder per request.
        let folder = dir.join(format!(".{}.d", unique()));
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|e| io(&folder, e))?;
        let result = async {
            let files = if multipart {
                receive_parts(axum::http::Request::from_parts(parts, body), &folder, limit).await?
            } else {
                let path = folder.join(&name);
                receive(body, &path, limit).await.map_err(|e| match e {
                    Received::Api(a) => a,
                    Received::Io(e) => io(&path, e),
                })?;
                vec![path]
            };
            ingest_files(&s, &files).await
        }
        .await;
        let _ = tokio::fs::remove_dir_all(&folder).await;
        return result;
    }
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
    if s.service.cluster().is_some() {
        // PostgreSQL (#19): a worker scans it; this node waits for the job.
        let unit = crate::worker::spool::Unit::File {
            path: path.clone(),
            name: name.clone(),
        };
        let shown = path.display().to_string();
        let spool = s
            .service
            .cluster()
            .map(|c| c.spool.clone())
            .unwrap_or_default();
        let queued = queue_upload(&s, unit, crate::worker::spool::SceneOp::Scene, |m| {
            crate::worker::spool::unspooled(&m.replace(&shown, &name), &spool, "the request")
        })
        .await;
        let _ = tokio::fs::remove_file(&path).await;
        return queued;
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
    Ok((status, Json(done)).into_response())
}

/// The answer to a stored upload: 201 with what was stored, 200 when it was stored before.
fn answer(done: crate::service::Ingested) -> axum::response::Response {
    let status = if done.report.already_ingested {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(done)).into_response()
}

/// Queues an uploaded product (a scene, an archive, a granule's files, a Landsat product's
/// files) as one job and waits up to `[worker] upload_wait_s` for a worker to settle it: then
/// the answer is the one a scan here would give (201/200 with what was stored; a failure by the
/// kind the job kept: 400, 422, or 503 for what the deployment lacks, with `shown` turning our
/// paths into the client's names); else 202 with the job, which goes on.
async fn queue_upload(
    s: &AppState,
    unit: crate::worker::spool::Unit,
    op: crate::worker::spool::SceneOp,
    shown: impl Fn(&str) -> String,
) -> Result<axum::response::Response, ApiError> {
    use crate::worker::spool::{self, Queued};
    let service = &s.service;
    let queued = match spool::queue_unit(service, unit, op, "upload").await {
        Ok(q) => q,
        Err(e @ crate::service::ServiceError::Scan { .. }) => {
            return Err(ApiError::BadBody {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: shown(&crate::service::inbox::chain(&e)),
                details: Vec::new(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    let (id, sha) = match queued {
        Queued::Stored { sha256 } => {
            let done = crate::service::Ingested {
                sha256: Some(sha256),
                report: crate::store::IngestReport {
                    already_ingested: true,
                    ..Default::default()
                },
                ..Default::default()
            };
            return Ok((StatusCode::OK, Json(done)).into_response());
        }
        Queued::Job { id, sha256, .. } => (id, sha256),
    };
    let wait = std::time::Duration::from_secs_f64(
        service.cluster().map_or(0.0, |c| c.worker.upload_wait_s),
    );
    let row = spool::wait_settled(service, id, wait, std::time::Duration::from_millis(100)).await?;
    match row.as_ref().and_then(spool::outcome) {
        Some(Ok(done)) => Ok(answer(done)),
        // The worker's failure with its kind: the status a scan here would give.
        Some(Err(crate::service::ServiceError::JobFailed {
            name,
            kind,
            message,
        })) => Err(crate::service::ServiceError::JobFailed {
            name,
            kind,
            message: shown(&message),
        }
        .into()),
        Some(Err(e)) => Err(e.into()),
        None => Ok((
            StatusCode::ACCEPTED,
            Json(serde_json::json!({
                "job": id,
                "sha256": sha,
                "state": row.map(|r| r.state),
            })),
        )
            .into_response()),
    }
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

fn plain_name(name: &str) -> bool {
    !(name.is_empty()
        || name.contains('/')
        || name.contains('\\')
        || name.starts_with('.')
        || name.len() > 200)
}

/// A name that only means something with its product's reader: an official fire product or a
/// file of an L1B pair / SDR set.
fn is_product_name(name: &str) -> bool {
    let p = std::path::Path::new(name);
    crate::service::is_fire_product(p)
        || crate::service::granules::part_of(p).is_some()
        || crate::service::is_landsat_product(p)
        || crate::service::is_sentinel2_product(p)
}

fn bad(message: String) -> ApiError {
    ApiError::BadBody {
        status: StatusCode::BAD_REQUEST,
        message,
        details: Vec::new(),
    }
}

/// Streams every file part of a multipart body into `folder` under its own (plain) file name;
/// the parts together may not exceed `limit` bytes.
async fn receive_parts(
    req: axum::extract::Request,
    folder: &std::path::Path,
    limit: usize,
) -> Result<Vec<std::path::PathBuf>, ApiError> {
    use axum::extract::FromRequest;
    let mut mp = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| bad(format!("not a multipart body: {e}")))?;
    let mut files = Vec::new();
    let mut total = 0usize;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| bad(format!("broken multipart body: {e}")))?
    {
        let Some(name) = field.file_name().map(str::to_string) else {
            continue;
        };
        if !plain_name(&name) {
            return Err(ApiError::field(
                "filename",
                format!("`{name}` is not a plain file name"),
            ));
        }
        let path = folder.join(&name);
        if files.contains(&path) {
            return Err(ApiError::field("filename", format!("`{name}` sent twice")));
        }
        let internal = |e: std::io::Error| ApiError::Internal(format!("{}: {e}", path.display()));
        let mut file = tokio::fs::File::create(&path).await.map_err(internal)?;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| bad(format!("cannot read part `{name}`: {e}")))?
        {
            total += chunk.len();
            if total > limit {
                return Err(ApiError::TooLarge { limit });
            }
            file.write_all(&chunk).await.map_err(internal)?;
        }
        file.flush().await.map_err(internal)?;
        files.push(path);
    }
    if files.is_empty() {
        return Err(bad(
            "no file parts: send each file as a multipart part with a filename".into(),
        ));
    }
    Ok(files)
}

/// Ingests the files of one request: one scene, one official fire product (with its
/// geolocation), or the files of one L1B pair / SDR set, or one Landsat / Sentinel-2 product.
/// On PostgreSQL (#19) scenes and products are queued whole as one job (`queue_upload`).
async fn ingest_files(
    s: &AppState,
    files: &[std::path::PathBuf],
) -> Result<axum::response::Response, ApiError> {
    use crate::service::granules;
    use crate::worker::spool::{SceneOp, Unit};
    let is_fire = |f: &std::path::Path| crate::service::is_fire_product(f);
    let fire: Vec<&std::path::PathBuf> = files.iter().filter(|f| is_fire(f)).collect();
    let parts: Vec<&std::path::PathBuf> = files
        .iter()
        .filter(|f| granules::part_of(f).is_some())
        .collect();
    let others: Vec<&std::path::PathBuf> = files
        .iter()
        .filter(|f| !is_fire(f) && granules::part_of(f).is_none())
        .collect();
    let shown_name = |f: &std::path::Path| {
        f.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let folder = files[0].parent().unwrap_or(std::path::Path::new("."));
    // The client knows its files by their names, not by our upload folder (or the spool).
    let spool = s.service.cluster().map(|c| c.spool.clone());
    let shown = |m: &str| {
        let mut m = m
            .replace(&format!("{}/", folder.display()), "")
            .replace(&folder.display().to_string(), "the request");
        if let Some(spool) = &spool {
            // `<spool>/<sha>/NAME` → `NAME`, the unit's folder → the request.
            m = crate::worker::spool::unspooled(&m, spool, "the request");
        }
        m
    };
    let unprocessable = |e: crate::service::ServiceError| match e {
        e @ (crate::service::ServiceError::Scan { .. } | crate::service::ServiceError::Feed(_)) => {
            ApiError::BadBody {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message: shown(&crate::service::inbox::chain(&e)),
                details: Vec::new(),
            }
        }
        other => other.into(),
    };
    let queued = s.service.cluster().is_some();
    // A Sentinel-2 product: its `.zip`, alone.
    if let Some(z) = files
        .iter()
        .find(|f| crate::service::is_sentinel2_product(f))
    {
        if files.len() != 1 {
            return Err(bad(
                "a Sentinel-2 product comes alone, as its .zip".to_string()
            ));
        }
        if queued {
            let unit = Unit::File {
                path: z.clone(),
                name: shown_name(z),
            };
            return queue_upload(s, unit, SceneOp::Sentinel2, shown).await;
        }
        return s
            .service
            .ingest_sentinel2(z, "upload")
            .await
            .map(answer)
            .map_err(unprocessable);
    }
    // A Landsat product: its `.tar`, or its files (MTL, bands, QA) together in one request,
    // which lie side by side in the request's folder.
    let landsat: Vec<&std::path::PathBuf> = files
        .iter()
        .filter(|f| crate::service::is_landsat_product(f))
        .collect();
    if !landsat.is_empty() {
        if landsat.len() != files.len() {
            return Err(bad(format!(
                "a Landsat product comes alone (its .tar, or its MTL with its band and QA files); \
                 got {}",
                files
                    .iter()
                    .map(|f| shown_name(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let tar = landsat
            .iter()
            .find(|f| f.extension().is_some_and(|e| e.eq_ignore_ascii_case("tar")));
        let first = tar.unwrap_or(&landsat[0]);
        if queued {
            let unit = match tar {
                Some(t) => Unit::File {
                    path: t.to_path_buf(),
                    name: shown_name(t),
                },
                None => Unit::Files(files.to_vec()),
            };
            return queue_upload(s, unit, SceneOp::Landsat, shown).await;
        }
        return s
            .service
            .ingest_landsat(first, "upload")
            .await
            .map(answer)
            .map_err(unprocessable);
    }
    match (fire.as_slice(), parts.as_slice(), others.as_slice()) {
        // A fire product, maybe with the geolocation it names.
        ([product], geo, []) if geo.len() <= 1 => {
            if queued {
                // Read by a worker (#19), with the geolocation it came with.
                return queue_upload(s, Unit::Files(files.to_vec()), SceneOp::FireProduct, shown)
                    .await;
            }
            s.service
                .ingest_fire_product(product, product, "upload")
                .await
                .map(answer)
                .map_err(unprocessable)
        }
        ([], parts, []) => {
            let parts: Vec<std::path::PathBuf> = parts.iter().map(|p| p.to_path_buf()).collect();
            if queued {
                return queue_upload(s, Unit::Files(parts), SceneOp::Granule, shown).await;
            }
            s.service
                .ingest_granule(&parts, "upload")
                .await
                .map(answer)
                .map_err(unprocessable)
        }
        ([], [], [scene]) => {
            if queued {
                let unit = Unit::File {
                    path: scene.to_path_buf(),
                    name: shown_name(scene),
                };
                return queue_upload(s, unit, SceneOp::Scene, shown).await;
            }
            let p = scene.to_path_buf();
            let sha = tokio::task::spawn_blocking(move || crate::service::sha256_file(&p))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))??;
            s.service
                .ingest_scene_hashed(scene, &shown_name(scene), sha, "upload")
                .await
                .map(answer)
                .map_err(unprocessable)
        }
        _ => Err(bad(format!(
            "one request holds one scene, one fire product (with its geolocation), or the files of \
             one L1B pair or SDR set; got {}",
            files.iter().map(|f| shown_name(f)).collect::<Vec<_>>().join(", ")
        ))),
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
