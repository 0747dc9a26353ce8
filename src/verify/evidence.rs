//! Evidence checks on a verdict. Each finding is a [`Flag`] with its reason; a flagged verdict
//! stands but is marked for review. The checks answer the ways evidence goes wrong in practice:
//! a photo copied from another report (byte-identical or re-encoded), a report made far from the
//! fire, a report time before the task existed, and EXIF that contradicts the report.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::photo::{hamming, PhotoPrint};
use crate::raster::georef::haversine_m;

/// Limits of the checks (the `[verify]` table of the config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvidenceConfig {
    /// Farthest a report's GPS may be from the event, m (a 375 m pixel plus walking distance).
    pub max_distance_m: f64,
    /// dHash bits within which two photos count as the same picture.
    pub near_duplicate_bits: u32,
    /// Largest gap between EXIF capture time and the reported time, minutes.
    pub exif_max_time_gap_min: i64,
    /// Farthest EXIF position from the reported GPS, m.
    pub exif_max_distance_m: f64,
    /// UTC offset of the cameras' clocks, hours (EXIF times carry no zone; China: 8).
    pub camera_utc_offset_h: i32,
}

impl Default for EvidenceConfig {
    fn default() -> Self {
        EvidenceConfig {
            max_distance_m: 800.0,
            near_duplicate_bits: 6,
            exif_max_time_gap_min: 30,
            exif_max_distance_m: 300.0,
            camera_utc_offset_h: 8,
        }
    }
}

/// A photo of an earlier verdict, to compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorPhoto {
    pub task_id: i64,
    pub sha256: String,
    pub dhash: u64,
}

/// What the patrol submitted.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    pub reported_at: DateTime<Utc>,
    /// (lon, lat), WGS84.
    pub position: (f64, f64),
    pub photo: &'a PhotoPrint,
}

/// One finding of the checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum Flag {
    /// The same bytes as the photo of another task's verdict.
    PhotoIdentical { other_task: i64 },
    /// The same picture, re-encoded or resized, as another task's photo.
    PhotoNearIdentical {
        other_task: i64,
        differing_bits: u32,
    },
    /// The reported GPS is far from the event.
    FarFromEvent { distance_m: f64 },
    /// The report is timed before the task was notified.
    BeforeNotified {
        reported_at: DateTime<Utc>,
        notified_at: DateTime<Utc>,
    },
    /// The task has not been notified yet, so no report can be timely.
    NotNotified,
    /// EXIF capture time far from the reported time.
    ExifTime {
        taken_at: DateTime<Utc>,
        gap_min: i64,
    },
    /// EXIF position far from the reported GPS.
    ExifPosition { distance_m: f64 },
}

impl Flag {
    /// A sentence for the reviewer.
    pub fn reason(&self) -> String {
        match self {
            Flag::PhotoIdentical { other_task } => {
                format!("photo is byte-identical to the photo of task {other_task}")
            }
            Flag::PhotoNearIdentical { other_task, differing_bits } => format!(
                "photo looks like the photo of task {other_task} ({differing_bits} of 64 hash bits differ)"
            ),
            Flag::FarFromEvent { distance_m } => {
                format!("reported position is {distance_m:.0} m from the fire event")
            }
            Flag::BeforeNotified { reported_at, notified_at } => format!(
                "reported at {reported_at}, before the task was notified at {notified_at}"
            ),
            Flag::NotNotified => "reported before the task was notified".into(),
            Flag::ExifTime { taken_at, gap_min } => {
                format!("photo taken at {taken_at} (EXIF), {gap_min} min from the reported time")
            }
            Flag::ExifPosition { distance_m } => {
                format!("photo EXIF position is {distance_m:.0} m from the reported position")
            }
        }
    }
}

