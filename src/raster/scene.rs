//! Reading a satellite scene through GDAL into plain ndarrays.
//!
//! Bands are found by their description through the sensor model, never by position. No-data
//! values and NaN both become NaN, so the detector has one notion of "invalid". Rows are read in
//! block-aligned strips, each strip by its own GDAL dataset handle on its own rayon thread: a GDAL
//! handle must not be shared across threads, but separate handles on one file may be used in
//! parallel, which halves the read time of compressed scenes on two cores.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use gdal::{Dataset, Metadata};
use ndarray::{s, ArrayView2};
use rayon::prelude::*;

use super::buffer::BandBuf;
use super::error::RasterError;
use super::georef::GeoRef;
use crate::model::SensorModel;

/// Scene-level metadata from the dataset's default metadata domain (DESIGN.md scene layout).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SceneMeta {
    /// `ACQ_TIME`: acquisition time, UTC.
    pub acq_time: Option<DateTime<Utc>>,
    /// `SATELLITE`: `N`, `N20`, `N21`, `T`, `A`, ...
    pub satellite: Option<String>,
    /// `SENSOR`: `VIIRS`, `MODIS`, `OLI`, `MSI`.
    pub sensor: Option<String>,
}

/// A scene in memory: bands by the model's canonical names, with invalid pixels as NaN.
#[derive(Debug, Clone)]
pub struct Scene {
    pub path: PathBuf,
    pub meta: SceneMeta,
    pub georef: GeoRef,
    /// (rows, cols).
    pub shape: (usize, usize),
    /// Canonical band name (`I4`) → pixels, row-major `[row, col]`.
    pub bands: BTreeMap<String, BandBuf>,
}

impl Scene {
    /// The pixels of a band by canonical name.
    pub fn band(&self, name: &str) -> Option<ArrayView2<'_, f32>> {
        self.bands.get(name).map(BandBuf::view)
    }
}

/// What [`open_scene`] found without reading pixels: enough to pick the sensor model.
#[derive(Debug, Clone)]
pub struct SceneHeader {
    pub path: PathBuf,
    pub meta: SceneMeta,
    pub georef: GeoRef,
    pub shape: (usize, usize),
    /// Upper-cased band descriptions, in GDAL order (index 0 is GDAL band 1).
    pub band_names: Vec<String>,
}

