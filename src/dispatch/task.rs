//! The verification task and its state machine.
//!
//! new → notified → acknowledged → on_site → verified(verdict) → closed. A task may be acknowledged
//! before its notification is confirmed delivered (the patrol heard by phone), and a verdict may
//! come straight after acknowledgement (the patrol reports on arrival). Escalation is not a state:
//! a missed deadline escalates a task in whatever state it is, and the task goes on. Every other
//! move is refused, and the API answers it with 409.

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
}

impl TaskState {
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::Notified => "notified",
            TaskState::Acknowledged => "acknowledged",
            TaskState::OnSite => "on_site",
            TaskState::Verified => "verified",
            TaskState::Closed => "closed",
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
            _ => return None,
        })
    }

    /// True while the patrol still owes something.
    pub fn is_open(&self) -> bool {
        !matches!(self, TaskState::Verified | TaskState::Closed)
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
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Notify => "notify",
            Action::Acknowledge => "acknowledge",
            Action::ArriveOnSite => "on_site",
            Action::Verify(_) => "verdict",
            Action::Close => "close",
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
        ] {
            assert_eq!(TaskState::parse(s).unwrap().as_str(), s);
        }
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
    fn milestones_keep_the_first_time() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2024, 6, 8, 5, 0, 0).unwrap();
        let mut m = Milestones::default();
        m.record(TaskState::Notified, t);
        m.record(TaskState::Notified, t + chrono::Duration::minutes(5));
        assert_eq!(m.notified_at, Some(t));
    }
}
