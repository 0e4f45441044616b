//! What is typical for each declared HS code and category: robust location
//! (median) and spread (MAD) of the log physical figures, learned at
//! training with polars group-bys and stored in the model; and the same
//! figures re-estimated from the batch being scored ([`BatchStats`]), used
//! wherever the batch holds enough lines of a code, so that "unusual among
//! its peers in this batch" does not depend on the training world's price
//! and weight levels. Medians and MADs are robust to the few fraudulent
//! lines among the peers.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use anyhow::Result;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// The physical figures compared with what is typical.
pub const PHYSICAL: [&str; N_PHYSICAL] = [
    "log_value_per_kg",
    "log_weight_per_unit",
    "log_value_per_unit",
    "log_weight_per_package",
    "log_value",
    "log_weight",
];

/// How many physical figures there are.
pub const N_PHYSICAL: usize = 6;

/// Which lines a typical figure was learned from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// The declaration's HS6 code among the lines of the batch being scored.
    Batch,
    /// The declaration's HS6 code.
    Code,
    /// Its HS heading (first four digits).
    Heading,
    /// Its category.
    Category,
    /// Every training line.
    Overall,
}

/// Median and spread of one figure in one group.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Stat {
    pub median: f64,
    /// Median absolute deviation, scaled to a standard deviation (x 1.4826).
    pub spread: f64,
    pub n: u64,
}

/// Typical figures by HS6 code, by HS heading (its first four digits), by
/// category, and overall.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CatStats {
    pub by_hs6: BTreeMap<String, [Stat; N_PHYSICAL]>,
    pub by_hs4: BTreeMap<String, [Stat; N_PHYSICAL]>,
    pub by_category: BTreeMap<u8, [Stat; N_PHYSICAL]>,
    pub overall: [Stat; N_PHYSICAL],
}

/// A group needs this many values before its own figures are used.
pub const MIN_GROUP: u64 = 30;
/// Spread never counts as smaller than this (log10 units), so a group of
/// identical values does not make every small difference extreme.
pub const MIN_SPREAD: f64 = 0.05;

fn stats_by(df: &DataFrame, key: &str) -> Result<BTreeMap<String, [Stat; N_PHYSICAL]>> {
    let mut out: BTreeMap<String, [Stat; N_PHYSICAL]> = BTreeMap::new();
    for (j, name) in PHYSICAL.iter().enumerate() {
        let med = df
            .clone()
            .lazy()
            .filter(col(*name).is_not_null())
            .group_by([col(key)])
            .agg([col(*name).median().alias("median"), col(*name).count().alias("n")]);
        let mad = df
            .clone()
            .lazy()
            .filter(col(*name).is_not_null())
            .join(
                med.clone(),
                [col(key)],
                [col(key)],
                JoinArgs::new(JoinType::Inner),
            )
            .with_column(
                when(col(*name).gt(col("median")))
                    .then(col(*name) - col("median"))
                    .otherwise(col("median") - col(*name))
                    .alias("dev"),
            )
            .group_by([col(key)])
            .agg([col("dev").median().alias("mad")]);
        let table = med
            .join(mad, [col(key)], [col(key)], JoinArgs::new(JoinType::Inner))
            .sort([key], SortMultipleOptions::default())
            .collect()?;
        let keys = table.column(key)?.str()?.clone();
        let medians = table.column("median")?.f64()?.clone();
        let mads = table.column("mad")?.f64()?.clone();
        let ns = table.column("n")?.cast(&DataType::UInt64)?;
        let ns = ns.u64()?;
        for i in 0..table.height() {
            let (Some(k), Some(m), Some(d), Some(n)) = (keys.get(i), medians.get(i), mads.get(i), ns.get(i))
            else {
                continue;
            };
            out.entry(k.to_string()).or_default()[j] = Stat {
                median: m,
                spread: (d * 1.4826).max(MIN_SPREAD),
                n,
            };
        }
    }
    Ok(out)
}

