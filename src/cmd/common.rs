//! Flags that mean the same on every command that reads manifests.

use std::path::PathBuf;

use anyhow::Result;

use sentinel_manifest::batch::Batch;
use sentinel_manifest::error::InputError;
use sentinel_manifest::mapping::Mapping;
use sentinel_manifest::reader::{Input, Reader, RejectSink};
use sentinel_parties::screen::list::List;

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

/// The files among the inputs (not standard input): what an output may
/// not overwrite.
pub fn input_paths(inputs: &[Input]) -> Vec<PathBuf> {
    inputs
        .iter()
        .filter_map(|i| match i {
            Input::Path(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// A `--...-min-score` flag's value, which must lie in 0..1.
pub fn min_score(flag: &str, v: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(InputError::Usage(format!("{flag} {v}: expected a number from 0 to 1")).into())
    }
}

/// Restricted-party lists (`--list`, in the CSL's layout) read into one;
/// the entries skipped for want of a name said on stderr with their file
/// and line (the first 20) unless `quiet`, as `command`'s.
pub fn read_lists(paths: &[PathBuf], command: &str, quiet: bool) -> Result<List> {
    let mut list = List::default();
    for p in paths {
        list.add_file(p)
            .map_err(|e| InputError::Unreadable(e.to_string()))?;
    }
    if !quiet {
        for (file, line, why) in list.skipped.iter().take(20) {
            eprintln!("{command}: {file}: line {line}: entry skipped: {why}");
        }
    }
    Ok(list)
}
