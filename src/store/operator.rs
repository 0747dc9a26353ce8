//! The command center's own moves on tasks (#17): a task made by hand for an event the rules
//! gave none, a task given to another township, a task cancelled, and the review of a verdict
//! (sent back for re-verification, or a closed task reopened). Each is one transaction with its
//! audit row, which carries the operator's reason; the legality of each move is the state
//! machine's (`dispatch::task`), the scope (which county may act where) the API's.

use chrono::{DateTime, Utc};

use super::tasks::{Actor, StoredTask, TaskError, TaskTarget};
use crate::dispatch::TaskRules;

/// The `action` of the [`crate::dispatch::IllegalTransition`] a backend refuses a task's
/// reassignment to the unit that holds it with (whatever the state: the API answers it with 422
/// `same_unit`, not the state machine's 409).
pub const REASSIGN_SAME_UNIT: &str = "reassign to its own unit";

/// The operator's moves. Synchronous like [`super::Store`].
pub trait OperatorStore {
    /// A `new` task for an event that has none, to `target`, audited with `reason` and the
    /// reason dispatch had for giving it none. An event that has a task is refused (409).
    fn create_task_for(
        &self,
        event_id: i64,
        target: &TaskTarget,
        reason: &str,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError>;

    /// An open task to another unit: it starts again at `new` with deadlines from `now`, and
    /// the new unit is told (a `task_new` notice to it, of a new round, so a unit that held the
    /// task before is told again). Notices still waiting about the task are superseded, and
    /// the old unit, if it was told of the task, is told it was taken (`cancelled` with
    /// `reassigned_to`).
    fn reassign_task(
        &self,
        id: i64,
        target: &TaskTarget,
        reason: &str,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError>;

    /// An open task cancelled (final). Notices still waiting about it are superseded (never
    /// sent); the unit, if it was told of the task, gets a `cancelled` notice with the reason.
    fn cancel_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError>;

    /// A verified task's verdict sent back for re-verification: the verdict row moves to
    /// `returned_verdicts` (kept whole, photo included), the task is `acknowledged` again, its
    /// arrival cleared, with new on-site and verdict deadlines from `now` by the policy; the
    /// unit is told (a `sent_back` notice with both deadlines).
    fn send_back_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        rules: &TaskRules,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError>;

    /// A closed task back under review (`verified`).
    fn reopen_task(
        &self,
        id: i64,
        reason: &str,
        who: &Actor,
        now: DateTime<Utc>,
    ) -> Result<StoredTask, TaskError>;
}
