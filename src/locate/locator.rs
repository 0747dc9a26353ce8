//! The matcher: every hotspot to its county, township, village (by pixel centre), parcels (by
//! pixel footprint) and mask. Built once from loaded layers, then shared read-only by all
//! queries; [`Locator::locate_all`] spreads a batch over rayon threads.

use geo::Rect;
use rayon::prelude::*;

use super::index::{ItemOverlap, PolygonIndex};
use super::layer::{load_layer, AreaFeature, LayerError};
use super::mask::{MaskHit, MaskSet};
use super::packed::{hilbert_order, Bbox};
use super::spec::{LayerSpec, Level};
use super::units::Units;

/// Hotspots matched one after another by a rayon task in [`Locator::locate_all`]: consecutive
/// along the Hilbert curve, so that their parcels share the cache.
const RUN: usize = 512;

/// Parcels per hotspot a run reserves room for: field-scale batches average ≈ 22 (a 375 m
/// VIIRS pixel ≈ 60, a 30 m one 1–4). Grown from nothing, the vectors were copied about a
/// dozen times and touched twice the fresh pages; room not used is never touched.
const PAIRS_RESERVED: usize = 32;

/// Mean metres per degree of latitude (footprint size only).
const M_PER_DEG_LAT: f64 = 111_195.0;

/// The attributes of one unit or parcel, without its geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitInfo {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub cropland_ha: Option<f64>,
}

/// One indexed layer.
pub struct UnitLayer {
    pub level: Level,
    /// The units in the order given (`units[i]` is the unit of `index.shape(i)`); their texts
    /// are kept in the index's item order, the [`UnitInfo`]s made on first use ([`Units`]).
    pub units: Units,
    pub index: PolygonIndex,
}

impl UnitLayer {
    /// Indexes the features of a layer (several files of the same level are concatenated first).
    pub fn new(level: Level, features: Vec<AreaFeature>) -> Self {
        let (units, shapes): (Vec<UnitInfo>, Vec<_>) = features
            .into_iter()
            .map(|f| {
                (
                    UnitInfo {
                        code: f.code,
                        name: f.name,
                        parent: f.parent,
                        cropland_ha: f.cropland_ha,
                    },
                    f.shape,
                )
            })
            .unzip();
        let index = PolygonIndex::new(shapes);
        let units = Units::from_infos(units, index.item_order());
        Self::from_parts(level, units, index)
    }

    /// Loads a layer and indexes it: what [`load_layer`] then [`UnitLayer::new`] give (the same
    /// units, index and warnings), except that a plain GeoPackage goes from its WKB straight
    /// into the index's flat rings, without a `geo` shape per feature in between (a parcel
    /// layer of 300,000 fields), and its units' texts straight into the index's item order,
    /// without a string per feature. `level` is the layer's level as [`load_layer`]'s implied
    /// one.
    pub fn load(spec: &LayerSpec, level: Level) -> Result<(UnitLayer, Vec<String>), LayerError> {
        let load_level = spec.level.unwrap_or(level);
        if let Some(flat) = super::gpkg::try_load_flat(spec, load_level) {
            let (index, texts) = PolygonIndex::from_flat_parts_with_texts(&flat.parts, &flat.texts);
            // The pieces as read (≈ 60 MB for 300,000 parcels) are given back on every core:
            // freeing their pages took one core ≈ 10 ms while the other waited.
            let (parts, part_texts) = (flat.parts, flat.texts);
            rayon::join(
                || parts.into_par_iter().for_each(drop),
                || part_texts.into_par_iter().for_each(drop),
            );
            let units = Units::new(texts, index.item_order());
            return Ok((Self::from_parts(level, units, index), flat.warnings));
        }
        let layer = load_layer(spec, Some(level))?;
        Ok((UnitLayer::new(level, layer.areas), layer.warnings))
    }

    fn from_parts(level: Level, units: Units, index: PolygonIndex) -> Self {
        UnitLayer {
            level,
            units,
            index,
        }
    }

