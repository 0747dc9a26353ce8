//! Fair ranking: a unit is only ranked as clean when the day's overpasses saw it.
//!
//! From each scene's coverage rows, a unit's clear share is the largest share of its land that
//! one overpass of the day saw clear of cloud. The union of several overpasses could be larger,
//! but per-scene counts cannot tell how their clear parts overlap, so the best single overpass is
//! the honest lower bound. Units seen less than `min_clear_share` are **not observed** (listed
//! after the ranked units, no rank). Units with no coverage row at all (a feed-only day: FIRMS
//! files carry no cloud mask; or scenes that did not reach the unit) are **coverage unknown**:
//! ranked, because their fire points are real, but flagged, because a zero there proves nothing.

use serde::Serialize;

use super::facts::CoverageFact;

/// How a unit's row may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Seen clear enough: its count is comparable.
    Ranked,
    /// Under cloud (or outside the day's scenes' valid land): not ranked.
    NotObserved,
    /// No cloud information for the day: ranked, flagged.
    CoverageUnknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ranked => "ranked",
            Status::NotObserved => "not_observed",
            Status::CoverageUnknown => "coverage_unknown",
        }
    }
}

/// The best single overpass's clear share of the unit's land, or `None` without coverage rows
/// (a row with no land counts as 0).
///
/// # Examples
/// ```
/// use strawfire::rank::fair::clear_share;
/// use strawfire::rank::facts::CoverageFact;
/// let c = |scene_id, land, clear| CoverageFact { scene_id, code: "A".into(), land_pixels: land, clear_pixels: clear };
/// assert_eq!(clear_share(&[&c(1, 100, 20), &c(2, 50, 40)]), Some(0.8));
/// assert_eq!(clear_share(&[]), None);
/// ```
pub fn clear_share(rows: &[&CoverageFact]) -> Option<f64> {
    if rows.is_empty() {
        return None;
    }
    Some(
        rows.iter()
            .map(|r| {
                if r.land_pixels == 0 {
                    0.0
                } else {
                    r.clear_pixels as f64 / r.land_pixels as f64
                }
            })
            .fold(0.0, f64::max),
    )
}

/// The status of a unit with this clear share.
pub fn status(share: Option<f64>, min_clear_share: f64) -> Status {
    match share {
        None => Status::CoverageUnknown,
        Some(s) if s < min_clear_share => Status::NotObserved,
        Some(_) => Status::Ranked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_by_share() {
        assert_eq!(status(None, 0.5), Status::CoverageUnknown);
        assert_eq!(status(Some(0.49), 0.5), Status::NotObserved);
        assert_eq!(status(Some(0.5), 0.5), Status::Ranked);
        assert_eq!(status(Some(0.0), 0.0), Status::Ranked);
    }

    #[test]
    fn share_is_the_best_overpass_and_empty_land_is_zero() {
        let c = |land, clear| CoverageFact {
            scene_id: 1,
            code: "A".into(),
            land_pixels: land,
            clear_pixels: clear,
        };
        assert_eq!(clear_share(&[&c(0, 0)]), Some(0.0));
        assert_eq!(clear_share(&[&c(10, 3), &c(10, 6), &c(4, 1)]), Some(0.6));
    }
}
