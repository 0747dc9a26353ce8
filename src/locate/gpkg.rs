//! GeoPackage layers read straight from their SQLite table: the fast road of [`super::layer`].
//!
//! A GeoPackage is an SQLite file whose geometry column holds a small header and standard WKB.
//! Reading 300,000 parcels through OGR costs a feature object, a geometry object and a walk of
//! it per row; here the rows are stepped once with SQLite (the blobs copied into one buffer)
//! and the WKB is parsed on every core. The answer is the OGR loader's, feature for feature
//! (`gpkg_equals_ogr` checks it on a file with every case below).
//!
//! Only the plain case takes this road: one features table (or the one the spec names), in
//! EPSG:4326 (or declared `crs=wgs84`/`gcj02` by the spec), attribute fields of SQLite's text,
//! integer or real types. Anything else (a projected CRS, a date field as the code, a file
//! OGR would call ambiguous, a `where=` SQLite rejects, a file SQLite cannot open) returns
//! `None`, and OGR reads it and gives its answer or its error.

use geo::{Coord, LineString, MapCoordsInPlace, MultiPolygon, Point, Polygon};
use rayon::prelude::*;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::flat::FlatShapes;
use super::gcj02::gcj02_to_wgs84;
use super::layer::{AreaFeature, Layer, PointFeature};
use super::spec::{CrsSpec, LayerSpec, Level};
use super::units::UnitTexts;

/// How a field's value is turned into the loader's text or number (as OGR would).
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Integer,
    Real,
}

/// One row as read: fid, where its geometry blob lies in its batch's buffer, and the four
/// attribute roles (code, name, parent, cropland).
struct Row {
    fid: i64,
    blob: Option<(usize, usize)>,
    texts: [Option<String>; 3],
    cropland_ha: Option<f64>,
}

/// Loads `spec` from its GeoPackage when the file is plain enough (module doc); `None` when
/// OGR must read it.
pub(super) fn try_load(spec: &LayerSpec, level: Level) -> Option<Layer> {
    let mut all = None;
    let table = read_rows(spec, level, usize::MAX, |rows, blobs, _| {
        all = Some((rows, blobs))
    })?;
    let (rows, blobs) = all.unwrap_or_default();
    let gcj = spec.crs == Some(CrsSpec::Gcj02);
    let parsed: Vec<Result<geo::Geometry<f64>, Skip>> = rows
        .par_iter()
        .map(|row| {
            let (start, len) = row.blob.ok_or(Skip::NoGeometry)?;
            let mut g = parse_gpkg_blob(&blobs[start..start + len])?;
            if gcj {
                g.map_coords_in_place(|c| {
                    let (lon, lat) = gcj02_to_wgs84(c.x, c.y);
                    Coord { x: lon, y: lat }
                });
            }
            Ok(g)
        })
        .collect();
    drop(blobs);
    Some(assemble(spec, level, table, rows, parsed))
}

/// How the rows of a plain GeoPackage's table are read: the table, its key and the query.
struct Plan {
    table: String,
    fid_col: String,
    /// `SELECT fid, geometry[, code][, name][, parent][, cropland] FROM table [WHERE clause]`:
    /// only the roles the spec names.
    sql: String,
    text_roles: [Option<(String, Kind)>; 3],
    cropland: Option<(String, Kind)>,
    /// Where code, name, parent and cropland are in a row of `sql` (none: not selected).
    columns: [Option<usize>; 4],
}

