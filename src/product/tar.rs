//! The plain `.tar` archives USGS delivers Landsat Collection 2 products in: the member list and
//! one member's bytes (the MTL), and writing such an archive (for fixtures and the inbox tests).
//!
//! Why our own few lines and not a crate: a product tar is uncompressed POSIX ustar with regular
//! files only, and its rasters are read in place by GDAL (`/vsitar/`), so all we need is the
//! header walk (512-byte headers: name at 0, size in octal at 124, type at 156, ustar prefix at
//! 345; POSIX.1-1988) and the inverse.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::ProductError;

/// One regular file in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's path inside the archive.
    pub name: String,
    /// Byte offset of its data in the archive.
    pub offset: u64,
    pub size: u64,
}

const BLOCK: u64 = 512;

fn bad(path: &Path, message: String) -> ProductError {
    ProductError::Bad {
        path: path.to_path_buf(),
        variable: "tar header".into(),
        message,
    }
}

fn octal(field: &[u8]) -> Option<u64> {
    let s: String = field
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let s = s.trim();
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn text(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// The regular files of a tar archive, in order. A header with a wrong checksum, or a member
/// running past the end of the file (a truncated download), is an error naming the archive.
pub fn members(path: &Path) -> Result<Vec<Member>, ProductError> {
    let open_err = |e: std::io::Error| ProductError::Open {
        path: path.to_path_buf(),
        format: "tar",
        message: e.to_string(),
    };
    let mut f = std::fs::File::open(path).map_err(open_err)?;
    let len = f.metadata().map_err(open_err)?.len();
    let mut out = Vec::new();
    let mut at = 0u64;
    let mut header = [0u8; BLOCK as usize];
    while at + BLOCK <= len {
        f.seek(SeekFrom::Start(at)).map_err(open_err)?;
        f.read_exact(&mut header).map_err(open_err)?;
        if header.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        let stored = octal(&header[148..156])
            .ok_or_else(|| bad(path, format!("unreadable checksum at byte {at}")))?;
        let sum: u64 = header
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    b as u64
                }
            })
            .sum();
        if sum != stored {
            return Err(bad(
                path,
                format!("checksum mismatch at byte {at}: not a tar archive, or corrupt"),
            ));
        }
        let size = octal(&header[124..136])
            .ok_or_else(|| bad(path, format!("unreadable size at byte {at}")))?;
        let mut name = text(&header[0..100]);
        if &header[257..262] == b"ustar" {
            let prefix = text(&header[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        let data = at + BLOCK;
        if data + size > len {
            return Err(bad(
                path,
                format!(
                    "member `{name}` needs {size} bytes at byte {data} but the archive ends at \
                     {len}: truncated"
                ),
            ));
        }
        if matches!(header[156], b'0' | 0) {
            out.push(Member {
                name,
                offset: data,
                size,
            });
        }
        at = data + size.div_ceil(BLOCK) * BLOCK;
    }
    if at < len || out.is_empty() {
        return Err(bad(
            path,
            format!("the archive ends inside a header at byte {at} (truncated)"),
        ));
    }
    Ok(out)
}

/// The bytes of one member.
pub fn read_member(path: &Path, m: &Member) -> Result<Vec<u8>, ProductError> {
    let err = |e: std::io::Error| ProductError::Read {
        path: path.to_path_buf(),
        variable: m.name.clone(),
        message: e.to_string(),
    };
    let mut f = std::fs::File::open(path).map_err(err)?;
    f.seek(SeekFrom::Start(m.offset)).map_err(err)?;
    let mut buf = vec![0u8; m.size as usize];
    f.read_exact(&mut buf).map_err(err)?;
    Ok(buf)
}

/// GDAL's path to a member, read in place (`/vsitar/archive/member`).
pub fn vsi_path(archive: &Path, member: &str) -> PathBuf {
    let abs = std::path::absolute(archive).unwrap_or_else(|_| archive.to_path_buf());
    PathBuf::from(format!("/vsitar/{}/{member}", abs.display()))
}

/// Writes `files` (each stored under its file name) into a ustar archive at `target`, beside it
/// first, then renamed into place.
pub fn write(target: &Path, files: &[PathBuf]) -> Result<(), ProductError> {
    super::write::atomically(target, |tmp| {
        let err = |e: std::io::Error| ProductError::Write {
            path: target.to_path_buf(),
            variable: String::new(),
            message: e.to_string(),
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(tmp).map_err(err)?);
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.len() > 99 {
                return Err(ProductError::Unwritable {
                    product: "tar",
                    message: format!("member name longer than 99 bytes: {name}"),
                });
            }
            let data = std::fs::read(f).map_err(err)?;
            let mut h = [0u8; BLOCK as usize];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[100..108].copy_from_slice(b"0000644\0");
            h[108..116].copy_from_slice(b"0000000\0");
            h[116..124].copy_from_slice(b"0000000\0");
            h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
            h[136..148].copy_from_slice(b"00000000000\0");
            h[156] = b'0';
            h[257..263].copy_from_slice(b"ustar\0");
            h[263..265].copy_from_slice(b"00");
            h[148..156].copy_from_slice(b"        ");
            let sum: u64 = h.iter().map(|&b| b as u64).sum();
            h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            out.write_all(&h).map_err(err)?;
            out.write_all(&data).map_err(err)?;
            let pad = (BLOCK - data.len() as u64 % BLOCK) % BLOCK;
            out.write_all(&vec![0u8; pad as usize]).map_err(err)?;
        }
        out.write_all(&[0u8; 2 * BLOCK as usize]).map_err(err)?;
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
    fn written_archives_list_and_read_back_and_system_tar_agrees() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a_MTL.txt");
        let b = dir.path().join("b.bin");
        std::fs::write(&a, "GROUP = X\nEND_GROUP = X\nEND\n").unwrap();
        std::fs::write(&b, vec![7u8; 1300]).unwrap();
        let t = dir.path().join("p.tar");
        write(&t, &[a.clone(), b.clone()]).unwrap();
        let m = members(&t).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].name.as_str(), m[1].size), ("a_MTL.txt", 1300));
        assert_eq!(read_member(&t, &m[1]).unwrap(), vec![7u8; 1300]);
        // The system's tar reads what we write.
        if let Ok(o) = std::process::Command::new("tar").arg("tf").arg(&t).output() {
            if o.status.success() {
                assert_eq!(String::from_utf8_lossy(&o.stdout), "a_MTL.txt\nb.bin\n");
            }
        }
        // Cut inside the second member: named as truncated.
        let bytes = std::fs::read(&t).unwrap();
        std::fs::write(&t, &bytes[..1636]).unwrap();
        let err = members(&t).unwrap_err().to_string();
        assert!(err.contains("truncated") && err.contains("b.bin"), "{err}");
        std::fs::write(&t, b"not a tar at all, just text that is long enough? no").unwrap();
        assert!(members(&t).is_err());
    }
}
