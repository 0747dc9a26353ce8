//! End to end: `strawfire locate` and `strawfire rank` on the Henan samples, with hotspots
//! planted inside known townships and parcels.

use std::path::{Path, PathBuf};
use std::process::Command;

use geo::InteriorPoint;
use strawfire::locate::gcj02::gcj02_to_wgs84;
use strawfire::locate::{load_layer, LayerSpec, Level};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const COUNTIES: &str =
    "samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=adcode:name=name:crs=gcj02";
const TOWNSHIPS: &str = "samples/admin/henan_hua_townships_generated_gcj02.geojson:level=township:code=code:name=name:parent=county:crs=gcj02";
const PARCELS: &str =
    "samples/admin/henan_hua_parcels_generated_gcj02.geojson:level=parcel:code=parcel_id:crs=gcj02";

/// (WGS84 lon, lat, township code, county code) of the interior point of every sample township.
fn planted() -> Vec<(f64, f64, String, String)> {
    let raw = LayerSpec::parse(&format!(
        "{}/samples/admin/henan_hua_townships_generated_gcj02.geojson:level=township:code=code:parent=county:crs=wgs84",
        root().display()
    ))
    .unwrap();
    load_layer(&raw, None)
        .unwrap()
        .areas
        .iter()
        .map(|t| {
            let p = t.shape.interior_point().unwrap();
            let (lon, lat) = gcj02_to_wgs84(p.x(), p.y());
            (lon, lat, t.code.clone(), t.parent.clone().unwrap())
        })
        .collect()
}

fn write_feed(path: &Path, points: &[(f64, f64)], day: &str) {
    let mut s = String::from("latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_ti5,frp,daynight\n");
    for (lon, lat) in points {
        s += &format!(
            "{lat:.6},{lon:.6},335.2,0.39,0.36,{day},540,N20,VIIRS,n,2.0NRT,295.1,4.2,D\n"
        );
    }
    std::fs::write(path, s).unwrap();
}

