//! Real Chinese admin boundaries: every file in tests/fixtures/admin (copies of real files, provenance in
//! tests/fixtures/PROVENANCE.md) loads with GCJ-02 handled,
//! and points sampled inside each unit come back with that unit's code.

use std::path::PathBuf;

use geo::{BoundingRect, Contains, InteriorPoint, Point};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strawfire::locate::gcj02::{gcj02_to_wgs84, wgs84_to_gcj02};
use strawfire::locate::{load_layer, LayerSpec, Level, UnitLayer};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

const ADMIN_FILES: [(&str, usize); 4] = [
    ("admin/garybikini_county_shp/henan_410000.shp", 158),
    ("admin/datav_geojson/jilin_220000_counties.geojson", 60),
    ("admin/datav_geojson/heilongjiang_230000_cities.geojson", 13),
    ("admin/datav_geojson/henan_410000_cities.geojson", 18),
];

fn spec(rel: &str, crs: &str) -> LayerSpec {
    LayerSpec::parse(&format!(
        "{}:level=county:code=adcode:name=name:crs={crs}",
        data(rel).display()
    ))
    .unwrap()
}

/// For each unit: points inside it in its own (GCJ-02) coordinates, taken from the raw file.
/// Converted to WGS84 they must come back with the unit's code from the GCJ-02-aware index.
#[test]
fn every_admin_file_loads_and_points_inside_each_unit_return_its_code() {
    let mut rng = ChaCha8Rng::seed_from_u64(410526);
    let mut gcj_mattered = 0;
    for (rel, expected) in ADMIN_FILES {
        let raw = load_layer(&spec(rel, "wgs84"), None).unwrap();
        let layer = load_layer(&spec(rel, "gcj02"), None).unwrap();
        let polygons = layer.areas.len();
        assert!(
            polygons == expected,
            "{rel}: {polygons} polygon units, expected {expected}; warnings {:?}",
            layer.warnings
        );
        let codes: Vec<String> = layer.areas.iter().map(|a| a.code.clone()).collect();
        let index = UnitLayer::new(Level::County, layer.areas);
        let naive = UnitLayer::new(Level::County, raw.areas.clone());
        let (mut checked, mut ambiguous) = (0, 0);
        for unit in &raw.areas {
            let mut points: Vec<Point<f64>> = unit.shape.interior_point().into_iter().collect();
            let r = unit.shape.bounding_rect().unwrap();
            let mut tries = 0;
            while points.len() < 6 && tries < 2000 {
                tries += 1;
                let p = Point::new(
                    rng.gen_range(r.min().x..=r.max().x),
                    rng.gen_range(r.min().y..=r.max().y),
                );
                if unit.shape.contains(&p) {
                    points.push(p);
                }
            }
            assert!(points.len() >= 2, "{rel} {}: no interior points", unit.code);
            for p in points {
                let (lon, lat) = gcj02_to_wgs84(p.x(), p.y());
                let hits = index.index.containing(lon, lat);
                let hit_codes: Vec<&str> = hits.iter().map(|&i| codes[i].as_str()).collect();
                assert!(
                    hit_codes.contains(&unit.code.as_str()),
                    "{rel}: point ({lon},{lat}) inside {} {} matched {hit_codes:?}",
                    unit.code,
                    unit.name
                );
                ambiguous += usize::from(hits.len() > 1);
                checked += 1;
                // Had we matched WGS84 against raw GCJ-02 polygons, would it differ?
                let naive_hits = naive.index.containing(lon, lat);
                gcj_mattered += usize::from(
                    naive_hits.first().map(|&i| &raw.areas[i].code) != Some(&unit.code),
                );
            }
        }
        // Overlaps between neighbours in the source are slivers; a point may sit in two only rarely.
        assert!(
            ambiguous * 50 <= checked,
            "{rel}: {ambiguous} of {checked} points in several units"
        );
    }
    assert!(
        gcj_mattered > 0,
        "no point needed the GCJ-02 conversion: the test would not notice its absence"
    );
}

#[test]
fn gcj02_offset_of_loaded_polygons_is_the_datum_shift() {
    // The same county loaded raw and converted: vertices move by the GCJ-02 offset (~100-700 m).
    let rel = "admin/garybikini_county_shp/henan_410000.shp";
    let raw = load_layer(&spec(rel, "wgs84"), None).unwrap();
    let conv = load_layer(&spec(rel, "gcj02"), None).unwrap();
    let hua_raw = raw.areas.iter().find(|a| a.code == "410526").unwrap();
    let hua = conv.areas.iter().find(|a| a.code == "410526").unwrap();
    assert_eq!(hua.name, "滑县");
    let a = hua_raw.shape.0[0].exterior().0[0];
    let b = hua.shape.0[0].exterior().0[0];
    let there = wgs84_to_gcj02(b.x, b.y);
    assert!((there.0 - a.x).abs() < 1e-8 && (there.1 - a.y).abs() < 1e-8);
    let shift_m = strawfire::raster::georef::haversine_m((a.x, a.y), (b.x, b.y));
    assert!((100.0..800.0).contains(&shift_m), "{shift_m} m");
}

#[test]
fn layer_errors_name_file_layer_and_field() {
    let rel = "admin/garybikini_county_shp/henan_410000.shp";
    let mut s = spec(rel, "gcj02");
    s.code_field = Some("county_code".into());
    let msg = load_layer(&s, None).unwrap_err().to_string();
    assert!(
        msg.contains("henan_410000.shp")
            && msg.contains("layer `henan_410000`")
            && msg.contains("no field `county_code`")
            && msg.contains("adcode"),
        "{msg}"
    );
    let mut s = spec(rel, "gcj02");
    s.path = data("admin/does_not_exist.shp");
    let err = load_layer(&s, None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("does_not_exist.shp") && msg.contains("cannot read"),
        "{msg}"
    );
    // The system's reason is the cause (said once, by the CLI's error chain).
    let cause = std::error::Error::source(&err).map(|c| c.to_string());
    assert!(
        cause.as_deref().is_some_and(|c| c.contains("No such file")),
        "{cause:?}"
    );
    // A file that is not a vector dataset at all.
    let mut s = spec(rel, "gcj02");
    s.path = data("PROVENANCE.md");
    let msg = load_layer(&s, None).unwrap_err().to_string();
    assert!(msg.contains("PROVENANCE.md"), "{msg}");
    let mut s = spec(rel, "gcj02");
    s.layer = Some("hebei".into());
    let msg = load_layer(&s, None).unwrap_err().to_string();
    assert!(
        msg.contains("no layer `hebei`") && msg.contains("henan_410000"),
        "{msg}"
    );
    let mut s = spec(rel, "gcj02");
    s.code_field = None;
    let msg = load_layer(&s, None).unwrap_err().to_string();
    assert!(msg.contains("needs :code=FIELD"), "{msg}");
}
