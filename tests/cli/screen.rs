//! `sentinel screen`: a world against its own synthetic list, and lists
//! that must be refused with their file and line.

use crate::util::{root, Workdir};

fn read(path: &std::path::Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn a_world_is_screened_against_its_own_list() {
    let wd = Workdir::new();
    let run = wd.run(&[
        "generate",
        "--rows",
        "20000",
        "--seed",
        "2",
        "--scenario",
        "nj-warehouse",
        "--out",
        "w.csv",
        "--list-out",
        "list.csv",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let truth = read(&wd.path("list.truth.csv"));
    assert!(
        !truth.is_empty(),
        "the list holds some of the world's scheme parties"
    );
    let run = wd.run(&["screen", "w.csv", "--list", "list.csv", "--out", "m.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("matches at 0.88 or more"), "{}", run.stderr);
    let text = std::fs::read_to_string(wd.path("m.csv")).unwrap();
    assert!(text.starts_with(
        "shipment_id,role,party_name,list_id,list_source,list_name,matched_name,score,evidence\n"
    ));
    let matches = read(&wd.path("m.csv"));
    // Every listed exporter the world files is found on its lines.
    let listed: std::collections::BTreeSet<&str> = truth.iter().map(|t| &t[0]).collect();
    let found: std::collections::BTreeSet<&str> = matches.iter().map(|m| &m[3]).collect();
    let hit = listed.iter().filter(|id| found.contains(*id)).count();
    assert!(
        hit * 10 >= listed.len() * 8,
        "{hit} of {} listed parties found",
        listed.len()
    );
    for m in &matches {
        let score: f64 = m[7].parse().unwrap();
        assert!((0.88..=1.0).contains(&score), "{m:?}");
        assert!(m[8].starts_with("tokens "), "{m:?}");
    }
    // A stricter line keeps fewer.
    let run = wd.run(&[
        "screen",
        "w.csv",
        "--list",
        "list.csv",
        "--out",
        "m2.csv",
        "--min-score",
        "0.99",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(read(&wd.path("m2.csv")).len() < matches.len());
}

#[test]
fn hostile_lists_are_refused_with_file_and_line() {
    let wd = Workdir::new();
    let sample = root("datasets/sample.csv");
    let sample = sample.to_str().unwrap();
    let big = "x".repeat(1 << 20);
    let mut not_utf8 = b"_id,source,name\n1,s,ok\n2,s,Caf".to_vec();
    not_utf8.extend([0xe9, b'\n']);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("header.csv", b"id,src,title\n1,x,y\n".to_vec(), "line 1"),
        (
            "quote.csv",
            b"_id,source,name\n1,s,\"ok\n2,s,x\n".to_vec(),
            "line",
        ),
        (
            "big.csv",
            format!("_id,source,name\n1,s,ok\n2,s,{big}\n").into_bytes(),
            "line 3",
        ),
        ("bytes.csv", not_utf8, "line 3"),
    ];
    for (name, bytes, line) in cases {
        wd.write(name, bytes);
        let run = wd.run(&["screen", sample, "--list", name, "--out", "m.csv"]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(name) && run.stderr.contains(line),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
    }
    // The output never overwrites a list.
    wd.write("keep.csv", "_id,source,name\n1,s,Hao Global LLC\n");
    let run = wd.run(&["screen", sample, "--list", "keep.csv", "--out", "keep.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(wd.path("keep.csv")).unwrap(),
        "_id,source,name\n1,s,Hao Global LLC\n"
    );
    // Entries without a name are skipped with their line; the rest is read.
    wd.write("gaps.csv", "_id,source,name\n1,s,\n2,s,Hao Global LLC\n");
    let run = wd.run(&["screen", sample, "--list", "gaps.csv", "--out", "m.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("gaps.csv: line 2: entry skipped"),
        "{}",
        run.stderr
    );
}

/// The scored output's rows by shipment id: (risk, flagged, case, codes,
/// reasons).
fn scored_rows(
    path: &std::path::Path,
) -> std::collections::HashMap<String, (f64, bool, String, String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().clone();
    let at = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (sid, risk, flagged, case, codes, reasons) = (
        at("shipment_id"),
        at("risk_score"),
        at("flagged"),
        at("case_id"),
        at("reason_codes"),
        at("reasons"),
    );
    r.records()
        .map(|x| {
            let x = x.unwrap();
            (
                x[sid].to_string(),
                (
                    x[risk].parse().unwrap(),
                    &x[flagged] == "true",
                    x[case].to_string(),
                    x[codes].to_string(),
                    x[reasons].to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn score_with_a_list_raises_listed_lines_explains_them_and_joins_their_cases() {
    let wd = Workdir::new();
    let sample = root("datasets/sample.csv");
    let list = root("datasets/screening-list.csv");
    let (sample, list) = (sample.to_str().unwrap(), list.to_str().unwrap());
    // The embedded model was trained without a list; it scores with one,
    // in both modes.
    for mode in [&[][..], &["--ignore-labels"][..]] {
        let mut plain = vec!["score", sample, "--out", "s0.csv", "-q"];
        plain.extend(mode);
        let run = wd.run(&plain);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let mut listed = vec![
            "score",
            sample,
            "--out",
            "s1.csv",
            "--list",
            list,
            "--summary-json",
            "s.json",
        ];
        listed.extend(mode);
        let run = wd.run(&listed);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("restricted parties:"), "{}", run.stderr);
        let (s0, s1) = (scored_rows(&wd.path("s0.csv")), scored_rows(&wd.path("s1.csv")));
        assert_eq!(s0.len(), s1.len());
        // Lines of no listed party score as before; listed ones higher.
        let (mut raised, mut same) = (0, 0);
        for (id, (r1, ..)) in &s1 {
            let r0 = s0[id].0;
            if r1 > &r0 {
                raised += 1;
            } else {
                assert_eq!(*r1, r0, "{id}: a line can only rise");
                same += 1;
            }
        }
        assert!(
            raised > 20 && same > raised * 10,
            "{mode:?}: {raised} raised, {same} not"
        );
        // A listed line's reasons begin with its list entry.
        let explained: Vec<_> = s1.values().filter(|v| v.3.starts_with("LISTED_PARTY")).collect();
        assert!(!explained.is_empty(), "{mode:?}");
        for (_, _, _, codes, reasons) in &explained {
            assert!(!codes[1..].contains("LISTED_PARTY"), "{codes}");
            assert!(
                reasons.contains(" matches ") && reasons.contains(" entry syn-"),
                "{reasons}"
            );
            assert!(
                reasons.split(" | ").next().unwrap().contains("(score "),
                "{reasons}"
            );
        }
        // Flagged lines of one entry are one case.
        let mut case_of: std::collections::HashMap<String, std::collections::BTreeSet<String>> =
            Default::default();
        for (_, flagged, case, codes, reasons) in s1.values() {
            if *flagged && codes.starts_with("LISTED_PARTY") {
                let entry = reasons
                    .split(" entry ")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap();
                case_of.entry(entry.to_string()).or_default().insert(case.clone());
            }
        }
        assert!(!case_of.is_empty(), "{mode:?}: some listed lines are flagged");
        for (entry, cases) in &case_of {
            assert_eq!(cases.len(), 1, "{entry}: {cases:?}");
            assert!(!cases.iter().next().unwrap().is_empty());
        }
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(wd.path("s.json")).unwrap()).unwrap();
        assert!(summary["listed"]["lines"].as_u64().unwrap() as usize >= raised);
        assert!(summary["listed"]["flagged"].as_u64().unwrap() > 0);
    }
    // The report shows the entry beside the filing, and `cases` with it.
    let run = wd.run(&["report", "s1.csv", "--input", sample, "--out", "r.html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
    assert!(html.contains("LISTED_PARTY") && html.contains(" entry syn-"));
    let run = wd.run(&["cases", "s1.csv", "--input", sample, "--out", "c.csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::read_to_string(wd.path("c.csv"))
        .unwrap()
        .contains("LISTED_PARTY"));
    // Without a list the summary says nothing of one.
    let run = wd.run(&[
        "score",
        sample,
        "--out",
        "s2.csv",
        "--summary-json",
        "t.json",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!std::fs::read_to_string(wd.path("t.json"))
        .unwrap()
        .contains("\"listed\""));
    // A bad list stops the run before it starts, naming the list.
    wd.write("bad.csv", "id,name\n1,Hao Global LLC\n");
    let run = wd.run(&["score", sample, "--out", "s3.csv", "--list", "bad.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("bad.csv"), "{}", run.stderr);
    assert!(!wd.path("s3.csv").exists());
    // And the output never overwrites a list.
    std::fs::copy(list, wd.path("l.csv")).unwrap();
    let before = std::fs::read(wd.path("l.csv")).unwrap();
    let run = wd.run(&["score", sample, "--out", "l.csv", "--list", "l.csv"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(std::fs::read(wd.path("l.csv")).unwrap(), before);
}

#[test]
fn a_hostile_list_name_reaches_the_reasons_shown_not_obeyed() {
    let wd = Workdir::new();
    let sample = root("datasets/sample.csv");
    let sample = sample.to_str().unwrap();
    // The sample's first line's consignee, listed under a name carrying a
    // terminal escape and a formula.
    let mut r = csv::Reader::from_path(sample).unwrap();
    let h = r.headers().unwrap().clone();
    let first = r.records().next().unwrap().unwrap();
    let at = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (name, country) = (
        &first[at("ultimate_consignee_name")],
        &first[at("ultimate_consignee_country")],
    );
    let hostile = format!("{name}; =HYPERLINK(\"x\") \u{1b}[31mred");
    let mut w = csv::Writer::from_path(wd.path("hostile.csv")).unwrap();
    w.write_record(["_id", "source", "name", "alt_names", "addresses"])
        .unwrap();
    w.write_record([
        "h-1",
        "=cmd|' /C calc'!A0",
        "\u{1b}[2JCleared",
        &hostile,
        &format!("1 Road, {country}"),
    ])
    .unwrap();
    w.flush().unwrap();
    drop(w);
    let run = wd.run(&[
        "score",
        sample,
        "--out",
        "s.csv",
        "--list",
        "hostile.csv",
        "--budget",
        "top:20000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    let text = std::fs::read_to_string(wd.path("s.csv")).unwrap();
    assert!(text.contains("LISTED_PARTY"), "the listed consignee is found");
    assert!(!text.contains('\u{1b}'), "escapes are shown, not written");
    assert!(text.contains("\\u{1b}"));
}
