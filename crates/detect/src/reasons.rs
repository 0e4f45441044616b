//! Reasons: a row's largest contributions to its own score, grouped into
//! stable codes, each with a sentence that gives the figures behind it.

use crate::catstats::Group;
pub use crate::codes::ReasonCode;
use crate::features::{Feature, Frame, FEATURES, LIKELY_FEATURES, OUTCOME_FEATURES};
use crate::model::Parts;
use crate::pipeline::Evidence;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::safe_text::{cut, printable};
use sentinel_manifest::schema::Col;
use sentinel_manifest::tables::Tables;
use std::collections::HashMap;

/// The code a feature's evidence is reported under: the one its row of
/// the feature tables names ([`FeatureDef::code`]); a mapping's extra
/// column is [`ReasonCode::ExtraFeature`], its outcome rate
/// [`ReasonCode::OutcomeRecord`], and the isolation forest's score
/// [`ReasonCode::Unusual`].
pub fn code_of(feature: &str) -> ReasonCode {
    static CODES: std::sync::OnceLock<HashMap<&'static str, ReasonCode>> = std::sync::OnceLock::new();
    let codes = CODES.get_or_init(|| {
        FEATURES
            .iter()
            .chain(LIKELY_FEATURES)
            .chain(OUTCOME_FEATURES)
            .map(|f| (f.name, f.code))
            .collect()
    });
    match codes.get(feature) {
        Some(code) => *code,
        None if feature == "isolation" => ReasonCode::Unusual,
        None if feature.starts_with("extra_") && feature.ends_with("_outcome_rate") => {
            ReasonCode::OutcomeRecord
        }
        None => ReasonCode::ExtraFeature,
    }
}

/// One reason: its code, the sentence, and its weight in the score.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    pub code: ReasonCode,
    pub text: String,
    pub weight: f64,
}

fn q(s: &str) -> String {
    printable(&cut(s.trim(), 60))
}

fn money(v: f64) -> String {
    if v < 10.0 {
        // Small sums keep their cents ($0.03 per kg is not $0).
        return format!("${v:.2}");
    }
    if v >= 1e6 {
        format!("${:.1}M", v / 1e6)
    } else if v >= 1e4 {
        format!("${:.0}k", v / 1e3)
    } else {
        format!("${v:.0}")
    }
}

fn val(frame: &Frame, name: &str, i: usize) -> f64 {
    frame.col(name).map_or(f64::NAN, |c| c[i])
}

/// What every reason's sentence reads of row `i`: the row, its evidence,
/// its declared category and HS code, and the features behind the code.
struct Line<'a> {
    code: ReasonCode,
    parts: &'a Parts,
    ev: &'a Evidence,
    b: &'a Batch,
    i: usize,
    feats: &'a [&'a str],
    t: &'static Tables,
    cat: u8,
    decl: &'a str,
    hs6: &'a str,
}

/// The sentence of a code for row `i`.
fn sentence(code: ReasonCode, parts: &Parts, ev: &Evidence, b: &Batch, i: usize, feats: &[&str]) -> String {
    let t = Tables::get();
    let cat = ev.declared.category[i];
    let l = Line {
        code,
        parts,
        ev,
        b,
        i,
        feats,
        t,
        cat,
        decl: &t.categories[cat as usize].name,
        hs6: &ev.declared.hs6[i],
    };
    use ReasonCode::*;
    match code {
        LikelyGpu => l.likely_gpu(),
        WeightPerUnit => l.weight_per_unit(),
        ValuePerKg => l.value_per_kg(),
        ValuePerUnit => l.value_per_unit(),
        WeightPerPackage => l.weight_per_package(),
        DescriptionMismatch => l.description_mismatch(),
        UnknownHs => l.unknown_hs(),
        EccnMismatch => l.eccn_mismatch(),
        LicenceMismatch => l.licence_mismatch(),
        Brand => l.brand(),
        NewExporter => l.new_exporter(),
        NewCategory => l.new_category(),
        PartyHistory => l.party_history(),
        PartyActivity => l.party_activity(),
        OutcomeRecord => l.outcome_record(),
        ResidentialAddress => l.residential_address(),
        SharedAddress => l.shared_address(),
        ForwarderConsignee => l.forwarder_consignee(),
        HubDestination => l.hub_destination(),
        RestrictedDestination => l.restricted_destination(),
        NewConsignee => l.new_consignee(),
        ConsigneeType => l.consignee_type(),
        IntermediateConsignee => l.intermediate_consignee(),
        PayerAbroad => l.payer_abroad(),
        InvoiceValueMismatch => l.invoice_value_mismatch(),
        InvoiceDescriptionMismatch => l.invoice_description_mismatch(),
        Amended => l.amended(),
        InvalidField => l.invalid_field(),
        DeclaredControlled => l.declared_controlled(),
        ShipmentSize => l.shipment_size(),
        TransportMode => l.transport_mode(),
        Unusual => l.unusual(),
        ExtraFeature => l.extra_feature(),
    }
}

