//! The delivery worker: outbox → webhooks, over HTTP, with retries.
//!
//! Every `poll_s` (real seconds) it expands new outbox rows into deliveries, claims the due ones
//! (due-ness is decided by `Service::clock()`, so tests move time instead of sleeping) and
//! starts one task per delivery that sends it and records the outcome; a receiver that hangs
//! until the timeout holds up no other. The claim commits the next attempt time before the
//! request leaves (see `store::deliveries`), so a crash or a shutdown mid-request re-sends later
//! with the same `Idempotency-Key`, never drops it. That lease is never shorter than the request
//! timeout, so a request still in flight is not claimed and sent a second time.
//!
//! What counts as what: 2xx is delivered, unless a chat robot answers 200 with a non-zero
//! `errcode` (WeCom and DingTalk report bad keys and rate limits that way); 5xx, connection
//! errors, timeouts and the 4xx that say "not now" rather than "never" are retried with
//! backoff, up to `max_attempts`: 404 (a gateway or robot bridge being redeployed answers 404
//! until its route is back, so one 404 must not lose a notice), 408, 409, 425 and 429. Any other
//! status (400 a body the receiver will never take, 401/403 a revoked key, 410 a robot that is
//! gone, 3xx) is given up at once, since repeating it cannot help.
//!
//! Webhook URLs often carry a secret (`?key=` of a robot), so logs and stored errors name the
//! webhook, never its URL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::backoff::{seed_of, Backoff};
use super::{render, Notice, NoticeKind};
use crate::config::{NotifyConfig, WebhookConfig, WebhookFormat};
use crate::service::{Service, ServiceError};
use crate::store::deliveries::{AttemptOutcome, ClaimedDelivery, Expansion, Recorded};

/// Deliveries in flight at once (each is its own task).
const MAX_IN_FLIGHT: usize = 64;
/// Outbox rows expanded per poll.
const EXPAND_BATCH: usize = 500;
/// Characters of a failed response body kept in `last_error`.
const ERROR_BODY_CHARS: usize = 200;

/// The webhooks a notice goes to ([`WebhookConfig::takes`]): by default those of its unit, and
/// for an escalation also those of the task's county; a webhook with `kinds` takes those kinds
/// of its unit's tasks and, for a county, of all the county's tasks. A `task_new` delivered to
/// any of them moves the task to `notified` (someone responsible was told).
///
/// A verdict with a photo also goes to each WeCom webhook (`markdown`, `text`) as a second
/// delivery, `<webhook>#photo`: the photo as an image message, retried and keyed on its own.
pub fn route(webhooks: &[WebhookConfig], n: &Notice) -> Vec<String> {
    let photo = matches!(n.kind, NoticeKind::Verdict { .. }) && n.photo_sha256.is_some();
    let mut out = Vec::new();
    for w in webhooks {
        if !w.takes(n.kind.name(), &n.unit, n.county.as_deref()) {
            continue;
        }
        out.push(w.name.clone());
        if photo && matches!(w.format, WebhookFormat::Markdown | WebhookFormat::Text) {
            out.push(format!("{}{PHOTO_PART}", w.name));
        }
    }
    out
}

/// The suffix of a webhook's photo delivery (webhook names cannot hold `#`).
pub const PHOTO_PART: &str = "#photo";

/// Decides an attempt from the HTTP status and, for chat robots, their `errcode` reply.
pub fn classify(status: u16, format: WebhookFormat, body: &str) -> AttemptOutcome {
    let snippet: String = body.chars().take(ERROR_BODY_CHARS).collect();
    match status {
        200..=299 => match robot_error(format, body) {
            None => AttemptOutcome::Delivered { status },
            Some((code, msg)) => AttemptOutcome::Failed {
                error: format!("robot errcode {code}: {msg}"),
                // -1 busy; 45009 WeCom and 130101 DingTalk: sending too fast.
                retry: matches!(code, -1 | 45009 | 130101),
            },
        },
        404 | 408 | 409 | 425 | 429 | 500..=599 => AttemptOutcome::Failed {
            error: format!("HTTP {status}: {snippet}"),
            retry: true,
        },
        _ => AttemptOutcome::Failed {
            error: format!("HTTP {status} (not retried): {snippet}"),
            retry: false,
        },
    }
}

