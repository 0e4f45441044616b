//! The manifest contract (`datasets/manifest-spec.md`, a copy of
//! `shared/spec/manifest.md`) as data: every canonical column with its
//! presence class and the kind of value it holds. The reader validates
//! against this table; nothing else lists the columns.

/// How a column's absence or invalidity is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Without it nothing can be scored: a file lacking it is refused, a row
    /// with a bad cell is rejected.
    Core,
    /// A normal filing has it; an invalid cell is emptied and counted.
    Expected,
    /// Used when present; an invalid cell is emptied and counted.
    Optional,
    /// Ground truth, only in labelled data; ignored when scoring.
    Truth,
}

/// What a cell must hold to be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Id,
    Text,
    Date,
    Hs,
    Country,
    Mode,
    ConsigneeType,
    Eccn,
    Licence,
    PositiveNumber,
    NonNegativeNumber,
    PositiveInt,
    NonNegativeInt,
    Label,
    Category,
}

impl Kind {
    /// Whether the cell is stored as a number (NaN = empty) rather than text.
    pub fn numeric(self) -> bool {
        matches!(
            self,
            Kind::PositiveNumber
                | Kind::NonNegativeNumber
                | Kind::PositiveInt
                | Kind::NonNegativeInt
                | Kind::Label
                | Kind::Date
        )
    }

    /// What a valid cell looks like, for messages.
    pub fn accepts(self) -> &'static str {
        match self {
            Kind::Id => "a non-empty reference",
            Kind::Text => "text (valid UTF-8, at most 2048 bytes)",
            Kind::Date => "a real date YYYY-MM-DD",
            Kind::Hs => "6 to 10 digits (dots and spaces ignored)",
            Kind::Country => "an ISO 3166-1 alpha-2 code such as SG",
            Kind::Mode => "one of air, vessel, truck, rail, mail",
            Kind::ConsigneeType => "one of D, G, R, O",
            Kind::Eccn => "EAR99 or an ECCN such as 3A090.a",
            Kind::Licence => "a licence code such as C30 or C33",
            Kind::PositiveNumber => "a finite number > 0",
            Kind::NonNegativeNumber => "a finite number >= 0",
            Kind::PositiveInt => "a whole number > 0",
            Kind::NonNegativeInt => "a whole number >= 0",
            Kind::Label => "0 or 1",
            Kind::Category => "a cargo category of the spec",
        }
    }
}

/// One canonical column.
#[derive(Debug)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub presence: Presence,
    pub kind: Kind,
    /// For expected columns: the evidence that is switched off without it.
    pub disables: &'static str,
}

/// Canonical columns, indexable by `Col as usize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Col {
    ShipmentId,
    FilingId,
    ExportDate,
    UsppiName,
    UsppiId,
    UsppiAddress,
    ConsigneeName,
    ConsigneeType,
    ConsigneeCountry,
    IntermediateName,
    IntermediateCountry,
    ForwarderName,
    PortOfExport,
    TransportMode,
    Carrier,
    HsCode,
    Description,
    Brand,
    Eccn,
    LicenseCode,
    Quantity,
    QuantityUnit,
    ValueUsd,
    ShippingWeightKg,
    PackageCount,
    InvoiceDescription,
    InvoiceValueUsd,
    AmendmentCount,
    PayerCountry,
    Label,
    TrueCategory,
    Typology,
}

impl Col {
    pub const ALL: [Col; 32] = [
        Col::ShipmentId,
        Col::FilingId,
        Col::ExportDate,
        Col::UsppiName,
        Col::UsppiId,
        Col::UsppiAddress,
        Col::ConsigneeName,
        Col::ConsigneeType,
        Col::ConsigneeCountry,
        Col::IntermediateName,
        Col::IntermediateCountry,
        Col::ForwarderName,
        Col::PortOfExport,
        Col::TransportMode,
        Col::Carrier,
        Col::HsCode,
        Col::Description,
        Col::Brand,
        Col::Eccn,
        Col::LicenseCode,
        Col::Quantity,
        Col::QuantityUnit,
        Col::ValueUsd,
        Col::ShippingWeightKg,
        Col::PackageCount,
        Col::InvoiceDescription,
        Col::InvoiceValueUsd,
        Col::AmendmentCount,
        Col::PayerCountry,
        Col::Label,
        Col::TrueCategory,
        Col::Typology,
    ];

    pub fn spec(self) -> &'static ColumnSpec {
        &COLUMNS[self as usize]
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn by_name(name: &str) -> Option<Col> {
        Col::ALL.iter().copied().find(|c| c.name() == name)
    }

    /// The bit of this column in a row's invalid-cell mask.
    pub fn bit(self) -> u64 {
        1u64 << (self as u32)
    }
}

macro_rules! col {
    ($name:literal, $p:ident, $k:ident) => {
        col!($name, $p, $k, "")
    };
    ($name:literal, $p:ident, $k:ident, $d:literal) => {
        ColumnSpec {
            name: $name,
            presence: Presence::$p,
            kind: Kind::$k,
            disables: $d,
        }
    };
}

/// The spec's columns, in the order of [`Col`].
pub static COLUMNS: [ColumnSpec; 32] = [
    col!("shipment_id", Core, Id),
    col!("filing_id", Optional, Text),
    col!("export_date", Core, Date),
    col!(
        "usppi_name",
        Expected,
        Text,
        "exporter history (age, filings, usual categories)"
    ),
    col!("usppi_id", Optional, Text),
    col!(
        "usppi_address",
        Expected,
        Text,
        "residential and shared-address evidence"
    ),
    col!(
        "ultimate_consignee_name",
        Expected,
        Text,
        "consignee history and forwarder-as-consignee"
    ),
    col!("ultimate_consignee_type", Optional, ConsigneeType),
    col!(
        "ultimate_consignee_country",
        Expected,
        Country,
        "destination, hub and payer-abroad evidence"
    ),
    col!("intermediate_consignee_name", Optional, Text),
    col!("intermediate_consignee_country", Optional, Country),
    col!("forwarder_name", Optional, Text),
    col!("port_of_export", Optional, Text),
    col!("transport_mode", Expected, Mode, "transport mode evidence"),
    col!("carrier", Optional, Text),
    col!("hs_code", Core, Hs),
    col!(
        "description",
        Expected,
        Text,
        "description-versus-HS-code evidence"
    ),
    col!("brand", Optional, Text),
    col!("eccn", Optional, Eccn),
    col!("license_code", Optional, Licence),
    col!(
        "quantity",
        Expected,
        PositiveNumber,
        "weight per unit and value per unit"
    ),
    col!(
        "quantity_unit",
        Expected,
        Text,
        "unit-aware weight and value per unit"
    ),
    col!("value_usd", Core, NonNegativeNumber),
    col!("shipping_weight_kg", Core, PositiveNumber),
    col!("package_count", Optional, PositiveInt),
    col!("invoice_description", Optional, Text),
    col!("invoice_value_usd", Optional, NonNegativeNumber),
    col!("amendment_count", Optional, NonNegativeInt),
    col!("payer_country", Optional, Country),
    col!("label", Truth, Label),
    col!("true_category", Truth, Category),
    col!("typology", Truth, Text),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_in_enum_order() {
        for (i, c) in Col::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(Col::by_name(c.name()), Some(*c));
        }
    }
}
