//! The label-free score, for batches with no labels to learn from (or with
//! `--ignore-labels`). Each term is one red flag of `shared/DOMAIN.md` (the
//! likely-cargo mismatch, upward physical deviations, party histories and
//! activity, routing, payer, documents, data quality) or the row's
//! isolation-forest unusualness, read in the direction that is suspicious;
//! a term is the row's surprisal there, `-ln P(X >= x)` (floored at
//! [`P_FLOOR`]), and the score is their sum (Fisher's way of combining
//! one-sided p-values). Rare red flags weigh more than common ones, each by
//! how rare it is: no weight is set by hand or fitted to labels, and every
//! term is a contribution to show as a reason.
//!
//! The tails are read against the scored run itself ([`LabelFree::for_run`]:
//! a uniform sample of its own rows, the isolation forest fitted on them),
//! so that a term means "rarer than this run's other lines", whatever
//! the agency, the world or its volume: a flag that most of a run's lines
//! carry weighs little there however rare it was in training. Runs too
//! small to have a distribution of their own ([`MIN_RUN`] rows) read the
//! training rows' tails. The sum is expressed as a percentile of the same
//! rows' sums, so a label-free risk score is "more suspicious than this
//! share of the run".

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::iforest::IsolationForest;
use crate::features::{Feature, Frame, ACTIVITY_RANKS, PARTY_RANKS};

/// Which way a feature is suspicious.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Side {
    /// Large values.
    High,
    /// Small values.
    Low,
    /// Large absolute values.
    Far,
}

impl Side {
    /// The value read so that larger is more suspicious (NaN stays NaN).
    fn orient(self, v: f64) -> f64 {
        match self {
            Side::High => v,
            Side::Low => -v,
            Side::Far => v.abs(),
        }
    }
}

/// The red flags: feature and the side that is suspicious.
pub const TERMS: &[(&str, Side)] = &[
    ("mismatch", Side::High),
    ("likely_controlled", Side::High),
    ("likely_declared", Side::Low),
    // Relabelled GPUs are heavier and dearer per unit than what they are
    // declared as, never lighter or cheaper: only upward deviations count.
    ("dev_weight_per_unit", Side::High),
    ("dev_value_per_kg", Side::High),
    ("dev_value_per_unit", Side::High),
    ("desc_category_differs", Side::High),
    ("desc_suggests_controlled", Side::High),
    ("eccn_ear99_on_controlled", Side::High),
    ("eccn_controlled_on_other", Side::High),
    ("licence_nlr_restricted", Side::High),
    ("brand_unknown", Side::High),
    ("brand_controlled_maker", Side::High),
    ("exporter_prior_lines", Side::Low),
    ("exporter_prior_anomaly", Side::High),
    ("consignee_prior_anomaly", Side::High),
    ("exporter_new_category", Side::High),
    ("address_residential", Side::High),
    ("consignee_forwarder", Side::High),
    ("consignee_hub", Side::High),
    ("consignee_prior_lines", Side::Low),
    ("intermediate_present", Side::High),
    ("payer_abroad", Side::High),
    ("payer_china", Side::High),
    ("invoice_value_ratio", Side::Far),
    ("invoice_description_differs", Side::High),
    ("amendment_count", Side::High),
    ("invalid_fields", Side::High),
    // Narrow activity (few consignees, HS codes, destinations), as a rank
    // among the run's lines: a front company ships one thing to one place.
    ("exporter_partners_rank", Side::Low),
    ("exporter_codes_rank", Side::Low),
    ("exporter_countries_rank", Side::Low),
    ("consignee_partners_rank", Side::Low),
    ("consignee_codes_rank", Side::Low),
];

/// The smallest tail probability a term counts (a term is at most
/// `-ln(P_FLOOR)`, about 9.2), so no single figure decides a row alone.
pub const P_FLOOR: f64 = 1e-4;

/// Runs with fewer rows read the training rows' tails (fewer cannot tell
/// a rare flag from a common one).
pub const MIN_RUN: usize = 1_000;

