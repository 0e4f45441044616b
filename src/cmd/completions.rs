//! `sentinel completions SHELL`: a completion script on stdout.

use clap::CommandFactory;
use clap_complete::Shell;

use sentinel_manifest::error::EXIT_OK;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  sentinel completions bash > /etc/bash_completion.d/sentinel")]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    pub shell: Shell,
}

pub fn run(a: Args) -> anyhow::Result<u8> {
    let mut cmd = super::Cli::command();
    clap_complete::generate(a.shell, &mut cmd, "sentinel", &mut std::io::stdout());
    Ok(EXIT_OK)
}
