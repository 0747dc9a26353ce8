//! Reading the rest of a request body the handler did not want, so that its answer arrives.
//!
//! A handler that refuses a body (413 over the route's limit, 401, 404 of the task a photo is
//! for) drops it unread. hyper then closes the connection after the answer with the client's
//! remaining bytes unread, and the kernel answers those bytes with a reset, which destroys the
//! answer on the client's side: a patrol uploading a too-big photo saw "connection reset" or
//! "broken pipe" instead of the 413 and its Chinese message. Every request body is therefore
//! wrapped in [`DrainOnDrop`]: dropped before its end, it is handed to a task that keeps reading
//! it (hyper keeps the connection's read side going while someone holds the body) and throws
//! each chunk away, never buffering the body, until its end, [`drain_cap`] more bytes or
//! [`DRAIN_TIMEOUT`], whichever comes first; past a bound the connection is closed as before.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};

/// How long a refused body is read at most (a client sending slowly gets the close after this).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// The least a refused body is read on (a route with a small limit still lets a client finish
/// an upload of a few MiB and read its answer).
const DRAIN_MIN_BYTES: u64 = 4 << 20;

/// The most a refused body is read on, whatever the route's limit (a 1 GiB scene limit).
const DRAIN_MAX_BYTES: u64 = 64 << 20;

/// Bytes read on after a body of a route with body limit `limit_bytes` was refused: four times
/// the limit, within [4 MiB, 64 MiB].
pub fn drain_cap(limit_bytes: usize) -> u64 {
    (limit_bytes as u64)
        .saturating_mul(4)
        .clamp(DRAIN_MIN_BYTES, DRAIN_MAX_BYTES)
}

/// A request body that, dropped before its end, is read to its end (or a bound) by a task of
/// its own and thrown away.
pub struct DrainOnDrop {
    inner: Option<Body>,
    /// The body said it ended (`poll_frame` gave `None`).
    ended: bool,
    cap: u64,
}

impl DrainOnDrop {
    pub fn new(body: Body, cap: u64) -> DrainOnDrop {
        DrainOnDrop {
            inner: Some(body),
            ended: false,
            cap,
        }
    }
}

impl HttpBody for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None) = frame {
            self.ended = true;
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner
            .as_ref()
            .map(|b| b.size_hint())
            .unwrap_or_else(|| http_body::SizeHint::with_exact(0))
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if self.ended || body.is_end_stream() {
            return;
        }
        // Outside a runtime (a test building requests by hand) there is no connection to keep.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(drain(body, self.cap));
        }
    }
}

/// Reads `body` to its end, `cap` bytes or [`DRAIN_TIMEOUT`], keeping nothing.
async fn drain(body: Body, cap: u64) {
    let mut body = body;
    let mut read = 0u64;
    let reading = async {
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let Ok(frame) = frame else { return };
            if let Some(data) = frame.data_ref() {
                read += data.len() as u64;
                if read > cap {
                    return;
                }
            }
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, reading).await.is_err() {
        tracing::debug!("a refused request body still coming after {DRAIN_TIMEOUT:?}: closing");
    }
}

/// Middleware (`map_request_with_state`) wrapping the request's body in a [`DrainOnDrop`] reading
/// on at most `cap` bytes.
pub async fn wrap(State(cap): State<u64>, req: Request) -> Request {
    req.map(|body| Body::new(DrainOnDrop::new(body, cap)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_four_limits_within_its_bounds() {
        assert_eq!(drain_cap(16 << 10), 4 << 20);
        assert_eq!(drain_cap(16 << 20), 64 << 20);
        assert_eq!(drain_cap(5 << 20), 20 << 20);
        assert_eq!(drain_cap(1 << 30), 64 << 20);
        assert_eq!(drain_cap(usize::MAX), 64 << 20);
    }

    /// A body dropped half read is read to its end by the drain task; one read whole is not
    /// touched again.
    #[tokio::test]
    async fn a_body_dropped_before_its_end_is_read_to_its_end() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let mut body = DrainOnDrop::new(Body::from_stream(stream), 1 << 20);
        tx.send(Ok(Bytes::from_static(b"first"))).await.unwrap();
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        assert!(frame.unwrap().unwrap().is_data());
        drop(body);
        // The channel holds one item: three more sends only go through if someone reads.
        for _ in 0..3 {
            tokio::time::timeout(
                Duration::from_secs(5),
                tx.send(Ok(Bytes::from_static(b"rest"))),
            )
            .await
            .expect("the dropped body is read on")
            .unwrap();
        }
        drop(tx);
    }

    #[tokio::test]
    async fn the_drain_stops_at_its_cap() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        drop(DrainOnDrop::new(Body::from_stream(stream), 10));
        let chunk = Bytes::from_static(b"0123456789");
        // 10 bytes are read on; the 11th closes the body, and the sends after it fail.
        let mut sent = 0;
        for _ in 0..10 {
            let send = tokio::time::timeout(Duration::from_secs(5), tx.send(Ok(chunk.clone())));
            match send.await.expect("no send waits for ever") {
                Ok(()) => sent += 1,
                Err(_) => break,
            }
        }
        assert!((2..=3).contains(&sent), "{sent} chunks sent");
    }
}
