//! Where a detection lies: county, township, village, parcel and mask. The locate step fills it;
//! fuse and the store only carry it. [`Placer`] is the seam: the R-tree matcher of `locate/`
//! implements it, and a service without layers uses [`NoPlacer`].

use serde::Serialize;

/// Unit codes, parcel and mask of one position. Empty fields mean "not known".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// 6-digit adcode.
    pub county: Option<String>,
    /// 9-digit code.
    pub township: Option<String>,
    pub village: Option<String>,
    pub parcel: Option<String>,
    /// The mask that flags it as not agricultural (industrial site, confirmed false alarm, ...).
    pub mask: Option<String>,
}

/// The locate step as fuse sees it. Implementations must be cheap per call (an index built once).
pub trait Placer: Send + Sync {
    /// Places a detection at pixel centre (lon, lat) with the given footprint (m).
    fn place(&self, lon: f64, lat: f64, footprint_m: f64) -> Placement;

    /// The indexed administrative layers (names, parents, cropland area, boundaries) for
    /// rankings and maps; none by default.
    fn admin_layers(&self) -> &[crate::locate::UnitLayer] {
        &[]
    }

    /// The indexed parcel (farmland) layer, if one is loaded.
    fn parcel_layer(&self) -> Option<&crate::locate::UnitLayer> {
        None
    }
}

/// No layers loaded: nothing is placed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPlacer;

impl Placer for NoPlacer {
    fn place(&self, _lon: f64, _lat: f64, _footprint_m: f64) -> Placement {
        Placement::default()
    }
}

/// The locate step: the R-tree matcher over admin units, parcels and masks. The detection's
/// footprint is taken as a square of `footprint_m` (the larger pixel side); the parcel is the one
/// with the largest share of it.
impl Placer for crate::locate::Locator {
    fn place(&self, lon: f64, lat: f64, footprint_m: f64) -> Placement {
        let km = footprint_m / 1000.0;
        let query = crate::locate::Query {
            lon,
            lat,
            scan_km: km,
            track_km: km,
        };
        // Borrowed: only the codes and the best parcel's id are copied, not the units' names
        // nor every parcel under the footprint.
        let here = self.locate_all(std::slice::from_ref(&query));
        let loc = here.get(0);
        Placement {
            county: loc.county.map(|u| u.code.clone()),
            township: loc.township.map(|u| u.code.clone()),
            village: loc.village.map(|u| u.code.clone()),
            parcel: loc.parcels.first().map(|(id, _)| id.to_string()),
            mask: loc.mask.map(|m| m.label()),
        }
    }

    fn admin_layers(&self) -> &[crate::locate::UnitLayer] {
        crate::locate::Locator::admin_layers(self)
    }

    fn parcel_layer(&self) -> Option<&crate::locate::UnitLayer> {
        crate::locate::Locator::parcel_layer(self)
    }
}
