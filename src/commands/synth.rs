//! `strawfire synth`.

/// Arguments of `strawfire synth`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("strawfire synth: being built")
}
