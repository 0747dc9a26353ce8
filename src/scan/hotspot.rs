//! A fire pixel as a FIRMS hotspot record, for every family: where the pixel lies (its
//! [`Footprint`] on a map grid or on a swath) and what the detector measured there. Written
//! once because the record's columns are the same for VIIRS, MODIS/MERSI and the reflective
//! family; what differs is only where the position comes from and which measurements exist.

use chrono::{DateTime, Utc};
use ndarray::ArrayView2;

use crate::detect::FirePixel;
use crate::hotspot::{DayNight, Hotspot};
use crate::raster::{SceneMeta, Wgs84Projector};

/// Where a fire pixel is and how large: its centre (WGS84) and FIRMS `scan`/`track`, km.
struct Footprint {
    lon: f64,
    lat: f64,
    scan_km: f64,
    track_km: f64,
}

impl Footprint {
    /// A pixel of a map grid: its centre and ground size by the projector.
    fn on_grid(p: &Wgs84Projector, row: usize, col: usize) -> Result<Self, String> {
        let (lon, lat) = p.centre(row, col)?;
        let (scan_km, track_km) = p.pixel_size_km(row, col)?;
        Ok(Footprint {
            lon,
            lat,
            scan_km,
            track_km,
        })
    }

    /// A pixel of a swath: the geolocation at it, and the size of its column (`sizes`,
    /// along-scan and along-track km, [`super::swath_pixel_sizes_km`]). A fire where the
    /// geolocation is missing (NaN) is an error naming the pixel, never a hotspot at (0, 0).
    fn on_swath(
        (lat, lon): (ArrayView2<f32>, ArrayView2<f32>),
        sizes: &[(f64, f64)],
        row: usize,
        col: usize,
    ) -> Result<Self, String> {
        let (la, lo) = (lat[[row, col]], lon[[row, col]]);
        if !(la.is_finite() && lo.is_finite()) {
            return Err(format!(
                "a fire at row {row} column {col} has no geolocation (latitude {la}, longitude {lo})"
            ));
        }
        Ok(Footprint {
            lon: lo as f64,
            lat: la as f64,
            scan_km: sizes[col].0,
            track_km: sizes[col].1,
        })
    }
}

/// What a record says of the overpass rather than the pixel.
pub(super) struct Overpass<'a> {
    /// FIRMS satellite code (`N20`, `T`, `FY3D`, `L8`, ...; empty when the scene names none).
    satellite: &'a str,
    /// The model's instrument (`VIIRS`, `MODIS`, `MERSI`, `OLI`, `MSI`).
    instrument: &'a str,
    /// The model's product version.
    version: &'a str,
    acq_time: DateTime<Utc>,
}

impl<'a> Overpass<'a> {
    /// A scene's overpass as its model (`instrument`, `version`) records it.
    pub(super) fn of(
        meta: &'a SceneMeta,
        instrument: &'a str,
        version: &'a str,
        acq_time: DateTime<Utc>,
    ) -> Self {
        Overpass {
            satellite: meta.satellite.as_deref().unwrap_or_default(),
            instrument,
            version,
            acq_time,
        }
    }
}

/// Fire pixel `f` as a hotspot at `at`: `brightness`/`bright_ti4` = BT4, `bright_t31`/
/// `bright_ti5` = BT5, FRP, confidence and day/night as detected, its row and column. A
/// measurement the algorithm does not make (NaN: the reflective family has no temperatures
/// and no FRP; a FRP without a usable background) is unknown (`None`), never a number.
fn fire_hotspot(f: &FirePixel, at: Footprint, by: &Overpass) -> Hotspot {
    let known = |v: f64| Some(v).filter(|v| v.is_finite());
    Hotspot {
        latitude: at.lat,
        longitude: at.lon,
        bt_mir_k: known(f.bt4_k as f64),
        bt_tir_k: known(f.bt5_k as f64),
        scan_km: Some(at.scan_km),
        track_km: Some(at.track_km),
        acq_time: by.acq_time,
        satellite: by.satellite.to_string(),
        instrument: by.instrument.to_string(),
        confidence: f.confidence,
        version: by.version.to_string(),
        frp_mw: known(f.frp_mw),
        daynight: if f.day {
            DayNight::Day
        } else {
            DayNight::Night
        },
        fire_type: None,
        row: Some(f.row),
        col: Some(f.col),
    }
}

