//! The hotspot record and its fields' vocabularies.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Detection confidence as FIRMS publishes it: VIIRS classes (`l`, `n`, `h`) or a MODIS
/// percentage (0–100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Confidence {
    Low,
    Nominal,
    High,
    /// MODIS: 0–100 %.
    Percent(u8),
}

impl Confidence {
    /// The FIRMS text: `l`, `n`, `h`, or the percentage.
    pub fn as_firms(&self) -> String {
        match self {
            Confidence::Low => "l".into(),
            Confidence::Nominal => "n".into(),
            Confidence::High => "h".into(),
            Confidence::Percent(p) => p.to_string(),
        }
    }

    /// Parses the FIRMS text (`l`/`low`, `n`/`nominal`, `h`/`high`, or 0–100).
    pub fn parse(s: &str) -> Option<Confidence> {
        match s.trim().to_ascii_lowercase().as_str() {
            "l" | "low" => Some(Confidence::Low),
            "n" | "nominal" => Some(Confidence::Nominal),
            "h" | "high" => Some(Confidence::High),
            other => other
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .map(Confidence::Percent),
        }
    }
}

/// Day or night observation (`D` / `N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DayNight {
    Day,
    Night,
}

impl DayNight {
    pub fn as_firms(&self) -> &'static str {
        match self {
            DayNight::Day => "D",
            DayNight::Night => "N",
        }
    }
}

/// One hotspot (fire pixel) in the FIRMS schema, plus our `row,col`.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspot {
    /// Pixel centre, WGS84 degrees.
    pub latitude: f64,
    pub longitude: f64,
    /// Mid-infrared brightness temperature, K (`bright_ti4` VIIRS, `brightness` MODIS).
    pub bt_mir_k: f64,
    /// Thermal-infrared brightness temperature, K (`bright_ti5` VIIRS, `bright_t31` MODIS).
    pub bt_tir_k: f64,
    /// Pixel size across and along track, km (FIRMS `scan`, `track`).
    pub scan_km: f64,
    pub track_km: f64,
    /// Acquisition time, UTC (FIRMS `acq_date` + `acq_time`).
    pub acq_time: DateTime<Utc>,
    /// FIRMS satellite code: `N`, `N20`, `N21`, `Terra`, `Aqua`, ...
    pub satellite: String,
    /// `VIIRS` or `MODIS` (decides the column names).
    pub instrument: String,
    pub confidence: Confidence,
    pub version: String,
    /// Fire radiative power, MW.
    pub frp_mw: f64,
    pub daynight: DayNight,
    /// FIRMS `type`: 0 vegetation, 1 volcano, 2 static land source, 3 offshore, when given.
    pub fire_type: Option<u8>,
    /// 0-based pixel indices in the scene, for our own detections.
    pub row: Option<usize>,
    pub col: Option<usize>,
}

impl Hotspot {
    /// True when the record comes from MODIS (columns `brightness`, `bright_t31`).
    pub fn is_modis(&self) -> bool {
        self.instrument.eq_ignore_ascii_case("MODIS")
    }

    /// The fixture the store's unit tests share: a nominal NOAA-20 VIIRS night detection of
    /// 3 MW at (lon, lat) and time `t`, 0.39 × 0.36 km.
    #[cfg(test)]
    pub(crate) fn test_viirs(lon: f64, lat: f64, t: chrono::DateTime<chrono::Utc>) -> Hotspot {
        Hotspot {
            latitude: lat,
            longitude: lon,
            bt_mir_k: 330.0,
            bt_tir_k: 290.0,
            scan_km: 0.39,
            track_km: 0.36,
            acq_time: t,
            satellite: "N20".into(),
            instrument: "VIIRS".into(),
            confidence: Confidence::Nominal,
            version: "2.0NRT".into(),
            frp_mw: 3.0,
            daynight: DayNight::Night,
            fire_type: None,
            row: None,
            col: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_round_trips() {
        for c in [
            Confidence::Low,
            Confidence::Nominal,
            Confidence::High,
            Confidence::Percent(87),
        ] {
            assert_eq!(Confidence::parse(&c.as_firms()), Some(c));
        }
        assert_eq!(Confidence::parse("nominal"), Some(Confidence::Nominal));
        assert_eq!(Confidence::parse("101"), None);
    }
}
