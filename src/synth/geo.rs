//! Where a synthetic scene lies and how the sun and the satellite see it: UTM coordinates of the
//! scene centre, the CRS as WKT, solar zenith/azimuth from the acquisition time, and the VIIRS
//! view geometry across the swath.
//!
//! Done here in closed form rather than through GDAL so that generation stays pure (GDAL is only
//! touched when the scene is written); the tests check the projection against GDAL.

use chrono::{DateTime, Datelike, Timelike, Utc};

/// WGS84 semi-major axis, m.
const WGS84_A: f64 = 6_378_137.0;
/// WGS84 flattening.
const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// UTM scale factor at the central meridian.
const UTM_K0: f64 = 0.9996;
/// Mean Earth radius, m (view geometry and local lon/lat offsets).
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
/// Suomi-NPP / NOAA-20 orbit altitude, m.
pub const VIIRS_ALTITUDE_M: f64 = 833_000.0;

/// The UTM zone (1–60) of a longitude.
pub fn utm_zone(lon_deg: f64) -> u32 {
    (((lon_deg + 180.0) / 6.0).floor() as i64).clamp(0, 59) as u32 + 1
}

/// The EPSG code of WGS 84 / UTM for a zone and hemisphere (326xx north, 327xx south).
pub fn utm_epsg(zone: u32, north: bool) -> u32 {
    if north {
        32600 + zone
    } else {
        32700 + zone
    }
}

/// (easting, northing) in metres of (lon, lat) in the given UTM zone: Krüger's series to n³
/// (sub-millimetre within a zone).
pub fn utm_forward(zone: u32, lon_deg: f64, lat_deg: f64) -> (f64, f64) {
    let lon0 = (zone as f64 * 6.0 - 183.0).to_radians();
    let n = WGS84_F / (2.0 - WGS84_F);
    let (n2, n3) = (n * n, n * n * n);
    let big_a = WGS84_A / (1.0 + n) * (1.0 + n2 / 4.0 + n2 * n2 / 64.0);
    let alpha = [
        n / 2.0 - 2.0 * n2 / 3.0 + 5.0 * n3 / 16.0,
        13.0 * n2 / 48.0 - 3.0 * n3 / 5.0,
        61.0 * n3 / 240.0,
    ];
    let (phi, lam) = (lat_deg.to_radians(), lon_deg.to_radians() - lon0);
    let e = (WGS84_F * (2.0 - WGS84_F)).sqrt();
    let t = (phi.sin().atanh() - e * (e * phi.sin()).atanh()).sinh();
    let xi = t.atan2(lam.cos());
    let eta = (lam.sin() / (1.0 + t * t).sqrt()).atanh();
    let (mut x, mut y) = (eta, xi);
    for (j, a) in alpha.iter().enumerate() {
        let k = 2.0 * (j as f64 + 1.0);
        x += a * (k * xi).cos() * (k * eta).sinh();
        y += a * (k * xi).sin() * (k * eta).cosh();
    }
    let easting = 500_000.0 + UTM_K0 * big_a * x;
    let northing = UTM_K0 * big_a * y + if lat_deg < 0.0 { 10_000_000.0 } else { 0.0 };
    (easting, northing)
}

