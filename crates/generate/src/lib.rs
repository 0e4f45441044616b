//! A synthetic world of export filings with ground truth: exporters with a
//! kind, an address, a start date and a history that builds up over the
//! period; shared third-party warehouses; consignees per country, freight
//! forwarders among them; a commodity catalogue grounded in the domain facts;
//! honest look-alikes; and the known smuggling schemes, each hiding some
//! signals and leaking others, with probabilities rather than certainties.
//!
//! Deterministic for a seed, byte for byte: one seeded RNG, single-threaded,
//! rows written day by day. Parameters live in `datasets/world.toml` and
//! `datasets/catalogue.csv`.

use std::collections::HashMap;
use std::io::Write;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;

pub mod list;
mod variant;

use variant::Variant;
pub use variant::MAX_VARIANT;

use sentinel_manifest::domain::Date;
use sentinel_manifest::schema::Col;
use sentinel_manifest::tables::{self, CatalogueItem, Tables};

/// The spec's smuggling schemes (the `typology` of their lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    RelabelAdapter,
    RelabelController,
    GenericParts,
    ConsumerCover,
    ServerAsGeneric,
    FalseEndUser,
}

impl Scheme {
    /// Every scheme, in the order their lines are allocated.
    pub const ALL: [Scheme; 6] = [
        Scheme::RelabelAdapter,
        Scheme::RelabelController,
        Scheme::GenericParts,
        Scheme::ConsumerCover,
        Scheme::ServerAsGeneric,
        Scheme::FalseEndUser,
    ];

    /// The spec's name, as written in `typology` and `world.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::RelabelAdapter => "relabel_adapter",
            Scheme::RelabelController => "relabel_controller",
            Scheme::GenericParts => "generic_parts",
            Scheme::ConsumerCover => "consumer_cover",
            Scheme::ServerAsGeneric => "server_as_generic",
            Scheme::FalseEndUser => "false_end_user",
        }
    }

    /// Share of the fraud lines that belong to this scheme.
    fn share(self) -> f64 {
        match self {
            Scheme::RelabelAdapter => 0.25,
            Scheme::RelabelController => 0.18,
            Scheme::GenericParts => 0.17,
            Scheme::ConsumerCover => 0.12,
            Scheme::ServerAsGeneric => 0.12,
            Scheme::FalseEndUser => 0.16,
        }
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// Total lines, scenario lines included.
    pub rows: usize,
    pub seed: u64,
    /// Share of lines that belong to a scheme (default 0.005).
    pub fraud_rate: f64,
    /// Add the New Jersey warehouse case (about 0.2% of lines, at least 20).
    pub nj_scenario: bool,
    /// First export date (default 2024-07-01).
    pub start: Date,
    /// Length of the period in days (default 365).
    pub days: u32,
    /// Share of honest filings that are irregular: two to five of bulk
    /// lot, foreign payer, intermediate consignee, amendments, no
    /// classification, KG/SET units, garbled package count, invoice at
    /// odds (default 0; the shipped worlds have none).
    pub irregular: f64,
    /// Share of honest filings unusual in harmless directions: two to five
    /// of bulk lot, used or surplus goods sold cheap, a nominal value
    /// (returns, free replacements), counts in small pieces, quantity by
    /// weight, no brand, shipped by sea, road or post (default 0).
    pub unusual: f64,
    /// Which world: 0 is the base world; another number rewrites its lines
    /// in that variant's vocabulary, codes, levels, brands and tells
    /// (see [`variant`]).
    pub variant: u32,
}

#[derive(Debug, Deserialize)]
struct Decoy {
    hs_code: String,
    #[serde(default)]
    alt_hs_code: Option<String>,
    descriptions: Vec<String>,
    unit_price: [f64; 2],
}

#[derive(Debug, Deserialize)]
struct NjCase {
    exporter: String,
    exporter_address: String,
    facility: String,
    brand: String,
    descriptions: Vec<String>,
    hs_codes: Vec<String>,
    intermediate: [String; 2],
    consignees: Vec<[String; 2]>,
    ports: Vec<String>,
    start: String,
    end: String,
}

#[derive(Debug, Deserialize)]
struct WorldParams {
    destinations: Vec<(String, f64)>,
    ports: Vec<[String; 2]>,
    cities: Vec<[String; 2]>,
    commercial_streets: Vec<String>,
    residential_streets: Vec<String>,
    warehouses: Vec<String>,
    name_first: Vec<String>,
    name_second: Vec<String>,
    name_suffix: Vec<String>,
    name_syllables: Vec<String>,
    consignee_words: Vec<String>,
    consignee_trades: Vec<String>,
    forwarder_trades: Vec<String>,
    company_forms: Vec<[String; 2]>,
    forwarders: Vec<String>,
    carriers: Vec<[String; 2]>,
    oem_brands: Vec<String>,
    brand_syllables: Vec<String>,
    decoys: HashMap<String, Decoy>,
    nj_warehouse: NjCase,
}

/// Honest exporter kinds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Ships one or two categories to repeat customers.
    Manufacturer,
    /// Licensed IT distributor: data-centre GPUs and servers with correct papers.
    GpuDistributor,
    /// Small reseller of mixed electronics, often via forwarders in hubs.
    SmallReseller,
    /// A front set up by a scheme.
    Front,
}

#[derive(Debug, Clone)]
struct Exporter {
    name: String,
    id: String,
    address: String,
    port: String,
    kind: Kind,
    start: i32,
    items: Vec<(usize, f64)>,
    consignees: Vec<usize>,
    activity: f64,
    forwarder: String,
    dotted_hs: bool,
    unit_style: f64,
    payer_abroad: f64,
    /// A private-label brand the exporter puts on cheap goods, if any.
    own_brand: Option<String>,
}

#[derive(Debug, Clone)]
struct Consignee {
    name: String,
    country: String,
    ctype: &'static str,
    forwarder: bool,
}

/// One generated line, as text cells in [`Col`] order.
type Line = Vec<String>;

struct Rand(Xoshiro256PlusPlus);

impl Rand {
    fn f(&mut self) -> f64 {
        self.0.gen::<f64>()
    }
    fn p(&mut self, p: f64) -> bool {
        self.f() < p
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f()
    }
    fn int(&mut self, lo: usize, hi_incl: usize) -> usize {
        self.0.gen_range(lo..=hi_incl)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.0.gen_range(0..v.len())]
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.f().max(1e-300);
        let u2 = self.f();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * (sigma * self.normal()).exp()
    }
    fn weighted(&mut self, w: &[f64]) -> usize {
        let total: f64 = w.iter().sum();
        let mut x = self.f() * total;
        for (i, wi) in w.iter().enumerate() {
            if x < *wi {
                return i;
            }
            x -= wi;
        }
        w.len() - 1
    }
    fn token(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        (0..n).map(|_| A[self.0.gen_range(0..A.len())] as char).collect()
    }
}

/// The generated world before any line is written.
struct World<'a> {
    p: WorldParams,
    t: &'a Tables,
    exporters: Vec<Exporter>,
    cum_activity: Vec<f64>,
    consignees: Vec<Consignee>,
    /// Consignees by (country, is a forwarder).
    by_country: HashMap<(String, bool), Vec<usize>>,
    items_by_cat: HashMap<String, Vec<usize>>,
    start: i32,
    days: i32,
    irregular: f64,
    unusual: f64,
}

fn money(v: f64) -> String {
    format!("{:.2}", v)
}

fn kg(v: f64) -> String {
    if v >= 100.0 {
        format!("{:.0}", v)
    } else {
        format!("{:.1}", v.max(0.1))
    }
}

fn dotted(hs: &str) -> String {
    if hs.len() == 10 {
        format!("{}.{}.{}", &hs[..4], &hs[4..6], &hs[6..])
    } else {
        hs.to_string()
    }
}

