//! Reads chunked, deflate-compressed 2-D variables of a NetCDF-4/HDF5 file with their chunks
//! inflated in parallel, and hands each band of chunk rows to the caller while it is in cache.
//!
//! Why: the L1B variables are zlib-compressed chunks, and libhdf5 (under libnetcdf too)
//! serialises every call behind one global lock, so a read through the library decodes on one
//! core. Here the library is asked only where each chunk lies ([`Layout::of`]: metadata, under
//! its lock, once per variable); the chunks' bytes are then read with positioned reads,
//! inflated (libdeflate), un-shuffled straight into the band's rows and handed to the caller
//! ([`map_bands`]) on the rayon pool, one band of chunk rows per task. The caller converts the
//! band (counts to physical values, with the quality flags decoded beside it) while it is in
//! cache, so no whole array of raw counts is ever made.
//!
//! Where the time of the first version went (`phases`, BENCHMARKS.md "Product reading"):
//! miniz_oxide's inflate, 2–9× slower than libdeflate, and a second pass over whole arrays of
//! counts to convert them; not the chunk index (`H5Dget_chunk_info` per chunk: 2–38 ms a
//! variable of 202 chunks) nor the un-shuffle.
//!
//! Only the layouts this code understands take this path: 2-D, chunked, a filter pipeline of
//! deflate alone or shuffle then deflate, little-endian elements of the requested size, every
//! chunk written. Anything else answers `Ok(None)` and the caller reads through the library.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hdf5::filters::Filter;
use hdf5_metno as hdf5;
use rayon::prelude::*;

use super::error::ProductError;

/// One chunk's place in the file.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    /// First row and column of the chunk in the array.
    row: usize,
    col: usize,
    addr: u64,
    size: usize,
    /// Filters skipped for this chunk (bit i: filter i of the pipeline).
    filter_mask: u32,
}

/// Where a variable's chunks lie and how they are filtered: what [`map_bands`] needs to decode
/// it without the library.
#[derive(Debug, Clone)]
pub struct Layout {
    path: PathBuf,
    var_path: String,
    /// (rows, cols) of the array and of a chunk.
    shape: (usize, usize),
    chunk: (usize, usize),
    /// Bytes per element.
    elem: usize,
    /// Index of the shuffle filter in the pipeline, when there is one (always before deflate).
    shuffle: Option<usize>,
    /// Index of the deflate filter in the pipeline.
    deflate: usize,
    /// Band-major: the chunk of band `b` (chunk row) and column block `k` at `b * per_band + k`.
    chunks: Vec<Chunk>,
}

impl Layout {
    /// The layout of `var_path` (`group/name`) in `file` (opened from `path`), for elements of
    /// `elem` bytes in an array of `shape`; `Ok(None)` when it is not one this reader takes.
    pub fn of(
        file: &hdf5::File,
        path: &Path,
        var_path: &str,
        shape: (usize, usize),
        elem: usize,
    ) -> Result<Option<Layout>, ProductError> {
        hdf5::silence_errors(true);
        let Ok(ds) = file.dataset(var_path) else {
            return Ok(None);
        };
        if ds.shape() != [shape.0, shape.1] || shape.0 == 0 || shape.1 == 0 {
            return Ok(None);
        }
        let Ok(dtype) = ds.dtype() else {
            return Ok(None);
        };
        if dtype.size() != elem
            || dtype.byte_order() != hdf5::datatype::ByteOrder::LittleEndian && elem > 1
        {
            return Ok(None);
        }
        let Some(chunk) = ds.chunk() else {
            return Ok(None);
        };
        if chunk.len() != 2 || chunk[0] == 0 || chunk[1] == 0 {
            return Ok(None);
        }
        let (shuffle, deflate) = match ds.filters().as_slice() {
            [Filter::Deflate(_)] => (None, 0),
            [Filter::Shuffle, Filter::Deflate(_)] => (Some(0), 1),
            _ => return Ok(None),
        };
        let Some(n) = ds.num_chunks() else {
            return Ok(None);
        };
        let (crow, ccol) = (chunk[0], chunk[1]);
        let per_band = shape.1.div_ceil(ccol);
        let slots = shape.0.div_ceil(crow) * per_band;
        // Chunks never written hold the fill value; the products write every chunk, so a
        // variable with one missing is read through the library instead.
        if n != slots {
            return Ok(None);
        }
        let read_err = |message: String| ProductError::Read {
            path: path.to_path_buf(),
            variable: var_path.to_string(),
            message,
        };
        let mut placed: Vec<Option<Chunk>> = vec![None; slots];
        for i in 0..n {
            let info = ds
                .chunk_info(i)
                .ok_or_else(|| read_err(format!("no information on chunk {i}")))?;
            let (row, col) = (info.offset[0] as usize, info.offset[1] as usize);
            if row % crow != 0 || col % ccol != 0 || row >= shape.0 || col >= shape.1 {
                return Err(read_err(format!(
                    "chunk at ({row}, {col}) is off the chunk grid"
                )));
            }
            placed[row / crow * per_band + col / ccol] = Some(Chunk {
                row,
                col,
                addr: info.addr,
                size: info.size as usize,
                filter_mask: info.filter_mask,
            });
        }
        let Some(chunks) = placed.into_iter().collect::<Option<Vec<_>>>() else {
            return Ok(None);
        };
        Ok(Some(Layout {
            path: path.to_path_buf(),
            var_path: var_path.to_string(),
            shape,
            chunk: (crow, ccol),
            elem,
            shuffle,
            deflate,
            chunks,
        }))
    }

