//! Masks: places where a hotspot is probably not a straw fire. Point sources with a radius
//! (power plants, steelworks, confirmed false-alarm sites) and polygons with a priority
//! (burn-ban zones; sensitive areas such as airports and expressways).
//!
//! A masked hotspot is labelled with the mask and its reason, never dropped: the command
//! center decides, and a wrong mask must stay visible. When several masks apply, the one with
//! the highest priority wins; among equals the nearest point source, then the first polygon.

use geo::{Intersects, MultiPolygon, Point};
use rstar::primitives::GeomWithData;
use rstar::{RTree, AABB};

use super::index::PolygonIndex;
use crate::raster::georef::haversine_m;

/// A point heat source, WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct PointMask {
    pub name: String,
    pub reason: String,
    pub lon: f64,
    pub lat: f64,
    pub radius_m: f64,
    pub priority: i32,
}

/// A masked area, WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaMask {
    pub name: String,
    pub reason: String,
    pub priority: i32,
    pub shape: MultiPolygon<f64>,
}

/// Why a hotspot is masked.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskHit {
    pub name: String,
    pub reason: String,
    pub priority: i32,
    /// Distance to the point source, m; `None` for an area mask.
    pub distance_m: Option<f64>,
}

impl MaskHit {
    /// The `mask` column: `reason: name` and, for point sources, the distance.
    pub fn label(&self) -> String {
        match self.distance_m {
            Some(d) => format!("{}: {} ({:.0} m)", self.reason, self.name, d),
            None => format!("{}: {}", self.reason, self.name),
        }
    }
}

/// Metres per degree of latitude on the mean sphere (bounding boxes only; distances are exact).
const M_PER_DEG_LAT: f64 = 111_195.0;

/// All masks, indexed once.
pub struct MaskSet {
    points: Vec<PointMask>,
    point_tree: RTree<GeomWithData<[f64; 2], usize>>,
    max_radius_m: f64,
    areas: Vec<AreaMask>,
    area_index: PolygonIndex,
}

