//! The 1 km family's product reading (issue 20): a full MODIS granule (2030 × 1354, MOD021KM +
//! MOD03, HDF4-EOS) and a full FY-3D MERSI-II granule (2000 × 2048, 1000M + GEO1K, HDF5), written
//! by `product::write::{modis, mersi}` from `synth::modis`'s June afternoon with 400 planted fires,
//! each measured in the same run against its read floor:
//! - MODIS floor, HDF4 library: the SDS planes a scan needs (bands 1, 2, 7, 21, 22, 31, 32 as
//!   hyperslabs; MOD03 latitude, longitude, four angles, land/sea mask) read serially through the
//!   library, nothing converted;
//! - MODIS floor, GDAL: the same planes through GDAL's HDF4 driver (`HDF4_EOS:EOS_SWATH:` subdatasets,
//!   `RasterBand::read_as`), serially, under `product::hdf4::lock()`;
//! - the MODIS reader (`modis_l1b::read`) with its MOD03, and without (5-km geolocation
//!   interpolated);
//! - the MODIS C6.1 detector on the granule read (for scale: what reading costs beside detecting);
//! - MERSI floor: the HDF5 datasets a scan needs (the planes of channels 3, 4, 7, 20, 21, 24, 25,
//!   GEO1K latitude, longitude, four angles, land/sea mask) read serially through libhdf5;
//! - the MERSI reader (`mersi_l1::read`) and the detector with `models/fy3d-mersi.toml`;
//! - the whole scan of each pair as `strawfire scan` does it (`scan::scan_files`: identify, open,
//!   read, detect, georeference, coverage samples);
//! - with `--python`: the same pair scanned in numpy (`benches/numpy_modis_products.py`: pyhdf or
//!   h5py, calibration over whole arrays, then `benches/numpy_modis.py`'s detection), its read and
//!   detect times, and its fires compared with ours pixel and class; the bench makes its venv
//!   (`target/bench-venv`) and installs numpy, pyhdf and h5py there itself
//!   (`benches/common/venv.rs`), so this runs on a fresh machine.
//!
//! The MERSI granule is the same scene and fires made at MERSI's bands (`ModisSpec::fy3d_day`),
//! 2000 rows stretched across 2048 columns (nearest column): `synth::modis` makes at most 1354
//! columns, and for reading only the sizes matter.
//! Run: `cargo bench --bench modis_read -- [--no-python] [--runs N]` (numpy runs unless
//! `--no-python`; or the dev profile with
//! strawfire at opt-level 3, BENCHMARKS.md). Under `cargo test --all-targets` it is a smoke run
//! on 40-row granules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use gdal::Dataset;
use strawfire::detect::modis::{detect_modis, ModisInput};
use strawfire::model::modis::ModisModel;
use strawfire::product::hdf4::SdFile;
use strawfire::product::write::{mersi as mersi_write, modis as modis_write};
use strawfire::product::{mersi_l1, modis_l1b, Geometry, Granule, Swath};
use strawfire::raster::BandBuf;
use strawfire::scan::{scan_files, swath_pixel_sizes_km, ModelChoice};
use strawfire::synth::modis::{generate_modis, random_modis_fires, ModisSpec, SynthModis};

#[path = "common/venv.rs"]
mod venv;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<(f64, f64, T)> {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f()?);
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(|a, b| a.total_cmp(b));
    Ok((times[0], times[times.len() / 2], last.expect("one run")))
}

/// The MODIS floor through the HDF4 library: needed planes, serial, raw.
fn modis_floor_hdf4(data: &Path, geo: &Path) -> Result<usize> {
    let f = SdFile::open(data)?;
    let mut bytes = 0;
    for (sds, idx) in [
        ("EV_250_Aggr1km_RefSB", [0usize, 1].as_slice()),
        ("EV_500_Aggr1km_RefSB", &[4]),
        ("EV_1KM_Emissive", &[1, 2, 10, 11]),
    ] {
        let s = f.dataset(sds)?;
        let d = s.dims().to_vec();
        for &i in idx {
            let v: Vec<u16> = s.read_slab(&[i, 0, 0], &[1, d[1], d[2]])?;
            bytes += 2 * v.len();
        }
    }
    let g = SdFile::open(geo)?;
    for n in ["Latitude", "Longitude"] {
        bytes += 4 * g.dataset(n)?.read::<f32>()?.len();
    }
    for n in [
        "SolarZenith",
        "SensorZenith",
        "SolarAzimuth",
        "SensorAzimuth",
    ] {
        bytes += 2 * g.dataset(n)?.read::<i16>()?.len();
    }
    bytes += g.dataset("Land/SeaMask")?.read::<u8>()?.len();
    Ok(bytes)
}

