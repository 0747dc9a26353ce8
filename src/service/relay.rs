//! Live updates across several API nodes and workers on one PostgreSQL store (#19).
//!
//! Every process writes what changed into the store's live log (`store::jobs::LiveLog`): an
//! ingest batch in its own transaction (`store/postgres/live.rs`), any other update (a task
//! changed, a delivery moved a task to `notified`, an escalation) right after its commit through
//! [`forward`]. Every API node runs [`relay`]: a connection of its own `LISTEN`s, and on each
//! wake-up (and every half second in any case) the node reads the log after the last row it
//! relayed and hands each update to its own streams ([`Live::deliver`]). So a node's SSE
//! clients hear every batch committed anywhere, its own included, once; a node whose listening
//! connection broke reconnects and catches up from its last row (rows are kept an hour).
//!
//! The row format is small JSON: an ingest batch `{"hotspots": [[id, lon, lat, county,
//! township]...], "events": [...]}`, any other update `{"update": ...}` ([`encode`]), the
//! updates of one change (a delivery pass's tasks) `{"updates": [...]}` ([`encode_all`]): one
//! row and one `NOTIFY` per change, not per update. The forwarder also puts the changes that
//! queued while it was writing into one row (each is still told, as one message), so a burst
//! of changes costs a few log transactions, not one each under the log's lock.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use super::live::{Live, LiveHotspot, LiveUpdate, UnitTag};
use crate::store::jobs::LiveLog;

/// How long the relay waits for a wake-up before it looks at the log anyway.
const WAIT: Duration = Duration::from_millis(500);
/// Rows read at once.
const PAGE: usize = 1000;
/// At most this many queued updates go into one row of the forwarder.
const COALESCE: usize = 1000;

fn units(v: &Value, county: usize, township: usize) -> UnitTag {
    let s = |i: usize| v.get(i).and_then(Value::as_str).map(str::to_string);
    UnitTag::new(s(county), s(township))
}

fn tag_json(u: &UnitTag) -> Value {
    json!([u.county, u.township])
}

/// An update other than an ingest batch as a log row.
pub fn encode(update: &LiveUpdate) -> Value {
    let u = match update {
        LiveUpdate::Hotspots(hs) => {
            let rows: Vec<Value> = hs
                .iter()
                .map(|h| json!([h.id, h.lon, h.lat, h.units.county, h.units.township]))
                .collect();
            return json!({"hotspots": rows, "events": []});
        }
        LiveUpdate::Event { id, units } => json!({"t": "event", "id": id, "u": tag_json(units)}),
        LiveUpdate::Task { id, state, units } => {
            json!({"t": "task", "id": id, "state": state, "u": tag_json(units)})
        }
        LiveUpdate::Verdict { task_id, units } => {
            json!({"t": "verdict", "id": task_id, "u": tag_json(units)})
        }
    };
    json!({ "update": u })
}

/// Several updates (one change's, or changes queued together) as one log row; one update as
/// [`encode`] writes it.
pub fn encode_all(updates: &[LiveUpdate]) -> Value {
    match updates {
        [one] => encode(one),
        _ => json!({ "updates": updates.iter().map(encode).collect::<Vec<_>>() }),
    }
}

/// The updates of a log row (an unreadable row: none).
pub fn decode(body: &Value) -> Vec<LiveUpdate> {
    if let Some(all) = body.get("updates").and_then(Value::as_array) {
        return all.iter().flat_map(decode).collect();
    }
    if let Some(u) = body.get("update") {
        let id = u.get("id").and_then(Value::as_i64).unwrap_or(0);
        let tag = u.get("u").map(|t| units(t, 0, 1)).unwrap_or_default();
        let one = match u.get("t").and_then(Value::as_str) {
            Some("event") => LiveUpdate::Event { id, units: tag },
            Some("task") => LiveUpdate::Task {
                id,
                state: u
                    .get("state")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                units: tag,
            },
            Some("verdict") => LiveUpdate::Verdict {
                task_id: id,
                units: tag,
            },
            _ => return Vec::new(),
        };
        return vec![one];
    }
    let rows = |k: &str| body.get(k).and_then(Value::as_array).cloned();
    let mut out = Vec::new();
    let hotspots: Vec<LiveHotspot> = rows("hotspots")
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            Some(LiveHotspot {
                id: r.get(0)?.as_i64()?,
                lon: r.get(1)?.as_f64()?,
                lat: r.get(2)?.as_f64()?,
                units: units(r, 3, 4),
            })
        })
        .collect();
    if !hotspots.is_empty() {
        out.push(LiveUpdate::Hotspots(hotspots));
    }
    for r in rows("events").unwrap_or_default() {
        if let Some(id) = r.get(0).and_then(Value::as_i64) {
            out.push(LiveUpdate::Event {
                id,
                units: units(&r, 3, 4),
            });
        }
    }
    out
}

/// Makes `live` write what it publishes into the log (a task on the runtime appends each
/// update after the change that made it committed; if the log cannot be written the update
/// goes to this node's streams only, and a warning is logged).
pub fn forward(live: &Live, log: Arc<dyn LiveLog>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<LiveUpdate>>();
    if !live.forward_to(tx) {
        return;
    }
    let local = live.clone();
    tokio::spawn(async move {
        while let Some(mut updates) = rx.recv().await {
            // Changes that queued while the last row was written go into this one.
            while updates.len() < COALESCE {
                match rx.try_recv() {
                    Ok(more) => updates.extend(more),
                    Err(_) => break,
                }
            }
            let log = log.clone();
            let body = encode_all(&updates);
            let written = tokio::task::spawn_blocking(move || log.append_live(&body)).await;
            match written {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!("live log: {e}; told to this node's streams only");
                    local.deliver_all(updates);
                }
                Err(e) => {
                    tracing::warn!("live log: {e}");
                    local.deliver_all(updates);
                }
            }
        }
    });
}

