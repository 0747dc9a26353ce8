//! LAYER_SPEC: how a user names a layer and its fields, the same on the command line and in the
//! config file: `PATH[:key=value]...`.
//!
//! Keys (all optional): `level` (`county`, `township`, `village`, `parcel`, `mask`), `code`,
//! `name`, `parent` (field names), `layer` (for multi-layer files), `crs` (`wgs84`, `gcj02` or
//! `EPSG:n`; default the file's own), and the strawfire extensions `cropland_ha` (field with the
//! unit's cropland area, for per-area rankings), `where` (an OGR attribute filter, e.g.
//! `where=Fuel='Coal'`), `radius_m`, `reason` and `priority` (masks).
//!
//! Parsing is pure; the file is opened by [`super::layer`]. The path itself may contain `:`
//! (e.g. `C:\data`): only trailing `key=value` segments with a known key are options.

use std::fmt;
use std::path::PathBuf;

/// What a layer's features are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    County,
    Township,
    Village,
    Parcel,
    Mask,
}

impl Level {
    pub fn as_str(&self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
            Level::Parcel => "parcel",
            Level::Mask => "mask",
        }
    }

    fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "county" => Some(Level::County),
            "township" | "town" => Some(Level::Township),
            "village" => Some(Level::Village),
            "parcel" | "field" => Some(Level::Parcel),
            "mask" => Some(Level::Mask),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The coordinate reference of a layer's coordinates, when the file does not say it truly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrsSpec {
    Wgs84,
    /// GCJ-02 lon/lat (AMap, DataV): converted to WGS84 on load.
    Gcj02,
    Epsg(u32),
}

/// A parsed LAYER_SPEC.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    pub path: PathBuf,
    /// `None`: decided by the flag the spec was given to (`--admin` needs it, `--parcels` implies
    /// parcel, `--mask` implies mask).
    pub level: Option<Level>,
    pub code_field: Option<String>,
    pub name_field: Option<String>,
    pub parent_field: Option<String>,
    pub layer: Option<String>,
    pub crs: Option<CrsSpec>,
    pub cropland_ha_field: Option<String>,
    pub where_clause: Option<String>,
    pub radius_m: Option<f64>,
    pub reason: Option<String>,
    pub priority: Option<i32>,
}

/// A LAYER_SPEC that cannot be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    /// The spec has no path before its options: give `PATH[:key=value]...`.
    #[error("layer spec `{spec}`: no path")]
    NoPath { spec: String },
    /// A `key=value` option whose key is not one of the documented keys.
    #[error("layer spec `{spec}`: unknown key `{key}` (known: level, code, name, parent, layer, crs, cropland_ha, where, radius_m, reason, priority)")]
    UnknownKey { spec: String, key: String },
    /// A known key with a value that does not parse.
    #[error("layer spec `{spec}`: bad value `{value}` for `{key}`: {expected}")]
    BadValue {
        spec: String,
        key: String,
        value: String,
        expected: &'static str,
    },
}

const KEYS: [&str; 11] = [
    "level",
    "code",
    "name",
    "parent",
    "layer",
    "crs",
    "cropland_ha",
    "where",
    "radius_m",
    "reason",
    "priority",
];

fn looks_like_option(segment: &str) -> Option<(&str, &str)> {
    let (k, v) = segment.split_once('=')?;
    let key_like = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    key_like.then_some((k, v))
}

impl LayerSpec {
    /// A spec for `path` with every option unset.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LayerSpec {
            path: path.into(),
            level: None,
            code_field: None,
            name_field: None,
            parent_field: None,
            layer: None,
            crs: None,
            cropland_ha_field: None,
            where_clause: None,
            radius_m: None,
            reason: None,
            priority: None,
        }
    }

    /// Parses `PATH[:key=value]...`.
    ///
    /// # Examples
    /// ```
    /// use strawfire::locate::spec::{CrsSpec, Level, LayerSpec};
    /// let s = LayerSpec::parse("samples/admin/henan_counties.geojson:level=county:code=adcode:name=name:crs=gcj02")?;
    /// assert_eq!(s.level, Some(Level::County));
    /// assert_eq!(s.code_field.as_deref(), Some("adcode"));
    /// assert_eq!(s.crs, Some(CrsSpec::Gcj02));
    /// # Ok::<(), strawfire::locate::spec::SpecError>(())
    /// ```
    pub fn parse(spec: &str) -> Result<LayerSpec, SpecError> {
        // `crs=EPSG:n` holds the separator itself: glue it back together first.
        let mut segments: Vec<String> = Vec::new();
        for seg in spec.split(':') {
            let glue = segments
                .last()
                .is_some_and(|prev: &String| prev.eq_ignore_ascii_case("crs=epsg"))
                && !seg.is_empty()
                && seg.chars().all(|c| c.is_ascii_digit());
            if glue {
                let prev = segments.last_mut().expect("checked");
                prev.push(':');
                prev.push_str(seg);
            } else {
                segments.push(seg.to_string());
            }
        }
        // Options are the trailing run of `key=value` segments (a `where=` clause cannot hold `:`).
        let mut first_option = segments.len();
        while first_option > 1 && looks_like_option(&segments[first_option - 1]).is_some() {
            first_option -= 1;
        }
        let path = segments[..first_option].join(":");
        if path.is_empty() {
            return Err(SpecError::NoPath { spec: spec.into() });
        }
        let mut out = LayerSpec::new(path);
        for seg in &segments[first_option..] {
            let seg = seg.as_str();
            let (key, value) = looks_like_option(seg).expect("checked above");
            let bad = |expected| SpecError::BadValue {
                spec: spec.into(),
                key: key.into(),
                value: value.into(),
                expected,
            };
            match key {
                "level" => {
                    out.level = Some(
                        Level::parse(value)
                            .ok_or_else(|| bad("county, township, village, parcel or mask"))?,
                    )
                }
                "code" => out.code_field = Some(value.into()),
                "name" => out.name_field = Some(value.into()),
                "parent" => out.parent_field = Some(value.into()),
                "layer" => out.layer = Some(value.into()),
                "cropland_ha" => out.cropland_ha_field = Some(value.into()),
                "where" => out.where_clause = Some(value.into()),
                "reason" => out.reason = Some(value.into()),
                "crs" => {
                    out.crs = Some(parse_crs(value).ok_or_else(|| bad("wgs84, gcj02 or EPSG:n"))?)
                }
                "radius_m" => {
                    let r: f64 = value.parse().map_err(|_| bad("a distance in metres"))?;
                    if !(r.is_finite() && r >= 0.0) {
                        return Err(bad("a distance in metres"));
                    }
                    out.radius_m = Some(r);
                }
                "priority" => out.priority = Some(value.parse().map_err(|_| bad("an integer"))?),
                _ => {
                    debug_assert!(!KEYS.contains(&key));
                    return Err(SpecError::UnknownKey {
                        spec: spec.into(),
                        key: key.into(),
                    });
                }
            }
        }
        Ok(out)
    }
}

