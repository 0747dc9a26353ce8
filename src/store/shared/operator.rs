//! The command center's own moves on tasks (#17), written once for both backends over
//! [`Tx`]: a task made by hand for an event the rules gave none, a task given to another
//! township, a task cancelled, and the review of a verdict (sent back for re-verification, or a
//! closed task reopened). Each is one transaction with its audit row, which carries the
//! operator's reason, and its notices; the legality of each move is the state machine's
//! (`dispatch::task`), the scope (which county may act where) the API's. The statements are in
//! SQLite's numbered parameters (PostgreSQL runs them through [`super::dollars`]).

use chrono::{DateTime, Utc};

use super::outbox::{enqueue, supersede};
use super::task_steps::{
    audit_move, enqueue_notice, insert_task, load_task, notice, set_task_reason,
};
use super::tx::{ts, Lock, Tx};
use super::NewTaskFacts;
use crate::dispatch::policy::due_times;
use crate::dispatch::{transition, Action, IllegalTransition, TaskRules, TaskState};
use crate::fuse::class_of;
use crate::notify::NoticeKind;
use crate::store::tasks::{Actor, StoredTask, TaskError, TaskTarget};

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

/// A task made by hand for event `event_id`, which has none (the dispatch's reason for none
/// is kept in the audit detail).
pub(crate) fn create_task_for(
    tx: &mut impl Tx,
    event_id: i64,
    target: &TaskTarget,
    reason: &str,
    who: &Actor,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<StoredTask, TaskError> {
    let row = tx.query_opt(
        "event of a new task",
        EVENT_OF_NEW_TASK_SQL,
        &[event_id.into()],
        |r| {
            let facts = new_task_facts(
                (r.get(0)?, r.get(1)?),
                r.get(2)?,
                &r.get::<String>(3)?,
                r.get(4)?,
                rules,
            );
            Ok((facts, r.get::<Option<String>>(5)?))
        },
    )?;
    let Some((facts, dispatch_reason)) = row else {
        return Err(TaskError::NotFound {
            what: "event",
            id: event_id,
        });
    };
    let existing = tx.query_opt(
        "task of event",
        TASK_OF_EVENT_SQL,
        &[event_id.into()],
        |r| r.get::<String>(0),
    )?;
    if let Some(state) = existing {
        return Err(event_has_task(&state));
    }
    set_task_reason(tx, event_id, None)?;
    let id = insert_task(
        tx,
        event_id,
        target,
        &facts,
        rules,
        now,
        who,
        serde_json::json!({
            "manual": true,
            "reason": reason,
            "dispatch_reason": dispatch_reason,
        }),
    )?;
    load_task(tx, id)
}

/// Task `id` given to another unit: it starts again unnotified with fresh deadlines.
pub(crate) fn reassign_task(
    tx: &mut impl Tx,
    id: i64,
    target: &TaskTarget,
    reason: &str,
    who: &Actor,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<StoredTask, TaskError> {
    tx.lock(Lock::Task(id))?;
    let task = load_task(tx, id)?;
    let to = transition(task.state, Action::Reassign)?;
    if task.unit == target.unit {
        return Err(TaskError::Illegal(IllegalTransition {
            from: task.state.as_str(),
            action: crate::store::operator::REASSIGN_SAME_UNIT,
        }));
    }
    let [(_, ack), (_, on_site), (_, verdict)] =
        due_times(now, rules.policy.deadlines(task.priority));
    tx.execute(
        "reassign task",
        REASSIGN_SQL,
        &[
            (&target.unit).into(),
            (&target.level).into(),
            (&target.county).into(),
            to.as_str().into(),
            ts(ack).into(),
            ts(on_site).into(),
            ts(verdict).into(),
            ts(now).into(),
            id.into(),
        ],
    )?;
    audit_move(
        tx,
        now,
        who,
        id,
        Action::Reassign,
        task.state,
        to,
        &serde_json::json!({
            "reason": reason,
            "from_unit": task.unit,
            "to_unit": target.unit,
            "to_county": target.county,
        }),
    )?;
    let before = task;
    let task = load_task(tx, id)?;
    // What the old unit was still to be told is void; the new unit is told of a new task
    // (again, if it held the task before: the notice's round is new), and the old unit, if it
    // was told of the task, that it was taken from it.
    supersede(tx, id, ts(now), "reassign")?;
    let detail = format!("reassigned from {}", unit_label(&before));
    enqueue_notice(
        tx,
        &task,
        NoticeKind::TaskNew,
        task.unit.clone(),
        detail,
        now,
    )?;
    enqueue_withdrawal(tx, &before, &task, reason, Withdrawn::Reassigned, now)?;
    Ok(task)
}

/// How a task was taken from the unit it was given to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Withdrawn {
    Cancelled,
    Reassigned,
}

/// The unit that was told of a task (it had left `new` `before` the move) hears that it was
/// taken from it and why (a `cancelled` notice, no due time): cancelled, or given to the unit
/// `task` now has — then the notice goes to the old unit and carries the state that unit knew
/// and the county it was in (so the old county's groups hear it, the new county's do not).
/// A task still `new` was told to no one, so no one is told.
fn enqueue_withdrawal(
    tx: &mut impl Tx,
    before: &StoredTask,
    task: &StoredTask,
    reason: &str,
    how: Withdrawn,
    now: DateTime<Utc>,
) -> Result<(), TaskError> {
    if before.state == TaskState::New {
        return Ok(());
    }
    let (reassigned_to, detail) = match how {
        Withdrawn::Cancelled => (None, "cancelled".to_string()),
        Withdrawn::Reassigned => (
            Some(task.unit.clone()),
            format!("reassigned to {}", unit_label(task)),
        ),
    };
    let kind = NoticeKind::Cancelled {
        reason: reason.to_string(),
        reassigned_to,
        reassigned_to_name: None,
    };
    let mut n = notice(tx, task, kind, before.unit.clone(), detail)?;
    // Routed by unit and county (`WebhookConfig::takes`): the old unit's county hears it, not
    // the county a reassignment gave the task to.
    n.county = before.county.clone();
    if how == Withdrawn::Reassigned {
        n.state = before.state.as_str().into();
    }
    n.due = None;
    enqueue(tx, &n, ts(now))?;
    Ok(())
}

/// Task `id` cancelled.
pub(crate) fn cancel_task(
    tx: &mut impl Tx,
    id: i64,
    reason: &str,
    who: &Actor,
    now: DateTime<Utc>,
) -> Result<StoredTask, TaskError> {
    tx.lock(Lock::Task(id))?;
    let (before, task) = state_move(tx, id, Action::Cancel, CANCEL_SQL, reason, who, now)?;
    // Nothing more is sent about it; the unit, if it was told of the task, hears that it was
    // cancelled and why.
    supersede(tx, id, ts(now), "cancel")?;
    enqueue_withdrawal(tx, &before, &task, reason, Withdrawn::Cancelled, now)?;
    Ok(task)
}

/// Task `id`'s verdict sent back for re-verification: the verdict kept whole in
/// `returned_verdicts`, the task on site again with new deadlines ([`send_back_plan`]).
pub(crate) fn send_back_task(
    tx: &mut impl Tx,
    id: i64,
    reason: &str,
    who: &Actor,
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<StoredTask, TaskError> {
    tx.lock(Lock::Task(id))?;
    let task = load_task(tx, id)?;
    let to = transition(task.state, Action::SendBack)?;
    let moved = tx.execute(
        "keep the returned verdict",
        KEEP_RETURNED_VERDICT_SQL,
        &[id.into(), ts(now).into(), (&who.id).into(), reason.into()],
    )?;
    let verdict_id = tx.query_opt(
        "returned verdict id",
        "SELECT id FROM verdicts WHERE task_id = ?1",
        &[id.into()],
        |r| r.get::<i64>(0),
    )?;
    tx.execute(
        "return the verdict",
        "DELETE FROM verdicts WHERE task_id = ?1",
        &[id.into()],
    )?;
    let (on_site_due, verdict_due, escalations) = send_back_plan(&task, rules, now);
    tx.execute(
        "send a task back",
        SEND_BACK_SQL,
        &[
            to.as_str().into(),
            ts(on_site_due).into(),
            ts(verdict_due).into(),
            (&escalations).into(),
            ts(now).into(),
            id.into(),
        ],
    )?;
    audit_move(
        tx,
        now,
        who,
        id,
        Action::SendBack,
        task.state,
        to,
        &serde_json::json!({
            "reason": reason,
            "verdict_id": verdict_id,
            "verdict": task.verdict.map(|v| v.as_str()),
            "returned": moved,
        }),
    )?;
    // The patrol's group hears why, with the new on-site deadline (the notice's `due`, the
    // task's next) and the new verdict deadline.
    let task = load_task(tx, id)?;
    let kind = NoticeKind::SentBack {
        reason: reason.to_string(),
        verdict_id: verdict_id.unwrap_or(0),
        verdict_due: Some(task.verdict_due),
    };
    enqueue_notice(tx, &task, kind, task.unit.clone(), "sent back".into(), now)?;
    Ok(task)
}

/// A closed task reopened.
pub(crate) fn reopen_task(
    tx: &mut impl Tx,
    id: i64,
    reason: &str,
    who: &Actor,
    now: DateTime<Utc>,
) -> Result<StoredTask, TaskError> {
    tx.lock(Lock::Task(id))?;
    let (_, task) = state_move(tx, id, Action::Reopen, REOPEN_SQL, reason, who, now)?;
    Ok(task)
}

/// A move that changes only the task's row (`sql` takes the new state, `now` and the id),
/// audited with the operator's reason: cancel and reopen (the caller has locked the task).
/// The task before the move and after it.
fn state_move(
    tx: &mut impl Tx,
    id: i64,
    action: Action,
    sql: &str,
    reason: &str,
    who: &Actor,
    now: DateTime<Utc>,
) -> Result<(StoredTask, StoredTask), TaskError> {
    let task = load_task(tx, id)?;
    let to = transition(task.state, action)?;
    tx.execute(
        action.name(),
        sql,
        &[to.as_str().into(), ts(now).into(), id.into()],
    )?;
    audit_move(
        tx,
        now,
        who,
        id,
        action,
        task.state,
        to,
        &serde_json::json!({ "reason": reason }),
    )?;
    Ok((task, load_task(tx, id)?))
}
