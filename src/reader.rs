//! Reading manifests: CSV (RFC 4180, BOM, CRLF, quoted newlines, any column
//! order, `-` for stdin) and Parquet, through an optional column mapping.
//! Every cell is read as text and validated against `schema`, so a bad cell
//! affects its own row and never the file: a row that cannot be scored goes
//! to the rejects file with its reason; an invalid expected or optional cell
//! is emptied, counted and marked on the row (evidence `INVALID_FIELD`).
//!
//! Open in one function, parse in another: [`Reader::from_csv_reader`] takes
//! any `Read`, so tests feed it byte literals.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::*;
use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::domain::{self, Date};
use crate::error::InputError;
use crate::mapping::Mapping;
use crate::schema::{Col, Kind, Presence};
use crate::strcol::StrCol;
use crate::tables::Tables;

/// Longest text cell kept, in bytes; a longer one is invalid.
pub const MAX_TEXT: usize = 2048;
/// Longest cell value written to the rejects file, in characters.
pub const MAX_REJECT_VALUE: usize = 200;

/// Validated rows, column by column. Text cells are `""` when empty,
/// numeric cells (and dates, as day numbers) `NaN` when empty.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub len: usize,
    /// Index of the input file (into [`Reader::file_names`]).
    pub file: Vec<u32>,
    /// Physical line on which the record starts (Parquet: row index + 1).
    pub line: Vec<u64>,
    text: Vec<StrCol>,
    num: Vec<Vec<f64>>,
    /// Bit `Col::bit()` set where the reader emptied an invalid cell.
    pub invalid: Vec<u64>,
    /// Mapping's categorical feature columns, in mapping order.
    pub extra_cat: Vec<StrCol>,
    /// Mapping's numeric feature columns, in mapping order.
    pub extra_num: Vec<Vec<f64>>,
    /// Columns carried through untouched, in [`Reader::carry_names`] order.
    pub carry: Vec<StrCol>,
}

impl Batch {
    fn with_shape(n_cat: usize, n_num: usize, n_carry: usize) -> Batch {
        let mut b = Batch {
            text: vec![StrCol::new(); Col::ALL.len()],
            num: vec![Vec::new(); Col::ALL.len()],
            ..Batch::default()
        };
        b.extra_cat = vec![StrCol::new(); n_cat];
        b.extra_num = vec![Vec::new(); n_num];
        b.carry = vec![StrCol::new(); n_carry];
        b
    }

    /// Text cells of a text column.
    pub fn text(&self, c: Col) -> &StrCol {
        &self.text[c as usize]
    }

    /// Values of a numeric column (dates as day numbers).
    pub fn num(&self, c: Col) -> &[f64] {
        &self.num[c as usize]
    }

    /// The cell of a canonical column as text: validated text, numbers as
    /// written by Rust, dates as YYYY-MM-DD, `""` when empty.
    pub fn cell_text(&self, c: Col, i: usize) -> String {
        if !c.spec().kind.numeric() {
            return self.text(c)[i].to_string();
        }
        let v = self.num(c)[i];
        if v.is_nan() {
            String::new()
        } else if c.spec().kind == Kind::Date {
            Date(v as i32).to_string()
        } else {
            format!("{v}")
        }
    }

    /// Mutable text column (for generators and tests that build batches).
    pub fn text_mut(&mut self, c: Col) -> &mut StrCol {
        &mut self.text[c as usize]
    }

    pub fn num_mut(&mut self, c: Col) -> &mut Vec<f64> {
        &mut self.num[c as usize]
    }

    /// Room for a round's rows, so that pushing them does not reallocate:
    /// a text column's bytes are at most its raw fields' (validation trims
    /// and canonicalises, never lengthens valid text).
    fn reserve_round(&mut self, layout: &Layout, raws: &[RawRecord]) {
        let n = raws.len();
        // Bytes of each field position over the round, record by record
        // (a record's fields are together in memory).
        let mut field_bytes = vec![0usize; layout.ncols];
        for r in raws {
            for (sum, f) in field_bytes.iter_mut().zip(r.record.iter()) {
                *sum += f.len();
            }
        }
        let bytes =
            |at: &Option<usize>| -> usize { at.and_then(|i| field_bytes.get(i)).copied().unwrap_or(0) };
        self.file.reserve(n);
        self.line.reserve(n);
        self.invalid.reserve(n);
        for c in Col::ALL {
            if c.spec().kind.numeric() {
                self.num[c as usize].reserve(n);
            } else {
                self.text[c as usize].reserve(n, bytes(&layout.canon[c as usize]));
            }
        }
        for (col, at) in self.extra_cat.iter_mut().zip(&layout.extra_cat) {
            col.reserve(n, bytes(at));
        }
        for col in &mut self.extra_num {
            col.reserve(n);
        }
        for (col, at) in self.carry.iter_mut().zip(&layout.carry) {
            col.reserve(n, bytes(at));
        }
    }

    /// An empty batch with every canonical column and no extras.
    pub fn empty() -> Batch {
        Batch::with_shape(0, 0, 0)
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Batch {
        Batch {
            len: idx.len(),
            file: idx.iter().map(|&i| self.file[i]).collect(),
            line: idx.iter().map(|&i| self.line[i]).collect(),
            text: self
                .text
                .iter()
                .map(|c| if c.is_empty() { StrCol::new() } else { c.take(idx) })
                .collect(),
            num: self
                .num
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        Vec::new()
                    } else {
                        idx.iter().map(|&i| c[i]).collect()
                    }
                })
                .collect(),
            invalid: idx.iter().map(|&i| self.invalid[i]).collect(),
            extra_cat: self.extra_cat.iter().map(|c| c.take(idx)).collect(),
            extra_num: self
                .extra_num
                .iter()
                .map(|c| idx.iter().map(|&i| c[i]).collect())
                .collect(),
            carry: self.carry.iter().map(|c| c.take(idx)).collect(),
        }
    }

    /// Appends `other`'s rows (same extras layout); an empty batch takes
    /// `other` whole.
    pub fn append(&mut self, other: Batch) {
        if self.len == 0 {
            *self = other;
            return;
        }
        self.len += other.len;
        self.file.extend(other.file);
        self.line.extend(other.line);
        self.invalid.extend(other.invalid);
        for (a, b) in self.text.iter_mut().zip(&other.text) {
            a.extend_from(b);
        }
        for (a, b) in self.num.iter_mut().zip(other.num) {
            a.extend(b);
        }
        for (a, b) in self.extra_cat.iter_mut().zip(&other.extra_cat) {
            a.extend_from(b);
        }
        for (a, b) in self.extra_num.iter_mut().zip(other.extra_num) {
            a.extend(b);
        }
        for (a, b) in self.carry.iter_mut().zip(&other.carry) {
            a.extend_from(b);
        }
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
    pub reason_code: String,
    pub reason: String,
}