impl MaskSet {
    pub fn new(points: Vec<PointMask>, areas: Vec<AreaMask>) -> Self {
        let point_tree = RTree::bulk_load(
            points
                .iter()
                .enumerate()
                .map(|(i, p)| GeomWithData::new([p.lon, p.lat], i))
                .collect(),
        );
        let max_radius_m = points.iter().map(|p| p.radius_m).fold(0.0, f64::max);
        let area_index = PolygonIndex::new(areas.iter().map(|a| a.shape.clone()).collect());
        MaskSet {
            points,
            point_tree,
            max_radius_m,
            areas,
            area_index,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.areas.is_empty()
    }

    /// Number of point and area masks.
    pub fn len(&self) -> usize {
        self.points.len() + self.areas.len()
    }

    /// The mask that applies at `(lon, lat)`, if any.
    pub fn check(&self, lon: f64, lat: f64) -> Option<MaskHit> {
        let mut best: Option<MaskHit> = None;
        let mut consider = |hit: MaskHit| {
            let better = match &best {
                None => true,
                Some(b) => {
                    hit.priority > b.priority
                        || (hit.priority == b.priority
                            && hit.distance_m.unwrap_or(f64::INFINITY)
                                < b.distance_m.unwrap_or(f64::INFINITY))
                }
            };
            if better {
                best = Some(hit);
            }
        };
        if self.max_radius_m > 0.0 {
            let dlat = self.max_radius_m / M_PER_DEG_LAT;
            let dlon = dlat / lat.to_radians().cos().max(0.01);
            let env = AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
            for e in self.point_tree.locate_in_envelope(&env) {
                let m = &self.points[e.data];
                let d = haversine_m((lon, lat), (m.lon, m.lat));
                if d <= m.radius_m {
                    consider(MaskHit {
                        name: m.name.clone(),
                        reason: m.reason.clone(),
                        priority: m.priority,
                        distance_m: Some(d),
                    });
                }
            }
        }
        for i in self.area_index.containing(lon, lat) {
            let a = &self.areas[i];
            consider(MaskHit {
                name: a.name.clone(),
                reason: a.reason.clone(),
                priority: a.priority,
                distance_m: None,
            });
        }
        best
    }

    /// The same answer as [`Self::check`] by testing every mask (oracle for tests).
    pub fn check_reference(&self, lon: f64, lat: f64) -> Option<MaskHit> {
        let mut hits: Vec<MaskHit> = Vec::new();
        for m in &self.points {
            let d = haversine_m((lon, lat), (m.lon, m.lat));
            if d <= m.radius_m {
                hits.push(MaskHit {
                    name: m.name.clone(),
                    reason: m.reason.clone(),
                    priority: m.priority,
                    distance_m: Some(d),
                });
            }
        }
        for a in &self.areas {
            if a.shape.intersects(&Point::new(lon, lat)) {
                hits.push(MaskHit {
                    name: a.name.clone(),
                    reason: a.reason.clone(),
                    priority: a.priority,
                    distance_m: None,
                });
            }
        }
        hits.into_iter().reduce(|b, h| {
            let better = h.priority > b.priority
                || (h.priority == b.priority
                    && h.distance_m.unwrap_or(f64::INFINITY)
                        < b.distance_m.unwrap_or(f64::INFINITY));
            if better {
                h
            } else {
                b
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Rect;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn plant(name: &str, lon: f64, lat: f64, radius_m: f64) -> PointMask {
        PointMask {
            name: name.into(),
            reason: "power plant".into(),
            lon,
            lat,
            radius_m,
            priority: 0,
        }
    }

    #[test]
    fn point_source_masks_within_its_radius_only() {
        let set = MaskSet::new(vec![plant("Hebi", 114.3, 35.7, 1000.0)], vec![]);
        // 0.005° of latitude ≈ 556 m: inside; 0.01° ≈ 1112 m: outside.
        let hit = set.check(114.3, 35.705).expect("inside radius");
        assert_eq!(hit.label(), "power plant: Hebi (556 m)");
        assert!(set.check(114.3, 35.71).is_none());
    }

    #[test]
    fn higher_priority_area_wins_and_nearest_point_among_equals() {
        let zone = AreaMask {
            name: "Xinzheng airport".into(),
            reason: "airport".into(),
            priority: 5,
            shape: MultiPolygon(vec![Rect::new((113.8, 34.5), (113.9, 34.6)).to_polygon()]),
        };
        let set = MaskSet::new(
            vec![
                plant("A", 113.85, 34.55, 10_000.0),
                plant("B", 113.86, 34.55, 10_000.0),
            ],
            vec![zone],
        );
        assert_eq!(set.check(113.85, 34.55).unwrap().reason, "airport");
        assert_eq!(set.check(113.861, 34.62).unwrap().name, "B");
    }

    #[test]
    fn indexed_check_equals_linear_scan() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let points = (0..500)
            .map(|i| {
                let mut p = plant(
                    &format!("p{i}"),
                    rng.gen_range(114.0..115.0),
                    rng.gen_range(35.0..36.0),
                    rng.gen_range(200.0..5000.0),
                );
                p.priority = rng.gen_range(0..3);
                p
            })
            .collect();
        let areas = (0..50)
            .map(|i| {
                let (x, y) = (rng.gen_range(114.0..115.0), rng.gen_range(35.0..36.0));
                AreaMask {
                    name: format!("a{i}"),
                    reason: "burn-ban zone".into(),
                    priority: rng.gen_range(0..3),
                    shape: MultiPolygon(vec![Rect::new((x, y), (x + 0.05, y + 0.05)).to_polygon()]),
                }
            })
            .collect();
        let set = MaskSet::new(points, areas);
        let mut hits = 0;
        for _ in 0..3000 {
            let (lon, lat) = (rng.gen_range(114.0..115.0), rng.gen_range(35.0..36.0));
            let fast = set.check(lon, lat);
            assert_eq!(fast, set.check_reference(lon, lat));
            hits += usize::from(fast.is_some());
        }
        assert!(hits > 300, "{hits}");
    }
}
