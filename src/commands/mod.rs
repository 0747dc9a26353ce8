//! Subcommands of the binary, one file each: argument structs and the glue from arguments to
//! the library. `anyhow` is allowed here (the edge), not in the library.

pub mod compare;
pub mod ingest;
pub mod layers;
pub mod locate;
pub mod output;
pub mod rank;
pub mod scan;
pub mod serve;
pub mod synth;
pub mod worker;
