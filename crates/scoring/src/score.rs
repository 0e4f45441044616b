//! Scoring a run, streamed: every input row is either scored or rejected,
//! with bounded memory whatever the batch size. Rows flow one way:
//!
//! 1. read and validate every chunk (a reading thread; records validated in
//!    parallel), write rejects, collect each row's party keys (interned), so
//!    the run's histories can be computed in export_date order before any
//!    row is scored;
//! 2. the chunks again (held when the run has at most
//!    [`IN_MEMORY_ROWS`] rows, read again otherwise): features -> likely
//!    cargo -> risk, two chunks in parallel; rows that can still end up
//!    among those given reasons are kept aside, pruned as the floor rises;
//! 3. rank the whole run, explain the kept rows ranked within the reason
//!    depth, then the chunks once more to write the output in input order.
//!
//! Only the keys, the history figures and a few figures of every row are
//! held at once (tens of bytes a row); rows themselves are held a chunk at a
//! time, plus the rows kept for reasons.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::cases::{self, Cases, FlaggedLine, RunParties};
use crate::keep::{Candidates, TopK};
use crate::listing::{Collect, RunList, RunMatches, LISTED_PARTY};
use crate::rows::{Chunks, Explained, Format, Output, RowFigures, WORKERS};
use crate::scored::{output_names, write_rows, OutputRows};
use sentinel_detect::catstats::{BatchStats, BatchStatsBuilder};
use sentinel_detect::features;
use sentinel_detect::metrics::order_desc;
use sentinel_detect::model::labelfree::LabelFree;
use sentinel_detect::model::Model;
use sentinel_detect::pipeline::{self, Mode, Scoring};
use sentinel_detect::reasons;
use sentinel_detect::run_sample::{self, RunSample};
use sentinel_manifest::batch::Batch;
use sentinel_manifest::domain::Budget;
use sentinel_manifest::mapping::Mapping;
use sentinel_manifest::par;
use sentinel_manifest::reader::{Input, Reader, Reject, RejectSink};
use sentinel_manifest::schema::Col;
use sentinel_manifest::tables::Tables;
use sentinel_parties::history::{self, HistFeatures};
use sentinel_parties::keys::{PartyId, RowKeys};
use sentinel_parties::spilled::RunHistories;

/// How rows are flagged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlagRule {
    Budget(Budget),
    /// Flag rows with risk_score >= this.
    Threshold(f64),
}

impl FlagRule {
    /// The rule of a budget or a threshold (at most one; neither: 1%).
    pub fn of(budget: Option<Budget>, threshold: Option<f64>) -> Result<FlagRule, String> {
        match (budget, threshold) {
            (Some(_), Some(_)) => Err("give a budget or a threshold, not both".to_string()),
            (_, Some(t)) if !(0.0..=1.0).contains(&t) => {
                Err(format!("threshold {t} must be between 0 and 1"))
            }
            (_, Some(t)) => Ok(FlagRule::Threshold(t)),
            (Some(b), None) => Ok(FlagRule::Budget(b)),
            (None, None) => Ok(FlagRule::Budget(Budget::Percent(1.0))),
        }
    }

    /// A risk a threshold flags whatever its rank.
    fn over(self, risk: f64) -> bool {
        matches!(self, FlagRule::Threshold(th) if risk >= th)
    }
}

/// Reasons are written for every row ranked within this many times the
/// number flagged (at least [`REASON_MIN`] rows), and for some rows below
/// them: those that were that high when they were read.
pub const REASON_DEPTH: usize = 2;
pub const REASON_MIN: usize = 100;

/// Runs of up to this many accepted rows keep their chunks in memory
/// between the passes instead of reading the inputs twice.
pub const IN_MEMORY_ROWS: usize = 1_000_000;

/// Told the stage and the rows done so far.
pub type Progress = Box<dyn Fn(&str, u64)>;

