//! Training, streamed: the run's rows are read chunk by chunk, never all at
//! once (unless the run is small enough to hold, as in scoring), in three
//! passes:
//!
//! 1. read and validate every chunk, write rejects; count the descriptions
//!    the text model learns from and the honest rows per stratum the sample
//!    is drawn from;
//! 2. declaration facts with the text model: the typical figures per HS
//!    code, heading and category, and per input file (over every row);
//! 3. each row's party keys (histories are over every row), and the sample
//!    ([`crate::sampling`]): every positive and reviewed row and a
//!    stratified share of the others.
//!
//! Then, on the sample only: features -> likely cargo -> label-free
//! reference -> risk model (the negatives weighted by 1 / their chance of
//! being kept). The likely-cargo model, the label-free reference and the
//! drift reference learn from the uniform part of the sample, which stands
//! for every row.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{bail, Result};
use serde_json::json;

use crate::catstats::{BatchStats, BatchStatsBuilder, CatStats, N_PHYSICAL};
use crate::describe::{Doc, TextModel};
use crate::features::{self, Declared, ExtraEncoders, Feature, Frame};
use crate::metrics;
use crate::model::gbm::{self, Forest, GbmParams};
use crate::model::labelfree::{self, LabelFree};
use crate::model::likely::{self, LikelyModel};
use crate::model::{feature_infos, sha256_hex, Manifest, Model, Parts, TrainingFile, FORMAT_VERSION};
use crate::outcome::{self, OutcomeRates};
use crate::pipeline::{self, Evidence, Mode, Scoring};
use crate::sampling::{Negatives, Pick, Sampling, StrataCounts};
use sentinel_manifest::batch::Batch;
use sentinel_manifest::mapping::Mapping;
use sentinel_manifest::reader::{self, Input, ReadStats, Reader, RejectSink, CHUNK_ROWS};
use sentinel_manifest::schema::Col;
use sentinel_manifest::strcol::StrCol;
use sentinel_manifest::tables::Tables;
use sentinel_parties::history::{self, HistFeatures, Profiles};
use sentinel_parties::keys::RowKeys;
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// How to train.
#[derive(Debug, Clone)]
pub struct TrainConfig {
    /// Seed of every random choice (default 1).
    pub seed: u64,
    /// Train the label-free model only, even when labels are present.
    pub ignore_labels: bool,
    /// Make the exporters' and consignees' inspection records features of
    /// the risk model.
    pub party_outcomes: bool,
    /// Honest rows the models learn from ([`crate::sampling`]).
    pub negatives: Negatives,
    /// Runs of up to this many bytes of input are held between the passes
    /// (default [`reader::IN_MEMORY_BYTES`]); larger ones are read again.
    pub in_memory_bytes: u64,
    pub gbm: GbmParams,
}

/// The uniform sample needs this many rows to stand for the run (else the
/// whole sample does).
const MIN_UNIFORM: usize = 1_000;

/// What training reads: the inputs, and the reviewed shipments whose
/// decisions take precedence over the inputs' labels (those not among
/// the inputs are trained on too).
pub struct TrainData<'a> {
    pub inputs: &'a [Input],
    pub mapping: Option<&'a Mapping>,
    pub rejects: RejectSink,
    /// Reviewed shipments, as rows with `label` and `true_category`.
    pub reviews: Option<Batch>,
}

/// Told the stage, the rows done and the rows in all when known.
pub type Progress<'a> = &'a dyn Fn(&str, u64, Option<u64>);

/// What training produced.
pub struct Trained {
    pub parts: Parts,
    pub profiles: Profiles,
    pub metrics: serde_json::Value,
    pub positives: u64,
    /// Rows trained on (accepted input rows and reviewed rows added).
    pub rows: u64,
    pub read: ReadStats,
    /// Expected columns absent from every input, with what they disable.
    pub absent: Vec<(&'static str, &'static str)>,
    pub sampling: Sampling,
}

