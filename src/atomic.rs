//! Files that appear whole or not at all: write to a temporary file beside the target, then
//! [`finish`] renames it into place, or removes it when the write failed. One place for the rule
//! that a device or FIFO (`-o /dev/null`) is never renamed over: that would replace it.

use std::path::Path;

/// Completes a write made to `tmp` for `target`: on `Ok`, renames `tmp` to `target`; on `Err`,
/// or when `target` exists and is not a regular file, removes `tmp`. Errors are messages for
/// the caller's own error type.
pub fn finish<E>(
    tmp: &Path,
    target: &Path,
    written: Result<(), E>,
) -> Result<(), Result<String, E>> {
    match written {
        Ok(()) if std::fs::metadata(target).is_ok_and(|m| !m.is_file()) => {
            let _ = std::fs::remove_file(tmp);
            Err(Ok("exists and is not a regular file".into()))
        }
        Ok(()) => std::fs::rename(tmp, target).map_err(|e| Ok(e.to_string())),
        Err(e) => {
            let _ = std::fs::remove_file(tmp);
            Err(Err(e))
        }
    }
}