impl<'a> World<'a> {
    fn build(cfg: &GenerateConfig, r: &mut Rand) -> Result<World<'a>> {
        let p: WorldParams =
            toml::from_str(tables::world_toml()).context("datasets/world.toml is malformed")?;
        let t = Tables::get();
        let mut items_by_cat: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, it) in t.catalogue.iter().enumerate() {
            items_by_cat.entry(it.category.clone()).or_default().push(i);
        }
        let mut w = World {
            p,
            t,
            exporters: Vec::new(),
            cum_activity: Vec::new(),
            consignees: Vec::new(),
            by_country: HashMap::new(),
            items_by_cat,
            start: cfg.start.0,
            days: cfg.days as i32,
            irregular: cfg.irregular,
            unusual: cfg.unusual,
        };
        // Consignees: per destination country, a pool; forwarders among them.
        let n_cons = (cfg.rows / 50).clamp(300, 40_000);
        let dest_w: Vec<f64> = w.p.destinations.iter().map(|d| d.1).collect();
        for _ in 0..n_cons {
            let country = w.p.destinations[r.weighted(&dest_w)].0.clone();
            let hub = t.country(&country).is_some_and(|c| c.hub);
            let forwarder = r.p(if hub { 0.22 } else { 0.08 });
            w.add_consignee(r, &country, forwarder, None);
        }
        // Honest exporters.
        let n_exp = (cfg.rows / 70).clamp(60, 60_000);
        for _ in 0..n_exp {
            let x = r.f();
            let kind = if x < 0.06 {
                Kind::GpuDistributor
            } else if x < 0.24 {
                Kind::SmallReseller
            } else {
                Kind::Manufacturer
            };
            let e = w.new_exporter(r, kind);
            w.exporters.push(e);
        }
        let mut acc = 0.0;
        w.cum_activity = w
            .exporters
            .iter()
            .map(|e| {
                acc += e.activity;
                acc
            })
            .collect();
        Ok(w)
    }

    /// A random existing consignee of a country, forwarder or not.
    fn pick_consignee(&self, r: &mut Rand, country: &str, forwarder: bool) -> Option<usize> {
        let pool = self.by_country.get(&(country.to_string(), forwarder))?;
        (!pool.is_empty()).then(|| *r.pick(pool))
    }

    fn company_form(&self, country: &str) -> String {
        self.p
            .company_forms
            .iter()
            .find(|f| f[0] == country)
            .map(|f| f[1].clone())
            .unwrap_or_else(|| "Ltd".into())
    }

    fn add_consignee(
        &mut self,
        r: &mut Rand,
        country: &str,
        forwarder: bool,
        ctype: Option<&'static str>,
    ) -> usize {
        let a = r.pick(&self.p.consignee_words).clone();
        let b = r.pick(&self.p.consignee_words).clone();
        let trade = if forwarder {
            r.pick(&self.p.forwarder_trades).clone()
        } else {
            r.pick(&self.p.consignee_trades).clone()
        };
        let name = format!("{a} {b} {trade} {}", self.company_form(country));
        let name = self.distinctive(&name, &format!("{country}{}", self.consignees.len()));
        let ctype = ctype.unwrap_or_else(|| {
            if forwarder {
                *r.pick(&["O", "R", "O"])
            } else {
                *r.pick(&["D", "D", "D", "R", "R", "G", "O"])
            }
        });
        self.consignees.push(Consignee {
            name,
            country: country.to_string(),
            ctype,
            forwarder,
        });
        let i = self.consignees.len() - 1;
        self.by_country
            .entry((country.to_string(), forwarder))
            .or_default()
            .push(i);
        i
    }

    /// A made-up brand name from syllables, upper-case or capitalised.
    fn made_up_brand(&self, r: &mut Rand) -> String {
        let n = r.int(2, 3);
        let s: String = (0..n).map(|_| r.pick(&self.p.brand_syllables).as_str()).collect();
        if r.p(0.5) {
            s.to_uppercase()
        } else {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }

    fn company_name(&self, r: &mut Rand) -> String {
        format!(
            "{} {} {}",
            r.pick(&self.p.name_first),
            r.pick(&self.p.name_second),
            r.pick(&self.p.name_suffix)
        )
    }

    /// A company name made distinctive by a coined word for most
    /// companies (3 in 10 keep the common words alone). Drawn from a hash of
    /// the name and ID, not from the world's random stream, so that naming
    /// changes no other draw of the world.
    fn distinctive(&self, name: &str, id: &str) -> String {
        let syllables = &self.p.name_syllables;
        let mut fnv = sentinel_manifest::hash::Fnv64::new();
        fnv.bytes(name.as_bytes());
        fnv.byte(0);
        fnv.bytes(id.as_bytes());
        let mut own = Xoshiro256PlusPlus::seed_from_u64(fnv.0);
        let mut next = |n: usize| own.gen_range(0..n.max(1));
        let pattern = next(10);
        if pattern < 3 || syllables.is_empty() {
            return name.to_string();
        }
        let coined: String = (0..2 + next(2))
            .map(|_| syllables[next(syllables.len())].as_str())
            .collect();
        let mut coined_chars = coined.chars();
        let coined: String = coined_chars
            .next()
            .map(|f| f.to_uppercase().chain(coined_chars).collect())
            .unwrap_or_default();
        let mut words: Vec<&str> = name.split_whitespace().collect();
        if words.is_empty() {
            return coined;
        }
        if pattern < 7 {
            // "Corvelin Systems Inc": the coined word in place of the first.
            words[0] = &coined;
        } else {
            // "Pioneer Corvelin Systems Inc".
            words.insert(1, &coined);
        }
        words.join(" ")
    }

    fn address(&self, r: &mut Rand, kind: Kind) -> (String, String) {
        let city = r.pick(&self.p.cities).clone();
        let (warehouse, residential) = match kind {
            Kind::Manufacturer => (0.22, 0.03),
            Kind::GpuDistributor => (0.3, 0.02),
            Kind::SmallReseller => (0.35, 0.3),
            Kind::Front => (0.45, 0.4),
        };
        let x = r.f();
        if x < warehouse {
            let wh = r.pick(&self.p.warehouses).clone();
            let state = wh.rsplit(' ').next().unwrap_or("NJ").to_string();
            // Warehouse addresses are written in several ways.
            let wh = match r.int(0, 3) {
                0 => wh.replace("Pkwy", "Parkway"),
                1 => format!("{wh}, Suite {}", r.int(1, 40)),
                2 => wh.to_uppercase(),
                _ => wh,
            };
            (wh, state)
        } else if x < warehouse + residential {
            (
                format!(
                    "{} {}, {} {}",
                    r.int(2, 9999),
                    r.pick(&self.p.residential_streets),
                    city[0],
                    city[1]
                ),
                city[1].clone(),
            )
        } else {
            (
                format!(
                    "{} {}, {} {}",
                    r.int(10, 20000),
                    r.pick(&self.p.commercial_streets),
                    city[0],
                    city[1]
                ),
                city[1].clone(),
            )
        }
    }

    fn new_exporter(&mut self, r: &mut Rand, kind: Kind) -> Exporter {
        let (address, state) = self.address(r, kind);
        let ports: Vec<&[String; 2]> = self.p.ports.iter().filter(|p| p[1] == state).collect();
        let port = if ports.is_empty() || r.p(0.15) {
            r.pick(&self.p.ports)[0].clone()
        } else {
            r.pick(&ports)[0].clone()
        };
        // A quarter of honest companies start during the period.
        let start = if kind == Kind::Front || r.p(0.25) {
            self.start + r.int(0, (self.days - 20).max(1) as usize) as i32
        } else {
            self.start - r.int(30, 3000) as i32
        };
        let n_items = self.t.catalogue.len();
        let cat_items = |cats: &[&str], w: &World| -> Vec<usize> {
            cats.iter()
                .flat_map(|c| w.items_by_cat.get(*c).cloned().unwrap_or_default())
                .collect()
        };
        let items: Vec<(usize, f64)> = match kind {
            Kind::GpuDistributor => {
                let mut v = cat_items(&["datacenter_gpu", "gpu_server"], self);
                v.extend(
                    cat_items(&["networking", "storage", "computer_parts"], self)
                        .into_iter()
                        .filter(|_| r.p(0.35)),
                );
                v.into_iter()
                    .map(|i| (i, self.t.catalogue[i].share * r.range(0.3, 1.5)))
                    .collect()
            }
            Kind::SmallReseller => {
                let mut v = cat_items(
                    &[
                        "consumer_gpu",
                        "computer_parts",
                        "storage",
                        "networking",
                        "power_electronics",
                        "other_electronics",
                    ],
                    self,
                );
                v.shuffle(&mut r.0);
                v.truncate(r.int(2, 6));
                if r.p(0.12) {
                    v.extend(cat_items(&["datacenter_gpu"], self).into_iter().take(1));
                }
                v.into_iter().map(|i| (i, r.range(0.2, 1.0))).collect()
            }
            _ => {
                let first = r.weighted(&self.t.catalogue.iter().map(|c| c.share).collect::<Vec<_>>());
                let cat = self.t.catalogue[first].category.clone();
                let mut v: Vec<(usize, f64)> = self.items_by_cat[&cat]
                    .iter()
                    .map(|i| (*i, self.t.catalogue[*i].share * r.range(0.2, 1.0)))
                    .collect();
                if r.p(0.35) {
                    let other = r.int(0, n_items - 1);
                    v.push((other, r.range(0.1, 0.6)));
                }
                v
            }
        };
        // Regular customers: resellers lean on forwarders in hubs.
        let dest_w: Vec<f64> = self.p.destinations.iter().map(|d| d.1).collect();
        let n_cons = r.int(2, 14);
        let mut consignees = Vec::with_capacity(n_cons);
        for _ in 0..n_cons {
            let country = if kind == Kind::SmallReseller && r.p(0.5) {
                r.pick(&["SG", "MY", "HK", "AE", "TH"]).to_string()
            } else {
                let mut c = self.p.destinations[r.weighted(&dest_w)].0.clone();
                // Licensed GPU distributors ship to restricted places rarely.
                if kind == Kind::GpuDistributor
                    && self.t.country(&c).is_some_and(|x| x.restricted)
                    && r.p(0.8)
                {
                    c = r
                        .pick(&[
                            "GB", "DE", "JP", "KR", "CA", "NL", "IL", "AU", "IN", "SG", "TW", "AE",
                        ])
                        .to_string();
                }
                c
            };
            let want_fwd = kind == Kind::SmallReseller && r.p(0.45);
            let existing = self.pick_consignee(r, &country, want_fwd);
            let ci = match existing {
                Some(i) if !r.p(0.2) => i,
                _ => self.add_consignee(r, &country, want_fwd, None),
            };
            consignees.push(ci);
        }
        let name = self.company_name(r);
        let id = format!("{:02}-{:07}", r.int(10, 99), r.int(0, 9_999_999));
        Exporter {
            name: self.distinctive(&name, &id),
            id,
            address,
            port,
            kind,
            start,
            items,
            consignees,
            activity: r.lognormal(1.0, 1.1),
            forwarder: r.pick(&self.p.forwarders).clone(),
            dotted_hs: r.p(0.3),
            unit_style: r.f(),
            own_brand: if kind != Kind::GpuDistributor && r.p(0.3) {
                Some(self.made_up_brand(r))
            } else {
                None
            },
            payer_abroad: match kind {
                Kind::SmallReseller => 0.15,
                Kind::GpuDistributor => 0.05,
                _ => 0.04,
            },
        }
    }

    fn pick_exporter(&self, r: &mut Rand, day: i32) -> usize {
        let total = *self.cum_activity.last().unwrap_or(&1.0);
        for _ in 0..30 {
            let x = r.f() * total;
            let i = self
                .cum_activity
                .partition_point(|c| *c <= x)
                .min(self.exporters.len() - 1);
            if self.exporters[i].start <= day {
                return i;
            }
        }
        self.exporters.iter().position(|e| e.start <= day).unwrap_or(0)
    }

    fn carrier(&self, r: &mut Rand, mode: &str) -> String {
        let c: Vec<&[String; 2]> = self.p.carriers.iter().filter(|c| c[0] == mode).collect();
        if c.is_empty() {
            String::new()
        } else {
            r.pick(&c)[1].clone()
        }
    }

    fn mode_for(&self, r: &mut Rand, item: &CatalogueItem, country: &str) -> &'static str {
        if matches!(country, "CA" | "MX") && r.p(0.7) {
            return if r.p(0.85) { "truck" } else { "rail" };
        }
        let heavy = item.weight_median * item.qty_median > 300.0;
        if r.p(0.01) {
            return "mail";
        }
        if heavy && r.p(0.7) || r.p(0.1) {
            "vessel"
        } else {
            "air"
        }
    }
}

