//! Features: every figure the models see, computed by one code path for
//! training and scoring. The list of names with a one-line meaning is
//! [`FEATURES`]; reasons and reports use the same names.
//!
//! Data flows one way: a validated [`Batch`] plus the run's party histories
//! ([`sentinel_parties::history`]) plus what is typical per declaration
//! ([`crate::catstats`]) give a column-major [`Frame`].

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::catstats::{BatchStats, BatchStatsBuilder, CatStats};
use crate::codes::ReasonCode;
use crate::describe::TextModel;
use crate::outcome::OutcomeRates;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;
use sentinel_manifest::strcol::StrCol;
use sentinel_manifest::tables::Tables;
use sentinel_parties::history::HistFeatures;

/// Version of the feature set; a model trained on another version is refused.
pub const FEATURE_SET_VERSION: u32 = 7;

/// A feature's name and what it means.
#[derive(Debug, Clone, Copy)]
pub struct FeatureDef {
    pub name: &'static str,
    pub meaning: &'static str,
    /// The reason code its evidence is reported under.
    pub code: ReasonCode,
}

macro_rules! features {
    ($($group:ident { $($name:ident => $code:ident, $meaning:literal,)* })*) => {
        /// Every base feature, in the order of the columns of a [`Frame`].
        pub const FEATURES: &[FeatureDef] = &[$($(FeatureDef {
            name: stringify!($name),
            meaning: $meaning,
            code: ReasonCode::$code,
        },)*)*];

        /// A base feature: its column of a [`Frame`] made by [`compute`]
        /// (the base features come first, in [`FEATURES`]' order), read by
        /// [`Frame::base`] without looking its name up.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Feature {
            $($($name,)*)*
        }

        impl Feature {
            /// Every base feature, in [`FEATURES`]' order.
            pub const ALL: &'static [Feature] = &[$($(Feature::$name,)*)*];

            pub fn def(self) -> &'static FeatureDef {
                &FEATURES[self as usize]
            }

            pub fn name(self) -> &'static str {
                self.def().name
            }

            /// The base feature of a column name, if it is one.
            pub fn named(name: &str) -> Option<Feature> {
                Feature::ALL.iter().copied().find(|f| f.name() == name)
            }
        }

        $(
            /// One group of a row's base features, a named field each.
            struct $group {
                $($name: f64,)*
            }

            impl $group {
                fn push_to(self, c: &mut std::slice::IterMut<'_, Vec<f64>>) {
                    $(
                        if let Some(col) = c.next() {
                            col.push(self.$name);
                        }
                    )*
                }
            }
        )*

        /// One row's base features, group by group. A row is built as
        /// struct literals, so the compiler checks that every feature is set
        /// exactly once and by name; the columns follow [`FEATURES`]' order.
        #[allow(non_snake_case)]
        struct Row {
            $($group: $group,)*
        }

        impl Row {
            /// Appends the row to one column per feature, in [`FEATURES`]' order.
            fn push_to(self, cols: &mut [Vec<f64>]) {
                let mut c = cols.iter_mut();
                $(self.$group.push_to(&mut c);)*
            }
        }
    };
}

