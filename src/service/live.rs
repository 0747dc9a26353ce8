//! Live updates for open dashboards and patrol pages: what changed, not the data itself. A page
//! that hears `hotspots` or `task` refetches what it shows through the normal (scoped) API, so the
//! stream never has to be the source of truth and a missed update costs one refresh, not a wrong
//! map.
//!
//! Why a tokio `broadcast` channel: publishers (the ingest path, later the task and verdict code)
//! must never wait for a slow browser; a subscriber that falls behind by more than
//! [`CAPACITY`] updates gets `Lagged` and is told to reload (`resync`) instead of blocking anyone.
//! Updates are published after the store commit, so a page that refetches sees the new rows.
//!
//! Each update carries the unit codes it concerns; [`LiveUpdate::visible_to`] cuts it down to
//! what a scope may see (a county token hears only its county's hotspots, a patrol only its
//! township's), the same rule as the list endpoints.
//!
//! What one node's thousands of streams cost (issue 19; `benches/service.rs -- --sse`): the
//! channel carries one [`Published`] message per change, shared (`Arc`), not a copy of it per
//! stream; an ingest's hotspots and every event it touched are one message (a batch touching
//! more events than [`CAPACITY`] would otherwise have sent every stream a `resync`); and each
//! message is cut to a scope and written as SSE text once per scope ([`Published::for_scope`]),
//! whatever the number of streams holding that scope.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tokio::sync::{broadcast, watch};

use crate::store::Scope;

/// Messages kept for a subscriber that is behind before it is told to resync.
pub const CAPACITY: usize = 256;

/// The units an update concerns: county adcode and township code (either may be unknown when no
/// locate layers are loaded; such updates reach only admins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitTag {
    pub county: Option<String>,
    pub township: Option<String>,
}

impl UnitTag {
    pub fn new(county: Option<String>, township: Option<String>) -> UnitTag {
        UnitTag { county, township }
    }

    /// The tag of a task: its county, and its unit when that is a township (a task of a county
    /// without township layers reaches no patrol).
    pub fn of_task(county: Option<&str>, unit: &str, unit_level: &str) -> UnitTag {
        UnitTag {
            county: county.map(str::to_string),
            township: (unit_level == "township").then(|| unit.to_string()),
        }
    }

    /// The same rule as the store's scoped queries.
    pub fn in_scope(&self, scope: &Scope) -> bool {
        match scope {
            Scope::All => true,
            Scope::County(c) => self.county.as_deref() == Some(c.as_str()),
            Scope::Township(t) => self.township.as_deref() == Some(t.as_str()),
        }
    }
}

/// One stored hotspot as a live update knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveHotspot {
    pub id: i64,
    pub lon: f64,
    pub lat: f64,
    pub units: UnitTag,
}

/// What changed.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveUpdate {
    /// New hotspots were stored (one ingest batch).
    Hotspots(Vec<LiveHotspot>),
    /// An event was created or updated.
    Event { id: i64, units: UnitTag },
    /// A task changed state (`new`, `notified`, `acknowledged`, `on_site`, `verified`, `closed`).
    Task {
        id: i64,
        state: String,
        units: UnitTag,
    },
    /// A verdict was filed for a task.
    Verdict { task_id: i64, units: UnitTag },
}

impl LiveUpdate {
    /// The SSE event name and JSON data of this update as `scope` may see it, or `None` when
    /// nothing of it is in scope. A hotspot batch is cut down to the hotspots in scope, and its
    /// count and bbox are those of the visible ones.
    pub fn visible_to(&self, scope: &Scope) -> Option<(&'static str, serde_json::Value)> {
        match self {
            LiveUpdate::Hotspots(all) => {
                let seen: Vec<&LiveHotspot> =
                    all.iter().filter(|h| h.units.in_scope(scope)).collect();
                if seen.is_empty() {
                    return None;
                }
                let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
                for h in &seen {
                    bbox[0] = bbox[0].min(h.lon);
                    bbox[1] = bbox[1].min(h.lat);
                    bbox[2] = bbox[2].max(h.lon);
                    bbox[3] = bbox[3].max(h.lat);
                }
                let ids: Vec<i64> = seen.iter().map(|h| h.id).collect();
                Some((
                    "hotspots",
                    json!({"count": ids.len(), "bbox": bbox, "ids": ids}),
                ))
            }
            LiveUpdate::Event { id, units } => {
                units.in_scope(scope).then(|| ("event", json!({"id": id})))
            }
            LiveUpdate::Task { id, state, units } => units
                .in_scope(scope)
                .then(|| ("task", json!({"id": id, "state": state}))),
            LiveUpdate::Verdict { task_id, units } => units
                .in_scope(scope)
                .then(|| ("verdict", json!({"task_id": task_id}))),
        }
    }
}

