//! An isolation forest (Liu, Ting and Zhou 2008), seeded: how unusual a row
//! is against the training rows. The label-free score uses one learned at
//! training; `evaluate` fits one on the evaluated batch as a baseline.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum INode {
    Split {
        feature: usize,
        value: f64,
        left: usize,
        right: usize,
    },
    Leaf {
        size: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    trees: Vec<Vec<INode>>,
    sample: usize,
}

fn c(n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let n = n as f64;
    2.0 * ((n - 1.0).ln() + 0.577_215_664_9) - 2.0 * (n - 1.0) / n
}

impl IsolationForest {
    /// Fits `n_trees` trees on sub-samples of `sample` rows of `cols`
    /// (column-major columns; NaN replaced by the column median first).
    pub fn fit(cols: &[Vec<f64>], n_trees: usize, sample: usize, seed: u64) -> IsolationForest {
        let n = cols.first().map_or(0, Vec::len);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let sample = sample.min(n).max(1);
        let limit = (sample as f64).log2().ceil() as usize;
        let mut trees = Vec::with_capacity(n_trees);
        for _ in 0..n_trees {
            let idx: Vec<usize> = (0..sample).map(|_| rng.gen_range(0..n.max(1))).collect();
            let mut nodes = Vec::new();
            build(cols, idx, 0, limit, &mut rng, &mut nodes);
            trees.push(nodes);
        }
        IsolationForest { trees, sample }
    }

    /// Anomaly score in 0..1 (higher = easier to isolate) of one row.
    pub fn score(&self, row: &[f64]) -> f64 {
        let mut total = 0.0;
        for t in &self.trees {
            let (mut k, mut depth) = (0, 0.0);
            loop {
                match &t[k] {
                    INode::Leaf { size } => {
                        total += depth + c(*size);
                        break;
                    }
                    INode::Split {
                        feature,
                        value,
                        left,
                        right,
                    } => {
                        k = if row[*feature] < *value { *left } else { *right };
                        depth += 1.0;
                    }
                }
            }
        }
        let mean = total / self.trees.len().max(1) as f64;
        2f64.powf(-mean / c(self.sample).max(1e-9))
    }
}

fn build(
    cols: &[Vec<f64>],
    idx: Vec<usize>,
    depth: usize,
    limit: usize,
    rng: &mut Xoshiro256PlusPlus,
    nodes: &mut Vec<INode>,
) -> usize {
    let me = nodes.len();
    nodes.push(INode::Leaf { size: idx.len() });
    if idx.len() <= 1 || depth >= limit || cols.is_empty() {
        return me;
    }
    // Try a few features for one that varies in this node.
    for _ in 0..8 {
        let f = rng.gen_range(0..cols.len());
        let (lo, hi) = idx
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
                (lo.min(cols[f][i]), hi.max(cols[f][i]))
            });
        if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let v = rng.gen_range(lo..hi);
        let (l, r): (Vec<usize>, Vec<usize>) = idx.iter().partition(|&&i| cols[f][i] < v);
        let left = build(cols, l, depth + 1, limit, rng, nodes);
        let right = build(cols, r, depth + 1, limit, rng, nodes);
        nodes[me] = INode::Split {
            feature: f,
            value: v,
            left,
            right,
        };
        return me;
    }
    me
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_score_higher() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for i in 0..500 {
            a.push((i % 10) as f64 / 10.0);
            b.push((i % 7) as f64 / 7.0);
        }
        a.push(50.0);
        b.push(-40.0);
        let f = IsolationForest::fit(&[a, b], 100, 256, 1);
        assert!(f.score(&[50.0, -40.0]) > f.score(&[0.5, 0.5]) + 0.1);
    }
}