impl CatStats {
    /// Learns typical figures from rows: HS6 codes, declared categories and
    /// the four log figures (NaN where unknown), column by column.
    pub fn fit(hs6: &[&str], category: &[u8], physical: &[Vec<f64>; N_PHYSICAL]) -> Result<CatStats> {
        let opt =
            |v: &Vec<f64>| -> Vec<Option<f64>> { v.iter().map(|x| x.is_finite().then_some(*x)).collect() };
        let hs4: Vec<&str> = hs6.iter().map(|c| c.get(..4).unwrap_or(c)).collect();
        let mut cols = vec![
            Column::new("hs6".into(), hs6.to_vec()),
            Column::new("hs4".into(), hs4),
            Column::new(
                "category".into(),
                category.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
            ),
            Column::new("all".into(), vec!["all"; hs6.len()]),
        ];
        for (name, v) in PHYSICAL.iter().zip(physical) {
            cols.push(Column::new((*name).into(), opt(v)));
        }
        let df = DataFrame::new_infer_height(cols)?;
        let by_hs6 = stats_by(&df, "hs6")?;
        let by_hs4 = stats_by(&df, "hs4")?;
        let by_category = stats_by(&df, "category")?
            .into_iter()
            .filter_map(|(k, v)| k.parse::<u8>().ok().map(|k| (k, v)))
            .collect();
        let overall = stats_by(&df, "all")?.remove("all").unwrap_or_default();
        Ok(CatStats {
            by_hs6,
            by_hs4,
            by_category,
            overall,
        })
    }

    /// The typical figure `j` for a declaration: its HS6 code when that has
    /// enough rows, else its heading (whatever the tables know of the code),
    /// else its category, else overall.
    pub fn typical(&self, hs6: &str, category: u8, j: usize) -> Stat {
        self.typical_in(hs6, category, j).0
    }

    /// [`Self::typical`], with the group it came from.
    pub fn typical_in(&self, hs6: &str, category: u8, j: usize) -> (Stat, Group) {
        if let Some(s) = self.by_hs6.get(hs6).map(|s| s[j]).filter(|s| s.n >= MIN_GROUP) {
            return (s, Group::Code);
        }
        let hs4 = hs6.get(..4).unwrap_or(hs6);
        if let Some(s) = self.by_hs4.get(hs4).map(|s| s[j]).filter(|s| s.n >= MIN_GROUP) {
            return (s, Group::Heading);
        }
        if let Some(s) = self
            .by_category
            .get(&category)
            .map(|s| s[j])
            .filter(|s| s.n >= MIN_GROUP)
        {
            return (s, Group::Category);
        }
        (self.overall[j], Group::Overall)
    }

    /// [`Self::typical_in`], with the batch's own figures first where it
    /// has enough lines of the code (`file` is the row's input file, which
    /// matters only for per-file batch figures).
    pub fn typical_with(
        &self,
        batch: Option<&BatchStats>,
        file: u32,
        hs6: &str,
        category: u8,
        j: usize,
    ) -> (Stat, Group) {
        let (learned, group) = self.typical_in(hs6, category, j);
        match batch.and_then(|b| b.get(file, hs6, j)) {
            // The batch's own figures, shrunk towards what training learned
            // by how many lines they rest on: a batch with a few dozen lines
            // of a code mostly keeps the learned level, one with thousands
            // mostly its own.
            Some(s) if learned.n > 0 => {
                let w = s.n as f64 / (s.n as f64 + BATCH_PRIOR);
                (
                    Stat {
                        median: w * s.median + (1.0 - w) * learned.median,
                        spread: w * s.spread + (1.0 - w) * learned.spread,
                        n: s.n,
                    },
                    Group::Batch,
                )
            }
            Some(s) => (s, Group::Batch),
            None => (learned, group),
        }
    }