/// The name of the unit with `code` in the admin layers, if one is loaded.
pub fn unit_name(layers: &[crate::locate::UnitLayer], code: &str) -> Option<String> {
    layers
        .iter()
        .flat_map(|l| l.units.iter())
        .find(|u| u.code == code)
        .map(|u| u.name.clone())
}

/// Names the notice's place (county, township, village) and parcel from the loaded layers, so
/// a patrol reads where to go without a map.
pub fn name_place(n: &mut crate::notify::Notice, placer: &dyn crate::fuse::Placer) {
    let p = placer.place(n.lon, n.lat, 0.0);
    let layers = placer.admin_layers();
    n.place = [&p.county, &p.township, &p.village]
        .into_iter()
        .flatten()
        .filter_map(|code| unit_name(layers, code))
        .collect();
    if n.parcel.is_none() {
        n.parcel = p.parcel;
    }
    // A task taken to another unit: that unit by name.
    if let crate::notify::NoticeKind::Cancelled {
        reassigned_to: Some(code),
        reassigned_to_name,
        ..
    } = &mut n.kind
    {
        if reassigned_to_name.is_none() {
            *reassigned_to_name = unit_name(layers, code);
        }
    }
}

/// A robot's `{"errcode": n, "errmsg": ..}` with n ≠ 0.
fn robot_error(format: WebhookFormat, body: &str) -> Option<(i64, String)> {
    if format == WebhookFormat::Json {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let code = v.get("errcode")?.as_i64()?;
    (code != 0).then(|| {
        let msg = v.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
        (code, msg.chars().take(ERROR_BODY_CHARS).collect())
    })
}

/// Sends one delivery and says what happened (never panics, never returns an error: every
/// failure is an outcome).
pub async fn send(
    client: &reqwest::Client,
    hook: &WebhookConfig,
    d: &ClaimedDelivery,
    loc: crate::i18n::Locale,
    public_url: Option<&str>,
) -> AttemptOutcome {
    let ctx = render::Context {
        loc,
        public_url,
        mention: &hook.mentioned_mobile_list,
    };
    let body = render::body(hook.format, &d.notice, &d.idempotency_key, &ctx);
    post(client, hook, d, &body).await
}

/// The verdict photo of a `<webhook>#photo` delivery as a WeCom image message: the photo the
/// notice names (a verdict sent back and reported again has another; then this one is given
/// up), if WeCom can take it (JPEG/PNG up to 2 MB).
pub async fn send_photo(
    client: &reqwest::Client,
    service: &Service,
    hook: &WebhookConfig,
    d: &ClaimedDelivery,
) -> AttemptOutcome {
    let give_up = |error: String| AttemptOutcome::Failed {
        error,
        retry: false,
    };
    let photo = match service.verdict_photo(d.notice.task_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return give_up(format!("task {} has no verdict photo", d.notice.task_id)),
        Err(e) => {
            return AttemptOutcome::Failed {
                error: crate::service::inbox::chain(&e),
                retry: true,
            }
        }
    };
    if d.notice.photo_sha256.as_deref() != Some(photo.sha256.as_str()) {
        return give_up(format!(
            "the verdict of task {} has another photo now",
            d.notice.task_id
        ));
    }
    match super::image::wecom_image(&photo.bytes) {
        Ok(body) => post(client, hook, d, &body).await,
        Err(e) => give_up(e.to_string()),
    }
}

/// POSTs `body` for delivery `d` to `hook` and classifies the answer.
async fn post(
    client: &reqwest::Client,
    hook: &WebhookConfig,
    d: &ClaimedDelivery,
    body: &serde_json::Value,
) -> AttemptOutcome {
    let mut req = client
        .post(&hook.url)
        .header(CONTENT_TYPE, "application/json; charset=utf-8")
        .header("Idempotency-Key", &d.idempotency_key)
        .header("X-Strawfire-Notice", d.notice.kind.name())
        .header("X-Strawfire-Attempt", d.attempt.to_string());
    for (k, v) in &hook.headers {
        // Validated with the config.
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            req = req.header(k, v);
        }
    }
    let sent = req
        .body(serde_json::to_vec(body).expect("a body serialises"))
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => {
            return AttemptOutcome::Failed {
                error: crate::service::inbox::chain(&e.without_url()),
                retry: true,
            }
        }
    };
    let status = resp.status().as_u16();
    // A robot's verdict is in the body; a body that breaks off after a 2xx status is still a
    // 2xx: the receiver took the request.
    let text = resp.text().await.unwrap_or_default();
    classify(status, hook.format, &text)
}

