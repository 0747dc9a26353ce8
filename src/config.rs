//! The service's configuration: a TOML file (`strawfire.example.toml` documents every key).
//! An unknown key is an error naming the file, the key and the nearest known key ("did you mean
//! `inbox.poll_s`?"), as the tables that list their fields (`[[tokens]]`, `[[sources]]`)
//! always refused theirs: a misspelt `[dispatch.normal] acknowledge_mn` would otherwise leave
//! the default deadline in force, and a warning in a start-up log is read by no one. The
//! engineer who deploys is there when the service refuses to start. The environment variable
//! `STRAWFIRE_ADMIN_TOKEN` adds an admin token.

mod known_keys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::Datelike;
use serde::Deserialize;

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML is invalid or a value has the wrong type; the message names the key.
    #[error("config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// A value is out of range or inconsistent.
    #[error("config {path}: `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    /// Keys no table takes (a misspelling, or a key of another version): each with the nearest
    /// known key, if one is near.
    #[error("config {path}: {}", unknown_list(keys))]
    UnknownKeys {
        path: PathBuf,
        /// (the key as written, its nearest known key).
        keys: Vec<(String, Option<String>)>,
    },
}

fn unknown_list(keys: &[(String, Option<String>)]) -> String {
    let each: Vec<String> = keys
        .iter()
        .map(|(k, near)| match near {
            Some(n) => format!("unknown key `{k}` (did you mean `{n}`?)"),
            None => format!("unknown key `{k}`"),
        })
        .collect();
    format!(
        "{}: a misspelt key would leave its setting at the default (strawfire.example.toml \
         documents every key)",
        each.join(", ")
    )
}

/// The whole config. Every field has a default, so an empty file is a valid config.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the store, the inbox and uploads live.
    pub data_dir: PathBuf,
    /// Scene and hotspot files ingested at start (idempotent: content-hashed). Empty: none.
    pub samples_dir: Option<PathBuf>,
    pub inbox: InboxConfig,
    /// Which detection times are believed (`[ingest]`).
    pub ingest: IngestConfig,
    pub limits: Limits,
    pub fuse: FuseConfig,
    pub layers: LayersConfig,
    pub dashboard: DashboardConfig,
    pub sensors: Vec<SensorConfig>,
    pub sources: Vec<SourceConfig>,
    pub dispatch: DispatchConfig,
    /// Evidence checks on verdicts (`[verify]`).
    pub verify: crate::verify::EvidenceConfig,
    pub tokens: Vec<TokenConfig>,
    /// Webhooks that notices are delivered to (per unit).
    pub webhooks: Vec<WebhookConfig>,
    pub notify: NotifyConfig,
    pub rank: RankConfig,
    /// The ranking bulletin (`[report]`): issuer, comment, the Chromium that prints it.
    pub report: ReportConfig,
    /// Language and time zone of what users read (`[ui]`).
    pub ui: UiConfig,
    /// Which store (`[store]`): the SQLite file under `data_dir` unless a PostgreSQL URL is set.
    pub store: StoreConfig,
    /// Jobs of several processes on the PostgreSQL store (`[worker]`, #19).
    pub worker: WorkerConfig,
}

/// `[worker]`: scene, feed-poll and sweep jobs on the PostgreSQL store (`strawfire worker`, and
/// the workers `serve` runs unless `--no-worker`). Unused on SQLite (one process does it all).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WorkerConfig {
    /// Where API nodes put the scene files they queue and workers read them: a folder every
    /// node and worker reaches under the same path (a shared file system when they run on
    /// several machines). Default `<data_dir>/spool`.
    pub spool_dir: Option<PathBuf>,
    /// How long a claim holds a job without a heartbeat, s; a worker renews it every third of
    /// that. A killed worker's job is taken over this long after its last heartbeat.
    pub lease_s: f64,
    /// How often an idle worker looks for a job, s.
    pub poll_s: f64,
    /// How long `POST /scenes` waits for its scene job before answering 202 with the job, s.
    pub upload_wait_s: f64,
    /// Claims of one job (each ended by a lost lease or a passing failure) before it fails.
    pub max_attempts: u32,
    /// Whether `serve` runs a worker beside its API (`serve --no-worker` turns it off).
    pub in_serve: bool,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            spool_dir: None,
            lease_s: 30.0,
            poll_s: 1.0,
            upload_wait_s: 600.0,
            max_attempts: 5,
            in_serve: true,
        }
    }
}

impl Config {
    /// The spool folder of scene jobs (`[worker] spool_dir`, default `<data_dir>/spool`).
    pub fn spool_dir(&self) -> PathBuf {
        self.worker
            .spool_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("spool"))
    }
}

/// `[store]`: no `url` (the default) is the embedded SQLite file `data_dir/strawfire.sqlite`;
/// `url = "postgres://user:password@host:5432/db"` (or `postgresql://`, or libpq's
/// `host=... dbname=...` form) the PostgreSQL store (#19; task changes, verdicts, deliveries
/// and rankings are not on it yet and answer an error naming what is unsupported).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StoreConfig {
    pub url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            samples_dir: Some(PathBuf::from("samples")),
            inbox: InboxConfig::default(),
            ingest: IngestConfig::default(),
            limits: Limits::default(),
            fuse: FuseConfig::default(),
            layers: LayersConfig::default(),
            dashboard: DashboardConfig::default(),
            sensors: Vec::new(),
            sources: Vec::new(),
            dispatch: DispatchConfig::default(),
            verify: crate::verify::EvidenceConfig::default(),
            tokens: Vec::new(),
            webhooks: Vec::new(),
            notify: NotifyConfig::default(),
            rank: RankConfig::default(),
            report: ReportConfig::default(),
            ui: UiConfig::default(),
            store: StoreConfig::default(),
            worker: WorkerConfig::default(),
        }
    }
}

/// What users read (`[ui]`): the language of the pages, chat messages and reports, and the time
/// zone their times are shown in.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct UiConfig {
    /// `zh-CN` (default) or `en`. The pages have a switch as well (kept per browser).
    pub lang: String,
    /// An IANA zone name (default `Asia/Shanghai`, shown as 北京时间); see
    /// [`crate::i18n::zone`] for the names known.
    pub time_zone: String,
    /// The map under the dashboard's layers (`[ui.basemap]`): 天地图, 高德, an XYZ server or
    /// local tiles; see [`crate::basemap`].
    pub basemap: crate::basemap::BasemapConfig,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig {
            lang: "zh-CN".into(),
            time_zone: "Asia/Shanghai".into(),
            basemap: crate::basemap::BasemapConfig::default(),
        }
    }
}