features! {
    Declaration {
        declared_controlled => DeclaredControlled, "the HS code declares data-centre GPUs or GPU servers",
        desc_mismatch => DescriptionMismatch, "probability that the description points to another category than the HS code (0 when the text model cannot place the description)",
        desc_suggests_controlled => DescriptionMismatch, "probability that the description points to controlled compute while the HS code does not (0 when it cannot be placed)",
        hs_unknown => UnknownHs, "the HS code is not in the HS nomenclature",
        eccn_absent => EccnMismatch, "no ECCN filed",
        eccn_ear99_on_controlled => EccnMismatch, "EAR99 or no ECCN on goods that usually carry 3A090/4A090",
        eccn_controlled_on_other => EccnMismatch, "a 3A090/4A090 ECCN on goods declared as something else",
        licence_nlr_restricted => LicenceMismatch, "no-licence-required (C33) on 3A090/4A090 goods to China or a restricted destination",
        brand_absent => Brand, "no brand on the documents",
        brand_unknown => Brand, "a brand the tables do not know",
        brand_other_category => Brand, "a known brand of another category than declared",
        brand_controlled_maker => Brand, "a brand known for controlled compute on goods declared as something else",
    }
    Physical {
        log_value_per_kg => ValuePerKg, "log10 of declared value per kg of shipping weight",
        log_weight_per_unit => WeightPerUnit, "log10 of kg per unit (counted units only)",
        log_value_per_unit => ValuePerUnit, "log10 of declared value per unit (counted units only)",
        log_weight_per_package => WeightPerPackage, "log10 of kg per package",
        dev_value_per_kg => ValuePerKg, "value per kg against what is typical for the HS code (robust z-score)",
        dev_weight_per_unit => WeightPerUnit, "weight per unit against what is typical for the HS code (robust z-score)",
        dev_value_per_unit => ValuePerUnit, "value per unit against what is typical for the HS code (robust z-score)",
        dev_weight_per_package => WeightPerPackage, "weight per package against what is typical for the HS code (robust z-score)",
        dev_value => ShipmentSize, "declared value against what is typical for the HS code or heading (robust z-score), for lines without a counted quantity",
        dev_weight => ShipmentSize, "shipping weight against what is typical for the HS code or heading (robust z-score), for lines without a counted quantity",
        unit_is_weight => ShipmentSize, "quantity declared in a weight unit (KG, LB), so no per-unit figures",
        unit_is_set => ShipmentSize, "quantity declared in sets",
        log_quantity => ShipmentSize, "log10 of the declared quantity",
        log_value => ShipmentSize, "log10 of the declared value in USD",
        log_weight => ShipmentSize, "log10 of the shipping weight in kg",
    }
    Exporter {
        exporter_age_days => NewExporter, "days since the exporter's first filing",
        exporter_prior_lines => NewExporter, "log10(1 + lines the exporter filed before)",
        exporter_age_rank => NewExporter, "the exporter's age as a rank in this run: share of the run's lines whose exporter is younger (equal ones count half)",
        exporter_lines_rank => NewExporter, "the exporter's earlier lines as a rank in this run: share of the run's lines whose exporter filed fewer before (equal ones count half)",
        exporter_category_share => NewCategory, "share of this category in the exporter's earlier lines",
        exporter_new_category => NewCategory, "the exporter never declared this category before",
        exporter_prior_anomaly => PartyHistory, "mean physical anomaly (largest upward robust deviation) of the exporter's earlier lines",
        exporter_run_rank => PartyActivity, "how active the exporter is in this run: share of the run's lines whose exporter files fewer lines (0 least, near 1 most active)",
        exporter_partners => PartyActivity, "distinct consignees the exporter shipped to (history and this run, 32 = 32 or more)",
        exporter_codes => PartyActivity, "distinct HS6 codes the exporter declared (history and this run, 32 = 32 or more)",
        exporter_countries => PartyActivity, "distinct destination countries of the exporter (history and this run, 32 = 32 or more)",
        exporter_partners_rank => PartyActivity, "the exporter's distinct consignees as a rank in this run: share of the run's lines whose exporter has fewer",
        exporter_codes_rank => PartyActivity, "the exporter's distinct HS6 codes as a rank in this run: share of the run's lines whose exporter has fewer",
        exporter_countries_rank => PartyActivity, "the exporter's distinct destination countries as a rank in this run: share of the run's lines whose exporter has fewer",
    }
    Address {
        address_residential => ResidentialAddress, "the exporter's address looks residential",
        address_shared_exporters => SharedAddress, "exporters filing from the same normalised address",
    }
    Consignee {
        consignee_forwarder => ForwarderConsignee, "the ultimate consignee looks like a freight forwarder or logistics firm",
        consignee_hub => HubDestination, "destination is a transshipment hub (SG, MY, TH, HK, TW, AE)",
        consignee_restricted => RestrictedDestination, "destination is China (with HK, MO) or another restricted country",
        consignee_prior_lines => NewConsignee, "log10(1 + lines the consignee received before)",
        consignee_age_days => NewConsignee, "days since the consignee's first line",
        consignee_lines_rank => NewConsignee, "the consignee's earlier lines as a rank in this run: share of the run's lines whose consignee received fewer before (equal ones count half)",
        consignee_age_rank => NewConsignee, "the consignee's age as a rank in this run: share of the run's lines whose consignee is younger (equal ones count half)",
        consignee_prior_anomaly => PartyHistory, "mean physical anomaly of the consignee's earlier lines",
        consignee_run_rank => PartyActivity, "how active the consignee is in this run: share of the run's lines whose consignee receives fewer lines",
        consignee_partners => PartyActivity, "distinct exporters shipping to the consignee (history and this run, 32 = 32 or more)",
        consignee_codes => PartyActivity, "distinct HS6 codes the consignee received (history and this run, 32 = 32 or more)",
        consignee_partners_rank => PartyActivity, "the consignee's distinct exporters as a rank in this run: share of the run's lines whose consignee has fewer",
        consignee_codes_rank => PartyActivity, "the consignee's distinct HS6 codes as a rank in this run: share of the run's lines whose consignee has fewer",
    }
    Routing {
        intermediate_present => IntermediateConsignee, "an intermediate consignee is named",
        intermediate_hub => IntermediateConsignee, "the intermediate consignee is in a transshipment hub",
        payer_abroad => PayerAbroad, "payment came from another country than the consignee's",
        payer_china => PayerAbroad, "payment came from China, Hong Kong or Macau for goods consigned elsewhere",
        consignee_direct => ConsigneeType, "ultimate consignee type D (direct consumer)",
        mode_air => TransportMode, "shipped by air",
    }
    Documents {
        invoice_value_ratio => InvoiceValueMismatch, "log10 of invoice value over filed value",
        invoice_description_differs => InvoiceDescriptionMismatch, "the invoice describes the goods differently (1: another category, 0.5: other words)",
        amendment_count => Amended, "times the filing was corrected after submission",
        invalid_fields => InvalidField, "cells the reader emptied as invalid (INVALID_FIELD)",
    }
}