/// What a run reads and writes.
pub struct RunConfig {
    pub inputs: Vec<Input>,
    pub mapping: Option<Mapping>,
    pub rejects: RejectsTo,
    pub mode: Mode,
    pub rule: FlagRule,
    pub keep_columns: bool,
    /// Accepted rows per chunk (`score`'s default: [`sentinel_manifest::reader::CHUNK_ROWS`]).
    pub chunk_rows: usize,
    /// Runs up to this many rows are read once and held (default
    /// [`IN_MEMORY_ROWS`]); larger ones are read a second time.
    pub in_memory_rows: usize,
    /// Directory for temporary files (standard input saved; the output's directory).
    pub temp_dir: PathBuf,
    /// Called with rows done, for progress bars.
    pub progress: Progress,
    /// The party store the run's histories start from and are written to
    /// (`score --parties`); committed by the caller once the output is
    /// written.
    pub parties: Option<Arc<sentinel_parties::store::PartyStore>>,
    /// Restricted-party lists the run's parties are screened against
    /// (`score --list`): a match raises the line's score, joins the
    /// entry's flagged lines into one case and leads its reasons.
    pub list: Option<RunList>,
    /// Rows given reasons whatever their rank, by shipment_id (the Python
    /// package's `explain`); empty for the command line.
    pub explain: FxHashSet<String>,
}

/// Where a run's rejected rows go.
#[derive(Debug, Clone)]
pub enum RejectsTo {
    /// The rejects file (the command line).
    File(PathBuf),
    /// Kept for the caller, in input order (the Python package).
    Memory(Arc<Mutex<Vec<Reject>>>),
}

impl RejectsTo {
    fn sink(&self) -> Result<RejectSink> {
        match self {
            RejectsTo::File(p) => RejectSink::create(p),
            RejectsTo::Memory(rows) => Ok(RejectSink::memory(Arc::clone(rows))),
        }
    }

    /// As the summary names it.
    fn display(&self) -> String {
        match self {
            RejectsTo::File(p) => p.display().to_string(),
            RejectsTo::Memory(_) => String::new(),
        }
    }
}

/// The run's summary (stderr, and `--summary-json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub rows_read: u64,
    pub rejected: u64,
    pub scored: u64,
    pub flagged: u64,
    pub flagged_declared_value_usd: f64,
    pub seconds: f64,
    pub rows_per_second: f64,
    pub model_id: String,
    pub mode: String,
    pub rule: String,
    pub rejects_file: String,
    pub disabled_features: Vec<String>,
    pub invalid_cells_by_column: std::collections::BTreeMap<String, u64>,
    pub top: Vec<TopRow>,
    /// How far the run is from the model's training data.
    pub drift: sentinel_detect::drift::Drift,
    /// Restricted-party screening, when the run had lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listed: Option<ListedSummary>,
}

/// What a run's screening found (`score --list`).
#[derive(Debug, Clone, Serialize)]
pub struct ListedSummary {
    /// Distinct party names screened.
    pub party_names: usize,
    /// Lines with a party matching an entry, and the entries matched.
    pub lines: usize,
    pub entries: usize,
    /// Listed lines among the flagged.
    pub flagged: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopRow {
    pub rank: usize,
    pub shipment_id: String,
    pub risk_score: f64,
    pub first_reason: String,
}

/// A temporary file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Saves standard input to a temporary file so the run can read it again.
fn spool_stdin(dir: &Path) -> Result<TempFile> {
    let p = dir.join(format!(".sentinel-stdin-{}.csv", std::process::id()));
    let t = TempFile(p.clone());
    let mut f =
        BufWriter::new(std::fs::File::create(&p).with_context(|| format!("cannot create {}", p.display()))?);
    std::io::copy(&mut std::io::stdin().lock(), &mut f).context("cannot read standard input")?;
    f.flush()?;
    Ok(t)
}

/// With `SENTINEL_TIMINGS` set: a stage's end time and the process's
/// resident and peak memory, on stderr.
fn report_stage(name: &str, seconds: f64) {
    let mem = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        mem.lines()
            .find(|l| l.starts_with(k))
            .map_or(String::new(), |l| l[k.len()..].trim().to_string())
    };
    // CPU seconds so far (user + system), from /proc/self/stat's fields
    // 14 and 15, in clock ticks (100 a second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |x| x.1);
    let ticks: f64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    eprintln!(
        "[timing] {name}: {seconds:.2} s, cpu {:.2} s (resident {}, peak {})",
        ticks / 100.0,
        field("VmRSS:"),
        field("VmHWM:")
    );
}

