//! Reference tables (categories, HS codes, lexicon, brands, countries, the
//! generator's catalogue and world) embedded from `datasets/` at build time,
//! so the binary works from any directory while `datasets/` stays the single
//! source. Parsed once, on first use.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// Raw text of every embedded table, by file name. The model artifact stores
/// these so that a trained model carries the tables it was trained with.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("categories.csv", include_str!("../../../datasets/categories.csv")),
    ("hs_codes.csv", include_str!("../../../datasets/hs_codes.csv")),
    ("lexicon.csv", include_str!("../../../datasets/lexicon.csv")),
    ("brands.csv", include_str!("../../../datasets/brands.csv")),
    ("countries.csv", include_str!("../../../datasets/countries.csv")),
    ("catalogue.csv", include_str!("../../../datasets/catalogue.csv")),
    ("world.toml", include_str!("../../../datasets/world.toml")),
    (
        "party_words.csv",
        include_str!("../../../datasets/party_words.csv"),
    ),
    (
        "hs_nomenclature.csv",
        include_str!("../../../datasets/hs_nomenclature.csv"),
    ),
    (
        "variant_words.csv",
        include_str!("../../../datasets/variant_words.csv"),
    ),
    ("variant_hs.csv", include_str!("../../../datasets/variant_hs.csv")),
    (
        "legal_forms.csv",
        include_str!("../../../datasets/legal_forms.csv"),
    ),
];

fn embedded(name: &str) -> &'static str {
    EMBEDDED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .expect("every table named in code is listed in EMBEDDED")
}

