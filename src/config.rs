//! The service's configuration: a TOML file (`strawfire.example.toml` documents every key).
//! Unknown keys are reported, not silently ignored: a misspelt `[inbox] pol_s` would otherwise
//! leave the default in force without anyone noticing. The environment variable
//! `STRAWFIRE_ADMIN_TOKEN` adds an admin token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    pub limits: Limits,
    pub fuse: FuseConfig,
    pub layers: LayersConfig,
    pub sensors: Vec<SensorConfig>,
    pub sources: Vec<SourceConfig>,
    pub dispatch: DispatchConfig,
    pub tokens: Vec<TokenConfig>,
    pub rank: RankConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            samples_dir: Some(PathBuf::from("samples")),
            inbox: InboxConfig::default(),
            limits: Limits::default(),
            fuse: FuseConfig::default(),
            layers: LayersConfig::default(),
            sensors: Vec::new(),
            sources: Vec::new(),
            dispatch: DispatchConfig::default(),
            tokens: Vec::new(),
            rank: RankConfig::default(),
        }
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
    pub settle_s: f64,
}

impl Default for InboxConfig {
    fn default() -> Self {
        InboxConfig {
            dir: None,
            poll_s: 2.0,
            settle_s: 1.0,
        }
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
    /// Scenes scanned at once (each scan uses every core through rayon).
    pub scan_workers: usize,
    /// Scenes waiting for a scan slot before uploads are refused with 503.
    pub scan_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            scene_bytes: 1 << 30,
            feed_bytes: 32 << 20,
            alert_bytes: 64 << 10,
            scan_workers: 1,
            scan_queue: 16,
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
    /// `VIIRS_NOAA20_NRT`, `VIIRS_SNPP_NRT`, `MODIS_NRT`, ...
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
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig {
            season_start: "05-20".into(),
            min_clear_share: 0.5,
            utc_offset_h: 8,
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

/// Dispatch policy (used by dispatch, a later issue; read and validated now).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DispatchConfig {
    pub verify_within_min: u32,
    pub high_confidence_within_min: u32,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            verify_within_min: 120,
            high_confidence_within_min: 30,
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

/// A config and the unknown keys it contained (to be reported).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub unknown_keys: Vec<String>,
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
        config.validate(path)?;
        Ok(Loaded {
            config,
            unknown_keys,
        })
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |key: &str, message: &str| ConfigError::Invalid {
            path: path.to_path_buf(),
            key: key.into(),
            message: message.into(),
        };
        if self.inbox.poll_s <= 0.0 {
            return Err(bad("inbox.poll_s", "must be > 0"));
        }
        if self.limits.scan_workers == 0 {
            return Err(bad("limits.scan_workers", "must be at least 1"));
        }
        if self.fuse.window_h < 0.0 || self.fuse.extra_distance_m < 0.0 {
            return Err(bad("fuse", "distances and windows must be >= 0"));
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
        if !(-12..=14).contains(&self.rank.utc_offset_h) {
            return Err(bad("rank.utc_offset_h", "hours between -12 and 14"));
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
            if s.interval_s < 1.0 {
                return Err(bad(&format!("sources[{i}].interval_s"), "at least 1 s"));
            }
            if s.backoff_s <= 0.0 {
                return Err(bad(&format!("sources[{i}].backoff_s"), "must be > 0"));
            }
        }
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
        assert!(loaded.unknown_keys.is_empty(), "{:?}", loaded.unknown_keys);
        assert_eq!(loaded.config.tokens.len(), 3);
        assert_eq!(loaded.config.sources.len(), 2);
    }

    #[test]
    fn unknown_keys_are_reported_with_their_path() {
        let l = Config::parse(
            Path::new("x.toml"),
            "listen = \"127.0.0.1:9000\"\nlisten_port = 3\n[inbox]\npol_s = 3\n",
        )
        .unwrap();
        assert_eq!(l.config.listen.port(), 9000);
        assert_eq!(l.unknown_keys, vec!["listen_port", "inbox.pol_s"]);
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
    fn rank_settings_are_read_and_checked() {
        let c = Config::parse(
            Path::new("x.toml"),
            "[rank]\nseason_start = \"10-01\"\nmin_clear_share = 0.3\n",
        )
        .unwrap()
        .config;
        assert_eq!(
            (c.rank.season(), c.rank.min_clear_share, c.rank.utc_offset_h),
            ((10, 1), 0.3, 8)
        );
        for (toml, key) in [
            ("[rank]\nseason_start = \"5/20\"\n", "rank.season_start"),
            ("[rank]\nmin_clear_share = 1.5\n", "rank.min_clear_share"),
            ("[rank]\nutc_offset_h = 20\n", "rank.utc_offset_h"),
        ] {
            let e = Config::parse(Path::new("x.toml"), toml)
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{e}");
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
