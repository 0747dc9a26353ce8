//! Sentinel-2 vector masks of processing baselines before 04.00 (products sensed before
//! 25 January 2022 and not reprocessed): `QI_DATA/MSK_CLOUDS_B00.gml`, the cloud mask as GML 3.2
//! polygons in the tile's UTM grid, rasterised here onto the reader's 20 m grid.
//!
//! Why our own rasteriser and not OGR's GML driver plus `gdal_rasterize`: the file is a tiny
//! EO profile (`eop:Mask` → `eop:maskMembers` → `eop:MaskFeature` with `eop:maskType` and
//! `eop:extentOf/gml:Polygon`), OGR's reading of it depends on GDAL's GML application-schema
//! guessing (and on Xerces or Expat being built in), and the reader must give the very grid the
//! bands are on; the parse is roxmltree, and the fill is pure compute beside its reference.
//!
//! Layout facts (S2 Products Specification Document S2-PDGS-TAS-DI-PSD, masks of Level-1C,
//! baselines 02.xx–03.xx; files as the processor writes them):
//! - The root `eop:Mask` has `gml:boundedBy` with a `gml:Envelope srsName="urn:ogc:def:crs:
//!   EPSG::326zz"` (or `gml:Null` when the mask is empty, in which case `eop:maskMembers` is empty
//!   or absent).
//! - Each `eop:MaskFeature` (`gml:id="OPAQUE.0"`, `"CIRRUS.3"`) has `eop:maskType` `OPAQUE` or
//!   `CIRRUS` and one `gml:Polygon` with a `gml:exterior` ring and any number of `gml:interior`
//!   rings (holes), each a `gml:LinearRing/gml:posList` of `x y` pairs (`srsDimension="2"`;
//!   a third coordinate is skipped when `srsDimension="3"`), closed (first = last point).
//! - The polygons are the 60 m cloud mask traced along pixel edges, so their vertices lie on
//!   60 m steps of the tile's grid.
//!
//! The rule of the fill: a 20 m pixel is in a feature when its **centre** is inside the
//! feature's polygon by the even-odd rule over its rings (holes out), and in the mask when it
//! is in any feature of the asked types. For polygons on 60 m edges this is exactly "the
//! 60 m pixel is cloud", the rule `MSK_CLASSI_B00.jp2` gives from baseline 04.00.

use std::path::Path;

use super::error::ProductError;

/// One mask feature: its type (`OPAQUE`, `CIRRUS`, …) and its polygon's rings in map
/// coordinates, exterior first, each as (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskFeature {
    pub mask_type: String,
    pub rings: Vec<Vec<(f64, f64)>>,
}

/// A parsed vector mask.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorMask {
    /// The EPSG code of `srsName` (`urn:ogc:def:crs:EPSG::32650` → 32650), when the file says.
    pub epsg: Option<u32>,
    pub features: Vec<MaskFeature>,
}

fn bad(path: &Path, variable: &str, message: String) -> ProductError {
    ProductError::Bad {
        path: path.to_path_buf(),
        variable: variable.to_string(),
        message,
    }
}

/// `urn:ogc:def:crs:EPSG::32650`, `urn:ogc:def:crs:EPSG:6.3:32650`, `EPSG:32650` → 32650.
fn epsg_of(srs: &str) -> Option<u32> {
    let s = srs.trim();
    if !s.to_ascii_uppercase().contains("EPSG") {
        return None;
    }
    s.rsplit(':').next()?.trim().parse().ok()
}

