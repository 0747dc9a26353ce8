//! The ranking bulletin (通报) of the known store (tests/common/rank.rs): its issue numbers are
//! stored and stable, and its PDF, printed by headless Chromium, is opened with poppler's
//! tools: A4 pages, the Chinese text (title, issuer, issue number, county names, figures) really
//! in the file (not boxes: a CJK font was embedded), and the first page rendered to a PNG kept
//! under `<target>/browser-artifacts/` for a person to look at. The numbering and the city names
//! on both stores (`on_both_stores_blocking!`); the PDF on SQLite only (Chromium's work is the
//! same on both), and so the `rank` command's PDF (tests/rank_cli.rs runs the command on both).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, NaiveDate};
use common::browser::artifacts_dir;
use common::rank::{fill_rank_store, rank_locator, rank_now, RANK_DAY};
use common::stores::{Backend, TestStore};
use strawfire::config::{RankConfig, ReportConfig};
use strawfire::i18n::Lang;
use strawfire::locate::Locator;
use strawfire::rank::RankLevel;
use strawfire::service::rankings::{daily, report_html, BulletinOptions};
use strawfire::store::SqliteStore;

on_both_stores_blocking!(
    issue_numbers_are_numbered_once_per_season_and_level_and_kept,
    cities_are_named_from_the_cities_layer,
);

struct Known {
    store: TestStore,
    placer: Locator,
}

fn known(b: Backend) -> Known {
    let store = TestStore::open(b);
    let placer = rank_locator();
    fill_rank_store(&*store, &placer);
    Known { store, placer }
}

fn report() -> ReportConfig {
    ReportConfig {
        issuer: "XX市秸秆禁烧指挥部".into(),
        comment: Some("请各县区加强夜间巡查，发现火情立即处置。".into()),
        chromium: None,
    }
}

/// The bulletin of `date` at `level`, rendered at `now`.
fn bulletin(k: &Known, date: &str, level: RankLevel, days_later: i64) -> String {
    let cfg = RankConfig::default();
    let date: NaiveDate = date.parse().unwrap();
    let t = daily(&*k.store, &k.placer, &cfg, date, level, rank_now()).unwrap();
    let report = report();
    let opts = BulletinOptions {
        report: &report,
        comment: None,
        lang: Lang::ZhCn,
        now: rank_now() + Duration::days(days_later),
    };
    report_html(&*k.store, &k.placer, &cfg, &t, &opts).unwrap()
}

fn issue_of(html: &str) -> (&str, &str) {
    let between = |a: &str, b: &str| {
        let rest = html.split(a).nth(1).unwrap();
        rest.split(b).next().unwrap()
    };
    (
        between("<div class=\"issue\">", "</div>"),
        between("<span class=\"issued\">", "</span>"),
    )
}