/// Physical truth of a line before it is declared.
struct Goods {
    count: f64,
    unit_weight: f64,
    unit_price: f64,
    gross: f64,
    packages: usize,
}

fn goods(r: &mut Rand, item: &CatalogueItem, qty_scale: f64) -> Goods {
    let count = (r.lognormal(item.qty_median * qty_scale, item.qty_sigma))
        .round()
        .max(1.0);
    let unit_weight = r.lognormal(item.weight_median, item.weight_sigma.max(0.02));
    let unit_price = r.lognormal(item.price_median, item.price_sigma);
    let net = count * unit_weight;
    let gross = net * r.range(1.08, 1.45) + r.range(0.2, 3.0);
    let per_pkg = (r.lognormal(12.0, 0.9) / unit_weight.max(0.01)).clamp(1.0, 5000.0);
    let packages = ((count / per_pkg).ceil() as usize).max(1);
    Goods {
        count,
        unit_weight,
        unit_price,
        gross,
        packages,
    }
}

/// Cells of one line, filled step by step.
struct LineBuilder {
    cells: Line,
}

impl LineBuilder {
    fn new() -> LineBuilder {
        LineBuilder {
            cells: vec![String::new(); Col::ALL.len() + GROUND_TRUTH_EXTRA.len()],
        }
    }
    fn set(&mut self, c: Col, v: impl Into<String>) {
        self.cells[c as usize] = v.into();
    }
    /// The exporter's identity (ground truth: which names are one company).
    fn set_entity(&mut self, e: &Exporter) {
        self.cells[Col::ALL.len()] = format!("E{}", e.id);
    }
}

/// Ground-truth columns written after the spec's columns: the exporter's
/// identity, the same for every spelling of its name.
pub const GROUND_TRUTH_EXTRA: [&str; 1] = ["usppi_entity"];

/// Share of lines whose exporter name is written another way: honest
/// lines, the schemes' lines, the New Jersey ring's.
const SPELLING_HONEST: f64 = 0.02;
const SPELLING_SCHEME: f64 = 0.15;
const SPELLING_RING: f64 = 0.5;

/// Another way of writing a company name, as filings do: upper case, the
/// legal form dropped or spelt out, a long word cut short, two letters of
/// a word swapped, a comma before the legal form.
fn spelling(name: &str, r: &mut Rand) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.is_empty() {
        return name.to_string();
    }
    let join = |w: &[String]| w.join(" ");
    let mut w: Vec<String> = words.iter().map(|x| x.to_string()).collect();
    let last = w.len() - 1;
    match r.int(0, 4) {
        0 => name.to_uppercase(),
        1 if w.len() >= 3 => {
            match w[last].trim_end_matches('.') {
                "Inc" => w[last] = "Incorporated".into(),
                "Corp" => w[last] = "Corporation".into(),
                "Ltd" => w[last] = "Limited".into(),
                "LLC" => w[last] = "L.L.C.".into(),
                _ => {
                    w.pop();
                }
            }
            join(&w)
        }
        2 => {
            // The longest word of 7 letters or more after the first, cut to 4.
            let k = (1..w.len())
                .filter(|&k| w[k].chars().count() >= 7)
                .max_by_key(|&k| w[k].len());
            if let Some(k) = k {
                w[k] = w[k].chars().take(4).collect();
            }
            join(&w)
        }
        3 => {
            // Two letters swapped in the longest word of 5 letters or more.
            let k = (0..w.len())
                .filter(|&k| w[k].chars().count() >= 5)
                .max_by_key(|&k| w[k].len());
            match k {
                Some(k) => {
                    let mut c: Vec<char> = w[k].chars().collect();
                    let i = r.int(1, c.len() - 3);
                    c.swap(i, i + 1);
                    w[k] = c.into_iter().collect();
                    join(&w)
                }
                None => name.to_uppercase(),
            }
        }
        _ if w.len() >= 2 => {
            w[last - 1].push(',');
            join(&w)
        }
        _ => name.to_uppercase(),
    }
}

/// Quantity as declared: a count, or sometimes in KG or SET.
fn declare_quantity(
    r: &mut Rand,
    b: &mut LineBuilder,
    g: &Goods,
    unit: &str,
    style: f64,
    p_kg: f64,
    p_set: f64,
) {
    if unit == "KG" {
        b.set(Col::Quantity, kg(g.count * g.unit_weight));
        b.set(Col::QuantityUnit, "KG");
        return;
    }
    let x = r.f() * 0.5 + style * 0.5;
    if x < p_kg {
        b.set(Col::Quantity, kg(g.count * g.unit_weight));
        b.set(Col::QuantityUnit, "KG");
    } else if x < p_kg + p_set {
        let per = r.int(2, 8) as f64;
        b.set(Col::Quantity, format!("{}", (g.count / per).ceil().max(1.0)));
        b.set(Col::QuantityUnit, "SET");
    } else {
        b.set(Col::Quantity, format!("{}", g.count));
        b.set(Col::QuantityUnit, if unit == "SET" { "SET" } else { unit });
    }
}

