//! Single-band integer rasters: the layout of products that publish one file per band (Landsat
//! Collection 2: `_B1.TIF` … `_B7.TIF`, `_QA_PIXEL.TIF`, `_QA_RADSAT.TIF`, all `UInt16`
//! GeoTIFFs; Sentinel-2: one JPEG 2000 file per band, `UInt16`, and its `UInt8` masks).
//!
//! Read whole into a [`BandBuf<u16>`] in row strips, each strip on a rayon thread with a dataset
//! handle of its own (a GDAL handle is not shared across threads; separate handles on one file
//! decode in parallel). Paths may be GDAL virtual paths (`/vsitar/…`), so a product still packed
//! in its `.tar` is read in place.

use std::path::Path;

use gdal::raster::{Buffer, GdalType, RasterCreationOptions};
use gdal::{Dataset, DriverManager};
use rayon::prelude::*;

use super::buffer::BandBuf;
use super::error::RasterError;
use super::georef::GeoRef;

/// Rows per parallel read task (rounded up to whole blocks of the file).
const STRIP_ROWS: usize = 512;

/// A single-band raster's header: size, georeferencing, data type name.
#[derive(Debug, Clone)]
pub struct BandHeader {
    /// (rows, cols).
    pub shape: (usize, usize),
    pub georef: Option<GeoRef>,
    /// GDAL's name of the pixel type (`UInt16`).
    pub data_type: String,
    /// Rows per block of the file (strips are cut on block edges).
    pub block_rows: usize,
    /// Columns per block of the file (the width for files stored in strips).
    pub block_cols: usize,
}

