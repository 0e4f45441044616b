//! `sentinel train`: deterministic artifacts that round-trip, refuse
//! tampering, and explain rows by their own largest contributions.

use sentinel::in_memory;
use sentinel::model::Model;
use sentinel::pipeline;
use sentinel::reader::{Input, Reader};
use sentinel::reasons;

use crate::util::{copy_dir, fixture, Workdir};

#[test]
fn training_twice_with_a_seed_gives_identical_scores() {
    let wd = Workdir::new();
    let f = fixture();
    let train = f.train.to_str().unwrap();
    assert_eq!(
        wd.run(&[
            "train",
            "--data",
            train,
            "--out",
            "m2",
            "--iterations",
            "120",
            "-q"
        ])
        .code,
        0
    );
    let a = std::fs::read(f.model.join("model.bin")).unwrap();
    let b = std::fs::read(wd.path("m2/model.bin")).unwrap();
    assert!(a == b, "same data, same seed: same model bytes");
    let test = f.test.to_str().unwrap();
    assert_eq!(
        wd.run(&[
            "score",
            test,
            "--model",
            f.model.to_str().unwrap(),
            "--out",
            "a.csv",
            "-q"
        ])
        .code,
        0
    );
    assert_eq!(
        wd.run(&["score", test, "--model", "m2", "--out", "b.csv", "-q"])
            .code,
        0
    );
    assert!(std::fs::read(wd.path("a.csv")).unwrap() == std::fs::read(wd.path("b.csv")).unwrap());
}

#[test]
fn the_artifact_round_trips_to_identical_scores() {
    let f = fixture();
    let wd = Workdir::new();
    let model = Model::load(&f.model).unwrap();
    let mut copy = model.clone();
    copy.save(&wd.path("again"), false).unwrap();
    let back = Model::load(&wd.path("again")).unwrap();
    assert_eq!(back.parts, model.parts);
    assert_eq!(back.profiles, model.profiles);
    let mut r = Reader::open(&[Input::Path(f.test.clone())], None, None).unwrap();
    let b = r.read_all().unwrap();
    let score = |m: &Model| {
        let h = in_memory::histories(m, &b);
        let ev = pipeline::evidence(&m.parts, &b, &h);
        pipeline::score(&m.parts, &ev, pipeline::Scoring::Supervised).risk
    };
    assert_eq!(score(&model), score(&back));
}

