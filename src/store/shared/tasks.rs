//! What both backends' task code decides alike, apart from SQL: which action a change is, what
//! it stamps and writes in the audit log; a verdict's evidence findings and what they put in
//! the audit row and the notice; which deadlines a sweep escalates; where a "no fire" verdict
//! proposes a mask candidate; the precision tally. Each backend loads the
//! rows, calls these, and writes what they return in its own transaction (SQLite:
//! `sqlite/tasks.rs`, PostgreSQL: `postgres/tasks.rs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::dispatch::{Action, Deadline, IllegalTransition, TaskRules, TaskState, Verdict};
use crate::notify::{Notice, NoticeKind};
use crate::raster::georef::haversine_m;
use crate::store::tasks::{
    Acted, MaskCandidate, NewVerdict, SourcePrecision, StoredFlag, StoredTask, TaskChange,
    TaskError,
};
use crate::verify::{check, PriorPhoto, Report};

// The statements both backends run, in SQLite's numbered parameters (PostgreSQL runs them
// through `super::dollars`; a parameter whose type PostgreSQL cannot infer is `CAST`, which
// SQLite reads too).

/// The verdict of task `?1`: id, task_id, verdict, reported_at, received_at, lat, lon,
/// distance_m, note, photo_sha256, photo_path, photo_bytes, exif_time, exif_lat, exif_lon,
/// flags, review, actor.
pub(crate) const VERDICT_SQL: &str = "SELECT id, task_id, verdict, reported_at, received_at, lat,
    lon, distance_m, note, photo_sha256, photo_path, photo_bytes, exif_time, exif_lat, exif_lon,
    flags, review, actor
    FROM verdicts WHERE task_id = ?1";

/// A verdict (`?1` task, `?2` verdict, `?3` reported, `?4` received, `?5` lat, `?6` lon, `?7`
/// distance, `?8` note, `?9`-`?12` photo sha256, dHash, path, bytes, `?13`-`?15` EXIF time,
/// lat, lon, `?16` flags, `?17` review, `?18` actor); its id.
pub(crate) const INSERT_VERDICT_SQL: &str = "INSERT INTO verdicts (task_id, verdict, reported_at,
    received_at, lat, lon, distance_m, note, photo_sha256, photo_dhash, photo_path, photo_bytes,
    exif_time, exif_lat, exif_lon, flags, review, actor)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
    RETURNING id";

/// The photos of every verdict but task `?1`'s: task id, sha256, dHash.
pub(crate) const PRIORS_SQL: &str =
    "SELECT task_id, photo_sha256, photo_dhash FROM verdicts WHERE task_id != ?1";

/// A task verified (`?1` state, `?2` now, `?3` verdict, `?4` id).
pub(crate) const VERIFY_SQL: &str =
    "UPDATE tasks SET state = ?1, verified_at = ?2, verdict = ?3, updated_at = ?2 WHERE id = ?4";

/// A task moved to state `?1` at `?2` (its milestone `column` at `?4`, when the patrol acted,
/// kept when already stamped), id `?3`.
pub(crate) fn change_sql(column: &str) -> String {
    format!(
        "UPDATE tasks SET state = ?1, {column} = COALESCE({column}, ?4), updated_at = ?2
         WHERE id = ?3"
    )
}

/// A task's escalations (`?1`) after a sweep at `?2`, id `?3`.
pub(crate) const ESCALATE_SQL: &str =
    "UPDATE tasks SET escalations = ?1, escalated_at = ?2, updated_at = ?2 WHERE id = ?3";

/// The task ids of token `?1`'s verdicts, newest first, at most `?2`.
pub(crate) const VERDICTS_BY_SQL: &str =
    "SELECT task_id FROM verdicts WHERE actor = ?1 ORDER BY id DESC LIMIT ?2";

/// How many verdicts, kept or returned, use photo `?1`.
pub(crate) const PHOTO_REFS_SQL: &str =
    "SELECT (SELECT COUNT(*) FROM verdicts WHERE photo_sha256 = ?1)
          + (SELECT COUNT(*) FROM returned_verdicts WHERE photo_sha256 = ?1)";

