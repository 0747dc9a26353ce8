//! Physical tests of the VIIRS 375 m detector, the way the papers validate one (ALGORITHMS.md,
//! "Validating a detector"): sub-pixel fires of known area and temperature planted by the Planck
//! mixing model into realistic synthetic backgrounds (`strawfire::synth`), day and night; then the
//! probability of detection by area and temperature, false alarms on fire-free pixels by land
//! class, the fixed-threshold paths (BT4 > 320 K at night, saturation, folding), FRP against the
//! true σA(T⁴ − Tb⁴), and the parallel detector against the sequential reference.
//!
//! The assertions come from the physics and the published algorithm, not from what the detector
//! happens to do: a night fire whose BT4 − BT5 rise clears the algorithm's own 9 K contextual
//! offset by three noise standard deviations must be found; Schroeder et al. (2014) detected a
//! 4.9 m² ≈1000 K bonfire that raised I4 by ≈10 K; by day flaming fires of ≥ 30 m² clear every
//! daytime test on the backgrounds generated here.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use strawfire::detect::{detect_viirs, detect_viirs_reference, Detection, FirePixel, MaskClass};
use strawfire::hotspot::Confidence;
use strawfire::model::SensorModel;
use strawfire::synth::{fire, generate, LandClass, PlantedFire, SynthScene, SynthSpec};

/// Fire areas (m²) and temperatures (K) of the detection-probability table.
const AREAS_M2: [f64; 10] = [2.0, 5.0, 7.0, 10.0, 20.0, 30.0, 50.0, 100.0, 300.0, 1000.0];
const TEMPS_K: [f64; 4] = [600.0, 800.0, 1000.0, 1200.0];
/// Fires per (area, temperature) cell.
const PER_CELL: usize = 12;
/// Planted fires are this many pixels apart, so none falls in another's 11×11 window.
const SPACING: usize = 12;
/// Sensor noise of the scenes (VIIRS I4/I5 NEdT), K.
const NEDT_K: f64 = 0.4;

fn model() -> &'static SensorModel {
    static M: OnceLock<SensorModel> = OnceLock::new();
    M.get_or_init(|| SensorModel::builtin("viirs-i").unwrap())
}

/// A scene with the planted fires and the detector's answer for it.
struct Run {
    scene: SynthScene,
    detection: Detection,
}

impl Run {
    fn new(spec: &SynthSpec) -> Run {
        let t0 = std::time::Instant::now();
        let scene = generate(spec).unwrap();
        let t1 = std::time::Instant::now();
        let detection = detect_viirs(&scene.viirs_input(), model(), &scene.pixel_area()).unwrap();
        eprintln!(
            "{}×{} {} scene: generated in {:.1} s, detected in {:.1} s",
            spec.rows,
            spec.cols,
            if spec.acq_time.format("%H").to_string() == "05" {
                "day"
            } else {
                "night"
            },
            (t1 - t0).as_secs_f64(),
            t1.elapsed().as_secs_f64()
        );
        Run { scene, detection }
    }

    fn fire_at(&self) -> HashMap<(usize, usize), &FirePixel> {
        self.detection
            .fires
            .iter()
            .map(|f| ((f.row, f.col), f))
            .collect()
    }
}

/// Sites for planted fires: a lattice `SPACING` apart over cropland pixels (fires in the straw
/// season burn on fields) with no cloud, cloud edge, water or fill among their 3×3 neighbours
/// (those have tests of their own), in a seeded shuffled order.
fn cropland_sites(spec: &SynthSpec) -> Vec<(usize, usize)> {
    let mut probe = spec.clone();
    probe.fires.clear();
    let classes = generate(&probe).unwrap().classes;
    let (rows, cols) = classes.dim();
    let mut sites = Vec::new();
    for r in (8..rows - 8).step_by(SPACING) {
        for c in (8..cols - 8).step_by(SPACING) {
            let clear = classes[[r, c]] == LandClass::Cropland
                && (r - 1..=r + 1).all(|rr| {
                    (c - 1..=c + 1).all(|cc| {
                        !matches!(
                            classes[[rr, cc]],
                            LandClass::Cloud
                                | LandClass::CloudEdge
                                | LandClass::Water
                                | LandClass::Fill
                        )
                    })
                });
            if clear {
                sites.push((r, c));
            }
        }
    }
    // Deterministic shuffle so that cells are spread over the whole scene.
    let mut keyed: Vec<(u64, (usize, usize))> = sites
        .into_iter()
        .map(|(r, c)| {
            let mut h = (r as u64) << 32 | c as u64 ^ spec.seed;
            h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (h ^ (h >> 29), (r, c))
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, s)| s).collect()
}

