//! Exporters resolved to entities for their histories, decided point in
//! time: each line's entity uses only what was filed up to its own day, so
//! that daily batches with a party store key a company as one batch of the
//! month does.
//!
//! - A line with an ID is the entity `#ID`, whatever name it is filed under
//!   (the ring that files one ID under four spellings is one exporter).
//! - A line without an ID takes the one ID its normalised name was filed
//!   with at its normalised address, else anywhere, on or before its day
//!   (a day's lines with an ID are counted before its lines without).
//! - A name that two IDs were filed under (at the address, or anywhere when
//!   not there) tells no one's: the line stays its name's own entity, as
//!   does a name no ID was ever filed with.
//!
//! The cases ([`crate::resolve`]) resolve a whole run at once, similar
//! spellings included; histories use only this exact, point-in-time part,
//! which a later batch cannot change.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::batch::Batch;
use crate::history::{Interner, RowKeys, NONE};
use crate::normalize;
use crate::schema::Col;

/// Most IDs an alias keeps: two already make a name ambiguous.
const IDS_MAX: usize = 2;

/// The IDs each exporter name was filed with, anywhere and at each address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Aliases {
    /// Normalised name -> the first [`IDS_MAX`] IDs (sorted) filed under it.
    pub names: BTreeMap<String, Vec<String>>,
    /// [`at_key`] of a name and address -> the IDs filed there under it.
    pub at: BTreeMap<String, Vec<String>>,
}

/// The key of a name at an address in [`Aliases::at`].
pub fn at_key(name: &str, address: &str) -> String {
    format!("{name}|{address}")
}

/// The key of an exporter as filed (normalised name and ID) in
/// [`RowKeys::records`].
pub fn record_key(name: &str, id: &str) -> String {
    format!("{name}|{id}")
}

/// The name and ID of a [`record_key`].
fn split_record(key: &str) -> (&str, &str) {
    key.rsplit_once('|').unwrap_or((key, ""))
}

fn add_id(ids: &mut Vec<String>, id: &str) {
    if ids.len() < IDS_MAX && !ids.iter().any(|x| x == id) {
        ids.push(id.to_string());
        ids.sort();
    }
}

/// The one ID of a set, if it holds exactly one.
fn only(ids: &[String]) -> Option<&str> {
    match ids {
        [one] => Some(one),
        _ => None,
    }
}

