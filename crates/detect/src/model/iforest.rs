//! An isolation forest (Liu, Ting and Zhou 2008), seeded: how unusual a row
//! is against the training rows. The label-free score uses one learned at
//! training; `evaluate` fits one on the evaluated batch as a baseline.

use crate::cached::Cached;
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
    /// The trees laid out for scoring, made on first use.
    #[serde(skip)]
    compiled: Cached<CompiledForest>,
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
        IsolationForest {
            trees,
            sample,
            compiled: Cached::default(),
        }
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
        self.normalise(total)
    }

    fn normalise(&self, total: f64) -> f64 {
        let mean = total / self.trees.len().max(1) as f64;
        2f64.powf(-mean / c(self.sample).max(1e-9))
    }

    /// Scores of many rows (row-major, `width` wide, no NaN) into `out`,
    /// equal to [`IsolationForest::score`]'s: the trees are laid out once
    /// as complete trees, and eight rows walk each tree together.
    pub fn scores(&self, x: &[f64], width: usize, out: &mut [f64]) {
        let compiled = self.compiled.get_or_init(|| CompiledForest {
            trees: self.trees.iter().map(|t| CompiledTree::from_nodes(t)).collect(),
        });
        const L: usize = 8;
        let n = out.len();
        let whole = n - n % L;
        let mut i = 0;
        while i < whole {
            let block = &x[i * width..(i + L) * width];
            let mut acc = [0.0; L];
            for t in &compiled.trees {
                let mut k = [0usize; L];
                for _ in 0..t.depth {
                    for j in 0..L {
                        let (f, v) = t.inner[k[j]];
                        k[j] = 2 * k[j] + 2 - usize::from(block[j * width + f as usize] < v);
                    }
                }
                let first = t.inner.len();
                for j in 0..L {
                    acc[j] += t.leaves[k[j] - first];
                }
            }
            for j in 0..L {
                out[i + j] = self.normalise(acc[j]);
            }
            i += L;
        }
        for (j, o) in out.iter_mut().enumerate().skip(whole) {
            *o = self.score(&x[j * width..(j + 1) * width]);
        }
    }
}

/// An isolation forest's trees, each padded to a complete tree of its own
/// depth, whose leaves hold the path length they stand for.
struct CompiledForest {
    trees: Vec<CompiledTree>,
}

struct CompiledTree {
    depth: u32,
    /// `2^depth - 1` inner nodes, breadth first: (feature, split value).
    inner: Vec<(u32, f64)>,
    /// `2^depth` leaves: depth plus the expected length below (`c(size)`).
    leaves: Vec<f64>,
}

impl CompiledTree {
    fn from_nodes(t: &[INode]) -> CompiledTree {
        fn depth(t: &[INode], k: usize) -> u32 {
            match &t[k] {
                INode::Leaf { .. } => 0,
                INode::Split { left, right, .. } => 1 + depth(t, *left).max(depth(t, *right)),
            }
        }
        let d = depth(t, 0);
        let mut c = CompiledTree {
            depth: d,
            inner: vec![(0, f64::INFINITY); (1usize << d) - 1],
            leaves: vec![0.0; 1usize << d],
        };
        c.place(t, 0, 0, 0, 0.0);
        c
    }

    /// Puts node `k` of `t` at position `pos` (level `level`, reached after
    /// `path` splits) of the complete tree.
    fn place(&mut self, t: &[INode], k: usize, pos: usize, level: u32, path: f64) {
        match &t[k] {
            INode::Leaf { size } => {
                // Every leaf below `pos` holds this one's length; the
                // padded inner nodes above them may send a row either way.
                let below = self.depth - level;
                let first = ((pos + 1) << below) - 1 - self.inner.len();
                let length = path + c(*size);
                for l in &mut self.leaves[first..first + (1usize << below)] {
                    *l = length;
                }
            }
            INode::Split {
                feature,
                value,
                left,
                right,
            } => {
                self.inner[pos] = (*feature as u32, *value);
                self.place(t, *left, 2 * pos + 1, level + 1, path + 1.0);
                self.place(t, *right, 2 * pos + 2, level + 1, path + 1.0);
            }
        }
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

    #[test]
    fn compiled_scores_equal_the_node_walk() {
        let mut rnd = sentinel_manifest::hash::test_uniform(3);
        let cols: Vec<Vec<f64>> = (0..4)
            .map(|j| (0..3000).map(|_| rnd() * (j + 1) as f64).collect())
            .collect();
        let f = IsolationForest::fit(&cols, 50, 256, 9);
        // Rows inside and far outside the training ranges; 1,003 rows so the
        // last three take the one-row path.
        let x: Vec<f64> = (0..1003 * 4).map(|_| (rnd() - 0.2) * 6.0).collect();
        let mut out = vec![0.0; 1003];
        f.scores(&x, 4, &mut out);
        for (i, o) in out.iter().enumerate() {
            assert_eq!(o.to_bits(), f.score(&x[i * 4..(i + 1) * 4]).to_bits(), "row {i}");
        }
    }
}
