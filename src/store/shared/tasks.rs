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

/// The columns of a stored verdict, in the order both backends read them.
pub(crate) const VERDICT_COLUMNS: &str = "id, task_id, verdict, reported_at, received_at, lat, lon,
    distance_m, note, photo_sha256, photo_path, photo_bytes, exif_time, exif_lat, exif_lon, flags,
    review, actor";

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