/// Runs every check. `event_position` is the event's (lon, lat); `priors` the photos of other
/// tasks' verdicts.
pub fn check(
    report: &Report,
    event_position: (f64, f64),
    notified_at: Option<DateTime<Utc>>,
    priors: &[PriorPhoto],
    cfg: &EvidenceConfig,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    if let Some(p) = priors.iter().find(|p| p.sha256 == report.photo.sha256) {
        flags.push(Flag::PhotoIdentical {
            other_task: p.task_id,
        });
    } else if let Some((p, bits)) = priors
        .iter()
        .map(|p| (p, hamming(p.dhash, report.photo.dhash)))
        .filter(|(_, bits)| *bits <= cfg.near_duplicate_bits)
        .min_by_key(|(_, bits)| *bits)
    {
        flags.push(Flag::PhotoNearIdentical {
            other_task: p.task_id,
            differing_bits: bits,
        });
    }
    let distance_m = haversine_m(report.position, event_position);
    if distance_m > cfg.max_distance_m {
        flags.push(Flag::FarFromEvent { distance_m });
    }
    match notified_at {
        Some(n) if report.reported_at < n => flags.push(Flag::BeforeNotified {
            reported_at: report.reported_at,
            notified_at: n,
        }),
        None => flags.push(Flag::NotNotified),
        _ => {}
    }
    if let Some(taken_at) = report.photo.exif.taken_at_utc(cfg.camera_utc_offset_h) {
        let gap_min = (report.reported_at - taken_at).num_minutes().abs();
        if gap_min > cfg.exif_max_time_gap_min {
            flags.push(Flag::ExifTime { taken_at, gap_min });
        }
    }
    if let Some(pos) = report.photo.exif.position {
        let distance_m = haversine_m(pos, report.position);
        if distance_m > cfg.exif_max_distance_m {
            flags.push(Flag::ExifPosition { distance_m });
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::photo::{fingerprint, tests::png, ExifFacts};
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 8, h, m, 0).unwrap()
    }

    #[test]
    fn a_clean_report_has_no_flags() {
        let photo = fingerprint(&png(160, 120, 40, 40)).unwrap();
        let r = Report {
            reported_at: t(6, 0),
            position: (114.8501, 34.0701),
            photo: &photo,
        };
        let flags = check(
            &r,
            (114.85, 34.07),
            Some(t(5, 30)),
            &[],
            &EvidenceConfig::default(),
        );
        assert!(flags.is_empty(), "{flags:?}");
    }

    #[test]
    fn copied_far_and_early_reports_are_flagged() {
        let photo = fingerprint(&png(160, 120, 40, 40)).unwrap();
        let prior = PriorPhoto {
            task_id: 7,
            sha256: photo.sha256.clone(),
            dhash: photo.dhash,
        };
        let r = Report {
            reported_at: t(5, 0),
            position: (114.90, 34.07),
            photo: &photo,
        };
        let flags = check(
            &r,
            (114.85, 34.07),
            Some(t(5, 30)),
            &[prior],
            &EvidenceConfig::default(),
        );
        assert!(
            flags.contains(&Flag::PhotoIdentical { other_task: 7 }),
            "{flags:?}"
        );
        assert!(flags
            .iter()
            .any(|f| matches!(f, Flag::FarFromEvent { distance_m } if *distance_m > 4000.0)));
        assert!(flags
            .iter()
            .any(|f| matches!(f, Flag::BeforeNotified { .. })));
        for f in &flags {
            assert!(!f.reason().is_empty());
        }
    }

    #[test]
    fn exif_contradictions_are_flagged() {
        let mut photo = fingerprint(&png(160, 120, 40, 40)).unwrap();
        photo.exif = ExifFacts {
            // 10:00 Beijing time = 02:00 UTC, four hours before the report.
            taken_at_local: Some(
                chrono::NaiveDate::from_ymd_opt(2024, 6, 8)
                    .unwrap()
                    .and_hms_opt(10, 0, 0)
                    .unwrap(),
            ),
            position: Some((115.0, 34.07)),
        };
        let r = Report {
            reported_at: t(6, 0),
            position: (114.85, 34.07),
            photo: &photo,
        };
        let flags = check(
            &r,
            (114.85, 34.07),
            Some(t(5, 30)),
            &[],
            &EvidenceConfig::default(),
        );
        assert!(
            flags
                .iter()
                .any(|f| matches!(f, Flag::ExifTime { gap_min: 240, .. })),
            "{flags:?}"
        );
        assert!(
            flags.iter().any(|f| matches!(f, Flag::ExifPosition { .. })),
            "{flags:?}"
        );
    }
}
