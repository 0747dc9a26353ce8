//! The message catalogues (`web/i18n/<lang>.json`) against the code that uses them: every
//! catalogue has the same keys with the same placeholders, no key is used that a catalogue lacks,
//! no key is left that nothing uses, the Chinese catalogue has no English words left in it and the
//! English none of Chinese, and the families the code looks up by a value's name (`state.` +
//! a task state, ...) cover every value the server sends.
//!
//! Uses are found in `web/*.js`, `web/*.html` and `src/**/*.rs`: `t("key"` / `tr("key"` (pages),
//! `data-i18n="key"` / `data-i18n-placeholder` / `data-i18n-title` (HTML), `.t("key"` / `.f("key"`
//! (server). `t("state." + x)` declares the family `state.`: its keys count as used, and the
//! tests below check the family is complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Catalogue = BTreeMap<String, String>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every catalogue by language tag.
fn catalogues() -> BTreeMap<String, Catalogue> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(root().join("web/i18n")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let cat: Catalogue = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a flat object of strings: {e}", p.display()));
        out.insert(p.file_stem().unwrap().to_string_lossy().into_owned(), cat);
    }
    assert!(
        out.contains_key("zh-CN") && out.contains_key("en"),
        "{:?}",
        out.keys()
    );
    out
}

fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else { break };
        out.insert(after[..j].to_string());
        rest = &after[j + 1..];
    }
    out
}

fn strip_placeholders(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{3400}'..='\u{9fff}' | '\u{ff00}'..='\u{ffef}')
}

/// Latin words a Chinese text may keep: names and units that Chinese users read as they are.
const LATIN_IN_CHINESE: &[&str] = &[
    "strawfire",
    "UTC",
    "FRP",
    "MW",
    "WGS84",
    "GPS",
    "EXIF",
    "CSV",
];

#[test]
fn every_catalogue_has_the_same_keys_and_placeholders() {
    let cats = catalogues();
    let zh = &cats["zh-CN"];
    for (lang, cat) in &cats {
        let (a, b): (BTreeSet<_>, BTreeSet<_>) = (zh.keys().collect(), cat.keys().collect());
        assert!(
            a == b,
            "{lang}: missing {:?}, extra {:?}",
            a.difference(&b).collect::<Vec<_>>(),
            b.difference(&a).collect::<Vec<_>>()
        );
        for (k, v) in cat {
            assert!(!v.trim().is_empty(), "{lang}: `{k}` is empty");
            // Date formats order their parts per language (a month name in English).
            if !k.starts_with("time.") {
                assert_eq!(placeholders(v), placeholders(&zh[k]), "{lang}: `{k}`");
            }
        }
    }
}

#[test]
fn nothing_is_left_untranslated() {
    let cats = catalogues();
    for (k, v) in &cats["zh-CN"] {
        let mut rest = strip_placeholders(v);
        for w in LATIN_IN_CHINESE {
            rest = rest.replace(w, "");
        }
        assert!(
            !rest.chars().any(|c| c.is_ascii_alphabetic()),
            "zh-CN `{k}` = {v:?}: English left in the Chinese catalogue"
        );
    }
    for (k, v) in &cats["en"] {
        assert!(
            !v.chars().any(is_cjk),
            "en `{k}` = {v:?}: Chinese left in the English catalogue"
        );
    }
}

