//! The verification task and its state machine.
//!
//! new → notified → acknowledged → on_site → verified(verdict) → closed. A task may be acknowledged
//! before its notification is confirmed delivered (the patrol heard by phone), and a verdict may
//! come straight after acknowledgement (the patrol reports on arrival). Escalation is not a state:
//! a missed deadline escalates a task in whatever state it is, and the task goes on.
//!
//! The command center's own moves (#17): an open task may be *cancelled* (with a reason; final)
//! or *reassigned* to another township (it starts again at `new`, to be told and acknowledged
//! there); reviewing a verdict, the county may *send it back* for re-verification (verified →
//! acknowledged: the patrol reports again) or *reopen* a closed task (closed → verified, back
//! under review). Every other move is refused, and the API answers it with 409.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    New,
    Notified,
    Acknowledged,
    OnSite,
    Verified,
    Closed,
    /// Cancelled by the command center (a reason is audited); final.
    Cancelled,
}

impl TaskState {
    /// Every state, in the order of the loop.
    pub const ALL: [TaskState; 7] = [
        TaskState::New,
        TaskState::Notified,
        TaskState::Acknowledged,
        TaskState::OnSite,
        TaskState::Verified,
        TaskState::Closed,
        TaskState::Cancelled,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::Notified => "notified",
            TaskState::Acknowledged => "acknowledged",
            TaskState::OnSite => "on_site",
            TaskState::Verified => "verified",
            TaskState::Closed => "closed",
            TaskState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TaskState> {
        Some(match s {
            "new" => TaskState::New,
            "notified" => TaskState::Notified,
            "acknowledged" => TaskState::Acknowledged,
            "on_site" => TaskState::OnSite,
            "verified" => TaskState::Verified,
            "closed" => TaskState::Closed,
            "cancelled" => TaskState::Cancelled,
            _ => return None,
        })
    }

    /// True while the patrol still owes something.
    pub fn is_open(&self) -> bool {
        !matches!(
            self,
            TaskState::Verified | TaskState::Closed | TaskState::Cancelled
        )
    }
}

/// The patrol's finding on site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Fire burning on arrival.
    Burning,
    /// A fresh burn scar: it burned, it is out.
    BurnedScar,
    /// No fire: an industrial heat source (feeds the mask).
    NoFireIndustrial,
    /// No fire, other cause.
    NoFireOther,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Burning => "burning",
            Verdict::BurnedScar => "burned_scar",
            Verdict::NoFireIndustrial => "no_fire_industrial",
            Verdict::NoFireOther => "no_fire_other",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Some(match s {
            "burning" => Verdict::Burning,
            "burned_scar" => Verdict::BurnedScar,
            "no_fire_industrial" => Verdict::NoFireIndustrial,
            "no_fire_other" => Verdict::NoFireOther,
            _ => return None,
        })
    }

    /// A burning was confirmed (counts against the county).
    pub fn is_burning(&self) -> bool {
        matches!(self, Verdict::Burning | Verdict::BurnedScar)
    }
}

/// What someone asks to do with a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The notification was delivered.
    Notify,
    Acknowledge,
    ArriveOnSite,
    Verify(Verdict),
    Close,
    /// The command center cancels an open task.
    Cancel,
    /// The command center gives an open task to another township: it starts again at `new`.
    Reassign,
    /// A verdict under review goes back to the patrol for re-verification.
    SendBack,
    /// A closed task goes back under review.
    Reopen,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Notify => "notify",
            Action::Acknowledge => "acknowledge",
            Action::ArriveOnSite => "on_site",
            Action::Verify(_) => "verdict",
            Action::Close => "close",
            Action::Cancel => "cancel",
            Action::Reassign => "reassign",
            Action::SendBack => "send_back",
            Action::Reopen => "reopen",
        }
    }
}

/// A refused transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("task is {from}: cannot {action}")]
pub struct IllegalTransition {
    pub from: &'static str,
    pub action: &'static str,
}

/// The state after `action`, or the refusal.
pub fn transition(from: TaskState, action: Action) -> Result<TaskState, IllegalTransition> {
    use TaskState::*;
    let to = match (from, action) {
        (New, Action::Notify) => Notified,
        // A repeated delivery confirmation changes nothing.
        (Notified, Action::Notify) => Notified,
        (New | Notified, Action::Acknowledge) => Acknowledged,
        (Acknowledged, Action::ArriveOnSite) => OnSite,
        (Acknowledged | OnSite, Action::Verify(_)) => Verified,
        (Verified, Action::Close) => Closed,
        (New | Notified | Acknowledged | OnSite, Action::Cancel) => Cancelled,
        (New | Notified | Acknowledged | OnSite, Action::Reassign) => New,
        (Verified, Action::SendBack) => Acknowledged,
        (Closed, Action::Reopen) => Verified,
        _ => {
            return Err(IllegalTransition {
                from: from.as_str(),
                action: action.name(),
            })
        }
    };
    Ok(to)
}

