//! Tasks (#19): moves, escalations, idempotency keys, verdicts with their evidence, mask
//! candidates and precision on both stores (these were SQLite's own tests in `sqlite/tasks.rs`),
//! with the races several API nodes bring: one task changed at once from several places,
//! escalation sweeps on several nodes at once.

use super::*;

both_stores!(
    task_moves_are_checked_audited_and_escalated_once,
    an_idempotency_key_makes_its_change_once,
    idempotency_keys_past_their_retention_are_pruned,
    concurrent_changes_of_one_task_apply_once,
    verdicts_are_checked_for_reused_photos_and_far_positions,
    no_fire_verdicts_propose_one_mask_candidate_per_place,
    concurrent_sweeps_escalate_each_deadline_once,
    precision_counts_ground_truth_per_source,
);

/// A patrol of township 410526100 (west of 114.5 in [`Halves`]).
fn patrol() -> tasks::Actor {
    tasks::Actor {
        id: "token:abc".into(),
        role: "patrol:410526100".into(),
    }
}

/// The task of the event a dispatched ingest of one hotspot at (`lon`, `lat`, `t`) makes,
/// ingested at `t`.
fn task_at(b: &Backend, sha: &str, lon: f64, lat: f64, t: DateTime<Utc>) -> tasks::StoredTask {
    let store = b.store();
    let r = store
        .ingest_dispatched(
            &feed(sha, vec![hotspot(lon, lat, t, 5.0)]),
            &FuseParams::default(),
            &Halves,
            &crate::dispatch::TaskRules::default(),
            t,
        )
        .unwrap();
    let event = r.event_ids[0];
    store
        .tasks(&tasks::TaskQuery::default())
        .unwrap()
        .into_iter()
        .find(|t| t.event_id == event)
        .expect("a task for the event")
}

/// A verdict at (`lon`, `lat`) with a photo of hash `sha` and dHash `dhash`, reported at `at`.
fn verdict(
    v: crate::dispatch::Verdict,
    lon: f64,
    lat: f64,
    sha: &str,
    dhash: u64,
    at: DateTime<Utc>,
) -> tasks::NewVerdict {
    tasks::NewVerdict {
        verdict: v,
        reported_at: at,
        lon,
        lat,
        note: Some("看过了".into()),
        photo: crate::verify::PhotoPrint {
            sha256: sha.into(),
            dhash,
            exif: Default::default(),
        },
        photo_path: format!("photos/{sha}.jpg"),
        photo_bytes: 1234,
    }
}

/// Moves are checked by the state machine and audited (with when the patrol acted, if not when
/// it arrived); a missed deadline is escalated once, to the county; the audit log refuses edits.
fn task_moves_are_checked_audited_and_escalated_once(b: &Backend) {
    use crate::dispatch::{Deadline, TaskState};
    use tasks::{Acted, TaskChange, TaskError};
    let store = b.store();
    let t = t0() + chrono::Duration::hours(5);
    let task = task_at(b, "m1", 114.2, 35.1, t);
    let (id, who) = (task.id, patrol());
    let e = store
        .change_task(id, TaskChange::Close, &who, t)
        .unwrap_err();
    assert!(matches!(e, TaskError::Illegal(_)), "{e}");
    let e = store
        .change_task(id + 1000, TaskChange::Acknowledge, &who, t)
        .unwrap_err();
    assert!(matches!(e, TaskError::NotFound { .. }), "{e}");
    let before = task.ack_due - chrono::Duration::minutes(1);
    assert!(store.escalate_due(before).unwrap().is_empty());
    let after = task.ack_due + chrono::Duration::minutes(1);
    assert_eq!(
        store.escalate_due(after).unwrap(),
        vec![(id, Deadline::Acknowledge)]
    );
    assert!(store
        .escalate_due(after + chrono::Duration::minutes(1))
        .unwrap()
        .is_empty());
    // Acknowledged on the phone before the escalation, arriving after it.
    let acted_at = task.ack_due - chrono::Duration::seconds(30);
    let arrived = after + chrono::Duration::minutes(2);
    let acted = Acted {
        at: Some(acted_at),
        key: None,
    };
    let a = store
        .change_task_as(id, TaskChange::Acknowledge, &who, arrived, &acted)
        .unwrap();
    assert_eq!(a.state, TaskState::Acknowledged);
    assert_eq!(a.milestones.acknowledged_at, Some(acted_at));
    assert_eq!(a.escalations, vec!["acknowledge".to_string()]);
    assert_eq!(a.updated_at, arrived);
    // Delivery confirmed after the acknowledgement: refused, and the task stays acknowledged.
    assert!(store
        .change_task(id, TaskChange::Notified, &tasks::Actor::system(), arrived)
        .is_err());
    let s = store
        .change_task(
            id,
            TaskChange::OnSite {
                lon: 114.2,
                lat: 35.11,
            },
            &who,
            arrived,
        )
        .unwrap();
    assert_eq!(s.state, TaskState::OnSite);
    let audit = store.audit("task", id).unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["create", "escalate", "acknowledge", "on_site"]);
    assert_eq!(audit[1].detail["to"], "410526");
    assert_eq!(audit[2].at, arrived);
    assert_eq!(audit[2].actor, "token:abc");
    assert_eq!(audit[2].detail["acted_at"], acted_at.to_rfc3339());
    assert_eq!(
        (audit[2].from_state.as_deref(), audit[2].to_state.as_deref()),
        (Some("new"), Some("acknowledged"))
    );
    assert_eq!(audit[3].detail["distance_m"], 1112.0);
    let page = store.audit_page("task", id, Some(audit[1].id), 1).unwrap();
    assert_eq!(page, vec![audit[2].clone()]);
    let escalations: Vec<String> = b
        .outbox()
        .into_iter()
        .filter(|n| n.starts_with("escalation"))
        .collect();
    assert_eq!(escalations, ["escalation 410526"]);
    assert!(!b.try_execute("UPDATE audit SET actor = 'x'"));
    assert!(!b.try_execute("DELETE FROM audit"));
    assert_eq!(store.audit("task", id).unwrap().len(), 4);
}

