//! The day's map, drawn server-side as one inline SVG: unit boundaries shaded by the day's
//! status and fire points, and a circle per hotspot. Drawn here (not by a map library in the
//! browser) so the report is one file that opens offline and can be forwarded.
//!
//! Projection: equirectangular with x scaled by cos(mean latitude), enough for a county or a
//! province; boundaries are simplified (Ramer–Douglas–Peucker) to about a pixel of the drawing.

use std::collections::HashMap;
use std::fmt::Write;

use geo::{BoundingRect, InteriorPoint, MultiPolygon, Simplify};

use super::fair::Status;
use super::table::DailyRanking;

/// Largest width of the drawing, px.
pub const WIDTH: f64 = 800.0;
/// Largest height of the drawing, px (a tall province still fits a screen).
pub const HEIGHT: f64 = 640.0;

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

/// Draws the map of a table. `units` are (code, boundary) of the table's level; units without
/// a row are drawn unshaded.
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
    let pad = ((e0 - w0).max(n0 - s0) * 0.03).max(0.01);
    let (w, s, e, n) = (w0 - pad, s0 - pad, e0 + pad, n0 + pad);
    let kx = ((s + n) / 2.0).to_radians().cos();
    let scale = (WIDTH / ((e - w) * kx)).min(HEIGHT / (n - s));
    let width = ((e - w) * kx * scale).ceil();
    let height = ((n - s) * scale).ceil();
    let px = |lon: f64, lat: f64| ((lon - w) * kx * scale, (n - lat) * scale);
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
                    (255.0, 250.0, 205.0)
                } else {
                    (255.0, 255.0, 255.0)
                };
                let mix = |c: f64, target: f64| (c + (target - c) * a).round() as u8;
                (
                    format!(
                        "#{:02x}{:02x}{:02x}",
                        mix(base.0, 215.0),
                        mix(base.1, 48.0),
                        mix(base.2, 39.0)
                    ),
                    r.status,
                )
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
    // Names over the shapes, under the hotspots.
    for (code, shape) in units {
        if let Some(at) = shape.interior_point() {
            let (x, y) = px(at.x(), at.y());
            let name = rows.get(code).map_or(*code, |r| r.name.as_str());
            let _ = write!(
                o,
                r##"<text class="label" x="{x:.1}" y="{y:.1}" font-size="11" text-anchor="middle" fill="#333">{}</text>"##,
                escape(name)
            );
        }
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
    o.push_str("</svg>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rank::facts::{CoverageFact, DayFacts, RankLevel, UnitHotspots};
    use crate::rank::table::{build, RankParams};
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
}