/// The timestamps a task collects on its way; deadlines are measured from `created_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones {
    pub created_at: Option<DateTime<Utc>>,
    pub notified_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub on_site_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Milestones {
    /// Records the time of the state just entered.
    pub fn record(&mut self, state: TaskState, at: DateTime<Utc>) {
        let slot = match state {
            TaskState::New => &mut self.created_at,
            TaskState::Notified => &mut self.notified_at,
            TaskState::Acknowledged => &mut self.acknowledged_at,
            TaskState::OnSite => &mut self.on_site_at,
            TaskState::Verified => &mut self.verified_at,
            TaskState::Closed => &mut self.closed_at,
            TaskState::Cancelled => &mut self.cancelled_at,
        };
        slot.get_or_insert(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_loop() {
        let mut s = TaskState::New;
        for a in [
            Action::Notify,
            Action::Acknowledge,
            Action::ArriveOnSite,
            Action::Verify(Verdict::Burning),
            Action::Close,
        ] {
            s = transition(s, a).unwrap();
        }
        assert_eq!(s, TaskState::Closed);
    }

    #[test]
    fn illegal_moves_are_refused() {
        assert!(transition(TaskState::New, Action::Verify(Verdict::Burning)).is_err());
        assert!(transition(TaskState::Closed, Action::Acknowledge).is_err());
        assert!(transition(TaskState::Verified, Action::Verify(Verdict::NoFireOther)).is_err());
        let e = transition(TaskState::New, Action::ArriveOnSite).unwrap_err();
        assert_eq!(e.to_string(), "task is new: cannot on_site");
    }

    #[test]
    fn names_round_trip() {
        for s in [
            "new",
            "notified",
            "acknowledged",
            "on_site",
            "verified",
            "closed",
            "cancelled",
        ] {
            assert_eq!(TaskState::parse(s).unwrap().as_str(), s);
        }
        assert!(TaskState::ALL
            .iter()
            .all(|s| TaskState::parse(s.as_str()) == Some(*s)));
        for v in [
            "burning",
            "burned_scar",
            "no_fire_industrial",
            "no_fire_other",
        ] {
            assert_eq!(Verdict::parse(v).unwrap().as_str(), v);
        }
    }

    #[test]
    fn open_tasks_may_be_cancelled_or_reassigned_and_nothing_else() {
        use TaskState::*;
        for s in TaskState::ALL {
            let open = s.is_open();
            assert_eq!(
                transition(s, Action::Cancel).ok(),
                open.then_some(Cancelled),
                "cancel from {s:?}"
            );
            assert_eq!(
                transition(s, Action::Reassign).ok(),
                open.then_some(New),
                "reassign from {s:?}"
            );
        }
        assert!(!Cancelled.is_open());
        // Cancelled is final: no move leaves it.
        for a in [
            Action::Notify,
            Action::Acknowledge,
            Action::ArriveOnSite,
            Action::Verify(Verdict::Burning),
            Action::Close,
            Action::Cancel,
            Action::Reassign,
            Action::SendBack,
            Action::Reopen,
        ] {
            assert!(transition(Cancelled, a).is_err(), "{a:?} from cancelled");
        }
        let e = transition(Closed, Action::Cancel).unwrap_err();
        assert_eq!(e.to_string(), "task is closed: cannot cancel");
    }

    #[test]
    fn a_verdict_under_review_is_sent_back_closed_or_reopened() {
        use TaskState::*;
        // Sent back: the patrol reports again.
        let s = transition(Verified, Action::SendBack).unwrap();
        assert_eq!(s, Acknowledged);
        assert_eq!(
            transition(s, Action::Verify(Verdict::NoFireOther)).unwrap(),
            Verified
        );
        // Closed, reopened, closed again.
        let s = transition(Verified, Action::Close).unwrap();
        let s = transition(s, Action::Reopen).unwrap();
        assert_eq!(s, Verified);
        assert_eq!(transition(s, Action::Close).unwrap(), Closed);
        // Only a verdict goes back, only a closed task reopens.
        for s in [New, Notified, Acknowledged, OnSite, Closed, Cancelled] {
            assert!(transition(s, Action::SendBack).is_err(), "send back {s:?}");
        }
        for s in [New, Notified, Acknowledged, OnSite, Verified, Cancelled] {
            assert!(transition(s, Action::Reopen).is_err(), "reopen {s:?}");
        }
    }

    #[test]
    fn milestones_keep_the_first_time() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2024, 6, 8, 5, 0, 0).unwrap();
        let mut m = Milestones::default();
        m.record(TaskState::Notified, t);
        m.record(TaskState::Notified, t + chrono::Duration::minutes(5));
        assert_eq!(m.notified_at, Some(t));
    }
}