impl UiConfig {
    /// The language (validated at load; the default for a value that was never validated).
    pub fn lang(&self) -> crate::i18n::Lang {
        crate::i18n::Lang::parse(&self.lang).unwrap_or_default()
    }

    /// Language and zone together.
    pub fn locale(&self) -> crate::i18n::Locale {
        crate::i18n::Locale::new(self.lang(), self.zone())
    }

    /// The zone (validated at load; the default for a value that was never validated).
    pub fn zone(&self) -> crate::i18n::Zone {
        crate::i18n::Zone::parse(&self.time_zone).unwrap_or_default()
    }
}

/// The folder watched for scene and hotspot files.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct InboxConfig {
    /// Default: `<data_dir>/inbox`.
    pub dir: Option<PathBuf>,
    /// How often the folder is listed, s.
    pub poll_s: f64,
    /// A file must be unchanged for this long before it is taken (still being copied?), s.
    /// Writers that pause should write `NAME.part` and rename it (see `service::inbox`).
    pub settle_s: f64,
    /// A feed whose last row is cut off is held this long (unchanged) before it is taken
    /// anyway, the cut row reported, s.
    pub incomplete_wait_s: f64,
    /// A file of a multi-file granule (an L1B pair, an SDR set) waits this long for the rest of
    /// its granule, from the granule's first settled file; then the files move to `failed/`
    /// with the missing ones named, s.
    pub partner_wait_s: f64,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            dir: None,
            poll_s: 2.0,
            settle_s: 10.0,
            incomplete_wait_s: 600.0,
            partner_wait_s: 900.0,
        }
    }
}

/// The dashboard and patrol pages. The machines are usually offline: with no `tile_url` the map
/// is drawn from vector layers of the API only (unit boundaries, parcels); a deployment with a
/// tile server of its own names it here.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct DashboardConfig {
    /// A raster tile URL template with `{z}`, `{x}`, `{y}` (e.g. `http://tiles.local/{z}/{x}/{y}.png`);
    /// empty: no basemap.
    pub tile_url: String,
    /// Attribution shown for the tiles (HTML is escaped).
    pub tile_attribution: String,
}

/// Which detection times are believed. A time far in the future or before any satellite fire
/// product is a broken field or a wrong clock, not a fire to dispatch.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct IngestConfig {
    /// A hotspot, alert or scene dated more than this after now is refused, minutes.
    pub max_future_skew_min: f64,
    /// A detection dated before this day (UTC, `YYYY-MM-DD`) is refused.
    pub earliest_date: String,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_future_skew_min: 15.0,
            earliest_date: "2000-01-01".into(),
        }
    }
}

impl IngestConfig {
    /// The earliest believed time (validated at load; the default on a bad value is never used
    /// by a loaded config).
    pub fn earliest(&self) -> chrono::DateTime<chrono::Utc> {
        let day = chrono::NaiveDate::parse_from_str(self.earliest_date.trim(), "%Y-%m-%d")
            .unwrap_or(chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a date"));
        day.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
    }

    /// The future skew as a duration.
    pub fn max_future_skew(&self) -> chrono::Duration {
        chrono::Duration::milliseconds((self.max_future_skew_min * 60_000.0) as i64)
    }
}

/// Body size limits and concurrency.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// `POST /scenes`, bytes.
    pub scene_bytes: usize,
    /// `POST /hotspots`, bytes.
    pub feed_bytes: usize,
    /// `POST /sensor-alerts`, bytes.
    pub alert_bytes: usize,
    /// `POST /tasks/{id}/verdict` (multipart, the photo included), bytes.
    pub photo_bytes: usize,
    /// Scenes scanned at once (each scan uses every core through rayon).
    pub scan_workers: usize,
    /// Scenes waiting for a scan slot before uploads are refused with 503.
    pub scan_queue: usize,
    /// Largest size of the store file, bytes (none: as large as the disk allows). A write that
    /// would pass it is refused like one on a full disk (503, `healthz` degraded).
    pub store_max_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            scene_bytes: 1 << 30,
            feed_bytes: 32 << 20,
            alert_bytes: 64 << 10,
            photo_bytes: 16 << 20,
            scan_workers: 1,
            scan_queue: 16,
            store_max_bytes: None,
        }
    }
}

/// Event fusion.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FuseConfig {
    /// Added to the pixel footprint, m.
    pub extra_distance_m: f64,
    /// Time window, hours.
    pub window_h: f64,
    /// Position uncertainty of a camera alert, m.
    pub camera_footprint_m: f64,
}

impl Default for FuseConfig {
    fn default() -> Self {
        FuseConfig {
            extra_distance_m: 375.0,
            window_h: 12.0,
            camera_footprint_m: 300.0,
        }
    }
}

impl FuseConfig {
    pub fn params(&self) -> crate::fuse::FuseParams {
        crate::fuse::FuseParams {
            extra_distance_m: self.extra_distance_m,
            window: chrono::Duration::milliseconds((self.window_h * 3_600_000.0) as i64),
        }
    }
}

/// Layers as LAYER_SPEC strings (see `strawfire locate --help`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LayersConfig {
    pub admin: Vec<String>,
    pub parcels: Vec<String>,
    pub masks: Vec<String>,
}

/// A ground sensor (camera): alerts may give bearing and distance instead of a position.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorConfig {
    pub id: String,
    pub lon: f64,
    pub lat: f64,
    #[serde(default)]
    pub name: Option<String>,
}

/// A hotspot feed polled on a schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    /// A URL returning FIRMS CSV (or GeoJSON).
    #[serde(default)]
    pub url: Option<String>,
    /// The FIRMS area API: `{base}/api/area/csv/{key}/{source}/{W,S,E,N}/{days}`.
    #[serde(default)]
    pub firms: Option<FirmsArea>,
    /// Poll interval, s.
    #[serde(default = "default_interval")]
    pub interval_s: f64,
    /// First retry delay after a failed poll, s; doubled on each further failure up to
    /// `interval_s`.
    #[serde(default = "default_backoff")]
    pub backoff_s: f64,
}

fn default_interval() -> f64 {
    600.0
}

fn default_backoff() -> f64 {
    5.0
}