/// Resolves each row's exporter ([`RowKeys::record`]) to its entity: fills
/// [`RowKeys::exporter`] and [`RowKeys::exporters`]. `known` holds what
/// earlier runs (the model's profiles, the party store) learned; returns
/// the entries of the run's names and addresses as they stand after it.
pub fn resolve(keys: &mut RowKeys, known: &Aliases) -> Aliases {
    let n = keys.len();
    // Each record's name and ID, interned as numbers for the walk.
    let mut names = Interner::default();
    let mut ids = Interner::default();
    let parts: Vec<(u32, u32)> = keys
        .records
        .list
        .iter()
        .map(|r| {
            let (name, id) = split_record(r);
            (names.id(name), ids.id(id))
        })
        .collect();
    // The run's aliases, each started from what was known when first met.
    let mut by_name: HashMap<u32, Vec<String>> = HashMap::default();
    let mut by_at: HashMap<(u32, u32), Vec<String>> = HashMap::default();
    let address_of = |a: u32| -> &str { keys.addresses.list.get(a as usize).map_or("", String::as_str) };
    let mut entity = vec![NONE; n];
    let mut entities = Interner::default();
    let order = crate::history::date_order(&keys.date);
    let mut start = 0;
    while start < order.len() {
        let day = keys.date[order[start] as usize];
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| keys.date[i as usize] == day)
                .count();
        // The day's lines with an ID first, then those without.
        for with_id in [true, false] {
            for &i in &order[start..end] {
                let i = i as usize;
                let r = keys.record[i];
                if r == NONE {
                    continue;
                }
                let (name, id) = parts[r as usize];
                if (id != NONE) != with_id {
                    continue;
                }
                let name_text = names.list.get(name as usize).map_or("", String::as_str);
                let address = keys.address[i];
                let at = (name, address);
                if !by_name.contains_key(&name) && name != NONE {
                    by_name.insert(name, known.names.get(name_text).cloned().unwrap_or_default());
                }
                if address != NONE && name != NONE && !by_at.contains_key(&at) {
                    let stored = known.at.get(&at_key(name_text, address_of(address)));
                    by_at.insert(at, stored.cloned().unwrap_or_default());
                }
                let key = if id != NONE {
                    let id_text = &ids.list[id as usize];
                    if name != NONE {
                        add_id(by_name.get_mut(&name).expect("started above"), id_text);
                        if let Some(s) = by_at.get_mut(&at) {
                            add_id(s, id_text);
                        }
                    }
                    format!("#{id_text}")
                } else {
                    let here = by_at.get(&at).map(Vec::as_slice).unwrap_or_default();
                    let anywhere = by_name.get(&name).map(Vec::as_slice).unwrap_or_default();
                    let id = if here.is_empty() {
                        only(anywhere)
                    } else {
                        only(here)
                    };
                    match id {
                        Some(id) => format!("#{id}"),
                        None => name_text.to_string(),
                    }
                };
                entity[i] = entities.id(&key);
            }
        }
        start = end;
    }
    let mut after = Aliases::default();
    for (name, v) in by_name {
        after.names.insert(names.list[name as usize].clone(), v);
    }
    for ((name, address), v) in by_at {
        after
            .at
            .insert(at_key(&names.list[name as usize], address_of(address)), v);
    }
    keys.exporter = entity;
    keys.exporters = entities;
    after
}

/// Each line's exporter entity within one batch, from nothing earlier, as
/// text: `#ID`, or the normalised name where no one ID tells whose it is;
/// empty without a name or an ID (what the review desk keys confirmed
/// exporters on across batches).
pub fn of_batch(b: &Batch) -> Vec<String> {
    let (names, ids, addresses) = (
        b.text(Col::UsppiName),
        b.text(Col::UsppiId),
        b.text(Col::UsppiAddress),
    );
    let dates = b.num(Col::ExportDate);
    let mut k = RowKeys::default();
    for i in 0..b.len {
        k.date.push(
            dates
                .get(i)
                .map_or(i32::MIN, |d| if d.is_finite() { *d as i32 } else { i32::MIN }),
        );
        let (name, id) = (normalize::party_name(&names[i]), crate::resolve::id_key(&ids[i]));
        let r = if name.is_empty() && id.is_empty() {
            NONE
        } else {
            k.records.id(&record_key(&name, &id))
        };
        k.record.push(r);
        let a = k.addresses.id(&normalize::address(&addresses[i]));
        k.address.push(a);
    }
    resolve(&mut k, &Aliases::default());
    k.exporter
        .iter()
        .map(|&e| k.exporters.list.get(e as usize).cloned().unwrap_or_default())
        .collect()
}

