//! A name as screening reads it: other scripts and accents to ASCII
//! (`deunicode`), upper case, punctuation as spaces ("L.L.C." is one word),
//! "&" as AND, and each word a token of one kind. Legal forms are one
//! class that never tells two names apart ("CO., LTD." and "LIMITED" count
//! for nothing), and numbers are kept, to be equal or not at all ("11420
//! CORP." is not "BELLETECH CORP").

use super::similarity::jaro_winkler;
use crate::normalize::{is_legal_form, legal_forms};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Word,
    Number,
    /// A legal form: kept to show, never compared.
    Legal,
}

/// One token of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub kind: Kind,
}

/// The longest name screening reads, in characters (the rest is ignored).
pub const MAX_NAME_CHARS: usize = 512;

/// A legal form as filings write it: the word itself, or a long one
/// mistyped ("CROPORATION"). (One cut short, "INCO", is read against the
/// listed name's own legal forms: [`super::matcher`].)
fn legal_like(word: &str) -> bool {
    is_legal_form(word)
        || (word.len() >= 7
            && legal_forms()
                .iter()
                .any(|f| f.len() >= 7 && jaro_winkler(f.as_bytes(), word.as_bytes()) >= 0.93))
}

/// The tokens of a name.
pub fn tokens(name: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut push = |w: &mut String| {
        if w.is_empty() {
            return;
        }
        let text = std::mem::take(w);
        let kind = if text.bytes().all(|b| b.is_ascii_digit()) {
            Kind::Number
        } else if legal_like(&text) {
            Kind::Legal
        } else {
            Kind::Word
        };
        out.push(Token { text, kind });
    };
    for ch in name.chars().take(MAX_NAME_CHARS) {
        if ch.is_alphanumeric() {
            // Transliterated letter by letter; a transliteration may hold
            // spaces ("华为" -> "Hua Wei").
            let ascii: &str = if ch.is_ascii() {
                ""
            } else {
                deunicode::deunicode_char(ch).unwrap_or("")
            };
            if ch.is_ascii() {
                cur.push(ch.to_ascii_uppercase());
            }
            for a in ascii.chars() {
                if a.is_ascii_alphanumeric() {
                    cur.push(a.to_ascii_uppercase());
                } else {
                    push(&mut cur);
                }
            }
        } else if ch == '.' || ch == '\'' {
            // "L.L.C." -> "LLC", "O'Neil" -> "ONEIL"
        } else if ch == '&' {
            push(&mut cur);
            cur.push_str("AND");
            push(&mut cur);
        } else {
            push(&mut cur);
        }
    }
    push(&mut cur);
    out
}

/// A phonetic key of a word (Soundex-like: its first letter and the
/// classes of its next consonants, at most six characters), so that
/// "HUAWEI" and "HUAWAY" or "SMITH" and "SMYTH" meet; a number is its own key.
pub fn phonetic(word: &str) -> String {
    let b = word.as_bytes();
    let Some(&first) = b.first() else {
        return String::new();
    };
    if b.iter().all(u8::is_ascii_digit) {
        return word.to_string();
    }
    let class = |c: u8| match c {
        b'B' | b'F' | b'P' | b'V' => b'1',
        b'C' | b'G' | b'J' | b'K' | b'Q' | b'S' | b'X' | b'Z' => b'2',
        b'D' | b'T' => b'3',
        b'L' => b'4',
        b'M' | b'N' => b'5',
        b'R' => b'6',
        b'0'..=b'9' => c,
        _ => b'0',
    };
    let mut key = vec![first];
    let mut last = class(first);
    for &c in &b[1..] {
        let k = class(c);
        // Vowels (and H, W, Y) separate repeats only when they are vowels.
        if k == b'0' {
            if !matches!(c, b'H' | b'W') {
                last = b'0';
            }
            continue;
        }
        if k != last {
            key.push(k);
            if key.len() == 6 {
                break;
            }
        }
        last = k;
    }
    String::from_utf8(key).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(name: &str, kind: Kind) -> Vec<String> {
        tokens(name)
            .into_iter()
            .filter(|t| t.kind == kind)
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn legal_forms_are_one_class_and_numbers_are_kept() {
        assert_eq!(
            texts("Apex Technologies Co., Ltd.", Kind::Word),
            ["APEX", "TECHNOLOGIES"]
        );
        assert_eq!(texts("Apex Technologies Co., Ltd.", Kind::Legal), ["CO", "LTD"]);
        assert_eq!(texts("Hao Global L.L.C.", Kind::Legal), ["LLC"]);
        assert_eq!(texts("11420 Corp.", Kind::Number), ["11420"]);
        assert!(texts("11420 Corp.", Kind::Word).is_empty());
        assert_eq!(texts("Smith & Sons", Kind::Word), ["SMITH", "AND", "SONS"]);
        // Legal forms mistyped are legal forms.
        assert_eq!(texts("Sterling Motors Croporation", Kind::Legal), ["CROPORATION"]);
        assert_eq!(texts("Interlink Ltd", Kind::Word), ["INTERLINK"]);
    }

    #[test]
    fn other_scripts_and_accents_become_ascii() {
        assert_eq!(texts("Société Générale", Kind::Word), ["SOCIETE", "GENERALE"]);
        assert_eq!(texts("Müller", Kind::Word), ["MULLER"]);
        // Cyrillic and Chinese are transliterated, not dropped.
        assert!(!texts("Ростех", Kind::Word).is_empty());
        assert!(!texts("华为", Kind::Word).is_empty());
        // Control characters and odd punctuation only separate words.
        assert_eq!(texts("A\u{0}B\u{202e}C", Kind::Word), ["A", "B", "C"]);
        assert!(tokens("").is_empty() && tokens(" .,;").is_empty());
    }

    #[test]
    fn phonetic_keys_meet_on_spelling_variants() {
        assert_eq!(phonetic("SMITH"), phonetic("SMYTH"));
        assert_eq!(phonetic("HUAWEI"), phonetic("HUAWAY"));
        assert_eq!(phonetic("ROBERT"), "R163");
        assert_ne!(phonetic("APEX"), phonetic("ZENITH"));
        assert_eq!(phonetic("11420"), "11420");
        assert_eq!(phonetic(""), "");
    }
}
