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
    // The reviewed shipments come from another world: they are added to
    // the training rows, and kept whatever the sample.
    let kept = rows.iter().filter(|r| r[t] != "relabel_controller").count();
    assert_eq!(m["training_rows"], kept + confirmed.len());
    assert!(m["sampling"]["always_kept"].as_u64().unwrap() >= confirmed.len() as u64);
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
    crate::util::score_fixture(&wd, "s.csv", &[]);
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
    crate::util::score_fixture(&wd, "s.csv", &[]);
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
    crate::util::score_fixture(&wd, "s.csv", &[]);
    let desk = crate::util::start_desk(&wd, "s.csv", test);
    let (code, q) = desk.call("GET", "/api/queue", "");
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
            let (ids, desk) = (&ids, &desk);
            s.spawn(move || {
                for j in 0..125 {
                    let id = &ids[(k * 125 + j) % ids.len()];
                    let decision = ["confirmed", "cleared", "inspect"][j % 3];
                    let body = serde_json::json!({"decision": decision, "reviewer": format!("r{k}"), "note": format!("{k}-{j}")}).to_string();
                    let path = format!("/api/shipments/{}/decision", id.replace('-', "%2D"));
                    let (code, resp) = desk.call("POST", &path, &body);
                    assert_eq!(code, 200, "{resp}");
                }
            });
        }
    });
    let mut total = 0;
    for id in &ids {
        let (code, v) = desk.call("GET", &format!("/api/shipments/{id}"), "");
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&v).unwrap();
        total += v["history"].as_array().unwrap().len();
    }
    assert_eq!(total, 1000, "every decision is in the history");
    let (code, _) = desk.call(
        "POST",
        &format!("/api/shipments/{}/decision", ids[0]),
        "{\"decision\":\"maybe\",\"reviewer\":\"x\"}",
    );
    assert_eq!(code, 400);
    let (code, _) = desk.call("GET", "/api/shipments/NOPE", "");
    assert_eq!(code, 404);
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
    let desk = crate::util::start_desk(&wd, "s.csv", "in.csv");
    let (code, page) = desk.call("GET", "/s/H1", "");
    assert_eq!(code, 200, "{page}");
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<img src=x"));
    assert_eq!(page.matches("<script>").count(), 1, "only the desk's own script");
    let (_, queue) = desk.call("GET", "/", "");
    assert!(!queue.contains("<script>alert"));
}

