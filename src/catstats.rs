//! What is typical for each declared HS code and category: robust location
//! (median) and spread (MAD) of the log physical figures, learned at
//! training with polars group-bys and stored in the model, so a row's
//! deviation means the same in every batch.

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

    /// A lookup of typical figures that remembers each declaration it saw
    /// (a batch repeats few HS codes many times).
    pub fn memo(&self) -> TypicalMemo<'_> {
        TypicalMemo {
            stats: self,
            seen: FxHashMap::default(),
        }
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
    seen: FxHashMap<(&'a str, u8), [Stat; N_PHYSICAL]>,
}

impl<'a> TypicalMemo<'a> {
    /// Robust z-score of `x` against what is typical for figure `j` of a
    /// declaration (NaN when `x` is), clipped to +-20.
    pub fn deviation(&mut self, hs6: &'a str, category: u8, j: usize, x: f64) -> f64 {
        if !x.is_finite() {
            return f64::NAN;
        }
        let stats = self.stats;
        let s = self
            .seen
            .entry((hs6, category))
            .or_insert_with(|| std::array::from_fn(|k| stats.typical(hs6, category, k)));
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
}
