//! The `.zip` archives Sentinel-2 products are downloaded as (the Copernicus Data Space and
//! SciHub deliver `S2?_MSIL1C_…SAFE` zipped whole): the member list and one member's bytes (the
//! XML metadata), and writing such an archive (for fixtures and the inbox tests).
//!
//! Why our own few lines and not a crate: the band rasters are read in place by GDAL
//! (`/vsizip/`), so all we need is the central directory (PKWARE APPNOTE 6.3: end record
//! `PK\x05\x06` with the directory's size and offset; entries `PK\x01\x02` with method at 10,
//! compressed size at 20, size at 24, name length at 28, extra at 30, comment at 32, local
//! header offset at 42; local headers `PK\x03\x04` with name and extra lengths at 26 and 28),
//! ZIP64's extra field for archives past 4 GiB, and stored or DEFLATE members (flate2, already a
//! dependency). The writer stores members uncompressed (JP2 is already compressed).

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::ProductError;

/// One file in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's path inside the archive (`/`-separated).
    pub name: String,
    /// Byte offset of its local header.
    pub header_offset: u64,
    pub compressed_size: u64,
    pub size: u64,
    /// 0 stored, 8 deflated.
    pub method: u16,
}

fn bad(path: &Path, message: String) -> ProductError {
    ProductError::Bad {
        path: path.to_path_buf(),
        variable: "zip directory".into(),
        message,
    }
}