/// Tiles of the detection-probability table (several small scenes rather than one large one:
/// more varied backgrounds for the same number of pixels).
const TILES: u64 = 5;
const TILE_PX: usize = 200;

/// The scenes of the detection-probability table: `PER_CELL` fires for each (area, temperature),
/// dealt round-robin over `TILES` scenes of different seeds.
fn table_specs(day: bool) -> Vec<SynthSpec> {
    table_specs_from(day, if day { 2100 } else { 1200 })
}

/// [`table_specs`] with seeds from `first_seed` on.
fn table_specs_from(day: bool, first_seed: u64) -> Vec<SynthSpec> {
    let mut specs: Vec<SynthSpec> = (0..TILES)
        .map(|k| {
            let seed = first_seed + k;
            let mut spec = if day {
                SynthSpec::day(TILE_PX, TILE_PX, seed)
            } else {
                SynthSpec::night(TILE_PX, TILE_PX, seed)
            };
            spec.cloud_cover = 0.1;
            spec.nedt_k = NEDT_K;
            spec
        })
        .collect();
    let sites: Vec<Vec<(usize, usize)>> = specs.iter().map(cropland_sites).collect();
    let mut used = vec![0; specs.len()];
    let mut k = 0;
    for _ in 0..PER_CELL {
        for &a in &AREAS_M2 {
            for &t in &TEMPS_K {
                let tile = k % specs.len();
                let site = sites[tile].get(used[tile]).unwrap_or_else(|| {
                    panic!(
                        "tile {tile}: only {} clear cropland sites",
                        sites[tile].len()
                    )
                });
                specs[tile]
                    .fires
                    .push(PlantedFire::new(site.0, site.1, a, t));
                used[tile] += 1;
                k += 1;
            }
        }
    }
    specs
}

fn table_runs(day: bool) -> &'static [Run] {
    static DAY: OnceLock<Vec<Run>> = OnceLock::new();
    static NIGHT: OnceLock<Vec<Run>> = OnceLock::new();
    let cell = if day { &DAY } else { &NIGHT };
    cell.get_or_init(|| table_specs(day).iter().map(Run::new).collect())
}

/// Detections among the planted fires of each (area, temperature) cell: (detected, planted).
fn probability_table(runs: &[Run]) -> BTreeMap<(u64, u64), (usize, usize)> {
    let mut table = BTreeMap::new();
    for run in runs {
        let found = run.fire_at();
        for t in &run.scene.truth {
            let e = table
                .entry((t.area_m2 as u64, t.temp_k as u64))
                .or_insert((0, 0));
            e.1 += 1;
            if found.contains_key(&(t.row, t.col)) {
                e.0 += 1;
            }
        }
    }
    table
}

