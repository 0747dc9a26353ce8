//! Whole-band pixel buffers on transparent huge pages.
//!
//! A full VIIRS granule's band is 165 MB. Allocated as a `Vec`, it is a fresh anonymous mapping
//! of 4 KiB pages, and the first write to each page traps into the kernel: 40,000 page faults
//! per band, which cost a scan about as much as copying the pixels (a profile of a night scan
//! showed more time in the fault path than in the detector). Asked for huge pages, the kernel
//! faults a band in 2 MiB at a time, 512 times fewer traps.
//!
//! The request is `madvise(MADV_HUGEPAGE)` on a mapping we own, through memmap2's safe API:
//! a kernel whose transparent huge pages are off, or set to `never`, ignores it and the buffer
//! behaves like any other memory.

use memmap2::{MmapMut, MmapOptions};
use ndarray::{ArrayView2, ArrayViewMut2};

/// A band's pixels, row-major `(rows, cols)`, zero-initialised, in its own anonymous mapping.
/// Pixels are `f32` for bands read from scenes; the detector keeps its per-pixel class and bits
/// (`u8`) in the same kind of buffer, for the same reason, and because its later stages read
/// them at scattered places, where 2 MiB pages also spare the TLB.
pub struct BandBuf<T = f32> {
    map: MmapMut,
    shape: (usize, usize),
    pixel: std::marker::PhantomData<T>,
}

impl<T: bytemuck::Pod> BandBuf<T> {
    /// A zeroed buffer of `rows × cols` pixels; fails only when the system cannot map the memory.
    pub fn zeros(shape: (usize, usize)) -> std::io::Result<Self> {
        let bytes = shape.0 * shape.1 * std::mem::size_of::<T>();
        // memmap2 maps at least one byte; a page-aligned mapping is aligned for any pixel type.
        let map = MmapOptions::new().len(bytes.max(1)).map_anon()?;
        #[cfg(target_os = "linux")]
        {
            // Advice only: where huge pages are unavailable the pages are small, and correct.
            let _ = map.advise(memmap2::Advice::HugePage);
        }
        Ok(BandBuf {
            map,
            shape,
            pixel: std::marker::PhantomData,
        })
    }

    /// (rows, cols).
    pub fn shape(&self) -> (usize, usize) {
        self.shape
    }

    /// The pixels, row after row.
    pub fn as_slice(&self) -> &[T] {
        let bytes = self.shape.0 * self.shape.1 * std::mem::size_of::<T>();
        bytemuck::cast_slice(&self.map[..bytes])
    }

    /// The pixels, row after row, to fill.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let bytes = self.shape.0 * self.shape.1 * std::mem::size_of::<T>();
        bytemuck::cast_slice_mut(&mut self.map[..bytes])
    }

    /// The band as a 2-D view `[row, col]`.
    pub fn view(&self) -> ArrayView2<'_, T> {
        ArrayView2::from_shape(self.shape, self.as_slice()).expect("the buffer holds rows × cols")
    }

    /// The band as a mutable 2-D view `[row, col]`.
    pub fn view_mut(&mut self) -> ArrayViewMut2<'_, T> {
        let shape = self.shape;
        ArrayViewMut2::from_shape(shape, self.as_mut_slice()).expect("the buffer holds rows × cols")
    }
}

impl<T: bytemuck::Pod> Clone for BandBuf<T> {
    fn clone(&self) -> Self {
        let mut copy = BandBuf::zeros(self.shape).expect("memory for a copy of a band");
        copy.as_mut_slice().copy_from_slice(self.as_slice());
        copy
    }
}

impl<T: bytemuck::Pod + PartialEq> PartialEq for BandBuf<T> {
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.as_slice() == other.as_slice()
    }
}

impl<T> std::fmt::Debug for BandBuf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BandBuf({} × {})", self.shape.0, self.shape.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_is_written_row_major() {
        let mut b = BandBuf::zeros((3, 4)).unwrap();
        assert!(b.as_slice().iter().all(|&v| v == 0.0));
        b.view_mut()[[2, 1]] = 7.5;
        assert_eq!(b.as_slice()[2 * 4 + 1], 7.5);
        assert_eq!(b.view()[[2, 1]], 7.5);
        let c = b.clone();
        b.as_mut_slice()[0] = 1.0;
        assert_eq!((c.view()[[2, 1]], c.view()[[0, 0]]), (7.5, 0.0));
        assert_eq!(c.shape(), (3, 4));
    }

    #[test]
    fn holds_bytes_too() {
        let mut b = BandBuf::<u8>::zeros((5, 3)).unwrap();
        b.view_mut()[[4, 2]] = 9;
        assert_eq!(b.as_slice()[14], 9);
        assert_eq!(b.view().dim(), (5, 3));
    }

    #[test]
    fn empty_bands_are_fine() {
        let b = BandBuf::<f32>::zeros((0, 5)).unwrap();
        assert_eq!(b.view().dim(), (0, 5));
        assert!(b.as_slice().is_empty());
    }
}
