//! The coverage shortcut (`service::rankings::unit_codes`: admin R-trees only) places every
//! sample in the same county and township as the full placement the hotspots get.

mod common;

use common::rank::rank_locator;
use common::server::GridPlacer;
use strawfire::fuse::Placer;
use strawfire::service::rankings::unit_codes;

#[test]
fn unit_codes_agree_with_the_full_placement() {
    let locator = rank_locator();
    let mut inside = 0;
    // A 0.01° grid over the four counties and a margin outside them, borders included.
    for i in 0..=240 {
        for j in 0..=120 {
            let (lon, lat) = (113.9 + i as f64 * 0.01, 34.9 + j as f64 * 0.01);
            let full = locator.place(lon, lat, 0.0);
            let got = unit_codes(&locator, lon, lat);
            assert_eq!(
                got,
                (full.county.clone(), full.township.clone()),
                "{lon} {lat}"
            );
            inside += usize::from(full.county.is_some());
        }
    }
    assert!(inside > 10_000);
    // A placer without layers is asked directly.
    assert_eq!(
        unit_codes(&GridPlacer, 114.0, 35.6),
        (Some("410526".into()), Some("410526101".into()))
    );
}
