//! The supervised risk model: gradient-boosted trees (forust-ml, log loss)
//! over every feature plus the likely-cargo outputs. linfa's learners give
//! no probabilities (trees, forests) or cannot draw the feature
//! interactions this needs (logistic); the comparison is in the notes.
//!
//! After fitting, the trees are copied into a flat form of our own: exact
//! bincode round trip, fast single-pass prediction, and per-row attributions
//! (each split's change in leaf weight credited to its feature, Saabas'
//! method), which become the row's reasons.

use anyhow::{anyhow, Result};
use forust_ml::data::Matrix;
use forust_ml::gradientbooster::GradientBooster;
use forust_ml::objective::ObjectiveType;
use serde::{Deserialize, Serialize};

/// One node of a flat tree.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Node {
    pub feature: u32,
    pub split: f64,
    pub left: u32,
    pub right: u32,
    pub missing: u32,
    pub leaf: bool,
    /// The node's weight (a leaf's output; an inner node's average).
    pub weight: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Forest {
    pub base: f64,
    pub trees: Vec<Vec<Node>>,
    pub n_features: usize,
}

/// Hyper-parameters of the risk model.
#[derive(Debug, Clone, Copy)]
pub struct GbmParams {
    /// Boosting rounds (default 400).
    pub iterations: usize,
    /// Learning rate (default 0.08).
    pub learning_rate: f32,
    /// Depth of each tree (default 6).
    pub max_depth: usize,
    /// Weight of a positive row relative to a negative one (default 10).
    pub positive_weight: f64,
    pub seed: u64,
}

impl Default for GbmParams {
    fn default() -> Self {
        GbmParams {
            iterations: 400,
            learning_rate: 0.08,
            max_depth: 6,
            positive_weight: 10.0,
            seed: 1,
        }
    }
}

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Forest {
    /// Fits on column-major `x` (n rows) with 0/1 labels and row weights.
    pub fn fit(x: &[f64], n: usize, y: &[f64], w: &[f64], p: GbmParams) -> Result<Forest> {
        let cols = x.len().checked_div(n).unwrap_or(0);
        let m = Matrix::new(x, n, cols);
        let mut booster = GradientBooster::default()
            .set_objective_type(ObjectiveType::LogLoss)
            .set_iterations(p.iterations)
            .set_learning_rate(p.learning_rate)
            .set_max_depth(p.max_depth)
            .set_min_leaf_weight(1.0)
            .set_seed(p.seed)
            .set_parallel(true);
        booster
            .fit(&m, y, w, None)
            .map_err(|e| anyhow!("fitting the risk model: {e}"))?;
        let trees = booster
            .trees
            .iter()
            .map(|t| {
                t.nodes
                    .iter()
                    .map(|nd| Node {
                        feature: nd.split_feature as u32,
                        split: nd.split_value,
                        left: nd.left_child as u32,
                        right: nd.right_child as u32,
                        missing: nd.missing_node as u32,
                        leaf: nd.is_leaf,
                        weight: nd.weight_value as f64,
                    })
                    .collect()
            })
            .collect();
        Ok(Forest {
            base: booster.base_score,
            trees,
            n_features: cols,
        })
    }

    fn next(node: &Node, v: f64) -> usize {
        if v.is_nan() {
            node.missing as usize
        } else if v < node.split {
            node.left as usize
        } else {
            node.right as usize
        }
    }

    /// Log-odds of one row.
    pub fn margin(&self, row: &[f64]) -> f64 {
        let mut s = self.base;
        for t in &self.trees {
            let mut k = 0;
            while !t[k].leaf {
                k = Forest::next(&t[k], row[t[k].feature as usize]);
            }
            s += t[k].weight;
        }
        s
    }

    /// Probability of label 1 for one row.
    pub fn predict(&self, row: &[f64]) -> f64 {
        sigmoid(self.margin(row))
    }

    /// Each feature's share of the row's log-odds (Saabas): sums, with the
    /// bias (last element), to the margin.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        let mut c = vec![0.0; self.n_features + 1];
        c[self.n_features] = self.base;
        for t in &self.trees {
            let mut k = 0;
            c[self.n_features] += t[0].weight;
            while !t[k].leaf {
                let nk = Forest::next(&t[k], row[t[k].feature as usize]);
                c[t[k].feature as usize] += t[nk].weight - t[k].weight;
                k = nk;
            }
        }
        c
    }
}

/// A node laid out for prediction: 24 bytes, leaves marked by
/// `feature == LEAF` with their weight in `split`.
#[derive(Debug, Clone, Copy)]
struct FastNode {
    split: f64,
    feature: u32,
    left: u32,
    right: u32,
    missing: u32,
}

const LEAF: u32 = u32::MAX;

