//! VIIRS products as published: a swath granule written as a NASA L1B pair (and a CSPP SDR set)
//! by the generator in `product::write`, read back by `product::open`; values equal within the
//! products' quantisation; every bad input answered by the named error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use strawfire::product::write::viirs_l1b::{self as l1b_write, L1bOptions};
use strawfire::product::write::viirs_sdr::{self as sdr_write, SdrOptions};
use strawfire::product::{self, Geometry, Granule, ProductError, ProductKind, Swath};
use strawfire::raster::{BandBuf, SceneMeta};

const ROWS: usize = 64;
const COLS: usize = 96;

fn time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-06-08T05:42:00Z")
        .unwrap()
        .to_utc()
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

/// A small swath granule with every band, a few fill pixels, a hot fire pixel, a saturated one,
/// water and day/night geometry.
fn granule(satellite: &str) -> Granule {
    let mut bands = BTreeMap::new();
    let hole = |r: usize, c: usize| r == 3 && c < 5;
    bands.insert(
        "I1".into(),
        buf(|r, c| {
            if hole(r, c) {
                f32::NAN
            } else {
                0.05 + 0.002 * ((r * 7 + c * 3) % 100) as f32
            }
        }),
    );
    bands.insert(
        "I2".into(),
        buf(|r, c| 0.1 + 0.001 * ((r + c) % 300) as f32),
    );
    bands.insert(
        "I3".into(),
        buf(|r, c| 0.2 + 0.0015 * ((r * c) % 200) as f32),
    );
    bands.insert(
        "I4".into(),
        buf(|r, c| match (r, c) {
            (10, 20) => 345.0,
            (11, 21) => 380.0, // above what L1B I04 can encode: saturated
            _ if hole(r, c) => f32::NAN,
            _ => 290.0 + 0.1 * ((r * 13 + c) % 150) as f32,
        }),
    );
    bands.insert(
        "I5".into(),
        buf(|r, c| 280.0 + 0.05 * ((r + 2 * c) % 200) as f32),
    );
    bands.insert(
        "SZA".into(),
        buf(|r, c| 30.0 + 0.5 * r as f32 + 0.1 * c as f32),
    );
    bands.insert("VZA".into(), buf(|_, c| (c as f32 - 48.0).abs() * 0.7));
    bands.insert("SAA".into(), buf(|r, _| -170.0 + 2.0 * r as f32));
    bands.insert("VAA".into(), buf(|_, c| if c < 48 { -100.0 } else { 80.0 }));
    let lat = buf(|r, c| 34.0 + 0.0034 * r as f32 - 0.0001 * c as f32);
    let lon = buf(|r, c| 114.0 + 0.004 * c as f32 + 0.0002 * r as f32);
    let mut water = BandBuf::<u8>::zeros((ROWS, COLS)).unwrap();
    for r in 40..50 {
        for c in 60..80 {
            water.view_mut()[[r, c]] = 1;
        }
    }
    Granule {
        kind: ProductKind::ViirsL1b,
        files: vec![],
        meta: SceneMeta {
            acq_time: Some(time()),
            satellite: Some(satellite.into()),
            sensor: Some("VIIRS".into()),
        },
        shape: (ROWS, COLS),
        bands,
        geometry: Geometry::Swath(Swath {
            lat,
            lon,
            rows_per_scan: 32,
        }),
        water: Some(water),
        saturation: BTreeMap::new(),
    }
}

fn swath(g: &Granule) -> &Swath {
    match &g.geometry {
        Geometry::Swath(s) => s,
        Geometry::Grid(_) => panic!("a swath granule"),
    }
}

/// Asserts two bands equal within `tol`, NaN where the other is NaN; saturated pixels (input
/// above `sat`) read back as `sat`.
fn assert_band(name: &str, want: &BandBuf, got: &BandBuf, tol: f32, sat: Option<f32>) {
    assert_eq!(want.shape(), got.shape(), "{name}");
    for (i, (&w, &g)) in want.as_slice().iter().zip(got.as_slice()).enumerate() {
        let w = match sat {
            Some(s) if w > s => s,
            _ => w,
        };
        if w.is_nan() {
            assert!(g.is_nan(), "{name}[{i}]: want NaN, got {g}");
        } else {
            assert!((w - g).abs() <= tol, "{name}[{i}]: want {w}, got {g}");
        }
    }
}