/// The rejects CSV: `file,line,shipment_id,column,value,reason_code,reason`.
pub struct RejectSink {
    path: PathBuf,
    writer: csv::Writer<Box<dyn Write + Send>>,
    pub count: u64,
}

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
        // Header written eagerly so an empty rejects file still has it.
        let _ = writer.write_record([
            "file",
            "line",
            "shipment_id",
            "column",
            "value",
            "reason_code",
            "reason",
        ]);
        RejectSink {
            path,
            writer,
            count: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, r: &Reject) -> Result<()> {
        self.writer
            .write_record([
                &r.file,
                &r.line.to_string(),
                &r.shipment_id,
                &r.column,
                &r.value,
                &r.reason_code,
                &r.reason,
            ])
            .with_context(|| format!("cannot write rejects file {}", self.path.display()))?;
        self.count += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.writer
            .flush()
            .with_context(|| format!("cannot write rejects file {}", self.path.display()))
    }
}

/// What one file held.
#[derive(Debug, Clone, Serialize, Default)]
pub struct FileSummary {
    pub file: String,
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub columns_present: Vec<String>,
    pub expected_absent: Vec<String>,
    pub optional_absent: Vec<String>,
    pub extra_columns: Vec<String>,
}

/// Counts of a read, for summaries.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReadStats {
    pub rows: u64,
    pub accepted: u64,
    pub rejected: u64,
    pub rejects_by_reason: BTreeMap<String, u64>,
    pub invalid_cells_by_column: BTreeMap<String, u64>,
    pub files: Vec<FileSummary>,
    /// The first rejects, for people's messages.
    #[serde(skip)]
    pub first_rejects: Vec<Reject>,
}

/// Where a file's columns are.
#[derive(Debug, Clone)]
struct Layout {
    ncols: usize,
    canon: [Option<usize>; 32],
    extra_cat: Vec<Option<usize>>,
    extra_num: Vec<Option<usize>>,
    carry: Vec<Option<usize>>,
    /// The label comes through a mapping: values other than 0 count as 1.
    mapped_label: bool,
}

enum Source {
    Csv(Records),
    /// Every needed column as text, row by row.
    Parquet {
        columns: Vec<Vec<Option<String>>>,
        height: usize,
        pos: usize,
    },
}

/// Accepted rows a chunk holds by default (`score --chunk-rows`).
pub const CHUNK_ROWS: usize = 50_000;

/// Records read, then validated in parallel, at a time: as many as a
/// default chunk, so that a chunk without rejects is one round, taken whole
/// without copying.
const ROUND: usize = CHUNK_ROWS;

/// One record as read, before validation.
struct RawRecord {
    /// Physical line the record starts on, and the line after it.
    line: u64,
    end_line: u64,
    /// The row of a Parquet source (whose cells are in its columns).
    parquet_row: Option<usize>,
    record: csv::ByteRecord,
}

/// A round of records, validated: the accepted rows as a batch, and every
/// record's outcome in order (`None`: the batch's next row).
struct Round {
    part: Batch,
    outcomes: Vec<Option<Box<Reject>>>,
    /// How far the run has taken it (a round can straddle two chunks).
    next_outcome: usize,
    next_row: usize,
}

/// Validates records: each independently of the others.
fn validate_round(
    mapping: Option<&Mapping>,
    name: &str,
    layout: &Layout,
    columns: Option<&[Vec<Option<String>>]>,
    index: u32,
    raws: &[RawRecord],
) -> Round {
    let mut part = Batch::with_shape(layout.extra_cat.len(), layout.extra_num.len(), layout.carry.len());
    part.reserve_round(layout, raws);
    let mut outcomes = Vec::with_capacity(raws.len());
    let mut cells = Vec::new();
    for raw in raws {
        match Reader::parse_row(mapping, name, layout, columns, raw, &mut cells) {
            Ok(row) => {
                push(&mut part, index, raw.line, row);
                outcomes.push(None);
            }
            Err(rej) => outcomes.push(Some(rej)),
        }
    }
    Round {
        part,
        outcomes,
        next_outcome: 0,
        next_row: 0,
    }
}

/// The records of one CSV input as validated rounds, in order: one thread
/// reads and splits records into fields, a few validate rounds in turn
/// (round `k` by worker `k % workers`), so reading, validating and the
/// run's own work overlap.
struct Records {
    results: Vec<std::sync::mpsc::Receiver<Result<Round>>>,
    next: usize,
}

