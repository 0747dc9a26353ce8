//! Loading a layer through GDAL/OGR into plain data: the only file of `locate/` that does I/O.
//!
//! Any vector format OGR reads works (Shapefile, GeoPackage, GeoJSON, FlatGeobuf; CSV with
//! `latitude`/`longitude` columns for point masks). Every geometry leaves this file in WGS84
//! `(lon, lat)`: projected layers go through OGR's transformation (in traditional GIS axis
//! order, the EPSG:4326 lat-first trap), GCJ-02 layers through [`super::gcj02`]. Everything
//! after this file is pure and knows no GDAL handle, so the index can be shared across threads.

use std::path::PathBuf;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::vector::{Geometry as OgrGeometry, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use geo::{MapCoordsInPlace, MultiPolygon, Point};

use super::gcj02::gcj02_to_wgs84;
use super::spec::{CrsSpec, LayerSpec, Level};

/// One polygon feature: an administrative unit, a parcel or a mask area, in WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaFeature {
    /// The unit code (adcode, township code), parcel id, or the OGR FID when no code field is set.
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub cropland_ha: Option<f64>,
    pub shape: MultiPolygon<f64>,
}

/// One point feature (a mask point source), WGS84.
#[derive(Debug, Clone, PartialEq)]
pub struct PointFeature {
    pub code: String,
    pub name: String,
    pub location: Point<f64>,
}

/// A loaded layer: its features as plain data, and the features that were skipped.
#[derive(Debug, Clone)]
pub struct Layer {
    pub path: PathBuf,
    /// The OGR layer name inside the file.
    pub layer_name: String,
    pub level: Level,
    pub areas: Vec<AreaFeature>,
    pub points: Vec<PointFeature>,
    /// Features skipped (no geometry, unsupported geometry type), one line each, naming the FID.
    pub warnings: Vec<String>,
}

/// Why a layer cannot be loaded. Every variant names the file; most name the layer and field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LayerError {
    /// The file is not there or cannot be read: check the path and permissions.
    #[error("{path}: cannot read")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// GDAL cannot open the file: check the path and that the format is a vector format.
    #[error("{path}: cannot open as a vector layer")]
    Open {
        path: PathBuf,
        #[source]
        source: Box<gdal::errors::GdalError>,
    },
    /// The `layer=` named in the spec is not in the file; pick one of `available`.
    #[error("{path}: no layer `{layer}` (layers: {})", available.join(", "))]
    NoSuchLayer {
        path: PathBuf,
        layer: String,
        available: Vec<String>,
    },
    /// The file has several layers and the spec names none: add `:layer=NAME`.
    #[error("{path}: {} layers, name one with :layer=NAME ({})", available.len(), available.join(", "))]
    AmbiguousLayer {
        path: PathBuf,
        available: Vec<String>,
    },
    /// A field named in the spec is not in the layer: fix the spec (`code=`, `name=`, ...).
    #[error("{path}, layer `{layer}`: no field `{field}` for the {role} (fields: {})", available.join(", "))]
    MissingField {
        path: PathBuf,
        layer: String,
        field: String,
        role: &'static str,
        available: Vec<String>,
    },
    /// Administrative layers need a code field: add `:code=FIELD`.
    #[error("{path}, layer `{layer}`: a {level} layer needs :code=FIELD (fields: {})", available.join(", "))]
    NoCodeField {
        path: PathBuf,
        layer: String,
        level: Level,
        available: Vec<String>,
    },
    /// The spec was given where a level is needed but names none: add `:level=...`.
    #[error("{path}: no level; add :level=county, township or village")]
    NoLevel { path: PathBuf },
    /// The layer's CRS (or the spec's `crs=`) cannot be turned into a transformation to WGS84.
    #[error("{path}, layer `{layer}`: cannot transform its CRS to WGS84")]
    Crs {
        path: PathBuf,
        layer: String,
        #[source]
        source: Box<gdal::errors::GdalError>,
    },
    /// The attribute filter (`where=`) was rejected by OGR: when set, or (GeoPackage, SQLite)
    /// when reading began. Fix the clause: the file's own SQL for those, OGR SQL otherwise.
    #[error("{path}, layer `{layer}`: bad where clause `{clause}`")]
    Filter {
        path: PathBuf,
        layer: String,
        clause: String,
        #[source]
        source: Box<gdal::errors::GdalError>,
    },
}