fn print_table(label: &str, runs: &[Run], table: &BTreeMap<(u64, u64), (usize, usize)>) {
    let mean_rise = |a: u64, t: u64| {
        let v: Vec<f64> = runs
            .iter()
            .flat_map(|r| &r.scene.truth)
            .filter(|x| x.area_m2 as u64 == a && x.temp_k as u64 == t)
            .map(|x| x.expected_dbt4_k)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    println!("\n{label}: probability of detection (detected/planted; mean expected BT4 rise, K)");
    print!("{:>9}", "area m²");
    for t in TEMPS_K {
        print!("{:>19}", format!("{t} K"));
    }
    println!();
    for a in AREAS_M2 {
        print!("{a:>9}");
        for t in TEMPS_K {
            let (d, n) = table[&(a as u64, t as u64)];
            print!(
                "{:>19}",
                format!(
                    "{:>3.0}% {d:>2}/{n:<2} ({:>5.1})",
                    100.0 * d as f64 / n as f64,
                    mean_rise(a as u64, t as u64)
                )
            );
        }
        println!();
    }
}

fn rate(table: &BTreeMap<(u64, u64), (usize, usize)>, area_m2: f64, temp_k: f64) -> f64 {
    let (d, n) = table[&(area_m2 as u64, temp_k as u64)];
    d as f64 / n as f64
}

/// Detection must not fall as fires grow hotter or larger, beyond the sampling noise of
/// `PER_CELL` fires (two fires per cell).
fn assert_monotone(label: &str, table: &BTreeMap<(u64, u64), (usize, usize)>) {
    let slack = 2.0 / PER_CELL as f64 + 1e-9;
    for (i, &a) in AREAS_M2.iter().enumerate() {
        for (j, &t) in TEMPS_K.iter().enumerate() {
            let p = rate(table, a, t);
            if i + 1 < AREAS_M2.len() {
                let q = rate(table, AREAS_M2[i + 1], t);
                assert!(
                    q + slack >= p,
                    "{label}: {t} K: {a} m² {p:.2} but {} m² {q:.2}",
                    AREAS_M2[i + 1]
                );
            }
            if j + 1 < TEMPS_K.len() {
                let q = rate(table, a, TEMPS_K[j + 1]);
                assert!(
                    q + slack >= p,
                    "{label}: {a} m²: {t} K {p:.2} but {} K {q:.2}",
                    TEMPS_K[j + 1]
                );
            }
        }
    }
    // The table spans the detector's range: nothing at the small cool end, everything at the large hot end.
    assert!(
        rate(table, 2.0, 600.0) < 0.1,
        "{label}: 2 m² at 600 K is far below any detection limit"
    );
    assert_eq!(
        rate(table, 1000.0, 1000.0),
        1.0,
        "{label}: 1000 m² at 1000 K"
    );
}

/// Describes the planted fires of a cell that were missed, for the failure message.
fn misses(runs: &[Run], area_m2: f64, temp_k: f64) -> String {
    runs.iter()
        .map(|run| misses_in(run, area_m2, temp_k))
        .collect()
}

fn misses_in(run: &Run, area_m2: f64, temp_k: f64) -> String {
    let found = run.fire_at();
    let mask = run.detection.mask.view();
    run.scene
        .truth
        .iter()
        .filter(|t| t.area_m2 == area_m2 && t.temp_k == temp_k && !found.contains_key(&(t.row, t.col)))
        .map(|t| {
            let b = &run.scene.bands;
            format!(
                "\n  ({}, {}): bg BT4 {:.1} K, expected rise {:.1} K, observed BT4 {:.1} BT5 {:.1}, mask {}",
                t.row,
                t.col,
                t.background_bt4_k,
                t.expected_dbt4_k,
                b.i4[[t.row, t.col]],
                b.i5[[t.row, t.col]],
                MaskClass::from_u8(mask[[t.row, t.col]]).name()
            )
        })
        .collect()
}

#[test]
fn night_detection_probability_by_area_and_temperature() {
    let runs = table_runs(false);
    let table = probability_table(runs);
    print_table("night", runs, &table);
    assert_monotone("night", &table);
    // Schroeder 2014: a 4.9 m² ≈1000 K bonfire raised night I4 by ≈10 K and was detected. Here a
    // 1000 K fire of 7 m² raises BT4 by ≈11 K and one of 10 m² by ≈15 K.
    for area in [7.0, 10.0] {
        let p = rate(&table, area, 1000.0);
        assert!(
            p >= 0.9,
            "night 1000 K {area} m²: {p:.2}{}",
            misses(runs, area, 1000.0)
        );
    }
    // At 5 m² (≈9 K) the rise sits right at the algorithm's own ΔT45 > mean + 9 K test: some
    // are found, not all (which ones depends on the noise draw).
    let p5 = rate(&table, 5.0, 1000.0);
    assert!(
        p5 > 0.0,
        "night 1000 K 5 m²: none detected{}",
        misses(runs, 5.0, 1000.0)
    );
    // Every fire whose BT4 − BT5 rise clears the 9 K contextual offset by three noise standard
    // deviations (√2·NEdT each) and whose BT4 clears the 295 K candidate threshold is detected.
    let margin = 9.0 + 3.0 * std::f64::consts::SQRT_2 * NEDT_K + 1.0;
    let mut must = 0;
    let mut missed = Vec::new();
    for run in runs {
        let found = run.fire_at();
        for t in run
            .scene
            .truth
            .iter()
            .filter(|t| t.expected_dbt4_k - t.expected_dbt5_k > margin)
        {
            must += 1;
            if !found.contains_key(&(t.row, t.col)) {
                missed.push(t);
            }
        }
    }
    assert!(must > 200, "{must}");
    let missed: Vec<String> = missed
        .iter()
        .map(|t| {
            format!(
                "{} m² {} K rise {:.1} K at ({}, {})",
                t.area_m2, t.temp_k, t.expected_dbt4_k, t.row, t.col
            )
        })
        .collect();
    assert!(
        missed.is_empty(),
        "night fires clearly above the thresholds were missed: {missed:?}"
    );
}

#[test]
fn day_detection_probability_by_area_and_temperature() {
    let runs = table_runs(true);
    let table = probability_table(runs);
    print_table("day", runs, &table);
    assert_monotone("day", &table);
    // Flaming fires (1000–1200 K) of 30 m² and more are detected by day.
    for &area in AREAS_M2.iter().filter(|&&a| a >= 30.0) {
        for temp in [1000.0, 1200.0] {
            let p = rate(&table, area, temp);
            assert!(
                p >= 0.9,
                "day {temp} K {area} m²: {p:.2}{}",
                misses(runs, area, temp)
            );
        }
    }
    // Reflected sunlight and warmer ground hide what night shows: small fires are found less often by day.
    let night = probability_table(table_runs(false));
    assert!(
        rate(&table, 7.0, 1000.0) <= rate(&night, 7.0, 1000.0),
        "day should not beat night at 7 m²"
    );
}

/// False alarms on fire-free pixels by land class, per million pixels of the class.
fn false_alarms(run: &Run, exclude_near_fires: bool) -> BTreeMap<LandClass, (usize, usize)> {
    let planted: Vec<(usize, usize)> = run.scene.truth.iter().map(|t| (t.row, t.col)).collect();
    let mut by_class: BTreeMap<LandClass, (usize, usize)> = BTreeMap::new();
    for ((r, c), &class) in run.scene.classes.indexed_iter() {
        if exclude_near_fires
            && planted
                .iter()
                .any(|&(fr, fc)| fr.abs_diff(r) <= 1 && fc.abs_diff(c) <= 1)
        {
            continue;
        }
        let e = by_class.entry(class).or_insert((0, 0));
        e.1 += 1;
        if MaskClass::from_u8(run.detection.mask.view()[[r, c]]).is_fire() {
            e.0 += 1;
        }
    }
    by_class
}

fn fire_free_spec(day: bool, seed: u64) -> SynthSpec {
    let mut spec = if day {
        SynthSpec::day(TILE_PX, TILE_PX, seed)
    } else {
        SynthSpec::night(TILE_PX, TILE_PX, seed)
    };
    spec.cloud_cover = 0.25;
    // 600 km off nadir: bow-tie fill rows, and a view geometry for the glint test.
    spec.nadir_offset_km = 600.0;
    spec.glint_bands = true;
    spec
}

#[test]
fn no_false_alarms_on_fire_free_scenes() {
    let mut total_pixels = 0;
    let mut report = String::new();
    let mut alarms = Vec::new();
    for day in [false, true] {
        let runs: Vec<Run> = (0..TILES)
            .map(|k| Run::new(&fire_free_spec(day, 77 + k)))
            .collect();
        let mut counts: BTreeMap<LandClass, (usize, usize)> = BTreeMap::new();
        for run in &runs {
            assert!(run.scene.truth.is_empty());
            for (class, (fa, n)) in false_alarms(run, false) {
                let e = counts.entry(class).or_default();
                e.0 += fa;
                e.1 += n;
            }
        }
        // The scene must hold every false-alarm source, or the test proves nothing.
        for class in [
            LandClass::Cloud,
            LandClass::CloudEdge,
            LandClass::Water,
            LandClass::BrightSoil,
            LandClass::FactoryRoof,
            LandClass::Village,
            LandClass::Fill,
        ] {
            let n = counts.get(&class).map_or(0, |c| c.1);
            assert!(n >= 100, "day {day}: only {n} {class:?} pixels");
        }
        if day {
            let hottest_roof = runs
                .iter()
                .flat_map(|run| {
                    run.scene
                        .classes
                        .indexed_iter()
                        .filter(|(_, &c)| c == LandClass::FactoryRoof)
                        .map(|(p, _)| run.scene.bands.i4[p])
                })
                .fold(0.0f32, f32::max);
            assert!(
                hottest_roof > 320.0,
                "roofs should be hot at 3.7 µm by day: {hottest_roof}"
            );
        }
        for (class, (fa, n)) in &counts {
            report += &format!(
                "\n  {} {:<13} {fa:>4} of {n:>6}",
                if day { "day  " } else { "night" },
                class.name()
            );
            if *fa > 0 {
                alarms.extend(
                    runs.iter()
                        .flat_map(|run| run.detection.fires.iter().map(move |f| (run, f)))
                        .filter(|(run, f)| run.scene.classes[[f.row, f.col]] == *class)
                        .map(|(_, f)| {
                            format!(
                                "{} {:?} at ({}, {}): BT4 {:.1} BT5 {:.1} {:?}",
                                if day { "day" } else { "night" },
                                class,
                                f.row,
                                f.col,
                                f.bt4_k,
                                f.bt5_k,
                                f.confidence
                            )
                        }),
                );
            }
            total_pixels += n;
        }
    }
    println!("\nfalse alarms on fire-free scenes (fire pixels of {total_pixels}):{report}");
    assert!(alarms.is_empty(), "false alarms: {alarms:#?}");
}

#[test]
fn false_alarms_around_planted_fires_stay_below_ten_per_million() {
    // The fire-free pixels of the probability-table scenes (more than a pixel from any planted fire).
    let (mut fa, mut n) = (0, 0);
    let mut report = String::new();
    for day in [false, true] {
        for run in table_runs(day) {
            for (class, (a, m)) in false_alarms(run, true) {
                fa += a;
                n += m;
                if a > 0 {
                    report += &format!(
                        " {}:{}:{a}/{m}",
                        if day { "day" } else { "night" },
                        class.name()
                    );
                }
            }
        }
    }
    let per_million = fa as f64 * 1e6 / n as f64;
    println!("\nfalse alarms beside planted fires: {fa} of {n} pixels ({per_million:.1} per million){report}");
    assert!(per_million <= 10.0, "{per_million:.1} per million:{report}");
}

#[test]
fn fixed_threshold_saturated_and_folded_pixels_are_high_confidence() {
    for day in [false, true] {
        let mut spec = if day {
            SynthSpec::day(160, 160, 5)
        } else {
            SynthSpec::night(160, 160, 5)
        };
        spec.cloud_cover = 0.0;
        let sites = cropland_sites(&spec);
        // Night: 100 m² at 1000 K gives BT4 ≈ 345 K (> 320, below saturation).
        // Both: 3000 m² at 1200 K saturates I4 (367 K); folded, BT5 is > 335 K.
        let mut plan = vec![(3000.0, 1200.0, false), (6000.0, 1200.0, true)];
        if !day {
            plan.push((100.0, 1000.0, false));
        }
        for (k, &(area, temp, fold)) in plan.iter().enumerate() {
            let (row, col) = sites[k];
            spec.fires.push(PlantedFire {
                fold,
                ..PlantedFire::new(row, col, area, temp)
            });
        }
        let run = Run::new(&spec);
        let found = run.fire_at();
        let b = &run.scene.bands;
        for t in &run.scene.truth {
            let (bt4, bt5) = (b.i4[[t.row, t.col]], b.i5[[t.row, t.col]]);
            let what = format!(
                "day {day}: {} m² {} K, BT4 {bt4} BT5 {bt5}",
                t.area_m2, t.temp_k
            );
            if t.folded {
                assert_eq!(bt4, 208.0, "{what}");
                assert!(bt5 > 335.0, "{what}");
            } else if t.saturated {
                assert_eq!(bt4, 367.0, "{what}");
            } else {
                assert!(bt4 > 320.0 && bt4 < 367.0, "{what}");
            }
            let f = found
                .get(&(t.row, t.col))
                .unwrap_or_else(|| panic!("not detected: {what}"));
            assert_eq!(f.confidence, Confidence::High, "{what}");
            assert_eq!(
                run.detection.mask.view()[[t.row, t.col]],
                MaskClass::FireHigh as u8,
                "{what}"
            );
        }
    }
}

#[test]
fn frp_is_within_twenty_percent_of_the_truth_for_isolated_fires() {
    use strawfire::physics::{frp_mw, planck_radiance};
    let a = model().frp.coefficient;
    let (mut checked, mut strict, mut strong_n, mut strong_within) = (0, 0, 0, 0);
    let (mut worst_truth, mut worst_method): (f64, f64) = (0.0, 0.0);
    let mut bad = Vec::new();
    for (day, run) in [false, true]
        .into_iter()
        .flat_map(|d| table_runs(d).iter().map(move |r| (d, r)))
    {
        let found = run.fire_at();
        // The MIR method's own range: its coefficient is fitted over 650–1350 K (Wooster 2003).
        // Fires must stand clear of the noise (a 10 K rise) and must not saturate I4.
        for t in run.scene.truth.iter().filter(|t| {
            (650.0..=1350.0).contains(&t.temp_k) && !t.saturated && t.expected_dbt4_k >= 10.0
        }) {
            let Some(f) = found.get(&(t.row, t.col)) else {
                continue;
            };
            // What the MIR method gives with the pixel's true background: the method's own error
            // (a·T⁴ against the Planck function), without the detector's background estimate.
            let l_bg = planck_radiance(3.74, t.background_bt4_k);
            let l_pix = planck_radiance(3.74, t.background_bt4_k + t.expected_dbt4_k);
            let ideal = frp_mw(fire::PIXEL_AREA_M2, a, l_pix, l_bg);
            let err_truth = (f.frp_mw - t.true_frp_mw) / t.true_frp_mw;
            let err_method = (f.frp_mw - ideal) / ideal;
            checked += 1;
            worst_method = worst_method.max(err_method.abs());
            // ±20 % against σA(T⁴ − Tb⁴) where the fire outshines the background's texture (a
            // rise of 20 K against a background known to ≈1 K) and the window around it is
            // homogeneous (≥ 90 % cropland: bright soil, forest or villages in the window shift
            // its mean BT4 by kelvins, and the MIR method with it). The method's own bias at
            // 1000 K is +9 %.
            let cropland = window_fraction(&run.scene, t.row, t.col, LandClass::Cropland);
            let strong = t.expected_dbt4_k >= 20.0;
            let strict_case = strong && cropland >= 0.9;
            if strong {
                strong_n += 1;
                if err_truth.abs() <= 0.2 {
                    strong_within += 1;
                } else {
                    println!(
                        "FRP off by {:+.1} % at ({}, {}) {} m² {} K, {:.0} % cropland in the window",
                        100.0 * err_truth,
                        t.row,
                        t.col,
                        t.area_m2,
                        t.temp_k,
                        100.0 * cropland
                    );
                }
            }
            if strict_case {
                strict += 1;
                worst_truth = worst_truth.max(err_truth.abs());
            }
            // Against the method with the true background, every detected fire: only the
            // detector's background estimate and the sensor noise separate the two.
            let limit_method = 0.1 + 1.5 / t.expected_dbt4_k;
            if (strict_case && err_truth.abs() > 0.2) || err_method.abs() > limit_method {
                bad.push(format!(
                    "{} {} m² {} K (rise {:.1} K): FRP {:.3} MW; true {:.3} MW ({:+.0} %); MIR with true background {:.3} MW ({:+.0} %)",
                    if day { "day" } else { "night" },
                    t.area_m2,
                    t.temp_k,
                    t.expected_dbt4_k,
                    f.frp_mw,
                    t.true_frp_mw,
                    100.0 * err_truth,
                    ideal,
                    100.0 * err_method
                ));
            }
        }
    }
    println!(
        "\nFRP: {checked} isolated unsaturated fires; worst error against the MIR method with the true background {:.1} %; \
         {strong_within} of {strong_n} with a rise of 20 K or more within ±20 % of σA(T⁴ − Tb⁴); \
         {strict} of them in homogeneous windows, worst error {:.1} %",
        100.0 * worst_method,
        100.0 * worst_truth
    );
    assert!(checked >= 150 && strict >= 100, "{checked} {strict}");
    assert!(
        strong_within as f64 >= 0.95 * strong_n as f64,
        "{strong_within} of {strong_n} within ±20 %"
    );
    assert!(bad.is_empty(), "{bad:#?}");
}

/// Fraction of the 11×11 window around (row, col) of class `class`.
fn window_fraction(scene: &SynthScene, row: usize, col: usize, class: LandClass) -> f64 {
    let (rows, cols) = scene.classes.dim();
    let (mut n, mut k) = (0, 0);
    for r in row.saturating_sub(5)..=(row + 5).min(rows - 1) {
        for c in col.saturating_sub(5)..=(col + 5).min(cols - 1) {
            n += 1;
            k += usize::from(scene.classes[[r, c]] == class);
        }
    }
    k as f64 / n as f64
}

/// Equality that treats NaN as equal to NaN (fixed-threshold fires may have no background).
fn same_fires(a: &[FirePixel], b: &[FirePixel]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.row == y.row
                && x.col == y.col
                && x.bt4_k.to_bits() == y.bt4_k.to_bits()
                && x.bt5_k.to_bits() == y.bt5_k.to_bits()
                && x.frp_mw.to_bits() == y.frp_mw.to_bits()
                && x.confidence == y.confidence
                && x.day == y.day
                && x.background_bt4_k.to_bits() == y.background_bt4_k.to_bits()
        })
}