/// How a model was made, beyond what training learned: its inputs'
/// digests, the reviewed rows, the seed, the tool and its command line.
pub struct Provenance {
    pub files: Vec<TrainingFile>,
    pub reviewed_rows: u64,
    pub seed: u64,
    pub tool_version: String,
    pub command_line: Vec<String>,
}

impl Trained {
    /// The model: the trained parts and profiles with their manifest. The
    /// training fingerprint is the inputs' digests and the rows trained on.
    pub fn into_model(self, p: Provenance) -> Model {
        let mut fp = Sha256::new();
        for f in &p.files {
            fp.update(f.sha256.as_bytes());
        }
        fp.update((self.rows as usize).to_le_bytes());
        let mode = if self.parts.risk.is_some() {
            Mode::Supervised
        } else {
            Mode::LabelFree
        };
        let manifest = Manifest {
            format_version: FORMAT_VERSION,
            feature_set_version: features::FEATURE_SET_VERSION,
            model_id: String::new(),
            tool_version: p.tool_version,
            created_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            command_line: p.command_line,
            mode: mode.to_string(),
            seed: p.seed,
            training_rows: self.rows,
            training_positives: self.positives,
            reviewed_rows: p.reviewed_rows,
            training_files: p.files,
            training_fingerprint: sha256_hex(&fp.finalize()),
            features: feature_infos(&self.parts),
            metrics: self.metrics,
            files: Default::default(),
            sampling: Some(self.sampling),
        };
        Model {
            manifest,
            parts: self.parts,
            profiles: self.profiles,
        }
    }
}

/// Most weight one distinct training description gets (its square root of
/// lines, capped), so a few very common declarations do not drown the
/// nomenclature.
const DESC_WEIGHT_MAX: f64 = 10.0;

/// Known outcomes of a chunk's rows.
struct ChunkOutcomes {
    /// 1 fraud, 0 cleared, NaN unknown.
    label: Vec<f64>,
    true_category: Vec<Option<u8>>,
    reviewed: Vec<bool>,
}

/// The reviewed shipments: their decisions by shipment id, and which were
/// found among the inputs.
struct Reviews {
    rows: Batch,
    by_id: HashMap<String, usize>,
    found: Vec<bool>,
}

impl Reviews {
    /// Notes which reviewed shipments a chunk of the inputs holds.
    fn mark(&mut self, b: &Batch) {
        for id in b.text(Col::ShipmentId).iter() {
            if let Some(&j) = self.by_id.get(id) {
                self.found[j] = true;
            }
        }
    }

    fn new(rows: Batch) -> Reviews {
        let ids = rows.text(Col::ShipmentId);
        let by_id = (0..rows.len).map(|j| (ids[j].to_string(), j)).collect();
        let found = vec![false; rows.len];
        Reviews { rows, by_id, found }
    }

    /// The reviewed shipments not among the inputs, as a chunk shaped like
    /// the inputs' (no mapping extras or carried columns: padded).
    fn unmatched(&self, like: &Batch) -> Option<Batch> {
        let keep: Vec<usize> = (0..self.rows.len).filter(|&j| !self.found[j]).collect();
        if keep.is_empty() {
            return None;
        }
        let mut b = self.rows.select(&keep);
        let rows = b.len;
        b.extra_cat = vec![(0..rows).map(|_| "").collect::<StrCol>(); like.extra_cat.len()];
        b.extra_num = vec![vec![f64::NAN; rows]; like.extra_num.len()];
        b.carry = vec![(0..rows).map(|_| "").collect::<StrCol>(); like.carry.len()];
        Some(b)
    }
}

fn category_of(t: &Tables, s: &str) -> Option<u8> {
    t.category_index(s).map(|c| c as u8)
}

