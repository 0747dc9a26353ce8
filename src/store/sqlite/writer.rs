//! The store's one write connection, with group commit.
//!
//! SQLite takes one writer at a time, and with `synchronous = FULL` every commit ends in an
//! `fsync` of the WAL (plus, now and then, a checkpoint). Fifty clients that each post five rows
//! used to queue behind one another for a commit each (issue 15, BENCHMARKS.md "Load run"). Here
//! writes that arrive while another is running share one transaction: each runs in a savepoint of
//! the open transaction, one after another on the one connection, and the last of them (the one
//! that finds nobody waiting behind it, or the group full) commits for all. Every write is
//! answered only after the commit that holds it returned: `Ok` means on disk, exactly as with a
//! transaction of its own. What a write sees is what it would see alone, after the writes before
//! it.
//!
//! A write that fails is rolled back to its savepoint and answers its own error; the others of
//! its group are unaffected. When the commit fails (a full disk, an I/O error), or SQLite rolled
//! the whole transaction back under a failing statement (it may on SQLITE_FULL, IOERR, NOMEM),
//! or a write's savepoint cannot be ended (the group is then rolled back whole), every write of
//! the group answers that failure and nothing of the group is stored. A write
//! that panics is rolled back to its savepoint, the group goes on, and the panic continues in
//! its own thread.
//!
//! Threads block here (std `Mutex` + `Condvar`): writes run on `spawn_blocking`, never on the
//! async executor.

use std::collections::HashMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::store::error::StoreError;

/// Writes in one group at most: bounds how long the first of them waits for its commit.
const MAX_GROUP: usize = 64;

/// A group older than this commits at its next write even when others are waiting: a steady
/// stream of writes must not keep the first one from its answer.
const MAX_GROUP_AGE: Duration = Duration::from_millis(100);

/// The write connection and its group commit.
pub(super) struct Writer {
    state: Mutex<State>,
    turn: Condvar,
}

struct State {
    /// The connection when free; `None` while a thread runs a write or a commit on it.
    conn: Option<Connection>,
    /// Group writes waiting for the connection. One of them will take it: a write that finds
    /// this above zero leaves the commit to them.
    waiting: usize,
    /// The open group's number: the transaction being filled (or the next one).
    group: u64,
    /// Whether its transaction has begun.
    open: bool,
    /// When it began.
    opened_at: Instant,
    /// Writes of the open group whose answer waits for its commit.
    pending: usize,
    /// Groups below this number are decided (committed or failed).
    decided: u64,
    /// Failed groups: the failure, and how many of their writes have still to read it.
    failed: HashMap<u64, (Failure, usize)>,
}

/// Why a group failed, kept to answer each of its writes (a `rusqlite::Error` is not `Clone`).
#[derive(Clone)]
struct Failure {
    context: &'static str,
    error: rusqlite::ffi::Error,
    message: Option<String>,
}

impl Failure {
    fn of(context: &'static str, e: &rusqlite::Error) -> Failure {
        let (error, message) = match e {
            rusqlite::Error::SqliteFailure(f, m) => (*f, m.clone()),
            other => (
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
                Some(other.to_string()),
            ),
        };
        Failure {
            context,
            error,
            message,
        }
    }

    fn error(&self) -> StoreError {
        StoreError::Sql {
            context: self.context,
            source: rusqlite::Error::SqliteFailure(self.error, self.message.clone()).into(),
        }
    }
}

