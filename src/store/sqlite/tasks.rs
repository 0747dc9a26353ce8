//! `TaskStore` on SQLite: each call is one write of the writer (`writer.rs`: grouped with
//! others, answered after the commit) or a read on a pooled reader, around the task family's
//! transactions in `store::shared::task_steps` (the same code PostgreSQL runs). Task creation
//! runs inside the ingest transaction (`store::ingest_tx` calls `task_steps::on_event_saved`).
//! Nothing is locked here: the one writer holds the database.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::SqliteStore;
use crate::dispatch::{Deadline, TaskRules};
use crate::fuse::{FuseParams, Placer};
use crate::store::error::StoreError;
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::model::{IngestBatch, IngestReport, Scope};
use crate::store::shared::idempotency;
use crate::store::shared::task_steps::{self as steps, into_store};
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskQuery, TaskStore, VerdictOutcome,
};

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
        self.read(|mut c| steps::query_tasks(&mut c, q, f))
    }

    fn change_task_as(
        &self,
        id: i64,
        change: TaskChange,
        who: &Actor,
        now: DateTime<Utc>,
        acted: &Acted,
    ) -> Result<StoredTask, TaskError> {
        self.write(|mut tx| steps::change_task(&mut tx, id, change, who, now, acted))
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
        self.write(|mut tx| steps::record_verdict(&mut tx, id, v, who, rules, now, key))
    }

    fn escalate_due(&self, now: DateTime<Utc>) -> Result<Vec<(i64, Deadline)>, StoreError> {
        self.write(|mut tx| steps::escalate_due(&mut tx, now))
            .map_err(into_store)
    }

    fn verdict_of(&self, task_id: i64) -> Result<Option<StoredVerdict>, StoreError> {
        self.read(|mut c| steps::read_verdict(&mut c, task_id))
    }

    fn idempotency_key(&self, actor: &str, key: &str) -> Result<Option<StoredKey>, StoreError> {
        self.read(|mut c| idempotency::find(&mut c, actor, key))
    }

    fn idempotent_answer(
        &self,
        actor: &str,
        key: &str,
        status: u16,
        body: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.writer
            .write(|mut tx| idempotency::answer(&mut tx, actor, key, status, body))
    }

    fn prune_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.writer
            .write(|mut tx| idempotency::prune(&mut tx, before))
    }

    fn verdicts_by(
        &self,
        actor: &str,
        limit: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, StoreError> {
        self.read(|mut c| steps::verdicts_by(&mut c, actor, limit))
    }

    fn photo_refs(&self, sha256: &str) -> Result<u64, StoreError> {
        self.read(|mut c| steps::photo_refs(&mut c, sha256))
    }

    fn audit_page(
        &self,
        entity: &str,
        id: i64,
        after_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|mut c| steps::audit_page(&mut c, entity, id, after_id, limit))
    }

    fn mask_candidates_page(
        &self,
        status: Option<&str>,
        before_id: Option<i64>,
        limit: usize,
    ) -> Result<Vec<MaskCandidate>, StoreError> {
        self.read(|mut c| steps::load_candidates(&mut c, status, None, before_id, limit))
    }

    fn decide_candidate(
        &self,
        id: i64,
        confirm: bool,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<MaskCandidate, TaskError> {
        self.write(|mut tx| steps::decide_candidate(&mut tx, id, confirm, who, now))
    }

    fn precision(&self, scope: &Scope) -> Result<Vec<SourcePrecision>, StoreError> {
        self.read(|mut c| steps::precision(&mut c, scope))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::rules::TOO_OLD;
    use crate::dispatch::{Priority, TaskState};
    use crate::fuse::{NoPlacer, Placement};
    use crate::hotspot::Hotspot;
    use crate::store::error::SqlContext;
    use crate::store::{EventQuery, Origin, Store};
    use chrono::Duration;
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
