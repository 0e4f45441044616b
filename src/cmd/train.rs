//! `sentinel train`: fits the models on labelled (or unlabelled) manifests
//! and writes a model directory that scores on its own.

use std::io::Read;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::error::{InputError, EXIT_OK, EXIT_REJECTS};
use crate::features::FEATURE_SET_VERSION;
use crate::mapping::Mapping;
use crate::model::gbm::GbmParams;
use crate::model::{feature_infos, sha256_hex, Manifest, Model, TrainingFile, FORMAT_VERSION};
use crate::pipeline::Mode;
use crate::reader::{Input, Reader, RejectSink};
use crate::training::{train, Outcomes, TrainConfig};

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

/// Adds reviewed shipments to the training batch: a shipment already in it
/// gets the reviewed label (returned as overrides), any other is appended.
fn merge_reviews(batch: &mut crate::batch::Batch, rev: crate::batch::Batch) -> Vec<(usize, f64, Option<u8>)> {
    use crate::schema::Col;
    use crate::strcol::StrCol;
    let t = crate::tables::Tables::get();
    let ids = batch.text(Col::ShipmentId);
    let index: std::collections::HashMap<String, usize> =
        (0..batch.len).map(|i| (ids[i].to_string(), i)).collect();
    let mut overrides = Vec::new();
    let mut keep = Vec::new();
    for j in 0..rev.len {
        let cat = t.category_index(&rev.text(Col::TrueCategory)[j]).map(|c| c as u8);
        match index.get(&rev.text(Col::ShipmentId)[j]) {
            Some(&i) => overrides.push((i, rev.num(Col::Label)[j], cat)),
            None => keep.push(j),
        }
    }
    if keep.is_empty() {
        return overrides;
    }
    // The appended rows have no mapping extras or carried columns: pad them.
    let mut extra = crate::batch::Batch::empty();
    extra.append(rev);
    let rows = extra.len;
    extra.extra_cat = vec![(0..rows).map(|_| "").collect::<StrCol>(); batch.extra_cat.len()];
    extra.extra_num = vec![vec![f64::NAN; rows]; batch.extra_num.len()];
    extra.carry = vec![(0..rows).map(|_| "").collect::<StrCol>(); batch.carry.len()];
    let selected = extra.select(&keep);
    batch.append(selected);
    overrides
}

fn file_digest(path: &str) -> Result<TrainingFile> {
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        bytes += k as u64;
        h.update(&buf[..k]);
    }
    let sha256 = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(TrainingFile {
        name: path.to_string(),
        sha256,
        bytes,
    })
}

pub fn run(a: Args) -> Result<u8> {
    if let Some(w) = a.positive_weight.filter(|w| !(w.is_finite() && *w > 0.0)) {
        return Err(InputError::new(format!("--positive-weight {w} must be a finite number > 0")).into());
    }
    if a.data.iter().any(|d| d == "-") {
        return Err(
            InputError::new("train reads files, not stdin (the training data is fingerprinted)").into(),
        );
    }
    if a.out.exists()
        && !a.force
        && std::fs::read_dir(&a.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(InputError::new(format!(
            "{}: exists and is not empty; pass --force to replace the model in it",
            a.out.display()
        ))
        .into());
    }
    let started = std::time::Instant::now();
    let mapping = a.mapping.as_deref().map(Mapping::load).transpose()?;
    let inputs: Vec<Input> = a.data.iter().map(|s| Input::parse(s)).collect();
    let tmp_rejects = std::env::temp_dir().join(format!("sentinel-train-rejects-{}.csv", std::process::id()));
    let sink = RejectSink::create(a.rejects.as_deref().unwrap_or(&tmp_rejects))?;
    let mut reader = Reader::open(&inputs, mapping.clone(), Some(sink))?;
    let stage = |s: &str| {
        if !a.quiet {
            eprintln!("train: {s} ({:.1} s)", started.elapsed().as_secs_f64());
        }
    };
    stage("reading");
    let mut batch = reader.read_all()?;
    reader.finish()?;
    let mut reviewed = 0u64;
    let mut overrides: Vec<(usize, f64, Option<u8>)> = Vec::new();
    if let Some(db) = &a.reviews {
        stage("reviews");
        let store = crate::review::Store::open(db)?;
        let (n, bytes) = crate::review::labels_csv(&store)?;
        reviewed = n as u64;
        let mut rr = Reader::from_csv_reader("<reviews>", Box::new(std::io::Cursor::new(bytes)), None, None)?;
        let rev = rr.read_all()?;
        overrides = merge_reviews(&mut batch, rev);
    }
    let stats = reader.stats.clone();
    for (name, disables) in reader.absent_expected() {
        eprintln!("train: expected column {name} is absent: switched off: {disables}");
    }
    let mut outcomes = Outcomes::from_batch(&batch);
    for (i, label, cat) in overrides {
        outcomes.label[i] = label;
        if cat.is_some() {
            outcomes.true_category[i] = cat;
        }
    }
    let cfg = TrainConfig {
        seed: a.seed,
        ignore_labels: a.ignore_labels,
        party_outcomes: a.party_outcomes,
        gbm: GbmParams {
            iterations: a.iterations,
            learning_rate: a.learning_rate,
            max_depth: a.depth,
            positive_weight: a.positive_weight,
            seed: a.seed,
        },
    };
    let trained = train(&batch, &outcomes, mapping.as_ref(), &cfg, &stage)?;
    let files: Vec<TrainingFile> = a.data.iter().map(|d| file_digest(d)).collect::<Result<_>>()?;
    let mut fp = Sha256::new();
    for f in &files {
        fp.update(f.sha256.as_bytes());
    }
    fp.update(batch.len.to_le_bytes());
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        feature_set_version: FEATURE_SET_VERSION,
        model_id: String::new(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        command_line: std::env::args().collect(),
        mode: if trained.parts.risk.is_some() {
            Mode::Supervised
        } else {
            Mode::LabelFree
        }
        .to_string(),
        seed: a.seed,
        training_rows: batch.len as u64,
        training_positives: trained.positives,
        reviewed_rows: reviewed,
        training_files: files,
        training_fingerprint: sha256_hex(&fp.finalize()),
        features: feature_infos(&trained.parts),
        metrics: trained.metrics,
        files: Default::default(),
    };
    let mut model = Model {
        manifest,
        parts: trained.parts,
        profiles: trained.profiles,
    };
    stage("writing");
    model.save(&a.out, a.force)?;
    let rejects_at = match (&a.rejects, stats.rejected) {
        (Some(p), _) => Some(p.clone()),
        (None, 0) => {
            let _ = std::fs::remove_file(&tmp_rejects);
            None
        }
        (None, _) => {
            let dest = a.out.join("training-rejects.csv");
            std::fs::copy(&tmp_rejects, &dest).with_context(|| format!("cannot write {}", dest.display()))?;
            let _ = std::fs::remove_file(&tmp_rejects);
            Some(dest)
        }
    };
    if !a.quiet {
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
    }
    Ok(if stats.rejected > 0 { EXIT_REJECTS } else { EXIT_OK })
}
