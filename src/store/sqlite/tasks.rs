//! Tasks, verdicts, the audit log and mask candidates in SQLite (tables of migration 3).
//!
//! Every change here is one transaction that also writes its audit row and its outbox notice
//! (`outbox::enqueue`), so a crash can leave neither a state change without its record nor a
//! notice for a change that was rolled back. Task creation runs inside the ingest transaction
//! ([`on_event_saved`], called from `store::ingest_tx`): an event is never committed without the
//! task it is owed. The decisions themselves are pure (`dispatch::rules`, `dispatch::policy`,
//! `dispatch::task`, `verify::evidence`); this file only loads, applies and records them.

use chrono::{DateTime, Duration, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::idempotency;
use super::outbox::enqueue;
use super::{from_ts, ts, SqliteStore};
use crate::dispatch::rules::TOO_OLD;
use crate::dispatch::{
    transition, Action, Assignment, Deadline, Milestones, Priority, TaskRules, TaskState, Verdict,
};
use crate::fuse::{FireEvent, FuseParams, Placer};
use crate::notify::{Notice, NoticeKind};
use crate::store::error::{SqlContext, StoreError};
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::model::{IngestBatch, IngestReport, Scope};
use crate::store::shared::tasks::{
    box_around, candidate_decision, change_action, change_detail, change_sql, decide_detail,
    escalations_due, mask_step, milestone_column, precision_filter, precision_sql, propose_detail,
    verdict_findings, MaskStep, PrecisionTally, CANDIDATES_SQL, DECIDE_SQL, ESCALATE_SQL,
    INSERT_VERDICT_SQL, PHOTO_REFS_SQL, PRIORS_SQL, PROPOSE_SQL, REPEATS_SQL, SUPPORT_SQL,
    VERDICTS_BY_SQL, VERDICT_SQL, VERIFY_SQL,
};
pub(super) use crate::store::shared::NewTaskFacts;
use crate::store::shared::{
    plan_new_task, priority_str, task_notice, Dispatched, MARK_NOTIFIED_SQL, NOTICE_EVENT_SQL,
    ROUND_SQL,
};
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskQuery, TaskStore, TaskTarget, VerdictOutcome,
};
use crate::verify::PriorPhoto;

impl TaskStore for SqliteStore {
    fn ingest_within(
        &self,
        batch: &IngestBatch,
        fuse: &FuseParams,
        placer: &dyn Placer,
        rules: &TaskRules,
        now: DateTime<Utc>,
        reach: &Scope,
    ) -> Result<IngestReport, StoreError> {
        self.writer
            .write(|tx| super::store::ingest_tx(tx, batch, fuse, placer, Some((rules, now)), reach))
    }

    fn tasks_each(
        &self,
        q: &TaskQuery,
        f: &mut dyn FnMut(StoredTask) -> bool,
    ) -> Result<(), StoreError> {
        self.read(|c| query_tasks(c, q, f))
    }

    fn change_task_as(
        &self,
        id: i64,
        change: TaskChange,
        who: &Actor,
        now: DateTime<Utc>,
        acted: &Acted,
    ) -> Result<StoredTask, TaskError> {
        self.write(|tx| {
            if let Some(k) = &acted.key {
                idempotency::claim(tx, k, now)?;
            }
            let task = load_task(tx, id)?;
            let action = change_action(change);
            let to = transition(task.state, action)?;
            if to == task.state {
                // A repeated delivery confirmation: nothing changes, nothing to record.
                return Ok(task);
            }
            let column = milestone_column(to);
            tx.execute(
                &change_sql(column),
                params![to.as_str(), ts(now), id, ts(acted.at.unwrap_or(now))],
            )
            .ctx("update task")?;
            let detail = change_detail(change, &task, acted);
            audit_move(tx, now, who, id, action, task.state, to, &detail)?;
            load_task(tx, id)
        })
    }

