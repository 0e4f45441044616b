//! A synthetic restricted-party list for a generated world (issue #29), in
//! the Consolidated Screening List's CSV layout, and its ground truth.
//!
//! Read from the world as written: most of the parties of its schemes and
//! rings (the exporters, by their `usppi_entity`, the ultimate and
//! intermediate consignees, by name and country) are listed, each under a
//! spelling of one kind ([`Kind`]) of a name the world files it under
//! (exporters are filed under several spellings besides), with an alias
//! and an address; then unrelated entries made of the world's own name
//! words (so that they share common words with honest parties), and
//! entries that differ from an honest party's name only by a number. The
//! truth file says which party is which entry and how it is spelt.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rustc_hash::{FxHashMap, FxHashSet};

use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;

/// How a listed name differs from the name the world files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Case,
    LegalForm,
    Typo,
    Transliteration,
    Alias,
    WordOrder,
    DroppedWord,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Case,
        Kind::LegalForm,
        Kind::Typo,
        Kind::Transliteration,
        Kind::Alias,
        Kind::WordOrder,
        Kind::DroppedWord,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Case => "case",
            Kind::LegalForm => "legal_form",
            Kind::Typo => "typo",
            Kind::Transliteration => "transliteration",
            Kind::Alias => "alias",
            Kind::WordOrder => "word_order",
            Kind::DroppedWord => "dropped_word",
        }
    }
}

/// Share of the schemes' parties that are listed.
const LISTED_SHARE: f64 = 0.7;
/// Unrelated entries per listed party (at least [`MIN_UNRELATED`]).
const UNRELATED_PER_LISTED: usize = 10;
const MIN_UNRELATED: usize = 500;
/// Honest parties listed under their name with one number changed.
const NUMBER_TWINS: usize = 50;

/// The Consolidated Screening List's published columns.
const HEADER: [&str; 29] = [
    "_id",
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "standard_order",
    "license_requirement",
    "license_policy",
    "call_sign",
    "vessel_type",
    "gross_tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
    "source_list_url",
    "alt_names",
    "citizenships",
    "dates_of_birth",
    "nationalities",
    "places_of_birth",
    "source_information_url",
    "ids",
];

const SOURCES: [&str; 3] = [
    "Entity List (EL) - Bureau of Industry and Security",
    "Unverified List (UVL) - Bureau of Industry and Security",
    "Specially Designated Nationals (SDN) - Treasury Department",
];

/// A party the world files: its role, key (entity or name|country), a
/// name it is filed under, its country and address.
#[derive(Debug, Clone)]
struct Party {
    role: &'static str,
    key: String,
    name: String,
    country: String,
    address: String,
}

/// One list row and, for a listed party, its truth.
struct Row {
    id: String,
    name: String,
    aliases: Vec<String>,
    address: String,
    truth: Option<(Party, Kind)>,
}

/// The name spelt the listed way.
fn respell(name: &str, kind: Kind, r: &mut Xoshiro256PlusPlus) -> (String, Vec<String>) {
    let mut w: Vec<String> = name.split_whitespace().map(str::to_string).collect();
    let n = w.len();
    let legal = |s: &str| legal_word(&s.replace(['.', ','], "").to_ascii_uppercase());
    let words_at: Vec<usize> = (0..n).filter(|&k| !legal(&w[k])).collect();
    let aliases = Vec::new();
    let out = match kind {
        Kind::Case => name.to_uppercase(),
        Kind::LegalForm => {
            while w.last().is_some_and(|x| legal(x)) {
                w.pop();
            }
            w.push(["Co., Ltd.", "Limited", "L.L.C.", "Corporation"][r.gen_range(0..4)].to_string());
            w.join(" ")
        }
        Kind::Typo => {
            if let Some(&k) = words_at.iter().max_by_key(|&&k| w[k].len()) {
                let mut c: Vec<char> = w[k].chars().collect();
                if c.len() >= 5 {
                    let i = r.gen_range(1..c.len() - 2);
                    c.swap(i, i + 1);
                } else if let Some(x) = c.last_mut() {
                    *x = 'x';
                }
                w[k] = c.into_iter().collect();
            }
            w.join(" ")
        }
        Kind::Transliteration => name
            .chars()
            .map(|c| match c {
                'a' => 'á',
                'e' => 'ë',
                'o' => 'ö',
                'u' => 'ü',
                'i' => 'í',
                'c' => 'ç',
                x => x,
            })
            .collect(),
        Kind::Alias => {
            // Listed under another name; the filed one is an alias.
            return (
                format!("{} International Holdings", made_up_word(r)),
                vec![name.to_string()],
            );
        }
        Kind::WordOrder => {
            if words_at.len() >= 2 {
                w.swap(words_at[0], words_at[1]);
            }
            w.join(" ")
        }
        Kind::DroppedWord => {
            if words_at.len() >= 3 {
                w.remove(words_at[words_at.len() - 1]);
            }
            w.join(" ")
        }
    };
    (out, aliases)
}

