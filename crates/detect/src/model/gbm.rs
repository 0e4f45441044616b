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

use crate::cached::Cached;

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
    /// The trees laid out for prediction, made on first use.
    #[serde(skip)]
    compiled: Cached<Compiled>,
}

/// Hyper-parameters of the risk model.
#[derive(Debug, Clone, Copy)]
pub struct GbmParams {
    /// Boosting rounds (default 500).
    pub iterations: usize,
    /// Learning rate (default 0.06).
    pub learning_rate: f32,
    /// Depth of each tree (default 6).
    pub max_depth: usize,
    /// Weight of a positive row relative to a negative one; `None` (the
    /// default): [`auto_positive_weight`] of the training labels.
    pub positive_weight: Option<f64>,
    pub seed: u64,
}

impl Default for GbmParams {
    fn default() -> Self {
        GbmParams {
            iterations: 500,
            learning_rate: 0.06,
            max_depth: 6,
            positive_weight: None,
            seed: 1,
        }
    }
}

/// Rare positives are up-weighted until they make up about 1/15 of the
/// weighted rows, at most 10x and never below 1x: 10x for the GPU worlds
/// (0.5-0.7% positives, where 10x was chosen), 1x where positives are
/// common (a customs agency's inspected declarations: 21% fraud, where 10x
/// cost 0.1 of precision at 5%).
pub fn auto_positive_weight(positives: usize, negatives: usize) -> f64 {
    if positives == 0 {
        return 1.0;
    }
    (negatives as f64 / positives as f64 / 14.0).clamp(1.0, 10.0)
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
            compiled: Cached::default(),
        })
    }

    // The plain node walks below are the reference the compiled walks are
    // tested against, bit for bit; scoring uses [`Forest::compiled`].

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
    #[cfg(test)]
    pub fn predict(&self, row: &[f64]) -> f64 {
        sigmoid(self.margin(row))
    }

    /// Each feature's share of the row's log-odds (Saabas): sums, with the
    /// bias (last element), to the margin.
    #[cfg(test)]
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

/// An inner node laid out for prediction (4 bytes). `col` is the node's
/// feature (its position among the features the forest splits on) shifted
/// left by one, with the lowest bit set when a missing value goes right:
/// the node's column in a row whose every value comes twice, missing as
/// the lowest bin and then as the highest (see [`Compiled::margins_of_columns`]).
/// `thr` is one more than the position of the node's split among its
/// feature's distinct splits, so `bin(v) < thr` exactly when `v < split`.
#[derive(Debug, Clone, Copy)]
struct FastNode {
    thr: u16,
    col: u16,
}

/// A forest compiled for fast prediction. Values are replaced by their bin
/// among the forest's own split values of their feature (exact: a split
/// compares a bin with the split's position), so a row of two-byte bins
/// stays in the first-level cache. Every tree is padded to a complete
/// binary tree of its own depth (a leaf above the bottom is copied into
/// every leaf below it), so a row walks exactly `depth` steps with no test
/// for leaves and no branches: node `k`'s children are `2k+1` and `2k+2`.
pub struct Compiled {
    base: f64,
    n_features: usize,
    /// The row positions of the features the trees split on.
    used: Vec<usize>,
    /// Per used feature, its distinct split values, ascending.
    cuts: Vec<Vec<f64>>,
    trees: Vec<CompiledTree>,
}

struct CompiledTree {
    depth: u32,
    /// `2^depth - 1` inner nodes, breadth first, and one unused, so that an
    /// index masked with `2^depth - 1` is in bounds by construction.
    inner: Vec<FastNode>,
    /// `2^depth` leaf weights.
    leaves: Vec<f64>,
    /// Per inner node, for attributions: its feature (`u32::MAX` for a
    /// padded node, below a leaf) and its weight (a padded node's is the
    /// leaf's above it).
    feature: Vec<u32>,
    weight: Vec<f64>,
}

/// Most distinct splits one feature may have (bins are `u16`, and the
/// highest bin marks a missing value that goes right).
const MAX_CUTS: usize = u16::MAX as usize - 1;

/// Most features the trees may split on (a node's column is a used
/// feature's position shifted left by one, in a `u16`).
const MAX_USED: usize = 1 << 15;

/// The deepest tree [`Forest::check`] accepts (a compiled tree holds
/// `2^depth` leaves).
pub const MAX_DEPTH: u32 = 20;

