//! Webhook bodies from a [`Notice`], pure.
//!
//! Three forms: our JSON (the notice itself, for programs, with a title and the readable text),
//! and the markdown message that chat-group robots take (WeCom `markdown.content`, DingTalk
//! `markdown.title` + `text`), for the patrol's phone and the county's group. The words are the
//! deployment's language (`[ui] lang`, Chinese by default: one language, not every line twice)
//! from the message catalogues; the text is short and actionable (what, where by name down to
//! the village and parcel, which deadline and when, in the deployment's zone: 北京时间), and
//! link-free (the robots render links inconsistently and a patrol in a field has no VPN to the
//! dashboard).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{Notice, NoticeKind};
use crate::config::WebhookFormat;
use crate::i18n::{Lang, Locale};

/// The request body for a webhook of `format`. `key` is the delivery's idempotency key (also
/// sent as the `Idempotency-Key` header; repeated in JSON for receivers that log bodies only).
pub fn body(format: WebhookFormat, notice: &Notice, key: &str, loc: Locale) -> Value {
    match format {
        WebhookFormat::Json => json_body(notice, key, loc),
        WebhookFormat::Markdown => json!({
            "msgtype": "markdown",
            "markdown": {"content": markdown(notice, loc)},
        }),
        WebhookFormat::Dingtalk => json!({
            "msgtype": "markdown",
            "markdown": {"title": title(notice, loc), "text": markdown(notice, loc)},
        }),
    }
}

/// Our JSON form: the notice (its fields flat, `kind` named) plus a title and the readable text.
pub fn json_body(notice: &Notice, key: &str, loc: Locale) -> Value {
    let mut v = serde_json::to_value(notice).expect("a notice serialises");
    v["idempotency_key"] = json!(key);
    v["notice_key"] = json!(notice.key());
    v["lang"] = json!(loc.lang.code());
    v["title"] = json!(title(notice, loc));
    v["text"] = json!(markdown(notice, loc));
    v
}

/// One line saying what happened: `【秸秆禁烧】新核查任务 #17 · 紧急`.
pub fn title(n: &Notice, loc: Locale) -> String {
    let l = loc.lang;
    let id: &dyn std::fmt::Display = &n.task_id;
    match &n.kind {
        NoticeKind::TaskNew => {
            let t = l.f("notify.title.new", &[("id", id)]);
            if n.priority == "high" {
                format!("{t} · {}", l.t("priority.high"))
            } else {
                t
            }
        }
        NoticeKind::TaskUpdated { sightings } => {
            l.f("notify.title.update", &[("id", id), ("n", sightings)])
        }
        NoticeKind::Escalation { deadline } => l.f(
            "notify.title.escalation",
            &[("id", id), ("deadline", &deadline_name(l, deadline))],
        ),
        NoticeKind::Verdict { verdict } => l.f(
            "notify.title.verdict",
            &[("id", id), ("verdict", &verdict_name(l, verdict))],
        ),
    }
}

