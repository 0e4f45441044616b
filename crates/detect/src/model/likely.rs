//! Likely cargo: a multinomial logistic regression (linfa) that predicts the
//! cargo category from evidence other than the declaration itself (physical
//! figures, the exporter's usual goods, routing). It learns from the
//! declarations, most of which are honest, so it needs no fraud labels;
//! reviewed or true categories, where given, take precedence.
//!
//! The fitted weights are copied into a plain struct (exact bincode round
//! trip, prediction without ndarray), and the class priors of the
//! stratified training sample are corrected back to the population's.

use anyhow::{Context, Result};
use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use crate::features::{Feature, Frame};
use sentinel_parties::history::HistFeatures;

/// Evidence columns taken from the feature frame.
const EVIDENCE: &[Feature] = &[
    Feature::log_value_per_kg,
    Feature::log_weight_per_unit,
    Feature::log_value_per_unit,
    Feature::log_weight_per_package,
    Feature::unit_is_weight,
    Feature::unit_is_set,
    Feature::log_quantity,
    Feature::log_value,
    Feature::log_weight,
    Feature::consignee_hub,
    Feature::consignee_restricted,
    Feature::consignee_forwarder,
    Feature::mode_air,
    Feature::payer_abroad,
    Feature::intermediate_present,
];

/// Bin edges (log10) that let a linear model draw bands: kg per unit,
/// value per unit, value per kg.
const BINS: &[(Feature, &[f64])] = &[
    (
        Feature::log_weight_per_unit,
        &[
            -2.0, -1.5, -1.0, -0.6, -0.3, 0.0, 0.2, 0.35, 0.5, 0.7, 1.0, 1.5, 2.0, 2.5,
        ],
    ),
    (
        Feature::log_value_per_unit,
        &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.3, 3.6, 3.9, 4.2, 4.5, 5.0, 5.5],
    ),
    (
        Feature::log_value_per_kg,
        &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5],
    ),
];

/// Rows of each category kept for fitting (more are subsampled).
const PER_CLASS: usize = 6000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LikelyModel {
    pub n_categories: usize,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    /// inputs x classes
    pub weights: Vec<Vec<f64>>,
    pub intercept: Vec<f64>,
    /// Category index of each class.
    pub classes: Vec<usize>,
    /// log(population prior / sample prior) per class.
    pub prior_shift: Vec<f64>,
}

/// The frame's columns the model reads, found once.
struct InputColumns<'a> {
    cols: Vec<&'a [f64]>,
    bins: Vec<(&'a [f64], &'a [f64])>,
    width: usize,
}

