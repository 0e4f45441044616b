//! A run's per-row history figures, held in memory or, for a run large
//! enough to be read twice, written to a temporary file and read back a
//! chunk (or a selection of rows) at a time. Ten million rows' figures take
//! about 430 MB: on disk they no longer sit under the scoring pass's peak.
//! Each row's party ids stay in memory (the run's cases read them all).

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};

use crate::history::{HistFeatures, PartyFacts, RunActivity};
use crate::keys::PartyId;

/// The f32 figures of a row, in the order they are written.
const FIGURES: usize = 8;

/// Rows read at once by [`RunHistories::select`] (a few hundred KB).
const BLOCK_ROWS: usize = 8_192;

/// A run's history figures for every row, aligned with the run.
pub enum RunHistories {
    Held(HistFeatures),
    Spilled(Spilled),
}

/// The figures in a temporary file, one fixed-size record a row (eight
/// little-endian f32 and the row's category shares); the file is removed
/// from its directory as soon as it is written, so nothing is left behind
/// whatever becomes of the run.
pub struct Spilled {
    file: Mutex<File>,
    /// Where the file was made (named in messages; already unlinked).
    path: PathBuf,
    len: usize,
    n_cat: usize,
    exporter: Vec<Option<PartyId>>,
    consignee: Vec<Option<PartyId>>,
    exporter_facts: Arc<Vec<PartyFacts>>,
    consignee_facts: Arc<Vec<PartyFacts>>,
    activity: Arc<RunActivity>,
}

impl RunHistories {
    /// Writes the figures to a temporary file in `dir` and keeps only the
    /// row's party ids and the run's facts.
    pub fn spill(h: HistFeatures, n_cat: usize, dir: &Path) -> Result<RunHistories> {
        static SPILLS: AtomicU64 = AtomicU64::new(0);
        let path = dir.join(format!(
            ".sentinel-histories-{}-{}.bin",
            std::process::id(),
            SPILLS.fetch_add(1, Ordering::Relaxed)
        ));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let written = write_records(&file, &h, n_cat);
        // Unlinked at once: the open file stays readable.
        let _ = std::fs::remove_file(&path);
        written.with_context(|| format!("cannot write {}", path.display()))?;
        let HistFeatures {
            exporter,
            consignee,
            exporter_facts,
            consignee_facts,
            activity,
            ..
        } = h;
        Ok(RunHistories::Spilled(Spilled {
            file: Mutex::new(file),
            path,
            len: exporter.len(),
            n_cat,
            exporter,
            consignee,
            exporter_facts,
            consignee_facts,
            activity,
        }))
    }

