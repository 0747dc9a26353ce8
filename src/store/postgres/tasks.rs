//! Tasks on PostgreSQL (#19): `TaskStore` whole, SQLite's `tasks.rs` step for step, the
//! decisions shared with it (`store::shared::tasks`: the action of a change, evidence findings,
//! escalations due, mask steps, the precision tally) and only the SQL here. A task is created
//! (or told its event was seen again) inside the ingest transaction; every change is one
//! transaction with its audit row and its outbox notice.
//!
//! Several API nodes write at once where SQLite has one writer, so each change locks what it
//! reads first: the task's row (`SELECT ... FOR UPDATE`, [`lock_task`]) before a move or a
//! verdict, so two acknowledgements of one task apply one after the other and the second finds
//! it acknowledged; the open overdue tasks with `FOR UPDATE SKIP LOCKED` in an escalation
//! sweep, so sweeps on several nodes escalate each deadline once; an advisory lock around mask
//! candidate changes, so two "no fire" verdicts at one place make one candidate.

use chrono::{DateTime, Duration, Utc};
use postgres::types::ToSql;
use postgres::{GenericClient, Row as PgRow, Transaction};

use super::idempotency;
use super::outbox::enqueue;
use super::store::{from_ts, ingest_tx, ts};
use super::{pg_err, PgStore};
use crate::dispatch::rules::TOO_OLD;
use crate::dispatch::{
    transition, Action, Assignment, Deadline, Milestones, Priority, TaskRules, TaskState, Verdict,
};
use crate::fuse::{FireEvent, FuseParams, Placer};
use crate::notify::{Notice, NoticeKind};
use crate::store::error::{SqlContext, StoreError};
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::shared::tasks::{
    box_around, candidate_decision, change_action, change_detail, change_sql, decide_detail,
    escalations_due, mask_step, milestone_column, precision_filter, precision_sql, propose_detail,
    verdict_findings, MaskStep, PrecisionTally, CANDIDATES_SQL, DECIDE_SQL, ESCALATE_SQL,
    INSERT_VERDICT_SQL, PHOTO_REFS_SQL, PRIORS_SQL, PROPOSE_SQL, REPEATS_SQL, SUPPORT_SQL,
    VERDICTS_BY_SQL, VERDICT_SQL, VERIFY_SQL,
};
use crate::store::shared::{
    dollars, plan_new_task, priority_str, task_notice, Dispatched, NewTaskFacts, MARK_NOTIFIED_SQL,
    NOTICE_EVENT_SQL, ROUND_SQL,
};
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskQuery, TaskStore, TaskTarget, VerdictOutcome,
};
use crate::store::{IngestBatch, IngestReport, Scope};
use crate::verify::PriorPhoto;

impl TaskStore for PgStore {
    fn ingest_within(
        &self,
        batch: &IngestBatch,
        fuse: &FuseParams,
        placer: &dyn Placer,
        rules: &TaskRules,
        now: DateTime<Utc>,
        reach: &Scope,
    ) -> Result<IngestReport, StoreError> {
        self.write(|tx| ingest_tx(tx, batch, fuse, placer, Some((rules, now)), reach))
    }

