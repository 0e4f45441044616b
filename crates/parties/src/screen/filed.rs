//! The parties a filing names, screened against the lists: each distinct
//! name once per run ([`Screener`]), its place (country, address) per
//! party. Shared by `sentinel screen` (every match) and `sentinel score
//! --list` (each line's strongest match, as evidence).

use rustc_hash::FxHashMap;

use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;

use super::matcher::{Match, Matcher, NameMatch, Scratch};

/// Where a role's country comes from.
#[derive(Debug, Clone, Copy)]
pub enum Country {
    /// A column of the filing.
    Column(Col),
    /// The filer's country, one for the whole run ([`filer_country`]): the
    /// U.S. principal party in interest of the spec's layout is a U.S.
    /// party, so a listed entry with addresses elsewhere only is another
    /// company of the name.
    Filer,
}

/// The country of the party that files (the `usppi` role): the U.S. in
/// the spec's layout, the mapping's `filer_country` with a mapping
/// (unknown without one).
pub fn filer_country(mapping: Option<&sentinel_manifest::mapping::Mapping>) -> Option<String> {
    match mapping {
        None => Some("US".to_string()),
        Some(m) => m.filer_country.as_ref().map(|c| c.trim().to_ascii_uppercase()),
    }
}

/// A role a party plays on a filing: its name in the outputs, its name,
/// country and address.
#[derive(Debug, Clone, Copy)]
pub struct Role {
    pub name: &'static str,
    pub name_col: Col,
    pub country: Country,
    pub address: Option<Col>,
}

/// The roles screened, in the order their matches are reported.
pub const ROLES: [Role; 3] = [
    Role {
        name: "usppi",
        name_col: Col::UsppiName,
        country: Country::Filer,
        address: Some(Col::UsppiAddress),
    },
    Role {
        name: "ultimate_consignee",
        name_col: Col::ConsigneeName,
        country: Country::Column(Col::ConsigneeCountry),
        address: None,
    },
    Role {
        name: "intermediate_consignee",
        name_col: Col::IntermediateName,
        country: Country::Column(Col::IntermediateCountry),
        address: None,
    },
];

/// The columns screening reads of a line: each role's name, country
/// column and address.
pub fn columns() -> Vec<Col> {
    ROLES
        .iter()
        .flat_map(|r| {
            let country = match r.country {
                Country::Column(c) => Some(c),
                Country::Filer => None,
            };
            std::iter::once(r.name_col).chain(country).chain(r.address)
        })
        .collect()
}

/// One match of a line's party: which role (index into [`ROLES`]) and the
/// entry it matched.
#[derive(Debug, Clone, PartialEq)]
pub struct PartyMatch {
    pub role: u8,
    pub found: Match,
}

/// A party placed: its country, address and strongest match (its place in
/// [`Screener::found`]).
type Placed = (String, String, Option<u32>);

/// Screens the parties of a run's lines, each distinct name once.
pub struct Screener<'m> {
    pub matcher: &'m Matcher,
    pub min_score: f64,
    /// The filer's country ([`filer_country`]), empty when unknown.
    filer: String,
    /// Each distinct name's place in `results`, and each distinct name
    /// as screening reads it (its words: spellings differing only in case,
    /// punctuation or legal form are screened once).
    names: FxHashMap<String, u32>,
    by_words: FxHashMap<String, u32>,
    results: Vec<Vec<NameMatch>>,
    /// Each placed party's strongest match, by its name's place and role:
    /// (country, address, match).
    placed: FxHashMap<(u32, u8), Vec<Placed>>,
    /// The placed parties' strongest matches.
    found: Vec<Match>,
    /// Each role's last name and its place in `results`.
    last: [Option<(String, u32)>; 3],
    scratch: Scratch,
}

