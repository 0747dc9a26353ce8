//! A real webhook receiver on loopback (axum, port 0) for the notification tests. It records
//! every request (idempotency key, notice kind, content type, body) and behaves like a careful
//! chat-robot bridge: it dedups by `Idempotency-Key`, so a repeat of a key it already took is
//! answered 200 but not taken again. It can be switched between answering 200, 503, 404 a few
//! times, dropping
//! every new connection before reading it, holding the first request open, and being down
//! (nothing listening: connection refused), then back up on the same port.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::net::{TcpListener, TcpStream};

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200 `{"errcode":0,"errmsg":"ok"}`.
    Ok,
    /// 503.
    Unavailable,
    /// Accepts each new TCP connection and closes it at once, without a response.
    Drop,
    /// Takes the first request (it counts as taken) and never answers it; later ones as `Ok`.
    HoldFirst,
    /// Answers 404 (as a bridge being redeployed does) to the next `n` requests, then as `Ok`.
    NotFoundFor(u32),
}

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub key: String,
    pub kind: String,
    pub attempt: String,
    pub content_type: String,
    pub body: serde_json::Value,
    /// The status answered; 0 when the request was held and never answered.
    pub answered: u16,
    /// True when its key had been taken before (a repeat, answered 200 and dropped).
    pub repeat: bool,
}

#[derive(Default)]
struct Shared {
    mode: Mutex<Option<Mode>>,
    seen: Mutex<Vec<Seen>>,
    /// Keys taken (answered 200, or held): a later request with one of them is a repeat.
    taken: Mutex<std::collections::BTreeSet<String>>,
    held_one: Mutex<bool>,
    dropped_connections: Mutex<usize>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    pub async fn start(mode: Mode) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        *shared.mode.lock().unwrap() = Some(mode);
        let mut r = Receiver {
            addr,
            shared,
            server: None,
        };
        r.serve(listener);
        r
    }

    fn serve(&mut self, listener: TcpListener) {
        let app = Router::new()
            .route("/hook/{name}", post(hook))
            .route(
                "/gone",
                post(|| async { (StatusCode::GONE, "no such robot") }),
            )
            .with_state(self.shared.clone());
        let listener = Dropping {
            inner: listener,
            shared: self.shared.clone(),
        };
        self.server = Some(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }));
    }

    /// The URL of a hook path on this receiver (`/hook/<name>`, or `/gone`: always 410).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    /// Stops listening: new connections are refused until [`Receiver::up`].
    pub fn down(&mut self) {
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn up(&mut self, mode: Mode) {
        self.down();
        self.set_mode(mode);
        // The aborted task releases its socket when it is dropped; retry the bind briefly.
        let t0 = std::time::Instant::now();
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(_) if t0.elapsed() < std::time::Duration::from_secs(5) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Idempotency key → how many requests with it were answered 200. Exactly once per
    /// notification and webhook is what the sender promises.
    pub fn ok_counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in self.seen().iter().filter(|s| s.answered == 200) {
            *m.entry(s.key.clone()).or_default() += 1;
        }
        m
    }

    /// Requests answered 200 that the receiver had already taken (repeats it dropped).
    pub fn repeats(&self) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.repeat).collect()
    }

    pub fn dropped_connections(&self) -> usize {
        *self.shared.dropped_connections.lock().unwrap()
    }

    /// True once a request is being held open.
    pub fn holding(&self) -> bool {
        *self.shared.held_one.lock().unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

/// Drops new connections while the mode is [`Mode::Drop`].
struct Dropping {
    inner: TcpListener,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for Dropping {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Ok((stream, addr)) = self.inner.accept().await else {
                continue;
            };
            if *self.shared.mode.lock().unwrap() == Some(Mode::Drop) {
                *self.shared.dropped_connections.lock().unwrap() += 1;
                drop(stream);
                continue;
            }
            return (stream, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

async fn hook(
    State(sh): State<Arc<Shared>>,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let mut seen = Seen {
        path: uri.path().to_string(),
        key: header("idempotency-key"),
        kind: header("x-strawfire-notice"),
        attempt: header("x-strawfire-attempt"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        answered: 200,
        repeat: false,
    };
    let mode = sh.mode.lock().unwrap().unwrap_or(Mode::Ok);
    let hold = mode == Mode::HoldFirst && {
        let mut held = sh.held_one.lock().unwrap();
        !std::mem::replace(&mut *held, true)
    };
    if let Mode::NotFoundFor(n) = mode {
        let mut m = sh.mode.lock().unwrap();
        *m = Some(if n > 1 {
            Mode::NotFoundFor(n - 1)
        } else {
            Mode::Ok
        });
        drop(m);
        seen.answered = 404;
        sh.seen.lock().unwrap().push(seen);
        return (StatusCode::NOT_FOUND, "no route yet").into_response();
    }
    if mode == Mode::Unavailable {
        seen.answered = 503;
        sh.seen.lock().unwrap().push(seen);
        return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
    }
    seen.repeat = !sh.taken.lock().unwrap().insert(seen.key.clone());
    if hold {
        seen.answered = 0;
        sh.seen.lock().unwrap().push(seen);
        // Taken, but the answer never leaves: the sender cannot know it arrived.
        return std::future::pending::<Response>().await;
    }
    sh.seen.lock().unwrap().push(seen);
    (
        [("content-type", "application/json")],
        r#"{"errcode":0,"errmsg":"ok"}"#,
    )
        .into_response()
}

/// A webhook entry for the test config.
pub fn webhook(
    name: &str,
    unit: &str,
    url: String,
    format: strawfire::config::WebhookFormat,
) -> strawfire::config::WebhookConfig {
    strawfire::config::WebhookConfig {
        name: name.into(),
        unit: unit.into(),
        url,
        format,
        headers: Default::default(),
        kinds: None,
        mentioned_mobile_list: Vec::new(),
    }
}

/// `[notify]` for tests: polled every 20 ms of real time; backoff 10–60 s of the moved clock.
pub fn fast_notify(c: &mut strawfire::config::Config, max_attempts: u32) {
    c.notify.poll_s = 0.02;
    c.notify.timeout_s = 5.0;
    c.notify.max_attempts = max_attempts;
    c.notify.backoff_base_s = 10.0;
    c.notify.backoff_max_s = 60.0;
}
