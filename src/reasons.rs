//! Reasons: a row's largest contributions to its own score, grouped into
//! stable codes, each with a sentence that gives the figures behind it.

use crate::batch::Batch;
use crate::catstats::Group;
use crate::features::Frame;
use crate::model::Parts;
use crate::pipeline::Evidence;
use crate::schema::Col;
use crate::tables::Tables;
use crate::text::{cut, printable};

macro_rules! reason_codes {
    ($($variant:ident => $code:literal, $meaning:literal;)*) => {
        /// A reason code: the stable name a group of features is reported
        /// under (the README lists the same).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ReasonCode {
            $($variant,)*
        }

        impl ReasonCode {
            /// Every code, in the README's order.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant,)*];

            /// The code as written in the output.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ReasonCode::$variant => $code,)*
                }
            }

            /// What the code means.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ReasonCode::$variant => $meaning,)*
                }
            }
        }
    };
}

reason_codes! {
    LikelyGpu => "LIKELY_GPU", "the evidence other than the declaration points to controlled compute";
    WeightPerUnit => "WEIGHT_PER_UNIT", "kg per unit far from what is typical for the declared HS code";
    ValuePerKg => "VALUE_PER_KG", "value per kg far from what is typical for the declared HS code";
    ValuePerUnit => "VALUE_PER_UNIT", "value per unit far from what is typical for the declared HS code";
    WeightPerPackage => "WEIGHT_PER_PACKAGE", "kg per package far from what is typical";
    DescriptionMismatch => "DESCRIPTION_MISMATCH", "the description and the HS code point to different goods";
    UnknownHs => "UNKNOWN_HS", "the HS code is not in the HS nomenclature";
    EccnMismatch => "ECCN_MISMATCH", "the ECCN does not fit the goods";
    LicenceMismatch => "LICENCE_MISMATCH", "no-licence-required on controlled goods to a restricted destination";
    Brand => "BRAND", "the brand is unknown, absent, or belongs to other goods";
    NewExporter => "NEW_EXPORTER", "the exporter is new or has little history";
    NewCategory => "NEW_CATEGORY", "the exporter has not declared these goods before";
    PartyHistory => "PARTY_HISTORY", "the exporter's or consignee's earlier lines were physically odd too";
    PartyActivity => "PARTY_ACTIVITY", "how much of the batch the exporter or consignee files and with how many partners, HS codes and countries";
    OutcomeRecord => "OUTCOME_RECORD", "how often inspected training lines of this HS code (or party, or mapped ID) were found fraudulent";
    ResidentialAddress => "RESIDENTIAL_ADDRESS", "the exporter's address looks residential";
    SharedAddress => "SHARED_ADDRESS", "many exporters file from the same address (a third-party warehouse)";
    ForwarderConsignee => "FORWARDER_CONSIGNEE", "the ultimate consignee looks like a freight forwarder";
    HubDestination => "HUB_DESTINATION", "destination is a transshipment hub";
    RestrictedDestination => "RESTRICTED_DESTINATION", "destination is China or another restricted country";
    NewConsignee => "NEW_CONSIGNEE", "the consignee is new or has little history";
    ConsigneeType => "CONSIGNEE_TYPE", "the consignee type";
    IntermediateConsignee => "INTERMEDIATE_CONSIGNEE", "an intermediate consignee is named";
    PayerAbroad => "PAYER_ABROAD", "payment came from another country than the consignee's";
    InvoiceValueMismatch => "INVOICE_VALUE_MISMATCH", "the invoice value differs from the filed value";
    InvoiceDescriptionMismatch => "INVOICE_DESCRIPTION_MISMATCH", "the invoice describes the goods differently";
    Amended => "AMENDED", "the filing was corrected after submission";
    InvalidField => "INVALID_FIELD", "cells were invalid and emptied by the reader";
    DeclaredControlled => "DECLARED_CONTROLLED", "the declaration itself is of controlled compute";
    ShipmentSize => "SHIPMENT_SIZE", "the quantity, value or weight of the line";
    TransportMode => "TRANSPORT_MODE", "the transport mode";
    Unusual => "UNUSUAL", "the line is unusual overall against the training lines (isolation forest; label-free score)";
    ExtraFeature => "EXTRA_FEATURE", "a column of the mapping's `[features]`";
}

