//! Scoring a batch: read -> histories -> features -> models -> ranks and
//! flags -> reasons -> the spec's scored output (CSV or Parquet).

use std::io::Write;

use anyhow::Result;
use polars::prelude::*;
use serde::Serialize;

use crate::domain::Budget;
use crate::metrics::order_desc;
use crate::model::Model;
use crate::pipeline::{self, Evidence, Mode, Scores};
use crate::reader::{Batch, Reader};
use crate::reasons::{self, Reason};
use crate::run;
use crate::schema::{Col, Kind};
use crate::tables::Tables;

/// How rows are flagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlagRule {
    Budget(Budget),
    /// Flag rows with risk_score >= this.
    Threshold(f64),
}

/// Reasons are written for flagged rows and for the rows ranked within
/// this many times the number flagged (at least 100 rows).
pub const REASON_DEPTH: usize = 3;

/// A scored batch.
pub struct Scored {
    pub batch: Batch,
    pub evidence: Evidence,
    pub scores: Scores,
    pub rank: Vec<usize>,
    pub flagged: Vec<bool>,
    pub reasons: Vec<Vec<Reason>>,
    pub mode: Mode,
}

/// Scores an in-memory batch.
pub fn score_batch(model: &Model, batch: Batch, mode: Mode, rule: FlagRule) -> Scored {
    let hist = run::histories(model, &batch);
    let evidence = pipeline::evidence(&model.parts, &batch, &hist);
    let scores = pipeline::score(&model.parts, &evidence, mode);
    let n = batch.len;
    let order = order_desc(&scores.risk);
    let mut rank = vec![0; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r + 1;
    }
    let flagged: Vec<bool> = match rule {
        FlagRule::Budget(b) => {
            let k = b.rows(n);
            rank.iter().map(|r| *r <= k).collect()
        }
        FlagRule::Threshold(t) => scores.risk.iter().map(|s| *s >= t).collect(),
    };
    let n_flagged = flagged.iter().filter(|f| **f).count();
    let depth = (n_flagged * REASON_DEPTH).max(100);
    let reasons: Vec<Vec<Reason>> = (0..n)
        .map(|i| {
            if flagged[i] || rank[i] <= depth {
                reasons::explain(&model.parts, &evidence, &batch, mode, i, 4)
            } else {
                Vec::new()
            }
        })
        .collect();
    Scored {
        batch,
        evidence,
        scores,
        rank,
        flagged,
        reasons,
        mode,
    }
}

/// The output's column names (with --keep-columns, the input's follow).
pub fn output_names(s: &Scored, keep: bool, has_filing: bool, carry: &[String]) -> Vec<String> {
    let mut names: Vec<String> = vec!["shipment_id".into()];
    if has_filing {
        names.push("filing_id".into());
    }
    for n in [
        "risk_score",
        "flagged",
        "rank",
        "declared_category",
        "likely_category",
        "likely_probability",
        "reason_codes",
        "reasons",
        "model_id",
    ] {
        names.push(n.into());
    }
    if keep {
        let fixed = names.clone();
        let rename = |n: &str| {
            if fixed.iter().any(|f| f == n) {
                format!("input_{n}")
            } else {
                n.to_string()
            }
        };
        let _ = s;
        for c in Col::ALL {
            names.push(rename(c.name()));
        }
        for c in carry {
            names.push(rename(c));
        }
    }
    names
}

/// The output's cells of row `i`, as text.
pub fn output_row(s: &Scored, model_id: &str, i: usize, keep: bool, has_filing: bool) -> Vec<String> {
    let t = Tables::get();
    let b = &s.batch;
    let mut row = vec![b.text(Col::ShipmentId)[i].to_string()];
    if has_filing {
        row.push(b.text(Col::FilingId)[i].to_string());
    }
    row.push(format!("{:.6}", s.scores.risk[i]));
    row.push(s.flagged[i].to_string());
    row.push(s.rank[i].to_string());
    row.push(
        t.categories[s.evidence.declared.category[i] as usize]
            .name
            .clone(),
    );
    row.push(t.categories[s.scores.likely_category[i] as usize].name.clone());
    row.push(format!("{:.4}", s.scores.likely_probability[i]));
    let r = &s.reasons[i];
    row.push(r.iter().map(|x| x.code).collect::<Vec<_>>().join(";"));
    row.push(r.iter().map(|x| x.text.as_str()).collect::<Vec<_>>().join(" | "));
    row.push(model_id.to_string());
    if keep {
        for c in Col::ALL {
            if c.spec().kind.numeric() {
                let v = b.num(c)[i];
                row.push(if v.is_nan() {
                    String::new()
                } else if c.spec().kind == Kind::Date {
                    crate::domain::Date(v as i32).to_string()
                } else {
                    format!("{v}")
                });
            } else {
                row.push(b.text(c)[i].to_string());
            }
        }
        for col in &b.carry {
            row.push(col[i].to_string());
        }
    }
    row
}