/// The FIRMS area API form of a source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmsArea {
    #[serde(default = "default_firms_base")]
    pub base_url: String,
    /// The MAP_KEY.
    pub key: String,
    /// `VIIRS_NOAA20_NRT`, `VIIRS_SNPP_NRT`, `MODIS_NRT`, `LANDSAT_NRT` (30 m, `hotspot::read`), ...
    pub source: String,
    /// [west, south, east, north].
    pub bbox: [f64; 4],
    /// Days per request (1–10).
    #[serde(default = "one")]
    pub days: u32,
}

fn default_firms_base() -> String {
    "https://firms.modaps.eosdis.nasa.gov".into()
}

fn one() -> u32 {
    1
}

/// Dispatch: which events get a task, priority, deadlines, escalation, and the feedback from
/// verdicts into masks (the `[dispatch]` table). `normal`/`high` are the deadline sets of
/// [`crate::dispatch::Policy`].
/// Daily rankings (`[rank]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RankConfig {
    /// First day of the burning season, `MM-DD` (first fire of the season counts from here).
    pub season_start: String,
    /// A unit whose best overpass of the day saw less of its land clear is "not observed".
    pub min_clear_share: f64,
    /// The reporting day's offset from UTC, hours (China Standard Time: 8).
    pub utc_offset_h: i32,
    /// A layer naming the cities (LAYER_SPEC with `code=` and `name=`, e.g. DataV's
    /// `…_cities.geojson:code=adcode:name=name`): city tables and bulletins, and the counties'
    /// parents, are named from it instead of by code. Read by the commands at start.
    pub cities: Option<String>,
    /// City code → name, from `cities` (filled by the commands, not read from the file).
    #[serde(skip)]
    pub city_names: std::sync::Arc<std::collections::BTreeMap<String, String>>,
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig {
            season_start: "05-20".into(),
            min_clear_share: 0.5,
            utc_offset_h: 8,
            cities: None,
            city_names: Default::default(),
        }
    }
}

impl RankConfig {
    /// The season start as (month, day); validated at load, so the default on a bad value is
    /// never used by a loaded config.
    pub fn season(&self) -> (u32, u32) {
        crate::rank::season::parse_month_day(&self.season_start).unwrap_or((5, 20))
    }
}

/// The ranking bulletin (`[report]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportConfig {
    /// The issuing body printed on the bulletin, e.g. `XX市秸秆禁烧指挥部` (empty: a generic
    /// 秸秆禁烧指挥部).
    pub issuer: String,
    /// A paragraph printed under the summary of every bulletin (a request's `comment` replaces
    /// it); blank lines separate paragraphs.
    pub comment: Option<String>,
    /// The Chromium (or Chrome) that prints the PDF; default: `chromium`, `chromium-browser`,
    /// `google-chrome` on the PATH.
    pub chromium: Option<PathBuf>,
}

/// Dispatch policy (used by dispatch, a later issue; read and validated now).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DispatchConfig {
    /// Deadlines of normal-priority tasks, minutes from creation.
    pub normal: crate::dispatch::Deadlines,
    /// Deadlines of high-priority tasks.
    pub high: crate::dispatch::Deadlines,
    /// FRP at or above which a task is high priority, MW.
    pub high_frp_mw: f64,
    /// Mask reasons (the part of a mask label before `:`, case-insensitive) that mark a
    /// sensitive area: a fire there gets a high-priority task instead of being suppressed.
    pub sensitive_mask_reasons: Vec<String>,
    /// A county's first task after this many days without one is "first of the season".
    pub season_gap_days: i64,
    /// How often the escalation sweep runs, s (real time; deadlines are read from the clock).
    pub escalation_interval_s: f64,
    /// How long a patrol write's idempotency key (and the answer kept for it) is kept, days; the
    /// escalation sweep removes older ones (at most once an hour). 7 by default: a phone's
    /// offline queue replays within minutes of signal, a week covers a field trip and a weekend
    /// without signal. A replay older than this is not answered from its key: it is refused by
    /// the task's state (409, the move is already made), never applied twice.
    pub idempotency_retention_days: i64,
    /// Radius of the point mask a confirmed candidate becomes, and of "one place" when counting
    /// repeated `no_fire_other` verdicts, m.
    pub mask_radius_m: f64,
    /// `no_fire_other` verdicts at one place that make a mask candidate.
    pub no_fire_other_repeats: usize,
    /// Events whose newest detection is older than this at ingest get no task, hours: a
    /// backfilled season or an archive must never page anyone.
    pub max_age_h: f64,
    /// Fires off every parcel while a parcel layer is loaded: `skip` (no task, reason
    /// `not_on_farmland`) or `dispatch` (a task like any other).
    pub off_parcel: crate::dispatch::rules::OffParcel,
    /// Events whose combined confidence (0–1) is below this get no task (`low_confidence`).
    pub min_confidence: f64,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        let p = crate::dispatch::Policy::default();
        DispatchConfig {
            normal: p.normal,
            high: p.high,
            high_frp_mw: p.high_frp_mw,
            sensitive_mask_reasons: ["sensitive area", "airport", "expressway", "burn-ban zone"]
                .map(String::from)
                .to_vec(),
            season_gap_days: 60,
            escalation_interval_s: 5.0,
            idempotency_retention_days: 7,
            mask_radius_m: 500.0,
            no_fire_other_repeats: 2,
            max_age_h: 6.0,
            off_parcel: crate::dispatch::rules::OffParcel::Skip,
            min_confidence: 0.0,
        }
    }
}

impl DispatchConfig {
    /// The pure policy of `dispatch::policy`.
    pub fn policy(&self) -> crate::dispatch::Policy {
        crate::dispatch::Policy {
            normal: self.normal,
            high: self.high,
            high_frp_mw: self.high_frp_mw,
        }
    }
}

/// A bearer token and its role: `admin`, `county:<adcode>`, `patrol:<township code>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub token: String,
    pub role: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A config as loaded (every key known, every value checked).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
}

