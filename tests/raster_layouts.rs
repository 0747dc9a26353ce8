//! The reader gives the same pixels whatever the GeoTIFF's layout: compressed or not (an
//! uncompressed file is read past GDAL's block cache), tiled or in strips, band- or
//! pixel-interleaved, NaN or a number as no-data, floats or scaled integers; through the
//! whole-scene reader and the streamed one (blocks of tiles, kept bands copied into place). And
//! a truncated uncompressed file is a clear error, not a crash.

mod common;

use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::{DriverManager, Metadata};
use ndarray::Array2;
use strawfire::model::SensorModel;
use strawfire::raster::{
    open_scene, read_scene, read_streaming, write_scene, BandPlan, Compression, RasterError,
};

/// Writes `bands` with GDAL as `T`, each value stored as `(v - offset) / scale` and NaN as
/// `nodata`, with creation options `opts`.
fn write_as<T: Copy + gdal::raster::GdalType>(
    path: &std::path::Path,
    bands: &[Array2<f32>],
    opts: &[&str],
    nodata: f64,
    (scale, offset): (f64, f64),
    store: impl Fn(f64) -> T,
) {
    let (rows, cols) = bands[0].dim();
    let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
    let opts = RasterCreationOptions::from_iter(opts.iter().copied());
    let mut ds = driver
        .create_with_band_type_with_options::<T, _>(path, cols, rows, bands.len(), &opts)
        .unwrap();
    ds.set_geo_transform(&common::georef().transform).unwrap();
    ds.set_projection(&common::georef().crs_wkt).unwrap();
    for (i, (name, data)) in common::BAND_NAMES.iter().zip(bands).enumerate() {
        let mut band = ds.rasterband(i + 1).unwrap();
        band.set_description(name).unwrap();
        band.set_no_data_value(Some(nodata)).unwrap();
        band.set_scale(scale).unwrap();
        band.set_offset(offset).unwrap();
        let stored = data
            .iter()
            .map(|&v| {
                store(if v.is_nan() {
                    nodata
                } else {
                    (v as f64 - offset) / scale
                })
            })
            .collect();
        let mut buf = Buffer::new((cols, rows), stored);
        band.write((0, 0), (cols, rows), &mut buf).unwrap();
    }
    ds.close().unwrap();
}

/// Day bands of 300 × 270 pixels (partial tiles and strips at the edges) with a fill corner.
fn bands() -> Vec<Array2<f32>> {
    let mut b = common::base_bands(300, 270, true);
    for band in b.iter_mut().take(5) {
        band.slice_mut(ndarray::s![..7, ..9]).fill(f32::NAN);
    }
    b
}

/// (pixels of I1..I5 and SZA as read, each NaN as None). The streamed reader must give the
/// same pixels as the whole-scene reader: it is checked here too, on every layout.
fn read(path: &std::path::Path) -> Vec<Vec<Option<f32>>> {
    let model = SensorModel::builtin("viirs-i").unwrap();
    let scene = read_scene(path, &model).unwrap();
    let whole: Vec<Array2<f32>> = common::BAND_NAMES
        .iter()
        .map(|n| scene.band(n).unwrap().to_owned())
        .collect();
    let streamed = read_streamed(path, &model);
    for ((name, a), b) in common::BAND_NAMES.iter().zip(&whole).zip(&streamed) {
        let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{}: {name} streamed differs", path.display());
    }
    whole
        .iter()
        .map(|band| band.iter().map(|&v| (!v.is_nan()).then_some(v)).collect())
        .collect()
}