/// The isolation forest's seed when it is fitted on a run.
const RUN_SEED: u64 = 1;

/// Reference values kept per term and for the percentile: evenly spaced
/// quantiles of the training rows.
const KEEP: usize = 20_001;

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
        for f in Feature::ALL
            .iter()
            .filter(|f| !PARTY_RANKS.contains(f) && !ACTIVITY_RANKS.contains(f))
        {
            let Some(c) = frame.col(f.name()) else { continue };
            let mut finite: Vec<f64> = rows.iter().map(|&i| c[i]).filter(|v| v.is_finite()).collect();
            finite.sort_by(|a, b| a.total_cmp(b));
            let med = finite.get(finite.len() / 2).copied().unwrap_or(0.0);
            cols.push(
                rows.iter()
                    .map(|&i| if c[i].is_finite() { c[i] } else { med })
                    .collect::<Vec<f64>>(),
            );
            features.push(f.name().to_string());
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
        let w = cols.len();
        let mut x = Vec::with_capacity(frame.n * w);
        for i in 0..frame.n {
            for (j, c) in cols.iter().enumerate() {
                let v = c.map_or(f64::NAN, |c| c[i]);
                x.push(if v.is_finite() { v } else { self.fill[j] });
            }
        }
        let mut out = vec![0.0; frame.n];
        self.forest.scores(&x, w, &mut out);
        out
    }
}

/// The label-free scorer with its reference distributions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LabelFree {
    /// Per term (in [`term_names`] order): the training rows' oriented
    /// values, sorted (quantiles).
    pub tails: Vec<Vec<f64>>,
    /// Sorted raw scores of (a sample of) the training rows.
    pub reference: Vec<f64>,
    /// Unusualness against the training rows.
    pub isolation: Option<Isolation>,
}

/// Names of the terms (the features they come from), in contribution order.
pub fn term_names() -> Vec<&'static str> {
    TERMS.iter().map(|t| t.0).chain(["isolation"]).collect()
}

/// Each term's oriented values over a frame (NaN where unknown).
fn oriented(frame: &Frame, isolation: Option<&Isolation>) -> Vec<Vec<f64>> {
    let mut out: Vec<Vec<f64>> = TERMS
        .iter()
        .map(|(name, side)| match frame.col(name) {
            Some(c) => c.iter().map(|v| side.orient(*v)).collect(),
            None => vec![f64::NAN; frame.n],
        })
        .collect();
    out.push(match isolation {
        Some(m) => m.scores(frame),
        None => vec![f64::NAN; frame.n],
    });
    out
}

/// Evenly spaced quantiles of the finite values (all of them when few).
fn quantiles(values: &[f64]) -> Vec<f64> {
    let mut s: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.len() <= KEEP {
        s
    } else {
        (0..KEEP).map(|q| s[q * (s.len() - 1) / (KEEP - 1)]).collect()
    }
}

/// `-ln P(X >= x)` against sorted reference values; 0 for an unknown value
/// or an empty reference.
pub fn surprisal(reference: &[f64], x: f64) -> f64 {
    if !x.is_finite() || reference.is_empty() {
        return 0.0;
    }
    let at_or_above = reference.len() - reference.partition_point(|r| *r < x);
    let p = at_or_above as f64 / reference.len() as f64;
    -p.max(P_FLOOR).ln()
}

impl LabelFree {
    /// Learns the terms' distributions and the score's from training rows.
    pub fn fit(frame: &Frame, isolation: Option<Isolation>) -> LabelFree {
        let tails = oriented(frame, isolation.as_ref())
            .iter()
            .map(|c| quantiles(c))
            .collect();
        let mut lf = LabelFree {
            tails,
            reference: Vec::new(),
            isolation,
        };
        let (_, raw) = lf.terms(frame);
        lf.reference = quantiles(&raw);
        lf
    }

