//! Features: every figure the models see, computed by one code path for
//! training and scoring. The list of names with a one-line meaning is
//! [`FEATURES`]; reasons and reports use the same names.
//!
//! Data flows one way: a validated [`Batch`] plus the run's party histories
//! ([`crate::history`]) plus what is typical per declaration
//! ([`crate::catstats`]) give a column-major [`Frame`].

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::batch::Batch;
use crate::catstats::{BatchStats, BatchStatsBuilder, CatStats};
use crate::history::HistFeatures;
use crate::model::text::TextModel;
use crate::outcome::OutcomeRates;
use crate::schema::Col;
use crate::strcol::StrCol;
use crate::tables::Tables;

/// Version of the feature set; a model trained on another version is refused.
pub const FEATURE_SET_VERSION: u32 = 6;

/// A feature's name and what it means.
#[derive(Debug, Clone, Copy)]
pub struct FeatureDef {
    pub name: &'static str,
    pub meaning: &'static str,
}

macro_rules! features {
    ($($name:ident => $meaning:literal,)*) => {
        /// Every base feature, in the order of the columns of a [`Frame`].
        pub const FEATURES: &[FeatureDef] = &[$(FeatureDef { name: stringify!($name), meaning: $meaning },)*];

        /// One row's base features, a named field each. A row is built as a
        /// struct literal, so the compiler checks that every feature is set
        /// exactly once and by name; the columns follow [`FEATURES`]' order.
        struct Row {
            $($name: f64,)*
        }

        impl Row {
            /// Appends the row to one column per feature, in [`FEATURES`]' order.
            fn push_to(self, cols: &mut [Vec<f64>]) {
                let mut c = cols.iter_mut();
                $(
                    if let Some(col) = c.next() {
                        col.push(self.$name);
                    }
                )*
            }
        }
    };
}

