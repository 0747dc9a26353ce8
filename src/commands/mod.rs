//! Subcommands of the binary, one file each: argument structs and the glue from arguments to
//! the library. `anyhow` is allowed here (the edge), not in the library.

pub mod ingest;
pub mod output;
pub mod scan;
pub mod serve;
pub mod synth;
