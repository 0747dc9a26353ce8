//! The SSE mode of the service bench (`cargo bench --bench service -- --sse [N]`, issue 19
//! item 6): how many live streams one `strawfire serve` holds, what each costs, and whether
//! every one of them hears a batch.
//!
//! It raises this process's open-file limit to its hard limit (the server, a child, inherits
//! it), starts `strawfire serve` on an empty store with the bench's county grid, opens `N`
//! (default 10,000) `GET /api/v1/stream` connections from one current-thread runtime (plain
//! TCP, the request written by hand: a client per stream as light as it can be, so that the
//! figure is the server's), a tenth with the admin token and the rest with county tokens spread
//! over the 40 counties, and waits until each has read its `hello`. The server's RSS, threads
//! and open files are read from `/proc` before and after. Then it posts `STRAWFIRE_BENCH_SSE_BATCHES`
//! (default 3) FIRMS CSV batches of `STRAWFIRE_BENCH_SSE_ROWS` (default 200) new hotspots spread
//! over every county and times, per batch, from the POST's answer to each stream's `hotspots`
//! event: every stream must hear every batch (a stream told `resync` instead is counted apart).
//! Kernel socket buffers are not in the RSS; they are printed from `/proc/net/sockstat`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Semaphore};

use super::{
    county_token, cpu_s, hotspots, loadavg, percentile, vm_mib, write_csv, Server, ADMIN, COUNTIES,
};

/// Connections being opened at once (the server's listen backlog is 1024).
const CONNECTING: usize = 256;

/// What a stream tells the bench.
enum Heard {
    /// Its `hello` arrived: the stream is open.
    Hello,
    /// Its `n`-th `hotspots` event (1-based) arrived at this instant.
    Hotspots(usize, Instant),
    /// It was told to `resync` (it fell behind the hub).
    Resync,
    /// It failed (connect, status, closed early), with why.
    Failed(String),
}

/// Raises this process's soft open-file limit to its hard limit and returns it. The server
/// started after this inherits it.
fn raise_nofile() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    if l.current != l.maximum {
        l.current = l.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, l) {
            println!("cannot raise the open-file limit: {e}");
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Open descriptors and threads of a process.
fn fds_threads(pid: u32) -> (usize, usize) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count());
    let threads = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (fds, threads)
}

