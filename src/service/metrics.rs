//! Service metrics in the Prometheus text format. Counters are plain atomics and small maps
//! behind std mutexes (held for nanoseconds, never across an `.await`); no metrics crate needed.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the scan-time histogram, s.
const SCAN_BUCKETS_S: [f64; 8] = [0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Counters and gauges of one service.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (source, item kind) → count. Kinds: `scene`, `feed`, `hotspot`, `alert`, `duplicate`.
    ingested: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// error kind → count.
    errors: Mutex<BTreeMap<String, u64>>,
    scan_buckets: [AtomicU64; SCAN_BUCKETS_S.len()],
    scan_count: AtomicU64,
    scan_sum_us: AtomicU64,
    /// Scenes waiting for or in a scan.
    queue_depth: AtomicI64,
    events_new: AtomicU64,
    events_updated: AtomicU64,
    notify_delivered: AtomicU64,
    notify_retried: AtomicU64,
    notify_gave_up: AtomicU64,
    /// Deliveries (and outbox rows not yet expanded) still to go out.
    notify_pending: AtomicI64,
    notify_polls: AtomicU64,
    /// Inbox entries not taken as they are (see `service::inbox`), by reason.
    inbox_skipped: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn ingested(&self, source: &str, kind: &'static str, n: u64) {
        if n == 0 {
            return;
        }
        let mut m = self.ingested.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((source.to_string(), kind)).or_default() += n;
    }

    pub fn ingested_count(&self, source: &str, kind: &'static str) -> u64 {
        let m = self.ingested.lock().unwrap_or_else(|e| e.into_inner());
        m.get(&(source.to_string(), kind)).copied().unwrap_or(0)
    }

    pub fn error(&self, kind: &str) {
        let mut m = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(kind.to_string()).or_default() += 1;
    }

    pub fn events(&self, new: usize, updated: usize) {
        self.events_new.fetch_add(new as u64, Ordering::Relaxed);
        self.events_updated
            .fetch_add(updated as u64, Ordering::Relaxed);
    }

    pub fn scan_time(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in SCAN_BUCKETS_S.iter().enumerate() {
            if s <= *b {
                self.scan_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.scan_count.fetch_add(1, Ordering::Relaxed);
        self.scan_sum_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn queue_add(&self, n: i64) {
        self.queue_depth.fetch_add(n, Ordering::Relaxed);
    }

    pub fn queue_depth(&self) -> i64 {
        self.queue_depth.load(Ordering::Relaxed)
    }

    /// Counts the recorded outcome of one delivery attempt.
    pub fn notify_recorded(&self, r: crate::store::deliveries::Recorded) {
        use crate::store::deliveries::Recorded;
        let c = match r {
            Recorded::Delivered { .. } => &self.notify_delivered,
            Recorded::WillRetry => &self.notify_retried,
            Recorded::GaveUp => &self.notify_gave_up,
            Recorded::AlreadySettled => return,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// One pass of the delivery worker ended; `pending` deliveries are left to go out.
    pub fn notify_pending(&self, pending: i64) {
        self.notify_pending.store(pending, Ordering::Relaxed);
        self.notify_polls.fetch_add(1, Ordering::Relaxed);
    }

    /// An inbox entry was skipped or refused (`reason`: `unknown_type`, `folder`,
    /// `not_a_regular_file`, `incomplete`).
    pub fn inbox_skipped(&self, reason: &'static str) {
        let mut m = self.inbox_skipped.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry(reason).or_default() += 1;
    }

    /// Passes of the delivery worker so far (tests wait on it instead of sleeping).
    pub fn notify_polls(&self) -> u64 {
        self.notify_polls.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut t = String::new();
        t.push_str("# HELP strawfire_ingested_total Items ingested, by source and kind.\n");
        t.push_str("# TYPE strawfire_ingested_total counter\n");
        for ((source, kind), n) in self
            .ingested
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                t,
                "strawfire_ingested_total{{source=\"{}\",kind=\"{kind}\"}} {n}",
                escape(source)
            );
        }
        t.push_str("# HELP strawfire_errors_total Errors, by kind.\n");
        t.push_str("# TYPE strawfire_errors_total counter\n");
        for (kind, n) in self.errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(t, "strawfire_errors_total{{kind=\"{}\"}} {n}", escape(kind));
        }
        t.push_str("# HELP strawfire_events_total Fire events created or updated.\n");
        t.push_str("# TYPE strawfire_events_total counter\n");
        let _ = writeln!(
            t,
            "strawfire_events_total{{change=\"new\"}} {}",
            self.events_new.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            t,
            "strawfire_events_total{{change=\"updated\"}} {}",
            self.events_updated.load(Ordering::Relaxed)
        );
        t.push_str("# HELP strawfire_scan_seconds Time to scan one scene.\n");
        t.push_str("# TYPE strawfire_scan_seconds histogram\n");
        for (i, b) in SCAN_BUCKETS_S.iter().enumerate() {
            let _ = writeln!(
                t,
                "strawfire_scan_seconds_bucket{{le=\"{b}\"}} {}",
                self.scan_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.scan_count.load(Ordering::Relaxed);
        let _ = writeln!(t, "strawfire_scan_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            t,
            "strawfire_scan_seconds_sum {}",
            self.scan_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(t, "strawfire_scan_seconds_count {count}");
        t.push_str("# HELP strawfire_queue_depth Scenes waiting for or in a scan.\n");
        t.push_str("# TYPE strawfire_queue_depth gauge\n");
        let _ = writeln!(t, "strawfire_queue_depth {}", self.queue_depth());
        t.push_str(
            "# HELP strawfire_notify_attempts_total Webhook delivery attempts, by outcome.\n",
        );
        t.push_str("# TYPE strawfire_notify_attempts_total counter\n");
        for (outcome, c) in [
            ("delivered", &self.notify_delivered),
            ("retried", &self.notify_retried),
            ("gave_up", &self.notify_gave_up),
        ] {
            let _ = writeln!(
                t,
                "strawfire_notify_attempts_total{{outcome=\"{outcome}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        t.push_str("# HELP strawfire_notify_polls_total Passes of the delivery worker.\n");
        t.push_str("# TYPE strawfire_notify_polls_total counter\n");
        let _ = writeln!(t, "strawfire_notify_polls_total {}", self.notify_polls());
        t.push_str(
            "# HELP strawfire_notify_pending Notifications not yet delivered or given up.\n",
        );
        t.push_str("# TYPE strawfire_notify_pending gauge\n");
        let _ = writeln!(
            t,
            "strawfire_notify_pending {}",
            self.notify_pending.load(Ordering::Relaxed)
        );
        t.push_str(
            "# HELP strawfire_inbox_skipped_total Inbox entries skipped or refused, by reason.\n",
        );
        t.push_str("# TYPE strawfire_inbox_skipped_total counter\n");
        for (reason, n) in self
            .inbox_skipped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                t,
                "strawfire_inbox_skipped_total{{reason=\"{reason}\"}} {n}"
            );
        }
        t
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histogram_and_gauge() {
        let m = Metrics::default();
        m.ingested("post", "hotspot", 3);
        m.ingested("post", "hotspot", 2);
        m.error("scan");
        m.scan_time(Duration::from_millis(700));
        m.queue_add(2);
        let t = m.render();
        assert!(t.contains("strawfire_ingested_total{source=\"post\",kind=\"hotspot\"} 5"));
        assert!(t.contains("strawfire_errors_total{kind=\"scan\"} 1"));
        assert!(t.contains("strawfire_scan_seconds_bucket{le=\"0.5\"} 0"));
        assert!(t.contains("strawfire_scan_seconds_bucket{le=\"1\"} 1"));
        assert!(t.contains("strawfire_queue_depth 2"));
        use crate::store::deliveries::Recorded;
        m.notify_recorded(Recorded::Delivered {
            task_notified: true,
        });
        m.notify_recorded(Recorded::WillRetry);
        m.notify_recorded(Recorded::WillRetry);
        m.notify_recorded(Recorded::AlreadySettled);
        m.notify_pending(4);
        let t = m.render();
        assert!(t.contains("strawfire_notify_attempts_total{outcome=\"delivered\"} 1"));
        assert!(t.contains("strawfire_notify_attempts_total{outcome=\"retried\"} 2"));
        assert!(t.contains("strawfire_notify_attempts_total{outcome=\"gave_up\"} 0"));
        assert!(t.contains("strawfire_notify_pending 4"));
    }
}