/// Writes the scored output as CSV.
pub fn write_csv(
    w: &mut dyn Write,
    s: &Scored,
    model_id: &str,
    keep: bool,
    has_filing: bool,
    carry: &[String],
) -> Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(output_names(s, keep, has_filing, carry))?;
    for i in 0..s.batch.len {
        out.write_record(output_row(s, model_id, i, keep, has_filing))?;
    }
    out.flush()?;
    Ok(())
}

/// Writes the scored output as Parquet (numbers typed).
pub fn write_parquet(
    w: &mut dyn Write,
    s: &Scored,
    model_id: &str,
    keep: bool,
    has_filing: bool,
    carry: &[String],
) -> Result<()> {
    let names = output_names(s, keep, has_filing, carry);
    let n = s.batch.len;
    let mut text_cols: Vec<Vec<String>> = vec![Vec::with_capacity(n); names.len()];
    for i in 0..n {
        for (c, v) in text_cols
            .iter_mut()
            .zip(output_row(s, model_id, i, keep, has_filing))
        {
            c.push(v);
        }
    }
    let mut cols = Vec::with_capacity(names.len());
    for (name, v) in names.iter().zip(text_cols) {
        let col = match name.as_str() {
            "risk_score" => Column::new(name.as_str().into(), s.scores.risk.clone()),
            "likely_probability" => Column::new(name.as_str().into(), s.scores.likely_probability.clone()),
            "rank" => Column::new(
                name.as_str().into(),
                s.rank.iter().map(|r| *r as u64).collect::<Vec<_>>(),
            ),
            "flagged" => Column::new(name.as_str().into(), s.flagged.clone()),
            _ => Column::new(name.as_str().into(), v),
        };
        cols.push(col);
    }
    let mut df = DataFrame::new(n, cols)?;
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df)?;
    w.write_all(&buf)?;
    Ok(())
}

/// The run's summary (stderr, and `--summary-json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub rows_read: u64,
    pub rejected: u64,
    pub scored: u64,
    pub flagged: u64,
    pub flagged_declared_value_usd: f64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub model_id: String,
    pub mode: String,
    pub rule: String,
    pub rejects_file: Option<String>,
    pub disabled_features: Vec<String>,
    pub invalid_cells_by_column: std::collections::BTreeMap<String, u64>,
    pub top: Vec<TopRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopRow {
    pub rank: usize,
    pub shipment_id: String,
    pub risk_score: f64,
    pub first_reason: String,
}

/// Builds the summary of a scored run.
pub fn summary(
    s: &Scored,
    reader: &Reader,
    model: &Model,
    seconds: f64,
    rule: &FlagRule,
    rejects: Option<String>,
) -> Summary {
    let b = &s.batch;
    let mut top: Vec<usize> = (0..b.len).filter(|&i| s.flagged[i]).collect();
    top.sort_by_key(|&i| s.rank[i]);
    top.truncate(10);
    Summary {
        rows_read: reader.stats.rows,
        rejected: reader.stats.rejected,
        scored: b.len as u64,
        flagged: s.flagged.iter().filter(|f| **f).count() as u64,
        flagged_declared_value_usd: (0..b.len)
            .filter(|&i| s.flagged[i])
            .map(|i| b.num(Col::ValueUsd)[i])
            .sum(),
        seconds,
        rows_per_second: reader.stats.rows as f64 / seconds.max(1e-9),
        model_id: model.id().to_string(),
        mode: if s.mode == Mode::Supervised {
            "supervised".into()
        } else {
            "label-free".into()
        },
        rule: match rule {
            FlagRule::Budget(b) => format!("budget {b}"),
            FlagRule::Threshold(t) => format!("threshold {t}"),
        },
        rejects_file: rejects,
        disabled_features: reader
            .absent_expected()
            .iter()
            .map(|(c, d)| format!("{c}: {d}"))
            .collect(),
        invalid_cells_by_column: reader.stats.invalid_cells_by_column.clone(),
        top: top
            .iter()
            .map(|&i| TopRow {
                rank: s.rank[i],
                shipment_id: b.text(Col::ShipmentId)[i].to_string(),
                risk_score: s.scores.risk[i],
                first_reason: s.reasons[i].first().map(|r| r.text.clone()).unwrap_or_default(),
            })
            .collect(),
    }
}