/// TCP memory of the whole machine in MiB (`/proc/net/sockstat` `mem`, pages): the socket
/// buffers the kernel holds for every connection, outside any process's RSS.
fn tcp_mem_mib() -> f64 {
    std::fs::read_to_string("/proc/net/sockstat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("TCP:"))
        .and_then(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let i = f.iter().position(|k| *k == "mem")?;
            f.get(i + 1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |pages| pages * 4096.0 / (1024.0 * 1024.0))
}

/// One stream: connects, asks for `/api/v1/stream` with `token`, reports its `hello` and every
/// `hotspots` event, and holds the connection until `stop`.
async fn stream(
    addr: String,
    token: String,
    connecting: Arc<Semaphore>,
    tx: mpsc::UnboundedSender<Heard>,
    mut stop: watch::Receiver<bool>,
) {
    let fail = |why: String| {
        let _ = tx.send(Heard::Failed(why));
    };
    let permit = connecting.acquire().await.expect("never closed");
    let sock = match TcpStream::connect(&addr).await {
        Ok(s) => s,
        Err(e) => return fail(format!("connect: {e}")),
    };
    let request = format!(
        "GET /api/v1/stream?token={token} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    );
    let mut sent = 0;
    while sent < request.len() {
        if let Err(e) = sock.writable().await {
            return fail(format!("write: {e}"));
        }
        match sock.try_write(&request.as_bytes()[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return fail(format!("write: {e}")),
        }
    }
    // The events are found in the text as it arrives; what could be cut between two reads is
    // kept (the tail of the buffer), the rest dropped.
    let mut text: Vec<u8> = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let mut status_ok = false;
    let mut hello = false;
    let mut batches = 0usize;
    let mut permit = Some(permit);
    loop {
        tokio::select! {
            r = sock.readable() => {
                if let Err(e) = r {
                    return fail(format!("read: {e}"));
                }
            }
            _ = stop.changed() => return,
        }
        let n = match sock.try_read(&mut buf) {
            Ok(0) => {
                if !*stop.borrow() {
                    fail("closed by the server".into());
                }
                return;
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return fail(format!("read: {e}")),
        };
        text.extend_from_slice(&buf[..n]);
        if !status_ok {
            if text.len() < 12 {
                continue;
            }
            if !text.starts_with(b"HTTP/1.1 200") {
                let head = String::from_utf8_lossy(&text[..text.len().min(200)]).to_string();
                return fail(format!("answer: {head}"));
            }
            status_ok = true;
        }
        if !hello && find(&text, b"event: hello").is_some() {
            hello = true;
            // The next stream may connect.
            drop(permit.take());
            let _ = tx.send(Heard::Hello);
        }
        let mut at = 0;
        while let Some(i) = find(&text[at..], b"event: ") {
            let rest = &text[at + i..];
            let Some(end) = rest.iter().position(|b| *b == b'\n') else {
                break;
            };
            match &rest[7..end] {
                b"hotspots" => {
                    batches += 1;
                    let _ = tx.send(Heard::Hotspots(batches, Instant::now()));
                }
                b"resync" => {
                    let _ = tx.send(Heard::Resync);
                }
                _ => {}
            }
            at += i + end;
        }
        text.drain(..text.len().saturating_sub(64).max(at));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A FIRMS CSV of `rows` hotspots of the last two hours, spread over every county of the grid.
fn batch_csv(rng: &mut ChaCha8Rng, rows: usize) -> Vec<u8> {
    let mut hs = hotspots(rng, rows);
    let now = chrono::Utc::now();
    for (i, h) in hs.iter_mut().enumerate() {
        // County i % 40: the grid's 0.1° columns from 113° E.
        h.longitude = 113.0 + (i as i64 % COUNTIES) as f64 * 0.1 + rng.gen_range(0.01..0.09);
        h.acq_time = now - chrono::Duration::minutes(rng.gen_range(5..120));
    }
    let mut out = Vec::new();
    write_csv(&mut out, &hs).unwrap();
    out
}

/// Runs the SSE mode with `n` streams against the server `bin` with `config` (its store: `store`,
/// empty) and data directory `data`.
pub fn run(bin: &Path, n: usize, store: &str, config: &Path, data: &Path) {
    let limit = raise_nofile();
    println!("## SSE: {n} live streams on one `strawfire serve` ({store} store)");
    println!("open-file limit of the bench and its server: {limit}");
    if (limit as usize) < n + 200 {
        println!(
            "the open-file limit ({limit}) is below {n} streams + 200: raise the hard limit (`ulimit -Hn`, LimitNOFILE=) and run again"
        );
        return;
    }
    let batches: usize = std::env::var("STRAWFIRE_BENCH_SSE_BATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let rows: usize = std::env::var("STRAWFIRE_BENCH_SSE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let server = Server::start(bin, config, data);
    let pid = server.pid.to_string();
    let addr = server
        .base
        .strip_prefix("http://")
        .expect("an http base")
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::new();
    rt.block_on(async {
        // Let the server settle (layers loaded, first allocations done) before the baseline.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss0 = vm_mib(&pid, "VmRSS:");
        let (fds0, threads0) = fds_threads(server.pid);
        let tcp0 = tcp_mem_mib();
        let cpu0 = cpu_s(&pid);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = watch::channel(false);
        let connecting = Arc::new(Semaphore::new(CONNECTING));
        let t = Instant::now();
        let mut admins = 0usize;
        for i in 0..n {
            let token = if i % 10 == 0 {
                admins += 1;
                ADMIN.to_string()
            } else {
                county_token(410_500 + (i as i64 % COUNTIES))
            };
            tokio::spawn(stream(
                addr.clone(),
                token,
                connecting.clone(),
                tx.clone(),
                stop_rx.clone(),
            ));
        }
        drop(tx);
        let mut failures: Vec<String> = Vec::new();
        let mut opened = 0usize;
        while opened + failures.len() < n {
            match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
                Ok(Some(Heard::Hello)) => opened += 1,
                Ok(Some(Heard::Failed(why))) => failures.push(why),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let open_s = t.elapsed().as_secs_f64();
        let open_cpu = cpu_s(&pid) - cpu0;
        // Idle a moment: what the streams hold, not what opening them left in flight.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss1 = vm_mib(&pid, "VmRSS:");
        let (fds1, threads1) = fds_threads(server.pid);
        let tcp1 = tcp_mem_mib();
        println!(
            "opened {opened} of {n} streams ({admins} admin, the rest county tokens over {COUNTIES} counties) in {open_s:.1} s, server CPU {open_cpu:.1} s; {} failed{}",
            failures.len(),
            if failures.is_empty() {
                String::new()
            } else {
                format!(" (first: {})", failures[..failures.len().min(3)].join("; "))
            }
        );
        println!(
            "server RSS {rss0:.1} MiB before, {rss1:.1} MiB with the streams open: {:.1} KiB per stream; open files {fds0} → {fds1}, threads {threads0} → {threads1}; kernel TCP memory {tcp0:.1} → {tcp1:.1} MiB (both ends)",
            (rss1 - rss0) * 1024.0 / opened.max(1) as f64
        );

        // Batches: every open stream must hear each one.
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        let mut missing_total = 0usize;
        let mut resyncs = 0usize;
        for b in 1..=batches {
            let body = batch_csv(&mut rng, rows);
            let load = loadavg();
            let cpu_b = cpu_s(&pid);
            let t0 = Instant::now();
            let r = client
                .post(format!("{}/api/v1/hotspots", server.base))
                .bearer_auth(ADMIN)
                .header("content-type", "text/csv")
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "POST: {}", r.status());
            let _ = r.bytes().await;
            let answered = t0.elapsed();
            let mut lat: Vec<Duration> = Vec::with_capacity(opened);
            let deadline = Instant::now() + Duration::from_secs(60);
            while lat.len() < opened {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, rx.recv()).await {
                    Ok(Some(Heard::Hotspots(k, at))) if k == b => lat.push(at - t0),
                    Ok(Some(Heard::Resync)) => resyncs += 1,
                    Ok(Some(Heard::Failed(why))) => failures.push(why),
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
            let fan_cpu = cpu_s(&pid) - cpu_b;
            let missing = opened - lat.len();
            missing_total += missing;
            lat.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            if lat.is_empty() {
                println!("batch {b}: no stream heard it");
                continue;
            }
            println!(
                "batch {b} ({rows} hotspots, load average {load:.1}): POST answered in {:.1} ms; {} of {opened} streams heard it, from the POST: p50 {:.1} ms, p99 {:.1} ms, last {:.1} ms; server CPU {fan_cpu:.2} s for the batch and its fan-out",
                ms(answered),
                lat.len(),
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99)),
                ms(*lat.last().unwrap()),
            );
        }
        let rss2 = vm_mib(&pid, "VmRSS:");
        println!(
            "after the batches: server RSS {rss2:.1} MiB (peak {:.1} MiB); streams that missed a batch: {missing_total}; resyncs: {resyncs}; failures: {}",
            vm_mib(&pid, "VmHWM:"),
            failures.len()
        );
        let _ = stop_tx.send(true);
        tokio::time::sleep(Duration::from_millis(200)).await;
    });
    let t = Instant::now();
    server.stop();
    println!(
        "server stopped (SIGTERM, graceful) in {:.2} s",
        t.elapsed().as_secs_f64()
    );
}
