//! Column-mapping files (TOML): how another layout (a customs agency's own
//! export, another country's declaration form) maps onto the canonical
//! columns, which column is the label, which further columns are features,
//! and how dates, values and weights convert.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::InputError;
use crate::schema::{Col, Presence};

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Canonical column -> the user's column that holds it.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub label: Option<LabelSpec>,
    #[serde(default)]
    pub features: ExtraFeatures,
    #[serde(default)]
    pub convert: Convert,
    /// The country of the party that files (`usppi_name`'s), an ISO code,
    /// when the layout's filers are all of one country (an import form's
    /// importers); unknown when absent. Restricted-party screening reads
    /// it as that party's country. (The spec's own layout: the U.S.)
    #[serde(default)]
    pub filer_country: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    /// The user's label column; values other than 0 count as 1.
    pub column: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExtraFeatures {
    /// The user's categorical columns, used by the models as they are.
    #[serde(default)]
    pub categorical: Vec<String>,
    /// The user's numeric columns (a non-number becomes empty).
    #[serde(default)]
    pub numeric: Vec<String>,
    /// Categorical columns (listed in `categorical` too) whose values'
    /// inspection outcomes in training become a feature: IDs of parties or
    /// offices whose record carries over from one period to the next.
    #[serde(default)]
    pub outcome: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Convert {
    /// strftime subset (%Y %m %d %y); default `%Y-%m-%d`.
    #[serde(default)]
    pub date_format: Option<String>,
    /// Multiplies values into USD; default 1.
    #[serde(default = "one")]
    pub value_factor: f64,
    /// Multiplies weights into kg; default 1 (0.4536 for lb).
    #[serde(default = "one")]
    pub weight_factor: f64,
}

fn one() -> f64 {
    1.0
}

impl Default for Convert {
    fn default() -> Self {
        Convert {
            date_format: None,
            value_factor: 1.0,
            weight_factor: 1.0,
        }
    }
}

impl Mapping {
    /// Reads and checks a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::Mapping(format!("{}: cannot read mapping file: {e}", path.display())))?;
        Mapping::parse(&text).map_err(|e| InputError::Mapping(format!("{}: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Mapping, String> {
        let m: Mapping = toml::from_str(text).map_err(|e| format!("not a valid mapping file: {e}"))?;
        for name in m.columns.keys() {
            match Col::by_name(name) {
                None => {
                    let valid: Vec<&str> = Col::ALL
                        .iter()
                        .filter(|c| c.spec().presence != Presence::Truth)
                        .map(|c| c.name())
                        .collect();
                    return Err(format!(
                        "[columns] names `{name}`, which is not a canonical column; valid names: {}",
                        valid.join(", ")
                    ));
                }
                Some(Col::Label) => {
                    return Err("map the label with [label] column = \"...\", not in [columns]".into())
                }
                Some(_) => {}
            }
        }
        for (what, f) in [
            ("value_factor", m.convert.value_factor),
            ("weight_factor", m.convert.weight_factor),
        ] {
            if !(f.is_finite() && f > 0.0) {
                return Err(format!("[convert] {what} = {f} must be a finite number > 0"));
            }
        }
        if let Some(c) = m
            .features
            .outcome
            .iter()
            .find(|c| !m.features.categorical.contains(c))
        {
            return Err(format!(
                "[features] outcome names `{c}`, which is not in [features] categorical"
            ));
        }
        if let Some(fmt) = &m.convert.date_format {
            if !(fmt.contains("%Y") || fmt.contains("%y")) || !fmt.contains("%m") || !fmt.contains("%d") {
                return Err(format!(
                    "[convert] date_format `{fmt}` must contain %Y (or %y), %m and %d"
                ));
            }
        }
        Ok(m)
    }

    /// The user's column name for a canonical column, if the mapping names one.
    pub fn source_of(&self, col: Col) -> Option<&str> {
        if col == Col::Label {
            return self.label.as_ref().map(|l| l.column.as_str());
        }
        self.columns.get(col.name()).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_example_parses() {
        let m = Mapping::parse(include_str!("../../../datasets/mapping-example.toml")).unwrap();
        assert_eq!(m.source_of(Col::ShipmentId), Some("Declaration ID"));
        assert_eq!(m.source_of(Col::Label), Some("Fraud"));
        assert_eq!(m.features.categorical.len(), 3);
    }

    #[test]
    fn typos_and_bad_factors_are_refused() {
        assert!(Mapping::parse("[columns]\nshipment = \"x\"\n")
            .unwrap_err()
            .contains("not a canonical column"));
        assert!(Mapping::parse("[colums]\n").is_err());
        assert!(Mapping::parse("[convert]\nvalue_factor = 0.0\n")
            .unwrap_err()
            .contains("> 0"));
        assert!(Mapping::parse("[convert]\ndate_format = \"%Y\"\n").is_err());
        let e = Mapping::parse("[features]\ncategorical = [\"Office\"]\noutcome = [\"Declarant ID\"]\n")
            .unwrap_err();
        assert!(e.contains("`Declarant ID`") && e.contains("categorical"), "{e}");
        assert!(Mapping::parse("[features]\ncategorical = [\"Office\"]\noutcome = [\"Office\"]\n").is_ok());
    }
}
