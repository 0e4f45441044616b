//! Worlds that vary (`generate --variant K`): each variant rewrites the
//! lines of the base world the way another agency's data differs from ours,
//! so that a model can be measured on (and trained across) worlds it was not
//! made from. Variant 0 is the base world, untouched.
//!
//! A variant draws, once, from its own seed:
//! - its vocabulary: words of descriptions replaced by paraphrases,
//!   abbreviations and words of other languages (`datasets/variant_words.csv`),
//!   some descriptions taken from the HS nomenclature instead, then upper
//!   case, clipped words and typing errors line by line;
//! - its choice among the valid HS codes for each kind of goods
//!   (`datasets/variant_hs.csv`), and honest general goods spread over every
//!   chapter of the nomenclature with their own price and weight levels;
//! - price and weight levels per category, shifted by up to +-30%;
//! - its own brand names and private labels (known brands kept or renamed);
//! - how often each scheme shows its tells (a Chinese payer, an
//!   intermediate, amendments, a missing brand, an invoice at odds), and the
//!   share of honest lines with one or two harmless oddities.
//!
//! Lines are rewritten after the base world drew them, with the variant's
//! own random stream, so the base world's draws never change.

use rustc_hash::FxHashMap as HashMap;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Deserialize;

use sentinel_manifest::hash::Fnv64;
use sentinel_manifest::schema::Col;
use sentinel_manifest::tables::{parse_csv, Tables};

/// Largest variant number (variants are numbered 0..=MAX_VARIANT).
pub const MAX_VARIANT: u32 = 1000;

/// A variant's fixed choices.
pub struct Variant {
    /// Seed of the line rewrites (the variant and the world's seed).
    seed: u64,
    /// Seed of the variant's fixed choices (its number alone).
    kseed: u64,
    /// Price and weight factors by category index.
    price: Vec<f64>,
    weight: Vec<f64>,
    /// Base HS code -> this variant's code for the same goods.
    codes: HashMap<String, String>,
    /// Share of lines that use the variant's code rather than the base one.
    p_code: f64,
    /// Word (lower case) -> its replacement (may be the word itself).
    words: HashMap<String, String>,
    /// Share of descriptions replaced by the nomenclature's wording.
    p_nomenclature: f64,
    p_upper: f64,
    p_clip: f64,
    p_typo: f64,
    /// Share of known brands kept under their own name.
    brand_keep: f64,
    syllables: Vec<String>,
    /// Share of honest general goods moved to other chapters, and the
    /// subheadings they go to.
    p_chapters: f64,
    chapters: Vec<String>,
    /// How often a fraud line loses each tell.
    drop_payer: f64,
    drop_intermediate: f64,
    drop_amendments: f64,
    drop_invoice: f64,
    /// Share of honest lines with a harmless oddity.
    p_oddity: f64,
}

/// FNV-1a of a key under a variant's seed: fixed choices per key.
fn keyed(seed: u64, key: &str) -> u64 {
    let mut f = Fnv64(Fnv64::OFFSET ^ seed);
    f.bytes(key.as_bytes());
    let mut h = f.0;
    // Final mix so that nearby keys spread.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^ (h >> 33)
}

