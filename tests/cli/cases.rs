//! Cases: `score`'s case_id column, `sentinel cases`, the report's cases
//! section, and one decision for a whole case in the review store.

use std::collections::{HashMap, HashSet};

use crate::util::{fixture, read_csv, score_fixture, Workdir};

/// The fixture's test world scored at a 1% budget: (header, rows).
fn scored(wd: &Workdir) -> (Vec<String>, Vec<Vec<String>>) {
    score_fixture(wd, "scored.csv", &["--budget", "1%", "--keep-columns"]);
    read_csv(&wd.path("scored.csv"))
}

#[test]
fn flagged_lines_sharing_parties_are_one_case_and_cases_csv_lists_them() {
    let wd = Workdir::new();
    let (header, rows) = scored(&wd);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (case, flagged, risk, exporter, typology) = (
        col("case_id"),
        col("flagged"),
        col("risk_score"),
        col("usppi_id"),
        col("typology"),
    );
    let is_flagged = |r: &Vec<String>| r[flagged] == "true";
    // Every flagged line is in a case; a case's lines below the flag line
    // share a party with it.
    assert!(rows.iter().filter(|r| is_flagged(r)).all(|r| !r[case].is_empty()));
    let flagged_cases: HashSet<&str> = rows
        .iter()
        .filter(|r| is_flagged(r))
        .map(|r| r[case].as_str())
        .collect();
    assert!(rows
        .iter()
        .all(|r| r[case].is_empty() || flagged_cases.contains(r[case].as_str())));
    // Flagged lines of one exporter ID are in one case.
    let mut case_of_exporter: HashMap<&str, &str> = HashMap::new();
    for r in rows.iter().filter(|r| is_flagged(r) && !r[exporter].is_empty()) {
        let c = case_of_exporter
            .entry(r[exporter].as_str())
            .or_insert(r[case].as_str());
        assert_eq!(*c, r[case], "exporter {}", r[exporter]);
    }
    // The New Jersey ring's flagged lines fall in at most 2 cases holding
    // at least 95% of them.
    let mut nj: HashMap<&str, usize> = HashMap::new();
    for r in rows
        .iter()
        .filter(|r| is_flagged(r) && r[typology] == "nj_warehouse")
    {
        *nj.entry(r[case].as_str()).or_default() += 1;
    }
    let nj_flagged: usize = nj.values().sum();
    assert!(nj_flagged >= 10, "the ring is flagged: {nj_flagged}");
    let mut sizes: Vec<usize> = nj.values().copied().collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let top2: usize = sizes.iter().take(2).sum();
    assert!(top2 * 100 >= nj_flagged * 95, "ring cases {sizes:?}");

    // `sentinel cases`: one row per case, C1 first, counts that add up.
    let f = fixture();
    let run = wd.run(&[
        "cases",
        "scored.csv",
        "--input",
        f.test.to_str().unwrap(),
        "--out",
        "cases.csv",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (ch, crows) = read_csv(&wd.path("cases.csv"));
    let cc = |n: &str| ch.iter().position(|h| h == n).unwrap();
    assert_eq!(crows.len(), flagged_cases.len());
    assert_eq!(crows[0][cc("case_id")], "C1");
    let total: usize = crows
        .iter()
        .map(|r| r[cc("flagged_lines")].parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, rows.iter().filter(|r| is_flagged(r)).count());
    for r in &crows {
        let id = r[cc("case_id")].as_str();
        let lines = rows.iter().filter(|x| x[case] == id).count();
        assert_eq!(r[cc("lines")], lines.to_string(), "case {id}");
        // The case score from the flagged lines' risk.
        let p: f64 = rows
            .iter()
            .filter(|x| x[case] == id && is_flagged(x))
            .map(|x| 1.0 - x[risk].parse::<f64>().unwrap())
            .product();
        let score: f64 = r[cc("case_score")].parse().unwrap();
        assert!(
            (score - (1.0 - p)).abs() < 1e-5,
            "case {id}: {score} vs {}",
            1.0 - p
        );
    }
    // Cases are numbered strongest first.
    let scores: Vec<f64> = crows
        .iter()
        .map(|r| r[cc("case_score")].parse().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1] - 1e-6), "{scores:?}");

    // The report has a cases section with a network picture of the largest.
    let run = wd.run(&[
        "report",
        "scored.csv",
        "--input",
        f.test.to_str().unwrap(),
        "--model",
        f.model.to_str().unwrap(),
        "--out",
        "r.html",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
    assert!(html.contains("<section id=\"cases\">"));
    assert!(html.contains("class=\"case-network\""));
}

#[test]
fn cases_refuses_a_file_scored_without_cases() {
    let wd = Workdir::new();
    let f = fixture();
    wd.write(
        "old.csv",
        "shipment_id,risk_score,flagged,rank,declared_category,likely_category,likely_probability,reason_codes,reasons,model_id\nX,0.5,true,1,storage,storage,0.9,,,m\n",
    );
    let run = wd.run(&[
        "cases",
        "old.csv",
        "--input",
        f.test.to_str().unwrap(),
        "--out",
        "c.csv",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no case_id column"), "{}", run.stderr);
    assert!(!wd.path("c.csv").exists());
}

#[test]
fn a_case_decision_decides_its_lines_and_keeps_the_exceptions() {
    let wd = Workdir::new();
    let (header, rows) = scored(&wd);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (case, flagged, id) = (col("case_id"), col("flagged"), col("shipment_id"));
    let f = fixture();
    // Load every row, so the case's lines below the flag line are there too.
    let run = wd.run(&[
        "review",
        "import",
        "scored.csv",
        "--input",
        f.test.to_str().unwrap(),
        "--db",
        "r.sqlite",
        "--all",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lead = rows
        .iter()
        .find(|r| r[case] == "C1" && r[flagged] == "true")
        .unwrap();
    let run = wd.run(&[
        "review",
        "decide",
        "--db",
        "r.sqlite",
        &lead[id],
        "--decision",
        "confirmed",
        "--reviewer",
        "ana",
        "--whole-case",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let flagged_in_case = rows
        .iter()
        .filter(|r| r[case] == "C1" && r[flagged] == "true")
        .count();
    let others = rows.iter().filter(|r| r[case] == "C1").count() - flagged_in_case;
    assert!(
        run.stderr
            .contains(&format!("{flagged_in_case} lines decided, {others} exceptions")),
        "{}",
        run.stderr
    );
    // The export has exactly the case's flagged lines, confirmed.
    let run = wd.run(&["review", "export", "--db", "r.sqlite", "--out", "labels.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (lh, lrows) = read_csv(&wd.path("labels.csv"));
    let (lid, llabel) = (
        lh.iter().position(|h| h == "shipment_id").unwrap(),
        lh.iter().position(|h| h == "label").unwrap(),
    );
    let want: HashSet<&str> = rows
        .iter()
        .filter(|r| r[case] == "C1" && r[flagged] == "true")
        .map(|r| r[id].as_str())
        .collect();
    let got: HashSet<&str> = lrows.iter().map(|r| r[lid].as_str()).collect();
    assert_eq!(got, want);
    assert!(lrows.iter().all(|r| r[llabel] == "1"));
    // A shipment in no case cannot be decided as a case.
    if let Some(lone) = rows.iter().find(|r| r[case].is_empty()) {
        let run = wd.run(&[
            "review",
            "decide",
            "--db",
            "r.sqlite",
            &lone[id],
            "--decision",
            "cleared",
            "--reviewer",
            "ana",
            "--whole-case",
        ]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("is in no case"), "{}", run.stderr);
    }
}