/// A pronounceable word no world uses ("Zorvak", "Telumi").
fn made_up_word(r: &mut Xoshiro256PlusPlus) -> String {
    const ON: [&str; 12] = ["z", "v", "k", "t", "m", "dr", "qu", "br", "x", "l", "sh", "y"];
    const NU: [&str; 6] = ["a", "o", "e", "u", "i", "ae"];
    let mut w = String::new();
    for _ in 0..r.gen_range(2..4) {
        w.push_str(ON[r.gen_range(0..ON.len())]);
        w.push_str(NU[r.gen_range(0..NU.len())]);
    }
    w.push_str(["k", "n", "r", "x", "th"][r.gen_range(0..5)]);
    let mut c = w.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The parties of the world's scheme lines and the honest ones, from the
/// batch as read back, and every spelling each party files under (by
/// `role|key`).
fn parties(b: &Batch, entity_col: usize) -> (Vec<Party>, Vec<Party>, BTreeMap<String, Vec<String>>) {
    let mut scheme: BTreeMap<String, Party> = BTreeMap::new();
    let mut honest: BTreeMap<String, Party> = BTreeMap::new();
    let label = b.num(Col::Label);
    let entities = b.carry.get(entity_col);
    // Each party's spellings and how often it files under each.
    let mut spellings: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for i in 0..b.len {
        let fraud = label[i] > 0.5;
        let entity = entities.map_or("", |c| &c[i]);
        let mut add = |role: &'static str, key: String, name: &str, country: &str, address: &str| {
            if name.trim().is_empty() || key.is_empty() {
                return;
            }
            let id = format!("{role}|{key}");
            *spellings
                .entry(id.clone())
                .or_default()
                .entry(name.to_string())
                .or_default() += 1;
            let into = if fraud { &mut scheme } else { &mut honest };
            into.entry(id).or_insert(Party {
                role,
                key,
                name: name.to_string(),
                country: country.to_string(),
                address: address.to_string(),
            });
        };
        add(
            "usppi",
            entity.to_string(),
            &b.text(Col::UsppiName)[i],
            "US",
            &b.text(Col::UsppiAddress)[i],
        );
        let (cn, cc) = (&b.text(Col::ConsigneeName)[i], &b.text(Col::ConsigneeCountry)[i]);
        add("ultimate_consignee", format!("{cn}|{cc}"), cn, cc, "");
        let (iname, ic) = (
            &b.text(Col::IntermediateName)[i],
            &b.text(Col::IntermediateCountry)[i],
        );
        add("intermediate_consignee", format!("{iname}|{ic}"), iname, ic, "");
    }
    // A party is named by the spelling it files under most.
    for (id, p) in scheme.iter_mut().chain(honest.iter_mut()) {
        if let Some((name, _)) = spellings[id]
            .iter()
            .max_by_key(|(n, c)| (**c, std::cmp::Reverse((*n).clone())))
        {
            p.name = name.clone();
        }
    }
    let honest: Vec<Party> = honest
        .into_values()
        .filter(|p| !scheme.contains_key(&format!("{}|{}", p.role, p.key)))
        .collect();
    let spellings = spellings
        .into_iter()
        .map(|(id, names)| (id, names.into_keys().collect()))
        .collect();
    (scheme.into_values().collect(), honest, spellings)
}

/// A name's words that tell it apart: upper case, split on spaces and
/// commas, dots dropped ("L.L.C." is "LLC"), legal forms left out.
fn word_set(name: &str) -> Vec<String> {
    let mut w: Vec<String> = name
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_uppercase()
        })
        .filter(|w| !w.is_empty() && !legal_word(w))
        .collect();
    w.sort();
    w.dedup();
    w
}

/// Whether two upper-case words may be taken for one another by a matcher:
/// equal, one the other's first four letters or more (an abbreviation), or
/// of five letters or more and alike (Jaro-Winkler 0.9: a typo, a coined
/// word one letter apart).
fn alike(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() >= 4 && long.starts_with(short) {
        return true;
    }
    short.len() >= 5 && strsim::jaro_winkler(a, b) >= 0.9
}

