//! The HDF4 boundary of the product readers and writers (MODIS L1B and geolocation): open or
//! create a file, read and write Scientific Data Sets (SDS) and their attributes, name their
//! dimensions, and group them in the Vgroups an HDF-EOS2 swath has; every failure names the file
//! and the object.
//!
//! Through a small FFI to the system HDF4 library (Debian `libhdf4-alt-dev`: `libmfhdfalt` for
//! the SD interface, `libdfalt` for H and V; the "alt" build renames its netCDF-2 API so it does
//! not clash with libnetcdf), not through GDAL's HDF4 driver, for three reasons:
//! - GDAL cannot write an SDS with attributes or an HDF-EOS swath (FORMATS.md §4: its HDF4Image
//!   driver writes one SDS "3-dimensional Scientific Dataset" and drops band metadata), so the
//!   writer needs the library anyway; no HDF4 crate exists on crates.io (`hdf4`, `hdf4-sys`,
//!   `hdf` not found).
//! - HDF4 is not thread-safe. GDAL serialises its own HDF4 calls behind a mutex private to GDAL;
//!   a writer calling the library beside it (tests write and read granules on parallel threads)
//!   would race it. Here every call takes one process-wide lock ([`lock`]), the reader's and the
//!   writer's alike; code that opens an HDF4 file through GDAL in this process (the benchmark's
//!   read floor, a test's cross-check) holds the same lock.
//! - Attributes come typed (a `float32[16]` of radiance scales, not GDAL's comma-separated
//!   string), and a 3-D SDS is read one band (a hyperslab) at a time straight into a `Vec`.
//!
//! The library is the same shared object GDAL links (`libmfhdfalt.so.0`, `libdfalt.so.0`), so
//! one copy of HDF4's state lives in the process.
//!
//! The crate denies `unsafe_code` (`[lints]` in Cargo.toml); this module allows it whole, as
//! the only foreign library the crate calls itself: every call passes a NUL-terminated name and
//! a buffer whose length was checked against the SDS's or attribute's size first. The other
//! places allow it call by call, each with its `SAFETY` comment (`grep -rn 'allow(unsafe_code)'
//! src`): the AVX2 dispatches of the detectors (`detect/strip.rs`, `detect/oli/pixel.rs`),
//! locate's AVX dispatch (`locate/window_integral.rs`), its prefetch and the `set_len` after its
//! parallel fill (`locate/flat.rs`), the reads of GDAL's per-thread error state that the
//! gdal crate has no safe call for (`locate/layer.rs`), and glibc's `mallopt` for the locate
//! job's heap (`locate/heap.rs`).
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void, CString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use super::error::ProductError;

mod ffi {
    use std::ffi::{c_char, c_void};
    #[link(name = "mfhdfalt")]
    extern "C" {
        pub fn SDstart(name: *const c_char, accs: i32) -> i32;
        pub fn SDend(fid: i32) -> i32;
        pub fn SDcreate(fid: i32, name: *const c_char, nt: i32, rank: i32, dims: *const i32)
            -> i32;
        pub fn SDselect(fid: i32, index: i32) -> i32;
        pub fn SDnametoindex(fid: i32, name: *const c_char) -> i32;
        pub fn SDendaccess(id: i32) -> i32;
        pub fn SDgetinfo(
            id: i32,
            name: *mut c_char,
            rank: *mut i32,
            dims: *mut i32,
            nt: *mut i32,
            nattr: *mut i32,
        ) -> i32;
        pub fn SDsetattr(
            id: i32,
            name: *const c_char,
            nt: i32,
            count: i32,
            data: *const c_void,
        ) -> i32;
        pub fn SDfindattr(id: i32, name: *const c_char) -> i32;
        pub fn SDattrinfo(
            id: i32,
            index: i32,
            name: *mut c_char,
            nt: *mut i32,
            count: *mut i32,
        ) -> i32;
        pub fn SDreadattr(id: i32, index: i32, buf: *mut c_void) -> i32;
        pub fn SDreaddata(
            id: i32,
            start: *const i32,
            stride: *const i32,
            edge: *const i32,
            data: *mut c_void,
        ) -> i32;
        pub fn SDwritedata(
            id: i32,
            start: *const i32,
            stride: *const i32,
            edge: *const i32,
            data: *const c_void,
        ) -> i32;
        pub fn SDgetdimid(id: i32, number: i32) -> i32;
        pub fn SDsetdimname(dim_id: i32, name: *const c_char) -> i32;
        pub fn SDsetfillvalue(id: i32, value: *const c_void) -> i32;
        pub fn SDidtoref(id: i32) -> i32;
    }
    #[link(name = "dfalt")]
    extern "C" {
        pub fn Hopen(path: *const c_char, access: i32, ndds: i16) -> i32;
        pub fn Hclose(fid: i32) -> i32;
        pub fn Vinitialize(fid: i32) -> i32;
        pub fn Vfinish(fid: i32) -> i32;
        pub fn Vattach(fid: i32, vgid: i32, access: *const c_char) -> i32;
        pub fn Vdetach(vkey: i32) -> i32;
        pub fn Vsetname(vkey: i32, name: *const c_char) -> i32;
        pub fn Vsetclass(vkey: i32, class: *const c_char) -> i32;
        pub fn Vaddtagref(vkey: i32, tag: i32, reference: i32) -> i32;
        pub fn Vinsert(vkey: i32, insert_key: i32) -> i32;
        pub fn HEvalue(level: i32) -> i32;
        pub fn HEstring(code: i32) -> *const c_char;
    }
}

