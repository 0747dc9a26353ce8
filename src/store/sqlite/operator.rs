//! The command center's own moves on tasks (#17): a task made by hand for an event the rules
//! gave none, a task given to another township, a task cancelled, and the review of a verdict
//! (sent back for re-verification, or a closed task reopened). Each is one transaction with its
//! audit row, which carries the operator's reason; the legality of each move is the state
//! machine's (`dispatch::task`), the scope (which county may act where) the API's.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::outbox::{enqueue, supersede};
use super::tasks::{audit_move, insert_task, load_task, notice, set_task_reason, NewTaskFacts};
use super::{ts, SqliteStore};
use crate::dispatch::policy::due_times;
use crate::dispatch::{transition, Action, IllegalTransition, TaskRules, TaskState};
use crate::fuse::class_of;
use crate::notify::NoticeKind;
use crate::store::error::SqlContext;
use crate::store::operator::OperatorStore;
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
                .query_row(
                    "SELECT satellite_confidence, camera_confidence, max_frp_mw, kinds, mask,
                            task_reason
                     FROM events WHERE id = ?1",
                    [event_id],
                    |r| {
                        let (sat, cam): (f64, f64) = (r.get(0)?, r.get(1)?);
                        Ok((
                            NewTaskFacts {
                                confidence: class_of(1.0 - (1.0 - sat) * (1.0 - cam)),
                                max_frp_mw: r.get(2)?,
                                sensitive: false,
                                corroborated: r.get::<_, String>(3)?.contains(','),
                                mask: r.get(4)?,
                            },
                            r.get::<_, Option<String>>(5)?,
                        ))
                    },
                )
                .optional()
                .ctx("event of a new task")?;
            let Some((mut facts, dispatch_reason)) = row else {
                return Err(TaskError::NotFound {
                    what: "event",
                    id: event_id,
                });
            };
            facts.sensitive = facts.mask.as_deref().is_some_and(|m| rules.is_sensitive(m));
            let existing: Option<String> = tx
                .query_row(
                    "SELECT state FROM tasks WHERE event_id = ?1",
                    [event_id],
                    |r| r.get(0),
                )
                .optional()
                .ctx("task of event")?;
            if let Some(state) = existing {
                return Err(TaskError::Illegal(IllegalTransition {
                    from: TaskState::parse(&state).map_or("unknown", |s| s.as_str()),
                    action: "create",
                }));
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
                "UPDATE tasks SET unit = ?1, unit_level = ?2, county = ?3, state = ?4,
                   notified_at = NULL, acknowledged_at = NULL, on_site_at = NULL,
                   ack_due = ?5, on_site_due = ?6, verdict_due = ?7,
                   escalations = '', escalated_at = NULL, updated_at = ?8
                 WHERE id = ?9",
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
            let from = task_unit_label(&task);
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
                    format!("reassigned to {}", task_unit_label(&task)),
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
            let task = state_move(
                tx,
                id,
                Action::Cancel,
                "UPDATE tasks SET state = ?1, cancelled_at = ?2, updated_at = ?2 WHERE id = ?3",
                reason,
                who,
                now,
            )?;
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
                    "INSERT INTO returned_verdicts (id, task_id, verdict, reported_at, received_at,
                       lat, lon, distance_m, note, photo_sha256, photo_dhash, photo_path,
                       photo_bytes, exif_time, exif_lat, exif_lon, flags, review, actor,
                       returned_at, returned_by, return_reason)
                     SELECT id, task_id, verdict, reported_at, received_at, lat, lon, distance_m,
                       note, photo_sha256, photo_dhash, photo_path, photo_bytes, exif_time,
                       exif_lat, exif_lon, flags, review, actor, ?2, ?3, ?4
                     FROM verdicts WHERE task_id = ?1",
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
            // Re-inspection means going on site again: the on-site and verdict deadlines run
            // from now by the policy (as for a task made now; it stays acknowledged), the old
            // arrival is cleared (it is in the audit log), and those two deadlines may be
            // escalated again.
            let [_, (_, on_site_due), (_, verdict_due)] =
                due_times(now, rules.policy.deadlines(task.priority));
            let escalations: Vec<&str> = task
                .escalations
                .iter()
                .map(String::as_str)
                .filter(|e| *e != "verdict" && *e != "on_site")
                .collect();
            tx.execute(
                "UPDATE tasks SET state = ?1, verified_at = NULL, verdict = NULL,
                   on_site_at = NULL, on_site_due = ?2, verdict_due = ?3, escalations = ?4,
                   updated_at = ?5
                 WHERE id = ?6",
                params![
                    to.as_str(),
                    ts(on_site_due),
                    ts(verdict_due),
                    escalations.join(","),
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
        self.write(|tx| {
            state_move(
                tx,
                id,
                Action::Reopen,
                "UPDATE tasks SET state = ?1, closed_at = NULL, updated_at = ?2 WHERE id = ?3",
                reason,
                who,
                now,
            )
        })
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

fn task_unit_label(t: &StoredTask) -> String {
    format!("{} {}", t.unit_level, t.unit)
}
