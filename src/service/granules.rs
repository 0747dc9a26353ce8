//! Files of one satellite granule that arrive separately: a NASA L1B pair (`V?P02IMG` +
//! `V?P03IMG`), a MODIS pair (`M?D021KM` + `M?D03`), a MERSI pair (`1000M` + `GEO1K`) or a CSPP SDR set (`SVI01`…`SVI05` + `GITCO`
//! or `GIMGO`). The inbox offers each
//! settled file here; a granule is handed over once complete, or given up after `wait` with the
//! reason (which files are missing). Pure: time comes in as [`Instant`]s, so tests need no
//! sleeping; grouping is by [`crate::product::identify`]'s granule key, from names only.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::product::{mersi_l1, modis_l1b, viirs_l1b, viirs_sdr, FileRole, ProductKind};

/// The granule kind of a MODIS pair (`GranuleKey::kind`).
pub const MODIS_L1B: &str = "MODIS L1B";
/// The granule kind of a MERSI pair.
pub const MERSI_L1: &str = "MERSI L1";

/// The granule a file belongs to: product family and key (`VNP.A2024160.0542`,
/// `npp_d20240608_t0542000_e0543242_b65432`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GranuleKey {
    pub kind: String,
    pub key: String,
}

impl std::fmt::Display for GranuleKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} granule {}", self.kind, self.key)
    }
}

/// The granule and role of a file, from its name alone; `None` for names that are not one
/// file of a multi-file product.
pub fn part_of(path: &Path) -> Option<(GranuleKey, FileRole)> {
    if viirs_l1b::name_role(path).is_none()
        && viirs_sdr::name_parts(path).is_none()
        && modis_l1b::name_parts(path).is_none()
        && mersi_l1::name_parts(path).is_none()
    {
        return None;
    }
    let id = crate::product::identify(path).ok()?;
    let kind = match id.kind {
        ProductKind::ViirsL1b => "VIIRS L1B",
        ProductKind::ViirsSdr => "VIIRS SDR",
        ProductKind::ModisL1b => MODIS_L1B,
        ProductKind::MersiL1 => MERSI_L1,
        _ => return None,
    };
    Some((
        GranuleKey {
            kind: kind.into(),
            key: id.granule,
        },
        id.role,
    ))
}

/// What a granule of `kind` (`GranuleKey::kind`) still lacks, by the product's rules (empty
/// when complete): a pair needs its observation and geolocation files, an SDR set the five
/// I-band files and one geolocation (GITCO or GIMGO).
pub fn missing(kind: &str, roles: &[&FileRole]) -> Vec<String> {
    let has = |r: &FileRole| roles.contains(&r);
    let l1b = roles
        .iter()
        .any(|r| matches!(r, FileRole::L1bData | FileRole::L1bGeolocation));
    let mut out = Vec::new();
    if l1b {
        let (data, geo) = match kind {
            MODIS_L1B => ("M?D021KM", "M?D03"),
            MERSI_L1 => ("FY3?_MERSI_…_1000M", "FY3?_MERSI_…_GEO1K"),
            _ => ("V?P02IMG", "V?P03IMG"),
        };
        if !has(&FileRole::L1bData) {
            out.push(format!("the observation file ({data})"));
        }
        if !has(&FileRole::L1bGeolocation) {
            out.push(format!("the geolocation file ({geo})"));
        }
        return out;
    }
    for b in 1..=5u8 {
        if !has(&FileRole::SdrBand(b)) {
            out.push(format!("SVI0{b}"));
        }
    }
    if !roles
        .iter()
        .any(|r| matches!(r, FileRole::SdrGeolocation { .. }))
    {
        out.push("a geolocation file (GITCO or GIMGO)".to_string());
    }
    out
}

/// What became of a granule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every file is there: scan them together.
    Complete {
        key: GranuleKey,
        files: Vec<PathBuf>,
    },
    /// Still incomplete after the wait: fail these files with `reason`.
    GaveUp {
        key: GranuleKey,
        files: Vec<PathBuf>,
        reason: String,
    },
}

#[derive(Debug)]
struct Pending {
    since: Instant,
    files: BTreeMap<PathBuf, FileRole>,
}

/// Collects the files of granules until each is complete or waited for long enough.
#[derive(Debug)]
pub struct Assembler {
    wait: Duration,
    pending: HashMap<GranuleKey, Pending>,
}

impl Assembler {
    pub fn new(wait: Duration) -> Assembler {
        Assembler {
            wait,
            pending: HashMap::new(),
        }
    }

