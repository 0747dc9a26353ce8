//! MODIS 1-km L1B as published: a swath granule written as `M?D021KM` + `M?D03` (HDF4-EOS) by
//! `product::write::modis`, read back by `product::open`; values equal within the product's
//! quantisation; every variant (with and without MOD03, Terra and Aqua, day and night) and every
//! bad input answered by the named error; the files are HDF-EOS swaths to GDAL too.

use std::collections::BTreeMap;

use std::process::Command;

use chrono::{DateTime, Utc};
use strawfire::physics;
use strawfire::product::modis_l1b::{self, BANDS};
use strawfire::product::write::modis::{self as modis_write, emissive_scale_offset, ModisOptions};
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
            sensor: Some("MODIS".into()),
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

fn latlon(g: &Granule) -> (&BandBuf, &BandBuf) {
    match &g.geometry {
        Geometry::Swath(s) => (&s.lat, &s.lon),
        _ => panic!("not a swath"),
    }
}

/// One whole count of an emissive band at `bt`, in kelvin: the quantisation bound.
fn bt_step(band: &str, bt: f32) -> f32 {
    let spec = BANDS.iter().find(|b| b.canonical == band).unwrap();
    let wl = spec.wavelength_um.unwrap();
    let (scale, _) = emissive_scale_offset(spec.band);
    let l = physics::planck_radiance(wl, bt as f64);
    (physics::brightness_temperature(wl, l + scale as f64) - bt as f64).abs() as f32 + 1e-3
}

fn check_values(src: &Granule, got: &Granule, with_geo: bool) {
    assert_eq!(got.shape, src.shape);
    let day = src.bands["SZA"].as_slice()[0] < 90.0;
    for band in ["B21", "B22", "B31", "B32"] {
        let (a, b) = (src.bands[band].as_slice(), got.bands[band].as_slice());
        let sat = got.saturation[band];
        for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
            if x.is_nan() {
                assert!(y.is_nan(), "{band} {i}: {y}");
            } else if x > sat {
                assert_eq!(y, sat, "{band} {i}: saturated");
            } else {
                assert!((x - y).abs() <= bt_step(band, x), "{band} {i}: {x} vs {y}");
            }
        }
    }
    assert!(
        (got.saturation["B22"] - 331.0).abs() < 0.05,
        "{:?}",
        got.saturation
    );
    assert!((got.saturation["B21"] - 500.0).abs() < 0.05);
    for band in ["B1", "B2", "B7"] {
        let (a, b) = (src.bands[band].as_slice(), got.bands[band].as_slice());
        let sza = src.bands["SZA"].as_slice();
        for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
            if x.is_nan() {
                assert!(y.is_nan(), "{band} {i}");
            } else {
                // Quantised as ρ·cos θ₀, divided by the (quantised, or interpolated) θ₀.
                let tol = if day {
                    2e-3 / sza[i].to_radians().cos()
                } else {
                    1e-4
                };
                assert!((x - y).abs() <= tol, "{band} {i}: {x} vs {y}");
            }
        }
    }
    let (la, lo) = latlon(src);
    let (gla, glo) = latlon(got);
    // MOD03: float32 as written; 5-km ties interpolated: close on a smooth swath.
    let tol = if with_geo { 0.0 } else { 2e-3 };
    for (a, b) in [(la, gla), (lo, glo)] {
        for (&x, &y) in a.as_slice().iter().zip(b.as_slice()) {
            assert!((x - y).abs() <= tol, "{x} vs {y}");
        }
    }
    let atol = if with_geo { 0.006 } else { 0.05 };
    for band in ["SZA", "VZA", "SAA"] {
        for (&x, &y) in src.bands[band]
            .as_slice()
            .iter()
            .zip(got.bands[band].as_slice())
        {
            assert!((x - y).abs() <= atol, "{band}: {x} vs {y}");
        }
    }
    if with_geo {
        // The sensor azimuth jumps across the swath's centre: exact at 1 km from MOD03.
        for (&x, &y) in src.bands["VAA"]
            .as_slice()
            .iter()
            .zip(got.bands["VAA"].as_slice())
        {
            assert!((x - y).abs() <= atol, "VAA: {x} vs {y}");
        }
        assert_eq!(
            got.water.as_ref().unwrap().as_slice(),
            src.water.as_ref().unwrap().as_slice()
        );
    } else {
        assert!(got.water.is_none(), "no MOD03: no water mask");
    }
}

