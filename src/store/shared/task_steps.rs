//! The task family's transactions, written once for both backends over [`Tx`]: the ingest's
//! dispatch step ([`on_event_saved`], inside the ingest transaction: an event is never
//! committed without the task it is owed), task moves, verdicts with their evidence checks,
//! escalation sweeps, mask candidates, the task queries. Every change is one transaction that
//! also writes its audit row and its outbox notice ([`super::outbox::enqueue`]), so a crash can
//! leave neither a state change without its record nor a notice for a change rolled back. The
//! decisions are pure (`dispatch`, `verify`, [`super::tasks`]); here they are loaded, applied
//! and recorded.
//!
//! Where several writers may run at once (PostgreSQL) a change locks what it reads first
//! ([`Tx::lock`]): the task's row before a move or a verdict, so two acknowledgements of one
//! task apply one after the other and the second finds it acknowledged; the mask candidates
//! around a "no fire" verdict's step and a decision; an escalation sweep claims its overdue tasks
//! with [`Tx::for_update`] (`SKIP LOCKED`), so sweeps on several nodes escalate each deadline once and never
//! wait on one another. SQLite's one writer makes each of these a no-op there.

use chrono::{DateTime, Duration, Utc};

use super::idempotency;
use super::outbox::enqueue;
use super::tasks::{
    box_around, candidate_decision, change_action, change_detail, change_sql, decide_detail,
    escalations_due, mask_step, milestone_column, precision_filter, precision_sql, propose_detail,
    verdict_findings, MaskStep, PrecisionTally, CANDIDATES_SQL, DECIDE_SQL, ESCALATE_SQL,
    INSERT_VERDICT_SQL, PHOTO_REFS_SQL, PRIORS_SQL, PROPOSE_SQL, REPEATS_SQL, SUPPORT_SQL,
    VERDICTS_BY_SQL, VERDICT_SQL, VERIFY_SQL,
};
use super::tx::{from_ts, limit, ts, Lock, Param, Row, Tx};
use super::{
    plan_new_task, priority_str, task_notice, Dispatched, NewTaskFacts, MARK_NOTIFIED_SQL,
    NOTICE_EVENT_SQL, ROUND_SQL,
};
use crate::dispatch::rules::TOO_OLD;
use crate::dispatch::{
    transition, Action, Assignment, Deadline, Milestones, Priority, TaskRules, TaskState, Verdict,
};
use crate::fuse::{FireEvent, Placer};
use crate::notify::{Notice, NoticeKind};
use crate::store::error::StoreError;
use crate::store::idempotency::IdempotencyKey;
use crate::store::model::Scope;
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskQuery, TaskTarget, VerdictOutcome,
};
use crate::verify::PriorPhoto;

/// A patrol's move of task `id` (acknowledge, on site, close, ...), with the time it acted
/// (`acted.at`, the milestone) and its idempotency key claimed in the same transaction.
pub(crate) fn change_task(
    tx: &mut impl Tx,
    id: i64,
    change: TaskChange,
    who: &Actor,
    now: DateTime<Utc>,
    acted: &Acted,
) -> Result<StoredTask, TaskError> {
    if let Some(k) = &acted.key {
        idempotency::claim(tx, k, now)?;
    }
    tx.lock(Lock::Task(id))?;
    let task = load_task(tx, id)?;
    let action = change_action(change);
    let to = transition(task.state, action)?;
    if to == task.state {
        // A repeated delivery confirmation: nothing changes, nothing to record.
        return Ok(task);
    }
    let column = milestone_column(to);
    tx.execute(
        "update task",
        &change_sql(column),
        &[
            to.as_str().into(),
            ts(now).into(),
            id.into(),
            ts(acted.at.unwrap_or(now)).into(),
        ],
    )?;
    let detail = change_detail(change, &task, acted);
    audit_move(tx, now, who, id, action, task.state, to, &detail)?;
    load_task(tx, id)
}

