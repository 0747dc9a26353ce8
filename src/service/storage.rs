//! Storage health: whether writes reach the disk. A full disk (or the store's size cap,
//! `limits.store_max_bytes`), a failing file system or one gone read-only makes writes fail while
//! reads still work; the API then answers 503 naming the cause (not a bare 500), and `healthz`
//! says `"storage": "degraded"` with the cause from the first such failure until a write
//! succeeds again, so a probe sees it before patrols miss a task.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::ServiceError;

/// The last storage failure, until a write succeeds.
#[derive(Debug, Default)]
pub struct StorageHealth {
    degraded: Mutex<Option<(String, DateTime<Utc>)>>,
}

impl StorageHealth {
    /// A write failed for want of storage.
    pub fn failed(&self, cause: &str) {
        let mut d = self.degraded.lock().unwrap_or_else(|e| e.into_inner());
        if d.is_none() {
            tracing::error!("storage degraded: {cause}");
        }
        *d = Some((cause.to_string(), Utc::now()));
    }

    /// A write reached the disk.
    pub fn wrote(&self) {
        let mut d = self.degraded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((cause, _)) = d.take() {
            tracing::info!("storage writable again (was: {cause})");
        }
    }

    /// The cause and time of the failure, while degraded.
    pub fn degraded(&self) -> Option<(String, DateTime<Utc>)> {
        self.degraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records `e` when it is a storage failure; returns it unchanged.
    pub fn note(&self, e: ServiceError) -> ServiceError {
        if let Some(cause) = e.storage_cause() {
            self.failed(&cause);
        }
        e
    }
}

/// When an I/O error means the disk cannot take the write: full (ENOSPC), over quota (EDQUOT),
/// read-only (EROFS) or failing (EIO).
pub fn io_storage_cause(e: &std::io::Error) -> Option<String> {
    let what = match e.raw_os_error() {
        Some(28) => "the disk is full (ENOSPC)",
        Some(122) => "the disk quota is exceeded (EDQUOT)",
        Some(30) => "the file system is read-only (EROFS)",
        Some(5) => "the disk fails (EIO)",
        _ if e.kind() == std::io::ErrorKind::StorageFull => "the disk is full",
        _ if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only",
        _ => return None,
    };
    Some(what.to_string())
}

impl ServiceError {
    /// The storage cause of this failure, if it is one (see [`StorageHealth`]).
    pub fn storage_cause(&self) -> Option<String> {
        match self {
            ServiceError::Store(e) => e.storage_cause(),
            ServiceError::FeedRow { source, .. } => source.storage_cause(),
            ServiceError::Io { path, source } => {
                io_storage_cause(source).map(|c| format!("{c}: {}", path.display()))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disks_are_told_from_other_failures() {
        let full = std::io::Error::from_raw_os_error(28);
        assert!(io_storage_cause(&full).unwrap().contains("ENOSPC"));
        assert!(io_storage_cause(&std::io::Error::from_raw_os_error(2)).is_none());
        let e = ServiceError::Io {
            path: "/data/uploads/x.part".into(),
            source: full,
        };
        assert!(e.storage_cause().unwrap().contains("/data/uploads/x.part"));
        let h = StorageHealth::default();
        assert!(h.degraded().is_none());
        let _ = h.note(e);
        assert!(h.degraded().unwrap().0.contains("ENOSPC"));
        h.wrote();
        assert!(h.degraded().is_none());
    }
}
