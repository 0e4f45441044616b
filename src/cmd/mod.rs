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
pub mod screen;
pub mod train;

use clap::{Parser, Subcommand};

use sentinel_detect::model::ModelError;
use sentinel_manifest::error::{InputError, EXIT_FAILURE};
use sentinel_parties::store::StoreError;
use sentinel_review::review::ReviewError;
use sentinel_scoring::scored::ScoredError;

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
    /// Screen every party against restricted-party lists (Consolidated Screening List layout)
    Screen(screen::Args),
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
        Command::Screen(a) => screen::run(a),
        Command::Report(a) => report::run(a),
        Command::Cases(a) => cases::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Review(a) => review::run(a),
        Command::Evaluate(a) => evaluate::run(a),
    }
}

/// The exit code of an error that ended a run: what a layer refused of the
/// user's input says its own (2), anything else is 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain().find_map(refused).unwrap_or(EXIT_FAILURE)
}

/// The exit code of one layer's refusal, if `e` is one.
fn refused(e: &(dyn std::error::Error + 'static)) -> Option<u8> {
    e.downcast_ref::<InputError>()
        .map(InputError::exit_code)
        .or_else(|| e.downcast_ref::<StoreError>().map(StoreError::exit_code))
        .or_else(|| e.downcast_ref::<ModelError>().map(ModelError::exit_code))
        .or_else(|| e.downcast_ref::<ScoredError>().map(ScoredError::exit_code))
        .or_else(|| e.downcast_ref::<ReviewError>().map(ReviewError::exit_code))
}
