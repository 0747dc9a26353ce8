//! Physical tests of the MODIS C6/C6.1 detector on synthetic 1 km granules whose fires are mixed
//! in by the Planck function (`synth::modis`): detection probability by fire area and temperature,
//! day and night, beside the published figures (MODIS routinely detects fires of ≈ 1000 m², ≈ 100 m²
//! in very good conditions: Giglio et al. 2003, 2016); false alarms per million fire-free pixels by
//! land class; FRP against σA(T⁴ − Tb⁴); band 22 saturated → band 21; the pixel's growth off nadir.
//! The tables are printed (`cargo test --test detect_modis_physics -- --nocapture`).

#[path = "common/physics_1km.rs"]
mod physics_1km;

use physics_1km::{false_alarms, tables_and_frp, COLS, ROWS};
use strawfire::detect::modis::{detect_modis, detect_modis_reference, ModisDetection};
use strawfire::model::modis::ModisModel;
use strawfire::synth::modis::{generate_modis, ModisSpec, SynthModis};
use strawfire::synth::PlantedFire;

fn detect(g: &SynthModis) -> ModisDetection {
    detect_modis(&g.input(), &ModisModel::builtin(), &g.pixel_area()).unwrap()
}

#[test]
fn detection_probability_by_area_and_temperature_day_and_night() {
    // One background per day/night (the same noise for every cell of the table). By day the
    // fires within 15° of the specular point may go to the glint test (≈ 10 % of this granule's
    // stubble at noon in June); away from it all of them are found.
    let cases = [
        (
            ModisSpec::day(ROWS, COLS, 531),
            true,
            "day (Aqua 13:30, June)",
        ),
        (
            ModisSpec::night(ROWS, COLS, 531),
            false,
            "night (Aqua 01:30, June)",
        ),
    ];
    tables_and_frp("MODIS C6.1", &cases, &detect, 0.85);
}

#[test]
fn false_alarms_per_million_fire_free_pixels_by_land_class() {
    for day in [true, false] {
        let specs = (0..4u64).map(|seed| {
            let mut spec = if day {
                ModisSpec::day(200, 400, 900 + seed)
            } else {
                ModisSpec::night(200, 400, 900 + seed)
            };
            spec.cloud_cover = 0.25;
            spec
        });
        let fa = false_alarms(specs, &detect);
        fa.print(&format!(
            "MODIS C6.1 false alarms per million fire-free pixels, {} (4 granules of 200×400, 25 % cloud)",
            if day { "day" } else { "night" }
        ));
        fa.assert_bounds(&format!("MODIS day {day}"), day);
    }
}

#[test]
fn a_saturated_band_22_takes_t4_from_band_21_and_off_nadir_pixels_hide_small_fires() {
    let m = ModisModel::builtin();
    // 3000 m² at 1200 K at nadir, by night: band 22 saturates at 331 K.
    let mut spec = ModisSpec::night(40, 1354, 77);
    spec.cloud_cover = 0.0;
    spec.fires.push(PlantedFire::new(20, 677, 3000.0, 1200.0));
    // The same 300 m² fire at nadir and at the scan edge (a pixel ≈ 9.6 km²).
    spec.fires.push(PlantedFire::new(30, 690, 300.0, 1000.0));
    spec.fires.push(PlantedFire::new(30, 1345, 300.0, 1000.0));
    let g = generate_modis(&spec).unwrap();
    assert!(g.truth[0].saturated);
    let d = detect_modis(&g.input(), &m, &g.pixel_area()).unwrap();
    let at = |r: usize, c: usize| d.fires.iter().find(|f| (f.row, f.col) == (r, c));
    let big = at(20, 677).expect("the saturated fire is found");
    assert!(big.b21_used && big.t4_k > 331.0, "{big:?}");
    assert!(
        (big.frp_mw / g.truth[0].true_frp_mw - 1.0).abs() < 0.3,
        "{} vs {}",
        big.frp_mw,
        g.truth[0].true_frp_mw
    );
    assert!(at(30, 690).is_some(), "300 m² at nadir");
    assert!(
        at(30, 1345).is_none(),
        "300 m² at the edge is ≈ 10× diluted"
    );
    // And the reference agrees on this granule too.
    let r = detect_modis_reference(&g.input(), &m, &g.pixel_area()).unwrap();
    assert_eq!(format!("{:?}", r.fires), format!("{:?}", d.fires));
}

