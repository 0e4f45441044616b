//! The review desk: a small local web application over the review store.
//! A queue of flagged shipments, highest risk first, with a share of
//! lower-ranked shipments chosen for exploration (and marked so); an
//! evidence page per shipment with decisions and keyboard shortcuts; and
//! the same actions as a JSON API:
//!
//! - `GET /api/queue` -> the queue (undecided shipments of a case with a
//!   confirmed line first)
//! - `GET /api/cases` -> the queue by case
//! - `GET /api/shipments/{id}` -> a shipment, its decision and history
//! - `GET /api/shipments/{id}/case` -> the shipment's case: its lines (also
//!   those below the flag line) and the decisions taken on the whole case
//! - `POST /api/shipments/{id}/decision` with
//!   `{"decision": "confirmed|cleared|inspect", "reviewer": "...", "goods_found": "datacenter_gpu", "note": "..."}`
//! - `POST /api/shipments/{id}/case-decision` with the same fields and
//!   optionally `"lines": ["id", ...]`: one decision for the shipment's whole
//!   case (its flagged lines, or the lines named); the other lines are its
//!   exceptions
//!
//! Pages: `/` the queue, `/cases` the queue by case, `/s/{id}` a shipment
//! with its case.
//!
//! Every value from a manifest is escaped before it reaches a page, and
//! every request passes [`access::Access`] first (token, `Host`, origin and
//! content type) before the store is touched.

pub mod access;

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;
use tiny_http::{Header, Method, Request, Response, Server};

use self::access::{Access, RequestFacts};
use crate::report::esc;
use crate::review::{Decision, Store};
use sentinel_manifest::tables::Tables;
use sentinel_scoring::scored::ScoredRow;

/// The queue: flagged rows by rank, with `explore` of the positions given to
/// lower-ranked rows drawn at random (seeded), spread evenly through it.
pub fn build_queue(scored: &[ScoredRow], explore: f64, seed: u64) -> Vec<(String, bool)> {
    let mut flagged: Vec<&ScoredRow> = scored.iter().filter(|s| s.flagged).collect();
    flagged.sort_by_key(|s| s.rank);
    let mut rest: Vec<&ScoredRow> = scored.iter().filter(|s| !s.flagged).collect();
    rest.sort_by_key(|s| s.rank);
    let explore = explore.clamp(0.0, 0.9);
    let n_explore = ((flagged.len() as f64 * explore / (1.0 - explore)).round() as usize).min(rest.len());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let picked: Vec<&ScoredRow> = rest.choose_multiple(&mut rng, n_explore).copied().collect();
    let mut out = Vec::with_capacity(flagged.len() + picked.len());
    let every = if picked.is_empty() {
        usize::MAX
    } else {
        ((flagged.len() + picked.len()) / picked.len()).max(1)
    };
    let (mut f, mut p) = (flagged.into_iter(), picked.into_iter());
    let mut k = 0;
    loop {
        k += 1;
        let next = if k % every == 0 {
            p.next()
                .map(|s| (s, true))
                .or_else(|| f.next().map(|s| (s, false)))
        } else {
            f.next()
                .map(|s| (s, false))
                .or_else(|| p.next().map(|s| (s, true)))
        };
        match next {
            Some((s, e)) => out.push((s.shipment_id.clone(), e)),
            None => break,
        }
    }
    out
}

/// Lines below the flag line loaded with each case (its best ranked).
pub const RELATED_MAX: usize = 200;

/// The scored rows the desk loads: the queue's, and the other lines of the
/// queue's cases (every flagged one, and up to [`RELATED_MAX`] below the
/// flag line per case, best ranked first).
pub fn rows_to_load(scored: &[ScoredRow], queue: &[(String, bool)]) -> Vec<ScoredRow> {
    use std::collections::{HashMap, HashSet};
    let queued: HashSet<&str> = queue.iter().map(|q| q.0.as_str()).collect();
    let cases: HashSet<&str> = scored
        .iter()
        .filter(|s| queued.contains(s.shipment_id.as_str()) && !s.case_id.is_empty())
        .map(|s| s.case_id.as_str())
        .collect();
    let mut related: Vec<&ScoredRow> = scored
        .iter()
        .filter(|s| !queued.contains(s.shipment_id.as_str()) && cases.contains(s.case_id.as_str()))
        .collect();
    related.sort_by_key(|s| (!s.flagged, s.rank));
    let mut per_case: HashMap<&str, usize> = HashMap::new();
    let mut keep: HashSet<&str> = queued;
    for s in related {
        let n = per_case.entry(s.case_id.as_str()).or_default();
        if s.flagged || *n < RELATED_MAX {
            keep.insert(s.shipment_id.as_str());
            if !s.flagged {
                *n += 1;
            }
        }
    }
    scored
        .iter()
        .filter(|s| keep.contains(s.shipment_id.as_str()))
        .cloned()
        .collect()
}