fn amendments(r: &mut Rand, p1: f64, p2: f64) -> String {
    let x = r.f();
    if x < p2 {
        format!("{}", r.int(2, 4))
    } else if x < p1 + p2 {
        "1".into()
    } else {
        "0".into()
    }
}

/// The traits of an irregular honest filing: two to five at once.
#[derive(Debug, Clone, Copy)]
struct Irregular {
    /// Quantity scale of the lines (bulk orders: 20-400x the usual lot).
    lot: f64,
    payer_abroad: bool,
    intermediate: bool,
    amended: bool,
    no_classification: bool,
    odd_unit: bool,
    messy_packages: bool,
    invoice_differs: bool,
}

impl Default for Irregular {
    fn default() -> Self {
        Irregular {
            lot: 1.0,
            payer_abroad: false,
            intermediate: false,
            amended: false,
            no_classification: false,
            odd_unit: false,
            messy_packages: false,
            invoice_differs: false,
        }
    }
}

impl Irregular {
    fn draw(r: &mut Rand) -> Irregular {
        let mut x = Irregular::default();
        let k = r.int(2, 5);
        for _ in 0..k {
            match r.int(0, 7) {
                0 => x.lot = r.lognormal(60.0, 0.9).clamp(20.0, 400.0),
                1 => x.payer_abroad = true,
                2 => x.intermediate = true,
                3 => x.amended = true,
                4 => x.no_classification = true,
                5 => x.odd_unit = true,
                6 => x.messy_packages = true,
                _ => x.invoice_differs = true,
            }
        }
        x
    }
}

/// The traits of an honest filing that is unusual in harmless directions:
/// far from the typical figures, but never the way a relabelled GPU is
/// (heavier and dearer than declared), so generic outlier detection finds
/// it and the red flags do not.
#[derive(Debug, Clone, Copy)]
struct Unusual {
    /// Quantity scale (bulk orders from a regular customer).
    lot: f64,
    /// Price scale of used, surplus or scrap goods.
    price: f64,
    /// A nominal total value (returns, free replacements, samples).
    nominal: bool,
    /// Declared units per real unit (counted in small pieces or packs).
    pieces: f64,
    no_brand: bool,
    surface: bool,
    /// Quantity declared by weight.
    by_weight: bool,
}

impl Default for Unusual {
    fn default() -> Self {
        Unusual {
            lot: 1.0,
            price: 1.0,
            nominal: false,
            pieces: 1.0,
            no_brand: false,
            surface: false,
            by_weight: false,
        }
    }
}

impl Unusual {
    fn draw(r: &mut Rand) -> Unusual {
        let mut x = Unusual::default();
        let k = r.int(2, 5);
        for _ in 0..k {
            match r.int(0, 6) {
                0 => x.lot = r.lognormal(40.0, 0.9).clamp(10.0, 400.0),
                1 => x.price = r.range(0.02, 0.3),
                2 => x.nominal = true,
                3 => x.pieces = r.range(10.0, 200.0).round(),
                4 => x.no_brand = true,
                5 => x.surface = true,
                _ => x.by_weight = true,
            }
        }
        x
    }
}

/// The parts of an honest filing shared by its lines: the intermediate
/// consignee, the payer and the amendments.
struct HonestRoute {
    inter_country: String,
    inter_name: String,
    payer: String,
    amend: String,
}

impl HonestRoute {
    fn draw(w: &World, r: &mut Rand, e: &Exporter, cons: &Consignee, irregular: &Irregular) -> HonestRoute {
        let intermediate = irregular.intermediate || r.p(if cons.forwarder { 0.05 } else { 0.08 });
        let inter_country = if intermediate {
            r.pick(&["SG", "NL", "HK", "AE", "DE", "MY"]).to_string()
        } else {
            String::new()
        };
        let inter_name = if intermediate {
            format!(
                "{} {} {}",
                r.pick(&w.p.consignee_words),
                r.pick(&w.p.forwarder_trades),
                w.company_form(&inter_country)
            )
        } else {
            String::new()
        };
        let payer = if irregular.payer_abroad || r.p(e.payer_abroad) {
            r.pick(&["CN", "HK", "SG", "AE", "US", "GB", "CH", "TW"])
                .to_string()
        } else {
            cons.country.clone()
        };
        let amend = if irregular.amended {
            format!("{}", r.int(1, 5))
        } else {
            amendments(r, 0.08, 0.02)
        };
        HonestRoute {
            inter_country,
            inter_name,
            payer,
            amend,
        }
    }
}

/// An honest filing being written line by line.
struct HonestFiling<'f> {
    e: &'f Exporter,
    cons: &'f Consignee,
    day: i32,
    filing: &'f str,
    route: &'f HonestRoute,
    irregular: &'f Irregular,
    unusual: &'f Unusual,
}

impl HonestFiling<'_> {
    /// Line `line` of the filing: one of the exporter's items, declared as
    /// it is, with the honest oddities of real paperwork.
    fn line(&self, w: &World, r: &mut Rand, line: usize) -> Line {
        let (e, cons, irregular, unusual) = (self.e, self.cons, self.irregular, self.unusual);
        let wts: Vec<f64> = e.items.iter().map(|x| x.1).collect();
        let item_idx = e.items[r.weighted(&wts)].0;
        let item = &w.t.catalogue[item_idx];
        let scale = if e.kind == Kind::SmallReseller { 0.4 } else { 1.0 } * irregular.lot * unusual.lot;
        let mut g = goods(r, item, scale);
        g.unit_price *= unusual.price;
        let mut b = LineBuilder::new();
        let mode = if unusual.surface {
            *r.pick(&["vessel", "truck", "rail", "mail"])
        } else {
            w.mode_for(r, item, &cons.country)
        };
        common(w, r, &mut b, e, cons, self.day, self.filing, line, mode);
        b.set(Col::PayerCountry, self.route.payer.clone());
        b.set(Col::IntermediateName, self.route.inter_name.clone());
        b.set(Col::IntermediateCountry, self.route.inter_country.clone());
        b.set(
            Col::HsCode,
            if e.dotted_hs {
                dotted(&item.hs_code)
            } else {
                item.hs_code.clone()
            },
        );
        let desc = r
            .pick(&item.descriptions.split('|').collect::<Vec<_>>())
            .to_string();
        b.set(Col::Description, desc.clone());
        let brand = honest_brand(w, r, e, item);
        b.set(Col::Brand, if unusual.no_brand { String::new() } else { brand });
        let (eccn, lic) = honest_classification(w, r, item, &cons.country);
        let (eccn, lic) = if irregular.no_classification {
            (String::new(), String::new())
        } else {
            (eccn, lic)
        };
        b.set(Col::Eccn, eccn);
        b.set(Col::LicenseCode, lic);
        let (p_kg, p_set) = if unusual.by_weight {
            (1.0, 0.0)
        } else if irregular.odd_unit {
            (0.5, 0.5)
        } else {
            (0.06, 0.05)
        };
        let declared = Goods {
            count: g.count * unusual.pieces,
            unit_weight: g.unit_weight / unusual.pieces,
            ..g
        };
        declare_quantity(r, &mut b, &declared, &item.unit, e.unit_style, p_kg, p_set);
        let value = honest_value_and_weight(r, &mut b, &g, unusual);
        self.documents(r, &mut b, &g, item, desc, value);
        b.set(Col::AmendmentCount, self.route.amend.clone());
        b.set(Col::Label, "0");
        b.set(Col::TrueCategory, item.category.clone());
        b.cells
    }

    /// The package count and the invoice, which mostly agree with the
    /// filing.
    fn documents(
        &self,
        r: &mut Rand,
        b: &mut LineBuilder,
        g: &Goods,
        item: &CatalogueItem,
        desc: String,
        value: f64,
    ) {
        if self.irregular.messy_packages {
            b.set(
                Col::PackageCount,
                r.pick(&["N/A", "1 PLT", "approx. 12", "TBD", "-1"]).to_string(),
            );
        } else if r.p(0.9) {
            b.set(Col::PackageCount, g.packages.to_string());
        }
        if self.irregular.invoice_differs {
            b.set(
                Col::InvoiceDescription,
                r.pick(&[
                    "goods as per PO",
                    "spare parts",
                    "merchandise",
                    "see attached list",
                ])
                .to_string(),
            );
            b.set(Col::InvoiceValueUsd, money(value * r.range(0.5, 1.6)));
        } else if r.p(0.8) {
            b.set(
                Col::InvoiceDescription,
                if r.p(0.04) {
                    item.category.replace('_', " ")
                } else {
                    desc
                },
            );
            b.set(
                Col::InvoiceValueUsd,
                money(if r.p(0.04) {
                    value * r.range(0.7, 1.3)
                } else {
                    value
                }),
            );
        }
    }
}

