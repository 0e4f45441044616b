//! `sentinel score`: the scored output of the spec, budgets and thresholds,
//! stdin/stdout, Parquet, rejects, bad models and inputs. Every test checks
//! rows in = rows scored + rows rejected.

use std::collections::HashSet;

use polars::prelude::*;

use crate::util::{copy_dir, fixture, read_csv, root, Workdir};

const HEADER: [&str; 12] = [
    "shipment_id",
    "filing_id",
    "risk_score",
    "flagged",
    "rank",
    "case_id",
    "declared_category",
    "likely_category",
    "likely_probability",
    "reason_codes",
    "reasons",
    "model_id",
];

fn summary(wd: &Workdir, name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(wd.path(name)).unwrap()).unwrap()
}

/// Scores the shipped sample with the embedded default model from `wd`;
/// the run must succeed.
fn score_sample(wd: &Workdir, args: &[&str]) -> crate::util::Run {
    let sample = root("datasets/sample.csv");
    let run = wd.run(&[&["score", sample.to_str().unwrap()][..], args].concat());
    assert_eq!(run.code, 0, "{}", run.stderr);
    run
}

#[test]
fn default_model_scores_the_shipped_sample_from_another_directory() {
    let wd = Workdir::new();
    let sample = root("datasets/sample.csv");
    let run = score_sample(&wd, &["--out", "scored.csv", "--summary-json", "s.json"]);
    assert!(
        run.stderr.contains("flagged"),
        "summary on stderr: {}",
        run.stderr
    );
    let (header, rows) = read_csv(&wd.path("scored.csv"));
    assert_eq!(header, HEADER);
    assert_eq!(rows.len(), 20000);
    let s = summary(&wd, "s.json");
    assert_eq!(s["rows_read"], 20000);
    assert_eq!(
        s["scored"].as_u64().unwrap() + s["rejected"].as_u64().unwrap(),
        20000
    );
    assert_eq!(s["flagged"], 200, "1% of 20,000");
    assert_eq!(s["top"].as_array().unwrap().len(), 10);
    // Ranks are a permutation; flags are the top 1%; flagged rows carry 2-4 reasons.
    let ranks: HashSet<usize> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
    assert_eq!(ranks.len(), 20000);
    assert!(ranks.contains(&1) && ranks.contains(&20000));
    for r in &rows {
        let rank: usize = r[4].parse().unwrap();
        assert_eq!(r[3] == "true", rank <= 200);
        let risk: f64 = r[2].parse().unwrap();
        assert!((0.0..=1.0).contains(&risk));
        if r[3] == "true" {
            // An empty cell splits into one empty item: count real codes.
            let codes: Vec<&str> = r[9].split(';').filter(|c| !c.is_empty()).collect();
            let sentences: Vec<&str> = r[10].split(" | ").filter(|c| !c.is_empty()).collect();
            assert!(
                (1..=4).contains(&codes.len()) && sentences.len() == codes.len(),
                "reasons of a flagged row: {r:?}"
            );
            for (c, t) in codes.iter().zip(&sentences) {
                assert!(
                    t.starts_with(&format!("{c}: ")),
                    "a sentence per code, in order: {r:?}"
                );
            }
        }
    }
    // The embedded model finds most of the sample's schemes in its top 1%.
    let (in_header, input) = read_csv(&sample);
    let label = in_header.iter().position(|h| h == "label").unwrap();
    let positives: HashSet<&str> = input
        .iter()
        .filter(|r| r[label] == "1")
        .map(|r| r[0].as_str())
        .collect();
    let caught = rows
        .iter()
        .filter(|r| r[3] == "true" && positives.contains(r[0].as_str()))
        .count();
    assert!(
        caught * 2 > positives.len(),
        "caught {caught} of {}",
        positives.len()
    );
}

