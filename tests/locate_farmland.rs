//! Real field parcels (fiboa samples: India, Vietnam, Cambodia, Japan, Netherlands) in several
//! CRSs: points placed inside each parcel, in the file's own CRS, match that parcel.

use std::path::PathBuf;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::LayerAccess;
use geo::{BoundingRect, Contains, InteriorPoint, Point, Rect};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strawfire::locate::{load_layer, LayerError, LayerSpec, Level, UnitLayer};

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// (file, extra spec options, source EPSG the test transforms its own points from)
const FARMLAND: [(&str, &str, u32); 6] = [
    ("farmland/india_10k_sample/india_10k.shp", "", 4326),
    (
        "farmland/ai4smallfarms_vietnam_fields_sample.gpkg",
        ":code=id",
        32648,
    ),
    (
        "farmland/ai4smallfarms_cambodia_fields_sample.gpkg",
        ":code=id",
        32648,
    ),
    (
        "farmland/netherlands_brp_crop_parcels_2023_sample.gpkg",
        "",
        28992,
    ),
    (
        "farmland/japan_fude_fields_2024_sample.geojson",
        ":code=polygon_uuid",
        4326,
    ),
    // The same Japanese parcels declared as JGD2011 (EPSG:6668, latitude-first): exercises the
    // axis-order trap and a datum transformation.
    (
        "farmland/japan_fude_fields_2024_sample.geojson",
        ":code=polygon_uuid:crs=EPSG:6668",
        6668,
    ),
];

