//! The geometry of a MODIS 1 km swath: where each sample looks and how large its pixel is on the
//! ground. Pure: no file is read here. `scan` uses it for FIRMS `scan`/`track` and the FRP pixel
//! area of a MODIS granule, `synth::modis` to lay out synthetic granules.
//!
//! The model, from the published instrument description (Wolfe, Roy, Vermote 1998, "MODIS land
//! data storage, gridding, and compositing methodology", IEEE TGRS 36:1324; Wolfe et al. 2002,
//! "Achieving sub-pixel geolocation accuracy in support of MODIS land science", RSE 83:31–49;
//! MODIS Level 1B Product User's Guide):
//! - A scan mirror sweeps ±55° across track; each scan is 10 detector rows of 1 km pixels by 1354
//!   samples (frames) taken at a constant angular step, 110°/1354 = 0.08124°.
//! - A spherical Earth (mean radius 6371 km) seen from 705 km (Terra and Aqua nominal altitude).
//!   Along-scan size is the ground length between the sample's edge angles; along-track size is
//!   the slant range times the detector's along-track angular size (1 km / 705 km at nadir).
//!   This reproduces the published figures: 1 × 1 km at nadir, ≈ 2.0 km along track × 4.8 km along
//!   scan at the edge of the scan, a ≈ 2330 km swath (tested below). MODIS deletes no pixels
//!   (consecutive scans overlap off nadir: the "bow-tie" of 10-row scans), so there is no fill
//!   pattern here.

/// Detector rows per scan of the 1 km bands.
pub const ROWS_PER_SCAN: usize = 10;
/// Samples (frames) per 1 km scan line.
pub const SAMPLES: usize = 1354;
/// Mean Earth radius, km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// Satellite altitude, km (Terra and Aqua, nominal).
pub const ALTITUDE_KM: f64 = 705.0;
/// Largest scan angle, degrees (the scan covers ±55°).
pub const MAX_SCAN_ANGLE_DEG: f64 = 55.0;
/// The angular step between samples along the scan, degrees.
pub const SAMPLE_STEP_DEG: f64 = 2.0 * MAX_SCAN_ANGLE_DEG / SAMPLES as f64;
/// The detectors' along-track angular size, radians: 1 km at nadir from 705 km.
pub const TRACK_IFOV_RAD: f64 = 1.0 / ALTITUDE_KM;
/// Along-track distance between consecutive rows at nadir, km.
pub const ROW_PITCH_KM: f64 = 1.0;

/// Signed scan angle, degrees, of a fractional position along the scan line (0 = the left edge of
/// sample 0, 1354 = the right edge of the last; sample `s`'s centre is `s + 0.5`). Negative left
/// of nadir. Clamped to the scan.
pub fn scan_angle_at(x: f64) -> f64 {
    let half = SAMPLES as f64 / 2.0;
    (x - half).clamp(-half, half) * SAMPLE_STEP_DEG
}

/// Scan angle of sample `s`'s centre, degrees (signed).
pub fn scan_angle_deg(s: usize) -> f64 {
    scan_angle_at(s as f64 + 0.5)
}

/// Earth-central angle between nadir and the ground point seen at scan angle `theta_deg`
/// (signed), radians: β = asin((R + H)/R · sin θ) − θ.
pub fn earth_angle_rad(theta_deg: f64) -> f64 {
    let t = theta_deg.to_radians();
    let k = (EARTH_RADIUS_KM + ALTITUDE_KM) / EARTH_RADIUS_KM;
    (k * t.sin()).clamp(-1.0, 1.0).asin() - t
}

/// View zenith angle at the ground point seen at scan angle `theta_deg`, degrees (unsigned).
pub fn view_zenith_deg(theta_deg: f64) -> f64 {
    (theta_deg.to_radians() + earth_angle_rad(theta_deg))
        .to_degrees()
        .abs()
}

/// Slant range from the satellite to the ground point seen at `theta_deg`, km.
pub fn slant_range_km(theta_deg: f64) -> f64 {
    let t = theta_deg.to_radians();
    if t.abs() < 1e-12 {
        return ALTITUDE_KM;
    }
    EARTH_RADIUS_KM * earth_angle_rad(theta_deg).sin() / t.sin()
}

