//! A batch's dispatch on PostgreSQL in a fixed number of statements, whatever its size: the
//! tasks it creates with their `create` audit rows, the open tasks it tells their event was
//! seen again, and every notice of the two. The steps are the shared ones SQLite runs event
//! by event (`task_steps::apply_dispatch`, `insert_task`: seven round trips per new task,
//! which made a batch of fresh fires cost ≈ 7 × its size in round trips, BENCHMARKS.md
//! "PostgreSQL batched"); here each is one statement over the batch, with the same rows:
//!
//! 1. the new tasks' ids taken from their sequence in event order (as one insert each would
//!    number them) and the counties that had a task this season, one query. A county's first
//!    task of the batch is its first of the season when the county had none; its later ones
//!    are not (the earlier one, created `now`, counts as `insert_task`'s query would see it);
//! 2. the tasks and their audit rows, one statement (the audit insert and the tasks' as a
//!    data-modifying `WITH`; the ids are known, so neither waits for the other's rows);
//! 3. the open tasks seen again touched (`updated_at`), one statement;
//! 4. every task a notice is about read back with its event's facts and its round, one query
//!    (what `load_task`, `NOTICE_EVENT_SQL` and `ROUND_SQL` read for each);
//! 5. the notices, in event order, one insert (`ON CONFLICT (key) DO NOTHING`, as `enqueue`).
//!
//! Locks: only the rows of the tasks touched in 3 (the ingest's other writes are new rows),
//! taken under the ingest lock as before; every other writer that waits on task rows locks
//! one task, or claims tasks `SKIP LOCKED`, so the order among a batch's tasks cannot make a
//! cycle with them.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use postgres::types::ToSql;

use super::store::{from_ts, ts};
use super::tx::shared_row;
use super::{pg_err, PgTx};
use crate::dispatch::TaskRules;
use crate::fuse::FireEvent;
use crate::notify::{Notice, NoticeKind};
use crate::store::error::StoreError;
use crate::store::shared::task_steps::{
    new_task_of, read_task, season_start, seen_again, task_new_detail, DispatchStep, TASK_COLUMNS,
};
use crate::store::shared::{plan_new_task, priority_str, task_notice, Dispatched};
use crate::store::tasks::{Actor, StoredTask};

/// A saved event of the batch and what dispatch does with it.
pub(super) struct Saved<'a> {
    pub(super) event: &'a FireEvent,
    pub(super) id: i64,
    pub(super) step: DispatchStep,
}

/// What becomes of one saved event, in the batch's order.
enum Step {
    /// Nothing to write (no task, or a task not told).
    Done(Dispatched),
    /// The open task `task` is told its event was seen again.
    Tell { task: i64 },
    /// Task `task` is created, with this notice detail.
    Create { task: i64, detail: String },
}