/// A verdict on task `id`: its evidence checked against every other verdict's photo, stored
/// with the task's move, audit row and notice, and the mask step of a "no fire" verdict.
pub(crate) fn record_verdict(
    tx: &mut impl Tx,
    id: i64,
    v: &NewVerdict,
    who: &Actor,
    rules: &TaskRules,
    now: DateTime<Utc>,
    key: Option<&IdempotencyKey>,
) -> Result<VerdictOutcome, TaskError> {
    if let Some(k) = key {
        idempotency::claim(tx, k, now)?;
    }
    tx.lock(Lock::Task(id))?;
    let task = load_task(tx, id)?;
    let to = transition(task.state, Action::Verify(v.verdict))?;
    let priors = tx.query_rows("query priors", PRIORS_SQL, &[id.into()], |r| {
        Ok(PriorPhoto {
            task_id: r.get(0)?,
            sha256: r.get(1)?,
            dhash: r.get::<i64>(2)? as u64,
        })
    })?;
    let found = verdict_findings(&task, v, &priors, rules);
    let flags = found.flags_json();
    let verdict_id: i64 = tx.query_one(
        "insert verdict",
        INSERT_VERDICT_SQL,
        &[
            id.into(),
            v.verdict.as_str().into(),
            ts(v.reported_at).into(),
            ts(now).into(),
            v.lat.into(),
            v.lon.into(),
            found.distance_m.into(),
            (&v.note).into(),
            (&v.photo.sha256).into(),
            (v.photo.dhash as i64).into(),
            (&v.photo_path).into(),
            (v.photo_bytes as i64).into(),
            found.exif_time.map(ts).into(),
            v.photo.exif.position.map(|p| p.1).into(),
            v.photo.exif.position.map(|p| p.0).into(),
            (&flags).into(),
            i64::from(found.review).into(),
            (&who.id).into(),
        ],
        |r| r.get(0),
    )?;
    tx.execute(
        "verify task",
        VERIFY_SQL,
        &[
            to.as_str().into(),
            ts(now).into(),
            v.verdict.as_str().into(),
            id.into(),
        ],
    )?;
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
}

/// Open tasks past their first deadline (the others cannot have missed any), claimed by this
/// sweep ([`Tx::for_update`], passing over those another sweep or change holds).
fn overdue_sql<T: Tx>() -> String {
    format!(
        "SELECT id FROM tasks
         WHERE state NOT IN ('verified', 'closed', 'cancelled') AND ack_due < ?1
         ORDER BY id{}",
        T::for_update(None, true)
    )
}

/// Escalates the deadlines missed by `now`: each once, with its audit row and a notice to the
/// unit above. A task another sweep (or a patrol's change) holds waits for the next sweep;
/// one swept before reads its escalations and adds none.
pub(crate) fn escalate_due<T: Tx>(
    tx: &mut T,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, Deadline)>, TaskError> {
    let ids = tx.query_rows(
        "claim overdue tasks",
        &overdue_sql::<T>(),
        &[ts(now).into()],
        |r| r.get::<i64>(0),
    )?;
    let mut done = Vec::new();
    for id in ids {
        let task = load_task(tx, id)?;
        for e in escalations_due(&task, now) {
            tx.execute(
                "escalate task",
                ESCALATE_SQL,
                &[(&e.escalations).into(), ts(now).into(), id.into()],
            )?;
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
            enqueue_notice(tx, &task, kind, e.to, e.notice_detail, now)?;
            done.push((id, e.deadline));
        }
    }
    Ok(done)
}

/// Token `actor`'s verdicts with their tasks, newest first, at most `n`.
pub(crate) fn verdicts_by(
    c: &mut impl Tx,
    actor: &str,
    n: usize,
) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError> {
    let ids = c.query_rows(
        "query verdicts by actor",
        VERDICTS_BY_SQL,
        &[actor.into(), limit(n)],
        |r| r.get::<i64>(0),
    )?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let task = load_task(c, id).map_err(into_store)?;
        if let Some(v) = read_verdict(c, id)? {
            out.push((task, v));
        }
    }
    Ok(out)
}

