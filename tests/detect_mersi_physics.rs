//! Physical tests of FY-3 MERSI fire detection, through the product files: synthetic 1 km granules
//! from `synth::modis` at MERSI's bands (`Instrument` `MERSI`: 3.80, 4.05, 10.8, 12.0 µm, its
//! noise, channel 21 saturating at 340 K), fires mixed in by the Planck function at those bands,
//! written as the FY-3D `1000M` + `GEO1K` HDF5 pair (FY-3E: MERSI-LL's layout, no reflective
//! channels) by `product::write::mersi`, read back by `product::mersi_l1::read` (counts, slopes,
//! `TBB_Trans_Coefficient`, the saturated code, `LandSeaMask`) and detected with the sensor's
//! own model file (`models/fy3d-mersi.toml`, `models/fy3e-mersi-ll.toml`), as `strawfire scan`
//! does. Measured: detection probability by fire area and temperature (FY-3D day and night,
//! FY-3E at dusk, where its model runs the night tests only), false alarms per million
//! fire-free pixels by land class (bright soil and factory roofs among them), FRP against
//! σA(T⁴ − Tb⁴). Beside the published figures in BENCHMARKS.md; the tables are printed
//! (`cargo test --test detect_mersi_physics -- --nocapture`).

#[path = "common/physics_1km.rs"]
mod physics_1km;

use physics_1km::{false_alarms, tables_and_frp, COLS, ROWS};
use strawfire::detect::modis::{detect_modis, ModisDetection, ModisInput};
use strawfire::model::modis::ModisModel;
use strawfire::product::mersi_l1;
use strawfire::product::write::mersi as mersi_write;
use strawfire::synth::modis::{ModisSpec, SynthModis};

/// `g` written as its MERSI pair, read back, and detected with `model`.
fn through_files(g: &SynthModis, model: &ModisModel) -> ModisDetection {
    let dir = tempfile::tempdir().unwrap();
    let files = mersi_write::write(&g.granule, dir.path()).unwrap();
    let read = mersi_l1::read(&files.data, &files.geo).unwrap();
    assert_eq!(read.shape, g.granule.shape);
    let input = ModisInput::from_bands(
        |n| read.band(n),
        read.water.as_ref().map(|w| w.view()),
        read.saturation.get("B22").copied(),
    )
    .unwrap();
    detect_modis(&input, model, &g.pixel_area()).unwrap()
}

fn fy3d(g: &SynthModis) -> ModisDetection {
    through_files(g, &ModisModel::mersi())
}

fn fy3e(g: &SynthModis) -> ModisDetection {
    through_files(g, &ModisModel::mersi_ll())
}

#[test]
fn fy3d_mersi_ii_detection_probability_by_area_and_temperature_day_and_night() {
    // FRP at 4.05 µm with its own coefficient (2.82e-9).
    let cases = [
        (
            ModisSpec::fy3d_day(ROWS, COLS, 531),
            true,
            "day (13:30, June)",
        ),
        (
            ModisSpec::fy3d_night(ROWS, COLS, 531),
            false,
            "night (01:30, June)",
        ),
    ];
    tables_and_frp("FY-3D MERSI-II", &cases, &fy3d, 0.85);
}

#[test]
fn fy3e_mersi_ll_detection_probability_by_area_and_temperature_at_dusk() {
    let spec = ModisSpec::fy3e_dusk(ROWS, COLS, 531);
    let g = strawfire::synth::modis::generate_modis(&spec).unwrap();
    let sza = g.granule.band("SZA").unwrap();
    assert!(sza.iter().all(|&z| z > 95.0), "the sun is down");
    let when = "dusk (≈ 18:15 local, November, sun down)";
    tables_and_frp("FY-3E MERSI-LL", &[(spec, false, when)], &fy3e, 0.98);
}

#[test]
fn the_10_8_um_rise_of_a_400_m2_fire_matches_nsmc_s_figure() {
    // Zheng, Chen, Tang, Hu, Liu (2020), J. Infrared Millim. Waves 39(1):120-127 (NSMC): a 400 m²
    // open fire at 750 K raises MERSI-II's 10.8 µm brightness temperature by ≈ 0.47 K in a 1 km
    // pixel (by linear spectral unmixing). The generator's mixing at 10.8 µm over a ≈ 290 K
    // night background gives the same.
    let mut spec = ModisSpec::fy3d_night(20, 60, 5);
    spec.cloud_cover = 0.0;
    spec.fires
        .push(strawfire::synth::PlantedFire::new(10, 30, 400.0, 750.0));
    let g = strawfire::synth::modis::generate_modis(&spec).unwrap();
    let t = &g.truth[0];
    println!(
        "400 m² at 750 K, background {:.1} K: ΔBT 10.8 µm {:.3} K, ΔBT 4.05 µm {:.2} K",
        t.background_bt5_k, t.expected_dbt5_k, t.expected_dbt4_k
    );
    assert!((280.0..300.0).contains(&t.background_bt5_k), "{t:?}");
    assert!((0.42..0.53).contains(&t.expected_dbt5_k), "{t:?}");
}

#[test]
fn false_alarms_per_million_fire_free_pixels_by_land_class() {
    // FY-3D by day and by night, FY-3E at dusk: four granules of 200 × 400 each, 25 % cloud.
    type Make = fn(usize, usize, u64) -> ModisSpec;
    type Detect = fn(&SynthModis) -> ModisDetection;
    let cases: [(&str, bool, Make, Detect); 3] = [
        ("FY-3D MERSI-II day", true, ModisSpec::fy3d_day, fy3d),
        ("FY-3D MERSI-II night", false, ModisSpec::fy3d_night, fy3d),
        ("FY-3E MERSI-LL dusk", false, ModisSpec::fy3e_dusk, fy3e),
    ];
    for (what, day, make, detect) in cases {
        let specs = (0..4u64).map(|seed| {
            let mut spec = make(200, 400, 900 + seed);
            spec.cloud_cover = 0.25;
            spec
        });
        let fa = false_alarms(specs, &detect);
        fa.print(&format!(
            "{what}: false alarms per million fire-free pixels (4 granules of 200×400, 25 % cloud)"
        ));
        fa.assert_bounds(what, day);
    }
}