impl Writer {
    pub(super) fn new(conn: Connection) -> Writer {
        Writer {
            state: Mutex::new(State {
                conn: Some(conn),
                waiting: 0,
                group: 0,
                open: false,
                opened_at: Instant::now(),
                pending: 0,
                decided: 0,
                failed: HashMap::new(),
            }),
            turn: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.turn.wait(g).unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` as one write: `Ok` only once it is committed (with the writes grouped with it),
    /// rolled back alone when it fails.
    pub(super) fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut st = self.lock();
        st.waiting += 1;
        let conn = loop {
            if let Some(c) = st.conn.take() {
                break c;
            }
            st = self.wait(st);
        };
        st.waiting -= 1;
        let group = st.group;
        let begin = !st.open;
        drop(st);

        if begin {
            // IMMEDIATE: the write lock up front, so another process's writer (`strawfire
            // ingest`) makes this wait (busy timeout) instead of failing a read-then-write.
            if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
                self.give_back(conn);
                return Err(StoreError::Sql {
                    context: "begin",
                    source: e.into(),
                }
                .into());
            }
            let mut st = self.lock();
            st.open = true;
            st.opened_at = Instant::now();
        }
        let out = match conn.execute_batch("SAVEPOINT write") {
            Ok(()) => catch_unwind(AssertUnwindSafe(|| f(&conn))),
            Err(e) => Ok(Err(StoreError::Sql {
                context: "begin a write",
                source: e.into(),
            }
            .into())),
        };
        let succeeded = matches!(out, Ok(Ok(_)));
        // SQLite may have rolled the whole transaction back under a failing statement: then
        // the writes before this one in the group are gone too.
        let lost = conn.is_autocommit();
        if !lost {
            let end = if succeeded {
                "RELEASE write"
            } else {
                "ROLLBACK TO write; RELEASE write"
            };
            if let Err(e) = conn.execute_batch(end) {
                // Cannot tell what is left of the group: give it up whole. The writes before
                // this one in the group wait for the group's end: each must read the failure,
                // not answer `Ok` for rows the rollback took.
                let _ = conn.execute_batch("ROLLBACK");
                let failure = Failure::of("end a write", &e);
                let pending = self.lock().pending;
                self.decide(conn, group, Some(failure.clone()), pending);
                return finish(out, Some(failure));
            }
        }

        let mut st = self.lock();
        if lost {
            let pending = st.pending;
            drop(st);
            // This write's own error says why; the others of the group get a failure naming it.
            let failure = match &out {
                Ok(Err(_)) | Err(_) => Failure {
                    context: "a write of the same group failed and SQLite rolled the group back",
                    error: rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    message: None,
                },
                Ok(Ok(_)) => Failure {
                    context: "the group's transaction was rolled back",
                    error: rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                    message: None,
                },
            };
            self.decide(conn, group, Some(failure.clone()), pending);
            return finish(out, if succeeded { Some(failure) } else { None });
        }
        if succeeded {
            st.pending += 1;
        }
        let young = st.opened_at.elapsed() < MAX_GROUP_AGE;
        if st.waiting > 0 && st.pending < MAX_GROUP && young {
            // Someone waits for the connection: they run next in this transaction, and the last
            // of the group commits.
            st.conn = Some(conn);
            self.turn.notify_all();
            if !succeeded {
                return finish(out, None);
            }
            while st.decided <= group {
                st = self.wait(st);
            }
            let failure = match st.failed.get_mut(&group) {
                Some((failure, readers)) => {
                    let failure = failure.clone();
                    *readers -= 1;
                    if *readers == 0 {
                        st.failed.remove(&group);
                    }
                    Some(failure)
                }
                None => None,
            };
            drop(st);
            return finish(out, failure);
        }
        // The last of the group: commit for all (outside the state lock; the connection stays
        // taken, so a write that comes meanwhile waits and starts the next group).
        let others = st.pending - usize::from(succeeded);
        drop(st);
        let failure = conn.execute_batch("COMMIT").err().map(|e| {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Failure::of("commit", &e)
        });
        self.decide(conn, group, failure.clone(), others);
        finish(out, failure)
    }

    /// Ends group `group` (committed when `failure` is `None`), hands the connection back and
    /// wakes everyone; `readers` writes of the group wait to read a failure.
    fn decide(&self, conn: Connection, group: u64, failure: Option<Failure>, readers: usize) {
        let mut st = self.lock();
        if let Some(f) = failure {
            if readers > 0 {
                st.failed.insert(group, (f, readers));
            }
        }
        st.open = false;
        st.pending = 0;
        st.group = group + 1;
        st.decided = group + 1;
        st.conn = Some(conn);
        self.turn.notify_all();
    }

    /// Hands the connection back after a write that did not start (no group change).
    fn give_back(&self, conn: Connection) {
        let mut st = self.lock();
        st.conn = Some(conn);
        self.turn.notify_all();
    }

    /// Runs `f` on the connection outside any transaction (a pragma), when no group is open.
    /// Does not count as waiting: a group never leaves its commit to this.
    pub(super) fn exclusive<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        let mut st = self.lock();
        let conn = loop {
            if !st.open {
                if let Some(c) = st.conn.take() {
                    break c;
                }
            }
            st = self.wait(st);
        };
        drop(st);
        let out = catch_unwind(AssertUnwindSafe(|| f(&conn)));
        self.give_back(conn);
        out.unwrap_or_else(|p| resume_unwind(p))
    }
}