fn assert_round_trip(want: &Granule, got: &Granule) {
    assert_eq!(got.shape, want.shape);
    assert_eq!(got.meta, want.meta);
    for b in ["I1", "I2", "I3"] {
        assert_band(b, &want.bands[b], &got.bands[b], 1.1e-5, None);
    }
    let sat4 = got.saturation.get("I4").copied();
    for b in ["I4", "I5"] {
        assert_band(
            b,
            &want.bands[b],
            &got.bands[b],
            0.02,
            got.saturation.get(b).copied(),
        );
    }
    for b in ["SZA", "VZA", "SAA", "VAA"] {
        assert_band(b, &want.bands[b], &got.bands[b], 0.0051, None);
    }
    let (ws, gs) = (swath(want), swath(got));
    assert_eq!(ws.lat, gs.lat);
    assert_eq!(ws.lon, gs.lon);
    assert_eq!(gs.rows_per_scan, 32);
    // The fire pixel survives; the saturated one reads as the product's maximum.
    assert!((got.bands["I4"].view()[[10, 20]] - 345.0).abs() < 0.01);
    match sat4 {
        Some(s) if s < 380.0 => assert_eq!(got.bands["I4"].view()[[11, 21]], s),
        _ => assert!((got.bands["I4"].view()[[11, 21]] - 380.0).abs() < 0.01),
    }
}

fn write_l1b(dir: &Path, g: &Granule) -> l1b_write::L1bFiles {
    l1b_write::write(g, dir, &L1bOptions::default()).unwrap()
}

#[test]
fn l1b_pairs_of_the_three_satellites_round_trip() {
    for (sat, prefix) in [("N", "VNP"), ("N20", "VJ1"), ("N21", "VJ2")] {
        let dir = tempfile::tempdir().unwrap();
        let g = granule(sat);
        let files = write_l1b(dir.path(), &g);
        let name = files.data.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(&format!("{prefix}02IMG.A2024160.0542.")),
            "{name}"
        );
        // Given in either order.
        for paths in [
            vec![files.data.clone(), files.geo.clone()],
            vec![files.geo.clone(), files.data.clone()],
        ] {
            let got = product::open(&paths).unwrap();
            assert_eq!(got.kind, ProductKind::ViirsL1b);
            assert_eq!(got.files, vec![files.data.clone(), files.geo.clone()]);
            assert_round_trip(&g, &got);
            assert_eq!(
                got.water, g.water,
                "the land/water mask gives the water pixels"
            );
            let s4 = got.saturation["I4"];
            assert!((355.0..367.0).contains(&s4), "I04 LUT maximum {s4}");
        }
    }
}

/// The parallel chunk reader (the default) gives the library's granule bit for bit, compressed
/// or not (raw chunks are not its layout: it falls back to the library).
#[test]
fn l1b_decoders_agree_bit_for_bit() {
    use strawfire::product::viirs_l1b::{read_with, Decode};
    for deflate in [4, 0] {
        let dir = tempfile::tempdir().unwrap();
        let g = granule("N20");
        let opts = L1bOptions {
            deflate,
            ..L1bOptions::default()
        };
        let files = l1b_write::write(&g, dir.path(), &opts).unwrap();
        // Compressed, the chunk reader takes the layout; raw, it leaves it to the library.
        let taken = strawfire::product::chunks::read_2d::<u16>(
            &files.data,
            "observation_data/I04",
            g.shape,
        )
        .unwrap();
        assert_eq!(taken.is_some(), deflate > 0, "deflate {deflate}");
        let lib = read_with(&files.data, &files.geo, Decode::Library).unwrap();
        let par = read_with(&files.data, &files.geo, Decode::ParallelChunks).unwrap();
        let bits = |b: &BandBuf| b.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            lib.bands.keys().collect::<Vec<_>>(),
            par.bands.keys().collect::<Vec<_>>()
        );
        for (k, v) in &lib.bands {
            assert_eq!(bits(v), bits(&par.bands[k]), "{k}, deflate {deflate}");
        }
        let (a, b) = (swath(&lib), swath(&par));
        assert_eq!(bits(&a.lat), bits(&b.lat));
        assert_eq!(bits(&a.lon), bits(&b.lon));
        assert_eq!(lib.water, par.water);
        assert_eq!(lib.saturation, par.saturation);
        assert_round_trip(&g, &par);
    }
}