/// The worker.
pub struct Deliverer {
    service: Service,
    client: reqwest::Client,
    webhooks: Arc<Vec<WebhookConfig>>,
    by_name: HashMap<String, WebhookConfig>,
    backoff: Backoff,
    timeout: Duration,
    max_attempts: u32,
    poll: Duration,
    /// `[notify] public_url`: the task links in messages.
    public_url: Option<String>,
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub expansion: Expansion,
    /// Deliveries claimed and handed to a sender task.
    pub sent: usize,
}

impl Deliverer {
    pub fn new(
        service: Service,
        webhooks: &[WebhookConfig],
        cfg: &NotifyConfig,
    ) -> Result<Deliverer, reqwest::Error> {
        let timeout = Duration::from_secs_f64(cfg.timeout_s);
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("strawfire/", env!("CARGO_PKG_VERSION")))
            // A redirected POST becomes a GET in most clients: report the 3xx instead.
            .redirect(reqwest::redirect::Policy::none())
            // Notices are minutes apart; a kept-alive connection to a robot host is then
            // usually stale and its first reuse fails. A fresh connection per delivery.
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Deliverer {
            service,
            client,
            webhooks: Arc::new(webhooks.to_vec()),
            by_name: webhooks
                .iter()
                .map(|w| (w.name.clone(), w.clone()))
                .collect(),
            backoff: Backoff {
                base: Duration::from_secs_f64(cfg.backoff_base_s),
                max: Duration::from_secs_f64(cfg.backoff_max_s),
                jitter: cfg.jitter,
            },
            timeout,
            max_attempts: cfg.max_attempts,
            poll: Duration::from_secs_f64(cfg.poll_s),
            public_url: cfg.public_url.clone(),
        })
    }

    /// How long a claim holds a delivery: the backoff before the next attempt, but never less
    /// than a request can last, so an attempt still in flight is never claimed a second time.
    pub fn lease(&self, key: &str, attempt: u32) -> Duration {
        self.backoff
            .delay(attempt, seed_of(key))
            .max(self.timeout + Duration::from_secs(1))
    }

    /// Polls until `stop` turns true. Each delivery is sent by its own task, so one receiver
    /// that hangs until the timeout holds up no other. Requests in flight at shutdown are
    /// abandoned: their claims are committed, so the next run re-sends them (same key) once
    /// their lease has passed.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let me = Arc::new(self);
        let mut in_flight = JoinSet::new();
        loop {
            while in_flight.try_join_next().is_some() {}
            tokio::select! {
                r = me.poll_once(&mut in_flight) => {
                    if let Err(e) = r {
                        tracing::warn!("notify: {}", crate::service::inbox::chain(&e));
                    }
                }
                _ = stop.wait_for(|s| *s) => break,
            }
            tokio::select! {
                _ = tokio::time::sleep(me.poll) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        in_flight.abort_all();
    }

    /// One pass: expand the outbox, claim what is due (as many as there is room for in
    /// flight), and start a sender task per claimed delivery on `in_flight`.
    pub async fn poll_once(
        self: &Arc<Self>,
        in_flight: &mut JoinSet<()>,
    ) -> Result<PollReport, ServiceError> {
        let now = self.service.clock().now();
        let hooks = self.webhooks.clone();
        let expansion = self
            .service
            .store(move |s| s.expand_outbox(&|n| route(&hooks, n), now, EXPAND_BATCH))
            .await?;
        if !expansion.unreadable.is_empty() {
            self.service.metrics().error("notify");
            tracing::error!(
                "notify: outbox rows {:?} hold no readable notice; set aside, not delivered",
                expansion.unreadable
            );
        }
        if !expansion.notified_without_webhook.is_empty() {
            tracing::info!(
                "notify: {} task(s) notified without a webhook (patrol page only)",
                expansion.notified_without_webhook.len()
            );
        }
        // One live message for the pass: an ingest of hundreds of fires notifies hundreds of
        // tasks here at once, which, sent one by one, would overrun the hub's buffer and send
        // every open stream a `resync` (benches/service.rs --sse).
        self.service.live().publish_all(
            expansion
                .notified_without_webhook
                .iter()
                .map(|t| notified(t.id, t.county.as_deref(), &t.unit))
                .collect(),
        );
        let room = MAX_IN_FLIGHT.saturating_sub(in_flight.len());
        let mut sent = 0;
        if room > 0 {
            let (me, max) = (self.clone(), self.max_attempts);
            let claimed = self
                .service
                .store(move |s| {
                    s.claim_deliveries(now, room, max, &|key, attempt| me.lease(key, attempt))
                })
                .await?;
            sent = claimed.len();
            for d in claimed {
                let me = self.clone();
                in_flight.spawn(async move {
                    me.deliver(d).await;
                });
            }
        }
        let counts = self.service.store(|s| s.delivery_counts()).await?;
        self.service
            .metrics()
            .notify_pending((counts.pending + counts.unexpanded) as i64);
        Ok(PollReport { expansion, sent })
    }

    /// Sends one claimed delivery and records its outcome (None when recording failed: the
    /// lease then brings it back, with the same key).
    async fn deliver(&self, mut d: ClaimedDelivery) -> Option<Recorded> {
        // Dispatch stores codes; the patrol reads names: take the unit's from the loaded layers.
        let placer = self.service.placer();
        if d.notice.unit_name.is_none() {
            d.notice.unit_name = unit_name(placer.admin_layers(), &d.notice.unit);
        }
        if d.notice.place.is_empty() {
            name_place(&mut d.notice, placer.as_ref());
        }
        let loc = self.service.ui().locale();
        let (name, photo) = match d.webhook.strip_suffix(PHOTO_PART) {
            Some(name) => (name, true),
            None => (d.webhook.as_str(), false),
        };
        let outcome = match self.by_name.get(name) {
            Some(hook) if photo => send_photo(&self.client, &self.service, hook, &d).await,
            Some(hook) => send(&self.client, hook, &d, loc, self.public_url.as_deref()).await,
            None => AttemptOutcome::Failed {
                error: format!("webhook `{}` is no longer configured", d.webhook),
                retry: false,
            },
        };
        if let AttemptOutcome::Failed { error, .. } = &outcome {
            tracing::warn!(
                "notify: {} to webhook {} (attempt {}): {error}",
                d.idempotency_key,
                d.webhook,
                d.attempt
            );
        }
        let (id, max, now) = (d.id, self.max_attempts, self.service.clock().now());
        let recorded = self
            .service
            .store(move |s| s.record_attempt(id, &outcome, now, max))
            .await;
        match recorded {
            Ok(r) => {
                self.service.metrics().notify_recorded(r);
                if let Recorded::Delivered {
                    task_notified: true,
                } = r
                {
                    let n = &d.notice;
                    self.service
                        .live()
                        .publish(notified(n.task_id, n.county.as_deref(), &n.unit));
                }
                Some(r)
            }
            Err(e) => {
                tracing::error!(
                    "notify: cannot record {}: {}",
                    d.idempotency_key,
                    crate::service::inbox::chain(&e)
                );
                None
            }
        }
    }
}