#[test]
fn parallel_detector_equals_the_sequential_reference_on_generated_scenes() {
    for (day, seed) in [(false, 31), (true, 32)] {
        let mut spec = fire_free_spec(day, seed);
        spec.rows = 160;
        spec.cols = 200;
        spec.fires = strawfire::synth::random_fires_for(&spec, 40);
        let scene = generate(&spec).unwrap();
        let input = scene.viirs_input();
        let fast = detect_viirs(&input, model(), &scene.pixel_area()).unwrap();
        let slow = detect_viirs_reference(&input, model(), &scene.pixel_area()).unwrap();
        assert!(
            fast.fires.len() >= 10,
            "day {day}: only {} fires",
            fast.fires.len()
        );
        assert_eq!(fast.mask, slow.mask, "day {day}: masks differ");
        assert_eq!(fast.summary, slow.summary, "day {day}");
        assert!(
            same_fires(&fast.fires, &slow.fires),
            "day {day}: fire pixels differ"
        );
    }
}

/// What leaving the 3×3 core out of the background window costs (`context.core_exclusion`, issue
/// 14 item 5): Schroeder et al. 2014 leave out only the candidate (1), the MODIS heritage the
/// 3×3 core (3). Both settings run on held-out day scenes (seeds the other tests do not use):
/// the probability table's single-pixel fires with fire-free tiles, and the same fires as pairs
/// of burning pixels side by side (a fire front across a pixel edge), where the neighbour's heat
/// enters the paper's window. Printed: detection rate of the planted pixels, detections beside
/// them (their 8 neighbours) and false alarms (fire pixels farther than one pixel from any
/// planted fire).
#[test]
fn the_papers_background_window_against_the_3x3_core() {
    let singles: Vec<SynthScene> = table_specs_from(true, 4100)
        .iter()
        .chain(
            &(0..TILES)
                .map(|k| fire_free_spec(true, 3300 + k))
                .collect::<Vec<_>>(),
        )
        .map(|s| generate(s).unwrap())
        .collect();
    let pairs: Vec<SynthScene> = table_specs_from(true, 4100)
        .into_iter()
        .map(|mut s| {
            let twins: Vec<PlantedFire> = s
                .fires
                .iter()
                .map(|f| PlantedFire::new(f.row, f.col + 1, f.area_m2, f.temp_k))
                .collect();
            s.fires.extend(twins);
            generate(&s).unwrap()
        })
        .collect();
    let mut report = String::new();
    let mut results = BTreeMap::new();
    for (set, scenes) in [("single", &singles), ("pairs", &pairs)] {
        for core in [1usize, 3] {
            let mut m = model().clone();
            m.context.core_exclusion = core;
            let (mut planted, mut found, mut beside, mut false_alarms, mut pixels) =
                (0, 0, 0, 0, 0);
            for scene in scenes {
                let d = detect_viirs(&scene.viirs_input(), &m, &scene.pixel_area()).unwrap();
                let at: HashMap<(usize, usize), &FirePixel> =
                    d.fires.iter().map(|f| ((f.row, f.col), f)).collect();
                planted += scene.truth.len();
                found += scene
                    .truth
                    .iter()
                    .filter(|t| at.contains_key(&(t.row, t.col)))
                    .count();
                pixels += scene.classes.len();
                for f in &d.fires {
                    let near = scene
                        .truth
                        .iter()
                        .map(|t| t.row.abs_diff(f.row).max(t.col.abs_diff(f.col)))
                        .min();
                    match near {
                        Some(0) => {}
                        Some(1) => beside += 1,
                        _ => false_alarms += 1,
                    }
                }
            }
            let rate = found as f64 / planted as f64;
            let per_million = false_alarms as f64 * 1e6 / pixels as f64;
            report += &format!(
                "\n  {set:<6} core_exclusion = {core}: detected {found} of {planted} planted pixels ({:.1} %), \
                 {beside} beside them, {false_alarms} false alarms in {pixels} pixels ({per_million:.1} per million)",
                100.0 * rate
            );
            results.insert((set, core), (rate, false_alarms, per_million, planted));
        }
    }
    println!("\nbackground window on held-out day scenes:{report}");
    for set in ["single", "pairs"] {
        let (paper_rate, paper_fa, paper_pm, n) = results[&(set, 1)];
        let (core_rate, core_fa, _, _) = results[&(set, 3)];
        // Single fires: the paper's window finds them as well as the 3×3 core (within two
        // pixels) and adds no false alarms. Pairs: what it costs is bounded (within 2 % of the
        // pixels), and it adds no false alarms.
        let slack = if set == "single" {
            2.0
        } else {
            0.02 * n as f64
        };
        assert!(
            paper_rate + slack / n as f64 >= core_rate,
            "{set}: {report}"
        );
        assert!(paper_fa <= core_fa, "{set}: {report}");
        assert!(paper_pm <= 10.0, "{set}: {report}");
    }
}