/// What pass 1 leaves: the reader (its counts, duplicates and layout), each
/// row's party keys, and the chunks themselves with their declaration facts
/// when the run is small enough to hold.
struct ReadPass {
    reader: Reader,
    keys: RowKeys,
    /// The run's typical figures per HS6 code (its lines are each other's peers).
    batch: Arc<BatchStats>,
    held: Option<Vec<Batch>>,
    held_declared: Vec<features::Declared>,
    /// A uniform sample of the run's rows, for the label-free score's tails
    /// (kept only when the run scores label-free).
    sample: Option<RunSample>,
    /// The lines whose parties match the run's lists.
    listed: Option<RunMatches>,
}

/// What pass 2 leaves: a few figures of every row, and the rows that may
/// need reasons.
struct ScorePass {
    rows: RowFigures,
    candidates: Candidates,
    /// How far the run is from the model's training data.
    drift: sentinel_detect::drift::Drift,
    /// Rows ranked within this many get reasons.
    reason_rows: usize,
    /// Rows given reasons whatever their rank (`RunConfig::explain`).
    asked: FxHashSet<usize>,
}

/// The run's ranks and how many rows a budget flags.
struct Ranking {
    rank: Vec<u32>,
    k_flag: usize,
}

/// One scoring run: its configuration, inputs (standard input saved first)
/// and clock, with one method per pass. Data flows one way: [`Self::read`]
/// -> [`Self::histories`] -> [`Self::score`] -> [`Self::rank`] ->
/// [`Self::explain`] -> [`Self::write`] -> [`Self::summary`].
struct ScoreRun<'m> {
    model: &'m Model,
    cfg: RunConfig,
    /// The inputs as read (standard input replaced by its saved copy).
    inputs: Vec<Input>,
    /// Standard input's saved copies, removed when the run ends.
    spooled: Vec<TempFile>,
    started: std::time::Instant,
    timing: bool,
    n_cat: usize,
}

/// A chunk for pass 2: its rows, its declaration facts when they were
/// kept from pass 1, and its first row's position in the run.
type Job<'h> = (std::borrow::Cow<'h, Batch>, Option<features::Declared>, usize);