features! {
    declared_controlled => "the HS code declares data-centre GPUs or GPU servers",
    desc_mismatch => "probability that the description points to another category than the HS code (0 when the text model cannot place the description)",
    desc_suggests_controlled => "probability that the description points to controlled compute while the HS code does not (0 when it cannot be placed)",
    hs_unknown => "the HS code is not in the HS nomenclature",
    eccn_absent => "no ECCN filed",
    eccn_ear99_on_controlled => "EAR99 or no ECCN on goods that usually carry 3A090/4A090",
    eccn_controlled_on_other => "a 3A090/4A090 ECCN on goods declared as something else",
    licence_nlr_restricted => "no-licence-required (C33) on 3A090/4A090 goods to China or a restricted destination",
    brand_absent => "no brand on the documents",
    brand_unknown => "a brand the tables do not know",
    brand_other_category => "a known brand of another category than declared",
    brand_controlled_maker => "a brand known for controlled compute on goods declared as something else",
    log_value_per_kg => "log10 of declared value per kg of shipping weight",
    log_weight_per_unit => "log10 of kg per unit (counted units only)",
    log_value_per_unit => "log10 of declared value per unit (counted units only)",
    log_weight_per_package => "log10 of kg per package",
    dev_value_per_kg => "value per kg against what is typical for the HS code (robust z-score)",
    dev_weight_per_unit => "weight per unit against what is typical for the HS code (robust z-score)",
    dev_value_per_unit => "value per unit against what is typical for the HS code (robust z-score)",
    dev_weight_per_package => "weight per package against what is typical for the HS code (robust z-score)",
    dev_value => "declared value against what is typical for the HS code or heading (robust z-score), for lines without a counted quantity",
    dev_weight => "shipping weight against what is typical for the HS code or heading (robust z-score), for lines without a counted quantity",
    unit_is_weight => "quantity declared in a weight unit (KG, LB), so no per-unit figures",
    unit_is_set => "quantity declared in sets",
    log_quantity => "log10 of the declared quantity",
    log_value => "log10 of the declared value in USD",
    log_weight => "log10 of the shipping weight in kg",
    exporter_age_days => "days since the exporter's first filing",
    exporter_prior_lines => "log10(1 + lines the exporter filed before)",
    exporter_category_share => "share of this category in the exporter's earlier lines",
    exporter_new_category => "the exporter never declared this category before",
    exporter_prior_anomaly => "mean physical anomaly (largest upward robust deviation) of the exporter's earlier lines",
    exporter_run_rank => "how active the exporter is in this run: share of the run's lines whose exporter files fewer lines (0 least, near 1 most active)",
    exporter_partners => "distinct consignees the exporter shipped to (history and this run, 32 = 32 or more)",
    exporter_codes => "distinct HS6 codes the exporter declared (history and this run, 32 = 32 or more)",
    exporter_countries => "distinct destination countries of the exporter (history and this run, 32 = 32 or more)",
    exporter_partners_rank => "the exporter's distinct consignees as a rank in this run: share of the run's lines whose exporter has fewer",
    exporter_codes_rank => "the exporter's distinct HS6 codes as a rank in this run: share of the run's lines whose exporter has fewer",
    exporter_countries_rank => "the exporter's distinct destination countries as a rank in this run: share of the run's lines whose exporter has fewer",
    address_residential => "the exporter's address looks residential",
    address_shared_exporters => "exporters filing from the same normalised address",
    consignee_forwarder => "the ultimate consignee looks like a freight forwarder or logistics firm",
    consignee_hub => "destination is a transshipment hub (SG, MY, TH, HK, TW, AE)",
    consignee_restricted => "destination is China (with HK, MO) or another restricted country",
    consignee_prior_lines => "log10(1 + lines the consignee received before)",
    consignee_age_days => "days since the consignee's first line",
    consignee_prior_anomaly => "mean physical anomaly of the consignee's earlier lines",
    consignee_run_rank => "how active the consignee is in this run: share of the run's lines whose consignee receives fewer lines",
    consignee_partners => "distinct exporters shipping to the consignee (history and this run, 32 = 32 or more)",
    consignee_codes => "distinct HS6 codes the consignee received (history and this run, 32 = 32 or more)",
    consignee_partners_rank => "the consignee's distinct exporters as a rank in this run: share of the run's lines whose consignee has fewer",
    consignee_codes_rank => "the consignee's distinct HS6 codes as a rank in this run: share of the run's lines whose consignee has fewer",
    intermediate_present => "an intermediate consignee is named",
    intermediate_hub => "the intermediate consignee is in a transshipment hub",
    payer_abroad => "payment came from another country than the consignee's",
    payer_china => "payment came from China, Hong Kong or Macau for goods consigned elsewhere",
    consignee_direct => "ultimate consignee type D (direct consumer)",
    mode_air => "shipped by air",
    invoice_value_ratio => "log10 of invoice value over filed value",
    invoice_description_differs => "the invoice describes the goods differently (1: another category, 0.5: other words)",
    amendment_count => "times the filing was corrected after submission",
    invalid_fields => "cells the reader emptied as invalid (INVALID_FIELD)",
}

/// Counts that grow with the batch's size and period: kept for reasons and
/// the label-free score's isolation forest, but the risk model learns from
/// their ranks within the run ([`PARTY_RANKS`]) instead, which read alike
/// in a day's batch and a year's.
pub const ABSOLUTE_COUNTS: &[&str] = &[
    "exporter_partners",
    "exporter_codes",
    "exporter_countries",
    "consignee_partners",
    "consignee_codes",
];

/// How active a party is within the run, against the run's other parties:
/// kept for reasons and the isolation forest, but not a risk-model input
/// (feature set 6). In training worlds, where a scheme's company files few
/// lines, the model learned from it that a busy exporter is honest, which a
/// ring resolved to one company of hundreds of lines contradicts; and it
/// reads differently in a day's batch than in a month's, so it moved which
/// lines daily runs flag (docs/quality.md, issue #17).
pub const RUN_RANKS: &[&str] = &["exporter_run_rank", "consignee_run_rank"];

/// The ranks of [`ABSOLUTE_COUNTS`] within the run (the risk model's; the
/// isolation forest keeps the counts).
pub const PARTY_RANKS: &[&str] = &[
    "exporter_partners_rank",
    "exporter_codes_rank",
    "exporter_countries_rank",
    "consignee_partners_rank",
    "consignee_codes_rank",
];

