//! Writing the scored output: each row's cells, and pass 3's writers (CSV
//! formatted on two workers while the chunk before is written, or
//! Parquet), in the columns [`super::output_names`] lists.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use polars::prelude::*;

use crate::rows::{Chunks, Explained, Output, RowFigures, WORKERS};
use sentinel_manifest::batch::Batch;
use sentinel_manifest::par;
use sentinel_manifest::schema::Col;
use sentinel_manifest::tables::Tables;

/// The input's cells of row `i`, as written with `--keep-columns`.
fn input_cells(b: &Batch, i: usize, out: &mut CellBuf) {
    for c in Col::ALL {
        out.push_str(&b.cell_text(c, i));
    }
    for col in &b.carry {
        out.push_str(&col[i]);
    }
}

/// Writes `x` with `digits` decimals, exactly as `format!("{x:.digits$}")`
/// does, without its slow path for most scores: for x in 0..=1 whose scaled
/// value is not within 1e-9 of a rounding tie, the product `x * 10^digits`
/// (off by at most about 1e-10) rounds to the same integer as the exact
/// value. Anything else goes through `format!`.
fn fixed(s: &mut String, x: f64, digits: u32) {
    use std::fmt::Write as _;
    let scale = 10u64.pow(digits);
    let y = x * scale as f64;
    let frac = y - y.floor();
    if (0.0..=1.0).contains(&x) && x.is_sign_positive() && (frac - 0.5).abs() > 1e-9 {
        let r = y.round() as u64;
        let _ = write!(s, "{}.{:0width$}", r / scale, r % scale, width = digits as usize);
    } else {
        let _ = write!(s, "{x:.prec$}", prec = digits as usize);
    }
}

/// One output row's cells, written into strings kept from row to row (a
/// million rows would otherwise allocate a dozen million strings).
#[derive(Default)]
struct CellBuf {
    cells: Vec<String>,
    len: usize,
}

impl CellBuf {
    fn clear(&mut self) {
        self.len = 0;
    }

    /// The next cell, empty.
    fn next(&mut self) -> &mut String {
        if self.len == self.cells.len() {
            self.cells.push(String::new());
        }
        let s = &mut self.cells[self.len];
        s.clear();
        self.len += 1;
        s
    }

    fn push_str(&mut self, v: &str) {
        self.next().push_str(v);
    }

    fn as_slice(&self) -> &[String] {
        &self.cells[..self.len]
    }
}

/// Everything an output row is made of.
pub(crate) struct OutputRows<'a, F: Fn(usize) -> bool> {
    pub(crate) rows: &'a RowFigures,
    pub(crate) rank: &'a [u32],
    pub(crate) flagged: &'a F,
    pub(crate) reasons: &'a HashMap<usize, Explained>,
    pub(crate) cases: &'a crate::cases::Cases,
    pub(crate) model_id: &'a str,
    pub(crate) has_filing: bool,
    pub(crate) keep_columns: bool,
}

impl<F: Fn(usize) -> bool> OutputRows<'_, F> {
    /// The output cells of row `i` of chunk `b`, row `at` of the run.
    fn cells(&self, b: &Batch, i: usize, at: usize, out: &mut CellBuf) {
        use std::fmt::Write as _;
        let t = Tables::get();
        out.clear();
        out.push_str(&b.text(Col::ShipmentId)[i]);
        if self.has_filing {
            out.push_str(&b.text(Col::FilingId)[i]);
        }
        fixed(out.next(), self.rows.risk[at], 6);
        out.push_str(if (self.flagged)(at) { "true" } else { "false" });
        // Writing into a String cannot fail.
        let _ = write!(out.next(), "{}", self.rank[at]);
        out.push_str(self.cases.id(at).as_deref().unwrap_or(""));
        out.push_str(&t.categories[self.rows.declared[at] as usize].name);
        out.push_str(&t.categories[self.rows.likely[at] as usize].name);
        fixed(out.next(), self.rows.likely_probability[at], 4);
        match self.reasons.get(&at) {
            Some(e) => {
                out.push_str(&e.codes);
                out.push_str(&e.sentences);
            }
            None => {
                out.push_str("");
                out.push_str("");
            }
        }
        out.push_str(self.model_id);
        if self.keep_columns {
            input_cells(b, i, out);
        }
    }
}

/// Pass 3: the output rows, in input order, from the chunks once more.
pub(crate) fn write_rows<F: Fn(usize) -> bool + Sync>(
    out: &OutputRows<'_, F>,
    names: &[String],
    again: Chunks,
    held: Option<&[Batch]>,
    chunk_rows: usize,
    to: Output<'_>,
) -> Result<()> {
    match to {
        Output::Frames(frames) => frames_of_rows(out, names, again, held, chunk_rows, &mut |df| {
            frames.push(df);
            Ok(())
        }),
        Output::Parquet(w) => {
            let mut writer: Option<polars::io::parquet::write::BatchedWriter<&mut dyn Write>> = None;
            let mut w_opt = Some(w);
            frames_of_rows(out, names, again, held, chunk_rows, &mut |df| {
                if writer.is_none() {
                    let w = w_opt
                        .take()
                        .ok_or_else(|| anyhow::anyhow!("the writer was used twice"))?;
                    writer = Some(ParquetWriter::new(w).batched(df.schema())?);
                }
                if let Some(bw) = writer.as_mut() {
                    bw.write_batch(&df)?;
                }
                Ok(())
            })?;
            if let Some(bw) = writer {
                bw.finish()?;
            }
            Ok(())
        }
        Output::Csv(w) => write_csv(out, names, again, held, chunk_rows, w),
    }
}