impl<'m> ScoreRun<'m> {
    /// Saves standard input (so the run can read it again) and starts the clock.
    fn start(model: &'m Model, cfg: RunConfig) -> Result<ScoreRun<'m>> {
        let started = std::time::Instant::now();
        let mut spooled: Vec<TempFile> = Vec::new();
        let inputs: Vec<Input> = cfg
            .inputs
            .iter()
            .map(|i| match i {
                Input::Stdin => {
                    let tmp = spool_stdin(&cfg.temp_dir)?;
                    let p = tmp.0.clone();
                    spooled.push(tmp);
                    Ok(Input::Spooled(p))
                }
                other => Ok(other.clone()),
            })
            .collect::<Result<_>>()?;
        Ok(ScoreRun {
            model,
            cfg,
            inputs,
            spooled,
            started,
            timing: std::env::var_os("SENTINEL_TIMINGS").is_some(),
            n_cat: Tables::get().n_categories(),
        })
    }

    /// With `SENTINEL_TIMINGS`: a stage's end on stderr.
    fn stage(&self, name: &str) {
        if self.timing {
            report_stage(name, self.started.elapsed().as_secs_f64());
        }
    }

    /// The run's chunks again: the held ones, or the inputs read once more.
    fn chunks(&self, pass1: &ReadPass) -> Result<Chunks> {
        Ok(match &pass1.held {
            Some(_) => Chunks::Held(0),
            None => Chunks::Reread(Box::new(Reader::replay(
                &self.inputs,
                self.cfg.mapping.clone(),
                pass1.reader.duplicates().to_vec(),
            )?)),
        })
    }

    /// Pass 1: read and validate every chunk (on a reading thread), write
    /// rejects, collect each row's party keys; hold the chunks while the
    /// run is small enough.
    fn read(&self) -> Result<ReadPass> {
        let (model, cfg) = (self.model, &self.cfg);
        let sink = cfg.rejects.sink()?;
        let reader = Reader::open(&self.inputs, cfg.mapping.clone(), Some(sink))?;
        let mut keys = RowKeys::default();
        let mut batch = BatchStatsBuilder::new(false);
        let input_bytes = sentinel_manifest::reader::input_bytes(&self.inputs);
        let mut held: Option<Vec<Batch>> =
            (input_bytes <= sentinel_manifest::reader::IN_MEMORY_BYTES).then(Vec::new);
        // The held chunks' declaration facts, for pass 2 (in chunk order).
        let mut held_declared: Vec<features::Declared> = Vec::new();
        let mut sample = (cfg.mode == Mode::LabelFree).then(|| RunSample::new(run_sample::SIZE));
        // The parties are screened on a thread of their own, from a copy
        // of each chunk's party columns.
        let (mut reader, listed) = std::thread::scope(|scope| -> Result<_> {
            let (to_screen, chunks) = std::sync::mpsc::sync_channel::<(usize, Batch)>(2);
            let screened = sentinel_parties::screen::filed::columns();
            let screening = cfg.list.as_ref().map(|list| {
                scope.spawn(move || {
                    let mut c = Collect::new(list);
                    for (start, b) in chunks {
                        c.add(&b, start);
                    }
                    c
                })
            });
            // One thread reads and validates, this one collects the keys.
            let reader = sentinel_manifest::reader::stream(reader, cfg.chunk_rows, &mut |b| {
                let d = features::declared(&b, &model.parts.text);
                let anomaly = features::anomaly(&d, &model.parts.stats);
                if screening.is_some() {
                    to_screen
                        .send((keys.len(), b.text_columns(&screened)))
                        .map_err(|_| anyhow::anyhow!("the screening thread failed"))?;
                }
                keys.append(&b, &d.category, &d.hs6, &anomaly);
                batch.add(&b.file, &d.hs6, &d.physical);
                if let Some(s) = sample.as_mut() {
                    s.add(&b);
                }
                (cfg.progress)("read", keys.len() as u64);
                if keys.len() > cfg.in_memory_rows {
                    held = None;
                    held_declared = Vec::new();
                }
                if let Some(h) = held.as_mut() {
                    h.push(b);
                    held_declared.push(d);
                }
                Ok(())
            });
            drop(to_screen);
            let listed = screening
                .map(|h| {
                    h.join()
                        .map_err(|_| anyhow::anyhow!("the screening thread failed"))
                })
                .transpose()?;
            Ok((reader?, listed))
        })?;
        reader.finish()?;
        reader.forget_ids();
        sentinel_manifest::teardown::collect();
        self.stage("pass 1 (read, validate)");
        let listed = listed.map(|l| l.finish(keys.len()));
        Ok(ReadPass {
            listed,
            reader,
            keys,
            batch: Arc::new(batch.finish()),
            held,
            held_declared,
            sample,
        })
    }

    /// The label-free score's tails for this run: fitted on its sampled
    /// rows (their evidence computed with the run's histories), or the
    /// model's own when the run scores supervised.
    fn tails(&self, pass1: &mut ReadPass, hist: &RunHistories) -> Result<Cow<'m, LabelFree>> {
        let parts = &self.model.parts;
        // Pass 1 keeps a sample exactly when the run scores label-free,
        // which is when the tails read it.
        let frame = match pass1.sample.take().map(RunSample::finish) {
            Some((rows, at)) => {
                let h = hist.select(&at, self.n_cat)?;
                let declared = features::declared(&rows, &parts.text);
                pipeline::evidence_from(parts, &rows, declared, &h, Some(Arc::clone(&pass1.batch))).frame
            }
            None => features::Frame::default(),
        };
        let tails = pipeline::run_labelfree(parts, self.cfg.mode, || frame);
        self.stage("label-free tails");
        Ok(tails)
    }