/// Features the likely-cargo model adds to the risk model's input.
pub const LIKELY_FEATURES: &[FeatureDef] = &[
    FeatureDef {
        name: "likely_controlled",
        meaning:
            "probability, from evidence other than the declaration, that the goods are controlled compute",
    },
    FeatureDef {
        name: "likely_declared",
        meaning: "probability of the declared category given the evidence",
    },
    FeatureDef {
        name: "mismatch",
        meaning: "probability the goods are controlled compute although the declaration says otherwise",
    },
];

/// Index of a base feature by name.
pub fn index(name: &str) -> usize {
    FEATURES
        .iter()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("unknown feature {name}"))
}

/// Columns of features, row-aligned with the batch they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    pub names: Vec<String>,
    pub cols: Vec<Vec<f64>>,
    pub n: usize,
}

impl Frame {
    pub fn col(&self, name: &str) -> Option<&[f64]> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|j| self.cols[j].as_slice())
    }

    pub fn push(&mut self, name: &str, v: Vec<f64>) {
        debug_assert_eq!(v.len(), self.n);
        self.names.push(name.to_string());
        self.cols.push(v);
    }

    /// Replaces the values of column `name` (which must exist).
    pub fn set(&mut self, name: &str, v: Vec<f64>) {
        debug_assert_eq!(v.len(), self.n);
        let j = self
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        self.cols[j] = v;
    }

    /// All columns one after another (column-major), as gradient boosting wants.
    pub fn column_major(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.n * self.cols.len());
        for c in &self.cols {
            out.extend_from_slice(c);
        }
        out
    }

    /// Row `i` as a vector.
    pub fn row(&self, i: usize) -> Vec<f64> {
        self.cols.iter().map(|c| c[i]).collect()
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Frame {
        Frame {
            names: self.names.clone(),
            cols: self
                .cols
                .iter()
                .map(|c| idx.iter().map(|&i| c[i]).collect())
                .collect(),
            n: idx.len(),
        }
    }
}

/// The declaration-derived facts of each row that features and reasons share.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// The HS code's first six digits (all of it when shorter).
    pub hs6: StrCol,
    /// Declared category (index into `categories.csv`): the HS code's, or,
    /// where its subheading holds several kinds of goods, the one its
    /// description clearly names.
    pub category: Vec<u8>,
    /// Category the description points to (the text model's likeliest;
    /// `unknown` when it cannot place the description).
    pub desc_category: Vec<u8>,
    /// P(the HS code's category | description) and P(controlled compute |
    /// description); NaN when the description cannot be placed.
    pub desc_declared: Vec<f32>,
    pub desc_controlled: Vec<f32>,
    /// log10 value/kg, weight/unit, value/unit, weight/package, value, weight
    /// (NaN when unknown), in [`crate::catstats::PHYSICAL`]'s order.
    pub physical: [Vec<f64>; crate::catstats::N_PHYSICAL],
}

impl Declared {
    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Declared {
        fn pick<T: Copy>(v: &[T], idx: &[usize]) -> Vec<T> {
            idx.iter().map(|&i| v[i]).collect()
        }
        Declared {
            hs6: self.hs6.take(idx),
            category: pick(&self.category, idx),
            desc_category: pick(&self.desc_category, idx),
            desc_declared: pick(&self.desc_declared, idx),
            desc_controlled: pick(&self.desc_controlled, idx),
            physical: std::array::from_fn(|j| pick(&self.physical[j], idx)),
        }
    }

    /// Appends `other`'s rows.
    pub fn append(&mut self, other: Declared) {
        self.hs6.extend_from(&other.hs6);
        self.category.extend(other.category);
        self.desc_category.extend(other.desc_category);
        self.desc_declared.extend(other.desc_declared);
        self.desc_controlled.extend(other.desc_controlled);
        for (a, b) in self.physical.iter_mut().zip(other.physical) {
            a.extend(b);
        }
    }
}

/// How a quantity unit counts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Count(f64),
    Set,
    Weight,
    Other,
}