impl<'m> Screener<'m> {
    pub fn new(matcher: &'m Matcher, min_score: f64, filer: Option<String>) -> Screener<'m> {
        Screener {
            matcher,
            min_score,
            filer: filer.unwrap_or_default(),
            names: FxHashMap::default(),
            by_words: FxHashMap::default(),
            results: Vec::new(),
            placed: FxHashMap::default(),
            found: Vec::new(),
            last: Default::default(),
            scratch: Scratch::default(),
        }
    }

    /// Distinct party names screened so far.
    pub fn names(&self) -> usize {
        self.names.len()
    }

    /// The place in `results` of a name's matches by name, screened the
    /// first time its words are met.
    fn named(&mut self, name: &str) -> u32 {
        if let Some(&k) = self.names.get(name) {
            return k;
        }
        let (words, tokens) = self.matcher.words_key(name);
        let k = match self.by_words.get(&words) {
            Some(&k) => k,
            None => {
                let found = self
                    .matcher
                    .by_words_with(tokens, self.min_score, &mut self.scratch);
                self.results.push(found);
                let k = (self.results.len() - 1) as u32;
                self.by_words.insert(words, k);
                k
            }
        };
        self.names.insert(name.to_string(), k);
        k
    }

    /// A role's country and address on line `i`.
    fn place_of<'b>(&'b self, role: &Role, b: &'b Batch, i: usize) -> (&'b str, &'b str) {
        let country = match role.country {
            Country::Column(c) => &b.text(c)[i],
            Country::Filer => self.filer.as_str(),
        };
        (country, role.address.map_or("", |c| &b.text(c)[i]))
    }

    /// Role `r`'s party on line `i`: the place in `results` of its name's
    /// matches, `None` when it has no name or its name matches nothing. A
    /// filing's lines follow one another with the same parties, so the
    /// role's name on the line before is not looked up again.
    fn party(&mut self, r: usize, b: &Batch, i: usize) -> Option<u32> {
        let name = &b.text(ROLES[r].name_col)[i];
        if name.trim().is_empty() {
            return None;
        }
        let k = match &self.last[r] {
            Some((last, k)) if last == name => *k,
            _ => {
                let k = self.named(name);
                self.last[r] = Some((name.to_string(), k));
                k
            }
        };
        (!self.results[k as usize].is_empty()).then_some(k)
    }

    /// Every match of line `i`'s parties, role by role, best first within
    /// a role.
    pub fn line(&mut self, b: &Batch, i: usize) -> Vec<PartyMatch> {
        let mut out = Vec::new();
        for (r, role) in ROLES.iter().enumerate() {
            let Some(k) = self.party(r, b, i) else {
                continue;
            };
            let (country, address) = self.place_of(role, b, i);
            out.extend(
                self.matcher
                    .place(&self.results[k as usize], country, address, self.min_score)
                    .into_iter()
                    .map(|found| PartyMatch { role: r as u8, found }),
            );
        }
        out
    }

    /// Line `i`'s strongest match (the first role's on equal scores): its
    /// role and its place in [`Self::into_found`]. Each distinct party (role,
    /// name, country, address) is placed once, and its match kept once.
    pub fn best(&mut self, b: &Batch, i: usize) -> Option<(u8, u32)> {
        let mut best: Option<(u8, u32)> = None;
        for (r, role) in ROLES.iter().enumerate() {
            let Some(k) = self.party(r, b, i) else {
                continue;
            };
            let (country, address) = self.place_of(role, b, i);
            let seen = self.placed.get(&(k, r as u8)).and_then(|v| {
                v.iter()
                    .find(|(c, a, _)| c == country && a == address)
                    .map(|x| x.2)
            });
            let found = match seen {
                Some(f) => f,
                None => {
                    let m = self
                        .matcher
                        .place(&self.results[k as usize], country, address, self.min_score)
                        .into_iter()
                        .next();
                    let (country, address) = (country.to_string(), address.to_string());
                    let f = m.map(|m| {
                        self.found.push(m);
                        (self.found.len() - 1) as u32
                    });
                    self.placed
                        .entry((k, r as u8))
                        .or_default()
                        .push((country, address, f));
                    f
                }
            };
            if let Some(f) = found {
                let score = self.found[f as usize].score;
                if best.is_none_or(|(_, b)| score > self.found[b as usize].score) {
                    best = Some((r as u8, f));
                }
            }
        }
        best
    }

    /// The matches [`Self::best`] points into, once the screening is done.
    pub fn into_found(self) -> Vec<Match> {
        self.found
    }
}