/// A change claims its idempotency key in its own transaction: the second request with the key
/// changes nothing (`Replayed`) and finds the first one's answer; a refused change leaves the
/// key unclaimed; another token's key of the same name is another key.
fn an_idempotency_key_makes_its_change_once(b: &Backend) {
    use crate::dispatch::{TaskState, Verdict};
    use crate::store::idempotency::IdempotencyKey;
    use tasks::{Acted, TaskChange, TaskError};
    let store = b.store();
    let t = t0() + chrono::Duration::hours(5);
    let task = task_at(b, "i1", 114.2, 35.1, t);
    let who = patrol();
    let key = |k: &str, route: &str, actor: &str| IdempotencyKey {
        actor: actor.into(),
        key: k.into(),
        route: route.into(),
        task_id: task.id,
        request_sha256: format!("sha-of-{route}"),
    };
    let acted = |k: IdempotencyKey| Acted {
        at: None,
        key: Some(k),
    };
    // Refused (a close before any verdict): the key stays free.
    let e = store
        .change_task_as(
            task.id,
            TaskChange::Close,
            &who,
            t,
            &acted(key("k2", "close", &who.id)),
        )
        .unwrap_err();
    assert!(matches!(e, TaskError::Illegal(_)), "{e}");
    assert_eq!(store.idempotency_key(&who.id, "k2").unwrap(), None);

    let k1 = key("k1", "ack", &who.id);
    let a = store
        .change_task_as(
            task.id,
            TaskChange::Acknowledge,
            &who,
            t,
            &acted(k1.clone()),
        )
        .unwrap();
    assert_eq!(a.state, TaskState::Acknowledged);
    let e = store
        .change_task_as(
            task.id,
            TaskChange::Acknowledge,
            &who,
            t,
            &acted(k1.clone()),
        )
        .unwrap_err();
    assert!(
        matches!(e, TaskError::Replayed { ref key } if key == "k1"),
        "{e}"
    );
    let stored = store.idempotency_key(&who.id, "k1").unwrap().unwrap();
    assert!(stored.same_request(&k1));
    assert!(!stored.same_request(&key("k1", "verdict", &who.id)));
    assert_eq!(stored.answer, None);
    store
        .idempotent_answer(&who.id, "k1", 200, &serde_json::json!({"n": 1}))
        .unwrap();
    store
        .idempotent_answer(&who.id, "k1", 201, &serde_json::json!({"n": 2}))
        .unwrap();
    let stored = store.idempotency_key(&who.id, "k1").unwrap().unwrap();
    assert_eq!(stored.answer, Some((200, serde_json::json!({"n": 1}))));

    // Another token's "k1" is its own key; its verdict replayed is recorded once.
    let county = tasks::Actor {
        id: "token:def".into(),
        role: "county:410526".into(),
    };
    let k1c = key("k1", "verdict", &county.id);
    let rules = crate::dispatch::TaskRules::default();
    let v = verdict(Verdict::Burning, 114.2, 35.1, "p1", 0, t);
    let out = store
        .record_verdict_as(task.id, &v, &county, &rules, t, Some(&k1c))
        .unwrap();
    assert_eq!(out.task.state, TaskState::Verified);
    let e = store
        .record_verdict_as(task.id, &v, &county, &rules, t, Some(&k1c))
        .unwrap_err();
    assert!(matches!(e, TaskError::Replayed { .. }), "{e}");
    assert_eq!(b.count("verdicts"), 1);
    assert_eq!(b.count("idempotency_keys"), 2);
    let actions: Vec<String> = store
        .audit("task", task.id)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["create", "acknowledge", "verdict"]);
}

