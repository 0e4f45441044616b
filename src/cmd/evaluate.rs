//! `sentinel evaluate`: honest metrics of a model on labelled manifests it
//! has not seen.

use std::path::PathBuf;

use anyhow::Result;

use sentinel_detect::evaluation::{evaluate, text};
use sentinel_detect::model::Model;
use sentinel_detect::pipeline::Mode;
use sentinel_manifest::error::{InputError, EXIT_OK, EXIT_REJECTS};
use sentinel_manifest::reader::{Input, Reader, RejectSink};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel evaluate test.csv --model models/mine\n  sentinel evaluate test.csv --model models/mine --json > metrics.json"
)]
pub struct Args {
    #[command(flatten)]
    pub input: super::common::Inputs,
    /// Model directory
    #[arg(long)]
    pub model: PathBuf,
    /// Rank by the label-free score even when the model is supervised
    #[arg(long)]
    pub ignore_labels: bool,
    /// Skip the isolation-forest baseline
    #[arg(long)]
    pub no_baseline: bool,
    /// Print the report as JSON on stdout
    #[arg(long)]
    pub json: bool,
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let model = Model::load(&a.model)?;
    let mapping = a.input.mapping_or(model.parts.mapping.as_ref())?;
    let inputs: Vec<Input> = a.input.list();
    let sink = a.input.rejects.as_deref().map(RejectSink::create).transpose()?;
    let mut reader = Reader::open(&inputs, mapping, sink)?;
    let batch = reader.read_all()?;
    reader.finish()?;
    if batch.len == 0 {
        return Err(InputError::Usage("no rows to evaluate".to_string()).into());
    }
    let mode = Mode::of(&model, a.ignore_labels);
    let report = evaluate(&model, &batch, mode, !a.no_baseline);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    if !a.quiet && reader.stats.rejected > 0 {
        eprintln!("evaluate: {} rows rejected", reader.stats.rejected);
    }
    Ok(if reader.stats.rejected > 0 {
        EXIT_REJECTS
    } else {
        EXIT_OK
    })
}