/// One SSE event as a scope sees it: its name and its data (JSON text).
#[derive(Debug, Clone, PartialEq)]
pub struct Visible {
    pub name: &'static str,
    pub data: String,
}

/// What the hub sends: the updates of one change (an ingest: its hotspots and the events it
/// touched, in that order), shared by every stream, with what each scope sees of them written
/// once.
#[derive(Debug)]
pub struct Published {
    updates: Vec<LiveUpdate>,
    by_scope: Mutex<HashMap<Scope, Arc<[Visible]>>>,
}

impl Published {
    pub fn new(updates: Vec<LiveUpdate>) -> Published {
        Published {
            updates,
            by_scope: Mutex::new(HashMap::new()),
        }
    }

    /// The updates, in the order they were published.
    pub fn updates(&self) -> &[LiveUpdate] {
        &self.updates
    }

    /// The events `scope` sees of these updates (possibly none), cut and written by the first
    /// stream of that scope that asks and shared with the others.
    pub fn for_scope(&self, scope: &Scope) -> Arc<[Visible]> {
        if let Some(v) = self.lock().get(scope) {
            return v.clone();
        }
        // Written outside the lock; two streams of one scope arriving together both write it,
        // and the second keeps the first's.
        let seen: Arc<[Visible]> = self
            .updates
            .iter()
            .filter_map(|u| u.visible_to(scope))
            .map(|(name, data)| Visible {
                name,
                data: data.to_string(),
            })
            .collect();
        self.lock().entry(scope.clone()).or_insert(seen).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Scope, Arc<[Visible]>>> {
        self.by_scope.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The hub: one per service, cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    tx: broadcast::Sender<Arc<Published>>,
    /// True once the service shuts down: open streams end, so a graceful shutdown (which waits
    /// for every response to finish) is not held up by a dashboard left open.
    closed: Arc<watch::Sender<bool>>,
    /// Set on PostgreSQL (#19): the updates of each change go to the store's live log as one
    /// row, and come back to this node's streams (and every other node's) through
    /// `service::relay` as one message.
    forward: Arc<std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Vec<LiveUpdate>>>>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    pub fn new() -> Live {
        let (tx, _) = broadcast::channel(CAPACITY);
        Live {
            tx,
            closed: Arc::new(watch::channel(false).0),
            forward: Arc::default(),
        }
    }

    /// Ends every open stream (at shutdown).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves once [`Live::close`] was called (at once if it already was).
    pub async fn closed(&self) {
        let mut rx = self.closed.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Tells every open stream. Call after the change is committed. Never blocks; with nobody
    /// listening the update is dropped.
    pub fn publish(&self, update: LiveUpdate) {
        self.publish_all(vec![update]);
    }

    /// Tells every open stream the updates of one change, as one message. On PostgreSQL they
    /// go to the live log together, as one row (`service::relay`: a delivery pass that notified
    /// 600 tasks is one row, not 600, and one message when it comes back), and come back
    /// through [`Live::deliver_all`].
    pub fn publish_all(&self, updates: Vec<LiveUpdate>) {
        if updates.is_empty() {
            return;
        }
        let updates = match self.forward.get() {
            Some(f) => match f.send(updates) {
                Ok(()) => return,
                // The forwarder stopped (shutdown): this node's streams at least.
                Err(e) => e.0,
            },
            None => updates,
        };
        self.deliver_all(updates);
    }

    /// Tells this node's open streams only (the relay, for updates read from the log).
    pub fn deliver(&self, update: LiveUpdate) {
        self.deliver_all(vec![update]);
    }

    /// [`Live::deliver`] for the updates of one change, as one message.
    pub fn deliver_all(&self, updates: Vec<LiveUpdate>) {
        if !updates.is_empty() {
            let _ = self.tx.send(Arc::new(Published::new(updates)));
        }
    }

    /// From now on [`Live::publish`] hands the updates of each change to `forward` (once;
    /// `false` if set before).
    pub fn forward_to(&self, forward: tokio::sync::mpsc::UnboundedSender<Vec<LiveUpdate>>) -> bool {
        self.forward.set(forward).is_ok()
    }

    /// A new listener, hearing what is published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }

    /// True when at least one stream is open (publishers skip the work of building an update
    /// nobody hears).
    pub fn has_listeners(&self) -> bool {
        // Forwarded updates reach other nodes' streams, which this node cannot count.
        self.forward.get().is_some() || self.tx.receiver_count() > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(c: &str, t: &str) -> UnitTag {
        UnitTag::new(Some(c.into()), Some(t.into()))
    }

    fn batch() -> LiveUpdate {
        LiveUpdate::Hotspots(vec![
            LiveHotspot {
                id: 1,
                lon: 114.5,
                lat: 35.4,
                units: tag("410526", "410526100"),
            },
            LiveHotspot {
                id: 2,
                lon: 114.6,
                lat: 35.6,
                units: tag("410526", "410526101"),
            },
            LiveHotspot {
                id: 3,
                lon: 116.9,
                lat: 35.8,
                units: tag("410527", "410527100"),
            },
            LiveHotspot {
                id: 4,
                lon: 100.0,
                lat: 30.0,
                units: UnitTag::default(),
            },
        ])
    }

    #[test]
    fn a_hotspot_batch_is_cut_to_the_scope() {
        let (name, all) = batch().visible_to(&Scope::All).unwrap();
        assert_eq!(name, "hotspots");
        assert_eq!(all["count"], 4);
        assert_eq!(all["bbox"], json!([100.0, 30.0, 116.9, 35.8]));

        let (_, county) = batch().visible_to(&Scope::County("410526".into())).unwrap();
        assert_eq!(county["ids"], json!([1, 2]));
        assert_eq!(county["bbox"], json!([114.5, 35.4, 114.6, 35.6]));

        let (_, patrol) = batch()
            .visible_to(&Scope::Township("410526101".into()))
            .unwrap();
        assert_eq!(patrol["ids"], json!([2]));
        assert_eq!(patrol["count"], 1);

        assert!(batch()
            .visible_to(&Scope::Township("410621100".into()))
            .is_none());
    }

    #[test]
    fn task_and_verdict_updates_reach_only_their_units() {
        let t = LiveUpdate::Task {
            id: 7,
            state: "acknowledged".into(),
            units: tag("410526", "410526101"),
        };
        assert_eq!(
            t.visible_to(&Scope::Township("410526101".into())),
            Some(("task", json!({"id": 7, "state": "acknowledged"})))
        );
        assert!(t.visible_to(&Scope::Township("410526100".into())).is_none());
        assert!(t.visible_to(&Scope::County("410527".into())).is_none());
        let v = LiveUpdate::Verdict {
            task_id: 7,
            units: tag("410526", "410526101"),
        };
        assert_eq!(
            v.visible_to(&Scope::County("410526".into())),
            Some(("verdict", json!({"task_id": 7})))
        );
        let e = LiveUpdate::Event {
            id: 3,
            units: UnitTag::default(),
        };
        assert!(e.visible_to(&Scope::All).is_some());
        assert!(e.visible_to(&Scope::County("410526".into())).is_none());
    }

    #[test]
    fn a_task_reaches_its_township_patrol_only_when_assigned_to_a_township() {
        let t = UnitTag::of_task(Some("410526"), "410526101", "township");
        assert!(t.in_scope(&Scope::Township("410526101".into())));
        assert!(t.in_scope(&Scope::County("410526".into())));
        let c = UnitTag::of_task(Some("410526"), "410526", "county");
        assert!(!c.in_scope(&Scope::Township("410526101".into())));
        assert!(c.in_scope(&Scope::County("410526".into())));
    }

    #[tokio::test]
    async fn subscribers_hear_what_is_published_after_they_subscribe() {
        let live = Live::new();
        assert!(!live.has_listeners());
        live.publish(LiveUpdate::Event {
            id: 1,
            units: UnitTag::default(),
        });
        let mut rx = live.subscribe();
        assert!(live.has_listeners());
        live.publish(LiveUpdate::Event {
            id: 2,
            units: UnitTag::default(),
        });
        match rx.recv().await.unwrap().updates() {
            [LiveUpdate::Event { id, .. }] => assert_eq!(*id, 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_message_is_cut_once_per_scope_and_keeps_its_order() {
        let p = Published::new(vec![
            batch(),
            LiveUpdate::Event {
                id: 9,
                units: tag("410526", "410526101"),
            },
            LiveUpdate::Event {
                id: 10,
                units: tag("410527", "410527100"),
            },
        ]);
        let county = Scope::County("410526".into());
        let seen = p.for_scope(&county);
        let names: Vec<&str> = seen.iter().map(|v| v.name).collect();
        assert_eq!(names, ["hotspots", "event"]);
        assert_eq!(seen[1].data, r#"{"id":9}"#);
        assert!(
            Arc::ptr_eq(&seen, &p.for_scope(&county)),
            "written once, shared"
        );
        assert_eq!(p.for_scope(&Scope::All).len(), 3);
        assert!(p.for_scope(&Scope::Township("410621100".into())).is_empty());
    }
}