/// The sweep's pruning removes the keys claimed before the cut and only those (a key claimed
/// at the cut stays), with their answers; a pruned key's replay is then refused by the task's
/// state, not applied again.
fn idempotency_keys_past_their_retention_are_pruned(b: &Backend) {
    use crate::dispatch::TaskState;
    use crate::store::idempotency::IdempotencyKey;
    use tasks::{Acted, TaskChange, TaskError};
    let store = b.store();
    let t = t0() + chrono::Duration::hours(5);
    let later = t + chrono::Duration::days(8);
    let old = task_at(b, "p1", 114.2, 35.1, t);
    let new = task_at(b, "p2", 114.3, 35.2, later);
    let who = patrol();
    let acted = |k: &str, task_id: i64| Acted {
        at: None,
        key: Some(IdempotencyKey {
            actor: who.id.clone(),
            key: k.into(),
            route: "ack".into(),
            task_id,
            request_sha256: "sha".into(),
        }),
    };
    let ack = |id: i64, k: &str, at: DateTime<Utc>| {
        store.change_task_as(id, TaskChange::Acknowledge, &who, at, &acted(k, id))
    };
    assert_eq!(
        ack(old.id, "old", t).unwrap().state,
        TaskState::Acknowledged
    );
    store
        .idempotent_answer(&who.id, "old", 200, &serde_json::json!({"n": 1}))
        .unwrap();
    assert_eq!(
        ack(new.id, "new", later).unwrap().state,
        TaskState::Acknowledged
    );
    assert_eq!(b.count("idempotency_keys"), 2);

    // Nothing is older than the first claim.
    assert_eq!(store.prune_idempotency_keys(t).unwrap(), 0);
    let cut = later - chrono::Duration::days(7);
    assert_eq!(store.prune_idempotency_keys(cut).unwrap(), 1);
    assert_eq!(store.idempotency_key(&who.id, "old").unwrap(), None);
    assert!(store.idempotency_key(&who.id, "new").unwrap().is_some());
    assert_eq!(store.prune_idempotency_keys(later).unwrap(), 0);
    assert_eq!(b.count("idempotency_keys"), 1);
    // The old key's replay is no longer answered from the key: the task is acknowledged, so
    // the move is refused; one acknowledgement stays in the audit log.
    let e = ack(old.id, "old", later).unwrap_err();
    assert!(matches!(e, TaskError::Illegal(_)), "{e}");
    let acks = store
        .audit("task", old.id)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "acknowledge")
        .count();
    assert_eq!(acks, 1);
}

/// The same move sent at once from several places (two tabs, two API nodes) is made once:
/// one acknowledgement succeeds, the others find the task acknowledged.
fn concurrent_changes_of_one_task_apply_once(b: &Backend) {
    use tasks::{TaskChange, TaskError};
    let store = b.store();
    let t = t0() + chrono::Duration::hours(5);
    let task = task_at(b, "c1", 114.2, 35.1, t);
    let results: Vec<Result<tasks::StoredTask, TaskError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| store.change_task(task.id, TaskChange::Acknowledge, &patrol(), t)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(results
        .iter()
        .all(|r| r.is_ok() || matches!(r, Err(TaskError::Illegal(_)))));
    let acks = store
        .audit("task", task.id)
        .unwrap()
        .iter()
        .filter(|a| a.action == "acknowledge")
        .count();
    assert_eq!(acks, 1);
}