#[derive(Deserialize)]
struct DecisionBody {
    decision: String,
    reviewer: String,
    #[serde(default)]
    goods_found: Option<String>,
    #[serde(default)]
    note: String,
    /// For a case decision: the lines decided (default: the case's flagged lines).
    #[serde(default)]
    lines: Option<Vec<String>>,
}

/// A case of the queue.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QueueCase {
    /// Empty for a shipment in no case (listed on its own).
    pub case_id: String,
    /// The case's first shipment in the queue.
    pub lead_shipment_id: String,
    pub best_rank: i64,
    pub shipments: usize,
    pub undecided: usize,
    pub confirmed: usize,
    pub cleared: usize,
}

/// The queue grouped by case, in the order of each case's first shipment.
pub fn queue_cases(q: &[crate::review::QueueEntry]) -> Vec<QueueCase> {
    let mut out: Vec<QueueCase> = Vec::new();
    let mut at: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for e in q {
        let k = match e.case_id.as_deref() {
            Some(c) => match at.get(c) {
                Some(&k) => k,
                None => {
                    at.insert(c, out.len());
                    out.len()
                }
            },
            None => out.len(),
        };
        if k == out.len() {
            out.push(QueueCase {
                case_id: e.case_id.clone().unwrap_or_default(),
                lead_shipment_id: e.shipment_id.clone(),
                best_rank: e.rank,
                shipments: 0,
                undecided: 0,
                confirmed: 0,
                cleared: 0,
            });
        }
        let c = &mut out[k];
        c.best_rank = c.best_rank.min(e.rank);
        c.shipments += 1;
        match e.decision.as_deref() {
            None => c.undecided += 1,
            Some("confirmed") => c.confirmed += 1,
            Some("cleared") => c.cleared += 1,
            Some(_) => {}
        }
    }
    out
}

/// A decision request's answer: 400 for the user's mistakes, 500 otherwise.
fn decision_error(e: anyhow::Error) -> Reply {
    error(
        if e.downcast_ref::<crate::review::ReviewError>().is_some() {
            400
        } else {
            500
        },
        &format!("{e:#}"),
    )
}

/// Reads a decision body: the body and its decision, or the answer to give.
fn decision_body(req: &mut Request) -> Result<(DecisionBody, Decision), Reply> {
    let mut body = String::new();
    req.as_reader().take(1 << 20).read_to_string(&mut body).ok();
    let d = serde_json::from_str::<DecisionBody>(&body)
        .map_err(|e| error(400, &format!("body is not a decision: {e}")))?;
    let decision = d.decision.parse::<Decision>().map_err(|e| error(400, &e))?;
    Ok((d, decision))
}

/// A shipment's case for the API: its lines and the case decisions.
fn case_json(store: &Store, id: &str) -> Result<Option<serde_json::Value>> {
    let Some((batch, case_id)) = store.case_of(id)? else {
        return Ok(None);
    };
    Ok(Some(serde_json::json!({
        "case_id": case_id,
        "lines": store.case_lines(&batch, &case_id)?,
        "decisions": store.case_decisions(&batch, &case_id)?,
    })))
}

type Reply = Response<std::io::Cursor<Vec<u8>>>;

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name, value).expect("header names and values are ASCII")
}

fn json_response(code: u16, body: String) -> Reply {
    Response::from_string(body)
        .with_status_code(code)
        .with_header(header("Content-Type", "application/json"))
}

