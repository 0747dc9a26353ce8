//! Webhook bodies from a [`Notice`], pure.
//!
//! Four forms: our JSON (the notice itself, for programs, with a title, the readable text and
//! the navigation links), the markdown message that chat-group robots take (WeCom
//! `markdown.content`, DingTalk `markdown.title` + `text`), and WeCom's plain `text` message,
//! the one WeCom form that can @mention the person on duty by mobile number
//! (`mentioned_mobile_list`; DingTalk does it in markdown with `at.atMobiles`). The words are
//! the deployment's language (`[ui] lang`, Chinese by default: one language, not every line
//! twice) from the message catalogues; the text is short and actionable: what, where by name
//! down to the village and parcel, which deadline and when, in the deployment's zone (北京时间),
//! links that open the fire in the phone's map app (高德 and 腾讯 in GCJ-02, 百度 in BD-09, from
//! `locate::navlink`, the same links as the patrol page's), and a link to the task on the patrol
//! page when `[notify] public_url` says where phones reach this server. Free text (names,
//! notes) never becomes a link or markup: it is stripped of link and emphasis syntax.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{Notice, NoticeKind};
use crate::config::WebhookFormat;
use crate::i18n::{Lang, Locale};
use crate::locate::navlink::NavLinks;

/// What a message needs besides the notice.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Language and time zone (`[ui]`).
    pub loc: Locale,
    /// This server's address as phones reach it (`[notify] public_url`), for the link to the
    /// task on the patrol page; `None`: no such link.
    pub public_url: Option<&'a str>,
    /// Mobile numbers to @mention (the webhook's `mentioned_mobile_list`; `@all` for everyone).
    pub mention: &'a [String],
}

impl<'a> Context<'a> {
    /// A context without links to this server and without mentions.
    pub fn plain(loc: Locale) -> Context<'static> {
        Context {
            loc,
            public_url: None,
            mention: &[],
        }
    }
}

/// How the lines are marked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `**label**：value`, `[text](url)` links, a `##` title.
    Markdown,
    /// `label：value`, bare URLs (WeCom `text` messages render no markup).
    Text,
}

/// The request body for a webhook of `format`. `key` is the delivery's idempotency key (also
/// sent as the `Idempotency-Key` header; repeated in JSON for receivers that log bodies only).
pub fn body(format: WebhookFormat, notice: &Notice, key: &str, ctx: &Context) -> Value {
    match format {
        WebhookFormat::Json => json_body(notice, key, ctx),
        WebhookFormat::Markdown => json!({
            "msgtype": "markdown",
            "markdown": {"content": compose(notice, ctx, Style::Markdown, true)},
        }),
        WebhookFormat::Text => {
            let mut text = json!({"content": compose(notice, ctx, Style::Text, true)});
            if !ctx.mention.is_empty() {
                text["mentioned_mobile_list"] = json!(ctx.mention);
            }
            json!({"msgtype": "text", "text": text})
        }
        WebhookFormat::Dingtalk => {
            let mut text = markdown(notice, ctx);
            let mut v = json!({
                "msgtype": "markdown",
                "markdown": {"title": title(notice, ctx.loc)},
            });
            if !ctx.mention.is_empty() {
                // DingTalk highlights a mention only when the text names the number too.
                let all = ctx.mention.iter().any(|m| m == "@all");
                let mobiles: Vec<&String> = ctx.mention.iter().filter(|m| *m != "@all").collect();
                let names: Vec<String> = mobiles.iter().map(|m| format!("@{m}")).collect();
                if !names.is_empty() {
                    text.push_str(&names.join(" "));
                    text.push('\n');
                }
                v["at"] = json!({"atMobiles": mobiles, "isAtAll": all});
            }
            v["markdown"]["text"] = json!(text);
            v
        }
    }
}

