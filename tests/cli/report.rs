//! `sentinel report`: a self-contained page whose manifest text is shown as
//! text, and the same content as JSON.

use crate::util::{fixture, Workdir};

#[test]
fn hostile_manifest_text_is_shown_as_text() {
    let wd = Workdir::new();
    let f = fixture();
    // A copy of the test batch whose first rows carry markup and formula prefixes.
    let text = std::fs::read_to_string(&f.test).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let desc = header.iter().position(|h| *h == "description").unwrap();
    let name = header.iter().position(|h| *h == "usppi_name").unwrap();
    for l in lines.iter_mut().skip(1) {
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(l.as_bytes());
        let mut rec: Vec<String> = rd
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        rec[desc] = "<script>alert(1)</script> adapter".into();
        rec[name] = "=HYPERLINK(\"http://x\") \"quoted\" & <b>bold</b>".into();
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&rec).unwrap();
        *l = String::from_utf8(w.into_inner().unwrap())
            .unwrap()
            .trim_end()
            .to_string();
    }
    wd.write("hostile.csv", lines.join("\n") + "\n");
    let model = f.model.to_str().unwrap();
    assert_eq!(
        wd.run(&[
            "score",
            "hostile.csv",
            "--model",
            model,
            "--out",
            "scored.csv",
            "-q"
        ])
        .code,
        0
    );
    let run = wd.run(&[
        "report",
        "scored.csv",
        "--input",
        "hostile.csv",
        "--model",
        model,
        "--out",
        "r.html",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let html = std::fs::read_to_string(wd.path("r.html")).unwrap();
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "markup from a manifest must not reach the page as markup"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; adapter"));
    // The model's in-sample training figure is not shown as its quality.
    assert!(html.contains("<dt>model</dt>"));
    assert!(
        !html.contains("in-sample") && !html.contains("PR-AUC"),
        "no in-sample quality figure"
    );
    assert!(!html.contains("<b>bold</b>"));
    assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"));
    assert!(html.contains("CONFIDENTIAL"));
    assert!(
        html.contains("=HYPERLINK(&quot;http://x&quot;) &quot;quoted&quot; &amp; "),
        "quotes and ampersands escaped"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained: no external assets"
    );
    for id in [
        "risk-histogram",
        "value-per-kg",
        "by-country",
        "by-exporter",
        "by-reason",
        "id=\"flagged\"",
    ] {
        assert!(html.contains(id), "{id} is in the page");
    }
    // Exactly one script element: ours.
    assert_eq!(html.matches("<script>").count(), 1);

    let run = wd.run(&[
        "report",
        "scored.csv",
        "--input",
        "hostile.csv",
        "--model",
        model,
        "--out",
        "r.json",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("r.json")).unwrap()).unwrap();
    assert_eq!(r["rows"], 20000);
    assert_eq!(r["flagged"], 200);
    let first = &r["shipments"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(
        first["filing"]["description"], "<script>alert(1)</script> adapter",
        "JSON for machines stays faithful"
    );
}

#[test]
fn a_file_that_is_not_scored_output_is_refused() {
    let wd = Workdir::new();
    let f = fixture();
    let run = wd.run(&[
        "report",
        f.test.to_str().unwrap(),
        "--input",
        f.test.to_str().unwrap(),
        "--out",
        "r.html",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a scored file"), "{}", run.stderr);
}
