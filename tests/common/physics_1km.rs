//! What the physics tests of the 1 km family share (`tests/detect_modis_physics.rs`,
//! `tests/detect_mersi_physics.rs`, each including this file with `#[path]`): the lattice of
//! planted fires, the detection-probability table by fire temperature and area (with the fires
//! away from sun glint apart), the false alarms per million fire-free pixels by land class, their
//! printing and the checks every sensor's table must pass. How a granule reaches the detector
//! (in memory for MODIS, through the product files for MERSI) is the caller's `detect`.

use strawfire::detect::modis::ModisDetection;
use strawfire::synth::modis::{generate_modis, generate_modis_over, ModisSpec, SynthModis};
use strawfire::synth::{LandClass, PlantedFire};

pub const AREAS_M2: [f64; 7] = [10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0, 10000.0];
pub const TEMPS_K: [f64; 4] = [600.0, 800.0, 1000.0, 1200.0];
/// Fires on a lattice this far apart: beyond the largest window's half side (10), so no fire is
/// in another's background.
pub const SPACING: usize = 12;
pub const ROWS: usize = 160;
pub const COLS: usize = 240;

/// The lattice points of `clear`, the fire-free granule of `spec`, that are clear cropland
/// (clouds kept: fires beside clouds are part of real conditions), by day only on harvested
/// fields (band 2 below 0.28): straw burns on stubble, and the algorithm's potential-fire test
/// leaves out every pixel with ρ0.86 ≥ 0.3 (G03 sec. 2.2.3), which the generator's green maize
/// fields reach.
pub fn lattice(spec: &ModisSpec, clear: &SynthModis, day: bool) -> Vec<(usize, usize)> {
    let mut at = Vec::new();
    for r in (SPACING / 2..spec.rows).step_by(SPACING) {
        for c in (SPACING / 2..spec.cols).step_by(SPACING) {
            let stubble = !day || clear.granule.band("B2").unwrap()[[r, c]] < 0.28;
            if clear.classes[[r, c]] == LandClass::Cropland && stubble {
                at.push((r, c));
            }
        }
    }
    at
}

/// The granule of `spec` with a fire of one size and temperature on every point of `at`, made
/// over `clear`, the granule of `spec` (without fires): only the rows with a fire are made
/// again (`generate_modis_over`, the same granule as made whole).
pub fn with_fires(
    spec: &ModisSpec,
    clear: &SynthModis,
    at: &[(usize, usize)],
    area_m2: f64,
    temp_k: f64,
) -> (SynthModis, Vec<PlantedFire>) {
    let mut spec = spec.clone();
    spec.fires = at
        .iter()
        .map(|&(r, c)| PlantedFire::new(r, c, area_m2, temp_k))
        .collect();
    let fires = spec.fires.clone();
    (generate_modis_over(clear, &spec).unwrap(), fires)
}

/// The sun-glint angle at (r, c), degrees.
pub fn glint_deg(g: &SynthModis, r: usize, c: usize) -> f32 {
    let b = |n: &str| g.granule.band(n).unwrap()[[r, c]];
    strawfire::detect::pixel::glint_angle_deg(b("SZA"), b("VZA"), b("SAA"), b("VAA"))
}

/// Fraction of the planted fires found, per fire temperature (rows, [`TEMPS_K`]) and area
/// (columns, [`AREAS_M2`]); the same for the fires at least 15° from the specular point; FRP
/// over the true σA(T⁴ − Tb⁴) of the fires found of ≥ 300 m² at ≥ 800 K.
pub struct Probability {
    pub found: Vec<Vec<f64>>,
    pub away_from_glint: Vec<Vec<f64>>,
    pub frp_ratios: Vec<f64>,
}

