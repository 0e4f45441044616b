//! The label-free score, for batches with no labels to learn from (or with
//! `--ignore-labels`): the likely-cargo mismatch plus how unusual the row is
//! against what is typical and against the BIS red flags, as an additive
//! sum of explainable terms. It is expressed as a percentile of the training
//! rows' scores, so a threshold means the same across batches.
//!
//! The terms and weights are fixed by domain judgement (`shared/DOMAIN.md`),
//! not fitted to labels.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::iforest::IsolationForest;
use crate::features::{Frame, FEATURES};

/// How a feature's value becomes a term of the score.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Transform {
    /// The value itself, clipped to 0..1.
    Unit,
    /// 1 when the value is above the threshold.
    Above(f64),
    /// 1 when the value is below the threshold.
    Below(f64),
    /// How far |value| exceeds the threshold, in units of 4, capped at 1.
    Beyond(f64),
    /// How far the value exceeds the threshold upwards only, in units of 4, capped at 1.
    Up(f64),
}

impl Transform {
    fn apply(self, v: f64) -> f64 {
        if !v.is_finite() {
            return 0.0;
        }
        match self {
            Transform::Unit => v.clamp(0.0, 1.0),
            Transform::Above(t) => f64::from(u8::from(v > t)),
            Transform::Below(t) => f64::from(u8::from(v < t)),
            Transform::Beyond(t) => ((v.abs() - t) / 4.0).clamp(0.0, 1.0),
            Transform::Up(t) => ((v - t) / 4.0).clamp(0.0, 1.0),
        }
    }
}

/// The terms: feature, transform, weight.
pub const TERMS: &[(&str, Transform, f64)] = &[
    ("mismatch", Transform::Unit, 4.0),
    // Relabelled GPUs are heavier and dearer per unit than what they are
    // declared as, never lighter or cheaper: only upward deviations count.
    ("dev_weight_per_unit", Transform::Up(2.0), 1.5),
    ("dev_value_per_kg", Transform::Up(2.0), 1.0),
    ("dev_value_per_unit", Transform::Up(2.0), 1.0),
    ("desc_category_differs", Transform::Above(0.5), 0.5),
    ("desc_suggests_controlled", Transform::Above(0.5), 1.0),
    ("eccn_ear99_on_controlled", Transform::Above(0.5), 0.5),
    ("eccn_controlled_on_other", Transform::Above(0.5), 0.5),
    ("licence_nlr_restricted", Transform::Above(0.5), 1.0),
    ("brand_unknown", Transform::Above(0.5), 0.3),
    ("brand_controlled_maker", Transform::Above(0.5), 0.5),
    ("exporter_prior_lines", Transform::Below(0.5), 0.3),
    ("exporter_prior_anomaly", Transform::Up(1.0), 1.5),
    ("consignee_prior_anomaly", Transform::Up(1.0), 0.5),
    ("exporter_new_category", Transform::Above(0.5), 0.4),
    ("address_residential", Transform::Above(0.5), 0.4),
    ("consignee_forwarder", Transform::Above(0.5), 0.3),
    ("consignee_hub", Transform::Above(0.5), 0.3),
    ("consignee_prior_lines", Transform::Below(0.1), 0.2),
    ("intermediate_present", Transform::Above(0.5), 0.3),
    ("payer_abroad", Transform::Above(0.5), 0.3),
    ("payer_china", Transform::Above(0.5), 0.5),
    ("invoice_value_ratio", Transform::Beyond(0.15), 0.8),
    ("invoice_description_differs", Transform::Above(0.75), 0.5),
    ("amendment_count", Transform::Above(0.5), 0.2),
    ("invalid_fields", Transform::Above(0.5), 0.5),
];

/// How unusual a row is against the training rows: an isolation forest
/// over the base features (missing values filled with the training median).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Isolation {
    pub features: Vec<String>,
    pub fill: Vec<f64>,
    pub forest: IsolationForest,
}

/// Rows used to fit the isolation forest (a seeded sample).
const ISOLATION_SAMPLE: usize = 50_000;

