//! Which honest rows training keeps. Fraud is rare, so the supervised model
//! does not need every honest line: training keeps every positive (and every
//! reviewed line) and a seeded sample of the others, stratified by HS
//! chapter, month and exporter so that rare honest behaviour stays
//! represented, with weights (1 / the row's chance of being kept) that keep
//! the scores calibrated.
//!
//! Each row is kept or not by its own draw (a hash of the seed and the row's
//! position in the run), so the sample does not depend on chunking. A row
//! with a draw under the base rate belongs to the *uniform* sample: an
//! unweighted random share of every row, positives included, which the
//! likely-cargo model, the label-free reference and the drift reference
//! learn from (they describe the whole population, not the risk model's
//! balance of classes).

use std::str::FromStr;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use sentinel_manifest::batch::Batch;
use sentinel_manifest::hash::Fnv64;
use sentinel_manifest::schema::Col;

/// Honest rows kept by default: as many as a 1M-line run holds, so that
/// such runs train on every row and larger ones on a sample of this size.
pub const DEFAULT_NEGATIVES: u64 = 1_000_000;

/// Each stratum keeps at least about this many of its rows (all of a
/// smaller one) while the budget allows.
pub const STRATUM_FLOOR: f64 = 5.0;

/// How many honest rows to keep: `all`, a count, or a share of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Negatives {
    All,
    Count(u64),
    Share(f64),
}

impl FromStr for Negatives {
    type Err = String;

    fn from_str(s: &str) -> Result<Negatives, String> {
        let s = s.trim();
        let bad = || format!("`{s}`: expected `all`, a count of rows (1000000) or a share (0.1 or 10%)");
        if s.eq_ignore_ascii_case("all") {
            return Ok(Negatives::All);
        }
        if let Some(p) = s.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| bad())?;
            return share(v / 100.0).ok_or_else(bad);
        }
        if s.contains('.') {
            let v: f64 = s.parse().map_err(|_| bad())?;
            return share(v).ok_or_else(bad);
        }
        s.replace('_', "")
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Negatives::Count)
            .ok_or_else(bad)
    }
}

fn share(v: f64) -> Option<Negatives> {
    (v.is_finite() && v > 0.0 && v <= 1.0).then_some(Negatives::Share(v))
}

impl std::fmt::Display for Negatives {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Negatives::All => f.write_str("all"),
            Negatives::Count(n) => write!(f, "{n}"),
            Negatives::Share(s) => write!(f, "{}%", s * 100.0),
        }
    }
}

/// A row's stratum: HS chapter, month (30.44-day period of its export
/// date) and exporter name as written (trimmed, case folded).
fn stratum(hs: &str, date: f64, exporter: &str) -> u64 {
    let mut h = Fnv64::new();
    let digits: Vec<u8> = hs.bytes().filter(u8::is_ascii_digit).take(2).collect();
    h.bytes(&digits);
    h.byte(0xff);
    let month = if date.is_finite() {
        (date / 30.4375).floor() as i64
    } else {
        i64::MIN
    };
    h.bytes(&month.to_le_bytes());
    for c in exporter.trim().bytes() {
        h.byte(c.to_ascii_lowercase());
    }
    h.0
}

/// Whether a row is kept whatever the sample: a positive or a reviewed line.
fn always(label: f64, reviewed: bool) -> bool {
    reviewed || label > 0.5
}