impl Records {
    fn start(
        name: String,
        mut csv: csv::Reader<Box<dyn Read + Send>>,
        layout: Layout,
        mapping: Option<Mapping>,
        index: u32,
    ) -> Records {
        use std::sync::mpsc::{channel, sync_channel};
        let workers = std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .clamp(1, 4);
        let (spare, returned) = channel::<Vec<RawRecord>>();
        let mut to_workers = Vec::with_capacity(workers);
        let mut results = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (tx, rx) = sync_channel::<Result<Vec<RawRecord>>>(1);
            let (rtx, rrx) = sync_channel::<Result<Round>>(1);
            let (name, layout, mapping, spare) =
                (name.clone(), layout.clone(), mapping.clone(), spare.clone());
            std::thread::spawn(move || {
                for msg in rx {
                    let out = msg.map(|raws| {
                        let round = validate_round(mapping.as_ref(), &name, &layout, None, index, &raws);
                        let _ = spare.send(raws);
                        round
                    });
                    // The receiver gone means the run stopped reading.
                    if rtx.send(out).is_err() {
                        return;
                    }
                }
            });
            to_workers.push(tx);
            results.push(rrx);
        }
        std::thread::spawn(move || {
            let mut k = 0usize;
            let mut pool: Vec<csv::ByteRecord> = Vec::new();
            loop {
                // Records handed back are read into again.
                while let Ok(raws) = returned.try_recv() {
                    pool.extend(raws.into_iter().map(|r| r.record));
                }
                let mut round = Vec::with_capacity(ROUND);
                let mut end = false;
                let mut failed = None;
                while round.len() < ROUND {
                    let mut record = pool
                        .pop()
                        .unwrap_or_else(|| csv::ByteRecord::with_capacity(512, 40));
                    match csv.read_byte_record(&mut record) {
                        Ok(true) => {
                            let line = record.position().map_or(0, |p| p.line());
                            round.push(RawRecord {
                                line,
                                end_line: csv.position().line(),
                                parquet_row: None,
                                record,
                            });
                        }
                        Ok(false) => {
                            end = true;
                            break;
                        }
                        Err(e) => {
                            let line = csv.position().line();
                            failed = Some(
                                anyhow::Error::new(e)
                                    .context(format!("{name}: read error after line {line}")),
                            );
                            break;
                        }
                    }
                }
                if !round.is_empty() {
                    if to_workers[k % workers].send(Ok(round)).is_err() {
                        return;
                    }
                    k += 1;
                }
                // An error takes the place of the next round.
                if let Some(e) = failed {
                    let _ = to_workers[k % workers].send(Err(e));
                    return;
                }
                if end {
                    return;
                }
            }
        });
        Records { results, next: 0 }
    }

    /// The next validated round; `None` after the last.
    fn next_round(&mut self) -> Result<Option<Round>> {
        let k = self.next % self.results.len();
        self.next += 1;
        match self.results[k].recv() {
            Ok(round) => round.map(Some),
            Err(_) => Ok(None),
        }
    }
}

struct OpenFile {
    index: u32,
    source: Source,
    layout: Layout,
    /// A round the last chunk did not use up.
    pending: Option<Round>,
}

/// One input: a path, or `-` for stdin.
#[derive(Debug, Clone)]
pub enum Input {
    Stdin,
    Path(PathBuf),
    /// Standard input saved to a file so it can be read more than once;
    /// messages still call it `<stdin>`.
    Spooled(PathBuf),
}

impl Input {
    pub fn parse(s: &str) -> Input {
        if s == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(s))
        }
    }

    pub fn display(&self) -> String {
        match self {
            Input::Stdin | Input::Spooled(_) => "<stdin>".into(),
            Input::Path(p) => p.display().to_string(),
        }
    }

    fn is_parquet(&self) -> bool {
        match self {
            Input::Stdin | Input::Spooled(_) => false,
            Input::Path(p) => p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq")),
        }
    }
}

/// Reads a run's inputs as one batch, chunk by chunk.
pub struct Reader {
    mapping: Option<Mapping>,
    file_names: Vec<String>,
    pending: Vec<(u32, Source, Layout)>,
    current: Option<OpenFile>,
    carry_names: Vec<String>,
    /// Ids of the run so far, as 128-bit fingerprints (two independent
    /// 64-bit hashes): 16 bytes an id whatever its length, and a false
    /// match among ten million ids has a chance of about 1e-25.
    seen_ids: FxHashSet<u128>,
    /// Ordinals (1-based, over all records of the run) rejected as duplicates.
    duplicates: Vec<u64>,
    /// When reading a run a second time: the first read's duplicates, so the
    /// ids need not be held again.
    replay: Option<Vec<u64>>,
    replay_pos: usize,
    pub stats: ReadStats,
    rejects: Option<RejectSink>,
}

fn core_missing_message(file: &str, header: &[String], missing: &[Col], mapping: Option<&Mapping>) -> String {
    let names: Vec<String> = missing
        .iter()
        .map(|c| match mapping.and_then(|m| m.source_of(*c)) {
            Some(src) => format!("{} (mapped to `{src}`)", c.name()),
            None => c.name().to_string(),
        })
        .collect();
    let mut msg = format!("{file}: missing core column(s) {}", names.join(", "));
    let separated = [(';', "semicolons"), ('\t', "tabs"), ('|', "pipes")]
        .iter()
        .find(|(sep, _)| header.len() == 1 && header[0].contains(*sep));
    let binary = header.iter().any(|h| {
        h.chars()
            .any(|c| c == '\u{fffd}' || (c.is_control() && c != '\t'))
    });
    if binary {
        msg.push_str("; the file does not look like UTF-8 CSV text (binary data?)");
    } else if let Some((_, name)) = separated {
        msg.push_str(&format!(
            "; the header seems to be separated by {name}, but manifests must be comma separated"
        ));
    } else {
        let mut hints = Vec::new();
        for c in missing {
            let target = mapping.and_then(|m| m.source_of(*c)).unwrap_or(c.name());
            if let Some(best) = closest(target, header) {
                hints.push(format!("`{}` for {}", printable(&best), c.name()));
            }
        }
        if !hints.is_empty() {
            msg.push_str(&format!("; closest names present: {}", hints.join(", ")));
        }
    }
    let shown: Vec<String> = header
        .iter()
        .take(40)
        .map(|h| format!("`{}`", printable(&cut(h, 60))))
        .collect();
    msg.push_str(&format!(
        "; columns present: {}",
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        }
    ));
    msg
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The header name closest to `target`, if any is reasonably close.
fn closest(target: &str, header: &[String]) -> Option<String> {
    let t = squash(target);
    header
        .iter()
        .filter(|h| h.len() <= 200)
        .map(|h| {
            let s = squash(h);
            let d = if !s.is_empty() && (s.contains(&t) || t.contains(&s)) {
                1
            } else {
                levenshtein(&t, &s)
            };
            (d, h)
        })
        .filter(|(d, _)| *d <= (t.len() / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, h)| h.clone())
}

