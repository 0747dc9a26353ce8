//! Tiles from this machine, for command centres without internet: a folder laid out
//! `{z}/{x}/{y}.png` (what most tile downloaders write; `.jpg`, `.jpeg` and `.webp` too) or an
//! MBTiles file (the SQLite tile package of the MBTiles 1.3 spec: table `tiles(zoom_level,
//! tile_column, tile_row, tile_data)`, rows counted from the south, TMS style, so XYZ row `y`
//! is stored as `2^z - 1 - y`).
//!
//! The MBTiles file is a read-only package the deployment copies in, not the service's store,
//! so it is read here with its own read-only connection rather than through `store/`. A tile is
//! a few kilobytes and a page asks for a few dozen: each request opens the file (a cheap
//! read-only open of a local file), which keeps no state and no lock between requests.

use std::path::{Path, PathBuf};

/// Why tiles cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// The folder or file is missing or unreadable: check `[ui.basemap] tiles`.
    #[error("tiles {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The `.mbtiles` file is not an MBTiles package (no `tiles` table, not SQLite).
    #[error("MBTiles {path}: {source}")]
    MbTiles {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

/// Where tiles are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileSource {
    Folder(PathBuf),
    MbTiles(PathBuf),
}

/// One tile: its bytes and their media type (from the bytes, not the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tile {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

const EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "webp"];

impl TileSource {
    /// A folder, or an MBTiles file (checked to hold a `tiles` table).
    pub fn open(path: &Path) -> Result<TileSource, TileError> {
        let meta = std::fs::metadata(path).map_err(|source| TileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            return Ok(TileSource::Folder(path.to_path_buf()));
        }
        let src = TileSource::MbTiles(path.to_path_buf());
        let conn = src.connect()?;
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'tiles'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .and_then(|n| {
            if n == 1 {
                Ok(())
            } else {
                Err(rusqlite::Error::QueryReturnedNoRows)
            }
        })
        .map_err(|source| TileError::MbTiles {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(src)
    }

    fn connect(&self) -> Result<rusqlite::Connection, TileError> {
        let TileSource::MbTiles(path) = self else {
            unreachable!("only MBTiles connect")
        };
        use rusqlite::OpenFlags as F;
        rusqlite::Connection::open_with_flags(
            path,
            F::SQLITE_OPEN_READ_ONLY | F::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| TileError::MbTiles {
            path: path.clone(),
            source,
        })
    }

    /// The tile at zoom `z`, column `x`, row `y` (XYZ: rows from the north), or `None` when
    /// there is none (or the address is outside the zoom's grid).
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<Tile>, TileError> {
        if z > 30 || u64::from(x) >= 1 << z || u64::from(y) >= 1 << z {
            return Ok(None);
        }
        let bytes = match self {
            TileSource::Folder(dir) => {
                let base = dir.join(z.to_string()).join(x.to_string());
                let mut found = None;
                for ext in EXTENSIONS {
                    let p = base.join(format!("{y}.{ext}"));
                    match std::fs::read(&p) {
                        Ok(b) => {
                            found = Some(b);
                            break;
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => return Err(TileError::Io { path: p, source }),
                    }
                }
                found
            }
            TileSource::MbTiles(path) => {
                use rusqlite::OptionalExtension;
                let tms_row = (1u64 << z) - 1 - u64::from(y);
                self.connect()?
                    .query_row(
                        "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                        rusqlite::params![z, x, tms_row as i64],
                        |r| r.get::<_, Vec<u8>>(0),
                    )
                    .optional()
                    .map_err(|source| TileError::MbTiles {
                        path: path.clone(),
                        source,
                    })?
            }
        };
        Ok(bytes.map(|bytes| Tile {
            content_type: media_type(&bytes),
            bytes,
        }))
    }
}

/// The media type of image bytes by their signature.
pub fn media_type(b: &[u8]) -> &'static str {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if b.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\nrest";

    #[test]
    fn a_folder_serves_z_x_y_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("3/5")).unwrap();
        std::fs::write(dir.path().join("3/5/2.png"), PNG).unwrap();
        std::fs::write(dir.path().join("3/5/3.jpg"), [0xff, 0xd8, 0xff, 0]).unwrap();
        let s = TileSource::open(dir.path()).unwrap();
        assert_eq!(s.tile(3, 5, 2).unwrap().unwrap().content_type, "image/png");
        assert_eq!(s.tile(3, 5, 3).unwrap().unwrap().content_type, "image/jpeg");
        assert_eq!(s.tile(3, 5, 4).unwrap(), None);
        assert_eq!(s.tile(3, 8, 2).unwrap(), None, "x outside zoom 3's grid");
    }

    #[test]
    fn mbtiles_rows_count_from_the_south() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.mbtiles");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);")
            .unwrap();
        // XYZ (z 3, x 5, y 2) is TMS row 8 - 1 - 2 = 5.
        c.execute(
            "INSERT INTO tiles VALUES (3, 5, 5, ?1)",
            rusqlite::params![PNG],
        )
        .unwrap();
        drop(c);
        let s = TileSource::open(&path).unwrap();
        assert_eq!(s.tile(3, 5, 2).unwrap().unwrap().bytes, PNG);
        assert_eq!(s.tile(3, 5, 5).unwrap(), None);
        // Not an MBTiles package: named.
        let other = dir.path().join("other.mbtiles");
        rusqlite::Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE x (a);")
            .unwrap();
        let e = TileSource::open(&other).unwrap_err().to_string();
        assert!(e.contains("other.mbtiles"), "{e}");
        assert!(TileSource::open(&dir.path().join("missing.mbtiles")).is_err());
    }

    #[test]
    fn media_types_come_from_the_bytes() {
        assert_eq!(media_type(PNG), "image/png");
        assert_eq!(media_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(media_type(b"<html>"), "application/octet-stream");
    }
}