    /// Rows it holds figures for.
    pub fn len(&self) -> usize {
        match self {
            RunHistories::Held(h) => h.len(),
            RunHistories::Spilled(s) => s.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each row's exporter entity.
    pub fn exporter(&self) -> &[Option<PartyId>] {
        match self {
            RunHistories::Held(h) => &h.exporter,
            RunHistories::Spilled(s) => &s.exporter,
        }
    }

    /// Each row's consignee.
    pub fn consignee(&self) -> &[Option<PartyId>] {
        match self {
            RunHistories::Held(h) => &h.consignee,
            RunHistories::Spilled(s) => &s.consignee,
        }
    }

    /// The rows `start..end`, for scoring a run chunk by chunk.
    pub fn slice(&self, start: usize, end: usize, n_cat: usize) -> Result<HistFeatures> {
        match self {
            RunHistories::Held(h) => Ok(h.slice(start, end, n_cat)),
            RunHistories::Spilled(s) => Ok(s.decode(&s.read(start, end)?, start..end)),
        }
    }

    /// The rows `idx`, in that order (any order; read in blocks in
    /// position order).
    pub fn select(&self, idx: &[usize], n_cat: usize) -> Result<HistFeatures> {
        match self {
            RunHistories::Held(h) => Ok(h.select(idx, n_cat)),
            RunHistories::Spilled(s) => {
                let mut order: Vec<usize> = (0..idx.len()).collect();
                order.sort_unstable_by_key(|&k| idx[k]);
                // Each selected row's record, in selection order.
                let rl = s.record_len();
                let mut records = vec![0u8; idx.len() * rl];
                let mut block: (usize, Vec<u8>) = (0, Vec::new());
                for k in order {
                    let i = idx[k];
                    if i >= s.len {
                        anyhow::bail!("row {i} is past the run's {} rows", s.len);
                    }
                    let (lo, bytes) = &block;
                    if i < *lo || i >= lo + bytes.len() / rl {
                        block = (i, s.read(i, (i + BLOCK_ROWS).min(s.len))?);
                    }
                    let at = (i - block.0) * rl;
                    records[k * rl..(k + 1) * rl].copy_from_slice(&block.1[at..at + rl]);
                }
                Ok(s.decode(&records, idx.iter().copied()))
            }
        }
    }
}

impl Spilled {
    fn record_len(&self) -> usize {
        FIGURES * 4 + self.n_cat
    }

    /// The records of rows `start..end`.
    fn read(&self, start: usize, end: usize) -> Result<Vec<u8>> {
        let rl = self.record_len();
        let mut bytes = vec![0u8; (end - start) * rl];
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        f.seek(SeekFrom::Start((start * rl) as u64))
            .and_then(|_| f.read_exact(&mut bytes))
            .with_context(|| {
                format!(
                    "cannot read the run's histories back from their temporary file {}",
                    self.path.display()
                )
            })?;
        Ok(bytes)
    }

    /// The figures of `rows` (in that order) from their records.
    fn decode(&self, records: &[u8], rows: impl ExactSizeIterator<Item = usize> + Clone) -> HistFeatures {
        let n = rows.len();
        let v = || Vec::with_capacity(n);
        let mut out = HistFeatures {
            exporter_age: v(),
            exporter_lines: v(),
            exporter_cat_share: v(),
            exporter_mix: Vec::with_capacity(n * self.n_cat),
            address_exporters: v(),
            consignee_lines: v(),
            consignee_age: v(),
            exporter_anomaly: v(),
            consignee_anomaly: v(),
            exporter: rows.clone().map(|i| self.exporter[i]).collect(),
            consignee: rows.map(|i| self.consignee[i]).collect(),
            exporter_facts: Arc::clone(&self.exporter_facts),
            consignee_facts: Arc::clone(&self.consignee_facts),
            activity: Arc::clone(&self.activity),
        };
        for record in records.chunks_exact(self.record_len()) {
            let f = |k: usize| {
                f32::from_le_bytes([
                    record[4 * k],
                    record[4 * k + 1],
                    record[4 * k + 2],
                    record[4 * k + 3],
                ])
            };
            for (k, col) in figure_columns(&mut out).into_iter().enumerate() {
                col.push(f(k));
            }
            out.exporter_mix.extend_from_slice(&record[FIGURES * 4..]);
        }
        out
    }
}

/// The f32 columns, in record order.
fn figure_columns(h: &mut HistFeatures) -> [&mut Vec<f32>; FIGURES] {
    [
        &mut h.exporter_age,
        &mut h.exporter_lines,
        &mut h.exporter_cat_share,
        &mut h.address_exporters,
        &mut h.consignee_lines,
        &mut h.consignee_age,
        &mut h.exporter_anomaly,
        &mut h.consignee_anomaly,
    ]
}

/// Every row's record, in row order.
fn write_records(file: &File, h: &HistFeatures, n_cat: usize) -> std::io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let columns = [
        &h.exporter_age,
        &h.exporter_lines,
        &h.exporter_cat_share,
        &h.address_exporters,
        &h.consignee_lines,
        &h.consignee_age,
        &h.exporter_anomaly,
        &h.consignee_anomaly,
    ];
    for i in 0..h.len() {
        for c in &columns {
            w.write_all(&c[i].to_le_bytes())?;
        }
        w.write_all(&h.exporter_mix[i * n_cat..(i + 1) * n_cat])?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Figures with a distinct value in every cell (NaNs included).
    fn figures(n: usize, n_cat: usize) -> HistFeatures {
        let col = |k: usize| {
            (0..n)
                .map(|i| {
                    if i % 7 == k {
                        f32::NAN
                    } else {
                        (i * 10 + k) as f32 / 3.0
                    }
                })
                .collect::<Vec<f32>>()
        };
        HistFeatures {
            exporter_age: col(0),
            exporter_lines: col(1),
            exporter_cat_share: col(2),
            exporter_mix: (0..n * n_cat).map(|x| (x % 251) as u8).collect(),
            address_exporters: col(3),
            consignee_lines: col(4),
            consignee_age: col(5),
            exporter_anomaly: col(6),
            consignee_anomaly: col(1),
            exporter: (0..n)
                .map(|i| (i % 3 != 0).then(|| PartyId::new(i % 50)))
                .collect(),
            consignee: (0..n)
                .map(|i| (i % 5 != 0).then(|| PartyId::new(i % 40)))
                .collect(),
            ..HistFeatures::default()
        }
    }

    /// Equal cell for cell, NaNs included.
    fn same(a: &HistFeatures, b: &HistFeatures) -> bool {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        let mut a2 = a.clone();
        let mut b2 = b.clone();
        figure_columns(&mut a2)
            .into_iter()
            .zip(figure_columns(&mut b2))
            .all(|(x, y)| bits(x) == bits(y))
            && a.exporter_mix == b.exporter_mix
            && a.exporter == b.exporter
            && a.consignee == b.consignee
            && a.len() == b.len()
    }

    #[test]
    fn spilled_figures_read_back_as_held_ones() {
        let (n, n_cat) = (20_000, 11);
        let held = figures(n, n_cat);
        let dir = tempfile::tempdir().unwrap();
        let spilled = RunHistories::spill(held.clone(), n_cat, dir.path()).unwrap();
        // Nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert_eq!(spilled.len(), n);
        assert_eq!(spilled.exporter(), &held.exporter[..]);
        let held = RunHistories::Held(held);
        for (a, b) in [(0, n), (0, 1), (9_999, 18_300), (n - 1, n), (5, 5)] {
            assert!(same(
                &spilled.slice(a, b, n_cat).unwrap(),
                &held.slice(a, b, n_cat).unwrap()
            ));
        }
        // A selection in any order, with repeats, across blocks.
        let idx: Vec<usize> = (0..3_000)
            .map(|k| (k * 7_919 + 13) % n)
            .chain([0, n - 1, 0])
            .collect();
        assert!(same(
            &spilled.select(&idx, n_cat).unwrap(),
            &held.select(&idx, n_cat).unwrap()
        ));
        assert!(spilled.select(&[n], n_cat).is_err());
    }
}