/// An honest line's brand: the item's, or for cheap goods often the
/// exporter's own or an OEM's.
fn honest_brand(w: &World, r: &mut Rand, e: &Exporter, item: &CatalogueItem) -> String {
    let brands: Vec<&str> = item.brands.split('|').collect();
    let mut brand = r.pick(&brands).to_string();
    if item.price_median < 800.0 {
        if let (Some(own), true) = (&e.own_brand, r.p(0.6)) {
            brand = own.clone();
        } else if r.p(0.15) {
            brand = r.pick(&w.p.oem_brands).clone();
        }
    }
    brand
}

/// An honest line's ECCN and licence code.
fn honest_classification(w: &World, r: &mut Rand, item: &CatalogueItem, country: &str) -> (String, String) {
    let restricted = w.t.country(country).is_some_and(|c| c.restricted);
    if item.eccn == "EAR99" {
        (
            if r.p(0.7) {
                "EAR99".to_string()
            } else {
                String::new()
            },
            if r.p(0.85) { "C33" } else { "" }.to_string(),
        )
    } else if item.eccn.starts_with("3A090") || item.eccn.starts_with("4A090") {
        // Honest controlled exports: licensed, or NLR to countries that allow it.
        let lic = if restricted || r.p(0.55) {
            "C30"
        } else if r.p(0.5) {
            "C33"
        } else {
            "C40"
        };
        (item.eccn.clone(), lic.to_string())
    } else {
        (
            item.eccn.clone(),
            if r.p(0.9) { "C33" } else { "C40" }.to_string(),
        )
    }
}

/// An honest line's value and weight, with the oddities of real filings
/// (keying errors, samples, consolidated lines); returns the value.
fn honest_value_and_weight(r: &mut Rand, b: &mut LineBuilder, g: &Goods, unusual: &Unusual) -> f64 {
    let mut value = if unusual.nominal {
        r.range(1.0, 50.0)
    } else {
        g.count * g.unit_price * r.range(0.97, 1.03)
    };
    let mut gross = g.gross;
    if r.p(0.07) {
        let x = r.f();
        if x < 0.2 {
            value *= 100.0;
        } else if x < 0.35 {
            value /= 1000.0;
        } else if x < 0.5 {
            gross *= 2.2046;
        } else if x < 0.6 {
            gross = (gross / 10.0).max(0.1);
        } else if x < 0.8 {
            b.set(Col::Quantity, format!("{}", r.int(1, 3)));
            value = r.range(5.0, 60.0);
            gross = r.range(0.3, 4.0);
        } else {
            gross *= r.range(4.0, 15.0);
        }
    }
    b.set(Col::ValueUsd, money(value));
    b.set(Col::ShippingWeightKg, kg(gross));
    value
}

struct Gen<'a> {
    w: World<'a>,
    r: Rand,
    /// Fronts and distributors used by schemes, by scheme.
    networks: Vec<(Scheme, Vec<usize>)>,
}

impl<'a> Gen<'a> {
    fn filing_id(&mut self) -> String {
        format!("X{}", self.r.token(11))
    }