const FAIL: i32 = -1;
const DFACC_READ: i32 = 1;
const DFACC_WRITE: i32 = 2;
const DFACC_CREATE: i32 = 4;
/// `DFTAG_NDG`: the tag of a numeric data group, how an SDS is referred to inside a Vgroup.
const DFTAG_NDG: i32 = 720;
/// `H4_MAX_NC_NAME`: the longest SDS or attribute name.
const MAX_NAME: usize = 256;
/// `H4_MAX_VAR_DIMS`.
const MAX_DIMS: usize = 32;

static LIBRARY: Mutex<()> = Mutex::new(());

/// The process-wide HDF4 lock: held by every call here, and to be held by any other code that
/// lets GDAL open an HDF4 file in this process.
pub fn lock() -> MutexGuard<'static, ()> {
    LIBRARY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The HDF4 number types this boundary reads and writes (`hntdefs.h`).
pub trait H4Type: Copy + Default + 'static {
    const NT: i32;
}
impl H4Type for u8 {
    const NT: i32 = 21;
}
impl H4Type for i8 {
    const NT: i32 = 20;
}
impl H4Type for i16 {
    const NT: i32 = 22;
}
impl H4Type for u16 {
    const NT: i32 = 23;
}
impl H4Type for i32 {
    const NT: i32 = 24;
}
impl H4Type for u32 {
    const NT: i32 = 25;
}
impl H4Type for f32 {
    const NT: i32 = 5;
}
impl H4Type for f64 {
    const NT: i32 = 6;
}
/// `DFNT_CHAR8`.
const NT_CHAR: i32 = 4;

fn nt_name(nt: i32) -> &'static str {
    match nt {
        4 => "char8",
        5 => "float32",
        6 => "float64",
        20 => "int8",
        21 => "uint8",
        22 => "int16",
        23 => "uint16",
        24 => "int32",
        25 => "uint32",
        _ => "another type",
    }
}

fn nt_size(nt: i32) -> usize {
    match nt {
        4 | 20 | 21 => 1,
        22 | 23 => 2,
        5 | 24 | 25 => 4,
        6 => 8,
        _ => 8,
    }
}

/// An attribute's value as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Text(String),
    F32(Vec<f32>),
    F64(Vec<f64>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    I16(Vec<i16>),
    U16(Vec<u16>),
    I32(Vec<i32>),
    U32(Vec<u32>),
}