/// Cargo categories of the spec, in a fixed order (the order of
/// `datasets/categories.csv`): model outputs are indexed by it.
#[derive(Debug, Clone)]
pub struct Category {
    pub name: String,
    pub controlled_compute: bool,
    pub meaning: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HsEntry {
    pub prefix: String,
    pub category: String,
    pub meaning: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Country {
    pub code: String,
    pub name: String,
    pub hub: bool,
    pub china: bool,
    pub restricted: bool,
}

/// One line of the generator's commodity catalogue.
#[derive(Debug, Clone, Deserialize)]
pub struct CatalogueItem {
    pub category: String,
    pub hs_code: String,
    pub descriptions: String,
    pub brands: String,
    pub eccn: String,
    pub unit: String,
    pub price_median: f64,
    pub price_sigma: f64,
    pub weight_median: f64,
    pub weight_sigma: f64,
    pub qty_median: f64,
    pub qty_sigma: f64,
    pub share: f64,
}

/// All reference tables, parsed.
#[derive(Debug)]
pub struct Tables {
    pub categories: Vec<Category>,
    /// HS prefixes sorted longest first, so the first match is the most specific.
    pub hs: Vec<HsEntry>,
    /// Lexicon terms (lower case) with their category index, longest first:
    /// training documents of the description model (`describe` in the detection layer).
    pub lexicon: Vec<(String, usize)>,
    /// Known brand (upper case) -> category index.
    pub brands: HashMap<String, usize>,
    pub countries: HashMap<String, Country>,
    pub catalogue: Vec<CatalogueItem>,
    /// Words of party names and addresses (upper case) by kind:
    /// `forwarder`, `residential`, `commercial`.
    pub party_words: HashMap<String, Vec<String>>,
    /// Legal-form words of company names, upper case, without punctuation
    /// ("LTD", "LLC", "GMBH"): what does not tell two companies apart.
    pub legal_forms: Vec<String>,
    /// The HS 2022 nomenclature: every chapter (2 digits), heading (4) and
    /// subheading (6) with its official description, in file order.
    pub nomenclature: Vec<(String, String)>,
    /// Position in [`Self::nomenclature`] by code.
    nomenclature_index: HashMap<String, usize>,
}

pub fn parse_csv<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let mut rd = csv::Reader::from_reader(embedded(name).as_bytes());
    rd.deserialize()
        .collect::<Result<Vec<T>, _>>()
        .unwrap_or_else(|e| panic!("embedded table {name} is malformed: {e}"))
}

impl Tables {
    fn load() -> Tables {
        #[derive(Deserialize)]
        struct CatRow {
            category: String,
            controlled_compute: bool,
            meaning: String,
        }
        let categories: Vec<Category> = parse_csv::<CatRow>("categories.csv")
            .into_iter()
            .map(|r| Category {
                name: r.category,
                controlled_compute: r.controlled_compute,
                meaning: r.meaning,
            })
            .collect();
        let index = |name: &str, table: &str| -> usize {
            categories
                .iter()
                .position(|c| c.name == name)
                .unwrap_or_else(|| panic!("{table} names unknown category {name}"))
        };
        let mut hs: Vec<HsEntry> = parse_csv("hs_codes.csv");
        for e in &hs {
            index(&e.category, "hs_codes.csv");
        }
        hs.sort_by_key(|e| std::cmp::Reverse(e.prefix.len()));

        #[derive(Deserialize)]
        struct LexRow {
            term: String,
            category: String,
        }
        let mut lexicon: Vec<(String, usize)> = parse_csv::<LexRow>("lexicon.csv")
            .into_iter()
            .map(|r| (r.term.to_lowercase(), index(&r.category, "lexicon.csv")))
            .collect();
        lexicon.sort_by_key(|e| std::cmp::Reverse(e.0.len()));

        #[derive(Deserialize)]
        struct BrandRow {
            brand: String,
            category: String,
        }
        let brands = parse_csv::<BrandRow>("brands.csv")
            .into_iter()
            .map(|r| (r.brand.to_uppercase(), index(&r.category, "brands.csv")))
            .collect();
        let countries = parse_csv::<Country>("countries.csv")
            .into_iter()
            .map(|c| (c.code.clone(), c))
            .collect();
        let catalogue: Vec<CatalogueItem> = parse_csv("catalogue.csv");
        for item in &catalogue {
            index(&item.category, "catalogue.csv");
        }
        #[derive(Deserialize)]
        struct WordRow {
            word: String,
            kind: String,
        }
        let mut party_words: HashMap<String, Vec<String>> = HashMap::default();
        for w in parse_csv::<WordRow>("party_words.csv") {
            party_words.entry(w.kind).or_default().push(w.word.to_uppercase());
        }
        #[derive(Deserialize)]
        struct LegalRow {
            word: String,
        }
        let legal_forms: Vec<String> = parse_csv::<LegalRow>("legal_forms.csv")
            .into_iter()
            .map(|r| r.word.to_uppercase())
            .collect();
        #[derive(Deserialize)]
        struct HsRow {
            hscode: String,
            description: String,
        }
        let nomenclature: Vec<(String, String)> = parse_csv::<HsRow>("hs_nomenclature.csv")
            .into_iter()
            .map(|r| (r.hscode, r.description))
            .collect();
        let nomenclature_index = nomenclature
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (c.clone(), i))
            .collect();
        Tables {
            party_words,
            legal_forms,
            nomenclature,
            nomenclature_index,
            categories,
            hs,
            lexicon,
            brands,
            countries,
            catalogue,
        }
    }