/// A verdict runs the evidence checks against every other verdict's photo: a photo already
/// used for another task and a position far from the event are flagged for review, stored
/// with the verdict, told in its notice and listed by `review`; the patrol's record, the
/// photo's references and the verdict as stored read back alike.
fn verdicts_are_checked_for_reused_photos_and_far_positions(b: &Backend) {
    use crate::dispatch::{TaskState, Verdict};
    use crate::verify::Flag;
    use tasks::{TaskChange, TaskError};
    let store = b.store();
    let rules = crate::dispatch::TaskRules::default();
    let t = t0() + chrono::Duration::hours(5);
    let first = task_at(b, "v1", 114.2, 35.1, t);
    let second = task_at(b, "v2", 114.3, 35.3, t);
    let who = patrol();
    let later = t + chrono::Duration::minutes(3);
    for id in [first.id, second.id] {
        store
            .change_task(id, TaskChange::Acknowledge, &who, later)
            .unwrap();
    }
    let at = later + chrono::Duration::minutes(20);
    let clean = verdict(Verdict::Burning, 114.2001, 35.1, "aa11", 0, at);
    let out = store
        .record_verdict(first.id, &clean, &who, &rules, at)
        .unwrap();
    assert_eq!(out.task.state, TaskState::Verified);
    assert_eq!(out.task.verdict, Some(Verdict::Burning));
    assert!(!out.verdict.review && out.verdict.flags.is_empty());
    assert_eq!(out.candidate, None);
    assert!(out.verdict.distance_m > 5.0 && out.verdict.distance_m < 15.0);
    assert_eq!(
        store.verdict_of(first.id).unwrap(),
        Some(out.verdict.clone())
    );

    // The same photo again, 5 km from the second fire.
    let copied = verdict(Verdict::Burning, 114.3, 35.345, "aa11", 0, at);
    let out2 = store
        .record_verdict(second.id, &copied, &who, &rules, at)
        .unwrap();
    assert!(out2.verdict.review && out2.task.review);
    let flags: Vec<&Flag> = out2.verdict.flags.iter().map(|f| &f.flag).collect();
    assert!(
        matches!(flags[..], [Flag::PhotoIdentical { other_task }, Flag::FarFromEvent { .. }]
            if *other_task == first.id),
        "{flags:?}"
    );
    assert!(out2.verdict.flags[0].reason.contains("byte-identical"));
    let back = store.verdict_of(second.id).unwrap().unwrap();
    assert_eq!(back, out2.verdict);
    assert_eq!(back.photo_bytes, 1234);
    assert_eq!(back.note.as_deref(), Some("看过了"));
    assert_eq!(back.received_at, at);
    let flagged: Vec<i64> = store
        .tasks(&tasks::TaskQuery {
            review: Some(true),
            ..tasks::TaskQuery::default()
        })
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(flagged, vec![second.id]);
    let notices = b.texts("SELECT notice FROM outbox WHERE kind = 'verdict' ORDER BY id");
    assert_eq!(notices.len(), 2);
    let n: crate::notify::Notice = serde_json::from_str(&notices[1]).unwrap();
    assert_eq!(n.review, ["photo_identical", "far_from_event"]);
    assert_eq!(n.photo_sha256.as_deref(), Some("aa11"));
    assert_eq!(n.note.as_deref(), Some("看过了"));
    assert_eq!(n.unit, "410526100");
    let audit = store.audit("task", second.id).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "verdict");
    assert_eq!(last.detail["review"], true);
    assert_eq!(last.detail["verdict_id"], out2.verdict.id);

    assert_eq!(store.photo_refs("aa11").unwrap(), 2);
    assert_eq!(store.photo_refs("bb22").unwrap(), 0);
    let mine = store.verdicts_by(&who.id, 10).unwrap();
    let ids: Vec<i64> = mine.iter().map(|(t, _)| t.id).collect();
    assert_eq!(ids, vec![second.id, first.id], "newest first");
    assert_eq!(mine[0].1, out2.verdict);
    assert_eq!(store.verdicts_by(&who.id, 1).unwrap().len(), 1);
    assert!(store.verdicts_by("token:nobody", 10).unwrap().is_empty());

    let e = store
        .record_verdict(first.id, &clean, &who, &rules, at)
        .unwrap_err();
    assert!(matches!(e, TaskError::Illegal(_)), "{e}");
    let e = store
        .record_verdict(second.id + 1000, &clean, &who, &rules, at)
        .unwrap_err();
    assert!(matches!(e, TaskError::NotFound { .. }), "{e}");
    assert_eq!(b.count("verdicts"), 2);
}

