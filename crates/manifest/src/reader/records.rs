//! Records of a CSV input, read on one thread and validated in rounds on
//! a few others, in order.

use std::io::Read;

use anyhow::Result;

use crate::par::{self, Ordered};

use super::cells::push;
use super::layout::Layout;
use super::rejects::Reject;
use super::{Reader, CSV_ROUND};
use crate::batch::Batch;
use crate::mapping::Mapping;
use crate::schema::Col;

/// Room for a round's rows, so that pushing them does not reallocate:
/// a text column's bytes are at most its raw fields' (validation trims
/// and canonicalises, never lengthens valid text).
fn reserve_round(b: &mut Batch, layout: &Layout, raws: &[RawRecord]) {
    let n = raws.len();
    // Bytes of each field position over the round, record by record
    // (a record's fields are together in memory).
    let mut field_bytes = vec![0usize; layout.ncols];
    for r in raws {
        for (sum, f) in field_bytes.iter_mut().zip(r.record.iter()) {
            *sum += f.len();
        }
    }
    let bytes = |at: &Option<usize>| -> usize { at.and_then(|i| field_bytes.get(i)).copied().unwrap_or(0) };
    b.file.reserve(n);
    b.line.reserve(n);
    b.invalid.reserve(n);
    for c in Col::ALL {
        if c.spec().kind.numeric() {
            b.num[c as usize].reserve(n);
        } else {
            b.text[c as usize].reserve(n, bytes(&layout.canon[c as usize]));
        }
    }
    for (col, at) in b.extra_cat.iter_mut().zip(&layout.extra_cat) {
        col.reserve(n, bytes(at));
    }
    for col in &mut b.extra_num {
        col.reserve(n);
    }
    for (col, at) in b.carry.iter_mut().zip(&layout.carry) {
        col.reserve(n, bytes(at));
    }
}

/// One record as read, before validation.
pub(super) struct RawRecord {
    /// Physical line the record starts on, and the line after it.
    pub(super) line: u64,
    pub(super) end_line: u64,
    /// The row of a Parquet source (whose cells are in its columns).
    pub(super) parquet_row: Option<usize>,
    pub(super) record: csv::ByteRecord,
}

/// A round of records, validated: the accepted rows as a batch, and every
/// record's outcome in order (`None`: the batch's next row).
pub(super) struct Round {
    pub(super) part: Batch,
    pub(super) outcomes: Vec<Option<Box<Reject>>>,
    /// How far the run has taken it (a round can straddle two chunks).
    pub(super) next_outcome: usize,
    pub(super) next_row: usize,
}

/// Validates records: each independently of the others.
pub(super) fn validate_round(
    mapping: Option<&Mapping>,
    name: &str,
    layout: &Layout,
    columns: Option<&super::TextColumns>,
    index: u32,
    raws: &[RawRecord],
) -> Round {
    let mut part = Batch::with_shape(layout.extra_cat.len(), layout.extra_num.len(), layout.carry.len());
    reserve_round(&mut part, layout, raws);
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
/// reads and splits records into fields, a few validate rounds (an ordered
/// map, [`crate::par`]), so reading, validating and the run's own work
/// overlap.
pub(super) struct Records {
    rounds: Ordered<Result<Round>>,
}

impl Records {
    pub(super) fn start(
        name: String,
        mut csv: csv::Reader<Box<dyn Read + Send>>,
        layout: Layout,
        mapping: Option<Mapping>,
        index: u32,
    ) -> Records {
        use std::sync::mpsc::channel;
        let workers = std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .clamp(1, 4);
        // Records handed back are read into again.
        let (spare, returned) = channel::<Vec<RawRecord>>();
        let validate = {
            let name = name.clone();
            move |msg: Result<Vec<RawRecord>>| {
                msg.map(|raws| {
                    let round = validate_round(mapping.as_ref(), &name, &layout, None, index, &raws);
                    let _ = spare.send(raws);
                    round
                })
            }
        };
        // Per worker: a round being validated and one waiting to be taken.
        let (mut feed, rounds) = par::ordered(workers, 2 * workers, validate, |job| {
            std::thread::spawn(job);
        });
        std::thread::spawn(move || {
            let mut pool: Vec<csv::ByteRecord> = Vec::new();
            loop {
                // Records handed back are read into again.
                while let Ok(raws) = returned.try_recv() {
                    pool.extend(raws.into_iter().map(|r| r.record));
                }
                let mut round = Vec::with_capacity(CSV_ROUND);
                let mut end = false;
                let mut failed = None;
                while round.len() < CSV_ROUND {
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
                // A feed stopped means the run stopped reading.
                if !round.is_empty() && feed.send(Ok(round)).is_err() {
                    return;
                }
                // An error takes the place of the next round.
                if let Some(e) = failed {
                    let _ = feed.send(Err(e));
                    return;
                }
                if end {
                    return;
                }
            }
        });
        Records { rounds }
    }

    /// The next validated round; `None` after the last.
    pub(super) fn next_round(&mut self) -> Result<Option<Round>> {
        self.rounds.next().transpose()
    }
}
