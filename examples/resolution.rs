//! Pairwise precision and recall of exporter entity resolution on a
//! generated world (its `usppi_entity` ground truth): over the distinct
//! spellings as filed (name, ID and address), a pair counts as one entity when the
//! resolution puts both in one entity, and truly is when the ground truth
//! does (a spelling filed for several companies, a name without an ID,
//! takes its commonest). Also printed: names normalised alone, and the
//! resolution without its similar-name round. Then the same over lines for
//! the histories' point-in-time entities ([`sentinel::entities`]): each
//! line's entity from what was filed up to its day, against its company.
//!
//!     cargo run --release --example resolution -- world.csv

use std::collections::HashMap;

use sentinel::entities;
use sentinel::keys::RowKeys;
use sentinel::normalize;
use sentinel::resolve::{resolve, Record, BLOCK_MAX};

/// Pairs within the groups of a labelling.
fn pairs<K: std::hash::Hash + Eq>(labels: impl Iterator<Item = K>) -> u64 {
    let mut n: HashMap<K, u64> = HashMap::new();
    for l in labels {
        *n.entry(l).or_default() += 1;
    }
    n.values().map(|c| c * (c - 1) / 2).sum()
}

fn score(name: &str, truth: &[u32], got: &[u32]) {
    let both = pairs(truth.iter().zip(got));
    let (t, g) = (pairs(truth.iter()), pairs(got.iter()));
    println!(
        "{name:>44}: precision {:.4}, recall {:.4} ({both} pairs right of {g} found, {t} true)",
        both as f64 / g.max(1) as f64,
        both as f64 / t.max(1) as f64
    );
}

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: resolution WORLD.csv"))?;
    let mut rd = csv::Reader::from_path(&path)?;
    let h = rd.headers()?.clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x == n)
            .ok_or_else(|| anyhow::anyhow!("{path}: no {n} column"))
    };
    let (name, id, address, entity) = (
        col("usppi_name")?,
        col("usppi_id")?,
        col("usppi_address")?,
        col("usppi_entity")?,
    );
    let date = col("export_date")?;
    // Each spelling as filed, with the lines of each true entity; and each
    // line's keys for the histories' entities.
    let mut spellings: HashMap<(String, String, String), HashMap<String, u64>> = HashMap::new();
    let mut lines = RowKeys::default();
    let mut line_truth: Vec<u32> = Vec::new();
    let mut line_entities: HashMap<String, u32> = HashMap::new();
    for rec in rd.records() {
        let rec = rec?;
        let day: i32 = rec[date]
            .split('-')
            .fold(0, |acc, p| acc * 40 + p.parse::<i32>().unwrap_or(0));
        lines.date.push(day);
        let r = sentinel::keys::record(&mut lines.records, &rec[name], &rec[id]);
        lines.record.push(r);
        let a = lines.addresses.id(&normalize::address(&rec[address]));
        lines.address.push(a);
        let next = line_entities.len() as u32;
        line_truth.push(*line_entities.entry(rec[entity].to_string()).or_insert(next));
        *spellings
            .entry((
                rec[name].to_string(),
                rec[id].to_string(),
                rec[address].to_string(),
            ))
            .or_default()
            .entry(rec[entity].to_string())
            .or_default() += 1;
    }
    let mut keys: Vec<(String, String, String)> = spellings.keys().cloned().collect();
    keys.sort();
    let mut entity_ids: HashMap<String, u32> = HashMap::new();
    let truth: Vec<u32> = keys
        .iter()
        .map(|k| {
            let e = spellings[k]
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(e, _)| e.clone())
                .unwrap_or_default();
            let next = entity_ids.len() as u32;
            *entity_ids.entry(e).or_insert(next)
        })
        .collect();
    let records: Vec<Record> = keys.iter().map(|(n, i, a)| Record::filed(n, i, a)).collect();
    let ambiguous = spellings.values().filter(|m| m.len() > 1).count();
    println!(
        "{path}: {} spellings (name, ID and address as filed) of {} companies; {ambiguous} spellings filed for more than one company; blocks of up to {BLOCK_MAX}",
        keys.len(),
        entity_ids.len()
    );
    let mut names_of_lines: HashMap<String, u32> = HashMap::new();
    let mut names: HashMap<&str, u32> = HashMap::new();
    let by_name: Vec<u32> = records
        .iter()
        .map(|r| {
            let next = names.len() as u32;
            *names.entry(r.name.as_str()).or_insert(next)
        })
        .collect();
    score("normalised name alone", &truth, &by_name);
    let exact: Vec<Record> = records
        .iter()
        .map(|r| Record {
            // Names made unique where no similar-name round could join them.
            name: r.name.replace(' ', "\u{1}"),
            id: r.id.clone(),
            address: r.address.clone(),
        })
        .collect();
    score("rounds without similar names", &truth, &resolve(&exact));
    let t = std::time::Instant::now();
    let got = resolve(&records);
    let secs = t.elapsed().as_secs_f64();
    score("resolution (ID, name, similar names)", &truth, &got);
    println!("resolution took {secs:.3} s");

    let by_line_name: Vec<u32> = lines
        .record
        .iter()
        .map(|&r| {
            let rec = r.map_or("", |r| lines.records.key(r));
            let name = rec.rsplit_once('|').map_or(rec, |(n, _)| n);
            let next = names_of_lines.len() as u32;
            *names_of_lines.entry(name.to_string()).or_insert(next)
        })
        .collect();
    let t = std::time::Instant::now();
    entities::resolve(&mut lines, &sentinel::keys::Aliases::default());
    let secs = t.elapsed().as_secs_f64();
    println!("{} lines of {} companies", lines.len(), line_entities.len());
    score("lines: normalised name alone", &line_truth, &by_line_name);
    score(
        "lines: histories' entities (point in time)",
        &line_truth,
        &lines
            .exporter
            .iter()
            .map(|e| e.map_or(u32::MAX, |e| e.index() as u32))
            .collect::<Vec<u32>>(),
    );
    println!("the histories' entities took {secs:.3} s");
    Ok(())
}
