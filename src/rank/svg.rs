//! The day's map, drawn server-side as one inline SVG: unit boundaries shaded by the day's
//! status and fire points, and a circle per hotspot. Drawn here (not by a map library in the
//! browser) so the report is one file that opens offline and can be forwarded.
//!
//! Projection: equirectangular with x scaled by cos(mean latitude), enough for a county or a
//! province; boundaries are simplified (Ramer–Douglas–Peucker) to about a pixel of the drawing.
//! Drawn up to 800 px wide (about 18 cm on A4, where a name's 16 px print at about 10 pt), placed greedily with
//! collision boxes ([`place_labels`]) so no two overlap; a legend (the fill ramp, clouded and
//! coverage-unknown units, hotspots), a scale bar and a north arrow make it readable on paper.

use std::collections::HashMap;
use std::fmt::Write;

use geo::{BoundingRect, InteriorPoint, MultiPolygon, Simplify};

use super::fair::Status;
use super::table::DailyRanking;

/// Largest width of the drawing, px (A4 portrait prints it about 18 cm wide).
pub const WIDTH: f64 = 800.0;
/// Largest height of the map area, px (a tall province still fits a page).
pub const MAP_HEIGHT: f64 = 760.0;
/// Height of the legend strip under the map, px.
pub const LEGEND_HEIGHT: f64 = 70.0;
/// Largest height of the whole drawing, px.
pub const HEIGHT: f64 = MAP_HEIGHT + LEGEND_HEIGHT;
/// Font size of unit names, px.
pub const LABEL_PX: f64 = 16.0;

/// A hotspot to draw: (lon, lat) and whether a mask flags it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapPoint {
    pub lon: f64,
    pub lat: f64,
    pub masked: bool,
}

/// Escapes text for XML/HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// An axis-aligned box, px: (x0, y0, x1, y1).
pub type LabelBox = (f64, f64, f64, f64);

fn overlaps(a: &LabelBox, b: &LabelBox) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// Width of `text` at `px`, estimated: CJK characters are square, others about 0.6 em.
pub fn text_width(text: &str, px: f64) -> f64 {
    text.chars()
        .map(|c| if (c as u32) >= 0x2E80 { px } else { 0.6 * px })
        .sum()
}

/// Greedy label placement: each label (in the order given, most important first) takes the
/// first of its candidate anchors — its own point, then above, below, right and left of it —
/// whose box stays inside `frame` and overlaps no box placed before it (nor any of `blocked`).
/// Returns the chosen centre of each label, `None` for a label that does not fit.
pub fn place_labels(
    labels: &[(f64, f64, f64, f64)],
    frame: LabelBox,
    blocked: &[LabelBox],
) -> Vec<Option<(f64, f64)>> {
    let mut taken: Vec<LabelBox> = blocked.to_vec();
    labels
        .iter()
        .map(|&(x, y, w, h)| {
            let candidates = [
                (x, y),
                (x, y - h - 2.0),
                (x, y + h + 2.0),
                (x + w / 2.0 + 6.0, y),
                (x - w / 2.0 - 6.0, y),
            ];
            let fit = candidates.into_iter().find(|&(cx, cy)| {
                let b = (cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0);
                b.0 >= frame.0
                    && b.1 >= frame.1
                    && b.2 <= frame.2
                    && b.3 <= frame.3
                    && !taken.iter().any(|t| overlaps(t, &b))
            });
            if let Some((cx, cy)) = fit {
                taken.push((cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0));
            }
            fit
        })
        .collect()
}

/// A "nice" scale-bar length (1, 2 or 5 × 10ⁿ km) not longer than `max_km`.
pub fn nice_km(max_km: f64) -> f64 {
    if max_km <= 0.0 || !max_km.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(max_km.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * p)
        .find(|v| *v <= max_km)
        .unwrap_or(p)
}

/// The fill of a unit with `a` (0–1) of the day's most fire points, on `base`.
fn ramp(a: f64, base: (f64, f64, f64)) -> String {
    let mix = |c: f64, target: f64| (c + (target - c) * a).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(base.0, 215.0),
        mix(base.1, 48.0),
        mix(base.2, 39.0)
    )
}

const WHITE: (f64, f64, f64) = (255.0, 255.0, 255.0);
const YELLOW: (f64, f64, f64) = (255.0, 250.0, 205.0);