#[test]
fn every_variant_round_trips_within_quantisation() {
    let dir = tempfile::tempdir().unwrap();
    for (sat, platform_prefix) in [("T", "MOD"), ("A", "MYD")] {
        for day in [true, false] {
            for with_geo in [true, false] {
                let sub = dir.path().join(format!("{sat}-{day}-{with_geo}"));
                std::fs::create_dir(&sub).unwrap();
                let src = granule(sat, day, "2024-05-02T05:35:00Z");
                let opts = ModisOptions {
                    geolocation: with_geo,
                    ..Default::default()
                };
                let files = modis_write::write(&src, &sub, &opts).unwrap();
                let name = files.data.file_name().unwrap().to_str().unwrap();
                assert!(name.starts_with(&format!("{platform_prefix}021KM.A2024123.0535.061.")));
                assert_eq!(files.geo.is_some(), with_geo);
                // Given by the data file alone: the MOD03 beside it is found.
                let got = product::open(std::slice::from_ref(&files.data)).unwrap();
                assert_eq!(got.kind, ProductKind::ModisL1b);
                assert_eq!(got.meta.satellite.as_deref(), Some(sat));
                assert_eq!(got.meta.sensor.as_deref(), Some("MODIS"));
                assert_eq!(got.meta.acq_time, Some(time("2024-05-02T05:35:00Z")));
                match &got.geometry {
                    Geometry::Swath(s) => assert_eq!(s.rows_per_scan, 10),
                    _ => panic!("a swath"),
                }
                check_values(&src, &got, with_geo);
                if let Some(geo) = &files.geo {
                    // The pair in either order, or the MOD03 alone.
                    for paths in [vec![geo.clone(), files.data.clone()], vec![geo.clone()]] {
                        let again = product::open(&paths).unwrap();
                        assert_eq!(again.files, vec![files.data.clone(), geo.clone()]);
                        assert_eq!(again.bands["B31"].as_slice(), got.bands["B31"].as_slice());
                    }
                }
            }
        }
    }
}

#[test]
fn identify_names_roles_and_granule_keys() {
    let dir = tempfile::tempdir().unwrap();
    let files = modis_write::write(
        &granule("T", true, "2024-05-02T05:35:00Z"),
        dir.path(),
        &ModisOptions::default(),
    )
    .unwrap();
    let d = product::identify(&files.data).unwrap();
    let g = product::identify(files.geo.as_ref().unwrap()).unwrap();
    assert_eq!(d.kind, ProductKind::ModisL1b);
    assert_eq!(d.granule, "MOD.A2024123.0535");
    assert_eq!(d.granule, g.granule);
    assert_ne!(d.role, g.role);
    // Renamed: the file's own metadata says what it is.
    let renamed = dir.path().join("granule.hdf");
    std::fs::copy(&files.data, &renamed).unwrap();
    let r = product::identify(&renamed).unwrap();
    assert_eq!((r.kind, r.role, r.granule), (d.kind, d.role, d.granule));
}

