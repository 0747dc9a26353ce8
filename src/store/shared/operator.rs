//! The operator's moves (#17) as both backends make them: the statements (SQLite's numbered
//! parameters; PostgreSQL runs them through [`super::dollars`]) and the decisions that are not
//! SQL. The order of the steps in each move's transaction stays in each backend's `operator.rs`.

use chrono::{DateTime, Utc};

use super::NewTaskFacts;
use crate::dispatch::policy::due_times;
use crate::dispatch::{IllegalTransition, TaskRules, TaskState};
use crate::fuse::class_of;
use crate::store::tasks::{StoredTask, TaskError};

/// What a task by hand is decided from: `satellite_confidence`, `camera_confidence`,
/// `max_frp_mw`, `kinds`, `mask`, `task_reason` of event `?1` (read by [`new_task_facts`]).
pub(crate) const EVENT_OF_NEW_TASK_SQL: &str =
    "SELECT satellite_confidence, camera_confidence, max_frp_mw, kinds, mask, task_reason
     FROM events WHERE id = ?1";

/// The state of event `?1`'s task, if it has one.
pub(crate) const TASK_OF_EVENT_SQL: &str = "SELECT state FROM tasks WHERE event_id = ?1";

/// The priority facts of a task made by hand from its event's row
/// ([`EVENT_OF_NEW_TASK_SQL`]): the combined confidence, FRP, corroboration (more than one
/// kind of source) and whether its mask is a sensitive area.
pub(crate) fn new_task_facts(
    (satellite, camera): (f64, f64),
    max_frp_mw: Option<f64>,
    kinds: &str,
    mask: Option<String>,
    rules: &TaskRules,
) -> NewTaskFacts {
    NewTaskFacts {
        confidence: class_of(1.0 - (1.0 - satellite) * (1.0 - camera)),
        max_frp_mw,
        sensitive: mask.as_deref().is_some_and(|m| rules.is_sensitive(m)),
        corroborated: kinds.contains(','),
        mask,
    }
}

/// The refusal of a task by hand for an event that has one (in state `state`).
pub(crate) fn event_has_task(state: &str) -> TaskError {
    TaskError::Illegal(IllegalTransition {
        from: TaskState::parse(state).map_or("unknown", |s| s.as_str()),
        action: "create",
    })
}

/// A task to another unit (`?1` unit, `?2` level, `?3` county, `?4` state, `?5`-`?7` the
/// three due times, `?8` now, `?9` id): it starts again unnotified, escalations cleared.
pub(crate) const REASSIGN_SQL: &str =
    "UPDATE tasks SET unit = ?1, unit_level = ?2, county = ?3, state = ?4,
       notified_at = NULL, acknowledged_at = NULL, on_site_at = NULL,
       ack_due = ?5, on_site_due = ?6, verdict_due = ?7,
       escalations = '', escalated_at = NULL, updated_at = ?8
     WHERE id = ?9";

/// A task cancelled (`?1` state, `?2` now, `?3` id).
pub(crate) const CANCEL_SQL: &str =
    "UPDATE tasks SET state = ?1, cancelled_at = ?2, updated_at = ?2 WHERE id = ?3";

/// A closed task reopened (`?1` state, `?2` now, `?3` id).
pub(crate) const REOPEN_SQL: &str =
    "UPDATE tasks SET state = ?1, closed_at = NULL, updated_at = ?2 WHERE id = ?3";

/// Task `?1`'s verdict kept whole in `returned_verdicts` (`?2` now, `?3` by, `?4` why).
pub(crate) const KEEP_RETURNED_VERDICT_SQL: &str =
    "INSERT INTO returned_verdicts (id, task_id, verdict, reported_at, received_at,
       lat, lon, distance_m, note, photo_sha256, photo_dhash, photo_path,
       photo_bytes, exif_time, exif_lat, exif_lon, flags, review, actor,
       returned_at, returned_by, return_reason)
     SELECT id, task_id, verdict, reported_at, received_at, lat, lon, distance_m,
       note, photo_sha256, photo_dhash, photo_path, photo_bytes, exif_time,
       exif_lat, exif_lon, flags, review, actor, CAST(?2 AS BIGINT), CAST(?3 AS TEXT),
       CAST(?4 AS TEXT)
     FROM verdicts WHERE task_id = ?1";

/// A task sent back (`?1` state, `?2` on-site due, `?3` verdict due, `?4` escalations, `?5`
/// now, `?6` id): no verdict, no arrival.
pub(crate) const SEND_BACK_SQL: &str =
    "UPDATE tasks SET state = ?1, verified_at = NULL, verdict = NULL,
       on_site_at = NULL, on_site_due = ?2, verdict_due = ?3, escalations = ?4,
       updated_at = ?5
     WHERE id = ?6";

/// A task sent back for re-inspection means going on site again: the on-site and verdict
/// deadlines run from `now` by the policy (as for a task made now; it stays acknowledged), and
/// those two deadlines may be escalated again (the others' escalations are kept). The two due
/// times and the escalations as stored.
pub(crate) fn send_back_plan(
    task: &StoredTask,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>, String) {
    let [_, (_, on_site_due), (_, verdict_due)] =
        due_times(now, rules.policy.deadlines(task.priority));
    let escalations: Vec<&str> = task
        .escalations
        .iter()
        .map(String::as_str)
        .filter(|e| *e != "verdict" && *e != "on_site")
        .collect();
    (on_site_due, verdict_due, escalations.join(","))
}

/// A task's unit as notices name it.
pub(crate) fn unit_label(t: &StoredTask) -> String {
    format!("{} {}", t.unit_level, t.unit)
}
