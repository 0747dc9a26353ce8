//! Property-based fuzzing of every reader of outside input (issue 15, "a reliability suite that
//! stays"): FIRMS CSV in its real variants, hotspot GeoJSON, sensor-alert JSON (through the real
//! HTTP endpoint), the config TOML, LAYER_SPEC strings and scene `ACQ_TIME` metadata. Inputs are
//! real fixture rows (`tests/fixtures/hotspots`) and the example config, mutated: fields
//! dropped, duplicated, garbled, huge; random bytes, BOMs, CRLF, cut-off ends. Each reader must
//! return a value or an error, never panic, and never hang (`HANG` is a watchdog for a reader
//! stuck in a loop, 1000× what a case takes in a debug build, not a speed check; speed is in
//! BENCHMARKS.md).
//!
//! Cases found by the fuzzer that panicked are kept below as plain regression tests
//! (`regression_*`). Case counts keep the whole target well under a minute in debug; set
//! `PROPTEST_CASES` for a longer run.

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use strawfire::config::Config;
use strawfire::hotspot::read::{read_csv, read_geojson, Feed};
use strawfire::locate::spec::LayerSpec;
use strawfire::raster::scene::parse_acq_time;

const HANG: Duration = Duration::from_secs(5);

fn fixtures() -> &'static Vec<(String, Vec<u8>)> {
    static F: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    F.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hotspots");
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    })
}

/// A CSV file as (header fields, rows of fields).
type Table = (Vec<String>, Vec<Vec<String>>);

/// The CSV fixtures, the first 40 rows of each.
fn csv_tables() -> &'static Vec<Table> {
    static T: OnceLock<Vec<Table>> = OnceLock::new();
    T.get_or_init(|| {
        fixtures()
            .iter()
            .filter(|(n, _)| n.ends_with(".csv"))
            .map(|(_, bytes)| {
                let text = String::from_utf8_lossy(bytes);
                let mut lines = text.lines();
                let split = |l: &str| l.split(',').map(String::from).collect::<Vec<_>>();
                let header = split(lines.next().unwrap());
                (header, lines.take(40).map(split).collect())
            })
            .collect()
    })
}

/// Field values that have broken readers elsewhere: empty, NaN, infinities, overflow, odd
/// dates and times, quotes, non-ASCII, control characters.
fn nasty_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("NaN".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e309".to_string()),
        Just("-0".to_string()),
        Just("0x1F".to_string()),
        Just(" 12 ".to_string()),
        Just("\"".to_string()),
        Just("\"\"".to_string()),
        Just("\"a,b\"".to_string()),
        Just("99999999999999999999999999".to_string()),
        Just("-2147483649".to_string()),
        Just("4294967296".to_string()),
        Just("2024-02-30".to_string()),
        Just("0000-01-01".to_string()),
        Just("9999-12-31".to_string()),
        Just("+262143-12-31".to_string()),
        Just("-0001-01-01".to_string()),
        Just("13/13/2024".to_string()),
        Just("0/0/0".to_string()),
        Just("1/1/2147483647".to_string()),
        Just("31/12/-2147483648".to_string()),
        Just("2400".to_string()),
        Just("99:99".to_string()),
        Just("4294967295:1".to_string()),
        Just(":".to_string()),
        Just("12:".to_string()),
        Just("D".to_string()),
        Just("x".to_string()),
        Just("秸秆火点".to_string()),
        Just("\u{0}\u{7f}".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("255".to_string()),
        Just("256".to_string()),
        Just("101".to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        "\\PC{0,16}",
    ]
}

/// One change to a table of fields.
#[derive(Debug, Clone)]
enum Edit {
    DropField(usize, usize),
    DuplicateField(usize, usize),
    Garble(usize, usize, String),
    Huge(usize, usize, usize),
    DropRow(usize),
    DuplicateRow(usize),
    SwapHeader(usize, usize),
    DropHeaderColumn(usize),
    RenameHeader(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let ix = || 0usize..64;
    prop_oneof![
        1 => (ix(), ix()).prop_map(|(r, c)| Edit::DropField(r, c)),
        1 => (ix(), ix()).prop_map(|(r, c)| Edit::DuplicateField(r, c)),
        4 => (ix(), ix(), nasty_value()).prop_map(|(r, c, v)| Edit::Garble(r, c, v)),
        1 => (ix(), ix(), 1usize..200_000).prop_map(|(r, c, n)| Edit::Huge(r, c, n)),
        1 => ix().prop_map(Edit::DropRow),
        1 => ix().prop_map(Edit::DuplicateRow),
        1 => (ix(), ix()).prop_map(|(a, b)| Edit::SwapHeader(a, b)),
        1 => ix().prop_map(Edit::DropHeaderColumn),
        1 => (
            ix(),
            prop_oneof![
                Just("brightness".to_string()),
                Just("bright_ti4".to_string()),
                Just("LATITUDE".to_string()),
                Just("type".to_string()),
                Just("row".to_string()),
                Just("col".to_string()),
                Just("acq_date".to_string()),
                Just(String::new()),
            ]
        )
            .prop_map(|(c, n)| Edit::RenameHeader(c, n)),
    ]
}

/// What happens to the bytes after the table is written.
#[derive(Debug, Clone)]
struct Framing {
    bom: bool,
    crlf: bool,
    final_newline: bool,
    /// Cut the bytes at this fraction (per mille) of their length.
    cut_permille: Option<u16>,
    /// Random bytes spliced in at a fraction (per mille) of the length.
    splice: Option<(u16, Vec<u8>)>,
}

fn framing() -> impl Strategy<Value = Framing> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::weighted(0.2, 0u16..1000),
        proptest::option::weighted(
            0.3,
            (0u16..1000, proptest::collection::vec(any::<u8>(), 1..16)),
        ),
    )
        .prop_map(|(bom, crlf, final_newline, cut_permille, splice)| Framing {
            bom,
            crlf,
            final_newline,
            cut_permille,
            splice,
        })
}