/// A name as it can be shown in a message: control characters and
/// undecodable bytes escaped.
pub fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() || c == '\u{fffd}' {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Cuts a string to at most `n` characters.
pub fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

fn layout_for(
    file: &str,
    header: &[String],
    mapping: Option<&Mapping>,
) -> Result<(Layout, Vec<String>), InputError> {
    let mut pos: HashMap<&str, usize> = HashMap::new();
    let mut carried_dupes = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if pos.insert(h.as_str(), i).is_some() {
            carried_dupes.push(h.clone());
            // keep the first occurrence
            let first = header.iter().position(|x| x == h).unwrap_or(i);
            pos.insert(h.as_str(), first);
        }
    }
    let mut canon = [None; 32];
    let mut used = vec![false; header.len()];
    for c in Col::ALL {
        let src = match mapping.and_then(|m| m.source_of(c)) {
            Some(s) => Some(s),
            None if c == Col::Label && mapping.is_some_and(|m| m.label.is_some()) => None,
            None => Some(c.name()),
        };
        if let Some(s) = src {
            if let Some(&i) = pos.get(s) {
                if carried_dupes.iter().any(|d| d == s) {
                    return Err(InputError::new(format!("{file}: column `{s}` appears more than once in the header; which one holds {} is ambiguous", c.name())));
                }
                canon[c as usize] = Some(i);
                used[i] = true;
            }
        }
    }
    let missing: Vec<Col> = Col::ALL
        .iter()
        .copied()
        .filter(|c| c.spec().presence == Presence::Core && canon[*c as usize].is_none())
        .collect();
    if !missing.is_empty() {
        return Err(InputError::new(core_missing_message(
            file, header, &missing, mapping,
        )));
    }
    let feature_pos = |names: &[String]| -> Vec<Option<usize>> {
        names.iter().map(|n| pos.get(n.as_str()).copied()).collect()
    };
    let (extra_cat, extra_num) = match mapping {
        Some(m) => (
            feature_pos(&m.features.categorical),
            feature_pos(&m.features.numeric),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let carry: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| !used[*i])
        .map(|(_, h)| h.clone())
        .collect();
    let mapped_label = mapping.is_some_and(|m| m.label.is_some());
    Ok((
        Layout {
            ncols: header.len(),
            canon,
            extra_cat,
            extra_num,
            carry: Vec::new(),
            mapped_label,
        },
        carry,
    ))
}

fn header_names(raw: &csv::ByteRecord) -> Vec<String> {
    raw.iter()
        .enumerate()
        .map(|(i, f)| {
            let s = String::from_utf8_lossy(f);
            let s = if i == 0 {
                s.trim_start_matches('\u{feff}').to_string()
            } else {
                s.into_owned()
            };
            s.trim_matches(' ').to_string()
        })
        .collect()
}

/// The outcome of validating one cell.
enum Cell<'a> {
    Text(Cow<'a, str>),
    Num(f64),
    Empty,
}

/// Validates one cell of a canonical column. `Err` holds why it is invalid.
fn validate<'a>(
    col: Col,
    raw: &'a str,
    mapped_label: bool,
    mapping: Option<&Mapping>,
) -> Result<Cell<'a>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(Cell::Empty);
    }
    let kind = col.spec().kind;
    let bad = || format!("`{}` is not {}", cut(t, 60), kind.accepts());
    let conv = mapping.map(|m| &m.convert);
    match kind {
        Kind::Id | Kind::Text => {
            if t.len() > MAX_TEXT {
                return Err(format!(
                    "text of {} bytes is longer than the {MAX_TEXT} accepted",
                    t.len()
                ));
            }
            Ok(Cell::Text(Cow::Borrowed(t)))
        }
        Kind::Date => {
            let fmt = conv.and_then(|c| c.date_format.as_deref()).unwrap_or("%Y-%m-%d");
            let shown_fmt = if fmt == "%Y-%m-%d" { "YYYY-MM-DD" } else { fmt };
            Date::parse_with(t, fmt)
                .map(|d| Cell::Num(d.0 as f64))
                .ok_or_else(|| format!("`{}` is not a real date in the form {shown_fmt}", cut(t, 60)))
        }
        Kind::Hs => {
            if t.len() <= 10 && t.len() >= 6 && t.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Cell::Text(Cow::Borrowed(t)))
            } else {
                domain::parse_hs(t)
                    .map(|s| Cell::Text(Cow::Owned(s)))
                    .ok_or_else(bad)
            }
        }
        Kind::Country => domain::country_code(t)
            .map(|s| Cell::Text(Cow::Borrowed(s)))
            .ok_or_else(bad),
        Kind::Mode => domain::mode(t)
            .map(|s| Cell::Text(Cow::Borrowed(s)))
            .ok_or_else(bad),
        Kind::ConsigneeType => domain::consignee_type(t)
            .map(|s| Cell::Text(Cow::Borrowed(s)))
            .ok_or_else(bad),
        Kind::Eccn => domain::parse_eccn(t)
            .map(|s| Cell::Text(Cow::Owned(s)))
            .ok_or_else(bad),
        Kind::Licence => domain::parse_license(t)
            .map(|s| Cell::Text(Cow::Owned(s)))
            .ok_or_else(bad),
        Kind::PositiveNumber | Kind::NonNegativeNumber | Kind::PositiveInt | Kind::NonNegativeInt => {
            let mut v = domain::parse_number(t).ok_or_else(bad)?;
            let factor = match (col, conv) {
                (Col::ValueUsd | Col::InvoiceValueUsd, Some(c)) => c.value_factor,
                (Col::ShippingWeightKg, Some(c)) => c.weight_factor,
                _ => 1.0,
            };
            v *= factor;
            let ok = match kind {
                Kind::PositiveNumber => v > 0.0,
                Kind::NonNegativeNumber => v >= 0.0,
                Kind::PositiveInt => v > 0.0 && v.fract() == 0.0,
                _ => v >= 0.0 && v.fract() == 0.0,
            };
            if ok && v.is_finite() {
                Ok(Cell::Num(v))
            } else {
                Err(bad())
            }
        }
        Kind::Label => {
            if mapped_label {
                return Ok(Cell::Num(if t == "0" || domain::parse_number(t) == Some(0.0) {
                    0.0
                } else {
                    1.0
                }));
            }
            match domain::parse_number(t) {
                Some(v) if v == 0.0 || v == 1.0 => Ok(Cell::Num(v)),
                _ => Err(bad()),
            }
        }
        Kind::Category => {
            let l = t.to_ascii_lowercase();
            Tables::get()
                .category_index(&l)
                .map(|_| Cell::Text(Cow::Owned(l)))
                .ok_or_else(bad)
        }
    }
}