/// Counts that grow with the batch's size and period: kept for reasons and
/// the label-free score's isolation forest, but the risk model learns from
/// their ranks within the run ([`PARTY_RANKS`]) instead, which read alike
/// in a day's batch and a year's.
pub const ABSOLUTE_COUNTS: &[Feature] = &[
    Feature::exporter_partners,
    Feature::exporter_codes,
    Feature::exporter_countries,
    Feature::consignee_partners,
    Feature::consignee_codes,
    // Ages and earlier lines grow with the period the histories cover: in a
    // larger world an honest new exporter is rarer, and a model that learned
    // there over-reads "new" in a smaller one (issue #28). Their ranks
    // within the run ([`ACTIVITY_RANKS`]) read alike.
    Feature::exporter_age_days,
    Feature::exporter_prior_lines,
    Feature::consignee_prior_lines,
    Feature::consignee_age_days,
];

/// The ranks within the run of the parties' ages and earlier lines (the
/// risk model's, in place of the levels; the isolation forest keeps the levels).
pub const ACTIVITY_RANKS: &[Feature] = &[
    Feature::exporter_age_rank,
    Feature::exporter_lines_rank,
    Feature::consignee_lines_rank,
    Feature::consignee_age_rank,
];

/// How active a party is within the run, against the run's other parties:
/// kept for reasons and the isolation forest, but not a risk-model input
/// (feature set 6). In training worlds, where a scheme's company files few
/// lines, the model learned from it that a busy exporter is honest, which a
/// ring resolved to one company of hundreds of lines contradicts; and it
/// reads differently in a day's batch than in a month's, so it moved which
/// lines daily runs flag (docs/quality.md, issue #17).
pub const RUN_RANKS: &[Feature] = &[Feature::exporter_run_rank, Feature::consignee_run_rank];

/// The ranks of [`ABSOLUTE_COUNTS`] within the run (the risk model's; the
/// isolation forest keeps the counts).
pub const PARTY_RANKS: &[Feature] = &[
    Feature::exporter_partners_rank,
    Feature::exporter_codes_rank,
    Feature::exporter_countries_rank,
    Feature::consignee_partners_rank,
    Feature::consignee_codes_rank,
];

/// Features the likely-cargo model adds to the risk model's input.
pub const LIKELY_FEATURES: &[FeatureDef] = &[
    FeatureDef {
        name: "likely_controlled",
        meaning:
            "probability, from evidence other than the declaration, that the goods are controlled compute",
        code: ReasonCode::LikelyGpu,
    },
    FeatureDef {
        name: "likely_declared",
        meaning: "probability of the declared category given the evidence",
        code: ReasonCode::LikelyGpu,
    },
    FeatureDef {
        name: "mismatch",
        meaning: "probability the goods are controlled compute although the declaration says otherwise",
        code: ReasonCode::LikelyGpu,
    },
];

