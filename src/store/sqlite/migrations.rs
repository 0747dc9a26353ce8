//! Versioned schema migrations. The schema version is SQLite's `user_version`; each entry of
//! [`MIGRATIONS`] moves it up by one inside a transaction. Never edit a released migration: add
//! one. Times are Unix seconds (UTC); positions WGS84 degrees.

use rusqlite::Connection;

use crate::store::error::StoreError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: scenes, feeds, hotspots, summaries, alerts, events.
    "
    CREATE TABLE scenes (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        acq_time INTEGER,
        satellite TEXT,
        sensor TEXT,
        model TEXT NOT NULL,
        rows INTEGER NOT NULL,
        cols INTEGER NOT NULL,
        hotspots INTEGER NOT NULL,
        ingested_at INTEGER NOT NULL
    );
    CREATE TABLE observation_summaries (
        scene_id INTEGER PRIMARY KEY REFERENCES scenes(id),
        total INTEGER NOT NULL, not_processed INTEGER NOT NULL, fill INTEGER NOT NULL,
        glint INTEGER NOT NULL, water INTEGER NOT NULL, cloud INTEGER NOT NULL,
        clear_land INTEGER NOT NULL, unknown INTEGER NOT NULL, fire_low INTEGER NOT NULL,
        fire_nominal INTEGER NOT NULL, fire_high INTEGER NOT NULL,
        day_pixels INTEGER NOT NULL, night_pixels INTEGER NOT NULL
    );
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        source TEXT NOT NULL,
        rows INTEGER NOT NULL,
        ingested_at INTEGER NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        lon REAL NOT NULL, lat REAL NOT NULL, footprint_m REAL NOT NULL,
        first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
        sources TEXT NOT NULL, kinds TEXT NOT NULL,
        max_frp_mw REAL, satellite_confidence REAL NOT NULL, camera_confidence REAL NOT NULL,
        confidence REAL NOT NULL, sightings INTEGER NOT NULL,
        county TEXT, township TEXT, village TEXT, parcel TEXT, mask TEXT,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX events_last_seen ON events(last_seen);
    CREATE INDEX events_lat_lon ON events(lat, lon);
    CREATE INDEX events_county ON events(county);
    CREATE INDEX events_township ON events(township);
    CREATE TABLE hotspots (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        origin TEXT NOT NULL,
        scene_id INTEGER REFERENCES scenes(id),
        feed_id INTEGER REFERENCES feeds(id),
        lat REAL NOT NULL, lon REAL NOT NULL,
        acq_time INTEGER NOT NULL,
        satellite TEXT NOT NULL, instrument TEXT NOT NULL,
        confidence TEXT NOT NULL, confidence_score REAL NOT NULL,
        version TEXT NOT NULL,
        bt_mir_k REAL NOT NULL, bt_tir_k REAL NOT NULL,
        scan_km REAL NOT NULL, track_km REAL NOT NULL,
        frp_mw REAL NOT NULL, daynight TEXT NOT NULL, fire_type INTEGER,
        row INTEGER, col INTEGER,
        county TEXT, township TEXT, village TEXT, parcel TEXT, mask TEXT,
        event_id INTEGER REFERENCES events(id)
    );
    CREATE INDEX hotspots_acq_time ON hotspots(acq_time);
    CREATE INDEX hotspots_lat_lon ON hotspots(lat, lon);
    CREATE INDEX hotspots_county ON hotspots(county);
    CREATE INDEX hotspots_township ON hotspots(township);
    CREATE INDEX hotspots_event ON hotspots(event_id);
    CREATE TABLE sensor_alerts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        sensor_id TEXT NOT NULL,
        time INTEGER NOT NULL,
        lon REAL NOT NULL, lat REAL NOT NULL, footprint_m REAL NOT NULL,
        kind TEXT NOT NULL, confidence REAL NOT NULL, image_url TEXT,
        county TEXT, township TEXT, village TEXT, parcel TEXT, mask TEXT,
        event_id INTEGER REFERENCES events(id),
        received_at INTEGER NOT NULL
    );
    CREATE INDEX sensor_alerts_event ON sensor_alerts(event_id);
    ",
    // 2: a 3-D R*Tree over events (lon, lat, hours since 1970) for the fuse candidate search:
    // a B-tree on (lat, lon) narrows only one range, so busy seasons scanned whole latitude
    // strips of all times. R*Tree stores f32 and rounds outwards, so it only over-selects;
    // fuse checks exactly. (Needs SQLite built with RTREE, as Debian's and most are.)
    "
    CREATE VIRTUAL TABLE events_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat, min_h, max_h);
    INSERT INTO events_rtree
        SELECT id, lon, lon, lat, lat, first_seen / 3600.0, last_seen / 3600.0 FROM events;
    ",
    // 3: dispatch and verify (tasks, verdicts, the append-only audit log), the notification
    // outbox and its deliveries, mask candidates from verdicts, and each scene's clear-sky
    // coverage per unit (for fair rankings).
    "
    CREATE TABLE tasks (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL UNIQUE REFERENCES events(id),
        unit TEXT NOT NULL,
        unit_level TEXT NOT NULL,
        county TEXT,
        state TEXT NOT NULL,
        priority TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        notified_at INTEGER, acknowledged_at INTEGER, on_site_at INTEGER,
        verified_at INTEGER, closed_at INTEGER,
        ack_due INTEGER NOT NULL, on_site_due INTEGER NOT NULL, verdict_due INTEGER NOT NULL,
        escalated_at INTEGER,
        escalations TEXT NOT NULL DEFAULT '',
        verdict TEXT,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX tasks_unit_state ON tasks(unit, state);
    CREATE INDEX tasks_county ON tasks(county);
    CREATE INDEX tasks_created ON tasks(created_at);
    CREATE TABLE verdicts (
        id INTEGER PRIMARY KEY,
        task_id INTEGER NOT NULL UNIQUE REFERENCES tasks(id),
        verdict TEXT NOT NULL,
        reported_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        lat REAL NOT NULL, lon REAL NOT NULL,
        distance_m REAL NOT NULL,
        note TEXT,
        photo_sha256 TEXT NOT NULL, photo_dhash INTEGER NOT NULL,
        photo_path TEXT NOT NULL, photo_bytes INTEGER NOT NULL,
        exif_time INTEGER, exif_lat REAL, exif_lon REAL,
        flags TEXT NOT NULL,
        review INTEGER NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX verdicts_photo ON verdicts(photo_sha256);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id INTEGER NOT NULL,
        action TEXT NOT NULL,
        from_state TEXT, to_state TEXT,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_entity ON audit(entity, entity_id);
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        task_id INTEGER REFERENCES tasks(id),
        unit TEXT NOT NULL,
        county TEXT,
        kind TEXT NOT NULL,
        notice TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expanded INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_expanded ON outbox(expanded);
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        outbox_id INTEGER NOT NULL REFERENCES outbox(id),
        webhook TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        delivered_at INTEGER,
        gave_up_at INTEGER,
        last_error TEXT
    );
    CREATE INDEX deliveries_due ON deliveries(delivered_at, gave_up_at, next_attempt_at);
    CREATE TABLE mask_candidates (
        id INTEGER PRIMARY KEY,
        lat REAL NOT NULL, lon REAL NOT NULL, radius_m REAL NOT NULL,
        reason TEXT NOT NULL,
        verdicts TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        decided_at INTEGER, decided_by TEXT
    );
    CREATE TABLE scene_coverage (
        scene_id INTEGER NOT NULL REFERENCES scenes(id),
        unit TEXT NOT NULL,
        level TEXT NOT NULL,
        land_pixels INTEGER NOT NULL,
        clear_pixels INTEGER NOT NULL,
        PRIMARY KEY (scene_id, unit)
    );
    CREATE INDEX scene_coverage_unit ON scene_coverage(unit);
    ",
    // 4: a hotspot's measurements may be unknown. Real FIRMS and CSPP rows have empty or NaN
    // `frp`, `bright_ti4`, `bright_ti5`, `scan`, `track`; under NOT NULL such a row could not be
    // stored (and `INSERT OR IGNORE` then dropped it as if it were a duplicate). SQLite cannot
    // drop a NOT NULL in place: the table is rebuilt (new table, rows copied with their ids,
    // old table dropped, new one renamed, indexes made again), all in this migration's
    // transaction. No table references `hotspots`, so foreign keys stay on throughout.
    "
    CREATE TABLE hotspots_v4 (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        origin TEXT NOT NULL,
        scene_id INTEGER REFERENCES scenes(id),
        feed_id INTEGER REFERENCES feeds(id),
        lat REAL NOT NULL, lon REAL NOT NULL,
        acq_time INTEGER NOT NULL,
        satellite TEXT NOT NULL, instrument TEXT NOT NULL,
        confidence TEXT NOT NULL, confidence_score REAL NOT NULL,
        version TEXT NOT NULL,
        bt_mir_k REAL, bt_tir_k REAL,
        scan_km REAL, track_km REAL,
        frp_mw REAL, daynight TEXT NOT NULL, fire_type INTEGER,
        row INTEGER, col INTEGER,
        county TEXT, township TEXT, village TEXT, parcel TEXT, mask TEXT,
        event_id INTEGER REFERENCES events(id)
    );
    INSERT INTO hotspots_v4 (id, key, origin, scene_id, feed_id, lat, lon, acq_time, satellite,
        instrument, confidence, confidence_score, version, bt_mir_k, bt_tir_k, scan_km, track_km,
        frp_mw, daynight, fire_type, row, col, county, township, village, parcel, mask, event_id)
    SELECT id, key, origin, scene_id, feed_id, lat, lon, acq_time, satellite,
        instrument, confidence, confidence_score, version, bt_mir_k, bt_tir_k, scan_km, track_km,
        frp_mw, daynight, fire_type, row, col, county, township, village, parcel, mask, event_id
    FROM hotspots;
    DROP TABLE hotspots;
    ALTER TABLE hotspots_v4 RENAME TO hotspots;
    CREATE INDEX hotspots_acq_time ON hotspots(acq_time);
    CREATE INDEX hotspots_lat_lon ON hotspots(lat, lon);
    CREATE INDEX hotspots_county ON hotspots(county);
    CREATE INDEX hotspots_township ON hotspots(township);
    CREATE INDEX hotspots_event ON hotspots(event_id);
    ",
    // 5: why dispatch gave an event no task (`too_old`, `masked`, `not_on_farmland`,
    // `outside_units`; NULL when it has one), so the API and the dashboard can say so.
    "
    ALTER TABLE events ADD COLUMN task_reason TEXT;
    ",
    // 6: the command center's moves (#17). A cancelled task keeps its time; a verdict sent back
    // for re-verification moves to `returned_verdicts` whole, under its id (with who, when and
    // why), since `verdicts` holds one row per task and the patrol's next report takes its
    // place. Its photo stays referenced. `verdicts` is rebuilt with AUTOINCREMENT so a returned
    // verdict's id is never given to another (mask candidates and audit rows name verdict ids).
    "
    ALTER TABLE tasks ADD COLUMN cancelled_at INTEGER;
    CREATE TABLE verdicts_v6 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id INTEGER NOT NULL UNIQUE REFERENCES tasks(id),
        verdict TEXT NOT NULL,
        reported_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        lat REAL NOT NULL, lon REAL NOT NULL,
        distance_m REAL NOT NULL,
        note TEXT,
        photo_sha256 TEXT NOT NULL, photo_dhash INTEGER NOT NULL,
        photo_path TEXT NOT NULL, photo_bytes INTEGER NOT NULL,
        exif_time INTEGER, exif_lat REAL, exif_lon REAL,
        flags TEXT NOT NULL,
        review INTEGER NOT NULL,
        actor TEXT NOT NULL
    );
    INSERT INTO verdicts_v6 (id, task_id, verdict, reported_at, received_at, lat, lon, distance_m, note,
        photo_sha256, photo_dhash, photo_path, photo_bytes, exif_time, exif_lat, exif_lon, flags,
        review, actor)
    SELECT id, task_id, verdict, reported_at, received_at, lat, lon, distance_m, note,
        photo_sha256, photo_dhash, photo_path, photo_bytes, exif_time, exif_lat, exif_lon, flags,
        review, actor
    FROM verdicts;
    DROP TABLE verdicts;
    ALTER TABLE verdicts_v6 RENAME TO verdicts;
    CREATE INDEX verdicts_photo ON verdicts(photo_sha256);
    CREATE TABLE returned_verdicts (
        id INTEGER PRIMARY KEY,  -- the verdict's id
        task_id INTEGER NOT NULL REFERENCES tasks(id),
        verdict TEXT NOT NULL,
        reported_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        lat REAL NOT NULL, lon REAL NOT NULL,
        distance_m REAL NOT NULL,
        note TEXT,
        photo_sha256 TEXT NOT NULL, photo_dhash INTEGER NOT NULL,
        photo_path TEXT NOT NULL, photo_bytes INTEGER NOT NULL,
        exif_time INTEGER, exif_lat REAL, exif_lon REAL,
        flags TEXT NOT NULL,
        review INTEGER NOT NULL,
        actor TEXT NOT NULL,
        returned_at INTEGER NOT NULL,
        returned_by TEXT NOT NULL,
        return_reason TEXT NOT NULL
    );
    CREATE INDEX returned_verdicts_task ON returned_verdicts(task_id);
    CREATE INDEX returned_verdicts_photo ON returned_verdicts(photo_sha256);
    ",
    // 7: the issue numbers of the ranking bulletins (第N期), numbered in the order they are first
    // issued within a season and level, kept so a bulletin rendered again keeps its number and
    // issue date.
    "
    CREATE TABLE bulletin_issues (
        season TEXT NOT NULL,
        level TEXT NOT NULL,
        date TEXT NOT NULL,
        number INTEGER NOT NULL,
        issued_at INTEGER NOT NULL,
        PRIMARY KEY (season, level, date),
        UNIQUE (season, level, number)
    );
    ",
    // 8: idempotency keys of the patrol's task writes (#16, `store/idempotency.rs`): claimed in
    // the transaction of the change they name; the first answer kept for replays.
    "
    CREATE TABLE idempotency_keys (
        actor TEXT NOT NULL,
        key TEXT NOT NULL,
        route TEXT NOT NULL,
        task_id INTEGER NOT NULL,
        request_sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        status INTEGER,
        response TEXT,
        PRIMARY KEY (actor, key)
    );
    ",
    // 9: a scoped map view asks for its unit's rows in a small box (`county = ? AND lon BETWEEN
    // .. AND lat BETWEEN ..`); through the index on the unit alone every row of the county was
    // read to keep the few in the box (≈ 2,800 rows for 18 at 100,000 hotspots, 4 ms). With
    // (unit, lat, lon) the box's latitude band is one index range, and the longitude test is
    // answered from the index (0.3 ms; BENCHMARKS.md "Load run"). The unit-only indexes are
    // prefixes of these and go. (unit, time) would serve lists without a box, but without
    // statistics SQLite then picks it for boxed queries too and reads the whole county again.
    "
    DROP INDEX hotspots_county;
    DROP INDEX hotspots_township;
    DROP INDEX events_county;
    DROP INDEX events_township;
    CREATE INDEX hotspots_county_lat_lon ON hotspots(county, lat, lon);
    CREATE INDEX hotspots_township_lat_lon ON hotspots(township, lat, lon);
    CREATE INDEX events_county_lat_lon ON events(county, lat, lon);
    CREATE INDEX events_township_lat_lon ON events(township, lat, lon);
    ",
    // 10: a notice that no longer holds (its task cancelled, or given to another unit) is
    // superseded instead of sent: when and by what (`outbox.rs` `supersede`); its deliveries
    // still waiting are never claimed, and the operators' list shows them `superseded`.
    "
    ALTER TABLE outbox ADD COLUMN superseded_at INTEGER;
    ALTER TABLE outbox ADD COLUMN superseded_by TEXT;
    CREATE INDEX outbox_task ON outbox(task_id);
    ",
];