impl Isolation {
    pub fn fit(frame: &Frame, seed: u64) -> Isolation {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut rows: Vec<usize> = (0..frame.n).collect();
        rows.shuffle(&mut rng);
        rows.truncate(ISOLATION_SAMPLE);
        rows.sort_unstable();
        let mut features = Vec::new();
        let mut fill = Vec::new();
        let mut cols = Vec::new();
        for f in FEATURES {
            let Some(c) = frame.col(f.name) else { continue };
            let mut finite: Vec<f64> = rows.iter().map(|&i| c[i]).filter(|v| v.is_finite()).collect();
            finite.sort_by(|a, b| a.total_cmp(b));
            let med = finite.get(finite.len() / 2).copied().unwrap_or(0.0);
            cols.push(
                rows.iter()
                    .map(|&i| if c[i].is_finite() { c[i] } else { med })
                    .collect::<Vec<f64>>(),
            );
            features.push(f.name.to_string());
            fill.push(med);
        }
        let forest = IsolationForest::fit(&cols, 200, 256, seed);
        Isolation {
            features,
            fill,
            forest,
        }
    }

    /// Scores in 0..1 (higher = easier to isolate) of every row of a frame.
    pub fn scores(&self, frame: &Frame) -> Vec<f64> {
        let cols: Vec<Option<&[f64]>> = self.features.iter().map(|n| frame.col(n)).collect();
        let mut row = vec![0.0; cols.len()];
        (0..frame.n)
            .map(|i| {
                for (j, c) in cols.iter().enumerate() {
                    let v = c.map_or(f64::NAN, |c| c[i]);
                    row[j] = if v.is_finite() { v } else { self.fill[j] };
                }
                self.forest.score(&row)
            })
            .collect()
    }
}

/// Weight of the isolation term (its value is (score - 0.45) / 0.2, in 0..1):
/// the largest single term, as on this world unusualness carries most of what
/// can be seen without labels (chosen among 4, 8 and 12 on held-out worlds).
const ISOLATION_WEIGHT: f64 = 8.0;

/// The label-free scorer with its reference distribution.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelFree {
    /// Sorted raw scores of (a sample of) the training rows.
    pub reference: Vec<f64>,
    /// Unusualness against the training rows.
    pub isolation: Option<Isolation>,
}

/// Names of the terms (the features they come from), in contribution order.
pub fn term_names() -> Vec<&'static str> {
    TERMS.iter().map(|t| t.0).chain(["isolation"]).collect()
}

/// Per-term contributions of each row (row-major, rows x [`term_names`]) and raw scores.
pub fn terms(frame: &Frame, isolation: Option<&Isolation>) -> (Vec<f64>, Vec<f64>) {
    let cols: Vec<Option<&[f64]>> = TERMS.iter().map(|(n, _, _)| frame.col(n)).collect();
    let iso = isolation.map(|m| m.scores(frame));
    let k = TERMS.len() + 1;
    let mut contrib = vec![0.0; frame.n * k];
    let mut raw = vec![0.0; frame.n];
    for i in 0..frame.n {
        for (t, ((_, tr, w), c)) in TERMS.iter().zip(&cols).enumerate() {
            if let Some(c) = c {
                let v = tr.apply(c[i]) * w;
                contrib[i * k + t] = v;
                raw[i] += v;
            }
        }
        if let Some(iso) = &iso {
            let v = ((iso[i] - 0.45) / 0.2).clamp(0.0, 1.0) * ISOLATION_WEIGHT;
            contrib[i * k + TERMS.len()] = v;
            raw[i] += v;
        }
    }
    (contrib, raw)
}

impl LabelFree {
    /// Keeps up to 20,001 evenly spaced quantiles of the training scores.
    pub fn fit(raw: &[f64], isolation: Option<Isolation>) -> LabelFree {
        let mut s: Vec<f64> = raw.iter().copied().filter(|v| v.is_finite()).collect();
        s.sort_by(|a, b| a.total_cmp(b));
        let keep = 20_001usize;
        let reference = if s.len() <= keep {
            s
        } else {
            (0..keep).map(|q| s[q * (s.len() - 1) / (keep - 1)]).collect()
        };
        LabelFree { reference, isolation }
    }

    /// Share of training rows scoring at or below `raw` (mid-rank for ties).
    pub fn percentile(&self, raw: f64) -> f64 {
        let n = self.reference.len();
        if n == 0 {
            return 0.5;
        }
        let below = self.reference.partition_point(|v| *v < raw);
        let at_or_below = self.reference.partition_point(|v| *v <= raw);
        ((below + at_or_below) as f64 / 2.0) / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_against_training() {
        let lf = LabelFree::fit(&[0.0, 1.0, 2.0, 3.0], None);
        assert_eq!(lf.percentile(-1.0), 0.0);
        assert_eq!(lf.percentile(10.0), 1.0);
        assert_eq!(lf.percentile(1.5), 0.5);
        assert_eq!(lf.percentile(1.0), 0.375);
    }
}