/// Parses a vector mask (`MSK_CLOUDS_B00.gml`); `path` names it in errors.
pub fn parse(text: &str, path: &Path) -> Result<VectorMask, ProductError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| bad(path, "GML", e.to_string()))?;
    let named = |n: &roxmltree::Node, name: &str| n.is_element() && n.tag_name().name() == name;
    let root = doc.root_element();
    if root.tag_name().name() != "Mask" {
        return Err(bad(
            path,
            "GML",
            format!(
                "the root element is {:?}, not eop:Mask",
                root.tag_name().name()
            ),
        ));
    }
    let mut epsg = None;
    for n in doc.descendants().filter(|n| n.is_element()) {
        if let Some(code) = n.attribute("srsName").and_then(epsg_of) {
            match epsg {
                None => epsg = Some(code),
                Some(e) if e != code => {
                    return Err(bad(
                        path,
                        "srsName",
                        format!("features in EPSG:{e} and EPSG:{code} in one mask"),
                    ))
                }
                _ => {}
            }
        }
    }
    let mut features = Vec::new();
    for f in doc.descendants().filter(|n| named(n, "MaskFeature")) {
        let id = f.attribute(("http://www.opengis.net/gml/3.2", "id"));
        let id = id.unwrap_or("?");
        let mask_type = f
            .children()
            .find(|c| named(c, "maskType"))
            .and_then(|c| c.text())
            .map(|t| t.trim().to_string())
            .ok_or_else(|| bad(path, "eop:maskType", format!("missing in feature {id}")))?;
        let polygon = f
            .descendants()
            .find(|c| named(c, "Polygon"))
            .ok_or_else(|| bad(path, "gml:Polygon", format!("missing in feature {id}")))?;
        let mut rings = Vec::new();
        for part in polygon
            .children()
            .filter(|c| named(c, "exterior") || named(c, "interior"))
        {
            let exterior = named(&part, "exterior");
            if exterior != rings.is_empty() {
                return Err(bad(
                    path,
                    "gml:exterior",
                    format!("feature {id}: one exterior ring, first, then the interior rings"),
                ));
            }
            let list = part
                .descendants()
                .find(|c| named(c, "posList"))
                .ok_or_else(|| {
                    bad(
                        path,
                        "gml:posList",
                        format!("missing in a ring of feature {id}"),
                    )
                })?;
            let dim: usize = match list.attribute("srsDimension") {
                None => 2,
                Some(d) => d
                    .trim()
                    .parse()
                    .ok()
                    .filter(|d| (2..=3).contains(d))
                    .ok_or_else(|| {
                        bad(
                            path,
                            "srsDimension",
                            format!("feature {id}: {d:?} is not 2 or 3"),
                        )
                    })?,
            };
            let values = list
                .text()
                .unwrap_or("")
                .split_ascii_whitespace()
                .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
                .collect::<Option<Vec<f64>>>()
                .ok_or_else(|| {
                    bad(
                        path,
                        "gml:posList",
                        format!("feature {id}: a coordinate is not a number"),
                    )
                })?;
            if values.len() % dim != 0 || values.len() / dim < 4 {
                return Err(bad(
                    path,
                    "gml:posList",
                    format!(
                        "feature {id}: {} numbers are not a closed ring of {dim}-D points",
                        values.len()
                    ),
                ));
            }
            let ring: Vec<(f64, f64)> = values.chunks(dim).map(|p| (p[0], p[1])).collect();
            if ring.first() != ring.last() {
                return Err(bad(
                    path,
                    "gml:posList",
                    format!("feature {id}: the ring is not a closed ring (first point ≠ last)"),
                ));
            }
            rings.push(ring);
        }
        if rings.is_empty() {
            return Err(bad(
                path,
                "gml:exterior",
                format!("missing in feature {id}"),
            ));
        }
        features.push(MaskFeature { mask_type, rings });
    }
    Ok(VectorMask { epsg, features })
}

/// The grid to fill: `transform` as GDAL's (x0, dx, 0, y0, 0, dy), `shape` (rows, cols).
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub transform: [f64; 6],
    pub shape: (usize, usize),
}

/// The x of each crossing of the horizontal line `y` with the rings' edges (half-open in y,
/// so a vertex on the line counts once), sorted.
fn crossings(rings: &[Vec<(f64, f64)>], y: f64, out: &mut Vec<f64>) {
    out.clear();
    for ring in rings {
        for w in ring.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            if (y0 <= y) != (y1 <= y) {
                out.push(x0 + (y - y0) * (x1 - x0) / (y1 - y0));
            }
        }
        // An unclosed ring (not from `parse`, which refuses them) is closed here.
        if let (Some(&(x0, y0)), Some(&(x1, y1))) = (ring.last(), ring.first()) {
            if (x0, y0) != (x1, y1) && (y0 <= y) != (y1 <= y) {
                out.push(x0 + (y - y0) * (x1 - x0) / (y1 - y0));
            }
        }
    }
    out.sort_by(f64::total_cmp);
}

