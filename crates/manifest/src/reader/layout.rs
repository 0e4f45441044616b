//! Where a file's columns are: the header matched against the schema (and
//! the mapping), with helpful messages when a core column is missing.

use std::collections::HashMap;

use crate::error::InputError;
use crate::mapping::Mapping;
use crate::safe_text::{cut, printable};
use crate::schema::{Col, Presence};

/// Where a file's columns are.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub(super) ncols: usize,
    pub(super) canon: [Option<usize>; 32],
    pub(super) extra_cat: Vec<Option<usize>>,
    pub(super) extra_num: Vec<Option<usize>>,
    pub(super) carry: Vec<Option<usize>>,
    /// The label comes through a mapping: values other than 0 count as 1.
    pub(super) mapped_label: bool,
}

pub(super) fn core_missing_message(
    file: &str,
    header: &[String],
    missing: &[Col],
    mapping: Option<&Mapping>,
) -> String {
    let names: Vec<String> = missing
        .iter()
        .map(|c| match mapping.and_then(|m| m.source_of(*c)) {
            Some(src) => format!("{} (mapped to `{src}`)", c.name()),
            None => c.name().to_string(),
        })
        .collect();
    let mut msg = format!("{file}: missing core column(s) {}", names.join(", "));
    let separated = [(';', "semicolons"), ('\t', "tabs"), ('|', "pipes")]
        .iter()
        .find(|(sep, _)| header.len() == 1 && header[0].contains(*sep));
    let binary = header.iter().any(|h| {
        h.chars()
            .any(|c| c == '\u{fffd}' || (c.is_control() && c != '\t'))
    });
    if binary {
        msg.push_str("; the file does not look like UTF-8 CSV text (binary data?)");
    } else if let Some((_, name)) = separated {
        msg.push_str(&format!(
            "; the header seems to be separated by {name}, but manifests must be comma separated"
        ));
    } else {
        let mut hints = Vec::new();
        for c in missing {
            let target = mapping.and_then(|m| m.source_of(*c)).unwrap_or(c.name());
            if let Some(best) = closest(target, header) {
                hints.push(format!("`{}` for {}", printable(&best), c.name()));
            }
        }
        if !hints.is_empty() {
            msg.push_str(&format!("; closest names present: {}", hints.join(", ")));
        }
    }
    let shown: Vec<String> = header
        .iter()
        .take(40)
        .map(|h| format!("`{}`", printable(&cut(h, 60))))
        .collect();
    msg.push_str(&format!(
        "; columns present: {}",
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        }
    ));
    msg
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The header name closest to `target`, if any is reasonably close.
fn closest(target: &str, header: &[String]) -> Option<String> {
    let t = squash(target);
    header
        .iter()
        .filter(|h| h.len() <= 200)
        .map(|h| {
            let s = squash(h);
            let d = if !s.is_empty() && (s.contains(&t) || t.contains(&s)) {
                1
            } else {
                levenshtein(&t, &s)
            };
            (d, h)
        })
        .filter(|(d, _)| *d <= (t.len() / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, h)| h.clone())
}

pub(super) fn layout_for(
    file: &str,
    header: &[String],
    mapping: Option<&Mapping>,
) -> Result<(Layout, Vec<String>), InputError> {
    let mut pos: HashMap<&str, usize> = HashMap::new();
    let mut carried_dupes = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if pos.insert(h.as_str(), i).is_some() {
            carried_dupes.push(h.clone());
            // keep the first occurrence
            let first = header.iter().position(|x| x == h).unwrap_or(i);
            pos.insert(h.as_str(), first);
        }
    }
    let mut canon = [None; 32];
    let mut used = vec![false; header.len()];
    for c in Col::ALL {
        let src = match mapping.and_then(|m| m.source_of(c)) {
            Some(s) => Some(s),
            None if c == Col::Label && mapping.is_some_and(|m| m.label.is_some()) => None,
            None => Some(c.name()),
        };
        if let Some(s) = src {
            if let Some(&i) = pos.get(s) {
                if carried_dupes.iter().any(|d| d == s) {
                    return Err(InputError::Layout(format!("{file}: column `{s}` appears more than once in the header; which one holds {} is ambiguous", c.name())));
                }
                canon[c as usize] = Some(i);
                used[i] = true;
            }
        }
    }
    let missing: Vec<Col> = Col::ALL
        .iter()
        .copied()
        .filter(|c| c.spec().presence == Presence::Core && canon[*c as usize].is_none())
        .collect();
    if !missing.is_empty() {
        return Err(InputError::Layout(core_missing_message(
            file, header, &missing, mapping,
        )));
    }
    let feature_pos = |names: &[String]| -> Vec<Option<usize>> {
        names.iter().map(|n| pos.get(n.as_str()).copied()).collect()
    };
    let (extra_cat, extra_num) = match mapping {
        Some(m) => (
            feature_pos(&m.features.categorical),
            feature_pos(&m.features.numeric),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let carry: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| !used[*i])
        .map(|(_, h)| h.clone())
        .collect();
    let mapped_label = mapping.is_some_and(|m| m.label.is_some());
    Ok((
        Layout {
            ncols: header.len(),
            canon,
            extra_cat,
            extra_num,
            carry: Vec::new(),
            mapped_label,
        },
        carry,
    ))
}

pub(super) fn header_names(raw: &csv::ByteRecord) -> Vec<String> {
    raw.iter()
        .enumerate()
        .map(|(i, f)| {
            let s = String::from_utf8_lossy(f);
            let s = if i == 0 {
                s.trim_start_matches('\u{feff}').to_string()
            } else {
                s.into_owned()
            };
            s.trim_matches(' ').to_string()
        })
        .collect()
}