/// A write's answer: its own result, unless its group failed; a panic continues.
fn finish<T, E: From<StoreError>>(
    out: std::thread::Result<Result<T, E>>,
    failure: Option<Failure>,
) -> Result<T, E> {
    match out {
        Err(panic) => resume_unwind(panic),
        Ok(Err(e)) => Err(e),
        Ok(Ok(v)) => match failure {
            Some(f) => Err(f.error().into()),
            None => Ok(v),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn writer(dir: &std::path::Path) -> Writer {
        let c = Connection::open(dir.join("w.sqlite")).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.execute_batch("CREATE TABLE t (v INTEGER PRIMARY KEY)")
            .unwrap();
        Writer::new(c)
    }

    fn count(dir: &std::path::Path) -> i64 {
        Connection::open(dir.join("w.sqlite"))
            .unwrap()
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap()
    }

    /// Starts a write of row 1 on a thread of its own that holds the connection until another
    /// write queues behind it, so the caller's next write shares its group; returns once row 1
    /// is written.
    fn first_write_of_a_group(w: &Arc<Writer>) -> std::thread::JoinHandle<Result<(), StoreError>> {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let w2 = w.clone();
        let first = std::thread::spawn(move || {
            w2.write(|c| {
                // Named column: the failed-commit test's table has a second one (left NULL).
                c.execute("INSERT INTO t (v) VALUES (1)", [])
                    .map_err(|source| StoreError::Sql {
                        context: "insert",
                        source: source.into(),
                    })?;
                tx.send(()).unwrap();
                let t0 = Instant::now();
                while w2.lock().waiting == 0 {
                    assert!(t0.elapsed() < Duration::from_secs(10));
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok::<_, StoreError>(())
            })
        });
        rx.recv().unwrap();
        first
    }

    fn insert(c: &Connection, v: i64) -> Result<(), StoreError> {
        c.execute("INSERT INTO t VALUES (?1)", [v])
            .map(|_| ())
            .map_err(|source| StoreError::Sql {
                context: "insert",
                source: source.into(),
            })
    }

    /// Many threads writing at once: each `Ok` is committed (seen by another connection
    /// after it returns), writes that fail leave nothing and do not take their group's others
    /// with them, and writes were grouped (fewer commits than writes).
    #[test]
    fn concurrent_writes_are_grouped_and_each_answer_follows_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let w = Arc::new(writer(dir.path()));
        let threads = 16;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads as i64)
            .map(|i| {
                let (w, start, path) = (w.clone(), start.clone(), dir.path().to_path_buf());
                std::thread::spawn(move || {
                    start.wait();
                    let mut ok = 0;
                    for k in 0..20 {
                        let v = i * 1000 + k;
                        // Every fifth write fails after inserting: a duplicate key.
                        let r = w.write(|c| {
                            insert(c, v)?;
                            if k % 5 == 4 {
                                insert(c, v)?;
                            }
                            Ok::<_, StoreError>(v)
                        });
                        let seen: i64 = Connection::open(path.join("w.sqlite"))
                            .unwrap()
                            .query_row("SELECT COUNT(*) FROM t WHERE v = ?1", [v], |r| r.get(0))
                            .unwrap();
                        match r {
                            Ok(_) => {
                                assert_eq!(seen, 1, "{v} answered Ok but not committed");
                                ok += 1;
                            }
                            Err(_) => assert_eq!(seen, 0, "{v} failed but is stored"),
                        }
                    }
                    ok
                })
            })
            .collect();
        let ok: i64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(ok, threads as i64 * 16);
        assert_eq!(count(dir.path()), ok);
        let groups = w.lock().group;
        assert!(
            groups < threads as u64 * 20,
            "{groups} groups for {} writes: none were grouped",
            threads * 20
        );
    }

    /// A group whose commit fails answers the failure to every write of it, and stores none.
    #[test]
    fn a_failed_commit_fails_every_write_of_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let c = Connection::open(dir.path().join("w.sqlite")).unwrap();
        c.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE t (v INTEGER PRIMARY KEY,
               p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .unwrap();
        let w = Arc::new(Writer::new(c));
        // The first write holds the connection until the second is waiting, so both share a
        // group; the second's row breaks a deferred foreign key, checked only at COMMIT.
        let first = first_write_of_a_group(&w);
        let second = w.write(|c| {
            c.execute("INSERT INTO t VALUES (2, 99)", [])
                .map_err(|source| StoreError::Sql {
                    context: "insert",
                    source: source.into(),
                })?;
            Ok::<_, StoreError>(())
        });
        let first = first.join().unwrap();
        assert!(second.is_err(), "the committer sees the failed commit");
        let err = first.expect_err("the first write of the group fails with it");
        assert!(err.to_string().contains("commit"), "{err}");
        assert_eq!(count(dir.path()), 0);
        assert!(w.lock().failed.is_empty(), "every failure was read");
        // The writer goes on.
        w.write(|c| {
            c.execute("INSERT INTO t VALUES (3, NULL)", [])
                .map_err(|source| StoreError::Sql {
                    context: "insert",
                    source: source.into(),
                })
        })
        .unwrap();
        assert_eq!(count(dir.path()), 1);
    }

    /// When a write's savepoint cannot be ended, the group is rolled back whole: the writes
    /// before it in the group answer that failure, not `Ok` for rows that are gone.
    #[test]
    fn a_savepoint_that_cannot_end_fails_the_writes_before_it_in_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let w = Arc::new(writer(dir.path()));
        let first = first_write_of_a_group(&w);
        // The second write ends its savepoint itself, so the writer's RELEASE fails.
        let second = w.write(|c| {
            insert(c, 2)?;
            c.execute_batch("RELEASE write")
                .map_err(|source| StoreError::Sql {
                    context: "release",
                    source: source.into(),
                })?;
            Ok::<_, StoreError>(())
        });
        let first = first.join().unwrap();
        let err = second.expect_err("the write whose savepoint did not end fails");
        assert!(err.to_string().contains("end a write"), "{err}");
        let err = first.expect_err("the write before it in the group was rolled back with it");
        assert!(err.to_string().contains("end a write"), "{err}");
        assert_eq!(count(dir.path()), 0);
        assert!(w.lock().failed.is_empty(), "every failure was read");
        w.write(|c| insert(c, 3)).unwrap();
        assert_eq!(count(dir.path()), 1);
    }

    /// A write that panics is rolled back alone; the next write works.
    #[test]
    fn a_panicking_write_is_rolled_back_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let w = Arc::new(writer(dir.path()));
        let w2 = w.clone();
        let r = std::thread::spawn(move || {
            w2.write(|c| {
                insert(c, 1)?;
                panic!("a bug");
                #[allow(unreachable_code)]
                Ok::<_, StoreError>(())
            })
        })
        .join();
        assert!(r.is_err());
        w.write(|c| insert(c, 2)).unwrap();
        assert_eq!(count(dir.path()), 1);
        assert!(w.exclusive(|c| c.is_autocommit()));
    }
}
