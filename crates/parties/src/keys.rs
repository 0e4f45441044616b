//! Each row's party keys: the exporter as filed, the consignee, the
//! address and the intermediate, interned so that a run of millions of
//! rows holds each text once, with the declared category, HS code and
//! country that histories count. [`crate::entities`] resolves the
//! exporters to entities; [`crate::history`] walks the keys in date order.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::normalize;
use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;
use sentinel_manifest::strcol::StrCol;

/// A stable 32-bit hash (FNV-1a) of a key text: profiles keep hashes of
/// what a party dealt with, which must mean the same in every run and
/// build.
pub fn key_hash(s: &str) -> u32 {
    let mut h = sentinel_manifest::hash::Fnv32::new();
    h.bytes(s.as_bytes());
    h.0
}

/// A party's number in a run: its place in an [`Interner`]'s list. A row
/// that names no such party holds `None`; `Option<PartyId>` takes 4 bytes,
/// as the number alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyId(NonZeroU32);

impl PartyId {
    /// The id of the list's `index`-th key.
    pub fn new(index: usize) -> PartyId {
        let n = u32::try_from(index + 1).ok().and_then(NonZeroU32::new);
        PartyId(n.expect("fewer than 4 billion distinct parties in a run"))
    }

    /// Its place in the interner's list.
    pub fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// The hash of a key text a row does not give (no destination country).
pub const NO_HASH: u32 = u32::MAX;

/// Interned party keys: each distinct normalised text gets a number, so a
/// run of millions of rows holds each name once.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    map: HashMap<String, PartyId>,
    pub list: Vec<String>,
}

impl Interner {
    /// The key's id; `None` for an empty key.
    pub fn id(&mut self, key: &str) -> Option<PartyId> {
        if key.is_empty() {
            return None;
        }
        if let Some(&i) = self.map.get(key) {
            return Some(i);
        }
        let i = PartyId::new(self.list.len());
        self.list.push(key.to_string());
        self.map.insert(key.to_string(), i);
        Some(i)
    }

    /// The key of an id.
    pub fn key(&self, id: PartyId) -> &str {
        &self.list[id.index()]
    }
}

/// The keys of each row that histories are about.
#[derive(Debug, Clone, Default)]
pub struct RowKeys {
    pub date: Vec<i32>,
    /// The exporter as filed: its normalised name and ID
    /// ([`record_key`]), `None` with neither.
    pub record: Vec<Option<PartyId>>,
    /// The exporter's entity ([`crate::entities::resolve`]): empty until
    /// resolved, which `history::compute` and `history::features` do
    /// first. `None` for a row with neither name nor ID.
    pub exporter: Vec<Option<PartyId>>,
    pub consignee: Vec<Option<PartyId>>,
    pub address: Vec<Option<PartyId>>,
    /// The intermediate consignee (name and country): not part of any
    /// history, kept for the run's cases.
    pub intermediate: Vec<Option<PartyId>>,
    pub category: Vec<u8>,
    /// Hashes ([`key_hash`]) of the HS6 code and the destination country
    /// ([`NO_HASH`] without one).
    pub code: Vec<u32>,
    pub country: Vec<u32>,
    /// Inspection outcome of each row (1 fraud, 0 cleared, NaN unknown):
    /// filled by training only and empty otherwise, so a scored batch's own
    /// labels never count and scoring holds no column for them.
    pub label: Vec<f32>,
    /// How far the line's physical figures are from typical (NaN when unknown).
    pub anomaly: Vec<f32>,
    pub records: Interner,
    /// Set by [`RowKeys::resolve`]: whether [`RowKeys::exporter`] is
    /// filled, and the aliases of the run's names as they stand after it.
    pub resolved: bool,
    pub learned: Aliases,
    pub exporters: Interner,
    pub consignees: Interner,
    pub addresses: Interner,
    pub intermediates: Interner,
    exporter_memo: Memo,
    consignee_memo: Memo,
    address_memo: Memo,
    intermediate_memo: Memo,
}

/// Raw party texts already seen in the run, with the ids their normalised
/// forms were given: parties repeat across the whole run (a million
/// generated lines hold about 74,000 distinct party texts, but 750,000
/// distinct within their chunks), so each is normalised once a run. It
/// forgets everything when it would pass [`MEMO_MAX`] bytes, which bounds
/// its memory whatever the run holds; the ids stay the interners'.
#[derive(Debug, Clone)]
struct Memo {
    map: HashMap<Box<[u8]>, Option<PartyId>>,
    key: Vec<u8>,
    /// Bytes held (texts and [`MEMO_ENTRY`] per text), and the most it holds.
    bytes: usize,
    max: usize,
}

/// Bytes a [`Memo`] holds at most.
const MEMO_MAX: usize = 64 << 20;

/// A memo entry's bytes besides its text, about: the table's slot (24) and
/// spare room, the allocation's header.
const MEMO_ENTRY: usize = 48;

