//! Which fire events get a task, and whose it is. Pure: the store asks this inside the ingest
//! transaction, so an event and its task are committed together.
//!
//! The rules of issue #5: a task for an event on farmland (it has a parcel) or on unknown land (no
//! parcel layer is loaded), not masked; to the township that contains it, or the county when no
//! township is known. A mask whose reason is a *sensitive area* (airport, expressway, burn-ban
//! zone, ...) does not suppress the task: a fire there matters more, so it raises the priority.
//! Industrial sites, power plants and confirmed false-alarm sites suppress it.
//!
//! An event whose newest detection is older than `max_age` at ingest gets no task either
//! ([`TOO_OLD`]): an archive or a backfilled season is stored and ranked but must never page a
//! township today. The reason an event got no task is stored with it (`events.task_reason`).
//!
//! Two choices are the deployment's (#17): what happens to a fire off every parcel while a parcel
//! layer is loaded (`[dispatch] off_parcel`: `skip`, the default, or `dispatch` — a county whose
//! parcel layer is incomplete must not lose fires on unmapped fields), and a combined confidence
//! below which no task is made (`[dispatch] min_confidence`, 0 by default: every fire is
//! verified). Whatever the rules skip, the command center can still dispatch by hand.

use chrono::{DateTime, Duration, Utc};

use crate::config::Config;
use crate::fuse::Placement;
use crate::verify::EvidenceConfig;

use super::policy::Policy;

/// The `task_reason` of an event too old at ingest to be dispatched.
pub const TOO_OLD: &str = "too_old";

/// Every reason an event may have no task, as stored in `events.task_reason` (the API's
/// `task=` filter and the catalogues' `task_reason.*` keys list the same).
pub const REASONS: [&str; 5] = [
    TOO_OLD,
    "masked",
    "not_on_farmland",
    "outside_units",
    "low_confidence",
];

/// What becomes of a fire off every parcel while a parcel layer is loaded (`[dispatch] off_parcel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OffParcel {
    /// No task (`task_reason = not_on_farmland`): only farmland fires are straw burning.
    #[default]
    Skip,
    /// A task like any other: the parcel layer is not trusted to be complete.
    Dispatch,
}

/// Everything dispatch decides from, taken from the config once.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRules {
    pub policy: Policy,
    /// Lower-case mask reasons that mean "sensitive area".
    pub sensitive_mask_reasons: Vec<String>,
    /// Quiet days after which a county's next task is the first of a season.
    pub season_gap_days: i64,
    /// Radius of a mask made from verdicts, and of "one place" for repeated verdicts, m.
    pub mask_radius_m: f64,
    /// `no_fire_other` verdicts at one place that propose a mask.
    pub no_fire_other_repeats: usize,
    pub evidence: EvidenceConfig,
    /// Events whose newest detection is older than this at ingest get no task.
    pub max_age: Duration,
    pub off_parcel: OffParcel,
    /// Events whose combined confidence (0–1) is below this get no task.
    pub min_confidence: f64,
    /// How long an idempotency key of a patrol's write is kept.
    pub idempotency_retention: Duration,
}

impl Default for TaskRules {
    fn default() -> Self {
        TaskRules::from_config(&Config::default())
    }
}

impl TaskRules {
    pub fn from_config(c: &Config) -> TaskRules {
        let d = &c.dispatch;
        TaskRules {
            policy: d.policy(),
            sensitive_mask_reasons: d
                .sensitive_mask_reasons
                .iter()
                .map(|r| r.trim().to_lowercase())
                .collect(),
            season_gap_days: d.season_gap_days,
            mask_radius_m: d.mask_radius_m,
            no_fire_other_repeats: d.no_fire_other_repeats,
            evidence: c.verify.clone(),
            max_age: Duration::milliseconds((d.max_age_h * 3_600_000.0) as i64),
            off_parcel: d.off_parcel,
            min_confidence: d.min_confidence,
            idempotency_retention: Duration::days(d.idempotency_retention_days),
        }
    }

    /// True when an event last seen at `last_seen` is too old at `now` to be dispatched.
    pub fn is_too_old(&self, last_seen: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        now - last_seen > self.max_age
    }

    /// True when a mask label (`reason: name (d m)`) names a sensitive area.
    pub fn is_sensitive(&self, mask_label: &str) -> bool {
        let reason = mask_label
            .split_once(':')
            .map_or(mask_label, |(r, _)| r)
            .trim()
            .to_lowercase();
        self.sensitive_mask_reasons.contains(&reason)
    }