fn open(path: &Path) -> Result<Dataset, RasterError> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(RasterError::Open {
            path: path.to_path_buf(),
            message: e.to_string(),
        });
    }
    // Uncompressed GeoTIFF strips and tiles are read straight into our buffers rather than
    // through GDAL's block cache: the cache would allocate (and fault in) a fresh block for every
    // block of the scene, which it never reads twice, and copy each block once more. The option
    // is read when the dataset opens, so it is set for this thread around the open only, and
    // only when the deployment has not chosen otherwise. Other formats ignore it.
    let direct = gdal::config::get_config_option("GTIFF_DIRECT_IO", "").unwrap_or_default();
    let set = direct.is_empty()
        && gdal::config::set_thread_local_config_option("GTIFF_DIRECT_IO", "YES").is_ok();
    let opened = Dataset::open(path);
    if set {
        let _ = gdal::config::clear_thread_local_config_option("GTIFF_DIRECT_IO");
    }
    opened.map_err(|e| RasterError::NotRaster {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Opens a scene and reads its header: size, band names, georeferencing and metadata.
pub fn open_scene(path: &Path) -> Result<SceneHeader, RasterError> {
    let ds = open(path)?;
    let count = ds.raster_count();
    if count == 0 {
        return Err(RasterError::NotRaster {
            path: path.to_path_buf(),
            message: "the file has no raster bands".into(),
        });
    }
    let (cols, rows) = ds.raster_size();
    let mut band_names = Vec::with_capacity(count);
    for i in 1..=count {
        let band = ds.rasterband(i).map_err(|e| RasterError::ReadBand {
            path: path.to_path_buf(),
            band: format!("#{i}"),
            index: i,
            message: e.to_string(),
        })?;
        band_names.push(band.description().unwrap_or_default().trim().to_uppercase());
    }
    let georef = read_georef(&ds, path)?;
    let meta = read_meta(&ds, path)?;
    Ok(SceneHeader {
        path: path.to_path_buf(),
        meta,
        georef,
        shape: (rows, cols),
        band_names,
    })
}

fn read_georef(ds: &Dataset, path: &Path) -> Result<GeoRef, RasterError> {
    let no_georef = |message: String| RasterError::NoGeoref {
        path: path.to_path_buf(),
        message,
    };
    let srs = ds
        .spatial_ref()
        .map_err(|_| no_georef("the scene has no coordinate reference system (CRS)".into()))?;
    let crs_wkt = srs
        .to_wkt()
        .map_err(|e| no_georef(format!("unreadable CRS: {e}")))?;
    if crs_wkt.trim().is_empty() {
        return Err(no_georef(
            "the scene has no coordinate reference system (CRS)".into(),
        ));
    }
    let transform = ds
        .geo_transform()
        .map_err(|_| no_georef("the scene has no geotransform".into()))?;
    if transform[1] == 0.0 || transform[5] == 0.0 {
        return Err(no_georef(format!("degenerate geotransform {transform:?}")));
    }
    Ok(GeoRef { transform, crs_wkt })
}

fn read_meta(ds: &Dataset, path: &Path) -> Result<SceneMeta, RasterError> {
    let item = |k: &str| {
        ds.metadata_item(k, "")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let acq_time = match item("ACQ_TIME") {
        None => None,
        Some(v) => Some(parse_acq_time(&v).ok_or_else(|| RasterError::BadMetadata {
            path: path.to_path_buf(),
            key: "ACQ_TIME".into(),
            value: v.clone(),
            message: "expected ISO 8601 UTC, e.g. 2024-06-08T05:18:00Z".into(),
        })?),
    };
    Ok(SceneMeta {
        acq_time,
        satellite: item("SATELLITE"),
        sensor: item("SENSOR"),
    })
}

/// Parses `ACQ_TIME`: RFC 3339 with offset, or a naive ISO 8601 time taken as UTC.
pub fn parse_acq_time(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// Reads the bands a sensor model names from a scene. Optional bands are read when present.
pub fn read_scene(path: &Path, model: &SensorModel) -> Result<Scene, RasterError> {
    let header = open_scene(path)?;
    read_bands(header, model)
}

/// Reads the model's bands of an opened scene, strip by strip on all threads.
pub fn read_bands(header: SceneHeader, model: &SensorModel) -> Result<Scene, RasterError> {
    let rows = header.shape.0;
    let strips = |strip_rows: usize| vec![(); rows.div_ceil(strip_rows)];
    let (scene, _) = read_streaming(header, model, &BandPlan::all(), strips, |_, _| {})?;
    Ok(scene)
}

/// One block of the bands being read: rows `r0..r0 + rows` and columns `c0..c0 + cols` of each
/// band. A strip of rows comes as one block when the file is stored in rows, and as blocks of
/// whole tiles side by side when it is tiled.
#[derive(Debug)]
pub struct Strip<'a> {
    /// First row of the block in the scene.
    pub r0: usize,
    /// First column of the block in the scene.
    pub c0: usize,
    bands: Vec<(&'a str, ArrayView2<'a, f32>)>,
}

impl<'a> Strip<'a> {
    /// The block's pixels of a band by canonical name (rows contiguous).
    pub fn band(&self, name: &str) -> Option<ArrayView2<'a, f32>> {
        self.bands.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
    }
}

/// How [`read_streaming`] treats each band (by canonical name).
pub struct BandPlan {
    /// Bands kept whole in the returned [`Scene`]; the others live in one block-sized buffer
    /// per thread, reused.
    pub keep: Box<dyn Fn(&str) -> bool + Sync>,
    /// Streamed bands read only for the blocks `needed` asks for them; elsewhere they read as
    /// NaN without touching the file (night blocks need no reflectances).
    pub lazy: Box<dyn Fn(&str) -> bool + Sync>,
    /// Told a block's other bands, whether it needs its lazy bands.
    pub needed: Box<dyn Fn(&Strip) -> bool + Sync>,
}

impl BandPlan {
    /// Every band kept whole and read everywhere.
    pub fn all() -> Self {
        BandPlan {
            keep: Box::new(|_| true),
            lazy: Box::new(|_| false),
            needed: Box::new(|_| true),
        }
    }
}

/// Reads the model's bands of an opened scene block by block, handing each block to `visit`
/// while it is fresh, and keeps whole only the bands the plan keeps: the others live in one
/// block-sized buffer per thread, reused, so a detector that needs them only per pixel never
/// holds them whole (nor pays the page faults of allocating them), and lazy bands are not read
/// at all for blocks that do not need them.
///
/// The scene is cut into strips of rows (as tall as the file's blocks), and each strip into
/// blocks of columns: one block across when the file is stored in rows, whole tiles side by side
/// when it is tiled, so that a block's streamed bands stay in cache between being read and being
/// visited (a 256-row strip of a band across a granule is 6.5 MB; a 256 × 256 tile, 256 KB).
/// `per_strip` is told the strip height and returns one state per strip (for instance the
/// strip's rows of an output raster), in order; `visit` gets its strip's state and each of the
/// strip's blocks, left to right. Strips run in parallel; states come back in row order.
pub fn read_streaming<S: Send>(
    header: SceneHeader,
    model: &SensorModel,
    plan: &BandPlan,
    per_strip: impl FnOnce(usize) -> Vec<S>,
    visit: impl Fn(&mut S, &Strip) + Sync,
) -> Result<(Scene, Vec<S>), RasterError> {
    let path = header.path.clone();
    let wanted = wanted_bands(&header, model)?;
    let shape = header.shape;
    let (arrays, states) = read_strips(&path, &wanted, plan, shape, per_strip, visit)?;
    Ok((
        Scene {
            path: header.path,
            meta: header.meta,
            georef: header.georef,
            shape,
            bands: wanted
                .into_iter()
                .map(|(name, _)| name)
                .zip(arrays)
                .filter_map(|(name, a)| Some((name, a?)))
                .collect(),
        },
        states,
    ))
}

/// The model's bands present in the scene: (canonical name, 1-based GDAL index); an error names
/// a missing required band and lists what the file has.
fn wanted_bands(
    header: &SceneHeader,
    model: &SensorModel,
) -> Result<Vec<(String, usize)>, RasterError> {
    let mut wanted: Vec<(String, usize)> = Vec::new();
    for (name, spec) in &model.bands {
        let desc = spec.description.to_uppercase();
        match header.band_names.iter().position(|b| *b == desc) {
            Some(i) => wanted.push((name.clone(), i + 1)),
            None if spec.required => {
                let available = header
                    .band_names
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        if b.is_empty() {
                            format!("#{} (no description)", i + 1)
                        } else {
                            b.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(RasterError::MissingBand {
                    path: header.path.clone(),
                    band: spec.description.clone(),
                    sensor: model.name.clone(),
                    available,
                });
            }
            None => {}
        }
    }
    Ok(wanted)
}

/// Rows per strip when streaming, before rounding up to whole blocks: 32 rows of a 6,400-column
/// granule are 0.8 MB per band, so a strip's bands stay in the second-level cache between being
/// read and being classified.
const STREAM_ROWS: usize = 32;

/// Columns per block of a tiled file, before rounding up to whole tiles: a 256 × 256 tile of a
/// band is 256 KB, so the streamed bands of a block stay in cache between being read and being
/// visited. Wider blocks measured slower (512 and 1,024 columns, and whole rows).
const BLOCK_COLS: usize = 256;

/// The block at `r0, c0` of the bands whose views are given (None: left out).
fn strip_of<'a>(
    (r0, c0): (usize, usize),
    wanted: &'a [(String, usize)],
    views: impl Iterator<Item = Option<ArrayView2<'a, f32>>>,
) -> Strip<'a> {
    let bands = wanted
        .iter()
        .zip(views)
        .filter_map(|((name, _), v)| Some((name.as_str(), v?)))
        .collect();
    Strip { r0, c0, bands }
}

/// A band's view of the block of columns `c0..c0 + w` of a strip `n` rows tall: from the
/// strip of a kept band, or from the block's own data (None: left out).
fn block_view<'a>(
    kept: Option<ArrayView2<'a, f32>>,
    data: Option<&'a [f32]>,
    (c0, w): (usize, usize),
    n: usize,
) -> Option<ArrayView2<'a, f32>> {
    match kept {
        Some(k) => Some(k.slice_move(s![.., c0..c0 + w])),
        None => data.map(|d| ArrayView2::from_shape((n, w), &d[..n * w]).expect("n × w")),
    }
}

