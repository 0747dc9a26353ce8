//! Our detections against an official product's for one granule: the check an analyst runs
//! before trusting either (`strawfire compare`).
//!
//! Pure. Two fire pixels are the same when they are the same pixel: by (row, col) when both
//! lists carry pixel positions (our scan and VNP14IMG's `FP_line`/`FP_sample` of the same
//! granule), else when their centres lie within half a pixel footprint of each other (the larger
//! of the two pixels' `scan`/`track`, 375 m when unknown): two different pixels' centres are a
//! whole pixel apart, the same pixel's centres agree to the geolocation's precision. Matching is
//! one to one, nearest pairs first. Counts are split by confidence (the official pixel's for
//! matched and missed, ours for extra) and by day/night; FRP agreement is over matched pairs
//! with both FRPs known: the median of ours/official and the Pearson correlation.

use std::collections::HashMap;

use serde::Serialize;

use crate::hotspot::record::Hotspot;

/// Nominal VIIRS I-band pixel size, km, when a list has none.
const NOMINAL_PIXEL_KM: f64 = 0.375;

/// How the two lists were matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Same (row, col).
    Pixel,
    /// Centres within half a pixel footprint.
    Distance,
}

/// Matched, missed (official only) and extra (ours only) fire pixels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub matched: usize,
    pub missed: usize,
    pub extra: usize,
}

impl Counts {
    /// Matched / official: how much of the official list we found.
    pub fn detection_rate(&self) -> Option<f64> {
        let official = self.matched + self.missed;
        (official > 0).then(|| self.matched as f64 / official as f64)
    }

    /// Extra / ours: how much of ours the official product does not have.
    pub fn extra_rate(&self) -> Option<f64> {
        let ours = self.matched + self.extra;
        (ours > 0).then(|| self.extra as f64 / ours as f64)
    }
}

/// FRP of matched pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct FrpAgreement {
    /// Matched pairs with both FRPs known and positive.
    pub pairs: usize,
    /// Median of ours / official.
    pub median_ratio: Option<f64>,
    /// Pearson correlation of the two FRPs (needs ≥ 3 pairs and spread in both).
    pub correlation: Option<f64>,
}

/// One pair or single pixel, for the map and the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Matched,
    Missed,
    Extra,
}

/// A pixel of the result: where it is and what it was.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComparedPixel {
    pub outcome: Outcome,
    pub lon: f64,
    pub lat: f64,
    /// Index in our list (matched, extra).
    pub ours: Option<usize>,
    /// Index in the official list (matched, missed).
    pub official: Option<usize>,
}

/// The comparison of one granule.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub matched_by: MatchedBy,
    pub ours_total: usize,
    pub official_total: usize,
    pub all: Counts,
    /// `l`, `n`, `h` (or MODIS percentages as given) → counts.
    pub by_confidence: Vec<(String, Counts)>,
    /// `D`, `N` → counts.
    pub by_daynight: Vec<(String, Counts)>,
    /// Matched pairs by (official confidence, our confidence).
    pub confidence_pairs: Vec<((String, String), usize)>,
    pub frp: FrpAgreement,
    pub pixels: Vec<ComparedPixel>,
}