/// A chunk's labels and true categories, reviewed decisions first.
/// `reviewed_chunk`: the chunk is the reviewed rows themselves.
fn chunk_outcomes(b: &Batch, reviews: Option<&Reviews>, reviewed_chunk: bool) -> ChunkOutcomes {
    let t = Tables::get();
    let mut o = ChunkOutcomes {
        label: b.num(Col::Label).to_vec(),
        true_category: b
            .text(Col::TrueCategory)
            .iter()
            .map(|s| category_of(t, s))
            .collect(),
        reviewed: vec![reviewed_chunk; b.len],
    };
    if let (Some(r), false) = (reviews, reviewed_chunk) {
        let ids = b.text(Col::ShipmentId);
        for i in 0..b.len {
            if let Some(&j) = r.by_id.get(&ids[i]) {
                o.label[i] = r.rows.num(Col::Label)[j];
                if let Some(c) = category_of(t, &r.rows.text(Col::TrueCategory)[j]) {
                    o.true_category[i] = Some(c);
                }
                o.reviewed[i] = true;
            }
        }
    }
    o
}

/// The run's chunks: held after the first pass, or read again.
struct Chunks<'a> {
    inputs: &'a [Input],
    mapping: Option<&'a Mapping>,
    duplicates: Vec<u64>,
    held: Option<Vec<Batch>>,
    /// The reviewed rows not among the inputs: the run's last chunk.
    extra: Option<Batch>,
}

impl Chunks<'_> {
    /// Calls `f` with every chunk in order (the reviewed rows last) and
    /// whether it is that last chunk; `take` hands over held chunks.
    fn each(&mut self, take: bool, f: &mut dyn FnMut(Cow<Batch>, bool) -> Result<()>) -> Result<()> {
        match (&mut self.held, take) {
            (Some(h), true) => {
                for b in std::mem::take(h) {
                    f(Cow::Owned(b), false)?;
                }
            }
            (Some(h), false) => {
                for b in h.iter() {
                    f(Cow::Borrowed(b), false)?;
                }
            }
            (None, _) => {
                let r = Reader::replay(self.inputs, self.mapping.cloned(), self.duplicates.clone())?;
                reader::stream(r, CHUNK_ROWS, &mut |b| f(Cow::Owned(b), false))?;
            }
        }
        let extra = if take {
            self.extra.take().map(Cow::Owned)
        } else {
            self.extra.as_ref().map(Cow::Borrowed)
        };
        match extra {
            Some(b) => f(b, true),
            None => Ok(()),
        }
    }
}

/// What the first pass learns: counts of rows, labels and descriptions.
#[derive(Default)]
struct ReadPass {
    rows: u64,
    labelled: u64,
    positives: u64,
    /// (description, category) -> lines, for the text model.
    descriptions: BTreeMap<(String, usize), f64>,
    strata: StrataCounts,
}

impl ReadPass {
    fn add(&mut self, b: &Batch, o: &ChunkOutcomes, ignore_labels: bool) {
        let t = Tables::get();
        self.rows += b.len as u64;
        self.labelled += o.label.iter().filter(|v| v.is_finite()).count() as u64;
        self.positives += o.label.iter().filter(|v| **v > 0.5).count() as u64;
        self.strata.add(b, &o.label, &o.reviewed);
        // The description model's documents: each distinct description
        // with its category (the true category where known, else the HS
        // code's). Lines labelled fraudulent are left out: their
        // descriptions are lies by design.
        let desc = b.text(Col::Description);
        let hs = b.text(Col::HsCode);
        let mut hs_memo: rustc_hash::FxHashMap<&str, usize> = Default::default();
        let mut chunk: rustc_hash::FxHashMap<(&str, usize), f64> = Default::default();
        for i in 0..b.len {
            if !ignore_labels && o.label[i] > 0.5 {
                continue;
            }
            let known = o.true_category[i].filter(|_| !ignore_labels);
            let cat = known
                .map(usize::from)
                .unwrap_or_else(|| *hs_memo.entry(&hs[i]).or_insert_with(|| t.hs_category(&hs[i])));
            if cat == t.unknown_category() || desc[i].is_empty() {
                continue;
            }
            *chunk.entry((&desc[i], cat)).or_default() += 1.0;
        }
        for ((text, cat), k) in chunk {
            *self.descriptions.entry((text.to_string(), cat)).or_default() += k;
        }
    }

