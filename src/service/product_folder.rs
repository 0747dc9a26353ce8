//! A satellite product unpacked into a folder of the inbox, taken as one product, like its
//! archive, once it is complete and has settled:
//!
//! - **Landsat** (`tar xf <id>.tar -C <id>/`, or the bands downloaded one by one from
//!   EarthExplorer into one folder): named by a product id
//!   (`LC09_L1TP_123036_20240610_20240620_02_T1`) or holding a product's `_MTL.txt`/`_MTL.json`.
//!   It is **complete** when its MTL reads and every GeoTIFF the MTL names (`FILE_NAME_*.TIF`:
//!   bands, QA bands, angle bands) is there. Text side files the MTL names (`_ANG.txt`,
//!   `_MTL.xml`) are not read and not waited for. Usable incomplete: bands 1–7 there.
//! - **Sentinel-2** (`unzip <name>.zip`: the `<name>.SAFE` folder, or a folder holding one
//!   `.SAFE`): named by a product name (`S2A_MSIL1C_…`, bare or `.SAFE`) or holding
//!   `MTD_MSIL1C.xml`/`MTD_MSIL2A.xml` (itself or in its one `.SAFE`). It is **complete** when
//!   both metadata files read (`MTD_MSIL1C.xml` and the granule's `MTD_TL.xml`), every
//!   `IMAGE_FILE` and every `MASK_FILENAME` they name is there, and `manifest.safe` is there
//!   with every file it lists present at the size it lists (a JP2 still being copied in place
//!   is shorter: the manifest's `byteStream size` is what catches it, since a SAFE folder's
//!   files arrive in no fixed order). Usable incomplete: the seven bands the detector reads
//!   (`B01 B02 B03 B04 B8A B11 B12`) there at their listed size.
//!
//! Either way nothing anywhere in the folder may have a name being written (dotfiles, `.part`,
//! `.tmp`, `.partial`, `~`: the inbox's own convention). The inbox settles the folder as a
//! whole (total size, newest modification time, number of entries, over the whole tree,
//! unchanged for `settle_s`), then takes it when complete; an incomplete folder is reported
//! once, with what it lacks, and held for `partner_wait_s`; after that it is taken when
//! usable (what else was missing said in `done/<name>.warnings`), and otherwise moved to
//! `failed/` with the list of missing files as its reason.

use std::path::Path;
use std::time::SystemTime;

use crate::product::landsat_c2l1::{self, name_parts};
use crate::product::sentinel2_l1c;

/// Which product a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderKind {
    Landsat,
    Sentinel2,
}

impl FolderKind {
    /// How the inbox's messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            FolderKind::Landsat => "Landsat",
            FolderKind::Sentinel2 => "Sentinel-2",
        }
    }
}

/// Which product folder `dir` looks like (by its name or its metadata file), if any; its files
/// are not looked into further.
pub fn kind_of(dir: &Path) -> Option<FolderKind> {
    if is_landsat_folder(dir) {
        return Some(FolderKind::Landsat);
    }
    is_sentinel2_folder(dir).then_some(FolderKind::Sentinel2)
}

/// Whether `dir` looks like a product folder of either kind.
pub fn is_product_folder(dir: &Path) -> bool {
    kind_of(dir).is_some()
}

fn is_sentinel2_folder(dir: &Path) -> bool {
    let mtd = |d: &Path| {
        [sentinel2_l1c::Level::L1c, sentinel2_l1c::Level::L2a]
            .iter()
            .any(|l| d.join(l.metadata_name()).is_file())
    };
    let named = dir
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| !n.to_ascii_lowercase().ends_with(".zip"))
        .and_then(sentinel2_l1c::name_parts)
        .is_some();
    named
        || mtd(dir)
        || std::fs::read_dir(dir).is_ok_and(|rd| {
            let safes: Vec<_> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir() && p.extension().is_some_and(|e| e == "SAFE"))
                .collect();
            matches!(&safes[..], [one] if mtd(one))
        })
}

/// Whether `dir` looks like a Landsat product folder (by its name or its MTL).
fn is_landsat_folder(dir: &Path) -> bool {
    let named = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(name_parts)
        .is_some_and(|p| p.suffix.is_empty());
    named
        || std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.filter_map(|e| e.ok()).any(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                (n.ends_with("_MTL.txt") || n.ends_with("_MTL.json")) && name_parts(&n).is_some()
            })
        })
}