#[test]
fn points_inside_each_parcel_match_it_in_every_crs() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    for (rel, opts, epsg) in FARMLAND {
        let spec = LayerSpec::parse(&format!("{}{opts}", data(rel).display())).unwrap();
        let layer = load_layer(&spec, Some(Level::Parcel)).unwrap();
        assert_eq!(layer.areas.len(), 100, "{rel}: {:?}", layer.warnings);
        let ids: Vec<String> = layer.areas.iter().map(|a| a.code.clone()).collect();
        let parcels = UnitLayer::new(Level::Parcel, layer.areas);

        // The test's own path from file coordinates to WGS84: raw OGR geometries, a separate
        // OGR transformation of single points.
        let ds = gdal::Dataset::open(data(rel)).unwrap();
        let mut src_layer = ds.layer(0).unwrap();
        let code_field = spec.code_field.clone();
        let mut src = SpatialRef::from_epsg(epsg).unwrap();
        src.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let mut dst = SpatialRef::from_epsg(4326).unwrap();
        dst.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        let ct = CoordTransform::new(&src, &dst).unwrap();
        let mut checked = 0;
        for feature in src_layer.features() {
            let id = match &code_field {
                Some(f) => feature
                    .field_as_string(feature.field_index(f).unwrap())
                    .unwrap()
                    .unwrap(),
                None => feature.fid().unwrap().to_string(),
            };
            let shape: geo::Geometry<f64> = feature.geometry().unwrap().to_geo().unwrap();
            let mut points: Vec<Point<f64>> = shape.interior_point().into_iter().collect();
            let r = shape.bounding_rect().unwrap();
            for _ in 0..500 {
                if points.len() >= 4 {
                    break;
                }
                let p = Point::new(
                    rng.gen_range(r.min().x..=r.max().x),
                    rng.gen_range(r.min().y..=r.max().y),
                );
                if shape.contains(&p) {
                    points.push(p);
                }
            }
            for p in points {
                let (mut xs, mut ys, mut zs) = ([p.x()], [p.y()], [0.0]);
                ct.transform_coords(&mut xs, &mut ys, &mut zs).unwrap();
                let (lon, lat) = (xs[0], ys[0]);
                let hits: Vec<&str> = parcels
                    .index
                    .containing(lon, lat)
                    .iter()
                    .map(|&i| ids[i].as_str())
                    .collect();
                assert!(
                    hits.contains(&id.as_str()),
                    "{rel}{opts}: point ({lon},{lat}) in parcel {id} matched {hits:?}"
                );
                // A 1 m footprint around the point lies (almost) wholly on that parcel.
                let d = 0.5 / 111_195.0;
                let over = parcels
                    .index
                    .overlaps(Rect::new((lon - d, lat - d), (lon + d, lat + d)));
                assert!(
                    over.iter().any(|o| ids[o.index] == id),
                    "{rel}: footprint misses {id}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 200, "{rel}: only {checked} points");
    }
}

#[test]
fn geoparquet_needs_a_driver_this_gdal_lacks_and_says_so() {
    // Debian's GDAL 3.6 has no (Geo)Parquet driver: the error names the file.
    let spec = LayerSpec::parse(
        &data("farmland/japan_fude_fields_2024_sample.parquet")
            .display()
            .to_string(),
    )
    .unwrap();
    match load_layer(&spec, Some(Level::Parcel)) {
        Err(e @ LayerError::Open { .. }) => assert!(e
            .to_string()
            .contains("japan_fude_fields_2024_sample.parquet")),
        Ok(layer) => assert_eq!(
            layer.areas.len(),
            100,
            "a GDAL with the Parquet driver must read it whole"
        ),
        Err(other) => panic!("{other}"),
    }
}

/// A `where=` the GeoPackage's SQLite rejects (an unknown column, a syntax error) is an error
/// naming the file and the clause, through both loaders: OGR took any filter when it was set and
/// then read the layer as one without features, printing its error, so the user's filter did
/// nothing visible. A clause it takes filters.
#[test]
fn a_where_clause_a_geopackage_rejects_is_an_error_naming_it() {
    let file = data("farmland/ai4smallfarms_vietnam_fields_sample.gpkg");
    let spec = |clause: &str| {
        LayerSpec::parse(&format!("{}:code=id:where={clause}", file.display())).unwrap()
    };
    for clause in ["nosuch = 1", "id >", "id = 'x"] {
        let loaded = [
            (
                "load_layer",
                load_layer(&spec(clause), Some(Level::Parcel)).map(|_| ()),
            ),
            (
                "UnitLayer::load",
                UnitLayer::load(&spec(clause), Level::Parcel).map(|_| ()),
            ),
        ];
        for (road, result) in loaded {
            match result {
                Err(e @ LayerError::Filter { .. }) => {
                    let text = e.to_string();
                    assert!(
                        text.contains(&format!("bad where clause `{clause}`"))
                            && text.contains("ai4smallfarms_vietnam_fields_sample.gpkg"),
                        "{road}: {text}"
                    );
                }
                Err(other) => panic!("{road}, `{clause}`: {other}"),
                Ok(()) => panic!("{road}, `{clause}`: loaded, the filter ignored"),
            }
        }
    }
    let taken = load_layer(&spec("id_0 <= 10"), Some(Level::Parcel)).unwrap();
    assert_eq!(taken.areas.len(), 10, "{:?}", taken.warnings);
}

/// A rejected `where=` is our error only: GDAL records it (read back as the error's cause) but
/// prints no `ERROR 1: …` of its own beside it, whether it rejects the clause when set (CSV) or
/// when reading starts (GeoPackage). GDAL's handler is process-wide: the one installed here
/// collects only messages naming this test's own column, which no other test uses.
#[test]
fn a_rejected_where_clause_is_not_printed_by_gdal_too() {
    const COLUMN: &str = "no_such_column_quiet";
    let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = std::sync::Arc::clone(&printed);
    gdal::config::set_error_handler(move |_, _, msg| {
        if msg.contains(COLUMN) {
            seen.lock().unwrap().push(msg.to_string());
        }
    });
    let specs = [
        (
            data("farmland/ai4smallfarms_vietnam_fields_sample.gpkg"),
            ":code=id",
            Level::Parcel,
        ),
        (
            data("heatsources/wri_gppd_china_power_plants.csv"),
            ":name=Name:radius_m=2000",
            Level::Mask,
        ),
    ];
    let mut results = Vec::new();
    for (file, rest, level) in &specs {
        let spec =
            LayerSpec::parse(&format!("{}{rest}:where={COLUMN} = 1", file.display())).unwrap();
        results.push((file.clone(), load_layer(&spec, Some(*level)).map(|_| ())));
    }
    gdal::config::remove_error_handler();
    for (file, result) in results {
        match result {
            Err(e @ LayerError::Filter { .. }) => {
                let cause = std::error::Error::source(&e).map(|c| c.to_string());
                assert!(
                    cause.as_deref().is_some_and(|c| c.contains(COLUMN)),
                    "{}: GDAL's message is the cause: {e} ({cause:?})",
                    file.display()
                );
            }
            other => panic!("{}: {other:?}", file.display()),
        }
    }
    assert_eq!(*printed.lock().unwrap(), Vec::<String>::new());
}