    /// The description model: the reference tables' documents and the
    /// training declarations' distinct descriptions.
    fn text_model(&self) -> TextModel {
        let t = Tables::get();
        let mut docs = TextModel::reference_docs(t);
        docs.extend(self.descriptions.iter().map(|((text, cat), n)| Doc {
            text,
            category: *cat,
            weight: n.sqrt().min(DESC_WEIGHT_MAX),
        }));
        TextModel::fit(&docs, t.n_categories())
    }
}

/// The sample after the third pass: its rows, their facts and picks, and
/// their positions in the run.
#[derive(Default)]
struct Sample {
    rows: Batch,
    declared: Declared,
    label: Vec<f64>,
    true_category: Vec<Option<u8>>,
    picks: Vec<Pick>,
    at: Vec<usize>,
}

impl Sample {
    fn add(&mut self, b: Cow<Batch>, d: Declared, o: ChunkOutcomes, picks: Vec<(usize, Pick)>, first: usize) {
        let idx: Vec<usize> = picks.iter().map(|p| p.0).collect();
        self.at.extend(idx.iter().map(|i| first + i));
        self.picks.extend(picks.iter().map(|p| p.1));
        if idx.len() == b.len {
            self.rows.append(b.into_owned());
            self.declared.append(d);
            self.label.extend(o.label);
            self.true_category.extend(o.true_category);
        } else {
            self.rows.append(b.select(&idx));
            self.declared.append(d.select(&idx));
            self.label.extend(idx.iter().map(|&i| o.label[i]));
            self.true_category.extend(idx.iter().map(|&i| o.true_category[i]));
        }
    }
}

/// What the first pass leaves: the counts, the chunks for the next passes,
/// the reviewed decisions and the reader's counts.
struct Read<'a> {
    pass: ReadPass,
    chunks: Chunks<'a>,
    reviews: Option<Reviews>,
    stats: ReadStats,
    absent: Vec<(&'static str, &'static str)>,
}

/// Pass 1: read and validate every chunk, write rejects, count.
fn read_pass<'a>(data: TrainData<'a>, cfg: &TrainConfig, progress: Progress) -> Result<Read<'a>> {
    let mapping = data.mapping;
    let input_bytes = reader::input_bytes(data.inputs);
    let mut held: Option<Vec<Batch>> = (input_bytes <= cfg.in_memory_bytes).then(Vec::new);
    let mut reviews = data.reviews.map(Reviews::new);
    let mut pass = ReadPass::default();
    let mut like: Option<Batch> = None;
    let reader = Reader::open(data.inputs, mapping.cloned(), Some(data.rejects))?;
    let mut reader = reader::stream(reader, CHUNK_ROWS, &mut |b| {
        let o = chunk_outcomes(&b, reviews.as_ref(), false);
        if let Some(r) = reviews.as_mut() {
            r.mark(&b);
        }
        pass.add(&b, &o, cfg.ignore_labels);
        progress("read", pass.rows, None);
        if like.is_none() {
            like = Some(b.select(&[]));
        }
        if let Some(h) = held.as_mut() {
            h.push(b);
        }
        Ok(())
    })?;
    reader.finish()?;
    reader.forget_ids();
    let like = like.unwrap_or_else(|| {
        let mut b = Batch::empty();
        b.extra_cat = vec![StrCol::new(); mapping.map_or(0, |m| m.features.categorical.len())];
        b.extra_num = vec![Vec::new(); mapping.map_or(0, |m| m.features.numeric.len())];
        b.carry = vec![StrCol::new(); reader.carry_names().len()];
        b
    });
    let extra = reviews.as_ref().and_then(|r| r.unmatched(&like));
    if let Some(b) = &extra {
        pass.add(b, &chunk_outcomes(b, None, true), cfg.ignore_labels);
    }
    Ok(Read {
        pass,
        chunks: Chunks {
            inputs: data.inputs,
            mapping,
            duplicates: reader.duplicates().to_vec(),
            held,
            extra,
        },
        reviews,
        stats: reader.stats.clone(),
        absent: reader.absent_expected(),
    })
}

