//! `sentinel check`: validate manifests without scoring; a summary of rows,
//! rejects by reason, emptied cells and columns on stderr (JSON on stdout
//! with `--json`).

use anyhow::Result;

use sentinel_manifest::error::{EXIT_OK, EXIT_REJECTS};
use sentinel_manifest::reader::{Input, ReadStats, Reader, RejectSink};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel check datasets/sample.csv\n  sentinel check export.csv --mapping datasets/mapping-example.toml --rejects bad.csv\n  cat batch.csv | sentinel check - --json"
)]
pub struct Args {
    #[command(flatten)]
    pub input: super::common::Inputs,
    /// Print the summary as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// No summary on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let mapping = a.input.mapping_or(None)?;
    let inputs: Vec<Input> = a.input.list();
    let sink = a.input.rejects.as_deref().map(RejectSink::create).transpose()?;
    let mut reader = Reader::open(&inputs, mapping, sink)?;
    while reader.next_chunk(1 << 16)?.is_some() {}
    let rejects_path = reader.finish()?;
    let absent = reader.absent_expected();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&reader.stats)?);
    }
    if !a.quiet {
        eprint!("{}", summary(&reader.stats, &absent, rejects_path.as_deref()));
    }
    Ok(if reader.stats.rejected > 0 {
        EXIT_REJECTS
    } else {
        EXIT_OK
    })
}

/// `name count, name count` of a count table.
pub fn counts(m: &std::collections::BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The human summary of a read.
pub fn summary(s: &ReadStats, absent: &[(&str, &str)], rejects: Option<&std::path::Path>) -> String {
    let mut out = format!(
        "check: {} file(s), {} rows: {} accepted, {} rejected\n",
        s.files.len(),
        s.rows,
        s.accepted,
        s.rejected
    );
    if !s.rejects_by_reason.is_empty() {
        out.push_str(&format!(
            "  rejects by reason: {}\n",
            counts(&s.rejects_by_reason)
        ));
    }
    if !s.invalid_cells_by_column.is_empty() {
        out.push_str(&format!(
            "  invalid cells emptied (rows still scored, INVALID_FIELD): {}\n",
            counts(&s.invalid_cells_by_column)
        ));
    }
    for f in &s.files {
        out.push_str(&format!(
            "  {}: {} rows, {} columns of the spec present",
            f.file,
            f.rows,
            f.columns_present.len()
        ));
        if !f.extra_columns.is_empty() {
            out.push_str(&format!(", {} extra carried", f.extra_columns.len()));
        }
        out.push('\n');
    }
    for (name, disables) in absent {
        out.push_str(&format!(
            "  expected column {name} is absent: switched off: {disables}\n"
        ));
    }
    for r in &s.first_rejects {
        out.push_str(&format!("  reject {}\n", r.reason));
    }
    if s.rejected as usize > s.first_rejects.len() {
        out.push_str(&format!(
            "  ... and {} more rejects\n",
            s.rejected as usize - s.first_rejects.len()
        ));
    }
    if let Some(p) = rejects {
        out.push_str(&format!("  rejects written to {}\n", p.display()));
    }
    out
}