/// Sets to 1 the pixels of `out` (row-major, `grid.shape`) whose centre lies inside a feature
/// of one of `types` (scanline fill, even-odd per feature).
pub fn rasterise(mask: &VectorMask, types: &[&str], grid: Grid, out: &mut [u8]) {
    let (rows, cols) = grid.shape;
    let [x0, dx, _, y0, _, dy] = grid.transform;
    assert_eq!(out.len(), rows * cols);
    let mut xs = Vec::new();
    for f in mask
        .features
        .iter()
        .filter(|f| types.iter().any(|t| t.eq_ignore_ascii_case(&f.mask_type)))
    {
        // Rows whose centre lies within the feature's y extent.
        let (ymin, ymax) = f.rings[0]
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.1), b.max(p.1))
            });
        let row_of = |y: f64| (y - y0) / dy - 0.5;
        let (ra, rb) = (row_of(ymin), row_of(ymax));
        let r_lo = ra.min(rb).floor().max(0.0) as usize;
        let r_hi = (ra.max(rb).ceil() + 1.0).clamp(0.0, rows as f64) as usize;
        for r in r_lo..r_hi {
            let yc = y0 + (r as f64 + 0.5) * dy;
            crossings(&f.rings, yc, &mut xs);
            for pair in xs.chunks_exact(2) {
                // Columns whose centre x is in [pair[0], pair[1]) (dx > 0).
                let c_from = ((pair[0] - x0) / dx - 0.5).ceil().max(0.0) as usize;
                let c_to = ((pair[1] - x0) / dx - 0.5).ceil().clamp(0.0, cols as f64) as usize;
                if c_from < c_to {
                    out[r * cols + c_from..r * cols + c_to].fill(1);
                }
            }
        }
    }
}

/// The reference: each pixel's centre tested against each feature by ray casting.
pub fn rasterise_reference(mask: &VectorMask, types: &[&str], grid: Grid) -> Vec<u8> {
    let (rows, cols) = grid.shape;
    let [x0, dx, _, y0, _, dy] = grid.transform;
    let mut out = vec![0u8; rows * cols];
    for (i, o) in out.iter_mut().enumerate() {
        let (x, y) = (
            x0 + ((i % cols) as f64 + 0.5) * dx,
            y0 + ((i / cols) as f64 + 0.5) * dy,
        );
        let inside = |f: &MaskFeature| {
            let mut n = 0;
            for ring in &f.rings {
                let k = ring.len();
                for j in 0..k {
                    let ((xa, ya), (xb, yb)) = (ring[j], ring[(j + 1) % k]);
                    if (ya <= y) != (yb <= y) && x < xa + (y - ya) * (xb - xa) / (yb - ya) {
                        n += 1;
                    }
                }
            }
            n % 2 == 1
        };
        *o = mask
            .features
            .iter()
            .filter(|f| types.iter().any(|t| t.eq_ignore_ascii_case(&f.mask_type)))
            .any(inside) as u8;
    }
    out
}

/// Writes a vector mask in the processor's layout (the inverse of [`parse`]): `features` in
/// EPSG `epsg`; an empty list gives the empty mask (`gml:Null` bounds, no members). For the
/// product writer and the tests.
pub fn write_gml(gml_id: &str, epsg: u32, features: &[MaskFeature]) -> String {
    // The processor's ids for cloud features: `OPAQUE.0`, `CIRRUS.3`.
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    let named: Vec<(String, MaskFeature)> = features
        .iter()
        .map(|f| {
            let n = counts.entry(f.mask_type.as_str()).or_default();
            let id = format!("{}.{n}", f.mask_type);
            *n += 1;
            (id, f.clone())
        })
        .collect();
    write_gml_with_ids(gml_id, epsg, &named)
}