impl Line<'_> {
    /// A feature's value on the row (NaN when the model has no such feature).
    fn val(&self, name: &str) -> f64 {
        val(&self.ev.frame, name, self.i)
    }

    /// A base feature's value on the row.
    fn base(&self, f: Feature) -> f64 {
        self.ev.frame.base(f)[self.i]
    }

    /// A text cell of the row.
    fn text(&self, c: Col) -> &str {
        &self.b.text(c)[self.i]
    }

    /// A text cell as a sentence quotes it.
    fn quoted(&self, c: Col) -> String {
        q(self.text(c))
    }

    fn num(&self, c: Col) -> f64 {
        self.b.num(c)[self.i]
    }

    /// The row's physical figure `j` (log10; NaN when unknown).
    fn figure(&self, j: usize) -> f64 {
        self.ev.declared.physical[j][self.i]
    }

    /// The typical figure `j` for the row's HS code and category, and the
    /// group it was learned over.
    fn typical_in(&self, j: usize) -> (crate::catstats::Stat, Group) {
        let file = self.b.file.get(self.i).copied().unwrap_or(0);
        self.parts
            .stats
            .typical_with(self.ev.batch.as_deref(), file, self.hs6, self.cat, j)
    }

    fn typical(&self, j: usize) -> f64 {
        self.typical_in(j).0.median
    }

    /// Where a typical figure was learned: the code among its batch peers,
    /// the code itself, or what it fell back to.
    fn typical_for(&self, j: usize) -> String {
        let (hs6, decl) = (self.hs6, self.decl);
        match self.typical_in(j).1 {
            Group::Batch => format!("HS {hs6} in this batch"),
            Group::Code if self.cat as usize == self.t.unknown_category() => format!("HS {hs6}"),
            Group::Code => format!("HS {hs6} ({decl})"),
            Group::Heading => format!("HS heading {}", hs6.get(..4).unwrap_or(hs6)),
            Group::Category => format!("{decl} goods"),
            Group::Overall => "all goods".to_string(),
        }
    }

    /// A figure the row does not have (its column missing, empty or
    /// invalid): the model weighs its absence, and the sentence says so
    /// rather than show NaN.
    fn missing(&self, what: &str, from: &str) -> String {
        format!("{}: {what} unknown ({from} not given or invalid)", self.code)
    }

    fn category_name(&self, k: usize) -> &str {
        &self.t.categories[k].name
    }

    fn likely_gpu(&self) -> String {
        let n_cat = self.t.n_categories();
        let (k, pk) = crate::describe::likeliest(&self.ev.probs[self.i * n_cat..(self.i + 1) * n_cat]);
        format!(
            "{}: the figures, parties and routing point to {} ({:.0}%; controlled compute {:.0}%), declared {}",
            self.code,
            self.category_name(k),
            pk * 100.0,
            self.val("likely_controlled") * 100.0,
            self.decl
        )
    }

    fn weight_per_unit(&self) -> String {
        if self.figure(1).is_nan() {
            return self.missing("weight per unit", "quantity or weight");
        }
        format!(
            "{}: {:.2} kg per unit, typical for {} {:.2} kg",
            self.code,
            10f64.powf(self.figure(1)),
            self.typical_for(1),
            10f64.powf(self.typical(1))
        )
    }

    fn value_per_kg(&self) -> String {
        if self.figure(0).is_nan() {
            return self.missing("value per kg", "value or weight");
        }
        format!(
            "{}: {} per kg, typical for {} {} per kg",
            self.code,
            money(10f64.powf(self.figure(0))),
            self.typical_for(0),
            money(10f64.powf(self.typical(0)))
        )
    }

    fn value_per_unit(&self) -> String {
        if self.figure(2).is_nan() {
            return self.missing("value per unit", "quantity or value");
        }
        format!(
            "{}: {} per unit, typical for {} {} per unit",
            self.code,
            money(10f64.powf(self.figure(2))),
            self.typical_for(2),
            money(10f64.powf(self.typical(2)))
        )
    }

    fn weight_per_package(&self) -> String {
        if self.figure(3).is_nan() {
            return self.missing("weight per package", "packages or weight");
        }
        format!(
            "{}: {:.1} kg per package, typical {:.1} kg",
            self.code,
            10f64.powf(self.figure(3)),
            10f64.powf(self.typical(3))
        )
    }

    fn description_mismatch(&self) -> String {
        let d = &self.ev.declared;
        let suggests = self.category_name(d.desc_category[self.i] as usize);
        let (code, decl, desc, hs) = (
            self.code,
            self.decl,
            self.quoted(Col::Description),
            self.text(Col::HsCode),
        );
        // A code that names no category has no probability to show.
        if d.desc_declared[self.i].is_nan() {
            return format!("{code}: description \"{desc}\" suggests {suggests}, HS {hs} is {decl}");
        }
        format!(
            "{code}: description \"{desc}\" suggests {suggests} (P {:.2} that it is not {decl}), HS {hs}",
            1.0 - d.desc_declared[self.i] as f64
        )
    }

    fn unknown_hs(&self) -> String {
        format!(
            "{}: HS {} is not in the HS nomenclature",
            self.code,
            self.text(Col::HsCode)
        )
    }

    fn eccn_mismatch(&self) -> String {
        let e = self.text(Col::Eccn);
        format!(
            "{}: ECCN {} on goods declared as {}",
            self.code,
            if e.is_empty() { "absent".to_string() } else { q(e) },
            self.decl
        )
    }

    fn licence_mismatch(&self) -> String {
        format!(
            "{}: licence code {} with ECCN {} to {}",
            self.code,
            self.quoted(Col::LicenseCode),
            self.quoted(Col::Eccn),
            self.text(Col::ConsigneeCountry)
        )
    }

    fn brand(&self) -> String {
        let (code, decl, brand) = (self.code, self.decl, self.text(Col::Brand));
        match self.t.brand_category(brand) {
            _ if brand.is_empty() => format!("{code}: no brand on goods declared as {decl}"),
            Some(c) => format!(
                "{code}: brand \"{}\" is known for {}, declared {decl}",
                q(brand),
                self.category_name(c)
            ),
            None => format!("{code}: brand \"{}\" is not a known brand", q(brand)),
        }
    }

    fn new_exporter(&self) -> String {
        format!(
            "{}: exporter's first filing {:.0} days ago, {:.0} earlier lines",
            self.code,
            self.base(Feature::exporter_age_days).max(0.0),
            10f64.powf(self.base(Feature::exporter_prior_lines)) - 1.0
        )
    }

    fn new_category(&self) -> String {
        let share = self.base(Feature::exporter_category_share);
        if share.is_nan() {
            format!("{}: the exporter has no earlier lines", self.code)
        } else {
            format!(
                "{}: {} is {:.0}% of the exporter's earlier lines",
                self.code,
                self.decl,
                share * 100.0
            )
        }
    }

    fn party_history(&self) -> String {
        let show = |v: f64| {
            if v.is_finite() {
                format!("{v:.1}")
            } else {
                "n/a (no earlier lines)".to_string()
            }
        };
        format!(
            "{}: earlier lines deviated from typical by {} robust units on average for the exporter, {} for the consignee",
            self.code,
            show(self.base(Feature::exporter_prior_anomaly)),
            show(self.base(Feature::consignee_prior_anomaly))
        )
    }

    fn party_activity(&self) -> String {
        // More active than this share of the batch's lines.
        let share = |f: Feature| format!("{:.0}%", self.base(f) * 100.0);
        let count = |f: Feature| match self.base(f) {
            v if v.is_nan() => "?".to_string(),
            v if v >= sentinel_parties::history::DISTINCT_MAX as f64 => format!("{v:.0}+"),
            v => format!("{v:.0}"),
        };
        let mut s = format!(
            "{}: exporter \"{}\" is more active than the exporters of {} of this batch's lines, with {} consignees, {} HS codes, {} countries",
            self.code,
            self.quoted(Col::UsppiName),
            share(Feature::exporter_run_rank),
            count(Feature::exporter_partners),
            count(Feature::exporter_codes),
            count(Feature::exporter_countries),
        );
        if self.base(Feature::consignee_run_rank).is_finite() {
            s.push_str(&format!(
                "; consignee \"{}\" more than {}, from {} exporters, {} HS codes",
                self.quoted(Col::ConsigneeName),
                share(Feature::consignee_run_rank),
                count(Feature::consignee_partners),
                count(Feature::consignee_codes),
            ));
        }
        s
    }

    fn outcome_record(&self) -> String {
        let outcomes = self.parts.outcomes.as_ref();
        let base = outcomes.map_or(f64::NAN, |o| o.base);
        let hs6 = self.hs6;
        let shown: Vec<String> = self
            .feats
            .iter()
            .take(2)
            .map(|n| match *n {
                "hs_outcome_rate" => {
                    let t = outcomes.and_then(|o| o.hs6.get(hs6)).copied().unwrap_or_default();
                    format!(
                        "HS {hs6}: {} of {} inspected training lines fraudulent ({} smoothed toward its heading)",
                        t.positives,
                        t.labelled,
                        pct(self.val(n))
                    )
                }
                "exporter_outcome_rate" => format!("the exporter's record {}", pct(self.val(n))),
                "consignee_outcome_rate" => format!("the consignee's record {}", pct(self.val(n))),
                other => format!(
                    "{}'s record {}",
                    other.trim_start_matches("extra_").trim_end_matches("_outcome_rate"),
                    pct(self.val(n))
                ),
            })
            .collect();
        format!("{}: {}; base rate {}", self.code, shown.join("; "), pct(base))
    }

    fn residential_address(&self) -> String {
        format!(
            "{}: exporter address \"{}\" looks residential",
            self.code,
            self.quoted(Col::UsppiAddress)
        )
    }

    fn shared_address(&self) -> String {
        let n = self.base(Feature::address_shared_exporters);
        if n.is_nan() {
            return self.missing("exporters at the address", "the exporter's address");
        }
        format!(
            "{}: {n:.0} exporters file from \"{}\"",
            self.code,
            self.quoted(Col::UsppiAddress)
        )
    }

    fn forwarder_consignee(&self) -> String {
        format!(
            "{}: consignee \"{}\" looks like a freight forwarder",
            self.code,
            self.quoted(Col::ConsigneeName)
        )
    }

    fn hub_destination(&self) -> String {
        format!(
            "{}: destination {} is a transshipment hub",
            self.code,
            self.text(Col::ConsigneeCountry)
        )
    }

    fn restricted_destination(&self) -> String {
        format!(
            "{}: destination {} is China or restricted",
            self.code,
            self.text(Col::ConsigneeCountry)
        )
    }

    fn new_consignee(&self) -> String {
        format!(
            "{}: consignee \"{}\" received {:.0} earlier lines",
            self.code,
            self.quoted(Col::ConsigneeName),
            (10f64.powf(self.base(Feature::consignee_prior_lines)) - 1.0).max(0.0)
        )
    }

    fn consignee_type(&self) -> String {
        format!(
            "{}: consignee type {}",
            self.code,
            self.quoted(Col::ConsigneeType)
        )
    }

    fn intermediate_consignee(&self) -> String {
        format!(
            "{}: intermediate consignee \"{}\" in {}",
            self.code,
            self.quoted(Col::IntermediateName),
            self.text(Col::IntermediateCountry)
        )
    }

    fn payer_abroad(&self) -> String {
        format!(
            "{}: paid from {}, consignee in {}",
            self.code,
            self.text(Col::PayerCountry),
            self.text(Col::ConsigneeCountry)
        )
    }

    fn invoice_value_mismatch(&self) -> String {
        let invoice = self.num(Col::InvoiceValueUsd);
        if invoice.is_nan() {
            return self.missing("invoice value", "the invoice value");
        }
        format!(
            "{}: invoice {} against filed {}",
            self.code,
            money(invoice),
            money(self.num(Col::ValueUsd))
        )
    }

    fn invoice_description_mismatch(&self) -> String {
        format!(
            "{}: invoice says \"{}\", filing says \"{}\"",
            self.code,
            self.quoted(Col::InvoiceDescription),
            self.quoted(Col::Description)
        )
    }

    fn amended(&self) -> String {
        let n = self.num(Col::AmendmentCount);
        if n.is_nan() {
            return self.missing("amendments", "the amendment count");
        }
        format!("{}: filing amended {n:.0} times", self.code)
    }

    fn invalid_field(&self) -> String {
        let cols: Vec<&str> = Col::ALL
            .iter()
            .filter(|c| self.b.invalid[self.i] & c.bit() != 0)
            .map(|c| c.name())
            .collect();
        format!("{}: invalid cells emptied: {}", self.code, cols.join(", "))
    }

    fn declared_controlled(&self) -> String {
        format!(
            "{}: declared as {} (HS {})",
            self.code,
            self.decl,
            self.text(Col::HsCode)
        )
    }

    fn shipment_size(&self) -> String {
        let qty = self.num(Col::Quantity);
        let counted = if qty.is_finite() {
            format!("{qty} {}, ", self.quoted(Col::QuantityUnit))
        } else {
            String::new()
        };
        let mut s = format!(
            "{}: {counted}{}, {:.1} kg",
            self.code,
            money(self.num(Col::ValueUsd)),
            self.num(Col::ShippingWeightKg)
        );
        if self.feats.iter().any(|f| {
            [Feature::dev_value, Feature::dev_weight]
                .iter()
                .any(|d| d.name() == *f)
        }) {
            s.push_str(&format!(
                "; typical for {}: {}, {:.1} kg",
                self.typical_for(4),
                money(10f64.powf(self.typical(4)) - 1.0),
                10f64.powf(self.typical(5))
            ));
        }
        s
    }

    fn transport_mode(&self) -> String {
        format!("{}: shipped by {}", self.code, self.text(Col::TransportMode))
    }

    fn unusual(&self) -> String {
        format!(
            "{}: the line as a whole is far from the training lines (isolation forest)",
            self.code
        )
    }

    /// The mapping's columns behind the features, strongest first
    /// (attributions come largest first), each once, with this row's own
    /// value.
    fn extra_feature(&self) -> String {
        let mut cols: Vec<String> = Vec::new();
        for n in self.feats {
            if let Some(c) = extra_cell(self.parts, self.b, self.i, n) {
                if !cols.contains(&c) {
                    cols.push(c);
                }
            }
        }
        let more = cols.len().saturating_sub(3);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        cols.truncate(3);
        format!("{}: {}{more}", self.code, cols.join(", "))
    }
}