    fn honest_filing(&mut self, day: i32, out: &mut Vec<Line>, max_lines: usize) {
        let ei = self.w.pick_exporter(&mut self.r, day);
        let e = self.w.exporters[ei].clone();
        let Gen { w, r, .. } = self;
        let ci = if r.p(0.88) {
            *r.pick(&e.consignees)
        } else {
            r.int(0, w.consignees.len() - 1)
        };
        let cons = w.consignees[ci].clone();
        let nlines = (if r.p(0.7) {
            1
        } else if r.p(0.6) {
            2
        } else {
            3
        })
        .min(max_lines);
        let filing = format!("X{}", r.token(11));
        // Irregular but honest filings: real trade is full of them (bulk
        // orders, third-party payment, re-routed consignments, amended and
        // messy paperwork), several traits at once, which is why generic
        // outlier detection does poorly on real declarations (DOMAIN.md).
        // Drawn only when asked for, so worlds without them keep their bytes.
        let irregular = if w.irregular > 0.0 && r.p(w.irregular) {
            Irregular::draw(r)
        } else {
            Irregular::default()
        };
        let unusual = if w.unusual > 0.0 && r.p(w.unusual) {
            Unusual::draw(r)
        } else {
            Unusual::default()
        };
        let route = HonestRoute::draw(w, r, &e, &cons, &irregular);
        let filing = HonestFiling {
            e: &e,
            cons: &cons,
            day,
            filing: &filing,
            route: &route,
            irregular: &irregular,
            unusual: &unusual,
        };
        for line in 0..nlines {
            out.push(filing.line(w, r, line));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn common(
        &mut self,
        b: &mut LineBuilder,
        e: &Exporter,
        cons: &Consignee,
        day: i32,
        filing: &str,
        line: usize,
        mode: &str,
    ) {
        common(&self.w, &mut self.r, b, e, cons, day, filing, line, mode)
    }
}

/// Party, date and routing cells shared by every kind of line.
#[allow(clippy::too_many_arguments)]
fn common(
    w: &World,
    r: &mut Rand,
    b: &mut LineBuilder,
    e: &Exporter,
    cons: &Consignee,
    day: i32,
    filing: &str,
    line: usize,
    mode: &str,
) {
    {
        b.set(Col::ShipmentId, format!("{filing}-{}", line + 1));
        b.set(Col::FilingId, filing);
        b.set(Col::ExportDate, Date(day).to_string());
        b.set(Col::UsppiName, e.name.clone());
        b.set_entity(e);
        if r.p(0.9) {
            b.set(Col::UsppiId, e.id.clone());
        }
        b.set(Col::UsppiAddress, e.address.clone());
        b.set(Col::ConsigneeName, cons.name.clone());
        if r.p(0.85) {
            b.set(Col::ConsigneeType, cons.ctype);
        }
        b.set(Col::ConsigneeCountry, cons.country.clone());
        if r.p(0.8) {
            b.set(Col::ForwarderName, e.forwarder.clone());
        }
        b.set(
            Col::PortOfExport,
            if mode == "truck" || mode == "rail" {
                r_border(r)
            } else {
                e.port.clone()
            },
        );
        b.set(Col::TransportMode, mode);
        let carrier = w.carrier(r, mode);
        b.set(Col::Carrier, carrier);
    }
}

impl<'a> Gen<'a> {
    /// A scheme's network: a front (new company) or a diverting distributor.
    fn network_exporter(&mut self, scheme: Scheme, day: i32) -> usize {
        let existing: Vec<usize> = self
            .networks
            .iter()
            .filter(|n| n.0 == scheme)
            .flat_map(|n| n.1.clone())
            .collect();
        if !existing.is_empty() && self.r.p(0.8) {
            return *self.r.pick(&existing);
        }
        let front = self.r.p(0.6);
        let e = if front {
            // A front is set up shortly before its first shipment.
            let mut e = self.w.new_exporter(&mut self.r, Kind::Front);
            e.start = day - self.r.int(0, 45) as i32;
            e
        } else {
            // An established-looking distributor that diverts.
            let kind = if self.r.p(0.5) {
                Kind::GpuDistributor
            } else {
                Kind::SmallReseller
            };
            let mut e = self.w.new_exporter(&mut self.r, kind);
            e.start = self.w.start - self.r.int(60, 1500) as i32;
            e
        };
        self.w.exporters.push(e);
        let idx = self.w.exporters.len() - 1;
        self.networks.push((scheme, vec![idx]));
        idx
    }

    fn fraud_line(&mut self, scheme: Scheme, day: i32, out: &mut Vec<Line>) {
        let name = scheme.as_str();
        let false_end_user = scheme == Scheme::FalseEndUser;
        let ei = self.network_exporter(scheme, day);
        let e = self.w.exporters[ei].clone();
        let r = &mut self.r;
        let true_cat = if scheme == Scheme::ServerAsGeneric || (false_end_user && r.p(0.35)) {
            "gpu_server"
        } else {
            "datacenter_gpu"
        };
        let items = self.w.items_by_cat[true_cat].clone();
        let item_idx = *r.pick(&items);
        let item = self.w.t.catalogue[item_idx].clone();
        // First-time buyers with large orders: paper end users buy big.
        let scale = if false_end_user {
            r.range(1.0, 3.0)
        } else {
            r.range(0.5, 1.5)
        };
        let g = goods(r, &item, scale);
        let ci = self.fraud_consignee(false_end_user);
        let cons = self.w.consignees[ci].clone();
        let filing = self.filing_id();
        let mode = if self.r.p(0.85) { "air" } else { "vessel" };
        let mut b = LineBuilder::new();
        self.common(&mut b, &e, &cons, day, &filing, 0, mode);
        let (w, r) = (&self.w, &mut self.r);
        fraud_route(w, r, &mut b, &cons, false_end_user);
        let true_value = g.count * g.unit_price;
        let d = if false_end_user {
            paper_end_user_declaration(r, &item, true_value)
        } else {
            decoy_declaration(w, r, scheme, &e, &g, true_value)
        };
        b.set(Col::HsCode, if e.dotted_hs { dotted(&d.hs) } else { d.hs });
        b.set(Col::Description, d.desc.clone());
        b.set(Col::Brand, d.brand);
        b.set(Col::Eccn, d.eccn);
        b.set(Col::LicenseCode, d.lic);
        let unit = if false_end_user {
            item.unit.clone()
        } else {
            "PCS".to_string()
        };
        declare_quantity(r, &mut b, &g, &unit, e.unit_style, 0.12, 0.1);
        b.set(Col::ValueUsd, money(d.value));
        b.set(Col::ShippingWeightKg, kg(g.gross));
        fraud_documents(r, &mut b, &g, d.desc, d.value, true_value);
        b.set(Col::AmendmentCount, amendments(r, 0.22, 0.12));
        b.set(Col::Label, "1");
        b.set(Col::TrueCategory, true_cat);
        b.set(Col::Typology, name);
        out.push(b.cells);
    }

    /// A scheme's consignee: in a hub or a nearby market, an existing one
    /// or one made for it (a paper end user rarely reused).
    fn fraud_consignee(&mut self, false_end_user: bool) -> usize {
        let r = &mut self.r;
        let x = r.f();
        let country = if x < 0.8 {
            r.pick(&["SG", "MY", "HK", "TH", "TW", "AE"]).to_string()
        } else {
            r.pick(&["VN", "IN", "ID", "PH", "CN", "KR", "JP"]).to_string()
        };
        let forwarder = !false_end_user && r.p(0.45);
        let existing = self.w.pick_consignee(&mut self.r, &country, forwarder);
        let reuse = if false_end_user { 0.1 } else { 0.5 };
        match existing {
            Some(i) if self.r.p(reuse) => i,
            _ => {
                let ctype = if false_end_user { Some("D") } else { None };
                self.w.add_consignee(&mut self.r, &country, forwarder, ctype)
            }
        }
    }

    fn nj_line(&mut self, day: i32, exporter: usize, out: &mut Vec<Line>) {
        let nj = &self.w.p.nj_warehouse;
        let e = self.w.exporters[exporter].clone();
        let r = &mut self.r;
        let items: Vec<usize> = self.w.items_by_cat["datacenter_gpu"]
            .iter()
            .copied()
            .filter(|i| {
                let d = &self.w.t.catalogue[*i].descriptions;
                d.contains("H100") || d.contains("H200")
            })
            .collect();
        let item_idx = *r.pick(&items);
        let item = &self.w.t.catalogue[item_idx];
        let scale = r.range(1.0, 3.0);
        let g = goods(r, item, scale);
        let cons = r.pick(&nj.consignees).clone();
        let filing = format!("X{}", r.token(11));
        let mut b = LineBuilder::new();
        b.set(Col::ShipmentId, format!("{filing}-1"));
        b.set(Col::FilingId, filing);
        b.set(Col::ExportDate, Date(day).to_string());
        b.set(Col::UsppiName, e.name.clone());
        b.set_entity(&e);
        b.set(Col::UsppiId, e.id.clone());
        b.set(
            Col::UsppiAddress,
            if r.p(0.8) {
                nj.facility.clone()
            } else {
                nj.exporter_address.clone()
            },
        );
        b.set(Col::ConsigneeName, cons[0].clone());
        b.set(Col::ConsigneeType, if r.p(0.5) { "R" } else { "O" });
        b.set(Col::ConsigneeCountry, cons[1].clone());
        b.set(Col::IntermediateName, nj.intermediate[0].clone());
        b.set(Col::IntermediateCountry, nj.intermediate[1].clone());
        b.set(Col::ForwarderName, e.forwarder.clone());
        b.set(Col::PortOfExport, r.pick(&nj.ports).clone());
        b.set(Col::TransportMode, "air");
        b.set(
            Col::Carrier,
            r.pick(&["Cathay Pacific Cargo", "Singapore Airlines Cargo", "FedEx"])
                .to_string(),
        );
        let hs = r.pick(&nj.hs_codes).clone();
        let desc = if hs.starts_with("8537") {
            "contactor controllers".to_string()
        } else {
            r.pick(&nj.descriptions).clone()
        };
        b.set(Col::HsCode, hs);
        b.set(Col::Description, desc.clone());
        b.set(Col::Brand, nj.brand.clone());
        b.set(Col::Eccn, if r.p(0.5) { "EAR99" } else { "" });
        b.set(Col::LicenseCode, "C33");
        b.set(Col::Quantity, format!("{}", g.count));
        b.set(Col::QuantityUnit, "PCS");
        let true_value = g.count * g.unit_price;
        let v = r.f();
        let value = if v < 0.5 {
            g.count * r.range(20.0, 120.0)
        } else if v < 0.85 {
            true_value * r.range(0.05, 0.3)
        } else {
            true_value * r.range(0.9, 1.0)
        };
        b.set(Col::ValueUsd, money(value));
        b.set(Col::ShippingWeightKg, kg(g.gross));
        b.set(Col::PackageCount, g.packages.to_string());
        b.set(Col::InvoiceDescription, desc);
        b.set(
            Col::InvoiceValueUsd,
            money(if r.p(0.2) { true_value } else { value }),
        );
        b.set(Col::AmendmentCount, amendments(r, 0.3, 0.1));
        b.set(Col::PayerCountry, "CN");
        b.set(Col::Label, "1");
        b.set(Col::TrueCategory, "datacenter_gpu");
        b.set(Col::Typology, "nj_warehouse");
        out.push(b.cells);
    }
}

/// A scheme's intermediate consignee (sometimes) and payer (often China or
/// Hong Kong).
fn fraud_route(w: &World, r: &mut Rand, b: &mut LineBuilder, cons: &Consignee, false_end_user: bool) {
    if r.p(0.35) {
        let ic = r.pick(&["SG", "MY", "HK", "AE"]).to_string();
        b.set(
            Col::IntermediateName,
            format!(
                "{} {} {}",
                r.pick(&w.p.consignee_words),
                r.pick(&w.p.forwarder_trades),
                w.company_form(&ic)
            ),
        );
        b.set(Col::IntermediateCountry, ic);
    }
    let payer = {
        let y = r.f() * if false_end_user { 0.7 } else { 1.0 };
        if y < 0.4 {
            "CN".to_string()
        } else if y < 0.55 {
            "HK".to_string()
        } else {
            cons.country.clone()
        }
    };
    b.set(Col::PayerCountry, payer);
}

/// What a scheme's line declares.
struct FraudDeclaration {
    hs: String,
    desc: String,
    brand: String,
    eccn: String,
    lic: String,
    value: f64,
}

/// A false end user declares the goods truly; the lie is the consignee.
fn paper_end_user_declaration(r: &mut Rand, item: &CatalogueItem, true_value: f64) -> FraudDeclaration {
    let brands: Vec<&str> = item.brands.split('|').collect();
    let lic = if r.p(0.4) {
        "C30"
    } else if r.p(0.6) {
        "C33"
    } else {
        "C40"
    };
    FraudDeclaration {
        hs: item.hs_code.clone(),
        desc: r
            .pick(&item.descriptions.split('|').collect::<Vec<_>>())
            .to_string(),
        brand: r.pick(&brands).to_string(),
        eccn: item.eccn.clone(),
        lic: lic.to_string(),
        value: true_value * r.range(0.9, 1.02),
    }
}

/// A relabelling scheme declares its decoy: another HS code and
/// description, a made-up or borrowed brand, an undervalue.
fn decoy_declaration(
    w: &World,
    r: &mut Rand,
    scheme: Scheme,
    e: &Exporter,
    g: &Goods,
    true_value: f64,
) -> FraudDeclaration {
    let d = &w.p.decoys[scheme.as_str()];
    let hs = match &d.alt_hs_code {
        Some(alt) if r.p(0.35) => alt.clone(),
        _ => d.hs_code.clone(),
    };
    let desc = r.pick(&d.descriptions).clone();
    let decl_cat = w.t.hs_category(&hs);
    let mut known: Vec<&String> =
        w.t.brands
            .iter()
            .filter(|(_, c)| **c == decl_cat)
            .map(|(b, _)| b)
            .collect();
    known.sort();
    let y = r.f();
    let brand = if y < 0.45 {
        e.own_brand.clone().unwrap_or_else(|| w.made_up_brand(r))
    } else if y < 0.7 || known.is_empty() {
        String::new()
    } else if y < 0.85 {
        r.pick(&w.p.oem_brands).clone()
    } else {
        let mut k = r.pick(&known).to_string();
        k = k
            .chars()
            .enumerate()
            .map(|(i, c)| if i == 0 { c } else { c.to_ascii_lowercase() })
            .collect();
        k
    };
    let v = r.f();
    let value = if v < 0.45 {
        g.count * r.range(d.unit_price[0], d.unit_price[1])
    } else if v < 0.75 {
        true_value * r.range(0.06, 0.4)
    } else {
        true_value * r.range(0.85, 1.02)
    };
    let eccn = if scheme == Scheme::ConsumerCover && r.p(0.4) {
        "3A090.a".to_string()
    } else if r.p(0.5) {
        "EAR99".to_string()
    } else {
        String::new()
    };
    let lic = if r.p(0.85) {
        "C33".to_string()
    } else {
        String::new()
    };
    FraudDeclaration {
        hs,
        desc,
        brand,
        eccn,
        lic,
        value,
    }
}

/// A scheme's package count and invoice, which sometimes tell the truth.
fn fraud_documents(r: &mut Rand, b: &mut LineBuilder, g: &Goods, desc: String, value: f64, true_value: f64) {
    if r.p(0.85) {
        b.set(Col::PackageCount, g.packages.to_string());
    }
    if r.p(0.8) {
        let inv_desc = if r.p(0.15) {
            r.pick(&[
                "GPU module",
                "computer parts",
                "graphics processors",
                "electronic components",
            ])
            .to_string()
        } else {
            desc
        };
        let inv_val = if r.p(0.15) {
            true_value * r.range(0.9, 1.0)
        } else {
            value
        };
        b.set(Col::InvoiceDescription, inv_desc);
        b.set(Col::InvoiceValueUsd, money(inv_val));
    }
}

fn r_border(r: &mut Rand) -> String {
    r.pick(&["Laredo TX", "Detroit MI", "Buffalo NY", "Blaine WA"])
        .to_string()
}

/// Where generated lines go.
pub trait LineSink {
    fn header(&mut self, names: &[&str]) -> Result<()>;
    fn line(&mut self, cells: &[String]) -> Result<()>;
}

/// Writes lines as CSV.
pub struct CsvSink<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(w: W) -> CsvSink<W> {
        CsvSink {
            w: csv::Writer::from_writer(w),
        }
    }
    pub fn finish(mut self) -> Result<()> {
        self.w.flush()?;
        Ok(())
    }
}

impl<W: Write> LineSink for CsvSink<W> {
    fn header(&mut self, names: &[&str]) -> Result<()> {
        self.w.write_record(names)?;
        Ok(())
    }
    fn line(&mut self, cells: &[String]) -> Result<()> {
        self.w.write_record(cells)?;
        Ok(())
    }
}

/// Keeps lines in memory as text columns (for Parquet output and tests).
#[derive(Default)]
pub struct ColumnSink {
    pub names: Vec<String>,
    pub columns: Vec<Vec<String>>,
}

impl LineSink for ColumnSink {
    fn header(&mut self, names: &[&str]) -> Result<()> {
        self.names = names.iter().map(|s| s.to_string()).collect();
        self.columns = vec![Vec::new(); names.len()];
        Ok(())
    }
    fn line(&mut self, cells: &[String]) -> Result<()> {
        for (c, v) in self.columns.iter_mut().zip(cells) {
            c.push(v.clone());
        }
        Ok(())
    }
}

/// How many lines of each kind a world of this configuration holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub honest: usize,
    pub per_scheme: Vec<usize>,
    pub scenario: usize,
}