/// Brings the schema to the newest version.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(|source| StoreError::Migration {
            version: 0,
            source: source.into(),
        })? as usize;
    if found > MIGRATIONS.len() {
        return Err(StoreError::TooNew {
            found,
            known: MIGRATIONS.len(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found) {
        let version = i + 1;
        let fail = |source: rusqlite::Error| StoreError::Migration {
            version,
            source: source.into(),
        };
        // IMMEDIATE, and the version read again inside: two processes opening a new file at
        // once (two `strawfire ingest` runs) take turns, and the second finds the step done
        // instead of failing on "table already exists".
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let now: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail)?;
        if now as usize >= version {
            continue;
        }
        tx.execute_batch(sql).map_err(fail)?;
        tx.pragma_update(None, "user_version", version as i64)
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Processes opening a new store file at once (two `strawfire ingest` runs) migrate it
    /// once between them; before each step took its write lock first, the second failed on
    /// "table scenes already exists".
    #[test]
    fn stores_opened_at_once_on_a_new_file_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let p = path.clone();
                std::thread::spawn(move || crate::store::SqliteStore::open(&p).map(|_| ()))
            })
            .collect();
        for o in opened {
            o.join().unwrap().unwrap();
        }
    }

    /// Migration 6 keeps a version-5 store's verdicts under their ids, and from then on the id
    /// of a verdict that was removed (sent back for re-verification) is never given again.
    #[test]
    fn migration_6_keeps_verdicts_and_never_reuses_a_verdict_id() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 5).unwrap();
        let verdict = |id: &str| {
            format!(
                "INSERT INTO verdicts (id, task_id, verdict, reported_at, received_at, lat, lon,
                   distance_m, photo_sha256, photo_dhash, photo_path, photo_bytes, flags, review,
                   actor)
                 VALUES ({id}, 3, 'burning', 0, 0, 35.2, 114.5, 10, 'ab', 1, 'p', 1, '[]', 0, 'a')"
            )
        };
        conn.execute_batch(&format!(
            "INSERT INTO events (id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
               satellite_confidence, camera_confidence, confidence, sightings, updated_at)
             VALUES (7, 114.5, 35.2, 375, 7200, 7200, '[]', 'satellite', 0.6, 0, 0.6, 1, 0);
             INSERT INTO tasks (id, event_id, unit, unit_level, state, priority, created_at,
               ack_due, on_site_due, verdict_due, updated_at)
             VALUES (3, 7, '410526101', 'township', 'verified', 'high', 0, 1, 2, 3, 0);
             {};",
            verdict("9")
        ))
        .unwrap();
        migrate(&mut conn).unwrap();
        let id: i64 = conn
            .query_row("SELECT id FROM verdicts WHERE task_id = 3", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(id, 9);
        conn.execute_batch("DELETE FROM verdicts WHERE id = 9")
            .unwrap();
        conn.execute_batch(&verdict("NULL")).unwrap();
        let id: i64 = conn
            .query_row("SELECT id FROM verdicts WHERE task_id = 3", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(id, 10, "a removed verdict's id is not reused");
        let cancelled: Option<i64> = conn
            .query_row("SELECT cancelled_at FROM tasks WHERE id = 3", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(cancelled, None);
    }

    /// A version-3 store with a hotspot linked to an event is rebuilt by migration 4: the row
    /// keeps its id, values and link, every index is there again, the key is still unique, and
    /// a row with unknown measurements can now be stored.
    #[test]
    fn migration_4_keeps_hotspots_and_indexes_and_allows_unknown_measurements() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO events (id, lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
               satellite_confidence, camera_confidence, confidence, sightings, updated_at)
             VALUES (7, 114.5, 35.2, 375, 7200, 7200, '[]', 'satellite', 0.6, 0, 0.6, 1, 0);
             INSERT INTO hotspots (id, key, origin, lat, lon, acq_time, satellite, instrument,
               confidence, confidence_score, version, bt_mir_k, bt_tir_k, scan_km, track_km,
               frp_mw, daynight, county, event_id)
             VALUES (42, 'k1', 'feed', 35.2, 114.5, 7200, 'N20', 'VIIRS', 'n', 0.6, '2.0NRT',
               330, 290, 0.39, 0.36, 3.5, 'N', '410526', 7);",
        )
        .unwrap();
        let null_insert = |c: &Connection, key: &str| {
            c.execute(
                "INSERT INTO hotspots (key, origin, lat, lon, acq_time, satellite, instrument,
                   confidence, confidence_score, version, daynight)
                 VALUES (?1, 'feed', 35.3, 114.6, 7200, 'N20', 'VIIRS', 'n', 0.6, '2.0NRT', 'N')",
                [key],
            )
        };
        assert!(null_insert(&conn, "k0").is_err(), "version 3 refuses NULLs");
        migrate(&mut conn).unwrap();
        let (id, frp, event, county): (i64, f64, i64, String) = conn
            .query_row(
                "SELECT id, frp_mw, event_id, county FROM hotspots WHERE key = 'k1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!((id, frp, event, county.as_str()), (42, 3.5, 7, "410526"));
        null_insert(&conn, "k2").unwrap();
        let frp: Option<f64> = conn
            .query_row("SELECT frp_mw FROM hotspots WHERE key = 'k2'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(frp, None);
        assert!(null_insert(&conn, "k2").is_err(), "the key stays unique");
        let mut indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'hotspots' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        indexes.sort();
        assert_eq!(
            indexes,
            [
                "hotspots_acq_time",
                "hotspots_county_lat_lon",
                "hotspots_event",
                "hotspots_lat_lon",
                "hotspots_township_lat_lon"
            ]
        );
        let fk: i64 = conn
            .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(fk, 0);
    }

    #[test]
    fn a_version_1_store_is_migrated_with_its_events_indexed() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO events (lon, lat, footprint_m, first_seen, last_seen, sources, kinds,
               satellite_confidence, camera_confidence, confidence, sightings, updated_at)
             VALUES (114.5, 35.2, 375, 7200, 10800, '[]', 'satellite', 0.6, 0, 0.6, 1, 0)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
        let hit: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events_rtree WHERE max_h >= 2.5 AND min_h <= 2.5
                   AND max_lon >= 114.4 AND min_lon <= 114.6",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hit, 1);
        // Newer than this build: refused.
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