fn issue_numbers_are_numbered_once_per_season_and_level_and_kept(b: Backend) {
    let k = known(b);
    let first = bulletin(&k, RANK_DAY, RankLevel::County, 0);
    assert_eq!(issue_of(&first), ("第1期", "2024年6月11日"));
    // Rendered again two days later: the same number and issue date.
    let again = bulletin(&k, RANK_DAY, RankLevel::County, 2);
    assert_eq!(issue_of(&again), ("第1期", "2024年6月11日"));
    assert_eq!(first, again);
    // The next bulletin of the county level, then an earlier day issued later: in issue order.
    assert_eq!(
        issue_of(&bulletin(&k, "2024-06-10", RankLevel::County, 1)).0,
        "第2期"
    );
    assert_eq!(
        issue_of(&bulletin(&k, "2024-06-08", RankLevel::County, 1)).0,
        "第3期"
    );
    // Townships are numbered on their own; a new season starts again at 1.
    assert_eq!(
        issue_of(&bulletin(&k, RANK_DAY, RankLevel::Township, 0)).0,
        "第1期"
    );
    assert_eq!(
        issue_of(&bulletin(&k, "2025-06-01", RankLevel::County, 400)).0,
        "第1期"
    );
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e} (install poppler-utils: scripts/deps.sh)"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Width and height of a PNG from its IHDR chunk.
fn png_size(p: &Path) -> (u32, u32) {
    let b = std::fs::read(p).unwrap();
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{}", p.display());
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn the_bulletin_prints_to_an_a4_pdf_that_holds_its_chinese_text() {
    let k = known(Backend::Sqlite);
    let html = bulletin(&k, RANK_DAY, RankLevel::County, 0);
    let chromium = strawfire::print::find_chromium(None).unwrap();
    let pdf = strawfire::print::html_to_pdf(&html, &chromium).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let dir = artifacts_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("bulletin-county-2024-06-09.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let p = path.to_str().unwrap();

    // A4 portrait, every page.
    let info = tool("pdfinfo", &[p]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!((1..=4).contains(&pages), "{info}");
    let info = tool("pdfinfo", &["-f", "1", "-l", &pages.to_string(), p]);
    let sizes: Vec<&str> = info
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size:"))
        .collect();
    assert_eq!(sizes.len(), pages, "{info}");
    for s in sizes {
        // `Page    1 size:  594.96 x 841.92 pts (A4)`: 210 × 297 mm within a point.
        let nums: Vec<f64> = s
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let (w, h) = (nums[1], nums[2]);
        assert!((w - 595.28).abs() < 1.0 && (h - 841.89).abs() < 1.0, "{s}");
        assert!(s.contains("(A4)"), "{s}");
    }
    // A CJK font is embedded (else the Chinese would be boxes).
    let fonts = tool("pdffonts", &[p]);
    assert!(
        fonts.contains("WenQuanYi") || fonts.contains("Noto") || fonts.contains("CJK"),
        "{fonts}"
    );

    // The text, as a reader's copy and paste would get it.
    let text = tool("pdftotext", &["-layout", p, "-"]);
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    for want in [
        "秸秆禁烧工作通报",
        "第1期",
        "XX市秸秆禁烧指挥部",
        "关于2024年6月9日各县区秸秆焚烧卫星火点情况的通报",
        "卫星共监测到火点9个",
        "扣除工业热源、已核实误报等屏蔽点后8个",
        "请各县区加强夜间巡查",
        "本季累计",
        "较上期增减",
        "云覆盖，无有效观测",
        // Ranking rows: rank, county, fire points, change, season total, verified.
        "1A县3+351",
        "1B县3+331",
        "3C县1+110",
        "–D县1–10",
    ] {
        assert!(flat.contains(want), "`{want}` not in the PDF text:\n{text}");
    }

    // The map is printed whole on one page with its heading: legend and scale bar included.
    let map_page = (1..=pages)
        .map(|n| {
            let n = n.to_string();
            tool("pdftotext", &["-f", &n, "-l", &n, p, "-"])
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
        })
        .find(|t| t.contains("二、火点分布图"))
        .expect("a page with the map");
    for want in ["火点数（扣除屏蔽后）", "卫星火点", "千米", "A县", "D县"] {
        assert!(
            map_page.contains(want),
            "`{want}` not on the map's page: {map_page}"
        );
    }

    // The first page as an image, kept for a person to look at.
    let prefix = dir.join("bulletin-county-2024-06-09");
    tool(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            p,
            prefix.to_str().unwrap(),
        ],
    );
    let (w, h) = png_size(&prefix.with_extension("png"));
    // A4 at 60 dpi: 496 × 702.
    assert!(
        (490..=500).contains(&w) && (697..=707).contains(&h),
        "{w}×{h}"
    );
}

/// `strawfire rank --date D --pdf FILE` prints the bulletin; a configured Chromium that does not
/// exist is an error naming it and what to do, before anything is written.
#[test]
fn the_rank_command_writes_the_pdf_and_names_a_missing_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join(strawfire::service::STORE_FILE);
    let store = SqliteStore::open(&db).unwrap();
    fill_rank_store(&store, &rank_locator());
    drop(store);
    let pdf = dir.path().join("bulletin.pdf");
    let d = data.to_str().unwrap();
    common::run_ok(&[
        "rank",
        "--date",
        RANK_DAY,
        "--pdf",
        pdf.to_str().unwrap(),
        "--comment",
        "请各地加强巡查。",
        "--data-dir",
        d,
    ]);
    let text = tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    let flat: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        flat.contains("第1期") && flat.contains("请各地加强巡查。"),
        "{text}"
    );

    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{d}\"\nsamples_dir = \"\"\n[report]\nchromium = \"/nonexistent/chromium\"\n"
        ),
    )
    .unwrap();
    let other = dir.path().join("other.pdf");
    let out = common::run_in_crate(&[
        "rank",
        "--date",
        RANK_DAY,
        "--pdf",
        other.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("/nonexistent/chromium") && err.contains("apt-get install chromium"),
        "{err}"
    );
    assert!(!other.exists());
}

/// With `[rank] cities` (here DataV's Henan cities, a fixture), city tables name their cities
/// and the county bulletin names each county's city, instead of codes.
fn cities_are_named_from_the_cities_layer(b: Backend) {
    let k = known(b);
    let spec = strawfire::locate::LayerSpec::parse(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/admin/datav_geojson/henan_410000_cities.geojson:code=adcode:name=name"
    ))
    .unwrap();
    let layer =
        strawfire::locate::load_layer(&spec, Some(strawfire::locate::Level::County)).unwrap();
    let cfg = RankConfig {
        city_names: std::sync::Arc::new(
            layer.areas.into_iter().map(|a| (a.code, a.name)).collect(),
        ),
        ..RankConfig::default()
    };
    let date: NaiveDate = RANK_DAY.parse().unwrap();
    let city = daily(
        &*k.store,
        &k.placer,
        &cfg,
        date,
        RankLevel::City,
        rank_now(),
    )
    .unwrap();
    let names: Vec<&str> = city.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["安阳市", "鹤壁市", "新乡市"]);
    let county = daily(
        &*k.store,
        &k.placer,
        &cfg,
        date,
        RankLevel::County,
        rank_now(),
    )
    .unwrap();
    assert_eq!(county.rows[0].parent_name.as_deref(), Some("安阳市"));
    let report = report();
    let opts = BulletinOptions {
        report: &report,
        comment: None,
        lang: Lang::ZhCn,
        now: rank_now(),
    };
    let html = report_html(&*k.store, &k.placer, &cfg, &county, &opts).unwrap();
    assert!(html.contains("<th>所属地市</th>"), "{html}");
    assert!(html.contains("<td class=\"t\">A县</td><td class=\"t\">安阳市</td>"));
    let html = report_html(&*k.store, &k.placer, &cfg, &city, &opts).unwrap();
    assert!(html.contains("关于2024年6月9日各地市秸秆焚烧卫星火点情况的通报"));
    assert!(html.contains("<td class=\"t\">鹤壁市</td>"), "{html}");
    // Named on the map as well.
    assert!(html.contains(">安阳市</text>"), "{html}");
}
