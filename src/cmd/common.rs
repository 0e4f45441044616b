//! Flags that mean the same on every command that reads manifests.

use std::path::PathBuf;

use anyhow::Result;

use sentinel_manifest::batch::Batch;
use sentinel_manifest::mapping::Mapping;
use sentinel_manifest::reader::{Input, Reader, RejectSink};

#[derive(Debug, clap::Args)]
pub struct Inputs {
    /// Manifest files (CSV or Parquet), `-` for stdin; all inputs of a run are one batch
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Column-mapping file (TOML) for other layouts (default: the model's, where a model is used)
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Rejected rows go here (CSV; score writes OUT.rejects.csv by default)
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

impl Inputs {
    pub fn list(&self) -> Vec<Input> {
        self.inputs.iter().map(|s| Input::parse(s)).collect()
    }

    /// The mapping given on the command line, else `default`.
    pub fn mapping_or(&self, default: Option<&Mapping>) -> Result<Option<Mapping>> {
        Ok(match &self.mapping {
            Some(p) => Some(Mapping::load(p)?),
            None => default.cloned(),
        })
    }
}

/// The manifests a scored batch was scored from (`report`, `review`).
#[derive(Debug, clap::Args)]
pub struct ScoredFrom {
    /// The manifests the batch was scored from (CSV or Parquet)
    #[arg(long = "input", required = true, num_args = 1..)]
    pub inputs: Vec<String>,
    /// Column-mapping file (TOML) of the manifests (default: the model's, where a model is used)
    #[arg(long)]
    pub mapping: Option<PathBuf>,
}

impl ScoredFrom {
    /// Reads the manifests; returns the batch and the number of rejected rows.
    pub fn read(&self, default: Option<&Mapping>, rejects: Option<RejectSink>) -> Result<(Batch, u64)> {
        let mapping = match &self.mapping {
            Some(p) => Some(Mapping::load(p)?),
            None => default.cloned(),
        };
        let inputs: Vec<Input> = self.inputs.iter().map(|s| Input::parse(s)).collect();
        let mut reader = Reader::open(&inputs, mapping, rejects)?;
        let batch = reader.read_all()?;
        reader.finish()?;
        Ok((batch, reader.stats.rejected))
    }
}
