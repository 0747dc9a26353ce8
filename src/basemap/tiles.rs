//! Tiles from this machine, for command centres without internet: a folder laid out
//! `{z}/{x}/{y}.png` (what most tile downloaders write; `.jpg`, `.jpeg` and `.webp` too) or an
//! MBTiles file (the SQLite tile package of the MBTiles 1.3 spec: table `tiles(zoom_level,
//! tile_column, tile_row, tile_data)`, rows counted from the south, TMS style, so XYZ row `y`
//! is stored as `2^z - 1 - y`).
//!
//! The MBTiles file is a read-only package the deployment copies in, not the service's store,
//! so it is read here with its own read-only connections rather than through `store/`. A page
//! asks for a few dozen tiles at once: opening the file for each (SQLite reads its header and
//! schema every time) cost more than the tile, so a [`TileSource`] keeps a few idle read-only
//! connections (each used by one request at a time; more are opened while requests overlap) and
//! [`LocalTiles`] keeps the source while the file stays the same one: a file replaced or changed
//! in place (other inode, size or modification time) is opened afresh at the next request, and a
//! removed one is an error, as when each request opened it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

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
#[derive(Debug)]
pub enum TileSource {
    Folder(PathBuf),
    MbTiles(MbTiles),
}

/// An opened MBTiles file: its path, which file it was when opened, and the read-only
/// connections no request is using now.
#[derive(Debug)]
pub struct MbTiles {
    path: PathBuf,
    file: FileId,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

/// Idle connections kept per MBTiles file; requests beyond them open their own, closed after.
const MAX_IDLE: usize = 4;

/// Which file a path names now: a replaced file has another inode, a file changed in place
/// another size or modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileId {
    dir: bool,
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    dev_ino: (u64, u64),
}

impl FileId {
    fn of(path: &Path) -> Result<FileId, TileError> {
        let meta = std::fs::metadata(path).map_err(|source| TileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt as _;
        Ok(FileId {
            dir: meta.is_dir(),
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            dev_ino: (meta.dev(), meta.ino()),
        })
    }
}

/// The local basemap's source, opened at its first tile and kept (with its connections) while
/// its path names the same file. Shared by every request of the server.
#[derive(Debug, Default)]
pub struct LocalTiles {
    open: Mutex<Option<(PathBuf, FileId, Arc<TileSource>)>>,
}

impl LocalTiles {
    /// The tile at `z`/`x`/`y` (XYZ) of the folder or MBTiles file at `path`, as
    /// [`TileSource::tile`]; the file is opened again only when it is not the one kept.
    pub fn tile(&self, path: &Path, z: u8, x: u32, y: u32) -> Result<Option<Tile>, TileError> {
        self.source(path)?.tile(z, x, y)
    }

    fn source(&self, path: &Path) -> Result<Arc<TileSource>, TileError> {
        let now = FileId::of(path)?;
        let mut open = lock(&self.open);
        if let Some((p, id, src)) = open.as_ref() {
            if p == path && *id == now {
                return Ok(Arc::clone(src));
            }
        }
        // Opened under the lock: requests arriving meanwhile wait for this one source rather
        // than each opening its own.
        let src = Arc::new(TileSource::open(path)?);
        let id = match &*src {
            TileSource::MbTiles(m) => m.file.clone(),
            TileSource::Folder(_) => now,
        };
        *open = Some((path.to_path_buf(), id, Arc::clone(&src)));
        Ok(src)
    }
}

/// A lock whose holder panicked still guards plain data (a list of idle connections, the kept
/// source): take it as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
        let file = FileId::of(path)?;
        if file.dir {
            return Ok(TileSource::Folder(path.to_path_buf()));
        }
        let conn = connect(path)?;
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
        Ok(TileSource::MbTiles(MbTiles {
            path: path.to_path_buf(),
            file,
            idle: Mutex::new(vec![conn]),
        }))
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
            TileSource::MbTiles(m) => m.tile_data(z, x, (1u64 << z) - 1 - u64::from(y))?,
        };
        Ok(bytes.map(|bytes| Tile {
            content_type: media_type(&bytes),
            bytes,
        }))
    }
}