/// [`write_gml`] with each feature's `gml:id` given (`detector_footprint-B12-07-0` for the
/// detector-footprint masks).
pub fn write_gml_with_ids(gml_id: &str, epsg: u32, features: &[(String, MaskFeature)]) -> String {
    let srs = format!("urn:ogc:def:crs:EPSG::{epsg}");
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<eop:Mask xmlns:eop=\"http://www.opengis.net/eop/2.0\" \
         xmlns:gml=\"http://www.opengis.net/gml/3.2\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ",
    );
    s.push_str(&format!(
        "gml:id=\"{gml_id}\">\n  <gml:name>{gml_id}</gml:name>\n"
    ));
    let pts = features.iter().flat_map(|(_, f)| f.rings.iter().flatten());
    let (mut lo, mut hi) = (
        (f64::INFINITY, f64::INFINITY),
        (f64::NEG_INFINITY, f64::NEG_INFINITY),
    );
    for &(x, y) in pts {
        lo = (lo.0.min(x), lo.1.min(y));
        hi = (hi.0.max(x), hi.1.max(y));
    }
    if features.is_empty() {
        s.push_str(
            "  <gml:boundedBy>\n    <gml:Null>Inapplicable</gml:Null>\n  </gml:boundedBy>\n",
        );
        s.push_str("</eop:Mask>\n");
        return s;
    }
    s.push_str(&format!(
        "  <gml:boundedBy>\n    <gml:Envelope srsName=\"{srs}\">\n      <gml:lowerCorner>{} {}</gml:lowerCorner>\n      \
         <gml:upperCorner>{} {}</gml:upperCorner>\n    </gml:Envelope>\n  </gml:boundedBy>\n  <eop:maskMembers>\n",
        lo.0, lo.1, hi.0, hi.1
    ));
    for (id, f) in features {
        s.push_str(&format!(
            "    <eop:MaskFeature gml:id=\"{id}\">\n      <eop:maskType codeSpace=\"urn:gs2:S2PDGS:maskType\">{}</eop:maskType>\n      \
             <eop:extentOf>\n        <gml:Polygon gml:id=\"{id}.Polygon\" srsName=\"{srs}\">\n",
            f.mask_type
        ));
        for (i, ring) in f.rings.iter().enumerate() {
            let tag = if i == 0 { "exterior" } else { "interior" };
            let list: Vec<String> = ring.iter().map(|(x, y)| format!("{x} {y}")).collect();
            s.push_str(&format!(
                "          <gml:{tag}>\n            <gml:LinearRing>\n              <gml:posList srsDimension=\"2\">{}</gml:posList>\n            \
                 </gml:LinearRing>\n          </gml:{tag}>\n",
                list.join(" ")
            ));
        }
        s.push_str("        </gml:Polygon>\n      </eop:extentOf>\n    </eop:MaskFeature>\n");
    }
    s.push_str("  </eop:maskMembers>\n</eop:Mask>\n");
    s
}