fn apply(table: &mut Table, e: &Edit) {
    let (header, rows) = table;
    let row = |rows: &mut Vec<Vec<String>>, r: usize| {
        let n = rows.len();
        (n > 0).then(|| r % n)
    };
    match e {
        Edit::DropField(r, c) => {
            if let Some(r) = row(rows, *r) {
                if !rows[r].is_empty() {
                    let c = c % rows[r].len();
                    rows[r].remove(c);
                }
            }
        }
        Edit::DuplicateField(r, c) => {
            if let Some(r) = row(rows, *r) {
                if !rows[r].is_empty() {
                    let c = c % rows[r].len();
                    let v = rows[r][c].clone();
                    rows[r].insert(c, v);
                }
            }
        }
        Edit::Garble(r, c, v) => {
            if let Some(r) = row(rows, *r) {
                if !rows[r].is_empty() {
                    let c = c % rows[r].len();
                    rows[r][c] = v.clone();
                }
            }
        }
        Edit::Huge(r, c, n) => {
            if let Some(r) = row(rows, *r) {
                if !rows[r].is_empty() {
                    let c = c % rows[r].len();
                    rows[r][c] = "9".repeat(*n);
                }
            }
        }
        Edit::DropRow(r) => {
            if let Some(r) = row(rows, *r) {
                rows.remove(r);
            }
        }
        Edit::DuplicateRow(r) => {
            if let Some(r) = row(rows, *r) {
                let v = rows[r].clone();
                rows.insert(r, v);
            }
        }
        Edit::SwapHeader(a, b) => {
            let n = header.len();
            header.swap(a % n, b % n);
        }
        Edit::DropHeaderColumn(c) => {
            if header.len() > 1 {
                let c = c % header.len();
                header.remove(c);
            }
        }
        Edit::RenameHeader(c, name) => {
            let c = c % header.len();
            header[c] = name.clone();
        }
    }
}