/// "No fire" verdicts propose mask candidates at the event: an industrial site at once, other
/// causes once repeated within the radius; a pending candidate covering the place collects
/// further verdicts; a candidate is decided once, audited, and listed page by page.
fn no_fire_verdicts_propose_one_mask_candidate_per_place(b: &Backend) {
    use crate::dispatch::Verdict;
    use tasks::{TaskChange, TaskError};
    let store = b.store();
    let rules = crate::dispatch::TaskRules::default();
    let who = patrol();
    // Each fire a day after the one before, so each is an event (and a task) of its own.
    let verify = |sha: &str, day: i64, lon: f64, lat: f64, v: Verdict| {
        let t = t0() + chrono::Duration::days(day);
        let task = task_at(b, sha, lon, lat, t);
        store
            .change_task(task.id, TaskChange::Acknowledge, &who, t)
            .unwrap();
        let dhash = day as u64 * 0x0101_0101_0101_0101;
        let nv = verdict(v, lon, lat, sha, dhash, t);
        store.record_verdict(task.id, &nv, &who, &rules, t).unwrap()
    };
    let plant = verify("n1", 0, 114.2, 35.1, Verdict::NoFireIndustrial);
    let c1 = plant
        .candidate
        .expect("an industrial site is proposed at once");
    let again = verify("n2", 1, 114.2004, 35.1002, Verdict::NoFireIndustrial);
    assert_eq!(
        again.candidate,
        Some(c1),
        "the pending candidate collects it"
    );
    let burning = verify("n3", 2, 114.2, 35.1, Verdict::Burning);
    assert_eq!(burning.candidate, None);
    let other = verify("n4", 3, 114.35, 35.2, Verdict::NoFireOther);
    assert_eq!(other.candidate, None, "one no_fire_other is not enough");
    let other2 = verify("n5", 4, 114.3503, 35.2001, Verdict::NoFireOther);
    let c2 = other2
        .candidate
        .expect("a repeated no_fire_other is proposed");
    let all = store.mask_candidates(None).unwrap();
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c2, c1],
        "newest first"
    );
    assert_eq!(all[1].verdicts, vec![plant.verdict.id, again.verdict.id]);
    assert_eq!(all[1].reason, "no_fire_industrial");
    assert_eq!(all[1].radius_m, rules.mask_radius_m);
    assert_eq!((all[1].lon, all[1].lat), (114.2, 35.1));
    assert_eq!(all[0].reason, "repeated no_fire_other");
    let mut repeated = all[0].verdicts.clone();
    repeated.sort();
    assert_eq!(repeated, vec![other.verdict.id, other2.verdict.id]);
    assert!(all.iter().all(|c| c.status == "pending"));
    let page = store.mask_candidates_page(None, None, 1).unwrap();
    assert_eq!(page, vec![all[0].clone()]);
    let page = store.mask_candidates_page(None, Some(c2), 10).unwrap();
    assert_eq!(page, vec![all[1].clone()]);

    let decided_at = t0() + chrono::Duration::days(5);
    let admin = tasks::Actor {
        id: "token:adm".into(),
        role: "admin".into(),
    };
    let c = store
        .decide_candidate(c1, true, &admin, decided_at)
        .unwrap();
    assert_eq!(c.status, "confirmed");
    assert_eq!(c.decided_at, Some(decided_at));
    assert_eq!(c.decided_by.as_deref(), Some("token:adm"));
    let e = store
        .decide_candidate(c1, false, &admin, decided_at)
        .unwrap_err();
    assert!(matches!(e, TaskError::Illegal(_)), "{e}");
    let e = store
        .decide_candidate(c2 + 1000, true, &admin, decided_at)
        .unwrap_err();
    assert!(matches!(e, TaskError::NotFound { .. }), "{e}");
    store
        .decide_candidate(c2, false, &admin, decided_at)
        .unwrap();
    let confirmed = store.mask_candidates(Some("confirmed")).unwrap();
    assert_eq!(confirmed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c1]);
    assert!(store.mask_candidates(Some("pending")).unwrap().is_empty());
    let actions: Vec<String> = store
        .audit("mask_candidate", c1)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, ["propose", "confirm"]);
    // A no_fire_industrial next to the rejected site proposes a new candidate.
    let after = verify("n6", 6, 114.35, 35.2, Verdict::NoFireIndustrial);
    assert!(after.candidate.is_some_and(|c| c > c2));
}