#[test]
fn manifest_describes_the_model() {
    let f = fixture();
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.model.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["format_version"], sentinel::model::FORMAT_VERSION);
    assert_eq!(m["mode"], "supervised");
    assert_eq!(m["training_rows"], 30000);
    assert_eq!(m["training_files"][0]["sha256"].as_str().unwrap().len(), 64);
    assert!(m["command_line"].as_array().unwrap().iter().any(|a| a == "train"));
    assert!(m["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f["meaning"].as_str().unwrap().is_empty()));
    for file in ["model.bin", "profiles.bin", "tables/hs_codes.csv"] {
        assert!(m["files"][file].is_string(), "{file} has a checksum");
    }
    assert!(m["metrics"]["pr_auc"].as_f64().is_some());
}

#[test]
fn tampered_or_mismatched_artifacts_are_refused() {
    let f = fixture();
    let wd = Workdir::new();
    copy_dir(&f.model, &wd.path("t"));
    let p = wd.path("t/profiles.bin");
    let mut bytes = std::fs::read(&p).unwrap();
    let k = bytes.len() / 2;
    bytes[k] ^= 1;
    std::fs::write(&p, bytes).unwrap();
    let err = Model::load(&wd.path("t")).unwrap_err();
    assert!(
        format!("{err:#}").contains("profiles.bin has checksum"),
        "{err:#}"
    );

    copy_dir(&f.model, &wd.path("v"));
    let m = wd.path("v/manifest.json");
    let text = std::fs::read_to_string(&m).unwrap().replace(
        &format!(
            "\"feature_set_version\": {}",
            sentinel::features::FEATURE_SET_VERSION
        ),
        "\"feature_set_version\": 0",
    );
    std::fs::write(&m, text).unwrap();
    let err = Model::load(&wd.path("v")).unwrap_err();
    assert!(format!("{err:#}").contains("feature set 0"), "{err:#}");

    copy_dir(&f.model, &wd.path("tables"));
    let t = wd.path("tables/tables/hs_codes.csv");
    std::fs::write(&t, "prefix,category,meaning\n").unwrap();
    let err = Model::load(&wd.path("tables")).unwrap_err();
    assert!(
        format!("{err:#}").contains("tables/hs_codes.csv has checksum"),
        "{err:#}"
    );
}

#[test]
fn a_non_empty_out_needs_force() {
    let wd = Workdir::new();
    let f = fixture();
    std::fs::create_dir(wd.path("m")).unwrap();
    wd.write("m/keep.txt", "x");
    let run = wd.run(&["train", "--data", f.train.to_str().unwrap(), "--out", "m", "-q"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
}

#[test]
fn label_free_training_without_labels() {
    let wd = Workdir::new();
    let f = fixture();
    let run = wd.run(&[
        "train",
        "--data",
        f.train.to_str().unwrap(),
        "--out",
        "lf",
        "--ignore-labels",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m = Model::load(&wd.path("lf")).unwrap();
    assert!(!m.supervised());
    let run = wd.run(&[
        "score",
        f.test.to_str().unwrap(),
        "--model",
        "lf",
        "--out",
        "o.csv",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Setting the feature behind a row's top reason to a typical honest value
/// lowers that row's score: reasons are the row's own contributions.
#[test]
fn neutralising_the_top_reason_lowers_the_score() {
    let f = fixture();
    let model = Model::load(&f.model).unwrap();
    let mut r = Reader::open(&[Input::Path(f.test.clone())], None, None).unwrap();
    let b = r.read_all().unwrap();
    let h = in_memory::histories(&model, &b);
    let ev = pipeline::evidence(&model.parts, &b, &h);
    let s = pipeline::score(&model.parts, &ev, pipeline::Scoring::Supervised);
    let forest = model.parts.risk.as_ref().unwrap();
    let order = sentinel::metrics::order_desc(&s.risk);
    let mut checked = 0;
    for &i in order.iter().take(40) {
        let attr =
            pipeline::attributions(&model.parts, &ev, pipeline::Scoring::Supervised, i..i + 1).remove(0);
        let top_reason = reasons::explain(&model.parts, &ev, &b, i, &attr, 4)[0].code;
        // The features behind the top reason: those of its code that pushed the score up.
        let behind: Vec<&&str> = attr
            .iter()
            .filter(|(n, w)| reasons::code_of(n) == top_reason && *w > 0.0)
            .map(|(n, _)| n)
            .collect();
        assert!(!behind.is_empty());
        let mut row: Vec<f64> = model
            .parts
            .risk_inputs
            .iter()
            .map(|n| ev.frame.col(n).unwrap()[i])
            .collect();
        let before = forest.margin(&row);
        for name in &behind {
            // The median of the column over the batch: what an ordinary row has.
            let j = model.parts.risk_inputs.iter().position(|n| n == *name).unwrap();
            let mut col: Vec<f64> = ev
                .frame
                .col(name)
                .unwrap()
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            col.sort_by(|a, b| a.total_cmp(b));
            row[j] = col[col.len() / 2];
        }
        let after = forest.margin(&row);
        assert!(
            after < before,
            "row {i}: neutralising {top_reason} ({behind:?}) moved the margin from {before} to {after}"
        );
        checked += 1;
    }
    assert_eq!(checked, 40);
}

/// Another agency's layout (Korean import declarations, won, importer and
/// seller IDs) trains through its mapping, and the model ranks its next
/// quarter better than chance.
#[test]
fn a_customs_layout_trains_through_its_mapping_and_ranks_better_than_chance() {
    let wd = Workdir::new();
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/kcd/");
    let mapping = concat!(env!("CARGO_MANIFEST_DIR"), "/datasets/mappings/kcd.toml");
    let train = format!("{data}train-2020-sample.csv");
    let valid = format!("{data}valid-2021q1-sample.csv");
    let run = wd.run(&[
        "train",
        "--data",
        &train,
        "--mapping",
        mapping,
        "--out",
        "m",
        "-q",
    ]);
    // Rows with a net mass of 0 are rejected (exit 3); the rest train.
    assert!(run.code == 0 || run.code == 3, "{}", run.stderr);
    assert!(wd.path("m/manifest.json").exists());
    let run = wd.run(&["evaluate", &valid, "--model", "m", "--json"]);
    assert!(run.code == 0 || run.code == 3, "{}", run.stderr);
    let r: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rows = r["rows"].as_f64().unwrap();
    let base = r["positives"].as_f64().unwrap() / rows;
    assert!(
        rows > 1400.0 && (0.15..0.3).contains(&base),
        "{rows} rows, base rate {base}"
    );
    let m = &r["model"];
    let at = |pct: f64| {
        m["at_budget"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["budget_percent"].as_f64() == Some(pct))
            .map(|b| b["precision"].as_f64().unwrap())
            .unwrap()
    };
    let pr_auc = m["pr_auc"].as_f64().unwrap();
    assert!(
        at(10.0) > 1.5 * base,
        "precision at 10% {} against base rate {base}",
        at(10.0)
    );
    // On 3,000 training rows today's model reaches PR-AUC 0.31 against a
    // base rate of 0.20 (the full dev split: 0.54 against 0.21).
    assert!(pr_auc > base + 0.04, "PR-AUC {pr_auc} against base rate {base}");
}

/// Trains on the fixture's world through the library, holding the run or
/// reading it again for each pass.
fn train_sampled(
    negatives: sentinel::sampling::Negatives,
    in_memory_bytes: u64,
    reviews: Option<sentinel::batch::Batch>,
) -> sentinel::training::Trained {
    use sentinel::model::gbm::GbmParams;
    use sentinel::reader::RejectSink;
    use sentinel::training::{train, TrainConfig, TrainData};
    let f = fixture();
    let wd = Workdir::new();
    let cfg = TrainConfig {
        seed: 3,
        ignore_labels: false,
        party_outcomes: false,
        negatives,
        in_memory_bytes,
        gbm: GbmParams {
            iterations: 40,
            ..GbmParams::default()
        },
    };
    let data = TrainData {
        inputs: &[Input::Path(f.train.clone())],
        mapping: None,
        rejects: RejectSink::create(&wd.path("rejects.csv")).unwrap(),
        reviews,
    };
    train(data, &cfg, &|_, _, _| {}).unwrap()
}

#[test]
fn a_sample_is_the_same_whether_the_run_is_held_or_read_again() {
    use sentinel::sampling::Negatives;
    let held = train_sampled(Negatives::Share(0.3), u64::MAX, None);
    let reread = train_sampled(Negatives::Share(0.3), 0, None);
    assert!(
        held.parts == reread.parts,
        "held and re-read runs train the same model"
    );
    assert_eq!(held.sampling, reread.sampling);
    let s = &held.sampling;
    assert_eq!(held.rows, 30_000);
    assert_eq!(s.negatives_seen + s.always_kept, held.rows);
    assert_eq!(s.always_kept, held.positives, "every positive is kept");
    // About 30% of the honest rows, the strata floors included.
    let share = s.negatives_kept as f64 / s.negatives_seen as f64;
    assert!((0.28..0.32).contains(&share), "{share}");
    assert!(s.rate > 0.0 && s.rate < 0.3, "{}", s.rate);
    // Sampling changes the model; a different seed changes the sample.
    let all = train_sampled(Negatives::All, u64::MAX, None);
    assert_eq!(all.sampling.negatives_kept, all.sampling.negatives_seen);
    assert!(all.parts != held.parts);
}

#[test]
fn reviewed_rows_count_alike_whether_the_run_is_held_or_read_again() {
    use sentinel::sampling::Negatives;
    use sentinel::schema::Col;
    let f = fixture();
    let read = |p: &std::path::Path| {
        Reader::open(&[Input::Path(p.to_path_buf())], None, None)
            .unwrap()
            .read_all()
            .unwrap()
    };
    // Ten honest training shipments confirmed on review, and ten
    // shipments of another world reviewed (trained on as extra rows).
    let train = read(&f.train);
    let honest: Vec<usize> = (0..train.len)
        .filter(|&i| train.num(Col::Label)[i] < 0.5)
        .take(10)
        .collect();
    let mut reviews = train.select(&honest);
    reviews.num_mut(Col::Label).iter_mut().for_each(|v| *v = 1.0);
    let test = read(&f.test);
    let other = test.select(&(0..10).collect::<Vec<_>>());
    let other_honest = other.num(Col::Label).iter().filter(|v| **v < 0.5).count() as u64;
    reviews.append(other);
    let held = train_sampled(Negatives::Share(0.3), u64::MAX, Some(reviews.clone()));
    let reread = train_sampled(Negatives::Share(0.3), 0, Some(reviews));
    assert!(
        held.parts == reread.parts,
        "held and re-read runs train the same model"
    );
    assert_eq!(held.sampling, reread.sampling);
    assert_eq!(held.rows, 30_010, "the other world's shipments are added");
    let plain = train_sampled(Negatives::Share(0.3), u64::MAX, None);
    // The ten confirmed become positives, and every reviewed row is kept.
    assert!(
        held.positives >= plain.positives + 10,
        "{} {}",
        held.positives,
        plain.positives
    );
    assert_eq!(held.sampling.always_kept, held.positives + other_honest);
}

#[test]
fn negatives_are_recorded_in_the_manifest_and_checked() {
    let f = fixture();
    let wd = Workdir::new();
    let train = f.train.to_str().unwrap();
    let r = wd.run(&[
        "train",
        "--data",
        train,
        "--out",
        "m",
        "--iterations",
        "20",
        "--negatives",
        "5000",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let man: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("m/manifest.json")).unwrap()).unwrap();
    let s = &man["sampling"];
    assert_eq!(s["negatives_requested"], "5000");
    let kept = s["negatives_kept"].as_u64().unwrap();
    assert!((4_500..=5_500).contains(&kept), "{kept}");
    assert_eq!(s["always_kept"], man["training_positives"]);
    for bad in ["0", "1.5", "lots"] {
        let r = wd.run(&["train", "--data", train, "--out", "x", "--negatives", bad, "-q"]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(r.stderr.contains("--negatives"), "{}", r.stderr);
    }
}