/// Runs `detect` on the granule of `spec` with a lattice of one fire size and temperature, for
/// every cell of the table. Fails if a detection lies where no fire was planted (the generator
/// has no point-spread function) or the lattice holds fewer than 50 fires.
pub fn detection_probability(
    spec: &ModisSpec,
    day: bool,
    detect: &dyn Fn(&SynthModis) -> ModisDetection,
) -> Probability {
    assert!(
        spec.fires.is_empty(),
        "the lattice's fires are planted here"
    );
    let clear = generate_modis(spec).unwrap();
    let at = lattice(spec, &clear, day);
    let mut table = Probability {
        found: vec![vec![0.0; AREAS_M2.len()]; TEMPS_K.len()],
        away_from_glint: vec![vec![0.0; AREAS_M2.len()]; TEMPS_K.len()],
        frp_ratios: Vec::new(),
    };
    for (ti, &t) in TEMPS_K.iter().enumerate() {
        for (ai, &a) in AREAS_M2.iter().enumerate() {
            let (g, fires) = with_fires(spec, &clear, &at, a, t);
            let d = detect(&g);
            let found = |f: &PlantedFire| d.fires.iter().any(|x| (x.row, x.col) == (f.row, f.col));
            let hit = fires.iter().filter(|f| found(f)).count();
            assert!(fires.len() >= 50, "{} fires", fires.len());
            table.found[ti][ai] = hit as f64 / fires.len() as f64;
            let away: Vec<&PlantedFire> = fires
                .iter()
                .filter(|f| glint_deg(&g, f.row, f.col) >= 15.0)
                .collect();
            table.away_from_glint[ti][ai] =
                away.iter().filter(|f| found(f)).count() as f64 / away.len().max(1) as f64;
            for x in &d.fires {
                assert!(
                    fires.iter().any(|f| (f.row, f.col) == (x.row, x.col)),
                    "day {day}: a fire at {},{} where none was planted",
                    x.row,
                    x.col
                );
            }
            for (x, tr) in d.fires.iter().filter_map(|x| {
                g.truth
                    .iter()
                    .find(|f| (f.row, f.col) == (x.row, x.col))
                    .map(|f| (x, f))
            }) {
                if tr.area_m2 >= 300.0 && tr.temp_k >= 800.0 {
                    table.frp_ratios.push(x.frp_mw / tr.true_frp_mw);
                }
            }
        }
    }
    table
}

impl Probability {
    fn at(v: &[Vec<f64>], t: f64, a: f64) -> f64 {
        let ti = TEMPS_K.iter().position(|&x| x == t).unwrap();
        let ai = AREAS_M2.iter().position(|&x| x == a).unwrap();
        v[ti][ai]
    }

    /// The fraction found at `t` K and `a` m².
    pub fn p(&self, t: f64, a: f64) -> f64 {
        Self::at(&self.found, t, a)
    }

    /// The fraction found of the fires at least 15° from the specular point.
    pub fn away(&self, t: f64, a: f64) -> f64 {
        Self::at(&self.away_from_glint, t, a)
    }

    /// Prints the table (`--nocapture`).
    pub fn print(&self, title: &str) {
        println!(
            "{title} (rows: fire K; columns: fire m²), {ROWS}×{COLS} granule at nadir ±120 km"
        );
        print!("{:>7}", "K \\ m²");
        for a in AREAS_M2 {
            print!("{a:>7}");
        }
        println!();
        for (ti, t) in TEMPS_K.iter().enumerate() {
            print!("{t:>7}");
            for p in &self.found[ti] {
                print!("{:>7.2}", p);
            }
            print!("   θg ≥ 15°:");
            for p in &self.away_from_glint[ti] {
                print!("{:>6.2}", p);
            }
            println!();
        }
    }

    /// The published behaviour of a 1 km sensor, as the MODIS papers give it (Giglio et al.
    /// 2003, 2016): ≈ 1000 m² routinely (a flaming fire, ≥ 800 K: at least `routine` of the
    /// fires, and 0.98 of those away from glint), 10 m² never, ≈ 100 m² only in very good
    /// conditions (1200 K fires of 300 m² found at least half the time). More area, more
    /// detections; hotter, more detections (sampling slack 0.05). Up to 3000 m² only: by day a
    /// hectare of flame raises ρ2.1 by ≈ 0.2 with its own emission, and the glint test (θg < 10°
    /// with ρ0.65 > 0.1, ρ0.86 > 0.2, ρ2.1 > 0.12) then takes the fires near the specular point,
    /// as it would in MOD14.
    pub fn assert_published_limits(&self, what: &str, routine: f64) {
        for t in [800.0, 1000.0, 1200.0] {
            for a in [1000.0, 3000.0] {
                assert!(
                    self.p(t, a) >= routine,
                    "{what}: {t} K {a} m²: {}",
                    self.p(t, a)
                );
                assert!(
                    self.away(t, a) >= 0.98,
                    "{what}: {t} K {a} m² away from glint: {}",
                    self.away(t, a)
                );
            }
        }
        for t in TEMPS_K {
            assert!(
                self.p(t, 10.0) <= 0.02,
                "{what}: {t} K 10 m²: {}",
                self.p(t, 10.0)
            );
        }
        assert!(self.p(1200.0, 300.0) >= 0.5, "{what}: 1200 K 300 m²");
        for (ti, row) in self.found.iter().enumerate() {
            for ai in 1..AREAS_M2.len() - 1 {
                assert!(row[ai] + 0.05 >= row[ai - 1], "{what}: {ti} area {ai}");
            }
        }
        for pair in self.found.windows(2) {
            for (ai, (hot, cool)) in pair[1].iter().zip(&pair[0]).enumerate() {
                assert!(hot + 0.05 >= *cool, "{what}: temperature, area {ai}");
            }
        }
    }
}

