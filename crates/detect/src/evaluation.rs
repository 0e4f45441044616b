//! Honest metrics of a model on labelled data it has not seen: precision
//! and recall at inspection budgets, PR-AUC, ROC-AUC, recall per scheme,
//! likely-versus-true category confusion and calibration; with the
//! label-free score and an isolation forest on the same features beside
//! the model's own score.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::in_memory;
use crate::metrics;
use crate::model::labelfree::Isolation;
use crate::model::Model;
use crate::pipeline::{self, Mode, Scoring};
use crate::run_sample;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;
use sentinel_manifest::tables::Tables;

/// Inspection budgets reported, in percent of the batch.
pub const BUDGETS: [f64; 5] = [0.5, 1.0, 2.0, 5.0, 10.0];

#[derive(Debug, Clone, Serialize)]
pub struct AtBudget {
    pub budget_percent: f64,
    pub rows: usize,
    pub precision: f64,
    pub recall: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    pub pr_auc: Option<f64>,
    pub roc_auc: Option<f64>,
    pub at_budget: Vec<AtBudget>,
    /// Scheme -> (rows, recall at 1%, recall at 2%).
    pub recall_by_typology: BTreeMap<String, TypologyRecall>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypologyRecall {
    pub rows: usize,
    pub recall_at_1pct: f64,
    pub recall_at_2pct: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Decile {
    pub decile: usize,
    pub rows: usize,
    pub mean_score: f64,
    pub observed_rate: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub model_id: String,
    pub mode: String,
    pub rows: usize,
    pub positives: usize,
    pub model: Option<Ranking>,
    pub label_free: Option<Ranking>,
    pub isolation_forest: Option<Ranking>,
    pub calibration: Vec<Decile>,
    /// true category -> likely category -> rows.
    pub likely_confusion: BTreeMap<String, BTreeMap<String, usize>>,
    pub likely_accuracy: Option<f64>,
}

/// Ranking metrics of `scores` against `labels`.
pub fn ranking(scores: &[f64], labels: &[bool], typology: &[&str]) -> Ranking {
    let n = scores.len();
    let at_budget = BUDGETS
        .iter()
        .map(|&p| {
            let k = metrics::budget_rows(n, p);
            let (precision, recall) = metrics::at_k(scores, labels, k);
            AtBudget {
                budget_percent: p,
                rows: k,
                precision,
                recall,
            }
        })
        .collect();
    let mut recall_by_typology = BTreeMap::new();
    let mut names: Vec<&str> = typology.iter().copied().filter(|t| !t.is_empty()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let sel: Vec<bool> = typology.iter().map(|t| *t == name).collect();
        let rows = sel.iter().filter(|s| **s).count();
        let recall_at = |p: f64| {
            let k = metrics::budget_rows(n, p);
            let (_, r) = metrics::at_k(scores, &sel, k);
            r.unwrap_or(0.0)
        };
        recall_by_typology.insert(
            name.to_string(),
            TypologyRecall {
                rows,
                recall_at_1pct: recall_at(1.0),
                recall_at_2pct: recall_at(2.0),
            },
        );
    }
    Ranking {
        pr_auc: metrics::pr_auc(scores, labels),
        roc_auc: metrics::roc_auc(scores, labels),
        at_budget,
        recall_by_typology,
    }
}

/// Evaluates a model on a labelled batch.
pub fn evaluate(model: &Model, b: &Batch, mode: Mode, baseline: bool) -> Report {
    let t = Tables::get();
    let hist = in_memory::histories(model, b);
    let ev = pipeline::evidence(&model.parts, b, &hist);
    let label_col = b.num(Col::Label);
    let has_labels = label_col.iter().any(|v| v.is_finite());
    // The label-free score reads the evaluated batch's own tails, as a
    // scored run does: fitted when the model's score or the comparison
    // beside it is label-free.
    let label_free_wanted = has_labels && mode == Mode::Supervised;
    let sample = || ev.frame.select(&run_sample::positions(b.len, run_sample::SIZE));
    let tails = pipeline::run_labelfree(
        &model.parts,
        if label_free_wanted { Mode::LabelFree } else { mode },
        sample,
    );
    let scores = pipeline::score(&model.parts, &ev, Scoring::of(&model.parts, mode, &tails));
    let labelled: Vec<usize> = (0..b.len).filter(|&i| label_col[i].is_finite()).collect();
    let labels: Vec<bool> = labelled.iter().map(|&i| label_col[i] > 0.5).collect();
    let typ_col = b.text(Col::Typology);
    let typology: Vec<&str> = labelled.iter().map(|&i| &typ_col[i]).collect();
    let pick = |s: &[f64]| -> Vec<f64> { labelled.iter().map(|&i| s[i]).collect() };
    let model_rank = has_labels.then(|| ranking(&pick(&scores.risk), &labels, &typology));
    let label_free = label_free_wanted.then(|| {
        let lf = pipeline::score(&model.parts, &ev, Scoring::LabelFree(&tails));
        ranking(&pick(&lf.risk), &labels, &typology)
    });
    // The baseline: the label-free score's own isolation forest, fitted
    // here on the evaluated batch itself.
    let isolation_forest = (has_labels && baseline).then(|| {
        let s = Isolation::fit(&ev.frame, 1).scores(&ev.frame);
        ranking(&pick(&s), &labels, &typology)
    });
    // Calibration by score decile.
    let mut calibration = Vec::new();
    if has_labels && !labelled.is_empty() {
        let s = pick(&scores.risk);
        let order = metrics::order_desc(&s);
        let m = order.len();
        for d in 0..10 {
            let lo = m * (9 - d) / 10;
            let hi = m * (10 - d) / 10;
            let idx = &order[lo..hi];
            if idx.is_empty() {
                continue;
            }
            let mean = idx.iter().map(|&i| s[i]).sum::<f64>() / idx.len() as f64;
            let rate = idx.iter().filter(|&&i| labels[i]).count() as f64 / idx.len() as f64;
            calibration.push(Decile {
                decile: d + 1,
                rows: idx.len(),
                mean_score: mean,
                observed_rate: rate,
            });
        }
    }
    let mut likely_confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let truth = b.text(Col::TrueCategory);
    let mut agree = 0;
    let mut with_truth = 0;
    for i in 0..b.len {
        if truth[i].is_empty() {
            continue;
        }
        with_truth += 1;
        let likely = &t.categories[scores.likely_category[i] as usize].name;
        if likely == &truth[i] {
            agree += 1;
        }
        *likely_confusion
            .entry(truth[i].to_string())
            .or_default()
            .entry(likely.clone())
            .or_default() += 1;
    }
    Report {
        model_id: model.id().to_string(),
        mode: mode.to_string(),
        rows: b.len,
        positives: labels.iter().filter(|l| **l).count(),
        model: model_rank,
        label_free,
        isolation_forest,
        calibration,
        likely_confusion,
        likely_accuracy: (with_truth > 0).then(|| agree as f64 / with_truth as f64),
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{x:.3}"))
}

/// The report as text for people.
pub fn text(r: &Report) -> String {
    let mut out = format!(
        "evaluate: model {} ({}), {} rows, {} positives\n",
        r.model_id, r.mode, r.rows, r.positives
    );
    let block = |name: &str, k: &Ranking| -> String {
        let mut s = format!(
            "  {name}: PR-AUC {}, ROC-AUC {}\n",
            fmt_opt(k.pr_auc),
            fmt_opt(k.roc_auc)
        );
        for b in &k.at_budget {
            s.push_str(&format!(
                "    top {:>4}% ({:>6} rows): precision {:.3}, recall {}\n",
                b.budget_percent,
                b.rows,
                b.precision,
                fmt_opt(b.recall)
            ));
        }
        for (t, v) in &k.recall_by_typology {
            s.push_str(&format!(
                "    {t:<20} {:>5} rows: recall@1% {:.3}, recall@2% {:.3}\n",
                v.rows, v.recall_at_1pct, v.recall_at_2pct
            ));
        }
        s
    };
    if let Some(k) = &r.model {
        out.push_str(&block("model score", k));
    }
    if let Some(k) = &r.label_free {
        out.push_str(&block("label-free score", k));
    }
    if let Some(k) = &r.isolation_forest {
        out.push_str(&block("isolation forest (baseline)", k));
    }
    if !r.calibration.is_empty() {
        out.push_str("  calibration (decile: mean score / observed rate):\n");
        for d in &r.calibration {
            out.push_str(&format!(
                "    {:>2}: {:.4} / {:.4} ({} rows)\n",
                d.decile, d.mean_score, d.observed_rate, d.rows
            ));
        }
    }
    if let Some(a) = r.likely_accuracy {
        out.push_str(&format!("  likely cargo vs true category: accuracy {a:.3}\n"));
        for (truth, row) in &r.likely_confusion {
            let cells: Vec<String> = row.iter().map(|(k, v)| format!("{k} {v}")).collect();
            out.push_str(&format!("    {truth:<20} -> {}\n", cells.join(", ")));
        }
    }
    out
}