/// What the second pass leaves: typical figures, every row's HS6 code, and
/// the held chunks' declaration facts.
struct Typical {
    stats: CatStats,
    batch: Arc<BatchStats>,
    hs6: StrCol,
    held_declared: Vec<Declared>,
}

/// Pass 2: declaration facts and typical figures, over every row.
fn typical_pass(chunks: &mut Chunks, text: &TextModel, n: usize, progress: Progress) -> Result<Typical> {
    let mut hs6 = StrCol::with_capacity(n, n * 6);
    let mut category: Vec<u8> = Vec::with_capacity(n);
    let mut physical: [Vec<f64>; N_PHYSICAL] = std::array::from_fn(|_| Vec::with_capacity(n));
    let mut per_file = BatchStatsBuilder::new(true);
    let mut held_declared: Vec<Declared> = Vec::new();
    let keep_declared = chunks.held.is_some();
    let mut done = 0u64;
    chunks.each(false, &mut |b, _| {
        let d = features::declared(&b, text);
        hs6.extend_from(&d.hs6);
        category.extend_from_slice(&d.category);
        for (a, v) in physical.iter_mut().zip(&d.physical) {
            a.extend_from_slice(v);
        }
        per_file.add(&b.file, &d.hs6, &d.physical);
        done += b.len as u64;
        progress("typical figures", done, Some(n as u64));
        if keep_declared {
            held_declared.push(d);
        }
        Ok(())
    })?;
    let stats = {
        let codes: Vec<&str> = hs6.iter().collect();
        CatStats::fit(&codes, &category, &physical)?
    };
    Ok(Typical {
        stats,
        // Each training file is a batch of its own world: its lines are
        // each other's peers, as a scored batch's are.
        batch: Arc::new(per_file.finish()),
        hs6,
        held_declared,
    })
}

/// What the third pass leaves: every row's party keys and outcomes, and
/// the sample.
struct Sampled {
    keys: RowKeys,
    /// Every row's label and outcome-bearing extras (with labels only).
    label: Vec<f64>,
    extras: Vec<(String, StrCol)>,
    sample: Sample,
    sampling: Sampling,
}

/// Pass 3: party keys over every row, and the sample.
fn sample_pass(
    read: &mut Read,
    typical: &mut Typical,
    text: &TextModel,
    cfg: &TrainConfig,
    use_labels: bool,
    progress: Progress,
) -> Result<Sampled> {
    let n = read.pass.rows;
    let mut plan = std::mem::take(&mut read.pass.strata).plan(cfg.negatives, cfg.seed);
    let mapping = read.chunks.mapping;
    let with_outcomes: Vec<String> = mapping.map_or_else(Vec::new, |m| m.features.outcome.clone());
    let extra_cat_index: Vec<Option<usize>> = with_outcomes
        .iter()
        .map(|name| mapping.and_then(|m| m.features.categorical.iter().position(|c| c == name)))
        .collect();
    let mut keys = RowKeys::default();
    let mut label: Vec<f64> = Vec::with_capacity(if use_labels { n as usize } else { 0 });
    let mut extras: Vec<StrCol> = vec![StrCol::new(); with_outcomes.len()];
    let mut sample = Sample::default();
    let mut held_declared = std::mem::take(&mut typical.held_declared).into_iter();
    let reviews = read.reviews.as_ref();
    let stats = &typical.stats;
    let mut first = 0usize;
    read.chunks.each(true, &mut |b, last| {
        let d = match held_declared.next() {
            Some(d) => d,
            None => features::declared(&b, text),
        };
        let anomaly = features::anomaly(&d, stats);
        keys.append(&b, &d.category, &d.hs6, &anomaly);
        let o = chunk_outcomes(&b, reviews, last);
        if use_labels {
            // The parties' outcomes go into their profiles, for scoring.
            keys.label.extend(o.label.iter().map(|v| *v as f32));
            label.extend_from_slice(&o.label);
            for (k, j) in extra_cat_index.iter().enumerate() {
                match j.and_then(|j| b.extra_cat.get(j)) {
                    Some(c) => extras[k].extend_from(c),
                    None => extras[k].extend_from(&(0..b.len).map(|_| "").collect()),
                }
            }
        }
        let picks = plan.pick(&b, &o.label, &o.reviewed, first as u64);
        let len = b.len;
        sample.add(b, d, o, picks, first);
        first += len;
        progress("sample", first as u64, Some(n));
        Ok(())
    })?;
    Ok(Sampled {
        keys,
        label,
        extras: with_outcomes.into_iter().zip(extras).collect(),
        sample,
        sampling: plan.finish(),
    })
}