impl std::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The code a feature's evidence is reported under.
pub fn code_of(feature: &str) -> ReasonCode {
    use ReasonCode::*;
    match feature {
        "likely_controlled" | "likely_declared" | "mismatch" => LikelyGpu,
        "log_weight_per_unit" | "dev_weight_per_unit" => WeightPerUnit,
        "log_value_per_kg" | "dev_value_per_kg" => ValuePerKg,
        "log_value_per_unit" | "dev_value_per_unit" => ValuePerUnit,
        "log_weight_per_package" | "dev_weight_per_package" => WeightPerPackage,
        "desc_mismatch" | "desc_suggests_controlled" => DescriptionMismatch,
        "hs_unknown" => UnknownHs,
        "eccn_absent" | "eccn_ear99_on_controlled" | "eccn_controlled_on_other" => EccnMismatch,
        "licence_nlr_restricted" => LicenceMismatch,
        "brand_absent" | "brand_unknown" | "brand_other_category" | "brand_controlled_maker" => Brand,
        "exporter_age_days" | "exporter_prior_lines" => NewExporter,
        "exporter_category_share" | "exporter_new_category" => NewCategory,
        "exporter_prior_anomaly" | "consignee_prior_anomaly" => PartyHistory,
        "address_residential" => ResidentialAddress,
        "address_shared_exporters" => SharedAddress,
        "consignee_forwarder" => ForwarderConsignee,
        "consignee_hub" => HubDestination,
        "consignee_restricted" => RestrictedDestination,
        "consignee_prior_lines" | "consignee_age_days" => NewConsignee,
        "consignee_direct" => ConsigneeType,
        "intermediate_present" | "intermediate_hub" => IntermediateConsignee,
        "payer_abroad" | "payer_china" => PayerAbroad,
        "invoice_value_ratio" => InvoiceValueMismatch,
        "invoice_description_differs" => InvoiceDescriptionMismatch,
        "amendment_count" => Amended,
        "invalid_fields" => InvalidField,
        "declared_controlled" => DeclaredControlled,
        "unit_is_weight" | "unit_is_set" | "log_quantity" | "log_value" | "log_weight" | "dev_value"
        | "dev_weight" => ShipmentSize,
        "mode_air" => TransportMode,
        "exporter_run_rank"
        | "exporter_partners"
        | "exporter_codes"
        | "exporter_countries"
        | "exporter_partners_rank"
        | "exporter_codes_rank"
        | "exporter_countries_rank"
        | "consignee_run_rank"
        | "consignee_partners"
        | "consignee_codes"
        | "consignee_partners_rank"
        | "consignee_codes_rank" => PartyActivity,
        "hs_outcome_rate" | "exporter_outcome_rate" | "consignee_outcome_rate" => OutcomeRecord,
        n if n.starts_with("extra_") && n.ends_with("_outcome_rate") => OutcomeRecord,
        "isolation" => Unusual,
        _ => ExtraFeature,
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

/// The sentence of a code for row `i`.
fn sentence(code: ReasonCode, parts: &Parts, ev: &Evidence, b: &Batch, i: usize, feats: &[&str]) -> String {
    let t = Tables::get();
    let f = &ev.frame;
    let cat = ev.declared.category[i];
    let decl = &t.categories[cat as usize].name;
    let hs6 = &ev.declared.hs6[i];
    let file = b.file.get(i).copied().unwrap_or(0);
    let typical_in = |j: usize| parts.stats.typical_with(ev.batch.as_deref(), file, hs6, cat, j);
    let typical = |j: usize| typical_in(j).0.median;
    // Where a typical figure was learned: the code among its batch peers,
    // the code itself, or what it fell back to.
    let typical_for = |j: usize| match typical_in(j).1 {
        Group::Batch => format!("HS {hs6} in this batch"),
        Group::Code if cat as usize == t.unknown_category() => format!("HS {hs6}"),
        Group::Code => format!("HS {hs6} ({decl})"),
        Group::Heading => format!("HS heading {}", hs6.get(..4).unwrap_or(hs6)),
        Group::Category => format!("{decl} goods"),
        Group::Overall => "all goods".to_string(),
    };
    let n_cat = t.n_categories();
    // A figure the row does not have (its column missing, empty or
    // invalid): the model weighs its absence, and the sentence says so
    // rather than show NaN.
    let missing = |what: &str, from: &str| format!("{code}: {what} unknown ({from} not given or invalid)");
    let figure = |j: usize| ev.declared.physical[j][i];
    use ReasonCode::*;
    match code {
        WeightPerUnit if figure(1).is_nan() => missing("weight per unit", "quantity or weight"),
        ValuePerKg if figure(0).is_nan() => missing("value per kg", "value or weight"),
        ValuePerUnit if figure(2).is_nan() => missing("value per unit", "quantity or value"),
        WeightPerPackage if figure(3).is_nan() => missing("weight per package", "packages or weight"),
        SharedAddress if val(f, "address_shared_exporters", i).is_nan() => {
            missing("exporters at the address", "the exporter's address")
        }
        InvoiceValueMismatch if b.num(Col::InvoiceValueUsd)[i].is_nan() => {
            missing("invoice value", "the invoice value")
        }
        Amended if b.num(Col::AmendmentCount)[i].is_nan() => missing("amendments", "the amendment count"),
        LikelyGpu => {
            let (k, pk) = crate::pipeline::likeliest(&ev.probs[i * n_cat..(i + 1) * n_cat]);
            format!(
                "{code}: the figures, parties and routing point to {} ({:.0}%; controlled compute {:.0}%), declared {decl}",
                t.categories[k].name,
                pk * 100.0,
                val(f, "likely_controlled", i) * 100.0
            )
        }
        WeightPerUnit => format!(
            "{code}: {:.2} kg per unit, typical for {} {:.2} kg",
            10f64.powf(ev.declared.physical[1][i]),
            typical_for(1),
            10f64.powf(typical(1))
        ),
        ValuePerKg => format!(
            "{code}: {} per kg, typical for {} {} per kg",
            money(10f64.powf(ev.declared.physical[0][i])),
            typical_for(0),
            money(10f64.powf(typical(0)))
        ),
        ValuePerUnit => format!(
            "{code}: {} per unit, typical for {} {} per unit",
            money(10f64.powf(ev.declared.physical[2][i])),
            typical_for(2),
            money(10f64.powf(typical(2)))
        ),
        WeightPerPackage => format!(
            "{code}: {:.1} kg per package, typical {:.1} kg",
            10f64.powf(ev.declared.physical[3][i]),
            10f64.powf(typical(3))
        ),
        // A code that names no category has no probability to show.
        DescriptionMismatch if ev.declared.desc_declared[i].is_nan() => format!(
            "{code}: description \"{}\" suggests {}, HS {} is {decl}",
            q(&b.text(Col::Description)[i]),
            t.categories[ev.declared.desc_category[i] as usize].name,
            &b.text(Col::HsCode)[i]
        ),
        DescriptionMismatch => format!(
            "{code}: description \"{}\" suggests {} (P {:.2} that it is not {decl}), HS {}",
            q(&b.text(Col::Description)[i]),
            t.categories[ev.declared.desc_category[i] as usize].name,
            1.0 - ev.declared.desc_declared[i] as f64,
            &b.text(Col::HsCode)[i]
        ),
        UnknownHs => format!(
            "{code}: HS {} is not in the HS nomenclature",
            &b.text(Col::HsCode)[i]
        ),
        EccnMismatch => {
            let e = &b.text(Col::Eccn)[i];
            format!(
                "{code}: ECCN {} on goods declared as {decl}",
                if e.is_empty() { "absent".to_string() } else { q(e) }
            )
        }
        LicenceMismatch => format!(
            "{code}: licence code {} with ECCN {} to {}",
            q(&b.text(Col::LicenseCode)[i]),
            q(&b.text(Col::Eccn)[i]),
            &b.text(Col::ConsigneeCountry)[i]
        ),
        Brand => {
            let brand = &b.text(Col::Brand)[i];
            match t.brand_category(brand) {
                _ if brand.is_empty() => format!("{code}: no brand on goods declared as {decl}"),
                Some(c) => format!(
                    "{code}: brand \"{}\" is known for {}, declared {decl}",
                    q(brand),
                    t.categories[c].name
                ),
                None => format!("{code}: brand \"{}\" is not a known brand", q(brand)),
            }
        }
        NewExporter => format!(
            "{code}: exporter's first filing {:.0} days ago, {:.0} earlier lines",
            val(f, "exporter_age_days", i).max(0.0),
            10f64.powf(val(f, "exporter_prior_lines", i)) - 1.0
        ),
        NewCategory => {
            let share = val(f, "exporter_category_share", i);
            if share.is_nan() {
                format!("{code}: the exporter has no earlier lines")
            } else {
                format!(
                    "{code}: {decl} is {:.0}% of the exporter's earlier lines",
                    share * 100.0
                )
            }
        }
        PartyHistory => {
            let show = |v: f64| {
                if v.is_finite() {
                    format!("{v:.1}")
                } else {
                    "n/a (no earlier lines)".to_string()
                }
            };
            format!(
                "{code}: earlier lines deviated from typical by {} robust units on average for the exporter, {} for the consignee",
                show(val(f, "exporter_prior_anomaly", i)),
                show(val(f, "consignee_prior_anomaly", i))
            )
        }
        PartyActivity => {
            // More active than this share of the batch's lines.
            let share = |name: &str| format!("{:.0}%", val(f, name, i) * 100.0);
            let count = |name: &str| match val(f, name, i) {
                v if v.is_nan() => "?".to_string(),
                v if v >= crate::history::DISTINCT_MAX as f64 => format!("{v:.0}+"),
                v => format!("{v:.0}"),
            };
            let mut s = format!(
                "{code}: exporter \"{}\" is more active than the exporters of {} of this batch's lines, with {} consignees, {} HS codes, {} countries",
                q(&b.text(Col::UsppiName)[i]),
                share("exporter_run_rank"),
                count("exporter_partners"),
                count("exporter_codes"),
                count("exporter_countries"),
            );
            if val(f, "consignee_run_rank", i).is_finite() {
                s.push_str(&format!(
                    "; consignee \"{}\" more than {}, from {} exporters, {} HS codes",
                    q(&b.text(Col::ConsigneeName)[i]),
                    share("consignee_run_rank"),
                    count("consignee_partners"),
                    count("consignee_codes"),
                ));
            }
            s
        }
        OutcomeRecord => {
            let base = parts.outcomes.as_ref().map_or(f64::NAN, |o| o.base);
            let pct = |v: f64| {
                if v < 0.1 {
                    format!("{:.1}%", v * 100.0)
                } else {
                    format!("{:.0}%", v * 100.0)
                }
            };
            let shown: Vec<String> = feats
                .iter()
                .take(2)
                .map(|n| match *n {
                    "hs_outcome_rate" => {
                        let t = parts
                            .outcomes
                            .as_ref()
                            .and_then(|o| o.hs6.get(hs6))
                            .copied()
                            .unwrap_or_default();
                        format!(
                            "HS {hs6}: {} of {} inspected training lines fraudulent ({} smoothed toward its heading)",
                            t.positives,
                            t.labelled,
                            pct(val(f, n, i))
                        )
                    }
                    "exporter_outcome_rate" => format!("the exporter's record {}", pct(val(f, n, i))),
                    "consignee_outcome_rate" => format!("the consignee's record {}", pct(val(f, n, i))),
                    other => format!(
                        "{}'s record {}",
                        other.trim_start_matches("extra_").trim_end_matches("_outcome_rate"),
                        pct(val(f, n, i))
                    ),
                })
                .collect();
            format!("{code}: {}; base rate {}", shown.join("; "), pct(base))
        }
        ResidentialAddress => format!(
            "{code}: exporter address \"{}\" looks residential",
            q(&b.text(Col::UsppiAddress)[i])
        ),
        SharedAddress => format!(
            "{code}: {:.0} exporters file from \"{}\"",
            val(f, "address_shared_exporters", i),
            q(&b.text(Col::UsppiAddress)[i])
        ),
        ForwarderConsignee => format!(
            "{code}: consignee \"{}\" looks like a freight forwarder",
            q(&b.text(Col::ConsigneeName)[i])
        ),
        HubDestination => format!(
            "{code}: destination {} is a transshipment hub",
            &b.text(Col::ConsigneeCountry)[i]
        ),
        RestrictedDestination => format!(
            "{code}: destination {} is China or restricted",
            &b.text(Col::ConsigneeCountry)[i]
        ),
        NewConsignee => format!(
            "{code}: consignee \"{}\" received {:.0} earlier lines",
            q(&b.text(Col::ConsigneeName)[i]),
            (10f64.powf(val(f, "consignee_prior_lines", i)) - 1.0).max(0.0)
        ),
        ConsigneeType => format!("{code}: consignee type {}", q(&b.text(Col::ConsigneeType)[i])),
        IntermediateConsignee => format!(
            "{code}: intermediate consignee \"{}\" in {}",
            q(&b.text(Col::IntermediateName)[i]),
            &b.text(Col::IntermediateCountry)[i]
        ),
        PayerAbroad => format!(
            "{code}: paid from {}, consignee in {}",
            &b.text(Col::PayerCountry)[i],
            &b.text(Col::ConsigneeCountry)[i]
        ),
        InvoiceValueMismatch => format!(
            "{code}: invoice {} against filed {}",
            money(b.num(Col::InvoiceValueUsd)[i]),
            money(b.num(Col::ValueUsd)[i])
        ),
        InvoiceDescriptionMismatch => format!(
            "{code}: invoice says \"{}\", filing says \"{}\"",
            q(&b.text(Col::InvoiceDescription)[i]),
            q(&b.text(Col::Description)[i])
        ),
        Amended => format!(
            "{code}: filing amended {:.0} times",
            b.num(Col::AmendmentCount)[i]
        ),
        InvalidField => {
            let cols: Vec<&str> = Col::ALL
                .iter()
                .filter(|c| b.invalid[i] & c.bit() != 0)
                .map(|c| c.name())
                .collect();
            format!("{code}: invalid cells emptied: {}", cols.join(", "))
        }
        DeclaredControlled => format!("{code}: declared as {decl} (HS {})", &b.text(Col::HsCode)[i]),
        ShipmentSize => {
            let qty = b.num(Col::Quantity)[i];
            let counted = if qty.is_finite() {
                format!("{qty} {}, ", q(&b.text(Col::QuantityUnit)[i]))
            } else {
                String::new()
            };
            let mut s = format!(
                "{code}: {counted}{}, {:.1} kg",
                money(b.num(Col::ValueUsd)[i]),
                b.num(Col::ShippingWeightKg)[i]
            );
            if feats.iter().any(|f| *f == "dev_value" || *f == "dev_weight") {
                s.push_str(&format!(
                    "; typical for {}: {}, {:.1} kg",
                    typical_for(4),
                    money(10f64.powf(typical(4)) - 1.0),
                    10f64.powf(typical(5))
                ));
            }
            s
        }
        TransportMode => format!("{code}: shipped by {}", &b.text(Col::TransportMode)[i]),
        Unusual => format!("{code}: the line as a whole is far from the training lines (isolation forest)"),
        ExtraFeature => {
            // The mapping's columns behind the features, strongest first
            // (attributions come largest first), each once, with this
            // row's own value.
            let mut cols: Vec<String> = Vec::new();
            for n in feats {
                if let Some(c) = extra_cell(parts, b, i, n) {
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
            format!("{code}: {}{more}", cols.join(", "))
        }
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

const ASSERTIVE: &[&str] = &[
    "desc_mismatch",
    "desc_suggests_controlled",
    "hs_unknown",
    "eccn_ear99_on_controlled",
    "eccn_controlled_on_other",
    "licence_nlr_restricted",
    "brand_unknown",
    "brand_other_category",
    "brand_controlled_maker",
    "address_residential",
    "consignee_forwarder",
    "consignee_hub",
    "consignee_restricted",
    "intermediate_present",
    "intermediate_hub",
    "payer_abroad",
    "payer_china",
    "invoice_description_differs",
    "amendment_count",
    "invalid_fields",
    "declared_controlled",
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
    let (likely, _) = crate::pipeline::likeliest(&ev.probs[i * n_cat..(i + 1) * n_cat]);
    let likely_says_nothing = likely == ev.declared.category[i] as usize
        && val(f, "likely_controlled", i).partial_cmp(&0.05) != Some(std::cmp::Ordering::Greater);
    by_code.retain(|e| {
        e.1 > 1e-6
            && !e.2.iter().all(|n| {
                ASSERTIVE.contains(n) && val(f, n, i).partial_cmp(&ASSERTED).is_none_or(|o| o.is_lt())
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
    use crate::features::{FEATURES, LIKELY_FEATURES};
    use crate::outcome::OUTCOME_FEATURES;

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
        for a in ASSERTIVE {
            assert!(FEATURES.iter().any(|f| f.name == *a), "{a} is not a feature");
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
        let readme = include_str!("../README.md");
        for c in ReasonCode::ALL {
            let line = format!("| `{c}` | {} |", c.meaning());
            assert!(readme.contains(&line), "README lacks: {line}");
        }
    }
}