/// The `no_fire_other` verdicts with their event's lon, lat in a box (`?1`-`?2` lat, `?3`-`?4`
/// lon).
pub(crate) const REPEATS_SQL: &str =
    "SELECT v.id, e.lon, e.lat FROM verdicts v JOIN tasks t ON t.id = v.task_id
     JOIN events e ON e.id = t.event_id
     WHERE v.verdict = 'no_fire_other'
       AND e.lat BETWEEN ?1 AND ?2 AND e.lon BETWEEN ?3 AND ?4";

/// Mask candidates newest first: status `?1`, id `?2`, ids below `?3` (each when not NULL), at
/// most `?4`: id, lat, lon, radius_m, reason, verdicts, status, created_at, decided_at,
/// decided_by.
pub(crate) const CANDIDATES_SQL: &str =
    "SELECT id, lat, lon, radius_m, reason, verdicts, status, created_at, decided_at, decided_by
     FROM mask_candidates WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1)
       AND (CAST(?2 AS BIGINT) IS NULL OR id = ?2) AND (CAST(?3 AS BIGINT) IS NULL OR id < ?3)
     ORDER BY id DESC LIMIT ?4";

/// A pending candidate's verdicts (`?1`, JSON), id `?2`.
pub(crate) const SUPPORT_SQL: &str = "UPDATE mask_candidates SET verdicts = ?1 WHERE id = ?2";

/// A new pending candidate (`?1` lat, `?2` lon, `?3` radius, `?4` reason, `?5` verdicts, `?6`
/// now); its id.
pub(crate) const PROPOSE_SQL: &str =
    "INSERT INTO mask_candidates (lat, lon, radius_m, reason, verdicts, status, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6) RETURNING id";

/// A candidate decided (`?1` status, `?2` now, `?3` by, `?4` id).
pub(crate) const DECIDE_SQL: &str =
    "UPDATE mask_candidates SET status = ?1, decided_at = ?2, decided_by = ?3 WHERE id = ?4";

/// An idempotency key claimed (`?1` actor, `?2` key, `?3` route, `?4` task, `?5` request hash,
/// `?6` now); no row when it was claimed before.
pub(crate) const CLAIM_KEY_SQL: &str =
    "INSERT INTO idempotency_keys (actor, key, route, task_id, request_sha256, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (actor, key) DO NOTHING";

/// Token `?1`'s key `?2`: route, task_id, request_sha256, status, response.
pub(crate) const FIND_KEY_SQL: &str =
    "SELECT route, task_id, request_sha256, status, response FROM idempotency_keys
     WHERE actor = ?1 AND key = ?2";

/// The answer (`?3` status, `?4` body) of token `?1`'s key `?2`; the first one stays.
pub(crate) const ANSWER_KEY_SQL: &str = "UPDATE idempotency_keys SET status = ?3, response = ?4
     WHERE actor = ?1 AND key = ?2 AND status IS NULL";

/// The keys claimed before `?1` removed (their retention has passed).
pub(crate) const PRUNE_KEYS_SQL: &str = "DELETE FROM idempotency_keys WHERE created_at < ?1";

/// A stored key from its row ([`FIND_KEY_SQL`]'s columns).
pub(crate) fn stored_key(
    (route, task_id, request_sha256): (String, i64, String),
    status: Option<i64>,
    response: Option<String>,
) -> crate::store::idempotency::StoredKey {
    crate::store::idempotency::StoredKey {
        route,
        task_id,
        request_sha256,
        answer: match (status, response) {
            (Some(s), Some(body)) => Some((
                s as u16,
                serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
            )),
            _ => None,
        },
    }
}

/// The state machine's action of a change.
pub(crate) fn change_action(change: TaskChange) -> Action {
    match change {
        TaskChange::Acknowledge => Action::Acknowledge,
        TaskChange::OnSite { .. } => Action::ArriveOnSite,
        TaskChange::Close => Action::Close,
        TaskChange::Notified => Action::Notify,
    }
}

/// The milestone column a task entering `to` stamps (kept when already stamped).
pub(crate) fn milestone_column(to: TaskState) -> &'static str {
    match to {
        TaskState::Notified => "notified_at",
        TaskState::Acknowledged => "acknowledged_at",
        TaskState::OnSite => "on_site_at",
        TaskState::Closed => "closed_at",
        TaskState::Cancelled => "cancelled_at",
        // Not reachable by a `TaskChange`.
        TaskState::New | TaskState::Verified => "updated_at",
    }
}