/// Trains every model on a run, streamed: three passes over every row
/// (counts; typical figures; party keys and the sample), then the models
/// on the sample.
pub fn train(data: TrainData, cfg: &TrainConfig, progress: Progress) -> Result<Trained> {
    let n_cat = Tables::get().n_categories();
    let mapping = data.mapping;
    let mut read = read_pass(data, cfg, progress)?;
    let n = read.pass.rows as usize;
    if n < 50 {
        bail!("training needs at least 50 accepted rows, got {n}");
    }
    progress("text model", 0, None);
    let text = read.pass.text_model();
    let mut typical = typical_pass(&mut read.chunks, &text, n, progress)?;
    let all_positives = read.pass.positives;
    let use_labels = !cfg.ignore_labels && all_positives >= 5 && all_positives < read.pass.labelled;
    let Sampled {
        mut keys,
        label: label_all,
        extras: extras_all,
        sample,
        sampling,
    } = sample_pass(&mut read, &mut typical, &text, cfg, use_labels, progress)?;
    let Typical {
        stats,
        batch,
        hs6: hs6_all,
        ..
    } = typical;

    progress("histories", 0, None);
    let (hist_all, profiles) = history::compute(&Profiles::default(), &mut keys, n_cat);
    drop(keys);
    let b = &sample.rows;
    let extras = mapping.map_or_else(ExtraEncoders::default, |m| {
        ExtraEncoders::fit(b, &m.features.numeric, &m.features.categorical)
    });
    let (rates, oof) = if use_labels {
        let every = EveryRow {
            label: &label_all,
            hs6: &hs6_all,
            extras: &extras_all,
        };
        let (rates, oof) = outcome_rates(&every, &hist_all, &sample, cfg);
        (Some(rates), oof)
    } else {
        (None, Vec::new())
    };
    drop((hs6_all, label_all, extras_all));
    let hist = if sample.at.len() == n {
        hist_all
    } else {
        hist_all.select(&sample.at, n_cat)
    };

    progress("features", 0, None);
    let mut frame = features::compute(
        b,
        &sample.declared,
        &text,
        &hist,
        &stats,
        Some(&batch),
        &extras,
        rates.as_ref(),
    );
    // The training rows see each other's outcomes only out of fold.
    for (name, v) in oof {
        frame.set(&name, v);
    }
    let uniform = uniform_rows(&sample);

    progress("likely cargo", 0, None);
    let (likely, probs, target) = likely_cargo(&mut frame, &hist, &sample, uniform.as_deref(), cfg)?;

    progress("label-free reference", 0, None);
    let (labelfree, drift) = label_free_reference(&frame, &sample, uniform.as_deref(), cfg.seed);

    let risk_inputs = risk_inputs(&frame);
    let risk = if use_labels {
        progress("risk model", 0, None);
        Some(risk_model(&frame, &sample, &risk_inputs, cfg)?)
    } else {
        None
    };
    let parts = Parts {
        text,
        likely,
        risk,
        labelfree,
        stats,
        extras,
        outcomes: rates,
        risk_inputs,
        mapping: mapping.cloned(),
        drift,
    };

    progress("training metrics", 0, None);
    let label = sample.label;
    let ev = Evidence {
        declared: sample.declared,
        batch: Some(batch),
        frame,
        probs,
    };
    let metrics = training_metrics(&parts, &ev, &target, &label);
    Ok(Trained {
        parts,
        profiles,
        metrics,
        positives: all_positives,
        rows: read.pass.rows,
        read: read.stats,
        absent: read.absent,
        sampling,
    })
}

