//! Paged, streamed list answers: bounded memory per request whatever the store holds.
//!
//! Every list route answers one page: `limit` rows (default [`DEFAULT_LIMIT`], at most
//! [`MAX_LIMIT`]; more is a 400 naming `limit`, not a silent cut) and `next`, an opaque cursor to
//! pass back as `cursor=` (with the same filters) for the following page, `null` on the last.
//! Cursors are keysets (the order column and the id of the last row sent), so walking `next`
//! returns every row once even while rows are inserted, and a page costs an index range, not an
//! offset scan.
//!
//! Big pages are streamed: a blocking thread reads rows from the store one at a time, serializes
//! each into a buffer and hands 64 KiB chunks to the response body over a channel of
//! [`CHANNEL_CHUNKS`] places. The reader waits when the client reads slowly and stops when it goes
//! away, so a request holds a few chunks and one SQLite statement, never the whole answer (issue
//! 15: one `limit=100000` request used to take the server from 157 MB to 1.23 GB). The status is
//! decided when the first chunk is ready: an answer that fails before it (most do, being small)
//! gets its proper error status; one that fails later is cut off, so the client sees a broken
//! transfer rather than a wrong list.
//!
//! An answer that fits in its first chunk (a map view's few dozen features, most pages) is sent
//! as one body with its `Content-Length`, not chunked: the reader marks its last chunk, so the
//! answer is known to be whole without waiting for the reader thread to end, and its head, body
//! and end leave in one write. Before, the end of a chunked answer could be written apart from
//! the rest (when the reader thread had not yet dropped its sender), and on a connection without
//! `TCP_NODELAY` those few bytes waited for the client's delayed ACK: about 40 ms more for some
//! requests, the tail of the 50-client load run (BENCHMARKS.md).

use std::collections::HashMap;
use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::ApiError;

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: usize = 1_000;
/// The largest page.
pub const MAX_LIMIT: usize = 5_000;
/// Bytes of a streamed chunk.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Chunks in flight between the reader and the connection.
pub const CHANNEL_CHUNKS: usize = 4;

/// `limit`: 1..=[`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn limit(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    match q.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::field(
                    "limit",
                    format!(
                        "an integer from 1 to {MAX_LIMIT} (rows per page); follow `next` for more"
                    ),
                )
            }),
    }
}

/// A decoded cursor: the order value and id of the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

/// The cursor for the page after a row of list `kind` (`hotspots`, `events`, `tasks`, ...).
/// Opaque to clients: hex of `kind:at:id`.
pub fn encode(kind: &str, at: i64, id: i64) -> String {
    format!("{kind}:{at}:{id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `cursor=` of list `kind`, if given; a cursor of another list or a mangled one → 400.
pub fn cursor(q: &HashMap<String, String>, kind: &str) -> Result<Option<Cursor>, ApiError> {
    let Some(v) = q.get("cursor") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::field(
            "cursor",
            format!(
                "not a cursor of this list: pass the `next` of a previous {kind} page as it is"
            ),
        )
    };
    let v = v.trim();
    if v.len() % 2 != 0 || v.len() > 200 {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> = (0..v.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(v.get(i..i + 2)?, 16).ok())
        .collect();
    let text = bytes
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let mut parts = text.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(at), Some(id), None) if k == kind => Ok(Some(Cursor {
            at: at.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })),
        _ => Err(bad()),
    }
}

/// What the reader thread hands to the response.
enum Msg {
    /// A chunk with more to follow.
    Chunk(Bytes),
    /// The last chunk: the answer is whole.
    Last(Bytes),
    Failed(ApiError),
}

/// Where a streamed answer is written: buffers, and sends a chunk when [`CHUNK_BYTES`] are
/// ready. A write fails with `BrokenPipe` once the client has gone, which ends the reader.
pub struct Sink {
    tx: mpsc::Sender<Msg>,
    buf: Vec<u8>,
}

impl Sink {
    /// Sends what is buffered, as the `last` chunk or with more to follow.
    fn send(&mut self, last: bool) -> std::io::Result<()> {
        let next = if last {
            Vec::new()
        } else {
            Vec::with_capacity(CHUNK_BYTES + 1024)
        };
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, next));
        let msg = if last {
            Msg::Last(chunk)
        } else {
            Msg::Chunk(chunk)
        };
        self.tx
            .blocking_send(msg)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }

    /// Writes one JSON value.
    pub fn json(&mut self, v: &impl serde::Serialize) -> std::io::Result<()> {
        serde_json::to_writer(&mut *self, v).map_err(std::io::Error::other)
    }
}

