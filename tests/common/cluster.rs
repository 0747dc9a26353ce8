//! Real `strawfire` processes on loopback for the tests of several processes on one PostgreSQL
//! (#19): API nodes (`serve --no-worker`) and `strawfire worker`s, each killed when dropped (a
//! failing test leaves none behind), `kill9` for the tests that kill one mid-job.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The admin token the processes are started with (`STRAWFIRE_ADMIN_TOKEN`).
pub const ADMIN: &str = "admin-token-0123456789";

/// A child process killed when dropped (a failing test leaves none behind).
pub struct Proc {
    pub child: Child,
    pub what: String,
    pub log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    pub fn kill9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    /// Stops the process where it is (SIGSTOP): it can neither finish what it does nor renew
    /// a lease, and nothing it did before is undone; `kill9` then ends it there.
    pub fn pause(&self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    }

    /// Everything the process logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// Starts `strawfire ARGS`, waits for its first stdout line and returns it with the process.
pub fn start(args: &[&str], what: &str, logs: &Path) -> (Proc, String) {
    let log = logs.join(format!("{what}.log"));
    let mut child = Command::new(super::bin())
        .args(args)
        .env("STRAWFIRE_ADMIN_TOKEN", ADMIN)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let p = Proc {
        child,
        what: what.to_string(),
        log,
    };
    assert!(
        line.starts_with("strawfire: "),
        "{what}: unexpected first line {line:?}\n{}",
        p.log_tail()
    );
    (p, line.trim().to_string())
}

pub fn serve(config: &Path, data: &Path, what: &str, logs: &Path) -> (Proc, String) {
    let (p, line) = start(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-samples",
            "--no-worker",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        what,
        logs,
    );
    let base = line
        .strip_prefix("strawfire: listening on ")
        .unwrap()
        .to_string();
    (p, base)
}

pub fn worker(config: &Path, data: &Path, what: &str, logs: &Path) -> (Proc, String) {
    let (p, line) = start(
        &[
            "worker",
            "--config",
            config.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        what,
        logs,
    );
    let name = line
        .strip_prefix("strawfire: worker ")
        .and_then(|l| l.strip_suffix(" running"))
        .unwrap()
        .to_string();
    (p, name)
}

/// The files of a test's cluster under one folder: the config file every process reads
/// (`cluster.toml`), their logs (`logs/`) and the shared spool (`spool/`); each process gets a
/// data folder of its own beside them.
pub struct Cluster {
    pub dir: PathBuf,
    pub config: PathBuf,
    pub logs: PathBuf,
    pub spool: PathBuf,
}

impl Cluster {
    /// Writes the config: `tables` (TOML: `[store]`, `[limits]`, ...), then `[worker]` with the
    /// spool and `worker` (its other keys: lease, polls).
    pub fn new(dir: &Path, tables: &str, worker: &str) -> Cluster {
        let (config, logs, spool) = (
            dir.join("cluster.toml"),
            dir.join("logs"),
            dir.join("spool"),
        );
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(
            &config,
            format!(
                "{tables}[worker]\nspool_dir = \"{}\"\n{worker}",
                spool.display()
            ),
        )
        .unwrap();
        Cluster {
            dir: dir.to_path_buf(),
            config,
            logs,
            spool,
        }
    }

    /// An API node without a worker (`serve --no-worker`) named `what`, its data in `dir/data`:
    /// the process and its base URL.
    pub fn serve(&self, what: &str, data: &str) -> (Proc, String) {
        serve(&self.config, &self.dir.join(data), what, &self.logs)
    }

    /// `strawfire worker` `worker-<i>`, its data in `dir/w<i>`: the process and its name.
    pub fn worker(&self, i: usize) -> (Proc, String) {
        worker(
            &self.config,
            &self.dir.join(format!("w{i}")),
            &format!("worker-{i}"),
            &self.logs,
        )
    }

    /// Workers `worker-<i>` for each `i` of `ids`.
    pub fn workers(&self, ids: std::ops::Range<usize>) -> Vec<(Proc, String)> {
        ids.map(|i| self.worker(i)).collect()
    }
}
