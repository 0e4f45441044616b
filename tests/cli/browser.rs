//! The review desk and the report in headless Chromium, driven through
//! chromedriver's WebDriver protocol (Debian's `chromium` and
//! `chromium-driver`; `scripts/test.sh`, the README's test command, installs them). If they cannot be started
//! the test fails: it never skips.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{fixture, Workdir};

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One WebDriver call: method, path, JSON body -> the response's `value`.
fn wd(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to chromedriver");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
    // Read the headers, then exactly Content-Length bytes (the driver may keep the connection open).
    let mut rd = BufReader::new(s);
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        rd.read_line(&mut h).unwrap();
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut raw = vec![0u8; len];
    rd.read_exact(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"));
    v["value"].clone()
}

fn find(port: u16, sid: &str, css: &str) -> String {
    let v = wd(
        port,
        "POST",
        &format!("/session/{sid}/element"),
        Some(json!({"using": "css selector", "value": css})),
    );
    v.as_object()
        .and_then(|o| o.values().next())
        .and_then(|x| x.as_str())
        .unwrap_or_else(|| panic!("no element {css}: {v}"))
        .to_string()
}

fn find_all(port: u16, sid: &str, css: &str) -> Vec<String> {
    let v = wd(
        port,
        "POST",
        &format!("/session/{sid}/elements"),
        Some(json!({"using": "css selector", "value": css})),
    );
    v.as_array()
        .unwrap_or_else(|| panic!("no elements {css}: {v}"))
        .iter()
        .filter_map(|e| {
            e.as_object()
                .and_then(|o| o.values().next())
                .and_then(|x| x.as_str())
        })
        .map(str::to_string)
        .collect()
}

fn click(port: u16, sid: &str, el: &str) {
    wd(
        port,
        "POST",
        &format!("/session/{sid}/element/{el}/click"),
        Some(json!({})),
    );
}

fn text(port: u16, sid: &str, el: &str) -> String {
    wd(port, "GET", &format!("/session/{sid}/element/{el}/text"), None)
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn desk_and_report_in_headless_chromium() {
    let f = fixture();
    let wd_dir = Workdir::new();
    let model = f.model.to_str().unwrap();
    let test = f.test.to_str().unwrap();
    assert_eq!(
        wd_dir
            .run(&["score", test, "--model", model, "--out", "scored.csv", "-q"])
            .code,
        0
    );
    assert_eq!(
        wd_dir
            .run(&[
                "report",
                "scored.csv",
                "--input",
                test,
                "--model",
                model,
                "--out",
                "report.html",
                "-q"
            ])
            .code,
        0
    );

    // The desk, on a free port.
    let mut desk = Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args([
            "review",
            "serve",
            "--scored",
            "scored.csv",
            "--input",
            test,
            "--db",
            "r.sqlite",
            "--port",
            "0",
        ])
        .current_dir(wd_dir.dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the desk");
    let mut line = String::new();
    BufReader::new(desk.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _desk = Kill(desk);
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("desk said: {line}"))
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        url.contains("/?token="),
        "the printed address carries the token: {url}"
    );

    let port = free_port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver must be installed: run the tests with scripts/test.sh, or apt-get install chromium chromium-driver");
    let _driver = Kill(driver);
    wait_for("chromedriver", || TcpStream::connect(("127.0.0.1", port)).is_ok());
    let profile = wd_dir.path("chrome-profile");
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1300,1800", format!("--user-data-dir={}", profile.display())]}}}});
    let session = wd(port, "POST", "/session", Some(caps));
    let sid = session["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {session}"))
        .to_string();

    // Open the printed address (the token moves to a cookie), then the
    // first shipment.
    wd(
        port,
        "POST",
        &format!("/session/{sid}/url"),
        Some(json!({ "url": url })),
    );
    let here = wd(port, "GET", &format!("/session/{sid}/url"), None);
    assert!(
        here.as_str().is_some_and(|u| !u.contains("token")),
        "the token leaves the address bar: {here}"
    );
    let first = find(port, &sid, "#queue a.ship");
    let id = text(port, &sid, &first);
    wd(
        port,
        "POST",
        &format!("/session/{sid}/element/{first}/click"),
        Some(json!({})),
    );
    wait_for("the shipment page", || {
        wd(port, "GET", &format!("/session/{sid}/url"), None)
            .as_str()
            .unwrap_or("")
            .contains("/s/")
    });
    let reviewer = find(port, &sid, "#reviewer");
    wd(
        port,
        "POST",
        &format!("/session/{sid}/element/{reviewer}/value"),
        Some(json!({"text": "tester"})),
    );
    // Leave the field, then press `c` (confirmed) on the page.
    let h1 = find(port, &sid, "#shipment");
    wd(
        port,
        "POST",
        &format!("/session/{sid}/element/{h1}/click"),
        Some(json!({})),
    );
    let body = find(port, &sid, "body");
    wd(
        port,
        "POST",
        &format!("/session/{sid}/element/{body}/value"),
        Some(json!({"text": "c"})),
    );
    wait_for("the decision to be saved", || {
        let cur = find(port, &sid, "#current");
        text(port, &sid, &cur) == "confirmed"
    });
    // Reload: the decision persisted.
    wd(port, "POST", &format!("/session/{sid}/refresh"), Some(json!({})));
    let cur = find(port, &sid, "#current");
    assert_eq!(text(port, &sid, &cur), "confirmed");
    let shown = find(port, &sid, "#shipment");
    assert_eq!(text(port, &sid, &shown), id);

    // A whole case decided at once: the largest case's first shipment,
    // every line of it ticked (those below the flag line too), confirmed;
    // after a reload every line of the case shows the decision.
    let (header, rows) = crate::util::read_csv(&wd_dir.path("scored.csv"));
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (case, flagged, sid_col, rank) = (col("case_id"), col("flagged"), col("shipment_id"), col("rank"));
    let mut sizes: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for r in rows.iter().filter(|r| r[flagged] == "true") {
        *sizes.entry(r[case].as_str()).or_default() += 1;
    }
    let (big, n_big) = sizes
        .iter()
        .max_by_key(|(c, n)| (**n, std::cmp::Reverse(c.to_string())))
        .map(|(c, n)| (c.to_string(), *n))
        .unwrap();
    assert!(n_big >= 2, "a case of several flagged lines: {sizes:?}");
    let lead = rows
        .iter()
        .filter(|r| r[case] == big && r[flagged] == "true")
        .min_by_key(|r| r[rank].parse::<u64>().unwrap())
        .unwrap()[sid_col]
        .clone();
    let base = url.split("/?").next().unwrap().to_string();
    let enc: String = lead
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    wd(
        port,
        "POST",
        &format!("/session/{sid}/url"),
        Some(json!({ "url": format!("{base}/s/{enc}") })),
    );
    let shown_case = find(port, &sid, "#case");
    assert_eq!(text(port, &sid, &shown_case), big);
    let boxes = find_all(port, &sid, "input.take");
    assert!(boxes.len() >= n_big, "the case lists its lines");
    for b in &boxes {
        let on = wd(port, "GET", &format!("/session/{sid}/element/{b}/selected"), None);
        if on.as_bool() != Some(true) {
            click(port, &sid, b);
        }
    }
    let confirm = find(port, &sid, "button[data-case=\"confirmed\"]");
    click(port, &sid, &confirm);
    wait_for("the case decision to be saved", || {
        let st = find(port, &sid, "#case-status");
        text(port, &sid, &st).starts_with("saved")
    });
    wd(port, "POST", &format!("/session/{sid}/refresh"), Some(json!({})));
    let cells = find_all(port, &sid, "td.line-decision");
    assert_eq!(cells.len(), boxes.len());
    for c in &cells {
        assert_eq!(text(port, &sid, c), "confirmed");
    }
    let history = find(port, &sid, "#case-history");
    assert!(text(port, &sid, &history).contains(&format!("confirmed on {} lines, 0 exceptions", boxes.len())));
    // The queue by case lists the case as decided.
    wd(
        port,
        "POST",
        &format!("/session/{sid}/url"),
        Some(json!({ "url": format!("{base}/cases") })),
    );
    let listed = find_all(port, &sid, "#cases td.case");
    assert!(listed.iter().any(|c| text(port, &sid, c) == big));

    // The static report: the table and a chart are rendered.
    let report = format!("file://{}", wd_dir.path("report.html").display());
    wd(
        port,
        "POST",
        &format!("/session/{sid}/url"),
        Some(json!({"url": report})),
    );
    let rows = wd(
        port,
        "POST",
        &format!("/session/{sid}/elements"),
        Some(json!({"using": "css selector", "value": "#flagged tbody tr.row"})),
    );
    assert_eq!(rows.as_array().map(Vec::len), Some(200));
    let bars = wd(
        port,
        "POST",
        &format!("/session/{sid}/elements"),
        Some(json!({"using": "css selector", "value": "#risk-histogram svg rect"})),
    );
    assert!(bars.as_array().is_some_and(|b| !b.is_empty()));
    // The downloadable table neutralises formula prefixes for spreadsheets.
    let cell = wd(
        port,
        "POST",
        &format!("/session/{sid}/execute/sync"),
        Some(
            json!({"script": "return window.sentinelCsvCell(arguments[0]);", "args": ["=HYPERLINK(\"x\")"]}),
        ),
    );
    assert_eq!(cell.as_str(), Some("\"'=HYPERLINK(\"\"x\"\")\""));
    let plain = wd(
        port,
        "POST",
        &format!("/session/{sid}/execute/sync"),
        Some(json!({"script": "return window.sentinelCsvCell(arguments[0]);", "args": ["adapter"]})),
    );
    assert_eq!(plain.as_str(), Some("\"adapter\""));
    let shot = wd(port, "GET", &format!("/session/{sid}/screenshot"), None);
    assert!(
        shot.as_str().is_some_and(|s| s.len() > 1000),
        "a screenshot of the report"
    );
    wd(port, "DELETE", &format!("/session/{sid}"), None);
}
