//! Every change to a task goes through here: acknowledgement, arrival, verdict (with its photo
//! saved first), close, the escalation sweep, and mask candidates decided by an admin. One file
//! on purpose, so live updates (or anything else that must see each change) hook in once.
//!
//! Time is the service's [`crate::dispatch::Clock`]; store calls run on `spawn_blocking`.
//! Photos are content-addressed (`photos/<ab>/<sha256>.<ext>` under the data directory) and
//! written whole (temp file, fsync, rename) before the verdict row that names them; when the
//! row is refused, a photo file no other verdict uses is removed again, so nothing is left
//! half-written.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{LiveUpdate, Service, ServiceError, UnitTag};
use crate::dispatch::{transition, Action, Deadline, TaskRules, Verdict};
use crate::store::idempotency::{IdempotencyKey, StoredKey};
use crate::store::tasks::{
    Acted, Actor, AuditEntry, MaskCandidate, NewVerdict, SourcePrecision, StoredTask,
    StoredVerdict, TaskChange, TaskError, TaskQuery, VerdictOutcome,
};
use crate::store::{Scope, Store, StoreError};
use crate::verify::{fingerprint, ConfirmedMasks, ConfirmedSite, PhotoError};

/// Why a task request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskFailure {
    /// Unknown task, refused transition, or a store failure.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The photo is not a JPEG or PNG image.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for TaskFailure {
    fn from(e: StoreError) -> Self {
        TaskFailure::Task(TaskError::Store(e))
    }
}

/// A verdict as the patrol sends it.
#[derive(Debug, Clone)]
pub struct VerdictForm {
    pub verdict: Verdict,
    pub lon: f64,
    pub lat: f64,
    /// When the patrol made it; default: now by the service clock.
    pub time: Option<DateTime<Utc>>,
    /// `time` came as `acted_at` (the offline queue's name for it), for errors naming it.
    pub acted_at: bool,
    pub note: Option<String>,
    pub photo: Vec<u8>,
}

/// The confirmed sites stored so far (a failure is logged: the service still starts, and the
/// confirmed sites are missing until the next confirmation). Called once, at construction.
pub(super) fn load_confirmed_masks(store: &dyn Store) -> Arc<ConfirmedMasks> {
    let masks = Arc::new(ConfirmedMasks::default());
    match store.mask_candidates(Some("confirmed")) {
        Ok(list) => list.into_iter().for_each(|c| masks.add(site(&c))),
        Err(e) => tracing::error!("cannot load confirmed masks: {e}"),
    }
    masks
}

/// `masks` as the store holds them now: every node calls it before it locates a batch, so a
/// site confirmed on another node (API node or worker of one PostgreSQL store) masks here from
/// the next batch on. One small query (confirmed sites number in the tens); when it fails the
/// sites known so far stay and a warning is logged (the batch's own writes will tell the
/// store's trouble).
pub(super) fn refresh_confirmed_masks(store: &dyn Store, masks: &ConfirmedMasks) {
    match store.mask_candidates(Some("confirmed")) {
        Ok(list) => masks.replace(list.iter().map(site).collect()),
        Err(e) => tracing::warn!("cannot read confirmed masks, keeping the last known: {e}"),
    }
}

fn site(c: &MaskCandidate) -> ConfirmedSite {
    ConfirmedSite {
        candidate_id: c.id,
        lon: c.lon,
        lat: c.lat,
        radius_m: c.radius_m,
        reason: c.reason.clone(),
    }
}

impl Service {
    /// The dispatch and evidence rules in force.
    pub fn task_rules(&self) -> &TaskRules {
        &self.inner.rules
    }

