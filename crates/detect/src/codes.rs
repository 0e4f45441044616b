//! Reason codes: the stable names a row's evidence is reported under (the
//! README lists each with its meaning). Each feature names its code in the
//! feature tables ([`crate::features`]); [`crate::reasons`] writes each
//! code's sentence.

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
