//! Dispatch policy: a task's priority and its deadlines, and which deadlines a task has missed.
//! Pure functions of the task's facts and the configured policy; the service decides when to ask.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::task::Milestones;
use crate::hotspot::Confidence;

/// How urgently a task must be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal,
    High,
}

/// The facts a priority is decided from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorityFacts {
    pub confidence: Confidence,
    /// The event's largest FRP, MW.
    pub max_frp_mw: f64,
    /// Inside a sensitive-area mask (airport, expressway, ...).
    pub sensitive_area: bool,
    /// The first fire event of the season in its county.
    pub first_of_season: bool,
    /// Seen by two kinds of source (satellite and camera).
    pub corroborated: bool,
}

/// Deadlines, counted from the task's creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    pub acknowledge_min: i64,
    pub on_site_min: i64,
    pub verdict_min: i64,
}

/// The configured policy (the `[dispatch]` table of the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub normal: Deadlines,
    pub high: Deadlines,
    /// FRP at or above which a task is high priority, MW.
    pub high_frp_mw: f64,
}

impl Default for Policy {
    /// The practice reported from the provinces: acknowledge within 10 min, on site within
    /// 30 min, verdict within 2 h; half of that for high priority.
    fn default() -> Self {
        Policy {
            normal: Deadlines {
                acknowledge_min: 10,
                on_site_min: 30,
                verdict_min: 120,
            },
            high: Deadlines {
                acknowledge_min: 5,
                on_site_min: 20,
                verdict_min: 60,
            },
            high_frp_mw: 20.0,
        }
    }
}

impl Policy {
    pub fn deadlines(&self, p: Priority) -> Deadlines {
        match p {
            Priority::Normal => self.normal,
            Priority::High => self.high,
        }
    }
}

/// High when the fire is certain or big, or where it matters most: high confidence, FRP at or
/// above the policy's bound, a sensitive area, the first fire of the season in the county, or
/// satellite and camera agreeing. Normal otherwise (low confidence included: it is verified,
/// not ignored).
pub fn priority(f: &PriorityFacts, policy: &Policy) -> Priority {
    let certain = matches!(f.confidence, Confidence::High)
        || matches!(f.confidence, Confidence::Percent(p) if p >= 80);
    if certain
        || f.max_frp_mw >= policy.high_frp_mw
        || f.sensitive_area
        || f.first_of_season
        || f.corroborated
    {
        Priority::High
    } else {
        Priority::Normal
    }
}

/// A deadline of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    Acknowledge,
    OnSite,
    Verdict,
}

impl Deadline {
    pub fn as_str(&self) -> &'static str {
        match self {
            Deadline::Acknowledge => "acknowledge",
            Deadline::OnSite => "on_site",
            Deadline::Verdict => "verdict",
        }
    }
}

/// The time each deadline falls due.
pub fn due_times(created_at: DateTime<Utc>, d: Deadlines) -> [(Deadline, DateTime<Utc>); 3] {
    [
        (
            Deadline::Acknowledge,
            created_at + Duration::minutes(d.acknowledge_min),
        ),
        (
            Deadline::OnSite,
            created_at + Duration::minutes(d.on_site_min),
        ),
        (
            Deadline::Verdict,
            created_at + Duration::minutes(d.verdict_min),
        ),
    ]
}

/// The deadlines passed at `now` whose milestone was not reached in time (a milestone reached
/// late also counts as missed: it is what the ranking's "handled within deadline" measures).
pub fn missed(m: &Milestones, d: Deadlines, now: DateTime<Utc>) -> Vec<Deadline> {
    let Some(created) = m.created_at else {
        return Vec::new();
    };
    let reached = |dl: Deadline| match dl {
        // A later milestone implies the earlier ones.
        Deadline::Acknowledge => m.acknowledged_at.or(m.on_site_at).or(m.verified_at),
        Deadline::OnSite => m.on_site_at.or(m.verified_at),
        Deadline::Verdict => m.verified_at,
    };
    due_times(created, d)
        .into_iter()
        .filter(|&(dl, due)| match reached(dl) {
            Some(at) => at > due,
            None => now > due,
        })
        .map(|(dl, _)| dl)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> PriorityFacts {
        PriorityFacts {
            confidence: Confidence::Nominal,
            max_frp_mw: 3.0,
            sensitive_area: false,
            first_of_season: false,
            corroborated: false,
        }
    }

    #[test]
    fn priority_rules() {
        let p = Policy::default();
        assert_eq!(priority(&facts(), &p), Priority::Normal);
        for f in [
            PriorityFacts {
                confidence: Confidence::High,
                ..facts()
            },
            PriorityFacts {
                confidence: Confidence::Percent(85),
                ..facts()
            },
            PriorityFacts {
                max_frp_mw: 25.0,
                ..facts()
            },
            PriorityFacts {
                sensitive_area: true,
                ..facts()
            },
            PriorityFacts {
                first_of_season: true,
                ..facts()
            },
            PriorityFacts {
                corroborated: true,
                ..facts()
            },
        ] {
            assert_eq!(priority(&f, &p), Priority::High, "{f:?}");
        }
    }

    #[test]
    fn missed_deadlines_by_the_clock() {
        let t0 = Utc.with_ymd_and_hms(2024, 6, 8, 5, 0, 0).unwrap();
        let d = Policy::default().normal;
        let mut m = Milestones {
            created_at: Some(t0),
            ..Default::default()
        };
        assert!(missed(&m, d, t0 + Duration::minutes(9)).is_empty());
        assert_eq!(
            missed(&m, d, t0 + Duration::minutes(11)),
            vec![Deadline::Acknowledge]
        );
        m.acknowledged_at = Some(t0 + Duration::minutes(8));
        assert!(missed(&m, d, t0 + Duration::minutes(11)).is_empty());
        assert_eq!(
            missed(&m, d, t0 + Duration::minutes(31)),
            vec![Deadline::OnSite]
        );
        m.verified_at = Some(t0 + Duration::minutes(45));
        // On site never recorded but the verdict came at 45 min: on-site was late, verdict in time.
        assert_eq!(
            missed(&m, d, t0 + Duration::minutes(200)),
            vec![Deadline::OnSite]
        );
    }
}