    /// Confirmed false-alarm sites in force.
    pub fn confirmed_masks(&self) -> &Arc<ConfirmedMasks> {
        &self.inner.masks
    }

    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Store) -> Result<T, TaskError> + Send + 'static,
    ) -> Result<T, TaskFailure> {
        let store = self.inner.store.clone();
        let out = tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?;
        match &out {
            Err(TaskError::Store(e)) => {
                self.metrics().error("store");
                if let Some(cause) = e.storage_cause() {
                    self.storage().failed(&cause);
                }
            }
            // Every caller writes: a success shows the storage takes writes again.
            Ok(_) => self.storage().wrote(),
            Err(_) => {}
        }
        Ok(out?)
    }

    pub async fn tasks(&self, q: TaskQuery) -> Result<Vec<StoredTask>, ServiceError> {
        self.store(move |s| s.tasks(&q)).await
    }

    /// One task, unscoped (the caller checks the role against it).
    pub async fn task(&self, id: i64) -> Result<Option<StoredTask>, ServiceError> {
        self.store(move |s| {
            Ok(s.tasks(&TaskQuery {
                id: Some(id),
                ..TaskQuery::default()
            })?
            .into_iter()
            .next())
        })
        .await
    }

    pub async fn verdict_of(&self, task_id: i64) -> Result<Option<StoredVerdict>, ServiceError> {
        self.store(move |s| s.verdict_of(task_id)).await
    }

    pub async fn audit(&self, entity: &str, id: i64) -> Result<Vec<AuditEntry>, ServiceError> {
        let entity = entity.to_string();
        self.store(move |s| s.audit(&entity, id)).await
    }

    /// Acknowledge, arrive on site, close (or record a delivered notification).
    pub async fn change_task(
        &self,
        id: i64,
        change: TaskChange,
        who: Actor,
    ) -> Result<StoredTask, TaskFailure> {
        self.change_task_as(id, change, who, Acted::default()).await
    }

    /// [`Service::change_task`] for an action made at `acted.at` under the client's key
    /// (`TaskStore::change_task_as`); check the time first with [`Service::check_acted_at`].
    pub async fn change_task_as(
        &self,
        id: i64,
        change: TaskChange,
        who: Actor,
        acted: Acted,
    ) -> Result<StoredTask, TaskFailure> {
        let now = self.clock().now();
        let task = self
            .blocking(move |s| s.change_task_as(id, change, &who, now, &acted))
            .await?;
        self.publish_task(&task);
        Ok(task)
    }

    /// `Ok` when `at`, the moment a patrol says it acted on `task` (maybe offline, sent
    /// later), is believable: not ahead of the service clock by more than `[ingest]
    /// max_future_skew_min`. An early time is not refused: the evidence checks flag a verdict
    /// made before the patrol knew of the task (`before_notified`) for review.
    pub fn check_acted_at(&self, _task: &StoredTask, at: DateTime<Utc>) -> Result<(), String> {
        self.check_time(at)
    }

    /// A claimed idempotency key of a token, with its stored answer.
    pub async fn idempotency_key(
        &self,
        actor: String,
        key: String,
    ) -> Result<Option<StoredKey>, ServiceError> {
        self.store(move |s| s.idempotency_key(&actor, &key)).await
    }

    /// Keeps the answer sent for a claimed key, for its replays. A failure is logged: a replay
    /// then gets the task as it is now instead.
    pub async fn keep_idempotent_answer(
        &self,
        actor: String,
        key: String,
        status: u16,
        body: serde_json::Value,
    ) {
        if let Err(e) = self
            .store(move |s| s.idempotent_answer(&actor, &key, status, &body))
            .await
        {
            tracing::warn!("cannot keep the answer of an idempotency key: {e}");
        }
    }

    /// The verdicts a token filed, newest first, with their tasks.
    pub async fn verdicts_by(
        &self,
        actor: String,
        limit: usize,
    ) -> Result<Vec<(StoredTask, StoredVerdict)>, ServiceError> {
        self.store(move |s| s.verdicts_by(&actor, limit)).await
    }

    /// Tells open dashboards and patrol pages (of the task's units) that a task changed.
    pub(super) fn publish_task(&self, task: &StoredTask) {
        self.live().publish(LiveUpdate::Task {
            id: task.id,
            state: task.state.as_str().to_string(),
            units: UnitTag::of_task(task.county.as_deref(), &task.unit, &task.unit_level),
        });
    }

    /// Records a verdict: checks the task's state, fingerprints the photo (refusing what is not
    /// a JPEG or PNG image), stores the photo file, then the verdict in one transaction.
    pub async fn submit_verdict(
        &self,
        id: i64,
        form: VerdictForm,
        who: Actor,
    ) -> Result<VerdictOutcome, TaskFailure> {
        self.submit_verdict_as(id, form, who, None).await
    }

    /// [`Service::submit_verdict`] claiming the client's idempotency key with the verdict.
    pub async fn submit_verdict_as(
        &self,
        id: i64,
        form: VerdictForm,
        who: Actor,
        key: Option<IdempotencyKey>,
    ) -> Result<VerdictOutcome, TaskFailure> {
        // Refuse early, before any file is written, when the task cannot take a verdict now
        // (the transaction checks again).
        let task = self
            .task(id)
            .await?
            .ok_or(TaskError::NotFound { what: "task", id })?;
        transition(task.state, Action::Verify(form.verdict)).map_err(TaskError::from)?;

        let now = self.clock().now();
        let data_dir = self.data_dir().to_path_buf();
        let VerdictForm {
            verdict,
            lon,
            lat,
            time,
            note,
            photo,
            ..
        } = form;
        let saved = tokio::task::spawn_blocking(move || save_photo(&data_dir, &photo))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?
            .map_err(|e| match e {
                TaskFailure::Service(s) => TaskFailure::Service(self.storage().note(s)),
                other => other,
            })?;
        let v = NewVerdict {
            verdict,
            reported_at: time.unwrap_or(now),
            lon,
            lat,
            note,
            photo: saved.print.clone(),
            photo_path: saved.rel.clone(),
            photo_bytes: saved.bytes,
        };
        let rules = self.inner.rules.clone();
        let out = self
            .blocking(move |s| s.record_verdict_as(id, &v, &who, &rules, now, key.as_ref()))
            .await;
        if out.is_err() && saved.created {
            // Keep the file only if a verdict (a concurrent one with the same bytes) uses it.
            let sha = saved.print.sha256.clone();
            let refs = self.store(move |s| s.photo_refs(&sha)).await.unwrap_or(1);
            if refs == 0 {
                let _ = tokio::fs::remove_file(&saved.abs).await;
            }
        }
        if let Ok(o) = &out {
            self.publish_task(&o.task);
            self.live().publish(LiveUpdate::Verdict {
                task_id: o.task.id,
                units: UnitTag::of_task(o.task.county.as_deref(), &o.task.unit, &o.task.unit_level),
            });
        }
        out
    }

    /// Escalates the deadlines missed by now (the background loop calls this every
    /// `dispatch.escalation_interval_s`; tests call it after moving the clock).
    pub async fn escalate_due(&self) -> Result<Vec<(i64, Deadline)>, ServiceError> {
        let now = self.clock().now();
        let done = self.store(move |s| s.escalate_due(now)).await?;
        self.prune_keys(now).await;
        for (task, deadline) in &done {
            tracing::info!(
                "task {task}: {} deadline missed, escalated",
                deadline.as_str()
            );
        }
        // Open pages hear of it like any other change of the task (the command center's panel
        // shows the escalation instead of acting on what it showed before).
        if self.live().has_listeners() {
            let mut ids: Vec<i64> = done.iter().map(|(id, _)| *id).collect();
            ids.dedup();
            for id in ids {
                if let Some(t) = self.task(id).await? {
                    self.publish_task(&t);
                }
            }
        }
        Ok(done)
    }

    pub async fn mask_candidates(
        &self,
        status: Option<String>,
    ) -> Result<Vec<MaskCandidate>, ServiceError> {
        self.store(move |s| s.mask_candidates(status.as_deref()))
            .await
    }

    /// Confirms (the site masks later detections from now on) or rejects a candidate.
    pub async fn decide_mask_candidate(
        &self,
        id: i64,
        confirm: bool,
        who: Actor,
    ) -> Result<MaskCandidate, TaskFailure> {
        let now = self.clock().now();
        let c = self
            .blocking(move |s| s.decide_candidate(id, confirm, &who, now))
            .await?;
        if confirm {
            self.inner.masks.add(site(&c));
        }
        Ok(c)
    }

    pub async fn precision(&self, scope: Scope) -> Result<Vec<SourcePrecision>, ServiceError> {
        self.store(move |s| s.precision(&scope)).await
    }
}