#[test]
fn one_file_of_a_pair_finds_its_partner_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let g = granule("N20");
    let files = write_l1b(dir.path(), &g);
    // A pair of another granule beside it must not be taken.
    let mut other = granule("N20");
    other.meta.acq_time = Some(time() + chrono::Duration::minutes(6));
    write_l1b(dir.path(), &other);
    for one in [&files.data, &files.geo] {
        let got = product::open(std::slice::from_ref(one)).unwrap();
        assert_eq!(got.files, vec![files.data.clone(), files.geo.clone()]);
        assert_round_trip(&g, &got);
    }
}

#[test]
fn identify_names_the_role_and_granule_without_reading_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_l1b(dir.path(), &granule("N"));
    let d = product::identify(&files.data).unwrap();
    let g = product::identify(&files.geo).unwrap();
    assert_eq!(d.kind, ProductKind::ViirsL1b);
    assert_eq!(d.role, product::FileRole::L1bData);
    assert_eq!(g.role, product::FileRole::L1bGeolocation);
    assert_eq!(d.granule, g.granule);
    // A renamed file is identified by its attributes.
    let renamed = dir.path().join("granule.nc");
    std::fs::copy(&files.geo, &renamed).unwrap();
    assert_eq!(
        product::identify(&renamed).unwrap().role,
        product::FileRole::L1bGeolocation
    );
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "x").unwrap();
    assert!(matches!(
        product::identify(&text),
        Err(ProductError::Unknown { .. })
    ));
}

#[test]
fn a_missing_partner_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_l1b(dir.path(), &granule("N"));
    std::fs::remove_file(&files.geo).unwrap();
    let err = product::open(std::slice::from_ref(&files.data)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ProductError::MissingPartner { .. }), "{msg}");
    assert!(msg.contains("VNP03IMG.A2024160.0542"), "{msg}");
}

#[test]
fn a_pair_from_two_granules_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_l1b(dir.path(), &granule("N"));
    let sub = dir.path().join("later");
    std::fs::create_dir(&sub).unwrap();
    let mut later = granule("N");
    later.meta.acq_time = Some(time() + chrono::Duration::minutes(6));
    let b = write_l1b(&sub, &later);
    let err = product::open(&[a.data.clone(), b.geo.clone()]).unwrap_err();
    assert!(matches!(err, ProductError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("time_coverage_start"), "{err}");
    // Two satellites with the same time.
    let sub2 = dir.path().join("noaa20");
    std::fs::create_dir(&sub2).unwrap();
    let c = write_l1b(&sub2, &granule("N20"));
    let err = product::open(&[a.data.clone(), c.geo.clone()]).unwrap_err();
    assert!(matches!(err, ProductError::Mismatch { .. }), "{err}");
}

#[test]
fn a_truncated_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_l1b(dir.path(), &granule("N"));
    let bytes = std::fs::read(&files.data).unwrap();
    std::fs::write(&files.data, &bytes[..bytes.len() / 2]).unwrap();
    let err = product::open(&[files.data.clone(), files.geo.clone()]).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ProductError::Open { .. } | ProductError::Read { .. }),
        "{msg}"
    );
    assert!(msg.contains(files.data.to_str().unwrap()), "{msg}");
}

/// Copies a NetCDF file without one variable, through the netcdf crate (the products' layout
/// otherwise kept: groups, dimensions, attributes).
fn copy_without(src: &Path, dst: &Path, drop: &str) {
    let i = netcdf::open(src).unwrap();
    let mut o = netcdf::create(dst).unwrap();
    for d in i.dimensions() {
        o.add_dimension(&d.name(), d.len()).unwrap();
    }
    for a in i.attributes() {
        o.add_attribute(a.name(), a.value().unwrap()).unwrap();
    }
    for g in i.groups().unwrap() {
        let gname = g.name();
        let mut og = o.add_group(&gname).unwrap();
        for v in g.variables() {
            let vname = v.name();
            if format!("{gname}/{vname}") == drop {
                continue;
            }
            let dims: Vec<String> = v.dimensions().iter().map(|d| d.name()).collect();
            let dims: Vec<&str> = dims.iter().map(String::as_str).collect();
            copy_variable(&v, &mut og, &vname, &dims);
        }
    }
}