/// What training keeps of every row read (not only the sample's), for the
/// outcome rates.
struct EveryRow<'a> {
    label: &'a [f64],
    hs6: &'a StrCol,
    extras: &'a [(String, StrCol)],
}

/// Outcome rates over every labelled row, and the sample's own figures
/// out of fold (as named columns).
fn outcome_rates(
    every: &EveryRow,
    hist_all: &HistFeatures,
    sample: &Sample,
    cfg: &TrainConfig,
) -> (OutcomeRates, Vec<(String, Vec<f64>)>) {
    let rows = outcome::TrainingRows {
        label: every.label,
        hs6: every.hs6.iter().collect(),
        extras: every
            .extras
            .iter()
            .map(|(name, c)| (name.clone(), c.iter().collect()))
            .collect(),
        parties: cfg.party_outcomes,
    };
    let (rates, oof) = outcome::fit(&rows, hist_all, cfg.seed);
    let oof = oof
        .into_iter()
        .map(|(name, v)| (name, sample.at.iter().map(|&i| v[i]).collect()))
        .collect();
    (rates, oof)
}

/// The sample's rows drawn uniformly, which stand for the run where the
/// run's own distribution matters (likely cargo, the label-free
/// reference); `None` when they are every row, or too few to stand for
/// the run (then the whole sample does).
fn uniform_rows(sample: &Sample) -> Option<Vec<usize>> {
    let m = sample.rows.len;
    let uniform: Vec<usize> = (0..m).filter(|&i| sample.picks[i].uniform).collect();
    (uniform.len() >= MIN_UNIFORM && uniform.len() < m).then_some(uniform)
}

/// The likely-cargo model, fitted on the uniform rows to each row's true
/// category where known (else the declared one), and its probabilities
/// added to the frame. Returns the model, the probabilities and the
/// targets.
fn likely_cargo(
    frame: &mut Frame,
    hist: &HistFeatures,
    sample: &Sample,
    uniform: Option<&[usize]>,
    cfg: &TrainConfig,
) -> Result<(LikelyModel, Vec<f64>, Vec<u8>)> {
    let n_cat = Tables::get().n_categories();
    let target: Vec<u8> = (0..sample.rows.len)
        .map(|i| match (cfg.ignore_labels, sample.true_category[i]) {
            (false, Some(c)) => c,
            _ => sample.declared.category[i],
        })
        .collect();
    let (w, x) = likely::inputs(frame, hist, n_cat);
    let likely = match uniform {
        None => LikelyModel::fit(w, &x, &target, n_cat, cfg.seed)?,
        Some(uniform) => {
            let xu: Vec<f64> = uniform
                .iter()
                .flat_map(|&i| x[i * w..(i + 1) * w].iter().copied())
                .collect();
            let tu: Vec<u8> = uniform.iter().map(|&i| target[i]).collect();
            LikelyModel::fit(w, &xu, &tu, n_cat, cfg.seed)?
        }
    };
    let probs = likely.predict(w, &x);
    drop(x);
    pipeline::add_likely(frame, &sample.declared, &probs, n_cat);
    Ok((likely, probs, target))
}

/// The label-free score and the drift guard's reference, both from the
/// uniform rows.
fn label_free_reference(
    frame: &Frame,
    sample: &Sample,
    uniform: Option<&[usize]>,
    seed: u64,
) -> (LabelFree, crate::drift::Reference) {
    let b = &sample.rows;
    let (frame_u, drift) = match uniform {
        None => (
            Cow::Borrowed(frame),
            crate::drift::Reference::fit(b, &sample.declared, frame),
        ),
        Some(uniform) => {
            let frame_u = frame.select(uniform);
            let drift =
                crate::drift::Reference::fit(&b.select(uniform), &sample.declared.select(uniform), &frame_u);
            (Cow::Owned(frame_u), drift)
        }
    };
    let isolation = labelfree::Isolation::fit(&frame_u, seed);
    (LabelFree::fit(&frame_u, Some(isolation)), drift)
}