fn strawfire(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strawfire"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn locate_names_township_county_parcel_and_mask() {
    let dir = tempfile::tempdir().unwrap();
    let towns = planted();
    assert_eq!(towns.len(), 89);
    let mut points: Vec<(f64, f64)> = towns.iter().map(|t| (t.0, t.1)).collect();
    // On the parcel block of 滑县 (GCJ-02 centre 114.56, 35.50), and far outside (Nepal).
    let on_block = gcj02_to_wgs84(114.5605, 35.5003);
    points.push(on_block);
    points.push((83.14868, 27.89951));
    let feed = dir.path().join("h.csv");
    write_feed(&feed, &points, "2024-06-05");
    // A confirmed false-alarm site at the first township's point, 500 m radius.
    let mask = dir.path().join("sites.csv");
    std::fs::write(
        &mask,
        format!(
            "name,latitude,longitude\nbrick kiln,{},{}\n",
            points[0].1, points[0].0
        ),
    )
    .unwrap();
    let out = dir.path().join("located.csv");
    let plants = format!(
        "{}/tests/fixtures/heatsources/wri_gppd_china_power_plants.csv:name=Name:radius_m=2000:reason=power plant:where=Fuel='Coal'",
        root().display()
    );
    let mask_spec = format!(
        "{}:name=name:radius_m=500:reason=false-alarm site:priority=10",
        mask.display()
    );
    let (ok, _, err) = strawfire(&[
        "locate",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        COUNTIES,
        TOWNSHIPS,
        "--parcels",
        PARCELS,
        "--mask",
        &plants,
        "--mask",
        &mask_spec,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        &header[14..23],
        [
            "county_code",
            "county_name",
            "township_code",
            "township_name",
            "village_code",
            "village_name",
            "parcel_id",
            "parcel_overlap",
            "mask"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), points.len());
    for (row, (_, _, town, county)) in rows.iter().zip(&towns) {
        assert_eq!(
            (&row[16], &row[14]),
            (town.as_str(), county.as_str()),
            "{row:?}"
        );
    }
    assert_eq!(&rows[0][22], "false-alarm site: brick kiln (0 m)");
    let block = &rows[towns.len()];
    assert_eq!(&block[14], "410526");
    assert!(block[20].starts_with("HUA-"), "{block:?}");
    let share: f64 = block[21].parse().unwrap();
    assert!(share > 0.0 && share <= 1.0);
    // 100 m strips under a ~375 m pixel: several parcels, shares summing to at most 1.
    let listed: Vec<f64> = block[23]
        .split(';')
        .map(|p| p.rsplit(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(listed.len() >= 4, "{}", &block[23]);
    assert!(listed.iter().sum::<f64>() <= 1.0 + 1e-3);
    let nepal = &rows[towns.len() + 1];
    assert_eq!((&nepal[14], &nepal[24]), ("", "outside_admin"));
    assert!(err.contains("91 hotspots located"), "{err}");
}

#[test]
fn rank_orders_townships_per_day() {
    let dir = tempfile::tempdir().unwrap();
    let towns = planted();
    // Three fires in township 0, two in township 1, one in township 2 on 5 June (UTC 05:40 =
    // 13:40 China time), one in township 0 on 6 June.
    let p = |i: usize| (towns[i].0, towns[i].1);
    let day1 = dir.path().join("d1.csv");
    write_feed(&day1, &[p(0), p(0), p(0), p(1), p(1), p(2)], "2024-06-05");
    let day2 = dir.path().join("d2.csv");
    write_feed(&day2, &[p(0)], "2024-06-06");
    let (ok, out, err) = strawfire(&[
        "rank",
        "--hotspots",
        day1.to_str().unwrap(),
        day2.to_str().unwrap(),
        "--admin",
        COUNTIES,
        TOWNSHIPS,
        "--level",
        "township",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "date,level,code,name,hotspots,rank");
    let row = |l: &str| l.split(',').map(String::from).collect::<Vec<_>>();
    let r1 = row(lines[1]);
    assert_eq!(
        (
            r1[0].as_str(),
            r1[2].as_str(),
            r1[4].as_str(),
            r1[5].as_str()
        ),
        ("2024-06-05", towns[0].2.as_str(), "3", "1")
    );
    assert_eq!(row(lines[2])[4..6], ["2".to_string(), "2".to_string()]);
    assert_eq!(row(lines[3])[4..6], ["1".to_string(), "3".to_string()]);
    assert_eq!(row(lines[4])[0], "2024-06-06");
    assert_eq!(lines.len(), 5);

    let (ok, out, err) = strawfire(&[
        "rank",
        "--hotspots",
        day1.to_str().unwrap(),
        "--admin",
        COUNTIES,
        "--format",
        "json",
        "--from",
        "2024-06-05",
        "--to",
        "2024-06-05",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let total: u64 = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["hotspots"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 6);
    assert_eq!(v[0]["level"], "county");
}

#[test]
fn rank_per_1000_ha_of_cropland_when_the_layer_gives_it() {
    let dir = tempfile::tempdir().unwrap();
    // Two square WGS84 counties with a cropland field (invented figures, for the arithmetic).
    let sq = |code: &str, x: f64, ha: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"adcode":"{code}","name":"c{code}","crop_ha":{ha}}},"geometry":{{"type":"Polygon","coordinates":[[[{x},35],[{x1},35],[{x1},36],[{x},36],[{x},35]]]}}}}"#,
            x1 = x + 1.0
        )
    };
    let admin = dir.path().join("counties.geojson");
    std::fs::write(
        &admin,
        format!(
            r#"{{"type":"FeatureCollection","features":[{},{}]}}"#,
            sq("000001", 114.0, 40_000.0),
            sq("000002", 115.0, 8_000.0)
        ),
    )
    .unwrap();
    let feed = dir.path().join("h.csv");
    write_feed(
        &feed,
        &[(114.5, 35.5), (114.6, 35.5), (114.7, 35.5), (115.5, 35.5)],
        "2024-06-05",
    );
    let spec = format!(
        "{}:level=county:code=adcode:name=name:cropland_ha=crop_ha",
        admin.display()
    );
    let (ok, out, err) = strawfire(&[
        "rank",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        &spec,
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "date,level,code,name,hotspots,rank,per_1000_ha_cropland",
            "2024-06-05,county,000001,c000001,3,1,0.0750",
            "2024-06-05,county,000002,c000002,1,2,0.1250",
        ]
    );
}