/// Compares our fire pixels with the official ones of the same granule.
pub fn compare(ours: &[Hotspot], official: &[Hotspot]) -> Comparison {
    let by_pixel = !ours.is_empty()
        && !official.is_empty()
        && ours
            .iter()
            .chain(official)
            .all(|h| h.row.is_some() && h.col.is_some());
    let pairs = if by_pixel {
        match_by_pixel(ours, official)
    } else {
        match_by_distance(ours, official)
    };
    let mut ours_matched = vec![false; ours.len()];
    let mut official_matched = vec![false; official.len()];
    for &(o, f) in &pairs {
        ours_matched[o] = true;
        official_matched[f] = true;
    }
    let mut pixels = Vec::new();
    let mut all = Counts::default();
    let mut by_conf: HashMap<String, Counts> = HashMap::new();
    let mut by_dn: HashMap<String, Counts> = HashMap::new();
    let mut conf_pairs: HashMap<(String, String), usize> = HashMap::new();
    let mut tally = |h: &Hotspot, f: &dyn Fn(&mut Counts)| {
        f(by_conf.entry(h.confidence.as_firms()).or_default());
        f(by_dn.entry(h.daynight.as_firms().to_string()).or_default());
    };
    for &(o, f) in &pairs {
        all.matched += 1;
        tally(&official[f], &|c| c.matched += 1);
        *conf_pairs
            .entry((
                official[f].confidence.as_firms(),
                ours[o].confidence.as_firms(),
            ))
            .or_default() += 1;
        pixels.push(ComparedPixel {
            outcome: Outcome::Matched,
            lon: official[f].longitude,
            lat: official[f].latitude,
            ours: Some(o),
            official: Some(f),
        });
    }
    for (f, h) in official.iter().enumerate() {
        if !official_matched[f] {
            all.missed += 1;
            tally(h, &|c| c.missed += 1);
            pixels.push(ComparedPixel {
                outcome: Outcome::Missed,
                lon: h.longitude,
                lat: h.latitude,
                ours: None,
                official: Some(f),
            });
        }
    }
    for (o, h) in ours.iter().enumerate() {
        if !ours_matched[o] {
            all.extra += 1;
            tally(h, &|c| c.extra += 1);
            pixels.push(ComparedPixel {
                outcome: Outcome::Extra,
                lon: h.longitude,
                lat: h.latitude,
                ours: Some(o),
                official: None,
            });
        }
    }
    let frp_pairs: Vec<(f64, f64)> = pairs
        .iter()
        .filter_map(|&(o, f)| match (ours[o].frp_mw, official[f].frp_mw) {
            (Some(a), Some(b)) if a > 0.0 && b > 0.0 => Some((a, b)),
            _ => None,
        })
        .collect();
    Comparison {
        matched_by: if by_pixel {
            MatchedBy::Pixel
        } else {
            MatchedBy::Distance
        },
        ours_total: ours.len(),
        official_total: official.len(),
        all,
        by_confidence: ordered(by_conf, &["l", "n", "h"]),
        by_daynight: ordered(by_dn, &["D", "N"]),
        confidence_pairs: {
            let mut v: Vec<_> = conf_pairs.into_iter().collect();
            v.sort_by_key(|((a, b), _)| (confidence_rank(a), confidence_rank(b)));
            v
        },
        frp: FrpAgreement {
            pairs: frp_pairs.len(),
            median_ratio: median(frp_pairs.iter().map(|(a, b)| a / b).collect()),
            correlation: pearson(&frp_pairs),
        },
        pixels,
    }
}

fn confidence_rank(s: &str) -> (u8, String) {
    match s {
        "l" => (0, String::new()),
        "n" => (1, String::new()),
        "h" => (2, String::new()),
        other => (3, other.to_string()),
    }
}

fn ordered(map: HashMap<String, Counts>, order: &[&str]) -> Vec<(String, Counts)> {
    let mut v: Vec<(String, Counts)> = map.into_iter().collect();
    v.sort_by_key(|(k, _)| {
        (
            order.iter().position(|o| o == k).unwrap_or(order.len()),
            k.clone(),
        )
    });
    v
}

/// One-to-one pairs (ours, official) with the same (row, col).
fn match_by_pixel(ours: &[Hotspot], official: &[Hotspot]) -> Vec<(usize, usize)> {
    let mut at: HashMap<(usize, usize), usize> = HashMap::new();
    for (i, h) in official.iter().enumerate() {
        if let (Some(r), Some(c)) = (h.row, h.col) {
            at.entry((r, c)).or_insert(i);
        }
    }
    let mut pairs = Vec::new();
    for (o, h) in ours.iter().enumerate() {
        if let (Some(r), Some(c)) = (h.row, h.col) {
            if let Some(f) = at.remove(&(r, c)) {
                pairs.push((o, f));
            }
        }
    }
    pairs
}