impl Plan {
    pub fn new(cfg: &GenerateConfig) -> Plan {
        let scenario = if cfg.nj_scenario {
            ((cfg.rows as f64 * 0.002).round() as usize).max(20).min(cfg.rows)
        } else {
            0
        };
        let fraud_total = ((cfg.rows as f64 * cfg.fraud_rate).round() as usize).min(cfg.rows - scenario);
        let mut per_scheme: Vec<usize> = Scheme::ALL
            .iter()
            .map(|s| (s.share() * fraud_total as f64).floor() as usize)
            .collect();
        // Every scheme appears whenever there is room for it.
        if fraud_total >= Scheme::ALL.len() {
            for n in per_scheme.iter_mut() {
                *n = (*n).max(1);
            }
        }
        let mut assigned: usize = per_scheme.iter().sum();
        let mut i = 0;
        while assigned < fraud_total {
            per_scheme[i % Scheme::ALL.len()] += 1;
            assigned += 1;
            i += 1;
        }
        while assigned > fraud_total {
            let j = per_scheme
                .iter()
                .enumerate()
                .max_by_key(|(_, n)| **n)
                .map(|(j, _)| j)
                .unwrap_or(0);
            per_scheme[j] -= 1;
            assigned -= 1;
        }
        Plan {
            honest: cfg.rows - scenario - fraud_total,
            per_scheme,
            scenario,
        }
    }
}

/// Generates a world into `sink`, calling `progress` with lines written.
pub fn generate(cfg: &GenerateConfig, sink: &mut dyn LineSink, progress: &dyn Fn(u64)) -> Result<Plan> {
    check(cfg)?;
    let variant = Variant::new(cfg.variant, cfg.seed);
    let mut variant_stream = variant.as_ref().map(Variant::stream);
    let plan = Plan::new(cfg);
    let mut r = Rand(Xoshiro256PlusPlus::seed_from_u64(cfg.seed));
    let world = World::build(cfg, &mut r)?;
    let mut g = Gen {
        w: world,
        r,
        networks: Vec::new(),
    };
    let start = cfg.start.0;
    let days = cfg.days as i32;
    let Schedule {
        lines: scheduled,
        nj_exporter,
    } = g.schedule(&plan, start, days)?;
    let day_weights = day_weights(days);
    let mut honest_left = plan.honest;
    let names: Vec<&str> = Col::ALL
        .iter()
        .map(|c| c.name())
        .chain(GROUND_TRUTH_EXTRA)
        .collect();
    sink.header(&names)?;
    // Spellings are drawn from their own stream, so the rest of the world
    // is what it was without them.
    let mut spellings = Rand(Xoshiro256PlusPlus::seed_from_u64(
        cfg.seed ^ 0x005b_e11e_550f_4a3e,
    ));
    let mut written = 0u64;
    let mut sched_i = 0;
    let mut day_lines: Vec<Line> = Vec::new();
    let mut carry = 0.0;
    let first_day = start.min(scheduled.first().map_or(start, |s| s.0));
    let last_day = (start + days - 1).max(scheduled.last().map_or(start, |s| s.0));
    for day in first_day..=last_day {
        day_lines.clear();
        let in_period = day >= start && day < start + days;
        if in_period {
            let target = day_weights[(day - start) as usize] * plan.honest as f64 + carry;
            let mut n = target.floor() as usize;
            carry = target - n as f64;
            if day == start + days - 1 {
                n = honest_left;
            }
            n = n.min(honest_left);
            let mut made = 0;
            while made < n {
                let before = day_lines.len();
                g.honest_filing(day, &mut day_lines, n - made);
                made += day_lines.len() - before;
            }
            honest_left -= made;
        }
        while sched_i < scheduled.len() && scheduled[sched_i].0 == day {
            let s = scheduled[sched_i].1;
            if s == u8::MAX {
                g.nj_line(day, nj_exporter.expect("scenario exporter"), &mut day_lines);
            } else {
                g.fraud_line(Scheme::ALL[s as usize], day, &mut day_lines);
            }
            sched_i += 1;
        }
        day_lines.shuffle(&mut g.r.0);
        respell(&mut day_lines, &mut spellings);
        if let (Some(v), Some(vr)) = (&variant, variant_stream.as_mut()) {
            for l in day_lines.iter_mut() {
                v.apply(l, vr);
            }
        }
        for l in &day_lines {
            sink.line(l)?;
        }
        written += day_lines.len() as u64;
        progress(written);
    }
    Ok(plan)
}

