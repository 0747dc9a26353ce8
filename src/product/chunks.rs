//! Reads a chunked, deflate-compressed 2-D variable of a NetCDF-4/HDF5 file with its chunks
//! inflated in parallel.
//!
//! Why: the L1B variables are zlib-compressed chunks, and libhdf5 (under libnetcdf too)
//! serialises every call behind one global lock, so a read through the library decodes on one
//! core. Here the library is asked only where each chunk lies (`H5Dget_chunk_info`, cheap,
//! under its lock); the chunks' bytes are then read with positioned reads, inflated (flate2),
//! un-shuffled and copied into place on the rayon pool, one band of chunk rows per task.
//!
//! Only the layouts this code understands take this path: 2-D, chunked, a filter pipeline of
//! deflate alone or shuffle then deflate, little-endian elements of the requested size.
//! Anything else answers `Ok(None)` and the caller reads through the library as before.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use hdf5::filters::Filter;
use hdf5_metno as hdf5;
use rayon::prelude::*;

use super::error::ProductError;

/// One chunk's place in the file.
struct Chunk {
    /// First row and column of the chunk in the array.
    row: usize,
    col: usize,
    addr: u64,
    size: usize,
    /// Filters skipped for this chunk (bit i: filter i of the pipeline).
    filter_mask: u32,
}

/// Reads `var_path` (`group/name`) of `path` as `T` (u16, i16, u8, f32…), `shape` rows × cols,
/// inflating chunks in parallel; `Ok(None)` when the layout is not one this reader takes.
pub fn read_2d<T: bytemuck::Pod + Send + Sync + Default>(
    path: &Path,
    var_path: &str,
    shape: (usize, usize),
) -> Result<Option<Vec<T>>, ProductError> {
    let read_err = |message: String| ProductError::Read {
        path: path.to_path_buf(),
        variable: var_path.to_string(),
        message,
    };
    let elem = std::mem::size_of::<T>();
    // Layout, pipeline and chunk addresses from libhdf5 (serial, metadata only).
    let (chunk_shape, shuffle, deflate_index, chunks) = {
        hdf5::silence_errors(true);
        let Ok(file) = hdf5::File::open(path) else {
            return Ok(None);
        };
        let Ok(ds) = file.dataset(var_path) else {
            return Ok(None);
        };
        if ds.shape() != [shape.0, shape.1] {
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
        let filters = ds.filters();
        let (shuffle, deflate_index) = match filters.as_slice() {
            [Filter::Deflate(_)] => (None, 0),
            [Filter::Shuffle, Filter::Deflate(_)] => (Some(0), 1),
            _ => return Ok(None),
        };
        let Some(n) = ds.num_chunks() else {
            return Ok(None);
        };
        let mut chunks = Vec::with_capacity(n);
        for i in 0..n {
            let info = ds
                .chunk_info(i)
                .ok_or_else(|| read_err(format!("no information on chunk {i}")))?;
            chunks.push(Chunk {
                row: info.offset[0] as usize,
                col: info.offset[1] as usize,
                addr: info.addr,
                size: info.size as usize,
                filter_mask: info.filter_mask,
            });
        }
        ((chunk[0], chunk[1]), shuffle, deflate_index, chunks)
    };
    let (rows, cols) = shape;
    let (crow, ccol) = chunk_shape;
    let file = File::open(path).map_err(|e| read_err(e.to_string()))?;
    let mut out = vec![T::default(); rows * cols];
    // Chunks never written hold the fill value; the products write every chunk, so a missing
    // one is read through the library instead.
    let bands = rows.div_ceil(crow);
    let per_band = cols.div_ceil(ccol);
    if chunks.len() != bands * per_band {
        return Ok(None);
    }
    let mut by_band: Vec<Vec<&Chunk>> = (0..bands).map(|_| Vec::with_capacity(per_band)).collect();
    for c in &chunks {
        if c.row % crow != 0 || c.col % ccol != 0 || c.row >= rows || c.col >= cols {
            return Err(read_err(format!(
                "chunk at ({}, {}) is off the chunk grid",
                c.row, c.col
            )));
        }
        by_band[c.row / crow].push(c);
    }
    let chunk_bytes = crow * ccol * elem;
    out.par_chunks_mut(crow * cols)
        .zip(by_band.par_iter())
        .try_for_each(|(band, chunks)| -> Result<(), ProductError> {
            let mut raw = Vec::new();
            let mut inflated = vec![0u8; chunk_bytes];
            let mut unshuffled = vec![0u8; chunk_bytes];
            for c in chunks {
                raw.resize(c.size, 0);
                file.read_exact_at(&mut raw, c.addr)
                    .map_err(|e| read_err(format!("chunk at ({}, {}): {e}", c.row, c.col)))?;
                let skipped = |i: usize| c.filter_mask & (1 << i) != 0;
                let bytes: &[u8] = if skipped(deflate_index) {
                    &raw
                } else {
                    let mut z = flate2::read::ZlibDecoder::new(raw.as_slice());
                    z.read_exact(&mut inflated).map_err(|e| {
                        read_err(format!("chunk at ({}, {}): inflate: {e}", c.row, c.col))
                    })?;
                    &inflated
                };
                if bytes.len() < chunk_bytes {
                    return Err(read_err(format!(
                        "chunk at ({}, {}) is short",
                        c.row, c.col
                    )));
                }
                let bytes: &[u8] = match shuffle {
                    Some(i) if !skipped(i) && elem > 1 => {
                        // HDF5 shuffle: byte k of every element stored together.
                        let n = crow * ccol;
                        for k in 0..elem {
                            let plane = &bytes[k * n..(k + 1) * n];
                            for (j, &b) in plane.iter().enumerate() {
                                unshuffled[j * elem + k] = b;
                            }
                        }
                        &unshuffled
                    }
                    _ => &bytes[..chunk_bytes],
                };
                let values: &[T] = bytemuck::cast_slice(bytes);
                let band_rows = band.len() / cols;
                let width = ccol.min(cols - c.col);
                for r in 0..crow.min(band_rows) {
                    band[r * cols + c.col..r * cols + c.col + width]
                        .copy_from_slice(&values[r * ccol..r * ccol + width]);
                }
            }
            Ok(())
        })?;
    Ok(Some(out))
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