fn unit_kind(u: &str) -> Unit {
    // Upper-cased in a stack buffer (every known unit is shorter): this
    // runs for every row, twice.
    let u = u.trim().as_bytes();
    let mut buf = [0u8; 8];
    let Some(upper) = buf.get_mut(..u.len()) else {
        return Unit::Other;
    };
    for (d, c) in upper.iter_mut().zip(u) {
        *d = c.to_ascii_uppercase();
    }
    match &*upper {
        b"" | b"NO" | b"PCS" | b"PC" | b"EA" | b"EACH" | b"U" | b"UNIT" | b"UNITS" | b"PIECES" | b"X" => {
            Unit::Count(1.0)
        }
        b"PR" | b"PAIR" | b"PAIRS" => Unit::Count(2.0),
        b"DOZ" | b"DZ" => Unit::Count(12.0),
        b"SET" | b"SETS" => Unit::Set,
        b"KG" | b"KGS" | b"G" | b"LB" | b"LBS" | b"T" | b"MT" | b"TON" | b"TONS" => Unit::Weight,
        _ => Unit::Other,
    }
}

/// Probability a description needs to say which of the kinds of goods under
/// its HS subheading the line declares.
const REFINE_MIN: f32 = 0.6;

/// What the text model makes of one description: its likeliest category,
/// and its probabilities when it can place it.
struct Placed {
    category: u8,
    probs: Option<Vec<f32>>,
}

fn place(text_model: &TextModel, text: &str, unknown: u8) -> Placed {
    match text_model.predict(text) {
        Some(p) => Placed {
            category: crate::pipeline::likeliest(&p).0 as u8,
            probs: Some(p.iter().map(|v| *v as f32).collect()),
        },
        None => Placed {
            category: unknown,
            probs: None,
        },
    }
}

/// Declared categories and physical figures of a batch.
pub fn declared(b: &Batch, text_model: &TextModel) -> Declared {
    let t = Tables::get();
    let n = b.len;
    let hs = b.text(Col::HsCode);
    let desc = b.text(Col::Description);
    let value = b.num(Col::ValueUsd);
    let weight = b.num(Col::ShippingWeightKg);
    let qty = b.num(Col::Quantity);
    let unit = b.text(Col::QuantityUnit);
    let pkgs = b.num(Col::PackageCount);
    let mut d = Declared {
        hs6: StrCol::with_capacity(n, 6 * n),
        category: Vec::with_capacity(n),
        desc_category: Vec::with_capacity(n),
        desc_declared: Vec::with_capacity(n),
        desc_controlled: Vec::with_capacity(n),
        physical: std::array::from_fn(|_| Vec::with_capacity(n)),
    };
    let unknown = t.unknown_category() as u8;
    let controlled: Vec<usize> = (0..t.n_categories()).filter(|c| t.is_controlled(*c)).collect();
    // Descriptions and codes repeat heavily within a batch: look each up once.
    let mut desc_memo: HashMap<&str, Placed> = HashMap::default();
    let mut hs_memo: HashMap<&str, u8> = HashMap::default();
    let mut allows_memo: HashMap<(&str, u8), bool> = HashMap::default();
    for i in 0..n {
        let code = &hs[i];
        d.hs6.push(code.get(..6).unwrap_or(code));
        let hs_cat = *hs_memo.entry(code).or_insert_with(|| t.hs_category(code) as u8);
        let text = &desc[i];
        let placed = desc_memo
            .entry(text)
            .or_insert_with(|| place(text_model, text, unknown));
        // The declaration is the code and the description together: where
        // the code's subheading holds several kinds of goods, a description
        // placed clearly on one of them says which.
        let cat = match &placed.probs {
            Some(p)
                if placed.category != hs_cat
                    && p[placed.category as usize] >= REFINE_MIN
                    && *allows_memo
                        .entry((code, placed.category))
                        .or_insert_with(|| t.hs6_allows(code, placed.category as usize)) =>
            {
                placed.category
            }
            _ => hs_cat,
        };
        d.category.push(cat);
        d.desc_category.push(placed.category);
        match &placed.probs {
            Some(p) => {
                d.desc_declared
                    .push(if cat == unknown { f32::NAN } else { p[cat as usize] });
                d.desc_controlled.push(controlled.iter().map(|k| p[*k]).sum());
            }
            None => {
                d.desc_declared.push(f32::NAN);
                d.desc_controlled.push(f32::NAN);
            }
        }
        let (v, w) = (value[i], weight[i]);
        let per_unit = match unit_kind(&unit[i]) {
            Unit::Count(k) if qty[i] > 0.0 => Some(qty[i] * k),
            Unit::Set if qty[i] > 0.0 => Some(qty[i]),
            _ => None,
        };
        d.physical[0].push(((v + 1.0) / w).log10());
        d.physical[1].push(per_unit.map_or(f64::NAN, |q| (w / q).log10()));
        d.physical[2].push(per_unit.map_or(f64::NAN, |q| ((v + 1.0) / q).log10()));
        d.physical[3].push(if pkgs[i] > 0.0 {
            (w / pkgs[i]).log10()
        } else {
            f64::NAN
        });
        d.physical[4].push((v + 1.0).log10());
        d.physical[5].push(w.log10());
    }
    d
}

