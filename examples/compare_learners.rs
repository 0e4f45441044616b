//! The risk model's learner, measured: forust-ml gradient boosting (what
//! `train` uses) against linfa's logistic regression on the same features,
//! the same training world and the same held-out world.
//!
//!     cargo run --release --example compare_learners -- TRAIN.csv TEST.csv

use std::time::Instant;

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use sentinel::features;
use sentinel::history::{self, Profiles};
use sentinel::in_memory;
use sentinel::keys::RowKeys;
use sentinel::metrics::{at_k, budget_rows, pr_auc};
use sentinel::model::gbm::GbmParams;
use sentinel::model::{Manifest, Model};
use sentinel::pipeline;
use sentinel::reader::{Input, Reader, RejectSink};
use sentinel::sampling::Negatives;
use sentinel::schema::Col;
use sentinel::tables::Tables;
use sentinel::training::{train, TrainConfig, TrainData};

fn read(path: &str) -> sentinel::batch::Batch {
    let mut r = Reader::open(&[Input::Path(path.into())], None, None).expect("open");
    r.read_all().expect("read")
}

fn report(name: &str, scores: &[f64], labels: &[bool], secs: f64) {
    let k = budget_rows(scores.len(), 1.0);
    let (p, r) = at_k(scores, labels, k);
    println!(
        "{name:<28} PR-AUC {:.3}  precision@1% {p:.3}  recall@1% {:.3}  fit {secs:.1} s",
        pr_auc(scores, labels).unwrap_or(0.0),
        r.unwrap_or(0.0)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(train_path), Some(test_path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: compare_learners TRAIN.csv TEST.csv");
        std::process::exit(2);
    };
    let (tr, te) = (read(train_path), read(test_path));
    let n_cat = Tables::get().n_categories();
    let t = Instant::now();
    let trained = train(
        TrainData {
            inputs: &[Input::Path(train_path.into())],
            mapping: None,
            rejects: RejectSink::create(&std::env::temp_dir().join("compare-learners-rejects.csv"))
                .expect("rejects"),
            reviews: None,
        },
        &TrainConfig {
            seed: 1,
            ignore_labels: false,
            party_outcomes: false,
            negatives: Negatives::All,
            in_memory_bytes: sentinel::reader::IN_MEMORY_BYTES,
            gbm: GbmParams::default(),
        },
        &|_, _, _| {},
    )
    .expect("train");
    let gbm_secs = t.elapsed().as_secs_f64();
    let manifest: Manifest = serde_json::from_value(serde_json::json!({
        "format_version": 1, "feature_set_version": 1, "model_id": "compare", "tool_version": "", "created_unix": 0,
        "command_line": [], "mode": "supervised", "seed": 1, "training_rows": 0, "training_positives": 0, "reviewed_rows": 0,
        "training_files": [], "training_fingerprint": "", "features": [], "metrics": null, "files": {}
    }))
    .expect("manifest");
    let model = Model {
        manifest,
        parts: trained.parts,
        profiles: trained.profiles,
    };
    // Training rows' features as training saw them (histories from nothing).
    let d = features::declared(&tr, &model.parts.text);
    let anomaly = features::anomaly(&d, &model.parts.stats);
    let (hist_tr, _) = history::compute(
        &Profiles::default(),
        &mut RowKeys::from_batch(&tr, &d.category, &d.hs6, &anomaly),
        n_cat,
    );
    let ev_tr = pipeline::evidence(&model.parts, &tr, &hist_tr);
    let ev_te = pipeline::evidence(&model.parts, &te, &in_memory::histories(&model, &te));
    let labels_te: Vec<bool> = te.num(Col::Label).iter().map(|v| *v > 0.5).collect();
    let labels_tr: Vec<bool> = tr.num(Col::Label).iter().map(|v| *v > 0.5).collect();
    let gbm = pipeline::score(&model.parts, &ev_te, pipeline::Scoring::Supervised);
    report("forust gradient boosting", &gbm.risk, &labels_te, gbm_secs);

    // linfa logistic regression: medians for missing values, standardised.
    let names = &model.parts.risk_inputs;
    let w = names.len();
    let xtr = pipeline::matrix(&ev_tr.frame, names);
    let xte = pipeline::matrix(&ev_te.frame, names);
    let mut fill = vec![0.0; w];
    let (mut mean, mut sd) = (vec![0.0; w], vec![1.0; w]);
    for j in 0..w {
        let mut col: Vec<f64> = (0..tr.len)
            .map(|i| xtr[i * w + j])
            .filter(|v| v.is_finite())
            .collect();
        col.sort_by(|a, b| a.total_cmp(b));
        fill[j] = col.get(col.len() / 2).copied().unwrap_or(0.0);
        let m = col.iter().sum::<f64>() / col.len().max(1) as f64;
        let v = col.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / col.len().max(1) as f64;
        mean[j] = m;
        sd[j] = if v > 1e-12 { v.sqrt() } else { 1.0 };
    }
    let prep = |x: &[f64], n: usize| -> Array2<f64> {
        let data: Vec<f64> = (0..n * w)
            .map(|k| {
                let j = k % w;
                let v = if x[k].is_finite() { x[k] } else { fill[j] };
                ((v - mean[j]) / sd[j]).clamp(-20.0, 20.0)
            })
            .collect();
        Array2::from_shape_vec((n, w), data).expect("shape")
    };
    let t = Instant::now();
    let y: Array1<bool> = labels_tr.iter().copied().collect();
    let fitted = LogisticRegression::default()
        .max_iterations(200)
        .alpha(1.0)
        .fit(&Dataset::new(prep(&xtr, tr.len), y))
        .expect("logistic fit");
    let secs = t.elapsed().as_secs_f64();
    let p = fitted.predict_probabilities(&prep(&xte, te.len));
    // linfa documents P(larger class); check which class that is from the fit.
    let p: Vec<f64> = p.to_vec();
    let q: Vec<f64> = p.iter().map(|v| 1.0 - v).collect();
    let up = pr_auc(&p, &labels_te).unwrap_or(0.0);
    let down = pr_auc(&q, &labels_te).unwrap_or(0.0);
    println!("(linfa's probability column ranks positives with PR-AUC {up:.3}; its complement {down:.3})");
    report(
        "linfa logistic regression",
        if up >= down { &p } else { &q },
        &labels_te,
        secs,
    );
}
