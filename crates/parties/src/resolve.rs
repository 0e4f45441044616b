//! Entity resolution: the spellings of one company resolved to one entity,
//! from its normalised names ([`crate::normalize::party_name`]: case,
//! punctuation and legal forms already gone), its IDs and the addresses it
//! files from ([`crate::normalize::address`]) together.
//!
//! Records are unioned in four deterministic rounds, never joining two
//! different IDs (an ID names one company; a group holds at most one):
//!
//! 1. the same ID;
//! 2. the same normalised name filed from the same address, unless
//!    records there already carry two different IDs (two companies of one
//!    name at one warehouse: a record without an ID could be either);
//! 3. similar names filed from the same address (compared within an
//!    address; addresses of more than [`BLOCK_MAX`] distinct names are
//!    skipped): the same number of words, at least one word the same, and
//!    every other word the same, cut short ("TECH" for "TECHNOLOGIES", after
//!    the first word, at least 3 letters), or one typo away (an edit or a
//!    swap of two neighbours, in words of 5 letters or more); words with
//!    digits (codes, numbers) only ever match exactly;
//! 4. the same normalised name from anywhere, under the same condition: a
//!    name several companies file under stays apart where neither an ID
//!    nor an address tells whose a record is.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Addresses with more distinct names than this are not compared pairwise.
pub const BLOCK_MAX: usize = 2000;

/// One spelling of a party as filed: its normalised name, ID and address
/// (any may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Record {
    pub name: String,
    pub id: String,
    pub address: String,
}

impl Record {
    /// A spelling from the cells as filed: name, ID and address, normalised.
    pub fn filed(name: &str, id: &str, address: &str) -> Record {
        Record {
            name: crate::normalize::party_name(name),
            id: id_key(id),
            address: crate::normalize::address(address),
        }
    }
}

/// A normalised ID (letters and digits, upper case), empty for none. A
/// filer's placeholder ("N/A", "NONE", "UNKNOWN", "0", "00-0000000": no
/// digit, or no digit but 0) is none, or every line carrying it would be
/// one company.
pub fn id_key(id: &str) -> String {
    let key: String = id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let mut digits = key.chars().filter(char::is_ascii_digit).peekable();
    if digits.peek().is_none() || digits.all(|c| c == '0') {
        return String::new();
    }
    key
}

struct Groups<'a> {
    parent: Vec<usize>,
    /// Each root's ID, if any.
    id: Vec<Option<&'a str>>,
}

impl<'a> Groups<'a> {
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the groups of `a` and `b` unless they hold different IDs.
    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        match (self.id[ra], self.id[rb]) {
            (Some(x), Some(y)) if x != y => {}
            (ia, ib) => {
                let (lo, hi) = (ra.min(rb), ra.max(rb));
                self.parent[hi] = lo;
                self.id[lo] = ia.or(ib);
            }
        }
    }
}

/// Whether two different normalised names are spellings of one name.
pub fn similar(a: &str, b: &str) -> bool {
    let (ta, tb): (Vec<&str>, Vec<&str>) = (a.split(' ').collect(), b.split(' ').collect());
    if ta.len() != tb.len() || a == b {
        return false;
    }
    let mut same = 0;
    for (k, (x, y)) in ta.iter().zip(&tb).enumerate() {
        if x == y {
            same += 1;
        } else if !(k > 0 && cut_short(x, y) || one_typo(x, y)) {
            return false;
        }
    }
    same > 0
}

/// A word of letters only: words with digits (codes, numbers) must match
/// exactly, so two IDs one digit apart are never one typo.
fn letters(w: &str) -> bool {
    w.chars().all(char::is_alphabetic)
}

/// One word is the other cut short (at least 3 letters, 2 fewer).
fn cut_short(x: &str, y: &str) -> bool {
    let (s, l) = if x.len() < y.len() { (x, y) } else { (y, x) };
    letters(x) && letters(y) && s.len() >= 3 && l.len() >= s.len() + 2 && l.starts_with(s)
}

