//! Feedback from verdicts into locate: confirmed false-alarm sites mask later detections.
//!
//! The locate layers (and the `Placer` built from them) are loaded once and immutable, while an
//! admin confirms mask candidates at run time. [`WithConfirmedMasks`] wraps the placer: it places
//! as before, then labels the detection with a confirmed site within that site's radius. The
//! confirmed sites come from the store: read at start, grown at once on the node that confirms
//! one, and read again by every node before it locates a batch ([`ConfirmedMasks::replace`]),
//! so a site confirmed on one API node or worker masks on all of them from their next batch,
//! not only after a restart (#19).

use std::sync::{Arc, RwLock};

use crate::fuse::{Placement, Placer};
use crate::raster::georef::haversine_m;

/// A confirmed point mask.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmedSite {
    /// The mask candidate it came from.
    pub candidate_id: i64,
    pub lon: f64,
    pub lat: f64,
    pub radius_m: f64,
    /// Why (`no_fire_industrial`, `repeated no_fire_other`).
    pub reason: String,
}

/// The confirmed sites, shared between the placer and the service that confirms them.
#[derive(Debug, Default)]
pub struct ConfirmedMasks {
    sites: RwLock<Vec<ConfirmedSite>>,
}

impl ConfirmedMasks {
    pub fn add(&self, site: ConfirmedSite) {
        let mut sites = self.sites.write().unwrap_or_else(|e| e.into_inner());
        if !sites.iter().any(|s| s.candidate_id == site.candidate_id) {
            sites.push(site);
        }
    }

    /// The sites as the store has them now (the list is read whole: confirmed sites number in
    /// the tens, and a candidate once confirmed stays so).
    pub fn replace(&self, sites: Vec<ConfirmedSite>) {
        let mut now = self.sites.write().unwrap_or_else(|e| e.into_inner());
        if *now != sites {
            *now = sites;
        }
    }

    pub fn len(&self) -> usize {
        self.sites.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The mask label of the nearest confirmed site covering (lon, lat), as locate writes
    /// labels: `reason: name (d m)`. A linear scan: confirmed sites number in the tens.
    pub fn hit(&self, lon: f64, lat: f64) -> Option<String> {
        let sites = self.sites.read().unwrap_or_else(|e| e.into_inner());
        sites
            .iter()
            .map(|s| (s, haversine_m((s.lon, s.lat), (lon, lat))))
            .filter(|(s, d)| *d <= s.radius_m)
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(s, d)| {
                format!(
                    "confirmed false alarm: candidate {} {} ({d:.0} m)",
                    s.candidate_id, s.reason
                )
            })
    }
}

/// A placer that also applies the confirmed sites. A confirmed site overrides a mask of the
/// layers: it was confirmed by an admin for this exact place.
pub struct WithConfirmedMasks {
    pub inner: Arc<dyn Placer>,
    pub masks: Arc<ConfirmedMasks>,
}

impl Placer for WithConfirmedMasks {
    fn place(&self, lon: f64, lat: f64, footprint_m: f64) -> Placement {
        let mut pl = self.inner.place(lon, lat, footprint_m);
        if let Some(label) = self.masks.hit(lon, lat) {
            pl.mask = Some(label);
        }
        pl
    }

    fn admin_layers(&self) -> &[crate::locate::UnitLayer] {
        self.inner.admin_layers()
    }

    fn parcel_layer(&self) -> Option<&crate::locate::UnitLayer> {
        self.inner.parcel_layer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuse::NoPlacer;

    #[test]
    fn confirmed_sites_mask_within_their_radius_only() {
        let masks = Arc::new(ConfirmedMasks::default());
        let p = WithConfirmedMasks {
            inner: Arc::new(NoPlacer),
            masks: masks.clone(),
        };
        assert_eq!(p.place(114.3, 35.6, 375.0).mask, None);
        masks.add(ConfirmedSite {
            candidate_id: 4,
            lon: 114.3,
            lat: 35.6,
            radius_m: 500.0,
            reason: "no_fire_industrial".into(),
        });
        let label = p.place(114.303, 35.6, 375.0).mask.unwrap();
        assert!(
            label.starts_with("confirmed false alarm: candidate 4"),
            "{label}"
        );
        // About 900 m east: outside.
        assert_eq!(p.place(114.31, 35.6, 375.0).mask, None);
        masks.add(ConfirmedSite {
            candidate_id: 4,
            lon: 0.0,
            lat: 0.0,
            radius_m: 1.0,
            reason: String::new(),
        });
        assert_eq!(masks.len(), 1);
        // Read again from the store: what it holds, whatever this node added.
        masks.replace(vec![ConfirmedSite {
            candidate_id: 9,
            lon: 114.31,
            lat: 35.6,
            radius_m: 100.0,
            reason: "no_fire_industrial".into(),
        }]);
        assert_eq!(masks.len(), 1);
        assert_eq!(p.place(114.303, 35.6, 375.0).mask, None);
        assert!(p.place(114.31, 35.6, 375.0).mask.is_some());
    }
}
