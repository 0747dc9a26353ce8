//! strawfire finds crop-residue (straw) fires from satellites and ground sensors and gets a
//! patrol to each one. This crate is the library behind the `strawfire` binary.
//!
//! # Layout
//! The pipeline is sources → detect → locate → fuse → dispatch → verify → rank
//! (`ARCHITECTURE.md` is the full map). Compute is pure; I/O lives at the edges.
//! - [`physics`]: Planck radiance, brightness temperature, FRP: shared by detector and generator.
//! - [`model`]: sensor models (`models/*.toml`): bands and every published threshold, validated.
//! - [`raster`]: the only GDAL pixel code: scenes into ndarrays, georeferencing to WGS84, writing.
//! - [`detect`]: the contextual active-fire algorithms (VIIRS 375 m), rayon-parallel, with a
//!   sequential reference beside it.
//! - [`hotspot`]: the FIRMS hotspot record and its CSV / GeoJSON forms.
//! - [`locate`]: hotspots to county, township, village, parcel and mask (R-tree, GCJ-02, OGR layers).
//! - [`rank`]: daily hotspot rankings of counties and townships, pure functions of located hotspots.
//! - [`synth`]: physically based synthetic scenes with planted fires and known truth.
//! - [`product`]: satellite products as published (VIIRS L1B, SDR, our GeoTIFF), one reader each,
//!   all returning a `Granule`: physical bands, geolocation, land/water mask, metadata.
//! - [`scan`]: scene file → hotspots: raster + detect + georeferencing, the job of `strawfire scan`.
//! - [`fuse`]: detections of every source into fire events (distance + time window), pure.
//! - [`store`]: the persistence boundary: the `Store` trait family and model at the top, one folder
//!   per backend (`store::sqlite`: WAL, group commit, migrations).
//! - [`config`]: the service's TOML config; unknown keys are reported.
//! - [`service`]: the pipeline of the service: ingest scenes, feeds and alerts; inbox, feed
//!   polling, metrics; async at the edges, blocking work on `spawn_blocking`.
//! - [`api`]: the axum router, one file per resource; bearer roles; `ApiError` → HTTP.
//! - [`dispatch`]: the task state machine, priority and deadlines, who gets a task, the clock (pure).
//! - [`verify`]: photo fingerprints and evidence checks on verdicts (pure); confirmed masks.
//! - [`notify`]: the notices a task change sends, written to the outbox with the change.
//!   Delivered to per-unit webhooks (JSON or chat-robot markdown) with retries, backoff with
//!   jitter and an idempotency key (`notify::deliver`, `store::deliveries`).
//! - [`basemap`]: the dashboard's basemap presets (天地图, 高德 in GCJ-02, XYZ, local tiles) and
//!   the local tile folder / MBTiles reader.
//! - [`atomic`]: whole-or-nothing output files (temp file + rename, never over a device).
//! - [`error`]: the crate error.

pub mod api;
pub mod atomic;
pub mod basemap;
pub mod compare;
pub mod config;
pub mod detect;
pub mod dispatch;
pub mod error;
pub mod fuse;
pub mod hotspot;
pub mod i18n;
pub mod locate;
pub mod model;
pub mod notify;
pub mod physics;
pub mod print;
pub mod product;
pub mod rank;
pub mod raster;
pub mod scan;
pub mod service;
pub mod store;
pub mod synth;
pub mod verify;
pub mod worker;

pub use error::{Error, Result};