    /// The id of item `item` of the index (its tree's order, as
    /// [`super::index::ItemOverlap::item`] gives it), read from the units' texts kept in that
    /// order.
    #[inline]
    pub fn item_code(&self, item: usize) -> &str {
        self.units.item_code(item)
    }

    /// The parcels under a footprint, largest share first, as owned shares.
    fn shares(&self, footprint: Rect<f64>) -> Vec<ParcelShare> {
        let mut scratch = Vec::new();
        self.index.overlaps_into(footprint, &mut scratch);
        scratch
            .iter()
            .map(|o| ParcelShare {
                id: self.item_code(o.item).to_owned(),
                fraction: o.overlap.fraction,
            })
            .collect()
    }

    /// The parcels under a footprint, largest share first, appended to `run` as the answer of
    /// its next hotspot; `scratch` is reused between calls.
    fn shares_into(&self, footprint: Rect<f64>, scratch: &mut Vec<ItemOverlap>, run: &mut Run) {
        self.index.overlaps_into(footprint, scratch);
        for o in scratch.iter() {
            run.items.push(o.item as u32);
            run.fractions.push(o.overlap.fraction);
        }
        run.ends.push(run.items.len() as u32);
    }
}

/// What a hotspot is to be matched with: its pixel centre and size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Query {
    pub lon: f64,
    pub lat: f64,
    /// Pixel size across track (FIRMS `scan`) and along track (`track`), km.
    pub scan_km: f64,
    pub track_km: f64,
}

impl Query {
    /// The pixel footprint as a lon/lat rectangle: `scan` east–west, `track` north–south.
    /// Polar orbiters cross mid-latitudes about 10–15° off north, so the true footprint is a
    /// slightly rotated rectangle; the axis-aligned one shares most of its area, and the
    /// overlap fractions are meant to rank fields, not to survey them.
    pub fn footprint(&self) -> Rect<f64> {
        let half_h_deg = self.track_km * 500.0 / M_PER_DEG_LAT;
        let half_w_deg =
            self.scan_km * 500.0 / (M_PER_DEG_LAT * self.lat.to_radians().cos().max(0.01));
        Rect::new(
            (self.lon - half_w_deg, self.lat - half_h_deg),
            (self.lon + half_w_deg, self.lat + half_h_deg),
        )
    }
}

/// A parcel under the footprint.
#[derive(Debug, Clone, PartialEq)]
pub struct ParcelShare {
    pub id: String,
    /// Share of the footprint on this parcel, 0–1.
    pub fraction: f64,
}

/// Where a hotspot is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Location {
    pub county: Option<UnitInfo>,
    pub township: Option<UnitInfo>,
    pub village: Option<UnitInfo>,
    /// Every parcel under the footprint, largest share first (the first is "the" parcel).
    pub parcels: Vec<ParcelShare>,
    pub mask: Option<MaskHit>,
    /// True when admin layers were given and the centre lies in none of their units.
    pub outside_admin: bool,
}

/// The matcher over all loaded layers.
///
/// # Examples
/// ```
/// use strawfire::locate::{gcj02, load_layer, LayerSpec, Locator, MaskSet, Query, UnitLayer};
/// let spec = LayerSpec::parse(
///     "samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02",
/// )?;
/// let counties = load_layer(&spec, None)?; // GCJ-02 in the file, WGS84 from here on
/// let locator = Locator::new(
///     vec![UnitLayer::new(counties.level, counties.areas)],
///     None,
///     MaskSet::new(vec![], vec![]),
/// );
/// // A VIIRS hotspot (WGS84) in 滑县: the point AMap shows at (114.52, 35.58).
/// let (lon, lat) = gcj02::gcj02_to_wgs84(114.52, 35.58);
/// let here = locator.locate(Query { lon, lat, scan_km: 0.375, track_km: 0.375 });
/// assert_eq!(here.county.unwrap().name, "滑县");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Locator {
    admin: Vec<UnitLayer>,
    parcels: Option<UnitLayer>,
    masks: MaskSet,
}

impl Locator {
    /// Admin layers may be given in any order and any number per level.
    pub fn new(admin: Vec<UnitLayer>, parcels: Option<UnitLayer>, masks: MaskSet) -> Self {
        Locator {
            admin,
            parcels,
            masks,
        }
    }