/// A task moved new → notified: open pages hear it like any task change.
fn notified(id: i64, county: Option<&str>, unit: &str) -> crate::service::LiveUpdate {
    // Tasks go to townships (9-digit codes) or, without one, to the county.
    let level = if unit.len() == 9 {
        "township"
    } else {
        "county"
    };
    crate::service::LiveUpdate::Task {
        id,
        state: "notified".into(),
        units: crate::service::UnitTag::of_task(county, unit, level),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_name_comes_from_the_layer_that_holds_the_code() {
        use crate::locate::{AreaFeature, Level, UnitLayer};
        let unit = |code: &str, name: &str| AreaFeature {
            code: code.into(),
            name: name.into(),
            parent: None,
            cropland_ha: None,
            shape: geo::MultiPolygon::new(vec![]),
        };
        let layers = [
            UnitLayer::new(Level::County, vec![unit("410526", "滑县")]),
            UnitLayer::new(Level::Township, vec![unit("410526101", "道口镇")]),
        ];
        assert_eq!(unit_name(&layers, "410526101").as_deref(), Some("道口镇"));
        assert_eq!(unit_name(&layers, "410526").as_deref(), Some("滑县"));
        assert_eq!(unit_name(&layers, "410527"), None);
        assert_eq!(unit_name(&[], "410526"), None);
    }

    #[test]
    fn the_place_is_named_county_to_village_with_its_parcel() {
        use crate::fuse::{Placement, Placer};
        use crate::locate::{AreaFeature, Level, UnitLayer};
        let unit = |code: &str, name: &str| AreaFeature {
            code: code.into(),
            name: name.into(),
            parent: None,
            cropland_ha: None,
            shape: geo::MultiPolygon::new(vec![]),
        };
        struct Fixed(Vec<UnitLayer>);
        impl Placer for Fixed {
            fn place(&self, lon: f64, lat: f64, _: f64) -> Placement {
                assert_eq!((lon, lat), (114.5, 35.6));
                Placement {
                    county: Some("410526".into()),
                    township: Some("410526101".into()),
                    village: Some("410526101201".into()),
                    parcel: Some("HUA-07-211".into()),
                    mask: None,
                }
            }
            fn admin_layers(&self) -> &[UnitLayer] {
                &self.0
            }
        }
        let placer = Fixed(vec![
            UnitLayer::new(Level::County, vec![unit("410526", "滑县")]),
            UnitLayer::new(Level::Township, vec![unit("410526101", "道口镇")]),
            UnitLayer::new(Level::Village, vec![unit("410526101201", "东庄村")]),
        ]);
        let mut n = crate::notify::Notice::test(crate::notify::NoticeKind::TaskNew, 1, "410526101");
        name_place(&mut n, &placer);
        assert_eq!(n.place, ["滑县", "道口镇", "东庄村"]);
        assert_eq!(n.parcel.as_deref(), Some("HUA-07-211"));
    }

    fn hook(name: &str, unit: &str) -> WebhookConfig {
        WebhookConfig {
            name: name.into(),
            unit: unit.into(),
            url: "http://127.0.0.1:9/".into(),
            format: WebhookFormat::Json,
            headers: Default::default(),
            kinds: None,
            mentioned_mobile_list: Vec::new(),
        }
    }

    fn notice(kind: NoticeKind, unit: &str) -> Notice {
        Notice::test(kind, 1, unit)
    }

    #[test]
    fn notices_go_to_their_unit_and_escalations_to_the_county() {
        let hooks = [
            hook("town", "410526101"),
            hook("town2", "410526101"),
            hook("other-town", "410526100"),
            hook("county", "410526"),
            hook("other-county", "410527"),
        ];
        assert_eq!(
            route(&hooks, &notice(NoticeKind::TaskNew, "410526101")),
            ["town", "town2"]
        );
        let esc = NoticeKind::Escalation {
            deadline: "acknowledge".into(),
        };
        assert_eq!(route(&hooks, &notice(esc.clone(), "410526")), ["county"]);
        // An escalation addressed to the township still reaches the county's webhooks.
        assert_eq!(
            route(&hooks, &notice(esc, "410526100")),
            ["other-town", "county"]
        );
        assert!(route(&hooks, &notice(NoticeKind::TaskNew, "410526102")).is_empty());
    }

    #[test]
    fn a_county_group_subscribes_to_the_kinds_it_lists_for_all_its_townships() {
        let mut county = hook("county-all", "410526");
        county.kinds = Some(vec!["task_new".into(), "verdict".into()]);
        let mut town = hook("town-esc-only", "410526101");
        town.kinds = Some(vec!["escalation".into()]);
        let hooks = [county, town, hook("county-default", "410526")];
        // A new task of a township: the subscribing county group, not the default one.
        assert_eq!(
            route(&hooks, &notice(NoticeKind::TaskNew, "410526101")),
            ["county-all"]
        );
        let verdict = NoticeKind::Verdict {
            verdict: "burning".into(),
        };
        assert_eq!(route(&hooks, &notice(verdict, "410526102")), ["county-all"]);
        // Escalations: the default county hook as before; the county group did not list them.
        let esc = NoticeKind::Escalation {
            deadline: "on_site".into(),
        };
        assert_eq!(
            route(&hooks, &notice(esc.clone(), "410526")),
            ["county-default"]
        );
        assert_eq!(
            route(&hooks, &notice(esc, "410526101")),
            ["town-esc-only", "county-default"]
        );
        // Updates: nobody listed them, and the township's only hook takes escalations only.
        assert!(route(
            &hooks,
            &notice(NoticeKind::TaskUpdated { sightings: 2 }, "410526101")
        )
        .is_empty());
        // Another county's tasks are not this county's.
        let mut other = notice(NoticeKind::TaskNew, "410527100");
        other.county = Some("410527".into());
        assert!(route(&hooks, &other).is_empty());
    }

    #[test]
    fn a_verdict_photo_goes_to_wecom_groups_as_a_delivery_of_its_own() {
        let mut wecom = hook("town-wecom", "410526101");
        wecom.format = WebhookFormat::Markdown;
        let mut text = hook("town-text", "410526101");
        text.format = WebhookFormat::Text;
        let mut ding = hook("town-ding", "410526101");
        ding.format = WebhookFormat::Dingtalk;
        let hooks = [wecom, hook("town-json", "410526101"), text, ding];
        let mut n = notice(
            NoticeKind::Verdict {
                verdict: "burning".into(),
            },
            "410526101",
        );
        assert_eq!(
            route(&hooks, &n),
            ["town-wecom", "town-json", "town-text", "town-ding"]
        );
        n.photo_sha256 = Some("ab".into());
        assert_eq!(
            route(&hooks, &n),
            [
                "town-wecom",
                "town-wecom#photo",
                "town-json",
                "town-text",
                "town-text#photo",
                "town-ding"
            ]
        );
    }

    #[test]
    fn statuses_and_robot_replies_are_classified() {
        use AttemptOutcome::*;
        let j = WebhookFormat::Json;
        let m = WebhookFormat::Markdown;
        assert_eq!(classify(200, j, ""), Delivered { status: 200 });
        assert_eq!(classify(204, m, ""), Delivered { status: 204 });
        assert_eq!(
            classify(200, m, r#"{"errcode":0,"errmsg":"ok"}"#),
            Delivered { status: 200 }
        );
        // A JSON receiver's own `errcode` field means nothing to us.
        assert_eq!(
            classify(200, j, r#"{"errcode":7}"#),
            Delivered { status: 200 }
        );
        let retry = |o: AttemptOutcome| matches!(o, Failed { retry: true, .. });
        let give_up = |o: AttemptOutcome| matches!(o, Failed { retry: false, .. });
        for s in [404, 408, 409, 425, 429, 500, 502, 503, 504] {
            assert!(retry(classify(s, j, "busy")), "{s}");
        }
        for s in [301, 400, 401, 403, 405, 410, 413, 422] {
            assert!(give_up(classify(s, j, "no")), "{s}");
        }
        assert!(retry(classify(
            200,
            m,
            r#"{"errcode":45009,"errmsg":"api freq out of limit"}"#
        )));
        assert!(retry(classify(
            200,
            WebhookFormat::Dingtalk,
            r#"{"errcode":130101,"errmsg":"send too fast"}"#
        )));
        let bad_key = classify(
            200,
            m,
            r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#,
        );
        assert_eq!(
            bad_key,
            Failed {
                error: "robot errcode 93000: invalid webhook url".into(),
                retry: false
            }
        );
        match classify(503, j, &"x".repeat(5000)) {
            Failed { error, .. } => assert!(error.len() < 300, "{}", error.len()),
            other => panic!("{other:?}"),
        }
    }
}
