//! `scan::scan_granule`: detection on a granule in memory in its native geometry. On synthetic
//! VIIRS I-band swath granules (`synth::generate_swath`) with planted fires: positions from the
//! geolocation arrays, FIRMS scan/track and the FRP pixel area from the swath's pixel sizes at
//! nadir and at the edge, the product's water mask at night, bow-tie deleted pixels as class 1,
//! the fast detector equal to the reference with a per-column area. And the map-grid GeoTIFF
//! read as a granule finds exactly what the streamed `scan_scene` finds.

use strawfire::detect::{detect_viirs, detect_viirs_reference, MaskClass, PixelArea, ViirsInput};
use strawfire::hotspot::Hotspot;
use strawfire::model::SensorModel;
use strawfire::product::{geotiff, viirs_iband, Geometry, Granule};
use strawfire::raster::georef::haversine_m;
use strawfire::raster::Compression;
use strawfire::scan::{scan_granule, scan_scene, swath_pixel_sizes_km, ModelChoice};
use strawfire::synth::{
    generate, generate_swath, random_fires_for, LandClass, LandcoverParams, PlantedFire, SwathSpec,
    SynthSpec, SynthSwath,
};

/// A clear cropland pixel (3×3 of cropland) on row `row` near column `near`.
fn cropland_site(spec: &SwathSpec, row: usize, near: usize) -> (usize, usize) {
    let lc = LandcoverParams::new(spec.scene.seed, spec.scene.cloud_cover);
    (0..200)
        .flat_map(|d| [near + d, near - d])
        .filter(|&c| c >= 1 && c + 1 < viirs_iband::SAMPLES)
        .find(|&c| {
            (row - 1..=row + 1)
                .all(|r| (c - 1..=c + 1).all(|cc| lc.cover(r, cc).class() == LandClass::Cropland))
        })
        .map(|c| (row, c))
        .expect("a cropland site")
}

/// A night granule of two scans with a 40 m², 1000 K fire at nadir and the same at the edge.
fn night_swath() -> SynthSwath {
    let mut spec = SwathSpec::night(2, 11);
    spec.scene.cloud_cover = 0.0;
    for near in [3200, 6330] {
        let (r, c) = cropland_site(&spec, 48, near);
        spec.scene.fires.push(PlantedFire::new(r, c, 40.0, 1000.0));
    }
    generate_swath(&spec).unwrap()
}

fn swath_of(g: &Granule) -> &strawfire::product::Swath {
    match &g.geometry {
        Geometry::Swath(s) => s,
        Geometry::Grid(_) => panic!("a swath granule"),
    }
}

fn hotspot_at(hotspots: &[Hotspot], row: usize, col: usize) -> &Hotspot {
    hotspots
        .iter()
        .find(|h| h.row == Some(row) && h.col == Some(col))
        .unwrap_or_else(|| panic!("no fire at ({row}, {col}): {hotspots:#?}"))
}

#[test]
fn fires_on_a_swath_have_its_positions_sizes_and_areas() {
    let sw = night_swath();
    let g = &sw.granule;
    let res = scan_granule(g, ModelChoice::FromScene, &|_| {}).unwrap();
    let s = swath_of(g);
    let (nadir, edge) = (&sw.truth[0], &sw.truth[1]);
    assert!(!nadir.saturated && !edge.saturated, "{nadir:?} {edge:?}");
    assert!(
        edge.expected_dbt4_k > 8.0,
        "the edge fire must stand clear: {edge:?}"
    );
    let mut frp = Vec::new();
    for t in [nadir, edge] {
        let h = hotspot_at(&res.hotspots, t.row, t.col);
        // The position is the geolocation of the pixel, at its distance from the track.
        let (lat, lon) = (s.lat.view()[[t.row, t.col]], s.lon.view()[[t.row, t.col]]);
        assert_eq!((h.latitude, h.longitude), (lat as f64, lon as f64));
        let track = (
            s.lon.view()[[t.row, 3200]] as f64,
            s.lat.view()[[t.row, 3200]] as f64,
        );
        let off = haversine_m(track, (h.longitude, h.latitude)) / 1000.0;
        let want = viirs_iband::ground_distance_km(t.col);
        assert!(
            (off - want).abs() < 0.01 * want + 0.5,
            "{off} km vs {want} km"
        );
        // FIRMS scan/track: the published 0.387 × 0.371 km at nadir, ≈ 0.79 × 0.80 km at the edge.
        let (scan, track) = (h.scan_km.unwrap(), h.track_km.unwrap());
        if t.col.abs_diff(3200) < 200 {
            assert!(
                (scan - 0.387).abs() < 0.01 && (track - 0.371).abs() < 0.005,
                "{h:?}"
            );
        } else {
            assert!(
                (scan - 0.75).abs() < 0.06 && (track - 0.78).abs() < 0.04,
                "{h:?}"
            );
        }
        // FRP within 30 % of σA(T⁴ − Tb⁴): only with the pixel's own area.
        let frp_mw = h.frp_mw.unwrap();
        let err = (frp_mw - t.true_frp_mw) / t.true_frp_mw;
        assert!(
            err.abs() < 0.3,
            "FRP {frp_mw} vs true {}: {h:?}",
            t.true_frp_mw
        );
        eprintln!(
            "col {}: scan {:.3} track {:.3} km, rise {:.1} K, FRP {:.2} MW (true {:.2})",
            t.col, scan, track, t.expected_dbt4_k, frp_mw, t.true_frp_mw
        );
        frp.push(frp_mw);
    }
    // The same fire gives the same FRP at nadir and at the edge, though its rise is ~4× smaller
    // there: the edge pixel's area is ~4× larger.
    assert!(edge.expected_dbt4_k < 0.4 * nadir.expected_dbt4_k);
    assert!((frp[1] / frp[0] - 1.0).abs() < 0.3, "{frp:?}");
    let sizes = swath_pixel_sizes_km(s, g.shape);
    assert!(sizes[edge.col].0 * sizes[edge.col].1 > 3.5 * sizes[nadir.col].0 * sizes[nadir.col].1);
    // Nothing else burns on a clear fire-free night.
    assert_eq!(res.hotspots.len(), 2, "{:#?}", res.hotspots);
    assert!(res.coverage_samples.len() > 1000);
}