fn html_response(body: String) -> Reply {
    Response::from_string(body)
        .with_header(header("Content-Type", "text/html; charset=utf-8"))
        .with_header(header(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
}

/// Headers on every answer: never framed, cached or sniffed; referrers only
/// within the desk (so its own requests keep their `Origin`).
fn harden(r: Reply) -> Reply {
    r.with_header(header("X-Frame-Options", "DENY"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("Referrer-Policy", "same-origin"))
}

fn error(code: u16, msg: &str) -> Reply {
    json_response(code, serde_json::json!({ "error": msg }).to_string())
}

/// Decodes a %-encoded path segment (bytes, so no input can split a character).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape_path(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The header `name`'s value, if the request has exactly one.
fn header_of<'a>(req: &'a Request, name: &'static str) -> Option<&'a str> {
    let mut it = req.headers().iter().filter(|h| h.field.equiv(name));
    let first = it.next()?;
    // Two Host (or Origin...) headers are ambiguous: treat as absent.
    it.next().is_none().then_some(first.value.as_str())
}

/// Checks the request against `access`; answers it and returns None when
/// refused (or redirected to drop the token from the address bar).
fn admit(access: &Access, req: Request) -> Result<Option<(Request, Option<String>)>> {
    let (path, query) = match req.url().split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (req.url().to_string(), None),
    };
    let safe_method = matches!(req.method(), Method::Get | Method::Head);
    let facts = RequestFacts {
        host: header_of(&req, "Host"),
        origin: header_of(&req, "Origin"),
        referer: header_of(&req, "Referer"),
        content_type: header_of(&req, "Content-Type"),
        authorization: header_of(&req, "Authorization"),
        cookie: header_of(&req, "Cookie"),
        query: query.as_deref(),
        safe_method,
    };
    match access.check(&facts) {
        Err(refusal) => {
            let resp = harden(error(refusal.status, refusal.message));
            req.respond(resp).context("cannot answer a request")?;
            Ok(None)
        }
        Ok(granted) => {
            let cookie = granted.token_in_url.then(|| access.set_cookie()).flatten();
            if let (true, true, Some(c)) = (
                granted.token_in_url,
                safe_method && !path.starts_with("/api/"),
                &cookie,
            ) {
                // A page opened with ?token= is sent on to its clean address,
                // the token kept in the cookie instead of the history.
                let resp = Response::from_string(String::new())
                    .with_status_code(303)
                    .with_header(header("Location", &escape_location(&path)))
                    .with_header(header("Set-Cookie", c));
                req.respond(harden(resp)).context("cannot answer a request")?;
                return Ok(None);
            }
            Ok(Some((req, cookie)))
        }
    }
}

/// A path safe to send back in `Location`: visible ASCII only, and always
/// on this desk (`//host/...` or `/\\host` would send the browser elsewhere).
fn escape_location(path: &str) -> String {
    if !path.starts_with('/') || path.starts_with("//") || path.starts_with("/\\") {
        return "/".to_string();
    }
    path.bytes()
        .map(|b| {
            if b.is_ascii_graphic() && b != b'\\' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn handle(db: &Path, access: &Access, req: Request) -> Result<()> {
    let Some((mut req, cookie)) = admit(access, req)? else {
        return Ok(());
    };
    let url = req.url().split('?').next().unwrap_or("/").to_string();
    let method = req.method().clone();
    let resp = match (method, url.as_str()) {
        (Method::Get, "/") => {
            let store = Store::open(db)?;
            html_response(queue_page(&store)?)
        }
        (Method::Get, "/api/queue") => {
            let store = Store::open(db)?;
            json_response(200, serde_json::to_string(&store.queue()?)?)
        }
        (Method::Get, "/cases") => {
            let store = Store::open(db)?;
            html_response(cases_page(&store)?)
        }
        (Method::Get, "/api/cases") => {
            let store = Store::open(db)?;
            json_response(200, serde_json::to_string(&queue_cases(&store.queue()?))?)
        }
        (Method::Get, u) if u.starts_with("/api/shipments/") && u.ends_with("/case") => {
            let id = unescape(&u["/api/shipments/".len()..u.len() - "/case".len()]);
            let store = Store::open(db)?;
            match case_json(&store, &id)? {
                Some(v) => json_response(200, v.to_string()),
                None => error(404, "the shipment is in no case"),
            }
        }
        (Method::Get, u) if u.starts_with("/s/") => {
            let id = unescape(&u[3..]);
            let store = Store::open(db)?;
            match store.shipment(&id)? {
                Some(v) => html_response(shipment_page(&store, &v)?),
                None => error(404, "no such shipment"),
            }
        }
        (Method::Get, u) if u.starts_with("/api/shipments/") => {
            let id = unescape(&u["/api/shipments/".len()..]);
            let store = Store::open(db)?;
            match store.shipment(&id)? {
                Some(v) => json_response(200, serde_json::to_string(&v)?),
                None => error(404, "no such shipment"),
            }
        }
        (Method::Post, u) if u.starts_with("/api/shipments/") && u.ends_with("/case-decision") => {
            let id = unescape(&u["/api/shipments/".len()..u.len() - "/case-decision".len()]);
            match decision_body(&mut req) {
                Err(reply) => reply,
                Ok((d, decision)) => {
                    let mut store = Store::open(db)?;
                    let goods = d.goods_found.as_deref().filter(|g| !g.is_empty());
                    match store.decide_case(&id, decision, goods, &d.reviewer, &d.note, d.lines.as_deref()) {
                        Ok(done) => json_response(
                            200,
                            serde_json::json!({"decided": done, "case": case_json(&store, &id)?}).to_string(),
                        ),
                        Err(e) => decision_error(e),
                    }
                }
            }
        }
        (Method::Post, u) if u.starts_with("/api/shipments/") && u.ends_with("/decision") => {
            let id = unescape(&u["/api/shipments/".len()..u.len() - "/decision".len()]);
            match decision_body(&mut req) {
                Err(reply) => reply,
                Ok((d, decision)) => {
                    let mut store = Store::open(db)?;
                    let goods = d.goods_found.as_deref().filter(|g| !g.is_empty());
                    match store.decide(&id, decision, goods, &d.reviewer, &d.note) {
                        Ok(()) => json_response(200, serde_json::to_string(&store.shipment(&id)?)?),
                        Err(e) => decision_error(e),
                    }
                }
            }
        }
        _ => error(404, "not found"),
    };
    let resp = match cookie {
        Some(c) => resp.with_header(header("Set-Cookie", &c)),
        None => resp,
    };
    req.respond(harden(resp)).context("cannot answer a request")?;
    Ok(())
}

/// Serves the desk on `bind:port` with `threads` workers, protected by
/// `token` (None: loopback only, see [`Access::new`]); calls `listening`
/// with the address to open (the token in it), then serves until the
/// process ends.
pub fn serve(
    db: PathBuf,
    bind: &str,
    port: u16,
    token: Option<String>,
    threads: usize,
    listening: &dyn Fn(&str),
) -> Result<()> {
    access::check_bind(token.is_some(), bind)?;
    let server =
        Server::http((bind, port)).map_err(|e| anyhow::anyhow!("cannot listen on {bind}:{port}: {e}"))?;
    let ip = server.server_addr().to_ip();
    let addr = ip
        .map(|a| a.to_string())
        .unwrap_or_else(|| format!("{bind}:{port}"));
    let access = Access::new(token, bind, ip.map(|a| a.port()).unwrap_or(port))?;
    match access.token() {
        Some(t) => listening(&format!("http://{addr}/?token={t}")),
        None => listening(&format!("http://{addr}/")),
    }
    let access = &access;
    let server = std::sync::Arc::new(server);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            let server = server.clone();
            let db = db.clone();
            s.spawn(move || {
                while let Ok(req) = server.recv() {
                    // A request that fails (or a bug that panics) never takes a worker down.
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(&db, access, req)))
                    {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => eprintln!("review serve: {e:#}"),
                        Err(_) => eprintln!("review serve: a request failed unexpectedly"),
                    }
                }
            });
        }
    });
    Ok(())
}