    /// Indexed admin layers.
    pub fn admin_layers(&self) -> &[UnitLayer] {
        &self.admin
    }

    /// The indexed parcel layer, if one was loaded.
    pub fn parcel_layer(&self) -> Option<&UnitLayer> {
        self.parcels.as_ref()
    }

    /// Matches one hotspot. When a point lies in several units of one level (overlapping
    /// borders in the source data), the first unit in file order wins.
    pub fn locate(&self, q: Query) -> Location {
        let [county, township, village] = self.units_of(q);
        Location {
            county: county.cloned(),
            township: township.cloned(),
            village: village.cloned(),
            parcels: self
                .parcels
                .as_ref()
                .map(|p| p.shares(q.footprint()))
                .unwrap_or_default(),
            mask: self.masks.check(q.lon, q.lat),
            outside_admin: self.outside_admin(&[county, township, village]),
        }
    }

    /// The county, township and village holding the pixel centre.
    fn units_of(&self, q: Query) -> [Option<&UnitInfo>; 3] {
        let mut units = [None; 3];
        for layer in &self.admin {
            let Some(&i) = layer.index.containing(q.lon, q.lat).first() else {
                continue;
            };
            let slot = match layer.level {
                Level::County => &mut units[0],
                Level::Township => &mut units[1],
                Level::Village => &mut units[2],
                Level::Parcel | Level::Mask => continue,
            };
            if slot.is_none() {
                *slot = Some(&layer.units[i]);
            }
        }
        units
    }

    /// True when admin layers were given and `units` (of [`Self::units_of`]) holds none.
    fn outside_admin(&self, units: &[Option<&UnitInfo>; 3]) -> bool {
        !self.admin.is_empty() && units.iter().all(Option::is_none)
    }

    /// Matches a batch in parallel: the answers in input order, each what [`Self::locate`]
    /// gives for its hotspot ([`Locations::get`], [`LocationRef::to_location`]).
    ///
    /// The parcels are matched in the order of the hotspots' centres along a Hilbert curve,
    /// each rayon task taking a run of that order: hotspots arrive in no spatial order, and a
    /// footprint's parcels, taken one hotspot after another at random, were mostly not in
    /// cache; along the curve the next footprint's parcels are mostly the last one's. The
    /// answers stay where their run put them (a run's parcels in two flat vectors), found
    /// through each hotspot's place in the curve order, instead of a vector of owned shares
    /// per hotspot put back in input order: 2.2 million shares of 100,000 field-scale
    /// hotspots were 53 MB of fresh pages and as many reference counts taken.
    pub fn locate_all(&self, queries: &[Query]) -> Locations<'_> {
        // A batch of one run or less (the service places one detection at a time) is matched
        // on the calling thread, in the order given: a trip through the thread pool would
        // cost more than the match, and each answer is the same in any order.
        let parallel = queries.len() > RUN;
        let (rank, runs) = match &self.parcels {
            Some(layer) => {
                let match_run = |run_order: &[usize]| {
                    // The run's footprints first: its hotspots lie anywhere in `queries`, and
                    // read one before each match every read waited for memory (7 % of the
                    // match); read in one pass, the reads do not wait for each other.
                    let footprints: Vec<Rect<f64>> =
                        run_order.iter().map(|&i| queries[i].footprint()).collect();
                    let mut scratch = Vec::new();
                    let mut run = Run::with_capacity(run_order.len());
                    for footprint in footprints {
                        layer.shares_into(footprint, &mut scratch, &mut run);
                    }
                    run
                };
                if parallel {
                    let centres: Vec<Bbox> = queries
                        .iter()
                        .map(|q| [q.lon, q.lat, q.lon, q.lat])
                        .collect();
                    let order = hilbert_order(&centres);
                    let mut rank = vec![0u32; queries.len()];
                    for (k, &i) in order.iter().enumerate() {
                        rank[i] = k as u32;
                    }
                    (rank, order.par_chunks(RUN).map(match_run).collect())
                } else {
                    let order: Vec<usize> = (0..queries.len()).collect();
                    let rank = (0..queries.len() as u32).collect();
                    (rank, vec![match_run(&order)])
                }
            }
            None => (Vec::new(), Vec::new()),
        };
        let units = match (self.admin.is_empty(), parallel) {
            (true, _) => Vec::new(),
            (false, true) => queries.par_iter().map(|&q| self.units_of(q)).collect(),
            (false, false) => queries.iter().map(|&q| self.units_of(q)).collect(),
        };
        let mask_of = |(i, q): (usize, &Query)| self.masks.check(q.lon, q.lat).map(|m| (i, m));
        let masks = match (self.masks.is_empty(), parallel) {
            (true, _) => Vec::new(),
            (false, true) => queries.par_iter().enumerate().filter_map(mask_of).collect(),
            (false, false) => queries.iter().enumerate().filter_map(mask_of).collect(),
        };
        Locations {
            locator: self,
            len: queries.len(),
            rank,
            runs,
            units,
            masks,
        }
    }
}