    /// The run's party histories, in export_date order, from the keys:
    /// from the model's profiles, or from the party store's over them (and
    /// the run's parties written back to it). Each row's address and
    /// intermediate ids are kept too, for the cases. A run read twice
    /// keeps its figures on disk ([`RunHistories::spill`]) until they are
    /// read back chunk by chunk.
    fn histories(&self, mut keys: RowKeys, spill: bool) -> Result<(RunHistories, [Vec<Option<PartyId>>; 2])> {
        let kept = [keys.address.clone(), std::mem::take(&mut keys.intermediate)];
        let hist = match &self.cfg.parties {
            None => history::features(&self.model.profiles, keys, self.n_cat),
            Some(store) => {
                if let (Some(last), Some(first)) = (store.last_date()?, keys.date.iter().min()) {
                    if *first < last {
                        eprintln!(
                            "score: warning: this batch holds lines dated before the party store's latest ({}): their histories include the later lines already stored; score batches in date order",
                            sentinel_manifest::domain::Date(last)
                        );
                    }
                }
                let h = store.histories(&self.model.profiles, &mut keys, self.n_cat)?;
                drop(keys);
                h
            }
        };
        let hist = if spill {
            RunHistories::spill(hist, self.n_cat, &self.cfg.temp_dir)?
        } else {
            RunHistories::Held(hist)
        };
        sentinel_manifest::teardown::collect();
        self.stage("histories");
        Ok((hist, kept))
    }

    /// How many rows the rule flags by rank (a threshold flags by score).
    fn flag_count(&self, n: usize) -> usize {
        match self.cfg.rule {
            FlagRule::Budget(b) => b.rows(n),
            FlagRule::Threshold(_) => 0,
        }
    }