    /// Whether an event placed at `pl` with combined confidence `confidence` (0–1) gets a task,
    /// and whose.
    pub fn assign(&self, pl: &Placement, parcel_layer_loaded: bool, confidence: f64) -> Assignment {
        let sensitive = pl.mask.as_deref().is_some_and(|m| self.is_sensitive(m));
        if pl.mask.is_some() && !sensitive {
            return Assignment::Skip("masked");
        }
        // Outside every loaded unit is said before "not on farmland": such a fire is off every
        // parcel too, but the operator's question is whose it is, and nobody's is the answer.
        let (unit, level) = match (&pl.township, &pl.county) {
            (Some(t), _) => (t, "township"),
            (None, Some(c)) => (c, "county"),
            (None, None) => return Assignment::Skip("outside_units"),
        };
        if parcel_layer_loaded && pl.parcel.is_none() && self.off_parcel == OffParcel::Skip {
            return Assignment::Skip("not_on_farmland");
        }
        if confidence < self.min_confidence {
            return Assignment::Skip("low_confidence");
        }
        Assignment::Task {
            unit: unit.clone(),
            level,
            sensitive,
        }
    }
}

/// The decision for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// A task for `unit` (`township` or `county` level).
    Task {
        unit: String,
        level: &'static str,
        /// Inside a sensitive-area mask: high priority.
        sensitive: bool,
    },
    /// No task, and why: `masked`, `not_on_farmland`, `outside_units`, `low_confidence` (stored
    /// as the event's `task_reason`, shown by the API and the dashboard).
    Skip(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(township: Option<&str>, parcel: Option<&str>, mask: Option<&str>) -> Placement {
        Placement {
            county: Some("410526".into()),
            township: township.map(Into::into),
            village: None,
            parcel: parcel.map(Into::into),
            mask: mask.map(Into::into),
        }
    }

    #[test]
    fn farmland_unmasked_events_go_to_their_township_or_county() {
        let r = TaskRules::default();
        assert_eq!(
            r.assign(&placed(Some("410526101"), Some("p1"), None), true, 0.5),
            Assignment::Task {
                unit: "410526101".into(),
                level: "township",
                sensitive: false
            }
        );
        // No township layer: the county.
        assert!(matches!(
            r.assign(&placed(None, None, None), false, 0.5),
            Assignment::Task {
                level: "county",
                ..
            }
        ));
        // A parcel layer is loaded but the event is not on a parcel.
        assert_eq!(
            r.assign(&placed(Some("410526101"), None, None), true, 0.5),
            Assignment::Skip("not_on_farmland")
        );
        assert_eq!(
            r.assign(&Placement::default(), false, 0.5),
            Assignment::Skip("outside_units")
        );
        // Outside every unit while a parcel layer is loaded: off every parcel too, but the
        // reason is that it is nobody's (the events list showed 不在耕地上).
        assert_eq!(
            r.assign(&Placement::default(), true, 0.5),
            Assignment::Skip("outside_units")
        );
    }

    #[test]
    fn off_parcel_fires_are_a_policy_choice_and_weak_ones_may_wait() {
        let mut r = TaskRules::default();
        assert_eq!(r.off_parcel, OffParcel::Skip);
        let off = placed(Some("410526101"), None, None);
        assert_eq!(
            r.assign(&off, true, 0.9),
            Assignment::Skip("not_on_farmland")
        );
        r.off_parcel = OffParcel::Dispatch;
        assert!(matches!(
            r.assign(&off, true, 0.9),
            Assignment::Task {
                level: "township",
                ..
            }
        ));
        // Masks still suppress under `dispatch`.
        assert_eq!(
            r.assign(
                &placed(Some("410526101"), None, Some("power plant: 华电")),
                true,
                0.9
            ),
            Assignment::Skip("masked")
        );
        // Below the configured confidence: no task; at it: a task. 0 (the default) skips none.
        r.min_confidence = 0.5;
        assert_eq!(
            r.assign(&off, true, 0.49),
            Assignment::Skip("low_confidence")
        );
        assert!(matches!(r.assign(&off, true, 0.5), Assignment::Task { .. }));
        assert!(matches!(
            TaskRules::default().assign(&placed(Some("1"), Some("p"), None), true, 0.0),
            Assignment::Task { .. }
        ));
        for reason in [
            "masked",
            "not_on_farmland",
            "outside_units",
            "low_confidence",
        ] {
            assert!(REASONS.contains(&reason));
        }
    }

    #[test]
    fn an_event_is_too_old_past_max_age() {
        use chrono::TimeZone;
        let r = TaskRules::default();
        assert_eq!(r.max_age, Duration::hours(6));
        let now = Utc.with_ymd_and_hms(2026, 6, 8, 12, 0, 0).unwrap();
        assert!(!r.is_too_old(now - Duration::hours(6), now));
        assert!(r.is_too_old(now - Duration::hours(6) - Duration::seconds(1), now));
        // A time a little in the future (allowed clock skew) is fresh.
        assert!(!r.is_too_old(now + Duration::minutes(10), now));
    }

    #[test]
    fn industrial_masks_suppress_and_sensitive_ones_raise() {
        let r = TaskRules::default();
        assert_eq!(
            r.assign(
                &placed(Some("410526101"), None, Some("power plant: 华电 (120 m)")),
                false,
                0.5
            ),
            Assignment::Skip("masked")
        );
        assert_eq!(
            r.assign(
                &placed(Some("410526101"), None, Some("Airport: 新郑机场")),
                false,
                0.5
            ),
            Assignment::Task {
                unit: "410526101".into(),
                level: "township",
                sensitive: true
            }
        );
    }
}
