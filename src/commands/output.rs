//! Output files that appear whole or not at all: written to a temporary file beside the target
//! and renamed on success, so a failed command leaves nothing behind.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// A file being written; dropped without [`AtomicOutput::commit`], it is removed.
/// A target that exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`) is
/// written directly: renaming over it would replace the device with a file.
pub struct AtomicOutput {
    target: PathBuf,
    /// The temporary file, or None when writing straight to a special file.
    tmp: Option<PathBuf>,
    file: Option<BufWriter<File>>,
}

impl AtomicOutput {
    pub fn create(target: &Path) -> anyhow::Result<Self> {
        if std::fs::metadata(target).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(target)
                .with_context(|| format!("cannot open {}", target.display()))?;
            return Ok(Self {
                target: target.to_path_buf(),
                tmp: None,
                file: Some(BufWriter::new(file)),
            });
        }
        let name = target
            .file_name()
            .with_context(|| format!("{}: not a file name", target.display()))?;
        let tmp = target.with_file_name(format!(".{}.part", name.to_string_lossy()));
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", target.display()))?;
        Ok(Self {
            target: target.to_path_buf(),
            tmp: Some(tmp),
            file: Some(BufWriter::new(file)),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.file.as_mut().expect("not committed")
    }

    /// Flushes, syncs and renames into place.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let file = self.file.take().expect("not committed");
        let file = file
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", self.target.display()))?;
        let Some(tmp) = self.tmp.take() else {
            return Ok(());
        };
        file.sync_all()
            .with_context(|| format!("cannot write {}", self.target.display()))?;
        std::fs::rename(&tmp, &self.target)
            .with_context(|| format!("cannot write {}", self.target.display()))
    }
}

impl Drop for AtomicOutput {
    fn drop(&mut self) {
        if let (Some(_), Some(tmp)) = (self.file.take(), &self.tmp) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
