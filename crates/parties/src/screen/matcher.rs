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
use super::similarity::{jaro_winkler, jaro_winkler_bound};
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
/// The least number of keys a listed name shares with a party to be scored.
const MIN_KEYS: usize = 2;
/// The least coverage, each way, of a name that matches.
const MIN_COVER: f64 = 0.6;

/// A word of a name and its place in the lists' vocabulary (from
/// [`UNKNOWN`] on, one a word, for a party's words no listed name holds)
/// word no listed name holds), so that equal words compare as numbers.
#[derive(Debug, Clone)]
struct Word {
    token: Token,
    id: u32,
}

const UNKNOWN: u32 = 1 << 31;

/// A listed name, tokenised.
struct ListName {
    entry: u32,
    /// Its place in the entry's names (0: the name, 1..: aliases).
    alias: u16,
    words: Vec<Word>,
    /// Each word's weight (its inverse document frequency in the lists).
    weights: Vec<f64>,
    /// Its legal forms ("INCORPORATED"), which a filing may cut short ("INCO").
    legal: Vec<String>,
}

/// The lists, indexed for screening.
pub struct Matcher {
    pub list: List,
    names: Vec<ListName>,
    /// The listed names' words (their place in [`Word::id`]) and inverse
    /// document frequencies.
    vocabulary: FxHashMap<String, u32>,
    idf: Vec<f64>,
    idf_unknown: f64,
    /// Listed names by word (its vocabulary place) and by key (a hash of
    /// it: two keys of one hash only bring more names to score).
    by_word: FxHashMap<u32, Vec<u32>>,
    by_sound: FxHashMap<u64, Vec<u32>>,
}

/// Counters of the listed names a party's keys meet, kept from one party
/// to the next (sized to the lists once, cleared by what was touched).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Keys each listed name shares with the party.
    keys: Vec<u16>,
    /// The party's words sharing them (a bit a word).
    words: Vec<u64>,
    /// The listed names met.
    touched: Vec<u32>,
    /// Jaro-Winkler similarities of the party's words and listed words.
    spelled: FxHashMap<u64, f64>,
}

impl Scratch {
    fn ready(&mut self, names: usize) {
        if self.keys.len() < names {
            self.keys.resize(names, 0);
            self.words.resize(names, 0);
        }
    }

    fn add(&mut self, names: &[u32], times: u16, bit: u64) {
        for &c in names {
            let k = &mut self.keys[c as usize];
            if *k == 0 {
                self.touched.push(c);
            }
            *k = k.saturating_add(times);
            self.words[c as usize] |= bit;
        }
    }