/// The MODIS floor through GDAL's HDF4 driver: the same planes, serial, raw.
fn modis_floor_gdal(data: &Path, geo: &Path) -> Result<usize> {
    let _hdf4 = strawfire::product::hdf4::lock();
    let mut bytes = 0;
    let d = data.display();
    let g = geo.display();
    let mut read = |name: String, bands: &[usize], size: usize| -> Result<()> {
        let ds = Dataset::open(&name).with_context(|| name.clone())?;
        for &b in bands {
            let band = ds.rasterband(b)?;
            let n = match size {
                1 => band.read_band_as::<u8>()?.shape().0,
                2 => band.read_band_as::<u16>()?.shape().0,
                _ => band.read_band_as::<f32>()?.shape().0,
            };
            let (w, h) = band.size();
            let _ = n;
            bytes += size * w * h;
        }
        Ok(())
    };
    let l1b = |f: &str| format!("HDF4_EOS:EOS_SWATH:\"{d}\":MODIS_SWATH_Type_L1B:{f}");
    let geo_f = |f: &str| format!("HDF4_EOS:EOS_SWATH:\"{g}\":MODIS_Swath_Type_GEO:{f}");
    read(l1b("EV_250_Aggr1km_RefSB"), &[1, 2], 2)?;
    read(l1b("EV_500_Aggr1km_RefSB"), &[5], 2)?;
    read(l1b("EV_1KM_Emissive"), &[2, 3, 11, 12], 2)?;
    for n in ["Latitude", "Longitude"] {
        read(geo_f(n), &[1], 4)?;
    }
    for n in [
        "SolarZenith",
        "SensorZenith",
        "SolarAzimuth",
        "SensorAzimuth",
    ] {
        read(geo_f(n), &[1], 2)?;
    }
    read(geo_f("Land/SeaMask"), &[1], 1)?;
    Ok(bytes)
}

/// The MERSI floor through libhdf5: needed planes and geolocation, serial, raw.
fn mersi_floor(data: &Path, geo: &Path) -> Result<usize> {
    use ndarray::s;
    let f = hdf5_metno::File::open(data)?;
    let mut bytes = 0;
    for ch in mersi_l1::CHANNELS {
        let ds = f.dataset(ch.dataset)?;
        let a = ds.read_slice_2d::<u16, _>(s![ch.index, .., ..])?;
        bytes += 2 * a.len();
    }
    let g = hdf5_metno::File::open(geo)?;
    for n in ["Geolocation/Latitude", "Geolocation/Longitude"] {
        bytes += 4 * g.dataset(n)?.read_raw::<f32>()?.len();
    }
    for (n, _) in mersi_l1::ANGLES {
        bytes += 2 * g.dataset(n)?.read_raw::<i16>()?.len();
    }
    bytes += g.dataset(mersi_l1::LAND_SEA)?.read_raw::<u8>()?.len();
    Ok(bytes)
}

/// The MERSI granule: `g`'s first `rows` rows stretched to `cols` columns (nearest column).
fn stretched(g: &Granule, rows: usize, cols: usize) -> Result<Granule> {
    let (_, c0) = g.shape;
    let map = |b: &BandBuf| -> Result<BandBuf> {
        let mut out = BandBuf::zeros((rows, cols))?;
        let src = b.as_slice();
        for (r, line) in out.as_mut_slice().chunks_mut(cols).enumerate() {
            for (c, o) in line.iter_mut().enumerate() {
                *o = src[r * c0 + c * c0 / cols];
            }
        }
        Ok(out)
    };
    let Geometry::Swath(s) = &g.geometry else {
        anyhow::bail!("not a swath");
    };
    let bands: BTreeMap<String, BandBuf> = g
        .bands
        .iter()
        .map(|(k, v)| Ok((k.clone(), map(v)?)))
        .collect::<Result<_>>()?;
    let water = match &g.water {
        Some(w) => {
            let mut out = BandBuf::<u8>::zeros((rows, cols))?;
            let src = w.as_slice();
            for (r, line) in out.as_mut_slice().chunks_mut(cols).enumerate() {
                for (c, o) in line.iter_mut().enumerate() {
                    *o = src[r * c0 + c * c0 / cols];
                }
            }
            Some(out)
        }
        None => None,
    };
    let mut meta = g.meta.clone();
    meta.satellite = Some("FY3D".into());
    Ok(Granule {
        kind: g.kind,
        files: vec![],
        meta,
        shape: (rows, cols),
        bands,
        geometry: Geometry::Swath(Swath {
            lat: map(&s.lat)?,
            lon: map(&s.lon)?,
            rows_per_scan: 10,
        }),
        water,
        saturation: BTreeMap::new(),
    })
}