impl Config {
    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Parses config text; `path` names it in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Loaded, ConfigError> {
        let mut unknown_keys = Vec::new();
        let de = toml::Deserializer::new(text);
        let config: Config = serde_ignored::deserialize(de, |p| unknown_keys.push(p.to_string()))
            .map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        if !unknown_keys.is_empty() {
            unknown_keys.sort();
            let tables = known_keys::of::<Config>();
            let keys = unknown_keys
                .into_iter()
                .map(|k| {
                    let (table, key) = known_keys::split(&k);
                    let near = known_keys::nearest(&tables, &table, &key);
                    (k, near)
                })
                .collect();
            return Err(ConfigError::UnknownKeys {
                path: path.to_path_buf(),
                keys,
            });
        }
        config.validate(path)?;
        Ok(Loaded { config })
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| ConfigError::Invalid {
            path: path.to_path_buf(),
            key: key.into(),
            message: message.into(),
        };
        // Every number is finite and bounded: seconds become `Duration`s and hours or minutes
        // chrono durations, which panic on NaN and overflow (found by tests/fuzz_readers.rs).
        let within = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
        if !within(self.inbox.poll_s, 0.001, 3600.0) {
            return Err(bad("inbox.poll_s", "must be > 0 and at most 3600"));
        }
        for (key, v) in [
            ("inbox.settle_s", self.inbox.settle_s),
            ("inbox.incomplete_wait_s", self.inbox.incomplete_wait_s),
            ("inbox.partner_wait_s", self.inbox.partner_wait_s),
        ] {
            if !within(v, 0.0, 86_400.0) {
                return Err(bad(key, "seconds from 0 to 86400"));
            }
        }
        let w = &self.worker;
        if !within(w.lease_s, 0.5, 86_400.0) {
            return Err(bad("worker.lease_s", "seconds from 0.5 to 86400"));
        }
        if !within(w.poll_s, 0.001, 3600.0) {
            return Err(bad("worker.poll_s", "must be > 0 and at most 3600"));
        }
        if !within(w.upload_wait_s, 0.0, 86_400.0) {
            return Err(bad("worker.upload_wait_s", "seconds from 0 to 86400"));
        }
        if w.max_attempts == 0 {
            return Err(bad("worker.max_attempts", "must be at least 1"));
        }
        if self.limits.scan_workers == 0 {
            return Err(bad("limits.scan_workers", "must be at least 1"));
        }
        let f = &self.fuse;
        if !within(f.window_h, 0.0, 24.0 * 366.0)
            || !within(f.extra_distance_m, 0.0, 1e6)
            || !within(f.camera_footprint_m, 0.0, 1e6)
        {
            return Err(bad(
                "fuse",
                "window_h from 0 to 8784, distances from 0 to 1e6 m",
            ));
        }
        for (i, s) in self.sensors.iter().enumerate() {
            if !within(s.lon, -180.0, 180.0) || !within(s.lat, -90.0, 90.0) {
                return Err(bad(
                    &format!("sensors[{i}]"),
                    "lon in -180..180, lat in -90..90",
                ));
            }
        }
        let d = &self.dispatch;
        for (name, dl) in [("normal", d.normal), ("high", d.high)] {
            if dl.acknowledge_min <= 0
                || dl.on_site_min < dl.acknowledge_min
                || dl.verdict_min < dl.on_site_min
                || dl.verdict_min > 366 * 24 * 60
            {
                return Err(bad(
                    &format!("dispatch.{name}"),
                    "need 0 < acknowledge_min <= on_site_min <= verdict_min <= 527040 (a year)",
                ));
            }
        }
        if !(1..=3660).contains(&d.season_gap_days) {
            return Err(bad("dispatch.season_gap_days", "from 1 to 3660"));
        }
        if !within(d.escalation_interval_s, 0.001, 3600.0) {
            return Err(bad(
                "dispatch.escalation_interval_s",
                "must be > 0 and at most 3600",
            ));
        }
        if !(1..=3660).contains(&d.idempotency_retention_days) {
            return Err(bad("dispatch.idempotency_retention_days", "from 1 to 3660"));
        }
        if !within(d.mask_radius_m, 1.0, 50_000.0) {
            return Err(bad("dispatch.mask_radius_m", "from 1 to 50000 m"));
        }
        if !within(d.high_frp_mw, 0.0, 1e6) {
            return Err(bad("dispatch.high_frp_mw", "a number of MW >= 0"));
        }
        if d.no_fire_other_repeats == 0 {
            return Err(bad("dispatch.no_fire_other_repeats", "at least 1"));
        }
        if !within(d.max_age_h, 0.01, 24.0 * 366.0) {
            return Err(bad(
                "dispatch.max_age_h",
                "hours from 0.01 to 8784 (a year)",
            ));
        }
        if !within(d.min_confidence, 0.0, 1.0) {
            return Err(bad(
                "dispatch.min_confidence",
                "a combined confidence from 0 to 1",
            ));
        }
        let i = &self.ingest;
        if !within(i.max_future_skew_min, 0.0, 7.0 * 24.0 * 60.0) {
            return Err(bad(
                "ingest.max_future_skew_min",
                "minutes from 0 to 10080 (a week)",
            ));
        }
        match chrono::NaiveDate::parse_from_str(i.earliest_date.trim(), "%Y-%m-%d") {
            Ok(d) if d.year() >= 1970 => {}
            _ => {
                return Err(bad(
                    "ingest.earliest_date",
                    "a day YYYY-MM-DD from 1970 on (e.g. 2000-01-01)",
                ))
            }
        }
        let v = &self.verify;
        if !within(v.max_distance_m, 1.0, 1e6) {
            return Err(bad("verify.max_distance_m", "from 1 m to 1000 km"));
        }
        if !within(v.exif_max_distance_m, 1.0, 1e6) {
            return Err(bad("verify.exif_max_distance_m", "from 1 m to 1000 km"));
        }
        if v.near_duplicate_bits > 32 {
            return Err(bad(
                "verify.near_duplicate_bits",
                "at most 32 of the 64 bits",
            ));
        }
        if !(0..=366 * 24 * 60).contains(&v.exif_max_time_gap_min) {
            return Err(bad(
                "verify.exif_max_time_gap_min",
                "from 0 to 527040 (a year)",
            ));
        }
        if !(-12..=14).contains(&v.camera_utc_offset_h) {
            return Err(bad("verify.camera_utc_offset_h", "from -12 to 14"));
        }
        if self.limits.photo_bytes < 1024 {
            return Err(bad("limits.photo_bytes", "at least 1024"));
        }
        if self.limits.store_max_bytes.is_some_and(|b| b < 65_536) {
            return Err(bad("limits.store_max_bytes", "at least 65536"));
        }
        if let Some(url) = &self.store.url {
            let t = url.trim();
            if !(t.starts_with("postgres://")
                || t.starts_with("postgresql://")
                || t.contains("host=")
                || t.contains("dbname="))
            {
                return Err(bad(
                    "store.url",
                    "a PostgreSQL URL (postgres://user@host:5432/db) or libpq key=value string",
                ));
            }
            if self.limits.store_max_bytes.is_some() {
                return Err(bad(
                    "limits.store_max_bytes",
                    "caps the SQLite file only; with store.url the PostgreSQL server's disk is its own",
                ));
            }
        }
        if crate::rank::season::parse_month_day(&self.rank.season_start).is_none() {
            return Err(bad(
                "rank.season_start",
                "a month and day, MM-DD (e.g. 05-20)",
            ));
        }
        if !(0.0..=1.0).contains(&self.rank.min_clear_share) {
            return Err(bad("rank.min_clear_share", "a share between 0 and 1"));
        }
        if self.report.issuer.chars().count() > 100 {
            return Err(bad("report.issuer", "at most 100 characters"));
        }
        if self
            .report
            .comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > 2000)
        {
            return Err(bad("report.comment", "at most 2,000 characters"));
        }
        if !(-12..=14).contains(&self.rank.utc_offset_h) {
            return Err(bad("rank.utc_offset_h", "hours between -12 and 14"));
        }
        if crate::i18n::Lang::parse(&self.ui.lang).is_none() {
            return Err(bad("ui.lang", "`zh-CN` or `en`"));
        }
        if crate::i18n::Zone::parse(&self.ui.time_zone).is_none() {
            let known: Vec<_> = crate::i18n::Zone::known().collect();
            return Err(bad("ui.time_zone", &format!("one of {}", known.join(", "))));
        }
        self.ui
            .basemap
            .validate()
            .map_err(|(key, message)| bad(&key, &message))?;
        let tiles = &self.dashboard.tile_url;
        if !tiles.is_empty() && !["{z}", "{x}", "{y}"].iter().all(|p| tiles.contains(p)) {
            return Err(bad(
                "dashboard.tile_url",
                "a tile URL template with {z}, {x} and {y}, or empty for no basemap",
            ));
        }
        if self.limits.scan_workers == 0 {
            return Err(bad("limits.scan_workers", "must be at least 1"));
        }
        if self.fuse.window_h < 0.0 || self.fuse.extra_distance_m < 0.0 {
            return Err(bad("fuse", "distances and windows must be >= 0"));
        }
        for (i, t) in self.tokens.iter().enumerate() {
            crate::api::auth::Role::parse(&t.role)
                .map_err(|m| bad(&format!("tokens[{i}].role"), &m))?;
            if t.token.len() < 16 {
                return Err(bad(&format!("tokens[{i}].token"), "at least 16 characters"));
            }
        }
        for (i, s) in self.sources.iter().enumerate() {
            if s.url.is_some() == s.firms.is_some() {
                return Err(bad(
                    &format!("sources[{i}]"),
                    "give exactly one of `url` and `firms`",
                ));
            }
            if !within(s.interval_s, 1.0, 30.0 * 86_400.0) {
                return Err(bad(
                    &format!("sources[{i}].interval_s"),
                    "from 1 s to 30 days",
                ));
            }
            if !within(s.backoff_s, 0.001, 30.0 * 86_400.0) {
                return Err(bad(
                    &format!("sources[{i}].backoff_s"),
                    "must be > 0 and at most 30 days",
                ));
            }
        }
        self.validate_notify()
            .map_err(|(key, message)| bad(&key, &message))?;
        Ok(())
    }

    /// Tokens of the config plus `STRAWFIRE_ADMIN_TOKEN` when set.
    pub fn tokens_with_env(&self) -> Vec<TokenConfig> {
        let mut tokens = self.tokens.clone();
        if let Ok(t) = std::env::var("STRAWFIRE_ADMIN_TOKEN") {
            if !t.trim().is_empty() {
                tokens.push(TokenConfig {
                    token: t.trim().to_string(),
                    role: "admin".into(),
                    name: Some("STRAWFIRE_ADMIN_TOKEN".into()),
                });
            }
        }
        tokens
    }

    /// The inbox folder.
    pub fn inbox_dir(&self) -> PathBuf {
        self.inbox
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("inbox"))
    }
}