fn frame(lines: Vec<String>, f: &Framing) -> Vec<u8> {
    let eol = if f.crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if f.final_newline {
        text.push_str(eol);
    }
    let mut bytes = Vec::new();
    if f.bom {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice(text.as_bytes());
    if let Some((at, junk)) = &f.splice {
        let at = bytes.len() * *at as usize / 1000;
        bytes.splice(at..at, junk.iter().copied());
    }
    if let Some(cut) = f.cut_permille {
        bytes.truncate(bytes.len() * cut as usize / 1000);
    }
    bytes
}

/// A read feed is consistent: every row has its line, every position is on the globe.
fn check_feed(feed: &Feed) -> Result<(), TestCaseError> {
    for r in &feed.rows {
        let h = &r.hotspot;
        prop_assert!((-90.0..=90.0).contains(&h.latitude), "{h:?}");
        prop_assert!((-180.0..=180.0).contains(&h.longitude), "{h:?}");
        prop_assert_eq!(r.fields.len(), feed.header.len());
    }
    Ok(())
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(n),
        // Shrinking a failure is worth a few seconds, not minutes.
        max_shrink_time: 30_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(300))]

    /// Real FIRMS rows of every fixture variant, edited and reframed.
    #[test]
    fn firms_csv_never_panics(
        which in 0usize..16,
        take in 0usize..40,
        edits in proptest::collection::vec(edit(), 0..8),
        f in framing(),
    ) {
        let tables = csv_tables();
        let (header, rows) = &tables[which % tables.len()];
        let mut table = (header.clone(), rows.iter().take(take).cloned().collect::<Vec<_>>());
        for e in &edits {
            apply(&mut table, e);
        }
        let mut lines = vec![table.0.join(",")];
        lines.extend(table.1.iter().map(|r| r.join(",")));
        let bytes = frame(lines, &f);
        let t0 = Instant::now();
        let out = read_csv(Path::new("fuzz.csv"), &bytes);
        prop_assert!(t0.elapsed() < HANG);
        if let Ok(feed) = &out {
            check_feed(feed)?;
        }
    }

    /// Random bytes, and random bytes after a real header.
    #[test]
    fn firms_csv_of_random_bytes_never_panics(
        junk in proptest::collection::vec(any::<u8>(), 0..2048),
        with_header in any::<bool>(),
    ) {
        let mut bytes = Vec::new();
        if with_header {
            bytes.extend_from_slice(csv_tables()[0].0.join(",").as_bytes());
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(&junk);
        let t0 = Instant::now();
        if let Ok(feed) = read_csv(Path::new("fuzz.csv"), &bytes) {
            check_feed(&feed)?;
        }
        prop_assert!(t0.elapsed() < HANG);
    }
}

/// Arbitrary JSON values, a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        nasty_value().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON pointer-ish walk: replaces the `n`-th value met (depth first) with `v`.
fn replace_nth(doc: &mut serde_json::Value, n: &mut usize, v: &serde_json::Value) -> bool {
    if *n == 0 {
        *doc = v.clone();
        return true;
    }
    *n -= 1;
    match doc {
        serde_json::Value::Array(a) => a.iter_mut().any(|x| replace_nth(x, n, v)),
        serde_json::Value::Object(o) => o.values_mut().any(|x| replace_nth(x, n, v)),
        _ => false,
    }
}

fn geojson_fixture() -> serde_json::Value {
    let (_, bytes) = fixtures()
        .iter()
        .find(|(n, _)| n.ends_with(".geojson"))
        .expect("a GeoJSON fixture");
    let mut doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    // Twenty features are enough variety and keep each case fast.
    if let Some(f) = doc["features"].as_array_mut() {
        f.truncate(20);
    }
    doc
}

proptest! {
    #![proptest_config(cases(300))]

    /// The real GeoJSON fixture with values replaced by arbitrary JSON, then reframed.
    #[test]
    fn hotspot_geojson_never_panics(
        replacements in proptest::collection::vec((0usize..400, json_value()), 0..6),
        f in framing(),
    ) {
        let mut doc = geojson_fixture();
        for (n, v) in &replacements {
            let mut n = *n;
            replace_nth(&mut doc, &mut n, v);
        }
        let text = serde_json::to_string_pretty(&doc).unwrap();
        let bytes = frame(text.lines().map(String::from).collect(), &f);
        let t0 = Instant::now();
        if let Ok(feed) = read_geojson(Path::new("fuzz.geojson"), &bytes) {
            check_feed(&feed)?;
        }
        prop_assert!(t0.elapsed() < HANG);
    }

    #[test]
    fn hotspot_geojson_of_random_bytes_never_panics(
        junk in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let _ = read_geojson(Path::new("fuzz.geojson"), &junk);
    }
}

