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
    let schemes = sentinel::generate::Scheme::ALL.iter().map(|s| s.as_str());
    for scheme in schemes.chain(["nj_warehouse"]) {
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

/// `--unusual` adds honest filings far from the typical figures, but only in
/// harmless directions: cheaper per kg, lighter per unit, unbranded, by
/// surface; never dearer per kg than the ordinary world's honest goods.
#[test]
fn unusual_filings_are_valid_and_lean_the_harmless_way() {
    let wd = Workdir::new();
    for (name, share) in [("base.csv", "0"), ("odd.csv", "0.3")] {
        let run = wd.run(&[
            "generate",
            "--rows",
            "20000",
            "--seed",
            "8",
            "--unusual",
            share,
            "--out",
            name,
            "-q",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let run = wd.run(&["check", name, "--json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let plain = wd.run(&[
        "generate",
        "--rows",
        "20000",
        "--seed",
        "8",
        "--out",
        "plain.csv",
        "-q",
    ]);
    assert_eq!(plain.code, 0);
    assert!(
        std::fs::read(wd.path("base.csv")).unwrap() == std::fs::read(wd.path("plain.csv")).unwrap(),
        "--unusual 0 is the default world, byte for byte"
    );
    // Per honest line: value per kg, brand empty, shipped by air.
    let honest = |name: &str| -> Vec<(f64, bool, bool)> {
        let (h, rows) = read_csv(&wd.path(name));
        let at = |c: &str| h.iter().position(|x| x == c).unwrap();
        let (v, w, b, m, l) = (
            at("value_usd"),
            at("shipping_weight_kg"),
            at("brand"),
            at("transport_mode"),
            at("label"),
        );
        rows.iter()
            .filter(|r| r[l] == "0")
            .map(|r| {
                let vpk = r[v].parse::<f64>().unwrap() / r[w].parse::<f64>().unwrap();
                (vpk, r[b].is_empty(), r[m] == "air")
            })
            .collect()
    };
    let (base, odd) = (honest("base.csv"), honest("odd.csv"));
    let share = |x: &[(f64, bool, bool)], f: &dyn Fn(&(f64, bool, bool)) -> bool| {
        x.iter().filter(|r| f(r)).count() as f64 / x.len() as f64
    };
    assert!(
        share(&odd, &|r| r.1) > share(&base, &|r| r.1) + 0.03,
        "more unbranded lines"
    );
    assert!(
        share(&odd, &|r| r.2) < share(&base, &|r| r.2) - 0.03,
        "fewer by air"
    );
    let mut vpk: Vec<f64> = base.iter().map(|r| r.0).collect();
    vpk.sort_by(f64::total_cmp);
    let p99 = vpk[vpk.len() * 99 / 100];
    let above = share(&odd, &|r| r.0 > p99);
    assert!(
        above < 0.011,
        "{above} of unusual-world honest lines above the base p99 value per kg"
    );
    assert!(
        share(&odd, &|r| r.0 < vpk[vpk.len() / 100]) > 0.03,
        "cheap lines added"
    );
}

#[test]
fn variant_zero_is_the_base_world_and_other_variants_differ_validly() {
    let wd = Workdir::new();
    let base = [
        "generate",
        "--rows",
        "20000",
        "--seed",
        "2024",
        "--scenario",
        "nj-warehouse",
        "-q",
    ];
    let run = wd.run(&[&base[..], &["--variant", "0", "--out", "v0.csv"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::read(wd.path("v0.csv")).unwrap()
            == std::fs::read(crate::util::root("datasets/sample.csv")).unwrap(),
        "variant 0 is today's world, byte for byte (the shipped sample)"
    );
    let run = wd.run(&[&base[..], &["--variant", "7", "--out", "v7.csv"]].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = wd.run(&["check", "v7.csv", "--json"]);
    assert_eq!(run.code, 0, "a variant is valid input: {}", run.stderr);
    let stats: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(stats["rejected"], 0);
    let (h, a) = read_csv(&wd.path("v0.csv"));
    let (_, b) = read_csv(&wd.path("v7.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (label, typ, desc, hs, brand) = (
        col("label"),
        col("typology"),
        col("description"),
        col("hs_code"),
        col("brand"),
    );
    assert_eq!(a.len(), b.len());
    // Same ground truth, line for line; other words, codes and brands.
    assert!(a
        .iter()
        .zip(&b)
        .all(|(x, y)| x[label] == y[label] && x[typ] == y[typ]));
    let differ = |j: usize| a.iter().zip(&b).filter(|(x, y)| x[j] != y[j]).count() as f64 / a.len() as f64;
    assert!(differ(desc) > 0.3, "descriptions reworded: {}", differ(desc));
    assert!(differ(hs) > 0.3, "other valid codes: {}", differ(hs));
    assert!(differ(brand) > 0.1, "other brands: {}", differ(brand));
    let t = sentinel::tables::Tables::get();
    let unknown = b.iter().filter(|r| !t.hs_known(&r[hs].replace('.', ""))).count();
    assert_eq!(unknown, 0, "every code is in the HS nomenclature");
    let bad = wd.run(&[&base[..], &["--variant", "1001", "--out", "x.csv"]].concat());
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--variant"), "{}", bad.stderr);
}