/// Ground distance, km, between two positions (equirectangular; fine within a few pixels).
fn distance_km(a: &Hotspot, b: &Hotspot) -> f64 {
    const KM_PER_DEG: f64 = 111.195;
    let mean_lat = ((a.latitude + b.latitude) / 2.0).to_radians();
    let dx = (a.longitude - b.longitude) * mean_lat.cos() * KM_PER_DEG;
    let dy = (a.latitude - b.latitude) * KM_PER_DEG;
    dx.hypot(dy)
}

/// The larger side of a pixel, km (nominal when unknown).
fn pixel_km(h: &Hotspot) -> f64 {
    [h.scan_km, h.track_km]
        .into_iter()
        .flatten()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        .unwrap_or(NOMINAL_PIXEL_KM)
}

/// One-to-one pairs within half a pixel footprint, nearest first.
fn match_by_distance(ours: &[Hotspot], official: &[Hotspot]) -> Vec<(usize, usize)> {
    // Candidate pairs through a grid of 0.01° cells (a pixel is well under a cell at 1 km).
    const CELL_DEG: f64 = 0.01;
    let cell = |h: &Hotspot| {
        (
            (h.longitude / CELL_DEG).floor() as i64,
            (h.latitude / CELL_DEG).floor() as i64,
        )
    };
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, h) in official.iter().enumerate() {
        grid.entry(cell(h)).or_default().push(i);
    }
    let mut candidates = Vec::new();
    for (o, h) in ours.iter().enumerate() {
        let (cx, cy) = cell(h);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &f in grid.get(&(cx + dx, cy + dy)).into_iter().flatten() {
                    let d = distance_km(h, &official[f]);
                    if d <= 0.5 * pixel_km(h).max(pixel_km(&official[f])) {
                        candidates.push((d, o, f));
                    }
                }
            }
        }
    }
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_o = vec![false; ours.len()];
    let mut used_f = vec![false; official.len()];
    let mut pairs = Vec::new();
    for (_, o, f) in candidates {
        if !used_o[o] && !used_f[f] {
            used_o[o] = true;
            used_f[f] = true;
            pairs.push((o, f));
        }
    }
    pairs.sort_unstable();
    pairs
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// The comparison as text: totals, by confidence, by day/night, FRP.
pub fn report_text(c: &Comparison, ours_name: &str, official_name: &str) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.1} %", 100.0 * v));
    let _ = writeln!(s, "ours:     {ours_name} ({} fire pixels)", c.ours_total);
    let _ = writeln!(
        s,
        "official: {official_name} ({} fire pixels)",
        c.official_total
    );
    let _ = writeln!(
        s,
        "matched by {}",
        match c.matched_by {
            MatchedBy::Pixel => "pixel (row, col)",
            MatchedBy::Distance => "position (within half a pixel)",
        }
    );
    let _ = writeln!(
        s,
        "\n{:<10} {:>8} {:>8} {:>8} {:>10} {:>8}",
        "", "matched", "missed", "extra", "detected", "extra"
    );
    let mut line = |label: &str, k: &Counts| {
        let _ = writeln!(
            s,
            "{label:<10} {:>8} {:>8} {:>8} {:>10} {:>8}",
            k.matched,
            k.missed,
            k.extra,
            pct(k.detection_rate()),
            pct(k.extra_rate())
        );
    };
    line("all", &c.all);
    for (k, v) in &c.by_confidence {
        line(&format!("conf {k}"), v);
    }
    for (k, v) in &c.by_daynight {
        line(&format!("daynight {k}"), v);
    }
    if !c.confidence_pairs.is_empty() {
        let _ = writeln!(s, "\nmatched pairs by confidence (official → ours):");
        for ((a, b), n) in &c.confidence_pairs {
            let _ = writeln!(s, "  {a} → {b}: {n}");
        }
    }
    let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    let _ = writeln!(
        s,
        "\nFRP over {} matched pairs: median ours/official {}, correlation {}",
        c.frp.pairs,
        num(c.frp.median_ratio),
        num(c.frp.correlation)
    );
    s
}

