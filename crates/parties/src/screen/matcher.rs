//! Matching a party name against a list's names and aliases.
//!
//! Blocking: every list name is indexed under its rarer tokens and their
//! phonetic keys and first and last letters (a token most names share, "TRADING" or "TECHNOLOGY" in a
//! large list, blocks nothing), so a party meets only the entries it shares
//! a rare token or its sound with, never the whole list.
//!
//! Scoring, per candidate name: each word of the party is paired with its
//! most similar word of the listed name (Jaro-Winkler; numbers only equal
//! or not; legal forms never count) and the other way round, each word
//! weighted by how rare it is in the list (its inverse document
//! frequency, so shared common words weigh little). The name score leans
//! on the better of the two coverages (3/4 of it, 1/4 of the other), so a
//! name with a word dropped or added still matches when what remains is
//! found whole, word order costs nothing, and a name of which less than
//! [`MIN_COVER`] is found either way never matches. Words under four
//! letters pair only when equal, a word with its first four letters or more
//! ("INDU", "INDUSTRIES") as an abbreviation, and a name of one short word
//! must match exactly. Country agreement raises the score by [`COUNTRY_AGREES`],
//! disagreement lowers it by [`COUNTRY_DIFFERS`]; the same for the party's
//! address where the filing gives one ([`ADDRESS_AGREES`], [`ADDRESS_DIFFERS`]).

use rustc_hash::FxHashMap;

use super::list::{Entry, List};
use super::tokens::{phonetic, tokens, Kind, Token};

/// The default least score a match is reported with.
pub const DEFAULT_MIN_SCORE: f64 = 0.88;
/// Added when the party's country (or address) is one of the entry's.
pub const COUNTRY_AGREES: f64 = 0.04;
pub const ADDRESS_AGREES: f64 = 0.04;
/// Taken off when the entry has countries (or addresses) and the party's
/// is not one of them: a namesake elsewhere.
pub const COUNTRY_DIFFERS: f64 = 0.15;
pub const ADDRESS_DIFFERS: f64 = 0.08;
/// Two words below this Jaro-Winkler similarity do not pair (words of 7
/// letters or more; 5 and 6 letters need [`MID_WORD_FLOOR`]).
const WORD_FLOOR: f64 = 0.85;
const MID_WORD_FLOOR: f64 = 0.92;
/// How alike a word and its first four letters or more are.
const ABBREVIATION: f64 = 0.9;
/// A sound, prefix or suffix key shared by more listed names than this
/// blocks nothing.
const MAX_POSTINGS: usize = 100;
/// The least coverage, each way, of a name that matches.
const MIN_COVER: f64 = 0.6;

/// A listed name, tokenised.
struct ListName {
    entry: u32,
    /// Its place in the entry's names (0: the name, 1..: aliases).
    alias: u16,
    words: Vec<Token>,
    /// Each word's weight (its inverse document frequency in the lists).
    weights: Vec<f64>,
    /// Its legal forms ("INCORPORATED"), which a filing may cut short ("INCO").
    legal: Vec<String>,
}

/// The lists, indexed for screening.
pub struct Matcher {
    pub list: List,
    names: Vec<ListName>,
    /// Words' inverse document frequencies over the listed names.
    idf: FxHashMap<String, f64>,
    idf_unknown: f64,
    by_word: FxHashMap<String, Vec<u32>>,
    by_sound: FxHashMap<String, Vec<u32>>,
}

/// A listed name a party's name matches, before its place is read.
#[derive(Debug, Clone, PartialEq)]
pub struct NameMatch {
    /// Index of the listed name.
    name: u32,
    pub score: f64,
    /// The word pairs that made the score.
    pairs: String,
}

/// One entry a party matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub entry: u32,
    /// Which of the entry's names matched (0: its name, else an alias).
    pub alias: u16,
    pub score: f64,
    pub evidence: String,
}

fn words(name: &str) -> Vec<Token> {
    tokens(name)
        .into_iter()
        .filter(|t| t.kind != Kind::Legal)
        .collect()
}