/// Escalation sweeps running at once (one per API node) escalate each missed deadline of each
/// task once: one audit row and one notice each, in total.
fn concurrent_sweeps_escalate_each_deadline_once(b: &Backend) {
    use crate::dispatch::Deadline;
    let store = b.store();
    let t = t0() + chrono::Duration::hours(5);
    let mut ids: Vec<i64> = (0..5)
        .map(|i| task_at(b, &format!("e{i}"), 114.0 + i as f64 * 0.1, 35.1, t).id)
        .collect();
    ids.sort();
    let late = t + chrono::Duration::days(1);
    let mut all: Vec<(i64, Deadline)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| store.escalate_due(late).unwrap()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    all.sort_by_key(|(id, d)| (*id, d.as_str()));
    let mut want: Vec<(i64, Deadline)> = ids
        .iter()
        .flat_map(|id| {
            [Deadline::Acknowledge, Deadline::OnSite, Deadline::Verdict].map(|d| (*id, d))
        })
        .collect();
    want.sort_by_key(|(id, d)| (*id, d.as_str()));
    assert_eq!(all, want);
    let escalated = b.texts("SELECT escalations FROM tasks ORDER BY id");
    assert!(escalated.iter().all(|e| e == "acknowledge,on_site,verdict"));
    let notices = b
        .outbox()
        .iter()
        .filter(|n| n.starts_with("escalation"))
        .count();
    assert_eq!(notices, 15);
    let audit: usize = ids
        .iter()
        .map(|id| {
            store
                .audit("task", *id)
                .unwrap()
                .iter()
                .filter(|a| a.action == "escalate")
                .count()
        })
        .sum();
    assert_eq!(audit, 15);
    assert!(store.escalate_due(late).unwrap().is_empty());
}

/// Precision per source: each verdict counted once per satellite source and confidence class
/// and per camera of its event; burning or burned scar is confirmed; a scope keeps its tasks.
fn precision_counts_ground_truth_per_source(b: &Backend) {
    use crate::dispatch::Verdict;
    use tasks::TaskChange;
    let store = b.store();
    let rules = crate::dispatch::TaskRules::default();
    let t = t0() + chrono::Duration::hours(5);
    let west = task_at(b, "p1", 114.2, 35.1, t);
    // A camera sees the west fire too: its event, its task.
    let alert = SensorAlert {
        sensor_id: "cam-7".into(),
        time: t + chrono::Duration::minutes(5),
        lon: 114.2002,
        lat: 35.1001,
        footprint_m: 100.0,
        kind: AlertKind::Smoke,
        confidence: 0.8,
        image_url: None,
    };
    let batch = IngestBatch {
        origin: Origin::Alerts,
        source: "camera".into(),
        hotspots: Vec::new(),
        alerts: vec![alert],
    };
    store
        .ingest_dispatched(&batch, &FuseParams::default(), &Halves, &rules, t)
        .unwrap();
    let east = task_at(b, "p2", 114.8, 35.1, t);
    let who = patrol();
    for (task, v, sha, dhash) in [
        (&west, Verdict::Burning, "w", 0u64),
        (&east, Verdict::NoFireOther, "e", u64::MAX),
    ] {
        store
            .change_task(task.id, TaskChange::Acknowledge, &who, t)
            .unwrap();
        let nv = verdict(v, task.lon, task.lat, sha, dhash, t);
        store.record_verdict(task.id, &nv, &who, &rules, t).unwrap();
    }
    let all = store.precision(&Scope::All).unwrap();
    let row = |kind: &str| all.iter().find(|p| p.kind == kind).unwrap().clone();
    assert_eq!(all.len(), 2, "{all:?}");
    let sat = row("satellite");
    assert_eq!(
        (sat.source.as_str(), sat.confidence.as_deref()),
        ("VIIRS/N20", Some("nominal"))
    );
    assert_eq!((sat.verdicts, sat.confirmed, sat.false_alarms), (2, 1, 1));
    assert_eq!(sat.precision, 0.5);
    let cam = row("camera");
    assert_eq!(cam.source, "cam-7");
    assert_eq!((cam.verdicts, cam.confirmed, cam.precision), (1, 1, 1.0));
    let east_only = store.precision(&Scope::County("410527".into())).unwrap();
    assert_eq!(east_only.len(), 1);
    assert_eq!((east_only[0].verdicts, east_only[0].confirmed), (1, 0));
    let township = store
        .precision(&Scope::Township("410526100".into()))
        .unwrap();
    assert_eq!(township.len(), 2);
    assert!(township.iter().all(|p| p.verdicts == 1 && p.confirmed == 1));
}