fn parse_crs(value: &str) -> Option<CrsSpec> {
    let v = value.to_ascii_lowercase();
    match v.as_str() {
        "wgs84" | "wgs-84" | "epsg:4326" => Some(CrsSpec::Wgs84),
        "gcj02" | "gcj-02" => Some(CrsSpec::Gcj02),
        _ => v
            .strip_prefix("epsg:")
            .and_then(|n| n.parse().ok())
            .map(CrsSpec::Epsg),
    }
}

/// In the config file a layer is the same string as on the command line.
impl<'de> serde::Deserialize<'de> for LayerSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        LayerSpec::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for LayerSpec {
    type Err = SpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LayerSpec::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_example() {
        let s = LayerSpec::parse(
            "tests/fixtures/admin/garybikini_county_shp/henan_410000.shp:level=county:code=adcode:name=name:crs=gcj02",
        )
        .unwrap();
        assert_eq!(
            s.path,
            PathBuf::from("tests/fixtures/admin/garybikini_county_shp/henan_410000.shp")
        );
        assert_eq!(s.level, Some(Level::County));
        assert_eq!(s.name_field.as_deref(), Some("name"));
        assert_eq!(s.crs, Some(CrsSpec::Gcj02));
        assert_eq!(s.layer, None);
    }

    #[test]
    fn path_may_hold_colons_and_options_are_typed() {
        let s = LayerSpec::parse("nl.gpkg:layer=brp_gewas:crs=EPSG:28992:level=parcel").unwrap();
        assert_eq!(s.path, PathBuf::from("nl.gpkg"));
        assert_eq!(s.crs, Some(CrsSpec::Epsg(28992)));
        assert_eq!(s.level, Some(Level::Parcel));
        let s = LayerSpec::parse(r"C:\data\plants.csv:radius_m=1500:where=Fuel='Coal'").unwrap();
        assert_eq!(s.path, PathBuf::from(r"C:\data\plants.csv"));
        assert_eq!(s.radius_m, Some(1500.0));
        assert_eq!(s.where_clause.as_deref(), Some("Fuel='Coal'"));
        let s = LayerSpec::parse("a.gpkg:layer=brp:crs=epsg%3A28992");
        assert!(matches!(s, Err(SpecError::BadValue { .. })));
    }

    #[test]
    fn config_files_use_the_same_string() {
        #[derive(Debug, serde::Deserialize)]
        struct Cfg {
            admin: Vec<LayerSpec>,
        }
        let cfg: Cfg =
            toml::from_str(r#"admin = ["c.shp:level=county:code=adcode:crs=gcj02"]"#).unwrap();
        assert_eq!(cfg.admin[0].code_field.as_deref(), Some("adcode"));
        let bad: Result<Cfg, _> = toml::from_str(r#"admin = ["c.shp:level=nation"]"#);
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("bad value `nation` for `level`"));
    }

    #[test]
    fn errors_name_the_key() {
        match LayerSpec::parse("a.shp:levl=county") {
            Err(SpecError::UnknownKey { key, .. }) => assert_eq!(key, "levl"),
            other => panic!("{other:?}"),
        }
        match LayerSpec::parse("a.shp:level=province") {
            Err(SpecError::BadValue { key, .. }) => assert_eq!(key, "level"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            LayerSpec::parse("a.shp:radius_m=-3"),
            Err(SpecError::BadValue { .. })
        ));
        assert!(matches!(
            LayerSpec::parse(":level=county"),
            Err(SpecError::NoPath { .. })
        ));
    }
}
