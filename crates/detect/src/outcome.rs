//! Outcomes as evidence: how often lines like this one (of its exporter, its
//! consignee, its HS code, its value of a mapping's extra column) were found
//! fraudulent on inspection, smoothed toward the base rate so that a few
//! outcomes move it a little and many move it far.
//!
//! Learned at training from the labels (which include reviewed decisions).
//! The training rows' own figures are computed out of fold: each row sees
//! the outcomes of the other folds only, never its own, so the risk model
//! learns how much a record is worth on rows it did not come from. A scored
//! batch sees every training outcome and none of its own labels.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use sentinel_parties::history::{HistFeatures, PartyFacts};
use sentinel_parties::keys::PartyId;

/// Outcomes that weigh as much as the prior: a party with this many
/// labelled lines sits halfway between its own rate and the base rate.
pub const SMOOTHING: f64 = 20.0;

/// Folds of the out-of-fold figures.
const FOLDS: usize = 5;

/// Labelled lines and how many were fraudulent.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Tally {
    pub labelled: u32,
    pub positives: u32,
}

impl Tally {
    fn add(&mut self, fraud: bool) {
        self.labelled += 1;
        self.positives += u32::from(fraud);
    }

    fn minus(self, o: Tally) -> Tally {
        Tally {
            labelled: self.labelled - o.labelled,
            positives: self.positives - o.positives,
        }
    }

    /// The share found fraudulent, pulled toward `prior` by [`SMOOTHING`].
    pub fn rate(self, prior: f64) -> f64 {
        (self.positives as f64 + SMOOTHING * prior) / (self.labelled as f64 + SMOOTHING)
    }
}

/// Outcome tallies learned at training (the parties' are in their profiles).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OutcomeRates {
    /// Share of labelled training lines found fraudulent.
    pub base: f64,
    pub hs6: BTreeMap<String, Tally>,
    pub hs4: BTreeMap<String, Tally>,
    /// Whether the exporters' and consignees' records are features (their
    /// tallies are in the party profiles either way).
    pub parties: bool,
    /// Per categorical extra named in the mapping's `[features] outcome`:
    /// its name and value -> tally.
    pub extras: Vec<(String, BTreeMap<String, Tally>)>,
}

/// The heading (first four digits) of an HS6 key.
fn heading(hs6: &str) -> &str {
    hs6.get(..4).unwrap_or(hs6)
}

impl OutcomeRates {
    /// The smoothed rate of an HS6 code, pulled toward its heading's.
    pub fn hs_rate(&self, hs6: &str) -> f64 {
        let h4 = self.hs4.get(heading(hs6)).copied().unwrap_or_default();
        let h6 = self.hs6.get(hs6).copied().unwrap_or_default();
        h6.rate(h4.rate(self.base))
    }

    /// The smoothed rate of a party (NaN for a line without one).
    pub fn party_rate(&self, p: Option<&PartyFacts>) -> f64 {
        p.map_or(f64::NAN, |p| {
            Tally {
                labelled: p.labelled,
                positives: p.positives,
            }
            .rate(self.base)
        })
    }

    /// The smoothed rate of value `v` of the `k`th extra with outcomes.
    pub fn extra_rate(&self, k: usize, v: &str) -> f64 {
        let t = self
            .extras
            .get(k)
            .and_then(|(_, m)| m.get(v))
            .copied()
            .unwrap_or_default();
        t.rate(self.base)
    }
}

/// A row's fold: a seeded hash of its index, so folds do not follow the
/// input order.
fn fold_of(seed: u64, i: usize) -> usize {
    let mut z = seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z % FOLDS as u64) as usize
}

/// Keys of one kind per row, as dense ids (`None` for none).
struct Ids {
    of_row: Vec<Option<u32>>,
    n: usize,
}

impl Ids {
    fn from_texts<'a>(texts: impl Iterator<Item = &'a str>) -> Ids {
        let mut map: HashMap<&str, u32> = HashMap::default();
        let of_row = texts
            .map(|t| {
                if t.is_empty() {
                    return None;
                }
                let next = map.len() as u32;
                Some(*map.entry(t).or_insert(next))
            })
            .collect();
        Ids { of_row, n: map.len() }
    }
}

/// Each row's tally of the other folds' rows with its key.
fn out_of_fold(ids: &Ids, label: &[f64], folds: &[usize]) -> Vec<Option<Tally>> {
    let mut per = vec![[Tally::default(); FOLDS]; ids.n];
    let mut total = vec![Tally::default(); ids.n];
    for (i, &k) in ids.of_row.iter().enumerate() {
        if let (Some(k), true) = (k, label[i].is_finite()) {
            per[k as usize][folds[i]].add(label[i] > 0.5);
            total[k as usize].add(label[i] > 0.5);
        }
    }
    ids.of_row
        .iter()
        .enumerate()
        .map(|(i, &k)| k.map(|k| total[k as usize].minus(per[k as usize][folds[i]])))
        .collect()
}

/// What training needs to learn outcomes: per row its label (NaN unknown),
/// HS6 code and the categorical extras with outcomes (name, values).
pub struct TrainingRows<'a> {
    pub label: &'a [f64],
    pub hs6: Vec<&'a str>,
    pub extras: Vec<(String, Vec<&'a str>)>,
    /// Whether the exporters' and consignees' records become features.
    pub parties: bool,
}

