//! The PostgreSQL half of the service bench (issue 19): every store the bench fills or runs
//! against is a database of its own on the server of `STRAWFIRE_TEST_PG_URL` (or `--pg URL`),
//! made here and dropped when the bench ends (also on a panic), so a run starts from nothing
//! as a SQLite run starts from a new file. The load runs each start from a copy of the filled
//! database (`CREATE DATABASE ... TEMPLATE`), as the SQLite runs start from a copy of the file.
//!
//! Also read here: the server's durability settings (printed beside the figures, since they
//! decide the cost of a commit) and the CPU time of the cluster's processes (the SQLite
//! figures' "server CPU" includes the database's work; on PostgreSQL that work is in the
//! cluster's own processes, counted apart; only when the cluster runs on this machine).

use std::collections::HashMap;

use super::cpu_s;

/// The databases this bench made on one PostgreSQL server; dropped with it.
pub struct Cluster {
    /// The URL given (its database is where `CREATE DATABASE` is sent from).
    url: String,
    made: Vec<String>,
}

impl Cluster {
    pub fn new(url: &str) -> Cluster {
        Cluster {
            url: url.to_string(),
            made: Vec::new(),
        }
    }

    fn admin(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap_or_else(|e| {
            panic!("cannot connect to PostgreSQL at {}: {e}", redact(&self.url))
        })
    }

    /// A new empty database `name` (dropped first if a crashed run left it); its URL.
    pub fn create(&mut self, name: &str) -> String {
        self.create_from(name, None)
    }

    /// A new database `name`, a copy of `template` (which nobody may be connected to); its URL.
    pub fn copy(&mut self, template: &str, name: &str) -> String {
        self.create_from(name, Some(template))
    }

    fn create_from(&mut self, name: &str, template: Option<&str>) -> String {
        let mut c = self.admin();
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        let from = template.map_or(String::new(), |t| format!(" TEMPLATE {t}"));
        c.batch_execute(&format!("CREATE DATABASE {name}{from}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}{from}: {e}"));
        self.made.push(name.to_string());
        with_dbname(&self.url, name)
    }

    /// Drops database `name` now.
    pub fn drop_db(&mut self, name: &str) {
        let mut c = self.admin();
        let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        self.made.retain(|m| m != name);
    }

    /// The server's version and the settings a commit's cost depends on, as one line.
    pub fn settings(&self) -> String {
        let mut c = self.admin();
        let version: String = c
            .query_one("SHOW server_version", &[])
            .map(|r| r.get(0))
            .unwrap_or_default();
        let rows = c
            .query(
                "SELECT name, setting, unit FROM pg_settings WHERE name IN \
                 ('fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', \
                  'shared_buffers', 'max_connections') ORDER BY name",
                &[],
            )
            .unwrap_or_default();
        let parts: Vec<String> = rows
            .iter()
            .map(|r| {
                let (name, setting, unit): (String, String, Option<String>) =
                    (r.get(0), r.get(1), r.get(2));
                match (name.as_str(), unit.as_deref()) {
                    ("shared_buffers", Some("8kB")) => format!(
                        "shared_buffers={} MiB",
                        setting.parse::<f64>().unwrap_or(f64::NAN) * 8.0 / 1024.0
                    ),
                    _ => format!("{name}={setting}"),
                }
            })
            .collect();
        format!("PostgreSQL {version}: {}", parts.join(", "))
    }

    /// CPU seconds so far of every process of the cluster (backends and the checkpointer,
    /// WAL writer, ...), by pid; empty when the cluster is not on this machine.
    pub fn cpu(&self) -> HashMap<i32, f64> {
        let mut c = self.admin();
        let rows = c
            .query("SELECT pid FROM pg_stat_activity", &[])
            .unwrap_or_default();
        rows.iter()
            .map(|r| r.get::<_, i32>(0))
            .filter(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
            .map(|pid| (pid, cpu_s(&pid.to_string())))
            .collect()
    }
}

/// CPU seconds the cluster's processes spent between two [`Cluster::cpu`] readings (a
/// process that started in between counts from zero).
pub fn cpu_between(before: &HashMap<i32, f64>, after: &HashMap<i32, f64>) -> f64 {
    after
        .iter()
        .map(|(pid, s)| s - before.get(pid).copied().unwrap_or(0.0))
        .sum()
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.made.is_empty() {
            return;
        }
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            for name in std::mem::take(&mut self.made) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// `url` naming database `db` instead: a URL (`postgres://user@host:port/db?params`) or a
/// libpq key=value string.
pub fn with_dbname(url: &str, db: &str) -> String {
    if let Some(i) = url.find("://") {
        let (head, rest) = url.split_at(i + 3);
        let (before_q, query) = match rest.find('?') {
            Some(q) => rest.split_at(q),
            None => (rest, ""),
        };
        let authority = before_q.split('/').next().unwrap_or("");
        format!("{head}{authority}/{db}{query}")
    } else {
        let mut parts: Vec<String> = url
            .split_whitespace()
            .filter(|p| !p.starts_with("dbname="))
            .map(str::to_string)
            .collect();
        parts.push(format!("dbname={db}"));
        parts.join(" ")
    }
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(i), Some(at)) if at > i => {
            let user = &url[i + 3..at];
            match user.split_once(':') {
                Some((u, _)) => format!("{}{u}:***{}", &url[..i + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The bench's URL handling, checked at start (the bench has no test harness of its own).
pub fn check_urls() {
    assert_eq!(
        with_dbname(
            "postgresql://postgres@/strawfire_test?host=/tmp/pg.x&port=5",
            "b"
        ),
        "postgresql://postgres@/b?host=/tmp/pg.x&port=5"
    );
    assert_eq!(
        with_dbname("postgres://u:p@h:5432", "b"),
        "postgres://u:p@h:5432/b"
    );
    assert_eq!(
        with_dbname("host=/tmp port=5 dbname=x user=u", "b"),
        "host=/tmp port=5 user=u dbname=b"
    );
    assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
}
