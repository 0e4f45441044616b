//! `sentinel score`: ranks a batch of filings, flags the top of it by a
//! budget or threshold, and writes the spec's scored output with reasons.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::domain::Budget;
use crate::error::{InputError, EXIT_OK, EXIT_REJECTS};
use crate::mapping::Mapping;
use crate::model::{embedded, Model};
use crate::output::{is_parquet, AtomicFile};
use crate::pipeline::Mode;
use crate::reader::{Input, Reader, RejectSink};
use crate::schema::Col;
use crate::scoring::{self, FlagRule};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel score datasets/sample.csv --out scored.csv\n  sentinel score batch.parquet --model models/mine --budget top:500 --out scored.parquet\n  cat batch.csv | sentinel score - --out - --threshold 0.8 > scored.csv"
)]
pub struct Args {
    /// Manifests (CSV or Parquet), `-` for stdin; all inputs are one batch
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Model directory (default: the embedded default model)
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output: .csv or .parquet, or `-` for stdout (CSV)
    #[arg(long)]
    pub out: String,
    /// Column-mapping file (default: the one stored with the model)
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Flag the top of the batch: a share like `1%` or a count like `top:500` [default: 1%]
    #[arg(long, conflicts_with = "threshold")]
    pub budget: Option<Budget>,
    /// Flag rows whose risk_score is at least this (0..1)
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Rank by the label-free score even when the model is supervised
    #[arg(long)]
    pub ignore_labels: bool,
    /// Rejected rows go here (default: <out>.rejects.csv, or rejects.csv when --out is -)
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Append the input's columns (a clashing name becomes input_<name>)
    #[arg(long)]
    pub keep_columns: bool,
    /// Write the summary as JSON here
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
    /// No progress or summary on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let started = std::time::Instant::now();
    let rule = match (a.budget, a.threshold) {
        (_, Some(t)) if !(0.0..=1.0).contains(&t) => {
            return Err(InputError::new(format!("--threshold {t} must be between 0 and 1")).into())
        }
        (_, Some(t)) => FlagRule::Threshold(t),
        (Some(b), None) => FlagRule::Budget(b),
        (None, None) => FlagRule::Budget(Budget::Percent(1.0)),
    };
    let model = match &a.model {
        Some(dir) => Model::load(dir)?,
        None => embedded::load()?,
    };
    let mapping = match &a.mapping {
        Some(p) => Some(Mapping::load(p)?),
        None => model.parts.mapping.clone(),
    };
    let to_stdout = a.out == "-";
    let out_path = PathBuf::from(&a.out);
    let rejects_path = a.rejects.clone().unwrap_or_else(|| {
        if to_stdout {
            PathBuf::from("rejects.csv")
        } else {
            PathBuf::from(format!("{}.rejects.csv", a.out))
        }
    });
    let inputs: Vec<Input> = a.inputs.iter().map(|s| Input::parse(s)).collect();
    let input_paths: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|i| {
            if let Input::Path(p) = i {
                Some(p.clone())
            } else {
                None
            }
        })
        .collect();
    for p in [&out_path, &rejects_path] {
        if !to_stdout || p == &rejects_path {
            if let Ok(c) = p.canonicalize() {
                if input_paths.iter().any(|i| i.canonicalize().is_ok_and(|x| x == c)) {
                    return Err(InputError::new(format!("{}: would overwrite an input", p.display())).into());
                }
            }
        }
    }
    // Open the output first, so a bad destination fails before any work.
    let mut out_file = if to_stdout {
        None
    } else {
        Some(AtomicFile::create(&out_path, &input_paths)?)
    };
    let sink = RejectSink::create(&rejects_path)?;
    let mut reader = Reader::open(&inputs, mapping, Some(sink))?;
    if !a.quiet {
        for (name, disables) in reader.absent_expected() {
            eprintln!("score: expected column {name} is absent: switched off: {disables}");
        }
    }
    let batch = reader.read_all()?;
    reader.finish()?;
    let mode = if a.ignore_labels || !model.supervised() {
        Mode::LabelFree
    } else {
        Mode::Supervised
    };
    let has_filing = reader.has_column(Col::FilingId);
    let carry = reader.carry_names().to_vec();
    let scored = scoring::score_batch(&model, batch, mode, rule);
    let parquet = !to_stdout && is_parquet(&out_path);
    match &mut out_file {
        Some(f) if parquet => scoring::write_parquet(
            f.writer(),
            &scored,
            model.id(),
            a.keep_columns,
            has_filing,
            &carry,
        )?,
        Some(f) => scoring::write_csv(
            f.writer(),
            &scored,
            model.id(),
            a.keep_columns,
            has_filing,
            &carry,
        )?,
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            scoring::write_csv(&mut lock, &scored, model.id(), a.keep_columns, has_filing, &carry)?;
        }
    }
    if let Some(f) = out_file {
        f.commit()?;
    }
    let secs = started.elapsed().as_secs_f64();
    let summary = scoring::summary(
        &scored,
        &reader,
        &model,
        secs,
        &rule,
        Some(rejects_path.display().to_string()),
    );
    if let Some(p) = &a.summary_json {
        write_json(p, &summary)?;
    }
    if !a.quiet {
        eprint!("{}", text(&summary));
    }
    Ok(if reader.stats.rejected > 0 {
        EXIT_REJECTS
    } else {
        EXIT_OK
    })
}

fn write_json(p: &Path, summary: &scoring::Summary) -> Result<()> {
    let mut f = AtomicFile::create(p, &[])?;
    serde_json::to_writer_pretty(f.writer(), summary)?;
    f.commit()
}

fn text(s: &scoring::Summary) -> String {
    let mut out = format!(
        "score: {} rows read, {} rejected, {} scored, {} flagged ({}), declared value of flagged ${:.0}; {:.2} s, {:.0} rows/s; model {} ({})\n",
        s.rows_read, s.rejected, s.scored, s.flagged, s.rule, s.flagged_declared_value_usd, s.seconds, s.rows_per_second, s.model_id, s.mode
    );
    if !s.invalid_cells_by_column.is_empty() {
        let v: Vec<String> = s
            .invalid_cells_by_column
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        out.push_str(&format!(
            "  invalid cells emptied (scored, INVALID_FIELD): {}\n",
            v.join(", ")
        ));
    }
    if let Some(r) = &s.rejects_file {
        out.push_str(&format!("  rejects: {r}\n"));
    }
    for t in &s.top {
        out.push_str(&format!(
            "  #{:<3} {:<20} {:.3}  {}\n",
            t.rank,
            crate::reader::printable(&crate::reader::cut(&t.shipment_id, 20)),
            t.risk_score,
            t.first_reason
        ));
    }
    out
}