    /// A settled file of `key` (offering the same file again changes nothing). The wait runs
    /// from the granule's first file.
    pub fn offer(&mut self, key: GranuleKey, role: FileRole, path: PathBuf, now: Instant) {
        self.pending
            .entry(key)
            .or_insert_with(|| Pending {
                since: now,
                files: BTreeMap::new(),
            })
            .files
            .insert(path, role);
    }

    /// Forgets files that are gone from the inbox (moved or deleted by someone else).
    pub fn retain_present(&mut self, present: impl Fn(&Path) -> bool) {
        for p in self.pending.values_mut() {
            p.files.retain(|f, _| present(f));
        }
        self.pending.retain(|_, p| !p.files.is_empty());
    }

    /// The granules decided at `now`: complete ones, and those still incomplete after the wait
    /// (in key order). Decided granules are forgotten.
    pub fn decide(&mut self, now: Instant) -> Vec<Decision> {
        let mut keys: Vec<GranuleKey> = self.pending.keys().cloned().collect();
        keys.sort();
        let mut out = Vec::new();
        for key in keys {
            let p = &self.pending[&key];
            let roles: Vec<&FileRole> = p.files.values().collect();
            let lacks = missing(&key.kind, &roles);
            let waited_out = now.duration_since(p.since) >= self.wait;
            // A MODIS observation file is a granule by itself (its own 5-km geolocation, no
            // water mask): once its MOD03 has had the wait to arrive, it is scanned without.
            let usable_alone = key.kind == MODIS_L1B && roles.contains(&&FileRole::L1bData);
            if lacks.is_empty() || (waited_out && usable_alone) {
                let p = self.pending.remove(&key).expect("present");
                out.push(Decision::Complete {
                    key,
                    files: p.files.into_keys().collect(),
                });
            } else if waited_out {
                let waited = now.duration_since(p.since).as_secs_f64();
                let p = self.pending.remove(&key).expect("present");
                out.push(Decision::GaveUp {
                    reason: format!(
                        "incomplete {key}: no {} arrived within {waited:.0} s ([inbox] partner_wait_s)",
                        lacks.join(", ")
                    ),
                    key,
                    files: p.files.into_keys().collect(),
                });
            }
        }
        out
    }

