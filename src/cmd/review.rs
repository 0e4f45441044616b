//! `sentinel review`: load scored batches into a review database, record
//! decisions, and export decided shipments as labels for training.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use sentinel_manifest::atomic::AtomicFile;
use sentinel_manifest::error::{InputError, EXIT_OK, EXIT_REJECTS};
use sentinel_review::review::{self, Decision, Store};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  sentinel review import scored.csv --input batch.csv --db reviews.sqlite\n  sentinel review decide --db reviews.sqlite XK2J-1 --decision confirmed --goods datacenter_gpu --reviewer ana --note \"H100 modules\"\n  sentinel review export --db reviews.sqlite --out labels.csv\n  sentinel train --data train.csv --reviews reviews.sqlite --out models/next"
)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Load a scored batch (and the manifests it was scored from) into the database
    Import(ImportArgs),
    /// Record or change the decision on one shipment (the history is kept)
    Decide(DecideArgs),
    /// Write confirmed (label 1) and cleared (label 0) shipments in the manifest format
    Export(ExportArgs),
    /// Serve the review desk (a local web application) over the database
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// `score`'s output (CSV) to load into the queue
    #[arg(long)]
    pub scored: PathBuf,
    #[command(flatten)]
    pub from: super::common::ScoredFrom,
    /// Review database (SQLite; created when absent)
    #[arg(long)]
    pub db: PathBuf,
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Address to listen on (a non-loopback address needs the token)
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Read the desk's token from this file's first line (at least 16
    /// characters) instead of drawing a random one
    #[arg(long, conflicts_with = "no_token")]
    pub token_file: Option<PathBuf>,
    /// Serve without a token: loopback only, where the Host and origin
    /// checks still apply (any local program can then use the desk)
    #[arg(long)]
    pub no_token: bool,
    /// Share of the queue given to lower-ranked shipments chosen for exploration
    #[arg(long, default_value_t = 0.1)]
    pub explore: f64,
    /// Seed of the exploration draw
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// `score`'s output (CSV)
    pub scored: PathBuf,
    #[command(flatten)]
    pub from: super::common::ScoredFrom,
    /// Review database (SQLite; created when absent)
    #[arg(long)]
    pub db: PathBuf,
    /// Load every scored row, not only the flagged ones
    #[arg(long)]
    pub all: bool,
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    /// Review database
    #[arg(long)]
    pub db: PathBuf,
    /// The shipment decided on
    pub shipment_id: String,
    /// confirmed (misdeclared), cleared, or inspect (sent to physical inspection)
    #[arg(long)]
    pub decision: Decision,
    /// Who decides
    #[arg(long)]
    pub reviewer: String,
    /// The goods actually found: a cargo category of the spec
    #[arg(long)]
    pub goods: Option<String>,
    /// Free text
    #[arg(long, default_value = "")]
    pub note: String,
    /// Decide the shipment's whole case: every flagged line of it
    #[arg(long)]
    pub whole_case: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Review database
    #[arg(long)]
    pub db: PathBuf,
    /// Labels file to write (CSV, manifest format with label and true_category)
    #[arg(long)]
    pub out: PathBuf,
    /// Neutralise cells that a spreadsheet would run as formulas (=, +, -, @, tab, CR)
    #[arg(long)]
    pub spreadsheet_safe: bool,
}

pub fn run(a: Args) -> Result<u8> {
    match a.action {
        Action::Import(a) => import(a),
        Action::Decide(a) => {
            let mut store = Store::open(&a.db)?;
            if a.whole_case {
                let done = store.decide_case(
                    &a.shipment_id,
                    a.decision,
                    a.goods.as_deref(),
                    &a.reviewer,
                    &a.note,
                    None,
                )?;
                eprintln!(
                    "review decide: case {}: {} lines decided, {} exceptions",
                    done.case_id,
                    done.decided.len(),
                    done.exceptions.len()
                );
            } else {
                store.decide(
                    &a.shipment_id,
                    a.decision,
                    a.goods.as_deref(),
                    &a.reviewer,
                    &a.note,
                )?;
            }
            Ok(EXIT_OK)
        }
        Action::Serve(a) => serve(a),
        Action::Export(a) => {
            let store = Store::open(&a.db)?;
            let rows = store.labelled()?;
            let mut out = AtomicFile::create(&a.out, &[])?;
            let n = review::write_labels(&rows, out.writer(), a.spreadsheet_safe)?;
            out.commit()?;
            eprintln!(
                "review export: {n} decided shipments written to {}",
                a.out.display()
            );
            Ok(EXIT_OK)
        }
    }
}

fn serve(a: ServeArgs) -> Result<u8> {
    if !(0.0..=0.9).contains(&a.explore) {
        return Err(InputError::Usage(format!("--explore {} must be between 0 and 0.9", a.explore)).into());
    }
    let token = match (&a.token_file, a.no_token) {
        (Some(f), _) => Some(sentinel_review::desk::access::token_from_file(f)?),
        (None, true) => None,
        (None, false) => Some(sentinel_review::desk::access::random_token()),
    };
    // Refused before the store is touched.
    sentinel_review::desk::access::check_bind(token.is_some(), &a.bind)?;
    let scored = sentinel_scoring::scored::read_scored(&a.scored)?;
    let (batch, _) = a.from.read(None, None)?;
    let queue = sentinel_review::desk::build_queue(&scored, a.explore, a.seed);
    let rows = sentinel_review::desk::rows_to_load(&scored, &queue);
    let mut store = Store::open(&a.db)?;
    store.import(&review::batch_name(&a.scored)?, &rows, &batch)?;
    store.set_queue(&queue)?;
    drop(store);
    sentinel_review::desk::serve(a.db.clone(), &a.bind, a.port, token, 4, &|url| {
        eprintln!("listening on {url}")
    })?;
    Ok(EXIT_OK)
}

fn import(a: ImportArgs) -> Result<u8> {
    let scored = sentinel_scoring::scored::read_scored(&a.scored)?;
    let (batch, rejected) = a.from.read(None, None)?;
    let rows: Vec<_> = scored.into_iter().filter(|s| a.all || s.flagged).collect();
    let mut store = Store::open(&a.db)?;
    let n = store.import(&review::batch_name(&a.scored)?, &rows, &batch)?;
    if !a.quiet {
        eprintln!("review import: {n} shipments loaded into {}", a.db.display());
    }
    Ok(if rejected > 0 { EXIT_REJECTS } else { EXIT_OK })
}
