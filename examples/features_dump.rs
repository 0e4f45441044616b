//! Every row's features and label-free terms as CSV, for measuring other
//! learners on exactly what `sentinel` computes (for example the isolation
//! forests of `benches/forest_baselines.py`).
//!
//!     cargo run --release --example features_dump -- MODEL_DIR test.csv [MAPPING.toml] > rows.csv
//!
//! Columns: `label`, `typology`, `label_free` (the raw label-free score),
//! `t_<term>` (each term's contribution), `f_<feature>` (the model's frame).

use std::path::Path;

use sentinel::mapping::Mapping;
use sentinel::model::{labelfree, Model};
use sentinel::reader::{Input, Reader};
use sentinel::schema::Col;
use sentinel::{in_memory, pipeline, run_sample};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(input)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: features_dump MODEL_DIR IN.csv [MAPPING.toml] > OUT.csv");
        std::process::exit(2);
    };
    let model = Model::load(Path::new(dir))?;
    // A mapping given here, else the one the model was trained through.
    let mapping = match args.get(3) {
        Some(m) => Some(Mapping::load(Path::new(m))?),
        None => model.parts.mapping.clone(),
    };
    let b = Reader::open(&[Input::parse(input)], mapping, None)?.read_all()?;
    let hist = in_memory::histories(&model, &b);
    let ev = pipeline::evidence(&model.parts, &b, &hist);
    // The batch's own label-free tails, as `score` and `evaluate` read them.
    let sample = ev.frame.select(&run_sample::positions(b.len, run_sample::SIZE));
    let tails = model.parts.labelfree.for_run(&sample);
    let (terms, raw) = tails.terms(&ev.frame);
    let names = labelfree::term_names();
    let k = names.len();
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    let header: Vec<String> = ["label", "typology", "label_free"]
        .iter()
        .map(|s| s.to_string())
        .chain(names.iter().map(|n| format!("t_{n}")))
        .chain(ev.frame.names.iter().map(|n| format!("f_{n}")))
        .collect();
    out.write_record(&header)?;
    let (label, typology) = (b.num(Col::Label), b.text(Col::Typology));
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for i in 0..b.len {
        row.clear();
        row.extend([label[i].to_string(), typology[i].to_string(), raw[i].to_string()]);
        row.extend(terms[i * k..(i + 1) * k].iter().map(f64::to_string));
        row.extend(ev.frame.cols.iter().map(|c| c[i].to_string()));
        out.write_record(&row)?;
    }
    out.flush()?;
    Ok(())
}