fn open(path: &Path) -> Result<Dataset, RasterError> {
    let virtual_path = path.to_str().is_some_and(|p| p.starts_with("/vsi"));
    if !virtual_path {
        if let Err(e) = std::fs::metadata(path) {
            return Err(RasterError::Open {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    }
    Dataset::open(path).map_err(|e| RasterError::NotRaster {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// The header of band 1 of `path`, without reading pixels.
pub fn band_header(path: &Path) -> Result<BandHeader, RasterError> {
    let ds = open(path)?;
    header_of(&ds, path)
}

fn header_of(ds: &Dataset, path: &Path) -> Result<BandHeader, RasterError> {
    if ds.raster_count() == 0 {
        return Err(RasterError::NotRaster {
            path: path.to_path_buf(),
            message: "the file has no raster bands".into(),
        });
    }
    let (cols, rows) = ds.raster_size();
    let band = ds.rasterband(1).map_err(|e| RasterError::ReadBand {
        path: path.to_path_buf(),
        band: "1".into(),
        index: 1,
        message: e.to_string(),
    })?;
    let data_type = band.band_type().name();
    let (block_cols, block_rows) = band.block_size();
    let (block_cols, block_rows) = (block_cols.max(1), block_rows.max(1));
    let georef = match (
        ds.geo_transform(),
        ds.spatial_ref().and_then(|s| s.to_wkt()),
    ) {
        (Ok(transform), Ok(crs_wkt)) if !crs_wkt.trim().is_empty() => {
            Some(GeoRef { transform, crs_wkt })
        }
        _ => None,
    };
    Ok(BandHeader {
        shape: (rows, cols),
        georef,
        data_type,
        block_rows,
        block_cols,
    })
}

/// Reads band 1 of `path` whole as `u16` (GDAL converts other integer types), strips of rows in
/// parallel. A truncated or corrupt file fails naming the path.
pub fn read_u16(path: &Path) -> Result<(BandHeader, BandBuf<u16>), RasterError> {
    read_band::<u16>(path, 1)
}

/// Reads band `index` (1-based) of `path` whole as `T`, strips of rows in parallel, each with a
/// dataset handle of its own.
pub fn read_band<T: GdalType + bytemuck::Pod + Send>(
    path: &Path,
    index: usize,
) -> Result<(BandHeader, BandBuf<T>), RasterError> {
    let header = band_header(path)?;
    let (rows, cols) = header.shape;
    let mut out = BandBuf::<T>::zeros((rows, cols)).map_err(|e| RasterError::ReadBand {
        path: path.to_path_buf(),
        band: index.to_string(),
        index,
        message: format!("no memory for {rows} × {cols} pixels: {e}"),
    })?;
    let strip = STRIP_ROWS.div_ceil(header.block_rows) * header.block_rows;
    if cols > 0 {
        out.as_mut_slice()
            .par_chunks_mut(strip * cols)
            .enumerate()
            .try_for_each(|(i, part)| {
                let r0 = i * strip;
                let n = part.len() / cols;
                let fail = |message: String| RasterError::ReadBand {
                    path: path.to_path_buf(),
                    band: format!("band {index}, rows {r0}–{}", r0 + n),
                    index,
                    message,
                };
                let ds = open(path)?;
                let band = ds.rasterband(index).map_err(|e| fail(e.to_string()))?;
                band.read_into_slice::<T>((0, r0 as isize), (cols, n), (cols, n), part, None)
                    .map_err(|e| fail(e.to_string()))
            })?;
    }
    Ok((header, out))
}

/// Reads band 1 of `path` as `u16` binned `factor × factor` (a 10 m Sentinel-2 band onto the
/// 20 m grid): each output pixel is the rounded mean of its block, `fill` where any pixel of the
/// block is `fill` and `saturated` where any is `saturated` (a mean would turn both into
/// ordinary values). The rows and columns must divide by `factor`. Strips of rows in parallel;
/// the full-resolution rows live only in each strip's buffer.
pub fn read_u16_binned(
    path: &Path,
    factor: usize,
    fill: u16,
    saturated: u16,
) -> Result<(BandHeader, BandBuf<u16>), RasterError> {
    let header = band_header(path)?;
    let (rows, cols) = header.shape;
    if factor == 0 || rows % factor != 0 || cols % factor != 0 {
        return Err(RasterError::ReadBand {
            path: path.to_path_buf(),
            band: "1".into(),
            index: 1,
            message: format!("{rows} × {cols} pixels do not bin by {factor}"),
        });
    }
    let (orows, ocols) = (rows / factor, cols / factor);
    let mut out = BandBuf::<u16>::zeros((orows, ocols)).map_err(|e| RasterError::ReadBand {
        path: path.to_path_buf(),
        band: "1".into(),
        index: 1,
        message: format!("no memory for {orows} × {ocols} pixels: {e}"),
    })?;
    // Output rows per task, so that a task's input rows are whole blocks of the file.
    let block_out = header.block_rows.div_ceil(factor).max(1);
    let strip = (STRIP_ROWS / factor).div_ceil(block_out) * block_out;
    if ocols > 0 {
        out.as_mut_slice()
            .par_chunks_mut(strip * ocols)
            .enumerate()
            .try_for_each(|(i, part)| {
                let r0 = i * strip * factor;
                let n = part.len() / ocols * factor;
                let fail = |message: String| RasterError::ReadBand {
                    path: path.to_path_buf(),
                    band: format!("rows {r0}–{}", r0 + n),
                    index: 1,
                    message,
                };
                let ds = open(path)?;
                let band = ds.rasterband(1).map_err(|e| fail(e.to_string()))?;
                let mut full = vec![0u16; n * cols];
                band.read_into_slice::<u16>(
                    (0, r0 as isize),
                    (cols, n),
                    (cols, n),
                    &mut full,
                    None,
                )
                .map_err(|e| fail(e.to_string()))?;
                let area = (factor * factor) as u32;
                for (orow, o) in part.chunks_mut(ocols).enumerate() {
                    let rows_in = &full[orow * factor * cols..(orow + 1) * factor * cols];
                    for (oc, v) in o.iter_mut().enumerate() {
                        let (mut sum, mut any_fill, mut any_sat) = (0u32, false, false);
                        for rr in 0..factor {
                            let line = &rows_in[rr * cols + oc * factor..][..factor];
                            for &x in line {
                                sum += x as u32;
                                any_fill |= x == fill;
                                any_sat |= x == saturated;
                            }
                        }
                        *v = if any_fill {
                            fill
                        } else if any_sat {
                            saturated
                        } else {
                            ((sum + area / 2) / area) as u16
                        };
                    }
                }
                Ok(())
            })?;
    }
    Ok((header, out))
}

/// Writes `bands` (each `rows × cols`, row-major) as a JPEG 2000 file through GDAL's
/// JP2OpenJPEG driver, lossless (reversible 5/3 wavelet), tiled `tile × tile`, georeferenced by
/// a GMLJP2 box as Sentinel-2's band files are. JP2OpenJPEG only copies, so the pixels go
/// through an in-memory dataset first. Written beside the target and renamed into place.
pub fn write_jp2<T: GdalType + Copy>(
    path: &Path,
    bands: &[&[T]],
    (rows, cols): (usize, usize),
    georef: &GeoRef,
    tile: usize,
) -> Result<(), RasterError> {
    let fail = |message: String| RasterError::Write {
        path: path.to_path_buf(),
        message,
    };
    if bands.is_empty() || bands.iter().any(|b| b.len() != rows * cols) {
        return Err(fail(format!("bands of {rows} × {cols} pixels expected")));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The extension tells the driver the codestream's wrapper (.jp2).
    let tmp = path.with_file_name(format!(".{}.part.{name}", std::process::id()));
    let result = (|| -> Result<(), RasterError> {
        let mem = DriverManager::get_driver_by_name("MEM").map_err(|e| fail(e.to_string()))?;
        let mut ds = mem
            .create_with_band_type::<T, _>("", cols, rows, bands.len())
            .map_err(|e| fail(e.to_string()))?;
        ds.set_geo_transform(&georef.transform)
            .map_err(|e| fail(e.to_string()))?;
        ds.set_projection(&georef.crs_wkt)
            .map_err(|e| fail(e.to_string()))?;
        for (i, data) in bands.iter().enumerate() {
            let mut band = ds.rasterband(i + 1).map_err(|e| fail(e.to_string()))?;
            let mut buf = Buffer::new((cols, rows), data.to_vec());
            band.write((0, 0), (cols, rows), &mut buf)
                .map_err(|e| fail(e.to_string()))?;
        }
        let jp2 =
            DriverManager::get_driver_by_name("JP2OpenJPEG").map_err(|e| fail(e.to_string()))?;
        let t = tile.to_string();
        let opts = RasterCreationOptions::from_iter([
            "REVERSIBLE=YES".to_string(),
            "QUALITY=100".to_string(),
            format!("BLOCKXSIZE={t}"),
            format!("BLOCKYSIZE={t}"),
            "GMLJP2=YES".to_string(),
            "GeoJP2=NO".to_string(),
        ]);
        let out = ds
            .create_copy(&jp2, &tmp, &opts)
            .map_err(|e| fail(e.to_string()))?;
        out.close().map_err(|e| fail(e.to_string()))
    })();
    crate::atomic::finish(&tmp, path, result).map_err(|e| match e {
        Ok(message) => fail(message),
        Err(e) => e,
    })
}

/// One block of several single-band files of one grid, as DNs: `bands[i]` is file `i`'s pixels
/// of rows `r0..r0 + rows` and columns `c0..c0 + cols`, row-major (`rows × cols`).
#[derive(Debug)]
pub struct U16Block<'a> {
    pub r0: usize,
    pub c0: usize,
    pub rows: usize,
    pub cols: usize,
    pub bands: &'a [Vec<u16>],
}

/// How [`read_blocks`] cuts a grid: strips of `strip_rows` rows (one rayon task each), each cut
/// into blocks of `block_cols` columns visited left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockPlan {
    pub strip_rows: usize,
    pub block_cols: usize,
}

impl BlockPlan {
    /// Blocks of the files' own tiles (a 256 × 256 tile of nine `u16` bands is 1.2 MB, so a
    /// block's DNs stay in the second-level cache between being decoded and being visited);
    /// for files stored in strips of rows, whole rows in strips of at least 16 rows.
    pub fn of(header: &BandHeader) -> BlockPlan {
        let (rows, cols) = header.shape;
        let (bw, bh) = (header.block_cols.max(1), header.block_rows.max(1));
        if bw >= cols {
            BlockPlan {
                strip_rows: 16usize.div_ceil(bh) * bh,
                block_cols: cols.max(1),
            }
        } else {
            BlockPlan {
                strip_rows: bh.min(rows.max(1)),
                block_cols: bw,
            }
        }
    }

    /// Strips of a grid of `rows` rows.
    pub fn strips(&self, rows: usize) -> usize {
        rows.div_ceil(self.strip_rows.max(1))
    }
}

/// Reads band 1 of each of `paths` (single-band integer rasters of one `shape`) block by block
/// as `u16`, and hands each block of all files to `visit` while it is fresh: no whole band is
/// ever held. Strips run in parallel (one task per strip, one GDAL handle per file and strip:
/// handles are not shared across threads), blocks of a strip left to right; `states` holds one
/// state per strip ([`BlockPlan::strips`]), handed to that strip's visits and returned in
/// order. The first failure (a truncated file, a short read) ends the read naming file and rows.
pub fn read_blocks<S: Send>(
    paths: &[&Path],
    (rows, cols): (usize, usize),
    plan: BlockPlan,
    states: Vec<S>,
    visit: impl Fn(&mut S, &U16Block) + Sync,
) -> Result<Vec<S>, RasterError> {
    assert_eq!(
        states.len(),
        plan.strips(rows),
        "one state per strip of the plan"
    );
    if cols == 0 {
        return Ok(states);
    }
    states
        .into_par_iter()
        .enumerate()
        .map(|(s, mut state)| {
            let r0 = s * plan.strip_rows;
            let n = plan.strip_rows.min(rows - r0);
            let mut bands_of = Vec::with_capacity(paths.len());
            for p in paths {
                let fail = |message: String| RasterError::ReadBand {
                    path: p.to_path_buf(),
                    band: "1".into(),
                    index: 1,
                    message,
                };
                let ds = open(p)?;
                let (c, r) = ds.raster_size();
                if (r, c) != (rows, cols) {
                    return Err(fail(format!(
                        "{r} × {c} pixels where the other files have {rows} × {cols}"
                    )));
                }
                bands_of.push(ds);
            }
            let mut bufs: Vec<Vec<u16>> = vec![Vec::new(); paths.len()];
            let mut c0 = 0;
            while c0 < cols {
                let w = plan.block_cols.min(cols - c0);
                for ((p, ds), buf) in paths.iter().zip(&bands_of).zip(bufs.iter_mut()) {
                    let fail = |message: String| RasterError::ReadBand {
                        path: p.to_path_buf(),
                        band: format!("rows {r0}–{}, columns {c0}–{}", r0 + n, c0 + w),
                        index: 1,
                        message,
                    };
                    buf.resize(n * w, 0);
                    let band = ds.rasterband(1).map_err(|e| fail(e.to_string()))?;
                    band.read_into_slice::<u16>(
                        (c0 as isize, r0 as isize),
                        (w, n),
                        (w, n),
                        buf,
                        None,
                    )
                    .map_err(|e| fail(e.to_string()))?;
                }
                visit(
                    &mut state,
                    &U16Block {
                        r0,
                        c0,
                        rows: n,
                        cols: w,
                        bands: &bufs,
                    },
                );
                c0 += w;
            }
            Ok(state)
        })
        .collect()
}

/// Writes `data` (`rows × cols`, row-major) as a single-band `UInt16` GeoTIFF at `path`, tiled
/// 256 × 256 and DEFLATE-compressed with the horizontal predictor when `deflate` (as USGS
/// distributes Collection 2), with `nodata` recorded when given. Written beside the target and
/// renamed into place.
pub fn write_u16(
    path: &Path,
    data: &[u16],
    (rows, cols): (usize, usize),
    georef: &GeoRef,
    nodata: Option<f64>,
    deflate: bool,
) -> Result<(), RasterError> {
    let fail = |message: String| RasterError::Write {
        path: path.to_path_buf(),
        message,
    };
    if data.len() != rows * cols {
        return Err(fail(format!(
            "{} pixels given for {rows} × {cols}",
            data.len()
        )));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.part", std::process::id()));
    let result = (|| -> Result<(), RasterError> {
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(|e| fail(e.to_string()))?;
        let mut opts = vec!["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"];
        if deflate {
            opts.extend(["COMPRESS=DEFLATE", "PREDICTOR=2"]);
        }
        let opts = RasterCreationOptions::from_iter(opts);
        let mut ds = driver
            .create_with_band_type_with_options::<u16, _>(&tmp, cols, rows, 1, &opts)
            .map_err(|e| fail(e.to_string()))?;
        ds.set_geo_transform(&georef.transform)
            .map_err(|e| fail(e.to_string()))?;
        ds.set_projection(&georef.crs_wkt)
            .map_err(|e| fail(e.to_string()))?;
        let mut band = ds.rasterband(1).map_err(|e| fail(e.to_string()))?;
        if let Some(v) = nodata {
            band.set_no_data_value(Some(v))
                .map_err(|e| fail(e.to_string()))?;
        }
        let mut buf = Buffer::new((cols, rows), data.to_vec());
        band.write((0, 0), (cols, rows), &mut buf)
            .map_err(|e| fail(e.to_string()))?;
        ds.close().map_err(|e| fail(e.to_string()))
    })();
    crate::atomic::finish(&tmp, path, result).map_err(|e| match e {
        Ok(message) => fail(message),
        Err(e) => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utm() -> GeoRef {
        let srs = gdal::spatial_ref::SpatialRef::from_epsg(32650).unwrap();
        GeoRef {
            transform: [500_000.0, 30.0, 0.0, 3_800_000.0, 0.0, -30.0],
            crs_wkt: srs.to_wkt().unwrap(),
        }
    }

    #[test]
    fn a_band_reads_back_as_written_in_parallel_strips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.tif");
        let (rows, cols) = (1100, 37);
        let data: Vec<u16> = (0..rows * cols).map(|i| (i * 7 % 65536) as u16).collect();
        write_u16(&p, &data, (rows, cols), &utm(), Some(0.0), true).unwrap();
        let (h, got) = read_u16(&p).unwrap();
        assert_eq!(h.shape, (rows, cols));
        assert_eq!(h.data_type, "UInt16");
        assert_eq!(h.georef.unwrap().transform[1], 30.0);
        assert_eq!(got.as_slice(), &data[..]);
    }

    #[test]
    fn jp2_bands_read_back_exactly_and_bin_keeping_fill_and_saturation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("T50SLH_B02.jp2");
        let (rows, cols) = (40, 24);
        let mut data: Vec<u16> = (0..rows * cols).map(|i| (1000 + i * 3) as u16).collect();
        data[0] = 0; // fill in the first 2 × 2 block
        data[cols + 3] = 65535; // saturation in the second
        write_jp2(&p, &[&data[..]], (rows, cols), &utm(), 32).unwrap();
        let (h, got) = read_u16(&p).unwrap();
        assert_eq!(h.shape, (rows, cols));
        assert_eq!(h.georef.unwrap().transform[0], 500_000.0);
        assert_eq!(got.as_slice(), &data[..], "lossless");
        let (_, b) = read_u16_binned(&p, 2, 0, 65535).unwrap();
        assert_eq!(b.shape(), (20, 12));
        assert_eq!(b.as_slice()[0], 0);
        assert_eq!(b.as_slice()[1], 65535);
        // (r, c) = (2, 4)…(3, 5): the rounded mean of the four.
        let v = |r: usize, c: usize| data[r * cols + c] as u32;
        let mean = (v(2, 4) + v(2, 5) + v(3, 4) + v(3, 5) + 2) / 4;
        assert_eq!(b.as_slice()[12 + 2] as u32, mean);
        // A multi-band mask, band 2 read alone.
        let q = dir.path().join("MSK_CLASSI_B00.jp2");
        let a: Vec<u8> = vec![1; rows * cols];
        let c: Vec<u8> = (0..rows * cols).map(|i| (i % 2) as u8).collect();
        write_jp2(&q, &[&a[..], &c[..]], (rows, cols), &utm(), 32).unwrap();
        let (_, got) = read_band::<u8>(&q, 2).unwrap();
        assert_eq!(got.as_slice(), &c[..]);
        assert!(read_u16_binned(&p, 7, 0, 65535).is_err());
    }

    #[test]
    fn blocks_of_several_files_cover_the_grid_once_in_any_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (rows, cols) = (300, 270);
        let a: Vec<u16> = (0..rows * cols).map(|i| (i % 65521) as u16).collect();
        let b: Vec<u16> = a.iter().map(|v| v.wrapping_mul(3)).collect();
        let (pa, pb) = (dir.path().join("a.tif"), dir.path().join("b.tif"));
        write_u16(&pa, &a, (rows, cols), &utm(), None, true).unwrap();
        write_u16(&pb, &b, (rows, cols), &utm(), None, false).unwrap();
        let header = band_header(&pa).unwrap();
        for plan in [
            BlockPlan::of(&header),
            BlockPlan {
                strip_rows: 7,
                block_cols: 13,
            },
            BlockPlan {
                strip_rows: 1000,
                block_cols: 1,
            },
        ] {
            let n = plan.strips(rows);
            let got = read_blocks(
                &[pa.as_path(), pb.as_path()],
                (rows, cols),
                plan,
                vec![Vec::new(); n],
                |seen: &mut Vec<(usize, usize, u16, u16)>, blk| {
                    for i in 0..blk.rows {
                        for j in 0..blk.cols {
                            let k = i * blk.cols + j;
                            seen.push((blk.r0 + i, blk.c0 + j, blk.bands[0][k], blk.bands[1][k]));
                        }
                    }
                },
            )
            .unwrap();
            let mut all: Vec<_> = got.into_iter().flatten().collect();
            all.sort();
            assert_eq!(all.len(), rows * cols, "{plan:?}");
            for (r, c, x, y) in all {
                assert_eq!(
                    (x, y),
                    (a[r * cols + c], b[r * cols + c]),
                    "{plan:?} at {r},{c}"
                );
            }
        }
        // A file of another size is named.
        let pc = dir.path().join("c.tif");
        write_u16(&pc, &a[..rows * 10], (rows, 10), &utm(), None, false).unwrap();
        let err = read_blocks(
            &[pa.as_path(), pc.as_path()],
            (rows, cols),
            BlockPlan::of(&header),
            vec![(); BlockPlan::of(&header).strips(rows)],
            |_, _| {},
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("c.tif"), "{err}");
    }

    #[test]
    fn a_truncated_band_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.tif");
        let data: Vec<u16> = (0..300 * 300).map(|i| (i % 4000) as u16).collect();
        write_u16(&p, &data, (300, 300), &utm(), None, false).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_u16(&p).unwrap_err().to_string();
        assert!(err.contains("b.tif"), "{err}");
    }
}
