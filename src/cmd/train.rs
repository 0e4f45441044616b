//! `sentinel train`: fits the models on labelled (or unlabelled) manifests
//! and writes a model directory that scores on its own.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use sentinel_detect::model::gbm::GbmParams;
use sentinel_detect::model::{Model, TrainingFile};
use sentinel_detect::sampling::Negatives;
use sentinel_detect::training::{train, Provenance, TrainConfig, TrainData};
use sentinel_manifest::batch::Batch;
use sentinel_manifest::error::{InputError, EXIT_OK, EXIT_REJECTS};
use sentinel_manifest::mapping::Mapping;
use sentinel_manifest::progress;
use sentinel_manifest::reader::{Input, ReadStats, Reader, RejectSink};
use sentinel_review::review::{labels_csv, Store};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel generate --rows 200000 --seed 1 --out train.csv\n  sentinel train --data train.csv --out models/mine\n  sentinel train --data export.csv --mapping datasets/mapping-example.toml --out models/agency --ignore-labels"
)]
pub struct Args {
    /// Training manifests (CSV or Parquet); `label` and `true_category` are used when present
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<String>,
    /// Model directory to write
    #[arg(long)]
    pub out: PathBuf,
    /// Column-mapping file (TOML) for other layouts; stored with the model
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Review database whose decisions (confirmed = 1, cleared = 0) take precedence over other labels
    #[arg(long)]
    pub reviews: Option<PathBuf>,
    /// Train only the label-free score, even when labels are present
    #[arg(long)]
    pub ignore_labels: bool,
    /// Make each exporter's and consignee's inspection record (its
    /// training lines found fraudulent, smoothed, out of fold) a feature of
    /// the risk model. Off by default: it helps only where the same parties
    /// come back and keep their behaviour (on the customs data and on
    /// generated worlds it cost precision; see docs/quality.md)
    #[arg(long)]
    pub party_outcomes: bool,
    /// Honest rows (neither positive nor reviewed) the models learn from:
    /// a count, a share (0.1 or 10%) or `all`. Every positive and every
    /// reviewed row is kept; the others are sampled, seeded and stratified
    /// by HS chapter, month and exporter, and weighted so that scores stay
    /// calibrated. Typical figures, party histories, outcome rates and the
    /// description model are learned from every row. The default keeps
    /// every row of runs up to about a million lines
    #[arg(long, default_value = "1000000", value_parser = clap::value_parser!(Negatives))]
    pub negatives: Negatives,
    /// Seed of every random choice
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Boosting rounds of the risk model
    #[arg(long, default_value_t = GbmParams::default().iterations)]
    pub iterations: usize,
    /// Depth of each tree of the risk model
    #[arg(long, default_value_t = GbmParams::default().max_depth)]
    pub depth: usize,
    /// Learning rate of the risk model
    #[arg(long, default_value_t = GbmParams::default().learning_rate)]
    pub learning_rate: f32,
    /// Weight of a positive (label 1) row relative to a negative one
    /// (default: rare positives up-weighted to about 1/15 of the weighted
    /// rows, between 1x and 10x)
    #[arg(long)]
    pub positive_weight: Option<f64>,
    /// Replace the contents of a non-empty --out
    #[arg(long)]
    pub force: bool,
    /// Write rejected training rows here (default: OUT/training-rejects.csv when any)
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// No progress or summary on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    check(&a)?;
    let started = std::time::Instant::now();
    let mapping = a.mapping.as_deref().map(Mapping::load).transpose()?;
    let inputs: Vec<Input> = a.data.iter().map(|s| Input::parse(s)).collect();
    let tmp_rejects = std::env::temp_dir().join(format!("sentinel-train-rejects-{}.csv", std::process::id()));
    let sink = RejectSink::create(a.rejects.as_deref().unwrap_or(&tmp_rejects))?;
    let (reviewed, reviews) = match &a.reviews {
        Some(db) => {
            let (n, batch) = reviews(db)?;
            (n, Some(batch))
        }
        None => (0, None),
    };
    let data = TrainData {
        inputs: &inputs,
        mapping: mapping.as_ref(),
        rejects: sink,
        reviews,
    };
    let bars = Bars::new(a.quiet, started);
    let trained = train(data, &config(&a), &|stage, done, total| {
        bars.show(stage, done, total)
    })?;
    bars.finish();
    let stats = trained.read.clone();
    for (name, disables) in &trained.absent {
        eprintln!("train: expected column {name} is absent: switched off: {disables}");
    }
    let files: Vec<TrainingFile> = a
        .data
        .iter()
        .map(|d| TrainingFile::digest(d))
        .collect::<Result<_>>()?;
    let mut model = trained.into_model(Provenance {
        files,
        reviewed_rows: reviewed,
        seed: a.seed,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        command_line: std::env::args().collect(),
    });
    model.save(&a.out, a.force)?;
    let rejects_at = keep_rejects(&a, stats.rejected, &tmp_rejects)?;
    if !a.quiet {
        summary(&a, &model, &stats, rejects_at, started);
    }
    Ok(if stats.rejected > 0 { EXIT_REJECTS } else { EXIT_OK })
}