impl CompiledTree {
    fn from_nodes(t: &[Node], slot: &dyn Fn(&Node) -> FastNode) -> CompiledTree {
        let d = tree_depth(t, 0);
        let mut c = CompiledTree {
            depth: d,
            inner: vec![FastNode { thr: 0, col: 0 }; 1usize << d],
            leaves: vec![0.0; 1usize << d],
            feature: vec![u32::MAX; 1usize << d],
            weight: vec![0.0; 1usize << d],
        };
        c.place(t, 0, 0, 0, slot);
        c
    }

    /// Puts node `k` of `t` at position `pos` (level `level`) of the
    /// complete tree.
    fn place(&mut self, t: &[Node], k: usize, pos: usize, level: u32, slot: &dyn Fn(&Node) -> FastNode) {
        let n = &t[k];
        if n.leaf {
            // Every leaf below `pos` gets this weight; the padded inner
            // nodes above them may send a row either way.
            let below = self.depth - level;
            let first = ((pos + 1) << below) - 1 - self.first_leaf();
            for l in &mut self.leaves[first..first + (1usize << below)] {
                *l = n.weight;
            }
            // The padded inner nodes below `pos`, level by level.
            for b in 0..below {
                let start = ((pos + 1) << b) - 1;
                for w in &mut self.weight[start..start + (1usize << b)] {
                    *w = n.weight;
                }
            }
            return;
        }
        self.inner[pos] = slot(n);
        self.feature[pos] = n.feature;
        self.weight[pos] = n.weight;
        self.place(t, n.left as usize, 2 * pos + 1, level + 1, slot);
        self.place(t, n.right as usize, 2 * pos + 2, level + 1, slot);
    }

    /// Position of the first leaf in breadth-first order (`2^depth - 1`).
    fn first_leaf(&self) -> usize {
        (1usize << self.depth) - 1
    }
}

/// Depth of the subtree at node `k` (a leaf is 0).
fn tree_depth(t: &[Node], k: usize) -> u32 {
    if t[k].leaf {
        0
    } else {
        1 + tree_depth(t, t[k].left as usize).max(tree_depth(t, t[k].right as usize))
    }
}

impl Forest {
    /// Checks what prediction relies on, so a decoded model that breaks it
    /// is refused instead of panicking or looping: every tree has a root,
    /// children come after their parent and exist, a missing value goes to
    /// one of the two children, features are in range, splits are numbers,
    /// trees are at most [`MAX_DEPTH`] deep, no feature has more than
    /// [`MAX_CUTS`] distinct splits and at most [`MAX_USED`] features are
    /// split on.
    pub fn check(&self) -> Result<(), String> {
        let mut cuts: Vec<Vec<u64>> = vec![Vec::new(); self.n_features];
        for (i, t) in self.trees.iter().enumerate() {
            if t.is_empty() {
                return Err(format!("risk tree {i} has no nodes"));
            }
            for (k, n) in t.iter().enumerate() {
                if n.leaf {
                    continue;
                }
                let (l, r) = (n.left as usize, n.right as usize);
                if l <= k
                    || r <= k
                    || l >= t.len()
                    || r >= t.len()
                    || (n.missing != n.left && n.missing != n.right)
                {
                    return Err(format!("risk tree {i} node {k} has children out of order"));
                }
                if n.feature as usize >= self.n_features || n.split.is_nan() {
                    return Err(format!("risk tree {i} node {k} has an impossible split"));
                }
                cuts[n.feature as usize].push(n.split.to_bits());
            }
            if tree_depth(t, 0) > MAX_DEPTH {
                return Err(format!("risk tree {i} is deeper than {MAX_DEPTH}"));
            }
        }
        for c in &mut cuts {
            c.sort_unstable();
            c.dedup();
            if c.len() > MAX_CUTS {
                return Err(format!("a risk feature has more than {MAX_CUTS} splits"));
            }
        }
        let used = cuts.iter().filter(|c| !c.is_empty()).count();
        if used > MAX_USED {
            return Err(format!(
                "the risk trees split on {used} features, more than {MAX_USED}"
            ));
        }
        Ok(())
    }

