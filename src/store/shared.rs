//! What the backends share where their dialects agree: the candidate search's bounds, the
//! confidence class edges of the queries, the event columns as read back; the task logic of
//! both (`shared/tasks.rs`).

pub(crate) mod deliveries;
pub(crate) mod idempotency;
pub(crate) mod lookups;
pub(crate) mod operator;
pub(crate) mod outbox;
pub(crate) mod rank;
pub(crate) mod task_steps;
pub(crate) mod tasks;
pub(crate) mod tx;

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

/// Where an event that a sighting may join can lie: a box around the sighting and a time
/// window (Unix seconds) around its time. The event's own extent reaches
/// [`MAX_EVENT_FOOTPRINT_M`] around its centre, so the centre may lie that far outside the
/// sighting's reach.
pub(crate) struct Reach {
    pub(crate) min_lat: f64,
    pub(crate) max_lat: f64,
    pub(crate) min_lon: f64,
    pub(crate) max_lon: f64,
    pub(crate) from: i64,
    pub(crate) to: i64,
}

impl Reach {
    /// The reach of sighting `s` under `p`.
    pub(crate) fn around(s: &crate::fuse::Sighting, p: &crate::fuse::FuseParams) -> Reach {
        let window = p.window.num_seconds();
        let reach_m = s.footprint_m + MAX_EVENT_FOOTPRINT_M + p.extra_distance_m;
        let (mlat, mlon) = (reach_m / 110_500.0, margin_deg(reach_m, s.lat));
        let t = s.time.timestamp();
        Reach {
            min_lat: s.lat - mlat,
            max_lat: s.lat + mlat,
            min_lon: s.lon - mlon,
            max_lon: s.lon + mlon,
            from: t - window,
            to: t + window,
        }
    }

    /// Whether a stored event lies within the reach: the candidate query's condition
    /// (`lat BETWEEN min_lat AND max_lat AND lon BETWEEN min_lon AND max_lon AND
    /// last_seen >= from AND first_seen <= to`) in memory.
    pub(crate) fn holds(&self, e: &crate::fuse::FireEvent) -> bool {
        (self.min_lat..=self.max_lat).contains(&e.lat)
            && (self.min_lon..=self.max_lon).contains(&e.lon)
            && e.last_seen.timestamp() >= self.from
            && e.first_seen.timestamp() <= self.to
    }
}

/// A batch's sightings fused into events: the events loaded from the store (each once) and
/// those the batch made, whether each was stored before and whether the batch changed it,
/// and each sighting's row with the index of the event it joined.
pub(crate) struct BatchFusion<R> {
    pub(crate) events: Vec<crate::fuse::FireEvent>,
    pub(crate) stored: Vec<bool>,
    pub(crate) dirty: Vec<bool>,
    pub(crate) links: Vec<(R, usize)>,
}

/// Fuses a batch's sightings one by one, loading per sighting only the stored events `near`
/// finds within its [`Reach`] (one query for the whole batch's box would load every event of a
/// large feed); events made earlier in the batch are in memory. The one loop of both backends:
/// only the candidate query is theirs.
pub(crate) fn fuse_batch<R, E>(
    sightings: Vec<(crate::fuse::Sighting, R, Placement)>,
    p: &crate::fuse::FuseParams,
    mut near: impl FnMut(&Reach) -> Result<Vec<crate::fuse::FireEvent>, E>,
) -> Result<BatchFusion<R>, E> {
    let mut b = BatchFusion {
        events: Vec::new(),
        stored: Vec::new(),
        dirty: Vec::new(),
        links: Vec::with_capacity(sightings.len()),
    };
    let mut loaded_ids = std::collections::HashSet::new();
    for (s, row, pl) in sightings {
        let reach = Reach::around(&s, p);
        for e in near(&reach)? {
            if e.id.is_some_and(|id| loaded_ids.insert(id)) {
                b.events.push(e);
                b.stored.push(true);
                b.dirty.push(false);
            }
        }
        let out = crate::fuse::fuse(&mut b.events, &s, p, &Given(pl));
        if b.events.len() > b.stored.len() {
            b.stored.push(false);
            b.dirty.push(false);
        }
        b.dirty[out.index()] = true;
        b.links.push((row, out.index()));
    }
    Ok(b)
}

/// What a new task's priority is decided from, besides the county's season (both backends'
/// `insert_task`: dispatch at ingest and the operator's task by hand).
pub(crate) struct NewTaskFacts {
    pub(crate) confidence: Confidence,
    pub(crate) max_frp_mw: Option<f64>,
    pub(crate) sensitive: bool,
    pub(crate) corroborated: bool,
    pub(crate) mask: Option<String>,
}