/// A small map of the comparison: matched (green), missed (red ring), extra (orange), on an
/// equirectangular frame with x scaled by cos(latitude), at most 640 px wide.
pub fn map_svg(c: &Comparison) -> String {
    use std::fmt::Write;
    const W: f64 = 640.0;
    const H: f64 = 480.0;
    const PAD: f64 = 24.0;
    let mut s = String::new();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in &c.pixels {
        x0 = x0.min(p.lon);
        x1 = x1.max(p.lon);
        y0 = y0.min(p.lat);
        y1 = y1.max(p.lat);
    }
    if c.pixels.is_empty() {
        (x0, y0, x1, y1) = (0.0, 0.0, 1.0, 1.0);
    }
    // At least ~2 km across, so a single fire is not a division by zero.
    let kx = ((y0 + y1) / 2.0).to_radians().cos().max(0.05);
    let (w, h) = (((x1 - x0) * kx).max(0.02), (y1 - y0).max(0.02));
    let scale = ((W - 2.0 * PAD) / w).min((H - 2.0 * PAD) / h);
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let px = |lon: f64| W / 2.0 + (lon - cx) * kx * scale;
    let py = |lat: f64| H / 2.0 - (lat - cy) * scale;
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\
         <rect width=\"{W}\" height=\"{H}\" fill=\"#f7f7f2\"/>"
    );
    // Matched below, then missed and extra on top, so disagreements stay visible.
    for outcome in [Outcome::Matched, Outcome::Missed, Outcome::Extra] {
        for p in c.pixels.iter().filter(|p| p.outcome == outcome) {
            let (x, y) = (px(p.lon), py(p.lat));
            let _ = match outcome {
                Outcome::Matched => write!(
                    s,
                    "<circle class=\"matched\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#2e7d32\"/>"
                ),
                Outcome::Missed => write!(
                    s,
                    "<circle class=\"missed\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"none\" stroke=\"#c62828\" stroke-width=\"2\"/>"
                ),
                Outcome::Extra => write!(
                    s,
                    "<rect class=\"extra\" x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"#ef6c00\"/>",
                    x - 4.0,
                    y - 4.0
                ),
            };
        }
    }
    let _ = write!(
        s,
        "<text x=\"8\" y=\"16\">matched {} (green) · missed {} (red ring) · extra {} (orange)</text></svg>",
        c.all.matched, c.all.missed, c.all.extra
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hotspot::record::{Confidence, DayNight};
    use chrono::TimeZone;

    fn fire(r: usize, c: usize, conf: Confidence, frp: f64, dn: DayNight) -> Hotspot {
        let t = chrono::Utc.with_ymd_and_hms(2024, 6, 8, 5, 42, 0).unwrap();
        let mut h = Hotspot::test_viirs(114.0 + c as f64 * 0.004, 35.0 - r as f64 * 0.0034, t);
        h.row = Some(r);
        h.col = Some(c);
        h.confidence = conf;
        h.frp_mw = Some(frp);
        h.daynight = dn;
        h
    }

    /// Official: 6 fires. Ours: 4 of them (one with another confidence), 2 not in the product.
    fn lists() -> (Vec<Hotspot>, Vec<Hotspot>) {
        use Confidence::*;
        use DayNight::*;
        let official = vec![
            fire(10, 10, Low, 2.0, Day),
            fire(10, 20, Nominal, 4.0, Day),
            fire(20, 10, High, 30.0, Day),
            fire(30, 30, Nominal, 6.0, Night),
            fire(40, 5, Low, 1.5, Night),  // missed
            fire(50, 50, High, 50.0, Day), // missed
        ];
        let mut ours = vec![
            fire(10, 10, Low, 2.2, Day),
            fire(10, 20, High, 4.4, Day),
            fire(20, 10, High, 33.0, Day),
            fire(30, 30, Nominal, 6.6, Night),
            fire(10, 11, Low, 1.0, Day), // extra, the neighbour of a matched one
            fire(60, 60, Nominal, 3.0, Night), // extra
        ];
        ours.swap(0, 5);
        (ours, official)
    }

    #[test]
    fn counts_by_pixel_confidence_and_daynight_are_exact() {
        let (ours, official) = lists();
        let c = compare(&ours, &official);
        assert_eq!(c.matched_by, MatchedBy::Pixel);
        assert_eq!(
            c.all,
            Counts {
                matched: 4,
                missed: 2,
                extra: 2
            }
        );
        let get = |v: &[(String, Counts)], k: &str| v.iter().find(|(x, _)| x == k).unwrap().1;
        // Matched and missed by the official class, extra by ours.
        assert_eq!(
            get(&c.by_confidence, "l"),
            Counts {
                matched: 1,
                missed: 1,
                extra: 1
            }
        );
        assert_eq!(
            get(&c.by_confidence, "n"),
            Counts {
                matched: 2,
                missed: 0,
                extra: 1
            }
        );
        assert_eq!(
            get(&c.by_confidence, "h"),
            Counts {
                matched: 1,
                missed: 1,
                extra: 0
            }
        );
        assert_eq!(
            get(&c.by_daynight, "D"),
            Counts {
                matched: 3,
                missed: 1,
                extra: 1
            }
        );
        assert_eq!(
            get(&c.by_daynight, "N"),
            Counts {
                matched: 1,
                missed: 1,
                extra: 1
            }
        );
        assert!(c.confidence_pairs.contains(&(("n".into(), "h".into()), 1)));
        // Ours is 10 % above the official FRP on every pair.
        assert_eq!(c.frp.pairs, 4);
        assert!((c.frp.median_ratio.unwrap() - 1.1).abs() < 1e-9);
        assert!((c.frp.correlation.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(c.all.detection_rate(), Some(4.0 / 6.0));
    }

    #[test]
    fn without_pixel_positions_the_same_pixel_is_matched_by_distance_not_its_neighbour() {
        let (mut ours, mut official) = lists();
        for h in ours.iter_mut().chain(official.iter_mut()) {
            h.row = None;
            h.col = None;
        }
        // The official positions carry a geolocation's float noise.
        for h in &mut official {
            h.latitude += 2e-6;
        }
        let c = compare(&ours, &official);
        assert_eq!(c.matched_by, MatchedBy::Distance);
        assert_eq!(
            (c.all.matched, c.all.missed, c.all.extra),
            (4, 2, 2),
            "the neighbour at 0.004° (~360 m) is not the same pixel"
        );
    }

    #[test]
    fn report_and_map_show_every_outcome() {
        let (ours, official) = lists();
        let c = compare(&ours, &official);
        let text = report_text(&c, "ours.csv", "VNP14IMG.nc");
        assert!(
            text.contains("all               4        2        2     66.7 %   33.3 %"),
            "{text}"
        );
        assert!(text.contains("median ours/official 1.100"), "{text}");
        let svg = map_svg(&c);
        assert_eq!(svg.matches("class=\"matched\"").count(), 4);
        assert_eq!(svg.matches("class=\"missed\"").count(), 2);
        assert_eq!(svg.matches("class=\"extra\"").count(), 2);
        // Empty lists still draw.
        let empty = compare(&[], &[]);
        assert!(map_svg(&empty).starts_with("<svg"));
        assert_eq!(empty.all, Counts::default());
    }
}
