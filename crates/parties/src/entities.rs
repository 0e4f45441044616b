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

use rustc_hash::FxHashMap as HashMap;

use crate::keys::{at_key, record, split_record, Aliases, Interner, PartyId, RowKeys};
use crate::normalize;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;

/// Most IDs an alias keeps: two already make a name ambiguous.
const IDS_MAX: usize = 2;

/// Adds an ID to an alias's first [`IDS_MAX`].
fn add_id(ids: &mut Vec<PartyId>, id: PartyId) {
    if ids.len() < IDS_MAX && !ids.contains(&id) {
        ids.push(id);
    }
}

/// The one ID of a set, if it holds exactly one.
fn only(ids: &[PartyId]) -> Option<PartyId> {
    match ids {
        [one] => Some(*one),
        _ => None,
    }
}

/// An alias of the run, started from what was known when first met.
fn alias<'m, 'k, K: std::hash::Hash + Eq>(
    map: &'m mut HashMap<K, Vec<PartyId>>,
    key: K,
    known: impl FnOnce() -> Option<&'k Vec<String>>,
    ids: &mut Interner,
) -> &'m mut Vec<PartyId> {
    map.entry(key).or_insert_with(|| {
        known()
            .map(|v| v.iter().filter_map(|i| ids.id(i)).collect())
            .unwrap_or_default()
    })
}

/// The entity of the ID or name `i` (its place in `cache`), interned in
/// `entities` as `key()` when first needed.
fn entity_of(
    cache: &mut Vec<Option<PartyId>>,
    i: PartyId,
    entities: &mut Interner,
    key: impl FnOnce() -> String,
) -> Option<PartyId> {
    let i = i.index();
    if cache.len() <= i {
        cache.resize(i + 1, None);
    }
    if cache[i].is_none() {
        cache[i] = entities.id(&key());
    }
    cache[i]
}

/// Resolves each row's exporter ([`RowKeys::record`]) to its entity: fills
/// [`RowKeys::exporter`] and [`RowKeys::exporters`], and keeps in
/// [`RowKeys::learned`] the entries of the run's names and addresses as
/// they stand after it. `known` holds what earlier runs (the model's
/// profiles, the party store) learned.
pub fn resolve(keys: &mut RowKeys, known: &Aliases) {
    keys.learned = resolved(keys, known);
    keys.resolved = true;
}

/// Whose a line is: the entity of an ID, or its name's own.
enum Whose {
    Id(PartyId),
    Name(PartyId),
}

fn resolved(keys: &mut RowKeys, known: &Aliases) -> Aliases {
    // Each record's name and ID, interned as numbers for the walk; the
    // aliases hold interned IDs, and each ID and name its entity's number.
    let mut names = Interner::default();
    let mut ids = Interner::default();
    let parts: Vec<(Option<PartyId>, Option<PartyId>)> = keys
        .records
        .list
        .iter()
        .map(|r| {
            let (name, id) = split_record(r);
            (names.id(name), ids.id(id))
        })
        .collect();
    let address_of = |a: PartyId| -> &str { keys.addresses.key(a) };
    let mut by_name: HashMap<PartyId, Vec<PartyId>> = HashMap::default();
    let mut by_at: HashMap<(PartyId, PartyId), Vec<PartyId>> = HashMap::default();
    let mut entities = Interner::default();
    let (mut of_id, mut of_name) = (Vec::new(), Vec::new());
    let mut entity = vec![None; keys.len()];
    let order = crate::keys::date_order(&keys.date);
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
                let Some(&(name, id)) = keys.record[i].map(|r| &parts[r.index()]) else {
                    continue;
                };
                if id.is_some() != with_id {
                    continue;
                }
                let text = |n: PartyId| names.key(n);
                let address = keys.address[i];
                let whose = match (id, name) {
                    (Some(id), name) => {
                        if let Some(name) = name {
                            add_id(
                                alias(&mut by_name, name, || known.names.get(text(name)), &mut ids),
                                id,
                            );
                            if let Some(address) = address {
                                let at = || known.at.get(&at_key(text(name), address_of(address)));
                                add_id(alias(&mut by_at, (name, address), at, &mut ids), id);
                            }
                        }
                        Whose::Id(id)
                    }
                    // A record without an ID has a name.
                    (None, None) => continue,
                    (None, Some(name)) => {
                        let anywhere = only(alias(
                            &mut by_name,
                            name,
                            || known.names.get(text(name)),
                            &mut ids,
                        ));
                        // The address tells when any ID was filed there, else the name.
                        let here = address
                            .map(|address| {
                                let at = || known.at.get(&at_key(text(name), address_of(address)));
                                alias(&mut by_at, (name, address), at, &mut ids)
                            })
                            .filter(|v| !v.is_empty())
                            .map(|v| only(v));
                        here.unwrap_or(anywhere).map_or(Whose::Name(name), Whose::Id)
                    }
                };
                entity[i] = match whose {
                    Whose::Id(id) => entity_of(&mut of_id, id, &mut entities, || format!("#{}", ids.key(id))),
                    Whose::Name(name) => {
                        entity_of(&mut of_name, name, &mut entities, || text(name).to_string())
                    }
                };
            }
        }
        start = end;
    }
    let texts = |v: Vec<PartyId>| {
        let mut t: Vec<String> = v.into_iter().map(|i| ids.key(i).to_string()).collect();
        t.sort();
        t
    };
    let mut after = Aliases::default();
    for (name, v) in by_name {
        after.names.insert(names.key(name).to_string(), texts(v));
    }
    for ((name, address), v) in by_at {
        after
            .at
            .insert(at_key(names.key(name), address_of(address)), texts(v));
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
    let mut k = RowKeys::default();
    for i in 0..b.len {
        k.date.push(b.num(Col::ExportDate)[i] as i32);
        let r = record(&mut k.records, &names[i], &ids[i]);
        k.record.push(r);
        let a = k.addresses.id(&normalize::address(&addresses[i]));
        k.address.push(a);
    }
    resolve(&mut k, &Aliases::default());
    k.exporter
        .iter()
        .map(|&e| e.map(|e| k.exporters.key(e).to_string()).unwrap_or_default())
        .collect()
}

/// The alias keys a run's rows may read: their names and names at
/// addresses (what a party store loads before [`resolve`]).
pub fn alias_keys(keys: &RowKeys) -> (Vec<String>, Vec<String>) {
    let pairs: std::collections::BTreeSet<(PartyId, Option<PartyId>)> = keys
        .record
        .iter()
        .zip(&keys.address)
        .filter_map(|(r, a)| Some(((*r)?, *a)))
        .collect();
    let mut names = std::collections::BTreeSet::new();
    let mut at = std::collections::BTreeSet::new();
    for (r, a) in pairs {
        let (name, _) = split_record(keys.records.key(r));
        if name.is_empty() {
            continue;
        }
        names.insert(name.to_string());
        if let Some(a) = a.map(|a| keys.addresses.key(a)) {
            at.insert(at_key(name, a));
        }
    }
    (names.into_iter().collect(), at.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::record_key;

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
            .map(|&e| e.map_or("", |e| k.exporters.key(e)))
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
        resolve(&mut k, &Aliases::default());
        let learned = k.learned.clone();
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
            resolve(&mut k, &known);
            let learned = k.learned.clone();
            known.names.extend(learned.names);
            known.at.extend(learned.at);
            daily.extend(entities_of(&k).into_iter().map(String::from));
        }
        assert_eq!(entities_of(&whole), daily);
        assert_eq!(daily, ["#5", "#5", "LYRA", "#5", "#8", "#8", "#6", "#6", "#5"]);
    }
}