impl Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(b);
        if self.buf.len() >= CHUNK_BYTES {
            self.send(false)?;
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Why a streamed producer stopped early.
pub enum Stop {
    /// The client went away: nothing more to do.
    Gone,
    /// A failure to answer (or to cut the answer with, when it comes after the first chunk).
    Failed(ApiError),
}

impl From<std::io::Error> for Stop {
    fn from(_: std::io::Error) -> Stop {
        Stop::Gone
    }
}

impl From<crate::store::StoreError> for Stop {
    fn from(e: crate::store::StoreError) -> Stop {
        Stop::Failed(ApiError::from(crate::service::ServiceError::from(e)))
    }
}

/// Runs `produce` on a blocking thread and answers with what it writes, as it writes it: in one
/// body with its length when it all fits in the first chunk, else chunked.
pub async fn streamed(
    content_type: &'static str,
    produce: impl FnOnce(&mut Sink) -> Result<(), Stop> + Send + 'static,
) -> Result<Response, ApiError> {
    let (tx, mut rx) = mpsc::channel::<Msg>(CHANNEL_CHUNKS);
    let worker = tokio::task::spawn_blocking(move || {
        let mut sink = Sink {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK_BYTES + 1024),
        };
        match produce(&mut sink) {
            Ok(()) => {
                let _ = sink.send(true);
            }
            Err(Stop::Gone) => {}
            Err(Stop::Failed(e)) => {
                let _ = tx.blocking_send(Msg::Failed(e));
            }
        }
    });
    let first = match rx.recv().await {
        Some(Msg::Last(b)) => {
            // The whole answer: one body of known length, written with its head at once.
            return Ok(([(header::CONTENT_TYPE, content_type)], b).into_response());
        }
        Some(Msg::Chunk(b)) => b,
        Some(Msg::Failed(e)) => return Err(e),
        None => {
            // The reader ended without a word: it panicked.
            let why = match worker.await {
                Err(e) => e.to_string(),
                Ok(()) => "the list reader stopped".into(),
            };
            return Err(ApiError::Internal(why));
        }
    };
    // The chunks after the first, until the last; the body ends with the last chunk (not when
    // the reader thread has gone), and a reader that stops without a last chunk cuts it off.
    let rest = futures_util::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Msg::Chunk(b)) => Some((Ok(b), Some(rx))),
            Some(Msg::Last(b)) => Some((Ok(b), None)),
            Some(Msg::Failed(e)) => {
                tracing::error!("a streamed list failed after its first chunk: {e:?}");
                Some((Err(std::io::Error::other("list cut off")), None))
            }
            None => {
                tracing::error!("a streamed list's reader stopped before its end");
                Some((Err(std::io::Error::other("list cut off")), None))
            }
        }
    });
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }),
        rest,
    );
    Ok((
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(body),
    )
        .into_response())
}

/// Rows read per store call of a streamed page: the reader connection is held while they are
/// read, then given back before they are serialized and sent, so a client that reads slowly
/// holds no connection (a pool of them serves every request), only this many rows at most.
pub const FETCH_ROWS: usize = 256;