/// Files that may use keys.
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().and_then(|e| e.to_str()) == Some("rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("web")).unwrap() {
        let p = e.unwrap().path();
        if matches!(p.extension().and_then(|e| e.to_str()), Some("js" | "html")) {
            out.push(p);
        }
    }
    walk(&root().join("src"), &mut out);
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Keys used in `text` and the families (`"state." +`) it looks keys up in.
fn uses(text: &str, rust: bool) -> (Vec<String>, Vec<String>) {
    let b = text.as_bytes();
    let (mut keys, mut families) = (Vec::new(), Vec::new());
    let read_key = |start: usize, keys: &mut Vec<String>, families: &mut Vec<String>| {
        let mut i = start;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&q) = b.get(i) else { return };
        if !(q == b'"' || (!rust && q == b'\'')) {
            return;
        }
        let Some(len) = text[i + 1..].find(q as char) else {
            return;
        };
        let key = &text[i + 1..i + 1 + len];
        if key.is_empty() || !key.bytes().all(|c| is_ident(c) || c == b'.' || c == b'-') {
            return;
        }
        let after = text[i + 2 + len..].trim_start();
        if key.ends_with('.') && after.starts_with('+') {
            families.push(key.to_string());
        } else {
            keys.push(key.to_string());
        }
    };
    for (i, _) in text.match_indices('(') {
        let callee: &[&[u8]] = if rust {
            &[b"t", b"f"]
        } else {
            &[b"t", b"tr", b"has"]
        };
        for name in callee {
            let n = name.len();
            if i < n || &b[i - n..i] != *name {
                continue;
            }
            let before = if i > n { b[i - n - 1] } else { b' ' };
            // Rust: a method of `Lang` (`lang.t(`); pages: `t(`, `SF.t(`, `tr(`, `SF.has(`.
            let ok = if rust {
                before == b'.'
            } else {
                !is_ident(before)
            };
            if ok {
                read_key(i + 1, &mut keys, &mut families);
            }
        }
    }
    if !rust {
        for attr in ["data-i18n=", "data-i18n-placeholder=", "data-i18n-title="] {
            for (i, _) in text.match_indices(attr) {
                read_key(i + attr.len(), &mut keys, &mut families);
            }
        }
    }
    (keys, families)
}

#[test]
fn every_key_used_is_in_the_catalogues_and_every_key_is_used() {
    let cats = catalogues();
    let zh = &cats["zh-CN"];
    let mut used = BTreeSet::new();
    let mut families = BTreeSet::new();
    let mut missing = Vec::new();
    for p in sources() {
        let text = std::fs::read_to_string(&p).unwrap();
        let rust = p.extension().is_some_and(|e| e == "rs");
        let (keys, fams) = uses(&text, rust);
        for k in keys {
            // `SF.has(k)` asks whether a key exists: only families may be asked.
            if !zh.contains_key(&k) {
                missing.push(format!(
                    "{}: `{k}`",
                    p.strip_prefix(root()).unwrap().display()
                ));
            }
            used.insert(k);
        }
        families.extend(fams);
    }
    assert!(
        missing.is_empty(),
        "keys missing from the catalogues: {missing:#?}"
    );
    for f in &families {
        assert!(
            zh.keys().any(|k| k.starts_with(f.as_str())),
            "family `{f}` has no keys"
        );
    }
    let unused: Vec<_> = zh
        .keys()
        .filter(|k| !used.contains(*k) && !families.iter().any(|f| k.starts_with(f.as_str())))
        .collect();
    assert!(unused.is_empty(), "keys nothing uses: {unused:#?}");
    // The scan itself finds what it must (a scan that finds nothing would pass the above).
    assert!(
        used.contains("dash.title") && used.contains("clock.left"),
        "{used:?}"
    );
    for f in [
        "state.",
        "status.",
        "verdict.",
        "flag.",
        "field.",
        "kind.",
        "priority.",
        "conf.",
    ] {
        assert!(
            families.contains(f) || zh.keys().any(|k| k.starts_with(f) && used.contains(k)),
            "{f}"
        );
    }
}