/// The learned tallies and the training rows' out-of-fold features, named
/// as [`crate::features::compute`] names them.
pub fn fit(rows: &TrainingRows, hist: &HistFeatures, seed: u64) -> (OutcomeRates, Vec<(String, Vec<f64>)>) {
    let n = rows.label.len();
    let folds: Vec<usize> = (0..n).map(|i| fold_of(seed, i)).collect();
    let labelled: Vec<bool> = rows.label.iter().map(|v| v.is_finite()).collect();
    let n_lab = labelled.iter().filter(|l| **l).count();
    let pos = rows.label.iter().filter(|v| **v > 0.5).count();
    let base = if n_lab > 0 { pos as f64 / n_lab as f64 } else { 0.0 };
    let tallies = |keys: &[&str]| {
        let mut m: BTreeMap<String, Tally> = BTreeMap::new();
        for (i, k) in keys.iter().enumerate() {
            if labelled[i] && !k.is_empty() {
                m.entry(k.to_string()).or_default().add(rows.label[i] > 0.5);
            }
        }
        m
    };
    let hs4_keys: Vec<&str> = rows.hs6.iter().map(|h| heading(h)).collect();
    let rates = OutcomeRates {
        base,
        hs6: tallies(&rows.hs6),
        hs4: tallies(&hs4_keys),
        parties: rows.parties,
        extras: rows
            .extras
            .iter()
            .map(|(name, col)| (name.clone(), tallies(col)))
            .collect(),
    };

    let oof = |ids: &Ids| out_of_fold(ids, rows.label, &folds);
    let rate_or_nan = |t: Option<Tally>, prior: f64| t.map_or(f64::NAN, |t| t.rate(prior));
    let party = |ids: &[Option<PartyId>]| {
        let n_ids = ids.iter().flatten().map(|k| k.index() + 1).max().unwrap_or(0);
        let ids = Ids {
            of_row: ids.iter().map(|k| k.map(|k| k.index() as u32)).collect(),
            n: n_ids,
        };
        oof(&ids)
            .into_iter()
            .map(|t| rate_or_nan(t, base))
            .collect::<Vec<f64>>()
    };
    let h4 = oof(&Ids::from_texts(hs4_keys.iter().copied()));
    let h6 = oof(&Ids::from_texts(rows.hs6.iter().copied()));
    let hs: Vec<f64> = h4
        .iter()
        .zip(&h6)
        .map(|(t4, t6)| {
            let prior = t4.unwrap_or_default().rate(base);
            t6.unwrap_or_default().rate(prior)
        })
        .collect();
    let mut cols = vec![("hs_outcome_rate".to_string(), hs)];
    if rows.parties {
        cols.push(("exporter_outcome_rate".to_string(), party(&hist.exporter)));
        cols.push(("consignee_outcome_rate".to_string(), party(&hist.consignee)));
    }
    for (name, col) in &rows.extras {
        let t = oof(&Ids::from_texts(col.iter().copied()));
        cols.push((
            extra_outcome_name(name),
            t.into_iter().map(|t| t.unwrap_or_default().rate(base)).collect(),
        ));
    }
    (rates, cols)
}

/// The outcome feature of a categorical extra.
pub fn extra_outcome_name(name: &str) -> String {
    format!("extra_{name}_outcome_rate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_row_sees_its_own_outcome() {
        // One exporter, one fraudulent line: that line's figure must be the
        // others' record (all cleared), below the base rate.
        let label = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let hist = HistFeatures {
            exporter: vec![Some(PartyId::new(0)); 10],
            consignee: vec![None; 10],
            ..HistFeatures::default()
        };
        let rows = TrainingRows {
            label: &label,
            hs6: vec!["847330"; 10],
            extras: vec![],
            parties: true,
        };
        let (rates, cols) = fit(&rows, &hist, 7);
        assert_eq!(cols[0].0, "hs_outcome_rate");
        let cols = &cols[1..];
        assert!((rates.base - 0.1).abs() < 1e-12);
        let ex = &cols[0].1;
        assert!(
            ex[0] < rates.base,
            "the fraudulent line sees only cleared lines: {}",
            ex[0]
        );
        assert!(ex[1..].iter().all(|v| *v >= ex[0]));
        assert!(cols[1].1.iter().all(|v| v.is_nan()), "no consignee, no figure");
        // Scoring sees every training outcome.
        assert_eq!(
            rates.hs6["847330"],
            Tally {
                labelled: 10,
                positives: 1
            }
        );
        assert!((rates.hs_rate("847330") - 0.1).abs() < 1e-12);
    }

    #[test]
    fn smoothing_pulls_few_outcomes_toward_the_prior() {
        let one = Tally {
            labelled: 1,
            positives: 1,
        };
        let many = Tally {
            labelled: 1000,
            positives: 1000,
        };
        assert!(one.rate(0.1) < 0.2);
        assert!(many.rate(0.1) > 0.95);
        assert_eq!(Tally::default().rate(0.3), 0.3);
    }

    #[test]
    fn folds_are_balanced_and_seeded() {
        let mut count = [0usize; FOLDS];
        for i in 0..10_000 {
            count[fold_of(1, i)] += 1;
        }
        assert!(count.iter().all(|c| (1_800..2_200).contains(c)), "{count:?}");
        assert_ne!(
            (0..50).map(|i| fold_of(1, i)).collect::<Vec<_>>(),
            (0..50).map(|i| fold_of(2, i)).collect::<Vec<_>>()
        );
    }
}