/// The bands through [`read_streaming`]: I4 and I5 kept whole, the others handed over block by
/// block and put back together here at the block's `r0, c0`.
fn read_streamed(path: &std::path::Path, model: &SensorModel) -> Vec<Array2<f32>> {
    let header = open_scene(path).unwrap();
    let (rows, cols) = header.shape;
    let kept = |name: &str| name == "I4" || name == "I5";
    let plan = BandPlan {
        keep: Box::new(move |name| kept(name)),
        lazy: Box::new(|_| false),
        needed: Box::new(|_| true),
    };
    type Blocks = Vec<(usize, (usize, usize), Array2<f32>)>;
    let (scene, strips) = read_streaming(
        header,
        model,
        &plan,
        |h| vec![Blocks::new(); rows.div_ceil(h)],
        |blocks, block| {
            for (j, name) in common::BAND_NAMES.iter().enumerate() {
                let view = block.band(name).unwrap();
                if !kept(name) {
                    blocks.push((j, (block.r0, block.c0), view.to_owned()));
                }
            }
        },
    )
    .unwrap();
    let mut bands: Vec<Array2<f32>> = common::BAND_NAMES
        .iter()
        .map(|n| match scene.band(n) {
            Some(b) => b.to_owned(),
            None => Array2::from_elem((rows, cols), -1.0),
        })
        .collect();
    for (j, (r0, c0), block) in strips.into_iter().flatten() {
        let (n, w) = block.dim();
        bands[j]
            .slice_mut(ndarray::s![r0..r0 + n, c0..c0 + w])
            .assign(&block);
    }
    bands
}

#[test]
fn every_layout_reads_the_same_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let b = bands();
    let named: Vec<(&str, &Array2<f32>)> =
        common::BAND_NAMES.iter().copied().zip(b.iter()).collect();
    let meta = common::meta();
    let reference = dir.path().join("deflate.tif");
    write_scene(
        &reference,
        &named,
        &common::georef(),
        &meta,
        Compression::Deflate,
    )
    .unwrap();
    let expected = read(&reference);
    assert_eq!(expected[3][0], None, "the fill corner reads as NaN");
    assert_eq!(expected[3][300 * 270 - 1], Some(b[3][[299, 269]]));

    let tiled = dir.path().join("tiled.tif");
    write_scene(&tiled, &named, &common::georef(), &meta, Compression::None).unwrap();
    assert_eq!(read(&tiled), expected, "uncompressed, tiled");

    let no_scale = (1.0, 0.0);
    for (case, opts) in [
        ("strips, pixel-interleaved", vec!["INTERLEAVE=PIXEL"]),
        ("strips, band-interleaved", vec!["INTERLEAVE=BAND"]),
        (
            "tiles, pixel-interleaved",
            vec![
                "TILED=YES",
                "BLOCKXSIZE=64",
                "BLOCKYSIZE=32",
                "INTERLEAVE=PIXEL",
            ],
        ),
    ] {
        let path = dir
            .path()
            .join(format!("{}.tif", case.replace([',', ' '], "_")));
        write_as(&path, &b, &opts, -9999.0, no_scale, |v| v as f32);
        assert_eq!(read(&path), expected, "{case}, no-data -9999");
    }

    // Scaled integers: the values come back as stored × scale + offset, fill as NaN.
    let path = dir.path().join("scaled.tif");
    let (scale, offset) = (0.01, -100.0);
    write_as(&path, &b, &[], 65535.0, (scale, offset), |v| {
        v.round() as u16
    });
    let got = read(&path);
    for (band, (g, e)) in got.iter().zip(&expected).enumerate() {
        for (i, (g, e)) in g.iter().zip(e).enumerate() {
            match (g, e) {
                (None, None) => {}
                (Some(g), Some(e)) => assert!(
                    (g - e).abs() <= 0.005 + 1e-3,
                    "band {band} pixel {i}: {g} vs {e}"
                ),
                _ => panic!("band {band} pixel {i}: {g:?} vs {e:?}"),
            }
        }
    }
}

#[test]
fn a_truncated_uncompressed_scene_is_an_error_naming_file_and_band() {
    let dir = tempfile::tempdir().unwrap();
    let b = bands();
    let named: Vec<(&str, &Array2<f32>)> =
        common::BAND_NAMES.iter().copied().zip(b.iter()).collect();
    let path = dir.path().join("cut.tif");
    write_scene(
        &path,
        &named,
        &common::georef(),
        &common::meta(),
        Compression::None,
    )
    .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let model = SensorModel::builtin("viirs-i").unwrap();
    match read_scene(&path, &model) {
        Err(e @ RasterError::ReadBand { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("cut.tif"), "{msg}");
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}