/// Draws the map of a table. `units` are (code, boundary) of the table's level; units without
/// a row are drawn unshaded. Unit names are placed so that none overlaps another (greedy, most
/// fire points first; a name that finds no room is left out and counted under the map); a
/// legend, a scale bar and a north arrow are drawn with it, in `lang`.
pub fn map_svg(
    t: &DailyRanking,
    units: &[(&str, &MultiPolygon<f64>)],
    points: &[MapPoint],
    lang: crate::i18n::Lang,
) -> String {
    // Extent: the units, else the points.
    let mut ext: Option<(f64, f64, f64, f64)> = None;
    let mut grow = |x0: f64, y0: f64, x1: f64, y1: f64| {
        ext = Some(match ext {
            None => (x0, y0, x1, y1),
            Some((a, b, c, d)) => (a.min(x0), b.min(y0), c.max(x1), d.max(y1)),
        })
    };
    for (_, shape) in units {
        if let Some(r) = shape.bounding_rect() {
            grow(r.min().x, r.min().y, r.max().x, r.max().y);
        }
    }
    if units.is_empty() {
        for p in points {
            grow(p.lon, p.lat, p.lon, p.lat);
        }
    }
    let (w0, s0, e0, n0) = ext.unwrap_or((0.0, 0.0, 1.0, 1.0));
    // A margin, and a minimum extent (a single point).
    let pad = ((e0 - w0).max(n0 - s0) * 0.04).max(0.01);
    let (w, s, e, n) = (w0 - pad, s0 - pad, e0 + pad, n0 + pad);
    let kx = ((s + n) / 2.0).to_radians().cos();
    // At least 660 px wide, so the legend fits under a narrow map.
    let scale = (WIDTH / ((e - w) * kx)).min(MAP_HEIGHT / (n - s));
    let width = ((e - w) * kx * scale).ceil().max(660.0);
    let map_h = ((n - s) * scale).ceil();
    let height = map_h + LEGEND_HEIGHT;
    let x_off = (width - (e - w) * kx * scale) / 2.0;
    let px = |lon: f64, lat: f64| ((lon - w) * kx * scale + x_off, (n - lat) * scale);
    let tolerance = 0.7 / scale;

    let rows: HashMap<&str, _> = t.rows.iter().map(|r| (r.code.as_str(), r)).collect();
    let max_fires = t
        .rows
        .iter()
        .map(|r| r.fire_points_after_masks)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg class="map" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="hotspots {} over {} boundaries">"#,
        t.date,
        t.level.as_str()
    );
    o.push_str(r##"<defs><pattern id="cloud" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#d9d9d9"/><path d="M0 6L6 0" stroke="#999" stroke-width="1"/></pattern></defs>"##);
    for (code, shape) in units {
        let row = rows.get(code);
        let (fill, status) = match row {
            Some(r) if r.status == Status::NotObserved => ("url(#cloud)".to_string(), r.status),
            Some(r) => {
                let a = r.fire_points_after_masks as f64 / max_fires as f64;
                // White to red by fire points; coverage-unknown units get a yellow tint.
                let base = if r.status == Status::CoverageUnknown {
                    YELLOW
                } else {
                    WHITE
                };
                (ramp(a, base), r.status)
            }
            None => ("#ffffff".to_string(), Status::CoverageUnknown),
        };
        let mut d = String::new();
        for poly in shape.simplify(tolerance).0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, c) in ring.0.iter().enumerate() {
                    let (x, y) = px(c.x, c.y);
                    let _ = write!(d, "{}{x:.1} {y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
        }
        let title = row.map_or(code.to_string(), |r| {
            format!(
                "{} {} — {} fire points, {}",
                r.name,
                r.code,
                r.fire_points,
                r.status.as_str()
            )
        });
        let _ = write!(
            o,
            r##"<path class="unit {}" data-code="{}" d="{d}" fill="{fill}" fill-rule="evenodd" stroke="#555" stroke-width="0.8"><title>{}</title></path>"##,
            status.as_str(),
            escape(code),
            escape(&title)
        );
    }
    for p in points {
        let (x, y) = px(p.lon, p.lat);
        let _ = write!(
            o,
            r##"<circle class="hotspot{}" cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{}" stroke="#000" stroke-width="0.6"><title>{:.4}, {:.4}{}</title></circle>"##,
            if p.masked { " masked" } else { "" },
            if p.masked { "#7f7f7f" } else { "#ff7f00" },
            p.lat,
            p.lon,
            if p.masked {
                lang.t("report.masked")
            } else {
                ""
            }
        );
    }

    // Scale bar (bottom left) and north arrow (top right), kept clear of names.
    let km_per_px = 111.32 / scale;
    let km = nice_km(width / 5.0 * km_per_px);
    let bar = km / km_per_px;
    let (bx, by) = (12.0, map_h - 14.0);
    let scale_text = lang.f("bulletin.scale", &[("n", &km)]);
    let scale_box = (
        bx - 4.0,
        by - 22.0,
        bx + bar.max(text_width(&scale_text, 13.0)) + 8.0,
        map_h,
    );
    let north_box = (width - 40.0, 0.0, width, 52.0);
    let _ = write!(
        o,
        r##"<g class="scale"><rect x="{bx:.1}" y="{by:.1}" width="{h:.1}" height="5" fill="#000"/><rect x="{mx:.1}" y="{by:.1}" width="{h:.1}" height="5" fill="#fff" stroke="#000" stroke-width="0.8"/><text x="{bx:.1}" y="{ty:.1}" font-size="13" fill="#000">{}</text></g>"##,
        escape(&scale_text),
        h = bar / 2.0,
        mx = bx + bar / 2.0,
        ty = by - 5.0,
    );
    let _ = write!(
        o,
        r##"<g class="north"><path d="M{x:.1} 8L{l:.1} 36L{x:.1} 29L{r:.1} 36Z" fill="#000"/><text x="{x:.1}" y="50" font-size="13" text-anchor="middle" fill="#000">{}</text></g>"##,
        escape(lang.t("bulletin.north")),
        x = width - 20.0,
        l = width - 29.0,
        r = width - 11.0,
    );

    // Names over the shapes and hotspots, placed so they never collide.
    let mut order: Vec<(usize, u64, f64)> = units
        .iter()
        .enumerate()
        .map(|(i, (code, shape))| {
            let fires = rows.get(code).map_or(0, |r| r.fire_points_after_masks);
            let area = shape
                .bounding_rect()
                .map_or(0.0, |r| r.width() * r.height());
            (i, fires, area)
        })
        .collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.total_cmp(&a.2)));
    let mut wanted = Vec::new();
    let mut names = Vec::new();
    for &(i, _, _) in &order {
        let (code, shape) = units[i];
        let Some(at) = shape.interior_point() else {
            continue;
        };
        // A city or province map draws its counties under the parent's code: one name each.
        if names.iter().any(|(c, _)| *c == code) {
            continue;
        }
        let (x, y) = px(at.x(), at.y());
        let name = rows.get(code).map_or(code, |r| r.name.as_str());
        wanted.push((x, y, text_width(name, LABEL_PX) + 4.0, LABEL_PX * 1.25));
        names.push((code, name));
    }
    let placed = place_labels(&wanted, (0.0, 0.0, width, map_h), &[scale_box, north_box]);
    let mut hidden = 0;
    for ((_, name), at) in names.iter().zip(&placed) {
        match at {
            Some((x, y)) => {
                let _ = write!(
                    o,
                    r##"<text class="label" x="{x:.1}" y="{:.1}" font-size="{LABEL_PX}" text-anchor="middle" fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke" stroke-linejoin="round">{}</text>"##,
                    y + LABEL_PX * 0.35,
                    escape(name)
                );
            }
            None => hidden += 1,
        }
    }

    // Legend under the map.
    let ly = map_h + 8.0;
    let _ = write!(
        o,
        r##"<g class="legend"><rect x="0" y="{map_h}" width="{width}" height="{LEGEND_HEIGHT}" fill="#fff"/><line x1="0" y1="{map_h}" x2="{width}" y2="{map_h}" stroke="#999"/><text x="10" y="{:.1}" font-size="13" fill="#000">{}</text>"##,
        ly + 12.0,
        escape(lang.t("bulletin.legend.fires"))
    );
    for k in 0..5 {
        let a = k as f64 / 4.0;
        let _ = write!(
            o,
            r##"<rect x="{:.1}" y="{:.1}" width="28" height="14" fill="{}" stroke="#555" stroke-width="0.6"/>"##,
            10.0 + 28.0 * k as f64,
            ly + 18.0,
            ramp(a, WHITE)
        );
    }
    let _ = write!(
        o,
        r##"<text x="10" y="{y:.1}" font-size="11" fill="#000">0</text><text x="150" y="{y:.1}" font-size="11" text-anchor="end" fill="#000">{max_fires}</text>"##,
        y = ly + 46.0,
    );
    let mut x = 180.0;
    let swatch = |o: &mut String, x: &mut f64, fill: &str, text: &str| {
        let _ = write!(
            o,
            r##"<rect x="{x:.1}" y="{:.1}" width="20" height="14" fill="{fill}" stroke="#555" stroke-width="0.6"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#000">{}</text>"##,
            ly + 18.0,
            *x + 25.0,
            ly + 29.0,
            escape(text)
        );
        *x += 25.0 + text_width(text, 13.0) + 16.0;
    };
    swatch(&mut o, &mut x, "url(#cloud)", lang.t("status.not_observed"));
    swatch(
        &mut o,
        &mut x,
        &ramp(0.0, YELLOW),
        lang.t("status.coverage_unknown"),
    );
    for (fill, text) in [
        ("#ff7f00", lang.t("bulletin.legend.hotspot")),
        ("#7f7f7f", lang.t("bulletin.legend.masked")),
    ] {
        let _ = write!(
            o,
            r##"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{fill}" stroke="#000" stroke-width="0.6"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#000">{}</text>"##,
            x + 5.0,
            ly + 25.0,
            x + 14.0,
            ly + 29.0,
            escape(text)
        );
        x += 14.0 + text_width(text, 13.0) + 16.0;
    }
    if hidden > 0 {
        let _ = write!(
            o,
            r##"<text class="hidden-names" x="180" y="{:.1}" font-size="11" fill="#555">{}</text>"##,
            ly + 50.0,
            escape(&lang.f("bulletin.map.hidden", &[("n", &hidden)]))
        );
    }
    o.push_str("</g></svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::facts::{CoverageFact, DayFacts, RankLevel, UnitHotspots};
    use crate::rank::table::{build, RankParams, UnitRef};
    use geo::{polygon, MultiPolygon};

    #[test]
    fn a_path_per_unit_and_a_circle_per_hotspot_inside_the_view() {
        let sq = |x0: f64| {
            MultiPolygon(vec![polygon![
                (x: x0, y: 35.0), (x: x0 + 0.5, y: 35.0), (x: x0 + 0.5, y: 35.5), (x: x0, y: 35.5)
            ]])
        };
        let (a, b) = (sq(114.0), sq(114.5));
        let facts = DayFacts {
            hotspots: vec![UnitHotspots {
                code: "A".into(),
                fire_points: 1,
                farmland: 1,
                after_masks: 1,
            }],
            coverage: vec![CoverageFact {
                scene_id: 1,
                code: "B".into(),
                land_pixels: 10,
                clear_pixels: 0,
            }],
            ..DayFacts::default()
        };
        let p = RankParams::for_test(RankLevel::County);
        let t = build(&facts, &[], &p);
        let pts = [
            MapPoint {
                lon: 114.25,
                lat: 35.25,
                masked: false,
            },
            MapPoint {
                lon: 114.75,
                lat: 35.4,
                masked: true,
            },
        ];
        let svg = map_svg(&t, &[("A", &a), ("B<", &b)], &pts, crate::i18n::Lang::ZhCn);
        assert_eq!(svg.matches("<path class=\"unit").count(), 2);
        assert_eq!(svg.matches("<circle class=\"hotspot").count(), 2);
        assert!(svg.contains("data-code=\"B&lt;\""));
        assert!(svg.contains("class=\"hotspot masked\""));
        // Every coordinate within the drawing.
        // The first value of an attribute, as a number.
        let attr = |name: &str| -> f64 {
            let rest = svg.split(&format!("{name}=\"")).nth(1).unwrap();
            rest.split('"').next().unwrap().parse().unwrap()
        };
        let (width, height) = (attr("width"), attr("height"));
        assert!(width <= WIDTH && height <= HEIGHT && width > 0.0 && height > 0.0);
        for c in svg.split("cx=\"").skip(1) {
            let x: f64 = c.split('"').next().unwrap().parse().unwrap();
            assert!((0.0..=width).contains(&x));
        }
        for c in svg.split("cy=\"").skip(1) {
            let y: f64 = c.split('"').next().unwrap().parse().unwrap();
            assert!((0.0..=height).contains(&y));
        }
    }

    #[test]
    fn placed_labels_never_overlap_and_stay_in_the_frame() {
        // Twenty labels wanted at nearly the same point: some move, the rest are left out.
        let wanted: Vec<_> = (0..20)
            .map(|i| (100.0 + i as f64, 100.0, 60.0, 16.0))
            .collect();
        let frame = (0.0, 0.0, 300.0, 200.0);
        let blocked = [(0.0, 150.0, 300.0, 200.0)];
        let at = place_labels(&wanted, frame, &blocked);
        let boxes: Vec<LabelBox> = wanted
            .iter()
            .zip(&at)
            .filter_map(|(w, a)| {
                a.map(|(x, y)| (x - w.2 / 2.0, y - w.3 / 2.0, x + w.2 / 2.0, y + w.3 / 2.0))
            })
            .collect();
        assert!(boxes.len() >= 3 && boxes.len() < 20, "{}", boxes.len());
        // The first keeps its own place.
        assert_eq!(at[0], Some((100.0, 100.0)));
        for (i, a) in boxes.iter().enumerate() {
            assert!(
                a.0 >= 0.0 && a.1 >= 0.0 && a.2 <= 300.0 && a.3 <= 150.0,
                "{a:?}"
            );
            for b in &boxes[i + 1..] {
                assert!(!overlaps(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn scale_bars_are_round_lengths() {
        assert_eq!(nice_km(37.0), 20.0);
        assert_eq!(nice_km(9.9), 5.0);
        assert_eq!(nice_km(1.0), 1.0);
        assert_eq!(nice_km(0.3), 0.2);
        assert_eq!(text_width("滑县 3", 10.0), 10.0 * 2.0 + 6.0 * 2.0);
    }

    #[test]
    fn a_crowded_map_draws_names_without_collisions_and_a_legend_and_scale() {
        // 40 small townships side by side with long names: they cannot all fit.
        let shapes: Vec<(String, MultiPolygon<f64>)> = (0..40)
            .map(|i| {
                let x0 = 114.0 + 0.02 * i as f64;
                (
                    format!("4105{i:02}"),
                    MultiPolygon(vec![polygon![
                        (x: x0, y: 35.0), (x: x0 + 0.02, y: 35.0), (x: x0 + 0.02, y: 35.05), (x: x0, y: 35.05)
                    ]]),
                )
            })
            .collect();
        let refs: Vec<UnitRef> = shapes
            .iter()
            .map(|(c, _)| UnitRef {
                code: c.clone(),
                name: format!("第{}示范乡镇", &c[4..]),
                parent: None,
                parent_name: None,
                cropland_ha: None,
            })
            .collect();
        let units: Vec<(&str, &MultiPolygon<f64>)> =
            shapes.iter().map(|(c, s)| (c.as_str(), s)).collect();
        let p = RankParams::for_test(RankLevel::County);
        let t = build(&DayFacts::default(), &refs, &p);
        let svg = map_svg(&t, &units, &[], crate::i18n::Lang::ZhCn);
        let num = |s: &str, name: &str| -> f64 {
            let rest = s.split(&format!("{name}=\"")).nth(1).unwrap();
            rest.split('"').next().unwrap().parse().unwrap()
        };
        let labels: Vec<(f64, f64, f64)> = svg
            .split("<text class=\"label\"")
            .skip(1)
            .map(|s| {
                let text = s.split('>').nth(1).unwrap().split('<').next().unwrap();
                (num(s, "x"), num(s, "y"), text_width(text, LABEL_PX) + 4.0)
            })
            .collect();
        assert!(!labels.is_empty() && labels.len() < 40, "{}", labels.len());
        for (i, a) in labels.iter().enumerate() {
            for b in &labels[i + 1..] {
                let apart =
                    (a.0 - b.0).abs() >= (a.2 + b.2) / 2.0 || (a.1 - b.1).abs() >= LABEL_PX * 1.25;
                assert!(apart, "{a:?} {b:?}");
            }
        }
        let hidden = 40 - labels.len();
        assert!(
            svg.contains(&format!("另有{hidden}个地区因图幅所限未标注名称")),
            "{svg}"
        );
        assert!(svg.contains("<g class=\"legend\">") && svg.contains("云覆盖，无有效观测"));
        assert!(svg.contains("<g class=\"scale\">") && svg.contains("千米</text>"));
        assert!(svg.contains("<g class=\"north\">"));
    }
}