/// Our JSON form: the notice (its fields flat, `kind` named) plus a title, the readable text,
/// the navigation links (`nav`, as in the task JSON) and the task's page (`task_url`, when
/// `public_url` is set).
pub fn json_body(notice: &Notice, key: &str, ctx: &Context) -> Value {
    let loc = ctx.loc;
    let mut v = serde_json::to_value(notice).expect("a notice serialises");
    v["idempotency_key"] = json!(key);
    v["notice_key"] = json!(notice.key());
    v["lang"] = json!(loc.lang.code());
    v["title"] = json!(title(notice, loc));
    v["text"] = json!(markdown(notice, ctx));
    v["nav"] = json!(nav_links(notice, loc.lang));
    if let Some(url) = task_url(notice, ctx) {
        v["task_url"] = json!(url);
        if notice.photo_sha256.is_some() {
            // The scoped photo route: a program with a county or admin token fetches it.
            v["photo_url"] = json!(format!(
                "{}/api/v1/tasks/{}/photo",
                url.split("/patrol#").next().unwrap_or_default(),
                notice.task_id
            ));
        }
    }
    v
}

/// The map-app links to the notice's fire (the marker named as on the patrol page).
pub fn nav_links(n: &Notice, l: Lang) -> NavLinks {
    NavLinks::new(n.lon, n.lat, &l.f("nav.marker", &[("id", &n.task_id)]))
}

/// The task on the patrol page (`{public_url}/patrol#task-17`; the page opens that card).
pub fn task_url(n: &Notice, ctx: &Context) -> Option<String> {
    ctx.public_url
        .map(|u| format!("{}/patrol#task-{}", u.trim_end_matches('/'), n.task_id))
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
        NoticeKind::SentBack { .. } => l.f("notify.title.sent_back", &[("id", id)]),
        NoticeKind::Cancelled {
            reassigned_to: None,
            ..
        } => l.f("notify.title.cancelled", &[("id", id)]),
        NoticeKind::Cancelled {
            reassigned_to: Some(code),
            reassigned_to_name,
            ..
        } => {
            let to = match reassigned_to_name {
                Some(name) => clean(name),
                None => clean(code),
            };
            l.f("notify.title.withdrawn", &[("id", id), ("unit", &to)])
        }
    }
}

/// The markdown text: the title as a heading, then one line per fact the reader acts on.
pub fn markdown(n: &Notice, ctx: &Context) -> String {
    compose(n, ctx, Style::Markdown, false)
}