    fn tasks_each(
        &self,
        q: &TaskQuery,
        f: &mut dyn FnMut(StoredTask) -> bool,
    ) -> Result<(), StoreError> {
        let tasks = self.read(|c| query_tasks(c, q))?;
        for t in tasks {
            if !f(t) {
                break;
            }
        }
        Ok(())
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
            let task = lock_task(tx, id)?;
            let action = change_action(change);
            let to = transition(task.state, action)?;
            if to == task.state {
                // A repeated delivery confirmation: nothing changes, nothing to record.
                return Ok(task);
            }
            let column = milestone_column(to);
            tx.execute(
                &dollars(&change_sql(column)),
                &[&to.as_str(), &ts(now), &id, &ts(acted.at.unwrap_or(now))],
            )
            .map_err(pg_err("update task"))?;
            let detail = change_detail(change, &task, acted);
            let (from, to) = (Some(task.state.as_str()), Some(to.as_str()));
            audit(tx, now, who, "task", id, action.name(), from, to, &detail)?;
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
            let task = lock_task(tx, id)?;
            let to = transition(task.state, Action::Verify(v.verdict))?;
            let priors: Vec<PriorPhoto> = tx
                .query(&dollars(PRIORS_SQL), &[&id])
                .map_err(pg_err("query priors"))?
                .iter()
                .map(|r| PriorPhoto {
                    task_id: r.get(0),
                    sha256: r.get(1),
                    dhash: r.get::<_, i64>(2) as u64,
                })
                .collect();
            let found = verdict_findings(&task, v, &priors, rules);
            let verdict_id: i64 = tx
                .query_one(
                    &dollars(INSERT_VERDICT_SQL),
                    &[
                        &id,
                        &v.verdict.as_str(),
                        &ts(v.reported_at),
                        &ts(now),
                        &v.lat,
                        &v.lon,
                        &found.distance_m,
                        &v.note,
                        &v.photo.sha256,
                        &(v.photo.dhash as i64),
                        &v.photo_path,
                        &(v.photo_bytes as i64),
                        &found.exif_time.map(ts),
                        &v.photo.exif.position.map(|p| p.1),
                        &v.photo.exif.position.map(|p| p.0),
                        &found.flags_json(),
                        &(found.review as i64),
                        &who.id,
                    ],
                )
                .map_err(pg_err("insert verdict"))?
                .get(0);
            tx.execute(
                &dollars(VERIFY_SQL),
                &[&to.as_str(), &ts(now), &v.verdict.as_str(), &id],
            )
            .map_err(pg_err("verify task"))?;
            let (from, to) = (Some(task.state.as_str()), Some(to.as_str()));
            let detail = found.audit_detail(verdict_id, v);
            audit(tx, now, who, "task", id, "verdict", from, to, &detail)?;
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
        self.read(|c| idempotency::answer(c, actor, key, status, body))
    }

    fn verdicts_by(
        &self,
        actor: &str,
        limit: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError> {
        self.read(|c| {
            let ids: Vec<i64> = c
                .query(
                    &dollars(VERDICTS_BY_SQL),
                    &[&actor, &(limit.min(i64::MAX as usize) as i64)],
                )
                .map_err(pg_err("query verdicts by actor"))?
                .iter()
                .map(|r| r.get(0))
                .collect();
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

    /// Several API nodes sweep at once: each claims the open overdue tasks with
    /// `FOR UPDATE SKIP LOCKED`, so a task is escalated by the one sweep that holds it (a sweep
    /// that comes after that one committed reads its escalations and adds none), and a sweep
    /// never waits on another or on a patrol's change in flight (that task waits for the next
    /// sweep).
    fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<(i64, Deadline)>, StoreError> {
        let swept: Result<_, TaskError> = self.write(|tx| {
            // Open tasks past their first deadline (the others cannot have missed any).
            let ids: Vec<i64> = tx
                .query(
                    "SELECT id FROM tasks
                     WHERE state NOT IN ('verified', 'closed', 'cancelled') AND ack_due < $1
                     ORDER BY id FOR UPDATE SKIP LOCKED",
                    &[&ts(now)],
                )
                .map_err(pg_err("claim overdue tasks"))?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut done = Vec::new();
            for id in ids {
                let task = load_task(tx, id)?;
                for e in escalations_due(&task, now) {
                    tx.execute(
                        &dollars(ESCALATE_SQL),
                        &[&e.escalations, &ts(now), &task.id],
                    )
                    .map_err(pg_err("escalate task"))?;
                    let state = Some(task.state.as_str());
                    let system = Actor::system();
                    audit(
                        tx,
                        now,
                        &system,
                        "task",
                        id,
                        "escalate",
                        state,
                        state,
                        &e.audit_detail,
                    )?;
                    let kind = NoticeKind::Escalation {
                        deadline: e.deadline.as_str().into(),
                    };
                    let n = notice(tx, &task, kind, e.to, e.notice_detail)?;
                    enqueue(tx, &n, ts(now))?;
                    done.push((id, e.deadline));
                }
            }
            Ok(done)
        });
        swept.map_err(into_store)
    }

    fn verdict_of(&self, task_id: i64) -> Result<Option<StoredVerdict>, StoreError> {
        self.read(|c| read_verdict(c, task_id))
    }

    fn photo_refs(&self, sha256: &str) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 = c
                .query_one(&dollars(PHOTO_REFS_SQL), &[&sha256])
                .map_err(pg_err("count photo references"))?
                .get(0);
            Ok(n as u64)
        })
    }

    fn audit_page(
        &self,
        entity: &str,
        id: i64,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self.read(|c| {
            c.query(
                "SELECT id, at, actor, role, entity, entity_id, action, from_state, to_state, detail
                 FROM audit WHERE entity = $1 AND entity_id = $2 AND id > $3
                 ORDER BY id LIMIT $4",
                &[
                    &entity,
                    &id,
                    &after_id.unwrap_or(0),
                    &(limit.min(i64::MAX as usize) as i64),
                ],
            )
            .map_err(pg_err("query audit"))
        })?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at: from_ts(r.get(1)),
                actor: r.get(2),
                role: r.get(3),
                entity: r.get(4),
                entity_id: r.get(5),
                action: r.get(6),
                from_state: r.get(7),
                to_state: r.get(8),
                detail: serde_json::from_str(r.get::<_, &str>(9))
                    .unwrap_or(serde_json::Value::Null),
            })
            .collect())
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
            lock_masks(tx)?;
            let missing = TaskError::NotFound {
                what: "mask candidate",
                id,
            };
            let cand = load_candidates(tx, None, Some(id), None, 1)?
                .into_iter()
                .next()
                .ok_or(missing)?;
            let to = candidate_decision(&cand, confirm)?;
            tx.execute(&dollars(DECIDE_SQL), &[&to, &ts(now), &who.id, &id])
                .map_err(pg_err("decide mask candidate"))?;
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
        let (filter, value) = precision_filter(scope);
        let values: Vec<&(dyn ToSql + Sync)> = value
            .as_ref()
            .map(|v| v as &(dyn ToSql + Sync))
            .into_iter()
            .collect();
        let [sat, cam] = precision_sql(filter);
        self.read(|c| {
            let mut tally = PrecisionTally::default();
            for r in c.query(&sat, &values).map_err(pg_err("query precision"))? {
                tally.satellite(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            }
            for r in c.query(&cam, &values).map_err(pg_err("query precision"))? {
                tally.camera(r.get(0), r.get(1), r.get(2));
            }
            Ok(tally.finish())
        })
    }
}