#[test]
fn the_water_mask_decides_water_at_night_and_bowtie_pixels_are_fill() {
    let sw = night_swath();
    let g = &sw.granule;
    let res = scan_granule(g, ModelChoice::FromScene, &|_| {}).unwrap();
    let mask = res.detection.mask.view();
    let water = g.water.as_ref().unwrap().view();
    let (mut on_water, mut bowtie) = (0, 0);
    for ((r, c), &k) in mask.indexed_iter() {
        let class = MaskClass::from_u8(k);
        if viirs_iband::is_bowtie_deleted(r, c) {
            assert_eq!(class, MaskClass::Fill, "bow-tie pixel ({r}, {c})");
            bowtie += 1;
        } else if water[[r, c]] == 1 {
            assert_eq!(class, MaskClass::Water, "({r}, {c})");
            on_water += 1;
        } else {
            assert_ne!(class, MaskClass::Water, "({r}, {c})");
        }
    }
    assert!(on_water > 1000 && bowtie > 10_000, "{on_water} {bowtie}");
    assert_eq!(res.summary().water, on_water);
    assert_eq!(res.summary().fill, bowtie);
    // Without the mask nothing is water at night.
    let no_mask = ViirsInput::from_bands(|n| g.band(n)).unwrap();
    let model = SensorModel::builtin("viirs-i").unwrap();
    let d = detect_viirs(&no_mask, &model, &PixelArea::Constant(140_625.0)).unwrap();
    assert_eq!(d.summary.water, 0);
    // A reader that leaves the angles of bow-tie pixels out (NaN) still gets class 1.
    let mut g2 = g.clone();
    let sza = g2.bands.get_mut("SZA").unwrap();
    let cols = g.shape.1;
    for (i, v) in sza.as_mut_slice().iter_mut().enumerate() {
        if viirs_iband::is_bowtie_deleted(i / cols, i % cols) {
            *v = f32::NAN;
        }
    }
    let res2 = scan_granule(&g2, ModelChoice::FromScene, &|_| {}).unwrap();
    assert_eq!(res2.detection.mask, res.detection.mask);
    assert_eq!(res2.summary().fill, bowtie);
    assert_eq!(res2.summary().not_processed, 0);
}

#[test]
fn fast_equals_reference_on_a_swath_with_per_column_areas() {
    let sw = night_swath();
    let g = &sw.granule;
    let input = ViirsInput::from_bands(|n| g.band(n))
        .unwrap()
        .with_water(g.water.as_ref().map(|w| w.view()));
    let sizes = swath_pixel_sizes_km(swath_of(g), g.shape);
    let area = PixelArea::PerColumn(sizes.iter().map(|(s, t)| s * t * 1e6).collect());
    let model = SensorModel::builtin("viirs-i").unwrap();
    let fast = detect_viirs(&input, &model, &area).unwrap();
    let slow = detect_viirs_reference(&input, &model, &area).unwrap();
    assert_eq!(fast.mask, slow.mask);
    assert_eq!(format!("{:?}", fast.fires), format!("{:?}", slow.fires));
    assert_eq!(fast.summary, slow.summary);
    assert_eq!(fast.fires.len(), 2);
}

#[test]
fn day_swath_fires_are_found_at_nadir_and_at_the_edge() {
    let mut spec = SwathSpec::day(2, 12);
    spec.scene.cloud_cover = 0.0;
    for near in [3200, 6330] {
        let (r, c) = cropland_site(&spec, 16, near);
        spec.scene.fires.push(PlantedFire::new(r, c, 150.0, 1000.0));
    }
    let sw = generate_swath(&spec).unwrap();
    let res = scan_granule(&sw.granule, ModelChoice::FromScene, &|_| {}).unwrap();
    for t in &sw.truth {
        let h = hotspot_at(&res.hotspots, t.row, t.col);
        assert_eq!(h.daynight, strawfire::hotspot::DayNight::Day);
    }
    assert!(res.summary().day_pixels > 0 && res.summary().night_pixels == 0);
}

#[test]
fn a_geotiff_scanned_streamed_or_as_a_granule_gives_the_same_fires() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene.tif");
    let mut spec = SynthSpec::day(300, 280, 21);
    spec.glint_bands = true;
    spec.fires = random_fires_for(&spec, 30);
    let scene = generate(&spec).unwrap();
    scene
        .write(
            &path,
            &dir.path().join("scene.truth.csv"),
            Compression::Deflate,
        )
        .unwrap();
    let streamed = scan_scene(&path, ModelChoice::FromScene, &|_| {}).unwrap();
    let model = SensorModel::builtin("viirs-i").unwrap();
    let granule = geotiff::read(&path, &model).unwrap();
    let in_memory = scan_granule(&granule, ModelChoice::FromScene, &|_| {}).unwrap();
    assert!(streamed.hotspots.len() >= 10, "{}", streamed.hotspots.len());
    assert_eq!(
        format!("{:?}", streamed.hotspots),
        format!("{:?}", in_memory.hotspots)
    );
    assert_eq!(streamed.detection.mask, in_memory.detection.mask);
    assert_eq!(streamed.summary(), in_memory.summary());
    assert_eq!(streamed.coverage_samples, in_memory.coverage_samples);
}