/// A share as a percentage: one decimal below 10%.
fn pct(v: f64) -> String {
    if v < 0.1 {
        format!("{:.1}%", v * 100.0)
    } else {
        format!("{:.0}%", v * 100.0)
    }
}

/// "column = value" of row `i` for a feature made from a mapping column.
fn extra_cell(parts: &Parts, b: &Batch, i: usize, feature: &str) -> Option<String> {
    let rest = feature.strip_prefix("extra_")?;
    for (j, (name, _)) in parts.extras.categorical.iter().enumerate() {
        let own = rest
            .strip_prefix(name.as_str())
            .is_some_and(|tail| tail == "_share" || tail.starts_with('='));
        if own {
            let v = b.extra_cat.get(j).map_or("", |c| &c[i]);
            return Some(format!(
                "{} = {}",
                q(name),
                if v.is_empty() { "(empty)".to_string() } else { q(v) }
            ));
        }
    }
    let j = parts.extras.numeric.iter().position(|n| n == rest)?;
    let v = b.extra_num.get(j).map_or(f64::NAN, |c| c[i]);
    Some(format!("{} = {v}", q(rest)))
}

/// Features whose reason sentence states that their fact holds (a flag, a
/// count or a probability): below [`ASSERTED`] (or missing) their sentence
/// would be false.
/// The value from which an assertive feature's fact holds: 1 for a flag or a
/// count, even odds for a probability.
const ASSERTED: f64 = 0.5;