    /// The scorer of a run from a uniform sample of its own rows
    /// ([`crate::run_sample`]): the tails, isolation forest and percentiles
    /// fitted on them, or the training rows' (`self`) when the run has
    /// fewer than [`MIN_RUN`] rows.
    pub fn for_run(&self, sample: &Frame) -> LabelFree {
        if sample.n < MIN_RUN {
            return self.clone();
        }
        LabelFree::fit(sample, Some(Isolation::fit(sample, RUN_SEED)))
    }

    /// Per-term contributions of each row (row-major, rows x
    /// [`term_names`]) and raw scores.
    pub fn terms(&self, frame: &Frame) -> (Vec<f64>, Vec<f64>) {
        let values = oriented(frame, self.isolation.as_ref());
        let k = values.len();
        let mut contrib = vec![0.0; frame.n * k];
        let mut raw = vec![0.0; frame.n];
        for (t, (col, tail)) in values.iter().zip(&self.tails).enumerate() {
            for (i, v) in col.iter().enumerate() {
                let s = surprisal(tail, *v);
                contrib[i * k + t] = s;
                raw[i] += s;
            }
        }
        (contrib, raw)
    }

    /// Where `raw` falls among the training rows' scores, in 0..1: the
    /// mid-rank of the training scores equal to it, interpolated linearly
    /// between distinct training scores, and approaching 0 or 1 beyond the
    /// smallest or largest. Strictly increasing in `raw` wherever it can be,
    /// so no two different scores share a percentile (ties would rank rows
    /// by input order).
    pub fn percentile(&self, raw: f64) -> f64 {
        let r = &self.reference;
        let n = r.len();
        if n == 0 || raw.is_nan() {
            return 0.5;
        }
        let mid = |v: f64| (r.partition_point(|x| *x < v) + r.partition_point(|x| *x <= v)) as f64 / 2.0;
        let below = r.partition_point(|x| *x < raw);
        let at_or_below = r.partition_point(|x| *x <= raw);
        let pos = if below < at_or_below {
            (below + at_or_below) as f64 / 2.0
        } else if below == 0 {
            mid(r[0]) / (1.0 + (r[0] - raw))
        } else if below == n {
            let top = mid(r[n - 1]);
            top + (n as f64 - top) * (1.0 - 1.0 / (1.0 + (raw - r[n - 1])))
        } else {
            let (lo, hi) = (r[below - 1], r[below]);
            let (m_lo, m_hi) = (mid(lo), mid(hi));
            m_lo + (m_hi - m_lo) * (raw - lo) / (hi - lo)
        };
        (pos / n as f64).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_against_training() {
        let lf = LabelFree {
            tails: Vec::new(),
            reference: quantiles(&[0.0, 1.0, 2.0, 3.0, f64::NAN]),
            isolation: None,
        };
        // At a training score: its mid-rank (1 is the second of four).
        assert_eq!(lf.percentile(1.0), 0.375);
        // Between two: interpolated between their mid-ranks.
        assert_eq!(lf.percentile(1.5), 0.5);
        assert_eq!(lf.percentile(1.25), 0.4375);
        // Beyond the ends: towards 0 and 1, still ordered.
        let (lo, lower) = (lf.percentile(-1.0), lf.percentile(-5.0));
        assert!(0.0 < lower && lower < lo && lo < lf.percentile(0.0));
        let (hi, higher) = (lf.percentile(10.0), lf.percentile(50.0));
        assert!(lf.percentile(3.0) < hi && hi < higher && higher < 1.0);
        // Ties in the reference share one mid-rank; just above them, more.
        let tied = LabelFree {
            tails: Vec::new(),
            reference: vec![0.0, 0.0, 0.0, 0.0, 2.0],
            isolation: None,
        };
        assert_eq!(tied.percentile(0.0), 0.4);
        assert!(tied.percentile(0.001) > 0.4 && tied.percentile(1.0) < tied.percentile(2.0));
    }

    #[test]
    fn surprisal_is_the_one_sided_tail() {
        // 100 training rows: 95 zeros, 4 ones, one 5.
        let mut v = vec![0.0; 95];
        v.extend([1.0, 1.0, 1.0, 1.0, 5.0]);
        let r = quantiles(&v);
        assert_eq!(surprisal(&r, 0.0), 0.0);
        assert_eq!(surprisal(&r, -3.0), 0.0);
        assert!((surprisal(&r, 1.0) - -(0.05f64).ln()).abs() < 1e-12);
        assert!((surprisal(&r, 0.5) - -(0.05f64).ln()).abs() < 1e-12);
        assert!((surprisal(&r, 5.0) - -(0.01f64).ln()).abs() < 1e-12);
        // Beyond anything seen: the floor.
        assert!((surprisal(&r, 9.0) - -P_FLOOR.ln()).abs() < 1e-12);
        assert_eq!(surprisal(&r, f64::NAN), 0.0);
        assert_eq!(surprisal(&[], 1.0), 0.0);
    }

    /// A frame of one flag set on every `every`-th of `n` rows.
    fn flag_frame(name: &str, n: usize, every: usize) -> Frame {
        Frame {
            names: vec![name.into()],
            cols: vec![(0..n).map(|i| f64::from(u8::from(i % every == 0))).collect()],
            n,
        }
    }

    #[test]
    fn a_run_reads_its_own_tails() {
        let col = term_names().iter().position(|t| *t == "payer_china").unwrap();
        let k = term_names().len();
        // Training saw the flag on 1% of rows; this run has it on half.
        let trained = LabelFree::fit(&flag_frame("payer_china", 10_000, 100), None);
        let run = flag_frame("payer_china", 2_000, 2);
        let own = trained.for_run(&run);
        let (by_training, _) = trained.terms(&run);
        let (by_run, _) = own.terms(&run);
        assert!((by_training[col] - -(0.01f64).ln()).abs() < 1e-9);
        // In this run the flag is common: it weighs ln 2, not ln 100.
        assert!((by_run[col] - -(0.5f64).ln()).abs() < 1e-9);
        // The run's own isolation forest is fitted, its percentiles are its
        // own rows' (half of them carry the flag).
        assert!(own.isolation.is_some() && trained.isolation.is_none());
        assert_eq!(own.reference.len(), 2_000);
        assert_eq!(by_run.len(), 2_000 * k);
        // A run too small for a distribution of its own reads training's.
        let small = flag_frame("payer_china", MIN_RUN - 1, 2);
        assert_eq!(trained.for_run(&small), trained);
    }

    #[test]
    fn rarer_red_flags_weigh_more_and_sides_are_respected() {
        // Two flags: `payer_china` set on 1% of rows, `payer_abroad` on 20%;
        // `consignee_prior_lines` is suspicious when low.
        let n = 1000;
        let china: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 100 == 0))).collect();
        let abroad: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 5 == 0))).collect();
        let lines: Vec<f64> = (0..n).map(|i| (i % 10) as f64).collect();
        let frame = Frame {
            names: vec![
                "payer_china".into(),
                "payer_abroad".into(),
                "consignee_prior_lines".into(),
            ],
            cols: vec![china, abroad, lines],
            n,
        };
        let lf = LabelFree::fit(&frame, None);
        let (contrib, raw) = lf.terms(&frame);
        let k = term_names().len();
        let col = |name: &str| term_names().iter().position(|t| *t == name).unwrap();
        // Row 0 has both payer flags: the rare one counts more.
        assert!(contrib[col("payer_china")] > contrib[col("payer_abroad")]);
        assert!((contrib[col("payer_abroad")] - -(0.2f64).ln()).abs() < 1e-9);
        // Few earlier lines is the suspicious side: row 0 (0 lines) scores,
        // row 9 (9 lines, the most) does not.
        assert!(contrib[col("consignee_prior_lines")] > 2.0);
        assert_eq!(contrib[9 * k + col("consignee_prior_lines")], 0.0);
        // Terms sum to the raw score; absent features add nothing.
        assert!((contrib[..k].iter().sum::<f64>() - raw[0]).abs() < 1e-9);
        assert_eq!(contrib[col("mismatch")], 0.0);
        assert!(raw[0] > raw[1]);
    }
}
