//! [`JobStore`] on PostgreSQL: the `jobs` table (migration 3). A claim is one statement, an
//! `UPDATE` of the row a `SELECT ... FOR UPDATE SKIP LOCKED` picked: two workers claiming at
//! once never wait for each other and never get the same row; it commits at once, so what a
//! worker holds is the lease (`lease_until`, the server's clock), not a lock. Every later change
//! of the row names the claim (`worker`, `attempts`): a worker whose lease passed and was taken
//! over changes nothing any more.
//!
//! Times are the server's (`now()`), so workers on machines whose clocks disagree still agree
//! on who holds a lease.

use std::time::Duration;

use super::{pg_err, PgStore};
use crate::store::error::StoreError;
use crate::store::jobs::*;

/// Migration 3: the jobs table and the live log (`live.rs`).
pub(super) const MIGRATION: &str = "
    CREATE TABLE jobs (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('scene', 'feed', 'sweep')),
        key TEXT NOT NULL UNIQUE,
        payload JSONB NOT NULL,
        state TEXT NOT NULL DEFAULT 'queued'
            CHECK (state IN ('queued', 'running', 'done', 'failed')),
        due_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        lease_until TIMESTAMPTZ,
        worker TEXT,
        attempts BIGINT NOT NULL DEFAULT 0,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ,
        result JSONB,
        error TEXT
    );
    CREATE INDEX jobs_claimable ON jobs (due_at, id) WHERE state IN ('queued', 'running');
    CREATE TABLE live_updates (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL DEFAULT now(),
        body JSONB NOT NULL
    );
    CREATE INDEX live_updates_at ON live_updates (at);
";

/// Migration 4: the kind of a failed job's failure beside its message (`FailureKind`), so the
/// API answers a worker's failure as a node's own (400 bad input, 422 unreadable, 503 unavailable).
pub(super) const FAILURE_MIGRATION: &str = "
    ALTER TABLE jobs ADD COLUMN failure TEXT
        CHECK (failure IN ('bad_input', 'unreadable', 'unavailable'));
";

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

fn parse_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

fn state_of(s: &str) -> Result<JobState, StoreError> {
    JobState::parse(s).ok_or_else(|| StoreError::BadValue {
        table: "jobs",
        column: "state",
        value: s.to_string(),
    })
}

impl JobStore for PgStore {
    fn enqueue(
        &self,
        kind: JobKind,
        key: &str,
        payload: &serde_json::Value,
    ) -> Result<(i64, JobState), StoreError> {
        let body = json_text(payload);
        self.write(|tx| {
            // New, or a failed one given another chance; a queued, running or done job stays.
            let row = tx
                .query_opt(
                    "INSERT INTO jobs (kind, key, payload) VALUES ($1, $2, $3::text::jsonb)
                     ON CONFLICT (key) DO UPDATE SET state = 'queued', payload = EXCLUDED.payload,
                       attempts = 0, due_at = now(), error = NULL, failure = NULL,
                       lease_until = NULL
                     WHERE jobs.state = 'failed'
                     RETURNING id, state",
                    &[&kind.as_str(), &key, &body],
                )
                .map_err(pg_err("enqueue a job"))?;
            let row = match row {
                Some(r) => r,
                None => tx
                    .query_one("SELECT id, state FROM jobs WHERE key = $1", &[&key])
                    .map_err(pg_err("find a job"))?,
            };
            Ok((row.get(0), state_of(row.get(1))?))
        })
    }

    fn ensure_periodic(
        &self,
        kind: JobKind,
        key: &str,
        payload: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let body = json_text(payload);
        self.write(|tx| {
            tx.execute(
                "INSERT INTO jobs (kind, key, payload) VALUES ($1, $2, $3::text::jsonb)
                 ON CONFLICT (key) DO NOTHING",
                &[&kind.as_str(), &key, &body],
            )
            .map_err(pg_err("add a periodic job"))?;
            Ok(())
        })
    }