/// The audit detail of a change: the patrol's position on arrival and its distance from the
/// event; when it was made, if not when it arrived (the audit row is dated on arrival).
pub(crate) fn change_detail(
    change: TaskChange,
    task: &StoredTask,
    acted: &Acted,
) -> serde_json::Value {
    let mut detail = match change {
        TaskChange::OnSite { lon, lat } => serde_json::json!({
            "lon": lon, "lat": lat,
            "distance_m": haversine_m((lon, lat), (task.lon, task.lat)).round(),
        }),
        _ => serde_json::json!({}),
    };
    if let Some(at) = acted.at {
        detail["acted_at"] = serde_json::json!(at.to_rfc3339());
    }
    detail
}

/// What the evidence checks found of a verdict, and what is stored with it.
pub(crate) struct VerdictFindings {
    pub(crate) flags: Vec<StoredFlag>,
    pub(crate) review: bool,
    /// From the event, m.
    pub(crate) distance_m: f64,
    pub(crate) exif_time: Option<DateTime<Utc>>,
}

/// Runs the evidence checks of verdict `v` on `task` against the photos of every other
/// verdict (`priors`).
pub(crate) fn verdict_findings(
    task: &StoredTask,
    v: &NewVerdict,
    priors: &[PriorPhoto],
    rules: &TaskRules,
) -> VerdictFindings {
    // A patrol that acknowledged was told (by webhook, phone or the patrol page), so the
    // earlier of notification and acknowledgement is when it knew.
    let told = match (task.milestones.notified_at, task.milestones.acknowledged_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let report = Report {
        reported_at: v.reported_at,
        position: (v.lon, v.lat),
        photo: &v.photo,
    };
    let flags: Vec<StoredFlag> =
        check(&report, (task.lon, task.lat), told, priors, &rules.evidence)
            .into_iter()
            .map(|flag| StoredFlag {
                reason: flag.reason(),
                flag,
            })
            .collect();
    VerdictFindings {
        review: !flags.is_empty(),
        distance_m: haversine_m((v.lon, v.lat), (task.lon, task.lat)),
        exif_time: v
            .photo
            .exif
            .taken_at_utc(rules.evidence.camera_utc_offset_h),
        flags,
    }
}

impl VerdictFindings {
    /// The flags as stored (JSON).
    pub(crate) fn flags_json(&self) -> String {
        serde_json::to_string(&self.flags).expect("flags serialise")
    }

    /// The audit detail of verdict `verdict_id`.
    pub(crate) fn audit_detail(&self, verdict_id: i64, v: &NewVerdict) -> serde_json::Value {
        serde_json::json!({
            "verdict_id": verdict_id,
            "verdict": v.verdict.as_str(),
            "review": self.review,
            "flags": self.flags.iter().map(|f| f.reason.clone()).collect::<Vec<_>>(),
            "photo_sha256": v.photo.sha256,
        })
    }

    /// The notice's kind and detail line.
    pub(crate) fn notice_kind(&self, v: &NewVerdict) -> (NoticeKind, String) {
        let detail = if self.review {
            format!("{} (flagged for review)", v.verdict.as_str())
        } else {
            v.verdict.as_str().to_string()
        };
        (
            NoticeKind::Verdict {
                verdict: v.verdict.as_str().into(),
            },
            detail,
        )
    }

    /// What the group reads besides: the patrol's note, the photo and why the verdict awaits
    /// review.
    pub(crate) fn complete_notice(&self, n: &mut Notice, v: &NewVerdict) {
        n.note = v.note.clone().filter(|s| !s.trim().is_empty());
        n.photo_sha256 = Some(v.photo.sha256.clone());
        n.review = self
            .flags
            .iter()
            .filter_map(|f| {
                serde_json::to_value(&f.flag)
                    .ok()
                    .and_then(|v| v["flag"].as_str().map(str::to_string))
            })
            .collect();
    }
}

/// One deadline a sweep escalates.
pub(crate) struct Escalation {
    pub(crate) deadline: Deadline,
    /// The task's escalations after this one, as stored (comma-separated).
    pub(crate) escalations: String,
    /// Whom it is told to: the task's county (its unit when it has none).
    pub(crate) to: String,
    pub(crate) audit_detail: serde_json::Value,
    pub(crate) notice_detail: String,
}

/// The deadlines of an open `task` missed at `now` and not escalated before, in order: each
/// is escalated once (a deadline met late is not escalated after the fact).
pub(crate) fn escalations_due(task: &StoredTask, now: DateTime<Utc>) -> Vec<Escalation> {
    if !task.state.is_open() {
        return Vec::new();
    }
    let mut escalations = task.escalations.clone();
    let mut out = Vec::new();
    for (deadline, at, reached) in task.deadlines() {
        let name = deadline.as_str();
        if reached || now <= at || escalations.iter().any(|e| e == name) {
            continue;
        }
        escalations.push(name.to_string());
        let to = task.county.clone().unwrap_or_else(|| task.unit.clone());
        out.push(Escalation {
            deadline,
            escalations: escalations.join(","),
            audit_detail: serde_json::json!({
                "deadline": name, "due": at.to_rfc3339(), "to": to,
            }),
            notice_detail: format!(
                "{name} deadline {} missed by {} ({})",
                at.to_rfc3339(),
                task.unit,
                task.state.as_str()
            ),
            to,
        });
    }
    out
}

/// The box (min_lat, max_lat, min_lon, max_lon) around (`lon`, `lat`) that holds every point
/// within `r` m.
pub(crate) fn box_around(lon: f64, lat: f64, r: f64) -> (f64, f64, f64, f64) {
    let dlat = r / 111_000.0;
    let dlon = r / (111_000.0 * lat.to_radians().cos().max(0.05));
    (lat - dlat, lat + dlat, lon - dlon, lon + dlon)
}

/// What a verdict does to the mask candidates.
pub(crate) enum MaskStep {
    /// Nothing.
    None,
    /// The verdicts (`ids`) support pending candidate `id`, whose list becomes `verdicts`.
    Support { id: i64, verdicts: Vec<i64> },
    /// A new pending candidate at the task's event.
    Propose {
        lat: f64,
        lon: f64,
        radius_m: f64,
        reason: &'static str,
        verdicts: Vec<i64>,
    },
}

/// Whether and where a "no fire" verdict proposes a mask candidate: at once for
/// `no_fire_industrial`; for `no_fire_other` once `no_fire_other_repeats` such verdicts
/// (`repeats`: id, event lon, lat of each `no_fire_other` verdict in the
/// [`box_around`] the event, this one included) lie within `mask_radius_m`. A pending
/// candidate (`pending`) that already covers the place collects the verdicts instead of a
/// second candidate.
pub(crate) fn mask_step(
    verdict: Verdict,
    verdict_id: i64,
    task: &StoredTask,
    repeats: &[(i64, f64, f64)],
    pending: &[MaskCandidate],
    rules: &TaskRules,
) -> MaskStep {
    let r = rules.mask_radius_m;
    let (lon, lat) = (task.lon, task.lat);
    let (reason, ids) = match verdict {
        Verdict::NoFireIndustrial => ("no_fire_industrial", vec![verdict_id]),
        Verdict::NoFireOther => {
            let ids: Vec<i64> = repeats
                .iter()
                .filter(|(_, elon, elat)| haversine_m((*elon, *elat), (lon, lat)) <= r)
                .map(|(id, _, _)| *id)
                .collect();
            if ids.len() < rules.no_fire_other_repeats {
                return MaskStep::None;
            }
            ("repeated no_fire_other", ids)
        }
        Verdict::Burning | Verdict::BurnedScar => return MaskStep::None,
    };
    let near = pending
        .iter()
        .find(|c| haversine_m((c.lon, c.lat), (lon, lat)) <= c.radius_m.max(r));
    match near {
        Some(c) => {
            let mut verdicts = c.verdicts.clone();
            for id in ids {
                if !verdicts.contains(&id) {
                    verdicts.push(id);
                }
            }
            MaskStep::Support { id: c.id, verdicts }
        }
        None => MaskStep::Propose {
            lat,
            lon,
            radius_m: r,
            reason,
            verdicts: ids,
        },
    }
}

/// The audit detail of a proposed candidate.
pub(crate) fn propose_detail(reason: &str, verdicts: &[i64], task_id: i64) -> serde_json::Value {
    serde_json::json!({"reason": reason, "verdicts": verdicts, "task_id": task_id})
}

/// The audit detail of a decided candidate.
pub(crate) fn decide_detail(c: &MaskCandidate) -> serde_json::Value {
    serde_json::json!({"lat": c.lat, "lon": c.lon, "radius_m": c.radius_m})
}

/// The status a pending candidate is decided to, or why it cannot be.
pub(crate) fn candidate_decision(
    cand: &MaskCandidate,
    confirm: bool,
) -> Result<&'static str, TaskError> {
    if cand.status != "pending" {
        return Err(TaskError::Illegal(IllegalTransition {
            from: if cand.status == "confirmed" {
                "confirmed"
            } else {
                "rejected"
            },
            action: if confirm { "confirm" } else { "reject" },
        }));
    }
    Ok(if confirm { "confirmed" } else { "rejected" })
}

