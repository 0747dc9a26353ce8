//! The `strawfire` binary: parses the command line and hands over to the library.
//! Each subcommand lives in `src/commands/`, one file each; errors become one line on stderr
//! and a non-zero exit.

mod commands;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "strawfire",
    version,
    about = "Finds crop-residue fires from satellites and gets a patrol to each one"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect fires in one satellite scene (no store): FIRMS CSV or GeoJSON out, summary on stderr.
    Scan(commands::scan::Args),
    /// Generate a physically based synthetic scene with planted fires and its truth CSV.
    Synth(commands::synth::Args),
    /// The service: HTTP API, inbox, feed polling, embedded store (default 127.0.0.1:8080, ./data).
    Serve(commands::serve::Args),
    /// A worker on the PostgreSQL store: claims scene, feed-poll, sweep and delivery jobs (no API).
    Worker(commands::worker::Args),
    /// Our detections of one granule against the official product's (VNP14IMG, AFIMG): matched, missed, extra, FRP, a map.
    Compare(commands::compare::Args),
    /// Scene or hotspot files, folders or feed URLs into the store (no server needed).
    Ingest(commands::ingest::Args),
    /// Add county, township, village, parcel and mask columns to every hotspot row (batch).
    Locate(Box<commands::locate::Args>),
    /// Daily ranking of counties or townships: fair table of a stored day (--date) or batch from hotspot files.
    Rank(Box<commands::rank::Args>),
}

fn main() {
    let cli = Cli::parse();
    strawfire::raster::quiet_gdal();
    // Logs on stderr; `RUST_LOG`-style filtering is not needed for one binary: info and up.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_target(false)
        .init();
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Synth(args) => commands::synth::run(args),
        Command::Serve(args) => commands::serve::run(args),
        Command::Worker(args) => commands::worker::run(args),
        Command::Compare(args) => commands::compare::run(args),
        Command::Ingest(args) => commands::ingest::run(args),
        Command::Locate(args) => commands::locate::run(*args),
        Command::Rank(args) => commands::rank::run(*args),
    };
    if let Err(e) = result {
        // The reader of our output went away (`strawfire scan X | head`): stop quietly, as a
        // classic tool killed by SIGPIPE does (Rust ignores the signal, so the write failed).
        let broken_pipe = e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        });
        if broken_pipe {
            std::process::exit(141);
        }
        // The chain of causes on one line, each said once: a library error that already quotes
        // its cause (`cannot read sensor model m.toml: No such file ...`) would otherwise show
        // it twice, as `{e:#}` repeats every source.
        eprintln!("error: {}", strawfire::service::inbox::chain(e.as_ref()));
        std::process::exit(1);
    }
}
