//! Hotspot feeds polled on a schedule with reqwest (rustls: no OpenSSL needed at run time).
//!
//! Each source runs in its own task, so one failing source never delays the others. A failed
//! poll is retried with exponential backoff (`backoff_s`, default 5 s, then 10 s, 20 s, ...
//! capped at the source's interval). FIRMS answers "the last N days" counted from the current UTC day, so the first
//! poll of a new UTC day (and any poll in the first hours after midnight) also asks for the
//! previous day: fires observed just before midnight are otherwise published after the poll
//! that asked for that day. Overlap costs nothing: rows are deduplicated in the store.

use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, NaiveDate, Timelike, Utc};
use tokio::sync::watch;

use super::Service;
use crate::config::SourceConfig;

/// Polls after midnight UTC within this long also ask for the previous day.
const AFTER_MIDNIGHT: ChronoDuration = ChronoDuration::hours(3);

/// The URLs one poll of a source requests at `now`, given the time of its last good poll.
/// `url` sources may contain `{date}` (YYYY-MM-DD), filled with today and, after midnight, also
/// yesterday; FIRMS area sources ask for `days` or, after midnight, `days + 1`.
pub fn poll_urls(
    source: &SourceConfig,
    now: DateTime<Utc>,
    last_ok: Option<DateTime<Utc>>,
) -> Vec<String> {
    let today = now.date_naive();
    let midnight = now - ChronoDuration::seconds(now.num_seconds_from_midnight() as i64);
    let new_day = last_ok.is_none_or(|t| t.date_naive() < today);
    let after_midnight = now - midnight < AFTER_MIDNIGHT || (new_day && last_ok.is_some());
    let yesterday = today.pred_opt().unwrap_or(today);
    if let Some(f) = &source.firms {
        let days = if after_midnight {
            f.days.max(1) + 1
        } else {
            f.days.max(1)
        };
        return vec![f.url(days.min(10))];
    }
    let url = source.url.clone().unwrap_or_default();
    if url.contains("{date}") {
        let fill = |d: NaiveDate| url.replace("{date}", &d.format("%Y-%m-%d").to_string());
        let mut v = Vec::new();
        if after_midnight {
            v.push(fill(yesterday));
        }
        v.push(fill(today));
        v
    } else {
        vec![url]
    }
}

/// The delay before retry number `failures` (1-based): `first`, doubled per failure, at most
/// `interval`.
pub fn backoff(failures: u32, first: Duration, interval: Duration) -> Duration {
    let d = first.saturating_mul(1u32 << failures.saturating_sub(1).min(16));
    d.min(interval.max(first))
}

/// Polls one source until shutdown.
pub async fn poll_source(
    service: Service,
    client: reqwest::Client,
    source: SourceConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let interval = Duration::from_secs_f64(source.interval_s);
    let first_backoff = Duration::from_secs_f64(source.backoff_s);
    let mut last_ok: Option<DateTime<Utc>> = None;
    let mut failures = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = Utc::now();
        let mut ok = true;
        for url in poll_urls(&source, now, last_ok) {
            match poll_once(&service, &client, &source.name, &url).await {
                Ok((new, dup)) => {
                    tracing::info!("feed {}: {new} new hotspots, {dup} duplicates", source.name)
                }
                Err(e) => {
                    ok = false;
                    service.metrics().error("feed_poll");
                    tracing::warn!("feed {}: {e}", source.name);
                }
            }
        }
        let wait = if ok {
            failures = 0;
            last_ok = Some(now);
            interval
        } else {
            failures += 1;
            backoff(failures, first_backoff, interval)
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// One request and its ingest: (new, duplicate) hotspots. Errors name the source's URL without
/// its key.
pub async fn poll_once(
    service: &Service,
    client: &reqwest::Client,
    name: &str,
    url: &str,
) -> Result<(usize, usize), String> {
    let done = fetch_once(service, client, name, url).await?;
    Ok((done.report.hotspots_new, done.report.hotspots_duplicate))
}

/// [`poll_once`] with what the ingest did in full (a worker's one-shot fetch job records it).
pub async fn fetch_once(
    service: &Service,
    client: &reqwest::Client,
    name: &str,
    url: &str,
) -> Result<super::Ingested, String> {
    let shown = redact(url);
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{shown}: {}", super::inbox::chain(&e.without_url())))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("{shown}: HTTP {status}"));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| format!("{shown}: {}", e.without_url()))?;
    let feed_name = if url.ends_with(".geojson") || url.ends_with(".json") {
        format!("{name}.geojson")
    } else {
        format!("{name}.csv")
    };
    let feed = Service::parse_feed(&feed_name, &bytes).map_err(|e| format!("{shown}: {e}"))?;
    service
        .ingest_feed(&feed_name, &bytes, feed, "poll")
        .await
        .map_err(|e| format!("{shown}: {e}"))
}

/// The URL with a FIRMS MAP_KEY (the path segment after `/csv/`) hidden, for logs.
pub fn redact(url: &str) -> String {
    match url.find("/api/area/csv/") {
        Some(i) => {
            let start = i + "/api/area/csv/".len();
            let end = url[start..].find('/').map_or(url.len(), |j| start + j);
            format!("{}***{}", &url[..start], &url[end..])
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FirmsArea;
    use chrono::TimeZone;

    fn firms() -> SourceConfig {
        SourceConfig {
            name: "f".into(),
            url: None,
            firms: Some(FirmsArea {
                base_url: "http://h".into(),
                key: "SECRET".into(),
                source: "VIIRS_NOAA20_NRT".into(),
                bbox: [114.0, 35.0, 115.0, 36.0],
                days: 1,
            }),
            interval_s: 600.0,
            backoff_s: 5.0,
        }
    }

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 6, 9, h, m, 0).unwrap()
    }

    #[test]
    fn just_after_midnight_the_previous_day_is_asked_for() {
        let s = firms();
        let before = Some(at(0, 0) - ChronoDuration::minutes(10));
        assert!(poll_urls(&s, at(0, 5), before)[0].ends_with("/2"));
        assert!(poll_urls(&s, at(14, 0), Some(at(13, 50)))[0].ends_with("/1"));
        // The first poll of a new day, even late (the service was down overnight).
        assert!(
            poll_urls(&s, at(14, 0), Some(at(0, 0) - ChronoDuration::hours(5)))[0].ends_with("/2")
        );
        let u = SourceConfig {
            url: Some("http://x/{date}.csv".into()),
            firms: None,
            ..firms()
        };
        assert_eq!(
            poll_urls(&u, at(0, 5), before),
            vec!["http://x/2024-06-08.csv", "http://x/2024-06-09.csv"]
        );
        assert_eq!(
            poll_urls(&u, at(9, 0), Some(at(8, 50))),
            vec!["http://x/2024-06-09.csv"]
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_interval() {
        let (f, i) = (Duration::from_secs(5), Duration::from_secs(60));
        assert_eq!(backoff(1, f, i), Duration::from_secs(5));
        assert_eq!(backoff(2, f, i), Duration::from_secs(10));
        assert_eq!(backoff(4, f, i), Duration::from_secs(40));
        assert_eq!(backoff(5, f, i), Duration::from_secs(60));
        assert_eq!(backoff(40, f, i), Duration::from_secs(60));
    }

    #[test]
    fn the_key_is_not_logged() {
        let u = firms().firms.unwrap().url(1);
        assert!(!redact(&u).contains("SECRET"));
        assert!(redact(&u).contains("VIIRS_NOAA20_NRT"));
    }
}