fn copy_variable(
    v: &netcdf::Variable<'_>,
    og: &mut netcdf::GroupMut<'_>,
    name: &str,
    dims: &[&str],
) {
    fn cp<T: netcdf::NcTypeDescriptor + Copy>(
        v: &netcdf::Variable<'_>,
        og: &mut netcdf::GroupMut<'_>,
        name: &str,
        dims: &[&str],
    ) -> bool {
        if v.vartype() != T::type_descriptor() {
            return false;
        }
        let mut o = og.add_variable::<T>(name, dims).unwrap();
        for a in v.attributes() {
            if a.name() != "_FillValue" {
                o.put_attribute(a.name(), a.value().unwrap()).unwrap();
            }
        }
        let values: Vec<T> = v.get_values(..).unwrap();
        o.put_values(&values, ..).unwrap();
        true
    }
    let done = cp::<u8>(v, og, name, dims)
        || cp::<u16>(v, og, name, dims)
        || cp::<i16>(v, og, name, dims)
        || cp::<f32>(v, og, name, dims)
        || cp::<f64>(v, og, name, dims);
    assert!(done, "a type the test copies");
}

#[test]
fn a_missing_variable_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_l1b(dir.path(), &granule("N"));
    for (file, var) in [
        (
            &files.data,
            "observation_data/I05_brightness_temperature_lut",
        ),
        (&files.data, "observation_data/I02"),
        (&files.geo, "geolocation_data/solar_zenith"),
        (&files.geo, "geolocation_data/latitude"),
    ] {
        let cut = dir.path().join("cut").join(file.file_name().unwrap());
        std::fs::create_dir_all(cut.parent().unwrap()).unwrap();
        copy_without(file, &cut, var);
        let (d, g): (PathBuf, PathBuf) = if file == &files.data {
            (cut.clone(), files.geo.clone())
        } else {
            (files.data.clone(), cut.clone())
        };
        let err = product::open(&[d, g]).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, ProductError::Missing { .. }), "{msg}");
        assert!(
            msg.contains(var) && msg.contains(cut.to_str().unwrap()),
            "{msg}"
        );
        std::fs::remove_file(&cut).unwrap();
    }
}

#[test]
fn shapes_that_disagree_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_l1b(dir.path(), &granule("N"));
    // The same granule written one scan shorter: its geolocation does not cover the data.
    let sub = dir.path().join("short");
    std::fs::create_dir(&sub).unwrap();
    let g = granule("N");
    let mut short = granule("N");
    short.shape = (32, COLS);
    for (name, b) in &g.bands {
        let mut s = BandBuf::zeros((32, COLS)).unwrap();
        s.as_mut_slice().copy_from_slice(&b.as_slice()[..32 * COLS]);
        short.bands.insert(name.clone(), s);
    }
    let cut = |b: &BandBuf| {
        let mut s = BandBuf::zeros((32, COLS)).unwrap();
        s.as_mut_slice().copy_from_slice(&b.as_slice()[..32 * COLS]);
        s
    };
    short.geometry = Geometry::Swath(Swath {
        lat: cut(&swath(&g).lat),
        lon: cut(&swath(&g).lon),
        rows_per_scan: 32,
    });
    short.water = None;
    let b = write_l1b(&sub, &short);
    let err = product::open(&[a.data.clone(), b.geo.clone()]).unwrap_err();
    assert!(matches!(err, ProductError::Shape { .. }), "{err}");
    assert!(
        err.to_string().contains("geolocation_data/latitude"),
        "{err}"
    );
}

fn write_sdr(
    dir: &Path,
    g: &Granule,
    granules: usize,
    terrain_corrected: bool,
) -> sdr_write::SdrFiles {
    let opts = SdrOptions {
        granules,
        terrain_corrected,
        orbit: 65432,
        ..SdrOptions::default()
    };
    sdr_write::write(g, dir, &opts).unwrap()
}

fn all_files(f: &sdr_write::SdrFiles) -> Vec<PathBuf> {
    let mut v = f.bands.to_vec();
    v.push(f.geo.clone());
    v
}

#[test]
fn sdr_sets_round_trip_single_and_aggregated_gitco_and_gimgo() {
    for (granules, tc) in [(1, true), (2, true), (1, false), (2, false)] {
        for sat in ["N", "N20", "N21"] {
            let dir = tempfile::tempdir().unwrap();
            let g = granule(sat);
            let files = write_sdr(dir.path(), &g, granules, tc);
            let geo_name = files.geo.file_name().unwrap().to_str().unwrap();
            assert!(
                geo_name.starts_with(if tc { "GITCO_" } else { "GIMGO_" }),
                "{geo_name}"
            );
            let got = product::open(&all_files(&files)).unwrap();
            assert_eq!(got.kind, ProductKind::ViirsSdr);
            assert_eq!(got.files, all_files(&files));
            assert!(
                got.water.is_none(),
                "SDR geolocation has no land/water mask"
            );
            let mut want = g.clone();
            want.water = None;
            assert_round_trip(&want, &got);
            // Any one file of the set finds the rest beside it.
            for one in all_files(&files) {
                let again = product::open(std::slice::from_ref(&one)).unwrap();
                assert_eq!(again.files, all_files(&files));
            }
        }
    }
}

