//! End-to-end: `strawfire scan` on scene files, good and bad.

mod common;

use std::process::Command;

use common::*;

fn scan(args: &[&str]) -> std::process::Output {
    Command::new(bin()).arg("scan").args(args).output().unwrap()
}

#[test]
fn night_scene_gives_firms_csv_with_row_col_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("night.tif");
    // A fixed-threshold fire (BT4 > 320 K) and a contextual one (+15 K).
    night_scene(&scene, 60, 80, &[(20, 30, 340.0), (40, 60, 305.0)]);
    let out = dir.path().join("h.csv");
    let o = scan(&[scene.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,confidence,version,bright_ti5,frp,daynight,row,col"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert_eq!((rows[0][14], rows[0][15]), ("20", "30"));
    assert_eq!(rows[0][9], "h");
    assert_eq!(rows[1][9], "n");
    assert_eq!((rows[1][14], rows[1][15]), ("40", "60"));
    assert_eq!(rows[0][5], "2024-06-08");
    assert_eq!(rows[0][6], "1806");
    assert_eq!(rows[0][7], "N20");
    assert_eq!(rows[0][13], "N");
    // 375 m pixels in UTM 50N, northern Henan.
    let scan_km: f64 = rows[0][3].parse().unwrap();
    assert!((scan_km - 0.375).abs() < 0.01, "{scan_km}");
    let lat: f64 = rows[0][0].parse().unwrap();
    let lon: f64 = rows[0][1].parse().unwrap();
    assert!(
        (35.0..36.0).contains(&lat) && (115.5..116.5).contains(&lon),
        "{lat} {lon}"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("fires: 2 (high 1, nominal 1, low 0)"),
        "{stderr}"
    );
}

#[test]
fn geojson_output_has_the_same_properties() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("night.tif");
    night_scene(&scene, 40, 40, &[(20, 20, 340.0)]);
    let o = scan(&[scene.to_str().unwrap(), "--format", "geojson", "-q"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &v["features"][0];
    assert_eq!(f["properties"]["confidence"], "h");
    assert_eq!(f["properties"]["row"], 20.0);
    assert_eq!(f["geometry"]["type"], "Point");
}

fn assert_clean_failure(o: &std::process::Output, needles: &[&str], out: &std::path::Path) {
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "one clear message: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for n in needles {
        assert!(stderr.contains(n), "missing {n:?} in {stderr}");
    }
    assert!(!out.exists(), "no output file may be left behind");
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn truncated_scene_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("cut.tif");
    night_scene(&scene, 200, 200, &[]);
    let bytes = std::fs::read(&scene).unwrap();
    std::fs::write(&scene, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.path().join("h.csv");
    let o = scan(&[scene.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_clean_failure(&o, &["cut.tif"], &out);
}

#[test]
fn a_file_that_is_not_a_raster() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("notes.txt");
    std::fs::write(&scene, "this is not a scene\n").unwrap();
    let out = dir.path().join("h.csv");
    let o = scan(&[scene.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_clean_failure(&o, &["notes.txt", "not a raster"], &out);
}

#[test]
fn a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.csv");
    let o = scan(&["/nonexistent/scene.tif", "-o", out.to_str().unwrap()]);
    assert_clean_failure(&o, &["/nonexistent/scene.tif"], &out);
}

/// Each cause is said once: a model file that is not there names the file and the system's
/// reason, and not the reason twice (the message already quotes its cause).
#[test]
fn a_missing_model_file_says_why_once() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("night.tif");
    night_scene(&scene, 40, 40, &[]);
    let model = dir.path().join("nope.toml");
    let out = dir.path().join("h.csv");
    let o = scan(&[
        scene.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["nope.toml", "No such file"], &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
}

/// A reader that stops early (`strawfire scan X | head -1`) ends the command quietly, as it
/// ends any classic tool (status 141, SIGPIPE's), not with `error: Broken pipe (os error 32)`.
#[test]
fn a_reader_that_goes_away_is_no_error_message() {
    let mut child = Command::new(bin())
        .args(["scan", "samples/hua-night.tif", "-q"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end before the scan (a few hundred ms) has written anything.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(o.status.code(), Some(141), "{stderr}");
}

#[test]
fn a_scene_without_a_required_band() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("noi5.tif");
    let bands = base_bands(30, 30, false);
    let named: Vec<(&str, &ndarray::Array2<f32>)> = ["I1", "I2", "I3", "I4", "SZA"]
        .into_iter()
        .zip([&bands[0], &bands[1], &bands[2], &bands[3], &bands[5]])
        .collect();
    strawfire::raster::write_scene(
        &scene,
        &named,
        &georef(),
        &meta(),
        strawfire::raster::Compression::Deflate,
    )
    .unwrap();
    let out = dir.path().join("h.csv");
    let o = scan(&[scene.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_clean_failure(&o, &["noi5.tif", "`I5`"], &out);
}

#[test]
fn a_scene_without_a_crs() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("nocrs.tif");
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut ds = driver
        .create_with_band_type::<f32, _>(&scene, 10, 10, 6)
        .unwrap();
    use gdal::Metadata;
    ds.set_metadata_item("SENSOR", "VIIRS", "").unwrap();
    ds.set_metadata_item("ACQ_TIME", "2024-06-08T18:06:00Z", "")
        .unwrap();
    for (i, name) in BAND_NAMES.iter().enumerate() {
        ds.rasterband(i + 1).unwrap().set_description(name).unwrap();
    }
    drop(ds);
    let out = dir.path().join("h.csv");
    let o = scan(&[scene.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_clean_failure(&o, &["nocrs.tif", "coordinate reference system"], &out);
}

#[test]
fn a_model_missing_a_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("night.tif");
    night_scene(&scene, 30, 30, &[]);
    let model =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/viirs-i.toml"))
            .unwrap()
            .replace("night_dt_offset_k = 9.0\n", "");
    let model_path = dir.path().join("broken.toml");
    std::fs::write(&model_path, model).unwrap();
    let out = dir.path().join("h.csv");
    let o = scan(&[
        scene.to_str().unwrap(),
        "--model",
        model_path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["broken.toml", "night_dt_offset_k"], &out);
}

#[test]
fn an_all_nan_scene_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("nan.tif");
    let mut bands = base_bands(30, 30, false);
    for b in bands.iter_mut().take(5) {
        b.fill(f32::NAN);
    }
    write(&scene, &bands, true);
    let out = dir.path().join("h.csv");
    let o = scan(&[scene.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        1,
        "header only"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("nothing observed"), "{stderr}");
    assert!(stderr.contains("fires: 0"), "{stderr}");
}

#[test]
fn an_unknown_sensor_names_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("night.tif");
    night_scene(&scene, 20, 20, &[]);
    let out = dir.path().join("h.csv");
    let o = scan(&[
        scene.to_str().unwrap(),
        "--sensor",
        "avhrr",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_clean_failure(&o, &["avhrr", "viirs-i"], &out);
}

/// Another input's model on a GeoTIFF: the refusal says which model a GeoTIFF takes and how
/// to give the product that model is for (it is then chosen by itself).
#[test]
fn another_inputs_model_on_a_geotiff_says_how_to_give_that_input() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("night.tif");
    night_scene(&scene, 20, 20, &[]);
    let out = dir.path().join("h.csv");
    for (sensor, needles) in [
        (
            "sentinel2-msi",
            &[
                "`sentinel2-msi` is not a model for a GeoTIFF scene",
                "viirs-i",
                "Sentinel-2 MSI products",
                ".SAFE folder",
                ".zip",
                "MTD_MSIL1C.xml",
            ][..],
        ),
        (
            "landsat",
            &[
                "`landsat-oli` is not a model for a GeoTIFF scene",
                "viirs-i",
                "Landsat 8/9 OLI products",
                ".tar",
                "_MTL.txt",
            ][..],
        ),
    ] {
        let o = scan(&[
            scene.to_str().unwrap(),
            "--sensor",
            sensor,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_clean_failure(&o, needles, &out);
    }
    // A name no model answers to: every model with the input it is for.
    let o = scan(&[
        scene.to_str().unwrap(),
        "--sensor",
        "avhrr",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_clean_failure(
        &o,
        &[
            "unknown sensor `avhrr`",
            "sentinel2-msi (Sentinel-2 MSI products)",
            "for a GeoTIFF scene or a VIIRS granule: viirs-i",
        ],
        &out,
    );
}

#[test]
fn output_to_dev_null_leaves_the_device_alone() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("night.tif");
    night_scene(&scene, 20, 20, &[(10, 10, 340.0)]);
    let o = scan(&[scene.to_str().unwrap(), "-q", "-o", "/dev/null"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null was replaced: {kind:?}");
}

#[test]
fn help_lists_every_model_in_the_models_folder() {
    let o = scan(&["--help"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let help = String::from_utf8_lossy(&o.stdout);
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut n = 0;
    for e in std::fs::read_dir(models).unwrap() {
        let file = e.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".toml") {
            assert!(help.contains(name), "--help omits `{name}`:\n{help}");
            n += 1;
        }
    }
    assert!(n >= 5, "{n} model files");
}
