//! Writing hotspots as FIRMS CSV (plus `row,col`) or as a GeoJSON FeatureCollection with the
//! same properties.

use std::io::Write;

use super::record::Hotspot;

/// Output formats of `strawfire scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Csv,
    Geojson,
}

/// The VIIRS FIRMS header plus our `row,col`.
pub const VIIRS_HEADER: [&str; 16] = [
    "latitude",
    "longitude",
    "bright_ti4",
    "scan",
    "track",
    "acq_date",
    "acq_time",
    "satellite",
    "instrument",
    "confidence",
    "version",
    "bright_ti5",
    "frp",
    "daynight",
    "row",
    "col",
];

/// The MODIS FIRMS header plus our `row,col`.
pub const MODIS_HEADER: [&str; 16] = [
    "latitude",
    "longitude",
    "brightness",
    "scan",
    "track",
    "acq_date",
    "acq_time",
    "satellite",
    "instrument",
    "confidence",
    "version",
    "bright_t31",
    "frp",
    "daynight",
    "row",
    "col",
];

/// A hotspot's FIRMS text in [`VIIRS_HEADER`] / [`MODIS_HEADER`] order; an unknown
/// measurement (`None`) is an empty field, which the reader takes back as unknown.
pub fn row_fields(h: &Hotspot) -> [String; 16] {
    let opt = |v: Option<usize>| v.map(|v| v.to_string()).unwrap_or_default();
    // An unknown measurement is an empty field (FIRMS files write it so), never `NaN` or 0.
    let num = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    [
        format!("{:.5}", h.latitude),
        format!("{:.5}", h.longitude),
        num(h.bt_mir_k),
        num(h.scan_km),
        num(h.track_km),
        h.acq_time.format("%Y-%m-%d").to_string(),
        h.acq_time.format("%H%M").to_string(),
        h.satellite.clone(),
        h.instrument.clone(),
        h.confidence.as_firms(),
        h.version.clone(),
        num(h.bt_tir_k),
        num(h.frp_mw),
        h.daynight.as_firms().to_string(),
        opt(h.row),
        opt(h.col),
    ]
}

/// Writes hotspots as FIRMS CSV. The header follows the instrument of the first record
/// (VIIRS when there is none).
pub fn write_csv<W: Write>(out: W, hotspots: &[Hotspot]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let modis = hotspots.first().is_some_and(Hotspot::is_modis);
    w.write_record(if modis { MODIS_HEADER } else { VIIRS_HEADER })?;
    for h in hotspots {
        w.write_record(row_fields(h))?;
    }
    w.flush()
}

/// Writes hotspots as a GeoJSON FeatureCollection of points with the FIRMS properties.
pub fn write_geojson<W: Write>(mut out: W, hotspots: &[Hotspot]) -> std::io::Result<()> {
    let features: Vec<serde_json::Value> = hotspots
        .iter()
        .map(|h| {
            let names = if h.is_modis() {
                MODIS_HEADER
            } else {
                VIIRS_HEADER
            };
            let vals = row_fields(h);
            let mut props = serde_json::Map::new();
            for (k, v) in names.iter().zip(vals) {
                let value = match *k {
                    "acq_date" | "acq_time" | "satellite" | "instrument" | "confidence"
                    | "version" | "daynight" => serde_json::Value::String(v),
                    // An empty field (unknown measurement, no row/col) is `null`.
                    _ => v
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(serde_json::Value::Number)
                        .unwrap_or(serde_json::Value::Null),
                };
                props.insert((*k).to_string(), value);
            }
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [h.longitude, h.latitude]},
                "properties": props,
            })
        })
        .collect();
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    serde_json::to_writer(&mut out, &fc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn unknown_measurements_are_empty_in_csv_and_null_in_geojson() {
        let t = chrono::Utc.with_ymd_and_hms(2024, 6, 8, 18, 6, 0).unwrap();
        let h = Hotspot {
            frp_mw: None,
            bt_tir_k: None,
            scan_km: None,
            ..Hotspot::test_viirs(114.5, 35.5, t)
        };
        let mut csv = Vec::new();
        write_csv(&mut csv, std::slice::from_ref(&h)).unwrap();
        let text = String::from_utf8(csv).unwrap();
        let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
        assert_eq!((row[2], row[3], row[11], row[12]), ("330.00", "", "", ""));
        let mut json = Vec::new();
        write_geojson(&mut json, &[h]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let p = &v["features"][0]["properties"];
        assert!(p["frp"].is_null() && p["bright_ti5"].is_null() && p["scan"].is_null());
        assert_eq!(p["bright_ti4"], 330.0);
    }
}
