//! The flagged-shipments report: one self-contained HTML file (no network,
//! no external assets) or the same content as JSON. Every value that comes
//! from a manifest is escaped before it reaches the page.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

use sentinel_manifest::batch::Batch;
use sentinel_manifest::domain::Date;
use sentinel_manifest::schema::Col;
use sentinel_scoring::scored::ScoredRow;

/// A party in the batch: an exporter as the company its spellings resolve
/// to (`entities::of_batch`), a consignee by name.
#[derive(Debug, Clone, Serialize)]
pub struct PartyHistory {
    pub lines_in_batch: usize,
    pub first_date_in_batch: String,
    pub flagged_in_batch: usize,
    /// The names its lines are filed under, most lines first.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Flagged {
    pub rank: usize,
    pub shipment_id: String,
    pub risk_score: f64,
    pub declared_category: String,
    pub likely_category: String,
    pub likely_probability: f64,
    pub reason_codes: Vec<String>,
    pub reasons: Vec<String>,
    /// Filing fields by canonical name (as validated).
    pub filing: BTreeMap<String, String>,
    pub exporter_history: Option<PartyHistory>,
    pub consignee_history: Option<PartyHistory>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub confidentiality: String,
    pub rows: usize,
    pub flagged: usize,
    pub budget_percent: f64,
    pub flagged_declared_value_usd: f64,
    pub model_id: String,
    pub model_metrics: Option<serde_json::Value>,
    /// Risk-score histogram: 20 bins over 0..1, all rows and flagged rows.
    pub risk_histogram: Vec<(usize, usize)>,
    /// Declared category -> (log10 value per kg, flagged) points.
    pub value_per_kg: BTreeMap<String, Vec<(f64, bool)>>,
    pub flags_by_country: Vec<(String, usize)>,
    /// Flagged lines per exporter (resolved: one bar per company, named by
    /// its most used spelling and, after a plus, how many others it has).
    pub flags_by_exporter: Vec<(String, usize)>,
    pub flags_by_reason: Vec<(String, usize)>,
    pub shipments: Vec<Flagged>,
    /// The batch's cases, strongest first (empty for files scored before cases).
    pub cases: Vec<crate::case_summary::CaseSummary>,
    /// How far the batch is from the model's training data (when the
    /// report had the model).
    pub drift: Option<sentinel_detect::drift::Drift>,
}

pub const BANNER: &str = "CONFIDENTIAL: export filing (EEI) data, restricted under 13 U.S.C. 301 and 15 CFR 30.60. For official use by authorised export-control and customs staff only.";

