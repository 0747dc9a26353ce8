//! Verify: the evidence behind a patrol's verdict. `photo.rs` fingerprints a photo (SHA-256,
//! perceptual hash, EXIF); `evidence.rs` checks a report against the event, the task's clock and
//! earlier photos. Pure: the service stores the fingerprints and the flags. `feedback.rs` applies
//! confirmed false-alarm sites to later detections.

pub mod evidence;
pub mod feedback;
pub mod photo;

pub use evidence::{check, EvidenceConfig, Flag, PriorPhoto, Report};
pub use feedback::{ConfirmedMasks, ConfirmedSite, WithConfirmedMasks};
pub use photo::{fingerprint, PhotoError, PhotoPrint};