    fn record_verdict_as(
        &self,
        id: i64,
        v: &NewVerdict,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
        key: Option<&IdempotencyKey>,
    ) -> Result<VerdictOutcome, TaskError> {
        self.write(|tx| {
            if let Some(k) = key {
                idempotency::claim(tx, k, now)?;
            }
            let task = load_task(tx, id)?;
            let to = transition(task.state, Action::Verify(v.verdict))?;
            let priors = {
                let mut st = tx.prepare_cached(PRIORS_SQL).ctx("prepare priors")?;
                let rows = st
                    .query_map([id], |r| {
                        Ok(PriorPhoto {
                            task_id: r.get(0)?,
                            sha256: r.get(1)?,
                            dhash: r.get::<_, i64>(2)? as u64,
                        })
                    })
                    .ctx("query priors")?;
                rows.collect::<Result<Vec<_>, _>>().ctx("read priors")?
            };
            let found = verdict_findings(&task, v, &priors, rules);
            let verdict_id: i64 = tx
                .query_row(
                    INSERT_VERDICT_SQL,
                    params![
                        id,
                        v.verdict.as_str(),
                        ts(v.reported_at),
                        ts(now),
                        v.lat,
                        v.lon,
                        found.distance_m,
                        v.note,
                        v.photo.sha256,
                        v.photo.dhash as i64,
                        v.photo_path,
                        v.photo_bytes as i64,
                        found.exif_time.map(ts),
                        v.photo.exif.position.map(|p| p.1),
                        v.photo.exif.position.map(|p| p.0),
                        found.flags_json(),
                        found.review,
                        who.id,
                    ],
                    |r| r.get(0),
                )
                .ctx("insert verdict")?;
            tx.execute(
                VERIFY_SQL,
                params![to.as_str(), ts(now), v.verdict.as_str(), id],
            )
            .ctx("verify task")?;
            audit(
                tx,
                now,
                who,
                "task",
                id,
                "verdict",
                Some(task.state.as_str()),
                Some(to.as_str()),
                &found.audit_detail(verdict_id, v),
            )?;
            let task = load_task(tx, id)?;
            let (kind, detail) = found.notice_kind(v);
            let mut n = notice(tx, &task, kind, task.unit.clone(), detail)?;
            found.complete_notice(&mut n, v);
            enqueue(tx, &n, ts(now))?;
            let candidate = propose_mask(tx, v.verdict, verdict_id, &task, who, rules, now)?;
            let verdict = read_verdict(tx, id)?.ok_or(TaskError::NotFound {
                what: "verdict of task",
                id,
            })?;
            Ok(VerdictOutcome {
                verdict,
                task,
                candidate,
            })
        })
    }

    fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<(i64, Deadline)>, StoreError> {
        let r: Result<_, TaskError> = self.write(|tx| {
            // Open tasks past their first deadline (the others cannot have missed any).
            let due = collect_tasks(
                tx,
                &TaskQuery {
                    status: Some(None),
                    ack_due_before: Some(now),
                    limit: usize::MAX >> 1,
                    ..TaskQuery::default()
                },
            )?;
            let mut done = Vec::new();
            for task in due {
                for e in escalations_due(&task, now) {
                    tx.execute(ESCALATE_SQL, params![e.escalations, ts(now), task.id])
                        .ctx("escalate task")?;
                    audit(
                        tx,
                        now,
                        &Actor::system(),
                        "task",
                        task.id,
                        "escalate",
                        Some(task.state.as_str()),
                        Some(task.state.as_str()),
                        &e.audit_detail,
                    )?;
                    let kind = NoticeKind::Escalation {
                        deadline: e.deadline.as_str().into(),
                    };
                    let n = notice(tx, &task, kind, e.to, e.notice_detail)?;
                    enqueue(tx, &n, ts(now))?;
                    done.push((task.id, e.deadline));
                }
            }
            Ok(done)
        });
        r.map_err(|e| match e {
            TaskError::Store(s) => s,
            other => StoreError::BadValue {
                table: "tasks",
                column: "state",
                value: other.to_string(),
            },
        })
    }

    fn verdict_of(&self, task_id: i64) -> Result<Option<StoredVerdict>, StoreError> {
        self.read(|c| read_verdict(c, task_id))
    }

    fn idempotency_key(&self, actor: &str, key: &str) -> Result<Option<StoredKey>, StoreError> {
        self.read(|c| idempotency::find(c, actor, key))
    }

    fn idempotent_answer(
        &self,
        actor: &str,
        key: &str,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.writer
            .write(|conn| idempotency::answer(conn, actor, key, status, body))
    }

    fn verdicts_by(
        &self,
        actor: &str,
        limit: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError> {
        self.read(|c| {
            let ids: Vec<i64> = {
                let mut st = c
                    .prepare_cached(VERDICTS_BY_SQL)
                    .ctx("prepare verdicts by actor")?;
                let rows = st
                    .query_map(params![actor, limit as i64], |r| r.get(0))
                    .ctx("query verdicts by actor")?;
                rows.collect::<Result<_, _>>()
                    .ctx("read verdicts by actor")?
            };
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let task = load_task(c, id).map_err(into_store)?;
                if let Some(v) = read_verdict(c, id)? {
                    out.push((task, v));
                }
            }
            Ok(out)
        })
    }

