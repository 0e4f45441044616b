//! Training: histories and typical figures from the training rows, then the
//! likely-cargo model, the label-free reference and, with labels, the
//! supervised risk model.

use std::sync::Arc;

use anyhow::{bail, Result};
use serde_json::json;

use crate::batch::Batch;
use crate::catstats::CatStats;
use crate::features::{self, ExtraEncoders};
use crate::history::{self, Profiles, RowKeys};
use crate::mapping::Mapping;
use crate::metrics;
use crate::model::gbm::{self, Forest, GbmParams};
use crate::model::labelfree::{self, LabelFree};
use crate::model::likely::{self, LikelyModel};
use crate::model::text::{Doc, TextModel};
use crate::model::Parts;
use crate::outcome;
use crate::pipeline::{self, Evidence, Mode};
use crate::tables::Tables;

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
    pub gbm: GbmParams,
}

/// Known outcomes per row: label (NaN unknown) and true category.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    pub label: Vec<f64>,
    pub true_category: Vec<Option<u8>>,
}

impl Outcomes {
    /// Outcomes in the batch's own `label` and `true_category` columns.
    pub fn from_batch(b: &Batch) -> Outcomes {
        let t = Tables::get();
        Outcomes {
            label: b.num(crate::schema::Col::Label).to_vec(),
            true_category: b
                .text(crate::schema::Col::TrueCategory)
                .iter()
                .map(|s| t.category_index(s).map(|c| c as u8))
                .collect(),
        }
    }
}

/// What training produced.
pub struct Trained {
    pub parts: Parts,
    pub profiles: Profiles,
    pub metrics: serde_json::Value,
    pub positives: u64,
}

/// Most weight one distinct training description gets (its square root of
/// lines, capped), so a few very common declarations do not drown the
/// nomenclature.
const DESC_WEIGHT_MAX: f64 = 10.0;

/// The description model: the reference tables' documents, and the
/// training declarations' distinct descriptions with their category (the
/// true category where known, else the HS code's). Lines labelled
/// fraudulent are left out: their descriptions are lies by design.
fn fit_text(b: &Batch, outcomes: &Outcomes, ignore_labels: bool) -> TextModel {
    let t = Tables::get();
    let desc = b.text(crate::schema::Col::Description);
    let hs = b.text(crate::schema::Col::HsCode);
    let mut count: std::collections::BTreeMap<(&str, usize), f64> = Default::default();
    let mut hs_memo: rustc_hash::FxHashMap<&str, usize> = Default::default();
    for i in 0..b.len {
        let label = outcomes.label.get(i).copied().unwrap_or(f64::NAN);
        if !ignore_labels && label > 0.5 {
            continue;
        }
        let known = outcomes
            .true_category
            .get(i)
            .copied()
            .flatten()
            .filter(|_| !ignore_labels);
        let cat = known
            .map(usize::from)
            .unwrap_or_else(|| *hs_memo.entry(&hs[i]).or_insert_with(|| t.hs_category(&hs[i])));
        if cat == t.unknown_category() || desc[i].is_empty() {
            continue;
        }
        *count.entry((&desc[i], cat)).or_default() += 1.0;
    }
    let mut docs = TextModel::reference_docs(t);
    docs.extend(count.iter().map(|((text, cat), n)| Doc {
        text,
        category: *cat,
        weight: n.sqrt().min(DESC_WEIGHT_MAX),
    }));
    TextModel::fit(&docs, t.n_categories())
}