/// How many verdicts, kept or returned, use a photo.
pub(crate) fn photo_refs(c: &mut impl Tx, sha256: &str) -> Result<u64, StoreError> {
    let n: i64 = c.query_one(
        "count photo references",
        PHOTO_REFS_SQL,
        &[sha256.into()],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// An entity's audit rows after `after_id`, oldest first, at most `n`.
pub(crate) fn audit_page(
    c: &mut impl Tx,
    entity: &str,
    id: i64,
    after_id: Option<i64>,
    n: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    c.query_rows(
        "query audit",
        "SELECT id, at, actor, role, entity, entity_id, action, from_state, to_state, detail
         FROM audit WHERE entity = ?1 AND entity_id = ?2 AND id > ?3
         ORDER BY id LIMIT ?4",
        &[
            entity.into(),
            id.into(),
            after_id.unwrap_or(0).into(),
            limit(n),
        ],
        |r| {
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
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
            })
        },
    )
}

/// The command center's decision on a pending mask candidate, audited.
pub(crate) fn decide_candidate(
    tx: &mut impl Tx,
    id: i64,
    confirm: bool,
    who: &Actor,
    now: DateTime<Utc>,
) -> Result<MaskCandidate, TaskError> {
    tx.lock(Lock::MaskCandidates)?;
    let missing = || TaskError::NotFound {
        what: "mask candidate",
        id,
    };
    let cand = load_candidates(tx, None, Some(id), None, 1)?
        .into_iter()
        .next()
        .ok_or_else(missing)?;
    let to = candidate_decision(&cand, confirm)?;
    tx.execute(
        "decide mask candidate",
        DECIDE_SQL,
        &[to.into(), ts(now).into(), (&who.id).into(), id.into()],
    )?;
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
        .ok_or_else(missing)
}

/// Creates the task a saved event is owed when the rules give it one, or tells the task's unit
/// that its event was seen again. Called for every event an ingest with dispatch saved, inside
/// the ingest transaction.
pub(crate) fn on_event_saved(
    tx: &mut impl Tx,
    ev: &FireEvent,
    event_id: i64,
    placer: &dyn Placer,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<Dispatched, StoreError> {
    let existing = tx.query_opt(
        "task of event",
        "SELECT id, state FROM tasks WHERE event_id = ?1",
        &[event_id.into()],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
    )?;
    let step = dispatch_step(ev, existing.as_ref(), placer, rules, now);
    if let Some(reason) = step.task_reason() {
        set_task_reason(tx, event_id, reason)?;
    }
    apply_dispatch(tx, ev, event_id, step, rules, now)
}

/// What dispatch does with a saved event ([`on_event_saved`]), decided from its task (id and
/// state) if it has one; a backend that saves a batch's events at once decides them all and
/// writes their reasons together ([`DispatchStep::task_reason`]), then applies each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DispatchStep {
    /// The event has a task; `Some(id)` when the (open) task is told it was seen again.
    HasTask(Option<i64>),
    /// No task, and why.
    NoTask(&'static str),
    /// A new task for `unit`.
    Create {
        unit: String,
        level: &'static str,
        sensitive: bool,
    },
}

impl DispatchStep {
    /// The event's `task_reason` to store, if the step sets it (`Some(None)`: cleared).
    pub(crate) fn task_reason(&self) -> Option<Option<&'static str>> {
        match self {
            DispatchStep::HasTask(_) => None,
            DispatchStep::NoTask(reason) => Some(Some(reason)),
            DispatchStep::Create { .. } => Some(None),
        }
    }
}

