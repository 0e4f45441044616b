//! Case summaries: the cases of a scored file (its rows carrying a
//! `case_id`, as [`sentinel_scoring::cases`] assigned them) drawn from the
//! batch it was scored from, for `sentinel cases`, the report and the desk.

use std::collections::HashMap;

use serde::Serialize;

use sentinel_manifest::batch::Batch;
use sentinel_manifest::domain::Date;
use sentinel_manifest::schema::Col;
use sentinel_scoring::cases::{case_score, log_clear};
use sentinel_scoring::scored::{self, ScoredRow};

/// One line of a case as the report draws it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseLine {
    pub shipment_id: String,
    pub rank: usize,
    pub risk_score: f64,
    pub exporter: String,
    pub address: String,
    pub consignee: String,
    pub intermediate: String,
}

/// A case as `sentinel cases` and the report show it. Parties are counted
/// over the case's lines as written (spelling variants stay visible),
/// most frequent first.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub case_id: String,
    pub case_score: f64,
    /// Sum of the flagged lines' risk: how many of them are expected to be
    /// controlled misdeclarations.
    pub expected_positive_lines: f64,
    pub flagged_lines: usize,
    /// Flagged and related lines.
    pub lines: usize,
    pub best_rank: usize,
    pub lead_shipment_id: String,
    pub flagged_value_usd: f64,
    pub declared_value_usd: f64,
    pub first_date: String,
    pub last_date: String,
    pub exporters: Vec<(String, usize)>,
    pub addresses: Vec<(String, usize)>,
    pub consignees: Vec<(String, usize)>,
    pub intermediates: Vec<(String, usize)>,
    /// Reason codes of the flagged lines, most frequent first.
    pub reason_codes: Vec<(String, usize)>,
    /// The flagged lines, best rank first.
    pub flagged: Vec<CaseLine>,
}

