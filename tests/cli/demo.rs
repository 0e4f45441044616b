//! `sentinel demo`: every file it promises, from a small world.

use crate::util::Workdir;

#[test]
fn demo_writes_every_file_it_names() {
    let wd = Workdir::new();
    let run = wd.run(&["demo", "--rows", "20000", "--out", "d"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for f in [
        "train.csv",
        "batch.csv",
        "model/manifest.json",
        "evaluation.txt",
        "evaluation.json",
        "scored.csv",
        "summary.json",
        "report.html",
        "cases.csv",
        "list.csv",
        "list.truth.csv",
        "screened.csv",
    ] {
        assert!(wd.path("d").join(f).exists(), "{f} missing");
    }
    assert!(
        run.stderr.contains("Open first:") && run.stderr.contains("report.html"),
        "{}",
        run.stderr
    );
    let html = std::fs::read_to_string(wd.path("d/report.html")).unwrap();
    assert!(html.contains("id=\"flagged\""));
    // Running it again replaces its own files: stale copies are rewritten.
    let stale = "stale,file\n";
    for f in ["scored.csv", "report.html", "evaluation.txt"] {
        std::fs::write(wd.path("d").join(f), stale).unwrap();
    }
    let again = wd.run(&["demo", "--rows", "20000", "--out", "d", "-q"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    for f in ["scored.csv", "report.html", "evaluation.txt"] {
        let text = std::fs::read_to_string(wd.path("d").join(f)).unwrap();
        assert!(text != stale && text.len() > 1000, "{f} was not replaced");
    }
    let scored = std::fs::read_to_string(wd.path("d/scored.csv")).unwrap();
    assert!(scored.starts_with("shipment_id,"), "a scored file again");
}