/// A uniform number in 0..1 fixed by a key.
fn keyed_unit(seed: u64, key: &str) -> f64 {
    (keyed(seed, key) >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal number fixed by a key.
fn keyed_normal(seed: u64, key: &str) -> f64 {
    let u1 = keyed_unit(seed, &format!("{key}#1")).max(1e-12);
    let u2 = keyed_unit(seed, &format!("{key}#2"));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl Variant {
    /// The variant `k` of the world with seed `seed` (`None` for 0).
    pub fn new(k: u32, seed: u64) -> Option<Variant> {
        if k == 0 {
            return None;
        }
        let t = Tables::get();
        let vseed = seed ^ (k as u64).wrapping_mul(0x9e3779b97f4a7c15);
        // The variant's fixed choices come from its number alone, so that
        // variant K means the same world (vocabulary, codes, levels,
        // brands, tells) whatever the seed of the lines.
        let kseed = (k as u64).wrapping_mul(0xd1b54a32d192ed03);
        let mut r = Xoshiro256PlusPlus::seed_from_u64(kseed);
        let mut u = |lo: f64, hi: f64| lo + (hi - lo) * r.gen::<f64>();
        let n_cat = t.n_categories();
        let price = (0..n_cat).map(|_| u(0.7, 1.3)).collect();
        let weight = (0..n_cat).map(|_| u(0.7, 1.3)).collect();
        #[derive(Deserialize)]
        struct CodeRow {
            code: String,
            alternatives: String,
        }
        let codes = parse_csv::<CodeRow>("variant_hs.csv")
            .into_iter()
            .map(|row| {
                let alts: Vec<&str> = row.alternatives.split('|').collect();
                let pick = (keyed(kseed, &row.code) % alts.len() as u64) as usize;
                (row.code.clone(), alts[pick].to_string())
            })
            .collect();
        #[derive(Deserialize)]
        struct WordRow {
            word: String,
            alternatives: String,
        }
        let keep_word = u(0.15, 0.5);
        let words = parse_csv::<WordRow>("variant_words.csv")
            .into_iter()
            .map(|row| {
                let w = row.word.to_lowercase();
                let alts: Vec<&str> = row.alternatives.split('|').collect();
                let choice = if keyed_unit(kseed, &format!("keep {w}")) < keep_word {
                    row.word.clone()
                } else {
                    alts[(keyed(kseed, &w) % alts.len() as u64) as usize].to_string()
                };
                (w, choice)
            })
            .collect();
        // The variant's own syllables for brand names.
        const CONS: &[u8] = b"bcdfghjklmnprstvwxz";
        const VOW: &[u8] = b"aeiouy";
        let syllables = (0..24)
            .map(|j| {
                let h = keyed(kseed, &format!("syllable {j}"));
                let mut s = String::new();
                s.push(CONS[(h % CONS.len() as u64) as usize] as char);
                s.push(VOW[((h >> 8) % VOW.len() as u64) as usize] as char);
                if (h >> 16) & 1 == 0 {
                    s.push(CONS[((h >> 24) % CONS.len() as u64) as usize] as char);
                }
                s
            })
            .collect();
        // Subheadings of chapters outside electronics, a few hundred per
        // variant.
        let chapters: Vec<String> = t
            .nomenclature
            .iter()
            .filter(|(c, _)| c.len() == 6 && !c.starts_with("84") && !c.starts_with("85"))
            .filter(|(c, _)| keyed_unit(kseed, &format!("chapter {c}")) < 0.08)
            .map(|(c, _)| c.clone())
            .collect();
        Some(Variant {
            seed: vseed,
            kseed,
            price,
            weight,
            codes,
            p_code: u(0.6, 0.95),
            words,
            p_nomenclature: u(0.05, 0.3),
            p_upper: u(0.0, 0.6),
            p_clip: u(0.0, 0.15),
            p_typo: u(0.0, 0.06),
            brand_keep: u(0.3, 0.8),
            syllables,
            p_chapters: u(0.3, 0.8),
            chapters,
            drop_payer: u(0.0, 0.6),
            drop_intermediate: u(0.0, 0.6),
            drop_amendments: u(0.0, 0.6),
            drop_invoice: u(0.0, 0.6),
            p_oddity: u(0.01, 0.06),
        })
    }

    /// The random stream of the variant's line rewrites.
    pub fn stream(&self) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(self.seed)
    }

    /// Rewrites one line of the base world (cells in [`Col`] order).
    pub fn apply(&self, line: &mut [String], r: &mut Xoshiro256PlusPlus) {
        let t = Tables::get();
        let cell = |line: &[String], c: Col| line[c as usize].clone();
        let fraud = cell(line, Col::Label) == "1";
        let true_cat = t.category_index(&cell(line, Col::TrueCategory));
        let code = cell(line, Col::HsCode);
        let dotted = code.contains('.');
        let digits: String = code.chars().filter(char::is_ascii_digit).collect();
        let declared_cat = t.hs_category(&digits);
        let (mut price, mut weight) = (
            self.price.get(declared_cat).copied().unwrap_or(1.0),
            true_cat.and_then(|c| self.weight.get(c)).copied().unwrap_or(1.0),
        );
        let desc = cell(line, Col::Description);
        let general = true_cat == t.category_index("general_goods");
        let (new_code, new_desc) = if !fraud && general && r.gen::<f64>() < self.p_chapters {
            // Honest goods of another chapter, with its own levels.
            let c = self.chapters[r.gen_range(0..self.chapters.len())].clone();
            price *= (1.0 * keyed_normal(self.kseed, &format!("price {c}"))).exp();
            weight *= (0.8 * keyed_normal(self.kseed, &format!("weight {c}"))).exp();
            let text = t.hs_description(&c).map(short_wording).unwrap_or_default();
            (c, self.noise(&text, r))
        } else {
            let c = match self.codes.get(&digits) {
                Some(alt) if r.gen::<f64>() < self.p_code => alt.clone(),
                _ => digits.clone(),
            };
            let text = if r.gen::<f64>() < self.p_nomenclature {
                t.hs_description(&c)
                    .map(short_wording)
                    .unwrap_or_else(|| desc.clone())
            } else {
                self.reword(&desc)
            };
            (c, self.noise(&text, r))
        };
        line[Col::HsCode as usize] = if dotted && new_code.len() == 10 {
            format!("{}.{}.{}", &new_code[..4], &new_code[4..6], &new_code[6..])
        } else {
            new_code
        };
        if cell(line, Col::InvoiceDescription) == desc {
            line[Col::InvoiceDescription as usize] = new_desc.clone();
        }
        line[Col::Description as usize] = new_desc;
        let brand = cell(line, Col::Brand);
        if !brand.is_empty() {
            line[Col::Brand as usize] = self.brand(&brand);
        }
        scale(&mut line[Col::ValueUsd as usize], price, 2);
        scale(&mut line[Col::InvoiceValueUsd as usize], price, 2);
        scale(&mut line[Col::ShippingWeightKg as usize], weight, 1);
        if line[Col::QuantityUnit as usize] == "KG" {
            scale(&mut line[Col::Quantity as usize], weight, 1);
        }
        if fraud {
            self.fewer_tells(line, r);
        } else if r.gen::<f64>() < self.p_oddity {
            self.oddity(line, r);
        }
    }

    /// A description in the variant's words.
    fn reword(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 8);
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if !word.is_empty() {
                match self.words.get(&word.to_lowercase()) {
                    Some(w) => out.push_str(w),
                    None => out.push_str(word),
                }
                word.clear();
            }
        };
        for ch in text.chars() {
            if ch.is_alphanumeric() || ch == '-' {
                word.push(ch);
            } else {
                flush(&mut word, &mut out);
                out.push(ch);
            }
        }
        flush(&mut word, &mut out);
        out
    }

    /// Upper case, clipped words and typing errors, line by line.
    fn noise(&self, text: &str, r: &mut Xoshiro256PlusPlus) -> String {
        let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
        for w in words.iter_mut() {
            let n = w.chars().count();
            if n > 7 && r.gen::<f64>() < self.p_clip {
                *w = format!("{}.", w.chars().take(4).collect::<String>());
            } else if n > 3 && r.gen::<f64>() < self.p_typo {
                let mut c: Vec<char> = w.chars().collect();
                let i = r.gen_range(1..c.len());
                match r.gen_range(0..3) {
                    0 => {
                        c.remove(i);
                    }
                    1 => c.swap(i - 1, i),
                    _ => c.insert(i, c[i]),
                }
                *w = c.into_iter().collect();
            }
        }
        let s = words.join(" ");
        if r.gen::<f64>() < self.p_upper {
            s.to_uppercase()
        } else {
            s
        }
    }

    /// The variant's name for a brand: kept, or renamed for good.
    fn brand(&self, brand: &str) -> String {
        let key = brand.trim().to_uppercase();
        if keyed_unit(self.kseed, &format!("keep brand {key}")) < self.brand_keep {
            return brand.to_string();
        }
        let h = keyed(self.kseed, &format!("brand {key}"));
        let n = 2 + (h % 2) as usize;
        let name: String = (0..n)
            .map(|j| self.syllables[((h >> (8 * (j + 1))) % self.syllables.len() as u64) as usize].as_str())
            .collect();
        let mut c = name.chars();
        match c.next() {
            Some(f) if h & (1 << 60) == 0 => f.to_uppercase().chain(c).collect(),
            _ => name.to_uppercase(),
        }
    }

    /// A fraud line that hides some of its scheme's tells.
    fn fewer_tells(&self, line: &mut [String], r: &mut Xoshiro256PlusPlus) {
        let payer = &line[Col::PayerCountry as usize];
        if (payer == "CN" || payer == "HK") && r.gen::<f64>() < self.drop_payer {
            line[Col::PayerCountry as usize] = line[Col::ConsigneeCountry as usize].clone();
        }
        if !line[Col::IntermediateName as usize].is_empty() && r.gen::<f64>() < self.drop_intermediate {
            line[Col::IntermediateName as usize].clear();
            line[Col::IntermediateCountry as usize].clear();
        }
        if line[Col::AmendmentCount as usize] != "0" && r.gen::<f64>() < self.drop_amendments {
            line[Col::AmendmentCount as usize] = "0".into();
        }
        if !line[Col::InvoiceValueUsd as usize].is_empty() && r.gen::<f64>() < self.drop_invoice {
            line[Col::InvoiceValueUsd as usize] = line[Col::ValueUsd as usize].clone();
            if !line[Col::InvoiceDescription as usize].is_empty() {
                line[Col::InvoiceDescription as usize] = line[Col::Description as usize].clone();
            }
        }
    }

    /// One harmless oddity on an honest line (the tells of schemes, seen on
    /// honest trade too).
    fn oddity(&self, line: &mut [String], r: &mut Xoshiro256PlusPlus) {
        match r.gen_range(0..5) {
            0 => line[Col::PayerCountry as usize] = ["CN", "HK"][r.gen_range(0..2)].into(),
            1 => {
                let c = ["SG", "HK", "AE", "MY"][r.gen_range(0..4)];
                line[Col::IntermediateName as usize] = format!("{} Cargo Services", self.brand(c));
                line[Col::IntermediateCountry as usize] = c.into();
            }
            2 => line[Col::AmendmentCount as usize] = r.gen_range(1..4).to_string(),
            3 => line[Col::Eccn as usize].clear(),
            _ => scale(&mut line[Col::ValueUsd as usize], r.gen_range(0.05..0.3), 2),
        }
    }
}

