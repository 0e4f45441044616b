//! One module per subcommand, each an args struct and a `run` that calls the
//! library. Every command returns its exit code (0, or 3 when rows were
//! rejected); errors are printed once by `main`.

pub mod cases;
pub mod check;
pub mod common;
pub mod completions;
pub mod demo;
pub mod evaluate;
pub mod generate;
pub mod report;
pub mod review;
pub mod score;
pub mod train;

use clap::{Parser, Subcommand};

/// Ranks export filings by how likely they are relabelled controlled GPUs.
#[derive(Debug, Parser)]
#[command(name = "sentinel", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a synthetic world of manifests with ground truth
    Generate(generate::Args),
    /// Validate manifests without scoring; summary on stderr
    Check(check::Args),
    /// Train models on manifests and write a model directory
    Train(train::Args),
    /// Measure a model on labelled manifests at inspection budgets
    Evaluate(evaluate::Args),
    /// Score manifests: rank, flag and explain
    Score(score::Args),
    /// Write the flagged shipments of a scored batch as an HTML (or JSON) report
    Report(report::Args),
    /// Write the cases of a scored batch (flagged lines sharing parties), one row per case
    Cases(cases::Args),
    /// Review flagged shipments: import, decide, export labels
    Review(review::Args),
    /// Generate, train, evaluate, score and report in one go (start here)
    Demo(demo::Args),
    /// Print a shell completion script
    Completions(completions::Args),
}

impl Cli {
    /// Parses an argument list (for commands that run other commands).
    pub fn try_parse_from_args(args: &[&str]) -> anyhow::Result<Cli> {
        Ok(Cli::try_parse_from(args)?)
    }
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Generate(a) => generate::run(a),
        Command::Check(a) => check::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Train(a) => train::run(a),
        Command::Score(a) => score::run(a),
        Command::Report(a) => report::run(a),
        Command::Cases(a) => cases::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Review(a) => review::run(a),
        Command::Evaluate(a) => evaluate::run(a),
    }
}