/// What the inbox settles a folder on: total size of the entries of its whole tree plus their
/// number (so an empty file or folder arriving counts), and the newest modification time among
/// the folder and them. Symlinks are not followed.
pub fn signature(dir: &Path) -> std::io::Result<(u64, Option<SystemTime>)> {
    let mut len = 0u64;
    let mut newest = std::fs::metadata(dir)?.modified().ok();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let m = e.metadata()?;
            len += m.len() + 1;
            let t = m.modified().ok();
            if t > newest {
                newest = t;
            }
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    Ok((len, newest))
}

/// How complete a product folder is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderStatus {
    /// Every GeoTIFF its MTL names is there.
    Complete,
    /// Not yet: `why` says what is lacking; `usable` when the detector could still run on
    /// what is there (the MTL and bands 1–7 present, nothing being written).
    Incomplete { why: String, usable: bool },
}

/// Checks a product folder of `kind` (see the module doc).
pub fn status(dir: &Path, kind: FolderKind) -> FolderStatus {
    match kind {
        FolderKind::Landsat => landsat_status(dir),
        FolderKind::Sentinel2 => sentinel2_status(dir),
    }
}

fn landsat_status(dir: &Path) -> FolderStatus {
    let incomplete = |why: String| FolderStatus::Incomplete { why, usable: false };
    let names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) => return incomplete(format!("cannot list the folder: {e}")),
    };
    let mut writing: Vec<&String> = names
        .iter()
        .filter(|n| super::inbox::name_class(n) == super::inbox::NameClass::InProgress)
        .collect();
    if !writing.is_empty() {
        writing.sort();
        let list: Vec<&str> = writing.iter().map(|s| s.as_str()).collect();
        return incomplete(format!("still being written: {}", list.join(", ")));
    }
    let product = match landsat_c2l1::locate(dir) {
        Ok(p) => p,
        Err(e) => return incomplete(format!("no readable MTL yet: {e}")),
    };
    let has = |n: &str| names.iter().any(|m| m == n);
    let mut missing: Vec<&str> = product
        .mtl
        .listed
        .iter()
        .filter(|n| n.to_ascii_lowercase().ends_with(".tif") && !has(n))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return FolderStatus::Complete;
    }
    missing.sort();
    let usable = product.mtl.bands.values().all(|(n, _, _)| has(n));
    FolderStatus::Incomplete {
        why: format!(
            "{} of the files its MTL names missing: {}",
            missing.len(),
            missing.join(", ")
        ),
        usable,
    }
}

/// Files below a folder: (path relative to it with `/`, size).
type Files = Vec<(String, u64)>;

/// Every file below `dir`; names being written anywhere in the tree as well, separately.
fn tree(dir: &Path) -> std::io::Result<(Files, Vec<String>)> {
    let (mut files, mut writing) = (Vec::new(), Vec::new());
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel = format!("{prefix}{name}");
            if super::inbox::name_class(&name) == super::inbox::NameClass::InProgress {
                writing.push(rel);
                continue;
            }
            let m = e.metadata()?;
            if m.is_dir() {
                stack.push((e.path(), format!("{rel}/")));
            } else {
                files.push((rel, m.len()));
            }
        }
    }
    Ok((files, writing))
}