/// A photo stored under the data directory.
struct SavedPhoto {
    print: crate::verify::PhotoPrint,
    /// Relative to the data directory.
    rel: String,
    abs: PathBuf,
    bytes: u64,
    /// This call wrote the file (it was not there before).
    created: bool,
}

fn save_photo(data_dir: &std::path::Path, bytes: &[u8]) -> Result<SavedPhoto, TaskFailure> {
    let ext = match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => "jpg",
        Ok(image::ImageFormat::Png) => "png",
        Ok(f) => {
            return Err(PhotoError::NotAnImage(format!(
                "{f:?} is not accepted; send a JPEG or PNG photo"
            ))
            .into())
        }
        Err(e) => return Err(PhotoError::NotAnImage(e.to_string()).into()),
    };
    let print = fingerprint(bytes)?;
    let rel = format!("photos/{}/{}.{ext}", &print.sha256[..2], print.sha256);
    let abs = data_dir.join(&rel);
    let io = |path: PathBuf| move |source| ServiceError::Io { path, source };
    let created = !abs.exists();
    if created {
        let dir = abs.parent().expect("photo path has a folder").to_path_buf();
        std::fs::create_dir_all(&dir).map_err(io(dir.clone()))?;
        // A temp name of its own: two requests with the same photo at once (a retry racing
        // the first send) would otherwise write and rename one temp file between them.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{}.{}-{n}.tmp", print.sha256, std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
        crate::atomic::finish(&tmp, &abs, written).map_err(|e| match e {
            Ok(msg) => ServiceError::Io {
                path: abs.clone(),
                source: std::io::Error::other(msg),
            },
            Err(source) => ServiceError::Io {
                path: tmp.clone(),
                source,
            },
        })?;
    }
    Ok(SavedPhoto {
        print,
        rel,
        abs,
        bytes: bytes.len() as u64,
        created,
    })
}

