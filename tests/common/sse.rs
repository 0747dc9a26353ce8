//! Reading the live stream (`GET /api/v1/stream`) in tests: server-sent events frame by frame.

use std::time::Duration;

use super::server::TestServer;

/// Reads SSE frames from a streaming response until one named `name` arrives.
pub struct SseReader {
    resp: reqwest::Response,
    buf: String,
}

impl SseReader {
    pub async fn open(srv: &TestServer, token: &str, header: bool) -> SseReader {
        let req = if header {
            srv.client.get(srv.url("/api/v1/stream")).bearer_auth(token)
        } else {
            srv.client
                .get(srv.url(&format!("/api/v1/stream?token={token}")))
        };
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        SseReader {
            resp,
            buf: String::new(),
        }
    }

    /// The next event (name, data) within `timeout`, or `None`.
    pub async fn next(&mut self, timeout: Duration) -> Option<(String, serde_json::Value)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = n.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim());
                    }
                }
                if data.is_empty() || name == "ping" {
                    continue; // a keep-alive
                }
                return Some((name, serde_json::from_str(&data).unwrap()));
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) | Err(_) => return None,
            }
        }
    }

    /// The next event named `name` (others are skipped); panics after 10 s without one.
    pub async fn expect(&mut self, name: &str) -> serde_json::Value {
        loop {
            match self.next(Duration::from_secs(10)).await {
                Some((n, d)) if n == name => return d,
                Some(_) => continue,
                None => panic!("no `{name}` event on the stream"),
            }
        }
    }
}
