//! The words users read, in their language, and the times they read, in their time zone.
//!
//! The users are county burn-ban command centres and township patrols in China: Chinese
//! (`zh-CN`) is the default of every page, chat message and report; English is selectable
//! (`[ui] lang`). Every user-visible string lives in one message catalogue per language,
//! `web/i18n/<lang>.json` (flat `key → text`, `{name}` placeholders): the pages load them as
//! `/static/i18n.js`, the server renders chat messages and the ranking report from the same
//! files (compiled in). `tests/i18n_catalogue.rs` fails on a key missing from a catalogue, a key
//! no code uses, and English words left in the Chinese catalogue (or Chinese in the English).
//!
//! Times are shown in the deployment's zone (`[ui] time_zone`, default `Asia/Shanghai`, read as
//! 北京时间): see [`zone`].

pub mod zone;

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Timelike, Utc};

pub use zone::Zone;

/// The Chinese catalogue, as the pages load it too.
pub const ZH_CN_JSON: &str = include_str!("../../web/i18n/zh-CN.json");
/// The English catalogue.
pub const EN_JSON: &str = include_str!("../../web/i18n/en.json");

/// A language of the catalogues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// Every language, the default first.
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag (`zh-CN`, `en`), as in the config and the page's `lang`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// From a tag as written in the config (`zh-CN`, `zh`, `en`; case-insensitive).
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "zh-cn" | "zh" | "zh-hans" | "zh-hans-cn" => Some(Lang::ZhCn),
            "en" | "en-gb" | "en-us" => Some(Lang::En),
            _ => None,
        }
    }

    /// The catalogue's JSON text.
    pub fn catalogue_json(self) -> &'static str {
        match self {
            Lang::ZhCn => ZH_CN_JSON,
            Lang::En => EN_JSON,
        }
    }

    fn catalogue(self) -> &'static HashMap<String, String> {
        static CATS: OnceLock<[HashMap<String, String>; 2]> = OnceLock::new();
        let cats = CATS.get_or_init(|| {
            Lang::ALL.map(|l| {
                // Checked by the catalogue test; a broken file would show keys, not crash.
                serde_json::from_str(l.catalogue_json()).unwrap_or_default()
            })
        });
        &cats[self as usize]
    }

    /// The text of `key`; the key itself when the catalogue lacks it (which the catalogue test
    /// forbids).
    pub fn t(self, key: &'static str) -> &'static str {
        self.catalogue().get(key).map(String::as_str).unwrap_or(key)
    }

    /// The text of `key` with its `{name}` placeholders filled from `params`.
    pub fn f(self, key: &'static str, params: &[(&str, &dyn Display)]) -> String {
        fill(self.t(key), params)
    }

    /// A time to the minute in `zone`, with the zone's name: `2026年6月8日 18:06 北京时间`.
    pub fn time(self, zone: Zone, t: DateTime<Utc>) -> String {
        format!("{} {}", self.time_bare(zone, t, true), self.zone_name(zone))
    }

    /// A time without the year: `6月8日 18:06 北京时间`.
    pub fn time_short(self, zone: Zone, t: DateTime<Utc>) -> String {
        format!(
            "{} {}",
            self.time_bare(zone, t, false),
            self.zone_name(zone)
        )
    }

    /// The time without the zone; with the year when `full`.
    pub fn time_bare(self, zone: Zone, t: DateTime<Utc>, full: bool) -> String {
        let l = t.with_timezone(&zone.offset());
        let (hh, mm) = (format!("{:02}", l.hour()), format!("{:02}", l.minute()));
        let p: [(&str, &dyn Display); 6] = [
            ("y", &l.year()),
            ("m", &l.month()),
            ("mon", &MONTHS[l.month0() as usize]),
            ("d", &l.day()),
            ("hh", &hh),
            ("mm", &mm),
        ];
        if full {
            self.f("time.full", &p)
        } else {
            self.f("time.short", &p)
        }
    }

    /// A calendar date: `2026年6月8日`, `8 Jun 2026`.
    pub fn date(self, d: chrono::NaiveDate) -> String {
        self.f(
            "time.date",
            &[
                ("y", &d.year()),
                ("m", &d.month()),
                ("mon", &MONTHS[d.month0() as usize]),
                ("d", &d.day()),
            ],
        )
    }

    /// A task state's name (`已接收`, `acknowledged`); an unknown state as it is.
    pub fn state_name(self, state: &str) -> String {
        let key = match state {
            "new" => "state.new",
            "notified" => "state.notified",
            "acknowledged" => "state.acknowledged",
            "on_site" => "state.on_site",
            "verified" => "state.verified",
            "closed" => "state.closed",
            "cancelled" => "state.cancelled",
            other => return other.to_string(),
        };
        self.t(key).to_string()
    }

    /// The zone as users call it: 北京时间 / Beijing time for China Standard Time, else `UTC+6`.
    pub fn zone_name(self, zone: Zone) -> String {
        if zone.is_beijing() {
            self.t("zone.beijing").to_string()
        } else {
            self.f("zone.offset", &[("offset", &zone.offset_label())])
        }
    }
}

/// The language and zone a text is made in (from `[ui]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Locale {
    pub lang: Lang,
    pub zone: Zone,
}

impl Locale {
    pub fn new(lang: Lang, zone: Zone) -> Locale {
        Locale { lang, zone }
    }
}

/// English month abbreviations (the Chinese format uses numbers).
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Fills `{name}` placeholders; an unknown placeholder is left as it is.
pub fn fill(template: &str, params: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match params.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) => out.push_str(&v.to_string()),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        assert_eq!(
            fill("任务 #{id}：{what}", &[("id", &17), ("what", &"已接收")]),
            "任务 #17：已接收"
        );
        assert_eq!(fill("{x} {", &[]), "{x} {");
    }

    #[test]
    fn times_read_as_chinese_dates_in_beijing_time() {
        // 10:06 UTC is 18:06 in Beijing.
        let t = Utc.with_ymd_and_hms(2026, 6, 8, 10, 6, 0).unwrap();
        let bj = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(Lang::ZhCn.time(bj, t), "2026年6月8日 18:06 北京时间");
        assert_eq!(Lang::ZhCn.time_short(bj, t), "6月8日 18:06 北京时间");
        assert_eq!(Lang::En.time(bj, t), "8 Jun 2026, 18:06 Beijing time");
        let urumqi = Zone::parse("Asia/Urumqi").unwrap();
        assert_eq!(Lang::ZhCn.time(urumqi, t), "2026年6月8日 16:06 UTC+6");
        // Late in the UTC day is the next day in Beijing.
        let late = Utc.with_ymd_and_hms(2026, 12, 3, 16, 45, 0).unwrap();
        assert_eq!(Lang::ZhCn.time(bj, late), "2026年12月4日 00:45 北京时间");
        assert_eq!(
            Lang::ZhCn.date(chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()),
            "2026年12月4日"
        );
    }

    #[test]
    fn languages_parse_from_their_tags() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.code()), Some(l));
            assert_ne!(l.t("state.on_site"), "state.on_site");
        }
    }
}