    /// The trees laid out for prediction (same results as
    /// the plain node walks [`Forest::margin`] and `Forest::contributions`,
    /// which the tests keep as the reference), made once.
    /// Assumes [`Forest::check`] passes (fitted and loaded forests are checked).
    pub fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| self.compile())
    }

    fn compile(&self) -> Compiled {
        let mut cuts: Vec<Vec<f64>> = vec![Vec::new(); self.n_features];
        for n in self.trees.iter().flatten().filter(|n| !n.leaf) {
            cuts[n.feature as usize].push(n.split);
        }
        let mut used = Vec::new();
        let mut compact = vec![0u16; self.n_features];
        let mut kept = Vec::new();
        for (f, mut c) in cuts.into_iter().enumerate() {
            if c.is_empty() {
                continue;
            }
            c.sort_by(f64::total_cmp);
            c.dedup_by(|a, b| a.to_bits() == b.to_bits());
            compact[f] = used.len() as u16;
            used.push(f);
            kept.push(c);
        }
        let slot = |n: &Node| {
            let c = &kept[compact[n.feature as usize] as usize];
            let at = c.partition_point(|v| v.total_cmp(&n.split).is_lt());
            FastNode {
                thr: (at + 1) as u16,
                col: (compact[n.feature as usize] << 1) | u16::from(n.missing != n.left),
            }
        };
        Compiled {
            base: self.base,
            n_features: self.n_features,
            trees: self
                .trees
                .iter()
                .map(|t| CompiledTree::from_nodes(t, &slot))
                .collect(),
            used,
            cuts: kept,
        }
    }
}

impl Compiled {
    /// Bin of a value among a feature's sorted splits: how many splits are
    /// at most `v` (so `v < cuts[k]` exactly when the bin is at most `k`).
    #[inline(always)]
    fn bin(cuts: &[f64], v: f64) -> u16 {
        cuts.partition_point(|c| *c <= v) as u16
    }

    /// A value's two bins: a missing value as 0 (below every node's `thr`:
    /// goes left) and as `u16::MAX` (goes right), any other its bin twice.
    #[inline(always)]
    fn pair(cuts: &[f64], v: f64) -> (u16, u16) {
        if v.is_nan() {
            (0, u16::MAX)
        } else {
            let b = Compiled::bin(cuts, v);
            (b, b)
        }
    }

    /// A row's used values (`value(feature)`) as pairs of bins.
    fn encode(&self, value: impl Fn(usize) -> f64, out: &mut [u16]) {
        for ((&f, cuts), d) in self.used.iter().zip(&self.cuts).zip(out.chunks_exact_mut(2)) {
            (d[0], d[1]) = Compiled::pair(cuts, value(f));
        }
    }

    /// Width of an encoded row: twice the used features, padded to a power
    /// of two so that a masked column is in bounds by construction.
    fn encoded_width(&self) -> usize {
        (2 * self.used.len()).next_power_of_two()
    }

    /// Log-odds of one row.
    #[cfg(test)]
    pub fn margin(&self, row: &[f64]) -> f64 {
        let mut enc = vec![0u16; self.encoded_width()];
        self.encode(|f| row[f], &mut enc);
        self.walk(&enc)
    }

    /// Each row's feature shares of its log-odds (Saabas), with the bias
    /// last: the same sums, added in the same order, as the reference node
    /// walk (`Forest::contributions`, in tests). Eight rows walk each tree
    /// together and note their paths, so their loads overlap; then each row
    /// adds its own path's steps.
    pub fn contributions_of_rows(&self, rows: &[&[f64]]) -> Vec<Vec<f64>> {
        const L: usize = 8;
        let w2 = self.encoded_width();
        let nf = self.n_features;
        let stride = MAX_DEPTH as usize + 1;
        let mut enc = vec![0u16; L * w2];
        // path[j * stride + l]: row j's node at level l of the current tree.
        let mut path = vec![0usize; L * stride];
        let mut out = Vec::with_capacity(rows.len());
        for block in rows.chunks(L) {
            for (row, e) in block.iter().zip(enc.chunks_exact_mut(w2)) {
                self.encode(|f| row[f], e);
            }
            let mut c: Vec<Vec<f64>> = block
                .iter()
                .map(|_| {
                    let mut c = vec![0.0; nf + 1];
                    c[nf] = self.base;
                    c
                })
                .collect();
            for t in &self.trees {
                let depth = t.depth as usize;
                let mut k = [0usize; L];
                for l in 0..depth {
                    for (j, e) in enc.chunks_exact(w2).take(block.len()).enumerate() {
                        let n = &t.inner[k[j]];
                        k[j] = 2 * k[j] + 2 - usize::from(e[n.col as usize] < n.thr);
                        path[j * stride + l + 1] = k[j];
                    }
                }
                let root = if t.depth == 0 { t.leaves[0] } else { t.weight[0] };
                let first = t.first_leaf();
                for (j, c) in c.iter_mut().enumerate() {
                    c[nf] += root;
                    let mut k = 0;
                    for &next in &path[j * stride + 1..][..depth] {
                        let f = t.feature[k];
                        if f == u32::MAX {
                            break;
                        }
                        let w = if next >= first {
                            t.leaves[next - first]
                        } else {
                            t.weight[next]
                        };
                        c[f as usize] += w - t.weight[k];
                        k = next;
                    }
                }
            }
            out.extend(c);
        }
        out
    }