/// Loads the layer a spec names. `level` is the level implied by where the spec was given
/// (`--parcels`, `--mask`); the spec's own `level=` wins when both are set.
///
/// A plain GeoPackage (one features table in EPSG:4326) is read straight from SQLite by
/// [`super::gpkg`], several times faster, with the same answer; everything else through OGR.
pub fn load_layer(spec: &LayerSpec, implied: Option<Level>) -> Result<Layer, LayerError> {
    let level = spec.level.or(implied).ok_or_else(|| LayerError::NoLevel {
        path: spec.path.clone(),
    })?;
    if let Some(layer) = super::gpkg::try_load(spec, level) {
        return Ok(layer);
    }
    load_with_ogr(spec, level)
}

/// Loads a layer through OGR, whatever its format.
pub(super) fn load_with_ogr(spec: &LayerSpec, level: Level) -> Result<Layer, LayerError> {
    let path = spec.path.clone();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    // CSV point files (power plants): let OGR find the coordinate columns by their usual names.
    let csv_options = [
        "X_POSSIBLE_NAMES=longitude,lon,lng,Longitude,LONGITUDE",
        "Y_POSSIBLE_NAMES=latitude,lat,Latitude,LATITUDE",
        "KEEP_GEOM_COLUMNS=NO",
    ];
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
        open_options: is_csv.then_some(&csv_options[..]),
        ..Default::default()
    };
    // A file that is not there: the system's words. GDAL's (its error handler is quiet) are
    // an empty message after "returned a NULL pointer".
    if let Err(source) = std::fs::metadata(&path) {
        return Err(LayerError::Read { path, source });
    }
    let dataset = Dataset::open_ex(&path, options).map_err(|source| LayerError::Open {
        path: path.clone(),
        source: Box::new(source),
    })?;
    let available: Vec<String> = dataset.layers().map(|l| l.name()).collect();
    let mut layer = match &spec.layer {
        Some(name) => dataset
            .layer_by_name(name)
            .map_err(|_| LayerError::NoSuchLayer {
                path: path.clone(),
                layer: name.clone(),
                available: available.clone(),
            })?,
        None if available.len() == 1 => dataset.layer(0).map_err(|source| LayerError::Open {
            path: path.clone(),
            source: Box::new(source),
        })?,
        None => {
            return Err(LayerError::AmbiguousLayer {
                path: path.clone(),
                available,
            })
        }
    };
    let layer_name = layer.name();
    let fields: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let find = |field: &Option<String>, role: &'static str| -> Result<Option<usize>, LayerError> {
        match field {
            None => Ok(None),
            Some(f) => fields
                .iter()
                .position(|have| have == f)
                .or_else(|| fields.iter().position(|have| have.eq_ignore_ascii_case(f)))
                .map(Some)
                .ok_or_else(|| LayerError::MissingField {
                    path: path.clone(),
                    layer: layer_name.clone(),
                    field: f.clone(),
                    role,
                    available: fields.clone(),
                }),
        }
    };
    let code_idx = find(&spec.code_field, "code")?;
    let name_idx = find(&spec.name_field, "name")?;
    let parent_idx = find(&spec.parent_field, "parent code")?;
    let cropland_idx = find(&spec.cropland_ha_field, "cropland area (ha)")?;
    let is_admin = matches!(level, Level::County | Level::Township | Level::Village);
    if is_admin && code_idx.is_none() {
        return Err(LayerError::NoCodeField {
            path,
            layer: layer_name,
            level,
            available: fields,
        });
    }
    let filter_err = |clause: &String, source| LayerError::Filter {
        path: path.clone(),
        layer: layer_name.clone(),
        clause: clause.clone(),
        source: Box::new(source),
    };
    if let Some(clause) = &spec.where_clause {
        // GDAL's last error is this thread's: cleared here, so that a failure recorded by the
        // first read below is the filter's.
        clear_gdal_error();
        let _quiet = QuietGdal::new();
        // The gdal crate's error says only "OGR_L_SetAttributeFilter returned error 5"; what
        // GDAL recorded names the problem ("`Fule` not recognised as an available field").
        layer
            .set_attribute_filter(clause)
            .map_err(|source| filter_err(clause, gdal_failure().unwrap_or(source)))?;
    }

    let crs_err = |source: gdal::errors::GdalError| LayerError::Crs {
        path: path.clone(),
        layer: layer_name.clone(),
        source: Box::new(source),
    };
    let source_srs: Option<SpatialRef> = match spec.crs {
        Some(CrsSpec::Wgs84) | Some(CrsSpec::Gcj02) => None,
        Some(CrsSpec::Epsg(code)) => Some(SpatialRef::from_epsg(code).map_err(crs_err)?),
        None => layer.spatial_ref(),
    };
    let transform = match source_srs {
        Some(mut src) => {
            src.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
            let mut wgs84 = SpatialRef::from_epsg(4326).map_err(crs_err)?;
            wgs84.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
            let same = src.auth_code().ok() == Some(4326) || is_plain_wgs84(&src);
            if same {
                None
            } else {
                Some(CoordTransform::new(&src, &wgs84).map_err(crs_err)?)
            }
        }
        None => None,
    };
    let gcj = spec.crs == Some(CrsSpec::Gcj02);

    let mut out = Layer {
        path: path.clone(),
        layer_name: layer_name.clone(),
        level,
        areas: Vec::new(),
        points: Vec::new(),
        warnings: Vec::new(),
    };
    // A filter rejected only now (by the feature count `features` asks for, or the first read)
    // is reported from GDAL's last error below: not printed too.
    let quiet = spec.where_clause.as_ref().map(|_| QuietGdal::new());
    let mut features = layer.features();
    let first = features.next();
    drop(quiet);
    if let (Some(clause), None) = (&spec.where_clause, &first) {
        // OGR's SQLite-based drivers (GeoPackage, SQLite) take any filter above and prepare it
        // only when reading starts; a clause SQLite rejects ("no such column", a syntax error)
        // then reads as a layer without features, GDAL merely printing its error, and the
        // user's filter did nothing at all. What GDAL recorded says so.
        if let Some(source) = gdal_failure() {
            return Err(filter_err(clause, source));
        }
    }
    for feature in first.into_iter().chain(features) {
        let fid = feature.fid().unwrap_or(0);
        let text = |idx: Option<usize>| -> Option<String> {
            idx.and_then(|i| feature.field_as_string(i).ok().flatten())
                .map(|s| s.trim().to_string())
        };
        let code = match code_idx {
            Some(_) => match text(code_idx) {
                Some(c) if !c.is_empty() => c,
                _ => {
                    out.warnings.push(format!(
                        "{}, layer `{layer_name}`, feature {fid}: empty code field `{}`, skipped",
                        path.display(),
                        spec.code_field.as_deref().unwrap_or_default()
                    ));
                    continue;
                }
            },
            None => fid.to_string(),
        };
        let name = text(name_idx).unwrap_or_default();
        let parent = text(parent_idx).filter(|p| !p.is_empty());
        let cropland_ha = cropland_idx.and_then(|i| feature.field_as_double(i).ok().flatten());
        // A null geometry (no coordinates in a CSV row, a NULL blob in a GeoPackage, a
        // Shapefile's null shape): `Feature::geometry` would wrap the NULL handle, and asking
        // it anything makes GDAL print "ERROR 10: Pointer 'hGeom' is NULL". The indexed
        // accessor says `Err` for it instead (and for a layer without a geometry field).
        let Some(geometry) = feature.geometry_by_index(0).ok().filter(|g| !g.is_empty()) else {
            out.warnings.push(format!(
                "{}, layer `{layer_name}`, feature {fid}: no geometry, skipped",
                path.display()
            ));
            continue;
        };
        let geo_geometry = match to_wgs84(geometry, transform.as_ref(), gcj) {
            Ok(g) => g,
            Err(e) => {
                out.warnings.push(format!(
                    "{}, layer `{layer_name}`, feature {fid}: unusable geometry ({e}), skipped",
                    path.display()
                ));
                continue;
            }
        };
        match geo_geometry {
            geo::Geometry::Polygon(p) => out.areas.push(AreaFeature {
                code,
                name,
                parent,
                cropland_ha,
                shape: MultiPolygon(vec![p]),
            }),
            geo::Geometry::MultiPolygon(mp) => out.areas.push(AreaFeature {
                code,
                name,
                parent,
                cropland_ha,
                shape: mp,
            }),
            geo::Geometry::Point(p) if level == Level::Mask => out.points.push(PointFeature {
                code,
                name,
                location: p,
            }),
            other => out.warnings.push(format!(
                "{}, layer `{layer_name}`, feature {fid}: {} geometry is not usable for a {level} layer, skipped",
                path.display(),
                geometry_kind(&other)
            )),
        }
    }
    Ok(out)
}