    /// Pass 2: features -> likely cargo -> risk, chunk by chunk on two
    /// workers, taken in input order; keeps a few figures of every row and
    /// the rows that may still need reasons (pruned as the floor rises).
    fn score<'p>(
        &self,
        pass1: &'p mut ReadPass,
        hist: &RunHistories,
        scoring: Scoring<'_>,
    ) -> Result<ScorePass> {
        let (model, cfg, n_cat) = (self.model, &self.cfg, self.n_cat);
        let n = hist.len();
        let mut declared_of_held = std::mem::take(&mut pass1.held_declared).into_iter();
        let pass1: &'p ReadPass = pass1;
        let mut again = self.chunks(pass1)?;
        let held = pass1.held.as_deref();
        let mut rows = RowFigures::with_capacity(n);
        let mut top = TopK::new((self.flag_count(n) * REASON_DEPTH).max(REASON_MIN));
        let mut candidates = Candidates::default();
        // Rows asked for by id are kept whatever their risk.
        let mut asked = FxHashSet::default();
        let mut drift = sentinel_detect::drift::Counts::default();
        let parts = &model.parts;
        let batch = Arc::clone(&pass1.batch);
        let listed = pass1.listed.as_ref();
        let evidence_and_score = |(b, declared, off): Job<'p>| -> Result<_> {
            let h: HistFeatures = hist.slice(off, off + b.len, n_cat)?;
            let declared = declared.unwrap_or_else(|| features::declared(&b, &parts.text));
            let ev = pipeline::evidence_from(parts, &b, declared, &h, Some(Arc::clone(&batch)));
            let on_list = listed.map_or_else(Vec::new, |l| l.chunk(off, b.len));
            let s = pipeline::score_listed(parts, &ev, scoring, &on_list);
            let drift = parts.drift.count(&b, &ev.declared, &ev.frame);
            Ok((b, ev.declared.category, s, drift))
        };
        std::thread::scope(|scope| -> Result<()> {
            // At most one chunk more than the workers in flight: reading
            // and keeping candidates overlap with scoring.
            let (mut feed, mut done) = par::ordered(WORKERS, WORKERS + 1, evidence_and_score, |job| {
                scope.spawn(job);
            });
            let (mut reading, mut offset, mut start) = (true, 0usize, 0usize);
            loop {
                while reading && !feed.is_full() {
                    match again.next(held, cfg.chunk_rows)? {
                        Some(b) => {
                            let len = b.len;
                            feed.send((b, declared_of_held.next(), offset))
                                .map_err(|_| anyhow::anyhow!("a scoring thread failed"))?;
                            offset += len;
                        }
                        None => reading = false,
                    }
                }
                if feed.in_flight() == 0 {
                    break;
                }
                let Some(scored) = done.next() else {
                    break;
                };
                let (b, declared, s, d) = scored?;
                drift.add(&d);
                let mut wanted = Vec::new();
                for (i, &r) in s.risk.iter().enumerate() {
                    // Every row is offered to the top (it sets the floor);
                    // a row asked for is kept whatever becomes of it there.
                    let in_reach = cfg.rule.over(r) || top.offer(r);
                    let is_asked =
                        !cfg.explain.is_empty() && cfg.explain.contains(&b.text(Col::ShipmentId)[i]);
                    if is_asked {
                        asked.insert(start + i);
                    }
                    if in_reach || is_asked {
                        wanted.push(i);
                    }
                }
                candidates.push(&b, &wanted, start, &s.risk);
                rows.push(&b, declared, s);
                start += b.len;
                if candidates.rows > top.k + cfg.chunk_rows {
                    let floor = top.floor();
                    candidates.retain(|at, r| r >= floor || cfg.rule.over(r) || asked.contains(&at));
                }
                (cfg.progress)("score", start as u64);
            }
            Ok(())
        })?;
        self.stage("pass 2 (features, models)");
        Ok(ScorePass {
            rows,
            candidates,
            asked,
            reason_rows: top.k,
            drift: drift.drift(&model.parts.drift),
        })
    }

    /// Ranks the whole run (1 = highest risk, ties in input order).
    fn rank(&self, rows: &RowFigures) -> Ranking {
        let n = rows.risk.len();
        let order = order_desc(&rows.risk);
        let mut rank = vec![0u32; n];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = (r + 1) as u32;
        }
        Ranking {
            rank,
            k_flag: self.flag_count(n),
        }
    }

    /// Reasons for the rows ranked within the reason depth (and every row
    /// over the threshold): their evidence again, from the kept rows; and
    /// the run's cases, from the flagged rows among them.
    fn explain(
        &self,
        mut candidates: Candidates,
        (reason_rows, asked): (usize, &FxHashSet<usize>),
        ranking: &Ranking,
        (risk, flagged): (&[f64], &impl Fn(usize) -> bool),
        (hist, [address, intermediate]): (RunHistories, [Vec<Option<PartyId>>; 2]),
        (batch, scoring, listed): (&Arc<BatchStats>, Scoring<'_>, Option<&RunMatches>),
    ) -> Result<(HashMap<usize, Explained>, Cases)> {
        let rule = self.cfg.rule;
        candidates
            .retain(|at, r| ranking.rank[at] as usize <= reason_rows || rule.over(r) || asked.contains(&at));
        let kept = candidates.into_batch();
        let parties = RunParties {
            exporter: hist.exporter(),
            consignee: hist.consignee(),
            address: &address,
            intermediate: &intermediate,
        };
        let lines: Vec<FlaggedLine> = kept.as_ref().map_or_else(Vec::new, |(b, at)| {
            let rows: Vec<usize> = (0..b.len).filter(|&i| flagged(at[i])).collect();
            let exporters = cases::exporter_entities(b, &rows);
            rows.iter()
                .zip(exporters)
                .map(|(&i, exporter)| FlaggedLine {
                    at: at[i],
                    risk: risk[at[i]],
                    rank: ranking.rank[at[i]],
                    exporter,
                    listed: listed.and_then(|l| l.entry(at[i])),
                })
                .collect()
        });
        let cases = cases::assign(&parties, &lines);
        drop((address, intermediate));
        let reasons = match kept {
            Some(kept) => explain_rows(self.model, scoring, kept, &hist, (batch, listed))?,
            None => HashMap::new(),
        };
        drop(hist);
        self.stage("reasons, cases");
        Ok((reasons, cases))
    }

    /// Pass 3: the output, in input order, from the chunks once more.
    fn write(
        &self,
        pass1: &ReadPass,
        out: &OutputRows<'_, impl Fn(usize) -> bool + Sync>,
        to: Output<'_>,
    ) -> Result<()> {
        let names = output_names(self.cfg.keep_columns, out.has_filing, pass1.reader.carry_names());
        write_rows(
            out,
            &names,
            self.chunks(pass1)?,
            pass1.held.as_deref(),
            self.cfg.chunk_rows,
            to,
        )
    }

    /// The run's summary: counts, flagged value, the top rows with their
    /// first reason.
    fn summary(
        &self,
        pass1: &ReadPass,
        rows: &RowFigures,
        flagged: &impl Fn(usize) -> bool,
        ranking: &Ranking,
        reasons_of: &HashMap<usize, Explained>,
        drift: sentinel_detect::drift::Drift,
    ) -> Summary {
        let reader = &pass1.reader;
        let mut n_flagged = 0u64;
        let mut flagged_value = 0.0;
        let mut tops: Vec<(usize, usize)> = Vec::new();
        for (i, (&r, &v)) in ranking.rank.iter().zip(&rows.value).enumerate() {
            if flagged(i) {
                n_flagged += 1;
                flagged_value += v as f64;
                tops.push((r as usize, i));
            }
        }
        tops.sort_unstable();
        tops.truncate(10);
        let listed = pass1.listed.as_ref().map(|l| ListedSummary {
            party_names: l.names,
            lines: l.lines(),
            entries: l.entries(),
            flagged: (0..rows.risk.len())
                .filter(|&i| flagged(i) && l.entry(i).is_some())
                .count(),
        });
        let seconds = self.started.elapsed().as_secs_f64();
        Summary {
            listed,
            rows_read: reader.stats.rows,
            rejected: reader.stats.rejected,
            scored: rows.risk.len() as u64,
            flagged: n_flagged,
            flagged_declared_value_usd: flagged_value,
            seconds,
            rows_per_second: reader.stats.rows as f64 / seconds.max(1e-9),
            model_id: self.model.id().to_string(),
            mode: self.cfg.mode.to_string(),
            rule: match self.cfg.rule {
                FlagRule::Budget(b) => format!("budget {b}"),
                FlagRule::Threshold(t) => format!("threshold {t}"),
            },
            rejects_file: self.cfg.rejects.display(),
            disabled_features: reader
                .absent_expected()
                .iter()
                .map(|(c, d)| format!("{c}: {d}"))
                .collect(),
            invalid_cells_by_column: reader.stats.invalid_cells_by_column.clone(),
            top: tops
                .iter()
                .map(|&(r, i)| TopRow {
                    rank: r,
                    shipment_id: reasons_of
                        .get(&i)
                        .map(|x| x.shipment_id.clone())
                        .unwrap_or_default(),
                    risk_score: rows.risk[i],
                    first_reason: reasons_of
                        .get(&i)
                        .map(|x| x.sentences.split(" | ").next().unwrap_or("").to_string())
                        .unwrap_or_default(),
                })
                .collect(),
            drift,
        }
    }
}