/// Relays the log to this node's streams until `stop` turns true (see the module doc). Runs
/// on a thread of its own: the listening connection blocks.
pub async fn relay(live: Live, log: Arc<dyn LiveLog>, stop: watch::Receiver<bool>) {
    // Stopped when told so, or when the sender is gone (the `Running` dropped without a
    // shutdown, e.g. by a panicking test): a blocking loop that outlived it would keep the
    // runtime's shutdown waiting for ever.
    let stopped = |s: &watch::Receiver<bool>| *s.borrow() || s.has_changed().is_err();
    let run = tokio::task::spawn_blocking(move || {
        // Streams hear what happens from now on, as in one process.
        let mut last = loop {
            match log.live_head() {
                Ok(h) => break h,
                Err(e) => {
                    tracing::warn!("live relay: {e}; retrying");
                    if stopped(&stop) {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        };
        let mut listener = None;
        while !stopped(&stop) {
            if listener.is_none() {
                match log.listen_live() {
                    Ok(l) => listener = Some(l),
                    Err(e) => tracing::warn!("live relay: {e}; polling until it is back"),
                }
            }
            let waited = match listener.as_mut() {
                Some(l) => l.wait(WAIT),
                None => {
                    std::thread::sleep(WAIT);
                    Ok(false)
                }
            };
            if let Err(e) = waited {
                tracing::warn!("live relay: {e}; listening again");
                listener = None;
            }
            // Read on every round: a wake-up lost with a broken connection costs a delay only.
            loop {
                let rows = match log.live_after(last, PAGE) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("live relay: {e}");
                        break;
                    }
                };
                let full = rows.len() == PAGE;
                for (id, body) in rows {
                    // One message per logged change, as `Live::publish_all` in one process.
                    live.deliver_all(decode(&body));
                    last = id;
                }
                if !full {
                    break;
                }
            }
        }
    });
    let _ = run.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Placed;

    #[test]
    fn updates_survive_the_log() {
        let tag = UnitTag::new(Some("410526".into()), Some("410526101".into()));
        for u in [
            LiveUpdate::Event {
                id: 3,
                units: tag.clone(),
            },
            LiveUpdate::Task {
                id: 7,
                state: "notified".into(),
                units: UnitTag::new(Some("410526".into()), None),
            },
            LiveUpdate::Verdict {
                task_id: 7,
                units: tag.clone(),
            },
            LiveUpdate::Hotspots(vec![LiveHotspot {
                id: 1,
                lon: 114.5,
                lat: 35.5,
                units: tag.clone(),
            }]),
        ] {
            assert_eq!(decode(&encode(&u)), vec![u]);
        }
        assert!(decode(&json!({"update": {"t": "unknown"}})).is_empty());
    }

    #[test]
    fn the_updates_of_one_change_are_one_row() {
        let units = UnitTag::new(Some("410526".into()), None);
        let tasks: Vec<LiveUpdate> = (1..=600)
            .map(|id| LiveUpdate::Task {
                id,
                state: "notified".into(),
                units: units.clone(),
            })
            .collect();
        let row = encode_all(&tasks);
        assert_eq!(row["updates"].as_array().map(Vec::len), Some(600));
        assert_eq!(decode(&row), tasks);
        // One update keeps the one-update row (read by nodes of the version before).
        assert_eq!(encode_all(&tasks[..1]), encode(&tasks[0]));
        assert_eq!(decode(&encode_all(&[])), Vec::new());
    }

    #[tokio::test]
    async fn a_change_is_forwarded_whole() {
        let live = Live::new();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        assert!(live.forward_to(tx));
        let task = |id| LiveUpdate::Task {
            id,
            state: "notified".into(),
            units: UnitTag::default(),
        };
        live.publish_all(vec![task(1), task(2), task(3)]);
        live.publish(task(4));
        live.publish_all(Vec::new());
        assert_eq!(rx.recv().await, Some(vec![task(1), task(2), task(3)]));
        assert_eq!(rx.recv().await, Some(vec![task(4)]));
        assert!(rx.try_recv().is_err());
    }

    #[test]
    fn a_batch_row_is_its_hotspots_then_its_events() {
        let p = |id| Placed {
            id,
            lon: 114.0,
            lat: 35.0,
            county: Some("410526".into()),
            township: None,
        };
        let body = crate::store::jobs::batch_body(&[p(1), p(2)], &[p(9)]);
        let got = decode(&body);
        assert_eq!(got.len(), 2);
        match &got[0] {
            LiveUpdate::Hotspots(h) => {
                assert_eq!(h.iter().map(|h| h.id).collect::<Vec<_>>(), [1, 2]);
                assert_eq!(h[0].units, UnitTag::new(Some("410526".into()), None));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(got[1], LiveUpdate::Event { id: 9, .. }));
        // A batch of events only (an alert joining an event): no empty hotspot update.
        let body = crate::store::jobs::batch_body(&[], &[p(4)]);
        assert_eq!(decode(&body).len(), 1);
    }
}