/// The precision queries' rows (`{filter}`: empty, or a `WHERE` on `t` with one parameter
/// `$1`, which SQLite binds as its first too). Satellite: verdict id, verdict, instrument,
/// satellite, confidence; camera: verdict id, verdict, sensor id.
pub(crate) fn precision_sql(filter: &str) -> [String; 2] {
    [
        format!(
            "SELECT DISTINCT v.id, v.verdict, h.instrument, h.satellite, h.confidence
             FROM verdicts v JOIN tasks t ON t.id = v.task_id
             JOIN hotspots h ON h.event_id = t.event_id {filter}"
        ),
        format!(
            "SELECT DISTINCT v.id, v.verdict, a.sensor_id
             FROM verdicts v JOIN tasks t ON t.id = v.task_id
             JOIN sensor_alerts a ON a.event_id = t.event_id {filter}"
        ),
    ]
}

/// The scope's filter of [`precision_sql`] and its parameter.
pub(crate) fn precision_filter(scope: &crate::store::Scope) -> (&'static str, Option<String>) {
    use crate::store::Scope;
    match scope {
        Scope::All => ("", None),
        Scope::County(cty) => ("WHERE t.county = $1", Some(cty.clone())),
        Scope::Township(u) => ("WHERE t.unit = $1", Some(u.clone())),
    }
}