/// The desk's style sheet (one line, as served).
const STYLE: &str = include_str!("../../assets/desk.css");

fn queue_page(store: &Store) -> Result<String> {
    let q = store.queue()?;
    let mut s = format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sentinel review queue</title><style>{STYLE}</style></head><body>");
    s.push_str(&format!(
        "<div class=\"banner\">{}</div><h1>Review queue</h1>",
        esc(crate::report::BANNER)
    ));
    s.push_str("<p class=\"keys\">Open a shipment; on its page: <b>c</b> confirmed, <b>x</b> cleared, <b>i</b> inspect, <b>j</b>/<b>k</b> next/previous. <a href=\"/cases\">The queue by case</a>. Open shipments of a case, or of an exporter, with a confirmed line come first.</p>");
    s.push_str("<table id=\"queue\"><thead><tr><th>#</th><th>shipment</th><th>case</th><th>rank</th><th>risk</th><th>declared</th><th>likely</th><th>reasons</th><th>decision</th></tr></thead><tbody>");
    for e in &q {
        let open = e.decision.is_none();
        let raised = match (e.case_confirmed && open, e.exporter_confirmed && open) {
            (true, _) => " <span class=\"tag raised\">case confirmed</span>",
            (false, true) => " <span class=\"tag raised\">exporter confirmed</span>",
            (false, false) => "",
        };
        s.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td><a class=\"ship\" href=\"/s/{}\">{}</a>{}{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"decision\">{}</td></tr>",
            if e.explore { "explore" } else { "" },
            e.position,
            esc(&escape_path(&e.shipment_id)),
            esc(&e.shipment_id),
            if e.explore { " <span class=\"tag\">explore</span>" } else { "" },
            raised,
            esc(e.case_id.as_deref().unwrap_or("")),
            e.rank,
            e.risk_score,
            esc(e.declared_category.as_deref().unwrap_or("")),
            esc(e.likely_category.as_deref().unwrap_or("")),
            esc(e.reason_codes.as_deref().unwrap_or("")),
            esc(e.decision.as_deref().unwrap_or("")),
        ));
    }
    s.push_str("</tbody></table></body></html>");
    Ok(s)
}