/// One edit (insert, delete, substitute) or a swap of two neighbouring
/// letters apart, in words of 5 letters or more.
fn one_typo(x: &str, y: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
    if !letters(x) || !letters(y) || a.len().min(b.len()) < 5 || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let p = a.iter().zip(&b).take_while(|(c, d)| c == d).count();
    let (ra, rb) = (&a[p..], &b[p..]);
    let q = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(c, d)| c == d)
        .count();
    let (ma, mb) = (
        &ra[..ra.len() - q.min(ra.len())],
        &rb[..rb.len() - q.min(rb.len())],
    );
    match (ma.len(), mb.len()) {
        (0, 1) | (1, 0) | (1, 1) => true,
        (2, 2) => ma[0] == mb[1] && ma[1] == mb[0],
        _ => false,
    }
}

/// Records of each key (None: no key), in record order, ID-bearing first.
fn grouped(records: &[Record], key: impl Fn(&Record) -> Option<String>) -> BTreeMap<String, Vec<usize>> {
    let mut m: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, r) in records.iter().enumerate() {
        if let Some(key) = key(r) {
            m.entry(key).or_default().push(k);
        }
    }
    for ks in m.values_mut() {
        ks.sort_by_key(|&k| (records[k].id.is_empty(), k));
    }
    m
}

/// How many different IDs the groups of these records hold.
fn held_by(g: &mut Groups, ks: &[usize]) -> usize {
    let ids: BTreeSet<&str> = ks
        .iter()
        .filter_map(|&k| {
            let root = g.find(k);
            g.id[root]
        })
        .collect();
    ids.len()
}

