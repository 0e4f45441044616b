//! What a run holds between its passes: the chunks (kept in memory or read
//! again), each row's figures from pass 2, the reasons of the rows that
//! need them, and the output format. The scoring passes ([`crate::score`])
//! fill them and the writers ([`crate::scored`]) read them.

use anyhow::Result;

use sentinel_detect::pipeline;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::reader::Reader;
use sentinel_manifest::schema::Col;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Csv,
    Parquet,
}

/// Where a run's scored rows go.
pub enum Output<'w> {
    Csv(&'w mut dyn std::io::Write),
    Parquet(&'w mut dyn std::io::Write),
    /// Kept as frames, a chunk each, with the Parquet output's column types
    /// (the Python package hands them over as Arrow).
    Frames(&'w mut Vec<polars::prelude::DataFrame>),
}

/// Workers of pass 2 (and of formatting the output).
pub(crate) const WORKERS: usize = 2;

/// A row's reasons, as the output writes them.
pub(crate) struct Explained {
    pub(crate) shipment_id: String,
    /// Reason codes, joined by `;`.
    pub(crate) codes: String,
    /// Their sentences, joined by ` | `.
    pub(crate) sentences: String,
}

/// The run's chunks after pass 1: held in memory, or read again.
pub(crate) enum Chunks {
    /// The index of the next held chunk.
    Held(usize),
    Reread(Box<Reader>),
}

impl Chunks {
    pub(crate) fn next<'h>(
        &mut self,
        held: Option<&'h [Batch]>,
        rows: usize,
    ) -> Result<Option<std::borrow::Cow<'h, Batch>>> {
        match self {
            Chunks::Held(k) => {
                let b = held.and_then(|h| h.get(*k));
                *k += 1;
                Ok(b.map(std::borrow::Cow::Borrowed))
            }
            Chunks::Reread(r) => Ok(r.next_chunk(rows)?.map(std::borrow::Cow::Owned)),
        }
    }
}

/// What pass 2 keeps of every row of the run (about 30 bytes a row).
pub(crate) struct RowFigures {
    pub(crate) risk: Vec<f64>,
    pub(crate) likely: Vec<u8>,
    pub(crate) likely_probability: Vec<f64>,
    pub(crate) declared: Vec<u8>,
    pub(crate) value: Vec<f32>,
}

impl RowFigures {
    pub(crate) fn with_capacity(n: usize) -> RowFigures {
        RowFigures {
            risk: Vec::with_capacity(n),
            likely: Vec::with_capacity(n),
            likely_probability: Vec::with_capacity(n),
            declared: Vec::with_capacity(n),
            value: Vec::with_capacity(n),
        }
    }

    /// Appends a chunk's rows: their declared categories and scores.
    pub(crate) fn push(&mut self, b: &Batch, declared: Vec<u8>, s: pipeline::Scores) {
        self.value.extend(b.num(Col::ValueUsd).iter().map(|v| *v as f32));
        self.declared.extend(declared);
        self.risk.extend(s.risk);
        self.likely.extend(s.likely_category);
        self.likely_probability.extend(s.likely_probability);
    }
}