/// A webhook: where notices for a unit are POSTed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Unique; part of each delivery's idempotency key, so renaming a webhook re-sends nothing
    /// already delivered but gives its pending deliveries up (the old name is gone).
    pub name: String,
    /// A township code (9 digits) or a county adcode (6 digits). Without `kinds`, a webhook
    /// receives every notice of its unit, and a county's webhooks also the escalations of the
    /// county's tasks.
    pub unit: String,
    /// http or https.
    pub url: String,
    #[serde(default)]
    pub format: WebhookFormat,
    /// Extra request headers (e.g. a shared secret).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The notice kinds this webhook takes (`task_new`, `task_updated`, `escalation`,
    /// `verdict`, `sent_back`), of its unit's tasks and, for a county, of every task in the county: a county
    /// group can follow new tasks and verdicts of all its townships. Unset: as described at
    /// `unit`.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Mobile numbers to @mention in each message (the person on duty), or `@all`: WeCom
    /// `text` messages (`format = "text"`) and DingTalk (`at.atMobiles`); WeCom markdown
    /// messages cannot mention by number.
    #[serde(default)]
    pub mentioned_mobile_list: Vec<String>,
}

impl WebhookConfig {
    /// Whether this webhook takes notices of `kind` (a `NoticeKind::name`) about a task of
    /// `unit` in `county`. An escalation notice is addressed to the county itself.
    pub fn takes(&self, kind: &str, unit: &str, county: Option<&str>) -> bool {
        let own = self.unit == unit;
        let of_county = county == Some(self.unit.as_str());
        match &self.kinds {
            None => own || (of_county && kind == "escalation"),
            Some(kinds) => (own || of_county) && kinds.iter().any(|k| k == kind),
        }
    }
}

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The notice as JSON, with a readable `text`.
    #[default]
    Json,
    /// `{"msgtype":"markdown","markdown":{"content":..}}`: WeCom (企业微信) group robots.
    Markdown,
    /// `{"msgtype":"markdown","markdown":{"title":..,"text":..}}`: DingTalk (钉钉) group robots.
    Dingtalk,
    /// `{"msgtype":"text","text":{"content":..,"mentioned_mobile_list":[..]}}`: WeCom group
    /// robots' plain text, which can @mention by mobile number.
    Text,
}