/// Carries out the dispatch `steps` of a batch's saved events (their task reasons already
/// written with them): what each came to, in their order.
pub(super) fn dispatch_batch(
    tx: &mut PgTx<'_>,
    saved: &[Saved<'_>],
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<Vec<Dispatched>, StoreError> {
    let at = ts(now);
    let creates: Vec<usize> = (0..saved.len())
        .filter(|&i| matches!(saved[i].step, DispatchStep::Create { .. }))
        .collect();
    let (ids, recent) = task_ids_and_season(tx, saved, &creates, rules, now)?;
    let mut steps: Vec<Step> = Vec::with_capacity(saved.len());
    let mut new = NewTasks::default();
    let mut counted: HashSet<String> = recent;
    // A task created now counts for the county's later ones when `now` is inside the season
    // window (always, unless `season_gap_days` is 0 or less).
    let batch_counts = at > season_start(rules, now);
    let mut ids = ids.into_iter();
    for s in saved {
        let step = match &s.step {
            DispatchStep::NoTask(reason) => Step::Done(Dispatched::NoTask(reason)),
            DispatchStep::HasTask(None) => Step::Done(Dispatched::HasTask),
            DispatchStep::HasTask(Some(task)) => Step::Tell { task: *task },
            DispatchStep::Create {
                unit,
                level,
                sensitive,
            } => {
                let (target, facts) = new_task_of(s.event, unit.clone(), level, *sensitive);
                let first_of_season = match &target.county {
                    Some(c) => {
                        let first = !counted.contains(c);
                        if batch_counts {
                            counted.insert(c.clone());
                        }
                        first
                    }
                    None => false,
                };
                let (p, [ack, on_site, verdict], detail) = plan_new_task(
                    s.id,
                    &facts,
                    first_of_season,
                    rules,
                    now,
                    serde_json::json!({}),
                );
                let task = ids.next().expect("an id per new task");
                new.id.push(task);
                new.event.push(s.id);
                new.unit.push(target.unit);
                new.level.push(target.level);
                new.county.push(target.county);
                new.priority.push(priority_str(p));
                new.ack_due.push(ts(ack));
                new.on_site_due.push(ts(on_site));
                new.verdict_due.push(ts(verdict));
                new.audit.push(detail.to_string());
                Step::Create {
                    task,
                    detail: task_new_detail(p),
                }
            }
        };
        steps.push(step);
    }
    if !new.id.is_empty() {
        let who = Actor::system();
        tx.execute_cached(
            "WITH t AS (
               INSERT INTO tasks (id, event_id, unit, unit_level, county, state, priority,
                 created_at, ack_due, on_site_due, verdict_due, updated_at)
               SELECT id, event_id, unit, unit_level, county, 'new', priority, $1, ack_due,
                 on_site_due, verdict_due, $1
               FROM UNNEST($2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::int8[], $9::int8[], $10::int8[])
                 AS u(id, event_id, unit, unit_level, county, priority, ack_due, on_site_due,
                   verdict_due)
             )
             INSERT INTO audit (at, actor, role, entity, entity_id, action, from_state,
               to_state, detail)
             SELECT $1, $11, $12, 'task', id, 'create', NULL, 'new', detail
             FROM UNNEST($2::int8[], $13::text[]) AS a(id, detail)",
            &[
                &at,
                &new.id,
                &new.event,
                &new.unit,
                &new.level,
                &new.county,
                &new.priority,
                &new.ack_due,
                &new.on_site_due,
                &new.verdict_due,
                &who.id,
                &who.role,
                &new.audit,
            ],
        )
        .map_err(pg_err("insert tasks"))?;
    }
    let told: Vec<i64> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Tell { task } => Some(*task),
            _ => None,
        })
        .collect();
    if !told.is_empty() {
        tx.execute_cached(
            "UPDATE tasks SET updated_at = $1 WHERE id = ANY($2)",
            &[&at, &told],
        )
        .map_err(pg_err("touch tasks"))?;
    }

    // The notices, in the batch's order.
    let mut about: Vec<i64> = told;
    about.extend(&new.id);
    let facts = notice_facts(tx, &about)?;
    let mut notices = Vec::new();
    let mut out = Vec::with_capacity(saved.len());
    for (s, step) in saved.iter().zip(steps) {
        let (task, kind, detail, dispatched) = match step {
            Step::Done(d) => {
                out.push(d);
                continue;
            }
            Step::Tell { task } => {
                let (kind, detail) = seen_again(s.event);
                (task, kind, detail, Dispatched::HasTask)
            }
            Step::Create { task, detail } => {
                (task, NoticeKind::TaskNew, detail, Dispatched::Created)
            }
        };
        let f = facts.get(&task).ok_or_else(|| StoreError::BadValue {
            table: "tasks",
            column: "id",
            value: format!("task {task} of event {} not found", s.id),
        })?;
        notices.push(f.notice(kind, detail));
        out.push(dispatched);
    }
    enqueue_all(tx, &notices, at)?;
    Ok(out)
}

/// The new tasks as columns, to be sent as arrays.
#[derive(Default)]
struct NewTasks {
    id: Vec<i64>,
    event: Vec<i64>,
    unit: Vec<String>,
    level: Vec<String>,
    county: Vec<Option<String>>,
    priority: Vec<&'static str>,
    ack_due: Vec<i64>,
    on_site_due: Vec<i64>,
    verdict_due: Vec<i64>,
    audit: Vec<String>,
}