    fn photo_refs(&self, sha256: &str) -> Result<u64, StoreError> {
        self.read(|c| {
            c.query_row(PHOTO_REFS_SQL, [sha256], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .ctx("count photo references")
        })
    }

    fn audit_page(
        &self,
        entity: &str,
        id: i64,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT id, at, actor, role, entity, entity_id, action, from_state, to_state, detail
                     FROM audit WHERE entity = ?1 AND entity_id = ?2 AND (?3 IS NULL OR id > ?3)
                     ORDER BY id LIMIT ?4",
                )
                .ctx("prepare audit")?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = st
                .query_map(params![entity, id, after_id, limit], |r| {
                    let detail: String = r.get(9)?;
                    Ok(AuditEntry {
                        id: r.get(0)?,
                        at: from_ts(r.get(1)?),
                        actor: r.get(2)?,
                        role: r.get(3)?,
                        entity: r.get(4)?,
                        entity_id: r.get(5)?,
                        action: r.get(6)?,
                        from_state: r.get(7)?,
                        to_state: r.get(8)?,
                        detail: serde_json::from_str(&detail)
                            .unwrap_or(serde_json::Value::String(detail)),
                    })
                })
                .ctx("query audit")?;
            rows.collect::<Result<Vec<_>, _>>().ctx("read audit")
        })
    }

    fn mask_candidates_page(
        &self,
        status: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<MaskCandidate>, StoreError> {
        self.read(|c| load_candidates(c, status, None, before_id, limit))
    }

    fn decide_candidate(
        &self,
        id: i64,
        confirm: bool,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MaskCandidate, TaskError> {
        self.write(|tx| {
            let cand = load_candidates(tx, None, Some(id), None, 1)?
                .into_iter()
                .next()
                .ok_or(TaskError::NotFound {
                    what: "mask candidate",
                    id,
                })?;
            let to = candidate_decision(&cand, confirm)?;
            tx.execute(DECIDE_SQL, params![to, ts(now), who.id, id])
                .ctx("decide mask candidate")?;
            audit(
                tx,
                now,
                who,
                "mask_candidate",
                id,
                if confirm { "confirm" } else { "reject" },
                Some("pending"),
                Some(to),
                &decide_detail(&cand),
            )?;
            load_candidates(tx, None, Some(id), None, 1)?
                .into_iter()
                .next()
                .ok_or(TaskError::NotFound {
                    what: "mask candidate",
                    id,
                })
        })
    }

    fn precision(&self, scope: &Scope) -> Result<Vec<SourcePrecision>, StoreError> {
        self.read(|c| query_precision(c, scope))
    }
}

impl SqliteStore {
    /// Runs `f` as one write (grouped with others, `store/writer.rs`); `Ok` only once
    /// committed, rolled back when it fails.
    pub(super) fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, TaskError>,
    ) -> Result<T, TaskError> {
        self.writer.write(f)
    }
}

/// The ingest hook: called for every event an ingest saved. Creates the event's task when the
/// rules give it one, or tells the task's unit that its event was seen again.
pub(super) fn on_event_saved(
    tx: &Connection,
    ev: &FireEvent,
    event_id: i64,
    placer: &dyn Placer,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<Dispatched, StoreError> {
    // Staleness is judged on the newest detection: a fresh one re-detecting an old fire is
    // dispatched; an archive or backfilled season pages no one, not even as "seen again".
    let too_old = rules.is_too_old(ev.last_seen, now);
    let existing: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, state FROM tasks WHERE event_id = ?1",
            [event_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .ctx("task of event")?;
    if let Some((task_id, state)) = existing {
        if !too_old && TaskState::parse(&state).is_some_and(|s| s.is_open()) {
            tx.execute(
                "UPDATE tasks SET updated_at = ?1 WHERE id = ?2",
                params![ts(now), task_id],
            )
            .ctx("touch task")?;
            let task = load_task(tx, task_id).map_err(into_store)?;
            let n = notice(
                tx,
                &task,
                NoticeKind::TaskUpdated {
                    sightings: ev.sightings,
                },
                task.unit.clone(),
                format!("seen again: {} sightings", ev.sightings),
            )
            .map_err(into_store)?;
            enqueue(tx, &n, ts(now))?;
        }
        return Ok(Dispatched::HasTask);
    }
    let (unit, level, sensitive) = match rules.assign(
        &ev.placement,
        placer.parcel_layer().is_some(),
        ev.confidence(),
    ) {
        Assignment::Task { .. } if too_old => {
            set_task_reason(tx, event_id, Some(TOO_OLD))?;
            return Ok(Dispatched::NoTask(TOO_OLD));
        }
        Assignment::Task {
            unit,
            level,
            sensitive,
        } => (unit, level, sensitive),
        Assignment::Skip(reason) => {
            set_task_reason(tx, event_id, Some(reason))?;
            return Ok(Dispatched::NoTask(reason));
        }
    };
    set_task_reason(tx, event_id, None)?;
    let facts = NewTaskFacts {
        confidence: ev.confidence_class(),
        max_frp_mw: ev.max_frp_mw,
        sensitive,
        corroborated: ev.corroborated(),
        mask: ev.placement.mask.clone(),
    };
    let target = TaskTarget {
        unit,
        level: level.to_string(),
        county: ev.placement.county.clone(),
    };
    insert_task(
        tx,
        event_id,
        &target,
        &facts,
        rules,
        now,
        &Actor::system(),
        serde_json::json!({}),
    )
    .map_err(into_store)?;
    Ok(Dispatched::Created)
}

/// Inserts a `new` task for an event with its priority and deadlines (from `now`), its audit
/// row (by `who`, with `extra` merged into the detail) and its `task_new` notice. The task id.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_task(
    tx: &Connection,
    event_id: i64,
    target: &TaskTarget,
    f: &NewTaskFacts,
    rules: &TaskRules,
    now: DateTime<Utc>,
    who: &Actor,
    extra: serde_json::Value,
) -> Result<i64, TaskError> {
    let first_of_season = match &target.county {
        Some(c) => !tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM tasks WHERE county = ?1 AND created_at > ?2)",
                params![c, ts(now - Duration::days(rules.season_gap_days))],
                |r| r.get::<_, bool>(0),
            )
            .ctx("first of season")?,
        None => false,
    };
    let (p, [ack, on_site, verdict], detail) =
        plan_new_task(event_id, f, first_of_season, rules, now, extra);
    tx.execute(
        "INSERT INTO tasks (event_id, unit, unit_level, county, state, priority, created_at,
           ack_due, on_site_due, verdict_due, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'new', ?5, ?6, ?7, ?8, ?9, ?6)",
        params![
            event_id,
            target.unit,
            target.level,
            target.county,
            priority_str(p),
            ts(now),
            ts(ack),
            ts(on_site),
            ts(verdict)
        ],
    )
    .ctx("insert task")?;
    let task_id = tx.last_insert_rowid();
    audit(
        tx,
        now,
        who,
        "task",
        task_id,
        "create",
        None,
        Some("new"),
        &detail,
    )?;
    let task = load_task(tx, task_id)?;
    let n = notice(
        tx,
        &task,
        NoticeKind::TaskNew,
        task.unit.clone(),
        format!("{} priority fire to verify", priority_str(p)),
    )?;
    enqueue(tx, &n, ts(now))?;
    Ok(task_id)
}

