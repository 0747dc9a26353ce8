//! The geometry of a VIIRS I-band swath: where each sample looks, how large its pixel is on the
//! ground, which pixels the instrument deletes. Pure: no file is read here. The readers use it to
//! mark bow-tie pixels, `scan` to give FIRMS `scan`/`track` and FRP pixel areas on a swath, and
//! `synth` to lay out synthetic swath granules.
//!
//! The model, from the published instrument description:
//! - A scan is 32 detector rows (I-bands) by 6400 aggregated samples. The detectors sample the
//!   scan at a constant angular step; on board, three consecutive samples are averaged into one
//!   in the nadir zone, two in the next, none in the outer zone (NASA VIIRS L1B Product User
//!   Guide, May 2018, sec. 2.3 "On-board aggregation, aggregation zones and bow-tie deletion";
//!   Wolfe et al. 2013, JGR 118, doi:10.1002/jgrd.50873). Per half scan that is 1184 samples of
//!   3:1, 736 of 2:1 and 1280 of 1:1, so the zone edges fall at samples 1280, 2016, 4384 and 5120
//!   (the same columns as the bow-tie deletion pattern seen in a real granule, FORMATS.md §1).
//! - The zones end at scan angles 31.59° (3:1 → 2:1) and 44.68° (2:1 → 1:1) (same sources): with
//!   3552 and 5024 unaggregated samples out from nadir, the step is 31.59°/3552 = 0.0088936° and
//!   the I-band scan ends at 6304 steps = ±56.06°.
//! - A spherical Earth (mean radius 6371 km) seen from 824 km (S-NPP and NOAA-20 mean altitude).
//!   Along-scan size is the ground length between the aggregated pixel's edge angles; along-track
//!   size is the slant range times the detector's along-track angular size, set from the
//!   published nadir figure (0.371 km). The published pixel sizes (VIIRS SDR User's Guide, Cao et
//!   al. 2013, Table 2: I-band 0.371 × 0.387 km track × scan at nadir, 0.80 × 0.789 km at the
//!   end of scan) are then reproduced within 1–2 % (tested below), as is the ≈ 3000 km swath.
//!   Terrain and the ellipsoid move these by well under a percent.

use std::ops::Range;

/// Detector rows per scan of the I-bands.
pub const ROWS_PER_SCAN: usize = 32;
/// Aggregated samples per scan line.
pub const SAMPLES: usize = 6400;
/// Mean Earth radius, km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;
/// Satellite altitude, km (S-NPP / NOAA-20 mean).
pub const ALTITUDE_KM: f64 = 824.0;
/// Scan angle at the outer edge of the 3:1 and the 2:1 zones, degrees (NASA L1B guide sec. 2.3).
pub const ZONE_EDGE_ANGLES_DEG: [f64; 2] = [31.59, 44.68];
/// Aggregated samples per half scan in each zone, from nadir out: 3:1, 2:1, 1:1.
const ZONE_SAMPLES: [usize; 3] = [1184, 736, 1280];
/// Detector samples averaged into one in each zone, from nadir out.
const ZONE_AGGREGATION: [usize; 3] = [3, 2, 1];
/// Unaggregated samples per half scan: 3·1184 + 2·736 + 1280.
const HALF_SCAN_STEPS: usize = 6304;
/// The angular step between detector samples along the scan, degrees: the 3:1 zone's 3552
/// samples end at 31.59°.
pub const SAMPLE_STEP_DEG: f64 = 31.59 / 3552.0;
/// The detectors' along-track angular size, radians: the published nadir along-track size
/// (0.371 km) over the altitude.
pub const TRACK_IFOV_RAD: f64 = 0.371 / ALTITUDE_KM;

/// Zone edges in samples, left to right: 1:1 | 2:1 | 3:1 | 2:1 | 1:1.
pub const ZONE_EDGES: [usize; 6] = [0, 1280, 2016, 4384, 5120, SAMPLES];

/// Detector samples aggregated into sample `s` (0..6400): 3 near nadir, 2, then 1 at the edges.
pub fn aggregation(s: usize) -> usize {
    let from_nadir = if s < SAMPLES / 2 {
        SAMPLES / 2 - 1 - s
    } else {
        s - SAMPLES / 2
    };
    let mut edge = 0;
    for (n, agg) in ZONE_SAMPLES.iter().zip(ZONE_AGGREGATION) {
        edge += n;
        if from_nadir < edge {
            return agg;
        }
    }
    1
}