#[test]
fn sdr_aggregates_apply_each_granules_factors() {
    let dir = tempfile::tempdir().unwrap();
    let g = granule("N");
    let files = write_sdr(dir.path(), &g, 2, true);
    let f = hdf5_metno::File::open(&files.bands[3]).unwrap();
    let fac: Vec<f32> = f
        .dataset("All_Data/VIIRS-I4-SDR_All/BrightnessTemperatureFactors")
        .unwrap()
        .read_raw()
        .unwrap();
    assert_eq!(fac.len(), 4);
    assert_ne!(fac[1], fac[3], "the two granules have their own offsets");
    // Reading the second granule's rows with the first granule's factors would be off by the
    // offsets' difference; the reader is within quantisation everywhere (checked above), so
    // check one pixel of the second granule explicitly.
    let got = product::open(&all_files(&files)).unwrap();
    let want = g.bands["I4"].view()[[40, 7]];
    assert!((got.bands["I4"].view()[[40, 7]] - want).abs() < 0.01);
}

#[test]
fn sdr_missing_band_or_geolocation_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_sdr(dir.path(), &granule("N20"), 1, true);
    std::fs::remove_file(&files.bands[2]).unwrap();
    let err = product::open(std::slice::from_ref(&files.bands[0])).unwrap_err();
    assert!(matches!(err, ProductError::MissingPartner { .. }), "{err}");
    assert!(err.to_string().contains("SVI03"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let files = write_sdr(dir.path(), &granule("N20"), 1, false);
    std::fs::remove_file(&files.geo).unwrap();
    let err = product::open(std::slice::from_ref(&files.bands[4])).unwrap_err();
    assert!(matches!(err, ProductError::MissingPartner { .. }), "{err}");
    assert!(
        err.to_string().contains("GITCO") && err.to_string().contains("GIMGO"),
        "{err}"
    );
}

#[test]
fn sdr_gitco_is_preferred_over_gimgo() {
    let dir = tempfile::tempdir().unwrap();
    let g = granule("N");
    let tc = write_sdr(dir.path(), &g, 1, true);
    let plain = write_sdr(dir.path(), &g, 1, false);
    assert_eq!(tc.bands, plain.bands);
    let got = product::open(std::slice::from_ref(&tc.bands[0])).unwrap();
    assert_eq!(got.files.last(), Some(&tc.geo));
    // Given explicitly, GIMGO is used.
    let mut given = tc.bands.to_vec();
    given.push(plain.geo.clone());
    assert_eq!(
        product::open(&given).unwrap().files.last(),
        Some(&plain.geo)
    );
}

#[test]
fn sdr_files_of_two_granules_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_sdr(dir.path(), &granule("N"), 1, true);
    let mut later = granule("N");
    later.meta.acq_time = Some(time() + chrono::Duration::minutes(2));
    let b = write_sdr(dir.path(), &later, 1, true);
    // By name: files of two sets given together.
    let err = product::open(&[a.bands[0].clone(), b.bands[1].clone()]).unwrap_err();
    assert!(matches!(err, ProductError::Mismatch { .. }), "{err}");
    // By content: another granule's file under this set's name.
    std::fs::copy(&b.bands[3], &a.bands[3]).unwrap();
    let err = product::open(&all_files(&a)).unwrap_err();
    assert!(matches!(err, ProductError::Mismatch { .. }), "{err}");
    assert!(err.to_string().contains("AggregateBeginning"), "{err}");
}