/// Refuses a configuration the generator cannot honour.
fn check(cfg: &GenerateConfig) -> Result<()> {
    if !(0.0..=0.5).contains(&cfg.fraud_rate) {
        bail!("fraud rate {} must be between 0 and 0.5", cfg.fraud_rate);
    }
    if !(0.0..=1.0).contains(&cfg.irregular) {
        bail!("irregular share {} must be between 0 and 1", cfg.irregular);
    }
    if cfg.days == 0 {
        bail!("days must be at least 1");
    }
    if cfg.variant > MAX_VARIANT {
        bail!("variant {} must be between 0 and {MAX_VARIANT}", cfg.variant);
    }
    Ok(())
}

/// Each day's share of the honest lines, with mild weekly seasonality.
fn day_weights(days: i32) -> Vec<f64> {
    let mut day_weights: Vec<f64> = (0..days)
        .map(|d| if (d + 3) % 7 >= 5 { 0.35 } else { 1.0 })
        .collect();
    let total_w: f64 = day_weights.iter().sum();
    for w in day_weights.iter_mut() {
        *w /= total_w;
    }
    day_weights
}

/// Some exporters' names written another way (typos, cuts, other legal
/// forms), more often on the schemes' and the ring's lines.
fn respell(day_lines: &mut [Line], spellings: &mut Rand) {
    for l in day_lines.iter_mut() {
        let p = match l[Col::Typology as usize].as_str() {
            "" => SPELLING_HONEST,
            "nj_warehouse" => SPELLING_RING,
            _ => SPELLING_SCHEME,
        };
        if spellings.p(p) {
            let name = &mut l[Col::UsppiName as usize];
            *name = spelling(name, spellings);
        }
    }
}

/// The fraud and scenario lines' days (sorted; the scheme's index, or
/// `u8::MAX` for the scenario), and the scenario's exporter.
struct Schedule {
    lines: Vec<(i32, u8)>,
    nj_exporter: Option<usize>,
}

impl Gen<'_> {
    /// Schedule: each fraud line and each scenario line gets a day (sorted);
    /// with the scenario, its exporter is made.
    fn schedule(&mut self, plan: &Plan, start: i32, days: i32) -> Result<Schedule> {
        let mut scheduled: Vec<(i32, u8)> = Vec::new();
        for (s, n) in plan.per_scheme.iter().enumerate() {
            for _ in 0..*n {
                let d = start + self.r.int(0, (days - 1) as usize) as i32;
                scheduled.push((d, s as u8));
            }
        }
        let nj_exporter = if plan.scenario > 0 {
            let nj = &self.w.p.nj_warehouse;
            let nj_name = nj.exporter.clone();
            let (a, b) = (Date::parse_iso(&nj.start), Date::parse_iso(&nj.end));
            let (Some(a), Some(b)) = (a, b) else {
                bail!("datasets/world.toml: nj_warehouse dates are not YYYY-MM-DD")
            };
            for _ in 0..plan.scenario {
                scheduled.push((a.0 + self.r.int(0, (b.0 - a.0) as usize) as i32, u8::MAX));
            }
            let mut e = self.w.new_exporter(&mut self.r, Kind::Front);
            e.name = nj_name;
            e.start = a.0 - 20;
            self.w.exporters.push(e);
            Some(self.w.exporters.len() - 1)
        } else {
            None
        };
        scheduled.sort();
        Ok(Schedule {
            lines: scheduled,
            nj_exporter,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rows: usize, seed: u64) -> GenerateConfig {
        GenerateConfig {
            rows,
            seed,
            fraud_rate: 0.02,
            nj_scenario: true,
            start: Date::parse_iso("2024-07-01").unwrap(),
            days: 90,
            irregular: 0.0,
            unusual: 0.0,
            variant: 0,
        }
    }

    fn world(cfg: &GenerateConfig) -> (ColumnSink, Plan) {
        let mut sink = ColumnSink {
            names: Vec::new(),
            columns: Vec::new(),
        };
        let plan = generate(cfg, &mut sink, &|_| {}).unwrap();
        (sink, plan)
    }

    #[test]
    fn draws_are_seeded_and_in_range() {
        let mut a = Rand(Xoshiro256PlusPlus::seed_from_u64(7));
        let mut b = Rand(Xoshiro256PlusPlus::seed_from_u64(7));
        for _ in 0..1000 {
            assert_eq!(a.f().to_bits(), b.f().to_bits());
            let k = a.int(3, 5);
            assert!((3..=5).contains(&k) && k == b.int(3, 5));
            let x = a.range(-1.0, 2.0);
            assert!((-1.0..2.0).contains(&x) && x == b.range(-1.0, 2.0));
            // A zero weight is never drawn.
            assert_ne!(a.weighted(&[1.0, 0.0, 2.0]), 1);
            b.weighted(&[1.0, 0.0, 2.0]);
            assert!(a.lognormal(100.0, 0.5) > 0.0);
            b.lognormal(100.0, 0.5);
        }
        assert_eq!(a.token(11).len(), 11);
        assert!(!a.p(0.0) && a.p(1.0));
    }

    #[test]
    fn a_world_is_its_seed_and_holds_its_plan() {
        let cfg = config(6000, 1);
        let (w, plan) = world(&cfg);
        assert_eq!(world(&cfg).0.columns, w.columns, "the same seed, the same world");
        assert_ne!(world(&config(6000, 2)).0.columns, w.columns);
        let col = |c: Col| &w.columns[c as usize];
        let n = col(Col::ShipmentId).len();
        assert_eq!(n, cfg.rows);
        assert_eq!(
            plan.honest + plan.per_scheme.iter().sum::<usize>() + plan.scenario,
            n
        );
        assert!(plan.scenario >= 20);
        let count = |typology: &str| col(Col::Typology).iter().filter(|t| *t == typology).count();
        for (s, k) in Scheme::ALL.iter().zip(&plan.per_scheme) {
            assert_eq!(count(s.as_str()), *k, "{s}");
        }
        assert_eq!(count("nj_warehouse"), plan.scenario);
        assert_eq!(count(""), plan.honest);
        let (start, end) = (cfg.start.0, cfg.start.0 + cfg.days as i32);
        for i in 0..n {
            let honest = col(Col::Typology)[i].is_empty();
            assert_eq!(col(Col::Label)[i], if honest { "0" } else { "1" });
            if honest {
                let d = Date::parse_iso(&col(Col::ExportDate)[i]).unwrap().0;
                assert!((start..end).contains(&d), "line {i} on day {d}");
            }
        }
    }

    #[test]
    fn schemes_declare_other_goods_than_they_ship() {
        let (w, _) = world(&config(20000, 3));
        let t = Tables::get();
        let col = |c: Col| &w.columns[c as usize];
        for i in 0..col(Col::ShipmentId).len() {
            let typology = col(Col::Typology)[i].as_str();
            let shipped = t.category_index(&col(Col::TrueCategory)[i]).unwrap();
            let digits: String = col(Col::HsCode)[i]
                .chars()
                .filter(|c| c.is_ascii_digit())
                .collect();
            let declared = t.hs_category(&digits);
            match typology {
                // Honest lines declare what they ship (a code of its kind).
                "" => assert!(!t.is_controlled(declared) || t.is_controlled(shipped), "line {i}"),
                // A paper end user declares the goods truly: its item's own code.
                "false_end_user" => {
                    assert!(
                        t.catalogue.iter().any(|c| c.category == col(Col::TrueCategory)[i]
                            && c.hs_code.replace('.', "") == digits),
                        "line {i}"
                    )
                }
                // Every other scheme ships controlled compute declared as
                // something else.
                _ => {
                    assert!(t.is_controlled(shipped), "line {i}");
                    assert!(
                        !t.is_controlled(declared),
                        "line {i}: {typology} declares {digits}"
                    );
                }
            }
        }
    }

    #[test]
    fn honest_controlled_exports_are_licensed_where_they_must_be() {
        let cfg = config(1000, 4);
        let mut r = Rand(Xoshiro256PlusPlus::seed_from_u64(4));
        let w = World::build(&cfg, &mut r).unwrap();
        let t = Tables::get();
        let controlled = t.catalogue.iter().find(|c| c.eccn.starts_with("3A090")).unwrap();
        let plain = t.catalogue.iter().find(|c| c.eccn == "EAR99").unwrap();
        for _ in 0..200 {
            assert_eq!(honest_classification(&w, &mut r, controlled, "CN").1, "C30");
            let (eccn, lic) = honest_classification(&w, &mut r, plain, "SG");
            assert!(eccn == "EAR99" || eccn.is_empty());
            assert!(lic == "C33" || lic.is_empty());
        }
    }
}