/// The keys a word is blocked on besides itself: its phonetic key (of
/// three characters or more), its first four letters (of four or more: an
/// abbreviation meets its word) and, for a word of six letters or more, its
/// last four, so that two letters swapped or mistyped still meet the
/// listed word by one of them.
fn sound_keys(word: &str) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    let p = phonetic(word);
    if p.len() >= 3 {
        keys.push(format!("~{p}"));
    }
    if word.len() >= 4 && word.is_ascii() {
        // Also what an abbreviation ("COMP") and its word share.
        keys.push(format!("<{}", &word[..4]));
    }
    if word.len() >= 6 && word.is_ascii() {
        keys.push(format!(">{}", &word[word.len() - 4..]));
    }
    keys
}

/// How alike two words are: numbers equal or not, words by Jaro-Winkler
/// (under four letters equal or not; a word and its first four letters or
/// more as an abbreviation), 0 below [`WORD_FLOOR`].
fn word_similarity(a: &Token, b: &Token) -> f64 {
    if a.kind == Kind::Number || b.kind == Kind::Number {
        return f64::from(u8::from(a.text == b.text));
    }
    if a.text == b.text {
        return 1.0;
    }
    if a.text.len().min(b.text.len()) < 4 {
        return 0.0;
    }
    // A word cut short ("INDU" for "INDUSTRIES", "COMP" for "COMPUTING").
    let (short, long) = if a.text.len() <= b.text.len() {
        (a, b)
    } else {
        (b, a)
    };
    if short.text.len() >= 4 && long.text.starts_with(&short.text) {
        return ABBREVIATION;
    }
    // Words that differ at both ends are not one word mistyped (and most
    // pairs are of this kind: they need no Jaro-Winkler).
    let (x, y) = (a.text.as_bytes(), b.text.as_bytes());
    if x[0] != y[0] && x[x.len() - 2..] != y[y.len() - 2..] {
        return 0.0;
    }
    let s = strsim::jaro_winkler(&a.text, &b.text);
    let floor = if a.text.len().min(b.text.len()) < 7 {
        MID_WORD_FLOOR
    } else {
        WORD_FLOOR
    };
    if s < floor {
        0.0
    } else {
        s
    }
}

impl Matcher {
    /// Indexes the lists' names and aliases.
    pub fn new(list: List) -> Matcher {
        let mut names = Vec::new();
        for (e, entry) in list.entries.iter().enumerate() {
            for (a, n) in entry.names.iter().enumerate().take(u16::MAX as usize) {
                let (legal, w): (Vec<Token>, Vec<Token>) =
                    tokens(n).into_iter().partition(|t| t.kind == Kind::Legal);
                if !w.is_empty() {
                    names.push(ListName {
                        entry: e as u32,
                        alias: a as u16,
                        words: w,
                        weights: Vec::new(),
                        legal: legal.into_iter().map(|t| t.text).collect(),
                    });
                }
            }
        }
        let mut df: FxHashMap<String, u32> = FxHashMap::default();
        for n in &names {
            let mut seen: Vec<&str> = n.words.iter().map(|t| t.text.as_str()).collect();
            seen.sort_unstable();
            seen.dedup();
            for w in seen {
                *df.entry(w.to_string()).or_default() += 1;
            }
        }
        let total = names.len().max(1) as f64;
        let idf: FxHashMap<String, f64> = df
            .iter()
            .map(|(w, d)| (w.clone(), (1.0 + total / f64::from(*d)).ln()))
            .collect();
        let idf_unknown = (1.0 + total).ln();
        for n in names.iter_mut() {
            n.weights = n.words.iter().map(|t| idf[&t.text]).collect();
        }
        // A word in more names than this blocks nothing.
        let common = (total * 0.002).max(50.0) as u32;
        let mut by_word: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        let mut by_sound: FxHashMap<String, Vec<u32>> = FxHashMap::default();
        for (i, n) in names.iter().enumerate() {
            let rare: Vec<&Token> = n.words.iter().filter(|t| df[&t.text] <= common).collect();
            // A name of common words only is found by its rarest one.
            let keys: Vec<&Token> = if rare.is_empty() {
                n.words.iter().min_by_key(|t| df[&t.text]).into_iter().collect()
            } else {
                rare
            };
            for t in keys {
                by_word.entry(t.text.clone()).or_default().push(i as u32);
                for k in sound_keys(&t.text) {
                    by_sound.entry(k).or_default().push(i as u32);
                }
            }
        }
        for v in by_word.values_mut().chain(by_sound.values_mut()) {
            v.dedup();
        }
        Matcher {
            list,
            names,
            idf,
            idf_unknown,
            by_word,
            by_sound,
        }
    }

