//! FY-3D MERSI-II L1 as published: a swath granule written as the `1000M` + `GEO1K` HDF5 pair by
//! `product::write::mersi`, read back by `product::open` with the MODIS fire model's band names;
//! values equal within the product's quantisation; bad input answered by the named error.

use std::collections::BTreeMap;
use std::process::Command;

use chrono::{DateTime, Utc};
use strawfire::product::mersi_l1::{self, radiance_from_bt, CHANNELS};
use strawfire::product::write::mersi::{
    self as mersi_write, CENTRES_UM, SLOPES_1KM, SLOPES_250, TBB_A, TBB_B,
};
use strawfire::product::{self, Geometry, Granule, ProductError, ProductKind, Swath};
use strawfire::raster::{BandBuf, SceneMeta};

const ROWS: usize = 40;
const COLS: usize = 63;

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn buf(f: impl Fn(usize, usize) -> f32) -> BandBuf {
    let mut b = BandBuf::zeros((ROWS, COLS)).unwrap();
    for r in 0..ROWS {
        for c in 0..COLS {
            b.view_mut()[[r, c]] = f(r, c);
        }
    }
    b
}

/// A small swath granule with every band: smooth geolocation and angles (so the 5-km tie points
/// interpolate back closely), a fire pixel, a saturated band-22 pixel, fill, water.
fn granule(satellite: &str, day: bool, start: &str) -> Granule {
    let mut bands = BTreeMap::new();
    let sza0 = if day { 35.0 } else { 120.0 };
    bands.insert(
        "SZA".into(),
        buf(|r, c| sza0 + 0.1 * r as f32 + 0.05 * c as f32),
    );
    bands.insert("VZA".into(), buf(|_, c| 5.0 + 0.8 * c as f32));
    bands.insert("SAA".into(), buf(|r, _| 150.0 + 0.2 * r as f32));
    bands.insert("VAA".into(), buf(|_, c| if c < 31 { -100.0 } else { 80.0 }));
    let refl = |base: f32| {
        move |r: usize, c: usize| {
            if r == 5 && c < 4 {
                f32::NAN
            } else {
                base + 0.002 * ((r * 7 + c * 3) % 100) as f32
            }
        }
    };
    bands.insert("B1".into(), buf(refl(0.05)));
    bands.insert("B2".into(), buf(refl(0.2)));
    bands.insert("B7".into(), buf(refl(0.1)));
    let bt = |base: f32| move |r: usize, c: usize| base + 0.3 * ((r * 5 + c) % 30) as f32;
    let fire = |r: usize, c: usize| (r, c) == (12, 20);
    bands.insert(
        "B21".into(),
        buf(move |r, c| if fire(r, c) { 420.0 } else { bt(295.0)(r, c) }),
    );
    bands.insert(
        "B22".into(),
        buf(move |r, c| match (r, c) {
            (12, 20) => 360.0, // above band 22's 331 K: saturated
            (13, 20) => 325.0,
            (30, _) if c < 3 => f32::NAN,
            _ => bt(294.0)(r, c),
        }),
    );
    bands.insert("B31".into(), buf(bt(290.0)));
    bands.insert("B32".into(), buf(bt(288.0)));
    let lat = buf(|r, c| 36.0 - 0.009 * r as f32 + 0.001 * c as f32);
    let lon = buf(|r, c| 115.0 + 0.011 * c as f32 + 0.002 * r as f32);
    let mut water = BandBuf::<u8>::zeros((ROWS, COLS)).unwrap();
    for r in 20..25 {
        for c in 40..50 {
            water.view_mut()[[r, c]] = 1;
        }
    }
    Granule {
        kind: ProductKind::Synthetic,
        files: vec![],
        meta: SceneMeta {
            acq_time: Some(time(start)),
            satellite: Some(satellite.into()),
            sensor: Some("MERSI".into()),
        },
        shape: (ROWS, COLS),
        bands,
        geometry: Geometry::Swath(Swath {
            lat,
            lon,
            rows_per_scan: 10,
        }),
        water: Some(water),
        saturation: BTreeMap::new(),
    }
}

/// One whole count of an emissive channel at `bt`, in kelvin.
fn bt_step(canonical: &str, bt: f32) -> f32 {
    let ch = CHANNELS.iter().find(|c| c.canonical == canonical).unwrap();
    let ir = ch.channel - 20;
    let slope = if ch.channel <= 23 {
        SLOPES_1KM[ir]
    } else {
        SLOPES_250[ch.channel - 24]
    } as f64;
    let nu = 1e4 / CENTRES_UM[ch.channel - 1] as f64;
    let (a, b) = (TBB_A[ir] as f64, TBB_B[ir] as f64);
    let r = radiance_from_bt(bt as f64, nu, a, b);
    (mersi_l1::bt_from_radiance(r + slope, nu, a, b) - bt).abs() + 1e-3
}