/// Stores why an event has no task (`None`: it has one).
pub(super) fn set_task_reason(
    tx: &Connection,
    event_id: i64,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE events SET task_reason = ?1 WHERE id = ?2")
        .ctx("prepare task reason")?
        .execute(params![reason, event_id])
        .ctx("store task reason")?;
    Ok(())
}

/// Moves a task new → notified within `tx`, with its audit row (actor `system`); for the
/// delivery worker, in the transaction that records the delivery. Only a task still `new`
/// moves (one acknowledged meanwhile stays where it is). True when it moved.
pub(super) fn mark_notified_tx(
    tx: &Connection,
    task_id: i64,
    now: DateTime<Utc>,
    detail: &serde_json::Value,
) -> Result<bool, StoreError> {
    let moved = tx
        .execute(MARK_NOTIFIED_SQL, params![task_id, ts(now)])
        .ctx("mark a task notified")?;
    if moved == 1 {
        let (from, to) = (TaskState::New.as_str(), TaskState::Notified.as_str());
        let action = Action::Notify.name();
        audit(
            tx,
            now,
            &Actor::system(),
            "task",
            task_id,
            action,
            Some(from),
            Some(to),
            detail,
        )
        .map_err(into_store)?;
    }
    Ok(moved == 1)
}

pub(super) fn into_store(e: TaskError) -> StoreError {
    match e {
        TaskError::Store(s) => s,
        other => StoreError::BadValue {
            table: "tasks",
            column: "id",
            value: other.to_string(),
        },
    }
}

/// The audit row of a task's move from `from` to `to` by `action`.
#[allow(clippy::too_many_arguments)]
pub(super) fn audit_move(
    tx: &Connection,
    now: DateTime<Utc>,
    who: &Actor,
    id: i64,
    action: Action,
    from: TaskState,
    to: TaskState,
    detail: &serde_json::Value,
) -> Result<(), TaskError> {
    audit(
        tx,
        now,
        who,
        "task",
        id,
        action.name(),
        Some(from.as_str()),
        Some(to.as_str()),
        detail,
    )
}