const ASSERTIVE: &[Feature] = &[
    Feature::desc_mismatch,
    Feature::desc_suggests_controlled,
    Feature::hs_unknown,
    Feature::eccn_ear99_on_controlled,
    Feature::eccn_controlled_on_other,
    Feature::licence_nlr_restricted,
    Feature::brand_unknown,
    Feature::brand_other_category,
    Feature::brand_controlled_maker,
    Feature::address_residential,
    Feature::consignee_forwarder,
    Feature::consignee_hub,
    Feature::consignee_restricted,
    Feature::intermediate_present,
    Feature::intermediate_hub,
    Feature::payer_abroad,
    Feature::payer_china,
    Feature::invoice_description_differs,
    Feature::amendment_count,
    Feature::invalid_fields,
    Feature::declared_controlled,
];

/// The strongest evidence for row `i`'s score, at most `max` reasons, from
/// its attributions ([`crate::pipeline::attributions`]).
pub fn explain(
    parts: &Parts,
    ev: &Evidence,
    b: &Batch,
    i: usize,
    attr: &[(&str, f64)],
    max: usize,
) -> Vec<Reason> {
    let mut by_code: Vec<(ReasonCode, f64, Vec<&str>)> = Vec::new();
    for &(name, w) in attr {
        let code = code_of(name);
        match by_code.iter_mut().find(|e| e.0 == code) {
            Some(e) => {
                e.1 += w;
                e.2.push(name);
            }
            None => by_code.push((code, w, vec![name])),
        }
    }
    // A code whose features all assert a fact that does not hold for this
    // row (a flag at 0) would state something false: it is no reason.
    // Nor is likely cargo that agrees with the declaration and is not
    // controlled compute.
    let f = &ev.frame;
    let n_cat = Tables::get().n_categories();
    let (likely, _) = crate::describe::likeliest(&ev.probs[i * n_cat..(i + 1) * n_cat]);
    let likely_says_nothing = likely == ev.declared.category[i] as usize
        && val(f, "likely_controlled", i).partial_cmp(&0.05) != Some(std::cmp::Ordering::Greater);
    by_code.retain(|e| {
        e.1 > 1e-6
            && !e.2.iter().all(|n| {
                ASSERTIVE
                    .iter()
                    .find(|a| a.name() == *n)
                    .is_some_and(|a| f.base(*a)[i].partial_cmp(&ASSERTED).is_none_or(|o| o.is_lt()))
            })
            && !(e.0 == ReasonCode::LikelyGpu && likely_says_nothing)
    });
    by_code.sort_by(|a, b| b.1.total_cmp(&a.1));
    by_code
        .into_iter()
        .take(max)
        .map(|(code, w, feats)| Reason {
            code,
            text: sentence(code, parts, ev, b, i, &feats),
            weight: w,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::OUTCOME_FEATURES;
    use crate::features::{FEATURES, LIKELY_FEATURES};

    #[test]
    fn every_code_has_its_sentence() {
        let (model, b, ev) = crate::test_lines::two_lines();
        let say =
            |code: ReasonCode, i: usize, feats: &[&str]| sentence(code, &model.parts, &ev, &b, i, feats);
        use ReasonCode::*;
        // Sentences made of the line's own cells, exactly.
        let exact = [
            (
                UnknownHs,
                "UNKNOWN_HS: HS 8504409580 is not in the HS nomenclature",
            ),
            (EccnMismatch, "ECCN_MISMATCH: ECCN absent on goods declared as "),
            (
                LicenceMismatch,
                "LICENCE_MISMATCH: licence code C33 with ECCN  to HK",
            ),
            (Brand, "BRAND: brand \"Zentrix\" is not a known brand"),
            (
                ResidentialAddress,
                "RESIDENTIAL_ADDRESS: exporter address \"12 Maple Ave Apt 3, Edison NJ\" looks residential",
            ),
            (
                ForwarderConsignee,
                "FORWARDER_CONSIGNEE: consignee \"Fast Cargo Logistics Ltd\" looks like a freight forwarder",
            ),
            (
                HubDestination,
                "HUB_DESTINATION: destination HK is a transshipment hub",
            ),
            (
                RestrictedDestination,
                "RESTRICTED_DESTINATION: destination HK is China or restricted",
            ),
            (ConsigneeType, "CONSIGNEE_TYPE: consignee type O"),
            (
                IntermediateConsignee,
                "INTERMEDIATE_CONSIGNEE: intermediate consignee \"Apex Freight Pte Ltd\" in SG",
            ),
            (PayerAbroad, "PAYER_ABROAD: paid from CN, consignee in HK"),
            (
                InvoiceValueMismatch,
                "INVOICE_VALUE_MISMATCH: invoice $150k against filed $2400",
            ),
            (
                InvoiceDescriptionMismatch,
                "INVOICE_DESCRIPTION_MISMATCH: invoice says \"GPU module\", filing says \"power adapter\"",
            ),
            (Amended, "AMENDED: filing amended 2 times"),
            (InvalidField, "INVALID_FIELD: invalid cells emptied: "),
            (TransportMode, "TRANSPORT_MODE: shipped by air"),
            (
                Unusual,
                "UNUSUAL: the line as a whole is far from the training lines (isolation forest)",
            ),
            (ExtraFeature, "EXTRA_FEATURE: "),
        ];
        for (code, want) in exact {
            let got = say(code, 0, &[]);
            assert!(
                got.starts_with(want),
                "{code}: {got:?} does not start with {want:?}"
            );
        }
        // Nothing emptied and no mapped column: the sentences end there.
        assert_eq!(
            say(InvalidField, 0, &[]),
            "INVALID_FIELD: invalid cells emptied: "
        );
        assert_eq!(say(ExtraFeature, 0, &["extra_none"]), "EXTRA_FEATURE: ");
        // Sentences with the model's and the history's figures: their shape.
        let shaped = [
            (LikelyGpu, " ("),
            (WeightPerUnit, " kg per unit, typical for "),
            (ValuePerKg, " per kg, typical for "),
            (ValuePerUnit, " per unit, typical for "),
            (WeightPerPackage, " kg per package, typical "),
            (DescriptionMismatch, "description \"power adapter\" suggests "),
            (NewExporter, "exporter's first filing "),
            (NewCategory, "the exporter has no earlier lines"),
            (PartyHistory, "robust units on average for the exporter"),
            (
                PartyActivity,
                "exporter \"Sandkyan Technology LLC\" is more active than the exporters of ",
            ),
            (
                SharedAddress,
                " exporters file from \"12 Maple Ave Apt 3, Edison NJ\"",
            ),
            (
                NewConsignee,
                "consignee \"Fast Cargo Logistics Ltd\" received 0 earlier lines",
            ),
            (DeclaredControlled, "declared as "),
            (ShipmentSize, "8 NO, $2400, 180.0 kg"),
        ];
        for (code, part) in shaped {
            let got = say(code, 0, &[]);
            assert!(got.starts_with(&format!("{code}: ")), "{got:?}");
            assert!(got.contains(part), "{code}: {got:?} lacks {part:?}");
            assert!(!got.contains("NaN"), "{code}: {got:?}");
        }
        let outcome = say(OutcomeRecord, 0, &["exporter_outcome_rate"]);
        assert!(
            outcome.starts_with("OUTCOME_RECORD: the exporter's record "),
            "{outcome:?}"
        );
        assert!(outcome.contains("; base rate "), "{outcome:?}");
        // The plain line lacks the figures: the sentence says which.
        let missing = [
            (
                WeightPerUnit,
                "WEIGHT_PER_UNIT: weight per unit unknown (quantity or weight not given or invalid)",
            ),
            (
                ValuePerUnit,
                "VALUE_PER_UNIT: value per unit unknown (quantity or value not given or invalid)",
            ),
            (
                WeightPerPackage,
                "WEIGHT_PER_PACKAGE: weight per package unknown (packages or weight not given or invalid)",
            ),
            (
                InvoiceValueMismatch,
                "INVOICE_VALUE_MISMATCH: invoice value unknown (the invoice value not given or invalid)",
            ),
            (
                Amended,
                "AMENDED: amendments unknown (the amendment count not given or invalid)",
            ),
            (
                InvalidField,
                "INVALID_FIELD: invalid cells emptied: package_count",
            ),
            (EccnMismatch, "ECCN_MISMATCH: ECCN EAR99 on goods declared as "),
        ];
        for (code, want) in missing {
            let got = say(code, 1, &[]);
            assert!(
                got.starts_with(want),
                "{code}: {got:?} does not start with {want:?}"
            );
        }
        // Every code is covered above.
        let covered: std::collections::HashSet<ReasonCode> = exact
            .iter()
            .chain(&shaped)
            .map(|(c, _)| *c)
            .chain([OutcomeRecord])
            .collect();
        assert_eq!(covered.len(), ReasonCode::ALL.len());
    }

    #[test]
    fn every_feature_has_a_listed_code() {
        for f in FEATURES.iter().chain(LIKELY_FEATURES).chain(OUTCOME_FEATURES) {
            let code = code_of(f.name);
            assert_ne!(code, ReasonCode::ExtraFeature, "{} has no code", f.name);
        }
        assert_eq!(code_of("isolation"), ReasonCode::Unusual);
        assert_eq!(code_of("extra_tariff_rate"), ReasonCode::ExtraFeature);
        assert_eq!(
            code_of("extra_Declarant ID_outcome_rate"),
            ReasonCode::OutcomeRecord
        );
        for f in Feature::ALL {
            assert_eq!(FEATURES[*f as usize].name, f.name());
        }
    }

    #[test]
    fn sums_keep_their_cents_when_small() {
        assert_eq!(money(0.034), "$0.03");
        assert_eq!(money(9.5), "$9.50");
        assert_eq!(money(2768.0), "$2768");
        assert_eq!(money(25_000.0), "$25k");
        assert_eq!(money(5.0e6), "$5.0M");
    }

    #[test]
    fn the_readme_lists_every_code_with_its_meaning() {
        let readme = include_str!("../../../README.md");
        for c in ReasonCode::ALL {
            let line = format!("| `{c}` | {} |", c.meaning());
            assert!(readme.contains(&line), "README lacks: {line}");
        }
    }
}