    /// Rows per chunk: the height of the bands [`map_bands`] hands over.
    pub fn chunk_rows(&self) -> usize {
        self.chunk.0
    }

    /// (rows, cols) of the array.
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    fn per_band(&self) -> usize {
        self.shape.1.div_ceil(self.chunk.1)
    }

    fn err(&self, message: String) -> ProductError {
        ProductError::Read {
            path: self.path.clone(),
            variable: self.var_path.clone(),
            message,
        }
    }

    /// Reads a chunk's stored bytes into `raw`.
    fn read_raw(&self, file: &File, c: &Chunk, raw: &mut Vec<u8>) -> Result<(), ProductError> {
        raw.resize(c.size, 0);
        file.read_exact_at(raw, c.addr)
            .map_err(|e| self.err(format!("chunk at ({}, {}): {e}", c.row, c.col)))
    }

    /// Inflates a chunk's stored bytes (unless its mask skipped deflate) into `inflated`; the
    /// chunk's filtered bytes, a whole chunk long.
    fn inflate<'a>(
        &self,
        c: &Chunk,
        raw: &'a [u8],
        inflater: &mut libdeflater::Decompressor,
        inflated: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], ProductError> {
        let chunk_bytes = self.chunk.0 * self.chunk.1 * self.elem;
        let bytes: &[u8] = if c.filter_mask & (1 << self.deflate) != 0 {
            raw
        } else {
            inflated.resize(chunk_bytes, 0);
            let n = inflater
                .zlib_decompress(raw, inflated)
                .map_err(|e| self.err(format!("chunk at ({}, {}): inflate: {e}", c.row, c.col)))?;
            &inflated[..n]
        };
        if bytes.len() != chunk_bytes {
            return Err(self.err(format!(
                "chunk at ({}, {}) holds {} bytes, not the {chunk_bytes} of a chunk",
                c.row,
                c.col,
                bytes.len()
            )));
        }
        Ok(bytes)
    }

    /// Puts a chunk's inflated bytes in place in its band (`band`: the band's rows, `cols`
    /// elements each), un-shuffling on the way when the chunk was shuffled.
    fn place(&self, c: &Chunk, bytes: &[u8], band: &mut [u8]) {
        let (crow, ccol) = self.chunk;
        let (rows, cols) = self.shape;
        let elem = self.elem;
        let n = crow * ccol;
        let band_rows = crow.min(rows - c.row);
        let width = ccol.min(cols - c.col);
        let shuffled = elem > 1 && self.shuffle.is_some_and(|i| c.filter_mask & (1 << i) == 0);
        for r in 0..band_rows {
            let dst = &mut band[(r * cols + c.col) * elem..(r * cols + c.col + width) * elem];
            if !shuffled {
                dst.copy_from_slice(&bytes[r * ccol * elem..(r * ccol + width) * elem]);
                continue;
            }
            // HDF5 shuffle: byte k of every element of the chunk stored together (plane k).
            let plane = |k: usize| &bytes[k * n + r * ccol..k * n + r * ccol + width];
            match elem {
                2 => {
                    for (d, (&a, &b)) in dst.chunks_exact_mut(2).zip(plane(0).iter().zip(plane(1)))
                    {
                        d[0] = a;
                        d[1] = b;
                    }
                }
                4 => {
                    let (p0, p1, p2, p3) = (plane(0), plane(1), plane(2), plane(3));
                    for (j, d) in dst.chunks_exact_mut(4).enumerate() {
                        d[0] = p0[j];
                        d[1] = p1[j];
                        d[2] = p2[j];
                        d[3] = p3[j];
                    }
                }
                _ => {
                    for k in 0..elem {
                        for (j, &b) in plane(k).iter().enumerate() {
                            dst[j * elem + k] = b;
                        }
                    }
                }
            }
        }
    }

    /// Decodes band `b` (chunk row `b`) into `band`: its rows, `cols` elements each.
    fn decode_band(
        &self,
        file: &File,
        b: usize,
        scratch: &mut Scratch,
        band: &mut [u8],
    ) -> Result<(), ProductError> {
        let per_band = self.per_band();
        for c in &self.chunks[b * per_band..(b + 1) * per_band] {
            self.read_raw(file, c, &mut scratch.raw)?;
            let bytes = self.inflate(
                c,
                &scratch.raw,
                &mut scratch.inflater,
                &mut scratch.inflated,
            )?;
            self.place(c, bytes, band);
        }
        Ok(())
    }
}

