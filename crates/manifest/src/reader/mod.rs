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
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Result;
use polars::prelude::*;
use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::domain;
use crate::error::InputError;
use crate::mapping::Mapping;
use crate::schema::{Col, Presence};

mod cells;
mod layout;
mod records;
mod rejects;

pub use self::cells::MAX_TEXT;
pub use self::rejects::{Reject, RejectCode, RejectSink, MAX_REJECT_VALUE, REJECT_COLUMNS};

/// Inputs larger than this (bytes on disk, standard input once saved) are
/// read twice from the start: holding their first rows until the row limit
/// is passed would only raise the run's peak memory (by about 0.8 GB).
/// A million generated CSV lines take about 310 MB.
pub const IN_MEMORY_BYTES: u64 = 400_000_000;

use self::cells::{validate, Cell, ParsedRow};
use self::layout::{header_names, layout_for, Layout};
use self::records::{validate_round, RawRecord, Records, Round};
use crate::batch::Batch;
use crate::par;
use crate::safe_text::cut;

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

enum Source {
    Csv(Records),
    /// A columnar input (Parquet, or a frame handed over in memory): every
    /// needed column as text.
    Columns {
        columns: TextColumns,
        height: usize,
        pos: usize,
    },
}

/// A columnar input's cells as text: one array a header position, `None`
/// for a column the run does not read (its cells read as empty).
pub(super) struct TextColumns(Vec<Option<TextColumn>>);

/// One column's chunks as text, and the row each chunk starts at.
struct TextColumn {
    text: StringChunked,
    starts: Vec<usize>,
}

impl TextColumn {
    fn new(text: StringChunked) -> TextColumn {
        let starts = text
            .chunks()
            .iter()
            .scan(0usize, |at, c| {
                let start = *at;
                *at += c.len();
                Some(start)
            })
            .collect();
        TextColumn { text, starts }
    }

    /// Row `row`'s cell; empty where it is null or past the column's end.
    fn get(&self, row: usize) -> &str {
        let k = self.starts.partition_point(|&s| s <= row).saturating_sub(1);
        let (Some(chunk), Some(start)) = (self.text.downcast_get(k), self.starts.get(k)) else {
            return "";
        };
        let i = row - start;
        if i < chunk.len() {
            chunk.get(i).unwrap_or("")
        } else {
            ""
        }
    }
}

impl TextColumns {
    /// Each column the layout reads, cast to text (its chunks kept: a
    /// cell is found by its row through them).
    fn of(name: &str, df: &DataFrame, header: &[String], layout: &Layout) -> Result<TextColumns> {
        let mut columns = Vec::with_capacity(header.len());
        for (i, c) in df.columns().iter().enumerate() {
            let needed = layout.canon.contains(&Some(i))
                || layout.extra_cat.contains(&Some(i))
                || layout.extra_num.contains(&Some(i))
                || layout.carry.contains(&Some(i));
            if !needed {
                columns.push(None);
                continue;
            }
            let s = c.cast(&DataType::String).map_err(|e| {
                InputError::Unreadable(format!(
                    "{name}: column `{}` cannot be read as text: {e}",
                    header[i]
                ))
            })?;
            let ca = s
                .str()
                .map_err(|e| InputError::Unreadable(format!("{name}: column `{}`: {e}", header[i])))?;
            columns.push(Some(TextColumn::new(ca.clone())));
        }
        Ok(TextColumns(columns))
    }

    /// Row `row`'s cells, in header order.
    pub(super) fn row(&self, row: usize) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(move |c| c.as_ref().map_or("", |c| c.get(row)))
    }
}

/// Accepted rows a chunk holds by default (`score --chunk-rows`).
pub const CHUNK_ROWS: usize = 50_000;

/// Rows of a columnar input validated in parallel at a time: as many as a
/// default chunk, so that a chunk without rejects is one round, taken whole
/// without copying.
const ROUND: usize = CHUNK_ROWS;