const REJECT_CODES: &[(&str, &str)] = &[
    (
        "RAGGED_ROW",
        "the record does not have as many fields as the header",
    ),
    ("EMPTY_ID", "shipment_id is empty"),
    (
        "DUPLICATE_ID",
        "shipment_id was already used by an earlier row (the first is kept)",
    ),
    ("MISSING_CORE", "a core cell is empty"),
    ("INVALID_CORE", "a core cell holds an invalid value"),
];

/// The reject reason codes with their meanings.
pub fn reject_codes() -> &'static [(&'static str, &'static str)] {
    REJECT_CODES
}

impl Reader {
    /// Opens every input and reads its header. A file lacking a core column,
    /// an empty file or an unreadable one is refused (an [`InputError`]).
    pub fn open(inputs: &[Input], mapping: Option<Mapping>, rejects: Option<RejectSink>) -> Result<Reader> {
        let mut r = Reader::new(mapping, rejects);
        for input in inputs {
            let name = input.display();
            if input.is_parquet() {
                let Input::Path(p) = input else {
                    unreachable!("stdin is never parquet")
                };
                r.add_parquet(&name, p)?;
            } else {
                let rd: Box<dyn Read + Send> = match input {
                    Input::Stdin => Box::new(std::io::stdin()),
                    Input::Path(p) | Input::Spooled(p) => Box::new(
                        File::open(p).map_err(|e| InputError::new(format!("{name}: cannot open: {e}")))?,
                    ),
                };
                r.add_csv(&name, rd)?;
            }
        }
        Ok(r)
    }

    fn new(mapping: Option<Mapping>, rejects: Option<RejectSink>) -> Reader {
        Reader {
            mapping,
            file_names: Vec::new(),
            pending: Vec::new(),
            current: None,
            carry_names: Vec::new(),
            seen_ids: FxHashSet::default(),
            duplicates: Vec::new(),
            replay: None,
            replay_pos: 0,
            stats: ReadStats::default(),
            rejects,
        }
    }

    /// A reader over one CSV stream (for tests and stdin).
    pub fn from_csv_reader(
        name: &str,
        rd: Box<dyn Read + Send>,
        mapping: Option<Mapping>,
        rejects: Option<RejectSink>,
    ) -> Result<Reader> {
        let mut r = Reader::new(mapping, rejects);
        r.add_csv(name, rd)?;
        Ok(r)
    }

    fn register(&mut self, name: &str, header: &[String]) -> Result<Layout> {
        let (mut layout, carry) = layout_for(name, header, self.mapping.as_ref())?;
        for c in &carry {
            if !self.carry_names.contains(c) {
                self.carry_names.push(c.clone());
            }
        }
        layout.carry = self
            .carry_names
            .iter()
            .map(|n| {
                carry
                    .iter()
                    .position(|c| c == n)
                    .and_then(|_| header.iter().position(|h| h == n))
            })
            .collect();
        let present = |p: Presence| -> Vec<String> {
            Col::ALL
                .iter()
                .filter(|c| c.spec().presence == p && layout.canon[**c as usize].is_none())
                .map(|c| c.name().to_string())
                .collect()
        };
        self.stats.files.push(FileSummary {
            file: name.to_string(),
            columns_present: Col::ALL
                .iter()
                .filter(|c| layout.canon[**c as usize].is_some())
                .map(|c| c.name().to_string())
                .collect(),
            expected_absent: present(Presence::Expected),
            optional_absent: present(Presence::Optional),
            extra_columns: carry,
            ..FileSummary::default()
        });
        self.file_names.push(name.to_string());
        Ok(layout)
    }

    fn add_csv(&mut self, name: &str, rd: Box<dyn Read + Send>) -> Result<()> {
        let buffered: Box<dyn Read + Send> = Box::new(BufReader::with_capacity(1 << 18, rd));
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(buffered);
        let raw = csv
            .byte_headers()
            .map_err(|e| InputError::new(format!("{name}: cannot read the header: {e}")))?
            .clone();
        if raw.is_empty() || (raw.len() == 1 && raw[0].is_empty()) {
            return Err(
                InputError::new(format!("{name}: the file is empty (a header row is required)")).into(),
            );
        }
        let header = header_names(&raw);
        let layout = self.register(name, &header)?;
        let index = (self.file_names.len() - 1) as u32;
        self.pending.push((
            index,
            Source::Csv(Records::start(
                name.to_string(),
                csv,
                layout.clone(),
                self.mapping.clone(),
                index,
            )),
            layout,
        ));
        Ok(())
    }