/// Typical figures of a batch of its own (`per_file`: each input file a
/// batch of its own).
pub fn batch_stats(b: &Batch, d: &Declared, per_file: bool) -> BatchStats {
    let mut bs = BatchStatsBuilder::new(per_file);
    bs.add(&b.file, &d.hs6, &d.physical);
    bs.finish()
}

/// How far each line's physical figures are above what is typical for its
/// declaration: the largest upward robust deviation among value per kg,
/// weight per unit and value per unit (NaN when none is known). Upward only:
/// relabelled GPUs are heavier and dearer than what they are declared as. Party
/// histories accumulate it, so a party that keeps shipping odd goods stands
/// out even when each line alone is borderline.
pub fn anomaly(d: &Declared, stats: &CatStats) -> Vec<f64> {
    let mut memo = stats.memo();
    (0..d.category.len())
        .map(|i| {
            (0..3)
                .map(|j| {
                    memo.deviation(&d.hs6[i], d.category[i], j, d.physical[j][i])
                        .max(0.0)
                })
                .filter(|v| v.is_finite())
                .fold(f64::NAN, |a, v| if a.is_nan() { v } else { a.max(v) })
                .min(10.0)
        })
        .collect()
}

fn flag(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn is_controlled_eccn(e: &str) -> bool {
    e.starts_with("3A090") || e.starts_with("4A090")
}

/// Encoders of a mapping's extra columns, learned at training.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ExtraEncoders {
    pub numeric: Vec<String>,
    /// Per categorical column: value -> share of training rows with it.
    pub categorical: Vec<(String, BTreeMap<String, f64>)>,
    /// Per categorical column: its common values ([`LEVEL_MIN_SHARE`] of
    /// the rows or more, at most [`LEVELS_MAX`]), each a 0/1 feature.
    pub levels: Vec<Vec<String>>,
}

/// Share of the training rows a categorical value needs to get its own feature.
pub const LEVEL_MIN_SHARE: f64 = 0.01;
/// Most values of one categorical column with their own feature.
pub const LEVELS_MAX: usize = 12;

impl ExtraEncoders {
    /// Learns frequency encodings of the categorical extras of a batch.
    pub fn fit(b: &Batch, numeric: &[String], categorical: &[String]) -> ExtraEncoders {
        let mut cats = Vec::new();
        for (j, name) in categorical.iter().enumerate() {
            let mut m: BTreeMap<String, f64> = BTreeMap::new();
            if let Some(col) = b.extra_cat.get(j) {
                for v in col.iter() {
                    *m.entry(v.to_string()).or_default() += 1.0;
                }
            }
            for v in m.values_mut() {
                *v /= b.len.max(1) as f64;
            }
            cats.push((name.clone(), m));
        }
        let levels = cats
            .iter()
            .map(|(_, m)| {
                let mut common: Vec<(&String, f64)> = m
                    .iter()
                    .filter(|(k, v)| **v >= LEVEL_MIN_SHARE && !k.is_empty())
                    .map(|(k, v)| (k, *v))
                    .collect();
                common.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
                common.truncate(LEVELS_MAX);
                // A column with one common value says nothing its share does not.
                if common.len() < 2 {
                    return Vec::new();
                }
                common.into_iter().map(|(k, _)| k.clone()).collect()
            })
            .collect();
        ExtraEncoders {
            numeric: numeric.to_vec(),
            categorical: cats,
            levels,
        }
    }
}

