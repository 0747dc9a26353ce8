//! What the backends share where their dialects agree: the candidate search's bounds, the
//! confidence class edges of the queries, the event columns as read back.

use crate::dispatch::Priority;
use crate::fuse::{class_of, Placement, Placer};
use crate::hotspot::Confidence;

/// The largest footprint an event can reach, m (MODIS pixels at the swath edge are about
/// 2 × 5 km); bounds the candidate search.
pub(crate) const MAX_EVENT_FOOTPRINT_M: f64 = 5_000.0;

/// A degree margin that covers `m` metres at latitude `lat` in longitude and latitude.
pub(crate) fn margin_deg(m: f64, lat: f64) -> f64 {
    m / (111_000.0 * lat.to_radians().cos().max(0.05))
}

/// A placer that returns the placement already computed for the sighting.
pub(crate) struct Given(pub(crate) Placement);

impl Placer for Given {
    fn place(&self, _lon: f64, _lat: f64, _footprint_m: f64) -> Placement {
        self.0.clone()
    }
}

/// The columns `read_event` reads, in order.
pub(crate) const EVENT_COLUMNS: &str = "id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds, max_frp_mw,
    satellite_confidence, camera_confidence, sightings, county, township, village, parcel, mask, updated_at";

/// The lowest stored score of a confidence class (the queries' `min_confidence`).
pub(crate) fn min_score(c: Confidence) -> f64 {
    // The lower edge of each class, a little below the class's score.
    match c {
        Confidence::Low => 0.0,
        Confidence::Nominal => 0.5,
        Confidence::High => 0.8,
        Confidence::Percent(p) => p as f64 / 100.0 - 1e-9,
    }
}

/// A priority as stored.
pub(crate) fn priority_str(p: Priority) -> &'static str {
    match p {
        Priority::Normal => "normal",
        Priority::High => "high",
    }
}

/// A confidence class as written in audit details.
pub(crate) fn class_name(c: Confidence) -> &'static str {
    match c {
        Confidence::Low => "low",
        Confidence::Nominal => "nominal",
        Confidence::High => "high",
        Confidence::Percent(p) => class_name(class_of(p as f64 / 100.0)),
    }
}

/// What dispatch did with a saved event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dispatched {
    /// A task was created.
    Created,
    /// The event already had a task (an open one was told it was seen again, unless the
    /// detection was too old).
    HasTask,
    /// No task, and why (stored as the event's `task_reason`).
    NoTask(&'static str),
}