/// Records of a CSV input read, then validated in parallel, at a time:
/// half a default chunk. The raw records of the rounds in flight are the
/// reader's largest buffers (about 0.9 KB a record); a chunk without
/// rejects is two rounds, the second appended once to the first (whose
/// columns then double to about the chunk's size).
const CSV_ROUND: usize = CHUNK_ROWS / 2;

struct OpenFile {
    index: u32,
    source: Source,
    layout: Layout,
    /// A round the last chunk did not use up.
    pending: Option<Round>,
}

/// One input: a path, `-` for stdin, or a frame already in memory.
#[derive(Debug, Clone)]
pub enum Input {
    Stdin,
    Path(PathBuf),
    /// Standard input saved to a file so it can be read more than once;
    /// messages still call it `<stdin>`.
    Spooled(PathBuf),
    /// A table handed over in memory (the Python package's batches), read
    /// as a Parquet file's columns are; messages call it by `name`, its
    /// rows numbered from 1.
    Frame {
        name: String,
        frame: DataFrame,
    },
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
            Input::Frame { name, .. } => name.clone(),
        }
    }

    fn is_parquet(&self) -> bool {
        match self {
            Input::Stdin | Input::Spooled(_) | Input::Frame { .. } => false,
            Input::Path(p) => p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq")),
        }
    }
}

