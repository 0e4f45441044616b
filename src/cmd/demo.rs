//! `sentinel demo`: the first hour in two minutes. Generates a world to
//! learn from and a fresh batch with the New Jersey case, trains, evaluates,
//! scores the batch, writes the HTML report and the cases, and says what to
//! open first.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::domain::Date;
use crate::error::EXIT_OK;

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
    let s = |p: PathBuf| p.display().to_string();
    let say = |m: &str| {
        if !a.quiet {
            eprintln!("demo: {m} ({:.0} s)", started.elapsed().as_secs_f64());
        }
    };
    say("generating a world to learn from (no New Jersey case in it)");
    super::generate::run(super::generate::Args {
        rows: a.rows,
        seed: a.seed,
        out: p("train.csv"),
        fraud_rate: 0.005,
        scenario: None,
        start: Date::parse_iso("2024-07-01").expect("a valid date"),
        days: 365,
        irregular: 0.0,
        unusual: 0.0,
        variant: 0,
        quiet: true,
    })?;
    say("generating a fresh batch with the New Jersey warehouse case");
    super::generate::run(super::generate::Args {
        rows: (a.rows / 2).max(1000),
        seed: a.seed + 1,
        out: p("batch.csv"),
        fraud_rate: 0.005,
        scenario: Some(super::generate::Scenario::NjWarehouse),
        start: Date::parse_iso("2024-07-01").expect("a valid date"),
        days: 365,
        irregular: 0.0,
        unusual: 0.0,
        variant: 0,
        quiet: true,
    })?;
    say("training");
    let gbm = crate::model::gbm::GbmParams::default();
    super::train::run(super::train::Args {
        data: vec![s(p("train.csv"))],
        out: p("model"),
        mapping: None,
        reviews: None,
        ignore_labels: false,
        party_outcomes: false,
        negatives: crate::sampling::Negatives::Count(crate::sampling::DEFAULT_NEGATIVES),
        seed: a.seed,
        iterations: gbm.iterations,
        depth: gbm.max_depth,
        learning_rate: gbm.learning_rate,
        positive_weight: gbm.positive_weight,
        force: true,
        rejects: None,
        quiet: true,
    })?;
    say("evaluating on the fresh batch");
    let model = crate::model::Model::load(&p("model"))?;
    let mut reader = crate::reader::Reader::open(&[crate::reader::Input::Path(p("batch.csv"))], None, None)?;
    let batch = reader.read_all()?;
    let report = crate::evaluation::evaluate(&model, &batch, crate::pipeline::Mode::Supervised, false);
    std::fs::write(p("evaluation.txt"), crate::evaluation::text(&report))?;
    std::fs::write(p("evaluation.json"), serde_json::to_string_pretty(&report)?)?;
    say("scoring the batch (top 1% flagged)");
    let args = crate::cmd::Cli::try_parse_from_args(&[
        "sentinel",
        "score",
        &s(p("batch.csv")),
        "--model",
        &s(p("model")),
        "--out",
        &s(p("scored.csv")),
        "--summary-json",
        &s(p("summary.json")),
        "-q",
    ])?;
    crate::cmd::run(args)?;
    say("writing the report");
    let args = crate::cmd::Cli::try_parse_from_args(&[
        "sentinel",
        "report",
        &s(p("scored.csv")),
        "--input",
        &s(p("batch.csv")),
        "--model",
        &s(p("model")),
        "--out",
        &s(p("report.html")),
        "-q",
    ])?;
    crate::cmd::run(args)?;
    say("writing the cases");
    let args = crate::cmd::Cli::try_parse_from_args(&[
        "sentinel",
        "cases",
        &s(p("scored.csv")),
        "--input",
        &s(p("batch.csv")),
        "--out",
        &s(p("cases.csv")),
        "-q",
    ])?;
    crate::cmd::run(args)?;
    if !a.quiet {
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
            s(p("report.html"))
        );
        eprintln!(
            "Then:        {}   (every line with risk_score, rank, reasons)",
            s(p("scored.csv"))
        );
        eprintln!(
            "             {}   (the flagged lines grouped by shared parties, one row per case)",
            s(p("cases.csv"))
        );
        eprintln!(
            "             {}   (how good the model is, per scheme)",
            s(p("evaluation.txt"))
        );
        eprintln!(
            "             {}/manifest.json   (what the model is and how it was made)",
            s(p("model"))
        );
        eprintln!(
            "Inputs:      {} (training world), {} (fresh batch)",
            s(p("train.csv")),
            s(p("batch.csv"))
        );
    }
    Ok(EXIT_OK)
}
