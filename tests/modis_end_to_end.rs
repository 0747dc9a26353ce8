//! The MODIS family end to end through the published files: a synthetic 1 km granule with planted
//! fires (`synth::modis`, the Planck physics) written as MOD021KM + MOD03 (HDF4-EOS), as a lone
//! MOD021KM, and as an FY-3D MERSI-II 1000M + GEO1K pair (HDF5), each opened with
//! `product::open` and given to the MODIS C6.1 detector: the fires found from the files are the
//! fires found on the granule in memory, and the planted fires are among them.

use std::collections::BTreeSet;

use strawfire::detect::modis::{detect_modis, ModisInput};
use strawfire::model::modis::ModisModel;
use strawfire::product::write::{mersi as mersi_write, modis as modis_write};
use strawfire::product::{self, Granule};
use strawfire::synth::modis::{generate_modis, ModisSpec};
use strawfire::synth::PlantedFire;

fn fires_of(g: &Granule, area: &strawfire::detect::PixelArea) -> BTreeSet<(usize, usize)> {
    let input = ModisInput::from_bands(
        |name| g.band(name),
        g.water.as_ref().map(|w| w.view()),
        g.saturation.get("B22").copied(),
    )
    .unwrap();
    detect_modis(&input, &ModisModel::builtin(), area)
        .unwrap()
        .fires
        .iter()
        .map(|f| (f.row, f.col))
        .collect()
}

#[test]
fn planted_fires_are_found_from_the_files_as_in_memory() {
    for day in [true, false] {
        let (rows, cols) = (60, 300);
        let mut spec = if day {
            ModisSpec::day(rows, cols, 11)
        } else {
            ModisSpec::night(rows, cols, 11)
        };
        spec.cloud_cover = 0.0;
        let planted: Vec<(usize, usize)> = (0..4)
            .flat_map(|i| (0..8).map(move |j| (8 + i * 14, 15 + j * 36)))
            .collect();
        for &(r, c) in &planted {
            spec.fires.push(PlantedFire::new(r, c, 3000.0, 1000.0));
        }
        let synth = generate_modis(&spec).unwrap();
        let area = synth.pixel_area();
        let in_memory = fires_of(&synth.granule, &area);
        let found: Vec<_> = planted.iter().filter(|p| in_memory.contains(p)).collect();
        assert!(
            found.len() * 2 >= planted.len(),
            "day {day}: only {} of {} planted fires found in memory",
            found.len(),
            planted.len()
        );

        let dir = tempfile::tempdir().unwrap();
        let files = modis_write::write(&synth.granule, dir.path(), &Default::default()).unwrap();
        let g = product::open(std::slice::from_ref(&files.data)).unwrap();
        assert_eq!(g.files.len(), 2, "MOD03 found beside it");
        assert_eq!(
            fires_of(&g, &area),
            in_memory,
            "day {day}: MOD021KM + MOD03"
        );

        // Without MOD03: 5-km geolocation and no water mask; the fires on land stay.
        std::fs::remove_file(files.geo.unwrap()).unwrap();
        let alone = product::open(std::slice::from_ref(&files.data)).unwrap();
        assert!(alone.water.is_none());
        let without = fires_of(&alone, &area);
        for p in &found {
            assert!(
                without.contains(p),
                "day {day}: planted {p:?} lost without MOD03"
            );
        }

        // FY-3D MERSI-II: the same temperatures through MERSI's channels and calibration.
        let mut fy = synth.granule.clone();
        fy.meta.satellite = Some("FY3D".into());
        let mdir = tempfile::tempdir().unwrap();
        let mf = mersi_write::write(&fy, mdir.path()).unwrap();
        let m = product::open(std::slice::from_ref(&mf.geo)).unwrap();
        let from_mersi = fires_of(&m, &area);
        for p in &found {
            assert!(
                from_mersi.contains(p),
                "day {day}: planted {p:?} lost through MERSI files"
            );
        }
    }
}