/// Decides [`DispatchStep`] for a saved event whose task (id, state) is `existing`.
pub(crate) fn dispatch_step(
    ev: &FireEvent,
    existing: Option<&(i64, String)>,
    placer: &dyn Placer,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> DispatchStep {
    // Staleness is judged on the newest detection: a fresh one re-detecting an old fire is
    // dispatched; an archive or backfilled season pages no one, not even as "seen again".
    let too_old = rules.is_too_old(ev.last_seen, now);
    if let Some((task_id, state)) = existing {
        let tell = !too_old && TaskState::parse(state).is_some_and(|s| s.is_open());
        return DispatchStep::HasTask(tell.then_some(*task_id));
    }
    match rules.assign(
        &ev.placement,
        placer.parcel_layer().is_some(),
        ev.confidence(),
    ) {
        Assignment::Task { .. } if too_old => DispatchStep::NoTask(TOO_OLD),
        Assignment::Task {
            unit,
            level,
            sensitive,
        } => DispatchStep::Create {
            unit,
            level,
            sensitive,
        },
        Assignment::Skip(reason) => DispatchStep::NoTask(reason),
    }
}

/// Carries out `step` for the saved event `event_id` (its `task_reason` already written): the
/// open task told it was seen again (touched, `task_updated` notice), or the new task created.
pub(crate) fn apply_dispatch(
    tx: &mut impl Tx,
    ev: &FireEvent,
    event_id: i64,
    step: DispatchStep,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<Dispatched, StoreError> {
    let (unit, level, sensitive) = match step {
        DispatchStep::HasTask(tell) => {
            if let Some(task_id) = tell {
                tx.execute(
                    "touch task",
                    "UPDATE tasks SET updated_at = ?1 WHERE id = ?2",
                    &[ts(now).into(), task_id.into()],
                )?;
                let task = load_task(tx, task_id).map_err(into_store)?;
                let (kind, detail) = seen_again(ev);
                enqueue_notice(tx, &task, kind, task.unit.clone(), detail, now)
                    .map_err(into_store)?;
            }
            return Ok(Dispatched::HasTask);
        }
        DispatchStep::NoTask(reason) => return Ok(Dispatched::NoTask(reason)),
        DispatchStep::Create {
            unit,
            level,
            sensitive,
        } => (unit, level, sensitive),
    };
    let (target, facts) = new_task_of(ev, unit, level, sensitive);
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

/// The `task_updated` notice of an open task whose event was seen again: its kind and detail.
pub(crate) fn seen_again(ev: &FireEvent) -> (NoticeKind, String) {
    (
        NoticeKind::TaskUpdated {
            sightings: ev.sightings,
        },
        format!("seen again: {} sightings", ev.sightings),
    )
}

/// The target and priority facts of the task dispatch creates for `ev` (a
/// [`DispatchStep::Create`]'s unit, level and sensitivity).
pub(crate) fn new_task_of(
    ev: &FireEvent,
    unit: String,
    level: &str,
    sensitive: bool,
) -> (TaskTarget, NewTaskFacts) {
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
    (target, facts)
}

/// A county's task created after this moment (Unix seconds) makes a new task there not the
/// first of its season ([`insert_task`]).
pub(crate) fn season_start(rules: &TaskRules, now: DateTime<Utc>) -> i64 {
    ts(now - Duration::days(rules.season_gap_days))
}

/// The detail of a new task's `task_new` notice.
pub(crate) fn task_new_detail(p: Priority) -> String {
    format!("{} priority fire to verify", priority_str(p))
}

/// Inserts a `new` task for an event with its priority and deadlines (from `now`), its audit
/// row (by `who`, with `extra` merged into the detail) and its `task_new` notice (the
/// decisions: [`plan_new_task`]). The task id.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_task(
    tx: &mut impl Tx,
    event_id: i64,
    target: &TaskTarget,
    f: &NewTaskFacts,
    rules: &TaskRules,
    now: DateTime<Utc>,
    who: &Actor,
    extra: serde_json::Value,
) -> Result<i64, TaskError> {
    let first_of_season = match &target.county {
        Some(c) => !tx.query_one(
            "first of season",
            "SELECT EXISTS (SELECT 1 FROM tasks WHERE county = ?1 AND created_at > ?2)",
            &[c.into(), season_start(rules, now).into()],
            |r| r.get::<bool>(0),
        )?,
        None => false,
    };
    let (p, [ack, on_site, verdict], detail) =
        plan_new_task(event_id, f, first_of_season, rules, now, extra);
    let task_id: i64 = tx.query_one(
        "insert task",
        "INSERT INTO tasks (event_id, unit, unit_level, county, state, priority, created_at,
           ack_due, on_site_due, verdict_due, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'new', ?5, ?6, ?7, ?8, ?9, ?6) RETURNING id",
        &[
            event_id.into(),
            (&target.unit).into(),
            (&target.level).into(),
            (&target.county).into(),
            priority_str(p).into(),
            ts(now).into(),
            ts(ack).into(),
            ts(on_site).into(),
            ts(verdict).into(),
        ],
        |r| r.get(0),
    )?;
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
    enqueue_notice(
        tx,
        &task,
        NoticeKind::TaskNew,
        task.unit.clone(),
        task_new_detail(p),
        now,
    )?;
    Ok(task_id)
}

/// Stores why an event has no task (`None`: it has one).
pub(crate) fn set_task_reason(
    tx: &mut impl Tx,
    event_id: i64,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    tx.execute(
        "store task reason",
        "UPDATE events SET task_reason = ?1 WHERE id = ?2",
        &[reason.into(), event_id.into()],
    )?;
    Ok(())
}

/// Moves a task new → notified within `tx`, with its audit row (actor `system`); for the
/// delivery worker, in the transaction that records the delivery. Only a task still `new`
/// moves (one acknowledged meanwhile stays where it is). True when it moved.
pub(crate) fn mark_notified_tx(
    tx: &mut impl Tx,
    task_id: i64,
    now: DateTime<Utc>,
    detail: &serde_json::Value,
) -> Result<bool, StoreError> {
    let moved = tx.execute(
        "mark a task notified",
        MARK_NOTIFIED_SQL,
        &[task_id.into(), ts(now).into()],
    )?;
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

/// A task error where only a store error can be answered (the ingest, the sweep, reads).
pub(crate) fn into_store(e: TaskError) -> StoreError {
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
pub(crate) fn audit_move(
    tx: &mut impl Tx,
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

/// An audit row (the log is append-only).
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit(
    tx: &mut impl Tx,
    now: DateTime<Utc>,
    who: &Actor,
    entity: &str,
    entity_id: i64,
    action: &str,
    from: Option<&str>,
    to: Option<&str>,
    detail: &serde_json::Value,
) -> Result<(), TaskError> {
    let detail = detail.to_string();
    tx.execute(
        "insert audit",
        "INSERT INTO audit (at, actor, role, entity, entity_id, action, from_state, to_state, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &[
            ts(now).into(),
            (&who.id).into(),
            (&who.role).into(),
            entity.into(),
            entity_id.into(),
            action.into(),
            from.into(),
            to.into(),
            (&detail).into(),
        ],
    )?;
    Ok(())
}

/// The self-contained notice of a task change to `unit` ([`task_notice`]).
pub(crate) fn notice(
    tx: &mut impl Tx,
    task: &StoredTask,
    kind: NoticeKind,
    unit: String,
    detail: String,
) -> Result<Notice, TaskError> {
    let (first_seen, last_seen, max_frp_mw, confidence) = tx.query_one(
        "event of notice",
        NOTICE_EVENT_SQL,
        &[task.event_id.into()],
        |r| {
            Ok((
                r.get::<i64>(0)?,
                r.get::<i64>(1)?,
                r.get::<Option<f64>>(2)?,
                r.get::<f64>(3)?,
            ))
        },
    )?;
    let round = tx.query_one("round of notice", ROUND_SQL, &[task.id.into()], |r| {
        r.get::<i64>(0)
    })?;
    Ok(task_notice(
        task,
        kind,
        unit,
        detail,
        (from_ts(first_seen), from_ts(last_seen)),
        max_frp_mw,
        confidence,
        round as u32,
    ))
}

/// A notice of a task change to `unit` ([`notice`]), enqueued in this transaction.
pub(crate) fn enqueue_notice(
    tx: &mut impl Tx,
    task: &StoredTask,
    kind: NoticeKind,
    unit: String,
    detail: String,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    let n = notice(tx, task, kind, unit, detail)?;
    enqueue(tx, &n, ts(now))?;
    Ok(())
}

/// Proposes (or supports) a mask candidate at the task's event after a "no fire" verdict
/// ([`mask_step`] decides): at once for `no_fire_industrial`; for `no_fire_other` once
/// `no_fire_other_repeats` such verdicts lie within `mask_radius_m`. A pending candidate that
/// already covers the place collects the verdict instead of a second candidate.
fn propose_mask(
    tx: &mut impl Tx,
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
    tx.lock(Lock::MaskCandidates)?;
    let repeats = if verdict == Verdict::NoFireOther {
        let (min_lat, max_lat, min_lon, max_lon) =
            box_around(task.lon, task.lat, rules.mask_radius_m);
        tx.query_rows(
            "query repeats",
            REPEATS_SQL,
            &[
                min_lat.into(),
                max_lat.into(),
                min_lon.into(),
                max_lon.into(),
            ],
            |r| Ok((r.get::<i64>(0)?, r.get::<f64>(1)?, r.get::<f64>(2)?)),
        )?
    } else {
        Vec::new()
    };
    let pending = load_candidates(tx, Some("pending"), None, None, usize::MAX >> 1)?;
    let (id, detail) = match mask_step(verdict, verdict_id, task, &repeats, &pending, rules) {
        MaskStep::None => return Ok(None),
        MaskStep::Support { id, verdicts } => {
            let verdicts = serde_json::to_string(&verdicts).expect("ids");
            tx.execute(
                "support mask candidate",
                SUPPORT_SQL,
                &[(&verdicts).into(), id.into()],
            )?;
            return Ok(Some(id));
        }
        MaskStep::Propose {
            lat,
            lon,
            radius_m,
            reason,
            verdicts,
        } => {
            let json = serde_json::to_string(&verdicts).expect("ids");
            let id: i64 = tx.query_one(
                "insert mask candidate",
                PROPOSE_SQL,
                &[
                    lat.into(),
                    lon.into(),
                    radius_m.into(),
                    reason.into(),
                    (&json).into(),
                    ts(now).into(),
                ],
                |r| r.get(0),
            )?;
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

/// Mask candidates newest first ([`CANDIDATES_SQL`]).
pub(crate) fn load_candidates(
    c: &mut impl Tx,
    status: Option<&str>,
    id: Option<i64>,
    before_id: Option<i64>,
    n: usize,
) -> Result<Vec<MaskCandidate>, StoreError> {
    c.query_rows(
        "query mask candidates",
        CANDIDATES_SQL,
        &[status.into(), id.into(), before_id.into(), limit(n)],
        |r| {
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
                decided_at: r.get::<Option<i64>>(8)?.map(from_ts),
                decided_by: r.get(9)?,
            })
        },
    )
}

/// The columns [`read_task`] reads, over `tasks t JOIN events e ON e.id = t.event_id LEFT JOIN
/// verdicts v ON v.task_id = t.id`.
pub(crate) const TASK_COLUMNS: &str =
    "t.id, t.event_id, t.unit, t.unit_level, t.county, t.state, t.priority,
    t.created_at, t.notified_at, t.acknowledged_at, t.on_site_at, t.verified_at, t.closed_at,
    t.ack_due, t.on_site_due, t.verdict_due, t.escalations, t.verdict, t.updated_at,
    e.lon, e.lat, COALESCE(v.review, 0), e.parcel, t.cancelled_at";

/// A task from the row of a query selecting [`TASK_COLUMNS`] first.
pub(crate) fn read_task(r: &dyn Row) -> Result<StoredTask, StoreError> {
    let bad = |column: &'static str, value: String| StoreError::BadValue {
        table: "tasks",
        column,
        value,
    };
    let opt = |i: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(r.get::<Option<i64>>(i)?.map(from_ts))
    };
    let state: String = r.get(5)?;
    let Some(state) = TaskState::parse(&state) else {
        return Err(bad("state", state));
    };
    let pr: String = r.get(6)?;
    let priority = match pr.as_str() {
        "normal" => Priority::Normal,
        "high" => Priority::High,
        _ => return Err(bad("priority", pr)),
    };
    let escalations: String = r.get(16)?;
    let verdict: Option<String> = r.get(17)?;
    Ok(StoredTask {
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
        review: r.get::<i64>(21)? != 0,
        parcel: r.get(22)?,
    })
}

/// Visits the tasks of a query, newest first, while `visit` returns true. The limit is bound,
/// not written in: one statement text per shape of filter, which SQLite keeps in its statement
/// cache instead of parsing and planning it again for every page.
pub(crate) fn query_tasks<'q>(
    c: &mut impl Tx,
    q: &'q TaskQuery,
    visit: &mut dyn FnMut(StoredTask) -> bool,
) -> Result<(), StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut values: Vec<Param<'q>> = Vec::new();
    let mut push = |clause: &str, v: Vec<Param<'q>>| {
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
        Scope::County(cty) => push("t.county = ?", vec![cty.into()]),
        Scope::Township(t) => push("t.unit = ?", vec![t.into()]),
    }
    if let Some(id) = q.id {
        push("t.id = ?", vec![id.into()]);
    }
    if let Some(id) = q.before_id {
        push("t.id < ?", vec![id.into()]);
    }
    match q.status {
        None => {}
        Some(None) => push("t.state NOT IN ('verified', 'closed', 'cancelled')", vec![]),
        Some(Some(s)) => push("t.state = ?", vec![s.as_str().into()]),
    }
    if let Some(t) = q.ack_due_before {
        push("t.ack_due < ?", vec![ts(t).into()]);
    }
    if let Some(r) = q.review {
        push("COALESCE(v.review, 0) = ?", vec![i64::from(r).into()]);
    }
    if let Some(u) = &q.unit {
        push("(t.unit = ? OR t.county = ?)", vec![u.into(), u.into()]);
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    values.push(limit(q.limit));
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN events e ON e.id = t.event_id
         LEFT JOIN verdicts v ON v.task_id = t.id {filter} ORDER BY t.id DESC LIMIT ?{}",
        values.len()
    );
    c.query_each("query tasks", &sql, &values, &mut |r| {
        Ok(visit(read_task(r)?))
    })
}

