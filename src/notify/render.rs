//! Webhook bodies from a [`Notice`], pure.
//!
//! Three forms: our JSON (the notice itself, for programs), and the markdown message that
//! chat-group robots take (WeCom `markdown.content`, DingTalk `markdown.title` + `text`), for
//! the patrol's phone. The text is bilingual (Chinese first), link-free (the robots render links
//! inconsistently and a patrol in a field has no VPN to the dashboard), and gives times in
//! Beijing time, which is what a patrol reads on a clock.

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Value};

use super::{Notice, NoticeKind};
use crate::config::WebhookFormat;

/// The request body for a webhook of `format`. `key` is the delivery's idempotency key (also
/// sent as the `Idempotency-Key` header; repeated in JSON for receivers that log bodies only).
pub fn body(format: WebhookFormat, notice: &Notice, key: &str) -> Value {
    match format {
        WebhookFormat::Json => json_body(notice, key),
        WebhookFormat::Markdown => json!({
            "msgtype": "markdown",
            "markdown": {"content": markdown(notice)},
        }),
        WebhookFormat::Dingtalk => json!({
            "msgtype": "markdown",
            "markdown": {"title": title(notice), "text": markdown(notice)},
        }),
    }
}

/// Our JSON form: the notice (its fields flat, `kind` named) plus a title and the readable text.
pub fn json_body(notice: &Notice, key: &str) -> Value {
    let mut v = serde_json::to_value(notice).expect("a notice serialises");
    v["idempotency_key"] = json!(key);
    v["notice_key"] = json!(notice.key());
    v["title"] = json!(title(notice));
    v["text"] = json!(markdown(notice));
    v
}

/// One line saying what happened.
pub fn title(n: &Notice) -> String {
    match &n.kind {
        NoticeKind::TaskNew => format!("秸秆焚烧核查任务 New straw-fire task #{}", n.task_id),
        NoticeKind::TaskUpdated { sightings } => format!(
            "火点再次探测 Fire seen again (task #{}, {sightings} sightings)",
            n.task_id
        ),
        NoticeKind::Escalation { deadline } => format!(
            "超时升级 Escalation: task #{} missed {}",
            n.task_id,
            deadline_name(deadline)
        ),
        NoticeKind::Verdict { verdict } => format!(
            "核查结果 Verdict on task #{}: {}",
            n.task_id,
            verdict_name(verdict)
        ),
    }
}

/// The markdown text a patrol reads: where, since when, priority, deadline.
pub fn markdown(n: &Notice) -> String {
    let mut t = format!("## {}\n", title(n));
    let place = match &n.unit_name {
        Some(name) => format!("{} ({})", clean(name), n.unit),
        None => n.unit.clone(),
    };
    t.push_str(&format!("**地点 Where**: {place}\n"));
    t.push_str(&format!(
        "**坐标 Position**: {:.5} N, {:.5} E (WGS84)\n",
        n.lat, n.lon
    ));
    t.push_str(&format!(
        "**发现 Since**: {} (last seen {})\n",
        beijing(n.first_seen),
        beijing(n.last_seen)
    ));
    t.push_str(&format!(
        "**优先级 Priority**: {}\n",
        priority_name(&n.priority)
    ));
    match n.due {
        Some(due) => t.push_str(&format!("**截止 Deadline**: {}\n", beijing(due))),
        None => t.push_str("**截止 Deadline**: 无 none\n"),
    }
    let frp = n
        .max_frp_mw
        .map(|f| format!(", FRP {f:.1} MW"))
        .unwrap_or_default();
    t.push_str(&format!(
        "**置信度 Confidence**: {:.0}%{frp}\n",
        n.confidence * 100.0
    ));
    t.push_str(&format!("**状态 State**: {}\n", clean(&n.state)));
    if !n.detail.trim().is_empty() {
        t.push_str(&format!("> {}\n", clean(&n.detail)));
    }
    t
}

/// A time as Beijing time (UTC+8), to the minute.
pub fn beijing(t: DateTime<Utc>) -> String {
    let cst = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    format!(
        "{} 北京时间",
        t.with_timezone(&cst).format("%Y-%m-%d %H:%M")
    )
}

fn priority_name(p: &str) -> String {
    match p {
        "high" => "高 high".into(),
        "normal" => "一般 normal".into(),
        other => clean(other),
    }
}

