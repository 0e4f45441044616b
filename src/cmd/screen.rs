//! `sentinel screen`: every party of the manifests against restricted-party
//! lists in the Consolidated Screening List's CSV layout; one output row per
//! match. Each distinct party (name and country) is screened once per run.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};

use sentinel_manifest::atomic::AtomicFile;
use sentinel_manifest::error::{EXIT_OK, EXIT_REJECTS};
use sentinel_manifest::reader::{Input, Reader, RejectSink};
use sentinel_manifest::schema::Col;
use sentinel_parties::screen::filed::{filer_country, PartyMatch, Screener, ROLES};
use sentinel_parties::screen::matcher::{Matcher, DEFAULT_MIN_SCORE};
use sentinel_scoring::scored::spreadsheet_safe;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel screen datasets/sample.csv --list datasets/screening-list.csv --out matches.csv\n  sentinel screen batch.csv --list consolidated.csv --list our-watch-list.csv --out matches.csv --min-score 0.9\n\nThe Consolidated Screening List is published by trade.gov as one CSV file (https://www.trade.gov/consolidated-screening-list, \"Downloadable CSL\"); `screen` reads it as published."
)]
pub struct Args {
    #[command(flatten)]
    pub input: super::common::Inputs,
    /// A restricted-party list in the Consolidated Screening List's CSV layout (repeatable)
    #[arg(long = "list", required = true)]
    pub lists: Vec<PathBuf>,
    /// Where the matches go (CSV)
    #[arg(long)]
    pub out: PathBuf,
    /// Least score (0..1) a match is written with
    #[arg(long, default_value_t = DEFAULT_MIN_SCORE)]
    pub min_score: f64,
    /// No summary on stderr
    #[arg(short, long)]
    pub quiet: bool,
}

const HEADER: [&str; 9] = [
    "shipment_id",
    "role",
    "party_name",
    "list_id",
    "list_source",
    "list_name",
    "matched_name",
    "score",
    "evidence",
];

pub fn run(a: Args) -> Result<u8> {
    super::common::min_score("--min-score", a.min_score)?;
    let list = super::common::read_lists(&a.lists, "screen", a.quiet)?;
    let skipped = list.skipped.len();
    let matcher = Matcher::new(list);
    let inputs: Vec<Input> = a.input.list();
    let mapping = a.input.mapping_or(None)?;
    let filer = filer_country(mapping.as_ref());
    let sink = a.input.rejects.as_deref().map(RejectSink::create).transpose()?;
    let mut reader = Reader::open(&inputs, mapping, sink)?;
    // Neither a manifest nor a list may be overwritten by the output.
    let mut input_paths = super::common::input_paths(&inputs);
    input_paths.extend(a.lists.iter().cloned());
    let mut out = AtomicFile::create(&a.out, &input_paths)?;
    let mut w = csv::Writer::from_writer(out.writer());
    w.write_record(HEADER)?;
    let mut screener = Screener::new(&matcher, a.min_score, filer);
    let (mut rows, mut matches) = (0u64, 0u64);
    while let Some(b) = reader.next_chunk(1 << 16)? {
        for i in 0..b.len {
            for PartyMatch { role, found: m } in screener.line(&b, i) {
                let e = &matcher.list.entries[m.entry as usize];
                w.write_record([
                    spreadsheet_safe(&b.text(Col::ShipmentId)[i]).as_str(),
                    ROLES[role as usize].name,
                    spreadsheet_safe(&b.text(ROLES[role as usize].name_col)[i]).as_str(),
                    spreadsheet_safe(&e.id).as_str(),
                    spreadsheet_safe(&e.source).as_str(),
                    spreadsheet_safe(&e.names[0]).as_str(),
                    spreadsheet_safe(&e.names[m.alias as usize]).as_str(),
                    format!("{:.3}", m.score).as_str(),
                    spreadsheet_safe(&m.evidence).as_str(),
                ])?;
                matches += 1;
            }
        }
        rows += b.len as u64;
    }
    let parties = screener.names();
    reader.finish()?;
    w.flush()?;
    drop(w);
    out.commit()
        .with_context(|| format!("writing {}", a.out.display()))?;
    if !a.quiet {
        let mut e = std::io::stderr().lock();
        writeln!(
            e,
            "screen: {rows} lines, {parties} distinct party names against {} listed names ({} entries{}): {matches} matches at {:.2} or more -> {}",
            matcher.len(),
            matcher.list.entries.len(),
            if skipped > 0 { format!(", {skipped} skipped") } else { String::new() },
            a.min_score,
            a.out.display()
        )?;
        if reader.stats.rejected > 0 {
            writeln!(e, "screen: {} rows rejected", reader.stats.rejected)?;
        }
    }
    Ok(if reader.stats.rejected > 0 {
        EXIT_REJECTS
    } else {
        EXIT_OK
    })
}