impl MbTiles {
    /// The `tile_data` at `z`, column `x`, TMS row `tms_row`, on an idle connection (or a new
    /// one when every kept connection is in use), given back afterwards unless the query failed.
    fn tile_data(&self, z: u8, x: u32, tms_row: u64) -> Result<Option<Vec<u8>>, TileError> {
        use rusqlite::OptionalExtension;
        let taken = lock(&self.idle).pop();
        let conn = match taken {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        let got = conn
            .prepare_cached(
                "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
            )
            .and_then(|mut q| {
                q.query_row(rusqlite::params![z, x, tms_row as i64], |r| {
                    r.get::<_, Vec<u8>>(0)
                })
                .optional()
            })
            .map_err(|source| TileError::MbTiles {
                path: self.path.clone(),
                source,
            })?;
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        Ok(got)
    }

    /// Connections kept for the next requests.
    pub fn idle_connections(&self) -> usize {
        lock(&self.idle).len()
    }
}

/// A read-only connection to the MBTiles file at `path`. `NO_MUTEX`: a connection is used by
/// one request at a time (taken out of the idle list), so it needs no mutex of its own.
fn connect(path: &Path) -> Result<rusqlite::Connection, TileError> {
    use rusqlite::OpenFlags as F;
    rusqlite::Connection::open_with_flags(path, F::SQLITE_OPEN_READ_ONLY | F::SQLITE_OPEN_NO_MUTEX)
        .map_err(|source| TileError::MbTiles {
            path: path.to_path_buf(),
            source,
        })
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

    /// An MBTiles file at `path` with `tiles` as (z, x, TMS row, data), written in one
    /// transaction (a commit per tile, each with its fsync, made the 256 tiles of the
    /// concurrency test cost 6 s).
    fn mbtiles(path: &Path, tiles: &[(u8, u32, u32, &[u8])]) {
        let mut c = rusqlite::Connection::open(path).unwrap();
        let tx = c.transaction().unwrap();
        tx.execute_batch("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);")
            .unwrap();
        for (z, x, row, data) in tiles {
            tx.execute(
                "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![z, x, row, data],
            )
            .unwrap();
        }
        tx.commit().unwrap();
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
    fn mbtiles_connections_are_kept_between_requests_and_shared_by_concurrent_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.mbtiles");
        // Tile (z 4, x, TMS row) holds its own address, so a mixed-up answer shows.
        let data: Vec<(u8, u32, u32, Vec<u8>)> = (0..16u32)
            .flat_map(|x| (0..16u32).map(move |r| (4, x, r, [PNG, &[x as u8, r as u8]].concat())))
            .collect();
        let rows: Vec<(u8, u32, u32, &[u8])> = data
            .iter()
            .map(|(z, x, r, d)| (*z, *x, *r, d.as_slice()))
            .collect();
        mbtiles(&path, &rows);
        let s = TileSource::open(&path).unwrap();
        let TileSource::MbTiles(m) = &s else {
            panic!("an MBTiles source")
        };
        for _ in 0..10 {
            assert!(s.tile(4, 3, 2).unwrap().is_some());
        }
        assert_eq!(m.idle_connections(), 1, "one connection, reused");
        std::thread::scope(|scope| {
            for t in 0..8u32 {
                let s = &s;
                scope.spawn(move || {
                    for i in 0..200u32 {
                        let (x, y) = ((i * 7 + t) % 16, (i * 3 + t * 5) % 16);
                        let tile = s.tile(4, x, y).unwrap().unwrap();
                        assert_eq!(tile.bytes, [PNG, &[x as u8, (15 - y) as u8]].concat());
                    }
                });
            }
        });
        let kept = m.idle_connections();
        assert!((1..=MAX_IDLE).contains(&kept), "{kept} idle connections");
    }

    #[test]
    fn local_tiles_follow_the_file_at_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.mbtiles");
        mbtiles(&path, &[(0, 0, 0, b"\x89PNG\r\n\x1a\none")]);
        let local = LocalTiles::default();
        let first = local.tile(&path, 0, 0, 0).unwrap().unwrap();
        assert!(first.bytes.ends_with(b"one"));
        let kept = local.source(&path).unwrap();
        assert!(Arc::ptr_eq(&kept, &local.source(&path).unwrap()), "kept");
        // A new package copied over the old one (written beside it, renamed into place).
        let next = dir.path().join("next.mbtiles");
        mbtiles(&next, &[(0, 0, 0, b"\x89PNG\r\n\x1a\ntwo")]);
        std::fs::rename(&next, &path).unwrap();
        assert!(local
            .tile(&path, 0, 0, 0)
            .unwrap()
            .unwrap()
            .bytes
            .ends_with(b"two"));
        // Removed: an error naming the file, as when every request opened it.
        std::fs::remove_file(&path).unwrap();
        let e = local.tile(&path, 0, 0, 0).unwrap_err().to_string();
        assert!(e.contains("t.mbtiles"), "{e}");
        // A folder at another path.
        std::fs::create_dir_all(dir.path().join("f/0/0")).unwrap();
        std::fs::write(dir.path().join("f/0/0/0.png"), PNG).unwrap();
        assert_eq!(
            local
                .tile(&dir.path().join("f"), 0, 0, 0)
                .unwrap()
                .unwrap()
                .bytes,
            PNG
        );
    }

    #[test]
    fn media_types_come_from_the_bytes() {
        assert_eq!(media_type(PNG), "image/png");
        assert_eq!(media_type(b"RIFF\0\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(media_type(b"<html>"), "application/octet-stream");
    }
}
