//! The command center's own moves on tasks (#17): a task made by hand for an event the rules
//! gave none, a task given to another township, a task cancelled, and the review of a verdict
//! (sent back for re-verification, or a closed task reopened). Each is one transaction with its
//! audit row, which carries the operator's reason; the legality of each move is the state
//! machine's (`dispatch::task`), the scope (which county may act where) the API's.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::outbox::{enqueue, supersede};
use super::tasks::{audit_move, insert_task, load_task, notice, set_task_reason};
use super::{ts, SqliteStore};
use crate::dispatch::policy::due_times;
use crate::dispatch::{transition, Action, IllegalTransition, TaskRules, TaskState};
use crate::notify::NoticeKind;
use crate::store::error::SqlContext;
use crate::store::operator::OperatorStore;
use crate::store::shared::operator::{
    event_has_task, new_task_facts, send_back_plan, unit_label, CANCEL_SQL, EVENT_OF_NEW_TASK_SQL,
    KEEP_RETURNED_VERDICT_SQL, REASSIGN_SQL, REOPEN_SQL, SEND_BACK_SQL, TASK_OF_EVENT_SQL,
};
use crate::store::tasks::{Actor, StoredTask, TaskError, TaskTarget};

impl OperatorStore for SqliteStore {
    fn create_task_for(
        &self,
        event_id: i64,
        target: &TaskTarget,
        reason: &str,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|tx| {
            let row = tx
                .query_row(EVENT_OF_NEW_TASK_SQL, [event_id], |r| {
                    let facts = new_task_facts(
                        (r.get(0)?, r.get(1)?),
                        r.get(2)?,
                        &r.get::<_, String>(3)?,
                        r.get(4)?,
                        rules,
                    );
                    Ok((facts, r.get::<_, Option<String>>(5)?))
                })
                .optional()
                .ctx("event of a new task")?;
            let Some((facts, dispatch_reason)) = row else {
                return Err(TaskError::NotFound {
                    what: "event",
                    id: event_id,
                });
            };
            let existing: Option<String> = tx
                .query_row(TASK_OF_EVENT_SQL, [event_id], |r| r.get(0))
                .optional()
                .ctx("task of event")?;
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
        })
    }

    fn reassign_task(
        &self,
        id: i64,
        target: &TaskTarget,
        reason: &str,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|tx| {
            let task = load_task(tx, id)?;
            let to = transition(task.state, Action::Reassign)?;
            if task.unit == target.unit {
                return Err(TaskError::Illegal(IllegalTransition {
                    from: task.state.as_str(),
                    action: "reassign to its own unit",
                }));
            }
            let [(_, ack), (_, on_site), (_, verdict)] =
                due_times(now, rules.policy.deadlines(task.priority));
            tx.execute(
                REASSIGN_SQL,
                params![
                    target.unit,
                    target.level,
                    target.county,
                    to.as_str(),
                    ts(ack),
                    ts(on_site),
                    ts(verdict),
                    ts(now),
                    id
                ],
            )
            .ctx("reassign task")?;
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
            let from = unit_label(&task);
            let before = task;
            let task = load_task(tx, id)?;
            // What the old unit was still to be told is void; the new unit is told of a new
            // task (again, if it held the task before: the notice's round is new), and the old
            // unit, if it was told of the task, that it was taken from it.
            supersede(tx, id, ts(now), "reassign")?;
            let n = notice(
                tx,
                &task,
                NoticeKind::TaskNew,
                task.unit.clone(),
                format!("reassigned from {from}"),
            )?;
            enqueue(tx, &n, ts(now))?;
            if before.state != TaskState::New {
                let mut away = notice(
                    tx,
                    &task,
                    NoticeKind::Cancelled {
                        reason: reason.to_string(),
                        reassigned_to: Some(task.unit.clone()),
                        reassigned_to_name: None,
                    },
                    before.unit.clone(),
                    format!("reassigned to {}", unit_label(&task)),
                )?;
                away.state = before.state.as_str().into();
                away.due = None;
                enqueue(tx, &away, ts(now))?;
            }
            Ok(task)
        })
    }

    fn cancel_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|tx| {
            let before = load_task(tx, id)?;
            let task = state_move(tx, id, Action::Cancel, CANCEL_SQL, reason, who, now)?;
            // Nothing more is sent about it; the unit, if it was told of the task, hears that it
            // was cancelled and why.
            supersede(tx, id, ts(now), "cancel")?;
            if before.state != TaskState::New {
                let mut n = notice(
                    tx,
                    &task,
                    NoticeKind::Cancelled {
                        reason: reason.to_string(),
                        reassigned_to: None,
                        reassigned_to_name: None,
                    },
                    task.unit.clone(),
                    "cancelled".into(),
                )?;
                n.due = None;
                enqueue(tx, &n, ts(now))?;
            }
            Ok(task)
        })
    }

    fn send_back_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|tx| {
            let task = load_task(tx, id)?;
            let to = transition(task.state, Action::SendBack)?;
            let moved = tx
                .execute(
                    KEEP_RETURNED_VERDICT_SQL,
                    params![id, ts(now), who.id, reason],
                )
                .ctx("keep the returned verdict")?;
            let verdict_id: Option<i64> = tx
                .query_row("SELECT id FROM verdicts WHERE task_id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()
                .ctx("returned verdict id")?;
            tx.execute("DELETE FROM verdicts WHERE task_id = ?1", [id])
                .ctx("return the verdict")?;
            let (on_site_due, verdict_due, escalations) = send_back_plan(&task, rules, now);
            tx.execute(
                SEND_BACK_SQL,
                params![
                    to.as_str(),
                    ts(on_site_due),
                    ts(verdict_due),
                    escalations,
                    ts(now),
                    id
                ],
            )
            .ctx("send a task back")?;
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
            // The patrol's group hears why, with the new on-site deadline (the notice's `due`,
            // the task's next) and the new verdict deadline.
            let task = load_task(tx, id)?;
            let n = notice(
                tx,
                &task,
                NoticeKind::SentBack {
                    reason: reason.to_string(),
                    verdict_id: verdict_id.unwrap_or(0),
                    verdict_due: Some(task.verdict_due),
                },
                task.unit.clone(),
                "sent back".into(),
            )?;
            enqueue(tx, &n, ts(now))?;
            Ok(task)
        })
    }

    fn reopen_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|tx| state_move(tx, id, Action::Reopen, REOPEN_SQL, reason, who, now))
    }
}

/// A move that changes only the task's row (`sql` takes the new state, `now` and the id), audited
/// with the operator's reason: cancel and reopen.
fn state_move(
    tx: &rusqlite::Connection,
    id: i64,
    action: Action,
    sql: &str,
    reason: &str,
    who: &Actor,
    now: DateTime<Utc>,
) -> Result<StoredTask, TaskError> {
    let task = load_task(tx, id)?;
    let to = transition(task.state, action)?;
    tx.execute(sql, params![to.as_str(), ts(now), id])
        .ctx(action.name())?;
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
    load_task(tx, id)
}
