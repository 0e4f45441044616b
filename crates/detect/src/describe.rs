//! What a description points to: a multinomial naive Bayes over word,
//! word-pair and character n-gram features, learned from the HS
//! nomenclature's official descriptions (every code's category from the
//! tables), the tables' own words (lexicon terms, HS meanings) and the
//! training declarations. Character n-grams inside words make it hold
//! under upper case, abbreviations and typing errors; words it never saw
//! (another language, a private code) simply do not count.
//!
//! A description the model cannot place (too few known features, or no
//! category clearly ahead) gives no probabilities: it is not evidence in
//! itself.
//!
//! Features are hashed (FNV-1a, 32 bits) and only features seen in
//! training are stored, sorted, so the artifact is small and its bytes
//! are fixed for the same inputs. linfa's naive Bayes wants a dense
//! matrix of every feature, which at this vocabulary (hundreds of
//! thousands of n-grams) would not fit; the sums here are the same model.

use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::cached::Cached;
use sentinel_manifest::hash::Fnv32;
use sentinel_manifest::tables::Tables;

/// Additive smoothing of the feature counts.
const ALPHA: f64 = 0.3;
/// Sharpness of the posterior: the mean log-likelihood per known feature is
/// multiplied by this before the softmax (naive Bayes sums over correlated
/// n-grams and would otherwise be certain of everything).
const TEMPERATURE: f64 = 4.0;
/// A description is placed only with at least this many known features...
const MIN_KNOWN: usize = 3;
/// ...making at least this share of its features...
const MIN_KNOWN_SHARE: f64 = 0.3;
/// ...and when its likeliest category has at least this probability.
const MIN_CONFIDENCE: f64 = 0.45;

/// A trained description model.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TextModel {
    pub n_cat: usize,
    /// Hashes of the known features, sorted.
    keys: Vec<u32>,
    /// log P(feature | category), row-major `keys.len() x n_cat`.
    log_p: Vec<f32>,
    #[serde(skip)]
    index: Cached<HashMap<u32, u32>>,
}

/// One training document: text, category index, weight.
pub struct Doc<'a> {
    pub text: &'a str,
    pub category: usize,
    pub weight: f64,
}

/// The hash of a feature: its kind, then each part followed by a separator.
fn fnv(kind: u8, parts: &[&[u8]]) -> u32 {
    let mut h = Fnv32(Fnv32::OFFSET ^ u32::from(kind));
    for p in parts {
        h.bytes(p);
        h.byte(0x1f);
    }
    h.0
}

/// Lower-case words of a text (letters and digits; at most 24 words of at
/// most 32 characters: an adversarial description costs no more than a
/// long honest one). Words of digits only say nothing of the goods.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .take(24)
        .map(|w| w.chars().take(32).flat_map(char::to_lowercase).collect())
        .collect()
}

