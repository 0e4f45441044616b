//! Rejected rows: why ([`RejectCode`]) and where they are written
//! ([`RejectSink`], the rejects CSV).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

/// Longest cell value written to the rejects file, in characters.
pub const MAX_REJECT_VALUE: usize = 200;

/// Why a row cannot be scored at all (the spec's reject codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectCode {
    RaggedRow,
    EmptyId,
    DuplicateId,
    MissingCore,
    InvalidCore,
}

impl RejectCode {
    /// Every code, in the README's order.
    pub const ALL: [RejectCode; 5] = [
        RejectCode::RaggedRow,
        RejectCode::EmptyId,
        RejectCode::DuplicateId,
        RejectCode::MissingCore,
        RejectCode::InvalidCore,
    ];

    /// The code as written in the rejects file.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::RaggedRow => "RAGGED_ROW",
            RejectCode::EmptyId => "EMPTY_ID",
            RejectCode::DuplicateId => "DUPLICATE_ID",
            RejectCode::MissingCore => "MISSING_CORE",
            RejectCode::InvalidCore => "INVALID_CORE",
        }
    }

    /// What the code means.
    pub fn meaning(self) -> &'static str {
        match self {
            RejectCode::RaggedRow => "the record does not have as many fields as the header",
            RejectCode::EmptyId => "shipment_id is empty",
            RejectCode::DuplicateId => "shipment_id was already used by an earlier row (the first is kept)",
            RejectCode::MissingCore => "a core cell is empty",
            RejectCode::InvalidCore => "a core cell holds an invalid value",
        }
    }
}

impl std::fmt::Display for RejectCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row that could not be read, as written to the rejects file.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Reject {
    pub file: String,
    pub line: u64,
    pub shipment_id: String,
    pub column: String,
    pub value: String,
    pub reason_code: RejectCode,
    pub reason: String,
}

/// The rejects CSV: `file,line,shipment_id,column,value,reason_code,reason`.
pub struct RejectSink {
    path: PathBuf,
    to: SinkTo,
    pub count: u64,
}

/// Where rejected rows go: a CSV file (the command line), or kept in
/// memory for the caller (the Python package's rejects table).
enum SinkTo {
    Csv(Box<csv::Writer<Box<dyn Write + Send>>>),
    Memory(std::sync::Arc<std::sync::Mutex<Vec<Reject>>>),
}

/// The rejects file's columns, in order.
pub const REJECT_COLUMNS: [&str; 7] = [
    "file",
    "line",
    "shipment_id",
    "column",
    "value",
    "reason_code",
    "reason",
];

impl RejectSink {
    pub fn create(path: &Path) -> Result<RejectSink> {
        let f =
            File::create(path).with_context(|| format!("cannot create rejects file {}", path.display()))?;
        Ok(RejectSink::new(
            path.to_path_buf(),
            Box::new(std::io::BufWriter::new(f)),
        ))
    }

    pub fn new(path: PathBuf, w: Box<dyn Write + Send>) -> RejectSink {
        let mut writer = csv::Writer::from_writer(w);
        let _ = writer.write_record(REJECT_COLUMNS);
        RejectSink {
            path,
            to: SinkTo::Csv(Box::new(writer)),
            count: 0,
        }
    }

    /// A sink that appends each rejected row to `rows`.
    pub fn memory(rows: std::sync::Arc<std::sync::Mutex<Vec<Reject>>>) -> RejectSink {
        RejectSink {
            path: PathBuf::new(),
            to: SinkTo::Memory(rows),
            count: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn write(&mut self, r: &Reject) -> Result<()> {
        match &mut self.to {
            SinkTo::Csv(writer) => writer
                .write_record([
                    r.file.as_str(),
                    r.line.to_string().as_str(),
                    r.shipment_id.as_str(),
                    r.column.as_str(),
                    r.value.as_str(),
                    r.reason_code.as_str(),
                    r.reason.as_str(),
                ])
                .with_context(|| format!("cannot write rejects file {}", self.path.display()))?,
            SinkTo::Memory(rows) => rows
                .lock()
                .map_err(|_| anyhow::anyhow!("the rejects were lost to a failed thread"))?
                .push(r.clone()),
        }
        self.count += 1;
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        match self.to {
            SinkTo::Csv(mut writer) => writer
                .flush()
                .with_context(|| format!("cannot write rejects file {}", self.path.display())),
            SinkTo::Memory(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_lists_every_reject_code() {
        let readme = include_str!("../../../../README.md");
        for c in RejectCode::ALL {
            assert!(readme.contains(&format!("| `{c}` |")), "README lacks {c}");
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