/// Creates the task a saved event is owed, or tells an open one its event was seen again;
/// SQLite's `on_event_saved` step for step (see there for the why of each).
pub(super) fn on_event_saved(
    tx: &mut Transaction<'_>,
    ev: &FireEvent,
    event_id: i64,
    placer: &dyn Placer,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<Dispatched, StoreError> {
    let too_old = rules.is_too_old(ev.last_seen, now);
    let existing = tx
        .query_opt(
            "SELECT id, state FROM tasks WHERE event_id = $1",
            &[&event_id],
        )
        .map_err(pg_err("task of event"))?;
    if let Some(r) = existing {
        let (task_id, state): (i64, String) = (r.get(0), r.get(1));
        if !too_old && TaskState::parse(&state).is_some_and(|s| s.is_open()) {
            tx.execute(
                "UPDATE tasks SET updated_at = $1 WHERE id = $2",
                &[&ts(now), &task_id],
            )
            .map_err(pg_err("touch task"))?;
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
/// row (by `who`, with `extra` merged into the detail) and its `task_new` notice (SQLite's
/// `insert_task`; the decisions are `shared::plan_new_task`). The task id.
#[allow(clippy::too_many_arguments)]
pub(super) fn insert_task(
    tx: &mut Transaction<'_>,
    event_id: i64,
    target: &TaskTarget,
    f: &NewTaskFacts,
    rules: &TaskRules,
    now: DateTime<Utc>,
    who: &Actor,
    extra: serde_json::Value,
) -> Result<i64, TaskError> {
    let first_of_season = match &target.county {
        Some(c) => {
            let since = ts(now - Duration::days(rules.season_gap_days));
            !tx.query_one(
                "SELECT EXISTS (SELECT 1 FROM tasks WHERE county = $1 AND created_at > $2)",
                &[c, &since],
            )
            .ctx("first of season")?
            .get::<_, bool>(0)
        }
        None => false,
    };
    let (p, [ack, on_site, verdict], detail) =
        plan_new_task(event_id, f, first_of_season, rules, now, extra);
    let task_id: i64 = tx
        .query_one(
            "INSERT INTO tasks (event_id, unit, unit_level, county, state, priority, created_at,
               ack_due, on_site_due, verdict_due, updated_at)
             VALUES ($1, $2, $3, $4, 'new', $5, $6, $7, $8, $9, $6) RETURNING id",
            &[
                &event_id,
                &target.unit,
                &target.level,
                &target.county,
                &priority_str(p),
                &ts(now),
                &ts(ack),
                &ts(on_site),
                &ts(verdict),
            ],
        )
        .ctx("insert task")?
        .get(0);
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

/// Moves a task new → notified within `tx`, with its audit row (actor `system`): SQLite's
/// `mark_notified_tx`, for the delivery worker's transaction. True when it moved.
pub(super) fn mark_notified_tx(
    tx: &mut Transaction<'_>,
    task_id: i64,
    now: DateTime<Utc>,
    detail: &serde_json::Value,
) -> Result<bool, StoreError> {
    let moved = tx
        .execute(&dollars(MARK_NOTIFIED_SQL), &[&task_id, &ts(now)])
        .ctx("mark a task notified")?;
    if moved == 1 {
        audit(
            tx,
            now,
            &Actor::system(),
            "task",
            task_id,
            Action::Notify.name(),
            Some(TaskState::New.as_str()),
            Some(TaskState::Notified.as_str()),
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
    tx: &mut Transaction<'_>,
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
    tx: &mut Transaction<'_>,
    now: DateTime<Utc>,
    who: &Actor,
    entity: &str,
    entity_id: i64,
    action: &str,
    from: Option<&str>,
    to: Option<&str>,
    detail: &serde_json::Value,
) -> Result<(), TaskError> {
    tx.execute(
        "INSERT INTO audit (at, actor, role, entity, entity_id, action, from_state, to_state, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &ts(now),
            &who.id,
            &who.role,
            &entity,
            &entity_id,
            &action,
            &from,
            &to,
            &detail.to_string(),
        ],
    )
    .ctx("insert audit")?;
    Ok(())
}

pub(super) fn set_task_reason(
    tx: &mut Transaction<'_>,
    event_id: i64,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE events SET task_reason = $1 WHERE id = $2",
        &[&reason, &event_id],
    )
    .map_err(pg_err("store task reason"))?;
    Ok(())
}

/// The self-contained notice of a task change, to `unit` (`shared::task_notice`).
pub(super) fn notice(
    tx: &mut Transaction<'_>,
    task: &StoredTask,
    kind: NoticeKind,
    unit: String,
    detail: String,
) -> Result<Notice, TaskError> {
    let r = tx
        .query_one(&dollars(NOTICE_EVENT_SQL), &[&task.event_id])
        .ctx("event of notice")?;
    let round: i64 = tx
        .query_one(&dollars(ROUND_SQL), &[&task.id])
        .ctx("round of notice")?
        .get(0);
    Ok(task_notice(
        task,
        kind,
        unit,
        detail,
        (from_ts(r.get(0)), from_ts(r.get(1))),
        r.get(2),
        r.get(3),
        round as u32,
    ))
}

const TASK_COLUMNS: &str = "t.id, t.event_id, t.unit, t.unit_level, t.county, t.state, t.priority,
    t.created_at, t.notified_at, t.acknowledged_at, t.on_site_at, t.verified_at, t.closed_at,
    t.ack_due, t.on_site_due, t.verdict_due, t.escalations, t.verdict, t.updated_at,
    e.lon, e.lat, COALESCE(v.review, 0), e.parcel, t.cancelled_at";

fn read_task(r: &PgRow) -> Result<StoredTask, StoreError> {
    let bad = |column: &'static str, value: String| StoreError::BadValue {
        table: "tasks",
        column,
        value,
    };
    let opt = |i: usize| r.get::<_, Option<i64>>(i).map(from_ts);
    let state: String = r.get(5);
    let Some(state) = TaskState::parse(&state) else {
        return Err(bad("state", state));
    };
    let pr: String = r.get(6);
    let priority = match pr.as_str() {
        "normal" => Priority::Normal,
        "high" => Priority::High,
        _ => return Err(bad("priority", pr)),
    };
    let escalations: String = r.get(16);
    let verdict: Option<String> = r.get(17);
    Ok(StoredTask {
        id: r.get(0),
        event_id: r.get(1),
        unit: r.get(2),
        unit_level: r.get(3),
        county: r.get(4),
        state,
        priority,
        milestones: Milestones {
            created_at: opt(7),
            notified_at: opt(8),
            acknowledged_at: opt(9),
            on_site_at: opt(10),
            verified_at: opt(11),
            closed_at: opt(12),
            cancelled_at: opt(23),
        },
        ack_due: from_ts(r.get(13)),
        on_site_due: from_ts(r.get(14)),
        verdict_due: from_ts(r.get(15)),
        escalations: escalations
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        verdict: verdict.as_deref().and_then(Verdict::parse),
        updated_at: from_ts(r.get(18)),
        lon: r.get(19),
        lat: r.get(20),
        review: r.get::<_, i64>(21) != 0,
        parcel: r.get(22),
    })
}

/// Tasks matching a query, newest first (SQLite's `query_tasks`).
fn query_tasks(c: &mut impl GenericClient, q: &TaskQuery) -> Result<Vec<StoredTask>, StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let mut push = |clause: &str, v: Vec<Box<dyn ToSql + Sync>>| {
        let mut out = String::new();
        let mut it = v.into_iter();
        for ch in clause.chars() {
            if ch == '?' {
                if let Some(v) = it.next() {
                    values.push(v);
                }
                out.push_str(&format!("${}", values.len()));
            } else {
                out.push(ch);
            }
        }
        clauses.push(out);
    };
    match &q.scope {
        Scope::All => {}
        Scope::County(cty) => push("t.county = ?::text", vec![Box::new(cty.clone())]),
        Scope::Township(t) => push("t.unit = ?::text", vec![Box::new(t.clone())]),
    }
    if let Some(id) = q.id {
        push("t.id = ?::int8", vec![Box::new(id)]);
    }
    if let Some(id) = q.before_id {
        push("t.id < ?::int8", vec![Box::new(id)]);
    }
    match q.status {
        None => {}
        Some(None) => push("t.state NOT IN ('verified', 'closed', 'cancelled')", vec![]),
        Some(Some(s)) => push("t.state = ?::text", vec![Box::new(s.as_str().to_string())]),
    }
    if let Some(t) = q.ack_due_before {
        push("t.ack_due < ?::int8", vec![Box::new(ts(t))]);
    }
    if let Some(r) = q.review {
        push("COALESCE(v.review, 0) = ?::int8", vec![Box::new(r as i64)]);
    }
    if let Some(u) = &q.unit {
        push(
            "(t.unit = ?::text OR t.county = ?::text)",
            vec![Box::new(u.clone()), Box::new(u.clone())],
        );
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN events e ON e.id = t.event_id
         LEFT JOIN verdicts v ON v.task_id = t.id {filter} ORDER BY t.id DESC LIMIT {}",
        q.limit
    );
    let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
    let rows = c.query(&sql, &refs).map_err(pg_err("query tasks"))?;
    rows.iter().map(read_task).collect()
}

pub(super) fn load_task(c: &mut impl GenericClient, id: i64) -> Result<StoredTask, TaskError> {
    query_tasks(
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

/// The task `id`, its row locked until the transaction ends: changes of one task (two nodes,
/// two tabs, a sweep) apply one after the other, each to the state the one before left, as
/// SQLite's single writer applies them.
pub(super) fn lock_task(tx: &mut Transaction<'_>, id: i64) -> Result<StoredTask, TaskError> {
    let found = tx
        .query_opt("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", &[&id])
        .map_err(pg_err("lock task"))?;
    if found.is_none() {
        return Err(TaskError::NotFound { what: "task", id });
    }
    load_task(tx, id)
}

/// The advisory lock that mask candidate changes take (transaction-level): two "no fire"
/// verdicts at one place, recorded at once on two nodes, make one candidate, as on SQLite.
const MASK_LOCK: i64 = 0x5354_5257_4d41_534b; // "STRWMASK"

fn lock_masks(tx: &mut Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MASK_LOCK])
        .map_err(pg_err("lock mask candidates"))?;
    Ok(())
}

/// Proposes (or supports) a mask candidate after a "no fire" verdict (`shared::tasks::
/// mask_step` decides; see there).
fn propose_mask(
    tx: &mut Transaction<'_>,
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
    lock_masks(tx)?;
    let repeats: Vec<(i64, f64, f64)> = if verdict == Verdict::NoFireOther {
        let (min_lat, max_lat, min_lon, max_lon) =
            box_around(task.lon, task.lat, rules.mask_radius_m);
        tx.query(
            &dollars(REPEATS_SQL),
            &[&min_lat, &max_lat, &min_lon, &max_lon],
        )
        .map_err(pg_err("query repeats"))?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    } else {
        Vec::new()
    };
    let pending = load_candidates(tx, Some("pending"), None, None, usize::MAX >> 1)?;
    match mask_step(verdict, verdict_id, task, &repeats, &pending, rules) {
        MaskStep::None => Ok(None),
        MaskStep::Support { id, verdicts } => {
            tx.execute(
                &dollars(SUPPORT_SQL),
                &[&serde_json::to_string(&verdicts).expect("ids"), &id],
            )
            .map_err(pg_err("support mask candidate"))?;
            Ok(Some(id))
        }
        MaskStep::Propose {
            lat,
            lon,
            radius_m,
            reason,
            verdicts,
        } => {
            let id: i64 = tx
                .query_one(
                    &dollars(PROPOSE_SQL),
                    &[
                        &lat,
                        &lon,
                        &radius_m,
                        &reason,
                        &serde_json::to_string(&verdicts).expect("ids"),
                        &ts(now),
                    ],
                )
                .map_err(pg_err("insert mask candidate"))?
                .get(0);
            let detail = propose_detail(reason, &verdicts, task.id);
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
    }
}

fn load_candidates(
    c: &mut impl GenericClient,
    status: Option<&str>,
    id: Option<i64>,
    before_id: Option<i64>,
    limit: usize,
) -> Result<Vec<MaskCandidate>, StoreError> {
    let rows = c
        .query(
            &dollars(CANDIDATES_SQL),
            &[
                &status,
                &id,
                &before_id,
                &(limit.min(i64::MAX as usize) as i64),
            ],
        )
        .map_err(pg_err("query mask candidates"))?;
    Ok(rows
        .iter()
        .map(|r| MaskCandidate {
            id: r.get(0),
            lat: r.get(1),
            lon: r.get(2),
            radius_m: r.get(3),
            reason: r.get(4),
            verdicts: serde_json::from_str(r.get::<_, &str>(5)).unwrap_or_default(),
            status: r.get(6),
            created_at: from_ts(r.get(7)),
            decided_at: r.get::<_, Option<i64>>(8).map(from_ts),
            decided_by: r.get(9),
        })
        .collect())
}

/// The verdict of a task.
pub(super) fn read_verdict(
    c: &mut impl GenericClient,
    task_id: i64,
) -> Result<Option<StoredVerdict>, StoreError> {
    let Some(r) = c
        .query_opt(&dollars(VERDICT_SQL), &[&task_id])
        .map_err(pg_err("read verdict"))?
    else {
        return Ok(None);
    };
    let name: String = r.get(2);
    let Some(verdict) = Verdict::parse(&name) else {
        return Err(StoreError::BadValue {
            table: "verdicts",
            column: "verdict",
            value: name,
        });
    };
    Ok(Some(StoredVerdict {
        id: r.get(0),
        task_id: r.get(1),
        verdict,
        reported_at: from_ts(r.get(3)),
        received_at: from_ts(r.get(4)),
        lat: r.get(5),
        lon: r.get(6),
        distance_m: r.get(7),
        note: r.get(8),
        photo_sha256: r.get(9),
        photo_path: r.get(10),
        photo_bytes: r.get::<_, i64>(11) as u64,
        exif_time: r.get::<_, Option<i64>>(12).map(from_ts),
        exif_lat: r.get(13),
        exif_lon: r.get(14),
        flags: serde_json::from_str(r.get::<_, &str>(15)).unwrap_or_default(),
        review: r.get::<_, i64>(16) != 0,
        actor: r.get(17),
    }))
}