impl<'a> InputColumns<'a> {
    fn new(frame: &'a Frame, n_cat: usize) -> InputColumns<'a> {
        let cols: Vec<&[f64]> = EVIDENCE.iter().map(|f| frame.base(*f)).collect();
        let bins: Vec<(&[f64], &[f64])> = BINS.iter().map(|(f, e)| (frame.base(*f), *e)).collect();
        let width = cols.len() * 2 + bins.iter().map(|(_, e)| e.len() + 1).sum::<usize>() + n_cat + 1;
        InputColumns { cols, bins, width }
    }

    /// Appends row `i`'s inputs to `x`.
    fn row(&self, hist: &HistFeatures, n_cat: usize, i: usize, x: &mut Vec<f64>) {
        for c in &self.cols {
            let v = c[i];
            x.push(if v.is_finite() { v } else { 0.0 });
        }
        for c in &self.cols {
            x.push(if c[i].is_finite() { 0.0 } else { 1.0 });
        }
        for (c, edges) in &self.bins {
            let v = c[i];
            let k = if v.is_finite() {
                edges.partition_point(|e| *e <= v)
            } else {
                usize::MAX
            };
            for b in 0..=edges.len() {
                x.push(if b == k { 1.0 } else { 0.0 });
            }
        }
        let mix = &hist.exporter_mix[i * n_cat..(i + 1) * n_cat];
        x.extend(mix.iter().map(|m| *m as f64 / 255.0));
        x.push(if hist.exporter_lines[i] > 0.0 { 0.0 } else { 1.0 });
    }
}

/// The model's input matrix (row-major), built from the frame and the exporter mix.
pub fn inputs(frame: &Frame, hist: &HistFeatures, n_cat: usize) -> (usize, Vec<f64>) {
    let ic = InputColumns::new(frame, n_cat);
    let mut x = Vec::with_capacity(frame.n * ic.width);
    for i in 0..frame.n {
        ic.row(hist, n_cat, i, &mut x);
    }
    (ic.width, x)
}

/// Classes a row's logits are summed for in registers: up to this many,
/// the weights are padded to it (with zeros, whose sums are never read).
const LANES: usize = 16;

/// The fitted weights laid out for prediction.
struct Prepared {
    /// Input by input, `k` classes each, padded to `stride`.
    flat: Vec<f64>,
    /// [`LANES`] when `k` is at most that (the sums stay in registers),
    /// else `k`.
    stride: usize,
    /// Intercept plus prior shift per class.
    start: Vec<f64>,
}

impl LikelyModel {
    /// Fits on rows `x` (row-major, `width` wide) with categories `target`.
    pub fn fit(width: usize, x: &[f64], target: &[u8], n_cat: usize, seed: u64) -> Result<LikelyModel> {
        let n = target.len();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); n_cat];
        for (i, t) in target.iter().enumerate() {
            by_class[*t as usize].push(i);
        }
        let mut rows = Vec::new();
        let mut sample_count = vec![0usize; n_cat];
        for (c, idx) in by_class.iter_mut().enumerate() {
            idx.shuffle(&mut rng);
            idx.truncate(PER_CLASS);
            sample_count[c] = idx.len();
            rows.extend_from_slice(idx);
        }
        rows.sort_unstable();
        let m = rows.len();
        let mut mean = vec![0.0; width];
        let mut scale = vec![0.0; width];
        for &r in &rows {
            for j in 0..width {
                mean[j] += x[r * width + j];
            }
        }
        for v in mean.iter_mut() {
            *v /= m.max(1) as f64;
        }
        for &r in &rows {
            for j in 0..width {
                let d = x[r * width + j] - mean[j];
                scale[j] += d * d;
            }
        }
        for v in scale.iter_mut() {
            *v = (*v / m.max(1) as f64).sqrt();
            if *v < 1e-9 {
                *v = 1.0;
            }
        }
        let mut data = Vec::with_capacity(m * width);
        for &r in &rows {
            for j in 0..width {
                data.push((x[r * width + j] - mean[j]) / scale[j]);
            }
        }
        let records = Array2::from_shape_vec((m, width), data).context("likely-cargo input shape")?;
        let targets: Array1<usize> = rows.iter().map(|&r| target[r] as usize).collect();
        let ds = Dataset::new(records, targets);
        let fitted = MultiLogisticRegression::default()
            .alpha(1.0)
            .max_iterations(120)
            .fit(&ds)
            .context("fitting the likely-cargo model")?;
        let params = fitted.params();
        let classes: Vec<usize> = fitted.classes().to_vec();
        let weights: Vec<Vec<f64>> = (0..width)
            .map(|j| (0..classes.len()).map(|k| params[[j, k]]).collect())
            .collect();
        let intercept = fitted.intercept().to_vec();
        let mut pop = vec![0usize; n_cat];
        for t in target {
            pop[*t as usize] += 1;
        }
        let prior_shift = classes
            .iter()
            .map(|&c| ((pop[c] as f64 / n as f64) / (sample_count[c] as f64 / m as f64)).ln())
            .collect();
        Ok(LikelyModel {
            n_categories: n_cat,
            mean,
            scale,
            weights,
            intercept,
            classes,
            prior_shift,
        })
    }

    fn prepare(&self, width: usize) -> Prepared {
        let k = self.classes.len();
        self.prepare_with(width, if k <= LANES { LANES } else { k })
    }

    fn prepare_with(&self, width: usize, stride: usize) -> Prepared {
        let k = self.classes.len();
        let used = self.weights.len().min(width);
        Prepared {
            flat: self.weights[..used]
                .iter()
                .flat_map(|w| {
                    (0..stride).map(|c| {
                        if c < k {
                            w.get(c).copied().unwrap_or(0.0)
                        } else {
                            0.0
                        }
                    })
                })
                .collect(),
            start: (0..k).map(|c| self.intercept[c] + self.prior_shift[c]).collect(),
            stride,
        }
    }

    /// P(category) of one row of inputs into `out` (`n_categories` long);
    /// `logits` is scratch space of one per class.
    fn predict_row(&self, p: &Prepared, row: &[f64], logits: &mut [f64], out: &mut [f64]) {
        let k = self.classes.len();
        if p.stride == LANES {
            // The sums stay in registers (a slice would go through memory,
            // each input waiting for the last one's stores); each class
            // still adds the inputs in order, so the sums are the same.
            let mut acc = [0.0; LANES];
            acc[..k].copy_from_slice(&p.start);
            for (j, (v, w)) in row.iter().zip(p.flat.chunks_exact(LANES)).enumerate() {
                let z = (v - self.mean[j]) / self.scale[j];
                if z != 0.0 {
                    for (a, w) in acc.iter_mut().zip(w) {
                        *a += z * w;
                    }
                }
            }
            logits.copy_from_slice(&acc[..k]);
        } else {
            logits.copy_from_slice(&p.start);
            for (j, (v, w)) in row.iter().zip(p.flat.chunks_exact(k.max(1))).enumerate() {
                let z = (v - self.mean[j]) / self.scale[j];
                if z != 0.0 {
                    for (l, w) in logits.iter_mut().zip(w) {
                        *l += z * w;
                    }
                }
            }
        }
        let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        // Each exponential once (they are the numerators and the sum).
        for l in logits.iter_mut() {
            *l = (*l - max).exp();
        }
        let sum: f64 = logits.iter().sum();
        for (c, e) in logits.iter().enumerate() {
            out[self.classes[c]] = e / sum;
        }
    }

    /// P(category) per row, row-major `n x n_categories`.
    pub fn predict(&self, width: usize, x: &[f64]) -> Vec<f64> {
        let n = x.len().checked_div(width).unwrap_or(0);
        let p = self.prepare(width);
        let mut out = vec![0.0; n * self.n_categories];
        let mut logits = vec![0.0; self.classes.len()];
        for (row, o) in x
            .chunks_exact(width.max(1))
            .zip(out.chunks_exact_mut(self.n_categories.max(1)))
        {
            self.predict_row(&p, row, &mut logits, o);
        }
        out
    }

    /// P(category) per row of a frame (row-major, `n x n_categories`), the
    /// same as [`LikelyModel::predict`] on [`inputs`], without building the
    /// input matrix.
    pub fn predict_frame(&self, frame: &Frame, hist: &HistFeatures) -> Vec<f64> {
        let ic = InputColumns::new(frame, self.n_categories);
        let p = self.prepare(ic.width);
        let mut out = vec![0.0; frame.n * self.n_categories];
        let mut logits = vec![0.0; self.classes.len()];
        let mut row = Vec::with_capacity(ic.width);
        for (i, o) in out.chunks_exact_mut(self.n_categories.max(1)).enumerate() {
            row.clear();
            ic.row(hist, self.n_categories, i, &mut row);
            self.predict_row(&p, &row, &mut logits, o);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_prediction_equals_matrix_prediction() {
        let (n, n_cat) = (400, 4);
        let mut rnd = sentinel_manifest::hash::test_uniform(11);
        let mut names: Vec<String> = EVIDENCE.iter().map(|f| f.name().to_string()).collect();
        names.sort();
        names.dedup();
        let cols: Vec<Vec<f64>> = names
            .iter()
            .map(|_| {
                (0..n)
                    .map(|_| {
                        let v = rnd();
                        if v < 0.05 {
                            f64::NAN
                        } else {
                            v * 6.0 - 2.0
                        }
                    })
                    .collect()
            })
            .collect();
        let frame = Frame { names, cols, n };
        let hist = HistFeatures {
            exporter_mix: (0..n * n_cat).map(|_| (rnd() * 255.0) as u8).collect(),
            exporter_lines: (0..n).map(|i| (i % 3) as f32).collect(),
            ..Default::default()
        };
        let target: Vec<u8> = (0..n).map(|i| (frame.cols[0][i].abs() as u8).min(3)).collect();
        let (w, x) = inputs(&frame, &hist, n_cat);
        let m = LikelyModel::fit(w, &x, &target, n_cat, 1).unwrap();
        let by_matrix = m.predict(w, &x);
        let by_frame = m.predict_frame(&frame, &hist);
        assert_eq!(by_matrix.len(), n * n_cat);
        let bits = |v: &[f64]| v.iter().map(|p| p.to_bits()).collect::<Vec<u64>>();
        assert_eq!(bits(&by_frame), bits(&by_matrix));
        // Sums in registers (weights padded to LANES) equal sums over the
        // unpadded weights.
        let k = m.classes.len();
        let (padded, plain) = (m.prepare_with(w, LANES), m.prepare_with(w, k));
        assert_eq!((padded.stride, plain.stride), (LANES, k));
        let (mut l, mut a, mut b) = (vec![0.0; k], vec![0.0; n_cat], vec![0.0; n_cat]);
        for row in x.chunks_exact(w) {
            m.predict_row(&padded, row, &mut l, &mut a);
            m.predict_row(&plain, row, &mut l, &mut b);
            assert_eq!(bits(&a), bits(&b));
        }
        // Each row is a distribution over the categories.
        for p in by_frame.chunks(n_cat) {
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }
}