    /// Files waiting for their partners.
    pub fn waiting(&self) -> usize {
        self.pending.values().map(|p| p.files.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = "VNP02IMG.A2024160.0542.002.2024160123456.nc";
    const GEO: &str = "VNP03IMG.A2024160.0542.002.2024160120000.nc";

    #[test]
    fn names_give_granule_and_role() {
        let (k, r) = part_of(Path::new(DATA)).unwrap();
        assert_eq!(r, FileRole::L1bData);
        let (k2, r2) = part_of(Path::new(GEO)).unwrap();
        assert_eq!((k2, r2), (k, FileRole::L1bGeolocation));
        let (k3, _) = part_of(Path::new("VJ102IMG.A2024160.0542.002.2024160123456.nc")).unwrap();
        assert_ne!(k3.key, part_of(Path::new(DATA)).unwrap().0.key);
        let sdr = "SVI04_npp_d20240608_t0542000_e0543242_b65432_c20240608060000123456_cspp_dev.h5";
        let (k, r) = part_of(Path::new(sdr)).unwrap();
        assert_eq!((k.kind.as_str(), r), ("VIIRS SDR", FileRole::SdrBand(4)));
        assert!(part_of(Path::new("scene.tif")).is_none());
        assert!(part_of(Path::new("VNP14IMG.A2024160.0542.002.nc")).is_none());
    }

    #[test]
    fn a_pair_is_complete_when_both_arrive_and_a_lone_file_gives_up_after_the_wait() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut a = Assembler::new(s(60));
        let (k, r) = part_of(Path::new(DATA)).unwrap();
        a.offer(k.clone(), r, DATA.into(), t0);
        assert!(a.decide(t0 + s(30)).is_empty());
        let (k2, r2) = part_of(Path::new(GEO)).unwrap();
        a.offer(k2, r2, GEO.into(), t0 + s(40));
        assert_eq!(
            a.decide(t0 + s(41)),
            vec![Decision::Complete {
                key: k.clone(),
                files: vec![DATA.into(), GEO.into()]
            }]
        );
        assert_eq!(a.waiting(), 0);
        // A lone geolocation file: held, then given up with what is missing.
        a.offer(k.clone(), FileRole::L1bGeolocation, GEO.into(), t0 + s(100));
        assert!(a.decide(t0 + s(159)).is_empty());
        match &a.decide(t0 + s(160))[..] {
            [Decision::GaveUp { files, reason, .. }] => {
                assert_eq!(files, &vec![PathBuf::from(GEO)]);
                assert!(
                    reason.contains("VIIRS L1B granule VNP.A2024160.0542")
                        && reason.contains("observation file (V?P02IMG)")
                        && reason.contains("within 60 s"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_sdr_set_needs_five_bands_and_a_geolocation() {
        let b = |n| FileRole::SdrBand(n);
        let all = [b(1), b(2), b(3), b(4), b(5)];
        let geo = FileRole::SdrGeolocation {
            terrain_corrected: false,
        };
        assert_eq!(
            missing("VIIRS SDR", &all.iter().collect::<Vec<_>>()),
            vec!["a geolocation file (GITCO or GIMGO)".to_string()]
        );
        let mut with_geo: Vec<&FileRole> = all.iter().collect();
        with_geo.push(&geo);
        assert!(missing("VIIRS SDR", &with_geo).is_empty());
        assert_eq!(
            missing("VIIRS SDR", &[&b(1), &geo]),
            vec!["SVI02", "SVI03", "SVI04", "SVI05"]
        );
    }

    #[test]
    fn a_modis_pair_waits_for_its_mod03_then_scans_the_l1b_alone() {
        const D: &str = "MOD021KM.A2024123.0535.061.2024123123456.hdf";
        const G: &str = "MOD03.A2024123.0535.061.2024123120000.hdf";
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let (k, r) = part_of(Path::new(D)).unwrap();
        assert_eq!(
            (k.kind.as_str(), k.key.as_str()),
            (MODIS_L1B, "MOD.A2024123.0535")
        );
        let (kg, rg) = part_of(Path::new(G)).unwrap();
        assert_eq!((&kg, &rg), (&k, &FileRole::L1bGeolocation));
        // Aqua's granule of the same minute is another granule.
        let aqua = part_of(Path::new("MYD03.A2024123.0535.061.2024123120000.hdf")).unwrap();
        assert_ne!(aqua.0, k);
        let mut a = Assembler::new(s(60));
        a.offer(k.clone(), r.clone(), D.into(), t0);
        assert!(a.decide(t0 + s(59)).is_empty(), "waits for the MOD03");
        assert_eq!(
            a.decide(t0 + s(60)),
            vec![Decision::Complete {
                key: k.clone(),
                files: vec![D.into()]
            }]
        );
        // A lone MOD03 is no granule: given up, naming the observation file.
        a.offer(kg.clone(), rg, G.into(), t0);
        match &a.decide(t0 + s(60))[..] {
            [Decision::GaveUp { reason, .. }] => {
                assert!(reason.contains("M?D021KM"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_mersi_pair_needs_both_files() {
        let d = "FY3D_MERSI_GBAL_L1_20240502_0535_1000M_MS.HDF";
        let g = "FY3D_MERSI_GBAL_L1_20240502_0535_GEO1K_MS.HDF";
        let (k, r) = part_of(Path::new(d)).unwrap();
        let (kg, rg) = part_of(Path::new(g)).unwrap();
        assert_eq!((k.kind.as_str(), &k), (MERSI_L1, &kg));
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut a = Assembler::new(s(60));
        a.offer(k.clone(), r, d.into(), t0);
        match &a.decide(t0 + s(60))[..] {
            [Decision::GaveUp { reason, .. }] => assert!(reason.contains("GEO1K"), "{reason}"),
            other => panic!("{other:?}"),
        }
        a.offer(kg, rg, g.into(), t0);
        a.offer(k.clone(), FileRole::L1bData, d.into(), t0);
        assert!(
            matches!(&a.decide(t0)[..], [Decision::Complete { files, .. }] if files.len() == 2)
        );
    }

    #[test]
    fn files_gone_from_the_inbox_are_forgotten() {
        let t0 = Instant::now();
        let mut a = Assembler::new(Duration::from_secs(60));
        let (k, r) = part_of(Path::new(DATA)).unwrap();
        a.offer(k, r, DATA.into(), t0);
        a.retain_present(|_| false);
        assert_eq!(a.waiting(), 0);
        assert!(a.decide(t0 + Duration::from_secs(600)).is_empty());
    }
}