/// The output rows as frames of the Parquet output's types, a chunk each
/// (one empty frame for a run without rows, so its columns are known).
fn frames_of_rows<F: Fn(usize) -> bool + Sync>(
    out: &OutputRows<'_, F>,
    names: &[String],
    mut again: Chunks,
    held: Option<&[Batch]>,
    chunk_rows: usize,
    each: &mut dyn FnMut(DataFrame) -> Result<()>,
) -> Result<()> {
    let mut start = 0usize;
    let mut any = false;
    loop {
        let b = again.next(held, chunk_rows)?;
        if b.is_none() && any {
            return Ok(());
        }
        let mut cols: Vec<Vec<String>> = vec![Vec::new(); names.len()];
        if let Some(b) = &b {
            // Two halves of the chunk's cells on two threads, joined in order.
            let half = b.len.div_ceil(2);
            let cells_of = |rows: std::ops::Range<usize>| {
                let mut part: Vec<Vec<String>> = vec![Vec::with_capacity(rows.len()); names.len()];
                let mut cells = CellBuf::default();
                for i in rows {
                    out.cells(b, i, start + i, &mut cells);
                    for (c, v) in part.iter_mut().zip(cells.as_slice()) {
                        c.push(v.clone());
                    }
                }
                part
            };
            let (first, second) = std::thread::scope(|scope| {
                let second = scope.spawn(|| cells_of(half..b.len));
                (cells_of(0..half), second.join())
            });
            let second = second.map_err(|_| anyhow::anyhow!("a formatting thread failed"))?;
            cols = first;
            for (c, rest) in cols.iter_mut().zip(second) {
                c.extend(rest);
            }
            start += b.len;
        }
        each(parquet_frame(names, cols)?)?;
        any = true;
        if b.is_none() {
            return Ok(());
        }
    }
}

/// CSV: two halves of a chunk are formatted on two workers while this
/// thread writes the chunk before it.
fn write_csv<'h, F: Fn(usize) -> bool + Sync>(
    out: &OutputRows<'_, F>,
    names: &[String],
    mut again: Chunks,
    held: Option<&'h [Batch]>,
    chunk_rows: usize,
    w: &mut dyn Write,
) -> Result<()> {
    let mut cw = csv::Writer::from_writer(&mut *w);
    cw.write_record(names)?;
    cw.flush()?;
    drop(cw);
    // Two halves of a chunk are formatted on two workers while this
    // thread writes the chunk before it.
    let format_half = |(b, lo, hi, start): (Arc<Cow<'h, Batch>>, usize, usize, usize)| -> Result<Vec<u8>> {
        let mut cw = csv::Writer::from_writer(Vec::with_capacity((hi - lo) * 128));
        let mut cells = CellBuf::default();
        for i in lo..hi {
            out.cells(&b, i, start + i, &mut cells);
            cw.write_record(cells.as_slice())?;
        }
        cw.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
    };
    std::thread::scope(|scope| -> Result<()> {
        let (mut feed, mut formatted) = par::ordered(WORKERS, 4, format_half, |job| {
            scope.spawn(job);
        });
        let stopped = |_| anyhow::anyhow!("a formatting thread failed");
        let mut start = 0usize;
        while let Some(b) = again.next(held, chunk_rows)? {
            let (len, b) = (b.len, Arc::new(b));
            let half = len.div_ceil(2);
            feed.send((b.clone(), 0, half, start)).map_err(stopped)?;
            feed.send((b, half, len, start)).map_err(stopped)?;
            start += len;
            // Write what is formatted, keeping one chunk in hand.
            while feed.in_flight() > 2 {
                let Some(part) = formatted.next() else { break };
                w.write_all(&part?)?;
            }
        }
        drop(feed);
        for part in formatted {
            w.write_all(&part?)?;
        }
        Ok(())
    })?;
    w.flush()?;
    Ok(())
}

fn parquet_frame(names: &[String], cols: Vec<Vec<String>>) -> Result<DataFrame> {
    let n = cols.first().map_or(0, Vec::len);
    let mut out = Vec::with_capacity(names.len());
    for (name, v) in names.iter().zip(cols) {
        let col = match name.as_str() {
            "risk_score" | "likely_probability" => Column::new(
                name.as_str().into(),
                v.iter().map(|s| s.parse::<f64>().ok()).collect::<Vec<_>>(),
            ),
            "rank" => Column::new(
                name.as_str().into(),
                v.iter().map(|s| s.parse::<u64>().ok()).collect::<Vec<_>>(),
            ),
            "flagged" => Column::new(
                name.as_str().into(),
                v.iter().map(|s| s == "true").collect::<Vec<_>>(),
            ),
            _ => Column::new(name.as_str().into(), v),
        };
        out.push(col);
    }
    Ok(DataFrame::new(n, out)?)
}

#[cfg(test)]
mod tests {
    use super::fixed;

    #[test]
    fn fixed_decimals_equal_format() {
        let mut rnd = sentinel_manifest::hash::test_uniform(5);
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.5,
            5e-7,
            4.9999999e-7,
            0.9999995,
            0.99999949,
            1e-300,
            -1e-9,
            1.5,
            f64::NAN,
            f64::INFINITY,
        ];
        for k in 0..2000 {
            let x = k as f64 / 1999.0;
            values.extend([x, x + 5e-7, x - 5e-7, x + 5e-5, f64::from_bits(x.to_bits() + 1)]);
            values.push(rnd());
        }
        for x in values {
            for digits in [4, 6] {
                let mut s = String::new();
                fixed(&mut s, x, digits);
                assert_eq!(
                    s,
                    format!("{x:.prec$}", prec = digits as usize),
                    "{x:e} with {digits} decimals"
                );
            }
        }
    }
}