/// A forest compiled for fast prediction: all trees in one array.
pub struct Compiled {
    base: f64,
    nodes: Vec<FastNode>,
    roots: Vec<u32>,
}

impl Forest {
    /// Lays the trees out for prediction (same results as [`Forest::margin`]).
    pub fn compile(&self) -> Compiled {
        let mut nodes = Vec::new();
        let mut roots = Vec::with_capacity(self.trees.len());
        for t in &self.trees {
            let off = nodes.len() as u32;
            roots.push(off);
            for n in t {
                nodes.push(if n.leaf {
                    FastNode {
                        split: n.weight,
                        feature: LEAF,
                        left: 0,
                        right: 0,
                        missing: 0,
                    }
                } else {
                    FastNode {
                        split: n.split,
                        feature: n.feature,
                        left: off + n.left,
                        right: off + n.right,
                        missing: off + n.missing,
                    }
                });
            }
        }
        Compiled {
            base: self.base,
            nodes,
            roots,
        }
    }
}

impl Compiled {
    /// Log-odds of one row.
    pub fn margin(&self, row: &[f64]) -> f64 {
        let mut s = self.base;
        for &r in &self.roots {
            let mut k = r as usize;
            loop {
                let n = &self.nodes[k];
                if n.feature == LEAF {
                    s += n.split;
                    break;
                }
                k = Compiled::step(n, row[n.feature as usize]);
            }
        }
        s
    }

    /// The child a value leads to, written so the compiler can use
    /// conditional moves instead of branches.
    #[inline(always)]
    fn step(n: &FastNode, v: f64) -> usize {
        let k = if v < n.split { n.left } else { n.right };
        (if v.is_nan() { n.missing } else { k }) as usize
    }

    /// Log-odds of many rows (row-major, `width` wide) into `out`: four rows
    /// walk each tree together, so their memory loads overlap.
    pub fn margins(&self, x: &[f64], width: usize, out: &mut [f64]) {
        const L: usize = 4;
        let n = out.len();
        let mut i = 0;
        while i + L <= n {
            let rows: [&[f64]; L] = std::array::from_fn(|j| &x[(i + j) * width..(i + j + 1) * width]);
            let mut acc = [self.base; L];
            for &r in &self.roots {
                let mut k = [r as usize; L];
                let mut done = [false; L];
                let mut left = L;
                while left > 0 {
                    for j in 0..L {
                        if done[j] {
                            continue;
                        }
                        let nd = &self.nodes[k[j]];
                        if nd.feature == LEAF {
                            acc[j] += nd.split;
                            done[j] = true;
                            left -= 1;
                        } else {
                            k[j] = Compiled::step(nd, rows[j][nd.feature as usize]);
                        }
                    }
                }
            }
            out[i..i + L].copy_from_slice(&acc);
            i += L;
        }
        for (j, o) in out.iter_mut().enumerate().skip(i) {
            *o = self.margin(&x[j * width..(j + 1) * width]);
        }
    }

    /// Probability of label 1 for one row.
    pub fn predict(&self, row: &[f64]) -> f64 {
        sigmoid(self.margin(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_an_interaction_and_attributes_it() {
        // y = 1 when x0 > 0.5 and x1 > 0.5; x2 is noise.
        let n = 2000;
        let mut cols = [Vec::new(), Vec::new(), Vec::new()];
        let mut y = Vec::new();
        let mut s: u64 = 7;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..n {
            let (a, b, c) = (rnd(), rnd(), rnd());
            cols[0].push(a);
            cols[1].push(b);
            cols[2].push(c);
            y.push(if a > 0.5 && b > 0.5 { 1.0 } else { 0.0 });
        }
        let x: Vec<f64> = cols.concat();
        let f = Forest::fit(
            &x,
            n,
            &y,
            &vec![1.0; n],
            GbmParams {
                iterations: 50,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(f.predict(&[0.9, 0.9, 0.1]) > 0.9);
        assert!(f.predict(&[0.1, 0.9, 0.1]) < 0.1);
        let c = f.contributions(&[0.9, 0.9, 0.1]);
        assert!((c.iter().sum::<f64>() - f.margin(&[0.9, 0.9, 0.1])).abs() < 1e-9);
        assert!(c[0] > c[2].abs() && c[1] > c[2].abs());
        // NaN follows the missing branch, never panics.
        let p = f.predict(&[f64::NAN, 0.9, 0.1]);
        assert!(p.is_finite());
        // The compiled layout predicts exactly the same.
        let c = f.compile();
        for row in [
            [0.9, 0.9, 0.1],
            [0.1, 0.2, 0.3],
            [f64::NAN, 0.7, f64::NAN],
            [0.5, 0.5, 0.5],
        ] {
            assert_eq!(c.margin(&row).to_bits(), f.margin(&row).to_bits());
        }
    }
}