    fn add_parquet(&mut self, name: &str, path: &Path) -> Result<()> {
        let f = File::open(path).map_err(|e| InputError::new(format!("{name}: cannot open: {e}")))?;
        let df = ParquetReader::new(f)
            .finish()
            .map_err(|e| InputError::new(format!("{name}: not a readable Parquet file: {e}")))?;
        let header: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
        let layout = self.register(name, &header)?;
        let mut columns = Vec::with_capacity(header.len());
        for (i, c) in df.columns().iter().enumerate() {
            let needed = layout.canon.contains(&Some(i))
                || layout.extra_cat.contains(&Some(i))
                || layout.extra_num.contains(&Some(i))
                || layout.carry.contains(&Some(i));
            if !needed {
                columns.push(Vec::new());
                continue;
            }
            let s = c.cast(&DataType::String).map_err(|e| {
                InputError::new(format!(
                    "{name}: column `{}` cannot be read as text: {e}",
                    header[i]
                ))
            })?;
            let ca = s
                .str()
                .map_err(|e| InputError::new(format!("{name}: column `{}`: {e}", header[i])))?;
            columns.push(ca.iter().map(|v| v.map(str::to_string)).collect());
        }
        let index = (self.file_names.len() - 1) as u32;
        self.pending.push((
            index,
            Source::Parquet {
                columns,
                height: df.height(),
                pos: 0,
            },
            layout,
        ));
        Ok(())
    }

    /// Opens the inputs for a second read of a run whose first read found
    /// `duplicates` (from [`Reader::duplicates`]): the same rows are
    /// accepted, without holding every shipment_id again.
    pub fn replay(inputs: &[Input], mapping: Option<Mapping>, duplicates: Vec<u64>) -> Result<Reader> {
        let mut r = Reader::open(inputs, mapping, None)?;
        r.replay = Some(duplicates);
        Ok(r)
    }

    /// Record ordinals rejected as duplicate ids so far.
    pub fn duplicates(&self) -> &[u64] {
        &self.duplicates
    }

    /// Frees the set of ids seen (after the last chunk has been read).
    pub fn forget_ids(&mut self) {
        self.seen_ids = FxHashSet::default();
    }

    /// Names of the input files, indexed by [`Batch::file`].
    pub fn file_names(&self) -> &[String] {
        &self.file_names
    }

    /// Extra columns of the inputs, carried through untouched (union, in order of first appearance).
    pub fn carry_names(&self) -> &[String] {
        &self.carry_names
    }

    /// Whether any input has this canonical column.
    pub fn has_column(&self, c: Col) -> bool {
        self.stats
            .files
            .iter()
            .any(|f| f.columns_present.iter().any(|n| n == c.name()))
    }

    pub fn mapping(&self) -> Option<&Mapping> {
        self.mapping.as_ref()
    }

    /// Expected columns absent from every input, with what they disable.
    pub fn absent_expected(&self) -> Vec<(&'static str, &'static str)> {
        Col::ALL
            .iter()
            .filter(|c| c.spec().presence == Presence::Expected && !self.has_column(**c))
            .map(|c| (c.name(), c.spec().disables))
            .collect()
    }