    fn clear(&mut self) {
        for &c in &self.touched {
            self.keys[c as usize] = 0;
            self.words[c as usize] = 0;
        }
        self.touched.clear();
    }
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
/// abbreviation meets its word), for a word of six letters or more its
/// last four, and for one of five or more its letters sorted, so that two
/// letters swapped or mistyped still meet the listed word by one of them.
fn sound_keys(word: &str, mut f: impl FnMut(&str)) {
    let mut key = String::with_capacity(word.len() + 1);
    let p = phonetic(word);
    if p.len() >= 3 {
        key.push('~');
        key.push_str(&p);
        f(&key);
    }
    let ascii = word.is_ascii();
    if word.len() >= 4 && ascii {
        // Also what an abbreviation ("COMP") and its word share.
        key.clear();
        key.push('<');
        key.push_str(&word[..4]);
        f(&key);
    }
    if word.len() >= 6 && ascii {
        key.clear();
        key.push('>');
        key.push_str(&word[word.len() - 4..]);
        f(&key);
    }
    if word.len() >= 5 {
        // Its letters in order: two letters swapped keep them, where a
        // crowded prefix or suffix key blocks nothing.
        let mut letters: Vec<char> = word.chars().collect();
        letters.sort_unstable();
        key.clear();
        key.push('#');
        key.extend(letters);
        f(&key);
    }
}

/// A blocking key's place in the index: its 64-bit FNV-1a hash.
fn key_hash(key: &str) -> u64 {
    let mut h = sentinel_manifest::hash::Fnv64::new();
    h.bytes(key.as_bytes());
    h.0
}

/// How alike two words are (`None`: by [`spelling_similarity`]): numbers equal or not, words by Jaro-Winkler
/// (under four letters equal or not; a word and its first four letters or
/// more as an abbreviation), 0 below [`WORD_FLOOR`].
fn quick_similarity(a: &Word, b: &Word) -> Option<f64> {
    // Listed words are all in the vocabulary: equal words, equal places
    // (a word of no listed name equals none).
    if a.id == b.id {
        return Some(1.0);
    }
    let (a, b) = (&a.token, &b.token);
    if a.kind == Kind::Number || b.kind == Kind::Number {
        return Some(0.0);
    }
    let (x, y) = (a.text.as_bytes(), b.text.as_bytes());
    if x.len().min(y.len()) < 4 {
        return Some(0.0);
    }
    // Words that differ at both ends are neither one word mistyped nor one
    // cut short (and most pairs are of this kind: they need no more).
    let (xn, yn) = (x.len(), y.len());
    let same_start = x[0] == y[0];
    if !same_start && (x[xn - 1] != y[yn - 1] || x[xn - 2] != y[yn - 2]) {
        return Some(0.0);
    }
    // A word cut short ("INDU" for "INDUSTRIES", "COMP" for "COMPUTING").
    let (short, long) = if xn <= yn { (x, y) } else { (y, x) };
    if same_start && long.starts_with(short) {
        return Some(ABBREVIATION);
    }
    None
}

/// How alike two words are by Jaro-Winkler ([`quick_similarity`] aside).
fn spelling_similarity(a: &Token, b: &Token) -> f64 {
    let (x, y) = (a.text.as_bytes(), b.text.as_bytes());
    let floor = if x.len().min(y.len()) < 7 {
        MID_WORD_FLOOR
    } else {
        WORD_FLOOR
    };
    if jaro_winkler_bound(x, y) < floor {
        return 0.0;
    }
    let s = jaro_winkler(x, y);
    if s < floor {
        0.0
    } else {
        // Twice as far from 1 as Jaro-Winkler says: one letter swapped in
        // a long word (0.96) stays close (0.92), two words that share only
        // their syllables ("DORVINMON", "DORVINBER": 0.87) do not (0.74).
        2.0 * s - 1.0
    }
}

impl Matcher {
    /// Indexes the lists' names and aliases.
    pub fn new(list: List) -> Matcher {
        // Each name and alias: its words and legal forms.
        let mut tokenised: Vec<(u32, u16, Vec<Token>, Vec<String>)> = Vec::new();
        for (e, entry) in list.entries.iter().enumerate() {
            for (a, n) in entry.names.iter().enumerate().take(u16::MAX as usize) {
                let (legal, w): (Vec<Token>, Vec<Token>) =
                    tokens(n).into_iter().partition(|t| t.kind == Kind::Legal);
                if !w.is_empty() {
                    tokenised.push((e as u32, a as u16, w, legal.into_iter().map(|t| t.text).collect()));
                }
            }
        }
        // The vocabulary and each word's document frequency.
        let mut vocabulary: FxHashMap<String, u32> = FxHashMap::default();
        let mut df: Vec<u32> = Vec::new();
        let mut ids_of: Vec<Vec<u32>> = Vec::with_capacity(tokenised.len());
        for (_, _, w, _) in &tokenised {
            let mut ids: Vec<u32> = w
                .iter()
                .map(|t| {
                    let next = vocabulary.len() as u32;
                    *vocabulary.entry(t.text.clone()).or_insert(next)
                })
                .collect();
            df.resize(vocabulary.len(), 0);
            let word_ids = ids.clone();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                df[id as usize] += 1;
            }
            ids_of.push(word_ids);
        }
        let total = tokenised.len().max(1) as f64;
        let idf: Vec<f64> = df.iter().map(|d| (1.0 + total / f64::from(*d)).ln()).collect();
        let idf_unknown = (1.0 + total).ln();
        let names: Vec<ListName> = tokenised
            .into_iter()
            .zip(ids_of)
            .map(|((entry, alias, w, legal), ids)| ListName {
                entry,
                alias,
                weights: ids.iter().map(|id| idf[*id as usize]).collect(),
                words: w
                    .into_iter()
                    .zip(ids)
                    .map(|(token, id)| Word { token, id })
                    .collect(),
                legal,
            })
            .collect();
        // A word in more names than this blocks nothing.
        let common = (total * 0.002).max(50.0) as u32;
        let mut by_word: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
        let mut by_sound: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
        for (i, n) in names.iter().enumerate() {
            let rare: Vec<&Word> = n.words.iter().filter(|w| df[w.id as usize] <= common).collect();
            // A name of common words only is found by its rarest one.
            let keys: Vec<&Word> = if rare.is_empty() {
                n.words
                    .iter()
                    .min_by_key(|w| df[w.id as usize])
                    .into_iter()
                    .collect()
            } else {
                rare
            };
            for w in keys {
                by_word.entry(w.id).or_default().push(i as u32);
                sound_keys(&w.token.text, |k| {
                    by_sound.entry(key_hash(k)).or_default().push(i as u32)
                });
            }
        }
        for v in by_word.values_mut().chain(by_sound.values_mut()) {
            v.dedup();
        }
        Matcher {
            list,
            names,
            vocabulary,
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

    /// A name as screening reads it, as one string: its words (legal
    /// forms aside) in order. Names with one key screen alike.
    pub fn words_key(&self, name: &str) -> (String, Vec<Token>) {
        let w = words(name);
        let mut key = String::with_capacity(name.len());
        for (i, t) in w.iter().enumerate() {
            if i > 0 {
                key.push(' ');
            }
            key.push_str(&t.text);
        }
        (key, w)
    }

    /// A party's words with their places in the vocabulary.
    fn query(&self, words: Vec<Token>) -> Vec<Word> {
        words
            .into_iter()
            .enumerate()
            .map(|(i, token)| Word {
                id: self
                    .vocabulary
                    .get(&token.text)
                    .copied()
                    .unwrap_or(UNKNOWN + i.min(1 << 20) as u32),
                token,
            })
            .collect()
    }

    fn idf(&self, w: &Word) -> f64 {
        self.idf.get(w.id as usize).copied().unwrap_or(self.idf_unknown)
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
        self.by_name_with(name, min_score, &mut Scratch::default())
    }

    /// [`Self::by_name`] with counters kept from one name to the next.
    pub fn by_name_with(&self, name: &str, min_score: f64, scratch: &mut Scratch) -> Vec<NameMatch> {
        self.by_words_with(words(name), min_score, scratch)
    }

    /// [`Self::by_name_with`] from the name's words ([`Self::words_key`]).
    pub fn by_words_with(&self, words: Vec<Token>, min_score: f64, scratch: &mut Scratch) -> Vec<NameMatch> {
        let q = self.query(words);
        if q.is_empty() {
            return Vec::new();
        }
        // Every key a listed name shares with the party, once per key (a
        // word in common counts twice), and the party's words that share
        // them (bits).
        scratch.ready(self.names.len());
        for (i, Word { token: t, id }) in q.iter().enumerate() {
            let bit = 1u64 << i.min(63);
            if let Some(v) = self.by_word.get(id) {
                scratch.add(v, 2, bit);
            }
            // A key most names share ("-TION") is no block.
            sound_keys(&t.text, |k| {
                if let Some(v) = self
                    .by_sound
                    .get(&key_hash(k))
                    .filter(|v| v.len() <= MAX_POSTINGS)
                {
                    // The same letters in another order: as strong as the word.
                    scratch.add(v, if k.starts_with('#') { 2 } else { 1 }, bit);
                }
            });
        }
        let qw: Vec<f64> = q.iter().map(|w| self.idf(w)).collect();
        let total: f64 = qw.iter().sum();
        // Whether some filed word could be a legal form cut short.
        let cut = |w: &Word| {
            w.token.text.len() >= 4
                && crate::normalize::legal_forms()
                    .iter()
                    .any(|l| l.starts_with(&w.token.text))
        };
        let may_cut = q.iter().any(cut);
        // The party's words that may pair with a listed name besides those
        // that share a key with it: words of no listed name (a common word
        // mistyped) and words that may be a legal form cut short, and the
        // others where the listed name has a word they could pair with.
        let bit = |i: usize| 1u64 << i.min(63);
        let unkeyed: u64 = q
            .iter()
            .enumerate()
            .filter(|(_, w)| w.id >= UNKNOWN || cut(w))
            .fold(0, |m, (i, _)| m | bit(i));
        // The other words pair only with a listed word of the same first
        // or last two letters ([`quick_similarity`]).
        let others: Vec<(usize, &[u8])> = q
            .iter()
            .enumerate()
            .filter(|(i, _)| unkeyed & bit(*i) == 0)
            .map(|(i, w)| (i, w.token.text.as_bytes()))
            .collect();
        let may_pair = |x: &[u8], y: &[u8]| {
            !x.is_empty()
                && !y.is_empty()
                && (x[0] == y[0] || (x.len() >= 2 && y.len() >= 2 && x[x.len() - 2..] == y[y.len() - 2..]))
        };
        // A listed name is scored when it shares two keys or more with the
        // party (a single sound, prefix or suffix is a word of the same
        // first letters, not one mistyped, which shares more, or its
        // letters) and the party's words that could pair with its words
        // could reach [`MIN_COVER`] of the party's weight (an upper bound
        // of the coverage the score reads).
        let mut candidates: Vec<u32> = Vec::with_capacity(scratch.touched.len());
        for &c in &scratch.touched {
            let (keys, mut words) = (scratch.keys[c as usize], scratch.words[c as usize] | unkeyed);
            if usize::from(keys) < MIN_KEYS {
                continue;
            }
            let listed = &self.names[c as usize].words;
            for &(i, x) in &others {
                if words & bit(i) == 0 && listed.iter().any(|w| may_pair(x, w.token.text.as_bytes())) {
                    words |= bit(i);
                }
            }
            let reach: f64 = qw
                .iter()
                .enumerate()
                .filter(|(i, _)| words & bit(*i) != 0)
                .map(|(_, w)| w)
                .sum();
            if reach >= MIN_COVER * total - 1e-9 {
                candidates.push(c);
            }
        }
        scratch.clear();
        candidates.sort_unstable();
        let floor = min_score - COUNTRY_AGREES - ADDRESS_AGREES;
        let spelled = &mut scratch.spelled;
        spelled.clear();
        candidates
            .into_iter()
            .filter_map(|c| {
                let n = &self.names[c as usize];
                // A filed word that begins one of the listed legal forms
                // ("INCO" of "INCORPORATED") is that form.
                let kept = |w: &Word| {
                    !(w.token.text.len() >= 4 && n.legal.iter().any(|l| l.starts_with(&w.token.text)))
                };
                let own: (Vec<Word>, Vec<f64>);
                let (q, qw): (&[Word], &[f64]) = if !may_cut || n.legal.is_empty() || q.iter().all(kept) {
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
                let (score, pairs) = self.name_score((q, qw), (&n.words, &n.weights), floor, spelled)?;
                Some(NameMatch {
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
    fn name_score(
        &self,
        (q, qw): (&[Word], &[f64]),
        (l, lw): (&[Word], &[f64]),
        floor: f64,
        spelled: &mut FxHashMap<u64, f64>,
    ) -> Option<(f64, String)> {
        // A one-word name of a short word matches only itself.
        let one_short = |w: &[Word]| w.len() == 1 && w[0].token.text.len() < 5;
        if (one_short(q) || one_short(l)) && !(q.len() == l.len() && q[0].token.text == l[0].token.text) {
            return None;
        }
        // Every pair's similarity, row-major (party word x listed word);
        // those that need Jaro-Winkler once per party. On the stack for
        // names of up to eight words.
        let mut stack = [0.0f64; 64];
        let mut heap = Vec::new();
        let sim: &mut [f64] = if q.len() * l.len() <= stack.len() {
            &mut stack[..q.len() * l.len()]
        } else {
            heap.resize(q.len() * l.len(), 0.0);
            &mut heap
        };
        for (i, a) in q.iter().enumerate() {
            for (j, b) in l.iter().enumerate() {
                sim[i * l.len() + j] = quick_similarity(a, b).unwrap_or_else(|| {
                    *spelled
                        .entry(u64::from(a.id) << 32 | u64::from(b.id))
                        .or_insert_with(|| spelling_similarity(&a.token, &b.token))
                });
            }
        }
        let sim: &[f64] = sim;
        let at = |i: usize, j: usize| sim[i * l.len() + j];
        // Each party word's most similar listed word (`None`: none alike).
        let best = |i: usize| {
            (0..l.len())
                .map(|j| (j, at(i, j)))
                .max_by(|x, y| x.1.total_cmp(&y.1))
                .filter(|b| b.1 > 0.0)
        };
        // How much of one side's weight the other covers, each word by its
        // most similar one: the party's words ...
        let (mut got, mut all, mut paired) = (0.0, 0.0, false);
        for (i, w) in qw.iter().enumerate() {
            all += w;
            if let Some((_, s)) = best(i) {
                got += w * s;
                paired = true;
            }
        }
        let a = if all > 0.0 { got / all } else { 0.0 };
        if !paired || a < MIN_COVER {
            return None;
        }
        // ... and the listed name's.
        let (mut got, mut all) = (0.0, 0.0);
        for (j, w) in lw.iter().enumerate() {
            all += w;
            got += w * (0..q.len()).map(|i| at(i, j)).fold(0.0, f64::max);
        }
        let b = if all > 0.0 { got / all } else { 0.0 };
        if b < MIN_COVER {
            return None;
        }
        let score = 0.75 * a.max(b) + 0.25 * a.min(b);
        if score < floor {
            return None;
        }
        // The pairs that made it, to show.
        let pairs: Vec<(usize, usize, f64)> = (0..q.len())
            .filter_map(|i| best(i).map(|(j, s)| (i, j, s)))
            .collect();
        let (q, l): (Vec<&Token>, Vec<&Token>) = (
            q.iter().map(|w| &w.token).collect(),
            l.iter().map(|w| &w.token).collect(),
        );
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
