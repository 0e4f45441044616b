//! `sentinel cases`: the cases of a scored batch, one row per case, from
//! `score`'s output and the manifests it was scored from.

use std::path::PathBuf;

use anyhow::Result;

use sentinel_manifest::atomic::AtomicFile;
use sentinel_manifest::error::{InputError, EXIT_OK, EXIT_REJECTS};
use sentinel_review::case_summary;
use sentinel_scoring::scored;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel score batch.csv --out scored.csv\n  sentinel cases scored.csv --input batch.csv --out cases.csv"
)]
pub struct Args {
    /// `score`'s output (CSV, with its case_id column)
    pub scored: PathBuf,
    #[command(flatten)]
    pub from: super::common::ScoredFrom,
    /// Cases file to write (CSV, one row per case, strongest first)
    #[arg(long)]
    pub out: PathBuf,
    /// Neutralise cells that a spreadsheet would run as formulas (=, +, -, @, tab, CR)
    #[arg(long)]
    pub spreadsheet_safe: bool,
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(a: Args) -> Result<u8> {
    // The header first: a file scored before cases is refused unread.
    if !scored::has_cases(&a.scored)? {
        return Err(InputError::Usage(format!(
            "{}: has no case_id column (scored by an older sentinel); score the batch again",
            a.scored.display()
        ))
        .into());
    }
    let scored = scored::read_scored(&a.scored)?;
    let (batch, rejected) = a.from.read(None, None)?;
    let summaries = case_summary::summarise(&scored, &batch);
    let mut out = AtomicFile::create(&a.out, std::slice::from_ref(&a.scored))?;
    case_summary::write_csv(&summaries, out.writer(), a.spreadsheet_safe)?;
    out.commit()?;
    if !a.quiet {
        let flagged: usize = summaries.iter().map(|c| c.flagged_lines).sum();
        let several = summaries.iter().filter(|c| c.flagged_lines > 1).count();
        eprintln!(
            "cases: {} cases ({several} of more than one flagged line) hold {flagged} flagged lines; written to {}",
            summaries.len(),
            a.out.display()
        );
    }
    Ok(if rejected > 0 { EXIT_REJECTS } else { EXIT_OK })
}
