//! Pixel grid ↔ WGS84: each pixel's centre, footprint polygon, size and area.
//!
//! The GDAL geotransform maps (col, row) of a pixel *corner* to the scene CRS:
//! `x = t[0] + col·t[1] + row·t[2]`, `y = t[3] + col·t[4] + row·t[5]`; the centre of pixel
//! (row, col) is at (col + 0.5, row + 0.5). Coordinates are transformed to WGS84 in (lon, lat) order
//! (GDAL's "traditional GIS order"; EPSG:4326 itself is lat-first, the classic trap).

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

/// The georeferencing of a scene, as plain data (no GDAL handle, so it can cross threads).
#[derive(Debug, Clone, PartialEq)]
pub struct GeoRef {
    /// GDAL geotransform coefficients.
    pub transform: [f64; 6],
    /// The scene CRS as WKT.
    pub crs_wkt: String,
}

impl GeoRef {
    /// Scene-CRS coordinates of a fractional pixel position, `col` along x and `row` along y.
    pub fn pixel_to_crs(&self, row: f64, col: f64) -> (f64, f64) {
        let t = &self.transform;
        (
            t[0] + col * t[1] + row * t[2],
            t[3] + col * t[4] + row * t[5],
        )
    }
}

/// Transforms pixel positions of one scene to WGS84. Holds a GDAL transformation, so it stays on
/// the thread that made it; detection itself never needs it.
pub struct Wgs84Projector {
    georef: GeoRef,
    transform: CoordTransform,
}

/// Every how many grid nodes [`Wgs84Projector::grid_lonlat`] transforms exactly.
const GRID_EXACT_EVERY: usize = 4;

/// Mean Earth radius used for distances and areas on the sphere, m.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

impl Wgs84Projector {
    /// Builds the transformation from the scene CRS to WGS84.
    pub fn new(georef: &GeoRef) -> Result<Self, String> {
        let mut src = SpatialRef::from_wkt(&georef.crs_wkt).map_err(|e| e.to_string())?;
        src.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let mut dst = SpatialRef::from_epsg(4326).map_err(|e| e.to_string())?;
        dst.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let transform = CoordTransform::new(&src, &dst).map_err(|e| e.to_string())?;
        Ok(Self {
            georef: georef.clone(),
            transform,
        })
    }

