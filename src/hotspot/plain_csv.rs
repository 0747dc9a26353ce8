//! Plain CSV split into rows and fields on every core, without a string per field.
//!
//! FIRMS files are plain: no quotes, one record a line. Such a text is split here in chunks of
//! whole lines, each chunk on a rayon thread, each field a trimmed byte span of the text
//! ([`super::fields`]); anything less plain (a quote anywhere, a carriage return that does not
//! end a line) returns `None` and goes through the `csv` crate. Both give the same rows: lines
//! of nothing (or only a carriage return) are skipped, every other line is a record of its
//! comma-separated fields, each trimmed of Unicode white space, the first record the header
//! (`plain_split_equals_csv_crate` checks it on generated texts).
//!
//! Lines are numbered as they are in the file (1-based, the `\n`s before the record, plus
//! one), so that a warning names the line an editor shows, also after blank lines and in
//! CRLF files.

use std::sync::Arc;

use rayon::prelude::*;

use super::fields::{Fields, SpanTable};

/// Bytes per chunk of lines handed to a rayon task.
const CHUNK: usize = 128 * 1024;

/// A chunk split: per record its line counted from the chunk's first (0-based), its first
/// span and field count; the spans; the chunk's `\n`s.
type ChunkSplit = (Vec<(u64, u32, u32)>, Vec<[u32; 2]>, u64);

/// A plain text split: its header and its rows, in file order.
pub(super) struct PlainRows {
    pub header: Vec<String>,
    /// The rows (1-based line, fields), in file order.
    pub rows: Vec<(u64, Fields)>,
}

/// Splits `text[start..]` (after a byte-order mark, if any), which the caller found plain
/// ([`is_plain`]: the caller's other road depends on it, and a second look at every byte of
/// a field-scale file for quotes was a serial pass of its own). `None` for a text beyond
/// `u32` offsets.
pub(super) fn split(text: Arc<String>, start: usize) -> Option<PlainRows> {
    let bytes = &text.as_bytes()[start..];
    debug_assert!(is_plain(bytes));
    if text.len() > u32::MAX as usize {
        return None;
    }
    // The header: the first line with something on it.
    let mut at = 0;
    let mut line = 1u64;
    let header = loop {
        if at >= bytes.len() {
            // No header at all: the csv crate's answer (an empty header).
            return Some(PlainRows {
                header: Vec::new(),
                rows: Vec::new(),
            });
        }
        let end = next_newline(bytes, at);
        let content = strip_cr(&bytes[at..end]);
        at = end + 1;
        if !content.is_empty() {
            let s = std::str::from_utf8(content).expect("a slice of a String at line ends");
            break s
                .split(',')
                .map(|f| f.trim().to_string())
                .collect::<Vec<_>>();
        }
        line += 1;
    };
    line += 1;
    // Chunks of whole lines: each ends after a `\n` (or at the end of the text).
    let mut bounds = vec![at.min(bytes.len())];
    while *bounds.last().expect("one at least") < bytes.len() {
        let from = bounds.last().expect("one at least") + CHUNK;
        let end = if from >= bytes.len() {
            bytes.len()
        } else {
            next_newline(bytes, from) + 1
        };
        bounds.push(end.min(bytes.len()));
    }
    let pieces: Vec<ChunkSplit> = bounds
        .par_windows(2)
        .map(|w| split_chunk(&text, start + w[0], start + w[1]))
        .collect();
    // Local line numbers to file ones: each chunk starts after the `\n`s of the ones before.
    let mut all = Vec::with_capacity(pieces.iter().map(|(rows, _, _)| rows.len()).sum());
    for (rows, spans, newlines) in pieces {
        let table = Arc::new(SpanTable {
            text: Arc::clone(&text),
            spans,
        });
        all.extend(
            rows.into_iter()
                .map(|(local, first, len)| (line + local, Fields::shared(&table, first, len))),
        );
        line += newlines;
    }
    Some(PlainRows { header, rows: all })
}

/// The records of `text[from..to]` (whole lines), each line looked at once: a span at each
/// comma, the record at the line's end (a line of nothing, or of a carriage return only, has
/// no comma and is no record).
fn split_chunk(text: &str, from: usize, to: usize) -> ChunkSplit {
    let bytes = &text.as_bytes()[..to];
    // A FIRMS row is 80–120 bytes of 12–15 fields: room for all without regrowing.
    let mut rows = Vec::with_capacity((to - from) / 64 + 1);
    let mut spans = Vec::with_capacity((to - from) / 6 + 1);
    let mut at = from;
    let mut local = 0u64;
    while at < to {
        let first = spans.len();
        let mut f = at;
        let mut end = to;
        for (i, &b) in bytes[at..].iter().enumerate() {
            if b == b'\n' {
                end = at + i;
                break;
            }
            if b == b',' {
                spans.push(trimmed_span(text, f, at + i));
                f = at + i + 1;
            }
        }
        let content_end = at + strip_cr(&bytes[at..end]).len();
        if content_end > at {
            spans.push(trimmed_span(text, f, content_end));
            rows.push((local, first as u32, (spans.len() - first) as u32));
        }
        if end < to {
            local += 1;
        }
        at = end + 1;
    }
    (rows, spans, local)
}

/// The span of `text[a..b]` trimmed as `str::trim` does (Unicode white space), as offsets.
#[inline]
fn trimmed_span(text: &str, a: usize, b: usize) -> [u32; 2] {
    let field = &text[a..b];
    let bare = |c: u8| c.is_ascii() && !char::from(c).is_whitespace();
    // Nearly every field starts and ends with an ASCII character that is not white space:
    // nothing to trim, and no character decoded.
    if let (Some(&first), Some(&last)) = (field.as_bytes().first(), field.as_bytes().last()) {
        if bare(first) && bare(last) {
            return [a as u32, b as u32];
        }
    }
    let trimmed = field.trim_start();
    let start = a + (field.len() - trimmed.len());
    [start as u32, (start + trimmed.trim_end().len()) as u32]
}

/// Position of the next `\n` at or after `at`, or the end of `bytes`.
#[inline]
fn next_newline(bytes: &[u8], at: usize) -> usize {
    bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| at + p)
}

/// A line without its final carriage return.
#[inline]
fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// No quote, and no `\r` but just before a `\n` (the csv crate ends a record at a lone one).
pub(super) fn is_plain(bytes: &[u8]) -> bool {
    !bytes.contains(&b'"')
        && (!bytes.contains(&b'\r')
            || bytes
                .iter()
                .enumerate()
                .all(|(i, &b)| b != b'\r' || bytes.get(i + 1) == Some(&b'\n')))
}