/// The tasks of a query, newest first.
pub(crate) fn collect_tasks(c: &mut impl Tx, q: &TaskQuery) -> Result<Vec<StoredTask>, StoreError> {
    let mut out = Vec::new();
    query_tasks(c, q, &mut |t| {
        out.push(t);
        true
    })?;
    Ok(out)
}

/// Task `id` (with its event's position and its verdict's review flag).
pub(crate) fn load_task(c: &mut impl Tx, id: i64) -> Result<StoredTask, TaskError> {
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

/// The verdict of a task.
pub(crate) fn read_verdict(
    c: &mut impl Tx,
    task_id: i64,
) -> Result<Option<StoredVerdict>, StoreError> {
    c.query_opt("read verdict", VERDICT_SQL, &[task_id.into()], |r| {
        let name: String = r.get(2)?;
        let Some(verdict) = Verdict::parse(&name) else {
            return Err(StoreError::BadValue {
                table: "verdicts",
                column: "verdict",
                value: name,
            });
        };
        let flags: String = r.get(15)?;
        Ok(StoredVerdict {
            id: r.get(0)?,
            task_id: r.get(1)?,
            verdict,
            reported_at: from_ts(r.get(3)?),
            received_at: from_ts(r.get(4)?),
            lat: r.get(5)?,
            lon: r.get(6)?,
            distance_m: r.get(7)?,
            note: r.get(8)?,
            photo_sha256: r.get(9)?,
            photo_path: r.get(10)?,
            photo_bytes: r.get::<i64>(11)? as u64,
            exif_time: r.get::<Option<i64>>(12)?.map(from_ts),
            exif_lat: r.get(13)?,
            exif_lon: r.get(14)?,
            flags: serde_json::from_str(&flags).unwrap_or_default(),
            review: r.get::<i64>(16)? != 0,
            actor: r.get(17)?,
        })
    })
}

/// Verdict precision per source (satellite and class, camera) in a scope.
pub(crate) fn precision(
    c: &mut impl Tx,
    scope: &Scope,
) -> Result<Vec<SourcePrecision>, StoreError> {
    let (filter, value) = precision_filter(scope);
    let values: Vec<Param<'_>> = value.as_ref().map(Param::from).into_iter().collect();
    let [sat, cam] = precision_sql(filter);
    let mut tally = PrecisionTally::default();
    c.query_each("query precision", &sat, &values, &mut |r| {
        let (verdict, instrument): (String, String) = (r.get(1)?, r.get(2)?);
        let (satellite, conf): (String, String) = (r.get(3)?, r.get(4)?);
        tally.satellite(r.get(0)?, &verdict, &instrument, &satellite, &conf);
        Ok(true)
    })?;
    c.query_each("query precision", &cam, &values, &mut |r| {
        let verdict: String = r.get(1)?;
        tally.camera(r.get(0)?, &verdict, r.get(2)?);
        Ok(true)
    })?;
    Ok(tally.finish())
}
