//! Detections from every source into fire events. Pure: plain data in, plain data out; the store
//! loads the candidate events and writes back what [`fuse`] decided.
//!
//! A sighting joins an event when it lies within the distance (the larger of the two pixel
//! footprints plus [`FuseParams::extra_distance_m`], 375 m by default) of the event's position and
//! within the time window (12 h by default) of the event's first-to-last-seen span. An event keeps
//! first and last seen, its sources, max FRP and a confidence that is raised when a satellite and a
//! ground camera agree. Unit codes and parcel come from a [`Placer`] (the locate step).

pub mod placement;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

pub use placement::{NoPlacer, Placement, Placer};

use crate::hotspot::Confidence;

/// What kind of instrument saw a fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// A hotspot from a satellite scene or feed.
    Satellite,
    /// A ground-sensor (camera) alert.
    Camera,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Satellite => "satellite",
            SourceKind::Camera => "camera",
        }
    }

    pub fn parse(s: &str) -> Option<SourceKind> {
        match s {
            "satellite" => Some(SourceKind::Satellite),
            "camera" => Some(SourceKind::Camera),
            _ => None,
        }
    }
}

/// One detection of one source, as fuse needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sighting {
    pub kind: SourceKind,
    /// Source name: `VIIRS/N20` for satellites, `sensor:<id>` for cameras.
    pub source: String,
    pub lon: f64,
    pub lat: f64,
    pub time: DateTime<Utc>,
    /// Size of what was seen, m: the larger pixel side for hotspots, the position uncertainty
    /// for camera alerts.
    pub footprint_m: f64,
    pub frp_mw: Option<f64>,
    /// 0–1.
    pub confidence: f64,
}

/// Tuning of the event test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FuseParams {
    /// Added to the pixel footprint to get the distance within which sightings are one fire, m.
    pub extra_distance_m: f64,
    /// Sightings this long before first seen or after last seen still belong to an event.
    pub window: Duration,
}

impl Default for FuseParams {
    fn default() -> Self {
        FuseParams {
            extra_distance_m: 375.0,
            window: Duration::hours(12),
        }
    }
}

/// A fire event: one fire seen by one or more sources over time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FireEvent {
    /// Store id; `None` until stored.
    pub id: Option<i64>,
    /// Mean position of its sightings, WGS84 degrees.
    pub lon: f64,
    pub lat: f64,
    /// Largest footprint of its sightings, m.
    pub footprint_m: f64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub sources: BTreeSet<String>,
    pub kinds: BTreeSet<SourceKind>,
    pub max_frp_mw: Option<f64>,
    /// Best single-source confidence per kind, 0–1.
    pub satellite_confidence: f64,
    pub camera_confidence: f64,
    pub sightings: u32,
    pub placement: Placement,
}

impl FireEvent {
    /// A new event from its first sighting.
    pub fn new(s: &Sighting, placement: Placement) -> FireEvent {
        let mut e = FireEvent {
            id: None,
            lon: s.lon,
            lat: s.lat,
            footprint_m: s.footprint_m,
            first_seen: s.time,
            last_seen: s.time,
            sources: BTreeSet::new(),
            kinds: BTreeSet::new(),
            max_frp_mw: None,
            satellite_confidence: 0.0,
            camera_confidence: 0.0,
            sightings: 0,
            placement,
        };
        e.absorb(s);
        e
    }

    /// Combined confidence, 0–1: independent sources agreeing are more certain than either
    /// (`1 − (1 − sat)(1 − cam)`); a single kind is its best sighting.
    pub fn confidence(&self) -> f64 {
        1.0 - (1.0 - self.satellite_confidence) * (1.0 - self.camera_confidence)
    }

    /// `low`, `nominal` or `high` for [`FireEvent::confidence`].
    pub fn confidence_class(&self) -> Confidence {
        class_of(self.confidence())
    }

    /// True when both a satellite and a camera saw it.
    pub fn corroborated(&self) -> bool {
        self.kinds.len() > 1
    }

    /// Whether `s` is the same fire.
    pub fn matches(&self, s: &Sighting, p: &FuseParams) -> bool {
        let reach_m = self.footprint_m.max(s.footprint_m) + p.extra_distance_m;
        // Cheap rejection first (most candidates fail it): a degree of latitude is never
        // shorter than 110.5 km.
        if (self.lat - s.lat).abs() * 110_500.0 > reach_m {
            return false;
        }
        let in_time = s.time >= self.first_seen - p.window && s.time <= self.last_seen + p.window;
        in_time && distance_m(self.lon, self.lat, s.lon, s.lat) <= reach_m
    }