/// Signed scan angle, degrees, of a fractional position along the scan line (0 = the left edge
/// of sample 0, 6400 = the right edge of the last; sample `s`'s centre is `s + 0.5`). Negative
/// left of nadir (samples below 3200). Clamped to the scan.
pub fn scan_angle_at(x: f64) -> f64 {
    let m = (x - (SAMPLES / 2) as f64).clamp(-((SAMPLES / 2) as f64), (SAMPLES / 2) as f64);
    let a = m.abs();
    let (n3, n2) = (ZONE_SAMPLES[0] as f64, ZONE_SAMPLES[1] as f64);
    let steps = if a <= n3 {
        3.0 * a
    } else if a <= n3 + n2 {
        3.0 * n3 + 2.0 * (a - n3)
    } else {
        3.0 * n3 + 2.0 * n2 + (a - n3 - n2)
    };
    m.signum() * steps * SAMPLE_STEP_DEG
}

/// Scan angle of sample `s`'s centre, degrees (signed).
pub fn scan_angle_deg(s: usize) -> f64 {
    scan_angle_at(s as f64 + 0.5)
}

/// The largest scan angle of the I-bands (the edge of the last sample), degrees.
pub fn max_scan_angle_deg() -> f64 {
    HALF_SCAN_STEPS as f64 * SAMPLE_STEP_DEG
}

/// Earth-central angle between nadir and the ground point seen at scan angle `theta_deg`
/// (signed), radians: β = asin((R + H)/R · sin θ) − θ.
pub fn earth_angle_rad(theta_deg: f64) -> f64 {
    let t = theta_deg.to_radians();
    let k = (EARTH_RADIUS_KM + ALTITUDE_KM) / EARTH_RADIUS_KM;
    (k * t.sin()).clamp(-1.0, 1.0).asin() - t
}

/// View zenith angle at the ground point seen at scan angle `theta_deg`, degrees (unsigned):
/// θ + β.
pub fn view_zenith_deg(theta_deg: f64) -> f64 {
    (theta_deg.to_radians() + earth_angle_rad(theta_deg))
        .to_degrees()
        .abs()
}

/// Ground distance from the sub-satellite point to sample `s`'s centre, km (unsigned).
pub fn ground_distance_km(s: usize) -> f64 {
    EARTH_RADIUS_KM * earth_angle_rad(scan_angle_deg(s)).abs()
}

/// Slant range from the satellite to the ground point seen at `theta_deg`, km.
pub fn slant_range_km(theta_deg: f64) -> f64 {
    let t = theta_deg.to_radians();
    if t.abs() < 1e-12 {
        return ALTITUDE_KM;
    }
    EARTH_RADIUS_KM * earth_angle_rad(theta_deg).sin() / t.sin()
}

/// Ground size of sample `s`'s pixel, km, as (along-scan, along-track), what FIRMS calls
/// `scan` and `track`.
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

/// The samples of row `row_in_scan` (0..32) that the instrument deletes to avoid the bow-tie
/// overlap of consecutive scans, as column ranges (empty for the inner rows): rows 0, 1, 30, 31
/// lose the 2:1 and 1:1 zones (samples < 2016 and ≥ 4384), rows 2, 3, 28, 29 the 1:1 zones
/// (< 1280 and ≥ 5120) (NASA L1B guide sec. 2.3; the pattern of a real granule, FORMATS.md §1).
pub fn bowtie_deleted(row_in_scan: usize) -> [Range<usize>; 2] {
    let edge = match row_in_scan {
        0 | 1 | 30 | 31 => 2016,
        2 | 3 | 28 | 29 => 1280,
        _ => 0,
    };
    [0..edge, SAMPLES - edge..SAMPLES]
}