/// Turns a band's stored numbers into values in place: no-data → NaN, then scale and offset.
/// Each case is its own loop without branches in it, so the compiler vectorises it; a band with
/// neither is left untouched, and so is one whose no-data value is NaN (NaN is already what
/// invalid pixels read as).
fn to_values(part: &mut [f32], nodata: Option<f32>, scale: f32, offset: f32) {
    let nodata = nodata.filter(|v| !v.is_nan());
    let rescale = scale != 1.0 || offset != 0.0;
    match (nodata, rescale) {
        (None, false) => {}
        (Some(nd), false) => part
            .iter_mut()
            .for_each(|v| *v = if *v == nd { f32::NAN } else { *v }),
        (None, true) => part.iter_mut().for_each(|v| *v = *v * scale + offset),
        (Some(nd), true) => part.iter_mut().for_each(|v| {
            *v = if *v == nd {
                f32::NAN
            } else {
                *v * scale + offset
            }
        }),
    }
}

/// Per band read, its whole raster when it was kept.
type KeptBands = Vec<Option<BandBuf>>;

/// Reads bands (name, 1-based GDAL index) as f32, nodata → NaN, scale/offset applied; the bands
/// marked in `keep` come back whole, the others only through `visit`.
///
/// The rows are cut into strips aligned to the file's blocks, and the strips into blocks of
/// columns ([`read_streaming`]); each strip is read by one rayon task with a dataset handle of
/// its own (taken from a pool: a GDAL handle must not be shared across threads, but separate
/// handles on one file may be used in parallel). The task reads every band of a block before
/// the next block (kept bands may be read across the strip first, see `by_block`). So every
/// block of the file is decoded once whatever the interleaving: a pixel-interleaved GeoTIFF
/// (GDAL's default for multi-band files) holds all bands in one block, and reading band by band
/// through separate handles would decode each block once per band.
fn read_strips<S: Send>(
    path: &Path,
    wanted: &[(String, usize)],
    plan: &BandPlan,
    (rows, cols): (usize, usize),
    per_strip: impl FnOnce(usize) -> Vec<S>,
    visit: impl Fn(&mut S, &Strip) + Sync,
) -> Result<(KeptBands, Vec<S>), RasterError> {
    let fail = |name: &str, index: usize, message: String| RasterError::ReadBand {
        path: path.to_path_buf(),
        band: name.to_string(),
        index,
        message,
    };
    let keep: Vec<bool> = wanted.iter().map(|(name, _)| (plan.keep)(name)).collect();
    // Kept bands are always read: their whole arrays must hold the file's values.
    let lazy: Vec<bool> = wanted
        .iter()
        .zip(&keep)
        .map(|((name, _), &k)| !k && (plan.lazy)(name))
        .collect();
    let whole = |(name, index): &(String, usize)| {
        BandBuf::zeros((rows, cols))
            .map_err(|e| fail(name, *index, format!("no memory for the whole band: {e}")))
    };
    let mut kept = wanted
        .iter()
        .zip(&keep)
        .map(|(w, &k)| k.then(|| whole(w)).transpose())
        .collect::<Result<KeptBands, _>>()?;
    if wanted.is_empty() || rows == 0 || cols == 0 {
        return Ok((kept, Vec::new()));
    }
    // Per-band facts, from one handle.
    let ds = open(path)?;
    let mut facts = Vec::with_capacity(wanted.len());
    let (mut block_rows, mut block_cols) = (1, 1);
    for (name, index) in wanted {
        let band = ds
            .rasterband(*index)
            .map_err(|e| fail(name, *index, e.to_string()))?;
        let (bc, br) = band.block_size();
        (block_rows, block_cols) = (block_rows.max(br), block_cols.max(bc));
        let scale = band.scale().unwrap_or(1.0) as f32;
        let offset = band.offset().unwrap_or(0.0) as f32;
        facts.push((band.no_data_value().map(|v| v as f32), scale, offset));
    }
    // Small strips for streaming, but at least four per thread so the work balances.
    let balanced = rows.div_ceil(rayon::current_num_threads() * 4);
    let strip_rows = STREAM_ROWS.min(balanced).div_ceil(block_rows).max(1) * block_rows;
    // Whole rows when the file is stored in rows; otherwise whole tiles, a few side by side.
    let width = if block_cols >= cols {
        cols
    } else {
        (BLOCK_COLS.div_ceil(block_cols) * block_cols).min(cols)
    };
    let states = per_strip(strip_rows);
    let n_strips = rows.div_ceil(strip_rows);
    assert_eq!(
        states.len(),
        n_strips,
        "one state per strip of {strip_rows} rows"
    );

    // strips[i][band]: the strip's chunk of a kept band, None for a streamed one.
    let mut strips: Vec<Vec<Option<&mut [f32]>>> = (0..n_strips).map(|_| Vec::new()).collect();
    for buf in kept.iter_mut() {
        match buf {
            Some(buf) => {
                let chunks = buf.as_mut_slice().chunks_mut(strip_rows * cols);
                for (i, chunk) in chunks.enumerate() {
                    strips[i].push(Some(chunk));
                }
            }
            None => strips.iter_mut().for_each(|s| s.push(None)),
        }
    }
    // Which bands are read block by block into a buffer: the streamed ones, and the kept ones
    // too when blocks are narrower than the scene and some band is streamed. The visitor then
    // has every band of a block in cache (the kept bands' 256-row strips across a granule are
    // 13 MB a thread, read back from memory otherwise), and kept blocks are copied into their
    // whole arrays after the visit. With nothing streamed (`read_bands`), kept bands are read
    // across the strip straight into place: GDAL does that faster than blocks and a copy.
    let streams = keep.contains(&false);
    let by_block: Vec<bool> = keep
        .iter()
        .map(|&k| !k || (streams && width < cols))
        .collect();
    // Handles and block buffers, one set per concurrent task.
    let buffers = || vec![vec![0f32; strip_rows * width]; by_block.iter().filter(|b| **b).count()];
    let pool: std::sync::Mutex<Vec<(Dataset, Vec<Vec<f32>>)>> =
        std::sync::Mutex::new(vec![(ds, buffers())]);
    // What a lazy band reads as where it is not read: one NaN block shared by all.
    let nan: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    let states = strips
        .into_par_iter()
        .zip(states)
        .enumerate()
        .map(|(i, (chunks, mut state))| -> Result<S, RasterError> {
            let taken = pool.lock().map_or(None, |mut p| p.pop());
            let (ds, mut scratch) = match taken {
                Some(set) => set,
                None => (open(path)?, buffers()),
            };
            let r0 = i * strip_rows;
            let n = strip_rows.min(rows - r0);
            let read = |j: usize, (c0, w): (usize, usize), part: &mut [f32]| {
                let ((name, index), &(nodata, scale, offset)) = (&wanted[j], &facts[j]);
                let band = ds
                    .rasterband(*index)
                    .map_err(|e| fail(name, *index, e.to_string()))?;
                let (at, size) = ((c0 as isize, r0 as isize), (w, n));
                band.read_into_slice::<f32>(at, size, size, part, None)
                    .map_err(|e| fail(name, *index, e.to_string()))?;
                to_values(part, nodata, scale, offset);
                Ok::<(), RasterError>(())
            };
            // Kept bands read across the strip, into place (their views), and the rows of the
            // kept bands read by blocks (copied there after each visit).
            let mut across: Vec<Option<ArrayView2<f32>>> = Vec::with_capacity(chunks.len());
            let mut targets: Vec<Option<&mut [f32]>> = Vec::with_capacity(chunks.len());
            for (j, chunk) in chunks.into_iter().enumerate() {
                match chunk {
                    Some(c) if !by_block[j] => {
                        read(j, (0, cols), &mut c[..n * cols])?;
                        let c: &[f32] = c;
                        let view = ArrayView2::from_shape((n, cols), &c[..n * cols]);
                        across.push(Some(view.expect("n × cols")));
                        targets.push(None);
                    }
                    other => {
                        across.push(None);
                        targets.push(other);
                    }
                }
            }
            for c0 in (0..cols).step_by(width) {
                let w = width.min(cols - c0);
                // The blocks read here, in their buffers.
                let mut free = scratch.iter_mut();
                let mut parts: Vec<Option<&mut [f32]>> = by_block
                    .iter()
                    .map(|&b| b.then(|| &mut free.next().expect("a buffer per band")[..n * w]))
                    .collect();
                let read_where = |parts: &mut [Option<&mut [f32]>], lazy_ones: bool| {
                    for (j, part) in parts.iter_mut().enumerate() {
                        if let Some(part) = part.as_deref_mut().filter(|_| lazy[j] == lazy_ones) {
                            read(j, (c0, w), part)?;
                        }
                    }
                    Ok::<(), RasterError>(())
                };
                read_where(&mut parts, false)?;
                let read_lazy = lazy.iter().any(|&l| l) && {
                    let others = parts.iter().enumerate().map(|(j, p)| {
                        let data = p.as_deref().filter(|_| !lazy[j]);
                        block_view(across[j], data, (c0, w), n)
                    });
                    (plan.needed)(&strip_of((r0, c0), wanted, others))
                };
                if read_lazy {
                    read_where(&mut parts, true)?;
                }
                let data = parts.iter().enumerate().map(|(j, p)| {
                    let data = if lazy[j] && !read_lazy {
                        Some(&nan.get_or_init(|| vec![f32::NAN; strip_rows * width])[..])
                    } else {
                        p.as_deref()
                    };
                    block_view(across[j], data, (c0, w), n)
                });
                visit(&mut state, &strip_of((r0, c0), wanted, data));
                for (target, part) in targets.iter_mut().zip(&parts) {
                    if let (Some(rows_of), Some(block)) = (target, part) {
                        for (dst, src) in rows_of.chunks_mut(cols).zip(block.chunks(w)) {
                            dst[c0..c0 + w].copy_from_slice(src);
                        }
                    }
                }
            }
            if let Ok(mut p) = pool.lock() {
                p.push((ds, scratch));
            }
            Ok(state)
        })
        .collect::<Result<Vec<S>, RasterError>>()?;
    Ok((kept, states))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acq_time_forms() {
        let t = parse_acq_time("2024-06-08T05:18:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-06-08T05:18:00+00:00");
        assert_eq!(parse_acq_time("2024-06-08T13:18:00+08:00"), Some(t));
        assert_eq!(parse_acq_time("2024-06-08T05:18:00"), Some(t));
        assert_eq!(parse_acq_time("June 8"), None);
    }

    #[test]
    fn stored_numbers_become_values() {
        let stored = [-9999.0, 100.0, f32::NAN, 250.0];
        let run = |nodata, scale, offset| {
            let mut v = stored;
            to_values(&mut v, nodata, scale, offset);
            v.map(|x| if x.is_nan() { None } else { Some(x) })
        };
        let same = [None, Some(100.0), None, Some(250.0)];
        assert_eq!(run(None, 1.0, 0.0), [Some(-9999.0), same[1], None, same[3]]);
        assert_eq!(run(Some(-9999.0), 1.0, 0.0), same);
        assert_eq!(
            run(Some(-9999.0), 0.5, 10.0),
            [None, Some(60.0), None, Some(135.0)]
        );
        assert_eq!(
            run(None, 2.0, 0.0),
            [Some(-19998.0), Some(200.0), None, Some(500.0)]
        );
    }
}