/// Trains every model on one batch.
pub fn train(
    b: &Batch,
    outcomes: &Outcomes,
    mapping: Option<&Mapping>,
    cfg: &TrainConfig,
    stage: &dyn Fn(&str),
) -> Result<Trained> {
    if b.len < 50 {
        bail!("training needs at least 50 accepted rows, got {}", b.len);
    }
    let t = Tables::get();
    let n_cat = t.n_categories();
    stage("text model");
    let text = fit_text(b, outcomes, cfg.ignore_labels);
    stage("typical figures");
    let declared = features::declared(b, &text);
    let hs6: Vec<&str> = declared.hs6.iter().collect();
    let stats = CatStats::fit(&hs6, &declared.category, &declared.physical)?;
    let labelled: Vec<usize> = (0..b.len)
        .filter(|&i| outcomes.label.get(i).is_some_and(|v| v.is_finite()))
        .collect();
    let positives = labelled.iter().filter(|&&i| outcomes.label[i] > 0.5).count();
    let use_labels = !cfg.ignore_labels && positives >= 5 && positives < labelled.len();

    stage("histories");
    let anomaly = features::anomaly(&declared, &stats);
    let mut keys = RowKeys::from_batch(b, &declared, &anomaly);
    if use_labels {
        // The parties' outcomes go into their profiles, for scoring.
        keys.label = (0..b.len)
            .map(|i| outcomes.label.get(i).map_or(f32::NAN, |v| *v as f32))
            .collect();
    }
    let (hist, profiles) = history::compute(&Profiles::default(), &keys, n_cat);
    let extras = match mapping {
        Some(m) => ExtraEncoders::fit(b, &m.features.numeric, &m.features.categorical),
        None => ExtraEncoders::default(),
    };
    let (rates, oof) = if use_labels {
        let with_outcomes = mapping.map_or(&[][..], |m| &m.features.outcome[..]);
        let rows = outcome::TrainingRows {
            label: &outcomes.label,
            hs6: declared.hs6.iter().collect(),
            extras: with_outcomes
                .iter()
                .map(|name| {
                    let j = extras.categorical.iter().position(|(c, _)| c == name);
                    let col = j.and_then(|j| b.extra_cat.get(j));
                    (
                        name.clone(),
                        col.map_or_else(|| vec![""; b.len], |c| c.iter().collect()),
                    )
                })
                .collect(),
            parties: cfg.party_outcomes,
        };
        let (rates, oof) = outcome::fit(&rows, &hist, cfg.seed);
        (Some(rates), oof)
    } else {
        (None, Vec::new())
    };
    // Each training file is a batch of its own world: its lines are each
    // other's peers, as a scored batch's are.
    let batch = Arc::new(features::batch_stats(b, &declared, true));
    let mut frame = features::compute(
        b,
        &declared,
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

    stage("likely cargo");
    let target: Vec<u8> = (0..b.len)
        .map(|i| {
            match (
                cfg.ignore_labels,
                outcomes.true_category.get(i).copied().flatten(),
            ) {
                (false, Some(c)) => c,
                _ => declared.category[i],
            }
        })
        .collect();
    let (w, x) = likely::inputs(&frame, &hist, n_cat);
    let likely = LikelyModel::fit(w, &x, &target, n_cat, cfg.seed)?;
    let probs = likely.predict(w, &x);
    pipeline::add_likely(&mut frame, &declared, &probs, n_cat);
    let drift = crate::drift::Reference::fit(b, &declared, &frame);

    stage("label-free reference");
    let isolation = labelfree::Isolation::fit(&frame, cfg.seed);
    let labelfree = LabelFree::fit(&frame, Some(isolation));

    let risk_inputs: Vec<String> = frame.names.clone();
    let risk = if use_labels {
        stage("risk model");
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
            .map(|&i| if outcomes.label[i] > 0.5 { 1.0 } else { 0.0 })
            .collect();
        let weight = cfg
            .gbm
            .positive_weight
            .unwrap_or_else(|| gbm::auto_positive_weight(positives, labelled.len() - positives));
        let weights: Vec<f64> = y.iter().map(|v| if *v > 0.5 { weight } else { 1.0 }).collect();
        let p = GbmParams {
            seed: cfg.seed,
            ..cfg.gbm
        };
        Some(Forest::fit(&xm, labelled.len(), &y, &weights, p)?)
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

    stage("training metrics");
    let ev = Evidence {
        declared,
        batch: Some(batch),
        frame,
        probs,
    };
    let mode = if parts.risk.is_some() {
        Mode::Supervised
    } else {
        Mode::LabelFree
    };
    let scores = pipeline::score(&parts, &ev, mode);
    let agree = (0..b.len)
        .filter(|&i| scores.likely_category[i] == target[i])
        .count();
    let mut m = json!({
        "note": "in-sample figures on the training rows; `sentinel evaluate` on unseen data gives honest ones",
        "mode": mode.as_str(),
        "likely_cargo_accuracy": agree as f64 / b.len as f64,
    });
    if !labelled.is_empty() && positives > 0 {
        let s: Vec<f64> = labelled.iter().map(|&i| scores.risk[i]).collect();
        let l: Vec<bool> = labelled.iter().map(|&i| outcomes.label[i] > 0.5).collect();
        m["pr_auc"] = json!(metrics::pr_auc(&s, &l));
        m["roc_auc"] = json!(metrics::roc_auc(&s, &l));
    }
    Ok(Trained {
        parts,
        profiles,
        metrics: m,
        positives: positives as u64,
    })
}