/// Refuses what cannot be trained: a bad weight, standard input, or an
/// output directory with a model in it (without --force).
fn check(a: &Args) -> Result<()> {
    if let Some(w) = a.positive_weight.filter(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(InputError::Usage(format!("--positive-weight {w} must be a finite number > 0")).into());
    }
    if a.data.iter().any(|d| d == "-") {
        return Err(InputError::Usage(
            "train reads files, not stdin (the training data is fingerprinted)".to_string(),
        )
        .into());
    }
    if a.out.exists()
        && !a.force
        && std::fs::read_dir(&a.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(InputError::Usage(format!(
            "{}: exists and is not empty; pass --force to replace the model in it",
            a.out.display()
        ))
        .into());
    }
    Ok(())
}

/// The review database's decided shipments, as rows with labels.
fn reviews(db: &Path) -> Result<(u64, Batch)> {
    let store = Store::open(db)?;
    let (n, bytes) = labels_csv(&store)?;
    let mut rr = Reader::from_csv_reader("<reviews>", Box::new(std::io::Cursor::new(bytes)), None, None)?;
    Ok((n as u64, rr.read_all()?))
}

fn config(a: &Args) -> TrainConfig {
    TrainConfig {
        seed: a.seed,
        ignore_labels: a.ignore_labels,
        party_outcomes: a.party_outcomes,
        negatives: a.negatives,
        in_memory_bytes: sentinel_manifest::reader::IN_MEMORY_BYTES,
        gbm: GbmParams {
            iterations: a.iterations,
            learning_rate: a.learning_rate,
            max_depth: a.depth,
            positive_weight: a.positive_weight,
            seed: a.seed,
        },
    }
}

/// Where the rejected training rows end up: --rejects, else beside the
/// model when there are any.
fn keep_rejects(a: &Args, rejected: u64, tmp: &Path) -> Result<Option<PathBuf>> {
    Ok(match (&a.rejects, rejected) {
        (Some(p), _) => Some(p.clone()),
        (None, 0) => {
            let _ = std::fs::remove_file(tmp);
            None
        }
        (None, _) => {
            let dest = a.out.join("training-rejects.csv");
            std::fs::copy(tmp, &dest).with_context(|| format!("cannot write {}", dest.display()))?;
            let _ = std::fs::remove_file(tmp);
            Some(dest)
        }
    })
}

fn summary(
    a: &Args,
    model: &Model,
    stats: &ReadStats,
    rejects_at: Option<PathBuf>,
    started: std::time::Instant,
) {
    eprintln!(
        "train: model {} ({}) written to {} in {:.1} s: {} rows read, {} accepted, {} rejected{}; {} positives",
        model.id(),
        model.manifest.mode,
        a.out.display(),
        started.elapsed().as_secs_f64(),
        stats.rows,
        stats.accepted,
        stats.rejected,
        rejects_at.map(|p| format!(" (see {})", p.display())).unwrap_or_default(),
        model.manifest.training_positives
    );
    eprintln!("train: in-sample metrics {}", model.manifest.metrics);
    if let Some(sm) = &model.manifest.sampling {
        if sm.negatives_kept < sm.negatives_seen {
            eprintln!(
                "train: trained on {} of {} honest rows (--negatives {}; stratified by HS chapter, month and exporter) and all {} positive or reviewed rows",
                sm.negatives_kept, sm.negatives_seen, sm.negatives_requested, sm.always_kept
            );
        }
    }
}

/// Progress on stderr: a line as each stage starts (with the time so far),
/// and a bar of rows with an estimated time for the stages that stream.
struct Bars {
    quiet: bool,
    started: std::time::Instant,
    current: std::cell::RefCell<Option<(String, indicatif::ProgressBar)>>,
}

impl Bars {
    fn new(quiet: bool, started: std::time::Instant) -> Bars {
        Bars {
            quiet,
            started,
            current: std::cell::RefCell::new(None),
        }
    }

    fn show(&self, stage: &str, done: u64, total: Option<u64>) {
        let mut cur = self.current.borrow_mut();
        if cur.as_ref().is_none_or(|(s, _)| s != stage) {
            if let Some((_, pb)) = cur.take() {
                pb.finish_and_clear();
            }
            if !self.quiet {
                eprintln!("train: {stage} ({:.1} s)", self.started.elapsed().as_secs_f64());
            }
            let pb = match total {
                Some(n) => progress::bar(n, stage, self.quiet),
                None => progress::counter(stage, self.quiet),
            };
            *cur = Some((stage.to_string(), pb));
        }
        if let Some((_, pb)) = cur.as_ref() {
            pb.set_position(done);
        }
    }

    fn finish(&self) {
        if let Some((_, pb)) = self.current.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
}
