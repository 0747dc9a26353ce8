//! Headless Chromium driven through chromedriver (WebDriver) for the page tests.
//!
//! [`Browser::start`] runs chromedriver on a free loopback port with a fresh profile directory
//! and the flags an offline, root, GPU-less machine needs; dropping the `Browser` ends the
//! session and kills chromedriver (and with it Chromium). chromium and chromium-driver are
//! Debian packages that `scripts/deps.sh` installs when missing. Waits poll a condition with a
//! timeout; nothing sleeps a fixed time.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// Chromium's flags: headless, as root, no GPU, and nothing that phones home.
pub const CHROME_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--disable-breakpad",
    "--disable-crash-reporter",
];

/// How long a condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Browser {
    pub client: Client,
    /// chromedriver's base URL (for its Chrome DevTools endpoint, [`Browser::cdp`]).
    pub driver_url: String,
    driver: Child,
    profile: tempfile::TempDir,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

impl Browser {
    /// Starts chromedriver and a Chromium session with a `width`×`height` window.
    pub async fn start(width: u32, height: u32) -> Browser {
        Browser::start_with_prefs(width, height, None).await
    }

    /// [`Browser::start`] with Chromium profile preferences (`goog:chromeOptions.prefs`), e.g.
    /// `{"profile.default_content_setting_values.notifications": 1}` to allow notifications.
    pub async fn start_with_prefs(
        width: u32,
        height: u32,
        prefs: Option<serde_json::Value>,
    ) -> Browser {
        let driver_bin = find(&["chromedriver"])
            .expect("chromedriver not found: run scripts/deps.sh (Debian package chromium-driver)");
        let chrome_bin = find(&["chromium", "chromium-browser", "google-chrome"])
            .expect("chromium not found: run scripts/deps.sh (Debian package chromium)");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = CHROME_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={width},{height}"));
        let mut caps = serde_json::Map::new();
        let mut options = serde_json::json!({"args": args, "binary": chrome_bin});
        if let Some(p) = prefs {
            options["prefs"] = p;
        }
        caps.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let t0 = Instant::now();
        // chromedriver takes a moment to listen: retry the session until it does.
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    assert!(t0.elapsed() < WAIT, "chromedriver session: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let mut b = Browser {
            client,
            driver_url: url.clone(),
            driver,
            profile,
        };
        b.set_viewport(width, height).await;
        b
    }

    /// Makes the page's viewport (not the window) `width`×`height` CSS pixels.
    pub async fn set_viewport(&mut self, width: u32, height: u32) {
        let inner: Vec<u64> = serde_json::from_value(
            self.js("return [window.innerWidth, window.innerHeight]", vec![])
                .await,
        )
        .unwrap();
        let (w, h) = self.client.get_window_size().await.unwrap();
        let want_w = w + width as u64 - inner[0];
        let want_h = h + height as u64 - inner[1];
        self.client
            .set_window_size(want_w as u32, want_h as u32)
            .await
            .unwrap();
    }

    /// Runs a script and returns its value.
    pub async fn js(&self, script: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        self.client.execute(script, args).await.unwrap()
    }

    /// Polls `script` until it returns something truthy (not null/false/0/""), and returns it.
    pub async fn wait_js(&self, what: &str, script: &str) -> serde_json::Value {
        let t0 = Instant::now();
        loop {
            let v = self.js(script, vec![]).await;
            let truthy = match &v {
                serde_json::Value::Null => false,
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
                serde_json::Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            if t0.elapsed() > WAIT {
                let shot = self.screenshot(&format!("timeout-{}", slug(what))).await;
                panic!("timed out waiting for {what} (last value {v}); screenshot {shot:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types into the element matched by a CSS selector.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Chooses the option with `value` in the `<select>` matched by a CSS selector.
    pub async fn select(&self, css: &str, value: &str) {
        for attempt in 0.. {
            let found = self.client.find(Locator::Css(css)).await.unwrap();
            match found.select_by_value(value).await {
                Err(e) if is_stale(&e) && attempt < 20 => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                r => return r.map(|_| ()).unwrap(),
            }
        }
    }

    /// Clicks the element matched by a CSS selector. A page that redraws a list between the
    /// find and the click (live updates, a page of results arriving) leaves a stale element:
    /// it is found again, as a person would click the redrawn item.
    pub async fn click(&self, css: &str) {
        for attempt in 0.. {
            let found = self.client.find(Locator::Css(css)).await.unwrap();
            match found.click().await {
                Err(e) if is_stale(&e) && attempt < 20 => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                r => return r.map(|_| ()).unwrap(),
            }
        }
    }

    /// Runs a Chrome DevTools Protocol command on the page (chromedriver's `goog/cdp/execute`),
    /// e.g. `Network.emulateNetworkConditions` to take the page's network away.
    pub async fn cdp(&self, cmd: &str, params: serde_json::Value) -> serde_json::Value {
        let id = self.client.session_id().await.unwrap().unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/session/{id}/goog/cdp/execute", self.driver_url))
            .header("content-type", "application/json")
            .body(serde_json::json!({"cmd": cmd, "params": params}).to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: serde_json::Value =
            serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or_default();
        assert!(status.is_success(), "{cmd}: {status} {v}");
        v
    }

    /// Saves a PNG screenshot under `<target>/browser-artifacts/` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(&path, png).unwrap();
        }
        path
    }

    /// Ends the session (Chromium exits); chromedriver is killed on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Kills chromedriver and, when a test failed before [`Browser::close`], the Chromium it
    /// started: killing chromedriver alone would leave Chromium running. Chromium's processes are
    /// found by the profile directory on their command line, which is unique to this browser.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let marker = format!("--user-data-dir={}", self.profile.path().display());
        for pid in processes_with_arg(&marker) {
            let _ = Command::new("kill")
                .arg("-9")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Ids of the processes one of whose arguments is `arg` (from `/proc/<pid>/cmdline`).
fn processes_with_arg(arg: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        cmdline
            .split(|&b| b == 0)
            .any(|a| a == arg.as_bytes())
            .then_some(pid)
    })
    .collect()
}

/// `<target dir>/browser-artifacts`: kept after the run for a person to look at.
pub fn artifacts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("browser-artifacts"))
        .unwrap_or_else(|| PathBuf::from("target/browser-artifacts"))
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Whether a WebDriver command failed because its element was redrawn since it was found.
fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    format!("{e:?}").contains("StaleElementReference")
}