impl Default for Memo {
    fn default() -> Memo {
        Memo {
            map: HashMap::default(),
            key: Vec::new(),
            bytes: 0,
            max: MEMO_MAX,
        }
    }
}

impl Memo {
    /// The id of the texts `a` and `b`, made by `make` when not yet seen.
    fn id(&mut self, a: &str, b: &str, make: impl FnOnce() -> Option<PartyId>) -> Option<PartyId> {
        // The first text's length keeps ("ab", "c") apart from ("a", "bc").
        self.key.clear();
        self.key.extend_from_slice(&(a.len() as u64).to_le_bytes());
        self.key.extend_from_slice(a.as_bytes());
        self.key.extend_from_slice(b.as_bytes());
        if let Some(&v) = self.map.get(self.key.as_slice()) {
            return v;
        }
        let v = make();
        let size = self.key.len() + MEMO_ENTRY;
        if self.bytes + size > self.max {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        self.map.insert(self.key.as_slice().into(), v);
        v
    }
}

impl RowKeys {
    /// Keys of a batch's rows: normalised names and addresses, declared category.
    pub fn from_batch(b: &Batch, category: &[u8], hs6: &StrCol, anomaly: &[f64]) -> RowKeys {
        let mut k = RowKeys::default();
        k.append(b, category, hs6, anomaly);
        k
    }

    /// Appends a chunk's keys (chunks in input order).
    pub fn append(&mut self, b: &Batch, category: &[u8], hs6: &StrCol, anomaly: &[f64]) {
        let names = b.text(Col::UsppiName);
        let ids = b.text(Col::UsppiId);
        let cons = b.text(Col::ConsigneeName);
        let country = b.text(Col::ConsigneeCountry);
        let addr = b.text(Col::UsppiAddress);
        let (inter, inter_country) = (b.text(Col::IntermediateName), b.text(Col::IntermediateCountry));
        for i in 0..b.len {
            self.date.push(b.num(Col::ExportDate)[i] as i32);
            let records = &mut self.records;
            let e = self
                .exporter_memo
                .id(&names[i], &ids[i], || record(records, &names[i], &ids[i]));
            self.record.push(e);
            let consignees = &mut self.consignees;
            let c = self.consignee_memo.id(&cons[i], &country[i], || {
                consignees.id(&normalize::party_abroad(&cons[i], &country[i]))
            });
            self.consignee.push(c);
            let addresses = &mut self.addresses;
            let a = self
                .address_memo
                .id(&addr[i], "", || addresses.id(&normalize::address(&addr[i])));
            self.address.push(a);
            let intermediates = &mut self.intermediates;
            let m = self.intermediate_memo.id(&inter[i], &inter_country[i], || {
                intermediates.id(&normalize::party_abroad(&inter[i], &inter_country[i]))
            });
            self.intermediate.push(m);
            self.category.push(category[i]);
            self.code.push(key_hash(&hs6[i]));
            self.country.push(if country[i].is_empty() {
                NO_HASH
            } else {
                key_hash(&country[i])
            });
            self.anomaly.push(anomaly[i] as f32);
        }
    }

    pub fn len(&self) -> usize {
        self.date.len()
    }