    /// Reads up to `max_rows` accepted rows; `None` when every input is done.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<Batch>> {
        let n_cat = self.mapping.as_ref().map_or(0, |m| m.features.categorical.len());
        let n_num = self.mapping.as_ref().map_or(0, |m| m.features.numeric.len());
        let mut batch = Batch::with_shape(n_cat, n_num, self.carry_names.len());
        let mut any = false;
        while batch.len < max_rows {
            if self.current.is_none() {
                if self.pending.is_empty() {
                    break;
                }
                let (index, source, layout) = self.pending.remove(0);
                self.current = Some(OpenFile {
                    index,
                    source,
                    layout,
                    pending: None,
                });
            }
            any = true;
            let done = self.read_rows(&mut batch, max_rows)?;
            if done {
                self.current = None;
            }
        }
        if !any && batch.len == 0 {
            return Ok(None);
        }
        Ok(Some(batch))
    }

    /// Reads everything into one batch.
    pub fn read_all(&mut self) -> Result<Batch> {
        let mut all: Option<Batch> = None;
        while let Some(b) = self.next_chunk(1 << 20)? {
            match &mut all {
                None => all = Some(b),
                Some(a) => a.append(b),
            }
        }
        Ok(all.unwrap_or_else(|| {
            let n_cat = self.mapping.as_ref().map_or(0, |m| m.features.categorical.len());
            let n_num = self.mapping.as_ref().map_or(0, |m| m.features.numeric.len());
            Batch::with_shape(n_cat, n_num, self.carry_names.len())
        }))
    }

    /// Finishes the rejects file, if any, and returns its path.
    pub fn finish(&mut self) -> Result<Option<PathBuf>> {
        match self.rejects.take() {
            Some(sink) => {
                let p = sink.path().to_path_buf();
                sink.finish()?;
                Ok(Some(p))
            }
            None => Ok(None),
        }
    }

    /// Reads rows of the current file; `true` when the file is exhausted.
    /// Records come validated in rounds (validation of a row depends on
    /// nothing else, so it runs in parallel); here they are counted, checked
    /// for duplicate ids and kept or rejected in order.
    fn read_rows(&mut self, batch: &mut Batch, max_rows: usize) -> Result<bool> {
        let mut file = self.current.take().expect("a current file");
        let name = self.file_names[file.index as usize].clone();
        let mut exhausted = false;
        while batch.len < max_rows {
            let round = match file.pending.take() {
                Some(r) => r,
                None => match self.next_round(&name, &mut file)? {
                    Some(r) => r,
                    None => {
                        exhausted = true;
                        break;
                    }
                },
            };
            file.pending = self.merge(&name, file.index, batch, round, max_rows)?;
        }
        self.current = Some(file);
        Ok(exhausted)
    }

    /// The file's next validated round.
    fn next_round(&self, name: &str, file: &mut OpenFile) -> Result<Option<Round>> {
        match &mut file.source {
            Source::Csv(records) => records.next_round(),
            Source::Parquet { columns, height, pos } => {
                if *pos >= *height {
                    return Ok(None);
                }
                let end = (*pos + ROUND).min(*height);
                let raws: Vec<RawRecord> = (*pos..end)
                    .map(|r| RawRecord {
                        line: r as u64 + 1,
                        end_line: r as u64 + 1,
                        parquet_row: Some(r),
                        record: csv::ByteRecord::new(),
                    })
                    .collect();
                *pos = end;
                let (mapping, layout, index) = (self.mapping.as_ref(), &file.layout, file.index);
                let columns = Some(columns.as_slice());
                let half = raws.len().div_ceil(2);
                // Two halves validated in parallel, joined in order.
                let mut halves: Vec<Round> = std::thread::scope(|scope| {
                    let handles: Vec<_> = raws
                        .chunks(half.max(1))
                        .map(|part| {
                            scope.spawn(move || validate_round(mapping, name, layout, columns, index, part))
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("a validating thread"))
                        .collect()
                });
                let mut round = halves.remove(0);
                for h in halves {
                    round.part.append(h.part);
                    round.outcomes.extend(h.outcomes);
                }
                Ok(Some(round))
            }
        }
    }

    /// Takes a round's records in order until the batch is full: counts
    /// them, rejects repeated ids, appends the accepted rows. Returns the
    /// round when records are left.
    fn merge(
        &mut self,
        name: &str,
        file: u32,
        batch: &mut Batch,
        mut r: Round,
        max_rows: usize,
    ) -> Result<Option<Round>> {
        let first_row = r.next_row;
        let mut keep = Vec::with_capacity(r.part.len - first_row);
        while r.next_outcome < r.outcomes.len() && batch.len + keep.len() < max_rows {
            let outcome = r.outcomes[r.next_outcome].take();
            r.next_outcome += 1;
            self.stats.rows += 1;
            self.stats.files[file as usize].rows += 1;
            let result = match outcome {
                None => {
                    let i = r.next_row;
                    r.next_row += 1;
                    self.first_use(name, r.part.line[i], &r.part.text(Col::ShipmentId)[i])
                        .map(|()| i)
                }
                Some(rej) => Err(rej),
            };
            match result {
                Ok(i) => {
                    keep.push(i);
                    let invalid = r.part.invalid[i];
                    if invalid != 0 {
                        for c in Col::ALL {
                            if invalid & c.bit() != 0 {
                                *self
                                    .stats
                                    .invalid_cells_by_column
                                    .entry(c.name().to_string())
                                    .or_default() += 1;
                            }
                        }
                    }
                    self.stats.accepted += 1;
                    self.stats.files[file as usize].accepted += 1;
                }
                Err(rej) => {
                    self.stats.rejected += 1;
                    self.stats.files[file as usize].rejected += 1;
                    *self
                        .stats
                        .rejects_by_reason
                        .entry(rej.reason_code.clone())
                        .or_default() += 1;
                    if let Some(sink) = &mut self.rejects {
                        sink.write(&rej)?;
                    }
                    if self.stats.first_rejects.len() < 20 {
                        self.stats.first_rejects.push(*rej);
                    }
                }
            }
        }
        let done = r.next_outcome == r.outcomes.len();
        if done && first_row == 0 && keep.len() == r.part.len {
            batch.append(r.part);
            return Ok(None);
        }
        batch.append(r.part.select(&keep));
        Ok(if done { None } else { Some(r) })
    }

    /// Validates one record (anything but its id's uniqueness); `cells` is
    /// scratch space reused across records.
    fn parse_row<'a>(
        mapping: Option<&Mapping>,
        name: &str,
        layout: &Layout,
        columns: Option<&'a [Vec<Option<String>>]>,
        raw: &'a RawRecord,
        cells: &mut Vec<Result<&'a str, ()>>,
    ) -> Result<ParsedRow<'a>, Box<Reject>> {
        cells.clear();
        match (columns, raw.parquet_row) {
            (Some(columns), Some(r)) => cells.extend(
                columns
                    .iter()
                    .map(|c| Ok(c.get(r).and_then(|v| v.as_deref()).unwrap_or(""))),
            ),
            _ => {
                let record = &raw.record;
                match std::str::from_utf8(record.as_slice()) {
                    // The record's bytes are valid as a whole: a field is
                    // valid exactly when it starts and ends on a character
                    // boundary (`get` checks both).
                    Ok(all) => cells.extend(
                        (0..record.len()).map(|i| record.range(i).and_then(|r| all.get(r)).ok_or(())),
                    ),
                    Err(_) => cells.extend(record.iter().map(|f| std::str::from_utf8(f).map_err(|_| ()))),
                }
            }
        }
        Reader::row(
            mapping,
            name,
            layout,
            raw.line,
            (cells.len(), raw.end_line),
            cells,
            &raw.record,
        )
    }

    /// Rejects a row whose id an earlier row of the run used; remembers it
    /// otherwise.
    fn first_use(&mut self, name: &str, line: u64, id: &str) -> Result<(), Box<Reject>> {
        let ordinal = self.stats.rows;
        let duplicate = match &self.replay {
            Some(list) => {
                while self.replay_pos < list.len() && list[self.replay_pos] < ordinal {
                    self.replay_pos += 1;
                }
                list.get(self.replay_pos) == Some(&ordinal)
            }
            None => self.seen_ids.contains(&fingerprint(id)),
        };
        if duplicate {
            if self.replay.is_none() {
                self.duplicates.push(ordinal);
            }
            return Err(Box::new(Reject {
                file: name.to_string(),
                line,
                shipment_id: cut(id, MAX_REJECT_VALUE),
                column: "shipment_id".to_string(),
                value: cut(id, MAX_REJECT_VALUE),
                reason_code: "DUPLICATE_ID".to_string(),
                reason: format!(
                    "{name}:{line}: shipment_id `{}` was already used by an earlier row (the first is kept)",
                    cut(id, 60)
                ),
            }));
        }
        if self.replay.is_none() {
            self.seen_ids.insert(fingerprint(id));
        }
        Ok(())
    }

    fn row<'a>(
        mapping: Option<&Mapping>,
        name: &str,
        layout: &Layout,
        line: u64,
        (nfields, end_line): (usize, u64),
        cells: &[Result<&'a str, ()>],
        raw: &csv::ByteRecord,
    ) -> Result<ParsedRow<'a>, Box<Reject>> {
        let reject = |id: &str, column: &str, value: &str, code: &str, reason: String| {
            Box::new(Reject {
                file: name.to_string(),
                line,
                shipment_id: cut(id, MAX_REJECT_VALUE),
                column: column.to_string(),
                value: cut(value, MAX_REJECT_VALUE),
                reason_code: code.to_string(),
                reason,
            })
        };
        let id_cell = layout.canon[Col::ShipmentId as usize].and_then(|i| cells.get(i));
        let id: &'a str = match id_cell {
            Some(Ok(s)) => s.trim(),
            _ => "",
        };
        if nfields != layout.ncols {
            let joined: Vec<String> = raw
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            let span = if end_line > line + 1 {
                format!(
                    " (the record spans lines {line}-{}; an unbalanced quote?)",
                    end_line - 1
                )
            } else {
                String::new()
            };
            return Err(reject(
                id,
                "",
                &joined.join(","),
                "RAGGED_ROW",
                format!(
                    "{name}:{line}: the record has {nfields} fields but the header has {}{span}",
                    layout.ncols
                ),
            ));
        }
        match id_cell {
            Some(Err(())) => {
                return Err(reject(
                    "",
                    "shipment_id",
                    &String::from_utf8_lossy(&raw[layout.canon[0].unwrap_or(0)]),
                    "INVALID_CORE",
                    format!("{name}:{line}: column shipment_id is not valid UTF-8"),
                ));
            }
            _ if id.is_empty() => {
                return Err(reject(
                    "",
                    "shipment_id",
                    "",
                    "EMPTY_ID",
                    format!("{name}:{line}: shipment_id is empty"),
                ))
            }
            _ => {}
        }
        let mut row = ParsedRow::new();
        for c in Col::ALL {
            let Some(i) = layout.canon[c as usize] else {
                continue;
            };
            let spec = c.spec();
            let raw_cell = &cells[i];
            let text = match raw_cell {
                Ok(s) => *s,
                Err(()) => {
                    let shown = String::from_utf8_lossy(&raw[i]).into_owned();
                    if spec.presence == Presence::Core {
                        return Err(reject(
                            id,
                            c.name(),
                            &shown,
                            "INVALID_CORE",
                            format!("{name}:{line}: column {} is not valid UTF-8", c.name()),
                        ));
                    }
                    row.invalid |= c.bit();
                    continue;
                }
            };
            if c == Col::ShipmentId {
                row.cells[c as usize] = Cell::Text(Cow::Borrowed(id));
                continue;
            }
            match validate(c, text, layout.mapped_label, mapping) {
                Ok(Cell::Empty) if spec.presence == Presence::Core => {
                    return Err(reject(
                        id,
                        c.name(),
                        "",
                        "MISSING_CORE",
                        format!(
                            "{name}:{line}: core column {} is empty; it must be {}",
                            c.name(),
                            spec.kind.accepts()
                        ),
                    ));
                }
                Ok(cell) => row.cells[c as usize] = cell,
                Err(why) if spec.presence == Presence::Core => {
                    return Err(reject(
                        id,
                        c.name(),
                        text,
                        "INVALID_CORE",
                        format!("{name}:{line}: column {}: {why}", c.name()),
                    ));
                }
                Err(_) => row.invalid |= c.bit(),
            }
        }
        let get = |p: &Option<usize>| -> &'a str {
            match p.and_then(|i| cells.get(i)) {
                Some(Ok(s)) if s.len() <= MAX_TEXT => s.trim(),
                _ => "",
            }
        };
        row.extra_cat = layout.extra_cat.iter().map(|p| Cow::Borrowed(get(p))).collect();
        row.extra_num = layout
            .extra_num
            .iter()
            .map(|p| domain::parse_number(get(p)).unwrap_or(f64::NAN))
            .collect();
        row.carry = layout
            .carry
            .iter()
            .map(|p| match p.and_then(|i| cells.get(i)) {
                Some(Ok(s)) => Cow::Borrowed(*s),
                Some(Err(())) => Cow::Owned(String::from_utf8_lossy(&raw[p.unwrap_or(0)]).into_owned()),
                None => Cow::Borrowed(""),
            })
            .collect();
        Ok(row)
    }
}

