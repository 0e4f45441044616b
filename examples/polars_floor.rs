//! The floor of `score`'s speed: polars alone reading a CSV and writing it
//! back, with nothing in between. `benches/bench.sh` runs it beside `score`
//! on the same file.
//!
//!     cargo run --release --example polars_floor -- IN.csv OUT.csv

use std::time::Instant;

use polars::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: polars_floor IN.csv OUT.csv");
        std::process::exit(2);
    };
    let started = Instant::now();
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(input.into()))?
        .finish()?;
    let read = started.elapsed().as_secs_f64();
    let mut f = std::fs::File::create(output)?;
    CsvWriter::new(&mut f).finish(&mut df)?;
    let total = started.elapsed().as_secs_f64();
    println!(
        "polars floor: {} rows, read {read:.2} s, read+write {total:.2} s, {:.0} rows/s",
        df.height(),
        df.height() as f64 / total
    );
    Ok(())
}