/// True when pixel (row, sample) of a granule is bow-tie deleted (rows counted from the first
/// row of the granule, which starts a scan).
pub fn is_bowtie_deleted(row: usize, s: usize) -> bool {
    bowtie_deleted(row % ROWS_PER_SCAN)
        .iter()
        .any(|r| r.contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs()
    }

    #[test]
    fn zones_follow_the_aggregation_pattern() {
        let counts = |agg| (0..SAMPLES).filter(|&s| aggregation(s) == agg).count();
        assert_eq!(counts(3), 2 * 1184);
        assert_eq!(counts(2), 2 * 736);
        assert_eq!(counts(1), 2 * 1280);
        for w in ZONE_EDGES.windows(2) {
            let a = aggregation(w[0]);
            assert!((w[0]..w[1]).all(|s| aggregation(s) == a), "{w:?}");
        }
        assert_eq!(
            ZONE_EDGES[..5]
                .iter()
                .map(|&s| aggregation(s))
                .collect::<Vec<_>>(),
            [1, 2, 3, 2, 1]
        );
        assert_eq!(3 * 1184 + 2 * 736 + 1280, HALF_SCAN_STEPS);
    }

    #[test]
    fn scan_angles_match_the_published_zone_edges() {
        // NASA L1B guide sec. 2.3: the zones change at 31.59° and 44.68°, the scan ends at
        // ±56.06° (I-bands).
        assert!((scan_angle_at(2016.0) + 31.59).abs() < 1e-9);
        assert!((scan_angle_at(4384.0) - 31.59).abs() < 1e-9);
        assert!((scan_angle_at(5120.0) - 44.68).abs() < 0.01);
        assert!((scan_angle_at(1280.0) + 44.68).abs() < 0.01);
        assert!((scan_angle_at(6400.0) - 56.06).abs() < 0.01);
        assert!((max_scan_angle_deg() - 56.06).abs() < 0.01);
        assert_eq!(scan_angle_at(3200.0), 0.0);
        // Symmetric and increasing.
        for s in 0..SAMPLES {
            let a = scan_angle_deg(s);
            assert!((a + scan_angle_deg(SAMPLES - 1 - s)).abs() < 1e-9);
            if s > 0 {
                assert!(a > scan_angle_deg(s - 1));
            }
        }
    }

    #[test]
    fn pixel_sizes_match_the_published_figures() {
        // VIIRS SDR User's Guide Table 2: I-band 0.371 (track) × 0.387 (scan) km at nadir,
        // 0.80 × 0.789 km at the end of scan.
        let (scan, track) = pixel_size_km(SAMPLES / 2);
        assert!(close(scan, 0.387, 0.02), "nadir scan {scan}");
        assert!(close(track, 0.371, 0.01), "nadir track {track}");
        for s in [0, SAMPLES - 1] {
            let (scan, track) = pixel_size_km(s);
            assert!(close(scan, 0.789, 0.02), "edge scan {scan}");
            assert!(close(track, 0.80, 0.02), "edge track {track}");
        }
        // Within ~0.3–0.8 km over the whole scan (Schueler et al. 2013: within a factor of two
        // of nadir), and the along-scan size drops where the aggregation does: larger before each zone edge than after.
        for s in 0..SAMPLES {
            let (scan, track) = pixel_size_km(s);
            assert!((0.31..0.83).contains(&scan), "{s}: {scan}");
            assert!((0.37..0.83).contains(&track), "{s}: {track}");
        }
        for edge in [4384, 5120] {
            assert!(pixel_size_km(edge - 1).0 > 1.2 * pixel_size_km(edge).0);
        }
        // The nadir-zone pixel at its outer edge is ≈ 0.6 km along scan.
        assert!(
            close(pixel_size_km(4383).0, 0.6, 0.05),
            "{:?}",
            pixel_size_km(4383)
        );
    }

    #[test]
    fn the_swath_is_about_3000_km_wide() {
        let width = ground_distance_km(0) + ground_distance_km(SAMPLES - 1);
        assert!((2950.0..3100.0).contains(&width), "{width}");
        assert!(ground_distance_km(SAMPLES / 2) < 0.3);
        // Ground distance is the sum of the pixel sizes out from nadir.
        let sum: f64 = (SAMPLES / 2..SAMPLES).map(|s| pixel_size_km(s).0).sum();
        let edge = EARTH_RADIUS_KM * earth_angle_rad(max_scan_angle_deg());
        assert!((sum - edge).abs() < 1e-6, "{sum} {edge}");
        assert!(view_zenith_deg(max_scan_angle_deg()) > 69.0);
        assert!(view_zenith_deg(max_scan_angle_deg()) < 71.0);
    }

    #[test]
    fn bowtie_deletion_pattern() {
        let deleted = |r: usize| (0..SAMPLES).filter(|&s| is_bowtie_deleted(r, s)).count();
        for r in [0, 1, 30, 31, 32, 63] {
            assert_eq!(deleted(r), 2 * 2016, "row {r}");
        }
        for r in [2, 3, 28, 29, 34] {
            assert_eq!(deleted(r), 2 * 1280, "row {r}");
        }
        for r in [4, 16, 27, 36] {
            assert_eq!(deleted(r), 0, "row {r}");
        }
        assert!(is_bowtie_deleted(0, 2015) && !is_bowtie_deleted(0, 2016));
        assert!(is_bowtie_deleted(0, 4384) && !is_bowtie_deleted(0, 4383));
        assert!(is_bowtie_deleted(2, 1279) && !is_bowtie_deleted(2, 1280));
        assert!(is_bowtie_deleted(29, 5120) && !is_bowtie_deleted(29, 5119));
    }

    #[test]
    fn pixel_area_is_scan_times_track() {
        let a = pixel_area_m2(SAMPLES / 2);
        assert!((130_000.0..150_000.0).contains(&a), "{a}");
        assert!(pixel_area_m2(0) > 4.0 * a);
    }
}