/// Strings near the LAYER_SPEC grammar: path-ish pieces, `:`, known and unknown keys, `=`.
fn spec_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("samples/admin/counties.geojson".to_string()),
        Just("C:\\data\\x.shp".to_string()),
        Just(String::new()),
        Just("level=county".to_string()),
        Just("level=".to_string()),
        Just("crs=EPSG".to_string()),
        Just("crs=epsg".to_string()),
        Just("4326".to_string()),
        Just("99999999999".to_string()),
        Just("crs=gcj02".to_string()),
        Just("radius_m=1e309".to_string()),
        Just("radius_m=NaN".to_string()),
        Just("radius_m=-5".to_string()),
        Just("priority=2147483648".to_string()),
        Just("priority=-1".to_string()),
        Just("where=Fuel='Coal'".to_string()),
        Just("=".to_string()),
        Just("==".to_string()),
        Just("x=y".to_string()),
        "[a-z_]{1,8}=\\PC{0,8}",
        "\\PC{0,12}",
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|v| v.join(":"))
}

/// The example config, line by line.
fn example_lines() -> &'static Vec<String> {
    static L: OnceLock<Vec<String>> = OnceLock::new();
    L.get_or_init(|| {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("strawfire.example.toml");
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    })
}

/// TOML values of every type, with the extremes a number field can be given.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("nan".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e308".to_string()),
        Just("-1e308".to_string()),
        Just("0".to_string()),
        Just("-0.0".to_string()),
        Just("-1".to_string()),
        Just("9223372036854775807".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("4294967295".to_string()),
        Just("true".to_string()),
        Just("\"\"".to_string()),
        Just("\"x\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("[1, \"a\"]".to_string()),
        Just("{ a = 1 }".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        "\"\\PC{0,12}\"",
    ]
}

#[derive(Debug, Clone)]
enum TomlEdit {
    Value(usize, String),
    Drop(usize),
    Duplicate(usize),
    Insert(usize, String),
}

fn toml_edit() -> impl Strategy<Value = TomlEdit> {
    prop_oneof![
        6 => (0usize..400, toml_value()).prop_map(|(i, v)| TomlEdit::Value(i, v)),
        1 => (0usize..400).prop_map(TomlEdit::Drop),
        1 => (0usize..400).prop_map(TomlEdit::Duplicate),
        1 => (0usize..400, "\\PC{0,20}").prop_map(|(i, s)| TomlEdit::Insert(i, s)),
    ]
}

/// What `serve` does with a config at start that could panic on a value the parser let
/// through: every seconds value becomes a `Duration`, the fuse window and the dispatch
/// deadlines chrono durations, the tokens and layer specs are parsed.
fn use_config(c: &Config) -> Result<(), TestCaseError> {
    let secs = [
        ("inbox.poll_s", c.inbox.poll_s),
        ("inbox.settle_s", c.inbox.settle_s),
        ("inbox.incomplete_wait_s", c.inbox.incomplete_wait_s),
        ("notify.poll_s", c.notify.poll_s),
        ("notify.timeout_s", c.notify.timeout_s),
        ("notify.backoff_base_s", c.notify.backoff_base_s),
        ("notify.backoff_max_s", c.notify.backoff_max_s),
        (
            "dispatch.escalation_interval_s",
            c.dispatch.escalation_interval_s,
        ),
    ];
    let sources = c.sources.iter().flat_map(|s| {
        [
            ("sources.interval_s", s.interval_s),
            ("sources.backoff_s", s.backoff_s),
        ]
    });
    for (key, v) in secs.into_iter().chain(sources) {
        prop_assert!(
            Duration::try_from_secs_f64(v).is_ok(),
            "{key} = {v} was accepted but is not a duration"
        );
    }
    let _ = c.fuse.params();
    let rules = strawfire::dispatch::TaskRules::from_config(c);
    // Deadlines and the season gap as dispatch computes them for a task created now.
    let now = chrono::Utc::now();
    for d in [rules.policy.normal, rules.policy.high] {
        let _ = strawfire::dispatch::policy::due_times(now, d);
    }
    let _ = now - chrono::Duration::days(rules.season_gap_days);
    for spec in c
        .layers
        .admin
        .iter()
        .chain(&c.layers.parcels)
        .chain(&c.layers.masks)
    {
        let _ = LayerSpec::parse(spec);
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(400))]

    #[test]
    fn layer_spec_never_panics(spec in spec_string()) {
        if let Ok(s) = LayerSpec::parse(&spec) {
            prop_assert!(!s.path.as_os_str().is_empty(), "{spec:?} → {s:?}");
        }
    }

    /// The example config with values replaced, lines dropped, duplicated or inserted.
    #[test]
    fn config_toml_never_panics_and_what_it_accepts_is_usable(
        edits in proptest::collection::vec(toml_edit(), 1..6),
    ) {
        let mut lines = example_lines().clone();
        for e in &edits {
            let n = lines.len().max(1);
            match e {
                TomlEdit::Value(i, v) => {
                    // The i-th `key = value` line gets another value.
                    let keyed: Vec<usize> = (0..lines.len())
                        .filter(|&j| {
                            let l = lines[j].trim_start();
                            !l.starts_with('#') && l.contains('=')
                        })
                        .collect();
                    if !keyed.is_empty() {
                        let j = keyed[i % keyed.len()];
                        let key = lines[j].split('=').next().unwrap().to_string();
                        lines[j] = format!("{key}= {v}");
                    }
                }
                TomlEdit::Drop(i) => {
                    if !lines.is_empty() {
                        lines.remove(i % n);
                    }
                }
                TomlEdit::Duplicate(i) => {
                    if !lines.is_empty() {
                        let l = lines[i % n].clone();
                        lines.insert(i % n, l);
                    }
                }
                TomlEdit::Insert(i, s) => lines.insert(i % (n + 1), s.clone()),
            }
        }
        let text = lines.join("\n");
        let t0 = Instant::now();
        if let Ok(loaded) = Config::parse(Path::new("fuzz.toml"), &text) {
            use_config(&loaded.config)?;
        }
        prop_assert!(t0.elapsed() < HANG);
    }

    #[test]
    fn config_of_random_text_never_panics(text in "\\PC{0,200}") {
        if let Ok(loaded) = Config::parse(Path::new("fuzz.toml"), &text) {
            use_config(&loaded.config)?;
        }
    }

    /// Scene `ACQ_TIME` metadata as written by hand and by other tools.
    #[test]
    fn scene_acq_time_never_panics(
        s in prop_oneof![
            "\\PC{0,40}",
            "[0-9+-]{1,7}-[0-9]{1,3}-[0-9]{1,3}[T ][0-9]{1,3}:[0-9]{1,3}(:[0-9]{1,3}(\\.[0-9]{0,20})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?",
        ]
    ) {
        if let Some(t) = parse_acq_time(&s) {
            // Whatever is accepted can be written back as the scene writer does.
            let _ = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        }
    }
}