fn cases_page(store: &Store) -> Result<String> {
    let cases = queue_cases(&store.queue()?);
    let mut s = format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>sentinel review queue by case</title><style>{STYLE}</style></head><body>");
    s.push_str(&format!(
        "<div class=\"banner\">{}</div><h1>Review queue by case</h1><p><a href=\"/\">the queue by shipment</a>. Open a case's first shipment to see and decide the whole case.</p>",
        esc(crate::report::BANNER)
    ));
    s.push_str("<table id=\"cases\"><thead><tr><th>case</th><th>first shipment</th><th>best rank</th><th>in queue</th><th>undecided</th><th>confirmed</th><th>cleared</th></tr></thead><tbody>");
    for c in &cases {
        s.push_str(&format!(
            "<tr><td class=\"case\">{}</td><td><a class=\"ship\" href=\"/s/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(if c.case_id.is_empty() { "(none)" } else { &c.case_id }),
            esc(&escape_path(&c.lead_shipment_id)),
            esc(&c.lead_shipment_id),
            c.best_rank,
            c.shipments,
            c.undecided,
            c.confirmed,
            c.cleared
        ));
    }
    s.push_str("</tbody></table></body></html>");
    Ok(s)
}

/// The shipment's case: its lines (ticked: the flagged ones, which a case
/// decision takes by default), the buttons that decide the ticked lines,
/// and the decisions taken on the case.
fn case_section(store: &Store, v: &crate::review::ShipmentView) -> Result<String> {
    let Some((batch, case_id)) = store.case_of(&v.shipment_id)? else {
        return Ok(
            "<h2>Case</h2><p>This shipment shares no party with another flagged shipment of its batch.</p>"
                .to_string(),
        );
    };
    let lines = store.case_lines(&batch, &case_id)?;
    let flagged = lines.iter().filter(|l| l.flagged).count();
    let mut s = format!(
        "<h2>Case <span id=\"case\" data-case=\"{}\">{}</span></h2><p>{} lines share this shipment's parties: {flagged} flagged, {} below the flag line. Tick the lines a case decision takes (the flagged ones are ticked); the others are its exceptions.</p>",
        esc(&case_id),
        esc(&case_id),
        lines.len(),
        lines.len() - flagged
    );
    s.push_str("<table id=\"case-lines\"><thead><tr><th></th><th>shipment</th><th>date</th><th>exporter</th><th>consignee</th><th>rank</th><th>risk</th><th>flagged</th><th>declared</th><th>likely</th><th>decision</th></tr></thead><tbody>");
    for l in &lines {
        s.push_str(&format!(
            "<tr{}><td><input type=\"checkbox\" class=\"take\" value=\"{}\"{}></td><td><a href=\"/s/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"decision line-decision\" data-id=\"{}\">{}</td></tr>",
            if l.shipment_id == v.shipment_id { " class=\"this\"" } else { "" },
            esc(&l.shipment_id),
            if l.flagged { " checked" } else { "" },
            esc(&escape_path(&l.shipment_id)),
            esc(&l.shipment_id),
            esc(&l.export_date),
            esc(&l.exporter),
            esc(&l.consignee),
            l.rank,
            l.risk_score,
            if l.flagged { "yes" } else { "below the line" },
            esc(l.declared_category.as_deref().unwrap_or("")),
            esc(l.likely_category.as_deref().unwrap_or("")),
            esc(&l.shipment_id),
            esc(l.decision.as_deref().unwrap_or("undecided")),
        ));
    }
    s.push_str("</tbody></table><p><button data-case=\"confirmed\">Confirm the ticked lines</button><button data-case=\"cleared\">Clear the ticked lines</button><button data-case=\"inspect\">Inspect the ticked lines</button> <span id=\"case-status\"></span></p><ol id=\"case-history\">");
    for d in store.case_decisions(&batch, &case_id)? {
        s.push_str(&format!(
            "<li>{} by {}: {} on {} lines, {} exceptions{}</li>",
            d.at,
            esc(&d.reviewer),
            esc(&d.decision),
            d.decided.len(),
            d.exceptions.len(),
            d.note
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(|n| format!(" ({})", esc(n)))
                .unwrap_or_default()
        ));
    }
    s.push_str("</ol>");
    Ok(s)
}

