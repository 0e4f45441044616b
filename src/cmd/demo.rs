//! `sentinel demo`: the first hour in two minutes. Generates a world to
//! learn from and a fresh batch with the New Jersey case, trains, evaluates,
//! scores the batch, writes the HTML report and the cases, and says what to
//! open first.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use sentinel_detect::evaluation::Report as Evaluation;
use sentinel_detect::pipeline::Mode;
use sentinel_detect::sampling::Negatives;
use sentinel_manifest::domain::Date;
use sentinel_manifest::error::EXIT_OK;
use sentinel_manifest::reader::{Input, Reader};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  sentinel demo --out sentinel-demo   # then open sentinel-demo/report.html"
)]
pub struct Args {
    /// Directory for the demo's files (created; the demo's own files are replaced)
    #[arg(long, default_value = "sentinel-demo")]
    pub out: PathBuf,
    /// Lines of the training world (the fresh batch is half as many)
    #[arg(long, default_value_t = 200_000)]
    pub rows: usize,
    /// Seed of the training world (the batch uses seed + 1)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let p = |name: &str| a.out.join(name);
    let say = |m: &str| {
        if !a.quiet {
            eprintln!("demo: {m} ({:.0} s)", started.elapsed().as_secs_f64());
        }
    };
    say("generating a world to learn from (no New Jersey case in it)");
    super::generate::run(generate_args(a.rows, a.seed, p("train.csv"), None))?;
    say("generating a fresh batch with the New Jersey warehouse case");
    let scenario = Some(super::generate::Scenario::NjWarehouse);
    super::generate::run(super::generate::Args {
        list_out: Some(p("list.csv")),
        ..generate_args((a.rows / 2).max(1000), a.seed + 1, p("batch.csv"), scenario)
    })?;
    say("training");
    train(&p("train.csv"), &p("model"), a.seed)?;
    say("evaluating on the fresh batch");
    let report = evaluate(&p("model"), &p("batch.csv"))?;
    std::fs::write(p("evaluation.txt"), sentinel_detect::evaluation::text(&report))?;
    std::fs::write(p("evaluation.json"), serde_json::to_string_pretty(&report)?)?;
    let (batch, model, scored) = (s(&p("batch.csv")), s(&p("model")), s(&p("scored.csv")));
    say("scoring the batch (top 1% flagged), its parties screened against the world's restricted-party list");
    let summary = s(&p("summary.json"));
    let list = s(&p("list.csv"));
    sentinel(&[
        "score",
        &batch,
        "--model",
        &model,
        "--out",
        &scored,
        "--summary-json",
        &summary,
        "--list",
        &list,
    ])?;
    say("writing the report");
    let html = s(&p("report.html"));
    sentinel(&[
        "report", &scored, "--input", &batch, "--model", &model, "--out", &html,
    ])?;
    say("writing the cases");
    sentinel(&["cases", &scored, "--input", &batch, "--out", &s(&p("cases.csv"))])?;
    say("screening the batch's parties against the batch world's restricted-party list");
    sentinel(&["screen", &batch, "--list", &list, "--out", &s(&p("screened.csv"))])?;
    if !a.quiet {
        closing(&a, &report, started);
    }
    Ok(EXIT_OK)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A generated world of `rows` lines over a year from July 2024.
fn generate_args(
    rows: usize,
    seed: u64,
    out: PathBuf,
    scenario: Option<super::generate::Scenario>,
) -> super::generate::Args {
    super::generate::Args {
        rows,
        seed,
        out,
        fraud_rate: 0.005,
        scenario,
        start: Date::parse_iso("2024-07-01").expect("a valid date"),
        days: 365,
        irregular: 0.0,
        unusual: 0.0,
        variant: 0,
        list_out: None,
        quiet: true,
    }
}

/// A model trained with the defaults.
fn train(data: &Path, out: &Path, seed: u64) -> Result<u8> {
    let gbm = sentinel_detect::model::gbm::GbmParams::default();
    super::train::run(super::train::Args {
        data: vec![s(data)],
        out: out.to_path_buf(),
        mapping: None,
        reviews: None,
        ignore_labels: false,
        party_outcomes: false,
        negatives: Negatives::Count(sentinel_detect::sampling::DEFAULT_NEGATIVES),
        seed,
        iterations: gbm.iterations,
        depth: gbm.max_depth,
        learning_rate: gbm.learning_rate,
        positive_weight: gbm.positive_weight,
        force: true,
        rejects: None,
        quiet: true,
    })
}

fn evaluate(model: &Path, batch: &Path) -> Result<Evaluation> {
    let model = sentinel_detect::model::Model::load(model)?;
    let mut reader = Reader::open(&[Input::Path(batch.to_path_buf())], None, None)?;
    let batch = reader.read_all()?;
    Ok(sentinel_detect::evaluation::evaluate(
        &model,
        &batch,
        Mode::Supervised,
        false,
    ))
}

/// Runs a `sentinel` command line, quietly.
fn sentinel(args: &[&str]) -> Result<u8> {
    let line: Vec<&str> = std::iter::once("sentinel")
        .chain(args.iter().copied())
        .chain(["-q"])
        .collect();
    crate::cmd::run(crate::cmd::Cli::try_parse_from_args(&line)?)
}

/// What the model caught on the fresh batch, and what to open first.
fn closing(a: &Args, report: &Evaluation, started: std::time::Instant) {
    let p = |name: &str| s(&a.out.join(name));
    let m = report.model.as_ref();
    let at1 = m.and_then(|m| m.at_budget.iter().find(|b| b.budget_percent == 1.0));
    let nj = m.and_then(|m| m.recall_by_typology.get("nj_warehouse"));
    eprintln!(
        "\ndemo: done in {:.0} s. On the fresh batch the model caught {:.0}% of the smuggled lines in its top 1% (precision {:.0}%), {:.0}% of the New Jersey case.",
        started.elapsed().as_secs_f64(),
        at1.and_then(|b| b.recall).unwrap_or(0.0) * 100.0,
        at1.map_or(0.0, |b| b.precision) * 100.0,
        nj.map_or(0.0, |n| n.recall_at_1pct) * 100.0
    );
    eprintln!(
        "Open first:  {}   (the flagged shipments, with their evidence)",
        p("report.html")
    );
    eprintln!(
        "Then:        {}   (every line with risk_score, rank, reasons)",
        p("scored.csv")
    );
    eprintln!(
        "             {}   (the flagged lines grouped by shared parties, one row per case)",
        p("cases.csv")
    );
    eprintln!(
        "             {}   (parties matching the restricted-party list {}, one row per match)",
        p("screened.csv"),
        p("list.csv")
    );
    eprintln!(
        "             {}   (how good the model is, per scheme)",
        p("evaluation.txt")
    );
    eprintln!(
        "             {}/manifest.json   (what the model is and how it was made)",
        p("model")
    );
    eprintln!(
        "Inputs:      {} (training world), {} (fresh batch)",
        p("train.csv"),
        p("batch.csv")
    );
}
