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
