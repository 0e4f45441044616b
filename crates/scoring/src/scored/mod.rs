//! The scored-output contract, in one place for every layer that writes or
//! reads it (`datasets/manifest-spec.md`, "Scored output"): the columns
//! ([`output_names`]), writing them ([`write`]), reading a scored file back
//! ([`read_scored`], for the report, `cases` and the review desk), and
//! cells made safe for a spreadsheet ([`spreadsheet_safe`]).

use anyhow::{Context, Result};

use sentinel_manifest::schema::Col;

/// What reading a scored file back refuses: exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScoredError {
    /// Not a file `score` wrote (unreadable, or without its columns).
    #[error("{0}")]
    NotScored(String),
}

impl ScoredError {
    pub fn exit_code(&self) -> u8 {
        sentinel_manifest::error::EXIT_INPUT
    }
}

mod write;

pub(crate) use write::{write_rows, OutputRows};

/// The scored output's own columns, in the order they are written
/// (`filing_id` only when the input has one), before the input's with
/// `--keep-columns`. Writing and reading back both name them from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoredCol {
    ShipmentId,
    FilingId,
    RiskScore,
    Flagged,
    Rank,
    CaseId,
    DeclaredCategory,
    LikelyCategory,
    LikelyProbability,
    ReasonCodes,
    Reasons,
    ModelId,
}

impl ScoredCol {
    pub const ALL: [ScoredCol; 12] = [
        ScoredCol::ShipmentId,
        ScoredCol::FilingId,
        ScoredCol::RiskScore,
        ScoredCol::Flagged,
        ScoredCol::Rank,
        ScoredCol::CaseId,
        ScoredCol::DeclaredCategory,
        ScoredCol::LikelyCategory,
        ScoredCol::LikelyProbability,
        ScoredCol::ReasonCodes,
        ScoredCol::Reasons,
        ScoredCol::ModelId,
    ];

    /// The column's name in the header.
    pub fn name(self) -> &'static str {
        match self {
            ScoredCol::ShipmentId => "shipment_id",
            ScoredCol::FilingId => "filing_id",
            ScoredCol::RiskScore => "risk_score",
            ScoredCol::Flagged => "flagged",
            ScoredCol::Rank => "rank",
            ScoredCol::CaseId => "case_id",
            ScoredCol::DeclaredCategory => "declared_category",
            ScoredCol::LikelyCategory => "likely_category",
            ScoredCol::LikelyProbability => "likely_probability",
            ScoredCol::ReasonCodes => "reason_codes",
            ScoredCol::Reasons => "reasons",
            ScoredCol::ModelId => "model_id",
        }
    }
}

/// Fixed output columns (before the input's, with `--keep-columns`).
fn fixed_names(has_filing: bool) -> Vec<&'static str> {
    ScoredCol::ALL
        .iter()
        .filter(|c| has_filing || **c != ScoredCol::FilingId)
        .map(|c| c.name())
        .collect()
}

/// All output column names.
pub fn output_names(keep: bool, has_filing: bool, carry: &[String]) -> Vec<String> {
    let fixed = fixed_names(has_filing);
    let mut names: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
    if keep {
        let rename = |n: &str| {
            if fixed.contains(&n) {
                format!("input_{n}")
            } else {
                n.to_string()
            }
        };
        for c in Col::ALL {
            names.push(rename(c.name()));
        }
        for c in carry {
            names.push(rename(c));
        }
    }
    names
}

/// One scored row as read back from `score`'s output.
#[derive(Debug, Clone, Default)]
pub struct ScoredRow {
    pub shipment_id: String,
    pub risk: f64,
    pub flagged: bool,
    pub rank: usize,
    pub declared: String,
    pub likely: String,
    pub likely_p: f64,
    pub codes: String,
    pub reasons: String,
    pub model_id: String,
    /// Empty for a line in no case (and for files scored before cases).
    pub case_id: String,
}

/// Reads `score`'s CSV output; an unreadable or foreign file is the user's
/// input error (exit 2).
pub fn read_scored(path: &std::path::Path) -> Result<Vec<ScoredRow>> {
    read_scored_rows(path).map_err(|e| ScoredError::NotScored(format!("{e:#}")).into())
}

/// Whether a scored file has the `case_id` column (files scored before
/// cases do not).
pub fn has_cases(path: &std::path::Path) -> Result<bool> {
    let refuse = |e: csv::Error| {
        ScoredError::NotScored(format!("{}: not a readable scored file: {e}", path.display()))
    };
    let mut rd = csv::Reader::from_path(path).map_err(refuse)?;
    let found = rd
        .headers()
        .map_err(refuse)?
        .iter()
        .any(|h| h == ScoredCol::CaseId.name());
    Ok(found)
}

fn read_scored_rows(path: &std::path::Path) -> Result<Vec<ScoredRow>> {
    let shown = path.display();
    let mut rd =
        csv::Reader::from_path(path).with_context(|| format!("{shown}: cannot open the scored file"))?;
    let header: Vec<String> = rd.headers()?.iter().map(str::to_string).collect();
    let at = |c: ScoredCol| header.iter().position(|h| h == c.name());
    let col = |c: ScoredCol| -> Result<usize> {
        at(c).with_context(|| format!("{shown}: not a scored file (no `{}` column)", c.name()))
    };
    use ScoredCol::*;
    let (id, risk, flagged, rank, decl, likely, lp, codes, reasons, model) = (
        col(ShipmentId)?,
        col(RiskScore)?,
        col(Flagged)?,
        col(Rank)?,
        col(DeclaredCategory)?,
        col(LikelyCategory)?,
        col(LikelyProbability)?,
        col(ReasonCodes)?,
        col(Reasons)?,
        col(ModelId)?,
    );
    // Files scored before cases have no case_id column.
    let case = at(CaseId);
    let mut out = Vec::new();
    for rec in rd.records() {
        // csv's error names the line and the field.
        let rec = rec.with_context(|| format!("{shown}: not a readable scored file"))?;
        let get = |i: usize| rec.get(i).unwrap_or("").to_string();
        out.push(ScoredRow {
            shipment_id: get(id),
            risk: get(risk).parse().unwrap_or(f64::NAN),
            flagged: get(flagged) == "true",
            rank: get(rank).parse().unwrap_or(usize::MAX),
            declared: get(decl),
            likely: get(likely),
            likely_p: get(lp).parse().unwrap_or(f64::NAN),
            codes: get(codes),
            reasons: get(reasons),
            model_id: get(model),
            case_id: case.map(get).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Neutralises a cell that a spreadsheet would run as a formula.
pub fn spreadsheet_safe(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}