/// The honest parties' names (every spelling), indexed by word, to keep
/// the list's entries apart from them: a listed name that an honest name
/// holds whole, or that holds an honest name whole, word for word up to
/// [`alike`], is a namesake no screening can tell apart by name.
struct HonestNames {
    /// Distinct words, and the names holding each.
    words: Vec<String>,
    postings: Vec<Vec<u32>>,
    /// Words by first letter (typos keep the first letter).
    by_initial: FxHashMap<char, Vec<u32>>,
    /// Each name's number of distinct words.
    sizes: Vec<u32>,
    /// Whether a name is one short word ("SUN"): held by too many names to
    /// make them namesakes.
    short: Vec<bool>,
    /// Each name's country: a matcher tells apart the same name in another
    /// country.
    country: Vec<String>,
    /// Each name's party (its `role|key`): a party is no namesake of itself.
    owner: Vec<String>,
}

impl HonestNames {
    fn new<'a>(names: impl Iterator<Item = (&'a str, &'a str, String)>) -> HonestNames {
        let mut index: FxHashMap<String, u32> = FxHashMap::default();
        let mut h = HonestNames {
            words: Vec::new(),
            postings: Vec::new(),
            by_initial: FxHashMap::default(),
            sizes: Vec::new(),
            short: Vec::new(),
            country: Vec::new(),
            owner: Vec::new(),
        };
        for (name, country, owner) in names {
            let ws = word_set(name);
            if ws.is_empty() {
                continue;
            }
            let at = h.sizes.len() as u32;
            h.sizes.push(ws.len() as u32);
            h.short.push(ws.len() == 1 && ws[0].len() < 5);
            h.country.push(country.to_string());
            h.owner.push(owner);
            for w in ws {
                let k = *index.entry(w.clone()).or_insert_with(|| {
                    h.words.push(w.clone());
                    h.postings.push(Vec::new());
                    let k = (h.words.len() - 1) as u32;
                    h.by_initial
                        .entry(w.chars().next().unwrap_or(' '))
                        .or_default()
                        .push(k);
                    k
                });
                h.postings[k as usize].push(at);
            }
        }
        h
    }

    /// Whether `name` and some other party's name (not `owner`'s) of the
    /// same `country` are namesakes: all of one's words alike to words of
    /// the other (a one-short-word name aside).
    fn namesake(&self, name: &str, country: &str, owner: &str) -> bool {
        let own = word_set(name);
        if own.is_empty() {
            return false;
        }
        // Per word of the name, the honest words alike to it.
        let alike_words: Vec<Vec<u32>> = own
            .iter()
            .map(|q| {
                let initial = q.chars().next().unwrap_or(' ');
                self.by_initial
                    .get(&initial)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .copied()
                    .filter(|&k| alike(q, &self.words[k as usize]))
                    .collect()
            })
            .collect();
        // The name held whole by an honest one: an honest name in every
        // word's postings.
        let holding = |ks: &[u32]| -> FxHashSet<u32> {
            ks.iter()
                .flat_map(|&k| self.postings[k as usize].iter().copied())
                .filter(|&n| self.country[n as usize] == country && self.owner[n as usize] != owner)
                .collect()
        };
        let mut common = holding(&alike_words[0]);
        for ks in &alike_words[1..] {
            let next = holding(ks);
            common.retain(|n| next.contains(n));
        }
        if !common.is_empty() {
            return true;
        }
        // An honest name held whole by this one.
        let mut distinct: Vec<u32> = alike_words.concat();
        distinct.sort_unstable();
        distinct.dedup();
        let mut found: FxHashMap<u32, u32> = FxHashMap::default();
        for k in distinct {
            for &n in &self.postings[k as usize] {
                if self.country[n as usize] == country && self.owner[n as usize] != owner {
                    *found.entry(n).or_default() += 1;
                }
            }
        }
        found
            .iter()
            .any(|(&n, &c)| c >= self.sizes[n as usize] && !self.short[n as usize])
    }
}