#[test]
fn sdr_truncated_file_and_missing_variable_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_sdr(dir.path(), &granule("N"), 2, true);
    let bytes = std::fs::read(&files.bands[1]).unwrap();
    std::fs::write(&files.bands[1], &bytes[..bytes.len() / 2]).unwrap();
    let err = product::open(&all_files(&files)).unwrap_err();
    assert!(
        matches!(err, ProductError::Open { .. } | ProductError::Read { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("SVI02"), "{err}");

    for (k, var) in [
        (3, "All_Data/VIIRS-I4-SDR_All/BrightnessTemperatureFactors"),
        (0, "All_Data/VIIRS-I1-SDR_All/Reflectance"),
        (5, "All_Data/VIIRS-IMG-GEO-TC_All/SolarZenithAngle"),
        (4, "Data_Products/VIIRS-I5-SDR/VIIRS-I5-SDR_Gran_1"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let files = write_sdr(dir.path(), &granule("N"), 2, true);
        let all = all_files(&files);
        {
            let f = hdf5_metno::File::open_rw(&all[k]).unwrap();
            f.unlink(var).unwrap();
        }
        let err = product::open(&all).unwrap_err();
        assert!(matches!(err, ProductError::Missing { .. }), "{err}");
        assert!(err.to_string().contains(var), "{err}");
    }
}

/// The committed fixtures (tests/fixtures/viirs/) are this file's `granule` written by the
/// generator; `UPDATE_GOLDEN=1 cargo test --test product_viirs` rewrites them after a deliberate
/// change. The test reads them through `product::open` and checks they still decode to what the
/// generator makes today, and that the bow-tie pixels are stored as 65533.
fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/viirs")
        .join(name)
}

fn fixture_bowtie(r: usize, c: usize) -> bool {
    r % 32 == 3 && c < 5
}

fn write_fixtures(dir: &Path, name: &str) -> Vec<PathBuf> {
    match name {
        "l1b_vj1" => {
            let opts = L1bOptions {
                orbit: 34123,
                bowtie_deleted: Some(fixture_bowtie),
                deflate: 9,
                ..L1bOptions::default()
            };
            let f = l1b_write::write(&granule("N20"), dir, &opts).unwrap();
            vec![f.data, f.geo]
        }
        _ => {
            let aggregated = name == "sdr_npp_aggregated_gimgo";
            let opts = SdrOptions {
                orbit: 65432,
                granules: if aggregated { 2 } else { 1 },
                terrain_corrected: !aggregated,
                bowtie_deleted: Some(fixture_bowtie),
                deflate: 9,
                ..SdrOptions::default()
            };
            all_files(&sdr_write::write(&granule("N"), dir, &opts).unwrap())
        }
    }
}

#[test]
fn committed_fixtures_decode_as_the_generator_writes_them() {
    for name in ["l1b_vj1", "sdr_npp_aggregated_gimgo"] {
        let dir = fixture_dir(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            write_fixtures(&dir, name);
        }
        let tmp = tempfile::tempdir().unwrap();
        let fresh = write_fixtures(tmp.path(), name);
        let committed: Vec<PathBuf> = fresh
            .iter()
            .map(|p| dir.join(p.file_name().unwrap()))
            .collect();
        for p in &committed {
            assert!(
                p.is_file(),
                "{} missing (UPDATE_GOLDEN=1 to create)",
                p.display()
            );
        }
        let want = product::open(&fresh).unwrap();
        // Any one committed file finds its set.
        let got = product::open(std::slice::from_ref(&committed[0])).unwrap();
        assert_eq!(got.files, committed);
        assert_eq!(got.meta, want.meta, "{name}");
        assert_eq!(got.bands.len(), want.bands.len());
        for (b, w) in &want.bands {
            let bits = |x: &BandBuf| x.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert!(
                bits(&got.bands[b]) == bits(w),
                "{name} {b}: differs from the generator (UPDATE_GOLDEN=1 to accept)"
            );
        }
        assert_eq!(swath(&got).lat, swath(&want).lat);
        assert_eq!(got.water, want.water);
        assert!(got.bands["I4"].view()[[3, 0]].is_nan(), "bow-tie pixel");
        assert!(
            (got.bands["I4"].view()[[10, 20]] - 345.0).abs() < 0.01,
            "fire pixel"
        );
    }
    // The bow-tie pixels are stored as 65533 (Bowtie_Deleted / onboard pixel trim).
    let l1b = fixture_dir("l1b_vj1");
    let data = std::fs::read_dir(&l1b)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("VJ102IMG")
        })
        .unwrap();
    let f = netcdf::open(&data).unwrap();
    let v = f.variable("observation_data/I04").unwrap();
    let c: u16 = v.get_value([3usize, 0]).unwrap();
    assert_eq!(c, 65533);
}