/// GDAL's printing of errors silenced on this thread while alive (`CPLPushErrorHandler` with
/// `CPLQuietErrorHandler`, popped on drop), around a call whose failure is ours to report: GDAL
/// still records it as this thread's last error ([`gdal_failure`]), but prints no `ERROR 1: …`
/// line of its own beside our message (the CLI and the service silence GDAL for good; a library
/// caller, a test, did not).
struct QuietGdal(std::marker::PhantomData<*const ()>);

impl QuietGdal {
    #[allow(unsafe_code)]
    fn new() -> QuietGdal {
        // Safety: pushes a handler GDAL itself provides onto this thread's stack; `drop` pops it
        // on the same thread (the guard is neither `Send` nor kept past the call).
        unsafe { gdal_sys::CPLPushErrorHandler(Some(gdal_sys::CPLQuietErrorHandler)) };
        QuietGdal(std::marker::PhantomData)
    }
}

impl Drop for QuietGdal {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // Safety: pops the handler `new` pushed on this thread.
        unsafe { gdal_sys::CPLPopErrorHandler() };
    }
}

/// Clears this thread's last GDAL error (`CPLErrorReset`; the gdal crate has no safe call).
#[allow(unsafe_code)]
fn clear_gdal_error() {
    // Safety: no arguments; resets this thread's error state only.
    unsafe { gdal_sys::CPLErrorReset() };
}