/// Verdicts per source: (kind, source, class) → verdict id → confirmed on the ground.
#[derive(Default)]
pub(crate) struct PrecisionTally {
    seen: BTreeMap<(String, String, Option<String>), BTreeMap<i64, bool>>,
}

impl PrecisionTally {
    /// A verdict on an event a satellite detection of `instrument`/`satellite` with confidence
    /// `conf` (as stored) belongs to.
    pub(crate) fn satellite(
        &mut self,
        id: i64,
        verdict: &str,
        instrument: &str,
        satellite: &str,
        conf: &str,
    ) {
        let class = crate::hotspot::Confidence::parse(conf)
            .map(super::class_name)
            .unwrap_or("low");
        let source = format!(
            "{}/{}",
            instrument.to_ascii_uppercase(),
            crate::store::normalise_satellite(satellite)
        );
        self.add(
            ("satellite".into(), source, Some(class.into())),
            id,
            verdict,
        );
    }

    /// A verdict on an event camera `sensor` alerted of.
    pub(crate) fn camera(&mut self, id: i64, verdict: &str, sensor: String) {
        self.add(("camera".into(), sensor, None), id, verdict);
    }

    fn add(&mut self, k: (String, String, Option<String>), id: i64, verdict: &str) {
        self.seen
            .entry(k)
            .or_default()
            .insert(id, Verdict::parse(verdict).is_some_and(|v| v.is_burning()));
    }

    pub(crate) fn finish(self) -> Vec<SourcePrecision> {
        self.seen
            .into_iter()
            .map(|((kind, source, confidence), verdicts)| {
                let n = verdicts.len() as u64;
                let confirmed = verdicts.values().filter(|b| **b).count() as u64;
                SourcePrecision {
                    kind,
                    source,
                    confidence,
                    verdicts: n,
                    confirmed,
                    false_alarms: n - confirmed,
                    precision: confirmed as f64 / n.max(1) as f64,
                }
            })
            .collect()
    }
}
