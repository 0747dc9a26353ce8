//! The chat messages of every kind (new task, update, escalation, verdict, sent back, cancelled,
//! taken to another township) as a group reads them,
//! against golden files in `tests/golden/notify/`: the markdown text, then the WeCom markdown,
//! WeCom text (@mentioning the person on duty), DingTalk (@mentioning too) and JSON bodies, in
//! Chinese (the default) and English, with the map-app links and the link to the task on the
//! patrol page (`[notify] public_url`).
//! `UPDATE_GOLDEN=1 cargo test --test notify_golden` rewrites the files after a deliberate change.

use chrono::{TimeZone, Utc};
use strawfire::config::WebhookFormat;
use strawfire::i18n::{Lang, Locale, Zone};
use strawfire::notify::render::{body, markdown, Context};
use strawfire::notify::{Notice, NoticeKind};

fn golden(name: &str, got: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/notify")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create)",
            path.display()
        )
    });
    assert!(
        want == got,
        "{name} differs from its golden file (UPDATE_GOLDEN=1 to accept)\n--- want\n{want}\n--- got\n{got}"
    );
}

/// A high-priority fire in 道口镇 of 滑县, first seen 2026-06-08 10:06 UTC (18:06 北京时间).
fn notice(kind: NoticeKind) -> Notice {
    let t = Utc.with_ymd_and_hms(2026, 6, 8, 10, 6, 0).unwrap();
    let mut n = Notice {
        kind,
        task_id: 17,
        event_id: 5,
        unit: "410526101".into(),
        unit_name: Some("道口镇".into()),
        county: Some("410526".into()),
        priority: "high".into(),
        state: "notified".into(),
        lat: 35.512345,
        lon: 114.498765,
        first_seen: t,
        last_seen: t + chrono::Duration::minutes(12),
        due: Some(t + chrono::Duration::minutes(30)),
        max_frp_mw: Some(3.24),
        confidence: 0.83,
        detail: String::new(),
        place: vec!["滑县".into(), "道口镇".into(), "东庄村".into()],
        parcel: Some("HUA-07-211".into()),
        note: None,
        review: Vec::new(),
        photo_sha256: None,
        round: 0,
    };
    match &n.kind {
        NoticeKind::TaskNew => n.state = "new".into(),
        NoticeKind::TaskUpdated { .. } => {
            n.state = "acknowledged".into();
            n.due = Some(t + chrono::Duration::minutes(90));
        }
        NoticeKind::Escalation { .. } => {
            // Told to the county: the acknowledgement deadline passed unmet.
            n.unit = "410526".into();
            n.unit_name = Some("滑县".into());
        }
        NoticeKind::SentBack { .. } => {
            // Back to the patrol (acknowledged: on site again by the new on-site deadline, the
            // verdict by the new verdict deadline); its second round.
            n.state = "acknowledged".into();
            n.due = Some(t + chrono::Duration::minutes(150));
            n.round = 1;
        }
        NoticeKind::Cancelled { .. } => {
            // The township had acknowledged it; no deadline holds any more.
            n.state = "acknowledged".into();
            n.due = None;
        }
        NoticeKind::Verdict { .. } => {
            n.state = "verified".into();
            n.due = None;
            n.note = Some("东侧地块已灭，留有过火痕迹".into());
            n.review = vec!["far_from_event".into()];
            n.photo_sha256 =
                Some("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into());
        }
    }
    n
}

fn rendered(n: &Notice, loc: Locale) -> String {
    let key = format!("{}:town", n.key());
    let ctx = Context {
        loc,
        public_url: Some("https://fire.example.cn"),
        mention: &[],
    };
    let duty = ["13800138000".to_string()];
    let on_duty = Context {
        mention: &duty,
        ..ctx
    };
    let mut out = String::new();
    out.push_str("=== markdown text ===\n");
    out.push_str(&markdown(n, &ctx));
    for (name, format, ctx) in [
        (
            "wecom (format = \"markdown\")",
            WebhookFormat::Markdown,
            &ctx,
        ),
        (
            "wecom (format = \"text\", mentioned_mobile_list = [\"13800138000\"])",
            WebhookFormat::Text,
            &on_duty,
        ),
        (
            "dingtalk (mentioned_mobile_list = [\"13800138000\"])",
            WebhookFormat::Dingtalk,
            &on_duty,
        ),
        ("json", WebhookFormat::Json, &ctx),
    ] {
        out.push_str(&format!("=== {name} body ===\n"));
        out.push_str(&serde_json::to_string_pretty(&body(format, n, &key, ctx)).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn every_kind_of_message_matches_its_golden_file_in_chinese_and_english() {
    let kinds = [
        ("task_new", NoticeKind::TaskNew),
        ("task_updated", NoticeKind::TaskUpdated { sightings: 3 }),
        (
            "escalation",
            NoticeKind::Escalation {
                deadline: "acknowledge".into(),
            },
        ),
        (
            "verdict",
            NoticeKind::Verdict {
                verdict: "burned_scar".into(),
            },
        ),
        (
            "sent_back",
            NoticeKind::SentBack {
                reason: "照片看不清火点，请靠近重拍 [详见](http://x)".into(),
                verdict_id: 9,
                verdict_due: Some(Utc.with_ymd_and_hms(2026, 6, 8, 14, 36, 0).unwrap()),
            },
        ),
        (
            "cancelled",
            NoticeKind::Cancelled {
                reason: "与任务 #16 为同一火点，重复派发".into(),
                reassigned_to: None,
                reassigned_to_name: None,
            },
        ),
        (
            "withdrawn",
            NoticeKind::Cancelled {
                reason: "地块属邻乡管辖".into(),
                reassigned_to: Some("410526102".into()),
                reassigned_to_name: Some("城关镇".into()),
            },
        ),
    ];
    for (name, kind) in kinds {
        let n = notice(kind);
        for lang in Lang::ALL {
            let loc = Locale::new(lang, Zone::BEIJING);
            golden(&format!("{name}.{}.txt", lang.code()), &rendered(&n, loc));
        }
    }
}