/// The entity of each record, numbered from 0 in the order of each
/// entity's first record.
pub fn resolve(records: &[Record]) -> Vec<u32> {
    let n = records.len();
    let mut g = Groups {
        parent: (0..n).collect(),
        id: records
            .iter()
            .map(|r| Some(r.id.as_str()).filter(|s| !s.is_empty()))
            .collect(),
    };
    let chain = |g: &mut Groups, ks: &[usize]| {
        for w in ks.windows(2) {
            g.join(w[0], w[1]);
        }
    };
    // 1. The same ID.
    for ks in grouped(records, |r| Some(r.id.clone()).filter(|i| !i.is_empty())).values() {
        chain(&mut g, ks);
    }
    // 2. The same name from the same address.
    let at = |r: &Record| {
        (!r.name.is_empty() && !r.address.is_empty()).then(|| format!("{}\u{1}{}", r.address, r.name))
    };
    for ks in grouped(records, at).values() {
        if held_by(&mut g, ks) <= 1 {
            chain(&mut g, ks);
        }
    }
    // 3. Similar names from the same address.
    for ks in grouped(records, |r| Some(r.address.clone()).filter(|a| !a.is_empty())).values() {
        let mut names: Vec<usize> = ks.clone();
        names.sort_by(|&a, &b| records[a].name.cmp(&records[b].name).then(a.cmp(&b)));
        names.dedup_by(|a, b| records[*a].name == records[*b].name);
        if names.len() > BLOCK_MAX {
            continue;
        }
        for (i, &a) in names.iter().enumerate() {
            for &b in &names[i + 1..] {
                if similar(&records[a].name, &records[b].name) {
                    g.join(a, b);
                }
            }
        }
    }
    // 4. The same name from anywhere, where at most one ID holds it.
    for ks in grouped(records, |r| Some(r.name.clone()).filter(|n| !n.is_empty())).values() {
        if held_by(&mut g, ks) <= 1 {
            chain(&mut g, ks);
        }
    }
    let mut number: HashMap<usize, u32> = HashMap::new();
    (0..n)
        .map(|k| {
            let r = g.find(k);
            let next = number.len() as u32;
            *number.entry(r).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, id: &str, address: &str) -> Record {
        Record::filed(name, id, address)
    }

    #[test]
    fn a_placeholder_is_no_id() {
        for none in ["", "N/A", "none", "UNKNOWN", "0", "00-0000000", " - "] {
            assert_eq!(id_key(none), "", "{none:?}");
        }
        assert_eq!(id_key(" 12-3456789 "), "123456789");
        assert_eq!(id_key("ab-0012"), "AB0012");
        assert_eq!(id_key("11-1111111"), "111111111");
    }

    #[test]
    fn spellings_of_one_company_are_one_entity() {
        let r = [
            rec("Sandkyan Technology L.L.C.", "12-3456789", "700 Meadowlands Pkwy"),
            rec("SANDKYAN TECH LLC", "", "700 Meadowlands Parkway, Suite 4"),
            rec("Sandkyan Tech", "12-3456789", "14 Willow Creek Dr"),
            rec("Sandkyna Technology", "", "700 MEADOWLANDS PKWY"),
            rec("Apex Systems Inc", "11-1111111", "1 Main St"),
            rec("Apex Systems Corp", "22-2222222", "9 Elm St"),
            rec("Apex Sys", "", "9 Elm St"),
            rec("APEX SYSTEMS", "", "5 Oak St"),
            rec("Summit Computing", "", "3 Pine St"),
            rec("Summit Components", "33-3333333", "3 Pine St"),
            rec("Summit Comp", "", "3 Pine St"),
            rec("Nova Trading", "", "4 Ash St"),
            rec("NOVA TRADING LLC", "", "8 Birch St"),
            rec(
                "Orion Devices Inc",
                "44-4444444",
                "Gulf Coast Warehousing, 9000 Commerce Dr",
            ),
            rec(
                "Orion Devices LLC",
                "55-5555555",
                "Gulf Coast Warehousing, 9000 Commerce Dr",
            ),
            rec("ORION DEVICES", "", "Gulf Coast Warehousing, 9000 Commerce Dr"),
        ];
        let e = resolve(&r);
        assert_eq!(e[0], e[1], "same name and address");
        assert_eq!(e[0], e[2], "same ID");
        assert_eq!(e[0], e[3], "a typo at the same address");
        // Two companies of one name, told apart by their IDs; a spelling
        // from one's address is that one's; one from neither stays apart.
        assert_ne!(e[4], e[5]);
        assert_eq!(e[5], e[6]);
        assert_ne!(e[7], e[4]);
        assert_ne!(e[7], e[5]);
        // An abbreviation of two names at one address joins them when no
        // ID tells them apart: a known limit.
        assert_eq!(e[8], e[10]);
        // One name from two addresses, no ID anywhere: one company.
        assert_eq!(e[11], e[12]);
        // Two companies of one name at one warehouse: a spelling there
        // without an ID could be either, and joins neither.
        assert_ne!(e[13], e[14]);
        assert_ne!(e[15], e[13]);
        assert_ne!(e[15], e[14]);
        assert_eq!(resolve(&r), e, "deterministic");
        assert!(
            !similar("SUN SYSTEMS", "SUNRISE SYSTEMS"),
            "the first word is not cut short"
        );
        assert!(similar("GLOBAL TRADING", "GLOABL TRADING"));
        assert!(!similar("GLOBAL", "GLOABL"), "at least one word the same");
        assert!(!similar("APEX MOTORS", "APEX MEDICAL"));
        assert!(one_typo("MOTORS", "MOTOR"));
        assert!(!one_typo("MOTORS", "MOTTOS"));
        assert!(one_typo("SYSTEMS", "SYSTEMZ"));
        assert!(!one_typo("AB", "BA"));
        assert!(!one_typo("IMP12345", "IMP12354"), "codes one digit apart");
        assert!(!similar("ACME 10234", "ACME 10243"));
        assert!(!cut_short("A1234", "A123456"));
        assert_eq!(id_key(" 12-345 6789a "), "123456789A");
    }
}