/// The message in `style`: the title, then one line per fact the reader acts on, the links.
/// `image_follows`: a verdict's photo goes to this group as an image message of its own (WeCom;
/// `deliver::route`), and the text says so.
pub fn compose(n: &Notice, ctx: &Context, style: Style, image_follows: bool) -> String {
    let loc = ctx.loc;
    let l = loc.lang;
    // `**label**：value` or `label：value`.
    let fact = move |label: &str, value: &str| {
        let p: [(&str, &dyn std::fmt::Display); 2] = [("label", &label), ("value", &value)];
        match style {
            Style::Markdown => l.f("notify.line", &p),
            Style::Text => l.f("notify.text_line", &p),
        }
    };
    let mut t = match style {
        Style::Markdown => format!("## {}\n", title(n, loc)),
        Style::Text => format!("{}\n", title(n, loc)),
    };
    let mut line = |label: &str, value: String| {
        t.push_str(&fact(label, &value));
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
    // The fire in the phone's map app: 高德 and 腾讯 read GCJ-02, 百度 BD-09 (the position line
    // above is the WGS84 one, for a `geo:` app or a GPS).
    // A task taken away needs no way there.
    let withdrawn = matches!(n.kind, NoticeKind::Cancelled { .. });
    let nav = nav_links(n, l);
    let apps = [
        (l.t("nav.amap"), &nav.amap),
        (l.t("nav.tencent"), &nav.tencent),
        (l.t("nav.baidu"), &nav.baidu),
    ];
    match style {
        _ if withdrawn => {}
        Style::Markdown => {
            let links: Vec<String> = apps.iter().map(|(a, u)| format!("[{a}]({u})")).collect();
            line(l.t("notify.nav"), links.join(" · "));
        }
        Style::Text => {
            for (app, url) in apps {
                line(app, url.clone());
            }
        }
    }
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
                line(l.t("notify.note"), clip(&clean(note)));
            }
            if !n.review.is_empty() {
                let sep = l.t("notify.list_sep");
                let flags: Vec<String> = n.review.iter().map(|f| flag_name(l, f)).collect();
                line(l.t("notify.review"), flags.join(sep));
            }
            if n.photo_sha256.is_some() {
                let how = if image_follows {
                    l.t("notify.photo.image")
                } else {
                    l.t("notify.photo.stored")
                };
                line(l.t("notify.photo"), how.to_string());
            }
        }
        NoticeKind::SentBack { reason, .. } => {
            line(l.t("notify.sent_back_reason"), clip(&clean(reason)));
        }
        NoticeKind::Cancelled {
            reason,
            reassigned_to,
            ..
        } => {
            line(l.t("notify.first_seen"), time(n.first_seen));
            let label = match reassigned_to {
                None => l.t("notify.cancel_reason"),
                Some(_) => l.t("notify.reassign_reason"),
            };
            line(label, clip(&clean(reason)));
        }
    }
    // The next deadline, named: which one the time is for, and whether it has passed.
    if !matches!(
        n.kind,
        NoticeKind::Verdict { .. } | NoticeKind::Cancelled { .. }
    ) {
        let kind = due_kind(&n.state);
        match (n.due, kind) {
            (Some(due), Some(kind)) => {
                let missed =
                    matches!(&n.kind, NoticeKind::Escalation { deadline } if deadline == kind);
                let mut v = time(due);
                if missed {
                    v.push_str(l.t("notify.missed"));
                }
                line(&deadline_name(l, kind), v);
            }
            _ => line(l.t("notify.deadline"), l.t("clock.none").to_string()),
        }
        // A verdict sent back: on site again by the new on-site deadline (above), and the new
        // verdict deadline after it.
        if let NoticeKind::SentBack {
            verdict_due: Some(v),
            ..
        } = &n.kind
        {
            if kind != Some("verdict") {
                line(&deadline_name(l, "verdict"), time(*v));
            }
        }
    }
    if let Some(url) = task_url(n, ctx) {
        let open = l.f("notify.open_task", &[("id", &n.task_id)]);
        match style {
            Style::Markdown => t.push_str(&format!("[{open}]({url})\n")),
            Style::Text => {
                t.push_str(&fact(&open, &url));
                t.push('\n');
            }
        }
    }
    match &n.kind {
        NoticeKind::TaskNew => t.push_str(&format!("{}\n", l.t("notify.ask.new"))),
        NoticeKind::Escalation { .. } => t.push_str(&format!("{}\n", l.t("notify.ask.escalation"))),
        NoticeKind::SentBack { .. } => t.push_str(&format!("{}\n", l.t("notify.ask.sent_back"))),
        NoticeKind::Cancelled { .. } => t.push_str(&format!("{}\n", l.t("notify.ask.cancelled"))),
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
    clean(&l.state_name(s))
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

/// Characters of free text (a note, a reason) a message carries: WeCom refuses a `text` message
/// over 2,048 bytes, and the rest of a message takes about 950; 200 CJK characters are 600.
const FREE_TEXT_CHARS: usize = 200;

/// Free text cut to [`FREE_TEXT_CHARS`], with `…` when cut (the whole text is in the store).
fn clip(s: &str) -> String {
    if s.chars().count() <= FREE_TEXT_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(FREE_TEXT_CHARS - 1).collect();
    out.push('…');
    out
}

/// Free text made safe for one markdown line without links: no line breaks, no link or
/// emphasis syntax (a name with `[..](..)` in it must not become a link). A `#` directly before
/// a letter or digit stays (`任务 #16` is how a patrol names a task; a heading needs `# ` at the
/// start of a line), any other `#` goes.
fn clean(s: &str) -> String {
    let mut chars = s.chars().peekable();
    let mut out = String::with_capacity(s.len());
    while let Some(c) = chars.next() {
        out.push(match c {
            '\n' | '\r' | '\t' => ' ',
            '#' if chars.peek().is_some_and(|n| n.is_alphanumeric()) => '#',
            '[' | ']' | '(' | ')' | '<' | '>' | '*' | '_' | '`' | '#' => ' ',
            c => c,
        });
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
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

    #[test]
    fn clean_keeps_a_task_number_and_drops_markdown() {
        assert_eq!(clean("见任务 #16 的照片"), "见任务 #16 的照片");
        assert_eq!(
            clean("# 标题\n[链接](http://x) *粗* ## _x_"),
            "标题 链接 http://x 粗 x"
        );
        assert_eq!(clean("#\n#"), "");
    }

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
            photo_sha256: None,
            round: 0,
        }
    }

    #[test]
    fn a_new_task_says_where_by_name_since_when_and_which_deadline_in_beijing_time() {
        let t = markdown(&notice(NoticeKind::TaskNew), &Context::plain(ZH));
        assert!(
            t.starts_with("## 【秸秆禁烧】新核查任务 #17 · 紧急\n"),
            "{t}"
        );
        // Names down to the village and the parcel; free text cannot make links.
        assert!(
            t.contains("**地点**：滑县 道口镇 东 庄 http://evil 村 · 地块 HUA-07-211\n"),
            "{t}"
        );
        assert!(!t.contains("](http://evil"), "{t}");
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
        let t = markdown(&n, &Context::plain(ZH));
        assert!(t.starts_with("## 【督办】任务 #17 超过到场时限\n"), "{t}");
        assert!(
            t.contains("**到场时限**：6月8日 18:36 北京时间（已逾期）\n"),
            "{t}"
        );
        assert!(t.contains("**当前状态**：已接收\n"), "{t}");
        let e = markdown(&n, &Context::plain(EN));
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
        let wecom = body(WebhookFormat::Markdown, &n, "k", &Context::plain(ZH));
        assert_eq!(wecom["msgtype"], "markdown");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert_eq!(content, markdown(&n, &Context::plain(ZH)));
        assert_eq!(wecom.as_object().unwrap().len(), 2);
        assert_eq!(wecom["markdown"].as_object().unwrap().len(), 1);
        let ding = body(WebhookFormat::Dingtalk, &n, "k", &Context::plain(ZH));
        assert_eq!(ding["markdown"]["title"], title(&n, ZH));
        assert_eq!(ding["markdown"]["text"], content);
    }

    #[test]
    fn messages_carry_map_links_per_datum_and_the_task_on_the_patrol_page() {
        let n = notice(NoticeKind::TaskNew);
        let nav = NavLinks::new(n.lon, n.lat, "火点 #17");
        let ctx = Context {
            loc: ZH,
            public_url: Some("https://fire.example.cn/"),
            mention: &[],
        };
        let t = markdown(&n, &ctx);
        assert!(
            t.contains(&format!(
                "**导航**：[高德地图]({}) · [腾讯地图]({}) · [百度地图]({})\n",
                nav.amap, nav.tencent, nav.baidu
            )),
            "{t}"
        );
        assert!(
            t.contains("[在巡查页打开任务 #17](https://fire.example.cn/patrol#task-17)\n"),
            "{t}"
        );
        // Without public_url: no link to this server, the map links stay.
        let plain = markdown(&n, &Context::plain(ZH));
        assert!(!plain.contains("patrol#task") && plain.contains(&nav.amap));
        let j = body(WebhookFormat::Json, &n, "k", &ctx);
        assert_eq!(j["nav"]["baidu"], nav.baidu.as_str());
        assert_eq!(j["task_url"], "https://fire.example.cn/patrol#task-17");
    }

    #[test]
    fn wecom_text_and_dingtalk_mention_the_person_on_duty() {
        let n = notice(NoticeKind::Escalation {
            deadline: "acknowledge".into(),
        });
        let mention = ["13800138000".to_string(), "@all".to_string()];
        let ctx = Context {
            loc: ZH,
            public_url: None,
            mention: &mention,
        };
        let w = body(WebhookFormat::Text, &n, "k", &ctx);
        assert_eq!(w["msgtype"], "text");
        assert_eq!(
            w["text"]["mentioned_mobile_list"],
            json!(["13800138000", "@all"])
        );
        let content = w["text"]["content"].as_str().unwrap();
        // Plain text: no markdown marks, bare URLs one per app.
        assert!(
            content.starts_with("【督办】任务 #17 超过接收时限\n"),
            "{content}"
        );
        assert!(content.contains("地点：滑县 道口镇"), "{content}");
        assert!(
            !content.contains("**") && !content.contains("]("),
            "{content}"
        );
        assert!(
            content.contains("\n高德地图：https://uri.amap.com/marker?position="),
            "{content}"
        );
        let d = body(WebhookFormat::Dingtalk, &n, "k", &ctx);
        assert_eq!(d["at"]["atMobiles"], json!(["13800138000"]));
        assert_eq!(d["at"]["isAtAll"], true);
        assert!(d["markdown"]["text"]
            .as_str()
            .unwrap()
            .ends_with("@13800138000\n"));
        // No mention list: the bodies are as before.
        let w = body(WebhookFormat::Text, &n, "k", &Context::plain(ZH));
        assert!(w["text"].get("mentioned_mobile_list").is_none());
        assert!(body(WebhookFormat::Dingtalk, &n, "k", &Context::plain(ZH))
            .get("at")
            .is_none());
    }

    #[test]
    fn a_long_note_is_cut_so_a_wecom_text_message_stays_under_its_limit() {
        let mut n = notice(NoticeKind::Verdict {
            verdict: "burning".into(),
        });
        n.note = Some("火".repeat(500));
        n.review = vec!["far_from_event".into(), "exif_time".into()];
        n.photo_sha256 = Some("ab".into());
        let ctx = Context {
            loc: ZH,
            public_url: Some("https://fire.example.cn"),
            mention: &[],
        };
        let w = body(WebhookFormat::Text, &n, "k", &ctx);
        let content = w["text"]["content"].as_str().unwrap();
        assert!(content.len() <= 2048, "{} bytes", content.len());
        assert!(content.contains(&format!("备注：{}…\n", "火".repeat(199))));
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
            &Context::plain(ZH),
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
        assert_eq!(v["title"], "【核查结果】任务 #17：过火迹地");
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
        let t = markdown(&n, &Context::plain(ZH));
        assert!(
            t.starts_with("## 【再次探测】任务 #17 火点累计探测 3 次\n"),
            "{t}"
        );
        assert!(t.contains("**地点**：道口镇 410526101\n"), "{t}");
        assert!(t.contains("**最近探测**：6月8日 18:18 北京时间\n"), "{t}");
        assert!(t.contains("**时限**：无时限\n"), "{t}");
        assert!(t.contains("**火点**：置信度 83%\n"), "{t}");
        n.unit_name = None;
        assert!(markdown(&n, &Context::plain(ZH)).contains("**地点**：410526101\n"));
        // Old outbox rows (before names, notes and flags) still read.
        let mut old = serde_json::to_value(&n).unwrap();
        for k in ["place", "parcel", "note", "review"] {
            old.as_object_mut().unwrap().remove(k);
        }
        assert_eq!(serde_json::from_value::<Notice>(old).unwrap(), n);
    }
}