/// A shipment id's fingerprint: FxHash and SipHash-1-3 (fixed keys) side by side.
fn fingerprint(id: &str) -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let fx = rustc_hash::FxBuildHasher.hash_one(id);
    let mut sip = std::hash::DefaultHasher::new();
    sip.write(id.as_bytes());
    (u128::from(fx) << 64) | u128::from(sip.finish())
}

/// Appends a validated row to a batch.
fn push(b: &mut Batch, file: u32, line: u64, row: ParsedRow) {
    b.len += 1;
    b.file.push(file);
    b.line.push(line);
    b.invalid.push(row.invalid);
    for c in Col::ALL {
        let i = c as usize;
        match &row.cells[i] {
            Cell::Text(s) => b.text[i].push(s),
            Cell::Num(v) => b.num[i].push(*v),
            Cell::Empty if c.spec().kind.numeric() => b.num[i].push(f64::NAN),
            Cell::Empty => b.text[i].push(""),
        }
    }
    for (a, v) in b.extra_cat.iter_mut().zip(&row.extra_cat) {
        a.push(v);
    }
    for (a, v) in b.extra_num.iter_mut().zip(row.extra_num) {
        a.push(v);
    }
    for (a, v) in b.carry.iter_mut().zip(&row.carry) {
        a.push(v);
    }
}

/// One validated row, borrowing from the record it was read from.
struct ParsedRow<'a> {
    /// Indexed by `Col as usize`.
    cells: [Cell<'a>; 32],
    invalid: u64,
    extra_cat: Vec<Cow<'a, str>>,
    extra_num: Vec<f64>,
    carry: Vec<Cow<'a, str>>,
}

impl<'a> ParsedRow<'a> {
    fn new() -> ParsedRow<'a> {
        ParsedRow {
            cells: std::array::from_fn(|_| Cell::Empty),
            invalid: 0,
            extra_cat: Vec::new(),
            extra_num: Vec::new(),
            carry: Vec::new(),
        }
    }
}