/// The hashed features of a text: words, pairs of words and character
/// 3- and 4-grams of each word padded with its boundaries. Sorted, unique.
pub fn features(text: &str) -> Vec<u32> {
    let ws = words(text);
    let mut out = Vec::with_capacity(ws.len() * 12);
    for (i, w) in ws.iter().enumerate() {
        out.push(fnv(b'w', &[w.as_bytes()]));
        if let Some(next) = ws.get(i + 1) {
            out.push(fnv(b'b', &[w.as_bytes(), next.as_bytes()]));
        }
        let padded: Vec<char> = std::iter::once('^')
            .chain(w.chars())
            .chain(std::iter::once('$'))
            .collect();
        for n in [3usize, 4] {
            if padded.len() < n {
                continue;
            }
            for g in padded.windows(n) {
                // The same hash as `fnv` of the n-gram's text, without
                // building the text.
                let mut h = Fnv32(Fnv32::OFFSET ^ u32::from(b'0' + n as u8));
                for c in g {
                    h.char(*c);
                }
                h.byte(0x1f);
                out.push(h.0);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

impl TextModel {
    /// Learns from documents (each counted once per feature, by weight).
    pub fn fit(docs: &[Doc], n_cat: usize) -> TextModel {
        let mut counts: HashMap<u32, Vec<f64>> = HashMap::default();
        let mut totals = vec![0.0f64; n_cat];
        for d in docs {
            if d.category >= n_cat || d.weight <= 0.0 {
                continue;
            }
            for f in features(d.text) {
                counts.entry(f).or_insert_with(|| vec![0.0; n_cat])[d.category] += d.weight;
                totals[d.category] += d.weight;
            }
        }
        let mut keys: Vec<u32> = counts.keys().copied().collect();
        keys.sort_unstable();
        let v = keys.len() as f64;
        let mut log_p = Vec::with_capacity(keys.len() * n_cat);
        for k in &keys {
            let c = &counts[k];
            for j in 0..n_cat {
                log_p.push(((c[j] + ALPHA) / (totals[j] + ALPHA * v)).ln() as f32);
            }
        }
        TextModel {
            n_cat,
            keys,
            log_p,
            index: Cached::default(),
        }
    }

    /// The documents of the reference tables: the nomenclature's
    /// descriptions, the HS table's meanings and the lexicon's terms.
    pub fn reference_docs(t: &Tables) -> Vec<Doc<'_>> {
        let mut docs: Vec<Doc> = t
            .nomenclature
            .iter()
            .map(|(code, text)| Doc {
                text,
                category: t.hs_category(code),
                weight: 1.0,
            })
            .collect();
        for e in &t.hs {
            if let Some(c) = t.category_index(&e.category) {
                docs.push(Doc {
                    text: &e.meaning,
                    category: c,
                    weight: 3.0,
                });
            }
        }
        for (term, c) in &t.lexicon {
            docs.push(Doc {
                text: term,
                category: *c,
                weight: 3.0,
            });
        }
        docs
    }

    fn index(&self) -> &HashMap<u32, u32> {
        self.index.get_or_init(|| {
            self.keys
                .iter()
                .enumerate()
                .map(|(i, k)| (*k, i as u32))
                .collect()
        })
    }

    /// P(category | description), or `None` when the model cannot place
    /// the description.
    pub fn predict(&self, text: &str) -> Option<Vec<f64>> {
        if self.n_cat == 0 {
            return None;
        }
        let fs = features(text);
        let index = self.index();
        let mut sum = vec![0.0f64; self.n_cat];
        let mut known = 0usize;
        for f in &fs {
            if let Some(&row) = index.get(f) {
                known += 1;
                let row = row as usize * self.n_cat;
                for (s, l) in sum.iter_mut().zip(&self.log_p[row..row + self.n_cat]) {
                    *s += *l as f64;
                }
            }
        }
        if known < MIN_KNOWN || (known as f64) < MIN_KNOWN_SHARE * fs.len() as f64 {
            return None;
        }
        let scale = TEMPERATURE / known as f64;
        let top = sum.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut p: Vec<f64> = sum.iter().map(|s| ((s - top) * scale).exp()).collect();
        let z: f64 = p.iter().sum();
        for v in p.iter_mut() {
            *v /= z;
        }
        let best = p.iter().copied().fold(0.0, f64::max);
        (best >= MIN_CONFIDENCE).then_some(p)
    }
}

/// The likeliest category of one row's probabilities and its probability
/// (the first of equals).
pub fn likeliest(p: &[f64]) -> (usize, f64) {
    p.iter().enumerate().fold(
        (0, f64::NEG_INFINITY),
        |a, (k, v)| if *v > a.1 { (k, *v) } else { a },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> TextModel {
        let t = Tables::get();
        TextModel::fit(&TextModel::reference_docs(t), t.n_categories())
    }

    fn placed(m: &TextModel, text: &str) -> Option<String> {
        let t = Tables::get();
        m.predict(text).map(|p| {
            let (k, _) = likeliest(&p);
            t.categories[k].name.clone()
        })
    }

    #[test]
    fn places_nomenclature_wording_and_its_variants() {
        let m = model();
        for (text, want) in [
            ("Electrical static converters", "power_electronics"),
            ("ELECTRICAL STATIC CONVERTERS", "power_electronics"),
            ("electrical statc convertors", "power_electronics"),
            ("Horses; live, pure-bred breeding animals", "general_goods"),
            ("HORSES LIVE", "general_goods"),
            ("frozen fish fillets", "general_goods"),
            (
                "T-shirts, singlets and other vests; of cotton, knitted",
                "general_goods",
            ),
            ("t-shrts of coton, knitted", "general_goods"),
            ("relays for a voltage exceeding 60 volts", "electrical_controls"),
            ("H100 SXM module", "datacenter_gpu"),
        ] {
            assert_eq!(placed(&m, text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn what_it_cannot_place_is_no_evidence() {
        let m = model();
        assert_eq!(placed(&m, ""), None);
        assert_eq!(placed(&m, "12345 678"), None);
        assert_eq!(placed(&m, "qqxz vvkj"), None);
    }

    #[test]
    fn features_are_bounded_and_stable() {
        // Ten thousand different words: only the first 24 count.
        let long: String = (0..10_000).map(|i| format!("w{i}x ")).collect();
        let first: String = (0..24).map(|i| format!("w{i}x ")).collect();
        assert_eq!(features(&long), features(&first));
        assert_eq!(features("Power Adapter"), features("power   ADAPTER"));
        let m = model();
        let again = model();
        assert_eq!(m, again, "the same documents give the same model");
    }
}
