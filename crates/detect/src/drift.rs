//! The drift guard: how far a batch is from what the model was trained on.
//!
//! At training the model keeps a reference: decile bins of a few features
//! that carry most of its evidence and the share of training lines in each,
//! and the HS codes, descriptions, brands and destination countries it saw.
//! At scoring each chunk counts its lines into the same bins and counts the
//! lines whose code, description, brand or country the model never saw;
//! the run adds the counts up (so the figures do not depend on chunking)
//! and reports a population stability index (PSI) per feature and the
//! unseen shares. Their combination is the drift score; above
//! [`WARNING_SCORE`] the run warns: the model was made from other data, and
//! its supervised scores may not carry over.

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::features::{Declared, Frame};
use sentinel_manifest::batch::Batch;
use sentinel_manifest::hash::Fnv64;
use sentinel_manifest::schema::Col;

/// Features whose distribution the guard watches: the physical figures,
/// their deviations, the description's and the likely-cargo evidence.
pub const WATCHED: &[&str] = &[
    "log_value_per_kg",
    "log_weight_per_unit",
    "log_value_per_unit",
    "log_weight_per_package",
    "dev_value_per_kg",
    "dev_weight_per_unit",
    "dev_value_per_unit",
    "desc_mismatch",
    "brand_unknown",
    "brand_absent",
    "likely_controlled",
    "likely_declared",
];

/// Most distinct descriptions the reference keeps (the most frequent).
const MAX_DESCRIPTIONS: usize = 50_000;
/// Shares never count as smaller than this in the PSI (an empty bin).
const SHARE_FLOOR: f64 = 1e-4;
/// A feature's PSI counts at most this much in the score.
const PSI_CAP: f64 = 1.0;
/// The drift score above which a run warns. Measured (docs/quality.md): a
/// model's own world and a new seed of it score 0.05-0.09; worlds of
/// variants the model never saw 0.25-0.56.
pub const WARNING_SCORE: f64 = 0.2;

/// One watched feature's training distribution.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FeatureRef {
    pub name: String,
    /// Sorted, distinct cut points (deciles of the training values).
    pub edges: Vec<f64>,
    /// Share of training lines per bin: missing first, then `edges.len() + 1` bins.
    pub shares: Vec<f64>,
}

/// What the training data looked like.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Reference {
    pub features: Vec<FeatureRef>,
    /// HS6 codes, description keys, brand keys and countries seen, sorted.
    pub hs6: Vec<String>,
    pub descriptions: Vec<u64>,
    pub brands: Vec<u64>,
    pub countries: Vec<String>,
}

/// A description or brand as compared: letters and digits, upper case.
fn key(s: &str) -> u64 {
    let mut h = Fnv64::new();
    if s.is_ascii() {
        // The common case, without Unicode case tables.
        for b in s.bytes().filter(u8::is_ascii_alphanumeric) {
            h.byte(b.to_ascii_uppercase());
        }
    } else {
        for c in s
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
        {
            h.char(c);
        }
    }
    h.0
}

fn bin(edges: &[f64], x: f64) -> usize {
    if x.is_nan() {
        0
    } else {
        1 + edges.partition_point(|e| *e < x)
    }
}

impl Reference {
    /// The reference of the training rows.
    pub fn fit(b: &Batch, d: &Declared, frame: &Frame) -> Reference {
        let features = WATCHED
            .iter()
            .filter_map(|name| {
                let col = frame.col(name)?;
                let mut v: Vec<f64> = col.iter().copied().filter(|x| x.is_finite()).collect();
                v.sort_by(|a, b| a.total_cmp(b));
                let mut edges: Vec<f64> = (1..10).filter_map(|k| v.get(k * v.len() / 10).copied()).collect();
                edges.dedup();
                let mut counts = vec![0u64; edges.len() + 2];
                for x in col {
                    counts[bin(&edges, *x)] += 1;
                }
                let n = col.len().max(1) as f64;
                Some(FeatureRef {
                    name: name.to_string(),
                    edges,
                    shares: counts.iter().map(|c| *c as f64 / n).collect(),
                })
            })
            .collect();
        let mut hs6: Vec<String> = d.hs6.iter().map(str::to_string).collect();
        hs6.sort();
        hs6.dedup();
        let mut by_desc: HashMap<u64, u64> = HashMap::default();
        for s in b.text(Col::Description).iter() {
            *by_desc.entry(key(s)).or_default() += 1;
        }
        let mut descs: Vec<(u64, u64)> = by_desc.into_iter().collect();
        descs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        descs.truncate(MAX_DESCRIPTIONS);
        let mut descriptions: Vec<u64> = descs.into_iter().map(|(k, _)| k).collect();
        descriptions.sort_unstable();
        let mut brands: Vec<u64> = b.text(Col::Brand).iter().map(key).collect();
        brands.sort_unstable();
        brands.dedup();
        let mut countries: Vec<String> = b.text(Col::ConsigneeCountry).iter().map(str::to_string).collect();
        countries.sort();
        countries.dedup();
        Reference {
            features,
            hs6,
            descriptions,
            brands,
            countries,
        }
    }

