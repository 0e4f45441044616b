//! `sentinel generate`: deterministic worlds that pass `check`, hold every
//! scheme, and cannot be solved by any single signal.

use std::collections::HashMap;
use std::fs::File;

use sentinel::metrics::pr_auc;
use sentinel::reader::{Input, Reader};
use sentinel::schema::Col;

use crate::util::{read_csv, Workdir};

#[test]
fn same_seed_same_bytes_and_check_accepts_everything() {
    let wd = Workdir::new();
    for name in ["a.csv", "b.csv"] {
        let run = wd.run(&[
            "generate",
            "--rows",
            "30000",
            "--seed",
            "11",
            "--scenario",
            "nj-warehouse",
            "--out",
            name,
            "-q",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert!(
        std::fs::read(wd.path("a.csv")).unwrap() == std::fs::read(wd.path("b.csv")).unwrap(),
        "same seed, same bytes"
    );
    let other = wd.run(&[
        "generate", "--rows", "30000", "--seed", "12", "--out", "c.csv", "-q",
    ]);
    assert_eq!(other.code, 0);
    assert!(
        std::fs::read(wd.path("a.csv")).unwrap() != std::fs::read(wd.path("c.csv")).unwrap(),
        "another seed, another world"
    );

    let run = wd.run(&["check", "a.csv", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stats: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(stats["rows"], 30000);
    assert_eq!(stats["rejected"], 0);
    assert!(stats["invalid_cells_by_column"].as_object().unwrap().is_empty());

    let (header, rows) = read_csv(&wd.path("a.csv"));
    let typ = header.iter().position(|h| h == "typology").unwrap();
    let date = header.iter().position(|h| h == "export_date").unwrap();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *counts.entry(r[typ].as_str()).or_default() += 1;
    }
    for scheme in sentinel::generate::SCHEMES.iter().chain(["nj_warehouse"].iter()) {
        assert!(
            counts.get(scheme).copied().unwrap_or(0) > 0,
            "scheme {scheme} missing: {counts:?}"
        );
    }
    // The scenario is about 0.2% of lines, at least 20, inside Oct 2024 - May 2025.
    assert_eq!(counts["nj_warehouse"], 60);
    for r in rows.iter().filter(|r| r[typ] == "nj_warehouse") {
        assert!(
            r[date].as_str() >= "2024-10-01" && r[date].as_str() <= "2025-05-31",
            "{}",
            r[date]
        );
    }
    // Rows are in date order.
    assert!(rows.windows(2).all(|w| w[0][date] <= w[1][date]));
}

#[test]
fn parquet_world_reads_back_identically() {
    let wd = Workdir::new();
    assert_eq!(
        wd.run(&[
            "generate",
            "--rows",
            "3000",
            "--seed",
            "5",
            "--out",
            "w.parquet",
            "-q"
        ])
        .code,
        0
    );
    assert_eq!(
        wd.run(&["generate", "--rows", "3000", "--seed", "5", "--out", "w.csv", "-q"])
            .code,
        0
    );
    let read = |name: &str| {
        let mut r = Reader::open(&[Input::Path(wd.path(name))], None, None).unwrap();
        let b = r.read_all().unwrap();
        assert_eq!(r.stats.rejected, 0);
        b
    };
    let (p, c) = (read("w.parquet"), read("w.csv"));
    assert_eq!(p.len, 3000);
    for col in [
        Col::ShipmentId,
        Col::HsCode,
        Col::Description,
        Col::ConsigneeCountry,
    ] {
        assert_eq!(p.text(col), c.text(col), "{col:?}");
    }
    for col in [Col::ValueUsd, Col::ShippingWeightKg, Col::ExportDate, Col::Label] {
        assert_eq!(p.num(col), c.num(col), "{col:?}");
    }
    assert_eq!(p.line[0], 1, "Parquet lines are row index + 1");
}

/// Ranking by any one signal, in either direction, gives PR-AUC below 0.6.
#[test]
fn no_single_signal_solves_the_world() {
    let wd = Workdir::new();
    let run = wd.run(&[
        "generate",
        "--rows",
        "60000",
        "--seed",
        "3",
        "--scenario",
        "nj-warehouse",
        "--out",
        "w.csv",
        "-q",
    ]);
    assert_eq!(run.code, 0);
    let _ = File::open(wd.path("w.csv")).unwrap();
    let mut r = Reader::open(&[Input::Path(wd.path("w.csv"))], None, None).unwrap();
    let b = r.read_all().unwrap();
    let labels: Vec<bool> = b.num(Col::Label).iter().map(|v| *v == 1.0).collect();
    assert!(labels.iter().filter(|l| **l).count() > 100);
    let value = b.num(Col::ValueUsd);
    let weight = b.num(Col::ShippingWeightKg);
    let qty = b.num(Col::Quantity);
    let unit = b.text(Col::QuantityUnit);
    let per_unit = |x: &[f64], i: usize| {
        if &unit[i] == "KG" || qty[i].is_nan() {
            f64::NAN
        } else {
            x[i] / qty[i]
        }
    };
    let mut brand_count: HashMap<&str, usize> = HashMap::new();
    for s in b.text(Col::Brand).iter() {
        *brand_count.entry(s).or_default() += 1;
    }
    let n = b.len;
    let signals: Vec<(&str, Vec<f64>)> = vec![
        ("value_per_kg", (0..n).map(|i| value[i] / weight[i]).collect()),
        ("weight_per_unit", (0..n).map(|i| per_unit(weight, i)).collect()),
        ("value_per_unit", (0..n).map(|i| per_unit(value, i)).collect()),
        (
            "brand_rarity",
            b.text(Col::Brand)
                .iter()
                .map(|s| -(brand_count[s] as f64))
                .collect(),
        ),
        (
            "payer_abroad",
            (0..n)
                .map(|i| {
                    f64::from(u8::from(
                        !b.text(Col::PayerCountry)[i].is_empty()
                            && b.text(Col::PayerCountry)[i] != b.text(Col::ConsigneeCountry)[i],
                    ))
                })
                .collect(),
        ),
        ("amendment_count", b.num(Col::AmendmentCount).to_vec()),
    ];
    for (name, s) in signals {
        // Missing values rank last in both directions.
        let up: Vec<f64> = s
            .iter()
            .map(|v| if v.is_nan() { f64::NEG_INFINITY } else { *v })
            .collect();
        let down: Vec<f64> = s
            .iter()
            .map(|v| if v.is_nan() { f64::NEG_INFINITY } else { -*v })
            .collect();
        for (dir, scores) in [("up", up), ("down", down)] {
            let ap = pr_auc(&scores, &labels).unwrap();
            assert!(ap < 0.6, "{name} {dir}: PR-AUC {ap:.3} solves the world alone");
        }
    }
}