#[test]
fn cli_errors_name_the_field_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("h.csv");
    write_feed(&feed, &[(114.5, 35.5)], "2024-06-05");
    let (ok, _, err) = strawfire(&[
        "locate",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        "samples/admin/henan_hua_counties_gcj02.geojson:level=county:code=county_code:crs=gcj02",
    ]);
    assert!(!ok);
    assert!(
        err.contains("henan_hua_counties_gcj02.geojson") && err.contains("no field `county_code`"),
        "{err}"
    );
    let (ok, _, err) = strawfire(&["locate", "--hotspots", "nope.csv", "--admin", COUNTIES]);
    assert!(!ok && err.contains("nope.csv"), "{err}");
    // The file named once, and why (not `reading hotspots nope.csv: nope.csv: ...`).
    assert_eq!(err.matches("nope.csv").count(), 1, "{err}");
    assert!(err.contains("No such file"), "{err}");
    // A layer file that is not there says so, not GDAL's empty message.
    let (ok, _, err) = strawfire(&[
        "locate",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        "samples/admin/nope.geojson:level=county:code=adcode",
    ]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("samples/admin/nope.geojson") && err.contains("No such file"),
        "{err}"
    );
    let (ok, _, err) = strawfire(&[
        "rank",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        COUNTIES,
        "--level",
        "township",
    ]);
    assert!(
        !ok && err.contains("no --admin layer of level township"),
        "{err}"
    );
    // Days the wrong way round are refused, naming both options; a window that holds none of
    // the file's days ranks nothing and says so (it said "6 hotspots ranked" over no rows).
    let (ok, _, err) = strawfire(&[
        "rank",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        COUNTIES,
        "--from",
        "2024-06-10",
        "--to",
        "2024-06-01",
    ]);
    assert!(
        !ok && err.contains("--to 2024-06-01 is before --from 2024-06-10"),
        "{err}"
    );
    let (ok, out, err) = strawfire(&[
        "rank",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        COUNTIES,
        "--from",
        "2024-07-01",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "only the header: {out}");
    assert!(
        err.contains("1 hotspots lie outside --from/--to")
            && err.contains("0 rows (0 hotspots ranked)"),
        "{err}"
    );
    // A file whose only date reads both ways is refused, not guessed.
    write_feed(&feed, &[(114.5, 35.5)], "6/5/2024");
    let (ok, _, err) = strawfire(&[
        "rank",
        "--hotspots",
        feed.to_str().unwrap(),
        "--admin",
        COUNTIES,
    ]);
    assert!(!ok && err.contains("`6/5/2024` are ambiguous"), "{err}");
}

#[test]
fn every_sample_parcel_lies_in_the_township_it_names() {
    let spec = |s: &str| LayerSpec::parse(&format!("{}/{s}", root().display())).unwrap();
    let towns = load_layer(&spec(TOWNSHIPS), None).unwrap();
    let parcels = load_layer(
        &spec("samples/admin/henan_hua_parcels_generated_gcj02.geojson:level=parcel:code=parcel_id:parent=township:crs=gcj02"),
        None,
    )
    .unwrap();
    assert_eq!(parcels.areas.len(), 640);
    let index = strawfire::locate::UnitLayer::new(Level::Township, towns.areas);
    for p in &parcels.areas {
        let c = p.shape.interior_point().unwrap();
        let hits: Vec<&str> = index
            .index
            .containing(c.x(), c.y())
            .iter()
            .map(|&i| index.units[i].code.as_str())
            .collect();
        assert_eq!(hits, [p.parent.as_deref().unwrap()], "parcel {}", p.code);
    }
}