fn check(src: &Granule, got: &Granule) {
    assert_eq!(got.shape, src.shape);
    for band in ["B21", "B22", "B31", "B32"] {
        let sat = got.saturation[band];
        for (i, (&x, &y)) in src.bands[band]
            .as_slice()
            .iter()
            .zip(got.bands[band].as_slice())
            .enumerate()
        {
            if x.is_nan() {
                assert!(y.is_nan(), "{band} {i}: {y}");
            } else if x > sat {
                assert_eq!(y, sat, "{band} {i}: saturated");
            } else {
                assert!((x - y).abs() <= bt_step(band, x), "{band} {i}: {x} vs {y}");
            }
        }
    }
    let sza = src.bands["SZA"].as_slice();
    for band in ["B1", "B2", "B7"] {
        for (i, (&x, &y)) in src.bands[band]
            .as_slice()
            .iter()
            .zip(got.bands[band].as_slice())
            .enumerate()
        {
            if x.is_nan() {
                assert!(y.is_nan(), "{band} {i}");
            } else {
                let c = if sza[i] < 90.0 {
                    sza[i].to_radians().cos()
                } else {
                    1.0
                };
                assert!((x - y).abs() <= 3e-4 / c + 1e-4, "{band} {i}: {x} vs {y}");
            }
        }
    }
    for band in ["SZA", "VZA", "SAA", "VAA"] {
        for (&x, &y) in src.bands[band]
            .as_slice()
            .iter()
            .zip(got.bands[band].as_slice())
        {
            assert!((x - y).abs() <= 0.006, "{band}: {x} vs {y}");
        }
    }
    let (Geometry::Swath(a), Geometry::Swath(b)) = (&src.geometry, &got.geometry) else {
        panic!("swaths");
    };
    assert_eq!(a.lat.as_slice(), b.lat.as_slice());
    assert_eq!(a.lon.as_slice(), b.lon.as_slice());
    assert_eq!(b.rows_per_scan, 10);
    assert_eq!(
        got.water.as_ref().unwrap().as_slice(),
        src.water.as_ref().unwrap().as_slice()
    );
}

#[test]
fn day_and_night_round_trip_within_quantisation() {
    for day in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let src = granule("FY3D", day, "2024-05-02T05:35:00Z");
        let files = mersi_write::write(&src, dir.path()).unwrap();
        assert_eq!(
            files.data.file_name().unwrap().to_str().unwrap(),
            "FY3D_MERSI_GBAL_L1_20240502_0535_1000M_MS.HDF"
        );
        for given in [
            vec![files.data.clone()],
            vec![files.geo.clone()],
            vec![files.geo.clone(), files.data.clone()],
        ] {
            let got = product::open(&given).unwrap();
            assert_eq!(got.kind, ProductKind::MersiL1);
            assert_eq!(got.files, vec![files.data.clone(), files.geo.clone()]);
            assert_eq!(got.meta.satellite.as_deref(), Some("FY3D"));
            assert_eq!(got.meta.sensor.as_deref(), Some("MERSI"));
            assert_eq!(got.meta.acq_time, Some(time("2024-05-02T05:35:00Z")));
            check(&src, &got);
        }
        // Channel 24's counts lie above the file's stated valid_range top (4095), as in real
        // files: read, not masked.
        let got = product::open(std::slice::from_ref(&files.data)).unwrap();
        assert!(got.bands["B31"].as_slice().iter().all(|v| v.is_finite()));
    }
}

#[test]
fn identify_by_name_and_by_contents() {
    let dir = tempfile::tempdir().unwrap();
    let files =
        mersi_write::write(&granule("FY3D", true, "2024-05-02T05:35:00Z"), dir.path()).unwrap();
    let d = product::identify(&files.data).unwrap();
    let g = product::identify(&files.geo).unwrap();
    assert_eq!(
        (d.kind, d.granule.as_str()),
        (ProductKind::MersiL1, "FY3D_20240502_0535")
    );
    assert_eq!(g.granule, d.granule);
    assert_ne!(g.role, d.role);
    let renamed = dir.path().join("pass.hdf");
    std::fs::copy(&files.geo, &renamed).unwrap();
    let r = product::identify(&renamed).unwrap();
    assert_eq!((r.kind, r.role, r.granule), (g.kind, g.role, g.granule));
}