/// Delivery of notices from the outbox.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct NotifyConfig {
    /// How often the outbox is looked at, s (real time).
    pub poll_s: f64,
    /// One HTTP request, connect to last byte, s.
    pub timeout_s: f64,
    /// Attempts per delivery before it is given up.
    pub max_attempts: u32,
    /// First retry delay, s; the delay grows exponentially (with jitter) up to `backoff_max_s`.
    pub backoff_base_s: f64,
    pub backoff_max_s: f64,
    /// `full` or `decorrelated` jitter.
    pub jitter: crate::notify::backoff::Jitter,
    /// This server's address as the phones of patrols reach it (`https://fire.example.cn`):
    /// chat messages link to the task on the patrol page (`{public_url}/patrol#task-17`).
    /// Unset: messages carry no link to this server (the map-app links are always there).
    pub public_url: Option<String>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            poll_s: 1.0,
            timeout_s: 10.0,
            max_attempts: 12,
            backoff_base_s: 10.0,
            backoff_max_s: 1800.0,
            jitter: crate::notify::backoff::Jitter::Full,
            public_url: None,
        }
    }
}

impl Config {
    /// Checks `[notify]` and `[[webhooks]]`; the error is (key, message).
    fn validate_notify(&self) -> Result<(), (String, String)> {
        let bad = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        let n = &self.notify;
        // Finite and bounded too: these become `Duration`s, which refuse NaN and overflow.
        let within = |v: f64, lo: f64, hi: f64| v.is_finite() && v >= lo && v <= hi;
        if !within(n.poll_s, 0.001, 3600.0) {
            return bad("notify.poll_s", "must be > 0 and at most 3600");
        }
        if !within(n.timeout_s, 0.001, 3600.0) {
            return bad("notify.timeout_s", "must be > 0 and at most 3600");
        }
        if n.max_attempts == 0 {
            return bad("notify.max_attempts", "at least 1");
        }
        if !within(n.backoff_base_s, 1.0, 86_400.0) {
            return bad("notify.backoff_base_s", "from 1 s to 1 day");
        }
        if !within(n.backoff_max_s, n.backoff_base_s, 30.0 * 86_400.0) {
            return bad(
                "notify.backoff_max_s",
                "must be >= backoff_base_s and at most 30 days",
            );
        }
        if let Some(u) = &n.public_url {
            match reqwest::Url::parse(u) {
                Ok(p) if (p.scheme() == "http" || p.scheme() == "https") && p.has_host() => {}
                _ => return bad("notify.public_url", "an http:// or https:// URL"),
            }
        }
        let mut names = std::collections::HashSet::new();
        for (i, w) in self.webhooks.iter().enumerate() {
            let key = |f: &str| format!("webhooks[{i}].{f}");
            if w.name.trim().is_empty()
                || w.name.contains(char::is_whitespace)
                || w.name.contains('#')
            {
                return bad(&key("name"), "a name without spaces or `#`");
            }
            if !names.insert(w.name.as_str()) {
                return bad(&key("name"), &format!("`{}` is used twice", w.name));
            }
            let digits = w.unit.bytes().all(|b| b.is_ascii_digit());
            if !digits || !(w.unit.len() == 6 || w.unit.len() == 9) {
                return bad(
                    &key("unit"),
                    "a county adcode (6 digits) or township code (9 digits)",
                );
            }
            match reqwest::Url::parse(&w.url) {
                Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.has_host() => {}
                Ok(_) => return bad(&key("url"), "an http:// or https:// URL"),
                Err(e) => return bad(&key("url"), &format!("not a URL: {e}")),
            }
            if let Some(kinds) = &w.kinds {
                if let Some(k) = kinds
                    .iter()
                    .find(|k| !crate::notify::NoticeKind::NAMES.contains(&k.as_str()))
                {
                    return bad(
                        &key("kinds"),
                        &format!(
                            "`{k}` is not a notice kind; known: {}",
                            crate::notify::NoticeKind::NAMES.join(", ")
                        ),
                    );
                }
            }
            for m in &w.mentioned_mobile_list {
                let mobile = m.len() == 11 && m.bytes().all(|b| b.is_ascii_digit());
                if !(mobile || m == "@all") {
                    return bad(
                        &key("mentioned_mobile_list"),
                        &format!("`{m}`: an 11-digit mobile number or `@all`"),
                    );
                }
            }
            if !w.mentioned_mobile_list.is_empty()
                && !matches!(w.format, WebhookFormat::Text | WebhookFormat::Dingtalk)
            {
                return bad(
                    &key("mentioned_mobile_list"),
                    "needs format = \"text\" (WeCom) or \"dingtalk\": WeCom markdown messages cannot mention by mobile number",
                );
            }
            for (h, v) in &w.headers {
                if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
                    return bad(&key("headers"), &format!("`{h}` is not a header name"));
                }
                if reqwest::header::HeaderValue::from_str(v).is_err() {
                    return bad(&key("headers"), &format!("`{h}`: not a header value"));
                }
            }
        }
        Ok(())
    }
}