    /// Counts of a chunk of a scored run.
    pub fn count(&self, b: &Batch, d: &Declared, frame: &Frame) -> Counts {
        let mut c = Counts {
            lines: b.len as u64,
            bins: self.features.iter().map(|f| vec![0; f.shares.len()]).collect(),
            unseen: [0; 4],
        };
        for (f, counts) in self.features.iter().zip(c.bins.iter_mut()) {
            if let Some(col) = frame.col(&f.name) {
                for x in col {
                    counts[bin(&f.edges, *x)] += 1;
                }
            }
        }
        let (desc, brand, country) = (
            b.text(Col::Description),
            b.text(Col::Brand),
            b.text(Col::ConsigneeCountry),
        );
        // Values repeat heavily within a chunk: each is looked up once.
        let mut memo: [HashMap<&str, bool>; 4] = Default::default();
        for i in 0..b.len {
            let cells = [&d.hs6[i], &desc[i], &brand[i], &country[i]];
            for (k, cell) in cells.into_iter().enumerate() {
                let unseen = *memo[k].entry(cell).or_insert_with(|| match k {
                    0 => self.hs6.binary_search_by(|c| c.as_str().cmp(cell)).is_err(),
                    1 => self.descriptions.binary_search(&key(cell)).is_err(),
                    2 => self.brands.binary_search(&key(cell)).is_err(),
                    _ => self.countries.binary_search_by(|x| x.as_str().cmp(cell)).is_err(),
                });
                c.unseen[k] += u64::from(unseen);
            }
        }
        c
    }
}

/// A run's counts against a reference, added chunk by chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub lines: u64,
    pub bins: Vec<Vec<u64>>,
    /// Lines with an HS code, description, brand, country never seen.
    pub unseen: [u64; 4],
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.lines += other.lines;
        if self.bins.is_empty() {
            self.bins = other.bins.iter().map(|b| vec![0; b.len()]).collect();
        }
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (a, b) in self.unseen.iter_mut().zip(other.unseen) {
            *a += b;
        }
    }

    /// The run's drift from the reference.
    pub fn drift(&self, r: &Reference) -> Drift {
        let n = self.lines.max(1) as f64;
        let mut features: Vec<FeatureDrift> = r
            .features
            .iter()
            .zip(&self.bins)
            .map(|(f, counts)| {
                let psi = f
                    .shares
                    .iter()
                    .zip(counts)
                    .map(|(e, c)| {
                        let (e, a) = (e.max(SHARE_FLOOR), (*c as f64 / n).max(SHARE_FLOOR));
                        (a - e) * (a / e).ln()
                    })
                    .sum::<f64>();
                // A sample of n lines from the reference itself reads about
                // (bins - 1) / n by chance (PSI is about a chi-square over
                // n): only the excess is drift, so a day's few hundred lines
                // do not read as shifted.
                let bins = f.shares.iter().filter(|e| **e > 0.0).count().max(1);
                let noise = (bins - 1) as f64 / n;
                FeatureDrift {
                    name: f.name.clone(),
                    psi: round4((psi - noise).max(0.0)),
                }
            })
            .collect();
        features.sort_by(|a, b| b.psi.total_cmp(&a.psi).then_with(|| a.name.cmp(&b.name)));
        let share = |k: usize| round4(self.unseen[k] as f64 / n);
        let unseen = Unseen {
            hs_codes: share(0),
            descriptions: share(1),
            brands: share(2),
            countries: share(3),
        };
        let mean_psi = if features.is_empty() {
            0.0
        } else {
            features.iter().map(|f| f.psi.min(PSI_CAP)).sum::<f64>() / features.len() as f64
        };
        // The unseen shares count as much as a fully shifted feature would,
        // between them.
        let unseen_mean = (unseen.hs_codes + unseen.descriptions + unseen.brands + unseen.countries) / 4.0;
        let score = round4(mean_psi + unseen_mean);
        Drift {
            score,
            warning: self.lines > 0 && score > WARNING_SCORE,
            features,
            unseen,
        }
    }
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// A watched feature's population stability index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeatureDrift {
    pub name: String,
    pub psi: f64,
}