/// Writes the list and its truth (`list_id, role, party, kind`: party is
/// the `usppi_entity` of an exporter, `name|country` of a consignee) for a
/// world read back as `b`, whose carried column `entity_col` is
/// `usppi_entity`. Returns the entries written, how many are the world's
/// parties, and how many scheme parties were left out as namesakes of
/// honest ones.
pub fn write(
    b: &Batch,
    entity_col: usize,
    seed: u64,
    list: &mut dyn Write,
    truth: &mut dyn Write,
) -> Result<(usize, usize, usize)> {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x11_57ed);
    let (scheme, honest, spellings) = parties(b, entity_col);
    // A scheme party with a namesake (another party, honest or not, under
    // any spelling of either), which no name can tell apart, is not listed.
    let id_of = |p: &Party| format!("{}|{}", p.role, p.key);
    let others = HonestNames::new(scheme.iter().chain(&honest).flat_map(|p| {
        spellings
            .get(&id_of(p))
            .into_iter()
            .flatten()
            .map(|n| (n.as_str(), p.country.as_str(), id_of(p)))
    }));
    let mut rows: Vec<Row> = Vec::new();
    let mut namesakes = 0;
    for p in &scheme {
        if r.gen::<f64>() >= LISTED_SHARE {
            continue;
        }
        let id = id_of(p);
        if spellings
            .get(&id)
            .into_iter()
            .flatten()
            .any(|name| others.namesake(name, &p.country, &id))
        {
            namesakes += 1;
            continue;
        }
        let kind = Kind::ALL[r.gen_range(0..Kind::ALL.len())];
        let (name, mut aliases) = respell(&p.name, kind, &mut r);
        if kind != Kind::Alias {
            // A name it also goes by, never filed in this world.
            aliases.push(format!("{} Holdings", made_up_word(&mut r)));
        }
        // A word dropped, or a made-up name, may fall on another party's.
        let listed_names = std::iter::once(&name).chain(&aliases);
        if listed_names
            .filter(|n| **n != p.name)
            .any(|n| others.namesake(n, &p.country, &id))
        {
            namesakes += 1;
            continue;
        }
        let address = if p.address.is_empty() {
            format!("{} Harbour Road, {}", r.gen_range(1..400), p.country)
        } else {
            format!("{}, {}", p.address, p.country)
        };
        rows.push(Row {
            id: String::new(),
            name,
            aliases,
            address,
            truth: Some((p.clone(), kind)),
        });
    }
    let listed = rows.len();
    // Unrelated entries from the world's own words.
    let mut words: Vec<String> = honest
        .iter()
        .flat_map(|p| p.name.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    words.sort();
    words.dedup();
    let countries = ["CN", "HK", "SG", "MY", "AE", "RU", "IR", "TH", "TW", "TR"];
    if words.len() >= 4 {
        for _ in 0..(listed * UNRELATED_PER_LISTED).max(MIN_UNRELATED) {
            // A made-up word of its own and one or two of the world's.
            let k = r.gen_range(1..3);
            let shared: Vec<&str> = words.choose_multiple(&mut r, k).map(String::as_str).collect();
            let own = made_up_word(&mut r);
            let c = countries[r.gen_range(0..countries.len())];
            let name = format!("{own} {} Ltd", shared.join(" "));
            // Not an honest party's name with a word added.
            if others.namesake(&name, c, "") {
                continue;
            }
            rows.push(Row {
                id: String::new(),
                name,
                aliases: Vec::new(),
                address: format!("{} Industrial Park, {c}", r.gen_range(1..99)),
                truth: None,
            });
        }
    }
    // Honest names with a number in them, listed with another number.
    for p in honest
        .iter()
        .filter(|p| p.name.bytes().any(|c| c.is_ascii_digit()))
        .take(NUMBER_TWINS)
    {
        let twin: String = p
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from(b'0' + (c as u8 - b'0' + 1) % 10)
                } else {
                    c
                }
            })
            .collect();
        rows.push(Row {
            id: String::new(),
            name: twin,
            aliases: Vec::new(),
            address: String::new(),
            truth: None,
        });
    }
    rows.shuffle(&mut r);
    let mut list = csv::Writer::from_writer(list);
    let mut truth = csv::Writer::from_writer(truth);
    list.write_record(HEADER)?;
    truth.write_record(["list_id", "role", "party", "kind"])?;
    let at = |column: &str| HEADER.iter().position(|h| *h == column).expect("a CSL column");
    for (i, row) in rows.iter_mut().enumerate() {
        row.id = format!("syn-{:05}", i + 1);
        let mut cells = vec![String::new(); HEADER.len()];
        cells[at("_id")] = row.id.clone();
        cells[at("source")] = SOURCES[i % SOURCES.len()].to_string();
        cells[at("type")] = "Entity".to_string();
        cells[at("programs")] = "EAR".to_string();
        cells[at("name")] = row.name.clone();
        cells[at("addresses")] = row.address.clone();
        cells[at("alt_names")] = row.aliases.join("; ");
        list.write_record(&cells)?;
        if let Some((p, kind)) = &row.truth {
            truth.write_record([row.id.as_str(), p.role, &p.key, kind.name()])?;
        }
    }
    list.flush()?;
    truth.flush()?;
    Ok((rows.len(), listed, namesakes))
}

/// Whether an upper-case word, dots dropped, is a legal form
/// (`datasets/legal_forms.csv`).
fn legal_word(w: &str) -> bool {
    sentinel_manifest::tables::Tables::get().is_legal_form(w)
}
