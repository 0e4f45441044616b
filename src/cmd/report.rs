//! `sentinel report`: the flagged shipments of a scored batch as one
//! self-contained HTML page (or JSON), with charts and each shipment's
//! evidence.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;

use sentinel_detect::model::{embedded, Model};
use sentinel_manifest::atomic::AtomicFile;
use sentinel_manifest::error::{EXIT_OK, EXIT_REJECTS};
use sentinel_review::report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Html,
    Json,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel score batch.csv --out scored.csv\n  sentinel report scored.csv --input batch.csv --out report.html\n  sentinel report scored.csv --input batch.csv --out report.json --format json"
)]
pub struct Args {
    /// `score`'s output (CSV)
    pub scored: PathBuf,
    #[command(flatten)]
    pub from: super::common::ScoredFrom,
    /// Rejected input rows go here (CSV)
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// The report file to write
    #[arg(long)]
    pub out: PathBuf,
    /// The model that scored the batch, for its figures (default: the embedded model when its id matches)
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// html (one self-contained page) or json
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let scored = sentinel_scoring::scored::read_scored(&a.scored)?;
    let scored_id = scored.first().map(|s| s.model_id.clone()).unwrap_or_default();
    let model = match &a.model {
        Some(dir) => Some(Model::load(dir)?),
        None => embedded::load().ok().filter(|m| m.id() == scored_id),
    };
    let sink = a
        .rejects
        .as_deref()
        .map(sentinel_manifest::reader::RejectSink::create)
        .transpose()?;
    let (batch, rejected) = a
        .from
        .read(model.as_ref().and_then(|m| m.parts.mapping.as_ref()), sink)?;
    let mut r = report::build(
        &scored,
        &batch,
        model.as_ref().map(|m| m.manifest.metrics.clone()),
    );
    r.drift = model
        .as_ref()
        .map(|m| sentinel_detect::in_memory::drift(m, &batch));
    let mut out = AtomicFile::create(&a.out, std::slice::from_ref(&a.scored))?;
    match a.format {
        ReportFormat::Html => out.writer().write_all(report::html(&r).as_bytes())?,
        ReportFormat::Json => serde_json::to_writer_pretty(out.writer(), &r)?,
    }
    out.commit()?;
    if !a.quiet {
        eprintln!(
            "report: {} flagged of {} rows written to {}",
            r.flagged,
            r.rows,
            a.out.display()
        );
    }
    Ok(if rejected > 0 { EXIT_REJECTS } else { EXIT_OK })
}