on_both_stores_blocking!(sensor_alert_json_never_gets_a_5xx);

/// Sensor alerts through the real endpoint (`POST /api/v1/sensor-alerts`): the body's JSON
/// decoding and every check after it, down to the store (SQLite and PostgreSQL). Any answer but
/// a 5xx (or a hang) is fine.
fn sensor_alert_json_never_gets_a_5xx(b: common::stores::Backend) {
    use common::server::{TestServer, ADMIN};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let srv = rt.block_on(TestServer::start_on(b));
    let client = reqwest::Client::builder().timeout(HANG).build().unwrap();
    let url = srv.url("/api/v1/sensor-alerts");
    let field_value = prop_oneof![
        3 => json_value(),
        1 => Just(serde_json::json!("2024-06-08T18:10:00Z")),
        1 => Just(serde_json::json!("+262143-12-31T23:59:59Z")),
        1 => Just(serde_json::json!("0000-01-01T00:00:00Z")),
        1 => Just(serde_json::json!({"lon": 114.3, "lat": 34.8})),
        1 => Just(serde_json::json!({"lon": 180.0, "lat": 90.0})),
        1 => Just(serde_json::json!({"lon": -180.0, "lat": -90.0})),
        1 => Just(serde_json::json!(1e308)),
        1 => Just(serde_json::json!(50000.0)),
        1 => Just(serde_json::json!(360.0)),
        1 => Just(serde_json::json!("smoke")),
        1 => Just(serde_json::json!("cam-1")),
        1 => Just(serde_json::json!("x".repeat(5000))),
    ];
    let keys = prop_oneof![
        Just("sensor_id"),
        Just("time"),
        Just("kind"),
        Just("confidence"),
        Just("position"),
        Just("camera"),
        Just("bearing_deg"),
        Just("distance_m"),
        Just("image_url"),
        Just("other"),
    ];
    let body = proptest::collection::btree_map(keys, field_value, 0..9);
    let mut runner = proptest::test_runner::TestRunner::new(cases(150));
    runner
        .run(&body, |fields| {
            // A valid alert, then the generated fields over it.
            let mut doc = serde_json::json!({
                "sensor_id": "cam-1", "time": "2024-06-08T18:10:00Z", "kind": "smoke",
                "confidence": 0.8, "bearing_deg": 135.0, "distance_m": 2400.0,
            });
            for (k, v) in fields {
                doc[k] = v;
            }
            let status = rt.block_on(async {
                client
                    .post(&url)
                    .bearer_auth(ADMIN)
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&doc).unwrap())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
            let status = status.map_err(|e| TestCaseError::fail(format!("{doc}: {e}")))?;
            prop_assert!(status < 500, "{doc} → {status}");
            Ok(())
        })
        .unwrap();
    // And bytes that are not JSON at all.
    let mut runner = proptest::test_runner::TestRunner::new(cases(50));
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..512), |bytes| {
            let status = rt.block_on(async {
                client
                    .post(&url)
                    .bearer_auth(ADMIN)
                    .header("content-type", "application/json")
                    .body(bytes)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
            let status = status.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(status < 500, "{status}");
            Ok(())
        })
        .unwrap();
    rt.block_on(srv.stop());
}