    /// A lookup of typical figures that remembers each declaration it saw
    /// (a batch repeats few HS codes many times).
    pub fn memo(&self) -> TypicalMemo<'_> {
        self.memo_with(None)
    }

    /// [`Self::memo`], with the batch's own figures first.
    pub fn memo_with<'a>(&'a self, batch: Option<&'a BatchStats>) -> TypicalMemo<'a> {
        TypicalMemo {
            stats: self,
            batch,
            seen: FxHashMap::default(),
        }
    }
}

/// Lines of learned evidence a batch's own figures are weighed against.
pub const BATCH_PRIOR: f64 = 1000.0;

/// Width of a histogram bin of the batch figures (log10 units): medians
/// and MADs to 1% of a value.
const BIN: f64 = 0.005;
/// Lowest log10 figure binned (smaller ones count in the first bin).
const LOW: f64 = -9.0;
const BINS: f64 = 5000.0;

/// Histograms of the physical figures per HS6 code of a batch (and per
/// input file when asked), added chunk by chunk: the figures do not depend
/// on how the batch is cut into chunks.
#[derive(Debug, Default)]
pub struct BatchStatsBuilder {
    per_file: bool,
    hist: FxHashMap<u32, FxHashMap<String, Vec<FxHashMap<u16, u32>>>>,
}

impl BatchStatsBuilder {
    /// A builder for the whole run (`per_file` false: `score`), or for
    /// each input file on its own (`train`, whose files are batches of
    /// their own world).
    pub fn new(per_file: bool) -> BatchStatsBuilder {
        BatchStatsBuilder {
            per_file,
            hist: FxHashMap::default(),
        }
    }

    /// Adds rows: their input files, HS6 codes and log physical figures.
    pub fn add(
        &mut self,
        file: &[u32],
        hs6: &sentinel_manifest::strcol::StrCol,
        physical: &[Vec<f64>; N_PHYSICAL],
    ) {
        for i in 0..hs6.len() {
            let f = if self.per_file {
                file.get(i).copied().unwrap_or(0)
            } else {
                0
            };
            let by_code = self.hist.entry(f).or_default();
            let code = &hs6[i];
            // One look-up for a code seen before (nearly every row); the
            // key is allocated once per code.
            let h = match by_code.get_mut(code) {
                Some(h) => h,
                None => by_code
                    .entry(code.to_string())
                    .or_insert_with(|| vec![FxHashMap::default(); N_PHYSICAL]),
            };
            for (j, col) in physical.iter().enumerate() {
                let x = col[i];
                if x.is_finite() {
                    let bin = ((x - LOW) / BIN).clamp(0.0, BINS - 1.0) as u16;
                    *h[j].entry(bin).or_default() += 1;
                }
            }
        }
    }

    /// Medians and spreads of every code with [`MIN_GROUP`] lines or more.
    pub fn finish(self) -> BatchStats {
        let mut by = FxHashMap::default();
        for (f, codes) in self.hist {
            let mut out: FxHashMap<String, [Option<Stat>; N_PHYSICAL]> = FxHashMap::default();
            for (code, hs) in codes {
                let stats: [Option<Stat>; N_PHYSICAL] = std::array::from_fn(|j| robust(&hs[j]));
                if stats.iter().any(Option::is_some) {
                    out.insert(code, stats);
                }
            }
            by.insert(f, out);
        }
        BatchStats {
            per_file: self.per_file,
            by,
        }
    }
}

/// The centre of a bin.
fn centre(bin: u16) -> f64 {
    LOW + (bin as f64 + 0.5) * BIN
}

/// The weighted median of (value, count) pairs sorted by value.
fn weighted_median(v: &[(f64, u32)], n: u64) -> f64 {
    let half = n.div_ceil(2);
    let mut acc = 0u64;
    for (x, c) in v {
        acc += *c as u64;
        if acc >= half {
            return *x;
        }
    }
    v.last().map_or(f64::NAN, |x| x.0)
}