/// Computes the base features (and the mapping's extra features) of a batch.
#[allow(clippy::too_many_arguments)]
pub fn compute(
    b: &Batch,
    d: &Declared,
    text_model: &TextModel,
    h: &HistFeatures,
    stats: &CatStats,
    batch: Option<&BatchStats>,
    extras: &ExtraEncoders,
    outcomes: Option<&OutcomeRates>,
) -> Frame {
    let t = Tables::get();
    let n = b.len;
    let mut memo = stats.memo_with(batch);
    let mut cols: Vec<Vec<f64>> = (0..FEATURES.len()).map(|_| Vec::with_capacity(n)).collect();
    let eccn = b.text(Col::Eccn);
    let lic = b.text(Col::LicenseCode);
    let brand = b.text(Col::Brand);
    let country = b.text(Col::ConsigneeCountry);
    let cons = b.text(Col::ConsigneeName);
    let inter = b.text(Col::IntermediateName);
    let inter_c = b.text(Col::IntermediateCountry);
    let payer = b.text(Col::PayerCountry);
    let ctype = b.text(Col::ConsigneeType);
    let mode = b.text(Col::TransportMode);
    let addr = b.text(Col::UsppiAddress);
    let unit = b.text(Col::QuantityUnit);
    let desc = b.text(Col::Description);
    let inv_desc = b.text(Col::InvoiceDescription);
    let inv_val = b.num(Col::InvoiceValueUsd);
    let value = b.num(Col::ValueUsd);
    let qty = b.num(Col::Quantity);
    let amend = b.num(Col::AmendmentCount);
    let unknown = t.unknown_category() as u8;
    let mut inv_memo: HashMap<&str, u8> = HashMap::default();
    let consumer = t.category_index("consumer_gpu").map(|c| c as u8);
    for i in 0..n {
        let cat = d.category[i];
        let dcat = d.desc_category[i];
        let declared_ctrl = t.is_controlled(cat as usize);
        let desc_ctrl = t.is_controlled(dcat as usize);
        let e = &eccn[i];
        let country_info = t.country(&country[i]);
        let restricted = country_info.is_some_and(|c| c.restricted || c.china);
        let brand_cat = if brand[i].is_empty() {
            None
        } else {
            t.brand_category(&brand[i])
        };
        let u = unit_kind(&unit[i]);
        let a = &addr[i];
        let payer_known = !payer[i].is_empty() && !country[i].is_empty();
        let payer_cn = t.country(&payer[i]).is_some_and(|c| c.china);
        let dest_cn = country_info.is_some_and(|c| c.china);
        let (ex, co) = (h.exporter_of(i), h.consignee_of(i));
        let file = b.file.get(i).copied().unwrap_or(0);
        Row {
            declared_controlled: flag(declared_ctrl),
            // What the text model cannot place is no evidence either way.
            desc_mismatch: if d.desc_declared[i].is_nan() {
                0.0
            } else {
                1.0 - d.desc_declared[i] as f64
            },
            desc_suggests_controlled: if d.desc_controlled[i].is_nan() || declared_ctrl {
                0.0
            } else {
                d.desc_controlled[i] as f64
            },
            hs_unknown: flag(cat == unknown),
            eccn_absent: flag(e.is_empty()),
            eccn_ear99_on_controlled: flag((e.is_empty() || e == "EAR99") && (declared_ctrl || desc_ctrl)),
            eccn_controlled_on_other: flag(is_controlled_eccn(e) && !declared_ctrl && Some(cat) != consumer),
            licence_nlr_restricted: flag(
                &lic[i] == "C33" && (is_controlled_eccn(e) || declared_ctrl) && restricted,
            ),
            brand_absent: flag(brand[i].is_empty()),
            brand_unknown: flag(!brand[i].is_empty() && brand_cat.is_none()),
            brand_other_category: flag(brand_cat.is_some_and(|c| c as u8 != cat)),
            brand_controlled_maker: flag(brand_cat.is_some_and(|c| t.is_controlled(c)) && !declared_ctrl),
            log_value_per_kg: d.physical[0][i],
            log_weight_per_unit: d.physical[1][i],
            log_value_per_unit: d.physical[2][i],
            log_weight_per_package: d.physical[3][i],
            dev_value_per_kg: memo.deviation_in(file, &d.hs6[i], cat, 0, d.physical[0][i]),
            dev_weight_per_unit: memo.deviation_in(file, &d.hs6[i], cat, 1, d.physical[1][i]),
            dev_value_per_unit: memo.deviation_in(file, &d.hs6[i], cat, 2, d.physical[2][i]),
            dev_weight_per_package: memo.deviation_in(file, &d.hs6[i], cat, 3, d.physical[3][i]),
            // The size of a line without a counted quantity: with one, value
            // and weight per unit already say it, normalised for the count.
            dev_value: if d.physical[2][i].is_nan() {
                memo.deviation_in(file, &d.hs6[i], cat, 4, d.physical[4][i])
            } else {
                f64::NAN
            },
            dev_weight: if d.physical[1][i].is_nan() {
                memo.deviation_in(file, &d.hs6[i], cat, 5, d.physical[5][i])
            } else {
                f64::NAN
            },
            unit_is_weight: flag(u == Unit::Weight),
            unit_is_set: flag(u == Unit::Set),
            log_quantity: if qty[i] > 0.0 { qty[i].log10() } else { f64::NAN },
            // Computed once, with the declaration's physical figures.
            log_value: d.physical[4][i],
            log_weight: d.physical[5][i],
            exporter_age_days: h.exporter_age[i] as f64,
            exporter_prior_lines: (1.0 + (h.exporter_lines[i] as f64)).log10(),
            exporter_category_share: h.exporter_cat_share[i] as f64,
            exporter_new_category: if (h.exporter_lines[i] as f64) > 0.0 {
                flag((h.exporter_cat_share[i] as f64) == 0.0)
            } else {
                f64::NAN
            },
            exporter_prior_anomaly: h.exporter_anomaly[i] as f64,
            exporter_run_rank: ex.map_or(f64::NAN, |p| p.run_rank as f64),
            exporter_partners: ex.map_or(f64::NAN, |p| p.partners as f64),
            exporter_codes: ex.map_or(f64::NAN, |p| p.codes as f64),
            exporter_countries: ex.map_or(f64::NAN, |p| p.countries as f64),
            exporter_partners_rank: ex.map_or(f64::NAN, |p| p.partners_rank as f64),
            exporter_codes_rank: ex.map_or(f64::NAN, |p| p.codes_rank as f64),
            exporter_countries_rank: ex.map_or(f64::NAN, |p| p.countries_rank as f64),
            address_residential: if a.is_empty() {
                f64::NAN
            } else {
                flag(t.has_party_word(a, "residential") && !t.has_party_word(a, "commercial"))
            },
            address_shared_exporters: h.address_exporters[i] as f64,
            consignee_forwarder: if cons[i].is_empty() {
                f64::NAN
            } else {
                flag(t.has_party_word(&cons[i], "forwarder"))
            },
            consignee_hub: if country[i].is_empty() {
                f64::NAN
            } else {
                flag(country_info.is_some_and(|c| c.hub))
            },
            consignee_restricted: if country[i].is_empty() {
                f64::NAN
            } else {
                flag(restricted)
            },
            consignee_prior_lines: if (h.consignee_lines[i] as f64).is_nan() {
                f64::NAN
            } else {
                (1.0 + (h.consignee_lines[i] as f64)).log10()
            },
            consignee_age_days: h.consignee_age[i] as f64,
            consignee_prior_anomaly: h.consignee_anomaly[i] as f64,
            consignee_run_rank: co.map_or(f64::NAN, |p| p.run_rank as f64),
            consignee_partners: co.map_or(f64::NAN, |p| p.partners as f64),
            consignee_codes: co.map_or(f64::NAN, |p| p.codes as f64),
            consignee_partners_rank: co.map_or(f64::NAN, |p| p.partners_rank as f64),
            consignee_codes_rank: co.map_or(f64::NAN, |p| p.codes_rank as f64),
            intermediate_present: flag(!inter[i].is_empty() || !inter_c[i].is_empty()),
            intermediate_hub: flag(t.country(&inter_c[i]).is_some_and(|c| c.hub)),
            payer_abroad: if payer_known {
                flag(payer[i] != country[i])
            } else {
                f64::NAN
            },
            payer_china: if payer[i].is_empty() {
                f64::NAN
            } else {
                flag(payer_cn && !dest_cn)
            },
            consignee_direct: if ctype[i].is_empty() {
                f64::NAN
            } else {
                flag(&ctype[i] == "D")
            },
            mode_air: if mode[i].is_empty() {
                f64::NAN
            } else {
                flag(&mode[i] == "air")
            },
            invoice_value_ratio: if inv_val[i].is_nan() {
                f64::NAN
            } else {
                ((inv_val[i] + 1.0) / (value[i] + 1.0)).log10()
            },
            invoice_description_differs: if inv_desc[i].is_empty() {
                f64::NAN
            } else {
                let text = &inv_desc[i];
                if text.trim().eq_ignore_ascii_case(desc[i].trim()) {
                    // The filing's own words: nothing to place again.
                    0.0
                } else {
                    let icat = *inv_memo
                        .entry(text)
                        .or_insert_with(|| place(text_model, text, unknown).category);
                    // Only two placed descriptions differ in category.
                    if icat != dcat && icat != unknown && dcat != unknown {
                        1.0
                    } else {
                        0.5
                    }
                }
            },
            amendment_count: amend[i],
            invalid_fields: b.invalid[i].count_ones() as f64,
        }
        .push_to(&mut cols);
    }
    let mut f = Frame {
        names: FEATURES.iter().map(|f| f.name.to_string()).collect(),
        cols,
        n,
    };
    for (j, name) in extras.numeric.iter().enumerate() {
        let v = b.extra_num.get(j).cloned().unwrap_or_else(|| vec![f64::NAN; n]);
        f.push(&format!("extra_{name}"), v);
    }
    for (j, (name, freq)) in extras.categorical.iter().enumerate() {
        let col = b.extra_cat.get(j);
        let v: Vec<f64> = match col {
            Some(col) => col.iter().map(|s| freq.get(s).copied().unwrap_or(0.0)).collect(),
            None => vec![f64::NAN; n],
        };
        f.push(&format!("extra_{name}_share"), v);
        for level in extras.levels.get(j).into_iter().flatten() {
            let v: Vec<f64> = match col {
                Some(col) => col.iter().map(|s| flag(s == level)).collect(),
                None => vec![f64::NAN; n],
            };
            f.push(&level_name(name, level), v);
        }
    }
    if let Some(o) = outcomes {
        let mut memo: HashMap<&str, f64> = HashMap::default();
        f.push(
            "hs_outcome_rate",
            d.hs6
                .iter()
                .map(|c| *memo.entry(c).or_insert_with(|| o.hs_rate(c)))
                .collect(),
        );
        if o.parties {
            f.push(
                "exporter_outcome_rate",
                (0..n).map(|i| o.party_rate(h.exporter_of(i))).collect(),
            );
            f.push(
                "consignee_outcome_rate",
                (0..n).map(|i| o.party_rate(h.consignee_of(i))).collect(),
            );
        }
        for (k, (name, _)) in o.extras.iter().enumerate() {
            let j = extras.categorical.iter().position(|(c, _)| c == name);
            let v: Vec<f64> = match j.and_then(|j| b.extra_cat.get(j)) {
                Some(col) => col.iter().map(|s| o.extra_rate(k, s)).collect(),
                None => vec![f64::NAN; n],
            };
            f.push(&crate::outcome::extra_outcome_name(name), v);
        }
    }
    f
}

/// The one-hot feature of a level of a categorical extra.
pub fn level_name(name: &str, level: &str) -> String {
    format!(
        "extra_{name}={}",
        crate::text::cut(&crate::text::printable(level), 40)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_are_unique() {
        let mut names: Vec<&str> = FEATURES.iter().chain(LIKELY_FEATURES).map(|f| f.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), FEATURES.len() + LIKELY_FEATURES.len());
    }

    #[test]
    fn units_are_not_divided_blindly() {
        assert_eq!(unit_kind("kg"), Unit::Weight);
        assert_eq!(unit_kind("SET"), Unit::Set);
        assert_eq!(unit_kind("PCS"), Unit::Count(1.0));
        assert_eq!(unit_kind("DOZ"), Unit::Count(12.0));
        assert_eq!(unit_kind("barrels"), Unit::Other);
        assert_eq!(unit_kind(" Pieces "), Unit::Count(1.0));
        assert_eq!(unit_kind("pieces-of-eight"), Unit::Other);
        assert_eq!(unit_kind(""), Unit::Count(1.0));
        assert_eq!(unit_kind("ＫＧ"), Unit::Other);
    }
}
