//! Tasks on PostgreSQL, as far as they go (#19): a task created (or told its event was seen
//! again) inside the ingest transaction, with its audit row and its `task_new` or
//! `task_updated` notice in the outbox, exactly as SQLite's `tasks.rs` does; and the task
//! list. Task changes, verdicts, escalations, mask candidates and precision answer
//! [`StoreError::Unsupported`] (`unsupported::no`).

use chrono::{DateTime, Duration, Utc};
use postgres::types::ToSql;
use postgres::{GenericClient, Row as PgRow, Transaction};

use super::outbox::enqueue;
use super::store::{from_ts, ingest_tx, ts};
use super::unsupported::no;
use super::{pg_err, PgStore};
use crate::dispatch::rules::TOO_OLD;
use crate::dispatch::{
    Action, Assignment, Deadline, Milestones, Priority, TaskRules, TaskState, Verdict,
};
use crate::fuse::{FireEvent, FuseParams, Placer};
use crate::notify::{Notice, NoticeKind};
use crate::store::error::{SqlContext, StoreError};
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::shared::{
    dollars, plan_new_task, priority_str, task_notice, Dispatched, NewTaskFacts, MARK_NOTIFIED_SQL,
    NOTICE_EVENT_SQL, ROUND_SQL,
};
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskQuery, TaskStore, TaskTarget, VerdictOutcome,
};
use crate::store::{IngestBatch, IngestReport, Scope};

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
        _: i64,
        _: TaskChange,
        _: &Actor,
        _: DateTime<Utc>,
        _: &Acted,
    ) -> Result<StoredTask, TaskError> {
        no("task changes")
    }

    fn record_verdict_as(
        &self,
        _: i64,
        _: &NewVerdict,
        _: &Actor,
        _: &TaskRules,
        _: DateTime<Utc>,
        _: Option<&IdempotencyKey>,
    ) -> Result<VerdictOutcome, TaskError> {
        no("verdicts")
    }

    fn idempotency_key(&self, _: &str, _: &str) -> Result<Option<StoredKey>, StoreError> {
        no("idempotency keys")
    }

    fn idempotent_answer(
        &self,
        _: &str,
        _: &str,
        _: u16,
        _: &serde_json::Value,
    ) -> Result<(), StoreError> {
        no("idempotency keys")
    }

    fn verdicts_by(
        &self,
        _: &str,
        _: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError> {
        no("verdicts")
    }

    fn escalate_due(&self, _: DateTime<Utc>) -> Result<Vec<(i64, Deadline)>, StoreError> {
        no("escalations")
    }

    fn verdict_of(&self, _: i64) -> Result<Option<StoredVerdict>, StoreError> {
        no("verdicts")
    }

    fn photo_refs(&self, _: &str) -> Result<u64, StoreError> {
        no("verdicts")
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
        _: Option<&str>,
        _: Option<i64>,
        _: usize,
    ) -> Result<Vec<MaskCandidate>, StoreError> {
        no("mask candidates")
    }

    fn decide_candidate(
        &self,
        _: i64,
        _: bool,
        _: &Actor,
        _: DateTime<Utc>,
    ) -> Result<MaskCandidate, TaskError> {
        no("mask candidates")
    }

    fn precision(&self, _: &Scope) -> Result<Vec<SourcePrecision>, StoreError> {
        no("source precision")
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
