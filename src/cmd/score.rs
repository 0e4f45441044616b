//! `sentinel score`: ranks a batch of filings, flags the top of it by a
//! budget or threshold, and writes the spec's scored output with reasons.

use std::path::{Path, PathBuf};

use anyhow::Result;

use sentinel_detect::model::{embedded, Model};
use sentinel_detect::pipeline::Mode;
use sentinel_manifest::atomic::{is_parquet, AtomicFile};
use sentinel_manifest::domain::Budget;
use sentinel_manifest::error::InputError;
use sentinel_manifest::progress;
use sentinel_manifest::reader::{self, Input};
use sentinel_parties::screen::filed::filer_country;
use sentinel_parties::screen::matcher::{Matcher, DEFAULT_MIN_SCORE};
use sentinel_parties::store::PartyStore;
use sentinel_scoring::{self as scoring, FlagRule, Format, RejectsTo, RunConfig, RunList};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel score datasets/sample.csv --out scored.csv\n  sentinel score batch.parquet --model models/mine --budget top:500 --out scored.parquet\n  cat batch.csv | sentinel score - --out - --threshold 0.8 > scored.csv"
)]
pub struct Args {
    #[command(flatten)]
    pub input: super::common::Inputs,
    /// Model directory (default: the embedded default model)
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output: .csv or .parquet, or `-` for stdout (CSV)
    #[arg(long)]
    pub out: String,
    /// Flag the top of the batch: a share like `1%` or a count like `top:500` [default: 1%]
    #[arg(long, conflicts_with = "threshold")]
    pub budget: Option<Budget>,
    /// Flag rows whose risk_score is at least this (0..1)
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Rank by the label-free score even when the model is supervised
    #[arg(long)]
    pub ignore_labels: bool,
    /// Append the input's columns (a clashing name NAME becomes input_NAME)
    #[arg(long)]
    pub keep_columns: bool,
    /// Write the summary as JSON here
    #[arg(long)]
    pub summary_json: Option<PathBuf>,
    /// Party store (SQLite; created when missing): the run's party
    /// histories start from every earlier run scored with it and are
    /// written back once the output is written, so daily batches scored
    /// in date order know each other's parties. Tied to the model it was
    /// built with; one run at a time
    #[arg(long, value_name = "FILE")]
    pub parties: Option<PathBuf>,
    /// A restricted-party list in the Consolidated Screening List's CSV
    /// layout (repeatable): each line's parties are screened against it; a
    /// match raises the line's score, leads its reasons (LISTED_PARTY) and
    /// joins the entry's flagged lines into one case
    #[arg(long = "list", value_name = "FILE")]
    pub lists: Vec<PathBuf>,
    /// Least score (0..1) of a list match that counts
    #[arg(long, default_value_t = DEFAULT_MIN_SCORE, requires = "lists")]
    pub list_min_score: f64,
    /// Accepted rows held in memory at a time
    #[arg(long, default_value_t = reader::CHUNK_ROWS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_rows: u64,
    /// No progress or summary on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let rule = FlagRule::of(a.budget, a.threshold).map_err(InputError::Usage)?;
    // The lists are read and indexed while the model loads.
    let (lists, min_score, quiet) = (a.lists.clone(), a.list_min_score, a.quiet);
    let indexing = std::thread::spawn(move || load_lists(&lists, min_score, quiet));
    let model = match &a.model {
        Some(dir) => Model::load(dir)?,
        None => embedded::load()?,
    };
    let mapping = a.input.mapping_or(model.parts.mapping.as_ref())?;
    let list = indexing
        .join()
        .map_err(|_| anyhow::anyhow!("indexing the restricted-party lists failed"))??
        .map(|matcher| RunList {
            matcher,
            min_score: a.list_min_score,
            filer_country: filer_country(mapping.as_ref()),
        });
    let to_stdout = a.out == "-";
    let out_path = PathBuf::from(&a.out);
    let rejects_path = a.input.rejects.clone().unwrap_or_else(|| {
        if to_stdout {
            PathBuf::from("rejects.csv")
        } else {
            PathBuf::from(format!("{}.rejects.csv", a.out))
        }
    });
    let inputs: Vec<Input> = a.input.list();
    let mut input_paths = super::common::input_paths(&inputs);
    input_paths.extend(a.lists.iter().cloned());
    for p in [&out_path, &rejects_path] {
        if !to_stdout || p == &rejects_path {
            if let Ok(c) = p.canonicalize() {
                if input_paths.iter().any(|i| i.canonicalize().is_ok_and(|x| x == c)) {
                    return Err(
                        InputError::Output(format!("{}: would overwrite an input", p.display())).into(),
                    );
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
    let temp_dir = match out_path.parent() {
        Some(p) if !to_stdout && !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::env::temp_dir(),
    };
    let mode = Mode::of(&model, a.ignore_labels);
    let parties = a
        .parties
        .as_deref()
        .map(|p| PartyStore::open(p, model.id()).map(std::sync::Arc::new))
        .transpose()?;
    let pb = progress::counter("score", a.quiet);
    let cfg = RunConfig {
        inputs,
        mapping,
        rejects: RejectsTo::File(rejects_path),
        mode,
        rule,
        keep_columns: a.keep_columns,
        chunk_rows: a.chunk_rows as usize,
        in_memory_rows: scoring::score::IN_MEMORY_ROWS,
        temp_dir,
        progress: Box::new(move |stage, n| {
            pb.set_message(stage.to_string());
            pb.set_position(n);
        }),
        parties: parties.clone(),
        list,
        explain: Default::default(),
    };
    let format = if !to_stdout && is_parquet(&out_path) {
        Format::Parquet
    } else {
        Format::Csv
    };
    let (summary, code) = match &mut out_file {
        Some(f) => scoring::score_run(&model, cfg, f.writer(), format)?,
        None => {
            let stdout = std::io::stdout();
            let mut lock = std::io::BufWriter::new(stdout.lock());
            scoring::score_run(&model, cfg, &mut lock, format)?
        }
    };
    if let Some(f) = out_file {
        f.commit()?;
    }
    if let Some(p) = &a.summary_json {
        write_json(p, &summary)?;
    }
    // Last, once everything else is written: a run that fails before
    // leaves the store as it was.
    if let Some(store) = parties {
        PartyStore::commit_shared(store)?;
    }
    if !a.quiet {
        eprint!("{}", text(&summary));
    }
    // A warning, not a summary: said even when quiet.
    if summary.drift.warning {
        eprintln!("score: warning: {}", summary.drift.advice());
    }
    Ok(code)
}

/// The run's lists (`--list`), indexed for screening; `None` without any.
fn load_lists(paths: &[PathBuf], min_score: f64, quiet: bool) -> Result<Option<std::sync::Arc<Matcher>>> {
    if paths.is_empty() {
        return Ok(None);
    }
    super::common::min_score("--list-min-score", min_score)?;
    let list = super::common::read_lists(paths, "score", quiet)?;
    Ok(Some(std::sync::Arc::new(Matcher::new(list))))
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
        out.push_str(&format!(
            "  invalid cells emptied (scored, INVALID_FIELD): {}\n",
            super::check::counts(&s.invalid_cells_by_column)
        ));
    }
    out.push_str(&format!("  rejects: {}\n", s.rejects_file));
    if let Some(l) = &s.listed {
        out.push_str(&format!(
            "  restricted parties: {} distinct party names screened; {} lines match {} list entries, {} of them flagged\n",
            l.party_names, l.lines, l.entries, l.flagged
        ));
    }
    for d in &s.disabled_features {
        out.push_str(&format!("  switched off: {d}\n"));
    }
    for t in &s.top {
        out.push_str(&format!(
            "  #{:<3} {:<20} {:.3}  {}\n",
            t.rank,
            sentinel_manifest::safe_text::printable(&sentinel_manifest::safe_text::cut(&t.shipment_id, 20)),
            t.risk_score,
            t.first_reason
        ));
    }
    out
}