/// Fires as (row, col, MOD14 class).
type FireSet = BTreeSet<(usize, usize, u8)>;
/// numpy's (read s, detect s, potential fires, fires).
type NumpyScan = (f64, f64, usize, FireSet);

/// Runs `benches/numpy_modis_products.py` on a pair: (read s, detect s, potential fires, fires
/// as (row, col, class)).
fn numpy_scan(
    kind: &str,
    data: &Path,
    geo: &Path,
    model: &str,
    g: &Granule,
    dir: &Path,
) -> Result<NumpyScan> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Geometry::Swath(s) = &g.geometry else {
        anyhow::bail!("not a swath");
    };
    let area: Vec<u8> = swath_pixel_sizes_km(s, g.shape)
        .iter()
        .flat_map(|(a, b)| (a * b * 1e6).to_le_bytes())
        .collect();
    let area_path = dir.join(format!("{kind}_area.f64"));
    std::fs::write(&area_path, area)?;
    let csv = dir.join(format!("{kind}_numpy_fires.csv"));
    let out = std::process::Command::new(venv::bench_python(&[
        ("numpy", "numpy"),
        ("pyhdf.SD", "pyhdf"),
        ("h5py", "h5py"),
    ])?)
    .arg(root.join("benches/numpy_modis_products.py"))
    .arg(kind)
    .arg(data)
    .arg(geo)
    .arg(root.join("models").join(model))
    .arg(&area_path)
    .arg(&csv)
    .output()
    .context("running benches/numpy_modis_products.py in the bench venv")?;
    if !out.status.success() {
        anyhow::bail!(
            "numpy_modis_products.py: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout)?;
    let mut w = text.split_whitespace();
    let read: f64 = w.next().context("read time")?.parse()?;
    let detect: f64 = w.next().context("detect time")?.parse()?;
    let potential: usize = w.next().context("potential fires")?.parse()?;
    let fires = std::fs::read_to_string(&csv)?
        .lines()
        .filter_map(|l| {
            let v: Vec<&str> = l.split(',').collect();
            Some((v[0].parse().ok()?, v[1].parse().ok()?, v[2].parse().ok()?))
        })
        .filter(|x: &(usize, usize, u8)| x.2 >= 7)
        .collect();
    Ok((read, detect, potential, fires))
}

fn detect(g: &Granule, m: &ModisModel) -> Result<strawfire::detect::modis::ModisDetection> {
    let Geometry::Swath(s) = &g.geometry else {
        anyhow::bail!("not a swath");
    };
    let area = strawfire::detect::PixelArea::PerColumn(
        swath_pixel_sizes_km(s, g.shape)
            .iter()
            .map(|(a, b)| a * b * 1e6)
            .collect(),
    );
    let input = ModisInput::from_bands(
        |n| g.band(n),
        g.water.as_ref().map(|w| w.view()),
        g.saturation.get("B22").copied(),
    )?;
    Ok(detect_modis(&input, m, &area)?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let smoke = !args.iter().any(|a| a == "--bench");
    let python = if smoke {
        args.iter().any(|a| a == "--python")
    } else {
        !args.iter().any(|a| a == "--no-python")
    };
    let (rows, cols, mrows, mcols, mut runs) = if smoke {
        (40, 1354, 40, 2048, 1)
    } else {
        (2030, 1354, 2000, 2048, 3)
    };
    if let Some(n) = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse().ok())
    {
        runs = n;
    }
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("target/bench-data/modis_{rows}x{cols}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(dir.join("mersi"))?;
    let t = Instant::now();
    let mut spec = ModisSpec::day(rows, cols, 20);
    spec.fires = random_modis_fires(&spec, if smoke { 10 } else { 400 });
    let synth: SynthModis = generate_modis(&spec)?;
    let files = modis_write::write(&synth.granule, &dir, &Default::default())?;
    let geo = files.geo.clone().context("MOD03 written")?;
    // The FY-3D granule: the same afternoon and fires made at MERSI's bands (3.80/4.05/10.8/
    // 12.0 µm, `synth::modis::MERSI`), stretched to MERSI's 2048 columns.
    let mut fy_spec = ModisSpec::fy3d_day(mrows, cols, 20);
    fy_spec.fires = spec
        .fires
        .iter()
        .filter(|f| f.row < mrows)
        .cloned()
        .collect();
    let fy = stretched(&generate_modis(&fy_spec)?.granule, mrows, mcols)?;
    let mf = mersi_write::write(&fy, &dir.join("mersi"))?;
    eprintln!(
        "generated and wrote both granules in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    };
    println!(
        "MODIS {rows} x {cols}: MOD021KM {:.0} MB + MOD03 {:.0} MB; MERSI {mrows} x {mcols}: 1000M {:.0} MB + GEO1K {:.0} MB",
        size(&files.data),
        size(&geo),
        size(&mf.data),
        size(&mf.geo)
    );

    let (a, am, bytes) = best_of(runs, || modis_floor_hdf4(&files.data, &geo))?;
    println!(
        "MODIS floor, HDF4 library (serial, raw)  best {a:.3} s  median {am:.3} s  ({:.0} MB)",
        bytes as f64 / 1e6
    );
    let (b, bm, _) = best_of(runs, || modis_floor_gdal(&files.data, &geo))?;
    println!("MODIS floor, GDAL HDF4 driver (serial)   best {b:.3} s  median {bm:.3} s");
    let (c, cm, g) = best_of(runs, || Ok(modis_l1b::read(&files.data, Some(&geo))?))?;
    println!(
        "MODIS reader with MOD03                  best {c:.3} s  median {cm:.3} s  ({:.2}x the library floor, {:.2}x GDAL's)",
        c / a,
        c / b
    );
    let (d, dm, _) = best_of(runs, || Ok(modis_l1b::read(&files.data, None)?))?;
    println!("MODIS reader without MOD03 (5 km interp.) best {d:.3} s  median {dm:.3} s");
    let modis_model = ModisModel::builtin();
    let (e, em, ours) = best_of(runs, || detect(&g, &modis_model))?;
    println!(
        "MODIS C6.1 detection on the granule read  best {e:.3} s  median {em:.3} s  ({} fires)",
        ours.fires.len()
    );
    let pair = [files.data.clone(), geo.clone()];
    let (s, sm, scanned) = best_of(runs, || {
        Ok(scan_files(&pair, ModelChoice::FromScene, &|_| {})?)
    })?;
    println!(
        "MODIS scan (scan_files: open, read, detect, hotspots, coverage) best {s:.3} s  median {sm:.3} s  ({} hotspots; {:.2}x the library floor, {:.2}x GDAL's)",
        scanned.hotspots.len(),
        s / a,
        s / b
    );
    let compare = |name: &str,
                   ours: &strawfire::detect::modis::ModisDetection,
                   scan_s: f64,
                   np: NumpyScan| {
        let mine: FireSet = ours
            .fires
            .iter()
            .map(|f| (f.row, f.col, f.class as u8))
            .collect();
        let (nr, nd, potential, theirs) = np;
        println!(
            "{name} numpy scan: read {nr:.3} s + detect {nd:.3} s = {:.3} s ({potential} potential, {} fires; same pixel and class {} of ours {}); numpy/strawfire scan {:.1}x",
            nr + nd,
            theirs.len(),
            mine.intersection(&theirs).count(),
            mine.len(),
            (nr + nd) / scan_s
        );
    };
    if python {
        let np = numpy_scan("modis", &files.data, &geo, "modis-c61.toml", &g, &dir)?;
        compare("MODIS", &ours, sm, np);
    }

    let (f, fm, mbytes) = best_of(runs, || mersi_floor(&mf.data, &mf.geo))?;
    println!(
        "MERSI floor, libhdf5 (serial, raw)        best {f:.3} s  median {fm:.3} s  ({:.0} MB)",
        mbytes as f64 / 1e6
    );
    let (h, hm, mg) = best_of(runs, || Ok(mersi_l1::read(&mf.data, &mf.geo)?))?;
    println!("MERSI reader                              best {h:.3} s  median {hm:.3} s  ({:.2}x the floor)", h / f);
    let mersi_model = ModisModel::mersi();
    let (e, em, mours) = best_of(runs, || detect(&mg, &mersi_model))?;
    println!(
        "MERSI detection (fy3d-mersi) on the granule read best {e:.3} s  median {em:.3} s  ({} fires)",
        mours.fires.len()
    );
    let mpair = [mf.data.clone(), mf.geo.clone()];
    let (s, sm, scanned) = best_of(runs, || {
        Ok(scan_files(&mpair, ModelChoice::FromScene, &|_| {})?)
    })?;
    println!(
        "MERSI scan (scan_files)                   best {s:.3} s  median {sm:.3} s  ({} hotspots; {:.2}x the floor)",
        scanned.hotspots.len(),
        s / f
    );
    if python {
        let np = numpy_scan("mersi", &mf.data, &mf.geo, "fy3d-mersi.toml", &mg, &dir)?;
        compare("MERSI", &mours, sm, np);
    }
    if smoke {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