#[test]
fn gdal_sees_hdf_eos_swaths_with_their_geolocation() {
    if Command::new("gdalinfo").arg("--version").output().is_err() {
        eprintln!("gdalinfo not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = modis_write::write(
        &granule("A", true, "2024-05-02T05:35:00Z"),
        dir.path(),
        &ModisOptions::default(),
    )
    .unwrap();
    // GDAL in a child process: HDF4 is not thread-safe and GDAL's lock is not ours.
    let info = |arg: &str| {
        let out = Command::new("gdalinfo").arg(arg).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let d = files.data.display().to_string();
    let top = info(&d);
    for field in [
        "EV_1KM_Emissive",
        "EV_250_Aggr1km_RefSB",
        "EV_500_Aggr1km_RefSB",
        "SolarZenith",
    ] {
        assert!(
            top.contains(&format!(
                "HDF4_EOS:EOS_SWATH:\"{d}\":MODIS_SWATH_Type_L1B:{field}"
            )),
            "{field} not an HDF-EOS swath field:\n{top}"
        );
    }
    let em = info(&format!(
        "HDF4_EOS:EOS_SWATH:\"{d}\":MODIS_SWATH_Type_L1B:EV_1KM_Emissive"
    ));
    assert!(em.contains(&format!("Size is {COLS}, {ROWS}")), "{em}");
    assert!(em.contains("Band 16 Block"), "16 emissive bands: {em}");
    assert!(
        em.contains("band_names=20,21,22,23,24,25,27,28,29,30,31,32,33,34,35,36"),
        "{em}"
    );
    // The dimension map gives GDAL the 5-km geolocation (offset 2, step 5).
    assert!(
        em.contains("PIXEL_OFFSET=2") && em.contains("LINE_STEP=5"),
        "{em}"
    );
    let g = files.geo.unwrap().display().to_string();
    let geo = info(&g);
    assert!(
        geo.contains(&format!(
            "HDF4_EOS:EOS_SWATH:\"{g}\":MODIS_Swath_Type_GEO:Land/SeaMask"
        )),
        "{geo}"
    );
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let fa = modis_write::write(
        &granule("T", true, "2024-05-02T05:35:00Z"),
        &a,
        &ModisOptions::default(),
    )
    .unwrap();
    let fb = modis_write::write(
        &granule("T", true, "2024-05-02T05:40:00Z"),
        &b,
        &ModisOptions::default(),
    )
    .unwrap();

    // Mismatched pair: a MOD03 of another granule, renamed to look like the partner.
    let wrong_geo = a.join(
        fa.geo
            .as_ref()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .replace(".hdf", ".x.hdf"),
    );
    std::fs::copy(fb.geo.as_ref().unwrap(), &wrong_geo).unwrap();
    let e = modis_l1b::read(&fa.data, Some(&wrong_geo)).unwrap_err();
    assert!(matches!(e, ProductError::Mismatch { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("05:35") && msg.contains("05:40"), "{msg}");
    // Two granules given together.
    let e = product::open(&[fa.data.clone(), fb.geo.clone().unwrap()]).unwrap_err();
    assert!(matches!(e, ProductError::Mismatch { .. }), "{e}");

    // Truncated file: an open or read error naming it.
    let cut = b.join("MOD021KM.A2024123.0540.061.2024160065000.hdf");
    let bytes = std::fs::read(&fb.data).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    std::fs::remove_file(&fb.data).ok();
    let e = product::open(&[cut.clone(), fb.geo.clone().unwrap()]).unwrap_err();
    assert!(
        e.to_string()
            .contains(cut.file_name().unwrap().to_str().unwrap()),
        "{e}"
    );

    // Missing partner: MOD03 alone in an empty folder.
    let lone = dir.path().join("lone");
    std::fs::create_dir(&lone).unwrap();
    let lone_geo = lone.join(fa.geo.as_ref().unwrap().file_name().unwrap());
    std::fs::copy(fa.geo.as_ref().unwrap(), &lone_geo).unwrap();
    let e = product::open(&[lone_geo]).unwrap_err();
    assert!(matches!(e, ProductError::MissingPartner { .. }), "{e}");
    assert!(e.to_string().contains("MOD021KM.A2024123.0535"), "{e}");

    // Missing band and missing variable: files made with the HDF4 boundary directly.
    use strawfire::product::hdf4::{Attr, SdFile};
    let bad = dir
        .path()
        .join("MOD021KM.A2024123.0535.061.2024160065000.hdf");
    let write_bad = |names: &str, with_250: bool| {
        let f = SdFile::create(&bad).unwrap();
        {
            let s = f
                .create_dataset::<u16>("EV_1KM_Emissive", &[2, 10, 8])
                .unwrap();
            s.set_attr("band_names", &Attr::Text(names.into())).unwrap();
            s.set_attr("radiance_scales", &Attr::F32(vec![1e-3; 2]))
                .unwrap();
            s.set_attr("radiance_offsets", &Attr::F32(vec![0.0; 2]))
                .unwrap();
            s.write(&vec![100u16; 160]).unwrap();
        }
        if with_250 {
            let s = f
                .create_dataset::<u16>("EV_250_Aggr1km_RefSB", &[2, 10, 8])
                .unwrap();
            s.set_attr("band_names", &Attr::Text("1,2".into())).unwrap();
            s.set_attr("reflectance_scales", &Attr::F32(vec![1e-4; 2]))
                .unwrap();
            s.set_attr("reflectance_offsets", &Attr::F32(vec![0.0; 2]))
                .unwrap();
            s.write(&vec![100u16; 160]).unwrap();
        }
        f.close().unwrap();
    };
    write_bad("21,22", false);
    let e = modis_l1b::read(&bad, None).unwrap_err();
    assert!(matches!(e, ProductError::Missing { .. }), "{e}");
    assert!(e.to_string().contains("EV_250_Aggr1km_RefSB"), "{e}");
    // Given alone (no MOD03 beside it), it is still read, and fails on the same SDS.
    let e = product::open(std::slice::from_ref(&bad)).unwrap_err();
    assert!(e.to_string().contains("EV_250_Aggr1km_RefSB"), "{e}");
}

#[test]
fn a_missing_band_in_band_names_is_named() {
    use strawfire::product::hdf4::{Attr, SdFile};
    let dir = tempfile::tempdir().unwrap();
    let bad = dir
        .path()
        .join("MOD021KM.A2024123.0535.061.2024160065000.hdf");
    let f = SdFile::create(&bad).unwrap();
    for (name, names, n) in [
        (
            "EV_1KM_Emissive",
            "20,21,23,24,25,27,28,29,30,31,32,33,34,35,36,99",
            16usize,
        ),
        ("EV_250_Aggr1km_RefSB", "1,2", 2),
        ("EV_500_Aggr1km_RefSB", "3,4,5,6,7", 5),
    ] {
        let s = f.create_dataset::<u16>(name, &[n, 10, 8]).unwrap();
        s.set_attr("band_names", &Attr::Text(names.into())).unwrap();
        let (sc, of) = if name == "EV_1KM_Emissive" {
            ("radiance_scales", "radiance_offsets")
        } else {
            ("reflectance_scales", "reflectance_offsets")
        };
        s.set_attr(sc, &Attr::F32(vec![1e-3; n])).unwrap();
        s.set_attr(of, &Attr::F32(vec![0.0; n])).unwrap();
        s.write(&vec![100u16; n * 80]).unwrap();
    }
    for name in ["Latitude", "Longitude"] {
        let s = f.create_dataset::<f32>(name, &[2, 2]).unwrap();
        s.write(&[36.0f32, 36.0, 36.1, 36.1]).unwrap();
    }
    for name in [
        "SolarZenith",
        "SensorZenith",
        "SolarAzimuth",
        "SensorAzimuth",
    ] {
        let s = f.create_dataset::<i16>(name, &[2, 2]).unwrap();
        s.write(&[3000i16; 4]).unwrap();
    }
    f.close().unwrap();
    let e = modis_l1b::read(&bad, None).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("EV_1KM_Emissive band 22")
            && msg.contains(bad.file_name().unwrap().to_str().unwrap()),
        "{msg}"
    );
}