/// Median and scaled MAD of a histogram, when it holds enough values.
fn robust(h: &FxHashMap<u16, u32>) -> Option<Stat> {
    let n: u64 = h.values().map(|c| *c as u64).sum();
    if n < MIN_GROUP {
        return None;
    }
    let mut v: Vec<(f64, u32)> = h.iter().map(|(b, c)| (centre(*b), *c)).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = weighted_median(&v, n);
    let mut d: Vec<(f64, u32)> = v.iter().map(|(x, c)| ((x - median).abs(), *c)).collect();
    d.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mad = weighted_median(&d, n);
    Some(Stat {
        median,
        spread: (mad * 1.4826).max(MIN_SPREAD),
        n,
    })
}

/// Typical figures of the batch being scored, per HS6 code (and input file
/// when per file), for codes with [`MIN_GROUP`] lines or more.
#[derive(Debug, Default)]
pub struct BatchStats {
    per_file: bool,
    by: FxHashMap<u32, FxHashMap<String, [Option<Stat>; N_PHYSICAL]>>,
}

impl BatchStats {
    /// The batch's figure `j` for a code, when it has enough lines.
    pub fn get(&self, file: u32, hs6: &str, j: usize) -> Option<Stat> {
        let f = if self.per_file { file } else { 0 };
        self.by.get(&f)?.get(hs6)?[j]
    }
}

fn deviation_from(s: Stat, x: f64) -> f64 {
    if s.n == 0 {
        return f64::NAN;
    }
    ((x - s.median) / s.spread.max(MIN_SPREAD)).clamp(-20.0, 20.0)
}

/// Robust z-scores against what is typical, looking each declaration up
/// once.
pub struct TypicalMemo<'a> {
    stats: &'a CatStats,
    batch: Option<&'a BatchStats>,
    seen: FxHashMap<(u32, &'a str, u8), [Stat; N_PHYSICAL]>,
}

impl<'a> TypicalMemo<'a> {
    /// Robust z-score of `x` against what is typical for figure `j` of a
    /// declaration (NaN when `x` is), clipped to +-20.
    pub fn deviation(&mut self, hs6: &'a str, category: u8, j: usize, x: f64) -> f64 {
        self.deviation_in(0, hs6, category, j, x)
    }