/// A night scene of `rows × cols` 1 km pixels built from the Planck function: `surface(r, c)` gives
/// (background K, water?), each listed fire (row, col, m², K) is mixed into its pixel at 4 and
/// 11 µm; a little deterministic noise (±0.3 K). Returns the detection by `m`.
fn night_scene(
    rows: usize,
    cols: usize,
    surface: impl Fn(usize, usize) -> (f64, bool),
    fires: &[(usize, usize, f64, f64)],
    m: &ModisModel,
) -> ModisDetection {
    use ndarray::Array2;
    use strawfire::detect::modis::ModisInput;
    use strawfire::detect::PixelArea;
    use strawfire::physics::{brightness_temperature, planck_radiance};
    let (w4, w11) = (m.bands.t4_wavelength_um, m.bands.t11_wavelength_um);
    let mut t4 = Array2::<f32>::zeros((rows, cols));
    let mut t11 = t4.clone();
    let mut water = Array2::<u8>::zeros((rows, cols));
    for r in 0..rows {
        for c in 0..cols {
            let (bg, w) = surface(r, c);
            let noise = ((r * 7919 + c * 104729) % 61) as f64 / 100.0 - 0.3;
            let (b4, b11) = (bg + noise, bg - 0.5 + noise);
            let (mut l4, mut l11) = (planck_radiance(w4, b4), planck_radiance(w11, b11));
            for &(fr, fc, area, temp) in fires.iter().filter(|f| (f.0, f.1) == (r, c)) {
                let p = area / 1e6;
                l4 = p * planck_radiance(w4, temp) + (1.0 - p) * l4;
                l11 = p * planck_radiance(w11, temp) + (1.0 - p) * l11;
                let _ = (fr, fc);
            }
            t4[[r, c]] = brightness_temperature(w4, l4) as f32;
            t11[[r, c]] = brightness_temperature(w11, l11) as f32;
            water[[r, c]] = w as u8;
        }
    }
    let t12 = t11.mapv(|t| t - 0.5);
    let nan = Array2::<f32>::from_elem((rows, cols), f32::NAN);
    let sza = Array2::<f32>::from_elem((rows, cols), 120.0);
    let input = ModisInput {
        b1: nan.view(),
        b2: nan.view(),
        b7: nan.view(),
        b21: t4.view(),
        b22: t4.view(),
        b31: t11.view(),
        b32: t12.view(),
        sza: sza.view(),
        geometry: None,
        water: Some(water.view()),
        b22_saturation: None,
    };
    let area = PixelArea::Constant(1e6);
    let fast = detect_modis(&input, m, &area).unwrap();
    let reference = detect_modis_reference(&input, m, &area).unwrap();
    assert_eq!(
        format!("{:?}", fast.fires),
        format!("{:?}", reference.fires)
    );
    fast
}

#[test]
fn c6_water_processing_finds_offshore_flares_and_rejects_coastal_ones_unless_absolute() {
    // Sea at 288 K east of column 15, land at 290 K west of it; gas flares at 1800 K.
    let surface = |_r: usize, c: usize| {
        if c < 15 {
            (290.0, false)
        } else {
            (288.0, true)
        }
    };
    let m = ModisModel::builtin();
    // 40 m² raises T4 to ≈ 314 K (ΔT ≈ 26 K): a contextual fire; 100 m² ≈ 333 K: absolute.
    let offshore = (30, 45, 40.0, 1800.0);
    // Beside the coast: land (column 14) in its smallest (3 × 3) background window.
    let coastal = (30, 15, 40.0, 1800.0);
    let coastal_big = (10, 15, 100.0, 1800.0);
    let d = night_scene(60, 60, surface, &[offshore, coastal, coastal_big], &m);
    let at = |r: usize, c: usize| d.fires.iter().find(|f| (f.row, f.col) == (r, c));
    let f = at(30, 45).expect("the offshore flare (background all water)");
    assert_eq!(f.test, strawfire::detect::modis::FireTest::Contextual);
    assert!(
        f.frp_mw > 0.0 && (287.0..289.5).contains(&f.background_t4_k),
        "{f:?}"
    );
    assert!(
        at(30, 15).is_none(),
        "a contextual fire over water with land in its window is rejected (G16 sec. 3.6.5)"
    );
    assert_eq!(d.mask.view()[[30, 15]], 3, "it stays non-fire water");
    let big = at(10, 15).expect("an absolute fire over water is kept beside the coast");
    assert_eq!(big.test, strawfire::detect::modis::FireTest::Absolute);
    assert_eq!(d.fires.len(), 2, "{:?}", d.fires);
    // C5 (water not processed): no fire over water at all.
    let mut c5 = m.clone();
    c5.water.process = false;
    let d = night_scene(60, 60, surface, &[offshore, coastal, coastal_big], &c5);
    assert!(d.fires.is_empty(), "{:?}", d.fires);
}

#[test]
fn c6_dynamic_night_threshold_finds_a_small_fire_in_a_cold_scene() {
    // A cold night (272 K: winter, high ground): a 1000 K fire of 165 m² raises T4 to ≈ 302 K,
    // below C5's fixed 305 K; the window's median 272 K + 10 K puts the dynamic threshold at its
    // 300 K floor, and the contextual tests confirm it. In a warm scene (296 K) the threshold
    // stays 305 K: a pixel of 301 K there is no potential fire.
    let m = ModisModel::builtin();
    let cold = |_r: usize, _c: usize| (272.0, false);
    let fire = (40, 150, 165.0, 1000.0);
    let d = night_scene(80, 300, cold, &[fire], &m);
    let f = d.fires.iter().find(|f| (f.row, f.col) == (40, 150));
    let f = f.expect("found with the dynamic threshold");
    assert!(f.t4_k > 300.0 && f.t4_k <= 305.0, "{f:?}");
    assert_eq!(d.fires.len(), 1);
    let mut fixed = m.clone();
    fixed.potential.night_dynamic = false;
    assert!(night_scene(80, 300, cold, &[fire], &fixed).fires.is_empty());
    // Warm scene, a weaker fire giving ≈ 301 K: not a potential fire by either rule.
    let warm = |_r: usize, _c: usize| (296.0, false);
    let d = night_scene(80, 300, warm, &[(40, 150, 40.0, 1000.0)], &m);
    assert!(d.fires.is_empty(), "{:?}", d.fires);
}
