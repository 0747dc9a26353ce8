//! Masks on real data: the China power plant list (WRI GPPD) as point sources.

use std::path::PathBuf;

use strawfire::locate::{load_layer, LayerSpec, Level, MaskSet, PointMask};

fn plants(opts: &str) -> LayerSpec {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/heatsources/wri_gppd_china_power_plants.csv");
    LayerSpec::parse(&format!("{}{opts}", p.display())).unwrap()
}

#[test]
fn power_plant_list_loads_as_points_with_an_attribute_filter() {
    let all = load_layer(&plants(":name=Name"), Some(Level::Mask)).unwrap();
    // 3,137 rows, 3,126 with coordinates (PROVENANCE.md); the rest are skipped with a warning.
    assert_eq!(all.points.len(), 3126, "{:?}", all.warnings.first());
    assert_eq!(all.warnings.len(), 11);
    let coal = load_layer(&plants(":name=Name:where=Fuel='Coal'"), Some(Level::Mask)).unwrap();
    assert_eq!(coal.points.len(), 1003);
    let in_henan_bbox = coal
        .points
        .iter()
        .filter(|p| {
            (110.36..=116.65).contains(&p.location.x()) && (31.38..=36.37).contains(&p.location.y())
        })
        .count();
    assert_eq!(in_henan_bbox, 95);
    let jiaozuo = coal
        .points
        .iter()
        .find(|p| p.name == "Jiaozuo - Wanfang 5-6 Coal")
        .unwrap();
    assert!(
        (jiaozuo.location.x() - 113.367749).abs() < 1e-6
            && (jiaozuo.location.y() - 35.250168).abs() < 1e-6
    );

    let masks = MaskSet::new(
        coal.points
            .iter()
            .map(|p| PointMask {
                name: p.name.clone(),
                reason: "coal power plant".into(),
                lon: p.location.x(),
                lat: p.location.y(),
                radius_m: 1500.0,
                priority: 0,
            })
            .collect(),
        vec![],
    );
    // ~1.1 km north of the Jiaozuo plant: masked, labelled, not dropped; 2.2 km: not masked.
    let hit = masks.check(113.367749, 35.260168).expect("within 1.5 km");
    assert_eq!(hit.reason, "coal power plant");
    assert!(
        hit.label()
            .starts_with("coal power plant: Jiaozuo - Wanfang 5-6 Coal (1112 m)"),
        "{}",
        hit.label()
    );
    assert!(masks.check(113.367749, 35.270168).is_none());
    let _ = Level::Mask;
}

#[test]
fn mask_spec_errors_name_the_clause() {
    let err = load_layer(&plants(":name=Name:where=Fule='Coal'"), Some(Level::Mask)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("wri_gppd_china_power_plants.csv")
            && msg.contains("bad where clause `Fule='Coal'`"),
        "{msg}"
    );
}