fn shipment_page(store: &Store, v: &crate::review::ShipmentView) -> Result<String> {
    let q = store.queue()?;
    let pos = q.iter().position(|e| e.shipment_id == v.shipment_id);
    let link = |k: Option<usize>| {
        k.and_then(|k| q.get(k))
            .map(|e| format!("/s/{}", escape_path(&e.shipment_id)))
            .unwrap_or_default()
    };
    let prev = link(pos.and_then(|p| p.checked_sub(1)));
    let next = link(pos.map(|p| p + 1));
    let g = |k: &str| esc(v.manifest.get(k).map(String::as_str).unwrap_or(""));
    let mut s = format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>", esc(&v.shipment_id));
    s.push_str(&format!(
        "<div class=\"banner\">{}</div><p><a href=\"/\">queue</a></p>",
        esc(crate::report::BANNER)
    ));
    s.push_str(&format!(
        "<h1 id=\"shipment\" data-id=\"{}\" data-prev=\"{}\" data-next=\"{}\">{}</h1>",
        esc(&v.shipment_id),
        esc(&prev),
        esc(&next),
        esc(&v.shipment_id)
    ));
    s.push_str(&format!(
        "<p>Rank {} &middot; risk {:.3} &middot; declared <b>{}</b>, the evidence points to <b>{}</b> ({:.0}%)</p><ol>",
        v.rank,
        v.risk_score,
        esc(v.declared_category.as_deref().unwrap_or("")),
        esc(v.likely_category.as_deref().unwrap_or("")),
        v.likely_probability.unwrap_or(0.0) * 100.0
    ));
    for r in v
        .reasons
        .as_deref()
        .unwrap_or("")
        .split(" | ")
        .filter(|r| !r.is_empty())
    {
        s.push_str(&format!("<li>{}</li>", esc(r)));
    }
    s.push_str("</ol><h2>Decision</h2>");
    s.push_str(&format!(
        "<p>Current: <span id=\"current\" class=\"decision\">{}</span></p>",
        esc(v.decision.as_deref().unwrap_or("undecided"))
    ));
    s.push_str("<p><label>Reviewer <input id=\"reviewer\" autocomplete=\"off\"></label> <label>Goods found <select id=\"goods\"><option value=\"\">(not recorded)</option>");
    for c in &Tables::get().categories {
        s.push_str(&format!("<option>{}</option>", esc(&c.name)));
    }
    s.push_str("</select></label></p><p><textarea id=\"note\" rows=\"2\" cols=\"60\" placeholder=\"note\"></textarea></p>");
    s.push_str("<p><button data-d=\"confirmed\">Confirmed (c)</button><button data-d=\"cleared\">Cleared (x)</button><button data-d=\"inspect\">Inspect (i)</button> <span class=\"keys\">j/k: next/previous</span> <span id=\"status\"></span></p>");
    s.push_str(&case_section(store, v)?);
    s.push_str("<h2>Filing and invoice</h2><table><tr><th></th><th>filing</th><th>invoice</th></tr>");
    s.push_str(&format!("<tr><th>description</th><td>{}</td><td>{}</td></tr><tr><th>value USD</th><td>{}</td><td>{}</td></tr></table><dl>", g("description"), g("invoice_description"), g("value_usd"), g("invoice_value_usd")));
    for (k, val) in &v.manifest {
        s.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(val)));
    }
    s.push_str("</dl><h2>History</h2><ol id=\"history\">");
    for h in &v.history {
        s.push_str(&format!(
            "<li>{} by {}: {} &rarr; {}{}</li>",
            h.at,
            esc(&h.reviewer),
            esc(h.before.as_deref().unwrap_or("undecided")),
            esc(&h.after),
            h.note
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(|n| format!(" ({})", esc(n)))
                .unwrap_or_default()
        ));
    }
    s.push_str(&format!("</ol><script>{DESK_JS}</script></body></html>"));
    Ok(s)
}

