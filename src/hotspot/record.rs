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
        let s = s.trim();
        // Compared without a lowercase copy: a feed has a confidence in every row.
        let is = |names: &[&str]| names.iter().any(|n| s.eq_ignore_ascii_case(n));
        if is(&["l", "low"]) {
            Some(Confidence::Low)
        } else if is(&["n", "nominal", "m", "medium"]) {
            // FIRMS Landsat writes H/M/L: medium is the nominal class.
            Some(Confidence::Nominal)
        } else if is(&["h", "high"]) {
            Some(Confidence::High)
        } else {
            s.parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .map(Confidence::Percent)
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
    ///
    /// The measurements are `None` when unknown: real FIRMS and CSPP files have empty or `NaN`
    /// fields (empty FRP most often), and such a row is still a fire the feed saw. `None` is
    /// stored as NULL, written as `null` in JSON and as an empty CSV field; never a made-up 0.
    pub bt_mir_k: Option<f64>,
    /// Thermal-infrared brightness temperature, K (`bright_ti5` VIIRS, `bright_t31` MODIS).
    pub bt_tir_k: Option<f64>,
    /// Pixel size across and along track, km (FIRMS `scan`, `track`).
    pub scan_km: Option<f64>,
    pub track_km: Option<f64>,
    /// Acquisition time, UTC (FIRMS `acq_date` + `acq_time`).
    pub acq_time: DateTime<Utc>,
    /// FIRMS satellite code: `N`, `N20`, `N21`, `Terra`, `Aqua`, ...
    pub satellite: String,
    /// `VIIRS` or `MODIS` (decides the column names).
    pub instrument: String,
    pub confidence: Confidence,
    pub version: String,
    /// Fire radiative power, MW.
    pub frp_mw: Option<f64>,
    pub daynight: DayNight,
    /// FIRMS `type`: 0 vegetation, 1 volcano, 2 static land source, 3 offshore, when given.
    pub fire_type: Option<u8>,
    /// 0-based pixel indices in the scene, for our own detections.
    pub row: Option<usize>,
    pub col: Option<usize>,
}

impl Hotspot {
    /// True when the record comes from MODIS or another 1 km MODIS-family instrument (FY-3
    /// MERSI, detected by the same algorithm): columns `brightness`, `bright_t31`, a 1 km
    /// nominal pixel.
    pub fn is_modis(&self) -> bool {
        self.instrument.eq_ignore_ascii_case("MODIS")
            || self.instrument.eq_ignore_ascii_case("MERSI")
    }

    /// The pixel's larger side, m: the measured `scan`/`track` when known (and positive),
    /// otherwise the instrument's nominal pixel at nadir (MODIS 1 km, VIIRS 375 m). Fusion and
    /// placement need a footprint even when the feed left the pixel size empty.
    pub fn footprint_m(&self) -> f64 {
        let known = |v: Option<f64>| v.filter(|v| v.is_finite() && *v > 0.0);
        match (known(self.scan_km), known(self.track_km)) {
            (Some(s), Some(t)) => s.max(t) * 1000.0,
            (Some(v), None) | (None, Some(v)) => v * 1000.0,
            (None, None) => self.nominal_pixel_km() * 1000.0,
        }
    }

    /// The instrument's nominal pixel size at nadir, km (MODIS 1, VIIRS I-band 0.375, Landsat
    /// OLI 0.03, Sentinel-2 MSI 0.02: the 20 m SWIR bands B11/B12 the detection is made in).
    pub fn nominal_pixel_km(&self) -> f64 {
        if self.is_modis() {
            1.0
        } else if self.instrument.eq_ignore_ascii_case("OLI") {
            0.03
        } else if self.instrument.eq_ignore_ascii_case("MSI") {
            0.02
        } else {
            0.375
        }
    }

    /// The fixture the store's unit tests share: a nominal NOAA-20 VIIRS night detection of
    /// 3 MW at (lon, lat) and time `t`, 0.39 × 0.36 km.
    #[cfg(test)]
    pub(crate) fn test_viirs(lon: f64, lat: f64, t: chrono::DateTime<chrono::Utc>) -> Hotspot {
        Hotspot {
            latitude: lat,
            longitude: lon,
            bt_mir_k: Some(330.0),
            bt_tir_k: Some(290.0),
            scan_km: Some(0.39),
            track_km: Some(0.36),
            acq_time: t,
            satellite: "N20".into(),
            instrument: "VIIRS".into(),
            confidence: Confidence::Nominal,
            version: "2.0NRT".into(),
            frp_mw: Some(3.0),
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

    #[test]
    fn nominal_pixel_is_the_instruments_own() {
        let t = chrono::DateTime::UNIX_EPOCH;
        let mut h = Hotspot::test_viirs(114.5, 34.5, t);
        (h.scan_km, h.track_km) = (None, None);
        for (instrument, km) in [
            ("VIIRS", 0.375),
            ("MODIS", 1.0),
            ("MERSI", 1.0),
            ("OLI", 0.03),
            ("MSI", 0.02),
            ("msi", 0.02),
        ] {
            h.instrument = instrument.into();
            assert_eq!(h.nominal_pixel_km(), km, "{instrument}");
            assert!((h.footprint_m() - km * 1000.0).abs() < 1e-9, "{instrument}");
        }
    }
}