/// The parcels of one run of hotspots matched together, flat: hotspot `s` of the run has the
/// items (of the parcel index, its tree's order) and shares `ends[s - 1]..ends[s]`.
#[derive(Debug, Default)]
struct Run {
    ends: Vec<u32>,
    items: Vec<u32>,
    fractions: Vec<f64>,
}

impl Run {
    /// Room for `hotspots` answers of [`PAIRS_RESERVED`] parcels each on average.
    fn with_capacity(hotspots: usize) -> Self {
        Run {
            ends: Vec::with_capacity(hotspots),
            items: Vec::with_capacity(hotspots * PAIRS_RESERVED),
            fractions: Vec::with_capacity(hotspots * PAIRS_RESERVED),
        }
    }

    /// The items and shares of hotspot `s` of the run.
    fn parcels(&self, s: usize) -> (&[u32], &[f64]) {
        let start = if s == 0 { 0 } else { self.ends[s - 1] as usize };
        let end = self.ends[s] as usize;
        (&self.items[start..end], &self.fractions[start..end])
    }
}

impl std::fmt::Debug for Parcels<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The answers of a batch ([`Locator::locate_all`]), in input order, borrowed from the
/// locator: unit records and parcel ids are referred to, not copied.
pub struct Locations<'a> {
    locator: &'a Locator,
    len: usize,
    /// Per hotspot, its place in the matching order: run `rank / RUN`, slot `rank % RUN`
    /// (empty without a parcel layer).
    rank: Vec<u32>,
    runs: Vec<Run>,
    /// Per hotspot, its county, township and village (empty without admin layers).
    units: Vec<[Option<&'a UnitInfo>; 3]>,
    /// The masked hotspots, ascending.
    masks: Vec<(usize, MaskHit)>,
}

impl<'a> Locations<'a> {
    /// Number of hotspots.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The answer for hotspot `i` (input order).
    ///
    /// # Panics
    /// When `i` is not below [`Self::len`].
    pub fn get(&self, i: usize) -> LocationRef<'_> {
        assert!(i < self.len, "hotspot {i} of {}", self.len);
        let [county, township, village] = self.units.get(i).copied().unwrap_or_default();
        let parcels = match (&self.locator.parcels, self.rank.get(i)) {
            (Some(layer), Some(&rank)) => {
                let rank = rank as usize;
                let (items, fractions) = self.runs[rank / RUN].parcels(rank % RUN);
                Parcels {
                    layer: Some(layer),
                    items,
                    fractions,
                }
            }
            _ => Parcels::default(),
        };
        LocationRef {
            county,
            township,
            village,
            parcels,
            mask: self
                .masks
                .binary_search_by_key(&i, |(k, _)| *k)
                .ok()
                .map(|k| &self.masks[k].1),
            outside_admin: self.locator.outside_admin(&[county, township, village]),
        }
    }

    /// The answers in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = LocationRef<'_>> + '_ {
        (0..self.len).map(|i| self.get(i))
    }

    /// Every answer owned, as [`Locator::locate`] gives them.
    pub fn to_vec(&self) -> Vec<Location> {
        self.iter().map(|l| l.to_location()).collect()
    }
}