/// The markdown text: the title as a heading, then one line per fact the reader acts on.
pub fn markdown(n: &Notice, loc: Locale) -> String {
    let l = loc.lang;
    let mut t = format!("## {}\n", title(n, loc));
    let mut line = |label: &str, value: String| {
        t.push_str(&l.f("notify.line", &[("label", &label), ("value", &value)]));
        t.push('\n');
    };
    line(l.t("notify.where"), place(n, l));
    line(
        l.t("notify.position"),
        l.f(
            "task.position",
            &[
                ("lat", &format!("{:.5}", n.lat)),
                ("lon", &format!("{:.5}", n.lon)),
            ],
        ),
    );
    let time = |at: DateTime<Utc>| l.time_short(loc.zone, at);
    match &n.kind {
        NoticeKind::TaskNew => {
            line(l.t("notify.first_seen"), time(n.first_seen));
            line(l.t("notify.fire"), fire(n, l));
        }
        NoticeKind::TaskUpdated { .. } => {
            line(l.t("notify.last_seen"), time(n.last_seen));
            line(l.t("notify.first_seen"), time(n.first_seen));
            line(l.t("notify.fire"), fire(n, l));
            line(l.t("notify.state"), state_name(l, &n.state));
        }
        NoticeKind::Escalation { .. } => {
            line(l.t("notify.first_seen"), time(n.first_seen));
            line(l.t("notify.state"), state_name(l, &n.state));
        }
        NoticeKind::Verdict { .. } => {
            line(l.t("notify.first_seen"), time(n.first_seen));
            if let Some(note) = &n.note {
                line(l.t("notify.note"), clean(note));
            }
            if !n.review.is_empty() {
                let sep = l.t("notify.list_sep");
                let flags: Vec<String> = n.review.iter().map(|f| flag_name(l, f)).collect();
                line(l.t("notify.review"), flags.join(sep));
            }
        }
    }
    // The next deadline, named: which one the time is for, and whether it has passed.
    if !matches!(n.kind, NoticeKind::Verdict { .. }) {
        match (n.due, due_kind(&n.state)) {
            (Some(due), Some(kind)) => {
                let missed =
                    matches!(&n.kind, NoticeKind::Escalation { deadline } if deadline == kind);
                let mut v = time(due);
                if missed {
                    v.push_str(l.t("notify.missed"));
                }
                t.push_str(&l.f(
                    "notify.line",
                    &[("label", &deadline_name(l, kind)), ("value", &v)],
                ));
                t.push('\n');
            }
            _ => {
                t.push_str(&l.f(
                    "notify.line",
                    &[
                        ("label", &l.t("notify.deadline")),
                        ("value", &l.t("clock.none")),
                    ],
                ));
                t.push('\n');
            }
        }
    }
    match &n.kind {
        NoticeKind::TaskNew => t.push_str(&format!("{}\n", l.t("notify.ask.new"))),
        NoticeKind::Escalation { .. } => t.push_str(&format!("{}\n", l.t("notify.ask.escalation"))),
        NoticeKind::TaskUpdated { .. } | NoticeKind::Verdict { .. } => {}
    }
    t
}

/// Where, by name: `滑县 道口镇 东庄村 · 地块 HUA-07-211`; the unit's name and code when the
/// place was not named at delivery; the code alone when nothing is loaded.
fn place(n: &Notice, l: Lang) -> String {
    let mut s = if !n.place.is_empty() {
        n.place
            .iter()
            .map(|p| clean(p))
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        match &n.unit_name {
            Some(name) => format!("{} {}", clean(name), n.unit),
            None => n.unit.clone(),
        }
    };
    if let Some(p) = &n.parcel {
        s.push_str(" · ");
        s.push_str(&l.f("hotspot.parcel", &[("parcel", &clean(p))]));
    }
    s
}

/// Confidence and fire radiative power.
fn fire(n: &Notice, l: Lang) -> String {
    let pct = format!("{:.0}", n.confidence * 100.0);
    match n.max_frp_mw {
        Some(f) => l.f(
            "notify.fire_frp",
            &[("pct", &pct), ("frp", &format!("{f:.1}"))],
        ),
        None => l.f("notify.fire_value", &[("pct", &pct)]),
    }
}

/// The deadline a task in `state` works towards next (the one `Notice::due` is for).
fn due_kind(state: &str) -> Option<&'static str> {
    match state {
        "new" | "notified" => Some("acknowledge"),
        "acknowledged" => Some("on_site"),
        "on_site" => Some("verdict"),
        _ => None,
    }
}

/// A time in the zone, to the minute, with the zone's name (`6月8日 18:06 北京时间`).
pub fn local_time(t: DateTime<Utc>, loc: Locale) -> String {
    loc.lang.time(loc.zone, t)
}

fn state_name(l: Lang, s: &str) -> String {
    match s {
        "new" => l.t("state.new").into(),
        "notified" => l.t("state.notified").into(),
        "acknowledged" => l.t("state.acknowledged").into(),
        "on_site" => l.t("state.on_site").into(),
        "verified" => l.t("state.verified").into(),
        "closed" => l.t("state.closed").into(),
        other => clean(other),
    }
}