/// A new task's priority, its three due times from `now`, and its `create` audit detail (with
/// `extra` merged in), given whether it is its county's first of the season.
pub(crate) fn plan_new_task(
    event_id: i64,
    f: &NewTaskFacts,
    first_of_season: bool,
    rules: &crate::dispatch::TaskRules,
    now: chrono::DateTime<chrono::Utc>,
    extra: serde_json::Value,
) -> (
    Priority,
    [chrono::DateTime<chrono::Utc>; 3],
    serde_json::Value,
) {
    let facts = crate::dispatch::PriorityFacts {
        confidence: f.confidence,
        max_frp_mw: f.max_frp_mw.unwrap_or(0.0),
        sensitive_area: f.sensitive,
        first_of_season,
        corroborated: f.corroborated,
    };
    let p = crate::dispatch::priority(&facts, &rules.policy);
    let [(_, ack), (_, on_site), (_, verdict)] =
        crate::dispatch::policy::due_times(now, rules.policy.deadlines(p));
    let mut detail = serde_json::json!({
        "event_id": event_id,
        "priority": priority_str(p),
        "confidence": class_name(facts.confidence),
        "max_frp_mw": f.max_frp_mw,
        "sensitive_area": f.sensitive,
        "first_of_season": first_of_season,
        "corroborated": facts.corroborated,
        "mask": f.mask,
    });
    if let (Some(d), serde_json::Value::Object(x)) = (detail.as_object_mut(), extra) {
        d.extend(x);
    }
    (p, [ack, on_site, verdict], detail)
}

/// How often a task was given out again (reassigned or sent back): a notice's round
/// (`Notice::round`, part of its key). Parameter 1: the task id.
pub(crate) const ROUND_SQL: &str = "SELECT COUNT(*) FROM audit WHERE entity = 'task'
    AND entity_id = ?1 AND action IN ('reassign', 'send_back')";

/// The facts of a task's event a notice carries (`first_seen`, `last_seen`, `max_frp_mw`,
/// `confidence`). Parameter 1: the event id.
pub(crate) const NOTICE_EVENT_SQL: &str =
    "SELECT first_seen, last_seen, max_frp_mw, confidence FROM events WHERE id = ?1";

/// The self-contained notice of a task change to `unit`, from the task, its event's facts
/// ([`NOTICE_EVENT_SQL`]) and its round ([`ROUND_SQL`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn task_notice(
    task: &crate::store::tasks::StoredTask,
    kind: crate::notify::NoticeKind,
    unit: String,
    detail: String,
    (first_seen, last_seen): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    max_frp_mw: Option<f64>,
    confidence: f64,
    round: u32,
) -> crate::notify::Notice {
    crate::notify::Notice {
        kind,
        task_id: task.id,
        event_id: task.event_id,
        unit,
        unit_name: None,
        county: task.county.clone(),
        priority: priority_str(task.priority).into(),
        state: task.state.as_str().into(),
        lat: task.lat,
        lon: task.lon,
        first_seen,
        last_seen,
        due: task.next_due().map(|(_, at)| at),
        max_frp_mw,
        confidence,
        detail,
        place: Vec::new(),
        parcel: None,
        note: None,
        review: Vec::new(),
        photo_sha256: None,
        round,
    }
}

/// The notices superseded when a task is cancelled or given to another unit: every notice of
/// it but its verdicts and withdrawals that is not yet expanded, or has a delivery still
/// waiting (`?1` task, `?2` now, `?3` why).
pub(crate) const SUPERSEDE_SQL: &str = "UPDATE outbox SET superseded_at = ?2, superseded_by = ?3
     WHERE task_id = ?1 AND superseded_at IS NULL AND kind NOT IN ('verdict', 'cancelled')
       AND (expanded = 0 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.outbox_id = outbox.id
              AND d.delivered_at IS NULL AND d.gave_up_at IS NULL))";

/// Moves a task new → notified (`?1` task, `?2` now); only a task still `new` moves.
pub(crate) const MARK_NOTIFIED_SQL: &str =
    "UPDATE tasks SET state = 'notified', notified_at = ?2, updated_at = ?2
     WHERE id = ?1 AND state = 'new'";

/// SQL written with SQLite's numbered parameters (`?1`) in PostgreSQL's (`$1`): the statements
/// both dialects read alike are written once, here, in SQLite's words.
pub(crate) fn dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut it = sql.chars().peekable();
    while let Some(c) = it.next() {
        if c == '?' && it.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_dollars() {
        assert_eq!(
            dollars("SELECT a FROM t WHERE b = ?1 AND c < ?12 AND d = '?'"),
            "SELECT a FROM t WHERE b = $1 AND c < $12 AND d = '?'"
        );
    }
}