fn top(counts: HashMap<String, usize>, n: usize) -> Vec<(String, usize)> {
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// Builds the report from the scored rows and the batch they were scored from.
pub fn build(scored: &[ScoredRow], b: &Batch, model_metrics: Option<serde_json::Value>) -> Report {
    let ids = b.text(Col::ShipmentId);
    let index: HashMap<&str, usize> = (0..b.len).map(|i| (&ids[i], i)).collect();
    let mut tally = Tally::new(b);
    for s in scored {
        tally.add(s, index.get(s.shipment_id.as_str()).copied());
    }
    let mut out: Vec<Flagged> = tally
        .shipments
        .iter()
        .map(|(i, s, filing)| tally.flagged(*i, s, filing))
        .collect();
    out.sort_by_key(|f| f.rank);
    let n = scored.len();
    let flags_by_exporter = tally.exporters_flagged(10);
    Report {
        confidentiality: BANNER.to_string(),
        rows: n,
        flagged: out.len(),
        budget_percent: if n == 0 {
            0.0
        } else {
            out.len() as f64 * 100.0 / n as f64
        },
        flagged_declared_value_usd: tally.flagged_value,
        model_id: scored.first().map(|s| s.model_id.clone()).unwrap_or_default(),
        model_metrics,
        risk_histogram: tally.hist,
        value_per_kg: tally.vpk,
        flags_by_country: top(tally.by_country, 15),
        flags_by_exporter,
        flags_by_reason: top(tally.by_reason, 20),
        shipments: out,
        cases: crate::case_summary::summarise(scored, b),
        drift: None,
    }
}

/// A party's figures in the batch: lines, first date, flagged lines, and
/// the names its lines are filed under with their lines.
#[derive(Default)]
struct PartyLines {
    lines: usize,
    first: f64,
    flagged: usize,
    names: HashMap<String, usize>,
}

impl PartyLines {
    /// The names, most lines first (equal counts by name).
    fn names(&self) -> Vec<String> {
        let mut v: Vec<(&String, &usize)> = self.names.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.into_iter().map(|(n, _)| n.clone()).collect()
    }

    /// How the report's chart names the party: its most used name (cut to
    /// fit the chart) and, after a plus, how many other names it is filed
    /// under.
    fn label(&self) -> String {
        let names = self.names();
        match names.len() {
            0 => String::new(),
            1 => names[0].clone(),
            n => format!(
                "{} (+{})",
                sentinel_manifest::safe_text::cut(&names[0], 20),
                n - 1
            ),
        }
    }
}

/// Each party of the batch by kind (0 exporter, 1 consignee) and key (an
/// exporter's resolved entity, a consignee's name): its lines and first
/// date; the flagged lines are counted as the report reads them.
fn party_lines(b: &Batch, exporter_key: &[String]) -> HashMap<(u8, String), PartyLines> {
    let (exporter, consignee) = (b.text(Col::UsppiName), b.text(Col::ConsigneeName));
    let dates = b.num(Col::ExportDate);
    let mut party: HashMap<(u8, String), PartyLines> = HashMap::new();
    for i in 0..b.len {
        for (kind, key, name) in [
            (0u8, exporter_key[i].as_str(), &exporter[i]),
            (1u8, &consignee[i], &consignee[i]),
        ] {
            if key.is_empty() {
                continue;
            }
            let e = party
                .entry((kind, key.to_string()))
                .or_insert_with(|| PartyLines {
                    first: f64::INFINITY,
                    ..PartyLines::default()
                });
            e.lines += 1;
            e.first = e.first.min(dates[i]);
            *e.names.entry(name.to_string()).or_default() += 1;
        }
    }
    party
}

/// What the report counts over the scored rows.
struct Tally<'a> {
    b: &'a Batch,
    hist: Vec<(usize, usize)>,
    vpk: BTreeMap<String, Vec<(f64, bool)>>,
    /// Unflagged points drawn per declared category (at most 400 each).
    unflagged_seen: HashMap<String, usize>,
    by_country: HashMap<String, usize>,
    by_exporter: HashMap<String, usize>,
    by_reason: HashMap<String, usize>,
    /// Each line's exporter entity within the batch (empty without a name
    /// or an ID).
    exporter_key: Vec<String>,
    party: HashMap<(u8, String), PartyLines>,
    flagged_value: f64,
    /// The flagged rows: their batch row, scored row and filing.
    shipments: Vec<(usize, &'a ScoredRow, BTreeMap<String, String>)>,
}

impl<'a> Tally<'a> {
    fn new(b: &'a Batch) -> Tally<'a> {
        let exporter_key = sentinel_parties::entities::of_batch(b);
        Tally {
            b,
            hist: vec![(0usize, 0usize); 20],
            vpk: BTreeMap::new(),
            unflagged_seen: HashMap::new(),
            by_country: HashMap::new(),
            by_exporter: HashMap::new(),
            by_reason: HashMap::new(),
            party: party_lines(b, &exporter_key),
            exporter_key,
            flagged_value: 0.0,
            shipments: Vec::new(),
        }
    }

    /// Counts a scored row, at batch row `at` when the batch holds it.
    fn add(&mut self, s: &'a ScoredRow, at: Option<usize>) {
        let bin = ((s.risk.clamp(0.0, 1.0) * 20.0) as usize).min(19);
        self.hist[bin].0 += 1;
        let Some(i) = at else {
            return;
        };
        let b = self.b;
        let (v, w) = (b.num(Col::ValueUsd)[i], b.num(Col::ShippingWeightKg)[i]);
        let point = ((v + 1.0) / w).log10();
        let seen = self.unflagged_seen.entry(s.declared.clone()).or_default();
        if s.flagged || *seen < 400 {
            self.vpk
                .entry(s.declared.clone())
                .or_default()
                .push((point, s.flagged));
            if !s.flagged {
                *seen += 1;
            }
        }
        if !s.flagged {
            return;
        }
        self.hist[bin].1 += 1;
        self.flagged_value += v;
        let exporter = &self.exporter_key[i];
        *self
            .by_country
            .entry(b.text(Col::ConsigneeCountry)[i].to_string())
            .or_default() += 1;
        if !exporter.is_empty() {
            *self.by_exporter.entry(exporter.to_string()).or_default() += 1;
        }
        for c in s.codes.split(';').filter(|c| !c.is_empty()) {
            *self.by_reason.entry(c.to_string()).or_default() += 1;
        }
        for (kind, key) in [(0u8, exporter.as_str()), (1u8, &b.text(Col::ConsigneeName)[i])] {
            if let Some(e) = self.party.get_mut(&(kind, key.to_string())) {
                e.flagged += 1;
            }
        }
        let filing: BTreeMap<String, String> = Col::ALL
            .iter()
            .map(|c| (c.name().to_string(), b.cell_text(*c, i)))
            .collect();
        self.shipments.push((i, s, filing));
    }

    fn history(&self, kind: u8, key: &str) -> Option<PartyHistory> {
        self.party.get(&(kind, key.to_string())).map(|e| PartyHistory {
            lines_in_batch: e.lines,
            first_date_in_batch: Date(e.first as i32).to_string(),
            flagged_in_batch: e.flagged,
            names: e.names(),
        })
    }

    /// The exporters with the most flagged lines, named as the report
    /// shows them.
    fn exporters_flagged(&self, n: usize) -> Vec<(String, usize)> {
        top(self.by_exporter.clone(), n)
            .into_iter()
            .map(|(key, k)| {
                let label = self.party.get(&(0, key.clone())).map_or(key, PartyLines::label);
                (label, k)
            })
            .collect()
    }

    /// A flagged shipment as the report shows it.
    fn flagged(&self, i: usize, s: &ScoredRow, filing: &BTreeMap<String, String>) -> Flagged {
        let b = self.b;
        let split = |text: &str, by: &str| -> Vec<String> {
            text.split(by)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        };
        Flagged {
            rank: s.rank,
            shipment_id: s.shipment_id.clone(),
            risk_score: s.risk,
            declared_category: s.declared.clone(),
            likely_category: s.likely.clone(),
            likely_probability: s.likely_p,
            reason_codes: split(&s.codes, ";"),
            reasons: split(&s.reasons, " | "),
            filing: filing.clone(),
            exporter_history: self.history(0, &self.exporter_key[i]),
            consignee_history: self.history(1, &b.text(Col::ConsigneeName)[i]),
        }
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

fn bars(title: &str, id: &str, data: &[(String, usize)]) -> String {
    let max = data.iter().map(|d| d.1).max().unwrap_or(1).max(1) as f64;
    let h = 18 * data.len().max(1) + 30;
    let mut s = format!("<figure id=\"{id}\"><figcaption>{}</figcaption><svg class=\"chart\" width=\"460\" height=\"{h}\" role=\"img\" aria-label=\"{}\">", esc(title), esc(title));
    for (k, (label, n)) in data.iter().enumerate() {
        let y = 10 + k * 18;
        let w = (*n as f64 / max * 250.0).max(1.0);
        let _ = write!(
            s,
            "<text x=\"175\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"180\" y=\"{}\" width=\"{w:.1}\" height=\"14\" class=\"bar\"/><text x=\"{:.1}\" y=\"{}\">{n}</text>",
            y + 11,
            esc(&sentinel_manifest::safe_text::cut(label, 28)),
            y,
            185.0 + w,
            y + 11
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn histogram(r: &Report) -> String {
    let max = r.risk_histogram.iter().map(|h| h.0).max().unwrap_or(1).max(1) as f64;
    let mut s = String::from("<figure id=\"risk-histogram\"><figcaption>Risk score distribution (log scale; flagged in red)</figcaption><svg class=\"chart\" width=\"460\" height=\"200\" role=\"img\" aria-label=\"risk score histogram\">");
    let scale = |n: usize| {
        if n == 0 {
            0.0
        } else {
            (n as f64).ln_1p() / max.ln_1p() * 160.0
        }
    };
    for (k, (all, flagged)) in r.risk_histogram.iter().enumerate() {
        let x = 20 + k * 21;
        let ha = scale(*all);
        let hf = scale(*flagged);
        let _ = write!(s, "<rect x=\"{x}\" y=\"{:.1}\" width=\"19\" height=\"{ha:.1}\" class=\"bar\"><title>{:.2}-{:.2}: {all} rows</title></rect>", 175.0 - ha, k as f64 / 20.0, (k + 1) as f64 / 20.0);
        if *flagged > 0 {
            let _ = write!(s, "<rect x=\"{x}\" y=\"{:.1}\" width=\"19\" height=\"{hf:.1}\" class=\"flag\"><title>{flagged} flagged</title></rect>", 175.0 - hf);
        }
    }
    s.push_str("<text x=\"20\" y=\"195\">0</text><text x=\"430\" y=\"195\">1</text></svg></figure>");
    s
}

fn strip(r: &Report) -> String {
    let cats: Vec<&String> = r.value_per_kg.keys().collect();
    let w = 120 + 80 * cats.len().max(1);
    let mut s = format!("<figure id=\"value-per-kg\"><figcaption>Value per kg by declared category (log10 USD/kg; flagged in red)</figcaption><svg class=\"chart\" width=\"{w}\" height=\"260\" role=\"img\" aria-label=\"value per kg by declared category\">");
    for v in [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] {
        let y = 220.0 - v * 40.0;
        let _ = write!(s, "<line x1=\"40\" x2=\"{w}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/><text x=\"5\" y=\"{:.0}\">$10^{v:.0}</text>", y + 4.0);
    }
    for (k, cat) in cats.iter().enumerate() {
        let cx = 80 + k * 80;
        for (j, (p, flagged)) in r.value_per_kg[*cat].iter().enumerate() {
            let y = 220.0 - p.clamp(-0.5, 5.4) * 40.0;
            let x = cx as f64 + ((j * 37) % 29) as f64 - 14.0;
            let _ = write!(
                s,
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{}\" class=\"{}\"/>",
                if *flagged { 3 } else { 2 },
                if *flagged { "flag" } else { "dot" }
            );
        }
        let _ = write!(
            s,
            "<text x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" class=\"small\">{}</text>",
            238 + 12 * (k % 2),
            esc(&cat.replace('_', " "))
        );
    }
    s.push_str("</svg></figure>");
    s
}

/// The report as one self-contained HTML page.
pub fn html(r: &Report) -> String {
    let mut s = String::new();
    s.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">");
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">");
    let _ = write!(
        s,
        "<title>sentinel report: {} flagged of {}</title><style>{CSS}</style></head><body>",
        r.flagged, r.rows
    );
    let _ = write!(
        s,
        "<div class=\"banner\" role=\"note\">{}</div>",
        esc(&r.confidentiality)
    );
    if let Some(d) = r.drift.as_ref().filter(|d| d.warning) {
        let _ = write!(
            s,
            "<div class=\"drift\" role=\"alert\" id=\"drift-warning\"><strong>Drift warning:</strong> {}</div>",
            esc(&d.advice())
        );
    }
    summary(&mut s, r);
    s.push_str("</dl></section><section class=\"charts\">");
    s.push_str(&histogram(r));
    s.push_str(&strip(r));
    s.push_str(&bars(
        "Flags by destination country",
        "by-country",
        &r.flags_by_country,
    ));
    s.push_str(&bars(
        "Flags by exporter (one company, its other spellings after +)",
        "by-exporter",
        &r.flags_by_exporter,
    ));
    s.push_str(&bars("Flags by reason code", "by-reason", &r.flags_by_reason));
    s.push_str("</section><section><h2>Flagged shipments</h2><input id=\"filter\" type=\"search\" placeholder=\"Filter (any text)\" aria-label=\"filter\"> <button id=\"download\">Download the table (CSV, safe for spreadsheets)</button>");
    s.push_str("<table id=\"flagged\"><thead><tr><th data-k=\"n\">rank</th><th>shipment</th><th data-k=\"n\">risk</th><th>declared</th><th>likely</th><th>destination</th><th>exporter</th><th data-k=\"n\">value USD</th><th>first reason</th></tr></thead><tbody>");
    for f in &r.shipments {
        flagged_row(&mut s, f);
        evidence_row(&mut s, f);
    }
    s.push_str("</tbody></table></section>");
    s.push_str(&cases_section(&r.cases));
    let _ = write!(s, "<script>{JS}</script></body></html>");
    s
}

/// The summary's figures. The model's training metrics are in-sample (it
/// has no held-out figure), so the summary does not show them as its
/// quality.
fn summary(s: &mut String, r: &Report) {
    s.push_str("<h1>Flagged shipments</h1><section class=\"summary\"><dl>");
    for (k, v) in [
        ("rows scored", r.rows.to_string()),
        ("flagged", r.flagged.to_string()),
        ("budget", format!("{:.2}% of the batch", r.budget_percent)),
        (
            "declared value of flagged rows",
            format!("${:.0}", r.flagged_declared_value_usd),
        ),
        ("model", r.model_id.clone()),
    ] {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
}

/// A flagged shipment's row of the table.
fn flagged_row(s: &mut String, f: &Flagged) {
    let g = |k: &str| f.filing.get(k).map(String::as_str).unwrap_or("");
    let _ = write!(
        s,
        "<tr class=\"row\"><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{} ({:.0}%)</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        f.rank,
        esc(&f.shipment_id),
        f.risk_score,
        esc(&f.declared_category),
        esc(&f.likely_category),
        f.likely_probability * 100.0,
        esc(g("ultimate_consignee_country")),
        esc(g("usppi_name")),
        esc(g("value_usd")),
        esc(f.reasons.first().map(String::as_str).unwrap_or(""))
    );
}

/// The hidden row under a flagged shipment: its reasons, its parties in
/// the batch, and its filing beside its invoice.
fn evidence_row(s: &mut String, f: &Flagged) {
    let g = |k: &str| f.filing.get(k).map(String::as_str).unwrap_or("");
    s.push_str(
        "<tr class=\"detail\" hidden><td colspan=\"9\"><div class=\"evidence\"><div><h3>Reasons</h3><ol>",
    );
    for (c, t) in f.reason_codes.iter().zip(&f.reasons) {
        let _ = write!(s, "<li><code>{}</code> {}</li>", esc(c), esc(t));
    }
    let _ = write!(
        s,
        "</ol><p>Declared <b>{}</b>; the evidence points to <b>{}</b> ({:.0}%).</p>",
        esc(&f.declared_category),
        esc(&f.likely_category),
        f.likely_probability * 100.0
    );
    for (label, h) in [
        ("Exporter", &f.exporter_history),
        ("Consignee", &f.consignee_history),
    ] {
        if let Some(h) = h {
            let _ = write!(
                s,
                "<p>{label} in this batch: {} lines since {}, {} flagged",
                h.lines_in_batch,
                esc(&h.first_date_in_batch),
                h.flagged_in_batch
            );
            if h.names.len() > 1 {
                let shown: Vec<String> = h.names.iter().take(5).map(|n| esc(n)).collect();
                let more = h.names.len().saturating_sub(5);
                let _ = write!(s, "; filed as {}", shown.join("; "));
                if more > 0 {
                    let _ = write!(s, " and {more} more");
                }
            }
            s.push_str(".</p>");
        }
    }
    s.push_str("</div><div><h3>Filing and invoice</h3><table class=\"docs\"><tr><th></th><th>filing</th><th>invoice</th></tr>");
    let _ = write!(
        s,
        "<tr><th>description</th><td>{}</td><td>{}</td></tr>",
        esc(g("description")),
        esc(g("invoice_description"))
    );
    let _ = write!(
        s,
        "<tr><th>value USD</th><td>{}</td><td>{}</td></tr></table><dl class=\"fields\">",
        esc(g("value_usd")),
        esc(g("invoice_value_usd"))
    );
    for k in [
        "export_date",
        "hs_code",
        "brand",
        "eccn",
        "license_code",
        "quantity",
        "quantity_unit",
        "shipping_weight_kg",
        "package_count",
        "usppi_name",
        "usppi_address",
        "ultimate_consignee_name",
        "ultimate_consignee_type",
        "ultimate_consignee_country",
        "intermediate_consignee_name",
        "intermediate_consignee_country",
        "payer_country",
        "forwarder_name",
        "port_of_export",
        "transport_mode",
        "carrier",
        "amendment_count",
    ] {
        let _ = write!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(g(k)));
    }
    s.push_str("</dl></div></div></td></tr>");
}

/// Cases listed in the report, and cases drawn as a network.
const CASES_LISTED: usize = 30;
const CASES_DRAWN: usize = 8;
/// A case is drawn when it has at least this many flagged lines.
const CASE_DRAWN_LINES: usize = 3;
/// Flagged lines and parties per column drawn in one picture.
const DRAWN_MAX: usize = 40;

fn cases_section(cases: &[crate::case_summary::CaseSummary]) -> String {
    use crate::case_summary::parties_cell;
    let mut s = String::from("<section id=\"cases\"><h2>Cases</h2>");
    if cases.is_empty() {
        s.push_str(
            "<p>No cases (the scored file has no case_id column, or nothing was flagged).</p></section>",
        );
        return s;
    }
    let several = cases.iter().filter(|c| c.flagged_lines > 1).count();
    let _ = write!(
        s,
        "<p>{} cases, {several} of them of more than one flagged line. Flagged lines whose exporters resolve to one company are one case, and so are flagged lines that share an address, consignee or intermediate at least half of whose lines are flagged; a case also holds the lines below the flag line of its parties a fifth of whose lines are flagged. Case score: the chance that at least one flagged line is a controlled misdeclaration; expected: how many are, by their scores. The strongest {} cases:</p>",
        cases.len(),
        cases.len().min(CASES_LISTED)
    );
    s.push_str("<table id=\"case-table\"><thead><tr><th>case</th><th>score</th><th>expected</th><th>flagged</th><th>lines</th><th>best rank</th><th>flagged value USD</th><th>dates</th><th>exporters</th><th>consignees</th><th>reasons</th></tr></thead><tbody>");
    for c in cases.iter().take(CASES_LISTED) {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{:.3}</td><td>{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{} to {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.case_id),
            c.case_score,
            c.expected_positive_lines,
            c.flagged_lines,
            c.lines,
            c.best_rank,
            c.flagged_value_usd,
            esc(&c.first_date),
            esc(&c.last_date),
            esc(&parties_cell(&c.exporters, 3)),
            esc(&parties_cell(&c.consignees, 3)),
            esc(&parties_cell(&c.reason_codes, 3)),
        );
    }
    s.push_str("</tbody></table><div class=\"charts\">");
    for c in cases
        .iter()
        .filter(|c| c.flagged_lines >= CASE_DRAWN_LINES)
        .take(CASES_DRAWN)
    {
        s.push_str(&case_network(c));
    }
    s.push_str("</div></section>");
    s
}

/// A case as a network: its exporters and addresses on the left, its
/// flagged lines in the middle (redder for higher risk), its consignees and
/// intermediates on the right, each line joined to its parties.
fn case_network(c: &crate::case_summary::CaseSummary) -> String {
    // The best ranked lines, drawn grouped by exporter and consignee.
    let mut lines: Vec<&crate::case_summary::CaseLine> = c.flagged.iter().take(DRAWN_MAX).collect();
    lines.sort_by(|a, b| (&a.exporter, &a.consignee, a.rank).cmp(&(&b.exporter, &b.consignee, b.rank)));
    // Distinct parties per side, in order of first appearance.
    let mut left: Vec<(char, &str)> = Vec::new();
    let mut right: Vec<(char, &str)> = Vec::new();
    for l in &lines {
        for (side, kind, name) in [
            (0, 'E', l.exporter.as_str()),
            (0, 'A', l.address.as_str()),
            (1, 'C', l.consignee.as_str()),
            (1, 'I', l.intermediate.as_str()),
        ] {
            let v = if side == 0 { &mut left } else { &mut right };
            if !name.is_empty() && !v.contains(&(kind, name)) && v.len() < DRAWN_MAX {
                v.push((kind, name));
            }
        }
    }
    let step = 16.0;
    let rows = lines.len().max(left.len()).max(right.len()).max(1) as f64;
    let h = rows * step + 40.0;
    let y_of = |k: usize, n: usize| 30.0 + (k as f64 + 0.5) * (rows * step) / n.max(1) as f64;
    let title = format!(
        "Case {}: {} flagged lines{}",
        c.case_id,
        c.flagged_lines,
        if c.flagged_lines > lines.len() {
            format!(" (the first {} drawn)", lines.len())
        } else {
            String::new()
        }
    );
    let mut s = format!(
        "<figure class=\"case-network\" id=\"case-{}\"><figcaption>{}</figcaption><svg class=\"chart\" width=\"720\" height=\"{h:.0}\" role=\"img\" aria-label=\"{}\">",
        esc(&c.case_id),
        esc(&title),
        esc(&title)
    );
    s.push_str("<text x=\"10\" y=\"16\" class=\"small\">exporters (E), addresses (A)</text><text x=\"330\" y=\"16\" class=\"small\">flagged lines</text><text x=\"480\" y=\"16\" class=\"small\">consignees (C), intermediates (I)</text>");
    let find = |v: &[(char, &str)], kind: char, name: &str| v.iter().position(|p| *p == (kind, name));
    for (k, l) in lines.iter().enumerate() {
        let y = y_of(k, lines.len());
        for (side, kind, name) in [
            (0, 'E', l.exporter.as_str()),
            (0, 'A', l.address.as_str()),
            (1, 'C', l.consignee.as_str()),
            (1, 'I', l.intermediate.as_str()),
        ] {
            let (v, x) = if side == 0 {
                (&left, 220.0)
            } else {
                (&right, 470.0)
            };
            if let Some(p) = find(v, kind, name) {
                let _ = write!(
                    s,
                    "<line x1=\"345\" y1=\"{y:.1}\" x2=\"{x}\" y2=\"{:.1}\" class=\"edge\"/>",
                    y_of(p, v.len())
                );
            }
        }
    }
    for (k, l) in lines.iter().enumerate() {
        let y = y_of(k, lines.len());
        let red = (l.risk_score.clamp(0.0, 1.0) * 200.0) as u8;
        let _ = write!(
            s,
            "<circle cx=\"345\" cy=\"{y:.1}\" r=\"5\" fill=\"rgb({},{},{})\"><title>{} (rank {}, risk {:.3})</title></circle>",
            55 + red,
            90 - red / 3,
            150 - red / 2,
            esc(&l.shipment_id),
            l.rank,
            l.risk_score
        );
    }
    for (v, x, anchor) in [(&left, 215.0, "end"), (&right, 475.0, "start")] {
        for (k, (kind, name)) in v.iter().enumerate() {
            let y = y_of(k, v.len());
            let cx = if anchor == "end" { x + 5.0 } else { x - 5.0 };
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" class=\"party\"/><text x=\"{x}\" y=\"{:.1}\" text-anchor=\"{anchor}\" class=\"small\">{kind}: {}<title>{}</title></text>",
                cx - 4.0,
                y - 4.0,
                y + 3.5,
                esc(&sentinel_manifest::safe_text::cut(name, 34)),
                esc(name)
            );
        }
    }
    s.push_str("</svg></figure>");
    s
}

/// The report's style sheet (one line, as written into the page).
const CSS: &str = include_str!("../assets/report.css");

/// The report's script: sorting and filtering the flagged table.
const JS: &str = include_str!("../assets/report.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_makes_markup_text() {
        assert_eq!(
            esc("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(esc("a\"b'c&d"), "a&quot;b&#39;c&amp;d");
        assert_eq!(esc("x\u{0}y"), "x\u{fffd}y");
    }

    #[test]
    fn an_exporter_is_one_company_with_its_spellings() {
        // One company (ID 12-3456789) filed three ways, flagged three
        // times; another company flagged once; a consignee by name.
        let csv = "shipment_id,export_date,usppi_name,usppi_id,ultimate_consignee_name,ultimate_consignee_country,hs_code,value_usd,shipping_weight_kg\n\
S1,2025-01-01,Hao Global LLC,12-3456789,Fast Cargo,HK,850440,10,1\n\
S2,2025-01-02,\"Hao Global, LLC\",12-3456789,Fast Cargo,HK,850440,10,1\n\
S3,2025-01-03,HAO GLOBAL L.L.C.,12-3456789,Other Buyer,SG,850440,10,1\n\
S4,2025-01-04,Hao Global LLC,12-3456789,Other Buyer,SG,850440,10,1\n\
S5,2025-01-05,Acme Corp,98-7654321,Fast Cargo,HK,850440,10,1\n";
        let mut r = sentinel_manifest::reader::Reader::from_csv_reader(
            "b.csv",
            Box::new(std::io::Cursor::new(csv.as_bytes().to_vec())),
            None,
            None,
        )
        .unwrap();
        let b = r.read_all().unwrap();
        let row = |id: &str, rank: usize, flagged: bool| ScoredRow {
            shipment_id: id.to_string(),
            risk: if flagged { 0.9 } else { 0.1 },
            flagged,
            rank,
            ..ScoredRow::default()
        };
        let scored = [
            row("S1", 1, true),
            row("S2", 2, true),
            row("S3", 3, true),
            row("S5", 4, true),
            row("S4", 5, false),
        ];
        let report = build(&scored, &b, None);
        assert_eq!(
            report.flags_by_exporter,
            [
                ("Hao Global LLC (+2)".to_string(), 3),
                ("Acme Corp".to_string(), 1)
            ]
        );
        let h = report.shipments[0].exporter_history.as_ref().unwrap();
        assert_eq!((h.lines_in_batch, h.flagged_in_batch), (4, 3));
        assert_eq!(
            h.names,
            ["Hao Global LLC", "HAO GLOBAL L.L.C.", "Hao Global, LLC"]
        );
        let c = report.shipments[0].consignee_history.as_ref().unwrap();
        assert_eq!((c.lines_in_batch, c.flagged_in_batch, c.names.len()), (3, 3, 1));
        let page = html(&report);
        assert!(
            page.contains("filed as Hao Global LLC; HAO GLOBAL L.L.C.; Hao Global, LLC."),
            "{page}"
        );
    }
}