/// One worker's buffers.
struct Scratch {
    raw: Vec<u8>,
    inflated: Vec<u8>,
    inflater: libdeflater::Decompressor,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            raw: Vec::new(),
            inflated: Vec::new(),
            inflater: libdeflater::Decompressor::new(),
        }
    }
}

/// Decodes `vars` (arrays of one shape, chunked in bands of the same height) band by band on the
/// rayon pool and calls `f(first_row, decoded, out_rows)` for each band: `decoded[i]` is the
/// band of `vars[i]`, row-major, native-endian elements (8-byte aligned: cast it with
/// `bytemuck`), `out_rows` the same rows of `out` (`rows × cols` elements).
pub fn map_bands<U: Send>(
    vars: &[&Layout],
    out: &mut [U],
    f: impl Fn(usize, &[&[u8]], &mut [U]) + Sync,
) -> Result<(), ProductError> {
    let Some(first) = vars.first() else {
        return Ok(());
    };
    let (rows, cols) = first.shape;
    let crow = first.chunk.0;
    if let Some(v) = vars
        .iter()
        .find(|v| v.shape != first.shape || v.chunk.0 != crow)
    {
        return Err(v.err(format!(
            "decoded together with {} but chunked otherwise ({:?} of {:?} against {:?} of {:?})",
            first.var_path, v.chunk, v.shape, first.chunk, first.shape
        )));
    }
    if out.len() != rows * cols {
        return Err(first.err(format!(
            "{} values asked for a {rows} × {cols} array",
            out.len()
        )));
    }
    let files = vars
        .iter()
        .map(|v| File::open(&v.path).map_err(|e| v.err(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    out.par_chunks_mut(crow * cols)
        .enumerate()
        .try_for_each_init(
            || {
                let bands: Vec<Vec<u64>> = vars
                    .iter()
                    .map(|v| vec![0u64; (crow * cols * v.elem).div_ceil(8)])
                    .collect();
                (Scratch::new(), bands)
            },
            |(scratch, bands), (b, out_rows)| -> Result<(), ProductError> {
                let band_rows = out_rows.len() / cols;
                for ((v, file), band) in vars.iter().zip(&files).zip(bands.iter_mut()) {
                    let bytes: &mut [u8] = bytemuck::cast_slice_mut(band.as_mut_slice());
                    v.decode_band(file, b, scratch, &mut bytes[..band_rows * cols * v.elem])?;
                }
                let decoded: Vec<&[u8]> = vars
                    .iter()
                    .zip(bands.iter())
                    .map(|(v, band)| {
                        &bytemuck::cast_slice(band.as_slice())[..band_rows * cols * v.elem]
                    })
                    .collect();
                f(b * crow, &decoded, out_rows);
                Ok(())
            },
        )
}

/// Reads `var_path` (`group/name`) of `path` as `T` (u16, i16, u8, f32…), `shape` rows × cols,
/// inflating chunks in parallel; `Ok(None)` when the layout is not one this reader takes.
pub fn read_2d<T: bytemuck::Pod + Send + Sync>(
    path: &Path,
    var_path: &str,
    shape: (usize, usize),
) -> Result<Option<Vec<T>>, ProductError> {
    hdf5::silence_errors(true);
    let Ok(file) = hdf5::File::open(path) else {
        return Ok(None);
    };
    let Some(layout) = Layout::of(&file, path, var_path, shape, std::mem::size_of::<T>())? else {
        return Ok(None);
    };
    drop(file);
    let mut out = vec![T::zeroed(); shape.0 * shape.1];
    map_bands(&[&layout], &mut out, |_, decoded, rows| {
        rows.copy_from_slice(bytemuck::cast_slice(decoded[0]));
    })?;
    Ok(Some(out))
}

/// Seconds each phase of [`map_bands`] takes on one variable, each run alone on one thread
/// (the benchmark's breakdown of where the reader's time goes).
#[derive(Debug, Clone, Copy, Default)]
pub struct Phases {
    pub chunks: usize,
    /// Stored (compressed) and decoded bytes of the variable.
    pub stored_bytes: usize,
    pub decoded_bytes: usize,
    /// [`Layout::of`]: the chunk index through `H5Dget_chunk_info`, one call per chunk.
    pub index_s: f64,
    /// One `H5Dget_chunk_info` of the first chunk, and of the last (HDF5 1.10 walks the index
    /// from its start for each call, so the last costs more when the walk matters).
    pub first_chunk_info_s: f64,
    pub last_chunk_info_s: f64,
    /// Positioned reads of every chunk's stored bytes (page cache).
    pub read_s: f64,
    /// Inflating every chunk with libdeflate, and with flate2's default backend (miniz_oxide).
    pub inflate_s: f64,
    pub inflate_miniz_s: f64,
    /// Un-shuffling every inflated chunk into place.
    pub place_s: f64,
    /// The whole [`map_bands`] (copying each band out) on the rayon pool.
    pub parallel_s: f64,
}

/// Times the phases of decoding one variable ([`Phases`]); `Ok(None)` when the layout is not
/// this reader's.
pub fn phases(
    path: &Path,
    var_path: &str,
    shape: (usize, usize),
    elem: usize,
) -> Result<Option<Phases>, ProductError> {
    hdf5::silence_errors(true);
    let Ok(file) = hdf5::File::open(path) else {
        return Ok(None);
    };
    let t = Instant::now();
    let Some(layout) = Layout::of(&file, path, var_path, shape, elem)? else {
        return Ok(None);
    };
    let mut p = Phases {
        index_s: t.elapsed().as_secs_f64(),
        chunks: layout.chunks.len(),
        decoded_bytes: shape.0 * shape.1 * elem,
        ..Phases::default()
    };
    if let Ok(ds) = file.dataset(var_path) {
        let t = Instant::now();
        let _ = ds.chunk_info(0);
        p.first_chunk_info_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let _ = ds.chunk_info(layout.chunks.len() - 1);
        p.last_chunk_info_s = t.elapsed().as_secs_f64();
    }
    drop(file);
    let f = File::open(path).map_err(|e| layout.err(e.to_string()))?;
    let t = Instant::now();
    let mut raws = Vec::with_capacity(layout.chunks.len());
    for c in &layout.chunks {
        let mut raw = Vec::new();
        layout.read_raw(&f, c, &mut raw)?;
        p.stored_bytes += raw.len();
        raws.push(raw);
    }
    p.read_s = t.elapsed().as_secs_f64();
    let chunk_bytes = layout.chunk.0 * layout.chunk.1 * elem;
    let t = Instant::now();
    let mut z = flate2::Decompress::new(true);
    let mut inflated = vec![0u8; chunk_bytes];
    for raw in &raws {
        z.reset(true);
        z.decompress(raw, &mut inflated, flate2::FlushDecompress::Finish)
            .map_err(|e| layout.err(format!("miniz_oxide: {e}")))?;
    }
    p.inflate_miniz_s = t.elapsed().as_secs_f64();
    let mut inflater = libdeflater::Decompressor::new();
    let mut all = Vec::with_capacity(raws.len());
    let t = Instant::now();
    for (c, raw) in layout.chunks.iter().zip(&raws) {
        let mut out = Vec::new();
        layout.inflate(c, raw, &mut inflater, &mut out)?;
        all.push(out);
    }
    p.inflate_s = t.elapsed().as_secs_f64();
    let mut band = vec![0u8; layout.chunk.0 * shape.1 * elem];
    let t = Instant::now();
    for (c, bytes) in layout.chunks.iter().zip(&all) {
        let rows = layout.chunk.0.min(shape.0 - c.row);
        layout.place(c, bytes, &mut band[..rows * shape.1 * elem]);
    }
    p.place_s = t.elapsed().as_secs_f64();
    drop((raws, all));
    p.parallel_s = match elem {
        1 => timed_copy::<u8>(&layout)?,
        2 => timed_copy::<u16>(&layout)?,
        4 => timed_copy::<u32>(&layout)?,
        _ => f64::NAN,
    };
    Ok(Some(p))
}

/// Seconds [`map_bands`] takes to decode `layout` into a new array of `T`.
fn timed_copy<T: bytemuck::Pod + Send>(layout: &Layout) -> Result<f64, ProductError> {
    let mut out = vec![T::zeroed(); layout.shape.0 * layout.shape.1];
    let t = Instant::now();
    map_bands(&[layout], &mut out, |_, decoded, rows| {
        rows.copy_from_slice(bytemuck::cast_slice(decoded[0]));
    })?;
    Ok(t.elapsed().as_secs_f64())
}
#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, chunk: (usize, usize), deflate: Option<bool>) {
        let mut f = netcdf::create(path).unwrap();
        f.add_dimension("y", 30).unwrap();
        f.add_dimension("x", 25).unwrap();
        let mut g = f.add_group("g").unwrap();
        let u: Vec<u16> = (0..750).map(|i| (i * 37 % 65000) as u16).collect();
        let r: Vec<f32> = (0..750).map(|i| (i as f32).sin() * 100.0).collect();
        let s: Vec<i16> = (0..750).map(|i| (i as i16 - 300) * 7).collect();
        let b: Vec<u8> = (0..750).map(|i| (i % 251) as u8).collect();
        macro_rules! var {
            ($t:ty, $name:expr, $data:expr) => {{
                let mut v = g.add_variable::<$t>($name, &["y", "x"]).unwrap();
                v.set_chunking(&[chunk.0, chunk.1]).unwrap();
                if let Some(shuffle) = deflate {
                    v.set_compression(5, shuffle).unwrap();
                }
                v.put_values(&$data, ..).unwrap();
            }};
        }
        var!(u16, "u", u);
        var!(f32, "r", r);
        var!(i16, "s", s);
        var!(u8, "b", b);
    }

    fn library<T: netcdf::NcTypeDescriptor + Copy>(path: &Path, var: &str) -> Vec<T> {
        netcdf::open(path)
            .unwrap()
            .variable(var)
            .unwrap()
            .get_values(..)
            .unwrap()
    }

    #[test]
    fn parallel_chunks_read_what_the_library_reads() {
        let dir = tempfile::tempdir().unwrap();
        // Edge chunks on both axes (30 = 4×7 + 2, 25 = 2×10 + 5), with and without shuffle.
        for (k, shuffle) in [false, true].into_iter().enumerate() {
            let p = dir.path().join(format!("f{k}.nc"));
            write(&p, (7, 10), Some(shuffle));
            let s = (30, 25);
            assert_eq!(
                read_2d::<u16>(&p, "g/u", s).unwrap().unwrap(),
                library::<u16>(&p, "g/u")
            );
            assert_eq!(
                read_2d::<i16>(&p, "g/s", s).unwrap().unwrap(),
                library::<i16>(&p, "g/s")
            );
            assert_eq!(
                read_2d::<u8>(&p, "g/b", s).unwrap().unwrap(),
                library::<u8>(&p, "g/b")
            );
            let r = read_2d::<f32>(&p, "g/r", s).unwrap().unwrap();
            let want = library::<f32>(&p, "g/r");
            assert!(r.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
            // A wrong shape or element size is left to the library.
            assert!(read_2d::<u16>(&p, "g/u", (25, 30)).unwrap().is_none());
            assert!(read_2d::<u32>(&p, "g/u", s).unwrap().is_none());
        }
        // Uncompressed chunks: not this reader's layout.
        let p = dir.path().join("raw.nc");
        write(&p, (7, 10), None);
        assert!(read_2d::<u16>(&p, "g/u", (30, 25)).unwrap().is_none());
    }

    #[test]
    fn bands_of_two_variables_come_together_in_row_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.nc");
        write(&p, (7, 10), Some(true));
        let h5 = hdf5::File::open(&p).unwrap();
        let u = Layout::of(&h5, &p, "g/u", (30, 25), 2).unwrap().unwrap();
        let s = Layout::of(&h5, &p, "g/s", (30, 25), 2).unwrap().unwrap();
        assert_eq!(u.chunk_rows(), 7);
        // Each output pixel: the u16 plus the i16 of the same pixel, with its band's first row.
        let mut out = vec![(0i64, 0usize); 750];
        map_bands(&[&u, &s], &mut out, |r0, d, o| {
            let (a, b) = (
                bytemuck::cast_slice::<u8, u16>(d[0]),
                bytemuck::cast_slice::<u8, i16>(d[1]),
            );
            assert_eq!(a.len(), o.len());
            for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
                *o = (a as i64 + b as i64, r0);
            }
        })
        .unwrap();
        let (lu, ls) = (library::<u16>(&p, "g/u"), library::<i16>(&p, "g/s"));
        for (i, &(v, r0)) in out.iter().enumerate() {
            assert_eq!(v, lu[i] as i64 + ls[i] as i64, "pixel {i}");
            assert_eq!(r0, i / 25 / 7 * 7, "first row of pixel {i}'s band");
        }
        // Variables chunked otherwise cannot be decoded together.
        let q = dir.path().join("q.nc");
        write(&q, (5, 25), Some(true));
        let h5q = hdf5::File::open(&q).unwrap();
        let other = Layout::of(&h5q, &q, "g/u", (30, 25), 2).unwrap().unwrap();
        let err = map_bands(&[&u, &other], &mut out, |_, _, _| {}).unwrap_err();
        assert!(err.to_string().contains("chunked otherwise"), "{err}");
    }

    #[test]
    fn a_corrupt_chunk_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.nc");
        write(&p, (30, 25), Some(true));
        // Overwrite the middle of the file (the chunk data) with garbage.
        let mut bytes = std::fs::read(&p).unwrap();
        let n = bytes.len();
        let info = {
            let f = hdf5::File::open(&p).unwrap();
            f.dataset("g/u").unwrap().chunk_info(0).unwrap()
        };
        let at = info.addr as usize;
        for b in &mut bytes[at..(at + info.size as usize).min(n)] {
            *b = 0x55;
        }
        std::fs::write(&p, &bytes).unwrap();
        let err = read_2d::<u16>(&p, "g/u", (30, 25)).unwrap_err();
        assert!(
            err.to_string().contains("g/u") && err.to_string().contains("inflate"),
            "{err}"
        );
    }
}
