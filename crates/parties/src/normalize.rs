//! Normalisation of party names and addresses before anything counts or
//! groups by them: "Apex Technologies, L.L.C." and "APEX TECHNOLOGIES LLC"
//! are one exporter; "700 Meadowlands Parkway, Suite 4" and
//! "700 MEADOWLANDS PKWY STE 12" are one building.

use sentinel_manifest::tables::Tables;

/// Street words and their abbreviations.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("STREET", "ST"),
    ("AVENUE", "AVE"),
    ("AV", "AVE"),
    ("DRIVE", "DR"),
    ("ROAD", "RD"),
    ("PARKWAY", "PKWY"),
    ("BOULEVARD", "BLVD"),
    ("LANE", "LN"),
    ("COURT", "CT"),
    ("CIRCLE", "CIR"),
    ("TERRACE", "TER"),
    ("PLACE", "PL"),
    ("HIGHWAY", "HWY"),
    ("NORTH", "N"),
    ("SOUTH", "S"),
    ("EAST", "E"),
    ("WEST", "W"),
    ("SAINT", "ST"),
    ("MOUNT", "MT"),
];

/// Words that introduce a unit number, dropped together with the number.
const UNIT_WORDS: &[&str] = &[
    "SUITE",
    "STE",
    "UNIT",
    "APT",
    "APARTMENT",
    "ROOM",
    "RM",
    "FLOOR",
    "FL",
    "BLDG",
    "DOCK",
    "BAY",
];

/// Upper-cases, turns punctuation into spaces (dropping dots inside
/// abbreviations such as L.L.C.), and splits into words. Control characters
/// and anything that is not a letter or a digit separate words.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in s.chars() {
        if ch.is_alphanumeric() {
            cur.extend(ch.to_uppercase());
        } else if ch == '.' || ch == '\'' {
            // "L.L.C." -> "LLC", "O'Neil" -> "ONEIL"
        } else if ch == '#' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            out.push("#".into());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether an upper-case word is a legal form ("LTD", "LLC", "GMBH", ...:
/// `datasets/legal_forms.csv`).
pub fn is_legal_form(word: &str) -> bool {
    Tables::get().is_legal_form(word)
}

/// The legal-form words, upper case (`datasets/legal_forms.csv`).
pub fn legal_forms() -> &'static [String] {
    &Tables::get().legal_forms
}

/// Normalised party name: upper case, no punctuation, no legal forms, and
/// "&" read as "AND". Empty when nothing remains.
pub fn party_name(s: &str) -> String {
    let replaced = s.replace('&', " AND ");
    let w = words(&replaced);
    let kept: Vec<&str> = w
        .iter()
        .map(String::as_str)
        .filter(|x| !is_legal_form(x) && *x != "#")
        .collect();
    // A name made only of legal forms ("The Company") keeps its words.
    if kept.is_empty() {
        return w.join(" ");
    }
    kept.join(" ")
}

/// A party abroad keyed with its country: `NAME|CC` from its normalised
/// name, empty when the name normalises to nothing (the consignees' and
/// intermediates' keys).
pub fn party_abroad(name: &str, country: &str) -> String {
    let n = party_name(name);
    if n.is_empty() {
        n
    } else {
        format!("{n}|{country}")
    }
}

/// Normalised address: upper case, no punctuation, common abbreviations,
/// suite/unit/apartment numbers removed.
pub fn address(s: &str) -> String {
    let w = words(s);
    let mut out: Vec<&str> = Vec::with_capacity(w.len());
    let mut skip_next = false;
    for x in &w {
        if skip_next {
            skip_next = false;
            continue;
        }
        if UNIT_WORDS.contains(&x.as_str()) || x == "#" {
            skip_next = true;
            continue;
        }
        let abbr = ABBREVIATIONS
            .iter()
            .find(|(long, _)| long == x)
            .map(|(_, short)| *short);
        out.push(abbr.unwrap_or(x));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_case_punctuation_and_legal_forms() {
        assert_eq!(party_name("Apex Technologies, L.L.C."), "APEX TECHNOLOGIES");
        assert_eq!(party_name("APEX TECHNOLOGIES LLC"), "APEX TECHNOLOGIES");
        assert_eq!(party_name("  apex   technologies inc. "), "APEX TECHNOLOGIES");
        assert_eq!(
            party_name("Lion Harbour Logistics Pte. Ltd."),
            "LION HARBOUR LOGISTICS"
        );
        assert_eq!(party_name("A&B Trading"), "A AND B TRADING");
        assert_eq!(party_name("<script>x</script>"), "SCRIPT X SCRIPT");
        assert_eq!(party_name(""), "");
        assert_eq!(party_abroad("Lion Harbour Pte. Ltd.", "SG"), "LION HARBOUR|SG");
        assert_eq!(party_abroad("  ", "SG"), "");
    }

    #[test]
    fn addresses_share_a_form() {
        let a = address("700 Meadowlands Parkway, Suite 4, Secaucus NJ");
        let b = address("700 MEADOWLANDS PKWY STE 12 SECAUCUS, NJ");
        let c = address("700 Meadowlands Pkwy. #3B, Secaucus NJ");
        assert_eq!(a, "700 MEADOWLANDS PKWY SECAUCUS NJ");
        assert_eq!(a, b);
        assert_eq!(a, c);
    }
}