/// A nomenclature description as a declarant might shorten it: lower
/// case, without "n.e.c." references, at most eight words.
fn short_wording(text: &str) -> String {
    let head = text.split(" n.e.c.").next().unwrap_or(text);
    let words: Vec<&str> = head.split_whitespace().take(8).collect();
    words.join(" ").trim_end_matches([',', ';', ' ']).to_lowercase()
}

/// Multiplies a numeric cell in place (left as is when not a number).
fn scale(cell: &mut String, factor: f64, decimals: usize) {
    if let Ok(v) = cell.trim().parse::<f64>() {
        let x = v * factor;
        *cell = if decimals == 2 {
            format!("{x:.2}")
        } else if x >= 100.0 {
            format!("{x:.0}")
        } else {
            format!("{:.1}", x.max(0.1))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_fixed_by_number_and_differ() {
        assert!(Variant::new(0, 1).is_none());
        let a = Variant::new(3, 1).unwrap();
        let b = Variant::new(3, 2).unwrap();
        let c = Variant::new(4, 1).unwrap();
        assert_eq!(a.codes, b.codes, "a variant's choices do not depend on the seed");
        assert_eq!(a.words, b.words);
        assert!(
            a.codes != c.codes || a.words != c.words,
            "another variant chooses otherwise"
        );
        for (_, alt) in a.codes.iter() {
            assert!(Tables::get().hs_known(alt), "{alt} is a code of the nomenclature");
        }
        assert!(!a.chapters.is_empty());
        assert!(a.price.iter().all(|p| (0.7..=1.3).contains(p)));
    }

    #[test]
    fn rewording_keeps_shape_and_noise_is_seeded() {
        let v = Variant::new(5, 1).unwrap();
        let s = v.reword("AC power adapter 65W, 12V");
        assert!(s.contains("65W"), "{s}");
        let mut r1 = v.stream();
        let mut r2 = v.stream();
        assert_eq!(
            v.noise("contactor controller unit", &mut r1),
            v.noise("contactor controller unit", &mut r2)
        );
        assert_eq!(
            short_wording("Electrical static converters"),
            "electrical static converters"
        );
        assert_eq!(
            short_wording("Horses; live, pure-bred"),
            "horses; live, pure-bred"
        );
        assert_eq!(
            short_wording(
                "Machinery; parts and accessories (other than covers, carrying cases and the like)"
            ),
            "machinery; parts and accessories (other than covers, carrying"
        );
    }
}