/// The example config with one `key = value` line (the first whose key is `key`, after the
/// line `section`) set to `value`.
fn example_with(section: &str, key: &str, value: &str) -> String {
    let mut in_section = section.is_empty();
    let mut done = false;
    example_lines()
        .iter()
        .map(|l| {
            if l.trim() == section {
                in_section = true;
            }
            let k = l.split('=').next().unwrap_or("").trim();
            if in_section && !done && k == key && !l.trim_start().starts_with('#') {
                done = true;
                format!("{key} = {value}")
            } else {
                l.clone()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Found by `config_toml_never_panics_and_what_it_accepts_is_usable`: values the config used
/// to accept and `serve` then panicked on (`Duration::from_secs_f64(NaN)`, chrono overflow).
/// Each is now refused naming its key.
#[test]
fn regression_config_values_that_panicked_at_start_are_refused() {
    let cases = [
        ("[[sources]]", "interval_s", "nan", "sources[0].interval_s"),
        ("[[sources]]", "backoff_s", "nan", "sources[0].backoff_s"),
        ("[[sources]]", "interval_s", "inf", "sources[0].interval_s"),
        ("[inbox]", "poll_s", "inf", "inbox.poll_s"),
        ("[inbox]", "settle_s", "nan", "inbox.settle_s"),
        ("[fuse]", "window_h", "nan", "fuse"),
        ("[fuse]", "window_h", "1e308", "fuse"),
        (
            "[dispatch]",
            "season_gap_days",
            "9223372036854775807",
            "dispatch.season_gap_days",
        ),
        (
            "[dispatch.normal]",
            "verdict_min",
            "9223372036854775807",
            "dispatch.normal",
        ),
    ];
    for (section, key, value, named) in cases {
        let text = example_with(section, key, value);
        assert!(
            text.contains(&format!("{key} = {value}")),
            "{section} {key}"
        );
        let err = Config::parse(Path::new("x.toml"), &text)
            .err()
            .unwrap_or_else(|| panic!("{section} {key} = {value} was accepted"))
            .to_string();
        assert!(err.contains(named), "{section} {key} = {value}: {err}");
    }
    // The example itself is still fine.
    assert!(Config::parse(Path::new("x.toml"), &example_lines().join("\n")).is_ok());
}
