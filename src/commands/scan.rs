//! `strawfire scan`.

/// Arguments of `strawfire scan`.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("strawfire scan: being built")
}