/// Opens a GeoPackage read-only; `None` when it is not one SQLite can open.
fn open(path: &std::path::Path) -> Option<Connection> {
    if !path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gpkg"))
    {
        return None;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    // The rows are read once, in key order: a page cache of 256 KiB holds the B-tree's path
    // and the leaf being read. Stepping the bench's 300,000 parcels on one connection cost
    // 0.055–0.057 CPU s so, against 0.058–0.063 with SQLite's default 2 MB cache (its pages
    // faulted in per connection) and 0.066–0.086 through a mapping of the file (`mmap_size`:
    // every page of the file mapped into the process, 16 at a time, and unmapped again).
    // (`mmap_size` 0 is SQLite's default, set in case a build changed it.)
    let _ = conn.pragma_update(None, "cache_size", -256i64);
    let _ = conn.pragma_update(None, "mmap_size", 0i64);
    Some(conn)
}

/// The plan of `spec`'s table when the file is plain enough (module doc), else `None`.
fn plan(conn: &Connection, spec: &LayerSpec, level: Level) -> Option<Plan> {
    let contents: Vec<(String, String)> = query_rows(
        conn,
        "SELECT table_name, data_type FROM gpkg_contents",
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let table = match &spec.layer {
        Some(name) => contents
            .iter()
            .find(|(t, _)| t == name)
            .or_else(|| contents.iter().find(|(t, _)| t.eq_ignore_ascii_case(name)))?,
        None if contents.len() == 1 => &contents[0],
        None => return None,
    };
    if table.1 != "features" {
        return None;
    }
    let table = table.0.clone();
    let (geom_col, srs_id): (String, i64) = conn
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()?;
    match spec.crs {
        Some(CrsSpec::Wgs84) | Some(CrsSpec::Gcj02) => {}
        Some(CrsSpec::Epsg(_)) => return None,
        None => {
            let (org, code): (String, i64) = conn
                .query_row(
                    "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys \
                     WHERE srs_id = ?1",
                    [srs_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .ok()?;
            if !(org.eq_ignore_ascii_case("EPSG") && code == 4326) {
                return None;
            }
        }
    }
    // Columns in table order; OGR's fields are all but the integer key and the geometry.
    let columns: Vec<(String, String, bool)> = query_rows(
        conn,
        &format!("PRAGMA table_info({})", quote(&table)),
        |r| Ok((r.get(1)?, r.get(2)?, r.get::<_, i64>(5)? > 0)),
    )?;
    let fid_col = columns
        .iter()
        .find(|(_, ty, pk)| *pk && ty.eq_ignore_ascii_case("INTEGER"))?
        .0
        .clone();
    let fields: Vec<&(String, String, bool)> = columns
        .iter()
        .filter(|(name, _, _)| *name != fid_col && *name != geom_col)
        .collect();
    let find = |field: &Option<String>| -> Option<Option<(String, Kind)>> {
        let Some(f) = field else {
            return Some(None);
        };
        let (name, ty, _) = fields.iter().find(|(have, _, _)| have == f).or_else(|| {
            fields
                .iter()
                .find(|(have, _, _)| have.eq_ignore_ascii_case(f))
        })?;
        Some(Some((name.clone(), kind_of(ty)?)))
    };
    let text_roles = [
        find(&spec.code_field)?,
        find(&spec.name_field)?,
        find(&spec.parent_field)?,
    ];
    let cropland = find(&spec.cropland_ha_field)?;
    // OGR's text of a real differs from Rust's; a text cropland field needs OGR's parsing.
    if text_roles.iter().flatten().any(|(_, k)| *k == Kind::Real)
        || cropland.as_ref().is_some_and(|(_, k)| *k == Kind::Text)
    {
        return None;
    }
    let is_admin = matches!(level, Level::County | Level::Township | Level::Village);
    if is_admin && text_roles[0].is_none() {
        return None;
    }
    // Only the columns the spec names: a parcel layer is read as fid, geometry and code, and
    // every column stepped is a value SQLite decodes and a few calls through its API per row.
    let mut sql = format!("SELECT {}, {}", quote(&fid_col), quote(&geom_col));
    let mut columns = [None; 4];
    let mut next = 2;
    for (role, column) in text_roles.iter().chain([&cropland]).zip(&mut columns) {
        if let Some((name, _)) = role {
            *column = Some(next);
            next += 1;
            sql += &format!(", {}", quote(name));
        }
    }
    sql += &format!(" FROM {}", quote(&table));
    if let Some(clause) = &spec.where_clause {
        sql += &format!(" WHERE {clause}");
    }
    Some(Plan {
        table,
        fid_col,
        sql,
        text_roles,
        cropland,
        columns,
    })
}

/// A text attribute as stepped: nothing, an integer (its decimal text) or text (trimmed).
#[derive(Clone, Copy)]
enum Text<'r> {
    Null,
    Int(i64),
    Str(&'r str),
}

impl<'r> Text<'r> {
    fn of(s: Option<&'r str>) -> Self {
        s.map_or(Text::Null, Text::Str)
    }

    fn to_owned(self) -> Option<String> {
        match self {
            Text::Null => None,
            Text::Int(v) => Some(v.to_string()),
            Text::Str(s) => Some(s.to_string()),
        }
    }

    /// Whether there is a non-empty text (what `to_owned().filter(|c| !c.is_empty())` keeps).
    fn is_present(self) -> bool {
        match self {
            Text::Null => false,
            Text::Int(_) => true,
            Text::Str(s) => !s.is_empty(),
        }
    }

    /// Appends the text (nothing for none), as `to_owned` would give it.
    fn write(self, out: &mut String) {
        match self {
            Text::Null => {}
            Text::Int(v) => push_int(out, v),
            Text::Str(s) => out.push_str(s),
        }
    }
}

/// Appends `v` in decimal, as `v.to_string()` gives it, without a string of its own.
fn push_int(out: &mut String, v: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut u = v.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if v < 0 {
        out.push('-');
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// A stepped row's fid, geometry blob and attribute roles; `None` when a value is stored with
/// another type than its column's (SQLite allows it): OGR converts those in its own way, so
/// then OGR reads the file.
#[allow(clippy::type_complexity)]
fn row_values<'r>(
    plan: &Plan,
    r: &'r rusqlite::Row<'_>,
) -> Option<(i64, Option<&'r [u8]>, [Text<'r>; 3], Option<f64>)> {
    let fid: i64 = r.get(0).ok()?;
    let blob = match r.get_ref(1).ok()? {
        ValueRef::Blob(b) => Some(b),
        ValueRef::Null => None,
        _ => return None,
    };
    let value = |role: usize| -> Option<ValueRef<'r>> {
        match plan.columns[role] {
            Some(i) => r.get_ref(i).ok(),
            None => Some(ValueRef::Null),
        }
    };
    let text = |role: usize| -> Option<Text<'r>> {
        let kind = plan.text_roles[role].as_ref().map(|(_, k)| *k);
        Some(match (value(role)?, kind) {
            (ValueRef::Null, _) => Text::Null,
            (ValueRef::Integer(v), _) => Text::Int(v),
            (ValueRef::Text(t), Some(Kind::Text)) => Text::Str(std::str::from_utf8(t).ok()?.trim()),
            _ => return None,
        })
    };
    let cropland_ha = match (value(3)?, plan.cropland.as_ref().map(|(_, k)| *k)) {
        (ValueRef::Null, _) => None,
        (ValueRef::Integer(v), _) => Some(v as f64),
        (ValueRef::Real(v), Some(Kind::Real)) => Some(v),
        _ => return None,
    };
    Some((fid, blob, [text(0)?, text(1)?, text(2)?], cropland_ha))
}

/// Steps the rows of `spec`'s table when the file is plain enough (module doc), handing them to
/// `batch` `per_batch` at a time (the last batch may be shorter, and there is none for no
/// row), each with its geometry blobs one after another in a buffer of its own. Returns the
/// table's name; `None` (maybe after some batches) when OGR must read the file.
fn read_rows(
    spec: &LayerSpec,
    level: Level,
    per_batch: usize,
    mut batch: impl FnMut(Vec<Row>, Vec<u8>, &str),
) -> Option<String> {
    let conn = open(&spec.path)?;
    let plan = plan(&conn, spec, level)?;
    let mut stmt = conn.prepare(&plan.sql).ok()?;
    let mut rows = stmt.query([]).ok()?;
    let mut blobs: Vec<u8> = Vec::new();
    let mut read: Vec<Row> = Vec::new();
    while let Some(r) = rows.next().ok()? {
        if read.len() == per_batch {
            let capacity = blobs.len() + blobs.len() / 8;
            batch(
                std::mem::take(&mut read),
                std::mem::replace(&mut blobs, Vec::with_capacity(capacity)),
                &plan.table,
            );
        }
        let (fid, blob, texts, cropland_ha) = row_values(&plan, r)?;
        let texts = texts.map(Text::to_owned);
        let blob = blob.map(|b| {
            let start = blobs.len();
            blobs.extend_from_slice(b);
            (start, b.len())
        });
        read.push(Row {
            fid,
            blob,
            texts,
            cropland_ha,
        });
    }
    if !read.is_empty() {
        batch(read, blobs, &plan.table);
    }
    Some(plan.table)
}

/// The rows and their geometries as the OGR loader would hand them out, warnings in row order.
fn assemble(
    spec: &LayerSpec,
    level: Level,
    layer_name: String,
    rows: Vec<Row>,
    parsed: Vec<Result<geo::Geometry<f64>, Skip>>,
) -> Layer {
    let mut out = Layer {
        path: spec.path.clone(),
        layer_name,
        level,
        areas: Vec::with_capacity(rows.len()),
        points: Vec::new(),
        warnings: Vec::new(),
    };
    for (row, geometry) in rows.into_iter().zip(parsed) {
        let fid = row.fid;
        let Some(code) = code_of(spec, &row) else {
            out.warnings
                .push(empty_code_warning(spec, &out.layer_name, fid));
            continue;
        };
        let [_, name, parent] = row.texts;
        let name = name.unwrap_or_default();
        let parent = parent.filter(|p| !p.is_empty());
        let geometry = match geometry {
            Ok(g) => g,
            Err(skip) => {
                out.warnings
                    .push(skip_warning(spec, &out.layer_name, fid, level, &skip));
                continue;
            }
        };
        match geometry {
            geo::Geometry::Polygon(p) => out.areas.push(AreaFeature {
                code,
                name,
                parent,
                cropland_ha: row.cropland_ha,
                shape: MultiPolygon(vec![p]),
            }),
            geo::Geometry::MultiPolygon(mp) => out.areas.push(AreaFeature {
                code,
                name,
                parent,
                cropland_ha: row.cropland_ha,
                shape: mp,
            }),
            geo::Geometry::Point(p) if level == Level::Mask => out.points.push(PointFeature {
                code,
                name,
                location: p,
            }),
            geo::Geometry::Point(_) => out.warnings.push(skip_warning(
                spec,
                &out.layer_name,
                fid,
                level,
                &Skip::Kind("Point"),
            )),
            // parse_wkb returns nothing else.
            _ => {}
        }
    }
    out
}

/// A row's code: its code field's text, or its fid when the spec names no code field; `None`
/// when the code field is empty (the row is skipped).
fn code_of(spec: &LayerSpec, row: &Row) -> Option<String> {
    if spec.code_field.is_none() {
        return Some(row.fid.to_string());
    }
    row.texts[0].clone().filter(|c| !c.is_empty())
}

fn empty_code_warning(spec: &LayerSpec, layer_name: &str, fid: i64) -> String {
    format!(
        "{}, layer `{layer_name}`, feature {fid}: empty code field `{}`, skipped",
        spec.path.display(),
        spec.code_field.as_deref().unwrap_or_default()
    )
}

fn skip_warning(spec: &LayerSpec, layer_name: &str, fid: i64, level: Level, skip: &Skip) -> String {
    let path = spec.path.display();
    match skip {
        Skip::NoGeometry => {
            format!("{path}, layer `{layer_name}`, feature {fid}: no geometry, skipped")
        }
        Skip::Unusable(why) => format!(
            "{path}, layer `{layer_name}`, feature {fid}: unusable geometry ({why}), skipped"
        ),
        Skip::Kind(kind) => format!(
            "{path}, layer `{layer_name}`, feature {fid}: {kind} geometry is not usable for a {level} layer, skipped"
        ),
    }
}

/// A polygon layer read straight into the flat form the index is built from: what
/// [`try_load`] followed by `UnitLayer::new` would give, without a `geo` shape per row in
/// between (the same units, shapes and warnings; `flat_equals_geo_road` checks it).
pub(super) struct FlatLayer {
    /// The layer's name, as the warnings give it (the tests compare it with the geo road's).
    #[cfg_attr(not(test), allow(dead_code))]
    pub layer_name: String,
    /// The shapes of the units, in their order, in parts one after another.
    pub parts: Vec<FlatShapes>,
    /// The units' texts, part by part as `parts`.
    pub texts: Vec<UnitTexts>,
    pub warnings: Vec<String>,
}

/// [`try_load`] for a layer that will only be indexed (admin units, parcels): `None` for a mask
/// layer (its points are kept, as `geo` points) and whenever [`try_load`] gives `None`.
///
/// Without a `where=` the table is read in ranges of its integer key, each range stepped by
/// its own SQLite connection and parsed on the same core, on every core: a range scan of the
/// key visits the rows in key order, as the whole-table scan does, so the pieces taken in
/// order are the rows in the order OGR and [`try_load`] give. With a `where=` (which SQLite may
/// answer through another index, in another order) SQLite steps the rows on one thread while
/// batches are parsed on the others.
pub(super) fn try_load_flat(spec: &LayerSpec, level: Level) -> Option<FlatLayer> {
    if level == Level::Mask {
        return None;
    }
    let map: Option<fn(Coord<f64>) -> Coord<f64>> =
        (spec.crs == Some(CrsSpec::Gcj02)).then_some(gcj02_coord_to_wgs84);
    let (layer_name, pieces) = if spec.where_clause.is_none() {
        read_ranges(spec, level, map)?
    } else {
        read_pipelined(spec, level, map)?
    };
    let mut out = FlatLayer {
        layer_name,
        parts: Vec::with_capacity(pieces.len()),
        texts: Vec::with_capacity(pieces.len()),
        warnings: Vec::new(),
    };
    for piece in pieces {
        out.warnings.extend(piece.warnings);
        out.parts.push(piece.flat);
        out.texts.push(piece.texts);
    }
    Some(out)
}

/// Rows read in one piece, in their order: their shapes, their units, the warnings of the
/// rows that were skipped.
struct Piece {
    flat: FlatShapes,
    texts: UnitTexts,
    warnings: Vec<String>,
}

impl Piece {
    fn with_capacity(rows: usize, coords: usize) -> Self {
        Piece {
            flat: FlatShapes::with_capacity(rows, coords),
            // Room for an id of 8 digits a row.
            texts: UnitTexts::with_capacity(rows, 8 * rows),
            warnings: Vec::new(),
        }
    }

    /// One row: its shape and unit, or the warning saying why it is skipped (a row with an
    /// empty code is skipped before its geometry is looked at, as the geo road does).
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        spec: &LayerSpec,
        level: Level,
        layer_name: &str,
        map: Option<fn(Coord<f64>) -> Coord<f64>>,
        fid: i64,
        blob: Option<&[u8]>,
        texts: [Text<'_>; 3],
        cropland_ha: Option<f64>,
    ) {
        let [code, name, parent] = texts;
        let code = match spec.code_field {
            Some(_) if code.is_present() => code,
            Some(_) => {
                return self
                    .warnings
                    .push(empty_code_warning(spec, layer_name, fid))
            }
            None => Text::Int(fid),
        };
        let parsed = blob
            .ok_or(Skip::NoGeometry)
            .and_then(|b| parse_gpkg_blob_flat(b, map, &mut self.flat));
        match parsed {
            Ok(()) => {
                let mut name_text = String::new();
                let name = match name {
                    Text::Int(_) => {
                        name.write(&mut name_text);
                        name_text.as_str()
                    }
                    Text::Str(s) => s,
                    Text::Null => "",
                };
                let mut parent_text = String::new();
                let parent = match parent {
                    Text::Int(_) => {
                        parent.write(&mut parent_text);
                        Some(parent_text.as_str())
                    }
                    Text::Str(s) => Some(s),
                    Text::Null => None,
                };
                self.texts
                    .push_with(|t| code.write(t), name, parent, cropland_ha)
            }
            Err(skip) => self
                .warnings
                .push(skip_warning(spec, layer_name, fid, level, &skip)),
        }
    }
}

/// Rows per range (and per parsed batch): enough to keep the split cheap, small enough to
/// share out.
const ROWS_PER_TASK: usize = 4096;

/// The table read in ranges of its key on every core (see [`try_load_flat`]).
fn read_ranges(
    spec: &LayerSpec,
    level: Level,
    map: Option<fn(Coord<f64>) -> Coord<f64>>,
) -> Option<(String, Vec<Piece>)> {
    let conn = open(&spec.path)?;
    let plan = plan(&conn, spec, level)?;
    let fid = quote(&plan.fid_col);
    let (lo, hi): (Option<i64>, Option<i64>) = conn
        .query_row(&key_bounds_sql(&plan), [], |r| Ok((r.get(0)?, r.get(1)?)))
        .ok()?;
    // Keys are mostly dense (1..n); sparse ones make emptier ranges, at most 4,096 of them.
    let ranges: Vec<(i64, i64)> = match (lo, hi) {
        (Some(lo), Some(hi)) => {
            let span = i128::from(hi) - i128::from(lo) + 1;
            let step = (ROWS_PER_TASK as i128).max(span / 4096 + 1);
            (0..(span + step - 1) / step)
                .map(|k| {
                    let a = i128::from(lo) + k * step;
                    (a as i64, (a + step - 1).min(i128::from(hi)) as i64)
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let sql = format!("{} WHERE {fid} BETWEEN ?1 AND ?2", plan.sql);
    // Connections (and their prepared statement) handed from range to range: rayon makes a
    // job of every split, and a connection per job opened the file and read its schema again.
    // The first is the one that read the plan: its schema (a GeoPackage's tables, R-tree
    // triggers and views) is already read and parsed, which each new connection does again.
    let pool = std::sync::Mutex::new(vec![conn]);
    let pieces: Vec<Option<Piece>> = ranges
        .par_iter()
        .map(|&(a, b)| {
            let taken = pool.lock().map_or(None, |mut p| p.pop());
            let conn = taken.or_else(|| open(&spec.path))?;
            let piece = (|| {
                let mut stmt = conn.prepare_cached(&sql).ok()?;
                let mut rows = stmt.query([a, b]).ok()?;
                // Room for the range's rows at a field's 9 vertices: few ever regrow.
                let n = usize::try_from(b - a + 1).unwrap_or(ROWS_PER_TASK);
                let n = n.min(ROWS_PER_TASK);
                let mut piece = Piece::with_capacity(n, 10 * n);
                while let Some(r) = rows.next().ok()? {
                    let (fid, blob, texts, cropland_ha) = row_values(&plan, r)?;
                    piece.push(spec, level, &plan.table, map, fid, blob, texts, cropland_ha);
                }
                Some(piece)
            })();
            if let Ok(mut p) = pool.lock() {
                p.push(conn);
            }
            piece
        })
        .collect();
    let pieces = pieces.into_iter().collect::<Option<Vec<Piece>>>()?;
    Some((plan.table, pieces))
}

/// The query of the table's lowest and highest key, each in a subquery of its own: SQLite
/// finds a lone `min()` or `max()` of the key at an end of the table's B-tree, but
/// `SELECT min(k), max(k)` steps every row (for 300,000 parcels the whole file read and every
/// key compared, on one core, before any range could start).
fn key_bounds_sql(plan: &Plan) -> String {
    let (fid, table) = (quote(&plan.fid_col), quote(&plan.table));
    format!("SELECT (SELECT min({fid}) FROM {table}), (SELECT max({fid}) FROM {table})")
}

/// The table read by one SQLite statement on this thread while batches of its rows are parsed
/// on the others (see [`try_load_flat`]).
fn read_pipelined(
    spec: &LayerSpec,
    level: Level,
    map: Option<fn(Coord<f64>) -> Coord<f64>>,
) -> Option<(String, Vec<Piece>)> {
    // No buffer ever holds every blob of the layer.
    let (done, parsed) = std::sync::mpsc::channel();
    let table_name = std::sync::OnceLock::new();
    let table = rayon::scope(|scope| {
        let mut next = 0usize;
        read_rows(spec, level, ROWS_PER_TASK, |rows, blobs, table| {
            let done = done.clone();
            let id = next;
            next += 1;
            let table: &str = table_name.get_or_init(|| table.to_string());
            scope.spawn(move |_| {
                // A vertex takes at least 16 bytes of WKB: room for every vertex.
                let mut piece = Piece::with_capacity(rows.len(), blobs.len() / 16 + rows.len());
                for row in rows {
                    let blob = row.blob.map(|(start, len)| &blobs[start..start + len]);
                    piece.push(
                        spec,
                        level,
                        table,
                        map,
                        row.fid,
                        blob,
                        row.texts.each_ref().map(|t| Text::of(t.as_deref())),
                        row.cropland_ha,
                    );
                }
                // The receiver outlives the scope; a send cannot fail.
                let _ = done.send((id, piece));
            });
        })
    });
    drop(done);
    let mut batches: Vec<(usize, Piece)> = parsed.into_iter().collect();
    let table = table?;
    batches.sort_unstable_by_key(|(id, _)| *id);
    Some((table, batches.into_iter().map(|(_, p)| p).collect()))
}

fn gcj02_coord_to_wgs84(c: Coord<f64>) -> Coord<f64> {
    let (lon, lat) = gcj02_to_wgs84(c.x, c.y);
    Coord { x: lon, y: lat }
}

/// Why a row's geometry is not taken, worded as the OGR loader words it.
#[derive(Debug, PartialEq)]
enum Skip {
    NoGeometry,
    Unusable(String),
    /// A geometry type locate has no use for (the loader's "X geometry is not usable").
    Kind(&'static str),
}

/// A GeoPackage geometry blob (GeoPackage 1.x, clause 2.1.3): `GP`, version, flags, srs_id,
/// an envelope of 0/4/6/6/8 doubles, then standard WKB.
fn parse_gpkg_blob(b: &[u8]) -> Result<geo::Geometry<f64>, Skip> {
    let g = gpkg_wkb(b)?.geometry()?;
    let empty = match &g {
        geo::Geometry::Point(p) => p.x().is_nan() && p.y().is_nan(),
        geo::Geometry::Polygon(p) => p.exterior().0.is_empty(),
        geo::Geometry::MultiPolygon(mp) => mp.0.is_empty(),
        _ => false,
    };
    if empty {
        return Err(Skip::NoGeometry);
    }
    Ok(g)
}

/// [`parse_gpkg_blob`] for a polygon layer: a (multi)polygon's rings appended to `out` as one
/// shape, `map` applied to every vertex; anything else the same `Skip` as the `geo` road gives
/// (a point is `Kind("Point")` as there, since no polygon layer keeps points). Nothing of the
/// row stays in `out` on an error.
fn parse_gpkg_blob_flat(
    b: &[u8],
    map: Option<fn(Coord<f64>) -> Coord<f64>>,
    out: &mut FlatShapes,
) -> Result<(), Skip> {
    let mut wkb = gpkg_wkb(b)?;
    let mark = out.mark();
    let parsed = wkb.flat_geometry(map, out);
    let result = match parsed {
        Ok(FlatKind::Point(c)) if c.x.is_nan() && c.y.is_nan() => Err(Skip::NoGeometry),
        Ok(FlatKind::Point(_)) => Err(Skip::Kind("Point")),
        Ok(FlatKind::Polygon { exterior_empty }) if exterior_empty => Err(Skip::NoGeometry),
        Ok(FlatKind::MultiPolygon { parts: 0 }) => Err(Skip::NoGeometry),
        Ok(_) => Ok(()),
        Err(skip) => Err(skip),
    };
    match result {
        Ok(()) => out.end_shape(),
        Err(_) => out.undo(mark),
    }
    result
}

/// What [`Wkb::flat_geometry`] read.
enum FlatKind {
    Point(Coord<f64>),
    Polygon { exterior_empty: bool },
    MultiPolygon { parts: usize },
}

/// The WKB of a GeoPackage geometry blob, after its header (checked).
fn gpkg_wkb(b: &[u8]) -> Result<Wkb<'_>, Skip> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err(Skip::Unusable("not a GeoPackage geometry blob".into()));
    }
    let flags = b[3];
    if flags & 0x20 != 0 {
        return Err(Skip::Unusable("extended GeoPackage geometry".into()));
    }
    if flags & 0x10 != 0 {
        return Err(Skip::NoGeometry);
    }
    let envelope = match (flags >> 1) & 0x07 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return Err(Skip::Unusable("bad envelope code".into())),
    };
    Ok(Wkb {
        b: b.get(8 + envelope..)
            .ok_or_else(|| Skip::Unusable("truncated".into()))?,
        at: 0,
        little: true,
    })
}

/// A cursor over WKB (ISO Z/M/ZM type codes and the EWKB flag bits both read; only x and y
/// kept, as the OGR loader flattens to 2D).
struct Wkb<'a> {
    b: &'a [u8],
    at: usize,
    little: bool,
}

const TRUNCATED: &str = "truncated WKB";

impl Wkb<'_> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], Skip> {
        let s = self
            .b
            .get(self.at..self.at + N)
            // Lazily: the message is a `String`, and this runs for every number read.
            .ok_or_else(|| Skip::Unusable(TRUNCATED.into()))?;
        self.at += N;
        Ok(s.try_into().expect("slice of N bytes"))
    }

    fn u32(&mut self) -> Result<u32, Skip> {
        let v = self.bytes::<4>()?;
        Ok(if self.little {
            u32::from_le_bytes(v)
        } else {
            u32::from_be_bytes(v)
        })
    }

    fn f64(&mut self) -> Result<f64, Skip> {
        let v = self.bytes::<8>()?;
        Ok(if self.little {
            f64::from_le_bytes(v)
        } else {
            f64::from_be_bytes(v)
        })
    }

    /// Byte order and type of the next geometry: (base type 1–7…, coordinates per point).
    fn header(&mut self) -> Result<(u32, usize), Skip> {
        self.little = match self.bytes::<1>()?[0] {
            0 => false,
            1 => true,
            _ => return Err(Skip::Unusable("bad WKB byte order".into())),
        };
        let ty = self.u32()?;
        let (ewkb_z, ewkb_m) = (ty & 0x8000_0000 != 0, ty & 0x4000_0000 != 0);
        if ty & 0x2000_0000 != 0 {
            return Err(Skip::Unusable("EWKB with an SRID".into()));
        }
        let iso = ty & 0x0fff_ffff;
        let (base, z, m) = (
            iso % 1000,
            ewkb_z || matches!(iso / 1000, 1 | 3),
            ewkb_m || matches!(iso / 1000, 2 | 3),
        );
        Ok((base, 2 + usize::from(z) + usize::from(m)))
    }

    fn coord(&mut self, dims: usize) -> Result<Coord<f64>, Skip> {
        let (x, y) = (self.f64()?, self.f64()?);
        for _ in 2..dims {
            self.f64()?;
        }
        Ok(Coord { x, y })
    }

    fn ring(&mut self, dims: usize) -> Result<LineString<f64>, Skip> {
        let n = self.u32()? as usize;
        if n.saturating_mul(8 * dims) > self.b.len() - self.at {
            return Err(Skip::Unusable(TRUNCATED.into()));
        }
        (0..n)
            .map(|_| self.coord(dims))
            .collect::<Result<Vec<_>, _>>()
            .map(LineString)
    }

    fn polygon(&mut self, dims: usize) -> Result<Polygon<f64>, Skip> {
        let rings = self.u32()? as usize;
        if rings == 0 {
            return Ok(Polygon::new(LineString(vec![]), vec![]));
        }
        let outer = self.ring(dims)?;
        let holes = (1..rings)
            .map(|_| self.ring(dims))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Polygon::new(outer, holes))
    }

    /// [`Self::ring`] appended to `out` as a ring of the shape being built.
    fn flat_ring(
        &mut self,
        dims: usize,
        outer: bool,
        map: Option<fn(Coord<f64>) -> Coord<f64>>,
        out: &mut FlatShapes,
    ) -> Result<usize, Skip> {
        let n = self.u32()? as usize;
        if n.saturating_mul(8 * dims) > self.b.len() - self.at {
            return Err(Skip::Unusable(TRUNCATED.into()));
        }
        out.push_ring_with(n, outer, map, |coords| {
            // The length was checked above: read the doubles without a check per vertex.
            let bytes = &self.b[self.at..self.at + n * 8 * dims];
            self.at += n * 8 * dims;
            let little = self.little;
            let f = |k: usize| {
                let v: [u8; 8] = bytes[k * 8..k * 8 + 8].try_into().expect("8 bytes");
                if little {
                    f64::from_le_bytes(v)
                } else {
                    f64::from_be_bytes(v)
                }
            };
            coords.extend((0..n).map(|i| Coord {
                x: f(i * dims),
                y: f(i * dims + 1),
            }));
            Ok(())
        })?;
        Ok(n)
    }

    /// [`Self::polygon`] appended to `out`; whether its exterior is empty.
    fn flat_polygon(
        &mut self,
        dims: usize,
        map: Option<fn(Coord<f64>) -> Coord<f64>>,
        out: &mut FlatShapes,
    ) -> Result<bool, Skip> {
        let rings = self.u32()? as usize;
        if rings == 0 {
            // As `Polygon::new(LineString(vec![]), vec![])`: an empty exterior.
            out.push_ring(&[], true);
            return Ok(true);
        }
        let exterior = self.flat_ring(dims, true, map, out)?;
        for _ in 1..rings {
            self.flat_ring(dims, false, map, out)?;
        }
        Ok(exterior == 0)
    }

    /// [`Self::geometry`] with a (multi)polygon's rings appended to `out` instead of built.
    fn flat_geometry(
        &mut self,
        map: Option<fn(Coord<f64>) -> Coord<f64>>,
        out: &mut FlatShapes,
    ) -> Result<FlatKind, Skip> {
        let (base, dims) = self.header()?;
        match base {
            1 => Ok(FlatKind::Point(self.coord(dims)?)),
            3 => Ok(FlatKind::Polygon {
                exterior_empty: self.flat_polygon(dims, map, out)?,
            }),
            6 => {
                let n = self.u32()? as usize;
                for _ in 0..n {
                    let (base, dims) = self.header()?;
                    if base != 3 {
                        return Err(Skip::Unusable("a MultiPolygon part is no Polygon".into()));
                    }
                    self.flat_polygon(dims, map, out)?;
                }
                Ok(FlatKind::MultiPolygon { parts: n })
            }
            2 => Err(Skip::Kind("LineString")),
            4 => Err(Skip::Kind("MultiPoint")),
            5 => Err(Skip::Kind("MultiLineString")),
            7 => Err(Skip::Kind("GeometryCollection")),
            other => Err(Skip::Unusable(format!("WKB geometry type {other}"))),
        }
    }

    fn geometry(&mut self) -> Result<geo::Geometry<f64>, Skip> {
        let (base, dims) = self.header()?;
        match base {
            1 => {
                let c = self.coord(dims)?;
                Ok(geo::Geometry::Point(Point(c)))
            }
            3 => Ok(geo::Geometry::Polygon(self.polygon(dims)?)),
            6 => {
                let n = self.u32()? as usize;
                let polys = (0..n)
                    .map(|_| {
                        let (base, dims) = self.header()?;
                        if base != 3 {
                            return Err(Skip::Unusable("a MultiPolygon part is no Polygon".into()));
                        }
                        self.polygon(dims)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(geo::Geometry::MultiPolygon(MultiPolygon(polys)))
            }
            2 => Err(Skip::Kind("LineString")),
            4 => Err(Skip::Kind("MultiPoint")),
            5 => Err(Skip::Kind("MultiLineString")),
            7 => Err(Skip::Kind("GeometryCollection")),
            other => Err(Skip::Unusable(format!("WKB geometry type {other}"))),
        }
    }
}

/// Reads every row of a query; `None` on any SQLite error (OGR will say what is wrong).
fn query_rows<T>(
    conn: &Connection,
    sql: &str,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Option<Vec<T>> {
    let mut stmt = conn.prepare(sql).ok()?;
    let rows = stmt.query_map([], f).ok()?;
    rows.collect::<Result<Vec<_>, _>>().ok()
}

/// An SQL identifier in double quotes.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQLite column type's affinity as OGR's GeoPackage driver maps it; `None` for the types
/// (dates, booleans, blobs) whose text or number OGR makes in its own way.
fn kind_of(declared: &str) -> Option<Kind> {
    let t = declared.to_ascii_uppercase();
    let base = t.split('(').next().unwrap_or("").trim();
    match base {
        "TEXT" | "VARCHAR" => Some(Kind::Text),
        "INTEGER" | "INT" | "MEDIUMINT" | "SMALLINT" | "TINYINT" => Some(Kind::Integer),
        "REAL" | "FLOAT" | "DOUBLE" => Some(Kind::Real),
        _ => None,
    }
}

#[cfg(test)]
mod tests_support {
    use gdal::spatial_ref::SpatialRef;
    use gdal::vector::{Feature, FieldDefn, Geometry, LayerAccess, LayerOptions, OGRFieldType};
    use gdal::DriverManager;

    /// A GeoPackage with every case the fast road meets: holes, multipolygons, Z coordinates,
    /// no geometry, an empty geometry, a line, a point, a missing code, padded text.
    pub fn write_cases(path: &std::path::Path, epsg: u32, second_layer: bool) {
        let driver = DriverManager::get_driver_by_name("GPKG").unwrap();
        let mut ds = driver.create_vector_only(path).unwrap();
        let srs = SpatialRef::from_epsg(epsg).unwrap();
        let layer = ds
            .create_layer(LayerOptions {
                name: "fields",
                srs: Some(&srs),
                ty: gdal::vector::OGRwkbGeometryType::wkbUnknown,
                options: None,
            })
            .unwrap();
        for (name, ty) in [
            ("code", OGRFieldType::OFTInteger64),
            ("name", OGRFieldType::OFTString),
            ("parent", OGRFieldType::OFTString),
            ("crop", OGRFieldType::OFTReal),
        ] {
            FieldDefn::new(name, ty)
                .unwrap()
                .add_to_layer(&layer)
                .unwrap();
        }
        /// code, name, parent, cropland, WKT.
        type Case<'a> = (Option<i64>, &'a str, &'a str, Option<f64>, Option<&'a str>);
        let rows: [Case; 10] = [
            (Some(1), " Field A ", "", Some(1.5), Some("POLYGON((114 35,114.01 35,114.01 35.01,114 35.01,114 35),(114.004 35.004,114.004 35.006,114.006 35.006,114.006 35.004,114.004 35.004))")),
            (Some(2), "two parts", "4105", None, Some("MULTIPOLYGON(((114.02 35,114.03 35,114.03 35.01,114.02 35)),((114.04 35,114.05 35,114.05 35.01,114.04 35)))")),
            (Some(3), "with z", "4105", Some(2.0), Some("POLYGON Z((114.1 35.1 10,114.2 35.1 11,114.2 35.2 12,114.1 35.1 10))")),
            (Some(4), "no geometry", "", None, None),
            (Some(5), "empty", "", None, Some("POLYGON EMPTY")),
            (Some(6), "a road", "", None, Some("LINESTRING(114 35,114.1 35.1)")),
            (Some(7), "a well", "", None, Some("POINT(114.3 35.3)")),
            (None, "no code", "", None, Some("POLYGON((114 35,114.01 35,114.01 35.01,114 35))")),
            (Some(9), "plain", "x", Some(7.0), Some("POLYGON((114.5 35.5,114.6 35.5,114.6 35.6,114.5 35.5))")),
            (Some(10), "clockwise", "", None, Some("POLYGON((114.5 35.5,114.5 35.6,114.6 35.6,114.6 35.5,114.5 35.5))")),
        ];
        for (code, name, parent, crop, wkt) in rows {
            let mut f = Feature::new(layer.defn()).unwrap();
            if let Some(c) = code {
                f.set_field_integer64(0, c).unwrap();
            }
            f.set_field_string(1, name).unwrap();
            f.set_field_string(2, parent).unwrap();
            if let Some(c) = crop {
                f.set_field_double(3, c).unwrap();
            }
            if let Some(wkt) = wkt {
                f.set_geometry(Geometry::from_wkt(wkt).unwrap()).unwrap();
            }
            f.create(&layer).unwrap();
        }
        if second_layer {
            ds.create_layer(LayerOptions {
                name: "other",
                srs: Some(&srs),
                ty: gdal::vector::OGRwkbGeometryType::wkbPolygon,
                options: None,
            })
            .unwrap();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::*;
    use super::*;
    use crate::locate::layer::load_with_ogr;

    fn assert_same(fast: &Layer, ogr: &Layer) {
        assert_eq!(fast.layer_name, ogr.layer_name);
        assert_eq!(fast.level, ogr.level);
        assert_eq!(fast.areas, ogr.areas);
        assert_eq!(fast.points, ogr.points);
        assert_eq!(fast.warnings, ogr.warnings);
    }

    #[test]
    fn integers_are_written_as_to_string_writes_them() {
        for v in [0, 7, -7, 10, 409_615, i64::MAX, i64::MIN, -1_000_000] {
            let mut s = String::from("x");
            push_int(&mut s, v);
            assert_eq!(s, format!("x{v}"));
        }
    }

    #[test]
    fn gpkg_equals_ogr() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fields.gpkg");
        write_cases(&path, 4326, false);
        let p = path.display();
        for (spec, level, areas) in [
            (
                format!("{p}:code=code:name=name:parent=parent:cropland_ha=crop"),
                Level::Parcel,
                5,
            ),
            (format!("{p}:code=CODE:name=name"), Level::Mask, 5),
            (format!("{p}"), Level::Parcel, 6),
            (format!("{p}:code=code:where=code > 2"), Level::Parcel, 3),
            (
                format!("{p}:code=code:crs=gcj02:layer=FIELDS"),
                Level::Township,
                5,
            ),
        ] {
            let spec = LayerSpec::parse(&spec).unwrap();
            let fast = try_load(&spec, level).expect("a plain GeoPackage takes the fast road");
            let ogr = load_with_ogr(&spec, level).unwrap();
            assert_same(&fast, &ogr);
            assert_eq!(fast.areas.len(), areas, "{spec:?}");
        }
        let spec = LayerSpec::parse(&format!("{p}:code=code:name=name")).unwrap();
        let layer = try_load(&spec, Level::Mask).unwrap();
        assert_eq!(layer.points.len(), 1, "the point is a mask point");
        assert_eq!(layer.areas[0].name, "Field A", "text is trimmed");
        assert_eq!(
            layer.areas[0].shape.0[0].interiors().len(),
            1,
            "the hole is kept"
        );
        assert_eq!(layer.areas[1].shape.0.len(), 2, "both parts are kept");
        assert_eq!(layer.warnings.len(), 4, "{:#?}", layer.warnings);
    }

    #[test]
    fn the_key_bounds_are_found_without_a_scan() {
        // `SELECT min(k), max(k)` stepped the whole table; each bound alone is a B-tree search.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fields.gpkg");
        write_cases(&path, 4326, false);
        let spec = LayerSpec::parse(&format!("{}:code=code", path.display())).unwrap();
        let conn = open(&spec.path).unwrap();
        let plan = plan(&conn, &spec, Level::Parcel).unwrap();
        let sql = key_bounds_sql(&plan);
        let steps = query_rows(&conn, &format!("EXPLAIN QUERY PLAN {sql}"), |r| {
            r.get::<_, String>(3)
        })
        .unwrap();
        assert!(
            !steps.iter().any(|s| s.starts_with("SCAN fields")),
            "{steps:?}"
        );
        assert_eq!(
            steps
                .iter()
                .filter(|s| s.starts_with("SEARCH fields"))
                .count(),
            2,
            "{steps:?}"
        );
        let bounds: (Option<i64>, Option<i64>) = conn
            .query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(bounds, (Some(1), Some(10)));
    }

    #[test]
    fn a_null_geometry_is_one_warning_not_a_gdal_error() {
        // Through OGR (a Shapefile, a projected GeoPackage...), a feature without a geometry
        // made GDAL print "ERROR 10: Pointer 'hGeom' is NULL in 'OGR_G_IsEmpty'". GDAL's error
        // handler is global: only NULL-pointer errors (CPLE_ObjectNull, 10) are collected,
        // which no other test provokes.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fields.gpkg");
        write_cases(&path, 4326, false);
        let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let seen = std::sync::Arc::clone(&errors);
        gdal::config::set_error_handler(move |_, num, msg| {
            if num == 10 {
                seen.lock().unwrap().push(msg.to_string());
            }
        });
        let spec = LayerSpec::parse(&format!("{}:code=code", path.display())).unwrap();
        let layer = load_with_ogr(&spec, Level::Parcel);
        gdal::config::remove_error_handler();
        let layer = layer.unwrap();
        assert_eq!(*errors.lock().unwrap(), Vec::<String>::new());
        let about_4: Vec<&String> = layer
            .warnings
            .iter()
            .filter(|w| w.contains("feature 4:"))
            .collect();
        assert_eq!(
            about_4,
            [&format!(
                "{}, layer `fields`, feature 4: no geometry, skipped",
                path.display()
            )]
        );
        assert!(
            layer
                .warnings
                .iter()
                .any(|w| w.ends_with("feature 5: no geometry, skipped")),
            "an empty polygon is skipped the same way: {:?}",
            layer.warnings
        );
    }

    #[test]
    fn other_geopackages_go_through_ogr() {
        let dir = tempfile::tempdir().unwrap();
        let projected = dir.path().join("utm.gpkg");
        write_cases(&projected, 32650, false);
        let two = dir.path().join("two.gpkg");
        write_cases(&two, 4326, true);
        let spec = |p: &std::path::Path, extra: &str| {
            LayerSpec::parse(&format!("{}:code=code{extra}", p.display())).unwrap()
        };
        assert!(try_load(&spec(&projected, ""), Level::Parcel).is_none());
        assert!(try_load(&spec(&two, ""), Level::Parcel).is_none());
        assert!(try_load(&spec(&two, ":layer=fields"), Level::Parcel).is_some());
        assert!(try_load(&spec(&two, ":layer=nope"), Level::Parcel).is_none());
        assert!(try_load(&spec(&two, ":layer=fields:where=nope ="), Level::Parcel).is_none());
        assert!(try_load(&spec(&two, ":layer=fields:cropland_ha=name"), Level::Parcel).is_none());
        // Through the public loader the OGR road answers: a `where=` SQLite rejects is an error
        // naming the clause (OGR read it as a layer without features).
        let bad_where = spec(&two, ":layer=fields:where=nope =");
        let e = crate::locate::load_layer(&bad_where, Some(Level::Parcel)).unwrap_err();
        assert!(e.to_string().contains("bad where clause `nope =`"), "{e}");
        let utm = crate::locate::load_layer(&spec(&projected, ""), Some(Level::Parcel)).unwrap();
        assert!(
            utm.areas[0].shape.0[0].exterior().0[0].x < 180.0,
            "transformed to WGS84"
        );
    }
}

#[cfg(test)]
mod flat_tests {
    use super::tests_support::*;
    use super::*;
    use crate::locate::index::Overlap;
    use crate::locate::locator::UnitLayer;
    use gdal::vector::LayerAccess;
    use geo::Rect;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Every overlap answer of the two layers, bit for bit, on footprints from a Sentinel-2
    /// pixel to a VIIRS one near the layer's vertices.
    fn assert_same_answers(flat: &UnitLayer, geo_road: &UnitLayer, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let vertices: Vec<geo::Coord<f64>> = geo_road
            .index
            .shapes()
            .iter()
            .flat_map(|s| s.0.iter().flat_map(|p| p.exterior().0.iter().copied()))
            .collect();
        let mut hits = 0;
        for k in 0..3000 {
            let v = vertices[rng.gen_range(0..vertices.len())];
            let (x, y) = (
                v.x + rng.gen_range(-0.003..0.003),
                v.y + rng.gen_range(-0.003..0.003),
            );
            let half = [0.0001, 0.00015, 0.002, 0.004][k % 4];
            let rect = Rect::new((x - half, y - half), (x + half, y + half));
            let a: Vec<Overlap> = flat.index.overlaps(rect);
            let b: Vec<Overlap> = geo_road.index.overlaps(rect);
            assert_eq!(a, b, "footprint {rect:?}");
            hits += usize::from(!a.is_empty());
        }
        assert!(hits > 1000, "the footprints must meet shapes: {hits}");
    }

    #[test]
    fn flat_road_equals_geo_road_on_every_case() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fields.gpkg");
        write_cases(&path, 4326, false);
        let p = path.display();
        for (spec, level) in [
            (
                format!("{p}:code=code:name=name:parent=parent:cropland_ha=crop"),
                Level::Parcel,
            ),
            (format!("{p}"), Level::Parcel),
            (format!("{p}:code=code:where=code > 2"), Level::Parcel),
            (
                format!("{p}:code=code:crs=gcj02:layer=FIELDS"),
                Level::Township,
            ),
        ] {
            let spec = LayerSpec::parse(&spec).unwrap();
            let flat = try_load_flat(&spec, level).expect("a plain GeoPackage");
            let layer = try_load(&spec, level).unwrap();
            assert_eq!(flat.layer_name, layer.layer_name);
            assert_eq!(flat.warnings, layer.warnings, "{spec:?}");
            let (loaded, warnings) = UnitLayer::load(&spec, level).unwrap();
            assert_eq!(warnings, layer.warnings);
            let reference = UnitLayer::new(level, layer.areas.clone());
            assert_eq!(loaded.units, reference.units);
            // The shapes given back from the flat rings are the geo road's, ring for ring.
            let shapes: Vec<_> = layer.areas.iter().map(|a| a.shape.clone()).collect();
            assert_eq!(loaded.index.shapes(), &shapes[..]);
            assert_same_answers(&loaded, &reference, 1);
        }
        assert!(
            try_load_flat(&LayerSpec::parse(&format!("{p}")).unwrap(), Level::Mask).is_none(),
            "mask layers keep their points: the geo road"
        );
    }

    #[test]
    fn flat_road_equals_geo_road_on_a_generated_layer() {
        // 2,500 fields as the locate bench makes them (bent edges, often concave, one in 40
        // with a hole), some written clockwise, some as two-part multipolygons.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parcels.gpkg");
        let driver = gdal::DriverManager::get_driver_by_name("GPKG").unwrap();
        let mut ds = driver.create_vector_only(&path).unwrap();
        let srs = gdal::spatial_ref::SpatialRef::from_epsg(4326).unwrap();
        let mut txn = ds.start_transaction().unwrap();
        let layer = txn
            .create_layer(gdal::vector::LayerOptions {
                name: "parcels",
                srs: Some(&srs),
                ty: gdal::vector::OGRwkbGeometryType::wkbUnknown,
                options: None,
            })
            .unwrap();
        gdal::vector::FieldDefn::new("parcel_id", gdal::vector::OGRFieldType::OFTInteger64)
            .unwrap()
            .add_to_layer(&layer)
            .unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let (side, d) = (50, 0.001);
        let ring = |pts: &[(f64, f64)]| {
            pts.iter()
                .map(|(x, y)| format!("{x} {y}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        for id in 0..side * side {
            let (i, j) = ((id % side) as f64, (id / side) as f64);
            let (x0, y0) = (114.0 + i * d, 35.0 + j * d);
            let mut j2 = || rng.gen_range(-0.15..0.15) * d;
            let mut pts = vec![
                (x0, y0),
                (x0 + 0.5 * d + j2(), y0 + j2()),
                (x0 + d, y0),
                (x0 + d + j2(), y0 + 0.5 * d + j2()),
                (x0 + d, y0 + d),
                (x0 + 0.5 * d + j2(), y0 + d + j2()),
                (x0, y0 + d),
                (x0 + j2(), y0 + 0.5 * d + j2()),
            ];
            if id % 7 == 0 {
                pts.reverse();
            }
            pts.push(pts[0]);
            let (cx, cy, h) = (x0 + 0.5 * d, y0 + 0.5 * d, 0.1 * d);
            let hole = [
                (cx - h, cy - h),
                (cx - h, cy + h),
                (cx + h, cy + h),
                (cx + h, cy - h),
                (cx - h, cy - h),
            ];
            let wkt = match id % 40 {
                0 => format!("POLYGON(({}),({}))", ring(&pts), ring(&hole)),
                13 => format!(
                    "MULTIPOLYGON((({})),(({})))",
                    ring(
                        &pts[..5]
                            .iter()
                            .chain([&pts[0]])
                            .copied()
                            .collect::<Vec<_>>()
                    ),
                    ring(&[pts[4], pts[5], pts[6], pts[7], pts[4]])
                ),
                _ => format!("POLYGON(({}))", ring(&pts)),
            };
            let mut f = gdal::vector::Feature::new(layer.defn()).unwrap();
            f.set_geometry(gdal::vector::Geometry::from_wkt(&wkt).unwrap())
                .unwrap();
            f.set_field_integer64(0, id as i64).unwrap();
            f.create(&layer).unwrap();
        }
        txn.commit().unwrap();
        drop(ds);
        let spec = LayerSpec::parse(&format!("{}:code=parcel_id", path.display())).unwrap();
        let (flat, warnings) = UnitLayer::load(&spec, Level::Parcel).unwrap();
        let layer = crate::locate::load_layer(&spec, Some(Level::Parcel)).unwrap();
        assert!(warnings.is_empty() && layer.warnings.is_empty());
        assert_eq!(flat.units.len(), side * side);
        let shapes: Vec<_> = layer.areas.iter().map(|a| a.shape.clone()).collect();
        let reference = UnitLayer::new(Level::Parcel, layer.areas);
        assert_eq!(flat.units, reference.units);
        assert_eq!(flat.index.shapes(), &shapes[..]);
        assert_same_answers(&flat, &reference, 2);
    }
}