    /// (lon, lat) of fractional pixel positions given as (row, col).
    pub fn to_lonlat(&self, points: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, String> {
        let mut xs = Vec::with_capacity(points.len());
        let mut ys = Vec::with_capacity(points.len());
        for &(r, c) in points {
            let (x, y) = self.georef.pixel_to_crs(r, c);
            xs.push(x);
            ys.push(y);
        }
        let mut zs = vec![0.0; points.len()];
        self.transform
            .transform_coords(&mut xs, &mut ys, &mut zs)
            .map_err(|e| e.to_string())?;
        Ok(xs.into_iter().zip(ys).collect())
    }

    /// (lon, lat) of every node of a grid of fractional pixel positions (`rows` × `cols`,
    /// row-major): every [`GRID_EXACT_EVERY`]-th node (and the last) transformed exactly, the
    /// nodes between interpolated bilinearly. For a scene's coverage grid (up to 250,000 nodes
    /// ~13 pixels apart) that is 16× fewer transformations, and the interpolated positions stay
    /// within ~5 m of exact (tested on a UTM granule 300 km off its central meridian), against
    /// 375 m pixels.
    pub fn grid_lonlat(&self, rows: &[f64], cols: &[f64]) -> Result<Vec<(f64, f64)>, String> {
        let lattice = |n: usize| -> Vec<usize> {
            let mut v: Vec<usize> = (0..n).step_by(GRID_EXACT_EVERY).collect();
            if n > 0 && v.last() != Some(&(n - 1)) {
                v.push(n - 1);
            }
            v
        };
        let (lr, lc) = (lattice(rows.len()), lattice(cols.len()));
        let nodes: Vec<(f64, f64)> = lr
            .iter()
            .flat_map(|&i| lc.iter().map(move |&j| (rows[i], cols[j])))
            .collect();
        let exact = self.to_lonlat(&nodes)?;
        let at = |a: usize, b: usize| exact[a * lc.len() + b];
        // For each index, the lattice cell it falls in and its fraction across the cell.
        let cell = |lat: &[usize], n: usize| -> Vec<(usize, f64)> {
            let mut k = 0;
            (0..n)
                .map(|i| {
                    while k + 2 < lat.len() && lat[k + 1] <= i {
                        k += 1;
                    }
                    if lat.len() == 1 {
                        return (0, 0.0);
                    }
                    let (a, b) = (lat[k], lat[k + 1]);
                    (k, (i - a) as f64 / (b - a) as f64)
                })
                .collect()
        };
        let (cr, cc) = (cell(&lr, rows.len()), cell(&lc, cols.len()));
        let mut out = Vec::with_capacity(rows.len() * cols.len());
        for &(a, t) in &cr {
            let a1 = (a + 1).min(lr.len() - 1);
            for &(b, u) in &cc {
                let b1 = (b + 1).min(lc.len() - 1);
                let (p00, p01, p10, p11) = (at(a, b), at(a, b1), at(a1, b), at(a1, b1));
                let mix = |f: fn((f64, f64)) -> f64| {
                    (1.0 - t) * ((1.0 - u) * f(p00) + u * f(p01))
                        + t * ((1.0 - u) * f(p10) + u * f(p11))
                };
                out.push((mix(|p| p.0), mix(|p| p.1)));
            }
        }
        Ok(out)
    }

    /// (lon, lat) of the centre of pixel (row, col).
    pub fn centre(&self, row: usize, col: usize) -> Result<(f64, f64), String> {
        Ok(self.to_lonlat(&[(row as f64 + 0.5, col as f64 + 0.5)])?[0])
    }

    /// The pixel footprint as a closed ring of (lon, lat): its four corners, first repeated.
    pub fn footprint(&self, row: usize, col: usize) -> Result<[(f64, f64); 5], String> {
        let (r, c) = (row as f64, col as f64);
        let p = self.to_lonlat(&[(r, c), (r, c + 1.0), (r + 1.0, c + 1.0), (r + 1.0, c)])?;
        Ok([p[0], p[1], p[2], p[3], p[0]])
    }

    /// Pixel size in km as (scan, track): the ground length of the pixel's edges along the row
    /// (across-track for a swath) and along the column (along-track), as FIRMS reports them.
    pub fn pixel_size_km(&self, row: usize, col: usize) -> Result<(f64, f64), String> {
        let (r, c) = (row as f64 + 0.5, col as f64 + 0.5);
        let p = self.to_lonlat(&[(r, c - 0.5), (r, c + 0.5), (r - 0.5, c), (r + 0.5, c)])?;
        Ok((
            haversine_m(p[0], p[1]) / 1000.0,
            haversine_m(p[2], p[3]) / 1000.0,
        ))
    }

    /// Ground areas of the pixels of column `col`, rows `0..rows`, in m²: one transformation
    /// call for all corners.
    pub fn column_areas_m2(&self, col: usize, rows: usize) -> Result<Vec<f64>, String> {
        let c = col as f64;
        let corners: Vec<(f64, f64)> = (0..=rows)
            .flat_map(|r| [(r as f64, c), (r as f64, c + 1.0)])
            .collect();
        let ll = self.to_lonlat(&corners)?;
        Ok((0..rows)
            .map(|r| {
                let (a, b, d, e) = (ll[2 * r], ll[2 * r + 1], ll[2 * r + 3], ll[2 * r + 2]);
                spherical_ring_area_m2(&[a, b, d, e, a])
            })
            .collect())
    }

    /// Ground area of pixel (row, col) in m², on the sphere.
    pub fn pixel_area_m2(&self, row: usize, col: usize) -> Result<f64, String> {
        let ring = self.footprint(row, col)?;
        Ok(spherical_ring_area_m2(&ring))
    }
}

/// Great-circle distance between two (lon, lat) points in metres.
pub fn haversine_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

/// Initial bearing from `a` to `b` (lon, lat in degrees), degrees clockwise from north, 0–360.
pub fn bearing_deg(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let dl = lon2 - lon1;
    let y = dl.sin() * lat2.cos();
    let x = lat1.cos() * lat2.sin() - lat1.sin() * lat2.cos() * dl.cos();
    y.atan2(x).to_degrees().rem_euclid(360.0)
}

/// Area of a small closed (lon, lat) ring in m² (local equirectangular projection about its
/// first vertex; exact enough for pixels and fields, wrong for continents).
pub fn spherical_ring_area_m2(ring: &[(f64, f64)]) -> f64 {
    let (lon0, lat0) = ring[0];
    let k = lat0.to_radians().cos();
    let xy: Vec<(f64, f64)> = ring
        .iter()
        .map(|&(lon, lat)| {
            (
                (lon - lon0).to_radians() * k * EARTH_RADIUS_M,
                (lat - lat0).to_radians() * EARTH_RADIUS_M,
            )
        })
        .collect();
    let mut twice = 0.0;
    for w in xy.windows(2) {
        twice += w[0].0 * w[1].1 - w[1].0 * w[0].1;
    }
    twice.abs() / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utm50n() -> GeoRef {
        let wkt = SpatialRef::from_epsg(32650).unwrap().to_wkt().unwrap();
        GeoRef {
            transform: [500_000.0, 375.0, 0.0, 3_800_000.0, 0.0, -375.0],
            crs_wkt: wkt,
        }
    }

    /// The interpolated coverage grid stays within metres of exact, on a granule-sized
    /// grid placed 300 km off the central meridian, where UTM bends the most.
    #[test]
    fn grid_lonlat_is_within_metres_of_exact() {
        let mut g = utm50n();
        g.transform[0] = 200_000.0;
        let p = Wgs84Projector::new(&g).unwrap();
        let rows: Vec<f64> = (0..6400).step_by(13).map(|r| r as f64 + 0.5).collect();
        let cols: Vec<f64> = (0..6464).step_by(13).map(|c| c as f64 + 0.5).collect();
        let fast = p.grid_lonlat(&rows, &cols).unwrap();
        let points: Vec<(f64, f64)> = rows
            .iter()
            .flat_map(|&r| cols.iter().map(move |&c| (r, c)))
            .collect();
        let exact = p.to_lonlat(&points).unwrap();
        assert_eq!(fast.len(), exact.len());
        let worst = fast
            .iter()
            .zip(&exact)
            .map(|(a, b)| {
                let dy = (a.1 - b.1) * 111_195.0;
                let dx = (a.0 - b.0) * 111_195.0 * b.1.to_radians().cos();
                dx.hypot(dy)
            })
            .fold(0.0, f64::max);
        // 5.3 m measured: 1.4 % of a 375 m pixel.
        assert!(worst < 10.0, "worst error {worst} m");
        assert!(worst > 0.0, "not interpolated at all?");
        // Degenerate grids.
        assert_eq!(p.grid_lonlat(&[0.5], &[0.5]).unwrap().len(), 1);
        assert!(p.grid_lonlat(&[], &[0.5]).unwrap().is_empty());
    }

    #[test]
    fn utm_pixel_centre_size_and_area() {
        let p = Wgs84Projector::new(&utm50n()).unwrap();
        let (lon, lat) = p.centre(0, 0).unwrap();
        // UTM 50N central meridian is 117 E; 3,800 km north is about 34.3 N.
        assert!((lon - 117.0).abs() < 0.01, "{lon}");
        assert!((lat - 34.33).abs() < 0.05, "{lat}");
        let (scan, track) = p.pixel_size_km(10, 10).unwrap();
        assert!(
            (scan - 0.375).abs() < 0.003 && (track - 0.375).abs() < 0.003,
            "{scan} {track}"
        );
        let area = p.pixel_area_m2(10, 10).unwrap();
        assert!((area - 140_625.0).abs() / 140_625.0 < 0.01, "{area}");
        let column = p.column_areas_m2(10, 12).unwrap();
        assert_eq!(column.len(), 12);
        assert!((column[10] - area).abs() < 1e-6, "{} vs {area}", column[10]);
    }

    #[test]
    fn geographic_scene_is_lon_lat_not_lat_lon() {
        let wkt = SpatialRef::from_epsg(4326).unwrap().to_wkt().unwrap();
        let g = GeoRef {
            transform: [114.0, 0.01, 0.0, 34.0, 0.0, -0.01],
            crs_wkt: wkt,
        };
        let p = Wgs84Projector::new(&g).unwrap();
        let (lon, lat) = p.centre(0, 0).unwrap();
        assert!((lon - 114.005).abs() < 1e-9 && (lat - 33.995).abs() < 1e-9);
    }

    #[test]
    fn haversine_one_degree_of_latitude() {
        let d = haversine_m((114.0, 34.0), (114.0, 35.0));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }
}