/// WKT1 of WGS 84 / UTM zone `zone` with its EPSG authority, as GDAL writes it.
pub fn utm_wkt(zone: u32, north: bool) -> String {
    let cm = zone as f64 * 6.0 - 183.0;
    let hemi = if north { 'N' } else { 'S' };
    let false_northing = if north { 0 } else { 10_000_000 };
    format!(
        "PROJCS[\"WGS 84 / UTM zone {zone}{hemi}\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",\
SPHEROID[\"WGS 84\",6378137,298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],\
PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,\
AUTHORITY[\"EPSG\",\"9122\"]],AUTHORITY[\"EPSG\",\"4326\"]],PROJECTION[\"Transverse_Mercator\"],\
PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",{cm}],\
PARAMETER[\"scale_factor\",0.9996],PARAMETER[\"false_easting\",500000],\
PARAMETER[\"false_northing\",{false_northing}],UNIT[\"metre\",1,AUTHORITY[\"EPSG\",\"9001\"]],\
AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH],AUTHORITY[\"EPSG\",\"{}\"]]",
        utm_epsg(zone, north)
    )
}

/// The sun's position for one instant: declination and the equation of time (NOAA's
/// low-precision formulas, ≈0.1° — ample for day/night and reflected sunlight).
#[derive(Debug, Clone, Copy)]
pub struct SolarEphemeris {
    declination_rad: f64,
    /// UTC time plus the equation of time, minutes.
    utc_plus_eot_min: f64,
}

impl SolarEphemeris {
    pub fn at(t: DateTime<Utc>) -> Self {
        let doy = t.ordinal() as f64;
        let hour = t.hour() as f64 + t.minute() as f64 / 60.0 + t.second() as f64 / 3600.0;
        let g = std::f64::consts::TAU / 365.0 * (doy - 1.0 + (hour - 12.0) / 24.0);
        let eot_min = 229.18
            * (0.000075 + 0.001868 * g.cos()
                - 0.032077 * g.sin()
                - 0.014615 * (2.0 * g).cos()
                - 0.040849 * (2.0 * g).sin());
        let declination_rad = 0.006918 - 0.399912 * g.cos() + 0.070257 * g.sin()
            - 0.006758 * (2.0 * g).cos()
            + 0.000907 * (2.0 * g).sin()
            - 0.002697 * (3.0 * g).cos()
            + 0.00148 * (3.0 * g).sin();
        SolarEphemeris {
            declination_rad,
            utc_plus_eot_min: hour * 60.0 + eot_min,
        }
    }

    /// (solar zenith, solar azimuth clockwise from north) in degrees at (lon, lat).
    pub fn zenith_azimuth_deg(&self, lon_deg: f64, lat_deg: f64) -> (f64, f64) {
        self.zenith_azimuth_from(
            self.hour_angle_sin_cos(lon_deg),
            lat_deg.to_radians().sin_cos(),
            true,
        )
    }

    /// (sin, cos) of the local hour angle at a longitude.
    pub fn hour_angle_sin_cos(&self, lon_deg: f64) -> (f64, f64) {
        let true_solar_min = self.utc_plus_eot_min + 4.0 * lon_deg;
        (true_solar_min / 4.0 - 180.0).to_radians().sin_cos()
    }

    /// Zenith and azimuth (°) from the hour angle's and the latitude's (sin, cos), so that a grid
    /// can compute those once per column and once per row; the azimuth only when `azimuth`
    /// (else 0).
    pub fn zenith_azimuth_from(
        &self,
        (sin_h, cos_h): (f64, f64),
        (sin_phi, cos_phi): (f64, f64),
        azimuth: bool,
    ) -> (f64, f64) {
        let (sin_d, cos_d) = self.declination_rad.sin_cos();
        let cos_z = (sin_phi * sin_d + cos_phi * cos_d * cos_h).clamp(-1.0, 1.0);
        let zen = cos_z.acos();
        if !azimuth {
            return (zen.to_degrees(), 0.0);
        }
        let denom = cos_phi * zen.sin();
        let az = if denom.abs() < 1e-12 {
            180.0
        } else {
            let a = ((sin_d - sin_phi * cos_z) / denom)
                .clamp(-1.0, 1.0)
                .acos()
                .to_degrees();
            if sin_h > 0.0 {
                360.0 - a
            } else {
                a
            }
        };
        (zen.to_degrees(), az)
    }
}

/// (scan angle, view zenith) in degrees of a ground point `distance_m` across-track from nadir,
/// for a satellite at `VIIRS_ALTITUDE_M` over a spherical Earth.
pub fn scan_and_view_zenith_deg(distance_m: f64) -> (f64, f64) {
    let gamma = distance_m.abs() / EARTH_RADIUS_M;
    let scan = (EARTH_RADIUS_M * gamma.sin())
        .atan2(EARTH_RADIUS_M + VIIRS_ALTITUDE_M - EARTH_RADIUS_M * gamma.cos());
    (scan.to_degrees(), (scan + gamma).to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn utm_forward_agrees_with_gdal() {
        use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
        for &(lon, lat) in &[(114.6, 33.9), (117.0, 34.5), (119.9, 31.0), (-70.3, -33.4)] {
            let zone = utm_zone(lon);
            let north = lat >= 0.0;
            let mut src = SpatialRef::from_epsg(4326).unwrap();
            src.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
            let dst = SpatialRef::from_wkt(&utm_wkt(zone, north)).unwrap();
            assert_eq!(dst.auth_code().unwrap(), utm_epsg(zone, north) as i32);
            let ct = CoordTransform::new(&src, &dst).unwrap();
            let (mut xs, mut ys, mut zs) = ([lon], [lat], [0.0]);
            ct.transform_coords(&mut xs, &mut ys, &mut zs).unwrap();
            let (e, n) = utm_forward(zone, lon, lat);
            assert!(
                (e - xs[0]).abs() < 0.01 && (n - ys[0]).abs() < 0.01,
                "{lon} {lat}: {e} {n} vs {} {}",
                xs[0],
                ys[0]
            );
        }
        assert_eq!(utm_zone(114.6), 50);
        assert_eq!(utm_zone(113.9), 49);
    }

    #[test]
    fn sun_over_henan_in_june() {
        // 13:18 Beijing time on 8 June: high sun in the south-west; 01:30 the next night: below the horizon.
        let day = SolarEphemeris::at(Utc.with_ymd_and_hms(2024, 6, 8, 5, 18, 0).unwrap());
        let (z, az) = day.zenith_azimuth_deg(114.6, 33.9);
        assert!((10.0..20.0).contains(&z), "{z}");
        assert!((180.0..280.0).contains(&az), "{az}");
        let night = SolarEphemeris::at(Utc.with_ymd_and_hms(2024, 6, 8, 17, 30, 0).unwrap());
        let (z, _) = night.zenith_azimuth_deg(114.6, 33.9);
        assert!(z > 100.0, "{z}");
    }

    #[test]
    fn swath_edge_geometry() {
        // VIIRS: 3040 km swath, ±56.06° scan, ≈70° view zenith at the edge.
        let (scan, vza) = scan_and_view_zenith_deg(1_520_000.0);
        assert!((scan - 56.0).abs() < 1.5, "{scan}");
        assert!((65.0..72.0).contains(&vza), "{vza}");
    }
}