    /// Updates the event with a sighting of it.
    pub fn absorb(&mut self, s: &Sighting) {
        let n = self.sightings as f64;
        if self.sightings > 0 {
            self.lon = (self.lon * n + s.lon) / (n + 1.0);
            self.lat = (self.lat * n + s.lat) / (n + 1.0);
        }
        self.sightings += 1;
        self.footprint_m = self.footprint_m.max(s.footprint_m);
        self.first_seen = self.first_seen.min(s.time);
        self.last_seen = self.last_seen.max(s.time);
        self.sources.insert(s.source.clone());
        self.kinds.insert(s.kind);
        if let Some(frp) = s.frp_mw {
            self.max_frp_mw = Some(self.max_frp_mw.map_or(frp, |m| m.max(frp)));
        }
        let c = s.confidence.clamp(0.0, 1.0);
        match s.kind {
            SourceKind::Satellite => self.satellite_confidence = self.satellite_confidence.max(c),
            SourceKind::Camera => self.camera_confidence = self.camera_confidence.max(c),
        }
    }
}

/// What [`fuse`] did with a sighting: the index of the event in the slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fused {
    New(usize),
    Updated(usize),
}

impl Fused {
    pub fn index(self) -> usize {
        match self {
            Fused::New(i) | Fused::Updated(i) => i,
        }
    }
}