impl Service {
    /// Removes the idempotency keys past `dispatch.idempotency_retention_days`, at most once an
    /// hour of the service clock (the `DELETE` reads the whole key table, while the sweep runs
    /// every few seconds; several nodes pruning alike is harmless). A failure is logged and
    /// tried again at the next sweep: the escalations are what the sweep is for.
    async fn prune_keys(&self, now: DateTime<Utc>) {
        {
            let mut last = self
                .inner
                .keys_pruned_at
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if !prune_due(*last, now) {
                return;
            }
            *last = Some(now);
        }
        let before = now - self.task_rules().idempotency_retention;
        match self.store(move |s| s.prune_idempotency_keys(before)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("{n} idempotency keys older than {before} removed"),
            Err(e) => {
                tracing::warn!("cannot remove old idempotency keys: {e}");
                *self
                    .inner
                    .keys_pruned_at
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = None;
            }
        }
    }
}

/// Whether the keys are due for pruning at `now`, last pruned at `last`: never yet, an hour
/// on, or the clock went back.
fn prune_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last.is_none_or(|l| now < l || now - l >= chrono::Duration::hours(1))
}

/// Runs the escalation sweep every `every` (real time) until shutdown. Deadlines are compared
/// with the service clock, so a test that moves a `ManualClock` sees escalation at the next tick
/// (or calls [`Service::escalate_due`] itself).
pub async fn escalation_loop(
    service: Service,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = service.escalate_due().await {
                    tracing::error!("escalation sweep: {e}");
                }
            }
            // The guard `wait_for` returns is not Send: drop it inside.
            _ = async { let _ = stop.wait_for(|s| *s).await; } => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn keys_are_pruned_at_the_first_sweep_then_hourly() {
        let t = Utc.with_ymd_and_hms(2026, 6, 8, 5, 0, 0).unwrap();
        let m = chrono::Duration::minutes;
        assert!(prune_due(None, t));
        assert!(!prune_due(Some(t), t + m(59)));
        assert!(prune_due(Some(t), t + m(60)));
        // A clock set back does not hold the pruning off for the time it went back.
        assert!(prune_due(Some(t), t - m(1)));
    }
}