/// Features from outcomes, appended after the base features when the model
/// was trained with labels (never seen by the label-free score); the
/// parties' two only with `train --party-outcomes`.
pub const OUTCOME_FEATURES: &[FeatureDef] = &[
    FeatureDef {
        name: "hs_outcome_rate",
        meaning:
            "share of inspected lines of this HS code found fraudulent, smoothed toward its heading's share",
        code: ReasonCode::OutcomeRecord,
    },
    FeatureDef {
        name: "exporter_outcome_rate",
        meaning: "share of the exporter's inspected lines found fraudulent, smoothed toward the base rate",
        code: ReasonCode::OutcomeRecord,
    },
    FeatureDef {
        name: "consignee_outcome_rate",
        meaning: "share of the consignee's inspected lines found fraudulent, smoothed toward the base rate",
        code: ReasonCode::OutcomeRecord,
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
    /// A base feature's column, by its handle: found at its place in a
    /// frame made by [`compute`] (and its selections), looked up by name in
    /// any other. Every frame holds the base features.
    pub fn base(&self, f: Feature) -> &[f64] {
        let j = f as usize;
        if self.names.get(j).is_some_and(|n| n == f.name()) {
            &self.cols[j]
        } else {
            self.col(f.name())
                .unwrap_or_else(|| panic!("the frame lacks the base feature {}", f.name()))
        }
    }

    /// A column by name (the likely-cargo, outcome and extra features,
    /// which follow the base ones); linear in the columns.
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
            category: crate::describe::likeliest(&p).0 as u8,
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

/// A batch's columns as the row features read them, with the tables and
/// the memos that keep each row's lookups cheap.
struct RowInputs<'a> {
    b: &'a Batch,
    d: &'a Declared,
    h: &'a HistFeatures,
    text_model: &'a TextModel,
    t: &'static Tables,
    memo: crate::catstats::TypicalMemo<'a>,
    /// Invoice descriptions already placed by the text model.
    inv_memo: HashMap<&'a str, u8>,
    unknown: u8,
    consumer: Option<u8>,
}

impl<'a> RowInputs<'a> {
    fn text(&self, c: Col) -> &'a StrCol {
        self.b.text(c)
    }

    /// The declaration itself: HS code, description, ECCN, licence, brand.
    fn declaration(&self, i: usize) -> Declaration {
        let (t, d) = (self.t, self.d);
        let cat = d.category[i];
        let declared_ctrl = t.is_controlled(cat as usize);
        let desc_ctrl = t.is_controlled(d.desc_category[i] as usize);
        let e = &self.text(Col::Eccn)[i];
        let brand = &self.text(Col::Brand)[i];
        let restricted = t
            .country(&self.text(Col::ConsigneeCountry)[i])
            .is_some_and(|c| c.restricted || c.china);
        let brand_cat = if brand.is_empty() {
            None
        } else {
            t.brand_category(brand)
        };
        Declaration {
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
            hs_unknown: flag(cat == self.unknown),
            eccn_absent: flag(e.is_empty()),
            eccn_ear99_on_controlled: flag((e.is_empty() || e == "EAR99") && (declared_ctrl || desc_ctrl)),
            eccn_controlled_on_other: flag(
                is_controlled_eccn(e) && !declared_ctrl && Some(cat) != self.consumer,
            ),
            licence_nlr_restricted: flag(
                &self.text(Col::LicenseCode)[i] == "C33"
                    && (is_controlled_eccn(e) || declared_ctrl)
                    && restricted,
            ),
            brand_absent: flag(brand.is_empty()),
            brand_unknown: flag(!brand.is_empty() && brand_cat.is_none()),
            brand_other_category: flag(brand_cat.is_some_and(|c| c as u8 != cat)),
            brand_controlled_maker: flag(brand_cat.is_some_and(|c| t.is_controlled(c)) && !declared_ctrl),
        }
    }

    /// Value, weight, quantity and packages, and how far they are from
    /// what is typical for the HS code.
    fn physical(&mut self, i: usize) -> Physical {
        let d = self.d;
        let (cat, hs6, p) = (d.category[i], &d.hs6[i], &d.physical);
        let file = self.b.file.get(i).copied().unwrap_or(0);
        let memo = &mut self.memo;
        let mut dev = |j: usize| memo.deviation_in(file, hs6, cat, j, p[j][i]);
        let u = unit_kind(&self.b.text(Col::QuantityUnit)[i]);
        let qty = self.b.num(Col::Quantity)[i];
        Physical {
            log_value_per_kg: p[0][i],
            log_weight_per_unit: p[1][i],
            log_value_per_unit: p[2][i],
            log_weight_per_package: p[3][i],
            dev_value_per_kg: dev(0),
            dev_weight_per_unit: dev(1),
            dev_value_per_unit: dev(2),
            dev_weight_per_package: dev(3),
            // The size of a line without a counted quantity: with one, value
            // and weight per unit already say it, normalised for the count.
            dev_value: if p[2][i].is_nan() { dev(4) } else { f64::NAN },
            dev_weight: if p[1][i].is_nan() { dev(5) } else { f64::NAN },
            unit_is_weight: flag(u == Unit::Weight),
            unit_is_set: flag(u == Unit::Set),
            log_quantity: if qty > 0.0 { qty.log10() } else { f64::NAN },
            // Computed once, with the declaration's physical figures.
            log_value: p[4][i],
            log_weight: p[5][i],
        }
    }

    /// The exporter's history and activity.
    fn exporter(&self, i: usize) -> Exporter {
        let h = self.h;
        let ex = h.exporter_of(i);
        Exporter {
            exporter_age_days: h.exporter_age[i] as f64,
            exporter_prior_lines: (1.0 + (h.exporter_lines[i] as f64)).log10(),
            exporter_age_rank: h.activity.exporter_age.mid_rank(h.exporter_age[i]),
            exporter_lines_rank: h.activity.exporter_lines.mid_rank(h.exporter_lines[i]),
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
        }
    }

    /// The address the goods leave from.
    fn address(&self, i: usize) -> Address {
        let a = &self.text(Col::UsppiAddress)[i];
        Address {
            address_residential: if a.is_empty() {
                f64::NAN
            } else {
                flag(self.t.has_party_word(a, "residential") && !self.t.has_party_word(a, "commercial"))
            },
            address_shared_exporters: self.h.address_exporters[i] as f64,
        }
    }

    /// The ultimate consignee: who and where, its history and activity.
    fn consignee(&self, i: usize) -> Consignee {
        let (t, h) = (self.t, self.h);
        let cons = &self.text(Col::ConsigneeName)[i];
        let country = &self.text(Col::ConsigneeCountry)[i];
        let country_info = t.country(country);
        let co = h.consignee_of(i);
        Consignee {
            consignee_forwarder: if cons.is_empty() {
                f64::NAN
            } else {
                flag(t.has_party_word(cons, "forwarder"))
            },
            consignee_hub: if country.is_empty() {
                f64::NAN
            } else {
                flag(country_info.is_some_and(|c| c.hub))
            },
            consignee_restricted: if country.is_empty() {
                f64::NAN
            } else {
                flag(country_info.is_some_and(|c| c.restricted || c.china))
            },
            consignee_prior_lines: if (h.consignee_lines[i] as f64).is_nan() {
                f64::NAN
            } else {
                (1.0 + (h.consignee_lines[i] as f64)).log10()
            },
            consignee_age_days: h.consignee_age[i] as f64,
            consignee_lines_rank: h.activity.consignee_lines.mid_rank(h.consignee_lines[i]),
            consignee_age_rank: h.activity.consignee_age.mid_rank(h.consignee_age[i]),
            consignee_prior_anomaly: h.consignee_anomaly[i] as f64,
            consignee_run_rank: co.map_or(f64::NAN, |p| p.run_rank as f64),
            consignee_partners: co.map_or(f64::NAN, |p| p.partners as f64),
            consignee_codes: co.map_or(f64::NAN, |p| p.codes as f64),
            consignee_partners_rank: co.map_or(f64::NAN, |p| p.partners_rank as f64),
            consignee_codes_rank: co.map_or(f64::NAN, |p| p.codes_rank as f64),
        }
    }

    /// The route and the money: intermediate, payer, consignee type, mode.
    fn routing(&self, i: usize) -> Routing {
        let t = self.t;
        let country = &self.text(Col::ConsigneeCountry)[i];
        let payer = &self.text(Col::PayerCountry)[i];
        let inter_c = &self.text(Col::IntermediateCountry)[i];
        let ctype = &self.text(Col::ConsigneeType)[i];
        let mode = &self.text(Col::TransportMode)[i];
        let payer_known = !payer.is_empty() && !country.is_empty();
        let payer_cn = t.country(payer).is_some_and(|c| c.china);
        let dest_cn = t.country(country).is_some_and(|c| c.china);
        Routing {
            intermediate_present: flag(
                !self.text(Col::IntermediateName)[i].is_empty() || !inter_c.is_empty(),
            ),
            intermediate_hub: flag(t.country(inter_c).is_some_and(|c| c.hub)),
            payer_abroad: if payer_known {
                flag(payer != country)
            } else {
                f64::NAN
            },
            payer_china: if payer.is_empty() {
                f64::NAN
            } else {
                flag(payer_cn && !dest_cn)
            },
            consignee_direct: if ctype.is_empty() {
                f64::NAN
            } else {
                flag(ctype == "D")
            },
            mode_air: if mode.is_empty() {
                f64::NAN
            } else {
                flag(mode == "air")
            },
        }
    }

    /// The other documents: the invoice, amendments, invalid cells.
    fn documents(&mut self, i: usize) -> Documents {
        let (b, unknown) = (self.b, self.unknown);
        let inv_val = b.num(Col::InvoiceValueUsd)[i];
        let inv_desc = &b.text(Col::InvoiceDescription)[i];
        let dcat = self.d.desc_category[i];
        Documents {
            invoice_value_ratio: if inv_val.is_nan() {
                f64::NAN
            } else {
                ((inv_val + 1.0) / (b.num(Col::ValueUsd)[i] + 1.0)).log10()
            },
            invoice_description_differs: if inv_desc.is_empty() {
                f64::NAN
            } else if inv_desc
                .trim()
                .eq_ignore_ascii_case(b.text(Col::Description)[i].trim())
            {
                // The filing's own words: nothing to place again.
                0.0
            } else {
                let text_model = self.text_model;
                let icat = *self
                    .inv_memo
                    .entry(inv_desc)
                    .or_insert_with(|| place(text_model, inv_desc, unknown).category);
                // Only two placed descriptions differ in category.
                if icat != dcat && icat != unknown && dcat != unknown {
                    1.0
                } else {
                    0.5
                }
            },
            amendment_count: b.num(Col::AmendmentCount)[i],
            invalid_fields: b.invalid[i].count_ones() as f64,
        }
    }
}