/// Bytes of the inputs on disk (standard input counts 0).
pub fn input_bytes(inputs: &[Input]) -> u64 {
    inputs
        .iter()
        .map(|i| match i {
            Input::Path(p) | Input::Spooled(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
            Input::Stdin | Input::Frame { .. } => 0,
        })
        .sum()
}

/// Reads every chunk of up to `chunk_rows` rows on a reading thread (so
/// reading and validating overlap with the work on each chunk) and hands
/// each to `f`, in order; returns the reader when every input is done, or
/// the first error of either side.
pub fn stream(reader: Reader, chunk_rows: usize, f: &mut dyn FnMut(Batch) -> Result<()>) -> Result<Reader> {
    std::thread::scope(|scope| -> Result<Reader> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(2);
        let reading = scope.spawn(move || -> Result<Reader> {
            let mut reader = reader;
            while let Some(b) = reader.next_chunk(chunk_rows)? {
                if tx.send(b).is_err() {
                    break;
                }
            }
            Ok(reader)
        });
        let mut failed = None;
        for b in rx {
            if let Err(e) = f(b) {
                failed = Some(e);
                break;
            }
        }
        let reader = reading
            .join()
            .map_err(|_| anyhow::anyhow!("the reading thread failed"))?;
        match failed {
            Some(e) => Err(e),
            None => reader,
        }
    })
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

impl Reader {
    /// Opens every input and reads its header. A file lacking a core column,
    /// an empty file or an unreadable one is refused (an [`InputError`]).
    pub fn open(inputs: &[Input], mapping: Option<Mapping>, rejects: Option<RejectSink>) -> Result<Reader> {
        let mut r = Reader::new(mapping, rejects);
        for input in inputs {
            let name = input.display();
            let open = |p: &Path| {
                File::open(p).map_err(|e| InputError::Unreadable(format!("{name}: cannot open: {e}")))
            };
            match input {
                Input::Frame { frame, .. } => r.add_columns(&name, frame)?,
                Input::Path(p) if input.is_parquet() => r.add_parquet(&name, p)?,
                Input::Path(p) | Input::Spooled(p) => r.add_csv(&name, Box::new(open(p)?))?,
                Input::Stdin => r.add_csv(&name, Box::new(std::io::stdin()))?,
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
            .map_err(|e| InputError::Unreadable(format!("{name}: cannot read the header: {e}")))?
            .clone();
        if raw.is_empty() || (raw.len() == 1 && raw[0].is_empty()) {
            return Err(
                InputError::Layout(format!("{name}: the file is empty (a header row is required)")).into(),
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
        let f = File::open(path).map_err(|e| InputError::Unreadable(format!("{name}: cannot open: {e}")))?;
        let df = ParquetReader::new(f)
            .finish()
            .map_err(|e| InputError::Unreadable(format!("{name}: not a readable Parquet file: {e}")))?;
        self.add_columns(name, &df)
    }

    /// A columnar input (a Parquet file's frame, or one handed over in
    /// memory): its columns as text, validated row by row as a CSV's are.
    fn add_columns(&mut self, name: &str, df: &DataFrame) -> Result<()> {
        let header: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
        if header.is_empty() {
            return Err(InputError::Layout(format!("{name}: the table has no columns")).into());
        }
        let layout = self.register(name, &header)?;
        let columns = TextColumns::of(name, df, &header, &layout)?;
        let index = (self.file_names.len() - 1) as u32;
        self.pending.push((
            index,
            Source::Columns {
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
            Source::Columns { columns, height, pos } => {
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
                let columns = Some(&*columns);
                let half = raws.len().div_ceil(2);
                // Two halves validated in parallel, joined in order.
                let parts: Vec<&[RawRecord]> = raws.chunks(half.max(1)).collect();
                let mut halves: Vec<Round> = par::map_all(parts, 2, |part| {
                    validate_round(mapping, name, layout, columns, index, part)
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
                        .entry(rej.reason_code.to_string())
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
        columns: Option<&'a TextColumns>,
        raw: &'a RawRecord,
        cells: &mut Vec<Result<&'a str, ()>>,
    ) -> Result<ParsedRow<'a>, Box<Reject>> {
        cells.clear();
        match (columns, raw.parquet_row) {
            (Some(columns), Some(r)) => cells.extend(columns.row(r).map(Ok)),
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
                reason_code: RejectCode::DuplicateId,
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
        let at = RowAt {
            mapping,
            name,
            layout,
            line,
            cells,
            raw,
        };
        let id_cell = layout.canon[Col::ShipmentId as usize].and_then(|i| cells.get(i));
        let id: &'a str = match id_cell {
            Some(Ok(s)) => s.trim(),
            _ => "",
        };
        if nfields != layout.ncols {
            return Err(at.ragged(id, nfields, end_line));
        }
        at.check_id(id_cell, id)?;
        let mut row = ParsedRow::new();
        at.canonical_cells(id, &mut row)?;
        at.extra_cells(&mut row);
        Ok(row)
    }
}

/// One record being validated: where it is and its cells.
struct RowAt<'r, 'a> {
    mapping: Option<&'r Mapping>,
    name: &'r str,
    layout: &'r Layout,
    line: u64,
    cells: &'r [Result<&'a str, ()>],
    raw: &'r csv::ByteRecord,
}

impl<'a> RowAt<'_, 'a> {
    fn reject(&self, id: &str, column: &str, value: &str, code: RejectCode, reason: String) -> Box<Reject> {
        Box::new(Reject {
            file: self.name.to_string(),
            line: self.line,
            shipment_id: cut(id, MAX_REJECT_VALUE),
            column: column.to_string(),
            value: cut(value, MAX_REJECT_VALUE),
            reason_code: code,
            reason,
        })
    }

    /// A record with another number of fields than the header.
    fn ragged(&self, id: &str, nfields: usize, end_line: u64) -> Box<Reject> {
        let (name, line) = (self.name, self.line);
        let joined: Vec<String> = self
            .raw
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
        self.reject(
            id,
            "",
            &joined.join(","),
            RejectCode::RaggedRow,
            format!(
                "{name}:{line}: the record has {nfields} fields but the header has {}{span}",
                self.layout.ncols
            ),
        )
    }

    /// The shipment id must be valid text and not empty.
    fn check_id(&self, id_cell: Option<&Result<&'a str, ()>>, id: &str) -> Result<(), Box<Reject>> {
        let (name, line) = (self.name, self.line);
        match id_cell {
            Some(Err(())) => Err(self.reject(
                "",
                "shipment_id",
                &String::from_utf8_lossy(&self.raw[self.layout.canon[0].unwrap_or(0)]),
                RejectCode::InvalidCore,
                format!("{name}:{line}: column shipment_id is not valid UTF-8"),
            )),
            _ if id.is_empty() => Err(self.reject(
                "",
                "shipment_id",
                "",
                RejectCode::EmptyId,
                format!("{name}:{line}: shipment_id is empty"),
            )),
            _ => Ok(()),
        }
    }

    /// Every canonical column's cell validated: a bad core cell rejects the
    /// row, any other bad cell is emptied and marked invalid.
    fn canonical_cells(&self, id: &'a str, row: &mut ParsedRow<'a>) -> Result<(), Box<Reject>> {
        let (name, line) = (self.name, self.line);
        for c in Col::ALL {
            let Some(i) = self.layout.canon[c as usize] else {
                continue;
            };
            let spec = c.spec();
            let text = match &self.cells[i] {
                Ok(s) => *s,
                Err(()) => {
                    let shown = String::from_utf8_lossy(&self.raw[i]).into_owned();
                    if spec.presence == Presence::Core {
                        return Err(self.reject(
                            id,
                            c.name(),
                            &shown,
                            RejectCode::InvalidCore,
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
            match validate(c, text, self.layout.mapped_label, self.mapping) {
                Ok(Cell::Empty) if spec.presence == Presence::Core => {
                    return Err(self.reject(
                        id,
                        c.name(),
                        "",
                        RejectCode::MissingCore,
                        format!(
                            "{name}:{line}: core column {} is empty; it must be {}",
                            c.name(),
                            spec.kind.accepts()
                        ),
                    ));
                }
                Ok(cell) => row.cells[c as usize] = cell,
                Err(why) if spec.presence == Presence::Core => {
                    return Err(self.reject(
                        id,
                        c.name(),
                        text,
                        RejectCode::InvalidCore,
                        format!("{name}:{line}: column {}: {why}", c.name()),
                    ));
                }
                Err(_) => row.invalid |= c.bit(),
            }
        }
        Ok(())
    }

    /// The mapping's feature columns and the columns carried through.
    fn extra_cells(&self, row: &mut ParsedRow<'a>) {
        let (cells, raw) = (self.cells, self.raw);
        let get = |p: &Option<usize>| -> &'a str {
            match p.and_then(|i| cells.get(i)) {
                Some(Ok(s)) if s.len() <= MAX_TEXT => s.trim(),
                _ => "",
            }
        };
        row.extra_cat = self
            .layout
            .extra_cat
            .iter()
            .map(|p| Cow::Borrowed(get(p)))
            .collect();
        row.extra_num = self
            .layout
            .extra_num
            .iter()
            .map(|p| domain::parse_number(get(p)).unwrap_or(f64::NAN))
            .collect();
        row.carry = self
            .layout
            .carry
            .iter()
            .map(|p| match p.and_then(|i| cells.get(i)) {
                Some(Ok(s)) => Cow::Borrowed(*s),
                Some(Err(())) => Cow::Owned(String::from_utf8_lossy(&raw[p.unwrap_or(0)]).into_owned()),
                None => Cow::Borrowed(""),
            })
            .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "shipment_id,export_date,usppi_name,ultimate_consignee_country,hs_code,description,value_usd,shipping_weight_kg,package_count";

    /// Reads CSV text (after [`HEADER`]); returns the batch and the rejects.
    fn read(body: &[u8]) -> (Batch, Vec<Reject>) {
        let mut text = format!("{HEADER}\n").into_bytes();
        text.extend_from_slice(body);
        let mut r =
            Reader::from_csv_reader("t.csv", Box::new(std::io::Cursor::new(text)), None, None).unwrap();
        let b = r.read_all().unwrap();
        (b, r.stats.first_rejects.clone())
    }

    fn one_reject(body: &[u8]) -> Reject {
        let (b, rejects) = read(body);
        assert_eq!((b.len, rejects.len()), (0, 1), "{rejects:?}");
        rejects.into_iter().next().unwrap()
    }

    #[test]
    fn a_good_row_is_read_and_an_invalid_optional_cell_emptied() {
        let (b, rejects) = read(b"S1,2024-07-01,Acme,SG,8471.50.0150,GPU server,1200.5,30,x\n");
        assert!(rejects.is_empty(), "{rejects:?}");
        assert_eq!(b.len, 1);
        assert_eq!(&b.text(Col::ShipmentId)[0], "S1");
        assert_eq!(&b.text(Col::HsCode)[0], "8471500150");
        assert_eq!(b.num(Col::ValueUsd)[0], 1200.5);
        assert!(b.num(Col::PackageCount)[0].is_nan());
        assert_eq!(b.invalid[0], Col::PackageCount.bit());
        assert_eq!(b.line[0], 2);
    }

    #[test]
    fn a_ragged_row_names_its_fields_and_the_lines_it_spans() {
        let r = one_reject(b"S1,2024-07-01,Acme,SG\n");
        assert_eq!(r.reason_code, RejectCode::RaggedRow);
        assert_eq!((r.line, r.shipment_id.as_str()), (2, "S1"));
        assert_eq!(r.reason, "t.csv:2: the record has 4 fields but the header has 9");
        let r = one_reject(b"S1,2024-07-01,\"Acme\nCorp,SG,847150,x,1,2\n");
        assert_eq!(r.reason_code, RejectCode::RaggedRow);
        assert!(
            r.reason
                .ends_with("(the record spans lines 2-3; an unbalanced quote?)"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn the_shipment_id_must_be_text_and_given() {
        let r = one_reject(b",2024-07-01,Acme,SG,847150,GPU,1,2,1\n");
        assert_eq!(r.reason_code, RejectCode::EmptyId);
        assert_eq!(r.reason, "t.csv:2: shipment_id is empty");
        let r = one_reject(b"S\xff1,2024-07-01,Acme,SG,847150,GPU,1,2,1\n");
        assert_eq!(r.reason_code, RejectCode::InvalidCore);
        assert_eq!(
            (r.column.as_str(), r.value.as_str()),
            ("shipment_id", "S\u{fffd}1")
        );
    }

    #[test]
    fn a_core_cell_empty_or_invalid_rejects_the_row() {
        let r = one_reject(b"S1,2024-07-01,Acme,SG,847150,GPU,,2,1\n");
        assert_eq!(r.reason_code, RejectCode::MissingCore);
        assert_eq!(r.column, "value_usd");
        assert!(
            r.reason
                .starts_with("t.csv:2: core column value_usd is empty; it must be "),
            "{}",
            r.reason
        );
        let r = one_reject(b"S1,2024-13-45,Acme,SG,847150,GPU,1,2,1\n");
        assert_eq!(r.reason_code, RejectCode::InvalidCore);
        assert_eq!(
            (r.column.as_str(), r.value.as_str()),
            ("export_date", "2024-13-45")
        );
        assert!(
            r.reason.starts_with("t.csv:2: column export_date: "),
            "{}",
            r.reason
        );
        let r = one_reject(b"S1,2024-07-01,Acme,SG,847150,GPU,1,-2,1\n");
        assert_eq!(
            (r.reason_code, r.column.as_str()),
            (RejectCode::InvalidCore, "shipping_weight_kg")
        );
    }

    #[test]
    fn a_repeated_shipment_id_is_rejected_after_its_first_row() {
        let (b, rejects) =
            read(b"S1,2024-07-01,Acme,SG,847150,GPU,1,2,1\nS1,2024-07-02,Acme,SG,847150,GPU,1,2,1\n");
        assert_eq!(b.len, 1);
        assert_eq!(rejects.len(), 1);
        assert_eq!(
            (rejects[0].reason_code, rejects[0].line),
            (RejectCode::DuplicateId, 3)
        );
    }
}
