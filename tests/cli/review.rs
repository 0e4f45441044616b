//! `sentinel review`: decisions persist with their history, parallel
//! reviewers lose nothing, exports are labels, and reviewed outcomes make
//! the next model better at a scheme it missed.

use sentinel::review::{Decision, Store};

use crate::util::{fixture, read_csv, Workdir};

fn mean_risk_of(scored: &std::path::Path, world: &std::path::Path, typology: &str) -> f64 {
    let (h, rows) = read_csv(world);
    let t = h.iter().position(|c| c == "typology").unwrap();
    let ids: std::collections::HashSet<String> = rows
        .iter()
        .filter(|r| r[t] == typology)
        .map(|r| r[0].clone())
        .collect();
    let (_, s) = read_csv(scored);
    let risks: Vec<f64> = s
        .iter()
        .filter(|r| ids.contains(&r[0]))
        .map(|r| r[2].parse().unwrap())
        .collect();
    assert!(!risks.is_empty());
    risks.iter().sum::<f64>() / risks.len() as f64
}

#[test]
fn reviewed_outcomes_teach_the_next_model_a_missed_scheme() {
    let f = fixture();
    let wd = Workdir::new();
    // A training world in which one scheme never happened.
    let (h, rows) = read_csv(&f.train);
    let t = h.iter().position(|c| c == "typology").unwrap();
    let mut w = csv::Writer::from_path(wd.path("train.csv")).unwrap();
    w.write_record(&h).unwrap();
    for r in rows.iter().filter(|r| r[t] != "relabel_controller") {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    assert_eq!(
        wd.run(&[
            "train",
            "--data",
            "train.csv",
            "--out",
            "before",
            "--iterations",
            "120",
            "-q"
        ])
        .code,
        0
    );
    // Analysts review a batch and confirm a handful of that scheme's shipments.
    let test = f.test.to_str().unwrap();
    assert_eq!(
        wd.run(&["score", test, "--model", "before", "--out", "scored.csv", "-q"])
            .code,
        0
    );
    let run = wd.run(&[
        "review",
        "import",
        "scored.csv",
        "--input",
        test,
        "--db",
        "r.sqlite",
        "--all",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (th, trows) = read_csv(&f.test);
    let tt = th.iter().position(|c| c == "typology").unwrap();
    let confirmed: Vec<&str> = trows
        .iter()
        .filter(|r| r[tt] == "relabel_controller")
        .take(8)
        .map(|r| r[0].as_str())
        .collect();
    assert!(confirmed.len() >= 5);
    for id in &confirmed {
        let run = wd.run(&[
            "review",
            "decide",
            "--db",
            "r.sqlite",
            id,
            "--decision",
            "confirmed",
            "--goods",
            "datacenter_gpu",
            "--reviewer",
            "ana",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let run = wd.run(&[
        "train",
        "--data",
        "train.csv",
        "--reviews",
        "r.sqlite",
        "--out",
        "after",
        "--iterations",
        "120",
        "-q",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wd.path("after/manifest.json")).unwrap()).unwrap();
    assert_eq!(m["reviewed_rows"], confirmed.len());
    // Unseen shipments of the scheme, in a third world, now score higher.
    assert_eq!(
        wd.run(&["generate", "--rows", "20000", "--seed", "23", "--out", "c.csv", "-q"])
            .code,
        0
    );
    assert_eq!(
        wd.run(&[
            "score",
            "c.csv",
            "--model",
            "before",
            "--out",
            "c-before.csv",
            "-q"
        ])
        .code,
        0
    );
    assert_eq!(
        wd.run(&["score", "c.csv", "--model", "after", "--out", "c-after.csv", "-q"])
            .code,
        0
    );
    let before = mean_risk_of(&wd.path("c-before.csv"), &wd.path("c.csv"), "relabel_controller");
    let after = mean_risk_of(&wd.path("c-after.csv"), &wd.path("c.csv"), "relabel_controller");
    assert!(
        after > before,
        "mean risk of unseen relabel_controller lines: before {before:.3}, after {after:.3}"
    );
}

#[test]
fn parallel_reviewers_lose_nothing() {
    let f = fixture();
    let wd = Workdir::new();
    let test = f.test.to_str().unwrap();
    crate::util::score_fixture(&wd, "s.csv");
    assert_eq!(
        wd.run(&["review", "import", "s.csv", "--input", test, "--db", "r.sqlite", "--all", "-q"])
            .code,
        0
    );
    let (_, rows) = read_csv(&wd.path("s.csv"));
    let ids: Vec<String> = rows.iter().take(1000).map(|r| r[0].clone()).collect();
    let db = wd.path("r.sqlite");
    std::thread::scope(|s| {
        for k in 0..8 {
            let ids = &ids;
            let db = &db;
            s.spawn(move || {
                let mut store = Store::open(db).unwrap();
                for id in ids.iter().skip(k).step_by(8) {
                    let d = if id.len() % 2 == 0 {
                        Decision::Cleared
                    } else {
                        Decision::Confirmed
                    };
                    store
                        .decide(id, d, None, &format!("reviewer{k}"), "parallel")
                        .unwrap();
                }
            });
        }
    });
    let store = Store::open(&db).unwrap();
    assert_eq!(store.labelled().unwrap().len(), 1000);
    for id in ids.iter().take(50) {
        assert_eq!(store.history_len(id).unwrap(), 1);
    }
}

#[test]
fn export_is_labels_in_the_manifest_format_and_can_be_spreadsheet_safe() {
    let f = fixture();
    let wd = Workdir::new();
    let test = f.test.to_str().unwrap();
    crate::util::score_fixture(&wd, "s.csv");
    assert_eq!(
        wd.run(&["review", "import", "s.csv", "--input", test, "--db", "r.sqlite", "-q"])
            .code,
        0
    );
    let (_, rows) = read_csv(&wd.path("s.csv"));
    let flagged: Vec<&str> = rows
        .iter()
        .filter(|r| r[3] == "true")
        .map(|r| r[0].as_str())
        .collect();
    for (k, d) in ["confirmed", "cleared", "inspect"].iter().enumerate() {
        let run = wd.run(&[
            "review",
            "decide",
            "--db",
            "r.sqlite",
            flagged[k],
            "--decision",
            d,
            "--reviewer",
            "ana",
            "--note",
            "=cmd",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    // A changed decision keeps its history.
    assert_eq!(
        wd.run(&[
            "review",
            "decide",
            "--db",
            "r.sqlite",
            flagged[1],
            "--decision",
            "confirmed",
            "--reviewer",
            "ben"
        ])
        .code,
        0
    );
    assert_eq!(
        Store::open(&wd.path("r.sqlite"))
            .unwrap()
            .history_len(flagged[1])
            .unwrap(),
        2
    );
    assert_eq!(
        wd.run(&["review", "export", "--db", "r.sqlite", "--out", "labels.csv"])
            .code,
        0
    );
    let (h, out) = read_csv(&wd.path("labels.csv"));
    assert_eq!(h[0], "shipment_id");
    assert_eq!(out.len(), 2, "inspect and undecided rows are not exported");
    let label = h.iter().position(|c| c == "label").unwrap();
    assert!(out.iter().all(|r| r[label] == "1"));
    // The export reads back as manifests.
    assert_eq!(wd.run(&["check", "labels.csv"]).code, 0);
    // Unknown shipments and bad decisions are refused.
    let run = wd.run(&[
        "review",
        "decide",
        "--db",
        "r.sqlite",
        "NOPE",
        "--decision",
        "cleared",
        "--reviewer",
        "ana",
    ]);
    assert_eq!(run.code, 2);
    let run = wd.run(&[
        "review",
        "decide",
        "--db",
        "r.sqlite",
        flagged[0],
        "--decision",
        "maybe",
        "--reviewer",
        "ana",
    ]);
    assert_eq!(run.code, 2);
}

#[test]
fn a_thousand_decisions_from_parallel_clients_over_http() {
    let f = fixture();
    let wd = Workdir::new();
    let test = f.test.to_str().unwrap();
    crate::util::score_fixture(&wd, "s.csv");
    let (mut desk, addr) = crate::util::start_desk(&wd, "s.csv", test);
    let (code, q) = crate::util::http(&addr, "GET", "/api/queue", "");
    assert_eq!(code, 200);
    let q: serde_json::Value = serde_json::from_str(&q).unwrap();
    let ids: Vec<String> = q
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["shipment_id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.len() > 100);
    assert!(
        q.as_array().unwrap().iter().any(|e| e["explore"] == true),
        "the queue holds exploration rows"
    );
    std::thread::scope(|s| {
        for k in 0..8 {
            let (ids, addr) = (&ids, &addr);
            s.spawn(move || {
                for j in 0..125 {
                    let id = &ids[(k * 125 + j) % ids.len()];
                    let decision = ["confirmed", "cleared", "inspect"][j % 3];
                    let body = serde_json::json!({"decision": decision, "reviewer": format!("r{k}"), "note": format!("{k}-{j}")}).to_string();
                    let path = format!("/api/shipments/{}/decision", id.replace('-', "%2D"));
                    let (code, resp) = crate::util::http(addr, "POST", &path, &body);
                    assert_eq!(code, 200, "{resp}");
                }
            });
        }
    });
    let mut total = 0;
    for id in &ids {
        let (code, v) = crate::util::http(&addr, "GET", &format!("/api/shipments/{id}"), "");
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        total += v["history"].as_array().unwrap().len();
    }
    assert_eq!(total, 1000, "every decision is in the history");
    let (code, _) = crate::util::http(
        &addr,
        "POST",
        &format!("/api/shipments/{}/decision", ids[0]),
        "{\"decision\":\"maybe\",\"reviewer\":\"x\"}",
    );
    assert_eq!(code, 400);
    let (code, _) = crate::util::http(&addr, "GET", "/api/shipments/NOPE", "");
    assert_eq!(code, 404);
    let _ = desk.kill();
    let _ = desk.wait();
}

#[test]
fn hostile_text_is_shown_as_text_in_the_desk() {
    let wd = Workdir::new();
    let header =
        "shipment_id,export_date,hs_code,value_usd,shipping_weight_kg,description,usppi_name,quantity\n";
    let mut text = String::from(header);
    text.push_str("H1,2025-01-02,8473301180,250000,20,\"<script>alert(1)</script>\",\"=cmd|' /C calc'!A0 \"\"q\"\" <img src=x onerror=alert(2)>\",8\n");
    for i in 0..30 {
        text.push_str(&format!("N{i},2025-01-02,8504400000,100,5,adapter,Apex,10\n"));
    }
    wd.write("in.csv", text);
    assert_eq!(
        wd.run(&["score", "in.csv", "--out", "s.csv", "--budget", "top:2", "-q"])
            .code,
        0
    );
    let (mut desk, addr) = crate::util::start_desk(&wd, "s.csv", "in.csv");
    let (code, page) = crate::util::http(&addr, "GET", "/s/H1", "");
    assert_eq!(code, 200, "{page}");
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<img src=x"));
    assert_eq!(page.matches("<script>").count(), 1, "only the desk's own script");
    let (_, queue) = crate::util::http(&addr, "GET", "/", "");
    assert!(!queue.contains("<script>alert"));
    let _ = desk.kill();
    let _ = desk.wait();
}