/// Every feature of every row of a batch, in [`FEATURES`]' order, then the
/// mapping's extra columns and (with outcomes) the outcome rates.
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
    let mut cols: Vec<Vec<f64>> = (0..FEATURES.len()).map(|_| Vec::with_capacity(n)).collect();
    let mut inputs = RowInputs {
        b,
        d,
        h,
        text_model,
        t,
        memo: stats.memo_with(batch),
        inv_memo: HashMap::default(),
        unknown: t.unknown_category() as u8,
        consumer: t.category_index("consumer_gpu").map(|c| c as u8),
    };
    for i in 0..n {
        Row {
            Declaration: inputs.declaration(i),
            Physical: inputs.physical(i),
            Exporter: inputs.exporter(i),
            Address: inputs.address(i),
            Consignee: inputs.consignee(i),
            Routing: inputs.routing(i),
            Documents: inputs.documents(i),
        }
        .push_to(&mut cols);
    }
    let mut f = Frame {
        names: FEATURES.iter().map(|f| f.name.to_string()).collect(),
        cols,
        n,
    };
    push_extras(&mut f, b, extras);
    if let Some(o) = outcomes {
        push_outcomes(&mut f, b, d, h, extras, o);
    }
    f
}

/// The mapping's extra columns: numeric ones as they are, categorical ones
/// as their level's share and one-hot levels.
fn push_extras(f: &mut Frame, b: &Batch, extras: &ExtraEncoders) {
    let n = b.len;
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
}

