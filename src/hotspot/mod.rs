//! Hotspot records: one fire pixel as FIRMS publishes it, whether we detected it or read it from
//! a feed. The FIRMS CSV schema is the contract (DESIGN.md), so every tool that reads FIRMS files
//! reads ours.

pub mod fields;
mod plain_csv;
pub mod read;
pub mod record;
pub mod write;

pub use fields::Fields;
pub use read::{read_hotspots, Feed, FeedRow, ReadError, RowWarning};
pub use record::{Confidence, DayNight, Hotspot};
pub use write::{write_csv, write_geojson, OutputFormat};