/// Where a hotspot is: [`Location`] borrowed from a batch's answers ([`Locations::get`]).
#[derive(Debug, Clone, Copy)]
pub struct LocationRef<'a> {
    pub county: Option<&'a UnitInfo>,
    pub township: Option<&'a UnitInfo>,
    pub village: Option<&'a UnitInfo>,
    /// Every parcel under the footprint, largest share first.
    pub parcels: Parcels<'a>,
    pub mask: Option<&'a MaskHit>,
    /// True when admin layers were given and the centre lies in none of their units.
    pub outside_admin: bool,
}

impl LocationRef<'_> {
    /// The owned answer (what [`Locator::locate`] gives).
    pub fn to_location(&self) -> Location {
        Location {
            county: self.county.cloned(),
            township: self.township.cloned(),
            village: self.village.cloned(),
            parcels: self.parcels.to_vec(),
            mask: self.mask.cloned(),
            outside_admin: self.outside_admin,
        }
    }
}

/// The parcels under a footprint, largest share first (the first is "the" parcel), borrowed.
#[derive(Clone, Copy, Default)]
pub struct Parcels<'a> {
    layer: Option<&'a UnitLayer>,
    items: &'a [u32],
    fractions: &'a [f64],
}

impl<'a> Parcels<'a> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The parcel with the largest share: its id and share.
    pub fn first(&self) -> Option<(&'a str, f64)> {
        self.iter().next()
    }

    /// Each parcel's id and share of the footprint (0–1), largest share first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&'a str, f64)> + 'a {
        let layer = self.layer;
        self.items
            .iter()
            .zip(self.fractions)
            .map(move |(&item, &fraction)| {
                let layer = layer.expect("items come with their layer");
                (layer.item_code(item as usize), fraction)
            })
    }

    /// The shares owned, as in [`Location::parcels`].
    pub fn to_vec(&self) -> Vec<ParcelShare> {
        let Some(layer) = self.layer else {
            return Vec::new();
        };
        self.items
            .iter()
            .zip(self.fractions)
            .map(|(&item, &fraction)| ParcelShare {
                id: layer.item_code(item as usize).to_owned(),
                fraction,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::MultiPolygon;

    fn square(code: &str, x: f64, y: f64, size: f64) -> AreaFeature {
        AreaFeature {
            code: code.into(),
            name: format!("unit {code}"),
            parent: None,
            cropland_ha: None,
            shape: MultiPolygon(vec![Rect::new((x, y), (x + size, y + size)).to_polygon()]),
        }
    }

    #[test]
    fn nests_levels_and_flags_outside() {
        let county = UnitLayer::new(Level::County, vec![square("410526", 114.0, 35.0, 1.0)]);
        let towns = UnitLayer::new(
            Level::Township,
            vec![
                square("410526100", 114.0, 35.0, 0.5),
                square("410526101", 114.5, 35.0, 0.5),
            ],
        );
        let loc = Locator::new(vec![towns, county], None, MaskSet::new(vec![], vec![]));
        let l = loc.locate(Query {
            lon: 114.7,
            lat: 35.2,
            scan_km: 0.375,
            track_km: 0.375,
        });
        assert_eq!(l.county.unwrap().code, "410526");
        assert_eq!(l.township.unwrap().code, "410526101");
        assert!(!l.outside_admin);
        let l = loc.locate(Query {
            lon: 116.0,
            lat: 35.2,
            scan_km: 0.375,
            track_km: 0.375,
        });
        assert!(l.outside_admin && l.county.is_none());
    }

    #[test]
    fn footprint_is_pixel_sized() {
        let q = Query {
            lon: 114.5,
            lat: 35.5,
            scan_km: 0.375,
            track_km: 0.375,
        };
        let r = q.footprint();
        let w_m = crate::raster::georef::haversine_m((r.min().x, 35.5), (r.max().x, 35.5));
        let h_m = crate::raster::georef::haversine_m((114.5, r.min().y), (114.5, r.max().y));
        assert!(
            (w_m - 375.0).abs() < 1.0 && (h_m - 375.0).abs() < 1.0,
            "{w_m} x {h_m}"
        );
    }

    #[test]
    fn parcels_ranked_by_share() {
        // Two fields splitting a pixel 3:1 (field sizes in degrees, pixel ≈ 0.0034° at 35.5°N).
        let q = Query {
            lon: 114.5,
            lat: 35.5,
            scan_km: 0.375,
            track_km: 0.375,
        };
        let r = q.footprint();
        let split = r.min().x + 0.75 * r.width();
        let a = AreaFeature {
            shape: MultiPolygon(vec![
                Rect::new((r.min().x - 0.01, 35.4), (split, 35.6)).to_polygon()
            ]),
            ..square("A", 0.0, 0.0, 1.0)
        };
        let b = AreaFeature {
            shape: MultiPolygon(vec![
                Rect::new((split, 35.4), (r.max().x + 0.01, 35.6)).to_polygon()
            ]),
            ..square("B", 0.0, 0.0, 1.0)
        };
        let parcels = UnitLayer::new(Level::Parcel, vec![b, a]);
        let loc = Locator::new(vec![], Some(parcels), MaskSet::new(vec![], vec![]));
        let l = loc.locate(q);
        assert_eq!(l.parcels.len(), 2);
        assert_eq!(&*l.parcels[0].id, "A");
        assert!(
            (l.parcels[0].fraction - 0.75).abs() < 1e-9,
            "{:?}",
            l.parcels
        );
        assert!(
            !l.outside_admin,
            "no admin layer given: nothing to be outside of"
        );
    }

    #[test]
    fn batch_in_curve_order_equals_one_by_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        // 60 × 60 fields of 0.001° and a county over half of them.
        let fields: Vec<AreaFeature> = (0..3600)
            .map(|k| {
                let (i, j) = ((k % 60) as f64, (k / 60) as f64);
                square(&format!("f{k}"), 114.0 + i * 0.001, 35.0 + j * 0.001, 0.001)
            })
            .collect();
        let county = UnitLayer::new(Level::County, vec![square("410526", 114.0, 35.0, 0.03)]);
        let chimney = crate::locate::PointMask {
            name: "chimney".into(),
            reason: "industry".into(),
            lon: 114.03,
            lat: 35.03,
            radius_m: 800.0,
            priority: 1,
        };
        let loc = Locator::new(
            vec![county],
            Some(UnitLayer::new(Level::Parcel, fields)),
            MaskSet::new(vec![chimney], vec![]),
        );
        let queries: Vec<Query> = (0..5000)
            .map(|k| Query {
                lon: rng.gen_range(113.99..114.07),
                lat: rng.gen_range(34.99..35.07),
                scan_km: [0.02, 0.03, 0.375, 0.8][k % 4],
                track_km: [0.02, 0.03, 0.375, 0.7][k % 4],
            })
            .collect();
        let located = loc.locate_all(&queries);
        assert_eq!(located.len(), queries.len());
        let batch = located.to_vec();
        let one_by_one: Vec<Location> = queries.iter().map(|&q| loc.locate(q)).collect();
        assert_eq!(batch, one_by_one);
        // A batch of a run or less is matched on the calling thread, in the order given.
        assert_eq!(loc.locate_all(&queries[..300]).to_vec(), one_by_one[..300]);
        assert_eq!(loc.locate_all(&queries[7..8]).to_vec(), one_by_one[7..8]);
        assert!(loc.locate_all(&[]).is_empty());
        for (l, owned) in located.iter().zip(&one_by_one) {
            let ids: Vec<(&str, f64)> =
                owned.parcels.iter().map(|p| (&*p.id, p.fraction)).collect();
            assert_eq!(l.parcels.iter().collect::<Vec<_>>(), ids);
            assert_eq!(l.parcels.first(), ids.first().copied());
        }
        assert!(batch.iter().any(|l| l.mask.is_some()) && batch.iter().any(|l| l.mask.is_none()));
        assert!(batch.iter().filter(|l| l.parcels.len() > 4).count() > 1000);
        assert!(batch.iter().any(|l| l.county.is_some()) && batch.iter().any(|l| l.outside_admin));
    }
}