    /// [`Self::deviation`] for a row of input file `file`.
    pub fn deviation_in(&mut self, file: u32, hs6: &'a str, category: u8, j: usize, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        let (stats, batch) = (self.stats, self.batch);
        let s = self
            .seen
            .entry((file, hs6, category))
            .or_insert_with(|| std::array::from_fn(|k| stats.typical_with(batch, file, hs6, category, k).0));
        deviation_from(s[j], x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spreads_by_group() {
        let mut hs6 = Vec::new();
        let mut cat = Vec::new();
        let mut x = Vec::new();
        for i in 0..40 {
            hs6.push("850440");
            cat.push(4u8);
            x.push(if i % 2 == 0 { 1.0 } else { 2.0 });
        }
        for _ in 0..5 {
            hs6.push("999999");
            cat.push(4u8);
            x.push(10.0);
        }
        let nan = vec![f64::NAN; x.len()];
        let s = CatStats::fit(
            &hs6,
            &cat,
            &[x, nan.clone(), nan.clone(), nan.clone(), nan.clone(), nan],
        )
        .unwrap();
        let t = s.typical("850440", 4, 0);
        assert_eq!(t.n, 40);
        assert!((t.median - 1.5).abs() < 1e-9);
        assert!((t.spread - 0.5 * 1.4826).abs() < 1e-9);
        // A small HS6 group falls back to its heading, a small heading to its category.
        assert_eq!(s.typical("850499", 4, 0).n, 40, "heading 8504");
        assert_eq!(s.typical_in("850499", 4, 0).1, Group::Heading);
        assert_eq!(s.typical_in("850440", 4, 0).1, Group::Code);
        assert_eq!(s.typical_in("999999", 4, 0).1, Group::Category);
        assert_eq!(s.typical("999999", 4, 0).n, 45);
        // Unknown everything: overall.
        assert_eq!(s.typical("000000", 9, 0).n, 45);
        let mut m = s.memo();
        assert!(m.deviation("850440", 4, 1, 1.0).is_nan(), "no data for figure 1");
        assert!((m.deviation("850440", 4, 0, 1.5 + 0.5 * 1.4826) - 1.0).abs() < 1e-9);
        // Remembered figures are the same figures.
        assert!((m.deviation("850440", 4, 0, 1.5 + 0.5 * 1.4826) - 1.0).abs() < 1e-9);
        assert!(m.deviation("850440", 4, 0, f64::NAN).is_nan());
    }

    #[test]
    fn batch_figures_come_first_and_ignore_chunking() {
        use sentinel_manifest::strcol::StrCol;
        // Training learned 1.0 as typical; this batch's peers sit at 2.0
        // (its price level), with two outliers.
        let trained = CatStats {
            by_hs6: [(
                "850440".to_string(),
                [Stat {
                    median: 1.0,
                    spread: 0.1,
                    n: 100,
                }; N_PHYSICAL],
            )]
            .into(),
            ..CatStats::default()
        };
        let mut codes = StrCol::default();
        let mut x = Vec::new();
        for i in 0..40 {
            codes.push("850440");
            x.push(2.0 + 0.01 * (i % 5) as f64);
        }
        codes.push("850440");
        x.push(5.0);
        codes.push("850440");
        x.push(-3.0);
        codes.push("847330");
        x.push(9.0);
        let nan = vec![f64::NAN; x.len()];
        let physical = [
            x.clone(),
            nan.clone(),
            nan.clone(),
            nan.clone(),
            nan.clone(),
            nan.clone(),
        ];
        let files = vec![0u32; x.len()];
        let mut whole = BatchStatsBuilder::new(false);
        whole.add(&files, &codes, &physical);
        let whole = whole.finish();
        // The same rows in chunks of 7.
        let mut chunked = BatchStatsBuilder::new(false);
        for start in (0..x.len()).step_by(7) {
            let end = (start + 7).min(x.len());
            let mut c = StrCol::default();
            for i in start..end {
                c.push(&codes[i]);
            }
            let p: [Vec<f64>; N_PHYSICAL] = std::array::from_fn(|j| physical[j][start..end].to_vec());
            chunked.add(&files[start..end], &c, &p);
        }
        let chunked = chunked.finish();
        let s = whole.get(0, "850440", 0).unwrap();
        assert_eq!(Some(s), chunked.get(0, "850440", 0));
        assert!((s.median - 2.02).abs() < 0.01, "robust to the outliers: {s:?}");
        assert_eq!(s.n, 42);
        assert!(whole.get(0, "847330", 0).is_none(), "one line is too few");
        assert!(whole.get(0, "850440", 1).is_none(), "no figures");
        // The batch's figures count by how many lines they rest on.
        let (t, g) = trained.typical_with(Some(&whole), 0, "850440", 4, 0);
        assert_eq!(g, Group::Batch);
        let w = 42.0 / (42.0 + BATCH_PRIOR);
        assert!(
            (t.median - (w * s.median + (1.0 - w) * 1.0)).abs() < 1e-9,
            "{t:?}"
        );
        assert_eq!(
            trained.typical_with(Some(&whole), 0, "850440", 4, 1).1,
            Group::Code
        );
        assert_eq!(trained.typical_with(None, 0, "850440", 4, 0).1, Group::Code);
        let mut m = trained.memo_with(Some(&whole));
        let with_batch = m.deviation("850440", 4, 0, 2.02);
        let mut m = trained.memo();
        let without = m.deviation("850440", 4, 0, 2.02);
        assert!(without > 5.0, "far from the training level: {without}");
        assert!(with_batch < without, "nearer its batch peers: {with_batch}");
    }
}