/// The shipment page's script: decisions, case decisions and keys.
const DESK_JS: &str = include_str!("../../assets/desk.js");

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, rank: usize, flagged: bool) -> ScoredRow {
        ScoredRow {
            shipment_id: id.into(),
            rank,
            flagged,
            ..ScoredRow::default()
        }
    }

    #[test]
    fn the_queue_mixes_in_a_share_of_exploration() {
        let scored: Vec<ScoredRow> = (1..=200).map(|r| row(&format!("S{r}"), r, r <= 18)).collect();
        let q = build_queue(&scored, 0.1, 7);
        assert_eq!(q.len(), 20);
        assert_eq!(q.iter().filter(|e| e.1).count(), 2);
        assert_eq!(q[0].0, "S1", "highest risk first");
        let flagged: Vec<&str> = q.iter().filter(|e| !e.1).map(|e| e.0.as_str()).collect();
        assert_eq!(flagged, (1..=18).map(|r| format!("S{r}")).collect::<Vec<_>>());
        assert_eq!(build_queue(&scored, 0.1, 7), q, "seeded");
        assert!(build_queue(&scored, 0.0, 7).iter().all(|e| !e.1));
    }

    #[test]
    fn the_queue_groups_by_case_in_queue_order() {
        let e = |id: &str, rank: i64, case: Option<&str>, decision: Option<&str>| crate::review::QueueEntry {
            position: rank,
            shipment_id: id.into(),
            explore: false,
            rank,
            risk_score: 0.5,
            declared_category: None,
            likely_category: None,
            reason_codes: None,
            decision: decision.map(str::to_string),
            case_id: case.map(str::to_string),
            case_confirmed: false,
            exporter_confirmed: false,
        };
        let q = vec![
            e("A", 1, Some("C2"), None),
            e("B", 2, None, None),
            e("C", 3, Some("C1"), Some("cleared")),
            e("D", 4, Some("C2"), Some("confirmed")),
            e("E", 5, None, None),
        ];
        let c = queue_cases(&q);
        let got: Vec<(&str, &str, usize, usize, usize)> = c
            .iter()
            .map(|c| {
                (
                    c.case_id.as_str(),
                    c.lead_shipment_id.as_str(),
                    c.shipments,
                    c.undecided,
                    c.confirmed,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("C2", "A", 2, 1, 1),
                ("", "B", 1, 1, 0),
                ("C1", "C", 1, 0, 0),
                ("", "E", 1, 1, 0)
            ]
        );
        // Rows for the desk: the queue's and the other lines of its cases.
        let row = |id: &str, rank: usize, flagged: bool, case: &str| ScoredRow {
            shipment_id: id.into(),
            rank,
            flagged,
            case_id: case.into(),
            ..ScoredRow::default()
        };
        let scored = vec![
            row("A", 1, true, "C1"),
            row("B", 2, true, ""),
            row("X", 3, false, "C1"),
            row("Y", 4, false, "C9"),
            row("Z", 5, false, ""),
        ];
        let loaded: Vec<String> = rows_to_load(&scored, &[("A".into(), false), ("B".into(), false)])
            .into_iter()
            .map(|r| r.shipment_id)
            .collect();
        assert_eq!(loaded, ["A", "B", "X"]);
    }

    #[test]
    fn redirects_stay_on_the_desk() {
        assert_eq!(escape_location("/s/X1-1"), "/s/X1-1");
        assert_eq!(escape_location("//evil.example/x"), "/");
        assert_eq!(escape_location("/\\evil.example"), "/");
        assert_eq!(escape_location("http://evil.example"), "/");
        assert_eq!(escape_location("/s/a b\\é"), "/s/a%20b%5C%C3%A9");
    }

    #[test]
    fn paths_round_trip() {
        for id in ["X1-1", "a b/c?d", "<script>", "é"] {
            assert_eq!(unescape(&escape_path(id)), id);
        }
        // Hostile paths never panic.
        for raw in ["%", "%é", "%%", "%zz", "%e9%", "é%4"] {
            let _ = unescape(raw);
        }
    }
}