/// The alias keys a run's rows may read: their names and names at
/// addresses (what a party store loads before [`resolve`]).
pub fn alias_keys(keys: &RowKeys) -> (Vec<String>, Vec<String>) {
    let mut names = std::collections::BTreeSet::new();
    let mut at = std::collections::BTreeSet::new();
    for (i, &r) in keys.record.iter().enumerate() {
        if r == NONE {
            continue;
        }
        let (name, _) = split_record(&keys.records.list[r as usize]);
        if name.is_empty() {
            continue;
        }
        names.insert(name.to_string());
        if let Some(a) = keys.addresses.list.get(keys.address[i] as usize) {
            at.insert(at_key(name, a));
        }
    }
    (names.into_iter().collect(), at.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of rows (day, normalised name, ID, address).
    fn keys(rows: &[(i32, &str, &str, &str)]) -> RowKeys {
        let mut k = RowKeys::default();
        for (day, name, id, address) in rows {
            k.date.push(*day);
            let r = k.records.id(&record_key(name, id));
            k.record.push(r);
            let a = k.addresses.id(address);
            k.address.push(a);
        }
        k
    }

    fn entities_of(k: &RowKeys) -> Vec<&str> {
        k.exporter
            .iter()
            .map(|&e| k.exporters.list.get(e as usize).map_or("", String::as_str))
            .collect()
    }

    #[test]
    fn an_id_joins_its_spellings_and_resolves_later_lines_without_one() {
        let mut k = keys(&[
            (1, "SANDKYAN", "", "1 MAIN ST"),
            (2, "SANDKYAN TECHNOLOGY", "77", "1 MAIN ST"),
            (2, "SANDKYAN TECHNOLOGY", "", "1 MAIN ST"),
            (3, "SANDKYAN TECH", "77", "9 ELM ST"),
            (4, "SANDKYAN TECH", "", "5 OAK ST"),
            (5, "ACME", "", ""),
        ]);
        let learned = resolve(&mut k, &Aliases::default());
        assert_eq!(
            entities_of(&k),
            // The first line had no ID yet to go by; the third counts its
            // day's line with the ID first; the fifth goes by its name
            // anywhere.
            ["SANDKYAN", "#77", "#77", "#77", "#77", "ACME"]
        );
        assert_eq!(learned.names["SANDKYAN TECH"], ["77"]);
        assert_eq!(learned.at[&at_key("SANDKYAN TECHNOLOGY", "1 MAIN ST")], ["77"]);
        assert!(learned.names["ACME"].is_empty());
    }

    #[test]
    fn a_name_two_ids_file_under_stays_apart_unless_its_address_tells() {
        let mut k = keys(&[
            (1, "ORION", "1", "1 MAIN ST"),
            (1, "ORION", "2", "9 ELM ST"),
            (2, "ORION", "", "9 ELM ST"),
            (2, "ORION", "", "5 OAK ST"),
            (3, "ORION", "3", "9 ELM ST"),
            (4, "ORION", "", "9 ELM ST"),
        ]);
        resolve(&mut k, &Aliases::default());
        assert_eq!(entities_of(&k), ["#1", "#2", "#2", "ORION", "#3", "ORION"]);
    }

    #[test]
    fn batches_in_date_order_resolve_as_one_batch() {
        let rows = [
            (1, "ORION", "", "1 MAIN ST"),
            (1, "ORION", "5", "1 MAIN ST"),
            (2, "LYRA", "", "2 ELM ST"),
            (2, "ORION", "", "7 OAK ST"),
            (3, "LYRA", "8", "2 ELM ST"),
            (4, "LYRA", "", "2 ELM ST"),
            (4, "ORION", "6", "7 OAK ST"),
            (5, "ORION", "", "7 OAK ST"),
            (5, "ORION", "", "1 MAIN ST"),
        ];
        let mut whole = keys(&rows);
        resolve(&mut whole, &Aliases::default());
        // Day by day, each batch reading what the earlier ones learned (as
        // the party store keeps it).
        let mut known = Aliases::default();
        let mut daily = Vec::new();
        for day in 1..=5 {
            let part: Vec<_> = rows.iter().copied().filter(|r| r.0 == day).collect();
            let mut k = keys(&part);
            let learned = resolve(&mut k, &known);
            known.names.extend(learned.names);
            known.at.extend(learned.at);
            daily.extend(entities_of(&k).into_iter().map(String::from));
        }
        assert_eq!(entities_of(&whole), daily);
        assert_eq!(daily, ["#5", "#5", "LYRA", "#5", "#8", "#8", "#6", "#6", "#5"]);
    }
}