/// The risk model's inputs: every feature but the counts that grow with
/// the batch and the run ranks.
fn risk_inputs(frame: &Frame) -> Vec<String> {
    frame
        .names
        .iter()
        .filter(|n| {
            Feature::named(n)
                .is_none_or(|f| !features::ABSOLUTE_COUNTS.contains(&f) && !features::RUN_RANKS.contains(&f))
        })
        .cloned()
        .collect()
}

/// The risk model: gradient boosting on the labelled rows, the negatives
/// weighted to stand for every honest row of the run.
fn risk_model(frame: &Frame, sample: &Sample, risk_inputs: &[String], cfg: &TrainConfig) -> Result<Forest> {
    let labelled: Vec<usize> = (0..sample.rows.len)
        .filter(|&i| sample.label[i].is_finite())
        .collect();
    let positives = labelled.iter().filter(|&&i| sample.label[i] > 0.5).count();
    let cols: Vec<&[f64]> = risk_inputs
        .iter()
        .map(|n| frame.col(n).expect("risk input"))
        .collect();
    let mut xm = Vec::with_capacity(labelled.len() * cols.len());
    for c in &cols {
        xm.extend(labelled.iter().map(|&i| c[i]));
    }
    let y: Vec<f64> = labelled
        .iter()
        .map(|&i| if sample.label[i] > 0.5 { 1.0 } else { 0.0 })
        .collect();
    // The negatives stand for every honest row: their weights sum to
    // about as many.
    let negatives: f64 = labelled
        .iter()
        .filter(|&&i| sample.label[i] <= 0.5)
        .map(|&i| sample.picks[i].weight)
        .sum();
    let weight = cfg
        .gbm
        .positive_weight
        .unwrap_or_else(|| gbm::auto_positive_weight(positives, negatives.round() as usize));
    let weights: Vec<f64> = labelled
        .iter()
        .zip(&y)
        .map(|(&i, v)| if *v > 0.5 { weight } else { sample.picks[i].weight })
        .collect();
    let p = GbmParams {
        seed: cfg.seed,
        ..cfg.gbm
    };
    Forest::fit(&xm, labelled.len(), &y, &weights, p)
}

/// In-sample figures of the trained parts on the training rows.
fn training_metrics(parts: &Parts, ev: &Evidence, target: &[u8], label: &[f64]) -> serde_json::Value {
    let mode = if parts.risk.is_some() {
        Mode::Supervised
    } else {
        Mode::LabelFree
    };
    // The training rows are their own run: the stored tails are theirs.
    let scores = pipeline::score(parts, ev, Scoring::of(parts, mode, &parts.labelfree));
    let m = target.len();
    let agree = (0..m).filter(|&i| scores.likely_category[i] == target[i]).count();
    let mut metrics = json!({
        "note": "in-sample figures on the training rows (the sample, when sampled); `sentinel evaluate` on unseen data gives honest ones",
        "mode": mode.as_str(),
        "likely_cargo_accuracy": agree as f64 / m as f64,
    });
    let labelled: Vec<usize> = (0..m).filter(|&i| label[i].is_finite()).collect();
    if labelled.iter().any(|&i| label[i] > 0.5) {
        let s: Vec<f64> = labelled.iter().map(|&i| scores.risk[i]).collect();
        let l: Vec<bool> = labelled.iter().map(|&i| label[i] > 0.5).collect();
        metrics["pr_auc"] = json!(metrics::pr_auc(&s, &l));
        metrics["roc_auc"] = json!(metrics::roc_auc(&s, &l));
    }
    metrics
}