/// Shares of lines with what the model never saw.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Unseen {
    pub hs_codes: f64,
    pub descriptions: f64,
    pub brands: f64,
    pub countries: f64,
}

/// How far a run is from the model's training data (in `--summary-json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Drift {
    pub score: f64,
    pub warning: bool,
    /// Watched features, the largest PSI first.
    pub features: Vec<FeatureDrift>,
    pub unseen: Unseen,
}

impl Drift {
    /// What to tell the analyst when the run warns.
    pub fn advice(&self) -> String {
        let top: Vec<String> = self
            .features
            .iter()
            .take(3)
            .map(|f| format!("{} (PSI {:.2})", f.name, f.psi))
            .collect();
        format!(
            "this batch is far from the model's training data (drift score {:.2}; most shifted: {}; never seen: {:.0}% of HS codes, {:.0}% of descriptions, {:.0}% of brands). Its supervised scores may not carry over: train a model on your own labelled filings (`sentinel train`), or score with --ignore-labels",
            self.score,
            top.join(", "),
            self.unseen.hs_codes * 100.0,
            self.unseen.descriptions * 100.0,
            self.unseen.brands * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chance_differences_of_a_small_batch_are_not_drift() {
        let r = Reference {
            features: vec![FeatureRef {
                name: "x".into(),
                edges: (1..10).map(f64::from).collect(),
                shares: std::iter::once(0.0).chain(std::iter::repeat_n(0.1, 10)).collect(),
            }],
            ..Reference::default()
        };
        // 100 lines that differ from the reference as a sample of it would
        // (chi-square 2, against 9 expected): no drift.
        let small = Counts {
            lines: 100,
            bins: vec![vec![0, 12, 8, 10, 10, 11, 9, 10, 10, 10, 10]],
            unseen: [0; 4],
        };
        assert_eq!(small.drift(&r).features[0].psi, 0.0);
        // The same shares over 10,000 lines are no chance: they are drift.
        let large = Counts {
            lines: 10_000,
            bins: vec![small.bins[0].iter().map(|c| c * 100).collect()],
            unseen: [0; 4],
        };
        assert!(large.drift(&r).features[0].psi > 0.005);
    }

    #[test]
    fn bins_and_psi() {
        let edges = vec![0.0, 1.0];
        assert_eq!(bin(&edges, f64::NAN), 0);
        assert_eq!(bin(&edges, -1.0), 1);
        assert_eq!(bin(&edges, 0.0), 1);
        assert_eq!(bin(&edges, 0.5), 2);
        assert_eq!(bin(&edges, 3.0), 3);
        let r = Reference {
            features: vec![FeatureRef {
                name: "x".into(),
                edges: edges.clone(),
                shares: vec![0.0, 0.5, 0.25, 0.25],
            }],
            ..Reference::default()
        };
        let same = Counts {
            lines: 4,
            bins: vec![vec![0, 2, 1, 1]],
            unseen: [0; 4],
        };
        let d = same.drift(&r);
        assert_eq!(d.features[0].psi, 0.0);
        assert!(!d.warning);
        let shifted = Counts {
            lines: 4,
            bins: vec![vec![0, 0, 0, 4]],
            unseen: [4, 4, 4, 0],
        };
        let d = shifted.drift(&r);
        assert!(d.features[0].psi > 1.0, "{d:?}");
        assert!(d.warning);
        assert_eq!(d.unseen.hs_codes, 1.0);
        // Counts added in pieces are the counts of the whole.
        let mut sum = Counts::default();
        sum.add(&same);
        sum.add(&shifted);
        assert_eq!(sum.bins, vec![vec![0, 2, 1, 5]]);
        assert_eq!(sum.lines, 8);
    }

    #[test]
    fn keys_ignore_case_and_punctuation() {
        assert_eq!(key("Power adapter, 65W"), key("POWER ADAPTER 65W"));
        assert_ne!(key("power adapter"), key("power adaptor"));
    }
}