    fn claim(
        &self,
        worker: &str,
        kinds: &[JobKind],
        keys: &[String],
        lease: Duration,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let row = self.write(|tx| {
            tx.query_opt(
                "WITH c AS (
                   SELECT id FROM jobs
                   WHERE ((state = 'queued' AND due_at <= now())
                          OR (state = 'running' AND lease_until < now()))
                     AND (kind = ANY($1) OR key = ANY($2))
                   ORDER BY due_at, id
                   LIMIT 1
                   FOR UPDATE SKIP LOCKED)
                 UPDATE jobs j SET state = 'running', worker = $3, attempts = j.attempts + 1,
                   lease_until = now() + make_interval(secs => $4), started_at = now()
                 FROM c WHERE j.id = c.id
                 RETURNING j.id, j.kind, j.key, j.payload::text, j.attempts, j.error",
                &[&kinds, &keys, &worker, &secs(lease)],
            )
            .map_err(pg_err("claim a job"))
        })?;
        let Some(r) = row else {
            return Ok(None);
        };
        let kind: &str = r.get(1);
        Ok(Some(ClaimedJob {
            id: r.get(0),
            kind: JobKind::parse(kind).ok_or_else(|| StoreError::BadValue {
                table: "jobs",
                column: "kind",
                value: kind.to_string(),
            })?,
            key: r.get(2),
            payload: parse_json(r.get(3)),
            attempt: r.get::<_, i64>(4) as u32,
            worker: worker.to_string(),
            last_error: r.get(5),
        }))
    }

    fn heartbeat(&self, job: &ClaimedJob, lease: Duration) -> Result<bool, StoreError> {
        let n = self.write(|tx| {
            tx.execute(
                "UPDATE jobs SET lease_until = now() + make_interval(secs => $4)
                 WHERE id = $1 AND worker = $2 AND attempts = $3 AND state = 'running'",
                &[&job.id, &job.worker, &i64::from(job.attempt), &secs(lease)],
            )
            .map_err(pg_err("renew a job's lease"))
        })?;
        Ok(n == 1)
    }

    fn finish(&self, job: &ClaimedJob, outcome: &JobOutcome) -> Result<bool, StoreError> {
        let (id, worker, attempt) = (job.id, job.worker.as_str(), i64::from(job.attempt));
        let mine = "WHERE id = $1 AND worker = $2 AND attempts = $3 AND state = 'running'";
        let n = self.write(|tx| {
            match outcome {
                JobOutcome::Done(result) => tx.execute(
                    &format!(
                        "UPDATE jobs SET state = 'done', result = $4::text::jsonb, error = NULL,
                           failure = NULL, lease_until = NULL, finished_at = now() {mine}"
                    ),
                    &[&id, &worker, &attempt, &json_text(result)],
                ),
                JobOutcome::Failed { kind, error } => tx.execute(
                    &format!(
                        "UPDATE jobs SET state = 'failed', error = $4, failure = $5,
                           lease_until = NULL, finished_at = now() {mine}"
                    ),
                    &[&id, &worker, &attempt, error, &kind.as_str()],
                ),
                JobOutcome::Retry { error, after } => tx.execute(
                    &format!(
                        "UPDATE jobs SET state = 'queued', error = $4, lease_until = NULL,
                           due_at = now() + make_interval(secs => $5) {mine}"
                    ),
                    &[&id, &worker, &attempt, error, &secs(*after)],
                ),
                JobOutcome::Again { after, payload } => tx.execute(
                    &format!(
                        "UPDATE jobs SET state = 'queued', error = NULL, lease_until = NULL,
                           attempts = 0, payload = $4::text::jsonb, finished_at = now(),
                           due_at = now() + make_interval(secs => $5) {mine}"
                    ),
                    &[&id, &worker, &attempt, &json_text(payload), &secs(*after)],
                ),
            }
            .map_err(pg_err("finish a job"))
        })?;
        Ok(n == 1)
    }

    fn job(&self, id: i64) -> Result<Option<JobRow>, StoreError> {
        Ok(self.jobs(&[id])?.pop())
    }

    fn jobs(&self, ids: &[i64]) -> Result<Vec<JobRow>, StoreError> {
        let rows = self.read(|c| {
            c.query(
                "SELECT id, kind, key, state, attempts, worker, payload::text, result::text, error,
                   failure
                 FROM jobs WHERE id = ANY($1) ORDER BY id",
                &[&ids],
            )
            .map_err(pg_err("read jobs"))
        })?;
        rows.iter()
            .map(|r| {
                Ok(JobRow {
                    id: r.get(0),
                    kind: r.get(1),
                    key: r.get(2),
                    state: state_of(r.get(3))?,
                    attempts: r.get::<_, i64>(4) as u32,
                    worker: r.get(5),
                    payload: parse_json(r.get(6)),
                    result: r.get::<_, Option<&str>>(7).map(parse_json),
                    error: r.get(8),
                    failure: r.get::<_, Option<&str>>(9).and_then(FailureKind::parse),
                })
            })
            .collect()
    }

    fn job_counts(&self) -> Result<JobCounts, StoreError> {
        let rows = self.read(|c| {
            c.query("SELECT state, COUNT(*) FROM jobs GROUP BY state", &[])
                .map_err(pg_err("count jobs"))
        })?;
        let mut counts = JobCounts::default();
        for r in rows {
            let n = r.get::<_, i64>(1) as u64;
            match state_of(r.get(0))? {
                JobState::Queued => counts.queued = n,
                JobState::Running => counts.running = n,
                JobState::Done => counts.done = n,
                JobState::Failed => counts.failed = n,
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::LiveLog;
    use serde_json::json;

    const LEASE: Duration = Duration::from_secs(60);

    fn failed(kind: FailureKind, error: &str) -> JobOutcome {
        JobOutcome::Failed {
            kind,
            error: error.into(),
        }
    }

    #[test]
    fn a_job_is_claimed_once_and_a_passed_lease_goes_to_the_next_worker() {
        let Some(t) = super::super::testing::store("jobs_claim_lease") else {
            return;
        };
        let s = &t.store;
        let (id, state) = s
            .enqueue(JobKind::Scene, "scene:abc", &json!({"name": "a.tif"}))
            .unwrap();
        assert_eq!(state, JobState::Queued);
        // The same bytes queued again (another node, a restart): the same job.
        assert_eq!(
            s.enqueue(JobKind::Scene, "scene:abc", &json!({})).unwrap(),
            (id, JobState::Queued)
        );
        let a = s
            .claim("a", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .unwrap();
        assert_eq!((a.id, a.attempt), (id, 1));
        assert_eq!(a.payload["name"], "a.tif");
        // Held: nobody else gets it, whatever they ask for.
        assert!(s
            .claim("b", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .is_none());
        assert!(s.heartbeat(&a, LEASE).unwrap());
        // Worker a dies: its lease passes (here: made to pass), b claims it.
        s.execute_for_test("UPDATE jobs SET lease_until = now() - interval '1 second'");
        let b = s
            .claim("b", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .unwrap();
        assert_eq!((b.id, b.attempt), (id, 2));
        // a comes back to life: its heartbeat and outcome change nothing.
        assert!(!s.heartbeat(&a, LEASE).unwrap());
        assert!(!s
            .finish(&a, &failed(FailureKind::Unavailable, "stale"))
            .unwrap());
        assert!(s.finish(&b, &JobOutcome::Done(json!({"n": 1}))).unwrap());
        let row = s.job(id).unwrap().unwrap();
        assert_eq!(row.state, JobState::Done);
        assert_eq!(row.worker.as_deref(), Some("b"));
        assert_eq!(row.result, Some(json!({"n": 1})));
        assert!(s
            .claim("c", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .is_none());
        // Done stays done; failed is queued again when the file comes again.
        assert_eq!(
            s.enqueue(JobKind::Scene, "scene:abc", &json!({})).unwrap(),
            (id, JobState::Done)
        );
        let (id2, _) = s.enqueue(JobKind::Scene, "scene:def", &json!({})).unwrap();
        let c = s
            .claim("c", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .unwrap();
        assert!(s
            .finish(&c, &failed(FailureKind::Unreadable, "not a scene"))
            .unwrap());
        let row = s.job(id2).unwrap().unwrap();
        assert_eq!(
            (row.error.as_deref(), row.failure),
            (Some("not a scene"), Some(FailureKind::Unreadable))
        );
        assert_eq!(
            s.enqueue(JobKind::Scene, "scene:def", &json!({"again": true}))
                .unwrap(),
            (id2, JobState::Queued)
        );
        assert_eq!(s.job(id2).unwrap().unwrap().failure, None);
        // A claim sees the reason the attempt before it gave for trying again.
        let d = s
            .claim("d", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .unwrap();
        assert_eq!((d.id, d.last_error.as_deref()), (id2, None));
        let retry = JobOutcome::Retry {
            error: "a.tif is not reachable from this worker".into(),
            after: Duration::ZERO,
        };
        assert!(s.finish(&d, &retry).unwrap());
        let e = s
            .claim("e", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .unwrap();
        assert_eq!(
            (e.attempt, e.last_error.as_deref()),
            (2, Some("a.tif is not reachable from this worker"))
        );
        assert!(s.finish(&e, &retry).unwrap());
        let counts = s.job_counts().unwrap();
        assert_eq!((counts.queued, counts.done), (1, 1));
    }

    #[test]
    fn concurrent_claims_never_share_a_job() {
        let Some(t) = super::super::testing::store("jobs_concurrent") else {
            return;
        };
        let s = std::sync::Arc::new(t);
        for i in 0..40 {
            s.store
                .enqueue(JobKind::Scene, &format!("scene:{i}"), &json!({}))
                .unwrap();
        }
        let got: Vec<i64> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..4)
                .map(|w| {
                    let s = s.clone();
                    sc.spawn(move || {
                        let mut mine = Vec::new();
                        while let Some(j) = s
                            .store
                            .claim(&format!("w{w}"), &[JobKind::Scene], &[], LEASE)
                            .unwrap()
                        {
                            mine.push(j.id);
                        }
                        mine
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = got.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((got.len(), sorted.len()), (40, 40));
    }

    #[test]
    fn a_periodic_job_comes_back_after_its_interval_with_its_state() {
        let Some(t) = super::super::testing::store("jobs_periodic") else {
            return;
        };
        let s = &t.store;
        let keys = vec![ESCALATION_KEY.to_string()];
        s.ensure_periodic(JobKind::Sweep, ESCALATION_KEY, &json!({}))
            .unwrap();
        s.ensure_periodic(JobKind::Sweep, ESCALATION_KEY, &json!({"x": 1}))
            .unwrap();
        // Scene claimers do not take it; a claimer of its key does.
        assert!(s
            .claim("a", &[JobKind::Scene], &[], LEASE)
            .unwrap()
            .is_none());
        let j = s.claim("a", &[], &keys, LEASE).unwrap().unwrap();
        assert_eq!(j.payload, json!({}));
        let again = JobOutcome::Again {
            after: Duration::from_secs(3600),
            payload: json!({"last": 5}),
        };
        assert!(s.finish(&j, &again).unwrap());
        assert!(
            s.claim("b", &[], &keys, LEASE).unwrap().is_none(),
            "not due"
        );
        s.execute_for_test("UPDATE jobs SET due_at = now()");
        let j = s.claim("b", &[], &keys, LEASE).unwrap().unwrap();
        assert_eq!((j.payload.clone(), j.attempt), (json!({"last": 5}), 1));
    }

    #[test]
    fn the_live_log_hands_out_rows_in_order_and_wakes_listeners() {
        let Some(t) = super::super::testing::store("live_log") else {
            return;
        };
        let s = &t.store;
        assert_eq!(s.live_head().unwrap(), 0);
        let mut l = s.listen_live().unwrap();
        let a = s.append_live(&json!({"update": 1})).unwrap();
        assert!(l.wait(Duration::from_secs(10)).unwrap());
        let b = s.append_live(&json!({"update": 2})).unwrap();
        assert!(b > a);
        assert_eq!(s.live_head().unwrap(), b);
        assert_eq!(
            s.live_after(0, 10).unwrap(),
            vec![(a, json!({"update": 1})), (b, json!({"update": 2}))]
        );
        assert_eq!(s.live_after(a, 10).unwrap().len(), 1);
        assert!(l.wait(Duration::from_secs(10)).unwrap());
        assert!(
            !l.wait(Duration::from_millis(50)).unwrap(),
            "woken once per wait"
        );
    }
}