#[allow(clippy::too_many_arguments)]
pub(super) fn audit(
    tx: &Connection,
    now: DateTime<Utc>,
    who: &Actor,
    entity: &str,
    entity_id: i64,
    action: &str,
    from: Option<&str>,
    to: Option<&str>,
    detail: &serde_json::Value,
) -> Result<(), TaskError> {
    tx.prepare_cached(
        "INSERT INTO audit (at, actor, role, entity, entity_id, action, from_state, to_state, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .ctx("prepare audit")?
    .execute(params![
        ts(now),
        who.id,
        who.role,
        entity,
        entity_id,
        action,
        from,
        to,
        detail.to_string()
    ])
    .ctx("insert audit")?;
    Ok(())
}

/// The self-contained notice of a task change.
pub(super) fn notice(
    tx: &Connection,
    task: &StoredTask,
    kind: NoticeKind,
    unit: String,
    detail: String,
) -> Result<Notice, TaskError> {
    let (first_seen, last_seen, max_frp_mw, confidence): (i64, i64, Option<f64>, f64) = tx
        .query_row(NOTICE_EVENT_SQL, [task.event_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .ctx("event of notice")?;
    let round: u32 = tx
        .query_row(ROUND_SQL, [task.id], |r| r.get(0))
        .ctx("round of notice")?;
    Ok(task_notice(
        task,
        kind,
        unit,
        detail,
        (from_ts(first_seen), from_ts(last_seen)),
        max_frp_mw,
        confidence,
        round,
    ))
}

/// Proposes (or supports) a mask candidate at the task's event after a "no fire" verdict:
/// at once for `no_fire_industrial`; for `no_fire_other` once `no_fire_other_repeats` such
/// verdicts lie within `mask_radius_m`. A pending candidate that already covers the place
/// collects the verdict instead of a second candidate.
fn propose_mask(
    tx: &Connection,
    verdict: Verdict,
    verdict_id: i64,
    task: &StoredTask,
    who: &Actor,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<Option<i64>, TaskError> {
    if !matches!(verdict, Verdict::NoFireIndustrial | Verdict::NoFireOther) {
        return Ok(None);
    }
    let (lon, lat) = (task.lon, task.lat);
    let repeats = if verdict == Verdict::NoFireOther {
        let (min_lat, max_lat, min_lon, max_lon) = box_around(lon, lat, rules.mask_radius_m);
        let mut st = tx.prepare_cached(REPEATS_SQL).ctx("prepare repeats")?;
        let rows = st
            .query_map(params![min_lat, max_lat, min_lon, max_lon], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .ctx("query repeats")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("read repeats")?
    } else {
        Vec::new()
    };
    let pending = load_candidates(tx, Some("pending"), None, None, usize::MAX >> 1)?;
    let (id, detail) = match mask_step(verdict, verdict_id, task, &repeats, &pending, rules) {
        MaskStep::None => return Ok(None),
        MaskStep::Support { id, verdicts } => {
            tx.execute(
                SUPPORT_SQL,
                params![serde_json::to_string(&verdicts).expect("ids"), id],
            )
            .ctx("support mask candidate")?;
            return Ok(Some(id));
        }
        MaskStep::Propose {
            lat,
            lon,
            radius_m,
            reason,
            verdicts,
        } => {
            let id: i64 = tx
                .query_row(
                    PROPOSE_SQL,
                    params![
                        lat,
                        lon,
                        radius_m,
                        reason,
                        serde_json::to_string(&verdicts).expect("ids"),
                        ts(now)
                    ],
                    |r| r.get(0),
                )
                .ctx("insert mask candidate")?;
            (id, propose_detail(reason, &verdicts, task.id))
        }
    };
    audit(
        tx,
        now,
        who,
        "mask_candidate",
        id,
        "propose",
        None,
        Some("pending"),
        &detail,
    )?;
    Ok(Some(id))
}

fn load_candidates(
    c: &Connection,
    status: Option<&str>,
    id: Option<i64>,
    before_id: Option<i64>,
    limit: usize,
) -> Result<Vec<MaskCandidate>, StoreError> {
    let mut st = c
        .prepare_cached(CANDIDATES_SQL)
        .ctx("prepare mask candidates")?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = st
        .query_map(params![status, id, before_id, limit], |r| {
            let verdicts: String = r.get(5)?;
            Ok(MaskCandidate {
                id: r.get(0)?,
                lat: r.get(1)?,
                lon: r.get(2)?,
                radius_m: r.get(3)?,
                reason: r.get(4)?,
                verdicts: serde_json::from_str(&verdicts).unwrap_or_default(),
                status: r.get(6)?,
                created_at: from_ts(r.get(7)?),
                decided_at: r.get::<_, Option<i64>>(8)?.map(from_ts),
                decided_by: r.get(9)?,
            })
        })
        .ctx("query mask candidates")?;
    rows.collect::<Result<Vec<_>, _>>()
        .ctx("read mask candidates")
}

const TASK_COLUMNS: &str = "t.id, t.event_id, t.unit, t.unit_level, t.county, t.state, t.priority,
    t.created_at, t.notified_at, t.acknowledged_at, t.on_site_at, t.verified_at, t.closed_at,
    t.ack_due, t.on_site_due, t.verdict_due, t.escalations, t.verdict, t.updated_at,
    e.lon, e.lat, COALESCE(v.review, 0), e.parcel, t.cancelled_at";

fn read_task(r: &rusqlite::Row) -> rusqlite::Result<Result<StoredTask, StoreError>> {
    let bad = |column: &'static str, value: String| StoreError::BadValue {
        table: "tasks",
        column,
        value,
    };
    let opt = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(from_ts))
    };
    let state: String = r.get(5)?;
    let Some(state) = TaskState::parse(&state) else {
        return Ok(Err(bad("state", state)));
    };
    let pr: String = r.get(6)?;
    let priority = match pr.as_str() {
        "normal" => Priority::Normal,
        "high" => Priority::High,
        _ => return Ok(Err(bad("priority", pr))),
    };
    let escalations: String = r.get(16)?;
    let verdict: Option<String> = r.get(17)?;
    Ok(Ok(StoredTask {
        id: r.get(0)?,
        event_id: r.get(1)?,
        unit: r.get(2)?,
        unit_level: r.get(3)?,
        county: r.get(4)?,
        state,
        priority,
        milestones: Milestones {
            created_at: opt(7)?,
            notified_at: opt(8)?,
            acknowledged_at: opt(9)?,
            on_site_at: opt(10)?,
            verified_at: opt(11)?,
            closed_at: opt(12)?,
            cancelled_at: opt(23)?,
        },
        ack_due: from_ts(r.get(13)?),
        on_site_due: from_ts(r.get(14)?),
        verdict_due: from_ts(r.get(15)?),
        escalations: escalations
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        verdict: verdict.as_deref().and_then(Verdict::parse),
        updated_at: from_ts(r.get(18)?),
        lon: r.get(19)?,
        lat: r.get(20)?,
        review: r.get(21)?,
        parcel: r.get(22)?,
    }))
}

fn query_tasks(
    c: &Connection,
    q: &TaskQuery,
    visit: &mut dyn FnMut(StoredTask) -> bool,
) -> Result<(), StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut push = |clause: &str, v: Vec<Value>| {
        let mut out = String::new();
        let mut it = v.into_iter();
        for ch in clause.chars() {
            if ch == '?' {
                if let Some(v) = it.next() {
                    values.push(v);
                }
                out.push_str(&format!("?{}", values.len()));
            } else {
                out.push(ch);
            }
        }
        clauses.push(out);
    };
    match &q.scope {
        Scope::All => {}
        Scope::County(cty) => push("t.county = ?", vec![Value::Text(cty.clone())]),
        Scope::Township(t) => push("t.unit = ?", vec![Value::Text(t.clone())]),
    }
    if let Some(id) = q.id {
        push("t.id = ?", vec![Value::Integer(id)]);
    }
    if let Some(id) = q.before_id {
        push("t.id < ?", vec![Value::Integer(id)]);
    }
    match q.status {
        None => {}
        Some(None) => push("t.state NOT IN ('verified', 'closed', 'cancelled')", vec![]),
        Some(Some(s)) => push("t.state = ?", vec![Value::Text(s.as_str().into())]),
    }
    if let Some(t) = q.ack_due_before {
        push("t.ack_due < ?", vec![Value::Integer(ts(t))]);
    }
    if let Some(r) = q.review {
        push("COALESCE(v.review, 0) = ?", vec![Value::Integer(r as i64)]);
    }
    if let Some(u) = &q.unit {
        push(
            "(t.unit = ? OR t.county = ?)",
            vec![Value::Text(u.clone()), Value::Text(u.clone())],
        );
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    // The limit bound, not written in: one statement text per shape of filter, kept in the
    // connection's statement cache instead of parsed and planned again for every page.
    values.push(Value::Integer(i64::try_from(q.limit).unwrap_or(i64::MAX)));
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN events e ON e.id = t.event_id
         LEFT JOIN verdicts v ON v.task_id = t.id {filter} ORDER BY t.id DESC LIMIT ?{}",
        values.len()
    );
    let mut st = c.prepare_cached(&sql).ctx("prepare tasks")?;
    let rows = st
        .query_map(params_from_iter(values.iter()), read_task)
        .ctx("query tasks")?;
    for row in rows {
        if !visit(row.ctx("read tasks")??) {
            break;
        }
    }
    Ok(())
}

fn collect_tasks(c: &Connection, q: &TaskQuery) -> Result<Vec<StoredTask>, StoreError> {
    let mut out = Vec::new();
    query_tasks(c, q, &mut |t| {
        out.push(t);
        true
    })?;
    Ok(out)
}

pub(super) fn load_task(c: &Connection, id: i64) -> Result<StoredTask, TaskError> {
    collect_tasks(
        c,
        &TaskQuery {
            id: Some(id),
            ..TaskQuery::default()
        },
    )?
    .into_iter()
    .next()
    .ok_or(TaskError::NotFound { what: "task", id })
}

pub(super) fn read_verdict(
    c: &Connection,
    task_id: i64,
) -> Result<Option<StoredVerdict>, StoreError> {
    c.query_row(VERDICT_SQL, [task_id], |r| {
        let verdict: String = r.get(2)?;
        let flags: String = r.get(15)?;
        Ok((
            verdict,
            StoredVerdict {
                id: r.get(0)?,
                task_id: r.get(1)?,
                verdict: Verdict::Burning,
                reported_at: from_ts(r.get(3)?),
                received_at: from_ts(r.get(4)?),
                lat: r.get(5)?,
                lon: r.get(6)?,
                distance_m: r.get(7)?,
                note: r.get(8)?,
                photo_sha256: r.get(9)?,
                photo_path: r.get(10)?,
                photo_bytes: r.get::<_, i64>(11)? as u64,
                exif_time: r.get::<_, Option<i64>>(12)?.map(from_ts),
                exif_lat: r.get(13)?,
                exif_lon: r.get(14)?,
                flags: serde_json::from_str(&flags).unwrap_or_default(),
                review: r.get(16)?,
                actor: r.get(17)?,
            },
        ))
    })
    .optional()
    .ctx("read verdict")?
    .map(|(name, mut v)| {
        v.verdict = Verdict::parse(&name).ok_or(StoreError::BadValue {
            table: "verdicts",
            column: "verdict",
            value: name,
        })?;
        Ok(v)
    })
    .transpose()
}

fn query_precision(c: &Connection, scope: &Scope) -> Result<Vec<SourcePrecision>, StoreError> {
    let (filter, value) = precision_filter(scope);
    let values: Vec<Value> = value.into_iter().map(Value::Text).collect();
    let [sat, cam] = precision_sql(filter);
    let mut tally = PrecisionTally::default();
    let mut st = c.prepare(&sat).ctx("prepare precision")?;
    let rows = st
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .ctx("query precision")?;
    for row in rows {
        let (id, verdict, instrument, satellite, conf) = row.ctx("read precision")?;
        tally.satellite(id, &verdict, &instrument, &satellite, &conf);
    }
    let mut st = c.prepare(&cam).ctx("prepare precision")?;
    let rows = st
        .query_map(params_from_iter(values.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .ctx("query precision")?;
    for row in rows {
        let (id, verdict, sensor) = row.ctx("read precision")?;
        tally.camera(id, &verdict, sensor);
    }
    Ok(tally.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuse::{NoPlacer, Placement};
    use crate::hotspot::Hotspot;
    use crate::store::{EventQuery, Origin, Store};
    use chrono::TimeZone;

    struct At(&'static str, &'static str);

    impl Placer for At {
        fn place(&self, _lon: f64, _lat: f64, _footprint_m: f64) -> Placement {
            Placement {
                county: Some(self.0.into()),
                township: Some(self.1.into()),
                ..Placement::default()
            }
        }
    }

    fn batch(name: &str, lon: f64, lat: f64, t: DateTime<Utc>) -> IngestBatch {
        IngestBatch {
            origin: Origin::Feed {
                sha256: name.into(),
                name: name.into(),
                rows: 1,
            },
            source: "test".into(),
            hotspots: vec![Hotspot::test_viirs(lon, lat, t)],
            alerts: Vec::new(),
        }
    }

    fn outbox_kinds(s: &SqliteStore) -> Vec<(String, String)> {
        s.read(|c| {
            let mut st = c
                .prepare("SELECT kind, unit FROM outbox ORDER BY id")
                .unwrap();
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            Ok(rows)
        })
        .unwrap()
    }

    /// A fresh store in a temporary directory (kept alive by the returned guard).
    fn temp_store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        (dir, s)
    }

    /// 2026-06-08 05:00 UTC (13:00 in Henan).
    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 8, 5, 0, 0).unwrap()
    }

    /// A detection older than `max_age` at ingest: its event is stored with `too_old` and no
    /// task or notice; a fresh re-detection of the same fire gets the task (and clears the
    /// reason); a stale sighting fused into an event with an open task sends no notice.
    #[test]
    fn a_stale_event_gets_no_task_until_a_fresh_detection() {
        let (_dir, s) = temp_store();
        let now = t0();
        let rules = TaskRules::default();
        let p = FuseParams::default();
        let placer = At("410526", "410526101");
        let outbox = |s: &SqliteStore| -> i64 {
            s.read(|c| {
                c.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
                    .ctx("count")
            })
            .unwrap()
        };
        let old = now - Duration::hours(7);
        let r = s
            .ingest_dispatched(&batch("a", 114.3, 35.6, old), &p, &placer, &rules, now)
            .unwrap();
        assert_eq!((r.events_new, r.events_too_old), (1, 1));
        assert!(s.tasks(&TaskQuery::default()).unwrap().is_empty());
        assert_eq!(outbox(&s), 0);
        let ev = s.events(&EventQuery::default()).unwrap();
        assert_eq!(ev[0].task_reason.as_deref(), Some(TOO_OLD));
        // Seen again now (same place, within the fusion window): the task is created.
        let r = s
            .ingest_dispatched(&batch("b", 114.3, 35.6, now), &p, &placer, &rules, now)
            .unwrap();
        assert_eq!((r.events_updated, r.events_too_old), (1, 0));
        assert_eq!(s.tasks(&TaskQuery::default()).unwrap().len(), 1);
        let ev = s.events(&EventQuery::default()).unwrap();
        assert_eq!(ev[0].task_reason, None);
        let notices = outbox(&s);
        // Seven hours on, an old sighting of the same fire arrives: no "seen again" notice.
        let later = now + Duration::hours(7);
        s.ingest_dispatched(
            &batch("c", 114.3, 35.6, now - Duration::minutes(30)),
            &p,
            &placer,
            &rules,
            later,
        )
        .unwrap();
        assert_eq!(outbox(&s), notices);
    }

    #[test]
    fn an_event_gets_one_task_and_a_redetection_updates_it() {
        let (_dir, s) = temp_store();
        let t0 = t0();
        let rules = TaskRules::default();
        let p = FuseParams::default();
        let placer = At("410526", "410526101");
        s.ingest_dispatched(&batch("a", 114.3, 35.6, t0), &p, &placer, &rules, t0)
            .unwrap();
        let tasks = s.tasks(&TaskQuery::default()).unwrap();
        assert_eq!(tasks.len(), 1);
        let t = &tasks[0];
        assert_eq!((t.unit.as_str(), t.state), ("410526101", TaskState::New));
        // First fire of the season in the county: high priority, high deadlines.
        assert_eq!(t.priority, Priority::High);
        assert_eq!(t.ack_due, t0 + Duration::minutes(5));
        // The same fire 20 min later, 100 m away: same event, same task, one update notice.
        let t1 = t0 + Duration::minutes(20);
        s.ingest_dispatched(&batch("b", 114.301, 35.6, t1), &p, &placer, &rules, t1)
            .unwrap();
        assert_eq!(s.tasks(&TaskQuery::default()).unwrap().len(), 1);
        assert_eq!(
            outbox_kinds(&s),
            vec![
                ("task_new".into(), "410526101".into()),
                ("task_updated".into(), "410526101".into())
            ]
        );
        // A second fire of the county far away is normal priority (not first of the season).
        s.ingest_dispatched(&batch("c", 114.0, 35.7, t1), &p, &placer, &rules, t1)
            .unwrap();
        let newest = &s.tasks(&TaskQuery::default()).unwrap()[0];
        assert_eq!(newest.priority, Priority::Normal);
        // Plain ingest (no dispatch) creates no task.
        s.ingest(&batch("d", 113.0, 35.7, t1), &p, &NoPlacer)
            .unwrap();
        assert_eq!(s.tasks(&TaskQuery::default()).unwrap().len(), 2);
    }

    #[test]
    fn a_failed_task_insert_rolls_back_the_whole_ingest() {
        let (_dir, s) = temp_store();
        s.writer
            .exclusive(|c| {
                c.execute_batch(
                    "CREATE TRIGGER no_tasks BEFORE INSERT ON tasks
                 BEGIN SELECT RAISE(ABORT, 'disk full, say'); END;",
                )
            })
            .unwrap();
        let t0 = t0();
        let r = s.ingest_dispatched(
            &batch("a", 114.3, 35.6, t0),
            &FuseParams::default(),
            &At("410526", "410526101"),
            &TaskRules::default(),
            t0,
        );
        assert!(r.is_err());
        // No event without its task: nothing of the batch was committed.
        let c = s.counts().unwrap();
        assert_eq!((c.feeds, c.hotspots, c.events), (0, 0, 0));
    }

    struct Masked(&'static str);

    impl Placer for Masked {
        fn place(&self, _lon: f64, _lat: f64, _footprint_m: f64) -> Placement {
            Placement {
                county: Some("410526".into()),
                township: Some("410526101".into()),
                mask: Some(self.0.into()),
                ..Placement::default()
            }
        }
    }

    #[test]
    fn a_sensitive_area_raises_priority_and_an_industrial_mask_suppresses() {
        let (_dir, s) = temp_store();
        let t0 = t0();
        let rules = TaskRules::default();
        let p = FuseParams::default();
        // A plain fire first, so the next one is not the first of the season.
        s.ingest_dispatched(
            &batch("a", 114.0, 35.6, t0),
            &p,
            &At("410526", "410526101"),
            &rules,
            t0,
        )
        .unwrap();
        let industrial = Masked("power plant: 华电 (120 m)");
        s.ingest_dispatched(&batch("b", 114.2, 35.6, t0), &p, &industrial, &rules, t0)
            .unwrap();
        assert_eq!(s.tasks(&TaskQuery::default()).unwrap().len(), 1);
        let airport = Masked("airport: 新郑机场");
        s.ingest_dispatched(&batch("c", 114.4, 35.6, t0), &p, &airport, &rules, t0)
            .unwrap();
        let tasks = s.tasks(&TaskQuery::default()).unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].priority, Priority::High);
        let create = &s.audit("task", tasks[0].id).unwrap()[0];
        assert_eq!(create.detail["sensitive_area"], true);
        assert_eq!(create.detail["first_of_season"], false);
    }
}