/// The hotspots of fire pixels on a map grid ([`Footprint::on_grid`]).
pub(super) fn grid_hotspots(
    fires: &[FirePixel],
    p: &Wgs84Projector,
    by: &Overpass,
) -> Result<Vec<Hotspot>, String> {
    fires
        .iter()
        .map(|f| Ok(fire_hotspot(f, Footprint::on_grid(p, f.row, f.col)?, by)))
        .collect()
}

/// The hotspots of fire pixels on a swath ([`Footprint::on_swath`]).
pub(super) fn swath_hotspots(
    fires: &[FirePixel],
    geolocation: (ArrayView2<f32>, ArrayView2<f32>),
    sizes: &[(f64, f64)],
    by: &Overpass,
) -> Result<Vec<Hotspot>, String> {
    fires
        .iter()
        .map(|f| {
            let at = Footprint::on_swath(geolocation, sizes, f.row, f.col)?;
            Ok(fire_hotspot(f, at, by))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use ndarray::array;

    use super::*;
    use crate::hotspot::Confidence;

    fn fire(bt4_k: f32, frp_mw: f64) -> FirePixel {
        FirePixel {
            row: 1,
            col: 0,
            bt4_k,
            bt5_k: 300.0,
            frp_mw,
            confidence: Confidence::Percent(80),
            day: false,
            background_bt4_k: 305.0,
        }
    }

    fn overpass(meta: &SceneMeta) -> Overpass<'_> {
        let at = Utc.with_ymd_and_hms(2024, 6, 8, 18, 6, 0).unwrap();
        Overpass::of(meta, "MODIS", "6.1", at)
    }

    #[test]
    fn a_swath_fire_is_a_hotspot_at_its_geolocation_with_its_columns_size() {
        let meta = SceneMeta {
            satellite: Some("T".into()),
            ..SceneMeta::default()
        };
        let (lat, lon) = (
            array![[35.0f32, 35.1], [36.0, 36.1]],
            array![[114.0f32, 114.2], [115.0, 115.2]],
        );
        let sizes = [(1.5, 1.2), (1.0, 1.0)];
        let h = swath_hotspots(
            &[fire(330.0, 12.5)],
            (lat.view(), lon.view()),
            &sizes,
            &overpass(&meta),
        )
        .unwrap();
        assert_eq!(h.len(), 1);
        let h = &h[0];
        assert_eq!((h.latitude, h.longitude), (36.0, 115.0));
        assert_eq!((h.scan_km, h.track_km), (Some(1.5), Some(1.2)));
        assert_eq!(
            (h.bt_mir_k, h.bt_tir_k, h.frp_mw),
            (Some(330.0), Some(300.0), Some(12.5))
        );
        assert_eq!(
            (
                h.satellite.as_str(),
                h.instrument.as_str(),
                h.version.as_str()
            ),
            ("T", "MODIS", "6.1")
        );
        assert_eq!(
            (h.row, h.col, h.daynight),
            (Some(1), Some(0), DayNight::Night)
        );
    }

    #[test]
    fn what_was_not_measured_is_unknown_and_a_fire_without_geolocation_is_an_error() {
        let meta = SceneMeta::default();
        let by = overpass(&meta);
        let (lat, lon) = (array![[35.0f32], [f32::NAN]], array![[114.0f32], [115.0]]);
        let h = swath_hotspots(
            &[fire(f32::NAN, f64::NAN)],
            (array![[35.0f32], [36.0]].view(), lon.view()),
            &[(1.0, 1.0)],
            &by,
        )
        .unwrap();
        assert_eq!(
            (h[0].bt_mir_k, h[0].frp_mw, h[0].satellite.as_str()),
            (None, None, "")
        );
        let e = swath_hotspots(
            &[fire(330.0, 1.0)],
            (lat.view(), lon.view()),
            &[(1.0, 1.0)],
            &by,
        )
        .unwrap_err();
        assert!(e.contains("row 1 column 0 has no geolocation"), "{e}");
    }
}
