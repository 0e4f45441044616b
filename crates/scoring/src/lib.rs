//! Scoring runs, above detection: a run's passes over its inputs
//! ([`score`]), the figures it holds between them ([`rows`]), the flagged
//! lines grouped into cases ([`cases`]), restricted-party matches
//! ([`listing`]), and the scored-output contract
//! ([`scored`]: columns, writing, reading back, spreadsheet-safe cells),
//! which the review layer reads.

pub mod cases;
mod keep;
pub mod listing;
pub mod rows;
pub mod score;
pub mod scored;

pub use listing::RunList;
pub use rows::{Format, Output};
pub use score::{
    score_run, score_run_to, FlagRule, ListedSummary, Progress, RejectsTo, RunConfig, Summary, TopRow,
    REASON_DEPTH, REASON_MIN,
};