impl Attr {
    /// Numbers of any numeric type as f64; a text attribute split at commas and spaces (how the
    /// products write `band_names`, and how some writers store numeric lists).
    pub fn numbers(&self) -> Vec<f64> {
        match self {
            Attr::Text(s) => s
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty())
                .filter_map(|t| t.parse().ok())
                .collect(),
            Attr::F32(v) => v.iter().map(|&x| x as f64).collect(),
            Attr::F64(v) => v.clone(),
            Attr::I8(v) => v.iter().map(|&x| x as f64).collect(),
            Attr::U8(v) => v.iter().map(|&x| x as f64).collect(),
            Attr::I16(v) => v.iter().map(|&x| x as f64).collect(),
            Attr::U16(v) => v.iter().map(|&x| x as f64).collect(),
            Attr::I32(v) => v.iter().map(|&x| x as f64).collect(),
            Attr::U32(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// The text of a character attribute.
    pub fn text(&self) -> Option<&str> {
        match self {
            Attr::Text(s) => Some(s),
            _ => None,
        }
    }
}

fn library_message() -> String {
    // SAFETY: HEvalue and HEstring only read the library's error stack; HEstring returns a
    // pointer to a static string (or NULL).
    unsafe {
        let code = ffi::HEvalue(1);
        let p = ffi::HEstring(code);
        if p.is_null() {
            return format!("HDF4 error {code}");
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

fn cstring(path: &Path, what: &str) -> Result<CString, ProductError> {
    CString::new(what).map_err(|_| ProductError::Bad {
        path: path.to_path_buf(),
        variable: what.replace('\0', "\\0"),
        message: "a name with a NUL byte".into(),
    })
}

fn path_cstring(path: &Path) -> Result<CString, ProductError> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| ProductError::Open {
        path: path.to_path_buf(),
        format: "HDF4",
        message: "a path with a NUL byte".into(),
    })
}

/// An open HDF4 file (the SD interface). Closed on drop; [`SdFile::close`] reports a failure to
/// flush a written file.
#[derive(Debug)]
pub struct SdFile {
    id: i32,
    path: PathBuf,
    writable: bool,
}

impl SdFile {
    /// Opens an HDF4 file for reading; a missing, truncated or non-HDF4 file is `Open`.
    pub fn open(path: &Path) -> Result<SdFile, ProductError> {
        let open_err = |message: String| ProductError::Open {
            path: path.to_path_buf(),
            format: "HDF4",
            message,
        };
        std::fs::metadata(path).map_err(|e| open_err(e.to_string()))?;
        let c = path_cstring(path)?;
        let _g = lock();
        // SAFETY: a NUL-terminated path; the id is checked.
        let id = unsafe { ffi::SDstart(c.as_ptr(), DFACC_READ) };
        if id == FAIL {
            return Err(open_err(library_message()));
        }
        Ok(SdFile {
            id,
            path: path.to_path_buf(),
            writable: false,
        })
    }

    /// Creates (truncates) an HDF4 file for writing.
    pub fn create(path: &Path) -> Result<SdFile, ProductError> {
        let c = path_cstring(path)?;
        let _g = lock();
        // SAFETY: as in `open`.
        let id = unsafe { ffi::SDstart(c.as_ptr(), DFACC_CREATE) };
        if id == FAIL {
            return Err(ProductError::Write {
                path: path.to_path_buf(),
                variable: String::new(),
                message: library_message(),
            });
        }
        Ok(SdFile {
            id,
            path: path.to_path_buf(),
            writable: true,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_err(&self, variable: &str) -> ProductError {
        ProductError::Write {
            path: self.path.clone(),
            variable: variable.to_string(),
            message: library_message(),
        }
    }

    /// Whether an SDS of this name exists.
    pub fn has(&self, name: &str) -> bool {
        let Ok(c) = CString::new(name) else {
            return false;
        };
        let _g = lock();
        // SAFETY: a NUL-terminated name.
        unsafe { ffi::SDnametoindex(self.id, c.as_ptr()) != FAIL }
    }

    /// An SDS by name; `Missing` when the file has none.
    pub fn dataset(&self, name: &str) -> Result<Sds<'_>, ProductError> {
        let c = cstring(&self.path, name)?;
        let _g = lock();
        // SAFETY: a NUL-terminated name; ids checked.
        let index = unsafe { ffi::SDnametoindex(self.id, c.as_ptr()) };
        if index == FAIL {
            return Err(ProductError::Missing {
                path: self.path.clone(),
                what: "SDS",
                name: name.to_string(),
            });
        }
        let id = unsafe { ffi::SDselect(self.id, index) };
        if id == FAIL {
            return Err(ProductError::Read {
                path: self.path.clone(),
                variable: name.to_string(),
                message: library_message(),
            });
        }
        let mut buf = [0 as c_char; MAX_NAME + 1];
        let (mut rank, mut nt, mut nattr) = (0i32, 0i32, 0i32);
        let mut dims = [0i32; MAX_DIMS];
        // SAFETY: buffers of the library's maximum name length and rank.
        let ok = unsafe {
            ffi::SDgetinfo(
                id,
                buf.as_mut_ptr(),
                &mut rank,
                dims.as_mut_ptr(),
                &mut nt,
                &mut nattr,
            )
        };
        if ok == FAIL {
            let message = library_message();
            // SAFETY: the id selected above, ended once.
            unsafe { ffi::SDendaccess(id) };
            return Err(ProductError::Read {
                path: self.path.clone(),
                variable: name.to_string(),
                message,
            });
        }
        drop(_g);
        let sds = Sds {
            file: self,
            id,
            name: name.to_string(),
            dims: dims[..rank.clamp(0, MAX_DIMS as i32) as usize]
                .iter()
                .map(|&d| d.max(0) as usize)
                .collect(),
            nt,
        };
        Ok(sds)
    }

    /// A global (file) attribute, `None` when absent.
    pub fn attr(&self, name: &str) -> Result<Option<Attr>, ProductError> {
        read_attr(self.id, &self.path, "", name)
    }

    /// Sets a global attribute.
    pub fn set_attr(&self, name: &str, value: &Attr) -> Result<(), ProductError> {
        write_attr(self.id, &self.path, "", name, value)
    }

    /// Creates an SDS of element type `T` and the given dimension sizes (row-major, slowest
    /// first).
    pub fn create_dataset<T: H4Type>(
        &self,
        name: &str,
        dims: &[usize],
    ) -> Result<Sds<'_>, ProductError> {
        let c = cstring(&self.path, name)?;
        let d: Vec<i32> = dims.iter().map(|&x| x as i32).collect();
        let _g = lock();
        // SAFETY: a NUL-terminated name and `rank` dimension sizes.
        let id = unsafe { ffi::SDcreate(self.id, c.as_ptr(), T::NT, d.len() as i32, d.as_ptr()) };
        if id == FAIL {
            return Err(self.write_err(name));
        }
        Ok(Sds {
            file: self,
            id,
            name: name.to_string(),
            dims: dims.to_vec(),
            nt: T::NT,
        })
    }

    /// Groups the named SDS as an HDF-EOS2 swath does: a Vgroup `swath` of class `SWATH` holding
    /// the Vgroups `Geolocation Fields`, `Data Fields` and `Swath Attributes` (class
    /// `SWATH Vgroup`), the fields added to theirs by `DFTAG_NDG` reference (FORMATS.md §4;
    /// HDF-EOS2 `SWcreate`/`SWdefgeofield`). Without it GDAL and the HDF-EOS library see plain
    /// SDS, not a swath.
    pub fn eos_swath(&self, swath: &str, geo: &[&str], data: &[&str]) -> Result<(), ProductError> {
        let refs = |names: &[&str]| -> Result<Vec<i32>, ProductError> {
            names
                .iter()
                .map(|n| {
                    let s = self.dataset(n)?;
                    let _g = lock();
                    // SAFETY: an open SDS id.
                    let r = unsafe { ffi::SDidtoref(s.id) };
                    if r == FAIL {
                        Err(self.write_err(n))
                    } else {
                        Ok(r)
                    }
                })
                .collect()
        };
        let geo_refs = refs(geo)?;
        let data_refs = refs(data)?;
        let c = path_cstring(&self.path)?;
        let names = [
            cstring(&self.path, swath)?,
            cstring(&self.path, "Geolocation Fields")?,
            cstring(&self.path, "Data Fields")?,
            cstring(&self.path, "Swath Attributes")?,
        ];
        let (swath_class, member_class) = (
            cstring(&self.path, "SWATH")?,
            cstring(&self.path, "SWATH Vgroup")?,
        );
        let w = cstring(&self.path, "w")?;
        let _g = lock();
        // SAFETY: NUL-terminated names; every id checked; vgroups detached and the H interface
        // closed on every path below.
        unsafe {
            let hid = ffi::Hopen(c.as_ptr(), DFACC_WRITE, 0);
            if hid == FAIL {
                return Err(self.write_err(swath));
            }
            let mut ok = ffi::Vinitialize(hid) != FAIL;
            let mut keys = Vec::new();
            if ok {
                for (i, name) in names.iter().enumerate() {
                    let k = ffi::Vattach(hid, -1, w.as_ptr());
                    if k == FAIL {
                        ok = false;
                        break;
                    }
                    keys.push(k);
                    let class = if i == 0 { &swath_class } else { &member_class };
                    ok &= ffi::Vsetname(k, name.as_ptr()) != FAIL;
                    ok &= ffi::Vsetclass(k, class.as_ptr()) != FAIL;
                }
            }
            if ok {
                for &k in &keys[1..] {
                    ok &= ffi::Vinsert(keys[0], k) != FAIL;
                }
                for &r in &geo_refs {
                    ok &= ffi::Vaddtagref(keys[1], DFTAG_NDG, r) != FAIL;
                }
                for &r in &data_refs {
                    ok &= ffi::Vaddtagref(keys[2], DFTAG_NDG, r) != FAIL;
                }
            }
            let message = (!ok).then(library_message);
            for k in keys {
                ffi::Vdetach(k);
            }
            ffi::Vfinish(hid);
            ok &= ffi::Hclose(hid) != FAIL;
            if !ok {
                return Err(ProductError::Write {
                    path: self.path.clone(),
                    variable: swath.to_string(),
                    message: message.unwrap_or_else(library_message),
                });
            }
        }
        Ok(())
    }

    /// Ends access, reporting a failure to write the file out.
    pub fn close(mut self) -> Result<(), ProductError> {
        let id = std::mem::replace(&mut self.id, FAIL);
        let _g = lock();
        // SAFETY: an open file id, ended once.
        if unsafe { ffi::SDend(id) } == FAIL && self.writable {
            return Err(ProductError::Write {
                path: self.path.clone(),
                variable: String::new(),
                message: library_message(),
            });
        }
        Ok(())
    }
}

impl Drop for SdFile {
    fn drop(&mut self) {
        if self.id != FAIL {
            let _g = lock();
            // SAFETY: an open file id, ended once.
            unsafe { ffi::SDend(self.id) };
        }
    }
}

/// One SDS of an open file. Access ends on drop.
#[derive(Debug)]
pub struct Sds<'f> {
    file: &'f SdFile,
    id: i32,
    name: String,
    dims: Vec<usize>,
    nt: i32,
}

impl Sds<'_> {
    /// Dimension sizes, slowest first.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// An attribute of this SDS, `None` when absent.
    pub fn attr(&self, name: &str) -> Result<Option<Attr>, ProductError> {
        read_attr(self.id, &self.file.path, &self.name, name)
    }

    /// An attribute that must be there.
    pub fn required_attr(&self, name: &str) -> Result<Attr, ProductError> {
        self.attr(name)?.ok_or_else(|| ProductError::Missing {
            path: self.file.path.clone(),
            what: "attribute",
            name: format!("{}:{name}", self.name),
        })
    }

    pub fn set_attr(&self, name: &str, value: &Attr) -> Result<(), ProductError> {
        write_attr(self.id, &self.file.path, &self.name, name, value)
    }

    /// Names dimension `index` (0 = slowest).
    pub fn set_dim_name(&self, index: usize, name: &str) -> Result<(), ProductError> {
        let c = cstring(&self.file.path, name)?;
        let _g = lock();
        // SAFETY: an open SDS id, a dimension index below its rank (checked), a C name.
        let ok = index < self.dims.len()
            && unsafe {
                let dim = ffi::SDgetdimid(self.id, index as i32);
                dim != FAIL && ffi::SDsetdimname(dim, c.as_ptr()) != FAIL
            };
        if ok {
            Ok(())
        } else {
            Err(self
                .file
                .write_err(&format!("{} dimension {index}", self.name)))
        }
    }

    /// Sets `_FillValue`.
    pub fn set_fill<T: H4Type>(&self, value: T) -> Result<(), ProductError> {
        self.check_type::<T>()?;
        let _g = lock();
        // SAFETY: a value of the SDS's own type.
        if unsafe { ffi::SDsetfillvalue(self.id, &value as *const T as *const c_void) } == FAIL {
            return Err(self.file.write_err(&format!("{}:_FillValue", self.name)));
        }
        Ok(())
    }

    fn check_type<T: H4Type>(&self) -> Result<(), ProductError> {
        if T::NT != self.nt {
            return Err(ProductError::Bad {
                path: self.file.path.clone(),
                variable: self.name.clone(),
                message: format!(
                    "stored as {}, expected {}",
                    nt_name(self.nt),
                    nt_name(T::NT)
                ),
            });
        }
        Ok(())
    }

    /// Writes the whole SDS (`data` row-major, its length the product of the dimensions).
    pub fn write<T: H4Type>(&self, data: &[T]) -> Result<(), ProductError> {
        self.check_type::<T>()?;
        let n: usize = self.dims.iter().product();
        if data.len() != n {
            return Err(ProductError::Shape {
                path: self.file.path.clone(),
                variable: self.name.clone(),
                found: vec![data.len()],
                expected: self.dims.clone(),
            });
        }
        let start = vec![0i32; self.dims.len()];
        let edge: Vec<i32> = self.dims.iter().map(|&d| d as i32).collect();
        let _g = lock();
        // SAFETY: `data` holds exactly the SDS's element count of its type.
        let r = unsafe {
            ffi::SDwritedata(
                self.id,
                start.as_ptr(),
                std::ptr::null(),
                edge.as_ptr(),
                data.as_ptr() as *const c_void,
            )
        };
        if r == FAIL {
            return Err(self.file.write_err(&self.name));
        }
        Ok(())
    }

    /// Writes the hyperslab at `start` of size `count` (row-major `data`).
    pub fn write_slab<T: H4Type>(
        &self,
        start: &[usize],
        count: &[usize],
        data: &[T],
    ) -> Result<(), ProductError> {
        self.check_type::<T>()?;
        let fits = start.len() == self.dims.len()
            && count.len() == self.dims.len()
            && start
                .iter()
                .zip(count)
                .zip(&self.dims)
                .all(|((&s, &c), &d)| s + c <= d)
            && data.len() == count.iter().product::<usize>();
        if !fits {
            return Err(ProductError::Shape {
                path: self.file.path.clone(),
                variable: self.name.clone(),
                found: count.to_vec(),
                expected: self.dims.clone(),
            });
        }
        let s: Vec<i32> = start.iter().map(|&x| x as i32).collect();
        let e: Vec<i32> = count.iter().map(|&x| x as i32).collect();
        let _g = lock();
        // SAFETY: `data` holds exactly the slab's element count of the SDS's type.
        let r = unsafe {
            ffi::SDwritedata(
                self.id,
                s.as_ptr(),
                std::ptr::null(),
                e.as_ptr(),
                data.as_ptr() as *const c_void,
            )
        };
        if r == FAIL {
            return Err(self.file.write_err(&self.name));
        }
        Ok(())
    }

    /// Reads the whole SDS as f64 whatever its numeric element type (for lists whose type the
    /// products do not pin down, e.g. MOD14's `FP_*`).
    pub fn read_f64(&self) -> Result<Vec<f64>, ProductError> {
        fn all<T: H4Type + Into<f64>>(s: &Sds<'_>) -> Result<Vec<f64>, ProductError> {
            Ok(s.read::<T>()?.into_iter().map(Into::into).collect())
        }
        match self.nt {
            <u8 as H4Type>::NT => all::<u8>(self),
            <i8 as H4Type>::NT => all::<i8>(self),
            <i16 as H4Type>::NT => all::<i16>(self),
            <u16 as H4Type>::NT => all::<u16>(self),
            <i32 as H4Type>::NT => all::<i32>(self),
            <u32 as H4Type>::NT => all::<u32>(self),
            <f32 as H4Type>::NT => all::<f32>(self),
            <f64 as H4Type>::NT => all::<f64>(self),
            nt => Err(ProductError::Bad {
                path: self.file.path.clone(),
                variable: self.name.clone(),
                message: format!("element type {} is not numeric", nt_name(nt)),
            }),
        }
    }

    /// Reads the whole SDS.
    pub fn read<T: H4Type>(&self) -> Result<Vec<T>, ProductError> {
        let start = vec![0; self.dims.len()];
        self.read_slab(&start, &self.dims.clone())
    }

    /// Reads the hyperslab at `start` of size `count` (row-major).
    pub fn read_slab<T: H4Type>(
        &self,
        start: &[usize],
        count: &[usize],
    ) -> Result<Vec<T>, ProductError> {
        self.check_type::<T>()?;
        let fits = start.len() == self.dims.len()
            && count.len() == self.dims.len()
            && start
                .iter()
                .zip(count)
                .zip(&self.dims)
                .all(|((&s, &c), &d)| s + c <= d);
        if !fits {
            return Err(ProductError::Shape {
                path: self.file.path.clone(),
                variable: self.name.clone(),
                found: self.dims.clone(),
                expected: start.iter().zip(count).map(|(s, c)| s + c).collect(),
            });
        }
        let n: usize = count.iter().product();
        let mut out = vec![T::default(); n];
        let s: Vec<i32> = start.iter().map(|&x| x as i32).collect();
        let e: Vec<i32> = count.iter().map(|&x| x as i32).collect();
        let _g = lock();
        // SAFETY: `out` holds exactly the slab's element count of the SDS's type.
        let r = unsafe {
            ffi::SDreaddata(
                self.id,
                s.as_ptr(),
                std::ptr::null(),
                e.as_ptr(),
                out.as_mut_ptr() as *mut c_void,
            )
        };
        if r == FAIL {
            return Err(ProductError::Read {
                path: self.file.path.clone(),
                variable: self.name.clone(),
                message: library_message(),
            });
        }
        Ok(out)
    }
}

impl Drop for Sds<'_> {
    fn drop(&mut self) {
        let _g = lock();
        // SAFETY: an open SDS id, ended once.
        unsafe { ffi::SDendaccess(self.id) };
    }
}

fn read_attr(id: i32, path: &Path, owner: &str, name: &str) -> Result<Option<Attr>, ProductError> {
    let c = cstring(path, name)?;
    let bad = |message: String| ProductError::Read {
        path: path.to_path_buf(),
        variable: if owner.is_empty() {
            name.to_string()
        } else {
            format!("{owner}:{name}")
        },
        message,
    };
    let _g = lock();
    // SAFETY: a C name; the buffer below is sized from the attribute's own count and type.
    unsafe {
        let index = ffi::SDfindattr(id, c.as_ptr());
        if index == FAIL {
            return Ok(None);
        }
        let mut buf = [0 as c_char; MAX_NAME + 1];
        let (mut nt, mut count) = (0i32, 0i32);
        if ffi::SDattrinfo(id, index, buf.as_mut_ptr(), &mut nt, &mut count) == FAIL {
            return Err(bad(library_message()));
        }
        let count = count.max(0) as usize;
        let mut bytes = vec![0u8; count * nt_size(nt) + 1];
        if ffi::SDreadattr(id, index, bytes.as_mut_ptr() as *mut c_void) == FAIL {
            return Err(bad(library_message()));
        }
        bytes.truncate(count * nt_size(nt));
        fn cast<T: bytemuck::Pod>(b: &[u8]) -> Vec<T> {
            b.chunks_exact(std::mem::size_of::<T>())
                .map(bytemuck::pod_read_unaligned)
                .collect()
        }
        Ok(Some(match nt {
            NT_CHAR | 3 => {
                // Strings are stored without a terminator; some writers include one.
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                Attr::Text(String::from_utf8_lossy(&bytes[..end]).into_owned())
            }
            5 => Attr::F32(cast(&bytes)),
            6 => Attr::F64(cast(&bytes)),
            20 => Attr::I8(cast(&bytes)),
            21 => Attr::U8(bytes),
            22 => Attr::I16(cast(&bytes)),
            23 => Attr::U16(cast(&bytes)),
            24 => Attr::I32(cast(&bytes)),
            25 => Attr::U32(cast(&bytes)),
            other => return Err(bad(format!("attribute of HDF4 type {other}"))),
        }))
    }
}

fn write_attr(
    id: i32,
    path: &Path,
    owner: &str,
    name: &str,
    value: &Attr,
) -> Result<(), ProductError> {
    let c = cstring(path, name)?;
    let (nt, count, ptr): (i32, usize, *const c_void) = match value {
        Attr::Text(s) => (NT_CHAR, s.len(), s.as_ptr() as *const c_void),
        Attr::F32(v) => (5, v.len(), v.as_ptr() as *const c_void),
        Attr::F64(v) => (6, v.len(), v.as_ptr() as *const c_void),
        Attr::I8(v) => (20, v.len(), v.as_ptr() as *const c_void),
        Attr::U8(v) => (21, v.len(), v.as_ptr() as *const c_void),
        Attr::I16(v) => (22, v.len(), v.as_ptr() as *const c_void),
        Attr::U16(v) => (23, v.len(), v.as_ptr() as *const c_void),
        Attr::I32(v) => (24, v.len(), v.as_ptr() as *const c_void),
        Attr::U32(v) => (25, v.len(), v.as_ptr() as *const c_void),
    };
    let _g = lock();
    // SAFETY: `ptr` points at `count` elements of type `nt` (borrowed from `value`, alive here).
    if unsafe { ffi::SDsetattr(id, c.as_ptr(), nt, count.max(1) as i32, ptr) } == FAIL {
        return Err(ProductError::Write {
            path: path.to_path_buf(),
            variable: if owner.is_empty() {
                name.to_string()
            } else {
                format!("{owner}:{name}")
            },
            message: library_message(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sds_attributes_and_slabs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.hdf");
        let f = SdFile::create(&p).unwrap();
        f.set_attr("title", &Attr::Text("hello".into())).unwrap();
        {
            let s = f.create_dataset::<u16>("cube", &[2, 3, 4]).unwrap();
            s.set_dim_name(0, "band:SW").unwrap();
            s.set_fill(65535u16).unwrap();
            s.set_attr("scales", &Attr::F32(vec![0.5, 2.0])).unwrap();
            s.set_attr("band_names", &Attr::Text("20, 21".into()))
                .unwrap();
            s.write(&(0..24u16).collect::<Vec<_>>()).unwrap();
        }
        f.eos_swath("SW", &[], &["cube"]).unwrap();
        f.close().unwrap();

        let f = SdFile::open(&p).unwrap();
        assert_eq!(f.attr("title").unwrap(), Some(Attr::Text("hello".into())));
        assert_eq!(f.attr("nope").unwrap(), None);
        let s = f.dataset("cube").unwrap();
        assert_eq!(s.dims(), &[2, 3, 4]);
        assert_eq!(s.attr("scales").unwrap().unwrap().numbers(), vec![0.5, 2.0]);
        assert_eq!(
            s.attr("band_names").unwrap().unwrap().numbers(),
            vec![20.0, 21.0]
        );
        assert_eq!(s.attr("_FillValue").unwrap(), Some(Attr::U16(vec![65535])));
        let band1: Vec<u16> = s.read_slab(&[1, 0, 0], &[1, 3, 4]).unwrap();
        assert_eq!(band1, (12..24).collect::<Vec<_>>());
        // A wrong type or slab is refused, naming the SDS.
        let e = s.read::<f32>().unwrap_err().to_string();
        assert!(e.contains("cube") && e.contains("uint16"), "{e}");
        assert!(s.read_slab::<u16>(&[1, 0, 0], &[2, 3, 4]).is_err());
        let e = f.dataset("missing").unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("t.hdf"), "{e}");
    }

    #[test]
    fn a_non_hdf4_file_is_an_open_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.hdf");
        std::fs::write(&p, b"not an hdf file at all").unwrap();
        let e = SdFile::open(&p).unwrap_err().to_string();
        assert!(e.contains("x.hdf") && e.contains("HDF4"), "{e}");
        let e = SdFile::open(&dir.path().join("none.hdf"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.hdf"), "{e}");
    }
}