/// The attacks of a hostile web page on the analyst's desk: each is refused
/// (401 or 403) and writes nothing; the desk's own page still works.
#[test]
fn the_desk_refuses_other_sites_and_requests_without_its_token() {
    use crate::util::http_raw;
    let f = fixture();
    let wd = Workdir::new();
    crate::util::score_fixture(&wd, "s.csv", &[]);
    let desk = crate::util::start_desk(&wd, "s.csv", f.test.to_str().unwrap());
    let (code, q) = desk.call("GET", "/api/queue", "");
    assert_eq!(code, 200);
    let q: serde_json::Value = serde_json::from_str(&q).unwrap();
    let id = q[0]["shipment_id"].as_str().unwrap().to_string();
    let decide = format!("/api/shipments/{id}/decision");
    let body = r#"{"decision":"cleared","reviewer":"x"}"#;
    let addr = desk.addr.as_str();
    let port = addr.rsplit(':').next().unwrap();
    let own = format!("http://{addr}");
    let auth = format!("token {}", desk.token);
    let cookie = format!("sentinel-desk-{port}={}", desk.token);
    let evil_host = format!("evil.example:{port}");

    // A decision POSTed with these headers: its status.
    let post = |headers: &[(&str, &str)]| {
        let a = http_raw(addr, "POST", &decide, headers, body);
        assert!(a.code != 200 || a.body.contains("cleared"), "{}", a.body);
        a.code
    };
    let evil = ("Origin", "http://evil.example");
    let with_cookie = ("Cookie", cookie.as_str());
    let json = ("Content-Type", "application/json");
    // A cross-site text/plain POST, as any web page can send it.
    assert_eq!(post(&[("Host", addr), evil, ("Content-Type", "text/plain")]), 401);
    // The same with the desk's cookie (the browser would attach it): the origin is refused.
    assert_eq!(
        post(&[("Host", addr), evil, with_cookie, ("Content-Type", "text/plain")]),
        403
    );
    assert_eq!(post(&[("Host", addr), evil, with_cookie, json]), 403);
    // From the desk's own origin, but not JSON (a form's text/plain or urlencoded).
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let code = post(&[
            ("Host", addr),
            ("Origin", &own),
            with_cookie,
            ("Content-Type", ct),
        ]);
        assert_eq!(code, 403, "{ct}");
    }
    // A cookie without Origin or Referer.
    assert_eq!(post(&[("Host", addr), with_cookie, json]), 403);
    // DNS rebinding: another site's name in Host, reading or writing, token or not.
    for path in [
        "/",
        "/api/queue",
        &format!("/api/shipments/{id}"),
        &format!("/s/{id}"),
    ] {
        for auth_header in [None, Some(("Authorization", auth.as_str()))] {
            let mut h = vec![("Host", evil_host.as_str())];
            h.extend(auth_header);
            let a = http_raw(addr, "GET", path, &h, "");
            assert_eq!(a.code, 403, "{path}: {}", a.body);
            assert!(!a.body.contains(&id), "nothing of the queue is shown");
        }
    }
    let evil_origin = format!("http://{evil_host}");
    let rebound = [
        ("Host", evil_host.as_str()),
        ("Origin", &evil_origin),
        ("Authorization", &auth),
        json,
    ];
    assert_eq!(post(&rebound), 403);
    // No token, or a wrong one: nothing is served.
    let wrong = format!("token {}", "0".repeat(desk.token.len()));
    for path in ["/", "/api/queue", &format!("/s/{id}")] {
        assert_eq!(
            http_raw(addr, "GET", path, &[("Host", addr)], "").code,
            401,
            "{path}"
        );
        assert_eq!(
            http_raw(
                addr,
                "GET",
                path,
                &[("Host", addr), ("Authorization", &wrong)],
                ""
            )
            .code,
            401,
            "{path}"
        );
    }
    // Nothing was written.
    let (_, v) = desk.call("GET", &format!("/api/shipments/{id}"), "");
    let v: serde_json::Value = serde_json::from_str(&v).unwrap();
    assert!(v["decision"].is_null(), "{v}");
    assert_eq!(v["history"].as_array().map(Vec::len), Some(0), "{v}");

    // The desk's own page: the printed address sets the cookie and drops the
    // token from the address bar; the page's POST then works.
    let a = http_raw(
        addr,
        "GET",
        &format!("/?token={}", desk.token),
        &[("Host", addr)],
        "",
    );
    assert_eq!(a.code, 303);
    assert_eq!(a.header("location"), Some("/"));
    let set = a.header("set-cookie").unwrap_or("").to_string();
    assert!(
        set.starts_with(&cookie) && set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let a = http_raw(
        addr,
        "GET",
        "/",
        &[("Host", &format!("localhost:{port}")), ("Cookie", &cookie)],
        "",
    );
    assert_eq!(a.code, 200);
    assert!(a.body.contains(&id));
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    let own_page = [
        ("Host", addr),
        ("Origin", &own),
        with_cookie,
        ("Content-Type", "application/json; charset=utf-8"),
    ];
    assert_eq!(post(&own_page), 200);
    let (_, v) = desk.call("GET", &format!("/api/shipments/{id}"), "");
    assert!(v.contains("\"cleared\""), "{v}");
}

#[test]
fn a_desk_without_a_token_is_loopback_only_and_a_token_file_sets_the_token() {
    let f = fixture();
    let wd = Workdir::new();
    crate::util::score_fixture(&wd, "s.csv", &[]);
    let test = f.test.to_str().unwrap();
    // `review serve` with these flags, expected to refuse before serving.
    let refused = |db: &str, extra: &[&str]| {
        let mut args = vec![
            "review", "serve", "--scored", "s.csv", "--input", test, "--db", db, "--port", "0",
        ];
        args.extend(extra);
        let run = wd.run(&args);
        assert_eq!(run.code, 2, "{}", run.stderr);
        run.stderr
    };
    let err = refused("open.sqlite", &["--bind", "0.0.0.0", "--no-token"]);
    assert!(err.contains("--bind 0.0.0.0"), "{err}");
    assert!(
        !wd.path("open.sqlite").exists(),
        "refused before the store is written"
    );

    wd.write("token.txt", "team-desk-token-0123456789\n");
    let desk = crate::util::start_desk_with(&wd, "s.csv", test, &["--token-file", "token.txt"]);
    assert_eq!(desk.token, "team-desk-token-0123456789");
    assert_eq!(desk.call("GET", "/api/queue", "").0, 200);
    drop(desk);
    wd.write("bad.txt", "short\n");
    let err = refused("r2.sqlite", &["--token-file", "bad.txt"]);
    assert!(err.contains("bad.txt"), "{err}");
}