    /// The parsed tables (parsed on first use).
    pub fn get() -> &'static Tables {
        static TABLES: OnceLock<Tables> = OnceLock::new();
        TABLES.get_or_init(Tables::load)
    }

    pub fn category_index(&self, name: &str) -> Option<usize> {
        self.categories.iter().position(|c| c.name == name)
    }

    pub fn unknown_category(&self) -> usize {
        self.category_index("unknown")
            .expect("categories.csv lists `unknown`")
    }

    pub fn n_categories(&self) -> usize {
        self.categories.len()
    }

    /// Category of a normalised HS code (digits only), by the longest
    /// matching prefix of `hs_codes.csv`; any other code of the HS
    /// nomenclature is `general_goods`; `unknown` when the nomenclature
    /// does not know the code either.
    pub fn hs_category(&self, digits: &str) -> usize {
        if let Some(c) = self
            .hs
            .iter()
            .find(|e| digits.starts_with(e.prefix.as_str()))
            .and_then(|e| self.category_index(&e.category))
        {
            return c;
        }
        let general = self.category_index("general_goods");
        match (self.hs_known(digits), general) {
            (true, Some(g)) => g,
            _ => self.unknown_category(),
        }
    }

    /// Whether the tables list category `c` under the code's subheading
    /// (its first six digits): a national subdivision of it, the
    /// subheading itself or a heading or chapter above it. An HS6 code does
    /// not pin one kind of goods: 8473.30 holds data-centre GPU cards,
    /// consumer graphics cards and ordinary computer parts alike.
    pub fn hs6_allows(&self, digits: &str, c: usize) -> bool {
        let Some(hs6) = digits.get(..6) else {
            return false;
        };
        self.hs.iter().any(|e| {
            (e.prefix.starts_with(hs6) || hs6.starts_with(e.prefix.as_str()))
                && self.category_index(&e.category) == Some(c)
        })
    }

    /// Whether the HS nomenclature knows the code's subheading (its first
    /// six digits), or the code itself when it is a chapter or heading.
    pub fn hs_known(&self, digits: &str) -> bool {
        let key = match digits.len() {
            2 | 4 => digits,
            n if n >= 6 => &digits[..6],
            _ => return false,
        };
        digits.is_ascii() && self.nomenclature_index.contains_key(key)
    }

    /// The official description of the most specific nomenclature entry
    /// for a code (subheading, else heading, else chapter).
    pub fn hs_description(&self, digits: &str) -> Option<&str> {
        if !digits.is_ascii() {
            return None;
        }
        [6, 4, 2]
            .iter()
            .filter_map(|&k| digits.get(..k))
            .find_map(|k| self.nomenclature_index.get(k))
            .map(|&i| self.nomenclature[i].1.as_str())
    }

    /// Category a brand is known for, if it is a known brand.
    pub fn brand_category(&self, brand: &str) -> Option<usize> {
        self.brands.get(&brand.trim().to_uppercase()).copied()
    }

    pub fn country(&self, code: &str) -> Option<&Country> {
        self.countries.get(code)
    }

    /// Whether any word of `text` (upper-cased, split on non-alphanumerics)
    /// is a party word of `kind`.
    pub fn has_party_word(&self, text: &str, kind: &str) -> bool {
        let Some(words) = self.party_words.get(kind) else {
            return false;
        };
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .any(|w| words.iter().any(|k| k.eq_ignore_ascii_case(w)))
    }

    /// Whether an upper-case word is a legal form ("LTD", "LLC", "GMBH").
    pub fn is_legal_form(&self, word: &str) -> bool {
        self.legal_forms.iter().any(|f| f == word)
    }

    pub fn is_controlled(&self, category: usize) -> bool {
        self.categories
            .get(category)
            .is_some_and(|c| c.controlled_compute)
    }
}

/// Raw text of the generator's world parameters (`datasets/world.toml`).
pub fn world_toml() -> &'static str {
    embedded("world.toml")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs_longest_prefix_wins() {
        let t = Tables::get();
        assert_eq!(t.categories[t.hs_category("8473301180")].name, "datacenter_gpu");
        assert_eq!(t.categories[t.hs_category("8473305100")].name, "computer_parts");
        // Codes of the nomenclature that the table does not list are general
        // goods, except in the chapters and headings it lists; only codes
        // the nomenclature does not know are unknown.
        assert_eq!(t.categories[t.hs_category("0101210000")].name, "general_goods");
        assert_eq!(t.categories[t.hs_category("940360")].name, "general_goods");
        assert_eq!(t.categories[t.hs_category("8471300000")].name, "computer_parts");
        assert_eq!(
            t.categories[t.hs_category("8543700000")].name,
            "other_electronics"
        );
        assert_eq!(t.categories[t.hs_category("0000000000")].name, "unknown");
        assert_eq!(t.categories[t.hs_category("0199")].name, "unknown");
        assert_eq!(
            t.hs_description("8504400000"),
            Some("Electrical static converters")
        );
        assert_eq!(t.hs_description("0000"), None);
        let cat = |n: &str| t.category_index(n).unwrap();
        assert!(t.hs6_allows("847330", cat("datacenter_gpu")));
        assert!(t.hs6_allows("8473301180", cat("consumer_gpu")));
        assert!(t.hs6_allows("8473305100", cat("computer_parts")));
        assert!(!t.hs6_allows("850440", cat("datacenter_gpu")));
        assert!(
            !t.hs6_allows("8473", cat("computer_parts")),
            "a heading is not a subheading"
        );
    }

    #[test]
    fn countries_and_groups() {
        let t = Tables::get();
        assert!(t.country("HK").unwrap().china);
        assert!(t.country("SG").unwrap().hub);
        assert!(t.country("XX").is_none());
    }
}