/// Adds a sighting to the nearest matching event of `events`, or appends a new event placed by
/// `placer`.
pub fn fuse(
    events: &mut Vec<FireEvent>,
    s: &Sighting,
    p: &FuseParams,
    placer: &dyn Placer,
) -> Fused {
    let best = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.matches(s, p))
        .map(|(i, e)| (i, distance_m(e.lon, e.lat, s.lon, s.lat)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match best {
        Some((i, _)) => {
            events[i].absorb(s);
            Fused::Updated(i)
        }
        None => {
            let placement = placer.place(s.lon, s.lat, s.footprint_m);
            events.push(FireEvent::new(s, placement));
            Fused::New(events.len() - 1)
        }
    }
}

/// A FIRMS confidence as a number: `l` 0.3, `n` 0.6, `h` 0.9, MODIS percent / 100.
pub fn confidence_score(c: Confidence) -> f64 {
    match c {
        Confidence::Low => 0.3,
        Confidence::Nominal => 0.6,
        Confidence::High => 0.9,
        Confidence::Percent(p) => p as f64 / 100.0,
    }
}

/// The class of a 0–1 confidence: below 0.5 low, from 0.8 high.
pub fn class_of(score: f64) -> Confidence {
    if score >= 0.8 {
        Confidence::High
    } else if score >= 0.5 {
        Confidence::Nominal
    } else {
        Confidence::Low
    }
}

/// Mean Earth radius, m.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle (haversine) distance between two WGS84 points, m.
pub fn distance_m(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = p2 - p1;
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// The point `distance_m` from (lon, lat) along `bearing_deg` (clockwise from north): where a
/// camera's alert points.
pub fn destination(lon: f64, lat: f64, bearing_deg: f64, distance_m: f64) -> (f64, f64) {
    let d = distance_m / EARTH_RADIUS_M;
    let b = bearing_deg.to_radians();
    let p1 = lat.to_radians();
    let l1 = lon.to_radians();
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
    let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    (l2.to_degrees(), p2.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 8, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn sat(lon: f64, lat: f64, h: i64, frp: f64) -> Sighting {
        Sighting {
            kind: SourceKind::Satellite,
            source: "VIIRS/N20".into(),
            lon,
            lat,
            time: t(h),
            footprint_m: 375.0,
            frp_mw: Some(frp),
            confidence: 0.6,
        }
    }

    fn cam(lon: f64, lat: f64, h: i64) -> Sighting {
        Sighting {
            kind: SourceKind::Camera,
            source: "sensor:cam-1".into(),
            lon,
            lat,
            time: t(h),
            footprint_m: 200.0,
            frp_mw: None,
            confidence: 0.7,
        }
    }

    fn run(sightings: &[Sighting]) -> Vec<FireEvent> {
        let mut events = Vec::new();
        for s in sightings {
            fuse(&mut events, s, &FuseParams::default(), &NoPlacer);
        }
        events
    }

    /// Degrees of longitude for `m` metres at latitude 35°.
    fn dlon(m: f64) -> f64 {
        m / (111_195.0 * 35f64.to_radians().cos())
    }

    #[test]
    fn distance_matches_known_values() {
        // One degree of latitude is 111.195 km on the mean sphere.
        assert!((distance_m(114.0, 35.0, 114.0, 36.0) - 111_195.0).abs() < 1.0);
        let (lon, lat) = destination(114.5, 35.2, 90.0, 1_000.0);
        assert!((distance_m(114.5, 35.2, lon, lat) - 1_000.0).abs() < 0.01);
        assert!(lon > 114.5 && (lat - 35.2).abs() < 1e-4);
        let (_, lat) = destination(114.5, 35.2, 0.0, 1_000.0);
        assert!(lat > 35.2);
    }

    #[test]
    fn near_in_space_and_time_is_one_event_far_is_two() {
        // 700 m apart: within 375 + 375 m.
        let ev = run(&[
            sat(114.5, 35.0, 0, 10.0),
            sat(114.5 + dlon(700.0), 35.0, 3, 25.0),
        ]);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].sightings, 2);
        assert_eq!(ev[0].max_frp_mw, Some(25.0));
        assert_eq!((ev[0].first_seen, ev[0].last_seen), (t(0), t(3)));
        // 800 m apart: beyond.
        let ev = run(&[
            sat(114.5, 35.0, 0, 10.0),
            sat(114.5 + dlon(800.0), 35.0, 0, 5.0),
        ]);
        assert_eq!(ev.len(), 2);
        // Same place, 13 h later: a new fire.
        let ev = run(&[sat(114.5, 35.0, 0, 10.0), sat(114.5, 35.0, 13, 5.0)]);
        assert_eq!(ev.len(), 2);
        // The window runs from last seen: a fire seen every 10 h stays one event.
        let ev = run(&[
            sat(114.5, 35.0, 0, 1.0),
            sat(114.5, 35.0, 10, 1.0),
            sat(114.5, 35.0, 20, 1.0),
        ]);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].last_seen, t(20));
    }

    #[test]
    fn camera_and_satellite_agreeing_raise_confidence() {
        let ev = run(&[sat(114.5, 35.0, 0, 10.0), cam(114.5 + dlon(300.0), 35.0, 1)]);
        assert_eq!(ev.len(), 1);
        let e = &ev[0];
        assert!(e.corroborated());
        assert_eq!(e.sources.len(), 2);
        assert!(e.confidence() > 0.6 && e.confidence() > 0.7);
        assert!((e.confidence() - (1.0 - 0.4 * 0.3)).abs() < 1e-12);
        assert_eq!(e.confidence_class(), Confidence::High);
        // Alone, each stays at its own confidence.
        let alone = run(&[sat(114.5, 35.0, 0, 10.0)]);
        assert_eq!(alone[0].confidence_class(), Confidence::Nominal);
        assert!(!alone[0].corroborated());
    }

    #[test]
    fn sighting_joins_the_nearest_of_two_candidates() {
        let mut events = run(&[
            sat(114.5, 35.0, 0, 1.0),
            sat(114.5 + dlon(1000.0), 35.0, 0, 1.0),
        ]);
        assert_eq!(events.len(), 2);
        let s = sat(114.5 + dlon(600.0), 35.0, 1, 1.0);
        let out = fuse(&mut events, &s, &FuseParams::default(), &NoPlacer);
        assert_eq!(out, Fused::Updated(1));
    }

    #[test]
    fn placement_comes_from_the_placer() {
        struct Fixed;
        impl Placer for Fixed {
            fn place(&self, _lon: f64, _lat: f64, _footprint_m: f64) -> Placement {
                Placement {
                    county: Some("410526".into()),
                    township: Some("410526100".into()),
                    ..Placement::default()
                }
            }
        }
        let mut events = Vec::new();
        fuse(
            &mut events,
            &cam(114.5, 35.0, 0),
            &FuseParams::default(),
            &Fixed,
        );
        assert_eq!(events[0].placement.county.as_deref(), Some("410526"));
    }
}
