//! The command center's moves on tasks (#17) on SQLite: each one write of the writer around
//! `store::shared::operator`, where the moves are written once for both backends.

use chrono::{DateTime, Utc};

use super::SqliteStore;
use crate::dispatch::TaskRules;
use crate::store::operator::OperatorStore;
use crate::store::shared::operator as moves;
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
        self.write(|mut tx| {
            moves::create_task_for(&mut tx, event_id, target, reason, who, rules, now)
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
        self.write(|mut tx| moves::reassign_task(&mut tx, id, target, reason, who, rules, now))
    }

    fn cancel_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|mut tx| moves::cancel_task(&mut tx, id, reason, who, now))
    }

    fn send_back_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|mut tx| moves::send_back_task(&mut tx, id, reason, who, rules, now))
    }

    fn reopen_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError> {
        self.write(|mut tx| moves::reopen_task(&mut tx, id, reason, who, now))
    }
}