#[test]
fn the_scan_reads_the_forms_the_code_uses() {
    let (k, f) = uses(
        r#"t("a.b"); SF.t('c', {x}); tr("d"); SF.has("state." + s); it("no"); <p data-i18n="e">"#,
        false,
    );
    assert_eq!(k, ["a.b", "c", "d", "e"]);
    assert_eq!(f, ["state."]);
    let (k, f) = uses(r#"lang.t("a"); lang.f("b", &[]); t("no"); x.f(y)"#, true);
    assert_eq!(k, ["a", "b"]);
    assert!(f.is_empty());
}

/// The families the pages look up by a value's name cover every value the server sends.
#[test]
fn families_cover_every_state_verdict_status_and_flag() {
    use strawfire::dispatch::{TaskState, Verdict};
    use strawfire::rank::fair::Status;
    use strawfire::verify::Flag;
    let cats = catalogues();
    let name = |v: serde_json::Value| v.as_str().unwrap().to_string();
    let mut want: Vec<String> = Vec::new();
    for s in TaskState::ALL {
        want.push(format!("state.{}", s.as_str()));
    }
    // Why an event has no task (#17): every reason dispatch stores.
    for r in strawfire::dispatch::rules::REASONS {
        want.push(format!("task_reason.{r}"));
    }
    // A task's next deadline, as the map's event popup names it.
    for d in [
        strawfire::dispatch::policy::Deadline::Acknowledge,
        strawfire::dispatch::policy::Deadline::OnSite,
        strawfire::dispatch::policy::Deadline::Verdict,
    ] {
        want.push(format!("deadline.{}", d.as_str()));
    }
    for v in [
        Verdict::Burning,
        Verdict::BurnedScar,
        Verdict::NoFireIndustrial,
        Verdict::NoFireOther,
    ] {
        want.push(format!("verdict.{}", v.as_str()));
    }
    for s in [Status::Ranked, Status::NotObserved, Status::CoverageUnknown] {
        want.push(format!("status.{}", s.as_str()));
    }
    let t = chrono::Utc::now();
    for f in [
        Flag::PhotoIdentical { other_task: 1 },
        Flag::PhotoNearIdentical {
            other_task: 1,
            differing_bits: 2,
        },
        Flag::FarFromEvent { distance_m: 1.0 },
        Flag::BeforeNotified {
            reported_at: t,
            notified_at: t,
        },
        Flag::NotNotified,
        Flag::ExifTime {
            taken_at: t,
            gap_min: 1,
        },
        Flag::ExifPosition { distance_m: 1.0 },
    ] {
        want.push(format!(
            "flag.{}",
            name(serde_json::to_value(f).unwrap()["flag"].clone())
        ));
    }
    for field in ["photo", "lat", "lon", "time", "note", "verdict"] {
        want.push(format!("field.{field}"));
    }
    for (lang, cat) in &cats {
        let missing: Vec<_> = want.iter().filter(|k| !cat.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{lang}: {missing:?}");
    }
}

/// Text not taken from a catalogue: HTML text with letters outside an element marked
/// `data-i18n` (the Chinese fallback there is replaced at load), and string literals with
/// letters put straight before a user in the pages' scripts (`textContent =`, `innerHTML =`,
/// `SF.say(`, `showOk(`, `message:`, `title:`). Returns "file: text" for each.
fn raw_words() -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(root().join("web")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let Some(ext) = p.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        let text = std::fs::read_to_string(&p).unwrap();
        found.extend(raw_words_in(&name, ext, &text));
    }
    found
}

fn raw_words_in(name: &str, ext: &str, text: &str) -> Vec<String> {
    // Words that are the same in every language: the product's name, the language names.
    const SAME: &[&str] = &["strawfire", "English", "中文", "●"];
    let has_latin = |s: &str| {
        let mut s = s.to_string();
        for w in SAME {
            s = s.replace(w, "");
        }
        s.chars().any(|c| c.is_ascii_alphabetic())
    };
    let strip_tags = |s: &str| {
        let mut out = String::new();
        let mut inside = false;
        for c in s.chars() {
            match c {
                '<' => inside = true,
                '>' => inside = false,
                c if !inside => out.push(c),
                _ => {}
            }
        }
        out
    };
    let mut found = Vec::new();
    {
        if ext == "html" {
            // Each text node, with the tag that opens it.
            let mut rest = text;
            let mut in_code = false;
            while let Some(open) = rest.find('<') {
                let Some(close) = rest[open..].find('>') else {
                    break;
                };
                let tag = &rest[open..open + close + 1];
                let lower = tag.to_ascii_lowercase();
                if lower.starts_with("<script") || lower.starts_with("<style") {
                    in_code = true;
                } else if lower.starts_with("</script") || lower.starts_with("</style") {
                    in_code = false;
                }
                let after = &rest[open + close + 1..];
                let node = &after[..after.find('<').unwrap_or(after.len())];
                let marked = tag.contains("data-i18n=");
                if !in_code && !marked && !lower.starts_with("<!") && has_latin(node.trim()) {
                    found.push(format!("{name}: {:?} after {tag}", node.trim()));
                }
                rest = after;
            }
        } else if ext == "js" {
            for cue in [
                "textContent = ",
                "innerHTML = ",
                "SF.say(",
                "showOk(card, ",
                "message: ",
                "title: ",
            ] {
                for (i, _) in text.match_indices(cue) {
                    let after = &text[i + cue.len()..];
                    let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                        continue;
                    };
                    let Some(end) = after[1..].find(q) else {
                        continue;
                    };
                    let lit = &after[1..1 + end];
                    if has_latin(&strip_tags(lit)) {
                        found.push(format!("{name}: {cue}{q}{lit}{q}"));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_pages_show_no_words_outside_the_catalogues() {
    let found = raw_words();
    assert!(found.is_empty(), "words not from a catalogue: {found:#?}");
}

#[test]
fn raw_words_are_found_in_html_and_scripts() {
    let html = r#"<p><button>Retry</button><span data-i18n="a">刷新</span><b>中文</b><script>var x = "ok";</script></p>"#;
    assert_eq!(raw_words_in("x.html", "html", html).len(), 1);
    let js = r#"SF.say("tasks failed"); el.textContent = ""; li.innerHTML = "<span class='x'></span> #"; SF.say(t("k"));"#;
    assert_eq!(
        raw_words_in("x.js", "js", js),
        ["x.js: SF.say(\"tasks failed\""]
    );
}

/// One thing, one word: keys that name the same thing in different places (a page, a chat
/// message, an API error) say it alike in every language, so a patrol member who reads 需复核
/// in the group chat finds 需复核 on the page too.
#[test]
fn one_thing_is_one_word_in_every_place() {
    let same: &[&[&str]] = &[
        // A verdict the evidence checks flagged.
        &["review.filter.flagged", "notify.review", "record.review"],
        // The three deadlines on the pages and in the chat messages.
        &["deadline.acknowledge", "notify.deadline.acknowledge"],
        &["deadline.on_site", "notify.deadline.on_site"],
        &["deadline.verdict", "notify.deadline.verdict"],
        // A position given as coordinates (a camera alert's `position`, a message's 坐标).
        &["field.position", "notify.position"],
        &["field.photo", "notify.photo"],
        &["field.note", "notify.note"],
        // An administrative unit, township or county alike: the events list's unit filter, the
        // ranking's column, an API error about `unit` (a task may be reassigned to a county) and
        // the label of the unit choice where a task is dispatched or reassigned.
        &["field.unit", "filter.unit", "rank.col.unit", "ops.unit"],
    ];
    let zh = &catalogues()["zh-CN"];
    for group in same {
        let words: BTreeSet<&str> = group.iter().map(|k| zh[*k].as_str()).collect();
        assert_eq!(words.len(), 1, "zh-CN says {group:?} as {words:?}");
    }
}

/// Every chat message title opens with its kind in brackets (【督办】, [Escalation]), so a
/// group chat's list of messages reads alike whatever the message is.
#[test]
fn chat_message_titles_open_with_their_kind_in_brackets() {
    let cats = catalogues();
    for (lang, open, close) in [("zh-CN", '【', '】'), ("en", '[', ']')] {
        let titles: Vec<(&String, &String)> = cats[lang]
            .iter()
            .filter(|(k, _)| k.starts_with("notify.title."))
            .collect();
        assert!(titles.len() >= 7, "{lang}: {titles:?}");
        for (k, v) in titles {
            let kind = v.strip_prefix(open).and_then(|r| r.split_once(close));
            assert!(
                kind.is_some_and(|(kind, _)| !kind.is_empty()),
                "{lang} {k} = {v:?} does not open with {open}kind{close}"
            );
        }
    }
}