fn deadline_name(d: &str) -> String {
    match d {
        "acknowledge" => "确认 the acknowledgement deadline".into(),
        "on_site" => "到场 the on-site deadline".into(),
        "verdict" => "核查 the verdict deadline".into(),
        other => format!("the {} deadline", clean(other)),
    }
}

fn verdict_name(v: &str) -> String {
    match v {
        "burning" => "正在焚烧 burning".into(),
        "burned_scar" => "已焚烧过火迹地 burned scar".into(),
        "no_fire_industrial" => "无火情 (工业热源) no fire, industrial".into(),
        "no_fire_other" => "无火情 no fire, other".into(),
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
    use chrono::TimeZone;

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
        }
    }

    #[test]
    fn markdown_says_where_since_when_priority_and_deadline_in_beijing_time() {
        let t = markdown(&notice(NoticeKind::TaskNew));
        assert!(
            t.starts_with("## 秸秆焚烧核查任务 New straw-fire task #17\n"),
            "{t}"
        );
        assert!(t.contains("**地点 Where**: 道口镇 (410526101)"), "{t}");
        assert!(t.contains("35.51235 N, 114.49877 E"), "{t}");
        // 10:06 UTC is 18:06 in Beijing; the deadline 30 min later.
        assert!(
            t.contains(
                "**发现 Since**: 2026-06-08 18:06 北京时间 (last seen 2026-06-08 18:18 北京时间)"
            ),
            "{t}"
        );
        assert!(
            t.contains("**截止 Deadline**: 2026-06-08 18:36 北京时间"),
            "{t}"
        );
        assert!(t.contains("**优先级 Priority**: 高 high"), "{t}");
        assert!(t.contains("83%, FRP 3.2 MW"), "{t}");
        // Free text cannot break lines or make links.
        assert!(t.contains("> second line click http://evil\n"), "{t}");
        assert!(!t.contains("]("), "{t}");
    }

    #[test]
    fn robot_bodies_have_the_shapes_the_robots_accept() {
        let n = notice(NoticeKind::Escalation {
            deadline: "on_site".into(),
        });
        let wecom = body(WebhookFormat::Markdown, &n, "k");
        assert_eq!(wecom["msgtype"], "markdown");
        let content = wecom["markdown"]["content"].as_str().unwrap();
        assert!(content.contains("超时升级 Escalation: task #17 missed 到场 the on-site deadline"));
        assert_eq!(wecom.as_object().unwrap().len(), 2);
        assert_eq!(wecom["markdown"].as_object().unwrap().len(), 1);
        let ding = body(WebhookFormat::Dingtalk, &n, "k");
        assert_eq!(ding["markdown"]["title"], title(&n));
        assert_eq!(ding["markdown"]["text"], content);
    }

    #[test]
    fn json_body_is_the_notice_with_its_keys_and_text() {
        let n = notice(NoticeKind::Verdict {
            verdict: "burned_scar".into(),
        });
        let v = body(
            WebhookFormat::Json,
            &n,
            "task-17-verdict-burned_scar-410526101:hx",
        );
        assert_eq!(v["kind"], "verdict");
        assert_eq!(v["verdict"], "burned_scar");
        assert_eq!(v["task_id"], 17);
        assert_eq!(
            v["idempotency_key"],
            "task-17-verdict-burned_scar-410526101:hx"
        );
        assert_eq!(v["notice_key"], n.key());
        assert!(v["text"]
            .as_str()
            .unwrap()
            .contains("已焚烧过火迹地 burned scar"));
        // The notice can be read back from the body.
        let back: Notice = serde_json::from_value(v).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn updates_and_missing_values_read_well() {
        let mut n = notice(NoticeKind::TaskUpdated { sightings: 3 });
        n.unit_name = None;
        n.due = None;
        n.max_frp_mw = None;
        n.detail = String::new();
        let t = markdown(&n);
        assert!(t.contains("Fire seen again (task #17, 3 sightings)"), "{t}");
        assert!(t.contains("**地点 Where**: 410526101\n"), "{t}");
        assert!(t.contains("**截止 Deadline**: 无 none"), "{t}");
        assert!(t.contains("**置信度 Confidence**: 83%\n"), "{t}");
        assert!(!t.contains("> "), "{t}");
    }
}