/// One page of a list streamed as a GeoJSON FeatureCollection with its `next` cursor. `fetch`
/// reads the store's rows in the list's order: called with `None` it starts where the request's
/// own filters and cursor say, with `Some(cursor)` after that row; it hands at most `n` rows to
/// its visitor, each call on a reader connection of its own that it gives back on return. The
/// page is read [`FETCH_ROWS`] at a time (asked for `limit + 1` in all), and each batch is
/// serialized and sent with no connection held. `key` gives a row's (time, id) for the cursor,
/// `feature` writes its GeoJSON (`sink.json(..)` of a value that serializes as the feature).
/// The one loop of hotspots, events, tasks and units.
pub async fn stream_features<R>(
    kind: &'static str,
    limit: usize,
    fetch: impl Fn(Option<Cursor>, usize, &mut dyn FnMut(R) -> bool) -> Result<(), crate::store::StoreError>
        + Send
        + 'static,
    key: impl Fn(&R) -> (i64, i64) + Send + 'static,
    feature: impl Fn(&R, &mut Sink) -> std::io::Result<()> + Send + 'static,
) -> Result<Response, ApiError>
where
    R: Send + 'static,
{
    streamed("application/geo+json", move |sink| {
        sink.write_all(br#"{"type":"FeatureCollection","features":["#)?;
        let mut page = PageWriter::new(limit);
        let mut from: Option<Cursor> = None;
        let mut rows: Vec<R> = Vec::with_capacity(FETCH_ROWS.min(limit + 1));
        'page: loop {
            // One more than the page still holds tells whether a next page follows.
            let ask = FETCH_ROWS.min(limit + 1 - page.written);
            rows.clear();
            fetch(from, ask, &mut |row| {
                rows.push(row);
                true
            })?;
            for row in &rows {
                let (at, id) = key(row);
                if !page.take(at, id) {
                    break 'page;
                }
                sink.write_all(page.comma())?;
                feature(row, sink)?;
            }
            if rows.len() < ask {
                break;
            }
            from = page.last;
        }
        sink.write_all(br#"],"next":"#)?;
        sink.json(&page.next(kind))?;
        sink.write_all(b"}")?;
        Ok(())
    })
    .await
}

/// A page being written: rows are counted, the row after the last one asked for only tells that
/// there is a next page (the store is asked for `limit + 1`).
pub struct PageWriter {
    limit: usize,
    written: usize,
    last: Option<Cursor>,
    more: bool,
}

impl PageWriter {
    pub fn new(limit: usize) -> PageWriter {
        PageWriter {
            limit,
            written: 0,
            last: None,
            more: false,
        }
    }

    /// Whether the row keyed `at`, `id` belongs to this page (and records it); false once the
    /// page is full, which also means there is a next page.
    pub fn take(&mut self, at: i64, id: i64) -> bool {
        if self.written == self.limit {
            self.more = true;
            return false;
        }
        self.written += 1;
        self.last = Some(Cursor { at, id });
        true
    }

    /// A separator before every row but the first.
    pub fn comma(&self) -> &'static [u8] {
        if self.written > 1 {
            b","
        } else {
            b""
        }
    }

    /// The cursor of the next page, if there is one.
    pub fn next(&self, kind: &str) -> Option<String> {
        match (self.more, self.last) {
            (true, Some(c)) => Some(encode(kind, c.at, c.id)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_list() {
        let c = encode("hotspots", 1_717_870_000, 42);
        assert!(c.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            cursor(&q(&[("cursor", &c)]), "hotspots").unwrap(),
            Some(Cursor {
                at: 1_717_870_000,
                id: 42
            })
        );
        for bad in [c.as_str(), "zz", "abc", "", "6869"] {
            let err = cursor(&q(&[("cursor", bad)]), "events").unwrap_err();
            assert!(matches!(err, ApiError::BadField { ref field, .. } if field == "cursor"));
        }
        assert_eq!(cursor(&q(&[]), "events").unwrap(), None);
    }

    #[test]
    fn limits_are_capped_by_a_400_naming_limit() {
        assert_eq!(limit(&q(&[])).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(&q(&[("limit", "5000")])).unwrap(), 5000);
        for bad in ["0", "5001", "100000", "-1", "x"] {
            assert!(matches!(
                limit(&q(&[("limit", bad)])),
                Err(ApiError::BadField { ref field, .. }) if field == "limit"
            ));
        }
    }

    async fn answer(
        produce: impl FnOnce(&mut Sink) -> Result<(), Stop> + Send + 'static,
    ) -> (Option<u64>, Result<Bytes, axum::Error>) {
        use axum::body::HttpBody;
        let r = streamed("application/json", produce).await.ok().unwrap();
        let exact = r.body().size_hint().exact();
        (exact, axum::body::to_bytes(r.into_body(), usize::MAX).await)
    }

    #[tokio::test]
    async fn a_small_answer_is_one_body_of_known_length() {
        let (len, body) = answer(|sink| {
            sink.write_all(b"[1,")?;
            sink.json(&2)?;
            sink.write_all(b"]")?;
            Ok(())
        })
        .await;
        assert_eq!(len, Some(5), "not chunked: the length is known");
        assert_eq!(&body.unwrap()[..], b"[1,2]");
    }

    #[tokio::test]
    async fn a_big_answer_is_streamed_whole_and_a_broken_one_is_cut_off() {
        let text: Vec<u8> = (0..3 * CHUNK_BYTES + 10)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        let sent = text.clone();
        let (len, body) = answer(move |sink| {
            for part in sent.chunks(1000) {
                sink.write_all(part)?;
            }
            Ok(())
        })
        .await;
        assert_eq!(len, None, "chunked");
        assert_eq!(&body.unwrap()[..], &text[..]);

        // A reader that stops after its first chunk without an end (a panic) breaks the
        // transfer; the client must not take the part for a whole list.
        let (_, body) = answer(|sink| {
            sink.write_all(&vec![b'x'; CHUNK_BYTES + 1])?;
            panic!("the reader fails after its first chunk");
        })
        .await;
        assert!(body.is_err(), "a cut list must not end like a whole one");
    }

    #[tokio::test]
    async fn a_failure_before_the_first_chunk_is_an_error_answer() {
        let r = streamed("application/json", |_sink| {
            Err(Stop::Failed(ApiError::NotFound("nothing".into())))
        })
        .await;
        assert!(matches!(r, Err(ApiError::NotFound(_))));
    }

    #[test]
    fn a_page_knows_whether_another_follows() {
        let mut p = PageWriter::new(2);
        assert!(p.take(10, 1) && p.take(10, 2));
        assert_eq!(p.next("h"), None, "no third row seen yet");
        assert!(!p.take(11, 3));
        assert_eq!(p.next("h"), Some(encode("h", 10, 2)));
        let mut last = PageWriter::new(5);
        assert!(last.take(1, 1));
        assert_eq!(last.next("h"), None);
    }
}
