//! The one path from validated rows to scores, shared by `train`,
//! `evaluate` and `score`: declaration facts -> features (with the run's
//! histories) -> likely cargo -> risk -> per-row attributions.

use std::borrow::Cow;
use std::sync::Arc;

use crate::catstats::BatchStats;
use crate::features::{self, Declared, Frame};
use crate::listed::ListedLine;
use crate::model::labelfree;
use crate::model::Parts;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::tables::Tables;
use sentinel_parties::history::HistFeatures;

/// Which risk score a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The supervised gradient-boosting model.
    Supervised,
    /// The label-free percentile score.
    LabelFree,
}

impl Mode {
    /// How `model` ranks a batch: supervised when it was trained with
    /// labels and they are not to be ignored (`--ignore-labels`).
    pub fn of(model: &crate::model::Model, ignore_labels: bool) -> Mode {
        if ignore_labels || !model.supervised() {
            Mode::LabelFree
        } else {
            Mode::Supervised
        }
    }

    /// The mode as summaries, manifests and reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Supervised => "supervised",
            Mode::LabelFree => "label-free",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a run scores with: the supervised model, or the label-free score
/// with the tails it reads (a run's own, [`labelfree::LabelFree::for_run`]).
#[derive(Debug, Clone, Copy)]
pub enum Scoring<'a> {
    Supervised,
    LabelFree(&'a labelfree::LabelFree),
}

/// Whether a run in `mode` scores with the supervised model (a model
/// without one scores label-free whatever the mode).
fn scores_supervised(parts: &Parts, mode: Mode) -> bool {
    mode == Mode::Supervised && parts.risk.is_some()
}

impl<'a> Scoring<'a> {
    /// The scoring of a mode, with `labelfree` as the label-free tails.
    pub fn of(parts: &Parts, mode: Mode, labelfree: &'a labelfree::LabelFree) -> Scoring<'a> {
        if scores_supervised(parts, mode) {
            Scoring::Supervised
        } else {
            Scoring::LabelFree(labelfree)
        }
    }

    /// The label-free tails it reads (the model's own when supervised).
    fn tails<'r>(self, parts: &'r Parts) -> &'r labelfree::LabelFree
    where
        'a: 'r,
    {
        match self {
            Scoring::LabelFree(lf) => lf,
            Scoring::Supervised => &parts.labelfree,
        }
    }
}

/// The label-free tails of a run whose sampled rows' frame `sample` gives
/// (the model's own, not computed, when the run scores supervised).
pub fn run_labelfree(
    parts: &Parts,
    mode: Mode,
    sample: impl FnOnce() -> Frame,
) -> Cow<'_, labelfree::LabelFree> {
    if scores_supervised(parts, mode) {
        Cow::Borrowed(&parts.labelfree)
    } else {
        Cow::Owned(parts.labelfree.for_run(&sample()))
    }
}

/// Everything the models see of a batch.
pub struct Evidence {
    pub declared: Declared,
    /// The typical figures of the batch the rows belong to, when known.
    pub batch: Option<Arc<BatchStats>>,
    /// Base, extra and likely-cargo features.
    pub frame: Frame,
    /// P(category), row-major `n x categories`.
    pub probs: Vec<f64>,
}

/// Features and likely cargo of a batch whose histories are known; the
/// batch is its own peer group.
pub fn evidence(parts: &Parts, b: &Batch, hist: &HistFeatures) -> Evidence {
    let declared = features::declared(b, &parts.text);
    let batch = Arc::new(features::batch_stats(b, &declared, false));
    evidence_from(parts, b, declared, hist, Some(batch))
}

/// [`evidence`], from the batch's declaration facts computed already and
/// the typical figures of the run it belongs to.
pub fn evidence_from(
    parts: &Parts,
    b: &Batch,
    declared: Declared,
    hist: &HistFeatures,
    batch: Option<Arc<BatchStats>>,
) -> Evidence {
    let t = Tables::get();
    let n_cat = t.n_categories();
    let mut frame = features::compute(
        b,
        &declared,
        &parts.text,
        hist,
        &parts.stats,
        batch.as_deref(),
        &parts.extras,
        parts.outcomes.as_ref(),
    );
    let probs = parts.likely.predict_frame(&frame, hist);
    add_likely(&mut frame, &declared, &probs, n_cat);
    Evidence {
        declared,
        batch,
        frame,
        probs,
    }
}

/// Appends the likely-cargo features to a frame.
pub fn add_likely(frame: &mut Frame, d: &Declared, probs: &[f64], n_cat: usize) {
    let t = Tables::get();
    let controlled: Vec<usize> = (0..n_cat).filter(|c| t.is_controlled(*c)).collect();
    let mut lc = Vec::with_capacity(frame.n);
    let mut ld = Vec::with_capacity(frame.n);
    let mut mm = Vec::with_capacity(frame.n);
    for i in 0..frame.n {
        let p = &probs[i * n_cat..(i + 1) * n_cat];
        let c: f64 = controlled.iter().map(|k| p[*k]).sum();
        lc.push(c);
        ld.push(p[d.category[i] as usize]);
        mm.push(if t.is_controlled(d.category[i] as usize) {
            0.0
        } else {
            c
        });
    }
    frame.push("likely_controlled", lc);
    frame.push("likely_declared", ld);
    frame.push("mismatch", mm);
}