fn deadline_name(l: Lang, d: &str) -> String {
    match d {
        "acknowledge" => l.t("notify.deadline.acknowledge").into(),
        "on_site" => l.t("notify.deadline.on_site").into(),
        "verdict" => l.t("notify.deadline.verdict").into(),
        other => clean(other),
    }
}

fn flag_name(l: Lang, f: &str) -> String {
    match f {
        "photo_identical" => l.t("flag.photo_identical").into(),
        "photo_near_identical" => l.t("flag.photo_near_identical").into(),
        "far_from_event" => l.t("flag.far_from_event").into(),
        "before_notified" => l.t("flag.before_notified").into(),
        "not_notified" => l.t("flag.not_notified").into(),
        "exif_time" => l.t("flag.exif_time").into(),
        "exif_position" => l.t("flag.exif_position").into(),
        other => clean(other),
    }
}

fn verdict_name(l: Lang, v: &str) -> String {
    match v {
        "burning" => l.t("verdict.burning").into(),
        "burned_scar" => l.t("verdict.burned_scar").into(),
        "no_fire_industrial" => l.t("verdict.no_fire_industrial").into(),
        "no_fire_other" => l.t("verdict.no_fire_other").into(),
        other => clean(other),
    }
}

/// Free text made safe for one markdown line without links: no line breaks, no link or
/// emphasis syntax (a name with `[..](..)` in it must not become a link).
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            '[' | ']' | '(' | ')' | '<' | '>' | '*' | '_' | '`' | '#' => ' ',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Zone;
    use chrono::TimeZone;

    const ZH: Locale = Locale {
        lang: Lang::ZhCn,
        zone: Zone::BEIJING,
    };
    const EN: Locale = Locale {
        lang: Lang::En,
        zone: Zone::BEIJING,
    };

    fn notice(kind: NoticeKind) -> Notice {
        let t = Utc.with_ymd_and_hms(2026, 6, 8, 10, 6, 0).unwrap();
        Notice {
            kind,
            task_id: 17,
            event_id: 5,
            unit: "410526101".into(),
            unit_name: Some("道口镇".into()),
            county: Some("410526".into()),
            priority: "high".into(),
            state: "new".into(),
            lat: 35.512345,
            lon: 114.498765,
            first_seen: t,
            last_seen: t + chrono::Duration::minutes(12),
            due: Some(t + chrono::Duration::minutes(30)),
            max_frp_mw: Some(3.24),
            confidence: 0.83,
            detail: "second line\n[click](http://evil)".into(),
            place: vec![
                "滑县".into(),
                "道口镇".into(),
                "东[庄](http://evil)村".into(),
            ],
            parcel: Some("HUA-07-211".into()),
            note: None,
            review: Vec::new(),
        }
    }

    #[test]
    fn a_new_task_says_where_by_name_since_when_and_which_deadline_in_beijing_time() {
        let t = markdown(&notice(NoticeKind::TaskNew), ZH);
        assert!(
            t.starts_with("## 【秸秆禁烧】新核查任务 #17 · 紧急\n"),
            "{t}"
        );
        // Names down to the village and the parcel; free text cannot make links.
        assert!(
            t.contains("**地点**：滑县 道口镇 东 庄 http://evil 村 · 地块 HUA-07-211\n"),
            "{t}"
        );
        assert!(!t.contains("]("), "{t}");
        assert!(t.contains("**坐标**：35.51235, 114.49877（WGS84）"), "{t}");
        // 10:06 UTC is 18:06 in Beijing; a new task's next deadline is acknowledging it.
        assert!(t.contains("**发现时间**：6月8日 18:06 北京时间\n"), "{t}");
        assert!(t.contains("**接收时限**：6月8日 18:36 北京时间\n"), "{t}");
        assert!(t.contains("置信度 83%，火辐射功率 3.2 MW"), "{t}");
        // One language: no English words beyond the units.
        assert!(!t.contains("Deadline") && !t.contains("task"), "{t}");
    }

    #[test]
    fn an_escalation_names_the_missed_deadline_and_english_is_selectable() {
        let mut n = notice(NoticeKind::Escalation {
            deadline: "on_site".into(),
        });
        n.state = "acknowledged".into();
        let t = markdown(&n, ZH);
        assert!(t.starts_with("## 【督办】任务 #17 超过到场时限\n"), "{t}");
        assert!(
            t.contains("**到场时限**：6月8日 18:36 北京时间（已逾期）\n"),
            "{t}"
        );
        assert!(t.contains("**当前状态**：已接收\n"), "{t}");
        let e = markdown(&n, EN);
        assert!(
            e.starts_with("## [Escalation] Task #17 missed the on-site deadline\n"),
            "{e}"
        );
        assert!(
            e.contains("**on-site deadline**: 8 Jun, 18:36 Beijing time (missed)\n"),
            "{e}"
        );
        assert!(
            !e.chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) && !"滑县道口镇东庄村".contains(c)),
            "{e}"
        );
    }

    #[test]
    fn robot_bodies_have_the_shapes_the_robots_accept() {
        let n = notice(NoticeKind::Escalation {
            deadline: "on_site".into(),
        });
        let wecom = body(WebhookFormat::Markdown, &n, "k", ZH);
        assert_eq!(wecom["msgtype"], "markdown");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert_eq!(content, markdown(&n, ZH));
        assert_eq!(wecom.as_object().unwrap().len(), 2);
        assert_eq!(wecom["markdown"].as_object().unwrap().len(), 1);
        let ding = body(WebhookFormat::Dingtalk, &n, "k", ZH);
        assert_eq!(ding["markdown"]["title"], title(&n, ZH));
        assert_eq!(ding["markdown"]["text"], content);
    }

    #[test]
    fn json_body_is_the_notice_with_its_keys_and_text() {
        let mut n = notice(NoticeKind::Verdict {
            verdict: "burned_scar".into(),
        });
        n.note = Some("东边地块\n余烬".into());
        n.review = vec!["far_from_event".into(), "exif_time".into()];
        let v = body(
            WebhookFormat::Json,
            &n,
            "task-17-verdict-burned_scar-410526101:hx",
            ZH,
        );
        assert_eq!(v["kind"], "verdict");
        assert_eq!(v["verdict"], "burned_scar");
        assert_eq!(v["task_id"], 17);
        assert_eq!(v["lang"], "zh-CN");
        assert_eq!(
            v["idempotency_key"],
            "task-17-verdict-burned_scar-410526101:hx"
        );
        assert_eq!(v["notice_key"], n.key());
        assert_eq!(v["title"], "核查结果：任务 #17 · 过火迹地");
        let text = v["text"].as_str().unwrap();
        assert!(text.contains("**备注**：东边地块 余烬\n"), "{text}");
        assert!(
            text.contains("**需复核**：上报位置离火点过远；照片拍摄时间与上报时间不符\n"),
            "{text}"
        );
        // The notice can be read back from the body.
        let back: Notice = serde_json::from_value(v).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn updates_and_missing_values_read_well() {
        let mut n = notice(NoticeKind::TaskUpdated { sightings: 3 });
        n.place.clear();
        n.parcel = None;
        n.due = None;
        n.max_frp_mw = None;
        let t = markdown(&n, ZH);
        assert!(
            t.starts_with("## 火点再次探测：任务 #17（累计 3 次）\n"),
            "{t}"
        );
        assert!(t.contains("**地点**：道口镇 410526101\n"), "{t}");
        assert!(t.contains("**最近探测**：6月8日 18:18 北京时间\n"), "{t}");
        assert!(t.contains("**时限**：无时限\n"), "{t}");
        assert!(t.contains("**火点**：置信度 83%\n"), "{t}");
        n.unit_name = None;
        assert!(markdown(&n, ZH).contains("**地点**：410526101\n"));
        // Old outbox rows (before names, notes and flags) still read.
        let mut old = serde_json::to_value(&n).unwrap();
        for k in ["place", "parcel", "note", "review"] {
            old.as_object_mut().unwrap().remove(k);
        }
        assert_eq!(serde_json::from_value::<Notice>(old).unwrap(), n);
    }
}