/// The failure GDAL recorded on this thread since [`clear_gdal_error`], if any (then cleared).
#[allow(unsafe_code)]
fn gdal_failure() -> Option<gdal::errors::GdalError> {
    // Safety: reads this thread's error state; the message (owned by that state, never null in
    // GDAL's code, checked anyway) is copied out before the reset frees it.
    unsafe {
        let class = gdal_sys::CPLGetLastErrorType();
        if class < gdal_sys::CPLErr::CE_Failure {
            return None;
        }
        let number = gdal_sys::CPLGetLastErrorNo();
        let msg = gdal_sys::CPLGetLastErrorMsg();
        let msg = if msg.is_null() {
            String::new()
        } else {
            std::ffi::CStr::from_ptr(msg).to_string_lossy().into_owned()
        };
        gdal_sys::CPLErrorReset();
        Some(gdal::errors::GdalError::CplError { class, number, msg })
    }
}

fn is_plain_wgs84(srs: &SpatialRef) -> bool {
    srs.is_geographic() && srs.name().is_some_and(|n| n == "WGS 84")
}

fn geometry_kind(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "Point",
        geo::Geometry::Line(_) | geo::Geometry::LineString(_) => "LineString",
        geo::Geometry::MultiLineString(_) => "MultiLineString",
        geo::Geometry::MultiPoint(_) => "MultiPoint",
        geo::Geometry::GeometryCollection(_) => "GeometryCollection",
        _ => "other",
    }
}

/// OGR geometry → geo geometry in WGS84 (lon, lat).
fn to_wgs84(
    geometry: &OgrGeometry,
    transform: Option<&CoordTransform>,
    gcj: bool,
) -> Result<geo::Geometry<f64>, gdal::errors::GdalError> {
    use gdal::vector::geometry_type_flatten;
    // Cloning an OGR geometry costs as much as reading it: only when it must change.
    let flat = geometry_type_flatten(geometry.geometry_type()) == geometry.geometry_type();
    let mut out = if flat && transform.is_none() {
        geometry.to_geo()?
    } else {
        let mut g = geometry.clone();
        g.flatten_to_2d();
        if let Some(t) = transform {
            g.transform_inplace(t)?;
        }
        g.to_geo()?
    };
    if gcj {
        out.map_coords_in_place(|c| {
            let (lon, lat) = gcj02_to_wgs84(c.x, c.y);
            geo::Coord { x: lon, y: lat }
        });
    }
    Ok(out)
}
