//! The deployment's time zone (`[ui] time_zone`), as a fixed offset.
//!
//! chrono-tz is not among the dependencies, and the zones a burn-ban deployment uses have had
//! no daylight saving time for decades (China since 1991, Hong Kong and Taiwan since 1979), so a
//! name → offset table is exact for every time the service shows. The pages pass the same name
//! to the browser's `Intl.DateTimeFormat`, which has the full tz database.

use chrono::FixedOffset;

/// Known zone names and their offsets from UTC, seconds.
const ZONES: &[(&str, i32)] = &[
    ("Asia/Shanghai", 8 * 3600),
    ("Asia/Chongqing", 8 * 3600),
    ("Asia/Chungking", 8 * 3600),
    ("Asia/Harbin", 8 * 3600),
    ("PRC", 8 * 3600),
    ("Asia/Urumqi", 6 * 3600),
    ("Asia/Kashgar", 6 * 3600),
    ("Asia/Hong_Kong", 8 * 3600),
    ("Asia/Macau", 8 * 3600),
    ("Asia/Taipei", 8 * 3600),
    ("UTC", 0),
    ("Etc/UTC", 0),
];

/// Zones whose time is China Standard Time, shown as 北京时间.
const BEIJING: &[&str] = &[
    "Asia/Shanghai",
    "Asia/Chongqing",
    "Asia/Chungking",
    "Asia/Harbin",
    "PRC",
];

/// A known zone: its IANA name and offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    name: &'static str,
    offset_s: i32,
}

impl Default for Zone {
    fn default() -> Self {
        Zone::BEIJING
    }
}

impl Zone {
    /// China Standard Time, the default.
    pub const BEIJING: Zone = Zone {
        name: "Asia/Shanghai",
        offset_s: 8 * 3600,
    };

    /// A zone by its IANA name (exact spelling), or `None` when it is not in the table.
    pub fn parse(name: &str) -> Option<Zone> {
        ZONES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(name, offset_s)| Zone { name, offset_s })
    }

    /// The names [`Zone::parse`] knows, for error messages.
    pub fn known() -> impl Iterator<Item = &'static str> {
        ZONES.iter().map(|(n, _)| *n)
    }

    pub fn name(self) -> &'static str {
        self.name
    }

    pub fn offset(self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_s).expect("offsets in the table are valid")
    }

    /// China Standard Time (UTC+8 on the mainland).
    pub fn is_beijing(self) -> bool {
        BEIJING.contains(&self.name)
    }

    /// `+8`, `+5:30`, `0` style offset for labels.
    pub fn offset_label(self) -> String {
        let (h, m) = (self.offset_s / 3600, (self.offset_s.abs() % 3600) / 60);
        match (h, m) {
            (0, 0) => String::new(),
            (h, 0) => format!("{h:+}"),
            (h, m) => format!("{h:+}:{m:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_their_offsets() {
        let bj = Zone::parse("Asia/Shanghai").unwrap();
        assert_eq!(bj, Zone::default());
        assert!(bj.is_beijing());
        assert_eq!(bj.offset().local_minus_utc(), 8 * 3600);
        assert_eq!(bj.offset_label(), "+8");
        let u = Zone::parse("Asia/Urumqi").unwrap();
        assert!(!u.is_beijing());
        assert_eq!(u.offset_label(), "+6");
        assert_eq!(Zone::parse("UTC").unwrap().offset_label(), "");
        assert_eq!(Zone::parse("asia/shanghai"), None);
        assert_eq!(Zone::parse("Europe/Berlin"), None);
        assert!(Zone::known().any(|n| n == "Asia/Shanghai"));
    }
}
