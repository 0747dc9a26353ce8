//! The command center's moves on tasks (#17) on the service's clock, with live updates, and
//! what they need from the loaded layers: which unit a code names and its county. The photo
//! of a verdict is read here too (the review view shows it).

use super::tasks::TaskFailure;
use super::{Service, ServiceError};
use crate::locate::spec::Level;
use chrono::{DateTime, Utc};

use crate::dispatch::TaskRules;
use crate::store::tasks::{Actor, StoredTask, TaskError, TaskTarget};
use crate::store::Store;

/// A unit code the caller gave that cannot receive a task.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnknownUnit(pub String);

/// A verdict's photo: its bytes and media type.
#[derive(Debug, Clone)]
pub struct Photo {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub sha256: String,
}

impl Service {
    /// The township (or county) a code names, with its county: from the loaded township and
    /// county layers; without admin layers, from the code's shape (a 9-digit township code
    /// begins with its 6-digit county code, GB/T 2260 + 10114).
    pub fn task_target(&self, code: &str) -> Result<TaskTarget, UnknownUnit> {
        let layers = self.placer().admin_layers();
        if layers.is_empty() {
            return match code.len() {
                9 if code.bytes().all(|b| b.is_ascii_digit()) => Ok(TaskTarget {
                    unit: code.into(),
                    level: "township".into(),
                    county: Some(code[..6].into()),
                }),
                _ => Err(UnknownUnit(format!(
                    "{code} is not a township code (9 digits)"
                ))),
            };
        }
        for layer in layers {
            let Some(u) = layer.units.iter().find(|u| u.code == code) else {
                continue;
            };
            return match layer.level {
                Level::Township => Ok(TaskTarget {
                    unit: u.code.clone(),
                    level: "township".into(),
                    county: u.parent.clone(),
                }),
                Level::County => Ok(TaskTarget {
                    unit: u.code.clone(),
                    level: "county".into(),
                    county: Some(u.code.clone()),
                }),
                _ => Err(UnknownUnit(format!(
                    "{code} is a {} unit; tasks go to a township or a county",
                    layer.level.as_str()
                ))),
            };
        }
        Err(UnknownUnit(format!(
            "no township or county {code} in the loaded layers"
        )))
    }

    /// The name of a unit in the loaded admin layers, if they have it.
    pub fn unit_name(&self, code: &str) -> Option<String> {
        crate::notify::deliver::unit_name(self.placer().admin_layers(), code)
    }

    /// A task made by hand for an event without one.
    pub async fn create_task_for(
        &self,
        event_id: i64,
        target: TaskTarget,
        reason: String,
        who: Actor,
    ) -> Result<StoredTask, TaskFailure> {
        self.operator_move(move |s, rules, now| {
            s.create_task_for(event_id, &target, &reason, &who, rules, now)
        })
        .await
    }

    /// An open task to another unit.
    pub async fn reassign_task(
        &self,
        id: i64,
        target: TaskTarget,
        reason: String,
        who: Actor,
    ) -> Result<StoredTask, TaskFailure> {
        self.operator_move(move |s, rules, now| {
            s.reassign_task(id, &target, &reason, &who, rules, now)
        })
        .await
    }

    /// Cancel (open task), send back (verified) or reopen (closed).
    pub async fn review_task(
        &self,
        id: i64,
        action: OperatorAction,
        reason: String,
        who: Actor,
    ) -> Result<StoredTask, TaskFailure> {
        self.operator_move(move |s, rules, now| match action {
            OperatorAction::Cancel => s.cancel_task(id, &reason, &who, now),
            OperatorAction::SendBack => s.send_back_task(id, &reason, &who, rules, now),
            OperatorAction::Reopen => s.reopen_task(id, &reason, &who, now),
        })
        .await
    }

    /// One operator move in the store at the service clock's `now`, then told to live clients.
    /// Run once: on PostgreSQL every path that touches a task and its notices locks the task
    /// first (`store::shared::deliveries`), so a move cannot deadlock with the delivery worker.
    async fn operator_move(
        &self,
        f: impl FnOnce(&dyn Store, &TaskRules, DateTime<Utc>) -> Result<StoredTask, TaskError>
            + Send
            + 'static,
    ) -> Result<StoredTask, TaskFailure> {
        let now = self.clock().now();
        let rules = self.task_rules().clone();
        let task = self.blocking(move |s| f(s, &rules, now)).await?;
        self.publish_task(&task);
        Ok(task)
    }

    /// The photo of a task's verdict, read from the data directory.
    pub async fn verdict_photo(&self, task_id: i64) -> Result<Option<Photo>, ServiceError> {
        let Some(v) = self.verdict_of(task_id).await? else {
            return Ok(None);
        };
        let path = self.data_dir().join(&v.photo_path);
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?
            .map_err(|e| ServiceError::Task(format!("photo of task {task_id}: {e}")))?;
        let content_type = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
            "image/png"
        } else {
            "image/jpeg"
        };
        Ok(Some(Photo {
            bytes,
            content_type,
            sha256: v.photo_sha256,
        }))
    }
}

/// The command center's one-reason moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorAction {
    Cancel,
    SendBack,
    Reopen,
}
