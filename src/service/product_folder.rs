//! A Landsat product unpacked into a folder of the inbox (`tar xf <id>.tar -C <id>/`, or the
//! bands downloaded one by one from EarthExplorer into one folder): taken as one product, like
//! its `.tar`, once it is complete and has settled.
//!
//! A folder is a Landsat product folder when it is named by a product id
//! (`LC09_L1TP_123036_20240610_20240620_02_T1`) or holds a product's `_MTL.txt`/`_MTL.json`.
//! It is **complete** when its MTL reads, every GeoTIFF the MTL names (`FILE_NAME_*.TIF`:
//! bands, QA bands, angle bands) is there, and nothing in it has a name being written
//! (dotfiles, `.part`, `.tmp`, `.partial`, `~`: the inbox's own convention). Text side files the
//! MTL names (`_ANG.txt`, `_MTL.xml`) are not read and not waited for. The inbox settles the
//! folder as a whole (total size, newest modification time, number of entries unchanged for
//! `settle_s`), then takes it when complete; an incomplete folder is reported once, with what
//! it lacks, and held for `partner_wait_s`; after that it is taken when the bands the
//! detector needs (1–7) are there (what else was missing said in `done/<name>.warnings`), and
//! otherwise moved to `failed/` with the list of missing files as its reason.

use std::path::Path;
use std::time::SystemTime;

use crate::product::landsat_c2l1::{self, name_parts};

/// Whether `dir` looks like a Landsat product folder (by its name or its MTL); its files are
/// not looked into further.
pub fn is_product_folder(dir: &Path) -> bool {
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

/// What the inbox settles a folder on: total size of its entries plus their number (so an
/// empty file arriving counts), and the newest modification time among the folder and them.
pub fn signature(dir: &Path) -> std::io::Result<(u64, Option<SystemTime>)> {
    let mut len = 0u64;
    let mut newest = std::fs::metadata(dir)?.modified().ok();
    for e in std::fs::read_dir(dir)? {
        let m = e?.metadata()?;
        len += m.len() + 1;
        let t = m.modified().ok();
        if t > newest {
            newest = t;
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

/// Checks a product folder (see the module doc).
pub fn status(dir: &Path) -> FolderStatus {
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
        assert_eq!(status(&folder), FolderStatus::Complete);
        let id = folder.file_name().unwrap().to_string_lossy().into_owned();
        let qa = folder.join(format!("{id}_QA_RADSAT.TIF"));
        let part = folder.join(format!("{id}_QA_RADSAT.TIF.part"));
        std::fs::rename(&qa, &part).unwrap();
        match status(&folder) {
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
        match status(&folder) {
            FolderStatus::Incomplete { why, usable } => {
                assert!(why.contains("_QA_RADSAT.TIF"), "{why}");
                assert!(usable, "bands 1–7 are there");
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(folder.join(format!("{id}_B6.TIF"))).unwrap();
        assert!(matches!(
            status(&folder),
            FolderStatus::Incomplete { usable: false, .. }
        ));
        // Without its MTL: nothing to go by.
        for e in std::fs::read_dir(&folder).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().contains("_MTL.") {
                std::fs::remove_file(p).unwrap();
            }
        }
        match status(&folder) {
            FolderStatus::Incomplete { why, .. } => assert!(why.contains("MTL"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Named by its id, it is still a product folder (its MTL may come last).
        assert!(is_product_folder(&folder));
    }
}