/// A row's draw in [0, 1): the seed and its position in the run, mixed
/// (splitmix64).
fn draw(seed: u64, row: u64) -> f64 {
    let mut z = seed
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(row.wrapping_mul(0xbf58_476d_1ce4_e5b9))
        .wrapping_add(0x94d0_49bb_1331_11eb);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Counts of the sampled rows per stratum (the first pass over the run).
#[derive(Debug, Default)]
pub struct StrataCounts {
    counts: FxHashMap<u64, u32>,
    /// Rows kept whatever the sample, and the others.
    pub always: u64,
    pub negatives: u64,
}

impl StrataCounts {
    /// Counts a chunk's rows: their labels, and whether each was reviewed.
    pub fn add(&mut self, b: &Batch, label: &[f64], reviewed: &[bool]) {
        let (hs, date, exp) = (
            b.text(Col::HsCode),
            b.num(Col::ExportDate),
            b.text(Col::UsppiName),
        );
        for i in 0..b.len {
            if always(label[i], reviewed[i]) {
                self.always += 1;
            } else {
                self.negatives += 1;
                *self.counts.entry(stratum(&hs[i], date[i], &exp[i])).or_default() += 1;
            }
        }
    }

    /// The plan that keeps `want` honest rows in expectation.
    pub fn plan(self, want: Negatives, seed: u64) -> Plan {
        let total = self.negatives as f64;
        let target = match want {
            Negatives::All => total,
            Negatives::Count(n) => (n as f64).min(total),
            Negatives::Share(s) => (s * total).round().min(total),
        };
        let sizes: Vec<f64> = self.counts.values().map(|n| f64::from(*n)).collect();
        let (rate, floor) = if target >= total {
            (1.0, 0.0)
        } else {
            solve(&sizes, target)
        };
        let expected: f64 = sizes.iter().map(|n| n * chance(rate, floor, *n)).sum();
        Plan {
            seed,
            rate,
            floor,
            counts: self.counts,
            record: Sampling {
                negatives_requested: want.to_string(),
                negatives_seen: self.negatives,
                negatives_expected: expected.round() as u64,
                negatives_kept: 0,
                always_kept: self.always,
                rate,
                stratum_floor: floor,
                strata: sizes.len() as u64,
                seed,
            },
        }
    }
}

/// A stratum of `n` rows keeps each with this chance.
fn chance(rate: f64, floor: f64, n: f64) -> f64 {
    rate.max((floor / n).min(1.0)).min(1.0)
}

/// Share of the budget the strata floors may take at most: the rest is
/// drawn at the base rate, which is never zero (it is also the share of the
/// uniform sample).
const FLOOR_SHARE: f64 = 0.5;

/// The base rate and floor that keep `target` rows of strata of `sizes`
/// in expectation: the floor is [`STRATUM_FLOOR`], lowered so that floors
/// take at most [`FLOOR_SHARE`] of the target.
fn solve(sizes: &[f64], target: f64) -> (f64, f64) {
    let kept = |rate: f64, floor: f64| -> f64 { sizes.iter().map(|n| n * chance(rate, floor, *n)).sum() };
    let bisect = |f: &dyn Fn(f64) -> f64, hi: f64, goal: f64| -> f64 {
        let (mut lo, mut hi) = (0.0, hi);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if f(mid) > goal {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        lo
    };
    let floor = if kept(0.0, STRATUM_FLOOR) > FLOOR_SHARE * target {
        bisect(&|fl| kept(0.0, fl), STRATUM_FLOOR, FLOOR_SHARE * target)
    } else {
        STRATUM_FLOOR
    };
    (bisect(&|r| kept(r, floor), 1.0, target), floor)
}

/// Which rows training keeps, with their weights.
#[derive(Debug)]
pub struct Plan {
    seed: u64,
    rate: f64,
    floor: f64,
    counts: FxHashMap<u64, u32>,
    /// What the manifest records (`negatives_kept` counted as rows are kept).
    pub record: Sampling,
}

/// What the plan makes of one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// Its weight in the risk model (1 / its chance of being kept).
    pub weight: f64,
    /// Whether it belongs to the uniform sample.
    pub uniform: bool,
}

impl Plan {
    /// Whether every row is kept.
    pub fn keeps_all(&self) -> bool {
        self.rate >= 1.0
    }

    /// The rows of a chunk kept (positions in the chunk) and what each is;
    /// `first` is the chunk's first row's position in the run.
    pub fn pick(&mut self, b: &Batch, label: &[f64], reviewed: &[bool], first: u64) -> Vec<(usize, Pick)> {
        if self.keeps_all() {
            return (0..b.len)
                .map(|i| {
                    (
                        i,
                        Pick {
                            weight: 1.0,
                            uniform: true,
                        },
                    )
                })
                .collect();
        }
        let (hs, date, exp) = (
            b.text(Col::HsCode),
            b.num(Col::ExportDate),
            b.text(Col::UsppiName),
        );
        let mut out = Vec::new();
        for i in 0..b.len {
            let u = draw(self.seed, first + i as u64);
            let uniform = u < self.rate;
            if always(label[i], reviewed[i]) {
                out.push((i, Pick { weight: 1.0, uniform }));
                continue;
            }
            let n = self
                .counts
                .get(&stratum(&hs[i], date[i], &exp[i]))
                .map_or(1.0, |n| f64::from(*n));
            let p = chance(self.rate, self.floor, n);
            if u < p {
                self.record.negatives_kept += 1;
                out.push((
                    i,
                    Pick {
                        weight: 1.0 / p,
                        uniform,
                    },
                ));
            }
        }
        out
    }

    /// The record, once every row has been offered.
    pub fn finish(mut self) -> Sampling {
        if self.keeps_all() {
            self.record.negatives_kept = self.record.negatives_seen;
        }
        self.record
    }
}

/// How the training rows were sampled (in the model's manifest).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sampling {
    /// `--negatives` as given (a count, a share or `all`).
    pub negatives_requested: String,
    /// Rows neither positive nor reviewed, in the run and kept.
    pub negatives_seen: u64,
    pub negatives_expected: u64,
    pub negatives_kept: u64,
    /// Positive or reviewed rows (every one kept).
    pub always_kept: u64,
    /// Every row's chance of being kept, at least; and the rows each
    /// stratum (HS chapter, month, exporter) keeps at least.
    pub rate: f64,
    pub stratum_floor: f64,
    pub strata: u64,
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_counts_shares_and_all() {
        assert_eq!("all".parse::<Negatives>(), Ok(Negatives::All));
        assert_eq!("1_000_000".parse::<Negatives>(), Ok(Negatives::Count(1_000_000)));
        assert_eq!("0.25".parse::<Negatives>(), Ok(Negatives::Share(0.25)));
        assert_eq!("10%".parse::<Negatives>(), Ok(Negatives::Share(0.1)));
        for bad in ["", "0", "-5", "1.5", "abc", "150%", "NaN"] {
            assert!(bad.parse::<Negatives>().is_err(), "{bad}");
        }
    }

    #[test]
    fn draws_are_uniform_and_fixed_by_seed() {
        let n = 100_000u64;
        let below = (0..n).filter(|r| draw(7, *r) < 0.3).count() as f64 / n as f64;
        assert!((below - 0.3).abs() < 0.01, "{below}");
        assert_eq!(draw(7, 12), draw(7, 12));
        assert_ne!(draw(7, 12), draw(8, 12));
    }

    #[test]
    fn solve_meets_the_target_with_floors() {
        // 1,000 strata of 10 rows and one of 100,000: a target of 20,000
        // keeps every small stratum's floor and samples the large one.
        let mut sizes = vec![10.0; 1000];
        sizes.push(100_000.0);
        let (rate, floor) = solve(&sizes, 20_000.0);
        assert_eq!(floor, STRATUM_FLOOR);
        let kept: f64 = sizes.iter().map(|n| n * chance(rate, floor, *n)).sum();
        assert!((kept - 20_000.0).abs() < 1.0, "{kept}");
        assert!(chance(rate, floor, 10.0) >= 0.5);
        // A target the floors would take lowers them to half of it; the
        // rest is drawn at a base rate above zero.
        let (rate, floor) = solve(&sizes, 2_000.0);
        assert!(rate > 0.0 && floor < STRATUM_FLOOR, "{rate} {floor}");
        let kept: f64 = sizes.iter().map(|n| n * chance(rate, floor, *n)).sum();
        assert!((kept - 2_000.0).abs() < 1.0, "{kept}");
        let floors: f64 = sizes.iter().map(|n| n * chance(0.0, floor, *n)).sum();
        assert!((floors - 1_000.0).abs() < 1.0, "{floors}");
    }
}