fn counted(m: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = m.into_iter().filter(|(k, _)| !k.is_empty()).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// The cases of a scored batch (rows carrying a `case_id`), from the batch
/// it was scored from; strongest first. Scored rows not in the batch count
/// as lines without figures.
pub fn summarise(scored: &[ScoredRow], b: &Batch) -> Vec<CaseSummary> {
    let ids = b.text(Col::ShipmentId);
    let index: HashMap<&str, usize> = (0..b.len).map(|i| (&ids[i], i)).collect();
    let mut by_case: HashMap<&str, Vec<&ScoredRow>> = HashMap::new();
    for s in scored.iter().filter(|s| !s.case_id.is_empty()) {
        by_case.entry(s.case_id.as_str()).or_default().push(s);
    }
    let text = |c: Col, i: Option<usize>| i.map_or(String::new(), |i| b.text(c)[i].trim().to_string());
    let mut out: Vec<CaseSummary> = by_case
        .into_iter()
        .map(|(id, rows)| {
            let mut parties: [HashMap<String, usize>; 5] = Default::default();
            let (mut value, mut flagged_value, mut dates) = (0.0, 0.0, (f64::INFINITY, f64::NEG_INFINITY));
            let mut flagged = Vec::new();
            for s in &rows {
                let i = index.get(s.shipment_id.as_str()).copied();
                let v = i.map_or(0.0, |i| b.num(Col::ValueUsd)[i]);
                if v.is_finite() {
                    value += v;
                }
                if let Some(i) = i {
                    let d = b.num(Col::ExportDate)[i];
                    dates = (dates.0.min(d), dates.1.max(d));
                }
                let inter = text(Col::IntermediateName, i);
                let cols = [Col::UsppiName, Col::UsppiAddress, Col::ConsigneeName];
                for (k, c) in cols.iter().enumerate() {
                    *parties[k].entry(text(*c, i)).or_default() += 1;
                }
                *parties[3].entry(inter.clone()).or_default() += 1;
                if !s.flagged {
                    continue;
                }
                if v.is_finite() {
                    flagged_value += v;
                }
                for c in s.codes.split(';').filter(|c| !c.is_empty()) {
                    *parties[4].entry(c.to_string()).or_default() += 1;
                }
                flagged.push(CaseLine {
                    shipment_id: s.shipment_id.clone(),
                    rank: s.rank,
                    risk_score: s.risk,
                    exporter: text(Col::UsppiName, i),
                    address: text(Col::UsppiAddress, i),
                    consignee: text(Col::ConsigneeName, i),
                    intermediate: inter,
                });
            }
            flagged.sort_by_key(|l| l.rank);
            let log = log_clear(flagged.iter().map(|l| l.risk_score));
            let day = |d: f64| {
                if d.is_finite() {
                    Date(d as i32).to_string()
                } else {
                    String::new()
                }
            };
            let [exporters, addresses, consignees, intermediates, reasons] = parties.map(counted);
            CaseSummary {
                case_id: id.to_string(),
                case_score: case_score(log),
                expected_positive_lines: flagged
                    .iter()
                    .map(|l| l.risk_score)
                    .filter(|r| r.is_finite())
                    .sum(),
                flagged_lines: flagged.len(),
                lines: rows.len(),
                best_rank: flagged.first().map_or(usize::MAX, |l| l.rank),
                lead_shipment_id: flagged.first().map_or(String::new(), |l| l.shipment_id.clone()),
                flagged_value_usd: flagged_value,
                declared_value_usd: value,
                first_date: day(dates.0),
                last_date: day(dates.1),
                exporters,
                addresses,
                consignees,
                intermediates,
                reason_codes: reasons,
                flagged,
            }
        })
        .collect();
    // C1, C2, ... as numbered by `score`; other ids after them by name.
    let number = |id: &str| {
        id.strip_prefix('C')
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    };
    out.sort_by(|a, b| {
        number(&a.case_id)
            .cmp(&number(&b.case_id))
            .then(a.case_id.cmp(&b.case_id))
    });
    out
}

/// `name (n); name (m); ... (+k more)`, the first `max` parties.
pub fn parties_cell(v: &[(String, usize)], max: usize) -> String {
    let mut s: Vec<String> = v.iter().take(max).map(|(n, c)| format!("{n} ({c})")).collect();
    if v.len() > max {
        s.push(format!("+{} more", v.len() - max));
    }
    s.join("; ")
}

/// Writes `cases.csv`: one row per case.
pub fn write_csv(
    cases: &[CaseSummary],
    w: impl std::io::Write,
    spreadsheet_safe: bool,
) -> anyhow::Result<()> {
    let mut cw = csv::Writer::from_writer(w);
    cw.write_record([
        "case_id",
        "case_score",
        "expected_positive_lines",
        "flagged_lines",
        "lines",
        "best_rank",
        "lead_shipment_id",
        "flagged_value_usd",
        "declared_value_usd",
        "first_date",
        "last_date",
        "exporters",
        "addresses",
        "consignees",
        "intermediates",
        "reason_codes",
    ])?;
    let safe = |s: String| {
        if spreadsheet_safe {
            scored::spreadsheet_safe(&s)
        } else {
            s
        }
    };
    for c in cases {
        cw.write_record([
            safe(c.case_id.clone()),
            format!("{:.6}", c.case_score),
            format!("{:.3}", c.expected_positive_lines),
            c.flagged_lines.to_string(),
            c.lines.to_string(),
            if c.best_rank == usize::MAX {
                String::new()
            } else {
                c.best_rank.to_string()
            },
            safe(c.lead_shipment_id.clone()),
            format!("{:.2}", c.flagged_value_usd),
            format!("{:.2}", c.declared_value_usd),
            c.first_date.clone(),
            c.last_date.clone(),
            safe(parties_cell(&c.exporters, 5)),
            safe(parties_cell(&c.addresses, 5)),
            safe(parties_cell(&c.consignees, 5)),
            safe(parties_cell(&c.intermediates, 5)),
            safe(parties_cell(&c.reason_codes, 5)),
        ])?;
    }
    cw.flush()?;
    Ok(())
}