/// The tables of `what` for each (spec, when) of `cases` (day first, then night), printed and
/// checked against [`Probability::assert_published_limits`] with `routine`; then the FRP of the
/// fires found against the truth, whose median must lie within the radiance method's own
/// ± 20 % (0.8–1.25). Returns that median.
pub fn tables_and_frp(
    what: &str,
    cases: &[(ModisSpec, bool, &str)],
    detect: &dyn Fn(&SynthModis) -> ModisDetection,
    routine: f64,
) -> f64 {
    let mut ratios = Vec::new();
    for (spec, day, when) in cases {
        let table = detection_probability(spec, *day, detect);
        table.print(&format!("{what} detection probability, {when}"));
        table.assert_published_limits(&format!("{what} {when}"), routine);
        ratios.extend(table.frp_ratios);
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "{what} FRP / true σA(T⁴−Tb⁴), fires ≥ 300 m² at ≥ 800 K: median {median:.3}, n {}",
        ratios.len()
    );
    assert!((0.8..1.25).contains(&median), "{what}: FRP median {median}");
    median
}

/// The land classes the false-alarm table reports, bright soil and factory roofs among them.
pub const FA_CLASSES: [LandClass; 8] = [
    LandClass::Cropland,
    LandClass::Village,
    LandClass::Forest,
    LandClass::BrightSoil,
    LandClass::FactoryRoof,
    LandClass::Water,
    LandClass::CloudEdge,
    LandClass::Cloud,
];

/// Pixels and detections per land class (indexed by `LandClass as usize`) over fire-free
/// granules.
#[derive(Debug, Default)]
pub struct FalseAlarms {
    pub pixels: [u64; 9],
    pub alarms: [u64; 9],
}

/// Runs `detect` on each fire-free granule of `specs` and counts the detections per class.
pub fn false_alarms(
    specs: impl IntoIterator<Item = ModisSpec>,
    detect: &dyn Fn(&SynthModis) -> ModisDetection,
) -> FalseAlarms {
    let mut out = FalseAlarms::default();
    for spec in specs {
        assert!(spec.fires.is_empty());
        let g = generate_modis(&spec).unwrap();
        let d = detect(&g);
        for c in g.classes.iter() {
            out.pixels[*c as usize] += 1;
        }
        for f in &d.fires {
            out.alarms[g.classes[[f.row, f.col]] as usize] += 1;
        }
    }
    out
}

impl FalseAlarms {
    /// Detections per million fire-free pixels of the whole set.
    pub fn per_million(&self) -> f64 {
        self.alarms.iter().sum::<u64>() as f64 * 1e6 / self.pixels.iter().sum::<u64>() as f64
    }

    /// Prints the table (`--nocapture`).
    pub fn print(&self, title: &str) {
        println!("{title}");
        for c in FA_CLASSES {
            let (n, a) = (self.pixels[c as usize], self.alarms[c as usize]);
            let rate = if n > 0 {
                a as f64 * 1e6 / n as f64
            } else {
                0.0
            };
            println!(
                "  {:<13} {:>8} px {:>4} alarms {:>9.1} per million",
                c.name(),
                n,
                a,
                rate
            );
        }
        println!(
            "  all           {:>8} px {:>4} alarms {:>9.1} per million",
            self.pixels.iter().sum::<u64>(),
            self.alarms.iter().sum::<u64>(),
            self.per_million()
        );
    }

    /// What every 1 km sensor must show: water and cloud never, nothing at all at night, and
    /// the whole scene well under 1 in 10,000 (the published C6 daytime commission is 1.2 % of
    /// the detections, at most a few per million pixels of a granule).
    pub fn assert_bounds(&self, what: &str, day: bool) {
        assert_eq!(self.alarms[LandClass::Water as usize], 0, "{what}: water");
        assert_eq!(self.alarms[LandClass::Cloud as usize], 0, "{what}: cloud");
        if !day {
            assert_eq!(
                self.alarms.iter().sum::<u64>(),
                0,
                "{what}: night false alarms: {:?}",
                self.alarms
            );
        }
        let pm = self.per_million();
        assert!(pm < 100.0, "{what}: {pm} per million");
    }
}