/// Scores a run and writes its output to `w` in `format`: see [`score_run_to`].
pub fn score_run(model: &Model, cfg: RunConfig, w: &mut dyn Write, format: Format) -> Result<(Summary, u8)> {
    let to = match format {
        Format::Csv => Output::Csv(w),
        Format::Parquet => Output::Parquet(w),
    };
    score_run_to(model, cfg, to)
}

/// Scores a run and hands its output to `to`: the passes of [`ScoreRun`]
/// in order. Returns the summary and the exit code (rejects: 3).
pub fn score_run_to(model: &Model, cfg: RunConfig, to: Output<'_>) -> Result<(Summary, u8)> {
    let run = ScoreRun::start(model, cfg)?;
    let mut pass1 = run.read()?;
    let hist = run.histories(std::mem::take(&mut pass1.keys), pass1.held.is_none())?;
    let tails = run.tails(&mut pass1, &hist.0)?;
    let scoring = Scoring::of(&model.parts, run.cfg.mode, &tails);
    let scored = run.score(&mut pass1, &hist.0, scoring)?;
    let ranking = run.rank(&scored.rows);
    let (rule, risk, rank, k_flag) = (run.cfg.rule, &scored.rows.risk, &ranking.rank, ranking.k_flag);
    let flagged = |i: usize| match rule {
        FlagRule::Budget(_) => (rank[i] as usize) <= k_flag,
        FlagRule::Threshold(_) => rule.over(risk[i]),
    };
    let (reasons_of, cases) = run.explain(
        scored.candidates,
        (scored.reason_rows, &scored.asked),
        &ranking,
        (risk, &flagged),
        hist,
        (&pass1.batch, scoring, pass1.listed.as_ref()),
    )?;
    let out = OutputRows {
        rows: &scored.rows,
        rank,
        flagged: &flagged,
        reasons: &reasons_of,
        cases: &cases,
        model_id: model.id(),
        has_filing: pass1.reader.has_column(Col::FilingId),
        keep_columns: run.cfg.keep_columns,
    };
    run.write(&pass1, &out, to)?;
    run.stage("pass 3 (rank, write)");
    let summary = run.summary(
        &pass1,
        &scored.rows,
        &flagged,
        &ranking,
        &reasons_of,
        scored.drift.clone(),
    );
    let code = if pass1.reader.stats.rejected > 0 {
        sentinel_manifest::error::EXIT_REJECTS
    } else {
        sentinel_manifest::error::EXIT_OK
    };
    drop(run.spooled);
    // The held rows are freed while the caller syncs the output.
    sentinel_manifest::teardown::free_later((pass1.held, scored.rows, ranking.rank, pass1.reader));
    Ok((summary, code))
}

