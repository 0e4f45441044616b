//! `sentinel generate`: a synthetic world of manifests (CSV or Parquet by
//! extension) with ground truth.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::ValueEnum;
use polars::prelude::*;

use sentinel_generate::{generate, ColumnSink, CsvSink, GenerateConfig, Scheme};
use sentinel_manifest::atomic::{is_parquet, AtomicFile};
use sentinel_manifest::domain::Date;
use sentinel_manifest::error::{InputError, EXIT_OK};
use sentinel_manifest::progress;
use sentinel_manifest::reader::{Input, Reader};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// The New Jersey warehouse case (H100/H200 relabelled as adapters, Oct 2024 - May 2025)
    NjWarehouse,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel generate --rows 200000 --seed 7 --out world.csv\n  sentinel generate --rows 20000 --seed 1 --scenario nj-warehouse --out sample.parquet"
)]
pub struct Args {
    /// Lines to write, scenario lines included
    #[arg(long, default_value_t = 200_000)]
    pub rows: usize,
    /// Seed of the world; the same seed gives the same bytes
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output file: .csv, or .parquet
    #[arg(long)]
    pub out: PathBuf,
    /// Share of lines that belong to a smuggling scheme
    #[arg(long, default_value_t = 0.005)]
    pub fraud_rate: f64,
    /// Add a reported case to the world
    #[arg(long, value_enum)]
    pub scenario: Option<Scenario>,
    /// First export date (YYYY-MM-DD)
    #[arg(long, default_value = "2024-07-01")]
    pub start: Date,
    /// Length of the period in days
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// Share of honest filings that are irregular (several honest oddities
    /// at once: bulk lot, foreign payer, intermediate, amendments, no ECCN,
    /// KG/SET units, garbled package count, invoice at odds)
    #[arg(long, default_value_t = 0.0)]
    pub irregular: f64,
    /// Share of honest filings unusual in harmless directions (bulk lot,
    /// used goods sold cheap, nominal value, counts in small pieces,
    /// quantity by weight, no brand, shipped by sea, road or post)
    #[arg(long, default_value_t = 0.0)]
    pub unusual: f64,
    /// Which world: 0 (the default) is the base world; 1 to 1000 each
    /// rewrite it in their own vocabulary (paraphrases, abbreviations, upper
    /// case, typing errors, nomenclature wording), choice of valid HS codes,
    /// price and weight levels (+-30%), brand names, scheme tells and
    /// honest oddities, with goods from every chapter of the nomenclature
    #[arg(long, default_value_t = 0)]
    pub variant: u32,
    /// Also write a synthetic restricted-party list of this world (the
    /// Consolidated Screening List's CSV layout) here, and its ground truth
    /// (which party is which entry, and how the list spells it) beside it
    /// as FILE.truth.csv
    #[arg(long)]
    pub list_out: Option<PathBuf>,
    /// No progress bar or summary
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    if a.rows == 0 {
        return Err(InputError::Usage("--rows must be at least 1".to_string()).into());
    }
    if !(0.0..=0.5).contains(&a.fraud_rate) {
        return Err(
            InputError::Usage(format!("--fraud-rate {} must be between 0 and 0.5", a.fraud_rate)).into(),
        );
    }
    if !(0.0..=1.0).contains(&a.irregular) {
        return Err(InputError::Usage(format!("--irregular {} must be between 0 and 1", a.irregular)).into());
    }
    if !(0.0..=1.0).contains(&a.unusual) {
        return Err(InputError::Usage(format!("--unusual {} must be between 0 and 1", a.unusual)).into());
    }
    if a.variant > sentinel_generate::MAX_VARIANT {
        return Err(InputError::Usage(format!(
            "--variant {} must be between 0 and {}",
            a.variant,
            sentinel_generate::MAX_VARIANT
        ))
        .into());
    }
    if a.days == 0 || a.days > 3660 {
        return Err(InputError::Usage(format!("--days {} must be between 1 and 3660", a.days)).into());
    }
    let cfg = GenerateConfig {
        rows: a.rows,
        seed: a.seed,
        fraud_rate: a.fraud_rate,
        nj_scenario: a.scenario.is_some(),
        start: a.start,
        days: a.days,
        irregular: a.irregular,
        unusual: a.unusual,
        variant: a.variant,
    };
    let started = std::time::Instant::now();
    let pb = progress::bar(a.rows as u64, "generate", a.quiet);
    let tick = |n: u64| pb.set_position(n);
    let mut out = AtomicFile::create(&a.out, &[])?;
    let plan = if is_parquet(&a.out) {
        let mut sink = ColumnSink::default();
        let plan = generate(&cfg, &mut sink, &tick)?;
        let columns: Vec<Column> = sink
            .names
            .iter()
            .zip(sink.columns)
            .map(|(n, v)| Column::new(n.as_str().into(), v))
            .collect();
        let mut df = DataFrame::new_infer_height(columns)?;
        ParquetWriter::new(out.writer()).finish(&mut df)?;
        plan
    } else {
        let mut sink = CsvSink::new(out.writer());
        let plan = generate(&cfg, &mut sink, &tick)?;
        sink.finish()?;
        plan
    };
    out.commit()?;
    pb.finish_and_clear();
    if let Some(list) = &a.list_out {
        let (entries, listed, namesakes) = write_list(&a.out, list, a.seed)?;
        if !a.quiet {
            eprintln!(
                "generate: wrote a list of {entries} entries ({listed} of this world's scheme parties; {namesakes} left out, namesakes of honest parties) to {}, its truth to {}",
                list.display(),
                truth_path(list).display()
            );
        }
    }
    if !a.quiet {
        let secs = started.elapsed().as_secs_f64();
        let schemes: Vec<String> = Scheme::ALL
            .iter()
            .zip(&plan.per_scheme)
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        eprintln!(
            "generate: wrote {} lines to {} in {secs:.2} s ({:.0} lines/s): {} honest, schemes: {}{}",
            a.rows,
            a.out.display(),
            a.rows as f64 / secs.max(1e-9),
            plan.honest,
            schemes.join(", "),
            if plan.scenario > 0 {
                format!(", nj_warehouse {}", plan.scenario)
            } else {
                String::new()
            }
        );
    }
    Ok(EXIT_OK)
}

/// Where the truth of a list goes: FILE.truth.csv beside FILE.
fn truth_path(list: &Path) -> PathBuf {
    let stem = list
        .file_stem()
        .map_or_else(|| "list".to_string(), |s| s.to_string_lossy().to_string());
    list.with_file_name(format!("{stem}.truth.csv"))
}

/// Reads the world back and writes its list and the list's truth.
fn write_list(world: &Path, list: &Path, seed: u64) -> Result<(usize, usize, usize)> {
    let mut reader = Reader::open(&[Input::Path(world.to_path_buf())], None, None)?;
    let b = reader.read_all()?;
    reader.finish()?;
    let entity_col = reader
        .carry_names()
        .iter()
        .position(|n| n == "usppi_entity")
        .ok_or_else(|| anyhow::anyhow!("{}: no usppi_entity column", world.display()))?;
    let inputs = [world.to_path_buf()];
    let mut list_file = AtomicFile::create(list, &inputs)?;
    let truth = truth_path(list);
    let mut truth_file = AtomicFile::create(&truth, &inputs)?;
    let counts =
        sentinel_generate::list::write(&b, entity_col, seed, list_file.writer(), truth_file.writer())?;
    list_file.commit()?;
    truth_file.commit()?;
    Ok(counts)
}