/// Rectangles covering the set cells of a `rows × cols` mask on a grid of `cell_m` steps from
/// (x0, y0) (north-up): each run of set cells in a row, merged with the same run in the rows
/// below. Closed rings, counter-clockwise. For the product writer.
pub fn rectangles(
    set: impl Fn(usize, usize) -> bool,
    (rows, cols): (usize, usize),
    (x0, y0): (f64, f64),
    cell_m: f64,
) -> Vec<Vec<(f64, f64)>> {
    // (c0, c1, r0): open runs, extended while the next row has the same run.
    let mut open: Vec<(usize, usize, usize)> = Vec::new();
    let mut out = Vec::new();
    let mut close = |(c0, c1, r0): (usize, usize, usize), r1: usize| {
        let (xa, xb) = (x0 + c0 as f64 * cell_m, x0 + c1 as f64 * cell_m);
        let (ya, yb) = (y0 - r0 as f64 * cell_m, y0 - r1 as f64 * cell_m);
        out.push(vec![(xa, yb), (xb, yb), (xb, ya), (xa, ya), (xa, yb)]);
    };
    for r in 0..=rows {
        let mut runs = Vec::new();
        if r < rows {
            let mut c = 0;
            while c < cols {
                if set(r, c) {
                    let s = c;
                    while c < cols && set(r, c) {
                        c += 1;
                    }
                    runs.push((s, c));
                } else {
                    c += 1;
                }
            }
        }
        let mut next = Vec::new();
        for run in open.drain(..) {
            if let Some(i) = runs.iter().position(|&(a, b)| (a, b) == (run.0, run.1)) {
                runs.remove(i);
                next.push(run);
            } else {
                close(run, r);
            }
        }
        next.extend(runs.into_iter().map(|(a, b)| (a, b, r)));
        open = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A mask as the processor writes it: one opaque cloud with a hole (a clear 60 m pixel),
    /// one cirrus patch, a vertex-on-centre-line case.
    const GML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<eop:Mask xmlns:eop="http://www.opengis.net/eop/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="OPAQUE">
  <gml:name>OPAQUE</gml:name>
  <gml:boundedBy>
    <gml:Envelope srsName="urn:ogc:def:crs:EPSG::32650">
      <gml:lowerCorner>399960 4199820</gml:lowerCorner>
      <gml:upperCorner>400140 4200000</gml:upperCorner>
    </gml:Envelope>
  </gml:boundedBy>
  <eop:maskMembers>
    <eop:MaskFeature gml:id="OPAQUE.0">
      <eop:maskType codeSpace="urn:gs2:S2PDGS:maskType">OPAQUE</eop:maskType>
      <eop:extentOf>
        <gml:Polygon gml:id="OPAQUE.0.Polygon" srsName="urn:ogc:def:crs:EPSG::32650">
          <gml:exterior><gml:LinearRing><gml:posList srsDimension="2">399960 4199820 400140 4199820 400140 4200000 399960 4200000 399960 4199820</gml:posList></gml:LinearRing></gml:exterior>
          <gml:interior><gml:LinearRing><gml:posList srsDimension="2">400020 4199880 400020 4199940 400080 4199940 400080 4199880 400020 4199880</gml:posList></gml:LinearRing></gml:interior>
        </gml:Polygon>
      </eop:extentOf>
    </eop:MaskFeature>
    <eop:MaskFeature gml:id="CIRRUS.0">
      <eop:maskType codeSpace="urn:gs2:S2PDGS:maskType">CIRRUS</eop:maskType>
      <eop:extentOf>
        <gml:Polygon gml:id="CIRRUS.0.Polygon" srsName="urn:ogc:def:crs:EPSG::32650">
          <gml:exterior><gml:LinearRing><gml:posList srsDimension="3">400140 4200000 0 400200 4200000 0 400200 4199940 0 400140 4199940 0 400140 4200000 0</gml:posList></gml:LinearRing></gml:exterior>
        </gml:Polygon>
      </eop:extentOf>
    </eop:MaskFeature>
  </eop:maskMembers>
</eop:Mask>
"#;

    fn grid() -> Grid {
        Grid {
            transform: [399960.0, 20.0, 0.0, 4200000.0, 0.0, -20.0],
            shape: (12, 15),
        }
    }

    #[test]
    fn a_cloud_with_a_hole_fills_its_60_m_pixels_and_leaves_the_hole() {
        let m = parse(GML, Path::new("MSK_CLOUDS_B00.gml")).unwrap();
        assert_eq!(m.epsg, Some(32650));
        assert_eq!(m.features.len(), 2);
        assert_eq!(m.features[0].rings.len(), 2);
        let g = grid();
        let mut out = vec![0u8; 12 * 15];
        rasterise(&m, &["OPAQUE"], g, &mut out);
        let at = |r: usize, c: usize| out[r * 15 + c];
        // The opaque square: 9 × 9 pixels of 20 m, less the 3 × 3 hole at rows/cols 3..6.
        let set: usize = out.iter().map(|&v| v as usize).sum();
        assert_eq!(set, 81 - 9);
        assert_eq!((at(0, 0), at(8, 8), at(9, 0), at(0, 9)), (1, 1, 0, 0));
        assert_eq!((at(3, 3), at(5, 5), at(2, 3), at(6, 5)), (0, 0, 1, 1));
        assert_eq!(out, rasterise_reference(&m, &["OPAQUE"], g));
        // With cirrus: 3 × 3 more at rows 0..3, columns 9..12.
        rasterise(&m, &["OPAQUE", "CIRRUS"], g, &mut out);
        let at = |r: usize, c: usize| out[r * 15 + c];
        assert_eq!(out.iter().map(|&v| v as usize).sum::<usize>(), 72 + 9);
        assert_eq!((at(0, 9), at(2, 11), at(3, 9)), (1, 1, 0));
        assert_eq!(out, rasterise_reference(&m, &["opaque", "cirrus"], g));
    }

    #[test]
    fn the_empty_mask_and_bad_files_are_told_apart() {
        let empty = write_gml("OPAQUE", 32650, &[]);
        let m = parse(&empty, Path::new("MSK_CLOUDS_B00.gml")).unwrap();
        assert!(m.features.is_empty() && m.epsg.is_none());
        let p = Path::new("QI_DATA/MSK_CLOUDS_B00.gml");
        for (bad, what) in [
            (GML.replace("399960 4199820 400140", "399960 x 400140"), "not a number"),
            (GML.replace(" 400020 4199880</gml:posList>", "</gml:posList>"), "closed ring"),
            (GML.replace("srsDimension=\"3\"", "srsDimension=\"4\""), "srsDimension"),
            (GML.replace("EPSG::32650\">\n          <gml:exterior><gml:LinearRing><gml:posList srsDimension=\"3\"", "EPSG::32651\">\n          <gml:exterior><gml:LinearRing><gml:posList srsDimension=\"3\""), "EPSG:32650 and EPSG:32651"),
            (GML.replace("eop:Mask", "eop:Other"), "eop:Mask"),
            (GML.replace("<gml:name>OPAQUE", "<gml:name>OPAQUE<"), "GML"),
        ] {
            let err = parse(&bad, p).unwrap_err().to_string();
            assert!(err.contains(what) && err.contains("MSK_CLOUDS_B00.gml"), "{what}: {err}");
        }
    }

    #[test]
    fn written_masks_read_back_and_rectangles_cover_exactly_the_set_cells() {
        let set = |r: usize, c: usize| (r * 7 + c * 3) % 5 < 2 || (2..6).contains(&r) && c < 4;
        let rects = rectangles(set, (8, 9), (399960.0, 4200000.0), 60.0);
        let features: Vec<MaskFeature> = rects
            .into_iter()
            .map(|ring| MaskFeature {
                mask_type: "OPAQUE".into(),
                rings: vec![ring],
            })
            .collect();
        let text = write_gml("OPAQUE", 32650, &features);
        let m = parse(&text, Path::new("MSK_CLOUDS_B00.gml")).unwrap();
        assert_eq!(m.features, features);
        let g = Grid {
            transform: [399960.0, 20.0, 0.0, 4200000.0, 0.0, -20.0],
            shape: (24, 27),
        };
        let mut out = vec![0u8; 24 * 27];
        rasterise(&m, &["OPAQUE"], g, &mut out);
        for r in 0..24 {
            for c in 0..27 {
                assert_eq!(out[r * 27 + c] != 0, set(r / 3, c / 3), "({r}, {c})");
            }
        }
    }

    proptest! {
        /// Random polygons (star-shaped, with a hole, vertices anywhere) fill the same pixels
        /// as the per-pixel ray-casting reference.
        #[test]
        fn scanline_fill_equals_the_reference(
            radii in proptest::collection::vec(30.0f64..200.0, 3..12),
            cx in 399990.0f64..400300.0,
            cy in 4199700.0f64..4199990.0,
            hole in 0.0f64..0.5,
        ) {
            let n = radii.len();
            let ring = |scale: f64, rev: bool| -> Vec<(f64, f64)> {
                let mut v: Vec<(f64, f64)> = (0..=n)
                    .map(|i| {
                        let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
                        let r = radii[i % n] * scale;
                        (cx + r * a.cos(), cy + r * a.sin())
                    })
                    .collect();
                if rev {
                    v.reverse();
                }
                v
            };
            let mut rings = vec![ring(1.0, false)];
            if hole > 0.1 {
                rings.push(ring(hole, true));
            }
            let m = VectorMask {
                epsg: Some(32650),
                features: vec![MaskFeature { mask_type: "OPAQUE".into(), rings }],
            };
            let g = Grid { transform: [399960.0, 20.0, 0.0, 4200000.0, 0.0, -20.0], shape: (30, 25) };
            let mut out = vec![0u8; 30 * 25];
            rasterise(&m, &["OPAQUE"], g, &mut out);
            prop_assert_eq!(out, rasterise_reference(&m, &["OPAQUE"], g));
        }
    }
}