fn sentinel2_status(dir: &Path) -> FolderStatus {
    let incomplete = |why: String| FolderStatus::Incomplete { why, usable: false };
    let mut writing = match tree(dir) {
        Ok((_, w)) => w,
        Err(e) => return incomplete(format!("cannot list the folder: {e}")),
    };
    if !writing.is_empty() {
        writing.sort();
        return incomplete(format!("still being written: {}", writing.join(", ")));
    }
    let product = match sentinel2_l1c::locate(dir) {
        Ok(p) => p,
        Err(e) => {
            return incomplete(format!(
                "no readable MTD_MSIL1C.xml and MTD_TL.xml yet: {e}"
            ))
        }
    };
    let sentinel2_l1c::Location::Folder(root) = &product.location else {
        return incomplete("not a folder".into());
    };
    let files: std::collections::HashMap<String, u64> = match tree(root) {
        Ok((f, _)) => f.into_iter().collect(),
        Err(e) => return incomplete(format!("cannot list {}: {e}", root.display())),
    };
    // What the metadata names, then what the manifest lists with its size.
    let mut wanted: std::collections::BTreeMap<String, Option<u64>> = product
        .mtd
        .image_files
        .iter()
        .map(|f| (format!("{f}.jp2"), None))
        .chain(product.tile.masks.values().map(|f| (f.clone(), None)))
        .chain(product.tile.detfoo.values().map(|f| (f.clone(), None)))
        .collect();
    let mut lacks = Vec::new();
    match std::fs::read_to_string(root.join("manifest.safe")) {
        Ok(text) => match sentinel2_l1c::parse_manifest(&text, &root.join("manifest.safe")) {
            Ok(entries) => {
                for e in entries {
                    wanted.insert(e.path, e.size);
                }
            }
            Err(e) => lacks.push(format!("manifest.safe ({e})")),
        },
        Err(_) => lacks.push("manifest.safe".to_string()),
    }
    let problem = |rel: &str, size: Option<u64>| -> Option<String> {
        match (files.get(rel), size) {
            (None, _) => Some(rel.to_string()),
            (Some(&have), Some(want)) if have != want => {
                Some(format!("{rel} ({have} of {want} bytes)"))
            }
            _ => None,
        }
    };
    lacks.extend(wanted.iter().filter_map(|(rel, &size)| problem(rel, size)));
    if lacks.is_empty() {
        return FolderStatus::Complete;
    }
    // Usable: every band the detector reads, and those bands' detector footprints when the
    // tile lists them (the reader refuses a product without a mask its MTD_TL.xml lists).
    let present = |rel: &str| problem(rel, wanted.get(rel).copied().flatten()).is_none();
    let usable = sentinel2_l1c::MSI_BANDS.iter().all(|b| {
        product
            .mtd
            .image_file(b)
            .is_some_and(|rel| present(&format!("{rel}.jp2")))
    }) && sentinel2_l1c::FOOTPRINT_BANDS.iter().all(|b| {
        let id = sentinel2_l1c::band_id(b).expect("an MSI band");
        product.tile.detfoo.get(&id).is_none_or(|rel| present(rel))
    });
    FolderStatus::Incomplete {
        why: format!(
            "{} of the files its metadata and manifest name missing or short: {}",
            lacks.len(),
            lacks.join(", ")
        ),
        usable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::write::landsat_c2l1::WriteOptions;
    use crate::synth::landsat::{generate, LandsatSpec};

    #[test]
    fn a_folder_is_complete_only_with_every_tif_its_mtl_names_and_nothing_being_written() {
        let dir = tempfile::tempdir().unwrap();
        let folder = generate(&LandsatSpec::day(20, 20, 1))
            .write(dir.path(), WriteOptions::default())
            .unwrap();
        assert!(is_product_folder(&folder));
        assert!(!is_product_folder(dir.path()));
        // The MTL names an _MTL.xml that is not there: a side file, not waited for.
        assert_eq!(status(&folder, FolderKind::Landsat), FolderStatus::Complete);
        let id = folder.file_name().unwrap().to_string_lossy().into_owned();
        let qa = folder.join(format!("{id}_QA_RADSAT.TIF"));
        let part = folder.join(format!("{id}_QA_RADSAT.TIF.part"));
        std::fs::rename(&qa, &part).unwrap();
        match status(&folder, FolderKind::Landsat) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(
                    why.contains("still being written") && why.contains(".part"),
                    "{why}"
                );
                assert!(!usable);
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&part).unwrap();
        match status(&folder, FolderKind::Landsat) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(why.contains("_QA_RADSAT.TIF"), "{why}");
                assert!(usable, "bands 1–7 are there");
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(folder.join(format!("{id}_B6.TIF"))).unwrap();
        assert!(matches!(
            status(&folder, FolderKind::Landsat),
            FolderStatus::Incomplete { usable: false, .. }
        ));
        // Without its MTL: nothing to go by.
        for e in std::fs::read_dir(&folder).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().contains("_MTL.") {
                std::fs::remove_file(p).unwrap();
            }
        }
        match status(&folder, FolderKind::Landsat) {
            FolderStatus::Incomplete { why, .. } => assert!(why.contains("MTL"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Named by its id, it is still a product folder (its MTL may come last).
        assert!(is_product_folder(&folder));
    }

    #[test]
    fn a_safe_folder_is_complete_only_with_every_file_at_its_manifest_size() {
        use crate::synth::sentinel2::{generate as s2, Sentinel2Spec, WriteOptions as S2Options};
        let dir = tempfile::tempdir().unwrap();
        let safe = s2(&Sentinel2Spec::day(30, 30, 1))
            .write(dir.path(), S2Options::default())
            .unwrap();
        assert_eq!(kind_of(&safe), Some(FolderKind::Sentinel2));
        assert_eq!(
            kind_of(dir.path()),
            Some(FolderKind::Sentinel2),
            "a folder holding one SAFE"
        );
        assert_eq!(status(&safe, FolderKind::Sentinel2), FolderStatus::Complete);
        assert_eq!(
            status(dir.path(), FolderKind::Sentinel2),
            FolderStatus::Complete
        );
        let jp2 = |suffix: &str| -> std::path::PathBuf {
            let img = std::fs::read_dir(safe.join("GRANULE"))
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path()
                .join("IMG_DATA");
            std::fs::read_dir(&img)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().ends_with(suffix))
                .unwrap()
        };
        // A band still being copied in place: shorter than the manifest says, not usable.
        let b12 = jp2("_B12.jp2");
        let full = std::fs::read(&b12).unwrap();
        std::fs::write(&b12, &full[..full.len() / 2]).unwrap();
        match status(&safe, FolderKind::Sentinel2) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(why.contains("_B12.jp2 (") && why.contains("bytes"), "{why}");
                assert!(!usable);
            }
            other => panic!("{other:?}"),
        }
        // Written under a `.part` name deep in the tree: still being written.
        std::fs::remove_file(&b12).unwrap();
        let part = b12.with_extension("jp2.part");
        std::fs::write(&part, &full).unwrap();
        match status(&safe, FolderKind::Sentinel2) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(
                    why.contains("still being written") && why.contains(".part"),
                    "{why}"
                );
                assert!(!usable);
            }
            other => panic!("{other:?}"),
        }
        std::fs::rename(&part, &b12).unwrap();
        assert_eq!(status(&safe, FolderKind::Sentinel2), FolderStatus::Complete);
        // The cloud mask missing: incomplete, but the detector's bands are there.
        let qi = b12.parent().unwrap().parent().unwrap().join("QI_DATA");
        let mask = qi.join("MSK_CLASSI_B00.jp2");
        let kept = std::fs::read(&mask).unwrap();
        std::fs::remove_file(&mask).unwrap();
        match status(&safe, FolderKind::Sentinel2) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(why.contains("MSK_CLASSI_B00.jp2"), "{why}");
                assert!(usable);
            }
            other => panic!("{other:?}"),
        }
        std::fs::write(&mask, kept).unwrap();
        // A detector footprint of a fire band missing: not usable (the reader needs it); one
        // of a band the detector does not bound its data by (B02): usable.
        for (file, usable_without) in [("MSK_DETFOO_B11.jp2", false), ("MSK_DETFOO_B02.jp2", true)]
        {
            let mask = qi.join(file);
            let kept = std::fs::read(&mask).unwrap();
            std::fs::remove_file(&mask).unwrap();
            match status(&safe, FolderKind::Sentinel2) {
                FolderStatus::Incomplete { why, usable } => {
                    assert!(why.contains(file), "{why}");
                    assert_eq!(usable, usable_without, "{file}");
                }
                other => panic!("{other:?}"),
            }
            std::fs::write(&mask, kept).unwrap();
        }
        // Without its manifest: nothing says the sizes, so it is not complete.
        std::fs::remove_file(safe.join("manifest.safe")).unwrap();
        match status(&safe, FolderKind::Sentinel2) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(why.contains("manifest.safe"), "{why}");
                assert!(usable);
            }
            other => panic!("{other:?}"),
        }
        // Without its metadata: nothing to go by, but still a product folder by its name.
        std::fs::remove_file(safe.join("MTD_MSIL1C.xml")).unwrap();
        match status(&safe, FolderKind::Sentinel2) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(why.contains("MTD_MSIL1C.xml"), "{why}");
                assert!(!usable);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(kind_of(&safe), Some(FolderKind::Sentinel2));
        assert_eq!(kind_of(dir.path()), None);
    }
}