/// Ground distance from the sub-satellite point to sample `s`'s centre, km (unsigned).
pub fn ground_distance_km(s: usize) -> f64 {
    EARTH_RADIUS_KM * earth_angle_rad(scan_angle_deg(s)).abs()
}

/// Ground size of sample `s`'s pixel, km, as (along-scan, along-track): FIRMS `scan`, `track`.
pub fn pixel_size_km(s: usize) -> (f64, f64) {
    let (lo, hi) = (scan_angle_at(s as f64), scan_angle_at(s as f64 + 1.0));
    let scan = EARTH_RADIUS_KM * (earth_angle_rad(hi) - earth_angle_rad(lo)).abs();
    let track = slant_range_km(scan_angle_deg(s)) * TRACK_IFOV_RAD;
    (scan, track)
}

/// Ground area of sample `s`'s pixel, m².
pub fn pixel_area_m2(s: usize) -> f64 {
    let (scan, track) = pixel_size_km(s);
    scan * track * 1e6
}

/// The sample of a column of a granule `cols` wide: a full granule is 1354 samples; a narrower
/// one (a cut-out, or a test granule) is taken as centred on nadir.
pub fn sample_of(col: usize, cols: usize) -> usize {
    (col + SAMPLES.saturating_sub(cols) / 2).min(SAMPLES - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs()
    }

    #[test]
    fn pixel_sizes_match_the_published_figures() {
        // 1 × 1 km at nadir (Wolfe et al. 2002).
        let (scan, track) = pixel_size_km(SAMPLES / 2);
        assert!(close(scan, 1.0, 0.01), "nadir scan {scan}");
        assert!(close(track, 1.0, 0.01), "nadir track {track}");
        // ≈ 2.0 km along track × 4.8 km along scan at the scan edge (Wolfe et al. 1998, 2002;
        // ALGORITHMS.md).
        for s in [0, SAMPLES - 1] {
            let (scan, track) = pixel_size_km(s);
            assert!(close(scan, 4.8, 0.03), "edge scan {scan}");
            assert!(close(track, 2.0, 0.03), "edge track {track}");
        }
        // Growing monotonically out from nadir, symmetric.
        for s in SAMPLES / 2 + 1..SAMPLES {
            assert!(pixel_size_km(s).0 > pixel_size_km(s - 1).0);
            assert!(pixel_size_km(s).1 >= pixel_size_km(s - 1).1);
            let m = SAMPLES - 1 - s;
            assert!((pixel_area_m2(s) - pixel_area_m2(m)).abs() < 1e-6 * pixel_area_m2(s));
        }
        assert!(close(pixel_area_m2(SAMPLES / 2), 1e6, 0.02));
        assert!(pixel_area_m2(0) > 9.0e6);
    }

    #[test]
    fn the_swath_is_about_2330_km_wide_with_a_65_degree_view_at_the_edge() {
        // MODIS swath: 2330 km (cross track) by 10 km (along track at nadir) per scan.
        let width = ground_distance_km(0) + ground_distance_km(SAMPLES - 1);
        assert!((2280.0..2360.0).contains(&width), "{width}");
        let sum: f64 = (SAMPLES / 2..SAMPLES).map(|s| pixel_size_km(s).0).sum();
        let edge = EARTH_RADIUS_KM * earth_angle_rad(MAX_SCAN_ANGLE_DEG);
        assert!((sum - edge).abs() < 1e-6, "{sum} {edge}");
        let vza = view_zenith_deg(MAX_SCAN_ANGLE_DEG);
        assert!((64.0..66.5).contains(&vza), "{vza}");
        assert!((scan_angle_at(SAMPLES as f64) - 55.0).abs() < 1e-9);
        assert_eq!(scan_angle_at(SAMPLES as f64 / 2.0), 0.0);
    }

    #[test]
    fn narrow_granules_are_centred_on_nadir() {
        assert_eq!(sample_of(0, SAMPLES), 0);
        assert_eq!(sample_of(100, 200), 677);
        assert_eq!(sample_of(5000, 200), SAMPLES - 1);
    }
}