#[test]
fn stdin_to_stdout() {
    let wd = Workdir::new();
    let f = fixture();
    let bytes = std::fs::read(&f.test).unwrap();
    let run = wd.run_stdin(
        &[
            "score",
            "-",
            "--out",
            "-",
            "--model",
            f.model.to_str().unwrap(),
            "-q",
        ],
        Some(&bytes),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut rd = csv::Reader::from_reader(run.stdout.as_bytes());
    assert_eq!(rd.headers().unwrap().iter().collect::<Vec<_>>(), HEADER);
    assert_eq!(rd.records().count(), 20000);
    assert!(run.stderr.is_empty(), "-q keeps stderr quiet: {}", run.stderr);
    let (h, rejects) = read_csv(&wd.path("rejects.csv"));
    assert_eq!(h[0], "file");
    assert!(rejects.is_empty());
}

#[test]
fn parquet_in_and_out() {
    let wd = Workdir::new();
    let f = fixture();
    assert_eq!(
        wd.run(&[
            "generate",
            "--rows",
            "3000",
            "--seed",
            "9",
            "--out",
            "in.parquet",
            "-q"
        ])
        .code,
        0
    );
    let run = wd.run(&[
        "score",
        "in.parquet",
        "--out",
        "out.parquet",
        "--model",
        f.model.to_str().unwrap(),
        "--budget",
        "top:30",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let file = std::fs::File::open(wd.path("out.parquet")).unwrap();
    let df = ParquetReader::new(file).finish().unwrap();
    assert_eq!(df.height(), 3000);
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(names, HEADER);
    let flagged = df.column("flagged").unwrap().bool().unwrap().sum().unwrap();
    assert_eq!(flagged, 30);
    assert_eq!(df.column("risk_score").unwrap().dtype(), &DataType::Float64);
}

#[test]
fn budgets_and_thresholds() {
    let wd = Workdir::new();
    let f = fixture();
    let model = f.model.to_str().unwrap();
    let input = f.test.to_str().unwrap();
    let flagged = |args: &[&str]| -> (usize, Vec<Vec<String>>) {
        let mut all = vec!["score", input, "--out", "o.csv", "--model", model, "-q"];
        all.extend_from_slice(args);
        let run = wd.run(&all);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        let (_, rows) = read_csv(&wd.path("o.csv"));
        (rows.iter().filter(|r| r[3] == "true").count(), rows)
    };
    assert_eq!(flagged(&[]).0, 200, "default budget 1%");
    assert_eq!(flagged(&["--budget", "top:7"]).0, 7);
    assert_eq!(flagged(&["--budget", "0.25%"]).0, 50);
    let (n, rows) = flagged(&["--threshold", "0.5"]);
    let expected = rows
        .iter()
        .filter(|r| r[2].parse::<f64>().unwrap() >= 0.5)
        .count();
    assert_eq!(n, expected);
    assert!(
        n > 0 && n < rows.len(),
        "the threshold splits the batch: {n} of {}",
        rows.len()
    );
    // Over a threshold every flagged row is explained.
    assert!(rows.iter().filter(|r| r[3] == "true").all(|r| !r[9].is_empty()));
    // Under a budget, exactly the rows ranked within twice the flagged
    // count (at least 100) are explained.
    let (n, rows) = flagged(&["--budget", "top:80"]);
    assert_eq!(n, 80);
    for r in &rows {
        let rank: usize = r[4].parse().unwrap();
        assert_eq!(!r[9].is_empty(), rank <= 160, "rank {rank}: {:?}", r[9]);
    }
    let bad = wd.run(&[
        "score", input, "--out", "o.csv", "--model", model, "--budget", "2",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("top:500"), "{}", bad.stderr);
    let bad = wd.run(&[
        "score",
        input,
        "--out",
        "o.csv",
        "--model",
        model,
        "--threshold",
        "1.5",
    ]);
    assert_eq!(bad.code, 2);
}

#[test]
fn chunked_scoring_is_identical() {
    let wd = Workdir::new();
    let f = fixture();
    let model = f.model.to_str().unwrap();
    let input = f.test.to_str().unwrap();
    assert_eq!(
        wd.run(&["score", input, "--out", "a.csv", "--model", model, "-q"])
            .code,
        0
    );
    assert_eq!(
        wd.run(&[
            "score",
            input,
            "--out",
            "b.csv",
            "--model",
            model,
            "-q",
            "--chunk-rows",
            "977"
        ])
        .code,
        0
    );
    assert!(
        std::fs::read(wd.path("a.csv")).unwrap() == std::fs::read(wd.path("b.csv")).unwrap(),
        "chunking changes nothing"
    );
}

#[test]
fn rejects_give_exit_3_and_nothing_is_lost() {
    let wd = Workdir::new();
    let f = fixture();
    let mut text = std::fs::read_to_string(&f.test).unwrap();
    let header = text.lines().next().unwrap().to_string();
    let ncols = header.split(',').count();
    text.push_str(&format!("BAD1,2025-02-30{}\n", ",".repeat(ncols - 2)));
    text.push_str("RAGGED,1\n");
    wd.write("in.csv", text);
    let run = wd.run(&[
        "score",
        "in.csv",
        "--out",
        "o.csv",
        "--model",
        f.model.to_str().unwrap(),
        "--summary-json",
        "s.json",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let s = summary(&wd, "s.json");
    assert_eq!(s["rows_read"], 20002);
    assert_eq!(s["rejected"], 2);
    assert_eq!(s["scored"], 20000);
    assert!(
        run.stderr.contains("o.csv.rejects.csv"),
        "the summary names the rejects file: {}",
        run.stderr
    );
    let (_, rej) = read_csv(&wd.path("o.csv.rejects.csv"));
    assert_eq!(rej.len(), 2);
    let (_, rows) = read_csv(&wd.path("o.csv"));
    assert_eq!(rows.len(), 20000);
}

#[test]
fn missing_corrupt_and_incompatible_models_are_refused() {
    let wd = Workdir::new();
    let f = fixture();
    let input = f.test.to_str().unwrap();
    let run = wd.run(&["score", input, "--out", "o.csv", "--model", "no-such-model"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no such model directory"), "{}", run.stderr);
    assert!(!wd.path("o.csv").exists(), "no output on failure");

    copy_dir(&f.model, &wd.path("flipped"));
    let p = wd.path("flipped/model.bin");
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[100] ^= 0x10;
    std::fs::write(&p, bytes).unwrap();
    let run = wd.run(&["score", input, "--out", "o.csv", "--model", "flipped"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("model.bin has checksum") && run.stderr.contains("changed or damaged"),
        "{}",
        run.stderr
    );

    copy_dir(&f.model, &wd.path("newer"));
    let m = wd.path("newer/manifest.json");
    let text = std::fs::read_to_string(&m).unwrap().replace(
        &format!("\"format_version\": {}", sentinel::model::FORMAT_VERSION),
        "\"format_version\": 99",
    );
    std::fs::write(&m, text).unwrap();
    let run = wd.run(&["score", input, "--out", "o.csv", "--model", "newer"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "newer than the format {}",
            sentinel::model::FORMAT_VERSION
        )),
        "{}",
        run.stderr
    );

    copy_dir(&f.model, &wd.path("truncated"));
    let p = wd.path("truncated/manifest.json");
    let bytes = std::fs::read(&p).unwrap();
    std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
    let run = wd.run(&["score", input, "--out", "o.csv", "--model", "truncated"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not valid JSON"), "{}", run.stderr);

    copy_dir(&f.model, &wd.path("missing"));
    std::fs::remove_file(wd.path("missing/profiles.bin")).unwrap();
    let run = wd.run(&["score", input, "--out", "o.csv", "--model", "missing"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("profiles.bin cannot be read"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_core_columns_refuse_the_input() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "shipment_id,export_date,hs_code,value\nA,2025-01-01,850440,3\n",
    );
    let run = wd.run(&["score", "in.csv", "--out", "o.csv"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("missing core column(s) value_usd, shipping_weight_kg"),
        "{}",
        run.stderr
    );
    assert!(!wd.path("o.csv").exists());
}

#[test]
fn keep_columns_renames_clashes() {
    let wd = Workdir::new();
    wd.write(
        "in.csv",
        "shipment_id,export_date,hs_code,value_usd,shipping_weight_kg,rank,notes\n\
         A1,2025-01-01,8504.40,12.5,3,7,\"=cmd|' /C calc'!A0\"\n\
         A2,2025-01-02,850440,12.5,3,8,<b>x</b>\n",
    );
    let run = wd.run(&["score", "in.csv", "--out", "o.csv", "--keep-columns", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (header, rows) = read_csv(&wd.path("o.csv"));
    assert_eq!(
        (header[0].as_str(), header[1].as_str()),
        ("shipment_id", "risk_score"),
        "no filing_id column when the input has none"
    );
    assert!(header.contains(&"input_shipment_id".to_string()));
    assert!(header.contains(&"input_rank".to_string()));
    assert!(header.contains(&"notes".to_string()));
    let notes = header.iter().position(|h| h == "notes").unwrap();
    assert_eq!(rows[0][notes], "=cmd|' /C calc'!A0", "data files stay faithful");
    let hs = header.iter().position(|h| h == "hs_code").unwrap();
    assert_eq!(rows[0][hs], "850440");
}

#[test]
fn the_input_is_never_overwritten() {
    let wd = Workdir::new();
    let f = fixture();
    std::fs::copy(&f.test, wd.path("in.csv")).unwrap();
    let before = std::fs::read(wd.path("in.csv")).unwrap();
    let run = wd.run(&[
        "score",
        "in.csv",
        "--out",
        "in.csv",
        "--model",
        f.model.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("overwrite an input"), "{}", run.stderr);
    assert!(std::fs::read(wd.path("in.csv")).unwrap() == before);
}

/// The streamed path (inputs read twice) and the held path (read once) give
/// the same bytes.
#[test]
fn streamed_and_held_runs_are_identical() {
    use sentinel::model::Model;
    use sentinel::pipeline::Mode;
    use sentinel::reader::Input;
    use sentinel::scoring::{score_run, FlagRule, Format, RejectsTo, RunConfig};
    let f = fixture();
    let wd = Workdir::new();
    let model = Model::load(&f.model).unwrap();
    // The batch repeats a few rows: the second read must reject the same ones.
    let text = std::fs::read_to_string(&f.test).unwrap();
    let repeated: Vec<&str> = text.lines().skip(1).take(5).collect();
    wd.write("dups.csv", format!("{text}{}\n", repeated.join("\n")));
    let run = |mode: Mode, in_memory_rows: usize, chunk_rows: usize| -> Vec<u8> {
        let cfg = RunConfig {
            inputs: vec![Input::Path(wd.path("dups.csv"))],
            mapping: None,
            rejects: RejectsTo::File(wd.path("r.csv")),
            mode,
            rule: FlagRule::Budget("1%".parse().unwrap()),
            keep_columns: true,
            chunk_rows,
            in_memory_rows,
            temp_dir: wd.dir.path().to_path_buf(),
            progress: Box::new(|_, _| {}),
            parties: None,
            list: None,
            explain: Default::default(),
        };
        let mut out = Vec::new();
        let (summary, code) = score_run(&model, cfg, &mut out, Format::Csv).unwrap();
        assert_eq!(code, 3);
        assert_eq!(summary.scored, 20000);
        assert_eq!(summary.rejected, 5);
        out
    };
    for mode in [Mode::Supervised, Mode::LabelFree] {
        // The label-free score's sample of the run does not depend on the chunks either.
        let held = run(mode, 1_000_000, 100_000);
        let streamed = run(mode, 0, 3001);
        assert!(
            held == streamed,
            "{mode}: streamed output differs from held output"
        );
    }
    // The streamed run's histories went to a temporary file, gone now.
    let left: Vec<_> = std::fs::read_dir(wd.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".sentinel-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// A label-free run reads its tails from its own rows: `score` ranks as the
/// in-memory path does with the batch's own tails, and not as the model's
/// training tails would.
#[test]
fn label_free_scores_read_the_run_s_own_tails() {
    use sentinel::model::Model;
    use sentinel::pipeline::{self, Scoring};
    use sentinel::reader::{Input, Reader};
    use sentinel::{in_memory, metrics, run_sample};
    let f = fixture();
    let wd = Workdir::new();
    let model = Model::load(&f.model).unwrap();
    let test = f.test.to_str().unwrap();
    let run = wd.run(&[
        "score",
        test,
        "--model",
        f.model.to_str().unwrap(),
        "--ignore-labels",
        "--out",
        "o.csv",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut out = csv::Reader::from_path(wd.path("o.csv")).unwrap();
    let rank_at = out.headers().unwrap().iter().position(|h| h == "rank").unwrap();
    let ranks: Vec<u32> = out
        .records()
        .map(|r| r.unwrap()[rank_at].parse().unwrap())
        .collect();
    let b = Reader::open(&[Input::Path(f.test.clone())], None, None)
        .unwrap()
        .read_all()
        .unwrap();
    let h = in_memory::histories(&model, &b);
    let ev = pipeline::evidence(&model.parts, &b, &h);
    let sample = ev.frame.select(&run_sample::positions(b.len, run_sample::SIZE));
    let own = model.parts.labelfree.for_run(&sample);
    let ranks_of = |risk: &[f64]| {
        let mut r = vec![0u32; risk.len()];
        for (k, &i) in metrics::order_desc(risk).iter().enumerate() {
            r[i] = k as u32 + 1;
        }
        r
    };
    let with_own = pipeline::score(&model.parts, &ev, Scoring::LabelFree(&own)).risk;
    assert_eq!(ranks, ranks_of(&with_own));
    let with_training = pipeline::score(&model.parts, &ev, Scoring::LabelFree(&model.parts.labelfree)).risk;
    assert_ne!(ranks, ranks_of(&with_training));
}

#[test]
fn drift_guard_is_silent_on_its_own_world_and_warns_on_an_unseen_variant() {
    let wd = Workdir::new();
    let sample = root("datasets/sample.csv");
    let run = score_sample(&wd, &["--out", "own.csv", "--summary-json", "own.json", "-q"]);
    let own = summary(&wd, "own.json");
    assert_eq!(own["drift"]["warning"], false, "{}", own["drift"]);
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert!(!own["drift"]["features"].as_array().unwrap().is_empty());
    // A variant the default model was not trained on (it saw 0-7).
    let run = wd.run(&[
        "generate",
        "--rows",
        "20000",
        "--seed",
        "5",
        "--variant",
        "77",
        "--out",
        "v77.csv",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = wd.run(&[
        "score",
        "v77.csv",
        "--out",
        "far.csv",
        "--summary-json",
        "far.json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let far = summary(&wd, "far.json");
    assert_eq!(far["drift"]["warning"], true, "{}", far["drift"]);
    assert!(
        far["drift"]["score"].as_f64().unwrap() > own["drift"]["score"].as_f64().unwrap() * 2.0,
        "{} vs {}",
        far["drift"],
        own["drift"]
    );
    assert!(far["drift"]["unseen"]["descriptions"].as_f64().unwrap() > 0.1);
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("--ignore-labels"),
        "said on stderr even when quiet, with what to do: {}",
        run.stderr
    );
    // The report shows the banner for the far batch only.
    for (scored, input, banner) in [
        ("own.csv", sample.to_str().unwrap(), false),
        ("far.csv", "v77.csv", true),
    ] {
        let run = wd.run(&["report", scored, "--input", input, "--out", "r.html", "-q"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
        assert_eq!(html.contains("id=\"drift-warning\""), banner, "{scored}");
    }
}

#[test]
fn description_reasons_state_only_what_the_description_model_holds() {
    // Every line of the sample explained by its description evidence alone,
    // as `score` explains a line whose model weighs it (whether the default
    // model weighs it on a given line is the model's business): the
    // sentence is said only where the text model holds it.
    use sentinel::reader::{Input, Reader};
    let model = sentinel::model::Model::load(&root("models/default")).unwrap();
    let mut r = Reader::open(&[Input::Path(root("datasets/sample.csv"))], None, None).unwrap();
    let b = r.read_all().unwrap();
    let ev = sentinel::pipeline::evidence(&model.parts, &b, &sentinel::in_memory::histories(&model, &b));
    let mismatch = ev.frame.col("desc_mismatch").unwrap();
    let (mut seen, mut strong) = (0, 0);
    for (i, m) in mismatch.iter().enumerate() {
        strong += usize::from(*m >= 0.5);
        for feature in ["desc_mismatch", "desc_suggests_controlled"] {
            for reason in sentinel::reasons::explain(&model.parts, &ev, &b, i, &[(feature, 1.0)], 3) {
                let s = reason.text;
                assert!(s.starts_with("DESCRIPTION_MISMATCH"), "{s}");
                seen += 1;
                assert!(!s.contains("NaN"), "{s}");
                // "(P 0.83 that it is not ...)": a mismatch said only from even odds.
                if let Some(at) = s.find("(P ") {
                    let p: f64 = s[at + 3..].split(' ').next().unwrap().parse().unwrap();
                    assert!(p >= 0.5, "a reason that the description contradicts: {s}");
                }
            }
        }
    }
    assert!(
        strong > 0,
        "the sample has descriptions the text model places elsewhere"
    );
    assert!(
        seen >= strong,
        "each of them is said: {seen} reasons for {strong} lines"
    );
}

#[test]
fn reasons_say_a_missing_figure_is_missing_rather_than_nan() {
    // The sample without its quantities, package counts and exporter
    // addresses: the figures built on them are unknown, and the model may
    // still weigh their absence.
    let wd = Workdir::new();
    let (header, rows) = read_csv(&root("datasets/sample.csv"));
    let drop = ["quantity", "quantity_unit", "package_count", "usppi_address"];
    let keep: Vec<usize> = (0..header.len())
        .filter(|&j| !drop.contains(&header[j].as_str()))
        .collect();
    let mut w = csv::Writer::from_path(wd.path("thin.csv")).unwrap();
    w.write_record(keep.iter().map(|&j| &header[j])).unwrap();
    for r in &rows {
        w.write_record(keep.iter().map(|&j| &r[j])).unwrap();
    }
    w.flush().unwrap();
    let run = wd.run(&[
        "score",
        "thin.csv",
        "--out",
        "scored.csv",
        "--budget",
        "10%",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (header, rows) = read_csv(&wd.path("scored.csv"));
    let reasons = header.iter().position(|h| h == "reasons").unwrap();
    let mut said = 0;
    for r in &rows {
        assert!(!r[reasons].contains("NaN"), "{}", r[reasons]);
        said += usize::from(!r[reasons].is_empty());
    }
    assert!(said > 0, "some rows have reasons");
}