/// How often lines like each row's were found fraudulent at training.
fn push_outcomes(
    f: &mut Frame,
    b: &Batch,
    d: &Declared,
    h: &HistFeatures,
    extras: &ExtraEncoders,
    o: &OutcomeRates,
) {
    let n = b.len;
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

/// The one-hot feature of a level of a categorical extra.
pub fn level_name(name: &str, level: &str) -> String {
    format!(
        "extra_{name}={}",
        sentinel_manifest::safe_text::cut(&sentinel_manifest::safe_text::printable(level), 40)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each group's features on the two hand-written lines of
    /// [`crate::test_lines`]: what the cells say, and NaN where a cell is
    /// not given.
    #[test]
    fn each_group_reads_its_cells() {
        let (model, b, _) = crate::test_lines::two_lines();
        let p = &model.parts;
        let d = declared(&b, &p.text);
        let hist = crate::in_memory::histories(&model, &b);
        let f = compute(
            &b,
            &d,
            &p.text,
            &hist,
            &p.stats,
            None,
            &ExtraEncoders::default(),
            None,
        );
        assert_eq!(f.names.len(), FEATURES.len());
        let v = |name: &str, i: usize| f.col(name).unwrap_or_else(|| panic!("{name}"))[i];
        let is = |name: &str, i: usize, want: f64| {
            let got = v(name, i);
            let same = (got - want).abs() < 1e-12 || (got.is_nan() && want.is_nan());
            assert!(same, "{name} of line {i}: {got}, want {want}");
        };
        let nan = f64::NAN;
        // The declaration.
        for (name, a, b) in [
            ("hs_unknown", 0.0, 0.0),
            ("eccn_absent", 1.0, 0.0),
            ("brand_absent", 0.0, 0.0),
            ("brand_unknown", 1.0, 0.0),
            ("licence_nlr_restricted", 0.0, 0.0),
        ] {
            is(name, 0, a);
            is(name, 1, b);
        }
        // The physical figures: log10 of (value + 1) and weight per kg, unit
        // and package; per-unit figures only with a counted quantity.
        is("log_value_per_kg", 0, (2401.0f64 / 180.0).log10());
        is("log_weight_per_unit", 0, (180.0f64 / 8.0).log10());
        is("log_value_per_unit", 0, (2401.0f64 / 8.0).log10());
        is("log_weight_per_package", 0, 90f64.log10());
        is("log_quantity", 0, 8f64.log10());
        is("log_value", 0, 2401f64.log10());
        is("log_weight", 0, 180f64.log10());
        is("unit_is_weight", 0, 0.0);
        is("dev_weight", 0, nan);
        for name in [
            "log_weight_per_unit",
            "log_value_per_unit",
            "log_weight_per_package",
            "log_quantity",
        ] {
            is(name, 1, nan);
        }
        assert!(v("dev_weight", 1).is_finite() && v("dev_value_per_kg", 1).is_finite());
        // The parties: a new exporter and consignee, a residential address.
        is("exporter_prior_lines", 0, 0.0);
        is("consignee_prior_lines", 0, 0.0);
        assert!(v("address_shared_exporters", 0) >= 1.0);
        for (name, a, b) in [
            ("address_residential", 1.0, 0.0),
            ("consignee_forwarder", 1.0, 0.0),
            ("consignee_hub", 1.0, 0.0),
            ("consignee_restricted", 1.0, 0.0),
            // The routing (HK is China: a payer there is no payer abroad of it).
            ("intermediate_present", 1.0, 0.0),
            ("intermediate_hub", 1.0, 0.0),
            ("payer_abroad", 1.0, 0.0),
            ("payer_china", 0.0, 0.0),
            ("consignee_direct", 0.0, 1.0),
            ("mode_air", 1.0, 0.0),
            // The other documents.
            ("invoice_value_ratio", (150001.0f64 / 2401.0).log10(), nan),
            ("amendment_count", 2.0, nan),
            ("invalid_fields", 0.0, 1.0),
        ] {
            is(name, 0, a);
            is(name, 1, b);
        }
        // Other words on the invoice: 0.5, or 1 where they place another category.
        assert!([0.5, 1.0].contains(&v("invoice_description_differs", 0)));
        is("invoice_description_differs", 1, nan);
    }

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