    /// Log-odds of one encoded row.
    fn walk(&self, enc: &[u16]) -> f64 {
        let mut s = self.base;
        for t in &self.trees {
            let mut k = 0;
            for _ in 0..t.depth {
                let n = &t.inner[k];
                k = 2 * k + 2 - usize::from(enc[n.col as usize] < n.thr);
            }
            s += t.leaves[k - t.first_leaf()];
        }
        s
    }

    /// Log-odds of many rows given as columns (a missing column reads as
    /// missing values) into `out`, row `i` of `out` from row `i` of each
    /// column. Rows are taken in tiles that stay in cache while groups of
    /// trees small enough for the first-level cache walk them; inside a tile,
    /// eight rows walk each tree together, so their loads and compares
    /// overlap. Each row still adds its trees in order, so the sums equal the
    /// reference node walk's ([`Forest::margin`]).
    pub fn margins_of_columns(&self, cols: &[Option<&[f64]>], out: &mut [f64]) {
        let value = |i: usize, f: usize| cols[f].map_or(f64::NAN, |c| c[i]);
        const L: usize = 8;
        const TILE: usize = 128;
        const GROUP: usize = 16;
        let n = out.len();
        let whole = n - n % L;
        out[..whole].fill(self.base);
        let w2 = self.encoded_width();
        let cols = w2 - 1;
        let mut enc = vec![0u16; TILE * w2];
        let mut t0 = 0;
        while t0 < whole {
            let t1 = (t0 + TILE).min(whole);
            // Feature by feature (one column and its splits at a time).
            for (c, (&f, cuts)) in self.used.iter().zip(&self.cuts).enumerate() {
                for (i, d) in (t0..t1).zip(enc.chunks_exact_mut(w2)) {
                    (d[2 * c], d[2 * c + 1]) = Compiled::pair(cuts, value(i, f));
                }
            }
            for group in self.trees.chunks(GROUP) {
                let mut i = t0;
                while i < t1 {
                    let block = &enc[(i - t0) * w2..(i - t0 + L) * w2];
                    let rows: [&[u16]; L] = std::array::from_fn(|j| &block[j * w2..][..=cols]);
                    let mut acc = [0.0; L];
                    acc.copy_from_slice(&out[i..i + L]);
                    for t in group {
                        let mask = t.first_leaf();
                        let inner = &t.inner[..=mask];
                        let leaves = &t.leaves[..=mask];
                        let mut k = [0usize; L];
                        for _ in 0..t.depth {
                            for j in 0..L {
                                let nd = &inner[k[j] & mask];
                                let b = rows[j][nd.col as usize & cols];
                                k[j] = 2 * k[j] + 2 - usize::from(b < nd.thr);
                            }
                        }
                        for j in 0..L {
                            acc[j] += leaves[(k[j] - mask) & mask];
                        }
                    }
                    out[i..i + L].copy_from_slice(&acc);
                    i += L;
                }
            }
            t0 = t1;
        }
        let mut enc = vec![0u16; w2];
        for (j, o) in out.iter_mut().enumerate().skip(whole) {
            self.encode(|f| value(j, f), &mut enc);
            *o = self.walk(&enc);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Compiled::margins_of_columns` of row-major rows `width` wide.
    fn margins_of_rows(c: &Compiled, x: &[f64], width: usize) -> Vec<f64> {
        let n = x.len() / width;
        let cols: Vec<Vec<f64>> = (0..width)
            .map(|j| (0..n).map(|i| x[i * width + j]).collect())
            .collect();
        let cols: Vec<Option<&[f64]>> = cols.iter().map(|c| Some(c.as_slice())).collect();
        let mut out = vec![0.0; n];
        c.margins_of_columns(&cols, &mut out);
        out
    }

    #[test]
    fn learns_an_interaction_and_attributes_it() {
        // y = 1 when x0 > 0.5 and x1 > 0.5; x2 is noise.
        let n = 2000;
        let mut cols = [Vec::new(), Vec::new(), Vec::new()];
        let mut y = Vec::new();
        let mut rnd = sentinel_manifest::hash::test_uniform(7);
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
        let c = f.compiled();
        for row in [
            [0.9, 0.9, 0.1],
            [0.1, 0.2, 0.3],
            [f64::NAN, 0.7, f64::NAN],
            [0.5, 0.5, 0.5],
        ] {
            assert_eq!(c.margin(&row).to_bits(), f.margin(&row).to_bits());
        }
        // Many rows at once (blocks and a remainder), with missing values.
        let rows = 1003;
        let x: Vec<f64> = (0..rows * 3)
            .map(|_| {
                let v = rnd();
                if v < 0.1 {
                    f64::NAN
                } else {
                    v
                }
            })
            .collect();
        let out = margins_of_rows(c, &x, 3);
        for (i, o) in out.iter().enumerate() {
            assert_eq!(o.to_bits(), f.margin(&x[i * 3..i * 3 + 3]).to_bits());
        }
        // The same rows as columns, one of them absent (all missing).
        let col = |j: usize| -> Vec<f64> { (0..rows).map(|i| x[i * 3 + j]).collect() };
        let (c0, c2) = (col(0), col(2));
        let mut by_cols = vec![0.0; rows];
        c.margins_of_columns(&[Some(&c0), None, Some(&c2)], &mut by_cols);
        for (i, o) in by_cols.iter().enumerate() {
            assert_eq!(
                o.to_bits(),
                f.margin(&[x[i * 3], f64::NAN, x[i * 3 + 2]]).to_bits()
            );
        }
        // Values on a split and just either side of it (where binning could
        // go wrong), infinities and signed zeros.
        let mut x = Vec::new();
        for n in f.trees.iter().flatten().filter(|n| !n.leaf) {
            let b = n.split.to_bits();
            for v in [n.split, f64::from_bits(b + 1), f64::from_bits(b - 1)] {
                let mut row = [0.9, 0.2, 0.5];
                row[n.feature as usize] = v;
                x.extend(row);
            }
        }
        for v in [f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, f64::NAN] {
            x.extend([v, 0.9, v]);
            x.extend([0.9, v, 0.1]);
        }
        let out = margins_of_rows(c, &x, 3);
        // Attributions of all the rows at once (blocks of eight and a
        // remainder), and of one row alone.
        let rows: Vec<&[f64]> = x.chunks_exact(3).collect();
        assert_ne!(rows.len() % 8, 0);
        let contributions = c.contributions_of_rows(&rows);
        let bits = |v: &[f64]| v.iter().map(|c| c.to_bits()).collect::<Vec<u64>>();
        for (i, o) in out.iter().enumerate() {
            assert_eq!(o.to_bits(), f.margin(rows[i]).to_bits());
            let reference = bits(&f.contributions(rows[i]));
            assert_eq!(bits(&contributions[i]), reference);
            assert_eq!(bits(&c.contributions_of_rows(&rows[i..=i])[0]), reference);
        }
        // A checked forest passes; a broken one is refused, not walked.
        assert_eq!(f.check(), Ok(()));
        let mut broken = f.clone();
        let k = broken.trees[0].iter().position(|n| !n.leaf).unwrap();
        broken.trees[0][k].left = k as u32;
        assert!(broken.check().unwrap_err().contains("out of order"));
        let mut broken = f.clone();
        broken.trees[0][k].split = f64::NAN;
        assert!(broken.check().unwrap_err().contains("impossible split"));
        // Splits on more features than a node's column can name.
        let stump = |feature: u32| {
            let leaf = |weight| Node {
                feature: 0,
                split: 0.0,
                left: 0,
                right: 0,
                missing: 0,
                leaf: true,
                weight,
            };
            vec![
                Node {
                    feature,
                    split: 0.5,
                    left: 1,
                    right: 2,
                    missing: 1,
                    leaf: false,
                    weight: 0.0,
                },
                leaf(-1.0),
                leaf(1.0),
            ]
        };
        for (features, ok) in [(MAX_USED, true), (MAX_USED + 1, false)] {
            let wide = Forest {
                base: 0.0,
                trees: (0..features as u32).map(stump).collect(),
                n_features: features,
                compiled: Cached::default(),
            };
            assert_eq!(wide.check().is_ok(), ok, "{features} features");
        }
    }
}