/// Ids for the new tasks `creates` (indexes into `saved`), ascending, and the counties of
/// theirs that had a task created since the season start; one query.
fn task_ids_and_season(
    tx: &mut PgTx<'_>,
    saved: &[Saved<'_>],
    creates: &[usize],
    rules: &TaskRules,
    now: DateTime<Utc>,
) -> Result<(Vec<i64>, HashSet<String>), StoreError> {
    if creates.is_empty() {
        return Ok((Vec::new(), HashSet::new()));
    }
    let counties: Vec<&str> = creates
        .iter()
        .filter_map(|&i| saved[i].event.placement.county.as_deref())
        .collect();
    let row = tx
        .query_one_cached(
            "SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('tasks', 'id'))
                          FROM generate_series(1, $1::int8)),
                    ARRAY(SELECT DISTINCT county FROM tasks
                          WHERE county = ANY($2) AND created_at > $3)",
            &[
                &(creates.len() as i64),
                &counties,
                &season_start(rules, now),
            ],
        )
        .map_err(pg_err("take task ids"))?;
    let mut ids: Vec<i64> = row.get(0);
    // In the order the tasks are made, as one insert each would number them.
    ids.sort_unstable();
    let recent: Vec<String> = row.get(1);
    Ok((ids, recent.into_iter().collect()))
}

/// What a notice about a task carries besides the change: the task as stored and its event's
/// facts and round.
struct NoticeFacts {
    task: StoredTask,
    seen: (DateTime<Utc>, DateTime<Utc>),
    max_frp_mw: Option<f64>,
    confidence: f64,
    round: u32,
}

impl NoticeFacts {
    fn notice(&self, kind: NoticeKind, detail: String) -> Notice {
        task_notice(
            &self.task,
            kind,
            self.task.unit.clone(),
            detail,
            self.seen,
            self.max_frp_mw,
            self.confidence,
            self.round,
        )
    }
}

/// The tasks `ids` with what their notices carry, by id; one query.
fn notice_facts(tx: &mut PgTx<'_>, ids: &[i64]) -> Result<HashMap<i64, NoticeFacts>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // The round as `ROUND_SQL` counts it.
    let sql = format!(
        "SELECT {TASK_COLUMNS}, e.first_seen, e.last_seen, e.max_frp_mw, e.confidence,
           (SELECT COUNT(*) FROM audit a WHERE a.entity = 'task' AND a.entity_id = t.id
              AND a.action IN ('reassign', 'send_back'))
         FROM tasks t JOIN events e ON e.id = t.event_id
         LEFT JOIN verdicts v ON v.task_id = t.id
         WHERE t.id = ANY($1)"
    );
    let rows = tx
        .query_cached(&sql, &[&ids])
        .map_err(pg_err("read tasks of notices"))?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        let task = read_task(&shared_row(r, "read tasks of notices"))?;
        let get = |e: postgres::Error| pg_err("read tasks of notices")(e);
        let first: i64 = r.try_get(24).map_err(get)?;
        let last: i64 = r.try_get(25).map_err(get)?;
        let round: i64 = r.try_get(28).map_err(get)?;
        out.insert(
            task.id,
            NoticeFacts {
                seen: (from_ts(first), from_ts(last)),
                max_frp_mw: r.try_get(26).map_err(get)?,
                confidence: r.try_get(27).map_err(get)?,
                round: round as u32,
                task,
            },
        );
    }
    Ok(out)
}

/// Inserts `notices` into the outbox in their order, each key once (as `outbox::enqueue`).
fn enqueue_all(tx: &mut PgTx<'_>, notices: &[Notice], now: i64) -> Result<(), StoreError> {
    if notices.is_empty() {
        return Ok(());
    }
    let key: Vec<String> = notices.iter().map(Notice::key).collect();
    let task: Vec<i64> = notices.iter().map(|n| n.task_id).collect();
    let unit: Vec<&str> = notices.iter().map(|n| n.unit.as_str()).collect();
    let county: Vec<Option<&str>> = notices.iter().map(|n| n.county.as_deref()).collect();
    let kind: Vec<&str> = notices.iter().map(|n| n.kind.name()).collect();
    let json: Vec<String> = notices
        .iter()
        .map(|n| serde_json::to_string(n).expect("a notice serialises"))
        .collect();
    let params: [&(dyn ToSql + Sync); 7] = [&now, &key, &task, &unit, &county, &kind, &json];
    tx.execute_cached(
        "INSERT INTO outbox (key, task_id, unit, county, kind, notice, created_at)
         SELECT key, task_id, unit, county, kind, notice, $1
         FROM UNNEST($2::text[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[])
           AS u(key, task_id, unit, county, kind, notice)
         ON CONFLICT (key) DO NOTHING",
        &params,
    )
    .map_err(pg_err("enqueue notices"))?;
    Ok(())
}