    pub fn is_empty(&self) -> bool {
        self.date.is_empty()
    }
}

/// The IDs each exporter name was filed with, anywhere and at each address.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Aliases {
    /// Normalised name -> the first `IDS_MAX` ([`crate::entities`]) IDs (sorted) filed under it.
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
pub(crate) fn split_record(key: &str) -> (&str, &str) {
    key.rsplit_once('|').unwrap_or((key, ""))
}

/// The record of an exporter as filed (its name and ID cells), interned in
/// `records`: `None` when neither says anything.
pub fn record(records: &mut Interner, name: &str, id: &str) -> Option<PartyId> {
    let (name, id) = (normalize::party_name(name), crate::resolve::id_key(id));
    if name.is_empty() && id.is_empty() {
        None
    } else {
        records.id(&record_key(&name, &id))
    }
}

/// Row indices by date, ties in input order: each date and index packed in
/// one integer (all distinct, ordered as the pairs are), sorted without
/// looking dates up.
pub fn date_order(dates: &[i32]) -> Vec<u32> {
    let mut packed: Vec<u64> = dates
        .iter()
        .enumerate()
        .map(|(i, &d)| (u64::from(d as u32 ^ 1 << 31) << 32) | i as u64)
        .collect();
    packed.sort_unstable();
    packed.into_iter().map(|p| p as u32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_tells_text_pairs_apart_and_forgets_at_its_limit() {
        // Room for three keys of 8 + 3 bytes.
        let mut m = Memo {
            max: 3 * (11 + MEMO_ENTRY),
            ..Memo::default()
        };
        let mut made = 0;
        let mut id = |m: &mut Memo, a: &str, b: &str| {
            let id = m.id(a, b, || {
                made += 1;
                Some(PartyId::new(made))
            });
            id.map_or(0, PartyId::index)
        };
        assert_eq!(id(&mut m, "ab", "c"), 1);
        assert_eq!(id(&mut m, "a", "bc"), 2);
        assert_eq!(id(&mut m, "abc", ""), 3);
        assert_eq!(id(&mut m, "ab", "c"), 1);
        assert_eq!(m.map.len(), 3);
        // A fourth text empties the memo first: earlier ones are made again.
        assert_eq!(id(&mut m, "", "abc"), 4);
        assert_eq!(m.map.len(), 1);
        assert_eq!(id(&mut m, "ab", "c"), 5);
    }

    #[test]
    fn keys_do_not_depend_on_chunks_or_the_memo_forgetting() {
        use sentinel_manifest::schema::Col;
        let names = [
            "Acme Corp",
            "ACME corp.",
            "Zeta LLC",
            "",
            "Acme Corp",
            "Zeta  LLC",
        ];
        let ids = ["1", "1", "2", "77", "1", "2"];
        let cons = ["Lo Ltd", "", "Lo Ltd", "Lo Ltd", "LO LTD", "Lo Ltd"];
        let country = ["SG", "SG", "HK", "SG", "SG", "HK"];
        let addr = [
            "1 Main Street",
            "1 MAIN ST",
            "2 Elm St Suite 4",
            "",
            "1 Main Street",
            "2 Elm St",
        ];
        let mut b = Batch::empty();
        for (c, cells) in [
            (Col::UsppiName, names),
            (Col::UsppiId, ids),
            (Col::ConsigneeName, cons),
            (Col::ConsigneeCountry, country),
            (Col::UsppiAddress, addr),
            (
                Col::IntermediateName,
                ["", "Lion Pte", "", "", "LION PTE. LTD.", ""],
            ),
            (Col::IntermediateCountry, ["", "SG", "", "", "SG", ""]),
        ] {
            for v in cells {
                b.text_mut(c).push(v);
            }
        }
        b.len = names.len();
        *b.num_mut(Col::ExportDate) = (0..names.len()).map(|d| d as f64).collect();
        b.file = vec![0; b.len];
        b.line = (1..=b.len as u64).collect();
        b.invalid = vec![0; b.len];
        let declared = |rows: std::ops::Range<usize>| -> (Vec<u8>, StrCol) {
            (vec![0; rows.len()], rows.map(|_| "847330").collect())
        };
        let anomaly = vec![0.0; b.len];
        let (category, hs6) = declared(0..b.len);
        let whole = RowKeys::from_batch(&b, &category, &hs6, &anomaly);
        let mut forgetful = RowKeys::default();
        for m in [
            &mut forgetful.exporter_memo,
            &mut forgetful.consignee_memo,
            &mut forgetful.address_memo,
            &mut forgetful.intermediate_memo,
        ] {
            m.max = 0;
        }
        for i in 0..b.len {
            let (category, hs6) = declared(i..i + 1);
            forgetful.append(&b.select(&[i]), &category, &hs6, &anomaly[i..=i]);
        }
        for k in [&whole, &forgetful] {
            assert_eq!(k.record[0], k.record[1]);
            assert_eq!(k.record[0], k.record[4]);
            assert_eq!(k.record[2], k.record[5]);
            assert_ne!(k.record[0], k.record[2]);
            assert!(k.record[3].is_some());
            assert_eq!(k.consignee[1], None);
            assert_eq!(k.consignee[0], k.consignee[4]);
            assert_ne!(k.consignee[0], k.consignee[2]);
            assert_eq!(k.address[0], k.address[1]);
            assert_eq!(k.address[3], None);
            assert_eq!(k.intermediate[1], k.intermediate[4]);
            assert_eq!(k.intermediate[0], None);
        }
        assert_eq!(whole.record, forgetful.record);
        assert_eq!(whole.records.list, forgetful.records.list);
        assert_eq!(whole.intermediate, forgetful.intermediate);
        assert_eq!(whole.consignee, forgetful.consignee);
        assert_eq!(whole.address, forgetful.address);
        let mut resolved = [whole, forgetful];
        for k in &mut resolved {
            crate::entities::resolve(k, &Aliases::default());
        }
        assert_eq!(resolved[0].exporter, resolved[1].exporter);
        assert_eq!(resolved[0].exporters.list, resolved[1].exporters.list);
        assert_eq!(resolved[0].exporters.list, ["#1", "#2", "#77"]);
    }

    #[test]
    fn date_order_is_by_date_then_input_order() {
        let dates = [5, -3, 0, i32::MAX, 5, i32::MIN, -3, 0, 7];
        let mut reference: Vec<u32> = (0..dates.len() as u32).collect();
        reference.sort_by_key(|&i| dates[i as usize]);
        assert_eq!(date_order(&dates), reference);
        assert_eq!(date_order(&dates), [5, 1, 6, 2, 7, 0, 4, 8, 3]);
    }
}