    /// The entries with names indexed.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn idf(&self, w: &str) -> f64 {
        self.idf.get(w).copied().unwrap_or(self.idf_unknown)
    }

    /// The entries a party (its name, country and address, empty when
    /// unknown) matches at `min_score` or more, best first, one per entry.
    pub fn screen(&self, name: &str, country: &str, address: &str, min_score: f64) -> Vec<Match> {
        self.place(&self.by_name(name, min_score), country, address, min_score)
    }

    /// The listed names a party's name alone could match at `min_score`
    /// once its place agrees (the part of [`Self::screen`] that depends on
    /// the name only, to be kept per distinct name).
    pub fn by_name(&self, name: &str, min_score: f64) -> Vec<NameMatch> {
        let q = words(name);
        if q.is_empty() {
            return Vec::new();
        }
        let mut candidates: Vec<u32> = Vec::new();
        for t in &q {
            if let Some(v) = self.by_word.get(&t.text) {
                candidates.extend(v);
            }
            // A key most names share ("-TION") is no block.
            for k in sound_keys(&t.text) {
                if let Some(v) = self.by_sound.get(&k).filter(|v| v.len() <= MAX_POSTINGS) {
                    candidates.extend(v);
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let floor = min_score - COUNTRY_AGREES - ADDRESS_AGREES;
        let qw: Vec<f64> = q.iter().map(|t| self.idf(&t.text)).collect();
        candidates
            .into_iter()
            .filter_map(|c| {
                let n = &self.names[c as usize];
                // A filed word that begins one of the listed legal forms
                // ("INCO" of "INCORPORATED") is that form.
                let kept = |t: &Token| !(t.text.len() >= 4 && n.legal.iter().any(|l| l.starts_with(&t.text)));
                let own: (Vec<Token>, Vec<f64>);
                let (q, qw): (&[Token], &[f64]) = if n.legal.is_empty() || q.iter().all(kept) {
                    (&q, &qw)
                } else {
                    own = q
                        .iter()
                        .zip(&qw)
                        .filter(|(t, _)| kept(t))
                        .map(|(t, w)| (t.clone(), *w))
                        .unzip();
                    (&own.0, &own.1)
                };
                if q.is_empty() {
                    return None;
                }
                let (score, pairs) = self.name_score((q, qw), (&n.words, &n.weights))?;
                (score >= floor).then_some(NameMatch {
                    name: c,
                    score,
                    pairs,
                })
            })
            .collect()
    }

    /// [`Self::by_name`]'s matches for a party in `country` at `address`:
    /// raised where they agree with the entry's, lowered where they do not.
    pub fn place(&self, by_name: &[NameMatch], country: &str, address: &str, min_score: f64) -> Vec<Match> {
        let country = country.trim().to_ascii_uppercase();
        let address = crate::normalize::address(address);
        let mut best: FxHashMap<u32, Match> = FxHashMap::default();
        for m in by_name {
            let n = &self.names[m.name as usize];
            let entry: &Entry = &self.list.entries[n.entry as usize];
            let (by_country, mut place) = if country.is_empty() || entry.countries.is_empty() {
                (0.0, String::new())
            } else if entry.countries.contains(&country) {
                (COUNTRY_AGREES, format!("; country {country} agrees"))
            } else {
                (
                    -COUNTRY_DIFFERS,
                    format!(
                        "; country {country} is not the entry's ({})",
                        entry.countries.join(", ")
                    ),
                )
            };
            let by_address = if address.is_empty() || entry.addresses.is_empty() {
                0.0
            } else if entry.addresses.contains(&address) {
                place.push_str("; address agrees");
                ADDRESS_AGREES
            } else {
                place.push_str("; address is not the entry's");
                -ADDRESS_DIFFERS
            };
            let score = (m.score + by_country + by_address).clamp(0.0, 1.0);
            if score < min_score || best.get(&n.entry).is_some_and(|b| b.score >= score) {
                continue;
            }
            let which = if n.alias == 0 {
                "its name".to_string()
            } else {
                format!("alias {}", n.alias)
            };
            let evidence = format!("{} ({which}, name {:.2}){place}", m.pairs, m.score);
            best.insert(
                n.entry,
                Match {
                    entry: n.entry,
                    alias: n.alias,
                    score,
                    evidence,
                },
            );
        }
        let mut out: Vec<Match> = best.into_values().collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.entry.cmp(&b.entry)));
        out
    }

    /// The name score of a party's words against a listed name's, with
    /// the pairs that made it ("APEX=APEX, GLOBL~GLOBAL"); `None` when no
    /// word pairs.
    fn name_score(&self, (q, qw): (&[Token], &[f64]), (l, lw): (&[Token], &[f64])) -> Option<(f64, String)> {
        // A one-word name of a short word matches only itself.
        let one_short = |w: &[Token]| w.len() == 1 && w[0].text.len() < 5;
        if (one_short(q) || one_short(l)) && !(q.len() == l.len() && q[0].text == l[0].text) {
            return None;
        }
        let cover = |from: &[Token], weights: &[f64], to: &[Token]| -> (f64, Vec<(usize, usize, f64)>) {
            let (mut got, mut all) = (0.0, 0.0);
            let mut pairs = Vec::new();
            for (i, a) in from.iter().enumerate() {
                let w = weights[i];
                all += w;
                let best = to
                    .iter()
                    .enumerate()
                    .map(|(j, b)| (j, word_similarity(a, b)))
                    .max_by(|x, y| x.1.total_cmp(&y.1));
                if let Some((j, s)) = best.filter(|b| b.1 > 0.0) {
                    got += w * s;
                    pairs.push((i, j, s));
                }
            }
            (if all > 0.0 { got / all } else { 0.0 }, pairs)
        };
        let (a, pairs) = cover(q, qw, l);
        if pairs.is_empty() || a < MIN_COVER {
            return None;
        }
        let (b, _) = cover(l, lw, q);
        if b < MIN_COVER {
            return None;
        }
        let score = 0.75 * a.max(b) + 0.25 * a.min(b);
        let shown: Vec<String> = pairs
            .iter()
            .map(|&(i, j, s)| {
                if s >= 1.0 {
                    q[i].text.clone()
                } else {
                    format!("{}~{} {:.2}", q[i].text, l[j].text, s)
                }
            })
            .collect();
        let missing: Vec<&str> = l
            .iter()
            .enumerate()
            .filter(|(j, _)| !pairs.iter().any(|p| p.1 == *j))
            .map(|(_, t)| t.text.as_str())
            .collect();
        let mut s = format!("tokens {}", shown.join(", "));
        if !missing.is_empty() {
            s.push_str(&format!("; not in the filing: {}", missing.join(", ")));
        }
        Some((score, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(rows: &[(&str, &[&str], &[&str])]) -> Matcher {
        let mut list = List::default();
        for (i, (name, aliases, countries)) in rows.iter().enumerate() {
            let mut names = vec![name.to_string()];
            names.extend(aliases.iter().map(|s| s.to_string()));
            list.entries.push(Entry {
                id: format!("e{i}"),
                source: "test".into(),
                names,
                countries: countries.iter().map(|s| s.to_string()).collect(),
                addresses: vec![],
                file: 0,
                line: i as u64 + 2,
            });
        }
        // Filler entries, so that common words are common.
        for i in 0..400 {
            list.entries.push(Entry {
                id: format!("f{i}"),
                source: "filler".into(),
                names: vec![format!("Filler{i} Trading Technology Company Limited")],
                countries: vec![],
                addresses: vec![],
                file: 0,
                line: 0,
            });
        }
        Matcher::new(list)
    }

    fn top(m: &Matcher, name: &str, country: &str) -> Option<(String, f64)> {
        m.screen(name, country, "", 0.0)
            .first()
            .map(|x| (m.list.entries[x.entry as usize].id.clone(), x.score))
    }

    #[test]
    fn spellings_of_a_listed_name_match() {
        let m = matcher(&[
            (
                "Apex Global Electronics Trading Co., Ltd.",
                &["Apex Global HK"],
                &["HK"],
            ),
            ("Hao Global LLC", &[], &["US"]),
        ]);
        for (spelling, country) in [
            ("APEX GLOBAL ELECTRONICS TRADING LIMITED", "HK"), // case, legal form
            ("Apex Gobal Electronics Trading Co Ltd", "HK"),   // typo
            ("Electronics Apex Global Trading", "HK"),         // word order
            ("Apex Global Electronics", "HK"),                 // dropped common word
            ("Apex Global HK", ""),                            // alias
            ("Apéx Glöbal Electronics Trading", "HK"),         // accents
        ] {
            let (id, s) = top(&m, spelling, country).unwrap_or_else(|| panic!("{spelling}: no match"));
            assert_eq!(id, "e0", "{spelling}");
            assert!(s >= DEFAULT_MIN_SCORE, "{spelling}: {s}");
        }
        let (id, s) = top(&m, "Hao Global L.L.C.", "US").unwrap();
        assert_eq!(id, "e1");
        assert!(s >= DEFAULT_MIN_SCORE);
    }

    #[test]
    fn abbreviations_pair_with_their_words() {
        let m = matcher(&[
            ("United Medical Incorporated", &[], &[]),
            ("Metro Computing L.L.C.", &[], &[]),
        ]);
        // A legal form cut short is the listed name's legal form.
        assert_eq!(
            top(&m, "United Medical Inco", "").map(|t| t.0),
            Some("e0".to_string())
        );
        // A word cut short pairs with its word ("COMP" is not "COMPANY" here).
        let (id, s) = top(&m, "Metro Comp LLC", "").unwrap();
        assert_eq!(id, "e1");
        assert!(s >= DEFAULT_MIN_SCORE, "{s}");
    }

    #[test]
    fn hard_negatives_do_not_match() {
        let m = matcher(&[
            ("11420 Corp.", &[], &[]),
            ("Zenith 3 Trading Ltd", &[], &["SG"]),
            ("Sun Ltd", &[], &[]),
            ("Orion Semiconductor Technology Co", &[], &["CN"]),
        ]);
        let at = |name: &str, country: &str| {
            m.screen(name, country, "", DEFAULT_MIN_SCORE)
                .iter()
                .map(|x| m.list.entries[x.entry as usize].id.clone())
                .collect::<Vec<_>>()
        };
        // Numbers are kept: nothing else in common.
        assert!(at("BELLETECH CORP", "").is_empty());
        assert!(at("11421 Corp", "").is_empty());
        // Names differing only in a number.
        assert!(at("Zenith 4 Trading Ltd", "SG").is_empty());
        assert_eq!(at("Zenith 3 Trading Limited", "SG"), ["e1"]);
        // Sharing only a legal form or a common word.
        assert!(at("Acme Ltd", "").is_empty());
        assert!(at("Global Trading Technology Co", "").is_empty());
        // Short names match only themselves.
        assert!(at("Sunny Ltd", "").is_empty());
        assert!(at("Son Ltd", "").is_empty());
        assert_eq!(at("SUN LIMITED", ""), ["e2"]);
        // A different country lowers a match below the line.
        assert!(
            top(&m, "Orion Semiconductor Technology", "CN").unwrap().1
                > top(&m, "Orion Semiconductor Technology", "DE").unwrap().1
        );
    }

    #[test]
    fn evidence_names_the_tokens_and_the_alias() {
        let m = matcher(&[("Apex Global Electronics", &["Apex Glob Elec"], &["HK"])]);
        let r = m.screen("Apex Globl Electronics", "HK", "", DEFAULT_MIN_SCORE);
        assert_eq!(r.len(), 1);
        assert!(
            r[0].evidence.contains("APEX") && r[0].evidence.contains("GLOBL~GLOBAL"),
            "{}",
            r[0].evidence
        );
        assert!(r[0].evidence.contains("country HK agrees"), "{}", r[0].evidence);
    }
}