/// Reasons of the kept rows, keyed by run position.
fn explain_rows(
    model: &Model,
    scoring: Scoring<'_>,
    (b, at): (Batch, Vec<usize>),
    hist: &RunHistories,
    figures: (&Arc<BatchStats>, Option<&RunMatches>),
) -> Result<HashMap<usize, Explained>> {
    // Each row's evidence depends on the run's figures, not on the rows
    // beside it: a large run's kept rows (up to twice the flagged) are
    // explained a part at a time, so their evidence is never held at once.
    if b.len <= EXPLAIN_PART {
        return explain_part(model, scoring, (b, at), hist, figures);
    }
    let mut reasons_of = HashMap::with_capacity(b.len);
    for lo in (0..b.len).step_by(EXPLAIN_PART) {
        let rows: Vec<usize> = (lo..(lo + EXPLAIN_PART).min(b.len)).collect();
        let part = (b.select(&rows), rows.iter().map(|&i| at[i]).collect());
        reasons_of.extend(explain_part(model, scoring, part, hist, figures)?);
    }
    Ok(reasons_of)
}

/// Kept rows explained together at most (their evidence: about 100
/// figures a row).
const EXPLAIN_PART: usize = 50_000;

/// Reasons of one part of the kept rows: their evidence again (one
/// batch), explained on two threads. Keyed by run position.
fn explain_part(
    model: &Model,
    scoring: Scoring<'_>,
    (b, at): (Batch, Vec<usize>),
    hist: &RunHistories,
    (batch, listed): (&Arc<BatchStats>, Option<&RunMatches>),
) -> Result<HashMap<usize, Explained>> {
    let n_cat = Tables::get().n_categories();
    let mut reasons_of = HashMap::new();
    let h = hist.select(&at, n_cat)?;
    let declared = features::declared(&b, &model.parts.text);
    let ev = pipeline::evidence_from(&model.parts, &b, declared, &h, Some(Arc::clone(batch)));
    let half = b.len.div_ceil(2);
    let (ev, b, at) = (&ev, &b, &at);
    let explained: Vec<Vec<(usize, Explained)>> = par::map_all(vec![0..half, half..b.len], 2, |rows| {
        let attr = pipeline::attributions(&model.parts, ev, scoring, rows.clone());
        rows.zip(attr)
            .map(|(i, attr)| {
                // A listed party leads the reasons, the model's three
                // strongest follow.
                let on_list = listed.and_then(|l| l.sentence(at[i], b, i));
                let rs = reasons::explain(
                    &model.parts,
                    ev,
                    b,
                    i,
                    &attr,
                    if on_list.is_some() { 3 } else { 4 },
                );
                let mut codes: Vec<&str> = rs.iter().map(|x| x.code.as_str()).collect();
                let mut sentences: Vec<&str> = rs.iter().map(|x| x.text.as_str()).collect();
                if let Some(s) = &on_list {
                    codes.insert(0, LISTED_PARTY);
                    sentences.insert(0, s);
                }
                let explained = Explained {
                    shipment_id: b.text(Col::ShipmentId)[i].to_string(),
                    codes: codes.join(";"),
                    sentences: sentences.join(" | "),
                };
                (at[i], explained)
            })
            .collect()
    });
    reasons_of.extend(explained.into_iter().flatten());
    Ok(reasons_of)
}