fn u16le(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64le(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Whether the file starts like a zip archive (a local header or an empty archive's end record).
pub fn looks_like_zip(path: &Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && (head == *b"PK\x03\x04" || head == *b"PK\x05\x06")
}

/// The files of a zip archive, in directory order (folders left out). A missing end record
/// (a truncated download) or a directory running past the end of the file is an error naming
/// the archive.
pub fn members(path: &Path) -> Result<Vec<Member>, ProductError> {
    let open_err = |e: std::io::Error| ProductError::Open {
        path: path.to_path_buf(),
        format: "zip",
        message: e.to_string(),
    };
    let mut f = std::fs::File::open(path).map_err(open_err)?;
    let len = f.metadata().map_err(open_err)?.len();
    // The end record lies in the last 22 + 65,535 (comment) bytes.
    let tail_len = len.min(22 + 65_535);
    let mut tail = vec![0u8; tail_len as usize];
    f.seek(SeekFrom::Start(len - tail_len)).map_err(open_err)?;
    f.read_exact(&mut tail).map_err(open_err)?;
    let Some(eocd) = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail[i..i + 4] == *b"PK\x05\x06")
    else {
        return Err(bad(
            path,
            "no end-of-directory record: not a zip archive, or truncated".into(),
        ));
    };
    let mut entries = u16le(&tail, eocd + 10) as u64;
    let mut dir_size = u32le(&tail, eocd + 12) as u64;
    let mut dir_offset = u32le(&tail, eocd + 16) as u64;
    // ZIP64: the locator sits just before the end record.
    if eocd >= 20 && tail[eocd - 20..eocd - 16] == *b"PK\x06\x07" {
        let rec = u64le(&tail, eocd - 20 + 8);
        let mut r = [0u8; 56];
        f.seek(SeekFrom::Start(rec)).map_err(open_err)?;
        f.read_exact(&mut r).map_err(open_err)?;
        if r[..4] != *b"PK\x06\x06" {
            return Err(bad(path, format!("bad ZIP64 end record at byte {rec}")));
        }
        entries = u64le(&r, 32);
        dir_size = u64le(&r, 40);
        dir_offset = u64le(&r, 48);
    }
    if dir_offset + dir_size > len {
        return Err(bad(
            path,
            format!(
                "the directory needs bytes {dir_offset}–{} but the archive ends at {len}: \
                 truncated",
                dir_offset + dir_size
            ),
        ));
    }
    let mut dir = vec![0u8; dir_size as usize];
    f.seek(SeekFrom::Start(dir_offset)).map_err(open_err)?;
    f.read_exact(&mut dir).map_err(open_err)?;
    let mut out = Vec::with_capacity(entries as usize);
    let mut at = 0usize;
    for i in 0..entries {
        if at + 46 > dir.len() || dir[at..at + 4] != *b"PK\x01\x02" {
            return Err(bad(path, format!("directory entry {i} is damaged")));
        }
        let method = u16le(&dir, at + 10);
        let mut compressed_size = u32le(&dir, at + 20) as u64;
        let mut size = u32le(&dir, at + 24) as u64;
        let name_len = u16le(&dir, at + 28) as usize;
        let extra_len = u16le(&dir, at + 30) as usize;
        let comment_len = u16le(&dir, at + 32) as usize;
        let mut header_offset = u32le(&dir, at + 42) as u64;
        let end = at + 46 + name_len + extra_len + comment_len;
        if end > dir.len() {
            return Err(bad(
                path,
                format!("directory entry {i} runs past the directory"),
            ));
        }
        let name = String::from_utf8_lossy(&dir[at + 46..at + 46 + name_len]).into_owned();
        // ZIP64 extra field (id 1): the 0xFFFFFFFF fields, in order.
        let mut x = at + 46 + name_len;
        let xend = x + extra_len;
        while x + 4 <= xend {
            let id = u16le(&dir, x);
            let n = u16le(&dir, x + 2) as usize;
            if id == 1 {
                let mut p = x + 4;
                for field in [&mut size, &mut compressed_size, &mut header_offset] {
                    if *field == 0xFFFF_FFFF && p + 8 <= x + 4 + n {
                        *field = u64le(&dir, p);
                        p += 8;
                    }
                }
            }
            x += 4 + n;
        }
        if !name.ends_with('/') {
            if header_offset + 30 + compressed_size > len {
                return Err(bad(
                    path,
                    format!(
                        "member `{name}` runs past the end of the archive ({len} bytes): \
                         truncated"
                    ),
                ));
            }
            out.push(Member {
                name,
                header_offset,
                compressed_size,
                size,
                method,
            });
        }
        at = end;
    }
    Ok(out)
}

/// The bytes of one member (stored or deflated).
pub fn read_member(path: &Path, m: &Member) -> Result<Vec<u8>, ProductError> {
    let err = |message: String| ProductError::Read {
        path: path.to_path_buf(),
        variable: m.name.clone(),
        message,
    };
    let io = |e: std::io::Error| err(e.to_string());
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = [0u8; 30];
    f.seek(SeekFrom::Start(m.header_offset)).map_err(io)?;
    f.read_exact(&mut h).map_err(io)?;
    if h[..4] != *b"PK\x03\x04" {
        return Err(err("no local header where the directory says".into()));
    }
    let skip = u16le(&h, 26) as u64 + u16le(&h, 28) as u64;
    f.seek(SeekFrom::Current(skip as i64)).map_err(io)?;
    let mut raw = vec![0u8; m.compressed_size as usize];
    f.read_exact(&mut raw).map_err(io)?;
    match m.method {
        0 => Ok(raw),
        8 => {
            let mut out = Vec::with_capacity(m.size as usize);
            flate2::read::DeflateDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .map_err(|e| err(format!("cannot inflate: {e}")))?;
            Ok(out)
        }
        other => Err(err(format!(
            "compression method {other} is not stored or DEFLATE"
        ))),
    }
}

/// GDAL's path to a member, read in place (`/vsizip/archive/member`).
pub fn vsi_path(archive: &Path, member: &str) -> PathBuf {
    let abs = std::path::absolute(archive).unwrap_or_else(|_| archive.to_path_buf());
    PathBuf::from(format!("/vsizip/{}/{member}", abs.display()))
}

/// Writes the files under `root` (recursively, named by their path below `root`'s parent, so a
/// zipped `X.SAFE` folder holds `X.SAFE/…` as Copernicus delivers it) into a stored zip archive
/// at `target`, beside it first, then renamed into place.
pub fn write_folder(target: &Path, root: &Path) -> Result<(), ProductError> {
    let err = |e: std::io::Error| ProductError::Write {
        path: target.to_path_buf(),
        variable: String::new(),
        message: e.to_string(),
    };
    let base = root.parent().unwrap_or(Path::new(""));
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).map_err(err)? {
            let p = e.map_err(err)?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    super::write::atomically(target, |tmp| {
        let mut out = std::io::BufWriter::new(std::fs::File::create(tmp).map_err(err)?);
        let mut central = Vec::new();
        let mut offset = 0u64;
        let n = files.len();
        for f in &files {
            let name = f
                .strip_prefix(base)
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/");
            let data = std::fs::read(f).map_err(err)?;
            let mut crc = flate2::Crc::new();
            crc.update(&data);
            let (crc, size) = (crc.sum(), data.len() as u32);
            if offset > u32::MAX as u64 || data.len() > u32::MAX as usize {
                return Err(ProductError::Unwritable {
                    product: "zip",
                    message: "archives past 4 GiB are not written (no ZIP64 in the writer)".into(),
                });
            }
            let mut local = Vec::with_capacity(30 + name.len());
            local.extend_from_slice(b"PK\x03\x04");
            local.extend_from_slice(&20u16.to_le_bytes()); // version needed
            local.extend_from_slice(&0u16.to_le_bytes()); // flags
            local.extend_from_slice(&0u16.to_le_bytes()); // stored
            local.extend_from_slice(&0u32.to_le_bytes()); // time, date
            local.extend_from_slice(&crc.to_le_bytes());
            local.extend_from_slice(&size.to_le_bytes());
            local.extend_from_slice(&size.to_le_bytes());
            local.extend_from_slice(&(name.len() as u16).to_le_bytes());
            local.extend_from_slice(&0u16.to_le_bytes());
            local.extend_from_slice(name.as_bytes());
            out.write_all(&local).map_err(err)?;
            out.write_all(&data).map_err(err)?;
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&20u16.to_le_bytes()); // made by
            central.extend_from_slice(&local[4..30]);
            central.extend_from_slice(&0u16.to_le_bytes()); // comment
            central.extend_from_slice(&0u16.to_le_bytes()); // disk
            central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            central.extend_from_slice(&(offset as u32).to_le_bytes());
            central.extend_from_slice(name.as_bytes());
            offset += local.len() as u64 + data.len() as u64;
        }
        out.write_all(&central).map_err(err)?;
        let mut end = Vec::with_capacity(22);
        end.extend_from_slice(b"PK\x05\x06");
        end.extend_from_slice(&[0u8; 4]);
        end.extend_from_slice(&(n as u16).to_le_bytes());
        end.extend_from_slice(&(n as u16).to_le_bytes());
        end.extend_from_slice(&(central.len() as u32).to_le_bytes());
        end.extend_from_slice(&(offset as u32).to_le_bytes());
        end.extend_from_slice(&0u16.to_le_bytes());
        out.write_all(&end).map_err(err)?;
        out.into_inner()
            .map_err(|e| err(e.into_error()))?
            .sync_all()
            .map_err(err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_archives_list_and_read_back_and_gdal_and_unzip_agree() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("X.SAFE");
        std::fs::create_dir_all(root.join("GRANULE/G")).unwrap();
        std::fs::write(root.join("MTD_MSIL1C.xml"), "<a/>").unwrap();
        std::fs::write(root.join("GRANULE/G/b.bin"), vec![9u8; 1500]).unwrap();
        let z = dir.path().join("X.zip");
        write_folder(&z, &root).unwrap();
        assert!(looks_like_zip(&z));
        let m = members(&z).unwrap();
        let names: Vec<&str> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["X.SAFE/GRANULE/G/b.bin", "X.SAFE/MTD_MSIL1C.xml"]);
        assert_eq!(read_member(&z, &m[0]).unwrap(), vec![9u8; 1500]);
        // GDAL lists what we write.
        let listed = gdal::vsi::read_dir(vsi_path(&z, "X.SAFE"), false).unwrap();
        assert_eq!(listed.len(), 2, "{listed:?}");
        // A deflated member (as `zip` writes them) reads back.
        if std::process::Command::new("zip")
            .current_dir(dir.path())
            .args(["-q", "-r", "Y.zip", "X.SAFE"])
            .status()
            .is_ok_and(|s| s.success())
        {
            let y = dir.path().join("Y.zip");
            let m = members(&y).unwrap();
            let b = m.iter().find(|m| m.name.ends_with("b.bin")).unwrap();
            assert_eq!(b.method, 8);
            assert_eq!(read_member(&y, b).unwrap(), vec![9u8; 1500]);
        }
        // Cut: no end record.
        let bytes = std::fs::read(&z).unwrap();
        std::fs::write(&z, &bytes[..bytes.len() - 30]).unwrap();
        let err = members(&z).unwrap_err().to_string();
        assert!(err.contains("truncated") && err.contains("X.zip"), "{err}");
    }
}