#[test]
fn gdal_reads_the_data_file_as_hdf5() {
    if Command::new("gdalinfo").arg("--version").output().is_err() {
        eprintln!("gdalinfo not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files =
        mersi_write::write(&granule("FY3D", true, "2024-05-02T05:35:00Z"), dir.path()).unwrap();
    let d = files.data.display().to_string();
    let out = Command::new("gdalinfo")
        .arg(format!("HDF5:\"{d}\"://Data/EV_250_Aggr.1KM_Emissive"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("Size is {COLS}, {ROWS}")) && text.contains("Band 2 Block"),
        "{text}"
    );
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let fa = mersi_write::write(&granule("FY3D", true, "2024-05-02T05:35:00Z"), &a).unwrap();
    let fb = mersi_write::write(&granule("FY3D", true, "2024-05-02T05:40:00Z"), &b).unwrap();
    // Mismatched pair.
    let e = mersi_l1::read(&fa.data, &fb.geo).unwrap_err();
    assert!(matches!(e, ProductError::Mismatch { .. }), "{e}");
    assert!(
        e.to_string().contains("05:35") && e.to_string().contains("05:40"),
        "{e}"
    );
    let e = product::open(&[fa.data.clone(), fb.geo.clone()]).unwrap_err();
    assert!(matches!(e, ProductError::Mismatch { .. }), "{e}");
    // Missing partner.
    std::fs::remove_file(&fb.geo).unwrap();
    let e = product::open(std::slice::from_ref(&fb.data)).unwrap_err();
    assert!(matches!(e, ProductError::MissingPartner { .. }), "{e}");
    assert!(e.to_string().contains("GEO1K"), "{e}");
    // Truncated data file: named.
    let bytes = std::fs::read(&fa.data).unwrap();
    std::fs::write(&fa.data, &bytes[..bytes.len() / 2]).unwrap();
    let e = product::open(std::slice::from_ref(&fa.data)).unwrap_err();
    assert!(e.to_string().contains("1000M_MS.HDF"), "{e}");
    // A data file without the emissive dataset: the dataset is named.
    let c = dir.path().join("c");
    std::fs::create_dir_all(&c).unwrap();
    let fc = mersi_write::write(&granule("FY3D", true, "2024-05-02T05:45:00Z"), &c).unwrap();
    {
        let f = hdf5_metno::File::open_rw(&fc.data).unwrap();
        f.unlink("Data/EV_250_Aggr.1KM_Emissive").unwrap();
    }
    let e = product::open(std::slice::from_ref(&fc.data)).unwrap_err();
    assert!(matches!(e, ProductError::Missing { .. }), "{e}");
    assert!(e.to_string().contains("EV_250_Aggr.1KM_Emissive"), "{e}");
}

#[test]
fn fy3e_mersi_ll_round_trips_and_is_scanned_by_its_night_model() {
    use strawfire::scan::{scan_files, ModelChoice};
    for day in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let src = granule("FY3E", day, "2024-05-02T10:35:00Z");
        let files = mersi_write::write(&src, dir.path()).unwrap();
        assert_eq!(
            files.data.file_name().unwrap().to_str().unwrap(),
            "FY3E_MERSI_GRAN_L1_20240502_1035_1000M_V0.HDF"
        );
        assert_eq!(
            files.geo.file_name().unwrap().to_str().unwrap(),
            "FY3E_MERSI_GRAN_L1_20240502_1035_GEO1K_V0.HDF"
        );
        // The data file has MERSI-LL's layout: the low-light band, no reflective datasets.
        let f = hdf5_metno::File::open(&files.data).unwrap();
        assert!(f.dataset("Data/EV_1KM_LL").is_ok());
        assert!(f.dataset(mersi_l1::REFSB_250).is_err());
        assert!(f.dataset(mersi_l1::VIS_CAL).is_err());
        drop(f);
        let got = product::open(std::slice::from_ref(&files.data)).unwrap();
        assert_eq!(got.kind, ProductKind::MersiL1);
        assert_eq!(got.meta.satellite.as_deref(), Some("FY3E"));
        for band in ["B21", "B22", "B31", "B32"] {
            let sat = got.saturation[band];
            for (i, (&x, &y)) in src.bands[band]
                .as_slice()
                .iter()
                .zip(got.bands[band].as_slice())
                .enumerate()
            {
                if x.is_nan() {
                    assert!(y.is_nan(), "{band} {i}: {y}");
                } else if x > sat {
                    assert_eq!(y, sat, "{band} {i}");
                } else {
                    // Channels 2/3/6/7 carry MERSI-II 20/21/24/25's slopes, centres and
                    // corrections in the writer, so the same count step applies.
                    assert!((x - y).abs() <= bt_step(band, x), "{band} {i}: {x} vs {y}");
                }
            }
        }
        for band in ["B1", "B2", "B7"] {
            assert!(
                got.bands[band].as_slice().iter().all(|v| v.is_nan()),
                "{band}"
            );
        }
        // Scanned by the MERSI-LL model: the 420 K pixel is a fire, by the night tests even
        // under a daytime sun (the model has no reflective bands to run the day tests with).
        let r = scan_files(
            &[files.data.clone(), files.geo.clone()],
            ModelChoice::FromScene,
            &|_| {},
        )
        .unwrap();
        assert_eq!(r.model_name, "fy3e-mersi-ll");
        let h = r
            .hotspots
            .iter()
            .find(|h| (h.row, h.col) == (Some(12), Some(20)))
            .unwrap_or_else(|| panic!("day {day}: {:?}", r.hotspots));
        assert_eq!(
            (h.satellite.as_str(), h.instrument.as_str()),
            ("FY3E", "MERSI")
        );
        assert_eq!(h.daynight, strawfire::hotspot::DayNight::Night);
    }
}