/// Row-major matrix of the named columns (NaN where a column is missing).
pub fn matrix(frame: &Frame, names: &[String]) -> Vec<f64> {
    let cols: Vec<Option<&[f64]>> = names.iter().map(|n| frame.col(n)).collect();
    let mut out = Vec::with_capacity(frame.n * names.len());
    for i in 0..frame.n {
        for c in &cols {
            out.push(c.map_or(f64::NAN, |c| c[i]));
        }
    }
    out
}

/// Scores of a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub risk: Vec<f64>,
    pub likely_category: Vec<u8>,
    pub likely_probability: Vec<f64>,
}

/// Risk and likely cargo of every row.
pub fn score(parts: &Parts, ev: &Evidence, scoring: Scoring<'_>) -> Scores {
    score_listed(parts, ev, scoring, &[])
}

/// [`score`], with the rows whose parties match a restricted-party list
/// raised by their matches ([`crate::listed`]).
pub fn score_listed(parts: &Parts, ev: &Evidence, scoring: Scoring<'_>, listed: &[ListedLine]) -> Scores {
    let n_cat = Tables::get().n_categories();
    let n = ev.frame.n;
    let mut s = Scores {
        risk: Vec::with_capacity(n),
        likely_category: Vec::with_capacity(n),
        likely_probability: Vec::with_capacity(n),
    };
    for i in 0..n {
        let (k, best) = crate::describe::likeliest(&ev.probs[i * n_cat..(i + 1) * n_cat]);
        s.likely_category.push(k as u8);
        s.likely_probability.push(best);
    }
    match (scoring, &parts.risk) {
        (Scoring::Supervised, Some(forest)) => {
            let cols: Vec<Option<&[f64]>> = parts.risk_inputs.iter().map(|c| ev.frame.col(c)).collect();
            let forest = forest.compiled();
            s.risk = vec![0.0; n];
            // Rows are independent: split them over the available cores.
            let threads = std::thread::available_parallelism()
                .map_or(1, |p| p.get())
                .clamp(1, 8);
            let per = n.div_ceil(threads).max(1);
            let parts_of_rows: Vec<(usize, &mut [f64])> = s.risk.chunks_mut(per).enumerate().collect();
            sentinel_manifest::par::map_all(parts_of_rows, threads, |(k, out)| {
                let rows = k * per..k * per + out.len();
                let part: Vec<Option<&[f64]>> = cols.iter().map(|c| c.map(|c| &c[rows.clone()])).collect();
                forest.margins_of_columns(&part, out);
                for o in out.iter_mut() {
                    *o = crate::model::gbm::sigmoid(*o);
                }
            });
            for l in listed {
                if let Some(r) = s.risk.get_mut(l.row) {
                    *r = crate::listed::lift(*r, l.score);
                }
            }
        }
        (scoring, _) => {
            let lf = scoring.tails(parts);
            let (_, mut raw) = lf.terms(&ev.frame);
            for l in listed {
                if let Some(r) = raw.get_mut(l.row) {
                    *r += l.surprisal;
                }
            }
            s.risk.extend(raw.iter().map(|r| lf.percentile(*r)));
        }
    }
    s
}

/// Each of the rows' evidence for its score: (feature name, contribution),
/// largest first.
pub fn attributions<'p>(
    parts: &'p Parts,
    ev: &Evidence,
    scoring: Scoring<'_>,
    rows: std::ops::Range<usize>,
) -> Vec<Vec<(&'p str, f64)>> {
    let mut out: Vec<Vec<(&'p str, f64)>> = match (scoring, &parts.risk) {
        (Scoring::Supervised, Some(forest)) => {
            let cols: Vec<Option<&[f64]>> = parts.risk_inputs.iter().map(|n| ev.frame.col(n)).collect();
            let values: Vec<Vec<f64>> = rows
                .map(|i| cols.iter().map(|c| c.map_or(f64::NAN, |c| c[i])).collect())
                .collect();
            let values: Vec<&[f64]> = values.iter().map(Vec::as_slice).collect();
            forest
                .compiled()
                .contributions_of_rows(&values)
                .into_iter()
                .map(|c| parts.risk_inputs.iter().map(String::as_str).zip(c).collect())
                .collect()
        }
        (scoring, _) => {
            let lf = scoring.tails(parts);
            let some = Frame {
                names: ev.frame.names.clone(),
                cols: ev.frame.cols.iter().map(|c| c[rows.clone()].to_vec()).collect(),
                n: rows.len(),
            };
            let (contrib, _) = lf.terms(&some);
            // Row-major, a value per term (`term_names` is never empty).
            let names = labelfree::term_names();
            contrib
                .chunks_exact(names.len())
                .map(|c| names.iter().copied().zip(c.iter().copied()).collect())
                .collect()
        }
    };
    for o in &mut out {
        o.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    out
}
