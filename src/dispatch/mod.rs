//! Dispatch: one verification task per fire event, to the township that owns it, with a clock.
//!
//! The pure parts live here: the task state machine (`task.rs`), priority and deadlines
//! (`policy.rs`), and the clock abstraction (`clock.rs`) that lets tests move time. Persistence,
//! notifications and the API call into them.

pub mod clock;
pub mod policy;
pub mod rules;
pub mod task;

pub use clock::{Clock, ManualClock, SystemClock};
pub use policy::{missed, priority, Deadline, Deadlines, Policy, Priority, PriorityFacts};
pub use rules::{Assignment, TaskRules};
pub use task::{transition, Action, IllegalTransition, Milestones, TaskState, Verdict};