impl FirmsArea {
    /// The request URL for `days` days ending today (FIRMS counts back from the current day).
    pub fn url(&self, days: u32) -> String {
        let [w, s, e, n] = self.bbox;
        format!(
            "{}/api/area/csv/{}/{}/{w},{s},{e},{n}/{days}",
            self.base_url.trim_end_matches('/'),
            self.key,
            self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_without_unknown_keys() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/strawfire.example.toml"
        ));
        let loaded = Config::load(path).unwrap();
        assert_eq!(loaded.config.tokens.len(), 3);
        assert_eq!(loaded.config.sources.len(), 2);
        assert_eq!(loaded.config.webhooks.len(), 3);
        assert_eq!(loaded.config.webhooks[0].format, WebhookFormat::Markdown);
        // The example spells out the defaults of dispatch and verify.
        let d = &loaded.config.dispatch;
        let def = DispatchConfig::default();
        assert_eq!(d.policy(), def.policy());
        assert_eq!(d.sensitive_mask_reasons, def.sensitive_mask_reasons);
        assert_eq!(
            (d.season_gap_days, d.mask_radius_m, d.no_fire_other_repeats),
            (
                def.season_gap_days,
                def.mask_radius_m,
                def.no_fire_other_repeats
            )
        );
        assert_eq!(
            loaded.config.verify,
            crate::verify::EvidenceConfig::default()
        );
        assert_eq!(d.max_age_h, def.max_age_h);
        let (i, idef) = (&loaded.config.ingest, IngestConfig::default());
        assert_eq!(
            (i.max_future_skew_min, i.earliest()),
            (idef.max_future_skew_min, idef.earliest())
        );
        // The store and the workers are documented too (the README says every key is), with
        // the defaults, and no url: the example must not switch anyone to PostgreSQL.
        let text = std::fs::read_to_string(path).unwrap();
        for key in [
            "[store]",
            "url =",
            "[worker]",
            "spool_dir =",
            "lease_s =",
            "poll_s =",
            "upload_wait_s =",
            "max_attempts =",
            "in_serve =",
        ] {
            assert!(text.contains(key), "strawfire.example.toml lacks `{key}`");
        }
        assert_eq!(loaded.config.store.url, None);
        let (w, wdef) = (&loaded.config.worker, WorkerConfig::default());
        assert_eq!(
            (
                &w.spool_dir,
                w.lease_s,
                w.poll_s,
                w.upload_wait_s,
                w.max_attempts,
                w.in_serve
            ),
            (
                &wdef.spool_dir,
                wdef.lease_s,
                wdef.poll_s,
                wdef.upload_wait_s,
                wdef.max_attempts,
                wdef.in_serve
            )
        );
    }

    #[test]
    fn time_limits_are_checked_naming_the_key() {
        let c = Config::parse(
            Path::new("x.toml"),
            "[ingest]\nmax_future_skew_min = 5\nearliest_date = \"2012-01-20\"\n[dispatch]\nmax_age_h = 3\n",
        )
        .unwrap();
        assert_eq!(
            c.config.ingest.max_future_skew(),
            chrono::Duration::minutes(5)
        );
        assert_eq!(
            c.config.ingest.earliest().to_rfc3339(),
            "2012-01-20T00:00:00+00:00"
        );
        assert_eq!(c.config.dispatch.max_age_h, 3.0);
        for (text, key) in [
            (
                "[ingest]\nmax_future_skew_min = -1\n",
                "ingest.max_future_skew_min",
            ),
            (
                "[ingest]\nmax_future_skew_min = nan\n",
                "ingest.max_future_skew_min",
            ),
            (
                "[ingest]\nearliest_date = \"1900-01-01\"\n",
                "ingest.earliest_date",
            ),
            (
                "[ingest]\nearliest_date = \"2000-13-01\"\n",
                "ingest.earliest_date",
            ),
            ("[dispatch]\nmax_age_h = 0\n", "dispatch.max_age_h"),
            ("[dispatch]\nmax_age_h = inf\n", "dispatch.max_age_h"),
            (
                "[dispatch]\nmin_confidence = 1.5\n",
                "dispatch.min_confidence",
            ),
            ("[dispatch]\noff_parcel = \"county\"\n", "off_parcel"),
        ] {
            let e = Config::parse(Path::new("x.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }

    /// No `[store]`: the SQLite file; a PostgreSQL URL selects that store; anything else, or a
    /// SQLite size cap beside a URL, is refused naming the key.
    #[test]
    fn the_store_is_sqlite_unless_a_postgres_url_is_given() {
        let l = Config::parse(Path::new("x.toml"), "").unwrap();
        assert_eq!(l.config.store.url, None);
        let l = Config::parse(
            Path::new("x.toml"),
            "[store]\nurl = \"postgres://sf@db:5432/sf\"\n",
        )
        .unwrap();
        assert_eq!(
            l.config.store.url.as_deref(),
            Some("postgres://sf@db:5432/sf")
        );
        for (text, key) in [
            ("[store]\nurl = \"data/s.sqlite\"\n", "store.url"),
            (
                "[store]\nurl = \"postgres://db/sf\"\n[limits]\nstore_max_bytes = 1000000\n",
                "limits.store_max_bytes",
            ),
        ] {
            let e = Config::parse(Path::new("x.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn dispatch_keys_are_checked_and_unknown_ones_reported() {
        let text = "[dispatch]\nhigh_frp_mw = 50\nverify_within_min = 3\n[dispatch.normal]\nacknowledge_min = 15\non_site_min = 40\nverdict_min = 180\n[verify]\nmax_distance_m = 1000\n";
        let e = Config::parse(Path::new("x.toml"), text).unwrap_err();
        assert!(
            matches!(&e, ConfigError::UnknownKeys { keys, .. } if keys.len() == 1 && keys[0].0 == "dispatch.verify_within_min"),
            "{e}"
        );
        let l = Config::parse(
            Path::new("x.toml"),
            &text.replace("verify_within_min = 3\n", ""),
        )
        .unwrap();
        assert_eq!(l.config.dispatch.normal.acknowledge_min, 15);
        assert_eq!(l.config.dispatch.high_frp_mw, 50.0);
        assert_eq!(l.config.verify.max_distance_m, 1000.0);
        let e = Config::parse(
            Path::new("x.toml"),
            "[dispatch.high]\nacknowledge_min = 30\non_site_min = 20\nverdict_min = 60\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("dispatch.high"), "{e}");
    }

    /// An unknown key is an error naming the file, every unknown key with its path and the
    /// nearest known one: in its own table a few edits away, or the same name in another table
    /// (a key put above its table's header), in nested tables and lists of tables too.
    #[test]
    fn unknown_keys_are_errors_naming_file_key_and_the_nearest_known_key() {
        let e = Config::parse(
            Path::new("/etc/strawfire.toml"),
            "listen = \"127.0.0.1:9000\"\nlisten_port = 3\nsettle_s = 2\ncolour = 1\n[inbox]\npol_s = 3\n[ui.basemap]\npreest = \"none\"\n[inbx]\npoll_s = 1\n[[tokens]]\ntoken = \"t\"\nrole = \"admin\"\n",
        )
        .unwrap_err();
        let ConfigError::UnknownKeys { path, keys } = &e else {
            panic!("{e}");
        };
        assert_eq!(path, Path::new("/etc/strawfire.toml"));
        let got: Vec<(&str, Option<&str>)> = keys
            .iter()
            .map(|(k, n)| (k.as_str(), n.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("colour", None),
                ("inbox.pol_s", Some("inbox.poll_s")),
                ("inbx", Some("inbox")),
                // Too far from `listen` to guess.
                ("listen_port", None),
                ("settle_s", Some("inbox.settle_s")),
                ("ui.basemap.preest", Some("ui.basemap.preset")),
            ]
        );
        let text = e.to_string();
        assert!(
            text.starts_with("config /etc/strawfire.toml: unknown key `colour`, unknown key `inbox.pol_s` (did you mean `inbox.poll_s`?), unknown key `inbx` (did you mean `inbox`?)"),
            "{text}"
        );
        // Every table the file may hold is known, the lists' and the nested ones too.
        let tables = known_keys::of::<Config>();
        for table in [
            "",
            "inbox",
            "dispatch",
            "dispatch.normal",
            "dispatch.high",
            "tokens",
            "sources",
            "sources.firms",
            "verify",
            "rank",
            "ui",
            "ui.basemap",
            "store",
        ] {
            assert!(tables.contains_key(table), "{table}: {:?}", tables.keys());
        }
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = Config::parse(Path::new("x.toml"), "[inbox]\npoll_s = \"often\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("poll_s"), "{e}");
        let e = Config::parse(
            Path::new("x.toml"),
            "[[tokens]]\ntoken = \"0123456789abcdef\"\nrole = \"mayor\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("tokens[0].role"), "{e}");
    }

    #[test]
    fn webhooks_and_notify_are_validated_naming_the_key() {
        let hook = |name: &str, unit: &str, url: &str| {
            format!("[[webhooks]]\nname = \"{name}\"\nunit = \"{unit}\"\nurl = \"{url}\"\n")
        };
        let ok =
            hook("a", "410526101", "http://127.0.0.1:9/x") + &hook("b", "410526", "https://h/y");
        let c = Config::parse(Path::new("x.toml"), &ok).unwrap().config;
        assert_eq!(c.webhooks.len(), 2);
        assert_eq!(c.webhooks[0].format, WebhookFormat::Json);
        // A county group that follows new tasks and verdicts, @mentioning the person on duty.
        let sub = hook("c", "410526", "https://h/z")
            + "format = \"text\"\nkinds = [\"task_new\", \"verdict\"]\n"
            + "mentioned_mobile_list = [\"13800138000\", \"@all\"]\n"
            + "[notify]\npublic_url = \"https://fire.example.cn\"\n";
        let c = Config::parse(Path::new("x.toml"), &sub).unwrap().config;
        assert_eq!(c.webhooks[0].format, WebhookFormat::Text);
        assert_eq!(c.webhooks[0].mentioned_mobile_list.len(), 2);
        assert!(c.webhooks[0].takes("task_new", "410526101", Some("410526")));
        assert!(!c.webhooks[0].takes("escalation", "410526", Some("410526")));
        assert_eq!(
            c.notify.public_url.as_deref(),
            Some("https://fire.example.cn")
        );
        let cases = [
            (
                hook("a", "410526101", "http://h/") + &hook("a", "410526", "http://h/"),
                "webhooks[1].name",
            ),
            (hook("a", "410526101", "ftp://h/"), "webhooks[0].url"),
            (hook("a", "410526101", "not a url"), "webhooks[0].url"),
            (hook("a", "41052", "http://h/"), "webhooks[0].unit"),
            (
                hook("a", "410526101", "http://h/") + "format = \"xml\"\n",
                "format",
            ),
            (
                hook("a", "410526101", "http://h/") + "[webhooks.headers]\n\"a b\" = \"1\"\n",
                "webhooks[0].headers",
            ),
            (
                "[notify]\nmax_attempts = 0\n".to_string(),
                "notify.max_attempts",
            ),
            (
                "[notify]\nbackoff_base_s = 60\nbackoff_max_s = 30\n".to_string(),
                "notify.backoff_max_s",
            ),
            ("[notify]\npoll_s = 0\n".to_string(), "notify.poll_s"),
            (
                hook("a", "410526", "http://h/") + "kinds = [\"task_new\", \"fire\"]\n",
                "webhooks[0].kinds",
            ),
            (
                hook("a", "410526", "http://h/")
                    + "format = \"text\"\nmentioned_mobile_list = [\"1380013800\"]\n",
                "webhooks[0].mentioned_mobile_list",
            ),
            (
                hook("a", "410526", "http://h/")
                    + "format = \"markdown\"\nmentioned_mobile_list = [\"13800138000\"]\n",
                "webhooks[0].mentioned_mobile_list",
            ),
            (
                "[notify]\npublic_url = \"fire.example.cn\"\n".to_string(),
                "notify.public_url",
            ),
            (
                "[notify]\ntimeout_s = inf\n".to_string(),
                "notify.timeout_s",
            ),
            (
                "[notify]\nbackoff_max_s = nan\n".to_string(),
                "notify.backoff_max_s",
            ),
            ("[notify]\njitter = \"none\"\n".to_string(), "jitter"),
        ];
        for (text, key) in cases {
            let e = Config::parse(Path::new("x.toml"), &text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn a_tile_url_needs_its_placeholders() {
        let e = Config::parse(
            Path::new("x.toml"),
            "[dashboard]\ntile_url = \"http://tiles.local/osm.png\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("dashboard.tile_url"), "{e}");
        let ok = Config::parse(
            Path::new("x.toml"),
            "[dashboard]\ntile_url = \"http://tiles.local/{z}/{x}/{y}.png\"\n",
        )
        .unwrap();
        assert_eq!(
            ok.config.dashboard.tile_url,
            "http://tiles.local/{z}/{x}/{y}.png"
        );
        assert_eq!(Config::default().dashboard.tile_url, "");
    }

    #[test]
    fn ui_language_and_zone_default_to_chinese_and_beijing_and_are_checked() {
        let d = Config::parse(Path::new("x.toml"), "").unwrap().config;
        assert_eq!(d.ui.lang(), crate::i18n::Lang::ZhCn);
        assert!(d.ui.zone().is_beijing());
        let en = Config::parse(
            Path::new("x.toml"),
            "[ui]\nlang = \"en\"\ntime_zone = \"Asia/Urumqi\"\n",
        )
        .unwrap();
        assert_eq!(en.config.ui.lang(), crate::i18n::Lang::En);
        assert_eq!(en.config.ui.zone().name(), "Asia/Urumqi");
        for (text, key) in [
            ("[ui]\nlang = \"fr\"\n", "ui.lang"),
            ("[ui]\ntime_zone = \"Beijing\"\n", "ui.time_zone"),
        ] {
            let e = Config::parse(Path::new("x.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn firms_area_url_has_the_api_form() {
        let f = FirmsArea {
            base_url: "http://h/".into(),
            key: "K".into(),
            source: "VIIRS_NOAA20_NRT".into(),
            bbox: [114.0, 34.5, 115.5, 36.0],
            days: 1,
        };
        assert_eq!(
            f.url(2),
            "http://h/api/area/csv/K/VIIRS_NOAA20_NRT/114,34.5,115.5,36/2"
        );
    }
}
